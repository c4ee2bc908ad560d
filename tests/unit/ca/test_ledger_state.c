/*
 * test_ledger_state.c: ledger_verify_state() (ca/ledger_state.c) on real
 * ledgers written by the real users.c, request.c and revoke.c: every
 * event type those write replays to exactly the state tables; edits made
 * with the real sqlite3 program are named (table, key, field, expected,
 * found); events of round-1 ledgers (no token_sha256, no krl_version)
 * are checked as far as they go.
 */
#include "ca/revoke.h"
#include "ca/users.h"
#include "ca_fixture.h"

TestSuite(ledger_state, .init = fx_setup, .fini = fx_teardown);

/* The report lines, one per disagreement. */
static char report_buf[8192];

static void
collect(void *arg, const char *msg)
{
	size_t n = strlen(report_buf);

	(void)arg;
	(void)snprintf(report_buf + n, sizeof(report_buf) - n, "%s\n", msg);
}

/* ledger_verify_state(); the lines it reported in report_buf. */
static int
state_check(uint64_t *nbad)
{
	report_buf[0] = '\0';
	return ledger_verify_state(fx_l, collect, NULL, nbad);
}

static void
state_ok(void)
{
	uint64_t nbad = 99;

	cr_assert_eq(state_check(&nbad), 0, "%s", report_buf);
	cr_assert_eq(nbad, 0);
	cr_assert_str_eq(report_buf, "");
}

/* Exactly want is reported (n lines). */
static void
state_bad(const char *want, uint64_t n)
{
	uint64_t nbad = 0;

	cr_assert_eq(state_check(&nbad), ERR_LEDGER_BROKEN);
	cr_assert_str_eq(report_buf, want);
	cr_assert_eq(nbad, n);
}

static void
sq(const char *sql)
{
	free(fx_sqlite3(fx_db, sql));
}

static int64_t
issue_approved(const struct ca_actor *a, const char *role)
{
	json_t *req = NULL;
	char *key = fx_key_line();
	int64_t id = fx_create(a, role, key, NULL);

	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, "ok", &req), 0);
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	json_decref(req);
	free(key);
	return id;
}

static int
revoke_by(enum revoke_by by, uint64_t n, const char *text)
{
	struct revoke_target t = {.by = by, .text = text};

	if (by == REVOKE_REQUEST)
		t.request = (int64_t)n;
	else
		t.serial = n;
	return fx_revoke_apply(&fx_ca, &root, &t, "laptop stolen", NULL);
}

/* Every event type request.c, users.c and revoke.c write. */
static void
populate(void)
{
	json_t *req = NULL;
	char *tok = NULL, *k;
	size_t n = 0;
	int64_t id;

	fx_user("alice", "engineering", 0);
	fx_user("bob", "sre-leads", 0);
	fx_user("dave", "dba-leads", 0);
	fx_user("erin", "engineering", 0);
	fx_user("eve", "marketing", 1); /* user.disabled */
	cr_assert_eq(user_token_rotate(fx_l, "local:test", "alice", &tok), 0);
	user_token_free(tok);
	/* request 1: approved and issued (serial 1). */
	issue_approved(&alice, "prod-debug");
	/* request 2: approved by bob, then bob denies (the approval row
	 * becomes a denial). */
	k = fx_key_line();
	id = fx_create(&alice, "db-admin", k, NULL);
	free(k);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, "first", &req), 0);
	json_decref(req);
	cr_assert_eq(
	    fx_request_deny(&fx_ca, &bob, id, "changed my mind", &req), 0);
	json_decref(req);
	/* request 3: withdrawn by alice. */
	k = fx_key_line();
	id = fx_create(&alice, "prod-debug", k, NULL);
	free(k);
	cr_assert_eq(fx_request_deny(&fx_ca, &alice, id, NULL, &req), 0);
	json_decref(req);
	/* request 4: expires. */
	k = fx_key_line();
	(void)fx_create(&alice, "prod-debug", k, NULL);
	free(k);
	fx_now_set(FX_T0 + 3600);
	cr_assert_eq(request_expire_due(&fx_ca, &n), 0);
	cr_assert_eq(n, 1);
	/* request 5: staging needs no approval (serial 2); request 6:
	 * issued directly by root (serial 3). */
	k = fx_key_line();
	(void)fx_create(&alice, "staging", k, NULL);
	free(k);
	k = fx_key_line();
	cr_assert_eq(fx_request_issue_direct(&fx_ca, &root, "erin", "staging",
			 NULL, 0, 0, "INC-2 direct", k, &req),
	    0);
	json_decref(req);
	free(k);
	/* Revocations by serial, by request, by user, and a key. */
	cr_assert_eq(revoke_by(REVOKE_SERIAL, 1, NULL), 0);
	cr_assert_eq(revoke_by(REVOKE_REQUEST, 6, NULL), 0);
	cr_assert_eq(revoke_by(REVOKE_USER, 0, "alice"), 0);
	k = fx_key_line();
	cr_assert_eq(revoke_by(REVOKE_PUBLIC_KEY, 0, k), 0);
	free(k);
}

