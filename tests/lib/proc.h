/*
 * proc.h: child processes for the integration tests: spawn a program with
 * its output in files, poll a file for a line, wait for or stop a child
 * with a cap; start the real `jitcad serve` on a free port and a real
 * `ssh-agent`; a tiny HTTP responder answering from a callback.
 *
 * Every wait polls with a cap (TU_WAIT_MS, generous for ASan builds on a
 * loaded 2-core machine) instead of sleeping a fixed time.  Like
 * testutil.h, which it uses, a setup error fails the running criterion
 * test; strings returned are malloc'd and owned by the caller.
 * tests/lib/sshd.h starts sshd; this file does not.
 */
#ifndef JITCA_TESTS_PROC_H
#define JITCA_TESTS_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* How long any wait here polls before failing the test. */
#define TU_WAIT_MS 20000

void tu_sleep_ms(int ms);
/* Milliseconds on the monotonic clock. */
long long tu_now_ms(void);

/*
 * Fork and exec argv[0] (a path) with stdin from /dev/null and stdout and
 * stderr appended to out_path and err_path (NULL: /dev/null), in its own
 * process group, dying with SIGTERM when the test process dies.  Returns
 * the pid.
 */
pid_t tu_spawn(char *const argv[], const char *out_path, const char *err_path);
/* Wait up to TU_WAIT_MS for *pid to exit; its exit status, or 128 +
 * signal.  Sets *pid to -1.  Fails the test when it does not exit. */
int tu_wait_exit(pid_t *pid);
/* SIGTERM, up to 5 s for the exit, then SIGKILL; reaps and sets *pid to
 * -1.  A pid <= 0 is left alone. */
void tu_stop(pid_t *pid);
/* Poll path until it contains needle; fails the test if pid (when > 0)
 * exits first or TU_WAIT_MS pass.  Returns the file's text (new). */
char *tu_file_wait(const char *path, const char *needle, pid_t pid);

/* The first child process of pid (/proc/PID/task/PID/children), waiting
 * up to TU_WAIT_MS for one to exist; with only, the test also fails when
 * pid has more than one child. */
pid_t tu_child_of(pid_t pid, int only);
/* The value of the /proc/PID/status line that name starts (with its
 * colon, e.g. "\nUid:"), leading blanks cut; new. */
char *tu_proc_status(pid_t pid, const char *name);

/* `$JITCAD ARGS --state STATE` through /bin/sh (args is a shell
 * fragment); its exit status, stdout and stderr as tu_sh gives them. */
int tu_jitcad(const char *state, const char *args, char **out, char **err);

/*
 * `$JITCAD serve --state STATE --listen 127.0.0.1:0`, with --tls-cert and
 * --tls-key when tls_cert is non-NULL, stderr appended to log; waits for
 * "listening on " and returns the URL it names ("http://127.0.0.1:PORT"
 * or https), new.  *pid receives the server's pid (stop with tu_stop).
 */
char *tu_serve_start(const char *state, const char *log, const char *tls_cert,
    const char *tls_key, pid_t *pid);
/* Poll log until a server (pid, > 0) wrote a whole "listening on URL"
 * line; the URL, new. */
char *tu_serve_url(const char *log, pid_t pid);
/* The port of a URL tu_serve_start returned. */
int tu_url_port(const char *url);
/* `ssh-agent -D -a SOCK`; waits for the socket; returns the pid.  A
 * missing ssh-agent fails the test. */
pid_t tu_agent_start(const char *sock);

/* A TCP socket listening on 127.0.0.1 at a free port (SO_REUSEADDR,
 * backlog 8); *port receives the port. */
int tu_listen_loopback(int *port);

/*
 * The answer of a responder to one request: request holds the request
 * head and any body that came with it (NUL-terminated); the callback
 * returns the whole response (status line, headers, body), malloc'd, and
 * its length in *len.
 */
typedef char *(*tu_http_fn)(const char *request, size_t *len, void *arg);
/*
 * A forked HTTP responder on a free loopback port: for every connection
 * it reads one request (the head, and a body up to its Content-Length,
 * bounded), writes what fn answers, and closes.  Returns the port; *pid
 * receives the responder's pid (stop with tu_stop).
 */
int tu_http_responder(tu_http_fn fn, void *arg, pid_t *pid);
/* A responder answering every request with the same len bytes. */
int tu_http_canned(const char *response, size_t len, pid_t *pid);

#endif /* JITCA_TESTS_PROC_H */
