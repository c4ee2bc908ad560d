/*
 * pg.c: the PostgreSQL backend of store.h on libpq, and the only file
 * that includes libpq-fe.h.  Several jitcad processes (replicas) share
 * one database: the schema of sqlite.c in PostgreSQL types, serials
 * from a sequence (cert_serial: unique, never reused, increasing in
 * allocation order; a rolled-back or crashed unit leaves a gap), chain
 * appends serialised in the database, every state change and its event
 * in one transaction, statements
 * prepared once per session and synchronous_commit left as the server
 * has it (on).
 *
 * Serialisation: every write unit locks the head_seq row of meta FOR
 * UPDATE in the statement after its BEGIN and holds it to its COMMIT or
 * ROLLBACK.  A unit on another replica waits there, and every statement
 * it runs afterwards (read committed: a fresh snapshot each) sees what
 * the previous holder committed: the tail, the Merkle tree, the
 * checkpoints, the request rows.  So the write units of all replicas are
 * one sequence, and serial order (nextval inside the unit), chain order
 * and commit order agree; a rolled-back unit leaves a gap in the serials
 * only.  It also means one lock order for every unit (head first), so
 * two units never deadlock on the rows below it.
 *
 * Change detection: every write transaction bumps the meta row
 * "version" just before its COMMIT; changed() compares it with the
 * value seen last, so a replica sees the commits of the others at its
 * next look.  One transaction per unit of work: no group commit here
 * (PostgreSQL's own commit_delay/commit_siblings do that job).
 *
 * Connections: one for the write units of the handle, run one at a
 * time (a mutex per statement), and a pool of PG_READERS for everything
 * else, so that a read never waits for a local unit and its COMMIT.  A
 * read section (read_begin) holds one reader connection in a REPEATABLE
 * READ READ ONLY transaction, one snapshot of committed rows, as the
 * read-only connections of sqlite.c do; a statement outside any section
 * and outside a unit borrows a reader for itself (read committed).
 * Reader connections are made when first needed.  A lost connection
 * fails the statement with ERR_LEDGER_UNREACHABLE (the service answers
 * 503) and the next statement outside a unit or section reconnects.
 * Works with ca/store/store.h.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "ca/store/store.h"
#include "signer/base/num.h"

#define ZERO_HASH                                                              \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define PG_STMT_MAX 128
#define PG_PARAMS_MAX 16
/* Reader connections per handle: a read section past them waits for
 * one to be free. */
#define PG_READERS 4
/* The schema version in meta: sqlite.c's STORE_SCHEMA_VERSION, whose
 * tables and triggers this one has. */
#define PG_SCHEMA "4"
_Static_assert(STORE_SCHEMA_VERSION == 4,
    "a new sqlite schema needs its tables and triggers in pg.c too");

struct pg_stmt {
	char *sql;
	char name[16];
};

/* A connection and the statements prepared in its session. */
struct pg_conn {
	PGconn *conn;
	struct pg_stmt stmts[PG_STMT_MAX];
	size_t nstmts;
};

/* A reader connection and who has it (store_pg's mu). */
struct pg_reader {
	struct pg_conn pc;
	int busy; /* lent to owner */
	pthread_t owner;
	unsigned depth; /* read sections of owner open on it; 0: one
			 * statement */
	int in_tx; /* its snapshot transaction is open */
};

struct store_pg {
	struct store base; /* first */
	struct pg_conn w; /* the write units' */
	char *conninfo;
	pthread_mutex_t qmu; /* one statement at a time on w */
	pthread_mutex_t mu; /* the fields below */
	pthread_cond_t cv;
	int worker; /* a unit is in progress */
	pthread_t owner;
	int tx_broken; /* the connection was lost inside the unit */
	int64_t version; /* meta "version" seen last (changed()) */
	struct store_stats stats;
	struct pg_reader rd[PG_READERS];
};

/* Parameters of one statement, as text (blobs binary). */
struct pq_params {
	int n;
	const char *v[PG_PARAMS_MAX];
	int len[PG_PARAMS_MAX];
	int fmt[PG_PARAMS_MAX];
	char num[PG_PARAMS_MAX][24];
};

static const char *schema_sql =
    "CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE events(seq bigint PRIMARY KEY, time bigint NOT NULL,"
    " type text NOT NULL, actor text NOT NULL, subject text NOT NULL,"
    " details text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL);"
    "CREATE TABLE users(name text PRIMARY KEY, groups text NOT NULL,"
    " token_hash bytea UNIQUE, disabled bigint NOT NULL DEFAULT 0,"
    " created bigint NOT NULL, token_created bigint);"
    "CREATE TABLE requests(id bigserial PRIMARY KEY, requester text NOT"
    " NULL, role text NOT NULL, principals text NOT NULL, ttl bigint NOT"
    " NULL, reason text NOT NULL, public_key text NOT NULL, key_fp text"
    " NOT NULL, state text NOT NULL, created bigint NOT NULL, expires"
    " bigint NOT NULL, approvals_required bigint NOT NULL, serial bigint,"
    " updated bigint NOT NULL);"
    "CREATE INDEX requests_state ON requests(state);"
    "CREATE TABLE approvals(request_id bigint NOT NULL, approver text NOT"
    " NULL, decision text NOT NULL, time bigint NOT NULL, comment text NOT"
    " NULL DEFAULT '', PRIMARY KEY(request_id, approver));"
    "CREATE TABLE certificates(serial bigint PRIMARY KEY, request_id"
    " bigint, \"user\" text NOT NULL, role text NOT NULL, key_id text NOT"
    " NULL UNIQUE, principals text NOT NULL, valid_after bigint NOT NULL,"
    " valid_before bigint NOT NULL, key_fp text NOT NULL, key_blob bytea"
    " NOT NULL, cert_sha256 text NOT NULL, certificate text NOT NULL,"
    " issued bigint NOT NULL, revoked bigint);"
    "CREATE INDEX certificates_user ON certificates(\"user\");"
    "CREATE INDEX certificates_valid_before ON certificates(valid_before);"
    "CREATE TABLE revoked_keys(key_sha256 bytea PRIMARY KEY, key_fp text"
    " NOT NULL, time bigint NOT NULL, reason text NOT NULL);"
    "CREATE SEQUENCE cert_serial MINVALUE 1 START 1 NO CYCLE;"
    /* The rows that never change, or change one way only. */
    "CREATE FUNCTION jitca_refuse() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END$$;"
    "CREATE TRIGGER events_fixed BEFORE UPDATE OR DELETE ON events FOR"
    " EACH ROW EXECUTE FUNCTION jitca_refuse('events are append-only');"
    "CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates"
    " FOR EACH ROW EXECUTE FUNCTION jitca_refuse('certificates are"
    " append-only');"
    "CREATE TRIGGER certificates_fixed BEFORE UPDATE ON certificates FOR"
    " EACH ROW WHEN (ROW(NEW.serial, NEW.request_id, NEW.\"user\","
    " NEW.role, NEW.key_id, NEW.principals, NEW.valid_after,"
    " NEW.valid_before, NEW.key_fp, NEW.key_blob, NEW.cert_sha256,"
    " NEW.certificate, NEW.issued) IS DISTINCT FROM ROW(OLD.serial,"
    " OLD.request_id, OLD.\"user\", OLD.role, OLD.key_id, OLD.principals,"
    " OLD.valid_after, OLD.valid_before, OLD.key_fp, OLD.key_blob,"
    " OLD.cert_sha256, OLD.certificate, OLD.issued)) EXECUTE FUNCTION"
    " jitca_refuse('a certificate row never changes');"
    "CREATE TRIGGER certificates_revoke_once BEFORE UPDATE ON certificates"
    " FOR EACH ROW WHEN (OLD.revoked IS DISTINCT FROM NEW.revoked AND"
    " (OLD.revoked IS NOT NULL OR NEW.revoked IS NULL)) EXECUTE FUNCTION"
    " jitca_refuse('a revocation is never undone');"
    "CREATE TRIGGER revoked_keys_fixed BEFORE UPDATE OR DELETE ON"
    " revoked_keys FOR EACH ROW EXECUTE FUNCTION jitca_refuse('revoked"
    " keys are append-only');"
    "CREATE TRIGGER approvals_approve_to_deny BEFORE UPDATE ON approvals"
    " FOR EACH ROW WHEN (NOT (OLD.decision = 'approve' AND NEW.decision ="
    " 'deny') OR NEW.request_id IS DISTINCT FROM OLD.request_id OR"
    " NEW.approver IS DISTINCT FROM OLD.approver) EXECUTE FUNCTION"
    " jitca_refuse('an approval only ever turns into a denial');"
    "CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals FOR"
    " EACH ROW EXECUTE FUNCTION jitca_refuse('approvals are"
    " append-only');"
    "CREATE TRIGGER requests_no_delete BEFORE DELETE ON requests FOR EACH"
    " ROW EXECUTE FUNCTION jitca_refuse('requests are never deleted');"
    "CREATE TRIGGER users_no_delete BEFORE DELETE ON users FOR EACH ROW"
    " EXECUTE FUNCTION jitca_refuse('users are never deleted');"
    /* The counters in meta never go down (the serials are a sequence,
     * which only goes up: NO CYCLE). */
    "CREATE TRIGGER meta_counters_up BEFORE UPDATE ON meta FOR EACH ROW"
    " WHEN (OLD.key IN ('krl_version', 'version') AND (NEW.key <> OLD.key"
    " OR NEW.value::bigint < OLD.value::bigint)) EXECUTE FUNCTION"
    " jitca_refuse('counters never go down');"
    "CREATE TRIGGER meta_counters_no_delete BEFORE DELETE ON meta FOR EACH"
    " ROW WHEN (OLD.key IN ('krl_version', 'version')) EXECUTE FUNCTION"
    " jitca_refuse('counters never go down');"
    "CREATE INDEX events_subject ON events(subject);"
    /* Hosts (ca/hosts.h) and the keys bound to them. */
    "CREATE TABLE hosts(name text PRIMARY KEY, principals text NOT NULL,"
    " token_hash bytea UNIQUE, disabled bigint NOT NULL DEFAULT 0,"
    " created bigint NOT NULL);"
    "CREATE TABLE host_keys(name text NOT NULL, key_type text NOT NULL,"
    " key_blob bytea NOT NULL, key_fp text NOT NULL, bound bigint NOT"
    " NULL, PRIMARY KEY(name, key_type));"
    "CREATE TRIGGER hosts_no_delete BEFORE DELETE ON hosts FOR EACH ROW"
    " EXECUTE FUNCTION jitca_refuse('hosts are never deleted');"
    /* Sign-in sessions and IdP identities: not ledger state. */
    "CREATE TABLE sessions(token_hash bytea PRIMARY KEY, \"user\" text NOT"
    " NULL, created bigint NOT NULL, expires bigint NOT NULL, auth_time"
    " bigint NOT NULL);"
    "CREATE INDEX sessions_expires ON sessions(expires);"
    "CREATE TABLE identities(\"user\" text PRIMARY KEY, issuer text NOT"
    " NULL, subject text NOT NULL, created bigint NOT NULL);"
    /* The Merkle tree over the events and the signed checkpoints. */
    "CREATE TABLE merkle_nodes(level bigint NOT NULL, idx bigint NOT NULL,"
    " hash bytea NOT NULL, PRIMARY KEY(level, idx));"
    "CREATE TABLE checkpoints(tree_size bigint PRIMARY KEY, root bytea NOT"
    " NULL, note text NOT NULL, sig text NOT NULL, time bigint NOT NULL);"
    "CREATE TRIGGER merkle_nodes_fixed BEFORE UPDATE OR DELETE ON"
    " merkle_nodes FOR EACH ROW EXECUTE FUNCTION jitca_refuse('merkle"
    " nodes are append-only');"
    "CREATE TRIGGER checkpoints_fixed BEFORE UPDATE OR DELETE ON"
    " checkpoints FOR EACH ROW EXECUTE FUNCTION jitca_refuse('checkpoints"
    " are append-only');"
    "INSERT INTO meta(key, value) VALUES('krl_version', '0'),"
    " ('head_seq', '0'), ('head_hash', '" ZERO_HASH "'), ('version', '0');";

/* Tables added after the first schema: made when missing at open. */
static const char *notify_sql =
    "CREATE TABLE IF NOT EXISTS notify_cursors(sink text PRIMARY KEY,"
    " seq bigint NOT NULL, updated bigint NOT NULL);"
    "CREATE TABLE IF NOT EXISTS notify_leases(sink text PRIMARY KEY,"
    " owner text NOT NULL, expires bigint NOT NULL);";

