/*
 * test_pg.c: the ledger on a real PostgreSQL server (ca/store/pg.c,
 * started by tests/lib/pg.c): creation and refusal of an empty
 * database, appends and verification, concurrent appends from several
 * connections (one chain, no serial twice), the same request approved
 * through two connections at once (exactly one wins, 50 times), and a
 * server restart under an open handle (ERR_LEDGER_UNREACHABLE while
 * down, then it reconnects by itself), two replicas signing
 * checkpoints while appending (one tree, none of the same size twice),
 * and reads beside a unit: they do not wait for it and do not see it,
 * and a read section is one snapshot; one session signed out through two
 * replicas at once (one ends it, one event, the other is refused).
 * Every typed operation, on this
 * backend and on sqlite, is in test_store.c.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ca/checkpoint.h"
#include "ca/config.h"
#include "ca/ledger.h"
#include "ca/store/store.h"
#include "ca/users.h"
#include "tests/lib/pg.h"
#include "tests/lib/testutil.h"

static struct tpg srv;
static char *url;

static void
setup(void)
{
	cr_assert_eq(setenv("JITCA_TEST_NOW", "1700000000", 1), 0);
	tpg_start(&srv);
	url = tpg_newdb(&srv, "jitca");
}

static void
teardown(void)
{
	tpg_stop(&srv);
	free(url);
}

TestSuite(pg, .init = setup, .fini = teardown, .timeout = 240);

static void
append1(struct ledger *l, const char *type, int64_t *seq)
{
	int64_t s = -1;

	cr_assert_eq(ledger_begin(l), 0, "%s", ledger_errmsg(l));
	cr_assert_eq(ledger_append(l, &s, type, "alice", "subj", NULL), 0, "%s",
	    ledger_errmsg(l));
	cr_assert_eq(ledger_commit(l), 0, "%s", ledger_errmsg(l));
	if (seq != NULL)
		*seq = s;
}

static void
expect_intact(struct ledger *l, int64_t n)
{
	char err[LEDGER_ERR_LEN];
	int64_t count = -1, bad = -1;

	cr_assert_eq(ledger_verify(l, &count, &bad, err), 0, "%s", err);
	cr_assert_eq(count, n);
	cr_assert_eq(bad, 0);
}

Test(pg, create_refuse_append_verify)
{
	struct ledger *l = NULL;
	char err[LEDGER_ERR_LEN];
	char *out;
	int64_t seq = 0;

	cr_assert_eq(ledger_open_err(&l, url, 0, err), ERR_DB);
	cr_assert_str_eq(err, "ledger is empty (not initialised)");
	cr_assert_eq(ledger_open_err(&l, url, 1, err), 0, "%s", err);
	append1(l, "a", &seq);
	cr_assert_eq(seq, 1);
	append1(l, "b", &seq);
	cr_assert_eq(seq, 2);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(ledger_append(l, &seq, "c", "x", "y", NULL), 0);
	ledger_rollback(l);
	append1(l, "d", &seq);
	cr_assert_eq(seq, 3);
	expect_intact(l, 3);
	ledger_close(l);
	/* Reopened (and create=1 again leaves the schema alone). */
	cr_assert_eq(ledger_open(&l, url, 1), 0);
	expect_intact(l, 3);
	ledger_close(l);
	/* The events are append-only in the database itself. */
	out = tpg_psql(url, "SELECT type FROM events ORDER BY seq;");
	cr_assert_str_eq(out, "a\nb\nd\n");
	free(out);
	{
		char *e = NULL;

		cr_assert_neq(tpg_psql_try(url,
				  "UPDATE events SET actor = 'eve';", NULL, &e),
		    0);
		cr_assert_not_null(
		    strstr(e, "events are append-only"), "%s", e);
		free(e);
	}
	/* A foreign schema version is refused. */
	free(tpg_psql(url,
	    "UPDATE meta SET value = '9' WHERE key ="
	    " 'schema_version';"));
	cr_assert_eq(ledger_open_err(&l, url, 0, err), ERR_DB);
	cr_assert_str_eq(err, "ledger schema_version \"9\" is not supported");
}

/* Writers on connections of their own, as replicas are. */
struct writer {
	int n;
	int ok;
	int busy;
	uint64_t serials[64];
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct ledger *l = NULL;
	int64_t seq;
	int i, r;

