/*
 * pubkey.c: OpenSSH public keys of pubkey.h: parsing wire blobs, the
 * certificate's public-field form and the one-line text form; building
 * OpenSSL keys from them (OpenSSL 3 EVP and OSSL_PARAM only); the
 * canonical re-encoding; fingerprints.
 *
 * It does not verify signatures (pubkey_verify lives in verify.c; here
 * only the contexts it verifies with, pubkey_verify_ctx()), read key
 * files, or know about certificates beyond refusing their type names.
 * Works with wire.c (all byte handling and strict base64) and err.h.
 *
 * Every accepted key is re-encoded by us from its parsed values, so the
 * blob we keep is the minimal encoding (RFC 4253 section 6.6, RFC 5656
 * section 3.1, RFC 8709 section 4). The EC checks are those of OpenSSH's
 * sshkey_ec_validate_public() as of 9.2, written here from the description: the
 * point is uncompressed, on the curve, not at infinity, of the group's order,
 * and both affine coordinates have more than half the order's bits and are
 * below order - 1 (newer OpenSSH dropped the last two; a random key fails them
 * with probability ~2^-128).  Refusing what any OpenSSH would refuse
 * keeps every key we accept usable with sshd.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "signer/err.h"
#include "signer/base/sha256.h"
#include "signer/ed25519.h"
#include "signer/pubkey.h"
#include "signer/wire.h"

#define CERT_SUFFIX "-cert-v01@openssh.com"
#define EC_MAX_COORD 66 /* P-521 */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#define RSA_MAX_E_BITS 64 /* OpenSSL refuses more for moduli > 3072 */

/*
 * An Ed25519 key's EVP_PKEY is made on first use (pubkey_evp()), not at
 * parse: most parsed Ed25519 keys (a request's user key, the certified
 * key of a recorded certificate, the keys in a TBS the signer child
 * re-parses) are only ever encoded and fingerprinted, and building an
 * EVP_PKEY costs provider lookups and allocations.  Nothing is checked
 * later that was checked at parse: OpenSSL takes any 32 bytes as an
 * Ed25519 public key, so the length (checked at parse) is all there is.
 * A struct pubkey may be shared between threads (the CA's key is), so
 * the pointer is published with a compare-and-swap: racing first users
 * each build one, one wins, the others free theirs and use the winner's.
 * ECDSA and RSA keys are built, and validated, at parse as before.
 */
struct pubkey {
	enum key_type type;
	_Atomic(EVP_PKEY *) pkey; /* public only; Ed25519: lazy, see above */
	uint8_t raw[32]; /* Ed25519: the public key */
	uint8_t *blob; /* canonical wire blob */
	size_t blob_len;
	size_t fields_off; /* offset of the fields after the type string */
	unsigned bits;
};

/* NIST curve orders minus one (SEC 2; `openssl ecparam -param_enc
 * explicit -text`), big-endian, padded to the coordinate length. */
static const uint8_t p256_order_m1[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00,
    0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6,
    0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
    0x25, 0x50};
static const uint8_t p384_order_m1[48] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37,
    0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec,
    0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x72};
static const uint8_t p521_order_m1[66] = {0x01, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xfa, 0x51, 0x86, 0x87, 0x83, 0xbf, 0x2f, 0x96, 0x6b,
    0x7f, 0xcc, 0x01, 0x48, 0xf7, 0x09, 0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8,
    0x89, 0x9c, 0x47, 0xae, 0xbb, 0x6f, 0xb7, 0x1e, 0x91, 0x38, 0x64, 0x08};

struct key_info {
	enum key_type type;
	const char *name;
	const char *cert_name;
	const char *short_name;
	const char *curve; /* SSH curve name (ECDSA) */
	const char *group; /* OpenSSL group name (ECDSA) */
	const char *group_alias; /* what OpenSSL may report instead */
	size_t coord_len; /* bytes per affine coordinate (ECDSA) */
	unsigned bits; /* fixed size; 0 for RSA */
	const uint8_t *order_m1;
};