static void __attribute__((format(printf, 2, 3)))
set_msg(struct store_pg *l, const char *fmt, ...)
{
	va_list ap;

	if (l == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(l->base.errmsg, sizeof(l->base.errmsg), fmt, ap);
	va_end(ap);
}

static const struct store_ops pg_ops;

/* The code of a failed result (or of a missing one), with a message. */
static int
pq_err(struct store_pg *l, PGconn *conn, PGresult *res, const char *what)
{
	const char *st =
	    res == NULL ? NULL : PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *m = res != NULL && *PQresultErrorMessage(res) != '\0'
	    ? PQresultErrorMessage(res)
	    : PQerrorMessage(conn);
	char one[STORE_ERR_LEN];
	size_t n;

	(void)snprintf(one, sizeof(one), "%s", m);
	n = strlen(one);
	while (n > 0 && (one[n - 1] == '\n' || one[n - 1] == ' '))
		one[--n] = '\0';
	set_msg(l, "%s: %s", what != NULL ? what : "postgres", one);
	if (PQstatus(conn) != CONNECTION_OK ||
	    (st != NULL &&
		(strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0)))
		return ERR_LEDGER_UNREACHABLE;
	if (st != NULL &&
	    (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
		strcmp(st, "55P03") == 0))
		return ERR_BUSY;
	if (st != NULL && strncmp(st, "53", 2) == 0)
		return ERR_LEDGER_FULL;
	return ERR_DB;
}

static void
p_int(struct pq_params *p, int64_t v)
{
	(void)snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, v);
	p->v[p->n] = p->num[p->n];
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void
p_text(struct pq_params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void
p_null(struct pq_params *p)
{
	p->v[p->n] = NULL;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void
p_blob(struct pq_params *p, const void *b, size_t len)
{
	p->v[p->n] = len == 0 ? "" : b;
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

/* A fresh session: the settings every statement relies on. */
static int
session_setup(struct store_pg *l, struct pg_conn *pc)
{
	PGresult *res;
	int r = 0;

	pc->nstmts = 0;
	res = PQexec(pc->conn,
	    "SET synchronous_commit = on; SET client_min_messages = warning;"
	    " SET standard_conforming_strings = on;"
	    " SET default_transaction_isolation = 'read committed'");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = pq_err(l, pc->conn, res, "session");
	PQclear(res);
	return r;
}

/* pc is connected, as far as libpq knows. */
static int
conn_ok(const struct pg_conn *pc)
{
	return pc->conn != NULL && PQstatus(pc->conn) == CONNECTION_OK;
}

static void
stmts_forget(struct pg_conn *pc)
{
	size_t i;

	for (i = 0; i < pc->nstmts; i++)
		free(pc->stmts[i].sql);
	pc->nstmts = 0;
}

/* Connect pc, or reconnect it when the connection is gone (never
 * inside a transaction: in_tx). */
static int
ensure_conn(struct store_pg *l, struct pg_conn *pc, int in_tx)
{
	if (conn_ok(pc))
		return 0;
	if (in_tx) {
		set_msg(
		    l, "postgres: the connection was lost in a transaction");
		return ERR_LEDGER_UNREACHABLE;
	}
	stmts_forget(pc);
	if (pc->conn == NULL)
		pc->conn = PQconnectdb(l->conninfo);
	else
		PQreset(pc->conn);
	if (pc->conn == NULL) {
		set_msg(l, "postgres: out of memory");
		return ERR_ALLOC;
	}
	if (PQstatus(pc->conn) != CONNECTION_OK) {
		char m[STORE_ERR_LEN];
		size_t n;

		(void)snprintf(m, sizeof(m), "%s", PQerrorMessage(pc->conn));
		n = strlen(m);
		while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
			m[--n] = '\0';
		set_msg(l, "postgres: %s", m);
		return ERR_LEDGER_UNREACHABLE;
	}
	return session_setup(l, pc);
}

static int
is_owner(struct store_pg *l)
{
	int own;

	(void)pthread_mutex_lock(&l->mu);
	own = l->worker && pthread_equal(l->owner, pthread_self());
	(void)pthread_mutex_unlock(&l->mu);
	return own;
}

/* This thread's reader connection, when it holds one.  Called with mu. */
static struct pg_reader *
reader_mine(struct store_pg *l)
{
	size_t i;

	for (i = 0; i < PG_READERS; i++)
		if (l->rd[i].busy &&
		    pthread_equal(l->rd[i].owner, pthread_self()))
			return &l->rd[i];
	return NULL;
}

/* A free reader connection, lent to this thread (waits for one).
 * Called with mu. */
static struct pg_reader *
reader_take(struct store_pg *l)
{
	size_t i;

	for (;;) {
		for (i = 0; i < PG_READERS; i++) {
			struct pg_reader *rd = &l->rd[i];

			if (!rd->busy) {
				rd->busy = 1;
				rd->owner = pthread_self();
				rd->depth = 0;
				rd->in_tx = 0;
				return rd;
			}
		}
		(void)pthread_cond_wait(&l->cv, &l->mu);
	}
}

/* Called with mu. */
static void
reader_give(struct store_pg *l, struct pg_reader *rd)
{
	rd->busy = 0;
	rd->depth = 0;
	rd->in_tx = 0;
	(void)pthread_cond_broadcast(&l->cv);
}

/*
 * Whether sql, which failed with r on pc outside a transaction, runs
 * again on a new connection: a connection that sat idle while the
 * server restarted (was_ok, and lost now) fails its first statement,
 * and a read or a BEGIN changed nothing that could be done twice.  Not
 * after a failed reconnect (!was_ok): the server is down.
 */
static int
stale_retry(const struct pg_conn *pc, int was_ok, int r, const char *sql)
{
	return was_ok && r == ERR_LEDGER_UNREACHABLE && !conn_ok(pc) &&
	    (strncmp(sql, "SELECT ", 7) == 0 || strncmp(sql, "BEGIN", 5) == 0);
}

/*
 * Run sql (prepared on first use in pc's session) with p on pc, which
 * this thread may use; in_tx: pc is inside a transaction, which a
 * reconnect would lose.  *res the result of a command or query that
 * succeeded (PQclear() it).
 */
static int
conn_run_once(struct store_pg *l, struct pg_conn *pc, int in_tx,
    const char *sql, const struct pq_params *p, PGresult **res,
    const char *what)
{
	PGresult *pr = NULL, *rr = NULL;
	const char *name = NULL;
	ExecStatusType es;
	size_t i;
	int r = ERR_INTERNAL;

	TRY(ensure_conn(l, pc, in_tx));
	for (i = 0; i < pc->nstmts; i++) {
		if (strcmp(pc->stmts[i].sql, sql) == 0) {
			name = pc->stmts[i].name;
			break;
		}
	}
	if (name == NULL && pc->nstmts < PG_STMT_MAX) {
		struct pg_stmt *st = &pc->stmts[pc->nstmts];

		(void)snprintf(st->name, sizeof(st->name), "j%zu", pc->nstmts);
		pr = PQprepare(pc->conn, st->name, sql, 0, NULL);
		if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
			r = pq_err(l, pc->conn, pr, what);
			goto out;
		}
		ENSURE((st->sql = strdup(sql)) != NULL, ERR_ALLOC);
		pc->nstmts++;
		name = st->name;
	}
	if (name != NULL)
		rr = PQexecPrepared(
		    pc->conn, name, p->n, p->v, p->len, p->fmt, 0);
	else
		rr = PQexecParams(
		    pc->conn, sql, p->n, NULL, p->v, p->len, p->fmt, 0);
	es = PQresultStatus(rr);
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		r = pq_err(l, pc->conn, rr, what);
		goto out;
	}
	*res = rr;
	rr = NULL;
	r = 0;
out:
	PQclear(pr);
	PQclear(rr);
	return r;
}

static int
conn_run(struct store_pg *l, struct pg_conn *pc, int in_tx, const char *sql,
    const struct pq_params *p, PGresult **res, const char *what)
{
	int was_ok = conn_ok(pc),
	    r = conn_run_once(l, pc, in_tx, sql, p, res, what);

	if (!in_tx && stale_retry(pc, was_ok, r, sql))
		r = conn_run_once(l, pc, in_tx, sql, p, res, what);
	return r;
}

/*
 * Run sql with p: in the unit on the writer's connection when this
 * thread owns it, else on this thread's reader (its read section), else
 * on a reader lent for this statement.  *res as conn_run().
 */
static int
pq_run(struct store_pg *l, const char *sql, const struct pq_params *p,
    PGresult **res, const char *what)
{
	static const struct pq_params none;
	struct pg_reader *rd;
	int r, lent = 0;

	*res = NULL;
	if (p == NULL)
		p = &none;
	if (is_owner(l)) {
		(void)pthread_mutex_lock(&l->qmu);
		if (l->tx_broken) {
			set_msg(l,
			    "postgres: the connection was lost in a "
			    "transaction");
			r = ERR_LEDGER_UNREACHABLE;
		} else if ((r = conn_run(l, &l->w, 1, sql, p, res, what)) ==
		    ERR_LEDGER_UNREACHABLE)
			l->tx_broken = 1;
		(void)pthread_mutex_unlock(&l->qmu);
		return r;
	}
	(void)pthread_mutex_lock(&l->mu);
	if ((rd = reader_mine(l)) == NULL) {
		rd = reader_take(l);
		lent = 1;
	}
	(void)pthread_mutex_unlock(&l->mu);
	r = conn_run(l, &rd->pc, rd->in_tx, sql, p, res, what);
	if (lent) {
		(void)pthread_mutex_lock(&l->mu);
		reader_give(l, rd);
		(void)pthread_mutex_unlock(&l->mu);
	}
	return r;
}

/* A command: *changes the rows it touched (may be NULL). */
static int
pq_cmd(struct store_pg *l, const char *sql, const struct pq_params *p,
    int *changes, const char *what)
{
	PGresult *res = NULL;
	int r;

	if (changes != NULL)
		*changes = 0;
	if ((r = pq_run(l, sql, p, &res, what)) != 0)
		return r;
	if (changes != NULL)
		*changes = atoi(PQcmdTuples(res));
	PQclear(res);
	return 0;
}

static int64_t
val_i64(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col)
	    ? 0
	    : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A bytea cell into a new buffer (PQfreemem()). */
static unsigned char *
val_blob(PGresult *res, int row, int col, size_t *len)
{
	*len = 0;
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQunescapeBytea(
	    (const unsigned char *)PQgetvalue(res, row, col), len);
}

static int
dupval(char **out, PGresult *res, int row, int col)
{
	if ((*out = strdup(PQgetvalue(res, row, col))) == NULL)
		return ERR_ALLOC;
	return 0;
}

/* One bigint from a one-row query (0 when it has no row). */
static int
query_i64(struct store_pg *l, const char *sql, const struct pq_params *p,
    int64_t *v, const char *what)
{
	PGresult *res = NULL;
	int r;

	*v = 0;
	if ((r = pq_run(l, sql, p, &res, what)) != 0)
		return r;
	if (PQntuples(res) > 0)
		*v = val_i64(res, 0, 0);
	PQclear(res);
	return 0;
}

static int
conn_exec_once(
    struct store_pg *l, struct pg_conn *pc, const char *sql, const char *what)
{
	PGresult *res = PQexec(pc->conn, sql);
	int r = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		r = pq_err(l, pc->conn, res, what);
	PQclear(res);
	return r;
}

/* sql (no parameters, maybe several statements) on the connected pc;
 * a BEGIN once more on a new connection when pc's was stale
 * (stale_retry()). */
static int
conn_exec(
    struct store_pg *l, struct pg_conn *pc, const char *sql, const char *what)
{
	int was_ok = conn_ok(pc), r = conn_exec_once(l, pc, sql, what);

	if (stale_retry(pc, was_ok, r, sql) && (r = ensure_conn(l, pc, 0)) == 0)
		r = conn_exec_once(l, pc, sql, what);
	return r;
}

/* conn_exec() on the writer's connection. */
static int
exec_plain(struct store_pg *l, const char *sql, const char *what)
{
	int r;

	(void)pthread_mutex_lock(&l->qmu);
	r = conn_exec(l, &l->w, sql, what);
	(void)pthread_mutex_unlock(&l->qmu);
	return r;
}

/* Create the schema once (an advisory lock keeps two inits apart). */
static int
check_schema(struct store_pg *l, int create)
{
	PGresult *res = NULL;
	char *ver = NULL;
	int r = ERR_INTERNAL, began = 0;
	int64_t have = 0;

	TRY(exec_plain(l, "BEGIN", "begin"));
	began = 1;
	TRY(exec_plain(
	    l, "SELECT pg_advisory_xact_lock(7423158)", "schema lock"));
	TRY(query_i64(l,
	    "SELECT count(*) FROM pg_tables WHERE schemaname ="
	    " current_schema() AND tablename = 'meta'",
	    NULL, &have, "read schema"));
	if (have == 0) {
		ENSURE(create, ERR_DB);
		TRY(exec_plain(l, schema_sql, "create schema"));
		TRY(exec_plain(l,
		    "INSERT INTO meta(key, value) VALUES('schema_version',"
		    " '" PG_SCHEMA "')",
		    "create schema"));
	}
	TRY(exec_plain(l, notify_sql, "create notification tables"));
	TRY(pq_run(l, "SELECT value FROM meta WHERE key = 'schema_version'",
	    NULL, &res, "read meta"));
	if (PQntuples(res) != 1 ||
	    strcmp(PQgetvalue(res, 0, 0), PG_SCHEMA) != 0) {
		set_msg(l, "ledger schema_version \"%.32s\" is not supported",
		    PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
		r = ERR_DB;
		goto out;
	}
	TRY(exec_plain(l, "COMMIT", "commit"));
	began = 0;
	TRY(query_i64(l, "SELECT value::bigint FROM meta WHERE key = 'version'",
	    NULL, &l->version, "read meta"));
	r = 0;
out:
	if (r == ERR_DB && have == 0 && !create)
		set_msg(l, "ledger is empty (not initialised)");
	if (began)
		(void)exec_plain(l, "ROLLBACK", "rollback");
	PQclear(res);
	free(ver);
	return r;
}

static void
pg_close(struct store_pg *l)
{
	size_t i;

	if (l == NULL)
		return;
	stmts_forget(&l->w);
	PQfinish(l->w.conn);
	for (i = 0; i < PG_READERS; i++) {
		stmts_forget(&l->rd[i].pc);
		PQfinish(l->rd[i].pc.conn);
	}
	free(l->conninfo);
	(void)pthread_mutex_destroy(&l->qmu);
	(void)pthread_mutex_destroy(&l->mu);
	(void)pthread_cond_destroy(&l->cv);
	free(l);
}

int
store_pg_open(
    struct store **out, const char *url, int create, char errbuf[STORE_ERR_LEN])
{
	struct store_pg *l = NULL;
	int r = ERR_INTERNAL;

	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (out == NULL || url == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ERR_ALLOC;
	l->base.ops = &pg_ops;
	(void)pthread_mutex_init(&l->qmu, NULL);
	(void)pthread_mutex_init(&l->mu, NULL);
	(void)pthread_cond_init(&l->cv, NULL);
	ENSURE((l->conninfo = strdup(url)) != NULL, ERR_ALLOC);
	TRY(ensure_conn(l, &l->w, 0));
	/* The schema is read and made on the writer's connection, in its
	 * transaction: as if a unit were open. */
	l->worker = 1;
	l->owner = pthread_self();
	r = check_schema(l, create);
	l->worker = 0;
	l->tx_broken = 0;
	TRY(r);
	l->base.errmsg[0] = '\0';
	*out = &l->base;
	l = NULL;
	r = 0;
out:
	if (l != NULL && errbuf != NULL)
		(void)snprintf(errbuf, STORE_ERR_LEN, "%s", l->base.errmsg);
	pg_close(l);
	return r;
}

/* ---- transactions ---- */

static void
op_close(struct store *s)
{
	pg_close((struct store_pg *)s);
}

static int
op_tx_begin(struct store *s)
{
	struct store_pg *l = (struct store_pg *)s;
	int r;

	(void)pthread_mutex_lock(&l->mu);
	if (l->worker && pthread_equal(l->owner, pthread_self())) {
		(void)pthread_mutex_unlock(&l->mu);
		set_msg(l, "a transaction is already open");
		return ERR_INVALID_ARG;
	}
	while (l->worker)
		(void)pthread_cond_wait(&l->cv, &l->mu);
	l->worker = 1;
	l->owner = pthread_self();
	l->tx_broken = 0;
	(void)pthread_mutex_unlock(&l->mu);
	(void)pthread_mutex_lock(&l->qmu);
	r = ensure_conn(l, &l->w, 0);
	(void)pthread_mutex_unlock(&l->qmu);
	/* The unit holds the chain head row from its BEGIN to its COMMIT
	 * (see the top of the file). */
	if (r == 0)
		r = exec_plain(l,
		    "BEGIN; SELECT value FROM meta WHERE key = 'head_seq' FOR"
		    " UPDATE",
		    "begin transaction");
	if (r != 0) {
		if (l->w.conn != NULL &&
		    PQtransactionStatus(l->w.conn) == PQTRANS_INERROR)
			(void)exec_plain(l, "ROLLBACK", "rollback");
		(void)pthread_mutex_lock(&l->mu);
		l->worker = 0;
		(void)pthread_cond_broadcast(&l->cv);
		(void)pthread_mutex_unlock(&l->mu);
	}
	return r;
}

/* COMMIT, which must answer COMMIT: an aborted transaction answers
 * ROLLBACK to it. */
static int
commit_exec(struct store_pg *l)
{
	PGresult *res;
	int r = 0;

	(void)pthread_mutex_lock(&l->qmu);
	res = PQexec(l->w.conn, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = pq_err(l, l->w.conn, res, "commit");
	else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		set_msg(l, "commit: the transaction was rolled back");
		r = ERR_DB;
	}
	PQclear(res);
	(void)pthread_mutex_unlock(&l->qmu);
	return r;
}

static void
unit_end(struct store_pg *l, int committed)
{
	(void)pthread_mutex_lock(&l->mu);
	l->worker = 0;
	l->stats.units++;
	l->stats.commits++;
	if (committed && l->stats.max_batch < 1)
		l->stats.max_batch = 1;
	(void)pthread_cond_broadcast(&l->cv);
	(void)pthread_mutex_unlock(&l->mu);
}

static int
op_tx_commit(struct store *s)
{
	struct store_pg *l = (struct store_pg *)s;
	PGresult *res = NULL;
	int r = ERR_INTERNAL;

	if (!is_owner(l)) {
		set_msg(l, "no transaction is open");
		return ERR_INVALID_ARG;
	}
	/* The version the other replicas compare (changed()). */
	TRY(pq_run(l,
	    "UPDATE meta SET value = (value::bigint + 1)::text WHERE key ="
	    " 'version' RETURNING value::bigint",
	    NULL, &res, "commit"));
	TRY(commit_exec(l));
	/* Our own commit is no news to us. */
	if (PQntuples(res) == 1) {
		(void)pthread_mutex_lock(&l->mu);
		if (val_i64(res, 0, 0) == l->version + 1)
			l->version++;
		(void)pthread_mutex_unlock(&l->mu);
	}
	r = 0;
out:
	if (r != 0 && l->w.conn != NULL &&
	    PQtransactionStatus(l->w.conn) != PQTRANS_IDLE)
		(void)exec_plain(l, "ROLLBACK", "rollback");
	PQclear(res);
	unit_end(l, r == 0);
	return r;
}

static void
op_tx_rollback(struct store *s)
{
	struct store_pg *l = (struct store_pg *)s;

	if (!is_owner(l))
		return;
	if (l->w.conn != NULL && PQstatus(l->w.conn) == CONNECTION_OK)
		(void)exec_plain(l, "ROLLBACK", "rollback");
	unit_end(l, 0);
}

/* This thread's unit is open. */
static int
op_tx_active(struct store *s)
{
	struct store_pg *l = (struct store_pg *)s;
	int a;

	if (!is_owner(l))
		return 0;
	(void)pthread_mutex_lock(&l->qmu);
	a = l->w.conn != NULL &&
	    PQtransactionStatus(l->w.conn) != PQTRANS_IDLE &&
	    PQtransactionStatus(l->w.conn) != PQTRANS_UNKNOWN;
	(void)pthread_mutex_unlock(&l->qmu);
	return a;
}

/*
 * A read section of this thread: a reader connection held to its end,
 * in one REPEATABLE READ READ ONLY transaction (nested sections share
 * it).  Never waits for a unit, only for a free reader; none for the
 * owner of the open unit, whose statements all run in the unit (so it
 * never waits for readers either).  Fails when the snapshot could not
 * begin; the section is open all the same (its statements fail or run
 * without a snapshot) and section_end() ends it.
 */
static int
section_begin(struct store_pg *l)
{
	struct pg_reader *rd;
	int r;

	(void)pthread_mutex_lock(&l->mu);
	if ((rd = reader_mine(l)) != NULL) {
		rd->depth++;
		(void)pthread_mutex_unlock(&l->mu);
		return 0;
	}
	if (l->worker && pthread_equal(l->owner, pthread_self())) {
		(void)pthread_mutex_unlock(&l->mu);
		return 0;
	}
	rd = reader_take(l);
	rd->depth = 1;
	(void)pthread_mutex_unlock(&l->mu);
	if ((r = ensure_conn(l, &rd->pc, 0)) != 0 ||
	    (r = conn_exec(l, &rd->pc,
		 "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
		 "begin read")) != 0)
		return r;
	rd->in_tx = 1;
	return 0;
}

static void
section_end(struct store_pg *l)
{
	struct pg_reader *rd;

	(void)pthread_mutex_lock(&l->mu);
	if ((rd = reader_mine(l)) == NULL || rd->depth == 0) {
		(void)pthread_mutex_unlock(&l->mu);
		return;
	}
	if (--rd->depth > 0) {
		(void)pthread_mutex_unlock(&l->mu);
		return;
	}
	(void)pthread_mutex_unlock(&l->mu);
	if (rd->in_tx)
		(void)conn_exec(l, &rd->pc, "COMMIT", "end read");
	(void)pthread_mutex_lock(&l->mu);
	reader_give(l, rd);
	(void)pthread_mutex_unlock(&l->mu);
}

static void
op_read_begin(struct store *s)
{
	(void)section_begin((struct store_pg *)s);
}

static void
op_read_end(struct store *s)
{
	section_end((struct store_pg *)s);
}

/* Inside this thread's unit, that is the snapshot; else a read section
 * (nested in one already open, it shares that one's snapshot). */
static int
op_snapshot_begin(struct store *s, int *began)
{
	struct store_pg *l = (struct store_pg *)s;
	int r;

	*began = 0;
	if (is_owner(l))
		return 0;
	if ((r = section_begin(l)) != 0) {
		section_end(l);
		return r;
	}
	*began = 1;
	return 0;
}

static void
op_snapshot_end(struct store *s, int began)
{
	if (began)
		section_end((struct store_pg *)s);
}

static void
op_stats_get(struct store *s, struct store_stats *out)
{
	struct store_pg *l = (struct store_pg *)s;

	(void)pthread_mutex_lock(&l->mu);
	*out = l->stats;
	(void)pthread_mutex_unlock(&l->mu);
}

/* ---- events ---- */

static int
op_event_tail(struct store *s, struct store_tail *t)
{
	struct store_pg *l = (struct store_pg *)s;
	PGresult *res = NULL;
	const char *v;
	int r = ERR_INTERNAL;

	memset(t, 0, sizeof(*t));
	TRY(pq_run(l,
	    "SELECT (SELECT seq FROM events ORDER BY seq DESC LIMIT 1),"
	    " (SELECT hash FROM events ORDER BY seq DESC LIMIT 1),"
	    " (SELECT value FROM meta WHERE key = 'head_seq'),"
	    " (SELECT value FROM meta WHERE key = 'head_hash')",
	    NULL, &res, "read events"));
	ENSURE(PQntuples(res) == 1, ERR_DB);
	if (!PQgetisnull(res, 0, 0)) {
		t->seq = val_i64(res, 0, 0);
		t->have_hash = 1;
		v = PQgetvalue(res, 0, 1);
		if (!PQgetisnull(res, 0, 1) && strlen(v) == 64)
			memcpy(t->hash, v, 65);
	}
	if (!PQgetisnull(res, 0, 2)) {
		v = PQgetvalue(res, 0, 2);
		t->have_head_seq = 1;
		(void)snprintf(
		    t->head_seq_text, sizeof(t->head_seq_text), "%s", v);
		t->head_seq_ok = num_parse_u64(v, INT64_MAX, &t->head_seq) == 0;
	}
	if (!PQgetisnull(res, 0, 3)) {
		v = PQgetvalue(res, 0, 3);
		t->have_head_hash = 1;
		if (strlen(v) == 64)
			memcpy(t->head_hash, v, 65);
	}
	r = 0;
out:
	PQclear(res);
	return r;
}

static int
op_event_insert(struct store *s, const struct store_event *ev)
{
	struct store_pg *l = (struct store_pg *)s;
	struct pq_params p = {0};
	int r = ERR_INTERNAL;

	if (!op_tx_active(s)) {
		set_msg(l, "ledger_append outside a transaction");
		return ERR_INVALID_ARG;
	}
	p_int(&p, ev->seq);
	p_int(&p, ev->time);
	p_text(&p, ev->type);
	p_text(&p, ev->actor);
	p_text(&p, ev->subject);
	p_text(&p, ev->details);
	p_text(&p, ev->prev_hash);
	p_text(&p, ev->hash);
	TRY(pq_cmd(l,
	    "INSERT INTO events(seq, time, type, actor, subject, details,"
	    " prev_hash, hash) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
	    &p, NULL, "append event"));
	memset(&p, 0, sizeof(p));
	p_int(&p, ev->seq);
	p_text(&p, ev->hash);
	TRY(pq_cmd(l,
	    "UPDATE meta SET value = CASE key WHEN 'head_seq' THEN $1::text"
	    " ELSE $2::text END WHERE key IN ('head_seq', 'head_hash')",
	    &p, NULL, "write meta"));
	r = 0;
out:
	return r;
}

struct store_events {
	struct store_pg *l;
	PGresult *res;
	int row;
};

static int
op_events_open(
    struct store *s, int64_t since, int64_t limit, struct store_events **out)
{
	struct store_pg *l = (struct store_pg *)s;
	struct store_events *it = NULL;
	struct pq_params p = {0};
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return ERR_ALLOC;
	it->l = l;
	if (since < 0)
		TRY(pq_run(l,
		    "SELECT seq, time, type, actor, subject, details,"
		    " prev_hash, hash FROM events ORDER BY seq",
		    NULL, &it->res, "read events"));
	else {
		p_int(&p, since);
		p_int(&p, limit);
		TRY(pq_run(l,
		    "SELECT seq, time, type, actor, subject, details,"
		    " prev_hash, hash FROM events WHERE seq > $1 ORDER BY seq"
		    " LIMIT CASE WHEN $2::bigint < 0 THEN NULL ELSE $2 END",
		    &p, &it->res, "read events"));
	}
	*out = it;
	it = NULL;
	r = 0;
out:
	free(it);
	return r;
}

static int
op_events_next(struct store_events *it, struct store_event *w, int *found)
{
	PGresult *res = it->res;
	int i = it->row;

	memset(w, 0, sizeof(*w));
	*found = 0;
	if (i >= PQntuples(res))
		return 0;
	it->row++;
	*found = 1;
	w->seq = val_i64(res, i, 0);
	w->time = val_i64(res, i, 1);
	w->type = PQgetvalue(res, i, 2);
	w->actor = PQgetvalue(res, i, 3);
	w->subject = PQgetvalue(res, i, 4);
	w->details = PQgetvalue(res, i, 5);
	w->prev_hash = PQgetvalue(res, i, 6);
	w->hash = PQgetvalue(res, i, 7);
	return 0;
}

static void
op_events_close(struct store_events *it)
{
	if (it == NULL)
		return;
	PQclear(it->res);
	free(it);
}

/* ---- counters and changes ---- */

static int
op_counter_next(struct store *s, enum store_counter c, uint64_t *out)
{
	struct store_pg *l = (struct store_pg *)s;
	int64_t v = 0;
	int r = ERR_INTERNAL;

	*out = 0;
	if (!op_tx_active(s)) {
		set_msg(l, "counter outside a transaction");
		return ERR_INVALID_ARG;
	}
	if (c == STORE_COUNTER_SERIAL) {
		TRY(query_i64(l, "SELECT nextval('cert_serial')", NULL, &v,
		    "next serial"));
	} else if (c == STORE_COUNTER_KRL_VERSION)
		TRY(query_i64(l,
		    "UPDATE meta SET value = (value::bigint + 1)::text WHERE"
		    " key = 'krl_version' RETURNING value::bigint",
		    NULL, &v, "krl version"));
	else
		return ERR_INVALID_ARG;
	ENSURE(v > 0, ERR_DB);
	*out = (uint64_t)v;
	r = 0;
out:
	return r;
}

/*
 * A serial for a certificate signed before its unit: nextval of
 * cert_serial, outside any transaction of this caller.  A sequence is
 * not rolled back and gives every session distinct values, so the serial
 * is unique across replicas and never reused; one whose certificate is
 * not committed is a gap.
 */
static int
op_serial_reserve(struct store *s, uint64_t *out)
{
	struct store_pg *l = (struct store_pg *)s;
	int64_t v = 0;
	int r = ERR_INTERNAL;

	*out = 0;
	TRY(query_i64(
	    l, "SELECT nextval('cert_serial')", NULL, &v, "reserve serial"));
	ENSURE(v > 0, ERR_DB);
	*out = (uint64_t)v;
	r = 0;
out:
	return r;
}

/* A request id from the requests' own sequence, outside any
 * transaction of this caller: distinct across replicas, never handed out
 * twice (a sequence is not rolled back). */
static int
op_request_id_reserve(struct store *s, int64_t *out)
{
	struct store_pg *l = (struct store_pg *)s;
	int r = ERR_INTERNAL;

	*out = 0;
	TRY(query_i64(l,
	    "SELECT nextval(pg_get_serial_sequence('requests', 'id'))", NULL,
	    out, "reserve request id"));
	ENSURE(*out > 0, ERR_DB);
	r = 0;
out:
	return r;
}

static int
op_counter_get(struct store *s, enum store_counter c, uint64_t *out)
{
	struct store_pg *l = (struct store_pg *)s;
	int64_t v = 0;
	int r = ERR_INTERNAL;

	*out = 0;
	if (c == STORE_COUNTER_SERIAL)
		TRY(query_i64(l,
		    "SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
		    " FROM cert_serial",
		    NULL, &v, "read serial"));
	else if (c == STORE_COUNTER_KRL_VERSION)
		TRY(query_i64(l,
		    "SELECT value::bigint FROM meta WHERE key = 'krl_version'",
		    NULL, &v, "read meta"));
	else
		return ERR_INVALID_ARG;
	*out = (uint64_t)v;
	r = 0;
out:
	return r;
}

static int
op_changed(struct store *s, int *changed)
{
	struct store_pg *l = (struct store_pg *)s;
	int64_t v = 0;
	int r = ERR_INTERNAL;

	*changed = 0;
	TRY(query_i64(l, "SELECT value::bigint FROM meta WHERE key = 'version'",
	    NULL, &v, "read meta"));
	(void)pthread_mutex_lock(&l->mu);
	*changed = v != l->version;
	l->version = v;
	(void)pthread_mutex_unlock(&l->mu);
	r = 0;
out:
	return r;
}

/* ---- users ---- */

#define USER_COLS "name, groups, disabled, created, token_created, token_hash"

static int
user_from_row(PGresult *res, int i, struct store_user **out)
{
	struct store_user *u = NULL;
	unsigned char *h = NULL;
	size_t hl = 0;
	int r = ERR_INTERNAL;

	*out = NULL;
	ENSURE((u = calloc(1, sizeof(*u))) != NULL, ERR_ALLOC);
	TRY(dupval(&u->name, res, i, 0));
	TRY(dupval(&u->groups, res, i, 1));
	u->disabled = val_i64(res, i, 2) != 0;
	u->created = (uint64_t)val_i64(res, i, 3);
	u->token_created = (uint64_t)val_i64(res, i, 4);
	h = val_blob(res, i, 5, &hl);
	if (h != NULL && hl == STORE_TOKEN_HASH_LEN) {
		memcpy(u->token_hash, h, STORE_TOKEN_HASH_LEN);
		u->has_token = 1;
	}
	*out = u;
	u = NULL;
	r = 0;
out:
	PQfreemem(h);
	store_user_free(u);
	return r;
}

static int
user_one(struct store_pg *l, const char *sql, struct pq_params *p,
    struct store_user **out)
{
	PGresult *res = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	TRY(pq_run(l, sql, p, &res, "read users"));
	ENSURE(PQntuples(res) > 0, ERR_NOT_FOUND);
	TRY(user_from_row(res, 0, out));
	r = 0;
out:
	PQclear(res);
	return r;
}

static int
op_user_get(struct store *s, const char *name, struct store_user **out)
{
	struct pq_params p = {0};

	p_text(&p, name);
	return user_one((struct store_pg *)s,
	    "SELECT " USER_COLS " FROM users WHERE name = $1", &p, out);
}

static int
op_user_by_token(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
    struct store_user **out)
{
	struct pq_params p = {0};

	p_blob(&p, hash, STORE_TOKEN_HASH_LEN);
	return user_one((struct store_pg *)s,
	    "SELECT " USER_COLS " FROM users WHERE token_hash = $1", &p, out);
}

static int
one_row_cmd(struct store_pg *l, const char *sql, struct pq_params *p)
{
	int r, changes = 0;

	if ((r = pq_cmd(l, sql, p, &changes, "write users")) != 0)
		return r;
	return changes == 1 ? 0 : ERR_NOT_FOUND;
}

static int
op_user_insert(struct store *s, const char *name, const char *groups,
    const uint8_t hash[STORE_TOKEN_HASH_LEN], uint64_t created)
{
	struct pq_params p = {0};

	p_text(&p, name);
	p_text(&p, groups);
	p_int(&p, (int64_t)created);
	if (hash == NULL) /* signs in with the identity provider */
		return one_row_cmd((struct store_pg *)s,
		    "INSERT INTO users(name, groups, token_hash, disabled,"
		    " created, token_created) VALUES($1, $2, NULL, 0, $3,"
		    " NULL)",
		    &p);
	/* created and token_created are one time: the token is new. */
	p_blob(&p, hash, STORE_TOKEN_HASH_LEN);
	return one_row_cmd((struct store_pg *)s,
	    "INSERT INTO users(name, groups, token_hash, disabled, created,"
	    " token_created) VALUES($1, $2, $4, 0, $3, $3)",
	    &p);
}

static int
op_user_token_set(struct store *s, const char *name,
    const uint8_t hash[STORE_TOKEN_HASH_LEN], uint64_t when)
{
	struct pq_params p = {0};

	p_text(&p, name);
	p_blob(&p, hash, STORE_TOKEN_HASH_LEN);
	p_int(&p, (int64_t)when);
	return one_row_cmd((struct store_pg *)s,
	    "UPDATE users SET token_hash = $2, token_created = $3"
	    " WHERE name = $1",
	    &p);
}

static int
op_user_disable(struct store *s, const char *name)
{
	struct pq_params p = {0};

	p_text(&p, name);
	return one_row_cmd((struct store_pg *)s,
	    "UPDATE users SET disabled = 1 WHERE name = $1", &p);
}

static int
op_users_each(struct store *s, int enabled_only, store_user_fn fn, void *arg)
{
	struct store_pg *l = (struct store_pg *)s;
	struct store_user *u = NULL;
	PGresult *res = NULL;
	int r = ERR_INTERNAL, i;

	TRY(pq_run(l,
	    enabled_only
		? "SELECT " USER_COLS
		  " FROM users WHERE disabled = 0 ORDER BY name COLLATE \"C\""
		: "SELECT " USER_COLS " FROM users ORDER BY name COLLATE \"C\"",
	    NULL, &res, "read users"));
	for (i = 0; i < PQntuples(res); i++) {
		TRY(user_from_row(res, i, &u));
		TRY(fn(arg, u));
		store_user_free(u);
		u = NULL;
	}
	r = 0;
out:
	store_user_free(u);
	PQclear(res);
	return r;
}

/* ---- revocation ---- */

#define MATCH_COLS                                                             \
	"SELECT serial, key_id, \"user\", role, coalesce(request_id, 0),"      \
	" (revoked IS NOT NULL)::int FROM certificates "

static int
op_certs_match(struct store *s, const struct store_cert_query *q,
    store_cert_fn fn, void *arg)
{
	struct store_pg *l = (struct store_pg *)s;
	struct store_cert_match m;
	struct pq_params p = {0};
	PGresult *res = NULL;
	const char *sql;
	int r = ERR_INTERNAL, i;

	switch (q->by) {
	case STORE_CERT_BY_SERIAL:
		sql = MATCH_COLS "WHERE serial = $1";
		p_int(&p, q->num);
		break;
	case STORE_CERT_BY_KEY_ID:
		sql = MATCH_COLS "WHERE key_id = $1";
		p_text(&p, q->text);
		break;
	case STORE_CERT_BY_USER:
		ENSURE(q->now <= INT64_MAX, ERR_INVALID_ARG);
		sql = MATCH_COLS "WHERE \"user\" = $1 AND valid_before > $2"
				 " ORDER BY serial";
		p_text(&p, q->text);
		p_int(&p, (int64_t)q->now);
		break;
	case STORE_CERT_BY_REQUEST:
		sql = MATCH_COLS "WHERE request_id = $1 ORDER BY serial";
		p_int(&p, q->num);
		break;
	case STORE_CERT_BY_KEY:
		sql = MATCH_COLS "WHERE key_blob = $1 ORDER BY serial";
		p_blob(&p, q->blob, q->bloblen);
		break;
	default:
		return ERR_INVALID_ARG;
	}
	TRY(pq_run(l, sql, &p, &res, "read certificates"));
	for (i = 0; i < PQntuples(res); i++) {
		m.serial = val_i64(res, i, 0);
		m.key_id = PQgetvalue(res, i, 1);
		m.user = PQgetvalue(res, i, 2);
		m.role = PQgetvalue(res, i, 3);
		m.request = val_i64(res, i, 4);
		m.revoked = val_i64(res, i, 5) != 0;
		TRY(fn(arg, &m));
	}
	r = 0;
out:
	PQclear(res);
	return r;
}

static int
op_request_exists(struct store *s, int64_t id, int *exists)
{
	struct pq_params p = {0};
	int64_t v = 0;
	int r;

	*exists = 0;
	p_int(&p, id);
	r = query_i64((struct store_pg *)s,
	    "SELECT count(*) FROM requests WHERE id = $1", &p, &v,
	    "read requests");
	*exists = v > 0;
	return r;
}

static int
op_cert_revoke(struct store *s, int64_t serial, uint64_t now, int *newly)
{
	struct store_pg *l = (struct store_pg *)s;
	struct pq_params p = {0};
	int r = ERR_INTERNAL, changes = 0;

	*newly = 0;
	ENSURE(now <= INT64_MAX, ERR_INVALID_ARG);
	p_int(&p, (int64_t)now);
	p_int(&p, serial);
	TRY(pq_cmd(l,
	    "UPDATE certificates SET revoked = $1 WHERE serial = $2 AND"
	    " revoked IS NULL",
	    &p, &changes, "revoke"));
	if (changes == 0) {
		r = 0;
		goto out;
	}
	TRY(pq_cmd(l,
	    "UPDATE requests SET state = 'revoked', updated = $1 WHERE"
	    " serial = $2 AND state = 'issued'",
	    &p, NULL, "revoke"));
	*newly = 1;
	r = 0;
out:
	return r;
}

static int
op_revoked_key_insert(struct store *s, const uint8_t sha256[32],
    const char *key_fp, uint64_t now, const char *reason, int *newly)
{
	struct pq_params p = {0};
	int r, changes = 0;

	*newly = 0;
	if (now > INT64_MAX)
		return ERR_INVALID_ARG;
	p_blob(&p, sha256, 32);
	p_text(&p, key_fp);
	p_int(&p, (int64_t)now);
	p_text(&p, reason);
	r = pq_cmd((struct store_pg *)s,
	    "INSERT INTO revoked_keys(key_sha256, key_fp, time, reason)"
	    " VALUES($1, $2, $3, $4) ON CONFLICT(key_sha256) DO NOTHING",
	    &p, &changes, "revoke key");
	*newly = changes != 0;
	return r;
}

static int
op_krl_each(struct store *s, int64_t after, store_serial_fn sfn,
    store_key_fn kfn, void *arg)
{
	struct store_pg *l = (struct store_pg *)s;
	struct pq_params p = {0};
	PGresult *res = NULL;
	unsigned char *h = NULL;
	size_t hl;
	int r = ERR_INTERNAL, i;

	p_int(&p, after);
	TRY(pq_run(l,
	    "SELECT serial FROM certificates WHERE revoked IS NOT NULL AND"
	    " valid_before > $1 ORDER BY serial",
	    &p, &res, "read certificates"));
	for (i = 0; i < PQntuples(res); i++)
		TRY(sfn(arg, (uint64_t)val_i64(res, i, 0)));
	PQclear(res);
	res = NULL;
	TRY(pq_run(l, "SELECT key_sha256 FROM revoked_keys ORDER BY key_sha256",
	    NULL, &res, "read revoked_keys"));
	for (i = 0; i < PQntuples(res); i++) {
		h = val_blob(res, i, 0, &hl);
		ENSURE(h != NULL && hl == 32, ERR_DB);
		TRY(kfn(arg, h));
		PQfreemem(h);
		h = NULL;
	}
	r = 0;
out:
	PQfreemem(h);
	PQclear(res);
	return r;
}

static int
op_krl_latest(struct store *s, int64_t after, uint64_t *when)
{
	struct pq_params p = {0};
	int64_t v = 0;
	int r;

	*when = 0;
	p_int(&p, after);
	r = query_i64((struct store_pg *)s,
	    "SELECT greatest(coalesce((SELECT max(revoked) FROM certificates WHERE"
	    " revoked IS NOT NULL AND valid_before > $1), 0), coalesce((SELECT"
	    " max(time) FROM revoked_keys), 0))",
	    &p, &v, "read certificates");
	*when = v > 0 ? (uint64_t)v : 0;
	return r;
}

/* ---- raw rows ---- */

#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701

struct store_rows {
	struct store_pg *l;
	PGresult *res;
	int row;
	int ncols;
	struct store_cell cells[STORE_ROW_MAX];
	unsigned char *blobs[STORE_ROW_MAX];
};

static int
op_rows_open(struct store *s, enum store_table t, struct store_rows **out)
{
	struct store_pg *l = (struct store_pg *)s;
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
		      " token_created FROM users ORDER BY name COLLATE \"C\"";
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
		      " FROM approvals ORDER BY request_id, approver COLLATE"
		      " \"C\"";
		what = "read approvals";
		break;
	case STORE_TABLE_CERTIFICATES:
		sql = "SELECT request_id, \"user\", role, key_id, principals,"
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
		      " FROM hosts ORDER BY name COLLATE \"C\"";
		what = "read hosts";
		break;
	case STORE_TABLE_HOST_KEYS:
		sql = "SELECT name, key_type, key_blob, key_fp, bound FROM"
		      " host_keys ORDER BY name COLLATE \"C\", key_type COLLATE"
		      " \"C\"";
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
	ENSURE((it = calloc(1, sizeof(*it))) != NULL, ERR_ALLOC);
	it->l = l;
	TRY(pq_run(l, sql, NULL, &it->res, what));
	it->ncols = PQnfields(it->res);
	ENSURE(it->ncols <= STORE_ROW_MAX, ERR_INTERNAL);
	*out = it;
	it = NULL;
	r = 0;
out:
	if (it != NULL) {
		PQclear(it->res);
		free(it);
	}
	return r;
}

static void
rows_free_blobs(struct store_rows *it)
{
	int i;

	for (i = 0; i < STORE_ROW_MAX; i++) {
		PQfreemem(it->blobs[i]);
		it->blobs[i] = NULL;
	}
}

static int
op_rows_next(struct store_rows *it, const struct store_cell **row, int *found)
{
	struct store_cell *c;
	int i, k = it->row;
	size_t bl;
	Oid t;

	*row = NULL;
	*found = 0;
	rows_free_blobs(it);
	if (k >= PQntuples(it->res))
		return 0;
	it->row++;
	for (i = 0; i < it->ncols; i++) {
		c = &it->cells[i];
		memset(c, 0, sizeof(*c));
		if (PQgetisnull(it->res, k, i)) {
			c->type = STORE_CELL_NULL;
			c->text = "";
			continue;
		}
		t = PQftype(it->res, i);
		c->text = PQgetvalue(it->res, k, i);
		c->len = (size_t)PQgetlength(it->res, k, i);
		if (t == OID_INT8 || t == OID_INT4 || t == OID_INT2 ||
		    t == OID_BOOL) {
			c->type = STORE_CELL_INTEGER;
			c->i = strtoll(c->text, NULL, 10);
		} else if (t == OID_FLOAT4 || t == OID_FLOAT8) {
			c->type = STORE_CELL_FLOAT;
			c->d = strtod(c->text, NULL);
			c->i = (int64_t)c->d;
		} else if (t == OID_BYTEA) {
			c->type = STORE_CELL_BLOB;
			it->blobs[i] = PQunescapeBytea(
			    (const unsigned char *)c->text, &bl);
			if (it->blobs[i] == NULL)
				return ERR_ALLOC;
			c->blob = it->blobs[i];
			c->len = bl;
			c->text = "";
		} else {
			c->type = STORE_CELL_TEXT;
			c->i = strtoll(c->text, NULL, 10);
		}
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
	rows_free_blobs(it);
	PQclear(it->res);
	free(it);
}

static int
op_meta_get(struct store *s, const char *key, char **out)
{
	struct pq_params p = {0};
	PGresult *res = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	p_text(&p, key);
	/* Serials come from a sequence, which a rolled-back unit or a
	 * crash leaves ahead of the certificates (a gap): the last serial
	 * of the state is the highest one committed. */
	if (strcmp(key, "last_serial") == 0)
		TRY(pq_run((struct store_pg *)s,
		    "SELECT coalesce(max(serial), 0)::text FROM certificates",
		    NULL, &res, "read meta"));
	else
		TRY(pq_run((struct store_pg *)s,
		    "SELECT value FROM meta WHERE key = $1", &p, &res,
		    "read meta"));
	if (PQntuples(res) > 0)
		TRY(dupval(out, res, 0, 0));
	r = 0;
out:
	PQclear(res);
	return r;
}

/* ---- requests ---- */

static int
op_request_get(struct store *s, int64_t id, struct store_request *row)
{
	struct pq_params p = {0};
	PGresult *res = NULL;
	int r = ERR_INTERNAL;

	memset(row, 0, sizeof(*row));
	p_int(&p, id);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT id, requester, role, principals, ttl, reason, public_key,"
	    " key_fp, state, created, expires, approvals_required,"
	    " coalesce(serial, 0) FROM requests WHERE id = $1",
	    &p, &res, "read requests"));
	ENSURE(PQntuples(res) == 1, ERR_NOT_FOUND);
	row->id = val_i64(res, 0, 0);
	TRY(dupval(&row->requester, res, 0, 1));
	TRY(dupval(&row->role, res, 0, 2));
	TRY(dupval(&row->principals, res, 0, 3));
	row->ttl = (uint64_t)val_i64(res, 0, 4);
	TRY(dupval(&row->reason, res, 0, 5));
	TRY(dupval(&row->public_key, res, 0, 6));
	TRY(dupval(&row->key_fp, res, 0, 7));
	TRY(dupval(&row->state, res, 0, 8));
	row->created = (uint64_t)val_i64(res, 0, 9);
	row->expires = (uint64_t)val_i64(res, 0, 10);
	row->approvals_required = (unsigned)val_i64(res, 0, 11);
	row->serial = val_i64(res, 0, 12);
	r = 0;
out:
	PQclear(res);
	if (r != 0)
		store_request_clear(row);
	return r;
}

static int
op_request_insert(
    struct store *s, const struct store_request_new *q, int64_t *id)
{
	struct pq_params p = {0};

	*id = 0;
	p_text(&p, q->requester);
	p_text(&p, q->role);
	p_text(&p, q->principals);
	p_int(&p, (int64_t)q->ttl);
	p_text(&p, q->reason);
	p_text(&p, q->public_key);
	p_text(&p, q->key_fp);
	p_int(&p, (int64_t)q->created);
	p_int(&p, (int64_t)q->expires);
	p_int(&p, q->approvals_required);
	/* A reserved id came from the sequence: nobody else has it. */
	if (q->id > 0)
		p_int(&p, q->id);
	else
		p_null(&p);
	return query_i64((struct store_pg *)s,
	    "INSERT INTO requests(id, requester, role, principals, ttl,"
	    " reason, public_key, key_fp, state, created, expires,"
	    " approvals_required, serial, updated)"
	    " VALUES(coalesce($11::bigint, nextval(pg_get_serial_sequence("
	    "'requests', 'id'))), $1, $2, $3, $4, $5, $6, $7, 'pending', $8,"
	    " $9, $10, NULL, $8) RETURNING id",
	    &p, id, "write requests");
}

static int
op_request_state_set(struct store *s, int64_t id, const char *from,
    const char *to, int64_t serial, uint64_t now)
{
	struct pq_params p = {0};
	int r, changes = 0;

	p_text(&p, to);
	p_int(&p, serial);
	p_int(&p, (int64_t)now);
	p_int(&p, id);
	p_text(&p, from);
	r = pq_cmd((struct store_pg *)s,
	    "UPDATE requests SET state = $1, serial = CASE WHEN $2::bigint = 0"
	    " THEN serial ELSE $2::bigint END, updated = $3 WHERE id = $4 AND"
	    " state = $5",
	    &p, &changes, "write requests");
	if (r != 0)
		return r;
	return changes == 1 ? 0 : ERR_WRONG_STATE;
}

static int
op_request_ttl_set(struct store *s, int64_t id, uint64_t ttl)
{
	struct pq_params p = {0};
	int r, changes = 0;

	if (ttl == 0 || ttl > INT64_MAX)
		return ERR_INVALID_ARG;
	p_int(&p, (int64_t)ttl);
	p_int(&p, id);
	r = pq_cmd((struct store_pg *)s,
	    "UPDATE requests SET ttl = $1 WHERE id = $2 AND state = 'pending'",
	    &p, &changes, "write requests");
	if (r != 0)
		return r;
	return changes == 1 ? 0 : ERR_WRONG_STATE;
}

static int
op_requests_due(struct store *s, uint64_t now, int64_t **idsp, size_t *np)
{
	struct pq_params p = {0};
	PGresult *res = NULL;
	int64_t *ids = NULL;
	int r = ERR_INTERNAL, i, n;

	*idsp = NULL;
	*np = 0;
	p_int(&p, (int64_t)now);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT id FROM requests WHERE state = 'pending' AND expires <= $1"
	    " ORDER BY id",
	    &p, &res, "read requests"));
	n = PQntuples(res);
	ENSURE((ids = calloc(n > 0 ? (size_t)n : 1, sizeof(*ids))) != NULL,
	    ERR_ALLOC);
	for (i = 0; i < n; i++)
		ids[i] = val_i64(res, i, 0);
	*idsp = ids;
	ids = NULL;
	*np = (size_t)n;
	r = 0;
out:
	free(ids);
	PQclear(res);
	return r;
}

static int
op_requests_page(struct store *s, const struct store_request_query *q,
    int64_t *ids, size_t max, size_t *n)
{
	struct pq_params p = {0};
	PGresult *res = NULL;
	json_t *roles = NULL;
	char *rolesj = NULL;
	size_t i;
	int r = ERR_INTERNAL, k;

	*n = 0;
	ENSURE(max < INT64_MAX && q->now <= INT64_MAX, ERR_INVALID_ARG);
	ENSURE((roles = json_array()) != NULL, ERR_ALLOC);
	for (i = 0; i < q->nroles; i++)
		ENSURE(
		    json_array_append_new(roles, json_string(q->roles[i])) == 0,
		    ERR_ALLOC);
	ENSURE((rolesj = json_dumps(roles, JSON_COMPACT)) != NULL, ERR_ALLOC);
	p_int(&p, q->all ? 1 : 0);
	p_text(&p, q->requester == NULL ? "" : q->requester);
	p_text(&p, rolesj);
	p_int(&p, q->pending_only ? 1 : 0);
	p_int(&p, (int64_t)q->now);
	p_int(&p, (int64_t)max);
	p_int(&p, q->before);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT id FROM requests WHERE ($1::bigint <> 0 OR requester = $2"
	    " OR role IN (SELECT jsonb_array_elements_text($3::jsonb))) AND"
	    " ($4::bigint = 0 OR (state = 'pending' AND expires > $5)) AND"
	    " ($7::bigint = 0 OR id < $7) ORDER BY id DESC LIMIT $6",
	    &p, &res, "read requests"));
	for (k = 0; k < PQntuples(res) && (size_t)k < max; k++)
		ids[k] = val_i64(res, k, 0);
	*n = (size_t)k;
	r = 0;
out:
	PQclear(res);
	json_decref(roles);
	free(rolesj);
	return r;
}

