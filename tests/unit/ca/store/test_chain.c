/*
 * test_chain.c: tests of the ledger (ca/store/chain.c over
 * ca/store/sqlite.c) on real files: creation and refusal of foreign
 * files, the hash definition (recomputed here independently), the fast
 * canonical encoder against a plain reference encoding, tampering done
 * with the real sqlite3 program (edits, deletions, swaps, forged rows),
 * serial and KRL counters, change detection between two connections,
 * exact JSONL/CSV exports, two processes appending at once, and the
 * statement helpers of ca/store/sql.h.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/sha.h>

#include "ca/ledger.h"
#include "ca/store/sql.h"
#include "tests/lib/testutil.h"
#include "tests/unit/ca/ca_fixture.h"

#define NOW "1700000000"
#define ZERO64                                                                 \
	"0000000000000000000000000000000000000000000000000000000000000000"

static char *dir, *dbpath;

static void
setup(void)
{
	fx_sqlite3_required();
	dir = tu_tmpdir();
	dbpath = tu_fmt("%s/ledger.db", dir);
	cr_assert_eq(setenv("JITCA_TEST_NOW", NOW, 1), 0);
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(dir);
	free(dbpath);
}

TestSuite(ledger, .init = setup, .fini = teardown);

/* Run SQL on the file with the sqlite3 program; returns its stdout. */
static char *
sq(const char *sql)
{
	return fx_sqlite3(dbpath, sql);
}

static void
sq_do(const char *sql)
{
	free(sq(sql));
}

/* hex(SHA-256(prev "\n" canon)), computed independently of chain.c. */
static char *
th_hash(const char *prev, const char *canon)
{
	char *in = tu_fmt("%s\n%s", prev, canon);
	unsigned char md[32];
	char *hex = malloc(65);
	int i;

	cr_assert_not_null(hex);
	SHA256((const unsigned char *)in, strlen(in), md);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	free(in);
	return hex;
}

static struct ledger *
open_new(void)
{
	struct ledger *l = NULL;

	cr_assert_eq(ledger_open(&l, dbpath, 1), 0);
	return l;
}

static void
append1(struct ledger *l, const char *type, const char *actor,
    const char *subject, json_t *details)
{
	int64_t seq = -1;

	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_append(l, &seq, type, actor, subject, details), 0,
	    "%s", ledger_errmsg(l));
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert(seq > 0);
}

/* A ledger of n events, seq i with details {"i": i}, closed. */
static void
make_chain(int n)
{
	struct ledger *l = open_new();
	int i;

	for (i = 1; i <= n; i++) {
		json_t *d = json_pack("{s:i}", "i", i);
		char *subj = tu_fmt("subject-%d", i);

		append1(l, "test.event", "alice", subj, d);
		json_decref(d);
		free(subj);
	}
	ledger_close(l);
}

/* Verify must fail naming bad and a message containing msg. */
static void
expect_broken(int64_t bad, const char *msg)
{
	struct ledger *l = NULL;
	char err[LEDGER_ERR_LEN];
	int64_t count = -1, got = -1;
	int r;

	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	r = ledger_verify(l, &count, &got, err);
	cr_assert_eq(r, ERR_LEDGER_BROKEN, "verify returned %d", r);
	cr_assert_eq(got, bad, "bad seq %lld, expected %lld (%s)",
	    (long long)got, (long long)bad, err);
	cr_assert_not_null(
	    strstr(err, msg), "message \"%s\" lacks \"%s\"", err, msg);
	cr_assert_eq(count, 0);
	ledger_close(l);
}

static void
expect_intact(int64_t n)
{
	struct ledger *l = NULL;
	char err[LEDGER_ERR_LEN];
	int64_t count = -1, bad = -1;

	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	cr_assert_eq(ledger_verify(l, &count, &bad, err), 0, "%s", err);
	cr_assert_eq(count, n);
	cr_assert_eq(bad, 0);
	ledger_close(l);
}

#define UNLOCK "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; "

