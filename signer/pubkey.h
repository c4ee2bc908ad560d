/*
 * pubkey.h: OpenSSH public keys: parsing from the one-line form and from
 * wire blobs, encoding, fingerprints, and signature verification.
 *
 * Accepted: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa with a
 * modulus of 2048..16384 bits.  Refused, each with its own error code
 * (err.h): ssh-dss, sk-* keys, certificates given as keys, RSA keys that
 * are too small or too large, EC points off the curve or at infinity,
 * ed25519 keys of the wrong length, trailing bytes, bad base64, a text
 * type that differs from the blob's, and input over PUBKEY_MAX_LINE.
 *
 * A struct pubkey is immutable once made (an Ed25519 key's EVP_PKEY is
 * made on first use, race-free: pubkey_evp()) and owns an EVP_PKEY and the
 * canonical blob (RFC 4253 section 6.6; RFC 5656; RFC 8709), re-encoded
 * by us: the blob of a parsed key is always the minimal encoding.
 * Formats: RFC 4253 section 6.6, RFC 5656 section 3.1, RFC 8709 section 4.
 */
#ifndef JITCA_PUBKEY_H
#define JITCA_PUBKEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "signer/err.h"

struct wire;

#define PUBKEY_MAX_LINE (16u * 1024) /* one-line form, bytes */
#define PUBKEY_MAX_BLOB (4u * 1024) /* wire blob, bytes */
#define PUBKEY_FP_LEN 51 /* "SHA256:" + 43 base64 + NUL */

enum key_type {
	KEY_UNSPEC = 0,
	KEY_ED25519,
	KEY_ECDSA_P256,
	KEY_ECDSA_P384,
	KEY_ECDSA_P521,
	KEY_RSA,
};

struct pubkey;

/* Parse "type base64 [comment]" (leading/trailing whitespace and a
 * trailing newline allowed; comment ignored).  *out is new (pubkey_free). */
MUST_CHECK int pubkey_from_line(
    struct pubkey **out, const char *line, size_t len);
/*
 * The one-line form shared with certificates (cert.c): split
 * "type base64[ comment]" into its first two fields.  Blanks around the
 * fields and one trailing newline (or CRLF) are allowed; any other
 * control byte (NUL, a second line) is ERR_KEY_LINE, as is a missing
 * field or a type name outside printable ASCII; over max bytes is
 * ERR_TOO_LARGE.  *type and *b64 are borrowed from line (*typelen and
 * *b64len bytes, not NUL-terminated).  The comment is ignored.
 */
MUST_CHECK int pubkey_line_split(const char *line, size_t len, size_t max,
    const char **type, size_t *typelen, const char **b64, size_t *b64len);
/* "type base64(blob)[ comment]" as a new string, no newline: what
 * pubkey_line_split() reads back.  A comment with a control byte is
 * ERR_INVALID_ARG; a line over max bytes is ERR_TOO_LARGE. */
MUST_CHECK int pubkey_line_join(char **out, const char *type,
    const uint8_t *blob, size_t len, const char *comment, size_t max);
/* Parse a wire blob; the blob must hold exactly one key. */
MUST_CHECK int pubkey_from_blob(
    struct pubkey **out, const uint8_t *blob, size_t len);
/* Read the public fields of a key of type t from w (the format inside a
 * certificate: no leading type string), consuming them. */
MUST_CHECK int pubkey_from_fields(
    struct pubkey **out, enum key_type t, struct wire *w);
/* Wrap the public half of an OpenSSL key (any of the accepted kinds; the
 * EVP_PKEY is not kept, a public copy is made). */
MUST_CHECK int pubkey_from_evp(struct pubkey **out, const EVP_PKEY *pkey);
void pubkey_free(struct pubkey *k);

