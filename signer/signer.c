/*
 * signer.c: the signer process of signer.h, the only process that holds
 * the CA private key (DESIGN.md "Key custody"), in the manner of
 * OpenSSH's privilege-separation monitor.
 *
 * signer_start() forks.  The child drops everything it does not need
 * (descriptors, core dumps, ptrace/dumpability), loads the key with
 * cakey_load(), and then answers length-prefixed requests on its end of a
 * socketpair: it re-parses every to-be-signed body with cert_from_tbs(),
 * checks that the body names its own key as the signature key, applies
 * cert_check_policy() with its own clock and the limits fixed at start,
 * and only then signs with cakey_sign().  A malformed message ends the
 * child; the parent then sees ERR_SIGNER_DEAD.
 *
 * The parent side never opens the key file and keeps only the CA public
 * key it was sent.  It serialises requests with a mutex and bounds how
 * long it waits for any answer, so a wedged child cannot hang callers
 * for ever.  Certificate encoding is cert.c's; key handling cakey.c's;
 * the wire buffer wire.c's.
 *
 * The child is forked from the calling process: call signer_start()
 * before starting other threads (jitcad starts the signer first), since
 * the child uses malloc and OpenSSL after fork().
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "signer/cakey.h"
#include "signer/cert.h"
#include "signer/signer.h"
#include "signer/wire.h"

/* How long the parent waits for the child to load its key. */
#define SIGNER_START_TIMEOUT_MS 10000
/* How long the parent waits for any answer to a request. */
#define SIGNER_REPLY_TIMEOUT_MS 30000
/* How long signer_stop() lets the child exit before killing it. */
#define SIGNER_STOP_TIMEOUT_MS 5000
/* Header: uint32 length of the rest, then the type byte. */
#define SIGNER_HDR_LEN 4
/* Largest error code magnitude a child may send. */
#define SIGNER_MAX_ERR 1000

/* Child exit statuses (for the parent's waitpid and for debugging). */
#define SIGNER_EXIT_EOF 0
#define SIGNER_EXIT_KEY 1
#define SIGNER_EXIT_PROTOCOL 2
#define SIGNER_EXIT_SETUP 3

struct signer {
	pthread_mutex_t lock;
	int fd;
	pid_t pid;
	int dead; /* the stream is unusable; the child was killed */
	int reaped;
	struct pubkey *ca;
};

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send all of p; ERR_SIGNER_DEAD when the peer is gone. */
static int
send_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ERR_SIGNER_DEAD;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read exactly len bytes.  deadline < 0 waits for ever.  ERR_SIGNER_DEAD
 * on EOF, error or timeout.  *got (may be NULL) says how many bytes came,
 * so that the child can tell a clean EOF from a truncated message.
 */
