/*
 * jitca_main.c: the jitca program, the engineers' and approvers' command
 * (docs/client.md): login, requests, approve,
 * deny, status, logout.  Its one option table is at the end of this file;
 * signer/base/cli.c parses the command line with it, prints every
 * --help (which never acts), the man page jitca.1 and the bash
 * completion.  Results go to stdout, messages to stderr; the exit status
 * says what happened (JITCA_EXIT_* below, documented in docs/client.md).
 *
 * This file holds the user interface: output, the wait loop, signals,
 * and the choice of agent or files.  The pieces are in capi.c (HTTP),
 * ephkey.c (the key), ccheck.c (certificate checks), agent.c (ssh-agent)
 * and cconf.c (settings, files).  The token is never printed.
 */
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "client/agent.h"
#include "client/capi.h"
#include "client/ccheck.h"
#include "client/cconf.h"
#include "client/cshow.h"
#include "client/ephkey.h"
#include "signer/base/cli.h"
#include "signer/base/num.h"
#include "signer/cert.h"
#include "signer/pubkey.h"

#define JITCA_EXIT_OK 0
#define JITCA_EXIT_FAIL 1 /* refused or failed, not covered below */
#define JITCA_EXIT_USAGE 2 /* bad command line or configuration */
#define JITCA_EXIT_UNREACHABLE 3 /* server unreachable, TLS failure */
#define JITCA_EXIT_AUTH 4 /* 401: no, bad or disabled token */
#define JITCA_EXIT_FORBIDDEN 5 /* 403: not allowed */
#define JITCA_EXIT_DENIED 6 /* the request was denied */
#define JITCA_EXIT_EXPIRED 7 /* the request expired unapproved */
#define JITCA_EXIT_TIMEOUT 8 /* --wait ran out */
#define JITCA_EXIT_BADCERT 9 /* certificate or CA key failed our checks */
#define JITCA_EXIT_INTERRUPTED 130 /* Ctrl-C while waiting */

#define COMMENT_PREFIX "jitca:"
#define DEFAULT_WAIT (15 * 60)
#define MAX_PRINCIPALS 64
#ifndef JITCA_VERSION
#define JITCA_VERSION "0"
#endif
#define MAX_ARGS 64
#define POLL_FAIL_MAX 5 /* consecutive failed polls before giving up */
#define PLAIN_STATUS_EVERY 30 /* seconds between non-tty status lines */
#define LIST_PAGE 500 /* requests per GET /v1/requests page */
#define LIST_PAGES_MAX 20 /* jitca requests shows at most 10000 */

static volatile sig_atomic_t interrupted;

/* ---- output helpers ---- */

static void __attribute__((format(printf, 1, 2))) msg(const char *fmt, ...)
{
	va_list ap;

	fputs("jitca: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Server text may hold anything: escaped as client/cshow.h says, and
 * cut to about max bytes between characters. */
static void
fput_clean(FILE *f, const char *s, size_t max)
{
	char buf[4096];

	if (s == NULL)
		return;
	if (max + 4 > sizeof(buf))
		max = sizeof(buf) - 4;
	(void)cshow_escape(buf, max + 4, s);
	fputs(buf, f);
}

static void
clean_copy(char *dst, size_t len, const char *s)
{
	(void)cshow_escape(dst, len, s);
}

static int
exit_for(int r)
{
	switch (r) {
	case ERR_UNREACHABLE:
		return JITCA_EXIT_UNREACHABLE;
	case ERR_BAD_TOKEN:
		return JITCA_EXIT_AUTH;
	case ERR_FORBIDDEN:
	case ERR_SELF_APPROVAL:
		return JITCA_EXIT_FORBIDDEN;
	case ERR_EXPIRED:
		return JITCA_EXIT_EXPIRED;
	}
	return JITCA_EXIT_FAIL;
}

/* One line for a failed API call; returns the exit status. */
static int
api_fail(const char *what, int r, const char *detail)
{
	const char *hint = "";

	if (r == ERR_BAD_TOKEN)
		hint = " (check --token-file, $JITCA_TOKEN or "
		       "~/.config/jitca/token)";
	/* The server's message says more than our code's name. */
	fprintf(stderr, "jitca: %s: ", what);
	if (detail != NULL && *detail != '\0' && r != ERR_UNREACHABLE)
		fput_clean(stderr, detail, 300);
	else {
		fputs(err_str(r), stderr);
		if (detail != NULL && *detail != '\0') {
			fputs(": ", stderr);
			fput_clean(stderr, detail, 300);
		}
	}
	fprintf(stderr, "%s\n", hint);
	return exit_for(r);
}

static void
fmt_local(char *buf, size_t len, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "@%llu", (unsigned long long)t);
}

static uint64_t
now_s(void)
{
	return (uint64_t)time(NULL);
}

/* ---- options ---- */

struct opts {
	const char *server, *token_file, *ca_bundle;
	const char *role, *ttl, *reason, *wait, *comment;
	const char *principals[MAX_PRINCIPALS];
	size_t nprincipals;
	int no_agent, pending, yes;
	const char *args[MAX_ARGS];
	size_t nargs;
};

/* The parsed command line (signer/base/cli.h) in the shape the
 * commands below read. */
static void
opts_from(struct opts *o, const struct cli_parsed *p)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	o->server = cli_str(p, "server");
	o->token_file = cli_str(p, "token-file");
	o->ca_bundle = cli_str(p, "ca-bundle");
	for (i = 0; i < p->nvals; i++) {
		const char *name = p->vals[i].opt->name, *v = p->vals[i].text;

		if (strcmp(name, "role") == 0)
			o->role = v;
		else if (strcmp(name, "ttl") == 0)
			o->ttl = v;
		else if (strcmp(name, "reason") == 0)
			o->reason = v;
		else if (strcmp(name, "wait") == 0)
			o->wait = v;
		else if (strcmp(name, "comment") == 0)
			o->comment = v;
		else if (strcmp(name, "principal") == 0 &&
		    o->nprincipals < MAX_PRINCIPALS)
			o->principals[o->nprincipals++] = v;
		else if (strcmp(name, "no-agent") == 0)
			o->no_agent = 1;
		else if (strcmp(name, "pending") == 0)
			o->pending = 1;
		else if (strcmp(name, "yes") == 0)
			o->yes = 1;
	}
	for (i = 0; i < p->nargs && i < MAX_ARGS; i++)
		o->args[o->nargs++] = p->args[i];
}

