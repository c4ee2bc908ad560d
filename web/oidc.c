/*
 * oidc.c: the ID-token verifier of oidc.h: URL rules, bounded fetches of
 * the discovery document and the JWKS with libcurl, the key cache with
 * its rate-limited refetch, strict JWS compact parsing, and the claim
 * checks of OpenID Connect Core 1.0 section 3.1.3.7.
 *
 * JWK members become SSH public key fields (RFC 4253 section 6.6, RFC
 * 5656 section 3.1) so that signer/pubkey.c builds and checks the key,
 * and a JWS signature becomes an SSH signature blob (rsa-sha2-256 of RFC
 * 8332, ecdsa-sha2-nistp256 of RFC 5656 section 3.1.2) so that
 * signer/verify.c checks it: one signature path for the whole project.
 * JSON is parsed with jansson, refusing duplicate members.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "signer/pubkey.h"
#include "signer/wire.h"
#include "web/oidc.h"

#define OIDC_MAX_KID 128
#define OIDC_MAX_URL 2048
#define OIDC_RETIRED 32 /* kids remembered as rotated out */
#define OIDC_MAX_TIME ((json_int_t)1 << 40) /* NumericDate bound */

struct oidc_key {
	char kid[OIDC_MAX_KID + 1];
	unsigned alg; /* OIDC_ALG_* the key is for */
	int alg_given; /* the JWK named its alg */
	struct pubkey *pk;
};

struct oidc_verifier {
	char *issuer;
	char *client_id;
	char *username_claim;
	char *groups_claim;
	char *ca_file;
	unsigned algs;
	int skew;
	int refetch_interval;
	int issuer_loopback; /* plain http allowed */
	time_t (*now)(void *);
	void *now_arg;

	pthread_mutex_t mu; /* guards everything below */
	char *jwks_uri; /* NULL until discovery succeeded */
	char *authz_uri, *token_uri; /* NULL when the document had none */
	time_t discovered_at;
	struct oidc_key keys[OIDC_MAX_KEYS];
	size_t nkeys;
	int have_jwks;
	time_t jwks_at; /* last JWKS fetch attempt */
	time_t refetched_at; /* last refetch for an unknown kid */
	int refetched; /* refetched_at is set */
	char retired[OIDC_RETIRED][OIDC_MAX_KID + 1];
	size_t nretired, retired_next;
	unsigned long fetches;
};

static void errf(char *errbuf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
errf(char *errbuf, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, OIDC_ERR_LEN, fmt, ap);
	va_end(ap);
}

static time_t
v_now(const struct oidc_verifier *v)
{
	return v->now != NULL ? v->now(v->now_arg) : time(NULL);
}

unsigned
oidc_alg_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "RS256") == 0)
		return OIDC_ALG_RS256;
	if (strcmp(name, "ES256") == 0)
		return OIDC_ALG_ES256;
	return 0;
}

/* Strict base64url (RFC 4648 section 5) without padding: only the
 * alphabet, no '=', no bits set past the last byte.  *out is new (a NUL
 * is appended, not counted). */
static int
b64url_decode(uint8_t **out, size_t *outlen, const char *s, size_t len)
{
	uint8_t *p = NULL;
	size_t i, n = 0;
	uint32_t acc = 0;
	int bits = 0, c, r = ERR_INTERNAL;

	*out = NULL;
	*outlen = 0;
	ENSURE(len % 4 != 1, ERR_OIDC_MALFORMED);
	if ((p = malloc(len / 4 * 3 + 3)) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < len; i++) {
		ENSURE((c = wire_b64_value(s[i], 1)) >= 0, ERR_OIDC_MALFORMED);
		acc = (acc << 6) | (uint32_t)c;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	ENSURE(acc == 0, ERR_OIDC_MALFORMED); /* leftover bits must be 0 */
	p[n] = '\0';
	*out = p;
	*outlen = n;
	p = NULL;
	r = 0;
out:
	free(p);
	return r;
}

/* A JSON object from len bytes; ERR_OIDC_MALFORMED otherwise. */
static int
json_object_parse(json_t **out, const uint8_t *p, size_t len)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return ERR_OIDC_MALFORMED;
	}
	*out = j;
	return 0;
}

/* Printable ASCII or UTF-8, no control bytes, 1..max bytes. */
static int
claim_string_ok(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

/*
 * URL rules of oidc.h for url (what names it in messages): https, or
 * http when allow_http and the host is a literal loopback address.
 * *loopback (may be NULL) says whether the host is one.  curl's own URL
 * parser is used, so that the host checked is the host connected to.
 */
static int
url_check(const char *url, const char *what, int allow_http, int *loopback,
    char *errbuf)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *user = NULL, *frag = NULL;
	struct in_addr a4;
	struct in6_addr a6;
	int lb = 0, r = ERR_INTERNAL;

	if (loopback != NULL)
		*loopback = 0;
	if (strlen(url) > OIDC_MAX_URL) {
		errf(errbuf, "%s is longer than %d bytes", what, OIDC_MAX_URL);
		return ERR_CONFIG;
	}
	if ((u = curl_url()) == NULL)
		return ERR_ALLOC;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		errf(errbuf, "%s is not a URL", what);
		r = ERR_CONFIG;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
		errf(errbuf, "%s has a user name or a fragment", what);
		r = ERR_CONFIG;
		goto out;
	}
	if (host[0] == '[') {
		size_t n = strlen(host);

		if (n > 2 && host[n - 1] == ']') {
			host[n - 1] = '\0';
			lb = inet_pton(AF_INET6, host + 1, &a6) == 1 &&
			    IN6_IS_ADDR_LOOPBACK(&a6);
		}
	} else if (inet_pton(AF_INET, host, &a4) == 1)
		lb = (ntohl(a4.s_addr) >> 24) == 127;
	if (strcasecmp(scheme, "https") == 0)
		;
	else if (strcasecmp(scheme, "http") == 0) {
		if (!allow_http || !lb) {
			errf(errbuf,
			    "%s is plain http on a host that is not a "
			    "loopback address (127.0.0.0/8, [::1])",
			    what);
			r = ERR_OIDC_INSECURE;
			goto out;
		}
	} else {
		errf(errbuf, "%s is not an https URL", what);
		r = ERR_CONFIG;
		goto out;
	}
	if (loopback != NULL)
		*loopback = lb;
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(frag);
	curl_url_cleanup(u);
	return r;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc = -1;

