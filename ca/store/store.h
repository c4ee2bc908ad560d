/*
 * store.h: the storage interface of the ledger, a table of typed
 * operations per backend (struct store_ops, in the manner of curl's
 * struct Curl_ssl).  A backend (store/sqlite.c, store/pg.c) fills the table
 * and embeds struct store at the start of its own handle; chain.c (the
 * hash chain, ledger.h) and the domain call the operations through the
 * store_* wrappers below and never see the backend's types.
 *
 * The operations are what the chain needs from any database: write
 * transactions (begin/commit/rollback, with group commit behind them),
 * readers kept out of uncommitted units, a read snapshot, the tail of
 * the events table together with the recorded head, inserting one event
 * (and moving the head with it), reading events in seq order, the
 * counters (certificate serials, the KRL version), change detection and
 * the group-commit counters.  They are shaped so that a client/server
 * database can implement them too: a counter may come from a sequence,
 * event_tail() may lock the head row (SELECT ... FOR UPDATE) to
 * serialise appends, changed() may compare a version counter.
 *
 * The domain rows: users (struct store_user), hosts (struct store_host,
 * store_host_key), users' sessions (struct
 * store_session) and IdP identities (sign-in, POST /v1/session), requests
 * (struct store_request, counted by state in one operation), approvals,
 * certificates, revoked keys and the KRL's rows, and the raw rows that
 * ledger_state.c checks against the events, and the notification sinks'
 * cursors and leases.  The Merkle tree over the events (merkle.h: the
 * hash of every perfect subtree, written with the event that completes
 * it) and the signed checkpoints.  Readers have a connection and
 * snapshot of their own (read_begin/read_end): they never wait for a
 * writer's COMMIT and never see a unit that is not committed.
 *
 * Errors are the shared negative codes of signer/err.h; a failed
 * operation leaves a sentence in the store's errmsg (store_msg_set()),
 * which ledger_errmsg() returns.  Borrowed strings in struct
 * store_event live until the next events_next() or events_close().
 */
#ifndef JITCA_STORE_H
#define JITCA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

#define STORE_ERR_LEN 256
#define STORE_HASH_HEX 65 /* 64 hex digits + NUL */
/* The schema this jitca writes (store/sqlite.c migrates 1, 2 and 3;
 * store/pg.c writes the same tables and triggers at this version). */
#define STORE_SCHEMA_VERSION 4
/* Most units of work in one group commit. */
#define STORE_BATCH_MAX 32
/* Longest a batch waits for an announced unit (tx_announce) before its
 * COMMIT, in microseconds: well under one COMMIT's fsync. */
#define STORE_HOLD_US 400

struct store;
struct store_events;

/* One event row; the strings are borrowed (see above). */
struct store_event {
	int64_t seq;
	int64_t time;
	const char *type;
	const char *actor;
	const char *subject;
	const char *details; /* the canonical JSON text */
	const char *prev_hash;
	const char *hash;
};

/* The end of the events table and the head recorded beside it. */
struct store_tail {
	int64_t seq; /* the last row's seq, 0 when there is none */
	int have_hash; /* there is a last row */
	char hash[STORE_HASH_HEX]; /* its hash, "" when not 64 long */
	int have_head_seq; /* a head_seq is recorded */
	char head_seq_text[STORE_HASH_HEX]; /* as stored (cut at 64) */
	int head_seq_ok; /* ...and it is a number (in head_seq) */
	uint64_t head_seq;
	int have_head_hash;
	char head_hash[STORE_HASH_HEX]; /* "" when absent or not 64 long */
};

enum store_counter {
	STORE_COUNTER_SERIAL = 1, /* certificate serials */
	STORE_COUNTER_KRL_VERSION = 2,
};

/*
 * A row of users.  store_user_free() frees one (NULL is fine) and wipes
 * the token hash.  groups is the stored JSON text (NULL when the column
 * is not text); the domain (users.c) parses and checks it.
 */
#define STORE_TOKEN_HASH_LEN 32

struct store_user {
	char *name;
	char *groups;
	int disabled;
	uint64_t created;
	uint64_t token_created; /* 0 when no token was ever issued */
	int has_token; /* token_hash holds STORE_TOKEN_HASH_LEN bytes */
	uint8_t token_hash[STORE_TOKEN_HASH_LEN];
};
void store_user_free(struct store_user *u);

/*
 * A row of sessions: a sign-in with the identity provider (POST
 * /v1/session).  Only the SHA-256 of the session token is stored, like a
 * user's token; sessions are not ledger state (they expire, and the
 * events record who signed in).  store_session_clear() frees user and
 * wipes the hash.
 */
struct store_session {
	uint8_t token_hash[STORE_TOKEN_HASH_LEN];
	char *user;
	uint64_t created, expires, auth_time;
};
void store_session_clear(struct store_session *s);

/* Called for each user by users_each(); a non-zero return stops the
 * walk and is returned.  u is borrowed for the call. */
typedef int (*store_user_fn)(void *arg, const struct store_user *u);

/*
 * A row of hosts (ca/hosts.h).  store_host_free() frees one (NULL is
 * fine) and wipes the token hash.  principals is the stored JSON text.
 * The host keys bound to it are rows of their own (struct
 * store_host_key), one per key type.
 */
#define STORE_KEY_BLOB_MAX 16384

struct store_host {
	char *name;
	char *principals;
	int disabled;
	uint64_t created;
	int has_token;
	uint8_t token_hash[STORE_TOKEN_HASH_LEN];
};
void store_host_free(struct store_host *h);

/* A host key bound to a host: its type name ("ssh-ed25519"), blob,
 * fingerprint and when it was bound.  store_host_key_free(). */
