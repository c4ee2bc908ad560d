/*
 * test_request.c: the request -> approval -> issuance state machine
 * (ca/request.c) on a real sqlite ledger file.
 *
 * The transitions are a table: every legal move and every illegal one,
 * each from a freshly built start state, with the exact error code, the
 * state afterwards and the number of ledger events it wrote.  Then the
 * creation checks, the certificate's exact contents, and docs/design.md's
 * invariants 1-5: no certificate before commit (a commit hook makes
 * COMMIT fail), unique increasing serials across a reopen, safe
 * principals, bounded validity, distinct non-self approvers, and two
 * processes racing to approve one request (50 rounds, exactly one
 * cert.issued each).  One test signs through the real signer process.
 */
#include <signal.h>
#include <openssl/sha.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ca/signpolicy.h"
#include "signer/names.h"
#include "signer/signer.h"
#include "ca_fixture.h"

TestSuite(request, .init = fx_setup, .fini = fx_teardown);

/* ---- the transition table ---- */

enum start {
	S_NONE, /* no request: id 999 */
	S_PENDING,
	S_PENDING_LATE, /* pending, clock past its expiry */
	S_ISSUED,
	S_DENIED,
	S_WITHDRAWN,
	S_EXPIRED,
	S_REVOKED,
	S_HALF, /* db-admin (2 approvals), approved once by bob */
};

enum action {
	A_APPROVE,
	A_DENY,
	A_EXPIRE_DUE,
	A_REVOKE, /* revoke_apply by request id, as root */
};

struct transition {
	enum start from;
	enum action act;
	const struct ca_actor *who;
	int want; /* exact return code */
	const char *state; /* afterwards; NULL for S_NONE */
	int events; /* events written by the call */
};

static const struct transition table[] = {
    /* pending: the legal moves */
    {S_PENDING, A_APPROVE, &bob, 0, "issued", 2},
    {S_PENDING, A_APPROVE, &carol, 0, "issued", 2},
    {S_PENDING, A_DENY, &bob, 0, "denied", 1},
    {S_PENDING, A_DENY, &alice, 0, "denied", 1}, /* withdrawn */
    {S_PENDING, A_EXPIRE_DUE, &root, 0, "pending", 0},
    /* pending: who may not */
    {S_PENDING, A_APPROVE, &alice, ERR_SELF_APPROVAL, "pending", 0},
    {S_PENDING, A_APPROVE, &erin, ERR_NOT_FOUND, "pending", 0},
    {S_PENDING, A_APPROVE, &eve, ERR_NOT_FOUND, "pending", 0},
    {S_PENDING, A_APPROVE, &dave, ERR_NOT_FOUND, "pending", 0},
    {S_PENDING, A_APPROVE, &sec, ERR_FORBIDDEN, "pending", 0},
    {S_PENDING, A_APPROVE, &root, ERR_FORBIDDEN, "pending", 0},
    {S_PENDING, A_DENY, &erin, ERR_NOT_FOUND, "pending", 0},
    {S_PENDING, A_DENY, &eve, ERR_NOT_FOUND, "pending", 0},
    {S_PENDING, A_DENY, &sec, ERR_FORBIDDEN, "pending", 0},
    {S_PENDING, A_REVOKE, &root, ERR_WRONG_STATE, "pending", 0},
    /* pending past its expiry */
    {S_PENDING_LATE, A_APPROVE, &bob, ERR_EXPIRED, "expired", 1},
    {S_PENDING_LATE, A_DENY, &bob, ERR_EXPIRED, "expired", 1},
    {S_PENDING_LATE, A_DENY, &alice, ERR_EXPIRED, "expired", 1},
    {S_PENDING_LATE, A_APPROVE, &eve, ERR_NOT_FOUND, "pending", 0},
    {S_PENDING_LATE, A_EXPIRE_DUE, &root, 0, "expired", 1},
    /* issued */
    {S_ISSUED, A_APPROVE, &carol, ERR_WRONG_STATE, "issued", 0},
    {S_ISSUED, A_APPROVE, &bob, ERR_WRONG_STATE, "issued", 0},
    {S_ISSUED, A_DENY, &bob, ERR_WRONG_STATE, "issued", 0},
    {S_ISSUED, A_DENY, &alice, ERR_WRONG_STATE, "issued", 0},
    {S_ISSUED, A_EXPIRE_DUE, &root, 0, "issued", 0},
    {S_ISSUED, A_REVOKE, &root, 0, "revoked", 1},
    /* denied, withdrawn, expired, revoked: final */
    {S_DENIED, A_APPROVE, &carol, ERR_WRONG_STATE, "denied", 0},
    {S_DENIED, A_DENY, &carol, ERR_WRONG_STATE, "denied", 0},
    {S_DENIED, A_EXPIRE_DUE, &root, 0, "denied", 0},
    {S_DENIED, A_REVOKE, &root, ERR_WRONG_STATE, "denied", 0},
    {S_WITHDRAWN, A_APPROVE, &bob, ERR_WRONG_STATE, "denied", 0},
    {S_EXPIRED, A_APPROVE, &bob, ERR_WRONG_STATE, "expired", 0},
    {S_EXPIRED, A_DENY, &bob, ERR_WRONG_STATE, "expired", 0},
    {S_EXPIRED, A_EXPIRE_DUE, &root, 0, "expired", 0},
    {S_EXPIRED, A_REVOKE, &root, ERR_WRONG_STATE, "expired", 0},
    {S_REVOKED, A_APPROVE, &carol, ERR_WRONG_STATE, "revoked", 0},
    {S_REVOKED, A_DENY, &bob, ERR_WRONG_STATE, "revoked", 0},
    {S_REVOKED, A_REVOKE, &root, 0, "revoked", 0}, /* idempotent */
    /* half-approved (db-admin needs two distinct approvers) */
    {S_HALF, A_APPROVE, &dave, 0, "issued", 2},
    {S_HALF, A_APPROVE, &carol, 0, "issued", 2},
    {S_HALF, A_APPROVE, &bob, ERR_ALREADY_APPROVED, "pending", 0},
    {S_HALF, A_APPROVE, &alice, ERR_SELF_APPROVAL, "pending", 0},
    {S_HALF, A_DENY, &bob, 0, "denied", 1}, /* changes his mind */
    {S_HALF, A_DENY, &dave, 0, "denied", 1},
    {S_HALF, A_REVOKE, &root, ERR_WRONG_STATE, "pending", 0},
    /* no such request */
    {S_NONE, A_APPROVE, &bob, ERR_NOT_FOUND, NULL, 0},
    {S_NONE, A_DENY, &bob, ERR_NOT_FOUND, NULL, 0},
    {S_NONE, A_REVOKE, &root, ERR_NOT_FOUND, NULL, 0},
    {S_NONE, A_EXPIRE_DUE, &root, 0, NULL, 0},
};

static int64_t
build_start(enum start s)
{
	json_t *j = NULL;
	struct revoke_target t = {.by = REVOKE_REQUEST};
	char *key;
	int64_t id;
	size_t n = 0;

	if (s == S_NONE)
		return 999;
	key = fx_key_line();
	id = fx_create(
	    &alice, s == S_HALF ? "db-admin" : "prod-debug", key, NULL);
	free(key);
	switch (s) {
	case S_PENDING:
		break;
	case S_HALF:
		cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &j), 0);
		break;
	case S_PENDING_LATE:
		fx_now_set(FX_T0 + 3600);
		break;
	case S_ISSUED:
	case S_REVOKED:
		cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, "ok", &j), 0);
		if (s == S_REVOKED) {
			t.request = id;
			cr_assert_eq(
			    fx_revoke_apply(&fx_ca, &root, &t, "gone", NULL),
			    0);
		}
		break;
	case S_DENIED:
		cr_assert_eq(fx_request_deny(&fx_ca, &bob, id, "no", &j), 0);
		break;
	case S_WITHDRAWN:
		cr_assert_eq(fx_request_deny(&fx_ca, &alice, id, NULL, &j), 0);
		break;
	case S_EXPIRED:
		fx_now_set(FX_T0 + 7200);
		cr_assert_eq(request_expire_due(&fx_ca, &n), 0);
		cr_assert_eq(n, 1);
		break;
	default:
		cr_assert_fail("bad start");
	}
	json_decref(j);
	return id;
}

static int
run_action(const struct transition *tr, int64_t id)
{
	struct revoke_target t = {.by = REVOKE_REQUEST, .request = id};
	json_t *j = NULL;
	size_t n = 0;
	int r = ERR_INTERNAL;

	switch (tr->act) {
	case A_APPROVE:
		r = fx_request_approve(&fx_ca, tr->who, id, "lgtm", &j);
		break;
	case A_DENY:
		r = fx_request_deny(&fx_ca, tr->who, id, "not now", &j);
		break;
	case A_EXPIRE_DUE:
		r = request_expire_due(&fx_ca, &n);
		break;
	case A_REVOKE:
		r = fx_revoke_apply(&fx_ca, tr->who, &t, "test", &j);
		break;
	}
	if (r == 0 && (tr->act == A_APPROVE || tr->act == A_DENY)) {
		cr_assert_str_eq(fx_str(j, "state"), tr->state);
		cr_assert_eq(fx_id(j), id);
	} else if (r != 0) {
		cr_assert_null(j, "output on error");
	}
	json_decref(j);
	return r;
}

Test(request, transition_table)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct transition *tr = &table[i];
		int64_t id, before;
		int r;

		/* A fresh ledger per row. */
		fx_teardown();
		fx_setup();
		fx_cast();
		id = build_start(tr->from);
		before = fx_events(NULL);
		r = run_action(tr, id);
		cr_assert_eq(r, tr->want, "row %zu: got %d (%s), want %d", i, r,
		    err_str(r), tr->want);
		cr_assert_eq(fx_events(NULL) - before, tr->events,
		    "row %zu: %lld events", i,
		    (long long)(fx_events(NULL) - before));
		if (tr->state != NULL) {
			char *st = fx_state(id);

			cr_assert_str_eq(st, tr->state, "row %zu", i);
			free(st);
		}
	}
}

/* ---- creation ---- */

struct create_case {
	const struct ca_actor *who;
	const char *role;
	const char *principals[3];
	uint64_t ttl;
	const char *reason;
	int want;
};

