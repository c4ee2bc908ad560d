/*
 * revoke.c: revocation of certificates and keys in the ledger, and the
 * KRL built from it (revoke.h).
 *
 * revoke_apply() selects the matching certificates, checks that the
 * actor may revoke each of them, and then, inside one BEGIN IMMEDIATE
 * transaction, marks the new ones revoked, moves their requests to
 * "revoked", records revoked keys, appends the events and bumps
 * krl_version.  The KRL builder reads the revoked serials still within
 * the retention (revoke.h) and the revoked key hashes and hands them to
 * signer/krl.c, which owns the format.
 *
 * Works with ca/ca.h (context), ca/ledger.h (transactions),
 * ca/store/store.h (certs_match, cert_revoke, revoked_key_insert,
 * krl_each: no SQL here), signer/krl.h, signer/pubkey.h, signer/wire.h
 * (hex).  Not here: the KRL encoding (signer/krl.c), HTTP (web/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ca/request.h"
#include "ca/hosts.h"
#include "ca/revoke.h"
#include "signer/krl.h"
#include "signer/names.h"
#include "signer/wire.h"

#define REVOKE_MATCH_MAX 100000

struct match {
	int64_t serial;
	char *key_id;
	char *user;
	char *role;
	int64_t request; /* 0 when none */
	int revoked;
};

struct matches {
	struct match *v;
	size_t n, cap;
};

static void
matches_clear(struct matches *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].key_id);
		free(m->v[i].user);
		free(m->v[i].role);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* Add one matching certificate to the matches arg (certs_match()). */
static int
match_add(void *arg, const struct store_cert_match *sm)
{
	struct matches *m = arg;
	struct match *tmp, *e;
	int r = ERR_INTERNAL;

	ENSURE(m->n < REVOKE_MATCH_MAX, ERR_TOO_LARGE);
	if (m->n == m->cap) {
		size_t cap = m->cap == 0 ? 8 : m->cap * 2;

		tmp = realloc(m->v, cap * sizeof(*tmp));
		ENSURE(tmp != NULL, ERR_ALLOC);
		m->v = tmp;
		m->cap = cap;
	}
	e = &m->v[m->n];
	memset(e, 0, sizeof(*e));
	m->n++;
	e->serial = sm->serial;
	e->key_id = strdup(sm->key_id);
	e->user = strdup(sm->user);
	e->role = strdup(sm->role);
	ENSURE(
	    e->key_id != NULL && e->user != NULL && e->role != NULL, ERR_ALLOC);
	e->request = sm->request;
	e->revoked = sm->revoked;
	r = 0;
out:
	return r;
}

/* Certificates the target selects; key_blob for REVOKE_PUBLIC_KEY. */
static int
matches_find(struct ca *ca, const struct revoke_target *t,
    const uint8_t *key_blob, size_t key_len, struct matches *m)
{
	struct store_cert_query q;
	char owner[sizeof(HOST_OWNER_PREFIX) + NAME_HOST_MAX];

	memset(&q, 0, sizeof(q));
	if (t->by == REVOKE_HOST)
		(void)snprintf(
		    owner, sizeof(owner), "%s%s", HOST_OWNER_PREFIX, t->text);
	switch (t->by) {
	case REVOKE_SERIAL:
		q.by = STORE_CERT_BY_SERIAL;
		q.num = (int64_t)t->serial;
		break;
	case REVOKE_KEY_ID:
		q.by = STORE_CERT_BY_KEY_ID;
		q.text = t->text;
		break;
	case REVOKE_USER:
	case REVOKE_HOST:
		q.by = STORE_CERT_BY_USER;
		q.text = t->by == REVOKE_HOST ? owner : t->text;
		q.now = ca_now(ca);
		break;
	case REVOKE_REQUEST:
		q.by = STORE_CERT_BY_REQUEST;
		q.num = t->request;
		break;
	case REVOKE_PUBLIC_KEY:
		q.by = STORE_CERT_BY_KEY;
		q.blob = key_blob;
		q.bloblen = key_len;
		break;
	default:
		return ERR_INVALID_ARG;
	}
	return store_certs_match(ledger_store(ca->ledger), &q, match_add, m);
}

