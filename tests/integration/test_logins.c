/*
 * test_logins.c: access reviews end to end.  A real `jitcad serve`, a
 * real sshd (tests/lib/sshd.h, LogLevel VERBOSE, its log in a file) that
 * trusts the CA and its KRL, and the real ssh client logging in with
 * jitca certificates: one approved through the API (bob approves
 * alice's request) used from files and through an ssh-agent, one issued
 * in the past so that it has expired, one revoked (`jitcad revoke`, the
 * KRL installed on the host).  scripts/login-report --once --log posts
 * sshd's lines; `jitcad ledger report --format json` must list exactly
 * those logins under the right grants; replaying the same lines adds
 * nothing; a host token cannot report for another host; hostile lines
 * are refused without harm.
 *
 * Uses tests/lib/testutil.h, proc.h and sshd.h; curl and ssh-agent,
 * ssh-add, ssh-keygen from the system.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/lib/proc.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

static char *dir, *state, *url;
static pid_t serve_pid = -1, agent_pid = -1;
static struct test_sshd *sshd;

static void
teardown(void)
{
	sshd_stop(sshd);
	sshd = NULL;
	tu_stop(&agent_pid);
	tu_stop(&serve_pid);
	tu_rmtree(dir);
	tu_keep_free();
}

TestSuite(logins, .fini = teardown, .timeout = 240);

static char *
ok_sh(const char *cmd)
{
	char *out = NULL, *err = NULL;
	int rc = tu_sh(cmd, &out, &err);

	cr_assert_eq(rc, 0, "%s: exit %d: %s%s", cmd, rc, out, err);
	free(err);
	return tu_keep(out);
}

static char *
jitcad_ok(const char *args)
{
	char *out = NULL, *err = NULL;
	int rc = tu_jitcad(state, args, &out, &err);

	cr_assert_eq(rc, 0, "jitcad %s: exit %d: %s", args, rc, err);
	free(err);
	return tu_keep(out);
}

static char *
first_line(char *s)
{
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static const char config[] =
    "{\"listen\": \"127.0.0.1:0\", \"ledger\": {\"url\": \"ledger.db\"},\n"
    " \"ca\": {\"key\": \"ca_key.pem\", \"backdate\": \"1m\"},\n"
    " \"auditors\": [\"security\"], \"hosts\": [\"hosts\"],\n"
    " \"roles\": {\"prod-debug\": {\"principals\": [\"{{user}}\", "
    "\"debug\"], \"default_ttl\": \"30m\", \"max_ttl\": \"2h\",\n"
    "   \"requesters\": [\"engineering\"], \"approvers\": [\"sre-leads\"],"
    " \"approvals_required\": 1}}}\n";

/* curl METHOD PATH with token and body; the body's JSON (kept), and the
 * status in *status. */
static json_t *
api(const char *token, const char *method, const char *path, const char *body,
    long *status)
{
	char *bf = tu_keep(tu_fmt("%s/body.json", dir));
	char *out, *cmd;
	json_error_t e;
	json_t *j;

	tu_write_file(bf, body ? body : "", body ? strlen(body) : 0, 0600);
	cmd = tu_keep(tu_fmt("curl -s -o '%s/resp' -w '%%{http_code}' -X %s "
			     "-H 'Authorization: Bearer %s' -H "
			     "'Content-Type: application/json' %s%s '%s%s'",
	    dir, method, token, body ? "--data-binary @" : "", body ? bf : "",
	    url, path));
	out = ok_sh(cmd);
	*status = strtol(out, NULL, 10);
	j = json_loads(
	    tu_keep(tu_read_file(tu_keep(tu_fmt("%s/resp", dir)), NULL)), 0,
	    &e);
	return j;
}

/* login-report --once over the sshd log as host; its exit status and
 * stderr (kept). */
static int
reporter(const char *log, const char *tokfile, const char *rstate, char **err)
{
	char *cmd = tu_keep(tu_fmt("'%s/scripts/login-report' --server '%s' "
				   "--insecure-http-ok --host-token-file '%s' "
				   "--log '%s' --host web-1 --state '%s' "
				   "--once",
	    tu_env("JITCA_SOURCE_DIR"), url, tokfile, log, rstate));
	int rc = tu_sh(cmd, NULL, err);

	tu_keep(*err);
	return rc;
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	cr_assert_not_null(
	    s, "no string \"%s\" in %s", k, json_dumps(o, JSON_COMPACT));
	return s;
}

