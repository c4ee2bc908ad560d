/*
 * test_sqlite.c: the group commit of ca/store/sqlite.c.  Units of work
 * from many threads share COMMITs and all land, in one intact chain; a
 * COMMIT that fails fails every unit it held and leaves none of their
 * rows; readers never see a unit before its COMMIT; one thread alone gets
 * one COMMIT per unit; the first unit of a COMMIT returns after it; a
 * rollback hands on to the next writer, and units rolled back inside a
 * shared batch leave one intact chain; a unit's savepoint journal stays
 * in memory.  Also the events' subject lookup (login reports) and its
 * index.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ca/ledger.h"
#include "ca/store/sql.h"
#include "ca/store/store.h"
#include "tests/lib/testutil.h"

#define THREADS 8
#define UNITS 150

static char *dir, *dbpath;
static struct ledger *l;

static void
setup(void)
{
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

TestSuite(group_commit, .init = setup, .fini = teardown);

static int
one_unit(const char *actor)
{
	int r;

	if ((r = ledger_begin(l)) != 0)
		return r;
	if ((r = ledger_append(l, NULL, "test.unit", actor, "s", NULL)) != 0) {
		ledger_rollback(l);
		return r;
	}
	return ledger_commit(l);
}

static int64_t
event_count(void)
{
	sqlite3_stmt *st;
	int64_t n;

	ledger_read_begin(l);
	cr_assert_eq(sqlite3_prepare_v2(ledger_db(l),
			 "SELECT count(*) FROM events", -1, &st, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	ledger_read_end(l);
	return n;
}

static void *
writer(void *arg)
{
	char actor[32];
	int i;

	snprintf(actor, sizeof(actor), "t%d", (int)(intptr_t)arg);
	for (i = 0; i < UNITS; i++)
		cr_assert_eq(one_unit(actor), 0);
	return NULL;
}

Test(group_commit, concurrent_units_share_commits_and_all_land)
{
	pthread_t t[THREADS];
	struct ledger_stats st;
	char errbuf[LEDGER_ERR_LEN];
	int64_t count = 0, bad = 0;
	int i;

	for (i = 0; i < THREADS; i++)
		cr_assert_eq(
		    pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i),
		    0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ledger_stats_get(l, &st);
	cr_assert_eq(st.units, THREADS * UNITS);
	/* Units waited for each other's fsync: fewer COMMITs than units. */
	cr_assert_lt(st.commits, st.units, "commits %llu units %llu",
	    (unsigned long long)st.commits, (unsigned long long)st.units);
	cr_assert_gt(st.max_batch, 1);
	cr_assert_leq(st.max_batch, LEDGER_BATCH_MAX);
	cr_assert_eq(event_count(), THREADS * UNITS);
	cr_assert_eq(ledger_verify(l, &count, &bad, errbuf), 0, "%s", errbuf);
	cr_assert_eq(count, THREADS * UNITS);
}

/* Every third unit appends two events and rolls back (ROLLBACK TO its
 * savepoint, in a batch that goes on): the next unit of the batch must
 * chain on the tail that is left, not on the one it undid. */
static void *
writer_some_undone(void *arg)
{
	char actor[32];
	int i, r;

	snprintf(actor, sizeof(actor), "u%d", (int)(intptr_t)arg);
	for (i = 0; i < UNITS; i++) {
		if (i % 3 != 0) {
			cr_assert_eq(one_unit(actor), 0);
			continue;
		}
		cr_assert_eq(ledger_begin(l), 0);
		r = ledger_append(l, NULL, "test.undone", actor, "s", NULL);
		cr_assert_eq(r, 0);
		r = ledger_append(l, NULL, "test.undone", actor, "s", NULL);
		cr_assert_eq(r, 0);
		ledger_rollback(l);
	}
	return NULL;
}

Test(group_commit, units_rolled_back_inside_a_batch_leave_one_chain)
{
	pthread_t t[THREADS];
	struct ledger_stats st;
	char errbuf[LEDGER_ERR_LEN];
	int64_t count = 0, bad = 0, kept = THREADS * (UNITS - UNITS / 3);
	int i;

	for (i = 0; i < THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, writer_some_undone,
				 (void *)(intptr_t)i),
		    0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ledger_stats_get(l, &st);
	cr_assert_gt(st.max_batch, 1);
	cr_assert_eq(event_count(), kept);
	cr_assert_eq(ledger_verify(l, &count, &bad, errbuf), 0, "%s", errbuf);
	cr_assert_eq(count, kept);
	cr_assert_eq(bad, 0);
}