Test(ledger, create_mode_wal_schema)
{
	struct ledger *l;
	struct stat sb;
	char *out, *wal;

	/* 0600 whatever the umask, for the -wal and -shm files too. */
	umask(0);
	l = open_new();
	append1(l, "x", "y", "z", NULL);
	wal = tu_fmt("%s-wal", dbpath);
	cr_assert_eq(stat(wal, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600, "wal mode %o", sb.st_mode & 0777);
	free(wal);
	wal = tu_fmt("%s-shm", dbpath);
	cr_assert_eq(stat(wal, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600, "shm mode %o", sb.st_mode & 0777);
	free(wal);
	ledger_close(l);
	cr_assert_eq(stat(dbpath, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600, "mode %o", sb.st_mode & 0777);
	out = sq("PRAGMA journal_mode; SELECT value FROM meta WHERE "
		 "key='schema_version'; SELECT value FROM meta WHERE "
		 "key='head_seq';");
	cr_assert_str_eq(out, "wal\n4\n1\n");
	free(out);
	/* Reopening an existing ledger works without create. */
	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	expect_intact(1);
	ledger_close(l);
}

Test(ledger, refuses_missing_foreign_and_future_files)
{
	struct ledger *l = NULL;
	char err[LEDGER_ERR_LEN], *p;

	cr_assert_eq(ledger_open_err(&l, dbpath, 0, err), ERR_NOT_FOUND);
	cr_assert_null(l);
	cr_assert_neq(access(dbpath, F_OK), 0, "must not create the file");

	p = tu_fmt("%s/junk.db", dir);
	tu_write_file(
	    p, "this is not a database at all, just text.....", 46, 0600);
	cr_assert_eq(ledger_open_err(&l, p, 1, err), ERR_DB);
	cr_assert_null(l);
	free(p);

	sq_do("CREATE TABLE other(x);");
	cr_assert_eq(ledger_open_err(&l, dbpath, 1, err), ERR_DB);
	cr_assert_str_eq(err, "not a jitca ledger (no meta table)");
	cr_assert_null(l);

	cr_assert_eq(unlink(dbpath), 0);
	ledger_close(open_new());
	sq_do("UPDATE meta SET value='5' WHERE key='schema_version';");
	cr_assert_eq(ledger_open_err(&l, dbpath, 0, err), ERR_DB);
	cr_assert_str_eq(err,
	    "ledger schema_version \"5\" is not supported (this jitca knows "
	    "4)");
	cr_assert_null(l);
	cr_assert_eq(ledger_open(&l, dbpath, 1), ERR_DB);
}

/* The two rows (and the head in meta) of an event t.a by alice about
 * bob with details {"b":1,"a":"x"} then t.b by carol about dave with
 * {}, hashed independently here; the ledger is closed. */
static void
expect_two_known_rows(void)
{
	char *h1, *h2, *out, *want;

	h1 = th_hash(ZERO64,
	    "[1,1700000000,\"t.a\",\"alice\",\"bob\","
	    "{\"a\":\"x\",\"b\":1}]");
	h2 = th_hash(h1, "[2,1700000000,\"t.b\",\"carol\",\"dave\",{}]");
	out = sq("SELECT seq,time,type,actor,subject,details,prev_hash,hash "
		 "FROM events ORDER BY seq;");
	want = tu_fmt("1|1700000000|t.a|alice|bob|{\"a\":\"x\",\"b\":1}|%s|%s\n"
		      "2|1700000000|t.b|carol|dave|{}|%s|%s\n",
	    ZERO64, h1, h1, h2);
	cr_assert_str_eq(out, want);
	free(out);
	out = sq("SELECT value FROM meta WHERE key IN ('head_seq','head_hash')"
		 " ORDER BY key;");
	free(want);
	want = tu_fmt("%s\n2\n", h2);
	cr_assert_str_eq(out, want);
	expect_intact(2);
	free(out);
	free(want);
	free(h1);
	free(h2);
}

Test(ledger, hash_definition_exact)
{
	struct ledger *l = open_new();
	json_t *d = json_pack("{s:i,s:s}", "b", 1, "a", "x");

	append1(l, "t.a", "alice", "bob", d);
	append1(l, "t.b", "carol", "dave", NULL);
	json_decref(d);
	ledger_close(l);
	expect_two_known_rows();
}

/*
 * ledger_append() and ledger_verify() hash the canonical array without
 * dumping it with jansson: strings that need escaping (quote, backslash,
 * slash, non-ASCII, 4-byte UTF-8, control characters) must come out as
 * jansson writes them, with upper-case \u escapes and no "\/".
 */
Test(ledger, hash_escapes_exact)
{
	struct ledger *l = open_new();
	json_t *d = json_pack("{s:s}", "k", "\xc3\xa9");
	char *h1, *h2, *got, *sql;

	/* actor: q"b\s/é😀 */
	append1(l, "t.\"q\"", "q\"b\\s/\xc3\xa9\xf0\x9f\x98\x80", "x~", d);
	json_decref(d);
	ledger_close(l);
	h1 = th_hash(ZERO64,
	    "[1,1700000000,\"t.\\\"q\\\"\","
	    "\"q\\\"b\\\\s/\\u00E9\\uD83D\\uDE00\",\"x~\","
	    "{\"k\":\"\\u00E9\"}]");
	got = sq("SELECT hash FROM events WHERE seq=1;");
	got[64] = '\0';
	cr_assert_str_eq(got, h1);
	free(got);
	/* A row with control characters (ledger_append refuses them; an
	 * older or foreign writer might not): verify escapes them as
	 * jansson does (\u0001, \t, \n) and finds the chain intact. */
	h2 = th_hash(h1, "[2,1700000001,\"t\",\"a\\u0001b\\tc\\n\",\"s\",{}]");
	sql = tu_fmt("INSERT INTO events VALUES(2, 1700000001, 't', "
		     "'a' || char(1) || 'b' || char(9) || 'c' || char(10), "
		     "'s', '{}', '%s', '%s');"
		     "UPDATE meta SET value='2' WHERE key='head_seq';"
		     "UPDATE meta SET value='%s' WHERE key='head_hash';",
	    h1, h2, h2);
	sq_do(sql);
	expect_intact(2);
	free(sql);
	free(h1);
	free(h2);
}

/*
 * The canonical details of ledger_append() (ca/store/jsonw.c) are the
 * bytes jansson's json_dumps wrote before it: keys sorted by memcmp then
 * length ("A1" < "a" < "ab" < "b"), nested, escapes, \u escapes with a
 * surrogate pair, a real as jansson prints it, INT64_MIN.  The text and
 * so the hash are fixed here, taken from json_dumps.
 */
Test(ledger, canonical_details_known_answer)
{
	struct ledger *l = open_new();
	json_t *d = json_pack("{s:i,s:i,s:[s,s,i],s:{s:s,s:b,s:n},s:f,s:s,s:s,"
			      "s:I}",
	    "b", 1, "ab", 2, "principals", "alice", "root", -7, "nested", "z",
	    "/p/\"q\"", "A", 1, "_", "ratio", 0.1, "A1",
	    "caf\xc3\xa9 \xf0\x9f\x98\x80", "a", "tab\there", "serial",
	    (json_int_t)INT64_MIN);
	const char *canon =
	    "{\"A1\":\"caf\\u00E9 \\uD83D\\uDE00\",\"a\":\"tab\\there\","
	    "\"ab\":2,\"b\":1,\"nested\":{\"A\":true,\"_\":null,"
	    "\"z\":\"/p/\\\"q\\\"\"},\"principals\":[\"alice\",\"root\",-7],"
	    "\"ratio\":0.10000000000000001,\"serial\":-9223372036854775808}";
	char *h1, *text, *got, *want;

	cr_assert_not_null(d);
	append1(l, "t.k", "alice", "bob", d);
	json_decref(d);
	ledger_close(l);
	text = tu_fmt("[1,1700000000,\"t.k\",\"alice\",\"bob\",%s]", canon);
	h1 = th_hash(ZERO64, text);
	cr_assert_str_eq(h1,
	    "6243fc50f07856cc13d799a595092075"
	    "b86fb54dcf825c1002dce5cf5e103870");
	got = sq("SELECT details, hash FROM events WHERE seq=1;");
	want = tu_fmt("%s|%s\n", canon, h1);
	cr_assert_str_eq(got, want);
	expect_intact(1);
	free(text);
	free(got);
	free(want);
	free(h1);
}

Test(ledger, append_validates_input)
{
	struct ledger *l = open_new();
	json_t *num = json_integer(3), *big = json_object();
	char *s257 = malloc(258), *chunk = malloc(70000);
	int64_t seq = 7;

	memset(s257, 'a', 257);
	s257[257] = '\0';
	memset(chunk, 'x', 69999);
	chunk[69999] = '\0';
	json_object_set_new(big, "k", json_string(chunk));
	/* Outside a transaction. */
	cr_assert_eq(
	    ledger_append(l, &seq, "t", "a", "s", NULL), ERR_INVALID_ARG);
	cr_assert_eq(seq, 0);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_begin(l), ERR_INVALID_ARG);
	cr_assert_eq(
	    ledger_append(l, NULL, "", "a", "s", NULL), ERR_INVALID_ARG);
	cr_assert_eq(
	    ledger_append(l, NULL, "t", NULL, "s", NULL), ERR_INVALID_ARG);
	cr_assert_eq(
	    ledger_append(l, NULL, "t", "a", "", NULL), ERR_INVALID_ARG);
	cr_assert_eq(
	    ledger_append(l, NULL, "t", "a\nb", "s", NULL), ERR_INVALID_ARG);
	cr_assert_eq(
	    ledger_append(l, NULL, "t", "a", "s\x7f", NULL), ERR_INVALID_ARG);
	cr_assert_eq(ledger_append(l, NULL, "t", "a", "\xff\xfe", NULL),
	    ERR_INVALID_ARG);
	cr_assert_eq(
	    ledger_append(l, NULL, s257, "a", "s", NULL), ERR_INVALID_ARG);
	s257[256] = '\0';
	cr_assert_eq(ledger_append(l, &seq, s257, "a", "s", NULL), 0);
	cr_assert_eq(seq, 1);
	cr_assert_eq(
	    ledger_append(l, NULL, "t", "a", "s", num), ERR_INVALID_ARG);
	cr_assert_eq(ledger_append(l, NULL, "t", "a", "s", big), ERR_TOO_LARGE);
	cr_assert_eq(ledger_append(l, &seq, "t", "a", "s", NULL), 0);
	cr_assert_eq(seq, 2);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(ledger_commit(l), ERR_INVALID_ARG);
	ledger_close(l);
	expect_intact(2);
	json_decref(num);
	json_decref(big);
	free(s257);
	free(chunk);
}

/*
 * Details made ahead (ledger_details_make(), outside the unit) append
 * exactly the event ledger_append() writes with the same object: the
 * rows of hash_definition_exact.  What cannot be written ahead falls
 * back to ledger_append() inside, with its codes and messages.
 */
Test(ledger, details_made_ahead_append_the_same_events)
{
	struct ledger *l = open_new();
	struct ledger_details dd, dn, db, dz;
	json_t *d = json_pack("{s:i,s:s}", "b", 1, "a", "x");
	json_t *num = json_integer(3), *big = json_object();
	char *chunk = malloc(70000);
	int64_t seq = 7;

	memset(chunk, 'x', 69999);
	chunk[69999] = '\0';
	json_object_set_new(big, "k", json_string(chunk));
	ledger_details_make(&dd, d);
	cr_assert_str_eq(dd.text, "{\"a\":\"x\",\"b\":1}");
	ledger_details_make(&dn, num);
	cr_assert_null(dn.text);
	ledger_details_make(&db, big);
	cr_assert_null(db.text);
	memset(&dz, 0, sizeof(dz)); /* no object: {} */
	/* Outside a transaction; then the checks of every append. */
	cr_assert_eq(ledger_append_details(l, &seq, "t.a", "alice", "bob", &dd),
	    ERR_INVALID_ARG);
	cr_assert_eq(seq, 0);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_append_details(l, NULL, "", "alice", "bob", &dd),
	    ERR_INVALID_ARG);
	cr_assert_eq(
	    ledger_append_details(l, NULL, "t.a", "alice", "b\nb", &dd),
	    ERR_INVALID_ARG);
	cr_assert_eq(ledger_append_details(l, NULL, "t", "a", "s", &dn),
	    ERR_INVALID_ARG);
	cr_assert_str_eq(
	    ledger_errmsg(l), "event details must be a JSON object");
	cr_assert_eq(
	    ledger_append_details(l, NULL, "t", "a", "s", &db), ERR_TOO_LARGE);
	cr_assert_not_null(strstr(ledger_errmsg(l), "event details are over"),
	    "%s", ledger_errmsg(l));
	cr_assert_eq(ledger_append_details(l, &seq, "t.a", "alice", "bob", &dd),
	    0, "%s", ledger_errmsg(l));
	cr_assert_eq(seq, 1);
	cr_assert_eq(
	    ledger_append_details(l, &seq, "t.b", "carol", "dave", &dz), 0);
	cr_assert_eq(seq, 2);
	cr_assert_eq(ledger_commit(l), 0);
	ledger_close(l);
	expect_two_known_rows();
	ledger_details_clear(&dd);
	cr_assert_null(dd.text);
	ledger_details_clear(&dn);
	ledger_details_clear(&db);
	ledger_details_clear(NULL);
	ledger_details_make(NULL, d);
	json_decref(d);
	json_decref(num);
	json_decref(big);
	free(chunk);
}

Test(ledger, rollback_discards_events)
{
	struct ledger *l = open_new();
	int64_t seq = 0;

	append1(l, "a", "x", "y", NULL);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_append(l, &seq, "b", "x", "y", NULL), 0);
	cr_assert_eq(seq, 2);
	ledger_rollback(l);
	ledger_rollback(l); /* harmless outside a transaction */
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_append(l, &seq, "c", "x", "y", NULL), 0);
	cr_assert_eq(seq, 2);
	cr_assert_eq(ledger_commit(l), 0);
	/* Closing with an open transaction rolls it back. */
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_append(l, &seq, "d", "x", "y", NULL), 0);
	ledger_close(l);
	expect_intact(2);
}