static const struct key_info key_infos[] = {
    {KEY_ED25519, "ssh-ed25519", "ssh-ed25519" CERT_SUFFIX, "ED25519", NULL,
	NULL, NULL, 0, 256, NULL},
    {KEY_ECDSA_P256, "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256" CERT_SUFFIX,
	"ECDSA", "nistp256", "P-256", "prime256v1", 32, 256, p256_order_m1},
    {KEY_ECDSA_P384, "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384" CERT_SUFFIX,
	"ECDSA", "nistp384", "P-384", "secp384r1", 48, 384, p384_order_m1},
    {KEY_ECDSA_P521, "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521" CERT_SUFFIX,
	"ECDSA", "nistp521", "P-521", "secp521r1", 66, 521, p521_order_m1},
    {KEY_RSA, "ssh-rsa", "ssh-rsa" CERT_SUFFIX, "RSA", NULL, NULL, NULL, 0, 0,
	NULL},
};

static const struct key_info *
key_info_get(enum key_type t)
{
	size_t i;

	for (i = 0; i < sizeof(key_infos) / sizeof(key_infos[0]); i++) {
		if (key_infos[i].type == t)
			return &key_infos[i];
	}
	return NULL;
}

static int
name_is(const char *name, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(name, s, len) == 0;
}

enum key_type
key_type_from_name(const char *name, size_t len)
{
	size_t i;

	if (name == NULL)
		return KEY_UNSPEC;
	for (i = 0; i < sizeof(key_infos) / sizeof(key_infos[0]); i++) {
		if (name_is(name, len, key_infos[i].name))
			return key_infos[i].type;
	}
	return KEY_UNSPEC;
}

const char *
key_type_name(enum key_type t)
{
	const struct key_info *ki = key_info_get(t);

	return ki == NULL ? NULL : ki->name;
}

const char *
key_type_cert_name(enum key_type t)
{
	const struct key_info *ki = key_info_get(t);

	return ki == NULL ? NULL : ki->cert_name;
}

/*
 * Classify a type name from a blob or a key line: a known key type, or
 * the most specific refusal.  A certificate type is refused as a
 * certificate whatever its key (also ssh-dss-cert and sk-*-cert), since
 * the caller gave a certificate where a key belongs.
 */
static int
key_type_classify(const char *name, size_t len, enum key_type *t)
{
	static const char sfx[] = CERT_SUFFIX;
	const size_t sfxlen = sizeof(sfx) - 1;

	*t = key_type_from_name(name, len);
	if (*t != KEY_UNSPEC)
		return 0;
	if (len >= sfxlen && memcmp(name + len - sfxlen, sfx, sfxlen) == 0)
		return ERR_KEY_IS_CERT;
	if (name_is(name, len, "ssh-dss"))
		return ERR_KEY_DSA;
	if (len >= 3 && memcmp(name, "sk-", 3) == 0)
		return ERR_KEY_SK;
	return ERR_KEY_UNKNOWN_TYPE;
}

void
pubkey_free(struct pubkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(atomic_load_explicit(&k->pkey, memory_order_acquire));
	free(k->blob);
	free(k);
}

/* Number of significant bits in a big-endian magnitude. */
static unsigned
be_bits(const uint8_t *p, size_t len)
{
	unsigned b;

	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	if (len == 0)
		return 0;
	for (b = 8; b > 0 && (p[0] & (1u << (b - 1))) == 0; b--)
		;
	return (unsigned)(len - 1) * 8 + b;
}

/* Build an EVP_PKEY of the given algorithm from params. */
static int
evp_from_params(EVP_PKEY **out, const char *alg, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) == NULL) {
		r = ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		r = ERR_CRYPTO;
		goto out;
	}
	r = 0;
out:
	if (r == ERR_CRYPTO)
		err_crypto_set();
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int
ed25519_make(EVP_PKEY **out, const uint8_t *pk, size_t len)
{
	*out = NULL;
	if (len != 32)
		return ERR_ED25519_LENGTH;
	if ((*out = EVP_PKEY_new_raw_public_key(
		 EVP_PKEY_ED25519, NULL, pk, len)) == NULL) {
		err_crypto_set();
		return ERR_CRYPTO;
	}
	return 0;
}

/* The checks of sshkey_ec_validate_public() on an uncompressed point
 * 04||X||Y, then OpenSSL's own public-key check (on the curve, not at
 * infinity, n*Q = O).  Every failure is ERR_EC_POINT_INVALID. */
