/*
 * krl.h: building, checking and installing OpenSSH key revocation lists
 * (KRLs), as sshd's RevokedKeys reads them (OpenSSH's PROTOCOL.krl,
 * PROTOCOL.krl).
 *
 * A struct krl collects revocations in memory: serial ranges and key ids
 * per CA key, and SHA-256 hashes of plain public keys.  krl_serialize()
 * lays them out exactly as `ssh-keygen -k` does (section 2.4: one
 * certificates section per CA in order of first appearance, serials
 * sorted, merged and encoded as list/range/bitmap by ssh-keygen's cost
 * model, key ids sorted and de-duplicated, then one SHA256 section with
 * sorted, de-duplicated hashes), with one deviation that keeps the KRL
 * readable (sshd refuses every key when it cannot read its KRL): a bitmap never
 * spans more than KRL_BITMAP_BITS serials; where ssh-keygen would make it wider
 * (and so unreadable to OpenSSH), the bitmap is closed and a new subsection
 * started.  Output is byte-identical to ssh-keygen wherever ssh-keygen's
 * own output is readable.  No signature (4), extension (255), explicit
 * key (2) or SHA-1 (3) sections are ever written.
 *
 * krl_check() is a strict validator for any KRL (ours or ssh-keygen's),
 * run by krl_write_atomic() before it installs anything: it refuses every
 * structural defect that makes OpenSSH 9.2+ reject a KRL, and a little more
 * (see krl_check()); key blobs are checked for shape only (an EC point off the
 * curve or a tiny RSA key would pass here and fail in OpenSSH).
 * krl_write_atomic() installs a checked KRL on disk without ever leaving a
 * partial file.
 *
 * Nothing here reads the ledger or knows about users; the caller (the
 * ledger's revocation code, jitcad krl, GET /v1/krl) feeds revocations
 * in.  Works with signer/wire.h.
 */
#ifndef JITCA_KRL_H
#define JITCA_KRL_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

#define KRL_MAGIC "SSHKRL\n\0"
#define KRL_MAGIC_LEN 8
#define KRL_FORMAT_VERSION 1

/* Top-level section types. */
#define KRL_SECTION_CERTIFICATES 1
#define KRL_SECTION_EXPLICIT_KEY 2
#define KRL_SECTION_FINGERPRINT_SHA1 3
#define KRL_SECTION_SIGNATURE 4 /* never emitted, refused by krl_check */
#define KRL_SECTION_FINGERPRINT_SHA256 5
#define KRL_SECTION_EXTENSION 255 /* never emitted, refused by krl_check */

/* Subsections of a certificates section. */
#define KRL_CERT_SERIAL_LIST 0x20
#define KRL_CERT_SERIAL_RANGE 0x21
#define KRL_CERT_SERIAL_BITMAP 0x22
#define KRL_CERT_KEY_ID 0x23

/* Widest bitmap OpenSSH can read: an mpint of 2048 bytes, bits 0..16383. */
#define KRL_BITMAP_BITS 16384

/* Size of an empty KRL (header only, empty comment). */
#define KRL_EMPTY_LEN 44

/* Bounds: every collection has one. */
#define KRL_SIZE_MAX (16u * 1024 * 1024) /* serialized KRL, bytes */
#define KRL_COMMENT_MAX 1024 /* bytes */
#define KRL_CA_MAX 64 /* distinct CA keys */
#define KRL_CA_BLOB_MAX 4096 /* bytes, as PUBKEY_MAX_BLOB */
#define KRL_RANGES_MAX (4u * 1024 * 1024) /* serial ranges kept, per CA */
#define KRL_KEY_IDS_MAX (1024u * 1024) /* key ids, per CA */
#define KRL_KEY_ID_MAX 4096 /* bytes per key id */
#define KRL_HASHES_MAX (1024u * 1024) /* SHA-256 hashes */

struct krl;

/*
 * New empty KRL with the given header fields.  generated_date is written
 * as given (seconds since the epoch; pass time(NULL)).  comment may be
 * NULL (empty); it must be free of NUL (it is a C string) and at most
 * KRL_COMMENT_MAX bytes, else ERR_TOO_LARGE.  *out is new; krl_free()
 * frees it.
 */
MUST_CHECK int krl_new(struct krl **out, uint64_t krl_version,
    uint64_t generated_date, const char *comment);
/* Frees everything; NULL is fine. */
void krl_free(struct krl *krl);