struct store_host_key {
	char *key_type;
	uint8_t *blob;
	size_t len;
	char *key_fp;
	uint64_t bound;
};
void store_host_key_free(struct store_host_key *k);
typedef int (*store_host_key_fn)(void *arg, const struct store_host_key *k);
typedef int (*store_host_fn)(void *arg, const struct store_host *h);

/*
 * Requests counted by the state a reader sees (a pending request whose
 * expiry has passed counts as expired), and the approvals that the
 * pending ones still need (approvals_required less the approvals given,
 * never below 0).
 */
enum store_req_state {
	STORE_REQ_PENDING = 0,
	STORE_REQ_ISSUED,
	STORE_REQ_DENIED,
	STORE_REQ_EXPIRED,
	STORE_REQ_REVOKED,
	STORE_REQ_WITHDRAWN,
	STORE_REQ_NSTATES,
};

struct store_request_counts {
	uint64_t by_state[STORE_REQ_NSTATES];
	uint64_t approvals_needed;
};

/*
 * Certificates selected for a revocation (certs_match()), borrowed for
 * one call of the callback: serial, key id, user, role, the request
 * (0 when issued directly without one) and whether already revoked.
 */
enum store_cert_by {
	STORE_CERT_BY_SERIAL = 1, /* num */
	STORE_CERT_BY_KEY_ID, /* text */
	STORE_CERT_BY_USER, /* text, still valid at now */
	STORE_CERT_BY_REQUEST, /* num */
	STORE_CERT_BY_KEY, /* blob: the public key blob */
};

struct store_cert_match {
	int64_t serial;
	const char *key_id;
	const char *user;
	const char *role;
	int64_t request;
	int revoked;
};

struct store_cert_query {
	enum store_cert_by by;
	int64_t num;
	const char *text;
	const uint8_t *blob;
	size_t bloblen;
	uint64_t now;
};

typedef int (*store_cert_fn)(void *arg, const struct store_cert_match *m);
/* For krl_each(): a revoked serial, a revoked key's SHA-256. */
typedef int (*store_serial_fn)(void *arg, uint64_t serial);
typedef int (*store_key_fn)(void *arg, const uint8_t sha256[32]);

/*
 * A row of requests; store_request_clear() frees its strings (and zeroes
 * it).  principals is the stored JSON text.  serial 0: none yet.
 */
struct store_request {
	int64_t id;
	char *requester;
	char *role;
	char *principals;
	uint64_t ttl;
	char *reason;
	char *public_key;
	char *key_fp;
	char *state;
	uint64_t created;
	uint64_t expires;
	unsigned approvals_required;
	int64_t serial;
};
void store_request_clear(struct store_request *r);

/*
 * A new request for request_insert() (borrowed).  id: one from
 * request_id_reserve(), or 0 for the next free one; when a reserved id
 * is taken after all (another process inserted it), the next free one is
 * used instead: request_insert() says which.
 */
struct store_request_new {
	const char *requester;
	const char *role;
	const char *principals; /* JSON text */
	uint64_t ttl;
	const char *reason;
	const char *public_key;
	const char *key_fp;
	uint64_t created;
	uint64_t expires;
	unsigned approvals_required;
	int64_t id;
};

/* Which requests requests_page() selects, newest first. */
struct store_request_query {
	int all; /* every request, else the next two */
	const char *requester; /* ...the actor's own */
	const char *const *roles; /* ...and those of these roles */
	size_t nroles;
	int pending_only; /* state pending and expires > now */
	uint64_t now;
	int64_t before; /* ids below (0: from the newest) */
};

/* One approval or denial, borrowed for one call of the callback. */
struct store_approval {
	const char *approver;
	const char *decision; /* "approve" or "deny" */
	int64_t time;
	const char *comment;
};
typedef int (*store_approval_fn)(void *arg, const struct store_approval *a);

/* A certificate row to insert (borrowed). */
struct store_cert {
	uint64_t serial;
	int64_t request_id;
	const char *user;
	const char *role;
	const char *key_id;
	const char *principals; /* JSON text */
	uint64_t valid_after;
	uint64_t valid_before;
	const char *key_fp;
	const uint8_t *key_blob;
	size_t key_len;
	const char *cert_sha256;
	const char *certificate;
	uint64_t issued;
};

/* What a request view shows of its certificate; store_cert_info_clear()
 * frees the strings. */
struct store_cert_info {
	char *certificate;
	char *key_id;
	int64_t valid_after;
	int64_t valid_before;
	int revoked_set;
	int64_t revoked;
};
void store_cert_info_clear(struct store_cert_info *c);

/*
 * Raw rows of a table, for checking the state against the events
 * (ca/ledger_state.c), which must see each stored value as it is, with
 * its type, whatever was written there behind jitca's back.  A cell:
 * its type; i, the value as an integer (0 when it is not one: the
 * database's conversion); text, the value as text ("" for NULL),
 * NUL-terminated, len bytes long for TEXT (and BLOB: blob, len bytes).
 * Borrowed until the next rows_next() or rows_close().  The columns of
 * each table, in order:
 *   EVENTS: seq, time, type, actor, subject, details (by seq)
 *   USERS: name, groups, token_hash, disabled, created, token_created
 *     (by name)
 *   REQUESTS: requester, role, principals, ttl, reason, public_key,
 *     key_fp, state, created, expires, approvals_required, serial,
 *     updated, id (by id)
 *   APPROVALS: request_id, approver, decision, comment, time
 *     (by request_id, approver)
 *   CERTIFICATES: request_id, user, role, key_id, principals,
 *     valid_after, valid_before, key_fp, key_blob, cert_sha256,
 *     certificate, issued, revoked, serial (by serial)
 *   REVOKED_KEYS: key_sha256, key_fp, reason, time (by key_sha256)
 *   HOSTS: name, principals, token_hash, disabled, created (by name)
 *   HOST_KEYS: name, key_type, key_blob, key_fp, bound (by name,
 *     key_type)
 * and the rows that are not ledger state but move with a ledger to
 * another database (ledger_copy(), jitcad ledger migrate):
 *   MERKLE_NODES: level, idx, hash (by level, idx)
 *   CHECKPOINTS: tree_size, root, note, sig, time (by tree_size)
 *   SESSIONS: token_hash, user, created, expires, auth_time
 *   IDENTITIES: user, issuer, subject, created (by user)
 *   NOTIFY_CURSORS: sink, seq, updated (by sink)
 * A failed read is named "read TABLE" (e.g. "read users").
 */
