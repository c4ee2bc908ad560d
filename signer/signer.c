/*
 * signer.c: the signer process of signer.h, the only process that holds
 * the user CA, host CA and ledger private keys (docs/key-custody.md), in
 * the manner of OpenSSH's privilege-separation monitor.
 *
 * signer_start() forks.  The child drops everything it does not need
 * (descriptors, core dumps, ptrace/dumpability), loads its keys through
 * child_key_load() (the one place a key source is interpreted), and then
 * answers length-prefixed requests on its end of a socketpair: it
 * re-parses every to-be-signed body with cert_from_tbs(), checks that the
 * body names the right one of its keys as the signature key, applies
 * cert_check_policy() (user) or cert_check_host_policy() (host) with its
 * own clock and the limits of its own policy copy, for a user certificate
 * then the caller-supplied policy's check for the (user, role) of the
 * request, and only then signs with cakey_sign().  Checkpoint texts it
 * writes itself (note.h); KRLs it signs only when krl_check() accepts
 * them.  It never signs bytes it cannot parse as one of those.  After
 * the keys are loaded a seccomp filter (libseccomp) allows only the calls
 * serving needs.  A malformed message ends the child; the parent then
 * sees ERR_SIGNER_DEAD.
 *
 * The parent side never opens a key file and keeps only the public keys
 * it was sent.  It serialises requests with a mutex and bounds how
 * long it waits for any answer, so a wedged child cannot hang callers
 * for ever.  Certificate encoding is cert.c's; key handling cakey.c's;
 * the wire buffer wire.c's.
 *
 * The child is forked from the calling process: call signer_start()
 * before starting other threads (jitcad starts the signer first).
 * signer_restart() forks from a process that has threads; the child then
 * relies on glibc resetting malloc's locks across fork() and on
 * OpenSSL 3 reseeding its DRBG when it sees a new pid.
 */
#define _GNU_SOURCE /* setresuid, setresgid, setgroups */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
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
#include <seccomp.h>

#include "signer/cakey.h"
#include "signer/cert.h"
#include "signer/krl.h"
#include "signer/note.h"
#include "signer/signer.h"
#include "signer/sshsig.h"
#include "signer/wire.h"

_Static_assert(
    SIGNER_MAX_KRL_MSG <= WIRE_SIZE_MAX && SIGNER_MAX_KRL < KRL_SIZE_MAX,
    "SIGN_KRL fits a wire buffer");

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

/* A caller waiting for its turn to read its answer. */
struct signer_reader {
	sem_t turn;
	struct signer_reader *next;
};

/*
 * Requests are pipelined: lock is held to send one (and for the child's
 * life cycle: spawn, restart, poll, stop), not for the answer.  The
 * child answers in the order it was asked, so each caller queues when
 * it sends and reads its own answer when it is at the head (rmu,
 * rhead); the one before posts its semaphore, so only that caller wakes.
 * The child works on the next request while the previous caller wakes.
 * A restart or stop first waits until no answer is outstanding
 * (inflight, rcv).
 */
struct signer {
	pthread_mutex_t lock;
	pthread_mutex_t rmu;
	pthread_cond_t rcv; /* inflight reached 0 */
	/* Callers whose answers are outstanding, in the order they were
	 * asked: the head reads next. */
	struct signer_reader *rhead, **rtail;
	unsigned inflight; /* sent, answer not read yet */
	int fd;
	pid_t pid;
	atomic_int alive; /* 0: the stream is unusable, the child gone */
	int reaped;
	struct pubkey *ca; /* user CA */
	struct pubkey *host; /* host CA, NULL when not held */
	struct pubkey *ledger; /* ledger key, NULL when not held */
	struct signer_params params; /* for restarts; strings below */
	char *key_path; /* owned */
	char *host_key_path; /* owned */
	char *ledger_key_path; /* owned */
	char *pkcs11_module; /* owned */
	char *pin_file; /* owned */
	char *policy_arg; /* owned */
};

