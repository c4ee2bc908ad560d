/*
 * test_store.c: the storage interface (ca/store/store.h) with exact
 * results, the same tests on both backends: sqlite (a file in a
 * temporary directory) and PostgreSQL (a real server, tests/lib/pg.c).
 * Serials and counters, change detection between two handles (replicas),
 * every typed operation: users, signing in (groups, sessions,
 * identities), requests and approvals, certificates and revocations, the
 * KRL's rows, raw rows, hosts and their keys, events by subject, the
 * Merkle tree and the checkpoints; and the triggers that refuse edits of
 * append-only rows in the database itself, each with its message; and
 * ledger_copy() (jitcad ledger migrate) from each backend into the
 * other, every table the same row by row; and tampered events caught by
 * ledger_verify() on both.
 * Where the backends differ on purpose it says so: a rolled-back serial
 * is a gap on PostgreSQL (a sequence) and reused on sqlite.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>

#include "ca/ledger.h"
#include "ca/store/store.h"
#include "tests/lib/pg.h"
#include "tests/lib/testutil.h"

/* Copied into each test's process: no pointers. */
struct backend {
	char name[16]; /* as store_ops.name */
};

static struct tpg srv;
static char *dir, *loc;

static void
teardown(void)
{
	tpg_stop(&srv);
	if (dir != NULL)
		tu_rmtree(dir);
	free(dir);
	free(loc);
	dir = loc = NULL;
}

TestSuite(store, .fini = teardown, .timeout = 240);

ParameterizedTestParameters(store, serials_counters_changes)
{
	static struct backend b[] = {{"sqlite"}, {"postgres"}};

	return cr_make_param_array(struct backend, b, 2);
}

/* A new empty ledger location of backend b in loc. */
static int
backend_start(const struct backend *b)
{
	cr_assert_eq(setenv("JITCA_TEST_NOW", "1700000000", 1), 0);
	if (strcmp(b->name, "postgres") == 0) {
		tpg_start(&srv);
		loc = tpg_newdb(&srv, "jitca");
		return 1;
	}
	dir = tu_tmpdir();
	loc = tu_fmt("%s/ledger.db", dir);
	return 0;
}

/* SQL run on the ledger behind the interface, as an operator's client
 * would (psql, sqlite3): its exit status, its stderr in *err (new). */
static int
raw_sql(int pg, const char *sql, char **err)
{
	char *cmd, *f;
	int rc;

	if (pg)
		return tpg_psql_try(loc, sql, NULL, err);
	f = tu_fmt("%s.sql", loc);
	tu_write_file(f, sql, strlen(sql), 0644);
	cmd = tu_fmt("sqlite3 -bail '%s' < '%s'", loc, f);
	rc = tu_sh(cmd, NULL, err);
	free(cmd);
	(void)unlink(f);
	free(f);
	return rc;
}

static void
append1(struct ledger *l, const char *type, const char *subject)
{
	cr_assert_eq(ledger_begin(l), 0, "%s", ledger_errmsg(l));
	cr_assert_eq(ledger_append(l, NULL, type, "alice", subject, NULL), 0,
	    "%s", ledger_errmsg(l));
	cr_assert_eq(ledger_commit(l), 0, "%s", ledger_errmsg(l));
}

