/*
 * cakey.c: the CA private key of cakey.h: generation with OpenSSL 3,
 * storage as unencrypted PKCS#8 PEM in a 0600 file created exclusively,
 * loading with ownership/permission checks on the open descriptor, and
 * SSH signature blobs (RFC 8709, RFC 5656 section 3.1.2, RFC 8332).
 * cakey_open() also opens a key that lives in a PKCS#11 token (p11.h):
 * such a cakey holds no EVP_PKEY, only p11.c's table (struct cakey_ops)
 * and its key, and signs, answers its public key and frees through them.
 *
 * It does not verify signatures (verify.c), build certificates (cert.c)
 * or talk to anyone (signer.c).  Public halves are wrapped by pubkey.c
 * (pubkey_from_evp); blobs are written with wire.c, files with fileio.c.  Every
 * buffer that holds PEM or DER private key bytes is wiped before it is
 * released.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "signer/cakey.h"
#include "signer/base/fileio.h"
#include "signer/p11.h"
#include "signer/wire.h"

#define CAKEY_MAX_FILE (64u * 1024)
#define CAKEY_RSA_GEN_BITS 3072
#define CAKEY_RSA_MIN_BITS 2048
#define CAKEY_RSA_MAX_BITS 8192
/* Largest SSH signature blob we make: RSA-8192 plus names and lengths. */
#define CAKEY_MAX_SIG 2048

struct cakey {
	EVP_PKEY *pkey;
	/* DigestSignInit() done once, with the digest of k's signatures:
	 * each signature starts from a copy (EVP_MD_CTX_copy_ex(), which
	 * only reads it), ~2 us less than a new init with its algorithm
	 * fetch.  NULL for a key behind ops. */
	EVP_MD_CTX *sign_tmpl;
	struct pubkey *pub;
	enum key_type type;
	/* A key behind another backend (p11.h): every operation goes
	 * through ops with impl; pkey and pub are then NULL. */
	const struct cakey_ops *ops;
	void *impl;
};

enum key_type
cakey_type_from_name(const char *name)
{
	if (name == NULL)
		return KEY_UNSPEC;
	if (strcmp(name, "ed25519") == 0)
		return KEY_ED25519;
	if (strcmp(name, "ecdsa-p256") == 0)
		return KEY_ECDSA_P256;
	if (strcmp(name, "ecdsa-p384") == 0)
		return KEY_ECDSA_P384;
	if (strcmp(name, "rsa-3072") == 0)
		return KEY_RSA;
	return KEY_UNSPEC;
}

void
cakey_free(struct cakey *k)
{
	if (k == NULL)
		return;
	if (k->ops != NULL)
		k->ops->free(k->impl);
	EVP_MD_CTX_free(k->sign_tmpl);
	EVP_PKEY_free(k->pkey);
	pubkey_free(k->pub);
	free(k);
}

const struct pubkey *
cakey_public(const struct cakey *k)
{
	if (k == NULL)
		return NULL;
	if (k->ops != NULL)
		return k->ops->pub(k->impl);
	return k->pub;
}

/* The key type of an OpenSSL private key jitca accepts as a CA, or
 * ERR_KEY_UNSUPPORTED_CA. */
static int
cakey_classify(const EVP_PKEY *pkey, enum key_type *t)
{
	char group[64];
	size_t glen = 0;
	int bits;

	*t = KEY_UNSPEC;
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_ED25519:
		*t = KEY_ED25519;
		return 0;
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(pkey);
		if (bits < CAKEY_RSA_MIN_BITS || bits > CAKEY_RSA_MAX_BITS)
			return ERR_KEY_UNSUPPORTED_CA;
		*t = KEY_RSA;
		return 0;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(pkey,
			OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			&glen)) {
			ERR_clear_error();
			return ERR_KEY_UNSUPPORTED_CA;
		}
		if (strcmp(group, SN_X9_62_prime256v1) == 0)
			*t = KEY_ECDSA_P256;
		else if (strcmp(group, SN_secp384r1) == 0)
			*t = KEY_ECDSA_P384;
		else if (strcmp(group, SN_secp521r1) == 0)
			*t = KEY_ECDSA_P521;
		else
			return ERR_KEY_UNSUPPORTED_CA;
		return 0;
	default:
		return ERR_KEY_UNSUPPORTED_CA;
	}
}

