/*
 * ledger.h: the ledger: an append-only, hash-chained events table plus
 * the current-state tables.  The chain (append, verify, export, the
 * canonical encoding) is ca/store/chain.c, written over the storage
 * operations of ca/store/store.h; the one backend today is
 * ca/store/sqlite.c (one file, WAL, synchronous=FULL, group commit).
 *
 * Only ca/store/ includes sqlite headers.  Other ca/ modules (users.c,
 * request.c, revoke.c) open a transaction with ledger_begin(), change
 * their state rows through the operations of ca/store/store.h
 * (ledger_store()), append the matching event with ledger_append() in
 * that same transaction, and commit with ledger_commit(): a state change
 * and its event are one atomic, durable unit.  Nothing here knows about
 * HTTP.
 *
 * Event hash: hash = hex(SHA-256(prev_hash_hex || "\n" || canonical)),
 * where canonical is the compact JSON array
 *   [seq, time, type, actor, subject, details]
 * with details re-serialised with sorted keys (JSON_SORT_KEYS |
 * JSON_COMPACT | JSON_ENSURE_ASCII; jansson writes \uXXXX escapes with
 * upper-case hex digits).  The first event's prev_hash is 64 zeros.
 * ledger_verify() recomputes every row in seq order; a row whose hash,
 * prev_hash or seq (gaps, reordering) does not fit is named.
 *
 * The head of the chain (head_seq, head_hash) is also kept in meta and
 * updated by every ledger_append(), so deleting rows at the end of the
 * chain is detected too.  What the chain alone cannot show: someone with
 * write access who recomputes the whole chain and the head, or who
 * deletes every event and resets the head.  A saved signed checkpoint
 * catches both (ca/checkpoint.h, ledger_root_from_events()).  Triggers
 * refuse UPDATE and DELETE on events, so only a deliberate "DROP
 * TRIGGER" edits them.
 *
 * The state tables are a function of the events: ledger_verify_state()
 * (ledger_state.c) replays them and names every row that disagrees.
 * Schema 2 adds triggers on the state rows that never change or change
 * one way only (certificates: only revoked, NULL -> time, once; no
 * delete; revoked_keys: append-only; approvals: no delete, approve ->
 * deny only; requests, users: no delete; meta last_serial and
 * krl_version: never lower, never deleted).  ledger_open() migrates a
 * schema 1 file by adding them.
 *
 * Schema (created by ledger_open(create=1); LEDGER_SCHEMA_VERSION in meta):
 *   meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)
 *       keys: schema_version, last_serial, krl_version, ca_fingerprint,
 *       head_seq, head_hash
 *   events(seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, type TEXT NOT
 *       NULL, actor TEXT NOT NULL, subject TEXT NOT NULL, details TEXT NOT
 *       NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)
 *   users(name TEXT PRIMARY KEY, groups TEXT NOT NULL (JSON array),
 *       token_hash BLOB, disabled INTEGER NOT NULL DEFAULT 0,
 *       created INTEGER NOT NULL, token_created INTEGER)
 *   requests(id INTEGER PRIMARY KEY, requester TEXT NOT NULL, role TEXT
 *       NOT NULL, principals TEXT NOT NULL (JSON array), ttl INTEGER NOT
 *       NULL, reason TEXT NOT NULL, public_key TEXT NOT NULL, key_fp TEXT
 *       NOT NULL, state TEXT NOT NULL, created INTEGER NOT NULL, expires
 *       INTEGER NOT NULL, approvals_required INTEGER NOT NULL, serial
 *       INTEGER, updated INTEGER NOT NULL)
 *   approvals(request_id INTEGER NOT NULL, approver TEXT NOT NULL,
 *       decision TEXT NOT NULL ('approve'|'deny'), time INTEGER NOT NULL,
 *       comment TEXT NOT NULL DEFAULT '', PRIMARY KEY(request_id, approver))
 *   certificates(serial INTEGER PRIMARY KEY, request_id INTEGER, user TEXT
 *       NOT NULL, role TEXT NOT NULL, key_id TEXT NOT NULL UNIQUE,
 *       principals TEXT NOT NULL, valid_after INTEGER NOT NULL,
 *       valid_before INTEGER NOT NULL, key_fp TEXT NOT NULL, key_blob BLOB
 *       NOT NULL, cert_sha256 TEXT NOT NULL, certificate TEXT NOT NULL,
 *       issued INTEGER NOT NULL, revoked INTEGER)  -- revoked: time or NULL
 *   revoked_keys(key_sha256 BLOB PRIMARY KEY, key_fp TEXT NOT NULL,
 *       time INTEGER NOT NULL, reason TEXT NOT NULL)
 *   notify_cursors(sink TEXT PRIMARY KEY, seq INTEGER NOT NULL, updated
 *       INTEGER NOT NULL), notify_leases(sink TEXT PRIMARY KEY, owner TEXT
 *       NOT NULL, expires INTEGER NOT NULL): where each notification sink
 *       is and who delivers it (ca/outbox.h); not state the events
 *       determine, so neither chained nor replayed; added to an older
 *       file when it is opened
 *   indexes: users(token_hash) UNIQUE, requests(state),
 *       certificates(user), certificates(valid_before)
 *
 * Errors: SQLITE_BUSY/LOCKED (after the 10 s busy timeout) become
 * ERR_BUSY; SQLITE_FULL ERR_LEDGER_FULL; SQLITE_IOERR, SQLITE_READONLY
 * and SQLITE_CANTOPEN ERR_LEDGER_UNWRITABLE (the storage failed, not the
 * data); every other sqlite failure ERR_DB; ledger_errmsg() then says
 * what failed in a sentence.
 *
 * Time: ledger_now() is time(NULL), except that in builds with test
 * hooks (the CMake option JITCA_TEST_HOOKS, off unless the test build
 * turns it on, as scripts/test does) tests may fix it with the environment
 * variable JITCA_TEST_NOW (decimal seconds since the epoch, 1..2^62; a value
 * that does not parse is ignored).  The one other such variable,
 * JITCA_TEST_UI_VERIFY_MAX_AGE, is the web ledger page's (web/ui_audit.c).
 */