/* The three public keys the child announces (READY). */
struct signer_pubs {
	struct pubkey *ca, *host, *ledger;
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
 * With a deadline, ready says the bytes are likely there already (the
 * rest of a message whose header came: the child sends each in one
 * send()): then a non-blocking recv() comes first and poll() only when
 * it finds nothing, one system call instead of two.
 */
static int
recv_all(
    int fd, uint8_t *p, size_t len, int64_t deadline, size_t *got, int ready)
{
	struct pollfd pfd;
	size_t off = 0;
	ssize_t n;
	int r = ERR_SIGNER_DEAD, left;

	while (off < len) {
		if (deadline >= 0 && ready) {
			n = recv(fd, p + off, len - off, MSG_DONTWAIT);
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			if (n == 0 ||
			    (errno != EAGAIN && errno != EWOULDBLOCK &&
				errno != EINTR))
				goto out;
		}
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

/* The largest message of a type, header included: SIGN_KRL carries a
 * whole KRL, everything else is small. */
static size_t
msg_cap(uint8_t type)
{
	return type == SIGNER_MSG_SIGN_KRL ? SIGNER_MAX_KRL_MSG
					   : SIGNER_MAX_MSG;
}

/* Frames up to this size are built on the stack (every message but
 * SIGN_KRL and its answer): no allocation, and still one send(). */
#define SIGNER_SMALL_MSG 2048

/* Frame and send one message: uint32 length, type, payload. */
static int
msg_send(int fd, uint8_t type, const struct wire *payload)
{
	uint8_t small[SIGNER_SMALL_MSG];
	struct wire *w = NULL;
	size_t plen = payload != NULL ? wire_len(payload) : 0;
	int r = ERR_INTERNAL;

	ENSURE(plen <= msg_cap(type) - SIGNER_HDR_LEN - 1, ERR_TOO_LARGE);
	if (plen <= sizeof(small) - SIGNER_HDR_LEN - 1) {
		uint32_t n = (uint32_t)(plen + 1);

		small[0] = (uint8_t)(n >> 24);
		small[1] = (uint8_t)(n >> 16);
		small[2] = (uint8_t)(n >> 8);
		small[3] = (uint8_t)n;
		small[SIGNER_HDR_LEN] = type;
		if (plen > 0)
			memcpy(small + SIGNER_HDR_LEN + 1, wire_ptr(payload),
			    plen);
		r = send_all(fd, small, SIGNER_HDR_LEN + 1 + plen);
		/* As wire_free() would have. */
		OPENSSL_cleanse(small, SIGNER_HDR_LEN + 1 + plen);
		return r;
	}
	ENSURE((w = wire_new(msg_cap(type))) != NULL, ERR_ALLOC);
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
 * Receive one message of at most max bytes (and at most its type's
 * msg_cap()).  *type gets the type byte, *body a new buffer with the
 * payload (may be empty; free it).  ERR_SIGNER_DEAD on EOF or timeout;
 * ERR_SIGNER_PROTOCOL on a bad length.  *clean_eof is set when the peer
 * closed exactly at a message boundary.  ready: the message is likely
 * there already (recv_all()).
 */
static int
msg_recv(int fd, uint8_t *type, uint8_t **body, size_t *bodylen,
    int64_t deadline, int *clean_eof, size_t max, int ready)
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
	if ((r = recv_all(fd, hdr, sizeof(hdr), deadline, &got, ready)) != 0) {
		if (got == 0 && clean_eof != NULL)
			*clean_eof = 1;
		goto out;
	}
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];
	ENSURE(len >= 1 && len <= max - SIGNER_HDR_LEN, ERR_SIGNER_PROTOCOL);
	ENSURE((buf = malloc(len)) != NULL, ERR_ALLOC);
	TRY(recv_all(fd, buf, len, deadline, NULL, 1));
	ENSURE(len <= msg_cap(buf[0]) - SIGNER_HDR_LEN, ERR_SIGNER_PROTOCOL);
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

/* The child's policy copy: what load() gave, replaced on RELOAD. */
struct child_policy {
	const struct signer_policy *ops;
	const char *arg;
	void *state;
	struct cert_limits lim;
};

/* (Re)load the policy; on failure the old copy stays. */
static int
child_policy_load(struct child_policy *cp)
{
	struct cert_limits lim;
	void *st = NULL;
	int r;

	memset(&lim, 0, sizeof(lim));
	if ((r = cp->ops->load(&st, &lim, cp->arg)) != 0)
		return r < 0 ? r : ERR_INTERNAL;
	if (cp->state != NULL)
		cp->ops->free(cp->state);
	cp->state = st;
	cp->lim = lim;
	return 0;
}

/* The child's keys: the user CA key always, the others when configured. */
struct child_keys {
	struct cakey *user;
	struct cakey *host;
	struct cakey *ledger;
};

/* 1 when k is one of the child's own public keys. */
static int
child_is_own_key(const struct child_keys *ks, const struct pubkey *k)
{
	return pubkey_equal(k, cakey_public(ks->user)) ||
	    (ks->host != NULL && pubkey_equal(k, cakey_public(ks->host))) ||
	    (ks->ledger != NULL && pubkey_equal(k, cakey_public(ks->ledger)));
}

/* Check and sign one to-be-signed body for (user, role). */
static int
child_sign(const struct child_keys *ks, const struct child_policy *cp,
    const char *user, const char *role, const uint8_t *tbs, size_t tbslen,
    uint8_t **sig, size_t *siglen)
{
	const struct cakey *k = ks->user;
	struct cert *c = NULL;
	struct cert_limits slack;
	time_t now;
	int r = ERR_INTERNAL;

	*sig = NULL;
	*siglen = 0;
	TRY(cert_from_tbs(&c, tbs, tbslen));
	ENSURE(c->ca_key != NULL && pubkey_equal(c->ca_key, cakey_public(k)),
	    ERR_CERT_WRONG_CA);
	ENSURE(!child_is_own_key(ks, c->key), ERR_KEY_IS_CA);
	ENSURE((now = time(NULL)) > 0, ERR_SYSTEM);
	/*
	 * The CA computed valid_after = its now - backdate a moment ago; a
	 * second boundary may lie between, so allow a few seconds of slack.
	 * Nothing jitca makes starts in the future: refuse that too.
	 */
	slack = cp->lim;
	slack.max_backdate += SIGNER_CLOCK_SLACK;
	ENSURE(c->valid_after <= (uint64_t)now + SIGNER_CLOCK_SLACK,
	    ERR_CERT_POSTDATED);
	TRY(cert_check_policy(c, &slack, (uint64_t)now));
	/* The role's own rules, from the child's copy of the policy. */
	TRY(cp->ops->check(cp->state, user, role, c, (uint64_t)now));
	TRY(cakey_sign(k, sig, siglen, tbs, tbslen));
	r = 0;
out:
	cert_free(c);
	return r;
}

/*
 * Check and sign one host certificate body for host.  The type comes
 * first, so that a user certificate sent here is named as such rather
 * than as one by another CA.
 */
static int
child_sign_host(const struct child_keys *ks, const struct child_policy *cp,
    const char *host, const uint8_t *tbs, size_t tbslen, uint8_t **sig,
    size_t *siglen)
{
	struct cert *c = NULL;
	struct cert_limits slack;
	size_t hlen = strlen(host);
	time_t now;
	int r = ERR_INTERNAL;

	*sig = NULL;
	*siglen = 0;
	ENSURE(ks->host != NULL, ERR_SIGNER_NO_KEY);
	TRY(cert_from_tbs(&c, tbs, tbslen));
	ENSURE(c->type == CERT_TYPE_HOST, ERR_CERT_NOT_HOST);
	ENSURE(c->ca_key != NULL &&
		pubkey_equal(c->ca_key, cakey_public(ks->host)),
	    ERR_CERT_WRONG_CA);
	ENSURE(!child_is_own_key(ks, c->key), ERR_KEY_IS_CA);
	ENSURE((now = time(NULL)) > 0, ERR_SYSTEM);
	slack = cp->lim;
	slack.max_backdate += SIGNER_CLOCK_SLACK;
	if (slack.host_max_ttl == 0)
		slack.host_max_ttl = SIGNER_HOST_MAX_TTL;
	slack.host_max_ttl += SIGNER_CLOCK_SLACK;
	ENSURE(c->valid_after <= (uint64_t)now + SIGNER_CLOCK_SLACK,
	    ERR_CERT_POSTDATED);
	TRY(cert_check_host_policy(c, &slack, (uint64_t)now));
	/* The key id names the host the request is for (the record). */
	ENSURE(strncmp(c->key_id, host, hlen) == 0 && c->key_id[hlen] == ':',
	    ERR_SIGNER_KEY_ID);
	TRY(cakey_sign(ks->host, sig, siglen, tbs, tbslen));
	r = 0;
out:
	cert_free(c);
	return r;
}

/* cakey_sign() as a note_sign_fn / sshsig_sign_fn. */
static int
child_key_sign_fn(
    void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *data, size_t len)
{
	return cakey_sign(ctx, sig, siglen, data, len);
}

/*
 * The checkpoint for (origin, size, root), written here and signed by
 * the ledger key: *note the signed note, *sig its SSHSIG (both new).
 */
static int
child_sign_checkpoint(const struct child_keys *ks, const char *origin,
    uint64_t size, const uint8_t root[32], char **note, size_t *notelen,
    char **sig, size_t *siglen)
{
	struct note_verifier v;
	const struct pubkey *pub;
	char *text = NULL;
	size_t textlen = 0;
	int r = ERR_INTERNAL;

	*note = *sig = NULL;
	*notelen = *siglen = 0;
	ENSURE(ks->ledger != NULL, ERR_SIGNER_NO_KEY);
	pub = cakey_public(ks->ledger);
	TRY(note_checkpoint_text(&text, &textlen, origin, size, root, NULL, 0));
	TRY(note_verifier_from_pubkey(&v, origin, pub));
	TRY(note_sign(
	    note, notelen, text, textlen, &v, child_key_sign_fn, ks->ledger));
	TRY(sshsig_sign(sig, siglen, pub, SIGNER_NS_CHECKPOINT,
	    (const uint8_t *)*note, *notelen, child_key_sign_fn, ks->ledger));
	r = 0;
out:
	free(text);
	if (r != 0) {
		free(*note);
		free(*sig);
		*note = *sig = NULL;
		*notelen = *siglen = 0;
	}
	return r;
}

/* The SSHSIG of a KRL that krl_check() accepts; *sig new. */
static int
child_sign_krl(const struct child_keys *ks, const uint8_t *krl, size_t len,
    char **sig, size_t *siglen)
{
	int r = ERR_INTERNAL;

	*sig = NULL;
	*siglen = 0;
	ENSURE(ks->ledger != NULL, ERR_SIGNER_NO_KEY);
	/* Refuses signature (4) and extension (255) sections too. */
	ENSURE(krl_check(krl, len) == 0, ERR_SIGNER_NOT_KRL);
	TRY(sshsig_sign(sig, siglen, cakey_public(ks->ledger), SIGNER_NS_KRL,
	    krl, len, child_key_sign_fn, ks->ledger));
	r = 0;
out:
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

/* Send the answer r == 0 ? type with payload w : ERROR r. */
static int
child_answer(int fd, int r, uint8_t type, const struct wire *w)
{
	return r == 0 ? msg_send(fd, type, w) : child_send_error(fd, r);
}

/* A name of 1..max bytes from w (new, NUL-terminated; no NUL inside). */
static int
get_name(struct wire *w, char **out, size_t max)
{
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = wire_get_cstring(w, out, &len)) != 0)
		return r;
	if (len == 0 || len > max) {
		free(*out);
		*out = NULL;
		return ERR_SIGNER_PROTOCOL;
	}
	return 0;
}

/* Serve SIGN_USER: string user, string role, string tbs. */
static int
child_do_sign_user(int fd, const struct child_keys *ks,
    const struct child_policy *cp, struct wire *in)
{
	struct wire *w = NULL;
	char *user = NULL, *role = NULL;
	const uint8_t *tbs;
	uint8_t *sig = NULL;
	size_t tbslen, siglen = 0;
	int r = ERR_INTERNAL, rr;

	if (get_name(in, &user, SIGNER_MAX_NAME) != 0 ||
	    get_name(in, &role, SIGNER_MAX_NAME) != 0 ||
	    wire_get_string_direct(in, &tbs, &tbslen) != 0 ||
	    wire_len(in) != 0) {
		r = ERR_SIGNER_PROTOCOL;
		goto out;
	}
	ENSURE((w = wire_new(SIGNER_MAX_MSG)) != NULL, ERR_ALLOC);
	rr = child_sign(ks, cp, user, role, tbs, tbslen, &sig, &siglen);
	if (rr == 0)
		TRY(wire_put_string(w, sig, siglen));
	r = child_answer(fd, rr, SIGNER_MSG_SIGN_OK, w);
out:
	wire_free(w);
	free(sig);
	free(user);
	free(role);
	return r;
}

/* Serve SIGN_HOST: string host, string tbs. */
static int
child_do_sign_host(int fd, const struct child_keys *ks,
    const struct child_policy *cp, struct wire *in)
{
	struct wire *w = NULL;
	char *host = NULL;
	const uint8_t *tbs;
	uint8_t *sig = NULL;
	size_t tbslen, siglen = 0;
	int r = ERR_INTERNAL, rr;

	if (get_name(in, &host, SIGNER_MAX_HOST) != 0 ||
	    wire_get_string_direct(in, &tbs, &tbslen) != 0 ||
	    wire_len(in) != 0) {
		r = ERR_SIGNER_PROTOCOL;
		goto out;
	}
	ENSURE((w = wire_new(SIGNER_MAX_MSG)) != NULL, ERR_ALLOC);
	rr = child_sign_host(ks, cp, host, tbs, tbslen, &sig, &siglen);
	if (rr == 0)
		TRY(wire_put_string(w, sig, siglen));
	r = child_answer(fd, rr, SIGNER_MSG_SIGN_OK, w);
out:
	wire_free(w);
	free(sig);
	free(host);
	return r;
}

/* Serve SIGN_CHECKPOINT: string origin, uint64 size, string root[32]. */
static int
child_do_sign_checkpoint(int fd, const struct child_keys *ks, struct wire *in)
{
	struct wire *w = NULL;
	char *origin = NULL, *note = NULL, *sig = NULL;
	const uint8_t *root;
	size_t rootlen, notelen = 0, siglen = 0;
	uint64_t size;
	int r = ERR_INTERNAL, rr;

	if (get_name(in, &origin, SIGNER_MAX_ORIGIN) != 0 ||
	    wire_get_u64(in, &size) != 0 ||
	    wire_get_string_direct(in, &root, &rootlen) != 0 || rootlen != 32 ||
	    wire_len(in) != 0) {
		r = ERR_SIGNER_PROTOCOL;
		goto out;
	}
	ENSURE((w = wire_new(SIGNER_MAX_MSG)) != NULL, ERR_ALLOC);
	rr = child_sign_checkpoint(
	    ks, origin, size, root, &note, &notelen, &sig, &siglen);
	if (rr == 0) {
		TRY(wire_put_string(w, (const uint8_t *)note, notelen));
		TRY(wire_put_string(w, (const uint8_t *)sig, siglen));
	}
	r = child_answer(fd, rr, SIGNER_MSG_CHECKPOINT_OK, w);
out:
	wire_free(w);
	free(note);
	free(sig);
	free(origin);
	return r;
}

/* Serve SIGN_KRL: string krl. */
static int
child_do_sign_krl(int fd, const struct child_keys *ks, struct wire *in)
{
	struct wire *w = NULL;
	const uint8_t *krl;
	char *sig = NULL;
	size_t krllen, siglen = 0;
	int r = ERR_INTERNAL, rr;

	if (wire_get_string_direct(in, &krl, &krllen) != 0 ||
	    wire_len(in) != 0) {
		r = ERR_SIGNER_PROTOCOL;
		goto out;
	}
	ENSURE((w = wire_new(SIGNER_MAX_MSG)) != NULL, ERR_ALLOC);
	rr = child_sign_krl(ks, krl, krllen, &sig, &siglen);
	if (rr == 0)
		TRY(wire_put_string(w, (const uint8_t *)sig, siglen));
	r = child_answer(fd, rr, SIGNER_MSG_KRL_OK, w);
out:
	wire_free(w);
	free(sig);
	return r;
}

/* The three public key blobs (empty for a key not held), as READY
 * carries them. */
static int
child_put_pubs(struct wire *w, const struct child_keys *ks)
{
	const struct cakey *k[3] = {ks->user, ks->host, ks->ledger};
	const uint8_t *blob;
	size_t i, len;
	int r = ERR_INTERNAL;

	for (i = 0; i < 3; i++) {
		if (k[i] == NULL) {
			TRY(wire_put_string(w, NULL, 0));
			continue;
		}
		blob = pubkey_blob(cakey_public(k[i]), &len);
		TRY(wire_put_string(w, blob, len));
	}
	r = 0;
out:
	return r;
}

/* Send READY. */
static int
child_send_pubs(int fd, uint8_t type, const struct child_keys *ks)
{
	struct wire *w = NULL;
	int r = ERR_INTERNAL;

	ENSURE((w = wire_new(SIGNER_MAX_MSG)) != NULL, ERR_ALLOC);
	TRY(child_put_pubs(w, ks));
	TRY(msg_send(fd, type, w));
	r = 0;
out:
	wire_free(w);
	return r;
}

/*
 * The child's reading side.  The child is the only reader of its socket,
 * so it may read ahead: one recv() takes whatever the parent has sent
 * (one whole request, or several when callers pipeline), and each
 * message is used in place.  That is one system call and no allocation
 * per request, where msg_recv() makes two calls (header, then body) and
 * a copy.  The checks are msg_recv()'s, in the same order.
 */
struct child_rbuf {
	uint8_t *d;
	size_t cap; /* allocated */
	size_t off; /* first unread byte */
	size_t len; /* unread bytes */
	size_t used; /* bytes of the message last returned */
};

/* What the buffer holds between requests: any message but SIGN_KRL. */
#define CHILD_RBUF_CAP SIGNER_MAX_MSG

/* Read until at least need unread bytes are there (need <=
 * SIGNER_MAX_KRL_MSG); ERR_SIGNER_DEAD on EOF or error. */
static int
rbuf_fill(int fd, struct child_rbuf *b, size_t need)
{
	uint8_t *nd;
	ssize_t n;
	size_t ncap;

	if (need > b->cap) {
		/* A SIGN_KRL: room for exactly this message. */
		ncap = need;
		if ((nd = malloc(ncap)) == NULL)
			return ERR_ALLOC;
		if (b->len > 0)
			memcpy(nd, b->d + b->off, b->len);
		OPENSSL_cleanse(b->d, b->cap);
		free(b->d);
		b->d = nd;
		b->cap = ncap;
		b->off = 0;
	} else if (b->off + need > b->cap) {
		/* The start of a message near the end: move it down. */
		memmove(b->d, b->d + b->off, b->len);
		/* What is left of the old copy (all before it is wiped). */
		OPENSSL_cleanse(b->d + b->len, b->off);
		b->off = 0;
	}
	while (b->len < need) {
		n = recv(
		    fd, b->d + b->off + b->len, b->cap - b->off - b->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ERR_SIGNER_DEAD;
		b->len += (size_t)n;
	}
	return 0;
}

/* Drop the message last returned (wiped), and a grown buffer with it. */
static void
rbuf_consume(struct child_rbuf *b)
{
	uint8_t *nd;

	OPENSSL_cleanse(b->d + b->off, b->used);
	b->off += b->used;
	b->len -= b->used;
	b->used = 0;
	if (b->len == 0) {
		b->off = 0;
		/* After a large KRL, back to the usual size. */
		if (b->cap > CHILD_RBUF_CAP &&
		    (nd = malloc(CHILD_RBUF_CAP)) != NULL) {
			OPENSSL_cleanse(b->d, b->cap);
			free(b->d);
			b->d = nd;
			b->cap = CHILD_RBUF_CAP;
		}
	}
}

/* msg_recv() for the child (no deadline, max SIGNER_MAX_KRL_MSG): *body
 * is borrowed from b until rbuf_consume(). */
static int
child_msg_recv(int fd, struct child_rbuf *b, uint8_t *type,
    const uint8_t **body, size_t *bodylen, int *clean_eof)
{
	const uint8_t *h;
	uint32_t len;
	int r;

	*type = 0;
	*body = NULL;
	*bodylen = 0;
	*clean_eof = 0;
	if ((r = rbuf_fill(fd, b, SIGNER_HDR_LEN)) != 0) {
		if (b->len == 0 && r == ERR_SIGNER_DEAD)
			*clean_eof = 1;
		return r;
	}
	h = b->d + b->off;
	len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | (uint32_t)h[3];
	if (len < 1 || len > SIGNER_MAX_KRL_MSG - SIGNER_HDR_LEN)
		return ERR_SIGNER_PROTOCOL;
	if ((r = rbuf_fill(fd, b, SIGNER_HDR_LEN + (size_t)len)) != 0)
		return r;
	h = b->d + b->off;
	if (len > msg_cap(h[SIGNER_HDR_LEN]) - SIGNER_HDR_LEN)
		return ERR_SIGNER_PROTOCOL;
	*type = h[SIGNER_HDR_LEN];
	*body = h + SIGNER_HDR_LEN + 1;
	*bodylen = len - 1;
	b->used = SIGNER_HDR_LEN + (size_t)len;
	return 0;
}

/* Answer requests until EOF; returns the exit status. */
static int
child_serve(int fd, const struct child_keys *ks, struct child_policy *cp)
{
	struct child_rbuf rb = {0};
	struct wire *in = NULL;
	const uint8_t *body = NULL;
	uint8_t type;
	size_t bodylen;
	int r, clean_eof, status = SIGNER_EXIT_PROTOCOL;

	if ((rb.d = malloc(CHILD_RBUF_CAP)) == NULL)
		return status;
	rb.cap = CHILD_RBUF_CAP;
	for (;;) {
		r = child_msg_recv(fd, &rb, &type, &body, &bodylen, &clean_eof);
		if (r != 0) {
			status =
			    clean_eof ? SIGNER_EXIT_EOF : SIGNER_EXIT_PROTOCOL;
			break;
		}
		if ((in = wire_from(body, bodylen)) == NULL)
			goto out;
		switch (type) {
		case SIGNER_MSG_SIGN_USER:
			r = child_do_sign_user(fd, ks, cp, in);
			break;
		case SIGNER_MSG_SIGN_HOST:
			r = child_do_sign_host(fd, ks, cp, in);
			break;
		case SIGNER_MSG_SIGN_CHECKPOINT:
			r = child_do_sign_checkpoint(fd, ks, in);
			break;
		case SIGNER_MSG_SIGN_KRL:
			r = child_do_sign_krl(fd, ks, in);
			break;
		case SIGNER_MSG_RELOAD:
			if (bodylen != 0)
				goto out;
			if ((r = child_policy_load(cp)) == 0)
				r = msg_send(fd, SIGNER_MSG_RELOAD_OK, NULL);
			else
				r = child_send_error(fd, r);
			break;
		default:
			goto out;
		}
		wire_free(in);
		in = NULL;
		rbuf_consume(&rb);
		/* A malformed request, the parent gone, or out of memory. */
		if (r != 0)
			goto out;
	}
out:
	wire_free(in);
	OPENSSL_cleanse(rb.d, rb.cap);
	free(rb.d);
	return status;
}

/*
 * The system calls the child may make once its key is loaded: socket I/O
 * on its one descriptor, memory, time, randomness, reading jitca.json
 * again on RELOAD (openat read-only), what a file-based PKCS#11 module
 * needs to sign and to re-initialise after its token went away (reading,
 * locking and listing files: fcntl, getdents64; its syslog() socket
 * fails), and exiting.  A module
 * that talks to its device over the network (YubiHSM 2's HTTP connector)
 * cannot: socket and connect kill the process (docs/key-custody.md).  Anything
 * else fails with EPERM; the calls an exploit wants first (exec, ptrace, new
 * processes or sockets, uid changes) kill the process.
 */
static int
child_seccomp(int allow_network)
{
	static const int allow[] = {SCMP_SYS(read), SCMP_SYS(write),
	    SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(recvfrom),
	    SCMP_SYS(sendto), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	    SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(close), SCMP_SYS(fstat),
	    SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(lseek),
	    SCMP_SYS(getcwd), SCMP_SYS(readlink), SCMP_SYS(brk), SCMP_SYS(mmap),
	    SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
	    SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(getrandom),
	    SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	    SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(rt_sigreturn),
	    SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	    SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall), SCMP_SYS(exit),
	    SCMP_SYS(exit_group),
	    /* A PKCS#11 module (SoftHSM2) locks and lists its token's
	     * files on every signature and when it reconnects. */
	    SCMP_SYS(fcntl), SCMP_SYS(getdents64)};
	static const int deny[] = {SCMP_SYS(execve), SCMP_SYS(execveat),
	    SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
	    SCMP_SYS(process_vm_writev), SCMP_SYS(fork), SCMP_SYS(vfork),
	    SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(socketpair),
	    SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept),
	    SCMP_SYS(accept4), SCMP_SYS(setuid), SCMP_SYS(setgid),
	    SCMP_SYS(setreuid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
	    SCMP_SYS(setgroups), SCMP_SYS(prctl), SCMP_SYS(kill),
	    SCMP_SYS(tgkill)};
	static const int net[] = {SCMP_SYS(connect), SCMP_SYS(setsockopt),
	    SCMP_SYS(getsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	    SCMP_SYS(shutdown)};
	scmp_filter_ctx ctx;
	size_t i;
	int r = ERR_SYSTEM;

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL)
		return ERR_SYSTEM;
	for (i = 0; i < sizeof(allow) / sizeof(allow[0]); i++) {
		if (allow[i] >= 0 &&
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allow[i], 0) != 0)
			goto out;
	}
	for (i = 0; i < sizeof(deny) / sizeof(deny[0]); i++) {
		if (deny[i] >= 0 &&
		    seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, deny[i], 0) !=
			0)
			goto out;
	}
	/* New sockets kill, but for syslog(): a PKCS#11 module (SoftHSM2)
	 * logs its errors there, e.g. when its token went away; its
	 * AF_UNIX socket gets the default EPERM and glibc drops the
	 * message. */
	if (!allow_network) {
		if (seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS,
			SCMP_SYS(socket), 1,
			SCMP_A0(SCMP_CMP_NE, AF_UNIX)) != 0 ||
		    seccomp_rule_add(
			ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(connect), 0) != 0)
			goto out;
	} else {
		/* TCP to the module's device (pkcs11_allow_network). */
		for (i = 0; i < sizeof(net) / sizeof(net[0]); i++)
			if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, net[i], 0) !=
			    0)
				goto out;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
			SCMP_A0(SCMP_CMP_EQ, AF_INET)) != 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
			SCMP_A0(SCMP_CMP_EQ, AF_INET6)) != 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS,
			SCMP_SYS(socket), 1,
			SCMP_A0(SCMP_CMP_GT, AF_INET6)) != 0)
			goto out;
	}
	/* Files only for reading (jitca.json on RELOAD). */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
		SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC,
		    O_RDONLY)) != 0)
		goto out;
	if (seccomp_load(ctx) != 0)
		goto out;
	r = 0;
