/*
 * merkle.c: RFC 6962 / RFC 9162 Merkle tree hashing, the incremental
 * frontier and the proofs of merkle.h.
 *
 * Proof generation follows the recursive definitions of RFC 9162
 * 2.1.3.1 (PATH) and 2.1.4.1 (SUBPROOF); every range the recursion asks
 * for is either an aligned perfect subtree (served by the subtree
 * accessor when there is one) or the ragged right edge, split again.
 * Verification is the iterative algorithm of 2.1.3.2 and 2.1.4.2, step
 * for step, with the proof length bounded before anything is hashed.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "signer/base/sha256.h"
#include "signer/merkle.h"

static int
sha256_prefixed(uint8_t out[MERKLE_HASH_LEN], uint8_t prefix, const uint8_t *a,
    size_t alen, const uint8_t *b, size_t blen)
{
	EVP_MD_CTX *ctx = NULL;
	int r = ERR_CRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_ALLOC;
	if (EVP_DigestInit_ex(ctx, sha256_md(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, &prefix, 1) != 1 ||
	    (alen > 0 && EVP_DigestUpdate(ctx, a, alen) != 1) ||
	    (blen > 0 && EVP_DigestUpdate(ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(ctx, out, NULL) != 1) {
		err_crypto_set();
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int
merkle_leaf_hash(uint8_t out[MERKLE_HASH_LEN], const uint8_t *data, size_t len)
{
	if (out == NULL || (data == NULL && len != 0))
		return ERR_INVALID_ARG;
	return sha256_prefixed(out, 0x00, data, len, NULL, 0);
}

int
merkle_node_hash(uint8_t out[MERKLE_HASH_LEN],
    const uint8_t left[MERKLE_HASH_LEN], const uint8_t right[MERKLE_HASH_LEN])
{
	uint8_t buf[1 + 2 * MERKLE_HASH_LEN];

	if (out == NULL || left == NULL || right == NULL)
		return ERR_INVALID_ARG;
	/* One shot over one buffer: the node hash is the hot path of every
	 * proof.  (SHA256() would look the digest up each time.) */
	buf[0] = 0x01;
	memcpy(buf + 1, left, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	return sha256(out, buf, sizeof(buf));
}

int
merkle_empty_root(uint8_t out[MERKLE_HASH_LEN])
{
	if (out == NULL)
		return ERR_INVALID_ARG;
	return sha256(out, "", 0);
}

static unsigned
popcount64(uint64_t v)
{
	return (unsigned)__builtin_popcountll(v);
}

void
merkle_tree_init(struct merkle_tree *t)
{
	if (t != NULL)
		memset(t, 0, sizeof(*t));
}

int
merkle_tree_append(struct merkle_tree *t, const uint8_t leaf[MERKLE_HASH_LEN],
    uint8_t made[][MERKLE_HASH_LEN], size_t *nmade)
{
	uint8_t h[MERKLE_HASH_LEN];
	unsigned count, level = 0;
	int r = ERR_INTERNAL;

	if (nmade != NULL)
		*nmade = 0;
	if (t == NULL || leaf == NULL || (made != NULL && nmade == NULL))
		return ERR_INVALID_ARG;
	if (t->size >= MERKLE_SIZE_LIMIT - 1)
		return ERR_MERKLE_RANGE;
	count = popcount64(t->size);
	memcpy(h, leaf, sizeof(h));
	if (made != NULL)
		memcpy(made[0], h, sizeof(h));
	/* Like a binary counter: every trailing 1 bit of the old size is a
	 * subtree of the same height as the new one, so they merge.  Work
	 * on a copy so that t is unchanged on error. */
	while ((t->size >> level) & 1) {
		ENSURE(count > 0, ERR_INTERNAL);
		if ((r = merkle_node_hash(h, t->frontier[count - 1], h)) != 0)
			goto out;
		count--;
		level++;
		if (made != NULL)
			memcpy(made[level], h, sizeof(h));
	}
	memcpy(t->frontier[count], h, sizeof(h));
	t->size++;
	if (nmade != NULL)
		*nmade = (size_t)level + 1;
	r = 0;
out:
	return r;
}

int
merkle_tree_root(const struct merkle_tree *t, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t h[MERKLE_HASH_LEN];
	unsigned count, i;
	int r;

	if (t == NULL || out == NULL)
		return ERR_INVALID_ARG;
	if (t->size >= MERKLE_SIZE_LIMIT)
		return ERR_MERKLE_RANGE;
	if (t->size == 0)
		return merkle_empty_root(out);
	count = popcount64(t->size);
	memcpy(h, t->frontier[count - 1], sizeof(h));
	for (i = count - 1; i > 0; i--)
		if ((r = merkle_node_hash(h, t->frontier[i - 1], h)) != 0)
			return r;
	memcpy(out, h, sizeof(h));
	return 0;
}

