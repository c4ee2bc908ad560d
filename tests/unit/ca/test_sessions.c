/*
 * test_sessions.c: session_record() and session_host_allowed()
 * (ca/sessions.h) over a real sqlite ledger (ca_fixture.h): lines for a
 * certificate the CA issued are known and tied to the request; other
 * CAs, serials never issued and key ids that differ are flagged, each
 * with its word; a reason line goes with the Failed line after it (a
 * revocation only with the same key); the same host, "at" and line a
 * second time is a duplicate; bad lines are refused one by one; bad
 * arguments write nothing.  ca/report.c reads these events
 * (test_report.c).
 */
#include <criterion/criterion.h>

#include "ca/logins.h"
#include "ca/sessions.h"
#include "tests/unit/ca/ca_fixture.h"

TestSuite(sessions, .init = fx_setup, .fini = fx_teardown);

/* Certificate of request 1 (staging, issued at once) and the lines a
 * host's sshd would write for it. */
struct fixture {
	int64_t id, serial;
	char key_id[128], key_fp[PUBKEY_FP_LEN], ca_fp[PUBKEY_FP_LEN];
};

static void
issue(struct fixture *f)
{
	json_t *req = NULL;
	char *key = fx_key_line();
	struct pubkey *k = NULL;

	f->id = fx_create(&alice, "staging", key, &req);
	f->serial = json_integer_value(json_object_get(req, "serial"));
	snprintf(f->key_id, sizeof(f->key_id), "%s", fx_str(req, "key_id"));
	cr_assert_eq(pubkey_from_line(&k, key, strlen(key)), 0);
	cr_assert_eq(pubkey_fingerprint(f->key_fp, k), 0);
	cr_assert_eq(pubkey_fingerprint(f->ca_fp, fx_ca.ca_pub), 0);
	pubkey_free(k);
	json_decref(req);
	free(key);
}

static char *
line(const char *verb, const char *key_fp, const char *key_id, long long serial,
    const char *ca_fp)
{
	return tu_keep(tu_fmt("%s publickey for root from 10.1.2.3 port 51234 "
			      "ssh2: ED25519-CERT %s ID %s (serial %lld) CA "
			      "ED25519 %s",
	    verb, key_fp, key_id, serial, ca_fp));
}

static struct session_entry
entry(const char *l, const char *at)
{
	struct session_entry e = {l, strlen(l), at, 1800000100};

	return e;
}

/* The details of the last event of type, parsed (new). */
static json_t *
last_details(const char *type)
{
	char *q = tu_fmt("SELECT seq FROM events WHERE type = '%s' ORDER BY "
			 "seq DESC LIMIT 1",
	    type);
	int64_t seq = fx_int(q, NULL);
	json_t *ev = NULL, *d;

	free(q);
	cr_assert_eq(ledger_events_json(fx_l, seq - 1, 1, &ev), 0);
	d = json_incref(json_object_get(json_array_get(ev, 0), "details"));
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(ev, 0), "actor")),
	    "web-1");
	json_decref(ev);
	return d;
}

Test(sessions, known_login_is_tied_to_its_request)
{
	struct fixture f;
	struct session_entry e[1];
	enum session_outcome oc[1];
	int code[1];
	struct session_result res;
	json_t *d;

	issue(&f);
	e[0] = entry(
	    line("Accepted", f.key_fp, f.key_id, f.serial, f.ca_fp), "42:0");
	cr_assert_eq(
	    session_record(&fx_ca, "web-1", "web-1", e, 1, oc, code, &res), 0);
	cr_assert_eq(res.added, 1);
	cr_assert_eq(oc[0], SESSION_ADDED);
	d = last_details("session.login");
	cr_assert(json_is_true(json_object_get(d, "known")));
	cr_assert_eq(json_integer_value(json_object_get(d, "request")), f.id);
	cr_assert_eq(
	    json_integer_value(json_object_get(d, "serial")), f.serial);
	cr_assert_str_eq(fx_str(d, "host"), "web-1");
	cr_assert_str_eq(fx_str(d, "account"), "root");
	cr_assert_str_eq(fx_str(d, "source"), "10.1.2.3");
	cr_assert_str_eq(fx_str(d, "user"), "alice");
	cr_assert_str_eq(fx_str(d, "role"), "staging");
	cr_assert_str_eq(fx_str(d, "at"), "42:0");
	cr_assert_eq(
	    json_integer_value(json_object_get(d, "time")), 1800000100);
	cr_assert_null(json_object_get(d, "unknown"));
	json_decref(d);

	/* The same line at the same place again: a duplicate; at another
	 * place (a later login with identical words): a new login. */
	cr_assert_eq(
	    session_record(&fx_ca, "web-1", "web-1", e, 1, oc, code, &res), 0);
	cr_assert_eq(res.added, 0);
	cr_assert_eq(res.duplicates, 1);
	cr_assert_eq(oc[0], SESSION_DUPLICATE);
	e[0].at = "42:900";
	cr_assert_eq(
	    session_record(&fx_ca, "web-1", "web-1", e, 1, oc, code, &res), 0);
	cr_assert_eq(res.added, 1);
	/* Another host with the same line is another login. */
	e[0].at = "42:0";
	cr_assert_eq(
	    session_record(&fx_ca, "web-2", "web-2", e, 1, oc, code, &res), 0);
	cr_assert_eq(res.added, 1);
	cr_assert_eq(fx_events("session.login"), 3);
}

