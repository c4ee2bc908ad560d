/*
 * verify.c: pubkey_verify() of pubkey.h: checks an SSH signature blob
 * (string alg, string sig; RFC 8709, RFC 5656, RFC 8332) made by a public key.
 *
 * Ed25519 is PureEdDSA over the data (for a key published by
 * pubkey_share(), the CA keys, checked with its tables in ed25519.c;
 * else by OpenSSL); ECDSA carries r,s as mpints inside
 * a string and is hashed with the curve's SHA-2 (RFC 5656 section 6.2.1),
 * re-encoded here as DER for OpenSSL; RSA is PKCS#1 v1.5 with SHA-512 or
 * SHA-256 (RFC 8332), exactly modulus-length bytes.  SHA-1 "ssh-rsa" is
 * refused (OpenSSH dropped it from CASignatureAlgorithms in 8.2).  Trailing
 * bytes in the blob or in the ECDSA inner string are refused.
 *
 * Key parsing and blobs live in pubkey.c; signing in cakey.c.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "signer/ed25519.h"
#include "signer/pubkey.h"
#include "signer/wire.h"

#define VERIFY_MAX_SIG (16u * 1024)

/* Verify raw signature bytes with md (NULL: PureEdDSA), through a
 * context from pubkey_verify_ctx() (prepared once for the CA keys). */
static int
evp_verify(const struct pubkey *k, const EVP_MD *md, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t datalen)
{
	EVP_MD_CTX *ctx = NULL;
	int ok, r = ERR_INTERNAL;

	if ((r = pubkey_verify_ctx(k, md, &ctx)) != 0)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, siglen, data, datalen);
	if (ok != 1) {
		/* 0 is "does not verify"; <0 is malformed input to OpenSSL,
		 * which for a signature also means it does not verify. */
		ERR_clear_error();
		r = ERR_SIG_INVALID;
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* ECDSA inner string: mpint r, mpint s, nothing else; verify as DER. */
static int
verify_ecdsa(const struct pubkey *k, const EVP_MD *md, struct wire *inner,
    const uint8_t *data, size_t datalen)
{
	const uint8_t *rm, *sm;
	size_t rlen, slen;
	BIGNUM *br = NULL, *bs = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char *der = NULL;
	int derlen, r = ERR_INTERNAL;

	if ((r = wire_get_mpint_direct(inner, &rm, &rlen)) != 0 ||
	    (r = wire_get_mpint_direct(inner, &sm, &slen)) != 0)
		goto out;
	ENSURE(wire_len(inner) == 0, ERR_TRAILING_DATA);
	/* Zero r or s never verifies; no scalar is wider than P-521's. */
	ENSURE(
	    rlen > 0 && slen > 0 && rlen <= 66 && slen <= 66, ERR_SIG_INVALID);
	if ((br = BN_bin2bn(rm, (int)rlen, NULL)) == NULL ||
	    (bs = BN_bin2bn(sm, (int)slen, NULL)) == NULL ||
	    (es = ECDSA_SIG_new()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (!ECDSA_SIG_set0(es, br, bs)) {
		r = ERR_ALLOC;
		goto out;
	}
	br = bs = NULL; /* owned by es now */
	if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	r = evp_verify(k, md, der, (size_t)derlen, data, datalen);
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	BN_free(br);
	BN_free(bs);
	return r;
}

int
pubkey_verify(const struct pubkey *k, const uint8_t *sig, size_t siglen,
    const uint8_t *data, size_t datalen, const char **alg_out)
{
	struct wire *w = NULL, *inner = NULL;
	const char *alg;
	const char *found = NULL;
	const uint8_t *raw;
	size_t alen, rawlen;
	const EVP_MD *md = NULL;
	EVP_PKEY *pkey;
	const struct ed25519_vkey *vk;
	enum key_type t;
	int r = ERR_INTERNAL;

	if (alg_out != NULL)
		*alg_out = NULL;
	if (k == NULL || (sig == NULL && siglen != 0) ||
	    (data == NULL && datalen != 0))
		return ERR_INVALID_ARG;
	if (siglen > VERIFY_MAX_SIG)
		return ERR_TOO_LARGE;
	if ((w = wire_from(sig, siglen)) == NULL)
		return ERR_ALLOC;
	if ((r = wire_get_cstring_direct(w, &alg, &alen)) != 0 ||
	    (r = wire_get_string_direct(w, &raw, &rawlen)) != 0)
		goto out;
	ENSURE(wire_len(w) == 0, ERR_TRAILING_DATA);
	t = pubkey_type(k);

#define ALG_IS(s) (alen == sizeof(s) - 1 && memcmp(alg, s, alen) == 0)
	switch (t) {
	case KEY_ED25519:
		ENSURE(ALG_IS("ssh-ed25519"), ERR_SIG_ALG);
		found = "ssh-ed25519";
		ENSURE(rawlen == 64, ERR_SIG_INVALID);
		/* A published key (a CA key): its tables, same answers. */
		if ((vk = pubkey_vkey(k)) != NULL)
			r = ed25519_vkey_verify(vk, raw, data, datalen);
		else
			r = evp_verify(k, NULL, raw, rawlen, data, datalen);
		if (r != 0)
			goto out;
		break;
	case KEY_ECDSA_P256:
	case KEY_ECDSA_P384:
	case KEY_ECDSA_P521:
		if (t == KEY_ECDSA_P256) {
			ENSURE(ALG_IS("ecdsa-sha2-nistp256"), ERR_SIG_ALG);
			found = "ecdsa-sha2-nistp256";
			md = EVP_sha256();
		} else if (t == KEY_ECDSA_P384) {
			ENSURE(ALG_IS("ecdsa-sha2-nistp384"), ERR_SIG_ALG);
			found = "ecdsa-sha2-nistp384";
			md = EVP_sha384();
		} else {
			ENSURE(ALG_IS("ecdsa-sha2-nistp521"), ERR_SIG_ALG);
			found = "ecdsa-sha2-nistp521";
			md = EVP_sha512();
		}
		if ((inner = wire_from(raw, rawlen)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		if ((r = verify_ecdsa(k, md, inner, data, datalen)) != 0)
			goto out;
		break;
	case KEY_RSA:
		if (ALG_IS("rsa-sha2-512")) {
			found = "rsa-sha2-512";
			md = EVP_sha512();
		} else if (ALG_IS("rsa-sha2-256")) {
			found = "rsa-sha2-256";
			md = EVP_sha256();
		} else {
			/* Includes SHA-1 "ssh-rsa". */
			r = ERR_SIG_ALG;
			goto out;
		}
		/* Built at parse for RSA: never NULL. */
		ENSURE((pkey = pubkey_evp(k)) != NULL, ERR_CRYPTO);
		ENSURE(EVP_PKEY_get_size(pkey) > 0 &&
			rawlen == (size_t)EVP_PKEY_get_size(pkey),
		    ERR_SIG_INVALID);
		if ((r = evp_verify(k, md, raw, rawlen, data, datalen)) != 0)
			goto out;
		break;
	default:
		r = ERR_SIG_ALG;
		goto out;
	}
#undef ALG_IS
	if (alg_out != NULL)
		*alg_out = found;
	r = 0;
out:
	wire_free(inner);
	wire_free(w);
	return r;
}