static int
ecdsa_make(
    EVP_PKEY **out, const struct key_info *ki, const uint8_t *q, size_t qlen)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	const uint8_t *x, *y;
	unsigned half = ki->bits / 2;
	int r = ERR_INTERNAL;

	*out = NULL;
	/* Uncompressed only; a lone 0x00 is the point at infinity. */
	if (qlen != 1 + 2 * ki->coord_len || q[0] != 0x04)
		return ERR_EC_POINT_INVALID;
	x = q + 1;
	y = q + 1 + ki->coord_len;
	/* log2(x), log2(y) > log2(order) / 2; x, y < order - 1. */
	if (be_bits(x, ki->coord_len) <= half ||
	    be_bits(y, ki->coord_len) <= half)
		return ERR_EC_POINT_INVALID;
	if (memcmp(x, ki->order_m1, ki->coord_len) >= 0 ||
	    memcmp(y, ki->order_m1, ki->coord_len) >= 0)
		return ERR_EC_POINT_INVALID;

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)(uintptr_t)ki->group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)q, qlen);
	params[2] = OSSL_PARAM_construct_end();
	/* OpenSSL decodes the point and refuses one off the curve. */
	if ((r = evp_from_params(out, "EC", params)) != 0) {
		r = ERR_EC_POINT_INVALID;
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL)) == NULL) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_public_check(ctx) != 1) {
		r = ERR_EC_POINT_INVALID;
		goto out;
	}
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	if (r != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
		/* Drop the queue: the reason is in our code. */
		if (r == ERR_EC_POINT_INVALID)
			err_crypto_set();
	}
	return r;
}

static int
rsa_make(EVP_PKEY **out, const uint8_t *e, size_t elen, const uint8_t *n,
    size_t nlen)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	unsigned nbits = be_bits(n, nlen);
	int r = ERR_INTERNAL;

	*out = NULL;
	if (nbits < RSA_MIN_BITS)
		return ERR_RSA_TOO_SMALL;
	if (nbits > RSA_MAX_BITS)
		return ERR_RSA_TOO_LARGE;
	/* e odd, > 1, and small enough for OpenSSL to use with any n. */
	if (elen == 0 || (e[elen - 1] & 1) == 0 || (elen == 1 && e[0] == 1) ||
	    be_bits(e, elen) > RSA_MAX_E_BITS)
		return ERR_RSA_BAD_EXPONENT;

	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	if ((r = evp_from_params(out, "RSA", params)) != 0)
		goto out;
	r = 0;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return r;
}

/*
 * Parse the public fields of a key of type t from w (consuming them),
 * build the OpenSSL key and the canonical blob.  On failure w may have
 * been partly consumed; callers pass a scratch view.
 */
