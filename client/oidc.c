/*
 * oidc.c: signing in with the identity provider (client/oidc.h): the
 * discovery document, the authorization code flow with PKCE and a
 * loopback listener on 127.0.0.1, the device authorization grant, and
 * the token endpoint, all over libcurl.  The ID token is handed to the
 * caller untouched (jitcad verifies it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "client/oidc.h"

#define REQ_MAX 8192 /* bytes of the redirect request we read */

struct endpoints {
	char *authorization, *token, *device;
};

struct buf {
	char *p;
	size_t len;
	int too_large;
};

static void __attribute__((format(printf, 2, 3)))
say(char errbuf[COIDC_ERR_LEN], const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, COIDC_ERR_LEN, fmt, ap);
	va_end(ap);
}

/* Only printable ASCII of a provider's text reaches a message. */
static void
clean(char *dst, size_t len, const char *s)
{
	size_t i = 0;

	for (; s != NULL && *s != '\0' && i + 1 < len; s++)
		dst[i++] = (*s >= ' ' && *s <= '~') ? *s : '?';
	dst[i] = '\0';
}

/* https, or plain http to a literal loopback address (web/oidc.h). */
static int
url_allowed(const char *u)
{
	const char *h;

	if (strncmp(u, "https://", 8) == 0)
		return 1;
	if (strncmp(u, "http://", 7) != 0)
		return 0;
	h = u + 7;
	if (strncmp(h, "[::1]", 5) == 0)
		return h[5] == '\0' || h[5] == ':' || h[5] == '/';
	if (strncmp(h, "127.", 4) != 0)
		return 0;
	h += strspn(h, "0123456789.");
	return *h == '\0' || *h == ':' || *h == '/';
}

static void
b64url(char *out, const uint8_t *in, size_t n)
{
	size_t i, len;

	len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
}

