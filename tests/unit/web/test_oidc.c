/*
 * test_oidc.c: the ID-token verifier (web/oidc.c) against a real OpenID
 * Provider: panva's oidc-provider, tests/oidc/provider.mjs, started with
 * node on a free loopback port for each test and stopped after it.
 *
 * Good tokens are real: the provider's /test/id-token runs the
 * authorization code flow through its own login and consent pages and
 * redeems the code; two more come from Debian's chromium driven through
 * those pages by puppeteer (tests/oidc/browser.mjs): the browser flow to a
 * loopback redirect URI on a port of our own, and the device flow with
 * the user code typed in.  Bad tokens are real tokens altered here (a flipped
 * signature byte, alg none, HS256 keyed with the RSA public key), tokens
 * the provider signs with its real keys but would never issue (wrong
 * iss, several audiences), or a verifier clock moved.  Each must be
 * refused with its own code.  A broken provider (wrong issuer in
 * discovery, an oversized JWKS) is a responder of tests/lib/proc.h.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "signer/wire.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"
#include "web/oidc.h"

struct provider {
	pid_t pid;
	char *url; /* the issuer, "http://127.0.0.1:PORT" */
};

static char *dir;
static struct provider prov, prov2;
static pid_t responder = -1;
static time_t clock_offset; /* the verifier's clock: now + offset */