static int
fields_parse(struct pubkey **out, enum key_type t, struct wire *w)
{
	const struct key_info *ki = key_info_get(t);
	struct pubkey *k = NULL;
	struct wire *b = NULL;
	EVP_PKEY *pk = NULL;
	const uint8_t *p1 = NULL, *p2 = NULL;
	const char *curve = NULL;
	size_t l1 = 0, l2 = 0, clen = 0;
	int r = ERR_INTERNAL;

	*out = NULL;
	if (ki == NULL)
		return ERR_INVALID_ARG;
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (b = wire_new(PUBKEY_MAX_BLOB)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	k->type = t;
	TRY(wire_put_cstring(b, ki->name));
	k->fields_off = wire_len(b);

	switch (t) {
	case KEY_ED25519:
		TRY(wire_get_string_direct(w, &p1, &l1));
		/* The EVP_PKEY waits for pubkey_evp(). */
		ENSURE(l1 == sizeof(k->raw), ERR_ED25519_LENGTH);
		memcpy(k->raw, p1, l1);
		TRY(wire_put_string(b, p1, l1));
		k->bits = 256;
		break;
	case KEY_ECDSA_P256:
	case KEY_ECDSA_P384:
	case KEY_ECDSA_P521:
		r = wire_get_cstring_direct(w, &curve, &clen);
		if (r == ERR_STRING_NUL)
			r = ERR_EC_CURVE_MISMATCH;
		if (r != 0)
			goto out;
		ENSURE(name_is(curve, clen, ki->curve), ERR_EC_CURVE_MISMATCH);
		TRY(wire_get_string_direct(w, &p1, &l1));
		TRY(ecdsa_make(&pk, ki, p1, l1));
		atomic_init(&k->pkey, pk);
		pk = NULL;
		TRY(wire_put_cstring(b, ki->curve));
		TRY(wire_put_string(b, p1, l1));
		k->bits = ki->bits;
		break;
	case KEY_RSA:
		TRY(wire_get_mpint_direct(w, &p1, &l1)); /* e */
		r = wire_get_mpint_direct(w, &p2, &l2); /* n */
		if (r == ERR_MPINT_TOO_LARGE)
			r = ERR_RSA_TOO_LARGE;
		if (r != 0)
			goto out;
		TRY(rsa_make(&pk, p1, l1, p2, l2));
		atomic_init(&k->pkey, pk);
		pk = NULL;
		TRY(wire_put_mpint(b, p1, l1));
		TRY(wire_put_mpint(b, p2, l2));
		k->bits = be_bits(p2, l2);
		break;
	default:
		r = ERR_INVALID_ARG;
		goto out;
	}
	TRY(wire_dup(b, &k->blob, &k->blob_len));
	*out = k;
	k = NULL;
	r = 0;
out:
	wire_free(b);
	pubkey_free(k);
	return r;
}

int
pubkey_from_fields(struct pubkey **out, enum key_type t, struct wire *w)
{
	struct wire *v = NULL;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || w == NULL)
		return ERR_INVALID_ARG;
	/* Parse from a scratch view so that w moves only on success. */
	if ((v = wire_from(wire_ptr(w), wire_len(w))) == NULL)
		return ERR_ALLOC;
	TRY(fields_parse(out, t, v));
	if ((r = wire_consume(w, wire_len(w) - wire_len(v))) != 0) {
		pubkey_free(*out);
		*out = NULL;
		goto out;
	}
	r = 0;
out:
	wire_free(v);
	return r;
}

int
pubkey_from_blob(struct pubkey **out, const uint8_t *blob, size_t len)
{
	struct wire *w = NULL;
	struct pubkey *k = NULL;
	const char *name = NULL;
	size_t nlen = 0;
	enum key_type t = KEY_UNSPEC;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || (blob == NULL && len != 0))
		return ERR_INVALID_ARG;
	if (len > PUBKEY_MAX_BLOB)
		return ERR_TOO_LARGE;
	if ((w = wire_from(blob, len)) == NULL)
		return ERR_ALLOC;
	TRY(wire_get_cstring_direct(w, &name, &nlen));
	TRY(key_type_classify(name, nlen, &t));
	TRY(fields_parse(&k, t, w));
	ENSURE(wire_len(w) == 0, ERR_TRAILING_DATA);
	*out = k;
	k = NULL;
	r = 0;
out:
	pubkey_free(k);
	wire_free(w);
	return r;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Control bytes other than tab, and DEL.  Bytes >= 0x80 (UTF-8 in a
 * comment) are fine. */
static int
is_ctrl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

int
pubkey_line_split(const char *line, size_t len, size_t max, const char **type,
    size_t *typelen, const char **b64, size_t *b64len)
{
	size_t i, ts, te, bs, be;

	*type = *b64 = NULL;
	*typelen = *b64len = 0;
	if (len > max)
		return ERR_TOO_LARGE;
	/* One trailing newline (or CRLF), then trailing blanks. */
	if (len > 0 && line[len - 1] == '\n') {
		len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
	}
	while (len > 0 && is_blank(line[len - 1]))
		len--;
	/* Nothing else may be a control byte: no NUL, no second line. */
	for (i = 0; i < len; i++) {
		if (is_ctrl((unsigned char)line[i]))
			return ERR_KEY_LINE;
	}
	for (i = 0; i < len && is_blank(line[i]); i++)
		;
	ts = i;
	for (; i < len && !is_blank(line[i]); i++) {
		/* A type name is printable ASCII. */
		if ((unsigned char)line[i] >= 0x80)
			return ERR_KEY_LINE;
	}
	te = i;
	for (; i < len && is_blank(line[i]); i++)
		;
	bs = i;
	for (; i < len && !is_blank(line[i]); i++)
		;
	be = i;
	/* The rest, if any, is the comment: ignored. */
	if (te == ts || be == bs)
		return ERR_KEY_LINE;
	*type = line + ts;
	*typelen = te - ts;
	*b64 = line + bs;
	*b64len = be - bs;
	return 0;
}

