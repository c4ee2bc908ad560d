/*
 * test_walbuf.c: the WAL-gathering VFS (ca/store/walbuf.h) under the
 * ledger's writer.  Committed frames are in the file when the COMMIT
 * returns: another process (the sqlite3 program, the default VFS) reads
 * them while the ledger is still open, for a small batch, for one over
 * the 124 KiB a single write may carry, and for one over the gathering
 * buffer's 1 MiB; a rolled-back transaction leaves nothing; the VFS is
 * registered by name and is not the default.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "ca/ledger.h"
#include "ca/store/walbuf.h"
#include "tests/lib/testutil.h"
#include "tests/unit/ca/ca_fixture.h"

static char *dir, *dbpath;
static struct ledger *l;

static void
setup(void)
{
	fx_sqlite3_required();
	dir = tu_tmpdir();
	dbpath = tu_fmt("%s/ledger.db", dir);
	cr_assert_eq(ledger_open(&l, dbpath, 1), 0);
}

static void
teardown(void)
{
	ledger_close(l);
	tu_rmtree(dir);
	free(dir);
	free(dbpath);
}

TestSuite(walbuf, .init = setup, .fini = teardown);

/* sql through the sqlite3 program (another process, its own VFS). */
static void
expect_cli(const char *sql, const char *want)
{
	char *out = fx_sqlite3(dbpath, sql);

	cr_assert_str_eq(out, want, "%s", sql);
	free(out);
}

/* One transaction of the ledger's writer: n events, and rows blobs of
 * size bytes each in t; committed when commit is 1, else rolled back. */
static void
write_tx(int n, int rows, int size, int commit)
{
	char *sql = tu_fmt("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT "
			   "i + 1 FROM k WHERE i < %d) INSERT INTO t SELECT "
			   "randomblob(%d) FROM k",
	    rows, size);
	int i;

	cr_assert_eq(ledger_begin(l), 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(
		    ledger_append(l, NULL, "test.event", "alice", "s", NULL), 0,
		    "%s", ledger_errmsg(l));
	if (rows > 0)
		cr_assert_eq(sqlite3_exec(ledger_db(l), sql, NULL, NULL, NULL),
		    SQLITE_OK);
	if (commit)
		cr_assert_eq(ledger_commit(l), 0, "%s", ledger_errmsg(l));
	else
		ledger_rollback(l);
	free(sql);
}

Test(walbuf, registered_by_name_not_as_the_default)
{
	sqlite3_vfs *v = sqlite3_vfs_find("jitca-walbuf");

	cr_assert_str_eq(walbuf_vfs(), "jitca-walbuf");
	cr_assert_not_null(v);
	cr_assert_str_neq(sqlite3_vfs_find(NULL)->zName, "jitca-walbuf");
	cr_assert_eq(v->szOsFile > sqlite3_vfs_find(NULL)->szOsFile, 1);
}

Test(walbuf, committed_frames_are_in_the_file_when_commit_returns)
{
	cr_assert_eq(sqlite3_exec(ledger_db(l), "CREATE TABLE t(b BLOB)", NULL,
			 NULL, NULL),
	    SQLITE_OK);
	/* A batch of a few pages. */
	write_tx(3, 2, 100, 1);
	expect_cli("SELECT count(*), sum(length(b)) FROM t;"
		   "SELECT count(*) FROM events;",
	    "2|200\n3\n");
	/* About 300 KiB: the gathered frames go out in several writes. */
	write_tx(1, 100, 3000, 1);
	expect_cli("SELECT count(*), sum(length(b)) FROM t;"
		   "SELECT count(*) FROM events;",
	    "102|300200\n4\n");
	/* Over the 1 MiB buffer: it is written out as the frames come. */
	write_tx(2, 800, 3000, 1);
	expect_cli("SELECT count(*), sum(length(b)) FROM t;"
		   "SELECT count(*) FROM events; PRAGMA integrity_check;",
	    "902|2700200\n6\nok\n");
	/* Rolled back: nothing of it. */
	write_tx(5, 50, 3000, 0);
	expect_cli("SELECT count(*), sum(length(b)) FROM t;"
		   "SELECT count(*) FROM events;",
	    "902|2700200\n6\n");
	/* And the writer reads back what it gathered and wrote. */
	write_tx(1, 1, 10, 1);
	expect_cli(
	    "SELECT count(*) FROM t; SELECT count(*) FROM events;", "903\n7\n");
}

/* Reopened (the WAL recovered from the file as sqlite wrote it), the
 * chain of events that went through the gathering verifies. */
Test(walbuf, the_ledger_verifies_after_reopening)
{
	char err[LEDGER_ERR_LEN];
	int64_t count = -1, bad = -1;
	int i;

	for (i = 0; i < 40; i++) {
		cr_assert_eq(ledger_begin(l), 0);
		cr_assert_eq(
		    ledger_append(l, NULL, "test.event", "alice", "s", NULL),
		    0);
		cr_assert_eq(ledger_commit(l), 0);
	}
	ledger_close(l);
	l = NULL;
	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	cr_assert_eq(ledger_verify(l, &count, &bad, err), 0, "%s", err);
	cr_assert_eq(count, 40);
	cr_assert_eq(bad, 0);
}
