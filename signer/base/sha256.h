/*
 * sha256.h: the one SHA-256 of a buffer (OpenSSL's EVP_Digest) that the
 * rest of jitca calls: token hashes (ca/users.c), certificate and key
 * hashes (ca/ca.c, signer/pubkey.c).  The ledger's streaming hash chain
 * keeps its own EVP context (ca/store/chain.c).  No allocation.
 */
#ifndef JITCA_SHA256_H
#define JITCA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

#define SHA256_LEN 32

/* out = SHA-256(data[0..len)).  ERR_CRYPTO (out wiped, the OpenSSL
 * error in err_crypto_detail()). */
MUST_CHECK int sha256(uint8_t out[SHA256_LEN], const void *data, size_t len);

#endif /* JITCA_SHA256_H */
