/*
 * sqlite.c: the sqlite backend of store.h, and the only file that
 * includes sqlite3.h.  One file in WAL mode with synchronous=FULL; the
 * schema (ca/ledger.h) is created here and a schema 1 or 2 file migrated;
 * statements are prepared once and cached (store/sql.h); units of work
 * from several threads share one COMMIT (group commit, below); the
 * events table, the chain head and the counters in meta are read and
 * written here for chain.c.
 *
 * It does not hash, encode or check events (chain.c does), nor know
 * what the state rows mean (users.c, request.c, revoke.c,
 * ledger_state.c call the typed operations at the end of this file).
 * The statement helpers of store/sql.h are exported for the tests.
 * Works with ca/store/store.h, store/sql.h.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <semaphore.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "ca/ledger.h"
#include "ca/store/sql.h"
#include "ca/store/store.h"
#include "signer/base/num.h"

#define ZERO_HASH                                                              \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define CANON_FLAGS (JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII)
#define BUSY_TIMEOUT_MS 10000
/* Statements kept by sq_cached(): more distinct SQL texts than
 * this are prepared afresh each time (ca/ has about 50). */
#define STMT_CACHE_MAX 128
/* Read connections at most (each with its own small page cache). */
#define SQ_READERS_MAX 8
#define SQ_READER_CACHE_KIB 512
/* WAL frames after which the WAL is checkpointed (sqlite's default). */
#define CKPT_FRAMES 1000
/* Batches an sq_run() owner runs after its own (lane_continue()). */
#define SQ_CONTINUE 1

/* One cached statement, keyed by its SQL text. */
struct stmt_slot {
	char *sql;
	const char *key; /* the text asked for first (a literal, mostly) */
	uint32_t hash; /* of sql */
	sqlite3_stmt *st;
	int in_use; /* handed out, not released yet */
};

/*
 * Prepared statements of one connection (sq_cached()).  mu guards the
 * slots, not the statements: a slot handed out is in_use, and only the
 * thread it went to steps it until sq_release(); any other thread
 * asking for the same SQL then gets a fresh statement.
 */
struct stmt_cache {
	pthread_mutex_t mu;
	struct stmt_slot slot[STMT_CACHE_MAX];
	size_t n;
};

/*
 * The statements that open and end transactions and savepoints, prepared
 * once per connection (sqlite3_exec() would parse the SQL on every unit
 * and every read section): ctl_run() runs them.
 */
enum ctl {
	CTL_BEGIN, /* BEGIN (a read section) */
	CTL_BEGIN_IMMEDIATE,
	CTL_SAVEPOINT,
	CTL_RELEASE,
	CTL_ROLLBACK_TO,
	CTL_COMMIT,
	CTL_ROLLBACK,
	CTL_N
};

static const char *const ctl_sql[CTL_N] = {"BEGIN", "BEGIN IMMEDIATE",
    "SAVEPOINT unit", "RELEASE unit", "ROLLBACK TO unit", "COMMIT", "ROLLBACK"};

/*
 * A read-only connection of the pool (sq_read_begin()): a thread takes
 * one for its read section, runs it in one read transaction (a snapshot
 * of what was committed when its first statement ran, whatever the
 * writer does meanwhile) and gives it back.  Read-only: a write in a
 * read section fails instead of escaping group commit.
 */
struct sq_reader {
	struct store_sqlite *l;
	sqlite3 *db;
	unsigned depth; /* nested read_begin of the thread holding it */
	struct stmt_cache cache;
	sqlite3_stmt *ctl[CTL_N]; /* only the thread holding it runs them */
	struct sq_reader *next; /* in the pool's free list */
};

/* The reader the calling thread holds, if any (of any store). */
static _Thread_local struct sq_reader *tls_reader;
/* The store the calling thread announced a unit to (op_tx_announce()). */
static _Thread_local struct store_sqlite *tls_announced;

/*
 * A thread waiting in the group commit: for its turn to run a unit (in
 * the queue of arriving writers) or for the COMMIT that holds its unit
 * (in waiters).  Each sleeps on a semaphore of its own, posted once by
 * the thread that decided under mu that its turn has come (handing it
 * the unit) or how its COMMIT went (in rc), after that thread let go of
 * mu (wake_run()).  So only that thread wakes, and it does not then
 * wait for mu: a condition variable signalled under mu woke each
 * waiter into a wait for the mutex its signaller still held, two
 * context switches and four futex calls each, and for a batch of 32
 * a herd.  The post is the last the poster touches of a waiter (the
 * waiter may return at once; glibc's sem_post() allows that).
 */
struct sq_waiter {
	sem_t sem;
	pthread_t self;
	uint64_t batch;
	int rc;
	/* A unit queued by sq_run(): the owner may run it (ran). */
	store_unit_fn fn;
	void *arg;
	int ran;
	struct sq_waiter *next;
};

/* Whom to post once mu is let go (wake_run()). */
struct sq_wake {
	struct sq_waiter *turn; /* the unit is now its */
	struct sq_waiter *done; /* a list: their COMMIT is over */
};

struct store_sqlite {
	struct store base; /* first: a struct store * is one of these */
	sqlite3 *db;
	int64_t data_version;
	/*
	 * Group commit (see batch_finish()).  mu guards the fields below.
	 */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* readers waiting for the transaction's end */
	int worker; /* a unit of work (or its COMMIT) is in progress */
	pthread_t owner; /* ...in this thread, which alone uses db */
	unsigned arriving; /* writers waiting to start a unit */
	struct sq_waiter *queue, **queue_tail; /* ...first come first */
	/* Threads that announced a unit (op_tx_announce()), not yet in
	 * sq_begin(); a unit that ended and holds the batch open for them
	 * (hold_for_arrivals()) waits on hold_cv. */
	unsigned coming;
	int holding;
	pthread_cond_t hold_cv;
	unsigned readers; /* threads between read_begin and end */
	unsigned readers_waiting; /* threads in read_begin, waiting */
	int tx_open; /* BEGIN IMMEDIATE issued, not finished */
	int tx_broken; /* sqlite rolled the transaction back */
	unsigned batch_units; /* units released into the open one */
	uint64_t batch; /* number of the open transaction */
	struct sq_waiter *waiters; /* units waiting for their commit */
	struct store_stats stats;
	/*
	 * The chain's tail and recorded head as op_event_tail() read them or
	 * op_event_insert() left them, for op_event_tail() on the writer's
	 * connection while it holds the same write transaction (where
	 * nobody else can append): the units of a batch skip reading them
	 * back.  Dropped by every BEGIN IMMEDIATE or BEGIN of a snapshot on
	 * the writer, every ROLLBACK TO, and the end of every batch; used
	 * only in a write transaction (sqlite3_txn_state()).  Only the
	 * thread on the writer's connection touches it.
	 */
	int tail_ok;
	struct store_tail tail;
	/*
	 * The head owed to meta: in a batch (tx_open) op_event_insert()
	 * does not write head_seq and head_hash for each event but sets
	 * head.lag with the event's seq and hash here, and batch_finish()
	 * writes them once, just before the COMMIT (head_flush()).
	 * op_event_tail() reports them as the recorded head meanwhile.
	 * unit_run() and sq_rollback() put back what a unit found (a
	 * unit rolled back to its SAVEPOINT leaves meta as it was then);
	 * dropped when a transaction begins or ends.  Only the unit's
	 * owner touches them.
	 */
	struct sq_head {
		int lag;
		int64_t seq;
		char hash[STORE_HASH_HEX];
	} head, unit_head;
	/*
	 * Serials reserved ahead (op_serial_reserve()): ser_next..ser_end
	 * are durably below last_serial and not yet handed out; ser_block
	 * is the size of the next block.  ser_mu guards them.
	 */
	pthread_mutex_t ser_mu;
	uint64_t ser_next, ser_end;
	uint64_t ser_block;
	/* The next request id op_request_id_reserve() hands out (0: not
	 * read yet); rid_mu guards it (not ser_mu: op_serial_reserve()
	 * waits for the unit in progress holding ser_mu, and that unit's
	 * op_request_insert() may need rid_mu). */
	pthread_mutex_t rid_mu;
	int64_t rid_next;
	/*
	 * Checkpoints off the writer's path (ckpt_main()): the writer's
	 * connection does not checkpoint after its COMMITs; once the WAL
	 * has CKPT_FRAMES frames, a thread of its own (started then)
	 * copies them into the database on a connection of its own, and
	 * the next unit's owner copies what was added meanwhile before its
	 * BEGIN (ckpt_catch_up()), so that the WAL starts over.  ck_mu
	 * guards the fields; ck_cv wakes the thread.
	 */
	pthread_mutex_t ck_mu;
	pthread_cond_t ck_cv;
	pthread_t ck_thread;
	int ck_started, ck_stop;
	int ck_want; /* the thread is asked for a pass */
	int ck_busy; /* ...and is in it */
	int ck_done; /* a pass ended: the owner catches up */
	int ck_backfilled; /* WAL frames in the database after the pass */
	uint64_t ck_passes, ck_catch_ups;
	uint64_t ck_frames, ck_catch_up_frames; /* copied by each */
	/* The writer connection's statements: the unit's owner, and
	 * threads reading outside a read section, never share one. */
	struct stmt_cache cache;
	/* The writer's transaction statements (ctl_run()): run by the
	 * unit's owner only, or while the store is opened or closed. */
	sqlite3_stmt *ctl[CTL_N];
	/*
	 * The pool of read connections (struct sq_reader): made when
	 * needed, at most SQ_READERS_MAX, idle ones on rd_free.  rd_mu
	 * guards them; rd_cv signals one given back.
	 */
	char *path;
	pthread_mutex_t rd_mu;
	pthread_cond_t rd_cv;
	struct sq_reader *rd_free;
	unsigned rd_count;
	/*
	 * Read-ahead of merkle_node_get() in a snapshot that the thread
	 * snap_owner began (ledger verify asks for the nodes of each level
	 * in index order): one open scan per level, stepped on when the
	 * next index asked for is the next row.  Closed at snapshot_end.
	 */
	int snap_open;
	pthread_t snap_owner;
	struct node_scan {
		sqlite3_stmt *st;
		uint64_t next; /* the index the next step returns */
	} scan[64];
};

/* The connection of the calling thread: its read connection inside a
 * read section (sq_read_begin()), else the writer's. */
static sqlite3 *
cdb(const struct store_sqlite *l)
{
	struct sq_reader *rd = tls_reader;

	return rd != NULL && rd->l == l ? rd->db : l->db;
}

static struct stmt_cache *
cache_of(struct store_sqlite *l)
{
	struct sq_reader *rd = tls_reader;

	return rd != NULL && rd->l == l ? &rd->cache : &l->cache;
}

static const char *schema_sql =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
    " type TEXT NOT NULL, actor TEXT NOT NULL, subject TEXT NOT NULL,"
    " details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TABLE users(name TEXT PRIMARY KEY, groups TEXT NOT NULL,"
    " token_hash BLOB, disabled INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL, token_created INTEGER);"
    "CREATE UNIQUE INDEX users_token_hash ON users(token_hash);"
    "CREATE TABLE requests(id INTEGER PRIMARY KEY, requester TEXT NOT NULL,"
    " role TEXT NOT NULL, principals TEXT NOT NULL, ttl INTEGER NOT NULL,"
    " reason TEXT NOT NULL, public_key TEXT NOT NULL, key_fp TEXT NOT NULL,"
    " state TEXT NOT NULL, created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, approvals_required INTEGER NOT NULL,"
    " serial INTEGER, updated INTEGER NOT NULL);"
    "CREATE INDEX requests_state ON requests(state);"
    "CREATE TABLE approvals(request_id INTEGER NOT NULL,"
    " approver TEXT NOT NULL, decision TEXT NOT NULL, time INTEGER NOT NULL,"
    " comment TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY(request_id, approver));"
    "CREATE TABLE certificates(serial INTEGER PRIMARY KEY,"
    " request_id INTEGER, user TEXT NOT NULL, role TEXT NOT NULL,"
    " key_id TEXT NOT NULL UNIQUE, principals TEXT NOT NULL,"
    " valid_after INTEGER NOT NULL, valid_before INTEGER NOT NULL,"
    " key_fp TEXT NOT NULL, key_blob BLOB NOT NULL,"
    " cert_sha256 TEXT NOT NULL, certificate TEXT NOT NULL,"
    " issued INTEGER NOT NULL, revoked INTEGER);"
    "CREATE INDEX certificates_user ON certificates(user);"
    "CREATE INDEX certificates_valid_before ON certificates(valid_before);"
    "CREATE TABLE revoked_keys(key_sha256 BLOB PRIMARY KEY,"
    " key_fp TEXT NOT NULL, time INTEGER NOT NULL, reason TEXT NOT NULL);";

/*
 * Schema 3: the enrolled hosts (ca/hosts.h), with their own token hashes
 * (never in users: a host token is looked up only here) and the host key
 * bound by the first certificate request.  Run by create_schema() and by
 * the migration of a schema 2 file.
 */
static const char *hosts_sql =
    "CREATE TABLE IF NOT EXISTS hosts(name TEXT PRIMARY KEY,"
    " principals TEXT NOT NULL, token_hash BLOB,"
    " disabled INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS host_keys(name TEXT NOT NULL,"
    " key_type TEXT NOT NULL, key_blob BLOB NOT NULL,"
    " key_fp TEXT NOT NULL, bound INTEGER NOT NULL,"
    " PRIMARY KEY(name, key_type));"
    "CREATE UNIQUE INDEX IF NOT EXISTS hosts_token_hash ON"
    " hosts(token_hash);"
    "CREATE TRIGGER IF NOT EXISTS hosts_no_delete BEFORE DELETE ON hosts"
    " BEGIN SELECT RAISE(ABORT, 'hosts are never deleted'); END;";

/*
 * The notification sinks' rows (ca/outbox.h): where each sink is in the
 * events, and who delivers it.  Neither is part of the chain or of the
 * state the events determine.  Made with the schema, and added to a file
 * made before them when it is opened (check_schema()).
 */
static const char *notify_sql =
    "CREATE TABLE IF NOT EXISTS notify_cursors(sink TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL, updated INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS notify_leases(sink TEXT PRIMARY KEY,"
    " owner TEXT NOT NULL, expires INTEGER NOT NULL);";

/*
 * Sessions of signing in (store.h): not ledger state, so no schema
 * version of their own; created when missing, on a new file and on one
 * written before they existed.
 */
static const char *sessions_sql =
    "CREATE TABLE IF NOT EXISTS sessions(token_hash BLOB PRIMARY KEY,"
    " user TEXT NOT NULL, created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, auth_time INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS sessions_expires ON sessions(expires);"
    "CREATE TABLE IF NOT EXISTS identities(user TEXT PRIMARY KEY,"
    " issuer TEXT NOT NULL, subject TEXT NOT NULL,"
    " created INTEGER NOT NULL);";

/*
 * Schema 2: the state rows that must never change, or change only one
 * way, refuse other edits (a deliberate DROP TRIGGER is still possible;
 * ledger_verify_state() catches what follows), and events are indexed
 * by subject (login reports look their identity up).  Run by
 * create_schema() and by the migration of a schema 1 file
 * (check_schema()); open_index_sql adds the index to schema 2 files
 * made before it.
 */
#define EVENTS_SUBJECT_INDEX                                                   \
	"CREATE INDEX IF NOT EXISTS events_subject ON events(subject);"
static const char *open_index_sql = EVENTS_SUBJECT_INDEX;
static const char *triggers_sql = EVENTS_SUBJECT_INDEX
    "CREATE TRIGGER IF NOT EXISTS certificates_no_delete BEFORE DELETE ON"
    " certificates BEGIN SELECT RAISE(ABORT, 'certificates are"
    " append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS certificates_fixed BEFORE UPDATE OF"
    " serial, request_id, user, role, key_id, principals, valid_after,"
    " valid_before, key_fp, key_blob, cert_sha256, certificate, issued ON"
    " certificates BEGIN SELECT RAISE(ABORT, 'a certificate row never"
    " changes'); END;"
    "CREATE TRIGGER IF NOT EXISTS certificates_revoke_once BEFORE UPDATE OF"
    " revoked ON certificates WHEN OLD.revoked IS NOT NULL OR NEW.revoked"
    " IS NULL BEGIN SELECT RAISE(ABORT, 'a revocation is never undone');"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS revoked_keys_no_update BEFORE UPDATE ON"
    " revoked_keys BEGIN SELECT RAISE(ABORT, 'revoked keys are"
    " append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS revoked_keys_no_delete BEFORE DELETE ON"
    " revoked_keys BEGIN SELECT RAISE(ABORT, 'revoked keys are"
    " append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS approvals_approve_to_deny BEFORE UPDATE"
    " ON approvals WHEN NOT (OLD.decision = 'approve' AND NEW.decision ="
    " 'deny') OR NEW.request_id IS NOT OLD.request_id OR NEW.approver IS"
    " NOT OLD.approver BEGIN SELECT RAISE(ABORT, 'an approval only ever"
    " turns into a denial'); END;"
    "CREATE TRIGGER IF NOT EXISTS approvals_no_delete BEFORE DELETE ON"
    " approvals BEGIN SELECT RAISE(ABORT, 'approvals are append-only');"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS requests_no_delete BEFORE DELETE ON"
    " requests BEGIN SELECT RAISE(ABORT, 'requests are never deleted');"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS users_no_delete BEFORE DELETE ON users"
    " BEGIN SELECT RAISE(ABORT, 'users are never deleted'); END;"
    "CREATE TRIGGER IF NOT EXISTS meta_counters_up BEFORE UPDATE ON meta"
    " WHEN OLD.key IN ('last_serial', 'krl_version') AND (NEW.key IS NOT"
    " OLD.key OR CAST(NEW.value AS INTEGER) < CAST(OLD.value AS INTEGER))"
    " BEGIN SELECT RAISE(ABORT, 'counters never go down'); END;"
    "CREATE TRIGGER IF NOT EXISTS meta_counters_no_delete BEFORE DELETE ON"
    " meta WHEN OLD.key IN ('last_serial', 'krl_version') BEGIN SELECT"
    " RAISE(ABORT, 'counters never go down'); END;";

/*
 * Schema 3: the Merkle tree over the events (merkle_nodes: the hash of
 * every perfect subtree, level 0 the leaves, written with the event that
 * completes it) and the signed checkpoints (ca/checkpoint.h), both
 * append-only.  Run by create_schema() and by the migration of a schema
 * 2 file, which leaves the tree empty: chain.c fills it in from the
 * events at the next append (ledger_merkle_sync()).
 */
