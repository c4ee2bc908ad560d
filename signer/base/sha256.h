/*
 * sha256.h: the one SHA-256 of a buffer (OpenSSL's EVP_Digest) that the
 * rest of jitca calls: token hashes (ca/users.c), certificate and key
 * hashes (ca/ca.c, signer/pubkey.c), the Merkle tree (signer/merkle.c).
 * The ledger's streaming hash chain keeps its own EVP context
 * (ca/store/chain.c).
 */
#ifndef JITCA_SHA256_H
#define JITCA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "signer/err.h"

#define SHA256_LEN 32

/* out = SHA-256(data[0..len)).  ERR_CRYPTO (out wiped, the OpenSSL
 * error in err_crypto_detail()). */
MUST_CHECK int sha256(uint8_t out[SHA256_LEN], const void *data, size_t len);
/* SHA-256 fetched once from the default provider (EVP_sha256() if that
 * fails), for callers with their own EVP context (merkle.c, note.c):
 * EVP_sha256() makes every init look the implementation up again.
 * Thread-safe; never freed. */
const EVP_MD *sha256_md(void);

#endif /* JITCA_SHA256_H */
