/*
 * ledger.c: the sqlite ledger of ledger.h: opening and creating the file,
 * transactions, the hash-chained events table, serial and KRL version
 * counters in meta, chain verification, export (JSONL, CSV) and change
 * detection between processes.
 *
 * It does not know what events mean: users.c, request.c and revoke.c run
 * their own statements through the ledger_sql_* helpers defined here
 * and call ledger_append() in the same transaction.  Hashing uses
 * OpenSSL's EVP SHA-256, hex signer/wire.h; JSON is jansson's.  Works
 * with ca/ledger.h and signer/wire.h.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ca/ledger.h"
#include "signer/base/num.h"
#include "signer/wire.h"

#define ZERO_HASH                                                              \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define CANON_FLAGS (JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII)
#define BUSY_TIMEOUT_MS 10000
/* Statements kept by ledger_sql_cached(): more distinct SQL texts than
 * this are prepared afresh each time (ca/ has about 50). */
#define STMT_CACHE_MAX 128

/* One cached statement, keyed by its SQL text. */
struct stmt_slot {
	char *sql;
	uint32_t hash; /* of sql */
	sqlite3_stmt *st;
	int in_use; /* handed out, not released yet */
};

/* A thread waiting for the transaction that holds its unit of work. */
struct ledger_waiter {
	uint64_t batch;
	int done;
	int rc;
	struct ledger_waiter *next;
};

struct ledger {
	sqlite3 *db;
	int64_t data_version;
	char errmsg[LEDGER_ERR_LEN];
	/*
	 * Group commit (see ledger_begin()).  mu guards the fields below;
	 * cv signals every change of them.
	 */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int worker; /* a unit of work is in progress */
	pthread_t owner; /* ...in this thread */
	unsigned arriving; /* writers waiting to start a unit */
	uint64_t next_ticket; /* handed to arriving writers, in order */
	uint64_t serving; /* the ticket whose turn is next */
	unsigned readers; /* threads between read_begin and end */
	int tx_open; /* BEGIN IMMEDIATE issued, not finished */
	int tx_broken; /* sqlite rolled the transaction back */
	unsigned batch_units; /* units released into the open one */
	uint64_t batch; /* number of the open transaction */
	struct ledger_waiter *waiters; /* units waiting for their commit */
	struct ledger_stats stats;
	/* SHA-256 context of ledger_append() (the unit's owner only). */
	EVP_MD_CTX *md_ctx;
	/*
	 * Prepared statements (ledger_sql_cached()).  cache_mu guards the
	 * slots, not the statements: a slot handed out is in_use, and only
	 * the thread it went to steps it until ledger_sql_release(); any
	 * other thread asking for the same SQL then gets a fresh statement.
	 * So readers between transactions (several at once) and the unit's
	 * owner never share a statement.
	 */
	pthread_mutex_t cache_mu;
	struct stmt_slot cache[STMT_CACHE_MAX];
	size_t ncache;
};

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
 * Schema 2: the state rows that must never change, or change only one
 * way, refuse other edits (a deliberate DROP TRIGGER is still possible;
 * ledger_verify_state() catches what follows).  Run by create_schema()
 * and by the migration of a schema 1 file (check_schema()).
 */
static const char *triggers_sql =
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

