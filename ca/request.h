/*
 * request.h: the request -> approval -> issuance state machine
 * (docs/design.md "The flow", invariants 1-5), in one place.
 *
 * States and transitions (every arrow is ONE sqlite transaction opened
 * with ledger_begin(), i.e. BEGIN IMMEDIATE, holding the state change and
 * its ledger event; invalid input leaves nothing written):
 *
 *   (none)  --create-->            pending   request.created
 *   (none)  --create, 0 approvals  issued    request.created + cert.issued
 *   (none)  --issue_direct-->      issued    request.created + cert.issued
 *   pending --approve (< N)-->     pending   request.approved
 *   pending --approve (N-th)-->    issued    request.approved + cert.issued
 *   pending --deny-->              denied    request.denied
 *   pending --deny by requester--> denied    request.denied (withdrawn)
 *   pending --withdraw-->          withdrawn request.withdrawn
 *   pending --past expires-->      expired   request.expired
 *   issued  --revoke (revoke.h)--> revoked   cert.revoked
 *
 * Every other transition fails with ERR_WRONG_STATE.  A pending request
 * past its expiry that is approved or denied is marked expired (that
 * transition commits) and the call returns ERR_EXPIRED.
 *
 * Decisions (docs/design.md does not fix them):
 * - Deny: one deny by an approver of the role ends the request.  The
 *   requester may also deny (withdraw) their own pending request; the
 *   event says "withdrawn": true.
 * - Visibility: request_get/list show a request to its requester, to the
 *   approvers of its role, to auditors and to local actors.  Anyone else
 *   gets ERR_NOT_FOUND, exactly as for a request that does not exist, so
 *   ids do not leak.  A NULL actor is not allowed.
 * - Approvers are checked against the role's approver groups at the time
 *   of approval; every recorded approval is by a distinct person (the
 *   approvals table's primary key) who is not the requester.  When the
 *   approvals are counted (at each approval, so at signing time) only
 *   those still count whose approver is an approver of the role now: the
 *   caller by the groups it acts with, every earlier approver by their
 *   user record (enabled, in one of the role's approver groups as
 *   configured now).  N is the larger of approvals_required at creation
 *   and now.  A request whose counted approvals fall below N stays
 *   pending; request.approved records "approvals" (counted) and
 *   "not_counted" (names).
 * - A requester whose name is a literal principal of some role
 *   (config_user_name_check()) is refused with ERR_NAME_IS_PRINCIPAL at
 *   creation and at issuance.
 * - Issuance re-checks the policy of the role as configured now (ttl,
 *   principals), the hard maximum, the key's revocation and the
 *   requester's account (a disabled user gets ERR_USER_DISABLED), so a
 *   configuration change while a request waits cannot widen it.
 * - Direct issue (jitcad issue): a local actor issues for an existing,
 *   enabled user U who must be in a requester group of the role (the
 *   admin bypasses approvals, not policy).  The request row records U as
 *   requester; both events carry the local actor and "direct": true.
 *
 * Certificates: serial from ledger_serial_next(); valid_after = now -
 * backdate; valid_before = now + ttl; key id
 * "<user>:<role>:req-<id>:serial-<serial>"; principals as requested;
 * critical options and extensions exactly the role's; a random nonce;
 * signed through ca->sign and checked to verify under ca->ca_pub.  The
 * certificate line is returned only after COMMIT succeeded (invariant 1).
 *
 * Approving what was shown: every request carries "digest", the SHA-256
 * of what will be signed (key fingerprint, principals, ttl, the role's
 * critical options and extensions as configured now).  An approval may
 * name it (expect): if the request changed since (a reload changed the
 * role's options, an earlier approver shortened the ttl) the approval
 * is refused with ERR_DIGEST_MISMATCH and nothing is written.  An
 * approver may shorten the ttl (never lengthen it: ERR_TTL_NOT_SHORTER);
 * the request's ttl becomes the shorter one (request.approved records
 * "ttl"), so the shortest approved ttl is what is signed, and the
 * signer's own policy check still applies.
 *
 * Break-glass (request_break_glass()): a role with break_glass
 * (ca/config.h break_glass_ttl) issues at once without an approver, for
 * at most that ttl (its default), with the extension
 * REQUEST_BREAK_GLASS_EXT; request.created carries "break_glass": true
 * and request.break_glass names the approver groups to tell.  It is not
 * an approval: the request shows "break_glass": true and "needs_review"
 * until an approver of the role (never the requester) reviews it
 * (request_review(): a "review" decision, request.reviewed).  A role
 * without break_glass gets ERR_BREAK_GLASS.
 *
 * Withdraw: the requester's own pending request becomes "withdrawn"
 * (request.withdrawn, no decision row); anyone else gets ERR_FORBIDDEN.
 *
 * What a request is, as its reader may see it, is a struct request_view
 * (ca/views.h): its fields, its decisions in order ("approve", "deny",
 * "review"), the certificate once issued (and its revocation time once
 * revoked), the digest, break_glass and needs_review as above.  A
 * pending request whose expiry has passed shows "expired" even before
 * request_expire_due() ran.  Every struct request_view ** output is new
 * (request_view_free()); on error it is NULL.  The API's JSON of it is
 * web/encode.c's (docs/design.md "Interfaces").
 */
