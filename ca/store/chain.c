/*
 * chain.c: the hash chain of ledger.h over the operations of store.h:
 * the one canonical encoding of an event (hashed as it is written, no
 * JSON array built), appending, verifying the whole chain and its
 * recorded head, export (JSONL, CSV) and the events as JSON.  It also
 * holds the ledger handle, which wraps the backend's struct store, and
 * forwards transactions and counters to it.
 *
 * It does not know SQL or which database is behind the store
 * (store/sqlite.c today), nor what events mean (users.c, request.c,
 * revoke.c).  Hashing uses OpenSSL's EVP SHA-256, hex signer/wire.h;
 * JSON values are jansson's, the canonical details are dumped by
 * store/jsonw.c (json_dumps's bytes, faster).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ca/ledger.h"
#include "ca/store/jsonw.h"
#include "ca/store/store.h"
#include "signer/base/num.h"
#include "signer/merkle.h"
#include "signer/wire.h"

#define ZERO_HASH                                                              \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define CANON_FLAGS (JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII)

struct ledger {
	struct store *s;
	/* SHA-256 context of ledger_append() (the unit's owner only). */
	EVP_MD_CTX *md_ctx;
	EVP_MD_CTX *leaf_ctx; /* ...and of its Merkle leaf */
	/*
	 * The frontier of the tree over the events up to the one whose
	 * hash is tree_hash (the unit's owner only): ledger_append()
	 * extends it when the chain's head is still that event, so an
	 * append neither reads the stored frontier back nor its own event.
	 * The chain hash names every event before it, so a unit rolled
	 * back or an append by another process shows as a different head,
	 * and the frontier is then loaded from the store again.
	 */
	int tree_ok;
	struct merkle_tree tree;
	char tree_hash[LEDGER_HASH_HEX];
};

