/*
 * test_lifecycle.c: the request lifecycle and the daily commands as a
 * user meets them, with the real `jitcad serve` ($JITCAD), the real
 * client `jitca` ($JITCA), a real ssh-agent, ssh-keygen, curl for the raw
 * API, and tmux for a real terminal: Ctrl-C typed into a waiting
 * `jitca login` withdraws the request (the API says "withdrawn", an
 * approval gets 409 wrong_state); a server restart during the wait is
 * survived; `jitca approve --ttl` shortens what is signed (ssh-keygen
 * -L); a stale digest is refused (409 digest_mismatch) and a longer ttl
 * too (400 ttl_not_shorter); `jitca roles`, --json and the filters, the
 * common options before the command word; `jitca status` saying
 * "revoked" and "local only", --prune; `jitca ssh-config`; one CA pin
 * per server; `jitca cancel`; break-glass end to end (issued without an
 * approver, the extension in ssh-keygen -L, needs review until an
 * approver reviews it, `jitcad ledger break-glass`); and `ledger
 * verify` replaying it all.
 *
 * Uses tests/lib/testutil.h and tests/lib/proc.h; tmux with its own
 * socket in the scratch directory (its server is killed at teardown).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/jitcad.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

static char *dir, *home, *state, *url, *sock, *tmux_sock;
static pid_t serve_pid = -1, agent_pid = -1, login_pid = -1;
static char *tok_alice, *tok_bob;
static int port;

static const char config_fmt[] =
    "{\n"
    " \"listen\": \"127.0.0.1:8443\",\n"
    " \"ca\": {\"key\": \"ca_key.pem\", \"backdate\": \"1m\","
    " \"hard_max_ttl\": \"24h\"},\n"
    " \"ledger\": {\"url\": \"ledger.db\"},\n"
    " \"request_ttl\": \"1h\",\n"
    " \"limits\": {\"requests_per_minute\": 1000},\n"
    " \"roles\": {\n"
    "  \"fast\": {\"principals\": [\"{{user}}\"], \"max_ttl\": \"1h\","
    " \"requesters\": [\"engineering\"], \"approvals_required\": 0,"
    " \"extensions\": [\"permit-pty\"]},\n"
    "  \"prod\": {\"principals\": [\"{{user}}\", \"debug\"],"
    " \"default_ttl\": \"30m\", \"max_ttl\": \"2h\","
    " \"requesters\": [\"engineering\"], \"approvers\": [\"sre-leads\"],"
    " \"approvals_required\": 1,"
    " \"critical_options\": {\"source-address\": \"10.9.9.0/24\"}},\n"
    "  \"db\": {\"principals\": [\"{{user}}\"], \"max_ttl\": \"2h\","
    " \"requesters\": [\"engineering\"], \"approvers\": [\"sre-leads\"],"
    " \"approvals_required\": 2, \"break_glass\": {\"max_ttl\": \"10m\"},"
    " \"extensions\": [\"permit-pty\"]}\n"
    " }\n"
    "}\n";

/* jitcad serve on 127.0.0.1:port (fixed, so a restart keeps the URL). */
static void
serve(void)
{
	char *listen = tu_fmt("127.0.0.1:%d", port);
	char *log = tu_fmt("%s/serve.err", dir);
	char *argv[] = {(char *)(uintptr_t)tu_env("JITCAD"), "serve", "--state",
	    state, "--listen", listen, NULL};
	char *t;

	tu_write_file(log, "", 0, 0644);
	serve_pid = tu_spawn(argv, NULL, log);
	t = tu_file_wait(log, "listening on http://", serve_pid);
	free(t);
	free(listen);
	free(log);
}

static void
start(void)
{
	char *cmd, *cfg, *path;

	cmd = tu_fmt("'%s' init --state '%s'", tu_env("JITCAD"), state);
	free(tu_sh_ok(cmd));
	free(cmd);
	cfg = tu_fmt("%s", config_fmt);
	path = tu_fmt("%s/jitca.json", state);
	tu_write_file(path, cfg, strlen(cfg), 0600);
	free(cfg);
	free(path);
	tok_alice = tu_user_token(state, dir, "alice", "--group engineering");
	tok_bob = tu_user_token(state, dir, "bob", "--group sre-leads");
	port = tu_free_port();
	url = tu_fmt("http://127.0.0.1:%d", port);
	setenv("JITCA_SERVER", url, 1);
	serve();
	agent_pid = tu_agent_start(sock);
	setenv("SSH_AUTH_SOCK", sock, 1);
}