static const char *merkle_sql =
    "CREATE TABLE IF NOT EXISTS merkle_nodes(level INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY(level, idx))"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS checkpoints(tree_size INTEGER PRIMARY KEY,"
    " root BLOB NOT NULL, note TEXT NOT NULL, sig TEXT NOT NULL,"
    " time INTEGER NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS merkle_nodes_no_update BEFORE UPDATE ON"
    " merkle_nodes BEGIN SELECT RAISE(ABORT, 'merkle nodes are"
    " append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS merkle_nodes_no_delete BEFORE DELETE ON"
    " merkle_nodes BEGIN SELECT RAISE(ABORT, 'merkle nodes are"
    " append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON"
    " checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are"
    " append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON"
    " checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are"
    " append-only'); END;";

/* Record a message in l (which may be NULL). */
static void __attribute__((format(printf, 2, 3)))
set_msg(struct store_sqlite *l, const char *fmt, ...)
{
	va_list ap;

	if (l == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(l->base.errmsg, sizeof(l->base.errmsg), fmt, ap);
	va_end(ap);
}

static void sq_close(struct store_sqlite *l);
static void scans_close(struct store_sqlite *l);
static const struct store_ops sqlite_ops;

static int
sq_err(struct store_sqlite *l, int rc, const char *what)
{
	int prim = rc & 0xff;

	if (l != NULL) {
		const char *m = cdb(l) != NULL ? sqlite3_errmsg(cdb(l))
					       : sqlite3_errstr(rc);

		if (what != NULL)
			set_msg(l, "%s: %s", what, m);
		else
			set_msg(l, "%s", m);
	}
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return ERR_BUSY;
	/* The storage, not the data: the service answers 503 and recovers
	 * at the next write that succeeds. */
	if (prim == SQLITE_FULL)
		return ERR_LEDGER_FULL;
	if (prim == SQLITE_IOERR || prim == SQLITE_READONLY ||
	    prim == SQLITE_CANTOPEN)
		return ERR_LEDGER_UNWRITABLE;
	return ERR_DB;
}

static int
db_exec(struct store_sqlite *l, const char *sql)
{
	int rc;

	if ((rc = sqlite3_exec(cdb(l), sql, NULL, NULL, NULL)) != SQLITE_OK)
		return sq_err(l, rc, sql);
	return 0;
}

static int
sq_prepare(struct store_sqlite *l, sqlite3_stmt **st, const char *sql)
{
	int rc;

	*st = NULL;
	if ((rc = sqlite3_prepare_v2(cdb(l), sql, -1, st, NULL)) != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return sq_err(l, rc, "prepare");
	}
	return 0;
}

/*
 * Run transaction statement c on db, from the array ctl of db's prepared
 * ones (preparing it on first use); sqlite's result code, as
 * sqlite3_exec() would return it.  Reset at once: a statement left
 * halted but not reset would count as one in progress for the COMMIT.
 */
static int
ctl_run(sqlite3 *db, sqlite3_stmt *ctl[CTL_N], enum ctl c)
{
	int rc;

	if (ctl[c] == NULL &&
	    (rc = sqlite3_prepare_v3(db, ctl_sql[c], -1,
		 SQLITE_PREPARE_PERSISTENT, &ctl[c], NULL)) != SQLITE_OK) {
		sqlite3_finalize(ctl[c]);
		ctl[c] = NULL;
		return rc;
	}
	rc = sqlite3_step(ctl[c]);
	(void)sqlite3_reset(ctl[c]);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void
ctl_clear(sqlite3_stmt *ctl[CTL_N])
{
	size_t i;

	for (i = 0; i < CTL_N; i++) {
		sqlite3_finalize(ctl[i]);
		ctl[i] = NULL;
	}
}

static uint32_t
sql_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int
sq_cached(struct store_sqlite *l, sqlite3_stmt **st, const char *sql)
{
	struct stmt_slot *sl = NULL;
	struct stmt_cache *C;
	sqlite3_stmt *fresh = NULL;
	char *copy = NULL;
	uint32_t h;
	size_t i;
	int rc;

	*st = NULL;
	C = cache_of(l);
	(void)pthread_mutex_lock(&C->mu);
	/* The SQL texts are mostly literals: looked up by address first
	 * (and compared, as a buffer may be reused), then by hash. */
	for (i = 0; i < C->n; i++) {
		sl = &C->slot[i];
		if (sl->key == sql && strcmp(sl->sql, sql) == 0)
			break;
	}
	h = i < C->n ? sl->hash : sql_hash(sql);
	for (i = i < C->n ? i : 0; i < C->n; i++) {
		sl = &C->slot[i];
		if (sl->hash == h && strcmp(sl->sql, sql) == 0)
			break;
	}
	if (i < C->n && !sl->in_use) {
		sl->in_use = 1;
		*st = sl->st;
		(void)pthread_mutex_unlock(&C->mu);
		return 0;
	}
	(void)pthread_mutex_unlock(&C->mu);
	/* Not cached, or in use elsewhere (another thread, or a nested
	 * use of the same SQL): prepare one, and keep it if there is no
	 * slot for this SQL yet and room for one. */
	rc = sqlite3_prepare_v3(
	    cdb(l), sql, -1, SQLITE_PREPARE_PERSISTENT, &fresh, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(fresh);
		return sq_err(l, rc, "prepare");
	}
	if (i < C->n || (copy = strdup(sql)) == NULL) {
		*st = fresh;
		return 0;
	}
	(void)pthread_mutex_lock(&C->mu);
	for (i = 0; i < C->n; i++) {
		if (C->slot[i].hash == h && strcmp(C->slot[i].sql, sql) == 0)
			break;
	}
	if (i == C->n && C->n < STMT_CACHE_MAX) {
		sl = &C->slot[C->n++];
		sl->sql = copy;
		sl->key = sql;
		sl->hash = h;
		sl->st = fresh;
		sl->in_use = 1;
		copy = NULL;
	}
	(void)pthread_mutex_unlock(&C->mu);
	free(copy);
	*st = fresh;
	return 0;
}

static void
sq_release(struct store_sqlite *l, sqlite3_stmt *st)
{
	struct stmt_cache *C;
	size_t i;

	if (st == NULL)
		return;
	if (l != NULL) {
		C = cache_of(l);
		(void)pthread_mutex_lock(&C->mu);
		for (i = 0; i < C->n; i++) {
			if (C->slot[i].st == st && C->slot[i].in_use) {
				/* Reset before it can be handed out again:
				 * no read transaction left open, no
				 * borrowed (SQLITE_STATIC) binding kept. */
				(void)sqlite3_reset(st);
				(void)sqlite3_clear_bindings(st);
				C->slot[i].in_use = 0;
				(void)pthread_mutex_unlock(&C->mu);
				return;
			}
		}
		(void)pthread_mutex_unlock(&C->mu);
	}
	sqlite3_finalize(st);
}

static int
sq_done(struct store_sqlite *l, sqlite3_stmt *st, int *changes)
{
	int rc;

	if (changes != NULL)
		*changes = 0;
	if ((rc = sqlite3_step(st)) != SQLITE_DONE)
		return sq_err(l, rc, NULL);
	if (changes != NULL)
		*changes = sqlite3_changes(cdb(l));
	return 0;
}

static int
sq_bind_int(struct store_sqlite *l, sqlite3_stmt *st, int i, int64_t v)
{
	int rc;

	if ((rc = sqlite3_bind_int64(st, i, v)) != SQLITE_OK)
		return sq_err(l, rc, "bind");
	return 0;
}

static int
sq_bind_text(struct store_sqlite *l, sqlite3_stmt *st, int i, const char *s)
{
	int rc;

	if ((rc = sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)) != SQLITE_OK)
		return sq_err(l, rc, "bind");
	return 0;
}

static int
sq_bind_blob(
    struct store_sqlite *l, sqlite3_stmt *st, int i, const void *p, size_t len)
{
	int rc;

	if (len > INT_MAX) {
		set_msg(l, "bind: a blob of %zu bytes is too large", len);
		return ERR_TOO_LARGE;
	}
	if ((rc = sqlite3_bind_blob(st, i, p, (int)len, SQLITE_STATIC)) !=
	    SQLITE_OK)
		return sq_err(l, rc, "bind");
	return 0;
}

static int
sq_row(struct store_sqlite *l, sqlite3_stmt *st, int *found)
{
	int rc;

	*found = 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*found = 1;
	else if (rc != SQLITE_DONE)
		return sq_err(l, rc, NULL);
	return 0;
}

static const char *
sq_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t == NULL ? "" : (const char *)t;
}

static int
in_transaction(const struct store_sqlite *l)
{
	return sqlite3_get_autocommit(cdb(l)) == 0;
}

/* A meta value as a new string; *found = 0 (and *out NULL) if absent. */
static int
meta_get(struct store_sqlite *l, const char *key, char **out, int *found)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int r = ERR_INTERNAL, rc;

	*out = NULL;
	*found = 0;
	TRY(sq_cached(l, &st, "SELECT value FROM meta WHERE key = ?1"));
	TRY(sq_bind_text(l, st, 1, key));
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_err(l, rc, "read meta");
		goto out;
	}
	if ((t = sqlite3_column_text(st, 0)) == NULL) {
		r = sqlite3_errcode(cdb(l)) == SQLITE_NOMEM ? ERR_ALLOC
							    : ERR_DB;
		set_msg(l, "meta %s: not text", key);
		goto out;
	}
	if ((*out = strdup((const char *)t)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	*found = 1;
	r = 0;
out:
	sq_release(l, st);
	return r;
}

/* A write of meta: sql (cached) with the texts a and b as ?1 and ?2. */
static int
meta_write(
    struct store_sqlite *l, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	TRY(sq_cached(l, &st, sql));
	TRY(sq_bind_text(l, st, 1, a));
	TRY(sq_bind_text(l, st, 2, b));
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = sq_err(l, rc, "write meta");
		goto out;
	}
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
meta_set(struct store_sqlite *l, const char *key, const char *value)
{
	return meta_write(l,
	    "INSERT INTO meta(key, value) VALUES(?1, ?2)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	    key, value);
}

/* A numeric meta value; absent counts as 0. */
static int
meta_get_u64(struct store_sqlite *l, const char *key, uint64_t *v)
{
	char *s = NULL;
	int r = ERR_INTERNAL, found;

	*v = 0;
	TRY(meta_get(l, key, &s, &found));
	if (found && num_parse_u64(s, INT64_MAX, v) != 0) {
		set_msg(l, "meta %s: \"%.64s\" is not a number", key, s);
		r = ERR_DB;
		goto out;
	}
	r = 0;
out:
	free(s);
	return r;
}

static int
meta_set_u64(struct store_sqlite *l, const char *key, uint64_t v)
{
	char buf[32];

	(void)snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return meta_set(l, key, buf);
}

/* One integer from a single-row query with no parameters. */
static int
query_i64(struct store_sqlite *l, const char *sql, int64_t *v)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	*v = 0;
	TRY(sq_cached(l, &st, sql));
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = sq_err(l, rc, sql);
		goto out;
	}
	*v = sqlite3_column_int64(st, 0);
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
create_schema(struct store_sqlite *l)
{
	char ver[16];
	int r = ERR_INTERNAL, rc;

	(void)snprintf(ver, sizeof(ver), "%d", STORE_SCHEMA_VERSION);
	rc = sqlite3_exec(l->db, schema_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = sq_err(l, rc, "create schema");
		goto out;
	}
	rc = sqlite3_exec(l->db, triggers_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = sq_err(l, rc, "create triggers");
		goto out;
	}
	rc = sqlite3_exec(l->db, hosts_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = sq_err(l, rc, "create hosts");
		goto out;
	}
	rc = sqlite3_exec(l->db, merkle_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = sq_err(l, rc, "create the merkle tables");
		goto out;
	}
	rc = sqlite3_exec(l->db, notify_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = sq_err(l, rc, "create notification tables");
		goto out;
	}
	TRY(meta_set(l, "schema_version", ver));
	TRY(meta_set(l, "last_serial", "0"));
	TRY(meta_set(l, "krl_version", "0"));
	TRY(meta_set(l, "head_seq", "0"));
	TRY(meta_set(l, "head_hash", ZERO_HASH));
	r = 0;
out:
	return r;
}

/*
 * After an SQLITE_BUSY that sqlite's busy handler did not absorb (it is
 * not called in every case, e.g. while a WAL file is being set up or
 * recovered): 1 after a short sleep if the busy timeout, counted from
 * start, is not over yet, else 0.
 */
static int
busy_retry(const struct timespec *start)
{
	struct timespec now, nap = {0, 5 * 1000 * 1000};

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - start->tv_sec) * 1000 +
		(now.tv_nsec - start->tv_nsec) / 1000000 >=
	    BUSY_TIMEOUT_MS)
		return 0;
	(void)nanosleep(&nap, NULL);
	return 1;
}

/* BEGIN IMMEDIATE, retried while busy until the busy timeout is over. */
static int
begin_immediate(struct store_sqlite *l)
{
	struct timespec start;
	int rc;

	l->tail_ok = 0;
	l->head.lag = 0;
	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		rc = ctl_run(l->db, l->ctl, CTL_BEGIN_IMMEDIATE);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
	} while (busy_retry(&start));
	return sq_err(l, rc, "begin transaction");
}

/*
 * Schema 1 (round 1) -> 2: add the state triggers.  The tables are the
 * same; events written before keep their details (ledger_verify_state()
 * knows what they lack).  Under the write lock, re-checking the version
 * so that two processes opening the file at once migrate it once.
 */