/* Record a message in the store of l (which may be NULL). */
static void __attribute__((format(printf, 2, 3)))
set_msg(struct ledger *l, const char *fmt, ...)
{
	va_list ap;

	if (l == NULL || l->s == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(l->s->errmsg, sizeof(l->s->errmsg), fmt, ap);
	va_end(ap);
}

int
ledger_open_err(struct ledger **out, const char *path, int create,
    char errbuf[LEDGER_ERR_LEN])
{
	struct ledger *l = NULL;
	int r = ERR_INTERNAL;

	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (out != NULL)
		*out = NULL;
	if (out == NULL || path == NULL || *path == '\0')
		return ERR_INVALID_ARG;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ERR_ALLOC;
	if ((l->md_ctx = EVP_MD_CTX_new()) == NULL ||
	    (l->leaf_ctx = EVP_MD_CTX_new()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (store_is_pg_url(path))
		TRY(store_pg_open(&l->s, path, create, errbuf));
	else
		TRY(store_sqlite_open(&l->s, path, create, errbuf));
	*out = l;
	l = NULL;
	r = 0;
out:
	ledger_close(l);
	return r;
}

int
ledger_open(struct ledger **out, const char *path, int create)
{
	return ledger_open_err(out, path, create, NULL);
}

void
ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	store_close(l->s);
	EVP_MD_CTX_free(l->md_ctx);
	EVP_MD_CTX_free(l->leaf_ctx);
	free(l);
}

const char *
ledger_errmsg(const struct ledger *l)
{
	return l == NULL || l->s == NULL ? "" : l->s->errmsg;
}

struct store *
ledger_store(struct ledger *l)
{
	return l == NULL ? NULL : l->s;
}

int
ledger_begin(struct ledger *l)
{
	if (l == NULL)
		return ERR_INVALID_ARG;
	return store_tx_begin(l->s);
}

void
ledger_announce(struct ledger *l)
{
	if (l != NULL)
		store_tx_announce(l->s);
}

void
ledger_unannounce(struct ledger *l)
{
	if (l != NULL)
		store_tx_unannounce(l->s);
}

int
ledger_commit(struct ledger *l)
{
	if (l == NULL)
		return ERR_INVALID_ARG;
	return store_tx_commit(l->s);
}

int
ledger_run(struct ledger *l, store_unit_fn fn, void *arg)
{
	if (l == NULL || fn == NULL)
		return ERR_INVALID_ARG;
	return store_tx_run(l->s, fn, arg);
}

void
ledger_rollback(struct ledger *l)
{
	if (l != NULL)
		store_tx_rollback(l->s);
}

void
ledger_read_begin(struct ledger *l)
{
	if (l != NULL)
		l->s->ops->read_begin(l->s);
}

void
ledger_read_end(struct ledger *l)
{
	if (l != NULL)
		l->s->ops->read_end(l->s);
}

void
ledger_stats_get(struct ledger *l, struct ledger_stats *out)
{
	struct store_stats st;

	memset(out, 0, sizeof(*out));
	if (l == NULL)
		return;
	l->s->ops->stats_get(l->s, &st);
	out->units = st.units;
	out->commits = st.commits;
	out->max_batch = st.max_batch;
	out->holds = st.holds;
	out->hold_timeouts = st.hold_timeouts;
	out->checkpoints = st.checkpoints;
	out->checkpoint_catch_ups = st.checkpoint_catch_ups;
	out->checkpoint_frames = st.checkpoint_frames;
	out->checkpoint_catch_up_frames = st.checkpoint_catch_up_frames;
}

int
ledger_serial_next(struct ledger *l, uint64_t *serial)
{
	if (serial == NULL)
		return ERR_INVALID_ARG;
	*serial = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	return store_counter_next(l->s, STORE_COUNTER_SERIAL, serial);
}

int
ledger_serial_reserve(struct ledger *l, uint64_t *serial)
{
	if (serial == NULL)
		return ERR_INVALID_ARG;
	*serial = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	return store_serial_reserve(l->s, serial);
}

int
ledger_krl_version_bump(struct ledger *l, uint64_t *version)
{
	if (version == NULL)
		return ERR_INVALID_ARG;
	*version = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	return store_counter_next(l->s, STORE_COUNTER_KRL_VERSION, version);
}

int
ledger_krl_version(struct ledger *l, uint64_t *version)
{
	if (version == NULL)
		return ERR_INVALID_ARG;
	*version = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	return store_counter_get(l->s, STORE_COUNTER_KRL_VERSION, version);
}

int
ledger_changed(struct ledger *l, int *changed)
{
	if (changed == NULL)
		return ERR_INVALID_ARG;
	*changed = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	return store_changed(l->s, changed);
}

uint64_t
ledger_now(void)
{
	time_t t;
#ifdef JITCA_TEST_HOOKS
	const char *s = getenv("JITCA_TEST_NOW");
	uint64_t v;

	if (s != NULL && num_parse_u64(s, (uint64_t)1 << 62, &v) == 0 && v > 0)
		return v;
#endif
	t = time(NULL);
	return t < 0 ? 0 : (uint64_t)t;
}

/* Non-empty, bounded, valid UTF-8 (checked by jansson later), no control
 * characters. */
static int
field_valid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= LEDGER_FIELD_MAX || c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

/*
 * Hashing the canonical array without building it as a JSON value.
 *
 * hash = hex(SHA-256(prev || "\n" || canonical)) where canonical is
 * jansson's compact dump of [seq,time,type,actor,subject,details]:
 * "[" seq "," time "," str(type) "," str(actor) "," str(subject) ","
 * details "]", integers in decimal, str() jansson's string dump with
 * JSON_ENSURE_ASCII, details the canonical dump of the object (which is
 * exactly what the details column holds).  So both ledger_append() and
 * ledger_verify() feed those pieces to SHA-256 directly: no array, no
 * second dump, and verify does not parse details at all (a changed byte
 * anywhere still changes the hash).
 *
 * str(): a string of bytes 0x20..0x7e other than '"' and '\\' is dumped
 * by jansson as itself between quotes (it escapes only '"', '\\',
 * control characters, '/' with JSON_ESCAPE_SLASH, which CANON_FLAGS does
 * not set, and non-ASCII with JSON_ENSURE_ASCII); that is the fast path
 * (jsonw_plain()).  Anything else is dumped by jansson itself, so escapes
 * are jansson's by construction, and invalid UTF-8 is refused as json_string()
 * refuses it.
 */
struct chain_hash {
	EVP_MD_CTX *ctx[2]; /* fed the same bytes; ctx[1] may be NULL */
	unsigned char buf[2048];
	size_t len;
	int failed;
};

static void
ch_update(struct chain_hash *h, const void *p, size_t n)
{
	size_t k;

	for (k = 0; k < 2; k++) {
		if (h->ctx[k] != NULL && EVP_DigestUpdate(h->ctx[k], p, n) != 1)
			h->failed = 1;
	}
}

static void
ch_put(struct chain_hash *h, const void *p, size_t n)
{
	if (h->len + n > sizeof(h->buf)) {
		if (h->len > 0)
			ch_update(h, h->buf, h->len);
		h->len = 0;
	}
	if (n > sizeof(h->buf)) {
		ch_update(h, p, n);
		return;
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
}

static void
ch_put_i64(struct chain_hash *h, int64_t v)
{
	char num[JSONW_I64_LEN];
	const char *p;
	size_t n;

	p = jsonw_i64(num, v, &n);
	ch_put(h, p, n);
}

/* str(s) as above; ERR_INVALID_ARG for invalid UTF-8. */
static int
ch_put_str(struct chain_hash *h, const char *s)
{
	json_t *js = NULL;
	char *d = NULL;
	size_t n = strlen(s);
	int r = ERR_INTERNAL;

	if (jsonw_plain(s, n)) {
		ch_put(h, "\"", 1);
		ch_put(h, s, n);
		ch_put(h, "\"", 1);
		return 0;
	}
	if ((js = json_string(s)) == NULL) {
		r = ERR_INVALID_ARG;
		goto out;
	}
	if ((d = json_dumps(js, CANON_FLAGS | JSON_ENCODE_ANY)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	ch_put(h, d, strlen(d));
	r = 0;
out:
	free(d);
	json_decref(js);
	return r;
}

/* SHA-256 fetched once from the default provider: EVP_sha256() makes
 * every EVP_DigestInit_ex() look it up again (a locked table walk). */
static EVP_MD *sha256_fetched;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sha256_md(void)
{
	(void)pthread_once(&sha256_once, sha256_fetch);
	return sha256_fetched != NULL ? sha256_fetched : EVP_sha256();
}

/*
 * SHA-256 of a prefix then the canonical array of one event whose
 * details are already the canonical text dtext: the chain hash into md
 * (prefix prev "\n", with ctx) when md is not NULL, the Merkle leaf of
 * RFC 6962 2.1 into leaf (prefix the byte 0x00, with lctx) when leaf is
 * not NULL.  One encoding feeds both.  A NULL context is made here.
 * ERR_INVALID_ARG when type, actor or subject is not valid UTF-8.
 */
static int
event_digests(EVP_MD_CTX *ctx, EVP_MD_CTX *lctx, const char *prev, int64_t seq,
    int64_t t, const char *type, const char *actor, const char *subject,
    const char *dtext, unsigned char md[32], unsigned char leaf[32])
{
	struct chain_hash hs, *h = &hs;
	unsigned char *out[2] = {md, leaf};
	EVP_MD_CTX *own[2] = {NULL, NULL};
	unsigned int mdlen = 0;
	size_t k;
	int r = ERR_INTERNAL;

	h->ctx[0] = md != NULL ? ctx : NULL;
	h->ctx[1] = leaf != NULL ? lctx : NULL;
	h->len = 0;
	h->failed = 0;
	for (k = 0; k < 2; k++) {
		if (out[k] == NULL || h->ctx[k] != NULL)
			continue;
		if ((h->ctx[k] = own[k] = EVP_MD_CTX_new()) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
	}
	for (k = 0; k < 2; k++) {
		if (h->ctx[k] != NULL &&
		    EVP_DigestInit_ex(h->ctx[k], sha256_md(), NULL) != 1)
			h->failed = 1;
	}
	if (h->ctx[0] != NULL &&
	    (EVP_DigestUpdate(h->ctx[0], prev, strlen(prev)) != 1 ||
		EVP_DigestUpdate(h->ctx[0], "\n", 1) != 1))
		h->failed = 1;
	if (h->ctx[1] != NULL && EVP_DigestUpdate(h->ctx[1], "\0", 1) != 1)
		h->failed = 1;
	ch_put(h, "[", 1);
	ch_put_i64(h, seq);
	ch_put(h, ",", 1);
	ch_put_i64(h, t);
	ch_put(h, ",", 1);
	TRY(ch_put_str(h, type));
	ch_put(h, ",", 1);
	TRY(ch_put_str(h, actor));
	ch_put(h, ",", 1);
	TRY(ch_put_str(h, subject));
	ch_put(h, ",", 1);
	ch_put(h, dtext, strlen(dtext));
	ch_put(h, "]", 1);
	if (h->len > 0)
		ch_update(h, h->buf, h->len);
	for (k = 0; k < 2 && !h->failed; k++) {
		if (h->ctx[k] != NULL &&
		    (EVP_DigestFinal_ex(h->ctx[k], out[k], &mdlen) != 1 ||
			mdlen != 32))
			h->failed = 1;
	}
	if (h->failed) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(own[0]);
	EVP_MD_CTX_free(own[1]);
	return r;
}

/* The chain hash (prev not NULL) or else the leaf of one event. */
static int
event_digest(EVP_MD_CTX *ctx, const char *prev, int64_t seq, int64_t t,
    const char *type, const char *actor, const char *subject, const char *dtext,
    unsigned char md[32])
{
	if (prev != NULL)
		return event_digests(ctx, NULL, prev, seq, t, type, actor,
		    subject, dtext, md, NULL);
	return event_digests(
	    NULL, ctx, NULL, seq, t, type, actor, subject, dtext, NULL, md);
}

/* The hash of one event whose details are already the canonical text
 * dtext.  ctx is reused (may be NULL: one is made here).  ERR_INVALID_ARG
 * when type, actor or subject is not valid UTF-8. */
int
ledger_event_hash(struct evp_md_ctx_st *ctx, const char *prev, int64_t seq,
    int64_t t, const char *type, const char *actor, const char *subject,
    const char *dtext, char out[LEDGER_HASH_HEX])
{
	unsigned char md[32];
	int r;

	out[0] = '\0';
	if ((r = event_digest(
		 ctx, prev, seq, t, type, actor, subject, dtext, md)) != 0)
		return r;
	wire_hex_encode(out, md, 32);
	return 0;
}

int
ledger_event_leaf(struct evp_md_ctx_st *ctx, int64_t seq, int64_t t,
    const char *type, const char *actor, const char *subject, const char *dtext,
    uint8_t out[MERKLE_HASH_LEN])
{
	return event_digest(
	    ctx, NULL, seq, t, type, actor, subject, dtext, out);
}

/* Parse details text into a new object; NULL if it is not one. */
static json_t *
details_parse(const char *text)
{
	json_t *d;
	json_error_t e;

	d = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	if (d != NULL && !json_is_object(d)) {
		json_decref(d);
		d = NULL;
	}
	return d;
}

/* 1 when s is valid UTF-8 (as json_string() checks it). */
static int
utf8_valid(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

/* Check one row against the previous hash, given what event_digests()
 * made of it (rc its result, md the chain hash).  Returns 0, or
 * ERR_LEDGER_BROKEN with the message set. */
static int row_check_slow(struct ledger *l, const struct store_event *w);

static int
row_check(struct ledger *l, const struct store_event *w, int64_t expect,
    const char *prev, int rc, const unsigned char md[32])
{
	char h[LEDGER_HASH_HEX];

	if (w->seq != expect) {
		if (w->seq > expect)
			set_msg(l,
			    "seq %" PRId64 ": missing (the next row is seq "
			    "%" PRId64 "; rows were deleted)",
			    expect, w->seq);
		else
			set_msg(l, "seq %" PRId64 ": out of order", w->seq);
		return ERR_LEDGER_BROKEN;
	}
	if (strcmp(w->prev_hash, prev) != 0) {
		set_msg(l,
		    "seq %" PRId64 ": prev_hash does not match the hash of "
		    "the previous row",
		    w->seq);
		return ERR_LEDGER_BROKEN;
	}
	/*
	 * The stored details are the canonical text ledger_append() hashed:
	 * they were hashed as stored.  A match is the proof (any changed
	 * byte changes the hash); only a mismatch needs the slow check,
	 * which says what is wrong.
	 */
	if (rc == 0) {
		wire_hex_encode(h, md, 32);
		if (strcmp(h, w->hash) == 0)
			return 0;
	}
	if (rc != 0 && rc != ERR_INVALID_ARG)
		return rc;
	return row_check_slow(l, w);
}

/*
 * ledger_verify() hashes on a second thread.  A row's chain hash is
 * SHA-256 over its own stored prev_hash and its contents, and its Merkle
 * leaf over its contents, so neither depends on the row before: the
 * reading thread copies rows into a batch and hands it over, and while
 * the hasher works on it, checks the batch before (order, links, the
 * hashes against the stored ones, the tree) and reads the next.  Two
 * batches take turns.
 */
#define VERIFY_BATCH 512

struct vrow {
	struct store_event w; /* strings in the batch's arena */
	unsigned char md[32], leaf[32];
	int rc; /* event_digests() */
};

struct vbatch {
	struct vrow row[VERIFY_BATCH];
	size_t n;
	char *arena;
	size_t used, cap;
	uint64_t msize; /* leaves for rows below this index */
	int64_t first; /* index of row[0] among all rows */
	int hashed;
	/* How reading ended after row[n - 1]: end_r is events_next()'s
	 * error (end_bad the seq it concerns) or 0 with eof set. */
	int end_r, eof;
	int64_t end_bad;
};

struct vhasher {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vbatch *todo; /* handed over, not yet hashed */
	int quit;
	EVP_MD_CTX *ctx, *lctx;
};

static void
vbatch_hash(struct vbatch *b, EVP_MD_CTX *ctx, EVP_MD_CTX *lctx)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		struct vrow *v = &b->row[i];
		int leaf = (uint64_t)(b->first + (int64_t)i) < b->msize;

		v->rc = event_digests(ctx, lctx, v->w.prev_hash, v->w.seq,
		    v->w.time, v->w.type, v->w.actor, v->w.subject,
		    v->w.details, v->md, leaf ? v->leaf : NULL);
	}
}

static void *
vhasher_main(void *arg)
{
	struct vhasher *h = arg;
	struct vbatch *b;

	(void)pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->todo == NULL && !h->quit)
			(void)pthread_cond_wait(&h->cv, &h->mu);
		if (h->todo == NULL)
			break;
		b = h->todo;
		(void)pthread_mutex_unlock(&h->mu);
		vbatch_hash(b, h->ctx, h->lctx);
		(void)pthread_mutex_lock(&h->mu);
		b->hashed = 1;
		h->todo = NULL;
		(void)pthread_cond_broadcast(&h->cv);
	}
	(void)pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* Compare the nmade nodes that appending leaf index n completed with
 * the stored tree; the first that is missing or differs sets *mbad (its
 * event's seq) and mmsg.  Returns 0, or a store error. */
static int
tree_node_check(struct ledger *l, const struct store_event *w, uint64_t n,
    uint8_t made[][MERKLE_HASH_LEN], size_t nmade, char mmsg[LEDGER_ERR_LEN],
    int64_t *mbad)
{
	uint8_t node[32];
	size_t k;
	int r;

	for (k = 0; k < nmade && *mbad == 0; k++) {
		r = store_merkle_node_get(l->s, (unsigned)k, n >> k, node);
		if (r == 0 && CRYPTO_memcmp(node, made[k], 32) != 0)
			r = ERR_LEDGER_BROKEN;
		if (r == ERR_NOT_FOUND || r == ERR_LEDGER_BROKEN) {
			(void)snprintf(mmsg, LEDGER_ERR_LEN,
			    "seq %" PRId64 ": Merkle tree node (level %zu, "
			    "index %" PRIu64 ") %s the events",
			    w->seq, k, n >> k,
			    r == ERR_NOT_FOUND ? "is missing from"
					       : "does not match");
			*mbad = w->seq;
		} else if (r != 0)
			return r;
	}
	return 0;
}

/* Hand b to the hasher (or hash it here without a thread). */
static void
vhasher_give(struct vhasher *h, struct vbatch *b, int threaded)
{
	if (!threaded) {
		vbatch_hash(b, h->ctx, h->lctx);
		b->hashed = 1;
		return;
	}
	(void)pthread_mutex_lock(&h->mu);
	while (h->todo != NULL)
		(void)pthread_cond_wait(&h->cv, &h->mu);
	h->todo = b;
	(void)pthread_cond_broadcast(&h->cv);
	(void)pthread_mutex_unlock(&h->mu);
}

/* Wait until b is hashed. */
static void
vhasher_wait(struct vhasher *h, struct vbatch *b)
{
	(void)pthread_mutex_lock(&h->mu);
	while (!b->hashed)
		(void)pthread_cond_wait(&h->cv, &h->mu);
	(void)pthread_mutex_unlock(&h->mu);
}

/* Let the hasher finish what it has and end. */
static void
vhasher_stop(struct vhasher *h, int threaded, pthread_t t)
{
	if (!threaded)
		return;
	(void)pthread_mutex_lock(&h->mu);
	h->quit = 1;
	(void)pthread_cond_broadcast(&h->cv);
	(void)pthread_mutex_unlock(&h->mu);
	(void)pthread_join(t, NULL);
}

/* Append s (with its NUL) to b's arena; its offset in *off. */
static int
vbatch_keep(struct vbatch *b, const char *s, size_t *off)
{
	size_t n = strlen(s) + 1;

	if (b->used + n > b->cap) {
		size_t cap = b->cap > 0 ? b->cap : 64 * 1024;
		char *a;

		while (cap < b->used + n)
			cap *= 2;
		if ((a = realloc(b->arena, cap)) == NULL)
			return ERR_ALLOC;
		b->arena = a;
		b->cap = cap;
	}
	memcpy(b->arena + b->used, s, n);
	*off = b->used;
	b->used += n;
	return 0;
}

/* Read up to VERIFY_BATCH rows into b (copies: events_next()'s strings
 * are borrowed).  The strings go to the arena by offset while it may
 * still grow, and become pointers once the batch is complete. */
static int
vbatch_fill(struct ledger *l, struct store_events *it, struct vbatch *b)
{
	size_t off[VERIFY_BATCH][6], i, k;
	struct store_event w;
	int r = 0, found;

	b->n = 0;
	b->used = 0;
	b->hashed = 0;
	b->end_r = 0;
	b->eof = 0;
	b->end_bad = 0;
	while (b->n < VERIFY_BATCH) {
		r = store_events_next(l->s, it, &w, &found);
		if (r != 0 && r != ERR_LEDGER_BROKEN)
			b->end_r = r; /* not the ledger's fault */
		else if (!found)
			b->eof = 1;
		else if (r != 0) {
			b->end_r = r; /* a column of the wrong type */
			b->end_bad = w.seq;
		}
		if (r != 0 || !found) {
			r = 0;
			break;
		}
		b->row[b->n].w.seq = w.seq;
		b->row[b->n].w.time = w.time;
		if ((r = vbatch_keep(b, w.type, &off[b->n][0])) != 0 ||
		    (r = vbatch_keep(b, w.actor, &off[b->n][1])) != 0 ||
		    (r = vbatch_keep(b, w.subject, &off[b->n][2])) != 0 ||
		    (r = vbatch_keep(b, w.details, &off[b->n][3])) != 0 ||
		    (r = vbatch_keep(b, w.prev_hash, &off[b->n][4])) != 0 ||
		    (r = vbatch_keep(b, w.hash, &off[b->n][5])) != 0)
			return r;
		b->n++;
	}
	for (i = 0; i < b->n; i++) {
		struct store_event *e = &b->row[i].w;
		const char **f[6] = {&e->type, &e->actor, &e->subject,
		    &e->details, &e->prev_hash, &e->hash};

		for (k = 0; k < 6; k++)
			*f[k] = b->arena + off[i][k];
	}
	return r;
}

/* Why a row's hash does not match (messages as before the fast path):
 * details not an object, not canonical, a field not UTF-8, or else the
 * hash itself.  Always an error.  There is one encoder: a field that is
 * not valid UTF-8 is what made the encoding fail. */
static int
row_check_slow(struct ledger *l, const struct store_event *w)
{
	json_t *d = NULL;
	char *dtext = NULL;
	int r = ERR_INTERNAL;

	if ((d = details_parse(w->details)) == NULL) {
		set_msg(l, "seq %" PRId64 ": details are not a JSON object",
		    w->seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if ((dtext = jsonw_dumps(d, CANON_FLAGS)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (strcmp(dtext, w->details) != 0) {
		set_msg(l, "seq %" PRId64 ": details are not in canonical form",
		    w->seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if (!utf8_valid(w->type) || !utf8_valid(w->actor) ||
	    !utf8_valid(w->subject)) {
		set_msg(
		    l, "seq %" PRId64 ": a field is not valid UTF-8", w->seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	set_msg(l, "seq %" PRId64 ": hash does not match its contents", w->seq);
	r = ERR_LEDGER_BROKEN;
out:
	json_decref(d);
	free(dtext);
	return r;
}

/* The row as an object: seq, time, type, actor, subject, details,
 * prev_hash, hash, in that order. */
static int
row_json(struct ledger *l, const struct store_event *w, json_t **out)
{
	json_t *o = NULL, *d = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((d = details_parse(w->details)) == NULL) {
		set_msg(l, "seq %" PRId64 ": details are not a JSON object",
		    w->seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "seq", json_integer(w->seq)) != 0 ||
	    json_object_set_new(o, "time", json_integer(w->time)) != 0 ||
	    json_object_set_new(o, "type", json_string(w->type)) != 0 ||
	    json_object_set_new(o, "actor", json_string(w->actor)) != 0 ||
	    json_object_set_new(o, "subject", json_string(w->subject)) != 0 ||
	    json_object_set(o, "details", d) != 0 ||
	    json_object_set_new(o, "prev_hash", json_string(w->prev_hash)) !=
		0 ||
	    json_object_set_new(o, "hash", json_string(w->hash)) != 0) {
		r = ERR_ALLOC;
		goto out;
	}
	*out = o;
	o = NULL;
	r = 0;
out:
	json_decref(o);
	json_decref(d);
	return r;
}

/* One CSV field, quoted when it holds a comma, quote, CR or LF. */
static int
csv_field(FILE *f, const char *s, int last)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		if (fputs(s, f) == EOF)
			return ERR_SYSTEM;
	} else {
		if (fputc('"', f) == EOF)
			return ERR_SYSTEM;
		for (p = s; *p != '\0'; p++) {
			if (*p == '"' && fputc('"', f) == EOF)
				return ERR_SYSTEM;
			if (fputc(*p, f) == EOF)
				return ERR_SYSTEM;
		}
		if (fputc('"', f) == EOF)
			return ERR_SYSTEM;
	}
	if (fputs(last ? "\r\n" : ",", f) == EOF)
		return ERR_SYSTEM;
	return 0;
}

static int
csv_row(FILE *f, const struct store_event *w)
{
	char seq[32], t[32];
	int r = ERR_INTERNAL;

	(void)snprintf(seq, sizeof(seq), "%" PRId64, w->seq);
	(void)snprintf(t, sizeof(t), "%" PRId64, w->time);
	TRY(csv_field(f, seq, 0));
	TRY(csv_field(f, t, 0));
	TRY(csv_field(f, w->type, 0));
	TRY(csv_field(f, w->actor, 0));
	TRY(csv_field(f, w->subject, 0));
	TRY(csv_field(f, w->details, 0));
	TRY(csv_field(f, w->prev_hash, 0));
	TRY(csv_field(f, w->hash, 1));
	r = 0;
out:
	return r;
}

/*
 * The end of the chain against the head recorded beside it: seq and the
 * hash of the last row (seq 0 and the zero hash when there is none).
 */
static int
head_check(struct ledger *l, const struct store_tail *t, int64_t last,
    const char *last_hash, int64_t *bad)
{
	uint64_t hs = 0;

	if (t->have_head_seq && !t->head_seq_ok) {
		set_msg(l, "meta %s: \"%.64s\" is not a number", "head_seq",
		    t->head_seq_text);
		*bad = last + 1;
		return ERR_LEDGER_BROKEN;
	}
	if (t->have_head_seq)
		hs = t->head_seq;
	if (!t->have_head_hash) {
		set_msg(l, "meta has no head_hash: the chain head is missing");
		*bad = last + 1;
		return ERR_LEDGER_BROKEN;
	}
	if ((int64_t)hs > last) {
		*bad = last + 1;
		set_msg(l,
		    "seq %" PRId64 ": missing (the chain ends at seq %" PRId64
		    " but its recorded head is seq %" PRIu64
		    "; rows were deleted at the end)",
		    last + 1, last, hs);
		return ERR_LEDGER_BROKEN;
	}
	if ((int64_t)hs < last) {
		*bad = (int64_t)hs + 1;
		set_msg(l,
		    "seq %" PRId64 ": beyond the recorded head (seq %" PRIu64
		    "): appended outside jitca",
		    *bad, hs);
		return ERR_LEDGER_BROKEN;
	}
	if (strcmp(t->head_hash, last_hash) != 0) {
		*bad = last;
		set_msg(l,
		    "seq %" PRId64 ": hash differs from the recorded head",
		    last);
		return ERR_LEDGER_BROKEN;
	}
	return 0;
}

/* ---- the Merkle tree over the events (RFC 6962 2.1) ---- */

/*
 * The stored frontier of the tree of size n: for each set bit l of n,
 * largest first, the perfect subtree (level l, index (n >> l) - 1).
 * A missing node is ERR_LEDGER_BROKEN.
 */
static int
frontier_load(struct ledger *l, uint64_t n, struct merkle_tree *t)
{
	uint8_t enc[MERKLE_TREE_MAX_ENCODED];
	size_t len = 8;
	int r = ERR_INTERNAL, level;

	for (level = 0; level < 8; level++)
		enc[level] = (uint8_t)(n >> (56 - 8 * level));
	for (level = 63; level >= 0; level--) {
		if (((n >> level) & 1) == 0)
			continue;
		r = store_merkle_node_get(
		    l->s, (unsigned)level, (n >> level) - 1, enc + len);
		if (r == ERR_NOT_FOUND) {
			set_msg(l,
			    "merkle_nodes: subtree (level %d, index %" PRIu64
			    ") of the tree of size %" PRIu64 " is missing",
			    level, (n >> level) - 1, n);
			r = ERR_LEDGER_BROKEN;
		}
		if (r != 0)
			goto out;
		len += MERKLE_HASH_LEN;
	}
	TRY(merkle_tree_decode(t, enc, len));
	r = 0;
out:
	return r;
}

/* The leaf hash of a stored event. */
static int
event_leaf(EVP_MD_CTX *ctx, const struct store_event *w, uint8_t out[32])
{
	return ledger_event_leaf(ctx, w->seq, w->time, w->type, w->actor,
	    w->subject, w->details, out);
}

int
ledger_merkle_sync(struct ledger *l, uint64_t *size_out)
{
	uint8_t made[MERKLE_MAX_PATH][MERKLE_HASH_LEN], leaf[32];
	struct store_events *it = NULL;
	struct merkle_tree t;
	struct store_tail tail;
	struct store_event w;
	uint64_t size = 0;
	size_t nmade = 0;
	int r = ERR_INTERNAL, found;

	if (size_out != NULL)
		*size_out = 0;
	if (l == NULL || !store_tx_active(l->s))
		return ERR_INVALID_ARG;
	TRY(store_merkle_size(l->s, &size));
	TRY(store_event_tail(l->s, &tail));
	if (tail.seq < 0 || size > (uint64_t)tail.seq) {
		set_msg(l,
		    "the Merkle tree has %" PRIu64 " leaves but the ledger "
		    "only %" PRId64 " events",
		    size, tail.seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if (size == (uint64_t)tail.seq)
		goto done;
	TRY(frontier_load(l, size, &t));
	TRY(store_events_open(l->s, (int64_t)size, -1, &it));
	for (;;) {
		TRY(store_events_next(l->s, it, &w, &found));
		if (!found)
			break;
		if (w.seq != (int64_t)t.size + 1) {
			set_msg(l,
			    "seq %" PRId64 ": the events are not contiguous "
			    "(expected seq %" PRIu64 ")",
			    w.seq, t.size + 1);
			r = ERR_LEDGER_BROKEN;
			goto out;
		}
		TRY(event_leaf(l->md_ctx, &w, leaf));
		TRY(merkle_tree_append(&t, leaf, made, &nmade));
		TRY(store_merkle_nodes_put(
		    l->s, t.size - 1, (const uint8_t(*)[32])made, nmade));
	}
	size = t.size;
done:
	if (size_out != NULL)
		*size_out = size;
	r = 0;
out:
	store_events_close(l->s, it);
	return r;
}

/*
 * The tree after ledger_append() inserted ev, whose predecessor's hash is
 * prev: from the frontier kept in l when it ends at prev, else synced
 * from the store and its frontier loaded.  l->tree_ok is 0 on any error.
 */
static int
tree_append(struct ledger *l, const struct store_event *ev, const char *prev,
    const uint8_t leaf[32])
{
	uint8_t made[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
	size_t nmade = 0;
	int r = ERR_INTERNAL;

	if (!l->tree_ok || l->tree.size + 1 != (uint64_t)ev->seq ||
	    strcmp(l->tree_hash, prev) != 0) {
		l->tree_ok = 0;
		TRY(ledger_merkle_sync(l, NULL));
		TRY(frontier_load(l, (uint64_t)ev->seq, &l->tree));
	} else {
		l->tree_ok = 0;
		TRY(merkle_tree_append(&l->tree, leaf, made, &nmade));
		TRY(store_merkle_nodes_put(
		    l->s, l->tree.size - 1, (const uint8_t(*)[32])made, nmade));
	}
	(void)snprintf(l->tree_hash, sizeof(l->tree_hash), "%s", ev->hash);
	l->tree_ok = 1;
	r = 0;
out:
	return r;
}

int
ledger_tree_size(struct ledger *l, uint64_t *size)
{
	*size = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	return store_merkle_size(l->s, size);
}

/* merkle_source over the stored nodes. */
static int
src_leaf(void *ctx, uint8_t out[MERKLE_HASH_LEN], uint64_t index)
{
	struct ledger *l = ctx;
	int r = store_merkle_node_get(l->s, 0, index, out);

	if (r == ERR_NOT_FOUND) {
		set_msg(l, "merkle_nodes: leaf %" PRIu64 " is missing", index);
		r = ERR_LEDGER_BROKEN;
	}
	return r;
}

static int
src_subtree(
    void *ctx, uint8_t out[MERKLE_HASH_LEN], unsigned level, uint64_t index)
{
	struct ledger *l = ctx;

	return store_merkle_node_get(l->s, level, index, out);
}

static void
source_init(struct merkle_source *src, struct ledger *l)
{
	src->leaf = src_leaf;
	src->subtree = src_subtree;
	src->ctx = l;
}

/* ERR_MERKLE_RANGE with a message unless size <= the stored size. */
static int
size_check(struct ledger *l, uint64_t size)
{
	uint64_t have = 0;
	int r;

	if ((r = store_merkle_size(l->s, &have)) != 0)
		return r;
	if (size > have) {
		set_msg(l,
		    "tree size %" PRIu64 " is beyond the ledger's tree "
		    "(%" PRIu64 " leaves)",
		    size, have);
		return ERR_MERKLE_RANGE;
	}
	return 0;
}

int
ledger_tree_root(struct ledger *l, uint64_t size, uint8_t root[32])
{
	struct merkle_source src;
	int r;

	memset(root, 0, 32);
	if (l == NULL)
		return ERR_INVALID_ARG;
	if ((r = size_check(l, size)) != 0)
		return r;
	if (size == 0)
		return merkle_empty_root(root);
	source_init(&src, l);
	return merkle_range_hash(root, &src, 0, size);
}

int
ledger_inclusion_proof(struct ledger *l, uint64_t index, uint64_t size,
    uint8_t leaf[32], uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN],
    size_t *pathlen)
{
	struct merkle_source src;
	int r;

	*pathlen = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	if ((r = size_check(l, size)) != 0)
		return r;
	if (index >= size) {
		set_msg(l,
		    "leaf %" PRIu64 " is not in the tree of size %" PRIu64,
		    index, size);
		return ERR_MERKLE_RANGE;
	}
	source_init(&src, l);
	if ((r = src_leaf(l, leaf, index)) != 0)
		return r;
	return merkle_inclusion_proof(path, pathlen, &src, index, size);
}

int
ledger_consistency_proof(struct ledger *l, uint64_t old, uint64_t new_size,
    uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t *pathlen)
{
	struct merkle_source src;
	int r;

	*pathlen = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	if ((r = size_check(l, new_size)) != 0)
		return r;
	if (old > new_size) {
		set_msg(l, "tree size %" PRIu64 " is larger than %" PRIu64, old,
		    new_size);
		return ERR_MERKLE_RANGE;
	}
	source_init(&src, l);
	return merkle_consistency_proof(path, pathlen, &src, old, new_size);
}

int
ledger_root_from_events(
    struct ledger *l, uint64_t size, uint64_t *have, uint8_t root[32])
{
	uint8_t leaf[32];
	struct store_events *it = NULL;
	struct merkle_tree t;
	struct store_event w;
	int r = ERR_INTERNAL, found, began = 0;

	*have = 0;
	memset(root, 0, 32);
	if (l == NULL || size >= MERKLE_SIZE_LIMIT)
		return ERR_INVALID_ARG;
	merkle_tree_init(&t);
	TRY(store_snapshot_begin(l->s, &began));
	TRY(store_events_open(l->s, -1, -1, &it));
	while (t.size < size) {
		TRY(store_events_next(l->s, it, &w, &found));
		if (!found)
			break;
		if (w.seq != (int64_t)t.size + 1) {
			set_msg(l, "seq %" PRId64 ": out of sequence", w.seq);
			r = ERR_LEDGER_BROKEN;
			goto out;
		}
		TRY(event_leaf(l->md_ctx, &w, leaf));
		TRY(merkle_tree_append(&t, leaf, NULL, NULL));
	}
	*have = t.size;
	if (t.size == size)
		TRY(merkle_tree_root(&t, root));
	r = 0;
out:
	store_events_close(l->s, it);
	store_snapshot_end(l->s, began);
	return r;
}

int
ledger_find_event(
    struct ledger *l, const char *type, const char *subject, int64_t *seq)
{
	*seq = 0;
	if (l == NULL)
		return ERR_INVALID_ARG;
	return store_event_find(l->s, type, subject, seq);
}

/* For checkpoints_each() in ledger_verify(): each stored checkpoint must
 * sign a root of the tree that the events make. */
struct cp_check {
	struct ledger *l;
	uint64_t n;
	uint64_t bad_size;
};

static int
cp_check_one(void *arg, const struct store_checkpoint *c)
{
	struct cp_check *k = arg;
	uint8_t root[32];
	int r;

	if (c->size > k->n) {
		set_msg(k->l,
		    "checkpoint of tree size %" PRIu64 ": beyond the %" PRIu64
		    " events (rows were deleted at the end)",
		    c->size, k->n);
		k->bad_size = c->size;
		return ERR_LEDGER_BROKEN;
	}
	if ((r = ledger_tree_root(k->l, c->size, root)) != 0)
		return r;
	if (CRYPTO_memcmp(root, c->root, 32) != 0) {
		set_msg(k->l,
		    "checkpoint of tree size %" PRIu64 ": its root is not "
		    "the root of the events' tree",
		    c->size);
		k->bad_size = c->size;
		return ERR_LEDGER_BROKEN;
	}
	return 0;
}

int
ledger_verify(struct ledger *l, int64_t *count, int64_t *bad_seq,
    char errbuf[LEDGER_ERR_LEN])
{
	uint8_t made[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
	struct store_events *it = NULL;
	struct store_tail tail;
	struct merkle_tree mt;
	struct cp_check cpk;
	EVP_MD_CTX *ctx = NULL, *lctx = NULL;
	char prev[LEDGER_HASH_HEX];
	int64_t n = 0, bad = 0;
	uint64_t msize = 0;
	int64_t mbad = 0;
	char mmsg[LEDGER_ERR_LEN];
	size_t nmade = 0, k, i;
	struct vbatch *vb[2] = {NULL, NULL}, *cur;
	struct vhasher hz;
	pthread_t hthread;
	int r = ERR_INTERNAL, began = 0, threaded = 0, hz_init = 0;

	if (count != NULL)
		*count = 0;
	if (bad_seq != NULL)
		*bad_seq = 0;
	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (l == NULL)
		return ERR_INVALID_ARG;
	l->s->errmsg[0] = '\0';
	/* One read snapshot for the rows and the head. */
	TRY(store_snapshot_begin(l->s, &began));
	/* The stored tree (0: never built, a ledger of schema 2 not yet
	 * appended to): recomputed from the events, node by node. */
	TRY(store_merkle_size(l->s, &msize));
	merkle_tree_init(&mt);
	(void)snprintf(prev, sizeof(prev), "%s", ZERO_HASH);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    (lctx = EVP_MD_CTX_new()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	TRY(store_events_open(l->s, -1, -1, &it));
	/* The hasher (vhasher_main); without a thread, this one hashes. */
	memset(&hz, 0, sizeof(hz));
	hz.ctx = ctx;
	hz.lctx = lctx;
	(void)pthread_mutex_init(&hz.mu, NULL);
	(void)pthread_cond_init(&hz.cv, NULL);
	hz_init = 1;
	threaded = pthread_create(&hthread, NULL, vhasher_main, &hz) == 0;
	ENSURE((vb[0] = calloc(1, sizeof(*vb[0]))) != NULL &&
		(vb[1] = calloc(1, sizeof(*vb[1]))) != NULL,
	    ERR_ALLOC);
	cur = vb[0];
	TRY(vbatch_fill(l, it, cur));
	cur->first = 0;
	cur->msize = msize;
	vhasher_give(&hz, cur, threaded);
	for (;;) {
		struct vbatch *done = cur;

		/* Read the next batch while this one is hashed. */
		cur = done == vb[0] ? vb[1] : vb[0];
		cur->n = 0;
		if (done->end_r == 0 && !done->eof) {
			TRY(vbatch_fill(l, it, cur));
			cur->first = done->first + (int64_t)done->n;
			cur->msize = msize;
		}
		vhasher_wait(&hz, done);
		if (cur->n > 0 || cur->end_r != 0 || cur->eof)
			vhasher_give(&hz, cur, threaded);
		for (i = 0; i < done->n; i++) {
			struct vrow *v = &done->row[i];

			/* The first bad seq: the missing one when there is
			 * a gap. */
			bad = v->w.seq;
			if (bad > n + 1)
				bad = n + 1;
			if ((r = row_check(
				 l, &v->w, n + 1, prev, v->rc, v->md)) != 0)
				goto out;
			if ((uint64_t)n < msize && mbad == 0) {
				TRY(merkle_tree_append(
				    &mt, v->leaf, made, &nmade));
				TRY(tree_node_check(l, &v->w, (uint64_t)n, made,
				    nmade, mmsg, &mbad));
			}
			if ((k = strlen(v->w.hash)) >= sizeof(prev))
				k = sizeof(prev) - 1;
			memcpy(prev, v->w.hash, k);
			prev[k] = '\0';
			n++;
		}
		if (done->end_r != 0) {
			r = done->end_r;
			bad = 0;
			if (r == ERR_LEDGER_BROKEN) {
				bad = done->end_bad;
				if (bad > n + 1)
					bad = n + 1;
			}
			goto out;
		}
		if (done->eof)
			break;
	}
	bad = 0;
	TRY(store_event_tail(l->s, &tail));
	TRY(head_check(l, &tail, n, prev, &bad));
	/* The chain is intact: now the tree.  It may lag behind the
	 * events (a ledger of schema 2: the next append adds the missing
	 * leaves), never run ahead of them. */
	if (mbad != 0) {
		bad = mbad;
		set_msg(l, "%s", mmsg);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if (msize > (uint64_t)n) {
		bad = n + 1;
		set_msg(l,
		    "the Merkle tree has %" PRIu64 " leaves but there are "
		    "only %" PRId64 " events (events were deleted at the "
		    "end)",
		    msize, n);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	cpk.l = l;
	cpk.n = msize;
	cpk.bad_size = 0;
	if ((r = store_checkpoints_each(l->s, cp_check_one, &cpk)) != 0) {
		if (r == ERR_LEDGER_BROKEN)
			bad = (int64_t)cpk.bad_size;
		goto out;
	}
	if (count != NULL)
		*count = n;
	r = 0;
out:
	if (hz_init) {
		vhasher_stop(&hz, threaded, hthread);
		(void)pthread_cond_destroy(&hz.cv);
		(void)pthread_mutex_destroy(&hz.mu);
	}
	for (k = 0; k < 2; k++) {
		if (vb[k] != NULL)
			free(vb[k]->arena);
		free(vb[k]);
	}
	EVP_MD_CTX_free(ctx);
	EVP_MD_CTX_free(lctx);
	store_events_close(l->s, it);
	store_snapshot_end(l->s, began);
	if (r == ERR_LEDGER_BROKEN && bad_seq != NULL)
		*bad_seq = bad;
	if (r != 0 && errbuf != NULL)
		(void)snprintf(errbuf, LEDGER_ERR_LEN, "%s", l->s->errmsg);
	return r;
}

int
ledger_export(
    struct ledger *l, FILE *out, enum ledger_format fmt, int64_t since)
{
	struct store_events *it = NULL;
	json_t *o = NULL;
	struct store_event w;
	int r = ERR_INTERNAL, found;

	if (l == NULL || out == NULL || since < 0 ||
	    (fmt != LEDGER_FORMAT_JSONL && fmt != LEDGER_FORMAT_CSV))
		return ERR_INVALID_ARG;
	TRY(store_events_open(l->s, since, -1, &it));
	if (fmt == LEDGER_FORMAT_CSV &&
	    fputs("seq,time,type,actor,subject,details,prev_hash,hash\r\n",
		out) == EOF) {
		r = ERR_SYSTEM;
		goto out;
	}
	for (;;) {
		TRY(store_events_next(l->s, it, &w, &found));
		if (!found)
			break;
		if (fmt == LEDGER_FORMAT_CSV) {
			TRY(csv_row(out, &w));
			continue;
		}
		TRY(row_json(l, &w, &o));
		if (json_dumpf(o, out, JSON_COMPACT | JSON_ENSURE_ASCII) != 0 ||
		    fputc('\n', out) == EOF) {
			r = ERR_SYSTEM;
			goto out;
		}
		json_decref(o);
		o = NULL;
	}
	if (fflush(out) != 0 || ferror(out)) {
		r = ERR_SYSTEM;
		goto out;
	}
	r = 0;
out:
	if (r == ERR_SYSTEM)
		set_msg(l, "writing the export failed");
	json_decref(o);
	store_events_close(l->s, it);
	return r;
}

int
ledger_events_json(struct ledger *l, int64_t since, int64_t limit, json_t **out)
{
	struct store_events *it = NULL;
	json_t *a = NULL, *o = NULL;
	struct store_event w;
	int r = ERR_INTERNAL, found;

	if (out != NULL)
		*out = NULL;
	if (l == NULL || out == NULL || since < 0 || limit < 1 ||
	    limit > LEDGER_EVENTS_MAX)
		return ERR_INVALID_ARG;
	if ((a = json_array()) == NULL)
		return ERR_ALLOC;
	TRY(store_events_open(l->s, since, limit, &it));
	for (;;) {
		TRY(store_events_next(l->s, it, &w, &found));
		if (!found)
			break;
		TRY(row_json(l, &w, &o));
		if (json_array_append_new(a, o) != 0) {
			o = NULL;
			r = ERR_ALLOC;
			goto out;
		}
		o = NULL;
	}
	*out = a;
	a = NULL;
	r = 0;
out:
	json_decref(o);
	json_decref(a);
	store_events_close(l->s, it);
	return r;
}

/*
 * The last row's seq and hash (seq 0 and the zero hash when there is
 * none), which must be the head recorded in meta: otherwise rows were
 * deleted at the end or forged after it, and appending would reset the
 * head over the evidence.  Fail closed (an absent head_seq counts as 0;
 * an absent head_hash or a head_seq that is not a number is broken).
 */
static int
chain_head(struct ledger *l, int64_t *seq, char hash[LEDGER_HASH_HEX])
{
	struct store_tail t;
	int r = ERR_INTERNAL;

	*seq = 0;
	(void)snprintf(hash, LEDGER_HASH_HEX, "%s", ZERO_HASH);
	TRY(store_event_tail(l->s, &t));
	if (t.have_hash) {
		*seq = t.seq;
		if (t.hash[0] == '\0') {
			set_msg(l, "seq %" PRId64 ": malformed hash", *seq);
			r = ERR_LEDGER_BROKEN;
			goto out;
		}
		(void)snprintf(hash, LEDGER_HASH_HEX, "%s", t.hash);
	}
	if ((t.have_head_seq && !t.head_seq_ok) || !t.have_head_hash ||
	    (int64_t)t.head_seq != *seq || strcmp(t.head_hash, hash) != 0) {
		set_msg(l,
		    "the last event (seq %" PRId64 ") is not the recorded "
		    "head of the chain: refusing to append; run "
		    "\"jitcad ledger verify\"",
		    *seq);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	r = 0;
out:
	return r;
}

/* What every append checks first; 0 when it may go on. */
static int
append_check(
    struct ledger *l, const char *type, const char *actor, const char *subject)
{
	if (l == NULL)
		return ERR_INVALID_ARG;
	if (!store_tx_active(l->s)) {
		set_msg(l, "ledger_append outside a transaction");
		return ERR_INVALID_ARG;
	}
	if (!field_valid(type) || !field_valid(actor) ||
	    !field_valid(subject)) {
		set_msg(l,
		    "event type, actor and subject must be 1..%d "
		    "printable bytes",
		    LEDGER_FIELD_MAX);
		return ERR_INVALID_ARG;
	}
	return 0;
}

/* The canonical text of details into *out (new); ERR_INVALID_ARG,
 * ERR_TOO_LARGE or ERR_ALLOC, with a message when l is not NULL. */
static int
details_text(struct ledger *l, json_t *details, char **out)
{
	struct jsonw_buf db;
	int r;

	*out = NULL;
	if (!json_is_object(details)) {
		set_msg(l, "event details must be a JSON object");
		return ERR_INVALID_ARG;
	}
	jsonw_buf_init(&db, LEDGER_DETAILS_MAX);
	if ((r = jsonw_append(&db, details, CANON_FLAGS)) != 0) {
		if (r == ERR_TOO_LARGE)
			set_msg(l, "event details are over %u bytes",
			    LEDGER_DETAILS_MAX);
		else if (r == ERR_INVALID_ARG)
			set_msg(l, "event details cannot be dumped as JSON");
	} else {
		*out = db.data;
		db.data = NULL;
	}
	jsonw_buf_free(&db);
	return r;
}

/* The append itself, after append_check(): dtext is canonical details. */
static int
append_text(struct ledger *l, int64_t *seq_out, const char *type,
    const char *actor, const char *subject, const char *dtext)
{
	struct store_event ev;
	char prev[LEDGER_HASH_HEX], hash[LEDGER_HASH_HEX];
	unsigned char md[32], leaf[32];
	int64_t seq = 0, t;
	int r = ERR_INTERNAL;

	TRY(chain_head(l, &seq, prev));
	if (seq < 0 || seq == INT64_MAX) {
		set_msg(l, "event seq out of range");
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	seq++;
	t = (int64_t)ledger_now();
	/* dtext is the canonical details: hash the array around it, for
	 * the chain and for the Merkle leaf at once. */
	if ((r = event_digests(l->md_ctx, l->leaf_ctx, prev, seq, t, type,
		 actor, subject, dtext, md, leaf)) != 0) {
		if (r == ERR_INVALID_ARG)
			set_msg(l, "event fields must be valid UTF-8");
		goto out;
	}
	wire_hex_encode(hash, md, 32);
	memset(&ev, 0, sizeof(ev));
	ev.seq = seq;
	ev.time = t;
	ev.type = type;
	ev.actor = actor;
	ev.subject = subject;
	ev.details = dtext;
	ev.prev_hash = prev;
	ev.hash = hash;
	TRY(store_event_insert(l->s, &ev));
	/* Its leaf, and the subtrees it completes, in the same unit. */
	TRY(tree_append(l, &ev, prev, leaf));
	if (seq_out != NULL)
		*seq_out = seq;
	r = 0;
out:
	return r;
}

int
ledger_append(struct ledger *l, int64_t *seq_out, const char *type,
    const char *actor, const char *subject, json_t *details)
{
	json_t *empty = NULL;
	char *dtext = NULL;
	int r;

	if (seq_out != NULL)
		*seq_out = 0;
	if ((r = append_check(l, type, actor, subject)) != 0)
		return r;
	if (details == NULL && (details = empty = json_object()) == NULL)
		return ERR_ALLOC;
	if ((r = details_text(l, details, &dtext)) == 0)
		r = append_text(l, seq_out, type, actor, subject, dtext);
	json_decref(empty);
	free(dtext);
	return r;
}

void
ledger_details_make(struct ledger_details *d, json_t *details)
{
	if (d == NULL)
		return;
	d->obj = details;
	(void)details_text(NULL, details, &d->text); /* text NULL on failure */
}

void
ledger_details_clear(struct ledger_details *d)
{
	if (d == NULL)
		return;
	free(d->text);
	d->text = NULL;
	d->obj = NULL;
}

int
ledger_append_details(struct ledger *l, int64_t *seq_out, const char *type,
    const char *actor, const char *subject, const struct ledger_details *d)
{
	int r;

	if (d == NULL || d->text == NULL)
		return ledger_append(l, seq_out, type, actor, subject,
		    d != NULL ? d->obj : NULL);
	if (seq_out != NULL)
		*seq_out = 0;
	if ((r = append_check(l, type, actor, subject)) != 0)
		return r;
	return append_text(l, seq_out, type, actor, subject, d->text);
}
