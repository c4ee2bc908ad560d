/*
 * jitcad.h: the setup the integration tests repeat around a real jitcad:
 * running `jitcad` or a shell command that must succeed, starting
 * `jitcad serve` from a shell command line and reading the URL it
 * listens on, making an OpenSSH key pair, and a SoftHSM2 token of its
 * own for a test.  proc.h's tu_serve_start is the plain serve; this file
 * is for the callers that add arguments or wrap it.
 *
 * Like testutil.h and proc.h, which it uses, a setup error fails the
 * running criterion test; strings returned are malloc'd and owned by the
 * caller.
 */
#ifndef JITCA_TESTS_JITCAD_H
#define JITCA_TESTS_JITCAD_H

#include <sys/types.h>

/* A test's scratch directory (new, *dir), the jitcad state dir in it
 * (*state = DIR/state, which jitcad init creates) and, with log not
 * NULL, serve's log (*log = DIR/serve.log). */
void tu_scratch(char **dir, char **state, char **log);
/* Undoes tu_scratch (after the test stopped what runs there): rm -rf
 * DIR, frees the three (log may be NULL) and sets them to NULL. */
void tu_scratch_free(char **dir, char **state, char **log);

/* A fresh user for the jitca client: DIR/home (made, 0700) as HOME, and
 * none of JITCA_TOKEN, JITCA_SERVER and XDG_CONFIG_HOME set.  Returns
 * the home's path. */
char *tu_client_home(const char *dir);

/* `$JITCAD ARGS --state STATE` that must exit 0 ("jitcad ARGS: exit N:
 * STDERR" otherwise); its stdout cut at the first newline. */
char *tu_jitcad_ok(const char *state, const char *args);
/* A shell command line that must exit 0 ("CMD: STDERR" otherwise); its
 * whole stdout. */
char *tu_sh_ok(const char *cmd);

/* `$JITCAD user add NAME GROUPS --state STATE` (groups a shell fragment
 * such as "--group engineering") that must succeed; its token goes to
 * DIR/NAME.token (0600), whose path is returned. */
char *tu_user_token(
    const char *state, const char *dir, const char *name, const char *groups);

/* Spawn `/bin/sh -c CMD` (an `exec '$JITCAD' serve ...` line) with stderr
 * appended to log, wait for the whole "listening on URL" line and return
 * the URL; *pid receives the shell's pid (stop with tu_stop). */
char *tu_serve_sh(const char *cmd, const char *log, pid_t *pid);
/* tu_serve_sh of `exec $JITCAD serve --state STATE --listen 127.0.0.1:0
 * EXTRA` (extra is a shell fragment, "" for none). */
char *tu_serve_extra(
    const char *state, const char *extra, const char *log, pid_t *pid);

/* `ssh-keygen -q -t TYPE -N '' -f PATH` (it must succeed); the public
 * key line of PATH.pub without its newline. */
char *tu_keygen(const char *type, const char *path);

/* A SoftHSM2 token for this test: DIR/tokens, DIR/softhsm2.conf (made
 * the process's SOFTHSM2_CONF), a token labelled jitca with user PIN 1234
 * and SO PIN 5678, and DIR/pin holding "1234\n" (0600).  Returns the pin
 * file's path; *tokens (may be NULL) receives DIR/tokens. */
char *tu_softhsm_token(const char *dir, char **tokens);

#endif /* JITCA_TESTS_JITCAD_H */
