/*
 * signer.h: the signer process, the only holder of jitca's three private
 * keys: the user CA key, the host CA key and the ledger key that signs
 * checkpoints and KRLs (OpenSSH's monitor is the model;
 * docs/key-custody.md).
 *
 * signer_start() creates a socketpair and forks.  The child closes every
 * other descriptor; when asked (struct signer_params.run_as, from a
 * process started as root) it drops to the uid/gid that owns the key
 * files; it disables core dumps and ptrace (RLIMIT_CORE 0,
 * PR_SET_DUMPABLE 0), loads its own copy of the role policy through the
 * struct signer_policy it was given, loads each key from its source
 * (today a PKCS#8 PEM file through cakey_load(), refusing one that is
 * group/world-readable or not its own), refuses a ledger key that is not
 * Ed25519 (ERR_LEDGER_KEY_TYPE: C2SP notes are Ed25519) and two sources
 * holding the same key (ERR_SIGNER_SAME_KEY), installs a seccomp
 * allow-list (libseccomp), and answers requests until the socket closes.
 * The parent never opens a key file: it learns the public keys from the
 * child.  The host CA and ledger keys are optional (a NULL source): their
 * requests are then refused with ERR_SIGNER_NO_KEY.
 *
 * Layering: signer/ knows no roles and no JSON.  The policy is an
 * interface (load, check, free) that the caller supplies;
 * ca/signpolicy.h implements it over jitca.json.  The child is a fork of
 * the caller, so it runs that code on its own copy of the file, read by
 * itself; the parent never sends policy or configuration bytes.
 *
 * Protocol (both directions): uint32 length of the rest, byte type,
 * payload; at most SIGNER_MAX_MSG bytes (SIGN_KRL: SIGNER_MAX_KRL_MSG).
 * There is no request to sign caller-chosen bytes: only typed requests,
 * each re-parsed and checked by the child.
 *
 *   request (parent -> child)     answer (child -> parent)
 *   (none: once, after the keys   READY    string user CA key blob,
 *    loaded)                               string host CA key blob,
 *                                          string ledger key blob
 *                                          (empty string: not held)
 *   SIGN_USER    string user,     SIGN_OK  string SSH signature blob
 *                string role,              (user CA key)
 *                string TBS body
 *   SIGN_HOST    string host,     SIGN_OK  string SSH signature blob
 *                string TBS body           (host CA key)
 *   SIGN_CHECKPOINT string origin, CHECKPOINT_OK string signed note,
 *                uint64 tree size,         string armored SSHSIG of
 *                string root hash          the note (checkpoint@jitca)
 *                (32 bytes)                (ledger key)
 *   SIGN_KRL     string KRL       KRL_OK   string armored SSHSIG of the
 *                                          KRL (krl@jitca; ledger key)
 *   RELOAD       (empty)          RELOAD_OK (empty): policy re-read
 *   any of them                   ERROR    uint32 (negated error code)
 *
 * SIGN_USER: the child parses the body with cert_from_tbs(), checks that
 * it names the user CA key as the signature key and certifies none of
 * the signer's own keys (ERR_KEY_IS_CA), applies
 * cert_check_policy() with its own clock and the limits of its own policy
 * copy, then the policy's check for (user, role) (principals within the
 * role's for that user, validity within the role's max, options and
 * extensions the role's), and only then signs.
 * SIGN_HOST: a host certificate (ERR_CERT_NOT_HOST otherwise) naming the
 * host CA key (ERR_CERT_WRONG_CA), certifying none of the signer's own
 * keys (ERR_KEY_IS_CA), not starting in the future, passing
 * cert_check_host_policy() (host names or addresses only, no options or
 * extensions, validity within the policy's host_max_ttl), with a key id
 * "HOST:..." naming the host of the request (ERR_SIGNER_KEY_ID).
 * SIGN_CHECKPOINT: the child writes the checkpoint text itself
 * (note_checkpoint_text(): origin, size, base64 root, no extensions) and
 * signs it as a C2SP note under the key name origin and the whole signed
 * note as SSHSIG; it never signs a text it did not write.
 * SIGN_KRL: krl_check() must accept the bytes, which refuses signature
 * and extension sections among other defects (ERR_SIGNER_NOT_KRL).
 * A failed RELOAD keeps the previous policy.  Any malformed message ends
 * the child.
 *
 * Supervision: the parent notices a dead child with signer_poll() (reaps
 * it: no zombie) or on a broken exchange (ERR_SIGNER_DEAD), and
 * signer_restart() forks a new one with the same parameters; the new
 * child must hold the same three keys.  signer_alive() is lock-free.
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
/* Longest user or role name in a SIGN_USER request. */
#define SIGNER_MAX_NAME 64

