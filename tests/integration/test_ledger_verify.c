/*
 * test_ledger_verify.c: `jitcad ledger verify` checks the state tables
 * against the events.  A real state directory is filled by the real
 * jitcad (init, users, a token rotation, a disable, issues, revocations
 * by serial and by key), then the real sqlite3 program edits the ledger
 * file as an attacker with write access would (dropping the triggers that
 * refuse the edit first), and verify must exit 1 naming the table, the
 * key, the field, what the events say and what was found.  Also: an
 * untouched ledger verifies, the triggers refuse the plain edits, and a
 * round-1 (schema 1) ledger file still opens and is migrated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "tests/lib/jitcad.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

#define FAILED1                                                                \
	"jitcad ledger verify: FAILED: 1 state row disagrees with the "        \
	"events\n"

/* The pinned CA clock: now (the signer checks validity against its own
 * clock), as a number and as text. */
static long long t0;
static char t0s[32];
static char *dir, *state, *db;

static void
setup(void)
{
	char *p = tu_which("sqlite3");

	cr_assert_not_null(p, "the sqlite3 program is required");
	free(p);
	tu_scratch(&dir, &state, NULL);
	db = tu_fmt("%s/ledger.db", state);
	t0 = (long long)time(NULL);
	(void)snprintf(t0s, sizeof(t0s), "%lld", t0);
	cr_assert_eq(setenv("JITCA_TEST_NOW", t0s, 1), 0);
}

static void
teardown(void)
{
	tu_scratch_free(&dir, &state, NULL);
	free(db);
	unsetenv("JITCA_TEST_NOW");
}

TestSuite(ledger_verify, .init = setup, .fini = teardown);

static void
run_ok(const char *args)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(
	    tu_jitcad(state, args, &out, &err), 0, "%s: %s", args, err);
	free(out);
	free(err);
}

/* Run SQL on the ledger with the sqlite3 program; its exit status. */
static int
sq(const char *sql, char **out, char **err)
{
	char *cmd = tu_fmt("sqlite3 '%s' \"%s\"", db, sql);
	int rc = tu_sh(cmd, out, err);

	free(cmd);
	return rc;
}

static void
sq_ok(const char *sql)
{
	char *err = NULL;

	cr_assert_eq(sq(sql, NULL, &err), 0, "%s: %s", sql, err);
	free(err);
}

/*
 * The ledger every test starts from, seq by seq:
 *   1 ca.created, 2-3 alice added (user.added, token.issued), 4-5 bob
 *   added, 6 alice's token rotated, 7 bob disabled, 8-9 / 10-11 / 12-13
 *   requests 1, 2, 3 issued at once as serials 1, 2, 3, 14 serial 1
 *   revoked, 15 a key revoked.
 */
static void
populate(void)
{
	char *cmd, *args;
	int i;

	run_ok("init --ca-key-type ed25519");
	run_ok("user add alice --group engineering");
	run_ok("user add bob --group engineering");
	run_ok("user token alice");
	run_ok("user disable bob");
	for (i = 1; i <= 4; i++) {
		cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -C k%d -f "
			     "'%s/k%d'",
		    i, dir, i);
		cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
		free(cmd);
	}
	for (i = 1; i <= 3; i++) {
		args = tu_fmt("issue --user alice --role staging --public-key "
			      "'%s/k%d.pub' --reason 'INC-1 disk full'",
		    dir, i);
		run_ok(args);
		free(args);
	}
	run_ok("revoke --serial 1 --reason 'laptop lost'");
	args = tu_fmt(
	    "revoke --public-key '%s/k4.pub' --reason 'key leaked'", dir);
	run_ok(args);
	free(args);
}

/* ledger verify: exit 1 with exactly want on stderr, nothing on stdout. */
static void
verify_fails(const char *want)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(
	    tu_jitcad(state, "ledger verify", &out, &err), 1, "%s%s", out, err);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(err, want);
	free(out);
	free(err);
}

static void
verify_ok(const char *want)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(
	    tu_jitcad(state, "ledger verify", &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, want);
	free(out);
	free(err);
}

Test(ledger_verify, untouched_ledger_verifies)
{
	char *out = NULL;

	populate();
	verify_ok("ok: 15 events, hash chain intact\n");
	/* Every event type the CLI writes is there. */
	cr_assert_eq(sq("SELECT group_concat(type, ' ') FROM (SELECT DISTINCT"
			" type FROM events ORDER BY type)",
			 &out, NULL),
	    0);
	cr_assert_str_eq(out,
	    "ca.created cert.issued cert.revoked key.revoked request.created "
	    "token.issued user.added user.disabled\n");
	free(out);
}

Test(ledger_verify, certificate_unrevoked)
{
	char *err = NULL, *want;

	populate();
	/* The trigger refuses it... */
	cr_assert_eq(sq("UPDATE certificates SET revoked = NULL WHERE serial"
			" = 1",
			 NULL, &err),
	    19);
	cr_assert_not_null(
	    strstr(err, "a revocation is never undone"), "%s", err);
	free(err);
	verify_ok("ok: 15 events, hash chain intact\n");
	/* ...until it is dropped: then verify names the row. */
	sq_ok("DROP TRIGGER certificates_revoke_once;"
	      " UPDATE certificates SET revoked = NULL WHERE serial = 1");
	want = tu_fmt("jitcad ledger verify: state: certificates serial=1: "
		      "revoked: expected %lld (seq 14), found NULL\n" FAILED1,
	    t0);
	verify_fails(want);
	free(want);
}

