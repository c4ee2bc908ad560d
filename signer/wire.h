/*
 * wire.h: a byte buffer for the SSH wire encoding (RFC 4251 section 5),
 * in the manner of OpenSSH's sshbuf.
 *
 * A struct wire is opaque.  It is either
 *   - owned and growable, with a size cap fixed at creation (wire_new()),
 *     into which put functions append; or
 *   - a read-only view of bytes it does not own (wire_from()), for parsing.
 * Both are read from the front: getters consume from the read offset.
 *
 * Getters clear their outputs first, then check, and consume only on
 * success: a failed read leaves the buffer exactly as it was.  "_direct"
 * getters return pointers borrowed from the buffer, valid until the buffer
 * is modified or freed.  Other getters allocate; the caller frees.
 * wire_free() wipes owned memory (OPENSSL_cleanse) before releasing it,
 * so a buffer may hold secrets.  All functions accept and refuse NULL
 * gracefully where documented; wire_free(NULL) is a no-op.
 *
 * Strings are "uint32 length, bytes"; cstrings are strings that must not
 * contain NUL (what OpenSSH reads key ids, principals and names with).
 * mpints follow RFC 4251: minimal two's complement, big-endian; jitca
 * handles only non-negative values and caps them at 16384 bits like
 * OpenSSH (SSHBUF_MAX_BIGNUM).
 */
#ifndef JITCA_WIRE_H
#define JITCA_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

/* Absolute cap for any buffer: nothing jitca handles is near this. */
#define WIRE_SIZE_MAX (16u * 1024 * 1024)
/* Largest mpint magnitude accepted: 16384 bits, as OpenSSH. */
#define WIRE_MPINT_MAX_BYTES 2048

struct wire;

/* New empty owned buffer that may grow to max bytes (<= WIRE_SIZE_MAX).
 * Returns NULL on allocation failure or a bad cap. */
struct wire *wire_new(size_t max);
/* Read-only view of len bytes at p (borrowed: p must outlive the view). */
struct wire *wire_from(const void *p, size_t len);
/* Frees, wiping owned memory first.  NULL is fine. */
void wire_free(struct wire *w);
/* Drops all content (wiped) and resets the read offset; keeps the cap. */
void wire_reset(struct wire *w);

/* Unread bytes. */
size_t wire_len(const struct wire *w);
/* Pointer to the unread bytes (borrowed). */
const uint8_t *wire_ptr(const struct wire *w);
/* Cap given at creation. */
size_t wire_max(const struct wire *w);
/* Copy of the unread bytes into a new malloc'd block (caller frees). */
MUST_CHECK int wire_dup(const struct wire *w, uint8_t **out, size_t *outlen);

/* Writers: append; ERR_BUF_FULL past the cap, ERR_BUF_READ_ONLY on a view. */
MUST_CHECK int wire_put(struct wire *w, const void *p, size_t len);
MUST_CHECK int wire_put_u8(struct wire *w, uint8_t v);
MUST_CHECK int wire_put_u32(struct wire *w, uint32_t v);
MUST_CHECK int wire_put_u64(struct wire *w, uint64_t v);
MUST_CHECK int wire_put_string(struct wire *w, const void *p, size_t len);
/* NUL-terminated s as a string (without the NUL). */
MUST_CHECK int wire_put_cstring(struct wire *w, const char *s);
/* The unread bytes of v as one string. */
MUST_CHECK int wire_put_stringb(struct wire *w, const struct wire *v);
/* Non-negative big-endian magnitude (leading zeros allowed in the input)
 * as a minimal mpint. */
MUST_CHECK int wire_put_mpint(struct wire *w, const uint8_t *mag, size_t len);
/* Reserve len bytes at the end and return a pointer to them (borrowed,
 * valid until the next write). */
MUST_CHECK int wire_reserve(struct wire *w, size_t len, uint8_t **dst);

/* Overwrite the 4 bytes at off (counted from the first unread byte) with
 * v, big-endian: back-patches a length written as a placeholder.
 * ERR_BUF_SHORT when they are not all there, ERR_BUF_READ_ONLY on a view. */
MUST_CHECK int wire_poke_u32(struct wire *w, size_t off, uint32_t v);
/* Readers: consume only on success. */
MUST_CHECK int wire_consume(struct wire *w, size_t len);
MUST_CHECK int wire_get(struct wire *w, void *dst, size_t len);
MUST_CHECK int wire_get_u8(struct wire *w, uint8_t *v);
MUST_CHECK int wire_get_u32(struct wire *w, uint32_t *v);
MUST_CHECK int wire_get_u64(struct wire *w, uint64_t *v);
MUST_CHECK int wire_peek_u32(const struct wire *w, uint32_t *v);
/* A string, borrowed.  p may be NULL (to skip). */
MUST_CHECK int wire_get_string_direct(
    struct wire *w, const uint8_t **p, size_t *len);
MUST_CHECK int wire_peek_string_direct(
    const struct wire *w, const uint8_t **p, size_t *len);
/* A string, copied into a new block (with an extra NUL for convenience). */
MUST_CHECK int wire_get_string(struct wire *w, uint8_t **p, size_t *len);
/* A string without embedded NUL, as a new NUL-terminated C string.
 * len may be NULL. */
MUST_CHECK int wire_get_cstring(struct wire *w, char **s, size_t *len);
/* A cstring, borrowed (not NUL-terminated!). */
MUST_CHECK int wire_get_cstring_direct(
    struct wire *w, const char **s, size_t *len);
/* A string, returned as a new read-only view of its contents (borrowed
 * from w's memory; free the view with wire_free()). */
MUST_CHECK int wire_get_wire(struct wire *w, struct wire **sub);
/* A non-negative mpint as a borrowed magnitude without leading zero
 * (empty for zero).  Refuses negative, non-minimal and > 16384-bit values. */
MUST_CHECK int wire_get_mpint_direct(
    struct wire *w, const uint8_t **mag, size_t *len);

/* Base64 (RFC 4648, standard alphabet, padded) of len bytes at p, as a new
 * NUL-terminated string. */
MUST_CHECK int wire_b64_encode(char **out, const uint8_t *p, size_t len);
/* Strict decoding: only the standard alphabet, correct '=' padding, no
 * whitespace, no bits set in the padding.  Output is malloc'd. */
MUST_CHECK int wire_b64_decode(
    uint8_t **out, size_t *outlen, const char *s, size_t len);
/* Unpadded base64 (as ssh-keygen prints SHA256 fingerprints) or
 * base64url (tokens) variants. */
MUST_CHECK int wire_b64_encode_nopad(
    char **out, const uint8_t *p, size_t len, int url);
/* The value (0..63) of one base64 character, or -1 when c is not in the
 * alphabet: the standard one, or base64url when url is 1. */
int wire_b64_value(char c, int url);

/* The value (0..15) of one hex digit (either case), or -1. */
int wire_hex_value(unsigned char c);

/* Lower-case hex of len bytes at p into out, which has room for 2 * len
 * digits and a NUL. */
void wire_hex_encode(char *out, const uint8_t *p, size_t len);

#endif /* JITCA_WIRE_H */