ParameterizedTest(struct backend *b, store, serials_counters_changes)
{
	struct ledger *a = NULL, *c = NULL;
	uint64_t s = 0, v = 9;
	int ch = -1, pg = backend_start(b);

	cr_assert_eq(ledger_open(&a, loc, 1), 0);
	cr_assert_eq(ledger_open(&c, loc, 0), 0);
	cr_assert_str_eq(ledger_store(a)->ops->name, b->name);
	cr_assert_eq(ledger_serial_next(a, &s), ERR_INVALID_ARG);
	cr_assert_eq(ledger_begin(a), 0);
	cr_assert_eq(ledger_serial_next(a, &s), 0);
	cr_assert_eq(s, 1);
	cr_assert_eq(ledger_serial_next(a, &s), 0);
	cr_assert_eq(s, 2);
	cr_assert_eq(ledger_commit(a), 0);
	/* A rolled-back unit: a gap on PostgreSQL, reused on sqlite. */
	cr_assert_eq(ledger_begin(c), 0);
	cr_assert_eq(ledger_serial_next(c, &s), 0);
	cr_assert_eq(s, 3);
	ledger_rollback(c);
	cr_assert_eq(ledger_begin(a), 0);
	cr_assert_eq(ledger_serial_next(a, &s), 0);
	cr_assert_eq(s, pg ? 4 : 3);
	cr_assert_eq(ledger_commit(a), 0);
	/* The KRL version, as the other handle sees it. */
	cr_assert_eq(ledger_krl_version(c, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(ledger_begin(a), 0);
	cr_assert_eq(ledger_krl_version_bump(a, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(ledger_krl_version_bump(a, &v), 0);
	cr_assert_eq(v, 2);
	cr_assert_eq(ledger_commit(a), 0);
	cr_assert_eq(ledger_krl_version(c, &v), 0);
	cr_assert_eq(v, 2);
	/* Change detection between handles (replicas); what each has
	 * seen so far first (sqlite may count c's rolled-back unit). */
	cr_assert_eq(ledger_changed(a, &ch), 0);
	cr_assert_eq(ledger_changed(c, &ch), 0);
	append1(c, "x", "s");
	cr_assert_eq(ledger_changed(c, &ch), 0);
	cr_assert_eq(ch, 0); /* its own commit */
	cr_assert_eq(ledger_changed(a, &ch), 0);
	cr_assert_eq(ch, 1);
	cr_assert_eq(ledger_changed(a, &ch), 0);
	cr_assert_eq(ch, 0);
	append1(a, "y", "s");
	cr_assert_eq(ledger_changed(a, &ch), 0);
	cr_assert_eq(ch, 0);
	cr_assert_eq(ledger_changed(c, &ch), 0);
	cr_assert_eq(ch, 1);
	cr_assert_eq(ledger_changed(c, &ch), 0);
	cr_assert_eq(ch, 0);
	ledger_close(a);
	ledger_close(c);
}

static int
count_user(void *arg, const struct store_user *u)
{
	char *names = arg;

	strcat(names, u->name);
	strcat(names, ",");
	return 0;
}

static int
add_serial(void *arg, uint64_t serial)
{
	char *out = arg;
	char one[32];

	(void)snprintf(one, sizeof(one), "s%" PRIu64 ",", serial);
	strcat(out, one);
	return 0;
}

static int
add_key(void *arg, const uint8_t sha[32])
{
	char *out = arg;
	char one[8];

	(void)snprintf(one, sizeof(one), "k%02x,", sha[0]);
	strcat(out, one);
	return 0;
}

static int
add_match(void *arg, const struct store_cert_match *m)
{
	char *out = arg;
	char one[128];

	(void)snprintf(one, sizeof(one), "%" PRId64 ":%s:%s:%" PRId64 ":%d,",
	    m->serial, m->key_id, m->user, m->request, m->revoked);
	strcat(out, one);
	return 0;
}

static int
add_approval(void *arg, const struct store_approval *a)
{
	char *out = arg;

	strcat(out, a->approver);
	strcat(out, "=");
	strcat(out, a->decision);
	strcat(out, ",");
	return 0;
}

ParameterizedTestParameters(store, typed_operations)
{
	static struct backend b[] = {{"sqlite"}, {"postgres"}};

	return cr_make_param_array(struct backend, b, 2);
}

ParameterizedTest(struct backend *b, store, typed_operations)
{
	struct ledger *l = NULL;
	struct store *s;
	struct store_user *u = NULL;
	struct store_request rq;
	struct store_request_new nr = {"bob", "admin", "[\"root\"]", 3600,
	    "fix", "ssh-ed25519 AAAA", "SHA256:x", 100, 200, 2, 0};
	struct store_request_counts rc;
	struct store_approval ap = {"carol", "approve", 150, "ok"};
	struct store_cert_info ci;
	struct store_rows *it = NULL;
	const struct store_cell *row;
	uint8_t h1[32], h2[32], kb[3] = {0, 1, 0xff};
	int64_t id = 0, id2 = 0, ids[8];
	int64_t *due = NULL;
	uint64_t latest = 9;
	size_t n = 0;
	char buf[512];
	char *mv = NULL;
	int conflict = -1, newly = -1, found = -1, exists = -1;
	const char *roles[] = {"admin"};
	struct store_request_query q = {0};
	struct store_cert_query cq = {0};

	int pg = backend_start(b);

	memset(h1, 0xaa, sizeof(h1));
	memset(h2, 0x11, sizeof(h2));
	cr_assert_eq(ledger_open(&l, loc, 1), 0);
	s = ledger_store(l);
	cr_assert_str_eq(s->ops->name, b->name);
	/* Users. */
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_user_insert(s, "zed", "[\"a\"]", h1, 10), 0);
	cr_assert_eq(store_user_insert(s, "amy", "[]", h2, 11), 0);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(store_user_by_token(s, h1, &u), 0);
	cr_assert_str_eq(u->name, "zed");
	cr_assert_str_eq(u->groups, "[\"a\"]");
	cr_assert_eq(u->created, 10);
	cr_assert_eq(u->token_created, 10);
	cr_assert(u->has_token);
	cr_assert_eq(memcmp(u->token_hash, h1, 32), 0);
	store_user_free(u);
	u = NULL;
	cr_assert_eq(store_user_get(s, "nobody", &u), ERR_NOT_FOUND);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_user_disable(s, "amy"), 0);
	cr_assert_eq(store_user_disable(s, "ghost"), ERR_NOT_FOUND);
	cr_assert_eq(ledger_commit(l), 0);
	buf[0] = '\0';
	cr_assert_eq(store_users_each(s, 0, count_user, buf), 0);
	cr_assert_str_eq(buf, "amy,zed,");
	buf[0] = '\0';
	cr_assert_eq(store_users_each(s, 1, count_user, buf), 0);
	cr_assert_str_eq(buf, "zed,");
	/* Requests and approvals. */
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_request_insert(s, &nr, &id), 0);
	cr_assert_eq(store_request_insert(s, &nr, &id2), 0);
	cr_assert_eq(id, 1);
	cr_assert_eq(id2, 2);
	cr_assert_eq(store_approval_put(s, id, &ap, 0, &conflict), 0);
	cr_assert_eq(conflict, 0);
	cr_assert_eq(store_approval_put(s, id, &ap, 0, &conflict), 0);
	cr_assert_eq(conflict, 1);
	ap.decision = "deny";
	cr_assert_eq(store_approval_put(s, id, &ap, 1, &conflict), 0);
	cr_assert_eq(conflict, 0);
	ap.decision = "approve";
	cr_assert_eq(store_approval_put(s, id, &ap, 1, &conflict), 0);
	cr_assert_eq(conflict, 1); /* a denial never turns back */
	cr_assert_eq(ledger_commit(l), 0);
	buf[0] = '\0';
	cr_assert_eq(store_approvals_each(s, id, add_approval, buf), 0);
	cr_assert_str_eq(buf, "carol=deny,");
	cr_assert_eq(store_request_get(s, id, &rq), 0);
	cr_assert_str_eq(rq.requester, "bob");
	cr_assert_str_eq(rq.principals, "[\"root\"]");
	cr_assert_str_eq(rq.state, "pending");
	cr_assert_eq(rq.expires, 200);
	cr_assert_eq(rq.approvals_required, 2);
	cr_assert_eq(rq.serial, 0);
	store_request_clear(&rq);
	cr_assert_eq(store_request_get(s, 99, &rq), ERR_NOT_FOUND);
	cr_assert_eq(store_request_exists(s, id2, &exists), 0);
	cr_assert_eq(exists, 1);
	cr_assert_eq(store_request_exists(s, 99, &exists), 0);
	cr_assert_eq(exists, 0);
	q.requester = "nobody";
	q.roles = roles;
	q.nroles = 1;
	q.now = 150;
	cr_assert_eq(store_requests_page(s, &q, ids, 8, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(ids[0], 2);
	cr_assert_eq(ids[1], 1);
	q.before = 2;
	cr_assert_eq(store_requests_page(s, &q, ids, 8, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ids[0], 1);
	q.nroles = 0;
	cr_assert_eq(store_requests_page(s, &q, ids, 8, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_requests_count(s, 150, &rc), 0);
	cr_assert_eq(rc.by_state[STORE_REQ_PENDING], 2);
	cr_assert_eq(rc.approvals_needed, 4);
	cr_assert_eq(store_requests_count(s, 250, &rc), 0);
	cr_assert_eq(rc.by_state[STORE_REQ_EXPIRED], 2);
	cr_assert_eq(store_requests_due(s, 250, &due, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(due[1], 2);
	free(due);
	/* A certificate, its revocation and the KRL rows. */
	{
		struct store_cert c = {7, id, "bob", "admin", "kid-7",
		    "[\"root\"]", 100, 5000, "SHA256:x", kb, sizeof(kb), "h",
		    "ssh-ed25519-cert-v01@openssh.com AAAA", 100};

		cr_assert_eq(ledger_begin(l), 0);
		cr_assert_eq(
		    store_request_state_set(s, id, "pending", "issued", 7, 120),
		    0);
		cr_assert_eq(
		    store_request_state_set(s, id, "pending", "issued", 7, 120),
		    ERR_WRONG_STATE);
		cr_assert_eq(store_cert_insert(s, &c), 0);
		cr_assert_eq(ledger_commit(l), 0);
	}
	cr_assert_eq(store_cert_info(s, 7, &ci), 0);
	cr_assert_str_eq(ci.key_id, "kid-7");
	cr_assert_eq(ci.valid_before, 5000);
	cr_assert_eq(ci.revoked_set, 0);
	store_cert_info_clear(&ci);
	cq.by = STORE_CERT_BY_KEY;
	cq.blob = kb;
	cq.bloblen = sizeof(kb);
	buf[0] = '\0';
	cr_assert_eq(store_certs_match(s, &cq, add_match, buf), 0);
	cr_assert_str_eq(buf, "7:kid-7:bob:1:0,");
	cr_assert_eq(store_krl_latest(s, 0, &latest), 0);
	cr_assert_eq(latest, 0);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_cert_revoke(s, 7, 130, &newly), 0);
	cr_assert_eq(newly, 1);
	cr_assert_eq(store_cert_revoke(s, 7, 131, &newly), 0);
	cr_assert_eq(newly, 0);
	cr_assert_eq(
	    store_revoked_key_insert(s, h2, "fp", 120, "lost", &newly), 0);
	cr_assert_eq(newly, 1);
	cr_assert_eq(
	    store_revoked_key_insert(s, h2, "fp", 130, "lost", &newly), 0);
	cr_assert_eq(newly, 0);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(store_revoked_key_exists(s, h2, &found), 0);
	cr_assert_eq(found, 1);
	cr_assert_eq(store_revoked_key_exists(s, h1, &found), 0);
	cr_assert_eq(found, 0);
	cr_assert_eq(store_request_get(s, id, &rq), 0);
	cr_assert_str_eq(rq.state, "revoked");
	cr_assert_eq(rq.serial, 7);
	store_request_clear(&rq);
	buf[0] = '\0';
	cr_assert_eq(store_krl_each(s, 0, add_serial, add_key, buf), 0);
	cr_assert_str_eq(buf, "s7,k11,");
	/* The KRL's generated_date: the latest revocation it holds. */
	cr_assert_eq(store_krl_latest(s, 0, &latest), 0);
	cr_assert_eq(latest, 130);
	buf[0] = '\0';
	cr_assert_eq(store_krl_each(s, 5000, add_serial, add_key, buf), 0);
	cr_assert_str_eq(buf, "k11,");
	cr_assert_eq(store_krl_latest(s, 5000, &latest), 0);
	cr_assert_eq(latest, 120);
	/* Raw rows keep the types: the key blob is a blob. */
	cr_assert_eq(store_rows_open(s, STORE_TABLE_CERTIFICATES, &it), 0);
	cr_assert_eq(store_rows_next(s, it, &row, &found), 0);
	cr_assert_eq(found, 1);
	cr_assert_eq(row[8].type, STORE_CELL_BLOB);
	cr_assert_eq(row[8].len, 3);
	cr_assert_eq(row[8].blob[2], 0xff);
	cr_assert_eq(row[12].type, STORE_CELL_INTEGER);
	cr_assert_eq(row[12].i, 130);
	cr_assert_eq(row[13].i, 7);
	cr_assert_eq(store_rows_next(s, it, &row, &found), 0);
	cr_assert_eq(found, 0);
	store_rows_close(s, it);
	/* The last serial of the state: the highest committed certificate
	 * on PostgreSQL (the sequence runs ahead after a rollback), the
	 * counter on sqlite (never bumped here: the row was written as
	 * is). */
	cr_assert_eq(store_meta_get(s, "last_serial", &mv), 0);
	cr_assert_str_eq(mv, pg ? "7" : "0");
	free(mv);
	cr_assert_eq(store_meta_get(s, "nothing", &mv), 0);
	cr_assert_null(mv);
	ledger_close(l);
}

static int
add_host(void *arg, const struct store_host *h)
{
	strcat(arg, h->name);
	strcat(arg, h->disabled ? "(off)," : ",");
	return 0;
}

static int
add_host_key(void *arg, const struct store_host_key *k)
{
	char one[64];

	(void)snprintf(one, sizeof(one), "%s:%zu:%s:%" PRIu64 ",", k->key_type,
	    k->len, k->key_fp, k->bound);
	strcat(arg, one);
	return 0;
}

static int
add_checkpoint(void *arg, const struct store_checkpoint *c)
{
	char one[64];

	(void)snprintf(one, sizeof(one), "%" PRIu64 ":%02x:%s,", c->size,
	    c->root[0], c->note);
	strcat(arg, one);
	return 0;
}

ParameterizedTestParameters(store, sign_in_hosts_tree)
{
	static struct backend b[] = {{"sqlite"}, {"postgres"}};

	return cr_make_param_array(struct backend, b, 2);
}

ParameterizedTest(struct backend *b, store, sign_in_hosts_tree)
{
	static const char *const logins[] = {"session.login", NULL};
	static const char *const refusals[] = {"session.refused", "x.y", NULL};
	struct ledger *l = NULL;
	struct store *s;
	struct store_user *u = NULL;
	struct store_session ss = {{0}, "amy", 100, 200, 90}, got;
	struct store_host *h = NULL;
	struct store_host_key *k = NULL;
	struct store_checkpoint cp = {2, {0}, "note-2", "sig-2", 300}, last;
	struct store_request_new nr = {"bob", "admin", "[\"root\"]", 3600,
	    "fix", "ssh-ed25519 AAAA", "SHA256:x", 100, 200, 1, 0};
	struct store_request rq;
	uint8_t h1[32], h2[32], node[32], kb[4] = {1, 2, 3, 4};
	uint8_t made[2][32];
	char buf[512], *iss = NULL, *sub = NULL;
	uint64_t n = 9, size = 9;
	int64_t seq = 0, id = 0;
	int found = -1;

	backend_start(b);
	memset(h1, 0xaa, sizeof(h1));
	memset(h2, 0x22, sizeof(h2));
	memset(ss.token_hash, 0x33, sizeof(ss.token_hash));
	cr_assert_eq(ledger_open(&l, loc, 1), 0);
	s = ledger_store(l);

	/* A user who signs in with the IdP has no token; groups change. */
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_user_insert(s, "amy", "[\"a\"]", NULL, 10), 0);
	cr_assert_eq(store_user_groups_set(s, "amy", "[\"b\"]"), 0);
	cr_assert_eq(store_user_groups_set(s, "ghost", "[]"), ERR_NOT_FOUND);
	cr_assert_eq(store_session_insert(s, &ss), 0);
	ss.expires = 100;
	memset(ss.token_hash, 0x44, sizeof(ss.token_hash));
	cr_assert_eq(store_session_insert(s, &ss), 0);
	cr_assert_eq(
	    store_identity_insert(s, "amy", "https://id", "s-1", 10), 0);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(store_user_get(s, "amy", &u), 0);
	cr_assert_str_eq(u->groups, "[\"b\"]");
	cr_assert_eq(u->has_token, 0);
	cr_assert_eq(u->token_created, 0);
	cr_assert_eq(u->created, 10);
	store_user_free(u);
	memset(h1, 0x33, sizeof(h1));
	cr_assert_eq(store_session_get(s, h1, &got), 0);
	cr_assert_str_eq(got.user, "amy");
	cr_assert_eq(got.created, 100);
	cr_assert_eq(got.expires, 200);
	cr_assert_eq(got.auth_time, 90);
	cr_assert_eq(memcmp(got.token_hash, h1, 32), 0);
	store_session_clear(&got);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_sessions_purge(s, 150, &n), 0);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(n, 1);
	memset(h1, 0x44, sizeof(h1));
	cr_assert_eq(store_session_get(s, h1, &got), ERR_NOT_FOUND);
	/* Signing out deletes one session by its hash; no row is
	 * ERR_NOT_FOUND (the purged one, then the deleted one again). */
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_session_delete(s, h1), ERR_NOT_FOUND);
	memset(h1, 0x55, sizeof(h1));
	memcpy(ss.token_hash, h1, sizeof(h1));
	ss.expires = 300;
	cr_assert_eq(store_session_insert(s, &ss), 0);
	memset(h1, 0x33, sizeof(h1));
	cr_assert_eq(store_session_delete(s, h1), 0);
	cr_assert_eq(store_session_delete(s, h1), ERR_NOT_FOUND);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(store_session_get(s, h1, &got), ERR_NOT_FOUND);
	memset(h1, 0x55, sizeof(h1));
	cr_assert_eq(store_session_get(s, h1, &got), 0, "the other stays");
	cr_assert_eq(got.expires, 300);
	store_session_clear(&got);
	cr_assert_eq(store_identity_get(s, "amy", &iss, &sub), 0);
	cr_assert_str_eq(iss, "https://id");
	cr_assert_str_eq(sub, "s-1");
	free(iss);
	free(sub);
	cr_assert_eq(store_identity_get(s, "bob", &iss, &sub), ERR_NOT_FOUND);
	cr_assert_null(iss);

	/* An approver shortens a pending request's TTL, not another's. */
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_request_insert(s, &nr, &id), 0);
	cr_assert_eq(store_request_ttl_set(s, id, 600), 0);
	cr_assert_eq(
	    store_request_state_set(s, id, "pending", "denied", 0, 5), 0);
	cr_assert_eq(store_request_ttl_set(s, id, 300), ERR_WRONG_STATE);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(store_request_get(s, id, &rq), 0);
	cr_assert_eq(rq.ttl, 600);
	cr_assert_str_eq(rq.state, "denied");
	store_request_clear(&rq);

	/* Hosts and the keys bound to them. */
	memset(h1, 0xaa, sizeof(h1));
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_host_insert(s, "web2", "[\"web2\"]", h1, 20), 0);
	cr_assert_eq(store_host_insert(s, "db1", "[\"db1\"]", h2, 21), 0);
	cr_assert_eq(store_host_key_bind(
			 s, "web2", "ssh-ed25519", kb, 4, "SHA256:k", 30),
	    0);
	cr_assert_eq(store_host_key_bind(
			 s, "web2", "ecdsa-sha2-nistp256", kb, 3, "fp2", 31),
	    0);
	cr_assert_eq(store_host_disable(s, "db1"), 0);
	cr_assert_eq(store_host_disable(s, "nope"), ERR_NOT_FOUND);
	cr_assert_eq(ledger_commit(l), 0);
	/* A second key of the same type is refused by the database. */
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_host_key_bind(
			 s, "web2", "ssh-ed25519", kb, 4, "SHA256:k", 32),
	    ERR_DB);
	ledger_rollback(l);
	cr_assert_eq(store_host_by_token(s, h1, &h), 0);
	cr_assert_str_eq(h->name, "web2");
	cr_assert_str_eq(h->principals, "[\"web2\"]");
	cr_assert_eq(h->created, 20);
	cr_assert(h->has_token);
	store_host_free(h);
	cr_assert_eq(store_host_get(s, "db1", &h), 0);
	cr_assert_eq(h->disabled, 1);
	store_host_free(h);
	cr_assert_eq(store_host_get(s, "nope", &h), ERR_NOT_FOUND);
	buf[0] = '\0';
	cr_assert_eq(store_hosts_each(s, add_host, buf), 0);
	cr_assert_str_eq(buf, "db1(off),web2,");
	buf[0] = '\0';
	cr_assert_eq(store_host_keys_each(s, "web2", add_host_key, buf), 0);
	cr_assert_str_eq(
	    buf, "ecdsa-sha2-nistp256:3:fp2:31,ssh-ed25519:4:SHA256:k:30,");
	cr_assert_eq(store_host_key_get(s, "web2", "ssh-ed25519", &k), 0);
	cr_assert_eq(k->len, 4);
	cr_assert_eq(memcmp(k->blob, kb, 4), 0);
	store_host_key_free(k);
	cr_assert_eq(
	    store_host_key_get(s, "db1", "ssh-ed25519", &k), ERR_NOT_FOUND);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_host_reset(s, "web2"), 0);
	cr_assert_eq(ledger_commit(l), 0);
	buf[0] = '\0';
	cr_assert_eq(store_host_keys_each(s, "web2", add_host_key, buf), 0);
	cr_assert_str_eq(buf, "");

	/* Events by subject and type; the Merkle tree they make. */
	append1(l, "session.login", "login:web2:1");
	append1(l, "session.refused", "login:web2:2");
	append1(l, "cert.issued", "cert:5");
	cr_assert_eq(
	    store_event_subject_exists(s, "login:web2:1", logins, &found), 0);
	cr_assert_eq(found, 1);
	cr_assert_eq(
	    store_event_subject_exists(s, "login:web2:2", logins, &found), 0);
	cr_assert_eq(found, 0);
	cr_assert_eq(
	    store_event_subject_exists(s, "login:web2:2", refusals, &found), 0);
	cr_assert_eq(found, 1);
	cr_assert_eq(store_event_subject_exists(s, "cert:5", NULL, &found), 0);
	cr_assert_eq(found, 1);
	cr_assert_eq(store_event_find(s, "cert.issued", "cert:5", &seq), 0);
	cr_assert_eq(seq, 3);
	cr_assert_eq(
	    store_event_find(s, "cert.issued", "cert:6", &seq), ERR_NOT_FOUND);
	cr_assert_eq(store_merkle_size(s, &size), 0);
	cr_assert_eq(size, 3);
	cr_assert_eq(store_merkle_node_get(s, 1, 0, node), 0);
	cr_assert_eq(store_merkle_node_get(s, 1, 1, node), ERR_NOT_FOUND);
	cr_assert_eq(ledger_verify(l, NULL, NULL, NULL), 0);
	/* A node that is there already is refused; outside a unit too. */
	memset(made, 0, sizeof(made));
	cr_assert_eq(store_merkle_nodes_put(s, 3, made, 1), ERR_INVALID_ARG);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_merkle_nodes_put(s, 2, made, 1), ERR_DB);
	ledger_rollback(l);

	/* Checkpoints: by size, one per size. */
	cr_assert_eq(store_checkpoint_latest(s, &last), ERR_NOT_FOUND);
	cp.root[0] = 0xab;
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_checkpoint_insert(s, &cp), 0);
	cp.size = 1;
	cp.note = "note-1";
	cr_assert_eq(store_checkpoint_insert(s, &cp), 0);
	cr_assert_eq(ledger_commit(l), 0);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_checkpoint_insert(s, &cp), ERR_DB);
	ledger_rollback(l);
	cr_assert_eq(store_checkpoint_latest(s, &last), 0);
	cr_assert_eq(last.size, 2);
	cr_assert_eq(last.root[0], 0xab);
	cr_assert_str_eq(last.note, "note-2");
	cr_assert_str_eq(last.sig, "sig-2");
	cr_assert_eq(last.time, 300);
	store_checkpoint_clear(&last);
	buf[0] = '\0';
	cr_assert_eq(store_checkpoints_each(s, add_checkpoint, buf), 0);
	cr_assert_str_eq(buf, "1:ab:note-1,2:ab:note-2,");
	ledger_close(l);
}

