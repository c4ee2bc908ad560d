/*
 * test_client.c: the jitca client ($JITCA) end to end, against a real
 * `jitcad serve` on a fresh state dir and a real `ssh-agent -D -a SOCK`,
 * with HOME pointed at a temp dir: auto-approved login into the agent
 * and expiry by lifetime, the approval, denial, expiry, timeout and
 * Ctrl-C paths, error exit codes, a fake server that hands out a wrong
 * certificate or CA key, --no-agent files read by ssh-keygen, status and
 * logout, and a real sshd accepting a login through the agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/jitcad.h"
#include "tests/lib/proc.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

static char *dir, *home, *state, *url, *sock;
static pid_t serve_pid = -1, agent_pid = -1, fake_pid = -1, login_pid = -1;
static char *tok_alice, *tok_bob, *tok_carol; /* token files */

static const char config_fmt[] =
    "{\n"
    " \"listen\": \"127.0.0.1:8443\",\n"
    " \"ca\": {\"key_file\": \"ca_key.pem\", \"backdate\": \"1m\","
    " \"hard_max_ttl\": \"24h\"},\n"
    " \"ledger\": {\"path\": \"ledger.db\"},\n"
    " \"request_ttl\": \"%s\",\n"
    " \"auditors\": [\"security\"],\n"
    " \"limits\": {\"requests_per_minute\": 1000},\n"
    " \"roles\": {\n"
    "  \"fast\": {\"principals\": [\"{{user}}\"], \"max_ttl\": \"1h\","
    " \"requesters\": [\"engineering\"], \"approvals_required\": 0,"
    " \"extensions\": [\"permit-pty\"]},\n"
    "  \"prod\": {\"principals\": [\"{{user}}\", \"debug\"],"
    " \"default_ttl\": \"10m\", \"max_ttl\": \"2h\","
    " \"requesters\": [\"engineering\"], \"approvers\": [\"sre-leads\"],"
    " \"approvals_required\": 1}\n"
    " }\n"
    "}\n";

static void
start_server_tls(const char *request_ttl, int tls)
{
	char *cmd, *cfg, *path, *errp, *crt = NULL, *key = NULL;

	cmd = tu_fmt("'%s' init --state '%s'", tu_env("JITCAD"), state);
	free(tu_sh_ok(cmd));
	free(cmd);
	cfg = tu_fmt(config_fmt, request_ttl);
	path = tu_fmt("%s/jitca.json", state);
	tu_write_file(path, cfg, strlen(cfg), 0600);
	free(cfg);
	free(path);
	tok_alice = tu_user_token(state, dir, "alice", "--group engineering");
	tok_bob = tu_user_token(state, dir, "bob", "--group sre-leads");
	tok_carol = tu_user_token(state, dir, "carol", "--group security");

	errp = tu_fmt("%s/serve.err", dir);
	if (tls) {
		crt = tu_fmt("%s/tls.crt", dir);
		key = tu_fmt("%s/tls.key", dir);
		cmd =
		    tu_fmt("openssl req -x509 -newkey ec -pkeyopt "
			   "ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
			   "-addext subjectAltName=IP:127.0.0.1 -days 1 "
			   "-keyout '%s' -out '%s' 2>&1",
			key, crt);
		free(tu_sh_ok(cmd));
		free(cmd);
	}
	url = tu_serve_start(state, errp, crt, key, &serve_pid);
	setenv("JITCA_SERVER", url, 1);
	free(errp);
	free(crt);
	free(key);

	agent_pid = tu_agent_start(sock);
	setenv("SSH_AUTH_SOCK", sock, 1);
}

static void
start_server(const char *request_ttl)
{
	start_server_tls(request_ttl, 0);
}

static void
setup(void)
{
	dir = tu_tmpdir();
	state = tu_fmt("%s/state", dir);
	sock = tu_fmt("%s/agent.sock", dir);
	home = tu_client_home(dir);
}

static void
teardown(void)
{
	tu_stop(&login_pid);
	tu_stop(&fake_pid);
	tu_stop(&agent_pid);
	tu_stop(&serve_pid);
	tu_rmtree(dir);
}

TestSuite(client, .init = setup, .fini = teardown, .timeout = 120);

/* Run jitca with a shell fragment of arguments and a token file (NULL:
 * none).  Fails the test if a token appears in the output. */
static int
jitca(const char *tokfile, const char *args, char **out, char **err)
{
	char *cmd, *o = NULL, *e = NULL,
		   *toks[3] = {tok_alice, tok_bob, tok_carol};
	char *t;
	int rc, i;

	cmd = tokfile != NULL
	    ? tu_fmt("'%s' %s --token-file '%s' </dev/null", tu_env("JITCA"),
		  args, tokfile)
	    : tu_fmt("'%s' %s </dev/null", tu_env("JITCA"), args);
	rc = tu_sh(cmd, &o, &e);
	for (i = 0; i < 3; i++) {
		if (toks[i] == NULL)
			continue;
		t = tu_read_file(toks[i], NULL);
		t[strcspn(t, "\n")] = '\0';
		cr_assert_null(strstr(o, t), "token printed: %s", o);
		cr_assert_null(strstr(e, t), "token printed: %s", e);
		free(t);
	}
	free(cmd);
	if (out != NULL)
		*out = o;
	else
		free(o);
	if (err != NULL)
		*err = e;
	else
		free(e);
	return rc;
}

