/*
 * test_report.c: report_build() (ca/report.h) over a real ledger made
 * through the domain (ca_fixture.h): an approved request, a direct one,
 * a revoked one, a denied one, reported logins (known and not); each
 * grant holds exactly its request's fields, approvals, revocation and
 * logins; the filters select by role, requester and window.  Also the
 * --since/--until grammar (report_when_parse) and the ISO-8601 times.
 */
#include <criterion/criterion.h>

#include "ca/report.h"
#include "ca/sessions.h"
#include "tests/unit/ca/ca_fixture.h"

TestSuite(report, .init = fx_setup, .fini = fx_teardown);

static int64_t
issue_approved(const struct ca_actor *a, char **key_fp, int64_t *serial)
{
	json_t *req = NULL;
	char *key = fx_key_line();
	struct pubkey *k = NULL;
	int64_t id = fx_create(a, "prod-debug", key, NULL);

	cr_assert_eq(
	    fx_request_approve(&fx_ca, &bob, id, "ok, INC-4312", &req), 0);
	*serial = json_integer_value(json_object_get(req, "serial"));
	cr_assert_eq(pubkey_from_line(&k, key, strlen(key)), 0);
	*key_fp = tu_keep(calloc(1, PUBKEY_FP_LEN));
	cr_assert_eq(pubkey_fingerprint(*key_fp, k), 0);
	pubkey_free(k);
	json_decref(req);
	free(key);
	return id;
}

/* Report l (and l2 after it in the same batch, when not NULL). */
static void
report_lines(const char *l, const char *l2, const char *at)
{
	struct session_entry e[2] = {
	    {l, strlen(l), at, (int64_t)FX_T0 + 100},
	    {l2, l2 ? strlen(l2) : 0, tu_keep(tu_fmt("%s+", at)),
		(int64_t)FX_T0 + 100},
	};
	enum session_outcome oc[2];
	int code[2];
	struct session_result res;

	cr_assert_eq(session_record(&fx_ca, "web-1", "web-1", e, l2 ? 2 : 1, oc,
			 code, &res),
	    0);
}

static char *
accepted(const char *verb, const char *fp, const char *id, int64_t serial)
{
	char ca_fp[PUBKEY_FP_LEN];

	cr_assert_eq(pubkey_fingerprint(ca_fp, fx_ca.ca_pub), 0);
	return tu_keep(tu_fmt("%s publickey for root from 10.1.2.3 port 5 "
			      "ssh2: ED25519-CERT %s ID %s (serial %lld) CA "
			      "ED25519 %s",
	    verb, fp, id, (long long)serial, ca_fp));
}

Test(report, grants_from_the_events)
{
	struct report *rep = NULL;
	struct report_filter all = {NULL, NULL, 0, 0};
	struct report_filter f;
	struct report_grant *g;
	char *fp1, *fp3, *key = fx_key_line();
	int64_t s1, s3, id1, id3, denied;
	json_t *j = NULL;
	struct revoke_target t = {.by = REVOKE_SERIAL};

	fx_cast();
	id1 = issue_approved(&alice, &fp1, &s1);
	/* Direct (staging needs no approval). */
	fx_create(&alice, "staging", key, NULL);
	id3 = issue_approved(&erin, &fp3, &s3);
	t.serial = (uint64_t)s3;
	cr_assert_eq(fx_revoke_apply(&fx_ca, &root, &t, "laptop lost", &j), 0);
	json_decref(j);
	denied = fx_create(&erin, "prod-debug", key, NULL);
	cr_assert_eq(fx_request_deny(&fx_ca, &bob, denied, "no", &j), 0);
	json_decref(j);
	report_lines(accepted("Accepted", fp1,
			 tu_keep(tu_fmt("alice:prod-debug:req-%lld:serial-%lld",
			     (long long)id1, (long long)s1)),
			 s1),
	    NULL, "1:0");
	/* A revocation of another key, then the pair of erin's refusal. */
	report_lines("Authentication key ED25519-CERT x revoked by file /k",
	    NULL, "1:1");
	report_lines(tu_keep(tu_fmt("Authentication key ED25519-CERT %s "
				    "revoked by file /etc/ssh/krl",
			 fp3)),
	    accepted("Failed", fp3,
		tu_keep(tu_fmt("erin:prod-debug:req-%lld:serial-%lld",
		    (long long)id3, (long long)s3)),
		s3),
	    "1:2");
	report_lines(accepted("Accepted", fp1, "ghost:x:req-1:serial-77", 77),
	    NULL, "1:4");

	cr_assert_eq(report_build(fx_l, &all, &rep), 0);
	cr_assert_eq(rep->ngrants, 3);
	/* Grant 1: alice's approved request with bob's comment. */
	g = &rep->grants[0];
	cr_assert_eq(g->request, id1);
	cr_assert_eq(g->serial, (uint64_t)s1);
	cr_assert_str_eq(g->requester, "alice");
	cr_assert_str_eq(g->role, "prod-debug");
	cr_assert_str_eq(g->reason, "INC-4312 stuck queue");
	cr_assert_eq(g->nprincipals, 2);
	cr_assert_str_eq(g->principals[0], "alice");
	cr_assert_str_eq(g->principals[1], "debug");
	cr_assert_eq(g->napprovals, 1);
	cr_assert_str_eq(g->approvals[0].who, "bob");
	cr_assert_str_eq(g->approvals[0].comment, "ok, INC-4312");
	cr_assert_eq(g->approvals[0].time, (int64_t)FX_T0);
	cr_assert_eq(g->issued, (int64_t)FX_T0);
	cr_assert_eq(g->valid_before, (int64_t)FX_T0 + 1800);
	cr_assert_eq(g->direct, 0);
	cr_assert_eq(g->revoked, 0);
	cr_assert_eq(g->nlogins, 1);
	cr_assert_str_eq(g->logins[0].host, "web-1");
	cr_assert_str_eq(g->logins[0].account, "root");
	cr_assert_str_eq(g->logins[0].source, "10.1.2.3");
	cr_assert_eq(g->logins[0].time, (int64_t)FX_T0 + 100);
	cr_assert_eq(g->nrefused, 0);
	/* Grant 2: staging, no approvals. */
	g = &rep->grants[1];
	cr_assert_str_eq(g->role, "staging");
	cr_assert_eq(g->napprovals, 0);
	cr_assert_eq(g->nlogins + g->nrefused, 0);
	/* Grant 3: erin's, revoked by root; refused as revoked. */
	g = &rep->grants[2];
	cr_assert_str_eq(g->requester, "erin");
	cr_assert_eq(g->revoked, 1);
	cr_assert_str_eq(g->revoked_by, "local:root");
	cr_assert_str_eq(g->revoked_reason, "laptop lost");
	cr_assert_eq(g->nlogins, 0);
	cr_assert_eq(g->nrefused, 1);
	cr_assert_str_eq(g->refused[0].reason, "revoked");
	/* The serial nobody issued. */
	cr_assert_eq(rep->nunknown, 1);
	cr_assert_eq(rep->unknown[0].serial, 77);
	cr_assert_str_eq(rep->unknown[0].unknown, "not_issued");
	report_free(rep);

	/* Filters. */
	f = all;
	f.role = "staging";
	cr_assert_eq(report_build(fx_l, &f, &rep), 0);
	cr_assert_eq(rep->ngrants, 1);
	report_free(rep);
	f = all;
	f.user = "erin";
	cr_assert_eq(report_build(fx_l, &f, &rep), 0);
	cr_assert_eq(rep->ngrants, 1);
	cr_assert_eq(rep->grants[0].serial, (uint64_t)s3);
	report_free(rep);
	/* A window after the revocation: erin's grant ended then. */
	f = all;
	f.since = (int64_t)FX_T0 + 1;
	cr_assert_eq(report_build(fx_l, &f, &rep), 0);
	cr_assert_eq(rep->ngrants, 2);
	cr_assert_eq(rep->nunknown, 1);
	report_free(rep);
	/* After every grant ended, and before any began. */
	f.since = (int64_t)FX_T0 + 86400;
	cr_assert_eq(report_build(fx_l, &f, &rep), 0);
	cr_assert_eq(rep->ngrants, 0);
	cr_assert_eq(rep->nunknown, 0);
	report_free(rep);
	f = all;
	f.until = (int64_t)FX_T0;
	cr_assert_eq(report_build(fx_l, &f, &rep), 0);
	cr_assert_eq(rep->ngrants, 0);
	report_free(rep);
	free(key);
}