enum store_table {
	STORE_TABLE_EVENTS = 1,
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

/* A table's name and its columns in the order above (SQL, "user"
 * quoted), for the tables from USERS on; NULL for another. */
struct store_table_def {
	const char *name;
	const char *what; /* "read NAME" */
	const char *cols;
	const char *order; /* ORDER BY of the copy */
	unsigned ncols;
};
const struct store_table_def *store_table_def(enum store_table t);

enum store_cell_type {
	STORE_CELL_NULL = 0,
	STORE_CELL_INTEGER,
	STORE_CELL_FLOAT,
	STORE_CELL_TEXT,
	STORE_CELL_BLOB,
};

struct store_cell {
	enum store_cell_type type;
	int64_t i;
	double d;
	const char *text;
	const uint8_t *blob;
	size_t len;
};

#define STORE_ROW_MAX 16 /* most columns of a raw row */

struct store_rows;

/* A signed checkpoint (ca/checkpoint.h): the tree size and root it
 * signs, the C2SP note, its armored SSHSIG, when it was made.
 * store_checkpoint_clear() frees the strings (and zeroes it). */
struct store_checkpoint {
	uint64_t size;
	uint8_t root[32];
	char *note;
	char *sig;
	uint64_t time;
};
void store_checkpoint_clear(struct store_checkpoint *c);
/* For checkpoints_each(): c borrowed for the call; non-zero stops. */
typedef int (*store_checkpoint_fn)(void *arg, const struct store_checkpoint *c);

/* Counters of the group commit (for /metrics and benchmarks). */
struct store_stats {
	uint64_t units; /* units committed (released) */
	uint64_t commits; /* database COMMITs (or batch rollbacks) */
	unsigned max_batch; /* most units in one COMMIT */
	uint64_t holds; /* a batch waited for an announced unit */
	uint64_t hold_timeouts; /* ...that did not come in time */
	uint64_t checkpoints; /* WAL checkpoints off the writer's path */
	uint64_t checkpoint_catch_ups; /* ...finished by the writer */
	uint64_t checkpoint_frames; /* WAL frames the passes copied */
	uint64_t checkpoint_catch_up_frames; /* ...and the catch-ups */
};

/* A unit of work for tx_run(): 0 keeps what it wrote. */
typedef int (*store_unit_fn)(void *arg);

struct store_ops {
	const char *name;
	void (*close)(struct store *s);
	/* Write transactions (ledger.h ledger_begin()). */
	int (*tx_begin)(struct store *s);
	int (*tx_commit)(struct store *s);
	void (*tx_rollback)(struct store *s);
	/* 1 when this thread's connection is inside a transaction. */
	int (*tx_active)(struct store *s);
	/*
	 * Optional (NULL: no group commit).  tx_announce(): the calling
	 * thread will begin a unit soon (it is signing ahead); the open
	 * batch may wait a little for it before its COMMIT.  Its tx_begin()
	 * ends the announcement, or tx_unannounce() when it will not begin
	 * after all (a no-op when nothing is announced).
	 */
	void (*tx_announce)(struct store *s);
	void (*tx_unannounce)(struct store *s);
	/*
	 * Optional (NULL: tx_begin, fn, then tx_commit or tx_rollback).
	 * One unit of work that is fn(arg): kept when fn returns 0,
	 * undone (and its result returned) otherwise, and returns once
	 * the COMMIT that holds it is over, as tx_commit().  fn may run
	 * in another thread that is running units already (sqlite: the
	 * unit's owner runs the units queued behind its own, so that the
	 * writer's connection does not wait for each of their threads to
	 * be woken), so it must not depend on the calling thread: no
	 * thread-local state, no lock the caller holds.
	 */
	int (*tx_run)(struct store *s, store_unit_fn fn, void *arg);
	/*
	 * A read section of the calling thread: what it reads in between
	 * is one snapshot of committed rows, and it never waits for a
	 * writer (sqlite: a read-only connection of a pool, in WAL mode;
	 * a backend without one may run readers between transactions).
	 * Nothing in a read section writes.  Sections nest.
	 */
	void (*read_begin)(struct store *s);
	void (*read_end)(struct store *s);
	/* A read snapshot on the calling connection: *began is 1 when one
	 * was started (and snapshot_end() must end it). */
	int (*snapshot_begin)(struct store *s, int *began);
	void (*snapshot_end)(struct store *s, int began);
	void (*stats_get)(struct store *s, struct store_stats *out);
	/* Events. */
	int (*event_tail)(struct store *s, struct store_tail *out);
	int (*event_insert)(struct store *s, const struct store_event *ev);
	/* Events with seq > since in seq order, at most limit (-1: all). */
	int (*events_open)(struct store *s, int64_t since, int64_t limit,
	    struct store_events **out);
	/* *found 1 with *ev filled, 0 at the end; ERR_LEDGER_BROKEN when
	 * a column has the wrong type. */
	int (*events_next)(
	    struct store_events *it, struct store_event *ev, int *found);
	void (*events_close)(struct store_events *it);
	/* *found 1 when an event of one of types (NULL-terminated) has
	 * this subject (ca/sessions.c: a login already recorded); the
	 * subject is indexed. */
	int (*event_subject_exists)(struct store *s, const char *subject,
	    const char *const *types, int *found);
	/* Counters: next (inside a transaction) and current value. */
	int (*counter_next)(
	    struct store *s, enum store_counter c, uint64_t *out);
	int (*counter_get)(
	    struct store *s, enum store_counter c, uint64_t *out);
	/*
	 * A certificate serial for a certificate built and signed before
	 * its unit of work; call it outside any unit of the calling
	 * thread.  The serial is durably reserved before it is returned
	 * (sqlite: a block of them, committed ahead, in last_serial; a
	 * client/server backend: a sequence), so it is unique across
	 * handles, processes and replicas and never handed out again, even
	 * when the unit that would have used it rolls back or the process
	 * crashes (that serial is a gap).  Never 0; increasing in
	 * allocation order per handle.
	 */
	int (*serial_reserve)(struct store *s, uint64_t *out);
	/*
	 * A request id for a request whose certificate is signed before the
	 * unit that inserts it (its key id names the request); call it
	 * outside any unit.  Distinct among the ids this handle reserves
	 * and increasing in reservation order; a client/server backend
	 * takes it from the id sequence (distinct across replicas).  One
	 * that is not inserted is a gap; one that another process inserted
	 * first is replaced at insertion (store_request_new).  Nothing is
	 * recorded, so no row or certificate ever carries an id twice.
	 */
	int (*request_id_reserve)(struct store *s, int64_t *out);
	/* *changed 1 when another connection committed since last call. */
	int (*changed)(struct store *s, int *changed);
	/*
	 * Users.  user_get(), user_by_token(): *out new, ERR_NOT_FOUND when
	 * there is no such row; ERR_DB when the name column is not text.
	 * The writes run inside a transaction: user_insert() (with a new
	 * token: token_created = created; ERR_EXISTS is not checked here,
	 * the name is the primary key and a duplicate is ERR_DB),
	 * user_token_set() and user_disable() (ERR_NOT_FOUND when no row
	 * changed).  users_each(): in name order, only the enabled ones when
	 * enabled_only.
	 */
	int (*user_get)(
	    struct store *s, const char *name, struct store_user **out);
	int (*user_by_token)(struct store *s,
	    const uint8_t hash[STORE_TOKEN_HASH_LEN], struct store_user **out);
	int (*user_insert)(struct store *s, const char *name,
	    const char *groups, const uint8_t hash[STORE_TOKEN_HASH_LEN],
	    uint64_t created);
	int (*user_token_set)(struct store *s, const char *name,
	    const uint8_t hash[STORE_TOKEN_HASH_LEN], uint64_t when);
	int (*user_disable)(struct store *s, const char *name);
	int (*users_each)(
	    struct store *s, int enabled_only, store_user_fn fn, void *arg);
	/*
	 * Signing in.  user_insert() with hash NULL is a user without a
	 * token (one who signs in with the identity provider).  In a
	 * transaction: user_groups_set() (ERR_NOT_FOUND when no row changed),
	 * session_insert(), sessions_purge() (those expired at now; *n how
	 * many), session_delete() (signing out: ERR_NOT_FOUND when no row
	 * has that hash).  session_get(): ERR_NOT_FOUND when there is no
	 * row.
	 */
	int (*user_groups_set)(
	    struct store *s, const char *name, const char *groups);
	int (*session_insert)(struct store *s, const struct store_session *ss);
	int (*session_get)(struct store *s,
	    const uint8_t hash[STORE_TOKEN_HASH_LEN],
	    struct store_session *out);
	int (*sessions_purge)(struct store *s, uint64_t now, uint64_t *n);
	int (*session_delete)(
	    struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN]);
	/*
	 * Identities: the IdP subject (issuer, sub) a user name is bound to
	 * at its first sign-in.  identity_get(): *issuer and *subject new,
	 * ERR_NOT_FOUND when the user has none.  identity_insert() runs in a
	 * transaction.
	 */
	int (*identity_get)(
	    struct store *s, const char *user, char **issuer, char **subject);
	int (*identity_insert)(struct store *s, const char *user,
	    const char *issuer, const char *subject, uint64_t now);
	/*
	 * Revocation.  certs_match(): the certificates q selects, in serial
	 * order, each passed to fn.  request_exists(): *exists 1 when
	 * requests has row id.  Inside a transaction: cert_revoke() marks
	 * serial revoked at now unless it is, and then moves its issued
	 * request to "revoked" (*newly 1 when it did);
	 * revoked_key_insert() records a key hash unless it is there
	 * (*newly likewise).  krl_each(): the revoked serials with
	 * valid_before > after (serial order), then every revoked key hash
	 * (hash order); ERR_DB for a stored hash not 32 bytes long.
	 */
	int (*certs_match)(struct store *s, const struct store_cert_query *q,
	    store_cert_fn fn, void *arg);
	int (*request_exists)(struct store *s, int64_t id, int *exists);
	int (*cert_revoke)(
	    struct store *s, int64_t serial, uint64_t now, int *newly);
	int (*revoked_key_insert)(struct store *s, const uint8_t sha256[32],
	    const char *key_fp, uint64_t now, const char *reason, int *newly);
	int (*krl_each)(struct store *s, int64_t after, store_serial_fn sfn,
	    store_key_fn kfn, void *arg);
	/* krl_latest(): the latest revocation time among the rows
	 * krl_each() gives (the KRL's generated_date), 0 when none. */
	int (*krl_latest)(struct store *s, int64_t after, uint64_t *when);
	/*
	 * Requests.  request_get(): ERR_NOT_FOUND when there is none;
	 * *out filled (store_request_clear() it).  request_insert(): a new
	 * pending request, *id its id.  request_state_set(): from -> to where
	 * state = from (serial set too when not 0), ERR_WRONG_STATE when no row
	 * changed.  request_ttl_set(): a pending request's ttl (an
	 * approver shortened it), ERR_WRONG_STATE when it is not pending.
	 * requests_due(): ids of pending requests expired at
	 * now, in id order, into a new array *ids (free()).
	 * requests_page(): at most max ids that q selects into ids.
	 * approvals_each(): the decisions on a request by time, approver.
	 * approval_put(): record a decision; an approval that is already
	 * there sets *conflict (replace: a denial overwrites it).
	 * revoked_key_exists(): whether a key hash is revoked.
	 * cert_insert(), cert_info(): the certificate of a request
	 * (ERR_NOT_FOUND when there is none).
	 */
	int (*request_get)(
	    struct store *s, int64_t id, struct store_request *out);
	int (*request_insert)(
	    struct store *s, const struct store_request_new *in, int64_t *id);
	int (*request_state_set)(struct store *s, int64_t id, const char *from,
	    const char *to, int64_t serial, uint64_t now);
	int (*request_ttl_set)(struct store *s, int64_t id, uint64_t ttl);
	int (*requests_due)(
	    struct store *s, uint64_t now, int64_t **ids, size_t *n);
	int (*requests_page)(struct store *s,
	    const struct store_request_query *q, int64_t *ids, size_t max,
	    size_t *n);
	int (*approvals_each)(
	    struct store *s, int64_t id, store_approval_fn fn, void *arg);
	int (*approval_put)(struct store *s, int64_t id,
	    const struct store_approval *a, int replace, int *conflict);
	int (*revoked_key_exists)(
	    struct store *s, const uint8_t sha256[32], int *found);
	int (*cert_insert)(struct store *s, const struct store_cert *c);
	int (*cert_info)(
	    struct store *s, int64_t serial, struct store_cert_info *out);
	/*
	 * Raw rows (above): rows_open() a table, rows_next() each row
	 * (*row borrowed, *found 0 at the end), rows_close().  meta_get():
	 * the text of a meta key in a new *out, NULL when absent.
	 */
	int (*rows_open)(
	    struct store *s, enum store_table t, struct store_rows **out);
	int (*rows_next)(
	    struct store_rows *it, const struct store_cell **row, int *found);
	void (*rows_close)(struct store_rows *it);
	int (*meta_get)(struct store *s, const char *key, char **out);
	/*
	 * Copying a ledger (ledger_copy()), inside a transaction:
	 * row_insert() one raw row of table t (not EVENTS: event_insert()),
	 * n cells in the order above, as rows_next() gave them from
	 * another store; counter_raise() a counter to at least v (never
	 * down).
	 */
	int (*row_insert)(struct store *s, enum store_table t,
	    const struct store_cell *row, size_t n);
	int (*counter_raise)(struct store *s, enum store_counter c, uint64_t v);
	/* Requests: counted in one snapshot, at time now. */
	int (*requests_count)(
	    struct store *s, uint64_t now, struct store_request_counts *out);
	/*
	 * Hosts, as users above: host_get(), host_by_token() (*out new,
	 * ERR_NOT_FOUND); inside a transaction host_insert() (a new host
	 * with its token hash), host_disable() (ERR_NOT_FOUND when no row
	 * changed).  hosts_each(): in name order.  Host keys:
	 * host_key_get() the key of that type bound to the host (*out new,
	 * ERR_NOT_FOUND), host_key_bind() (inside a transaction; a key of
	 * that type already bound is ERR_DB), host_reset() forgets every
	 * key bound to the host, host_keys_each() by key type.
	 */
	int (*host_get)(
	    struct store *s, const char *name, struct store_host **out);
	int (*host_by_token)(struct store *s,
	    const uint8_t hash[STORE_TOKEN_HASH_LEN], struct store_host **out);
	int (*host_insert)(struct store *s, const char *name,
	    const char *principals, const uint8_t hash[STORE_TOKEN_HASH_LEN],
	    uint64_t created);
	int (*host_key_get)(struct store *s, const char *name,
	    const char *key_type, struct store_host_key **out);
	int (*host_key_bind)(struct store *s, const char *name,
	    const char *key_type, const uint8_t *blob, size_t len,
	    const char *key_fp, uint64_t when);
	int (*host_reset)(struct store *s, const char *name);
	int (*host_disable)(struct store *s, const char *name);
	int (*host_keys_each)(
	    struct store *s, const char *name, store_host_key_fn fn, void *arg);
	int (*hosts_each)(struct store *s, store_host_fn fn, void *arg);
	/*
	 * The Merkle tree (chain.c keeps it).  merkle_size(): the leaves
	 * stored (1 + the highest level-0 index, 0 when none).
	 * merkle_node_get(): the hash of the perfect subtree of 2^level
	 * leaves from leaf idx << level; ERR_NOT_FOUND when absent,
	 * ERR_LEDGER_BROKEN when the stored value is not 32 bytes.  Inside
	 * a transaction, merkle_nodes_put(): made[k] for k < n is the
	 * subtree (level k, index leaf >> k), as merkle_tree_append()
	 * reports them for leaf index leaf; a node already there is ERR_DB.
	 */
	int (*merkle_size)(struct store *s, uint64_t *out);
	int (*merkle_node_get)(
	    struct store *s, unsigned level, uint64_t idx, uint8_t out[32]);
	int (*merkle_nodes_put)(struct store *s, uint64_t leaf,
	    const uint8_t (*made)[32], size_t n);
	/*
	 * Checkpoints.  checkpoint_insert() (inside a transaction; a
	 * second one of the same size is ERR_DB), checkpoint_latest() (the
	 * largest size; ERR_NOT_FOUND when none; *out filled, clear it),
	 * checkpoints_each() (by size).  event_find(): the seq of the
	 * first event of this type and subject (ERR_NOT_FOUND).
	 */
	int (*checkpoint_insert)(
	    struct store *s, const struct store_checkpoint *c);
	int (*checkpoint_latest)(struct store *s, struct store_checkpoint *out);
	int (*checkpoints_each)(
	    struct store *s, store_checkpoint_fn fn, void *arg);
	int (*event_find)(struct store *s, const char *type,
	    const char *subject, int64_t *seq);
	/*
	 * Notification sinks (ca/outbox.h): a cursor row and a lease row
	 * per sink name.  The writes run inside a transaction, which makes
	 * each one atomic with its check.  notify_cursor_get(): *found 0
	 * (and *seq 0) when the sink has none.  notify_cursor_put(): a
	 * cursor at seq for a sink that has none (an existing one is kept).
	 * notify_cursor_advance(): to seq, forward only, while owner holds
	 * the sink's lease at now; ERR_NOTIFY_LEASE when it does not.
	 * notify_lease_take(): owner's until now + ttl when the lease is
	 * free, expired at now, or owner's already; ERR_NOTIFY_LEASE while
	 * another owner's has not expired.  notify_lease_release(): expire
	 * it now if it is owner's.  A client/server backend takes the lease
	 * with one conditional UPDATE (or SELECT ... FOR UPDATE) in the
	 * transaction, so that two replicas never hold it at once.
	 */
	int (*notify_cursor_get)(
	    struct store *s, const char *sink, int64_t *seq, int *found);
	int (*notify_cursor_put)(
	    struct store *s, const char *sink, int64_t seq, uint64_t now);
	int (*notify_cursor_advance)(struct store *s, const char *sink,
	    const char *owner, int64_t seq, uint64_t now);
	int (*notify_lease_take)(struct store *s, const char *sink,
	    const char *owner, uint64_t now, uint64_t ttl);
	int (*notify_lease_release)(
	    struct store *s, const char *sink, const char *owner);
};