static void
curl_init(void)
{
	curl_init_rc =
	    curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

struct body {
	char *p;
	size_t len;
	int too_large;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t k = size * n;
	char *np;

	if (k > OIDC_MAX_DOC || b->len + k > OIDC_MAX_DOC) {
		b->too_large = 1;
		return 0; /* stop the transfer here */
	}
	if ((np = realloc(b->p, b->len + k + 1)) == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, p, k);
	b->len += k;
	b->p[b->len] = '\0';
	return k;
}

/* GET url (checked by url_check) into a JSON object, or POST the form
 * post to it when not NULL; counts the fetch.  what names the document
 * in messages.  Called with v->mu held. */
static int
fetch_json(struct oidc_verifier *v, const char *url, const char *what,
    const char *post, json_t **out, char *errbuf)
{
	CURL *c = NULL;
	struct curl_slist *hdrs = NULL;
	struct body b = {NULL, 0, 0};
	char cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;
	json_error_t jerr;
	json_t *j = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	if (curl_init_rc != 0)
		return ERR_INTERNAL;
	if ((c = curl_easy_init()) == NULL ||
	    (hdrs = curl_slist_append(NULL, "Accept: application/json")) ==
		NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	v->fetches++;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    v->issuer_loopback ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)OIDC_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)OIDC_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (v->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, v->ca_file);
	if (v->issuer_loopback)
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(
	    c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)OIDC_MAX_DOC);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (post != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "jitcad/0.1");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	cc = curl_easy_perform(c);
	if (b.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		errf(errbuf, "%s is larger than %u bytes", what,
		    (unsigned)OIDC_MAX_DOC);
		r = ERR_TOO_LARGE;
		goto out;
	}
	if (cc != CURLE_OK) {
		errf(errbuf, "fetching the %s: %s", what,
		    cerr[0] != '\0' ? cerr : curl_easy_strerror(cc));
		r = cc == CURLE_WRITE_ERROR ? ERR_ALLOC : ERR_OIDC_UNREACHABLE;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		errf(errbuf, "fetching the %s: HTTP status %ld", what, status);
		r = ERR_OIDC_UNREACHABLE;
		goto out;
	}
	j = json_loadb(
	    b.p != NULL ? b.p : "", b.len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		errf(errbuf, "the %s is not a JSON object", what);
		r = strcmp(what, "JWKS") == 0 ? ERR_OIDC_BAD_JWKS
					      : ERR_OIDC_DISCOVERY;
		goto out;
	}
	*out = j;
	j = NULL;
	r = 0;
out:
	json_decref(j);
	free(b.p);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return r;
}

/* The endpoint name of a discovery document into *dst (replaced), when
 * the document has it and it passes url_check; else *dst stays NULL. */
static int
endpoint_keep(
    struct oidc_verifier *v, json_t *doc, const char *name, char **dst)
{
	const char *u = json_string_value(json_object_get(doc, name));

	free(*dst);
	*dst = NULL;
	if (u == NULL ||
	    url_check(u, name, v->issuer_loopback, NULL, NULL) != 0)
		return 0;
	return (*dst = strdup(u)) != NULL ? 0 : ERR_ALLOC;
}