ParameterizedTestParameters(store, triggers_refuse_edits)
{
	static struct backend b[] = {{"sqlite"}, {"postgres"}};

	return cr_make_param_array(struct backend, b, 2);
}

/* Each edit an operator's SQL client might try, and the database's own
 * refusal (the triggers of schemas 2-4). */
ParameterizedTest(struct backend *b, store, triggers_refuse_edits)
{
	static const struct {
		const char *sql, *msg;
	} edits[] = {
	    {"UPDATE events SET actor = 'eve';", "events are append-only"},
	    {"DELETE FROM events;", "events are append-only"},
	    {"UPDATE certificates SET role = 'x';",
		"a certificate row never changes"},
	    {"UPDATE certificates SET revoked = 5 WHERE serial = 8;",
		"a revocation is never undone"},
	    {"UPDATE certificates SET revoked = NULL WHERE serial = 8;",
		"a revocation is never undone"},
	    {"DELETE FROM certificates;", "certificates are append-only"},
	    {"DELETE FROM revoked_keys;", "revoked keys are append-only"},
	    {"UPDATE approvals SET decision = 'approve';",
		"an approval only ever turns into a denial"},
	    {"DELETE FROM approvals;", "approvals are append-only"},
	    {"DELETE FROM requests;", "requests are never deleted"},
	    {"DELETE FROM users;", "users are never deleted"},
	    {"DELETE FROM hosts;", "hosts are never deleted"},
	    {"UPDATE meta SET value = '0' WHERE key = 'krl_version';",
		"counters never go down"},
	    {"DELETE FROM meta WHERE key = 'krl_version';",
		"counters never go down"},
	    {"DELETE FROM merkle_nodes;", "merkle nodes are append-only"},
	    {"UPDATE checkpoints SET note = 'x';",
		"checkpoints are append-only"},
	};
	struct ledger *l = NULL;
	struct store *s;
	struct store_request_new nr = {"bob", "admin", "[\"root\"]", 3600,
	    "fix", "ssh-ed25519 AAAA", "SHA256:x", 100, 200, 1, 0};
	struct store_approval ap = {"carol", "deny", 150, ""};
	struct store_checkpoint cp = {1, {0}, "n", "s", 1};
	uint8_t h[32], kb[3] = {1, 2, 3};
	uint64_t v;
	int64_t id = 0;
	int conflict, newly, pg = backend_start(b);
	char *err = NULL;
	size_t i;

	memset(h, 0x5a, sizeof(h));
	cr_assert_eq(ledger_open(&l, loc, 1), 0);
	s = ledger_store(l);
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_user_insert(s, "amy", "[]", h, 1), 0);
	cr_assert_eq(store_host_insert(s, "web", "[]", h, 1), 0);
	cr_assert_eq(store_request_insert(s, &nr, &id), 0);
	cr_assert_eq(store_approval_put(s, id, &ap, 0, &conflict), 0);
	{
		struct store_cert c = {8, id, "bob", "admin", "kid-8",
		    "[\"root\"]", 100, 5000, "SHA256:x", kb, sizeof(kb), "h",
		    "cert", 100};

		cr_assert_eq(store_cert_insert(s, &c), 0);
	}
	cr_assert_eq(store_cert_revoke(s, 8, 130, &newly), 0);
	cr_assert_eq(store_revoked_key_insert(s, h, "fp", 1, "r", &newly), 0);
	cr_assert_eq(ledger_krl_version_bump(l, &v), 0);
	cr_assert_eq(ledger_append(l, NULL, "x", "a", "s", NULL), 0);
	cr_assert_eq(store_checkpoint_insert(s, &cp), 0);
	cr_assert_eq(ledger_commit(l), 0);
	ledger_close(l);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		cr_assert_neq(raw_sql(pg, edits[i].sql, &err), 0,
		    "%s was allowed", edits[i].sql);
		cr_assert_not_null(
		    strstr(err, edits[i].msg), "%s: %s", edits[i].sql, err);
		free(err);
		err = NULL;
	}
	/* What may change, does: an approval into a denial, a bump. */
	cr_assert_eq(raw_sql(pg,
			 "UPDATE meta SET value = '7' WHERE key ="
			 " 'krl_version';",
			 &err),
	    0, "%s", err);
	free(err);
}