out:
	seccomp_release(ctx);
	return r;
}

/*
 * Load "a key" from its configured source, for all three keys alike:
 * the path of a PKCS#8 PEM file (cakey_load(): mode 0600, our own) or a
 * "pkcs11:" URI naming a key in a token, opened with the configured
 * module and PIN file (p11_key_open(), which applies the same owner and
 * mode checks to the PIN file).  Here, after the fork and before
 * seccomp: the module is loaded and its session opened in this process
 * only.
 */
static int
child_key_load(
    struct cakey **out, const char *source, const struct signer_params *p)
{
	*out = NULL;
	if (source == NULL || *source == '\0')
		return ERR_INVALID_ARG;
	return cakey_open(out, source, p->pkcs11_module, p->pin_file);
}

/* Load the configured keys into ks: the ledger key must be Ed25519, and
 * no two sources may hold the same key. */
static int
child_keys_load(struct child_keys *ks, const struct signer_params *p)
{
	const struct pubkey *u, *h = NULL, *l = NULL;
	int r = ERR_INTERNAL;

	TRY(child_key_load(&ks->user, p->key_path, p));
	if (p->host_key_path != NULL)
		TRY(child_key_load(&ks->host, p->host_key_path, p));
	if (p->ledger_key_path != NULL)
		TRY(child_key_load(&ks->ledger, p->ledger_key_path, p));
	u = cakey_public(ks->user);
	if (ks->host != NULL)
		h = cakey_public(ks->host);
	if (ks->ledger != NULL) {
		l = cakey_public(ks->ledger);
		ENSURE(pubkey_type(l) == KEY_ED25519, ERR_LEDGER_KEY_TYPE);
	}
	ENSURE((h == NULL || !pubkey_equal(u, h)) &&
		(l == NULL || !pubkey_equal(u, l)) &&
		(h == NULL || l == NULL || !pubkey_equal(h, l)),
	    ERR_SIGNER_SAME_KEY);
	r = 0;
out:
	return r;
}