#ifndef JITCA_LEDGER_H
#define JITCA_LEDGER_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ca/store/store.h"
#include "signer/err.h"

#define LEDGER_SCHEMA_VERSION STORE_SCHEMA_VERSION
#define LEDGER_HASH_HEX STORE_HASH_HEX /* 64 hex digits + NUL */
#define LEDGER_ERR_LEN STORE_ERR_LEN
/* Limits on what ledger_append() accepts. */
#define LEDGER_FIELD_MAX 256 /* type, actor, subject: bytes */
#define LEDGER_DETAILS_MAX (64u * 1024) /* canonical details: bytes */
/* Most events ledger_events_json() returns in one call. */
#define LEDGER_EVENTS_MAX 1000

enum ledger_format {
	LEDGER_FORMAT_JSONL = 1,
	LEDGER_FORMAT_CSV = 2,
};

struct ledger;

/*
 * Open (and with create=1 create, with the schema) the ledger at path:
 * WAL, synchronous=FULL, foreign keys on, busy timeout 10 s.  Refuses a
 * file with an unknown schema_version.  *out new; ledger_close() frees.
 */
MUST_CHECK int ledger_open(struct ledger **out, const char *path, int create);
/* The same, with a sentence saying what failed in errbuf (may be NULL):
 * ERR_NOT_FOUND when the file is missing and create=0, ERR_DB when it is
 * not a jitca ledger or has another schema_version. */
MUST_CHECK int ledger_open_err(struct ledger **out, const char *path,
    int create, char errbuf[LEDGER_ERR_LEN]);
void ledger_close(struct ledger *l);
/* The last error's message (borrowed; "" when none). */
const char *ledger_errmsg(const struct ledger *l);
/* The store under the ledger, borrowed (ca/store/store.h). */
struct store *ledger_store(struct ledger *l);
/*
 * Copy every event (with its hashes), state row, Merkle node, checkpoint,
 * session, identity, notification cursor and counter of from into to,
 * which must be empty (ERR_EXISTS, with the reason in to's message), in
 * one transaction on to (ca/store/copy.c).  *events and *rows count what
 * was copied.  Verify to afterwards.
 */