/* A ledger with a row in every copied table (and events). */
static void
fill_everything(struct ledger *l)
{
	struct store *s = ledger_store(l);
	struct store_request_new nr = {"bob", "admin", "[\"root\"]", 3600,
	    "fix", "ssh-ed25519 AAAA", "SHA256:x", 100, 200, 1, 0};
	struct store_approval ap = {"carol", "approve", 150, "ok"};
	struct store_session ss = {{0}, "amy", 100, 9000, 90};
	struct store_checkpoint cp = {3, {0}, "note", "sig", 300};
	uint8_t h[32], kb[3] = {7, 8, 9};
	uint64_t v;
	int64_t id = 0;
	int conflict, newly;

	memset(h, 0x5a, sizeof(h));
	memset(ss.token_hash, 0x6b, sizeof(ss.token_hash));
	append1(l, "user.added", "amy");
	append1(l, "request.created", "1");
	cr_assert_eq(ledger_begin(l), 0);
	cr_assert_eq(store_user_insert(s, "amy", "[\"a\"]", h, 1), 0);
	cr_assert_eq(store_user_insert(s, "oidc", "[]", NULL, 2), 0);
	cr_assert_eq(store_request_insert(s, &nr, &id), 0);
	cr_assert_eq(store_approval_put(s, id, &ap, 0, &conflict), 0);
	cr_assert_eq(ledger_serial_next(l, &v), 0);
	{
		struct store_cert c = {v, id, "bob", "admin", "kid",
		    "[\"root\"]", 100, 5000, "SHA256:x", kb, sizeof(kb), "h",
		    "cert", 100};

		cr_assert_eq(store_cert_insert(s, &c), 0);
	}
	cr_assert_eq(
	    store_request_state_set(s, id, "pending", "issued", (int64_t)v, 5),
	    0);
	cr_assert_eq(store_cert_revoke(s, (int64_t)v, 130, &newly), 0);
	cr_assert_eq(store_revoked_key_insert(s, h, "fp", 120, "r", &newly), 0);
	cr_assert_eq(ledger_krl_version_bump(l, &v), 0);
	cr_assert_eq(store_host_insert(s, "web", "[\"web\"]", h, 1), 0);
	cr_assert_eq(
	    store_host_key_bind(s, "web", "ssh-ed25519", kb, 3, "f", 4), 0);
	cr_assert_eq(store_session_insert(s, &ss), 0);
	cr_assert_eq(store_identity_insert(s, "oidc", "https://i", "u1", 3), 0);
	cr_assert_eq(store_notify_cursor_put(s, "slack", 2, 7), 0);
	cr_assert_eq(
	    ledger_append(l, NULL, "cert.issued", "a", "cert:1", NULL), 0);
	cr_assert_eq(ledger_tree_root(l, 3, cp.root), 0);
	cr_assert_eq(store_checkpoint_insert(s, &cp), 0);
	cr_assert_eq(ledger_commit(l), 0);
}

