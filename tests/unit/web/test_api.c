/*
 * test_api.c: jitcad serve's HTTP API end to end: a real server (the
 * jitcad binary's "serve" when its dispatcher has it, else
 * web_serve_main() in a forked child) on port 0 over a real state
 * directory (jitca.json, a 0600 CA key, a sqlite ledger with users),
 * driven with libcurl.
 *
 * Covers every endpoint, every documented error code, the authorization
 * matrix (requester, approver, second approver, auditor, stranger, no
 * token x every endpoint), a table of bad requests that must leave the
 * server healthy and the ledger unchanged, the body cap, two approvers
 * racing on one request, throttling that never locks out a valid token,
 * trusted_proxies, duplicate parameters and headers, the CA's own key as
 * a subject, TLS, SIGTERM under load, SIGHUP reloads,
 * changes made by another process (users, revocations), startup
 * refusals and the request log.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "ca/ca.h"
#include "ca/config.h"
#include "ca/ledger.h"
#include "ca/revoke.h"
#include "ca/users.h"
#include "signer/cakey.h"
#include "signer/cert.h"
#include "signer/krl.h"
#include "signer/pubkey.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"
#include "web/api.h"
#include "web/http.h"
#include "web/jitcad/serve.h"

/* ---- the state directory ---- */

enum who { ALICE, BOB, CAROL, DAVE, EVE, FRANK, NOBODY };
static const char *const names[] = {
    "alice", "bob", "carol", "dave", "eve", "frank"};
static const char *const groups[][2] = {
    {"engineering", NULL},
    {"sre-leads", NULL},
    {"sre-leads", NULL},
    {"security", NULL},
    {"marketing", NULL},
    {"engineering", "sre-leads"},
};

static char *dir;
static char *tok[6];
#define NKEYS 4
static char *keyline[NKEYS];
static char *ca_line;

#define CONFIG_FMT                                                               \
	"{\"listen\": \"127.0.0.1:0\",\n"                                        \
	" \"ca\": {\"key_file\": \"ca_key.pem\", \"backdate\": \"1m\",\n"        \
	"        \"hard_max_ttl\": \"24h\"},\n"                                  \
	" \"ledger\": {\"path\": \"ledger.db\"},\n"                              \
	" \"request_ttl\": \"%s\",\n"                                            \
	" \"auditors\": [\"security\"],\n"                                       \
	" \"limits\": {\"requests_per_minute\": 10000},\n"                       \
	" \"roles\": {\n"                                                        \
	"  \"prod-debug\": {\"principals\": [\"{{user}}\", \"debug\"],\n"        \
	"    \"default_ttl\": \"30m\", \"max_ttl\": \"2h\",\n"                   \
	"    \"requesters\": [\"engineering\"], \"approvers\": "                 \
	"[\"sre-leads\"],\n"                                                     \
	"    \"approvals_required\": 1,\n"                                       \
	"    \"critical_options\": {\"source-address\": \"10.0.0.0/8\"},\n"      \
	"    \"extensions\": [\"permit-pty\"]},\n"                               \
	"  \"prod-db\": {\"principals\": [\"{{user}}\"], \"max_ttl\": \"1h\",\n" \
	"    \"requesters\": [\"engineering\"], \"approvers\": "                 \
	"[\"sre-leads\"],\n"                                                     \
	"    \"approvals_required\": 2}%s,\n"                                    \
	"  \"staging\": {\"principals\": [\"{{user}}\"], \"max_ttl\": \"8h\",\n" \
	"    \"requesters\": [\"engineering\"], \"approvals_required\": 0,\n"    \
	"    \"extensions\": [\"permit-pty\", \"permit-port-forwarding\"]}\n"    \
	" }\n}\n"

/* s with the first pat replaced by rep (new, kept). */
static char *
subst(const char *s, const char *pat, const char *rep)
{
	const char *p = strstr(s, pat);

	if (p == NULL)
		return tu_keep(strdup(s));
	return tu_keep(
	    tu_fmt("%.*s%s%s", (int)(p - s), s, rep, p + strlen(pat)));
}

static char *
path_in(const char *name)
{
	return tu_keep(tu_fmt("%s/%s", dir, name));
}

static void
write_config(const char *request_ttl, const char *extra_role)
{
	char *c = tu_fmt(CONFIG_FMT, request_ttl, extra_role);

	tu_write_file(path_in("jitca.json"), c, strlen(c), 0600);
	free(c);
}

static void
make_state(const char *request_ttl)
{
	struct cakey *k = NULL;
	struct ledger *l = NULL;
	struct config *cfg = NULL;
	char *line = NULL;
	size_t i, ng;
	int r;

	dir = tu_keep(tu_tmpdir());
	write_config(request_ttl, "");
	cr_assert_eq(cakey_generate(&k, KEY_ED25519), 0);
	cr_assert_eq(cakey_save(k, path_in("ca_key.pem")), 0);
	cr_assert_eq(pubkey_to_line(&line, cakey_public(k), NULL), 0);
	ca_line = tu_keep(line);
	cakey_free(k);
	for (i = 0; i < NKEYS; i++) {
		cr_assert_eq(cakey_generate(&k, KEY_ED25519), 0);
		cr_assert_eq(pubkey_to_line(&line, cakey_public(k), NULL), 0);
		keyline[i] = tu_keep(line);
		cakey_free(k);
	}
	cr_assert_eq(ledger_open(&l, path_in("ledger.db"), 1), 0);
	cr_assert_eq(config_load(&cfg, dir, NULL), 0);
	for (i = 0; i < 6; i++) {
		char *gv[2];

		ng = groups[i][1] != NULL ? 2 : 1;
		memcpy(gv, groups[i], sizeof(gv));
		r = user_add(l, cfg, "local:test", names[i], gv, ng, &line);
		cr_assert_eq(r, 0, "user_add %s: %d", names[i], r);
		tok[i] = tu_keep(strdup(line));
		user_token_free(line);
	}
	config_free(cfg);
	ledger_close(l);
}

/* ---- the server ---- */

struct server {
	pid_t pid;
	int port;
	int tls;
	char base[80];
	int errfd;
	pthread_t reader;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *log;
	size_t loglen;
	int eof;
	int status; /* exit status once reaped */
	const char *cafile; /* trust for https */
};

static struct server S;
static char *spawn_listen = "127.0.0.1:0";
static uid_t spawn_uid; /* 0: stay; else setuid to it in the child */

static void *
reader_main(void *arg)
{
	struct server *s = arg;
	char buf[4096];
	ssize_t n;
	char *nl;

	for (;;) {
		n = read(s->errfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		pthread_mutex_lock(&s->mu);
		if (n <= 0) {
			s->eof = 1;
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		nl = realloc(s->log, s->loglen + (size_t)n + 1);
		if (nl != NULL) {
			s->log = nl;
			memcpy(s->log + s->loglen, buf, (size_t)n);
			s->loglen += (size_t)n;
			s->log[s->loglen] = '\0';
		}
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
}

/* 1 when the jitcad binary dispatches "serve" (the lead's main). */
static int
binary_has_serve(void)
{
	static int cached = -1;
	char *bin = strdup(tu_env("JITCAD"));
	char *argv[] = {bin, "serve", "--help", NULL};
	char *out = NULL, *err = NULL;

	if (cached < 0) {
		cached = tu_run(argv, NULL, &out, &err) == 0 && out != NULL &&
		    strstr(out, "--listen") != NULL;
		free(out);
		free(err);
	}
	free(bin);
	return cached;
}

/* Start jitcad serve --state dir --listen 127.0.0.1:0 [extra...]. */
static void
spawn(char *extra1, char *extra2, char *extra3, char *extra4)
{
	int p[2];
	char *argv[16];
	int argc = 0, use_bin = binary_has_serve();

	free(S.log);
	memset(&S, 0, sizeof(S));
	pthread_mutex_init(&S.mu, NULL);
	pthread_cond_init(&S.cv, NULL);
	cr_assert_eq(pipe(p), 0);
	argv[argc++] = "serve";
	argv[argc++] = "--state";
	argv[argc++] = dir;
	argv[argc++] = "--listen";
	argv[argc++] = spawn_listen;
	if (extra1 != NULL)
		argv[argc++] = extra1;
	if (extra2 != NULL)
		argv[argc++] = extra2;
	if (extra3 != NULL)
		argv[argc++] = extra3;
	if (extra4 != NULL)
		argv[argc++] = extra4;
	argv[argc] = NULL;
	fflush(NULL);
	S.pid = fork();
	cr_assert_geq(S.pid, 0);
	if (S.pid == 0) {
		/* Die with the test, even when an assertion ends it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (spawn_uid != 0 &&
		    (setgid(spawn_uid) != 0 || setuid(spawn_uid) != 0))
			_exit(126);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		if (use_bin) {
			char *bargv[17];

			bargv[0] = strdup(tu_env("JITCAD"));
			memcpy(bargv + 1, argv, sizeof(char *) * (argc + 1));
			execv(bargv[0], bargv);
			_exit(127);
		}
		_exit(web_serve_main(argc, argv));
	}
	close(p[1]);
	S.errfd = p[0];
	cr_assert_eq(pthread_create(&S.reader, NULL, reader_main, &S), 0);
}

/* Wait for "listening on" (returns 1) or for the process to end (0). */
static int
wait_listening(void)
{
	struct timespec dl;
	const char *m;
	int ok = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 60;
	pthread_mutex_lock(&S.mu);
	for (;;) {
		if (S.log != NULL &&
		    (m = strstr(S.log, "listening on ")) != NULL &&
		    strchr(m, '\n') != NULL) {
			char url[128];
			size_t n = strcspn(m + 13, " \n");

			S.tls = strncmp(m + 13, "https://", 8) == 0;
			cr_assert(strncmp(m + 13,
				      S.tls ? "https://127.0.0.1:"
					    : "http://127.0.0.1:",
				      S.tls ? 18 : 17) == 0,
			    "%s", m);
			cr_assert_lt(n, sizeof(url), "%s", m);
			memcpy(url, m + 13, n);
			url[n] = '\0';
			S.port = tu_url_port(url);
			ok = 1;
			break;
		}
		if (S.eof)
			break;
		if (pthread_cond_timedwait(&S.cv, &S.mu, &dl) != 0)
			break;
	}
	pthread_mutex_unlock(&S.mu);
	if (ok)
		snprintf(S.base, sizeof(S.base), "%s://127.0.0.1:%d",
		    S.tls ? "https" : "http", S.port);
	return ok;
}

static void
server_start(void)
{
	spawn(NULL, NULL, NULL, NULL);
	cr_assert(wait_listening(), "server did not start: %s",
	    S.log != NULL ? S.log : "");
	cr_assert_gt(S.port, 0);
}

/* Reap the server; returns its exit status (128 + signal if killed). */
static int
server_reap(void)
{
	int st = 0;

	cr_assert_eq(waitpid(S.pid, &st, 0), S.pid);
	pthread_join(S.reader, NULL);
	close(S.errfd);
	S.pid = 0;
	S.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return S.status;
}

static void
server_stop(void)
{
	if (S.pid <= 0)
		return;
	cr_assert_eq(kill(S.pid, SIGTERM), 0);
	cr_assert_eq(server_reap(), 0, "exit status; log:\n%s", S.log);
}

static int
log_count(const char *needle)
{
	int n = 0;
	const char *p;

	pthread_mutex_lock(&S.mu);
	for (p = S.log; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	pthread_mutex_unlock(&S.mu);
	return n;
}

/* Wait up to TU_WAIT_MS for needle in the log. */
static int
log_wait(const char *needle)
{
	int i;

	for (i = 0; i < TU_WAIT_MS / 10; i++) {
		if (log_count(needle) > 0)
			return 1;
		usleep(10 * 1000);
	}
	return 0;
}

static void jpool_free(void);

static void
setup(void)
{
	make_state("1h");
	server_start();
}

static void
teardown(void)
{
	server_stop();
	free(S.log);
	S.log = NULL;
	if (dir != NULL)
		tu_rmtree(dir);
	dir = NULL;
	jpool_free();
	tu_keep_free();
}

/* ---- HTTP ---- */

/* A reply (tests/lib/testutil.h) with its parsed body and curl's code. */
struct resp {
	struct tu_reply h;
	json_t *j; /* parsed body, or NULL */
	CURLcode rc;
};

static json_t *jpool[8192];
static size_t njpool;

static void
jpool_free(void)
{
	while (njpool > 0)
		json_decref(jpool[--njpool]);
}

/*
 * One request as user who (NOBODY: no Authorization), with an optional
 * body and one optional extra header.  Thread-safe.
 */
static struct resp *
call_h(enum who w, const char *method, const char *path, const char *body,
    const char *header, const char *token_override)
{
	struct resp *r = calloc(1, sizeof(*r));
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512], auth[256];
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

	cr_assert(r != NULL && c != NULL);
	snprintf(url, sizeof(url), "%s%s", S.base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, tu_curl_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (S.cafile != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, S.cafile);
	if (token_override != NULL || w != NOBODY) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    token_override != NULL ? token_override : tok[w]);
		h = curl_slist_append(h, auth);
	}
	if (header != NULL)
		h = curl_slist_append(h, header);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->h.status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (r->h.body == NULL)
		r->h.body = strdup("");
	r->j = json_loads(r->h.body, 0, NULL);
	pthread_mutex_lock(&mu);
	tu_keep(r);
	tu_keep(r->h.body);
	if (r->j != NULL && njpool < sizeof(jpool) / sizeof(jpool[0]))
		jpool[njpool++] = r->j;
	pthread_mutex_unlock(&mu);
	return r;
}

static struct resp *
call(enum who w, const char *method, const char *path, const char *body)
{
	struct resp *r = call_h(w, method, path, body, NULL, NULL);

	cr_assert_eq(r->rc, CURLE_OK, "%s %s: curl %d", method, path, r->rc);
	return r;
}

static const char *
ecode(const struct resp *r)
{
	const char *c = json_string_value(
	    json_object_get(json_object_get(r->j, "error"), "code"));

	return c != NULL ? c : "";
}

static const char *
emsg(const struct resp *r)
{
	const char *c = json_string_value(
	    json_object_get(json_object_get(r->j, "error"), "message"));

	return c != NULL ? c : "";
}

static const char *
jstr(const struct resp *r, const char *k)
{
	const char *s = json_string_value(json_object_get(r->j, k));

	return s != NULL ? s : "";
}

static json_int_t
jint(const struct resp *r, const char *k)
{
	return json_integer_value(json_object_get(r->j, k));
}

/* Status and error code in one assertion. */
#define expect(r, st, code)                                                    \
	do {                                                                   \
		cr_assert_eq((r)->h.status, (st), "status %ld: %s",            \
		    (r)->h.status, (r)->h.body);                               \
		if ((code) != NULL)                                            \
			cr_assert_str_eq(ecode(r), (code), "%s", (r)->h.body); \
	} while (0)

/* Create a request by w; returns its id (expects 201). */
static json_int_t
create(enum who w, const char *role, int key)
{
	char *b = tu_keep(tu_fmt("{\"role\": \"%s\", \"ttl\": \"10m\", "
				 "\"reason\": \"INC-1 test\", \"public_key\": "
				 "\"%s\"}",
	    role, keyline[key]));
	struct resp *r = call(w, "POST", "/v1/requests", b);

	expect(r, 201, NULL);
	return jint(r, "id");
}

static char *
req_path(json_int_t id, const char *suffix)
{
	return tu_keep(tu_fmt("/v1/requests/%lld%s", (long long)id, suffix));
}

/* A prod-debug request by alice approved by bob: issued. */
static json_int_t
issued_request(void)
{
	json_int_t id = create(ALICE, "prod-debug", 0);
	struct resp *r = call(BOB, "POST", req_path(id, "/approve"), NULL);

	expect(r, 200, NULL);
	cr_assert_str_eq(jstr(r, "state"), "issued");
	return id;
}

/* All ledger events as seen by the auditor (a new reference). */
static json_t *
ledger_all(void)
{
	json_t *all = json_array(), *ev;
	long long since = 0;
	struct resp *r;
	size_t n;

	for (;;) {
		r = call(DAVE, "GET",
		    tu_keep(tu_fmt("/v1/ledger?since=%lld&limit=1000", since)),
		    NULL);
		expect(r, 200, NULL);
		ev = json_object_get(r->j, "events");
		n = json_array_size(ev);
		json_array_extend(all, ev);
		if (n < 1000)
			break;
		since = jint(r, "next_since");
	}
	return all;
}

static size_t
count_events(json_t *all, const char *type, json_int_t request)
{
	size_t i, n = 0;
	json_t *e;

	json_array_foreach(all, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "type")),
			type) != 0)
			continue;
		if (request == 0 ||
		    json_integer_value(json_object_get(
			json_object_get(e, "details"), "request")) == request)
			n++;
	}
	return n;
}