/* Types 1 and 2 were a public-key request and its reply, never sent: the
 * key comes with SIGNER_MSG_READY.  The child refuses them as unknown. */
#define SIGNER_MSG_SIGN_USER 3
#define SIGNER_MSG_SIGN_OK 4
#define SIGNER_MSG_ERROR 5
#define SIGNER_MSG_READY 6
#define SIGNER_MSG_RELOAD 7
#define SIGNER_MSG_RELOAD_OK 8
#define SIGNER_MSG_SIGN_HOST 9
#define SIGNER_MSG_SIGN_CHECKPOINT 10
#define SIGNER_MSG_CHECKPOINT_OK 11
#define SIGNER_MSG_SIGN_KRL 12
#define SIGNER_MSG_KRL_OK 13

/* The message limit for SIGN_KRL alone (wire.h's WIRE_SIZE_MAX), and the
 * largest KRL it carries: 64 bytes short of krl.h's KRL_SIZE_MAX, for the
 * framing. */
#define SIGNER_MAX_KRL_MSG (16u * 1024 * 1024)
#define SIGNER_MAX_KRL (SIGNER_MAX_KRL_MSG - 64)
/* Longest host name in a SIGN_HOST request; longest checkpoint origin. */
#define SIGNER_MAX_HOST 253
#define SIGNER_MAX_ORIGIN 1024
/* Host certificates' longest validity when the policy sets none. */
#define SIGNER_HOST_MAX_TTL (30u * 86400)
/* SSHSIG namespaces of the ledger key's two signatures. */
#define SIGNER_NS_CHECKPOINT "checkpoint@jitca"
#define SIGNER_NS_KRL "krl@jitca"

struct signer;

/*
 * The role policy the child applies, supplied by the caller (jitcad uses
 * ca/signpolicy.h).  Called only in the child.
 *   load:  read the policy named by arg (jitcad: the state directory) and
 *          fill *state (new) and *lim (hard maximum TTL, backdate, host
 *          certificates' maximum; 0 there means SIGNER_HOST_MAX_TTL).
 *   check: 0 when certificate c may be signed for (user, role), else the
 *          refusal code (ERR_PRINCIPAL_NOT_ALLOWED, ERR_TTL_TOO_LONG, ...).
 *   free:  release a state (NULL is fine).
 */
struct signer_policy {
	int (*load)(void **state, struct cert_limits *lim, const char *arg);
	int (*check)(const void *state, const char *user, const char *role,
	    const struct cert *c, uint64_t now);
	void (*free)(void *state);
};

struct signer_params {
	const char *key_path; /* the user CA key source (copied) */
	const struct signer_policy *policy; /* required; borrowed, static */
	const char *policy_arg; /* passed to policy->load (copied) */
	int run_as; /* 1: the child switches to uid/gid (needs root) */
	uid_t uid;
	gid_t gid;
	const char *host_key_path; /* host CA key source (copied); NULL: none */
	const char
	    *ledger_key_path; /* ledger key source (copied); NULL: none */
};

/*
 * Fork the signer child.  Waits for it to load its policy and key: on
 * failure (e.g. ERR_KEY_FILE_MODE, ERR_CONFIG, ERR_SIGNER_SAME_KEY)
 * returns the child's error and reaps it.  *out is new; release with
 * signer_stop().
 */
