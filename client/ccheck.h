/*
 * ccheck.h: the client's check of a certificate the server returned,
 * before it goes near the agent or a file (docs/design.md "The flow"):
 * signed by the pinned CA key (cert_from_line verifies the signature
 * itself), a user certificate for our own key, with exactly the
 * principals asked for, and a validity that starts no later than now
 * (plus skew) and ends after now but within ttl (plus skew).
 *
 * It does not fetch or pin the CA key (login.c does).
 */
#ifndef JITCA_CCHECK_H
#define JITCA_CCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

struct cert;
struct pubkey;

/* Clock difference tolerated between client and CA, seconds. */
#define CCHECK_SKEW 300

/*
 * Parse and check the one-line certificate.  want/nwant: the principals
 * (as a set) the certificate must name; ttl: the longest validity
 * asked for, seconds from now.  On success *out is the parsed
 * certificate (new).  Errors: those of cert_from_line (bad format,
 * ERR_SIG_INVALID), ERR_CERT_NOT_USER, ERR_CERT_WRONG_CA,
 * ERR_CERT_WRONG_KEY, ERR_CERT_UNEXPECTED (principals or validity),
 * ERR_CERT_VALIDITY (already expired).
 */
MUST_CHECK int ccheck_cert(struct cert **out, const char *line,
    const struct pubkey *ca, const struct pubkey *key, char *const *want,
    size_t nwant, uint64_t ttl, uint64_t now);

#endif /* JITCA_CCHECK_H */