static void
child_keys_free(struct child_keys *ks)
{
	cakey_free(ks->user);
	cakey_free(ks->host);
	cakey_free(ks->ledger);
	memset(ks, 0, sizeof(*ks));
}

/* The child: never returns. */
__attribute__((noreturn)) static void
child_main(int fd, const struct signer_params *p)
{
	struct rlimit rl = {0, 0};
	struct child_policy cp;
	struct child_keys ks;
	sigset_t mask;
	int r, status = SIGNER_EXIT_SETUP;

	close_other_fds(fd);
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
	/* The key's owner, not the service's uid (started as root). */
	if (p->run_as &&
	    (setgroups(0, NULL) != 0 ||
		setresgid(p->gid, p->gid, p->gid) != 0 ||
		setresuid(p->uid, p->uid, p->uid) != 0 || getuid() != p->uid ||
		geteuid() != p->uid)) {
		(void)child_send_error(fd, ERR_SYSTEM);
		_exit(SIGNER_EXIT_SETUP);
	}
	/* Never leave the key in a core file or let others ptrace us
	 * (after the uid change, which resets dumpability). */
	if (setrlimit(RLIMIT_CORE, &rl) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		(void)child_send_error(fd, ERR_SYSTEM);
		_exit(SIGNER_EXIT_SETUP);
	}
	memset(&cp, 0, sizeof(cp));
	cp.ops = p->policy;
	cp.arg = p->policy_arg;
	if ((r = child_policy_load(&cp)) != 0) {
		(void)child_send_error(fd, r);
		_exit(SIGNER_EXIT_SETUP);
	}
	memset(&ks, 0, sizeof(ks));
	if ((r = child_keys_load(&ks, p)) != 0) {
		(void)child_send_error(fd, r);
		child_keys_free(&ks);
		_exit(SIGNER_EXIT_KEY);
	}
	if ((r = child_seccomp(p->pkcs11_allow_network)) != 0) {
		(void)child_send_error(fd, r);
		_exit(SIGNER_EXIT_SETUP);
	}
	if (child_send_pubs(fd, SIGNER_MSG_READY, &ks) == 0)
		status = child_serve(fd, &ks, &cp);
	child_keys_free(&ks);
	cp.ops->free(cp.state);
	(void)close(fd);
	_exit(status);
}

