/*
 * cert.h: OpenSSH user certificates: building the to-be-signed body,
 * attaching the CA signature, parsing, and the signer's policy check.
 *
 * Format: OpenSSH's PROTOCOL.certkeys.  The field
 * order is that of sshkey_certify_custom(); critical options and
 * extensions are written sorted by byte-wise name, each name once; flags
 * have empty data, values are string-in-string.
 *
 * A struct cert owns everything it points to; cert_free() releases it.
 * The builder never sees a private key: cert_sign() takes a callback
 * (the signer process, or a CA key in tests), as OpenSSH's
 * sshkey_certify_custom() does.
 */
#ifndef JITCA_CERT_H
#define JITCA_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"
#include "signer/pubkey.h"

struct wire;

#define CERT_TYPE_USER 1
#define CERT_TYPE_HOST 2
#define CERT_MAX_PRINCIPALS 256
#define CERT_NONCE_LEN 32
#define CERT_MAX_BLOB (64u * 1024)

/* A critical option or extension; value NULL means a flag. */
struct cert_option {
	char *name;
	char *value;
};

struct cert {
	struct pubkey *key; /* subject key (owned) */
	uint8_t nonce[CERT_NONCE_LEN];
	size_t nonce_len;
	uint64_t serial;
	uint32_t type; /* CERT_TYPE_USER */
	char *key_id;
	char **principals;
	size_t nprincipals;
	uint64_t valid_after;
	uint64_t valid_before;
	struct cert_option *critical;
	size_t ncritical;
	struct cert_option *extensions;
	size_t nextensions;
	struct pubkey *ca_key; /* signature key (owned) */
	/* Set by cert_sign() / cert_from_blob(): */
	uint8_t *blob; /* whole certificate */
	size_t blob_len;
	size_t tbs_len; /* signed prefix of blob */
	char *sig_alg; /* algorithm in the signature */
};

/* Limits the signer enforces (docs/design.md "Key custody"). */
struct cert_limits {
	uint64_t hard_max_ttl; /* max valid_before - now, seconds */
	uint64_t max_backdate; /* max now - valid_after, seconds */
	uint64_t host_max_ttl; /* host certificates: max valid_before - now */
};

/* New empty cert (all zero, type user); NULL on allocation failure. */
struct cert *cert_new(void);
void cert_free(struct cert *c);
/* Append a principal / option / extension (copies the strings). */
MUST_CHECK int cert_add_principal(struct cert *c, const char *p);
MUST_CHECK int cert_add_critical(
    struct cert *c, const char *name, const char *value);
MUST_CHECK int cert_add_extension(
    struct cert *c, const char *name, const char *value);
/* Free n options and the array (the lists of struct cert, and of
 * struct role in ca/config.h).  NULL is fine. */
void cert_options_free(struct cert_option *o, size_t n);
/* Sort n options by byte-wise name (PROTOCOL.certkeys); ERR_BAD_FORMAT
 * for an empty name, ERR_CERT_DUPLICATE_OPTION for a name given twice. */
MUST_CHECK int cert_options_sort(struct cert_option *o, size_t n);
/* Fill nonce with CERT_NONCE_LEN random bytes. */
MUST_CHECK int cert_set_random_nonce(struct cert *c);

/* Encode the to-be-signed part (everything up to and including the
 * signature key) into w.  Sorts the option lists.  Checks structure only
 * (no policy): serial != 0, principals well-formed, options well-formed. */
MUST_CHECK int cert_encode_tbs(struct wire *w, struct cert *c);

/* Signs the TBS bytes: writes a new SSH signature blob to *sig. */
typedef int cert_sign_fn(void *ctx, uint8_t **sig, size_t *siglen,
    const uint8_t *tbs, size_t tbslen);
/* Encode, sign through fn, and set c->blob/tbs_len/sig_alg. */
MUST_CHECK int cert_sign(struct cert *c, cert_sign_fn *fn, void *ctx);

/* Parse a whole certificate blob; verifies the CA signature.  *out new. */
MUST_CHECK int cert_from_blob(
    struct cert **out, const uint8_t *blob, size_t len);
/* Parse "<cert type> base64 [comment]" as pubkey_line_split() splits it
 * (at most CERT_MAX_LINE bytes; an embedded NUL is ERR_STRING_NUL); the
 * type must be the blob's.  *out new. */
MUST_CHECK int cert_from_line(struct cert **out, const char *line, size_t len);
/* cert_from_line() for a certificate the CA itself signed and recorded (a
 * row of its own store, read back to show it): the same parse, without
 * verifying the CA signature again.  cert_sign() verified it before the
 * certificate was recorded, and the rows are the ledger's to prove
 * (ledger verify parses every issued certificate with cert_from_line()).
 * Never for a certificate that comes from outside. */
MUST_CHECK int cert_from_recorded_line(
    struct cert **out, const char *line, size_t len);
/* Parse a to-be-signed body (no signature; must end exactly after the
 * signature key).  Used by the signer process on what it is asked to
 * sign. */
MUST_CHECK int cert_from_tbs(struct cert **out, const uint8_t *tbs, size_t len);

/*
 * The signer's own refusals (docs/design.md "Key custody"): a non-user cert,
 * empty principals or one outside the safe alphabet, a key id outside its
 * alphabet, serial 0, validity longer than lim->hard_max_ttl from now or
 * starting more than lim->max_backdate before now, a valid_before not
 * after valid_after or "forever", an unknown critical option or
 * extension, a bad option value, a short nonce.
 */
MUST_CHECK int cert_check_policy(
    const struct cert *c, const struct cert_limits *lim, uint64_t now);

/*
 * The signer's refusals for a host certificate: a non-host cert
 * (ERR_CERT_NOT_HOST), empty principals, a principal that is not a host
 * name or address literal (names.h name_host_valid(),
 * ERR_CERT_BAD_HOST_NAME), a key id outside its alphabet, serial 0, any
 * critical option (ERR_CERT_UNKNOWN_OPTION: OpenSSH defines none for
 * hosts) or extension (ERR_CERT_UNKNOWN_EXTENSION), validity longer than
 * lim->host_max_ttl from now, starting more than lim->max_backdate
 * before now, not after valid_after or "forever", a short nonce.
 */
MUST_CHECK int cert_check_host_policy(
    const struct cert *c, const struct cert_limits *lim, uint64_t now);

/* "<cert type> <base64> [comment]" as a new string (signed certs only),
 * as pubkey_line_join() writes it: a comment with a control byte is
 * ERR_INVALID_ARG, a line cert_from_line() would refuse ERR_TOO_LARGE. */
MUST_CHECK int cert_to_line(
    char **out, const struct cert *c, const char *comment);

#endif /* JITCA_CERT_H */