static int
may_revoke(struct ca *ca, const struct ca_actor *a, const struct match *e)
{
	const struct role *role;

	if (ca_actor_is_local(a) || ca_actor_is_auditor(ca, a))
		return 1;
	/* A host certificate: only an administrator or an auditor. */
	if (strncmp(
		e->user, HOST_OWNER_PREFIX, sizeof(HOST_OWNER_PREFIX) - 1) == 0)
		return 0;
	if (strcmp(a->name, e->user) == 0)
		return 1;
	role = config_role(ca->cfg, e->role);
	return role != NULL &&
	    config_groups_intersect(
		a->groups, a->ngroups, role->approvers, role->napprovers);
}

/* Inside the transaction: revoke one certificate (if not yet) with its
 * event; *newly says whether it was. */
static int
cert_revoke_locked(struct ca *ca, const struct ca_actor *actor,
    const struct match *e, const char *reason, uint64_t now, uint64_t version,
    int *newly)
{
	json_t *details = NULL;
	char subject[64];
	int r = ERR_INTERNAL, changed = 0;

	*newly = 0;
	TRY(store_cert_revoke(
	    ledger_store(ca->ledger), e->serial, now, &changed));
	if (!changed) {
		r = 0;
		goto out;
	}
	details = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I}", "serial",
	    (json_int_t)e->serial, "key_id", e->key_id, "reason", reason,
	    "user", e->user, "role", e->role, "request", (json_int_t)e->request,
	    "krl_version", (json_int_t)version);
	ENSURE(details != NULL, ERR_ALLOC);
	snprintf(subject, sizeof(subject), "cert:%lld", (long long)e->serial);
	TRY(ledger_append(
	    ca->ledger, NULL, "cert.revoked", actor->name, subject, details));
	*newly = 1;
	r = 0;
out:
	json_decref(details);
	return r;
}

/* Inside the transaction: record a revoked key; *newly as above. */
static int
key_revoke_locked(struct ca *ca, const struct ca_actor *actor,
    const struct pubkey *k, const char *reason, uint64_t now, json_t *serials,
    uint64_t version, int *newly)
{
	json_t *details = NULL;
	uint8_t h[32];
	char fp[PUBKEY_FP_LEN], hex[65], subject[96];
	int r = ERR_INTERNAL, changed = 0;

	*newly = 0;
	TRY(pubkey_sha256(h, k));
	TRY(pubkey_fingerprint(fp, k));
	wire_hex_encode(hex, h, sizeof(h));
	TRY(store_revoked_key_insert(
	    ledger_store(ca->ledger), h, fp, now, reason, &changed));
	if (!changed) {
		r = 0;
		goto out;
	}
	details = json_pack("{s:s, s:s, s:s, s:O, s:I}", "key_fp", fp,
	    "key_sha256", hex, "reason", reason, "certificates", serials,
	    "krl_version", (json_int_t)version);
	ENSURE(details != NULL, ERR_ALLOC);
	snprintf(subject, sizeof(subject), "key:%s", fp);
	TRY(ledger_append(
	    ca->ledger, NULL, "key.revoked", actor->name, subject, details));
	*newly = 1;
	r = 0;
out:
	json_decref(details);
	return r;
}

int
revoke_apply(struct ca *ca, const struct ca_actor *actor,
    const struct revoke_target *t, const char *reason,
    struct revocation_view **out)
{
	struct matches m;
	struct pubkey *key = NULL;
	const uint8_t *kblob = NULL;
	size_t klen = 0, i;
	struct revocation_view *res = NULL;
	json_t *all = NULL;
	char fp[PUBKEY_FP_LEN];
	uint64_t now, version = 0;
	int r = ERR_INTERNAL, in_tx = 0, newly, key_newly = 0, exists, any = 0;