static void
setup(void)
{
	dir = tu_tmpdir();
	state = tu_fmt("%s/state", dir);
	sock = tu_fmt("%s/agent.sock", dir);
	tmux_sock = tu_fmt("%s/tmux.sock", dir);
	home = tu_client_home(dir);
	unsetenv("TMUX");
}

static void
teardown(void)
{
	char *cmd = tu_fmt("tmux -S '%s' kill-server 2>/dev/null", tmux_sock);

	(void)tu_sh(cmd, NULL, NULL);
	free(cmd);
	tu_stop(&login_pid);
	tu_stop(&agent_pid);
	tu_stop(&serve_pid);
	tu_rmtree(dir);
}

TestSuite(lifecycle, .init = setup, .fini = teardown, .timeout = 180);

/* jitca ARGS (a shell fragment) with a token file (NULL: none). */
static int
jitca(const char *tok, const char *args, char **out, char **err)
{
	char *cmd = tok != NULL
	    ? tu_fmt("'%s' %s --token-file '%s' </dev/null", tu_env("JITCA"),
		  args, tok)
	    : tu_fmt("'%s' %s </dev/null", tu_env("JITCA"), args);
	int rc = tu_sh(cmd, out, err);

	free(cmd);
	return rc;
}

/* POST path with a JSON body as the owner of tok; returns the status,
 * *body the reply. */
static int
post(const char *tok, const char *path, const char *json, char **body)
{
	char *t = tu_read_file(tok, NULL), *cmd, *code = NULL;
	int status;

	t[strcspn(t, "\n")] = '\0';
	cmd = tu_fmt("curl -s -o '%s/reply' -w '%%{http_code}' -X POST -H "
		     "'Authorization: Bearer %s' -H 'Content-Type: "
		     "application/json' -d '%s' '%s%s'",
	    dir, t, json, url, path);
	cr_assert_eq(tu_sh(cmd, &code, NULL), 0);
	status = atoi(code);
	*body = tu_read_file(tu_fmt("%s/reply", dir), NULL);
	free(code);
	free(cmd);
	free(t);
	return status;
}

/* GET /v1/requests/ID as alice: the "state" field. */
static char *
state_of(int id)
{
	char *t = tu_read_file(tok_alice, NULL), *cmd, *out;

	t[strcspn(t, "\n")] = '\0';
	cmd = tu_fmt("curl -s -H 'Authorization: Bearer %s' "
		     "'%s/v1/requests/%d' | python3 -c 'import json,sys; "
		     "print(json.load(sys.stdin)[\"state\"])'",
	    t, url, id);
	out = tu_sh_ok(cmd);
	out[strcspn(out, "\n")] = '\0';
	free(cmd);
	free(t);
	return out;
}

static void
verify_ledger(void)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(
	    tu_jitcad(state, "ledger verify", &out, &err), 0, "%s%s", out, err);
	cr_assert(strncmp(out, "ok: ", 4) == 0, "%s", out);
	free(out);
	free(err);
}