/* n random bytes as base64url into out (room for 4 * n / 3 + 4). */
static int
random_b64url(char *out, size_t n)
{
	uint8_t r[32];

	if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
		return ERR_CRYPTO;
	b64url(out, r, n);
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

/* ---- HTTP to the provider ---- */

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;
	char *p;

	if (b->len + n > COIDC_MAX_DOC) {
		b->too_large = 1;
		return 0;
	}
	if ((p = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	b->p = p;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/*
 * GET url (form NULL) or POST the form; *reply is the JSON object the
 * provider answered, whatever the status (new); *status the status.
 */
static int
fetch(const struct coidc_params *p, const char *url, const char *form,
    long *status, json_t **reply, char errbuf[COIDC_ERR_LEN])
{
	struct buf b = {NULL, 0, 0};
	struct curl_slist *hdr = NULL;
	CURL *c = NULL;
	CURLcode rc;
	int r = ERR_INTERNAL;

	*reply = NULL;
	*status = 0;
	if (!url_allowed(url)) {
		say(errbuf, "the provider's endpoint is not https");
		return ERR_OIDC_INSECURE;
	}
	if ((c = curl_easy_init()) == NULL ||
	    (hdr = curl_slist_append(hdr, "Accept: application/json")) ==
		NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)COIDC_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (p->ca_bundle != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_bundle);
	if (form != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		if (b.too_large) {
			say(errbuf, "the provider's answer is over %u bytes",
			    COIDC_MAX_DOC);
			r = ERR_TOO_LARGE;
		} else {
			say(errbuf, "%s", curl_easy_strerror(rc));
			r = ERR_OIDC_UNREACHABLE;
		}
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (b.p == NULL || (*reply = json_loadb(b.p, b.len, 0, NULL)) == NULL ||
	    !json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		say(errbuf, "the provider answered %ld without a JSON object",
		    *status);
		r = *status == 200 ? ERR_OIDC_DISCOVERY : ERR_OIDC_UNREACHABLE;
		goto out;
	}
	r = 0;
out:
	curl_slist_free_all(hdr);
	if (c != NULL)
		curl_easy_cleanup(c);
	free(b.p);
	return r;
}

static char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
endpoints_free(struct endpoints *e)
{
	free(e->authorization);
	free(e->token);
	free(e->device);
	memset(e, 0, sizeof(*e));
}

/* The discovery document: issuer exactly ours, and the endpoints. */
static int
discover(const struct coidc_params *p, struct endpoints *e,
    char errbuf[COIDC_ERR_LEN])
{
	json_t *j = NULL;
	char *url = NULL;
	const char *iss, *a, *t, *d;
	size_t n = strlen(p->issuer);
	long status;
	int r = ERR_ALLOC;

	memset(e, 0, sizeof(*e));
	if ((url = malloc(n + 40)) == NULL)
		goto out;
	snprintf(url, n + 40, "%.*s/.well-known/openid-configuration",
	    (int)(n > 0 && p->issuer[n - 1] == '/' ? n - 1 : n), p->issuer);
	if ((r = fetch(p, url, NULL, &status, &j, errbuf)) != 0)
		goto out;
	r = ERR_OIDC_DISCOVERY;
	if (status != 200) {
		say(errbuf, "%s answered %ld", url, status);
		r = ERR_OIDC_UNREACHABLE;
		goto out;
	}
	iss = json_string_value(json_object_get(j, "issuer"));
	a = json_string_value(json_object_get(j, "authorization_endpoint"));
	t = json_string_value(json_object_get(j, "token_endpoint"));
	d = json_string_value(
	    json_object_get(j, "device_authorization_endpoint"));
	if (iss == NULL || strcmp(iss, p->issuer) != 0) {
		say(errbuf, "the discovery document names another issuer");
		goto out;
	}
	if (t == NULL || (p->device ? d == NULL : a == NULL)) {
		say(errbuf, "the provider publishes no %s endpoint",
		    t == NULL	    ? "token"
			: p->device ? "device authorization"
				    : "authorization");
		goto out;
	}
	if (!url_allowed(t) || (a != NULL && !url_allowed(a)) ||
	    (d != NULL && !url_allowed(d))) {
		say(errbuf, "the provider's endpoints are not all https");
		r = ERR_OIDC_INSECURE;
		goto out;
	}
	r = ERR_ALLOC;
	if ((e->token = xstrdup(t)) == NULL ||
	    (a != NULL && (e->authorization = xstrdup(a)) == NULL) ||
	    (d != NULL && (e->device = xstrdup(d)) == NULL))
		goto out;
	r = 0;
out:
	if (r != 0)
		endpoints_free(e);
	json_decref(j);
	free(url);
	return r;
}

/* Append "&k=v" (v escaped) to the form *f (new string each time). */
static int
form_add(char **f, const char *k, const char *v)
{
	char *e, *n;
	size_t len;

	if (v == NULL)
		return 0;
	if ((e = curl_easy_escape(NULL, v, 0)) == NULL)
		return ERR_ALLOC;
	len = (*f != NULL ? strlen(*f) : 0) + strlen(k) + strlen(e) + 3;
	if ((n = malloc(len)) == NULL) {
		curl_free(e);
		return ERR_ALLOC;
	}
	snprintf(n, len, "%s%s%s=%s", *f != NULL ? *f : "",
	    *f != NULL && **f != '\0' ? "&" : "", k, e);
	curl_free(e);
	if (*f != NULL)
		OPENSSL_cleanse(*f, strlen(*f));
	free(*f);
	*f = n;
	return 0;
}

static void
form_free(char *f)
{
	if (f != NULL)
		OPENSSL_cleanse(f, strlen(f));
	free(f);
}

/* An OAuth error reply {"error": E} as our code. */
static int
oauth_error(json_t *j, long status, char errbuf[COIDC_ERR_LEN])
{
	const char *e = json_string_value(json_object_get(j, "error"));
	const char *d =
	    json_string_value(json_object_get(j, "error_description"));
	char ce[64], cd[160];

	clean(ce, sizeof(ce), e != NULL ? e : "");
	clean(cd, sizeof(cd), d != NULL ? d : "");
	say(errbuf, "%s%s%s (HTTP %ld)", e != NULL ? ce : "no error code",
	    d != NULL ? ": " : "", cd, status);
	if (e == NULL)
		return ERR_OIDC_PROVIDER;
	if (strcmp(e, "access_denied") == 0)
		return ERR_OIDC_DENIED;
	if (strcmp(e, "invalid_grant") == 0 || strcmp(e, "expired_token") == 0)
		return ERR_OIDC_CODE_EXPIRED;
	return ERR_OIDC_PROVIDER;
}

/* The token endpoint's id_token (new), or an error. */
static int
token_reply(json_t *j, long status, char **id_token, char errbuf[COIDC_ERR_LEN])
{
	const char *t = json_string_value(json_object_get(j, "id_token"));

	if (status != 200)
		return oauth_error(j, status, errbuf);
	if (t == NULL) {
		say(errbuf,
		    "the token endpoint sent no id_token (is \"openid\" "
		    "among the scopes?)");
		return ERR_OIDC_PROVIDER;
	}
	if ((*id_token = strdup(t)) == NULL)
		return ERR_ALLOC;
	return 0;
}

/* Run p->opener with the arguments, without waiting; its pid or -1. */
static pid_t
open_url(const struct coidc_params *p, const char *url, const char *code)
{
	pid_t pid;
	int fd;

	if (p->opener == NULL || *p->opener == '\0')
		return -1;
	if ((pid = fork()) != 0)
		return pid;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		(void)dup2(fd, 0);
		(void)dup2(fd, 1);
	}
	if (code != NULL)
		execlp(p->opener, p->opener, url, code, (char *)NULL);
	else
		execlp(p->opener, p->opener, url, (char *)NULL);
	_exit(127);
}

/* Reap the opener if it is done; it is the person's browser otherwise. */
static void
reap(pid_t pid)
{
	int i, st;

	for (i = 0; pid > 0 && i < 50; i++) {
		if (waitpid(pid, &st, WNOHANG) != 0)
			return;
		usleep(100 * 1000);
	}
}

/* ---- the code flow ---- */

/* The query parameter name of the request line line (new), or NULL. */
static char *
query_param(const char *query, const char *name)
{
	size_t nl = strlen(name);
	const char *q = query, *end;
	char *v;
	int len;

	while (q != NULL && *q != '\0') {
		end = q + strcspn(q, "& ");
		if ((size_t)(end - q) > nl && strncmp(q, name, nl) == 0 &&
		    q[nl] == '=') {
			v = curl_easy_unescape(
			    NULL, q + nl + 1, (int)(end - q - nl - 1), &len);
			if (v == NULL)
				return NULL;
			if ((size_t)len != strlen(v)) {
				curl_free(v);
				return NULL;
			}
			char *d = strdup(v);
			curl_free(v);
			return d;
		}
		if (*end != '&')
			break;
		q = end + 1;
	}
	return NULL;
}

static void
answer(int fd, int status, const char *text)
{
	char resp[512];
	int n;

	n = snprintf(resp, sizeof(resp),
	    "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n"
	    "Cache-Control: no-store\r\n\r\n%s",
	    status, status == 200 ? "OK" : "Not Found", strlen(text), text);
	/* MSG_NOSIGNAL: a browser that hung up must not kill jitca. */
	if (n > 0 && (size_t)n < sizeof(resp))
		(void)!send(fd, resp, (size_t)n, MSG_NOSIGNAL);
}

/* Read one request's head from fd (at most REQ_MAX bytes, 5 s). */
static int
read_head(int fd, char *buf, size_t len)
{
	struct pollfd pf = {fd, POLLIN, 0};
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len) {
		if (poll(&pf, 1, 5000) <= 0)
			return ERR_OIDC_TIMEOUT;
		if ((n = read(fd, buf + got, len - 1 - got)) <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return 0;
	}
	buf[got] = '\0';
	return got > 0 ? 0 : ERR_OIDC_TIMEOUT;
}

/*
 * Wait on the listener ls for the redirect to /callback with our state
 * until deadline; *code is new.  Other requests (a favicon) get 404.
 */
static int
await_redirect(int ls, const char *issuer, const char *state, time_t deadline,
    char **code, char errbuf[COIDC_ERR_LEN])
{
	struct pollfd pf = {ls, POLLIN, 0};
	char *req = NULL, *st = NULL, *err = NULL, *iss = NULL, *q, *sp;
	char ce[64];
	int fd = -1, r = ERR_ALLOC, left;

	*code = NULL;
	if ((req = malloc(REQ_MAX)) == NULL)
		return ERR_ALLOC;
	for (;;) {
		if ((left = (int)(deadline - time(NULL))) <= 0) {
			say(errbuf, "no redirect from the browser in time");
			r = ERR_OIDC_TIMEOUT;
			goto out;
		}
		if (poll(&pf, 1, left * 1000) <= 0)
			continue;
		if ((fd = accept(ls, NULL, NULL)) < 0)
			continue;
		if (read_head(fd, req, REQ_MAX) != 0 ||
		    strncmp(req, "GET /callback?", 14) != 0) {
			answer(fd, 404, "not here\n");
			close(fd);
			fd = -1;
			continue;
		}
		break;
	}
	q = req + 14;
	if ((sp = strchr(q, ' ')) != NULL)
		*sp = '\0';
	st = query_param(q, "state");
	err = query_param(q, "error");
	iss = query_param(q, "iss");
	*code = query_param(q, "code");
	if (st == NULL || strcmp(st, state) != 0) {
		answer(fd, 200,
		    "jitca: this sign-in is not the one jitca "
		    "started; nothing was done.\n");
		say(errbuf, "the redirect carries another state");
		r = ERR_OIDC_STATE;
	} else if (iss != NULL && strcmp(iss, issuer) != 0) {
		answer(fd, 200, "jitca: the redirect names another issuer.\n");
		say(errbuf, "the redirect names another issuer (RFC 9207)");
		r = ERR_OIDC_STATE;
	} else if (err != NULL) {
		answer(fd, 200,
		    "jitca: sign-in did not succeed; see the "
		    "terminal.\n");
		clean(ce, sizeof(ce), err);
		say(errbuf, "the provider answered %s", ce);
		r = strcmp(err, "access_denied") == 0 ? ERR_OIDC_DENIED
						      : ERR_OIDC_PROVIDER;
	} else if (*code == NULL) {
		answer(fd, 200, "jitca: the redirect carries no code.\n");
		say(errbuf, "the redirect carries no code");
		r = ERR_OIDC_PROVIDER;
	} else {
		answer(fd, 200,
		    "Signed in to jitca. You may close this "
		    "window.\n");
		r = 0;
	}
out:
	if (fd >= 0)
		close(fd);
	if (r != 0 && *code != NULL) {
		OPENSSL_cleanse(*code, strlen(*code));
		free(*code);
		*code = NULL;
	}
	free(st);
	free(err);
	free(iss);
	if (req != NULL)
		OPENSSL_cleanse(req, REQ_MAX);
	free(req);
	return r;
}

static int
code_flow(const struct coidc_params *p, const struct endpoints *e,
    char **id_token, char **nonce_out, char errbuf[COIDC_ERR_LEN])
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char verifier[64], challenge[64], state[32], nonce[32], redirect[64];
	uint8_t dig[SHA256_DIGEST_LENGTH];
	char *query = NULL, *url = NULL, *code = NULL, *form = NULL;
	json_t *j = NULL;
	long status;
	pid_t pid = -1;
	int ls = -1, r = ERR_SYSTEM, one = 1;

	*id_token = *nonce_out = NULL;
	if ((r = random_b64url(verifier, 32)) != 0 ||
	    (r = random_b64url(state, 16)) != 0 ||
	    (r = random_b64url(nonce, 16)) != 0)
		goto out;
	SHA256((const unsigned char *)verifier, strlen(verifier), dig);
	b64url(challenge, dig, sizeof(dig));

	r = ERR_SYSTEM;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(ls, 8) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) != 0) {
		say(errbuf, "cannot listen on 127.0.0.1: %s", strerror(errno));
		goto out;
	}
	snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%u/callback",
	    (unsigned)ntohs(sa.sin_port));

	if ((r = form_add(&query, "response_type", "code")) != 0 ||
	    (r = form_add(&query, "client_id", p->client_id)) != 0 ||
	    (r = form_add(&query, "redirect_uri", redirect)) != 0 ||
	    (r = form_add(&query, "scope", p->scope)) != 0 ||
	    (r = form_add(&query, "state", state)) != 0 ||
	    (r = form_add(&query, "nonce", nonce)) != 0 ||
	    (r = form_add(&query, "code_challenge", challenge)) != 0 ||
	    (r = form_add(&query, "code_challenge_method", "S256")) != 0 ||
	    (p->fresh &&
		((r = form_add(&query, "max_age", "0")) != 0 ||
		    (r = form_add(&query, "prompt", "login")) != 0)))
		goto out;
	r = ERR_ALLOC;
	if ((url = malloc(strlen(e->authorization) + strlen(query) + 2)) ==
	    NULL)
		goto out;
	sprintf(url, "%s%c%s", e->authorization,
	    strchr(e->authorization, '?') != NULL ? '&' : '?', query);
	if (p->show != NULL)
		p->show(p->show_arg, url, NULL);
	pid = open_url(p, url, NULL);
	if ((r = await_redirect(ls, p->issuer, state,
		 time(NULL) + (p->wait > 0 ? p->wait : COIDC_DEFAULT_WAIT),
		 &code, errbuf)) != 0)
		goto out;
	if ((r = form_add(&form, "grant_type", "authorization_code")) != 0 ||
	    (r = form_add(&form, "code", code)) != 0 ||
	    (r = form_add(&form, "redirect_uri", redirect)) != 0 ||
	    (r = form_add(&form, "client_id", p->client_id)) != 0 ||
	    (r = form_add(&form, "client_secret", p->client_secret)) != 0 ||
	    (r = form_add(&form, "code_verifier", verifier)) != 0)
		goto out;
	if ((r = fetch(p, e->token, form, &status, &j, errbuf)) != 0 ||
	    (r = token_reply(j, status, id_token, errbuf)) != 0)
		goto out;
	if ((*nonce_out = strdup(nonce)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	r = 0;
out:
	if (ls >= 0)
		close(ls);
	reap(pid);
	json_decref(j);
	form_free(form);
	form_free(query);
	form_free(code);
	free(url);
	OPENSSL_cleanse(verifier, sizeof(verifier));
	if (r != 0) {
		free(*id_token);
		*id_token = NULL;
	}
	return r;
}

/* ---- the device flow (RFC 8628) ---- */

static int
device_flow(const struct coidc_params *p, const struct endpoints *e,
    char **id_token, char errbuf[COIDC_ERR_LEN])
{
	json_t *j = NULL, *v;
	char *form = NULL, *poll_form = NULL;
	const char *dc, *uc, *vu, *err;
	long status, interval = COIDC_DEFAULT_INTERVAL, expires;
	time_t deadline;
	pid_t pid = -1;
	int r;

	*id_token = NULL;
	if ((r = form_add(&form, "client_id", p->client_id)) != 0 ||
	    (r = form_add(&form, "client_secret", p->client_secret)) != 0 ||
	    (r = form_add(&form, "scope", p->scope)) != 0 ||
	    (p->fresh && (r = form_add(&form, "max_age", "0")) != 0))
		goto out;
	if ((r = fetch(p, e->device, form, &status, &j, errbuf)) != 0)
		goto out;
	if (status != 200) {
		r = oauth_error(j, status, errbuf);
		goto out;
	}
	dc = json_string_value(json_object_get(j, "device_code"));
	uc = json_string_value(json_object_get(j, "user_code"));
	vu = json_string_value(json_object_get(j, "verification_uri"));
	if (dc == NULL || uc == NULL || vu == NULL) {
		say(errbuf,
		    "the device authorization answer lacks "
		    "device_code, user_code or verification_uri");
		r = ERR_OIDC_PROVIDER;
		goto out;
	}
	if (json_is_integer(v = json_object_get(j, "interval")) &&
	    json_integer_value(v) > 0 && json_integer_value(v) < 60)
		interval = (long)json_integer_value(v);
	expires = p->wait > 0 ? p->wait : COIDC_DEFAULT_WAIT;
	if (json_is_integer(v = json_object_get(j, "expires_in")) &&
	    json_integer_value(v) > 0 && json_integer_value(v) < expires)
		expires = (long)json_integer_value(v);
	deadline = time(NULL) + expires;
	if ((r = form_add(&poll_form, "grant_type",
		 "urn:ietf:params:oauth:grant-type:device_code")) != 0 ||
	    (r = form_add(&poll_form, "device_code", dc)) != 0 ||
	    (r = form_add(&poll_form, "client_id", p->client_id)) != 0 ||
	    (r = form_add(&poll_form, "client_secret", p->client_secret)) != 0)
		goto out;
	if (p->show != NULL)
		p->show(p->show_arg, vu, uc);
	pid = open_url(p, vu, uc);
	json_decref(j);
	j = NULL;
	for (;;) {
		if (time(NULL) + interval > deadline) {
			say(errbuf,
			    "the device code expired before anyone "
			    "confirmed it");
			r = ERR_OIDC_CODE_EXPIRED;
			goto out;
		}
		sleep((unsigned)interval);
		json_decref(j);
		j = NULL;
		if ((r = fetch(p, e->token, poll_form, &status, &j, errbuf)) !=
		    0)
			goto out;
		if (status == 200)
			break;
		err = json_string_value(json_object_get(j, "error"));
		if (err != NULL && strcmp(err, "authorization_pending") == 0)
			continue;
		if (err != NULL && strcmp(err, "slow_down") == 0) {
			interval += 5;
			continue;
		}
		r = oauth_error(j, status, errbuf);
		goto out;
	}
	r = token_reply(j, status, id_token, errbuf);
out:
	reap(pid);
	json_decref(j);
	form_free(form);
	form_free(poll_form);
	return r;
}

int
coidc_sign_in(const struct coidc_params *p, char **id_token, char **nonce,
    char errbuf[COIDC_ERR_LEN])
{
	struct endpoints e;
	int r;

	*id_token = *nonce = NULL;
	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (p->issuer == NULL || p->client_id == NULL || p->scope == NULL)
		return ERR_INVALID_ARG;
	if (!url_allowed(p->issuer)) {
		say(errbuf, "the issuer is not https");
		return ERR_OIDC_INSECURE;
	}
	if ((r = discover(p, &e, errbuf)) != 0)
		return r;
	if (p->device)
		r = device_flow(p, &e, id_token, errbuf);
	else
		r = code_flow(p, &e, id_token, nonce, errbuf);
	endpoints_free(&e);
	return r;
}
