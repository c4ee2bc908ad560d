/*
 * ed25519.c: fixed-key Ed25519 verification of ed25519.h.
 *
 * The arithmetic, written here from RFC 8032 and the curve's definition:
 * the field GF(p), p = 2^255 - 19, in five 51-bit limbs (products in
 * unsigned __int128); points of -x^2 + y^2 = 1 + d x^2 y^2 in extended
 * coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, added with the
 * unified formula of Hisil, Wong, Carter and Dawson (2008, "add-2008-
 * hwcd-3"), which is complete on this curve (d is not a square), so the
 * neutral element and doublings need no special case.  Every constant
 * is derived at start from its definition (d = -121665/121666, the base
 * point from its RFC 8032 encoding, sqrt(-1) = 2^((p-1)/4)) and checked.
 *
 * A table for w-bit digits holds, for i = 0..ceil(253/w) - 1 and j =
 * 1..2^(w-1), the point j 2^(w i) P in affine form (y + x, y - x,
 * 2dxy); a scalar below 2^253 is recoded into signed w-bit digits, and
 * [s]P is the sum of one table entry (or its negation) per nonzero
 * digit, each a mixed addition of 7 fe_mul and no carry outside them
 * (the bounds are worked out at fe_mul()).  The base point's table
 * (w = 8: 32 rows of 128, 480 KiB, in C) is made once per process; a
 * key's (w = 7: 37 rows of 64, 277.5 KiB, allocated with the key) when
 * ed25519_vkey_new() is called.  So a verify is 32 + 37 = 69 additions
 * (the last without T) and one inversion.  Each row is brought to affine
 * with one inversion (Montgomery's trick).  A process holds at most
 * three keys' tables (the user CA, host CA and ledger keys, pubkey.c's
 * pubkey_share()): 1.3 MiB with the base point's.
 * Scalars modulo L and the comparison S < L use OpenSSL's BIGNUM; the
 * hash is OpenSSL's SHA-512.
 *
 * Every value is public (a signature, its message, a public key), so
 * branches and table indices depend on data freely.  Only verification
 * lives here; signing stays with OpenSSL or the token (cakey.c, p11.c).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "signer/ed25519.h"

/* ---- the field --------------------------------------------------------
 * Every fe leaving fe_mul(), fe_sq() or fe_carry() is weakly reduced:
 * limbs 0, 2, 3, 4 below 2^51 and limb 1 below 2^51 + 2^12 (fe_mul()
 * says why), "W" below.  fe_add() and fe_sub() carry, so their sums are
 * W too.  The additions inside a point addition skip the carry
 * (fe_add_nc(), fe_sub_nc()): their limbs stay below 2^53 + 2^14, and
 * fe_mul() takes any two such operands (the bound it needs is on the
 * product of the operands' largest limbs, at most 2^107).
 */
typedef struct {
	uint64_t v[5];
} fe;

typedef unsigned __int128 u128;

#define M51 ((UINT64_C(1) << 51) - 1)

static void
fe_small(fe *h, uint64_t x)
{
	h->v[0] = x;
	h->v[1] = h->v[2] = h->v[3] = h->v[4] = 0;
}

/* Carry each limb into the next; the top carry wraps times 19 (2^255 =
 * 19 mod p).  Inputs below 2^63 per limb. */
static void
fe_carry(fe *h)
{
	uint64_t c;

	c = h->v[0] >> 51;
	h->v[0] &= M51;
	h->v[1] += c;
	c = h->v[1] >> 51;
	h->v[1] &= M51;
	h->v[2] += c;
	c = h->v[2] >> 51;
	h->v[2] &= M51;
	h->v[3] += c;
	c = h->v[3] >> 51;
	h->v[3] &= M51;
	h->v[4] += c;
	c = h->v[4] >> 51;
	h->v[4] &= M51;
	h->v[0] += 19 * c;
	c = h->v[0] >> 51;
	h->v[0] &= M51;
	h->v[1] += c;
}

static void
fe_add(fe *h, const fe *f, const fe *g)
{
	int i;

	for (i = 0; i < 5; i++)
		h->v[i] = f->v[i] + g->v[i];
	fe_carry(h);
}

/* f - g as f + 4p - g: 4p's limbs exceed any weakly reduced limb. */
static void
fe_sub(fe *h, const fe *f, const fe *g)
{
	static const uint64_t p4[5] = {UINT64_C(0x1fffffffffffb4),
	    UINT64_C(0x1ffffffffffffc), UINT64_C(0x1ffffffffffffc),
	    UINT64_C(0x1ffffffffffffc), UINT64_C(0x1ffffffffffffc)};
	int i;

	for (i = 0; i < 5; i++)
		h->v[i] = f->v[i] + p4[i] - g->v[i];
	fe_carry(h);
}

static void
fe_neg(fe *h, const fe *f)
{
	fe z;

	fe_small(&z, 0);
	fe_sub(h, &z, f);
}