/* The digest of a CA key's signatures: none (PureEdDSA) for Ed25519,
 * the curve's SHA-2 for ECDSA (RFC 5656), SHA-512 for RSA
 * (rsa-sha2-512, RFC 8332). */
static const EVP_MD *
sign_md(enum key_type t)
{
	switch (t) {
	case KEY_ECDSA_P256:
		return EVP_sha256();
	case KEY_ECDSA_P384:
		return EVP_sha384();
	case KEY_ECDSA_P521:
	case KEY_RSA:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* Take ownership of pkey (on success and failure) and make a cakey. */
static int
cakey_wrap(struct cakey **out, EVP_PKEY *pkey)
{
	struct cakey *k = NULL;
	enum key_type t;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((r = cakey_classify(pkey, &t)) != 0)
		goto out;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = pubkey_from_evp(&k->pub, pkey)) != 0)
		goto out;
	k->pkey = pkey;
	pkey = NULL;
	k->type = t;
	if ((k->sign_tmpl = EVP_MD_CTX_new()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestSignInit(k->sign_tmpl, NULL, sign_md(t), NULL, k->pkey) !=
	    1) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	*out = k;
	k = NULL;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	cakey_free(k);
	return r;
}

int
cakey_generate(struct cakey **out, enum key_type t)
{
	EVP_PKEY *pkey = NULL;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	switch (t) {
	case KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case KEY_ECDSA_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case KEY_ECDSA_P384:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case KEY_ECDSA_P521:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
		break;
	case KEY_RSA:
		pkey = EVP_PKEY_Q_keygen(
		    NULL, NULL, "RSA", (size_t)CAKEY_RSA_GEN_BITS);
		break;
	default:
		return ERR_KEY_UNSUPPORTED_CA;
	}
	if (pkey == NULL) {
		err_crypto_set();
		return ERR_CRYPTO;
	}
	return cakey_wrap(out, pkey);
}

int
cakey_save(const struct cakey *k, const char *path)
{
	BIO *bio = NULL;
	BUF_MEM *bm = NULL;
	int r = ERR_INTERNAL;

	if (k == NULL || k->pkey == NULL || path == NULL || *path == '\0')
		return ERR_INVALID_ARG;
	/* Secure-heap memory BIO: its buffer is wiped when freed. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	/* No cipher: PKCS#8 PrivateKeyInfo, "BEGIN PRIVATE KEY". */
	if (!PEM_write_bio_PrivateKey(
		bio, k->pkey, NULL, NULL, 0, NULL, NULL) ||
	    BIO_get_mem_ptr(bio, &bm) <= 0 || bm == NULL) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	r = fileio_write_new(path, bm->data, bm->length, 0600);
	if (r == ERR_SYSTEM && errno == EEXIST)
		r = ERR_KEY_FILE_EXISTS;
out:
	if (bm != NULL && bm->data != NULL)
		OPENSSL_cleanse(bm->data, bm->max);
	BIO_free(bio);
	return r;
}

/*
 * Parse exactly one "PRIVATE KEY" PEM block (unencrypted PKCS#8) with
 * nothing but whitespace after it.  Encrypted PKCS#8, traditional
 * ("RSA PRIVATE KEY", "EC PRIVATE KEY"), OpenSSH and public keys are all
 * ERR_KEY_FILE_FORMAT.
 */
static int
parse_pkcs8_pem(EVP_PKEY **out, const uint8_t *buf, size_t len)
{
	static const char begin[] = "-----BEGIN PRIVATE KEY-----";
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	long derlen = 0;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	char rest[256];
	int n, i, r = ERR_INTERNAL;

	*out = NULL;
	ENSURE(len >= sizeof(begin) - 1 &&
		memcmp(buf, begin, sizeof(begin) - 1) == 0,
	    ERR_KEY_FILE_FORMAT);
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	/* Secure heap: OpenSSL's own decoding buffers are wiped too. */
	if (!PEM_read_bio_ex(bio, &name, &header, &der, &derlen,
		PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE)) {
		ERR_clear_error();
		r = ERR_KEY_FILE_FORMAT;
		goto out;
	}
	ENSURE(strcmp(name, PEM_STRING_PKCS8INF) == 0 && header[0] == '\0' &&
		derlen > 0,
	    ERR_KEY_FILE_FORMAT);
	/* Only whitespace may follow the block. */
	while ((n = BIO_read(bio, rest, sizeof(rest))) > 0) {
		for (i = 0; i < n; i++)
			ENSURE(rest[i] == '\n' || rest[i] == '\r' ||
				rest[i] == ' ' || rest[i] == '\t',
			    ERR_KEY_FILE_FORMAT);
	}
	p = der;
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, derlen)) == NULL ||
	    p != der + derlen) {
		ERR_clear_error();
		r = ERR_KEY_FILE_FORMAT;
		goto out;
	}
	if ((*out = EVP_PKCS82PKEY(p8)) == NULL) {
		ERR_clear_error();
		r = ERR_KEY_FILE_FORMAT;
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(rest, sizeof(rest));
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (der != NULL)
		OPENSSL_secure_clear_free(der, (size_t)derlen);
	OPENSSL_secure_free(name);
	OPENSSL_secure_free(header);
	BIO_free(bio);
	return r;
}