TestSuite(api, .init = setup, .fini = teardown, .timeout = 120);

/* ---- every endpoint ---- */

Test(api, health_ca_roles)
{
	struct resp *r;
	json_t *roles, *o;
	size_t i;

	r = call(NOBODY, "GET", "/v1/health", NULL);
	expect(r, 200, NULL);
	cr_assert_str_eq(jstr(r, "status"), "ok");
	r = call(NOBODY, "GET", "/v1/ca", NULL);
	expect(r, 200, NULL);
	cr_assert_str_eq(jstr(r, "public_key"), ca_line);
	cr_assert_str_eq(jstr(r, "key_type"), "ssh-ed25519");
	r = call(ALICE, "GET", "/v1/roles", NULL);
	expect(r, 200, NULL);
	roles = json_object_get(r->j, "roles");
	cr_assert_eq(json_array_size(roles), 3, "%s", r->h.body);
	json_array_foreach(roles, i, o)
	{
		cr_assert(json_is_true(json_object_get(o, "can_request")));
		cr_assert(json_is_false(json_object_get(o, "can_approve")));
	}
	o = json_array_get(roles, 1);
	cr_assert_str_eq(
	    json_string_value(json_object_get(o, "name")), "prod-debug");
	cr_assert_str_eq(json_string_value(json_array_get(
			     json_object_get(o, "principals"), 0)),
	    "alice");
	cr_assert_eq(json_integer_value(json_object_get(o, "max_ttl")), 7200);
	r = call(BOB, "GET", "/v1/roles", NULL);
	expect(r, 200, NULL);
	roles = json_object_get(r->j, "roles");
	cr_assert_eq(json_array_size(roles), 2, "%s", r->h.body);
	cr_assert(json_is_true(
	    json_object_get(json_array_get(roles, 0), "can_approve")));
	r = call(EVE, "GET", "/v1/roles", NULL);
	expect(r, 200, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->j, "roles")), 0);
	/* Auditors see every role, without requesting or approving. */
	r = call(DAVE, "GET", "/v1/roles", NULL);
	expect(r, 200, NULL);
	roles = json_object_get(r->j, "roles");
	cr_assert_eq(json_array_size(roles), 3, "%s", r->h.body);
	json_array_foreach(roles, i, o)
	{
		cr_assert(json_is_false(json_object_get(o, "can_request")));
		cr_assert(json_is_false(json_object_get(o, "can_approve")));
	}
}

Test(api, request_lifecycle)
{
	struct resp *r;
	json_int_t id, id2, serial;
	json_t *l;
	struct cert *c = NULL;
	const char *line;

	/* Auto-approved role: 201, already issued. */
	r = call(ALICE, "POST", "/v1/requests",
	    tu_keep(
		tu_fmt("{\"role\":\"staging\",\"ttl\":600,\"reason\":\"deploy "
		       "check\",\"public_key\":\"%s\"}",
		    keyline[1])));
	expect(r, 201, NULL);
	cr_assert_str_eq(jstr(r, "state"), "issued");
	cr_assert_str_eq(jstr(r, "requester"), "alice");
	cr_assert_eq(jint(r, "ttl"), 600);
	line = jstr(r, "certificate");
	cr_assert(strncmp(line, "ssh-ed25519-cert-v01@openssh.com ", 33) == 0,
	    "%s", r->h.body);
	cr_assert_eq(cert_from_line(&c, line, strlen(line)), 0);
	cr_assert_eq(c->serial, (uint64_t)jint(r, "serial"));
	cr_assert_eq(c->nprincipals, 1);
	cr_assert_str_eq(c->principals[0], "alice");
	cr_assert_eq(c->valid_before - c->valid_after, 600 + 60);
	cert_free(c);

	/* Needs one approval: pending, then issued by bob. */
	id = create(ALICE, "prod-debug", 0);
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	expect(r, 200, NULL);
	cr_assert_str_eq(jstr(r, "state"), "pending");
	cr_assert_null(json_object_get(r->j, "certificate"));
	r = call(ALICE, "GET", "/v1/requests?state=pending", NULL);
	expect(r, 200, NULL);
	l = json_object_get(r->j, "requests");
	cr_assert_eq(json_array_size(l), 1);
	r = call(BOB, "GET", "/v1/requests", NULL);
	expect(r, 200, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->j, "requests")), 1,
	    "bob sees prod-debug only: %s", r->h.body);
	r = call(BOB, "POST", req_path(id, "/approve"), "{\"comment\":\"ok\"}");
	expect(r, 200, NULL);
	cr_assert_str_eq(jstr(r, "state"), "issued");
	cr_assert_eq(json_array_size(json_object_get(r->j, "approvals")), 1);
	serial = jint(r, "serial");
	cr_assert_gt(serial, 1);
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	expect(r, 200, NULL);
	cr_assert(strlen(jstr(r, "certificate")) > 100);
	cr_assert_eq(jint(r, "serial"), serial);
	r = call(ALICE, "GET", "/v1/requests?state=pending", NULL);
	cr_assert_eq(json_array_size(json_object_get(r->j, "requests")), 0);

	/* Two approvals needed: one is not enough; denial ends it. */
	id2 = create(ALICE, "prod-db", 2);
	r = call(BOB, "POST", req_path(id2, "/approve"), NULL);
	expect(r, 200, NULL);
	cr_assert_str_eq(jstr(r, "state"), "pending");
	r = call(BOB, "POST", req_path(id2, "/approve"), NULL);
	expect(r, 409, "already_approved");
	r = call(CAROL, "POST", req_path(id2, "/deny"), "{\"comment\":\"no\"}");
	expect(r, 200, NULL);
	cr_assert_str_eq(jstr(r, "state"), "denied");
	r = call(CAROL, "POST", req_path(id2, "/approve"), NULL);
	expect(r, 409, "wrong_state");

	/* Revoke the prod-debug certificate by serial. */
	r = call(ALICE, "POST", "/v1/revocations",
	    tu_keep(tu_fmt(
		"{\"serial\":%lld,\"reason\":\"done\"}", (long long)serial)));
	expect(r, 200, NULL);
	cr_assert_eq(json_integer_value(
			 json_array_get(json_object_get(r->j, "revoked"), 0)),
	    serial);
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	cr_assert_str_eq(jstr(r, "state"), "revoked");
}