Test(request, create_refusals_write_nothing)
{
	static char long_reason[REQUEST_REASON_MAX + 2];
	static const struct create_case cases[] = {
	    {&alice, "nope", {NULL}, 0, "r", ERR_NOT_FOUND},
	    {&eve, "prod-debug", {NULL}, 0, "r", ERR_FORBIDDEN},
	    {&bob, "prod-debug", {NULL}, 0, "r", ERR_FORBIDDEN},
	    {&sec, "staging", {NULL}, 0, "r", ERR_FORBIDDEN},
	    {&root, "staging", {NULL}, 0, "r", ERR_FORBIDDEN},
	    {&alice, "prod-debug", {NULL}, 2 * 3600 + 1, "r", ERR_TTL_TOO_LONG},
	    {&alice, "staging", {NULL}, 25 * 3600, "r", ERR_TTL_TOO_LONG},
	    {&alice, "prod-debug", {"root"}, 0, "r", ERR_PRINCIPAL_NOT_ALLOWED},
	    {&alice, "prod-debug", {"bob"}, 0, "r", ERR_PRINCIPAL_NOT_ALLOWED},
	    {&alice, "prod-debug", {"alice", "dba"}, 0, "r",
		ERR_PRINCIPAL_NOT_ALLOWED},
	    {&alice, "prod-debug", {"*"}, 0, "r", ERR_CERT_BAD_PRINCIPAL},
	    {&alice, "prod-debug", {"alice,debug"}, 0, "r",
		ERR_CERT_BAD_PRINCIPAL},
	    {&alice, "prod-debug", {"alice", "de bug"}, 0, "r",
		ERR_CERT_BAD_PRINCIPAL},
	    {&alice, "prod-debug", {""}, 0, "r", ERR_CERT_BAD_PRINCIPAL},
	    {&alice, "prod-debug", {"debug", "debug"}, 0, "r", ERR_INVALID_ARG},
	    {&alice, "prod-debug", {NULL}, 0, "", ERR_INVALID_ARG},
	    {&alice, "prod-debug", {NULL}, 0, NULL, ERR_INVALID_ARG},
	    {&alice, "prod-debug", {NULL}, 0, "two\nlines", ERR_TEXT_CHAR},
	    {&alice, "prod-debug", {NULL}, 0, "tab\there", ERR_TEXT_CHAR},
	    {&alice, "prod-debug", {NULL}, 0, "del\x7f", ERR_TEXT_CHAR},
	    {&alice, "prod-debug", {NULL}, 0, "bad \xff utf8", ERR_TEXT_UTF8},
	    {&alice, "prod-debug", {NULL}, 0, long_reason, ERR_INVALID_ARG},
	};
	char *key = fx_key_line();
	size_t i, n;

	memset(long_reason, 'x', REQUEST_REASON_MAX + 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct create_case *c = &cases[i];
		json_t *out = NULL;
		int r;

		for (n = 0; n < 3 && c->principals[n] != NULL; n++)
			;
		r = fx_request_create(&fx_ca, c->who, c->role,
		    (char *const *)(uintptr_t)c->principals, n, c->ttl,
		    c->reason, key, &out);
		cr_assert_eq(
		    r, c->want, "case %zu: got %d (%s)", i, r, err_str(r));
		cr_assert_null(out);
	}
	cr_assert_eq(fx_events(NULL), 0);
	cr_assert_eq(fx_int("SELECT count(*) FROM requests", NULL), 0);
	cr_assert_eq(fx_signs, 0);
	free(key);
}

Test(request, create_bad_public_keys_give_parser_error)
{
	static const char *lines[] = {
	    "",
	    "garbage",
	    "ssh-ed25519 AAAA",
	    "ssh-ed25519 !!!!",
	    "ssh-dss AAAAB3NzaC1kc3MAAACBAP",
	    "ssh-ed25519",
	};
	struct pubkey *k = NULL;
	json_t *out = NULL;
	size_t i;
	int want, r;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		want = pubkey_from_line(&k, lines[i], strlen(lines[i]));
		cr_assert_neq(want, 0);
		r = fx_request_create(&fx_ca, &alice, "staging", NULL, 0, 0,
		    "reason", lines[i], &out);
		cr_assert_eq(r, want, "line %zu: got %s want %s", i, err_str(r),
		    err_str(want));
		cr_assert_null(out);
	}
	cr_assert_eq(fx_request_create(&fx_ca, &alice, "staging", NULL, 0, 0,
			 "reason", NULL, &out),
	    ERR_INVALID_ARG);
	cr_assert_eq(fx_events(NULL), 0);
	cr_assert_eq(fx_signs, 0);
}

Test(request, create_pending_shape)
{
	json_t *req = NULL, *p;
	char *key = fx_key_line();
	struct pubkey *k = NULL;
	char fp[PUBKEY_FP_LEN];
	int64_t id;

	id = fx_create(&alice, "prod-debug", key, &req);
	cr_assert_eq(id, 1);
	cr_assert_str_eq(fx_str(req, "state"), "pending");
	cr_assert_str_eq(fx_str(req, "role"), "prod-debug");
	cr_assert_str_eq(fx_str(req, "requester"), "alice");
	cr_assert_str_eq(fx_str(req, "reason"), "INC-4312 stuck queue");
	p = json_object_get(req, "principals");
	cr_assert_eq(json_array_size(p), 2);
	cr_assert_str_eq(json_string_value(json_array_get(p, 0)), "alice");
	cr_assert_str_eq(json_string_value(json_array_get(p, 1)), "debug");
	cr_assert_eq(json_integer_value(json_object_get(req, "ttl")), 1800);
	cr_assert_eq(
	    json_integer_value(json_object_get(req, "created")), FX_T0);
	cr_assert_eq(
	    json_integer_value(json_object_get(req, "expires")), FX_T0 + 3600);
	cr_assert_eq(
	    json_integer_value(json_object_get(req, "approvals_required")), 1);
	cr_assert_eq(json_array_size(json_object_get(req, "approvals")), 0);
	p = json_object_get(req, "approver_groups");
	cr_assert_eq(json_array_size(p), 1);
	cr_assert_str_eq(json_string_value(json_array_get(p, 0)), "sre-leads");
	cr_assert_null(json_object_get(req, "certificate"));
	cr_assert_null(json_object_get(req, "serial"));
	cr_assert_eq(pubkey_from_line(&k, key, strlen(key)), 0);
	cr_assert_eq(pubkey_fingerprint(fp, k), 0);
	cr_assert_str_eq(fx_str(req, "key_fingerprint"), fp);
	cr_assert_eq(fx_events("request.created"), 1);
	cr_assert_eq(fx_events(NULL), 1);
	cr_assert_eq(fx_signs, 0);
	pubkey_free(k);
	json_decref(req);
	free(key);
}

/* Parse the certificate of an issued request. */
static struct cert *
issued_cert(json_t *req)
{
	struct cert *c = NULL;
	const char *line = fx_str(req, "certificate");

	cr_assert_eq(cert_from_line(&c, line, strlen(line)), 0);
	return c;
}

/* request.c's count of cert.issued details made ahead (test builds). */
extern unsigned long request_test_details_ahead;

Test(request, staging_issues_at_once_with_exact_contents)
{
	json_t *req = NULL;
	struct cert *c;
	char *key = fx_key_line();
	struct pubkey *k = NULL;
	char *p[] = {"alice"};

	unsigned long ahead = request_test_details_ahead;

	cr_assert_eq(fx_request_create(&fx_ca, &alice, "staging", p, 1, 3600,
			 "deploy check", key, &req),
	    0);
	/* cert.issued's details were made before the unit. */
	cr_assert_eq(request_test_details_ahead, ahead + 1);
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	cr_assert_eq(json_integer_value(json_object_get(req, "serial")), 1);
	cr_assert_str_eq(fx_str(req, "key_id"), "alice:staging:req-1:serial-1");
	cr_assert_eq(json_integer_value(json_object_get(req, "valid_after")),
	    FX_T0 - 60);
	cr_assert_eq(json_integer_value(json_object_get(req, "valid_before")),
	    FX_T0 + 3600);
	c = issued_cert(req);
	cr_assert_eq(c->serial, 1);
	cr_assert_eq(c->type, CERT_TYPE_USER);
	cr_assert_str_eq(c->key_id, "alice:staging:req-1:serial-1");
	cr_assert_eq(c->nprincipals, 1);
	cr_assert_str_eq(c->principals[0], "alice");
	cr_assert_eq(c->valid_after, FX_T0 - 60);
	cr_assert_eq(c->valid_before, FX_T0 + 3600);
	cr_assert_eq(c->ncritical, 0);
	cr_assert_eq(c->nextensions, 2);
	cr_assert_str_eq(c->extensions[0].name, "permit-port-forwarding");
	cr_assert_str_eq(c->extensions[1].name, "permit-pty");
	cr_assert(pubkey_equal(c->ca_key, fx_ca.ca_pub));
	cr_assert_eq(pubkey_from_line(&k, key, strlen(key)), 0);
	cr_assert(pubkey_equal(c->key, k));
	cr_assert_eq(c->nonce_len, CERT_NONCE_LEN);
	cr_assert_eq(fx_events("request.created"), 1);
	cr_assert_eq(fx_events("cert.issued"), 1);
	cr_assert_eq(fx_events(NULL), 2);
	cr_assert_eq(fx_signs, 1);
	/* cert.issued details, as docs/ledger.md lists them. */
	cr_assert_eq(fx_int("SELECT count(*) FROM events WHERE type ="
			    " 'cert.issued' AND json_extract(details,"
			    " '$.serial') = 1 AND json_extract(details,"
			    " '$.key_id') = 'alice:staging:req-1:serial-1'"
			    " AND json_extract(details, '$.request') = 1 AND"
			    " json_extract(details, '$.user') = 'alice' AND"
			    " json_extract(details, '$.role') = 'staging' AND"
			    " json_extract(details, '$.valid_after') ="
			    " 1799999940 AND json_extract(details,"
			    " '$.valid_before') = 1800003600 AND"
			    " json_array_length(details, '$.approvers') = 0"
			    " AND json_extract(details, '$.key_fp') = ?",
			 fx_str(req, "key_fingerprint")),
	    1);
	/* ...whole, as made before the unit. */
	cr_assert_eq(
	    fx_int(
		"SELECT count(*) FROM events e, certificates c WHERE"
		" e.type = 'cert.issued' AND e.details = '{\"approvers\":[],"
		"\"cert_sha256\":\"' || c.cert_sha256 || '\",\"direct\":"
		"false,\"key_fp\":\"' || ? || '\",\"key_id\":\"alice:stag"
		"ing:req-1:serial-1\",\"principals\":[\"alice\"],\"reques"
		"t\":1,\"role\":\"staging\",\"serial\":1,\"user\":\"alic"
		"e\",\"valid_after\":1799999940,\"valid_before\":1800003600}'",
		fx_str(req, "key_fingerprint")),
	    1);
	cr_assert_eq(fx_int("SELECT count(*) FROM events e, certificates c"
			    " WHERE e.type = 'cert.issued' AND"
			    " json_extract(e.details, '$.cert_sha256') ="
			    " c.cert_sha256 AND length(c.cert_sha256) = 64",
			 NULL),
	    1);
	pubkey_free(k);
	cert_free(c);
	json_decref(req);
	free(key);
}

