/*
 * checkpoint.h: the ledger's signed checkpoints and the proofs against
 * them.  A checkpoint is the C2SP tlog-checkpoint text "origin\nsize\n
 * base64(root)\n" of the Merkle tree over the events (ca/ledger.h),
 * signed as a C2SP note by the ledger key under the name origin, and the
 * whole note signed again as SSHSIG (namespace checkpoint@jitca) so that
 * stock ssh-keygen -Y verify checks it.  The signer process holds the
 * key; this file only asks through the callback in struct
 * checkpoint_signer (jitcad passes signer_sign_checkpoint()).
 *
 * checkpoint_make() does one unit of work: bring the tree up to the
 * events, take its size and root, have them signed, store the row and
 * append a checkpoint.created event (which is a leaf of the next
 * checkpoint, not of this one).  Without force it makes none when
 * nothing but the last checkpoint's own event arrived since.
 *
 * The default origin is "jitca/" followed by the first 16 hex digits of
 * the SHA-256 of the user CA public key blob: unique per CA, stable,
 * and valid as a note key name.  Nothing here prints or knows HTTP;
 * results are structs (web/api.c and web/jitcad/ledger.c encode them).
 */
#ifndef JITCA_CHECKPOINT_H
#define JITCA_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "ca/ledger.h"
#include "ca/store/store.h"
#include "signer/err.h"
#include "signer/merkle.h"
#include "signer/pubkey.h"

#define CHECKPOINT_ORIGIN_PREFIX "jitca/"
#define CHECKPOINT_EVENT "checkpoint.created"

/* Signs (origin, size, root): *note and *sig new NUL-terminated strings
 * (the signed note, its armored SSHSIG). */
struct checkpoint_signer {
	int (*sign)(void *ctx, const char *origin, uint64_t size,
	    const uint8_t root[MERKLE_HASH_LEN], char **note, char **sig);
	void *ctx;
};

/* The default origin for a CA key: new string in *out. */
MUST_CHECK int checkpoint_origin_default(
    char **out, const struct pubkey *ca_pub);

/*
 * Make a checkpoint now (force) or when events other than the last
 * checkpoint's own arrived since it (!force).  *made (may be NULL) is 1
 * when one was made, and then out (may be NULL) holds it (clear it with
 * store_checkpoint_clear()).  actor names who asked ("jitcad").
 */
MUST_CHECK int checkpoint_make(struct ledger *l, const char *origin,
    const struct checkpoint_signer *sg, const char *actor, int force, int *made,
    struct store_checkpoint *out);

/* The latest checkpoint (ERR_NOT_FOUND when there is none). */
MUST_CHECK int checkpoint_latest(
    struct ledger *l, struct store_checkpoint *out);

/* An inclusion proof of one event against a checkpoint. */
struct checkpoint_proof {
	uint64_t tree_size;
	uint64_t leaf_index; /* the event's seq - 1 */
	uint8_t leaf[MERKLE_HASH_LEN];
	uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
	size_t pathlen;
	uint8_t root[MERKLE_HASH_LEN];
};

/*
 * The proof for the cert.issued event of serial against the latest
 * checkpoint: ERR_NOT_FOUND when there is no such certificate (or no
 * checkpoint: then *no_checkpoint is 1), ERR_MERKLE_RANGE when the event
 * came after the latest checkpoint (wait for the next one).
 */
MUST_CHECK int checkpoint_prove_serial(struct ledger *l, uint64_t serial,
    struct checkpoint_proof *out, int *no_checkpoint);

/* A consistency proof between two tree sizes of the stored tree. */
struct checkpoint_consistency {
	uint64_t old_size, new_size;
	uint8_t old_root[MERKLE_HASH_LEN], new_root[MERKLE_HASH_LEN];
	uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
	size_t pathlen;
};
MUST_CHECK int checkpoint_consistency(struct ledger *l, uint64_t old,
    uint64_t new_size, struct checkpoint_consistency *out);

/*
 * Does the ledger extend a saved checkpoint?  note (len bytes) must be a
 * note signed by ledger_pub under its own origin; then the events are
 * hashed afresh (not the stored tree) and the root of the first size
 * events must be its root.  0 when it holds (*size its tree size);
 * ERR_SIG_INVALID / ERR_NOTE_* for a bad note; ERR_LEDGER_BROKEN with a
 * sentence in errbuf naming the tree size where they part (fewer events
 * than that, or another root at that size).
 */
MUST_CHECK int checkpoint_verify_saved(struct ledger *l, const char *note,
    size_t len, const struct pubkey *ledger_pub, uint64_t *size,
    char errbuf[LEDGER_ERR_LEN]);

#endif /* JITCA_CHECKPOINT_H */