Test(api, krl_etag_and_cache)
{
	struct resp *r;
	char etag[80], inm[112];
	const char *e;
	json_int_t id, serial;
	size_t n;

	r = call(NOBODY, "GET", "/v1/krl", NULL);
	expect(r, 200, NULL);
	cr_assert(strstr(r->h.hdrs, "Content-Type: application/octet-stream"));
	cr_assert_eq(krl_check((const uint8_t *)r->h.body, r->h.len), 0);
	cr_assert(memcmp(r->h.body, KRL_MAGIC, KRL_MAGIC_LEN) == 0);
	cr_assert_not_null(e = strstr(r->h.hdrs, "ETag: \""), "%s", r->h.hdrs);
	/* A strong entity tag naming the bytes: "hex(SHA-256(body))". */
	e += 6;
	n = strcspn(e, "\r\n");
	{
		unsigned char md[32];
		char want[67];
		int i;

		SHA256((const unsigned char *)r->h.body, r->h.len, md);
		want[0] = '"';
		for (i = 0; i < 32; i++)
			snprintf(want + 1 + 2 * i, 3, "%02x", md[i]);
		want[65] = '"';
		want[66] = '\0';
		cr_assert(
		    n == 66 && n < sizeof(etag) && memcmp(e, want, n) == 0,
		    "%s vs %s", r->h.hdrs, want);
	}
	memcpy(etag, e, n);
	etag[n] = '\0';
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	r = call_h(NOBODY, "GET", "/v1/krl", NULL, inm, NULL);
	expect(r, 304, NULL);
	cr_assert_eq(r->h.len, 0);
	r = call_h(
	    NOBODY, "GET", "/v1/krl", NULL, "If-None-Match: \"999\"", NULL);
	expect(r, 200, NULL);

	id = issued_request();
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	serial = jint(r, "serial");
	/* Issuing does not change the KRL. */
	r = call_h(NOBODY, "GET", "/v1/krl", NULL, inm, NULL);
	expect(r, 304, NULL);
	r = call(DAVE, "POST", "/v1/revocations",
	    tu_keep(tu_fmt("{\"request\":%lld,\"reason\":\"compromised\"}",
		(long long)id)));
	expect(r, 200, NULL);
	r = call_h(NOBODY, "GET", "/v1/krl", NULL, inm, NULL);
	expect(r, 200, NULL);
	cr_assert_eq(krl_check((const uint8_t *)r->h.body, r->h.len), 0);
	cr_assert_gt(r->h.len, KRL_EMPTY_LEN);
	cr_assert(strstr(r->h.hdrs, etag) == NULL, "new ETag: %s", r->h.hdrs);
	/* Revoking again is idempotent: no new version. */
	r = call(DAVE, "POST", "/v1/revocations",
	    tu_keep(tu_fmt(
		"{\"serial\":%lld,\"reason\":\"again\"}", (long long)serial)));
	expect(r, 200, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->j, "revoked")), 0);
}

/* The KRL bytes list the serial: check with ssh-keygen -Q. */
Test(api, krl_readable_by_ssh_keygen)
{
	struct resp *r;
	json_int_t id;
	char *krlp, *certp, *cmd, *out = NULL;
	const char *line;

	id = issued_request();
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	line = jstr(r, "certificate");
	certp = path_in("c-cert.pub");
	tu_write_file(certp, line, strlen(line), 0644);
	r = call(BOB, "POST", "/v1/revocations",
	    tu_keep(tu_fmt("{\"key_id\":\"%s\",\"reason\":\"x\"}",
		json_string_value(json_object_get(
		    call(ALICE, "GET", req_path(id, ""), NULL)->j,
		    "key_id")))));
	expect(r, 200, NULL);
	r = call(NOBODY, "GET", "/v1/krl", NULL);
	krlp = path_in("krl");
	tu_write_file(krlp, r->h.body, r->h.len, 0644);
	cmd = tu_keep(tu_fmt("ssh-keygen -Q -f %s %s", krlp, certp));
	cr_assert_neq(tu_sh(cmd, &out, NULL), 0, "revoked: %s", out);
	cr_assert(strstr(out, "REVOKED") != NULL, "%s", out);
	free(out);
}

Test(api, ledger_and_metrics)
{
	struct resp *r;
	json_t *ev;
	json_int_t id;

	id = issued_request();
	(void)create(ALICE, "prod-debug", 1);
	r = call(DAVE, "GET", "/v1/ledger", NULL);
	expect(r, 200, NULL);
	ev = json_object_get(r->j, "events");
	cr_assert_geq(json_array_size(ev), 10);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(ev, 0), "type")),
	    "user.added");
	cr_assert_eq(count_events(ev, "cert.issued", id), 1);
	r = call(DAVE, "GET", "/v1/ledger?since=3&limit=2", NULL);
	expect(r, 200, NULL);
	ev = json_object_get(r->j, "events");
	cr_assert_eq(json_array_size(ev), 2);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_array_get(ev, 0), "seq")),
	    4);
	cr_assert_eq(jint(r, "next_since"), 5);

	r = call(DAVE, "GET", "/metrics", NULL);
	expect(r, 200, NULL);
	cr_assert(strstr(r->h.hdrs, "Content-Type: text/plain; version=0.0.4"));
	cr_assert(strstr(r->h.body, "jitca_requests{state=\"pending\"} 1\n"),
	    "%s", r->h.body);
	cr_assert(strstr(r->h.body, "jitca_requests{state=\"issued\"} 1\n"));
	cr_assert(strstr(r->h.body, "jitca_pending_approvals 1\n"));
	cr_assert(strstr(r->h.body, "jitca_certificates_issued_total 1\n"));
	cr_assert(strstr(r->h.body, "jitca_revocations_total 0\n"));
	cr_assert(strstr(r->h.body,
		      "jitca_http_responses_total{code=\"201\"} "
		      "2\n"),
	    "%s", r->h.body);
	cr_assert(
	    strstr(r->h.body, "jitca_http_connections_refused_total 0\n"));
	cr_assert(strstr(r->h.body, "jitca_issuance_seconds_count 1\n"));
	cr_assert(strstr(
	    r->h.body, "jitca_issuance_seconds_bucket{le=\"+Inf\"} 1\n"));
	/* A few events: the WAL is far from a checkpoint. */
	cr_assert(strstr(r->h.body, "jitca_ledger_wal_checkpoints_total 0\n"));
	cr_assert(
	    strstr(r->h.body, "jitca_ledger_wal_checkpoint_frames_total 0\n"));
	cr_assert(
	    strstr(r->h.body, "jitca_ledger_wal_catch_up_frames_total 0\n"));
}

/* ---- authorization matrix ---- */

struct cell {
	const char *what;
	long st[7]; /* ALICE BOB CAROL DAVE EVE FRANK NOBODY */
};

Test(api, authorization_matrix)
{
	static const struct cell cells[] = {
	    {"GET /v1/health", {200, 200, 200, 200, 200, 200, 200}},
	    {"GET /v1/ca", {200, 200, 200, 200, 200, 200, 200}},
	    {"GET /v1/krl", {200, 200, 200, 200, 200, 200, 200}},
	    {"GET /v1/roles", {200, 200, 200, 200, 200, 200, 401}},
	    {"POST /v1/requests", {201, 403, 403, 403, 403, 201, 401}},
	    {"GET /v1/requests", {200, 200, 200, 200, 200, 200, 401}},
	    {"GET /v1/requests/ID", {200, 200, 200, 200, 404, 200, 401}},
	    {"POST approve", {403, 200, 200, 403, 404, 200, 401}},
	    {"POST deny", {200, 200, 200, 403, 404, 200, 401}},
	    {"POST /v1/revocations", {200, 200, 200, 200, 403, 200, 401}},
	    {"GET /v1/ledger", {403, 403, 403, 200, 403, 403, 401}},
	    {"GET /metrics", {403, 403, 403, 200, 403, 403, 401}},
	};
	size_t c;
	int w;
	struct resp *r;
	json_int_t id;
	char *b;

	for (c = 0; c < sizeof(cells) / sizeof(cells[0]); c++) {
		for (w = ALICE; w <= NOBODY; w++) {
			const char *what = cells[c].what;

			if (strncmp(what, "GET /", 5) == 0 &&
			    strstr(what, "ID") == NULL) {
				r = call(w, "GET", what + 4, NULL);
			} else if (strcmp(what, "POST /v1/requests") == 0) {
				b = tu_keep(tu_fmt(
				    "{\"role\":\"prod-debug\",\"reason\":\"m\","
				    "\"public_key\":\"%s\"}",
				    keyline[0]));
				r = call(w, "POST", "/v1/requests", b);
			} else if (strcmp(what, "GET /v1/requests/ID") == 0) {
				id = create(ALICE, "prod-debug", 0);
				r = call(w, "GET", req_path(id, ""), NULL);
			} else if (strcmp(what, "POST approve") == 0 ||
			    strcmp(what, "POST deny") == 0) {
				id = create(ALICE, "prod-debug", 0);
				r = call(w, "POST",
				    req_path(id,
					what[5] == 'a' ? "/approve" : "/deny"),
				    NULL);
			} else {
				id = issued_request();
				b = tu_keep(
				    tu_fmt("{\"request\":%lld,\"reason\":"
					   "\"m\"}",
					(long long)id));
				r = call(w, "POST", "/v1/revocations", b);
			}
			cr_assert_eq(r->h.status, cells[c].st[w],
			    "%s as %s: %ld %s", what,
			    w == NOBODY ? "nobody" : names[w], r->h.status,
			    r->h.body);
			if (r->h.status >= 400)
				cr_assert(
				    strlen(ecode(r)) > 0, "%s", r->h.body);
		}
	}
}

/* ---- bad requests ---- */

struct bad {
	enum who w;
	const char *method;
	const char *path; /* "ID": a pending request's id */
	const char *body; /* "%s": a valid public key */
	long status;
	const char *code;
	const char *token; /* overrides w's token */
};