static int
op_approvals_each(struct store *s, int64_t id, store_approval_fn fn, void *arg)
{
	struct store_approval a;
	struct pq_params p = {0};
	PGresult *res = NULL;
	int r = ERR_INTERNAL, i;

	p_int(&p, id);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT approver, decision, time, comment FROM approvals"
	    " WHERE request_id = $1 ORDER BY time, approver COLLATE \"C\"",
	    &p, &res, "read approvals"));
	for (i = 0; i < PQntuples(res); i++) {
		a.approver = PQgetvalue(res, i, 0);
		a.decision = PQgetvalue(res, i, 1);
		a.time = val_i64(res, i, 2);
		a.comment = PQgetvalue(res, i, 3);
		TRY(fn(arg, &a));
	}
	r = 0;
out:
	PQclear(res);
	return r;
}

static int
op_approval_put(struct store *s, int64_t id, const struct store_approval *a,
    int replace, int *conflict)
{
	struct pq_params p = {0};
	int r, changes = 0;

	*conflict = 0;
	p_int(&p, id);
	p_text(&p, a->approver);
	p_text(&p, a->decision);
	p_int(&p, a->time);
	p_text(&p, a->comment == NULL ? "" : a->comment);
	/* A statement that fails aborts the transaction here: the
	 * conflicts are rows not written, not errors.  Only an approval
	 * turns into a denial. */
	r = pq_cmd((struct store_pg *)s,
	    !replace ? "INSERT INTO approvals(request_id, approver, decision,"
		       " time, comment) VALUES($1, $2, $3, $4, $5) ON"
		       " CONFLICT DO NOTHING"
		     : "INSERT INTO approvals(request_id, approver, decision,"
		       " time, comment) VALUES($1, $2, $3, $4, $5) ON"
		       " CONFLICT(request_id, approver) DO UPDATE SET"
		       " decision = excluded.decision, time = excluded.time,"
		       " comment = excluded.comment WHERE approvals.decision"
		       " = 'approve' AND excluded.decision = 'deny'",
	    &p, &changes, "write approvals");
	if (r == 0 && changes == 0)
		*conflict = 1;
	return r;
}

