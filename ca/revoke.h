/*
 * revoke.h: revoking certificates and keys, and building the KRL from
 * the ledger (docs/design.md "The flow", invariant 6).
 *
 * revoke_apply() marks certificates revoked by one selector (serial, key
 * id, user, request id or public key) in ONE ledger transaction that also
 * appends one cert.revoked event per newly revoked certificate ({serial,
 * key_id, reason, user, role, request, krl_version}), a key.revoked event
 * for a newly revoked key ({key_fp, key_sha256, reason, certificates,
 * krl_version}), moves the
 * certificates' requests to state "revoked", and bumps krl_version
 * (the new version is in each of those events as "krl_version", so
 * ledger_verify_state() can check meta's counter).
 *
 * Decisions (docs/design.md does not fix them):
 * - Idempotent: revoking a certificate or key that is already revoked
 *   succeeds, reports it under "already_revoked" and writes nothing (no
 *   event, no krl_version bump).  ERR_NOT_FOUND only when the selector
 *   matches no certificate at all: no such serial or key id, a user with
 *   no live (unexpired) certificate, no such request.  A request that
 *   exists but has no certificate (pending, denied, expired) is
 *   ERR_WRONG_STATE.  A public key can always be revoked, also before any
 *   certificate was issued for it (then no request for it can be issued
 *   either: request.c refuses revoked keys with ERR_POLICY).
 * - Who may revoke: local actors ("local:...") and auditors anything; any
 *   other actor only certificates that are their own or of a role they
 *   approve (every matched certificate must qualify, else ERR_FORBIDDEN,
 *   and nothing is written); revoking a public key needs local/auditor.
 * - By user: all of that user's certificates that have not expired.
 *
 * The KRL (revoke_krl_build/revoke_krl_write) holds every revoked
 * certificate by serial under the CA key until long after it expires:
 * while valid_before + retention > now, retention =
 * revoke_krl_retention() = ca.hard_max_ttl + ca.backdate (24h1m by
 * default), so a CA clock that runs ahead by less than that never drops
 * a certificate that hosts still accept (invariant 6); plus the SHA-256
 * of every revoked key, forever.  krl_version from the ledger's meta,
 * generated_date now.  Written with krl_write_atomic().
 *
 * Works with ca/ca.h, ca/ledger.h, signer/krl.h, signer/pubkey.h.
 */
#ifndef JITCA_REVOKE_H
#define JITCA_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"
#include "ca/views.h"
#include "signer/err.h"

#define REVOKE_REASON_MAX 512

enum revoke_by {
	REVOKE_SERIAL = 1, /* serial */
	REVOKE_KEY_ID, /* text: key id */
	REVOKE_USER, /* text: user name */
	REVOKE_REQUEST, /* request */
	REVOKE_PUBLIC_KEY, /* text: one OpenSSH public key line */
	REVOKE_HOST, /* text: host name: its valid host certificates */
};

struct revoke_target {
	enum revoke_by by;
	uint64_t serial;
	int64_t request;
	const char *text; /* borrowed */
};

/*
 * Revoke what t selects, for reason (required, 1..512 bytes of UTF-8
 * without control characters), by actor.  *out (may be NULL) receives
 * what it did: a new struct revocation_view (ca/views.h;
 * revocation_view_free()): the serials newly revoked and those revoked
 * already, the KRL version, and for a key its fingerprint and whether it
 * was newly revoked.  Errors: ERR_INVALID_ARG,
 * ERR_NOT_FOUND, ERR_WRONG_STATE, ERR_FORBIDDEN, pubkey_from_line()'s
 * code for a bad key, ERR_BUSY/ERR_DB.
 */
MUST_CHECK int revoke_apply(struct ca *ca, const struct ca_actor *actor,
    const struct revoke_target *t, const char *reason,
    struct revocation_view **out);

/* Seconds a revoked certificate stays in the KRL past its valid_before:
 * hard_max_ttl + backdate of ca's configuration (without one, the
 * defaults': REVOKE_RETENTION_DEFAULT). */
#define REVOKE_RETENTION_DEFAULT (24u * 3600 + 60)
uint64_t revoke_krl_retention(const struct ca *ca);

/* The KRL as of now: *out new malloc'd bytes of *len (caller frees). */
MUST_CHECK int revoke_krl_build(struct ca *ca, uint8_t **out, size_t *len);
/* Build and install it atomically at path (krl_write_atomic()). */
MUST_CHECK int revoke_krl_write(struct ca *ca, const char *path);

#endif /* JITCA_REVOKE_H */