Test(request, approved_cert_has_role_options_only)
{
	json_t *req = NULL;
	struct cert *c;
	char *key = fx_key_line();
	int64_t id = fx_create(&alice, "prod-debug", key, NULL);
	unsigned long ahead = request_test_details_ahead;

	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, "ok", &req), 0);
	/* An approval's cert.issued names its approvers: made in the unit. */
	cr_assert_eq(request_test_details_ahead, ahead);
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	cr_assert_eq(json_array_size(json_object_get(req, "approvals")), 1);
	cr_assert_str_eq(
	    fx_str(json_array_get(json_object_get(req, "approvals"), 0), "who"),
	    "bob");
	c = issued_cert(req);
	cr_assert_str_eq(c->key_id, "alice:prod-debug:req-1:serial-1");
	cr_assert_eq(c->nprincipals, 2);
	cr_assert_str_eq(c->principals[0], "alice");
	cr_assert_str_eq(c->principals[1], "debug");
	cr_assert_eq(c->ncritical, 1);
	cr_assert_str_eq(c->critical[0].name, "source-address");
	cr_assert_str_eq(c->critical[0].value, "10.0.0.0/8");
	cr_assert_eq(c->nextensions, 1);
	cr_assert_str_eq(c->extensions[0].name, "permit-pty");
	cr_assert_eq(c->valid_before - c->valid_after, 1800 + 60);
	cr_assert_eq(fx_int("SELECT count(*) FROM events WHERE type ="
			    " 'cert.issued' AND json_extract(details,"
			    " '$.approvers[0]') = ?",
			 "bob"),
	    1);
	cert_free(c);
	json_decref(req);
	free(key);
}

/* ---- invariant 1: no certificate before a durable commit ---- */

static int
refuse_commit(void *arg)
{
	(void)arg;
	return 1; /* turns COMMIT into ROLLBACK */
}

Test(request, invariant1_failed_commit_returns_no_certificate)
{
	json_t *req = NULL;
	char *key = fx_key_line();
	int64_t id = fx_create(&alice, "prod-debug", key, NULL);
	int64_t events = fx_events(NULL);
	int r;

	sqlite3_commit_hook(ledger_db(fx_l), refuse_commit, NULL);
	/* Auto-issuing create: signed, then the commit fails. */
	r = fx_request_create(
	    &fx_ca, &alice, "staging", NULL, 0, 0, "r", key, &req);
	cr_assert_eq(r, ERR_DB, "%s", err_str(r));
	cr_assert_null(req);
	cr_assert_eq(fx_signs, 1, "the certificate was signed");
	/* Final approval: signed, then the commit fails. */
	r = fx_request_approve(&fx_ca, &bob, id, NULL, &req);
	cr_assert_eq(r, ERR_DB, "%s", err_str(r));
	cr_assert_null(req);
	cr_assert_eq(fx_signs, 2);
	sqlite3_commit_hook(ledger_db(fx_l), NULL, NULL);

	cr_assert_eq(fx_int("SELECT count(*) FROM certificates", NULL), 0);
	cr_assert_eq(fx_events(NULL), events);
	cr_assert_eq(fx_int("SELECT count(*) FROM approvals", NULL), 0);
	{
		char *st = fx_state(id);

		cr_assert_str_eq(st, "pending");
		free(st);
	}
	/* And it still works afterwards, serial 1 (nothing left). */
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req), 0);
	cr_assert_eq(json_integer_value(json_object_get(req, "serial")), 1);
	json_decref(req);
	free(key);
}

Test(request, signing_failure_writes_nothing)
{
	json_t *req = NULL;
	char *key = fx_key_line();
	int64_t id = fx_create(&alice, "prod-debug", key, NULL);
	int64_t events = fx_events(NULL);

	fx_fail_sign = 1;
	cr_assert_eq(
	    fx_request_approve(&fx_ca, &bob, id, NULL, &req), ERR_SIGNER_DEAD);
	cr_assert_null(req);
	cr_assert_eq(fx_request_create(
			 &fx_ca, &alice, "staging", NULL, 0, 0, "r", key, &req),
	    ERR_SIGNER_DEAD);
	cr_assert_eq(fx_events(NULL), events);
	cr_assert_eq(fx_int("SELECT count(*) FROM requests", NULL), 1);
	cr_assert_eq(fx_int("SELECT count(*) FROM approvals", NULL), 0);
	fx_fail_sign = 0;
	free(key);
}

/*
 * A signer that holds another key (or returns garbage) yields a signature
 * that does not verify under the CA key: issuance fails in cert_sign()'s
 * one verification, nothing is written and nothing is handed out.
 */
Test(request, signature_from_another_key_writes_nothing)
{
	struct cakey *other = NULL;
	json_t *req = NULL;
	char *key = fx_key_line();
	int64_t id = fx_create(&alice, "prod-debug", key, NULL);
	int64_t events = fx_events(NULL);

	cr_assert_eq(cakey_generate(&other, KEY_ED25519), 0);
	fx_ca.sign_ctx = other;
	cr_assert_eq(
	    fx_request_approve(&fx_ca, &bob, id, NULL, &req), ERR_SIG_INVALID);
	cr_assert_null(req);
	cr_assert_eq(fx_request_create(
			 &fx_ca, &alice, "staging", NULL, 0, 0, "r", key, &req),
	    ERR_SIG_INVALID);
	cr_assert_null(req);
	cr_assert_eq(fx_signs, 2);
	cr_assert_eq(fx_events(NULL), events);
	cr_assert_eq(fx_int("SELECT count(*) FROM certificates", NULL), 0);
	cr_assert_eq(fx_int("SELECT count(*) FROM requests", NULL), 1);
	cr_assert_eq(fx_int("SELECT count(*) FROM approvals", NULL), 0);
	fx_ca.sign_ctx = fx_cakey;
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req), 0);
	/* The two refused certificates were signed ahead with serials 1
	 * and 2: those are gaps, never handed out again. */
	cr_assert_eq(json_integer_value(json_object_get(req, "serial")), 3);
	json_decref(req);
	cakey_free(other);
	free(key);
}

/* ---- invariant 2: serials unique and increasing across reopen ---- */

/* Serials are reserved ahead in durable blocks (1, 2, 4, ... 64): in one
 * process they follow each other; what a closed handle had not handed
 * out is a gap, and the next handle continues above it. */
Test(request, invariant2_serials_increase_across_reopen)
{
	static const int64_t want[10] = {1, 2, 3, 4, 5, 8, 9, 10, 11, 12};
	char *key = fx_key_line();
	json_t *req = NULL;
	int64_t s;
	int i;

	for (i = 0; i < 10; i++) {
		if (i == 5) {
			ledger_close(fx_l);
			fx_l = NULL;
			cr_assert_eq(ledger_open(&fx_l, fx_db, 0), 0);
			fx_ca.ledger = fx_l;
		}
		cr_assert_eq(fx_request_create(&fx_ca, &alice, "staging", NULL,
				 0, 0, "r", key, &req),
		    0);
		s = json_integer_value(json_object_get(req, "serial"));
		cr_assert_eq(
		    s, want[i], "certificate %d: serial %" PRId64, i, s);
		json_decref(req);
	}
	cr_assert_eq(
	    fx_int("SELECT count(DISTINCT serial) FROM certificates", NULL),
	    10);
	cr_assert_eq(
	    fx_int("SELECT count(DISTINCT key_id) FROM certificates", NULL),
	    10);
	free(key);
}

/* ---- invariant 3 and 4: principals and validity, re-checked ---- */

static void
swap_config(const char *from, const char *to)
{
	char err[CONFIG_ERR_LEN] = "";
	char *json = strdup(fx_config_json), *p;
	struct config *c = NULL;
	size_t n;

	cr_assert_not_null(p = strstr(json, from));
	n = strlen(from);
	cr_assert_eq(strlen(to), n, "same length replacement");
	memcpy(p, to, n);
	cr_assert_eq(
	    config_parse(&c, fx_dir, json, strlen(json), err), 0, "%s", err);
	config_free(fx_cfg);
	fx_cfg = c;
	fx_ca.cfg = c;
	free(json);
}

Test(request, invariant3_principals_rechecked_at_issuance)
{
	char *key = fx_key_line();
	json_t *req = NULL;
	int64_t id = fx_create(&alice, "prod-debug", key, NULL);

	/* The role loses "debug" while the request waits. */
	swap_config("\"{{user}}\", \"debug\"", "\"{{user}}\", \"dbg00\"");
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req),
	    ERR_PRINCIPAL_NOT_ALLOWED);
	cr_assert_null(req);
	cr_assert_eq(fx_int("SELECT count(*) FROM certificates", NULL), 0);
	free(key);
}

Test(request, invariant3_every_issued_principal_is_safe)
{
	char *key = fx_key_line();
	json_t *req = NULL;
	struct cert *c;
	size_t i;

	cr_assert_eq(fx_request_create(
			 &fx_ca, &carol, "staging", NULL, 0, 0, "r", key, &req),
	    0);
	c = issued_cert(req);
	cr_assert_gt(c->nprincipals, 0);
	for (i = 0; i < c->nprincipals; i++)
		cr_assert(name_principal_valid(c->principals[i]));
	cr_assert(name_key_id_valid(c->key_id));
	cert_free(c);
	json_decref(req);
	free(key);
}