static int
recv_all(int fd, uint8_t *p, size_t len, int64_t deadline, size_t *got)
{
	struct pollfd pfd;
	size_t off = 0;
	ssize_t n;
	int r = ERR_SIGNER_DEAD, left;

	while (off < len) {
		if (deadline >= 0) {
			int64_t rem = deadline - now_ms();

			if (rem <= 0)
				goto out;
			left = rem > INT32_MAX ? INT32_MAX : (int)rem;
			pfd.fd = fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			n = poll(&pfd, 1, left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				goto out;
		}
		n = recv(fd, p + off, len - off, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		off += (size_t)n;
	}
	r = 0;
out:
	if (got != NULL)
		*got = off;
	return r;
}

/* Frame and send one message: uint32 length, type, payload. */
static int
msg_send(int fd, uint8_t type, const struct wire *payload)
{
	struct wire *w = NULL;
	size_t plen = payload != NULL ? wire_len(payload) : 0;
	int r = ERR_INTERNAL;

	ENSURE(plen <= SIGNER_MAX_MSG - SIGNER_HDR_LEN - 1, ERR_TOO_LARGE);
	ENSURE((w = wire_new(SIGNER_MAX_MSG)) != NULL, ERR_ALLOC);
	TRY(wire_put_u32(w, (uint32_t)(plen + 1)));
	TRY(wire_put_u8(w, type));
	if (plen > 0)
		TRY(wire_put(w, wire_ptr(payload), plen));
	TRY(send_all(fd, wire_ptr(w), wire_len(w)));
	r = 0;
out:
	wire_free(w);
	return r;
}

/*
 * Receive one message.  *type gets the type byte, *body a new buffer
 * with the payload (may be empty; free it).  ERR_SIGNER_DEAD on EOF or
 * timeout; ERR_SIGNER_PROTOCOL on a bad length.  *clean_eof is set when
 * the peer closed exactly at a message boundary.
 */
static int
msg_recv(int fd, uint8_t *type, uint8_t **body, size_t *bodylen,
    int64_t deadline, int *clean_eof)
{
	uint8_t hdr[SIGNER_HDR_LEN], *buf = NULL;
	size_t got = 0;
	uint32_t len;
	int r = ERR_INTERNAL;

	*type = 0;
	*body = NULL;
	*bodylen = 0;
	if (clean_eof != NULL)
		*clean_eof = 0;
	if ((r = recv_all(fd, hdr, sizeof(hdr), deadline, &got)) != 0) {
		if (got == 0 && clean_eof != NULL)
			*clean_eof = 1;
		goto out;
	}
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];
	ENSURE(len >= 1 && len <= SIGNER_MAX_MSG - SIGNER_HDR_LEN,
	    ERR_SIGNER_PROTOCOL);
	ENSURE((buf = malloc(len)) != NULL, ERR_ALLOC);
	TRY(recv_all(fd, buf, len, deadline, NULL));
	*type = buf[0];
	if (len > 1) {
		memmove(buf, buf + 1, len - 1);
		*body = buf;
		buf = NULL;
	}
	*bodylen = len - 1;
	r = 0;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return r;
}

/* Parse a payload that is exactly one string; *p borrowed from body. */
static int
body_one_string(
    const uint8_t *body, size_t len, const uint8_t **p, size_t *plen)
{
	struct wire *w = NULL;
	int r = ERR_INTERNAL;

	*p = NULL;
	*plen = 0;
	ENSURE((w = wire_from(body, len)) != NULL, ERR_ALLOC);
	TRY(wire_get_string_direct(w, p, plen));
	ENSURE(wire_len(w) == 0, ERR_TRAILING_DATA);
	r = 0;
out:
	wire_free(w);
	return r;
}

/* Send a message whose payload is one string. */
static int
msg_send_string(int fd, uint8_t type, const uint8_t *p, size_t len)
{
	struct wire *w = NULL;
	int r = ERR_INTERNAL;

	ENSURE((w = wire_new(SIGNER_MAX_MSG)) != NULL, ERR_ALLOC);
	TRY(wire_put_string(w, p, len));
	TRY(msg_send(fd, type, w));
	r = 0;
out:
	wire_free(w);
	return r;
}

/* ---- the child ---------------------------------------------------- */

/* Close [lo, hi]; close_range(2) when the kernel has it, else a loop. */
static void
close_span(unsigned lo, unsigned hi)
{
	long max;
	unsigned fd;

	if (lo > hi)
		return;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lo; fd <= hi && fd < (unsigned)max; fd++)
		(void)close((int)fd);
}

/* Close every descriptor but keep (the socket) and stderr. */
static void
close_other_fds(int keep)
{
	unsigned a = (unsigned)keep, b = STDERR_FILENO;

	if (a > b) {
		b = (unsigned)keep;
		a = STDERR_FILENO;
	}
	if (a > 0)
		close_span(0, a - 1);
	if (b > a + 1)
		close_span(a + 1, b - 1);
	close_span(b + 1, ~0u);
}