int
pubkey_from_line(struct pubkey **out, const char *line, size_t len)
{
	struct pubkey *k = NULL;
	uint8_t *blob = NULL;
	const char *tname, *b64;
	size_t blen = 0, tlen, b64len;
	enum key_type t = KEY_UNSPEC;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || (line == NULL && len != 0))
		return ERR_INVALID_ARG;
	TRY(pubkey_line_split(
	    line, len, PUBKEY_MAX_LINE, &tname, &tlen, &b64, &b64len));
	TRY(key_type_classify(tname, tlen, &t));
	TRY(wire_b64_decode(&blob, &blen, b64, b64len));
	TRY(pubkey_from_blob(&k, blob, blen));
	ENSURE(k->type == t, ERR_KEY_TYPE_MISMATCH);
	*out = k;
	k = NULL;
	r = 0;
out:
	pubkey_free(k);
	free(blob);
	return r;
}

/* Fields of a live OpenSSL key, encoded as in a certificate. */
static int
evp_fields(struct wire *f, enum key_type *tp, const EVP_PKEY *pkey)
{
	EVP_PKEY *pk = (EVP_PKEY *)(uintptr_t)pkey; /* getters lack const */
	const struct key_info *ki = NULL;
	BIGNUM *bx = NULL, *by = NULL;
	uint8_t *n = NULL, *e = NULL;
	uint8_t raw[32], q[1 + 2 * EC_MAX_COORD];
	char group[64];
	size_t rawlen = sizeof(raw), glen = 0, i;
	int nlen, elen, r = ERR_INTERNAL;
	BIGNUM *bn = NULL, *bee = NULL;

	*tp = KEY_UNSPEC;
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_ED25519:
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1) {
			r = ERR_CRYPTO;
			goto out;
		}
		*tp = KEY_ED25519;
		TRY(wire_put_string(f, raw, rawlen));
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pkey,
			OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			&glen) != 1) {
			r = ERR_KEY_UNKNOWN_TYPE;
			goto out;
		}
		for (i = 0; i < sizeof(key_infos) / sizeof(key_infos[0]); i++) {
			if (key_infos[i].group == NULL)
				continue;
			if (strcasecmp(group, key_infos[i].group) == 0 ||
			    strcasecmp(group, key_infos[i].group_alias) == 0)
				ki = &key_infos[i];
		}
		ENSURE(ki != NULL, ERR_KEY_UNKNOWN_TYPE);
		/* The affine coordinates, whatever point format the key
		 * was set to: we always write uncompressed. */
		if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &bx) !=
			1 ||
		    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &by) !=
			1) {
			r = ERR_CRYPTO;
			goto out;
		}
		q[0] = 0x04;
		if (BN_bn2binpad(bx, q + 1, (int)ki->coord_len) < 0 ||
		    BN_bn2binpad(
			by, q + 1 + ki->coord_len, (int)ki->coord_len) < 0) {
			r = ERR_EC_POINT_INVALID;
			goto out;
		}
		*tp = ki->type;
		TRY(wire_put_cstring(f, ki->curve));
		TRY(wire_put_string(f, q, 1 + 2 * ki->coord_len));
		break;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn) !=
			1 ||
		    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &bee) !=
			1) {
			r = ERR_CRYPTO;
			goto out;
		}
		nlen = BN_num_bytes(bn);
		elen = BN_num_bytes(bee);
		ENSURE(nlen <= WIRE_MPINT_MAX_BYTES, ERR_RSA_TOO_LARGE);
		ENSURE(elen <= WIRE_MPINT_MAX_BYTES, ERR_RSA_BAD_EXPONENT);
		if ((n = malloc((size_t)nlen + 1)) == NULL ||
		    (e = malloc((size_t)elen + 1)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		if (BN_bn2bin(bn, n) != nlen || BN_bn2bin(bee, e) != elen) {
			r = ERR_CRYPTO;
			goto out;
		}
		*tp = KEY_RSA;
		TRY(wire_put_mpint(f, e, (size_t)elen));
		TRY(wire_put_mpint(f, n, (size_t)nlen));
		break;
	default:
		r = ERR_KEY_UNKNOWN_TYPE;
		goto out;
	}
	r = 0;
out:
	if (r == ERR_CRYPTO)
		err_crypto_set();
	BN_free(bx);
	BN_free(by);
	BN_free(bn);
	BN_free(bee);
	free(n);
	free(e);
	return r;
}

