/*
 * test_custody.c: key custody and the signer's supervision with real
 * processes: `jitcad init`/`serve` ($JITCAD) on a fresh state dir, real
 * HTTP on loopback (libcurl), a real sqlite ledger, and the signer
 * process over its real socket.
 *
 * - A signer killed with SIGKILL under `jitcad serve` is reaped (no
 *   zombie), logged, reported by /v1/health (503 with the reason) and
 *   refused for issuance with 503 signer_unavailable + Retry-After while
 *   it cannot be restarted (its key file is made group-readable for that
 *   window, so the window is certain, not a race); the refused request
 *   and approval leave no row; once the key is fixed it is restarted and
 *   issuance works again.  When restarts keep failing jitcad exits 1.
 * - Started as root with `init --ca-user daemon --user nobody` and
 *   `serve --user nobody`, the service runs as nobody, cannot open
 *   ca_key.pem, host_ca_key.pem or ledger_key.pem (EACCES; all three are
 *   daemon's), and the signer runs as daemon under seccomp.
 * - The signer, on its own copy of jitca.json (ca/signpolicy.c), refuses
 *   a principal no role grants, a key id that names another user, a
 *   missing critical option, an unknown role and a TTL over the role's.
 *
 * Uses tests/lib/proc.h and tests/lib/testutil.h, sqlite3 to count rows
 * and jansson to read replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
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
#include <sqlite3.h>

#include "ca/signpolicy.h"
#include "signer/cakey.h"
#include "signer/cert.h"
#include "signer/pubkey.h"
#include "signer/signer.h"
#include "tests/lib/httpjson.h"
#include "tests/lib/jitcad.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

static char *dir, *state, *log_path, *url;
static char *tok_alice, *tok_bob, *pub_alice;
static pid_t serve_pid = -1;

static void
setup(void)
{
	tu_scratch(&dir, &state, &log_path);
}

static void
teardown(void)
{
	tu_stop(&serve_pid);
	tu_scratch_free(&dir, &state, &log_path);
	free(url);
	free(tok_alice);
	free(tok_bob);
	free(pub_alice);
	url = tok_alice = tok_bob = pub_alice = NULL;
}

TestSuite(custody, .init = setup, .fini = teardown, .timeout = 120);

/* init (with extra init arguments), alice (engineering) and bob
 * (sre-leads) with tokens, alice's public key line. */
static void
make_ca(const char *init_args)
{
	char *key = tu_fmt("%s/alice", dir), *args;

	args = tu_fmt("init %s", init_args);
	free(tu_jitcad_ok(state, args));
	free(args);
	tok_alice = tu_jitcad_ok(state, "user add alice --group engineering");
	tok_bob = tu_jitcad_ok(state, "user add bob --group sre-leads");
	pub_alice = tu_keygen("ed25519", key);
	free(key);
}

static void
serve(const char *extra)
{
	url = tu_serve_extra(state, extra, log_path, &serve_pid);
}

static struct tu_res
http(const char *method, const char *path, const char *token, const char *body)
{
	return tu_http_json(url, method, path, token, body, 30L);
}

/* POST /v1/requests for role by alice. */
static struct tu_res
ask(const char *role)
{
	char *body = tu_fmt("{\"role\":\"%s\",\"ttl\":\"10m\",\"reason\":"
			    "\"custody test\",\"public_key\":\"%s\"}",
	    role, pub_alice);
	struct tu_res r = http("POST", "/v1/requests", tok_alice, body);

	free(body);
	return r;
}

static long long
count(const char *sql)
{
	char *db = tu_fmt("%s/ledger.db", state);
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	long long n;

	cr_assert_eq(
	    sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(h));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	free(db);
	return n;
}

/* Poll /v1/health until it answers want; returns that reply. */
static struct tu_res
health_wait(long want)
{
	long long t0 = tu_now_ms();
	struct tu_res r;

	for (;;) {
		r = http("GET", "/v1/health", NULL, NULL);
		if (r.status == want || tu_now_ms() - t0 > TU_WAIT_MS)
			break;
		json_decref(r.j);
		tu_sleep_ms(50);
	}
	cr_assert_eq(r.status, want, "health stayed %ld", r.status);
	return r;
}