Test(request, invariant4_validity_bounded)
{
	char *key = fx_key_line();
	json_t *req = NULL;
	struct cert *c;
	int64_t id;

	/* The longest a role allows: max_ttl + backdate, under the hard
	 * maximum. */
	cr_assert_eq(fx_request_create(&fx_ca, &alice, "staging", NULL, 0,
			 8 * 3600, "r", key, &req),
	    0);
	c = issued_cert(req);
	cr_assert_eq(c->valid_before - c->valid_after, 8 * 3600 + 60);
	cr_assert_leq(c->valid_before - FX_T0, fx_cfg->hard_max_ttl);
	cr_assert_neq(c->valid_before, UINT64_MAX);
	cert_free(c);
	json_decref(req);
	/* staging default_ttl is absent: max_ttl is the default. */
	cr_assert_eq(fx_request_create(
			 &fx_ca, &alice, "staging", NULL, 0, 0, "r", key, &req),
	    0);
	cr_assert_eq(json_integer_value(json_object_get(req, "ttl")), 8 * 3600);
	json_decref(req);
	/* max_ttl lowered while a 2h request waits. */
	cr_assert_eq(fx_request_create(&fx_ca, &alice, "prod-debug", NULL, 0,
			 7200, "r", key, &req),
	    0);
	id = fx_id(req);
	json_decref(req);
	swap_config("\"max_ttl\": \"2h\"", "\"max_ttl\": \"1h\"");
	cr_assert_eq(
	    fx_request_approve(&fx_ca, &bob, id, NULL, &req), ERR_TTL_TOO_LONG);
	cr_assert_null(req);
	free(key);
}

/* ---- invariant 5: distinct approvers, never oneself ---- */

Test(request, invariant5_two_distinct_approvers)
{
	char *key = fx_key_line();
	json_t *req = NULL;
	int64_t id, id2;

	fx_cast();
	id = fx_create(&alice, "db-admin", key, NULL);
	cr_assert_eq(fx_request_approve(&fx_ca, &alice, id, NULL, &req),
	    ERR_SELF_APPROVAL);
	cr_assert_eq(
	    fx_request_approve(&fx_ca, &eve, id, NULL, &req), ERR_NOT_FOUND);
	cr_assert_eq(
	    fx_request_approve(&fx_ca, &erin, id, NULL, &req), ERR_NOT_FOUND);
	cr_assert_eq(
	    fx_request_approve(&fx_ca, &sec, id, NULL, &req), ERR_FORBIDDEN);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, "one", &req), 0);
	cr_assert_str_eq(fx_str(req, "state"), "pending");
	cr_assert_eq(json_array_size(json_object_get(req, "approvals")), 1);
	json_decref(req);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, "again", &req),
	    ERR_ALREADY_APPROVED);
	cr_assert_null(req);
	cr_assert_eq(fx_signs, 0);
	cr_assert_eq(fx_request_approve(&fx_ca, &dave, id, "two", &req), 0);
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	cr_assert_eq(json_array_size(json_object_get(req, "approvals")), 2);
	cr_assert_eq(fx_signs, 1);
	cr_assert_eq(fx_int("SELECT count(*) FROM events WHERE type ="
			    " 'cert.issued' AND json_extract(details,"
			    " '$.approvers') = ?",
			 "[\"bob\",\"dave\"]"),
	    1);
	cr_assert_eq(fx_events("request.approved"), 2);
	json_decref(req);

	/* carol is an approver but cannot approve her own request. */
	id2 = fx_create(&carol, "db-admin", key, NULL);
	cr_assert_eq(fx_request_approve(&fx_ca, &carol, id2, NULL, &req),
	    ERR_SELF_APPROVAL);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id2, NULL, &req), 0);
	cr_assert_str_eq(fx_str(req, "state"), "pending");
	json_decref(req);
	free(key);
}

/* ---- racing approvals in two processes ---- */

static void
race_child(int rfd, const struct ca_actor *who, int64_t id)
{
	struct ca ca = fx_ca;
	struct ledger *l = NULL;
	json_t *req = NULL;
	char b;
	int r;

	/* Its own connection: the parent's are closed (see below). */
	if (ledger_open(&l, fx_db, 0) != 0)
		_exit(3);
	ca.ledger = l;
	if (read(rfd, &b, 1) != 1)
		_exit(4);
	r = fx_request_approve(&ca, who, id, NULL, &req);
	_exit(r == 0 ? 0 : r == ERR_WRONG_STATE ? 1 : 2);
}

Test(request, racing_approvals_issue_once, .timeout = 120)
{
	char *key = fx_key_line();
	int round;

	for (round = 0; round < 50; round++) {
		int64_t id = fx_create(&alice, "prod-debug", key, NULL);
		int fds[2], st[2], wins = 0, losses = 0, k;
		pid_t pid[2];

		cr_assert_eq(pipe(fds), 0);
		/* No thread of the ledger at fork(): its checkpoint thread
		 * (started once the WAL is long) may be in malloc or hold
		 * one of sqlite's process-wide mutexes at that moment, and
		 * the child then waits for ever (seen: ASan's allocator
		 * lock, which GCC 12's ASan does not reset in the child).
		 * Closing joins that thread and drops every connection. */
		ledger_close(fx_l);
		fx_l = fx_ca.ledger = NULL;
		for (k = 0; k < 2; k++) {
			pid[k] = fork();
			cr_assert_geq(pid[k], 0);
			if (pid[k] == 0) {
				close(fds[1]);
				race_child(fds[0], k == 0 ? &bob : &carol, id);
			}
		}
		close(fds[0]);
		/* Release both at the same moment. */
		cr_assert_eq(write(fds[1], "gg", 2), 2);
		close(fds[1]);
		for (k = 0; k < 2; k++) {
			cr_assert_eq(waitpid(pid[k], &st[k], 0), pid[k]);
			cr_assert(WIFEXITED(st[k]));
			wins += WEXITSTATUS(st[k]) == 0;
			losses += WEXITSTATUS(st[k]) == 1;
		}
		cr_assert_eq(wins, 1, "round %d: %d winners", round, wins);
		cr_assert_eq(losses, 1, "round %d", round);
		cr_assert_eq(ledger_open(&fx_l, fx_db, 0), 0);
		fx_ca.ledger = fx_l;
	}
	cr_assert_eq(fx_events("cert.issued"), 50);
	cr_assert_eq(fx_int("SELECT count(*) FROM certificates", NULL), 50);
	cr_assert_eq(fx_int("SELECT count(DISTINCT request_id) FROM"
			    " certificates",
			 NULL),
	    50);
	/* Both racers may sign ahead: the loser's serial is a gap. */
	cr_assert_eq(
	    fx_int("SELECT count(DISTINCT serial) FROM certificates", NULL),
	    50);
	cr_assert_leq(
	    fx_int("SELECT max(serial) FROM certificates", NULL), 100);
	free(key);
}

/* ---- expiry ---- */

Test(request, expire_due_marks_each_with_an_event)
{
	char *key = fx_key_line();
	json_t *req = NULL;
	size_t n = 99;
	int64_t a, b, c;

	a = fx_create(&alice, "prod-debug", key, NULL);
	b = fx_create(&erin, "db-admin", key, NULL);
	fx_now_set(FX_T0 + 1800);
	c = fx_create(&alice, "prod-debug", key, NULL);
	fx_now_set(FX_T0 + 3599);
	cr_assert_eq(request_expire_due(&fx_ca, &n), 0);
	cr_assert_eq(n, 0);
	fx_now_set(FX_T0 + 3600);
	/* Shown expired before the sweep runs. */
	cr_assert_eq(fx_request_get(&fx_ca, &alice, a, &req), 0);
	cr_assert_str_eq(fx_str(req, "state"), "expired");
	json_decref(req);
	cr_assert_eq(request_expire_due(&fx_ca, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(fx_events("request.expired"), 2);
	cr_assert_eq(request_expire_due(&fx_ca, &n), 0);
	cr_assert_eq(n, 0);
	{
		char *sa = fx_state(a), *sb = fx_state(b), *sc = fx_state(c);

		cr_assert_str_eq(sa, "expired");
		cr_assert_str_eq(sb, "expired");
		cr_assert_str_eq(sc, "pending");
		free(sa);
		free(sb);
		free(sc);
	}
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, c, NULL, &req), 0);
	json_decref(req);
	free(key);
}

/* ---- visibility ---- */

Test(request, get_and_list_visibility)
{
	char *key = fx_key_line();
	json_t *req = NULL, *arr;
	int64_t a, b, c;

	a = fx_create(&alice, "prod-debug", key, NULL);
	b = fx_create(&alice, "db-admin", key, NULL);
	c = fx_create(&erin, "staging", key, NULL); /* issued at once */

	cr_assert_eq(fx_request_get(&fx_ca, &alice, a, &req), 0);
	json_decref(req);
	cr_assert_eq(fx_request_get(&fx_ca, &bob, a, &req), 0);
	json_decref(req);
	cr_assert_eq(fx_request_get(&fx_ca, &sec, a, &req), 0);
	json_decref(req);
	cr_assert_eq(fx_request_get(&fx_ca, &root, c, &req), 0);
	cr_assert_not_null(json_object_get(req, "certificate"));
	json_decref(req);
	cr_assert_eq(fx_request_get(&fx_ca, &dave, a, &req), ERR_NOT_FOUND);
	cr_assert_null(req);
	cr_assert_eq(fx_request_get(&fx_ca, &dave, b, &req), 0);
	json_decref(req);
	cr_assert_eq(fx_request_get(&fx_ca, &eve, a, &req), ERR_NOT_FOUND);
	cr_assert_eq(fx_request_get(&fx_ca, &erin, a, &req), ERR_NOT_FOUND);
	cr_assert_eq(fx_request_get(&fx_ca, &alice, c, &req), ERR_NOT_FOUND);
	cr_assert_eq(fx_request_get(&fx_ca, &alice, 999, &req), ERR_NOT_FOUND);

	/* Lists: newest first. */
	cr_assert_eq(fx_request_list(&fx_ca, &alice, &fx_all, &req), 0);
	arr = json_object_get(req, "requests");
	cr_assert_eq(json_array_size(arr), 2);
	cr_assert_eq(fx_id(json_array_get(arr, 0)), b);
	cr_assert_eq(fx_id(json_array_get(arr, 1)), a);
	json_decref(req);
	cr_assert_eq(fx_request_list(&fx_ca, &bob, &fx_all, &req), 0);
	cr_assert_eq(json_array_size(json_object_get(req, "requests")), 2);
	json_decref(req);
	cr_assert_eq(fx_request_list(&fx_ca, &dave, &fx_all, &req), 0);
	arr = json_object_get(req, "requests");
	cr_assert_eq(json_array_size(arr), 1);
	cr_assert_eq(fx_id(json_array_get(arr, 0)), b);
	json_decref(req);
	cr_assert_eq(fx_request_list(&fx_ca, &eve, &fx_all, &req), 0);
	cr_assert_eq(json_array_size(json_object_get(req, "requests")), 0);
	json_decref(req);
	cr_assert_eq(fx_request_list(&fx_ca, &sec, &fx_all, &req), 0);
	cr_assert_eq(json_array_size(json_object_get(req, "requests")), 3);
	json_decref(req);
	cr_assert_eq(fx_request_list(&fx_ca, &erin, &fx_pending, &req), 0);
	cr_assert_eq(json_array_size(json_object_get(req, "requests")), 0);
	json_decref(req);
	cr_assert_eq(fx_request_list(&fx_ca, &root, &fx_pending, &req), 0);
	cr_assert_eq(json_array_size(json_object_get(req, "requests")), 2);
	json_decref(req);
	fx_now_set(FX_T0 + 3600);
	cr_assert_eq(fx_request_list(&fx_ca, &root, &fx_pending, &req), 0);
	cr_assert_eq(json_array_size(json_object_get(req, "requests")), 0);
	json_decref(req);
	free(key);
}

