/*
 * ca.h: the CA's domain context, shared by request.c (the request ->
 * approval -> issuance state machine), revoke.c (revocation and the KRL)
 * and their callers (the HTTP API in web/, the jitcad admin commands).
 *
 * A struct ca only borrows: the configuration, the open ledger, the CA
 * public key and the signing callback all belong to the caller and must
 * outlive every call that uses the context.  In production sign_user is
 * signer_sign_user_cert() with a struct signer * (the signer process
 * holds the CA key and re-checks the certificate against the role it is
 * asked for, docs/key-custody.md); tests may instead set sign,
 * a cakey_sign() adapter that signs to-be-signed bytes.  Nothing here prints,
 * exits or knows about HTTP.
 *
 * An actor is whoever calls: a user authenticated by a token (users.h
 * gives the name and groups), or a local administrator running jitcad on
 * the CA host, named "local:<unix user>".  The ':' cannot occur in a
 * user name (names.h), so a token can never speak as a local actor.
 *
 * Threads: calls that change state may run concurrently from several
 * threads on one struct ca: each is a unit of work of the ledger's group
 * commit (ledger.h), which runs them one at a time and lets them share a
 * COMMIT; each returns only after its COMMIT.  Read-only calls
 * (request_get, request_list, request_roles) must be bracketed by
 * ledger_read_begin()/ledger_read_end() when writers may run in other
 * threads.  Other processes are fine: sqlite's BEGIN IMMEDIATE
 * arbitrates (ERR_BUSY after the busy timeout).
 * Ledger events written here use these subjects: "request:<id>",
 * "cert:<serial>", "key:SHA256:<fp>"; request.expired is by "jitcad".
 *
 * State rows are read and written through the typed operations of
 * ca/store/store.h; no SQL in ca/ outside ca/store/.
 */
#ifndef JITCA_CA_H
#define JITCA_CA_H

#include <stddef.h>
#include <stdint.h>

#include "ca/config.h"
#include "ca/ledger.h"
#include "signer/cert.h"
#include "signer/err.h"
#include "signer/pubkey.h"

#define CA_LOCAL_PREFIX "local:"

struct ca {
	struct config *cfg; /* borrowed */
	struct ledger *ledger; /* borrowed */
	const struct pubkey *ca_pub; /* borrowed: the CA public key */
	/* Signs certificate c for (user, role); used when set. */
	int (*sign_user)(
	    void *ctx, struct cert *c, const char *user, const char *role);
	cert_sign_fn *sign; /* tests: signs to-be-signed bodies */
	void *sign_ctx; /* passed to sign_user or sign */
};

struct ca_actor {
	const char *name; /* user name, or "local:<unix user>" */
	char *const *groups; /* borrowed */
	size_t ngroups;
};

/* The CA's idea of now, in seconds since the epoch: ledger_now(), so
 * JITCA_TEST_NOW moves it in tests (one clock for the whole CA). */
uint64_t ca_now(const struct ca *ca);
/* 1 when the actor is a local administrator ("local:<unix user>"). */
int ca_actor_is_local(const struct ca_actor *a);
/* 1 when the actor belongs to one of the configured auditor groups. */
int ca_actor_is_auditor(const struct ca *ca, const struct ca_actor *a);

/* Sign user certificate c of (user, role) through sign_user, else sign;
 * ERR_INVALID_ARG when neither is set. */
MUST_CHECK int ca_sign_cert(
    struct ca *ca, struct cert *c, const char *user, const char *role);

/* The lower-case hex of SHA-256 over data (signer/base/sha256.h), into
 * out[65]; ERR_CRYPTO. */
MUST_CHECK int ca_sha256_hex(char out[65], const void *data, size_t len);

#endif /* JITCA_CA_H */