Test(group_commit, one_thread_commits_every_unit)
{
	struct ledger_stats st;
	int i;

	for (i = 0; i < 20; i++)
		cr_assert_eq(one_unit("solo"), 0);
	ledger_stats_get(l, &st);
	cr_assert_eq(st.units, 20);
	cr_assert_eq(st.commits, 20);
	cr_assert_eq(st.max_batch, 1);
}

/* A thread that announces each unit (as a signing request does) but is
 * alone: nobody else is on the way, so no batch ever waits. */
Test(group_commit, announced_lone_writer_never_holds)
{
	struct ledger_stats st;
	int i;

	for (i = 0; i < 20; i++) {
		ledger_announce(l);
		cr_assert_eq(one_unit("solo"), 0);
		ledger_unannounce(l); /* already ended by the unit: no-op */
	}
	ledger_stats_get(l, &st);
	cr_assert_eq(st.units, 20);
	cr_assert_eq(st.commits, 20);
	cr_assert_eq(st.holds, 0);
	cr_assert_eq(st.hold_timeouts, 0);
}

static pthread_barrier_t hold_bar;

/* Announces a unit, lets the main thread commit one, and never comes. */
static void *
announcer_that_never_comes(void *arg)
{
	(void)arg;
	ledger_announce(l);
	pthread_barrier_wait(&hold_bar); /* announced */
	pthread_barrier_wait(&hold_bar); /* main committed */
	ledger_unannounce(l);
	return NULL;
}

/* The batch waits for the announced unit at most STORE_HOLD_US, then
 * commits without it: the commit succeeds, once held, once timed out. */
Test(group_commit, a_hold_for_a_unit_that_never_comes_ends)
{
	struct ledger_stats st;
	pthread_t t;

	cr_assert_eq(pthread_barrier_init(&hold_bar, NULL, 2), 0);
	cr_assert_eq(
	    pthread_create(&t, NULL, announcer_that_never_comes, NULL), 0);
	pthread_barrier_wait(&hold_bar);
	cr_assert_eq(one_unit("main"), 0);
	ledger_stats_get(l, &st);
	cr_assert_eq(st.units, 1);
	cr_assert_eq(st.commits, 1);
	cr_assert_eq(st.holds, 1);
	cr_assert_eq(st.hold_timeouts, 1);
	cr_assert_eq(event_count(), 1);
	pthread_barrier_wait(&hold_bar);
	pthread_join(t, NULL);
	/* Nobody announced any more: no hold. */
	cr_assert_eq(one_unit("main"), 0);
	ledger_stats_get(l, &st);
	cr_assert_eq(st.holds, 1);
	cr_assert_eq(st.commits, 2);
	pthread_barrier_destroy(&hold_bar);
}

/* Announces, waits until the main thread's batch holds for it, then
 * runs its unit. */
static void *
announcer_that_comes(void *arg)
{
	struct ledger_stats st;

	(void)arg;
	ledger_announce(l);
	pthread_barrier_wait(&hold_bar);
	do
		ledger_stats_get(l, &st);
	while (st.holds == 0);
	cr_assert_eq(one_unit("late"), 0);
	return NULL;
}

/* The announced unit that arrives while the batch holds shares its
 * COMMIT; one that arrives too late (a loaded machine) gets its own.
 * Either way commits = 1 + hold_timeouts, both units land. */
Test(group_commit, an_announced_unit_joins_the_held_batch)
{
	struct ledger_stats st;
	pthread_t t;

	cr_assert_eq(pthread_barrier_init(&hold_bar, NULL, 2), 0);
	cr_assert_eq(pthread_create(&t, NULL, announcer_that_comes, NULL), 0);
	pthread_barrier_wait(&hold_bar);
	cr_assert_eq(one_unit("main"), 0);
	pthread_join(t, NULL);
	ledger_stats_get(l, &st);
	cr_assert_eq(st.units, 2);
	cr_assert_eq(st.holds, 1);
	cr_assert_leq(st.hold_timeouts, 1);
	cr_assert_eq(st.commits, 1 + st.hold_timeouts);
	cr_assert_eq(event_count(), 2);
	pthread_barrier_destroy(&hold_bar);
}