/*
 * Revoke serials lo..hi (inclusive) of certificates signed by the CA whose
 * public key blob is ca_blob (copied; compared byte for byte to find the
 * CA's section).  lo or hi of 0 is ERR_CERT_SERIAL_ZERO (serial 0 means
 * "unnumbered": revoke such certificates by key id), lo > hi is
 * ERR_INVALID_ARG, a blob that is not a plain ed25519/ECDSA/RSA key blob
 * is ERR_KEY_UNKNOWN_TYPE / ERR_KEY_IS_CERT / ERR_BAD_FORMAT.  Overlapping
 * and repeated ranges are fine.  O(1) amortised: a range that starts
 * inside or right after the previous one of this CA extends it at once
 * (serials in ascending order cost no memory); the rest are sorted and
 * merged by krl_serialize().
 */
MUST_CHECK int krl_revoke_serials(struct krl *krl, const uint8_t *ca_blob,
    size_t ca_len, uint64_t lo, uint64_t hi);
/*
 * Revoke every certificate with key id `id` signed by that CA.  Any
 * non-empty C string of at most KRL_KEY_ID_MAX bytes is legal in a KRL
 * (jitca's own ids are stricter, see signer/names.h); empty is
 * ERR_INVALID_ARG.  The id is copied; duplicates are fine.
 */
MUST_CHECK int krl_revoke_key_id(
    struct krl *krl, const uint8_t *ca_blob, size_t ca_len, const char *id);
/*
 * Revoke a plain public key by the SHA-256 of its blob (pubkey_sha256()),
 * which also revokes every certificate issued for that key.
 */
MUST_CHECK int krl_revoke_key_sha256(struct krl *krl, const uint8_t hash[32]);

/*
 * Lay the KRL out as ssh-keygen -k would (see the top of this file) into
 * a new malloc'd block *out of *len bytes; the caller frees it.  Sorts
 * and merges the collected entries in place (the KRL stays usable; a
 * second call gives the same bytes).  ERR_TOO_LARGE past KRL_SIZE_MAX.
 */
MUST_CHECK int krl_serialize(struct krl *krl, uint8_t **out, size_t *len);

/*
 * Strict check of a serialized KRL of len bytes.  Returns 0, or:
 *   ERR_BAD_FORMAT      bad magic, format_version != 1, a section type
 *                       other than 1, 2, 3, 5 (signature 4 and extension
 *                       255 sections included), an unknown subsection,
 *                       a range with min > max, a bitmap that wraps past
 *                       2^64-1, a SHA-1/SHA-256 hash of the wrong length,
 *                       an empty or malformed key blob
 *   ERR_KEY_UNKNOWN_TYPE / ERR_KEY_IS_CERT  a CA or explicit key blob
 *                       whose type is not a plain ed25519/ECDSA/RSA key
 *   ERR_CERT_SERIAL_ZERO  serial 0 in a list, a range or a bitmap
 *   ERR_MPINT_TOO_LARGE a bitmap over 2048 bytes (bit index > 16383)
 *   ERR_MPINT_NEGATIVE / ERR_MPINT_PADDING  a malformed bitmap mpint
 *                       (OpenSSH tolerates redundant leading zeros; we
 *                       never write them and refuse them)
 *   ERR_STRING_NUL      NUL inside the comment or a key id
 *   ERR_BUF_SHORT       a field runs past the end of its container
 *   ERR_TRAILING_DATA   bytes left over inside a section or subsection
 *                       that do not form a whole entry
 *   ERR_TOO_LARGE       len > KRL_SIZE_MAX
 * Header flags and the reserved strings are ignored, as OpenSSH does.
 * Key blobs are checked by type name and shape only, not parsed.
 */
MUST_CHECK int krl_check(const uint8_t *data, size_t len);

/*
 * Install data as the file at path, atomically: krl_check() first (a bad
 * KRL makes sshd refuse every key, so it is never installed), then a new
 * temp file in the same directory (O_EXCL, mode 0644 so sshd can read
 * it), write, fsync, rename over path, fsync the directory.  A failure
 * up to the rename removes the temp file and leaves path as it was;
 * ERR_SYSTEM from the final directory fsync means the new file is in
 * place but perhaps not yet durable.  ERR_SYSTEM is a failed system call
 * (errno is kept).
 */
MUST_CHECK int krl_write_atomic(
    const char *path, const uint8_t *data, size_t len);

#endif /* JITCA_KRL_H */