Test(ledger, plain_update_and_delete_are_refused)
{
	char *argv[] = {"sqlite3", dbpath,
	    "UPDATE events SET actor='mallory' WHERE seq=2;", NULL};
	char *err = NULL;

	make_chain(3);
	cr_assert_neq(tu_run(argv, NULL, NULL, &err), 0);
	cr_assert_not_null(strstr(err, "events are append-only"), "%s", err);
	free(err);
	argv[2] = "DELETE FROM events WHERE seq=3;";
	cr_assert_neq(tu_run(argv, NULL, NULL, &err), 0);
	cr_assert_not_null(strstr(err, "events are append-only"), "%s", err);
	free(err);
	expect_intact(3);
}

Test(ledger, tamper_actor)
{
	make_chain(10);
	sq_do(UNLOCK "UPDATE events SET actor='mallory' WHERE seq=7;");
	expect_broken(7, "seq 7: hash does not match its contents");
}

Test(ledger, tamper_details)
{
	make_chain(10);
	sq_do(UNLOCK "UPDATE events SET details='{\"i\":99}' WHERE seq=5;");
	expect_broken(5, "seq 5: hash does not match its contents");
}

Test(ledger, tamper_details_formatting)
{
	make_chain(10);
	sq_do(UNLOCK "UPDATE events SET details='{\"i\": 5}' WHERE seq=5;");
	expect_broken(5, "seq 5: details are not in canonical form");
}

Test(ledger, tamper_details_not_json)
{
	make_chain(10);
	sq_do(UNLOCK "UPDATE events SET details='[5]' WHERE seq=5;");
	expect_broken(5, "seq 5: details are not a JSON object");
}

Test(ledger, tamper_time)
{
	make_chain(10);
	sq_do(UNLOCK "UPDATE events SET time=time-3600 WHERE seq=4;");
	expect_broken(4, "seq 4: hash does not match its contents");
}

Test(ledger, tamper_time_type)
{
	make_chain(10);
	sq_do(UNLOCK "UPDATE events SET time='1700000000x' WHERE seq=4;");
	expect_broken(4, "seq 4: time is not an integer");
}