/* ---- the parent --------------------------------------------------- */

/* Kill the child after a broken exchange; it is reaped by signer_poll(),
 * signer_restart() or signer_stop().  Caller holds the lock (or is
 * single-threaded). */
static void
parent_mark_dead(struct signer *s)
{
	if (atomic_load(&s->alive) && s->pid > 0 && !s->reaped)
		(void)kill(s->pid, SIGKILL);
	atomic_store(&s->alive, 0);
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
	atomic_store(&s->alive, 0);
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

static void
pubs_free(struct signer_pubs *k)
{
	pubkey_free(k->ca);
	pubkey_free(k->host);
	pubkey_free(k->ledger);
	memset(k, 0, sizeof(*k));
}

/* Parse the three strings of READY; an empty one is a key not
 * held (the user CA key is always held).  *k new. */
static int
pubs_parse(struct signer_pubs *k, const uint8_t *body, size_t len)
{
	struct pubkey **dst[3] = {&k->ca, &k->host, &k->ledger};
	struct wire *w = NULL;
	const uint8_t *blob;
	size_t bloblen, i;
	int r = ERR_INTERNAL;

	memset(k, 0, sizeof(*k));
	ENSURE((w = wire_from(body, len)) != NULL, ERR_ALLOC);
	for (i = 0; i < 3; i++) {
		if (wire_get_string_direct(w, &blob, &bloblen) != 0 ||
		    (i == 0 && bloblen == 0)) {
			r = ERR_SIGNER_PROTOCOL;
			goto out;
		}
		if (bloblen > 0 &&
		    pubkey_from_blob(dst[i], blob, bloblen) != 0) {
			r = ERR_SIGNER_PROTOCOL;
			goto out;
		}
		/* Every certificate is verified under a copy of one of
		 * these (cert_sign()): let the copies reuse its EVP_PKEY. */
		if (bloblen > 0)
			TRY(pubkey_share(*dst[i]));
	}
	ENSURE(wire_len(w) == 0, ERR_SIGNER_PROTOCOL);
	r = 0;
out:
	wire_free(w);
	if (r != 0)
		pubs_free(k);
	return r;
}

/* Both absent, or both present and equal. */
static int
pub_same(const struct pubkey *a, const struct pubkey *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return pubkey_equal(a, b);
}

/*
 * Fork a child for s's parameters and wait for READY; on success s->fd,
 * s->pid are the new child's and *pub (new) its public keys.  Caller
 * holds the lock (or is single-threaded).
 */
static int
parent_spawn(struct signer *s, struct signer_pubs *pub)
{
	uint8_t *body = NULL, type;
	size_t bodylen;
	int r = ERR_INTERNAL, sv[2] = {-1, -1};
	pid_t pid;

	memset(pub, 0, sizeof(*pub));
	ENSURE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0,
	    ERR_SYSTEM);
	ENSURE((pid = fork()) >= 0, ERR_SYSTEM);
	if (pid == 0) {
		(void)close(sv[0]);
		child_main(sv[1], &s->params);
	}
	s->pid = pid;
	s->reaped = 0;
	(void)close(sv[1]);
	sv[1] = -1;
	s->fd = sv[0];
	sv[0] = -1;

	r = msg_recv(s->fd, &type, &body, &bodylen,
	    now_ms() + SIGNER_START_TIMEOUT_MS, NULL, SIGNER_MAX_MSG, 0);
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
	TRY(pubs_parse(pub, body, bodylen));
	/* A child holding fewer or more keys than asked is not ours. */
	ENSURE((pub->host != NULL) == (s->params.host_key_path != NULL) &&
		(pub->ledger != NULL) == (s->params.ledger_key_path != NULL),
	    ERR_SIGNER_PROTOCOL);
	atomic_store(&s->alive, 1);
	r = 0;
out:
	free(body);
	if (sv[0] >= 0)
		(void)close(sv[0]);
	if (sv[1] >= 0)
		(void)close(sv[1]);
	if (r != 0) {
		pubs_free(pub);
		if (s->fd >= 0)
			(void)close(s->fd);
		s->fd = -1;
		if (s->pid > 0) {
			(void)kill(s->pid, SIGKILL);
			parent_reap(s, SIGNER_STOP_TIMEOUT_MS);
		}
	}
	return r;
}

