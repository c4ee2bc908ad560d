/*
 * cconf.h: the client's settings and small parsers: where the server is,
 * which token to use, which TLS CA bundle, durations ("90s", "30m", "12h",
 * "7d"), and the paths under the home directory.
 *
 * Precedence (docs/design.md "Interfaces"): command-line option, then the
 * environment ($JITCA_SERVER, $JITCA_TOKEN), then files under
 * ~/.config/jitca/: "config" holds "key = value" lines ("server",
 * "ca_bundle", "token_file"; '#' starts a comment line), "token" holds the
 * token.  See docs/client.md.  It does not talk to the server.
 */
#ifndef JITCA_CCONF_H
#define JITCA_CCONF_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

#define CCONF_MAX_FILE (64u * 1024)
#define CCONF_MAX_VALUE 1024
#define CCONF_MAX_DURATION (365ull * 24 * 3600)

struct cconf {
	char *home; /* $HOME, else the passwd entry */
	char *dir; /* ~/.config/jitca */
	char *server; /* NULL when none is configured */
	char *token; /* NULL when none; wiped on free */
	char *ca_bundle; /* NULL: the system CA store */
	/* Where each came from, for messages (static strings). */
	const char *server_from;
	const char *token_from;
	/* A problem worth saying that does not stop us (new string, or
	 * NULL): e.g. a token file others can read. */
	char *warning;
};

/*
 * Fill c.  The *_opt arguments are the command-line values (NULL when
 * not given).  A missing config or token file is not an error; an
 * unreadable, malformed or oversized one is (ERR_CONFIG, with *bad, if
 * not NULL, set to a new string naming the file and line).
 */
MUST_CHECK int cconf_load(struct cconf *c, const char *server_opt,
    const char *token_file_opt, const char *ca_bundle_opt, char **bad);
void cconf_clear(struct cconf *c);

/* "90s", "30m", "12h", "7d" or plain seconds "300", > 0 and at most
 * CCONF_MAX_DURATION.  ERR_BAD_DURATION otherwise. */
MUST_CHECK int cconf_parse_duration(uint64_t *out, const char *s);
/* Short human form: "45s", "12m30s", "2h05m", "3d04h". */
void cconf_format_duration(char *buf, size_t len, uint64_t secs);

/* 1 when s is a safe role name for file names and comments:
 * [A-Za-z0-9_][A-Za-z0-9._-]{0,63}. */
int cconf_role_ok(const char *s);

/* Read a whole small file (at most max bytes) into a new NUL-terminated
 * string.  ERR_NOT_FOUND when it does not exist, ERR_TOO_LARGE, or
 * ERR_SYSTEM. */
MUST_CHECK int cconf_read_file(
    char **out, size_t *len, const char *path, size_t max);
/* Write data to path atomically: a new temporary file in the same
 * directory with mode, fsync, rename, fsync of the directory. */
MUST_CHECK int cconf_write_atomic(
    const char *path, const void *data, size_t len, int mode);
/* mkdir -p with mode for the directories created. */
MUST_CHECK int cconf_mkdirs(const char *path, int mode);
/* printf into a new string (NULL on failure). */
char *cconf_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* JITCA_CCONF_H */
