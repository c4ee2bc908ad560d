/*
 * hosts.h: enrolled hosts and their host certificates (docs/hosts.md):
 * an admin adds a host with the names it may be certified for
 * (jitcad host add), the host sends its public host key with its host
 * token (POST /v1/host-certs) and gets a host certificate signed by the
 * host CA key.  The first key a host sends is bound to it; later
 * requests with that key are renewals and any other key is refused
 * (ERR_HOST_KEY_BOUND) until host_reset(), so a stolen token cannot get a
 * certificate for an attacker's key once the host has enrolled.  One key
 * binds per key type (ssh-ed25519, ecdsa-sha2-nistp256, ...), so a host
 * enrolls each of its host keys once.
 *
 * Host tokens have the shape of user tokens ("jitca_" + 43 base64url
 * characters, 256 random bits) but live only in the hosts table, and
 * what is stored is SHA-256("jitca-host-token\n" || token), a hash in
 * its own domain: a host token never authenticates as a user (users.c
 * looks only in users, by the plain SHA-256) and a user token never as a
 * host.  Host names are host names (name_host_valid()); a host's events
 * have the subject "host:<name>" and its certificates the owner
 * "HOST:<name>" in the certificates table, neither of which a user name
 * (no ':') can equal, so revoking or reporting by user never selects a
 * host's certificates.
 *
 * Every change is one ledger transaction with its events (host.added,
 * host.token, host.key_bound, host.cert_issued, host.reset,
 * host.disabled); do not call these inside an open ledger_begin().
 * Nothing here prints or knows HTTP.  Works with ca/ca.h, ca/ledger.h,
 * ca/store/store.h, signer/cert.h.
 */
#ifndef JITCA_HOSTS_H
#define JITCA_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"
#include "ca/ledger.h"
#include "signer/err.h"

#define HOST_PRINCIPALS_MAX 32
#define HOST_OWNER_PREFIX "HOST:" /* certificates.user, key ids */
#define HOST_SUBJECT_PREFIX "host:" /* event subjects */

struct host {
	char *name;
	char **principals;
	size_t nprincipals;
	int disabled;
	uint64_t created;
	char **key_fps; /* the bound host keys' fingerprints, by type */
	size_t nkeys;
};

/* What host_cert_issue() made; host_issued_clear() frees it. */
struct host_issued {
	char *certificate; /* one line: "type base64 HOST:<name>" */
	uint64_t serial;
	uint64_t valid_after, valid_before;
	int renewal; /* the key was already bound */
};

void host_free(struct host *h);
void host_issued_clear(struct host_issued *hi);

/*
 * Add host name with principals (1 to HOST_PRINCIPALS_MAX host names or
 * addresses, duplicates dropped) and a first token (*token_out new,
 * user_token_free()).  ERR_BAD_NAME, ERR_CERT_BAD_HOST_NAME (a
 * principal), ERR_INVALID_ARG, ERR_EXISTS.  Events: host.added
 * {principals}, host.token {token_id, token_sha256}.
 */
MUST_CHECK int host_add(struct ledger *l, const char *actor, const char *name,
    char *const *principals, size_t nprincipals, char **token_out);
/* Disable name: its token stops working.  ERR_NOT_FOUND,
 * ERR_HOST_DISABLED.  Event: host.disabled. */
MUST_CHECK int host_disable(
    struct ledger *l, const char *actor, const char *name);
/* Forget name's bound keys: the next request of each type binds a new
 * one.  ERR_NOT_FOUND.  Event: host.reset. */
MUST_CHECK int host_reset(
    struct ledger *l, const char *actor, const char *name);
/* The host called name (*out new; host_free()).  ERR_NOT_FOUND. */
MUST_CHECK int host_get(struct ledger *l, const char *name, struct host **out);
/* Each host in name order; fn's non-zero return stops and is returned. */
MUST_CHECK int host_each(
    struct ledger *l, int (*fn)(void *arg, const struct host *h), void *arg);
/*
 * The host whose token this is (*out new).  ERR_BAD_TOKEN (malformed or
 * unknown), ERR_HOST_DISABLED.
 */
MUST_CHECK int host_authenticate(
    struct ledger *l, const char *token, struct host **out);
/*
 * Sign a host certificate for host name and the public key line
 * key_line: binds the key when none of its type is bound (host.key_bound
 * {key_type, key_fp}), refuses another key of that type
 * (ERR_HOST_KEY_BOUND), a disabled host (ERR_HOST_DISABLED),
 * a revoked key (ERR_POLICY).  Serial from the ledger's counter, key id
 * "HOST:<name>:serial-N", principals the host's, valid from now less
 * the backdate for ca.host_max_ttl.  Event host.cert_issued (the fields
 * of cert.issued, request 0, role "host", user "HOST:<name>").  *out
 * filled only on success.
 */
MUST_CHECK int host_cert_issue(struct ca *ca, const char *name,
    const char *key_line, struct host_issued *out);

#endif /* JITCA_HOSTS_H */