/* h = f + g without the carry: limbs below 2^52 + 2^13 for W inputs,
 * below 2^53 + 2^14 for inputs below 2^52 + 2^13. */
static void
fe_add_nc(fe *h, const fe *f, const fe *g)
{
	int i;

	for (i = 0; i < 5; i++)
		h->v[i] = f->v[i] + g->v[i];
}

/* h = f + 2p - g without the carry, for W g: 2p's limbs (2^52 - 38,
 * 2^52 - 2) are at least W's, so no limb goes below 0, and each is
 * below f's limb + 2^52, at most 2^53 + 2^13 for f below 2^52 + 2^13. */
static void
fe_sub_nc(fe *h, const fe *f, const fe *g)
{
	static const uint64_t p2[5] = {UINT64_C(0xfffffffffffda),
	    UINT64_C(0xffffffffffffe), UINT64_C(0xffffffffffffe),
	    UINT64_C(0xffffffffffffe), UINT64_C(0xffffffffffffe)};
	int i;

	for (i = 0; i < 5; i++)
		h->v[i] = f->v[i] + p2[i] - g->v[i];
}

/* h from the five wide sums of fe_mul() or fe_sq(): each carried into
 * the next, the top one wrapped times 19 (bounds at fe_mul()). */
static inline __attribute__((always_inline)) void
fe_carry_wide(fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
	uint64_t c;

	r1 += (uint64_t)(r0 >> 51);
	h->v[0] = (uint64_t)r0 & M51;
	r2 += (uint64_t)(r1 >> 51);
	h->v[1] = (uint64_t)r1 & M51;
	r3 += (uint64_t)(r2 >> 51);
	h->v[2] = (uint64_t)r2 & M51;
	r4 += (uint64_t)(r3 >> 51);
	h->v[3] = (uint64_t)r3 & M51;
	c = (uint64_t)(r4 >> 51);
	h->v[4] = (uint64_t)r4 & M51;
	r0 = (u128)c * 19 + h->v[0];
	h->v[0] = (uint64_t)r0 & M51;
	h->v[1] += (uint64_t)(r0 >> 51);
}

/*
 * h = f g, for f's limbs at most F and g's at most G with F G <= 2^107
 * and G < 2^59 (so that 19 g_i fits 64 bits).  Each r_k is a sum of
 * five products, r0 the largest with 1 + 4 * 19 = 77 of them counted:
 * r0 <= 77 F G < 2^114, r1 <= 59 F G, r2 <= 41 F G, r3 <= 23 F G, each
 * plus the carry from below (under 2^63), all below 2^128.  r4 <= 5 F G
 * + 2^61 < 2^109.4, so its carry c is below 2^58.4 and fits 64 bits;
 * 19 c + h0 < 2^62.7, whose carry into h1 is below 2^11.7: h is W.
 * The operands met here: W (below 2^51 + 2^12), fe_add_nc() of two W
 * (below 2^52 + 2^13) and fe_sub_nc() or fe_add_nc() of one of those
 * and a W (below 2^53 + 2^14); any two multiply to below 2^106.01.
 * Inlined (as fe_sq() is): the call's register saves were a tenth of
 * a verify.
 */