/* ---- policy re-checks at issuance ---- */

Test(request, disabled_user_and_revoked_key_block_issuance)
{
	char *key = fx_key_line(), *key2 = fx_key_line();
	struct revoke_target t = {.by = REVOKE_PUBLIC_KEY};
	json_t *req = NULL;
	int64_t id, id2, events;

	fx_user("alice", "engineering", 0);
	id = fx_create(&alice, "prod-debug", key, NULL);
	id2 = fx_create(&erin, "prod-debug", key2, NULL);
	cr_assert_eq(user_disable(fx_l, "local:test", "alice"), 0);
	events = fx_events(NULL);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req),
	    ERR_USER_DISABLED);
	cr_assert_eq(fx_events(NULL), events);

	t.text = key2;
	cr_assert_eq(fx_revoke_apply(&fx_ca, &root, &t, "leaked", NULL), 0);
	events = fx_events(NULL);
	cr_assert_eq(
	    fx_request_approve(&fx_ca, &bob, id2, NULL, &req), ERR_POLICY);
	cr_assert_eq(fx_events(NULL), events);
	cr_assert_eq(fx_request_create(&fx_ca, &erin, "staging", NULL, 0, 0,
			 "again", key2, &req),
	    ERR_POLICY);
	cr_assert_null(req);
	free(key);
	free(key2);
}

/* ---- jitcad issue ---- */

Test(request, direct_issue)
{
	char *key = fx_key_line();
	json_t *req = NULL;
	struct cert *c;
	int64_t events;

	fx_user("alice", "engineering", 0);
	fx_user("mallory", "marketing", 0);
	fx_user("zed", "engineering", 1);
	events = fx_events(NULL);
	cr_assert_eq(fx_request_issue_direct(&fx_ca, &bob, "alice",
			 "prod-debug", NULL, 0, 0, "r", key, &req),
	    ERR_FORBIDDEN);
	cr_assert_eq(fx_request_issue_direct(&fx_ca, &root, "nobody",
			 "prod-debug", NULL, 0, 0, "r", key, &req),
	    ERR_NOT_FOUND);
	cr_assert_eq(fx_request_issue_direct(&fx_ca, &root, "bad name",
			 "prod-debug", NULL, 0, 0, "r", key, &req),
	    ERR_BAD_NAME);
	cr_assert_eq(fx_request_issue_direct(&fx_ca, &root, "zed", "prod-debug",
			 NULL, 0, 0, "r", key, &req),
	    ERR_USER_DISABLED);
	cr_assert_eq(fx_request_issue_direct(&fx_ca, &root, "mallory",
			 "prod-debug", NULL, 0, 0, "r", key, &req),
	    ERR_FORBIDDEN);
	cr_assert_eq(fx_request_issue_direct(&fx_ca, &root, "alice", "nope",
			 NULL, 0, 0, "r", key, &req),
	    ERR_NOT_FOUND);
	cr_assert_eq(fx_request_issue_direct(&fx_ca, &root, "alice",
			 "prod-debug", NULL, 0, 3 * 3600, "r", key, &req),
	    ERR_TTL_TOO_LONG);
	cr_assert_eq(fx_request_issue_direct(&fx_ca, &root, "alice",
			 "prod-debug", NULL, 0, 0, "", key, &req),
	    ERR_INVALID_ARG);
	cr_assert_null(req);
	cr_assert_eq(fx_events(NULL), events);

	cr_assert_eq(
	    fx_request_issue_direct(&fx_ca, &root, "alice", "prod-debug", NULL,
		0, 0, "break-glass INC-1", key, &req),
	    0);
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	cr_assert_str_eq(fx_str(req, "requester"), "alice");
	c = issued_cert(req);
	cr_assert_str_eq(c->key_id, "alice:prod-debug:req-1:serial-1");
	cr_assert_str_eq(c->principals[0], "alice");
	cert_free(c);
	cr_assert_eq(fx_int("SELECT count(*) FROM events WHERE actor ="
			    " 'local:root' AND json_extract(details,"
			    " '$.direct') = 1",
			 NULL),
	    2);
	cr_assert_eq(fx_events("request.created"), 1);
	cr_assert_eq(fx_events("cert.issued"), 1);
	json_decref(req);
	free(key);
}

Test(request, comment_limits)
{
	static char long_comment[REQUEST_COMMENT_MAX + 2];
	char *key = fx_key_line();
	json_t *req = NULL;
	int64_t id = fx_create(&alice, "prod-debug", key, NULL);

	memset(long_comment, 'c', REQUEST_COMMENT_MAX + 1);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, long_comment, &req),
	    ERR_INVALID_ARG);
	cr_assert_eq(
	    fx_request_deny(&fx_ca, &bob, id, "a\rb", &req), ERR_TEXT_CHAR);
	cr_assert_eq(fx_events(NULL), 1);
	long_comment[REQUEST_COMMENT_MAX] = '\0';
	cr_assert_eq(fx_request_deny(&fx_ca, &bob, id, long_comment, &req), 0);
	cr_assert_str_eq(fx_str(json_object_get(req, "denied"), "who"), "bob");
	json_decref(req);
	free(key);
}

Test(request, ledger_chain_verifies_after_a_session)
{
	char *key = fx_key_line();
	json_t *req = NULL;
	char err[LEDGER_ERR_LEN] = "";
	int64_t count = 0, bad = 0, id;

	fx_cast();
	id = fx_create(&alice, "db-admin", key, NULL);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req), 0);
	json_decref(req);
	cr_assert_eq(fx_request_approve(&fx_ca, &dave, id, NULL, &req), 0);
	json_decref(req);
	id = fx_create(&alice, "prod-debug", key, NULL);
	cr_assert_eq(fx_request_deny(&fx_ca, &carol, id, NULL, &req), 0);
	json_decref(req);
	cr_assert_eq(ledger_verify(fx_l, &count, &bad, err), 0, "%s", err);
	cr_assert_eq(count, 6 + 6);
	free(key);
}

/* ---- the production signer: a real signer process ---- */

Test(request, issues_through_the_signer_process)
{
	struct signer_params sp;
	struct signer *sg = NULL;
	char *kp = tu_fmt("%s/ca_key.pem", fx_dir);
	char *cfgf = tu_fmt("%s/jitca.json", fx_dir), *shorter, *at;
	char *key = fx_key_line(), *certf, *out = NULL;
	json_t *req = NULL;
	const char *line;
	uint64_t now;

	unsetenv("JITCA_TEST_NOW"); /* the signer checks its own clock */
	cr_assert_eq(cakey_save(fx_cakey, kp), 0);
	/* The signer reads its own copy of the roles from jitca.json. */
	tu_write_file(cfgf, fx_config_json, strlen(fx_config_json), 0644);
	memset(&sp, 0, sizeof(sp));
	sp.key_path = kp;
	sp.policy = &signpolicy_ops;
	sp.policy_arg = fx_dir;
	cr_assert_eq(signer_start(&sg, &sp), 0);
	fx_ca.sign = NULL;
	fx_ca.sign_user = signer_sign_user_fn;
	fx_ca.sign_ctx = sg;
	cr_assert(pubkey_equal(signer_public(sg), fx_ca.ca_pub));
	now = ledger_now();
	cr_assert_eq(fx_request_create(&fx_ca, &alice, "staging", NULL, 0, 1800,
			 "via signer", key, &req),
	    0);
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	line = fx_str(req, "certificate");
	certf = tu_fmt("%s/id-cert.pub", fx_dir);
	tu_write_file(certf, line, strlen(line), 0644);
	cr_assert_eq(tu_run((char *[]){"ssh-keygen", "-L", "-f", certf, NULL},
			 NULL, &out, NULL),
	    0);
	cr_assert_not_null(
	    strstr(out, "Key ID: \"alice:staging:req-1:serial-1\""), "%s", out);
	cr_assert_not_null(strstr(out, "Serial: 1"));
	cr_assert_not_null(strstr(out, "permit-port-forwarding"));
	cr_assert_geq(
	    json_integer_value(json_object_get(req, "valid_after")), now - 60);
	json_decref(req);
	/* The signer refuses on its own copy of the role: shorten staging's
	 * max_ttl in the file only it re-reads (RELOAD), while the CA's
	 * copy still allows 8h. */
	shorter = tu_fmt("%s", fx_config_json);
	at = strstr(shorter, "\"max_ttl\": \"8h\"");
	cr_assert_not_null(at);
	memcpy(at, "\"max_ttl\": \"1m\"", strlen("\"max_ttl\": \"1m\""));
	tu_write_file(cfgf, shorter, strlen(shorter), 0644);
	cr_assert_eq(signer_reload(sg), 0);
	cr_assert_eq(fx_request_create(&fx_ca, &alice, "staging", NULL, 0, 1800,
			 "too long for signer", key, &req),
	    ERR_TTL_TOO_LONG);
	cr_assert_null(req);
	cr_assert_eq(fx_int("SELECT count(*) FROM certificates", NULL), 1);
	signer_stop(sg);
	fx_ca.sign_user = NULL;
	free(shorter);
	free(cfgf);
	free(out);
	free(certf);
	free(kp);
	free(key);
}

