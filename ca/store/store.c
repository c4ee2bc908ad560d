/*
 * store.c: the parts of store.h that do not depend on a backend: the
 * error message of a store and freeing rows.  Works with
 * ca/store/store.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ca/store/store.h"

void
store_msg_set(struct store *s, const char *fmt, ...)
{
	va_list ap;

	if (s == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
}

const struct store_table_def *
store_table_def(enum store_table t)
{
	static const struct store_table_def defs[] = {
	    {"users", "read users",
		"name, groups, token_hash, disabled, created,"
		" token_created",
		"name", 6},
	    {"requests", "read requests",
		"requester, role, principals, ttl, reason,"
		" public_key, key_fp, state, created, expires,"
		" approvals_required, serial, updated, id",
		"id", 14},
	    {"approvals", "read approvals",
		"request_id, approver, decision, comment, time",
		"request_id, approver", 5},
	    {"certificates", "read certificates",
		"request_id, \"user\", role, key_id,"
		" principals, valid_after, valid_before, key_fp,"
		" key_blob, cert_sha256, certificate, issued,"
		" revoked, serial",
		"serial", 14},
	    {"revoked_keys", "read revoked_keys",
		"key_sha256, key_fp, reason, time", "key_sha256", 4},
	    {"hosts", "read hosts",
		"name, principals, token_hash, disabled, created", "name", 5},
	    {"host_keys", "read host_keys",
		"name, key_type, key_blob, key_fp, bound", "name, key_type", 5},
	    {"merkle_nodes", "read merkle_nodes", "level, idx, hash",
		"level, idx", 3},
	    {"checkpoints", "read checkpoints",
		"tree_size, root, note, sig, time", "tree_size", 5},
	    {"sessions", "read sessions",
		"token_hash, \"user\", created, expires,"
		" auth_time",
		"token_hash", 5},
	    {"identities", "read identities",
		"\"user\", issuer, subject, created", "\"user\"", 4},
	    {"notify_cursors", "read notify_cursors", "sink, seq, updated",
		"sink", 3},
	};

	if (t < STORE_TABLE_USERS || t > STORE_TABLE_NOTIFY_CURSORS)
		return NULL;
	return &defs[t - STORE_TABLE_USERS];
}

int
store_is_pg_url(const char *path)
{
	return path != NULL &&
	    (strncmp(path, "postgres://", 11) == 0 ||
		strncmp(path, "postgresql://", 13) == 0);
}

int
store_url_has_password(const char *url)
{
	const char *u, *at, *c;

	if (url == NULL || (u = strstr(url, "://")) == NULL)
		return 0;
	u += 3;
	at = strchr(u, '@');
	c = strchr(u, ':');
	if (at != NULL && c != NULL && c < at &&
	    strcspn(u, "/?") > (size_t)(at - u))
		return 1;
	return strstr(url, "password=") != NULL;
}

void
store_user_free(struct store_user *u)
{
	if (u == NULL)
		return;
	free(u->name);
	free(u->groups);
	OPENSSL_cleanse(u->token_hash, sizeof(u->token_hash));
	free(u);
}

void
store_host_free(struct store_host *h)
{
	if (h == NULL)
		return;
	free(h->name);
	free(h->principals);
	OPENSSL_cleanse(h->token_hash, sizeof(h->token_hash));
	free(h);
}

void
store_host_key_free(struct store_host_key *k)
{
	if (k == NULL)
		return;
	free(k->key_type);
	free(k->blob);
	free(k->key_fp);
	free(k);
}

void
store_request_clear(struct store_request *r)
{
	if (r == NULL)
		return;
	free(r->requester);
	free(r->role);
	free(r->principals);
	free(r->reason);
	free(r->public_key);
	free(r->key_fp);
	free(r->state);
	memset(r, 0, sizeof(*r));
}

void
store_cert_info_clear(struct store_cert_info *c)
{
	if (c == NULL)
		return;
	free(c->certificate);
	free(c->key_id);
	memset(c, 0, sizeof(*c));
}

void
store_checkpoint_clear(struct store_checkpoint *c)
{
	if (c == NULL)
		return;
	free(c->note);
	free(c->sig);
	memset(c, 0, sizeof(*c));
}
