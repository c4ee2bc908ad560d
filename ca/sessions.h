/*
 * sessions.h: recording the certificate logins hosts report (POST
 * /v1/logins) as ledger events, each tied to the certificate and request
 * it used.  Lines are parsed here with ca/logins.h: hosts send sshd's raw
 * lines and stay dumb; the CA is the parser.
 *
 * One entry is one log line as sshd wrote it (without the syslog prefix),
 * where it sits in its log ("at": a journal cursor, or "INODE:OFFSET" of
 * a log file) and when it was logged (seconds since the epoch; 0 when the
 * log does not say).  An accepted certificate login becomes a
 * session.login event, a refused one session.refused, with details
 *   {host, account, source, port, serial, key_id, key_fp, ca_fp,
 *    time, at, request (id or null), user, role, known (bool),
 *    unknown (why not known, only when known is false),
 *    reason (session.refused only)}
 * actor the reporting caller, subject "login:" + the entry's identity.
 *
 * Identity: hex(SHA-256(host "\n" at "\n" line)).  The line alone is not
 * unique (two logins from the same address and port in different weeks
 * log the same words; neither sshd -e/-E nor "journalctl -o cat" write a
 * time), and the reporter's clock is not part of it: replaying a log
 * from the start, with or without its cursor, finds every line at the
 * same place and so adds nothing.  An entry whose identity is already in
 * the ledger is a duplicate, not an error.
 *
 * known is true when the CA issued a certificate with that serial, that
 * key id, under this CA key.  Otherwise unknown says which check failed:
 *   "other_ca"   the line names another CA's key: a certificate from
 *                another CA that the host also trusts, or a forged line;
 *                the CA cannot tell which.
 *   "not_issued" this CA's key but a serial the ledger never issued: a
 *                forged line, or a certificate signed with this CA's key
 *                outside jitca (a stolen key); the CA cannot tell which.
 *   "key_id_mismatch" the serial was issued, with another key id: the
 *                same two explanations.
 *
 * A refusal's reason is sshd's line just before the Failed line
 * ("Certificate invalid: expired", "... revoked by file ...", "...
 * authorized principal"); a revocation line must name the same key.
 * Without one the reason is "unknown".  The reporter keeps such a pair
 * in one batch.
 */
#ifndef JITCA_SESSIONS_H
#define JITCA_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"
#include "signer/err.h"

#define SESSION_BATCH_MAX 200 /* entries in one call */
#define SESSION_AT_MAX 256 /* bytes of "at" */
#define SESSION_HOST_MAX 64

struct session_entry {
	const char *line; /* borrowed; len bytes, need not end in NUL */
	size_t len;
	const char *at; /* borrowed, NUL-terminated */
	int64_t time; /* 0: not known */
};

/* What happened to each entry (outcome[i]) and the totals. */
enum session_outcome {
	SESSION_ADDED = 0, /* a new event */
	SESSION_DUPLICATE = 1, /* already in the ledger */
	SESSION_IGNORED = 2, /* not a certificate login */
	SESSION_REASON = 3, /* a refusal's reason, kept with the next line */
	SESSION_REFUSED = 4, /* a bad line: code[i] says why */
};

struct session_result {
	size_t added, duplicates, ignored, refused;
};

/*
 * Record entries e[0..n) reported by actor for host, in one transaction:
 * either all new events are committed or none.  outcome[i] and code[i]
 * (the login_parse() code of a refused line, else 0) for every entry.
 * Returns 0 (even when some lines were refused), ERR_INVALID_ARG for n
 * over SESSION_BATCH_MAX, a bad host name or a bad "at", or a ledger
 * error (nothing recorded).
 */
MUST_CHECK int session_record(struct ca *ca, const char *actor,
    const char *host, const struct session_entry *e, size_t n,
    enum session_outcome *outcome, int *code, struct session_result *res);

/*
 * Until host enrollment gives hosts their own tokens: the host a caller
 * may report for.  A member of one of the config's "hosts" groups may
 * report for the host named like itself, nobody else for any: 0, or
 * ERR_FORBIDDEN when the caller is in no such group, ERR_LOGIN_HOST when
 * host is another name.
 */
MUST_CHECK int session_host_allowed(
    const struct ca *ca, const struct ca_actor *a, const char *host);

#endif /* JITCA_SESSIONS_H */