Test(request, roles_for_each_actor)
{
	json_t *out = NULL, *roles, *r0;

	cr_assert_eq(fx_request_roles(&fx_ca, &alice, &out), 0);
	roles = json_object_get(out, "roles");
	cr_assert_eq(json_array_size(roles), 3);
	/* sorted by name: db-admin, prod-debug, staging */
	r0 = json_array_get(roles, 1);
	cr_assert_str_eq(fx_str(r0, "name"), "prod-debug");
	cr_assert_str_eq(json_string_value(json_array_get(
			     json_object_get(r0, "principals"), 0)),
	    "alice");
	cr_assert_eq(
	    json_integer_value(json_object_get(r0, "default_ttl")), 1800);
	cr_assert_eq(json_integer_value(json_object_get(r0, "max_ttl")), 7200);
	cr_assert_str_eq(
	    fx_str(json_object_get(r0, "critical_options"), "source-address"),
	    "10.0.0.0/8");
	cr_assert(json_is_true(json_object_get(r0, "can_request")));
	cr_assert(json_is_false(json_object_get(r0, "can_approve")));
	json_decref(out);

	cr_assert_eq(fx_request_roles(&fx_ca, &dave, &out), 0);
	roles = json_object_get(out, "roles");
	cr_assert_eq(json_array_size(roles), 1);
	cr_assert_str_eq(fx_str(json_array_get(roles, 0), "name"), "db-admin");
	cr_assert(json_is_true(
	    json_object_get(json_array_get(roles, 0), "can_approve")));
	json_decref(out);

	cr_assert_eq(fx_request_roles(&fx_ca, &eve, &out), 0);
	cr_assert_eq(json_array_size(json_object_get(out, "roles")), 0);
	json_decref(out);

	cr_assert_eq(fx_request_roles(&fx_ca, &root, &out), 0);
	roles = json_object_get(out, "roles");
	cr_assert_eq(json_array_size(roles), 3);
	cr_assert_str_eq(
	    json_string_value(json_array_get(
		json_object_get(json_array_get(roles, 2), "principals"), 0)),
	    "{{user}}");
	json_decref(out);
}

/* Call fn with the nth JSON allocation failing, for n = 1, 2, ... until
 * one call needs fewer: each answer is an error with no output,
 * and ASan sees no double free or leak (a jansson "_new" call takes its
 * argument also when it fails). */
static void
json_torture(const char *what, int (*fn)(json_t **))
{
	json_t *j;
	size_t n;
	int r;

	for (n = 1;; n++) {
		j = (json_t *)1;
		tu_fail_malloc_arm(n);
		json_set_alloc_funcs(tu_fail_malloc, free);
		r = fn(&j);
		json_set_alloc_funcs(malloc, free);
		if (!tu_fail_malloc_failed()) {
			cr_assert_eq(r, 0, "%s: %s", what, err_str(r));
			json_decref(j);
			break;
		}
		/* jansson's json_loads() reports running out of memory as
		 * a parse error, so stored JSON that cannot be read back is
		 * ERR_DB; every other failure is ERR_ALLOC. */
		cr_assert(r == ERR_ALLOC || r == ERR_DB,
		    "%s, allocation %zu failing: %s", what, n, err_str(r));
		cr_assert_null(j, "%s, allocation %zu failing", what, n);
	}
	cr_assert_gt(n, 10, "%s: only %zu allocations", what, n);
}

static int
list_as_root(json_t **out)
{
	return fx_request_list(&fx_ca, &root, &fx_all, out);
}

static int
roles_as_carol(json_t **out)
{
	return fx_request_roles(&fx_ca, &carol, out);
}

static int64_t torture_id;

static int
get_as_root(json_t **out)
{
	return fx_request_get(&fx_ca, &root, torture_id, out);
}

Test(request, read_back_survives_json_allocation_failures)
{
	char *k1 = fx_key_line(), *k2 = fx_key_line(), *k3 = fx_key_line();
	json_t *j = NULL;
	int64_t id1, id2;

	id1 = fx_create(&alice, "db-admin", k1, NULL);
	cr_assert_eq(
	    fx_request_approve(&fx_ca, &bob, id1, "one of two", &j), 0);
	json_decref(j);
	id2 = fx_create(&alice, "prod-debug", k2, NULL);
	cr_assert_eq(fx_request_deny(&fx_ca, &bob, id2, "not now", &j), 0);
	json_decref(j);
	(void)fx_create(&alice, "staging", k3, NULL); /* issued at once */
	torture_id = id1;
	json_torture("request_get", get_as_root);
	json_torture("request_list", list_as_root);
	json_torture("request_roles", roles_as_carol);
	free(k1);
	free(k2);
	free(k3);
}

/* ---- issue 10: policy holes ---- */

/* Item 7: an earlier approval counts only while its approver is an
 * approver of the role now: a disabled approver's approval does not
 * count, nor one by someone whose groups a reload no longer lists. */
Test(request, stale_approvals_not_counted)
{
	static const char moved[] =
	    "{\"roles\": {\"db-admin\": {\"principals\": [\"{{user}}\", \"dba\"], "
	    "\"max_ttl\": \"1h\", \"requesters\": [\"engineering\"], "
	    "\"approvers\": [\"dba-leads\", \"security\"], "
	    "\"approvals_required\": 2}}}";
	struct config *c2 = NULL, *old = fx_cfg;
	struct ca_actor sec2 = {"sec", fx_g_sec, 1};
	char *key = fx_key_line(), err[CONFIG_ERR_LEN];
	json_t *req = NULL;
	int64_t id;
	int r;

	fx_cast();
	/* Disabled after approving: bob no longer counts. */
	id = fx_create(&alice, "db-admin", key, NULL);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req), 0);
	json_decref(req);
	cr_assert_eq(user_disable(fx_l, "local:test", "bob"), 0);
	cr_assert_eq(fx_request_approve(&fx_ca, &dave, id, NULL, &req), 0);
	cr_assert_str_eq(fx_str(req, "state"), "pending");
	cr_assert_eq(json_array_size(json_object_get(req, "approvals")), 2);
	json_decref(req);
	cr_assert_eq(fx_int("SELECT count(*) FROM events WHERE type ="
			    " 'request.approved' AND json_extract(details,"
			    " '$.approvals') = 1 AND json_extract(details,"
			    " '$.not_counted') = '[\"bob\"]'",
			 NULL),
	    1);
	/* A disabled user's own approval is refused outright. */
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req),
	    ERR_USER_DISABLED);
	/* carol (sre-leads) makes two current approvers: issued. */
	cr_assert_eq(fx_request_approve(&fx_ca, &carol, id, NULL, &req), 0);
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	json_decref(req);

	/* A reload moves the approvers to dba-leads and security: carol's
	 * earlier approval (sre-leads) stops counting. */
	id = fx_create(&alice, "db-admin", key, NULL);
	cr_assert_eq(fx_request_approve(&fx_ca, &carol, id, NULL, &req), 0);
	json_decref(req);
	cr_assert_eq(
	    config_parse(&c2, fx_dir, moved, strlen(moved), err), 0, "%s", err);
	fx_ca.cfg = c2;
	cr_assert_eq(fx_request_approve(&fx_ca, &dave, id, NULL, &req), 0);
	cr_assert_str_eq(fx_str(req, "state"), "pending");
	json_decref(req);
	/* sec has no users row: recorded, counted while it acts... */
	r = fx_request_approve(&fx_ca, &sec2, id, NULL, &req);
	cr_assert_eq(r, 0, "%s", err_str(r));
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	json_decref(req);
	fx_ca.cfg = old;
	config_free(c2);
	free(key);
}

/* Item 7: a reload that raises approvals_required applies to waiting
 * requests; one that lowers it does not. */
Test(request, reload_never_loosens_approvals)
{
	static const char three[] =
	    "{\"roles\": {\"db-admin\": {\"principals\": [\"{{user}}\", \"dba\"], "
	    "\"max_ttl\": \"1h\", \"requesters\": [\"engineering\"], "
	    "\"approvers\": [\"sre-leads\", \"dba-leads\"], "
	    "\"approvals_required\": %d}}}";
	struct config *c2 = NULL, *old = fx_cfg;
	char *key = fx_key_line(), err[CONFIG_ERR_LEN], *j;
	json_t *req = NULL;
	int64_t id;
	int r;

	fx_cast();
	id = fx_create(&alice, "db-admin", key, NULL);
	j = tu_fmt(three, 1);
	cr_assert_eq(
	    config_parse(&c2, fx_dir, j, strlen(j), err), 0, "%s", err);
	fx_ca.cfg = c2;
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req), 0);
	cr_assert_str_eq(fx_str(req, "state"), "pending"); /* still 2 */
	json_decref(req);
	config_free(c2);
	free(j);
	j = tu_fmt(three, 3);
	cr_assert_eq(
	    config_parse(&c2, fx_dir, j, strlen(j), err), 0, "%s", err);
	fx_ca.cfg = c2;
	cr_assert_eq(fx_request_approve(&fx_ca, &dave, id, NULL, &req), 0);
	cr_assert_str_eq(fx_str(req, "state"), "pending"); /* now 3 */
	json_decref(req);
	r = fx_request_approve(&fx_ca, &carol, id, NULL, &req);
	cr_assert_eq(r, 0, "%s", err_str(r));
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	json_decref(req);
	fx_ca.cfg = old;
	config_free(c2);
	free(j);
	free(key);
}

/* Item 2: a user whose name is (after a config change) a literal
 * principal cannot get "{{user}}" expanded to it, at creation or at
 * issuance. */