struct store {
	const struct store_ops *ops;
	char errmsg[STORE_ERR_LEN];
};

/* The sqlite backend (store/sqlite.c): open (create=1: create with the
 * schema) the file at path; *out new, store_close() frees.  On failure
 * a sentence in errbuf (may be NULL). */
MUST_CHECK int store_sqlite_open(struct store **out, const char *path,
    int create, char errbuf[STORE_ERR_LEN]);

/* The PostgreSQL backend (store/pg.c): url is a libpq connection URI
 * (postgres://...); create=1 creates the schema when there is none. */
MUST_CHECK int store_pg_open(struct store **out, const char *url, int create,
    char errbuf[STORE_ERR_LEN]);
/* 1 when path names a PostgreSQL database (postgres:// or
 * postgresql://). */
int store_is_pg_url(const char *path);
/* 1 when a connection URL carries a password (user:pw@ or password=). */
int store_url_has_password(const char *url);

/* Record a message in s (may be NULL). */
void store_msg_set(struct store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

static inline MUST_CHECK int
store_tx_begin(struct store *s)
{
	return s->ops->tx_begin(s);
}

static inline MUST_CHECK int
store_tx_commit(struct store *s)
{
	return s->ops->tx_commit(s);
}

static inline void
store_tx_rollback(struct store *s)
{
	s->ops->tx_rollback(s);
}

static inline void
store_tx_announce(struct store *s)
{
	if (s->ops->tx_announce != NULL)
		s->ops->tx_announce(s);
}

static inline void
store_tx_unannounce(struct store *s)
{
	if (s->ops->tx_unannounce != NULL)
		s->ops->tx_unannounce(s);
}

static inline MUST_CHECK int
store_tx_run(struct store *s, store_unit_fn fn, void *arg)
{
	int r;

	if (s->ops->tx_run != NULL)
		return s->ops->tx_run(s, fn, arg);
	if ((r = s->ops->tx_begin(s)) != 0)
		return r;
	if ((r = fn(arg)) != 0) {
		s->ops->tx_rollback(s);
		return r;
	}
	return s->ops->tx_commit(s);
}

static inline int
store_tx_active(struct store *s)
{
	return s->ops->tx_active(s);
}

static inline MUST_CHECK int
store_snapshot_begin(struct store *s, int *began)
{
	return s->ops->snapshot_begin(s, began);
}

static inline void
store_snapshot_end(struct store *s, int began)
{
	s->ops->snapshot_end(s, began);
}

static inline MUST_CHECK int
store_event_tail(struct store *s, struct store_tail *out)
{
	return s->ops->event_tail(s, out);
}

static inline MUST_CHECK int
store_event_insert(struct store *s, const struct store_event *ev)
{
	return s->ops->event_insert(s, ev);
}

static inline MUST_CHECK int
store_events_open(
    struct store *s, int64_t since, int64_t limit, struct store_events **out)
{
	return s->ops->events_open(s, since, limit, out);
}

static inline MUST_CHECK int
store_events_next(struct store *s, struct store_events *it,
    struct store_event *ev, int *found)
{
	return s->ops->events_next(it, ev, found);
}

static inline void
store_events_close(struct store *s, struct store_events *it)
{
	if (it != NULL)
		s->ops->events_close(it);
}

static inline MUST_CHECK int
store_counter_next(struct store *s, enum store_counter c, uint64_t *out)
{
	return s->ops->counter_next(s, c, out);
}

static inline MUST_CHECK int
store_serial_reserve(struct store *s, uint64_t *out)
{
	return s->ops->serial_reserve(s, out);
}

static inline MUST_CHECK int
store_request_id_reserve(struct store *s, int64_t *out)
{
	return s->ops->request_id_reserve(s, out);
}

static inline MUST_CHECK int
store_counter_get(struct store *s, enum store_counter c, uint64_t *out)
{
	return s->ops->counter_get(s, c, out);
}

static inline MUST_CHECK int
store_changed(struct store *s, int *changed)
{
	return s->ops->changed(s, changed);
}

static inline MUST_CHECK int
store_user_get(struct store *s, const char *name, struct store_user **out)
{
	return s->ops->user_get(s, name, out);
}

static inline MUST_CHECK int
store_user_by_token(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
    struct store_user **out)
{
	return s->ops->user_by_token(s, hash, out);
}

static inline MUST_CHECK int
store_user_insert(struct store *s, const char *name, const char *groups,
    const uint8_t hash[STORE_TOKEN_HASH_LEN], uint64_t created)
{
	return s->ops->user_insert(s, name, groups, hash, created);
}

static inline MUST_CHECK int
store_user_token_set(struct store *s, const char *name,
    const uint8_t hash[STORE_TOKEN_HASH_LEN], uint64_t when)
{
	return s->ops->user_token_set(s, name, hash, when);
}

static inline MUST_CHECK int
store_user_disable(struct store *s, const char *name)
{
	return s->ops->user_disable(s, name);
}

static inline MUST_CHECK int
store_user_groups_set(struct store *s, const char *name, const char *groups)
{
	return s->ops->user_groups_set(s, name, groups);
}

static inline MUST_CHECK int
store_session_insert(struct store *s, const struct store_session *ss)
{
	return s->ops->session_insert(s, ss);
}

static inline MUST_CHECK int
store_session_get(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
    struct store_session *out)
{
	return s->ops->session_get(s, hash, out);
}

static inline MUST_CHECK int
store_sessions_purge(struct store *s, uint64_t now, uint64_t *n)
{
	return s->ops->sessions_purge(s, now, n);
}

static inline MUST_CHECK int
store_session_delete(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN])
{
	return s->ops->session_delete(s, hash);
}

