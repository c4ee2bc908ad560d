/*
 * common.c: what the jitca commands share (jitca.h): messages on stderr,
 * escaping of server text, exit statuses for API errors, the parsed
 * options, connecting to the server (client/capi.h), JSON field helpers,
 * removing jitca identities from ssh-agent and walking ~/.ssh/jitca.
 * The commands are login.c, requests.c, status.c and logout.c; the
 * option table is cli.c.
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
#include "client/jitca.h"
#include "client/oidc.h"
#include "client/session.h"
#include "signer/base/cli.h"
#include "signer/base/num.h"
#include "signer/cert.h"
#include "signer/pubkey.h"

/* ---- output helpers ---- */

void __attribute__((format(printf, 1, 2))) msg(const char *fmt, ...)
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
void
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

void
clean_copy(char *dst, size_t len, const char *s)
{
	(void)cshow_escape(dst, len, s);
}

/* The home and server of the session in use, for api_fail(): a session
 * the server refuses is removed from the cache. */
static char *session_home, *session_server;

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
int
api_fail(const char *what, int r, const char *detail)
{
	const char *hint = "";

	if (r == ERR_BAD_TOKEN && session_server != NULL) {
		(void)session_remove(session_home, session_server);
		hint = " (the server refused the cached session; run the "
		       "command again to sign in)";
	} else if (r == ERR_BAD_TOKEN)
		hint = " (check --token-file, $JITCA_TOKEN or "
		       "~/.config/jitca/token)";
	else if (r == ERR_REAUTH_REQUIRED)
		hint = " (run the command again to sign in)";
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

void
fmt_local(char *buf, size_t len, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "@%llu", (unsigned long long)t);
}

uint64_t
now_s(void)
{
	return (uint64_t)time(NULL);
}

/* ---- options ---- */

/* The parsed command line (signer/base/cli.h) in the shape the
 * commands below read. */
void
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
		else if (strcmp(name, "json") == 0)
			o->json = 1;
		else if (strcmp(name, "force") == 0)
			o->force = 1;
		else if (strcmp(name, "prune") == 0)
			o->prune = 1;
		else if (strcmp(name, "break-glass") == 0)
			o->break_glass = 1;
		else if (strcmp(name, "state") == 0)
			o->state = v;
		else if (strcmp(name, "user") == 0)
			o->user = v;
		else if (strcmp(name, "host") == 0)
			o->host = v;
		else if (strcmp(name, "device") == 0)
			o->device = 1;
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
int
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
	if (cf->token == NULL)
		return sign_in(o, cf, *api, 0);
	return 0;
}

/* ---- signing in (client/oidc.h, client/session.h) ---- */

static void
show_sign_in(void *arg, const char *url, const char *user_code)
{
	(void)arg;
	if (user_code != NULL)
		fprintf(stderr,
		    "jitca: to sign in, open this URL on any device:\n"
		    "    %s\n"
		    "and enter the code  %s\n",
		    url, user_code);
	else
		fprintf(stderr,
		    "jitca: to sign in, open this URL in a browser on this "
		    "machine:\n    %s\n",
		    url);
	fflush(stderr);
}

/* 1 when the program name is an executable in $PATH. */
static int
in_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *e;
	char buf[4096];

	for (p = path; p != NULL && *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ":");
		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p), p,
			name) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* What opens the browser: $JITCA_BROWSER, else xdg-open when there is
 * a display and xdg-open, else nothing (the URL is printed anyway). */
static const char *
opener(int device)
{
	const char *b = getenv("JITCA_BROWSER");

	if (b != NULL && *b != '\0')
		return b;
	if (device)
		return NULL;
	if ((getenv("DISPLAY") != NULL || getenv("WAYLAND_DISPLAY") != NULL) &&
	    in_path("xdg-open"))
		return "xdg-open";
	return NULL;
}

/* The exit status and a message that says what to do, for a failed
 * sign-in at the provider. */
static int
sign_in_fail(int r, const char *issuer, const char *detail, int device)
{
	char iss[128];

	clean_copy(iss, sizeof(iss), issuer);
	switch (r) {
	case ERR_OIDC_UNREACHABLE:
		msg("cannot reach the identity provider %s: %s; check the "
		    "network, or ask the jitcad admin whether oidc.issuer is "
		    "right",
		    iss, detail);
		return JITCA_EXIT_UNREACHABLE;
	case ERR_OIDC_DENIED:
		msg("sign-in was denied at %s (%s); if that was not you, ask "
		    "the identity provider's admin to give you access to "
		    "jitca",
		    iss, detail);
		return JITCA_EXIT_AUTH;
	case ERR_OIDC_CODE_EXPIRED:
		msg("the sign-in code expired before it was used (%s); run "
		    "the command again and finish signing in sooner",
		    detail);
		return JITCA_EXIT_AUTH;
	case ERR_OIDC_TIMEOUT:
		msg("nobody finished signing in within %d minutes; run the "
		    "command again%s",
		    COIDC_DEFAULT_WAIT / 60,
		    device ? ""
			   : " (with --device when this machine has no "
			     "browser)");
		return JITCA_EXIT_AUTH;
	}
	msg("sign-in at %s failed: %s%s%s", iss, err_str(r),
	    *detail ? ": " : "", detail);
	return JITCA_EXIT_AUTH;
}