int
pubkey_from_evp(struct pubkey **out, const EVP_PKEY *pkey)
{
	struct wire *f = NULL;
	enum key_type t = KEY_UNSPEC;
	struct pubkey *k = NULL;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || pkey == NULL)
		return ERR_INVALID_ARG;
	if ((f = wire_new(PUBKEY_MAX_BLOB)) == NULL)
		return ERR_ALLOC;
	/* Through the parser: the same checks, and a fresh public key. */
	TRY(evp_fields(f, &t, pkey));
	TRY(fields_parse(&k, t, f));
	ENSURE(wire_len(f) == 0, ERR_INTERNAL);
	*out = k;
	k = NULL;
	r = 0;
out:
	pubkey_free(k);
	wire_free(f);
	return r;
}

enum key_type
pubkey_type(const struct pubkey *k)
{
	return k == NULL ? KEY_UNSPEC : k->type;
}

const char *
pubkey_type_name(const struct pubkey *k)
{
	return k == NULL ? NULL : key_type_name(k->type);
}

const char *
pubkey_short_name(const struct pubkey *k)
{
	const struct key_info *ki = k == NULL ? NULL : key_info_get(k->type);

	return ki == NULL ? NULL : ki->short_name;
}

unsigned
pubkey_bits(const struct pubkey *k)
{
	return k == NULL ? 0 : k->bits;
}

const uint8_t *
pubkey_blob(const struct pubkey *k, size_t *len)
{
	if (len != NULL)
		*len = k == NULL ? 0 : k->blob_len;
	return k == NULL ? NULL : k->blob;
}

/*
 * Ed25519 keys published by pubkey_share(), whose EVP_PKEYs every other
 * struct pubkey of the same key takes (a reference) when it first needs
 * one, and whose prepared verify context pubkey_verify_ctx() copies.  The
 * CA's key is parsed afresh for each certificate (its c->ca_key) and
 * cert_sign() verifies under that copy: through the published key it
 * builds no EVP_PKEY (~2.5 us) and skips EVP_DigestVerifyInit()'s
 * fetches (a copy costs ~0.1 us against ~2 us); pubkey_verify() checks
 * its signatures with the entry's fixed-key tables (ed25519.c, a
 * quarter of OpenSSL's time).
 * Slots fill in order with a compare-and-swap and are never emptied, so
 * a lookup stops at the first empty one; entries live as long as the
 * process (freeing them at exit could run after OpenSSL's own cleanup).
 * A full table only loses the reuse.
 */
#define SHARED_MAX 8

struct shared_ed25519 {
	uint8_t raw[32];
	EVP_PKEY *pkey;
	/* DigestVerifyInit() done once: pubkey_verify_ctx() hands out
	 * copies (EVP_MD_CTX_copy_ex() only reads it). */
	EVP_MD_CTX *vtmpl;
	/* The key's verification tables (ed25519.h), NULL for a key that
	 * is not a canonical point encoding: OpenSSL verifies those. */
	struct ed25519_vkey *fast;
};

static _Atomic(struct shared_ed25519 *) shared_keys[SHARED_MAX];

/* The published entry of raw (borrowed: entries are never freed). */
static const struct shared_ed25519 *
shared_get(const uint8_t raw[32])
{
	const struct shared_ed25519 *e;
	size_t i;

	for (i = 0; i < SHARED_MAX; i++) {
		e = atomic_load_explicit(&shared_keys[i], memory_order_acquire);
		if (e == NULL)
			break;
		if (memcmp(e->raw, raw, sizeof(e->raw)) == 0)
			return e;
	}
	return NULL;
}

/* A new reference to the published EVP_PKEY of raw, or NULL. */
static EVP_PKEY *
shared_find(const uint8_t raw[32])
{
	const struct shared_ed25519 *e = shared_get(raw);

	if (e == NULL || EVP_PKEY_up_ref(e->pkey) != 1)
		return NULL;
	return e->pkey;
}

/*
 * k's EVP_PKEY, made now if it was not yet: a published one of the same
 * key when there is one, else a new one.  Threads racing here may each
 * make one; the first compare-and-swap wins and the others free theirs.
 */