Test(api, bad_requests_leave_no_trace)
{
	static const struct bad bads[] = {
	    /* authentication */
	    {NOBODY, "GET", "/v1/requests", NULL, 401, "missing_token", NULL},
	    {NOBODY, "GET", "/v1/requests", NULL, 401, "bad_token", "nope"},
	    {NOBODY, "GET", "/v1/roles", NULL, 401, "bad_token",
		"jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	    {NOBODY, "POST", "/v1/requests", "{}", 401, "bad_token",
		"jitca_\xff"},
	    /* routing */
	    {ALICE, "GET", "/v1/nope", NULL, 404, "not_found", NULL},
	    {ALICE, "GET", "/v1/requests/0", NULL, 404, "not_found", NULL},
	    {ALICE, "GET", "/v1/requests/-1", NULL, 404, "not_found", NULL},
	    {ALICE, "GET", "/v1/requests/abc", NULL, 404, "not_found", NULL},
	    {ALICE, "GET", "/v1/requests/007", NULL, 404, "not_found", NULL},
	    {ALICE, "GET", "/v1/requests/99999999999999999999", NULL, 404,
		"not_found", NULL},
	    {ALICE, "GET", "/v1/requests/424242", NULL, 404, "not_found", NULL},
	    {BOB, "POST", "/v1/requests/424242/approve", NULL, 404, "not_found",
		NULL},
	    {ALICE, "DELETE", "/v1/requests", NULL, 405, "method_not_allowed",
		NULL},
	    {ALICE, "PUT", "/v1/health", NULL, 405, "method_not_allowed", NULL},
	    {ALICE, "GET", "/v1/requests/ID/approve", NULL, 405,
		"method_not_allowed", NULL},
	    /* bodies */
	    {ALICE, "POST", "/v1/requests", "", 400, "invalid_json", NULL},
	    {ALICE, "POST", "/v1/requests", "{", 400, "invalid_json", NULL},
	    {ALICE, "POST", "/v1/requests", "[1]", 400, "invalid_json", NULL},
	    {ALICE, "POST", "/v1/requests", "{\"role\":\"staging\"} junk", 400,
		"invalid_json", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"role\":\"prod-debug\",\"reason\":\"r\","
		"\"public_key\":\"%s\"}",
		400, "invalid_json", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\","
		"\"admin\":true}",
		400, "unknown_field", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"reason\":\"r\",\"public_key\":\"%s\"}", 400,
		"missing_field", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"public_key\":\"%s\"}", 400,
		"missing_field", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\"}", 400, "missing_field",
		NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":7,\"reason\":\"r\",\"public_key\":\"%s\"}", 400,
		"wrong_type", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\","
		"\"principals\":\"alice\"}",
		400, "wrong_type", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\","
		"\"principals\":[1]}",
		400, "wrong_type", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\","
		"\"ttl\":true}",
		400, "wrong_type", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\","
		"\"ttl\":-5}",
		400, "wrong_type", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\","
		"\"ttl\":\"5 minutes\"}",
		400, "bad_duration", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\","
		"\"ttl\":\"9h\"}",
		400, "ttl_too_long", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"nosuch\",\"reason\":\"r\",\"public_key\":\"%s\"}",
		404, "not_found", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\","
		"\"principals\":[\"root\"]}",
		400, "principal_not_allowed", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\","
		"\"principals\":[\"a*\"]}",
		400, NULL, NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\","
		"\"principals\":[]}",
		400, "bad_principal", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"\",\"public_key\":\"%s\"}",
		400, "invalid_argument", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"a\\nb\",\"public_key\":"
		"\"%s\"}",
		400, "bad_text", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":"
		"\"ssh-ed25519 AAAA\"}",
		400, "bad_public_key", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":"
		"\"ssh-dss AAAAB3NzaC1kc3M=\"}",
		400, "bad_public_key", NULL},
	    {ALICE, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":"
		"\"not a key\"}",
		400, "bad_public_key", NULL},
	    {BOB, "POST", "/v1/requests",
		"{\"role\":\"staging\",\"reason\":\"r\",\"public_key\":\"%s\"}",
		403, "forbidden", NULL},
	    /* decisions */
	    {BOB, "POST", "/v1/requests/ID/approve", "{\"comment\":5}", 400,
		"wrong_type", NULL},
	    {BOB, "POST", "/v1/requests/ID/approve", "{\"note\":\"x\"}", 400,
		"unknown_field", NULL},
	    {BOB, "POST", "/v1/requests/ID/deny", "[]", 400, "invalid_json",
		NULL},
	    {ALICE, "POST", "/v1/requests/ID/approve", NULL, 403,
		"self_approval", NULL},
	    {DAVE, "POST", "/v1/requests/ID/approve", NULL, 403, "forbidden",
		NULL},
	    {EVE, "POST", "/v1/requests/ID/deny", NULL, 404, "not_found", NULL},
	    /* revocations */
	    {DAVE, "POST", "/v1/revocations", "{\"reason\":\"r\"}", 400,
		"invalid_argument", NULL},
	    {DAVE, "POST", "/v1/revocations",
		"{\"serial\":1,\"user\":\"alice\",\"reason\":\"r\"}", 400,
		"invalid_argument", NULL},
	    {DAVE, "POST", "/v1/revocations", "{\"serial\":0,\"reason\":\"r\"}",
		400, "invalid_argument", NULL},
	    {DAVE, "POST", "/v1/revocations",
		"{\"serial\":\"1\",\"reason\":"
		"\"r\"}",
		400, "wrong_type", NULL},
	    {DAVE, "POST", "/v1/revocations", "{\"serial\":1}", 400,
		"missing_field", NULL},
	    {DAVE, "POST", "/v1/revocations",
		"{\"serial\":987654,\"reason\":\"r\"}", 404, "not_found", NULL},
	    {DAVE, "POST", "/v1/revocations",
		"{\"request\":ID,\"reason\":\"r\"}", 409, "wrong_state", NULL},
	    {DAVE, "POST", "/v1/revocations",
		"{\"public_key\":\"junk\",\"reason\":\"r\"}", 400,
		"bad_public_key", NULL},
	    /* queries */
	    {ALICE, "GET", "/v1/requests?state=issued", NULL, 400, "bad_query",
		NULL},
	    {DAVE, "GET", "/v1/ledger?since=-1", NULL, 400, "bad_query", NULL},
	    {DAVE, "GET", "/v1/ledger?since=x", NULL, 400, "bad_query", NULL},
	    {DAVE, "GET", "/v1/ledger?limit=0", NULL, 400, "bad_query", NULL},
	    {DAVE, "GET", "/v1/ledger?limit=1001", NULL, 400, "bad_query",
		NULL},
	    {ALICE, "GET", "/v1/ledger", NULL, 403, "forbidden", NULL},
	};
	json_t *before, *after;
	json_int_t id;
	size_t i;
	char *path, *body, *idp;
	struct resp *r;

	cr_assert_geq(sizeof(bads) / sizeof(bads[0]), 40);
	id = create(ALICE, "prod-debug", 0);
	before = ledger_all();
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];

		path = tu_keep(strdup(b->path));
		if ((idp = strstr(path, "ID")) != NULL)
			path = tu_keep(tu_fmt("%.*s%lld%s", (int)(idp - path),
			    path, (long long)id, idp + 2));
		body = NULL;
		if (b->body != NULL) {
			body = tu_keep(strdup(b->body));
			if (strstr(body, "%s") != NULL)
				body = subst(body, "%s", keyline[0]);
			if ((idp = strstr(body, "ID")) != NULL)
				body = tu_keep(
				    tu_fmt("%.*s%lld%s", (int)(idp - body),
					body, (long long)id, idp + 2));
		}
		r = call_h(b->w, b->method, path, body, NULL, b->token);
		cr_assert_eq(r->rc, CURLE_OK);
		cr_assert_eq(r->h.status, b->status, "case %zu %s %s: %ld %s",
		    i, b->method, path, r->h.status, r->h.body);
		cr_assert(strlen(emsg(r)) > 0, "case %zu: message", i);
		if (b->code != NULL)
			cr_assert_str_eq(
			    ecode(r), b->code, "case %zu: %s", i, r->h.body);
		else
			cr_assert(strlen(ecode(r)) > 0, "case %zu", i);
	}
	r = call(NOBODY, "GET", "/v1/health", NULL);
	expect(r, 200, NULL);
	after = ledger_all();
	cr_assert(json_equal(before, after), "the ledger changed");
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	cr_assert_str_eq(jstr(r, "state"), "pending");
	json_decref(before);
	json_decref(after);
}

Test(api, oversized_body)
{
	size_t n = 65 * 1024;
	char *big = tu_keep(malloc(n + 1));
	struct resp *r;

	memset(big, ' ', n);
	big[n] = '\0';
	big[0] = '{';
	r = call(ALICE, "POST", "/v1/requests", big);
	expect(r, 413, "body_too_large");
	r = call(NOBODY, "GET", "/v1/health", NULL);
	expect(r, 200, NULL);
}

Test(api, failed_tokens_throttled)
{
	struct resp *r;
	long long t0 = tu_now_ms(), allowed;
	int n = 0;

	/* A burst of 10, then one more every 6 s (the server's defaults):
	 * on a loaded machine the attempts may take long enough to earn
	 * one, so the bound counts the time taken. */
	for (;;) {
		r = call_h(NOBODY, "GET", "/v1/roles", NULL, NULL, "bad");
		if (r->h.status == 429)
			break;
		expect(r, 401, "bad_token");
		n++;
		allowed = 10 + (tu_now_ms() - t0) / 6000;
		cr_assert_leq(n, allowed, "%d failed tokens not throttled", n);
	}
	cr_assert_geq(n, 10, "throttled after %d failed tokens", n);
	expect(r, 429, "too_many_requests");
	cr_assert(strstr(r->h.hdrs, "Retry-After: "), "%s", r->h.hdrs);
	/* Unauthenticated endpoints still answer. */
	r = call(NOBODY, "GET", "/v1/health", NULL);
	expect(r, 200, NULL);
}

/* Issue 10 item 8: 40 bad tokens from one address do not lock out the
 * next valid token from that address; bad ones stay throttled. */
Test(api, valid_token_after_failed_ones)
{
	struct resp *r;
	int i, n429 = 0;

	for (i = 0; i < 40; i++) {
		r = call_h(NOBODY, "GET", "/v1/roles", NULL, NULL, "bad");
		cr_assert(r->h.status == 401 || r->h.status == 429, "%ld",
		    r->h.status);
		n429 += r->h.status == 429;
	}
	cr_assert_geq(n429, 20, "only %d of 40 bad tokens throttled", n429);
	r = call(ALICE, "GET", "/v1/roles", NULL);
	expect(r, 200, NULL);
	r = call(BOB, "POST",
	    req_path(create(ALICE, "prod-debug", 0), "/approve"), NULL);
	expect(r, 200, NULL);
	r = call_h(NOBODY, "GET", "/v1/roles", NULL, NULL, "bad");
	expect(r, 429, "too_many_requests");
	cr_assert(
	    strncmp(emsg(r),
		"too many failed token attempts from 127.0.0.1; retry in ",
		56) == 0,
	    "%s", emsg(r));
	/* A request without any token is not a failed guess. */
	r = call(NOBODY, "GET", "/v1/roles", NULL);
	expect(r, 401, "missing_token");
}

/* With trusted_proxies, X-Forwarded-For names the client and failures
 * are throttled per forwarded address; without, the header is ignored. */
Test(api, trusted_proxies_forwarded_for)
{
	struct resp *r;
	char *c;
	int i;

	/* Default: no proxy is trusted, so 10 failures "from" ten
	 * different forwarded addresses all count against 127.0.0.1. */
	for (i = 0; i < 10; i++) {
		r = call_h(NOBODY, "GET", "/v1/roles", NULL,
		    tu_keep(tu_fmt("X-Forwarded-For: 203.0.113.%d", i + 1)),
		    "bad");
		expect(r, 401, "bad_token");
	}
	r = call_h(NOBODY, "GET", "/v1/roles", NULL,
	    "X-Forwarded-For: 198.51.100.1", "bad");
	expect(r, 429, "too_many_requests");
	cr_assert(strstr(emsg(r), " from 127.0.0.1;") != NULL, "%s", emsg(r));
	server_stop();

	c = tu_read_file(path_in("jitca.json"), NULL);
	cr_assert_not_null(c);
	c = subst(tu_keep(c), "\"auditors\"",
	    "\"trusted_proxies\": [\"127.0.0.1\", \"10.0.0.0/8\"], "
	    "\"auditors\"");
	tu_write_file(path_in("jitca.json"), c, strlen(c), 0600);
	free(S.log);
	S.log = NULL;
	server_start();
	for (i = 0; i < 10; i++) {
		r = call_h(NOBODY, "GET", "/v1/roles", NULL,
		    "X-Forwarded-For: 198.51.100.7, 203.0.113.5, 10.9.8.7",
		    "bad");
		expect(r, 401, "bad_token");
	}
	r = call_h(NOBODY, "GET", "/v1/roles", NULL,
	    "X-Forwarded-For: 203.0.113.5", "bad");
	expect(r, 429, "too_many_requests");
	cr_assert(
	    strncmp(emsg(r),
		"too many failed token attempts from 203.0.113.5; retry in ",
		58) == 0,
	    "%s", emsg(r));
	/* Another forwarded address, and the proxy itself, are not. */
	r = call_h(NOBODY, "GET", "/v1/roles", NULL,
	    "X-Forwarded-For: 203.0.113.6", "bad");
	expect(r, 401, "bad_token");
	r = call_h(NOBODY, "GET", "/v1/roles", NULL, NULL, "bad");
	expect(r, 401, "bad_token");
	/* An entry that is not an address stops the walk at the proxy
	 * that sent it: 10.9.8.7 is throttled, not "junk". */
	for (i = 0; i < 10; i++) {
		r = call_h(NOBODY, "GET", "/v1/roles", NULL,
		    "X-Forwarded-For: junk, 10.9.8.7", "bad");
		expect(r, 401, "bad_token");
	}
	r = call_h(NOBODY, "GET", "/v1/roles", NULL,
	    "X-Forwarded-For: 10.9.8.7", "bad");
	expect(r, 429, "too_many_requests");
	cr_assert(strstr(emsg(r), " from 10.9.8.7;") != NULL, "%s", emsg(r));
	/* A valid token behind a throttled forwarded address passes. */
	r = call_h(ALICE, "GET", "/v1/roles", NULL,
	    "X-Forwarded-For: 203.0.113.5", NULL);
	expect(r, 200, NULL);
}

