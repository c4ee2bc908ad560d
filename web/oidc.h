/*
 * oidc.h: verification of OpenID Connect ID tokens issued by one
 * configured identity provider (OpenID Connect Core 1.0 section 3.1.3.7),
 * with the provider's discovery document and signing keys (JWKS) fetched
 * over HTTPS with libcurl and cached.
 *
 * What a token must be, checked in this order (each refusal has its own
 * code in signer/err.h, and errbuf names the claim or header field):
 *   1. JWS compact serialization only (RFC 7515 section 7.1): exactly
 *      three parts, each strict base64url without padding, at most
 *      OIDC_MAX_TOKEN bytes (ERR_OIDC_MALFORMED).
 *   2. The protected header, a JSON object: `alg` one of the verifier's
 *      allowed algorithms, RS256 and ES256 by default; `none` and HS* are
 *      never accepted, whatever the configuration (ERR_OIDC_BAD_ALG);
 *      `typ`, when present, is "JWT"; `crit` is refused; `kid` present.
 *   3. `kid` found in the JWKS with a matching kty (RSA for RS256, EC
 *      P-256 for ES256), an `alg` equal to the header's when the key has
 *      one, and `use` "sig" when it has one.  A kid the verifier does not
 *      know makes it refetch the JWKS, at most once per refetch interval
 *      (ERR_OIDC_UNKNOWN_KID; ERR_OIDC_KEY_ROTATED for a key that was in
 *      an earlier JWKS and is gone from the current one).
 *   4. The signature over "header.payload" (ERR_OIDC_BAD_SIGNATURE).
 *      Nothing of the payload is read before this succeeds.
 *   5. The claims, a JSON object: `iss` equal to the issuer
 *      (ERR_OIDC_BAD_ISSUER); `aud` equal to the client id or an array
 *      containing it, and with several audiences `azp` equal to it
 *      (ERR_OIDC_BAD_AUDIENCE; an `azp` present is always checked); `exp`
 *      in the future (ERR_OIDC_EXPIRED); `nbf` and `iat` not later than
 *      now + skew (ERR_OIDC_NOT_YET_VALID); `iat` not older than
 *      OIDC_MAX_IAT_AGE (ERR_OIDC_STALE); `nonce` equal to the expected
 *      one when one is given (ERR_OIDC_NONCE); `sub`, and the user name
 *      claim, present (ERR_OIDC_MISSING_CLAIM); claims of the wrong type
 *      or over their bounds (ERR_OIDC_BAD_CLAIM).
 *
 * The discovery document (OpenID Connect Discovery 1.0 section 4) must
 * name exactly the configured issuer (section 4.3) and a jwks_uri.  Every
 * URL is https, except that an issuer whose host is a literal loopback
 * address (127.0.0.0/8 or [::1]: a test provider) may use plain http, and
 * then so may its jwks_uri on a loopback address; a host name such as
 * "localhost" is never taken as loopback, because it could resolve
 * elsewhere (ERR_OIDC_INSECURE, before anything is fetched).  Bodies are
 * read up to OIDC_MAX_DOC bytes and the transfer stops there
 * (ERR_TOO_LARGE); redirects are not followed; a failed transfer or a
 * status other than 200 is ERR_OIDC_UNREACHABLE.
 *
 * Library: OpenSSL directly, through signer/pubkey.h, not libcjose.  The
 * header, the claims and every check above are ours whichever library
 * checks the signature, so libcjose would only have converted JWKs to
 * keys and called OpenSSL.  Going through pubkey.h instead gives JWKS
 * keys the same checks as SSH keys (RSA of 2048..16384 bits with a sane
 * exponent, EC points on the curve), one signature path that is already
 * tested (RSA PKCS#1 v1.5 of exactly modulus length, ECDSA r and s
 * re-encoded as DER), and no second JSON and base64 parser to trust.
 *
 * Threads: a verifier may be shared by libmicrohttpd's handler threads;
 * a mutex guards its cache, and is held while it fetches (fetches are
 * rare, bounded by timeouts and rate-limited).
 *
 * Ownership: oidc_new() copies everything it is given; a struct
 * oidc_identity is owned by the caller (oidc_identity_free()).  Nothing
 * here prints.  It knows nothing of users or sessions: the sign-in route
 * (POST /v1/session in web/api.c) makes one verifier from the
 * configuration's oidc block and hands the identity it returns to
 * ca/users.h user_sign_in().
 */
#ifndef JITCA_OIDC_H
#define JITCA_OIDC_H

#include <stddef.h>
#include <time.h>

#include "signer/err.h"

