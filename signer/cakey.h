/*
 * cakey.h: the CA private key: generation, PKCS#8 PEM storage, loading
 * with file-permission checks, and producing SSH signature blobs.
 *
 * Only the signer process (signer.h) loads a CA key in a running jitcad;
 * jitcad init generates one and stores it.  A struct cakey owns its
 * EVP_PKEY; cakey_free() releases it (OpenSSL wipes key material).
 *
 * CA key types: ed25519, ecdsa-p256, ecdsa-p384, rsa-3072.  Signatures
 * (RFC 8709, RFC 5656 section 3.1.2, RFC 8332): Ed25519 PureEdDSA; ECDSA with
 * the curve's SHA-2 and r,s as minimal mpints; RSA as rsa-sha2-512, exactly
 * modulus-length bytes.
 */
#ifndef JITCA_CAKEY_H
#define JITCA_CAKEY_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"
#include "signer/pubkey.h"

struct cakey;

/* Name as used by jitcad init --ca-key-type: "ed25519", "ecdsa-p256",
 * "ecdsa-p384", "rsa-3072".  KEY_UNSPEC when unknown. */
enum key_type cakey_type_from_name(const char *name);

MUST_CHECK int cakey_generate(struct cakey **out, enum key_type t);
/* Write as PKCS#8 PEM, mode 0600, created exclusively (ERR_KEY_FILE_EXISTS
 * if path exists), fsync'd. */
MUST_CHECK int cakey_save(const struct cakey *k, const char *path);
/* Load; refuses a file readable/writable by group or others
 * (ERR_KEY_FILE_MODE), owned by another user (ERR_KEY_FILE_OWNER), not a
 * regular file, or not a supported PKCS#8 PEM key. */
MUST_CHECK int cakey_load(struct cakey **out, const char *path);
void cakey_free(struct cakey *k);

/* Public half (borrowed, lives as long as k). */
const struct pubkey *cakey_public(const struct cakey *k);

/* SSH signature blob (string alg, string sig) over data; *sig is new. */
MUST_CHECK int cakey_sign(const struct cakey *k, uint8_t **sig, size_t *siglen,
    const uint8_t *data, size_t datalen);

#endif /* JITCA_CAKEY_H */
