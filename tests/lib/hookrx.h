/*
 * hookrx.h: a real webhook receiver for the notification tests: a thread
 * in the test process with a listening socket on 127.0.0.1, reading one
 * HTTP/1.1 request per connection (head and a Content-Length body,
 * bounded) and answering as its mode says, while it records every
 * request it read: the X-Jitca-* headers, the body and when it came.
 *
 * Modes: HOOKRX_OK answers 200, HOOKRX_FAIL 500, HOOKRX_HANG reads the
 * request and never answers (until the connection is closed by the
 * sender, the mode changes, or the receiver stops).  hookrx_down()
 * closes the listening socket (connections are refused) and
 * hookrx_up() listens again on the same port.
 *
 * Like testutil.h, a setup error fails the running criterion test.
 * Returned records are copies the caller frees with hookrx_records_free().
 */
#ifndef JITCA_TESTS_HOOKRX_H
#define JITCA_TESTS_HOOKRX_H

#include <stddef.h>

enum hookrx_mode { HOOKRX_OK = 0, HOOKRX_FAIL = 1, HOOKRX_HANG = 2 };

struct hookrx_record {
	long long at_ms; /* tu_now_ms() when the request was read */
	long long seq; /* X-Jitca-Event, -1 when absent */
	char *timestamp; /* X-Jitca-Timestamp ("" when absent) */
	char *signature; /* X-Jitca-Signature ("" when absent) */
	char *content_type;
	char *body;
	size_t body_len;
	int answered; /* the status answered, 0 for none (hang) */
};

struct hookrx;

/* Listen on a free loopback port (retried if taken), start the thread. */
struct hookrx *hookrx_start(void);
void hookrx_stop(struct hookrx *rx);
int hookrx_port(const struct hookrx *rx);
/* "http://127.0.0.1:PORT/hook" (new). */
char *hookrx_url(const struct hookrx *rx);
void hookrx_mode(struct hookrx *rx, enum hookrx_mode m);
void hookrx_down(struct hookrx *rx);
void hookrx_up(struct hookrx *rx);
/* A copy of every record so far in *out (new), their count returned. */
size_t hookrx_records(struct hookrx *rx, struct hookrx_record **out);
void hookrx_records_free(struct hookrx_record *r, size_t n);
/* Wait up to ms for at least n records answered 2xx; how many there are. */
size_t hookrx_wait_ok(struct hookrx *rx, size_t n, long long ms);
/* 1 when sig is "sha256=" + lower-case hex HMAC-SHA256(secret, ts "."
 * body), computed here with OpenSSL independently of web/notify.c. */
int hookrx_sig_ok(const char *secret, const struct hookrx_record *r);

#endif /* JITCA_TESTS_HOOKRX_H */