Test(report, when_grammar)
{
	int64_t t;
	static const char *const bad[] = {"", "yesterday", "-7d", "0d", "7",
	    "2026-02-30", "2026-13-01", "2026-11-24 09:00",
	    "2026-11-24T09:00:00", "2026-11-24T09:00:00+1:00",
	    "2026-11-24T25:00Z", "1969-12-31", "2026-11-24T09:00:00Zx",
	    "+2026-11-24", "2026-1-24"};
	size_t i;

	cr_assert_eq(report_when_parse("7d", 1000000, &t), 0);
	cr_assert_eq(t, 1000000 - 604800);
	cr_assert_eq(report_when_parse("90m", 1000000, &t), 0);
	cr_assert_eq(t, 1000000 - 5400);
	cr_assert_eq(report_when_parse("2026-11-24", 0, &t), 0);
	cr_assert_eq(t, 1795478400);
	cr_assert_eq(report_when_parse("2026-11-24T09:00:00Z", 0, &t), 0);
	cr_assert_eq(t, 1795510800);
	cr_assert_eq(report_when_parse("2026-11-24T09:00Z", 0, &t), 0);
	cr_assert_eq(t, 1795510800);
	cr_assert_eq(report_when_parse("2026-11-24T10:30:00+01:30", 0, &t), 0);
	cr_assert_eq(t, 1795510800);
	cr_assert_eq(report_when_parse("2026-11-24T08:00:00-01:00", 0, &t), 0);
	cr_assert_eq(t, 1795510800);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(report_when_parse(bad[i], 1000000, &t),
		    ERR_INVALID_ARG, "%s", bad[i]);
	/* A duration longer than the time since the epoch. */
	cr_assert_eq(report_when_parse("7d", 1000, &t), ERR_INVALID_ARG);
}

Test(report, iso_times)
{
	char buf[REPORT_TIME_LEN];

	report_time_format(buf, 1800000000);
	cr_assert_str_eq(buf, "2027-01-15T08:00:00Z");
	report_time_format(buf, 0);
	cr_assert_str_eq(buf, "1970-01-01T00:00:00Z");
}

Test(report, export_since_a_time)
{
	int64_t seq;

	fx_cast(); /* 6 events at FX_T0 */
	fx_now_set(FX_T0 + 3600);
	fx_user("erin", "engineering", 0);
	cr_assert_eq(report_seq_before(fx_l, (int64_t)FX_T0 + 1, &seq), 0);
	cr_assert_eq(seq, 6);
	cr_assert_eq(report_seq_before(fx_l, (int64_t)FX_T0, &seq), 0);
	cr_assert_eq(seq, 0);
	cr_assert_eq(report_seq_before(fx_l, (int64_t)FX_T0 + 7200, &seq), 0);
	cr_assert_eq(seq, fx_events(NULL));
}