	memset(&m, 0, sizeof(m));
	if (out != NULL)
		*out = NULL;
	ENSURE(ca != NULL && actor != NULL && actor->name != NULL && t != NULL,
	    ERR_INVALID_ARG);
	TRY(request_text_check(reason, REVOKE_REASON_MAX, 1));
	switch (t->by) {
	case REVOKE_SERIAL:
		ENSURE(
		    t->serial != 0 && t->serial <= INT64_MAX, ERR_INVALID_ARG);
		break;
	case REVOKE_KEY_ID:
		ENSURE(t->text != NULL, ERR_INVALID_ARG);
		ENSURE(name_key_id_valid(t->text), ERR_CERT_BAD_KEY_ID);
		break;
	case REVOKE_USER:
		ENSURE(t->text != NULL, ERR_INVALID_ARG);
		ENSURE(name_principal_valid(t->text), ERR_BAD_NAME);
		break;
	case REVOKE_HOST:
		ENSURE(t->text != NULL, ERR_INVALID_ARG);
		ENSURE(name_host_valid(t->text), ERR_BAD_NAME);
		ENSURE(
		    ca_actor_is_local(actor) || ca_actor_is_auditor(ca, actor),
		    ERR_FORBIDDEN);
		break;
	case REVOKE_REQUEST:
		ENSURE(t->request > 0, ERR_INVALID_ARG);
		break;
	case REVOKE_PUBLIC_KEY:
		ENSURE(t->text != NULL, ERR_INVALID_ARG);
		ENSURE(
		    ca_actor_is_local(actor) || ca_actor_is_auditor(ca, actor),
		    ERR_FORBIDDEN);
		ENSURE(strnlen(t->text, PUBKEY_MAX_LINE + 1) <= PUBKEY_MAX_LINE,
		    ERR_TOO_LARGE);
		TRY(pubkey_from_line(&key, t->text, strlen(t->text)));
		kblob = pubkey_blob(key, &klen);
		TRY(pubkey_fingerprint(fp, key));
		break;
	default:
		r = ERR_INVALID_ARG;
		goto out;
	}

	TRY(ledger_begin(ca->ledger));
	in_tx = 1;
	now = ca_now(ca);
	TRY(matches_find(ca, t, kblob, klen, &m));
	if (m.n == 0 && t->by == REVOKE_REQUEST) {
		TRY(store_request_exists(
		    ledger_store(ca->ledger), t->request, &exists));
		ENSURE(!exists, ERR_WRONG_STATE);
	}
	ENSURE(m.n > 0 || t->by == REVOKE_PUBLIC_KEY, ERR_NOT_FOUND);
	for (i = 0; i < m.n; i++)
		ENSURE(may_revoke(ca, actor, &m.v[i]), ERR_FORBIDDEN);

	ENSURE((res = calloc(1, sizeof(*res))) != NULL &&
		(all = json_array()) != NULL,
	    ERR_ALLOC);
	if (m.n > 0)
		ENSURE((res->revoked = calloc(m.n, sizeof(uint64_t))) != NULL &&
			(res->already_revoked =
				calloc(m.n, sizeof(uint64_t))) != NULL,
		    ERR_ALLOC);
	/* The version this revocation makes, recorded in its events (a
	 * revocation that writes nothing rolls the bump back). */
	TRY(ledger_krl_version_bump(ca->ledger, &version));
	for (i = 0; i < m.n; i++) {
		TRY(cert_revoke_locked(
		    ca, actor, &m.v[i], reason, now, version, &newly));
		if (newly)
			res->revoked[res->nrevoked++] = (uint64_t)m.v[i].serial;
		else
			res->already_revoked[res->nalready_revoked++] =
			    (uint64_t)m.v[i].serial;
		ENSURE(json_array_append_new(
			   all, json_integer(m.v[i].serial)) == 0,
		    ERR_ALLOC);
		any |= newly;
	}
	if (key != NULL) {
		TRY(key_revoke_locked(
		    ca, actor, key, reason, now, all, version, &key_newly));
		any |= key_newly;
	}
	if (any) {
		in_tx = 0; /* a failed commit rolls back */
		TRY(ledger_commit(ca->ledger));
	} else {
		/* Nothing new: write nothing. */
		in_tx = 0;
		ledger_rollback(ca->ledger);
		ledger_read_begin(ca->ledger);
		r = ledger_krl_version(ca->ledger, &version);
		ledger_read_end(ca->ledger);
		TRY(r);
	}
	res->krl_version = version;
	if (key != NULL) {
		ENSURE((res->key_fp = strdup(fp)) != NULL, ERR_ALLOC);
		res->key_revoked = key_newly;
	}
	if (out != NULL) {
		*out = res;
		res = NULL;
	}
	r = 0;
out:
	if (in_tx)
		ledger_rollback(ca->ledger);
	revocation_view_free(res);
	json_decref(all);
	matches_clear(&m);
	pubkey_free(key);
	return r;
}

