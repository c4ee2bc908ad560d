/*
 * sessions.c: session_record() and session_host_allowed() of sessions.h:
 * parse each reported line (ca/logins.c), pair refusals with their
 * reasons, skip what the ledger already holds, tie each login to its
 * certificate, and append session.login / session.refused events in one
 * transaction.  The two lookups it needs from storage (is this identity
 * recorded, which certificate has this serial) are store operations
 * (ca/store/store.h), called from the two functions at the end of the
 * file.  Nothing here knows HTTP or SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ca/logins.h"
#include "ca/sessions.h"
#include "ca/store/store.h"
#include "signer/pubkey.h"

#define SUBJECT_LEN 80 /* "login:" + 64 hex */
#define HOST_CHARS                                                             \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* What the ledger knows of a serial. */
struct cert_info {
	int found;
	int64_t request;
	char key_id[LOGIN_KEYID_MAX + 1];
	char user[LOGIN_ACCOUNT_MAX + 1];
	char role[128];
};

static int login_seen(struct ca *ca, const char *subject, int *found);
static int cert_info_get(struct ca *ca, uint64_t serial, struct cert_info *ci);

static int
chars_ok(const char *s, size_t max, const char *allowed)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, allowed) == n;
}

static int
at_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > SESSION_AT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* hex(SHA-256(host "\n" at "\n" line)) after "login:". */
static int
entry_subject(
    char out[SUBJECT_LEN], const char *host, const struct session_entry *e)
{
	size_t hl = strlen(host), al = strlen(e->at), n = hl + al + 2 + e->len;
	char *buf = NULL, hex[65];
	int r = ERR_INTERNAL;

	ENSURE((buf = malloc(n)) != NULL, ERR_ALLOC);
	memcpy(buf, host, hl);
	buf[hl] = '\n';
	memcpy(buf + hl + 1, e->at, al);
	buf[hl + 1 + al] = '\n';
	memcpy(buf + hl + 2 + al, e->line, e->len);
	TRY(ca_sha256_hex(hex, buf, n));
	snprintf(out, SUBJECT_LEN, "login:%s", hex);
	r = 0;
out:
	free(buf);
	return r;
}

/* The event of one accepted or failed line, appended. */
static int
append_login(struct ca *ca, const char *actor, const char *host,
    const char *subject, const struct session_entry *e,
    const struct login_line *l, const struct login_line *reason,
    const char *ca_fp)
{
	struct cert_info ci;
	const char *unknown = NULL;
	json_t *d = NULL;
	int r = ERR_INTERNAL;

	TRY(cert_info_get(ca, l->serial, &ci));
	if (strcmp(l->ca_fp, ca_fp) != 0)
		unknown = "other_ca";
	else if (!ci.found)
		unknown = "not_issued";
	else if (strcmp(ci.key_id, l->key_id) != 0)
		unknown = "key_id_mismatch";
	d = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:I, s:s, "
		      "s:b}",
	    "host", host, "account", l->account, "source", l->source, "port",
	    (json_int_t)l->port, "serial", (json_int_t)l->serial, "key_id",
	    l->key_id, "key_fp", l->key_fp, "ca_fp", l->ca_fp, "time",
	    (json_int_t)(e->time > 0 ? e->time : (int64_t)ca_now(ca)), "at",
	    e->at, "known", unknown == NULL);
	ENSURE(d != NULL, ERR_ALLOC);
	if (unknown == NULL) {
		ENSURE(json_object_set_new(d, "request",
			   ci.request > 0 ? json_integer(ci.request)
					  : json_null()) == 0 &&
			json_object_set_new(d, "user", json_string(ci.user)) ==
			    0 &&
			json_object_set_new(d, "role", json_string(ci.role)) ==
			    0,
		    ERR_ALLOC);
	} else {
		ENSURE(json_object_set_new(d, "request", json_null()) == 0 &&
			json_object_set_new(
			    d, "unknown", json_string(unknown)) == 0,
		    ERR_ALLOC);
	}
	if (l->invalid_user)
		ENSURE(json_object_set_new(d, "invalid_user", json_true()) == 0,
		    ERR_ALLOC);
	if (l->kind == LOGIN_FAILED)
		ENSURE(json_object_set_new(d, "reason",
			   json_string(reason != NULL
				   ? login_reason_name(reason->reason)
				   : "unknown")) == 0,
		    ERR_ALLOC);
	TRY(ledger_append(ca->ledger, NULL,
	    l->kind == LOGIN_ACCEPTED ? "session.login" : "session.refused",
	    actor, subject, d));
	r = 0;
out:
	json_decref(d);
	return r;
}

