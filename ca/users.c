/*
 * users.c: users, groups and API tokens (users.h) on the users rows of
 * the store (ca/store/store.h: user_get, user_by_token, user_insert,
 * user_token_set, user_disable, users_each; for signing in with the
 * identity provider user_groups_set, session_insert, session_get,
 * sessions_purge, session_delete, identity_get, identity_insert), each
 * change in one transaction with its event.  No SQL here.
 *
 * Tokens come from RAND_bytes and are stored only as SHA-256; the token
 * text exists in memory just long enough to hash it and hand it back, and
 * is wiped after.  Authentication checks the token's shape before any
 * database work, so garbage never reaches sqlite.  This file does not
 * decide what a user may do (roles and approvals are the request code's)
 * and does not print.  Works with ca/ledger.h, ca/store/store.h,
 * signer/base/sha256.h, signer/names.h (name rules) and signer/wire.h
 * (base64url, hex).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ca/ca.h"
#include "ca/users.h"
#include "signer/base/sha256.h"
#include "signer/names.h"
#include "signer/wire.h"

#define TOKEN_RAW 32
#define TOKEN_B64 43
#define HASH_LEN 32
#define PREFIX_LEN (sizeof(USER_TOKEN_PREFIX) - 1)

void
user_free(struct user *u)
{
	size_t i;

	if (u == NULL)
		return;
	free(u->name);
	for (i = 0; i < u->ngroups; i++)
		free(u->groups[i]);
	free(u->groups);
	free(u);
}

void
user_token_free(char *token)
{
	if (token == NULL)
		return;
	OPENSSL_cleanse(token, strlen(token));
	free(token);
}

int
user_in_group(const struct user *u, const char *g)
{
	size_t i;

	if (u == NULL || g == NULL)
		return 0;
	for (i = 0; i < u->ngroups; i++)
		if (strcmp(u->groups[i], g) == 0)
			return 1;
	return 0;
}

int
user_token_format_check(const char *token)
{
	size_t i;
	int v = -1;

	if (token == NULL ||
	    strnlen(token, USER_TOKEN_LEN + 1) != USER_TOKEN_LEN)
		return ERR_BAD_TOKEN;
	if (memcmp(token, USER_TOKEN_PREFIX, PREFIX_LEN) != 0)
		return ERR_BAD_TOKEN;
	for (i = PREFIX_LEN; i < USER_TOKEN_LEN; i++)
		if ((v = wire_b64_value(token[i], 1)) < 0)
			return ERR_BAD_TOKEN;
	/* 43 characters carry 258 bits for 256: the last two are zero in
	 * the only encoding jitca produces. */
	if ((v & 3) != 0)
		return ERR_BAD_TOKEN;
	return 0;
}

/* First USER_TOKEN_ID_LEN hex digits of the token hash. */
static void
token_id(const uint8_t hash[HASH_LEN], char out[USER_TOKEN_ID_LEN + 1])
{
	wire_hex_encode(out, hash, USER_TOKEN_ID_LEN / 2);
}

