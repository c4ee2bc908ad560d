/*
 * sha256.c: the SHA-256 wrapper of sha256.h.
 *
 * The digest is fetched from the default provider once: with the legacy
 * EVP_sha256() (and SHA256(), which goes through it) every digest looks
 * the implementation up again, a walk of OpenSSL's method store under
 * its lock, which costs more than hashing a certificate and contends
 * between server threads.
 */
#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "signer/base/sha256.h"

static EVP_MD *sha256_fetched;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *
sha256_md(void)
{
	(void)pthread_once(&sha256_once, sha256_fetch);
	/* Should the fetch fail, the legacy handle still works. */
	return sha256_fetched != NULL ? sha256_fetched : EVP_sha256();
}

int
sha256(uint8_t out[SHA256_LEN], const void *data, size_t len)
{
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, out, &mdlen, sha256_md(), NULL) != 1 ||
	    mdlen != SHA256_LEN) {
		OPENSSL_cleanse(out, SHA256_LEN);
		err_crypto_set();
		return ERR_CRYPTO;
	}
	return 0;
}
