/*
 * checkpoint.c: signed checkpoints of the ledger's Merkle tree, stored
 * and ledgered in one unit; inclusion proofs for a certificate's
 * cert.issued event against the latest one; consistency proofs; and the
 * check that the ledger extends a checkpoint saved elsewhere (see
 * checkpoint.h).  The tree itself is ca/store/chain.c's, the note format
 * signer/note.c's; the signing is the caller's callback.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ca/checkpoint.h"
#include "ca/ledger.h"
#include "signer/note.h"
#include "signer/wire.h"

int
checkpoint_origin_default(char **out, const struct pubkey *ca_pub)
{
	uint8_t h[32];
	char hex[65], buf[96];
	int r;

	*out = NULL;
	if ((r = pubkey_sha256(h, ca_pub)) != 0)
		return r;
	wire_hex_encode(hex, h, 8);
	(void)snprintf(buf, sizeof(buf), "%s%s", CHECKPOINT_ORIGIN_PREFIX, hex);
	if ((*out = strdup(buf)) == NULL)
		return ERR_ALLOC;
	return 0;
}

int
checkpoint_latest(struct ledger *l, struct store_checkpoint *out)
{
	int r;

	ledger_read_begin(l);
	r = store_checkpoint_latest(ledger_store(l), out);
	ledger_read_end(l);
	return r;
}

int
checkpoint_make(struct ledger *l, const char *origin,
    const struct checkpoint_signer *sg, const char *actor, int force, int *made,
    struct store_checkpoint *out)
{
	struct store_checkpoint cp, last;
	json_t *details = NULL;
	char *b64 = NULL, subject[48];
	uint64_t size = 0;
	int r = ERR_INTERNAL, began = 0;

	memset(&cp, 0, sizeof(cp));
	memset(&last, 0, sizeof(last));
	if (made != NULL)
		*made = 0;
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (l == NULL || origin == NULL || sg == NULL || sg->sign == NULL ||
	    actor == NULL)
		return ERR_INVALID_ARG;
	TRY(ledger_begin(l));
	began = 1;
	TRY(ledger_merkle_sync(l, &size));
	if (!force) {
		r = store_checkpoint_latest(ledger_store(l), &last);
		if (r != 0 && r != ERR_NOT_FOUND)
			goto out;
		/* Only the last checkpoint's own event since: none needed. */
		if (r == 0 && size <= last.size + 1) {
			r = 0;
			goto out;
		}
	}
	cp.size = size;
	TRY(ledger_tree_root(l, size, cp.root));
	TRY(sg->sign(sg->ctx, origin, size, cp.root, &cp.note, &cp.sig));
	cp.time = ledger_now();
	TRY(store_checkpoint_insert(ledger_store(l), &cp));
	TRY(wire_b64_encode(&b64, cp.root, sizeof(cp.root)));
	details = json_pack("{s:I, s:s, s:s}", "tree_size", (json_int_t)size,
	    "root", b64, "origin", origin);
	ENSURE(details != NULL, ERR_ALLOC);
	(void)snprintf(subject, sizeof(subject), "checkpoint:%" PRIu64, size);
	TRY(ledger_append(l, NULL, CHECKPOINT_EVENT, actor, subject, details));
	began = 0;
	TRY(ledger_commit(l));
	if (made != NULL)
		*made = 1;
	if (out != NULL) {
		*out = cp;
		memset(&cp, 0, sizeof(cp));
	}
	r = 0;
out:
	if (began)
		ledger_rollback(l);
	json_decref(details);
	free(b64);
	store_checkpoint_clear(&cp);
	store_checkpoint_clear(&last);
	return r;
}

int
checkpoint_prove_serial(struct ledger *l, uint64_t serial,
    struct checkpoint_proof *out, int *no_checkpoint)
{
	struct store_checkpoint cp;
	char subject[48];
	int64_t seq = 0;
	int r = ERR_INTERNAL;