MUST_CHECK int signer_start(struct signer **out, const struct signer_params *p);
/*
 * Ask the child to sign user certificate c for (user, role): encodes the
 * TBS, sends SIGN_USER, and on success fills c->blob etc. as cert_sign()
 * does.  Refusals come back as the child's error code; ERR_SIGNER_DEAD
 * when there is no live child.
 */
MUST_CHECK int signer_sign_user_cert(
    struct signer *s, struct cert *c, const char *user, const char *role);
/* The request itself: (user, role) and a to-be-signed body built by the
 * caller (the child parses and checks it all the same); *sig new.
 * ERR_TOO_LARGE when the message would exceed SIGNER_MAX_MSG. */
MUST_CHECK int signer_sign_user_tbs(struct signer *s, const char *user,
    const char *role, const uint8_t *tbs, size_t tbslen, uint8_t **sig,
    size_t *siglen);
/* The same with ctx a struct signer * (for struct ca's sign_user). */
int signer_sign_user_fn(
    void *ctx, struct cert *c, const char *user, const char *role);
/*
 * Ask the child to sign host certificate c (c->ca_key the host CA key)
 * for host (a name for the key id check and the record: c->key_id must
 * start "HOST:"): as signer_sign_user_cert() does, with SIGN_HOST.
 */
MUST_CHECK int signer_sign_host_cert(
    struct signer *s, struct cert *c, const char *host);
/* The request itself, with a caller-built body; *sig new. */
MUST_CHECK int signer_sign_host_tbs(struct signer *s, const char *host,
    const uint8_t *tbs, size_t tbslen, uint8_t **sig, size_t *siglen);
/*
 * A signed checkpoint for (origin, size, root): *note the new
 * NUL-terminated C2SP signed note (the checkpoint text and one signature
 * line by the ledger key under the name origin), *sig the new armored
 * SSHSIG of all of *note under SIGNER_NS_CHECKPOINT; the lengths (may be
 * NULL) without the NUL.  The parent verifies both against the ledger key
 * and the text against the request before returning them
 * (ERR_SIGNER_PROTOCOL when they do not hold).
 */
MUST_CHECK int signer_sign_checkpoint(struct signer *s, const char *origin,
    uint64_t size, const uint8_t root[32], char **note, size_t *notelen,
    char **sig, size_t *siglen);
/* The armored SSHSIG (SIGNER_NS_KRL, ledger key) of the KRL krl[0..len),
 * new, NUL-terminated, verified by the parent; ERR_SIGNER_NOT_KRL for
 * bytes that are not a KRL, ERR_TOO_LARGE past SIGNER_MAX_KRL. */
MUST_CHECK int signer_sign_krl(struct signer *s, const uint8_t *krl, size_t len,
    char **sig, size_t *siglen);
/* Tell the child to re-read its policy (it reads the file itself); the
 * child's error when the new policy does not load (it keeps the old). */
MUST_CHECK int signer_reload(struct signer *s);
/*
 * Non-blocking: reap the child if it has exited.  Returns 1 when the
 * child is (now) gone, with *status (may be NULL) its wait status, or
 * -1 when it was already reaped earlier; 0 while it runs or while a
 * request holds the lock (ask again later).
 */
int signer_poll(struct signer *s, int *status);
/* 1 while the child is believed to be running (lock-free). */
int signer_alive(const struct signer *s);
/* Replace a dead child by a new one with the same parameters (kills and
 * reaps a live one first).  ERR_CERT_WRONG_CA when the new child holds
 * another key for any of the three (or holds one the old did not); the child's
 * error when it cannot start. */
MUST_CHECK int signer_restart(struct signer *s);
/* The user CA, host CA and ledger public keys (borrowed; live as long as
 * s); NULL for a key the signer does not hold. */
const struct pubkey *signer_public(const struct signer *s);
const struct pubkey *signer_public_host(const struct signer *s);
const struct pubkey *signer_public_ledger(const struct signer *s);
pid_t signer_pid(const struct signer *s);
/* Close the socket, wait for the child, free.  NULL is fine. */
void signer_stop(struct signer *s);

#endif /* JITCA_SIGNER_H */
