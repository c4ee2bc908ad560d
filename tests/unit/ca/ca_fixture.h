/*
 * ca_fixture.h: the shared setup of test_request.c and test_revoke.c: a
 * temp dir, a parsed configuration with four roles, a real sqlite ledger
 * file, an Ed25519 CA key made with cakey_generate() signing through a
 * counting cakey_sign() callback, the clock pinned with JITCA_TEST_NOW,
 * the cast of actors, and small helpers that read the ledger back.
 * The domain answers with views (ca/views.h); the fx_request_*(),
 * fx_user_list() and fx_revoke_apply() wrappers call the domain function
 * and hand back its JSON as the API writes it (web/encode.h), so the
 * tests assert on the wire format.
 * store/test_chain.c and test_users.c, which open their own ledgers, share
 * only the helpers that run the real sqlite3 program (fx_sqlite3*).
 * Header-only (static inline) so each test binary gets its own copy.
 */
#ifndef JITCA_TEST_CA_FIXTURE_H
#define JITCA_TEST_CA_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ca/ca.h"
#include "ca/config.h"
#include "ca/ledger.h"
#include "ca/request.h"
#include "ca/revoke.h"
#include "ca/store/sql.h"
#include "ca/users.h"
#include "signer/cakey.h"
#include "signer/cert.h"
#include "signer/pubkey.h"
#include "tests/lib/testutil.h"
#include "web/encode.h"

#define FX_T0 1800000000ull /* 2027-01-15, the pinned clock */

static const char fx_config_json[] =
    "{\n"
    " \"listen\": \"127.0.0.1:8443\",\n"
    " \"ca\": {\"key_file\": \"ca_key.pem\", \"backdate\": \"1m\","
    " \"hard_max_ttl\": \"24h\"},\n"
    " \"ledger\": {\"path\": \"ledger.db\"},\n"
    " \"request_ttl\": \"1h\",\n"
    " \"auditors\": [\"security\"],\n"
    " \"roles\": {\n"
    "  \"prod-debug\": {\"principals\": [\"{{user}}\", \"debug\"],"
    " \"default_ttl\": \"30m\", \"max_ttl\": \"2h\","
    " \"requesters\": [\"engineering\"], \"approvers\": [\"sre-leads\"],"
    " \"approvals_required\": 1,"
    " \"critical_options\": {\"source-address\": \"10.0.0.0/8\"},"
    " \"extensions\": [\"permit-pty\"]},\n"
    "  \"staging\": {\"principals\": [\"{{user}}\"], \"max_ttl\": \"8h\","
    " \"requesters\": [\"engineering\"], \"approvals_required\": 0,"
    " \"extensions\": [\"permit-pty\", \"permit-port-forwarding\"]},\n"
    "  \"db-admin\": {\"principals\": [\"{{user}}\", \"dba\"],"
    " \"max_ttl\": \"1h\", \"requesters\": [\"engineering\"],"
    " \"approvers\": [\"sre-leads\", \"dba-leads\"],"
    " \"approvals_required\": 2, \"extensions\": [\"permit-pty\"]}\n"
    " }\n"
    "}\n";

static char *fx_dir;
static char *fx_db;
static struct config *fx_cfg;
static struct ledger *fx_l;
static struct cakey *fx_cakey;
static struct ca fx_ca;
static int fx_signs;
static int fx_fail_sign;

static char *fx_g_eng[] = {"engineering"};
static char *fx_g_sre[] = {"sre-leads"};
static char *fx_g_both[] = {"sre-leads", "engineering"};
static char *fx_g_dba[] = {"dba-leads"};
static char *fx_g_mkt[] = {"marketing"};
static char *fx_g_sec[] = {"security"};

/* alice, erin: engineers; bob: SRE lead; carol: both; dave: DBA lead;
 * eve: outsider; sec: auditor; root: local administrator. */