Test(ledger, tamper_prev_hash)
{
	make_chain(10);
	sq_do(UNLOCK "UPDATE events SET prev_hash='" ZERO64 "' WHERE seq=3;");
	expect_broken(3, "seq 3: prev_hash does not match");
}

Test(ledger, tamper_rehashed_row_breaks_the_next)
{
	struct ledger *l = NULL;
	char *canon, *h, *sql;

	make_chain(10);
	/* Rewrite row 6 with a correct hash for its new contents: the
	 * chain breaks at row 7, whose prev_hash no longer matches. */
	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	ledger_close(l);
	{
		char *prev = sq("SELECT prev_hash FROM events WHERE seq=6;");

		prev[64] = '\0';
		canon = tu_fmt("[6,1700000000,\"test.event\",\"mallory\","
			       "\"subject-6\",{\"i\":6}]");
		h = th_hash(prev, canon);
		free(prev);
	}
	sql = tu_fmt(UNLOCK "UPDATE events SET actor='mallory', hash='%s' "
			    "WHERE seq=6;",
	    h);
	sq_do(sql);
	expect_broken(7, "seq 7: prev_hash does not match");
	free(sql);
	free(canon);
	free(h);
}

Test(ledger, delete_middle_row)
{
	make_chain(10);
	sq_do(UNLOCK "DELETE FROM events WHERE seq=5;");
	expect_broken(5, "seq 5: missing");
}

Test(ledger, delete_first_row)
{
	make_chain(10);
	sq_do(UNLOCK "DELETE FROM events WHERE seq=1;");
	expect_broken(1, "seq 1: missing");
}

Test(ledger, delete_last_rows)
{
	make_chain(10);
	sq_do(UNLOCK "DELETE FROM events WHERE seq>=9;");
	expect_broken(9,
	    "seq 9: missing (the chain ends at seq 8 but its "
	    "recorded head is seq 10");
}

/* After tail truncation or a forged row, appending is refused: it would
 * otherwise reset the head over the evidence. */
static void
expect_append_refused(int64_t bad, const char *msg)
{
	struct ledger *l = NULL;
	int64_t seq = -1;

	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(
	    ledger_append(l, &seq, "x", "y", "z", NULL), ERR_LEDGER_BROKEN);
	cr_assert_eq(seq, 0);
	cr_assert_not_null(strstr(ledger_errmsg(l), "refusing to append"), "%s",
	    ledger_errmsg(l));
	ledger_rollback(l);
	ledger_close(l);
	expect_broken(bad, msg);
}

Test(ledger, append_refused_after_tail_deletion)
{
	make_chain(10);
	sq_do(UNLOCK "DELETE FROM events WHERE seq=10;");
	expect_append_refused(10, "seq 10: missing");
}

Test(ledger, append_refused_after_forged_row)
{
	make_chain(3);
	sq_do("INSERT INTO events SELECT 4, time, type, 'mallory', subject, "
	      "details, hash, hash FROM events WHERE seq=3;");
	expect_append_refused(4, "seq 4: hash does not match its contents");
}

Test(ledger, delete_all_rows)
{
	make_chain(10);
	sq_do(UNLOCK "DELETE FROM events;");
	expect_broken(1, "seq 1: missing");
}

Test(ledger, head_seq_garbage)
{
	make_chain(3);
	sq_do("UPDATE meta SET value='3x' WHERE key='head_seq';");
	expect_broken(4, "meta head_seq: \"3x\" is not a number");
}

/* A handle that appended reads the tail and head afresh after its
 * COMMIT: a change made then by another program shows in its own verify
 * and stops its next append. */
Test(ledger, head_changed_after_commit_is_seen_by_the_same_handle)
{
	struct ledger *l = open_new();
	char err[LEDGER_ERR_LEN];
	int64_t count = -1, bad = -1, seq = -1;
	int r;

	append1(l, "test.event", "alice", "s", NULL);
	append1(l, "test.event", "alice", "s", NULL);
	sq_do("UPDATE meta SET value='3x' WHERE key='head_seq';");
	r = ledger_verify(l, &count, &bad, err);
	cr_assert_eq(r, ERR_LEDGER_BROKEN, "verify returned %d (%s)", r, err);
	cr_assert_not_null(
	    strstr(err, "meta head_seq: \"3x\" is not a number"), "%s", err);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(
	    ledger_append(l, &seq, "x", "y", "z", NULL), ERR_LEDGER_BROKEN);
	cr_assert_not_null(strstr(ledger_errmsg(l), "refusing to append"), "%s",
	    ledger_errmsg(l));
	ledger_rollback(l);
	ledger_close(l);
}

Test(ledger, delete_head_from_meta)
{
	make_chain(3);
	sq_do("DELETE FROM meta WHERE key='head_hash';");
	expect_broken(4, "the chain head is missing");
}

/*
 * The limit of an unanchored chain: truncating the tail AND rewriting the
 * head in meta consistently is not detectable from the file alone (an
 * external anchor, e.g. signed checkpoints, is needed).  This test pins
 * that documented behaviour.
 */
Test(ledger, tail_truncation_with_rewritten_head_is_caught_by_the_tree)
{
	make_chain(10);
	sq_do(UNLOCK "DELETE FROM events WHERE seq=10; UPDATE meta SET "
		     "value='9' WHERE key='head_seq'; UPDATE meta SET "
		     "value=(SELECT hash FROM events WHERE seq=9) WHERE "
		     "key='head_hash';");
	expect_broken(
	    10, "the Merkle tree has 10 leaves but there are only 9 events");
}

/* With the tree's nodes for leaf 9 deleted as well (the leaf and the
 * level-1 node over leaves 8 and 9), only a saved checkpoint tells
 * (test_checkpoint.c). */
Test(ledger, tail_truncation_with_tree_and_head_rewritten_is_undetectable)
{
	make_chain(10);
	sq_do(UNLOCK "DELETE FROM events WHERE seq=10; UPDATE meta SET "
		     "value='9' WHERE key='head_seq'; UPDATE meta SET "
		     "value=(SELECT hash FROM events WHERE seq=9) WHERE "
		     "key='head_hash'; DROP TRIGGER merkle_nodes_no_delete;"
		     " DELETE FROM merkle_nodes WHERE (level=0 AND idx=9) OR"
		     " (level=1 AND idx=4);");
	expect_intact(9);
}

/* A stored node that the events do not make is named. */
Test(ledger, tampered_merkle_node)
{
	make_chain(10);
	sq_do("DROP TRIGGER merkle_nodes_no_update; UPDATE merkle_nodes SET"
	      " hash = zeroblob(32) WHERE level = 2 AND idx = 1;");
	expect_broken(8,
	    "seq 8: Merkle tree node (level 2, index 1) does not match "
	    "the events");
}

/* A ledger of n events as make_chain() makes them, in one transaction
 * (fast enough for the several batches ledger_verify() hashes on its
 * second thread, 512 rows each). */
