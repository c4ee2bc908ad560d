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
 * A table holds, for i = 0..63 and j = 1..8, the point j 16^i P in
 * affine form (y + x, y - x, 2dxy); a scalar below 2^253 is recoded
 * into 64 signed digits in [-8, 8], and [s]P is the sum of one table
 * entry (or its negation) per digit.  The base point's table is made
 * once per process; a key's when ed25519_vkey_new() is called.
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
 * Every fe leaving a function here is weakly reduced: each limb below
 * 2^51 + 2^15, so products of two fit the bounds worked out in fe_mul.
 */
typedef struct {
	uint64_t v[5];
} fe;

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

/*
 * h = f g.  Limbs below 2^52: each product below 2^104, times 19 below
 * 2^109, a sum of five below 2^112; the carries below 2^61.
 */
static void
fe_mul(fe *h, const fe *f, const fe *g)
{
	typedef unsigned __int128 u128;
	const uint64_t *a = f->v, *b = g->v;
	uint64_t b1 = 19 * b[1], b2 = 19 * b[2], b3 = 19 * b[3], b4 = 19 * b[4];
	u128 r0, r1, r2, r3, r4;
	uint64_t c;

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
	/* c < 2^61: 19 c + h0 < 2^66 needs the wide sum. */
	r0 = (u128)c * 19 + h->v[0];
	h->v[0] = (uint64_t)r0 & M51;
	h->v[1] += (uint64_t)(r0 >> 51);
}