static EVP_PKEY *
ed25519_evp(const struct pubkey *k)
{
	/* Only the cached pointer is written: k stays logically const. */
	struct pubkey *mk = (struct pubkey *)(uintptr_t)k;
	EVP_PKEY *p, *cur = NULL;

	if ((p = atomic_load_explicit(&mk->pkey, memory_order_acquire)) != NULL)
		return p;
	if ((p = shared_find(k->raw)) == NULL &&
	    ed25519_make(&p, k->raw, sizeof(k->raw)) != 0)
		return NULL;
	if (!atomic_compare_exchange_strong_explicit(&mk->pkey, &cur, p,
		memory_order_acq_rel, memory_order_acquire)) {
		EVP_PKEY_free(p);
		p = cur; /* the winner's */
	}
	return p;
}

EVP_PKEY *
pubkey_evp(const struct pubkey *k)
{
	if (k == NULL)
		return NULL;
	if (k->type == KEY_ED25519)
		return ed25519_evp(k);
	return atomic_load_explicit(&k->pkey, memory_order_acquire);
}

static void
shared_free(struct shared_ed25519 *e)
{
	if (e == NULL)
		return;
	ed25519_vkey_free(e->fast);
	EVP_MD_CTX_free(e->vtmpl);
	EVP_PKEY_free(e->pkey);
	free(e);
}

/* A new entry for raw holding a reference to p. */
static int
shared_new(struct shared_ed25519 **out, const uint8_t raw[32], EVP_PKEY *p)
{
	struct shared_ed25519 *e;
	int r;

	*out = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ERR_ALLOC;
	memcpy(e->raw, raw, sizeof(e->raw));
	if (EVP_PKEY_up_ref(p) != 1) {
		free(e);
		err_crypto_set();
		return ERR_CRYPTO;
	}
	e->pkey = p;
	if ((e->vtmpl = EVP_MD_CTX_new()) == NULL) {
		shared_free(e);
		return ERR_ALLOC;
	}
	if (EVP_DigestVerifyInit(e->vtmpl, NULL, NULL, NULL, p) != 1) {
		err_crypto_set();
		shared_free(e);
		return ERR_CRYPTO;
	}
	/* Without tables (a key that is no canonical point, or the
	 * verifier's self-test failed) OpenSSL verifies. */
	if ((r = ed25519_vkey_new(&e->fast, raw)) == ERR_ALLOC) {
		shared_free(e);
		return r;
	}
	*out = e;
	return 0;
}

int
pubkey_share(const struct pubkey *k)
{
	struct shared_ed25519 *e = NULL, *cur;
	EVP_PKEY *p;
	size_t i;
	int r;

	if (k == NULL)
		return ERR_INVALID_ARG;
	if ((p = pubkey_evp(k)) == NULL)
		return ERR_CRYPTO;
	if (k->type != KEY_ED25519)
		return 0; /* made and checked at parse, nothing to share */
	for (i = 0; i < SHARED_MAX; i++) {
		cur =
		    atomic_load_explicit(&shared_keys[i], memory_order_acquire);
		if (cur == NULL) {
			if (e == NULL && (r = shared_new(&e, k->raw, p)) != 0)
				return r;
			if (atomic_compare_exchange_strong_explicit(
				&shared_keys[i], &cur, e, memory_order_acq_rel,
				memory_order_acquire))
				return 0;
			/* Lost the slot: cur is the winner's entry. */
		}
		if (memcmp(cur->raw, k->raw, sizeof(cur->raw)) == 0)
			break; /* already published */
	}
	shared_free(e);
	return 0;
}

const struct ed25519_vkey *
pubkey_vkey(const struct pubkey *k)
{
	const struct shared_ed25519 *e;

	if (k == NULL || k->type != KEY_ED25519 ||
	    (e = shared_get(k->raw)) == NULL)
		return NULL;
	return e->fast;
}

