/*
 * logins.h: the parser of sshd's log lines about certificate logins, one
 * line at a time, into a typed struct.  Pure: no I/O, no allocation, no
 * ledger; ca/sessions.c records what it parses.
 *
 * The lines are those OpenSSH's sshd writes at LogLevel VERBOSE (auth.c
 * auth_log(), auth2-pubkey.c format of the key, sshkey.c reasons), as
 * sshd 9.2 writes them to stderr (-e, -E) or, without the syslog prefix
 * (the reporter strips "TIME HOST sshd[PID]: "), to the journal:
 *
 *   Accepted publickey for ACCOUNT from ADDR port PORT ssh2: KT-CERT
 *       SHA256:FP ID KEYID (serial N) CA CT SHA256:CAFP
 *   Failed publickey for ACCOUNT from ...the same tail...
 *   [error: ]Certificate invalid: expired          (the reason of the
 *   [error: ]Certificate invalid: not yet valid     refusal that sshd
 *   [error: ]Certificate does not contain an authorized principal
 *   [error: ]Certificate invalid: name is not a listed principal
 *   [error: ]Authentication key KT-CERT SHA256:FP revoked by file PATH
 *
 * sshd writes the reason on its own line just before the Failed line of
 * the same connection; the caller pairs them.
 *
 * Strictness.  ACCOUNT is chosen by whoever connects, so the tail is
 * parsed from the right, at the exact positions sshd writes its 14
 * space-separated fields ("from" ADDR "port" PORT "ssh2:" KT FP "ID" KEYID
 * "(serial" "N)" "CA" CT CAFP): a forged "... ID x (serial 1) ..." inside
 * the account name sits to the left of them and cannot move them.  The
 * account must then be a plain user name (LOGIN_ACCOUNT_CHARS, no
 * spaces), so such a name is refused outright (ERR_LOGIN_ACCOUNT).  sshd
 * escapes control and non-ASCII bytes of what it logs (strnvis), so a
 * line holding any byte outside printable ASCII did not come from sshd
 * as written and is refused (ERR_LOGIN_CHAR).  A key id with a space
 * (never one of jitca's) does not fit the fields and is ERR_LOGIN_FORMAT.
 * Only SHA256 fingerprints (sshd's default FingerprintHash) are read.
 *
 * Lines that are not about a certificate login (connections, plain-key
 * attempts, "Postponed", "Accepted certificate ID ...") give
 * ERR_LOGIN_IGNORED: not an error, nothing to record.
 */
#ifndef JITCA_LOGINS_H
#define JITCA_LOGINS_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

/* Longest line accepted (sshd's own buffer is 1024 bytes; margin for a
 * trailing CR LF and the "error: " prefix). */
#define LOGIN_LINE_MAX 2048
#define LOGIN_ACCOUNT_MAX 64
#define LOGIN_ACCOUNT_CHARS                                                    \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-"
#define LOGIN_ADDR_MAX 64 /* an IPv6 address with a zone fits */
#define LOGIN_KEYTYPE_MAX 32 /* "ECDSA-SK-CERT" and the like */
#define LOGIN_FP_MAX 64 /* "SHA256:" + 43 base64 characters */
#define LOGIN_KEYID_MAX 256
#define LOGIN_REASON_TEXT_MAX 128

enum login_kind {
	LOGIN_ACCEPTED = 1, /* Accepted publickey ... with a certificate */
	LOGIN_FAILED = 2, /* Failed publickey ... with a certificate */
	LOGIN_REASON = 3, /* why sshd refused the next Failed line's cert */
};

enum login_reason {
	LOGIN_REASON_NONE = 0,
	LOGIN_REASON_EXPIRED = 1,
	LOGIN_REASON_NOT_YET_VALID = 2,
	LOGIN_REASON_REVOKED = 3, /* in the host's KRL (key_type, key_fp) */
	LOGIN_REASON_PRINCIPAL = 4, /* no principal allowed for the account */
	LOGIN_REASON_OTHER = 5, /* another "Certificate invalid: ..." */
};

/* One parsed line; strings NUL-terminated, "" when the kind has none. */
struct login_line {
	enum login_kind kind;
	char account[LOGIN_ACCOUNT_MAX + 1];
	int invalid_user; /* sshd said "invalid user" (no such account) */
	char source[LOGIN_ADDR_MAX + 1];
	unsigned port;
	char key_type[LOGIN_KEYTYPE_MAX + 1]; /* "ED25519-CERT" */
	char key_fp[LOGIN_FP_MAX + 1];
	char key_id[LOGIN_KEYID_MAX + 1];
	uint64_t serial;
	char ca_type[LOGIN_KEYTYPE_MAX + 1]; /* "ED25519" */
	char ca_fp[LOGIN_FP_MAX + 1];
	enum login_reason reason; /* LOGIN_REASON lines */
	char reason_text[LOGIN_REASON_TEXT_MAX + 1]; /* sshd's words */
};

/*
 * Parse line[0..len) (one line; a trailing "\n", "\r\n" or "\r" is
 * dropped) into *out (cleared first).  Returns 0, or:
 *   ERR_LOGIN_IGNORED  not about a certificate login
 *   ERR_LOGIN_TOO_LONG over LOGIN_LINE_MAX bytes
 *   ERR_LOGIN_CHAR     a byte outside printable ASCII (control, NUL,
 *                      invalid or any UTF-8)
 *   ERR_LOGIN_FORMAT   starts like a certificate login or reason but
 *                      its fields are not where and what sshd writes
 *   ERR_LOGIN_ACCOUNT  the account is not a plain user name
 */
MUST_CHECK int login_parse(
    struct login_line *out, const char *line, size_t len);

/* "accepted", "refused", "reason"; "expired", "not_yet_valid",
 * "revoked", "principal_not_accepted", "certificate_invalid" (static). */
const char *login_kind_name(enum login_kind k);
const char *login_reason_name(enum login_reason r);

#endif /* JITCA_LOGINS_H */