	memset(&cp, 0, sizeof(cp));
	memset(out, 0, sizeof(*out));
	if (no_checkpoint != NULL)
		*no_checkpoint = 0;
	ledger_read_begin(l);
	if ((r = store_checkpoint_latest(ledger_store(l), &cp)) != 0) {
		if (r == ERR_NOT_FOUND && no_checkpoint != NULL)
			*no_checkpoint = 1;
		goto out;
	}
	(void)snprintf(
	    subject, sizeof(subject), "cert:%llu", (unsigned long long)serial);
	TRY(ledger_find_event(l, "cert.issued", subject, &seq));
	ENSURE(seq > 0, ERR_LEDGER_BROKEN);
	out->tree_size = cp.size;
	out->leaf_index = (uint64_t)seq - 1;
	memcpy(out->root, cp.root, sizeof(out->root));
	if (out->leaf_index >= cp.size) {
		r = ERR_MERKLE_RANGE;
		goto out;
	}
	TRY(ledger_inclusion_proof(
	    l, out->leaf_index, cp.size, out->leaf, out->path, &out->pathlen));
	/* What we hand out must check against the signed root. */
	TRY(merkle_inclusion_verify(out->leaf, out->leaf_index, cp.size,
	    (const uint8_t(*)[MERKLE_HASH_LEN])out->path, out->pathlen,
	    cp.root));
	r = 0;
out:
	ledger_read_end(l);
	store_checkpoint_clear(&cp);
	return r;
}

int
checkpoint_consistency(struct ledger *l, uint64_t old, uint64_t new_size,
    struct checkpoint_consistency *out)
{
	int r = ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	out->old_size = old;
	out->new_size = new_size;
	ledger_read_begin(l);
	TRY(ledger_consistency_proof(
	    l, old, new_size, out->path, &out->pathlen));
	TRY(ledger_tree_root(l, old, out->old_root));
	TRY(ledger_tree_root(l, new_size, out->new_root));
	r = 0;
out:
	ledger_read_end(l);
	return r;
}

int
checkpoint_verify_saved(struct ledger *l, const char *note, size_t len,
    const struct pubkey *ledger_pub, uint64_t *size,
    char errbuf[LEDGER_ERR_LEN])
{
	struct note_checkpoint *c = NULL;
	struct note_verifier v;
	uint8_t root[MERKLE_HASH_LEN];
	const char *nl;
	char name[NOTE_MAX_NAME + 1];
	uint64_t have = 0;
	size_t textlen = 0, n;
	int r = ERR_INTERNAL;

	*size = 0;
	errbuf[0] = '\0';
	/* The key name is the origin: the first line. */
	if ((nl = memchr(note, '\n', len)) == NULL ||
	    (n = (size_t)(nl - note)) == 0 || n > NOTE_MAX_NAME) {
		(void)snprintf(
		    errbuf, LEDGER_ERR_LEN, "not a checkpoint: no origin line");
		return ERR_NOTE_FORMAT;
	}
	memcpy(name, note, n);
	name[n] = '\0';
	TRY(note_verifier_from_pubkey(&v, name, ledger_pub));
	if ((r = note_open(note, len, &v, 1, 0, &textlen)) != 0) {
		(void)snprintf(errbuf, LEDGER_ERR_LEN,
		    "the checkpoint is not signed by the ledger key (%s)",
		    err_str(r));
		goto out;
	}
	TRY(note_checkpoint_parse(&c, note, textlen));
	*size = c->size;
	TRY(ledger_root_from_events(l, c->size, &have, root));
	if (have < c->size) {
		(void)snprintf(errbuf, LEDGER_ERR_LEN,
		    "the ledger has %" PRIu64 " events, fewer than the "
		    "checkpoint's tree size %" PRIu64
		    ": they diverge at tree size %" PRIu64
		    " (events were deleted at the end)",
		    have, c->size, have + 1);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	if (CRYPTO_memcmp(root, c->root, sizeof(root)) != 0) {
		(void)snprintf(errbuf, LEDGER_ERR_LEN,
		    "the root of the ledger's first %" PRIu64
		    " events is not the checkpoint's: they diverge at or "
		    "before tree size %" PRIu64 " (events were rewritten)",
		    c->size, c->size);
		r = ERR_LEDGER_BROKEN;
		goto out;
	}
	r = 0;
out:
	note_checkpoint_free(c);
	return r;
}