/* Storage failures are the service's, not the caller's: 503, not 500;
 * the disk-full case runs for real in tests/integration/test_edges.c. */
Test(api_errors, storage_failures_are_503)
{
	const char *code = NULL;

	cr_assert_eq(api_err_status(ERR_LEDGER_FULL, &code), 503);
	cr_assert_str_eq(code, "ledger_unavailable");
	cr_assert_eq(api_err_status(ERR_LEDGER_UNWRITABLE, &code), 503);
	cr_assert_str_eq(code, "ledger_unavailable");
	cr_assert_eq(api_err_status(ERR_KEY_IS_CA, &code), 400);
	cr_assert_str_eq(code, "bad_public_key");
	cr_assert_eq(api_err_status(ERR_DB, &code), 500);
	cr_assert_str_eq(code, "internal");
}

/* Issue 10 item 11: a parameter or an Authorization header given twice
 * is refused, not resolved by whichever one the server reads first. */
Test(api, duplicate_query_and_authorization)
{
	struct resp *r;
	char *h;

	r = call(ALICE, "GET", "/v1/requests?state=pending&state=issued", NULL);
	expect(r, 400, "bad_query");
	cr_assert_str_eq(
	    emsg(r), "query parameter \"state\" is given more than once");
	r = call(DAVE, "GET", "/v1/ledger?since=0&limit=5&since=3", NULL);
	expect(r, 400, "bad_query");
	cr_assert_str_eq(
	    emsg(r), "query parameter \"since\" is given more than once");
	h = tu_keep(tu_fmt("Authorization: Bearer %s", tok[BOB]));
	r = call_h(ALICE, "GET", "/v1/roles", NULL, h, NULL);
	expect(r, 400, "duplicate_header");
	cr_assert_str_eq(
	    emsg(r), "the Authorization header is given more than once");
	r = call_h(NOBODY, "GET", "/v1/roles", NULL, h, NULL);
	expect(r, 200, NULL);
	r = call(ALICE, "GET", "/v1/requests?state=pending", NULL);
	expect(r, 200, NULL);
}

/* Issue 10 item 11: the CA's own public key is no subject key. */
Test(api, ca_key_as_subject_refused)
{
	struct resp *r;
	char *b;
	json_t *all = ledger_all();
	size_t before = json_array_size(all);

	b = tu_keep(tu_fmt("{\"role\": \"staging\", \"ttl\": \"10m\", "
			   "\"reason\": \"INC-1 test\", \"public_key\": "
			   "\"%s\"}",
	    ca_line));
	r = call(ALICE, "POST", "/v1/requests", b);
	expect(r, 400, "bad_public_key");
	cr_assert_str_eq(emsg(r),
	    "request: the public key is the CA's own key, not a user key");
	b = tu_keep(tu_fmt("{\"role\": \"prod-debug\", \"reason\": \"INC-1 "
			   "test\", \"public_key\": \"%s alice@laptop\"}",
	    ca_line));
	r = call(ALICE, "POST", "/v1/requests", b);
	expect(r, 400, "bad_public_key");
	json_decref(all);
	all = ledger_all();
	cr_assert_eq(json_array_size(all), before);
	json_decref(all);
	r = call(ALICE, "GET", "/v1/requests", NULL);
	expect(r, 200, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->j, "requests")), 0,
	    "%s", r->h.body);
}

Test(api, expired_request)
{
	struct resp *r;
	json_int_t id;

	server_stop();
	write_config("1s", "");
	server_start();
	id = create(ALICE, "prod-debug", 0);
	sleep(2);
	r = call(BOB, "POST", req_path(id, "/approve"), NULL);
	expect(r, 409, "expired");
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	cr_assert_str_eq(jstr(r, "state"), "expired");
}

/* Error codes that need a state change first. */
Test(api, error_codes_after_changes)
{
	struct resp *r;
	struct ledger *l = NULL;
	json_int_t id;
	char *reason, *b;

	/* field_too_long: a reason over 512 bytes. */
	reason = tu_keep(malloc(601));
	memset(reason, 'x', 600);
	reason[600] = '\0';
	b = tu_keep(tu_fmt("{\"role\":\"staging\",\"reason\":\"%s\","
			   "\"public_key\":\"%s\"}",
	    reason, keyline[1]));
	r = call(ALICE, "POST", "/v1/requests", b);
	expect(r, 400, "field_too_long");
	cr_assert(strstr(emsg(r), "\"reason\"") != NULL, "%s", r->h.body);

	/* policy: a revoked key cannot get a certificate. */
	r = call(DAVE, "POST", "/v1/revocations",
	    tu_keep(tu_fmt(
		"{\"public_key\":\"%s\",\"reason\":\"lost\"}", keyline[3])));
	expect(r, 200, NULL);
	cr_assert(json_is_true(json_object_get(r->j, "key_revoked")), "%s",
	    r->h.body);
	b = tu_keep(tu_fmt("{\"role\":\"staging\",\"reason\":\"r\","
			   "\"public_key\":\"%s\"}",
	    keyline[3]));
	r = call(ALICE, "POST", "/v1/requests", b);
	expect(r, 400, "policy");

	/* user_disabled: the requester was disabled while waiting. */
	id = create(ALICE, "prod-debug", 0);
	cr_assert_eq(ledger_open(&l, path_in("ledger.db"), 0), 0);
	cr_assert_eq(user_disable(l, "local:test", "alice"), 0);
	ledger_close(l);
	r = call(BOB, "POST", req_path(id, "/approve"), NULL);
	expect(r, 403, "user_disabled");
	r = call(ALICE, "GET", "/v1/roles", NULL);
	expect(r, 401, "bad_token");
	r = call(BOB, "GET", req_path(id, ""), NULL);
	expect(r, 200, NULL);
	cr_assert_str_eq(jstr(r, "state"), "pending");
}

/* ---- concurrency ---- */

struct racer {
	enum who w;
	json_int_t id;
	pthread_barrier_t *bar;
	struct resp *r;
};

static void *
racer_main(void *arg)
{
	struct racer *x = arg;

	pthread_barrier_wait(x->bar);
	x->r =
	    call_h(x->w, "POST", req_path(x->id, "/approve"), NULL, NULL, NULL);
	return NULL;
}

Test(api, racing_approvers)
{
	pthread_barrier_t bar;
	pthread_t t[2];
	struct racer x[2];
	json_t *all;
	json_int_t ids[50];
	int i, ok;

	for (i = 0; i < 50; i++) {
		ids[i] = create(ALICE, "prod-debug", i % NKEYS);
		pthread_barrier_init(&bar, NULL, 2);
		x[0] = (struct racer){BOB, ids[i], &bar, NULL};
		x[1] = (struct racer){CAROL, ids[i], &bar, NULL};
		pthread_create(&t[0], NULL, racer_main, &x[0]);
		pthread_create(&t[1], NULL, racer_main, &x[1]);
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
		pthread_barrier_destroy(&bar);
		ok = (x[0].r->h.status == 200) + (x[1].r->h.status == 200);
		cr_assert_eq(ok, 1, "round %d: %ld %ld", i, x[0].r->h.status,
		    x[1].r->h.status);
		cr_assert_eq(x[0].r->h.status + x[1].r->h.status, 200 + 409);
		cr_assert_str_eq(
		    ecode(x[0].r->h.status == 409 ? x[0].r : x[1].r),
		    "wrong_state");
	}
	all = ledger_all();
	for (i = 0; i < 50; i++)
		cr_assert_eq(count_events(all, "cert.issued", ids[i]), 1,
		    "request %lld", (long long)ids[i]);
	cr_assert_eq(count_events(all, "cert.issued", 0), 50);
	json_decref(all);
}

/* ---- TLS ---- */

Test(api, tls_self_signed)
{
	char *cmd, *crt, *key;
	CURL *c;
	long st = 0;
	int rc;

	server_stop();
	crt = path_in("tls.crt");
	key = path_in("tls.key");
	cmd =
	    tu_keep(tu_fmt("openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
			   "-subj /CN=localhost -addext "
			   "subjectAltName=IP:127.0.0.1 -keyout %s -out %s "
			   "2>/dev/null",
		key, crt));
	rc = tu_sh(cmd, NULL, NULL);
	cr_assert_eq(rc, 0);
	spawn("--tls-cert", crt, "--tls-key", key);
	cr_assert(wait_listening(), "%s", S.log);
	cr_assert(S.tls, "https in the listening line: %s", S.log);
	S.cafile = crt;
	c = curl_easy_init();
	curl_easy_setopt(
	    c, CURLOPT_URL, tu_keep(tu_fmt("%s/v1/health", S.base)));
	curl_easy_setopt(c, CURLOPT_CAINFO, crt);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_curl_body);
	{
		struct resp r;

		memset(&r, 0, sizeof(r));
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.h);
		cr_assert_eq(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
		cr_assert_eq(st, 200);
		cr_assert_str_eq(r.h.body, "{\"status\":\"ok\"}\n");
		free(r.h.body);
	}
	curl_easy_cleanup(c);
	/* An authenticated call over TLS too. */
	cr_assert_eq(call(ALICE, "GET", "/v1/roles", NULL)->h.status, 200);
	/* An untrusted certificate is refused by the client. */
	c = curl_easy_init();
	curl_easy_setopt(
	    c, CURLOPT_URL, tu_keep(tu_fmt("%s/v1/health", S.base)));
	curl_easy_setopt(c, CURLOPT_CAINFO, "/dev/null");
	{
		CURLcode cc = curl_easy_perform(c);

		cr_assert(cc == CURLE_PEER_FAILED_VERIFICATION ||
			cc == CURLE_SSL_CACERT_BADFILE,
		    "curl %d: %s", cc, curl_easy_strerror(cc));
	}
	curl_easy_cleanup(c);
}

/* ---- SIGTERM under load ---- */

struct loader {
	int idx;
	json_int_t serials[2000];
	size_t n;
	int stop_errors;
};

static volatile int load_go = 1;
/* Certificates the loaders got so far (all threads). */
static atomic_size_t load_issued;

static void *
loader_main(void *arg)
{
	struct loader *L = arg;
	struct resp *r;
	char *b;

	b = tu_fmt("{\"role\":\"staging\",\"reason\":\"load\",\"public_key\":"
		   "\"%s\"}",
	    keyline[L->idx % NKEYS]);
	while (load_go && L->n < 2000) {
		r = call_h(ALICE, "POST", "/v1/requests", b, NULL, NULL);
		if (r->rc != CURLE_OK) {
			L->stop_errors++;
			if (L->stop_errors > 3)
				break;
			continue;
		}
		if (r->h.status == 201) {
			L->serials[L->n++] = jint(r, "serial");
			atomic_fetch_add(&load_issued, 1);
		} else if (r->h.status != 503)
			break;
	}
	free(b);
	return NULL;
}