uint64_t
revoke_krl_retention(const struct ca *ca)
{
	if (ca == NULL || ca->cfg == NULL)
		return REVOKE_RETENTION_DEFAULT;
	return ca->cfg->hard_max_ttl + ca->cfg->backdate;
}

/* What revoke_krl_build() hands to each row of krl_each(). */
struct krl_fill {
	struct krl *krl;
	const uint8_t *cablob;
	size_t calen;
	const uint8_t *hostblob; /* the host CA key, NULL: none */
	size_t hostlen;
};

static int
krl_fill_serial(void *arg, uint64_t s)
{
	struct krl_fill *f = arg;

	int r;

	if (s == 0)
		return 0; /* never issued; serial 0 breaks a KRL */
	/*
	 * User and host certificates share one serial counter, so a serial
	 * names one certificate of either CA: listing each revoked serial
	 * under both keys revokes exactly that one (ca/hosts.h), and hosts
	 * (RevokedKeys) and clients (RevokedHostKeys) read the same KRL.
	 */
	if ((r = krl_revoke_serials(f->krl, f->cablob, f->calen, s, s)) != 0)
		return r;
	if (f->hostblob == NULL)
		return 0;
	return krl_revoke_serials(f->krl, f->hostblob, f->hostlen, s, s);
}

static int
krl_fill_key(void *arg, const uint8_t sha256[32])
{
	struct krl_fill *f = arg;

	return krl_revoke_key_sha256(f->krl, sha256);
}

int
revoke_krl_build(struct ca *ca, uint8_t **out, size_t *len)
{
	struct krl_fill f = {NULL, NULL, 0, NULL, 0};
	struct store *s;
	uint64_t version = 0, now;
	int r = ERR_INTERNAL, began = 0;

	if (out != NULL)
		*out = NULL;
	if (len != NULL)
		*len = 0;
	ENSURE(ca != NULL && ca->ca_pub != NULL && out != NULL && len != NULL,
	    ERR_INVALID_ARG);
	s = ledger_store(ca->ledger);
	now = ca_now(ca);
	f.cablob = pubkey_blob(ca->ca_pub, &f.calen);
	if (ca->host_pub != NULL)
		f.hostblob = pubkey_blob(ca->host_pub, &f.hostlen);
	/* One read snapshot for the version, the serials and the keys. */
	TRY(store_snapshot_begin(s, &began));
	TRY(ledger_krl_version(ca->ledger, &version));
	TRY(krl_new(&f.krl, version, now, NULL));
	/* Kept until valid_before + hard_max_ttl + backdate (revoke.h). */
	TRY(store_krl_each(s, (int64_t)now - (int64_t)revoke_krl_retention(ca),
	    krl_fill_serial, krl_fill_key, &f));
	TRY(krl_serialize(f.krl, out, len));
	r = 0;
out:
	if (began)
		store_snapshot_end(s, began);
	krl_free(f.krl);
	return r;
}

int
revoke_krl_write(struct ca *ca, const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r = ERR_INTERNAL;

	ENSURE(path != NULL, ERR_INVALID_ARG);
	TRY(revoke_krl_build(ca, &data, &len));
	TRY(krl_write_atomic(path, data, len));
	r = 0;
out:
	free(data);
	return r;
}