/* Every row of table t as one line of text per row (blobs in hex). */
static char *
table_text(struct ledger *l, enum store_table t)
{
	struct store *s = ledger_store(l);
	struct store_rows *it = NULL;
	const struct store_cell *row;
	char *acc = strdup(""), *next, one[16];
	int found = 0;
	size_t i, k;

	cr_assert_eq(store_rows_open(s, t, &it), 0, "%s", ledger_errmsg(l));
	for (;;) {
		cr_assert_eq(store_rows_next(s, it, &row, &found), 0);
		if (!found)
			break;
		for (i = 0; i < store_table_def(t)->ncols; i++) {
			if (row[i].type == STORE_CELL_BLOB) {
				next = tu_fmt("%s|x", acc);
				for (k = 0; k < row[i].len; k++) {
					(void)snprintf(one, sizeof(one), "%02x",
					    row[i].blob[k]);
					free(acc);
					acc = next;
					next = tu_fmt("%s%s", acc, one);
				}
			} else
				next = tu_fmt("%s|%s", acc,
				    row[i].type == STORE_CELL_NULL
					? "NULL"
					: row[i].text);
			free(acc);
			acc = next;
		}
		next = tu_fmt("%s\n", acc);
		free(acc);
		acc = next;
	}
	store_rows_close(s, it);
	return acc;
}

