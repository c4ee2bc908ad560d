/*
 * ed25519.h: verification of Ed25519 signatures (RFC 8032, PureEdDSA)
 * under one fixed public key, with tables made once for that key.
 *
 * For the keys a process verifies thousands of times: the CA keys, whose
 * every signature cert_sign() checks before a certificate leaves (a
 * faulty Ed25519 signature beside a good one of the same message gives
 * the private key away).  OpenSSL 3.0 verifies with the generic double
 * scalar multiplication in 25.5-bit limbs; here both points, the base
 * point and the key, are fixed, so [S]B - [k]A is 69 additions of
 * precomputed multiples in 51-bit limbs and no doubling.  It accepts
 * exactly what OpenSSL accepts (S < L; the encoding of [S]B - [k]A is R
 * byte for byte), which tests/unit/signer/test_ed25519.c checks against
 * OpenSSL.  Only public values pass through here: nothing needs to run
 * in constant time, and nothing here signs.
 *
 * pubkey_share() (pubkey.c) makes the tables of a published key and
 * pubkey_verify() (verify.c) uses them; every other key is verified by
 * OpenSSL.
 */
#ifndef JITCA_ED25519_H
#define JITCA_ED25519_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

struct ed25519_vkey;

/*
 * Tables for the 32-byte public key pk: ERR_SIG_INVALID when pk is not
 * the canonical encoding of a curve point (such a key is left to
 * OpenSSL), ERR_ALLOC, or ERR_CRYPTO when SHA-512 is not available or
 * the known-answer test run before the first tables failed.
 * About 278 KiB per key, made in about 17M instructions (the base
 * point's table, 480 KiB, is made once per process and shared).
 */
MUST_CHECK int ed25519_vkey_new(
    struct ed25519_vkey **out, const uint8_t pk[32]);
void ed25519_vkey_free(struct ed25519_vkey *vk);
/* The key's 32 bytes, as given to ed25519_vkey_new(). */
const uint8_t *ed25519_vkey_raw(const struct ed25519_vkey *vk);
/*
 * 0 when sig (R || S, 64 bytes) is vk's signature of m, ERR_SIG_INVALID
 * when it is not, ERR_ALLOC or ERR_CRYPTO when hashing failed.  Safe to
 * call from many threads on one vk.
 */
MUST_CHECK int ed25519_vkey_verify(const struct ed25519_vkey *vk,
    const uint8_t sig[64], const uint8_t *m, size_t mlen);

#endif /* JITCA_ED25519_H */
