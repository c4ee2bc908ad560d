/*
 * hosts.c: enrolled hosts, their tokens, bound keys and host
 * certificates (hosts.h) on the hosts rows of the store
 * (ca/store/store.h: host_get, host_by_token, host_insert, host_key_bind,
 * host_reset, host_disable, hosts_each) and the certificates table, each
 * change in one ledger transaction with its events.  No SQL here, no
 * printing, no HTTP.
 *
 * A host token is made by users.c's generator (the same shape and
 * randomness as a user token) but hashed in its own domain (HOST_HASH_TAG
 * before the token), so that the hash of a host token is never the hash
 * of a user token even if copied into the other table.  Works with
 * ca/ca.h (the host CA key and its signing callback), ca/users.h (token
 * text), signer/cert.h, signer/pubkey.h, signer/names.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ca/ca.h"
#include "ca/hosts.h"
#include "ca/store/store.h"
#include "ca/users.h"
#include "signer/base/sha256.h"
#include "signer/cert.h"
#include "signer/names.h"
#include "signer/pubkey.h"
#include "signer/wire.h"

#define HASH_LEN STORE_TOKEN_HASH_LEN
#define HOST_HASH_TAG "jitca-host-token\n"
#define HOST_OWNER_MAX (sizeof(HOST_OWNER_PREFIX) + NAME_HOST_MAX)

void
host_free(struct host *h)
{
	size_t i;

	if (h == NULL)
		return;
	free(h->name);
	for (i = 0; i < h->nprincipals; i++)
		free(h->principals[i]);
	free(h->principals);
	for (i = 0; i < h->nkeys; i++)
		free(h->key_fps[i]);
	free(h->key_fps);
	free(h);
}

void
host_issued_clear(struct host_issued *hi)
{
	if (hi == NULL)
		return;
	free(hi->certificate);
	memset(hi, 0, sizeof(*hi));
}

/* SHA-256(HOST_HASH_TAG || token) into hash. */
static int
host_token_hash(uint8_t hash[HASH_LEN], const char *token)
{
	char buf[sizeof(HOST_HASH_TAG) + USER_TOKEN_LEN];
	size_t tl = sizeof(HOST_HASH_TAG) - 1;
	int r;

	memcpy(buf, HOST_HASH_TAG, tl);
	memcpy(buf + tl, token, USER_TOKEN_LEN);
	r = sha256(hash, buf, tl + USER_TOKEN_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

/* The principals as a JSON array of valid host names, no duplicates. */
static int
principals_json(char *const *p, size_t n, json_t **out)
{
	json_t *a = NULL;
	size_t i, j;
	int r = ERR_INTERNAL, dup;

	*out = NULL;
	if (p == NULL || n == 0 || n > HOST_PRINCIPALS_MAX)
		return ERR_INVALID_ARG;
	ENSURE((a = json_array()) != NULL, ERR_ALLOC);
	for (i = 0; i < n; i++) {
		ENSURE(name_host_valid(p[i]), ERR_CERT_BAD_HOST_NAME);
		for (dup = 0, j = 0; j < i && !dup; j++)
			dup = strcmp(p[i], p[j]) == 0;
		if (!dup)
			ENSURE(json_array_append_new(a, json_string(p[i])) == 0,
			    ERR_ALLOC);
	}
	*out = a;
	a = NULL;
	r = 0;
out:
	json_decref(a);
	return r;
}

/* The stored row as a new struct host; ERR_DB for a row host_add()
 * would not have written. */
static int
host_from_store(const struct store_host *sh, struct host **out)
{
	struct host *h = NULL;
	json_t *a = NULL, *v;
	json_error_t e;
	size_t i;
	int r = ERR_INTERNAL;

	*out = NULL;
	ENSURE((h = calloc(1, sizeof(*h))) != NULL, ERR_ALLOC);
	ENSURE(name_host_valid(sh->name), ERR_DB);
	ENSURE((h->name = strdup(sh->name)) != NULL, ERR_ALLOC);
	a = json_loads(sh->principals, 0, &e);
	ENSURE(json_is_array(a) && json_array_size(a) > 0 &&
		json_array_size(a) <= HOST_PRINCIPALS_MAX,
	    ERR_DB);
	ENSURE((h->principals = calloc(json_array_size(a), sizeof(char *))) !=
		NULL,
	    ERR_ALLOC);
	json_array_foreach(a, i, v)
	{
		ENSURE(
		    json_is_string(v) && name_host_valid(json_string_value(v)),
		    ERR_DB);
		ENSURE(
		    (h->principals[i] = strdup(json_string_value(v))) != NULL,
		    ERR_ALLOC);
		h->nprincipals = i + 1;
	}
	h->disabled = sh->disabled;
	h->created = sh->created;
	*out = h;
	h = NULL;
	r = 0;
out:
	json_decref(a);
	host_free(h);
	return r;
}

/* Add one bound key's fingerprint to the host arg (host_keys_each()). */
static int
key_add(void *arg, const struct store_host_key *k)
{
	struct host *h = arg;
	char **v;

	if (h->nkeys >= 64)
		return ERR_DB;
	if ((v = realloc(h->key_fps, (h->nkeys + 1) * sizeof(*v))) == NULL)
		return ERR_ALLOC;
	h->key_fps = v;
	if ((v[h->nkeys] = strdup(k->key_fp)) == NULL)
		return ERR_ALLOC;
	h->nkeys++;
	return 0;
}

/* The stored host with its bound keys. */
static int
host_load(struct store *s, const struct store_host *sh, struct host **out)
{
	struct host *h = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	TRY(host_from_store(sh, &h));
	TRY(store_host_keys_each(s, h->name, key_add, h));
	*out = h;
	h = NULL;
	r = 0;
out:
	host_free(h);
	return r;
}

static void
subject_of(char out[LEDGER_FIELD_MAX], const char *name)
{
	(void)snprintf(
	    out, LEDGER_FIELD_MAX, "%s%s", HOST_SUBJECT_PREFIX, name);
}

/* Append ev for host name with details d (borrowed, may be NULL). */
static int
host_event(struct ledger *l, const char *type, const char *actor,
    const char *name, json_t *d)
{
	char subject[LEDGER_FIELD_MAX];

	subject_of(subject, name);
	return ledger_append(l, NULL, type, actor, subject, d);
}

int
host_add(struct ledger *l, const char *actor, const char *name,
    char *const *principals, size_t nprincipals, char **token_out)
{
	struct store_host *sh = NULL;
	json_t *p = NULL, *d = NULL;
	char *ptext = NULL, *tok = NULL, id[USER_TOKEN_ID_LEN + 1];
	char hex[2 * HASH_LEN + 1];
	uint8_t hash[HASH_LEN];
	int r = ERR_INTERNAL, began = 0;

	if (token_out != NULL)
		*token_out = NULL;
	if (l == NULL || actor == NULL || token_out == NULL)
		return ERR_INVALID_ARG;
	if (name == NULL || !name_host_valid(name))
		return ERR_BAD_NAME;
	TRY(principals_json(principals, nprincipals, &p));
	ENSURE((ptext = json_dumps(p, JSON_COMPACT)) != NULL, ERR_ALLOC);
	TRY(user_token_generate(&tok));
	TRY(host_token_hash(hash, tok));
	TRY(ledger_begin(l));
	began = 1;
	if ((r = store_host_get(ledger_store(l), name, &sh)) == 0) {
		r = ERR_EXISTS;
		goto out;
	} else if (r != ERR_NOT_FOUND)
		goto out;
	TRY(store_host_insert(
	    ledger_store(l), name, ptext, hash, ledger_now()));
	ENSURE((d = json_pack("{s:O}", "principals", p)) != NULL, ERR_ALLOC);
	TRY(host_event(l, "host.added", actor, name, d));
	json_decref(d);
	/* token_sha256: what hosts.token_hash holds (ledger_state.c). */
	wire_hex_encode(id, hash, USER_TOKEN_ID_LEN / 2);
	wire_hex_encode(hex, hash, HASH_LEN);
	ENSURE((d = json_pack(
		    "{s:s, s:s}", "token_id", id, "token_sha256", hex)) != NULL,
	    ERR_ALLOC);
	TRY(host_event(l, "host.token", actor, name, d));
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
	store_host_free(sh);
	free(ptext);
	json_decref(p);
	json_decref(d);
	return r;
}

/* host_disable() and host_reset(): one change and its event. */
static int
host_change(struct ledger *l, const char *actor, const char *name, int reset)
{
	struct store_host *sh = NULL;
	json_t *d = NULL;
	int r = ERR_INTERNAL, began = 0;

	if (l == NULL || actor == NULL)
		return ERR_INVALID_ARG;
	if (name == NULL || !name_host_valid(name))
		return ERR_BAD_NAME;
	TRY(ledger_begin(l));
	began = 1;
	TRY(store_host_get(ledger_store(l), name, &sh));
	if (reset) {
		TRY(store_host_reset(ledger_store(l), name));
		TRY(host_event(l, "host.reset", actor, name, d));
	} else {
		ENSURE(!sh->disabled, ERR_HOST_DISABLED);
		TRY(store_host_disable(ledger_store(l), name));
		TRY(host_event(l, "host.disabled", actor, name, NULL));
	}
	began = 0;
	TRY(ledger_commit(l));
	r = 0;
out:
	if (began)
		ledger_rollback(l);
	json_decref(d);
	store_host_free(sh);
	return r;
}

int
host_disable(struct ledger *l, const char *actor, const char *name)
{
	return host_change(l, actor, name, 0);
}

int
host_reset(struct ledger *l, const char *actor, const char *name)
{
	return host_change(l, actor, name, 1);
}

int
host_get(struct ledger *l, const char *name, struct host **out)
{
	struct store_host *sh = NULL;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (l == NULL || out == NULL)
		return ERR_INVALID_ARG;
	if (name == NULL || !name_host_valid(name))
		return ERR_BAD_NAME;
	TRY(store_host_get(ledger_store(l), name, &sh));
	TRY(host_load(ledger_store(l), sh, out));
	r = 0;
out:
	store_host_free(sh);
	return r;
}

struct each_arg {
	int (*fn)(void *arg, const struct host *h);
	void *arg;
	struct store *s;
};

static int
each_one(void *arg, const struct store_host *sh)
{
	struct each_arg *ea = arg;
	struct host *h = NULL;
	int r = ERR_INTERNAL;

	TRY(host_load(ea->s, sh, &h));
	r = ea->fn(ea->arg, h);
out:
	host_free(h);
	return r;
}

int
host_each(
    struct ledger *l, int (*fn)(void *arg, const struct host *h), void *arg)
{
	struct each_arg ea = {fn, arg, NULL};

	if (l == NULL || fn == NULL)
		return ERR_INVALID_ARG;
	ea.s = ledger_store(l);
	return store_hosts_each(ledger_store(l), each_one, &ea);
}

int
host_authenticate(struct ledger *l, const char *token, struct host **out)
{
	struct store_host *sh = NULL;
	struct host *h = NULL;
	uint8_t hash[HASH_LEN];
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (l == NULL || out == NULL)
		return ERR_INVALID_ARG;
	TRY(user_token_format_check(token));
	TRY(host_token_hash(hash, token));
	if ((r = store_host_by_token(ledger_store(l), hash, &sh)) ==
	    ERR_NOT_FOUND) {
		r = ERR_BAD_TOKEN;
		goto out;
	} else if (r != 0)
		goto out;
	/* The lookup may take data-dependent time on the hash; the final
	 * check is constant-time, as users.c's. */
	ENSURE(
	    sh->has_token && CRYPTO_memcmp(sh->token_hash, hash, HASH_LEN) == 0,
	    ERR_BAD_TOKEN);
	TRY(host_from_store(sh, &h));
	ENSURE(!h->disabled, ERR_HOST_DISABLED);
	*out = h;
	h = NULL;
	r = 0;
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	host_free(h);
	store_host_free(sh);
	return r;
}

/* Build and sign the certificate (no database writes); c takes *key. */
static int
host_cert_make(struct ca *ca, const struct host *h, struct pubkey **key,
    uint64_t serial, const char *owner, const char *key_id, uint64_t now,
    struct cert **out)
{
	struct cert *c = NULL;
	const uint8_t *cablob;
	size_t cablen, i;
	int r = ERR_INTERNAL;

	*out = NULL;
	ENSURE((c = cert_new()) != NULL, ERR_ALLOC);
	c->type = CERT_TYPE_HOST;
	c->serial = serial;
	c->key = *key;
	*key = NULL;
	cablob = pubkey_blob(ca->host_pub, &cablen);
	TRY(pubkey_from_blob(&c->ca_key, cablob, cablen));
	ENSURE((c->key_id = strdup(key_id)) != NULL, ERR_ALLOC);
	for (i = 0; i < h->nprincipals; i++)
		TRY(cert_add_principal(c, h->principals[i]));
	c->valid_after = now > ca->cfg->backdate ? now - ca->cfg->backdate : 0;
	c->valid_before = now + ca->cfg->host_max_ttl;
	TRY(cert_set_random_nonce(c));
	/* cert_sign() verifies the signature under c->ca_key. */
	TRY(ca_sign_host_cert(ca, c, owner));
	ENSURE(pubkey_equal(c->ca_key, ca->host_pub), ERR_CERT_WRONG_CA);
	*out = c;
	c = NULL;
	r = 0;
out:
	cert_free(c);
	return r;
}

int
host_cert_issue(struct ca *ca, const char *name, const char *key_line,
    struct host_issued *out)
{
	struct store_host *sh = NULL;
	struct store_host_key *bk = NULL;
	struct host *h = NULL;
	struct pubkey *key = NULL;
	struct cert *c = NULL;
	struct store_cert sc;
	json_t *d = NULL, *pj = NULL;
	char fp[PUBKEY_FP_LEN], owner[HOST_OWNER_MAX], key_id[NAME_KEY_ID_MAX];
	char sha[65], subject[LEDGER_FIELD_MAX], *line = NULL, *ptext = NULL;
	const uint8_t *kblob;
	uint8_t kh[32];
	size_t kblen, i;
	uint64_t serial, now;
	int r = ERR_INTERNAL, began = 0, revoked = 0, renewal = 0, n;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ca == NULL || ca->ledger == NULL || ca->cfg == NULL ||
	    out == NULL || key_line == NULL)
		return ERR_INVALID_ARG;
	if (ca->host_pub == NULL)
		return ERR_SIGNER_NO_KEY;
	if (name == NULL || !name_host_valid(name))
		return ERR_BAD_NAME;
	TRY(pubkey_from_line(&key, key_line, strlen(key_line)));
	TRY(pubkey_fingerprint(fp, key));
	TRY(pubkey_sha256(kh, key));
	kblob = pubkey_blob(key, &kblen);
	n = snprintf(owner, sizeof(owner), "%s%s", HOST_OWNER_PREFIX, name);
	ENSURE(n > 0 && (size_t)n < sizeof(owner), ERR_BAD_NAME);

	TRY(ledger_begin(ca->ledger));
	began = 1;
	TRY(store_host_get(ledger_store(ca->ledger), name, &sh));
	TRY(host_from_store(sh, &h));
	ENSURE(!h->disabled, ERR_HOST_DISABLED);
	TRY(store_revoked_key_exists(ledger_store(ca->ledger), kh, &revoked));
	ENSURE(!revoked, ERR_POLICY);
	now = ca_now(ca);
	r = store_host_key_get(
	    ledger_store(ca->ledger), name, pubkey_type_name(key), &bk);
	if (r == 0) {
		/* A renewal only for the bound key, byte for byte. */
		ENSURE(bk->len == kblen &&
			CRYPTO_memcmp(bk->blob, kblob, kblen) == 0,
		    ERR_HOST_KEY_BOUND);
		renewal = 1;
	} else if (r == ERR_NOT_FOUND) {
		TRY(store_host_key_bind(ledger_store(ca->ledger), name,
		    pubkey_type_name(key), kblob, kblen, fp, now));
		ENSURE((d = json_pack("{s:s, s:s}", "key_type",
			    pubkey_type_name(key), "key_fp", fp)) != NULL,
		    ERR_ALLOC);
		TRY(host_event(ca->ledger, "host.key_bound", owner, name, d));
		json_decref(d);
		d = NULL;
	} else
		goto out;
	TRY(ledger_serial_next(ca->ledger, &serial));
	n = snprintf(key_id, sizeof(key_id), "%s:serial-%llu", owner,
	    (unsigned long long)serial);
	ENSURE(n > 0 && (size_t)n < sizeof(key_id) && name_key_id_valid(key_id),
	    ERR_CERT_BAD_KEY_ID);
	TRY(host_cert_make(ca, h, &key, serial, owner, key_id, now, &c));
	TRY(cert_to_line(&line, c, owner));
	TRY(ca_sha256_hex(sha, c->blob, c->blob_len));
	ENSURE((pj = json_array()) != NULL, ERR_ALLOC);
	for (i = 0; i < h->nprincipals; i++)
		ENSURE(json_array_append_new(
			   pj, json_string(h->principals[i])) == 0,
		    ERR_ALLOC);
	ENSURE((ptext = json_dumps(pj, JSON_COMPACT)) != NULL, ERR_ALLOC);
	kblob = pubkey_blob(c->key, &kblen);
	memset(&sc, 0, sizeof(sc));
	sc.serial = serial;
	sc.request_id = 0;
	sc.user = owner;
	sc.role = "host";
	sc.key_id = key_id;
	sc.principals = ptext;
	sc.valid_after = c->valid_after;
	sc.valid_before = c->valid_before;
	sc.key_fp = fp;
	sc.key_blob = kblob;
	sc.key_len = kblen;
	sc.cert_sha256 = sha;
	sc.certificate = line;
	sc.issued = now;
	TRY(store_cert_insert(ledger_store(ca->ledger), &sc));
	d = json_pack("{s:I, s:s, s:O, s:I, s:I, s:s, s:s, s:I, s:s, s:s, "
		      "s:b}",
	    "serial", (json_int_t)serial, "key_id", key_id, "principals", pj,
	    "valid_after", (json_int_t)c->valid_after, "valid_before",
	    (json_int_t)c->valid_before, "key_fp", fp, "cert_sha256", sha,
	    "request", (json_int_t)0, "role", "host", "user", owner, "renewal",
	    renewal);
	ENSURE(d != NULL, ERR_ALLOC);
	(void)snprintf(
	    subject, sizeof(subject), "cert:%llu", (unsigned long long)serial);
	TRY(ledger_append(
	    ca->ledger, NULL, "host.cert_issued", owner, subject, d));
	began = 0; /* a failed commit rolls back */
	TRY(ledger_commit(ca->ledger));
	out->certificate = line;
	line = NULL;
	out->serial = serial;
	out->valid_after = c->valid_after;
	out->valid_before = c->valid_before;
	out->renewal = renewal;
	r = 0;
out:
	if (began)
		ledger_rollback(ca->ledger);
	json_decref(d);
	json_decref(pj);
	free(ptext);
	free(line);
	cert_free(c);
	pubkey_free(key);
	host_free(h);
	store_host_key_free(bk);
	store_host_free(sh);
	return r;
}