Test(sessions, unknown_certificates_are_flagged)
{
	struct fixture f;
	struct session_entry e[3];
	enum session_outcome oc[3];
	int code[3];
	struct session_result res;
	const char *other =
	    "SHA256:nOFyPpH/hpYGNrq67sdBwJYpPH1VCKTQmeV7748zF+Q";
	json_t *ev = NULL, *v;
	size_t i;
	static const char *const want[] = {
	    "other_ca", "not_issued", "key_id_mismatch"};

	issue(&f);
	e[0] =
	    entry(line("Accepted", f.key_fp, f.key_id, f.serial, other), "1:0");
	e[1] = entry(line("Accepted", f.key_fp,
			 "mallory:staging:req-9:serial-99", 99, f.ca_fp),
	    "1:1");
	e[2] = entry(line("Accepted", f.key_fp, "bob:staging:req-1:serial-1",
			 f.serial, f.ca_fp),
	    "1:2");
	cr_assert_eq(
	    session_record(&fx_ca, "web-1", "web-1", e, 3, oc, code, &res), 0);
	cr_assert_eq(res.added, 3);
	cr_assert_eq(ledger_events_json(fx_l, 0, 100, &ev), 0);
	i = 0;
	{
		size_t k;

		json_array_foreach(ev, k, v)
		{
			json_t *d = json_object_get(v, "details");

			if (strcmp(fx_str(v, "type"), "session.login") != 0)
				continue;
			cr_assert(json_is_false(json_object_get(d, "known")));
			cr_assert(json_is_null(json_object_get(d, "request")));
			cr_assert_str_eq(fx_str(d, "unknown"), want[i]);
			i++;
		}
	}
	cr_assert_eq(i, 3);
	json_decref(ev);
}

Test(sessions, reasons_pair_with_the_next_failed_line)
{
	struct fixture f;
	struct session_entry e[7];
	enum session_outcome oc[7];
	int code[7];
	struct session_result res;
	char *revoked_other, *fail;
	json_t *ev = NULL, *v;
	size_t i, k = 0;
	static const char *const want[] = {
	    "expired", "revoked", "unknown", "unknown"};

	issue(&f);
	fail = line("Failed", f.key_fp, f.key_id, f.serial, f.ca_fp);
	revoked_other = tu_keep(tu_fmt("Authentication key ED25519-CERT "
				       "SHA256:%043d revoked by file /k",
	    0));
	e[0] = entry("Certificate invalid: expired", "a:0");
	e[1] = entry(fail, "a:1");
	e[2] = entry(tu_keep(tu_fmt("error: Authentication key ED25519-CERT "
				    "%s revoked by file /etc/ssh/krl",
			 f.key_fp)),
	    "a:2");
	e[3] = entry(fail, "a:3");
	/* A revocation of another key explains nothing. */
	e[4] = entry(revoked_other, "a:4");
	e[5] = entry(fail, "a:5");
	/* No reason before it. */
	e[6] = entry(fail, "a:6");
	cr_assert_eq(
	    session_record(&fx_ca, "web-1", "web-1", e, 7, oc, code, &res), 0);
	cr_assert_eq(res.added, 4);
	cr_assert_eq(oc[0], SESSION_REASON);
	cr_assert_eq(oc[4], SESSION_REASON);
	cr_assert_eq(ledger_events_json(fx_l, 0, 100, &ev), 0);
	json_array_foreach(ev, i, v)
	{
		if (strcmp(fx_str(v, "type"), "session.refused") != 0)
			continue;
		cr_assert_str_eq(
		    fx_str(json_object_get(v, "details"), "reason"), want[k]);
		k++;
	}
	cr_assert_eq(k, 4);
	json_decref(ev);
}