/* {id_token, nonce} to POST /v1/session; the session is cached. */
static int
open_session(struct cconf *cf, struct capi *api, const char *id_token,
    const char *nonce, struct session *s)
{
	json_t *body = NULL, *rep = NULL;
	char *detail = NULL;
	const char *code;
	int r, ex = JITCA_EXIT_FAIL;

	if ((body = json_pack("{s:s}", "id_token", id_token)) == NULL ||
	    (nonce != NULL &&
		json_object_set_new(body, "nonce", json_string(nonce)) != 0)) {
		msg("%s", err_str(ERR_ALLOC));
		goto out;
	}
	if ((r = capi_call(api, "POST", "/v1/session", body, 0, NULL, &rep,
		 &detail)) != 0) {
		code = detail != NULL ? detail : "";
		if (strstr(code, "not valid yet") != NULL ||
		    strstr(code, "has expired") != NULL)
			msg("the server refused the sign-in: %s; check that "
			    "the clocks of this machine, of jitcad and of the "
			    "identity provider are right (clock skew)",
			    code);
		else
			ex = api_fail("sign-in", r, detail);
		if (ex == JITCA_EXIT_FAIL || r == ERR_BAD_TOKEN)
			ex = JITCA_EXIT_AUTH;
		goto out;
	}
	if (*jstr(rep, "token") == '\0' || jint(rep, "expires_at") <= 0) {
		msg("the server's session answer lacks token or expires_at");
		goto out;
	}
	if ((s->token = strdup(jstr(rep, "token"))) == NULL ||
	    (s->user = strdup(jstr(rep, "user"))) == NULL) {
		msg("%s", err_str(ERR_ALLOC));
		goto out;
	}
	s->expires_at = (uint64_t)jint(rep, "expires_at");
	if ((r = session_save(cf->home, cf->server, s)) != 0)
		msg("warning: cannot cache the session in %s: %s",
		    "~/.cache/jitca", err_str(r));
	ex = 0;
out:
	json_decref(body);
	json_decref(rep);
	free(detail);
	return ex;
}

int
sign_in(const struct opts *o, struct cconf *cf, struct capi *api, int fresh)
{
	struct coidc_params cp;
	struct session s;
	json_t *auth = NULL, *oj, *v;
	char *detail = NULL, *id_token = NULL, *nonce = NULL, *scope = NULL;
	char errbuf[COIDC_ERR_LEN], clean_err[COIDC_ERR_LEN];
	size_t i, n = 0;
	int r, ex = JITCA_EXIT_FAIL;

	memset(&s, 0, sizeof(s));
	memset(&cp, 0, sizeof(cp));
	if (!fresh && session_load(cf->home, cf->server, now_s(), &s) == 0) {
		cf->token_from = "the session in ~/.cache/jitca";
		goto use;
	}
	if ((r = capi_call(
		 api, "GET", "/v1/auth", NULL, 0, NULL, &auth, &detail)) != 0) {
		if (r == ERR_NOT_FOUND) /* an older jitcad: tokens only */
			ex = 0;
		else
			ex = api_fail("sign-in methods", r, detail);
		goto out;
	}
	if ((oj = json_object_get(auth, "oidc")) == NULL) {
		/* Static tokens only: calls fail with the token hint. */
		ex = 0;
		goto out;
	}
	json_array_foreach(json_object_get(oj, "scopes"), i, v) n +=
	    strlen(json_string_value(v) ? json_string_value(v) : "") + 1;
	if ((scope = calloc(1, n + 1)) == NULL) {
		msg("%s", err_str(ERR_ALLOC));
		goto out;
	}
	json_array_foreach(json_object_get(oj, "scopes"), i, v)
	{
		if (json_string_value(v) == NULL)
			continue;
		if (*scope != '\0')
			strcat(scope, " ");
		strcat(scope, json_string_value(v));
	}
	cp.issuer = json_string_value(json_object_get(oj, "issuer"));
	cp.client_id = json_string_value(json_object_get(oj, "client_id"));
	cp.client_secret =
	    json_string_value(json_object_get(oj, "client_secret"));
	cp.scope = *scope != '\0' ? scope : "openid";
	cp.ca_bundle = NULL;
	cp.device = o->device;
	cp.fresh = fresh;
	cp.opener = opener(o->device);
	cp.show = show_sign_in;
	if (cp.issuer == NULL || cp.client_id == NULL) {
		msg("the server's GET /v1/auth lacks oidc.issuer or "
		    "oidc.client_id");
		goto out;
	}
	if ((r = coidc_sign_in(&cp, &id_token, &nonce, errbuf)) != 0) {
		clean_copy(clean_err, sizeof(clean_err), errbuf);
		ex = sign_in_fail(r, cp.issuer, clean_err, o->device);
		goto out;
	}
	if ((ex = open_session(cf, api, id_token, nonce, &s)) != 0)
		goto out;
	fprintf(stderr, "jitca: signed in as ");
	fput_clean(stderr, s.user, 64);
	fprintf(stderr, "\n");
use:
	if ((r = capi_set_token(api, s.token)) != 0) {
		msg("%s", err_str(r));
		ex = JITCA_EXIT_FAIL;
		goto out;
	}
	free(session_home);
	free(session_server);
	session_home = strdup(cf->home);
	session_server = strdup(cf->server);
	ex = 0;
out:
	if (id_token != NULL)
		OPENSSL_cleanse(id_token, strlen(id_token));
	free(id_token);
	free(nonce);
	free(scope);
	free(detail);
	json_decref(auth);
	session_clear(&s);
	return ex;
}