static const struct ca_actor alice = {"alice", fx_g_eng, 1};
static const struct ca_actor erin = {"erin", fx_g_eng, 1};
static const struct ca_actor bob = {"bob", fx_g_sre, 1};
static const struct ca_actor carol = {"carol", fx_g_both, 2};
static const struct ca_actor dave = {"dave", fx_g_dba, 1};
static const struct ca_actor eve = {"eve", fx_g_mkt, 1};
static const struct ca_actor sec = {"sec", fx_g_sec, 1};
static const struct ca_actor root = {"local:root", NULL, 0};
/* request_list() filters: everything (one page), pending only. */
static const struct request_filter fx_all = {0, 0, REQUEST_LIST_MAX, 0};
static const struct request_filter fx_pending = {1, 0, REQUEST_LIST_MAX, 0};

static inline int
fx_sign(
    void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *tbs, size_t tbslen)
{
	fx_signs++;
	if (fx_fail_sign)
		return ERR_SIGNER_DEAD;
	return cakey_sign(ctx, sig, siglen, tbs, tbslen);
}

static inline void
fx_now_set(uint64_t t)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)t);
	cr_assert_eq(setenv("JITCA_TEST_NOW", buf, 1), 0);
}

static inline void
fx_setup(void)
{
	char err[CONFIG_ERR_LEN] = "";

	fx_now_set(FX_T0);
	fx_dir = tu_tmpdir();
	fx_db = tu_fmt("%s/ledger.db", fx_dir);
	cr_assert_eq(config_parse(&fx_cfg, fx_dir, fx_config_json,
			 strlen(fx_config_json), err),
	    0, "config: %s", err);
	cr_assert_eq(ledger_open(&fx_l, fx_db, 1), 0);
	cr_assert_eq(cakey_generate(&fx_cakey, KEY_ED25519), 0);
	memset(&fx_ca, 0, sizeof(fx_ca));
	fx_ca.cfg = fx_cfg;
	fx_ca.ledger = fx_l;
	fx_ca.ca_pub = cakey_public(fx_cakey);
	fx_ca.sign = fx_sign;
	fx_ca.sign_ctx = fx_cakey;
	fx_signs = 0;
	fx_fail_sign = 0;
}

static inline void
fx_teardown(void)
{
	ledger_close(fx_l);
	config_free(fx_cfg);
	cakey_free(fx_cakey);
	fx_l = NULL;
	fx_cfg = NULL;
	fx_cakey = NULL;
	if (fx_dir != NULL)
		tu_rmtree(fx_dir);
	free(fx_dir);
	free(fx_db);
	fx_dir = fx_db = NULL;
	unsetenv("JITCA_TEST_NOW");
}

/* The sqlite3 program is required: a missing one fails the test. */
static inline void
fx_sqlite3_required(void)
{
	char *p = tu_which("sqlite3");

	cr_assert_not_null(p, "the sqlite3 program is required");
	free(p);
}

/* Run sql on the database file db with the sqlite3 program, which must
 * succeed; its stdout (new string). */
static inline char *
fx_sqlite3(const char *db, const char *sql)
{
	char *argv[] = {
	    "sqlite3", (char *)(uintptr_t)db, (char *)(uintptr_t)sql, NULL};
	char *out = NULL, *err = NULL;
	int st = tu_run(argv, NULL, &out, &err);

	cr_assert_eq(st, 0, "sqlite3 '%s': %s", sql, err);
	free(err);
	return out;
}

/* A fresh Ed25519 public key line (new string). */
static inline char *
fx_key_line(void)
{
	struct cakey *k = NULL;
	char *line = NULL;

	cr_assert_eq(cakey_generate(&k, KEY_ED25519), 0);
	cr_assert_eq(pubkey_to_line(&line, cakey_public(k), "test"), 0);
	cakey_free(k);
	return line;
}