Test(sessions, bad_lines_are_refused_one_by_one)
{
	struct fixture f;
	struct session_entry e[4];
	enum session_outcome oc[4];
	int code[4];
	struct session_result res;
	char big[LOGIN_LINE_MAX + 10];

	issue(&f);
	memset(big, 'x', sizeof(big));
	e[0] = entry("Accepted publickey for ro\x01ot from", "b:0");
	e[1] = entry("Connection from 10.0.0.1 port 22", "b:1");
	e[2] = entry(
	    line("Accepted", f.key_fp, f.key_id, f.serial, f.ca_fp), "b:2");
	e[3] = entry("", "b:3");
	e[3].line = big;
	e[3].len = sizeof(big);
	cr_assert_eq(
	    session_record(&fx_ca, "web-1", "web-1", e, 4, oc, code, &res), 0);
	cr_assert_eq(res.added, 1);
	cr_assert_eq(res.refused, 2);
	cr_assert_eq(res.ignored, 1);
	cr_assert_eq(oc[0], SESSION_REFUSED);
	cr_assert_eq(code[0], ERR_LOGIN_CHAR);
	cr_assert_eq(oc[1], SESSION_IGNORED);
	cr_assert_eq(oc[2], SESSION_ADDED);
	cr_assert_eq(code[3], ERR_LOGIN_TOO_LONG);
}

Test(sessions, bad_arguments_write_nothing)
{
	struct fixture f;
	struct session_entry e[1];
	enum session_outcome oc[1];
	int code[1];
	struct session_result res;
	int64_t before;
	char at[SESSION_AT_MAX + 2];

	issue(&f);
	before = fx_events(NULL);
	e[0] = entry(
	    line("Accepted", f.key_fp, f.key_id, f.serial, f.ca_fp), "c:0");
	cr_assert_eq(
	    session_record(&fx_ca, "web-1", "web 1", e, 1, oc, code, &res),
	    ERR_INVALID_ARG);
	cr_assert_eq(session_record(&fx_ca, "web-1", "", e, 1, oc, code, &res),
	    ERR_INVALID_ARG);
	memset(at, 'a', sizeof(at) - 1);
	at[sizeof(at) - 1] = '\0';
	e[0].at = at;
	cr_assert_eq(
	    session_record(&fx_ca, "web-1", "web-1", e, 1, oc, code, &res),
	    ERR_INVALID_ARG);
	e[0].at = "c 0";
	cr_assert_eq(
	    session_record(&fx_ca, "web-1", "web-1", e, 1, oc, code, &res),
	    ERR_INVALID_ARG);
	e[0].at = "c:0";
	e[0].time = -1;
	cr_assert_eq(
	    session_record(&fx_ca, "web-1", "web-1", e, 1, oc, code, &res),
	    ERR_INVALID_ARG);
	cr_assert_eq(session_record(&fx_ca, "web-1", "web-1", e,
			 SESSION_BATCH_MAX + 1, oc, code, &res),
	    ERR_INVALID_ARG);
	cr_assert_eq(fx_events(NULL), before);
}

Test(sessions, only_members_of_hosts_groups_for_their_own_host)
{
	char *hg[] = {"hosts"};
	char *g_hosts[] = {"hosts"};
	const struct ca_actor web1 = {"web-1", g_hosts, 1};
	char **saved = fx_cfg->host_groups;

	/* No "hosts" in the config: nobody. */
	cr_assert_eq(
	    session_host_allowed(&fx_ca, &web1, "web-1"), ERR_FORBIDDEN);
	fx_cfg->host_groups = hg;
	fx_cfg->nhost_groups = 1;
	cr_assert_eq(session_host_allowed(&fx_ca, &web1, "web-1"), 0);
	cr_assert_eq(
	    session_host_allowed(&fx_ca, &web1, "web-2"), ERR_LOGIN_HOST);
	cr_assert_eq(session_host_allowed(&fx_ca, &web1, NULL), ERR_LOGIN_HOST);
	cr_assert_eq(
	    session_host_allowed(&fx_ca, &alice, "alice"), ERR_FORBIDDEN);
	cr_assert_eq(session_host_allowed(&fx_ca, &sec, "sec"), ERR_FORBIDDEN);
	fx_cfg->host_groups = saved;
	fx_cfg->nhost_groups = 0;
}