static void
make_long_chain(int n)
{
	struct ledger *l = open_new();
	int64_t seq;
	int i;

	cr_assert_eq(ledger_begin(l), 0);
	for (i = 1; i <= n; i++) {
		json_t *d = json_pack("{s:i}", "i", i);
		char *subj = tu_fmt("subject-%d", i);

		cr_assert_eq(
		    ledger_append(l, &seq, "test.event", "alice", subj, d), 0,
		    "%s", ledger_errmsg(l));
		json_decref(d);
		free(subj);
	}
	cr_assert_eq(ledger_commit(l), 0);
	ledger_close(l);
}

/* Each kind of damage at a batch's first row, its last, and inside a
 * later one is found at that row: the rows are checked in order
 * whichever thread hashed them. */
Test(ledger, verify_across_batches)
{
	static const struct {
		const char *sql, *msg;
		int64_t bad;
	} cases[] = {
	    {"", NULL, 0},
	    {UNLOCK "UPDATE events SET details='{\"i\":99}' WHERE seq=1025;",
		"seq 1025: hash does not match its contents", 1025},
	    {UNLOCK "UPDATE events SET actor='mallory' WHERE seq=512;",
		"seq 512: hash does not match its contents", 512},
	    {UNLOCK "DELETE FROM events WHERE seq=513;", "seq 513: missing",
		513},
	    {UNLOCK "UPDATE events SET prev_hash='" ZERO64 "' WHERE seq=1300;",
		"seq 1300: prev_hash does not match", 1300},
	    {UNLOCK "UPDATE events SET time='1700000000x' WHERE seq=1200;",
		"seq 1200: time is not an integer", 1200},
	    {UNLOCK "UPDATE events SET details='{\"i\": 777}' WHERE seq=777;",
		"seq 777: details are not in canonical form", 777},
	    {"DROP TRIGGER merkle_nodes_no_update; UPDATE merkle_nodes SET"
	     " hash = zeroblob(32) WHERE level = 0 AND idx = 700;",
		"seq 701: Merkle tree node (level 0, index 700) does not "
		"match the events",
		701},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *wal = tu_fmt("%s-wal", dbpath),
		     *shm = tu_fmt("%s-shm", dbpath);

		(void)unlink(dbpath);
		(void)unlink(wal);
		(void)unlink(shm);
		free(wal);
		free(shm);
		make_long_chain(1300);
		if (cases[i].msg == NULL) {
			expect_intact(1300);
			continue;
		}
		sq_do(cases[i].sql);
		expect_broken(cases[i].bad, cases[i].msg);
	}
}

Test(ledger, renumber_row)
{
	make_chain(10);
	sq_do(UNLOCK "UPDATE events SET seq=50 WHERE seq=5;");
	expect_broken(5, "seq 5: missing");
}

Test(ledger, swap_two_rows)
{
	make_chain(10);
	/* Swap every column but seq of rows 4 and 6. */
	sq_do(UNLOCK
	    "CREATE TEMP TABLE t AS SELECT * FROM events WHERE seq IN (4,6);"
	    "UPDATE events SET (time,type,actor,subject,details,prev_hash,hash)"
	    " = (SELECT time,type,actor,subject,details,prev_hash,hash FROM t"
	    " WHERE t.seq = 10 - events.seq) WHERE seq IN (4,6);");
	expect_broken(4, "seq 4: prev_hash does not match");
}

Test(ledger, swap_two_rows_contents_only)
{
	make_chain(10);
	/* Swap the contents but keep the chain columns in place. */
	sq_do(UNLOCK
	    "CREATE TEMP TABLE t AS SELECT * FROM events WHERE seq IN (4,6);"
	    "UPDATE events SET (actor,subject,details) = (SELECT actor,"
	    "subject,details FROM t WHERE t.seq = 10 - events.seq) WHERE seq "
	    "IN (4,6);");
	expect_broken(4, "seq 4: hash does not match its contents");
}

Test(ledger, forged_row_wrong_hash)
{
	make_chain(10);
	sq_do("INSERT INTO events SELECT 11, time, type, 'mallory', subject, "
	      "details, hash, '" ZERO64 "' FROM events WHERE seq=10;");
	expect_broken(11, "seq 11: hash does not match its contents");
}

Test(ledger, forged_row_correct_hash)
{
	char *prev, *canon, *h, *sql;

	make_chain(10);
	prev = sq("SELECT hash FROM events WHERE seq=10;");
	prev[64] = '\0';
	canon = tu_fmt("[11,1700000000,\"cert.issued\",\"mallory\",\"x\",{}]");
	h = th_hash(prev, canon);
	sql = tu_fmt("INSERT INTO events VALUES(11, 1700000000, "
		     "'cert.issued', 'mallory', 'x', '{}', '%s', '%s');",
	    prev, h);
	sq_do(sql);
	expect_broken(11, "seq 11: beyond the recorded head (seq 10)");
	free(prev);
	free(canon);
	free(h);
	free(sql);
}