/* Every login object is exactly {host, account, time, source} (+ reason
 * for refusals): host web-1, account the sshd user, source 127.0.0.1,
 * an ISO-8601 UTC time. */
static void
check_login(json_t *l, const char *user, const char *reason)
{
	const char *t = str(l, "time");

	cr_assert_eq(json_object_size(l), reason ? 5u : 4u, "%s",
	    json_dumps(l, JSON_COMPACT));
	cr_assert_str_eq(str(l, "host"), "web-1");
	cr_assert_str_eq(str(l, "account"), user);
	cr_assert_str_eq(str(l, "source"), "127.0.0.1");
	cr_assert_eq(strlen(t), 20, "%s", t);
	cr_assert(t[4] == '-' && t[10] == 'T' && t[19] == 'Z', "%s", t);
	if (reason)
		cr_assert_str_eq(str(l, "reason"), reason);
}

static json_t *
report_json(const char *args)
{
	json_error_t e;
	json_t *j = json_loads(
	    jitcad_ok(tu_keep(tu_fmt("ledger report --format json %s", args))),
	    0, &e);

	cr_assert_not_null(j, "%s", e.text);
	cr_assert(json_is_array(j));
	return j;
}

Test(logins, access_review_end_to_end)
{
	char *user = tu_keep(sshd_user()), *ca, *alice, *bob, *web1, *err;
	char *cert, *sock, *before, *after, *t, *log, *sec;
	json_t *j, *g, *l;
	long st;
	time_t t0, t_revoked;
	struct tm tm;
	char when[32];

	dir = tu_tmpdir();
	state = tu_keep(tu_fmt("%s/state", dir));
	jitcad_ok("init");
	tu_write_file(tu_keep(tu_fmt("%s/jitca.json", state)), config,
	    strlen(config), 0644);
	/* alice asks, bob approves, web-1 reports, carol is revoked. */
	alice = first_line(jitcad_ok("user add alice --group engineering"));
	bob = first_line(jitcad_ok("user add bob --group sre-leads"));
	jitcad_ok("user add carol --group engineering");
	sec = first_line(jitcad_ok("user add sec --group security"));
	web1 = first_line(jitcad_ok("user add web-1 --group hosts"));
	tu_write_file(
	    tu_keep(tu_fmt("%s/web1.tok", dir)), web1, strlen(web1), 0600);
	ok_sh(tu_keep(tu_fmt("cd %s && for k in a b c; do ssh-keygen -q -t "
			     "ed25519 -N '' -f $k || exit 1; done",
	    dir)));
	url = tu_keep(tu_serve_start(state,
	    tu_keep(tu_fmt("%s/serve.log", dir)), NULL, NULL, &serve_pid));

	/* Grant 1 (serial 1): issued directly for 5 seconds, to expire. */
	t0 = time(NULL);
	ok_sh(tu_keep(tu_fmt("'%s' issue --state '%s' --user alice --role "
			     "prod-debug --public-key %s/b.pub --ttl 5 "
			     "--reason 'INC-5 quick look' > %s/b-cert.pub",
	    tu_env("JITCAD"), state, dir, dir)));
	/* Grant 2 (serial 2): requested and approved through the API. */
	t = first_line(
	    tu_keep(tu_read_file(tu_keep(tu_fmt("%s/a.pub", dir)), NULL)));
	j = api(alice, "POST", "/v1/requests",
	    tu_keep(tu_fmt("{\"role\": \"prod-debug\", \"ttl\": \"1h\", "
			   "\"reason\": \"INC-7 stuck queue\", "
			   "\"public_key\": \"%s\"}",
		t)),
	    &st);
	cr_assert_eq(st, 201, "%s", json_dumps(j, 0));
	j = api(bob, "POST", "/v1/requests/2/approve",
	    "{\"comment\": \"ok, INC-7\"}", &st);
	cr_assert_eq(st, 200, "%s", json_dumps(j, 0));
	j = api(alice, "GET", "/v1/requests/2", NULL, &st);
	cr_assert_eq(st, 200);
	cert = tu_keep(tu_fmt("%s\n", str(j, "certificate")));
	tu_write_file(
	    tu_keep(tu_fmt("%s/a-cert.pub", dir)), cert, strlen(cert), 0644);
	/* Wait for grant 1 to expire. */
	while (time(NULL) <= t0 + 6)
		tu_sleep_ms(200);
	/* Grant 3: carol's, revoked before she uses it. */
	ok_sh(tu_keep(tu_fmt("'%s' issue --state '%s' --user carol --role "
			     "prod-debug --public-key %s/c.pub --reason "
			     "'INC-9' > %s/c-cert.pub",
	    tu_env("JITCAD"), state, dir, dir)));
	jitcad_ok("revoke --serial 3 --reason 'laptop lost'");
	t_revoked = time(NULL);

	/* The host: trusts the CA, maps debug to the login user, has the
	 * KRL that revokes serial 3. */
	ca = first_line(jitcad_ok("ca-key"));
	sshd_start(&sshd, ca);
	sshd_set_principals(sshd, user, "debug", NULL);
	sshd_set_krl(sshd, tu_keep(tu_fmt("%s/revoked.krl", state)));
	cr_assert_eq(
	    sshd_ssh(sshd, user, tu_keep(tu_fmt("%s/a", dir)),
		tu_keep(tu_fmt("%s/a-cert.pub", dir)), "true", NULL, NULL),
	    0);
	/* Through an agent: ssh-add loads a-cert.pub beside the key. */
	sock = tu_keep(tu_fmt("%s/agent.sock", dir));
	agent_pid = tu_agent_start(sock);
	ok_sh(tu_keep(tu_fmt("SSH_AUTH_SOCK='%s' ssh-add -q %s/a", sock, dir)));
	ok_sh(tu_keep(tu_fmt("ssh -F /dev/null -o BatchMode=yes -o "
			     "StrictHostKeyChecking=no -o "
			     "UserKnownHostsFile=/dev/null -o "
			     "IdentityAgent='%s' -p %d "
			     "%s@127.0.0.1 true",
	    sock, sshd_port(sshd), user)));
	cr_assert_eq(
	    sshd_ssh(sshd, user, tu_keep(tu_fmt("%s/b", dir)),
		tu_keep(tu_fmt("%s/b-cert.pub", dir)), "true", NULL, NULL),
	    255);
	cr_assert_eq(
	    sshd_ssh(sshd, user, tu_keep(tu_fmt("%s/c", dir)),
		tu_keep(tu_fmt("%s/c-cert.pub", dir)), "true", NULL, NULL),
	    255);
	cr_assert(sshd_log_wait(sshd, "serial-3 (serial 3)", TU_WAIT_MS));
	log = tu_keep(tu_fmt("%s/sshd.log", sshd_dir(sshd)));

	/* The reporter posts all four certificate logins. */
	cr_assert_eq(reporter(log, tu_keep(tu_fmt("%s/web1.tok", dir)),
			 tu_keep(tu_fmt("%s/rs", dir)), &err),
	    0, "%s", err);
	cr_assert(
	    strstr(err, "\"added\":4,\"duplicates\":0") != NULL, "%s", err);

	j = report_json("");
	cr_assert_eq(json_array_size(j), 3, "%s", json_dumps(j, 0));
	/* 1: expired, its one attempt refused as expired. */
	g = json_array_get(j, 0);
	cr_assert_eq(json_integer_value(json_object_get(g, "serial")), 1);
	cr_assert_str_eq(str(g, "reason"), "INC-5 quick look");
	cr_assert_eq(json_array_size(json_object_get(g, "approvals")), 0);
	cr_assert(json_is_true(json_object_get(g, "direct")));
	cr_assert_eq(json_array_size(json_object_get(g, "logins")), 0);
	l = json_object_get(g, "refused");
	cr_assert_eq(json_array_size(l), 1, "%s", json_dumps(l, 0));
	check_login(json_array_get(l, 0), user, "expired");
	/* 2: approved by bob, two logins (files, agent), no refusal. */
	g = json_array_get(j, 1);
	cr_assert_str_eq(str(g, "requester"), "alice");
	cr_assert_str_eq(str(g, "role"), "prod-debug");
	cr_assert_eq(json_integer_value(json_object_get(g, "serial")), 2);
	cr_assert_eq(json_integer_value(json_object_get(g, "request")), 2);
	cr_assert_str_eq(str(g, "reason"), "INC-7 stuck queue");
	cr_assert_str_eq(json_string_value(json_array_get(
			     json_object_get(g, "principals"), 1)),
	    "debug");
	l = json_object_get(g, "approvals");
	cr_assert_eq(json_array_size(l), 1);
	cr_assert_str_eq(str(json_array_get(l, 0), "who"), "bob");
	cr_assert_str_eq(str(json_array_get(l, 0), "comment"), "ok, INC-7");
	cr_assert(json_is_null(json_object_get(g, "revoked")));
	cr_assert_eq(strlen(str(g, "issued")), 20);
	cr_assert_eq(strlen(str(g, "valid_before")), 20);
	l = json_object_get(g, "logins");
	cr_assert_eq(json_array_size(l), 2, "%s", json_dumps(l, 0));
	check_login(json_array_get(l, 0), user, NULL);
	check_login(json_array_get(l, 1), user, NULL);
	cr_assert_eq(json_array_size(json_object_get(g, "refused")), 0);
	/* 3: carol's, revoked by the local admin; refused as revoked. */
	g = json_array_get(j, 2);
	cr_assert_str_eq(str(g, "requester"), "carol");
	l = json_object_get(g, "revoked");
	cr_assert_str_eq(str(l, "reason"), "laptop lost");
	cr_assert_eq(strncmp(str(l, "by"), "local:", 6), 0);
	cr_assert_eq(json_array_size(json_object_get(g, "logins")), 0);
	l = json_object_get(g, "refused");
	cr_assert_eq(json_array_size(l), 1);
	check_login(json_array_get(l, 0), user, "revoked");

	/* Filters: --user, --role, --since (a duration; a date after grant
	 * 1 expired and grant 3 was revoked). */
	cr_assert_eq(json_array_size(report_json("--user carol")), 1);
	cr_assert_eq(json_array_size(report_json("--user alice")), 2);
	cr_assert_eq(json_array_size(report_json("--role other")), 0);
	cr_assert_eq(json_array_size(report_json("--since 1h")), 3);
	t_revoked += 1;
	gmtime_r(&t_revoked, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = report_json(tu_keep(tu_fmt("--since %s", when)));
	cr_assert_eq(json_array_size(j), 1, "%s", json_dumps(j, 0));
	cr_assert_eq(
	    json_integer_value(json_object_get(json_array_get(j, 0), "serial")),
	    2);
	t = jitcad_ok("ledger report --user alice");
	cr_assert(
	    strstr(t, "approved") != NULL && strstr(t, "bob") != NULL, "%s", t);

	/* Replaying the same lines (the cursor lost) adds nothing. */
	before = jitcad_ok("ledger report --format json");
	ok_sh(tu_keep(tu_fmt("rm -f %s/rs/log.pos", dir)));
	cr_assert_eq(reporter(log, tu_keep(tu_fmt("%s/web1.tok", dir)),
			 tu_keep(tu_fmt("%s/rs", dir)), &err),
	    0, "%s", err);
	cr_assert(
	    strstr(err, "\"added\":0,\"duplicates\":4") != NULL, "%s", err);
	/* ...and with the cursor, nothing is even sent. */
	cr_assert_eq(reporter(log, tu_keep(tu_fmt("%s/web1.tok", dir)),
			 tu_keep(tu_fmt("%s/rs", dir)), &err),
	    0, "%s", err);
	cr_assert_str_eq(err, "");
	after = jitcad_ok("ledger report --format json");
	cr_assert_str_eq(before, after);

	/* web-1's token cannot report for web-2; alice's for no host. */
	j = api(web1, "POST", "/v1/logins",
	    "{\"host\": \"web-2\", \"entries\": []}", &st);
	cr_assert_eq(st, 403);
	cr_assert_str_eq(
	    str(json_object_get(j, "error"), "code"), "wrong_host");
	j = api(alice, "POST", "/v1/logins",
	    "{\"host\": \"alice\", \"entries\": []}", &st);
	cr_assert_eq(st, 403);
	cr_assert_str_eq(str(json_object_get(j, "error"), "code"), "forbidden");
	/* The host's own token (jitcad host add) reports for it, and for no
	 * other host. */
	t = first_line(
	    jitcad_ok("host add web-1 --principal web-1.example.com"));
	j = api(t, "POST", "/v1/logins",
	    "{\"host\": \"web-1\", \"entries\": []}", &st);
	cr_assert_eq(st, 200, "%s", json_dumps(j, 0));
	cr_assert_eq(json_integer_value(json_object_get(j, "added")), 0);
	j = api(t, "POST", "/v1/logins",
	    "{\"host\": \"web-2\", \"entries\": []}", &st);
	cr_assert_eq(st, 403);
	cr_assert_str_eq(
	    str(json_object_get(j, "error"), "code"), "wrong_host");
	cr_assert_str_eq(str(json_object_get(j, "error"), "message"),
	    "this token reports logins for host \"web-1\" only");
	/* The same review over the API, for auditors only. */
	j = api(sec, "GET", "/v1/ledger/report?role=prod-debug", NULL, &st);
	cr_assert_eq(st, 200, "%s", json_dumps(j, 0));
	{
		json_error_t e;
		json_t *cli = json_loads(after, 0, &e);

		cr_assert(json_equal(json_object_get(j, "grants"), cli), "%s",
		    json_dumps(j, 0));
		cr_assert_eq(json_array_size(json_object_get(j, "unknown")), 0);
	}
	j = api(sec, "GET", "/v1/ledger/report?since=yesterday", NULL, &st);
	cr_assert_eq(st, 400);
	j = api(alice, "GET", "/v1/ledger/report", NULL, &st);
	cr_assert_eq(st, 403);
	jitcad_ok("ledger verify");
}

/* A new CA with this file's config, host web-1 (its token also in
 * DIR/web1.tok) and jitcad serve; returns web-1's token, *ca_fp the user
 * CA's SHA256 fingerprint. */
static char *
served_ca_with_web1(char **ca_fp)
{
	char *web1;

	dir = tu_tmpdir();
	state = tu_keep(tu_fmt("%s/state", dir));
	jitcad_ok("init");
	tu_write_file(tu_keep(tu_fmt("%s/jitca.json", state)), config,
	    strlen(config), 0644);
	web1 = first_line(jitcad_ok("user add web-1 --group hosts"));
	tu_write_file(
	    tu_keep(tu_fmt("%s/web1.tok", dir)), web1, strlen(web1), 0600);
	*ca_fp = first_line(ok_sh(tu_keep(
	    tu_fmt("ssh-keygen -lf %s/ca.pub | cut -d' ' -f2", state))));
	url = tu_keep(tu_serve_start(state,
	    tu_keep(tu_fmt("%s/serve.log", dir)), NULL, NULL, &serve_pid));
	return web1;
}

/* Hostile lines in the log: refused one by one, never a crash, nothing
 * recorded but the one well-formed line, flagged as not ours. */
Test(logins, hostile_lines)
{
	char *web1, *log, *err, *big, *t, *ca_fp;
	FILE *f;
	size_t i;
	long st;
	json_t *j;

	web1 = served_ca_with_web1(&ca_fp);
	/* A log as sshd -E would write it, with hostile lines. */
	log = tu_keep(tu_fmt("%s/auth.log", dir));
	big = tu_keep(calloc(1, 100001));
	memset(big, 'A', 100000);
	memcpy(big, "Accepted publickey for ", 23);
	f = fopen(log, "a");
	cr_assert_not_null(f);
	/* A forged tail inside the account name. */
	fprintf(f,
	    "Accepted publickey for root ID x (serial 1) CA ED25519 %s "
	    "from 10.0.0.1 port 22 ssh2: ED25519-CERT "
	    "SHA256:VbynAyVGuh/ky9llLODIdcaAXWga4qTTxytKCG9T+rA ID "
	    "alice:prod-debug:req-1:serial-1 (serial 1) CA ED25519 %s\n",
	    ca_fp, ca_fp);
	fprintf(f,
	    "Accepted publickey for r\033[2Joot from 10.0.0.1 port 22 "
	    "ssh2: ED25519-CERT x\n");
	fprintf(f, "Accepted publickey for \xc3\x28 from\n");
	fprintf(f, "Failed publickey for root\001 from \xff\xfe\n");
	fprintf(f, "%s\n", big);
	fprintf(f, "Accepted publickey for \"quoted\\\" from\n");
	/* Well-formed, this CA's key, a serial it never issued. */
	fprintf(f,
	    "Accepted publickey for root from 10.0.0.2 port 2222 ssh2: "
	    "ED25519-CERT SHA256:VbynAyVGuh/ky9llLODIdcaAXWga4qTTxytKCG9T+rA "
	    "ID mallory:prod-debug:req-99:serial-99 (serial 99) CA ED25519 "
	    "%s\n",
	    ca_fp);
	for (i = 0; i < 3; i++)
		fprintf(
		    f, "Connection from 10.0.0.%zu port 1 on 1 port 2\n", i);
	fclose(f);
	cr_assert_eq(reporter(log, tu_keep(tu_fmt("%s/web1.tok", dir)),
			 tu_keep(tu_fmt("%s/rs", dir)), &err),
	    0, "%s", err);
	cr_assert(strstr(err,
		      "\"added\":1,\"duplicates\":0,\"ignored\":0,"
		      "\"refused\":6") != NULL,
	    "%s", err);
	cr_assert(strstr(err, "\"index\":0,\"code\":\"bad_account\"") != NULL,
	    "%s", err);
	cr_assert(strstr(err, "\"index\":1,\"code\":\"bad_character\"") != NULL,
	    "%s", err);
	cr_assert(strstr(err, "\"index\":4,\"code\":\"line_too_long\"") != NULL,
	    "%s", err);
	/* No grant; the unknown login is named, on stderr and in the table. */
	j = report_json("");
	cr_assert_eq(json_array_size(j), 0);
	{
		char *out = NULL, *e2 = NULL;

		cr_assert_eq(tu_jitcad(state, "ledger report", &out, &e2), 0);
		tu_keep(out);
		tu_keep(e2);
		cr_assert(strstr(out,
			      "root@web-1 from 10.0.0.2 serial 99 id "
			      "mallory:prod-debug:req-99:serial-99: "
			      "not_issued") != NULL,
		    "%s", out);
		cr_assert(strstr(e2,
			      "1 login with certificates this CA did "
			      "not issue") != NULL,
		    "%s", e2);
	}
	t = jitcad_ok("ledger export");
	cr_assert(strstr(t, "\"unknown\":\"not_issued\"") != NULL, "%s", t);
	cr_assert(strstr(t, "\"known\":false") != NULL);
	/* The service is fine. */
	j = api(web1, "GET", "/v1/health", NULL, &st);
	cr_assert_eq(st, 200);
	jitcad_ok("ledger verify");
}

/* A journalctl that prints $FAKE_JOURNAL (journalctl -o json lines),
 * only the entries after --after-cursor=C when given, and records its
 * arguments in $FAKE_JOURNAL.args. */
static const char fake_journalctl[] =
    "#!/bin/sh\n"
    "printf '%s\\n' \"$*\" >> \"$FAKE_JOURNAL.args\"\n"
    "after=''\n"
    "for a; do case $a in --after-cursor=*) after=${a#--after-cursor=};; "
    "esac; done\n"
    "if [ -z \"$after\" ]; then cat \"$FAKE_JOURNAL\"; exit 0; fi\n"
    "awk -v c=\"\\\"__CURSOR\\\":\\\"$after\\\"\" 'f { print } "
    "index($0, c) { f = 1 }' \"$FAKE_JOURNAL\"\n";

/* An accepted line for serial n under CA ca_fp (kept). */
static char *
acc(int n, const char *ca_fp)
{
	return tu_keep(
	    tu_fmt("Accepted publickey for root from 10.9.8.7 port "
		   "4242 ssh2: ED25519-CERT "
		   "SHA256:VbynAyVGuh/ky9llLODIdcaAXWga4qTTxytKCG9T+rA "
		   "ID x:y:req-1:serial-%d (serial %d) CA ED25519 %s",
		n, n, ca_fp));
}

/* --journal: the cursor and time come from the journal's JSON, JSON
 * escapes are undone (and what they hid refused), a binary MESSAGE is
 * skipped, and the cursor moves only past what the CA accepted. */
Test(logins, journal_mode)
{
	char *bin, *jf, *err, *cmd, *ca_fp, *args;
	FILE *f;

	(void)served_ca_with_web1(&ca_fp);
	bin = tu_keep(tu_fmt("%s/bin", dir));
	ok_sh(tu_keep(tu_fmt("mkdir -p %s", bin)));
	tu_write_file(tu_keep(tu_fmt("%s/journalctl", bin)), fake_journalctl,
	    strlen(fake_journalctl), 0755);
	jf = tu_keep(tu_fmt("%s/journal.json", dir));
	f = fopen(jf, "w");
	cr_assert_not_null(f);
	fprintf(f,
	    "{\"__CURSOR\":\"s=aa;i=1\",\"__REALTIME_TIMESTAMP\":"
	    "\"1796140800123456\",\"MESSAGE\":\"Server listening\"}\n");
	fprintf(f,
	    "{\"__CURSOR\":\"s=aa;i=2\",\"__REALTIME_TIMESTAMP\":"
	    "\"1796140801000000\",\"MESSAGE\":\"%s\"}\n",
	    acc(1, ca_fp));
	fprintf(f,
	    "{\"__CURSOR\":\"s=aa;i=3\",\"__REALTIME_TIMESTAMP\":"
	    "\"1796140802000000\",\"MESSAGE\":\"Accepted publickey for "
	    "r\\u001b[2Joot \\\"x\\\" from\"}\n");
	fprintf(f,
	    "{\"__CURSOR\":\"s=aa;i=4\",\"__REALTIME_TIMESTAMP\":"
	    "\"1796140803000000\",\"MESSAGE\":[65,99,99,1,2]}\n");
	fclose(f);
	cmd =
	    tu_keep(tu_fmt("PATH='%s':$PATH FAKE_JOURNAL='%s' "
			   "'%s/scripts/login-report' --server '%s' "
			   "--insecure-http-ok --host-token-file '%s/web1.tok' "
			   "--journal --host web-1 --state '%s/rs' --once",
		bin, jf, tu_env("JITCA_SOURCE_DIR"), url, dir, dir));
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s", err);
	tu_keep(err);
	cr_assert(strstr(err,
		      "\"added\":1,\"duplicates\":0,\"ignored\":0,"
		      "\"refused\":1,\"errors\":[{\"index\":1,"
		      "\"code\":\"bad_character\"") != NULL,
	    "%s", err);
	cr_assert_str_eq(
	    tu_keep(tu_read_file(
		tu_keep(tu_fmt("%s/rs/journal.cursor", dir)), NULL)),
	    "s=aa;i=4\n");
	/* The login's time is the journal's. */
	cr_assert(strstr(jitcad_ok("ledger export"),
		      "\"source\":\"10.9.8.7\",\"time\":1796140801") != NULL);
	/* Nothing new: nothing sent; one new entry: only it. */
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0);
	cr_assert_str_eq(tu_keep(err), "");
	f = fopen(jf, "a");
	fprintf(f,
	    "{\"__CURSOR\":\"s=aa;i=5\",\"__REALTIME_TIMESTAMP\":"
	    "\"1796140900000000\",\"MESSAGE\":\"%s\"}\n",
	    acc(2, ca_fp));
	fclose(f);
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0);
	cr_assert(strstr(tu_keep(err),
		      "\"added\":1,\"duplicates\":0,"
		      "\"ignored\":0,\"refused\":0") != NULL,
	    "%s", err);
	args = tu_keep(tu_read_file(tu_keep(tu_fmt("%s.args", jf)), NULL));
	cr_assert(strstr(args, "--after-cursor=s=aa;i=4") != NULL, "%s", args);
	cr_assert(
	    strstr(args, "-u ssh.service -u sshd.service -o json") != NULL,
	    "%s", args);
	/* The CA down: the cursor stays, the run fails, nothing is lost. */
	tu_stop(&serve_pid);
	f = fopen(jf, "a");
	fprintf(f,
	    "{\"__CURSOR\":\"s=aa;i=6\",\"__REALTIME_TIMESTAMP\":"
	    "\"1796141000000000\",\"MESSAGE\":\"%s\"}\n",
	    acc(3, ca_fp));
	fclose(f);
	cr_assert_eq(tu_sh(cmd, NULL, &err), 1);
	tu_keep(err);
	cr_assert_str_eq(
	    tu_keep(tu_read_file(
		tu_keep(tu_fmt("%s/rs/journal.cursor", dir)), NULL)),
	    "s=aa;i=5\n");
}