	if (ledger_open(&l, url, 0) != 0)
		return NULL;
	for (i = 0; i < w->n; i++) {
		if (ledger_begin(l) != 0)
			continue;
		if ((r = ledger_serial_next(l, &w->serials[w->ok])) != 0 ||
		    (r = ledger_append(
			 l, &seq, "cert.issued", "w", "s", NULL)) != 0) {
			ledger_rollback(l);
			w->busy++;
			continue;
		}
		if (ledger_commit(l) == 0)
			w->ok++;
		else
			w->busy++;
	}
	ledger_close(l);
	return NULL;
}

Test(pg, concurrent_appends_one_chain)
{
	struct writer w[4];
	pthread_t t[4];
	struct ledger *l = NULL;
	uint64_t seen[256];
	int i, j, k, total = 0;

	cr_assert_eq(ledger_open(&l, url, 1), 0);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 4; i++) {
		w[i].n = 40;
		cr_assert_eq(
		    pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	for (i = 0; i < 4; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	for (i = 0, k = 0; i < 4; i++) {
		cr_assert_eq(w[i].ok, 40, "writer %d: %d ok, %d failed", i,
		    w[i].ok, w[i].busy);
		for (j = 0; j < w[i].ok; j++)
			seen[k++] = w[i].serials[j];
		total += w[i].ok;
	}
	for (i = 0; i < k; i++)
		for (j = i + 1; j < k; j++)
			cr_assert_neq(seen[i], seen[j],
			    "serial %" PRIu64 " twice", seen[i]);
	expect_intact(l, total);
	ledger_close(l);
}

/* Two replicas approve the same request at once. */
struct racer {
	struct ledger *l;
	int64_t id;
	int won;
	int lost;
	pthread_barrier_t *go;
};

static void *
racer_main(void *arg)
{
	struct racer *x = arg;
	struct store *s = ledger_store(x->l);
	uint64_t serial = 0;
	int64_t seq;
	int r;

	(void)pthread_barrier_wait(x->go);
	if (ledger_begin(x->l) != 0)
		return NULL;
	r = ledger_serial_next(x->l, &serial);
	if (r == 0)
		r = store_request_state_set(
		    s, x->id, "pending", "issued", (int64_t)serial, 1);
	if (r == 0)
		r = ledger_append(x->l, &seq, "cert.issued", "r", "s", NULL);
	if (r != 0) {
		ledger_rollback(x->l);
		if (r == ERR_WRONG_STATE)
			x->lost = 1;
		return NULL;
	}
	if (ledger_commit(x->l) == 0)
		x->won = 1;
	return NULL;
}

Test(pg, same_request_approved_twice_at_once)
{
	struct store_request_new nr = {
	    "bob", "admin", "[]", 60, "r", "k", "fp", 1, 1000, 1, 0};
	struct ledger *a = NULL, *b = NULL;
	struct racer x[2];
	pthread_barrier_t go;
	pthread_t t[2];
	int64_t id;
	int round, wins;
	char *out;

	cr_assert_eq(ledger_open(&a, url, 1), 0);
	cr_assert_eq(ledger_open(&b, url, 0), 0);
	for (round = 0; round < 50; round++) {
		cr_assert_eq(ledger_begin(a), 0);
		cr_assert_eq(
		    store_request_insert(ledger_store(a), &nr, &id), 0);
		cr_assert_eq(ledger_commit(a), 0);
		cr_assert_eq(pthread_barrier_init(&go, NULL, 2), 0);
		memset(x, 0, sizeof(x));
		x[0].l = a;
		x[1].l = b;
		x[0].id = x[1].id = id;
		x[0].go = x[1].go = &go;
		cr_assert_eq(pthread_create(&t[0], NULL, racer_main, &x[0]), 0);
		cr_assert_eq(pthread_create(&t[1], NULL, racer_main, &x[1]), 0);
		cr_assert_eq(pthread_join(t[0], NULL), 0);
		cr_assert_eq(pthread_join(t[1], NULL), 0);
		(void)pthread_barrier_destroy(&go);
		wins = x[0].won + x[1].won;
		cr_assert_eq(wins, 1, "round %d: %d winners", round, wins);
		cr_assert_eq(x[0].lost + x[1].lost, 1, "round %d", round);
	}
	out = tpg_psql(url,
	    "SELECT count(*), count(DISTINCT serial) FROM"
	    " requests WHERE state = 'issued';");
	cr_assert_str_eq(out, "50|50\n");
	free(out);
	expect_intact(a, 50);
	ledger_close(a);
	ledger_close(b);
}

/* A thread signing out of one session through its own handle. */
struct signer_out {
	struct ledger *l;
	const char *token;
	pthread_barrier_t *go;
	int r;
};

static void *
sign_out_main(void *arg)
{
	struct signer_out *x = arg;

	(void)pthread_barrier_wait(x->go);
	x->r = user_session_end(x->l, x->token, NULL, NULL);
	return NULL;
}

Test(pg, session_signed_out_through_two_replicas_at_once)
{
	static const char cfg_json[] =
	    "{\"listen\": \"127.0.0.1:8443\", \"ca\": {\"key_file\": "
	    "\"ca_key.pem\"}, \"ledger\": {\"path\": \"ledger.db\"}, "
	    "\"request_ttl\": \"1h\", \"roles\": {\"staging\": "
	    "{\"principals\": [\"{{user}}\"], \"max_ttl\": \"8h\", "
	    "\"requesters\": [\"engineering\"], \"approvals_required\": 0}}}";
	char *g[1] = {"engineering"}, *tok = NULL, *out, *dir = tu_tmpdir();
	struct ledger *a = NULL, *b = NULL;
	struct config *cfg = NULL;
	struct user_sign_in in;
	struct signer_out x[2];
	struct user *u = NULL;
	pthread_barrier_t go;
	pthread_t t[2];
	int round;

	cr_assert_eq(
	    config_parse(&cfg, dir, cfg_json, strlen(cfg_json), NULL), 0);
	cr_assert_eq(ledger_open(&a, url, 1), 0);
	cr_assert_eq(ledger_open(&b, url, 0), 0);
	memset(&in, 0, sizeof(in));
	in.name = "amy";
	in.groups = g;
	in.ngroups = 1;
	in.expires = 1700000600;
	in.auth_time = 1700000000;
	in.issuer = "https://idp";
	in.subject = "amy-1";
	for (round = 0; round < 20; round++) {
		cr_assert_eq(user_sign_in(a, cfg, &in, &tok, NULL), 0);
		cr_assert_eq(user_authenticate(b, tok, &u), 0);
		user_free(u);
		cr_assert_eq(pthread_barrier_init(&go, NULL, 2), 0);
		x[0].l = a;
		x[1].l = b;
		x[0].token = x[1].token = tok;
		x[0].go = x[1].go = &go;
		x[0].r = x[1].r = -1;
		cr_assert_eq(
		    pthread_create(&t[0], NULL, sign_out_main, &x[0]), 0);
		cr_assert_eq(
		    pthread_create(&t[1], NULL, sign_out_main, &x[1]), 0);
		cr_assert_eq(pthread_join(t[0], NULL), 0);
		cr_assert_eq(pthread_join(t[1], NULL), 0);
		(void)pthread_barrier_destroy(&go);
		cr_assert((x[0].r == 0 && x[1].r == ERR_BAD_TOKEN) ||
			(x[1].r == 0 && x[0].r == ERR_BAD_TOKEN),
		    "round %d: %d and %d", round, x[0].r, x[1].r);
		cr_assert_eq(user_authenticate(a, tok, &u), ERR_BAD_TOKEN);
		cr_assert_eq(user_authenticate(b, tok, &u), ERR_BAD_TOKEN);
		user_token_free(tok);
	}
	out = tpg_psql(url,
	    "SELECT count(*) FILTER (WHERE type = 'session.opened'),"
	    " count(*) FILTER (WHERE type = 'session.closed') FROM events;"
	    " SELECT count(*) FROM sessions;");
	cr_assert_str_eq(out, "20|20\n0\n");
	free(out);
	/* user.seen, then 20 times session.opened and session.closed. */
	expect_intact(a, 41);
	ledger_close(a);
	ledger_close(b);
	config_free(cfg);
	tu_rmtree(dir);
	free(dir);
}

Test(pg, server_restart_under_an_open_handle)
{
	struct ledger *l = NULL;
	int64_t seq = 0;
	uint64_t v;
	int r;

	cr_assert_eq(ledger_open(&l, url, 1), 0);
	append1(l, "a", &seq);
	tpg_server_stop(&srv);
	r = ledger_begin(l);
	if (r == 0) {
		r = ledger_append(l, &seq, "b", "x", "y", NULL);
		ledger_rollback(l);
	}
	cr_assert_eq(r, ERR_LEDGER_UNREACHABLE, "%d %s", r, ledger_errmsg(l));
	cr_assert_eq(ledger_krl_version(l, &v), ERR_LEDGER_UNREACHABLE);
	cr_assert_not_null(
	    strstr(ledger_errmsg(l), "postgres"), "%s", ledger_errmsg(l));
	tpg_server_start(&srv);
	/* The same handle reconnects by itself. */
	append1(l, "c", &seq);
	cr_assert_eq(seq, 2);
	expect_intact(l, 2);
	ledger_close(l);
}

/* The last committed seq as a reader of l sees it. */
static int64_t
tail_seq(struct ledger *l)
{
	struct store_tail t;

	memset(&t, 0, sizeof(t));
	cr_assert_eq(
	    store_event_tail(ledger_store(l), &t), 0, "%s", ledger_errmsg(l));
	return t.seq;
}

struct beside {
	struct ledger *l;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, rc;
	int64_t seq;
};

/* No cr_assert here: it is not this thread's to fail the test. */
static void *
read_beside(void *arg)
{
	struct beside *b = arg;
	struct store_tail t;
	int rc;

	memset(&t, 0, sizeof(t));
	ledger_read_begin(b->l);
	rc = store_event_tail(ledger_store(b->l), &t);
	ledger_read_end(b->l);
	(void)pthread_mutex_lock(&b->mu);
	b->rc = rc;
	b->seq = t.seq;
	b->done = 1;
	(void)pthread_cond_signal(&b->cv);
	(void)pthread_mutex_unlock(&b->mu);
	return NULL;
}

Test(pg, reads_do_not_wait_for_a_unit)
{
	struct beside b = {
	    .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct timespec until;
	pthread_t t;
	int64_t seq = 0;
	int done;

	cr_assert_eq(ledger_open(&b.l, url, 1), 0);
	append1(b.l, "a", &seq);
	/* A unit open, its event written, its COMMIT not yet run: a read
	 * in another thread answers at once, from the committed rows. */
	cr_assert_eq(ledger_begin(b.l), 0, "%s", ledger_errmsg(b.l));
	cr_assert_eq(ledger_append(b.l, &seq, "b", "alice", "subj", NULL), 0);
	cr_assert_eq(seq, 2);
	cr_assert_eq(pthread_create(&t, NULL, read_beside, &b), 0);
	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	(void)pthread_mutex_lock(&b.mu);
	while (!b.done && pthread_cond_timedwait(&b.cv, &b.mu, &until) == 0)
		;
	done = b.done;
	(void)pthread_mutex_unlock(&b.mu);
	cr_assert_eq(ledger_commit(b.l), 0, "%s", ledger_errmsg(b.l));
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert(done, "the read waited for the unit's COMMIT");
	cr_assert_eq(b.rc, 0, "%d", b.rc);
	cr_assert_eq(b.seq, 1);
	cr_assert_eq(tail_seq(b.l), 2);

	/* A read section is one snapshot: a commit made meanwhile (here
	 * by the same thread) shows in the next section, not this one. */
	ledger_read_begin(b.l);
	cr_assert_eq(tail_seq(b.l), 2);
	append1(b.l, "c", &seq);
	cr_assert_eq(seq, 3);
	cr_assert_eq(tail_seq(b.l), 2);
	ledger_read_end(b.l);
	cr_assert_eq(tail_seq(b.l), 3);
	expect_intact(b.l, 3);
	ledger_close(b.l);
}

Test(pg, notification_lease_between_replicas)
{
	struct ledger *a = NULL, *b = NULL;
	struct store *sa, *sb;
	int64_t seq = -1;
	int found = -1;

	cr_assert_eq(ledger_open(&a, url, 1), 0);
	cr_assert_eq(ledger_open(&b, url, 0), 0);
	sa = ledger_store(a);
	sb = ledger_store(b);
	cr_assert_eq(store_notify_cursor_get(sa, "hook", &seq, &found), 0);
	cr_assert_eq(found, 0);
	cr_assert_eq(ledger_begin(a), 0);
	cr_assert_eq(store_notify_cursor_put(sa, "hook", 5, 100), 0);
	cr_assert_eq(store_notify_cursor_put(sa, "hook", 9, 100), 0);
	cr_assert_eq(store_notify_lease_take(sa, "hook", "A", 100, 30), 0);
	cr_assert_eq(ledger_commit(a), 0);
	/* B cannot take it before it expires, nor advance the cursor. */
	cr_assert_eq(ledger_begin(b), 0);
	cr_assert_eq(store_notify_lease_take(sb, "hook", "B", 120, 30),
	    ERR_NOTIFY_LEASE);
	cr_assert_eq(store_notify_cursor_advance(sb, "hook", "B", 7, 120),
	    ERR_NOTIFY_LEASE);
	ledger_rollback(b);
	cr_assert_eq(ledger_begin(a), 0);
	cr_assert_eq(store_notify_cursor_advance(sa, "hook", "A", 7, 120), 0);
	cr_assert_eq(store_notify_cursor_advance(sa, "hook", "A", 6, 120), 0);
	cr_assert_eq(ledger_commit(a), 0);
	cr_assert_eq(store_notify_cursor_get(sb, "hook", &seq, &found), 0);
	cr_assert_eq(found, 1);
	cr_assert_eq(seq, 7); /* forward only */
	/* Expired (or released), B takes it. */
	cr_assert_eq(ledger_begin(b), 0);
	cr_assert_eq(store_notify_lease_take(sb, "hook", "B", 130, 30), 0);
	cr_assert_eq(ledger_commit(b), 0);
	cr_assert_eq(ledger_begin(a), 0);
	cr_assert_eq(store_notify_cursor_advance(sa, "hook", "A", 8, 131),
	    ERR_NOTIFY_LEASE);
	ledger_rollback(a);
	ledger_close(a);
	ledger_close(b);
}

/* A signer of checkpoints for the test: the note names size and root. */
static int
fake_sign(void *ctx, const char *origin, uint64_t size,
    const uint8_t root[MERKLE_HASH_LEN], char **note, char **sig)
{
	(void)ctx;
	*note = tu_fmt("%s\n%" PRIu64 "\n%02x\n", origin, size, root[0]);
	*sig = strdup("sig");
	return 0;
}

struct cp_writer {
	int made, failed;
};

static void *
cp_writer_main(void *arg)
{
	struct checkpoint_signer sg = {fake_sign, NULL};
	struct cp_writer *w = arg;
	struct ledger *l = NULL;
	int i, made;

	if (ledger_open(&l, url, 0) != 0)
		return NULL;
	for (i = 0; i < 20; i++) {
		if (ledger_begin(l) != 0 ||
		    ledger_append(l, NULL, "x.y", "w", "s", NULL) != 0) {
			w->failed++;
			continue;
		}
		if (ledger_commit(l) != 0 ||
		    checkpoint_make(
			l, "test/origin", &sg, "w", 1, &made, NULL) != 0)
			w->failed++;
		else
			w->made += made;
	}
	ledger_close(l);
	return NULL;
}

static int
check_cp(void *arg, const struct store_checkpoint *c)
{
	struct ledger *l = arg;
	uint8_t root[MERKLE_HASH_LEN];

	cr_assert_eq(ledger_tree_root(l, c->size, root), 0);
	cr_assert_eq(memcmp(root, c->root, sizeof(root)), 0,
	    "checkpoint %" PRIu64 " signs another tree", c->size);
	return 0;
}

/* Two replicas signing checkpoints while both append: every checkpoint
 * is made (none collides with another of the same size), and each signs
 * the root of the one tree at its size. */
Test(pg, checkpoints_of_two_replicas_one_tree)
{
	struct cp_writer w[2];
	pthread_t t[2];
	struct ledger *l = NULL;
	char *out;
	int i;

	cr_assert_eq(ledger_open(&l, url, 1), 0);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 2; i++)
		cr_assert_eq(
		    pthread_create(&t[i], NULL, cp_writer_main, &w[i]), 0);
	for (i = 0; i < 2; i++)
		cr_assert_eq(pthread_join(t[i], NULL), 0);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(w[i].failed, 0, "writer %d", i);
		cr_assert_eq(w[i].made, 20, "writer %d", i);
	}
	out = tpg_psql(url,
	    "SELECT count(*), count(DISTINCT tree_size) FROM"
	    " checkpoints;");
	cr_assert_str_eq(out, "40|40\n");
	free(out);
	cr_assert_eq(store_checkpoints_each(ledger_store(l), check_cp, l), 0);
	expect_intact(l, 80);
	ledger_close(l);
}