Test(ledger, serials)
{
	struct ledger *l = open_new();
	uint64_t s = 0, v = 9;

	cr_assert_eq(ledger_serial_next(l, &s), ERR_INVALID_ARG);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_serial_next(l, &s), 0);
	cr_assert_eq(s, 1);
	cr_assert_eq(ledger_serial_next(l, &s), 0);
	cr_assert_eq(s, 2);
	cr_assert_eq(ledger_commit(l), 0);
	/* A rolled-back transaction gives its serial back. */
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_serial_next(l, &s), 0);
	cr_assert_eq(s, 3);
	ledger_rollback(l);
	ledger_close(l);
	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_serial_next(l, &s), 0);
	cr_assert_eq(s, 3);
	cr_assert_eq(ledger_commit(l), 0);
	ledger_close(l);
	/* Never below a serial already in certificates. */
	sq_do("INSERT INTO certificates VALUES(100, NULL, 'u', 'r', 'k', "
	      "'[]', 1, 2, 'fp', x'00', 'h', 'c', 1, NULL);");
	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_serial_next(l, &s), 0);
	cr_assert_eq(s, 101);
	cr_assert_eq(ledger_commit(l), 0);
	/* KRL version. */
	cr_assert_eq(ledger_krl_version(l, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(ledger_krl_version_bump(l, &v), ERR_INVALID_ARG);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_krl_version_bump(l, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(ledger_krl_version_bump(l, &v), 0);
	cr_assert_eq(v, 2);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(ledger_krl_version(l, &v), 0);
	cr_assert_eq(v, 2);
	ledger_close(l);
	sq_do("DROP TRIGGER meta_counters_up;"
	      "UPDATE meta SET value='12x' WHERE key='last_serial';");
	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_serial_next(l, &s), ERR_DB);
	cr_assert_str_eq(
	    ledger_errmsg(l), "meta last_serial: \"12x\" is not a number");
	ledger_rollback(l);
	ledger_close(l);
}

Test(ledger, data_version_between_connections)
{
	struct ledger *a = open_new(), *b = NULL;
	int ch = -1;

	cr_assert_eq(ledger_open(&b, dbpath, 0), 0);
	cr_assert_eq(ledger_changed(a, &ch), 0);
	cr_assert_eq(ch, 0);
	append1(b, "x", "y", "z", NULL);
	cr_assert_eq(ledger_changed(a, &ch), 0);
	cr_assert_eq(ch, 1);
	cr_assert_eq(ledger_changed(a, &ch), 0);
	cr_assert_eq(ch, 0);
	/* A connection's own commits are not "changes by others". */
	append1(a, "x", "y", "z", NULL);
	cr_assert_eq(ledger_changed(a, &ch), 0);
	cr_assert_eq(ch, 0);
	cr_assert_eq(ledger_changed(b, &ch), 0);
	cr_assert_eq(ch, 1);
	/* A change made by another process (the sqlite3 program). */
	sq_do("INSERT INTO revoked_keys VALUES(x'01', 'fp', 1, 'r');");
	cr_assert_eq(ledger_changed(a, &ch), 0);
	cr_assert_eq(ch, 1);
	ledger_close(a);
	ledger_close(b);
}

/* A small known ledger for the export tests. */
static void
make_known(char **h1, char **h2, char **h3)
{
	struct ledger *l = open_new();
	json_t *d1 = json_pack("{s:[s,s]}", "groups", "eng", "ops");
	json_t *d2 = json_pack(
	    "{s:s,s:b}", "reason", "INC-1, \"stuck\"\r\nqueue", "b", 1);
	json_t *d3 = json_pack("{s:s}", "\xc3\xa9", "\xc3\xbc");

	append1(l, "user.added", "cli:root", "alice", d1);
	cr_assert_eq(setenv("JITCA_TEST_NOW", "1700000060", 1), 0);
	append1(l, "cert.issued", "alice", "42", d2);
	append1(l, "note", "bob", "x,y", d3);
	ledger_close(l);
	json_decref(d1);
	json_decref(d2);
	json_decref(d3);
	*h1 = th_hash(ZERO64,
	    "[1,1700000000,\"user.added\",\"cli:root\","
	    "\"alice\",{\"groups\":[\"eng\",\"ops\"]}]");
	*h2 = th_hash(*h1,
	    "[2,1700000060,\"cert.issued\",\"alice\",\"42\","
	    "{\"b\":true,\"reason\":\"INC-1, "
	    "\\\"stuck\\\"\\r\\nqueue\"}]");
	*h3 = th_hash(*h2,
	    "[3,1700000060,\"note\",\"bob\",\"x,y\","
	    "{\"\\u00E9\":\"\\u00FC\"}]");
}

static char *
export_to_string(enum ledger_format fmt, int64_t since, int *r)
{
	struct ledger *l = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	*r = ledger_export(l, f, fmt, since);
	fclose(f);
	ledger_close(l);
	return buf;
}

Test(ledger, export_jsonl_exact)
{
	char *h1, *h2, *h3, *got, *want;
	int r;

	make_known(&h1, &h2, &h3);
	got = export_to_string(LEDGER_FORMAT_JSONL, 0, &r);
	cr_assert_eq(r, 0);
	want = tu_fmt(
	    "{\"seq\":1,\"time\":1700000000,\"type\":\"user.added\","
	    "\"actor\":\"cli:root\",\"subject\":\"alice\",\"details\":"
	    "{\"groups\":[\"eng\",\"ops\"]},\"prev_hash\":\"%s\","
	    "\"hash\":\"%s\"}\n"
	    "{\"seq\":2,\"time\":1700000060,\"type\":\"cert.issued\","
	    "\"actor\":\"alice\",\"subject\":\"42\",\"details\":{\"b\":true,"
	    "\"reason\":\"INC-1, \\\"stuck\\\"\\r\\nqueue\"},"
	    "\"prev_hash\":\"%s\",\"hash\":\"%s\"}\n"
	    "{\"seq\":3,\"time\":1700000060,\"type\":\"note\",\"actor\":"
	    "\"bob\",\"subject\":\"x,y\",\"details\":{\"\\u00E9\":\"\\u00FC\"},"
	    "\"prev_hash\":\"%s\",\"hash\":\"%s\"}\n",
	    ZERO64, h1, h1, h2, h2, h3);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	/* since */
	got = export_to_string(LEDGER_FORMAT_JSONL, 3, &r);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(got, "");
	free(got);
	got = export_to_string(LEDGER_FORMAT_JSONL, -1, &r);
	cr_assert_eq(r, ERR_INVALID_ARG);
	free(got);
	free(h1);
	free(h2);
	free(h3);
}

Test(ledger, export_csv_exact)
{
	char *h1, *h2, *h3, *got, *want;
	int r;

	make_known(&h1, &h2, &h3);
	got = export_to_string(LEDGER_FORMAT_CSV, 1, &r);
	cr_assert_eq(r, 0);
	want = tu_fmt(
	    "seq,time,type,actor,subject,details,prev_hash,hash\r\n"
	    "2,1700000060,cert.issued,alice,42,\"{\"\"b\"\":true,"
	    "\"\"reason\"\":\"\"INC-1, \\\"\"stuck\\\"\"\\r\\nqueue"
	    "\"\"}\",%s,%s\r\n"
	    "3,1700000060,note,bob,\"x,y\",\"{\"\"\\u00E9\"\":\"\"\\u00FC\"\"}\""
	    ",%s,%s\r\n",
	    h1, h2, h2, h3);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	got = export_to_string(LEDGER_FORMAT_CSV, 3, &r);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(
	    got, "seq,time,type,actor,subject,details,prev_hash,hash\r\n");
	free(got);
	got = export_to_string((enum ledger_format)7, 0, &r);
	cr_assert_eq(r, ERR_INVALID_ARG);
	free(got);
	free(h1);
	free(h2);
	free(h3);
}

Test(ledger, events_json)
{
	struct ledger *l = NULL;
	json_t *a = NULL;
	char *h1, *h2, *h3, *s;

	make_known(&h1, &h2, &h3);
	cr_assert_eq(ledger_open(&l, dbpath, 0), 0);
	cr_assert_eq(ledger_events_json(l, 1, 1, &a), 0);
	s = json_dumps(a, JSON_COMPACT);
	cr_assert_eq(json_array_size(a), 1);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_array_get(a, 0), "seq")),
	    2);
	cr_assert_str_eq(
	    json_string_value(json_object_get(
		json_object_get(json_array_get(a, 0), "details"), "reason")),
	    "INC-1, \"stuck\"\r\nqueue");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(a, 0), "hash")),
	    h2);
	free(s);
	json_decref(a);
	cr_assert_eq(ledger_events_json(l, 0, LEDGER_EVENTS_MAX, &a), 0);
	cr_assert_eq(json_array_size(a), 3);
	json_decref(a);
	cr_assert_eq(ledger_events_json(l, 3, 10, &a), 0);
	cr_assert_eq(json_array_size(a), 0);
	json_decref(a);
	cr_assert_eq(ledger_events_json(l, 0, 0, &a), ERR_INVALID_ARG);
	cr_assert_null(a);
	cr_assert_eq(ledger_events_json(l, 0, LEDGER_EVENTS_MAX + 1, &a),
	    ERR_INVALID_ARG);
	cr_assert_eq(ledger_events_json(l, -1, 1, &a), ERR_INVALID_ARG);
	ledger_close(l);
	free(h1);
	free(h2);
	free(h3);
}