Test(ledger_state, every_event_type_replays)
{
	char *types;
	char err[LEDGER_ERR_LEN] = "";
	int64_t count = 0, bad = 0;

	state_ok(); /* an empty ledger */
	populate();
	types = fx_sqlite3(fx_db,
	    "SELECT group_concat(type, ' ') FROM (SELECT DISTINCT type FROM"
	    " events ORDER BY type)");
	cr_assert_str_eq(types,
	    "cert.issued cert.revoked key.revoked request.approved "
	    "request.created request.denied request.expired token.issued "
	    "user.added user.disabled\n");
	free(types);
	cr_assert_eq(ledger_verify(fx_l, &count, &bad, err), 0, "%s", err);
	state_ok();
	/* The serial 3 revocation bumped krl_version once for its event. */
	cr_assert_eq(
	    fx_int("SELECT value FROM meta WHERE key = 'krl_version'", NULL),
	    4);
}

/* One line of the sqlite3 program's output, without its newline. */
static char *
one(const char *sql)
{
	char *out = fx_sqlite3(fx_db, sql);
	size_t n = strlen(out);

	cr_assert(n > 0 && out[n - 1] == '\n', "%s: %s", sql, out);
	out[n - 1] = '\0';
	return tu_keep(out);
}

Test(ledger_state, stored_fields_are_checked)
{
	char *want;

	populate();
	want = tu_fmt(
	    "users name=bob: token_hash: expected \"%s\", found \"00\"\n"
	    "requests id=1: public_key: expected a key with fingerprint "
	    "\"%s\", found one with %s\n"
	    "requests id=3: created: expected %llu (seq %s), found %llu\n"
	    "approvals request_id=1 approver=bob: comment: expected \"ok\", "
	    "found \"forged\"\n"
	    "certificates serial=1: certificate: expected one with SHA-256 "
	    "\"%s\", found %s\n"
	    "certificates serial=2: key_blob: expected a key with "
	    "fingerprint \"%s\", found one with %s\n",
	    one("SELECT lower(hex(token_hash)) FROM users WHERE name = 'bob'"),
	    one("SELECT key_fp FROM requests WHERE id = 1"),
	    one("SELECT key_fp FROM requests WHERE id = 2"),
	    (unsigned long long)FX_T0,
	    one("SELECT seq FROM events WHERE type = 'request.created' AND"
		" subject = 'request:3'"),
	    (unsigned long long)FX_T0 - 1000,
	    one("SELECT cert_sha256 FROM certificates WHERE serial = 1"),
	    one("SELECT cert_sha256 FROM certificates WHERE serial = 2"),
	    one("SELECT key_fp FROM certificates WHERE serial = 2"),
	    one("SELECT key_fp FROM certificates WHERE serial = 3"));
	/* Another certificate, key, public key, time, token hash, comment
	 * in place of the right ones. */
	sq("DROP TRIGGER certificates_fixed;"
	   " DROP TRIGGER approvals_approve_to_deny;"
	   " UPDATE certificates SET certificate = (SELECT certificate FROM"
	   " certificates WHERE serial = 2) WHERE serial = 1;"
	   " UPDATE certificates SET key_blob = (SELECT key_blob FROM"
	   " certificates WHERE serial = 3) WHERE serial = 2;"
	   " UPDATE requests SET public_key = (SELECT public_key FROM requests"
	   " WHERE id = 2) WHERE id = 1;"
	   " UPDATE requests SET created = created - 1000 WHERE id = 3;"
	   " UPDATE users SET token_hash = X'00' WHERE name = 'bob';"
	   " UPDATE approvals SET comment = 'forged' WHERE request_id = 1");
	state_bad(want, 6);
	free(want);
	tu_keep_free();
}