static void
params_free(struct signer *s)
{
	free(s->key_path);
	free(s->host_key_path);
	free(s->ledger_key_path);
	free(s->pkcs11_module);
	free(s->pin_file);
	free(s->policy_arg);
	s->key_path = s->host_key_path = s->ledger_key_path = NULL;
	s->pkcs11_module = s->pin_file = NULL;
	s->policy_arg = NULL;
	memset(&s->params, 0, sizeof(s->params));
}

int
signer_start(struct signer **out, const struct signer_params *p)
{
	struct signer *s = NULL;
	struct signer_pubs pub;
	int r = ERR_INTERNAL, mutex_ok = 0;

	if (out != NULL)
		*out = NULL;
	ENSURE(out != NULL && p != NULL && p->key_path != NULL &&
		p->policy != NULL && p->policy->load != NULL &&
		p->policy->check != NULL && p->policy->free != NULL,
	    ERR_INVALID_ARG);
	ENSURE((s = calloc(1, sizeof(*s))) != NULL, ERR_ALLOC);
	s->fd = -1;
	s->pid = -1;
	s->reaped = 1;
	atomic_init(&s->alive, 0);
	s->params = *p;
	ENSURE((s->key_path = strdup(p->key_path)) != NULL, ERR_ALLOC);
	ENSURE(p->host_key_path == NULL ||
		(s->host_key_path = strdup(p->host_key_path)) != NULL,
	    ERR_ALLOC);
	ENSURE(p->ledger_key_path == NULL ||
		(s->ledger_key_path = strdup(p->ledger_key_path)) != NULL,
	    ERR_ALLOC);
	ENSURE(p->pkcs11_module == NULL ||
		(s->pkcs11_module = strdup(p->pkcs11_module)) != NULL,
	    ERR_ALLOC);
	ENSURE(
	    p->pin_file == NULL || (s->pin_file = strdup(p->pin_file)) != NULL,
	    ERR_ALLOC);
	ENSURE(p->policy_arg == NULL ||
		(s->policy_arg = strdup(p->policy_arg)) != NULL,
	    ERR_ALLOC);
	s->params.pkcs11_module = s->pkcs11_module;
	s->params.pin_file = s->pin_file;
	s->params.key_path = s->key_path;
	s->params.host_key_path = s->host_key_path;
	s->params.ledger_key_path = s->ledger_key_path;
	s->params.policy_arg = s->policy_arg;
	ENSURE(pthread_mutex_init(&s->lock, NULL) == 0, ERR_SYSTEM);
	if (pthread_mutex_init(&s->rmu, NULL) != 0) {
		(void)pthread_mutex_destroy(&s->lock);
		r = ERR_SYSTEM;
		goto out;
	}
	if (pthread_cond_init(&s->rcv, NULL) != 0) {
		(void)pthread_mutex_destroy(&s->rmu);
		(void)pthread_mutex_destroy(&s->lock);
		r = ERR_SYSTEM;
		goto out;
	}
	mutex_ok = 1;
	s->rtail = &s->rhead;
	TRY(parent_spawn(s, &pub));
	s->ca = pub.ca;
	s->host = pub.host;
	s->ledger = pub.ledger;
	*out = s;
	s = NULL;
	r = 0;
out:
	if (s != NULL) {
		params_free(s);
		pubkey_free(s->ca);
		pubkey_free(s->host);
		pubkey_free(s->ledger);
		if (mutex_ok) {
			(void)pthread_cond_destroy(&s->rcv);
			(void)pthread_mutex_destroy(&s->rmu);
			(void)pthread_mutex_destroy(&s->lock);
		}
		free(s);
	}
	return r;
}

/* Wait until every answer asked for has been read (or its caller
 * failed).  Called with lock held, so nobody sends meanwhile; the child
 * was marked dead first, so the readers end soon. */
static void
parent_drain(struct signer *s)
{
	(void)pthread_mutex_lock(&s->rmu);
	while (s->inflight > 0)
		(void)pthread_cond_wait(&s->rcv, &s->rmu);
	(void)pthread_mutex_unlock(&s->rmu);
}

int
signer_restart(struct signer *s)
{
	struct signer_pubs pub;
	int r = ERR_INTERNAL, locked = 0;

	memset(&pub, 0, sizeof(pub));
	ENSURE(s != NULL, ERR_INVALID_ARG);
	ENSURE(pthread_mutex_lock(&s->lock) == 0, ERR_SYSTEM);
	locked = 1;
	parent_mark_dead(s);
	parent_drain(s);
	if (s->fd >= 0)
		(void)close(s->fd);
	s->fd = -1;
	parent_reap(s, SIGNER_STOP_TIMEOUT_MS);
	TRY(parent_spawn(s, &pub));
	if (!pub_same(pub.ca, s->ca) || !pub_same(pub.host, s->host) ||
	    !pub_same(pub.ledger, s->ledger)) {
		/* Another key on disk: never sign with it under our name. */
		parent_mark_dead(s);
		r = ERR_CERT_WRONG_CA;
		goto out;
	}
	r = 0;
out:
	pubs_free(&pub);
	if (locked)
		(void)pthread_mutex_unlock(&s->lock);
	return r;
}

int
signer_poll(struct signer *s, int *status)
{
	int st = 0, ret = 0;
	pid_t p;

	if (status != NULL)
		*status = 0;
	if (s == NULL)
		return -1;
	/* A request in flight holds the lock; look again at the next
	 * wake-up rather than wait behind it. */
	if (pthread_mutex_trylock(&s->lock) != 0)
		return 0;
	if (s->reaped || s->pid <= 0) {
		ret = -1;
		goto out;
	}
	p = waitpid(s->pid, &st, WNOHANG);
	if (p == s->pid || (p < 0 && errno == ECHILD)) {
		s->reaped = 1;
		atomic_store(&s->alive, 0);
		if (status != NULL)
			*status = st;
		ret = 1;
	}
out:
	(void)pthread_mutex_unlock(&s->lock);
	return ret;
}