ParameterizedTestParameters(store, copy_into_the_other_backend)
{
	static struct backend b[] = {{"sqlite"}, {"postgres"}};

	return cr_make_param_array(struct backend, b, 2);
}

/* ledger_copy() from backend b into the other one: every table the
 * same, row by row, the events with their hashes, the counters; the
 * copy verifies; a second copy into it is refused, saying why. */
ParameterizedTest(struct backend *b, store, copy_into_the_other_backend)
{
	struct ledger *from = NULL, *to = NULL;
	char *sq_path, *pg_url, *fa, *ta;
	uint64_t events = 0, rows = 0, v1, v2;
	int pg = strcmp(b->name, "postgres") == 0;
	int64_t count = 0;
	enum store_table t;

	cr_assert_eq(setenv("JITCA_TEST_NOW", "1700000000", 1), 0);
	tpg_start(&srv);
	pg_url = tpg_newdb(&srv, "jitca");
	dir = tu_tmpdir();
	sq_path = tu_fmt("%s/ledger.db", dir);
	loc = strdup(pg ? pg_url : sq_path);
	cr_assert_eq(ledger_open(&from, pg ? pg_url : sq_path, 1), 0);
	fill_everything(from);
	cr_assert_eq(ledger_open(&to, pg ? sq_path : pg_url, 1), 0);
	cr_assert_eq(
	    ledger_copy(from, to, &events, &rows), 0, "%s", ledger_errmsg(to));
	cr_assert_eq(events, 3);
	/* 2 users, 1 request, approval, certificate, revoked key, host,
	 * host key, 4 Merkle nodes (3 leaves and their first pair), 1
	 * checkpoint, session, identity, cursor. */
	cr_assert_eq(rows, 16);
	for (t = STORE_TABLE_USERS; t <= STORE_TABLE_NOTIFY_CURSORS; t++) {
		fa = table_text(from, t);
		ta = table_text(to, t);
		cr_assert_str_eq(ta, fa, "%s", store_table_def(t)->name);
		cr_assert_neq(fa[0], '\0', "%s", store_table_def(t)->name);
		free(fa);
		free(ta);
	}
	{
		char *ea = NULL, *eb = NULL;
		size_t la = 0, lb = 0;
		FILE *f = open_memstream(&ea, &la),
		     *g = open_memstream(&eb, &lb);

		cr_assert_eq(ledger_export(from, f, LEDGER_FORMAT_JSONL, 0), 0);
		cr_assert_eq(ledger_export(to, g, LEDGER_FORMAT_JSONL, 0), 0);
		fclose(f);
		fclose(g);
		cr_assert_str_eq(eb, ea);
		free(ea);
		free(eb);
	}
	cr_assert_eq(ledger_krl_version(from, &v1), 0);
	cr_assert_eq(ledger_krl_version(to, &v2), 0);
	cr_assert_eq(v2, v1);
	cr_assert_eq(ledger_begin(to), 0);
	cr_assert_eq(ledger_serial_next(to, &v2), 0);
	cr_assert_eq(v2, 2);
	ledger_rollback(to);
	cr_assert_eq(ledger_verify(to, &count, NULL, NULL), 0);
	cr_assert_eq(count, 3);
	cr_assert_eq(ledger_copy(from, to, &events, &rows), ERR_EXISTS);
	cr_assert_str_eq(ledger_errmsg(to),
	    "the target ledger is not empty (3 events); migrate only into a "
	    "new database");
	ledger_close(from);
	ledger_close(to);
	free(sq_path);
	free(pg_url);
}