MUST_CHECK int ledger_copy(
    struct ledger *from, struct ledger *to, uint64_t *events, uint64_t *rows);

/*
 * Transactions with group commit.  ledger_begin() starts a unit of work
 * (a SAVEPOINT in a BEGIN IMMEDIATE transaction, so conditional updates
 * are safe against other processes); ledger_commit() ends it and returns
 * once the sqlite COMMIT that holds it is durable (0), or failed (every
 * unit in that transaction then gets the error); ledger_rollback()
 * undoes just this unit.  Units from several threads run one at a time
 * and may share one COMMIT (at most LEDGER_BATCH_MAX of them): with one
 * thread every unit is its own transaction.  Not nestable in a thread.
 */
#define LEDGER_BATCH_MAX STORE_BATCH_MAX

MUST_CHECK int ledger_begin(struct ledger *l);
MUST_CHECK int ledger_commit(struct ledger *l);
void ledger_rollback(struct ledger *l);
/*
 * One unit of work that is fn(arg), as ledger_begin(), fn, then
 * ledger_commit() when fn returns 0 and ledger_rollback() (returning
 * fn's result) otherwise.  Cheaper under load: fn may be run by the
 * thread whose unit is in progress, right after its own, instead of
 * waiting for this thread to be woken (store.h tx_run), so fn must not
 * use thread-local state or a lock its caller holds.
 */
MUST_CHECK int ledger_run(struct ledger *l, store_unit_fn fn, void *arg);
/*
 * A hint for the group commit: this thread will call ledger_begin()
 * soon (it signs a certificate first).  A batch whose last unit ends
 * while such a thread is on its way waits for it a little (at most
 * STORE_HOLD_US) instead of paying a COMMIT of its own for it.
 * ledger_begin() ends the announcement; ledger_unannounce() ends it for
 * a thread that will not begin after all (a no-op otherwise).
 */
void ledger_announce(struct ledger *l);
void ledger_unannounce(struct ledger *l);

/*
 * Readers bracket their statements with these: in between, the calling
 * thread reads one snapshot of what was committed, on a read-only
 * connection of its own (store.h read_begin), so it never waits for a
 * writer's COMMIT and never sees rows of a unit whose COMMIT has not
 * happened yet.  Sections nest; nothing in one may write.
 */
void ledger_read_begin(struct ledger *l);
void ledger_read_end(struct ledger *l);

/* Counters of the group commit (for /metrics and benchmarks). */
struct ledger_stats {
	uint64_t units; /* units committed (released) */
	uint64_t commits; /* sqlite COMMITs (or batch rollbacks) */
	unsigned max_batch; /* most units in one COMMIT */
	uint64_t holds; /* a batch waited for an announced unit */
	uint64_t hold_timeouts; /* ...that did not come in time */
	uint64_t checkpoints; /* WAL checkpoints off the writer's path */
	uint64_t checkpoint_catch_ups; /* ...finished by the writer */
	uint64_t checkpoint_frames; /* WAL frames the passes copied */
	uint64_t checkpoint_catch_up_frames; /* ...and the catch-ups */
};
void ledger_stats_get(struct ledger *l, struct ledger_stats *out);

/*
 * Append one event inside the open transaction: seq = last + 1, time =
 * now (seconds), details a JSON object (borrowed, not stolen; NULL means
 * {}).  *seq_out (may be NULL) receives the new seq.  type, actor and
 * subject must be non-empty UTF-8 of at most LEDGER_FIELD_MAX bytes
 * without control characters, details an object whose canonical form is
 * at most LEDGER_DETAILS_MAX bytes: else ERR_INVALID_ARG (ERR_TOO_LARGE
 * for details).  Outside a transaction: ERR_INVALID_ARG.  The details
 * column holds the canonical dump of details.  Fails closed with
 * ERR_LEDGER_BROKEN when the last row is not the head recorded in meta
 * (rows deleted at the end or forged after it), so that an append never
 * hides that evidence.
 */
MUST_CHECK int ledger_append(struct ledger *l, int64_t *seq_out,
    const char *type, const char *actor, const char *subject, json_t *details);

