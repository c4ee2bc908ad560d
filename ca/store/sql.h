/*
 * sql.h: the sqlite statement helpers of store/sqlite.c, on the ledger's
 * connection, for the tests (which read the file back, fail a commit
 * with a hook, or count rows).  No domain module includes it: they use
 * the typed operations of store.h.
 *
 * ledger_db(): the connection, borrowed (tests use it too).  A failed
 * helper maps sqlite's result code to ERR_BUSY (busy or locked) or
 * ERR_DB and records sqlite's message (after "what: " when what is not
 * NULL) for ledger_errmsg().
 *   ledger_sql_prepare(): *st new; sqlite3_finalize() it (NULL is fine).
 *   ledger_sql_cached(): *st a statement prepared once per ledger
 *     (SQLITE_PREPARE_PERSISTENT, keyed by the SQL text) and lent to the
 *     caller until ledger_sql_release(), which resets it and clears its
 *     bindings; never sqlite3_finalize() it (ledger_close() does).  A
 *     statement lent out is not lent again: another thread (readers
 *     between transactions run concurrently) or a nested use of the same
 *     SQL gets a fresh one, which ledger_sql_release() finalizes.
 *   ledger_sql_release(): give back a statement of either function
 *     (NULL is fine): cached ones are reset, others finalized.
 *   ledger_sql_err(): that mapping, for a failed step.
 *   ledger_sql_bind_int/_text/_blob(): bind parameter ?i (from 1).  Text
 *     and blobs are borrowed (SQLITE_STATIC): they must outlive the last
 *     step; a NULL text binds SQL NULL; a blob over INT_MAX bytes is
 *     ERR_TOO_LARGE.
 *   ledger_sql_done(): steps a statement that returns no rows; *changes
 *     (may be NULL) gets the number of rows it changed.
 *   ledger_sql_row(): steps a query once; *found is 1 when it gave a
 *     row (read its columns next), 0 when it gave none.
 *   ledger_sql_text(): column i, borrowed and NUL-terminated ("" for
 *     NULL), valid until the next step or finalize.
 */
#ifndef JITCA_STORE_SQL_H
#define JITCA_STORE_SQL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "signer/err.h"

struct ledger;

sqlite3 *ledger_db(struct ledger *l);
MUST_CHECK int ledger_sql_prepare(
    struct ledger *l, sqlite3_stmt **st, const char *sql);
MUST_CHECK int ledger_sql_cached(
    struct ledger *l, sqlite3_stmt **st, const char *sql);
void ledger_sql_release(struct ledger *l, sqlite3_stmt *st);
int ledger_sql_err(struct ledger *l, int rc, const char *what);
MUST_CHECK int ledger_sql_done(
    struct ledger *l, sqlite3_stmt *st, int *changes);
MUST_CHECK int ledger_sql_bind_int(
    struct ledger *l, sqlite3_stmt *st, int i, int64_t v);
MUST_CHECK int ledger_sql_bind_text(
    struct ledger *l, sqlite3_stmt *st, int i, const char *s);
MUST_CHECK int ledger_sql_bind_blob(
    struct ledger *l, sqlite3_stmt *st, int i, const void *p, size_t len);
MUST_CHECK int ledger_sql_row(struct ledger *l, sqlite3_stmt *st, int *found);
const char *ledger_sql_text(sqlite3_stmt *st, int i);

#endif /* JITCA_STORE_SQL_H */