ParameterizedTestParameters(store, tampering_is_caught)
{
	static struct backend b[] = {{"sqlite"}, {"postgres"}};

	return cr_make_param_array(struct backend, b, 2);
}

/* Invariant 7 on both backends: rows of a 10-event chain edited behind
 * jitca's back (the triggers disabled first, as an attacker with the
 * database's owner would) and ledger_verify() naming the first bad seq
 * and why.  One new ledger per edit. */
ParameterizedTest(struct backend *b, store, tampering_is_caught)
{
	static const struct {
		const char *sql;
		int64_t bad;
		const char *msg;
	} edits[] = {
	    {"UPDATE events SET actor = 'mallory' WHERE seq = 7;", 7,
		"seq 7: hash does not match its contents"},
	    {"UPDATE events SET details = '{\"i\":99}' WHERE seq = 5;", 5,
		"seq 5: hash does not match its contents"},
	    {"UPDATE events SET prev_hash = '0000000000000000000000000000000"
	     "000000000000000000000000000000000' WHERE seq = 3;",
		3, "seq 3: prev_hash does not match"},
	    {"DELETE FROM events WHERE seq = 5;", 5, "seq 5: missing"},
	    {"DELETE FROM events WHERE seq = 1;", 1, "seq 1: missing"},
	};
	struct ledger *l = NULL;
	char err[LEDGER_ERR_LEN], *sql, *e = NULL, *name;
	int64_t count = -1, bad = -1;
	int pg = strcmp(b->name, "postgres") == 0, i, k;
	size_t j;

	cr_assert_eq(setenv("JITCA_TEST_NOW", "1700000000", 1), 0);
	if (pg)
		tpg_start(&srv);
	else
		dir = tu_tmpdir();
	for (j = 0; j < sizeof(edits) / sizeof(edits[0]); j++) {
		free(loc);
		name = tu_fmt("t%zu", j);
		loc =
		    pg ? tpg_newdb(&srv, name) : tu_fmt("%s/%s.db", dir, name);
		free(name);
		cr_assert_eq(ledger_open(&l, loc, 1), 0);
		for (i = 1; i <= 10; i++) {
			json_t *d = json_pack("{s:i}", "i", i);
			char *subj = tu_fmt("subject-%d", i);

			cr_assert_eq(ledger_begin(l), 0);
			cr_assert_eq(ledger_append(l, NULL, "test.event",
					 "alice", subj, d),
			    0);
			cr_assert_eq(ledger_commit(l), 0);
			json_decref(d);
			free(subj);
		}
		ledger_close(l);
		sql = tu_fmt("%s%s",
		    pg ? "ALTER TABLE events DISABLE TRIGGER events_fixed;"
		       : "DROP TRIGGER events_no_update; DROP TRIGGER "
			 "events_no_delete;",
		    edits[j].sql);
		k = raw_sql(pg, sql, &e);
		cr_assert_eq(k, 0, "%s: %s", sql, e);
		free(e);
		e = NULL;
		free(sql);
		cr_assert_eq(ledger_open(&l, loc, 0), 0);
		cr_assert_eq(ledger_verify(l, &count, &bad, err),
		    ERR_LEDGER_BROKEN, "%s", edits[j].sql);
		cr_assert_eq(bad, edits[j].bad, "%s: %s", edits[j].sql, err);
		cr_assert_not_null(
		    strstr(err, edits[j].msg), "%s: %s", edits[j].sql, err);
		ledger_close(l);
		l = NULL;
	}
}