static int
op_revoked_key_exists(struct store *s, const uint8_t sha256[32], int *found)
{
	struct pq_params p = {0};
	int64_t v = 0;
	int r;

	*found = 0;
	p_blob(&p, sha256, 32);
	r = query_i64((struct store_pg *)s,
	    "SELECT count(*) FROM revoked_keys WHERE key_sha256 = $1", &p, &v,
	    "read revoked_keys");
	*found = v > 0;
	return r;
}

static int
op_cert_insert(struct store *s, const struct store_cert *c)
{
	struct pq_params p = {0};

	p_int(&p, (int64_t)c->serial);
	p_int(&p, c->request_id);
	p_text(&p, c->user);
	p_text(&p, c->role);
	p_text(&p, c->key_id);
	p_text(&p, c->principals);
	p_int(&p, (int64_t)c->valid_after);
	p_int(&p, (int64_t)c->valid_before);
	p_text(&p, c->key_fp);
	p_blob(&p, c->key_blob, c->key_len);
	p_text(&p, c->cert_sha256);
	p_text(&p, c->certificate);
	p_int(&p, (int64_t)c->issued);
	return pq_cmd((struct store_pg *)s,
	    "INSERT INTO certificates(serial, request_id, \"user\", role,"
	    " key_id, principals, valid_after, valid_before, key_fp,"
	    " key_blob, cert_sha256, certificate, issued, revoked)"
	    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
	    " NULL)",
	    &p, NULL, "write certificates");
}