Test(ledger_verify, user_groups_changed)
{
	populate();
	sq_ok("UPDATE users SET groups = '[\\\"engineering\\\",\\\"sre-leads"
	      "\\\"]' WHERE name = 'alice'");
	verify_fails("jitcad ledger verify: state: users name=alice: groups: "
		     "expected [\"engineering\"], found "
		     "[\"engineering\",\"sre-leads\"]\n" FAILED1);
}

Test(ledger_verify, certificate_row_deleted)
{
	char *err = NULL;

	populate();
	cr_assert_eq(
	    sq("DELETE FROM certificates WHERE serial = 2", NULL, &err), 19);
	cr_assert_not_null(
	    strstr(err, "certificates are append-only"), "%s", err);
	free(err);
	sq_ok("DROP TRIGGER certificates_no_delete;"
	      " DELETE FROM certificates WHERE serial = 2");
	verify_fails("jitcad ledger verify: state: certificates serial=2: "
		     "row: expected a row (seq 11), found none\n" FAILED1);
}

Test(ledger_verify, last_serial_rewound)
{
	char *err = NULL;

	populate();
	cr_assert_eq(sq("UPDATE meta SET value = '1' WHERE key ="
			" 'last_serial'",
			 NULL, &err),
	    19);
	cr_assert_not_null(strstr(err, "counters never go down"), "%s", err);
	free(err);
	sq_ok("DROP TRIGGER meta_counters_up;"
	      " UPDATE meta SET value = '1' WHERE key = 'last_serial'");
	verify_fails("jitcad ledger verify: state: meta key=last_serial: "
		     "value: expected at least 3, found 1\n" FAILED1);
}

Test(ledger_verify, approval_inserted)
{
	populate();
	sq_ok("INSERT INTO approvals(request_id, approver, decision, time,"
	      " comment) VALUES(3, 'mallory', 'approve', 1, '')");
	verify_fails("jitcad ledger verify: state: approvals request_id=3 "
		     "approver=mallory: row: expected none (no event creates "
		     "it), found a row\n" FAILED1);
}

Test(ledger_verify, request_state_changed)
{
	populate();
	sq_ok("UPDATE requests SET state = 'issued' WHERE id = 1");
	verify_fails("jitcad ledger verify: state: requests id=1: state: "
		     "expected \"revoked\", found \"issued\"\n" FAILED1);
}

Test(ledger_verify, revoked_key_deleted)
{
	char *hex = NULL, *want;

	populate();
	cr_assert_eq(
	    sq("SELECT lower(hex(key_sha256)) FROM revoked_keys", &hex, NULL),
	    0);
	cr_assert_eq(strlen(hex), 65, "%s", hex);
	hex[64] = '\0';
	sq_ok("DROP TRIGGER revoked_keys_no_delete; DELETE FROM revoked_keys");
	want = tu_fmt("jitcad ledger verify: state: revoked_keys "
		      "key_sha256=%s: row: expected a row (seq 15), found "
		      "none\n" FAILED1,
	    hex);
	verify_fails(want);
	free(want);
	free(hex);
}

Test(ledger_verify, every_disagreement_is_named)
{
	char *want;

	populate();
	sq_ok("DROP TRIGGER certificates_revoke_once;"
	      " DROP TRIGGER certificates_fixed;"
	      " DROP TRIGGER meta_counters_up;"
	      " UPDATE certificates SET revoked = NULL WHERE serial = 1;"
	      " UPDATE users SET disabled = 0 WHERE name = 'bob';"
	      " UPDATE meta SET value = '0' WHERE key = 'krl_version';"
	      " UPDATE certificates SET valid_before = valid_before + 86400"
	      " WHERE serial = 3");
	want = tu_fmt(
	    "jitcad ledger verify: state: meta key=krl_version: value: "
	    "expected 2, found 0\n"
	    "jitcad ledger verify: state: users name=bob: disabled: expected "
	    "1, found 0\n"
	    "jitcad ledger verify: state: certificates serial=1: revoked: "
	    "expected %lld (seq 14), found NULL\n"
	    "jitcad ledger verify: state: certificates serial=3: valid_before: "
	    "expected %lld, found %lld\n"
	    "jitcad ledger verify: FAILED: 4 state rows disagree with the "
	    "events\n",
	    t0, t0 + 8 * 3600, t0 + 8 * 3600 + 86400);
	verify_fails(want);
	free(want);
}

Test(ledger_verify, round1_ledger_opens_and_migrates)
{
	char *out = NULL;

	populate();
	/* What a round-1 jitca left: schema 1, no state triggers. */
	sq_ok("DROP TRIGGER certificates_no_delete;"
	      " DROP TRIGGER certificates_fixed;"
	      " DROP TRIGGER certificates_revoke_once;"
	      " DROP TRIGGER revoked_keys_no_update;"
	      " DROP TRIGGER revoked_keys_no_delete;"
	      " DROP TRIGGER approvals_approve_to_deny;"
	      " DROP TRIGGER approvals_no_delete;"
	      " DROP TRIGGER requests_no_delete;"
	      " DROP TRIGGER users_no_delete;"
	      " DROP TRIGGER meta_counters_up;"
	      " DROP TRIGGER meta_counters_no_delete;"
	      " DROP TABLE merkle_nodes; DROP TABLE checkpoints;"
	      " UPDATE meta SET value = '1' WHERE key = 'schema_version'");
	verify_ok("ok: 15 events, hash chain intact\n");
	cr_assert_eq(sq("SELECT value FROM meta WHERE key = 'schema_version';"
			" SELECT count(*) FROM sqlite_master WHERE type ="
			" 'trigger'",
			 &out, NULL),
	    0);
	/* 11 state triggers, hosts_no_delete, the 2 of events and the 4 of
	 * the Merkle tree and checkpoints; schema 1 migrates through 2 and 3
	 * to 4. */
	cr_assert_str_eq(out, "4\n18\n");
	free(out);
}