int
cakey_load(struct cakey **out, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	EVP_PKEY *pkey = NULL;
	struct stat st;
	int fd = -1, r = ERR_INTERNAL;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if (path == NULL)
		return ERR_INVALID_ARG;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) <
	    0) {
		/* O_NOFOLLOW on a symlink fails with ELOOP. */
		r = errno == ELOOP ? ERR_KEY_FILE_FORMAT : ERR_SYSTEM;
		goto out;
	}
	/* Checks on the open file, not the name: no race with a rename. */
	if (fstat(fd, &st) != 0) {
		r = ERR_SYSTEM;
		goto out;
	}
	ENSURE(S_ISREG(st.st_mode), ERR_KEY_FILE_FORMAT);
	ENSURE(st.st_uid == geteuid(), ERR_KEY_FILE_OWNER);
	ENSURE((st.st_mode & 077) == 0, ERR_KEY_FILE_MODE);
	if ((buf = malloc(CAKEY_MAX_FILE)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = fileio_read_bounded(fd, buf, CAKEY_MAX_FILE, &len)) != 0)
		goto out;
	if ((r = parse_pkcs8_pem(&pkey, buf, len)) != 0)
		goto out;
	r = cakey_wrap(out, pkey);
	pkey = NULL;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, CAKEY_MAX_FILE);
		free(buf);
	}
	EVP_PKEY_free(pkey);
	if (fd >= 0)
		close(fd);
	return r;
}

int
cakey_open(struct cakey **out, const char *source, const char *module,
    const char *pin_file)
{
	struct p11_key *pk = NULL;
	struct cakey *k = NULL;
	int r = ERR_INTERNAL;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if (source == NULL || *source == '\0')
		return ERR_INVALID_ARG;
	if (!p11_uri_is(source))
		return cakey_load(out, source);
	if ((r = p11_key_open(&pk, source, module, pin_file)) != 0)
		goto out;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	k->type = pubkey_type(p11_key_public(pk));
	k->ops = &p11_cakey_ops;
	k->impl = pk;
	pk = NULL;
	*out = k;
	k = NULL;
	r = 0;
out:
	p11_key_free(pk);
	cakey_free(k);
	return r;
}

/* Raw signature bytes over data with sign_md(k->type), from a copy of
 * k->sign_tmpl; *sig new. */
static int
evp_sign(const struct cakey *k, uint8_t **sig, size_t *siglen,
    const uint8_t *data, size_t datalen)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t *s = NULL;
	size_t slen = 0;
	int r = ERR_INTERNAL;

	*sig = NULL;
	*siglen = 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (EVP_MD_CTX_copy_ex(ctx, k->sign_tmpl) != 1 ||
	    EVP_DigestSign(ctx, NULL, &slen, data, datalen) != 1) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	if (slen == 0 || slen > CAKEY_MAX_SIG || (s = malloc(slen)) == NULL) {
		r = slen == 0 || slen > CAKEY_MAX_SIG ? ERR_INTERNAL
						      : ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestSign(ctx, s, &slen, data, datalen) != 1) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	*sig = s;
	*siglen = slen;
	s = NULL;
	r = 0;
