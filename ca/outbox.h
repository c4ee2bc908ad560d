/*
 * outbox.h: the ledger as the outbox of notifications.  Every state
 * change is already an event in the hash-chained ledger, committed with
 * the change; a notification sink (web/notify.h) is a reader of those
 * events with its own durable cursor, so nothing is queued beside the
 * ledger and nothing committed can be missed.
 *
 * This module gives the sinks what they need from the store, as typed
 * results: the events after a seq with the request each concerns (role,
 * requester, principals, TTL, reason: the request.approved and
 * request.denied events do not repeat them), what kind of notification
 * an event is (config.h CONFIG_NOTIFY_*), and two small tables, rows of
 * the store (ca/store/store.h, notify_* operations):
 *
 *   notify_cursors(sink TEXT PRIMARY KEY, seq INTEGER NOT NULL,
 *       updated INTEGER NOT NULL)
 *     the last event seq a sink has delivered (or passed over);
 *   notify_leases(sink TEXT PRIMARY KEY, owner TEXT NOT NULL,
 *       expires INTEGER NOT NULL)
 *     who delivers the sink: a replica takes the row in a write
 *     transaction when it is free, expired or already its own, and
 *     renews it while it delivers; the cursor only moves under a lease
 *     the mover holds.  With sqlite there is one jitcad, which always
 *     gets it; with several replicas on one database exactly one
 *     delivers each sink at a time.
 *
 * Neither table is part of the chain or of `ledger verify`'s replay: a
 * cursor is where a reader is, not what happened.  A sink seen for the
 * first time starts at the current head (a new webhook is not sent the
 * whole history).  Nothing here does HTTP or prints.
 */
#ifndef JITCA_OUTBOX_H
#define JITCA_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

#define OUTBOX_READ_MAX 100 /* events in one outbox_read() */
#define OUTBOX_OWNER_MAX 128 /* bytes of a lease owner */

struct ledger;

/*
 * One event as a sink sees it; every string is owned by the array
 * outbox_events_free() frees.  details is the canonical JSON text of the
 * event's details, as the ledger hashes it.
 */
struct outbox_event {
	int64_t seq;
	int64_t time;
	char *type, *actor, *subject, *details, *prev_hash, *hash;
	unsigned kind; /* one CONFIG_NOTIFY_* bit, 0: not a notification */
	int break_glass; /* details.break_glass is true */
	/* The request it concerns; request_id 0 and NULLs when none. */
	int64_t request_id;
	char *role, *requester, *reason;
	char **principals;
	size_t nprincipals;
	uint64_t ttl; /* seconds */
	int64_t serial; /* cert.* events; 0 otherwise */
};

/* The newest event's seq (0 when there is none). */
MUST_CHECK int outbox_head(struct ledger *l, int64_t *seq);

/*
 * Events with seq > after, in seq order, at most max (1..OUTBOX_READ_MAX):
 * *out a new array of *n (NULL and 0 when none); outbox_events_free()
 * frees it.  Reads between writers' transactions (ledger_read_begin()).
 */
MUST_CHECK int outbox_read(struct ledger *l, int64_t after, size_t max,
    struct outbox_event **out, size_t *n);
void outbox_events_free(struct outbox_event *ev, size_t n);

/*
 * sink's cursor in *seq; a sink without one gets one at the current head
 * first (*created 1, may be NULL).
 */
MUST_CHECK int outbox_cursor_get(
    struct ledger *l, const char *sink, int64_t *seq, int *created);
/*
 * Move sink's cursor forward to seq (never back: a lower seq changes
 * nothing) at time now, if owner holds its lease; ERR_NOTIFY_LEASE when
 * it does not (expired, or taken by another replica).
 */
MUST_CHECK int outbox_cursor_set(struct ledger *l, const char *sink,
    const char *owner, int64_t seq, uint64_t now);

/*
 * Take or renew sink's lease for owner until now + ttl: 0 when owner
 * holds it afterwards, ERR_NOTIFY_LEASE when another owner's lease has
 * not expired.  outbox_lease_release() gives it up (expires it) if
 * owner holds it, so that another replica need not wait.
 */
MUST_CHECK int outbox_lease_take(struct ledger *l, const char *sink,
    const char *owner, uint64_t now, uint64_t ttl);
MUST_CHECK int outbox_lease_release(
    struct ledger *l, const char *sink, const char *owner);

#endif /* JITCA_OUTBOX_H */