static int
op_cert_info(struct store *s, int64_t serial, struct store_cert_info *c)
{
	struct pq_params p = {0};
	PGresult *res = NULL;
	int r = ERR_INTERNAL;

	memset(c, 0, sizeof(*c));
	p_int(&p, serial);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT certificate, key_id, valid_after, valid_before, revoked"
	    " FROM certificates WHERE serial = $1",
	    &p, &res, "read certificates"));
	ENSURE(PQntuples(res) == 1, ERR_NOT_FOUND);
	TRY(dupval(&c->certificate, res, 0, 0));
	TRY(dupval(&c->key_id, res, 0, 1));
	c->valid_after = val_i64(res, 0, 2);
	c->valid_before = val_i64(res, 0, 3);
	if (!PQgetisnull(res, 0, 4)) {
		c->revoked_set = 1;
		c->revoked = val_i64(res, 0, 4);
	}
	r = 0;
out:
	PQclear(res);
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
	struct pq_params p = {0};
	PGresult *res = NULL;
	int64_t v;
	int r = ERR_INTERNAL, i;
	size_t k;

	memset(out, 0, sizeof(*out));
	if (now > INT64_MAX)
		return ERR_INVALID_ARG;
	p_int(&p, (int64_t)now);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT CASE WHEN state = 'pending' AND expires <= $1"
	    " THEN 'expired' ELSE state END AS s, count(*) FROM requests"
	    " GROUP BY 1"
	    " UNION ALL SELECT NULL, coalesce(sum(greatest(r.approvals_required"
	    " - (SELECT count(*) FROM approvals a WHERE a.request_id = r.id AND"
	    " a.decision = 'approve'), 0)), 0)::bigint FROM requests r WHERE"
	    " r.state = 'pending' AND r.expires > $1",
	    &p, &res, "count requests"));
	for (i = 0; i < PQntuples(res); i++) {
		v = val_i64(res, i, 1);
		if (v < 0)
			continue;
		if (PQgetisnull(res, i, 0)) {
			out->approvals_needed = (uint64_t)v;
			continue;
		}
		for (k = 0; k < STORE_REQ_NSTATES; k++) {
			if (strcmp(PQgetvalue(res, i, 0), names[k]) == 0)
				out->by_state[k] += (uint64_t)v;
		}
	}
	r = 0;