/* 1 when url is plain http to a loopback host: 127.0.0.1, localhost or
 * [::1], followed by a port, a path or nothing (not "127.0.0.1.example"). */
static int
http_loopback(const char *url)
{
	static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]"};
	const char *rest;
	size_t i, n;

	if (strncmp(url, "http://", 7) != 0)
		return 0;
	rest = url + 7;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		n = strlen(hosts[i]);
		if (strncmp(rest, hosts[i], n) == 0 &&
		    (rest[n] == '\0' || rest[n] == ':' || rest[n] == '/'))
			return 1;
	}
	return 0;
}

/* Settings and an API client; exit status or 0. */
static int
connect_api(const struct opts *o, struct cconf *cf, struct capi **api)
{
	char *bad = NULL;
	int r;

	*api = NULL;
	if ((r = cconf_load(
		 cf, o->server, o->token_file, o->ca_bundle, &bad)) != 0) {
		msg("%s", bad != NULL ? bad : err_str(r));
		free(bad);
		return JITCA_EXIT_USAGE;
	}
	if (cf->warning != NULL)
		msg("warning: %s", cf->warning);
	if (cf->server == NULL) {
		msg("no server: give --server URL, set $JITCA_SERVER or "
		    "write \"server = URL\" in ~/.config/jitca/config");
		return JITCA_EXIT_USAGE;
	}
	if (strncmp(cf->server, "http://", 7) == 0 &&
	    !http_loopback(cf->server))
		msg("warning: %s is plain http; the token and requests "
		    "travel unencrypted",
		    cf->server);
	if ((r = capi_new(api, cf->server, cf->token, cf->ca_bundle)) != 0) {
		if (r == ERR_INVALID_ARG)
			msg("server URL must start with http:// or https:// "
			    "(from %s)",
			    cf->server_from);
		else
			msg("%s", err_str(r));
		return JITCA_EXIT_USAGE;
	}
	return 0;
}