Test(lifecycle, ctrl_c_in_a_terminal_withdraws)
{
	char *cmd, *body = NULL, *t, *st, *e = tu_fmt("%s/login.err", dir);
	int status, i;

	cr_assert_not_null(tu_which("tmux"), "tmux is not installed");
	start();
	/* jitca login in a real terminal (tmux), stderr also to a file. */
	cmd = tu_fmt("tmux -S '%s' new-session -d -x 160 -y 40 "
		     "\"HOME='%s' JITCA_SERVER='%s' '%s' login --role prod "
		     "--reason pty --token-file '%s' 2>'%s'; sleep 30\"",
	    tmux_sock, home, url, tu_env("JITCA"), tok_alice, e);
	free(tu_sh_ok(cmd));
	free(cmd);
	free(tu_file_wait(e, "is pending", -1));
	tu_sleep_ms(700); /* polling */
	cmd = tu_fmt("tmux -S '%s' send-keys C-c", tmux_sock);
	free(tu_sh_ok(cmd));
	free(cmd);
	for (i = 0; i < 250; i++) {
		t = tu_read_file(e, NULL);
		if (t != NULL && strstr(t, "withdrew request 1") != NULL)
			break;
		free(t);
		t = NULL;
		tu_sleep_ms(20);
	}
	cr_assert_not_null(t, "no withdrawal after Ctrl-C");
	cr_assert(strstr(t,
		      "jitca: interrupted while waiting for request 1\n"
		      "jitca: withdrew request 1: nobody can approve "
		      "it now\n") != NULL,
	    "%s", t);
	free(t);
	st = state_of(1);
	cr_assert_str_eq(st, "withdrawn");
	free(st);
	status = post(tok_bob, "/v1/requests/1/approve", "{}", &body);
	cr_assert_eq(status, 409, "%s", body);
	cr_assert(strstr(body, "\"code\":\"wrong_state\"") != NULL, "%s", body);
	free(body);
	/* The filters see it as such. */
	cr_assert_eq(
	    jitca(tok_alice, "requests --state withdrawn --json", &t, NULL), 0);
	cr_assert(strstr(t, "\"state\": \"withdrawn\"") != NULL, "%s", t);
	free(t);
	verify_ledger();
	free(e);
}

Test(lifecycle, server_restart_during_the_wait_is_survived)
{
	char *o = tu_fmt("%s/login.out", dir), *e = tu_fmt("%s/login.err", dir);
	char *args, *t, *out = NULL;
	char *argv[] = {(char *)(uintptr_t)tu_env("JITCA"), "login", "--role",
	    "prod", "--reason", "restart", "--wait", "2m", "--token-file", NULL,
	    NULL};
	int rc;

	start();
	argv[9] = tok_alice;
	login_pid = tu_spawn(argv, o, e);
	free(tu_file_wait(e, "is pending", login_pid));
	tu_stop(&serve_pid);
	free(tu_file_wait(e, "jitca: cannot reach the server (", login_pid));
	tu_sleep_ms(1500);
	serve();
	free(tu_file_wait(e, "the server answers again", login_pid));
	args = tu_fmt("approve 1 --yes --comment 'after the restart'");
	rc = jitca(tok_bob, args, &out, NULL);
	cr_assert_eq(rc, 0, "%s", out);
	free(out);
	cr_assert_eq(tu_wait_exit(&login_pid), 0, "%s", tu_read_file(e, NULL));
	t = tu_read_file(o, NULL);
	cr_assert(
	    strstr(t, "approved by: bob: \"after the restart\"\n") != NULL,
	    "%s", t);
	/* The role's source-address does not admit this machine: said. */
	cr_assert(
	    strstr(t, "options:     source-address=10.9.9.0/24\n") != NULL,
	    "%s", t);
	free(t);
	t = tu_read_file(e, NULL);
	cr_assert(strstr(t,
		      "jitca: warning: this certificate works only from "
		      "10.9.9.0/24 (source-address), and none of this "
		      "machine's addresses (") != NULL,
	    "%s", t);
	free(t);
	free(args);
	free(o);
	free(e);
}