static char *
agent_list(int *rc)
{
	char *out = NULL, *cmd = tu_fmt("SSH_AUTH_SOCK='%s' ssh-add -L", sock);

	*rc = tu_sh(cmd, &out, NULL);
	free(cmd);
	return out;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

Test(client, login_into_agent_and_expiry_by_lifetime)
{
	char *out = NULL, *err = NULL, *l, *cmd, *pin, *capub;
	int rc, waited;
	time_t t0;

	start_server("1h");
	t0 = time(NULL);
	rc = jitca(tok_alice,
	    "login --role fast --ttl 5s --reason 'INC-1 test'", &out, &err);
	cr_assert_eq(rc, 0, "login: %s", err);
	cr_assert(strstr(out, "role:        fast\n") != NULL, "%s", out);
	cr_assert(strstr(out, "principals:  alice\n") != NULL, "%s", out);
	cr_assert(strstr(out, "serial:      1\n") != NULL, "%s", out);
	cr_assert(strstr(out, "where:       ssh-agent\n") != NULL, "%s", out);
	/* Listed at once, well inside the 5 s. */
	l = agent_list(&rc);
	cr_assert_eq(rc, 0);
	cr_assert_eq(count(l, "ssh-ed25519-cert-v01@openssh.com "), 1, "%s", l);
	cr_assert(strstr(l, " jitca:fast:1\n") != NULL, "%s", l);
	free(l);
	cr_assert(strstr(err, "pinned the CA key SHA256:") != NULL, "%s", err);
	/* The pin is the CA key jitcad prints. */
	pin = tu_read_file(tu_fmt("%s/.config/jitca/ca/127.0.0.1_%d.pub", home,
			       tu_url_port(url)),
	    NULL);
	cmd = tu_fmt("'%s' ca-key --state '%s'", tu_env("JITCAD"), state);
	capub = tu_sh_ok(cmd);
	cr_assert_not_null(pin);
	cr_assert_eq(strncmp(pin, capub, strcspn(capub, " \n") + 1 + 60), 0,
	    "%s vs %s", pin, capub);
	/* valid_before = issue time + 5 s; the agent drops it then.  Poll
	 * from there, with a generous cap for a loaded machine. */
	while (time(NULL) < t0 + 5)
		tu_sleep_ms(200);
	for (waited = 0; waited < TU_WAIT_MS; waited += 200) {
		l = agent_list(&rc);
		if (rc == 1)
			break;
		free(l);
		tu_sleep_ms(200);
	}
	cr_assert_eq(rc, 1, "still in the agent %d s after the login: %s",
	    (int)(time(NULL) - t0), l);
	free(l);
	free(out);
	free(err);
	free(cmd);
	free(capub);
	free(pin);
}

Test(client, second_login_replaces_the_first)
{
	char *l, *err = NULL;
	int rc;

	start_server("1h");
	cr_assert_eq(
	    jitca(tok_alice, "login --role fast --reason one", NULL, &err), 0,
	    "%s", err);
	free(err);
	/* A second login while a valid certificate is held says so and
	 * asks; without a terminal it stops unless --force. */
	cr_assert_eq(
	    jitca(tok_alice, "login --role fast --reason two", NULL, &err), 1,
	    "%s", err);
	cr_assert(strstr(err,
		      "jitca: you already hold a certificate for fast "
		      "(serial 1, ") != NULL &&
		strstr(err,
		    " left, in ssh-agent): use it, or add --force to "
		    "ask for another\n") != NULL,
	    "%s", err);
	free(err);
	cr_assert_eq(jitca(tok_alice, "login --role fast --reason two --force",
			 NULL, &err),
	    0, "%s", err);
	cr_assert(strstr(err, "removed 1 older fast certificate(s)") != NULL,
	    "%s", err);
	l = agent_list(&rc);
	cr_assert_eq(count(l, "-cert-v01@openssh.com "), 1, "%s", l);
	cr_assert(strstr(l, " jitca:fast:2\n") != NULL, "%s", l);
	free(l);
	free(err);
}

/* Start a login in the background as login_pid. */
static void
login_bg(const char *extra, char **outp, char **errp)
{
	char *argv[16];
	int n = 0;

	*outp = tu_fmt("%s/login.out", dir);
	*errp = tu_fmt("%s/login.err", dir);
	argv[n++] = (char *)(uintptr_t)tu_env("JITCA");
	argv[n++] = "login";
	argv[n++] = "--role";
	argv[n++] = "prod";
	argv[n++] = "--reason";
	argv[n++] = "INC-4312 stuck queue";
	argv[n++] = "--token-file";
	argv[n++] = tok_alice;
	if (extra != NULL) {
		argv[n++] = "--wait";
		argv[n++] = (char *)(uintptr_t)extra;
	}
	argv[n] = NULL;
	tu_write_file(*outp, "", 0, 0600);
	tu_write_file(*errp, "", 0, 0600);
	login_pid = tu_spawn(argv, *outp, *errp);
}

Test(client, approval_path)
{
	char *o, *e, *out = NULL, *err = NULL, *t, *l;
	int rc;

	start_server("1h");
	login_bg(NULL, &o, &e);
	free(tu_file_wait(e, "request 1 for role prod is pending", login_pid));
	/* The wait names whom to ask. */
	free(tu_file_wait(
	    e, "needs 1 approval(s) from members of sre-leads", login_pid));
	/* What the approver sees before approving. */
	rc = jitca(tok_bob, "requests --pending", &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(strstr(out, "ID ") == out, "%s", out);
	cr_assert(strstr(out, "prod") && strstr(out, "alice,debug") &&
		strstr(out, "INC-4312 stuck queue") && strstr(out, "0/1") &&
		strstr(out, "10m00s"),
	    "%s", out);
	free(out);
	free(err);
	/* The requester cannot approve her own request. */
	rc = jitca(tok_alice, "approve 1 --yes", &out, &err);
	cr_assert_eq(rc, 5, "%s", err);
	cr_assert(strstr(err, "jitca: approve: ") != NULL, "%s", err);
	free(out);
	free(err);
	rc = jitca(tok_bob, "approve 1 --comment 'go ahead'", &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(strstr(out, "requester:   alice\n") &&
		strstr(out, "reason:      INC-4312 stuck queue\n") &&
		strstr(out, "principals:  alice,debug\n") &&
		strstr(out, "ttl:         10m00s\n"),
	    "%s", out);
	cr_assert(strstr(out,
		      "approved request 1: certificate issued "
		      "(serial 1, valid until ") != NULL,
	    "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tu_wait_exit(&login_pid), 0, "%s", tu_read_file(e, NULL));
	t = tu_read_file(o, NULL);
	cr_assert(strstr(t, "principals:  alice, debug\n") != NULL, "%s", t);
	l = agent_list(&rc);
	cr_assert(strstr(l, " jitca:prod:1\n") != NULL, "%s", l);
	/* Approving again: not pending any more. */
	rc = jitca(tok_bob, "approve 1 --yes", &out, &err);
	cr_assert_eq(rc, 1, "%s", err);
	cr_assert(
	    strstr(err, "request 1 is issued, not pending") != NULL, "%s", err);
	free(out);
	free(err);
	free(t);
	free(l);
}

/* Issue 10 item 12: the server answers 50 requests per page by
 * default; jitca requests follows next_cursor and shows them all. */
Test(client, requests_pages_through_the_list)
{
	char *key = tu_fmt("%s/id_page", dir), *cmd, *out = NULL, *err = NULL;
	int rc, lines = 0;
	const char *p;

	start_server("1h");
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", key);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
	cmd = tu_fmt(
	    "k=$(cat '%s.pub'); t=$(cat '%s'); for i in $(seq 53); do "
	    "curl -sf -o /dev/null -H \"Authorization: Bearer $t\" "
	    "-H 'Content-Type: application/json' -d "
	    "\"{\\\"role\\\":\\\"fast\\\",\\\"reason\\\":\\\"page-$i\\\","
	    "\\\"public_key\\\":\\\"$k\\\"}\" '%s/v1/requests' || exit 1; "
	    "done",
	    key, tok_alice, url);
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s", err);
	free(cmd);
	free(err);
	rc = jitca(tok_alice, "requests", &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	for (p = out; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	cr_assert_eq(lines, 1 + 53, "%s", out);
	cr_assert_not_null(strstr(out, " page-53\n"), "%s", out);
	cr_assert_not_null(strstr(out, " page-1\n"), "%s", out);
	free(out);
	free(err);
	free(key);
}

Test(client, deny_path)
{
	char *o, *e, *err = NULL, *t;

	start_server("1h");
	login_bg(NULL, &o, &e);
	free(tu_file_wait(e, "is pending", login_pid));
	cr_assert_eq(jitca(tok_bob, "deny 1 --comment 'not now'", NULL, &err),
	    0, "%s", err);
	free(err);
	cr_assert_eq(tu_wait_exit(&login_pid), 6);
	t = tu_read_file(e, NULL);
	cr_assert(
	    strstr(t, "jitca: request 1 was denied by bob: not now\n") != NULL,
	    "%s", t);
	free(t);
}

Test(client, timeout_path)
{
	char *err = NULL;
	int rc;

	start_server("1h");
	rc = jitca(
	    tok_alice, "login --role prod --reason x --wait 2s", NULL, &err);
	cr_assert_eq(rc, 8, "%s", err);
	cr_assert(strstr(err,
		      "jitca: timed out after 2s waiting for approval "
		      "of request 1\njitca: withdrew request 1: nobody "
		      "can approve it now\n") != NULL,
	    "%s", err);
	free(err);
}

Test(client, expired_path)
{
	char *err = NULL;
	int rc;

	start_server("3s");
	rc = jitca(
	    tok_alice, "login --role prod --reason x --wait 1m", NULL, &err);
	cr_assert_eq(rc, 7, "%s", err);
	cr_assert(strstr(err,
		      "jitca: request 1 expired before it was "
		      "approved\n") != NULL,
	    "%s", err);
	free(err);
}

Test(client, ctrl_c_withdraws_the_request)
{
	char *o, *e, *t, *out = NULL, *cmd, *tok;

	start_server("1h");
	login_bg(NULL, &o, &e);
	free(tu_file_wait(e, "is pending", login_pid));
	kill(login_pid, SIGINT);
	cr_assert_eq(tu_wait_exit(&login_pid), 130);
	t = tu_read_file(e, NULL);
	cr_assert(strstr(t,
		      "jitca: interrupted while waiting for request 1\n"
		      "jitca: withdrew request 1: nobody can approve it "
		      "now\n") != NULL,
	    "%s", t);
	/* Nobody can approve it now: not pending, and the API says 409. */
	cr_assert_eq(jitca(tok_bob, "requests --pending", &out, NULL), 0);
	cr_assert_str_eq(out, "");
	free(out);
	tok = tu_read_file(tok_bob, NULL);
	tok[strcspn(tok, "\n")] = '\0';
	cmd = tu_fmt("curl -s -o /dev/stderr -w '%%{http_code}' -X POST -H "
		     "'Authorization: Bearer %s' -H 'Content-Type: "
		     "application/json' -d '{}' %s/v1/requests/1/approve",
	    tok, url);
	cr_assert_eq(tu_sh(cmd, &out, &e), 0);
	cr_assert_str_eq(out, "409");
	cr_assert(strstr(e, "\"code\":\"wrong_state\"") != NULL, "%s", e);
	free(out);
	free(e);
	free(cmd);
	free(tok);
	free(t);
}

Test(client, error_exit_codes)
{
	char *err = NULL, *bad = tu_fmt("%s/bad.token", dir), *args;
	int rc;

	start_server("1h");
	/* Unreachable. */
	args = tu_fmt("login --role fast --reason x --server "
		      "http://127.0.0.1:%d",
	    tu_free_port());
	rc = jitca(tok_alice, args, NULL, &err);
	cr_assert_eq(rc, 3, "%s", err);
	cr_assert(strstr(err, "jitca: GET /v1/ca: server unreachable: ") == err,
	    "%s", err);
	free(err);
	free(args);
	/* 401. */
	tu_write_file(bad, "jitca_not_a_real_token\n", 23, 0600);
	rc = jitca(bad, "requests", NULL, &err);
	cr_assert_eq(rc, 4, "%s", err);
	cr_assert(strstr(err, "jitca: listing requests: ") == err, "%s", err);
	cr_assert(strstr(err,
		      " (check --token-file, $JITCA_TOKEN or "
		      "~/.config/jitca/token)\n") != NULL,
	    "%s", err);
	cr_assert_null(strstr(err, "jitca_not_a_real_token"));
	free(err);
	/* 403: bob is not a requester of fast. */
	rc = jitca(tok_bob, "login --role fast --reason x", NULL, &err);
	cr_assert_eq(rc, 5, "%s", err);
	cr_assert(
	    strstr(err,
		"jitca: request refused: you may not request role "
		"\"fast\"; you may request: (none) (jitca roles)\n") != NULL,
	    "%s", err);
	free(err);
	/* Policy: over max_ttl, with the limit named. */
	rc = jitca(
	    tok_alice, "login --role fast --ttl 2h --reason x", NULL, &err);
	cr_assert_eq(rc, 1, "%s", err);
	cr_assert(strstr(err,
		      "jitca: request refused: ttl 2h is longer than fast "
		      "allows (1h)\n") != NULL,
	    "%s", err);
	free(err);
	/* A role typo names the valid roles and the nearest one. */
	rc = jitca(tok_alice, "login --role prdo --reason x", NULL, &err);
	cr_assert_eq(rc, 1, "%s", err);
	cr_assert(strstr(err,
		      "jitca: request refused: there is no role \"prdo\"; "
		      "you may request: fast, prod (did you mean prod?) "
		      "(jitca roles)\n") != NULL,
	    "%s", err);
	free(err);
	/* A principal outside the role names the allowed ones. */
	rc = jitca(tok_alice, "login --role prod --principal root --reason x",
	    NULL, &err);
	cr_assert_eq(rc, 1, "%s", err);
	cr_assert(
	    strstr(err, "; prod allows the principals alice,debug\n") != NULL,
	    "%s", err);
	free(err);
	/* Usage errors. */
	cr_assert_eq(jitca(tok_alice, "login --role fast", NULL, NULL), 2);
	cr_assert_eq(jitca(tok_alice, "login --role fast --reason x --ttl 5x",
			 NULL, NULL),
	    2);
	cr_assert_eq(
	    jitca(tok_alice, "login --role ../x --reason x", NULL, NULL), 2);
	cr_assert_eq(jitca(tok_alice, "approve abc", NULL, NULL), 2);
	cr_assert_eq(jitca(tok_alice, "frobnicate", NULL, NULL), 2);
	cr_assert_eq(jitca(tok_alice, "status --bogus", NULL, NULL), 2);
	unsetenv("JITCA_SERVER");
	rc = jitca(tok_alice, "requests", NULL, &err);
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "jitca: no server: ") == err, "%s", err);
	free(err);
	/* A token in the environment is used and not printed either. */
	setenv("JITCA_SERVER", url, 1);
	setenv("JITCA_TOKEN", "jitca_env_token_xyz", 1);
	rc = jitca(NULL, "requests", NULL, &err);
	cr_assert_eq(rc, 4, "%s", err);
	cr_assert_null(strstr(err, "jitca_env_token_xyz"));
	free(err);
	free(bad);
}

struct fake {
	const char *ca_line, *cert_line;
};

/* A fake jitca server's answer: GET /v1/ca gives ca_line, anything else
 * (POST /v1/requests) an issued request holding cert_line. */
static char *
fake_answer(const char *request, size_t *len, void *arg)
{
	const struct fake *f = arg;
	char *body, *resp;
	int code = 201;

	if (strncmp(request, "GET /v1/ca ", 11) == 0) {
		body = tu_fmt("{\"public_key\": \"%s\", "
			      "\"key_type\": \"ssh-ed25519\"}",
		    f->ca_line);
		code = 200;
	} else
		body = tu_fmt("{\"id\": 9, \"state\": \"issued\", "
			      "\"role\": \"fast\", \"requester\": "
			      "\"alice\", \"principals\": [\"alice\"], "
			      "\"ttl\": 300, \"approvals\": [], "
			      "\"serial\": 1, \"certificate\": \"%s\"}",
		    f->cert_line);
	resp = tu_fmt("HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    code, strlen(body), body);
	free(body);
	*len = strlen(resp);
	return resp;
}

/* Start the fake server as fake_pid; returns its port. */
static int
fake_server(const char *ca_line, const char *cert_line)
{
	struct fake f = {ca_line, cert_line};

	return tu_http_responder(fake_answer, &f, &fake_pid);
}

static char *
line_of(const char *s)
{
	char *l = tu_fmt("%s", s);

	l[strcspn(l, "\n")] = '\0';
	return l;
}

Test(client, refuses_wrong_key_wrong_ca_and_changed_ca)
{
	char *ca_line, *cmd, *other_cert, *foreign_cert, *err = NULL, *args;
	char *state2 = tu_fmt("%s/state2", dir), *l, *kp;
	int port, rc;

	start_server("1h");
	cmd = tu_fmt("'%s' ca-key --state '%s'", tu_env("JITCAD"), state);
	ca_line = line_of(l = tu_sh_ok(cmd));
	free(l);
	free(cmd);
	/* A real certificate from the real CA, for some other key. */
	kp = tu_fmt("%s/other", dir);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", kp);
	free(tu_sh_ok(cmd));
	free(cmd);
	cmd = tu_fmt("'%s' issue --user alice --role fast --public-key "
		     "'%s.pub' --ttl 5m --reason x --state '%s'",
	    tu_env("JITCAD"), kp, state);
	other_cert = line_of(l = tu_sh_ok(cmd));
	free(l);
	free(cmd);
	/* A certificate from another CA. */
	cmd = tu_fmt(
	    "'%s' init --state '%s' >/dev/null && '%s' user add alice --group "
	    "engineering --state '%s' >/dev/null && '%s' issue "
	    "--user alice --role staging --public-key '%s.pub' "
	    "--ttl 5m --reason x --state '%s'",
	    tu_env("JITCAD"), state2, tu_env("JITCAD"), state2,
	    tu_env("JITCAD"), kp, state2);
	foreign_cert = line_of(l = tu_sh_ok(cmd));
	free(l);
	free(cmd);

	/* The real CA key, but a certificate for another key. */
	port = fake_server(ca_line, other_cert);
	args = tu_fmt(
	    "login --role fast --reason x --server http://127.0.0.1:%d", port);
	rc = jitca(tok_alice, args, NULL, &err);
	cr_assert_eq(rc, 9, "%s", err);
	cr_assert(strstr(err,
		      "jitca: refusing the certificate for request "
		      "9: certificate is for another key\n") != NULL,
	    "%s", err);
	free(err);
	tu_stop(&fake_pid);
	free(args);

	/* The real CA key pinned, a certificate signed by another CA. */
	port = fake_server(ca_line, foreign_cert);
	args = tu_fmt(
	    "login --role fast --reason x --server http://127.0.0.1:%d", port);
	rc = jitca(tok_alice, args, NULL, &err);
	cr_assert_eq(rc, 9, "%s", err);
	cr_assert(strstr(err, "certificate names a different CA key\n") != NULL,
	    "%s", err);
	free(err);
	tu_stop(&fake_pid);
	free(args);

	/* The server now presents another CA key than the one pinned for
	 * it (the pin of this URL holds the real CA key). */
	cmd = tu_fmt("'%s' ca-key --state '%s'", tu_env("JITCAD"), state2);
	l = tu_sh_ok(cmd);
	free(cmd);
	port = fake_server(line_of(l), foreign_cert);
	{
		char *pin =
		    tu_fmt("%s/.config/jitca/ca/127.0.0.1_%d.pub", home, port);
		char *pl = tu_fmt("%s\n", ca_line);

		tu_write_file(pin, pl, strlen(pl), 0644);
		free(pin);
		free(pl);
	}
	args = tu_fmt(
	    "login --role fast --reason x --server http://127.0.0.1:%d", port);
	rc = jitca(tok_alice, args, NULL, &err);
	cr_assert_eq(rc, 9, "%s", err);
	cr_assert(
	    strstr(err, "differs from the key pinned in") != NULL, "%s", err);
	free(err);
	tu_stop(&fake_pid);
	/* Nothing reached the agent. */
	free(agent_list(&rc));
	cr_assert_eq(rc, 1);
	free(args);
	free(l);
	free(ca_line);
	free(other_cert);
	free(foreign_cert);
	free(state2);
	free(kp);
}

static int
file_mode(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	return (int)(st.st_mode & 07777);
}

Test(client, no_agent_files_status_and_logout)
{
	char *out = NULL, *err = NULL, *kp, *cp, *cmd, *a, *b, *l, *plain;
	int rc;

	start_server("1h");
	/* One certificate in the agent, one in files, and a foreign key in
	 * the agent that logout must leave alone. */
	plain = tu_fmt("%s/mine", dir);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -C mine -f '%s' && "
		     "SSH_AUTH_SOCK='%s' ssh-add -q '%s'",
	    plain, sock, plain);
	free(tu_sh_ok(cmd));
	free(cmd);
	cr_assert_eq(
	    jitca(tok_alice, "login --role fast --reason x", NULL, &err), 0,
	    "%s", err);
	free(err);
	rc = jitca(tok_alice,
	    "login --role fast --ttl 10m --reason x "
	    "--no-agent --force",
	    &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	kp = tu_fmt("%s/.ssh/jitca/fast", home);
	cp = tu_fmt("%s/.ssh/jitca/fast-cert.pub", home);
	cr_assert(
	    strstr(out, tu_fmt("connect:     ssh -i %s alice@HOST\n", kp)) !=
		NULL,
	    "%s", out);
	cr_assert(strstr(out, "where:       files\n") != NULL, "%s", out);
	free(out);
	free(err);
	cr_assert_eq(file_mode(kp), 0600);
	cr_assert_eq(file_mode(cp), 0600);
	cr_assert_eq(file_mode(tu_fmt("%s/.ssh/jitca", home)), 0700);
	/* ssh-keygen reads the key; it is the certificate's key. */
	cmd = tu_fmt("ssh-keygen -l -f '%s'", kp);
	a = tu_sh_ok(cmd);
	free(cmd);
	cmd = tu_fmt("ssh-keygen -y -f '%s' | ssh-keygen -l -f -", kp);
	b = tu_sh_ok(cmd);
	free(cmd);
	cr_assert_eq(strncmp(a, b, 55), 0, "%s vs %s", a, b);
	free(b);
	cmd = tu_fmt("ssh-keygen -L -f '%s'", cp);
	b = tu_sh_ok(cmd);
	cr_assert(strstr(b, a + 4) == NULL); /* comment differs; check fp: */
	a[strcspn(a + 4, " ") + 4] = '\0';
	cr_assert(strstr(b, a + 4) != NULL, "%s not in %s", a + 4, b);
	free(a);
	free(b);
	free(cmd);
	/* status shows both. */
	rc = jitca(NULL, "status", &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(strstr(out, "\nagent  jitca:fast:1 ") != NULL, "%s", out);
	cr_assert(strstr(out, "\nfile   fast ") != NULL, "%s", out);
	cr_assert_eq(count(out, "alice"), 2, "%s", out);
	free(out);
	free(err);
	/* logout removes both, and only them. */
	rc = jitca(NULL, "logout", &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(
	    strstr(out, "removed 1 certificate(s) from ssh-agent\n") != NULL,
	    "%s", out);
	free(out);
	free(err);
	cr_assert_eq(access(kp, F_OK), -1);
	cr_assert_eq(access(cp, F_OK), -1);
	l = agent_list(&rc);
	cr_assert_eq(rc, 0);
	cr_assert_eq(count(l, "\n"), 1, "%s", l);
	cr_assert(strstr(l, " mine\n") != NULL, "%s", l);
	free(l);
	rc = jitca(NULL, "status", &out, &err);
	cr_assert_eq(rc, 0);
	cr_assert(
	    strstr(err, "jitca: no jitca certificates\n") != NULL, "%s", err);
	free(out);
	free(err);
	free(kp);
	free(cp);
	free(plain);
}

Test(client, no_agent_running_writes_files)
{
	char *out = NULL, *err = NULL, *kp;

	start_server("1h");
	unsetenv("SSH_AUTH_SOCK");
	cr_assert_eq(
	    jitca(tok_alice, "login --role fast --reason x", &out, &err), 0,
	    "%s", err);
	cr_assert(strstr(err,
		      "jitca: no ssh-agent ($SSH_AUTH_SOCK is unset): "
		      "writing files instead\n") != NULL,
	    "%s", err);
	kp = tu_fmt("%s/.ssh/jitca/fast", home);
	cr_assert_eq(file_mode(kp), 0600);
	free(out);
	free(err);
	free(kp);
}

Test(client, sshd_accepts_a_login_through_the_agent)
{
	struct test_sshd *d = NULL;
	char *cmd, *capub, *user = sshd_user(), *out = NULL, *err = NULL;
	char *ssh, *port;
	int rc;

	start_server("1h");
	cmd = tu_fmt("'%s' ca-key --state '%s'", tu_env("JITCAD"), state);
	capub = tu_sh_ok(cmd);
	free(cmd);
	sshd_start(&d, capub);
	sshd_set_principals(d, user, "alice", NULL);
	cr_assert_eq(jitca(tok_alice,
			 "login --role fast --ttl 2m --reason "
			 "'sshd test'",
			 NULL, &err),
	    0, "%s", err);
	free(err);
	ssh = tu_which("ssh");
	cr_assert_not_null(ssh);
	port = tu_fmt("%d", sshd_port(d));
	cmd = tu_fmt("'%s' -F /dev/null -o BatchMode=yes -o "
		     "StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
		     "-o PreferredAuthentications=publickey -o "
		     "IdentityAgent='%s' -o ConnectTimeout=10 -o "
		     "LogLevel=ERROR -p %s %s@127.0.0.1 echo logged-in",
	    ssh, sock, port, user);
	rc = tu_sh(cmd, &out, &err);
	cr_assert_eq(rc, 0, "ssh: %s\nsshd: %s", err, sshd_log(d));
	cr_assert_str_eq(out, "logged-in\n");
	cr_assert(sshd_log_wait(d, "ID alice:fast:", 5000), "%s", sshd_log(d));
	free(out);
	free(err);
	/* After logout the agent has nothing to offer. */
	cr_assert_eq(jitca(NULL, "logout", NULL, NULL), 0);
	rc = tu_sh(cmd, &out, &err);
	cr_assert_eq(rc, 255, "%s", out);
	free(out);
	free(err);
	sshd_stop(d);
	free(cmd);
	free(capub);
	free(user);
	free(ssh);
	free(port);
}

Test(client, tls_verification_and_ca_bundle)
{
	char *err = NULL, *out = NULL, *args;
	int rc;

	start_server_tls("1h", 1);
	cr_assert(strncmp(url, "https://127.0.0.1:", 18) == 0, "%s", url);
	/* A private CA is not in the system store: refused. */
	rc = jitca(tok_alice, "requests", NULL, &err);
	cr_assert_eq(rc, 3, "%s", err);
	cr_assert(strstr(err,
		      "jitca: listing requests: server unreachable: "
		      "https://127.0.0.1:") == err,
	    "%s", err);
	free(err);
	args = tu_fmt(
	    "login --role fast --reason tls --ca-bundle '%s/tls.crt'", dir);
	rc = jitca(tok_alice, args, &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(strstr(out, "where:       ssh-agent\n") != NULL, "%s", out);
	free(out);
	free(err);
	free(args);
}

/* Text that is not UTF-8 cannot go into the JSON body: jitca says which
 * option, instead of sending a body without the field (the server then
 * answered "missing field \"reason\"" to a reason the user gave). */
Test(client, non_utf8_options_are_usage_errors)
{
	char *err = NULL;
	int rc;

	start_server("1h");
	rc = jitca(tok_alice,
	    "login --role fast --reason \"$(printf 'INC \\377')\"", NULL, &err);
	cr_assert_eq(rc, 2, "%s", err);
	cr_assert(strstr(err, "jitca: --reason is not valid UTF-8\n") != NULL,
	    "%s", err);
	free(err);
	rc = jitca(tok_alice,
	    "login --role fast --reason x --principal \"$(printf '\\377')\"",
	    NULL, &err);
	cr_assert_eq(rc, 2, "%s", err);
	cr_assert(
	    strstr(err, "jitca: --principal is not valid UTF-8\n") != NULL,
	    "%s", err);
	free(err);
	/* Nothing was requested. */
	cr_assert_eq(jitca(tok_bob, "requests", NULL, &err), 0, "%s", err);
	cr_assert_str_eq(err, "jitca: no requests\n");
	free(err);
}

/* The plain-http warning is skipped for loopback hosts only, not for a
 * name that merely starts like one. */
Test(client, plain_http_warning_is_not_fooled_by_a_prefix)
{
	char *err = NULL;
	int rc;

	/* No token anywhere: jitca asks the server how to sign in
	 * (GET /v1/auth), which is unreachable here (exit 3). */
	rc = jitca(
	    NULL, "requests --server http://127.0.0.1.example:1", NULL, &err);
	cr_assert_eq(rc, 3, "%s", err);
	cr_assert(
	    strstr(err,
		"jitca: warning: http://127.0.0.1.example:1 is plain "
		"http; the token and requests travel unencrypted\n") == err,
	    "%s", err);
	free(err);
	rc = jitca(NULL, "requests --server http://localhost:1", NULL, &err);
	cr_assert_eq(rc, 3, "%s", err);
	cr_assert(strstr(err, "jitca: sign-in methods: ") == err, "%s", err);
	free(err);
}

/* A cached session file in ~/.cache/jitca named by tag. */
static void
session_file(const char *tag, const char *server, const char *token,
    long long expires_at)
{
	char *d = tu_fmt("%s/.cache/jitca", home);
	char *p = tu_fmt("%s/session-%s.json", d, tag);
	char *j = tu_fmt("{\"server\":\"%s\",\"token\":\"%s\","
			 "\"expires_at\":%lld,\"user\":\"alice\"}",
	    server, token, expires_at);
	char *mk = tu_fmt("mkdir -p -m 0700 '%s'", d);

	free(tu_sh_ok(mk));
	tu_write_file(p, j, strlen(j), 0600);
	free(mk);
	free(j);
	free(p);
	free(d);
}

/* logout ends each cached session at its server: one it no longer
 * knows was already ended; one it cannot reach, or that it refuses, is
 * removed here only and the exit status says so; an expired one is not
 * sent; every file goes; no server needs to be configured. */
Test(client, logout_ends_sessions_at_their_servers)
{
	char *out = NULL, *err = NULL, *dead, *want, *left, *t;
	long long now = (long long)time(NULL);
	int rc;

	start_server("1h");
	unsetenv("JITCA_SERVER");
	unsetenv("XDG_CACHE_HOME");
	dead = tu_fmt("http://127.0.0.1:%d", tu_free_port());
	session_file("00000000000000000000000000000001", url,
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", now + 600);
	session_file("00000000000000000000000000000002", dead,
	    "jitca_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", now + 600);
	session_file("00000000000000000000000000000003", dead,
	    "jitca_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", now - 10);
	/* alice's static token is not a session: the server says so. */
	t = tu_read_file(tok_alice, NULL);
	t[strcspn(t, "\n")] = '\0';
	session_file("00000000000000000000000000000004", url, t, now + 600);
	free(t);

	rc = jitca(NULL, "logout", &out, &err);
	cr_assert_eq(rc, 1, "%s%s", out, err);
	want = tu_fmt("the session of alice on %s was already ended\n", url);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	free(want);
	want = tu_fmt("the session of alice on %s had expired\n", dead);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	free(want);
	want =
	    tu_fmt("jitca: could not end the session on %s: Failed to connect "
		   "to 127.0.0.1 port %d",
		dead, tu_url_port(dead));
	cr_assert(strstr(err, want) != NULL, "%s", err);
	cr_assert(strstr(err, "; removed it here only (it expires at ") != NULL,
	    "%s", err);
	free(want);
	want = tu_fmt("jitca: could not end the session on %s: this is the "
		      "static token of user alice, not a session from "
		      "signing in: it cannot be signed out",
	    url);
	cr_assert(strstr(err, want) != NULL, "%s", err);
	free(want);
	cr_assert(strstr(out, "removed 4 session(s) of signing in\n") != NULL,
	    "%s", out);
	cr_assert_eq(count(err, "could not end"), 2, "%s", err);
	free(out);
	free(err);
	left = tu_fmt("ls -A '%s/.cache/jitca'", home);
	out = tu_sh_ok(left);
	cr_assert_str_eq(out, "", "files left: %s", out);
	free(out);
	free(left);
	/* The static token still works. */
	want = tu_fmt("roles --server '%s'", url);
	rc = jitca(tok_alice, want, NULL, &err);
	free(want);
	cr_assert_eq(rc, 0, "%s", err);
	free(err);
	/* Nothing cached, nothing configured: nothing to end, exit 0. */
	rc = jitca(NULL, "logout", &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_null(strstr(out, "session"), "%s", out);
	free(out);
	free(err);
	free(dead);
}

/* What a proxy in front of a server might answer: 401, not jitca's. */
static char *
proxy_401(const char *request, size_t *len, void *arg)
{
	static const char resp[] = "HTTP/1.1 401 Unauthorized\r\n"
				   "Content-Type: text/plain\r\n"
				   "Content-Length: 13\r\nConnection: close"
				   "\r\n\r\nsign in first";

	(void)request;
	(void)arg;
	*len = sizeof(resp) - 1;
	return tu_fmt("%s", resp);
}

/* Only jitca's bad_token says a session is already ended: another 401
 * leaves it valid for all logout knows, and it says so. */
Test(client, logout_a_foreign_401_is_no_sign_out)
{
	char *out = NULL, *err = NULL, *want, *srv;
	long long now = (long long)time(NULL);
	int rc, port;

	start_server("1h");
	unsetenv("JITCA_SERVER");
	unsetenv("XDG_CACHE_HOME");
	port = tu_http_responder(proxy_401, NULL, &fake_pid);
	srv = tu_fmt("http://127.0.0.1:%d", port);
	session_file("00000000000000000000000000000001", srv,
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", now + 600);
	rc = jitca(NULL, "logout", &out, &err);
	cr_assert_eq(rc, 1, "%s%s", out, err);
	want = tu_fmt("jitca: could not end the session on %s: HTTP 401; "
		      "removed it here only (it expires at ",
	    srv);
	cr_assert(strstr(err, want) != NULL, "%s", err);
	cr_assert_null(strstr(out, "already ended"), "%s", out);
	tu_stop(&fake_pid);
	free(want);
	free(srv);
	free(out);
	free(err);
}

/* Signing out at a server with a private CA needs its --ca-bundle, as
 * signing in did. */
Test(client, logout_uses_the_ca_bundle)
{
	char *out = NULL, *err = NULL, *want, *args;
	long long now = (long long)time(NULL);
	int rc;

	start_server_tls("1h", 1);
	unsetenv("JITCA_SERVER");
	unsetenv("XDG_CACHE_HOME");
	session_file("00000000000000000000000000000001", url,
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", now + 600);
	rc = jitca(NULL, "logout", &out, &err);
	cr_assert_eq(rc, 1, "%s%s", out, err);
	/* Without it, the system store: the TLS check refuses the server. */
	want = tu_fmt("jitca: could not end the session on %s: SSL "
		      "certificate problem: self-signed certificate; removed "
		      "it here only (it expires at ",
	    url);
	cr_assert(strstr(err, want) != NULL, "%s", err);
	free(want);
	free(out);
	free(err);
	session_file("00000000000000000000000000000001", url,
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", now + 600);
	args = tu_fmt("logout --ca-bundle '%s/tls.crt'", dir);
	rc = jitca(NULL, args, &out, &err);
	cr_assert_eq(rc, 0, "%s%s", out, err);
	/* The server answered (over TLS): it does not know that token. */
	want = tu_fmt("the session of alice on %s was already ended\n", url);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	free(want);
	free(args);
	free(out);
	free(err);
}

/* status and logout name the bad line of ~/.config/jitca/config; logout
 * fails, and says so, for a file it cannot remove. */
Test(client, status_and_logout_report_what_went_wrong)
{
	char *out = NULL, *err = NULL,
	     *cfgdir = tu_fmt("%s/.config/jitca", home);
	char *cfg = tu_fmt("%s/config", cfgdir);
	char *jdir = tu_fmt("%s/.ssh/jitca", home);
	char *stuck = tu_fmt("%s/stuck-cert.pub", jdir), *want;
	int rc;

	cr_assert_eq(
	    tu_sh(tu_fmt("mkdir -p '%s' '%s'", cfgdir, jdir), NULL, NULL), 0);
	tu_write_file(cfg, "server\n", 7, 0600);
	rc = jitca(NULL, "status", &out, &err);
	cr_assert_eq(rc, 2, "%s", err);
	want = tu_fmt("jitca: %s:1: expected \"key = value\"\n", cfg);
	cr_assert_str_eq(err, want);
	free(want);
	free(out);
	free(err);
	rc = jitca(NULL, "logout", &out, &err);
	cr_assert_eq(rc, 2, "%s", err);
	free(out);
	free(err);
	unlink(cfg);

	/* A directory where a certificate file would be: unlink fails. */
	cr_assert_eq(mkdir(stuck, 0700), 0);
	rc = jitca(NULL, "logout", &out, &err);
	cr_assert_eq(rc, 1, "%s", err);
	want = tu_fmt("jitca: cannot remove %s: Is a directory\n", stuck);
	cr_assert(strstr(err, want) != NULL, "%s", err);
	cr_assert_null(strstr(out, "deleted"), "%s", out);
	free(want);
	free(out);
	free(err);
	free(stuck);
	free(jdir);
	free(cfg);
	free(cfgdir);
}