Test(custody, killed_signer_degrades_then_restarts)
{
	char *key = tu_fmt("%s/ca_key.pem", state), *log, *want, *path;
	struct tu_res r;
	pid_t old, fresh;
	json_int_t id;

	make_ca("");
	serve("");
	r = ask("staging");
	cr_assert_eq(r.status, 201);
	cr_assert_str_eq(tu_jstr(r.j, "state", NULL), "issued");
	json_decref(r.j);
	/* A pending prod-debug request: bob's approval will need the
	 * signer. */
	r = ask("prod-debug");
	cr_assert_eq(r.status, 201);
	id = json_integer_value(json_object_get(r.j, "id"));
	json_decref(r.j);
	r = health_wait(200);
	json_decref(r.j);

	/* Keep it down: restarts fail while the key is group-readable. */
	old = tu_child_of(serve_pid, 1);
	cr_assert_eq(chmod(key, 0640), 0);
	cr_assert_eq(kill(old, SIGKILL), 0);

	r = health_wait(503);
	cr_assert_str_eq(tu_jstr(r.j, "status", NULL), "degraded");
	cr_assert_str_eq(tu_jstr(r.j, "reason", NULL), "signer_unavailable");
	want = tu_fmt("signer process is not running "
		      "(pid %d killed by signal 9 (SIGKILL))",
	    (int)old);
	cr_assert_str_eq(tu_jstr(r.j, "message", NULL), want, "%s",
	    tu_jstr(r.j, "message", NULL));
	free(want);
	cr_assert_not_null(strstr(r.hdrs, "Retry-After: 1\r\n"), "%s", r.hdrs);
	json_decref(r.j);
	/* Reaped: no zombie left behind. */
	path = tu_fmt("/proc/%d", (int)old);
	cr_assert_neq(access(path, F_OK), 0, "pid %d still exists", (int)old);
	free(path);

	r = ask("staging");
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(tu_jstr(r.j, "error", "code"), "signer_unavailable");
	cr_assert_str_eq(tu_jstr(r.j, "error", "message"),
	    "request: signer process is not running");
	cr_assert_not_null(strstr(r.hdrs, "Retry-After: 1\r\n"), "%s", r.hdrs);
	json_decref(r.j);
	path = tu_fmt("/v1/requests/%lld/approve", (long long)id);
	r = http("POST", path, tok_bob, "{}");
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(tu_jstr(r.j, "error", "code"), "signer_unavailable");
	cr_assert_not_null(strstr(r.hdrs, "Retry-After: 1\r\n"), "%s", r.hdrs);
	json_decref(r.j);
	/* Nothing of the refused attempts was written. */
	cr_assert_eq(count("SELECT count(*) FROM certificates"), 1);
	cr_assert_eq(count("SELECT count(*) FROM approvals"), 0);
	cr_assert_eq(count("SELECT count(*) FROM requests"), 2);
	cr_assert_eq(count("SELECT count(*) FROM events WHERE type IN "
			   "('request.approved', 'cert.issued')"),
	    1);
	log = tu_read_file(log_path, NULL);
	want = tu_fmt("jitcad serve: signer (pid %d) killed by signal 9 "
		      "(SIGKILL); issuing certificates is unavailable until "
		      "it restarts\n",
	    (int)old);
	cr_assert_not_null(strstr(log, want), "%s", log);
	free(want);
	free(log);
	log = tu_file_wait(log_path,
	    "jitcad serve: cannot restart the signer (attempt 1 of 6): ",
	    serve_pid);
	cr_assert_not_null(strstr(log,
			       "jitcad serve: cannot restart the signer "
			       "(attempt 1 of 6): key file is readable by "),
	    "%s", log);
	free(log);

	/* Fixed: the next attempt (backoff) brings it back. */
	cr_assert_eq(chmod(key, 0600), 0);
	r = health_wait(200);
	json_decref(r.j);
	fresh = tu_child_of(serve_pid, 1);
	cr_assert_neq(fresh, old);
	log = tu_file_wait(log_path, "signer restarted (pid ", serve_pid);
	want = tu_fmt("jitcad serve: signer restarted (pid %d)\n", (int)fresh);
	cr_assert_not_null(strstr(log, want), "%s", log);
	free(want);
	free(log);
	cr_assert_str_eq(tu_proc_status(fresh, "\nSeccomp:"), "2");

	r = http("POST", path, tok_bob, "{}");
	cr_assert_eq(r.status, 200, "%ld", r.status);
	cr_assert_str_eq(tu_jstr(r.j, "state", NULL), "issued");
	json_decref(r.j);
	r = ask("staging");
	cr_assert_eq(r.status, 201);
	cr_assert_str_eq(tu_jstr(r.j, "state", NULL), "issued");
	json_decref(r.j);
	cr_assert_eq(count("SELECT count(*) FROM certificates"), 3);
	cr_assert_eq(count("SELECT count(*) FROM approvals"), 1);
	free(tu_jitcad_ok(state, "ledger verify"));
	free(path);
	free(key);
}