static inline int64_t
fx_int(const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	int64_t v;

	cr_assert_eq(sqlite3_prepare_v2(ledger_db(fx_l), sql, -1, &st, NULL),
	    SQLITE_OK, "%s", sql);
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static inline int64_t
fx_events(const char *type)
{
	if (type == NULL)
		return fx_int("SELECT count(*) FROM events", NULL);
	return fx_int("SELECT count(*) FROM events WHERE type = ?", type);
}

static inline int64_t
fx_id(json_t *req)
{
	cr_assert(json_is_integer(json_object_get(req, "id")));
	return json_integer_value(json_object_get(req, "id"));
}

static inline const char *
fx_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	cr_assert_not_null(s, "no string \"%s\"", key);
	return s;
}

/* The state of request id as stored. */
static inline char *
fx_state(int64_t id)
{
	sqlite3_stmt *st = NULL;
	char *s;

	cr_assert_eq(
	    sqlite3_prepare_v2(ledger_db(fx_l),
		"SELECT state FROM requests WHERE id = ?", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	s = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return s;
}

/* r, or ERR_ALLOC when j (what encoding gave, released here on error)
 * is NULL; *out (may be NULL) j on success, else NULL. */
static inline int
fx_encoded(int r, json_t *j, json_t **out)
{
	if (r == 0 && j == NULL)
		r = ERR_ALLOC; /* web/encode.c ran out of memory */
	if (r != 0) {
		json_decref(j);
		j = NULL;
	}
	if (out != NULL)
		*out = j;
	else
		json_decref(j);
	return r;
}

/* r, and *out the JSON of v (NULL on error); v is freed. */
static inline int
fx_req_json(int r, struct request_view *v, json_t **out)
{
	r = fx_encoded(r, r == 0 ? encode_request(v) : NULL, out);
	request_view_free(v);
	return r;
}

static inline int
fx_request_create(struct ca *ca, const struct ca_actor *actor, const char *role,
    char *const *principals, size_t nprincipals, uint64_t ttl,
    const char *reason, const char *pubkey_line, json_t **out)
{
	struct request_view *v = NULL;
	int r = request_create(ca, actor, role, principals, nprincipals, ttl,
	    reason, pubkey_line, &v);

	return fx_req_json(r, v, out);
}

static inline int
fx_request_break_glass(struct ca *ca, const struct ca_actor *actor,
    const char *role, char *const *principals, size_t nprincipals, uint64_t ttl,
    const char *reason, const char *pubkey_line, json_t **out)
{
	struct request_view *v = NULL;
	int r = request_break_glass(ca, actor, role, principals, nprincipals,
	    ttl, reason, pubkey_line, &v);

	return fx_req_json(r, v, out);
}

static inline int
fx_request_issue_direct(struct ca *ca, const struct ca_actor *actor,
    const char *user, const char *role, char *const *principals,
    size_t nprincipals, uint64_t ttl, const char *reason,
    const char *pubkey_line, json_t **out)
{
	struct request_view *v = NULL;
	int r = request_issue_direct(ca, actor, user, role, principals,
	    nprincipals, ttl, reason, pubkey_line, &v);

	return fx_req_json(r, v, out);
}

static inline int
fx_request_approve(struct ca *ca, const struct ca_actor *actor, int64_t id,
    const char *comment, json_t **out)
{
	struct request_view *v = NULL;
	int r = request_approve(ca, actor, id, comment, &v);

	return fx_req_json(r, v, out);
}

static inline int
fx_request_approve_with(struct ca *ca, const struct ca_actor *actor, int64_t id,
    const struct request_approval *ap, json_t **out)
{
	struct request_view *v = NULL;
	int r = request_approve_with(ca, actor, id, ap, &v);

	return fx_req_json(r, v, out);
}

static inline int
fx_request_deny(struct ca *ca, const struct ca_actor *actor, int64_t id,
    const char *comment, json_t **out)
{
	struct request_view *v = NULL;
	int r = request_deny(ca, actor, id, comment, &v);

	return fx_req_json(r, v, out);
}

static inline int
fx_request_review(struct ca *ca, const struct ca_actor *actor, int64_t id,
    const char *comment, json_t **out)
{
	struct request_view *v = NULL;
	int r = request_review(ca, actor, id, comment, &v);

	return fx_req_json(r, v, out);
}

static inline int
fx_request_withdraw(
    struct ca *ca, const struct ca_actor *actor, int64_t id, json_t **out)
{
	struct request_view *v = NULL;
	int r = request_withdraw(ca, actor, id, &v);

	return fx_req_json(r, v, out);
}

static inline int
fx_request_get(
    struct ca *ca, const struct ca_actor *actor, int64_t id, json_t **out)
{
	struct request_view *v = NULL;
	int r = request_get(ca, actor, id, &v);

	return fx_req_json(r, v, out);
}

static inline int
fx_request_list(struct ca *ca, const struct ca_actor *actor,
    const struct request_filter *f, json_t **out)
{
	struct request_views *v = NULL;
	int r = request_list(ca, actor, f, &v);

	r = fx_encoded(r, r == 0 ? encode_requests(v) : NULL, out);
	request_views_free(v);
	return r;
}

static inline int
fx_request_roles(struct ca *ca, const struct ca_actor *actor, json_t **out)
{
	struct role_views *v = NULL;
	int r = request_roles(ca, actor, &v);

	r = fx_encoded(r, r == 0 ? encode_roles(v) : NULL, out);
	role_views_free(v);
	return r;
}

static inline int
fx_user_list(struct ledger *l, json_t **out)
{
	struct user_views *v = NULL;
	int r = user_list(l, &v);

	r = fx_encoded(r, r == 0 ? encode_users(v) : NULL, out);
	user_views_free(v);
	return r;
}

static inline int
fx_revoke_apply(struct ca *ca, const struct ca_actor *actor,
    const struct revoke_target *t, const char *reason, json_t **out)
{
	struct revocation_view *v = NULL;
	int r = revoke_apply(ca, actor, t, reason, out != NULL ? &v : NULL);

	if (out != NULL)
		r = fx_encoded(r, r == 0 ? encode_revocation(v) : NULL, out);
	revocation_view_free(v);
	return r;
}

/* Create a request and assert success; returns its id. */
static inline int64_t
fx_create(
    const struct ca_actor *a, const char *role, const char *key, json_t **out)
{
	json_t *req = NULL;
	int64_t id;
	int r;

	r = fx_request_create(
	    &fx_ca, a, role, NULL, 0, 0, "INC-4312 stuck queue", key, &req);
	cr_assert_eq(r, 0, "create %s: %s", role, err_str(r));
	id = fx_id(req);
	if (out != NULL)
		*out = req;
	else
		json_decref(req);
	return id;
}

/* Add a user in one group through users.h (optionally disabled). */
static inline void
fx_user(const char *name, const char *group, int disabled)
{
	char *groups[] = {(char *)(uintptr_t)group};
	char *token = NULL;

	cr_assert_eq(
	    user_add(fx_l, fx_cfg, "local:test", name, groups, 1, &token), 0);
	user_token_free(token);
	if (disabled)
		cr_assert_eq(user_disable(fx_l, "local:test", name), 0);
}

/*
 * Users rows for the approvers bob, carol and dave, with the groups of
 * their actors: an earlier approval counts only while its approver's
 * user record is an approver of the role (6 events).
 */
static inline void
fx_cast(void)
{
	const struct ca_actor *cast[] = {&bob, &carol, &dave};
	char *token = NULL;
	size_t i;

	for (i = 0; i < sizeof(cast) / sizeof(cast[0]); i++) {
		cr_assert_eq(user_add(fx_l, fx_cfg, "local:test", cast[i]->name,
				 cast[i]->groups, cast[i]->ngroups, &token),
		    0);
		user_token_free(token);
		token = NULL;
	}
}

#endif /* JITCA_TEST_CA_FIXTURE_H */