static inline MUST_CHECK int
store_identity_get(
    struct store *s, const char *user, char **issuer, char **subject)
{
	return s->ops->identity_get(s, user, issuer, subject);
}

static inline MUST_CHECK int
store_identity_insert(struct store *s, const char *user, const char *issuer,
    const char *subject, uint64_t now)
{
	return s->ops->identity_insert(s, user, issuer, subject, now);
}

static inline MUST_CHECK int
store_users_each(struct store *s, int enabled_only, store_user_fn fn, void *arg)
{
	return s->ops->users_each(s, enabled_only, fn, arg);
}

static inline MUST_CHECK int
store_requests_count(
    struct store *s, uint64_t now, struct store_request_counts *out)
{
	return s->ops->requests_count(s, now, out);
}

static inline MUST_CHECK int
store_certs_match(struct store *s, const struct store_cert_query *q,
    store_cert_fn fn, void *arg)
{
	return s->ops->certs_match(s, q, fn, arg);
}

static inline MUST_CHECK int
store_event_subject_exists(
    struct store *s, const char *subject, const char *const *types, int *found)
{
	return s->ops->event_subject_exists(s, subject, types, found);
}

static inline MUST_CHECK int
store_request_exists(struct store *s, int64_t id, int *exists)
{
	return s->ops->request_exists(s, id, exists);
}