#ifndef JITCA_REQUEST_H
#define JITCA_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"
#include "ca/views.h"
#include "signer/err.h"

#define REQUEST_REASON_MAX 512
#define REQUEST_COMMENT_MAX 512
#define REQUEST_DIGEST_LEN VIEW_DIGEST_LEN /* "sha256:" hex NUL */
/* The extension a break-glass certificate carries (and only it). */
#define REQUEST_BREAK_GLASS_EXT "break-glass@jitca"

/*
 * Create a request by actor for role.  principals/nprincipals (NULL/0 =
 * all of the role's expanded principals) must be a subset of the role's
 * expanded principals; ttl 0 means the role's default_ttl; reason 1..512
 * bytes of UTF-8 without control characters; pubkey_line one OpenSSH
 * public key line.  Errors: ERR_INVALID_ARG, ERR_FORBIDDEN (not a
 * requester), ERR_NOT_FOUND (no such role), ERR_TTL_TOO_LONG,
 * ERR_CERT_BAD_PRINCIPAL, ERR_PRINCIPAL_NOT_ALLOWED, pubkey_from_line()'s
 * code, ERR_KEY_IS_CA (the key is the CA's own), ERR_POLICY (key
 * revoked), ERR_BUSY/ERR_DB/ERR_LEDGER_*, signing errors.
 * *out: the new request (issued at once when the role needs no
 * approval).
 */
MUST_CHECK int request_create(struct ca *ca, const struct ca_actor *actor,
    const char *role, char *const *principals, size_t nprincipals, uint64_t ttl,
    const char *reason, const char *pubkey_line, struct request_view **out);

/*
 * Approve request id.  comment may be NULL (0..512 bytes, no control
 * characters).  Errors: ERR_NOT_FOUND, ERR_WRONG_STATE, ERR_EXPIRED,
 * ERR_FORBIDDEN (not an approver of the role), ERR_SELF_APPROVAL,
 * ERR_ALREADY_APPROVED, and issuance errors on the final approval (then
 * nothing is written).  *out: the request after the approval.
 */
MUST_CHECK int request_approve(struct ca *ca, const struct ca_actor *actor,
    int64_t id, const char *comment, struct request_view **out);

/*
 * Approve as request_approve, with what the approver saw: comment (may be
 * NULL); ttl 0 or a shorter ttl; expect NULL or the digest shown.  Adds
 * ERR_DIGEST_MISMATCH and ERR_TTL_NOT_SHORTER to request_approve's
 * errors.
 */
struct request_approval {
	const char *comment;
	uint64_t ttl;
	const char *expect;
};
MUST_CHECK int request_approve_with(struct ca *ca, const struct ca_actor *actor,
    int64_t id, const struct request_approval *ap, struct request_view **out);

/* Break-glass, as request_create otherwise (see above); adds
 * ERR_BREAK_GLASS. */
MUST_CHECK int request_break_glass(struct ca *ca, const struct ca_actor *actor,
    const char *role, char *const *principals, size_t nprincipals, uint64_t ttl,
    const char *reason, const char *pubkey_line, struct request_view **out);

/* An approver of the role reviews a break-glass request that needs it;
 * comment is required.  Errors: ERR_NOT_FOUND, ERR_WRONG_STATE (not
 * break-glass, or reviewed already), ERR_SELF_APPROVAL, ERR_FORBIDDEN,
 * ERR_INVALID_ARG/ERR_TEXT_* for the comment. */