int
user_token_generate(char **out)
{
	uint8_t raw[TOKEN_RAW];
	char *b64 = NULL, *tok = NULL;
	int r = ERR_INTERNAL;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	TRY(wire_b64_encode_nopad(&b64, raw, sizeof(raw), 1));
	if (strlen(b64) != TOKEN_B64) {
		r = ERR_INTERNAL;
		goto out;
	}
	if ((tok = malloc(USER_TOKEN_LEN + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	memcpy(tok, USER_TOKEN_PREFIX, PREFIX_LEN);
	memcpy(tok + PREFIX_LEN, b64, TOKEN_B64 + 1);
	*out = tok;
	tok = NULL;
	r = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	user_token_free(b64);
	user_token_free(tok);
	return r;
}

/* A fresh token (*out new) and its hash. */
static int
token_new(char **out, uint8_t hash[HASH_LEN])
{
	char *tok = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	TRY(user_token_generate(&tok));
	TRY(sha256(hash, tok, USER_TOKEN_LEN));
	*out = tok;
	tok = NULL;
	r = 0;
out:
	user_token_free(tok);
	return r;
}

/* The groups as a JSON array of valid names, duplicates dropped. */
static int
groups_json(char *const *groups, size_t ngroups, json_t **out)
{
	json_t *a = NULL;
	size_t i, j;
	int r = ERR_INTERNAL, dup;

	*out = NULL;
	if (ngroups == 0 || ngroups > USER_GROUPS_MAX || groups == NULL)
		return ERR_INVALID_ARG;
	if ((a = json_array()) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < ngroups; i++) {
		if (!name_principal_valid(groups[i])) {
			r = ERR_BAD_NAME;
			goto out;
		}
		for (dup = 0, j = 0; j < i && !dup; j++)
			dup = strcmp(groups[i], groups[j]) == 0;
		if (!dup &&
		    json_array_append_new(a, json_string(groups[i])) != 0) {
			r = ERR_ALLOC;
			goto out;
		}
	}
	*out = a;
	a = NULL;
	r = 0;
out:
	json_decref(a);
	return r;
}

/* Parse the stored groups column into u. */
static int
groups_parse(struct user *u, const char *text)
{
	json_t *a = NULL, *v;
	json_error_t e;
	size_t i;
	int r = ERR_INTERNAL;

	if (text == NULL || (a = json_loads(text, 0, &e)) == NULL ||
	    !json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > USER_GROUPS_MAX) {
		r = ERR_DB;
		goto out;
	}
	if ((u->groups = calloc(json_array_size(a), sizeof(char *))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) ||
		    !name_principal_valid(json_string_value(v))) {
			r = ERR_DB;
			goto out;
		}
		if ((u->groups[i] = strdup(json_string_value(v))) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		u->ngroups = i + 1;
	}
	r = 0;
out:
	json_decref(a);
	return r;
}

/* The stored row as a new struct user; ERR_DB when the stored name or
 * groups are not what user_add() writes. */
static int
user_from_store(const struct store_user *su, struct user **out)
{
	struct user *u = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return ERR_ALLOC;
	ENSURE(name_principal_valid(su->name), ERR_DB);
	ENSURE((u->name = strdup(su->name)) != NULL, ERR_ALLOC);
	TRY(groups_parse(u, su->groups));
	u->disabled = su->disabled;
	u->created = su->created;
	u->token_created = su->token_created;
	*out = u;
	u = NULL;
	r = 0;
out:
	user_free(u);
	return r;
}

/* The user called name (*out may be NULL to test existence only). */
static int
user_lookup(struct ledger *l, const char *name, struct user **out)
{
	struct store_user *su = NULL;
	struct user *u = NULL;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	TRY(store_user_get(ledger_store(l), name, &su));
	TRY(user_from_store(su, &u));
	if (out != NULL) {
		*out = u;
		u = NULL;
	}
	r = 0;
out:
	user_free(u);
	store_user_free(su);
	return r;
}

/* Append token.issued for hash. */
static int
token_event(struct ledger *l, const char *actor, const char *name,
    const uint8_t hash[HASH_LEN], int rotated)
{
	char id[USER_TOKEN_ID_LEN + 1], hex[2 * HASH_LEN + 1];
	json_t *d = NULL;
	int r = ERR_INTERNAL;

	token_id(hash, id);
	/* token_sha256: what users.token_hash must hold, for
	 * ledger_verify_state() (a hash of a 256-bit token reveals nothing
	 * usable). */
	wire_hex_encode(hex, hash, HASH_LEN);
	if ((d = json_pack(
		 "{s:s, s:s}", "token_id", id, "token_sha256", hex)) == NULL ||
	    (rotated && json_object_set_new(d, "rotated", json_true()) != 0)) {
		r = ERR_ALLOC;
		goto out;
	}
	TRY(ledger_append(l, NULL, "token.issued", actor, name, d));
	r = 0;
out:
	json_decref(d);
	return r;
}

int
user_add(struct ledger *l, const struct config *cfg, const char *actor,
    const char *name, char *const *groups, size_t ngroups, char **token_out)
{
	json_t *g = NULL, *d = NULL;
	char *gtext = NULL, *tok = NULL;
	uint8_t hash[HASH_LEN];
	uint64_t now;
	int r = ERR_INTERNAL, began = 0;

	if (token_out != NULL)
		*token_out = NULL;
	if (l == NULL || cfg == NULL || token_out == NULL)
		return ERR_INVALID_ARG;
	if (!name_principal_valid(name))
		return ERR_BAD_NAME;
	TRY(config_user_name_check(cfg, name, NULL, 0));
	TRY(groups_json(groups, ngroups, &g));
	if ((gtext = json_dumps(g, JSON_COMPACT)) == NULL ||
	    (d = json_pack("{s:O}", "groups", g)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	TRY(token_new(&tok, hash));
	TRY(ledger_begin(l));
	began = 1;
	if ((r = user_lookup(l, name, NULL)) == 0) {
		r = ERR_EXISTS;
		goto out;
	} else if (r != ERR_NOT_FOUND)
		goto out;
	now = ledger_now();
	TRY(store_user_insert(ledger_store(l), name, gtext, hash, now));
	TRY(ledger_append(l, NULL, "user.added", actor, name, d));
	TRY(token_event(l, actor, name, hash, 0));
	began = 0; /* a failed commit rolls back */
	TRY(ledger_commit(l));
	*token_out = tok;
	tok = NULL;
	r = 0;
out:
	if (began)
		ledger_rollback(l);
	OPENSSL_cleanse(hash, sizeof(hash));
	user_token_free(tok);
	free(gtext);
	json_decref(g);
	json_decref(d);
	return r;
}

int
user_token_rotate(
    struct ledger *l, const char *actor, const char *name, char **token_out)
{
	struct user *u = NULL;
	char *tok = NULL;
	uint8_t hash[HASH_LEN];
	int r = ERR_INTERNAL, began = 0;

	if (token_out != NULL)
		*token_out = NULL;
	if (l == NULL || token_out == NULL)
		return ERR_INVALID_ARG;
	if (!name_principal_valid(name))
		return ERR_BAD_NAME;
	TRY(token_new(&tok, hash));
	TRY(ledger_begin(l));
	began = 1;
	TRY(user_lookup(l, name, &u));
	ENSURE(!u->disabled, ERR_USER_DISABLED);
	TRY(store_user_token_set(ledger_store(l), name, hash, ledger_now()));
	TRY(token_event(l, actor, name, hash, 1));
	began = 0; /* a failed commit rolls back */
	TRY(ledger_commit(l));
	*token_out = tok;
	tok = NULL;
	r = 0;
out:
	if (began)
		ledger_rollback(l);
	OPENSSL_cleanse(hash, sizeof(hash));
	user_token_free(tok);
	user_free(u);
	return r;
}

int
user_disable(struct ledger *l, const char *actor, const char *name)
{
	struct user *u = NULL;
	int r = ERR_INTERNAL, began = 0;

	if (l == NULL)
		return ERR_INVALID_ARG;
	if (!name_principal_valid(name))
		return ERR_BAD_NAME;
	TRY(ledger_begin(l));
	began = 1;
	TRY(user_lookup(l, name, &u));
	ENSURE(!u->disabled, ERR_USER_DISABLED);
	TRY(store_user_disable(ledger_store(l), name));
	TRY(ledger_append(l, NULL, "user.disabled", actor, name, NULL));
	began = 0; /* a failed commit rolls back */
	TRY(ledger_commit(l));
	r = 0;
out:
	if (began)
		ledger_rollback(l);
	user_free(u);
	return r;
}

int
user_get(struct ledger *l, const char *name, struct user **out)
{
	if (out != NULL)
		*out = NULL;
	if (l == NULL || out == NULL)
		return ERR_INVALID_ARG;
	if (!name_principal_valid(name))
		return ERR_BAD_NAME;
	return user_lookup(l, name, out);
}

/* Append one user to the list arg (users_each()), as a view. */
static int
user_list_add(void *arg, const struct store_user *su)
{
	struct user_views *uv = arg;
	struct user_view *n, *v;
	struct user *u = NULL;
	int r = ERR_INTERNAL;

	TRY(user_from_store(su, &u));
	ENSURE(
	    (n = realloc(uv->v, (uv->n + 1) * sizeof(*n))) != NULL, ERR_ALLOC);
	uv->v = n;
	v = &n[uv->n];
	memset(v, 0, sizeof(*v));
	uv->n++;
	v->disabled = u->disabled;
	v->created = u->created;
	ENSURE((v->name = strdup(u->name)) != NULL, ERR_ALLOC);
	TRY(view_strv_dup(u->groups, u->ngroups, &v->groups));
	v->ngroups = u->ngroups;
	r = 0;
out:
	user_free(u);
	return r;
}

int
user_list(struct ledger *l, struct user_views **out)
{
	struct user_views *uv = NULL;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (l == NULL || out == NULL)
		return ERR_INVALID_ARG;
	if ((uv = calloc(1, sizeof(*uv))) == NULL)
		return ERR_ALLOC;
	TRY(store_users_each(ledger_store(l), 0, user_list_add, uv));
	*out = uv;
	uv = NULL;
	r = 0;
out:
	user_views_free(uv);
	return r;
}

/* The unexpired session whose token hashes to hash into *ss (cleared by
 * the caller, also on failure); ERR_BAD_TOKEN when there is none. */
static int
session_live(
    struct ledger *l, const uint8_t hash[HASH_LEN], struct store_session *ss)
{
	int r;

	if ((r = store_session_get(ledger_store(l), hash, ss)) == ERR_NOT_FOUND)
		return ERR_BAD_TOKEN;
	if (r != 0)
		return r;
	if (CRYPTO_memcmp(ss->token_hash, hash, HASH_LEN) != 0 ||
	    ss->expires <= ledger_now())
		return ERR_BAD_TOKEN;
	return 0;
}

/* The user of an unexpired session whose token hashes to hash. */
static int
session_authenticate(
    struct ledger *l, const uint8_t hash[HASH_LEN], struct user **out)
{
	struct store_session ss;
	int r = ERR_INTERNAL;

	*out = NULL;
	memset(&ss, 0, sizeof(ss));
	TRY(session_live(l, hash, &ss));
	if ((r = user_lookup(l, ss.user, out)) == ERR_NOT_FOUND)
		r = ERR_BAD_TOKEN;
	TRY(r);
	(*out)->session = 1;
	(*out)->auth_time = ss.auth_time;
	if ((*out)->disabled) {
		user_free(*out);
		*out = NULL;
		r = ERR_USER_DISABLED;
		goto out;
	}
	r = 0;
out:
	store_session_clear(&ss);
	return r;
}

int
user_authenticate(struct ledger *l, const char *token, struct user **out)
{
	struct store_user *su = NULL;
	struct user *u = NULL;
	uint8_t hash[HASH_LEN];
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (l == NULL || out == NULL)
		return ERR_INVALID_ARG;
	TRY(user_token_format_check(token));
	TRY(sha256(hash, token, USER_TOKEN_LEN));
	/* The lookup by hash may take data-dependent time; that reveals
	 * nothing about a token, only about its SHA-256.  The final check
	 * is constant-time.  Not a user's token: perhaps a session's. */
	if ((r = store_user_by_token(ledger_store(l), hash, &su)) ==
	    ERR_NOT_FOUND) {
		TRY(session_authenticate(l, hash, &u));
	} else if (r != 0) {
		goto out;
	} else {
		if (!su->has_token ||
		    CRYPTO_memcmp(su->token_hash, hash, HASH_LEN) != 0) {
			r = ERR_BAD_TOKEN;
			goto out;
		}
		TRY(user_from_store(su, &u));
		ENSURE(!u->disabled, ERR_USER_DISABLED);
	}
	*out = u;
	u = NULL;
	r = 0;
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	user_free(u);
	store_user_free(su);
	return r;
}

/* 1 when cfg names group g (requesters, approvers, auditors). */
static int
config_names_group(const struct config *cfg, const char *g)
{
	char *const one[1] = {(char *)(uintptr_t)g};
	size_t i;

	if (config_groups_intersect(one, 1, cfg->auditors, cfg->nauditors))
		return 1;
	for (i = 0; i < cfg->nroles; i++)
		if (config_groups_intersect(one, 1, cfg->roles[i].requesters,
			cfg->roles[i].nrequesters) ||
		    config_groups_intersect(one, 1, cfg->roles[i].approvers,
			cfg->roles[i].napprovers))
			return 1;
	return 0;
}

/* The claimed groups that can be jitca groups, as a JSON array. */
static int
claimed_groups(
    const struct config *cfg, const struct user_sign_in *in, json_t **out)
{
	char **keep = NULL;
	size_t i, n = 0, valid = 0;
	int r = ERR_INTERNAL, pass;

	*out = NULL;
	if (in->ngroups > 0 &&
	    (keep = calloc(in->ngroups, sizeof(*keep))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < in->ngroups; i++)
		valid += name_principal_valid(in->groups[i]) ? 1 : 0;
	/* Over the limit: only the groups the configuration names. */
	for (pass = valid > USER_GROUPS_MAX ? 1 : 0, i = 0; i < in->ngroups;
	     i++)
		if (name_principal_valid(in->groups[i]) &&
		    (!pass || config_names_group(cfg, in->groups[i])) &&
		    n < USER_GROUPS_MAX)
			keep[n++] = in->groups[i];
	r = groups_json(keep, n, out);
	free(keep);
	return r;
}

int
user_sign_in(struct ledger *l, const struct config *cfg,
    const struct user_sign_in *in, char **token_out, int *created)
{
	struct store_session ss;
	struct user *u = NULL;
	json_t *g = NULL, *d = NULL, *prev = NULL;
	char *gtext = NULL, *tok = NULL, id[USER_TOKEN_ID_LEN + 1];
	char *iss = NULL, *sub = NULL;
	uint64_t now, purged;
	size_t i;
	int r = ERR_INTERNAL, began = 0, same;

	memset(&ss, 0, sizeof(ss));
	if (token_out != NULL)
		*token_out = NULL;
	if (created != NULL)
		*created = 0;
	if (l == NULL || cfg == NULL || in == NULL || token_out == NULL ||
	    in->name == NULL)
		return ERR_INVALID_ARG;
	if (!name_principal_valid(in->name))
		return ERR_BAD_NAME;
	TRY(config_user_name_check(cfg, in->name, NULL, 0));
	TRY(claimed_groups(cfg, in, &g));
	ENSURE((gtext = json_dumps(g, JSON_COMPACT)) != NULL, ERR_ALLOC);
	TRY(token_new(&tok, ss.token_hash));
	TRY(ledger_begin(l));
	began = 1;
	now = ledger_now();
	ENSURE(in->expires > now, ERR_INVALID_ARG);
	TRY(store_sessions_purge(ledger_store(l), now, &purged));
	if ((r = user_lookup(l, in->name, &u)) == ERR_NOT_FOUND) {
		ENSURE((d = json_pack("{s:O, s:s}", "groups", g, "subject",
			    in->subject != NULL ? in->subject : "")) != NULL,
		    ERR_ALLOC);
		TRY(store_user_insert(
		    ledger_store(l), in->name, gtext, NULL, now));
		TRY(ledger_append(l, NULL, "user.seen", "oidc", in->name, d));
		if (created != NULL)
			*created = 1;
	} else if (r != 0) {
		goto out;
	} else {
		ENSURE(!u->disabled, ERR_USER_DISABLED);
		same = u->ngroups == json_array_size(g);
		for (i = 0; same && i < u->ngroups; i++)
			same =
			    strcmp(u->groups[i],
				json_string_value(json_array_get(g, i))) == 0;
		if (!same) {
			ENSURE((prev = json_array()) != NULL, ERR_ALLOC);
			for (i = 0; i < u->ngroups; i++)
				ENSURE(json_array_append_new(prev,
					   json_string(u->groups[i])) == 0,
				    ERR_ALLOC);
			ENSURE((d = json_pack("{s:O, s:O}", "groups", g,
				    "previous", prev)) != NULL,
			    ERR_ALLOC);
			TRY(store_user_groups_set(
			    ledger_store(l), in->name, gtext));
			TRY(ledger_append(
			    l, NULL, "user.groups", "oidc", in->name, d));
		}
	}
	/* The name stays with the person who first signed in with it. */
	if ((r = store_identity_get(ledger_store(l), in->name, &iss, &sub)) ==
	    ERR_NOT_FOUND) {
		TRY(store_identity_insert(ledger_store(l), in->name,
		    in->issuer != NULL ? in->issuer : "",
		    in->subject != NULL ? in->subject : "", now));
	} else if (r != 0) {
		goto out;
	} else
		ENSURE(strcmp(iss, in->issuer != NULL ? in->issuer : "") == 0 &&
			strcmp(sub, in->subject != NULL ? in->subject : "") ==
			    0,
		    ERR_OIDC_SUBJECT);
	ss.user = (char *)(uintptr_t)in->name;
	ss.created = now;
	ss.expires = in->expires;
	ss.auth_time = in->auth_time;
	TRY(store_session_insert(ledger_store(l), &ss));
	ss.user = NULL;
	json_decref(d);
	token_id(ss.token_hash, id);
	ENSURE((d = json_pack("{s:s, s:I, s:I}", "token_id", id, "expires",
		    (json_int_t)in->expires, "auth_time",
		    (json_int_t)in->auth_time)) != NULL,
	    ERR_ALLOC);
	TRY(ledger_append(l, NULL, "session.opened", in->name, in->name, d));
	began = 0; /* a failed commit rolls back */
	TRY(ledger_commit(l));
	*token_out = tok;
	tok = NULL;
	r = 0;
out:
	if (began)
		ledger_rollback(l);
	ss.user = NULL;
	store_session_clear(&ss);
	free(iss);
	free(sub);
	user_token_free(tok);
	user_free(u);
	free(gtext);
	json_decref(g);
	json_decref(d);
	json_decref(prev);
	return r;
}

int
user_session_end(struct ledger *l, const char *token, char **user_out,
    char id[USER_TOKEN_ID_LEN + 1])
{
	struct store_session ss;
	uint8_t hash[HASH_LEN];
	char tid[USER_TOKEN_ID_LEN + 1];
	json_t *d = NULL;
	int r = ERR_INTERNAL, began = 0;

	memset(&ss, 0, sizeof(ss));
	if (user_out != NULL)
		*user_out = NULL;
	if (id != NULL)
		id[0] = '\0';
	if (l == NULL)
		return ERR_INVALID_ARG;
	TRY(user_token_format_check(token));
	TRY(sha256(hash, token, USER_TOKEN_LEN));
	TRY(ledger_begin(l));
	began = 1;
	/* Read in the unit: the row deleted is the row checked.  An
	 * expired session is already refused; the next sign-in purges it.
	 * Nothing to end, nothing to record. */
	TRY(session_live(l, hash, &ss));
	if ((r = store_session_delete(ledger_store(l), hash)) == ERR_NOT_FOUND)
		r = ERR_BAD_TOKEN;
	TRY(r);
	token_id(hash, tid);
	ENSURE((d = json_pack("{s:s}", "token_id", tid)) != NULL, ERR_ALLOC);
	TRY(ledger_append(l, NULL, "session.closed", ss.user, ss.user, d));
	began = 0; /* a failed commit rolls back */
	TRY(ledger_commit(l));
	if (id != NULL)
		memcpy(id, tid, sizeof(tid));
	if (user_out != NULL) {
		*user_out = ss.user;
		ss.user = NULL;
	}
	r = 0;
out:
	if (began)
		ledger_rollback(l);
	OPENSSL_cleanse(hash, sizeof(hash));
	store_session_clear(&ss);
	json_decref(d);
	return r;
}

/* What user_config_check() passes to each user. */
struct config_check {
	const struct config *cfg;
	char *msg;
	size_t len;
};

static int
config_check_one(void *arg, const struct store_user *su)
{
	struct config_check *c = arg;
	struct user *u = NULL;
	int r = ERR_INTERNAL;

	TRY(user_from_store(su, &u));
	TRY(config_user_name_check(c->cfg, u->name, c->msg, c->len));
	r = 0;
out:
	user_free(u);
	return r;
}

int
user_config_check(
    struct ledger *l, const struct config *cfg, char *msg, size_t len)
{
	struct config_check c = {cfg, msg, len};

	if (msg != NULL && len > 0)
		msg[0] = '\0';
	if (l == NULL || cfg == NULL)
		return ERR_INVALID_ARG;
	return store_users_each(ledger_store(l), 1, config_check_one, &c);
}