static inline MUST_CHECK int
store_cert_revoke(struct store *s, int64_t serial, uint64_t now, int *newly)
{
	return s->ops->cert_revoke(s, serial, now, newly);
}

static inline MUST_CHECK int
store_revoked_key_insert(struct store *s, const uint8_t sha256[32],
    const char *key_fp, uint64_t now, const char *reason, int *newly)
{
	return s->ops->revoked_key_insert(
	    s, sha256, key_fp, now, reason, newly);
}

static inline MUST_CHECK int
store_krl_each(struct store *s, int64_t after, store_serial_fn sfn,
    store_key_fn kfn, void *arg)
{
	return s->ops->krl_each(s, after, sfn, kfn, arg);
}

static inline MUST_CHECK int
store_krl_latest(struct store *s, int64_t after, uint64_t *when)
{
	return s->ops->krl_latest(s, after, when);
}

static inline MUST_CHECK int
store_request_get(struct store *s, int64_t id, struct store_request *out)
{
	return s->ops->request_get(s, id, out);
}

static inline MUST_CHECK int
store_request_insert(
    struct store *s, const struct store_request_new *in, int64_t *id)
{
	return s->ops->request_insert(s, in, id);
}

static inline MUST_CHECK int
store_request_state_set(struct store *s, int64_t id, const char *from,
    const char *to, int64_t serial, uint64_t now)
{
	return s->ops->request_state_set(s, id, from, to, serial, now);
}