MUST_CHECK int request_review(struct ca *ca, const struct ca_actor *actor,
    int64_t id, const char *comment, struct request_view **out);

/* The requester withdraws their pending request (state "withdrawn").
 * Errors: ERR_NOT_FOUND, ERR_WRONG_STATE, ERR_EXPIRED, ERR_FORBIDDEN (not
 * the requester).  *out: the request after. */
MUST_CHECK int request_withdraw(struct ca *ca, const struct ca_actor *actor,
    int64_t id, struct request_view **out);

/* Deny (approver) or withdraw (requester) a pending request.  Errors as
 * request_approve, without ERR_SELF_APPROVAL/ERR_ALREADY_APPROVED. */
MUST_CHECK int request_deny(struct ca *ca, const struct ca_actor *actor,
    int64_t id, const char *comment, struct request_view **out);

/* Mark every pending request past its expiry expired, one event each,
 * in one transaction.  *count (may be NULL) = requests expired. */
MUST_CHECK int request_expire_due(struct ca *ca, size_t *count);

/*
 * Every request counted by the state a reader sees (request_get()'s
 * "state": a pending request past its expiry is expired), and the
 * approvals still needed by the pending ones: one store operation, no
 * listing.  For /metrics; not filtered by actor (the caller decides who
 * may see totals).
 */
struct request_counts {
	uint64_t pending, issued, denied, expired, revoked, withdrawn;
	uint64_t approvals_needed;
};
MUST_CHECK int request_counts_get(struct ca *ca, struct request_counts *out);

/* One request, if the actor may see it (else ERR_NOT_FOUND). */
MUST_CHECK int request_get(struct ca *ca, const struct ca_actor *actor,
    int64_t id, struct request_view **out);

/*
 * One page of the requests the actor may see, newest first (*out new,
 * request_views_free()).  A page holds at most limit
 * (1..REQUEST_LIST_MAX) requests with ids below before (0: from the
 * newest); next_cursor is the id of the last one when more follow (pass
 * it as before for the next page), else 0.  pending_only limits to state
 * "pending" (and not yet past expiry); brief leaves out each request's
 * certificate line (cert->certificate NULL; request_get() has it).
 * ERR_INVALID_ARG for a limit or before out of range.
 */
#define REQUEST_LIST_MAX 1000
struct request_filter {
	int pending_only;
	int brief;
	size_t limit;
	int64_t before;
};
MUST_CHECK int request_list(struct ca *ca, const struct ca_actor *actor,
    const struct request_filter *f, struct request_views **out);

/*
 * jitcad issue: a local actor ("local:<unix user>") issues a certificate
 * for user, bypassing approvals but not policy.  Errors: ERR_FORBIDDEN
 * (actor not local, or user not a requester of the role), ERR_NOT_FOUND
 * (no such user or role), ERR_USER_DISABLED, and create's errors.
 * *out: the issued request.
 */
MUST_CHECK int request_issue_direct(struct ca *ca, const struct ca_actor *actor,
    const char *user, const char *role, char *const *principals,
    size_t nprincipals, uint64_t ttl, const char *reason,
    const char *pubkey_line, struct request_view **out);

/*
 * GET /v1/roles: the roles the actor may request or approve (all of them
 * for local actors and auditors), sorted by name, as struct role_view
 * (*out new, role_views_free()).  principals are expanded for the actor
 * ("{{user}}" -> name) when the actor's name is a valid user name, else
 * left as templates.
 */
MUST_CHECK int request_roles(
    struct ca *ca, const struct ca_actor *actor, struct role_views **out);

/* Check a reason (required=1) or comment (required=0): text_check()
 * (ca/text.h) without a message: 0, ERR_INVALID_ARG, ERR_TEXT_UTF8 or
 * ERR_TEXT_CHAR. */
MUST_CHECK int request_text_check(const char *s, size_t max, int required);

#ifdef JITCA_TEST_HOOKS
/* Test builds only: called by request_approve_with() and by the creation
 * of a request issued at once after the certificate was signed ahead
 * (phase a; id is the request's, reserved when it is being created) and
 * before the unit begins, so a test can commit a change (a revocation, a
 * disabled user, another process's request) in between. */
extern void (*request_test_presigned)(struct ca *ca, int64_t id);
/* Test builds only: how many cert.issued events were appended with the
 * details made before the unit (presign_details()). */
extern unsigned long request_test_details_ahead;
#endif

#endif /* JITCA_REQUEST_H */