Test(api, sigterm_under_load)
{
	pthread_t t[4];
	struct loader L[4];
	struct ledger *l = NULL;
	json_t *ev, *e;
	size_t i, k, total = 0, found;
	int j;

	memset(L, 0, sizeof(L));
	load_go = 1;
	atomic_store(&load_issued, 0);
	for (j = 0; j < 4; j++) {
		L[j].idx = j;
		pthread_create(&t[j], NULL, loader_main, &L[j]);
	}
	/* SIGTERM once the load has run 1.5 s and is flowing: a few
	 * certificates issued (polled with a generous cap: on a loaded
	 * machine 1.5 s may not be enough). */
	usleep(1500 * 1000);
	for (j = 0; j < 2000 && atomic_load(&load_issued) < 8; j++)
		usleep(10 * 1000);
	cr_assert_geq(atomic_load(&load_issued), 8, "no load after 20 s");
	cr_assert_eq(kill(S.pid, SIGTERM), 0);
	cr_assert_eq(server_reap(), 0, "%s", S.log);
	load_go = 0;
	for (j = 0; j < 4; j++) {
		pthread_join(t[j], NULL);
		total += L[j].n;
	}
	cr_assert_gt(total, 0);
	cr_assert(strstr(S.log, "shutting down"));
	/* Every 2xx answer is a committed cert.issued row. */
	cr_assert_eq(ledger_open(&l, path_in("ledger.db"), 0), 0);
	ev = json_array();
	for (;;) {
		json_t *page = NULL;
		int64_t since = 0;

		if (json_array_size(ev) > 0)
			since = json_integer_value(json_object_get(
			    json_array_get(ev, json_array_size(ev) - 1),
			    "seq"));
		cr_assert_eq(ledger_events_json(l, since, 1000, &page), 0);
		k = json_array_size(page);
		json_array_extend(ev, page);
		json_decref(page);
		if (k < 1000)
			break;
	}
	for (j = 0; j < 4; j++) {
		for (k = 0; k < L[j].n; k++) {
			found = 0;
			json_array_foreach(ev, i, e)
			{
				json_t *d = json_object_get(e, "details");

				if (strcmp(json_string_value(
					       json_object_get(e, "type")),
					"cert.issued") == 0 &&
				    json_integer_value(json_object_get(
					d, "serial")) == L[j].serials[k])
					found++;
			}
			cr_assert_eq(found, 1, "serial %lld",
			    (long long)L[j].serials[k]);
		}
	}
	json_decref(ev);
	ledger_close(l);
}

/* ---- SIGHUP and changes by other processes ---- */

Test(api, sighup_reload)
{
	struct resp *r;
	static const char extra[] =
	    ",\n  \"break-glass\": {\"principals\": [\"{{user}}\"], "
	    "\"max_ttl\": \"1h\", \"requesters\": [\"engineering\"], "
	    "\"approvers\": [\"sre-leads\"], \"approvals_required\": 2}";

	write_config("1h", extra);
	cr_assert_eq(kill(S.pid, SIGHUP), 0);
	cr_assert(log_wait("configuration reloaded"), "%s", S.log);
	r = call(ALICE, "GET", "/v1/roles", NULL);
	cr_assert_eq(json_array_size(json_object_get(r->j, "roles")), 4, "%s",
	    r->h.body);
	tu_write_file(path_in("jitca.json"), "{\"roles\": [", 11, 0600);
	cr_assert_eq(kill(S.pid, SIGHUP), 0);
	cr_assert(log_wait("keeping the old configuration"), "%s", S.log);
	r = call(ALICE, "GET", "/v1/roles", NULL);
	expect(r, 200, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->j, "roles")), 4);
}

/* ---- issue 10: policy holes ---- */

/* SIGHUP with jitca.json replaced by text; waits for the log line. */
static void
reload_with(const char *text, const char *logline)
{
	int before = log_count(logline);
	int i;

	tu_write_file(path_in("jitca.json"), text, strlen(text), 0600);
	cr_assert_eq(kill(S.pid, SIGHUP), 0);
	for (i = 0; i < TU_WAIT_MS / 10 && log_count(logline) == before; i++)
		usleep(10 * 1000);
	cr_assert_gt(log_count(logline), before, "%s", S.log);
}

/* Item 2: a reload that makes an existing user's name a literal
 * principal is refused, the old configuration stays. */
Test(api, sighup_refuses_user_name_principal)
{
	char *c = tu_keep(tu_fmt(CONFIG_FMT, "1h", ""));
	struct resp *r;

	reload_with(subst(c, "\"debug\"]", "\"debug\", \"bob\"]"),
	    "keeping the old configuration");
	cr_assert(strstr(S.log,
		      "jitcad serve: SIGHUP: keeping the old configuration: "
		      "user \"bob\" is the principal \"bob\" of role "
		      "prod-debug\n") != NULL,
	    "%s", S.log);
	r = call(ALICE, "GET", "/v1/roles", NULL);
	expect(r, 200, NULL);
	cr_assert_null(strstr(r->h.body, "\"bob\""), "%s", r->h.body);
}

/* Item 7: after a reload moves prod-db's approvers away from sre-leads,
 * bob's earlier approval no longer counts toward the two needed. */
Test(api, stale_approval_not_counted)
{
	char *c = tu_keep(tu_fmt(CONFIG_FMT, "1h", ""));
	json_int_t id = create(ALICE, "prod-db", 0);
	json_t *all;
	struct resp *r;

	r = call(BOB, "POST", req_path(id, "/approve"), "{}");
	expect(r, 200, NULL);
	cr_assert_str_eq(jstr(r, "state"), "pending");
	/* prod-db is the only role with "approvals_required": 2. */
	reload_with(subst(c,
			"\"approvers\": [\"sre-leads\"],\n    "
			"\"approvals_required\": 2",
			"\"approvers\": [\"engineering\"],\n    "
			"\"approvals_required\": 2"),
	    "configuration reloaded");
	r = call(FRANK, "POST", req_path(id, "/approve"), "{}");
	expect(r, 200, NULL);
	cr_assert_str_eq(jstr(r, "state"), "pending", "%s", r->h.body);
	cr_assert_eq(json_array_size(json_object_get(r->j, "approvals")), 2);
	all = ledger_all();
	cr_assert_eq(count_events(all, "cert.issued", id), 0);
	json_decref(all);
}

/* Item 9: every free-text field refuses bidi controls, C1 controls and
 * line/paragraph separators, naming the field and the code point. */
Test(api, text_fields_refuse_spoofing)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"INC-1 \\u202egnp.exe", "U+202E (bidi control)"},
	    {"INC-1 \\u2066x\\u2069", "U+2066 (bidi control)"},
	    {"INC-1 \\u0085next", "U+0085 (C1 control)"},
	    {"INC-1 \\u009b31m", "U+009B (C1 control)"},
	    {"INC-1 \\u2028two", "U+2028 (line separator)"},
	    {"INC-1 \\u2029two", "U+2029 (paragraph separator)"},
	    {"INC-1 \\u0007bell", "U+0007 (control character)"},
	};
	json_int_t id = create(ALICE, "prod-debug", 0), serial;
	json_t *before, *after;
	struct resp *r;
	size_t i;

	serial = jint(
	    call(ALICE, "GET", req_path(issued_request(), ""), NULL), "serial");
	before = ledger_all();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *want;

		r = call(ALICE, "POST", "/v1/requests",
		    tu_keep(tu_fmt("{\"role\": \"prod-debug\", \"reason\": "
				   "\"%s\", \"public_key\": \"%s\"}",
			bad[i].text, keyline[1])));
		expect(r, 400, "bad_text");
		want = tu_keep(tu_fmt("reason: %s is not allowed", bad[i].msg));
		cr_assert_str_eq(emsg(r), want);
		r = call(BOB, "POST", req_path(id, "/approve"),
		    tu_keep(tu_fmt("{\"comment\": \"%s\"}", bad[i].text)));
		expect(r, 400, "bad_text");
		want =
		    tu_keep(tu_fmt("comment: %s is not allowed", bad[i].msg));
		cr_assert_str_eq(emsg(r), want);
		r = call(BOB, "POST", req_path(id, "/deny"),
		    tu_keep(tu_fmt("{\"comment\": \"%s\"}", bad[i].text)));
		expect(r, 400, "bad_text");
		r = call(DAVE, "POST", "/v1/revocations",
		    tu_keep(tu_fmt("{\"serial\": %lld, \"reason\": \"%s\"}",
			(long long)serial, bad[i].text)));
		expect(r, 400, "bad_text");
		want = tu_keep(tu_fmt("reason: %s is not allowed", bad[i].msg));
		cr_assert_str_eq(emsg(r), want);
	}
	after = ledger_all();
	cr_assert_eq(json_array_size(after), json_array_size(before));
	json_decref(before);
	json_decref(after);
	/* Other scripts are fine. */
	r = call(ALICE, "POST", "/v1/requests",
	    tu_keep(
		tu_fmt("{\"role\": \"staging\", \"reason\": "
		       "\"INC-1 \\u00e9t\\u00e9 \\u05e9\\u05dc\\u05d5\\u05dd "
		       "\\ud83d\\ude80\", \"public_key\": \"%s\"}",
		    keyline[2])));
	expect(r, 201, NULL);
}

/* Item 12: GET /v1/requests pages (limit, cursor), list entries carry
 * no certificate, bad parameters are named. */
Test(api, requests_list_pages)
{
	json_int_t ids[53];
	json_t *list;
	struct resp *r;
	const char *cur;
	size_t i;

	for (i = 0; i < 53; i++)
		ids[i] = create(ALICE, "staging", (int)(i % NKEYS));
	/* Default: the newest 50, then a cursor. */
	r = call(ALICE, "GET", "/v1/requests", NULL);
	expect(r, 200, NULL);
	list = json_object_get(r->j, "requests");
	cr_assert_eq(json_array_size(list), 50);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_array_get(list, 0), "id")),
	    ids[52]);
	cr_assert_null(json_object_get(json_array_get(list, 0), "certificate"));
	cr_assert_eq(json_integer_value(json_object_get(
			 json_array_get(list, 0), "serial")) > 0,
	    1);
	cur = jstr(r, "next_cursor");
	cr_assert_eq(atoll(cur), ids[3], "%s", r->h.body);
	r = call(ALICE, "GET",
	    tu_keep(tu_fmt("/v1/requests?limit=2&cursor=%s", cur)), NULL);
	expect(r, 200, NULL);
	list = json_object_get(r->j, "requests");
	cr_assert_eq(json_array_size(list), 2);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_array_get(list, 1), "id")),
	    ids[1]);
	r = call(ALICE, "GET",
	    tu_keep(tu_fmt(
		"/v1/requests?limit=2&cursor=%s", jstr(r, "next_cursor"))),
	    NULL);
	expect(r, 200, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->j, "requests")), 1);
	cr_assert(json_is_null(json_object_get(r->j, "next_cursor")));
	/* The certificate is still in GET /v1/requests/{id}. */
	r = call(ALICE, "GET", req_path(ids[0], ""), NULL);
	cr_assert_not_null(json_object_get(r->j, "certificate"));
	r = call(ALICE, "GET", "/v1/requests?limit=500", NULL);
	expect(r, 200, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->j, "requests")), 53);
	cr_assert(json_is_null(json_object_get(r->j, "next_cursor")));
	static const char *const bad[][2] = {
	    {"limit=0", "query \"limit\" must be 1..500"},
	    {"limit=501", "query \"limit\" must be 1..500"},
	    {"limit=x", "query \"limit\" must be 1..500"},
	    {"cursor=0",
		"query \"cursor\" must be the \"next_cursor\" of an "
		"earlier page"},
	    {"cursor=abc",
		"query \"cursor\" must be the \"next_cursor\" of "
		"an earlier page"},
	};
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = call(ALICE, "GET",
		    tu_keep(tu_fmt("/v1/requests?%s", bad[i][0])), NULL);
		expect(r, 400, "bad_query");
		cr_assert_str_eq(emsg(r), bad[i][1]);
	}
}