/* A reason line r explains failed line l (a revocation names its key). */
static int
reason_fits(const struct login_line *r, const struct login_line *l)
{
	if (r->reason == LOGIN_REASON_REVOKED)
		return strcmp(r->key_fp, l->key_fp) == 0;
	return 1;
}

int
session_record(struct ca *ca, const char *actor, const char *host,
    const struct session_entry *e, size_t n, enum session_outcome *outcome,
    int *code, struct session_result *res)
{
	struct login_line *l = NULL, *prev = NULL;
	char subject[SUBJECT_LEN], ca_fp[PUBKEY_FP_LEN];
	size_t i;
	int r = ERR_INTERNAL, in_tx = 0, rr, found;

	memset(res, 0, sizeof(*res));
	ENSURE(n <= SESSION_BATCH_MAX, ERR_INVALID_ARG);
	ENSURE(host != NULL && chars_ok(host, SESSION_HOST_MAX, HOST_CHARS),
	    ERR_INVALID_ARG);
	for (i = 0; i < n; i++)
		ENSURE(e[i].at != NULL && at_ok(e[i].at) && e[i].line != NULL &&
			e[i].time >= 0,
		    ERR_INVALID_ARG);
	TRY(pubkey_fingerprint(ca_fp, ca->ca_pub));
	/* Two lines: this one and the one before (a refusal's reason). */
	ENSURE((l = calloc(2, sizeof(*l))) != NULL, ERR_ALLOC);
	TRY(ledger_begin(ca->ledger));
	in_tx = 1;
	for (i = 0; i < n; i++) {
		struct login_line *cur = &l[i % 2];
		const struct login_line *reason = NULL;

		code[i] = 0;
		rr = login_parse(cur, e[i].line, e[i].len);
		if (prev != NULL && rr == 0 && cur->kind == LOGIN_FAILED &&
		    reason_fits(prev, cur))
			reason = prev;
		prev = NULL;
		if (rr == ERR_LOGIN_IGNORED) {
			outcome[i] = SESSION_IGNORED;
			res->ignored++;
			continue;
		}
		if (rr != 0) {
			outcome[i] = SESSION_REFUSED;
			code[i] = rr;
			res->refused++;
			continue;
		}
		if (cur->kind == LOGIN_REASON) {
			outcome[i] = SESSION_REASON;
			prev = cur;
			continue;
		}
		TRY(entry_subject(subject, host, &e[i]));
		TRY(login_seen(ca, subject, &found));
		if (found) {
			outcome[i] = SESSION_DUPLICATE;
			res->duplicates++;
			continue;
		}
		TRY(append_login(
		    ca, actor, host, subject, &e[i], cur, reason, ca_fp));
		outcome[i] = SESSION_ADDED;
		res->added++;
	}
	in_tx = 0;
	TRY(ledger_commit(ca->ledger));
	r = 0;
out:
	if (in_tx)
		ledger_rollback(ca->ledger);
	if (r != 0)
		memset(res, 0, sizeof(*res));
	free(l);
	return r;
}

int
session_host_allowed(
    const struct ca *ca, const struct ca_actor *a, const char *host)
{
	/* With host tokens this becomes: the token's host is host. */
	if (!config_groups_intersect(a->groups, a->ngroups,
		ca->cfg->host_groups, ca->cfg->nhost_groups))
		return ERR_FORBIDDEN;
	if (host == NULL || strcmp(host, a->name) != 0)
		return ERR_LOGIN_HOST;
	return 0;
}

/* ---- the two lookups, through the store (inside the transaction) ---- */

/* *found 1 when a login event with this subject exists. */
static int
login_seen(struct ca *ca, const char *subject, int *found)
{
	static const char *const types[] = {
	    "session.login", "session.refused", NULL};

	return store_event_subject_exists(
	    ledger_store(ca->ledger), subject, types, found);
}

static int
cert_info_add(void *arg, const struct store_cert_match *m)
{
	struct cert_info *ci = arg;

	ci->found = 1;
	ci->request = m->request;
	snprintf(ci->key_id, sizeof(ci->key_id), "%s", m->key_id);
	snprintf(ci->user, sizeof(ci->user), "%s", m->user);
	snprintf(ci->role, sizeof(ci->role), "%s", m->role);
	return 0;
}

static int
cert_info_get(struct ca *ca, uint64_t serial, struct cert_info *ci)
{
	struct store_cert_query q;

	memset(ci, 0, sizeof(*ci));
	if (serial == 0 || serial > INT64_MAX)
		return 0;
	memset(&q, 0, sizeof(q));
	q.by = STORE_CERT_BY_SERIAL;
	q.num = (int64_t)serial;
	return store_certs_match(
	    ledger_store(ca->ledger), &q, cert_info_add, ci);
}