static inline MUST_CHECK int
store_request_ttl_set(struct store *s, int64_t id, uint64_t ttl)
{
	return s->ops->request_ttl_set(s, id, ttl);
}

static inline MUST_CHECK int
store_requests_due(struct store *s, uint64_t now, int64_t **ids, size_t *n)
{
	return s->ops->requests_due(s, now, ids, n);
}

static inline MUST_CHECK int
store_requests_page(struct store *s, const struct store_request_query *q,
    int64_t *ids, size_t max, size_t *n)
{
	return s->ops->requests_page(s, q, ids, max, n);
}

static inline MUST_CHECK int
store_approvals_each(
    struct store *s, int64_t id, store_approval_fn fn, void *arg)
{
	return s->ops->approvals_each(s, id, fn, arg);
}

static inline MUST_CHECK int
store_approval_put(struct store *s, int64_t id, const struct store_approval *a,
    int replace, int *conflict)
{
	return s->ops->approval_put(s, id, a, replace, conflict);
}

static inline MUST_CHECK int
store_revoked_key_exists(struct store *s, const uint8_t sha256[32], int *found)
{
	return s->ops->revoked_key_exists(s, sha256, found);
}

static inline MUST_CHECK int
store_cert_insert(struct store *s, const struct store_cert *c)
{
	return s->ops->cert_insert(s, c);
}