Test(ledger, now_override)
{
	cr_assert_eq(ledger_now(), 1700000000);
	cr_assert_eq(setenv("JITCA_TEST_NOW", "17x", 1), 0);
	cr_assert(ledger_now() > 1700000000);
	cr_assert_eq(unsetenv("JITCA_TEST_NOW"), 0);
	cr_assert(ledger_now() > 1700000000);
}

/* Child: append n events in separate transactions; exit status 0 if ok. */
static void
child_append(const char *who, int n)
{
	struct ledger *l = NULL;
	int i;
	char err[LEDGER_ERR_LEN];
	int r;

	if ((r = ledger_open_err(&l, dbpath, 1, err)) != 0) {
		fprintf(stderr, "%s: open: %d %s\n", who, r, err);
		_exit(10);
	}
	for (i = 0; i < n; i++) {
		json_t *d = json_pack("{s:i}", "i", i);

		if (ledger_begin(l) != 0)
			_exit(11);
		if (ledger_append(l, NULL, "test.event", who, "s", d) != 0)
			_exit(12);
		if (ledger_commit(l) != 0)
			_exit(13);
		json_decref(d);
	}
	ledger_close(l);
	_exit(0);
}

Test(ledger, two_processes_append, .timeout = 120)
{
	pid_t p[2];
	int i, st;
	char *out;

	/* Both create the file at once, too. */
	for (i = 0; i < 2; i++) {
		p[i] = fork();
		cr_assert(p[i] >= 0);
		if (p[i] == 0)
			child_append(i == 0 ? "proc-a" : "proc-b", 200);
	}
	for (i = 0; i < 2; i++) {
		cr_assert_eq(waitpid(p[i], &st, 0), p[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "child %d: status %d", i, st);
	}
	expect_intact(400);
	out = sq("SELECT actor, count(*) FROM events GROUP BY actor ORDER BY "
		 "actor;");
	cr_assert_str_eq(out, "proc-a|200\nproc-b|200\n");
	free(out);
}

/* The ledger_sql_* family of ca/store/sql.h that the ca/ modules not yet
 * behind store.h run their statements with. */
Test(ledger, sql_helpers)
{
	struct ledger *l = NULL;
	sqlite3_stmt *st = (sqlite3_stmt *)1;
	int found = -1, changes = -1;

	cr_assert_eq(ledger_open(&l, dbpath, 1), 0);
	cr_assert_eq(ledger_sql_prepare(l, &st, "SELEKT 1"), ERR_DB);
	cr_assert_null(st);
	cr_assert(strstr(ledger_errmsg(l), "prepare: ") == ledger_errmsg(l),
	    "%s", ledger_errmsg(l));
	cr_assert_neq(
	    strstr(ledger_errmsg(l), "SELEKT"), NULL, "%s", ledger_errmsg(l));

	cr_assert_eq(
	    ledger_sql_prepare(l, &st, "SELECT value FROM meta WHERE key = ?1"),
	    0);
	cr_assert_eq(ledger_sql_bind_int(l, st, 2, 7), ERR_DB);
	cr_assert_str_eq(ledger_errmsg(l), "bind: column index out of range");
	cr_assert_eq(ledger_sql_bind_text(l, st, 2, "x"), ERR_DB);
	cr_assert_eq(ledger_sql_bind_blob(l, st, 1, "x", (size_t)INT_MAX + 1),
	    ERR_TOO_LARGE);
	cr_assert_eq(ledger_sql_bind_text(l, st, 1, "no such key"), 0);
	cr_assert_eq(ledger_sql_row(l, st, &found), 0);
	cr_assert_eq(found, 0);
	sqlite3_reset(st);
	cr_assert_eq(ledger_sql_bind_text(l, st, 1, "schema_version"), 0);
	cr_assert_eq(ledger_sql_row(l, st, &found), 0);
	cr_assert_eq(found, 1);
	cr_assert_str_eq(ledger_sql_text(st, 0), "4");
	sqlite3_finalize(st);

	cr_assert_eq(ledger_sql_prepare(l, &st,
			 "UPDATE users SET disabled = 1 WHERE name = ?1"),
	    0);
	cr_assert_eq(ledger_sql_bind_text(l, st, 1, "nobody"), 0);
	cr_assert_eq(ledger_sql_done(l, st, &changes), 0);
	cr_assert_eq(changes, 0);
	sqlite3_finalize(st);
	/* A statement that returns a row is not "done". */
	cr_assert_eq(ledger_sql_prepare(l, &st, "SELECT 1"), 0);
	cr_assert_eq(ledger_sql_done(l, st, &changes), ERR_DB);
	cr_assert_eq(changes, 0);
	sqlite3_finalize(st);
	ledger_close(l);
}

/* ledger_sql_cached(): one statement per SQL text, lent until released,
 * never lent twice at once. */
Test(ledger, sql_cached_statements)
{
	struct ledger *l = NULL;
	sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;
	int found = -1;
	const char *q = "SELECT value FROM meta WHERE key = ?1";

	cr_assert_eq(ledger_open(&l, dbpath, 1), 0);
	cr_assert_eq(ledger_sql_cached(l, &a, "SELEKT 1"), ERR_DB);
	cr_assert_null(a);
	cr_assert_eq(ledger_sql_cached(l, &a, q), 0);
	cr_assert_eq(ledger_sql_bind_text(l, a, 1, "schema_version"), 0);
	cr_assert_eq(ledger_sql_row(l, a, &found), 0);
	cr_assert_eq(found, 1);
	/* Lent out: the same SQL (a nested use) gets another statement. */
	cr_assert_eq(ledger_sql_cached(l, &b, q), 0);
	cr_assert_neq(a, b);
	ledger_sql_release(l, b); /* not the cached one: finalized */
	ledger_sql_release(l, a);
	/* Given back: lent again, reset, bindings cleared (NULL matches no
	 * key). */
	cr_assert_eq(ledger_sql_cached(l, &c, q), 0);
	cr_assert_eq(c, a);
	cr_assert_eq(ledger_sql_row(l, c, &found), 0);
	cr_assert_eq(found, 0);
	/* Released in the middle of a query: reset, so a write from
	 * another connection and a COMMIT are not held up. */
	sqlite3_reset(c);
	cr_assert_eq(ledger_sql_bind_text(l, c, 1, "schema_version"), 0);
	cr_assert_eq(ledger_sql_row(l, c, &found), 0);
	cr_assert_eq(found, 1);
	ledger_sql_release(l, c);
	cr_assert_eq(sqlite3_stmt_busy(c), 0);
	ledger_sql_release(l, NULL);
	ledger_close(l);
}

struct cached_reader {
	struct ledger *l;
	int fails;
};

/* A reader between transactions, querying with a cached statement. */
static void *
cached_reader_run(void *arg)
{
	struct cached_reader *x = arg;
	sqlite3_stmt *st = NULL;
	int i, found;

	for (i = 0; i < 2000; i++) {
		ledger_read_begin(x->l);
		if (ledger_sql_cached(x->l, &st,
			"SELECT value FROM meta WHERE key = ?1") != 0 ||
		    ledger_sql_bind_text(x->l, st, 1, "head_seq") != 0 ||
		    ledger_sql_row(x->l, st, &found) != 0 || found != 1 ||
		    ledger_sql_text(st, 0)[0] == '\0')
			x->fails++;
		ledger_sql_release(x->l, st);
		st = NULL;
		ledger_read_end(x->l);
	}
	return NULL;
}

/* Readers run concurrently between units: each holds its statement
 * alone (a shared one would be reset or rebound under another). */
Test(ledger, sql_cached_concurrent_readers, .timeout = 60)
{
	struct ledger *l = open_new();
	struct cached_reader x[3];
	pthread_t t[3];
	json_t *d = json_object();
	int i;

	for (i = 0; i < 3; i++) {
		x[i].l = l;
		x[i].fails = 0;
		cr_assert_eq(
		    pthread_create(&t[i], NULL, cached_reader_run, &x[i]), 0);
	}
	for (i = 0; i < 200; i++)
		append1(l, "t.x", "a", "s", d);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(pthread_join(t[i], NULL), 0);
		cr_assert_eq(x[i].fails, 0);
	}
	json_decref(d);
	ledger_close(l);
	expect_intact(200);
}

