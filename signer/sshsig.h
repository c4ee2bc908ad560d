/*
 * sshsig.h: OpenSSH's detached signature format (PROTOCOL.sshsig), the
 * one `ssh-keygen -Y sign` writes and `ssh-keygen -Y verify` checks:
 * signing through a callback, armoring, and strict verification.
 *
 * Signed data (PROTOCOL.sshsig section 3): "SSHSIG", string namespace,
 * string reserved (empty), string hash algorithm, string H(message).
 * The blob (section 2): "SSHSIG", uint32 version 1, string public key,
 * string namespace, string reserved, string hash algorithm, string
 * signature (the SSH signature blob of pubkey.h / cakey.h).  Armor: the
 * line "-----BEGIN SSH SIGNATURE-----", base64 in lines of 70 columns,
 * "-----END SSH SIGNATURE-----", each line ending in "\n": exactly what
 * ssh-keygen writes.
 *
 * We sign with sha512, as ssh-keygen does by default.  The verifier
 * accepts sha256 and sha512 and refuses, each with its own code: text
 * that is not exactly that armor (ERR_SSHSIG_ARMOR; other line lengths,
 * CR, blank lines, anything after the footer), bad base64, a wrong magic
 * or version, a public key other than the expected one (byte-wise on the
 * canonical blob), a different namespace, a non-empty reserved field
 * (OpenSSH ignores it; nothing we accept carries one), another hash
 * algorithm, trailing bytes, and a signature that does not verify
 * (ERR_SIG_INVALID; SHA-1 "ssh-rsa" is ERR_SIG_ALG).
 *
 * The code that builds a signature never holds the key: sshsig_sign()
 * takes a callback that returns an SSH signature blob (the signer
 * process, or cakey_sign() in tests), as cert_sign() does, and checks
 * the result before armoring it.
 */
#ifndef JITCA_SSHSIG_H
#define JITCA_SSHSIG_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"
#include "signer/pubkey.h"

struct wire;

#define SSHSIG_MAGIC "SSHSIG"
#define SSHSIG_MAGIC_LEN 6
#define SSHSIG_VERSION 1
#define SSHSIG_BEGIN "-----BEGIN SSH SIGNATURE-----\n"
#define SSHSIG_END "-----END SSH SIGNATURE-----\n"
/* Base64 characters per armor line, as ssh-keygen wraps them. */
#define SSHSIG_LINE 70
/* Largest armored signature accepted (an RSA-16384 one is ~3.6 kB). */
#define SSHSIG_MAX_ARMOR (16u * 1024)
/* Longest namespace, bytes. */
#define SSHSIG_MAX_NAMESPACE 256

/* Signs data: writes a new SSH signature blob (string alg, string sig) to
 * *sig; same shape as cert_sign_fn and cakey_sign(). */
typedef int sshsig_sign_fn(void *ctx, uint8_t **sig, size_t *siglen,
    const uint8_t *data, size_t datalen);

/* Append the section 3 signed data for msg to w: hashalg is "sha256" or
 * "sha512" (ERR_SSHSIG_HASH_ALG otherwise); ns must be 1 to
 * SSHSIG_MAX_NAMESPACE printable ASCII bytes (ERR_INVALID_ARG). */
MUST_CHECK int sshsig_signed_data(struct wire *w, const char *ns,
    const char *hashalg, const uint8_t *msg, size_t msglen);

/* Sign msg under namespace ns for key (the public half of what fn signs
 * with): *out is the new NUL-terminated armored text, *outlen its length
 * (may be NULL).  A blob from fn that does not verify by key is refused. */
MUST_CHECK int sshsig_sign(char **out, size_t *outlen, const struct pubkey *key,
    const char *ns, const uint8_t *msg, size_t msglen, sshsig_sign_fn *fn,
    void *ctx);

/* Verify an armored signature (len bytes of text) over msg by key under
 * namespace ns.  0 only when everything above holds. */
MUST_CHECK int sshsig_verify(const char *text, size_t len,
    const struct pubkey *key, const char *ns, const uint8_t *msg,
    size_t msglen);

/* The armor alone: blob to text (new, NUL-terminated), and strict text
 * to blob (new). */
MUST_CHECK int sshsig_armor(
    char **out, size_t *outlen, const uint8_t *blob, size_t len);
MUST_CHECK int sshsig_dearmor(
    uint8_t **blob, size_t *bloblen, const char *text, size_t len);

#endif /* JITCA_SSHSIG_H */
