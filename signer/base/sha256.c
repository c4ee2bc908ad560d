/*
 * sha256.c: the SHA-256 wrapper of sha256.h.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "signer/base/sha256.h"

int
sha256(uint8_t out[SHA256_LEN], const void *data, size_t len)
{
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, out, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != SHA256_LEN) {
		OPENSSL_cleanse(out, SHA256_LEN);
		err_crypto_set();
		return ERR_CRYPTO;
	}
	return 0;
}