out:
	PQclear(res);
	return r;
}

/* ---- notification sinks ---- */

static int
op_notify_cursor_get(
    struct store *s, const char *sink, int64_t *seq, int *found)
{
	struct pq_params p = {0};
	PGresult *res = NULL;
	int r = ERR_INTERNAL;

	*seq = 0;
	*found = 0;
	p_text(&p, sink);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT seq FROM notify_cursors WHERE sink = $1", &p, &res,
	    "read notify_cursors"));
	if (PQntuples(res) > 0) {
		*found = 1;
		*seq = val_i64(res, 0, 0);
	}
	r = 0;
out:
	PQclear(res);
	return r;
}

static int
op_notify_cursor_put(
    struct store *s, const char *sink, int64_t seq, uint64_t now)
{
	struct pq_params p = {0};

	p_text(&p, sink);
	p_int(&p, seq);
	p_int(&p, (int64_t)now);
	return pq_cmd((struct store_pg *)s,
	    "INSERT INTO notify_cursors(sink, seq, updated) VALUES($1, $2, $3)"
	    " ON CONFLICT(sink) DO NOTHING",
	    &p, NULL, "write notify_cursors");
}

static int
op_notify_cursor_advance(struct store *s, const char *sink, const char *owner,
    int64_t seq, uint64_t now)
{
	struct store_pg *l = (struct store_pg *)s;
	struct pq_params p = {0};
	int64_t held = 0;
	int r = ERR_INTERNAL;

	/* The lease row locked for the rest of the transaction: another
	 * replica cannot take it over between the check and the write. */
	p_text(&p, sink);
	p_text(&p, owner);
	p_int(&p, (int64_t)now);
	TRY(query_i64(l,
	    "SELECT 1 FROM notify_leases WHERE sink = $1 AND owner = $2 AND"
	    " expires > $3 FOR UPDATE",
	    &p, &held, "read notify_leases"));
	ENSURE(held == 1, ERR_NOTIFY_LEASE);
	memset(&p, 0, sizeof(p));
	p_int(&p, seq);
	p_int(&p, (int64_t)now);
	p_text(&p, sink);
	TRY(pq_cmd(l,
	    "UPDATE notify_cursors SET seq = $1, updated = $2 WHERE sink = $3"
	    " AND seq < $1",
	    &p, NULL, "write notify_cursors"));
	r = 0;
out:
	return r;
}