int
signer_alive(const struct signer *s)
{
	return s != NULL && atomic_load(&s->alive);
}

/* A reader found the stream broken: nothing more is sent, the
 * supervisor restarts the child (signer_restart() closes its end, so the
 * child exits).  Lock-free: a restart holding lock waits for readers. */
static void
parent_mark_broken(struct signer *s)
{
	atomic_store(&s->alive, 0);
}

/* One request/answer exchange: send type+payload under the lock, then
 * receive, in the order asked, an answer of type want (payload in
 * *body, new).  ERROR answers come back as the child's code. */
static int
parent_call(struct signer *s, uint8_t type, const struct wire *payload,
    uint8_t want, uint8_t **body, size_t *bodylen)
{
	struct signer_reader me;
	uint8_t rtype;
	int r = ERR_INTERNAL, fd, first;

	*body = NULL;
	*bodylen = 0;
	ENSURE(atomic_load(&s->alive), ERR_SIGNER_DEAD);
	ENSURE(pthread_mutex_lock(&s->lock) == 0, ERR_SYSTEM);
	if (!atomic_load(&s->alive) || s->fd < 0) {
		(void)pthread_mutex_unlock(&s->lock);
		return ERR_SIGNER_DEAD;
	}
	if ((r = msg_send(s->fd, type, payload)) != 0) {
		if (r == ERR_SIGNER_DEAD)
			parent_mark_dead(s);
		(void)pthread_mutex_unlock(&s->lock);
		return r;
	}
	fd = s->fd; /* stays open: close() waits for inflight 0 */
	(void)sem_init(&me.turn, 0, 0);
	me.next = NULL;
	(void)pthread_mutex_lock(&s->rmu);
	first = s->rhead == NULL;
	*s->rtail = &me;
	s->rtail = &me.next;
	s->inflight++;
	(void)pthread_mutex_unlock(&s->rmu);
	(void)pthread_mutex_unlock(&s->lock);
	if (!first)
		while (sem_wait(&me.turn) != 0 && errno == EINTR)
			;
	/*
	 * This answer is next on the stream; only this thread reads.  A
	 * caller that waited for its turn finds its answer there more
	 * often than not (the child worked on it meanwhile): it tries to
	 * read before it polls.
	 */
	if (!atomic_load(&s->alive))
		r = ERR_SIGNER_DEAD; /* an earlier answer broke the stream */
	else if ((r = msg_recv(fd, &rtype, body, bodylen,
		      now_ms() + SIGNER_REPLY_TIMEOUT_MS, NULL, SIGNER_MAX_MSG,
		      !first)) != 0) {
		parent_mark_broken(s);
		if (r != ERR_ALLOC)
			r = ERR_SIGNER_DEAD;
	} else if (rtype == SIGNER_MSG_ERROR) {
		r = parent_error_code(*body, *bodylen);
		if (r == ERR_SIGNER_PROTOCOL)
			parent_mark_broken(s);
	} else if (rtype != want) {
		parent_mark_broken(s);
		r = ERR_SIGNER_PROTOCOL;
	} else
		r = 0;
	(void)pthread_mutex_lock(&s->rmu);
	if ((s->rhead = me.next) == NULL)
		s->rtail = &s->rhead;
	else
		(void)sem_post(&s->rhead->turn);
	if (--s->inflight == 0)
		(void)pthread_cond_broadcast(&s->rcv);
	(void)pthread_mutex_unlock(&s->rmu);
	(void)sem_destroy(&me.turn);
out:
	if (r != 0) {
		free(*body);
		*body = NULL;
		*bodylen = 0;
	}
	return r;
}

/* What cert_sign()'s callback needs to send a typed request. */
struct sign_user_ctx {
	struct signer *s;
	const char *user;
	const char *role;
};

/* Send a SIGN_USER (user, role) or SIGN_HOST (host, role NULL) request
 * with tbs and take the signature blob of the answer (new). */
