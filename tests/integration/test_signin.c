/*
 * test_signin.c: issue 15, signing in with an identity provider end to
 * end, with real processes only: the test OpenID Provider
 * (tests/oidc/provider.mjs, panva's oidc-provider under node, on a free
 * loopback port), `jitcad serve` ($JITCAD) with an "oidc" block naming it,
 * `jitca` ($JITCA) with a HOME per person and a real ssh-agent, and a
 * person at a browser: $JITCA_BROWSER is a small script that runs
 * tests/oidc/browser.mjs (puppeteer-core driving Debian's chromium
 * through the provider's login and consent pages, or its device pages
 * with the code jitca shows), instead of xdg-open.
 *
 * What each test shows: the browser flow (PKCE, loopback redirect) and
 * the device flow (RFC 8628) each end with a certificate in the agent and
 * a session cached 0600 that the next command uses without signing in;
 * groups from the claim decide who may request and approve; an approver
 * whose sign-in is older than approver_max_auth_age gets 401
 * reauth_required and succeeds after jitca signs in again; bad ID tokens
 * through POST /v1/session are each refused with their own code and
 * nothing is written to the ledger; the session token is stored only as
 * its SHA-256; `jitca logout` ends the session at the server (its token
 * refused after, event session.closed); an admin's `jitcad user disable`
 * ends an OIDC user's session and sign-ins; static tokens keep working
 * beside it.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

#define MAX_AUTH_AGE 10 /* seconds: oidc.approver_max_auth_age here */

static char *dir, *state, *prov_url, *server;
static pid_t prov_pid = -1, serve_pid = -1, agent_pid = -1, bg_pid = -1;