Test(custody, exits_nonzero_when_restarts_keep_failing)
{
	char *key = tu_fmt("%s/ca_key.pem", state), *log;
	long long t0;
	int status;

	make_ca("");
	serve("");
	cr_assert_eq(chmod(key, 0644), 0);
	t0 = tu_now_ms();
	cr_assert_eq(kill(tu_child_of(serve_pid, 1), SIGKILL), 0);
	/* 6 attempts, 0.25 s doubling to 4 s apart: about 12 s. */
	status = tu_wait_exit(&serve_pid);
	cr_assert_eq(status, 1, "exit status %d", status);
	cr_assert_lt(tu_now_ms() - t0, 60000);
	log = tu_read_file(log_path, NULL);
	cr_assert_not_null(strstr(log,
			       "jitcad serve: cannot restart the signer "
			       "(attempt 6 of 6)"),
	    "%s", log);
	cr_assert_not_null(
	    strstr(log, "jitcad serve: giving up on the signer; exiting\n"),
	    "%s", log);
	free(log);
	free(key);
}

/* open(path) as uid in a child process; returns its errno (0: opened). */
static int
open_as(uid_t uid, gid_t gid, const char *path)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) != 0 || setgid(gid) != 0 ||
		    setuid(uid) != 0)
			_exit(255);
		fd = open(path, O_RDONLY);
		_exit(fd >= 0 ? 0 : errno);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_neq(
	    WEXITSTATUS(status), 255, "cannot become uid %u", (unsigned)uid);
	return WEXITSTATUS(status);
}

Test(custody, service_uid_cannot_read_the_key)
{
	struct passwd *pw;
	char *key = tu_fmt("%s/ca_key.pem", state), *uid, *want;
	struct stat st;
	struct tu_res r;
	pid_t child;
	uid_t nuid, duid;
	gid_t ngid;

	cr_assert_eq(geteuid(), 0, "this test needs root (as in CI)");
	cr_assert_not_null((pw = getpwnam("nobody")));
	nuid = pw->pw_uid;
	ngid = pw->pw_gid;
	cr_assert_not_null((pw = getpwnam("daemon")));
	duid = pw->pw_uid;

	/* Both users must reach the state directory. */
	cr_assert_eq(chmod(dir, 0711), 0);
	make_ca("--ca-user daemon --user nobody");
	cr_assert_eq(stat(key, &st), 0);
	cr_assert_eq(st.st_uid, duid);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(stat(state, &st), 0);
	cr_assert_eq(st.st_uid, nuid);
	cr_assert_eq(st.st_mode & 0777, 0711);
	/* The service's uid cannot open the key. */
	cr_assert_eq(open_as(nuid, ngid, key), EACCES);
	/* Nor the host CA and ledger keys, which are the CA user's too. */
	{
		static const char *const more[] = {
		    "host_ca_key.pem", "ledger_key.pem"};
		size_t i;

		for (i = 0; i < 2; i++) {
			char *p = tu_fmt("%s/%s", state, more[i]);

			cr_assert_eq(stat(p, &st), 0);
			cr_assert_eq(st.st_uid, duid, "%s", p);
			cr_assert_eq(st.st_mode & 0777, 0600, "%s", p);
			cr_assert_eq(open_as(nuid, ngid, p), EACCES, "%s", p);
			free(p);
		}
	}

	serve("--user nobody");
	uid = tu_proc_status(serve_pid, "\nUid:");
	want = tu_fmt("%u\t%u\t%u\t%u", (unsigned)nuid, (unsigned)nuid,
	    (unsigned)nuid, (unsigned)nuid);
	cr_assert_str_eq(uid, want);
	free(uid);
	free(want);
	child = tu_child_of(serve_pid, 1);
	uid = tu_proc_status(child, "\nUid:");
	want = tu_fmt("%u\t%u\t%u\t%u", (unsigned)duid, (unsigned)duid,
	    (unsigned)duid, (unsigned)duid);
	cr_assert_str_eq(uid, want);
	free(uid);
	free(want);
	cr_assert_str_eq(tu_proc_status(child, "\nSeccomp:"), "2");
	uid = tu_proc_status(serve_pid, "\nGroups:");
	cr_assert_str_eq(uid, "");
	free(uid);

	r = ask("staging");
	cr_assert_eq(r.status, 201);
	cr_assert_str_eq(tu_jstr(r.j, "state", NULL), "issued");
	json_decref(r.j);
	free(key);
}

