/*
 * copy.c: a whole ledger copied from one store into another, empty one
 * (ledger_copy(), ca/ledger.h; `jitcad ledger migrate --to URL`): the
 * events in seq order with their hashes (so the chain is the same chain,
 * with the same head), every state table, the Merkle tree's nodes, the
 * signed checkpoints, the sessions, identities and notification cursors,
 * and the counters (the next serial and KRL version continue where the
 * source left off).  Through the typed operations only, so any backend
 * copies into any other; the copy is one transaction on the target, read
 * from one snapshot of the source.  It checks nothing itself: the
 * caller verifies the target (ledger_verify(), ledger_verify_state()).
 * Works with ca/store/store.h.
 */
#include <inttypes.h>
#include <stdio.h>

#include "ca/ledger.h"
#include "ca/store/store.h"

/* The tables besides the events, in an order the target's checks like
 * (requests before what refers to them). */
static const enum store_table copied[] = {
    STORE_TABLE_USERS,
    STORE_TABLE_REQUESTS,
    STORE_TABLE_APPROVALS,
    STORE_TABLE_CERTIFICATES,
    STORE_TABLE_REVOKED_KEYS,
    STORE_TABLE_HOSTS,
    STORE_TABLE_HOST_KEYS,
    STORE_TABLE_MERKLE_NODES,
    STORE_TABLE_CHECKPOINTS,
    STORE_TABLE_SESSIONS,
    STORE_TABLE_IDENTITIES,
    STORE_TABLE_NOTIFY_CURSORS,
};

/* 1 when the target holds no event and no row of any copied table. */
static int
target_empty(struct store *to, int *empty)
{
	struct store_rows *it = NULL;
	const struct store_cell *row;
	struct store_tail tail;
	size_t i;
	int r = ERR_INTERNAL, found = 0;

	*empty = 0;
	TRY(store_event_tail(to, &tail));
	if (tail.seq != 0) {
		store_msg_set(to,
		    "the target ledger is not empty (%" PRId64 " events); "
		    "migrate only into a new database",
		    tail.seq);
		r = 0;
		goto out;
	}
	for (i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		TRY(store_rows_open(to, copied[i], &it));
		TRY(store_rows_next(to, it, &row, &found));
		store_rows_close(to, it);
		it = NULL;
		if (found) {
			store_msg_set(to,
			    "the target ledger is not empty (its %s table "
			    "has rows); migrate only into a new database",
			    store_table_def(copied[i])->name);
			r = 0;
			goto out;
		}
	}
	*empty = 1;
	r = 0;
out:
	store_rows_close(to, it);
	return r;
}

static int
copy_events(struct store *from, struct store *to, uint64_t *n)
{
	struct store_events *it = NULL;
	struct store_event ev;
	int r = ERR_INTERNAL, found = 0;

	TRY(store_events_open(from, 0, -1, &it));
	for (;;) {
		TRY(store_events_next(from, it, &ev, &found));
		if (!found)
			break;
		TRY(store_event_insert(to, &ev));
		(*n)++;
	}
	r = 0;
out:
	store_events_close(from, it);
	return r;
}

static int
copy_table(
    struct store *from, struct store *to, enum store_table t, uint64_t *n)
{
	const struct store_table_def *def = store_table_def(t);
	struct store_rows *it = NULL;
	const struct store_cell *row;
	int r = ERR_INTERNAL, found = 0;

	TRY(store_rows_open(from, t, &it));
	for (;;) {
		TRY(store_rows_next(from, it, &row, &found));
		if (!found)
			break;
		TRY(store_row_insert(to, t, row, def->ncols));
		(*n)++;
	}
	r = 0;
out:
	store_rows_close(from, it);
	return r;
}

static int
copy_counters(struct store *from, struct store *to)
{
	static const enum store_counter cs[] = {
	    STORE_COUNTER_SERIAL, STORE_COUNTER_KRL_VERSION};
	uint64_t v;
	size_t i;
	int r = ERR_INTERNAL;

	for (i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		TRY(store_counter_get(from, cs[i], &v));
		TRY(store_counter_raise(to, cs[i], v));
	}
	r = 0;
out:
	return r;
}

int
ledger_copy(
    struct ledger *from, struct ledger *to, uint64_t *events, uint64_t *rows)
{
	struct store *fs, *ts;
	int r = ERR_INTERNAL, began = 0, snap = 0, empty = 0;
	size_t i;

	*events = *rows = 0;
	if (from == NULL || to == NULL)
		return ERR_INVALID_ARG;
	fs = ledger_store(from);
	ts = ledger_store(to);
	TRY(target_empty(ts, &empty));
	ENSURE(empty, ERR_EXISTS);
	TRY(store_snapshot_begin(fs, &snap));
	TRY(ledger_begin(to));
	began = 1;
	TRY(copy_events(fs, ts, events));
	for (i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
		TRY(copy_table(fs, ts, copied[i], rows));
	TRY(copy_counters(fs, ts));
	began = 0;
	TRY(ledger_commit(to));
	r = 0;
out:
	if (began)
		ledger_rollback(to);
	store_snapshot_end(fs, snap);
	return r;
}