Test(lifecycle, approver_shortens_and_digest_is_checked)
{
	char *out = NULL, *err = NULL, *body = NULL, *t, *p, *json;
	char *o = tu_fmt("%s/login.out", dir), *e = tu_fmt("%s/login.err", dir);
	char *argv[] = {(char *)(uintptr_t)tu_env("JITCA"), "login", "--role",
	    "prod", "--ttl", "30m", "--reason", "short", "--no-agent",
	    "--token-file", NULL, NULL};
	int status;

	start();
	argv[10] = tok_alice;
	login_pid = tu_spawn(argv, o, e);
	free(tu_file_wait(e, "is pending", login_pid));
	/* A stale digest, and a longer ttl, are refused. */
	status = post(tok_bob, "/v1/requests/1/approve",
	    "{\"expect\": \"sha256:0000000000000000000000000000000000000000"
	    "000000000000000000000000\"}",
	    &body);
	cr_assert_eq(status, 409, "%s", body);
	cr_assert(
	    strstr(body, "\"code\":\"digest_mismatch\"") != NULL, "%s", body);
	free(body);
	status =
	    post(tok_bob, "/v1/requests/1/approve", "{\"ttl\": \"1h\"}", &body);
	cr_assert_eq(status, 400, "%s", body);
	cr_assert(
	    strstr(body, "\"code\":\"ttl_not_shorter\"") != NULL, "%s", body);
	free(body);
	/* jitca approve shows the digest and sends it with --ttl 5m. */
	cr_assert_eq(jitca(tok_bob, "approve 1 --ttl 5m --yes", &out, &err), 0,
	    "%s", err);
	cr_assert(strstr(out, "\ndigest:      sha256:") != NULL, "%s", out);
	cr_assert(strstr(out, "approved request 1: certificate issued") != NULL,
	    "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tu_wait_exit(&login_pid), 0, "%s", tu_read_file(e, NULL));
	/* 5 minutes (+ the 1m backdate) in the certificate itself. */
	t = tu_sh_ok("ssh-keygen -L -f ~/.ssh/jitca/prod-cert.pub | sed -n "
		     "'s/^ *Valid: from \\(.*\\) to \\(.*\\)$/\\1 \\2/p' | "
		     "{ read a b; echo $(( $(date -d \"$b\" +%s) - $(date -d "
		     "\"$a\" +%s) )); }");
	cr_assert_str_eq(t, "360\n");
	free(t);
	/* ... and in the request. */
	cr_assert_eq(
	    jitca(tok_alice, "requests --json --user alice", &json, NULL), 0);
	p = strstr(json, "\"ttl\": ");
	cr_assert(
	    p != NULL && strncmp(p, "\"ttl\": 300,", 11) == 0, "%s", json);
	free(json);
	verify_ledger();
	free(o);
	free(e);
}

Test(lifecycle, daily_commands)
{
	char *out = NULL, *err = NULL, *t, *args, *st2, *url2, *tok2;
	pid_t serve2 = -1;
	int rc;

	start();
	/* jitca roles, and the common options before the command word. */
	args = tu_fmt("--server %s --token-file '%s' roles", url, tok_alice);
	rc = jitca(NULL, args, &out, &err);
	free(args);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(strncmp(out, "ROLE ", 5) == 0 && strstr(out, "\nfast ") &&
		strstr(out, "\nprod  "),
	    "%s", out);
	t = strstr(out, "\nprod ");
	cr_assert(strstr(t, " alice,debug ") && strstr(t, " 2h ") &&
		strstr(t, " request "),
	    "%s", out);
	t = strstr(out, "\ndb ");
	cr_assert(t != NULL && strstr(t, " 10m\n") != NULL, "%s", out);
	free(out);
	free(err);
	cr_assert_eq(jitca(tok_bob, "roles --json", &out, NULL), 0);
	cr_assert(strstr(out, "\"name\": \"prod\"") &&
		strstr(out, "\"can_approve\": true") &&
		!strstr(out, "\"name\": \"fast\""),
	    "%s", out);
	free(out);

	/* cancel: the requester withdraws by hand. */
	rc = jitca(
	    tok_alice, "login --role prod --reason x --wait 1s", NULL, &err);
	cr_assert_eq(rc, 8, "%s", err);
	free(err);
	t = state_of(1);
	cr_assert_str_eq(t, "withdrawn");
	free(t);
	rc = jitca(tok_alice, "cancel 1", &out, &err);
	cr_assert_eq(rc, 1, "%s", out);
	cr_assert(strstr(err, "request 1: ") != NULL, "%s", err);
	free(out);
	free(err);

	/* A certificate in files: status says valid, then revoked. */
	cr_assert_eq(jitca(tok_alice,
			 "login --role fast --reason x --no-agent --ttl 10m",
			 NULL, &err),
	    0, "%s", err);
	free(err);
	cr_assert_eq(jitca(tok_alice, "status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "\nfile   fast ") && strstr(out, " valid\n"),
	    "%s", out);
	free(out);
	free(err);
	cr_assert_eq(
	    tu_jitcad(state, "revoke --request 2 --reason x", NULL, NULL), 0);
	cr_assert_eq(
	    jitca(tok_alice, "status --json", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "\"status\": \"revoked\"") != NULL, "%s", out);
	free(out);
	free(err);

	/* ssh-config: the file-mode block for fast. */
	cr_assert_eq(
	    jitca(tok_alice, "ssh-config --host '*.staging'", &out, &err), 0,
	    "%s", err);
	cr_assert(strstr(out,
		      "Host *.staging\n    IdentitiesOnly yes\n    "
		      "IdentityFile ~/.ssh/jitca/fast\n    "
		      "CertificateFile ~/.ssh/jitca/fast-cert.pub\n") != NULL,
	    "%s", out);
	free(out);
	free(err);

	/* An expired one is pruned; with the server gone, local only.  5 s:
	 * login refuses a certificate that has expired on arrival, and
	 * under a loaded CI a round trip took more than 1 s. */
	cr_assert_eq(jitca(tok_alice,
			 "login --role fast --reason x --no-agent --ttl 5s "
			 "--force",
			 NULL, &err),
	    0, "%s", err);
	free(err);
	tu_sleep_ms(6100);
	cr_assert_eq(
	    jitca(tok_alice, "status --prune", &out, &err), 0, "%s", err);
	cr_assert(strstr(err, "deleted the expired ") != NULL, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(access(tu_fmt("%s/.ssh/jitca/fast", home), F_OK), -1);
	cr_assert_eq(
	    jitca(tok_alice, "login --role fast --reason x", NULL, &err), 0,
	    "%s", err);
	free(err);
	tu_stop(&serve_pid);
	cr_assert_eq(jitca(tok_alice, "status", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, " local only\n") != NULL, "%s", out);
	cr_assert(
	    strstr(err, "local only: the server could not be asked") != NULL,
	    "%s", err);
	free(out);
	free(err);
	serve();

	/* A second server with its own CA, from the same home. */
	st2 = tu_fmt("%s/state2", dir);
	args =
	    tu_fmt("'%s' init --state '%s' >/dev/null", tu_env("JITCAD"), st2);
	free(tu_sh_ok(args));
	free(args);
	tok2 = tu_user_token(st2, dir, "alice2", "--group engineering");
	url2 = tu_serve_start(
	    st2, tu_fmt("%s/serve2.err", dir), NULL, NULL, &serve2);
	args =
	    tu_fmt("login --server %s --role staging --reason x --token-file "
		   "'%s'",
		url2, tok2);
	rc = jitca(NULL, args, NULL, &err);
	tu_stop(&serve2);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(strstr(err, "(first use)") != NULL, "%s", err);
	free(err);
	free(args);
	/* ... and the first still works, with its own pin. */
	cr_assert_eq(
	    jitca(tok_alice, "login --role fast --reason x --force --no-agent",
		NULL, &err),
	    0, "%s", err);
	cr_assert_null(strstr(err, "first use"), "%s", err);
	free(err);
	t = tu_fmt("%s/.config/jitca/ca/127.0.0.1_%d.pub", home, port);
	cr_assert_eq(access(t, F_OK), 0);
	free(t);
	verify_ledger();
	free(st2);
	free(url2);
	free(tok2);
}

Test(lifecycle, break_glass_end_to_end)
{
	char *out = NULL, *err = NULL, *t, *body = NULL;
	int rc;

	start();
	/* A role without break_glass refuses it. */
	rc = jitca(tok_alice, "login --role prod --break-glass --reason x",
	    NULL, &err);
	cr_assert_eq(rc, 5, "%s", err);
	cr_assert(strstr(err, "the role allows no break-glass access") != NULL,
	    "%s", err);
	free(err);
	/* db needs two approvers; break-glass issues at once, 10m at most. */
	rc = jitca(tok_alice,
	    "login --role db --break-glass --ttl 1h "
	    "--reason 'outage' --no-agent",
	    NULL, &err);
	cr_assert_eq(rc, 1, "%s", err);
	free(err);
	rc = jitca(tok_alice,
	    "login --role db --break-glass --reason 'INC-1 outage' --no-agent",
	    &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(strstr(out,
		      "approved:    nobody: break-glass, every "
		      "approver was told; an approver must review "
		      "it\n") != NULL,
	    "%s", out);
	cr_assert(strstr(err,
		      "jitca: break-glass: request 1 is flagged for "
		      "review; every approver of db has been told\n") != NULL,
	    "%s", err);
	free(out);
	free(err);
	t = tu_sh_ok("ssh-keygen -L -f ~/.ssh/jitca/db-cert.pub");
	cr_assert(
	    strstr(t, "\n                break-glass@jitca ") != NULL, "%s", t);
	cr_assert(strstr(t, "\n                permit-pty\n") != NULL, "%s", t);
	free(t);
	t = tu_sh_ok("ssh-keygen -L -f ~/.ssh/jitca/db-cert.pub | sed -n "
		     "'s/^ *Valid: from \\(.*\\) to \\(.*\\)$/\\1 \\2/p' | "
		     "{ read a b; echo $(( $(date -d \"$b\" +%s) - $(date -d "
		     "\"$a\" +%s) )); }");
	cr_assert_str_eq(t, "660\n"); /* 10m + the 1m backdate */
	free(t);
	/* Needs review: listed for the CA, the requester cannot review. */
	cr_assert_eq(
	    tu_jitcad(state, "ledger break-glass", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "\n1      alice ") != NULL &&
		strstr(out, " needed  INC-1 outage\n") != NULL,
	    "%s", out);
	free(out);
	free(err);
	rc = jitca(tok_alice, "review 1 --comment mine", NULL, &err);
	cr_assert_eq(rc, 5, "%s", err);
	free(err);
	cr_assert_eq(post(tok_bob, "/v1/requests/1/approve", "{}", &body), 409,
	    "%s", body);
	free(body);
	rc = jitca(
	    tok_bob, "review 1 --comment 'checked the session'", &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(out, "reviewed request 1\n");
	free(out);
	free(err);
	cr_assert_eq(post(tok_bob, "/v1/requests/1/review",
			 "{\"comment\": \"again\"}", &body),
	    409, "%s", body);
	free(body);
	cr_assert_eq(tu_jitcad(state, "ledger break-glass", &out, &err), 0);
	cr_assert(strstr(err, "none needs review") != NULL, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(
	    tu_jitcad(state, "ledger break-glass --all", &out, NULL), 0);
	cr_assert(strstr(out, " done    INC-1 outage\n") != NULL, "%s", out);
	free(out);
	/* The ledger has the broadcast and the review, and verifies. */
	cr_assert_eq(tu_jitcad(state, "ledger export", &out, NULL), 0);
	cr_assert(strstr(out, "\"type\":\"request.break_glass\"") &&
		strstr(out, "\"type\":\"request.reviewed\""),
	    "%s", out);
	free(out);
	verify_ledger();
}

/*
 * scripts/bootstrap never removes a package: with an apt-get (first in
 * PATH) that would remove one to install another, it stops, names it and
 * installs nothing.  Root only: as another user it would call sudo, which
 * resets PATH to the real apt-get.
 */
Test(lifecycle, bootstrap_never_removes_a_package)
{
	char *bin = tu_fmt("%s/fakebin", dir), *p, *cmd, *err = NULL, *log;
	const char *apt =
	    "#!/bin/sh\n"
	    "echo \"apt-get $*\" >> \"$FAKE_LOG\"\n"
	    "case \" $* \" in\n"
	    "*\" -s \"*) echo 'Inst libcurl4-openssl-dev (7.88)'; "
	    "echo 'Remv libcurl4-gnutls-dev [7.88]' ;;\n"
	    "esac\nexit 0\n";
	const char *dpkg = "#!/bin/sh\nexit 1\n";
	int rc;

	cr_assert_eq(geteuid(), 0,
	    "this test needs root (bootstrap would call sudo, as in CI): run "
	    "the suite as root");
	cr_assert_eq(mkdir(bin, 0755), 0);
	p = tu_fmt("%s/apt-get", bin);
	tu_write_file(p, apt, strlen(apt), 0755);
	free(p);
	p = tu_fmt("%s/dpkg-query", bin);
	tu_write_file(p, dpkg, strlen(dpkg), 0755);
	free(p);
	log = tu_fmt("%s/apt.log", dir);
	cmd = tu_fmt("FAKE_LOG='%s' PATH='%s':\"$PATH\" "
		     "'%s/scripts/bootstrap' </dev/null",
	    log, bin, tu_env("JITCA_SOURCE_DIR"));
	rc = tu_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 1, "%s", err);
	cr_assert(strstr(err, "bootstrap: installing: build-essential ") == err,
	    "%s", err);
	cr_assert(strstr(err,
		      " would remove libcurl4-gnutls-dev, which "
		      "conflicts with a package jitca needs") != NULL,
	    "%s", err);
	p = tu_read_file(log, NULL);
	cr_assert_not_null(p);
	/* It asked (-s) and installed nothing. */
	cr_assert(strstr(p, "apt-get install -s ") != NULL, "%s", p);
	cr_assert_null(strstr(p, "apt-get install -y"), "%s", p);
	free(p);
	free(err);
	free(cmd);
	free(log);
	free(bin);
}

/* SIGHUP's log line names the roles added, removed and changed. */
Test(lifecycle, sighup_names_what_changed)
{
	const char *cfg =
	    "{\n"
	    " \"listen\": \"127.0.0.1:8443\",\n"
	    " \"ca\": {\"key\": \"ca_key.pem\", \"backdate\": \"1m\","
	    " \"hard_max_ttl\": \"24h\"},\n"
	    " \"ledger\": {\"url\": \"ledger.db\"},\n"
	    " \"roles\": {\n"
	    "  \"prod\": {\"principals\": [\"{{user}}\", \"debug\"],"
	    " \"default_ttl\": \"30m\", \"max_ttl\": \"1h\","
	    " \"requesters\": [\"engineering\"], \"approvers\": [\"sre-leads\"],"
	    " \"approvals_required\": 1,"
	    " \"critical_options\": {\"source-address\": \"10.9.9.0/24\"}},\n"
	    "  \"db\": {\"principals\": [\"{{user}}\"], \"max_ttl\": \"2h\","
	    " \"requesters\": [\"engineering\"], \"approvers\": [\"sre-leads\"],"
	    " \"approvals_required\": 2, \"break_glass\": {\"max_ttl\": \"10m\"},"
	    " \"extensions\": [\"permit-pty\"]},\n"
	    "  \"ops\": {\"principals\": [\"ops\"], \"max_ttl\": \"1h\","
	    " \"requesters\": [\"engineering\"], \"approvals_required\": 0}\n"
	    " }\n"
	    "}\n";
	char *path, *log;

	start();
	path = tu_fmt("%s/jitca.json", state);
	tu_write_file(path, cfg, strlen(cfg), 0600);
	cr_assert_eq(kill(serve_pid, SIGHUP), 0);
	log = tu_fmt("%s/serve.err", dir);
	free(tu_file_wait(log,
	    "jitcad serve: configuration reloaded: roles added: ops; removed: "
	    "fast; changed: prod\n",
	    serve_pid));
	free(log);
	free(path);
}

/* cmake --install puts jitcad.service where systemd looks, naming the
 * installed jitcad, and the two users it needs for systemd-sysusers. */
Test(lifecycle, install_puts_the_unit_and_its_users)
{
	char *prefix = tu_fmt("%s/prefix", dir), *cmd, *t, *p;

	cmd = tu_fmt("cmake --install '%s' --prefix '%s' >/dev/null",
	    tu_env("JITCA_BUILD_DIR"), prefix);
	free(tu_sh_ok(cmd));
	free(cmd);
	p = tu_fmt("%s/lib/systemd/system/jitcad.service", prefix);
	t = tu_read_file(p, NULL);
	cr_assert_not_null(t, "%s is not installed", p);
	free(p);
	p = tu_fmt("\nExecStart=%s/bin/jitcad serve --state /var/lib/jitca "
		   "--user jitca\n",
	    prefix);
	cr_assert(strstr(t, p) != NULL, "%s", t);
	free(p);
	free(t);
	p = tu_fmt("%s/bin/jitcad", prefix);
	cr_assert_eq(access(p, X_OK), 0);
	free(p);
	p = tu_fmt("%s/lib/sysusers.d/jitca.conf", prefix);
	t = tu_read_file(p, NULL);
	cr_assert_not_null(t, "%s is not installed", p);
	cr_assert(strstr(t, "\nu jitca-ca - ") != NULL &&
		strstr(t, "\nu jitca - ") != NULL,
	    "%s", t);
	free(t);
	free(p);
	free(prefix);
}
