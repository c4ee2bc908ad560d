/*
 * hookrx.c: the webhook receiver of hookrx.h: one thread, poll() on the
 * listening socket and on the connection it serves, so that a mode change,
 * hookrx_down() or hookrx_stop() takes effect within HOOKRX_TICK_MS.
 */
#define _GNU_SOURCE /* asprintf, accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tests/lib/hookrx.h"
#include "tests/lib/proc.h"

#define HOOKRX_TICK_MS 50
#define HOOKRX_MAX (1024 * 1024)

struct hookrx {
	pthread_t thread;
	pthread_mutex_t mu;
	atomic_int stop;
	atomic_int mode;
	atomic_int want_down; /* 1: close the listener; 0: listen */
	int lfd;
	int port;
	struct hookrx_record *rec;
	size_t nrec, cap;
};

static int
listen_on(int port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd, one = 1, tries;

	for (tries = 0; tries < 50; tries++) {
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)port);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		    listen(fd, 16) == 0 &&
		    getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
			return fd;
		close(fd);
		/* The same port again: it may take a moment to be free. */
		tu_sleep_ms(100);
	}
	return -1;
}

/* A header's value in head (a copy, "" when absent). */
static char *
header(const char *head, const char *name)
{
	size_t nl = strlen(name);
	const char *p = head;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;

			while (*v == ' ')
				v++;
			return strndup(v, strcspn(v, "\r\n"));
		}
	}
	return strdup("");
}

static void
serve_one(struct hookrx *rx, int fd)
{
	char *buf = malloc(HOOKRX_MAX + 1), *end, *cl;
	size_t len = 0, need = 0, hl = 0;
	struct hookrx_record r;
	struct pollfd p;
	int got_head = 0, mode;
	ssize_t k;

	if (buf == NULL)
		return;
	for (;;) {
		if (atomic_load(&rx->stop))
			goto out;
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, HOOKRX_TICK_MS) <= 0)
			continue;
		if ((k = read(fd, buf + len, HOOKRX_MAX - len)) <= 0)
			goto out;
		len += (size_t)k;
		buf[len] = '\0';
		if (!got_head && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			got_head = 1;
			hl = (size_t)(end - buf) + 4;
			cl = header(buf, "Content-Length");
			need = (size_t)strtoul(cl, NULL, 10);
			free(cl);
		}
		if (got_head && len >= hl + need)
			break;
		if (len >= HOOKRX_MAX)
			goto out;
	}
	memset(&r, 0, sizeof(r));
	r.at_ms = tu_now_ms();
	buf[hl - 2] = '\0';
	{
		char *s = header(buf, "X-Jitca-Event");

		r.seq = s[0] != '\0' ? strtoll(s, NULL, 10) : -1;
		free(s);
	}
	r.timestamp = header(buf, "X-Jitca-Timestamp");
	r.signature = header(buf, "X-Jitca-Signature");
	r.content_type = header(buf, "Content-Type");
	r.body = strndup(buf + hl, need);
	r.body_len = need;
	mode = atomic_load(&rx->mode);
	r.answered = mode == HOOKRX_OK ? 200 : mode == HOOKRX_FAIL ? 500 : 0;
	pthread_mutex_lock(&rx->mu);
	if (rx->nrec == rx->cap) {
		rx->cap = rx->cap ? rx->cap * 2 : 64;
		rx->rec = realloc(rx->rec, rx->cap * sizeof(*rx->rec));
	}
	rx->rec[rx->nrec++] = r;
	pthread_mutex_unlock(&rx->mu);
	if (mode == HOOKRX_HANG) {
		/* Hold the connection until the sender gives up. */
		while (!atomic_load(&rx->stop) &&
		    atomic_load(&rx->mode) == HOOKRX_HANG) {
			p.fd = fd;
			p.events = POLLIN;
			if (poll(&p, 1, HOOKRX_TICK_MS) > 0 &&
			    read(fd, buf, HOOKRX_MAX) <= 0)
				goto out;
		}
		goto out;
	}
	{
		const char *resp = mode == HOOKRX_OK
		    ? "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: "
		      "close\r\n\r\nok\n"
		    : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: "
		      "5\r\nConnection: close\r\n\r\nfail\n";

		if (write(fd, resp, strlen(resp)) < 0)
			goto out;
	}
out:
	free(buf);
}

