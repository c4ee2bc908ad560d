/*
 * test_ed25519.c: unit tests of the fixed-key Ed25519 verification of
 * signer/ed25519.c, against OpenSSL's: the RFC 8032 section 7.1 vectors;
 * thousands of signatures of keys and messages drawn from a seeded
 * generator (a failure names the seed), each accepted by both; every bit
 * of some signatures flipped, the message changed, a bit of the key
 * changed, another key's signature, S + L and S = L, a non-canonical R,
 * random bytes: each refused by both.  Scalars S chosen at the edges of
 * the signed-digit recoding (L - 1, every 8-bit digit -128, -1 carried
 * through every window, ...) under the neutral element as the key, against a
 * reference [S]B in BIGNUM arithmetic written here.  Keys
 * that are no canonical point are refused at ed25519_vkey_new() and left
 * to OpenSSL by pubkey_verify().  And pubkey_verify() through a shared
 * key (the tables) answers as through an unshared copy (OpenSSL), from
 * several threads at once.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "signer/ed25519.h"
#include "signer/err.h"
#include "signer/pubkey.h"
#include "signer/wire.h"

/* ---- a seeded byte stream: SHA-256(seed || counter) ------------------ */
struct drbg {
	uint32_t seed, ctr;
	uint8_t buf[32];
	size_t off;
};

static void
drbg_bytes(struct drbg *g, uint8_t *out, size_t n)
{
	uint8_t in[8];

	while (n > 0) {
		if (g->off == 0 || g->off == sizeof(g->buf)) {
			memcpy(in, &g->seed, 4);
			memcpy(in + 4, &g->ctr, 4);
			g->ctr++;
			cr_assert_eq(EVP_Digest(in, sizeof(in), g->buf, NULL,
					 EVP_sha256(), NULL),
			    1);
			g->off = 0;
		}
		*out++ = g->buf[g->off++];
		n--;
	}
}

/* ---- OpenSSL's side -------------------------------------------------- */
static EVP_PKEY *
key_from_seed(const uint8_t seed[32], uint8_t pk[32])
{
	EVP_PKEY *k =
	    EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	size_t len = 32;

	cr_assert_not_null(k);
	cr_assert_eq(EVP_PKEY_get_raw_public_key(k, pk, &len), 1);
	return k;
}

static void
ossl_sign(EVP_PKEY *k, uint8_t sig[64], const uint8_t *m, size_t n)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 64;

	cr_assert_not_null(ctx);
	cr_assert_eq(EVP_DigestSignInit(ctx, NULL, NULL, NULL, k), 1);
	cr_assert_eq(EVP_DigestSign(ctx, sig, &len, m, n), 1);
	cr_assert_eq(len, 64);
	EVP_MD_CTX_free(ctx);
}

/* 1 when OpenSSL accepts sig by the raw public key pk. */
static int
ossl_ok(const uint8_t pk[32], const uint8_t sig[64], const uint8_t *m, size_t n)
{
	EVP_PKEY *k =
	    EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	cr_assert(k != NULL && ctx != NULL);
	cr_assert_eq(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k), 1);
	ok = EVP_DigestVerify(ctx, sig, 64, m, n) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return ok;
}

static struct ed25519_vkey *
vkey(const uint8_t pk[32])
{
	struct ed25519_vkey *vk = NULL;

	cr_assert_eq(ed25519_vkey_new(&vk, pk), 0);
	cr_assert_not_null(vk);
	cr_assert_eq(memcmp(ed25519_vkey_raw(vk), pk, 32), 0);
	return vk;
}

/* Both verifiers give the answer want (1 accept, 0 refuse). */
static void
both(const struct ed25519_vkey *vk, const uint8_t sig[64], const uint8_t *m,
    size_t n, int want, const char *what)
{
	int ours = ed25519_vkey_verify(vk, sig, m, n);

	cr_assert_eq(
	    ours, want ? 0 : ERR_SIG_INVALID, "%s: ours %d", what, ours);
	cr_assert_eq(ossl_ok(ed25519_vkey_raw(vk), sig, m, n), want,
	    "%s: OpenSSL disagrees", what);
}