/*
 * Event details made ready before the unit that appends them
 * (ledger_details_make(), in any thread), so that the ledger's
 * one-at-a-time section does not write their canonical text:
 * ledger_append_details() appends exactly the event ledger_append()
 * would with obj.  text is NULL when obj could not be written (not an
 * object, too large, out of memory): ledger_append_details() then is
 * ledger_append() with obj, which says what is wrong.  obj is borrowed
 * and must outlive d; ledger_details_clear() frees text.  Only
 * ledger_details_make() may set text: it is hashed and stored as it is,
 * so anything else there would break the canonical form the verify
 * recomputes.  ledger_details_make() and ledger_details_clear()
 * ignore a NULL d.
 */
struct ledger_details {
	json_t *obj;
	char *text; /* obj's canonical text, or NULL */
};
void ledger_details_make(struct ledger_details *d, json_t *details);
void ledger_details_clear(struct ledger_details *d);
MUST_CHECK int ledger_append_details(struct ledger *l, int64_t *seq_out,
    const char *type, const char *actor, const char *subject,
    const struct ledger_details *d);

/* Next certificate serial (last_serial + 1, stored) inside the open
 * transaction.  Starts at 1; never reused because it commits with the
 * cert.issued event.  A rolled-back transaction gives its serial back:
 * the next one gets the same number, which is fine since no certificate
 * with it was committed (uniqueness among issued certificates is the
 * invariant).  Also above max(certificates.serial), defensively. */
MUST_CHECK int ledger_serial_next(struct ledger *l, uint64_t *serial);
/* A serial reserved ahead, durably, for a certificate signed before its
 * unit (store.h serial_reserve): call it outside a transaction.  Unique
 * and never reused even when the unit rolls back or the process crashes
 * (the serial is then a gap); never 0; increasing in allocation order.
 * Commit order may differ from serial order (two units signed
 * concurrently), so ledger_verify_state() checks uniqueness and that
 * last_serial is at least every committed serial, not that serials
 * increase along the chain. */
MUST_CHECK int ledger_serial_reserve(struct ledger *l, uint64_t *serial);
/* Bump and return krl_version inside the open transaction. */
MUST_CHECK int ledger_krl_version_bump(struct ledger *l, uint64_t *version);
/* Current krl_version (no transaction needed). */
MUST_CHECK int ledger_krl_version(struct ledger *l, uint64_t *version);

/*
 * Recompute the whole chain.  Returns 0 when intact (*count = events);
 * ERR_LEDGER_BROKEN with *bad_seq = the first bad row's seq and a message
 * in errbuf otherwise.
 */
MUST_CHECK int ledger_verify(struct ledger *l, int64_t *count, int64_t *bad_seq,
    char errbuf[LEDGER_ERR_LEN]);

/*
 * Replay the events and compare the current-state tables with them
 * (ledger_state.c): users, requests, approvals, certificates,
 * revoked_keys and meta's last_serial, krl_version and ca_fingerprint.
 * Every disagreement is one sentence "TABLE KEY: FIELD: expected X,
 * found Y" (a missing row: "row: expected a row (seq N), found none"; a
 * row no event explains: "row: expected none ..., found a row") passed
 * to report (may be NULL; the message is borrowed for the call); *nbad
 * (may be NULL) counts them.  Time columns must lie within
 * LEDGER_STATE_SLACK seconds before the time of the event that set them.
 * Returns 0 when every row agrees, ERR_LEDGER_BROKEN when some do not,
 * ERR_DB/ERR_ALLOC when it could not check.  Call it outside a
 * transaction (it reads one snapshot).
 */
#define LEDGER_STATE_SLACK 120

MUST_CHECK int ledger_verify_state(struct ledger *l,
    void (*report)(void *arg, const char *msg), void *arg, uint64_t *nbad);

/* Write events with seq > since, one per line (JSONL) or row (CSV with a
 * header; RFC 4180 quoting, CRLF line ends), all fields: seq, time, type,
 * actor, subject, details (an object in JSONL, its JSON text in CSV),
 * prev_hash, hash.  ERR_SYSTEM when writing fails. */