/* Discovery (OpenID Connect Discovery 1.0 sections 4.1 and 4.3). */
static int
discover(struct oidc_verifier *v, char *errbuf)
{
	json_t *doc = NULL;
	const char *iss, *jwks;
	char *url = NULL;
	size_t n = strlen(v->issuer);
	int r = ERR_INTERNAL;

	/* Section 4.1: a trailing '/' of the issuer is not doubled. */
	if (n > 0 && v->issuer[n - 1] == '/')
		n--;
	if ((url = malloc(n + 40)) == NULL)
		return ERR_ALLOC;
	snprintf(url, n + 40, "%.*s/.well-known/openid-configuration", (int)n,
	    v->issuer);
	v->discovered_at = v_now(v); /* an attempt: failures wait too */
	TRY(fetch_json(v, url, "discovery document", NULL, &doc, errbuf));
	iss = json_string_value(json_object_get(doc, "issuer"));
	if (iss == NULL || strcmp(iss, v->issuer) != 0) {
		errf(errbuf,
		    "the discovery document's \"issuer\" is not the configured "
		    "issuer");
		r = ERR_OIDC_DISCOVERY;
		goto out;
	}
	jwks = json_string_value(json_object_get(doc, "jwks_uri"));
	if (jwks == NULL) {
		errf(errbuf, "the discovery document has no \"jwks_uri\"");
		r = ERR_OIDC_DISCOVERY;
		goto out;
	}
	if ((r = url_check(jwks, "the discovery document's jwks_uri",
		 v->issuer_loopback, NULL, errbuf)) != 0) {
		if (r == ERR_CONFIG)
			r = ERR_OIDC_DISCOVERY;
		goto out;
	}
	free(v->jwks_uri);
	if ((v->jwks_uri = strdup(jwks)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	r = endpoint_keep(v, doc, "authorization_endpoint", &v->authz_uri);
	if (r == 0)
		r = endpoint_keep(v, doc, "token_endpoint", &v->token_uri);
out:
	json_decref(doc);
	free(url);
	return r;
}

/* A base64url member of a JWK, decoded (new). */
static int
jwk_bytes(json_t *jwk, const char *name, uint8_t **out, size_t *len)
{
	const char *s = json_string_value(json_object_get(jwk, name));

	*out = NULL;
	*len = 0;
	if (s == NULL)
		return ERR_OIDC_BAD_JWKS;
	if (b64url_decode(out, len, s, strlen(s)) != 0 || *len == 0) {
		free(*out);
		*out = NULL;
		return ERR_OIDC_BAD_JWKS;
	}
	return 0;
}

/*
 * One JWK (RFC 7517 section 4, RFC 7518 section 6) into k.  Returns 1
 * when the key is not one we would use (another kty or use, no kid),
 * 0 when k was filled, or an error for a malformed key we would use.
 */
static int
jwk_parse(json_t *jwk, struct oidc_key *k)
{
	const char *kty, *kid, *use, *alg, *crv;
	uint8_t *a = NULL, *b = NULL, *q = NULL;
	size_t alen, blen;
	struct wire *w = NULL;
	int r = ERR_INTERNAL;

	memset(k, 0, sizeof(*k));
	if (!json_is_object(jwk))
		return ERR_OIDC_BAD_JWKS;
	kty = json_string_value(json_object_get(jwk, "kty"));
	kid = json_string_value(json_object_get(jwk, "kid"));
	use = json_string_value(json_object_get(jwk, "use"));
	alg = json_string_value(json_object_get(jwk, "alg"));
	if (kty == NULL)
		return ERR_OIDC_BAD_JWKS;
	if (kid == NULL || (use != NULL && strcmp(use, "sig") != 0))
		return 1;
	if (strlen(kid) == 0 || strlen(kid) > OIDC_MAX_KID)
		return ERR_OIDC_BAD_JWKS;
	if ((w = wire_new(PUBKEY_MAX_BLOB)) == NULL)
		return ERR_ALLOC;
	if (strcmp(kty, "RSA") == 0) {
		if (alg != NULL && strcmp(alg, "RS256") != 0) {
			r = 1;
			goto out;
		}
		TRY(jwk_bytes(jwk, "n", &a, &alen));
		TRY(jwk_bytes(jwk, "e", &b, &blen));
		TRY(wire_put_mpint(w, b, blen)); /* e, then n: RFC 4253 */
		TRY(wire_put_mpint(w, a, alen));
		if (pubkey_from_fields(&k->pk, KEY_RSA, w) != 0) {
			r = ERR_OIDC_BAD_JWKS;
			goto out;
		}
		k->alg = OIDC_ALG_RS256;
	} else if (strcmp(kty, "EC") == 0) {
		crv = json_string_value(json_object_get(jwk, "crv"));
		if (crv == NULL || strcmp(crv, "P-256") != 0 ||
		    (alg != NULL && strcmp(alg, "ES256") != 0)) {
			r = 1;
			goto out;
		}
		TRY(jwk_bytes(jwk, "x", &a, &alen));
		TRY(jwk_bytes(jwk, "y", &b, &blen));
		/* RFC 7518 section 6.2.1.2: exactly the field size. */
		ENSURE(alen == 32 && blen == 32, ERR_OIDC_BAD_JWKS);
		if ((q = malloc(65)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		q[0] = 0x04; /* SEC 1 uncompressed point */
		memcpy(q + 1, a, 32);
		memcpy(q + 33, b, 32);
		TRY(wire_put_cstring(w, "nistp256"));
		TRY(wire_put_string(w, q, 65));
		if (pubkey_from_fields(&k->pk, KEY_ECDSA_P256, w) != 0) {
			r = ERR_OIDC_BAD_JWKS;
			goto out;
		}
		k->alg = OIDC_ALG_ES256;
	} else {
		r = 1; /* OKP, oct, ...: not ours */
		goto out;
	}
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	k->alg_given = alg != NULL;
	r = 0;
out:
	if (r == ERR_BUF_FULL)
		r = ERR_OIDC_BAD_JWKS;
	wire_free(w);
	free(a);
	free(b);
	free(q);
	return r;
}

static void
keys_clear(struct oidc_key *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		pubkey_free(keys[i].pk);
		keys[i].pk = NULL;
	}
}

static int
kid_retired(const struct oidc_verifier *v, const char *kid)
{
	size_t i;

	for (i = 0; i < v->nretired; i++)
		if (strcmp(v->retired[i], kid) == 0)
			return 1;
	return 0;
}

static void
kid_retire(struct oidc_verifier *v, const char *kid)
{
	if (kid_retired(v, kid))
		return;
	snprintf(v->retired[v->retired_next], sizeof(v->retired[0]), "%s", kid);
	v->retired_next = (v->retired_next + 1) % OIDC_RETIRED;
	if (v->nretired < OIDC_RETIRED)
		v->nretired++;
}

/* Fetch and parse the JWKS; on success it replaces the cached keys, and
 * kids that left it are remembered as rotated out.  Called locked. */
static int
jwks_load(struct oidc_verifier *v, char *errbuf)
{
	struct oidc_key *nk = NULL;
	json_t *doc = NULL, *arr;
	size_t i, j, n = 0;
	int found, r = ERR_INTERNAL;

	v->jwks_at = v_now(v);
	if ((nk = calloc(OIDC_MAX_KEYS, sizeof(*nk))) == NULL)
		return ERR_ALLOC;
	TRY(fetch_json(v, v->jwks_uri, "JWKS", NULL, &doc, errbuf));
	arr = json_object_get(doc, "keys");
	if (!json_is_array(arr)) {
		errf(errbuf, "the JWKS has no \"keys\" array");
		r = ERR_OIDC_BAD_JWKS;
		goto out;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		ENSURE(n < OIDC_MAX_KEYS, ERR_OIDC_BAD_JWKS);
		r = jwk_parse(json_array_get(arr, i), &nk[n]);
		if (r == 1)
			continue;
		if (r != 0) {
			errf(errbuf, "key %zu of the JWKS is malformed", i);
			goto out;
		}
		for (j = 0; j < n; j++) {
			if (strcmp(nk[j].kid, nk[n].kid) == 0) {
				n++;
				errf(errbuf, "the JWKS has a kid twice");
				r = ERR_OIDC_BAD_JWKS;
				goto out;
			}
		}
		n++;
	}
	for (i = 0; i < v->nkeys; i++) {
		for (found = 0, j = 0; j < n && !found; j++)
			found = strcmp(v->keys[i].kid, nk[j].kid) == 0;
		if (!found)
			kid_retire(v, v->keys[i].kid);
	}
	keys_clear(v->keys, v->nkeys);
	memcpy(v->keys, nk, n * sizeof(*nk));
	v->nkeys = n;
	n = 0;
	v->have_jwks = 1;
	r = 0;
out:
	if (r == ERR_OIDC_BAD_JWKS && errbuf != NULL && errbuf[0] == '\0')
		errf(errbuf, "the JWKS is malformed");
	keys_clear(nk, n);
	free(nk);
	json_decref(doc);
	return r;
}

/* Discovery and JWKS present and younger than OIDC_CACHE_TTL; a failed
 * refresh of a cache that has keys keeps the old keys.  Locked. */
static int
cache_fresh(struct oidc_verifier *v, char *errbuf)
{
	time_t now = v_now(v);
	int r;

	if (v->jwks_uri == NULL || now - v->discovered_at > OIDC_CACHE_TTL) {
		if ((r = discover(v, errbuf)) != 0 && !v->have_jwks)
			return r;
	}
	if (!v->have_jwks || now - v->jwks_at > OIDC_CACHE_TTL) {
		if ((r = jwks_load(v, errbuf)) != 0 && !v->have_jwks)
			return r;
	}
	if (errbuf != NULL)
		errbuf[0] = '\0';
	return 0;
}

static const struct oidc_key *
key_find(const struct oidc_verifier *v, const char *kid)
{
	size_t i;

	for (i = 0; i < v->nkeys; i++)
		if (strcmp(v->keys[i].kid, kid) == 0)
			return &v->keys[i];
	return NULL;
}

int
oidc_new(struct oidc_verifier **out, const struct oidc_config *cfg,
    char errbuf[OIDC_ERR_LEN])
{
	struct oidc_verifier *v = NULL;
	CURLU *u = NULL;
	char *q = NULL;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (out == NULL || cfg == NULL)
		return ERR_INVALID_ARG;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != 0)
		return ERR_INTERNAL;
	if (cfg->issuer == NULL || cfg->client_id == NULL ||
	    cfg->client_id[0] == '\0' ||
	    strlen(cfg->client_id) > OIDC_MAX_CLAIM) {
		errf(errbuf, "oidc: issuer and client_id are required");
		return ERR_CONFIG;
	}
	if ((cfg->username_claim != NULL && cfg->username_claim[0] == '\0') ||
	    (cfg->groups_claim != NULL && cfg->groups_claim[0] == '\0')) {
		errf(errbuf, "oidc: a claim name is empty");
		return ERR_CONFIG;
	}
	if ((cfg->algs & ~OIDC_ALG_DEFAULT) != 0) {
		errf(errbuf, "oidc: unknown algorithm");
		return ERR_CONFIG;
	}
	if (cfg->skew > OIDC_MAX_SKEW) {
		errf(errbuf, "oidc: clock skew over %d seconds", OIDC_MAX_SKEW);
		return ERR_CONFIG;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ERR_ALLOC;
	if (pthread_mutex_init(&v->mu, NULL) != 0) {
		free(v);
		return ERR_SYSTEM;
	}
	if ((r = url_check(cfg->issuer, "oidc issuer", 1, &v->issuer_loopback,
		 errbuf)) != 0)
		goto out;
	/* Discovery section 3: an issuer has no query and no fragment. */
	if ((u = curl_url()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, cfg->issuer, 0) != CURLUE_OK) {
		r = ERR_CONFIG;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK) {
		errf(errbuf, "oidc issuer has a query");
		r = ERR_CONFIG;
		goto out;
	}
	v->algs = cfg->algs != 0 ? cfg->algs : OIDC_ALG_DEFAULT;
	v->skew = cfg->skew >= 0 ? cfg->skew : OIDC_DEFAULT_SKEW;
	v->refetch_interval = cfg->refetch_interval > 0 ? cfg->refetch_interval
							: OIDC_DEFAULT_REFETCH;
	v->now = cfg->now;
	v->now_arg = cfg->now_arg;
	if ((v->issuer = strdup(cfg->issuer)) == NULL ||
	    (v->client_id = strdup(cfg->client_id)) == NULL ||
	    (v->username_claim = strdup(cfg->username_claim != NULL
		     ? cfg->username_claim
		     : "preferred_username")) == NULL ||
	    (v->groups_claim = strdup(
		 cfg->groups_claim != NULL ? cfg->groups_claim : "groups")) ==
		NULL ||
	    (cfg->ca_file != NULL &&
		(v->ca_file = strdup(cfg->ca_file)) == NULL)) {
		r = ERR_ALLOC;
		goto out;
	}
	*out = v;
	v = NULL;
	r = 0;
out:
	curl_free(q);
	curl_url_cleanup(u);
	oidc_free(v);
	return r;
}

void
oidc_free(struct oidc_verifier *v)
{
	if (v == NULL)
		return;
	keys_clear(v->keys, v->nkeys);
	pthread_mutex_destroy(&v->mu);
	free(v->issuer);
	free(v->client_id);
	free(v->username_claim);
	free(v->groups_claim);
	free(v->ca_file);
	free(v->jwks_uri);
	free(v->authz_uri);
	free(v->token_uri);
	free(v);
}

int
oidc_authorization_endpoint(
    struct oidc_verifier *v, char **out, char errbuf[OIDC_ERR_LEN])
{
	int r;

	*out = NULL;
	pthread_mutex_lock(&v->mu);
	if ((r = cache_fresh(v, errbuf)) == 0 && v->authz_uri == NULL) {
		errf(errbuf,
		    "the discovery document has no usable "
		    "\"authorization_endpoint\"");
		r = ERR_OIDC_DISCOVERY;
	}
	if (r == 0 && (*out = strdup(v->authz_uri)) == NULL)
		r = ERR_ALLOC;
	pthread_mutex_unlock(&v->mu);
	return r;
}

/* "name=escaped(value)&" onto the form f (grown with realloc). */
static int
form_add(char **f, const char *name, const char *value)
{
	char *e = curl_easy_escape(NULL, value, 0), *nf;
	size_t have = *f != NULL ? strlen(*f) : 0;
	size_t need = have + strlen(name) + (e != NULL ? strlen(e) : 0) + 3;

	if (e == NULL || (nf = realloc(*f, need)) == NULL) {
		curl_free(e);
		return ERR_ALLOC;
	}
	snprintf(
	    nf + have, need - have, "%s%s=%s", have > 0 ? "&" : "", name, e);
	*f = nf;
	curl_free(e);
	return 0;
}

int
oidc_code_exchange(struct oidc_verifier *v, const char *code,
    const char *redirect_uri, const char *verifier, const char *secret,
    char **id_token, char errbuf[OIDC_ERR_LEN])
{
	char *form = NULL;
	json_t *doc = NULL;
	const char *t;
	int r;

	*id_token = NULL;
	if ((r = form_add(&form, "grant_type", "authorization_code")) != 0 ||
	    (r = form_add(&form, "code", code)) != 0 ||
	    (r = form_add(&form, "redirect_uri", redirect_uri)) != 0 ||
	    (r = form_add(&form, "client_id", v->client_id)) != 0 ||
	    (r = form_add(&form, "code_verifier", verifier)) != 0 ||
	    (secret != NULL &&
		(r = form_add(&form, "client_secret", secret)) != 0)) {
		free(form);
		return r;
	}
	pthread_mutex_lock(&v->mu);
	if ((r = cache_fresh(v, errbuf)) == 0 && v->token_uri == NULL) {
		errf(errbuf,
		    "the discovery document has no usable "
		    "\"token_endpoint\"");
		r = ERR_OIDC_DISCOVERY;
	}
	if (r == 0)
		r = fetch_json(
		    v, v->token_uri, "token response", form, &doc, errbuf);
	pthread_mutex_unlock(&v->mu);
	OPENSSL_cleanse(form, strlen(form));
	free(form);
	if (r == 0) {
		t = json_string_value(json_object_get(doc, "id_token"));
		if (t == NULL) {
			errf(errbuf, "the token response has no \"id_token\"");
			r = ERR_OIDC_PROVIDER;
		} else if ((*id_token = strdup(t)) == NULL)
			r = ERR_ALLOC;
	}
	json_decref(doc);
	return r;
}

int
oidc_refresh(struct oidc_verifier *v, char errbuf[OIDC_ERR_LEN])
{
	int r;

	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (v == NULL)
		return ERR_INVALID_ARG;
	pthread_mutex_lock(&v->mu);
	if ((r = discover(v, errbuf)) == 0)
		r = jwks_load(v, errbuf);
	pthread_mutex_unlock(&v->mu);
	return r;
}

unsigned long
oidc_fetch_count(struct oidc_verifier *v)
{
	unsigned long n;

	if (v == NULL)
		return 0;
	pthread_mutex_lock(&v->mu);
	n = v->fetches;
	pthread_mutex_unlock(&v->mu);
	return n;
}

void
oidc_identity_free(struct oidc_identity *id)
{
	size_t i;

	if (id == NULL)
		return;
	free(id->subject);
	free(id->username);
	for (i = 0; i < id->ngroups; i++)
		free(id->groups[i]);
	free(id->groups);
	free(id);
}

/* The JWS signature over input (RFC 7518 sections 3.3 and 3.4) as an SSH
 * signature blob checked by pubkey_verify(). */
static int
sig_check(const struct oidc_key *k, const uint8_t *sig, size_t siglen,
    const char *input, size_t inlen)
{
	struct wire *w = NULL, *inner = NULL;
	int r = ERR_INTERNAL;

	if ((w = wire_new(PUBKEY_MAX_BLOB * 4)) == NULL ||
	    (inner = wire_new(256)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (k->alg == OIDC_ALG_RS256) {
		TRY(wire_put_cstring(w, "rsa-sha2-256"));
		TRY(wire_put_string(w, sig, siglen));
	} else {
		/* R || S, each exactly 32 bytes (section 3.4). */
		ENSURE(siglen == 64, ERR_OIDC_BAD_SIGNATURE);
		TRY(wire_put_mpint(inner, sig, 32));
		TRY(wire_put_mpint(inner, sig + 32, 32));
		TRY(wire_put_cstring(w, "ecdsa-sha2-nistp256"));
		TRY(wire_put_stringb(w, inner));
	}
	r = pubkey_verify(k->pk, wire_ptr(w), wire_len(w),
	    (const uint8_t *)input, inlen, NULL);
	if (r != 0 && r != ERR_ALLOC)
		r = ERR_OIDC_BAD_SIGNATURE;
out:
	if (r == ERR_BUF_FULL)
		r = ERR_OIDC_BAD_SIGNATURE;
	wire_free(inner);
	wire_free(w);
	return r;
}

/* A NumericDate claim: 0 and *present 0 when absent; a number in
 * 0..2^40 otherwise (fractions dropped), else ERR_OIDC_BAD_CLAIM. */
static int
claim_time(
    json_t *claims, const char *name, time_t *t, int *present, char *errbuf)
{
	json_t *j = json_object_get(claims, name);
	double d;

	*t = 0;
	*present = 0;
	if (j == NULL)
		return 0;
	if (json_is_integer(j) && json_integer_value(j) >= 0 &&
	    json_integer_value(j) <= OIDC_MAX_TIME) {
		*t = (time_t)json_integer_value(j);
	} else if (json_is_real(j) && (d = json_real_value(j)) >= 0 &&
	    d <= (double)OIDC_MAX_TIME) {
		*t = (time_t)d;
	} else {
		errf(errbuf, "ID token claim \"%s\" is not a time", name);
		return ERR_OIDC_BAD_CLAIM;
	}
	*present = 1;
	return 0;
}

/* A required string claim, copied; ERR_OIDC_MISSING_CLAIM when absent,
 * ERR_OIDC_BAD_CLAIM when not a string within bounds. */
static int
claim_string(
    json_t *claims, const char *name, int required, char **out, char *errbuf)
{
	json_t *j = json_object_get(claims, name);
	const char *s;

	*out = NULL;
	if (j == NULL || json_is_null(j)) {
		if (!required)
			return 0;
		errf(errbuf, "ID token has no \"%s\" claim", name);
		return ERR_OIDC_MISSING_CLAIM;
	}
	if ((s = json_string_value(j)) == NULL ||
	    !claim_string_ok(s, OIDC_MAX_CLAIM)) {
		errf(errbuf,
		    "ID token claim \"%s\" is not a string of 1..%d "
		    "printable bytes",
		    name, OIDC_MAX_CLAIM);
		return ERR_OIDC_BAD_CLAIM;
	}
	if ((*out = strdup(s)) == NULL)
		return ERR_ALLOC;
	return 0;
}

/* aud and azp (Core section 3.1.3.7, steps 3 to 5). */
static int
check_audience(const struct oidc_verifier *v, json_t *claims, char *errbuf)
{
	json_t *aud = json_object_get(claims, "aud"), *e;
	json_t *azp = json_object_get(claims, "azp");
	const char *azps = json_string_value(azp);
	size_t i, n = 0;
	int ours = 0;

	if (aud == NULL) {
		errf(errbuf, "ID token has no \"aud\" claim");
		return ERR_OIDC_MISSING_CLAIM;
	}
	if (json_is_string(aud)) {
		n = 1;
		ours = strcmp(json_string_value(aud), v->client_id) == 0;
	} else if (json_is_array(aud)) {
		json_array_foreach(aud, i, e)
		{
			if (!json_is_string(e)) {
				errf(errbuf,
				    "ID token claim \"aud\" holds a "
				    "non-string");
				return ERR_OIDC_BAD_CLAIM;
			}
			if (strcmp(json_string_value(e), v->client_id) == 0)
				ours = 1;
			n++;
		}
	} else {
		errf(errbuf, "ID token claim \"aud\" is not a string or array");
		return ERR_OIDC_BAD_CLAIM;
	}
	if (!ours) {
		errf(errbuf, "ID token claim \"aud\" does not name client %s",
		    v->client_id);
		return ERR_OIDC_BAD_AUDIENCE;
	}
	if (azp != NULL && azps == NULL) {
		errf(errbuf, "ID token claim \"azp\" is not a string");
		return ERR_OIDC_BAD_CLAIM;
	}
	if ((n > 1 && azps == NULL) ||
	    (azps != NULL && strcmp(azps, v->client_id) != 0)) {
		errf(errbuf,
		    "ID token claim \"azp\" is not client %s (aud has %zu "
		    "audiences)",
		    v->client_id, n);
		return ERR_OIDC_BAD_AUDIENCE;
	}
	return 0;
}

/* The groups claim: absent, or an array of at most OIDC_MAX_GROUPS
 * strings. */
static int
claim_groups(const struct oidc_verifier *v, json_t *claims,
    struct oidc_identity *id, char *errbuf)
{
	json_t *g = json_object_get(claims, v->groups_claim), *e;
	const char *s;
	size_t i;

	if (g == NULL || json_is_null(g))
		return 0;
	if (!json_is_array(g) || json_array_size(g) > OIDC_MAX_GROUPS) {
		errf(errbuf,
		    "ID token claim \"%s\" is not an array of at most %d "
		    "strings",
		    v->groups_claim, OIDC_MAX_GROUPS);
		return ERR_OIDC_BAD_CLAIM;
	}
	if (json_array_size(g) == 0)
		return 0;
	if ((id->groups = calloc(json_array_size(g), sizeof(char *))) == NULL)
		return ERR_ALLOC;
	json_array_foreach(g, i, e)
	{
		if ((s = json_string_value(e)) == NULL ||
		    !claim_string_ok(s, OIDC_MAX_CLAIM)) {
			errf(errbuf,
			    "ID token claim \"%s\" holds something other "
			    "than a short printable string",
			    v->groups_claim);
			return ERR_OIDC_BAD_CLAIM;
		}
		if ((id->groups[id->ngroups] = strdup(s)) == NULL)
			return ERR_ALLOC;
		id->ngroups++;
	}
	return 0;
}

/* Core section 3.1.3.7 on verified claims. */
static int
check_claims(const struct oidc_verifier *v, json_t *claims, const char *nonce,
    struct oidc_identity *id, char *errbuf)
{
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	json_t *jn = json_object_get(claims, "nonce");
	time_t now = v_now(v), nbf;
	int present, r = ERR_INTERNAL;

	if (json_object_get(claims, "iss") == NULL) {
		errf(errbuf, "ID token has no \"iss\" claim");
		return ERR_OIDC_MISSING_CLAIM;
	}
	if (iss == NULL || strcmp(iss, v->issuer) != 0) {
		errf(errbuf, "ID token claim \"iss\" is not %s", v->issuer);
		return ERR_OIDC_BAD_ISSUER;
	}
	TRY(check_audience(v, claims, errbuf));
	TRY(claim_time(claims, "exp", &id->exp, &present, errbuf));
	if (!present) {
		errf(errbuf, "ID token has no \"exp\" claim");
		return ERR_OIDC_MISSING_CLAIM;
	}
	if (now >= id->exp + v->skew) {
		errf(errbuf, "ID token claim \"exp\" is %lld s in the past",
		    (long long)(now - id->exp));
		return ERR_OIDC_EXPIRED;
	}
	TRY(claim_time(claims, "nbf", &nbf, &present, errbuf));
	if (present && nbf > now + v->skew) {
		errf(errbuf, "ID token claim \"nbf\" is %lld s in the future",
		    (long long)(nbf - now));
		return ERR_OIDC_NOT_YET_VALID;
	}
	TRY(claim_time(claims, "iat", &id->iat, &present, errbuf));
	if (!present) {
		errf(errbuf, "ID token has no \"iat\" claim");
		return ERR_OIDC_MISSING_CLAIM;
	}
	if (id->iat > now + v->skew) {
		errf(errbuf, "ID token claim \"iat\" is %lld s in the future",
		    (long long)(id->iat - now));
		return ERR_OIDC_NOT_YET_VALID;
	}
	if (now - id->iat > OIDC_MAX_IAT_AGE) {
		errf(errbuf, "ID token claim \"iat\" is more than %d s old",
		    OIDC_MAX_IAT_AGE);
		return ERR_OIDC_STALE;
	}
	if (nonce != NULL) {
		const char *tn = json_string_value(jn);
		size_t a = strlen(nonce);

		if (tn == NULL || strlen(tn) != a ||
		    CRYPTO_memcmp(tn, nonce, a) != 0) {
			errf(errbuf, "ID token claim \"nonce\" %s",
			    jn == NULL ? "is missing" : "does not match");
			return ERR_OIDC_NONCE;
		}
	}
	TRY(claim_time(claims, "auth_time", &id->auth_time, &present, errbuf));
	TRY(claim_string(claims, "sub", 1, &id->subject, errbuf));
	TRY(claim_string(claims, v->username_claim, 1, &id->username, errbuf));
	TRY(claim_groups(v, claims, id, errbuf));
	r = 0;
out:
	return r;
}

int
oidc_verify(struct oidc_verifier *v, const char *token, size_t len,
    const char *nonce, struct oidc_identity **out, char errbuf[OIDC_ERR_LEN])
{
	const char *d1, *d2;
	uint8_t *hdr = NULL, *sig = NULL, *payload = NULL;
	size_t hlen, slen, plen;
	json_t *header = NULL, *claims = NULL, *j;
	const char *alg, *kid, *typ;
	const struct oidc_key *k;
	struct oidc_identity *id = NULL;
	unsigned want;
	int locked = 0, r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (v == NULL || out == NULL || (token == NULL && len != 0))
		return ERR_INVALID_ARG;

	/* 1. Compact serialization: three parts, strict base64url. */
	if (len > OIDC_MAX_TOKEN) {
		errf(errbuf, "ID token is longer than %u bytes",
		    (unsigned)OIDC_MAX_TOKEN);
		return ERR_OIDC_MALFORMED;
	}
	if (len == 0 || (d1 = memchr(token, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token))) ==
		NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL) {
		errf(errbuf, "ID token is not three dot-separated parts");
		return ERR_OIDC_MALFORMED;
	}
	if ((r = b64url_decode(&hdr, &hlen, token, (size_t)(d1 - token))) !=
		0 ||
	    (r = b64url_decode(
		 &sig, &slen, d2 + 1, len - (size_t)(d2 + 1 - token))) != 0) {
		errf(errbuf, "ID token part is not strict base64url");
		goto out;
	}

	/* 2. The protected header. */
	if ((r = json_object_parse(&header, hdr, hlen)) != 0) {
		errf(errbuf, "ID token header is not a JSON object");
		goto out;
	}
	if ((alg = json_string_value(json_object_get(header, "alg"))) == NULL) {
		errf(errbuf, "ID token header has no \"alg\"");
		r = ERR_OIDC_MALFORMED;
		goto out;
	}
	want = oidc_alg_from_name(alg);
	if (want == 0 || (want & v->algs) == 0) {
		errf(errbuf,
		    "ID token header \"alg\" is not one of the allowed "
		    "algorithms");
		r = ERR_OIDC_BAD_ALG;
		goto out;
	}
	if ((j = json_object_get(header, "typ")) != NULL &&
	    ((typ = json_string_value(j)) == NULL ||
		strcasecmp(typ, "JWT") != 0)) {
		errf(errbuf, "ID token header \"typ\" is not JWT");
		r = ERR_OIDC_MALFORMED;
		goto out;
	}
	if (json_object_get(header, "crit") != NULL) {
		errf(errbuf, "ID token header has \"crit\" extensions");
		r = ERR_OIDC_MALFORMED;
		goto out;
	}
	kid = json_string_value(json_object_get(header, "kid"));
	if (kid == NULL || kid[0] == '\0' || strlen(kid) > OIDC_MAX_KID) {
		errf(errbuf, "ID token header has no usable \"kid\"");
		r = ERR_OIDC_MALFORMED;
		goto out;
	}

	/* 3. The key, refetching the JWKS for an unknown kid: a provider
	 * that rotated publishes the new key, and an attacker's random kids
	 * cost at most one fetch per refetch interval. */
	pthread_mutex_lock(&v->mu);
	locked = 1;
	TRY(cache_fresh(v, errbuf));
	if ((k = key_find(v, kid)) == NULL &&
	    (!v->refetched ||
		v_now(v) - v->refetched_at >= v->refetch_interval)) {
		v->refetched = 1;
		v->refetched_at = v_now(v);
		if ((r = jwks_load(v, errbuf)) != 0)
			goto out;
		k = key_find(v, kid);
	}
	if (k == NULL) {
		if (kid_retired(v, kid)) {
			errf(errbuf,
			    "ID token header \"kid\" names a key the "
			    "provider has rotated out");
			r = ERR_OIDC_KEY_ROTATED;
		} else {
			errf(errbuf,
			    "ID token header \"kid\" names no key of "
			    "the provider's JWKS");
			r = ERR_OIDC_UNKNOWN_KID;
		}
		goto out;
	}
	if (k->alg != want) {
		errf(errbuf,
		    "ID token header \"alg\" does not match its "
		    "key's type or alg");
		r = ERR_OIDC_BAD_ALG;
		goto out;
	}

	/* 4. The signature over the first two parts, as sent. */
	if ((r = sig_check(k, sig, slen, token, (size_t)(d2 - token))) != 0) {
		errf(errbuf, "ID token signature does not verify");
		goto out;
	}
	pthread_mutex_unlock(&v->mu);
	locked = 0;

	/* 5. Only now the payload and its claims. */
	if ((r = b64url_decode(
		 &payload, &plen, d1 + 1, (size_t)(d2 - d1 - 1))) != 0 ||
	    (r = json_object_parse(&claims, payload, plen)) != 0) {
		errf(errbuf, "ID token payload is not a JSON object");
		goto out;
	}
	if ((id = calloc(1, sizeof(*id))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	TRY(check_claims(v, claims, nonce, id, errbuf));
	*out = id;
	id = NULL;
	r = 0;
out:
	if (locked)
		pthread_mutex_unlock(&v->mu);
	oidc_identity_free(id);
	json_decref(header);
	json_decref(claims);
	free(hdr);
	free(sig);
	free(payload);
	return r;
}
