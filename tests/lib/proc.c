/*
 * proc.c: helpers of proc.h.  Test-only code: fork/exec, files as the
 * children's output, sockets for the HTTP responder; setup errors fail
 * the running criterion test.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

/* What a responder reads of one request at most. */
#define REQUEST_MAX 65536

void
tu_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

long long
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: fd 0 from /dev/null, 1 and 2 appended to the files. */
static void
child_redirect(const char *out_path, const char *err_path)
{
	int n = open("/dev/null", O_RDWR);
	int o = open(out_path != NULL ? out_path : "/dev/null",
	    O_WRONLY | O_CREAT | O_APPEND, 0600);
	int e = open(err_path != NULL ? err_path : "/dev/null",
	    O_WRONLY | O_CREAT | O_APPEND, 0600);

	if (n < 0 || o < 0 || e < 0 || dup2(n, 0) < 0 || dup2(o, 1) < 0 ||
	    dup2(e, 2) < 0)
		_exit(127);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

pid_t
tu_spawn(char *const argv[], const char *out_path, const char *err_path)
{
	pid_t pid = fork();

	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		child_redirect(out_path, err_path);
		execv(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

static int
exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
tu_wait_exit(pid_t *pid)
{
	int st = 0, waited;

	for (waited = 0; waited < TU_WAIT_MS; waited += 20) {
		if (waitpid(*pid, &st, WNOHANG) == *pid) {
			*pid = -1;
			return exit_code(st);
		}
		tu_sleep_ms(20);
	}
	cr_assert_fail(
	    "process %d did not exit within %d ms", (int)*pid, TU_WAIT_MS);
	return -1;
}

void
tu_stop(pid_t *pid)
{
	int status, i;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (i = 0; i < 250; i++) {
		if (waitpid(*pid, &status, WNOHANG) == *pid)
			break;
		tu_sleep_ms(20);
	}
	if (i == 250) {
		kill(*pid, SIGKILL);
		waitpid(*pid, &status, 0);
	}
	*pid = -1;
}

char *
tu_file_wait(const char *path, const char *needle, pid_t pid)
{
	char *t = NULL;
	int waited, status;

	for (waited = 0; waited < TU_WAIT_MS; waited += 20) {
		free(t);
		t = tu_read_file(path, NULL);
		if (t != NULL && strstr(t, needle) != NULL)
			return t;
		if (pid > 0)
			cr_assert_neq(waitpid(pid, &status, WNOHANG), pid,
			    "exited while waiting for \"%s\" in %s: %s", needle,
			    path, t != NULL ? t : "");
		tu_sleep_ms(20);
	}
	cr_assert_fail("no \"%s\" in %s after %d ms: %s", needle, path,
	    TU_WAIT_MS, t != NULL ? t : "");
	return NULL;
}

int
tu_jitcad(const char *state, const char *args, char **out, char **err)
{
	char *cmd =
	    tu_fmt("'%s' %s --state '%s'", tu_env("JITCAD"), args, state);
	int rc = tu_sh(cmd, out, err);

	free(cmd);
	return rc;
}

pid_t
tu_child_of(pid_t pid, int only)
{
	char *path = tu_fmt("/proc/%d/task/%d/children", (int)pid, (int)pid);
	long long t0 = tu_now_ms();
	pid_t c = -1;

	while (tu_now_ms() - t0 < TU_WAIT_MS) {
		char *t = tu_read_file(path, NULL);

		if (t != NULL && t[0] >= '1' && t[0] <= '9') {
			c = (pid_t)strtol(t, NULL, 10);
			/* "PID " and nothing after: the one child. */
			cr_assert(
			    !only || strspn(t, "0123456789 ") == strlen(t),
			    "%s", t);
			cr_assert(!only || strchr(t, ' ') == strrchr(t, ' '),
			    "more than one child: %s", t);
			free(t);
			break;
		}
		free(t);
		tu_sleep_ms(20);
	}
	cr_assert_gt(c, 0, "no child of %d", (int)pid);
	free(path);
	return c;
}

char *
tu_proc_status(pid_t pid, const char *name)
{
	char *path = tu_fmt("/proc/%d/status", (int)pid);
	char *text = tu_read_file(path, NULL), *p, *v;

	cr_assert_not_null(text, "cannot read %s", path);
	p = strstr(text, name);
	cr_assert_not_null(p, "no %s in %s", name, text);
	p += strlen(name);
	p += strspn(p, " \t");
	v = tu_fmt("%.*s", (int)strcspn(p, "\n"), p);
	free(text);
	free(path);
	return v;
}

int
tu_url_port(const char *url)
{
	const char *p = strstr(url, "://");
	int port = 0;

	cr_assert_not_null(p, "not a URL: %s", url);
	p = strchr(p + 3, ':');
	cr_assert_not_null(p, "no port in %s", url);
	for (p++; *p >= '0' && *p <= '9' && port < 65536; p++)
		port = port * 10 + (*p - '0');
	cr_assert(
	    port > 0 && port < 65536 && *p == '\0', "bad port in %s", url);
	return port;
}

char *
tu_serve_start(const char *state, const char *log, const char *tls_cert,
    const char *tls_key, pid_t *pid)
{
	char *argv[] = {(char *)(uintptr_t)tu_env("JITCAD"), "serve", "--state",
	    (char *)(uintptr_t)state, "--listen", "127.0.0.1:0",
	    tls_cert != NULL ? "--tls-cert" : NULL, (char *)(uintptr_t)tls_cert,
	    "--tls-key", (char *)(uintptr_t)tls_key, NULL};
	char *url;

	*pid = tu_spawn(argv, NULL, log);
	url = tu_serve_url(log, *pid);
	(void)tu_url_port(url);
	return url;
}

char *
tu_serve_url(const char *log, pid_t pid)
{
	const char *needle = "listening on ";
	char *t, *p, *url;

	/* The whole line: "listening on URL\n". */
	for (;;) {
		t = tu_file_wait(log, needle, pid);
		p = strstr(t, needle) + strlen(needle);
		if (strchr(p, '\n') != NULL)
			break;
		free(t);
		tu_sleep_ms(20);
	}
	p[strcspn(p, " \n")] = '\0';
	url = tu_fmt("%s", p);
	free(t);
	return url;
}

pid_t
tu_agent_start(const char *sock)
{
	char *agent = tu_which("ssh-agent");
	char *argv[] = {agent, "-D", "-a", (char *)(uintptr_t)sock, NULL};
	struct stat st;
	int waited, status;
	pid_t pid;

	cr_assert_not_null(agent, "ssh-agent is not installed");
	pid = tu_spawn(argv, NULL, NULL);
	for (waited = 0; waited < TU_WAIT_MS && stat(sock, &st) != 0;
	     waited += 20) {
		cr_assert_neq(
		    waitpid(pid, &status, WNOHANG), pid, "ssh-agent exited");
		tu_sleep_ms(20);
	}
	cr_assert_eq(stat(sock, &st), 0, "ssh-agent did not make %s", sock);
	free(agent);
	return pid;
}

/* Bytes of the body the head in buf announces (0 without one). */
static size_t
content_length(const char *buf)
{
	const char *p;
	size_t n = 0;

	for (p = strstr(buf, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
			break;
	if (p == NULL)
		return 0;
	for (p += 17; *p == ' '; p++)
		;
	for (; *p >= '0' && *p <= '9' && n < REQUEST_MAX; p++)
		n = n * 10 + (size_t)(*p - '0');
	return n;
}

/* One connection of a responder: read a request, answer, close. */
static void
respond(int c, tu_http_fn fn, void *arg)
{
	char *buf = malloc(REQUEST_MAX + 1), *resp, *end;
	size_t got = 0, len = 0, off;
	ssize_t n;

	if (buf == NULL)
		_exit(1);
	buf[0] = '\0';
	while (got < REQUEST_MAX &&
	    (n = read(c, buf + got, REQUEST_MAX - got)) > 0) {
		got += (size_t)n;
		buf[got] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL &&
		    got - (size_t)(end + 4 - buf) >= content_length(buf))
			break;
	}
	resp = fn(buf, &len, arg);
	for (off = 0; off < len; off += (size_t)n)
		if ((n = send(c, resp + off, len - off, MSG_NOSIGNAL)) <= 0)
			break;
	shutdown(c, SHUT_WR);
	while (read(c, buf, REQUEST_MAX) > 0)
		;
	close(c);
	free(resp);
	free(buf);
}

int
tu_listen_loopback(int *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	cr_assert_eq(
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
	    "bind: %s", strerror(errno));
	cr_assert_eq(listen(fd, 8), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

int
tu_http_responder(tu_http_fn fn, void *arg, pid_t *pid)
{
	int port, fd = tu_listen_loopback(&port);

	*pid = fork();
	cr_assert(*pid >= 0, "fork: %s", strerror(errno));
	if (*pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		for (;;) {
			int c = accept(fd, NULL, NULL);

			if (c >= 0)
				respond(c, fn, arg);
		}
	}
	close(fd);
	return port;
}

struct canned {
	const char *data;
	size_t len;
};

static char *
canned_answer(const char *request, size_t *len, void *arg)
{
	const struct canned *c = arg;
	char *r = malloc(c->len + 1);

	(void)request;
	if (r == NULL)
		_exit(1);
	memcpy(r, c->data, c->len);
	*len = c->len;
	return r;
}

int
tu_http_canned(const char *response, size_t len, pid_t *pid)
{
	/* The forked responder has its own copy of this frame's data. */
	struct canned c = {response, len};

	return tu_http_responder(canned_answer, &c, pid);
}
