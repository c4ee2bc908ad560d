/*
 * capi.h: the client side of the jitca HTTP API (docs/design.md "Interfaces"),
 * on libcurl: one JSON request, one JSON reply, errors mapped to err.h
 * codes with the server's own message kept for the user.
 *
 * TLS peer and host verification are always on; a private CA is given as
 * a PEM bundle file.  The bearer token is sent only when asked (not to
 * GET /v1/ca or /v1/health), never logged, and wiped when freed.
 * Redirects are not followed, only http and https are allowed, reply
 * bodies are capped at CAPI_MAX_REPLY.
 *
 * It does not know about certificates or the agent (the
 * commands: login.c, requests.c).
 */
#ifndef JITCA_CAPI_H
#define JITCA_CAPI_H

#include <jansson.h>

#include "signer/err.h"

#define CAPI_MAX_REPLY (1024u * 1024)
#define CAPI_MAX_URL 2048
#define CAPI_CONNECT_TIMEOUT 10 /* seconds */
#define CAPI_TIMEOUT 30 /* seconds, whole exchange */

struct capi;

/* server: "http[s]://host[:port]" (a trailing slash is dropped); token
 * may be NULL (then authenticated calls fail with ERR_BAD_TOKEN before
 * anything is sent); ca_bundle may be NULL (the system store).  Copies
 * the strings.  *out is new (capi_free). */
MUST_CHECK int capi_new(struct capi **out, const char *server,
    const char *token, const char *ca_bundle);
void capi_free(struct capi *c);

/*
 * method "GET" or "POST"; path starts with "/"; body (borrowed, may be
 * NULL) is sent as JSON.  auth: send the bearer token.
 * 0 on a 2xx reply with a JSON body: *reply is a new reference.
 * Otherwise a code, and *msg (may be NULL) a new string for the user:
 * ERR_UNREACHABLE (DNS, connect, TLS, timeout: curl's reason),
 * ERR_BAD_RESPONSE (not JSON, too large, unexpected status),
 * and for API errors the code matching {"error": {"code"}}: ERR_BAD_TOKEN
 * (401), ERR_FORBIDDEN / ERR_SELF_APPROVAL (403), ERR_NOT_FOUND (404),
 * ERR_WRONG_STATE / ERR_EXPIRED / ERR_ALREADY_APPROVED (409), ERR_POLICY /
 * ERR_TTL_TOO_LONG / ERR_PRINCIPAL_NOT_ALLOWED / ERR_INVALID_ARG (400),
 * ERR_TOO_LARGE (413), ERR_BUSY (429, 503), ERR_INTERNAL (500),
 * ERR_REAUTH_REQUIRED (401 reauth_required).
 * *status (may be NULL) receives the HTTP status, 0 when none.
 */
MUST_CHECK int capi_call(struct capi *c, const char *method, const char *path,
    json_t *body, int auth, long *status, json_t **reply, char **msg);

/* Use token (copied; NULL: none) from now on: a session's. */
MUST_CHECK int capi_set_token(struct capi *c, const char *token);

/* The "code" of the error reply to the last capi_call() ("" when it had
 * none: a success, no answer, or an answer not from jitca). */
const char *capi_error_code(const struct capi *c);

/* The base URL in use (borrowed). */
const char *capi_server(const struct capi *c);

#endif /* JITCA_CAPI_H */
