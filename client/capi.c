/*
 * capi.c: the libcurl client of capi.h.  One easy handle per struct capi,
 * reused so that keep-alive saves a connection per poll while waiting.
 *
 * It does not print: messages for the user are returned as strings.
 * Works with jansson (bodies) and err.h (codes); used by
 * the commands (common.c, login.c, requests.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "client/capi.h"

#define CAPI_MAX_TOKEN 512

struct capi {
	CURL *curl;
	char *server;
	char *token;
	char *ca_bundle;
	char code[48]; /* the last error reply's "code", "" when none */
};

struct body {
	char *p;
	size_t len;
	int too_large;
};

static int curl_ready;

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

static void
str_wipe_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

int
capi_new(struct capi **out, const char *server, const char *token,
    const char *ca_bundle)
{
	struct capi *c = NULL;
	size_t n;
	int r = ERR_INTERNAL;

	if (out == NULL || server == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if (strncmp(server, "http://", 7) != 0 &&
	    strncmp(server, "https://", 8) != 0)
		return ERR_INVALID_ARG;
	if (strlen(server) > CAPI_MAX_URL / 2 ||
	    (token != NULL && strlen(token) > CAPI_MAX_TOKEN))
		return ERR_TOO_LARGE;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return ERR_INTERNAL;
		curl_ready = 1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_ALLOC;
	if ((c->server = xstrdup(server)) == NULL ||
	    (token != NULL && (c->token = xstrdup(token)) == NULL) ||
	    (ca_bundle != NULL &&
		(c->ca_bundle = xstrdup(ca_bundle)) == NULL)) {
		r = ERR_ALLOC;
		goto out;
	}
	n = strlen(c->server);
	while (n > 0 && c->server[n - 1] == '/')
		c->server[--n] = '\0';
	if ((c->curl = curl_easy_init()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
out:
	capi_free(c);
	return r;
}

void
capi_free(struct capi *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->server);
	str_wipe_free(c->token);
	free(c->ca_bundle);
	free(c);
}

int
capi_set_token(struct capi *c, const char *token)
{
	char *t = NULL;

	if (token != NULL && strlen(token) > CAPI_MAX_TOKEN)
		return ERR_TOO_LARGE;
	if (token != NULL && (t = xstrdup(token)) == NULL)
		return ERR_ALLOC;
	str_wipe_free(c->token);
	c->token = t;
	return 0;
}

const char *
capi_error_code(const struct capi *c)
{
	return c->code;
}

const char *
capi_server(const struct capi *c)
{
	return c == NULL ? NULL : c->server;
}

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;
	char *np;

	if (n > CAPI_MAX_REPLY || b->len + n > CAPI_MAX_REPLY) {
		b->too_large = 1;
		return 0; /* aborts the transfer */
	}
	if ((np = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static const struct {
	const char *code;
	int err;
} code_map[] = {
    {"bad_token", ERR_BAD_TOKEN},
    {"missing_token", ERR_BAD_TOKEN},
    {"user_disabled", ERR_BAD_TOKEN},
    {"self_approval", ERR_SELF_APPROVAL},
    {"forbidden", ERR_FORBIDDEN},
    {"not_found", ERR_NOT_FOUND},
    {"expired", ERR_EXPIRED},
    {"already_approved", ERR_ALREADY_APPROVED},
    {"wrong_state", ERR_WRONG_STATE},
    {"ttl_too_long", ERR_TTL_TOO_LONG},
    {"principal_not_allowed", ERR_PRINCIPAL_NOT_ALLOWED},
    {"policy", ERR_POLICY},
    {"reauth_required", ERR_REAUTH_REQUIRED},
    {"oidc_not_configured", ERR_OIDC_NOT_CONFIGURED},
};

/* The err.h code for an API error reply. */
static int
status_err(long status, const char *code)
{
	size_t i;

	if (code != NULL) {
		for (i = 0; i < sizeof(code_map) / sizeof(code_map[0]); i++)
			if (strcmp(code, code_map[i].code) == 0)
				return code_map[i].err;
	}
	switch (status) {
	case 400:
		return ERR_INVALID_ARG;
	case 401:
		return ERR_BAD_TOKEN;
	case 403:
		return ERR_FORBIDDEN;
	case 404:
		return ERR_NOT_FOUND;
	case 409:
		return ERR_WRONG_STATE;
	case 413:
		return ERR_TOO_LARGE;
	case 429:
	case 503:
		return ERR_BUSY;
	case 500:
		return ERR_INTERNAL;
	}
	return ERR_BAD_RESPONSE;
}

static char *
fmt_msg(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 3;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s%s%s", a, *b ? ": " : "", b);
	return s;
}

int
capi_call(struct capi *c, const char *method, const char *path, json_t *body,
    int auth, long *status, json_t **reply, char **msg)
{
	struct curl_slist *hdrs = NULL, *h;
	struct body got = {NULL, 0, 0};
	char url[CAPI_MAX_URL], *auth_hdr = NULL, *sent = NULL;
	char errbuf[CURL_ERROR_SIZE];
	const char *ecode = NULL, *emsg = NULL;
	json_t *j = NULL, *e;
	json_error_t jerr;
	long st = 0;
	size_t n;
	CURLcode cc;
	int r = ERR_INTERNAL;

	if (status != NULL)
		*status = 0;
	if (reply != NULL)
		*reply = NULL;
	if (msg != NULL)
		*msg = NULL;
	if (c == NULL || method == NULL || path == NULL || path[0] != '/' ||
	    reply == NULL)
		return ERR_INVALID_ARG;
	c->code[0] = '\0';
	if (auth && c->token == NULL) {
		if (msg != NULL)
			*msg = xstrdup("no token: give --token-file, set "
				       "$JITCA_TOKEN or write "
				       "~/.config/jitca/token");
		return ERR_BAD_TOKEN;
	}
	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->server, path) >=
	    sizeof(url))
		return ERR_TOO_LARGE;
	curl_easy_reset(c->curl);
	errbuf[0] = '\0';
	if (auth) {
		n = strlen(c->token) + sizeof("Authorization: Bearer ");
		if ((auth_hdr = malloc(n)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		snprintf(auth_hdr, n, "Authorization: Bearer %s", c->token);
		if ((h = curl_slist_append(hdrs, auth_hdr)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		hdrs = h;
	}
	if ((h = curl_slist_append(hdrs, "Accept: application/json")) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	hdrs = h;
	if (body != NULL) {
		if ((sent = json_dumps(body, JSON_COMPACT)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		if ((h = curl_slist_append(
			 hdrs, "Content-Type: application/json")) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		hdrs = h;
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, sent);
		curl_easy_setopt(
		    c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(sent));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_bundle != NULL)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->ca_bundle);
	curl_easy_setopt(
	    c->curl, CURLOPT_CONNECTTIMEOUT, (long)CAPI_CONNECT_TIMEOUT);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, (long)CAPI_TIMEOUT);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "jitca/0.1");
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &got);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &st);
	if (status != NULL)
		*status = st;
	if (cc == CURLE_WRITE_ERROR && got.too_large) {
		if (msg != NULL)
			*msg = xstrdup("reply too large");
		r = ERR_BAD_RESPONSE;
		goto out;
	}
	if (cc != CURLE_OK) {
		if (msg != NULL)
			*msg = fmt_msg(c->server,
			    errbuf[0] ? errbuf : curl_easy_strerror(cc));
		r = ERR_UNREACHABLE;
		goto out;
	}
	j = got.p == NULL ? NULL : json_loadb(got.p, got.len, 0, &jerr);
	if (st >= 200 && st < 300) {
		if (!json_is_object(j)) {
			if (msg != NULL)
				*msg = xstrdup("reply is not a JSON object");
			r = ERR_BAD_RESPONSE;
			goto out;
		}
		*reply = j;
		j = NULL;
		r = 0;
		goto out;
	}
	e = json_object_get(j, "error");
	ecode = json_string_value(json_object_get(e, "code"));
	if (ecode != NULL && strlen(ecode) < sizeof(c->code))
		memcpy(c->code, ecode, strlen(ecode) + 1);
	emsg = json_string_value(json_object_get(e, "message"));
	r = status_err(st, ecode);
	if (msg != NULL) {
		char what[64];

		snprintf(what, sizeof(what), "HTTP %ld", st);
		*msg = xstrdup(emsg != NULL ? emsg : what);
	}
out:
	/* The header list holds the token: wipe it. */
	for (h = hdrs; h != NULL; h = h->next)
		OPENSSL_cleanse(h->data, strlen(h->data));
	curl_slist_free_all(hdrs);
	str_wipe_free(auth_hdr);
	free(sent);
	free(got.p);
	json_decref(j);
	return r;
}