Test(custody, serve_refuses_a_user_that_can_read_the_key)
{
	char *out = NULL, *err = NULL, *cmd;
	int rc;

	cr_assert_eq(geteuid(), 0, "this test needs root (as in CI)");
	cr_assert_eq(chmod(dir, 0711), 0);
	make_ca("--ca-user daemon --user nobody");
	cmd = tu_fmt("'%s' serve --state '%s' --listen 127.0.0.1:0 --user "
		     "daemon",
	    tu_env("JITCAD"), state);
	rc = tu_sh(cmd, &out, &err);
	cr_assert_eq(rc, 1, "%s", err);
	cr_assert_str_eq(err,
	    "jitcad serve: --user daemon: the service must not run as the "
	    "CA key's owner, which can read the key\n");
	free(cmd);
	free(out);
	free(err);
}

/* ---- the signer's own role checks, over its real socket ---------- */

static struct signer *sg;

/* A certificate for alice's key as the CA would make it for role. */
static struct cert *
cert_for(const char *key_id, const char *principal, uint64_t ttl)
{
	struct cert *c = cert_new();
	uint64_t now = (uint64_t)time(NULL);

	cr_assert_not_null(c);
	cr_assert_eq(
	    pubkey_from_line(&c->key, pub_alice, strlen(pub_alice)), 0);
	c->ca_key = tu_pubkey_copy(signer_public(sg));
	cr_assert_eq(cert_set_random_nonce(c), 0);
	c->serial = 77;
	c->type = CERT_TYPE_USER;
	c->key_id = strdup(key_id);
	cr_assert_eq(cert_add_principal(c, principal), 0);
	c->valid_after = now - 60;
	c->valid_before = now + ttl;
	cr_assert_eq(cert_add_extension(c, "permit-pty", NULL), 0);
	return c;
}

static int
sign_as(const char *user, const char *role, struct cert *c)
{
	int r = signer_sign_user_cert(sg, c, user, role);

	cert_free(c);
	return r;
}