enum key_type pubkey_type(const struct pubkey *k);
/* "ssh-ed25519", "ecdsa-sha2-nistp256", ..., "ssh-rsa". */
const char *pubkey_type_name(const struct pubkey *k);
const char *key_type_name(enum key_type t);
/* Certificate type string for a key type ("ssh-ed25519-cert-v01@..."). */
const char *key_type_cert_name(enum key_type t);
/* Map a plain key type name to its enum; KEY_UNSPEC when unknown. */
enum key_type key_type_from_name(const char *name, size_t len);
/* Short name as ssh-keygen -l prints it: ED25519, ECDSA, RSA. */
const char *pubkey_short_name(const struct pubkey *k);
unsigned pubkey_bits(const struct pubkey *k);
/* Canonical blob (borrowed). */
const uint8_t *pubkey_blob(const struct pubkey *k, size_t *len);
/*
 * Borrowed OpenSSL key (public only).  An Ed25519 key's is made on first
 * use (parsing keeps the 32 bytes; OpenSSL takes any 32 bytes, so nothing
 * checked moves from parse to here): NULL when that fails, with OpenSSL's
 * reason in the error queue (err_crypto_set()).  Safe to call from several
 * threads on one key.  ECDSA and RSA keys are made and checked at parse.
 */
EVP_PKEY *pubkey_evp(const struct pubkey *k);
/*
 * For a key that many threads use and that is parsed again elsewhere
 * (the CA keys: each certificate carries a copy): make its EVP_PKEY now
 * and, for Ed25519, publish it so that every struct pubkey of the same
 * key made later takes a reference to it instead of building its own.
 * At most a few keys are published, for the life of the process; past
 * that this only makes k's own.  ERR_CRYPTO or ERR_ALLOC on failure.
 */
MUST_CHECK int pubkey_share(const struct pubkey *k);
/*
 * A new EVP_MD_CTX ready to verify with k and md (NULL: PureEdDSA), for
 * pubkey_verify(): for an Ed25519 key published by pubkey_share() (or a
 * copy of one) a copy of a context initialised once, without the
 * algorithm fetches of EVP_DigestVerifyInit(); else a fresh init.
 * ERR_CRYPTO or ERR_ALLOC on failure.
 */
MUST_CHECK int pubkey_verify_ctx(
    const struct pubkey *k, const EVP_MD *md, EVP_MD_CTX **out);
/*
 * The fixed-key verification tables (ed25519.h) of an Ed25519 key
 * published by pubkey_share(), or of a copy of one; NULL for any other
 * key.  Borrowed: published entries live as long as the process.
 */
struct ed25519_vkey;
const struct ed25519_vkey *pubkey_vkey(const struct pubkey *k);
/* 1 when both keys are the same key. */
int pubkey_equal(const struct pubkey *a, const struct pubkey *b);

/* Append the public fields without the type string (certificate body). */
MUST_CHECK int pubkey_put_fields(struct wire *w, const struct pubkey *k);
/* Append the blob as one string. */
MUST_CHECK int pubkey_put_blob(struct wire *w, const struct pubkey *k);
/* "type base64[ comment]" as a new string, no newline. */
MUST_CHECK int pubkey_to_line(
    char **out, const struct pubkey *k, const char *comment);
/* "SHA256:<unpadded base64>" exactly as ssh-keygen -l -E sha256 prints
 * it, into out[PUBKEY_FP_LEN]. */
MUST_CHECK int pubkey_fingerprint(
    char out[PUBKEY_FP_LEN], const struct pubkey *k);
/* Raw SHA-256 of the blob (KRL fingerprint sections). */
MUST_CHECK int pubkey_sha256(uint8_t out[32], const struct pubkey *k);

/*
 * Verify an SSH signature blob (string alg, string sig) by k over data.
 * Ed25519: PureEdDSA; ECDSA: r,s mpints with the curve's SHA-2; RSA:
 * rsa-sha2-512 or rsa-sha2-256 only (SHA-1 "ssh-rsa" is ERR_SIG_ALG).
 * If alg_out is non-NULL it receives a borrowed static name of the
 * algorithm found.  Trailing data anywhere is refused.
 */
MUST_CHECK int pubkey_verify(const struct pubkey *k, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t datalen, const char **alg_out);

#endif /* JITCA_PUBKEY_H */