static int
op_notify_lease_take(struct store *s, const char *sink, const char *owner,
    uint64_t now, uint64_t ttl)
{
	struct store_pg *l = (struct store_pg *)s;
	struct pq_params p = {0};
	int r = ERR_INTERNAL, changes = 0;

	p_text(&p, sink);
	TRY(pq_cmd(l,
	    "INSERT INTO notify_leases(sink, owner, expires) VALUES($1, '', 0)"
	    " ON CONFLICT(sink) DO NOTHING",
	    &p, NULL, "write notify_leases"));
	/* One conditional UPDATE: the row lock decides between two
	 * replicas, the second sees the first one's owner. */
	memset(&p, 0, sizeof(p));
	p_text(&p, owner);
	p_int(&p, (int64_t)(now + ttl));
	p_text(&p, sink);
	p_int(&p, (int64_t)now);
	TRY(pq_cmd(l,
	    "UPDATE notify_leases SET owner = $1, expires = $2 WHERE sink = $3"
	    " AND (owner = $1 OR expires <= $4)",
	    &p, &changes, "write notify_leases"));
	r = changes == 1 ? 0 : ERR_NOTIFY_LEASE;
out:
	return r;
}

static int
op_notify_lease_release(struct store *s, const char *sink, const char *owner)
{
	struct pq_params p = {0};

	p_text(&p, sink);
	p_text(&p, owner);
	return pq_cmd((struct store_pg *)s,
	    "UPDATE notify_leases SET expires = 0 WHERE sink = $1 AND owner ="
	    " $2",
	    &p, NULL, "write notify_leases");
}

/* ---- signing in: groups, sessions, identities ---- */

static int
op_user_groups_set(struct store *s, const char *name, const char *groups)
{
	struct pq_params p = {0};

	p_text(&p, name);
	p_text(&p, groups);
	return one_row_cmd((struct store_pg *)s,
	    "UPDATE users SET groups = $2 WHERE name = $1", &p);
}

static int
op_session_insert(struct store *s, const struct store_session *ss)
{
	struct pq_params p = {0};

	p_blob(&p, ss->token_hash, STORE_TOKEN_HASH_LEN);
	p_text(&p, ss->user);
	p_int(&p, (int64_t)ss->created);
	p_int(&p, (int64_t)ss->expires);
	p_int(&p, (int64_t)ss->auth_time);
	return pq_cmd((struct store_pg *)s,
	    "INSERT INTO sessions(token_hash, \"user\", created, expires,"
	    " auth_time) VALUES($1, $2, $3, $4, $5)",
	    &p, NULL, "write sessions");
}

static int
op_session_get(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
    struct store_session *out)
{
	struct pq_params p = {0};
	PGresult *res = NULL;
	unsigned char *h = NULL;
	size_t hl = 0;
	int r = ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	p_blob(&p, hash, STORE_TOKEN_HASH_LEN);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT token_hash, \"user\", created, expires, auth_time FROM"
	    " sessions WHERE token_hash = $1",
	    &p, &res, "read sessions"));
	ENSURE(PQntuples(res) == 1, ERR_NOT_FOUND);
	h = val_blob(res, 0, 0, &hl);
	ENSURE(h != NULL && hl == STORE_TOKEN_HASH_LEN, ERR_DB);
	memcpy(out->token_hash, h, STORE_TOKEN_HASH_LEN);
	TRY(dupval(&out->user, res, 0, 1));
	out->created = (uint64_t)val_i64(res, 0, 2);
	out->expires = (uint64_t)val_i64(res, 0, 3);
	out->auth_time = (uint64_t)val_i64(res, 0, 4);
	r = 0;
out:
	PQfreemem(h);
	PQclear(res);
	if (r != 0)
		store_session_clear(out);
	return r;
}

static int
op_sessions_purge(struct store *s, uint64_t now, uint64_t *n)
{
	struct pq_params p = {0};
	int r, changes = 0;

	*n = 0;
	p_int(&p, (int64_t)now);
	r = pq_cmd((struct store_pg *)s,
	    "DELETE FROM sessions WHERE expires <= $1", &p, &changes,
	    "write sessions");
	*n = (uint64_t)changes;
	return r;
}

static int
op_session_delete(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN])
{
	struct pq_params p = {0};
	int r, changes = 0;

	p_blob(&p, hash, STORE_TOKEN_HASH_LEN);
	if ((r = pq_cmd((struct store_pg *)s,
		 "DELETE FROM sessions WHERE token_hash = $1", &p, &changes,
		 "write sessions")) != 0)
		return r;
	return changes == 1 ? 0 : ERR_NOT_FOUND;
}

static int
op_identity_get(
    struct store *s, const char *user, char **issuer, char **subject)
{
	struct pq_params p = {0};
	PGresult *res = NULL;
	int r = ERR_INTERNAL;

	*issuer = *subject = NULL;
	p_text(&p, user);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT issuer, subject FROM identities WHERE \"user\" = $1", &p,
	    &res, "read identities"));
	ENSURE(PQntuples(res) == 1, ERR_NOT_FOUND);
	TRY(dupval(issuer, res, 0, 0));
	TRY(dupval(subject, res, 0, 1));
	r = 0;
out:
	if (r != 0) {
		free(*issuer);
		free(*subject);
		*issuer = *subject = NULL;
	}
	PQclear(res);
	return r;
}

static int
op_identity_insert(struct store *s, const char *user, const char *issuer,
    const char *subject, uint64_t now)
{
	struct pq_params p = {0};

	p_text(&p, user);
	p_text(&p, issuer);
	p_text(&p, subject);
	p_int(&p, (int64_t)now);
	return pq_cmd((struct store_pg *)s,
	    "INSERT INTO identities(\"user\", issuer, subject, created)"
	    " VALUES($1, $2, $3, $4)",
	    &p, NULL, "write identities");
}

/* ---- hosts ---- */

#define HOST_COLS "name, principals, disabled, created, token_hash"

static int
host_from_row(PGresult *res, int i, struct store_host **out)
{
	struct store_host *h = NULL;
	unsigned char *b = NULL;
	size_t bl = 0;
	int r = ERR_INTERNAL;

	*out = NULL;
	ENSURE((h = calloc(1, sizeof(*h))) != NULL, ERR_ALLOC);
	TRY(dupval(&h->name, res, i, 0));
	TRY(dupval(&h->principals, res, i, 1));
	h->disabled = val_i64(res, i, 2) != 0;
	h->created = (uint64_t)val_i64(res, i, 3);
	b = val_blob(res, i, 4, &bl);
	if (b != NULL && bl == STORE_TOKEN_HASH_LEN) {
		memcpy(h->token_hash, b, STORE_TOKEN_HASH_LEN);
		h->has_token = 1;
	}
	*out = h;
	h = NULL;
	r = 0;
out:
	PQfreemem(b);
	store_host_free(h);
	return r;
}

static int
host_one(struct store_pg *l, const char *sql, struct pq_params *p,
    struct store_host **out)
{
	PGresult *res = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	TRY(pq_run(l, sql, p, &res, "read hosts"));
	ENSURE(PQntuples(res) > 0, ERR_NOT_FOUND);
	TRY(host_from_row(res, 0, out));
	r = 0;
out:
	PQclear(res);
	return r;
}

static int
op_host_get(struct store *s, const char *name, struct store_host **out)
{
	struct pq_params p = {0};

	p_text(&p, name);
	return host_one((struct store_pg *)s,
	    "SELECT " HOST_COLS " FROM hosts WHERE name = $1", &p, out);
}

static int
op_host_by_token(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
    struct store_host **out)
{
	struct pq_params p = {0};

	p_blob(&p, hash, STORE_TOKEN_HASH_LEN);
	return host_one((struct store_pg *)s,
	    "SELECT " HOST_COLS " FROM hosts WHERE token_hash = $1", &p, out);
}

static int
op_host_insert(struct store *s, const char *name, const char *principals,
    const uint8_t hash[STORE_TOKEN_HASH_LEN], uint64_t created)
{
	struct pq_params p = {0};

	p_text(&p, name);
	p_text(&p, principals);
	p_blob(&p, hash, STORE_TOKEN_HASH_LEN);
	p_int(&p, (int64_t)created);
	return one_row_cmd((struct store_pg *)s,
	    "INSERT INTO hosts(name, principals, token_hash, disabled,"
	    " created) VALUES($1, $2, $3, 0, $4)",
	    &p);
}

static int
op_host_disable(struct store *s, const char *name)
{
	struct pq_params p = {0};

	p_text(&p, name);
	return one_row_cmd((struct store_pg *)s,
	    "UPDATE hosts SET disabled = 1 WHERE name = $1", &p);
}

static int
op_hosts_each(struct store *s, store_host_fn fn, void *arg)
{
	struct store_host *h = NULL;
	PGresult *res = NULL;
	int r = ERR_INTERNAL, i;

	TRY(pq_run((struct store_pg *)s,
	    "SELECT " HOST_COLS " FROM hosts ORDER BY name COLLATE \"C\"", NULL,
	    &res, "read hosts"));
	for (i = 0; i < PQntuples(res); i++) {
		TRY(host_from_row(res, i, &h));
		TRY(fn(arg, h));
		store_host_free(h);
		h = NULL;
	}
	r = 0;
out:
	store_host_free(h);
	PQclear(res);
	return r;
}

#define HOST_KEY_COLS "key_type, key_blob, key_fp, bound"

static int
host_key_from_row(PGresult *res, int i, struct store_host_key **out)
{
	struct store_host_key *k = NULL;
	unsigned char *b = NULL;
	size_t bl = 0;
	int r = ERR_INTERNAL;

	*out = NULL;
	ENSURE((k = calloc(1, sizeof(*k))) != NULL, ERR_ALLOC);
	b = val_blob(res, i, 1, &bl);
	ENSURE(b != NULL && bl > 0 && bl <= STORE_KEY_BLOB_MAX, ERR_DB);
	TRY(dupval(&k->key_type, res, i, 0));
	ENSURE((k->blob = malloc(bl)) != NULL, ERR_ALLOC);
	memcpy(k->blob, b, bl);
	k->len = bl;
	TRY(dupval(&k->key_fp, res, i, 2));
	k->bound = (uint64_t)val_i64(res, i, 3);
	*out = k;
	k = NULL;
	r = 0;
out:
	PQfreemem(b);
	store_host_key_free(k);
	return r;
}

static int
op_host_key_get(struct store *s, const char *name, const char *key_type,
    struct store_host_key **out)
{
	struct pq_params p = {0};
	PGresult *res = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	p_text(&p, name);
	p_text(&p, key_type);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT " HOST_KEY_COLS " FROM host_keys WHERE name = $1 AND"
	    " key_type = $2",
	    &p, &res, "read host_keys"));
	ENSURE(PQntuples(res) == 1, ERR_NOT_FOUND);
	TRY(host_key_from_row(res, 0, out));
	r = 0;
out:
	PQclear(res);
	return r;
}

static int
op_host_key_bind(struct store *s, const char *name, const char *key_type,
    const uint8_t *blob, size_t len, const char *key_fp, uint64_t when)
{
	struct pq_params p = {0};

	p_text(&p, name);
	p_text(&p, key_type);
	p_blob(&p, blob, len);
	p_text(&p, key_fp);
	p_int(&p, (int64_t)when);
	return pq_cmd((struct store_pg *)s,
	    "INSERT INTO host_keys(name, key_type, key_blob, key_fp, bound)"
	    " VALUES($1, $2, $3, $4, $5)",
	    &p, NULL, "write host_keys");
}

static int
op_host_reset(struct store *s, const char *name)
{
	struct pq_params p = {0};

	p_text(&p, name);
	return pq_cmd((struct store_pg *)s,
	    "DELETE FROM host_keys WHERE name = $1", &p, NULL,
	    "write host_keys");
}

static int
op_host_keys_each(
    struct store *s, const char *name, store_host_key_fn fn, void *arg)
{
	struct store_host_key *k = NULL;
	struct pq_params p = {0};
	PGresult *res = NULL;
	int r = ERR_INTERNAL, i;

	p_text(&p, name);
	TRY(pq_run((struct store_pg *)s,
	    "SELECT " HOST_KEY_COLS " FROM host_keys WHERE name = $1 ORDER BY"
	    " key_type COLLATE \"C\"",
	    &p, &res, "read host_keys"));
	for (i = 0; i < PQntuples(res); i++) {
		TRY(host_key_from_row(res, i, &k));
		TRY(fn(arg, k));
		store_host_key_free(k);
		k = NULL;
	}
	r = 0;
out:
	store_host_key_free(k);
	PQclear(res);
	return r;
}

/* ---- events by subject ---- */

/* At most 4 types, as a text array (one statement for any count). */
static int
op_event_subject_exists(
    struct store *s, const char *subject, const char *const *types, int *found)
{
	struct pq_params p = {0};
	json_t *arr = NULL;
	char *arrj = NULL;
	int64_t v = 0;
	size_t n = 0;
	int r = ERR_INTERNAL;