Test(request, user_name_principal_refused_at_issuance)
{
	static const char json[] =
	    "{\"roles\": {\"staging\": {\"principals\": [\"{{user}}\"], "
	    "\"max_ttl\": \"8h\", \"requesters\": [\"engineering\"], "
	    "\"approvals_required\": 0}, \"prod-debug\": {\"principals\": "
	    "[\"{{user}}\", \"alice\"], \"max_ttl\": \"2h\", \"requesters\": "
	    "[\"engineering\"], \"approvers\": [\"sre-leads\"]}}}";
	struct config *c2 = NULL, *old = fx_cfg;
	char *key = fx_key_line(), err[CONFIG_ERR_LEN];
	json_t *req = NULL;
	int64_t id, before;

	id = fx_create(&alice, "prod-debug", key, NULL);
	cr_assert_eq(
	    config_parse(&c2, fx_dir, json, strlen(json), err), 0, "%s", err);
	fx_ca.cfg = c2;
	before = fx_events(NULL);
	cr_assert_eq(fx_request_create(&fx_ca, &alice, "staging", NULL, 0, 0,
			 "INC-1", key, &req),
	    ERR_NAME_IS_PRINCIPAL);
	cr_assert_null(req);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req),
	    ERR_NAME_IS_PRINCIPAL);
	cr_assert_eq(fx_events(NULL), before);
	cr_assert_eq(fx_signs, 0);
	fx_ca.cfg = old;
	config_free(c2);
	free(key);
}

/* Item 12: pages of fx_request_list(), newest first, with a cursor; brief
 * entries have no certificate. */
Test(request, list_pages)
{
	struct request_filter f = {0, 1, 2, 0};
	char *key = fx_key_line();
	int64_t ids[5];
	json_t *page = NULL, *arr;
	size_t i;

	for (i = 0; i < 5; i++)
		ids[i] = fx_create(&alice, "staging", key, NULL);
	cr_assert_eq(fx_request_list(&fx_ca, &alice, &f, &page), 0);
	arr = json_object_get(page, "requests");
	cr_assert_eq(json_array_size(arr), 2);
	cr_assert_eq(fx_id(json_array_get(arr, 0)), ids[4]);
	cr_assert_eq(fx_id(json_array_get(arr, 1)), ids[3]);
	cr_assert_null(json_object_get(json_array_get(arr, 0), "certificate"));
	cr_assert_not_null(json_object_get(json_array_get(arr, 0), "serial"));
	cr_assert_eq(atoll(fx_str(page, "next_cursor")), ids[3]);
	f.before = ids[3];
	json_decref(page);
	cr_assert_eq(fx_request_list(&fx_ca, &alice, &f, &page), 0);
	cr_assert_eq(atoll(fx_str(page, "next_cursor")), ids[1]);
	f.before = ids[1];
	json_decref(page);
	cr_assert_eq(fx_request_list(&fx_ca, &alice, &f, &page), 0);
	arr = json_object_get(page, "requests");
	cr_assert_eq(json_array_size(arr), 1);
	cr_assert_eq(fx_id(json_array_get(arr, 0)), ids[0]);
	cr_assert(json_is_null(json_object_get(page, "next_cursor")));
	json_decref(page);
	/* Not brief: the certificate is there. */
	f.brief = 0;
	f.before = 0;
	cr_assert_eq(fx_request_list(&fx_ca, &alice, &f, &page), 0);
	cr_assert_not_null(json_object_get(
	    json_array_get(json_object_get(page, "requests"), 0),
	    "certificate"));
	json_decref(page);
	/* Bounds. */
	f.limit = 0;
	cr_assert_eq(
	    fx_request_list(&fx_ca, &alice, &f, &page), ERR_INVALID_ARG);
	f.limit = REQUEST_LIST_MAX + 1;
	cr_assert_eq(
	    fx_request_list(&fx_ca, &alice, &f, &page), ERR_INVALID_ARG);
	f.limit = 1;
	f.before = -1;
	cr_assert_eq(
	    fx_request_list(&fx_ca, &alice, &f, &page), ERR_INVALID_ARG);
	cr_assert_null(page);
	free(key);
}

/* Counts from the listing, the way /metrics counted before: the
 * reference for request_counts_get(). */
static void
counts_from_list(struct request_counts *want)
{
	static const struct ca_actor local = {"local:test", NULL, 0};
	const struct request_filter all_f = {0, 1, REQUEST_LIST_MAX, 0};
	const struct request_filter pend_f = {1, 1, REQUEST_LIST_MAX, 0};
	json_t *all = NULL, *pend = NULL, *o;
	const char *st;
	size_t i;

	memset(want, 0, sizeof(*want));
	cr_assert_eq(fx_request_list(&fx_ca, &local, &all_f, &all), 0);
	cr_assert_eq(fx_request_list(&fx_ca, &local, &pend_f, &pend), 0);
	json_array_foreach(json_object_get(all, "requests"), i, o)
	{
		st = json_string_value(json_object_get(o, "state"));
		cr_assert_not_null(st);
		if (strcmp(st, "pending") == 0)
			want->pending++;
		else if (strcmp(st, "issued") == 0)
			want->issued++;
		else if (strcmp(st, "denied") == 0)
			want->denied++;
		else if (strcmp(st, "expired") == 0)
			want->expired++;
		else if (strcmp(st, "revoked") == 0)
			want->revoked++;
		else
			cr_assert_fail("state %s", st);
	}
	json_array_foreach(json_object_get(pend, "requests"), i, o)
	{
		json_int_t need = json_integer_value(
		    json_object_get(o, "approvals_required"));
		size_t got = json_array_size(json_object_get(o, "approvals"));

		if (need > 0 && (size_t)need > got)
			want->approvals_needed += (uint64_t)need - got;
	}
	json_decref(all);
	json_decref(pend);
}

static void
counts_check(void)
{
	struct request_counts got, want;

	counts_from_list(&want);
	cr_assert_eq(request_counts_get(&fx_ca, &got), 0);
	cr_assert_eq(got.pending, want.pending);
	cr_assert_eq(got.issued, want.issued);
	cr_assert_eq(got.denied, want.denied);
	cr_assert_eq(got.expired, want.expired);
	cr_assert_eq(got.revoked, want.revoked);
	cr_assert_eq(got.approvals_needed, want.approvals_needed);
}

/* request_counts_get() (one store operation) agrees with counting the
 * listing, including requests shown expired before the sweep. */
Test(request, counts_agree_with_the_listing)
{
	struct request_counts got;
	char *key = fx_key_line();
	json_t *req = NULL;
	int64_t a, c;

	cr_assert_eq(request_counts_get(NULL, &got), ERR_INVALID_ARG);
	cr_assert_eq(request_counts_get(&fx_ca, NULL), ERR_INVALID_ARG);
	counts_check();
	cr_assert_eq(request_counts_get(&fx_ca, &got), 0);
	cr_assert_eq(got.pending + got.issued + got.denied + got.expired +
		got.revoked + got.approvals_needed,
	    0);
	a = fx_create(&alice, "prod-debug", key, NULL);
	(void)fx_create(&erin, "db-admin", key, NULL);
	counts_check();
	cr_assert_eq(request_counts_get(&fx_ca, &got), 0);
	cr_assert_eq(got.pending, 2);
	cr_assert_gt(got.approvals_needed, 0);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, a, NULL, &req), 0);
	json_decref(req);
	counts_check();
	fx_now_set(FX_T0 + 1800);
	c = fx_create(&alice, "prod-debug", key, NULL);
	cr_assert_eq(fx_request_deny(&fx_ca, &bob, c, "no", &req), 0);
	json_decref(req);
	counts_check();
	/* Past the first two's expiry, before the sweep. */
	fx_now_set(FX_T0 + 3600);
	counts_check();
	cr_assert_eq(request_counts_get(&fx_ca, &got), 0);
	cr_assert_eq(got.denied, 1);
	free(key);
}

/* ---- phase a (signed before the unit) and phase b (checked in it) ---- */

/* request.c's test hook (test builds only). */
extern void (*request_test_presigned)(struct ca *ca, int64_t id);

static char *hook_key;
static const char *hook_user;
static int64_t hook_other;
static int64_t hook_other_serial;
static int64_t hook_events;

/* Between phase a and phase b: revoke hook_key, disable hook_user, or
 * approve request hook_other completely (its unit commits first). */
static void
hook_between(struct ca *ca, int64_t id)
{
	struct revoke_target t = {.by = REVOKE_PUBLIC_KEY};
	json_t *req = NULL;

	(void)id;
	request_test_presigned = NULL; /* once */
	if (hook_key != NULL) {
		t.text = hook_key;
		cr_assert_eq(fx_revoke_apply(ca, &root, &t, "leaked", NULL), 0);
	}
	if (hook_user != NULL)
		cr_assert_eq(
		    user_disable(ca->ledger, "local:test", hook_user), 0);
	if (hook_other != 0) {
		cr_assert_eq(
		    fx_request_approve(ca, &bob, hook_other, NULL, &req), 0);
		hook_other_serial =
		    json_integer_value(json_object_get(req, "serial"));
		json_decref(req);
	}
	hook_events = fx_events(NULL);
}

static void
hook_reset(void)
{
	request_test_presigned = NULL;
	hook_key = NULL;
	hook_user = NULL;
	hook_other = 0;
	hook_other_serial = 0;
}

/* Bob's final approval of id, with hook_between() changing something
 * between phase a and phase b: refused with want, after the one
 * signature of phase a, and nothing of it written (the hook's own
 * change is the last event); the request is still pending and the
 * ledger's state verifies. */
static void
approve_refused_after_presign(int64_t id, int want)
{
	json_t *req = NULL;
	int64_t signs = fx_signs;
	uint64_t nbad = 0;

	request_test_presigned = hook_between;
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req), want);
	cr_assert_null(req);
	cr_assert_null(request_test_presigned, "the hook ran");
	cr_assert_eq(fx_signs, signs + 1);
	cr_assert_eq(fx_events(NULL), hook_events);
	cr_assert_eq(fx_events("cert.issued"), 0);
	cr_assert_eq(fx_events("request.approved"), 0);
	cr_assert_eq(fx_int("SELECT count(*) FROM certificates", NULL), 0);
	cr_assert_eq(fx_int("SELECT count(*) FROM approvals", NULL), 0);
	cr_assert_eq(fx_int("SELECT count(*) FROM requests WHERE state ="
			    " 'pending'",
			 NULL),
	    1);
	cr_assert_eq(ledger_verify_state(fx_l, NULL, NULL, &nbad), 0);
	cr_assert_eq(nbad, 0);
}

Test(request, key_revoked_after_presign_issues_nothing)
{
	char *key = fx_key_line();

	hook_reset();
	hook_key = key;
	approve_refused_after_presign(
	    fx_create(&erin, "prod-debug", key, NULL), ERR_POLICY);
	hook_reset();
	free(key);
}

