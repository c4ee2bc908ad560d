/*
 * session.h: the jitcad session a sign-in gave (POST /v1/session),
 * cached per server in ~/.cache/jitca/ ($XDG_CACHE_HOME/jitca when that
 * is set): one file "session-HEX.json" for each server, HEX the first 16
 * bytes of SHA-256 of the server URL in hex, mode 0600 in a directory of
 * mode 0700, holding {"server", "token", "expires_at", "user"}.  A
 * session is used only while more than SESSION_MARGIN seconds are left,
 * only for the server it names, and only from a file that is ours and
 * nobody else can read.  Nothing here talks to the server or prints
 * (signing out at the server is logout.c's, through the callback of
 * session_remove_each()).
 */
#ifndef JITCA_CLIENT_SESSION_H
#define JITCA_CLIENT_SESSION_H

#include <stdint.h>

#include "signer/err.h"

#define SESSION_MARGIN 30 /* seconds: a session closer to expiry is stale */
#define SESSION_MAX_FILE 4096

struct session {
	char *token; /* wiped on free */
	char *user;
	uint64_t expires_at;
};

/* The cache directory for home (new string), or NULL. */
char *session_dir(const char *home);

/*
 * The session for server, if one is cached and valid at now: 0 and *s
 * filled; ERR_NOT_FOUND when there is none, it expired or it is not
 * usable (a stale or unsafe file is removed).
 */
MUST_CHECK int session_load(
    const char *home, const char *server, uint64_t now, struct session *s);
/* Cache s for server (atomically, 0600). */
MUST_CHECK int session_save(
    const char *home, const char *server, const struct session *s);
/* Remove the session of server, or of every server when server is NULL;
 * how many files were removed, or a negative code. */
int session_remove(const char *home, const char *server);
/*
 * Called by session_remove_each() for a cached session before its file
 * goes: the server it names and the session (borrowed for the call), or
 * both NULL when the file is unusable (not ours, readable by others,
 * malformed).  Expired sessions are passed too.
 */
typedef void (*session_fn)(
    void *ctx, const char *server, const struct session *s);
/* Called by session_remove_each() for a file it could not delete (errno
 * err). */
typedef void (*session_undeleted_fn)(void *ctx, const char *path, int err);
/* Every server's session file: fn (may be NULL) for it, then it is
 * removed (undeleted, may be NULL, told when that fails).  How many files
 * were removed, or a negative code. */
int session_remove_each(
    const char *home, session_fn fn, session_undeleted_fn undeleted, void *ctx);
void session_clear(struct session *s);

#endif /* JITCA_CLIENT_SESSION_H */