/* Check and sign one to-be-signed body. */
static int
child_sign(const struct cakey *k, const struct cert_limits *lim,
    const uint8_t *tbs, size_t tbslen, uint8_t **sig, size_t *siglen)
{
	struct cert *c = NULL;
	struct cert_limits slack;
	time_t now;
	int r = ERR_INTERNAL;

	*sig = NULL;
	*siglen = 0;
	TRY(cert_from_tbs(&c, tbs, tbslen));
	ENSURE(c->ca_key != NULL && pubkey_equal(c->ca_key, cakey_public(k)),
	    ERR_CERT_WRONG_CA);
	ENSURE((now = time(NULL)) > 0, ERR_SYSTEM);
	/*
	 * The CA computed valid_after = its now - backdate a moment ago; a
	 * second boundary may lie between, so allow a few seconds of slack.
	 * Nothing jitca makes starts in the future: refuse that too.
	 */
	slack = *lim;
	slack.max_backdate += SIGNER_CLOCK_SLACK;
	ENSURE(c->valid_after <= (uint64_t)now + SIGNER_CLOCK_SLACK,
	    ERR_CERT_POSTDATED);
	TRY(cert_check_policy(c, &slack, (uint64_t)now));
	TRY(cakey_sign(k, sig, siglen, tbs, tbslen));
	r = 0;
out:
	cert_free(c);
	return r;
}

/* Send ERROR with the negated code. */
static int
child_send_error(int fd, int code)
{
	struct wire *w = NULL;
	int r = ERR_INTERNAL;

	if (code >= 0 || code < -SIGNER_MAX_ERR)
		code = ERR_INTERNAL;
	ENSURE((w = wire_new(16)) != NULL, ERR_ALLOC);
	TRY(wire_put_u32(w, (uint32_t)-code));
	TRY(msg_send(fd, SIGNER_MSG_ERROR, w));
	r = 0;
out:
	wire_free(w);
	return r;
}

/* Answer requests until EOF; returns the exit status. */
static int
child_serve(int fd, const struct cakey *k, const struct cert_limits *lim)
{
	const struct pubkey *pub = cakey_public(k);
	const uint8_t *blob, *tbs;
	uint8_t *body = NULL, *sig = NULL, type;
	size_t bloblen, bodylen, tbslen, siglen = 0;
	int r, clean_eof, status = SIGNER_EXIT_PROTOCOL;

	blob = pubkey_blob(pub, &bloblen);
	for (;;) {
		r = msg_recv(fd, &type, &body, &bodylen, -1, &clean_eof);
		if (r != 0) {
			status =
			    clean_eof ? SIGNER_EXIT_EOF : SIGNER_EXIT_PROTOCOL;
			break;
		}
		switch (type) {
		case SIGNER_MSG_PUBKEY_REQ:
			if (bodylen != 0)
				goto out;
			r = msg_send_string(
			    fd, SIGNER_MSG_PUBKEY, blob, bloblen);
			break;
		case SIGNER_MSG_SIGN_REQ:
			if (body_one_string(body, bodylen, &tbs, &tbslen) != 0)
				goto out;
			r = child_sign(k, lim, tbs, tbslen, &sig, &siglen);
			if (r == 0)
				r = msg_send_string(
				    fd, SIGNER_MSG_SIGN_OK, sig, siglen);
			else
				r = child_send_error(fd, r);
			free(sig);
			sig = NULL;
			break;
		default:
			goto out;
		}
		if (body != NULL)
			OPENSSL_cleanse(body, bodylen);
		free(body);
		body = NULL;
		if (r != 0) /* the parent is gone or we are out of memory */
			goto out;
	}
out:
	free(body);
	return status;
}

/* The child: never returns. */
__attribute__((noreturn)) static void
child_main(int fd, const char *key_path, const struct cert_limits *lim)
{
	struct rlimit rl = {0, 0};
	struct cakey *k = NULL;
	sigset_t mask;
	const uint8_t *blob;
	size_t bloblen;
	int r, status = SIGNER_EXIT_SETUP;

	close_other_fds(fd);
	/* Never leave the key in a core file or let others ptrace us. */
	if (setrlimit(RLIMIT_CORE, &rl) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		(void)child_send_error(fd, ERR_SYSTEM);
		_exit(SIGNER_EXIT_SETUP);
	}
	/* The parent handles terminal signals and tells us to stop by
	 * closing the socket. */
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGPIPE, SIG_IGN);
	/* Not the parent's handlers or mask: SIGTERM simply ends us. */
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGCHLD, SIG_DFL);
	(void)sigemptyset(&mask);
	(void)sigprocmask(SIG_SETMASK, &mask, NULL);

	if ((r = cakey_load(&k, key_path)) != 0) {
		(void)child_send_error(fd, r);
		_exit(SIGNER_EXIT_KEY);
	}
	blob = pubkey_blob(cakey_public(k), &bloblen);
	if (msg_send_string(fd, SIGNER_MSG_READY, blob, bloblen) == 0)
		status = child_serve(fd, k, lim);
	cakey_free(k);
	(void)close(fd);
	_exit(status);
}