/* Record a message in l (which may be NULL). */
static void __attribute__((format(printf, 2, 3)))
set_msg(struct ledger *l, const char *fmt, ...)
{
	va_list ap;

	if (l == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(l->errmsg, sizeof(l->errmsg), fmt, ap);
	va_end(ap);
}

int
ledger_sql_err(struct ledger *l, int rc, const char *what)
{
	int prim = rc & 0xff;

	if (l != NULL) {
		const char *m =
		    l->db != NULL ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc);

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
db_exec(struct ledger *l, const char *sql)
{
	int rc;

	if ((rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return ledger_sql_err(l, rc, sql);
	return 0;
}

int
ledger_sql_prepare(struct ledger *l, sqlite3_stmt **st, const char *sql)
{
	int rc;

	*st = NULL;
	if ((rc = sqlite3_prepare_v2(l->db, sql, -1, st, NULL)) != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return ledger_sql_err(l, rc, "prepare");
	}
	return 0;
}

static uint32_t
sql_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int
ledger_sql_cached(struct ledger *l, sqlite3_stmt **st, const char *sql)
{
	struct stmt_slot *sl = NULL;
	sqlite3_stmt *fresh = NULL;
	char *copy = NULL;
	uint32_t h;
	size_t i;
	int rc;

	*st = NULL;
	h = sql_hash(sql);
	(void)pthread_mutex_lock(&l->cache_mu);
	for (i = 0; i < l->ncache; i++) {
		sl = &l->cache[i];
		if (sl->hash == h && strcmp(sl->sql, sql) == 0)
			break;
	}
	if (i < l->ncache && !sl->in_use) {
		sl->in_use = 1;
		*st = sl->st;
		(void)pthread_mutex_unlock(&l->cache_mu);
		return 0;
	}
	(void)pthread_mutex_unlock(&l->cache_mu);
	/* Not cached, or in use elsewhere (another thread, or a nested
	 * use of the same SQL): prepare one, and keep it if there is no
	 * slot for this SQL yet and room for one. */
	rc = sqlite3_prepare_v3(
	    l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &fresh, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(fresh);
		return ledger_sql_err(l, rc, "prepare");
	}
	if (i < l->ncache || (copy = strdup(sql)) == NULL) {
		*st = fresh;
		return 0;
	}
	(void)pthread_mutex_lock(&l->cache_mu);
	for (i = 0; i < l->ncache; i++) {
		if (l->cache[i].hash == h && strcmp(l->cache[i].sql, sql) == 0)
			break;
	}
	if (i == l->ncache && l->ncache < STMT_CACHE_MAX) {
		sl = &l->cache[l->ncache++];
		sl->sql = copy;
		sl->hash = h;
		sl->st = fresh;
		sl->in_use = 1;
		copy = NULL;
	}
	(void)pthread_mutex_unlock(&l->cache_mu);
	free(copy);
	*st = fresh;
	return 0;
}

void
ledger_sql_release(struct ledger *l, sqlite3_stmt *st)
{
	size_t i;

	if (st == NULL)
		return;
	if (l != NULL) {
		(void)pthread_mutex_lock(&l->cache_mu);
		for (i = 0; i < l->ncache; i++) {
			if (l->cache[i].st == st && l->cache[i].in_use) {
				/* Reset before it can be handed out again:
				 * no read transaction left open, no
				 * borrowed (SQLITE_STATIC) binding kept. */
				(void)sqlite3_reset(st);
				(void)sqlite3_clear_bindings(st);
				l->cache[i].in_use = 0;
				(void)pthread_mutex_unlock(&l->cache_mu);
				return;
			}
		}
		(void)pthread_mutex_unlock(&l->cache_mu);
	}
	sqlite3_finalize(st);
}

int
ledger_sql_done(struct ledger *l, sqlite3_stmt *st, int *changes)
{
	int rc;

	if (changes != NULL)
		*changes = 0;
	if ((rc = sqlite3_step(st)) != SQLITE_DONE)
		return ledger_sql_err(l, rc, NULL);
	if (changes != NULL)
		*changes = sqlite3_changes(l->db);
	return 0;
}

int
ledger_sql_bind_int(struct ledger *l, sqlite3_stmt *st, int i, int64_t v)
{
	int rc;

	if ((rc = sqlite3_bind_int64(st, i, v)) != SQLITE_OK)
		return ledger_sql_err(l, rc, "bind");
	return 0;
}

int
ledger_sql_bind_text(struct ledger *l, sqlite3_stmt *st, int i, const char *s)
{
	int rc;

	if ((rc = sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)) != SQLITE_OK)
		return ledger_sql_err(l, rc, "bind");
	return 0;
}

int
ledger_sql_bind_blob(
    struct ledger *l, sqlite3_stmt *st, int i, const void *p, size_t len)
{
	int rc;

	if (len > INT_MAX) {
		set_msg(l, "bind: a blob of %zu bytes is too large", len);
		return ERR_TOO_LARGE;
	}
	if ((rc = sqlite3_bind_blob(st, i, p, (int)len, SQLITE_STATIC)) !=
	    SQLITE_OK)
		return ledger_sql_err(l, rc, "bind");
	return 0;
}

int
ledger_sql_row(struct ledger *l, sqlite3_stmt *st, int *found)
{
	int rc;

	*found = 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*found = 1;
	else if (rc != SQLITE_DONE)
		return ledger_sql_err(l, rc, NULL);
	return 0;
}

const char *
ledger_sql_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t == NULL ? "" : (const char *)t;
}

static int
in_transaction(const struct ledger *l)
{
	return sqlite3_get_autocommit(l->db) == 0;
}

/* A meta value as a new string; *found = 0 (and *out NULL) if absent. */
static int
meta_get(struct ledger *l, const char *key, char **out, int *found)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int r = ERR_INTERNAL, rc;

	*out = NULL;
	*found = 0;
	TRY(ledger_sql_cached(l, &st, "SELECT value FROM meta WHERE key = ?1"));
	TRY(ledger_sql_bind_text(l, st, 1, key));
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = ledger_sql_err(l, rc, "read meta");
		goto out;
	}
	if ((t = sqlite3_column_text(st, 0)) == NULL) {
		r = sqlite3_errcode(l->db) == SQLITE_NOMEM ? ERR_ALLOC : ERR_DB;
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
	ledger_sql_release(l, st);
	return r;
}

static int
meta_set(struct ledger *l, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	TRY(ledger_sql_cached(l, &st,
	    "INSERT INTO meta(key, value) VALUES(?1, ?2)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
	TRY(ledger_sql_bind_text(l, st, 1, key));
	TRY(ledger_sql_bind_text(l, st, 2, value));
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = ledger_sql_err(l, rc, "write meta");
		goto out;
	}
	r = 0;
out:
	ledger_sql_release(l, st);
	return r;
}

/* A numeric meta value; absent counts as 0. */
static int
meta_get_u64(struct ledger *l, const char *key, uint64_t *v)
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
meta_set_u64(struct ledger *l, const char *key, uint64_t v)
{
	char buf[32];

	(void)snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return meta_set(l, key, buf);
}

/* One integer from a single-row query with no parameters. */
static int
query_i64(struct ledger *l, const char *sql, int64_t *v)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, rc;

	*v = 0;
	TRY(ledger_sql_cached(l, &st, sql));
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = ledger_sql_err(l, rc, sql);
		goto out;
	}
	*v = sqlite3_column_int64(st, 0);
	r = 0;
out:
	ledger_sql_release(l, st);
	return r;
}

