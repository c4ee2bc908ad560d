/*
 * merkle.h: the Merkle hash tree of RFC 6962 section 2.1 / RFC 9162
 * section 2.1 over the ledger's events: leaf and node hashes, an
 * incremental tree state, inclusion and consistency proofs and their
 * verification.
 *
 * Hashes are SHA-256: a leaf is SHA-256(0x00 || data), a node
 * SHA-256(0x01 || left || right), the empty tree SHA-256("").  Tree sizes
 * are below MERKLE_SIZE_LIMIT (2^63), so no proof is longer than
 * MERKLE_MAX_PATH hashes; every proof array here has that many slots.
 *
 * struct merkle_tree is the "frontier" (compact range) of a tree of size
 * n: the roots of the perfect subtrees that the binary digits of n name,
 * largest (leftmost) first, popcount(n) of them.  Appending a leaf and
 * computing the root are O(log n); the store persists the frontier with
 * merkle_tree_encode().  Appending also reports the perfect subtrees it
 * completed, so a store may keep them and answer subtree queries.
 *
 * Proofs are generated from a struct merkle_source: a leaf-hash accessor
 * (required) and an optional accessor for the hash of an aligned perfect
 * subtree (2^level leaves from index * 2^level).  With leaves only a
 * proof costs O(n) hashes (0.6 s at 1M leaves); with the subtrees that
 * merkle_tree_append() reports (about two hashes per leaf in all) it
 * costs about log2(n) lookups (10 us at 1M leaves).  Nothing here
 * allocates: proofs go into caller arrays, the tree is a plain struct.
 * The store (ca/store/chain.c) owns where the hashes live; this file only
 * computes.
 */
#ifndef JITCA_MERKLE_H
#define JITCA_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

#define MERKLE_HASH_LEN 32
/* Tree sizes and leaf indexes are below this (2^63). */
#define MERKLE_SIZE_LIMIT (UINT64_C(1) << 63)
/* Longest proof (and most frontier entries) for such sizes. */
#define MERKLE_MAX_PATH 64
/* merkle_tree_encode(): u64 size, then popcount(size) hashes. */
#define MERKLE_TREE_MAX_ENCODED (8 + 63 * MERKLE_HASH_LEN)

struct merkle_tree {
	uint64_t size;
	/* popcount(size) perfect subtree roots, largest first. */
	uint8_t frontier[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
};

/* SHA-256(0x00 || data). */
MUST_CHECK int merkle_leaf_hash(
    uint8_t out[MERKLE_HASH_LEN], const uint8_t *data, size_t len);
/* SHA-256(0x01 || left || right). */
MUST_CHECK int merkle_node_hash(uint8_t out[MERKLE_HASH_LEN],
    const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN]);
/* Root of the empty tree: SHA-256 of nothing. */
MUST_CHECK int merkle_empty_root(uint8_t out[MERKLE_HASH_LEN]);

/* The empty tree. */
void merkle_tree_init(struct merkle_tree *t);
/*
 * Append one leaf hash (leaf index t->size).  When made is non-NULL it
 * receives the perfect subtrees this completed: made[l] is the subtree of
 * 2^l leaves at index (old size >> l), for l < *nmade (made[0] is the
 * leaf itself); nmade may be NULL only when made is.  ERR_MERKLE_RANGE
 * when the tree is full; t is unchanged on any error.
 */
MUST_CHECK int merkle_tree_append(struct merkle_tree *t,
    const uint8_t leaf[MERKLE_HASH_LEN], uint8_t made[][MERKLE_HASH_LEN],
    size_t *nmade);
/* Root hash MTH of the tree (the empty root for size 0). */
MUST_CHECK int merkle_tree_root(
    const struct merkle_tree *t, uint8_t out[MERKLE_HASH_LEN]);
/* Serialise into out (room for outmax bytes; MERKLE_TREE_MAX_ENCODED is
 * always enough): big-endian u64 size, then the frontier.  *len is set. */
MUST_CHECK int merkle_tree_encode(
    const struct merkle_tree *t, uint8_t *out, size_t outmax, size_t *len);
/* Strict inverse: size below the limit, exactly popcount(size) hashes,
 * nothing after (ERR_BUF_SHORT, ERR_TRAILING_DATA, ERR_MERKLE_RANGE). */
MUST_CHECK int merkle_tree_decode(
    struct merkle_tree *t, const uint8_t *p, size_t len);

/* Leaf hash at index into out; non-zero to fail the proof with it. */
typedef int merkle_leaf_fn(
    void *ctx, uint8_t out[MERKLE_HASH_LEN], uint64_t index);
/* Hash of the perfect subtree of 2^level leaves starting at leaf
 * index << level (level >= 1); ERR_NOT_FOUND to make the caller compute
 * it from below, any other non-zero code fails the proof. */
typedef int merkle_subtree_fn(
    void *ctx, uint8_t out[MERKLE_HASH_LEN], unsigned level, uint64_t index);

struct merkle_source {
	merkle_leaf_fn *leaf; /* required */
	merkle_subtree_fn *subtree; /* NULL: leaves only */
	void *ctx;
};

/* MTH(D[begin:end]) for begin < end (the root of size end when begin is
 * 0). */
MUST_CHECK int merkle_range_hash(uint8_t out[MERKLE_HASH_LEN],
    const struct merkle_source *s, uint64_t begin, uint64_t end);

/* RFC 9162 2.1.3.1 audit path of leaf index in the tree of size
 * size, bottom-up, into path; *pathlen hashes.  ERR_MERKLE_RANGE unless
 * index < size < MERKLE_SIZE_LIMIT. */
MUST_CHECK int merkle_inclusion_proof(
    uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t *pathlen,
    const struct merkle_source *s, uint64_t index, uint64_t size);
/* RFC 9162 2.1.3.2: 0 when path proves leaf at index in the tree of size
 * size with root root; ERR_MERKLE_PROOF when it does not (including a
 * path of the wrong length), ERR_MERKLE_RANGE for index >= size or a
 * size over the limit, ERR_TOO_LARGE for pathlen > MERKLE_MAX_PATH. */
MUST_CHECK int merkle_inclusion_verify(const uint8_t leaf[MERKLE_HASH_LEN],
    uint64_t index, uint64_t size, const uint8_t path[][MERKLE_HASH_LEN],
    size_t pathlen, const uint8_t root[MERKLE_HASH_LEN]);

/* RFC 9162 2.1.4.1 consistency proof from size old to size new
 * (0 <= old <= new < MERKLE_SIZE_LIMIT; empty when old is 0 or new). */
MUST_CHECK int merkle_consistency_proof(
    uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t *pathlen,
    const struct merkle_source *s, uint64_t old, uint64_t new_size);
/* RFC 9162 2.1.4.2: 0 when path proves that the tree of size old with
 * root old_root is a prefix of the tree of size new_size with root
 * new_root.  Equal sizes need an empty path and equal roots; old 0 needs
 * an empty path and old_root the empty root.  Errors as for
 * merkle_inclusion_verify(). */
MUST_CHECK int merkle_consistency_verify(uint64_t old, uint64_t new_size,
    const uint8_t old_root[MERKLE_HASH_LEN],
    const uint8_t new_root[MERKLE_HASH_LEN],
    const uint8_t path[][MERKLE_HASH_LEN], size_t pathlen);

#endif /* JITCA_MERKLE_H */