static inline MUST_CHECK int
store_cert_info(struct store *s, int64_t serial, struct store_cert_info *out)
{
	return s->ops->cert_info(s, serial, out);
}

static inline MUST_CHECK int
store_rows_open(struct store *s, enum store_table t, struct store_rows **out)
{
	return s->ops->rows_open(s, t, out);
}

static inline MUST_CHECK int
store_rows_next(struct store *s, struct store_rows *it,
    const struct store_cell **row, int *found)
{
	return s->ops->rows_next(it, row, found);
}

static inline void
store_rows_close(struct store *s, struct store_rows *it)
{
	if (it != NULL)
		s->ops->rows_close(it);
}

static inline MUST_CHECK int
store_meta_get(struct store *s, const char *key, char **out)
{
	return s->ops->meta_get(s, key, out);
}

static inline MUST_CHECK int
store_row_insert(
    struct store *s, enum store_table t, const struct store_cell *row, size_t n)
{
	return s->ops->row_insert(s, t, row, n);
}

static inline MUST_CHECK int
store_counter_raise(struct store *s, enum store_counter c, uint64_t v)
{
	return s->ops->counter_raise(s, c, v);
}

static inline MUST_CHECK int
store_host_get(struct store *s, const char *name, struct store_host **out)
{
	return s->ops->host_get(s, name, out);
}

static inline MUST_CHECK int
store_host_by_token(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
    struct store_host **out)
{
	return s->ops->host_by_token(s, hash, out);
}

static inline MUST_CHECK int
store_host_insert(struct store *s, const char *name, const char *principals,
    const uint8_t hash[STORE_TOKEN_HASH_LEN], uint64_t created)
{
	return s->ops->host_insert(s, name, principals, hash, created);
}

static inline MUST_CHECK int
store_host_key_get(struct store *s, const char *name, const char *key_type,
    struct store_host_key **out)
{
	return s->ops->host_key_get(s, name, key_type, out);
}

static inline MUST_CHECK int
store_host_key_bind(struct store *s, const char *name, const char *key_type,
    const uint8_t *blob, size_t len, const char *key_fp, uint64_t when)
{
	return s->ops->host_key_bind(
	    s, name, key_type, blob, len, key_fp, when);
}

static inline MUST_CHECK int
store_host_keys_each(
    struct store *s, const char *name, store_host_key_fn fn, void *arg)
{
	return s->ops->host_keys_each(s, name, fn, arg);
}

static inline MUST_CHECK int
store_host_reset(struct store *s, const char *name)
{
	return s->ops->host_reset(s, name);
}

static inline MUST_CHECK int
store_host_disable(struct store *s, const char *name)
{
	return s->ops->host_disable(s, name);
}

static inline MUST_CHECK int
store_hosts_each(struct store *s, store_host_fn fn, void *arg)
{
	return s->ops->hosts_each(s, fn, arg);
}

static inline MUST_CHECK int
store_merkle_size(struct store *s, uint64_t *out)
{
	return s->ops->merkle_size(s, out);
}

static inline MUST_CHECK int
store_merkle_node_get(
    struct store *s, unsigned level, uint64_t idx, uint8_t out[32])
{
	return s->ops->merkle_node_get(s, level, idx, out);
}

static inline MUST_CHECK int
store_merkle_nodes_put(
    struct store *s, uint64_t leaf, const uint8_t (*made)[32], size_t n)
{
	return s->ops->merkle_nodes_put(s, leaf, made, n);
}

static inline MUST_CHECK int
store_checkpoint_insert(struct store *s, const struct store_checkpoint *c)
{
	return s->ops->checkpoint_insert(s, c);
}

static inline MUST_CHECK int
store_checkpoint_latest(struct store *s, struct store_checkpoint *out)
{
	return s->ops->checkpoint_latest(s, out);
}

static inline MUST_CHECK int
store_checkpoints_each(struct store *s, store_checkpoint_fn fn, void *arg)
{
	return s->ops->checkpoints_each(s, fn, arg);
}

static inline MUST_CHECK int
store_event_find(
    struct store *s, const char *type, const char *subject, int64_t *seq)
{
	return s->ops->event_find(s, type, subject, seq);
}

static inline MUST_CHECK int
store_notify_cursor_get(
    struct store *s, const char *sink, int64_t *seq, int *found)
{
	return s->ops->notify_cursor_get(s, sink, seq, found);
}

static inline MUST_CHECK int
store_notify_cursor_put(
    struct store *s, const char *sink, int64_t seq, uint64_t now)
{
	return s->ops->notify_cursor_put(s, sink, seq, now);
}

static inline MUST_CHECK int
store_notify_cursor_advance(struct store *s, const char *sink,
    const char *owner, int64_t seq, uint64_t now)
{
	return s->ops->notify_cursor_advance(s, sink, owner, seq, now);
}

static inline MUST_CHECK int
store_notify_lease_take(struct store *s, const char *sink, const char *owner,
    uint64_t now, uint64_t ttl)
{
	return s->ops->notify_lease_take(s, sink, owner, now, ttl);
}

static inline MUST_CHECK int
store_notify_lease_release(struct store *s, const char *sink, const char *owner)
{
	return s->ops->notify_lease_release(s, sink, owner);
}

#endif /* JITCA_STORE_H */