static void
unhex(uint8_t *out, const char *h, size_t n)
{
	size_t i;
	unsigned v;

	cr_assert_eq(strlen(h), 2 * n);
	for (i = 0; i < n; i++) {
		cr_assert_eq(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

Test(ed25519, rfc8032_vectors)
{
	static const struct {
		const char *pk, *msg, *sig;
	} v[] = {
	    {"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		"",
		"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		"5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
	    {"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		"72",
		"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
		"085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
	};
	uint8_t pk[32], sig[64], m[1];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ed25519_vkey *vk;

		unhex(pk, v[i].pk, 32);
		unhex(sig, v[i].sig, 64);
		n = strlen(v[i].msg) / 2;
		unhex(m, v[i].msg, n);
		vk = vkey(pk);
		both(vk, sig, m, n, 1, "RFC 8032 vector");
		sig[63] ^= 0x01;
		both(vk, sig, m, n, 0, "RFC 8032 vector, S changed");
		ed25519_vkey_free(vk);
	}
}

/* Seeded keys and messages of every length up to 1200: accepted; the
 * same with one message byte changed, or another key's: refused. */
/* sig of m under pk is refused under pk with bit b changed: by the
 * tables when that is a point, and by OpenSSL either way. */
static void
flipped_key(const uint8_t pk[32], const uint8_t sig[64], const uint8_t *m,
    size_t n, int b, const char *what)
{
	struct ed25519_vkey *vk = NULL;
	uint8_t bad[32];
	int r;

	memcpy(bad, pk, 32);
	bad[(b / 8) % 32] ^= (uint8_t)(1u << (b % 8));
	r = ed25519_vkey_new(&vk, bad);
	if (r == 0) {
		both(vk, sig, m, n, 0, what);
		ed25519_vkey_free(vk);
	} else {
		cr_assert_eq(r, ERR_SIG_INVALID, "%s: key %d", what, r);
		cr_assert_null(vk);
		cr_assert_eq(ossl_ok(bad, sig, m, n), 0, "%s", what);
	}
}

Test(ed25519, agrees_with_openssl_on_seeded_signatures)
{
	struct drbg g = {.seed = 20261202};
	uint8_t seed[32], pk[32], pk2[32], sig[64], sig2[64], m[1200];
	char what[64];
	int key, i;

	for (key = 0; key < 12; key++) {
		EVP_PKEY *k, *k2;
		struct ed25519_vkey *vk;

		drbg_bytes(&g, seed, 32);
		k = key_from_seed(seed, pk);
		drbg_bytes(&g, seed, 32);
		k2 = key_from_seed(seed, pk2);
		vk = vkey(pk);
		for (i = 0; i < 200; i++) {
			size_t n = (size_t)(i * 6 + key) % sizeof(m);

			drbg_bytes(&g, m, n);
			ossl_sign(k, sig, m, n);
			snprintf(what, sizeof(what), "seed %u key %d msg %d",
			    (unsigned)g.seed, key, i);
			both(vk, sig, m, n, 1, what);
			if (n > 0) {
				m[i % n] ^= 0x20;
				both(vk, sig, m, n, 0, what);
				m[i % n] ^= 0x20;
			}
			ossl_sign(k2, sig2, m, n);
			both(vk, sig2, m, n, 0, what);
			if (i % 10 == 0)
				flipped_key(pk, sig, m, n, i * 13 % 256, what);
		}
		ed25519_vkey_free(vk);
		EVP_PKEY_free(k);
		EVP_PKEY_free(k2);
	}
}

Test(ed25519, every_flipped_bit_is_refused)
{
	struct drbg g = {.seed = 7};
	uint8_t seed[32], pk[32], sig[64], bad[64], m[300];
	int s, bit;

	for (s = 0; s < 4; s++) {
		EVP_PKEY *k;
		struct ed25519_vkey *vk;

		drbg_bytes(&g, seed, 32);
		drbg_bytes(&g, m, sizeof(m));
		k = key_from_seed(seed, pk);
		vk = vkey(pk);
		ossl_sign(k, sig, m, sizeof(m));
		both(vk, sig, m, sizeof(m), 1, "unchanged");
		for (bit = 0; bit < 512; bit++) {
			memcpy(bad, sig, 64);
			bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			both(vk, bad, m, sizeof(m), 0, "flipped bit");
		}
		ed25519_vkey_free(vk);
		EVP_PKEY_free(k);
	}
}

/* S + L names the same scalar; S = L is not below L: both refused, as
 * RFC 8032 section 5.1.7 says. */
Test(ed25519, non_canonical_s_is_refused)
{
	static const uint8_t l_be[32] = {0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0x14, 0xde, 0xf9, 0xde, 0xa2, 0xf7, 0x9c, 0xd6, 0x58,
	    0x12, 0x63, 0x1a, 0x5c, 0xf5, 0xd3, 0xed};
	struct drbg g = {.seed = 11};
	uint8_t seed[32], pk[32], sig[64], bad[64], m[40];
	BIGNUM *s = BN_new(), *l = BN_new();
	EVP_PKEY *k;
	struct ed25519_vkey *vk;

	cr_assert(s != NULL && l != NULL);
	drbg_bytes(&g, seed, 32);
	drbg_bytes(&g, m, sizeof(m));
	k = key_from_seed(seed, pk);
	vk = vkey(pk);
	ossl_sign(k, sig, m, sizeof(m));
	cr_assert_not_null(BN_bin2bn(l_be, 32, l));
	cr_assert_not_null(BN_lebin2bn(sig + 32, 32, s));
	cr_assert_eq(BN_add(s, s, l), 1);
	memcpy(bad, sig, 32);
	cr_assert_eq(BN_bn2lebinpad(s, bad + 32, 32), 32);
	both(vk, bad, m, sizeof(m), 0, "S + L");
	cr_assert_eq(BN_bn2lebinpad(l, bad + 32, 32), 32);
	both(vk, bad, m, sizeof(m), 0, "S = L");
	BN_free(s);
	BN_free(l);
	ed25519_vkey_free(vk);
	EVP_PKEY_free(k);
}

Test(ed25519, random_bytes_are_refused)
{
	struct drbg g = {.seed = 3};
	uint8_t seed[32], pk[32], sig[64], m[64];
	EVP_PKEY *k;
	struct ed25519_vkey *vk;
	int i;

	drbg_bytes(&g, seed, 32);
	k = key_from_seed(seed, pk);
	vk = vkey(pk);
	for (i = 0; i < 500; i++) {
		drbg_bytes(&g, sig, 64);
		drbg_bytes(&g, m, sizeof(m));
		if (i % 2 == 0)
			sig[63] &= 0x0f; /* S below 2^252 < L: gets to R' */
		both(vk, sig, m, sizeof(m), 0, "random");
	}
	ed25519_vkey_free(vk);
	EVP_PKEY_free(k);
}

Test(ed25519, keys_that_are_no_point_are_refused)
{
	struct ed25519_vkey *vk = (void *)1;
	uint8_t pk[32];
	char list[128] = "";
	int y, r, found = 0;

	/* y = 2^255 - 1 is not below p. */
	memset(pk, 0xff, 32);
	pk[31] = 0x7f;
	cr_assert_eq(ed25519_vkey_new(&vk, pk), ERR_SIG_INVALID);
	cr_assert_null(vk);
	/* y = 1 is the neutral element, x = 0: the sign bit cannot be 1. */
	memset(pk, 0, 32);
	pk[0] = 1;
	cr_assert_eq(ed25519_vkey_new(&vk, pk), 0);
	ed25519_vkey_free(vk);
	pk[31] = 0x80;
	cr_assert_eq(ed25519_vkey_new(&vk, pk), ERR_SIG_INVALID);
	/* The y below 40 for which (y^2 - 1) / (d y^2 + 1) is no square
	 * mod p (Euler's criterion, worked out apart from this code). */
	for (y = 2; y < 40; y++) {
		memset(pk, 0, 32);
		pk[0] = (uint8_t)y;
		r = ed25519_vkey_new(&vk, pk);
		if (r == ERR_SIG_INVALID)
			found += snprintf(list + found,
			    sizeof(list) - (size_t)found, " %d", y);
		else {
			cr_assert_eq(r, 0, "y = %d", y);
			ed25519_vkey_free(vk);
		}
	}
	cr_assert_str_eq(list, " 2 7 8 11 12 13 17 20 22 31 34 36 38");
}

Test(ed25519, bad_arguments)
{
	uint8_t pk[32], sig[64] = {0};
	struct ed25519_vkey *vk;

	memset(pk, 0, 32);
	pk[0] = 1;
	vk = vkey(pk);
	cr_assert_eq(ed25519_vkey_verify(NULL, sig, NULL, 0), ERR_INVALID_ARG);
	cr_assert_eq(ed25519_vkey_verify(vk, NULL, NULL, 0), ERR_INVALID_ARG);
	cr_assert_eq(ed25519_vkey_verify(vk, sig, NULL, 3), ERR_INVALID_ARG);
	ed25519_vkey_free(vk);
	ed25519_vkey_free(NULL);
}

/* ---- a reference [s]B in BIGNUM affine arithmetic -------------------
 * Independent of ed25519.c: x3 = (x1 y2 + y1 x2) / (1 + d x1 x2 y1 y2),
 * y3 = (y1 y2 + x1 x2) / (1 - d x1 x2 y1 y2), double and add from the
 * top bit, the base point from y = 4/5 and its even x. */
struct ref {
	BN_CTX *ctx;
	BIGNUM *p, *d, *bx, *by;
};

static BIGNUM *
bn_new(void)
{
	BIGNUM *b = BN_new();

	cr_assert_not_null(b);
	return b;
}

static void
ref_add(
    struct ref *r, BIGNUM *x1, BIGNUM *y1, const BIGNUM *x2, const BIGNUM *y2)
{
	BIGNUM *t = bn_new(), *u = bn_new(), *v = bn_new(), *w = bn_new();
	BIGNUM *nx = bn_new(), *ny = bn_new();

	cr_assert(BN_mod_mul(t, x1, x2, r->p, r->ctx) == 1 &&
	    BN_mod_mul(u, y1, y2, r->p, r->ctx) == 1 &&
	    BN_mod_mul(v, t, u, r->p, r->ctx) == 1 &&
	    BN_mod_mul(v, v, r->d, r->p, r->ctx) == 1); /* d x1 x2 y1 y2 */
	cr_assert(BN_mod_add(ny, u, t, r->p, r->ctx) == 1 &&
	    BN_mod_mul(t, x1, y2, r->p, r->ctx) == 1 &&
	    BN_mod_mul(u, y1, x2, r->p, r->ctx) == 1 &&
	    BN_mod_add(nx, t, u, r->p, r->ctx) == 1);
	cr_assert(BN_one(w) == 1 && BN_mod_add(t, w, v, r->p, r->ctx) == 1 &&
	    BN_mod_sub(u, w, v, r->p, r->ctx) == 1 &&
	    BN_mod_inverse(t, t, r->p, r->ctx) != NULL &&
	    BN_mod_inverse(u, u, r->p, r->ctx) != NULL &&
	    BN_mod_mul(x1, nx, t, r->p, r->ctx) == 1 &&
	    BN_mod_mul(y1, ny, u, r->p, r->ctx) == 1);
	BN_free(t);
	BN_free(u);
	BN_free(v);
	BN_free(w);
	BN_free(nx);
	BN_free(ny);
}

static void
ref_init(struct ref *r)
{
	BIGNUM *t = bn_new(), *u = bn_new();

	cr_assert_not_null(r->ctx = BN_CTX_new());
	r->p = bn_new();
	r->d = bn_new();
	r->bx = bn_new();
	r->by = bn_new();
	/* p = 2^255 - 19, d = -121665 / 121666 */
	cr_assert(BN_set_bit(r->p, 255) == 1 && BN_sub_word(r->p, 19) == 1);
	cr_assert(BN_set_word(t, 121666) == 1 &&
	    BN_mod_inverse(t, t, r->p, r->ctx) != NULL &&
	    BN_set_word(u, 121665) == 1 &&
	    BN_mod_mul(t, t, u, r->p, r->ctx) == 1 &&
	    BN_mod_sub(r->d, r->p, t, r->p, r->ctx) == 1);
	/* y = 4/5, x = the even root of (y^2 - 1) / (d y^2 + 1) */
	cr_assert(BN_set_word(t, 5) == 1 &&
	    BN_mod_inverse(t, t, r->p, r->ctx) != NULL &&
	    BN_mul_word(t, 4) == 1 && BN_nnmod(r->by, t, r->p, r->ctx) == 1);
	cr_assert(BN_mod_sqr(t, r->by, r->p, r->ctx) == 1 &&
	    BN_mod_mul(u, t, r->d, r->p, r->ctx) == 1 &&
	    BN_add_word(u, 1) == 1 && BN_sub_word(t, 1) == 1 &&
	    BN_mod_inverse(u, u, r->p, r->ctx) != NULL &&
	    BN_mod_mul(t, t, u, r->p, r->ctx) == 1 &&
	    BN_mod_sqrt(r->bx, t, r->p, r->ctx) != NULL);
	if (BN_is_odd(r->bx))
		cr_assert_eq(BN_sub(r->bx, r->p, r->bx), 1);
	BN_free(t);
	BN_free(u);
}

static void
ref_free(struct ref *r)
{
	BN_free(r->p);
	BN_free(r->d);
	BN_free(r->bx);
	BN_free(r->by);
	BN_CTX_free(r->ctx);
}

/* enc = the RFC 8032 encoding of [s]B, s little-endian. */
static void
ref_mul_base(struct ref *r, uint8_t enc[32], const uint8_t s[32])
{
	BIGNUM *x = bn_new(), *y = bn_new(), *dx = bn_new(), *dy = bn_new();
	int i;

	BN_zero(x);
	cr_assert_eq(BN_one(y), 1);
	for (i = 255; i >= 0; i--) {
		cr_assert(BN_copy(dx, x) != NULL && BN_copy(dy, y) != NULL);
		ref_add(r, x, y, dx, dy);
		if ((s[i / 8] >> (i % 8)) & 1)
			ref_add(r, x, y, r->bx, r->by);
	}
	cr_assert_eq(BN_bn2lebinpad(y, enc, 32), 32);
	enc[31] |= (uint8_t)(BN_is_odd(x) << 7);
	BN_free(x);
	BN_free(y);
	BN_free(dx);
	BN_free(dy);
}

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t l_le[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
    0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0x10};

/*
 * Under the neutral element as the key (A = (0, 1), which OpenSSL
 * accepts too), R' = [S]B whatever k is, so S is ours to choose: the
 * digit patterns at the edges of the recoding (every digit the most
 * negative one, -1 carried through every window, the largest positive
 * digit, L - 1, single large digits in each window) each verify with R
 * from the reference, and refuse with R's bit 0 flipped or with S + 1.
 */
Test(ed25519, chosen_scalars_agree_with_a_reference)
{
	struct drbg g = {.seed = 5};
	struct ref ref = {0};
	uint8_t pk[32] = {1}, s[40][32], sig[64], m[16] = "chosen scalars";
	char what[64];
	struct ed25519_vkey *vk;
	int n = 0, i, j;

	ref_init(&ref);
	/* [1]B is the base point's RFC 8032 encoding. */
	memset(s[0], 0, 32);
	s[0][0] = 1;
	ref_mul_base(&ref, sig, s[0]);
	cr_assert_eq(sig[0], 0x58);
	for (i = 1; i < 32; i++)
		cr_assert_eq(sig[i], 0x66);
	memset(s[n++], 0, 32); /* 0: R is the neutral element */
	memset(s[n], 0, 32);
	s[n++][0] = 2;
	memcpy(s[n], l_le, 32); /* L - 1 */
	s[n++][0] -= 1;
	memcpy(s[n], l_le, 32); /* L - 2 */
	s[n++][0] -= 2;
	memset(s[n], 0xff, 32); /* 2^252 - 1: -1 carried through all */
	s[n++][31] = 0x0f;
	memset(s[n], 0x80, 32); /* 0x80 in each byte: -128, then -127 */
	s[n++][31] = 0x0f;
	memset(s[n], 0x7f, 32); /* the largest digit, no carry */
	s[n++][31] = 0x0f;
	memset(s[n], 0x7f, 32); /* 80 7f..7f 0f: every 8-bit digit -128 */
	s[n][0] = 0x80;
	s[n++][31] = 0x0f;
	memset(s[n], 0x40, 32); /* 7-bit windows: 64s and carries */
	s[n++][31] = 0x0f;
	memset(s[n], 0, 32); /* 2^252: only the top digit */
	s[n++][31] = 0x10;
	for (i = 0; i < 31; i += 5) {
		memset(s[n], 0, 32);
		s[n++][i] = 0x80;
		memset(s[n], 0xff, 32);
		s[n][i] = 0x7f;
		s[n++][31] = 0x0f;
	}
	for (i = 0; i < 10; i++) {
		drbg_bytes(&g, s[n], 32);
		s[n++][31] &= 0x0f;
	}
	cr_assert_leq(n, 40);
	vk = vkey(pk);
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "scalar %d", i);
		ref_mul_base(&ref, sig, s[i]);
		memcpy(sig + 32, s[i], 32);
		both(vk, sig, m, sizeof(m), 1, what);
		sig[0] ^= 1;
		both(vk, sig, m, sizeof(m), 0, what);
		sig[0] ^= 1;
		for (j = 32; j < 64 && ++sig[j] == 0; j++)
			;
		both(vk, sig, m, sizeof(m), 0, what); /* S + 1 (or >= L) */
	}
	ed25519_vkey_free(vk);
	ref_free(&ref);
}

/* R as a non-canonical encoding: y = p + 1 names the neutral element
 * (as y = 1 does), and x = 0 with the sign bit set is -0: refused. */
Test(ed25519, non_canonical_r_is_refused)
{
	uint8_t pk[32] = {1}, sig[64] = {1}, m[3] = {'a', 'b', 'c'};
	struct ed25519_vkey *vk = vkey(pk);

	both(vk, sig, m, sizeof(m), 1, "R = (0, 1), S = 0");
	memset(sig, 0xff, 32);
	sig[0] = 0xee; /* y = 2^255 - 18 = p + 1 */
	sig[31] = 0x7f;
	both(vk, sig, m, sizeof(m), 0, "y = p + 1");
	memset(sig, 0, 32);
	sig[0] = 1;
	sig[31] = 0x80;
	both(vk, sig, m, sizeof(m), 0, "x = -0");
	ed25519_vkey_free(vk);
}

/* ---- through pubkey_verify(): a shared key and an unshared copy ------ */
static struct pubkey *
parse_raw(const uint8_t pk[32])
{
	struct pubkey *k = NULL;
	struct wire *b = wire_new(128);

	cr_assert_not_null(b);
	cr_assert_eq(wire_put_cstring(b, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(b, pk, 32), 0);
	cr_assert_eq(pubkey_from_blob(&k, wire_ptr(b), wire_len(b)), 0);
	wire_free(b);
	return k;
}

static struct wire *
ssh_blob(const uint8_t sig[64])
{
	struct wire *w = wire_new(128);

	cr_assert_not_null(w);
	cr_assert_eq(wire_put_cstring(w, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(w, sig, 64), 0);
	return w;
}

struct pv_arg {
	const struct pubkey *k;
	const struct wire *good, *bad;
	const uint8_t *m;
	size_t n;
	int fails;
};

static void *
pv_thread(void *p)
{
	struct pv_arg *a = p;
	int i;

	for (i = 0; i < 300; i++) {
		if (pubkey_verify(a->k, wire_ptr(a->good), wire_len(a->good),
			a->m, a->n, NULL) != 0)
			a->fails++;
		if (pubkey_verify(a->k, wire_ptr(a->bad), wire_len(a->bad),
			a->m, a->n, NULL) != ERR_SIG_INVALID)
			a->fails++;
	}
	return NULL;
}

Test(ed25519, pubkey_verify_uses_the_tables_of_a_shared_key)
{
	struct drbg g = {.seed = 99};
	uint8_t seed[32], pk[32], sig[64], m[500];
	struct pubkey *before, *shared, *copy;
	struct wire *good, *bad;
	struct pv_arg args[4];
	pthread_t th[4];
	EVP_PKEY *k;
	int i;

	drbg_bytes(&g, seed, 32);
	drbg_bytes(&g, m, sizeof(m));
	k = key_from_seed(seed, pk);
	ossl_sign(k, sig, m, sizeof(m));
	good = ssh_blob(sig);
	sig[40] ^= 0x04;
	bad = ssh_blob(sig);
	/* Not shared: OpenSSL verifies. */
	before = parse_raw(pk);
	cr_assert_null(pubkey_vkey(before));
	cr_assert_eq(pubkey_verify(before, wire_ptr(good), wire_len(good), m,
			 sizeof(m), NULL),
	    0);
	cr_assert_eq(pubkey_verify(before, wire_ptr(bad), wire_len(bad), m,
			 sizeof(m), NULL),
	    ERR_SIG_INVALID);
	/* Shared: the tables verify, for the key and for any copy. */
	shared = parse_raw(pk);
	cr_assert_eq(pubkey_share(shared), 0);
	copy = parse_raw(pk);
	cr_assert_not_null(pubkey_vkey(shared));
	cr_assert_eq(pubkey_vkey(copy), pubkey_vkey(shared));
	cr_assert_eq(pubkey_vkey(before), pubkey_vkey(shared));
	for (i = 0; i < 4; i++) {
		args[i] = (struct pv_arg){.k = i % 2 ? copy : shared,
		    .good = good,
		    .bad = bad,
		    .m = m,
		    .n = sizeof(m)};
		cr_assert_eq(
		    pthread_create(&th[i], NULL, pv_thread, &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		cr_assert_eq(pthread_join(th[i], NULL), 0);
		cr_assert_eq(args[i].fails, 0, "thread %d", i);
	}
	pubkey_free(before);
	pubkey_free(shared);
	pubkey_free(copy);
	wire_free(good);
	wire_free(bad);
	EVP_PKEY_free(k);
}