MUST_CHECK int ledger_export(
    struct ledger *l, FILE *out, enum ledger_format fmt, int64_t since);

/* Events with seq > since as a JSON array of objects (fields as in the
 * JSONL export), at most limit (1..LEDGER_EVENTS_MAX, else
 * ERR_INVALID_ARG).  *out new; the caller json_decref()s it. */
MUST_CHECK int ledger_events_json(
    struct ledger *l, int64_t since, int64_t limit, json_t **out);

/* 1 in *changed if another connection committed since the last call
 * (PRAGMA data_version), so a service can refresh caches. */
MUST_CHECK int ledger_changed(struct ledger *l, int *changed);

/*
 * The one canonical encoding, hashed: hex(SHA-256(prev || "\n" ||
 * canonical)) of the event [seq, time, type, actor, subject, details]
 * (the top of this file), where dtext is already the canonical dump of
 * details; the array is fed to SHA-256 in pieces, never built.  ctx is
 * reused (may be NULL: one is made for the call).  ERR_INVALID_ARG when
 * type, actor or subject is not valid UTF-8.  For ledger_append(),
 * ledger_verify() and the tests that check it against a plain encoding.
 */
struct evp_md_ctx_st;
MUST_CHECK int ledger_event_hash(struct evp_md_ctx_st *ctx, const char *prev,
    int64_t seq, int64_t t, const char *type, const char *actor,
    const char *subject, const char *dtext, char out[LEDGER_HASH_HEX]);

/*
 * The Merkle tree (RFC 6962 2.1, signer/merkle.h) over the events: leaf
 * i is event seq i + 1, its data the canonical array of the chain hash
 * above, so leaf = SHA-256(0x00 || canonical).  The store keeps the hash
 * of every perfect subtree (merkle_nodes), written by ledger_append() in
 * the event's own unit; a ledger of schema 2 gets its tree at its next
 * append.  ledger_verify() recomputes the tree from the events and
 * compares it with every stored node, and every stored checkpoint's
 * root with the tree.
 */
#include "signer/merkle.h"

/* SHA-256(0x00 || canonical event): the leaf hash of one event. */
MUST_CHECK int ledger_event_leaf(struct evp_md_ctx_st *ctx, int64_t seq,
    int64_t t, const char *type, const char *actor, const char *subject,
    const char *dtext, uint8_t out[MERKLE_HASH_LEN]);
/* Inside a transaction: add the leaves of the events the stored tree
 * lacks; *size (may be NULL) the tree's size after. */
MUST_CHECK int ledger_merkle_sync(struct ledger *l, uint64_t *size);
/* The stored tree's size. */
MUST_CHECK int ledger_tree_size(struct ledger *l, uint64_t *size);
/* Root of the tree of size size (<= the stored size, ERR_MERKLE_RANGE
 * otherwise), from the stored nodes. */
MUST_CHECK int ledger_tree_root(
    struct ledger *l, uint64_t size, uint8_t root[MERKLE_HASH_LEN]);
/* RFC 9162 audit path of leaf index in the tree of size size, and the
 * leaf hash; *pathlen hashes. */
MUST_CHECK int ledger_inclusion_proof(struct ledger *l, uint64_t index,
    uint64_t size, uint8_t leaf[MERKLE_HASH_LEN],
    uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t *pathlen);
/* RFC 9162 consistency proof from size old to size new_size. */
MUST_CHECK int ledger_consistency_proof(struct ledger *l, uint64_t old,
    uint64_t new_size, uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN],
    size_t *pathlen);
/* The root of the first size events recomputed from the events alone
 * (not the stored nodes), in one snapshot: *have is the number of
 * events there were up to size; root is set only when *have == size. */
MUST_CHECK int ledger_root_from_events(struct ledger *l, uint64_t size,
    uint64_t *have, uint8_t root[MERKLE_HASH_LEN]);
/* The seq of the first event of type with subject (ERR_NOT_FOUND). */
MUST_CHECK int ledger_find_event(
    struct ledger *l, const char *type, const char *subject, int64_t *seq);

/* Current time in seconds (one clock for the whole CA). */
uint64_t ledger_now(void);

#endif /* JITCA_LEDGER_H */
