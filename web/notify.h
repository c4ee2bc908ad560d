/*
 * notify.h: delivery of notifications to webhooks (the "notify" sinks of
 * jitca.json, ca/config.h struct config_notify), from the ledger as the
 * outbox (ca/outbox.h).
 *
 * Each sink has its own delivery thread.  It takes the sink's lease (one
 * replica delivers a sink at a time), reads the events after the sink's
 * durable cursor in seq order, POSTs each one it wants (its kind in the
 * sink's "events", its role in the sink's "roles" when it has any), and
 * moves the cursor past an event only after the receiver answered 2xx.
 * A failure (connection, timeout, non-2xx, a redirect) is retried, the
 * same event again, after a wait that doubles from NOTIFY_BACKOFF_FIRST_MS
 * up to the sink's max_backoff, with jitter (a random wait between half
 * and all of it, so that many replicas or sinks do not retry in step).
 * Delivery is therefore at least once and in order: after a crash between
 * the 2xx and the cursor's commit, the event is sent again with the same
 * X-Jitca-Event.  Events a sink does not want move its cursor too, at most
 * one commit per read.  Issuance never waits for any of this: the threads
 * only read committed events and write their own cursor rows.
 *
 * Every POST (Content-Type: application/json) carries
 *   X-Jitca-Timestamp: UNIX_SECONDS          (the time of this attempt)
 *   X-Jitca-Signature: sha256=HEX            HEX = lower-case hex of
 *       HMAC-SHA256(secret, TIMESTAMP "." BODY), the secret being the
 *       sink's secret file without its trailing newline
 *   X-Jitca-Event: SEQ                       the ledger seq, an
 *       idempotency key: a receiver drops a SEQ it has seen
 * Bodies (notify_payload()): "json" is
 *   {"notification": KIND, "event": {seq, time, type, actor, subject,
 *    details, prev_hash, hash}, "request": {id, role, requester,
 *    principals, ttl, reason}, "link": URL}
 * ("request" when the event concerns one, "link" when public_url is set
 * too: PUBLIC_URL/ui/requests/ID); "slack" is a Slack incoming-webhook
 * message (text plus blocks) naming the request's role, requester,
 * principals, TTL and reason with a link to its page, never a button that
 * acts.  Neither holds anything secret: ledger events hold no tokens, no
 * private keys and no certificates.
 *
 * Transfers are bounded: connect timeout NOTIFY_CONNECT_TIMEOUT (or the
 * sink's timeout when shorter), the sink's whole timeout, no redirects,
 * https only but to literal loopback addresses, a response body read and
 * dropped; notify_stop() aborts a transfer in progress.
 *
 * Threads and ownership: notify_start() copies what it needs from the
 * configuration (it may be freed afterwards) and reads the secret files;
 * notify_stats_get() may be called from any thread.  Library code: it
 * never prints; failures are counted and described in the stats.
 */
#ifndef JITCA_NOTIFY_H
#define JITCA_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "ca/config.h"
#include "ca/outbox.h"
#include "signer/err.h"

#define NOTIFY_ERR_LEN CONFIG_ERR_LEN
#define NOTIFY_SIG_HEX 65 /* 64 lower-case hex digits + NUL */
#define NOTIFY_CONNECT_TIMEOUT 5 /* seconds */
#define NOTIFY_BACKOFF_FIRST_MS 500
#define NOTIFY_POLL_MS 250 /* how often an idle sink looks for events */
#define NOTIFY_LEASE_TTL 30 /* seconds a lease lasts unrenewed */
#define NOTIFY_LEASE_RENEW 10 /* seconds between renewals */
#define NOTIFY_BODY_MAX (256u * 1024) /* a payload, bytes */

/*
 * Where the events, cursors and leases come from: ca/outbox.h over a
 * ledger (notify_source_ledger()), or a test's own.  Each returns 0 or an
 * error code; read() gives a new array that outbox_events_free() frees.
 */
struct notify_source {
	void *arg;
	int (*read)(void *arg, int64_t after, size_t max,
	    struct outbox_event **out, size_t *n);
	int (*head)(void *arg, int64_t *seq);
	int (*cursor_get)(void *arg, const char *sink, int64_t *seq);
	int (*cursor_set)(void *arg, const char *sink, const char *owner,
	    int64_t seq, uint64_t now);
	int (*lease_take)(void *arg, const char *sink, const char *owner,
	    uint64_t now, uint64_t ttl);
	int (*lease_release)(void *arg, const char *sink, const char *owner);
};

/* src filled with ca/outbox.h over l (borrowed: it must outlive the
 * notify that uses it). */
void notify_source_ledger(struct notify_source *src, struct ledger *l);

/* One sink's counters and state, as notify_stats_get() copies them. */
struct notify_stats {
	char name[CONFIG_NOTIFY_NAME_MAX + 1];
	uint64_t delivered; /* events the receiver took (2xx) */
	uint64_t failed; /* attempts that failed */
	int64_t cursor; /* last seq delivered or passed over (-1: none yet) */
	int64_t head; /* the newest seq this sink has seen */
	uint64_t failing_since; /* unix time of the first failure in a row,
				   0 when the last attempt succeeded */
	int alerting; /* failing for longer than alert_after */
	int leased; /* this process holds the sink's lease */
	char last_error[NOTIFY_ERR_LEN]; /* of the last failure, or "" */
};

struct notify;

/*
 * Start one delivery thread per sink of cfg->notify (none: a notify with
 * no sinks, still to be stopped).  Reads every secret file first; a
 * failure there is ERR_CONFIG/ERR_SYSTEM with the field path in errbuf
 * and nothing is started.  A sink without a cursor gets one at the head
 * before this returns, so it is sent every event committed afterwards.  *out
 * new; notify_stop() stops and frees it. src is copied; what src->arg points to
 * is borrowed.
 */
MUST_CHECK int notify_start(struct notify **out, const struct config *cfg,
    const struct notify_source *src, char errbuf[NOTIFY_ERR_LEN]);
/* Stop every thread (a transfer in progress is aborted), give the leases
 * back, free n.  NULL is fine. */
void notify_stop(struct notify *n);
/* Wake the idle threads to look for new events now. */
void notify_kick(struct notify *n);
size_t notify_sink_count(const struct notify *n);
/* Sink i's stats into *out (zeroed when i is out of range). */
void notify_stats_get(struct notify *n, size_t i, struct notify_stats *out);

/* 1 when sink wants ev (its kind, or break-glass, and its role). */
int notify_wants(
    const struct config_notify *sink, const struct outbox_event *ev);
/*
 * The body sink's format makes of ev: *body new (free()), *len bytes,
 * NUL-terminated.  public_url may be NULL (no link).
 */
MUST_CHECK int notify_payload(char **body, size_t *len,
    const struct config_notify *sink, const char *public_url,
    const struct outbox_event *ev);
/* hex = lower-case HMAC-SHA256(secret, ts "." body). */
MUST_CHECK int notify_signature(char hex[NOTIFY_SIG_HEX], const void *secret,
    size_t slen, const char *ts, const void *body, size_t blen);

#endif /* JITCA_NOTIFY_H */
