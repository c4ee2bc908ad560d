/*
 * report.h: access reviews ("who had access to what, why, approved by
 * whom, and where did they log in"): one row per access grant (an issued
 * certificate) with its request, approvals, revocation and the logins
 * hosts reported for it (ca/sessions.h), built from the ledger's events
 * alone, so that it says what the hash chain proves.
 *
 * Events read: request.created (requester, role, principals, reason,
 * break_glass), request.approved (approver, time, comment), cert.issued
 * (serial, key id, validity, direct issue and by whom), cert.revoked and
 * key.revoked (when, by whom, why), session.login and session.refused
 * (host, account, time, source; known or not).  Other events are passed
 * over.  Logins the CA cannot tie to a grant (known false) are kept
 * apart in struct report's unknown list.
 *
 * A grant is in the report when it matches role and user (NULL: any) and
 * its access window [issued, end) overlaps [since, until) (0: open),
 * where end is valid_before or, when earlier, the revocation.  Rows are
 * in issue order.  The program encodes them (table, CSV, JSON); nothing
 * here prints.  Ownership: report_build() returns a new struct report
 * that report_free() frees with every string in it.
 */
#ifndef JITCA_REPORT_H
#define JITCA_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ca/ledger.h"
#include "signer/err.h"

struct report_filter {
	const char *role; /* NULL: any */
	const char *user; /* NULL: any */
	int64_t since, until; /* seconds since the epoch; 0: open */
};

struct report_approval {
	char *who;
	int64_t time;
	char *comment;
};

struct report_login {
	char *host, *account, *source;
	int64_t time;
	uint64_t serial;
	char *key_id;
	char *reason; /* refusals: "expired", "revoked", ...; else NULL */
	char *unknown; /* unknown list: "other_ca", "not_issued", ... */
};

struct report_grant {
	int64_t request; /* 0 when none */
	char *requester, *role, *reason;
	char **principals;
	size_t nprincipals;
	int break_glass;
	int direct; /* issued by an administrator, without approval */
	char *issued_by;
	struct report_approval *approvals;
	size_t napprovals;
	uint64_t serial;
	char *key_id;
	int64_t issued, valid_after, valid_before;
	int revoked;
	int64_t revoked_time;
	char *revoked_by, *revoked_reason;
	struct report_login *logins; /* accepted */
	size_t nlogins;
	struct report_login *refused;
	size_t nrefused;
};

struct report {
	struct report_grant *grants;
	size_t ngrants;
	struct report_login *unknown; /* logins with no grant of ours */
	size_t nunknown;
};

/* Build the report of l's events for f; *out new (report_free()). */
MUST_CHECK int report_build(
    struct ledger *l, const struct report_filter *f, struct report **out);
void report_free(struct report *r);

/*
 * Times for --since and --until: a duration back from now ("90m", "7d":
 * signer/base/duration.h, unit required), or a date: "YYYY-MM-DD"
 * (midnight UTC), "YYYY-MM-DDTHH:MM[:SS]" followed by "Z" or "+HH:MM" /
 * "-HH:MM".  0 or ERR_INVALID_ARG.
 */
MUST_CHECK int report_when_parse(const char *s, int64_t now, int64_t *out);
/* t as ISO-8601 in UTC, "2026-12-01T18:02:20Z". */
#define REPORT_TIME_LEN 32
void report_time_format(char out[REPORT_TIME_LEN], int64_t t);
/* The seq to export after so that the first event exported is the first
 * one logged at or after t (ledger export --since DATE); the last seq
 * when there is none. */
MUST_CHECK int report_seq_before(struct ledger *l, int64_t t, int64_t *seq);

#endif /* JITCA_REPORT_H */