#define OIDC_ERR_LEN 256
#define OIDC_MAX_TOKEN (16u * 1024) /* an ID token, bytes */
#define OIDC_MAX_DOC (256u * 1024) /* discovery or JWKS body, bytes */
#define OIDC_MAX_KEYS 64 /* keys kept from one JWKS */
#define OIDC_MAX_GROUPS 256 /* groups taken from one token */
#define OIDC_MAX_CLAIM 255 /* bytes of a string claim we return */
#define OIDC_DEFAULT_SKEW 60 /* seconds of clock skew allowed */
#define OIDC_MAX_SKEW 600
#define OIDC_MAX_IAT_AGE (24 * 3600) /* an older iat is refused */
#define OIDC_DEFAULT_REFETCH 60 /* s between unknown-kid refetches */
#define OIDC_CACHE_TTL 3600 /* s before discovery and JWKS are refetched */
#define OIDC_CONNECT_TIMEOUT 5 /* seconds */
#define OIDC_TIMEOUT 10 /* seconds for a whole transfer */

/* Signature algorithms (RFC 7518 section 3.1) a verifier may accept. */
#define OIDC_ALG_RS256 0x01u
#define OIDC_ALG_ES256 0x02u
#define OIDC_ALG_DEFAULT (OIDC_ALG_RS256 | OIDC_ALG_ES256)

struct oidc_config {
	const char *issuer; /* exactly as the provider writes it */
	const char *client_id;
	const char *username_claim; /* NULL: "preferred_username" */
	const char *groups_claim; /* NULL: "groups" */
	unsigned algs; /* OIDC_ALG_* bits; 0: OIDC_ALG_DEFAULT */
	int skew; /* seconds; < 0: OIDC_DEFAULT_SKEW */
	int refetch_interval; /* seconds; <= 0: OIDC_DEFAULT_REFETCH */
	const char *ca_file; /* CA bundle for https; NULL: the system's */
	time_t (*now)(void *arg); /* NULL: time(NULL) */
	void *now_arg;
};

/* What a verified token says.  Strings are NUL-terminated and new. */
struct oidc_identity {
	char *subject; /* sub */
	char *username; /* the username claim */
	char **groups; /* the groups claim (ngroups strings) */
	size_t ngroups; /* 0 when the claim is absent */
	time_t exp, iat;
	time_t auth_time; /* 0 when the token has none */
};

struct oidc_verifier;

/*
 * A verifier for cfg (copied).  Checks the configuration (ERR_CONFIG,
 * ERR_OIDC_INSECURE) but fetches nothing: the first verification does.
 * *out is new (oidc_free).  errbuf (may be NULL) says what was wrong.
 */
MUST_CHECK int oidc_new(struct oidc_verifier **out,
    const struct oidc_config *cfg, char errbuf[OIDC_ERR_LEN]);
void oidc_free(struct oidc_verifier *v);

/* "RS256" or "ES256" to its OIDC_ALG_* bit; 0 for anything else,
 * including "none" and HS*. */
unsigned oidc_alg_from_name(const char *name);

/*
 * Fetch discovery and the JWKS now (a service does this at start, so that
 * a wrong issuer shows at once).  Errors as for oidc_verify().
 */
MUST_CHECK int oidc_refresh(struct oidc_verifier *v, char errbuf[OIDC_ERR_LEN]);

/*
 * Verify the ID token token (len bytes) as the opening comment says;
 * nonce, when not NULL, is the value the token's `nonce` must have.  On
 * success *out is a new identity (oidc_identity_free); on failure it is
 * NULL, the code says which check refused the token, and errbuf (may be
 * NULL) says it in a sentence naming the claim.  Nothing from an
 * unverified token is put in errbuf.
 */
MUST_CHECK int oidc_verify(struct oidc_verifier *v, const char *token,
    size_t len, const char *nonce, struct oidc_identity **out,
    char errbuf[OIDC_ERR_LEN]);
void oidc_identity_free(struct oidc_identity *id);

/*
 * For the web pages' sign-in (web/ui_oidc.c), the authorization code flow
 * with PKCE (RFC 6749 section 4.1, RFC 7636): the provider's
 * authorization_endpoint from discovery (*out new), and the trade of a
 * code for the ID token at its token_endpoint (*id_token new, still to
 * be verified with oidc_verify()).  secret may be NULL (a public
 * client).  ERR_OIDC_DISCOVERY when the document names no such endpoint
 * (or one url_check refuses), fetch errors as for discovery.
 */
MUST_CHECK int oidc_authorization_endpoint(
    struct oidc_verifier *v, char **out, char errbuf[OIDC_ERR_LEN]);
MUST_CHECK int oidc_code_exchange(struct oidc_verifier *v, const char *code,
    const char *redirect_uri, const char *verifier, const char *secret,
    char **id_token, char errbuf[OIDC_ERR_LEN]);

/* How many documents (discovery and JWKS) v has fetched: for tests and
 * /metrics. */
unsigned long oidc_fetch_count(struct oidc_verifier *v);

#endif /* JITCA_OIDC_H */
