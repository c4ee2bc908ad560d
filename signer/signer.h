/*
 * signer.h: the signer process, the only holder of the CA private key
 * (OpenSSH's monitor is the model; docs/key-custody.md).
 *
 * signer_start() creates a socketpair and forks.  The child closes every
 * other descriptor; when asked (struct signer_params.run_as, from a
 * process started as root) it drops to the uid/gid that owns the key
 * file; it disables core dumps and ptrace (RLIMIT_CORE 0,
 * PR_SET_DUMPABLE 0), loads its own copy of the role policy through the
 * struct signer_policy it was given, loads the CA key with cakey_load()
 * (refusing a key file that is group/world-readable or not its own),
 * installs a seccomp allow-list (libseccomp), and answers requests until
 * the socket closes.  The parent never opens the key file: it learns the
 * CA public key from the child.
 *
 * Layering: signer/ knows no roles and no JSON.  The policy is an
 * interface (load, check, free) that the caller supplies;
 * ca/signpolicy.h implements it over jitca.json.  The child is a fork of
 * the caller, so it runs that code on its own copy of the file, read by
 * itself; the parent never sends policy or configuration bytes.
 *
 * Protocol (both directions): uint32 length of the rest, byte type,
 * payload; at most SIGNER_MAX_MSG bytes.  There is no request to sign
 * caller-chosen bytes: only typed requests.
 *   parent -> child  SIGNER_MSG_SIGN_USER    string user, string role,
 *                                            string to-be-signed body
 *   child -> parent  SIGNER_MSG_SIGN_OK      string SSH signature blob
 *   parent -> child  SIGNER_MSG_RELOAD       (empty): re-read the policy
 *   child -> parent  SIGNER_MSG_RELOAD_OK    (empty)
 *   child -> parent  SIGNER_MSG_ERROR        uint32 (negated error code)
 *   child -> parent  SIGNER_MSG_READY        string CA public key blob,
 *                                            sent once after the key loaded
 * For SIGN_USER the child parses the body with cert_from_tbs(), checks
 * that it names its own key as the signature key, applies
 * cert_check_policy() with its own clock and the limits of its own policy
 * copy, then the policy's check for (user, role) (principals within the
 * role's for that user, validity within the role's max, options and
 * extensions the role's), and only then signs.  A failed RELOAD keeps the
 * previous policy.  Any malformed message ends the child.
 *
 * Supervision: the parent notices a dead child with signer_poll() (reaps
 * it: no zombie) or on a broken exchange (ERR_SIGNER_DEAD), and
 * signer_restart() forks a new one with the same parameters; the new
 * child must hold the same CA key.  signer_alive() is lock-free.
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

struct signer;

/*
 * The role policy the child applies, supplied by the caller (jitcad uses
 * ca/signpolicy.h).  Called only in the child.
 *   load:  read the policy named by arg (jitcad: the state directory) and
 *          fill *state (new) and *lim (hard maximum TTL, backdate).
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
	const char *key_path; /* the CA key file (copied) */
	const struct signer_policy *policy; /* required; borrowed, static */
	const char *policy_arg; /* passed to policy->load (copied) */
	int run_as; /* 1: the child switches to uid/gid (needs root) */
	uid_t uid;
	gid_t gid;
};

/*
 * Fork the signer child.  Waits for it to load its policy and key: on
 * failure (e.g. ERR_KEY_FILE_MODE, ERR_CONFIG) returns the child's error
 * and reaps it.  *out is new; release with signer_stop().
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
 * another key; the child's error when it cannot start. */
MUST_CHECK int signer_restart(struct signer *s);
/* The CA public key (borrowed; lives as long as s). */
const struct pubkey *signer_public(const struct signer *s);
pid_t signer_pid(const struct signer *s);
/* Close the socket, wait for the child, free.  NULL is fine. */
void signer_stop(struct signer *s);

#endif /* JITCA_SIGNER_H */