static void
setup(void)
{
	dir = tu_tmpdir();
	state = tu_fmt("%s/state", dir);
	unsetenv("JITCA_TOKEN");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("SSH_AUTH_SOCK");
	unsetenv("DISPLAY");
	unsetenv("WAYLAND_DISPLAY");
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
teardown(void)
{
	tu_stop(&bg_pid);
	tu_stop(&agent_pid);
	tu_stop(&serve_pid);
	tu_stop(&prov_pid);
	tu_rmtree(dir);
	free(dir);
	free(state);
	free(prov_url);
	free(server);
	prov_url = server = NULL;
	tu_keep_free();
}

TestSuite(signin, .init = setup, .fini = teardown, .timeout = 240);

static void
prov_start(void)
{
	prov_url = tu_oidc_start(dir, "prov", &prov_pid);
}

/* Run a shell line with HOME=dir/home, the server and the browser hook
 * set; exit status, stdout and stderr. */
static int
sh_as(const char *home, const char *login, const char *line, char **out,
    char **err)
{
	char *cmd = tu_fmt("cd '%s' && mkdir -p '%s/%s' && HOME='%s/%s' "
			   "JITCA_SERVER='%s' JITCA_BROWSER='%s/browser.sh' "
			   "JITCA_TEST_LOGIN='%s' && export HOME JITCA_SERVER "
			   "JITCA_BROWSER JITCA_TEST_LOGIN && %s",
	    dir, dir, home, dir, home, server, dir, login, line);
	int rc = tu_sh(cmd, out, err);

	free(cmd);
	return rc;
}

/* The provider, `jitcad init`, the oidc block, `jitcad serve`, the
 * browser hook. */
static void
start_all(void)
{
	char *log = tu_fmt("%s/serve.log", dir), *t, *p, *cfgp, *hook;
	char *cmd, *argv[8];
	json_t *cfg, *o;
	json_error_t jerr;

	prov_start();
	cmd = tu_fmt("\"$JITCAD\" init --state '%s' >/dev/null", state);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
	cfgp = tu_fmt("%s/jitca.json", state);
	cfg = json_load_file(cfgp, 0, &jerr);
	cr_assert_not_null(cfg, "%s", jerr.text);
	o = json_pack("{s:s,s:s,s:[s,s,s],s:s,s:s}", "issuer", prov_url,
	    "client_id", "jitca", "scopes", "openid", "profile", "groups",
	    "approver_max_auth_age", "10s", "session_max_ttl", "30m");
	cr_assert_not_null(o);
	cr_assert_eq(json_object_set_new(cfg, "oidc", o), 0);
	cr_assert_eq(json_dump_file(cfg, cfgp, JSON_INDENT(2)), 0);
	json_decref(cfg);
	free(cfgp);

	/* The person at the browser: browser.mjs signs in as
	 * $JITCA_TEST_LOGIN; with a second argument, the device code. */
	hook = tu_fmt("%s/browser.sh", dir);
	t = tu_fmt("#!/bin/sh\n"
		   "echo \"$1\" >> '%s/urls'\n"
		   "if [ -n \"$2\" ]; then\n"
		   "  exec node '%s/tests/oidc/browser.mjs' \"$1\" "
		   "\"$JITCA_TEST_LOGIN\" --device \"$2\"\n"
		   "fi\n"
		   "exec node '%s/tests/oidc/browser.mjs' \"$1\" "
		   "\"$JITCA_TEST_LOGIN\"\n",
	    dir, tu_env("JITCA_SOURCE_DIR"), tu_env("JITCA_SOURCE_DIR"));
	tu_write_file(hook, t, strlen(t), 0755);
	free(t);
	free(hook);

	argv[0] = (char *)(uintptr_t)tu_env("JITCAD");
	argv[1] = "serve";
	argv[2] = "--state";
	argv[3] = state;
	argv[4] = "--listen";
	argv[5] = "127.0.0.1:0";
	argv[6] = NULL;
	serve_pid = tu_spawn(argv, "/dev/null", log);
	t = tu_file_wait(log, "listening on http://127.0.0.1:", serve_pid);
	p = strstr(t, "http://127.0.0.1:");
	p[strcspn(p, " \n")] = '\0';
	server = tu_fmt("%s", p);
	free(t);
	free(log);
}

/* An HTTP exchange with libcurl: body (may be NULL: GET), bearer token
 * (may be NULL); the status and the body (new). */
static char *
http(const char *url, const char *body, const char *token, long *status)
{
	struct tu_reply r;
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	char *auth = NULL;
	CURLcode rc;

	memset(&r, 0, sizeof(r));
	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (token != NULL) {
		auth = tu_fmt("Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	rc = curl_easy_perform(c);
	cr_assert_eq(rc, CURLE_OK, "%s: %s", url, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(auth);
	return r.body != NULL ? r.body : tu_fmt("%s", "");
}

/* {"error": {"code"}} of a reply (new), or "". */
static char *
err_code(const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	const char *c = json_string_value(
	    json_object_get(json_object_get(j, "error"), "code"));
	char *s = tu_fmt("%s", c != NULL ? c : "");

	json_decref(j);
	return s;
}

/* A real ID token for login through the provider's pages (its
 * /test/id-token), for client. */
static char *
mint(const char *client, const char *login, const char *nonce)
{
	char *u = tu_fmt("%s/test/id-token?client=%s&login=%s%s%s", prov_url,
	    client, login, nonce ? "&nonce=" : "", nonce ? nonce : "");
	long st;
	char *body = http(u, NULL, NULL, &st), *tok;
	json_t *j = json_loads(body, 0, NULL);

	cr_assert_eq(st, 200, "id-token: %s", body);
	tok = tu_fmt("%s", json_string_value(json_object_get(j, "id_token")));
	json_decref(j);
	free(body);
	free(u);
	return tok;
}

/* A JWS the provider signs with its current ES256 key. */
static char *
sign(const char *header, const char *payload)
{
	char *u = tu_fmt("%s/test/sign", prov_url);
	char *req = tu_fmt("{\"alg\": \"ES256\", \"header\": %s, \"payload\": "
			   "%s}",
	    header ? header : "{}", payload);
	long st;
	char *tok = http(u, req, NULL, &st);

	cr_assert_eq(st, 200, "sign: %s", tok);
	free(u);
	free(req);
	return tok;
}

/* POST /v1/session {id_token, nonce?}: status, body. */
static char *
session_post(const char *id_token, const char *nonce, long *st)
{
	char *u = tu_fmt("%s/v1/session", server);
	json_t *b = json_pack("{s:s}", "id_token", id_token);
	char *text, *reply;

	if (nonce != NULL)
		json_object_set_new(b, "nonce", json_string(nonce));
	text = json_dumps(b, JSON_COMPACT);
	reply = http(u, text, NULL, st);
	json_decref(b);
	free(text);
	free(u);
	return reply;
}

/* The number of events in the ledger. */
static int
event_count(void)
{
	char *cmd =
	    tu_fmt("\"$JITCAD\" ledger export --state '%s' | wc -l", state);
	char *out = NULL;
	int n;

	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	n = atoi(out);
	free(out);
	free(cmd);
	return n;
}

/* The token of the session cached in home (new). */
static char *
cached_token(const char *home)
{
	char *cmd =
	    tu_fmt("cat '%s/%s'/.cache/jitca/session-*.json", dir, home);
	char *out = NULL, *t;
	json_t *j;

	cr_assert_eq(tu_sh(cmd, &out, NULL), 0, "no session in %s", home);
	j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "%s", out);
	t = tu_fmt("%s", json_string_value(json_object_get(j, "token")));
	json_decref(j);
	free(out);
	free(cmd);
	return t;
}

static int
url_count(void)
{
	char *p = tu_fmt("%s/urls", dir), *t = tu_read_file(p, NULL), *s;
	int n = 0;

	for (s = t; s != NULL && (s = strchr(s, '\n')) != NULL; s++)
		n++;
	free(t);
	free(p);
	return n;
}

/* `jitca login` for staging (no approval needed) into a real agent. */
static void
login_to_agent(const char *home, const char *login, const char *flags)
{
	char *sock = tu_fmt("%s/agent.sock", dir), *line, *out = NULL,
	     *err = NULL, *mode;
	struct stat st;
	int rc;

	agent_pid = tu_agent_start(sock);
	line = tu_fmt("SSH_AUTH_SOCK='%s' \"$JITCA\" login %s --role staging "
		      "--reason 'sign-in test' --ttl 10m",
	    sock, flags);
	rc = sh_as(home, login, line, &out, &err);
	cr_assert_eq(rc, 0, "jitca login: %d\n%s\n%s", rc, out, err);
	cr_assert(strstr(err, "to sign in, open this URL") != NULL, "%s", err);
	cr_assert(
	    strstr(err, tu_keep(tu_fmt("signed in as %s", login))) != NULL,
	    "%s", err);
	free(out);
	free(err);
	free(line);
	/* The certificate is in the agent. */
	line = tu_fmt("SSH_AUTH_SOCK='%s' ssh-add -L", sock);
	cr_assert_eq(tu_sh(line, &out, NULL), 0);
	cr_assert(strstr(out, "ssh-ed25519-cert-v01@openssh.com") != NULL ||
		strstr(out, "-cert-v01@openssh.com") != NULL,
	    "no certificate in the agent: %s", out);
	free(out);
	free(line);
	/* The session is cached 0600 in a 0700 directory. */
	mode = tu_fmt("%s/%s/.cache/jitca", dir, home);
	cr_assert_eq(stat(mode, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	free(mode);
	line = tu_fmt(
	    "stat -c %%a '%s/%s'/.cache/jitca/session-*.json", dir, home);
	cr_assert_eq(tu_sh(line, &out, NULL), 0);
	cr_assert_str_eq(out, "600\n");
	free(out);
	free(line);
	free(sock);
}

Test(signin, browser_flow_to_agent)
{
	char *out = NULL, *err = NULL, *tok, *want, *u, *body, *code, *cmd;
	long st;
	int n, rc;

	start_all();
	login_to_agent("alice", "alice", "");
	n = url_count();
	cr_assert_eq(n, 1, "one sign-in, one URL opened");
	/* The next command uses the cached session: no sign-in. */
	rc = sh_as("alice", "alice", "\"$JITCA\" requests", &out, &err);
	cr_assert_eq(rc, 0, "%s%s", out, err);
	cr_assert(strstr(out, "staging") != NULL, "%s", out);
	cr_assert_null(strstr(err, "sign in"), "%s", err);
	cr_assert_eq(url_count(), 1);
	free(out);
	free(err);
	/* jitca logout ends the session at the server, so a copy of its
	 * token is refused too, and removes it: the next command signs
	 * in. */
	tok = cached_token("alice");
	rc = sh_as("alice", "alice", "\"$JITCA\" logout", &out, &err);
	cr_assert_eq(rc, 0, "%s%s", out, err);
	want = tu_fmt("ended the session of alice on %s\n", server);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	free(want);
	cr_assert(strstr(out, "removed 1 session(s)") != NULL, "%s", out);
	free(out);
	free(err);
	u = tu_fmt("%s/v1/requests", server);
	body = http(u, NULL, tok, &st);
	cr_assert_eq(st, 401, "%s", body);
	code = err_code(body);
	cr_assert_str_eq(code, "bad_token", "%s", body);
	free(code);
	free(body);
	free(u);
	cmd = tu_fmt("\"$JITCAD\" ledger export --state '%s' | grep -c "
		     "'\"session.closed\"'",
	    state);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0, "no session.closed event");
	cr_assert_str_eq(out, "1\n");
	free(out);
	free(cmd);
	free(tok);
	rc = sh_as("alice", "alice", "\"$JITCA\" requests", &out, &err);
	cr_assert_eq(rc, 0, "%s%s", out, err);
	cr_assert_eq(url_count(), 2);
	free(out);
	free(err);
}

Test(signin, device_flow_to_agent)
{
	start_all();
	login_to_agent("carol", "carol", "--device");
	cr_assert_eq(url_count(), 1);
}

Test(signin, groups_decide_rights_and_reauth)
{
	char *out = NULL, *err = NULL, *line, *tok, *u, *body, *code, *lo, *le;
	long st;
	int rc;

	start_all();
	/* alice (engineering) asks for prod-debug, which sre-leads approve. */
	lo = tu_fmt("%s/login.out", dir);
	le = tu_fmt("%s/login.err", dir);
	line = tu_fmt("cd '%s' && mkdir -p alice && HOME='%s/alice' "
		      "JITCA_SERVER='%s' JITCA_BROWSER='%s/browser.sh' "
		      "JITCA_TEST_LOGIN=alice && export HOME JITCA_SERVER "
		      "JITCA_BROWSER JITCA_TEST_LOGIN && exec \"$JITCA\" login "
		      "--role prod-debug --reason 'reauth test' --no-agent "
		      "--wait 3m",
	    dir, dir, server, dir);
	{
		char *argv[] = {"/bin/sh", "-c", line, NULL};

		bg_pid = tu_spawn(argv, lo, le);
	}
	free(tu_file_wait(le, "is pending", bg_pid));
	/* bob (sre-leads) may not ask for it. */
	rc = sh_as("bob", "bob",
	    "\"$JITCA\" login --role prod-debug --reason x --no-agent", &out,
	    &err);
	cr_assert_eq(rc, 5, "bob may not request: %d %s", rc, err);
	free(out);
	free(err);
	/* alice may not approve (not in sre-leads, and her own). */
	rc = sh_as("alice", "alice", "\"$JITCA\" approve 1 --yes", &out, &err);
	cr_assert_eq(rc, 5, "alice may not approve: %d %s", rc, err);
	free(out);
	free(err);
	/* bob's sign-in grows older than approver_max_auth_age. */
	tok = cached_token("bob");
	tu_sleep_ms((MAX_AUTH_AGE + 2) * 1000);
	u = tu_fmt("%s/v1/requests/1/approve", server);
	body = http(u, "{}", tok, &st);
	code = err_code(body);
	cr_assert_eq(st, 401, "%s", body);
	cr_assert_str_eq(code, "reauth_required", "%s", body);
	free(code);
	free(body);
	/* jitca signs in again (a fresh login at the provider) and
	 * approves. */
	rc = sh_as("bob", "bob", "\"$JITCA\" approve 1 --yes", &out, &err);
	cr_assert_eq(rc, 0, "approve: %d %s %s", rc, out, err);
	cr_assert(strstr(err, "too old") != NULL, "%s", err);
	cr_assert(strstr(out, "certificate issued") != NULL, "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tu_wait_exit(&bg_pid), 0, "alice's login: %s",
	    tu_read_file(le, NULL));
	free(u);
	free(tok);
	free(line);
	free(lo);
	free(le);
}

Test(signin, bad_id_tokens_refused_nothing_written, .timeout = 240)
{
	static const struct {
		const char *what, *code;
		long status;
	} want[] = {
	    {"not a JWS", "oidc_malformed", 401},
	    {"alg none", "oidc_bad_alg", 401},
	    {"signature altered", "oidc_bad_signature", 401},
	    {"another issuer", "oidc_bad_issuer", 401},
	    {"another client", "oidc_bad_audience", 401},
	    {"expired", "oidc_expired", 401},
	    {"nonce differs", "oidc_nonce", 401},
	    {"no user name claim", "oidc_missing_claim", 401},
	    {"a role's literal principal", "name_is_principal", 403},
	};
	char *tok[sizeof(want) / sizeof(want[0])], *nonce[9] = {NULL};
	char *c, *body, *code, *good, *p;
	time_t now = time(NULL);
	size_t i;
	long st;
	int before, after;

	start_all();
	tok[0] = tu_fmt("%s", "not-a-jwt");
	tok[1] = tu_fmt(
	    "%s", "eyJhbGciOiJub25lIiwia2lkIjoieCJ9.eyJzdWIiOiJhbGljZSJ9.");
	good = mint("jitca", "alice", NULL);
	tok[2] = tu_fmt("%s", good);
	p = strrchr(tok[2], '.') + 5;
	*p = *p == 'A' ? 'B' : 'A';
	c = tu_fmt("{\"iss\": \"http://127.0.0.1:1\", \"aud\": \"jitca\", "
		   "\"sub\": \"alice\", \"preferred_username\": \"alice\", "
		   "\"iat\": %lld, \"exp\": %lld}",
	    (long long)now, (long long)now + 600);
	tok[3] = sign(NULL, c);
	free(c);
	tok[4] = mint("other", "alice", NULL);
	c = tu_fmt("{\"iss\": \"%s\", \"aud\": \"jitca\", \"sub\": \"alice\", "
		   "\"preferred_username\": \"alice\", \"iat\": %lld, "
		   "\"exp\": %lld}",
	    prov_url, (long long)now - 7200, (long long)now - 3600);
	tok[5] = sign(NULL, c);
	free(c);
	tok[6] = mint("jitca", "alice", "n-of-the-token");
	nonce[6] = "n-of-another-sign-in";
	c = tu_fmt("{\"iss\": \"%s\", \"aud\": \"jitca\", \"sub\": \"alice\", "
		   "\"iat\": %lld, \"exp\": %lld}",
	    prov_url, (long long)now, (long long)now + 600);
	tok[7] = sign(NULL, c);
	free(c);
	/* "debug" is a literal principal of prod-debug. */
	tok[8] = mint("jitca", "debug", NULL);

	before = event_count();
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		body = session_post(tok[i], nonce[i], &st);
		code = err_code(body);
		cr_assert_eq(
		    st, want[i].status, "%s: %ld %s", want[i].what, st, body);
		cr_assert_str_eq(
		    code, want[i].code, "%s: %s", want[i].what, body);
		if (i == 8)
			cr_assert(strstr(body, "preferred_username") != NULL,
			    "the message names the claim: %s", body);
		free(code);
		free(body);
		free(tok[i]);
	}
	after = event_count();
	cr_assert_eq(after, before, "nothing written: %d events, then %d",
	    before, after);
	/* The good token itself is accepted: the cases were the only
	 * difference. */
	body = session_post(good, NULL, &st);
	cr_assert_eq(st, 200, "%s", body);
	cr_assert_gt(event_count(), after);
	free(body);
	free(good);
}

/* 1 when the bytes n of needle occur in the file path. */
static int
file_has(const char *path, const void *needle, size_t n)
{
	size_t len = 0;
	char *t = tu_read_file(path, &len);
	int found = t != NULL && len >= n && memmem(t, len, needle, n) != NULL;

	free(t);
	return found;
}

Test(signin, token_hashed_at_rest_disable_and_static_tokens)
{
	char *id, *body, *tok, *db, *wal, *u, *code, *cmd, *out = NULL, *svc;
	unsigned char h[SHA256_DIGEST_LENGTH];
	json_t *j;
	long st;

	start_all();
	id = mint("jitca", "alice", NULL);
	body = session_post(id, NULL, &st);
	cr_assert_eq(st, 200, "%s", body);
	j = json_loads(body, 0, NULL);
	tok = tu_fmt("%s", json_string_value(json_object_get(j, "token")));
	cr_assert_eq(strlen(tok), 49, "jitca_ + 43 base64url: %s", tok);
	cr_assert_eq(strncmp(tok, "jitca_", 6), 0);
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "user")), "alice");
	cr_assert_leq(json_integer_value(json_object_get(j, "expires_at")),
	    (json_int_t)time(NULL) + 1800, "session_max_ttl 30m");
	json_decref(j);
	free(body);
	/* At rest: the hash, never the token. */
	db = tu_fmt("%s/ledger.db", state);
	wal = tu_fmt("%s/ledger.db-wal", state);
	SHA256((const unsigned char *)tok, strlen(tok), h);
	cr_assert(!file_has(db, tok, strlen(tok)) &&
	    !file_has(wal, tok, strlen(tok)));
	cr_assert(file_has(db, h, sizeof(h)) || file_has(wal, h, sizeof(h)),
	    "the SHA-256 of the token is stored");
	/* New groups in the claim at the next sign-in: user.groups, and the
	 * ledger's state still replays from its events. */
	{
		time_t now = time(NULL);
		char *c = tu_fmt(
		    "{\"iss\": \"%s\", \"aud\": \"jitca\", \"sub\": "
		    "\"alice\", \"preferred_username\": \"alice\", "
		    "\"groups\": [\"engineering\", \"sre-leads\"], \"iat\": "
		    "%lld, \"exp\": %lld}",
		    prov_url, (long long)now, (long long)now + 600);
		char *t2 = sign(NULL, c), *vout = NULL;

		body = session_post(t2, NULL, &st);
		cr_assert_eq(st, 200, "%s", body);
		free(body);
		cmd = tu_fmt("\"$JITCAD\" ledger export --state '%s' | grep "
			     "'\"user.groups\"' | grep -c sre-leads",
		    state);
		cr_assert_eq(
		    tu_sh(cmd, &vout, NULL), 0, "no user.groups event");
		cr_assert_str_eq(vout, "1\n");
		free(vout);
		free(cmd);
		cmd = tu_fmt("\"$JITCAD\" ledger verify --state '%s'", state);
		cr_assert_eq(tu_sh(cmd, &vout, NULL), 0, "%s", vout);
		free(vout);
		free(cmd);
		free(t2);
		free(c);
	}
	/* Another person (another sub) whose user-name claim says "alice":
	 * refused, nothing written. */
	{
		time_t now = time(NULL);
		char *c = tu_fmt(
		    "{\"iss\": \"%s\", \"aud\": \"jitca\", \"sub\": "
		    "\"mallory\", \"preferred_username\": \"alice\", "
		    "\"groups\": [\"engineering\"], \"iat\": %lld, \"exp\": "
		    "%lld}",
		    prov_url, (long long)now, (long long)now + 600);
		char *t3 = sign(NULL, c);
		int before = event_count();

		body = session_post(t3, NULL, &st);
		code = err_code(body);
		cr_assert_eq(st, 403, "%s", body);
		cr_assert_str_eq(code, "identity_mismatch", "%s", body);
		cr_assert_eq(event_count(), before);
		free(code);
		free(body);
		free(t3);
		free(c);
	}
	/* The session works, then the admin disables alice. */
	u = tu_fmt("%s/v1/requests", server);
	free(http(u, NULL, tok, &st));
	cr_assert_eq(st, 200);
	cmd = tu_fmt("\"$JITCAD\" user disable alice --state '%s'", state);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	body = http(u, NULL, tok, &st);
	cr_assert_eq(st, 401, "%s", body);
	free(body);
	body = session_post(id, NULL, &st);
	code = err_code(body);
	cr_assert_eq(st, 403, "%s", body);
	cr_assert_str_eq(code, "user_disabled", "%s", body);
	free(code);
	free(body);
	/* A static token (a service account) works beside sessions. */
	free(cmd);
	cmd = tu_fmt(
	    "\"$JITCAD\" user add ci --group engineering --state '%s'", state);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	svc = strstr(out, "jitca_");
	cr_assert_not_null(svc, "%s", out);
	svc[strcspn(svc, " \n")] = '\0';
	free(http(u, NULL, svc, &st));
	cr_assert_eq(st, 200);
	free(out);
	free(cmd);
	free(u);
	free(db);
	free(wal);
	free(tok);
	free(id);
}