Test(request, user_disabled_after_presign_issues_nothing)
{
	char *key = fx_key_line();

	hook_reset();
	fx_user("alice", "engineering", 0);
	hook_user = "alice";
	approve_refused_after_presign(
	    fx_create(&alice, "prod-debug", key, NULL), ERR_USER_DISABLED);
	hook_reset();
	free(key);
}

/* A approves (serial reserved first), B's whole approval commits in
 * between (a later serial, an earlier event): commit order differs from
 * serial order, and the ledger verifies. */
Test(request, units_commit_out_of_serial_order)
{
	char *k1 = fx_key_line(), *k2 = fx_key_line();
	json_t *req = NULL;
	int64_t a, b, sa, seq_a, seq_b;
	uint64_t nbad = 0;
	char *ta, *tb;

	hook_reset();
	a = fx_create(&erin, "prod-debug", k1, NULL);
	b = fx_create(&erin, "prod-debug", k2, NULL);
	hook_other = b;
	request_test_presigned = hook_between;
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, a, NULL, &req), 0);
	sa = json_integer_value(json_object_get(req, "serial"));
	json_decref(req);
	cr_assert_gt(sa, 0);
	cr_assert_gt(hook_other_serial, sa);
	ta = tu_fmt("cert:%lld", (long long)sa);
	tb = tu_fmt("cert:%lld", (long long)hook_other_serial);
	seq_a = fx_int("SELECT seq FROM events WHERE type = 'cert.issued'"
		       " AND subject = ?",
	    ta);
	seq_b = fx_int("SELECT seq FROM events WHERE type = 'cert.issued'"
		       " AND subject = ?",
	    tb);
	free(ta);
	free(tb);
	cr_assert_gt(seq_a, seq_b);
	cr_assert_eq(ledger_verify_state(fx_l, NULL, NULL, &nbad), 0);
	cr_assert_eq(nbad, 0);
	hook_reset();
	free(k1);
	free(k2);
}

/* Serials reserved ahead: a reopen skips the rest of the block (a gap),
 * never hands one out again, and the ledger with the gap verifies. */
Test(request, reserved_serials_never_reused_after_reopen)
{
	char *key = fx_key_line();
	json_t *req = NULL;
	uint64_t s1 = 0, s2 = 0, s3 = 0, nbad = 0;
	int64_t id, s;

	cr_assert_eq(ledger_serial_reserve(fx_l, &s1), 0);
	cr_assert_eq(ledger_serial_reserve(fx_l, &s2), 0);
	cr_assert_eq(s1, 1);
	cr_assert_eq(s2, 2);
	/* The second block (2..3) is durable before 2 is handed out. */
	cr_assert_eq(
	    fx_int("SELECT value FROM meta WHERE key = 'last_serial'", NULL),
	    3);
	ledger_close(fx_l);
	fx_l = NULL;
	cr_assert_eq(ledger_open(&fx_l, fx_db, 0), 0);
	fx_ca.ledger = fx_l;
	cr_assert_eq(ledger_serial_reserve(fx_l, &s3), 0);
	cr_assert_eq(s3, 4, "3 is a gap, never handed out");
	id = fx_create(&erin, "prod-debug", key, NULL);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, id, NULL, &req), 0);
	s = json_integer_value(json_object_get(req, "serial"));
	json_decref(req);
	cr_assert_gt(s, 4);
	cr_assert_eq(ledger_verify_state(fx_l, NULL, NULL, &nbad), 0);
	cr_assert_eq(nbad, 0);
	free(key);
}

/* ---- the creation of a request issued at once, signed ahead ---- */

/* The key is revoked between phase a and the unit: ERR_POLICY, and
 * neither the request nor its certificate exist; its id and serial are
 * gaps. */
Test(request, create_key_revoked_after_presign_writes_nothing)
{
	char *key = fx_key_line(), *k2 = fx_key_line();
	json_t *req = NULL;
	int64_t signs;
	uint64_t nbad = 0;

	hook_reset();
	hook_key = key;
	request_test_presigned = hook_between;
	cr_assert_eq(fx_request_create(
			 &fx_ca, &alice, "staging", NULL, 0, 0, "r", key, &req),
	    ERR_POLICY);
	cr_assert_null(req);
	cr_assert_null(request_test_presigned, "the hook ran");
	cr_assert_eq(fx_signs, 1, "signed in phase a");
	cr_assert_eq(fx_events(NULL), hook_events);
	cr_assert_eq(fx_events("request.created"), 0);
	cr_assert_eq(fx_int("SELECT count(*) FROM requests", NULL), 0);
	cr_assert_eq(fx_int("SELECT count(*) FROM certificates", NULL), 0);
	/* The next request: the next id and serial, both after the gap. */
	signs = fx_signs;
	cr_assert_eq(fx_request_create(
			 &fx_ca, &alice, "staging", NULL, 0, 0, "r", k2, &req),
	    0);
	cr_assert_eq(fx_signs, signs + 1, "one signature, ahead");
	cr_assert_eq(json_integer_value(json_object_get(req, "id")), 2);
	cr_assert_eq(json_integer_value(json_object_get(req, "serial")), 2);
	cr_assert_str_eq(fx_str(req, "key_id"), "alice:staging:req-2:serial-2");
	json_decref(req);
	cr_assert_eq(ledger_verify_state(fx_l, NULL, NULL, &nbad), 0);
	cr_assert_eq(nbad, 0);
	hook_reset();
	free(key);
	free(k2);
}

/* Another process on the same file takes the reserved request id first
 * (an admin command): the request gets the next free id, and the
 * certificate signed ahead for the old one is not used; the one issued
 * names the request it belongs to. */
static void
hook_other_process_takes_the_id(struct ca *ca, int64_t id)
{
	struct store_request_new nr = {"bob", "staging", "[\"bob\"]", 60, "x",
	    "ssh-ed25519 AAAA", "SHA256:x", 1, 1000, 0, 0};
	struct ledger *l2 = NULL;
	int64_t got = 0;

	(void)ca;
	request_test_presigned = NULL;
	hook_other = id;
	cr_assert_eq(ledger_open(&l2, fx_db, 0), 0);
	cr_assert_eq(ledger_begin(l2), 0);
	cr_assert_eq(store_request_insert(ledger_store(l2), &nr, &got), 0);
	cr_assert_eq(ledger_commit(l2), 0);
	cr_assert_eq(got, id, "the other process took the reserved id");
	ledger_close(l2);
}

Test(request, create_reserved_id_taken_by_another_process)
{
	char *key = fx_key_line();
	json_t *req = NULL;
	int64_t id;

	hook_reset();
	request_test_presigned = hook_other_process_takes_the_id;
	cr_assert_eq(fx_request_create(
			 &fx_ca, &alice, "staging", NULL, 0, 0, "r", key, &req),
	    0);
	cr_assert_null(request_test_presigned, "the hook ran");
	cr_assert_eq(hook_other, 1);
	id = json_integer_value(json_object_get(req, "id"));
	cr_assert_eq(id, 2);
	cr_assert_eq(fx_signs, 2, "signed ahead for id 1, again for id 2");
	cr_assert_str_eq(fx_str(req, "key_id"), "alice:staging:req-2:serial-2");
	cr_assert_eq(fx_int("SELECT count(*) FROM certificates WHERE"
			    " request_id = 2 AND serial = 2",
			 NULL),
	    1);
	json_decref(req);
	/* The handle's next reservation is past both. */
	cr_assert_eq(fx_request_create(
			 &fx_ca, &alice, "staging", NULL, 0, 0, "r", key, &req),
	    0);
	cr_assert_eq(json_integer_value(json_object_get(req, "id")), 3);
	json_decref(req);
	hook_reset();
	free(key);
}

/*
 * What create answers is built from what its unit wrote, not read back
 * (created_view()): it must be exactly what a read of the committed
 * request gives, pending, issued at once, or issued directly.
 */
static void
create_answer_is_the_committed_request(int r, json_t *made)
{
	json_t *got = NULL;
	char *a, *b;

	cr_assert_eq(r, 0);
	cr_assert_eq(fx_request_get(&fx_ca, &root, fx_id(made), &got), 0);
	a = json_dumps(made, JSON_SORT_KEYS | JSON_COMPACT);
	b = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	json_decref(made);
	json_decref(got);
}

Test(request, create_answers_exactly_what_was_committed)
{
	char *key = fx_key_line();
	char *p[] = {"alice"};
	json_t *req = NULL;
	int r;

	fx_user("alice", "engineering", 0);
	r = fx_request_create(
	    &fx_ca, &alice, "prod-debug", NULL, 0, 0, "INC-1", key, &req);
	cr_assert_str_eq(fx_str(req, "state"), "pending");
	create_answer_is_the_committed_request(r, req);
	r = fx_request_create(
	    &fx_ca, &alice, "staging", p, 1, 3600, "deploy", key, &req);
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	cr_assert_not_null(json_object_get(req, "certificate"));
	create_answer_is_the_committed_request(r, req);
	r = fx_request_issue_direct(&fx_ca, &root, "alice", "prod-debug", NULL,
	    0, 0, "direct", key, &req);
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	create_answer_is_the_committed_request(r, req);
	free(key);
}

/* The request digest is SHA-256 over the lines docs/http-api.md lists,
 * computed here from them with openssl's one-shot SHA256(). */
Test(request, digest_is_the_documented_sha256)
{
	char *key = fx_key_line();
	json_t *req = NULL;
	unsigned char h[32];
	char *text, want[7 + 64 + 1];
	int i;

	cr_assert_eq(fx_request_create(&fx_ca, &alice, "prod-debug", NULL, 0, 0,
			 "INC-1", key, &req),
	    0);
	text = tu_fmt("jitca-request-v1\nkey %s\nprincipals "
		      "[\"alice\",\"debug\"]\nttl 1800\ncritical "
		      "source-address=10.0.0.0/8\nextension permit-pty\n",
	    fx_str(req, "key_fingerprint"));
	SHA256((const unsigned char *)text, strlen(text), h);
	memcpy(want, "sha256:", 7);
	for (i = 0; i < 32; i++)
		snprintf(want + 7 + 2 * i, 3, "%02x", h[i]);
	cr_assert_str_eq(fx_str(req, "digest"), want);
	free(text);
	json_decref(req);
	free(key);
}