static inline __attribute__((always_inline)) void
fe_mul(fe *h, const fe *f, const fe *g)
{
	const uint64_t *a = f->v, *b = g->v;
	uint64_t b1 = 19 * b[1], b2 = 19 * b[2], b3 = 19 * b[3], b4 = 19 * b[4];
	u128 r0, r1, r2, r3, r4;

	r0 = (u128)a[0] * b[0] + (u128)a[1] * b4 + (u128)a[2] * b3 +
	    (u128)a[3] * b2 + (u128)a[4] * b1;
	r1 = (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * b4 +
	    (u128)a[3] * b3 + (u128)a[4] * b2;
	r2 = (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0] +
	    (u128)a[3] * b4 + (u128)a[4] * b3;
	r3 = (u128)a[0] * b[3] + (u128)a[1] * b[2] + (u128)a[2] * b[1] +
	    (u128)a[3] * b[0] + (u128)a[4] * b4;
	r4 = (u128)a[0] * b[4] + (u128)a[1] * b[3] + (u128)a[2] * b[2] +
	    (u128)a[3] * b[1] + (u128)a[4] * b[0];

	fe_carry_wide(h, r0, r1, r2, r3, r4);
}

/*
 * h = f^2: fe_mul(h, f, f) with the products a_i a_j and a_j a_i taken
 * once and doubled (15 products instead of 25).  The sums are fe_mul's
 * term by term (r0 = a0^2 + 2 * 19 (a1 a4 + a2 a3), ...), so are its
 * bounds: f's limbs at most F with F^2 <= 2^107.
 */
static inline __attribute__((always_inline)) void
fe_sq(fe *h, const fe *f)
{
	const uint64_t *a = f->v;
	uint64_t d0 = 2 * a[0], d1 = 2 * a[1], d2 = 2 * a[2], d3 = 2 * a[3];
	uint64_t a3_19 = 19 * a[3], a4_19 = 19 * a[4];
	u128 r0, r1, r2, r3, r4;

	r0 = (u128)a[0] * a[0] + (u128)d1 * a4_19 + (u128)d2 * a3_19;
	r1 = (u128)d0 * a[1] + (u128)d2 * a4_19 + (u128)a[3] * a3_19;
	r2 = (u128)d0 * a[2] + (u128)a[1] * a[1] + (u128)d3 * a4_19;
	r3 = (u128)d0 * a[3] + (u128)d1 * a[2] + (u128)a[4] * a4_19;
	r4 = (u128)d0 * a[4] + (u128)d1 * a[3] + (u128)a[2] * a[2];

	fe_carry_wide(h, r0, r1, r2, r3, r4);
}

/* h = f^(2^n). */
static void
fe_sqn(fe *h, const fe *f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

/*
 * h = f^e for the 256-bit little-endian exponent e, square and multiply
 * from the top bit.  For the constants and the square root, made once
 * per key.
 */
static void
fe_pow(fe *h, const fe *f, const uint8_t e[32])
{
	fe r;
	int i;

	fe_small(&r, 1);
	for (i = 255; i >= 0; i--) {
		fe_sq(&r, &r);
		if ((e[i / 8] >> (i % 8)) & 1)
			fe_mul(&r, &r, f);
	}
	*h = r;
}

/*
 * h = 1/f = f^(p-2), p - 2 = 2^255 - 21, by a fixed chain of 254
 * squarings and 11 multiplications (the names say which power of f
 * each holds).  Once per verification.
 */
static void
fe_invert(fe *h, const fe *f)
{
	fe f2, f9, f11, e5, e10, e20, e40, e50, e100, t;

	fe_sq(&f2, f);
	fe_sqn(&t, &f2, 2); /* f^8 */
	fe_mul(&f9, &t, f);
	fe_mul(&f11, &f9, &f2);
	fe_sq(&t, &f11); /* f^22 */
	fe_mul(&e5, &t, &f9); /* f^(2^5 - 1) */
	fe_sqn(&t, &e5, 5);
	fe_mul(&e10, &t, &e5); /* f^(2^10 - 1) */
	fe_sqn(&t, &e10, 10);
	fe_mul(&e20, &t, &e10);
	fe_sqn(&t, &e20, 20);
	fe_mul(&e40, &t, &e20);
	fe_sqn(&t, &e40, 10);
	fe_mul(&e50, &t, &e10);
	fe_sqn(&t, &e50, 50);
	fe_mul(&e100, &t, &e50);
	fe_sqn(&t, &e100, 100);
	fe_mul(&t, &t, &e100); /* f^(2^200 - 1) */
	fe_sqn(&t, &t, 50);
	fe_mul(&t, &t, &e50); /* f^(2^250 - 1) */
	fe_sqn(&t, &t, 5); /* f^(2^255 - 32) */
	fe_mul(h, &t, &f11);
}

/* The canonical 32 bytes of f (the least residue, little-endian). */
static void
fe_tobytes(uint8_t s[32], const fe *f)
{
	fe h = *f;
	uint64_t q, w[4];
	int i;

	fe_carry(&h);
	fe_carry(&h); /* every limb below 2^51: 0 <= h < 2^255 */
	/* q = 1 exactly when h >= p, i.e. h + 19 >= 2^255. */
	q = (h.v[0] + 19) >> 51;
	q = (h.v[1] + q) >> 51;
	q = (h.v[2] + q) >> 51;
	q = (h.v[3] + q) >> 51;
	q = (h.v[4] + q) >> 51;
	h.v[0] += 19 * q;
	h.v[1] += h.v[0] >> 51;
	h.v[0] &= M51;
	h.v[2] += h.v[1] >> 51;
	h.v[1] &= M51;
	h.v[3] += h.v[2] >> 51;
	h.v[2] &= M51;
	h.v[4] += h.v[3] >> 51;
	h.v[3] &= M51;
	h.v[4] &= M51; /* drops the 2^255 that h + 19 - 2^255 carried */
	/* Limb i holds bits 51 i .. 51 i + 50: pack into 64-bit words. */
	w[0] = h.v[0] | h.v[1] << 51;
	w[1] = h.v[1] >> 13 | h.v[2] << 38;
	w[2] = h.v[2] >> 26 | h.v[3] << 25;
	w[3] = h.v[3] >> 39 | h.v[4] << 12;
	for (i = 0; i < 32; i++)
		s[i] = (uint8_t)(w[i / 8] >> (8 * (i % 8)));
}

/* The 255 low bits of s as a field element (not reduced below p). */
static void
fe_frombytes(fe *h, const uint8_t s[32])
{
	uint64_t w[4] = {0, 0, 0, 0};
	int i;

	for (i = 0; i < 32; i++)
		w[i / 8] |= (uint64_t)s[i] << (8 * (i % 8));
	h->v[0] = w[0] & M51;
	h->v[1] = (w[0] >> 51 | w[1] << 13) & M51;
	h->v[2] = (w[1] >> 38 | w[2] << 26) & M51;
	h->v[3] = (w[2] >> 25 | w[3] << 39) & M51;
	h->v[4] = (w[3] >> 12) & M51; /* bit 255 dropped */
}

static int
fe_equal(const fe *f, const fe *g)
{
	uint8_t a[32], b[32];

	fe_tobytes(a, f);
	fe_tobytes(b, g);
	return memcmp(a, b, 32) == 0;
}

static int
fe_iszero(const fe *f)
{
	fe z;

	fe_small(&z, 0);
	return fe_equal(f, &z);
}

static int
fe_isodd(const fe *f)
{
	uint8_t s[32];

	fe_tobytes(s, f);
	return s[0] & 1;
}

/* ---- points ----------------------------------------------------------- */
struct pt { /* extended: x = X/Z, y = Y/Z, xy = T/Z */
	fe X, Y, Z, T;
};
struct pre { /* affine, for the mixed addition; each W */
	fe ypx, ymx, xy2d;
};

/*
 * A table for w-bit digits holds (j + 1) 2^(w i) P at [i][j], for rows
 * i below TAB_ROWS(w) (enough digits for a scalar below 2^253) and j
 * below TAB_COLS(w) = 2^(w-1): 32 rows of 128 entries for w = 8.
 */
#define TAB_ROWS(w) ((253 + (w)-1) / (w))
#define TAB_COLS(w) (1 << ((w)-1))
#define TAB_LEN(w) (TAB_ROWS(w) * TAB_COLS(w))
#define BASE_W 8 /* the base point's digits: 32 rows, 480 KiB */
#define KEY_W 7 /* a key's: 37 rows of 64, 277.5 KiB */
#define ROWS_MAX TAB_ROWS(4)
/* recode() needs 4 <= w <= 8 (a digit's bits within two bytes, table_make()'s
 * arrays) and the top digit's 253 - w (rows - 1) bits fewer than w. */
_Static_assert(
    BASE_W >= 4 && BASE_W <= 8 && KEY_W >= 4 && KEY_W <= 8, "digit width");
_Static_assert(253 % BASE_W != 0 && 253 % KEY_W != 0, "top digit");

struct ed25519_vkey {
	uint8_t raw[32];
	struct pre neg_a[]; /* TAB_LEN(KEY_W) multiples of -A */
};

/* Constants and the base point's table, made once (consts_make()). */
static struct {
	fe d, d2, sqrtm1;
	struct pre base[TAB_LEN(BASE_W)];
	int ok;
	const EVP_MD *sha512;
	BIGNUM *l; /* L, for reduce_l(); only read after consts_make() */
} C;
static pthread_once_t consts_once = PTHREAD_ONCE_INIT;

static void
pt_zero(struct pt *p)
{
	fe_small(&p->X, 0);
	fe_small(&p->Y, 1);
	fe_small(&p->Z, 1);
	fe_small(&p->T, 0);
}

/*
 * The end of both additions: from A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2),
 * C = 2d T1 T2 (each W) and D = 2 Z1 Z2 (fe_add_nc() of two W), r = (EF,
 * GH, FG, EH) with E = B - A, F = D - C, G = D + C, H = B + A (with neg,
 * C negated: F = D + C, G = D - C); T only when want_t.  No carries: E and H
 * are below 2^53, F below 2^53 + 2^13 and G below 2^53 (fe_add_nc(),
 * fe_sub_nc()), inside fe_mul()'s bound.
 */
static inline void
pt_finish(struct pt *r, const fe *a, const fe *b, const fe *c, const fe *d,
    int neg, int want_t)
{
	fe e, f, g, h;

	fe_sub_nc(&e, b, a);
	fe_add_nc(&h, b, a);
	if (neg) { /* C's sign changed: F and G trade places */
		fe_add_nc(&f, d, c);
		fe_sub_nc(&g, d, c);
	} else {
		fe_sub_nc(&f, d, c);
		fe_add_nc(&g, d, c);
	}
	fe_mul(&r->X, &e, &f);
	fe_mul(&r->Y, &g, &h);
	if (want_t)
		fe_mul(&r->T, &e, &h);
	fe_mul(&r->Z, &f, &g);
}

/* r = p + q (add-2008-hwcd-3 with k = 2d) for W coordinates; r may alias
 * p or q. */
static void
pt_add(struct pt *r, const struct pt *p, const struct pt *q)
{
	fe a, b, c, d, t;

	fe_sub_nc(&a, &p->Y, &p->X);
	fe_sub_nc(&t, &q->Y, &q->X);
	fe_mul(&a, &a, &t);
	fe_add_nc(&b, &p->Y, &p->X);
	fe_add_nc(&t, &q->Y, &q->X);
	fe_mul(&b, &b, &t);
	fe_mul(&c, &p->T, &q->T);
	fe_mul(&c, &c, &C.d2);
	fe_mul(&d, &p->Z, &q->Z);
	fe_add_nc(&d, &d, &d);
	pt_finish(r, &a, &b, &c, &d, 0, 1);
}

/*
 * r = p + q, or p - q when neg, for q affine (Z = 1); r may alias p.
 * -(x, y) = (-x, y): y + x and y - x trade places and C changes sign,
 * which trades F and G of pt_finish().  Without want_t r's T is left
 * as it was (the last addition before the encoding needs none).
 */
static void
pt_madd(
    struct pt *r, const struct pt *p, const struct pre *q, int neg, int want_t)
{
	const fe *qp = neg ? &q->ymx : &q->ypx, *qm = neg ? &q->ypx : &q->ymx;
	fe a, b, c, d;

	fe_sub_nc(&a, &p->Y, &p->X);
	fe_mul(&a, &a, qm);
	fe_add_nc(&b, &p->Y, &p->X);
	fe_mul(&b, &b, qp);
	fe_mul(&c, &p->T, &q->xy2d);
	fe_add_nc(&d, &p->Z, &p->Z);
	pt_finish(r, &a, &b, &c, &d, neg, want_t);
}

/* -1 when Z is 0, which the complete addition never gives: only a fault
 * (of the machine, the arithmetic or a table) does, and 1/0 would be 0,
 * the point (0, 0), which encodes as 32 zero bytes. */
static int
pt_tobytes(uint8_t s[32], const struct pt *p)
{
	fe zi, x, y;

	if (fe_iszero(&p->Z))
		return -1;
	fe_invert(&zi, &p->Z);
	fe_mul(&x, &p->X, &zi);
	fe_mul(&y, &p->Y, &zi);
	fe_tobytes(s, &y);
	s[31] |= (uint8_t)(fe_isodd(&x) << 7);
	return 0;
}

/*
 * The point encoded by s (RFC 8032 section 5.1.3): -1 unless y is below
 * p and a square root of (y^2 - 1) / (d y^2 + 1) exists (and is not 0
 * when the sign bit asks for an odd x).
 */
static int
pt_frombytes(struct pt *p, const uint8_t s[32])
{
	static const uint8_t p58[32] = {/* (p - 5) / 8 = 2^252 - 3 */
	    0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f};
	uint8_t canon[32];
	fe y, u, v, v3, x, vx2, one, t;
	int sign = s[31] >> 7;

	fe_frombytes(&y, s);
	fe_tobytes(canon, &y);
	canon[31] |= (uint8_t)(sign << 7);
	if (memcmp(canon, s, 32) != 0)
		return -1; /* y >= p */
	fe_small(&one, 1);
	fe_sq(&u, &y);
	fe_mul(&v, &u, &C.d);
	fe_sub(&u, &u, &one); /* y^2 - 1 */
	fe_add(&v, &v, &one); /* d y^2 + 1 */
	/* x = u v^3 (u v^7)^((p-5)/8) */
	fe_sq(&v3, &v);
	fe_mul(&v3, &v3, &v);
	fe_sq(&t, &v3);
	fe_mul(&t, &t, &v);
	fe_mul(&t, &t, &u); /* u v^7 */
	fe_pow(&t, &t, p58);
	fe_mul(&x, &t, &v3);
	fe_mul(&x, &x, &u);
	fe_sq(&vx2, &x);
	fe_mul(&vx2, &vx2, &v);
	if (!fe_equal(&vx2, &u)) {
		fe_neg(&t, &u);
		if (!fe_equal(&vx2, &t))
			return -1; /* no square root */
		fe_mul(&x, &x, &C.sqrtm1);
	}
	fe_small(&t, 0);
	if (sign && fe_equal(&x, &t))
		return -1;
	if (fe_isodd(&x) != sign)
		fe_neg(&x, &x);
	p->X = x;
	p->Y = y;
	fe_small(&p->Z, 1);
	fe_mul(&p->T, &x, &y);
	return 0;
}

/*
 * t = the table of p for w-bit digits (t[i][j] = (j + 1) 2^(w i) P,
 * flat).  Each row is made in extended coordinates by repeated
 * addition, then brought to affine with one inversion (Montgomery's
 * trick: with z_j the running product of the row's Z, 1/Z_j =
 * z_(j-1) / z_j and 1/z_(j-1) = Z_j / z_j, three fe_mul a point).
 */
static int
table_make(struct pre *t, int w, const struct pt *p)
{
	struct pt base = *p, m[TAB_COLS(8)];
	fe z[TAB_COLS(8)], inv, zi, x, y;
	int i, j, cols = TAB_COLS(w);

	for (i = 0; i < TAB_ROWS(w); i++, t += cols) {
		m[0] = base;
		z[0] = base.Z;
		for (j = 1; j < cols; j++) {
			pt_add(&m[j], &m[j - 1], &base);
			fe_mul(&z[j], &z[j - 1], &m[j].Z);
		}
		pt_add(&base, &m[cols - 1], &m[cols - 1]); /* 2^w base */
		/* Z is never 0, the addition being complete; a fault that
		 * made one 0 would make the whole row (0, 0) and a forged
		 * R of 32 zero bytes verify, so it fails the table. */
		if (fe_iszero(&z[cols - 1]))
			return -1;
		fe_invert(&inv, &z[cols - 1]);
		for (j = cols - 1; j >= 0; j--) {
			if (j > 0) {
				fe_mul(&zi, &inv, &z[j - 1]);
				fe_mul(&inv, &inv, &m[j].Z);
			} else
				zi = inv;
			fe_mul(&x, &m[j].X, &zi);
			fe_mul(&y, &m[j].Y, &zi);
			fe_add(&t[j].ypx, &y, &x);
			fe_sub(&t[j].ymx, &y, &x);
			fe_mul(&t[j].xy2d, &x, &y);
			fe_mul(&t[j].xy2d, &t[j].xy2d, &C.d2);
		}
	}
	return 0;
}

/*
 * a (little-endian, below 2^253) as TAB_ROWS(w) signed digits of w
 * bits, a = sum e_i 2^(w i): each digit but the last in [-2^(w-1),
 * 2^(w-1) - 1] (x >= 2^(w-1) becomes x - 2^w and carries 1); the last
 * holds the 253 - w (TAB_ROWS(w) - 1) < w top bits plus a carry, so it
 * is at most 2^(w-1) too.
 */
static void
recode(int e[ROWS_MAX], int w, const uint8_t a[32])
{
	int i, bit, x, carry = 0, half = 1 << (w - 1), rows = TAB_ROWS(w);
	unsigned v;

	for (i = 0; i < rows; i++) {
		bit = w * i; /* below 253: its byte and the next exist */
		v = a[bit / 8] |
		    (bit / 8 < 31 ? (unsigned)a[bit / 8 + 1] << 8 : 0);
		x = (int)((v >> (bit % 8)) & ((1u << w) - 1)) + carry;
		if (i == rows - 1) {
			e[i] = x;
			break;
		}
		carry = (x + half) >> w; /* 0 or 1, as x <= 2^w */
		e[i] = x - (carry << w);
	}
}

/*
 * r += [a] P for P's table t of w-bit digits.  With last, the final
 * addition skips T (the caller encodes r next and adds nothing more).
 */
static void
table_mul_add(
    struct pt *r, const struct pre *t, int w, const uint8_t a[32], int last)
{
	int e[ROWS_MAX];
	int i, end, cols = TAB_COLS(w);

	recode(e, w, a);
	for (end = TAB_ROWS(w); end > 0 && e[end - 1] == 0; end--)
		;
	for (i = 0; i < end; i++, t += cols) {
		int want_t = !last || i != end - 1;

		if (e[i] > 0)
			pt_madd(r, r, &t[e[i] - 1], 0, want_t);
		else if (e[i] < 0)
			pt_madd(r, r, &t[-e[i] - 1], 1, want_t);
	}
}

/* ---- scalars modulo L ------------------------------------------------- */
/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t L_LE[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
    0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0x10};

/* 1 when the little-endian s is below L. */
static int
below_l(const uint8_t s[32])
{
	int i;

	for (i = 31; i >= 0; i--)
		if (s[i] != L_LE[i])
			return s[i] < L_LE[i];
	return 0;
}

/* out = h mod L for the 64-byte little-endian h. */
static int
reduce_l(uint8_t out[32], const uint8_t h[64])
{
	BN_CTX *ctx = NULL;
	BIGNUM *bh, *bk;
	int r = ERR_ALLOC;

	if ((ctx = BN_CTX_new()) == NULL)
		goto out;
	BN_CTX_start(ctx);
	bh = BN_CTX_get(ctx);
	if ((bk = BN_CTX_get(ctx)) == NULL)
		goto out;
	if (BN_lebin2bn(h, 64, bh) == NULL || BN_nnmod(bk, bh, C.l, ctx) != 1 ||
	    BN_bn2lebinpad(bk, out, 32) != 32) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	r = 0;
out:
	if (ctx != NULL)
		BN_CTX_end(ctx);
	BN_CTX_free(ctx);
	return r;
}

/* ---- constants -------------------------------------------------------- */
static int self_test(void);

static void
consts_make(void)
{
	static const uint8_t b_enc[32] = {0x58, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x66, 0x66, 0x66};
	static const uint8_t pm1_4[32] = {/* (p - 1) / 4 = 2^253 - 5 */
	    0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f};
	struct pt b;
	fe t, u, m1;
	uint8_t enc[32];

	/* d = -121665 / 121666 */
	fe_small(&t, 121666);
	fe_invert(&u, &t);
	fe_small(&t, 121665);
	fe_mul(&t, &t, &u);
	fe_neg(&C.d, &t);
	fe_add(&C.d2, &C.d, &C.d);
	/* sqrt(-1) = 2^((p-1)/4), as 2 is not a square mod p. */
	fe_small(&t, 2);
	fe_pow(&C.sqrtm1, &t, pm1_4);
	fe_sq(&t, &C.sqrtm1);
	fe_small(&u, 1);
	fe_neg(&m1, &u);
	if (!fe_equal(&t, &m1))
		return;
	/* The base point: its encoding decodes, to y = 4/5, and re-encodes. */
	if (pt_frombytes(&b, b_enc) != 0)
		return;
	fe_small(&t, 5);
	fe_mul(&t, &t, &b.Y);
	fe_small(&u, 4);
	if (pt_tobytes(enc, &b) != 0 || !fe_equal(&t, &u) ||
	    memcmp(enc, b_enc, 32) != 0)
		return;
	if (table_make(C.base, BASE_W, &b) != 0)
		return;
	if ((C.sha512 = EVP_MD_fetch(NULL, "SHA512", NULL)) == NULL ||
	    (C.l = BN_lebin2bn(L_LE, 32, NULL)) == NULL)
		return;
	C.ok = self_test() == 0;
}

/* ---- the interface ---------------------------------------------------- */
/* ed25519_vkey_new() once the constants are made. */
static int
vkey_make(struct ed25519_vkey **out, const uint8_t pk[32])
{
	struct ed25519_vkey *vk;
	struct pt a;

	*out = NULL;
	if (pt_frombytes(&a, pk) != 0)
		return ERR_SIG_INVALID;
	if ((vk = malloc(
		 sizeof(*vk) + TAB_LEN(KEY_W) * sizeof(vk->neg_a[0]))) == NULL)
		return ERR_ALLOC;
	memcpy(vk->raw, pk, 32);
	fe_neg(&a.X, &a.X);
	fe_neg(&a.T, &a.T);
	if (table_make(vk->neg_a, KEY_W, &a) != 0) {
		free(vk);
		return ERR_CRYPTO;
	}
	*out = vk;
	return 0;
}

int
ed25519_vkey_new(struct ed25519_vkey **out, const uint8_t pk[32])
{
	*out = NULL;
	if (pthread_once(&consts_once, consts_make) != 0 || !C.ok)
		return ERR_CRYPTO;
	return vkey_make(out, pk);
}

void
ed25519_vkey_free(struct ed25519_vkey *vk)
{
	free(vk);
}

const uint8_t *
ed25519_vkey_raw(const struct ed25519_vkey *vk)
{
	return vk->raw;
}

int
ed25519_vkey_verify(const struct ed25519_vkey *vk, const uint8_t sig[64],
    const uint8_t *m, size_t mlen)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t h[64], k[32], rcheck[32];
	unsigned hlen = 0;
	struct pt r;
	int rc = ERR_INTERNAL;

	if (vk == NULL || sig == NULL || (m == NULL && mlen != 0))
		return ERR_INVALID_ARG;
	if (!below_l(sig + 32))
		return ERR_SIG_INVALID;
	/* k = SHA-512(R || A || M) mod L */
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_ALLOC;
	if (EVP_DigestInit_ex(ctx, C.sha512, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, sig, 32) != 1 ||
	    EVP_DigestUpdate(ctx, vk->raw, 32) != 1 ||
	    (mlen > 0 && EVP_DigestUpdate(ctx, m, mlen) != 1) ||
	    EVP_DigestFinal_ex(ctx, h, &hlen) != 1 || hlen != sizeof(h)) {
		err_crypto_set();
		rc = ERR_CRYPTO;
		goto out;
	}
	if ((rc = reduce_l(k, h)) != 0)
		goto out;
	/* R' = [S]B + [k](-A); the signature holds when R' encodes as R. */
	pt_zero(&r);
	table_mul_add(&r, C.base, BASE_W, sig + 32, 0);
	table_mul_add(&r, vk->neg_a, KEY_W, k, 1);
	if (pt_tobytes(rcheck, &r) != 0)
		rc = ERR_CRYPTO;
	else
		rc = memcmp(rcheck, sig, 32) == 0 ? 0 : ERR_SIG_INVALID;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/*
 * 0 when recode() gives digits in range whose sum is a, for the edge
 * patterns of both widths (the unit tests reach BASE_W's through
 * chosen S; k comes from a hash, so KEY_W's only here).
 */
static int
recode_test(void)
{
	static const uint8_t fill[4] = {0xff, 0x80, 0x7f, 0x40};
	static const int widths[2] = {BASE_W, KEY_W};
	uint8_t a[32];
	int e[ROWS_MAX], acc[40];
	int i, k, t, w, rows, c;

	for (t = 0; t < 6; t++) {
		if (t < 4) {
			memset(a, fill[t], 32);
			a[31] = 0x1f; /* up to 2^253 - 1 */
		} else {
			memcpy(a, L_LE, 32);
			a[0] =
			    (uint8_t)(a[0] - (t == 4 ? 1 : 0)); /* L - 1, L */
		}
		for (k = 0; k < 2; k++) {
			w = widths[k];
			rows = TAB_ROWS(w);
			recode(e, w, a);
			memset(acc, 0, sizeof(acc));
			for (i = 0; i < rows; i++) {
				if (e[i] < -TAB_COLS(w) || e[i] > TAB_COLS(w) ||
				    (i < rows - 1 && e[i] == TAB_COLS(w)))
					return ERR_INTERNAL;
				acc[w * i / 8] += e[i] * (1 << (w * i % 8));
			}
			for (i = 0, c = 0; i < 40; i++) {
				acc[i] += c;
				c = (acc[i] - (acc[i] & 0xff)) / 256;
				if ((i < 32 && (acc[i] & 0xff) != a[i]) ||
				    (i >= 32 && (acc[i] & 0xff) != 0))
					return ERR_INTERNAL;
			}
			if (c != 0)
				return ERR_INTERNAL;
		}
	}
	return 0;
}

/*
 * Known answers, once per process before any table is used: RFC 8032
 * section 7.1, tests 1 and 2 (the first R has an even x, the second an
 * odd one) verify, and with one bit of S changed do not.  Were the
 * arithmetic miscompiled or the machine faulty, every
 * ed25519_vkey_new() would fail (ERR_CRYPTO) and the keys stay with
 * OpenSSL.
 */
static int
self_test(void)
{
	static const struct {
		uint8_t pk[32], sig[64], msg[1];
		size_t mlen;
	} v[2] = {
	    {{0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
		 0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda,
		 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51,
		 0x1a},
		{0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86,
		    0xe2, 0xcc, 0x80, 0x6e, 0x82, 0x8a, 0x84, 0x87, 0x7f, 0x1e,
		    0xb8, 0xe5, 0xd9, 0x74, 0xd8, 0x73, 0xe0, 0x65, 0x22, 0x49,
		    0x01, 0x55, 0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b, 0xac,
		    0xc6, 0x1e, 0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b, 0xd2, 0x5b,
		    0xf5, 0xf0, 0x59, 0x5b, 0xbe, 0x24, 0x65, 0x51, 0x41, 0x43,
		    0x8e, 0x7a, 0x10, 0x0b},
		{0}, 0},
	    {{0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a,
		 0xa7, 0x4d, 0x1b, 0x7e, 0xbc, 0x9c, 0x98, 0x2c, 0xcf, 0x2e,
		 0xc4, 0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66,
		 0x0c},
		{0x92, 0xa0, 0x09, 0xa9, 0xf0, 0xd4, 0xca, 0xb8, 0x72, 0x0e,
		    0x82, 0x0b, 0x5f, 0x64, 0x25, 0x40, 0xa2, 0xb2, 0x7b, 0x54,
		    0x16, 0x50, 0x3f, 0x8f, 0xb3, 0x76, 0x22, 0x23, 0xeb, 0xdb,
		    0x69, 0xda, 0x08, 0x5a, 0xc1, 0xe4, 0x3e, 0x15, 0x99, 0x6e,
		    0x45, 0x8f, 0x36, 0x13, 0xd0, 0xf1, 0x1d, 0x8c, 0x38, 0x7b,
		    0x2e, 0xae, 0xb4, 0x30, 0x2a, 0xee, 0xb0, 0x0d, 0x29, 0x16,
		    0x12, 0xbb, 0x0c, 0x00},
		{0x72}, 1},
	};
	struct ed25519_vkey *vk;
	uint8_t bad[64];
	size_t i;
	int r;

	if ((r = recode_test()) != 0)
		return r;
	for (i = 0; i < 2; i++) {
		if ((r = vkey_make(&vk, v[i].pk)) != 0)
			return r;
		memcpy(bad, v[i].sig, sizeof(bad));
		bad[40] ^= 0x10;
		if (ed25519_vkey_verify(vk, v[i].sig, v[i].msg, v[i].mlen) !=
			0 ||
		    ed25519_vkey_verify(vk, bad, v[i].msg, v[i].mlen) !=
			ERR_SIG_INVALID)
			r = ERR_INTERNAL;
		ed25519_vkey_free(vk);
		if (r != 0)
			return r;
	}
	return 0;
}