static int
migrate_1_to_2(struct store_sqlite *l)
{
	char *ver = NULL;
	int r = ERR_INTERNAL, rc, found = 0, began = 0;

	TRY(begin_immediate(l));
	began = 1;
	TRY(meta_get(l, "schema_version", &ver, &found));
	if (found && strcmp(ver, "1") == 0) {
		rc = sqlite3_exec(l->db, triggers_sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			r = sq_err(l, rc, "migrate to schema 2");
			goto out;
		}
		TRY(meta_set(l, "schema_version", "2"));
	}
	TRY(db_exec(l, "COMMIT"));
	began = 0;
	r = 0;
out:
	if (began)
		(void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	free(ver);
	return r;
}

/* Schema 2 -> 3: add the hosts table, as migrate_1_to_2() does. */
static int
migrate_2_to_3(struct store_sqlite *l)
{
	char *ver = NULL;
	int r = ERR_INTERNAL, rc, found = 0, began = 0;

	TRY(begin_immediate(l));
	began = 1;
	TRY(meta_get(l, "schema_version", &ver, &found));
	if (found && strcmp(ver, "2") == 0) {
		rc = sqlite3_exec(l->db, hosts_sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			r = sq_err(l, rc, "migrate to schema 3");
			goto out;
		}
		TRY(meta_set(l, "schema_version", "3"));
	}
	TRY(db_exec(l, "COMMIT"));
	began = 0;
	r = 0;
out:
	if (began)
		(void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	free(ver);
	return r;
}

/*
 * Add the notification tables to a file made before them, under the
 * write lock.  A file this process may not write keeps going without
 * them: it is read (ledger verify, export), and the notification
 * operations are what would fail.
 */
static int
notify_tables(struct store_sqlite *l)
{
	int64_t n = 0;
	int r = ERR_INTERNAL, rc, began = 0;

	TRY(query_i64(l,
	    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name IN ('notify_cursors', 'notify_leases')",
	    &n));
	if (n == 2) {
		r = 0;
		goto out;
	}
	if ((r = begin_immediate(l)) != 0) {
		if (r == ERR_LEDGER_UNWRITABLE)
			r = 0;
		goto out;
	}
	began = 1;
	if ((rc = sqlite3_exec(l->db, notify_sql, NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		r = sq_err(l, rc, "add the notification tables");
		if (r == ERR_LEDGER_UNWRITABLE)
			r = 0;
		goto out;
	}
	TRY(db_exec(l, "COMMIT"));
	began = 0;
	r = 0;
out:
	if (began)
		(void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* Schema 3 to 4: the Merkle tree and checkpoint tables (empty). */
static int
migrate_3_to_4(struct store_sqlite *l)
{
	char *ver = NULL;
	int r = ERR_INTERNAL, rc, found = 0, began = 0;

	TRY(begin_immediate(l));
	began = 1;
	TRY(meta_get(l, "schema_version", &ver, &found));
	if (found && strcmp(ver, "3") == 0) {
		rc = sqlite3_exec(l->db, merkle_sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			r = sq_err(l, rc, "migrate to schema 4");
			goto out;
		}
		TRY(meta_set(l, "schema_version", "4"));
	}
	TRY(db_exec(l, "COMMIT"));
	began = 0;
	r = 0;
out:
	if (began)
		(void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	free(ver);
	return r;
}

static int
check_schema(struct store_sqlite *l, int create)
{
	char *ver = NULL;
	int64_t nmeta = 0, nobj = 0;
	int r = ERR_INTERNAL, found, began = 0;
	uint64_t v;

	TRY(query_i64(l,
	    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name = 'meta'",
	    &nmeta));
	if (nmeta == 0) {
		/* Re-check under the write lock: another process may be
		 * creating the same file right now. */
		TRY(begin_immediate(l));
		began = 1;
		TRY(query_i64(l, "SELECT count(*) FROM sqlite_master", &nobj));
		if (nobj == 0 && create) {
			TRY(create_schema(l));
		} else if (nobj != 0) {
			TRY(query_i64(l,
			    "SELECT count(*) FROM sqlite_master WHERE"
			    " type = 'table' AND name = 'meta'",
			    &nmeta));
			if (nmeta == 0) {
				set_msg(
				    l, "not a jitca ledger (no meta table)");
				r = ERR_DB;
				goto out;
			}
		} else {
			set_msg(l, "ledger is empty (not initialised)");
			r = ERR_DB;
			goto out;
		}
		if ((r = db_exec(l, "COMMIT")) != 0)
			goto out;
		began = 0;
	}
	TRY(meta_get(l, "schema_version", &ver, &found));
	if (!found) {
		set_msg(l, "not a jitca ledger (no schema_version in meta)");
		r = ERR_DB;
		goto out;
	}
	if (num_parse_u64(ver, 1000000, &v) == 0 && v == 1) {
		free(ver);
		ver = NULL;
		TRY(migrate_1_to_2(l));
		TRY(meta_get(l, "schema_version", &ver, &found));
		if (!found) {
			set_msg(l,
			    "not a jitca ledger (no schema_version in "
			    "meta)");
			r = ERR_DB;
			goto out;
		}
	}
	if (num_parse_u64(ver, 1000000, &v) == 0 && v == 2) {
		free(ver);
		ver = NULL;
		TRY(migrate_2_to_3(l));
		TRY(meta_get(l, "schema_version", &ver, &found));
		if (!found) {
			set_msg(l,
			    "not a jitca ledger (no schema_version in "
			    "meta)");
			r = ERR_DB;
			goto out;
		}
	}
	if (num_parse_u64(ver, 1000000, &v) == 0 && v == 3) {
		free(ver);
		ver = NULL;
		TRY(migrate_3_to_4(l));
		TRY(meta_get(l, "schema_version", &ver, &found));
		if (!found) {
			set_msg(l,
			    "not a jitca ledger (no schema_version in "
			    "meta)");
			r = ERR_DB;
			goto out;
		}
	}
	if (num_parse_u64(ver, 1000000, &v) != 0 || v != STORE_SCHEMA_VERSION) {
		set_msg(l,
		    "ledger schema_version \"%.32s\" is not supported "
		    "(this jitca knows %d)",
		    ver, STORE_SCHEMA_VERSION);
		r = ERR_DB;
		goto out;
	}
	/* Schema 2 files made before the subject index get it now; a file
	 * opened read-only works without it, only slower. */
	TRY(query_i64(l,
	    "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	    " AND name = 'events_subject'",
	    &nobj));
	if (nobj == 0)
		(void)sqlite3_exec(l->db, open_index_sql, NULL, NULL, NULL);
	TRY(notify_tables(l));
	TRY(query_i64(l,
	    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	    " AND name IN ('sessions', 'identities')",
	    &nobj));
	if (nobj < 2 &&
	    sqlite3_exec(l->db, sessions_sql, NULL, NULL, NULL) != SQLITE_OK &&
	    sqlite3_db_readonly(l->db, "main") != 1) {
		r = sq_err(l, sqlite3_errcode(l->db), "create sessions");
		goto out;
	}
	r = 0;
out:
	if (began)
		(void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	free(ver);
	return r;
}

static int
read_data_version(struct store_sqlite *l, int64_t *v)
{
	return query_i64(l, "PRAGMA data_version", v);
}

static int open_setup(struct store_sqlite *l, const char *path, int create);

/*
 * The checkpointer (struct store_sqlite, ck_*): sqlite checkpoints in the
 * COMMIT that takes the WAL past its limit, on the writer's connection,
 * so that COMMIT and every unit queued behind it waited for the copy of
 * a thousand pages and two fsyncs (about 3 ms, every 40 COMMITs at 16
 * connections issuing).  Here a thread copies them on a connection of
 * its own while the writer goes on; the WAL can start over only when it
 * has been copied whole at a writer's BEGIN, so the next unit's owner
 * copies the few frames added meanwhile (ckpt_catch_up()) first.
 */
static void *
ckpt_main(void *arg)
{
	struct store_sqlite *l = arg;
	sqlite3 *db = NULL;
	int nlog, ncopied;

	/* A connection learns that the file is in WAL mode when it first
	 * reads it: until then sqlite3_wal_checkpoint_v2() does nothing
	 * (and says -1 frames), so read the schema once first. */
	if (sqlite3_open_v2(l->path, &db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
		NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL,
		NULL) != SQLITE_OK) {
		/* The owner's catch-up does the whole copy instead. */
		(void)sqlite3_close_v2(db);
		db = NULL;
	}
	(void)pthread_mutex_lock(&l->ck_mu);
	for (;;) {
		while (!l->ck_want && !l->ck_stop)
			(void)pthread_cond_wait(&l->ck_cv, &l->ck_mu);
		if (l->ck_stop)
			break;
		l->ck_want = 0;
		l->ck_busy = 1;
		(void)pthread_mutex_unlock(&l->ck_mu);
		nlog = ncopied = 0;
		if (db != NULL)
			(void)sqlite3_wal_checkpoint_v2(db, NULL,
			    SQLITE_CHECKPOINT_PASSIVE, &nlog, &ncopied);
		(void)pthread_mutex_lock(&l->ck_mu);
		l->ck_busy = 0;
		l->ck_done = 1;
		l->ck_passes++;
		l->ck_backfilled = ncopied > 0 ? ncopied : 0;
		l->ck_frames += (uint64_t)l->ck_backfilled;
	}
	(void)pthread_mutex_unlock(&l->ck_mu);
	(void)sqlite3_close_v2(db);
	return NULL;
}

/* sqlite3_wal_hook() of the writer's connection, after each COMMIT
 * (its write lock let go): a pass once the WAL is CKPT_FRAMES long.
 * Replaces sqlite's own checkpoint there. */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store_sqlite *l = arg;
	int inline_pass = 0;

	(void)name;
	if (frames < CKPT_FRAMES)
		return SQLITE_OK;
	(void)pthread_mutex_lock(&l->ck_mu);
	if (!l->ck_want && !l->ck_busy && !l->ck_done && !l->ck_stop) {
		if (!l->ck_started &&
		    pthread_create(&l->ck_thread, NULL, ckpt_main, l) == 0)
			l->ck_started = 1;
		if (l->ck_started) {
			l->ck_want = 1;
			(void)pthread_cond_signal(&l->ck_cv);
		} else
			inline_pass = 1; /* no thread: as sqlite would */
	}
	(void)pthread_mutex_unlock(&l->ck_mu);
	if (inline_pass)
		(void)sqlite3_wal_checkpoint_v2(
		    db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/* Before a BEGIN of the writer, by the unit's owner (without mu): after
 * a pass of ckpt_main(), copy what was added since, so that the WAL
 * starts over at the first write. */
static void
ckpt_catch_up(struct store_sqlite *l)
{
	int due, nlog = 0, ncopied = 0;

	(void)pthread_mutex_lock(&l->ck_mu);
	due = l->ck_done;
	l->ck_done = 0;
	(void)pthread_mutex_unlock(&l->ck_mu);
	if (!due)
		return;
	(void)sqlite3_wal_checkpoint_v2(
	    l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &ncopied);
	(void)pthread_mutex_lock(&l->ck_mu);
	l->ck_catch_ups++;
	if (ncopied > l->ck_backfilled)
		l->ck_catch_up_frames += (uint64_t)(ncopied - l->ck_backfilled);
	(void)pthread_mutex_unlock(&l->ck_mu);
}

/* Stop the checkpointer (before the connections close). */
static void
ckpt_stop(struct store_sqlite *l)
{
	int started;

	(void)pthread_mutex_lock(&l->ck_mu);
	l->ck_stop = 1;
	started = l->ck_started;
	(void)pthread_cond_signal(&l->ck_cv);
	(void)pthread_mutex_unlock(&l->ck_mu);
	if (started)
		(void)pthread_join(l->ck_thread, NULL);
}

static int
sq_open(struct store_sqlite **out, const char *path, int create,
    char errbuf[STORE_ERR_LEN])
{
	struct store_sqlite *l = NULL;
	struct timespec start;
	struct stat sb;
	int r = ERR_INTERNAL, rc, fd;

	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (out != NULL)
		*out = NULL;
	if (out == NULL || path == NULL || *path == '\0')
		return ERR_INVALID_ARG;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ERR_ALLOC;
	l->base.ops = &sqlite_ops;
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		l = NULL;
		r = ERR_SYSTEM;
		goto out;
	}
	if (pthread_mutex_init(&l->cache.mu, NULL) != 0) {
		(void)pthread_mutex_destroy(&l->mu);
		free(l);
		l = NULL;
		r = ERR_SYSTEM;
		goto out;
	}
	(void)pthread_cond_init(&l->cv, NULL);
	{
		pthread_condattr_t ca;

		(void)pthread_condattr_init(&ca);
		(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		(void)pthread_cond_init(&l->hold_cv, &ca);
		(void)pthread_condattr_destroy(&ca);
	}
	(void)pthread_mutex_init(&l->rd_mu, NULL);
	(void)pthread_mutex_init(&l->ser_mu, NULL);
	(void)pthread_mutex_init(&l->rid_mu, NULL);
	(void)pthread_mutex_init(&l->ck_mu, NULL);
	(void)pthread_cond_init(&l->ck_cv, NULL);
	(void)pthread_cond_init(&l->rd_cv, NULL);
	l->queue_tail = &l->queue;
	if ((l->path = strdup(path)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (stat(path, &sb) != 0) {
		int e = errno;

		if (e != ENOENT || !create) {
			set_msg(l, "%s: %s", path, strerror(e));
			r = e == ENOENT ? ERR_NOT_FOUND : ERR_SYSTEM;
			goto out;
		}
		/* Create it ourselves so that it is 0600 whatever the umask;
		 * sqlite gives -wal and -shm the mode of the database. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			set_msg(l, "create %s: %s", path, strerror(errno));
			r = ERR_SYSTEM;
			goto out;
		}
		if (fd >= 0)
			(void)close(fd);
	}
	rc = sqlite3_open_v2(
	    path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		r = sq_err(l, rc, path);
		goto out;
	}
	(void)sqlite3_extended_result_codes(l->db, 1);
	if ((rc = sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS)) != SQLITE_OK) {
		r = sq_err(l, rc, "busy_timeout");
		goto out;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	while (
	    (r = open_setup(l, path, create)) == ERR_BUSY && busy_retry(&start))
		;
	if (r != 0)
		goto out;
	l->base.errmsg[0] = '\0';
	*out = l;
	l = NULL;
	r = 0;
out:
	if (l != NULL && errbuf != NULL)
		(void)snprintf(errbuf, STORE_ERR_LEN, "%s", l->base.errmsg);
	sq_close(l);
	return r;
}

/* Connection settings and the schema check, on an open connection. */
static int
open_setup(struct store_sqlite *l, const char *path, int create)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int r = ERR_INTERNAL, rc;

	TRY(db_exec(l, "PRAGMA foreign_keys = ON"));
	TRY(db_exec(l, "PRAGMA trusted_schema = OFF"));
	TRY(sq_prepare(l, &st, "PRAGMA journal_mode = WAL"));
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = sq_err(l, rc, path);
		goto out;
	}
	mode = sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
		set_msg(l, "%s: cannot switch to WAL mode", path);
		r = ERR_DB;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	(void)sqlite3_wal_hook(l->db, wal_hook, l);
	TRY(db_exec(l, "PRAGMA synchronous = FULL"));
	/* The statement journals and savepoint sub-journals of a unit in
	 * memory: on disk each is a temporary file opened, written and
	 * unlinked per statement (openat, unlink and access calls in every
	 * issuance), and nothing in them needs to survive a crash (the WAL
	 * is the durable copy). */
	TRY(db_exec(l, "PRAGMA temp_store = MEMORY"));
	TRY(check_schema(l, create));
	TRY(read_data_version(l, &l->data_version));
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

/* Finalize every statement of c (no thread is using them). */
static void
cache_clear(struct stmt_cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		sqlite3_finalize(c->slot[i].st);
		free(c->slot[i].sql);
	}
	c->n = 0;
}

static void
reader_free(struct sq_reader *rd)
{
	if (rd == NULL)
		return;
	cache_clear(&rd->cache);
	ctl_clear(rd->ctl);
	if (rd->db != NULL) {
		if (sqlite3_get_autocommit(rd->db) == 0)
			(void)sqlite3_exec(
			    rd->db, "ROLLBACK", NULL, NULL, NULL);
		(void)sqlite3_close_v2(rd->db);
	}
	(void)pthread_mutex_destroy(&rd->cache.mu);
	free(rd);
}

static void
sq_close(struct store_sqlite *l)
{
	struct sq_reader *rd;

	if (l == NULL)
		return;
	ckpt_stop(l);
	while ((rd = l->rd_free) != NULL) {
		l->rd_free = rd->next;
		reader_free(rd);
	}
	cache_clear(&l->cache);
	ctl_clear(l->ctl);
	scans_close(l);
	if (l->db != NULL) {
		if (sqlite3_get_autocommit(l->db) == 0)
			(void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		(void)sqlite3_close_v2(l->db);
	}
	free(l->path);
	(void)pthread_cond_destroy(&l->rd_cv);
	(void)pthread_mutex_destroy(&l->rd_mu);
	(void)pthread_mutex_destroy(&l->ser_mu);
	(void)pthread_mutex_destroy(&l->rid_mu);
	(void)pthread_cond_destroy(&l->ck_cv);
	(void)pthread_mutex_destroy(&l->ck_mu);
	(void)pthread_mutex_destroy(&l->cache.mu);
	(void)pthread_cond_destroy(&l->cv);
	(void)pthread_cond_destroy(&l->hold_cv);
	(void)pthread_mutex_destroy(&l->mu);
	free(l);
}

/*
 * Group commit.  Units of work (begin ... commit/rollback) from several
 * threads share one sqlite transaction and so one fsync: a unit runs
 * inside a SAVEPOINT of the open transaction; when it is released and
 * another writer is already waiting, the transaction stays open for that
 * writer's unit; the last unit in line (or the STORE_BATCH_MAX-th)
 * commits for all of them.  Each committing thread then waits until the
 * COMMIT that holds its unit has finished and returns that COMMIT's
 * result: nothing a unit produced may leave the process before then
 * (docs/design.md invariant 1).  A lone writer commits at once, so a single
 * process (the admin commands) sees plain transactions.
 *
 * Units run one at a time, first come first served: the thread whose
 * unit it is (worker, owner) alone uses the writer's connection, also
 * while it runs BEGIN IMMEDIATE or the COMMIT without mu, and hands the
 * unit to the next writer in the queue itself (turn_pass()).  Readers
 * without a pooled connection (sq_read_begin) run only between
 * transactions, so they never see uncommitted rows.
 */

/* Post the waiters collected in wk.  Called without mu. */
static void
wake_run(struct sq_wake *wk)
{
	struct sq_waiter *w, *next;

	/* The next unit first: the writer's connection idles until it
	 * runs. */
	if (wk->turn != NULL)
		(void)sem_post(&wk->turn->sem);
	for (w = wk->done; w != NULL; w = next) {
		next = w->next; /* w may be gone once posted */
		(void)sem_post(&w->sem);
	}
	wk->turn = NULL;
	wk->done = NULL;
}

/* Sleep until w is posted. */
static void
waiter_sleep(struct sq_waiter *w)
{
	while (sem_wait(&w->sem) != 0 && errno == EINTR)
		;
	(void)sem_destroy(&w->sem);
}

/* seq and hash as the recorded head in t (what meta would read). */
static void
tail_set_head(struct store_tail *t, int64_t seq, const char *hash)
{
	t->have_head_seq = 1;
	(void)snprintf(
	    t->head_seq_text, sizeof(t->head_seq_text), "%" PRId64, seq);
	t->head_seq_ok = 1;
	t->head_seq = (uint64_t)seq;
	t->have_head_hash = 1;
	(void)snprintf(t->head_hash, sizeof(t->head_hash), "%s", hash);
}

/* meta's head_seq and head_hash, both in one statement. */
static int
head_write(struct store_sqlite *l, int64_t seq, const char *hash)
{
	char buf[32];

	(void)snprintf(buf, sizeof(buf), "%" PRId64, seq);
	return meta_write(l,
	    "INSERT INTO meta(key, value) VALUES('head_seq', ?1),"
	    " ('head_hash', ?2)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	    buf, hash);
}

/* Write the head owed to meta (l->head), if any: by the unit's owner,
 * before the COMMIT, on the writer's connection (never a reader's). */
static int
head_flush(struct store_sqlite *l)
{
	int r;

	if (!l->head.lag)
		return 0;
	if (cdb(l) != l->db) {
		set_msg(l,
		    "the ledger's head cannot be written from a read "
		    "section");
		return ERR_INTERNAL;
	}
	if ((r = head_write(l, l->head.seq, l->head.hash)) == 0)
		l->head.lag = 0;
	return r;
}

/*
 * Finish the open transaction: COMMIT (or ROLLBACK when it is broken),
 * then set how it went in every waiter of this batch and put them on
 * wk->done.  Called with mu by the thread the unit is with (worker);
 * mu is let go during the COMMIT, so that writers arriving meanwhile
 * queue up and sleep at once rather than wait for the mutex through
 * the fsync.
 */
static void
batch_finish(struct store_sqlite *l, struct sq_wake *wk)
{
	struct sq_waiter **pw, *w;
	int rc, r = 0;

	if (l->tx_open) {
		if (l->tx_broken || sqlite3_get_autocommit(l->db)) {
			set_msg(l, "the transaction was rolled back by sqlite");
			r = ERR_DB;
		} else {
			(void)pthread_mutex_unlock(&l->mu);
			if ((r = head_flush(l)) == 0 &&
			    (rc = ctl_run(l->db, l->ctl, CTL_COMMIT)) !=
				SQLITE_OK)
				r = sq_err(l, rc, "commit");
			(void)pthread_mutex_lock(&l->mu);
		}
		if (r != 0 && !sqlite3_get_autocommit(l->db))
			(void)ctl_run(l->db, l->ctl, CTL_ROLLBACK);
		l->tail_ok = 0;
		l->head.lag = 0;
		l->stats.commits++;
		if (l->batch_units > l->stats.max_batch)
			l->stats.max_batch = l->batch_units;
	}
	for (pw = &l->waiters; (w = *pw) != NULL;) {
		if (w->batch == l->batch) {
			w->rc = r;
			*pw = w->next;
			w->next = wk->done;
			wk->done = w;
		} else
			pw = &w->next;
	}
	l->tx_open = 0;
	l->tx_broken = 0;
	l->batch_units = 0;
}

/*
 * No unit is in progress: give it to the first writer in the queue if
 * it may start, to be posted (wk->turn).  Between transactions, readers
 * without a pooled connection go first (they were woken by
 * readers_wake(); the last one's sq_read_end() passes the turn on).
 * Called with mu.
 */
static void
turn_pass(struct store_sqlite *l, struct sq_wake *wk)
{
	struct sq_waiter *h = l->queue;

	if (l->worker || h == NULL ||
	    (!l->tx_open && (l->readers > 0 || l->readers_waiting > 0)))
		return;
	if ((l->queue = h->next) == NULL)
		l->queue_tail = &l->queue;
	l->arriving--;
	l->worker = 1;
	l->owner = h->self;
	wk->turn = h;
}

/* Wake the readers waiting in sq_read_begin() for the writer's
 * connection, once it is free.  Called with mu. */
static void
readers_wake(struct store_sqlite *l)
{
	if (l->readers_waiting > 0 && !l->worker && !l->tx_open)
		(void)pthread_cond_broadcast(&l->cv);
}

/* The unit in this thread is over: hand the open transaction to a
 * waiting writer, or finish it.  Called with mu. */
static void
unit_end(struct store_sqlite *l, struct sq_wake *wk)
{
	if (!l->tx_open || l->tx_broken || l->arriving == 0 ||
	    l->batch_units >= STORE_BATCH_MAX)
		batch_finish(l, wk);
	l->worker = 0;
	readers_wake(l);
	turn_pass(l, wk);
}

/*
 * The unit of this thread is released and nobody waits to start the
 * next, but threads that announced a unit are on their way (signing
 * ahead): keep the transaction open for them a little, so that they
 * share this batch's COMMIT instead of each paying for another.  Ends
 * as soon as one arrives (sq_begin() signals) or nobody is announced
 * any more, and after STORE_HOLD_US at the latest, so an announced
 * thread that is slow (or waits for something this batch holds) delays
 * the COMMIT by that much only.  A lone writer never waits: nobody else
 * announced.  Called with mu, by the unit's owner.
 */
static void
hold_for_arrivals(struct store_sqlite *l)
{
	struct timespec dl;

	if (!l->tx_open || l->tx_broken || l->arriving > 0 || l->coming == 0 ||
	    l->batch_units >= STORE_BATCH_MAX)
		return;
	(void)clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_nsec += (long)STORE_HOLD_US * 1000;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	l->holding = 1;
	l->stats.holds++;
	while (l->arriving == 0 && l->coming > 0) {
		if (pthread_cond_timedwait(&l->hold_cv, &l->mu, &dl) ==
		    ETIMEDOUT) {
			l->stats.hold_timeouts++;
			break;
		}
	}
	l->holding = 0;
}

static int
owns_unit(struct store_sqlite *l)
{
	return l->worker && pthread_equal(l->owner, pthread_self());
}

/*
 * Take the unit for this thread: at once when the writer is free, else
 * in line, first come first served (the queue keeps the wait fair,
 * which keeps the tail latency of a busy service short).  fn, arg: the
 * unit of sq_run(), which the owner may run for us meanwhile; then
 * this returns 1 with the outcome in me->rc (its COMMIT is over), else
 * 0 with the unit ours.  Called with mu, which is let go while waiting.
 */
static int
lane_take(
    struct store_sqlite *l, struct sq_waiter *me, store_unit_fn fn, void *arg)
{
	if (tls_announced == l) {
		tls_announced = NULL; /* it has come */
		l->coming--;
	}
	if (!l->worker && l->queue == NULL && (l->tx_open || l->readers == 0)) {
		l->worker = 1;
		l->owner = pthread_self();
		return 0;
	}
	memset(me, 0, sizeof(*me));
	(void)sem_init(&me->sem, 0, 0);
	me->self = pthread_self();
	me->fn = fn;
	me->arg = arg;
	*l->queue_tail = me;
	l->queue_tail = &me->next;
	l->arriving++;
	if (l->holding) /* the batch waits for units like this one */
		(void)pthread_cond_signal(&l->hold_cv);
	(void)pthread_mutex_unlock(&l->mu);
	waiter_sleep(me); /* turn_pass() gave us the unit, or it ran */
	(void)pthread_mutex_lock(&l->mu);
	return me->ran;
}

/*
 * The unit is ours: make sure a transaction is open for it (BEGIN
 * IMMEDIATE without mu, as the COMMIT: the unit keeps others off db).
 * On failure the unit is passed on.  Called with mu.
 */
static int
lane_open(struct store_sqlite *l, struct sq_wake *wk)
{
	int r;

	if (l->tx_open && (l->tx_broken || sqlite3_get_autocommit(l->db))) {
		/* Fail the units already in it; start afresh. */
		l->tx_broken = 1;
		batch_finish(l, wk);
	}
	if (l->tx_open)
		return 0;
	(void)pthread_mutex_unlock(&l->mu);
	ckpt_catch_up(l);
	r = begin_immediate(l);
	(void)pthread_mutex_lock(&l->mu);
	if (r != 0) {
		l->worker = 0;
		readers_wake(l);
		turn_pass(l, wk);
		return r;
	}
	l->tx_open = 1;
	l->batch++;
	return 0;
}

/*
 * Run fn(arg) as one unit, by the unit's owner, without mu: inside a
 * SAVEPOINT, released when fn returns 0, else rolled back to (and fn's
 * result returned).  *broken: sqlite rolled the whole transaction back
 * or a savepoint statement failed, so nothing in it can be trusted.
 */
static int
unit_run(struct store_sqlite *l, store_unit_fn fn, void *arg, int *broken)
{
	int rc, r;

	*broken = 0;
	if ((rc = ctl_run(l->db, l->ctl, CTL_SAVEPOINT)) != SQLITE_OK) {
		*broken = 1;
		return sq_err(l, rc, "begin transaction");
	}
	l->unit_head = l->head;
	if ((r = fn(arg)) == 0) {
		if ((rc = ctl_run(l->db, l->ctl, CTL_RELEASE)) != SQLITE_OK) {
			*broken = 1;
			return sq_err(l, rc, "commit");
		}
	} else {
		l->tail_ok = 0;
		l->head = l->unit_head;
		if (ctl_run(l->db, l->ctl, CTL_ROLLBACK_TO) != SQLITE_OK ||
		    ctl_run(l->db, l->ctl, CTL_RELEASE) != SQLITE_OK)
			*broken = 1;
	}
	if (sqlite3_get_autocommit(l->db)) {
		*broken = 1;
		if (r == 0) {
			set_msg(l, "the transaction was rolled back by sqlite");
			r = ERR_DB;
		}
	}
	return r;
}

/* w's unit is in the open transaction: it waits for its COMMIT.
 * Called with mu. */
static void
unit_join(struct store_sqlite *l, struct sq_waiter *w)
{
	w->batch = l->batch;
	w->next = l->waiters;
	l->waiters = w;
	l->batch_units++;
	l->stats.units++;
}

/* w's unit is over without a COMMIT to wait for (it failed, or its
 * transaction could not begin): post it with rc.  Called with mu. */
static void
unit_settle(struct sq_wake *wk, struct sq_waiter *w, int rc)
{
	w->ran = 1;
	w->rc = rc;
	w->next = wk->done;
	wk->done = w;
}

/* Run the queued unit h in this thread (mu let go meanwhile): it joins
 * the batch, or, undone, nothing of it waits for the COMMIT.  Called
 * with mu. */
static void
unit_run_for(struct store_sqlite *l, struct sq_waiter *h, struct sq_wake *wk)
{
	int r, broken;

	(void)pthread_mutex_unlock(&l->mu);
	r = unit_run(l, h->fn, h->arg, &broken);
	(void)pthread_mutex_lock(&l->mu);
	if (broken)
		l->tx_broken = 1;
	if (r == 0) {
		h->ran = 1;
		unit_join(l, h);
	} else
		unit_settle(wk, h, r);
}

/*
 * The owner's unit is in: before the batch is finished or passed on,
 * run the units that sq_run() queued behind it, one after the other in
 * this thread, while the batch has room (holding it open a little for
 * announced units, hold_for_arrivals()).  Waking each of their threads
 * to run its own unit would leave the writer's connection idle for a
 * context switch per unit; those threads sleep on until their COMMIT.
 * Stops at the first unit that runs in its own thread (sq_begin()).
 * Only sq_run() calls it: its callers hold no lock a queued unit takes
 * (sq_commit()'s may).  Called with mu.
 */
static void
units_combine(struct store_sqlite *l, struct sq_wake *wk)
{
	struct sq_waiter *h;

	for (;;) {
		if (l->tx_broken)
			return;
		hold_for_arrivals(l);
		if ((h = l->queue) == NULL || h->fn == NULL ||
		    l->batch_units >= STORE_BATCH_MAX)
			return;
		if ((l->queue = h->next) == NULL)
			l->queue_tail = &l->queue;
		l->arriving--;
		unit_run_for(l, h, wk);
	}
}

/*
 * After this thread's batch committed, unit_end() gave the writer to the
 * first unit in line (wk->turn).  When that is a unit of sq_run() (fn),
 * run it here instead, and the units queued behind it, as the next
 * batch: waking its thread to run it would leave the writer idle until
 * that thread gets a core (0.5-0.8 ms of a 3-5 ms cycle with both cores
 * busy signing).  The finished batch's threads are woken first: their
 * answers do not wait.  Returns 1 when it ran a batch (and may be
 * called again), 0 when there was none to take.  Called with mu.
 */
static int
lane_continue(struct store_sqlite *l, struct sq_wake *wk)
{
	struct sq_waiter *h = wk->turn;
	int r;

	if (h == NULL || h->fn == NULL || l->tx_open)
		return 0;
	/* The unit is this thread's now (turn_pass() set worker). */
	wk->turn = NULL;
	l->owner = pthread_self();
	(void)pthread_mutex_unlock(&l->mu);
	wake_run(wk);
	(void)pthread_mutex_lock(&l->mu);
	if ((r = lane_open(l, wk)) != 0) {
		unit_settle(wk, h, r);
		return 0;
	}
	unit_run_for(l, h, wk);
	units_combine(l, wk);
	unit_end(l, wk);
	return 1;
}

/*
 * The start of sq_begin() and sq_run(): refuse a unit inside this
 * thread's own, take the unit (lane_take(); *ran: an owner ran fn for
 * us, and me->rc is returned) and open its transaction.  Without mu.
 */
static int
unit_start(struct store_sqlite *l, struct sq_waiter *me, store_unit_fn fn,
    void *arg, int *ran)
{
	struct sq_wake wk = {NULL, NULL};
	int r;

	*ran = 0;
	(void)pthread_mutex_lock(&l->mu);
	if (owns_unit(l)) {
		(void)pthread_mutex_unlock(&l->mu);
		set_msg(l, "a transaction is already open");
		return ERR_INVALID_ARG;
	}
	if (lane_take(l, me, fn, arg)) {
		(void)pthread_mutex_unlock(&l->mu);
		*ran = 1;
		return me->rc;
	}
	r = lane_open(l, &wk);
	(void)pthread_mutex_unlock(&l->mu);
	wake_run(&wk);
	return r;
}

static int
sq_begin(struct store_sqlite *l)
{
	struct sq_waiter me;
	struct sq_wake wk = {NULL, NULL};
	int rc, r, ran;

	if (l == NULL)
		return ERR_INVALID_ARG;
	if ((r = unit_start(l, &me, NULL, NULL, &ran)) != 0)
		return r;
	/* Outside mu: only the worker touches the connection now. */
	if ((rc = ctl_run(l->db, l->ctl, CTL_SAVEPOINT)) != SQLITE_OK) {
		r = sq_err(l, rc, "begin transaction");
		(void)pthread_mutex_lock(&l->mu);
		l->tx_broken = 1;
		unit_end(l, &wk);
		(void)pthread_mutex_unlock(&l->mu);
		wake_run(&wk);
		return r;
	}
	l->unit_head = l->head;
	return 0;
}

static int
sq_commit(struct store_sqlite *l)
{
	struct sq_waiter w;
	struct sq_wake wk = {NULL, NULL};
	int rc, r;

	if (l == NULL)
		return ERR_INVALID_ARG;
	(void)pthread_mutex_lock(&l->mu);
	if (!owns_unit(l)) {
		(void)pthread_mutex_unlock(&l->mu);
		set_msg(l, "no transaction is open");
		return ERR_INVALID_ARG;
	}
	(void)pthread_mutex_unlock(&l->mu);
	rc = ctl_run(l->db, l->ctl, CTL_RELEASE);
	r = rc == SQLITE_OK ? 0 : sq_err(l, rc, "commit");
	(void)pthread_mutex_lock(&l->mu);
	if (r != 0 || sqlite3_get_autocommit(l->db)) {
		/* Cannot tell what survived: fail the whole batch. */
		l->tx_broken = 1;
		if (r == 0) {
			set_msg(l, "the transaction was rolled back by sqlite");
			r = ERR_DB;
		}
	}
	memset(&w, 0, sizeof(w));
	(void)sem_init(&w.sem, 0, 0);
	w.self = pthread_self();
	unit_join(l, &w);
	/* Not units_combine(): this thread may hold locks of its caller
	 * that a queued unit takes; sq_run() callers promise not to. */
	if (r == 0)
		hold_for_arrivals(l);
	unit_end(l, &wk); /* may commit, and then posts w too */
	(void)pthread_mutex_unlock(&l->mu);
	wake_run(&wk);
	waiter_sleep(&w);
	return r != 0 ? r : w.rc;
}

/* store.h tx_run: fn as one unit, maybe run by the owner of the unit
 * in progress (units_combine()). */
static int
sq_run(struct store_sqlite *l, store_unit_fn fn, void *arg)
{
	struct sq_waiter me;
	struct sq_wake wk = {NULL, NULL};
	int r, broken, ran, i;

	if (l == NULL || fn == NULL)
		return ERR_INVALID_ARG;
	if ((r = unit_start(l, &me, fn, arg, &ran)) != 0 || ran)
		return r;
	r = unit_run(l, fn, arg, &broken);
	(void)pthread_mutex_lock(&l->mu);
	if (broken)
		l->tx_broken = 1;
	if (r == 0) {
		memset(&me, 0, sizeof(me));
		(void)sem_init(&me.sem, 0, 0);
		me.self = pthread_self();
		unit_join(l, &me);
	}
	units_combine(l, &wk);
	unit_end(l, &wk); /* may commit, and then posts me too */
	/* At most SQ_CONTINUE batches more: this thread's own answer
	 * waits for them. */
	for (i = 0; i < SQ_CONTINUE && lane_continue(l, &wk); i++)
		;
	(void)pthread_mutex_unlock(&l->mu);
	wake_run(&wk);
	if (r != 0)
		return r;
	waiter_sleep(&me);
	return me.rc;
}

static void
sq_rollback(struct store_sqlite *l)
{
	struct sq_wake wk = {NULL, NULL};

	if (l == NULL || l->db == NULL)
		return;
	(void)pthread_mutex_lock(&l->mu);
	if (!owns_unit(l)) {
		(void)pthread_mutex_unlock(&l->mu);
		return;
	}
	(void)pthread_mutex_unlock(&l->mu);
	l->tail_ok = 0;
	l->head = l->unit_head;
	if (ctl_run(l->db, l->ctl, CTL_ROLLBACK_TO) != SQLITE_OK ||
	    ctl_run(l->db, l->ctl, CTL_RELEASE) != SQLITE_OK) {
		(void)pthread_mutex_lock(&l->mu);
		l->tx_broken = 1;
	} else
		(void)pthread_mutex_lock(&l->mu);
	unit_end(l, &wk);
	(void)pthread_mutex_unlock(&l->mu);
	wake_run(&wk);
}

/* A new read connection of l's pool; NULL when it cannot be opened. */
static struct sq_reader *
reader_open(struct store_sqlite *l)
{
	struct sq_reader *rd;
	char pragma[64];

	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return NULL;
	rd->l = l;
	(void)pthread_mutex_init(&rd->cache.mu, NULL);
	(void)snprintf(pragma, sizeof(pragma), "PRAGMA cache_size = -%d",
	    SQ_READER_CACHE_KIB);
	if (sqlite3_open_v2(l->path, &rd->db,
		SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW |
		    SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(rd->db, BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    sqlite3_exec(rd->db, "PRAGMA trusted_schema = OFF", NULL, NULL,
		NULL) != SQLITE_OK ||
	    sqlite3_exec(rd->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
		reader_free(rd);
		return NULL;
	}
	(void)sqlite3_extended_result_codes(rd->db, 1);
	return rd;
}

/*
 * Take a read connection for the calling thread: an idle one, a new one
 * while there are fewer than SQ_READERS_MAX, else wait for one.  NULL
 * when none can be opened (the caller then reads on the writer's
 * connection between transactions, as before the pool).
 */
static struct sq_reader *
reader_take(struct store_sqlite *l)
{
	struct sq_reader *rd = NULL;
	int make = 0;

	(void)pthread_mutex_lock(&l->rd_mu);
	while (l->rd_free == NULL && l->rd_count >= SQ_READERS_MAX)
		(void)pthread_cond_wait(&l->rd_cv, &l->rd_mu);
	if ((rd = l->rd_free) != NULL)
		l->rd_free = rd->next;
	else {
		l->rd_count++;
		make = 1;
	}
	(void)pthread_mutex_unlock(&l->rd_mu);
	if (make && (rd = reader_open(l)) == NULL) {
		(void)pthread_mutex_lock(&l->rd_mu);
		l->rd_count--;
		(void)pthread_cond_signal(&l->rd_cv);
		(void)pthread_mutex_unlock(&l->rd_mu);
		return NULL;
	}
	/* One snapshot for the whole read section. */
	if (ctl_run(rd->db, rd->ctl, CTL_BEGIN) != SQLITE_OK) {
		reader_free(rd);
		(void)pthread_mutex_lock(&l->rd_mu);
		l->rd_count--;
		(void)pthread_cond_signal(&l->rd_cv);
		(void)pthread_mutex_unlock(&l->rd_mu);
		return NULL;
	}
	return rd;
}

static void
reader_give(struct store_sqlite *l, struct sq_reader *rd)
{
	(void)ctl_run(rd->db, rd->ctl, CTL_COMMIT);
	if (sqlite3_get_autocommit(rd->db) == 0)
		(void)ctl_run(rd->db, rd->ctl, CTL_ROLLBACK);
	(void)pthread_mutex_lock(&l->rd_mu);
	rd->next = l->rd_free;
	l->rd_free = rd;
	(void)pthread_cond_signal(&l->rd_cv);
	(void)pthread_mutex_unlock(&l->rd_mu);
}

static void
sq_read_begin(struct store_sqlite *l)
{
	struct sq_reader *rd = tls_reader;

	if (l == NULL)
		return;
	if (rd != NULL && rd->l == l) {
		rd->depth++;
		return;
	}
	/* A thread reading two stores at once keeps its first reader. */
	if (rd == NULL && (rd = reader_take(l)) != NULL) {
		rd->depth = 1;
		tls_reader = rd;
		return;
	}
	(void)pthread_mutex_lock(&l->mu);
	l->readers_waiting++;
	while (l->worker || l->tx_open)
		(void)pthread_cond_wait(&l->cv, &l->mu);
	l->readers_waiting--;
	l->readers++;
	(void)pthread_mutex_unlock(&l->mu);
}

static void
sq_read_end(struct store_sqlite *l)
{
	struct sq_reader *rd = tls_reader;
	struct sq_wake wk = {NULL, NULL};

	if (l == NULL)
		return;
	if (rd != NULL && rd->l == l) {
		if (--rd->depth == 0) {
			tls_reader = NULL;
			reader_give(l, rd);
		}
		return;
	}
	(void)pthread_mutex_lock(&l->mu);
	if (l->readers > 0)
		l->readers--;
	if (l->readers == 0)
		turn_pass(l, &wk);
	(void)pthread_mutex_unlock(&l->mu);
	wake_run(&wk);
}

static void
sq_stats_get(struct store_sqlite *l, struct store_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (l == NULL)
		return;
	(void)pthread_mutex_lock(&l->mu);
	*out = l->stats;
	(void)pthread_mutex_unlock(&l->mu);
	(void)pthread_mutex_lock(&l->ck_mu);
	out->checkpoints = l->ck_passes;
	out->checkpoint_catch_ups = l->ck_catch_ups;
	out->checkpoint_frames = l->ck_frames;
	out->checkpoint_catch_up_frames = l->ck_catch_up_frames;
	(void)pthread_mutex_unlock(&l->ck_mu);
}

/* Bump a counter in meta, also above max(extra) when extra is given. */
static int
counter_next(
    struct store_sqlite *l, const char *key, const char *extra, uint64_t *out)
{
	uint64_t v;
	int64_t m = 0;
	int r = ERR_INTERNAL;

	*out = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	if (!in_transaction(l)) {
		set_msg(l, "%s outside a transaction", key);
		return ERR_INVALID_ARG;
	}
	TRY(meta_get_u64(l, key, &v));
	if (extra != NULL) {
		TRY(query_i64(l, extra, &m));
		if (m > 0 && (uint64_t)m > v)
			v = (uint64_t)m;
	}
	if (v >= INT64_MAX) {
		set_msg(l, "%s is exhausted", key);
		r = ERR_TOO_LARGE;
		goto out;
	}
	v++;
	TRY(meta_set_u64(l, key, v));
	*out = v;
	r = 0;
out:
	return r;
}

static const char *
counter_key(enum store_counter c)
{
	return c == STORE_COUNTER_SERIAL ? "last_serial" : "krl_version";
}

static int
op_counter_next(struct store *s, enum store_counter c, uint64_t *out)
{
	struct store_sqlite *l = (struct store_sqlite *)s;

	if (out == NULL ||
	    (c != STORE_COUNTER_SERIAL && c != STORE_COUNTER_KRL_VERSION))
		return ERR_INVALID_ARG;
	/* Serials stay above max(certificates.serial), defensively. */
	return counter_next(l, counter_key(c),
	    c == STORE_COUNTER_SERIAL
		? "SELECT coalesce(max(serial), 0) FROM certificates"
		: NULL,
	    out);
}

/*
 * A serial from the block reserved ahead.  When the block is used up, a
 * unit of its own raises last_serial by the next block's size (1, then
 * doubling up to SQ_SERIAL_BLOCK_MAX, so a short-lived process leaves
 * no gap and a busy one reserves rarely) and commits (group commit)
 * before any serial of it is handed out.  What a process has not handed
 * out when it exits or crashes is a gap; every serial is below the
 * durable last_serial before it leaves, so none is handed out twice,
 * by this handle or another on the same file.
 */
#define SQ_SERIAL_BLOCK_MAX 64

static int
op_serial_reserve(struct store *s, uint64_t *out)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	uint64_t v = 0, block;
	int64_t m = 0;
	int r = ERR_INTERNAL, began = 0, mine;

	*out = 0;
	(void)pthread_mutex_lock(&l->mu);
	mine = owns_unit(l);
	(void)pthread_mutex_unlock(&l->mu);
	if (mine) {
		set_msg(l, "serial reserved inside a unit of work");
		return ERR_INVALID_ARG;
	}
	(void)pthread_mutex_lock(&l->ser_mu);
	if (l->ser_next == 0 || l->ser_next > l->ser_end) {
		block = l->ser_block == 0 ? 1 : l->ser_block;
		TRY(sq_begin(l));
		began = 1;
		TRY(meta_get_u64(l, "last_serial", &v));
		TRY(query_i64(l,
		    "SELECT coalesce(max(serial), 0) FROM certificates", &m));
		if (m > 0 && (uint64_t)m > v)
			v = (uint64_t)m;
		if (v >= INT64_MAX - block) {
			set_msg(l, "last_serial is exhausted");
			r = ERR_TOO_LARGE;
			goto out;
		}
		TRY(meta_set_u64(l, "last_serial", v + block));
		began = 0;
		TRY(sq_commit(l));
		l->ser_next = v + 1;
		l->ser_end = v + block;
		l->ser_block = block * 2 > SQ_SERIAL_BLOCK_MAX
		    ? SQ_SERIAL_BLOCK_MAX
		    : block * 2;
	}
	*out = l->ser_next++;
	r = 0;
out:
	if (began)
		sq_rollback(l);
	(void)pthread_mutex_unlock(&l->ser_mu);
	return r;
}

/*
 * A request id: the next after the highest one in the file when this
 * handle first reserves, then one after the other.  Another process on
 * the same file (an admin command) may insert one of them first:
 * op_request_insert() then takes the next free id, and raises rid_next
 * past it.
 */
static int
op_request_id_reserve(struct store *s, int64_t *out)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	int64_t m = 0;
	int r = 0, known;

	*out = 0;
	(void)pthread_mutex_lock(&l->rid_mu);
	known = l->rid_next != 0;
	(void)pthread_mutex_unlock(&l->rid_mu);
	if (!known) {
		/* Not under rid_mu: a read may wait for the unit in
		 * progress, whose op_request_insert() may take rid_mu. */
		sq_read_begin(l);
		r = query_i64(
		    l, "SELECT coalesce(max(id), 0) FROM requests", &m);
		sq_read_end(l);
	}
	(void)pthread_mutex_lock(&l->rid_mu);
	if (r == 0 && l->rid_next <= m)
		l->rid_next = m + 1;
	if (r == 0 && l->rid_next == INT64_MAX) {
		set_msg(l, "request ids are exhausted");
		r = ERR_TOO_LARGE;
	}
	if (r == 0)
		*out = l->rid_next++;
	(void)pthread_mutex_unlock(&l->rid_mu);
	return r;
}

static int
op_counter_get(struct store *s, enum store_counter c, uint64_t *out)
{
	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = 0;
	if (s == NULL ||
	    (c != STORE_COUNTER_SERIAL && c != STORE_COUNTER_KRL_VERSION))
		return ERR_INVALID_ARG;
	return meta_get_u64((struct store_sqlite *)s, counter_key(c), out);
}

static int
sq_changed(struct store_sqlite *l, int *changed)
{
	struct sq_reader *saved;
	int64_t v = 0;
	int r = ERR_INTERNAL;

	if (changed == NULL)
		return ERR_INVALID_ARG;
	*changed = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	/* The writer's connection, always: data_version is per
	 * connection, and only that one's is kept in l. */
	saved = tls_reader;
	tls_reader = NULL;
	r = read_data_version(l, &v);
	tls_reader = saved;
	TRY(r);
	*changed = v != l->data_version;
	l->data_version = v;
	r = 0;
out:
	return r;
}

/* 1 when the calling thread is on the writer's connection in a write
 * transaction: there the tail cannot change but by op_event_insert(). */
static int
tail_cacheable(struct store_sqlite *l)
{
	return cdb(l) == l->db &&
	    sqlite3_txn_state(l->db, NULL) == SQLITE_TXN_WRITE;
}

/* The statements of the events table and the head in meta. */
#define ROW_SQL                                                                \
	"SELECT seq, time, type, actor, subject, details, prev_hash, hash"     \
	" FROM events"

/*
 * The tail and both meta keys of the head in one statement (an absent
 * head_seq counts as 0; chain.c decides what the rest means).
 */
static int
op_event_tail(struct store *s, struct store_tail *t)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	const unsigned char *h, *ms, *mh;
	int r = ERR_INTERNAL, rc;

	if (tail_cacheable(l) && l->tail_ok) {
		*t = l->tail;
		return 0;
	}
	memset(t, 0, sizeof(*t));
	TRY(sq_cached(l, &st,
	    "SELECT (SELECT seq FROM events ORDER BY seq DESC LIMIT 1),"
	    " (SELECT hash FROM events ORDER BY seq DESC LIMIT 1),"
	    " (SELECT value FROM meta WHERE key = 'head_seq'),"
	    " (SELECT value FROM meta WHERE key = 'head_hash')"));
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = sq_err(l, rc, "read events");
		goto out;
	}
	if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
		t->seq = sqlite3_column_int64(st, 0);
		h = sqlite3_column_text(st, 1);
		if (h == NULL && sqlite3_errcode(cdb(l)) == SQLITE_NOMEM) {
			r = ERR_ALLOC;
			goto out;
		}
		t->have_hash = 1;
		if (h != NULL && strlen((const char *)h) == 64)
			memcpy(t->hash, h, 65);
	}
	ms = sqlite3_column_text(st, 2);
	mh = sqlite3_column_text(st, 3);
	if ((ms == NULL || mh == NULL) &&
	    sqlite3_errcode(cdb(l)) == SQLITE_NOMEM) {
		r = ERR_ALLOC;
		goto out;
	}
	if (ms != NULL) {
		t->have_head_seq = 1;
		(void)snprintf(t->head_seq_text, sizeof(t->head_seq_text), "%s",
		    (const char *)ms);
		t->head_seq_ok = num_parse_u64((const char *)ms, INT64_MAX,
				     &t->head_seq) == 0;
	}
	if (mh != NULL) {
		t->have_head_hash = 1;
		if (strlen((const char *)mh) == 64)
			memcpy(t->head_hash, mh, 65);
	}
	if (tail_cacheable(l)) {
		/* meta as it will be once the owed head is written */
		if (l->head.lag)
			tail_set_head(t, l->head.seq, l->head.hash);
		l->tail = *t;
		l->tail_ok = 1;
	}
	r = 0;
out:
	sq_release(l, st);
	return r;
}

/*
 * Insert the event and record it as the new head, in the open
 * transaction: in meta at once, or, in a batch, once before its COMMIT
 * (l->head).
 */
static int
op_event_insert(struct store *s, const struct store_event *ev)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc, next, owed;

	if (!in_transaction(l)) {
		set_msg(l, "ledger_append outside a transaction");
		return ERR_INVALID_ARG;
	}
	/* The new tail is this row only if it follows the known one.  (Off
	 * the writer's connection the cache is not this thread's.) */
	next = owed = 0;
	if (tail_cacheable(l)) {
		next = l->tail_ok && ev->seq > 0 && l->tail.seq == ev->seq - 1;
		owed = l->tx_open && strlen(ev->hash) == 64;
		l->tail_ok = 0;
	}
	TRY(sq_cached(l, &st,
	    "INSERT INTO events(seq, time, type, actor, subject, details,"
	    " prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
	TRY(sq_bind_int(l, st, 1, ev->seq));
	TRY(sq_bind_int(l, st, 2, ev->time));
	TRY(sq_bind_text(l, st, 3, ev->type));
	TRY(sq_bind_text(l, st, 4, ev->actor));
	TRY(sq_bind_text(l, st, 5, ev->subject));
	TRY(sq_bind_text(l, st, 6, ev->details));
	TRY(sq_bind_text(l, st, 7, ev->prev_hash));
	TRY(sq_bind_text(l, st, 8, ev->hash));
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = sq_err(l, rc, "append event");
		goto out;
	}
	if (owed) {
		l->head.lag = 1;
		l->head.seq = ev->seq;
		memcpy(l->head.hash, ev->hash, 65);
	} else {
		TRY(head_write(l, ev->seq, ev->hash));
		if (tail_cacheable(l))
			l->head.lag = 0;
	}
	/* What op_event_tail() would read now. */
	if (next && strlen(ev->hash) == 64) {
		memset(&l->tail, 0, sizeof(l->tail));
		l->tail.seq = ev->seq;
		l->tail.have_hash = 1;
		memcpy(l->tail.hash, ev->hash, 65);
		tail_set_head(&l->tail, ev->seq, ev->hash);
		l->tail_ok = 1;
	}
	r = 0;
out:
	sq_release(l, st);
	return r;
}

struct store_events {
	struct store_sqlite *l;
	sqlite3_stmt *st;
};

static int
op_events_open(
    struct store *s, int64_t since, int64_t limit, struct store_events **out)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	struct store_events *it = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return ERR_ALLOC;
	it->l = l;
	if (since < 0) {
		/* Every row, whatever its seq (verification). */
		TRY(sq_cached(l, &it->st, ROW_SQL " ORDER BY seq"));
	} else {
		TRY(sq_cached(l, &it->st,
		    ROW_SQL " WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
		TRY(sq_bind_int(l, it->st, 1, since));
		TRY(sq_bind_int(l, it->st, 2, limit));
	}
	*out = it;
	it = NULL;
	r = 0;
out:
	if (it != NULL) {
		sq_release(l, it->st);
		free(it);
	}
	return r;
}

/* A text column without embedded NUL, else NULL. */
static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t;

	if (sqlite3_column_type(st, i) != SQLITE_TEXT)
		return NULL;
	if ((t = sqlite3_column_text(st, i)) == NULL)
		return NULL;
	if (strlen((const char *)t) != (size_t)sqlite3_column_bytes(st, i))
		return NULL;
	return (const char *)t;
}

static int
op_events_next(struct store_events *it, struct store_event *w, int *found)
{
	struct store_sqlite *l = it->l;
	sqlite3_stmt *st = it->st;
	int rc;

	memset(w, 0, sizeof(*w));
	*found = 0;
	if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return sq_err(l, rc, "read events");
	*found = 1;
	w->seq = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 1) != SQLITE_INTEGER) {
		set_msg(l, "seq %" PRId64 ": time is not an integer", w->seq);
		return ERR_LEDGER_BROKEN;
	}
	w->time = sqlite3_column_int64(st, 1);
	if ((w->type = col_text(st, 2)) == NULL ||
	    (w->actor = col_text(st, 3)) == NULL ||
	    (w->subject = col_text(st, 4)) == NULL ||
	    (w->details = col_text(st, 5)) == NULL ||
	    (w->prev_hash = col_text(st, 6)) == NULL ||
	    (w->hash = col_text(st, 7)) == NULL) {
		if (sqlite3_errcode(cdb(l)) == SQLITE_NOMEM)
			return ERR_ALLOC;
		set_msg(l, "seq %" PRId64 ": a field is not text", w->seq);
		return ERR_LEDGER_BROKEN;
	}
	return 0;
}

static void
op_events_close(struct store_events *it)
{
	if (it == NULL)
		return;
	sq_release(it->l, it->st);
	free(it);
}

static int
op_snapshot_begin(struct store *s, int *began)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	int r;

	*began = 0;
	if (in_transaction(l))
		return 0;
	if (cdb(l) == l->db)
		l->tail_ok = 0;
	if ((r = db_exec(l, "BEGIN")) != 0)
		return r;
	*began = 1;
	l->snap_owner = pthread_self();
	l->snap_open = 1;
	return 0;
}

static void
scans_close(struct store_sqlite *l)
{
	size_t k;

	for (k = 0; k < 64; k++) {
		sqlite3_finalize(l->scan[k].st);
		l->scan[k].st = NULL;
	}
}

static void
op_snapshot_end(struct store *s, int began)
{
	struct store_sqlite *l = (struct store_sqlite *)s;

	if (!began)
		return;
	if (l->snap_open && pthread_equal(l->snap_owner, pthread_self())) {
		scans_close(l);
		l->snap_open = 0;
	}
	(void)sqlite3_exec(cdb(l), "COMMIT", NULL, NULL, NULL);
}

/* The table's adapters: struct store is the first member. */
static void
op_close(struct store *s)
{
	sq_close((struct store_sqlite *)s);
}

static int
op_tx_begin(struct store *s)
{
	return sq_begin((struct store_sqlite *)s);
}

static int
op_tx_commit(struct store *s)
{
	return sq_commit((struct store_sqlite *)s);
}

static void
op_tx_rollback(struct store *s)
{
	sq_rollback((struct store_sqlite *)s);
}

static void
op_tx_announce(struct store *s)
{
	struct store_sqlite *l = (struct store_sqlite *)s;

	if (tls_announced != NULL)
		return; /* one at a time per thread */
	(void)pthread_mutex_lock(&l->mu);
	tls_announced = l;
	l->coming++;
	(void)pthread_mutex_unlock(&l->mu);
}

static void
op_tx_unannounce(struct store *s)
{
	struct store_sqlite *l = (struct store_sqlite *)s;

	if (tls_announced != l)
		return;
	(void)pthread_mutex_lock(&l->mu);
	tls_announced = NULL;
	l->coming--;
	if (l->holding)
		(void)pthread_cond_signal(&l->hold_cv);
	(void)pthread_mutex_unlock(&l->mu);
}

static int
op_tx_run(struct store *s, store_unit_fn fn, void *arg)
{
	return sq_run((struct store_sqlite *)s, fn, arg);
}

static int
op_tx_active(struct store *s)
{
	return in_transaction((struct store_sqlite *)s);
}

static void
op_read_begin(struct store *s)
{
	sq_read_begin((struct store_sqlite *)s);
}

static void
op_read_end(struct store *s)
{
	sq_read_end((struct store_sqlite *)s);
}

static void
op_stats_get(struct store *s, struct store_stats *out)
{
	sq_stats_get((struct store_sqlite *)s, out);
}

static int
op_changed(struct store *s, int *changed)
{
	return sq_changed((struct store_sqlite *)s, changed);
}

/* ---- users ---- */

#define USER_COLS "name, groups, disabled, created, token_created, token_hash"

/* The current row (columns USER_COLS) as a new struct store_user. */
static int
user_from_row(sqlite3_stmt *st, struct store_user **out)
{
	struct store_user *u = NULL;
	const unsigned char *name, *groups;
	const void *hash;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return ERR_ALLOC;
	/* A row edited behind our back is a database problem, not memory. */
	ENSURE(sqlite3_column_type(st, 0) == SQLITE_TEXT, ERR_DB);
	ENSURE((name = sqlite3_column_text(st, 0)) != NULL, ERR_ALLOC);
	ENSURE((u->name = strdup((const char *)name)) != NULL, ERR_ALLOC);
	if ((groups = sqlite3_column_text(st, 1)) != NULL)
		ENSURE((u->groups = strdup((const char *)groups)) != NULL,
		    ERR_ALLOC);
	u->disabled = sqlite3_column_int64(st, 2) != 0;
	u->created = (uint64_t)sqlite3_column_int64(st, 3);
	u->token_created = (uint64_t)sqlite3_column_int64(st, 4);
	hash = sqlite3_column_blob(st, 5);
	if (hash != NULL &&
	    sqlite3_column_bytes(st, 5) == STORE_TOKEN_HASH_LEN) {
		memcpy(u->token_hash, hash, STORE_TOKEN_HASH_LEN);
		u->has_token = 1;
	}
	*out = u;
	u = NULL;
	r = 0;
out:
	store_user_free(u);
	return r;
}

/* One user by name (text) or by token hash (blob). */
static int
user_one(struct store_sqlite *l, const char *sql, const char *name,
    const uint8_t *hash, struct store_user **out)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;

	*out = NULL;
	TRY(sq_cached(l, &st, sql));
	if (name != NULL)
		TRY(sq_bind_text(l, st, 1, name));
	else
		TRY(sq_bind_blob(l, st, 1, hash, STORE_TOKEN_HASH_LEN));
	TRY(sq_row(l, st, &found));
	ENSURE(found, ERR_NOT_FOUND);
	TRY(user_from_row(st, out));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_user_get(struct store *s, const char *name, struct store_user **out)
{
	return user_one((struct store_sqlite *)s,
	    "SELECT " USER_COLS " FROM users WHERE name = ?1", name, NULL, out);
}

static int
op_user_by_token(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
    struct store_user **out)
{
	return user_one((struct store_sqlite *)s,
	    "SELECT " USER_COLS " FROM users WHERE token_hash = ?1", NULL, hash,
	    out);
}

/* Run one statement changing one row: ?1 text, ?2 blob (when not NULL),
 * ?3 integer, ?4 text (when not NULL).  ERR_NOT_FOUND when no row
 * changed. */
static int
user_exec(struct store_sqlite *l, const char *sql, const char *text,
    const uint8_t *blob, size_t bloblen, int64_t num, const char *text2)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, changes = 0;

	TRY(sq_cached(l, &st, sql));
	TRY(sq_bind_text(l, st, 1, text));
	if (blob != NULL)
		TRY(sq_bind_blob(l, st, 2, blob, bloblen));
	TRY(sq_bind_int(l, st, 3, num));
	if (text2 != NULL)
		TRY(sq_bind_text(l, st, 4, text2));
	TRY(sq_done(l, st, &changes));
	r = changes == 1 ? 0 : ERR_NOT_FOUND;
out:
	sq_release(l, st);
	return r;
}

static int
op_user_insert(struct store *s, const char *name, const char *groups,
    const uint8_t hash[STORE_TOKEN_HASH_LEN], uint64_t created)
{
	if (hash == NULL) /* signs in with the identity provider */
		return user_exec((struct store_sqlite *)s,
		    "INSERT INTO users(name, groups, token_hash, disabled,"
		    " created, token_created) VALUES(?1, ?4, NULL, 0, ?3,"
		    " NULL)",
		    name, NULL, 0, (int64_t)created, groups);
	/* created and token_created are one time: the token is new. */
	return user_exec((struct store_sqlite *)s,
	    "INSERT INTO users(name, groups, token_hash, disabled, created,"
	    " token_created) VALUES(?1, ?4, ?2, 0, ?3, ?3)",
	    name, hash, STORE_TOKEN_HASH_LEN, (int64_t)created, groups);
}

static int
op_user_token_set(struct store *s, const char *name,
    const uint8_t hash[STORE_TOKEN_HASH_LEN], uint64_t when)
{
	return user_exec((struct store_sqlite *)s,
	    "UPDATE users SET token_hash = ?2, token_created = ?3"
	    " WHERE name = ?1",
	    name, hash, STORE_TOKEN_HASH_LEN, (int64_t)when, NULL);
}

static int
op_user_disable(struct store *s, const char *name)
{
	return user_exec((struct store_sqlite *)s,
	    "UPDATE users SET disabled = ?3 WHERE name = ?1", name, NULL, 0, 1,
	    NULL);
}

static int
op_user_groups_set(struct store *s, const char *name, const char *groups)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, changes = 0;

	TRY(sq_cached(l, &st, "UPDATE users SET groups = ?2 WHERE name = ?1"));
	TRY(sq_bind_text(l, st, 1, name));
	TRY(sq_bind_text(l, st, 2, groups));
	TRY(sq_done(l, st, &changes));
	r = changes == 1 ? 0 : ERR_NOT_FOUND;
out:
	sq_release(l, st);
	return r;
}

void
store_session_clear(struct store_session *ss)
{
	free(ss->user);
	OPENSSL_cleanse(ss, sizeof(*ss));
}

static int
op_session_insert(struct store *s, const struct store_session *ss)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	TRY(sq_cached(l, &st,
	    "INSERT INTO sessions(token_hash, user, created, expires,"
	    " auth_time) VALUES(?1, ?2, ?3, ?4, ?5)"));
	TRY(sq_bind_blob(l, st, 1, ss->token_hash, STORE_TOKEN_HASH_LEN));
	TRY(sq_bind_text(l, st, 2, ss->user));
	TRY(sq_bind_int(l, st, 3, (int64_t)ss->created));
	TRY(sq_bind_int(l, st, 4, (int64_t)ss->expires));
	TRY(sq_bind_int(l, st, 5, (int64_t)ss->auth_time));
	TRY(sq_done(l, st, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_session_get(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
    struct store_session *out)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	const void *h;
	int r = ERR_INTERNAL, found;

	memset(out, 0, sizeof(*out));
	TRY(sq_cached(l, &st,
	    "SELECT token_hash, user, created, expires, auth_time FROM"
	    " sessions WHERE token_hash = ?1"));
	TRY(sq_bind_blob(l, st, 1, hash, STORE_TOKEN_HASH_LEN));
	TRY(sq_row(l, st, &found));
	ENSURE(found, ERR_NOT_FOUND);
	ENSURE(sqlite3_column_type(st, 0) == SQLITE_BLOB &&
		sqlite3_column_bytes(st, 0) == STORE_TOKEN_HASH_LEN &&
		sqlite3_column_type(st, 1) == SQLITE_TEXT,
	    ERR_DB);
	ENSURE((h = sqlite3_column_blob(st, 0)) != NULL, ERR_ALLOC);
	memcpy(out->token_hash, h, STORE_TOKEN_HASH_LEN);
	ENSURE((out->user = strdup(sq_text(st, 1))) != NULL, ERR_ALLOC);
	out->created = (uint64_t)sqlite3_column_int64(st, 2);
	out->expires = (uint64_t)sqlite3_column_int64(st, 3);
	out->auth_time = (uint64_t)sqlite3_column_int64(st, 4);
	r = 0;
out:
	if (r != 0)
		store_session_clear(out);
	sq_release(l, st);
	return r;
}

static int
op_sessions_purge(struct store *s, uint64_t now, uint64_t *n)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, changes = 0;

	*n = 0;
	TRY(sq_cached(l, &st, "DELETE FROM sessions WHERE expires <= ?1"));
	TRY(sq_bind_int(l, st, 1, (int64_t)now));
	TRY(sq_done(l, st, &changes));
	*n = (uint64_t)changes;
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_session_delete(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN])
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, changes = 0;

	TRY(sq_cached(l, &st, "DELETE FROM sessions WHERE token_hash = ?1"));
	TRY(sq_bind_blob(l, st, 1, hash, STORE_TOKEN_HASH_LEN));
	TRY(sq_done(l, st, &changes));
	r = changes == 1 ? 0 : ERR_NOT_FOUND;
out:
	sq_release(l, st);
	return r;
}

static int
op_identity_get(
    struct store *s, const char *user, char **issuer, char **subject)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found;

	*issuer = *subject = NULL;
	TRY(sq_cached(
	    l, &st, "SELECT issuer, subject FROM identities WHERE user = ?1"));
	TRY(sq_bind_text(l, st, 1, user));
	TRY(sq_row(l, st, &found));
	ENSURE(found, ERR_NOT_FOUND);
	ENSURE((*issuer = strdup(sq_text(st, 0))) != NULL, ERR_ALLOC);
	ENSURE((*subject = strdup(sq_text(st, 1))) != NULL, ERR_ALLOC);
	r = 0;
out:
	if (r != 0) {
		free(*issuer);
		free(*subject);
		*issuer = *subject = NULL;
	}
	sq_release(l, st);
	return r;
}

static int
op_identity_insert(struct store *s, const char *user, const char *issuer,
    const char *subject, uint64_t now)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	TRY(sq_cached(l, &st,
	    "INSERT INTO identities(user, issuer, subject, created)"
	    " VALUES(?1, ?2, ?3, ?4)"));
	TRY(sq_bind_text(l, st, 1, user));
	TRY(sq_bind_text(l, st, 2, issuer));
	TRY(sq_bind_text(l, st, 3, subject));
	TRY(sq_bind_int(l, st, 4, (int64_t)now));
	TRY(sq_done(l, st, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_users_each(struct store *s, int enabled_only, store_user_fn fn, void *arg)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	struct store_user *u = NULL;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	TRY(sq_cached(l, &st,
	    enabled_only ? "SELECT " USER_COLS
			   " FROM users WHERE disabled = 0 ORDER BY"
			   " name"
			 : "SELECT " USER_COLS " FROM users ORDER BY name"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		TRY(user_from_row(st, &u));
		TRY(fn(arg, u));
		store_user_free(u);
		u = NULL;
	}
	if (rc != SQLITE_DONE) {
		r = sq_err(l, rc, NULL);
		goto out;
	}
	r = 0;
out:
	store_user_free(u);
	sq_release(l, st);
	return r;
}

/* ---- hosts ---- */

#define HOST_COLS "name, principals, disabled, created, token_hash"

/* The current row (columns HOST_COLS) as a new struct store_host. */
static int
host_from_row(sqlite3_stmt *st, struct store_host **out)
{
	struct store_host *h = NULL;
	const unsigned char *t;
	const void *b;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return ERR_ALLOC;
	ENSURE(sqlite3_column_type(st, 0) == SQLITE_TEXT &&
		sqlite3_column_type(st, 1) == SQLITE_TEXT,
	    ERR_DB);
	ENSURE((t = sqlite3_column_text(st, 0)) != NULL, ERR_ALLOC);
	ENSURE((h->name = strdup((const char *)t)) != NULL, ERR_ALLOC);
	ENSURE((t = sqlite3_column_text(st, 1)) != NULL, ERR_ALLOC);
	ENSURE((h->principals = strdup((const char *)t)) != NULL, ERR_ALLOC);
	h->disabled = sqlite3_column_int64(st, 2) != 0;
	h->created = (uint64_t)sqlite3_column_int64(st, 3);
	b = sqlite3_column_blob(st, 4);
	if (b != NULL && sqlite3_column_bytes(st, 4) == STORE_TOKEN_HASH_LEN) {
		memcpy(h->token_hash, b, STORE_TOKEN_HASH_LEN);
		h->has_token = 1;
	}
	*out = h;
	h = NULL;
	r = 0;
out:
	store_host_free(h);
	return r;
}

static int
host_one(struct store_sqlite *l, const char *sql, const char *name,
    const uint8_t *hash, struct store_host **out)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;

	*out = NULL;
	TRY(sq_cached(l, &st, sql));
	if (name != NULL)
		TRY(sq_bind_text(l, st, 1, name));
	else
		TRY(sq_bind_blob(l, st, 1, hash, STORE_TOKEN_HASH_LEN));
	TRY(sq_row(l, st, &found));
	ENSURE(found, ERR_NOT_FOUND);
	TRY(host_from_row(st, out));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_host_get(struct store *s, const char *name, struct store_host **out)
{
	return host_one((struct store_sqlite *)s,
	    "SELECT " HOST_COLS " FROM hosts WHERE name = ?1", name, NULL, out);
}

static int
op_host_by_token(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
    struct store_host **out)
{
	return host_one((struct store_sqlite *)s,
	    "SELECT " HOST_COLS " FROM hosts WHERE token_hash = ?1", NULL, hash,
	    out);
}

static int
op_host_insert(struct store *s, const char *name, const char *principals,
    const uint8_t hash[STORE_TOKEN_HASH_LEN], uint64_t created)
{
	return user_exec((struct store_sqlite *)s,
	    "INSERT INTO hosts(name, principals, token_hash, disabled,"
	    " created) VALUES(?1, ?4, ?2, 0, ?3)",
	    name, hash, STORE_TOKEN_HASH_LEN, (int64_t)created, principals);
}

static int
op_host_disable(struct store *s, const char *name)
{
	return user_exec((struct store_sqlite *)s,
	    "UPDATE hosts SET disabled = ?3 WHERE name = ?1", name, NULL, 0, 1,
	    NULL);
}

static int
op_hosts_each(struct store *s, store_host_fn fn, void *arg)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	struct store_host *h = NULL;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	TRY(sq_cached(l, &st, "SELECT " HOST_COLS " FROM hosts ORDER BY name"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		TRY(host_from_row(st, &h));
		TRY(fn(arg, h));
		store_host_free(h);
		h = NULL;
	}
	if (rc != SQLITE_DONE) {
		r = sq_err(l, rc, NULL);
		goto out;
	}
	r = 0;
out:
	store_host_free(h);
	sq_release(l, st);
	return r;
}

#define HOST_KEY_COLS "key_type, key_blob, key_fp, bound"

/* The current row (HOST_KEY_COLS) as a new struct store_host_key. */
static int
host_key_from_row(sqlite3_stmt *st, struct store_host_key **out)
{
	struct store_host_key *k = NULL;
	const unsigned char *t;
	int r = ERR_INTERNAL, n;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return ERR_ALLOC;
	n = sqlite3_column_bytes(st, 1);
	ENSURE(sqlite3_column_type(st, 0) == SQLITE_TEXT &&
		sqlite3_column_type(st, 1) == SQLITE_BLOB &&
		sqlite3_column_type(st, 2) == SQLITE_TEXT && n > 0 &&
		n <= STORE_KEY_BLOB_MAX,
	    ERR_DB);
	ENSURE((t = sqlite3_column_text(st, 0)) != NULL, ERR_ALLOC);
	ENSURE((k->key_type = strdup((const char *)t)) != NULL, ERR_ALLOC);
	ENSURE((k->blob = malloc((size_t)n)) != NULL, ERR_ALLOC);
	memcpy(k->blob, sqlite3_column_blob(st, 1), (size_t)n);
	k->len = (size_t)n;
	ENSURE((t = sqlite3_column_text(st, 2)) != NULL, ERR_ALLOC);
	ENSURE((k->key_fp = strdup((const char *)t)) != NULL, ERR_ALLOC);
	k->bound = (uint64_t)sqlite3_column_int64(st, 3);
	*out = k;
	k = NULL;
	r = 0;
out:
	store_host_key_free(k);
	return r;
}

static int
op_host_key_get(struct store *s, const char *name, const char *key_type,
    struct store_host_key **out)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;

	*out = NULL;
	TRY(sq_cached(l, &st,
	    "SELECT " HOST_KEY_COLS " FROM host_keys WHERE name = ?1 AND"
	    " key_type = ?2"));
	TRY(sq_bind_text(l, st, 1, name));
	TRY(sq_bind_text(l, st, 2, key_type));
	TRY(sq_row(l, st, &found));
	ENSURE(found, ERR_NOT_FOUND);
	TRY(host_key_from_row(st, out));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_host_key_bind(struct store *s, const char *name, const char *key_type,
    const uint8_t *blob, size_t len, const char *key_fp, uint64_t when)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	TRY(sq_cached(l, &st,
	    "INSERT INTO host_keys(name, key_type, key_blob, key_fp, bound)"
	    " VALUES(?, ?, ?, ?, ?)"));
	TRY(sq_bind_text(l, st, 1, name));
	TRY(sq_bind_text(l, st, 2, key_type));
	TRY(sq_bind_blob(l, st, 3, blob, len));
	TRY(sq_bind_text(l, st, 4, key_fp));
	TRY(sq_bind_int(l, st, 5, (int64_t)when));
	TRY(sq_done(l, st, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_host_reset(struct store *s, const char *name)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	TRY(sq_cached(l, &st, "DELETE FROM host_keys WHERE name = ?1"));
	TRY(sq_bind_text(l, st, 1, name));
	TRY(sq_done(l, st, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_host_keys_each(
    struct store *s, const char *name, store_host_key_fn fn, void *arg)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	struct store_host_key *k = NULL;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	TRY(sq_cached(l, &st,
	    "SELECT " HOST_KEY_COLS " FROM host_keys WHERE name = ?1 ORDER BY"
	    " key_type"));
	TRY(sq_bind_text(l, st, 1, name));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		TRY(host_key_from_row(st, &k));
		TRY(fn(arg, k));
		store_host_key_free(k);
		k = NULL;
	}
	if (rc != SQLITE_DONE) {
		r = sq_err(l, rc, NULL);
		goto out;
	}
	r = 0;
out:
	store_host_key_free(k);
	sq_release(l, st);
	return r;
}

/* ---- revocation ---- */

#define MATCH_COLS                                                             \
	"SELECT serial, key_id, user, role, coalesce(request_id, 0),"          \
	" revoked IS NOT NULL FROM certificates "

static int
op_certs_match(struct store *s, const struct store_cert_query *q,
    store_cert_fn fn, void *arg)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	struct store_cert_match m;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	switch (q->by) {
	case STORE_CERT_BY_SERIAL:
		TRY(sq_cached(l, &st, MATCH_COLS "WHERE serial = ?"));
		TRY(sq_bind_int(l, st, 1, q->num));
		break;
	case STORE_CERT_BY_KEY_ID:
		TRY(sq_cached(l, &st, MATCH_COLS "WHERE key_id = ?"));
		TRY(sq_bind_text(l, st, 1, q->text));
		break;
	case STORE_CERT_BY_USER:
		ENSURE(q->now <= INT64_MAX, ERR_INVALID_ARG);
		TRY(sq_cached(l, &st,
		    MATCH_COLS "WHERE user = ? AND valid_before > ?"
			       " ORDER BY serial"));
		TRY(sq_bind_text(l, st, 1, q->text));
		TRY(sq_bind_int(l, st, 2, (int64_t)q->now));
		break;
	case STORE_CERT_BY_REQUEST:
		TRY(sq_cached(
		    l, &st, MATCH_COLS "WHERE request_id = ? ORDER BY serial"));
		TRY(sq_bind_int(l, st, 1, q->num));
		break;
	case STORE_CERT_BY_KEY:
		TRY(sq_cached(
		    l, &st, MATCH_COLS "WHERE key_blob = ? ORDER BY serial"));
		TRY(sq_bind_blob(l, st, 1, q->blob, q->bloblen));
		break;
	default:
		r = ERR_INVALID_ARG;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		m.serial = sqlite3_column_int64(st, 0);
		m.key_id = sq_text(st, 1);
		m.user = sq_text(st, 2);
		m.role = sq_text(st, 3);
		m.request = sqlite3_column_int64(st, 4);
		m.revoked = sqlite3_column_int(st, 5) != 0;
		TRY(fn(arg, &m));
	}
	ENSURE(rc == SQLITE_DONE, sq_err(l, rc, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

/* At most 4 types; the statement text is fixed per count. */
static int
op_event_subject_exists(
    struct store *s, const char *subject, const char *const *types, int *found)
{
	static const char *const sql[] = {
	    "SELECT 1 FROM events WHERE subject = ?1 LIMIT 1",
	    "SELECT 1 FROM events WHERE subject = ?1 AND type IN (?2) LIMIT 1",
	    "SELECT 1 FROM events WHERE subject = ?1 AND type IN (?2, ?3)"
	    " LIMIT 1",
	    "SELECT 1 FROM events WHERE subject = ?1 AND type IN (?2, ?3, ?4)"
	    " LIMIT 1",
	    "SELECT 1 FROM events WHERE subject = ?1 AND type IN (?2, ?3, ?4,"
	    " ?5) LIMIT 1",
	};
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	size_t n = 0, i;
	int r = ERR_INTERNAL;

	*found = 0;
	while (types != NULL && types[n] != NULL)
		n++;
	ENSURE(n < sizeof(sql) / sizeof(sql[0]), ERR_INVALID_ARG);
	TRY(sq_cached(l, &st, sql[n]));
	TRY(sq_bind_text(l, st, 1, subject));
	for (i = 0; i < n; i++)
		TRY(sq_bind_text(l, st, (int)i + 2, types[i]));
	TRY(sq_row(l, st, found));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_request_exists(struct store *s, int64_t id, int *exists)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	*exists = 0;
	TRY(sq_cached(l, &st, "SELECT 1 FROM requests WHERE id = ?"));
	TRY(sq_bind_int(l, st, 1, id));
	TRY(sq_row(l, st, exists));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
exec_bound(
    struct store_sqlite *l, const char *sql, int64_t a, int64_t b, int *changes)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	TRY(sq_cached(l, &st, sql));
	TRY(sq_bind_int(l, st, 1, a));
	TRY(sq_bind_int(l, st, 2, b));
	TRY(sq_done(l, st, changes));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_cert_revoke(struct store *s, int64_t serial, uint64_t now, int *newly)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	int r = ERR_INTERNAL, changes = 0;

	*newly = 0;
	ENSURE(now <= INT64_MAX, ERR_INVALID_ARG);
	TRY(exec_bound(l,
	    "UPDATE certificates SET revoked = ?1 WHERE serial = ?2 AND"
	    " revoked IS NULL",
	    (int64_t)now, serial, &changes));
	if (changes == 0) {
		r = 0;
		goto out;
	}
	TRY(exec_bound(l,
	    "UPDATE requests SET state = 'revoked', updated = ?1 WHERE"
	    " serial = ?2 AND state = 'issued'",
	    (int64_t)now, serial, NULL));
	*newly = 1;
	r = 0;
out:
	return r;
}

static int
op_revoked_key_insert(struct store *s, const uint8_t sha256[32],
    const char *key_fp, uint64_t now, const char *reason, int *newly)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, changes = 0;

	*newly = 0;
	ENSURE(now <= INT64_MAX, ERR_INVALID_ARG);
	TRY(sq_cached(l, &st,
	    "INSERT INTO revoked_keys(key_sha256, key_fp, time, reason)"
	    " VALUES(?, ?, ?, ?) ON CONFLICT(key_sha256) DO NOTHING"));
	TRY(sq_bind_blob(l, st, 1, sha256, 32));
	TRY(sq_bind_text(l, st, 2, key_fp));
	TRY(sq_bind_int(l, st, 3, (int64_t)now));
	TRY(sq_bind_text(l, st, 4, reason));
	TRY(sq_done(l, st, &changes));
	*newly = changes != 0;
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_krl_each(struct store *s, int64_t after, store_serial_fn sfn,
    store_key_fn kfn, void *arg)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	TRY(sq_cached(l, &st,
	    "SELECT serial FROM certificates WHERE revoked IS NOT NULL AND"
	    " valid_before > ? ORDER BY serial"));
	TRY(sq_bind_int(l, st, 1, after));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		TRY(sfn(arg, (uint64_t)sqlite3_column_int64(st, 0)));
	ENSURE(rc == SQLITE_DONE, sq_err(l, rc, NULL));
	sq_release(l, st);
	st = NULL;
	TRY(sq_cached(
	    l, &st, "SELECT key_sha256 FROM revoked_keys ORDER BY key_sha256"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ENSURE(sqlite3_column_bytes(st, 0) == 32, ERR_DB);
		TRY(kfn(arg, sqlite3_column_blob(st, 0)));
	}
	ENSURE(rc == SQLITE_DONE, sq_err(l, rc, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_krl_latest(struct store *s, int64_t after, uint64_t *when)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	int r = ERR_INTERNAL, found = 0;

	*when = 0;
	TRY(sq_cached(l, &st,
	    "SELECT max(coalesce((SELECT max(revoked) FROM certificates WHERE"
	    " revoked IS NOT NULL AND valid_before > ?1), 0), coalesce((SELECT"
	    " max(time) FROM revoked_keys), 0))"));
	TRY(sq_bind_int(l, st, 1, after));
	TRY(sq_row(l, st, &found));
	v = found ? sqlite3_column_int64(st, 0) : 0;
	*when = v > 0 ? (uint64_t)v : 0;
	r = 0;
out:
	sq_release(l, st);
	return r;
}

/* ---- raw rows ---- */

struct store_rows {
	struct store_sqlite *l;
	sqlite3_stmt *st;
	const char *what;
	int ncols;
	struct store_cell cells[STORE_ROW_MAX];
};

static int
op_rows_open(struct store *s, enum store_table t, struct store_rows **out)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	const struct store_table_def *def;
	struct store_rows *it = NULL;
	const char *sql, *what;
	char copy_sql[256];
	int r = ERR_INTERNAL;

	*out = NULL;
	switch (t) {
	case STORE_TABLE_EVENTS:
		sql = "SELECT seq, time, type, actor, subject, details FROM"
		      " events ORDER BY seq";
		what = "read events";
		break;
	case STORE_TABLE_USERS:
		sql = "SELECT name, groups, token_hash, disabled, created,"
		      " token_created FROM users ORDER BY name";
		what = "read users";
		break;
	case STORE_TABLE_REQUESTS:
		sql = "SELECT requester, role, principals, ttl, reason,"
		      " public_key, key_fp, state, created, expires,"
		      " approvals_required, serial, updated, id FROM requests"
		      " ORDER BY id";
		what = "read requests";
		break;
	case STORE_TABLE_APPROVALS:
		sql = "SELECT request_id, approver, decision, comment, time"
		      " FROM approvals ORDER BY request_id, approver";
		what = "read approvals";
		break;
	case STORE_TABLE_CERTIFICATES:
		sql = "SELECT request_id, user, role, key_id, principals,"
		      " valid_after, valid_before, key_fp, key_blob,"
		      " cert_sha256, certificate, issued, revoked, serial FROM"
		      " certificates ORDER BY serial";
		what = "read certificates";
		break;
	case STORE_TABLE_REVOKED_KEYS:
		sql = "SELECT key_sha256, key_fp, reason, time FROM"
		      " revoked_keys ORDER BY key_sha256";
		what = "read revoked_keys";
		break;
	case STORE_TABLE_HOSTS:
		sql = "SELECT name, principals, token_hash, disabled, created"
		      " FROM hosts ORDER BY name";
		what = "read hosts";
		break;
	case STORE_TABLE_HOST_KEYS:
		sql = "SELECT name, key_type, key_blob, key_fp, bound FROM"
		      " host_keys ORDER BY name, key_type";
		what = "read host_keys";
		break;
	default:
		/* The rows that move with a ledger (ledger_copy()). */
		if (t < STORE_TABLE_MERKLE_NODES ||
		    (def = store_table_def(t)) == NULL)
			return ERR_INVALID_ARG;
		(void)snprintf(copy_sql, sizeof(copy_sql),
		    "SELECT %s FROM %s ORDER BY %s", def->cols, def->name,
		    def->order);
		sql = copy_sql;
		what = def->what;
		break;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return ERR_ALLOC;
	it->l = l;
	it->what = what;
	TRY(sq_prepare(l, &it->st, sql));
	it->ncols = sqlite3_column_count(it->st);
	ENSURE(it->ncols <= STORE_ROW_MAX, ERR_INTERNAL);
	*out = it;
	it = NULL;
	r = 0;
out:
	if (it != NULL) {
		sqlite3_finalize(it->st);
		free(it);
	}
	return r;
}

static int
op_rows_next(struct store_rows *it, const struct store_cell **row, int *found)
{
	struct store_cell *c;
	const unsigned char *t;
	int rc, i;

	*row = NULL;
	*found = 0;
	if ((rc = sqlite3_step(it->st)) == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return sq_err(it->l, rc, it->what);
	for (i = 0; i < it->ncols; i++) {
		c = &it->cells[i];
		memset(c, 0, sizeof(*c));
		switch (sqlite3_column_type(it->st, i)) {
		case SQLITE_INTEGER:
			c->type = STORE_CELL_INTEGER;
			break;
		case SQLITE_FLOAT:
			c->type = STORE_CELL_FLOAT;
			c->d = sqlite3_column_double(it->st, i);
			break;
		case SQLITE_TEXT:
			c->type = STORE_CELL_TEXT;
			break;
		case SQLITE_BLOB:
			c->type = STORE_CELL_BLOB;
			break;
		default:
			c->type = STORE_CELL_NULL;
			break;
		}
		c->i = sqlite3_column_int64(it->st, i);
		/* Text first, then the blob of the same (now terminated)
		 * bytes: the blob pointer stays valid. */
		t = sqlite3_column_text(it->st, i);
		if (t == NULL && c->type != STORE_CELL_NULL &&
		    sqlite3_errcode(cdb(it->l)) == SQLITE_NOMEM)
			return ERR_ALLOC;
		c->text = t == NULL ? "" : (const char *)t;
		if (c->type == STORE_CELL_BLOB)
			c->blob = sqlite3_column_blob(it->st, i);
		c->len = (size_t)sqlite3_column_bytes(it->st, i);
	}
	*row = it->cells;
	*found = 1;
	return 0;
}

static void
op_rows_close(struct store_rows *it)
{
	if (it == NULL)
		return;
	sqlite3_finalize(it->st);
	free(it);
}

static int
op_meta_get(struct store *s, const char *key, char **out)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;

	*out = NULL;
	TRY(sq_prepare(l, &st, "SELECT value FROM meta WHERE key = ?"));
	TRY(sq_bind_text(l, st, 1, key));
	TRY(sq_row(l, st, &found));
	if (found)
		ENSURE((*out = strdup(sq_text(st, 0))) != NULL, ERR_ALLOC);
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

/* ---- requests ---- */

static int
dupcol(char **out, sqlite3_stmt *st, int i)
{
	if ((*out = strdup(sq_text(st, i))) == NULL)
		return ERR_ALLOC;
	return 0;
}

static int
op_request_get(struct store *s, int64_t id, struct store_request *row)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;

	memset(row, 0, sizeof(*row));
	TRY(sq_cached(l, &st,
	    "SELECT id, requester, role, principals, ttl, reason, public_key,"
	    " key_fp, state, created, expires, approvals_required,"
	    " coalesce(serial, 0) FROM requests WHERE id = ?"));
	TRY(sq_bind_int(l, st, 1, id));
	TRY(sq_row(l, st, &found));
	ENSURE(found, ERR_NOT_FOUND);
	row->id = sqlite3_column_int64(st, 0);
	TRY(dupcol(&row->requester, st, 1));
	TRY(dupcol(&row->role, st, 2));
	TRY(dupcol(&row->principals, st, 3));
	row->ttl = (uint64_t)sqlite3_column_int64(st, 4);
	TRY(dupcol(&row->reason, st, 5));
	TRY(dupcol(&row->public_key, st, 6));
	TRY(dupcol(&row->key_fp, st, 7));
	TRY(dupcol(&row->state, st, 8));
	row->created = (uint64_t)sqlite3_column_int64(st, 9);
	row->expires = (uint64_t)sqlite3_column_int64(st, 10);
	row->approvals_required = (unsigned)sqlite3_column_int64(st, 11);
	row->serial = sqlite3_column_int64(st, 12);
	r = 0;
out:
	sq_release(l, st);
	if (r != 0)
		store_request_clear(row);
	return r;
}

/* Insert q's row as pending with id (0: the next free one), unless that
 * id is taken: *changes is 0 then. */
static int
request_row_insert(struct store_sqlite *l, const struct store_request_new *q,
    int64_t id, int *changes)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	TRY(sq_cached(l, &st,
	    "INSERT INTO requests(requester, role, principals, ttl, reason,"
	    " public_key, key_fp, state, created, expires,"
	    " approvals_required, serial, updated, id)"
	    " VALUES(?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, NULL, ?, ?)"
	    " ON CONFLICT(id) DO NOTHING"));
	TRY(sq_bind_text(l, st, 1, q->requester));
	TRY(sq_bind_text(l, st, 2, q->role));
	TRY(sq_bind_text(l, st, 3, q->principals));
	TRY(sq_bind_int(l, st, 4, (int64_t)q->ttl));
	TRY(sq_bind_text(l, st, 5, q->reason));
	TRY(sq_bind_text(l, st, 6, q->public_key));
	TRY(sq_bind_text(l, st, 7, q->key_fp));
	TRY(sq_bind_int(l, st, 8, (int64_t)q->created));
	TRY(sq_bind_int(l, st, 9, (int64_t)q->expires));
	TRY(sq_bind_int(l, st, 10, q->approvals_required));
	TRY(sq_bind_int(l, st, 11, (int64_t)q->created));
	if (id > 0)
		TRY(sq_bind_int(l, st, 12, id));
	else if (sqlite3_bind_null(st, 12) != SQLITE_OK)
		TRY(sq_err(l, sqlite3_errcode(cdb(l)), "bind"));
	TRY(sq_done(l, st, changes));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_request_insert(
    struct store *s, const struct store_request_new *q, int64_t *id)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	int r = ERR_INTERNAL, changes = 0;

	*id = 0;
	/* The reserved id, unless another process took it meanwhile. */
	if (q->id > 0)
		TRY(request_row_insert(l, q, q->id, &changes));
	if (changes == 0) {
		TRY(request_row_insert(l, q, 0, &changes));
		if (changes != 1) {
			set_msg(l, "insert into requests: no row was inserted");
			r = ERR_DB;
			goto out;
		}
	}
	*id = sqlite3_last_insert_rowid(cdb(l));
	if (q->id > 0 && *id != q->id) {
		(void)pthread_mutex_lock(&l->rid_mu);
		if (l->rid_next <= *id)
			l->rid_next = *id + 1;
		(void)pthread_mutex_unlock(&l->rid_mu);
	}
	r = 0;
out:
	return r;
}

static int
op_request_state_set(struct store *s, int64_t id, const char *from,
    const char *to, int64_t serial, uint64_t now)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, changes = 0;

	TRY(sq_cached(l, &st,
	    "UPDATE requests SET state = ?1, serial = CASE WHEN ?2 = 0 THEN"
	    " serial ELSE ?2 END, updated = ?3 WHERE id = ?4 AND state = ?5"));
	TRY(sq_bind_text(l, st, 1, to));
	TRY(sq_bind_int(l, st, 2, serial));
	TRY(sq_bind_int(l, st, 3, (int64_t)now));
	TRY(sq_bind_int(l, st, 4, id));
	TRY(sq_bind_text(l, st, 5, from));
	TRY(sq_done(l, st, &changes));
	ENSURE(changes == 1, ERR_WRONG_STATE);
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_request_ttl_set(struct store *s, int64_t id, uint64_t ttl)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, changes = 0;

	ENSURE(ttl > 0 && ttl <= INT64_MAX, ERR_INVALID_ARG);
	TRY(sq_cached(l, &st,
	    "UPDATE requests SET ttl = ?1 WHERE id = ?2 AND state = "
	    "'pending'"));
	TRY(sq_bind_int(l, st, 1, (int64_t)ttl));
	TRY(sq_bind_int(l, st, 2, id));
	TRY(sq_done(l, st, &changes));
	ENSURE(changes == 1, ERR_WRONG_STATE);
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_requests_due(struct store *s, uint64_t now, int64_t **idsp, size_t *np)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int64_t *ids = NULL, *tmp;
	size_t n = 0, cap = 0;
	int r = ERR_INTERNAL, rc;

	*idsp = NULL;
	*np = 0;
	TRY(sq_cached(l, &st,
	    "SELECT id FROM requests WHERE state = 'pending' AND expires <= ?"
	    " ORDER BY id"));
	TRY(sq_bind_int(l, st, 1, (int64_t)now));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			ENSURE((tmp = realloc(ids, cap * sizeof(*ids))) != NULL,
			    ERR_ALLOC);
			ids = tmp;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	ENSURE(rc == SQLITE_DONE, sq_err(l, rc, NULL));
	*idsp = ids;
	ids = NULL;
	*np = n;
	r = 0;
out:
	free(ids);
	sq_release(l, st);
	return r;
}

static int
op_requests_page(struct store *s, const struct store_request_query *q,
    int64_t *ids, size_t max, size_t *n)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	json_t *roles = NULL;
	char *rolesj = NULL;
	size_t i;
	int r = ERR_INTERNAL, rc;

	*n = 0;
	ENSURE(max < INT64_MAX && q->now <= INT64_MAX, ERR_INVALID_ARG);
	/* The roles, filtered in SQL (json_each). */
	ENSURE((roles = json_array()) != NULL, ERR_ALLOC);
	for (i = 0; i < q->nroles; i++)
		ENSURE(
		    json_array_append_new(roles, json_string(q->roles[i])) == 0,
		    ERR_ALLOC);
	ENSURE((rolesj = json_dumps(roles, JSON_COMPACT)) != NULL, ERR_ALLOC);
	TRY(sq_cached(l, &st,
	    "SELECT id FROM requests WHERE (?1 OR requester = ?2 OR role IN"
	    " (SELECT value FROM json_each(?3))) AND (NOT ?4 OR"
	    " (state = 'pending' AND expires > ?5)) AND (?7 = 0 OR id < ?7)"
	    " ORDER BY id DESC LIMIT ?6"));
	TRY(sq_bind_int(l, st, 1, q->all != 0));
	TRY(sq_bind_text(l, st, 2, q->requester));
	TRY(sq_bind_text(l, st, 3, rolesj));
	TRY(sq_bind_int(l, st, 4, q->pending_only != 0));
	TRY(sq_bind_int(l, st, 5, (int64_t)q->now));
	TRY(sq_bind_int(l, st, 6, (int64_t)max));
	TRY(sq_bind_int(l, st, 7, q->before));
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	ENSURE(*n == max || rc == SQLITE_DONE, sq_err(l, rc, NULL));
	r = 0;
out:
	sq_release(l, st);
	json_decref(roles);
	free(rolesj);
	return r;
}

static int
op_approvals_each(struct store *s, int64_t id, store_approval_fn fn, void *arg)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	struct store_approval a;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	TRY(sq_cached(l, &st,
	    "SELECT approver, decision, time, comment FROM approvals"
	    " WHERE request_id = ? ORDER BY time, approver"));
	TRY(sq_bind_int(l, st, 1, id));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		a.approver = sq_text(st, 0);
		a.decision = sq_text(st, 1);
		a.time = sqlite3_column_int64(st, 2);
		a.comment = sq_text(st, 3);
		TRY(fn(arg, &a));
	}
	ENSURE(rc == SQLITE_DONE, sq_err(l, rc, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_approval_put(struct store *s, int64_t id, const struct store_approval *a,
    int replace, int *conflict)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	*conflict = 0;
	TRY(sq_cached(l, &st,
	    !replace
		? "INSERT INTO approvals(request_id, approver, decision, time,"
		  " comment) VALUES(?, ?, ?, ?, ?)"
		: "INSERT INTO approvals(request_id, approver, decision, time,"
		  " comment) VALUES(?, ?, ?, ?, ?) ON CONFLICT(request_id,"
		  " approver) DO UPDATE SET decision = excluded.decision,"
		  " time = excluded.time, comment = excluded.comment"));
	TRY(sq_bind_int(l, st, 1, id));
	TRY(sq_bind_text(l, st, 2, a->approver));
	TRY(sq_bind_text(l, st, 3, a->decision));
	TRY(sq_bind_int(l, st, 4, a->time));
	TRY(sq_bind_text(l, st, 5, a->comment == NULL ? "" : a->comment));
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT) {
		*conflict = 1;
		r = 0;
		goto out;
	}
	ENSURE(rc == SQLITE_DONE, sq_err(l, rc, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_revoked_key_exists(struct store *s, const uint8_t sha256[32], int *found)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	*found = 0;
	TRY(sq_cached(
	    l, &st, "SELECT 1 FROM revoked_keys WHERE key_sha256 = ?"));
	TRY(sq_bind_blob(l, st, 1, sha256, 32));
	TRY(sq_row(l, st, found));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_cert_insert(struct store *s, const struct store_cert *c)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	TRY(sq_cached(l, &st,
	    "INSERT INTO certificates(serial, request_id, user, role, key_id,"
	    " principals, valid_after, valid_before, key_fp, key_blob,"
	    " cert_sha256, certificate, issued, revoked)"
	    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"));
	TRY(sq_bind_int(l, st, 1, (int64_t)c->serial));
	TRY(sq_bind_int(l, st, 2, c->request_id));
	TRY(sq_bind_text(l, st, 3, c->user));
	TRY(sq_bind_text(l, st, 4, c->role));
	TRY(sq_bind_text(l, st, 5, c->key_id));
	TRY(sq_bind_text(l, st, 6, c->principals));
	TRY(sq_bind_int(l, st, 7, (int64_t)c->valid_after));
	TRY(sq_bind_int(l, st, 8, (int64_t)c->valid_before));
	TRY(sq_bind_text(l, st, 9, c->key_fp));
	TRY(sq_bind_blob(l, st, 10, c->key_blob, c->key_len));
	TRY(sq_bind_text(l, st, 11, c->cert_sha256));
	TRY(sq_bind_text(l, st, 12, c->certificate));
	TRY(sq_bind_int(l, st, 13, (int64_t)c->issued));
	TRY(sq_done(l, st, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_cert_info(struct store *s, int64_t serial, struct store_cert_info *c)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;

	memset(c, 0, sizeof(*c));
	TRY(sq_cached(l, &st,
	    "SELECT certificate, key_id, valid_after, valid_before, revoked"
	    " FROM certificates WHERE serial = ?"));
	TRY(sq_bind_int(l, st, 1, serial));
	TRY(sq_row(l, st, &found));
	ENSURE(found, ERR_NOT_FOUND);
	TRY(dupcol(&c->certificate, st, 0));
	TRY(dupcol(&c->key_id, st, 1));
	c->valid_after = sqlite3_column_int64(st, 2);
	c->valid_before = sqlite3_column_int64(st, 3);
	if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
		c->revoked_set = 1;
		c->revoked = sqlite3_column_int64(st, 4);
	}
	r = 0;
out:
	sq_release(l, st);
	if (r != 0)
		store_cert_info_clear(c);
	return r;
}

static int
op_requests_count(
    struct store *s, uint64_t now, struct store_request_counts *out)
{
	static const char *const names[STORE_REQ_NSTATES] = {
	    "pending", "issued", "denied", "expired", "revoked", "withdrawn"};
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	const char *state;
	int64_t v;
	int r = ERR_INTERNAL, rc;
	size_t k;

	memset(out, 0, sizeof(*out));
	if (now > INT64_MAX)
		return ERR_INVALID_ARG;
	/* One statement, so one snapshot, without a transaction of its own
	 * (readers share the connection). */
	TRY(sq_cached(l, &st,
	    "SELECT CASE WHEN state = 'pending' AND expires <= ?1"
	    " THEN 'expired' ELSE state END AS s, count(*) FROM requests"
	    " GROUP BY s"
	    " UNION ALL SELECT NULL, coalesce(sum(max(r.approvals_required -"
	    " (SELECT count(*) FROM approvals a WHERE a.request_id = r.id AND"
	    " a.decision = 'approve'), 0)), 0) FROM requests r WHERE r.state ="
	    " 'pending' AND r.expires > ?1"));
	TRY(sq_bind_int(l, st, 1, (int64_t)now));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 1);
		if (v < 0)
			continue;
		if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
			out->approvals_needed = (uint64_t)v;
			continue;
		}
		state = sq_text(st, 0);
		for (k = 0; k < STORE_REQ_NSTATES; k++) {
			if (strcmp(state, names[k]) == 0)
				out->by_state[k] += (uint64_t)v;
		}
	}
	ENSURE(rc == SQLITE_DONE, sq_err(l, rc, "count requests"));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

/* ---- notification sinks ---- */

static int
op_notify_cursor_get(
    struct store *s, const char *sink, int64_t *seq, int *found)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	*seq = 0;
	*found = 0;
	TRY(sq_cached(l, &st, "SELECT seq FROM notify_cursors WHERE sink = ?"));
	TRY(sq_bind_text(l, st, 1, sink));
	TRY(sq_row(l, st, found));
	if (*found)
		*seq = sqlite3_column_int64(st, 0);
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_notify_cursor_put(
    struct store *s, const char *sink, int64_t seq, uint64_t now)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	TRY(sq_cached(l, &st,
	    "INSERT OR IGNORE INTO notify_cursors(sink, seq, updated)"
	    " VALUES(?, ?, ?)"));
	TRY(sq_bind_text(l, st, 1, sink));
	TRY(sq_bind_int(l, st, 2, seq));
	TRY(sq_bind_int(l, st, 3, (int64_t)now));
	TRY(sq_done(l, st, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_notify_cursor_advance(struct store *s, const char *sink, const char *owner,
    int64_t seq, uint64_t now)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, held = 0;

	TRY(sq_cached(l, &st,
	    "SELECT 1 FROM notify_leases WHERE sink = ? AND owner = ?"
	    " AND expires > ?"));
	TRY(sq_bind_text(l, st, 1, sink));
	TRY(sq_bind_text(l, st, 2, owner));
	TRY(sq_bind_int(l, st, 3, (int64_t)now));
	TRY(sq_row(l, st, &held));
	ENSURE(held, ERR_NOTIFY_LEASE);
	sq_release(l, st);
	st = NULL;
	TRY(sq_cached(l, &st,
	    "UPDATE notify_cursors SET seq = ?, updated = ?"
	    " WHERE sink = ? AND seq < ?"));
	TRY(sq_bind_int(l, st, 1, seq));
	TRY(sq_bind_int(l, st, 2, (int64_t)now));
	TRY(sq_bind_text(l, st, 3, sink));
	TRY(sq_bind_int(l, st, 4, seq));
	TRY(sq_done(l, st, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_notify_lease_take(struct store *s, const char *sink, const char *owner,
    uint64_t now, uint64_t ttl)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, changes = 0;

	TRY(sq_cached(l, &st,
	    "INSERT OR IGNORE INTO notify_leases(sink, owner, expires)"
	    " VALUES(?, '', 0)"));
	TRY(sq_bind_text(l, st, 1, sink));
	TRY(sq_done(l, st, NULL));
	sq_release(l, st);
	st = NULL;
	TRY(sq_cached(l, &st,
	    "UPDATE notify_leases SET owner = ?1, expires = ?2"
	    " WHERE sink = ?3 AND (owner = ?1 OR expires <= ?4)"));
	TRY(sq_bind_text(l, st, 1, owner));
	TRY(sq_bind_int(l, st, 2, (int64_t)(now + ttl)));
	TRY(sq_bind_text(l, st, 3, sink));
	TRY(sq_bind_int(l, st, 4, (int64_t)now));
	TRY(sq_done(l, st, &changes));
	r = changes == 1 ? 0 : ERR_NOTIFY_LEASE;
out:
	sq_release(l, st);
	return r;
}

static int
op_notify_lease_release(struct store *s, const char *sink, const char *owner)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	TRY(sq_cached(l, &st,
	    "UPDATE notify_leases SET expires = 0 WHERE sink = ? AND owner = ?"));
	TRY(sq_bind_text(l, st, 1, sink));
	TRY(sq_bind_text(l, st, 2, owner));
	TRY(sq_done(l, st, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

/* ---- copying a ledger in (ledger_copy()) ---- */

static int
op_row_insert(
    struct store *s, enum store_table t, const struct store_cell *row, size_t n)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	const struct store_table_def *def = store_table_def(t);
	sqlite3_stmt *st = NULL;
	char sql[512];
	size_t i, k;
	int r = ERR_INTERNAL, rc;

	if (def == NULL || n != def->ncols || !in_transaction(l))
		return ERR_INVALID_ARG;
	k = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s(%s) VALUES(?",
	    def->name, def->cols);
	for (i = 1; i < n && k + 3 < sizeof(sql); i++)
		k += (size_t)snprintf(sql + k, sizeof(sql) - k, ", ?");
	(void)snprintf(sql + k, sizeof(sql) - k, ")");
	TRY(sq_cached(l, &st, sql));
	for (i = 0; i < n; i++) {
		const struct store_cell *c = &row[i];
		int j = (int)i + 1;

		if (c->type == STORE_CELL_INTEGER)
			rc = sqlite3_bind_int64(st, j, c->i);
		else if (c->type == STORE_CELL_FLOAT)
			rc = sqlite3_bind_double(st, j, c->d);
		else if (c->type == STORE_CELL_TEXT)
			rc = sqlite3_bind_text(
			    st, j, c->text, (int)c->len, SQLITE_TRANSIENT);
		else if (c->type == STORE_CELL_BLOB)
			rc = sqlite3_bind_blob(
			    st, j, c->blob, (int)c->len, SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_null(st, j);
		ENSURE(rc == SQLITE_OK, sq_err(l, rc, "copy a row"));
	}
	TRY(sq_done(l, st, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_counter_raise(struct store *s, enum store_counter c, uint64_t v)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	uint64_t cur = 0;
	int r = ERR_INTERNAL;

	if ((c != STORE_COUNTER_SERIAL && c != STORE_COUNTER_KRL_VERSION) ||
	    v > INT64_MAX || !in_transaction(l))
		return ERR_INVALID_ARG;
	TRY(meta_get_u64(l, counter_key(c), &cur));
	if (v > cur)
		TRY(meta_set_u64(l, counter_key(c), v));
	r = 0;
out:
	return r;
}

/* ---- the Merkle tree and checkpoints ---- */

static int
op_merkle_size(struct store *s, uint64_t *out)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;
	int64_t v;

	*out = 0;
	TRY(sq_cached(l, &st,
	    "SELECT idx FROM merkle_nodes WHERE level = 0"
	    " ORDER BY idx DESC LIMIT 1"));
	TRY(sq_row(l, st, &found));
	if (found) {
		v = sqlite3_column_int64(st, 0);
		if (v < 0 || v == INT64_MAX) {
			set_msg(l,
			    "merkle_nodes: leaf index %" PRId64 " out of range",
			    v);
			r = ERR_LEDGER_BROKEN;
			goto out;
		}
		*out = (uint64_t)v + 1;
	}
	r = 0;
out:
	sq_release(l, st);
	return r;
}

/* Column i of st as the 32-byte hash of node (level, idx). */
static int
node_hash_col(struct store_sqlite *l, sqlite3_stmt *st, int i, unsigned level,
    uint64_t idx, uint8_t out[32])
{
	if (sqlite3_column_type(st, i) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, i) != 32) {
		set_msg(l, "merkle_nodes (%u, %" PRIu64 "): not a 32-byte hash",
		    level, idx);
		return ERR_LEDGER_BROKEN;
	}
	memcpy(out, sqlite3_column_blob(st, i), 32);
	return 0;
}

/* merkle_node_get() through the level's scan (struct node_scan): a step
 * when idx is the next row's, else the scan starts again at idx. */
static int
node_scan_get(
    struct store_sqlite *l, unsigned level, uint64_t idx, uint8_t out[32])
{
	struct node_scan *sc = &l->scan[level];
	int r = ERR_INTERNAL, found = 0;

	if (sc->st == NULL) {
		TRY(sq_prepare(l, &sc->st,
		    "SELECT idx, hash FROM merkle_nodes WHERE level = ?1"
		    " AND idx >= ?2 ORDER BY idx"));
		sc->next = UINT64_MAX;
	}
	if (sc->next != idx) {
		(void)sqlite3_reset(sc->st);
		TRY(sq_bind_int(l, sc->st, 1, (int64_t)level));
		TRY(sq_bind_int(l, sc->st, 2, (int64_t)idx));
	}
	sc->next = UINT64_MAX;
	TRY(sq_row(l, sc->st, &found));
	ENSURE(found && sqlite3_column_int64(sc->st, 0) == (int64_t)idx,
	    ERR_NOT_FOUND);
	TRY(node_hash_col(l, sc->st, 1, level, idx, out));
	sc->next = idx + 1;
	r = 0;
out:
	return r;
}

static int
op_merkle_node_get(
    struct store *s, unsigned level, uint64_t idx, uint8_t out[32])
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;

	memset(out, 0, 32);
	if (level > 63 || idx > INT64_MAX)
		return ERR_INVALID_ARG;
	if (l->snap_open && pthread_equal(l->snap_owner, pthread_self()))
		return node_scan_get(l, level, idx, out);
	TRY(sq_cached(l, &st,
	    "SELECT hash FROM merkle_nodes WHERE level = ?1 AND idx = ?2"));
	TRY(sq_bind_int(l, st, 1, (int64_t)level));
	TRY(sq_bind_int(l, st, 2, (int64_t)idx));
	TRY(sq_row(l, st, &found));
	ENSURE(found, ERR_NOT_FOUND);
	TRY(node_hash_col(l, st, 0, level, idx, out));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_merkle_nodes_put(
    struct store *s, uint64_t leaf, const uint8_t (*made)[32], size_t n)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	/* "INSERT ... VALUES(?, ?, ?)" and n - 1 more rows of 12 bytes */
	char sql[64 + 64 * 12];
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;
	size_t k;

	if (!in_transaction(l)) {
		set_msg(l, "merkle_nodes_put outside a transaction");
		return ERR_INVALID_ARG;
	}
	if (leaf > INT64_MAX || n > 64)
		return ERR_INVALID_ARG;
	if (n == 0)
		return 0;
	/* One statement for the leaf and the subtrees it completes (two
	 * rows on average, at most one per level): a statement per row
	 * cost a step, a reset and three binds each. */
	(void)snprintf(sql, sizeof(sql),
	    "INSERT INTO merkle_nodes(level, idx, hash) VALUES(?, ?, ?)");
	for (k = 1; k < n; k++)
		(void)strcat(sql, ", (?, ?, ?)");
	TRY(sq_cached(l, &st, sql));
	for (k = 0; k < n; k++) {
		TRY(sq_bind_int(l, st, (int)(3 * k + 1), (int64_t)k));
		TRY(sq_bind_int(l, st, (int)(3 * k + 2), (int64_t)(leaf >> k)));
		TRY(sq_bind_blob(l, st, (int)(3 * k + 3), made[k], 32));
	}
	if ((r = sq_done(l, st, NULL)) != 0) {
		store_msg_set(
		    s, "write merkle_nodes: %s", sqlite3_errmsg(cdb(l)));
		goto out;
	}
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static int
op_checkpoint_insert(struct store *s, const struct store_checkpoint *c)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	if (c->size > INT64_MAX || c->time > INT64_MAX)
		return ERR_INVALID_ARG;
	TRY(sq_cached(l, &st,
	    "INSERT INTO checkpoints(tree_size, root, note, sig, time)"
	    " VALUES(?1, ?2, ?3, ?4, ?5)"));
	TRY(sq_bind_int(l, st, 1, (int64_t)c->size));
	TRY(sq_bind_blob(l, st, 2, c->root, 32));
	TRY(sq_bind_text(l, st, 3, c->note));
	TRY(sq_bind_text(l, st, 4, c->sig));
	TRY(sq_bind_int(l, st, 5, (int64_t)c->time));
	TRY(sq_done(l, st, NULL));
	r = 0;
out:
	sq_release(l, st);
	return r;
}

/* A checkpoints row into c (strings new). */
static int
checkpoint_row(
    struct store_sqlite *l, sqlite3_stmt *st, struct store_checkpoint *c)
{
	int64_t v = sqlite3_column_int64(st, 0);
	int r = ERR_INTERNAL;

	if (v < 0 || sqlite3_column_type(st, 1) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 1) != 32) {
		set_msg(l, "checkpoints %" PRId64 ": malformed row", v);
		return ERR_LEDGER_BROKEN;
	}
	c->size = (uint64_t)v;
	memcpy(c->root, sqlite3_column_blob(st, 1), 32);
	TRY(dupcol(&c->note, st, 2));
	TRY(dupcol(&c->sig, st, 3));
	v = sqlite3_column_int64(st, 4);
	c->time = v < 0 ? 0 : (uint64_t)v;
	r = 0;
out:
	return r;
}

static int
op_checkpoint_latest(struct store *s, struct store_checkpoint *c)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;

	memset(c, 0, sizeof(*c));
	TRY(sq_cached(l, &st,
	    "SELECT tree_size, root, note, sig, time FROM checkpoints"
	    " ORDER BY tree_size DESC LIMIT 1"));
	TRY(sq_row(l, st, &found));
	ENSURE(found, ERR_NOT_FOUND);
	TRY(checkpoint_row(l, st, c));
	r = 0;
out:
	sq_release(l, st);
	if (r != 0)
		store_checkpoint_clear(c);
	return r;
}

static int
op_checkpoints_each(struct store *s, store_checkpoint_fn fn, void *arg)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	struct store_checkpoint c;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	memset(&c, 0, sizeof(c));
	TRY(sq_prepare(l, &st,
	    "SELECT tree_size, root, note, sig, time FROM checkpoints"
	    " ORDER BY tree_size"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		TRY(checkpoint_row(l, st, &c));
		TRY(fn(arg, &c));
		store_checkpoint_clear(&c);
	}
	ENSURE(rc == SQLITE_DONE, sq_err(l, rc, "read checkpoints"));
	r = 0;
out:
	store_checkpoint_clear(&c);
	sqlite3_finalize(st);
	return r;
}

static int
op_event_find(
    struct store *s, const char *type, const char *subject, int64_t *seq)
{
	struct store_sqlite *l = (struct store_sqlite *)s;
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;

	*seq = 0;
	TRY(sq_cached(l, &st,
	    "SELECT seq FROM events WHERE type = ?1 AND subject = ?2"
	    " ORDER BY seq LIMIT 1"));
	TRY(sq_bind_text(l, st, 1, type));
	TRY(sq_bind_text(l, st, 2, subject));
	TRY(sq_row(l, st, &found));
	ENSURE(found, ERR_NOT_FOUND);
	*seq = sqlite3_column_int64(st, 0);
	r = 0;
out:
	sq_release(l, st);
	return r;
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = op_close,
    .tx_begin = op_tx_begin,
    .tx_commit = op_tx_commit,
    .tx_rollback = op_tx_rollback,
    .tx_active = op_tx_active,
    .tx_announce = op_tx_announce,
    .tx_unannounce = op_tx_unannounce,
    .tx_run = op_tx_run,
    .read_begin = op_read_begin,
    .read_end = op_read_end,
    .snapshot_begin = op_snapshot_begin,
    .snapshot_end = op_snapshot_end,
    .stats_get = op_stats_get,
    .event_tail = op_event_tail,
    .event_insert = op_event_insert,
    .events_open = op_events_open,
    .events_next = op_events_next,
    .events_close = op_events_close,
    .counter_next = op_counter_next,
    .counter_get = op_counter_get,
    .serial_reserve = op_serial_reserve,
    .request_id_reserve = op_request_id_reserve,
    .changed = op_changed,
    .user_get = op_user_get,
    .user_by_token = op_user_by_token,
    .user_insert = op_user_insert,
    .user_token_set = op_user_token_set,
    .user_disable = op_user_disable,
    .users_each = op_users_each,
    .user_groups_set = op_user_groups_set,
    .session_insert = op_session_insert,
    .session_get = op_session_get,
    .sessions_purge = op_sessions_purge,
    .session_delete = op_session_delete,
    .identity_get = op_identity_get,
    .identity_insert = op_identity_insert,
    .certs_match = op_certs_match,
    .request_exists = op_request_exists,
    .event_subject_exists = op_event_subject_exists,
    .cert_revoke = op_cert_revoke,
    .revoked_key_insert = op_revoked_key_insert,
    .krl_each = op_krl_each,
    .krl_latest = op_krl_latest,
    .request_get = op_request_get,
    .request_insert = op_request_insert,
    .request_state_set = op_request_state_set,
    .request_ttl_set = op_request_ttl_set,
    .requests_due = op_requests_due,
    .requests_page = op_requests_page,
    .approvals_each = op_approvals_each,
    .approval_put = op_approval_put,
    .revoked_key_exists = op_revoked_key_exists,
    .cert_insert = op_cert_insert,
    .cert_info = op_cert_info,
    .rows_open = op_rows_open,
    .rows_next = op_rows_next,
    .rows_close = op_rows_close,
    .meta_get = op_meta_get,
    .requests_count = op_requests_count,
    .host_get = op_host_get,
    .host_by_token = op_host_by_token,
    .host_insert = op_host_insert,
    .host_key_get = op_host_key_get,
    .host_key_bind = op_host_key_bind,
    .host_keys_each = op_host_keys_each,
    .host_reset = op_host_reset,
    .host_disable = op_host_disable,
    .hosts_each = op_hosts_each,
    .notify_cursor_get = op_notify_cursor_get,
    .notify_cursor_put = op_notify_cursor_put,
    .notify_cursor_advance = op_notify_cursor_advance,
    .notify_lease_take = op_notify_lease_take,
    .notify_lease_release = op_notify_lease_release,
    .merkle_size = op_merkle_size,
    .merkle_node_get = op_merkle_node_get,
    .merkle_nodes_put = op_merkle_nodes_put,
    .checkpoint_insert = op_checkpoint_insert,
    .checkpoint_latest = op_checkpoint_latest,
    .checkpoints_each = op_checkpoints_each,
    .event_find = op_event_find,
    .row_insert = op_row_insert,
    .counter_raise = op_counter_raise,
};

/*
 * Once, before sqlite's first use: no accounting of sqlite's memory,
 * which took one process-wide mutex around every sqlite3_malloc() and
 * free of every connection (the HTTP threads' readers contended for it;
 * nothing here reads sqlite3_memory_used()).  Too late if sqlite was
 * initialised already (SQLITE_MISUSE, ignored): it only costs time.
 */
static void
sq_global_init(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int
store_sqlite_open(struct store **out, const char *path, int create,
    char errbuf[STORE_ERR_LEN])
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct store_sqlite *l = NULL;
	int r;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	(void)pthread_once(&once, sq_global_init);
	if ((r = sq_open(&l, path, create, errbuf)) != 0)
		return r;
	*out = &l->base;
	return 0;
}

/*
 * The statement helpers of store/sql.h, on the handle's sqlite
 * connection, for the tests that look at or tamper with the file.
 */
static struct store_sqlite *
sq_of(struct ledger *l)
{
	return (struct store_sqlite *)ledger_store(l);
}

sqlite3 *
ledger_db(struct ledger *l)
{
	struct store_sqlite *q = sq_of(l);

	return q == NULL ? NULL : cdb(q);
}

int
ledger_sql_err(struct ledger *l, int rc, const char *what)
{
	return sq_err(sq_of(l), rc, what);
}

int
ledger_sql_prepare(struct ledger *l, sqlite3_stmt **st, const char *sql)
{
	return sq_prepare(sq_of(l), st, sql);
}

int
ledger_sql_cached(struct ledger *l, sqlite3_stmt **st, const char *sql)
{
	return sq_cached(sq_of(l), st, sql);
}

void
ledger_sql_release(struct ledger *l, sqlite3_stmt *st)
{
	sq_release(sq_of(l), st);
}

int
ledger_sql_done(struct ledger *l, sqlite3_stmt *st, int *changes)
{
	return sq_done(sq_of(l), st, changes);
}

int
ledger_sql_bind_int(struct ledger *l, sqlite3_stmt *st, int i, int64_t v)
{
	return sq_bind_int(sq_of(l), st, i, v);
}

int
ledger_sql_bind_text(struct ledger *l, sqlite3_stmt *st, int i, const char *s)
{
	return sq_bind_text(sq_of(l), st, i, s);
}

int
ledger_sql_bind_blob(
    struct ledger *l, sqlite3_stmt *st, int i, const void *p, size_t len)
{
	return sq_bind_blob(sq_of(l), st, i, p, len);
}

int
ledger_sql_row(struct ledger *l, sqlite3_stmt *st, int *found)
{
	return sq_row(sq_of(l), st, found);
}

const char *
ledger_sql_text(sqlite3_stmt *st, int i)
{
	return sq_text(st, i);
}