int
merkle_tree_encode(
    const struct merkle_tree *t, uint8_t *out, size_t outmax, size_t *len)
{
	size_t need, i;
	unsigned count;

	if (len != NULL)
		*len = 0;
	if (t == NULL || out == NULL || len == NULL)
		return ERR_INVALID_ARG;
	if (t->size >= MERKLE_SIZE_LIMIT)
		return ERR_MERKLE_RANGE;
	count = popcount64(t->size);
	need = 8 + (size_t)count * MERKLE_HASH_LEN;
	if (need > outmax)
		return ERR_BUF_FULL;
	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(t->size >> (56 - 8 * i));
	for (i = 0; i < count; i++)
		memcpy(out + 8 + i * MERKLE_HASH_LEN, t->frontier[i],
		    MERKLE_HASH_LEN);
	*len = need;
	return 0;
}

int
merkle_tree_decode(struct merkle_tree *t, const uint8_t *p, size_t len)
{
	uint64_t size = 0;
	size_t need, i;
	unsigned count;

	if (t == NULL || (p == NULL && len != 0))
		return ERR_INVALID_ARG;
	merkle_tree_init(t);
	if (len < 8)
		return ERR_BUF_SHORT;
	for (i = 0; i < 8; i++)
		size = (size << 8) | p[i];
	if (size >= MERKLE_SIZE_LIMIT)
		return ERR_MERKLE_RANGE;
	count = popcount64(size);
	need = 8 + (size_t)count * MERKLE_HASH_LEN;
	if (len < need)
		return ERR_BUF_SHORT;
	if (len > need)
		return ERR_TRAILING_DATA;
	for (i = 0; i < count; i++)
		memcpy(t->frontier[i], p + 8 + i * MERKLE_HASH_LEN,
		    MERKLE_HASH_LEN);
	t->size = size;
	return 0;
}

/* Largest power of two strictly below n (n >= 2): RFC 9162's k. */
static uint64_t
split_point(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

int
merkle_range_hash(uint8_t out[MERKLE_HASH_LEN], const struct merkle_source *s,
    uint64_t begin, uint64_t end)
{
	uint8_t left[MERKLE_HASH_LEN], right[MERKLE_HASH_LEN];
	uint64_t n, k;
	unsigned level;
	int r;

	if (out == NULL || s == NULL || s->leaf == NULL)
		return ERR_INVALID_ARG;
	if (begin >= end || end > MERKLE_SIZE_LIMIT)
		return ERR_MERKLE_RANGE;
	n = end - begin;
	if (n == 1)
		return s->leaf(s->ctx, out, begin);
	/* An aligned perfect subtree may be stored. */
	if (s->subtree != NULL && (n & (n - 1)) == 0 &&
	    (begin & (n - 1)) == 0) {
		level = (unsigned)__builtin_ctzll(n);
		r = s->subtree(s->ctx, out, level, begin >> level);
		if (r != ERR_NOT_FOUND)
			return r;
	}
	/* Recursion depth is at most 63: each step at least halves n. */
	k = split_point(n);
	if ((r = merkle_range_hash(left, s, begin, begin + k)) != 0 ||
	    (r = merkle_range_hash(right, s, begin + k, end)) != 0)
		return r;
	return merkle_node_hash(out, left, right);
}

/* PATH(m, D[begin:end]) appended to path (RFC 9162 2.1.3.1): the path of
 * the half holding m first, then the other half's hash. */
static int
inclusion_path(uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t *len,
    const struct merkle_source *s, uint64_t m, uint64_t begin, uint64_t end)
{
	uint64_t k;
	int r;

	if (end - begin == 1)
		return 0;
	k = split_point(end - begin);
	if (m < begin + k) {
		if ((r = inclusion_path(path, len, s, m, begin, begin + k)) !=
		    0)
			return r;
		begin += k;
	} else {
		if ((r = inclusion_path(path, len, s, m, begin + k, end)) != 0)
			return r;
		end = begin + k;
	}
	if (*len >= MERKLE_MAX_PATH)
		return ERR_INTERNAL;
	if ((r = merkle_range_hash(path[*len], s, begin, end)) != 0)
		return r;
	(*len)++;
	return 0;
}

int
merkle_inclusion_proof(uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN],
    size_t *pathlen, const struct merkle_source *s, uint64_t index,
    uint64_t size)
{
	size_t len = 0;
	int r;

	if (pathlen != NULL)
		*pathlen = 0;
	if (path == NULL || pathlen == NULL || s == NULL || s->leaf == NULL)
		return ERR_INVALID_ARG;
	if (size >= MERKLE_SIZE_LIMIT || index >= size)
		return ERR_MERKLE_RANGE;
	if ((r = inclusion_path(path, &len, s, index, 0, size)) != 0)
		return r;
	*pathlen = len;
	return 0;
}