static int
create_schema(struct ledger *l)
{
	char ver[16];
	int r = ERR_INTERNAL, rc;

	(void)snprintf(ver, sizeof(ver), "%d", LEDGER_SCHEMA_VERSION);
	rc = sqlite3_exec(l->db, schema_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = ledger_sql_err(l, rc, "create schema");
		goto out;
	}
	rc = sqlite3_exec(l->db, triggers_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = ledger_sql_err(l, rc, "create triggers");
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
begin_immediate(struct ledger *l)
{
	struct timespec start;
	int rc;

	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		rc = sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
	} while (busy_retry(&start));
	return ledger_sql_err(l, rc, "begin transaction");
}

/*
 * Schema 1 (round 1) -> 2: add the state triggers.  The tables are the
 * same; events written before keep their details (ledger_verify_state()
 * knows what they lack).  Under the write lock, re-checking the version
 * so that two processes opening the file at once migrate it once.
 */
static int
migrate_1_to_2(struct ledger *l)
{
	char *ver = NULL;
	int r = ERR_INTERNAL, rc, found = 0, began = 0;

	TRY(begin_immediate(l));
	began = 1;
	TRY(meta_get(l, "schema_version", &ver, &found));
	if (found && strcmp(ver, "1") == 0) {
		rc = sqlite3_exec(l->db, triggers_sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			r = ledger_sql_err(l, rc, "migrate to schema 2");
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

static int
check_schema(struct ledger *l, int create)
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
	if (num_parse_u64(ver, 1000000, &v) != 0 ||
	    v != LEDGER_SCHEMA_VERSION) {
		set_msg(l,
		    "ledger schema_version \"%.32s\" is not supported "
		    "(this jitca knows %d)",
		    ver, LEDGER_SCHEMA_VERSION);
		r = ERR_DB;
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
read_data_version(struct ledger *l, int64_t *v)
{
	return query_i64(l, "PRAGMA data_version", v);
}

static int open_setup(struct ledger *l, const char *path, int create);

int
ledger_open_err(struct ledger **out, const char *path, int create,
    char errbuf[LEDGER_ERR_LEN])
{
	struct ledger *l = NULL;
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
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		l = NULL;
		r = ERR_SYSTEM;
		goto out;
	}
	if (pthread_mutex_init(&l->cache_mu, NULL) != 0) {
		(void)pthread_mutex_destroy(&l->mu);
		free(l);
		l = NULL;
		r = ERR_SYSTEM;
		goto out;
	}
	(void)pthread_cond_init(&l->cv, NULL);
	if ((l->md_ctx = EVP_MD_CTX_new()) == NULL) {
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
		r = ledger_sql_err(l, rc, path);
		goto out;
	}
	(void)sqlite3_extended_result_codes(l->db, 1);
	if ((rc = sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS)) != SQLITE_OK) {
		r = ledger_sql_err(l, rc, "busy_timeout");
		goto out;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	while (
	    (r = open_setup(l, path, create)) == ERR_BUSY && busy_retry(&start))
		;
	if (r != 0)
		goto out;
	l->errmsg[0] = '\0';
	*out = l;
	l = NULL;
	r = 0;
out:
	if (l != NULL && errbuf != NULL)
		(void)snprintf(errbuf, LEDGER_ERR_LEN, "%s", l->errmsg);
	ledger_close(l);
	return r;
}

/* Connection settings and the schema check, on an open connection. */
static int
open_setup(struct ledger *l, const char *path, int create)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int r = ERR_INTERNAL, rc;

	TRY(db_exec(l, "PRAGMA foreign_keys = ON"));
	TRY(db_exec(l, "PRAGMA trusted_schema = OFF"));
	TRY(ledger_sql_prepare(l, &st, "PRAGMA journal_mode = WAL"));
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = ledger_sql_err(l, rc, path);
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
	TRY(db_exec(l, "PRAGMA synchronous = FULL"));
	TRY(check_schema(l, create));
	TRY(read_data_version(l, &l->data_version));
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

int
ledger_open(struct ledger **out, const char *path, int create)
{
	return ledger_open_err(out, path, create, NULL);
}

void
ledger_close(struct ledger *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->ncache; i++) {
		sqlite3_finalize(l->cache[i].st);
		free(l->cache[i].sql);
	}
	l->ncache = 0;
	if (l->db != NULL) {
		if (in_transaction(l))
			(void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		(void)sqlite3_close_v2(l->db);
	}
	EVP_MD_CTX_free(l->md_ctx);
	(void)pthread_mutex_destroy(&l->cache_mu);
	(void)pthread_cond_destroy(&l->cv);
	(void)pthread_mutex_destroy(&l->mu);
	free(l);
}

const char *
ledger_errmsg(const struct ledger *l)
{
	return l == NULL ? "" : l->errmsg;
}

sqlite3 *
ledger_db(struct ledger *l)
{
	return l == NULL ? NULL : l->db;
}

/*
 * Group commit.  Units of work (begin ... commit/rollback) from several
 * threads share one sqlite transaction and so one fsync: a unit runs
 * inside a SAVEPOINT of the open transaction; when it is released and
 * another writer is already waiting, the transaction stays open for that
 * writer's unit; the last unit in line (or the LEDGER_BATCH_MAX-th)
 * commits for all of them.  Each committing thread then waits until the
 * COMMIT that holds its unit has finished and returns that COMMIT's
 * result: nothing a unit produced may leave the process before then
 * (DESIGN.md invariant 1).  A lone writer commits at once, so a single
 * process (the admin commands) sees plain transactions.
 *
 * Units run one at a time (worker); readers (ledger_read_begin) run only
 * between transactions, so they never see uncommitted rows.
 */

/* Finish the open transaction: COMMIT (or ROLLBACK when it is broken),
 * then tell every waiter of this batch how it went.  Called with mu. */
static void
batch_finish(struct ledger *l)
{
	struct ledger_waiter **pw, *w;
	int rc, r = 0;

	if (l->tx_open) {
		if (l->tx_broken || sqlite3_get_autocommit(l->db)) {
			set_msg(l, "the transaction was rolled back by sqlite");
			r = ERR_DB;
		} else if ((rc = sqlite3_exec(l->db, "COMMIT", NULL, NULL,
				NULL)) != SQLITE_OK)
			r = ledger_sql_err(l, rc, "commit");
		if (r != 0 && !sqlite3_get_autocommit(l->db))
			(void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		l->stats.commits++;
		if (l->batch_units > l->stats.max_batch)
			l->stats.max_batch = l->batch_units;
	}
	for (pw = &l->waiters; (w = *pw) != NULL;) {
		if (w->batch == l->batch) {
			w->rc = r;
			w->done = 1;
			*pw = w->next;
		} else
			pw = &w->next;
	}
	l->tx_open = 0;
	l->tx_broken = 0;
	l->batch_units = 0;
}

/* The unit in this thread is over: hand the open transaction to a
 * waiting writer, or finish it.  Called with mu. */
static void
unit_end(struct ledger *l)
{
	l->worker = 0;
	if (!l->tx_open || l->tx_broken || l->arriving == 0 ||
	    l->batch_units >= LEDGER_BATCH_MAX)
		batch_finish(l);
	(void)pthread_cond_broadcast(&l->cv);
}

static int
owns_unit(struct ledger *l)
{
	return l->worker && pthread_equal(l->owner, pthread_self());
}

int
ledger_begin(struct ledger *l)
{
	uint64_t ticket;
	int rc, r;

	if (l == NULL)
		return ERR_INVALID_ARG;
	(void)pthread_mutex_lock(&l->mu);
	if (owns_unit(l)) {
		(void)pthread_mutex_unlock(&l->mu);
		set_msg(l, "a transaction is already open");
		return ERR_INVALID_ARG;
	}
	/* First come, first served: a ticket keeps the wait fair, which
	 * keeps the tail latency of a busy service short. */
	ticket = l->next_ticket++;
	l->arriving++;
	while (l->worker || l->serving != ticket ||
	    (!l->tx_open && l->readers > 0))
		(void)pthread_cond_wait(&l->cv, &l->mu);
	l->arriving--;
	l->serving++;
	l->worker = 1;
	l->owner = pthread_self();
	if (l->tx_open && (l->tx_broken || sqlite3_get_autocommit(l->db))) {
		/* Fail the units already in it; start afresh. */
		l->tx_broken = 1;
		batch_finish(l);
		(void)pthread_cond_broadcast(&l->cv);
	}
	if (!l->tx_open) {
		if ((r = begin_immediate(l)) != 0) {
			l->worker = 0;
			(void)pthread_cond_broadcast(&l->cv);
			(void)pthread_mutex_unlock(&l->mu);
			return r;
		}
		l->tx_open = 1;
		l->batch++;
	}
	(void)pthread_mutex_unlock(&l->mu);
	/* Outside mu: only the worker touches the connection now. */
	if ((rc = sqlite3_exec(l->db, "SAVEPOINT unit", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		r = ledger_sql_err(l, rc, "begin transaction");
		(void)pthread_mutex_lock(&l->mu);
		l->tx_broken = 1;
		unit_end(l);
		(void)pthread_mutex_unlock(&l->mu);
		return r;
	}
	return 0;
}

int
ledger_commit(struct ledger *l)
{
	struct ledger_waiter w;
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
	rc = sqlite3_exec(l->db, "RELEASE unit", NULL, NULL, NULL);
	r = rc == SQLITE_OK ? 0 : ledger_sql_err(l, rc, "commit");
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
	w.batch = l->batch;
	w.next = l->waiters;
	l->waiters = &w;
	l->batch_units++;
	l->stats.units++;
	unit_end(l);
	while (!w.done)
		(void)pthread_cond_wait(&l->cv, &l->mu);
	(void)pthread_mutex_unlock(&l->mu);
	return r != 0 ? r : w.rc;
}

void
ledger_rollback(struct ledger *l)
{
	if (l == NULL || l->db == NULL)
		return;
	(void)pthread_mutex_lock(&l->mu);
	if (!owns_unit(l)) {
		(void)pthread_mutex_unlock(&l->mu);
		return;
	}
	(void)pthread_mutex_unlock(&l->mu);
	if (sqlite3_exec(l->db, "ROLLBACK TO unit", NULL, NULL, NULL) !=
		SQLITE_OK ||
	    sqlite3_exec(l->db, "RELEASE unit", NULL, NULL, NULL) !=
		SQLITE_OK) {
		(void)pthread_mutex_lock(&l->mu);
		l->tx_broken = 1;
	} else
		(void)pthread_mutex_lock(&l->mu);
	unit_end(l);
	(void)pthread_mutex_unlock(&l->mu);
}

void
ledger_read_begin(struct ledger *l)
{
	if (l == NULL)
		return;
	(void)pthread_mutex_lock(&l->mu);
	while (l->worker || l->tx_open)
		(void)pthread_cond_wait(&l->cv, &l->mu);
	l->readers++;
	(void)pthread_mutex_unlock(&l->mu);
}

void
ledger_read_end(struct ledger *l)
{
	if (l == NULL)
		return;
	(void)pthread_mutex_lock(&l->mu);
	if (l->readers > 0)
		l->readers--;
	(void)pthread_cond_broadcast(&l->cv);
	(void)pthread_mutex_unlock(&l->mu);
}

void
ledger_stats_get(struct ledger *l, struct ledger_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (l == NULL)
		return;
	(void)pthread_mutex_lock(&l->mu);
	*out = l->stats;
	(void)pthread_mutex_unlock(&l->mu);
}

uint64_t
ledger_now(void)
{
	time_t t;
#ifdef JITCA_TEST_HOOKS
	const char *s = getenv("JITCA_TEST_NOW");
	uint64_t v;

	if (s != NULL && num_parse_u64(s, (uint64_t)1 << 62, &v) == 0 && v > 0)
		return v;
#endif
	t = time(NULL);
	return t < 0 ? 0 : (uint64_t)t;
}

/* Non-empty, bounded, valid UTF-8 (checked by jansson later), no control
 * characters. */
static int
field_valid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= LEDGER_FIELD_MAX || c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

static int
hash_hex(const char *prev, const char *canon, char out[LEDGER_HASH_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	int r = ERR_INTERNAL;

	out[0] = '\0';
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, prev, strlen(prev)) != 1 ||
	    EVP_DigestUpdate(ctx, "\n", 1) != 1 ||
	    EVP_DigestUpdate(ctx, canon, strlen(canon)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	wire_hex_encode(out, md, mdlen);
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/*
 * Hashing the canonical array without building it as a JSON value.
 *
 * hash = hex(SHA-256(prev || "\n" || canonical)) where canonical is
 * jansson's compact dump of [seq,time,type,actor,subject,details]:
 * "[" seq "," time "," str(type) "," str(actor) "," str(subject) ","
 * details "]", integers in decimal, str() jansson's string dump with
 * JSON_ENSURE_ASCII, details the canonical dump of the object (which is
 * exactly what the details column holds).  So both ledger_append() and
 * ledger_verify() feed those pieces to SHA-256 directly: no array, no
 * second dump, and verify does not parse details at all (a changed byte
 * anywhere still changes the hash).
 *
 * str(): a string of bytes 0x20..0x7e other than '"' and '\\' is dumped
 * by jansson as itself between quotes (it escapes only '"', '\\',
 * control characters, '/' with JSON_ESCAPE_SLASH, which CANON_FLAGS does
 * not set, and non-ASCII with JSON_ENSURE_ASCII); that is the fast path.
 * Anything else is dumped by jansson itself, so escapes are jansson's by
 * construction, and invalid UTF-8 is refused as json_string() refuses it.
 */
struct chain_hash {
	EVP_MD_CTX *ctx;
	unsigned char buf[2048];
	size_t len;
	int failed;
};

static void
ch_put(struct chain_hash *h, const void *p, size_t n)
{
	if (h->len + n > sizeof(h->buf)) {
		if (h->len > 0 && EVP_DigestUpdate(h->ctx, h->buf, h->len) != 1)
			h->failed = 1;
		h->len = 0;
	}
	if (n > sizeof(h->buf)) {
		if (EVP_DigestUpdate(h->ctx, p, n) != 1)
			h->failed = 1;
		return;
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
}

static void
ch_put_i64(struct chain_hash *h, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	ch_put(h, num, (size_t)n);
}

/* str(s) as above; ERR_INVALID_ARG for invalid UTF-8. */
static int
ch_put_str(struct chain_hash *h, const char *s)
{
	json_t *js = NULL;
	char *d = NULL;
	size_t i;
	int r = ERR_INTERNAL;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			break;
	}
	if (s[i] == '\0') {
		ch_put(h, "\"", 1);
		ch_put(h, s, i);
		ch_put(h, "\"", 1);
		return 0;
	}
	if ((js = json_string(s)) == NULL) {
		r = ERR_INVALID_ARG;
		goto out;
	}
	if ((d = json_dumps(js, CANON_FLAGS | JSON_ENCODE_ANY)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	ch_put(h, d, strlen(d));
	r = 0;
out:
	free(d);
	json_decref(js);
	return r;
}

/* The hash of one event whose details are already the canonical text
 * dtext.  ctx is reused (may be NULL: one is made here).  ERR_INVALID_ARG
 * when type, actor or subject is not valid UTF-8. */
static int
event_hash(EVP_MD_CTX *ctx, const char *prev, int64_t seq, int64_t t,
    const char *type, const char *actor, const char *subject, const char *dtext,
    char out[LEDGER_HASH_HEX])
{
	struct chain_hash hs, *h = &hs;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *own = NULL;
	int r = ERR_INTERNAL;

	out[0] = '\0';
	if (ctx == NULL && (ctx = own = EVP_MD_CTX_new()) == NULL)
		return ERR_ALLOC;
	h->ctx = ctx;
	h->len = 0;
	h->failed = 0;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	ch_put(h, prev, strlen(prev));
	ch_put(h, "\n[", 2);
	ch_put_i64(h, seq);
	ch_put(h, ",", 1);
	ch_put_i64(h, t);
	ch_put(h, ",", 1);
	TRY(ch_put_str(h, type));
	ch_put(h, ",", 1);
	TRY(ch_put_str(h, actor));
	ch_put(h, ",", 1);
	TRY(ch_put_str(h, subject));
	ch_put(h, ",", 1);
	ch_put(h, dtext, strlen(dtext));
	ch_put(h, "]", 1);
	if (h->len > 0 && EVP_DigestUpdate(ctx, h->buf, h->len) != 1)
		h->failed = 1;
	if (h->failed || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
	    mdlen != 32) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	wire_hex_encode(out, md, mdlen);
	r = 0;
out:
	EVP_MD_CTX_free(own);
	return r;
}

/* The canonical array [seq,time,type,actor,subject,details] as text. */
static int
canonical(int64_t seq, int64_t t, const char *type, const char *actor,
    const char *subject, json_t *details, char **out)
{
	json_t *a = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((a = json_array()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (json_array_append_new(a, json_integer(seq)) != 0 ||
	    json_array_append_new(a, json_integer(t)) != 0 ||
	    json_array_append_new(a, json_string(type)) != 0 ||
	    json_array_append_new(a, json_string(actor)) != 0 ||
	    json_array_append_new(a, json_string(subject)) != 0 ||
	    json_array_append(a, details) != 0) {
		/* json_string() refuses invalid UTF-8. */
		r = ERR_INVALID_ARG;
		goto out;
	}
	if ((*out = json_dumps(a, CANON_FLAGS)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	r = 0;
out:
	json_decref(a);
	return r;
}

/*
 * The last row's seq and hash (seq 0 and the zero hash when there is
 * none), which must be the head recorded in meta: otherwise rows were
 * deleted at the end or forged after it, and appending would reset the
 * head over the evidence.  Fail closed.  One statement reads the tail
 * and both meta keys (an absent head_seq counts as 0, as meta_get_u64()
 * has it; an absent head_hash or a head_seq that is not a number is
 * broken).
 */
static int
chain_head(struct ledger *l, int64_t *seq, char hash[LEDGER_HASH_HEX])
{
	sqlite3_stmt *st = NULL;
	const unsigned char *h, *ms, *mh;
	uint64_t hs = 0;
	int r = ERR_INTERNAL, rc;

	*seq = 0;
	(void)snprintf(hash, LEDGER_HASH_HEX, "%s", ZERO_HASH);
	TRY(ledger_sql_cached(l, &st,
	    "SELECT (SELECT seq FROM events ORDER BY seq DESC LIMIT 1),"
	    " (SELECT hash FROM events ORDER BY seq DESC LIMIT 1),"
	    " (SELECT value FROM meta WHERE key = 'head_seq'),"
	    " (SELECT value FROM meta WHERE key = 'head_hash')"));
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = ledger_sql_err(l, rc, "read events");
		goto out;
	}
	if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*seq = sqlite3_column_int64(st, 0);
		h = sqlite3_column_text(st, 1);
		if (h == NULL || strlen((const char *)h) != 64) {
			if (sqlite3_errcode(l->db) == SQLITE_NOMEM) {
				r = ERR_ALLOC;
				goto out;
			}
			set_msg(l, "seq %" PRId64 ": malformed hash", *seq);
			r = ERR_LEDGER_BROKEN;
			goto out;
		}
		(void)snprintf(hash, LEDGER_HASH_HEX, "%s", (const char *)h);
	}
	ms = sqlite3_column_text(st, 2);
	mh = sqlite3_column_text(st, 3);
	if ((ms != NULL &&
		num_parse_u64((const char *)ms, INT64_MAX, &hs) != 0) ||
	    mh == NULL || (int64_t)hs != *seq ||
	    strcmp((const char *)mh, hash) != 0) {
		if (sqlite3_errcode(l->db) == SQLITE_NOMEM) {
			r = ERR_ALLOC;
			goto out;
		}
		set_msg(l,
		    "the last event (seq %" PRId64 ") is not the recorded "
		    "head of the chain: refusing to append; run "
		    "\"jitcad ledger verify\"",
		    *seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	r = 0;
out:
	ledger_sql_release(l, st);
	return r;
}

/* Record the new head (both keys in one statement). */
static int
head_set(struct ledger *l, int64_t seq, const char *hash)
{
	sqlite3_stmt *st = NULL;
	char buf[32];
	int r = ERR_INTERNAL, rc;

	(void)snprintf(buf, sizeof(buf), "%" PRId64, seq);
	TRY(ledger_sql_cached(l, &st,
	    "INSERT INTO meta(key, value) VALUES('head_seq', ?1),"
	    " ('head_hash', ?2)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
	TRY(ledger_sql_bind_text(l, st, 1, buf));
	TRY(ledger_sql_bind_text(l, st, 2, hash));
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = ledger_sql_err(l, rc, "write meta");
		goto out;
	}
	r = 0;
out:
	ledger_sql_release(l, st);
	return r;
}

int
ledger_append(struct ledger *l, int64_t *seq_out, const char *type,
    const char *actor, const char *subject, json_t *details)
{
	sqlite3_stmt *st = NULL;
	json_t *empty = NULL;
	char *dtext = NULL;
	char prev[LEDGER_HASH_HEX], hash[LEDGER_HASH_HEX];
	int64_t seq = 0, t;
	int r = ERR_INTERNAL, rc;

	if (seq_out != NULL)
		*seq_out = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	if (!in_transaction(l)) {
		set_msg(l, "ledger_append outside a transaction");
		return ERR_INVALID_ARG;
	}
	if (!field_valid(type) || !field_valid(actor) ||
	    !field_valid(subject)) {
		set_msg(l,
		    "event type, actor and subject must be 1..%d "
		    "printable bytes",
		    LEDGER_FIELD_MAX);
		return ERR_INVALID_ARG;
	}
	if (details == NULL && (details = empty = json_object()) == NULL)
		return ERR_ALLOC;
	if (!json_is_object(details)) {
		set_msg(l, "event details must be a JSON object");
		r = ERR_INVALID_ARG;
		goto out;
	}
	if ((dtext = json_dumps(details, CANON_FLAGS)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (strlen(dtext) > LEDGER_DETAILS_MAX) {
		set_msg(
		    l, "event details are over %u bytes", LEDGER_DETAILS_MAX);
		r = ERR_TOO_LARGE;
		goto out;
	}
	TRY(chain_head(l, &seq, prev));
	if (seq < 0 || seq == INT64_MAX) {
		set_msg(l, "event seq out of range");
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	seq++;
	t = (int64_t)ledger_now();
	/* dtext is the canonical details: hash the array around it. */
	if ((r = event_hash(l->md_ctx, prev, seq, t, type, actor, subject,
		 dtext, hash)) != 0) {
		if (r == ERR_INVALID_ARG)
			set_msg(l, "event fields must be valid UTF-8");
		goto out;
	}
	TRY(ledger_sql_cached(l, &st,
	    "INSERT INTO events(seq, time, type, actor, subject, details,"
	    " prev_hash, hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
	TRY(ledger_sql_bind_int(l, st, 1, seq));
	TRY(ledger_sql_bind_int(l, st, 2, t));
	TRY(ledger_sql_bind_text(l, st, 3, type));
	TRY(ledger_sql_bind_text(l, st, 4, actor));
	TRY(ledger_sql_bind_text(l, st, 5, subject));
	TRY(ledger_sql_bind_text(l, st, 6, dtext));
	TRY(ledger_sql_bind_text(l, st, 7, prev));
	TRY(ledger_sql_bind_text(l, st, 8, hash));
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = ledger_sql_err(l, rc, "append event");
		goto out;
	}
	TRY(head_set(l, seq, hash));
	if (seq_out != NULL)
		*seq_out = seq;
	r = 0;
out:
	ledger_sql_release(l, st);
	json_decref(empty);
	free(dtext);
	return r;
}

/* Bump a counter in meta, also above max(extra) when extra is given. */
static int
counter_next(
    struct ledger *l, const char *key, const char *extra, uint64_t *out)
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

int
ledger_serial_next(struct ledger *l, uint64_t *serial)
{
	if (serial == NULL)
		return ERR_INVALID_ARG;
	return counter_next(l, "last_serial",
	    "SELECT coalesce(max(serial), 0) FROM certificates", serial);
}

int
ledger_krl_version_bump(struct ledger *l, uint64_t *version)
{
	if (version == NULL)
		return ERR_INVALID_ARG;
	return counter_next(l, "krl_version", NULL, version);
}

int
ledger_krl_version(struct ledger *l, uint64_t *version)
{
	if (version == NULL)
		return ERR_INVALID_ARG;
	*version = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	return meta_get_u64(l, "krl_version", version);
}

int
ledger_changed(struct ledger *l, int *changed)
{
	int64_t v = 0;
	int r = ERR_INTERNAL;

	if (changed == NULL)
		return ERR_INVALID_ARG;
	*changed = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	TRY(read_data_version(l, &v));
	*changed = v != l->data_version;
	l->data_version = v;
	r = 0;
out:
	return r;
}

/* One event row, as read from "SELECT seq, time, type, actor, subject,
 * details, prev_hash, hash": fields borrowed from the statement. */
struct row {
	int64_t seq, time;
	const char *type, *actor, *subject, *details, *prev_hash, *hash;
};

#define ROW_SQL                                                                \
	"SELECT seq, time, type, actor, subject, details, prev_hash, hash"     \
	" FROM events"

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

/* Read the current row; ERR_LEDGER_BROKEN (with a message) when a column
 * has the wrong type. */
static int
row_read(struct ledger *l, sqlite3_stmt *st, struct row *w)
{
	memset(w, 0, sizeof(*w));
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
		if (sqlite3_errcode(l->db) == SQLITE_NOMEM)
			return ERR_ALLOC;
		set_msg(l, "seq %" PRId64 ": a field is not text", w->seq);
		return ERR_LEDGER_BROKEN;
	}
	return 0;
}

/* Parse details text into a new object; NULL if it is not one. */
static json_t *
details_parse(const char *text)
{
	json_t *d;
	json_error_t e;

	d = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	if (d != NULL && !json_is_object(d)) {
		json_decref(d);
		d = NULL;
	}
	return d;
}

/* Check one row against the previous hash.  Returns 0, or
 * ERR_LEDGER_BROKEN with the message set. */
static int row_check_slow(struct ledger *l, const struct row *w);

static int
row_check(struct ledger *l, EVP_MD_CTX *ctx, const struct row *w,
    int64_t expect, const char *prev)
{
	char h[LEDGER_HASH_HEX];
	int r = ERR_INTERNAL;

	if (w->seq != expect) {
		if (w->seq > expect)
			set_msg(l,
			    "seq %" PRId64 ": missing (the next row is seq "
			    "%" PRId64 "; rows were deleted)",
			    expect, w->seq);
		else
			set_msg(l, "seq %" PRId64 ": out of order", w->seq);
		return ERR_LEDGER_BROKEN;
	}
	if (strcmp(w->prev_hash, prev) != 0) {
		set_msg(l,
		    "seq %" PRId64 ": prev_hash does not match the hash of "
		    "the previous row",
		    w->seq);
		return ERR_LEDGER_BROKEN;
	}
	/*
	 * The stored details are the canonical text ledger_append() hashed:
	 * hash them as stored.  A match is the proof (any changed byte
	 * changes the hash); only a mismatch needs the slow check, which
	 * says what is wrong.
	 */
	r = event_hash(ctx, w->prev_hash, w->seq, w->time, w->type, w->actor,
	    w->subject, w->details, h);
	if (r == 0 && strcmp(h, w->hash) == 0)
		return 0;
	if (r != 0 && r != ERR_INVALID_ARG)
		return r;
	return row_check_slow(l, w);
}

/* Why a row's hash does not match (the checks of jitca before the fast
 * path, messages unchanged): details not an object, not canonical, a
 * field not UTF-8, or the hash.  Always an error. */
static int
row_check_slow(struct ledger *l, const struct row *w)
{
	json_t *d = NULL;
	char *dtext = NULL, *canon = NULL;
	char h[LEDGER_HASH_HEX];
	int r = ERR_INTERNAL;

	if ((d = details_parse(w->details)) == NULL) {
		set_msg(l, "seq %" PRId64 ": details are not a JSON object",
		    w->seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if ((dtext = json_dumps(d, CANON_FLAGS)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (strcmp(dtext, w->details) != 0) {
		set_msg(l, "seq %" PRId64 ": details are not in canonical form",
		    w->seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	r = canonical(
	    w->seq, w->time, w->type, w->actor, w->subject, d, &canon);
	if (r == ERR_INVALID_ARG) {
		set_msg(
		    l, "seq %" PRId64 ": a field is not valid UTF-8", w->seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	} else if (r != 0)
		goto out;
	TRY(hash_hex(w->prev_hash, canon, h));
	/* The fast path found a mismatch: if the array dump agrees with the
	 * stored hash after all, the two hashings differ (a bug); fail
	 * closed either way. */
	set_msg(l, "seq %" PRId64 ": hash does not match its contents", w->seq);
	r = ERR_LEDGER_BROKEN;
out:
	json_decref(d);
	free(dtext);
	free(canon);
	return r;
}

/* Compare the end of the chain with the head recorded in meta. */
static int
head_check(struct ledger *l, int64_t last, const char *last_hash, int64_t *bad)
{
	char *hh = NULL;
	uint64_t hs;
	int r = ERR_INTERNAL, found;

	if ((r = meta_get_u64(l, "head_seq", &hs)) == ERR_DB) {
		*bad = last + 1;
		r = ERR_LEDGER_BROKEN;
		goto out;
	} else if (r != 0)
		goto out;
	TRY(meta_get(l, "head_hash", &hh, &found));
	if (!found) {
		set_msg(l, "meta has no head_hash: the chain head is missing");
		*bad = last + 1;
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if ((int64_t)hs > last) {
		*bad = last + 1;
		set_msg(l,
		    "seq %" PRId64 ": missing (the chain ends at seq %" PRId64
		    " but its recorded head is seq %" PRIu64
		    "; rows were deleted at the end)",
		    last + 1, last, hs);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if ((int64_t)hs < last) {
		*bad = (int64_t)hs + 1;
		set_msg(l,
		    "seq %" PRId64 ": beyond the recorded head (seq %" PRIu64
		    "): appended outside jitca",
		    *bad, hs);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if (strcmp(hh, last_hash) != 0) {
		*bad = last;
		set_msg(l,
		    "seq %" PRId64 ": hash differs from the recorded head",
		    last);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	r = 0;
out:
	free(hh);
	return r;
}

int
ledger_verify(struct ledger *l, int64_t *count, int64_t *bad_seq,
    char errbuf[LEDGER_ERR_LEN])
{
	sqlite3_stmt *st = NULL;
	EVP_MD_CTX *ctx = NULL;
	char prev[LEDGER_HASH_HEX];
	struct row w;
	int64_t n = 0, bad = 0;
	int r = ERR_INTERNAL, rc, began = 0;

	if (count != NULL)
		*count = 0;
	if (bad_seq != NULL)
		*bad_seq = 0;
	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (l == NULL)
		return ERR_INVALID_ARG;
	l->errmsg[0] = '\0';
	/* One read snapshot for the rows and the head. */
	if (!in_transaction(l)) {
		TRY(db_exec(l, "BEGIN"));
		began = 1;
	}
	(void)snprintf(prev, sizeof(prev), "%s", ZERO_HASH);
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	TRY(ledger_sql_cached(l, &st, ROW_SQL " ORDER BY seq"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* The first bad seq: the missing one when there is a gap. */
		bad = sqlite3_column_int64(st, 0);
		if (bad > n + 1)
			bad = n + 1;
		if ((r = row_read(l, st, &w)) != 0)
			goto out;
		if ((r = row_check(l, ctx, &w, n + 1, prev)) != 0)
			goto out;
		(void)snprintf(prev, sizeof(prev), "%s", w.hash);
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = ledger_sql_err(l, rc, "read events");
		bad = 0;
		goto out;
	}
	bad = 0;
	TRY(head_check(l, n, prev, &bad));
	if (count != NULL)
		*count = n;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	ledger_sql_release(l, st);
	if (began)
		(void)sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
	if (r == ERR_LEDGER_BROKEN && bad_seq != NULL)
		*bad_seq = bad;
	if (r != 0 && errbuf != NULL)
		(void)snprintf(errbuf, LEDGER_ERR_LEN, "%s", l->errmsg);
	return r;
}

/* The row as an object: seq, time, type, actor, subject, details,
 * prev_hash, hash, in that order. */
static int
row_json(struct ledger *l, const struct row *w, json_t **out)
{
	json_t *o = NULL, *d = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((d = details_parse(w->details)) == NULL) {
		set_msg(l, "seq %" PRId64 ": details are not a JSON object",
		    w->seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "seq", json_integer(w->seq)) != 0 ||
	    json_object_set_new(o, "time", json_integer(w->time)) != 0 ||
	    json_object_set_new(o, "type", json_string(w->type)) != 0 ||
	    json_object_set_new(o, "actor", json_string(w->actor)) != 0 ||
	    json_object_set_new(o, "subject", json_string(w->subject)) != 0 ||
	    json_object_set(o, "details", d) != 0 ||
	    json_object_set_new(o, "prev_hash", json_string(w->prev_hash)) !=
		0 ||
	    json_object_set_new(o, "hash", json_string(w->hash)) != 0) {
		r = ERR_ALLOC;
		goto out;
	}
	*out = o;
	o = NULL;
	r = 0;
out:
	json_decref(o);
	json_decref(d);
	return r;
}

/* One CSV field, quoted when it holds a comma, quote, CR or LF. */
static int
csv_field(FILE *f, const char *s, int last)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		if (fputs(s, f) == EOF)
			return ERR_SYSTEM;
	} else {
		if (fputc('"', f) == EOF)
			return ERR_SYSTEM;
		for (p = s; *p != '\0'; p++) {
			if (*p == '"' && fputc('"', f) == EOF)
				return ERR_SYSTEM;
			if (fputc(*p, f) == EOF)
				return ERR_SYSTEM;
		}
		if (fputc('"', f) == EOF)
			return ERR_SYSTEM;
	}
	if (fputs(last ? "\r\n" : ",", f) == EOF)
		return ERR_SYSTEM;
	return 0;
}

static int
csv_row(FILE *f, const struct row *w)
{
	char seq[32], t[32];
	int r = ERR_INTERNAL;

	(void)snprintf(seq, sizeof(seq), "%" PRId64, w->seq);
	(void)snprintf(t, sizeof(t), "%" PRId64, w->time);
	TRY(csv_field(f, seq, 0));
	TRY(csv_field(f, t, 0));
	TRY(csv_field(f, w->type, 0));
	TRY(csv_field(f, w->actor, 0));
	TRY(csv_field(f, w->subject, 0));
	TRY(csv_field(f, w->details, 0));
	TRY(csv_field(f, w->prev_hash, 0));
	TRY(csv_field(f, w->hash, 1));
	r = 0;
out:
	return r;
}

/* Prepare the row query for seq > since [LIMIT limit]. */
static int
rows_since(struct ledger *l, int64_t since, int64_t limit, sqlite3_stmt **st)
{
	int r = ERR_INTERNAL;

	*st = NULL;
	TRY(ledger_sql_cached(
	    l, st, ROW_SQL " WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
	TRY(ledger_sql_bind_int(l, *st, 1, since));
	TRY(ledger_sql_bind_int(l, *st, 2, limit));
	r = 0;
out:
	if (r != 0) {
		ledger_sql_release(l, *st);
		*st = NULL;
	}
	return r;
}

int
ledger_export(
    struct ledger *l, FILE *out, enum ledger_format fmt, int64_t since)
{
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	struct row w;
	int r = ERR_INTERNAL, rc;

	if (l == NULL || out == NULL || since < 0 ||
	    (fmt != LEDGER_FORMAT_JSONL && fmt != LEDGER_FORMAT_CSV))
		return ERR_INVALID_ARG;
	TRY(rows_since(l, since, -1, &st));
	if (fmt == LEDGER_FORMAT_CSV &&
	    fputs("seq,time,type,actor,subject,details,prev_hash,hash\r\n",
		out) == EOF) {
		r = ERR_SYSTEM;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		TRY(row_read(l, st, &w));
		if (fmt == LEDGER_FORMAT_CSV) {
			TRY(csv_row(out, &w));
			continue;
		}
		TRY(row_json(l, &w, &o));
		if (json_dumpf(o, out, JSON_COMPACT | JSON_ENSURE_ASCII) != 0 ||
		    fputc('\n', out) == EOF) {
			r = ERR_SYSTEM;
			goto out;
		}
		json_decref(o);
		o = NULL;
	}
	if (rc != SQLITE_DONE) {
		r = ledger_sql_err(l, rc, "read events");
		goto out;
	}
	if (fflush(out) != 0 || ferror(out)) {
		r = ERR_SYSTEM;
		goto out;
	}
	r = 0;
out:
	if (r == ERR_SYSTEM)
		set_msg(l, "writing the export failed");
	json_decref(o);
	ledger_sql_release(l, st);
	return r;
}

int
ledger_events_json(struct ledger *l, int64_t since, int64_t limit, json_t **out)
{
	sqlite3_stmt *st = NULL;
	json_t *a = NULL, *o = NULL;
	struct row w;
	int r = ERR_INTERNAL, rc;

	if (out != NULL)
		*out = NULL;
	if (l == NULL || out == NULL || since < 0 || limit < 1 ||
	    limit > LEDGER_EVENTS_MAX)
		return ERR_INVALID_ARG;
	if ((a = json_array()) == NULL)
		return ERR_ALLOC;
	TRY(rows_since(l, since, limit, &st));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		TRY(row_read(l, st, &w));
		TRY(row_json(l, &w, &o));
		if (json_array_append_new(a, o) != 0) {
			o = NULL;
			r = ERR_ALLOC;
			goto out;
		}
		o = NULL;
	}
	if (rc != SQLITE_DONE) {
		r = ledger_sql_err(l, rc, "read events");
		goto out;
	}
	*out = a;
	a = NULL;
	r = 0;
out:
	json_decref(o);
	json_decref(a);
	ledger_sql_release(l, st);
	return r;
}