/* What the triggers refuse, each with its message (sqlite3 exits 19). */
Test(ledger_state, triggers_refuse_state_edits)
{
	static const struct {
		const char *sql, *msg;
	} cases[] = {
	    {"UPDATE certificates SET revoked = NULL WHERE serial = 1",
		"a revocation is never undone"},
	    {"UPDATE certificates SET revoked = 5 WHERE serial = 1",
		"a revocation is never undone"},
	    {"UPDATE certificates SET valid_before = 0 WHERE serial = 2",
		"a certificate row never changes"},
	    {"DELETE FROM certificates", "certificates are append-only"},
	    {"UPDATE revoked_keys SET reason = 'x'",
		"revoked keys are append-only"},
	    {"DELETE FROM revoked_keys", "revoked keys are append-only"},
	    {"UPDATE approvals SET decision = 'approve' WHERE request_id = 2",
		"an approval only ever turns into a denial"},
	    {"UPDATE approvals SET comment = 'x' WHERE request_id = 1",
		"an approval only ever turns into a denial"},
	    {"DELETE FROM approvals", "approvals are append-only"},
	    {"DELETE FROM requests", "requests are never deleted"},
	    {"DELETE FROM users", "users are never deleted"},
	    {"UPDATE meta SET value = '1' WHERE key = 'last_serial'",
		"counters never go down"},
	    {"UPDATE meta SET value = '0' WHERE key = 'krl_version'",
		"counters never go down"},
	    {"DELETE FROM meta WHERE key = 'last_serial'",
		"counters never go down"},
	};
	char *argv[] = {"sqlite3", fx_db, NULL, NULL}, *err = NULL;
	size_t i;

	populate();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		argv[2] = (char *)(uintptr_t)cases[i].sql;
		cr_assert_eq(
		    tu_run(argv, NULL, NULL, &err), 19, "%s", cases[i].sql);
		cr_assert_not_null(
		    strstr(err, cases[i].msg), "%s: %s", cases[i].sql, err);
		free(err);
		err = NULL;
	}
	/* What jitca itself does still works: counters go up. */
	sq("UPDATE meta SET value = '9' WHERE key = 'last_serial'");
	cr_assert_eq(
	    fx_int("SELECT value FROM meta WHERE key = 'last_serial'", NULL),
	    9);
	/* Serials reserved ahead leave the counter above the last
	 * certificate (a gap): that verifies. */
	{
		uint64_t nbad = 0;

		cr_assert_eq(state_check(&nbad), 0);
		cr_assert_eq(nbad, 0);
	}
}

/* Run sql with the ledger's helpers inside the open transaction. */
static void
exec_tx(const char *sql)
{
	sqlite3_stmt *st = NULL;

	cr_assert_eq(ledger_sql_prepare(fx_l, &st, sql), 0, "%s", sql);
	cr_assert_eq(ledger_sql_done(fx_l, st, NULL), 0, "%s", sql);
	sqlite3_finalize(st);
}

static void
append(const char *type, const char *subject, const char *details)
{
	json_error_t e;
	json_t *d = json_loads(details, 0, &e);

	cr_assert_not_null(d, "%s", details);
	cr_assert_eq(
	    ledger_append(fx_l, NULL, type, "local:old", subject, d), 0);
	json_decref(d);
}

/* A round-1 ledger: token.issued without token_sha256, key.revoked
 * without krl_version.  The token hash must start with the token id;
 * krl_version must be at least the number of revocations. */
Test(ledger_state, round1_events)
{
	cr_assert_eq(ledger_begin(fx_l), 0);
	exec_tx("INSERT INTO users(name, groups, token_hash, disabled,"
		" created, token_created) VALUES('old', '[\"eng\"]',"
		" X'ab12cd34000000000000000000000000000000000000000000000000"
		"00000000', 0, 1800000000, 1800000000)");
	append("user.added", "old", "{\"groups\":[\"eng\"]}");
	append("token.issued", "old", "{\"token_id\":\"ab12cd34\"}");
	exec_tx("INSERT INTO revoked_keys(key_sha256, key_fp, time, reason)"
		" VALUES(X'0101010101010101010101010101010101010101010101010101"
		"010101010101', 'SHA256:x', 1800000000, 'lost')");
	append("key.revoked", "key:SHA256:x",
	    "{\"certificates\":[],\"key_fp\":\"SHA256:x\",\"key_sha256\":"
	    "\"0101010101010101010101010101010101010101010101010101010101010"
	    "101\",\"reason\":\"lost\"}");
	exec_tx("UPDATE meta SET value = '1' WHERE key = 'krl_version'");
	cr_assert_eq(ledger_commit(fx_l), 0);
	state_ok();

	sq("DROP TRIGGER meta_counters_up;"
	   " UPDATE meta SET value = '0' WHERE key = 'krl_version';"
	   " UPDATE users SET token_hash = X'ab12cd35' WHERE name = 'old'");
	state_bad("meta key=krl_version: value: expected at least 1, found 0\n"
		  "users name=old: token_hash: expected a hash starting "
		  "ab12cd34, found \"ab12cd35\"\n",
	    2);
}

/* Rows no event explains, rows missing, events lacking what replay
 * needs. */
Test(ledger_state, extra_and_missing_rows)
{
	populate();
	sq("DROP TRIGGER users_no_delete; DROP TRIGGER requests_no_delete;"
	   " INSERT INTO users(name, groups, disabled, created)"
	   " VALUES('mallory', '[\"sre-leads\"]', 0, 1);"
	   " DELETE FROM users WHERE name = 'dave';"
	   " DELETE FROM requests WHERE id = 4");
	state_bad(
	    tu_keep(tu_fmt("users name=mallory: row: expected none (no event "
			   "creates it), found a row\n"
			   "users name=dave: row: expected a row (seq %s), "
			   "found none\n"
			   "requests id=4: row: expected a row (seq %s), "
			   "found none\n",
		one("SELECT seq FROM events WHERE type = 'user.added' AND"
		    " subject = 'dave'"),
		one("SELECT seq FROM events WHERE type = 'request.created'"
		    " AND subject = 'request:4'"))),
	    3);
	tu_keep_free();
}