static void
setup(void)
{
	dir = tu_tmpdir();
	clock_offset = 0;
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
prov_stop(struct provider *p)
{
	tu_stop(&p->pid);
	free(p->url);
	p->url = NULL;
}

static void
teardown(void)
{
	prov_stop(&prov);
	prov_stop(&prov2);
	tu_stop(&responder);
	tu_rmtree(dir);
	free(dir);
	tu_keep_free();
}

TestSuite(oidc, .init = setup, .fini = teardown, .timeout = 120);

static time_t
test_now(void *arg)
{
	return time(NULL) + *(time_t *)arg;
}

/* The test provider as NAME (its output in dir/NAME.out and .err). */
static void
prov_start(struct provider *p, const char *name)
{
	p->url = tu_oidc_start(dir, name, &p->pid);
}

/* GET or POST (body not NULL) url; asserts status 200; the body (new). */
static char *
http(const char *url, const char *body)
{
	struct tu_reply r;
	CURL *c = curl_easy_init();
	CURLcode rc;

	memset(&r, 0, sizeof(r));
	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	rc = curl_easy_perform(c);
	cr_assert_eq(rc, CURLE_OK, "%s: %s", url, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_cleanup(c);
	cr_assert_eq(
	    r.status, 200, "%s: %ld %s", url, r.status, r.body ? r.body : "");
	return r.body != NULL ? r.body : tu_fmt("%s", "");
}

/* A real ID token of login for client, through the provider's pages. */
static char *
mint(const struct provider *p, const char *client, const char *login,
    const char *nonce)
{
	char *u = tu_fmt("%s/test/id-token?client=%s&login=%s%s%s", p->url,
	    client, login, nonce ? "&nonce=" : "", nonce ? nonce : "");
	char *body = http(u, NULL), *tok;
	json_t *j = json_loads(body, 0, NULL);

	cr_assert_not_null(j, "id-token: %s", body);
	tok = tu_fmt("%s", json_string_value(json_object_get(j, "id_token")));
	json_decref(j);
	free(body);
	free(u);
	return tok;
}

/* A JWS the provider signs with its current key of alg: payload and
 * extra header members are JSON text. */
static char *
sign(const struct provider *p, const char *alg, const char *header,
    const char *payload)
{
	char *u = tu_fmt("%s/test/sign", p->url);
	char *req = tu_fmt("{\"alg\": \"%s\", \"header\": %s, \"payload\": %s}",
	    alg, header ? header : "{}", payload);
	char *tok = http(u, req);

	free(u);
	free(req);
	return tok;
}

/* Claims like the provider's, for iss, aud and the verifier's clock. */
static char *
claims(const char *iss, const char *aud_json, const char *extra)
{
	time_t now = time(NULL);

	return tu_fmt("{\"iss\": \"%s\", \"aud\": %s, \"sub\": \"alice\", "
		      "\"preferred_username\": \"alice\", \"groups\": "
		      "[\"engineering\"], \"iat\": %lld, \"exp\": %lld%s%s}",
	    iss, aud_json, (long long)now, (long long)now + 600,
	    extra ? ", " : "", extra ? extra : "");
}

static struct oidc_verifier *
verifier_full(
    const char *issuer, const char *client, const char *uclaim, unsigned algs)
{
	struct oidc_config cfg = {
	    .issuer = issuer,
	    .client_id = client,
	    .username_claim = uclaim,
	    .algs = algs,
	    .skew = -1,
	    .now = test_now,
	    .now_arg = &clock_offset,
	};
	struct oidc_verifier *v = NULL;
	char errbuf[OIDC_ERR_LEN];
	int r = oidc_new(&v, &cfg, errbuf);

	cr_assert_eq(r, 0, "oidc_new: %s: %s", err_str(r), errbuf);
	return v;
}

static struct oidc_verifier *
verifier(const struct provider *p, const char *client)
{
	return verifier_full(p->url, client, NULL, 0);
}

/* oidc_verify's code; the identity, if any, is freed. */
static int
check(struct oidc_verifier *v, const char *tok, const char *nonce,
    char errbuf[OIDC_ERR_LEN])
{
	struct oidc_identity *id = NULL;
	int r = oidc_verify(v, tok, strlen(tok), nonce, &id, errbuf);

	if (r == 0)
		cr_assert_not_null(id);
	else
		cr_assert_null(id);
	oidc_identity_free(id);
	return r;
}

#define REFUSED(v, tok, nonce, code, what)                                     \
	do {                                                                   \
		char eb_[OIDC_ERR_LEN];                                        \
		int r_ = check((v), (tok), (nonce), eb_);                      \
		cr_assert_eq(r_, (code), "%s: got %d (%s: %s), want %s",       \
		    (what), r_, err_str(r_), eb_, #code);                      \
	} while (0)

/* Part i (0..2) of a compact JWS, decoded and NUL-terminated (new). */
static uint8_t *
part(const char *tok, int i, size_t *len)
{
	const char *s = tok, *e;
	uint8_t *out = NULL, *raw = NULL;
	char *p64;
	size_t n;

	while (i-- > 0)
		s = strchr(s, '.') + 1;
	e = strchr(s, '.');
	n = e != NULL ? (size_t)(e - s) : strlen(s);
	/* base64url to padded standard base64 for wire_b64_decode(). */
	p64 = calloc(1, n + 4);
	cr_assert_not_null(p64);
	memcpy(p64, s, n);
	for (size_t k = 0; k < n; k++)
		p64[k] = p64[k] == '-' ? '+' : p64[k] == '_' ? '/' : p64[k];
	while (n % 4 != 0)
		p64[n++] = '=';
	cr_assert_eq(wire_b64_decode(&raw, len, p64, n), 0, "part %s", p64);
	/* NUL-terminated, so that strstr() may look at a JSON part. */
	out = calloc(1, *len + 1);
	cr_assert_not_null(out);
	memcpy(out, raw, *len);
	free(raw);
	free(p64);
	return out;
}

static char *
b64url(const void *p, size_t len)
{
	char *s = NULL;

	cr_assert_eq(wire_b64_encode_nopad(&s, p, len, 1), 0);
	return s;
}

/* "h.p.s" of three base64url texts (new). */
static char *
join(const char *h, const char *p, const char *s)
{
	return tu_fmt("%s.%s.%s", h, p, s);
}

/* The first n characters of tok up to and including its second '.'. */
static char *
signing_input(const char *tok)
{
	const char *d = strchr(strchr(tok, '.') + 1, '.');

	return tu_fmt("%.*s", (int)(d - tok), tok);
}

static char *
header_kid(const char *tok)
{
	size_t n;
	uint8_t *h = part(tok, 0, &n);
	json_t *j = json_loadb((const char *)h, n, 0, NULL);
	char *kid;

	cr_assert_not_null(j);
	kid = tu_fmt("%s", json_string_value(json_object_get(j, "kid")));
	json_decref(j);
	free(h);
	return kid;
}

Test(oidc, real_es256_token_verifies_with_claims)
{
	struct oidc_verifier *v;
	struct oidc_identity *id = NULL;
	char errbuf[OIDC_ERR_LEN], *tok;
	size_t n;
	uint8_t *h;
	int r;

	prov_start(&prov, "p");
	tok = mint(&prov, "jitca", "alice", "nonce-4312");
	h = part(tok, 0, &n);
	cr_assert_not_null(strstr((char *)h, "\"ES256\""), "%s", h);
	v = verifier(&prov, "jitca");
	r = oidc_verify(v, tok, strlen(tok), "nonce-4312", &id, errbuf);
	cr_assert_eq(r, 0, "%s: %s", err_str(r), errbuf);
	cr_assert_str_eq(id->subject, "alice");
	cr_assert_str_eq(id->username, "alice");
	cr_assert_eq(id->ngroups, 1);
	cr_assert_str_eq(id->groups[0], "engineering");
	cr_assert_gt(id->exp, time(NULL));
	cr_assert_leq(id->iat, time(NULL));
	cr_assert_gt(id->auth_time, 0);
	cr_assert_leq(id->auth_time, id->iat);
	/* Discovery and JWKS, once; the second token is served from cache. */
	cr_assert_eq(oidc_fetch_count(v), 2);
	oidc_identity_free(id);
	id = NULL;
	r = oidc_verify(v, tok, strlen(tok), NULL, &id, errbuf);
	cr_assert_eq(r, 0, "%s: %s", err_str(r), errbuf);
	cr_assert_eq(oidc_fetch_count(v), 2);
	oidc_identity_free(id);
	oidc_free(v);
	free(h);
	free(tok);
}

Test(oidc, real_rs256_token_verifies_with_claims)
{
	struct oidc_verifier *v;
	struct oidc_identity *id = NULL;
	char errbuf[OIDC_ERR_LEN], *tok;
	size_t n;
	uint8_t *h;
	int r;

	prov_start(&prov, "p");
	tok = mint(&prov, "jitca-rs", "bob", NULL);
	h = part(tok, 0, &n);
	cr_assert_not_null(strstr((char *)h, "\"RS256\""), "%s", h);
	v = verifier(&prov, "jitca-rs");
	r = oidc_refresh(v, errbuf);
	cr_assert_eq(r, 0, "%s: %s", err_str(r), errbuf);
	r = oidc_verify(v, tok, strlen(tok), NULL, &id, errbuf);
	cr_assert_eq(r, 0, "%s: %s", err_str(r), errbuf);
	cr_assert_str_eq(id->username, "bob");
	cr_assert_eq(id->ngroups, 1);
	cr_assert_str_eq(id->groups[0], "sre-leads");
	oidc_identity_free(id);
	/* A verifier that allows ES256 only refuses it. */
	oidc_free(v);
	v = verifier_full(prov.url, "jitca-rs", NULL, OIDC_ALG_ES256);
	REFUSED(v, tok, NULL, ERR_OIDC_BAD_ALG, "RS256 not allowed");
	cr_assert_eq(oidc_fetch_count(v), 0, "refused before any fetch");
	oidc_free(v);
	free(h);
	free(tok);
}

Test(oidc, wrong_issuer_refused)
{
	struct oidc_verifier *v;
	char *c, *tok, *other;

	prov_start(&prov, "p");
	v = verifier(&prov, "jitca");
	/* Signed with the provider's real key, but another iss. */
	c = claims("http://127.0.0.1:1", "\"jitca\"", NULL);
	tok = sign(&prov, "ES256", NULL, c);
	REFUSED(v, tok, NULL, ERR_OIDC_BAD_ISSUER, "iss of another issuer");
	free(c);
	free(tok);
	/* A real token of a second provider: its keys are not ours. */
	prov_start(&prov2, "p2");
	other = mint(&prov2, "jitca", "alice", NULL);
	REFUSED(v, other, NULL, ERR_OIDC_UNKNOWN_KID, "token of another IdP");
	free(other);
	oidc_free(v);
}

Test(oidc, wrong_audience_refused)
{
	struct oidc_verifier *v;
	char *tok, *c;
	int r;

	prov_start(&prov, "p");
	v = verifier(&prov, "jitca");
	tok = mint(&prov, "other", "alice", NULL);
	REFUSED(v, tok, NULL, ERR_OIDC_BAD_AUDIENCE, "token for other");
	free(tok);
	/* Several audiences need azp = our client id. */
	c = claims(prov.url, "[\"other\", \"jitca\"]", NULL);
	tok = sign(&prov, "ES256", NULL, c);
	REFUSED(v, tok, NULL, ERR_OIDC_BAD_AUDIENCE, "two audiences, no azp");
	free(c);
	free(tok);
	c = claims(prov.url, "[\"other\", \"jitca\"]", "\"azp\": \"other\"");
	tok = sign(&prov, "ES256", NULL, c);
	REFUSED(v, tok, NULL, ERR_OIDC_BAD_AUDIENCE, "azp of another client");
	free(c);
	free(tok);
	c = claims(prov.url, "[\"other\", \"jitca\"]", "\"azp\": \"jitca\"");
	tok = sign(&prov, "ES256", NULL, c);
	r = check(v, tok, NULL, NULL);
	cr_assert_eq(r, 0, "azp = client id: %s", err_str(r));
	free(c);
	free(tok);
	oidc_free(v);
}

Test(oidc, expired_and_not_yet_valid_refused)
{
	struct oidc_verifier *v;
	char *tok, *c;
	int r;

	prov_start(&prov, "p");
	v = verifier(&prov, "jitca");
	tok = mint(&prov, "jitca", "alice", NULL); /* valid for 1 h */
	cr_assert_eq(check(v, tok, NULL, NULL), 0);
	/* Within the 60 s skew past exp: still good; beyond: expired. */
	clock_offset = 3600 + 30;
	r = check(v, tok, NULL, NULL);
	cr_assert_eq(r, 0, "inside the skew: %s", err_str(r));
	clock_offset = 3600 + 61;
	REFUSED(v, tok, NULL, ERR_OIDC_EXPIRED, "clock past exp");
	/* The clock moved back: iat is in the future beyond the skew. */
	clock_offset = -120;
	REFUSED(v, tok, NULL, ERR_OIDC_NOT_YET_VALID, "clock before iat");
	clock_offset = 0;
	c = claims(prov.url, "\"jitca\"",
	    tu_keep(tu_fmt("\"nbf\": %lld", (long long)time(NULL) + 300)));
	free(tok);
	tok = sign(&prov, "ES256", NULL, c);
	REFUSED(v, tok, NULL, ERR_OIDC_NOT_YET_VALID, "nbf in 5 minutes");
	free(c);
	free(tok);
	/* An iat two days old, with an exp still ahead: stale. */
	c = tu_fmt("{\"iss\": \"%s\", \"aud\": \"jitca\", \"sub\": \"a\", "
		   "\"preferred_username\": \"a\", \"iat\": %lld, \"exp\": "
		   "%lld}",
	    prov.url, (long long)time(NULL) - 2 * 86400,
	    (long long)time(NULL) + 600);
	tok = sign(&prov, "ES256", NULL, c);
	REFUSED(v, tok, NULL, ERR_OIDC_STALE, "iat two days ago");
	free(c);
	free(tok);
	oidc_free(v);
}

Test(oidc, alg_none_and_hs256_with_the_public_key_refused)
{
	struct oidc_verifier *v;
	char *tok, *pem, *u, *hdr, *in, *forged, *sig64, *p64;
	const char *d;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	char *kid;

	prov_start(&prov, "p");
	v = verifier(&prov, "jitca-rs");
	tok = mint(&prov, "jitca-rs", "alice", NULL);
	kid = header_kid(tok);
	d = strchr(tok, '.') + 1;
	p64 = tu_fmt("%.*s", (int)(strchr(d, '.') - d), d);

	/* alg none, no signature, the real payload. */
	hdr = tu_fmt("{\"alg\":\"none\",\"kid\":\"%s\"}", kid);
	forged = join(tu_keep(b64url(hdr, strlen(hdr))), p64, "");
	REFUSED(v, forged, NULL, ERR_OIDC_BAD_ALG, "alg none");
	free(hdr);
	free(forged);
	hdr = tu_fmt("{\"alg\":\"None\",\"kid\":\"%s\"}", kid);
	forged = join(tu_keep(b64url(hdr, strlen(hdr))), p64, "");
	REFUSED(v, forged, NULL, ERR_OIDC_BAD_ALG, "alg None");
	free(hdr);
	free(forged);

	/* HS256 keyed with the RSA public key as the provider publishes it
	 * (the classic key confusion). */
	u = tu_fmt("%s/test/pem?alg=RS256", prov.url);
	pem = http(u, NULL);
	cr_assert_not_null(strstr(pem, "BEGIN PUBLIC KEY"));
	hdr = tu_fmt("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	in = tu_fmt("%s.%s", (char *)tu_keep(b64url(hdr, strlen(hdr))), p64);
	cr_assert_not_null(HMAC(EVP_sha256(), pem, (int)strlen(pem),
	    (const unsigned char *)in, strlen(in), mac, &maclen));
	sig64 = b64url(mac, maclen);
	forged = tu_fmt("%s.%s", in, sig64);
	REFUSED(v, forged, NULL, ERR_OIDC_BAD_ALG, "HS256 with the public key");
	/* Nothing was fetched for these: the header alone refused them. */
	cr_assert_eq(oidc_fetch_count(v), 0);
	cr_assert_eq(check(v, tok, NULL, NULL), 0);
	/* ES256 in the header over the RSA key's kid: the key's type. */
	free(hdr);
	free(forged);
	hdr = tu_fmt("{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
	forged = tu_fmt(
	    "%s.%s.%s", (char *)tu_keep(b64url(hdr, strlen(hdr))), p64, sig64);
	REFUSED(v, forged, NULL, ERR_OIDC_BAD_ALG, "ES256 over an RSA key");
	free(forged);
	free(hdr);
	free(sig64);
	free(in);
	free(pem);
	free(u);
	free(p64);
	free(kid);
	free(tok);
	oidc_free(v);
}

Test(oidc, flipped_signature_and_payload_bytes_refused)
{
	struct oidc_verifier *v;
	char *tok, *in, *forged, *s64, *h64, *p64;
	uint8_t *sig, *pl;
	size_t slen, plen;
	char *at;

	prov_start(&prov, "p");
	v = verifier(&prov, "jitca");
	tok = mint(&prov, "jitca", "alice", NULL);
	in = signing_input(tok);
	sig = part(tok, 2, &slen);
	cr_assert_eq(slen, 64);
	sig[10] ^= 0x01;
	s64 = b64url(sig, slen);
	forged = tu_fmt("%s.%s", in, s64);
	REFUSED(v, forged, NULL, ERR_OIDC_BAD_SIGNATURE, "flipped sig byte");
	free(forged);
	free(s64);
	sig[10] ^= 0x01;
	/* The signature of another payload: alice becomes alicf. */
	pl = part(tok, 1, &plen);
	at = strstr((char *)pl, "\"alice\"");
	cr_assert_not_null(at);
	at[5] = 'f';
	h64 = tu_fmt("%.*s", (int)(strchr(tok, '.') - tok), tok);
	p64 = b64url(pl, plen);
	s64 = b64url(sig, slen);
	forged = join(h64, p64, s64);
	REFUSED(v, forged, NULL, ERR_OIDC_BAD_SIGNATURE, "changed payload");
	/* A truncated signature. */
	free(forged);
	free(s64);
	s64 = b64url(sig, slen - 1);
	forged = tu_fmt("%s.%s", in, s64);
	REFUSED(v, forged, NULL, ERR_OIDC_BAD_SIGNATURE, "63-byte signature");
	cr_assert_eq(check(v, tok, NULL, NULL), 0);
	free(forged);
	free(s64);
	free(p64);
	free(h64);
	free(pl);
	free(sig);
	free(in);
	free(tok);
	oidc_free(v);
}

static long
prov_jwks_served(const struct provider *p)
{
	char *u = tu_fmt("%s/test/stats", p->url);
	char *b = http(u, NULL);
	json_t *j = json_loads(b, 0, NULL);
	long n;

	cr_assert_not_null(j);
	n = (long)json_integer_value(json_object_get(j, "jwks"));
	json_decref(j);
	free(b);
	free(u);
	return n;
}

Test(oidc, unknown_kid_refetches_once_per_interval)
{
	struct oidc_verifier *v;
	char *tok, *c, *forged;

	prov_start(&prov, "p");
	v = verifier(&prov, "jitca");
	tok = mint(&prov, "jitca", "alice", NULL);
	cr_assert_eq(check(v, tok, NULL, NULL), 0);
	cr_assert_eq(oidc_fetch_count(v), 2);
	c = claims(prov.url, "\"jitca\"", NULL);
	/* A kid nobody published: one refetch, then refused. */
	forged = sign(&prov, "ES256", "{\"kid\": \"nope-1\"}", c);
	REFUSED(v, forged, NULL, ERR_OIDC_UNKNOWN_KID, "unknown kid");
	cr_assert_eq(oidc_fetch_count(v), 3);
	free(forged);
	/* Another within the interval: refused without a refetch. */
	clock_offset = 30;
	forged = sign(&prov, "ES256", "{\"kid\": \"nope-2\"}", c);
	REFUSED(v, forged, NULL, ERR_OIDC_UNKNOWN_KID, "second unknown kid");
	cr_assert_eq(oidc_fetch_count(v), 3);
	cr_assert_eq(prov_jwks_served(&prov), 2);
	/* After the interval, one more. */
	clock_offset = 61;
	REFUSED(v, forged, NULL, ERR_OIDC_UNKNOWN_KID, "after the interval");
	cr_assert_eq(oidc_fetch_count(v), 4);
	cr_assert_eq(prov_jwks_served(&prov), 3);
	cr_assert_eq(check(v, tok, NULL, NULL), 0);
	free(forged);
	free(c);
	free(tok);
	oidc_free(v);
}

Test(oidc, key_rotated_out_refused)
{
	struct oidc_verifier *v;
	char *old, *neu, *u, *b;
	int r;

	prov_start(&prov, "p");
	v = verifier(&prov, "jitca");
	old = mint(&prov, "jitca", "alice", NULL);
	cr_assert_eq(check(v, old, NULL, NULL), 0);
	u = tu_fmt("%s/test/rotate", prov.url);
	b = http(u, "");
	/* The new key is fetched when a token names it... */
	neu = mint(&prov, "jitca", "alice", NULL);
	cr_assert_str_neq(tu_keep(header_kid(old)), tu_keep(header_kid(neu)));
	r = check(v, neu, NULL, NULL);
	cr_assert_eq(r, 0, "token of the new key: %s", err_str(r));
	cr_assert_eq(oidc_fetch_count(v), 3);
	/* ...and the old one is gone from the JWKS. */
	REFUSED(v, old, NULL, ERR_OIDC_KEY_ROTATED, "token of the old key");
	cr_assert_eq(oidc_fetch_count(v), 3);
	/* A fresh verifier never saw the old key: unknown to it. */
	oidc_free(v);
	v = verifier(&prov, "jitca");
	REFUSED(v, old, NULL, ERR_OIDC_UNKNOWN_KID, "old key, new verifier");
	free(u);
	free(b);
	free(old);
	free(neu);
	oidc_free(v);
}

Test(oidc, missing_claims_refused)
{
	struct oidc_verifier *v;
	char errbuf[OIDC_ERR_LEN], *tok, *c;

	prov_start(&prov, "p");
	tok = mint(&prov, "jitca", "alice", NULL);
	/* The provider sends no "email": as the user name claim, missing. */
	v = verifier_full(prov.url, "jitca", "email", 0);
	cr_assert_eq(check(v, tok, NULL, errbuf), ERR_OIDC_MISSING_CLAIM);
	cr_assert_not_null(strstr(errbuf, "\"email\""), "%s", errbuf);
	oidc_free(v);
	free(tok);
	v = verifier(&prov, "jitca");
	c = tu_fmt("{\"iss\": \"%s\", \"aud\": \"jitca\", "
		   "\"preferred_username\": \"a\", \"iat\": %lld, \"exp\": "
		   "%lld}",
	    prov.url, (long long)time(NULL), (long long)time(NULL) + 600);
	tok = sign(&prov, "ES256", NULL, c);
	cr_assert_eq(check(v, tok, NULL, errbuf), ERR_OIDC_MISSING_CLAIM);
	cr_assert_not_null(strstr(errbuf, "\"sub\""), "%s", errbuf);
	free(c);
	free(tok);
	c = tu_fmt("{\"iss\": \"%s\", \"aud\": \"jitca\", \"sub\": \"a\", "
		   "\"preferred_username\": \"a\", \"iat\": %lld}",
	    prov.url, (long long)time(NULL));
	tok = sign(&prov, "ES256", NULL, c);
	cr_assert_eq(check(v, tok, NULL, errbuf), ERR_OIDC_MISSING_CLAIM);
	cr_assert_not_null(strstr(errbuf, "\"exp\""), "%s", errbuf);
	free(c);
	free(tok);
	/* Groups of the wrong type, and a user name that is not a string. */
	c = claims(prov.url, "\"jitca\"", NULL);
	free(c);
	c = tu_fmt("{\"iss\": \"%s\", \"aud\": \"jitca\", \"sub\": \"a\", "
		   "\"preferred_username\": \"a\", \"groups\": \"admins\", "
		   "\"iat\": %lld, \"exp\": %lld}",
	    prov.url, (long long)time(NULL), (long long)time(NULL) + 600);
	tok = sign(&prov, "ES256", NULL, c);
	cr_assert_eq(check(v, tok, NULL, errbuf), ERR_OIDC_BAD_CLAIM);
	cr_assert_not_null(strstr(errbuf, "\"groups\""), "%s", errbuf);
	free(c);
	free(tok);
	c = tu_fmt("{\"iss\": \"%s\", \"aud\": \"jitca\", \"sub\": \"a\", "
		   "\"preferred_username\": 7, \"iat\": %lld, \"exp\": %lld}",
	    prov.url, (long long)time(NULL), (long long)time(NULL) + 600);
	tok = sign(&prov, "ES256", NULL, c);
	cr_assert_eq(check(v, tok, NULL, errbuf), ERR_OIDC_BAD_CLAIM);
	free(c);
	free(tok);
	oidc_free(v);
}

Test(oidc, nonce_mismatch_refused)
{
	struct oidc_verifier *v;
	char *tok, *plain;

	prov_start(&prov, "p");
	v = verifier(&prov, "jitca");
	tok = mint(&prov, "jitca", "alice", "n-right");
	cr_assert_eq(check(v, tok, "n-right", NULL), 0);
	REFUSED(v, tok, "n-wrong", ERR_OIDC_NONCE, "other nonce");
	REFUSED(v, tok, "n-righ", ERR_OIDC_NONCE, "nonce prefix");
	plain = mint(&prov, "jitca", "alice", NULL);
	REFUSED(v, plain, "n-right", ERR_OIDC_NONCE, "token without nonce");
	free(plain);
	free(tok);
	oidc_free(v);
}

Test(oidc, malformed_tokens_refused_before_any_fetch)
{
	static const char *const bad[] = {
	    "",
	    "abc",
	    "a.b",
	    "a.b.c.d",
	    "eyJhbGciOiJFUzI1NiJ9=.e30.AA",
	    "eyJhbGciOiJFUzI1NiJ9.e30.A",
	    "eyJhbGciOiJFUzI1NiJ9.e3+.AA",
	    "eyJhbGciOiJFUzI1NiJ9 .e30.AA",
	    "W10.e30.AA", /* header [] */
	    "eyJhbGciOiJFUzI1NiJ9.e30.AA", /* no kid */
	    /* {"alg":"ES256","alg":"ES256","kid":"k"}: a member twice */
	    "eyJhbGciOiJFUzI1NiIsImFsZyI6IkVTMjU2Iiwia2lkIjoiayJ9.e30.AA",
	    /* {"alg":"ES256","kid":"k","typ":"JOSE"} */
	    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsiLCJ0eXAiOiJKT1NFIn0.e30.AA",
	    /* {"alg":"ES256","kid":"k","crit":["b64"]} */
	    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsiLCJjcml0IjpbImI2NCJdfQ.e30.AA",
	};
	struct oidc_verifier *v =
	    verifier_full("http://127.0.0.1:9", "jitca", NULL, 0);
	char *big;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		REFUSED(v, bad[i], NULL, ERR_OIDC_MALFORMED, bad[i]);
	big = calloc(1, OIDC_MAX_TOKEN + 2);
	cr_assert_not_null(big);
	memset(big, 'A', OIDC_MAX_TOKEN + 1);
	big[10] = '.';
	big[20] = '.';
	REFUSED(v, big, NULL, ERR_OIDC_MALFORMED, "over 16 KiB");
	cr_assert_eq(oidc_fetch_count(v), 0);
	free(big);
	oidc_free(v);
}

Test(oidc, insecure_or_bad_issuers_refused_before_fetching)
{
	static const struct {
		const char *issuer;
		int code;
	} cases[] = {
	    {"http://10.255.255.1", ERR_OIDC_INSECURE},
	    {"http://localhost:8080", ERR_OIDC_INSECURE},
	    {"http://idp.example.com", ERR_OIDC_INSECURE},
	    {"http://127.0.0.1.example.com", ERR_OIDC_INSECURE},
	    {"http://[::ffff:127.0.0.1]:80", ERR_OIDC_INSECURE},
	    {"ftp://idp.example.com", ERR_CONFIG},
	    {"https://idp.example.com/?tenant=1", ERR_CONFIG},
	    {"https://user@idp.example.com", ERR_CONFIG},
	    {"https://idp.example.com/#x", ERR_CONFIG},
	    {"not a url", ERR_CONFIG},
	};
	struct oidc_config cfg = {.client_id = "jitca", .skew = -1};
	struct oidc_verifier *v = NULL;
	char errbuf[OIDC_ERR_LEN];
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg.issuer = cases[i].issuer;
		r = oidc_new(&v, &cfg, errbuf);
		cr_assert_eq(r, cases[i].code, "%s: got %s (%s)",
		    cases[i].issuer, err_str(r), errbuf);
		cr_assert_null(v);
	}
	/* These are fine: https anywhere, http on loopback literals. */
	cfg.issuer = "https://idp.example.com/realms/x";
	cr_assert_eq(oidc_new(&v, &cfg, errbuf), 0, "%s", errbuf);
	cr_assert_eq(oidc_fetch_count(v), 0);
	oidc_free(v);
	cfg.issuer = "http://127.8.9.10:5556";
	cr_assert_eq(oidc_new(&v, &cfg, errbuf), 0, "%s", errbuf);
	oidc_free(v);
	cfg.issuer = "http://[::1]:5556";
	cr_assert_eq(oidc_new(&v, &cfg, errbuf), 0, "%s", errbuf);
	oidc_free(v);
	cfg.issuer = "https://idp.example.com";
	cfg.skew = OIDC_MAX_SKEW + 1;
	cr_assert_eq(oidc_new(&v, &cfg, errbuf), ERR_CONFIG);
	cfg.skew = -1;
	cfg.username_claim = "";
	cr_assert_eq(oidc_new(&v, &cfg, errbuf), ERR_CONFIG);
	cfg.username_claim = NULL;
	cfg.algs = 0x80;
	cr_assert_eq(oidc_new(&v, &cfg, errbuf), ERR_CONFIG);
	cr_assert_eq(oidc_alg_from_name("none"), 0);
	cr_assert_eq(oidc_alg_from_name("HS256"), 0);
	cr_assert_eq(oidc_alg_from_name("es256"), 0);
	cr_assert_eq(oidc_alg_from_name("ES256"), OIDC_ALG_ES256);
}

/* A broken provider: what it serves depends on arg (a mode string). */
static char *
broken_idp(const char *request, size_t *len, void *arg)
{
	const char *mode = arg;
	const char *host = strstr(request, "\r\nHost: ");
	char *h, *body, *resp;

	cr_assert_not_null(host);
	host += 8;
	h = tu_fmt("%.*s", (int)strcspn(host, "\r"), host);
	if (strncmp(request, "GET /.well-known/openid-configuration ", 38) ==
	    0) {
		if (strcmp(mode, "wrong-issuer") == 0)
			body = tu_fmt("{\"issuer\": \"http://127.0.0.1:1\", "
				      "\"jwks_uri\": \"http://%s/jwks\"}",
			    h);
		else if (strcmp(mode, "remote-jwks") == 0)
			body = tu_fmt("{\"issuer\": \"http://%s\", "
				      "\"jwks_uri\": \"http://10.255.255.1/"
				      "jwks\"}",
			    h);
		else
			body = tu_fmt("{\"issuer\": \"http://%s\", "
				      "\"jwks_uri\": \"http://%s/jwks\"}",
			    h, h);
	} else if (strcmp(mode, "huge-jwks") == 0) {
		size_t n = OIDC_MAX_DOC + 4096;

		body = calloc(1, n + 64);
		cr_assert_not_null(body);
		strcpy(body, "{\"keys\": [], \"pad\": \"");
		memset(body + strlen(body), 'x', n);
		strcat(body, "\"}");
	} else
		body = tu_fmt("{\"keys\": 3}");
	resp = tu_fmt("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    strlen(body), body);
	*len = strlen(resp);
	free(body);
	free(h);
	return resp;
}

static int
refresh_against(const char *mode, char errbuf[OIDC_ERR_LEN])
{
	int port =
	    tu_http_responder(broken_idp, (void *)(uintptr_t)mode, &responder);
	char *iss = tu_fmt("http://127.0.0.1:%d", port);
	struct oidc_verifier *v = verifier_full(iss, "jitca", NULL, 0);
	int r = oidc_refresh(v, errbuf);

	oidc_free(v);
	free(iss);
	tu_stop(&responder);
	return r;
}

Test(oidc, broken_providers_refused)
{
	char errbuf[OIDC_ERR_LEN];
	int r;

	r = refresh_against("wrong-issuer", errbuf);
	cr_assert_eq(r, ERR_OIDC_DISCOVERY, "%s: %s", err_str(r), errbuf);
	cr_assert_not_null(strstr(errbuf, "issuer"), "%s", errbuf);
	r = refresh_against("remote-jwks", errbuf);
	cr_assert_eq(r, ERR_OIDC_INSECURE, "%s: %s", err_str(r), errbuf);
	r = refresh_against("huge-jwks", errbuf);
	cr_assert_eq(r, ERR_TOO_LARGE, "%s: %s", err_str(r), errbuf);
	r = refresh_against("bad-jwks", errbuf);
	cr_assert_eq(r, ERR_OIDC_BAD_JWKS, "%s: %s", err_str(r), errbuf);
}

Test(oidc, unreachable_provider)
{
	char *iss = tu_fmt("http://127.0.0.1:%d", tu_free_port());
	struct oidc_verifier *v = verifier_full(iss, "jitca", NULL, 0);
	char errbuf[OIDC_ERR_LEN];
	int r = oidc_refresh(v, errbuf);

	cr_assert_eq(r, ERR_OIDC_UNREACHABLE, "%s: %s", err_str(r), errbuf);
	oidc_free(v);
	free(iss);
}

struct worker {
	struct oidc_verifier *v;
	const char *tok;
	int failures;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct oidc_identity *id;
	int i;

	for (i = 0; i < 50; i++) {
		id = NULL;
		if (oidc_verify(
			w->v, w->tok, strlen(w->tok), NULL, &id, NULL) != 0 ||
		    strcmp(id->username, "carol") != 0 || id->ngroups != 2)
			w->failures++;
		oidc_identity_free(id);
	}
	return NULL;
}

Test(oidc, one_verifier_shared_by_threads)
{
	struct worker w[4];
	pthread_t t[4];
	struct oidc_verifier *v;
	char *tok;
	int i;

	prov_start(&prov, "p");
	v = verifier(&prov, "jitca");
	tok = mint(&prov, "jitca", "carol", NULL);
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){v, tok, 0};
		cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].failures, 0);
	}
	cr_assert_eq(oidc_fetch_count(v), 2);
	free(tok);
	oidc_free(v);
}

/* The callback a loopback redirect URI reaches: the request goes to
 * DIR/callback (not the browser's later /favicon.ico), the browser gets
 * a page. */
static char *
callback(const char *request, size_t *len, void *arg)
{
	char *path = tu_fmt("%s/callback", dir);
	const char *page = "signed in; you may close this window\n";
	char *resp;

	if (strncmp(request, "GET /callback?", 14) == 0)
		tu_write_file(path, request, strlen(request), 0600);
	free(path);
	resp = tu_fmt("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    strlen(page), page);
	*len = strlen(resp);
	return resp;
}

/* The value of name in a query string or request line (new), or NULL. */
static char *
param(const char *s, const char *name)
{
	char *key = tu_fmt("%s=", name);
	const char *p = s;
	char *v = NULL;

	while ((p = strstr(p, key)) != NULL) {
		if (p == s || p[-1] == '?' || p[-1] == '&') {
			p += strlen(key);
			v = tu_fmt("%.*s", (int)strcspn(p, "& \r\n"), p);
			break;
		}
		p++;
	}
	free(key);
	return v;
}

/* node tests/oidc/browser.mjs ARGS...: chromium through the pages. */
static void
browse(const char *url, const char *login, const char *user_code)
{
	char *node = tu_which("node");
	char *chromium = tu_which("chromium");
	char *script =
	    tu_fmt("%s/tests/oidc/browser.mjs", tu_env("JITCA_SOURCE_DIR"));
	char *argv[] = {node, script, (char *)(uintptr_t)url,
	    (char *)(uintptr_t)login, user_code ? "--device" : NULL,
	    (char *)(uintptr_t)user_code, NULL};
	char *out = NULL, *err = NULL;
	int st;

	cr_assert_not_null(
	    node, "node is not installed: run scripts/bootstrap");
	cr_assert_not_null(
	    chromium, "chromium is not installed: run scripts/bootstrap");
	st = tu_run(argv, NULL, &out, &err);
	cr_assert_eq(
	    st, 0, "browser.mjs: %s%s", out ? out : "", err ? err : "");
	free(out);
	free(err);
	free(script);
	free(chromium);
	free(node);
}

static char *
id_token_of(const char *json)
{
	json_t *j = json_loads(json, 0, NULL);
	char *t;

	cr_assert_not_null(j, "%s", json);
	cr_assert(json_is_string(json_object_get(j, "id_token")), "%s", json);
	t = tu_fmt("%s", json_string_value(json_object_get(j, "id_token")));
	json_decref(j);
	return t;
}

Test(oidc, browser_code_flow_token_verifies, .timeout = 180)
{
	struct oidc_verifier *v;
	struct oidc_identity *id = NULL;
	char errbuf[OIDC_ERR_LEN], *verifier64, *challenge, *url, *req;
	char *code, *state, *iss, *body, *resp, *tok, *u, *cb;
	uint8_t rnd[32], dig[32];
	int port, r;

	prov_start(&prov, "p");
	port = tu_http_responder(callback, NULL, &responder);
	cr_assert_eq(RAND_bytes(rnd, sizeof(rnd)), 1);
	verifier64 = b64url(rnd, sizeof(rnd));
	SHA256((const unsigned char *)verifier64, strlen(verifier64), dig);
	challenge = b64url(dig, sizeof(dig));
	/* Any loopback port is accepted for http://127.0.0.1/callback. */
	url = tu_fmt("%s/auth?client_id=jitca&response_type=code&scope="
		     "openid%%20profile%%20groups&redirect_uri=http%%3A%%2F%%2F"
		     "127.0.0.1%%3A%d%%2Fcallback&code_challenge=%s&"
		     "code_challenge_method=S256&nonce=browser-n1&state=st-77",
	    prov.url, port, challenge);
	browse(url, "alice", NULL);
	cb = tu_fmt("%s/callback", dir);
	req = tu_read_file(cb, NULL);
	cr_assert_not_null(
	    req, "the redirect never reached 127.0.0.1:%d", port);
	cr_assert_eq(strncmp(req, "GET /callback?", 14), 0, "%s", req);
	code = param(req, "code");
	state = param(req, "state");
	iss = param(req, "iss");
	cr_assert_not_null(code, "%s", req);
	cr_assert_str_eq(state, "st-77");
	cr_assert_not_null(iss);
	body = tu_fmt("grant_type=authorization_code&code=%s&redirect_uri="
		      "http%%3A%%2F%%2F127.0.0.1%%3A%d%%2Fcallback&client_id="
		      "jitca&code_verifier=%s",
	    code, port, verifier64);
	u = tu_fmt("%s/token", prov.url);
	resp = http(u, body);
	tok = id_token_of(resp);
	v = verifier(&prov, "jitca");
	r = oidc_verify(v, tok, strlen(tok), "browser-n1", &id, errbuf);
	cr_assert_eq(r, 0, "%s: %s", err_str(r), errbuf);
	cr_assert_str_eq(id->username, "alice");
	cr_assert_eq(id->ngroups, 1);
	cr_assert_str_eq(id->groups[0], "engineering");
	cr_assert_gt(id->auth_time, 0);
	/* The same token in another sign-in (another nonce): refused. */
	REFUSED(v, tok, "browser-n2", ERR_OIDC_NONCE, "replayed elsewhere");
	oidc_identity_free(id);
	oidc_free(v);
	free(tok);
	free(resp);
	free(u);
	free(body);
	free(iss);
	free(state);
	free(code);
	free(req);
	free(cb);
	free(url);
	free(challenge);
	free(verifier64);
}

Test(oidc, device_flow_confirmed_in_browser_token_verifies, .timeout = 180)
{
	struct oidc_verifier *v;
	struct oidc_identity *id = NULL;
	char errbuf[OIDC_ERR_LEN], *u, *resp, *body, *tok;
	json_t *j;
	int r;

	prov_start(&prov, "p");
	u = tu_fmt("%s/device/auth", prov.url);
	resp = http(u, "client_id=jitca&scope=openid%20profile%20groups");
	j = json_loads(resp, 0, NULL);
	cr_assert_not_null(j, "%s", resp);
	cr_assert(json_is_string(json_object_get(j, "user_code")), "%s", resp);
	/* What a person does: open the verification URI, type the code. */
	browse(json_string_value(json_object_get(j, "verification_uri")), "bob",
	    json_string_value(json_object_get(j, "user_code")));
	free(u);
	u = tu_fmt("%s/token", prov.url);
	body = tu_fmt("grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type"
		      "%%3Adevice_code&client_id=jitca&device_code=%s",
	    json_string_value(json_object_get(j, "device_code")));
	free(resp);
	resp = http(u, body);
	tok = id_token_of(resp);
	v = verifier(&prov, "jitca");
	r = oidc_verify(v, tok, strlen(tok), NULL, &id, errbuf);
	cr_assert_eq(r, 0, "%s: %s", err_str(r), errbuf);
	cr_assert_str_eq(id->username, "bob");
	cr_assert_eq(id->ngroups, 1);
	cr_assert_str_eq(id->groups[0], "sre-leads");
	oidc_identity_free(id);
	oidc_free(v);
	json_decref(j);
	free(tok);
	free(resp);
	free(body);
	free(u);
}
