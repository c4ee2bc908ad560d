/*
 * ui_session.h: the web pages' sessions, kept in the memory of
 * jitcad serve.  A sign-in (web/ui.c: a user's API token, or an ID token
 * of the configured provider) opens one; the browser's cookie holds only
 * its random id (32 bytes from the CSPRNG, hex), never a token, and the
 * table keeps only the SHA-256 of that id.  Each session has its own
 * CSRF token for the forms of its pages, compared in constant time.
 *
 * A session ends at its expiry (at most UI_SESSION_MAX_TTL after the
 * sign-in, earlier when the ID token said so), after UI_SESSION_IDLE
 * without use, at sign-out, or when jitcad serve restarts (then people
 * sign in again).  The user's account is looked up on every request
 * (web/ui.c), so disabling a user ends their pages at once.
 *
 * Thread-safe: one mutex guards the table.
 */
#ifndef JITCA_UI_SESSION_H
#define JITCA_UI_SESSION_H

#include <stdint.h>

#include "signer/err.h"

#define UI_SESSION_MAX 4096 /* open sessions; the oldest goes first */
#define UI_SESSION_MAX_TTL (12u * 3600)
#define UI_SESSION_IDLE (2u * 3600)
#define UI_SESSION_ID_LEN 64 /* hex characters */
#define UI_NAME_MAX 64

struct ui_sessions;

/* What a page needs to know of its session (a copy). */
struct ui_session {
	char user[UI_NAME_MAX + 1];
	char csrf[UI_SESSION_ID_LEN + 1];
	int oidc; /* signed in at the identity provider */
	uint64_t auth_time; /* when they proved who they are */
	uint64_t expires;
};

MUST_CHECK int ui_sessions_new(struct ui_sessions **out);
void ui_sessions_free(struct ui_sessions *s);

/*
 * Open a session for user (a valid user name) until expires (capped at
 * now + UI_SESSION_MAX_TTL); id gets its id.  ERR_INVALID_ARG, ERR_ALLOC,
 * ERR_CRYPTO.
 */
MUST_CHECK int ui_session_open(struct ui_sessions *s, const char *user,
    int oidc, uint64_t auth_time, uint64_t expires, uint64_t now,
    char id[UI_SESSION_ID_LEN + 1]);
/* The live session with this id (*out filled; its idle clock restarts),
 * or ERR_UI_SESSION. */
MUST_CHECK int ui_session_find(struct ui_sessions *s, const char *id,
    uint64_t now, struct ui_session *out);
/* End the session with this id (nothing when there is none). */
void ui_session_close(struct ui_sessions *s, const char *id);
/*
 * Sign-ins under way at the identity provider (web/ui_oidc.c): the
 * random state, nonce and PKCE verifier of one authorization request,
 * where to return and the redirect_uri it used.  ui_login_begin() makes
 * them (the oldest of UI_LOGIN_MAX is forgotten first); ui_login_take()
 * hands them over once, within UI_LOGIN_TTL seconds, for the state the
 * provider sent back, else ERR_UI_SESSION.
 */
#define UI_LOGIN_MAX 256
#define UI_LOGIN_TTL 600
struct ui_login {
	char nonce[UI_SESSION_ID_LEN + 1];
	char verifier[UI_SESSION_ID_LEN + 1];
	char next[256];
	char redirect[320];
};
MUST_CHECK int ui_login_begin(struct ui_sessions *s, const char *next,
    const char *redirect, uint64_t now, char state[UI_SESSION_ID_LEN + 1],
    struct ui_login *out);
MUST_CHECK int ui_login_take(struct ui_sessions *s, const char *state,
    uint64_t now, struct ui_login *out);

/* 1 if token is the session's CSRF token (constant time), else 0. */
int ui_csrf_ok(const struct ui_session *se, const char *token);

#endif /* JITCA_UI_SESSION_H */
