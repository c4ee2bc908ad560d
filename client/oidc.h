/*
 * oidc.h: jitca's side of signing in with the identity provider that
 * jitcad names in GET /v1/auth: the provider's discovery document, then
 * either the authorization code flow with PKCE (RFC 7636) and a loopback
 * redirect URI on 127.0.0.1 and a random port (RFC 8252 section 7.3), or
 * the device authorization grant (RFC 8628), and the token endpoint,
 * whose ID token jitcad verifies and trades for a session
 * (client/session.h).  jitca does not verify the ID token itself: it is
 * only carried to jitcad, which checks everything (web/oidc.h).
 *
 * The code flow: state and nonce are 128-bit random, the PKCE verifier
 * 256-bit; the redirect must carry our state (ERR_OIDC_STATE) and, when
 * it names an issuer (RFC 9207), ours.  The device flow polls no faster
 * than the provider's interval (5 s when it names none) and slows down by
 * 5 s on every "slow_down" (RFC 8628 section 3.5).
 *
 * Every provider URL is https, except plain http to a literal loopback
 * address (a test provider), as web/oidc.h; redirects are not followed;
 * bodies are capped at COIDC_MAX_DOC.
 *
 * Errors: ERR_OIDC_UNREACHABLE (discovery, device or token endpoint did
 * not answer), ERR_OIDC_DISCOVERY (wrong issuer, endpoint missing),
 * ERR_OIDC_INSECURE, ERR_OIDC_DENIED (access_denied), ERR_OIDC_CODE_EXPIRED
 * (invalid_grant, expired_token), ERR_OIDC_STATE, ERR_OIDC_TIMEOUT (nobody
 * finished within the time given), ERR_OIDC_PROVIDER (another OAuth error:
 * errbuf holds its code, escaped).  It prints nothing: what the person
 * must see goes through the show callback.
 */
#ifndef JITCA_CLIENT_OIDC_H
#define JITCA_CLIENT_OIDC_H

#include <stddef.h>

#include "signer/err.h"

#define COIDC_MAX_DOC (256u * 1024)
#define COIDC_ERR_LEN 256
#define COIDC_DEFAULT_WAIT 300 /* seconds for the person to sign in */
#define COIDC_DEFAULT_INTERVAL 5 /* device flow, RFC 8628 section 3.2 */
#define COIDC_TIMEOUT 20 /* seconds for one exchange with the provider */

struct coidc_params {
	const char *issuer; /* from GET /v1/auth */
	const char *client_id;
	const char *client_secret; /* NULL: a public client */
	const char *scope; /* space-separated, "openid" among them */
	const char *ca_bundle; /* NULL: the system's */
	int device; /* 1: RFC 8628 instead of the code flow */
	int fresh; /* 1: ask the person to sign in again (max_age=0) */
	int wait; /* seconds; <= 0: COIDC_DEFAULT_WAIT */
	/*
	 * Run with the URL (and, in the device flow, the user code) as its
	 * arguments, not waited for: "xdg-open", $JITCA_BROWSER, or NULL
	 * for none.  Standard output goes to /dev/null.
	 */
	const char *opener;
	/* What the person must do: url to open, and user_code (NULL in the
	 * code flow) to type there. */
	void (*show)(void *arg, const char *url, const char *user_code);
	void *show_arg;
};

/*
 * Sign in as p says.  On success *id_token is the provider's ID token
 * and *nonce the nonce it must carry (NULL in the device flow, which has
 * none), both new.  On failure a code (above) and errbuf says more.
 */
MUST_CHECK int coidc_sign_in(const struct coidc_params *p, char **id_token,
    char **nonce, char errbuf[COIDC_ERR_LEN]);

#endif /* JITCA_CLIENT_OIDC_H */