/*
 * The plain reference encoding: the array [seq,time,type,actor,subject,
 * details] built as a JSON value and dumped with the canonical flags,
 * hashed with th_hash().  NULL when jansson refuses a string.
 */
static char *
ref_hash(const char *prev, int64_t seq, int64_t t, const char *type,
    const char *actor, const char *subject, const char *dtext)
{
	json_t *a = json_array(), *d;
	json_error_t e;
	char *canon, *h;

	cr_assert_not_null(a);
	d = json_loads(dtext, 0, &e);
	cr_assert_not_null(d, "%s", dtext);
	if (json_array_append_new(a, json_integer(seq)) != 0 ||
	    json_array_append_new(a, json_integer(t)) != 0 ||
	    json_array_append_new(a, json_string(type)) != 0 ||
	    json_array_append_new(a, json_string(actor)) != 0 ||
	    json_array_append_new(a, json_string(subject)) != 0) {
		json_decref(d);
		json_decref(a);
		return NULL;
	}
	cr_assert_eq(json_array_append_new(a, d), 0);
	canon =
	    json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
	cr_assert_not_null(canon);
	h = th_hash(prev, canon);
	free(canon);
	json_decref(a);
	return h;
}

/* ledger_event_hash() (the fast path: no array built, plain ASCII
 * copied as is) gives the reference hash for every kind of field, and
 * refuses what the reference refuses. */
Test(ledger, canonical_encoder_matches_reference)
{
	static const char *fields[] = {
	    "cert.issued",
	    "alice",
	    "a \"quoted\" name",
	    "back\\slash",
	    "slash/es",
	    "tab\there",
	    "nl\nand\rcr",
	    "\x01\x1f ctl",
	    "del\x7f",
	    "caf\xc3\xa9",
	    "\xe2\x80\xae rtl override",
	    "emoji \xf0\x9f\x94\x91",
	    "",
	    "~!@#$%^&*()_+{}|:<>?`-=[];',.",
	};
	/* Canonical texts (jansson's \u escapes are upper-case). */
	static const char *details[] = {
	    "{}",
	    "{\"a\":1,\"b\":[true,null,\"x\"]}",
	    "{\"k\":\"caf\\u00E9 \\\"q\\\"\"}",
	};
	char prev[LEDGER_HASH_HEX], got[LEDGER_HASH_HEX], *big, *want;
	size_t i, j, k;

	snprintf(prev, sizeof(prev), "%s", ZERO64);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		for (j = 0; j < sizeof(fields) / sizeof(fields[0]); j += 3) {
			for (k = 0; k < sizeof(details) / sizeof(details[0]);
			     k++) {
				want = ref_hash(prev, (int64_t)(i + 1),
				    1700000000 + (int64_t)j, fields[i],
				    fields[j], fields[(i + j) % 14],
				    details[k]);
				cr_assert_not_null(want);
				cr_assert_eq(
				    ledger_event_hash(NULL, prev,
					(int64_t)(i + 1),
					1700000000 + (int64_t)j, fields[i],
					fields[j], fields[(i + j) % 14],
					details[k], got),
				    0);
				cr_assert_str_eq(got, want,
				    "fields %zu/%zu, details %zu", i, j, k);
				free(want);
			}
		}
	}
	/* Longer than the encoder's buffer, with and without escapes. */
	big = malloc(5000);
	cr_assert_not_null(big);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	want = ref_hash(prev, 7, 8, big, "a", "b", "{}");
	cr_assert_eq(
	    ledger_event_hash(NULL, prev, 7, 8, big, "a", "b", "{}", got), 0);
	cr_assert_str_eq(got, want);
	free(want);
	big[100] = '"';
	big[4000] = '\xc3';
	big[4001] = '\xa9';
	want = ref_hash(prev, INT64_MAX, -1, "t", big, "s", "{}");
	cr_assert_eq(ledger_event_hash(
			 NULL, prev, INT64_MAX, -1, "t", big, "s", "{}", got),
	    0);
	cr_assert_str_eq(got, want);
	free(want);
	/* Invalid UTF-8: both refuse. */
	cr_assert_null(ref_hash(prev, 1, 1, "t", "\xc3(", "s", "{}"));
	cr_assert_eq(
	    ledger_event_hash(NULL, prev, 1, 1, "t", "\xc3(", "s", "{}", got),
	    ERR_INVALID_ARG);
	cr_assert_eq(
	    ledger_event_hash(NULL, prev, 1, 1, "\xff", "a", "s", "{}", got),
	    ERR_INVALID_ARG);
	free(big);
}