static void
append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	cr_assert_not_null(f);
	cr_assert(fputs(text, f) >= 0);
	cr_assert_eq(fclose(f), 0);
}

/* --log: a line sshd is still writing waits for its newline; a rotated
 * log is finished from FILE.1 before the new FILE is read; a truncated
 * log is read from the start. */
Test(logins, log_rotation_and_partial_lines)
{
	char *log, *err, *cmd, *ca_fp, *l1, *pos1;

	(void)served_ca_with_web1(&ca_fp);
	log = tu_keep(tu_fmt("%s/auth.log", dir));
	cmd =
	    tu_keep(tu_fmt("'%s/scripts/login-report' --server '%s' "
			   "--insecure-http-ok --host-token-file '%s/web1.tok' "
			   "--log '%s' --host web-1 --state '%s/rs' --once",
		tu_env("JITCA_SOURCE_DIR"), url, dir, log, dir));
	/* A syslog prefix is dropped; the half-written second line waits. */
	l1 = tu_keep(tu_fmt(
	    "2026-12-01T10:00:00.1+00:00 web-1 sshd[42]: %s\n", acc(1, ca_fp)));
	append(log, l1);
	append(
	    log, "Accepted publickey for root from 10.9.8.7 port 4242 ssh2:");
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s", err);
	cr_assert(strstr(tu_keep(err), "\"added\":1,") != NULL, "%s", err);
	append(log,
	    tu_keep(tu_fmt("%s\n", strstr(acc(2, ca_fp), " ED25519-CERT"))));
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s", err);
	cr_assert(strstr(tu_keep(err),
		      "\"added\":1,\"duplicates\":0,"
		      "\"ignored\":0,\"refused\":0") != NULL,
	    "%s", err);
	/* Rotation: line 3 lands in the old file after our last pass, then
	 * the file moves to FILE.1 and line 4 starts the new one. */
	append(log, tu_keep(tu_fmt("%s\n", acc(3, ca_fp))));
	ok_sh(tu_keep(tu_fmt("mv '%s' '%s.1'", log, log)));
	append(log, tu_keep(tu_fmt("%s\n", acc(4, ca_fp))));
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s", err);
	tu_keep(err);
	cr_assert(strstr(err, "\"added\":1,") != NULL &&
		strstr(strstr(err, "\"added\":1,") + 1, "\"added\":1,") != NULL,
	    "%s", err);
	/* The position now names the new file. */
	pos1 = ok_sh(tu_keep(tu_fmt("cut -d: -f1 %s/rs/log.pos", dir)));
	cr_assert_str_eq(
	    pos1, ok_sh(tu_keep(tu_fmt("stat -c '%%i' '%s'", log))));
	/* Truncated (copytruncate): read again from the start. */
	ok_sh(tu_keep(tu_fmt(": > '%s'", log)));
	append(log, tu_keep(tu_fmt("%s\n", acc(5, ca_fp))));
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s", err);
	cr_assert(strstr(tu_keep(err), "\"added\":1,\"duplicates\":0") != NULL,
	    "%s", err);
	/* 250 more lines: three batches (at most 100 lines each), all
	 * sent, each once. */
	{
		int i;

		for (i = 100; i < 350; i++)
			append(log, tu_keep(tu_fmt("%s\n", acc(i, ca_fp))));
	}
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s", err);
	cr_assert_str_eq(tu_keep(err),
	    "login-report: {\"added\":100,\"duplicates\":0,\"ignored\":0,"
	    "\"refused\":0,\"errors\":[]}\n"
	    "login-report: {\"added\":100,\"duplicates\":0,\"ignored\":0,"
	    "\"refused\":0,\"errors\":[]}\n"
	    "login-report: {\"added\":50,\"duplicates\":0,\"ignored\":0,"
	    "\"refused\":0,\"errors\":[]}\n");
	cr_assert_str_eq(first_line(ok_sh(tu_keep(
			     tu_fmt("'%s' ledger export --state '%s' | grep -c "
				    "session.login",
				 tu_env("JITCAD"), state)))),
	    "255");
}