static void *
rx_main(void *arg)
{
	struct hookrx *rx = arg;
	struct pollfd p;
	int fd;

	while (!atomic_load(&rx->stop)) {
		if (atomic_load(&rx->want_down) && rx->lfd >= 0) {
			close(rx->lfd);
			rx->lfd = -1;
		} else if (!atomic_load(&rx->want_down) && rx->lfd < 0)
			rx->lfd = listen_on(rx->port);
		if (rx->lfd < 0) {
			tu_sleep_ms(HOOKRX_TICK_MS);
			continue;
		}
		p.fd = rx->lfd;
		p.events = POLLIN;
		if (poll(&p, 1, HOOKRX_TICK_MS) <= 0)
			continue;
		if ((fd = accept4(rx->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		serve_one(rx, fd);
		close(fd);
	}
	if (rx->lfd >= 0)
		close(rx->lfd);
	return NULL;
}

struct hookrx *
hookrx_start(void)
{
	struct hookrx *rx = calloc(1, sizeof(*rx));
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	cr_assert_not_null(rx);
	pthread_mutex_init(&rx->mu, NULL);
	rx->lfd = listen_on(0);
	cr_assert_geq(rx->lfd, 0, "hookrx: cannot listen: %s", strerror(errno));
	cr_assert_eq(getsockname(rx->lfd, (struct sockaddr *)&a, &alen), 0);
	rx->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&rx->thread, NULL, rx_main, rx), 0);
	return rx;
}

void
hookrx_stop(struct hookrx *rx)
{
	if (rx == NULL)
		return;
	atomic_store(&rx->stop, 1);
	pthread_join(rx->thread, NULL);
	hookrx_records_free(rx->rec, rx->nrec);
	pthread_mutex_destroy(&rx->mu);
	free(rx);
}

int
hookrx_port(const struct hookrx *rx)
{
	return rx->port;
}

char *
hookrx_url(const struct hookrx *rx)
{
	char *s = NULL;

	cr_assert_geq(asprintf(&s, "http://127.0.0.1:%d/hook", rx->port), 0);
	return s;
}

void
hookrx_mode(struct hookrx *rx, enum hookrx_mode m)
{
	atomic_store(&rx->mode, (int)m);
}

void
hookrx_down(struct hookrx *rx)
{
	atomic_store(&rx->want_down, 1);
	tu_sleep_ms(3 * HOOKRX_TICK_MS);
}

void
hookrx_up(struct hookrx *rx)
{
	atomic_store(&rx->want_down, 0);
	tu_sleep_ms(3 * HOOKRX_TICK_MS);
}

size_t
hookrx_records(struct hookrx *rx, struct hookrx_record **out)
{
	size_t i, n;

	pthread_mutex_lock(&rx->mu);
	n = rx->nrec;
	*out = calloc(n ? n : 1, sizeof(**out));
	for (i = 0; i < n; i++) {
		(*out)[i] = rx->rec[i];
		(*out)[i].timestamp = strdup(rx->rec[i].timestamp);
		(*out)[i].signature = strdup(rx->rec[i].signature);
		(*out)[i].content_type = strdup(rx->rec[i].content_type);
		(*out)[i].body = strdup(rx->rec[i].body);
	}
	pthread_mutex_unlock(&rx->mu);
	return n;
}

void
hookrx_records_free(struct hookrx_record *r, size_t n)
{
	size_t i;

	for (i = 0; r != NULL && i < n; i++) {
		free(r[i].timestamp);
		free(r[i].signature);
		free(r[i].content_type);
		free(r[i].body);
	}
	free(r);
}

size_t
hookrx_wait_ok(struct hookrx *rx, size_t n, long long ms)
{
	long long until = tu_now_ms() + ms;
	size_t i, ok;

	for (;;) {
		pthread_mutex_lock(&rx->mu);
		for (i = ok = 0; i < rx->nrec; i++)
			ok += rx->rec[i].answered == 200;
		pthread_mutex_unlock(&rx->mu);
		if (ok >= n || tu_now_ms() >= until)
			return ok;
		tu_sleep_ms(20);
	}
}

int
hookrx_sig_ok(const char *secret, const struct hookrx_record *r)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0, i;
	char hex[2 * EVP_MAX_MD_SIZE + 8] = "sha256=";
	size_t tl = strlen(r->timestamp);
	unsigned char *msg = malloc(tl + 1 + r->body_len + 1);
	int ok;

	cr_assert_not_null(msg);
	memcpy(msg, r->timestamp, tl);
	msg[tl] = '.';
	memcpy(msg + tl + 1, r->body, r->body_len);
	cr_assert_not_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), msg,
	    tl + 1 + r->body_len, mac, &mlen));
	for (i = 0; i < mlen; i++)
		snprintf(hex + 7 + 2 * i, 3, "%02x", mac[i]);
	ok = strcmp(hex, r->signature) == 0;
	free(msg);
	return ok;
}