/* ---- JSON helpers ---- */

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static long long
jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static void
principals_join(char *buf, size_t len, json_t *arr)
{
	size_t i, o = 0;
	json_t *v;
	int n;

	buf[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		n = snprintf(buf + o, len - o, "%s%s", i ? "," : "",
		    json_string_value(v) ? json_string_value(v) : "?");
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
}

/* ---- the CA key pin ---- */

/*
 * GET /v1/ca and compare with ~/.config/jitca/ca.pub; write the pin on
 * first use.  *ca is the pinned key (new).  Returns an exit status.
 */
static int
ca_pin(struct capi *api, const struct cconf *cf, struct pubkey **ca)
{
	struct pubkey *served = NULL, *pinned = NULL;
	json_t *rep = NULL;
	char *path = NULL, *text = NULL, *line = NULL, *detail = NULL;
	char fp1[PUBKEY_FP_LEN], fp2[PUBKEY_FP_LEN];
	const char *pk;
	int r, ex = JITCA_EXIT_FAIL;

	*ca = NULL;
	if ((r = capi_call(
		 api, "GET", "/v1/ca", NULL, 0, NULL, &rep, &detail)) != 0) {
		ex = api_fail("GET /v1/ca", r, detail);
		goto out;
	}
	pk = json_string_value(json_object_get(rep, "public_key"));
	if (pk == NULL || pubkey_from_line(&served, pk, strlen(pk)) != 0 ||
	    pubkey_fingerprint(fp1, served) != 0) {
		msg("GET /v1/ca: the reply holds no usable public key");
		ex = JITCA_EXIT_BADCERT;
		goto out;
	}
	if ((path = cconf_fmt("%s/ca.pub", cf->dir)) == NULL)
		goto out;
	r = cconf_read_file(&text, NULL, path, PUBKEY_MAX_LINE);
	if (r == ERR_NOT_FOUND) {
		if (pubkey_to_line(&line, served, "jitca-ca") != 0)
			goto out;
		text = cconf_fmt("%s\n", line);
		if (text == NULL || cconf_mkdirs(cf->dir, 0700) != 0 ||
		    cconf_write_atomic(path, text, strlen(text), 0644) != 0) {
			msg("cannot write %s: %s", path, strerror(errno));
			goto out;
		}
		msg("pinned the CA key %s in %s (first use)", fp1, path);
		*ca = served;
		served = NULL;
		ex = 0;
		goto out;
	}
	if (r != 0 || pubkey_from_line(&pinned, text, strlen(text)) != 0) {
		msg("%s: not a public key line; delete it to pin the "
		    "server's key again",
		    path);
		ex = JITCA_EXIT_BADCERT;
		goto out;
	}
	if (!pubkey_equal(served, pinned)) {
		if (pubkey_fingerprint(fp2, pinned) != 0)
			goto out;
		msg("the server's CA key %s differs from the key pinned in "
		    "%s (%s); refusing. If the CA key was replaced on "
		    "purpose, delete that file.",
		    fp1, path, fp2);
		ex = JITCA_EXIT_BADCERT;
		goto out;
	}
	*ca = pinned;
	pinned = NULL;
	ex = 0;
out:
	pubkey_free(served);
	pubkey_free(pinned);
	json_decref(rep);
	free(path);
	free(text);
	free(line);
	free(detail);
	return ex;
}

/* ---- login ---- */

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: let nanosleep return */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {
	    (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	if (!interrupted)
		(void)nanosleep(&ts, NULL);
}

/* Approver groups, when the server says (request "approver_groups" or
 * "approvers", else the role from GET /v1/roles). */
static void
approvers_text(char *buf, size_t len, struct capi *api, json_t *req)
{
	json_t *g = json_object_get(req, "approver_groups"), *roles = NULL;
	json_t *v;
	size_t i;
	const char *role = jstr(req, "role");

	if (!json_is_array(g))
		g = json_object_get(req, "approvers");
	if (!json_is_array(g) &&
	    capi_call(api, "GET", "/v1/roles", NULL, 1, NULL, &roles, NULL) ==
		0) {
		json_array_foreach(json_object_get(roles, "roles"), i, v)
		{
			if (strcmp(jstr(v, "name"), role) == 0)
				g = json_object_get(v, "approvers");
		}
	}
	if (json_is_array(g) && json_array_size(g) > 0) {
		char tmp[256], groups[256];

		principals_join(tmp, sizeof(tmp), g);
		clean_copy(groups, sizeof(groups), tmp);
		snprintf(buf, len, "members of %s", groups);
	} else
		snprintf(buf, len, "the approvers of role %.64s", role);
	json_decref(roles);
}

static size_t
napprovals(json_t *req)
{
	return json_array_size(json_object_get(req, "approvals"));
}

/*
 * Poll GET /v1/requests/ID until the request leaves "pending", the wait
 * runs out or the user interrupts.  *req is replaced by the latest
 * object.  Returns 0 when issued, else an exit status (message shown).
 */
static int
wait_for_issue(struct capi *api, json_t **req, uint64_t wait)
{
	char path[64], who[200], el[32], exp[64], *detail = NULL, rname[80];
	const char *st;
	json_t *cur = NULL;
	uint64_t start = now_s(), t, last_plain = 0;
	long long id = jint(*req, "id");
	size_t seen = napprovals(*req), fails = 0;
	int tty = isatty(STDERR_FILENO), r, ex;
	unsigned interval = 500;

	snprintf(path, sizeof(path), "/v1/requests/%lld", id);
	approvers_text(who, sizeof(who), api, *req);
	fmt_local(exp, sizeof(exp), (uint64_t)jint(*req, "expires"));
	clean_copy(rname, sizeof(rname), jstr(*req, "role"));
	fprintf(stderr,
	    "jitca: request %lld for role %s is pending: needs %lld "
	    "approval(s) from %s (request expires %s)\n",
	    id, rname, jint(*req, "approvals_required"), who, exp);
	if (!tty)
		last_plain = start;
	for (;;) {
		st = jstr(*req, "state");
		if (strcmp(st, "issued") == 0) {
			ex = 0;
			break;
		}
		t = now_s();
		if (strcmp(st, "pending") != 0 || interrupted ||
		    t - start >= wait) {
			ex = -1;
			break;
		}
		cconf_format_duration(el, sizeof(el), t - start);
		if (tty)
			fprintf(stderr,
			    "\r\033[Krequest %lld: waiting %s, %zu/%lld "
			    "approvals (%.40s); Ctrl-C stops",
			    id, el, napprovals(*req),
			    jint(*req, "approvals_required"), who);
		else if (t - last_plain >= PLAIN_STATUS_EVERY ||
		    napprovals(*req) != seen) {
			fprintf(stderr,
			    "jitca: still waiting for request %lld: %zu/%lld "
			    "approvals, waited %s\n",
			    id, napprovals(*req),
			    jint(*req, "approvals_required"), el);
			last_plain = t;
		}
		seen = napprovals(*req);
		fflush(stderr);
		sleep_ms(interval);
		if (interrupted)
			continue;
		if (t - start > 30)
			interval = 2000;
		r = capi_call(api, "GET", path, NULL, 1, NULL, &cur, &detail);
		if (r == 0) {
			json_decref(*req);
			*req = cur;
			cur = NULL;
			fails = 0;
		} else if ((r == ERR_UNREACHABLE || r == ERR_BUSY ||
			       r == ERR_BAD_RESPONSE) &&
		    ++fails < POLL_FAIL_MAX) {
			interval = 2000;
		} else {
			if (tty)
				fputc('\n', stderr);
			ex = api_fail("polling the request", r, detail);
			free(detail);
			return ex;
		}
		free(detail);
		detail = NULL;
	}
	if (tty)
		fputs("\r\033[K", stderr);
	if (ex == 0)
		return 0;
	st = jstr(*req, "state");
	if (strcmp(st, "denied") == 0) {
		json_t *d = json_object_get(*req, "denied");

		fprintf(stderr, "jitca: request %lld was denied", id);
		if (d != NULL) {
			fputs(" by ", stderr);
			fput_clean(stderr, jstr(d, "who"), 64);
			if (*jstr(d, "comment") != '\0') {
				fputs(": ", stderr);
				fput_clean(stderr, jstr(d, "comment"), 300);
			}
		}
		fputc('\n', stderr);
		return JITCA_EXIT_DENIED;
	}
	if (strcmp(st, "expired") == 0) {
		msg("request %lld expired before it was approved", id);
		return JITCA_EXIT_EXPIRED;
	}
	if (strcmp(st, "pending") != 0) {
		msg("request %lld is %s; no certificate", id, st);
		return JITCA_EXIT_FAIL;
	}
	if (interrupted) {
		msg("interrupted: request %lld stays pending and expires "
		    "unused at %s; no certificate was issued to this key",
		    id, exp);
		return JITCA_EXIT_INTERRUPTED;
	}
	cconf_format_duration(el, sizeof(el), wait);
	msg("timed out after %s waiting for approval of request %lld; it "
	    "stays pending and expires unused at %s",
	    el, id, exp);
	return JITCA_EXIT_TIMEOUT;
}

/* Remove every agent identity whose comment starts with prefix, except
 * keep (may be NULL): the cert blob and the plain key.  Returns how many
 * certificates were removed, or a negative code. */
static int
agent_remove_prefixed(
    struct agent *ag, const char *prefix, const uint8_t *keep, size_t keep_len)
{
	struct agent_id *ids = NULL;
	struct cert *c = NULL;
	const uint8_t *kb;
	size_t n = 0, i, kl;
	int r, removed = 0;

	if ((r = agent_list(ag, &ids, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (strncmp(ids[i].comment, prefix, strlen(prefix)) != 0)
			continue;
		if (keep != NULL && ids[i].blob_len == keep_len &&
		    memcmp(ids[i].blob, keep, keep_len) == 0)
			continue;
		if (agent_remove(ag, ids[i].blob, ids[i].blob_len) == 0)
			removed++;
		/* ssh-add -d style: the plain key is its own identity. */
		if (cert_from_blob(&c, ids[i].blob, ids[i].blob_len) == 0) {
			kb = pubkey_blob(c->key, &kl);
			if (agent_remove(ag, kb, kl) != 0) {
				/* ERR_NOT_FOUND: jitca adds only the cert. */
			}
		}
		cert_free(c);
		c = NULL;
	}
	agent_ids_free(ids, n);
	return removed;
}

/* Write ~/.ssh/jitca/ROLE and ROLE-cert.pub; prints the ssh line. */
static int
write_files(const struct cconf *cf, const char *role, const struct ephkey *k,
    const char *cert_line, const char *comment, const char *principal)
{
	char *dir = NULL, *kpath = NULL, *cpath = NULL, *ktext = NULL;
	char *cline = NULL;
	int ex = JITCA_EXIT_FAIL;

	if ((dir = cconf_fmt("%s/.ssh/jitca", cf->home)) == NULL ||
	    (kpath = cconf_fmt("%s/%s", dir, role)) == NULL ||
	    (cpath = cconf_fmt("%s/%s-cert.pub", dir, role)) == NULL ||
	    (cline = cconf_fmt("%s\n", cert_line)) == NULL)
		goto out;
	if (cconf_mkdirs(dir, 0700) != 0) {
		msg("cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if (ephkey_to_openssh(&ktext, k, comment) != 0)
		goto out;
	/* Key first: a certificate without its key is useless, the key
	 * without a certificate harmless. */
	if (cconf_write_atomic(kpath, ktext, strlen(ktext), 0600) != 0) {
		msg("cannot write %s: %s", kpath, strerror(errno));
		goto out;
	}
	if (cconf_write_atomic(cpath, cline, strlen(cline), 0600) != 0) {
		msg("cannot write %s: %s", cpath, strerror(errno));
		goto out;
	}
	printf("key:         %s\ncertificate: %s\n", kpath, cpath);
	printf("connect:     ssh -i %s %s@HOST\n", kpath, principal);
	ex = 0;
out:
	if (ktext != NULL) {
		OPENSSL_cleanse(ktext, strlen(ktext));
		free(ktext);
	}
	free(dir);
	free(kpath);
	free(cpath);
	free(cline);
	return ex;
}

static int
cmd_login(const struct cli_parsed *p)
{
	struct opts o;
	struct cconf cf;
	struct capi *api = NULL;
	struct pubkey *ca = NULL;
	struct ephkey *key = NULL;
	struct cert *cert = NULL;
	struct agent *ag = NULL;
	json_t *body = NULL, *req = NULL, *arr = NULL, *v;
	char *pkline = NULL, *detail = NULL, *comment = NULL, *prefix = NULL;
	char **want = NULL, until[64], left[32], buf[512];
	const char *cline;
	uint64_t ttl = 0, wait = DEFAULT_WAIT, now, life;
	size_t i, nwant = 0;
	int r, ex = JITCA_EXIT_FAIL, use_agent;

	opts_from(&o, p);
	memset(&cf, 0, sizeof(cf));
	if (cli_list(p, "principal", NULL, 0) > MAX_PRINCIPALS) {
		msg("too many --principal options");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (o.nargs > 0 || o.role == NULL || o.reason == NULL ||
	    *o.reason == '\0') {
		msg("usage: jitca login --role ROLE [--principal P]... "
		    "[--ttl D] --reason TEXT [--wait D] [--no-agent]");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (!cconf_role_ok(o.role)) {
		msg("bad role name \"%s\"", o.role);
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (o.ttl != NULL && cconf_parse_duration(&ttl, o.ttl) != 0) {
		msg("bad --ttl \"%s\" (use 90s, 30m, 12h, 7d)", o.ttl);
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (o.wait != NULL && cconf_parse_duration(&wait, o.wait) != 0) {
		msg("bad --wait \"%s\" (use 90s, 30m, 12h, 7d)", o.wait);
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if ((ex = connect_api(&o, &cf, &api)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	signals_install();
	if ((ex = ca_pin(api, &cf, &ca)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	if ((r = ephkey_generate(&key)) != 0 ||
	    (r = pubkey_to_line(&pkline, ephkey_public(key), NULL)) != 0) {
		msg("making a key: %s %s", err_str(r), err_crypto_detail());
		goto out;
	}
	if ((body = json_object()) == NULL || (arr = json_array()) == NULL)
		goto out;
	/* json_string() refuses text that is not UTF-8: say so rather than
	 * send a body without the field. */
	for (i = 0; i < o.nprincipals; i++) {
		if (json_array_append_new(arr, json_string(o.principals[i])) !=
		    0) {
			msg("--principal is not valid UTF-8");
			ex = JITCA_EXIT_USAGE;
			goto out;
		}
	}
	if (json_object_set_new(body, "reason", json_string(o.reason)) != 0) {
		msg("--reason is not valid UTF-8");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (json_object_set_new(body, "role", json_string(o.role)) != 0 ||
	    (o.nprincipals > 0 &&
		json_object_set(body, "principals", arr) != 0) ||
	    (ttl > 0 &&
		json_object_set_new(
		    body, "ttl", json_integer((json_int_t)ttl)) != 0) ||
	    json_object_set_new(body, "public_key", json_string(pkline)) != 0)
		goto out;
	if ((r = capi_call(api, "POST", "/v1/requests", body, 1, NULL, &req,
		 &detail)) != 0) {
		ex = api_fail("request refused", r, detail);
		goto out;
	}
	if (!json_is_integer(json_object_get(req, "id"))) {
		msg("the server's reply has no request id");
		goto out;
	}
	if (strcmp(jstr(req, "state"), "issued") != 0 &&
	    (ex = wait_for_issue(api, &req, wait)) != 0)
		goto out;
	ex = JITCA_EXIT_BADCERT;
	/* What we check the certificate against: our principals, else the
	 * ones the server put in the request (never an empty set). */
	if (o.nprincipals > 0) {
		want = (char **)(uintptr_t)o.principals;
		nwant = o.nprincipals;
	} else {
		v = json_object_get(req, "principals");
		nwant = json_array_size(v);
		if (nwant == 0 || nwant > MAX_PRINCIPALS ||
		    (want = calloc(nwant, sizeof(*want))) == NULL) {
			msg("the issued request names no principals");
			goto out;
		}
		for (i = 0; i < nwant; i++)
			want[i] = (char *)(uintptr_t)json_string_value(
			    json_array_get(v, i));
		for (i = 0; i < nwant; i++)
			if (want[i] == NULL) {
				msg("bad principals in the reply");
				goto out;
			}
	}
	if (ttl == 0 && jint(req, "ttl") > 0)
		ttl = (uint64_t)jint(req, "ttl");
	if (ttl == 0)
		ttl = CCONF_MAX_DURATION;
	cline = json_string_value(json_object_get(req, "certificate"));
	now = now_s();
	if (cline == NULL) {
		msg("request %lld is issued but the reply holds no "
		    "certificate",
		    jint(req, "id"));
		goto out;
	}
	if ((r = ccheck_cert(&cert, cline, ca, ephkey_public(key), want, nwant,
		 ttl, now)) != 0) {
		msg("refusing the certificate for request %lld: %s",
		    jint(req, "id"), err_str(r));
		goto out;
	}
	ex = JITCA_EXIT_FAIL;
	if ((comment = cconf_fmt(COMMENT_PREFIX "%s:%llu", o.role,
		 (unsigned long long)cert->serial)) == NULL ||
	    (prefix = cconf_fmt(COMMENT_PREFIX "%s:", o.role)) == NULL)
		goto out;
	life = cert->valid_before - now; /* ccheck: valid_before > now */
	if (life > UINT32_MAX)
		life = UINT32_MAX;
	use_agent = !o.no_agent;
	if (use_agent && (r = agent_connect(&ag, NULL)) != 0) {
		msg("no ssh-agent (%s): writing files instead",
		    getenv("SSH_AUTH_SOCK") == NULL ? "$SSH_AUTH_SOCK is unset"
						    : "cannot connect to "
						      "$SSH_AUTH_SOCK");
		use_agent = 0;
	}
	if (use_agent) {
		if ((r = agent_add(ag, key, cert, comment, (uint32_t)life)) !=
		    0) {
			msg("ssh-agent: %s", err_str(r));
			goto out;
		}
		r = agent_remove_prefixed(
		    ag, prefix, cert->blob, cert->blob_len);
		if (r > 0)
			msg("removed %d older %s certificate(s) from the agent",
			    r, o.role);
	} else if ((ex = write_files(&cf, o.role, key, cline, comment,
			cert->principals[0])) != 0)
		goto out;
	fmt_local(until, sizeof(until), cert->valid_before);
	cconf_format_duration(left, sizeof(left), life);
	buf[0] = '\0';
	for (i = 0; i < cert->nprincipals; i++) {
		strncat(buf, i ? ", " : "", sizeof(buf) - strlen(buf) - 1);
		strncat(
		    buf, cert->principals[i], sizeof(buf) - strlen(buf) - 1);
	}
	printf("role:        %s\nprincipals:  %s\nvalid until: %s (%s "
	       "left)\nserial:      %llu\nwhere:       %s\n",
	    o.role, buf, until, left, (unsigned long long)cert->serial,
	    use_agent ? "ssh-agent" : "files");
	ex = 0;
out:
	if (want != NULL && want != (char **)(uintptr_t)o.principals)
		free(want);
	agent_close(ag);
	cert_free(cert);
	ephkey_free(key);
	pubkey_free(ca);
	json_decref(body);
	json_decref(arr);
	json_decref(req);
	capi_free(api);
	cconf_clear(&cf);
	free(pkline);
	free(detail);
	free(comment);
	free(prefix);
	return ex;
}

/* ---- approvers ---- */

static void
print_request(json_t *q)
{
	char b[512], t[32], when[64];
	json_t *a;
	size_t i;

	principals_join(b, sizeof(b), json_object_get(q, "principals"));
	cconf_format_duration(t, sizeof(t), (uint64_t)jint(q, "ttl"));
	fmt_local(when, sizeof(when), (uint64_t)jint(q, "created"));
	printf("request:     %lld (%s)\n", jint(q, "id"), jstr(q, "state"));
	printf("requester:   ");
	fput_clean(stdout, jstr(q, "requester"), 64);
	printf("\nrole:        ");
	fput_clean(stdout, jstr(q, "role"), 64);
	printf("\nprincipals:  ");
	fput_clean(stdout, b, sizeof(b));
	printf("\nttl:         %s\nreason:      ", t);
	fput_clean(stdout, jstr(q, "reason"), 1024);
	printf("\ncreated:     %s\nkey:         ", when);
	fput_clean(stdout, jstr(q, "key_fingerprint"), 64);
	printf("\napprovals:   %zu of %lld", napprovals(q),
	    jint(q, "approvals_required"));
	json_array_foreach(json_object_get(q, "approvals"), i, a)
	{
		fputs(i ? ", " : " (", stdout);
		fput_clean(stdout, jstr(a, "who"), 64);
		if (i + 1 == napprovals(q))
			fputc(')', stdout);
	}
	fputc('\n', stdout);
}

static int
cmd_requests(const struct cli_parsed *p)
{
	struct opts o;
	struct cconf cf;
	struct capi *api = NULL;
	json_t *rep = NULL, *q, *list = NULL;
	char *detail = NULL, pr[41], reason[49], role[21], who[17], t[16];
	char age[16], path[96], cursor[24] = "";
	size_t i, page;
	uint64_t now = now_s();
	int r, ex = JITCA_EXIT_FAIL;

	opts_from(&o, p);
	memset(&cf, 0, sizeof(cf));
	if ((ex = connect_api(&o, &cf, &api)) != 0)
		goto out;
	/* Every page (GET /v1/requests?limit=&cursor=), up to
	 * LIST_PAGES_MAX; a server without paging sends one page and no
	 * "next_cursor". */
	if ((list = json_array()) == NULL)
		goto out;
	for (page = 0; page < LIST_PAGES_MAX; page++) {
		json_t *pl, *nc;

		snprintf(path, sizeof(path), "/v1/requests?%slimit=%d%s%s",
		    o.pending ? "state=pending&" : "", LIST_PAGE,
		    cursor[0] != '\0' ? "&cursor=" : "", cursor);
		if ((r = capi_call(api, "GET", path, NULL, 1, NULL, &rep,
			 &detail)) != 0) {
			ex = api_fail("listing requests", r, detail);
			goto out;
		}
		pl = json_object_get(rep, "requests");
		if (!json_is_array(pl)) {
			msg("listing requests: %s", err_str(ERR_BAD_RESPONSE));
			ex = JITCA_EXIT_FAIL;
			goto out;
		}
		json_array_extend(list, pl);
		nc = json_object_get(rep, "next_cursor");
		cursor[0] = '\0';
		if (json_is_string(nc) &&
		    strspn(json_string_value(nc), "0123456789") ==
			strlen(json_string_value(nc)) &&
		    strlen(json_string_value(nc)) < sizeof(cursor))
			snprintf(cursor, sizeof(cursor), "%s",
			    json_string_value(nc));
		json_decref(rep);
		rep = NULL;
		if (cursor[0] == '\0')
			break;
	}
	if (json_array_size(list) == 0) {
		fprintf(stderr, "jitca: no %srequests\n",
		    o.pending ? "pending " : "");
		ex = 0;
		goto out;
	}
	printf("%-6s %-8s %-20s %-16s %-24s %-7s %-5s %-7s %s\n", "ID", "STATE",
	    "ROLE", "REQUESTER", "PRINCIPALS", "TTL", "APPR", "AGE", "REASON");
	json_array_foreach(list, i, q)
	{
		char tmp[512];

		principals_join(
		    tmp, sizeof(tmp), json_object_get(q, "principals"));
		clean_copy(pr, sizeof(pr) < 25 ? sizeof(pr) : 25, tmp);
		clean_copy(reason, sizeof(reason), jstr(q, "reason"));
		clean_copy(role, sizeof(role), jstr(q, "role"));
		clean_copy(who, sizeof(who), jstr(q, "requester"));
		cconf_format_duration(t, sizeof(t), (uint64_t)jint(q, "ttl"));
		cconf_format_duration(age, sizeof(age),
		    now > (uint64_t)jint(q, "created")
			? now - (uint64_t)jint(q, "created")
			: 0);
		snprintf(tmp, sizeof(tmp), "%zu/%lld", napprovals(q),
		    jint(q, "approvals_required"));
		printf("%-6lld %-8.8s %-20s %-16s %-24s %-7s %-5s %-7s %s\n",
		    jint(q, "id"), jstr(q, "state"), role, who, pr, t, tmp, age,
		    reason);
	}
	ex = 0;
out:
	json_decref(rep);
	json_decref(list);
	capi_free(api);
	cconf_clear(&cf);
	free(detail);
	return ex;
}

/* 1 when the user types y or yes on the terminal. */
static int
confirm(const char *question)
{
	char line[16];
	FILE *tty = fopen("/dev/tty", "r+");
	int yes = 0;

	if (tty == NULL)
		return 0;
	fprintf(tty, "%s [y/N] ", question);
	fflush(tty);
	if (fgets(line, sizeof(line), tty) != NULL)
		yes = strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0 ||
		    strcmp(line, "Y\n") == 0;
	fclose(tty);
	return yes;
}

static int
cmd_decide(const struct cli_parsed *p, int approve)
{
	struct opts o;
	struct cconf cf;
	struct capi *api = NULL;
	json_t *q = NULL, *rep = NULL, *body = NULL;
	char *detail = NULL, path[80], question[160];
	const char *verb = approve ? "approve" : "deny";
	unsigned long long id;
	uint64_t n = 0;
	int r, ex = JITCA_EXIT_FAIL;

	opts_from(&o, p);
	memset(&cf, 0, sizeof(cf));
	if (o.nargs != 1 || num_parse_u64(o.args[0], 1ull << 53, &n) != 0 ||
	    n == 0) {
		msg("usage: jitca %s ID [--comment TEXT]%s", verb,
		    approve ? " [--yes]" : "");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	id = n;
	if ((ex = connect_api(&o, &cf, &api)) != 0)
		goto out;
	snprintf(path, sizeof(path), "/v1/requests/%llu", id);
	if ((r = capi_call(api, "GET", path, NULL, 1, NULL, &q, &detail)) !=
	    0) {
		ex = api_fail(path + 4, r, detail);
		goto out;
	}
	print_request(q);
	if (strcmp(jstr(q, "state"), "pending") != 0) {
		msg("request %llu is %s, not pending: nothing to %s", id,
		    jstr(q, "state"), verb);
		ex = strcmp(jstr(q, "state"), "expired") == 0
		    ? JITCA_EXIT_EXPIRED
		    : JITCA_EXIT_FAIL;
		goto out;
	}
	if (approve && !o.yes && isatty(STDIN_FILENO) &&
	    isatty(STDERR_FILENO)) {
		char qrole[41], qwho[41];

		clean_copy(qrole, sizeof(qrole), jstr(q, "role"));
		clean_copy(qwho, sizeof(qwho), jstr(q, "requester"));
		snprintf(question, sizeof(question),
		    "Approve request %llu (%s for %s)?", id, qrole, qwho);
		if (!confirm(question)) {
			msg("not approved");
			ex = JITCA_EXIT_FAIL;
			goto out;
		}
	}
	if ((body = json_object()) == NULL)
		goto out;
	if (o.comment != NULL &&
	    json_object_set_new(body, "comment", json_string(o.comment)) != 0) {
		msg("--comment is not valid UTF-8");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/requests/%llu/%s", id, verb);
	if ((r = capi_call(api, "POST", path, body, 1, NULL, &rep, &detail)) !=
	    0) {
		ex = api_fail(approve ? "approve" : "deny", r, detail);
		goto out;
	}
	if (!approve)
		printf("denied request %llu\n", id);
	else if (strcmp(jstr(rep, "state"), "issued") == 0)
		printf("approved request %llu: certificate issued (serial "
		       "%lld)\n",
		    id, jint(rep, "serial"));
	else
		printf("approved request %llu: %zu of %lld approvals, still "
		       "%s\n",
		    id, napprovals(rep), jint(rep, "approvals_required"),
		    jstr(rep, "state"));
	ex = 0;
out:
	json_decref(q);
	json_decref(rep);
	json_decref(body);
	capi_free(api);
	cconf_clear(&cf);
	free(detail);
	return ex;
}

/* ---- status / logout ---- */

static void
print_cert_row(
    const char *where, const char *name, const struct cert *c, uint64_t now)
{
	char left[32], pr[256];
	size_t i;

	pr[0] = '\0';
	for (i = 0; i < c->nprincipals; i++) {
		strncat(pr, i ? "," : "", sizeof(pr) - strlen(pr) - 1);
		strncat(pr, c->principals[i], sizeof(pr) - strlen(pr) - 1);
	}
	if (c->valid_before > now)
		cconf_format_duration(
		    left, sizeof(left), c->valid_before - now);
	else
		snprintf(left, sizeof(left), "expired");
	printf("%-6s %-24s %-24s %-8llu %s\n", where, name, pr,
	    (unsigned long long)c->serial, left);
}

/* The files in ~/.ssh/jitca: calls fn for each ROLE-cert.pub. */
static int
each_file(const struct cconf *cf,
    void (*fn)(const char *dir, const char *role, void *ctx), void *ctx)
{
	char *dir = NULL, role[80];
	struct dirent *de;
	DIR *d;
	size_t n;
	const size_t sl = sizeof("-cert.pub") - 1;

	if ((dir = cconf_fmt("%s/.ssh/jitca", cf->home)) == NULL)
		return ERR_ALLOC;
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n <= sl || n - sl >= sizeof(role) ||
		    strcmp(de->d_name + n - sl, "-cert.pub") != 0)
			continue;
		memcpy(role, de->d_name, n - sl);
		role[n - sl] = '\0';
		if (cconf_role_ok(role))
			fn(dir, role, ctx);
	}
	closedir(d);
	free(dir);
	return 0;
}

/*
 * The options and settings of status and logout, which only look at this
 * machine (the agent, ~/.ssh/jitca): 0 or an exit status (message
 * shown).
 */
static int
local_setup(struct cconf *cf)
{
	char *bad = NULL;
	int r;

	if ((r = cconf_load(cf, NULL, NULL, NULL, &bad)) != 0) {
		msg("%s", bad != NULL ? bad : err_str(r));
		free(bad);
		return JITCA_EXIT_USAGE;
	}
	return 0;
}

static void
status_file(const char *dir, const char *role, void *ctx)
{
	char *path = cconf_fmt("%s/%s-cert.pub", dir, role), *text = NULL;
	struct cert *c = NULL;
	int *count = ctx;

	if (path != NULL &&
	    cconf_read_file(&text, NULL, path, PUBKEY_MAX_LINE) == 0 &&
	    cert_from_line(&c, text, strlen(text)) == 0) {
		print_cert_row("file", role, c, now_s());
		(*count)++;
	}
	cert_free(c);
	free(text);
	free(path);
}

static int
cmd_status(const struct cli_parsed *p)
{
	struct cconf cf;
	struct agent *ag = NULL;
	struct agent_id *ids = NULL;
	struct cert *c = NULL;
	size_t n = 0, i;
	int r, count = 0, ex = JITCA_EXIT_FAIL;
	char name[64];

	memset(&cf, 0, sizeof(cf));
	if ((ex = local_setup(&cf)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	printf("%-6s %-24s %-24s %-8s %s\n", "WHERE", "NAME", "PRINCIPALS",
	    "SERIAL", "LEFT");
	if (agent_connect(&ag, NULL) == 0 &&
	    (r = agent_list(ag, &ids, &n)) == 0) {
		for (i = 0; i < n; i++) {
			if (strncmp(ids[i].comment, COMMENT_PREFIX,
				strlen(COMMENT_PREFIX)) != 0 ||
			    cert_from_blob(&c, ids[i].blob, ids[i].blob_len) !=
				0)
				continue;
			clean_copy(name, sizeof(name), ids[i].comment);
			print_cert_row("agent", name, c, now_s());
			cert_free(c);
			c = NULL;
			count++;
		}
	} else
		fprintf(stderr, "jitca: no ssh-agent to look in\n");
	(void)each_file(&cf, status_file, &count);
	if (count == 0)
		fprintf(stderr, "jitca: no jitca certificates\n");
	ex = 0;
out:
	agent_ids_free(ids, n);
	agent_close(ag);
	cconf_clear(&cf);
	return ex;
}

static void
logout_file(const char *dir, const char *role, void *ctx)
{
	char *k = cconf_fmt("%s/%s", dir, role);
	char *c = cconf_fmt("%s/%s-cert.pub", dir, role);
	int *failed = ctx;

	if (k == NULL || c == NULL) {
		msg("%s", err_str(ERR_ALLOC));
		(*failed)++;
	} else if (unlink(c) != 0 && errno != ENOENT) {
		msg("cannot remove %s: %s", c, strerror(errno));
		(*failed)++;
	} else if (unlink(k) != 0 && errno != ENOENT) {
		msg("cannot remove %s: %s", k, strerror(errno));
		(*failed)++;
	} else
		printf("deleted %s and its key\n", c);
	free(k);
	free(c);
}

static int
cmd_logout(const struct cli_parsed *p)
{
	struct cconf cf;
	struct agent *ag = NULL;
	int r, failed = 0, ex = JITCA_EXIT_FAIL;

	memset(&cf, 0, sizeof(cf));
	if ((ex = local_setup(&cf)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	if (agent_connect(&ag, NULL) == 0) {
		r = agent_remove_prefixed(ag, COMMENT_PREFIX, NULL, 0);
		if (r < 0) {
			msg("ssh-agent: %s", err_str(r));
			goto out;
		}
		printf("removed %d certificate(s) from ssh-agent\n", r);
	}
	if ((r = each_file(&cf, logout_file, &failed)) != 0) {
		msg("%s", err_str(r));
		goto out;
	}
	ex = failed > 0 ? JITCA_EXIT_FAIL : JITCA_EXIT_OK;
out:
	agent_close(ag);
	cconf_clear(&cf);
	return ex;
}

static int
cmd_approve(const struct cli_parsed *p)
{
	return cmd_decide(p, 1);
}

static int
cmd_deny(const struct cli_parsed *p)
{
	return cmd_decide(p, 0);
}

/* ---- the option table (signer/base/cli.h) ---- */

static const struct cli_opt common_opts[] = {
    {"server", 0, CLI_STRING, "URL", 0,
	"the jitcad server (else $JITCA_SERVER, else ~/.config/jitca/config)",
	NULL},
    {"token-file", 0, CLI_FILE, "FILE", 0,
	"read the token from FILE (else $JITCA_TOKEN, else "
	"~/.config/jitca/token)",
	NULL},
    {"ca-bundle", 0, CLI_FILE, "FILE", 0,
	"trust this PEM bundle for the server's TLS certificate", NULL},
    CLI_OPT_END,
};

static const struct cli_opt login_opts[] = {
    {"role", 0, CLI_STRING, "ROLE", CLI_REQUIRED, "the role to ask for", NULL},
    {"principal", 0, CLI_STRING, "P", CLI_REPEAT,
	"a principal of the role (default all of them)", NULL},
    {"ttl", 0, CLI_DURATION, "D", 0,
	"lifetime (300, 90s, 30m, 12h, 7d; default the role's)", NULL},
    {"reason", 0, CLI_STRING, "TEXT", CLI_REQUIRED,
	"why, shown to the approvers and kept in the ledger", NULL},
    {"wait", 0, CLI_DURATION, "D", 0,
	"how long to wait for approval (default 15m)", NULL},
    {"no-agent", 0, CLI_FLAG, NULL, 0,
	"write ~/.ssh/jitca/ROLE and ROLE-cert.pub instead of using "
	"ssh-agent",
	NULL},
    CLI_OPT_END,
};

static const struct cli_opt requests_opts[] = {
    {"pending", 0, CLI_FLAG, NULL, 0, "only pending requests", NULL},
    CLI_OPT_END,
};

static const struct cli_opt decide_opts[] = {
    {"comment", 0, CLI_STRING, "TEXT", 0, "a comment for the requester", NULL},
    {"yes", 0, CLI_FLAG, NULL, 0, "do not ask for confirmation", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd commands[] = {
    {"login", NULL, 0, 0,
	"request a certificate, wait for approval, add it to ssh-agent (or "
	"write ~/.ssh/jitca/ROLE)",
	login_opts, NULL, cmd_login},
    {"requests", NULL, 0, 0, "list the requests you made or may approve",
	requests_opts, NULL, cmd_requests},
    {"approve", "ID", 1, 1, "approve a pending request", decide_opts, NULL,
	cmd_approve},
    {"deny", "ID", 1, 1, "deny a pending request", decide_opts, NULL, cmd_deny},
    {"status", NULL, 0, 0,
	"list the jitca certificates in the agent and "
	"in files",
	NULL, NULL, cmd_status},
    {"logout", NULL, 0, 0,
	"remove jitca certificates from the agent and delete their files", NULL,
	NULL, cmd_logout},
    CLI_CMD_END,
};

static const struct cli_prog jitca_prog = {
    "jitca",
    1,
    JITCA_VERSION,
    "ask for, approve and use short-lived SSH certificates",
    "jitca asks the jitca certificate authority for access to a role, for "
    "a stated reason and a bounded time. Once someone else approves, the "
    "certificate goes into ssh-agent with the same lifetime, and plain "
    "ssh works until it expires.\n\n"
    "Results go to standard output, messages to standard error. Durations "
    "are a number and a unit (90s, 30m, 12h, 7d) or a bare number of "
    "seconds (300).",
    common_opts,
    commands,
    "0  success\n"
    "1  refused or failed\n"
    "2  usage error or bad configuration\n"
    "3  server unreachable or TLS failure\n"
    "4  no, bad or disabled token\n"
    "5  forbidden\n"
    "6  the request was denied\n"
    "7  the request expired unapproved\n"
    "8  --wait ran out\n"
    "9  the certificate or CA key failed jitca's checks\n"
    "130  interrupted",
    "JITCA_SERVER  the server when --server is not given\n"
    "JITCA_TOKEN  the token when --token-file is not given\n"
    "SSH_AUTH_SOCK  the ssh-agent to add certificates to",
    "~/.config/jitca/config  settings (server = URL, token_file, ca_bundle)\n"
    "~/.config/jitca/token  the token\n"
    "~/.config/jitca/ca.pub  the CA key pinned on first use\n"
    "~/.ssh/jitca/  keys and certificates written with --no-agent",
};

int
main(int argc, char **argv)
{
	struct rlimit nocore = {0, 0};

	/* The ephemeral private key must not end up in a core file. */
	(void)setrlimit(RLIMIT_CORE, &nocore);
	return cli_main(&jitca_prog, argc, argv, stdout, stderr);
}