static void
fe_sq(fe *h, const fe *f)
{
	fe_mul(h, f, f);
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
struct pre { /* affine, for the mixed addition */
	fe ypx, ymx, xy2d;
};

#define TAB_ROWS 64 /* radix-16 digits of a scalar below 2^256 */
#define TAB_COLS 8 /* multiples 1..8 of 16^i P */
typedef struct pre table[TAB_ROWS][TAB_COLS];

struct ed25519_vkey {
	uint8_t raw[32];
	table neg_a; /* multiples of -A */
};

/* Constants and the base point's table, made once (consts_make()). */
static struct {
	fe d, d2, sqrtm1;
	table base;
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

/* The end of both additions: from A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2),
 * C = 2d T1 T2 and D = 2 Z1 Z2, r = (EF, GH, FG, EH) with E = B - A,
 * F = D - C, G = D + C, H = B + A. */
static void
pt_finish(struct pt *r, const fe *a, const fe *b, const fe *c, const fe *d)
{
	fe e, f, g, h;

	fe_sub(&e, b, a);
	fe_sub(&f, d, c);
	fe_add(&g, d, c);
	fe_add(&h, b, a);
	fe_mul(&r->X, &e, &f);
	fe_mul(&r->Y, &g, &h);
	fe_mul(&r->T, &e, &h);
	fe_mul(&r->Z, &f, &g);
}

/* r = p + q (add-2008-hwcd-3 with k = 2d); r may alias p or q. */
static void
pt_add(struct pt *r, const struct pt *p, const struct pt *q)
{
	fe a, b, c, d, t;

	fe_sub(&a, &p->Y, &p->X);
	fe_sub(&t, &q->Y, &q->X);
	fe_mul(&a, &a, &t);
	fe_add(&b, &p->Y, &p->X);
	fe_add(&t, &q->Y, &q->X);
	fe_mul(&b, &b, &t);
	fe_mul(&c, &p->T, &q->T);
	fe_mul(&c, &c, &C.d2);
	fe_mul(&d, &p->Z, &q->Z);
	fe_add(&d, &d, &d);
	pt_finish(r, &a, &b, &c, &d);
}

/* r = p + q, or p - q when neg, for q affine (Z = 1); r may alias p. */
static void
pt_madd(struct pt *r, const struct pt *p, const struct pre *q, int neg)
{
	/* -(x, y) = (-x, y): y + x and y - x trade places, xy flips. */
	const fe *qp = neg ? &q->ymx : &q->ypx, *qm = neg ? &q->ypx : &q->ymx;
	fe a, b, c, d;

	fe_sub(&a, &p->Y, &p->X);
	fe_mul(&a, &a, qm);
	fe_add(&b, &p->Y, &p->X);
	fe_mul(&b, &b, qp);
	fe_mul(&c, &p->T, &q->xy2d);
	if (neg)
		fe_neg(&c, &c);
	fe_add(&d, &p->Z, &p->Z);
	pt_finish(r, &a, &b, &c, &d);
}

static void
pt_tobytes(uint8_t s[32], const struct pt *p)
{
	fe zi, x, y;

	fe_invert(&zi, &p->Z);
	fe_mul(&x, &p->X, &zi);
	fe_mul(&y, &p->Y, &zi);
	fe_tobytes(s, &y);
	s[31] |= (uint8_t)(fe_isodd(&x) << 7);
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

static void
pre_from(struct pre *q, const struct pt *p)
{
	fe zi, x, y;

	fe_invert(&zi, &p->Z);
	fe_mul(&x, &p->X, &zi);
	fe_mul(&y, &p->Y, &zi);
	fe_add(&q->ypx, &y, &x);
	fe_sub(&q->ymx, &y, &x);
	fe_mul(&q->xy2d, &x, &y);
	fe_mul(&q->xy2d, &q->xy2d, &C.d2);
}

/* t[i][j] = (j + 1) 16^i P. */
static void
table_make(table t, const struct pt *p)
{
	struct pt base = *p, m;
	int i, j;

	for (i = 0; i < TAB_ROWS; i++) {
		m = base;
		pre_from(&t[i][0], &m);
		for (j = 1; j < TAB_COLS; j++) {
			pt_add(&m, &m, &base);
			pre_from(&t[i][j], &m);
		}
		pt_add(&base, &m, &m); /* 16 16^i P */
	}
}

/* a (little-endian, below 2^253) as 64 digits in [-8, 8], sum e_i 16^i. */
static void
recode(int8_t e[TAB_ROWS], const uint8_t a[32])
{
	int i, carry = 0, x;

	for (i = 0; i < 32; i++) {
		e[2 * i] = (int8_t)(a[i] & 15);
		e[2 * i + 1] = (int8_t)(a[i] >> 4);
	}
	for (i = 0; i < TAB_ROWS - 1; i++) {
		x = e[i] + carry;
		carry = (x + 8) >> 4; /* x + 8 in [8, 24]: 0 or 1 */
		e[i] = (int8_t)(x - carry * 16);
	}
	e[TAB_ROWS - 1] = (int8_t)(e[TAB_ROWS - 1] + carry);
}

/* r += [a] P for P's table. */
static void
table_mul_add(struct pt *r, const table t, const uint8_t a[32])
{
	int8_t e[TAB_ROWS];
	int i;

	recode(e, a);
	for (i = 0; i < TAB_ROWS; i++) {
		if (e[i] > 0)
			pt_madd(r, r, &t[i][e[i] - 1], 0);
		else if (e[i] < 0)
			pt_madd(r, r, &t[i][-e[i] - 1], 1);
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
	pt_tobytes(enc, &b);
	if (!fe_equal(&t, &u) || memcmp(enc, b_enc, 32) != 0)
		return;
	table_make(C.base, &b);
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
	if ((vk = malloc(sizeof(*vk))) == NULL)
		return ERR_ALLOC;
	memcpy(vk->raw, pk, 32);
	fe_neg(&a.X, &a.X);
	fe_neg(&a.T, &a.T);
	table_make(vk->neg_a, &a);
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
	table_mul_add(&r, C.base, sig + 32);
	table_mul_add(&r, vk->neg_a, k);
	pt_tobytes(rcheck, &r);
	rc = memcmp(rcheck, sig, 32) == 0 ? 0 : ERR_SIG_INVALID;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
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