/* Thread A opens a unit, lets B queue behind it, then commits: both
 * units are in one COMMIT, which the hook makes fail. */
static int fail_commits;

static int
commit_hook(void *arg)
{
	(void)arg;
	return fail_commits;
}

static void *
second_writer(void *arg)
{
	*(int *)arg = one_unit("b");
	return NULL;
}

Test(group_commit, failed_commit_fails_every_unit_in_it)
{
	pthread_t tb;
	struct ledger_stats st;
	int rb = 1;

	cr_assert_eq(one_unit("before"), 0);
	sqlite3_commit_hook(ledger_db(l), commit_hook, NULL);
	fail_commits = 1;
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_append(l, NULL, "test.unit", "a", "s", NULL), 0);
	cr_assert_eq(pthread_create(&tb, NULL, second_writer, &rb), 0);
	usleep(300 * 1000); /* B is now waiting in ledger_begin */
	cr_assert_eq(ledger_commit(l), ERR_DB);
	pthread_join(tb, NULL);
	cr_assert_eq(rb, ERR_DB);
	ledger_stats_get(l, &st);
	cr_assert_eq(st.max_batch, 2);
	fail_commits = 0;
	/* Neither unit's row exists; the chain goes on from "before". */
	cr_assert_eq(event_count(), 1);
	cr_assert_eq(one_unit("after"), 0);
	cr_assert_eq(event_count(), 2);
}

static volatile int reader_done;
static int64_t reader_saw;

static void *
reader(void *arg)
{
	(void)arg;
	reader_saw = event_count();
	reader_done = 1;
	return NULL;
}

/* A reader runs on its own connection and snapshot: it does not wait
 * for the open unit, and sees only what was committed. */
Test(group_commit, readers_see_the_committed_rows_without_waiting)
{
	pthread_t tr;

	cr_assert_eq(one_unit("before"), 0);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_append(l, NULL, "test.unit", "a", "s", NULL), 0);
	cr_assert_eq(pthread_create(&tr, NULL, reader, NULL), 0);
	pthread_join(tr, NULL);
	cr_assert_eq(reader_done, 1);
	cr_assert_eq(reader_saw, 1);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(pthread_create(&tr, NULL, reader, NULL), 0);
	pthread_join(tr, NULL);
	cr_assert_eq(reader_saw, 2);
}

Test(group_commit, nesting_in_one_thread_is_refused)
{
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_begin(l), ERR_INVALID_ARG);
	ledger_rollback(l);
	/* Rolled back: a commit now has nothing to commit. */
	cr_assert_eq(ledger_commit(l), ERR_INVALID_ARG);
	cr_assert_eq(event_count(), 0);
}

/* event_subject_exists(): by subject and type, through the index, which
 * a file made without it gets at the next open. */
