/*
 * testutil.c: helpers of testutil.h.  Test-only code: it uses fork/exec and
 * pipes directly and fails the running criterion test on setup errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "signer/pubkey.h"
#include "tests/lib/testutil.h"

char *
tu_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0);
	s = malloc((size_t)n + 1);
	cr_assert_not_null(s);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *t;

	t = tu_fmt("%s/jitca-test-XXXXXX", base && *base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(t), "mkdtemp: %s", strerror(errno));
	return t;
}

void
tu_rmtree(const char *dir)
{
	char *argv[] = {"rm", "-rf", (char *)(uintptr_t)dir, NULL};

	if (dir != NULL && *dir != '\0')
		(void)tu_run(argv, NULL, NULL, NULL);
}

/* Append what fd has to *buf (growing). */
static int
drain(int fd, char **buf, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n <= 0)
		return n == 0 || errno != EINTR ? -1 : 0;
	*buf = realloc(*buf, *len + (size_t)n + 1);
	cr_assert_not_null(*buf);
	memcpy(*buf + *len, tmp, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return 0;
}

int
tu_run(char *const argv[], const char *input, char **out, char **err)
{
	int pin[2], pout[2], perr[2], status;
	char *obuf = calloc(1, 1), *ebuf = calloc(1, 1);
	size_t olen = 0, elen = 0, ilen = input ? strlen(input) : 0, ioff = 0;
	pid_t pid;

	cr_assert(pipe(pin) == 0 && pipe(pout) == 0 && pipe(perr) == 0);
	if ((pid = fork()) == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		/* Only 0-2 may hold the pipes: a daemon the command starts
		 * (ssh-agent) closes those, and must not keep the capture
		 * open through a copy. */
		close(pin[0]);
		close(pout[1]);
		close(perr[1]);
		close(pin[1]);
		close(pout[0]);
		close(perr[0]);
		execvp(argv[0], argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	cr_assert(pid > 0);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (ilen == 0) {
		close(pin[1]);
		pin[1] = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd p[3] = {
		    {pout[0], POLLIN, 0},
		    {perr[0], POLLIN, 0},
		    {pin[1], POLLOUT, 0},
		};
		int nfds = pin[1] >= 0 ? 3 : 2;

		if (pout[0] < 0 && perr[0] < 0)
			break;
		p[0].fd = pout[0];
		p[1].fd = perr[0];
		if (poll(p, (nfds_t)nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && drain(pout[0], &obuf, &olen) < 0) {
			close(pout[0]);
			pout[0] = -1;
		}
		if (p[1].revents && drain(perr[0], &ebuf, &elen) < 0) {
			close(perr[0]);
			perr[0] = -1;
		}
		if (nfds == 3 && p[2].revents) {
			ssize_t n = write(pin[1], input + ioff, ilen - ioff);

			if (n > 0)
				ioff += (size_t)n;
			if (n < 0 || ioff >= ilen) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out != NULL)
		*out = obuf;
	else
		free(obuf);
	if (err != NULL)
		*err = ebuf;
	else
		free(ebuf);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int
tu_sh(const char *cmd, char **out, char **err)
{
	char *argv[] = {"/bin/sh", "-c", (char *)(uintptr_t)cmd, NULL};

	return tu_run(argv, NULL, out, err);
}

char *
tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (len != NULL)
		*len = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		size_t got;

		if (n + 4096 + 1 > cap) {
			cap = (cap ? cap * 2 : 8192);
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

void
tu_write_file(const char *path, const void *data, size_t len, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert(fchmod(fd, (mode_t)mode) == 0);
	cr_assert(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

int
tu_free_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

const char *
tu_env(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v != NULL && *v != '\0',
	    "%s is not set (run the tests through ctest)", name);
	return v;
}

char *
tu_which(const char *prog)
{
	const char *dirs[] = {
	    "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"};
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *p = tu_fmt("%s/%s", dirs[i], prog);

		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

struct pubkey *
tu_pubkey_copy(const struct pubkey *k)
{
	struct pubkey *c = NULL;
	const uint8_t *b;
	size_t len;

	b = pubkey_blob(k, &len);
	cr_assert_eq(pubkey_from_blob(&c, b, len), 0);
	return c;
}

size_t
tu_curl_body(char *p, size_t size, size_t n, void *reply)
{
	struct tu_reply *r = reply;
	size_t k = size * n;
	char *nb = realloc(r->body, r->len + k + 1);

	/* No assertion: this may run on a test's own threads.  Returning 0
	 * makes curl fail the transfer (CURLE_WRITE_ERROR). */
	if (nb == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, k);
	r->len += k;
	r->body[r->len] = '\0';
	return k;
}

size_t
tu_curl_header(char *p, size_t size, size_t n, void *reply)
{
	struct tu_reply *r = reply;
	size_t k = size * n;

	if (r->hlen + k < sizeof(r->hdrs)) {
		memcpy(r->hdrs + r->hlen, p, k);
		r->hlen += k;
		r->hdrs[r->hlen] = '\0';
	}
	return k;
}

static void *keep_pool[8192];
static size_t keep_n;
static pthread_mutex_t keep_mu = PTHREAD_MUTEX_INITIALIZER;

void *
tu_keep(void *p)
{
	pthread_mutex_lock(&keep_mu);
	if (p != NULL && keep_n < sizeof(keep_pool) / sizeof(keep_pool[0]))
		keep_pool[keep_n++] = p;
	pthread_mutex_unlock(&keep_mu);
	return p;
}

void
tu_keep_free(void)
{
	pthread_mutex_lock(&keep_mu);
	while (keep_n > 0)
		free(keep_pool[--keep_n]);
	pthread_mutex_unlock(&keep_mu);
}

char *
tu_mask(char *s, const char *key, const char *ends, const char *rep)
{
	char *p = s, *q, *res;
	size_t at;

	while ((p = strstr(p, key)) != NULL) {
		p += strlen(key);
		q = p + strcspn(p, ends);
		at = (size_t)(p - s);
		res = tu_fmt("%.*s%s%s", (int)at, s, rep, q);
		free(s);
		s = res;
		p = s + at + strlen(rep);
	}
	return s;
}

static size_t fail_countdown;
static int fail_failed;

void
tu_fail_malloc_arm(size_t n)
{
	fail_countdown = n;
	fail_failed = 0;
}

int
tu_fail_malloc_failed(void)
{
	return fail_failed;
}

void *
tu_fail_malloc(size_t n)
{
	if (fail_countdown > 0 && --fail_countdown == 0) {
		fail_failed = 1;
		return NULL;
	}
	return malloc(n);
}

void
tu_pin(const char *actual, const char *want, int line)
{
	if (getenv("PIN_RECORD") != NULL)
		fprintf(stderr, "PIN %d %s\n", line, actual);
	else
		cr_assert_str_eq(actual, want, "pin at line %d", line);
}