int
pubkey_verify_ctx(const struct pubkey *k, const EVP_MD *md, EVP_MD_CTX **out)
{
	const struct shared_ed25519 *e;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *pkey;
	int r = ERR_INTERNAL;

	*out = NULL;
	if (k == NULL)
		return ERR_INVALID_ARG;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_ALLOC;
	/* A published key's prepared context: no fetches, no init. */
	if (k->type == KEY_ED25519 && md == NULL &&
	    (e = shared_get(k->raw)) != NULL) {
		if (EVP_MD_CTX_copy_ex(ctx, e->vtmpl) != 1) {
			err_crypto_set();
			r = ERR_CRYPTO;
			goto out;
		}
	} else {
		/* pubkey_evp() has kept OpenSSL's reason on failure. */
		ENSURE((pkey = pubkey_evp(k)) != NULL, ERR_CRYPTO);
		if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) != 1) {
			err_crypto_set();
			r = ERR_CRYPTO;
			goto out;
		}
	}
	*out = ctx;
	ctx = NULL;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int
pubkey_equal(const struct pubkey *a, const struct pubkey *b)
{
	if (a == NULL || b == NULL)
		return 0;
	/* Canonical blobs: equal keys have equal bytes. */
	return a->type == b->type && a->blob_len == b->blob_len &&
	    memcmp(a->blob, b->blob, a->blob_len) == 0;
}

int
pubkey_put_fields(struct wire *w, const struct pubkey *k)
{
	if (w == NULL || k == NULL)
		return ERR_INVALID_ARG;
	return wire_put(
	    w, k->blob + k->fields_off, k->blob_len - k->fields_off);
}

int
pubkey_put_blob(struct wire *w, const struct pubkey *k)
{
	if (w == NULL || k == NULL)
		return ERR_INVALID_ARG;
	return wire_put_string(w, k->blob, k->blob_len);
}

int
pubkey_line_join(char **out, const char *type, const uint8_t *blob, size_t len,
    const char *comment, size_t max)
{
	char *b64 = NULL, *s = NULL;
	size_t tlen, blen, clen = 0, i, o, total;
	int r = ERR_INTERNAL;

	*out = NULL;
	if (comment != NULL) {
		clen = strlen(comment);
		/* The comment must not break the line apart. */
		for (i = 0; i < clen; i++) {
			if (is_ctrl((unsigned char)comment[i]))
				return ERR_INVALID_ARG;
		}
		if (clen > max)
			return ERR_TOO_LARGE;
	}
	TRY(wire_b64_encode(&b64, blob, len));
	tlen = strlen(type);
	blen = strlen(b64);
	total = tlen + 1 + blen + (clen > 0 ? 1 + clen : 0);
	/* Never write a line that pubkey_line_split() would refuse. */
	ENSURE(total <= max, ERR_TOO_LARGE);
	if ((s = malloc(total + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	o = 0;
	memcpy(s + o, type, tlen);
	o += tlen;
	s[o++] = ' ';
	memcpy(s + o, b64, blen);
	o += blen;
	if (clen > 0) {
		s[o++] = ' ';
		memcpy(s + o, comment, clen);
		o += clen;
	}
	s[o] = '\0';
	*out = s;
	s = NULL;
	r = 0;
out:
	free(b64);
	free(s);
	return r;
}

int
pubkey_to_line(char **out, const struct pubkey *k, const char *comment)
{
	if (out != NULL)
		*out = NULL;
	if (out == NULL || k == NULL)
		return ERR_INVALID_ARG;
	return pubkey_line_join(out, key_type_name(k->type), k->blob,
	    k->blob_len, comment, PUBKEY_MAX_LINE);
}

int
pubkey_sha256(uint8_t out[32], const struct pubkey *k)
{
	if (out == NULL || k == NULL)
		return ERR_INVALID_ARG;
	return sha256(out, k->blob, k->blob_len);
}

int
pubkey_fingerprint(char out[PUBKEY_FP_LEN], const struct pubkey *k)
{
	uint8_t d[32];
	char *b64 = NULL;
	int r = ERR_INTERNAL;

	if (out != NULL)
		out[0] = '\0';
	if (out == NULL || k == NULL)
		return ERR_INVALID_ARG;
	TRY(pubkey_sha256(d, k));
	TRY(wire_b64_encode_nopad(&b64, d, sizeof(d), 0));
	ENSURE(strlen(b64) == PUBKEY_FP_LEN - 8, ERR_INTERNAL);
	memcpy(out, "SHA256:", 7);
	memcpy(out + 7, b64, PUBKEY_FP_LEN - 7); /* with its NUL */
	r = 0;
out:
	free(b64);
	return r;
}