out:
	free(s);
	EVP_MD_CTX_free(ctx);
	return r;
}

/* ECDSA: DER ECDSA-Sig-Value -> string(mpint r, mpint s) into w. */
static int
put_ecdsa_sig(struct wire *w, const uint8_t *der, size_t derlen)
{
	ECDSA_SIG *es = NULL;
	const BIGNUM *br = NULL, *bs = NULL;
	const unsigned char *p = der;
	struct wire *inner = NULL;
	uint8_t num[80];
	int n, r = ERR_INTERNAL;

	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL ||
	    p != der + derlen) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	ECDSA_SIG_get0(es, &br, &bs);
	if ((inner = wire_new(256)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	ENSURE(BN_num_bytes(br) <= (int)sizeof(num) &&
		BN_num_bytes(bs) <= (int)sizeof(num),
	    ERR_INTERNAL);
	n = BN_bn2bin(br, num);
	if ((r = wire_put_mpint(inner, num, (size_t)n)) != 0)
		goto out;
	n = BN_bn2bin(bs, num);
	if ((r = wire_put_mpint(inner, num, (size_t)n)) != 0)
		goto out;
	if ((r = wire_put_stringb(w, inner)) != 0)
		goto out;
	r = 0;
out:
	wire_free(inner);
	ECDSA_SIG_free(es);
	return r;
}

int
cakey_sign(const struct cakey *k, uint8_t **sig, size_t *siglen,
    const uint8_t *data, size_t datalen)
{
	struct wire *w = NULL;
	uint8_t *raw = NULL, *padded = NULL;
	size_t rawlen = 0, modlen;
	int r = ERR_INTERNAL;

	if (sig != NULL)
		*sig = NULL;
	if (siglen != NULL)
		*siglen = 0;
	if (k == NULL || sig == NULL || siglen == NULL ||
	    (data == NULL && datalen != 0))
		return ERR_INVALID_ARG;
	if (k->ops != NULL)
		return k->ops->sign(k->impl, sig, siglen, data, datalen);
	if ((w = wire_new(CAKEY_MAX_SIG)) == NULL)
		return ERR_ALLOC;
	switch (k->type) {
	case KEY_ED25519:
		/* PureEdDSA: no digest. */
		if ((r = evp_sign(k, &raw, &rawlen, data, datalen)) != 0)
			goto out;
		ENSURE(rawlen == 64, ERR_INTERNAL);
		if ((r = wire_put_cstring(w, "ssh-ed25519")) != 0 ||
		    (r = wire_put_string(w, raw, rawlen)) != 0)
			goto out;
		break;
	case KEY_ECDSA_P256:
	case KEY_ECDSA_P384:
	case KEY_ECDSA_P521:
		if ((r = evp_sign(k, &raw, &rawlen, data, datalen)) != 0)
			goto out;
		if ((r = wire_put_cstring(w, pubkey_type_name(k->pub))) != 0 ||
		    (r = put_ecdsa_sig(w, raw, rawlen)) != 0)
			goto out;
		break;
	case KEY_RSA:
		/* PKCS#1 v1.5 is the RSA default padding for DigestSign. */
		if ((r = evp_sign(k, &raw, &rawlen, data, datalen)) != 0)
			goto out;
		modlen = (size_t)EVP_PKEY_get_size(k->pkey);
		ENSURE(
		    rawlen <= modlen && modlen <= CAKEY_MAX_SIG, ERR_INTERNAL);
		if ((padded = calloc(1, modlen)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		/* Exactly modulus-length bytes: left-pad with zeros. */
		memcpy(padded + (modlen - rawlen), raw, rawlen);
		if ((r = wire_put_cstring(w, "rsa-sha2-512")) != 0 ||
		    (r = wire_put_string(w, padded, modlen)) != 0)
			goto out;
		break;
	default:
		r = ERR_KEY_UNSUPPORTED_CA;
		goto out;
	}
	if ((r = wire_dup(w, sig, siglen)) != 0)
		goto out;
	r = 0;
out:
	free(raw);
	free(padded);
	wire_free(w);
	return r;
}