/* ---- JSON helpers ---- */

const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

long long
jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

void
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

size_t
napprovals(json_t *req)
{
	return json_array_size(json_object_get(req, "approvals"));
}

/* Remove every agent identity whose comment starts with prefix, except
 * keep (may be NULL): the cert blob and the plain key.  Returns how many
 * certificates were removed, or a negative code. */
int
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

/* The files in ~/.ssh/jitca: calls fn for each ROLE-cert.pub. */
int
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
 * The settings of logout, which needs no server or token of its own
 * (the agent, ~/.ssh/jitca, the cached sessions; --ca-bundle is the
 * trust for signing out at their servers): 0 or an exit status (message
 * shown).
 */
int
local_setup(struct cconf *cf, const struct cli_parsed *p)
{
	struct opts o;
	char *bad = NULL;
	int r;

	opts_from(&o, p);
	if ((r = cconf_load(cf, NULL, NULL, o.ca_bundle, &bad)) != 0) {
		msg("%s", bad != NULL ? bad : err_str(r));
		free(bad);
		return JITCA_EXIT_USAGE;
	}
	return 0;
}

/* ---- roles (GET /v1/roles) ---- */

json_t *
roles_fetch(struct capi *api)
{
	json_t *rep = NULL, *arr;

	if (capi_call(api, "GET", "/v1/roles", NULL, 1, NULL, &rep, NULL) != 0)
		return NULL;
	arr = json_object_get(rep, "roles");
	if (json_is_array(arr))
		json_incref(arr);
	else
		arr = NULL;
	json_decref(rep);
	return arr;
}

json_t *
roles_find(json_t *roles, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach(roles, i, v)
	{
		if (strcmp(jstr(v, "name"), name) == 0)
			return v;
	}
	return NULL;
}

/* Levenshtein distance of two short names (longer ones count as far). */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, up;
	size_t row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			row[j] = cur;
			prev = up;
		}
	}
	return row[lb];
}

const char *
roles_nearest(json_t *roles, const char *name)
{
	const char *best = NULL, *n;
	size_t i, d, bd = SIZE_MAX;
	json_t *v;

	json_array_foreach(roles, i, v)
	{
		n = jstr(v, "name");
		if ((d = edit_distance(name, n)) < bd) {
			bd = d;
			best = n;
		}
	}
	/* Close means a few typos, not a different word. */
	if (best == NULL || bd > 3 || bd * 2 > strlen(best))
		return NULL;
	return best;
}

/* The names of the roles the caller may request, joined. */
static void
requestable_join(char *buf, size_t len, json_t *roles)
{
	size_t i, o = 0;
	json_t *v;
	int n;

	buf[0] = '\0';
	json_array_foreach(roles, i, v)
	{
		if (!json_is_true(json_object_get(v, "can_request")))
			continue;
		n = snprintf(
		    buf + o, len - o, "%s%s", o ? ", " : "", jstr(v, "name"));
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
}

/* A limit as people write it: "2h", "15m", else "1h30m". */
void
dur_short(char *buf, size_t len, uint64_t s)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else if (s % 60 == 0 && s < 3600)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else
		cconf_format_duration(buf, len, s);
}

