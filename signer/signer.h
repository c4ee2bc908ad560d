/*
 * signer.h: the signer process, the only holder of the CA private key
 * (DESIGN.md "Key custody"; OpenSSH's monitor is the model).
 *
 * signer_start() creates a socketpair and forks.  The child closes every
 * other descriptor, disables core dumps (RLIMIT_CORE 0, PR_SET_DUMPABLE 0),
 * loads the CA key with cakey_load() (refusing a group/world-readable
 * file), then answers requests until the socket closes.  The parent never
 * opens the key file: it learns the CA public key from the child.
 *
 * Protocol (both directions): uint32 length of the rest, byte type,
 * payload; at most SIGNER_MAX_MSG bytes.
 *   parent -> child  SIGNER_MSG_PUBKEY_REQ   (empty)
 *   child -> parent  SIGNER_MSG_PUBKEY       string CA public key blob
 *   parent -> child  SIGNER_MSG_SIGN_REQ     string to-be-signed cert body
 *   child -> parent  SIGNER_MSG_SIGN_OK      string SSH signature blob
 *   child -> parent  SIGNER_MSG_ERROR        uint32 (negated error code)
 *   child -> parent  SIGNER_MSG_READY        string CA public key blob,
 *                                            sent once after the key loaded
 * The child parses every body with cert_from_tbs() and applies
 * cert_check_policy() with its own clock and the limits fixed at start,
 * and checks that the signature key in the body is its own key, before
 * signing.  Any malformed message ends the child.
 *
 * A struct signer is safe to use from several threads: requests are
 * serialised by a mutex.
 */
#ifndef JITCA_SIGNER_H
#define JITCA_SIGNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "signer/cert.h"
#include "signer/err.h"
#include "signer/pubkey.h"

#define SIGNER_MAX_MSG (128u * 1024)
/* Seconds of clock slack the child allows on the backdate limit (the CA
 * stamps valid_after a moment before the child checks it), and the most
 * a certificate may start in the future (ERR_CERT_POSTDATED). */
#define SIGNER_CLOCK_SLACK 5

#define SIGNER_MSG_PUBKEY_REQ 1
#define SIGNER_MSG_PUBKEY 2
#define SIGNER_MSG_SIGN_REQ 3
#define SIGNER_MSG_SIGN_OK 4
#define SIGNER_MSG_ERROR 5
#define SIGNER_MSG_READY 6

struct signer;

/*
 * Fork the signer child for the key at key_path.  Waits for the child to
 * load the key: on failure (e.g. ERR_KEY_FILE_MODE) returns the child's
 * error and reaps it.  *out is new; release with signer_stop().
 */
MUST_CHECK int signer_start(
    struct signer **out, const char *key_path, const struct cert_limits *lim);
/* Ask the child to sign cert c (encodes its TBS, sends it, and on success
 * fills c->blob etc. as cert_sign() does).  Refusals come back as the
 * child's error code. */
MUST_CHECK int signer_sign_cert(struct signer *s, struct cert *c);
/* Raw: sign the given TBS bytes; *sig new. */
MUST_CHECK int signer_sign(struct signer *s, uint8_t **sig, size_t *siglen,
    const uint8_t *tbs, size_t tbslen);
/* The CA public key (borrowed; lives as long as s). */
const struct pubkey *signer_public(const struct signer *s);
pid_t signer_pid(const struct signer *s);
/* Close the socket, wait for the child, free.  NULL is fine. */
void signer_stop(struct signer *s);

/* cert_sign_fn adapter: ctx is a struct signer *. */
int signer_sign_fn(void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *tbs,
    size_t tbslen);

#endif /* JITCA_SIGNER_H */