static int
parent_sign_tbs(struct signer *s, uint8_t type, const char *name,
    const char *role, const uint8_t *tbs, size_t tbslen, uint8_t **sig,
    size_t *siglen)
{
	struct wire *w = NULL;
	const uint8_t *p;
	uint8_t *body = NULL, *copy = NULL;
	size_t bodylen = 0, plen;
	int r = ERR_INTERNAL;

	ENSURE((w = wire_new(SIGNER_MAX_MSG - SIGNER_HDR_LEN - 1)) != NULL,
	    ERR_ALLOC);
	TRY(wire_put_cstring(w, name));
	if (role != NULL)
		TRY(wire_put_cstring(w, role));
	if ((r = wire_put_string(w, tbs, tbslen)) != 0) {
		r = r == ERR_BUF_FULL ? ERR_TOO_LARGE : r;
		goto out;
	}
	TRY(parent_call(s, type, w, SIGNER_MSG_SIGN_OK, &body, &bodylen));
	if (body_one_string(body, bodylen, &p, &plen) != 0 || plen == 0) {
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
	wire_free(w);
	free(body);
	free(copy);
	return r;
}

int
signer_sign_user_tbs(struct signer *s, const char *user, const char *role,
    const uint8_t *tbs, size_t tbslen, uint8_t **sig, size_t *siglen)
{
	if (sig != NULL)
		*sig = NULL;
	if (siglen != NULL)
		*siglen = 0;
	if (s == NULL || user == NULL || role == NULL || tbs == NULL ||
	    sig == NULL || siglen == NULL || *user == '\0' || *role == '\0' ||
	    strlen(user) > SIGNER_MAX_NAME || strlen(role) > SIGNER_MAX_NAME)
		return ERR_INVALID_ARG;
	return parent_sign_tbs(
	    s, SIGNER_MSG_SIGN_USER, user, role, tbs, tbslen, sig, siglen);
}

int
signer_sign_host_tbs(struct signer *s, const char *host, const uint8_t *tbs,
    size_t tbslen, uint8_t **sig, size_t *siglen)
{
	if (sig != NULL)
		*sig = NULL;
	if (siglen != NULL)
		*siglen = 0;
	if (s == NULL || host == NULL || tbs == NULL || sig == NULL ||
	    siglen == NULL || *host == '\0' || strlen(host) > SIGNER_MAX_HOST)
		return ERR_INVALID_ARG;
	return parent_sign_tbs(
	    s, SIGNER_MSG_SIGN_HOST, host, NULL, tbs, tbslen, sig, siglen);
}

static int
sign_user_fn(
    void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *tbs, size_t tbslen)
{
	const struct sign_user_ctx *x = ctx;

	return signer_sign_user_tbs(
	    x->s, x->user, x->role, tbs, tbslen, sig, siglen);
}

int
signer_sign_user_cert(
    struct signer *s, struct cert *c, const char *user, const char *role)
{
	struct sign_user_ctx x;

	if (s == NULL || c == NULL || user == NULL || role == NULL ||
	    *user == '\0' || *role == '\0' || strlen(user) > SIGNER_MAX_NAME ||
	    strlen(role) > SIGNER_MAX_NAME)
		return ERR_INVALID_ARG;
	x.s = s;
	x.user = user;
	x.role = role;
	return cert_sign(c, sign_user_fn, &x);
}

int
signer_sign_user_fn(
    void *ctx, struct cert *c, const char *user, const char *role)
{
	return signer_sign_user_cert(ctx, c, user, role);
}

static int
sign_host_fn(
    void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *tbs, size_t tbslen)
{
	const struct sign_user_ctx *x = ctx;

	return signer_sign_host_tbs(x->s, x->user, tbs, tbslen, sig, siglen);
}

int
signer_sign_host_cert(struct signer *s, struct cert *c, const char *host)
{
	struct sign_user_ctx x;

	if (s == NULL || c == NULL || host == NULL || *host == '\0' ||
	    strlen(host) > SIGNER_MAX_HOST)
		return ERR_INVALID_ARG;
	x.s = s;
	x.user = host;
	x.role = NULL;
	return cert_sign(c, sign_host_fn, &x);
}

int
signer_sign_host_fn(void *ctx, struct cert *c, const char *host)
{
	return signer_sign_host_cert(ctx, c, host);
}

/* A new NUL-terminated copy of p[0..len). */
static char *
dup_text(const uint8_t *p, size_t len)
{
	char *t = malloc(len + 1);

	if (t != NULL) {
		memcpy(t, p, len);
		t[len] = '\0';
	}
	return t;
}

/* The answer's note must be exactly our checkpoint for the request,
 * signed by the ledger key, and sig its SSHSIG. */
static int
parent_checkpoint_check(const struct signer *s, const char *origin,
    uint64_t size, const uint8_t root[32], const char *note, size_t notelen,
    const char *sig, size_t siglen)
{
	struct note_verifier v;
	char *text = NULL;
	size_t textlen = 0, got = 0;
	int r = ERR_INTERNAL;

	TRY(note_checkpoint_text(&text, &textlen, origin, size, root, NULL, 0));
	TRY(note_verifier_from_pubkey(&v, origin, s->ledger));
	ENSURE(
	    note_open(note, notelen, &v, 1, NOTE_OPEN_KNOWN_ONLY, &got) == 0 &&
		got == textlen && memcmp(note, text, textlen) == 0,
	    ERR_SIGNER_PROTOCOL);
	ENSURE(sshsig_verify(sig, siglen, s->ledger, SIGNER_NS_CHECKPOINT,
		   (const uint8_t *)note, notelen) == 0,
	    ERR_SIGNER_PROTOCOL);
	r = 0;
out:
	free(text);
	return r;
}

int
signer_sign_checkpoint(struct signer *s, const char *origin, uint64_t size,
    const uint8_t root[32], char **note, size_t *notelen, char **sig,
    size_t *siglen)
{
	struct wire *w = NULL, *in = NULL;
	const uint8_t *n, *g;
	uint8_t *body = NULL;
	char *nc = NULL, *gc = NULL;
	size_t bodylen = 0, nlen, glen;
	int r = ERR_INTERNAL;

	if (note != NULL)
		*note = NULL;
	if (sig != NULL)
		*sig = NULL;
	if (notelen != NULL)
		*notelen = 0;
	if (siglen != NULL)
		*siglen = 0;
	ENSURE(s != NULL && origin != NULL && root != NULL && note != NULL &&
		sig != NULL && *origin != '\0' &&
		strlen(origin) <= SIGNER_MAX_ORIGIN,
	    ERR_INVALID_ARG);
	ENSURE(s->ledger != NULL, ERR_SIGNER_NO_KEY);
	ENSURE((w = wire_new(SIGNER_MAX_MSG)) != NULL, ERR_ALLOC);
	TRY(wire_put_cstring(w, origin));
	TRY(wire_put_u64(w, size));
	TRY(wire_put_string(w, root, 32));
	TRY(parent_call(s, SIGNER_MSG_SIGN_CHECKPOINT, w,
	    SIGNER_MSG_CHECKPOINT_OK, &body, &bodylen));
	ENSURE((in = wire_from(body, bodylen)) != NULL, ERR_ALLOC);
	if (wire_get_string_direct(in, &n, &nlen) != 0 ||
	    wire_get_string_direct(in, &g, &glen) != 0 || wire_len(in) != 0) {
		r = ERR_SIGNER_PROTOCOL;
		goto out;
	}
	ENSURE((nc = dup_text(n, nlen)) != NULL &&
		(gc = dup_text(g, glen)) != NULL,
	    ERR_ALLOC);
	TRY(parent_checkpoint_check(s, origin, size, root, nc, nlen, gc, glen));
	*note = nc;
	*sig = gc;
	nc = gc = NULL;
	if (notelen != NULL)
		*notelen = nlen;
	if (siglen != NULL)
		*siglen = glen;
	r = 0;
out:
	wire_free(in);
	wire_free(w);
	free(body);
	free(nc);
	free(gc);
	return r;
}

int
signer_sign_krl(struct signer *s, const uint8_t *krl, size_t len, char **sig,
    size_t *siglen)
{
	struct wire *w = NULL;
	const uint8_t *g;
	uint8_t *body = NULL;
	char *gc = NULL;
	size_t bodylen = 0, glen;
	int r = ERR_INTERNAL;

	if (sig != NULL)
		*sig = NULL;
	if (siglen != NULL)
		*siglen = 0;
	ENSURE(s != NULL && (krl != NULL || len == 0) && sig != NULL,
	    ERR_INVALID_ARG);
	ENSURE(len <= SIGNER_MAX_KRL, ERR_TOO_LARGE);
	ENSURE(s->ledger != NULL, ERR_SIGNER_NO_KEY);
	ENSURE((w = wire_new(SIGNER_MAX_KRL_MSG)) != NULL, ERR_ALLOC);
	TRY(wire_put_string(w, krl, len));
	TRY(parent_call(
	    s, SIGNER_MSG_SIGN_KRL, w, SIGNER_MSG_KRL_OK, &body, &bodylen));
	if (body_one_string(body, bodylen, &g, &glen) != 0) {
		r = ERR_SIGNER_PROTOCOL;
		goto out;
	}
	ENSURE((gc = dup_text(g, glen)) != NULL, ERR_ALLOC);
	ENSURE(sshsig_verify(gc, glen, s->ledger, SIGNER_NS_KRL, krl, len) == 0,
	    ERR_SIGNER_PROTOCOL);
	*sig = gc;
	gc = NULL;
	if (siglen != NULL)
		*siglen = glen;
	r = 0;
out:
	wire_free(w);
	free(body);
	free(gc);
	return r;
}

int
signer_reload(struct signer *s)
{
	uint8_t *body = NULL;
	size_t bodylen = 0;
	int r;

	if (s == NULL)
		return ERR_INVALID_ARG;
	r = parent_call(
	    s, SIGNER_MSG_RELOAD, NULL, SIGNER_MSG_RELOAD_OK, &body, &bodylen);
	if (r == 0 && bodylen != 0)
		r = ERR_SIGNER_PROTOCOL;
	free(body);
	return r;
}

const struct pubkey *
signer_public(const struct signer *s)
{
	return s != NULL ? s->ca : NULL;
}

const struct pubkey *
signer_public_host(const struct signer *s)
{
	return s != NULL ? s->host : NULL;
}

const struct pubkey *
signer_public_ledger(const struct signer *s)
{
	return s != NULL ? s->ledger : NULL;
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
	parent_drain(s); /* nobody should be asking any more */
	if (s->fd >= 0)
		(void)close(s->fd); /* the child sees EOF and exits */
	s->fd = -1;
	parent_reap(s, SIGNER_STOP_TIMEOUT_MS);
	(void)pthread_mutex_unlock(&s->lock);
	(void)pthread_cond_destroy(&s->rcv);
	(void)pthread_mutex_destroy(&s->rmu);
	(void)pthread_mutex_destroy(&s->lock);
	params_free(s);
	pubkey_free(s->ca);
	pubkey_free(s->host);
	pubkey_free(s->ledger);
	free(s);
}