int
merkle_inclusion_verify(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index,
    uint64_t size, const uint8_t path[][MERKLE_HASH_LEN], size_t pathlen,
    const uint8_t root[MERKLE_HASH_LEN])
{
	uint8_t h[MERKLE_HASH_LEN];
	uint64_t fn, sn;
	size_t i;
	int r;

	if (leaf == NULL || root == NULL || (path == NULL && pathlen != 0))
		return ERR_INVALID_ARG;
	if (size >= MERKLE_SIZE_LIMIT || index >= size)
		return ERR_MERKLE_RANGE;
	if (pathlen > MERKLE_MAX_PATH)
		return ERR_TOO_LARGE;
	fn = index;
	sn = size - 1;
	memcpy(h, leaf, sizeof(h));
	for (i = 0; i < pathlen; i++) {
		if (sn == 0)
			return ERR_MERKLE_PROOF; /* path too long */
		if ((fn & 1) || fn == sn) {
			if ((r = merkle_node_hash(h, path[i], h)) != 0)
				return r;
			if (!(fn & 1))
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if ((r = merkle_node_hash(h, h, path[i])) != 0)
			return r;
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return ERR_MERKLE_PROOF; /* path too short */
	if (CRYPTO_memcmp(h, root, sizeof(h)) != 0)
		return ERR_MERKLE_PROOF;
	return 0;
}

/* SUBPROOF(m, D[begin:end], complete) of RFC 9162 2.1.4.1 with m the
 * old size counted from leaf 0 (begin <= m <= end). */
static int
consistency_path(uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN], size_t *len,
    const struct merkle_source *s, uint64_t m, uint64_t begin, uint64_t end,
    int complete)
{
	uint64_t k;
	int r;

	if (m == end) {
		if (complete)
			return 0;
	} else {
		k = split_point(end - begin);
		if (m - begin <= k) {
			if ((r = consistency_path(path, len, s, m, begin,
				 begin + k, complete)) != 0)
				return r;
			begin += k;
		} else {
			if ((r = consistency_path(
				 path, len, s, m, begin + k, end, 0)) != 0)
				return r;
			end = begin + k;
		}
	}
	if (*len >= MERKLE_MAX_PATH)
		return ERR_INTERNAL;
	if ((r = merkle_range_hash(path[*len], s, begin, end)) != 0)
		return r;
	(*len)++;
	return 0;
}

int
merkle_consistency_proof(uint8_t path[MERKLE_MAX_PATH][MERKLE_HASH_LEN],
    size_t *pathlen, const struct merkle_source *s, uint64_t old,
    uint64_t new_size)
{
	size_t len = 0;
	int r;

	if (pathlen != NULL)
		*pathlen = 0;
	if (path == NULL || pathlen == NULL || s == NULL || s->leaf == NULL)
		return ERR_INVALID_ARG;
	if (new_size >= MERKLE_SIZE_LIMIT || old > new_size)
		return ERR_MERKLE_RANGE;
	if (old == 0 || old == new_size)
		return 0;
	if ((r = consistency_path(path, &len, s, old, 0, new_size, 1)) != 0)
		return r;
	*pathlen = len;
	return 0;
}

int
merkle_consistency_verify(uint64_t old, uint64_t new_size,
    const uint8_t old_root[MERKLE_HASH_LEN],
    const uint8_t new_root[MERKLE_HASH_LEN],
    const uint8_t path[][MERKLE_HASH_LEN], size_t pathlen)
{
	uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	uint8_t empty[MERKLE_HASH_LEN];
	uint64_t fn, sn;
	size_t i;
	int r;

	if (old_root == NULL || new_root == NULL ||
	    (path == NULL && pathlen != 0))
		return ERR_INVALID_ARG;
	if (new_size >= MERKLE_SIZE_LIMIT || old > new_size)
		return ERR_MERKLE_RANGE;
	if (pathlen > MERKLE_MAX_PATH)
		return ERR_TOO_LARGE;
	if (old == 0) {
		if ((r = merkle_empty_root(empty)) != 0)
			return r;
		if (pathlen != 0 ||
		    CRYPTO_memcmp(empty, old_root, sizeof(empty)) != 0)
			return ERR_MERKLE_PROOF;
		return 0;
	}
	if (old == new_size) {
		if (pathlen != 0 ||
		    CRYPTO_memcmp(old_root, new_root, MERKLE_HASH_LEN) != 0)
			return ERR_MERKLE_PROOF;
		return 0;
	}
	/* 1. An empty path proves nothing between different sizes. */
	if (pathlen == 0)
		return ERR_MERKLE_PROOF;
	/* 2. When old is a power of two its root is the first node. */
	i = 0;
	if ((old & (old - 1)) == 0)
		memcpy(fr, old_root, sizeof(fr));
	else
		memcpy(fr, path[i++], sizeof(fr));
	memcpy(sr, fr, sizeof(sr));
	/* 3, 4. */
	fn = old - 1;
	sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 6. */
	for (; i < pathlen; i++) {
		if (sn == 0)
			return ERR_MERKLE_PROOF;
		if ((fn & 1) || fn == sn) {
			if ((r = merkle_node_hash(fr, path[i], fr)) != 0 ||
			    (r = merkle_node_hash(sr, path[i], sr)) != 0)
				return r;
			if (!(fn & 1))
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else if ((r = merkle_node_hash(sr, sr, path[i])) != 0)
			return r;
		fn >>= 1;
		sn >>= 1;
	}
	/* 7. */
	if (sn != 0 || CRYPTO_memcmp(fr, old_root, sizeof(fr)) != 0 ||
	    CRYPTO_memcmp(sr, new_root, sizeof(sr)) != 0)
		return ERR_MERKLE_PROOF;
	return 0;
}