Test(group_commit, event_subject_exists_by_subject_and_type)
{
	static const char *const login[] = {
	    "session.login", "session.refused", NULL};
	static const char *const other[] = {"user.added", NULL};
	static const char *const five[] = {"a", "b", "c", "d", "e", NULL};
	sqlite3_stmt *st = NULL;
	int found = -1;

	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(
	    ledger_append(l, NULL, "session.login", "web-1", "login:ab", NULL),
	    0);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(store_event_subject_exists(
			 ledger_store(l), "login:ab", login, &found),
	    0);
	cr_assert_eq(found, 1);
	cr_assert_eq(store_event_subject_exists(
			 ledger_store(l), "login:ab", other, &found),
	    0);
	cr_assert_eq(found, 0);
	cr_assert_eq(store_event_subject_exists(
			 ledger_store(l), "login:ab", NULL, &found),
	    0);
	cr_assert_eq(found, 1);
	cr_assert_eq(store_event_subject_exists(
			 ledger_store(l), "login:cd", login, &found),
	    0);
	cr_assert_eq(found, 0);
	cr_assert_eq(store_event_subject_exists(
			 ledger_store(l), "login:ab", five, &found),
	    ERR_INVALID_ARG);
	/* The query uses the index. */
	cr_assert_eq(sqlite3_prepare_v2(ledger_db(l),
			 "EXPLAIN QUERY PLAN SELECT 1 FROM events WHERE "
			 "subject = 'x' LIMIT 1",
			 -1, &st, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert(strstr((const char *)sqlite3_column_text(st, 3),
		      "events_subject") != NULL,
	    "%s", sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	/* A schema 2 file without the index gets it when opened. */
	cr_assert_eq(sqlite3_exec(ledger_db(l), "DROP INDEX events_subject",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	ledger_close(l);
	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	cr_assert_eq(sqlite3_prepare_v2(ledger_db(l),
			 "SELECT count(*) FROM sqlite_master WHERE name = "
			 "'events_subject'",
			 -1, &st, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
}

/* Commits seen by the hook of the next tests (0: let them through). */
static int commits_seen;

static int
count_hook(void *arg)
{
	(void)arg;
	commits_seen++;
	return 0;
}

/*
 * A (the first unit of a shared COMMIT) returns from its commit only
 * after the COMMIT that holds it, which B, queued behind it, issues:
 * by then both units are committed, in one COMMIT.
 */
Test(group_commit, the_first_unit_returns_after_the_shared_commit)
{
	struct ledger_stats st;
	pthread_t tb;
	int rb = 1;

	cr_assert_eq(one_unit("before"), 0);
	sqlite3_commit_hook(ledger_db(l), count_hook, NULL);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_append(l, NULL, "test.unit", "a", "s", NULL), 0);
	cr_assert_eq(pthread_create(&tb, NULL, second_writer, &rb), 0);
	usleep(300 * 1000); /* B is now waiting in ledger_begin */
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(commits_seen, 1);
	cr_assert_eq(event_count(), 3);
	pthread_join(tb, NULL);
	cr_assert_eq(rb, 0);
	ledger_stats_get(l, &st);
	cr_assert_eq(st.units, 3);
	cr_assert_eq(st.commits, 2);
	cr_assert_eq(st.max_batch, 2);
	sqlite3_commit_hook(ledger_db(l), NULL, NULL);
}

/* A unit rolled back hands the transaction to the writer queued behind
 * it, whose unit then commits alone. */
Test(group_commit, a_rollback_hands_on_to_the_next_writer)
{
	struct ledger_stats st;
	pthread_t tb;
	int rb = 1;

	cr_assert_eq(one_unit("before"), 0);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_append(l, NULL, "test.unit", "a", "s", NULL), 0);
	cr_assert_eq(pthread_create(&tb, NULL, second_writer, &rb), 0);
	usleep(300 * 1000);
	ledger_rollback(l);
	pthread_join(tb, NULL);
	cr_assert_eq(rb, 0);
	cr_assert_eq(event_count(), 2);
	ledger_stats_get(l, &st);
	cr_assert_eq(st.units, 2);
	cr_assert_eq(st.commits, 2);
	cr_assert_eq(st.max_batch, 1);
}

/* Whether this process has one of sqlite's temporary files open (they
 * are unlinked at once: only /proc/self/fd still names them). */
static int
temp_file_open(void)
{
	char path[64], target[512];
	ssize_t n;
	int fd, found = 0;

	for (fd = 0; fd < 1024; fd++) {
		(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if ((n = readlink(path, target, sizeof(target) - 1)) < 0)
			continue;
		target[n] = '\0';
		if (strstr(target, "etilqs_") != NULL)
			found = 1;
	}
	return found;
}

static int64_t
query_one(const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	cr_assert_eq(
	    sqlite3_prepare_v2(ledger_db(l), sql, -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * A unit's savepoint journal stays in memory however much the unit
 * changes (sqlite spilled one over 64 KiB to a temporary file, a file
 * and its writes per issuance), and still rolls the unit back.
 */
Test(group_commit, a_unit_journals_in_memory_and_still_rolls_back)
{
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(sqlite3_exec(ledger_db(l),
			 "CREATE TABLE t(b BLOB);"
			 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT "
			 "i + 1 FROM n WHERE i < 64) INSERT INTO t SELECT "
			 "zeroblob(3000) FROM n",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(ledger_begin(l), 0);
	/* 64 pages that existed before the unit, 256 KiB of journal. */
	cr_assert_eq(sqlite3_exec(ledger_db(l),
			 "UPDATE t SET b = zeroblob(3001)", NULL, NULL, NULL),
	    SQLITE_OK);
	cr_assert_eq(query_one("SELECT sum(length(b)) FROM t"), 64 * 3001);
	cr_assert_eq(temp_file_open(), 0);
	ledger_rollback(l);
	cr_assert_eq(query_one("SELECT sum(length(b)) FROM t"), 64 * 3000);
	cr_assert_eq(one_unit("after"), 0);
	cr_assert_eq(event_count(), 1);
}

/*
 * ledger_run(): a unit of work given as a function.  run_unit appends
 * one event as actor, records the thread it ran in, and fails with
 * fail (after appending, so that the rollback has something to undo).
 * A unit with gate set waits for it to open before it returns.
 */
struct run_unit {
	const char *actor;
	int fail;
	volatile int *gate;
	pthread_t ran_in, caller;
	int rc;
};

static int
run_unit_fn(void *arg)
{
	struct run_unit *u = arg;
	int r;

	u->ran_in = pthread_self();
	if ((r = ledger_append(l, NULL, "test.unit", u->actor, "s", NULL)) != 0)
		return r;
	while (u->gate != NULL && !*u->gate)
		usleep(1000);
	return u->fail;
}

static void *
run_unit_thread(void *arg)
{
	struct run_unit *u = arg;

	u->caller = pthread_self();
	u->rc = ledger_run(l, run_unit_fn, u);
	return NULL;
}

/* The actors of the events, in order, comma-separated. */
static char *
event_actors(void)
{
	sqlite3_stmt *st;
	char *s = strdup(""), *n;

	ledger_read_begin(l);
	cr_assert_eq(
	    sqlite3_prepare_v2(ledger_db(l),
		"SELECT actor FROM events ORDER BY seq", -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		n = tu_fmt("%s%s%s", s, *s != '\0' ? "," : "",
		    (const char *)sqlite3_column_text(st, 0));
		free(s);
		s = n;
	}
	sqlite3_finalize(st);
	ledger_read_end(l);
	return s;
}

/*
 * A is in its unit (held at the gate) while B, C and D queue behind it
 * with ledger_run(); C fails.  A's thread runs B, C and D right after
 * its own unit: B and D land in A's COMMIT, C alone is undone and its
 * caller gets C's error; every caller returns once that is settled.
 */
Test(group_commit, queued_run_units_are_run_by_the_owner_in_one_commit)
{
	volatile int gate = 0;
	struct run_unit u[4] = {{"a", 0, &gate, 0, 0, -1},
	    {"b", 0, NULL, 0, 0, -1}, {"c", ERR_POLICY, NULL, 0, 0, -1},
	    {"d", 0, NULL, 0, 0, -1}};
	struct ledger_stats st;
	pthread_t t[4];
	char *actors, errbuf[LEDGER_ERR_LEN];
	int64_t count = 0, bad = 0;
	int i;

	cr_assert_eq(one_unit("before"), 0);
	sqlite3_commit_hook(ledger_db(l), count_hook, NULL);
	commits_seen = 0;
	for (i = 0; i < 4; i++) {
		cr_assert_eq(
		    pthread_create(&t[i], NULL, run_unit_thread, &u[i]), 0);
		usleep(200 * 1000); /* each queues behind the one before */
	}
	gate = 1;
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	sqlite3_commit_hook(ledger_db(l), NULL, NULL);
	cr_assert_eq(u[0].rc, 0);
	cr_assert_eq(u[1].rc, 0);
	cr_assert_eq(u[2].rc, ERR_POLICY);
	cr_assert_eq(u[3].rc, 0);
	for (i = 0; i < 4; i++)
		cr_assert(pthread_equal(u[i].ran_in, u[0].caller),
		    "unit %d ran in its own thread", i);
	cr_assert_eq(commits_seen, 1);
	actors = event_actors();
	cr_assert_str_eq(actors, "before,a,b,d");
	free(actors);
	/* D chained on B, not on C's undone event. */
	cr_assert_eq(ledger_verify(l, &count, &bad, errbuf), 0, "%s", errbuf);
	cr_assert_eq(count, 4);
	ledger_stats_get(l, &st);
	cr_assert_eq(st.units, 4); /* before, a, b, d */
	cr_assert_eq(st.commits, 2);
	cr_assert_eq(st.max_batch, 3);
}

/*
 * Units that queue while a batch commits form the next batch, and the
 * thread whose batch just committed runs it (lane_continue() in
 * sqlite.c) rather than waking the first of them to: B and C arrive
 * during A's COMMIT and run in A's thread, in one COMMIT of their own.
 * Only one batch more: D, arriving during that second COMMIT, runs in
 * its own thread.  Every caller gets its own unit's result.
 */
static struct run_unit cont_u[4];
static pthread_t cont_t[4];

static int
cont_hook(void *arg)
{
	(void)arg;
	commits_seen++;
	if (commits_seen == 1) {
		cr_assert_eq(pthread_create(
				 &cont_t[1], NULL, run_unit_thread, &cont_u[1]),
		    0);
		usleep(100 * 1000);
		cr_assert_eq(pthread_create(
				 &cont_t[2], NULL, run_unit_thread, &cont_u[2]),
		    0);
		usleep(100 * 1000);
	} else if (commits_seen == 2) {
		cr_assert_eq(pthread_create(
				 &cont_t[3], NULL, run_unit_thread, &cont_u[3]),
		    0);
		usleep(100 * 1000);
	}
	return 0;
}

Test(group_commit, units_queued_during_a_commit_run_in_its_thread_next)
{
	char *actors;
	int i;

	cont_u[0] = (struct run_unit){"a", 0, NULL, 0, 0, -1};
	cont_u[1] = (struct run_unit){"b", 0, NULL, 0, 0, -1};
	cont_u[2] = (struct run_unit){"c", ERR_POLICY, NULL, 0, 0, -1};
	cont_u[3] = (struct run_unit){"d", 0, NULL, 0, 0, -1};
	commits_seen = 0;
	sqlite3_commit_hook(ledger_db(l), cont_hook, NULL);
	cr_assert_eq(
	    pthread_create(&cont_t[0], NULL, run_unit_thread, &cont_u[0]), 0);
	for (i = 0; i < 4; i++)
		pthread_join(cont_t[i], NULL);
	sqlite3_commit_hook(ledger_db(l), NULL, NULL);
	cr_assert_eq(cont_u[0].rc, 0);
	cr_assert_eq(cont_u[1].rc, 0);
	cr_assert_eq(cont_u[2].rc, ERR_POLICY);
	cr_assert_eq(cont_u[3].rc, 0);
	cr_assert(pthread_equal(cont_u[1].ran_in, cont_u[0].caller));
	cr_assert(pthread_equal(cont_u[2].ran_in, cont_u[0].caller));
	cr_assert(pthread_equal(cont_u[3].ran_in, cont_u[3].caller),
	    "D ran in another thread");
	cr_assert_eq(commits_seen, 3);
	actors = event_actors();
	cr_assert_str_eq(actors, "a,b,d");
	free(actors);
}

/* A unit in ledger_begin() is not run by another thread: the owner of a
 * run unit hands the transaction on to it, and it commits with what the
 * owner left open. */
static void *
begin_unit_thread(void *arg)
{
	*(int *)arg = one_unit("classic");
	return NULL;
}

Test(group_commit, a_begin_unit_behind_a_run_unit_runs_in_its_own_thread)
{
	volatile int gate = 0;
	struct run_unit a = {"a", 0, &gate, 0, 0, -1};
	pthread_t ta, tb;
	int rb = 1;
	char *actors;

	cr_assert_eq(pthread_create(&ta, NULL, run_unit_thread, &a), 0);
	usleep(200 * 1000);
	cr_assert_eq(pthread_create(&tb, NULL, begin_unit_thread, &rb), 0);
	usleep(200 * 1000);
	gate = 1;
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	cr_assert_eq(a.rc, 0);
	cr_assert_eq(rb, 0);
	actors = event_actors();
	cr_assert_str_eq(actors, "a,classic");
	free(actors);
}

/* Many threads, each unit its own ledger_run(), every fifth failing:
 * exactly the others land, in one intact chain, most of them run by
 * a thread other than their caller's. */
#define RUN_THREADS 8
#define RUN_UNITS 100

struct run_writer {
	int id;
	int ok, failed, elsewhere;
};

static void *
run_writer(void *arg)
{
	struct run_writer *w = arg;
	struct run_unit u;
	char actor[32];
	int i;

	snprintf(actor, sizeof(actor), "t%d", w->id);
	for (i = 0; i < RUN_UNITS; i++) {
		memset(&u, 0, sizeof(u));
		u.actor = actor;
		u.fail = i % 5 == 4 ? ERR_WRONG_STATE : 0;
		u.rc = ledger_run(l, run_unit_fn, &u);
		cr_assert_eq(u.rc, u.fail);
		if (u.rc == 0)
			w->ok++;
		else
			w->failed++;
		if (!pthread_equal(u.ran_in, pthread_self()))
			w->elsewhere++;
	}
	return NULL;
}

Test(group_commit, concurrent_run_units_land_exactly_once)
{
	struct run_writer w[RUN_THREADS];
	pthread_t t[RUN_THREADS];
	struct ledger_stats st;
	char errbuf[LEDGER_ERR_LEN];
	int64_t count = 0, bad = 0;
	int i, ok = 0, elsewhere = 0;

	for (i = 0; i < RUN_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		cr_assert_eq(pthread_create(&t[i], NULL, run_writer, &w[i]), 0);
	}
	for (i = 0; i < RUN_THREADS; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].ok, RUN_UNITS * 4 / 5);
		ok += w[i].ok;
		elsewhere += w[i].elsewhere;
	}
	cr_assert_eq(event_count(), ok);
	cr_assert_eq(ledger_verify(l, &count, &bad, errbuf), 0, "%s", errbuf);
	cr_assert_eq(count, ok);
	ledger_stats_get(l, &st);
	cr_assert_eq(st.units, (uint64_t)ok);
	cr_assert_lt(st.commits, st.units);
	/* Queued units are run by the owner of the one before them. */
	cr_assert_gt(elsewhere, 0);
}

Test(group_commit, run_inside_a_unit_is_refused)
{
	struct run_unit u = {"inner", 0, NULL, 0, 0, -1};

	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_run(l, run_unit_fn, &u), ERR_INVALID_ARG);
	cr_assert_eq(u.ran_in, 0);
	ledger_rollback(l);
	cr_assert_eq(event_count(), 0);
}

/* The size of the ledger's WAL file, in bytes. */
static long long
wal_size(void)
{
	struct stat sb;
	char *p = tu_fmt("%s-wal", dbpath);
	long long n;

	cr_assert_eq(stat(p, &sb), 0, "%s", p);
	n = (long long)sb.st_size;
	free(p);
	return n;
}

static void *
big_writer(void *arg)
{
	char actor[32], pad[3001];
	json_t *d;
	int i;

	snprintf(actor, sizeof(actor), "w%d", (int)(intptr_t)arg);
	memset(pad, 'x', 3000);
	pad[3000] = '\0';
	for (i = 0; i < 400; i++) {
		/* About 3 KiB per event: a page or so of WAL each. */
		cr_assert_not_null(d = json_pack("{s:s}", "pad", pad));
		cr_assert_eq(ledger_begin(l), 0);
		cr_assert_eq(
		    ledger_append(l, NULL, "test.unit", actor, "s", d), 0);
		cr_assert_eq(ledger_commit(l), 0);
		json_decref(d);
	}
	return NULL;
}

/*
 * 3,200 units of about a page each: the WAL would hold over 12 MiB if
 * nothing copied it into the database.  The checkpointer's passes (and
 * the writer's catch-ups after them) keep it starting over, so it stays
 * at a few times CKPT_FRAMES pages, and every event is in the database.
 * The passes copy most frames: the writer copies only those added during
 * a pass (a connection that has not read the file yet would checkpoint
 * nothing, and each catch-up would copy the whole WAL on the writer's
 * path).
 */
Test(group_commit, the_wal_is_checkpointed_off_the_writers_path, .timeout = 120)
{
	pthread_t t[8];
	struct ledger_stats st;
	char errbuf[LEDGER_ERR_LEN];
	int64_t count = 0, bad = 0;
	int i;

	for (i = 0; i < 8; i++)
		cr_assert_eq(pthread_create(
				 &t[i], NULL, big_writer, (void *)(intptr_t)i),
		    0);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	ledger_stats_get(l, &st);
	cr_assert_geq(st.checkpoints, 2, "checkpoints %llu",
	    (unsigned long long)st.checkpoints);
	cr_assert_geq(st.checkpoint_catch_ups, 1);
	cr_assert_gt(st.checkpoint_frames, 2 * st.checkpoint_catch_up_frames,
	    "passes copied %llu frames, catch-ups %llu",
	    (unsigned long long)st.checkpoint_frames,
	    (unsigned long long)st.checkpoint_catch_up_frames);
	cr_assert_lt(
	    wal_size(), 6LL * 1024 * 1024, "WAL %lld bytes", wal_size());
	cr_assert_eq(event_count(), 3200);
	cr_assert_eq(ledger_verify(l, &count, &bad, errbuf), 0, "%s", errbuf);
	cr_assert_eq(count, 3200);
}
