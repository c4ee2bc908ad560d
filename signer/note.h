/*
 * note.h: C2SP signed notes (c2sp.org/signed-note) with Ed25519
 * signatures, the transparency-log checkpoint text they carry
 * (c2sp.org/tlog-checkpoint), and the verifier key text form of Go's
 * golang.org/x/mod/sumdb/note.
 *
 * A note is a text ending in "\n", a blank line, and signature lines
 * "— NAME BASE64(keyid[4] || signature)\n" (U+2014 em dash, a space).
 * The whole note is UTF-8 without ASCII control characters other than
 * "\n".  An Ed25519 key's id is the first 4 bytes (big-endian) of
 * SHA-256(name || 0x0A || 0x01 || 32-byte public key); its verifier key
 * text is "NAME+KEYID+BASE64(0x01 || public key)", KEYID in 8 lower-case
 * hex digits.  Names are 1..NOTE_MAX_NAME bytes of UTF-8 without Unicode
 * spaces or "+".
 *
 * note_open() follows the spec: a signature whose (name, key id) is that
 * of a known key must verify (ERR_SIG_INVALID otherwise); at least one
 * must (ERR_NOTE_UNKNOWN_KEY otherwise); lines by other keys are ignored
 * (witness cosignatures, key rotation) unless NOTE_OPEN_KNOWN_ONLY asks
 * to refuse them.  Stricter than Go's note.Open: a known key signing
 * twice and a signature of the wrong length are ERR_NOTE_FORMAT, and all
 * base64 must be canonical.  Limits: NOTE_MAX_SIZE bytes, NOTE_MAX_SIGS
 * signature lines (the spec asks for at least 16).
 *
 * The checkpoint text is "origin\nsize\nbase64(root)\n" and optional
 * non-empty extension lines, each ending in "\n"; the size is decimal
 * without leading zeros and below 2^63 (merkle.h's limit).
 *
 * Signing takes a callback returning an SSH signature blob of type
 * ssh-ed25519 (the signer process holding the ledger key, or cakey_sign()
 * in tests), as cert_sign() and sshsig_sign() do; the note code never
 * holds the key, and checks the signature before writing it out.
 * Everything returned is malloc'd and owned by the caller.
 */
#ifndef JITCA_NOTE_H
#define JITCA_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"
#include "signer/pubkey.h"

#define NOTE_MAX_SIZE (64u * 1024)
#define NOTE_MAX_SIGS 32
#define NOTE_MAX_NAME 256
#define NOTE_ALG_ED25519 0x01
#define NOTE_ED25519_LEN 32
/* Checkpoint limits: origin and extension line bytes, extension lines. */
#define NOTE_MAX_LINE 1024
#define NOTE_MAX_EXTENSIONS 16

/* A known Ed25519 note key. */
struct note_verifier {
	char name[NOTE_MAX_NAME + 1]; /* NUL-terminated */
	uint32_t key_id;
	uint8_t key[NOTE_ED25519_LEN];
};

/* The checkpoint fields of a note text. */
struct note_checkpoint {
	char *origin;
	uint64_t size;
	uint8_t root[32];
	char **extensions; /* next lines, without "\n" */
	size_t next;
};

/* Key id of an Ed25519 key under name (namelen bytes). */
MUST_CHECK int note_key_id(uint32_t *id, const char *name, size_t namelen,
    const uint8_t key[NOTE_ED25519_LEN]);
/* Verifier for an ssh-ed25519 public key under name; ERR_SIG_ALG for
 * another key type, ERR_NOTE_FORMAT for a bad name. */
MUST_CHECK int note_verifier_from_pubkey(
    struct note_verifier *v, const char *name, const struct pubkey *k);
/* Parse "NAME+KEYID+BASE64" (len bytes, no newline): ERR_NOTE_VKEY for
 * bad structure, hex or key id, ERR_BAD_BASE64, ERR_SIG_ALG for a type
 * byte other than 0x01. */
MUST_CHECK int note_verifier_from_vkey(
    struct note_verifier *v, const char *vkey, size_t len);
/* Its text form, new string. */
MUST_CHECK int note_verifier_vkey(char **out, const struct note_verifier *v);

/* Signs data: a new SSH signature blob "ssh-ed25519" to *sig. */
typedef int note_sign_fn(void *ctx, uint8_t **sig, size_t *siglen,
    const uint8_t *data, size_t datalen);

/* Sign text (textlen bytes, must end in "\n" and obey the note rules,
 * ERR_NOTE_FORMAT) as v's key: *out is the new NUL-terminated note
 * "text\n— NAME SIG\n", *outlen its length (may be NULL). */
MUST_CHECK int note_sign(char **out, size_t *outlen, const char *text,
    size_t textlen, const struct note_verifier *v, note_sign_fn *fn, void *ctx);

#define NOTE_OPEN_KNOWN_ONLY 0x1 /* refuse signatures by unknown keys */

/* Open a note with the known keys vs[0..nvs) (nvs <= NOTE_MAX_SIGS,
 * ERR_INVALID_ARG otherwise): 0 when it verifies as described above;
 * *textlen (may be NULL) is then the length of the text, which is the
 * first *textlen bytes of note (borrowed). */
MUST_CHECK int note_open(const char *note, size_t len,
    const struct note_verifier *vs, size_t nvs, unsigned flags,
    size_t *textlen);

/* The checkpoint text for origin, size and root, then next extension
 * lines; new NUL-terminated string, *outlen its length (may be NULL).
 * ERR_INVALID_ARG for an empty origin or line, a control byte in one,
 * too many or too long lines, or size >= 2^63. */
MUST_CHECK int note_checkpoint_text(char **out, size_t *outlen,
    const char *origin, uint64_t size, const uint8_t root[32],
    const char *const *extensions, size_t next);
/* Parse a checkpoint text (the text note_open() found): *out new.
 * ERR_NOTE_CHECKPOINT for missing or empty lines, a bad size or a root
 * that is not 32 bytes, ERR_BAD_BASE64 for bad base64. */
MUST_CHECK int note_checkpoint_parse(
    struct note_checkpoint **out, const char *text, size_t len);
void note_checkpoint_free(struct note_checkpoint *c);

#endif /* JITCA_NOTE_H */