Test(custody, signer_refuses_what_no_role_grants)
{
	struct signer_params sp;
	char *key = tu_fmt("%s/ca_key.pem", state);
	struct cert *c;

	make_ca("");
	memset(&sp, 0, sizeof(sp));
	sp.key_path = key;
	sp.policy = &signpolicy_ops;
	sp.policy_arg = state;
	cr_assert_eq(signer_start(&sg, &sp), 0);

	/* staging grants alice only "alice". */
	cr_assert_eq(
	    sign_as("alice", "staging",
		cert_for("alice:staging:req-1:serial-77", "alice", 600)),
	    0);
	cr_assert_eq(
	    sign_as("alice", "staging",
		cert_for("alice:staging:req-1:serial-77", "root", 600)),
	    ERR_PRINCIPAL_NOT_ALLOWED);
	/* "debug" is prod-debug's, not staging's. */
	cr_assert_eq(
	    sign_as("alice", "staging",
		cert_for("alice:staging:req-1:serial-77", "debug", 600)),
	    ERR_PRINCIPAL_NOT_ALLOWED);
	/* Asked for bob: alice's principal is not bob's. */
	cr_assert_eq(sign_as("bob", "staging",
			 cert_for("bob:staging:req-1:serial-77", "alice", 600)),
	    ERR_PRINCIPAL_NOT_ALLOWED);
	cr_assert_eq(sign_as("bob", "staging",
			 cert_for("alice:staging:req-1:serial-77", "bob", 600)),
	    ERR_SIGNER_KEY_ID);
	cr_assert_eq(sign_as("alice", "root",
			 cert_for("alice:root:req-1:serial-77", "alice", 600)),
	    ERR_SIGNER_NO_ROLE);
	/* prod-debug: max_ttl 2h and source-address 10.0.0.0/8,127.0.0.0/8. */
	c = cert_for("alice:prod-debug:req-1:serial-77", "debug", 600);
	cr_assert_eq(sign_as("alice", "prod-debug", c), ERR_SIGNER_OPTIONS);
	c = cert_for("alice:prod-debug:req-1:serial-77", "debug", 600);
	cr_assert_eq(
	    cert_add_critical(c, "source-address", "10.0.0.0/8,127.0.0.0/8"),
	    0);
	cr_assert_eq(sign_as("alice", "prod-debug", c), 0);
	c = cert_for("alice:prod-debug:req-1:serial-77", "debug", 3 * 3600);
	cr_assert_eq(
	    cert_add_critical(c, "source-address", "10.0.0.0/8,127.0.0.0/8"),
	    0);
	cr_assert_eq(sign_as("alice", "prod-debug", c), ERR_TTL_TOO_LONG);
	c = cert_for("alice:prod-debug:req-1:serial-77", "debug", 600);
	cr_assert_eq(cert_add_critical(c, "source-address", "0.0.0.0/0"), 0);
	cr_assert_eq(sign_as("alice", "prod-debug", c), ERR_SIGNER_OPTIONS);
	/* break-glass@jitca: only for a role with break_glass (prod-debug,
	 * 15m), and only that short. */
	c = cert_for("alice:prod-debug:req-1:serial-77", "debug", 600);
	cr_assert_eq(
	    cert_add_critical(c, "source-address", "10.0.0.0/8,127.0.0.0/8"),
	    0);
	cr_assert_eq(cert_add_extension(c, "break-glass@jitca", NULL), 0);
	cr_assert_eq(sign_as("alice", "prod-debug", c), 0);
	c = cert_for("alice:prod-debug:req-1:serial-77", "debug", 3600);
	cr_assert_eq(
	    cert_add_critical(c, "source-address", "10.0.0.0/8,127.0.0.0/8"),
	    0);
	cr_assert_eq(cert_add_extension(c, "break-glass@jitca", NULL), 0);
	cr_assert_eq(sign_as("alice", "prod-debug", c), ERR_TTL_TOO_LONG);
	c = cert_for("alice:staging:req-1:serial-77", "alice", 600);
	cr_assert_eq(cert_add_extension(c, "break-glass@jitca", NULL), 0);
	cr_assert_eq(sign_as("alice", "staging", c), ERR_SIGNER_OPTIONS);
	/* The child refused each on its own and is still there. */
	cr_assert(signer_alive(sg));
	signer_stop(sg);
	sg = NULL;
	free(key);
}

/* SIGHUP reloads the service's jitca.json and the signer's own copy: a
 * principal added to a role is signed only if the child re-read it. */
Test(custody, sighup_reloads_the_signers_copy)
{
	char *cfg = tu_fmt("%s/jitca.json", state), *text, *at, *next, *log;
	const char *from = "\"principals\": [\"{{user}}\"],\n      "
			   "\"max_ttl\": \"8h\"";
	const char *to = "\"principals\": [\"{{user}}\", \"deploy\"],\n      "
			 "\"max_ttl\": \"8h\"";
	char *body;
	struct tu_res r;

	make_ca("");
	serve("");
	body = tu_fmt("{\"role\":\"staging\",\"ttl\":\"10m\",\"reason\":"
		      "\"custody test\",\"principals\":[\"deploy\"],"
		      "\"public_key\":\"%s\"}",
	    pub_alice);
	r = http("POST", "/v1/requests", tok_alice, body);
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(
	    tu_jstr(r.j, "error", "code"), "principal_not_allowed");
	json_decref(r.j);

	text = tu_read_file(cfg, NULL);
	cr_assert_not_null((at = strstr(text, from)), "%s", text);
	next =
	    tu_fmt("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	tu_write_file(cfg, next, strlen(next), 0644);
	cr_assert_eq(kill(serve_pid, SIGHUP), 0);
	log = tu_file_wait(
	    log_path, "jitcad serve: configuration reloaded: ", serve_pid);
	free(log);
	r = http("POST", "/v1/requests", tok_alice, body);
	cr_assert_eq(r.status, 201, "%ld %s", r.status,
	    tu_jstr(r.j, "error", "message"));
	cr_assert_str_eq(tu_jstr(r.j, "state", NULL), "issued");
	json_decref(r.j);
	log = tu_read_file(log_path, NULL);
	cr_assert_null(strstr(log, "the signer keeps its old"), "%s", log);
	free(log);
	free(text);
	free(next);
	free(body);
	free(cfg);
}