int
request_refused(struct capi *api, const struct opts *o, uint64_t ttl, int r,
    const char *detail)
{
	json_t *roles = NULL, *role;
	char names[1024], a[32], b[32], pr[512], clean[1200];
	const char *near;
	int ex;

	if (r != ERR_NOT_FOUND && r != ERR_TTL_TOO_LONG &&
	    r != ERR_PRINCIPAL_NOT_ALLOWED && r != ERR_FORBIDDEN)
		return api_fail("request refused", r, detail);
	if ((roles = roles_fetch(api)) == NULL)
		return api_fail("request refused", r, detail);
	role = roles_find(roles, o->role);
	ex = r == ERR_FORBIDDEN ? JITCA_EXIT_FORBIDDEN : JITCA_EXIT_FAIL;
	requestable_join(names, sizeof(names), roles);
	clean_copy(clean, sizeof(clean), names);
	if (role == NULL ||
	    (r == ERR_FORBIDDEN &&
		!json_is_true(json_object_get(role, "can_request")))) {
		near = roles_nearest(roles, o->role);
		fprintf(stderr, "jitca: request refused: ");
		if (r == ERR_NOT_FOUND)
			fputs("there is no role \"", stderr);
		else
			fputs("you may not request role \"", stderr);
		fput_clean(stderr, o->role, 64);
		fprintf(stderr, "\"; you may request: %s",
		    clean[0] != '\0' ? clean : "(none)");
		if (near != NULL && r == ERR_NOT_FOUND) {
			fputs(" (did you mean ", stderr);
			fput_clean(stderr, near, 64);
			fputs("?)", stderr);
		}
		fputs(" (jitca roles)\n", stderr);
		ex =
		    r == ERR_NOT_FOUND ? JITCA_EXIT_FAIL : JITCA_EXIT_FORBIDDEN;
	} else if (r == ERR_TTL_TOO_LONG && jint(role, "max_ttl") > 0) {
		dur_short(a, sizeof(a), ttl);
		dur_short(b, sizeof(b), (uint64_t)jint(role, "max_ttl"));
		fprintf(stderr,
		    "jitca: request refused: ttl %s is longer than ", a);
		fput_clean(stderr, o->role, 64);
		fprintf(stderr, " allows (%s)\n", b);
	} else if (r == ERR_PRINCIPAL_NOT_ALLOWED) {
		principals_join(
		    pr, sizeof(pr), json_object_get(role, "principals"));
		fputs("jitca: request refused: ", stderr);
		fput_clean(stderr, detail != NULL ? detail : err_str(r), 200);
		fputs("; ", stderr);
		fput_clean(stderr, o->role, 64);
		fputs(" allows the principals ", stderr);
		fput_clean(stderr, pr, sizeof(pr));
		fputc('\n', stderr);
	} else
		ex = api_fail("request refused", r, detail);
	json_decref(roles);
	return ex;
}

/* ---- files ---- */

char *
ca_pin_path(const struct cconf *cf)
{
	char name[256];
	const char *s = cf->server, *p;
	size_t n = 0;

	if ((p = strstr(s, "://")) != NULL)
		s = p + 3;
	for (; *s != '\0' && n + 1 < sizeof(name); s++) {
		if (*s == '/' && s[1] == '\0')
			break;
		name[n++] =
		    ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '.' || *s == '-')
		    ? *s
		    : '_';
	}
	name[n] = '\0';
	return cconf_fmt("%s/ca/%s.pub", cf->dir, name);
}

int
key_id_parse(const char *key_id, char *role, size_t rlen, long long *req)
{
	const char *a, *b, *c;
	uint64_t n;
	char num[24];

	*req = -1;
	if (rlen > 0)
		role[0] = '\0';
	if ((a = strchr(key_id, ':')) == NULL ||
	    (b = strchr(a + 1, ':')) == NULL || strncmp(b, ":req-", 5) != 0 ||
	    (c = strchr(b + 5, ':')) == NULL)
		return -1;
	if ((size_t)(b - a - 1) >= rlen || (size_t)(c - b - 5) >= sizeof(num))
		return -1;
	memcpy(role, a + 1, (size_t)(b - a - 1));
	role[b - a - 1] = '\0';
	memcpy(num, b + 5, (size_t)(c - b - 5));
	num[c - b - 5] = '\0';
	if (num_parse_u64(num, 1ull << 53, &n) != 0)
		return -1;
	*req = (long long)n;
	return 0;
}

/* ---- the terminal ---- */

/* 1 when the user types y or yes on the terminal. */
int
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