	*found = 0;
	while (types != NULL && types[n] != NULL)
		n++;
	ENSURE(n <= 4, ERR_INVALID_ARG);
	ENSURE((arr = json_array()) != NULL, ERR_ALLOC);
	for (size_t i = 0; i < n; i++)
		ENSURE(json_array_append_new(arr, json_string(types[i])) == 0,
		    ERR_ALLOC);
	ENSURE((arrj = json_dumps(arr, JSON_COMPACT)) != NULL, ERR_ALLOC);
	p_text(&p, subject);
	p_int(&p, (int64_t)n);
	p_text(&p, arrj);
	TRY(query_i64((struct store_pg *)s,
	    "SELECT 1 FROM events WHERE subject = $1 AND ($2::bigint = 0 OR"
	    " type IN (SELECT jsonb_array_elements_text($3::jsonb))) LIMIT 1",
	    &p, &v, "read events"));
	*found = v == 1;
	r = 0;
out:
	json_decref(arr);
	free(arrj);
	return r;
}

static int
op_event_find(
    struct store *s, const char *type, const char *subject, int64_t *seq)
{
	struct pq_params p = {0};
	int r;

	*seq = 0;
	p_text(&p, type);
	p_text(&p, subject);
	r = query_i64((struct store_pg *)s,
	    "SELECT seq FROM events WHERE type = $1 AND subject = $2"
	    " ORDER BY seq LIMIT 1",
	    &p, seq, "read events");
	if (r == 0 && *seq <= 0)
		r = ERR_NOT_FOUND;
	return r;
}

/* ---- copying a ledger in (ledger_copy()) ---- */

static int
op_row_insert(
    struct store *s, enum store_table t, const struct store_cell *row, size_t n)
{
	struct store_pg *l = (struct store_pg *)s;
	const struct store_table_def *def = store_table_def(t);
	struct pq_params p = {0};
	char sql[512];
	size_t i, k;
	int r = ERR_INTERNAL;

	if (def == NULL || n != def->ncols || n > PG_PARAMS_MAX || !is_owner(l))
		return ERR_INVALID_ARG;
	k = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s(%s) VALUES($1",
	    def->name, def->cols);
	for (i = 1; i < n && k + 6 < sizeof(sql); i++)
		k +=
		    (size_t)snprintf(sql + k, sizeof(sql) - k, ", $%zu", i + 1);
	(void)snprintf(sql + k, sizeof(sql) - k, ")");
	for (i = 0; i < n; i++) {
		const struct store_cell *c = &row[i];

		if (c->type == STORE_CELL_INTEGER)
			p_int(&p, c->i);
		else if (c->type == STORE_CELL_FLOAT) {
			(void)snprintf(
			    p.num[p.n], sizeof(p.num[p.n]), "%.17g", c->d);
			p_text(&p, p.num[p.n]);
		} else if (c->type == STORE_CELL_TEXT)
			p_text(&p, c->text);
		else if (c->type == STORE_CELL_BLOB)
			p_blob(&p, c->blob, c->len);
		else
			p_null(&p);
	}
	TRY(pq_cmd(l, sql, &p, NULL, def->name));
	/* Request ids were given: the next new one comes after them. */
	if (t == STORE_TABLE_REQUESTS)
		TRY(pq_cmd(l,
		    "SELECT setval(pg_get_serial_sequence('requests', 'id'),"
		    " max(id)) FROM requests",
		    NULL, NULL, "requests"));
	r = 0;
out:
	return r;
}

static int
op_counter_raise(struct store *s, enum store_counter c, uint64_t v)
{
	struct store_pg *l = (struct store_pg *)s;
	struct pq_params p = {0};

	if ((c != STORE_COUNTER_SERIAL && c != STORE_COUNTER_KRL_VERSION) ||
	    v > INT64_MAX || !is_owner(l))
		return ERR_INVALID_ARG;
	if (v == 0)
		return 0;
	p_int(&p, (int64_t)v);
	if (c == STORE_COUNTER_SERIAL)
		return pq_cmd(l,
		    "SELECT setval('cert_serial', $1) FROM cert_serial WHERE"
		    " NOT is_called OR last_value < $1",
		    &p, NULL, "raise the serial");
	return pq_cmd(l,
	    "UPDATE meta SET value = $1::text WHERE key = 'krl_version' AND"
	    " value::bigint < $1",
	    &p, NULL, "raise the krl version");
}

/* ---- the Merkle tree and checkpoints ---- */

static int
op_merkle_size(struct store *s, uint64_t *out)
{
	struct store_pg *l = (struct store_pg *)s;
	PGresult *res = NULL;
	int64_t v;
	int r = ERR_INTERNAL;

	*out = 0;
	TRY(pq_run(l,
	    "SELECT idx FROM merkle_nodes WHERE level = 0 ORDER BY idx DESC"
	    " LIMIT 1",
	    NULL, &res, "read merkle_nodes"));
	if (PQntuples(res) == 1) {
		v = val_i64(res, 0, 0);
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
	PQclear(res);
	return r;
}

static int
op_merkle_node_get(
    struct store *s, unsigned level, uint64_t idx, uint8_t out[32])
{
	struct store_pg *l = (struct store_pg *)s;
	struct pq_params p = {0};
	PGresult *res = NULL;
	unsigned char *h = NULL;
	size_t hl = 0;
	int r = ERR_INTERNAL;

	memset(out, 0, 32);
	if (level > 63 || idx > INT64_MAX)
		return ERR_INVALID_ARG;
	p_int(&p, (int64_t)level);
	p_int(&p, (int64_t)idx);
	TRY(pq_run(l,
	    "SELECT hash FROM merkle_nodes WHERE level = $1 AND idx = $2", &p,
	    &res, "read merkle_nodes"));
	ENSURE(PQntuples(res) == 1, ERR_NOT_FOUND);
	h = val_blob(res, 0, 0, &hl);
	if (h == NULL || hl != 32) {
		set_msg(l, "merkle_nodes (%u, %" PRIu64 "): not a 32-byte hash",
		    level, idx);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	memcpy(out, h, 32);
	r = 0;
out:
	PQfreemem(h);
	PQclear(res);
	return r;
}

/* Inside the unit, which holds the chain head: two replicas never write
 * the nodes of one leaf. */
static int
op_merkle_nodes_put(
    struct store *s, uint64_t leaf, const uint8_t (*made)[32], size_t n)
{
	struct store_pg *l = (struct store_pg *)s;
	struct pq_params p;
	int r = ERR_INTERNAL;
	size_t k;

	if (!is_owner(l)) {
		set_msg(l, "merkle_nodes_put outside a transaction");
		return ERR_INVALID_ARG;
	}
	if (leaf > INT64_MAX || n > 64)
		return ERR_INVALID_ARG;
	for (k = 0; k < n; k++) {
		memset(&p, 0, sizeof(p));
		p_int(&p, (int64_t)k);
		p_int(&p, (int64_t)(leaf >> k));
		p_blob(&p, made[k], 32);
		TRY(pq_cmd(l,
		    "INSERT INTO merkle_nodes(level, idx, hash) VALUES($1, $2,"
		    " $3)",
		    &p, NULL, "write merkle_nodes"));
	}
	r = 0;
out:
	return r;
}

/* Inside the unit (it holds the chain head): the tree size it signs is
 * the one every replica sees, and a second checkpoint of that size
 * fails on the primary key. */
static int
op_checkpoint_insert(struct store *s, const struct store_checkpoint *c)
{
	struct pq_params p = {0};

	if (c->size > INT64_MAX || c->time > INT64_MAX)
		return ERR_INVALID_ARG;
	p_int(&p, (int64_t)c->size);
	p_blob(&p, c->root, 32);
	p_text(&p, c->note);
	p_text(&p, c->sig);
	p_int(&p, (int64_t)c->time);
	return pq_cmd((struct store_pg *)s,
	    "INSERT INTO checkpoints(tree_size, root, note, sig, time)"
	    " VALUES($1, $2, $3, $4, $5)",
	    &p, NULL, "write checkpoints");
}

#define CHECKPOINT_COLS                                                        \
	"SELECT tree_size, root, note, sig, time FROM checkpoints"

/* Row i of res into c (strings new). */
static int
checkpoint_row(
    struct store_pg *l, PGresult *res, int i, struct store_checkpoint *c)
{
	unsigned char *h = NULL;
	size_t hl = 0;
	int64_t v = val_i64(res, i, 0);
	int r = ERR_INTERNAL;

	h = val_blob(res, i, 1, &hl);
	if (v < 0 || h == NULL || hl != 32) {
		set_msg(l, "checkpoints %" PRId64 ": malformed row", v);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	c->size = (uint64_t)v;
	memcpy(c->root, h, 32);
	TRY(dupval(&c->note, res, i, 2));
	TRY(dupval(&c->sig, res, i, 3));
	v = val_i64(res, i, 4);
	c->time = v < 0 ? 0 : (uint64_t)v;
	r = 0;
out:
	PQfreemem(h);
	return r;
}

static int
op_checkpoint_latest(struct store *s, struct store_checkpoint *c)
{
	struct store_pg *l = (struct store_pg *)s;
	PGresult *res = NULL;
	int r = ERR_INTERNAL;

	memset(c, 0, sizeof(*c));
	TRY(pq_run(l, CHECKPOINT_COLS " ORDER BY tree_size DESC LIMIT 1", NULL,
	    &res, "read checkpoints"));
	ENSURE(PQntuples(res) == 1, ERR_NOT_FOUND);
	TRY(checkpoint_row(l, res, 0, c));
	r = 0;
out:
	PQclear(res);
	if (r != 0)
		store_checkpoint_clear(c);
	return r;
}

static int
op_checkpoints_each(struct store *s, store_checkpoint_fn fn, void *arg)
{
	struct store_pg *l = (struct store_pg *)s;
	struct store_checkpoint c;
	PGresult *res = NULL;
	int r = ERR_INTERNAL, i;

	memset(&c, 0, sizeof(c));
	TRY(pq_run(l, CHECKPOINT_COLS " ORDER BY tree_size", NULL, &res,
	    "read checkpoints"));
	for (i = 0; i < PQntuples(res); i++) {
		TRY(checkpoint_row(l, res, i, &c));
		TRY(fn(arg, &c));
		store_checkpoint_clear(&c);
	}
	r = 0;
out:
	store_checkpoint_clear(&c);
	PQclear(res);
	return r;
}

static const struct store_ops pg_ops = {
    .name = "postgres",
    .close = op_close,
    .tx_begin = op_tx_begin,
    .tx_commit = op_tx_commit,
    .tx_rollback = op_tx_rollback,
    .tx_active = op_tx_active,
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
    .serial_reserve = op_serial_reserve,
    .request_id_reserve = op_request_id_reserve,
    .counter_get = op_counter_get,
    .changed = op_changed,
    .user_get = op_user_get,
    .user_by_token = op_user_by_token,
    .user_insert = op_user_insert,
    .user_token_set = op_user_token_set,
    .user_disable = op_user_disable,
    .users_each = op_users_each,
    .certs_match = op_certs_match,
    .request_exists = op_request_exists,
    .cert_revoke = op_cert_revoke,
    .revoked_key_insert = op_revoked_key_insert,
    .krl_each = op_krl_each,
    .krl_latest = op_krl_latest,
    .request_get = op_request_get,
    .request_insert = op_request_insert,
    .request_state_set = op_request_state_set,
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
    .notify_cursor_get = op_notify_cursor_get,
    .notify_cursor_put = op_notify_cursor_put,
    .notify_cursor_advance = op_notify_cursor_advance,
    .notify_lease_take = op_notify_lease_take,
    .notify_lease_release = op_notify_lease_release,
    .user_groups_set = op_user_groups_set,
    .session_insert = op_session_insert,
    .session_get = op_session_get,
    .sessions_purge = op_sessions_purge,
    .session_delete = op_session_delete,
    .identity_get = op_identity_get,
    .identity_insert = op_identity_insert,
    .event_subject_exists = op_event_subject_exists,
    .request_ttl_set = op_request_ttl_set,
    .host_get = op_host_get,
    .host_by_token = op_host_by_token,
    .host_insert = op_host_insert,
    .host_key_get = op_host_key_get,
    .host_key_bind = op_host_key_bind,
    .host_keys_each = op_host_keys_each,
    .host_reset = op_host_reset,
    .host_disable = op_host_disable,
    .hosts_each = op_hosts_each,
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