/* Item 12: limits.requests_per_minute, 429 with Retry-After. */
Test(api, create_rate_limited)
{
	char *c = tu_keep(tu_fmt(CONFIG_FMT, "1h", ""));
	json_t *before, *after;
	struct resp *r;
	const char *ra;
	char *want;
	long retry;

	reload_with(subst(c, "\"requests_per_minute\": 10000",
			"\"requests_per_minute\": 2"),
	    "configuration reloaded");
	create(ALICE, "staging", 0);
	create(ALICE, "staging", 1);
	before = ledger_all();
	r = call(ALICE, "POST", "/v1/requests",
	    tu_keep(tu_fmt("{\"role\": \"staging\", \"reason\": \"x\", "
			   "\"public_key\": \"%s\"}",
		keyline[2])));
	expect(r, 429, "rate_limited");
	cr_assert_not_null(
	    ra = strstr(r->h.hdrs, "Retry-After: "), "%s", r->h.hdrs);
	retry = strtol(ra + 13, NULL, 10);
	cr_assert(retry >= 58 && retry <= 60, "%s", r->h.hdrs);
	want = tu_keep(tu_fmt("request: at most 2 new requests per minute; "
			      "try again in %lds",
	    retry));
	cr_assert_str_eq(emsg(r), want);
	after = ledger_all();
	cr_assert_eq(json_array_size(after), json_array_size(before));
	json_decref(before);
	json_decref(after);
	/* Per user: frank may still ask. */
	create(FRANK, "staging", 3);
}

Test(api, other_process_changes)
{
	struct ledger *l = NULL;
	struct config *cfg = NULL;
	struct cakey *k = NULL;
	struct ca ca;
	struct ca_actor local = {"local:test", NULL, 0};
	struct revoke_target t;
	char *gv[1] = {"engineering"}, *newtok = NULL, err[CONFIG_ERR_LEN];
	struct resp *r;
	json_int_t id, serial;
	const char *e1;
	char etag1[96];

	/* A user added by the CLI logs in at once. */
	cr_assert_eq(ledger_open(&l, path_in("ledger.db"), 0), 0);
	cr_assert_eq(config_load(&cfg, dir, err), 0, "%s", err);
	cr_assert_eq(
	    user_add(l, cfg, "local:test", "grace", gv, 1, &newtok), 0);
	r = call_h(NOBODY, "GET", "/v1/roles", NULL, NULL, newtok);
	expect(r, 200, NULL);
	cr_assert_eq(json_array_size(json_object_get(r->j, "roles")), 3);
	/* ... and a disabled one is out at once. */
	cr_assert_eq(user_disable(l, "local:test", "grace"), 0);
	r = call_h(NOBODY, "GET", "/v1/roles", NULL, NULL, newtok);
	expect(r, 401, "bad_token");
	user_token_free(newtok);

	/* A revocation by the CLI shows in the next KRL. */
	id = issued_request();
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	serial = jint(r, "serial");
	r = call(NOBODY, "GET", "/v1/krl", NULL);
	cr_assert_not_null(e1 = strstr(r->h.hdrs, "ETag: "));
	snprintf(etag1, sizeof(etag1), "%.*s", (int)strcspn(e1, "\r\n"), e1);
	cr_assert_eq(cakey_load(&k, path_in("ca_key.pem")), 0);
	memset(&ca, 0, sizeof(ca));
	ca.cfg = cfg;
	ca.ledger = l;
	ca.ca_pub = cakey_public(k);
	memset(&t, 0, sizeof(t));
	t.by = REVOKE_SERIAL;
	t.serial = (uint64_t)serial;
	cr_assert_eq(revoke_apply(&ca, &local, &t, "cli", NULL), 0);
	r = call(NOBODY, "GET", "/v1/krl", NULL);
	expect(r, 200, NULL);
	cr_assert(
	    strstr(r->h.hdrs, etag1) == NULL, "%s vs %s", r->h.hdrs, etag1);
	cr_assert_gt(r->h.len, KRL_EMPTY_LEN);
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	cr_assert_str_eq(jstr(r, "state"), "revoked");
	cakey_free(k);
	config_free(cfg);
	ledger_close(l);
}

/* ---- signing out ---- */

/* A session of name, made as POST /v1/session makes it (in this
 * process, on the server's ledger); its token (kept). */
static char *
session_for(const char *name, const char *group)
{
	struct ledger *l = NULL;
	struct config *cfg = NULL;
	struct user_sign_in in;
	char *gv[1] = {(char *)(uintptr_t)group}, *t = NULL;
	char err[CONFIG_ERR_LEN];
	uint64_t now = (uint64_t)time(NULL);

	cr_assert_eq(ledger_open(&l, path_in("ledger.db"), 0), 0);
	cr_assert_eq(config_load(&cfg, dir, err), 0, "%s", err);
	memset(&in, 0, sizeof(in));
	in.name = name;
	in.groups = gv;
	in.ngroups = 1;
	in.expires = now + 600;
	in.auth_time = now;
	in.issuer = "https://idp.test";
	in.subject = name;
	cr_assert_eq(user_sign_in(l, cfg, &in, &t, NULL), 0);
	config_free(cfg);
	ledger_close(l);
	return tu_keep(t);
}

/* The token id of the events: the first 8 hex digits of SHA-256. */
static char *
token_id_of(const char *t)
{
	unsigned char h[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)t, strlen(t), h);
	return tu_keep(tu_fmt("%02x%02x%02x%02x", h[0], h[1], h[2], h[3]));
}

/* The events of type whose details.token_id is id. */
static size_t
token_events(json_t *all, const char *type, const char *id, json_t **last)
{
	size_t i, n = 0;
	json_t *e;
	const char *t;

	json_array_foreach(all, i, e)
	{
		t = json_string_value(
		    json_object_get(json_object_get(e, "details"), "token_id"));
		if (strcmp(json_string_value(json_object_get(e, "type")),
			type) == 0 &&
		    t != NULL && strcmp(t, id) == 0) {
			n++;
			*last = e;
		}
	}
	return n;
}