/* ---- the parent --------------------------------------------------- */

/* Kill the child after a broken exchange; it will be reaped by
 * signer_stop().  Caller holds the lock (or is single-threaded). */
static void
parent_mark_dead(struct signer *s)
{
	if (!s->dead && s->pid > 0 && !s->reaped)
		(void)kill(s->pid, SIGKILL);
	s->dead = 1;
}

/* Wait for the child to exit, up to timeout_ms, then kill it. */
static void
parent_reap(struct signer *s, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int status;
	pid_t p;

	if (s->pid <= 0 || s->reaped)
		return;
	for (;;) {
		p = waitpid(s->pid, &status, WNOHANG);
		if (p == s->pid || (p < 0 && errno != EINTR))
			break;
		if (p == 0 && now_ms() >= deadline) {
			(void)kill(s->pid, SIGKILL);
			while (
			    waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (p == 0) {
			struct timespec ts = {0, 10 * 1000000L};

			(void)nanosleep(&ts, NULL);
		}
	}
	s->reaped = 1;
}

/* Turn an ERROR payload into the child's code. */
static int
parent_error_code(const uint8_t *body, size_t len)
{
	uint32_t v;

	if (len != 4)
		return ERR_SIGNER_PROTOCOL;
	v = (uint32_t)body[0] << 24 | (uint32_t)body[1] << 16 |
	    (uint32_t)body[2] << 8 | (uint32_t)body[3];
	if (v == 0 || v > SIGNER_MAX_ERR)
		return ERR_SIGNER_PROTOCOL;
	return -(int)v;
}

int
signer_start(
    struct signer **out, const char *key_path, const struct cert_limits *lim)
{
	struct signer *s = NULL;
	struct cert_limits limits;
	const uint8_t *blob;
	uint8_t *body = NULL, type;
	size_t bodylen, bloblen;
	int r = ERR_INTERNAL, sv[2] = {-1, -1}, mutex_ok = 0;
	pid_t pid;

	if (out != NULL)
		*out = NULL;
	ENSURE(out != NULL && key_path != NULL && lim != NULL, ERR_INVALID_ARG);
	limits = *lim;
	ENSURE((s = calloc(1, sizeof(*s))) != NULL, ERR_ALLOC);
	s->fd = -1;
	s->pid = -1;
	ENSURE(pthread_mutex_init(&s->lock, NULL) == 0, ERR_SYSTEM);
	mutex_ok = 1;
	ENSURE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0,
	    ERR_SYSTEM);
	ENSURE((pid = fork()) >= 0, ERR_SYSTEM);
	if (pid == 0) {
		(void)close(sv[0]);
		child_main(sv[1], key_path, &limits);
	}
	s->pid = pid;
	(void)close(sv[1]);
	sv[1] = -1;
	s->fd = sv[0];
	sv[0] = -1;

	r = msg_recv(s->fd, &type, &body, &bodylen,
	    now_ms() + SIGNER_START_TIMEOUT_MS, NULL);
	if (r != 0) {
		/* Timeout, crash or garbage: the child is no use. */
		if (r != ERR_SIGNER_DEAD)
			r = ERR_SIGNER_PROTOCOL;
		goto out;
	}
	if (type == SIGNER_MSG_ERROR) {
		r = parent_error_code(body, bodylen);
		goto out;
	}
	ENSURE(type == SIGNER_MSG_READY, ERR_SIGNER_PROTOCOL);
	if (body_one_string(body, bodylen, &blob, &bloblen) != 0) {
		r = ERR_SIGNER_PROTOCOL;
		goto out;
	}
	TRY(pubkey_from_blob(&s->ca, blob, bloblen));
	*out = s;
	s = NULL;
	r = 0;
out:
	free(body);
	if (sv[0] >= 0)
		(void)close(sv[0]);
	if (sv[1] >= 0)
		(void)close(sv[1]);
	if (s != NULL) {
		if (s->fd >= 0)
			(void)close(s->fd);
		if (s->pid > 0 && r != 0) {
			parent_mark_dead(s);
			parent_reap(s, SIGNER_STOP_TIMEOUT_MS);
		}
		pubkey_free(s->ca);
		if (mutex_ok)
			(void)pthread_mutex_destroy(&s->lock);
		free(s);
	}
	return r;
}

int
signer_sign(struct signer *s, uint8_t **sig, size_t *siglen, const uint8_t *tbs,
    size_t tbslen)
{
	const uint8_t *p;
	uint8_t *body = NULL, type, *copy = NULL;
	size_t bodylen = 0, plen;
	int r = ERR_INTERNAL, locked = 0;

	if (sig != NULL)
		*sig = NULL;
	if (siglen != NULL)
		*siglen = 0;
	ENSURE(s != NULL && sig != NULL && siglen != NULL && tbs != NULL,
	    ERR_INVALID_ARG);
	/* header, type, string length, body */
	ENSURE(
	    tbslen <= SIGNER_MAX_MSG - SIGNER_HDR_LEN - 1 - 4, ERR_TOO_LARGE);
	ENSURE(pthread_mutex_lock(&s->lock) == 0, ERR_SYSTEM);
	locked = 1;
	ENSURE(!s->dead, ERR_SIGNER_DEAD);
	if ((r = msg_send_string(s->fd, SIGNER_MSG_SIGN_REQ, tbs, tbslen)) !=
	    0) {
		if (r == ERR_SIGNER_DEAD)
			parent_mark_dead(s);
		goto out;
	}
	r = msg_recv(s->fd, &type, &body, &bodylen,
	    now_ms() + SIGNER_REPLY_TIMEOUT_MS, NULL);
	if (r != 0) {
		parent_mark_dead(s);
		if (r != ERR_ALLOC)
			r = ERR_SIGNER_DEAD;
		goto out;
	}
	if (type == SIGNER_MSG_ERROR) {
		r = parent_error_code(body, bodylen);
		if (r == ERR_SIGNER_PROTOCOL)
			parent_mark_dead(s);
		goto out;
	}
	if (type != SIGNER_MSG_SIGN_OK ||
	    body_one_string(body, bodylen, &p, &plen) != 0 || plen == 0) {
		parent_mark_dead(s);
		r = ERR_SIGNER_PROTOCOL;
		goto out;
	}
	ENSURE((copy = malloc(plen)) != NULL, ERR_ALLOC);
	memcpy(copy, p, plen);
	*sig = copy;
	*siglen = plen;
	copy = NULL;
	r = 0;
out:
	if (locked)
		(void)pthread_mutex_unlock(&s->lock);
	free(body);
	free(copy);
	return r;
}

int
signer_sign_fn(
    void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *tbs, size_t tbslen)
{
	return signer_sign(ctx, sig, siglen, tbs, tbslen);
}

int
signer_sign_cert(struct signer *s, struct cert *c)
{
	if (s == NULL || c == NULL)
		return ERR_INVALID_ARG;
	return cert_sign(c, signer_sign_fn, s);
}

const struct pubkey *
signer_public(const struct signer *s)
{
	return s != NULL ? s->ca : NULL;
}

pid_t
signer_pid(const struct signer *s)
{
	return s != NULL ? s->pid : -1;
}

void
signer_stop(struct signer *s)
{
	if (s == NULL)
		return;
	(void)pthread_mutex_lock(&s->lock);
	if (s->fd >= 0)
		(void)close(s->fd); /* the child sees EOF and exits */
	s->fd = -1;
	parent_reap(s, SIGNER_STOP_TIMEOUT_MS);
	(void)pthread_mutex_unlock(&s->lock);
	(void)pthread_mutex_destroy(&s->lock);
	pubkey_free(s->ca);
	free(s);
}