Test(api, session_sign_out)
{
	char *s1 = session_for("grace", "engineering");
	char *s2 = session_for("grace", "engineering");
	char *id = token_id_of(s1), *again;
	json_t *before, *after, *e = NULL;
	struct resp *r;

	/* Both sessions work. */
	r = call_h(NOBODY, "GET", "/v1/roles", NULL, NULL, s1);
	expect(r, 200, NULL);
	r = call_h(NOBODY, "GET", "/v1/roles", NULL, NULL, s2);
	expect(r, 200, NULL);
	before = ledger_all();
	cr_assert_eq(token_events(before, "session.opened", id, &e), 1);
	cr_assert_eq(token_events(before, "session.closed", id, &e), 0);

	/* Signing out ends that session, and only that one. */
	r = call_h(NOBODY, "DELETE", "/v1/session", NULL, NULL, s1);
	expect(r, 200, NULL);
	cr_assert_eq(json_object_size(r->j), 2, "%s", r->h.body);
	cr_assert_str_eq(jstr(r, "user"), "grace");
	cr_assert_str_eq(jstr(r, "token_id"), id);
	r = call_h(NOBODY, "GET", "/v1/roles", NULL, NULL, s1);
	expect(r, 401, "bad_token");
	cr_assert_str_eq(emsg(r), "the token is unknown or malformed");
	r = call_h(NOBODY, "DELETE", "/v1/session", NULL, NULL, s1);
	expect(r, 401, "bad_token");
	r = call_h(NOBODY, "GET", "/v1/roles", NULL, NULL, s2);
	expect(r, 200, NULL);

	/* One event, by and about the user, with the same token id as
	 * session.opened. */
	after = ledger_all();
	cr_assert_eq(json_array_size(after), json_array_size(before) + 1);
	cr_assert_eq(token_events(after, "session.closed", id, &e), 1);
	cr_assert_str_eq(
	    json_string_value(json_object_get(e, "actor")), "grace");
	cr_assert_str_eq(
	    json_string_value(json_object_get(e, "subject")), "grace");
	again = json_dumps(json_object_get(e, "details"), JSON_COMPACT);
	cr_assert_str_eq(again, tu_keep(tu_fmt("{\"token_id\":\"%s\"}", id)));
	free(again);
	json_decref(before);
	json_decref(after);

	/* A static token is not a session: 400, nothing written, and it
	 * keeps working. */
	before = ledger_all();
	r = call(ALICE, "DELETE", "/v1/session", NULL);
	expect(r, 400, "not_a_session");
	cr_assert_str_eq(emsg(r),
	    "this is the static token of user alice, not a session from "
	    "signing in: it cannot be signed out (an admin replaces it with "
	    "jitcad user token or stops it with jitcad user disable)");
	r = call(ALICE, "GET", "/v1/roles", NULL);
	expect(r, 200, NULL);
	after = ledger_all();
	cr_assert_eq(json_array_size(after), json_array_size(before));
	json_decref(before);
	json_decref(after);

	/* No token, an unknown one, another method. */
	r = call(NOBODY, "DELETE", "/v1/session", NULL);
	expect(r, 401, "missing_token");
	r = call_h(NOBODY, "DELETE", "/v1/session", NULL, NULL,
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	expect(r, 401, "bad_token");
	r = call(NOBODY, "PUT", "/v1/session", NULL);
	expect(r, 405, "method_not_allowed");
	cr_assert(strstr(r->h.hdrs, "Allow: POST, DELETE\r\n") != NULL, "%s",
	    r->h.hdrs);
}

/* ---- the log ---- */

Test(api, log_lines_without_secrets)
{
	struct resp *r;
	size_t i;

	r = call(ALICE, "GET", "/v1/roles", NULL);
	expect(r, 200, NULL);
	r = call_h(NOBODY, "GET", "/v1/roles?x=1", NULL, NULL,
	    "jitca_secretsecretsecretsecretsecretsecretsecret");
	expect(r, 401, NULL);
	(void)create(ALICE, "prod-debug", 0);
	server_stop();
	cr_assert(strstr(S.log, " GET /v1/roles 200 "), "%s", S.log);
	cr_assert(strstr(S.log, " alice\n"), "%s", S.log);
	cr_assert(strstr(S.log, " GET /v1/roles 401 "), "%s", S.log);
	cr_assert(strstr(S.log, " POST /v1/requests 201 "), "%s", S.log);
	cr_assert_null(strstr(S.log, "secretsecret"));
	cr_assert_null(strstr(S.log, "x=1"));
	for (i = 0; i < 6; i++)
		cr_assert_null(strstr(S.log, tok[i]));
	cr_assert_null(strstr(S.log, "PRIVATE KEY"));
}

/* ---- startup refusals ---- */

static void
serve_start_fini(void)
{
	free(S.log);
	S.log = NULL;
}

TestSuite(serve_start, .fini = serve_start_fini, .timeout = 120);

static int
start_fails(const char *needle)
{
	spawn(NULL, NULL, NULL, NULL);
	cr_assert_not(wait_listening(), "started anyway: %s", S.log);
	cr_assert_eq(server_reap(), 1, "exit status; %s", S.log);
	cr_assert(
	    strstr(S.log, needle) != NULL, "want \"%s\" in: %s", needle, S.log);
	cr_log_info("%s", S.log);
	return 1;
}

Test(serve_start, key_readable_by_others)
{
	make_state("1h");
	cr_assert_eq(chmod(path_in("ca_key.pem"), 0640), 0);
	start_fails("readable by group or others");
	tu_rmtree(dir);
	tu_keep_free();
}

Test(serve_start, ledger_unusable)
{
	make_state("1h");
	cr_assert_eq(unlink(path_in("ledger.db")), 0);
	cr_assert_eq(mkdir(path_in("ledger.db"), 0700), 0);
	start_fails("ledger");
	tu_rmtree(dir);
	tu_keep_free();
}

/* The ledger exists but cannot be written by the service's user. */
Test(serve_start, ledger_not_writable)
{
	uid_t nobody = 65534;

	make_state("1h");
	if (geteuid() == 0) {
		/* As root, run the service as nobody: it owns the key and
		 * config, but not the ledger or the directory. */
		cr_assert_eq(chmod(dir, 0755), 0);
		cr_assert_eq(chown(path_in("ca_key.pem"), nobody, nobody), 0);
		cr_assert_eq(chown(path_in("jitca.json"), nobody, nobody), 0);
		cr_assert_eq(chmod(path_in("ledger.db"), 0644), 0);
		spawn_uid = nobody;
	} else {
		cr_assert_eq(chmod(path_in("ledger.db"), 0444), 0);
		cr_assert_eq(chmod(dir, 0555), 0);
	}
	start_fails("cannot write the ledger");
	cr_assert(strstr(S.log, "ledger.db") != NULL, "%s", S.log);
	spawn_uid = 0;
	(void)chmod(dir, 0700);
	tu_rmtree(dir);
	tu_keep_free();
}

/* A TLS file that is a directory: the message says so (it said "File
 * too large"). */
Test(serve_start, tls_file_is_a_directory)
{
	char *d, *want;

	make_state("1h");
	d = path_in("tls");
	cr_assert_eq(mkdir(d, 0700), 0);
	spawn("--tls-cert", d, "--tls-key", d);
	cr_assert_not(wait_listening(), "started anyway: %s", S.log);
	cr_assert_eq(server_reap(), 1, "exit status; %s", S.log);
	want = tu_keep(tu_fmt("jitcad serve: %s: Is a directory\n", d));
	cr_assert(
	    strstr(S.log, want) != NULL, "want \"%s\" in: %s", want, S.log);
	tu_rmtree(dir);
	tu_keep_free();
}

Test(serve_start, bad_config)
{
	make_state("1h");
	tu_write_file(path_in("jitca.json"), "{\"listen\": 5}", 13, 0600);
	start_fails("listen");
	tu_rmtree(dir);
	tu_keep_free();
}

/* Issue 10 item 2: a jitca.json whose literal principal is an existing
 * user's name does not start. */
Test(serve_start, user_name_is_a_literal_principal)
{
	char *c;

	make_state("1h");
	c = tu_keep(tu_fmt(CONFIG_FMT, "1h", ""));
	c = subst(c, "\"debug\"]", "\"debug\", \"carol\"]");
	tu_write_file(path_in("jitca.json"), c, strlen(c), 0600);
	start_fails("jitcad serve: user \"carol\" is the principal \"carol\" "
		    "of role prod-debug\n");
	tu_rmtree(dir);
	tu_keep_free();
}

Test(serve_start, trusted_proxies_bad_entry)
{
	char *c;

	make_state("1h");
	c = tu_read_file(path_in("jitca.json"), NULL);
	cr_assert_not_null(c);
	c = subst(tu_keep(c), "\"auditors\"",
	    "\"trusted_proxies\": [\"10.0.0.0/8\", \"10.0.0.1/8\"], "
	    "\"auditors\"");
	tu_write_file(path_in("jitca.json"), c, strlen(c), 0600);
	start_fails("trusted_proxies[1]: \"10.0.0.1/8\" is not an IP address "
		    "or CIDR (e.g. \"10.0.0.5\", \"10.1.0.0/16\", "
		    "\"fd00::/8\"; no host bits past the prefix)");
	tu_rmtree(dir);
	tu_keep_free();
}

Test(serve_start, port_taken)
{
	char err[HTTP_ERR_LEN];
	int fd, port;

	make_state("1h");
	cr_assert_eq(http_listen("127.0.0.1:0", &fd, &port, err), 0);
	spawn_listen = tu_keep(tu_fmt("127.0.0.1:%d", port));
	start_fails("already in use");
	close(fd);
	tu_rmtree(dir);
	tu_keep_free();
}

Test(serve_start, usage_errors)
{
	char *argv1[] = {"serve", "--bogus", NULL};
	char *argv2[] = {"serve", "--tls-cert", "x", NULL};
	char *argv3[] = {"serve", "--state", NULL};

	cr_assert_eq(web_serve_main(2, argv1), 2);
	cr_assert_eq(web_serve_main(3, argv2), 2);
	cr_assert_eq(web_serve_main(2, argv3), 2);
}

/* ---- the JSON of the answers, byte for byte ---- */

/* r's body with the random and clock-dependent values masked (kept). */
static const char *
body_masked(const struct resp *r)
{
	static const char *const str[] = {"\"certificate\":\"",
	    "\"key_fingerprint\":\"", "\"public_key\":\"", "\"digest\":\""};
	static const char *const num[] = {"\"created\":", "\"expires\":",
	    "\"valid_after\":", "\"valid_before\":", "\"when\":"};
	char *s = strdup(r->h.body);
	size_t i;

	cr_assert_not_null(s);
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		s = tu_mask(s, str[i], "\"", "X");
	for (i = 0; i < sizeof(num) / sizeof(num[0]); i++)
		s = tu_mask(s, num[i], ",}", "T");
	return tu_keep(s);
}

Test(api, json_pinned)
{
	const char *issued;
	struct resp *r;
	json_int_t id = create(ALICE, "prod-debug", 0);

	r = call(ALICE, "GET", "/v1/requests?state=pending", NULL);
	expect(r, 200, NULL);
	TU_PIN(body_masked(r),
	    "{\"requests\":[{\"id\":1,\"state\":\"pending\",\"role\":\""
	    "prod-debug\",\"requester\":\"alice\",\"principals\":[\"ali"
	    "ce\",\"debug\"],\"ttl\":600,\"reason\":\"INC-1 test\",\"cr"
	    "eated\":T,\"expires\":T,\"approvals_required\":1,\"key_fin"
	    "gerprint\":\"X\",\"public_key\":\"X\",\"digest\":\"X\",\"a"
	    "pprover_groups\":[\"sre-leads\"],\"approvals\":[],\"break_"
	    "glass\":false}],\"next_cursor\":null}\n");
	r = call(BOB, "POST", req_path(id, "/approve"),
	    "{\"comment\":\"ok, INC-1\"}");
	expect(r, 200, NULL);
	issued = body_masked(r);
	TU_PIN(issued,
	    "{\"id\":1,\"state\":\"issued\",\"role\":\"prod-debug\",\"r"
	    "equester\":\"alice\",\"principals\":[\"alice\",\"debug\"],"
	    "\"ttl\":600,\"reason\":\"INC-1 test\",\"created\":T,\"expi"
	    "res\":T,\"approvals_required\":1,\"key_fingerprint\":\"X\""
	    ",\"public_key\":\"X\",\"digest\":\"X\",\"approver_groups\""
	    ":[\"sre-leads\"],\"approvals\":[{\"who\":\"bob\",\"when\":"
	    "T,\"comment\":\"ok, INC-1\"}],\"certificate\":\"X\",\"seri"
	    "al\":1,\"key_id\":\"alice:prod-debug:req-1:serial-1\",\"va"
	    "lid_after\":T,\"valid_before\":T,\"break_glass\":false}\n");
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	expect(r, 200, NULL);
	TU_PIN(body_masked(r), issued);
	r = call(ALICE, "GET", "/v1/requests", NULL);
	expect(r, 200, NULL);
	TU_PIN(body_masked(r),
	    "{\"requests\":[{\"id\":1,\"state\":\"issued\",\"role\":\"p"
	    "rod-debug\",\"requester\":\"alice\",\"principals\":[\"alic"
	    "e\",\"debug\"],\"ttl\":600,\"reason\":\"INC-1 test\",\"cre"
	    "ated\":T,\"expires\":T,\"approvals_required\":1,\"key_fing"
	    "erprint\":\"X\",\"public_key\":\"X\",\"digest\":\"X\",\"ap"
	    "prover_groups\":[\"sre-leads\"],\"approvals\":[{\"who\":\""
	    "bob\",\"when\":T,\"comment\":\"ok, INC-1\"}],\"serial\":1,"
	    "\"key_id\":\"alice:prod-debug:req-1:serial-1\",\"valid_aft"
	    "er\":T,\"valid_before\":T,\"break_glass\":false}],\"next_c"
	    "ursor\":null}\n");
	r = call(ALICE, "GET", "/v1/roles", NULL);
	expect(r, 200, NULL);
	TU_PIN(body_masked(r),
	    "{\"roles\":[{\"name\":\"prod-db\",\"principals\":[\"alice\""
	    "],\"default_ttl\":3600,\"max_ttl\":3600,\"approvals_requir"
	    "ed\":2,\"critical_options\":{},\"extensions\":[],\"can_req"
	    "uest\":true,\"can_approve\":false},{\"name\":\"prod-debug\""
	    ",\"principals\":[\"alice\",\"debug\"],\"default_ttl\":1800"
	    ",\"max_ttl\":7200,\"approvals_required\":1,\"critical_opti"
	    "ons\":{\"source-address\":\"10.0.0.0/8\"},\"extensions\":["
	    "\"permit-pty\"],\"can_request\":true,\"can_approve\":false"
	    "},{\"name\":\"staging\",\"principals\":[\"alice\"],\"defau"
	    "lt_ttl\":28800,\"max_ttl\":28800,\"approvals_required\":0,"
	    "\"critical_options\":{},\"extensions\":[\"permit-port-forw"
	    "arding\",\"permit-pty\"],\"can_request\":true,\"can_approv"
	    "e\":false}]}\n");
	r = call(BOB, "POST", "/v1/revocations",
	    tu_keep(tu_fmt(
		"{\"request\":%lld,\"reason\":\"done\"}", (long long)id)));
	expect(r, 200, NULL);
	TU_PIN(body_masked(r),
	    "{\"revoked\":[1],\"already_revoked\":[],\"krl_version\":1}"
	    "\n");
	r = call(ALICE, "GET", req_path(id, ""), NULL);
	expect(r, 200, NULL);
	TU_PIN(
	    tu_keep(tu_mask(strdup(body_masked(r)), "\"revoked\":", ",}", "T")),
	    "{\"id\":1,\"state\":\"revoked\",\"role\":\"prod-debug\",\""
	    "requester\":\"alice\",\"principals\":[\"alice\",\"debug\"]"
	    ",\"ttl\":600,\"reason\":\"INC-1 test\",\"created\":T,\"exp"
	    "ires\":T,\"approvals_required\":1,\"key_fingerprint\":\"X\""
	    ",\"public_key\":\"X\",\"digest\":\"X\",\"approver_groups\""
	    ":[\"sre-leads\"],\"approvals\":[{\"who\":\"bob\",\"when\":"
	    "T,\"comment\":\"ok, INC-1\"}],\"certificate\":\"X\",\"seri"
	    "al\":1,\"key_id\":\"alice:prod-debug:req-1:serial-1\",\"va"
	    "lid_after\":T,\"valid_before\":T,\"revoked\":T,\"break_gla"
	    "ss\":false}\n");
}
