/*
 * encode.h: the one place the typed domain (ca/views.h) becomes the
 * API's JSON, for web/api.c's answers and the admin commands' --json
 * (web/jitcad/), so both write the same bytes (docs/design.md
 * "Interfaces").  Objects keep their keys in the order below (jansson
 * keeps insertion order; http_reply_json() and print_json() dump them
 * compact and unsorted):
 *
 *   request: {id, state, role, requester, principals, ttl, reason,
 *     created, expires, approvals_required, key_fingerprint, public_key,
 *     digest, approver_groups (when the role exists), denied | reviewed
 *     {who, when, comment}, approvals [{who, when, comment}], and once
 *     issued certificate (left out of a brief list), serial, key_id,
 *     valid_after, valid_before, revoked (time, once revoked); then
 *     break_glass, and needs_review for a break-glass request}
 *   a page of requests: {requests: [...], next_cursor: "ID" | null}
 *   roles: {roles: [{name, principals, default_ttl, max_ttl,
 *     approvals_required, critical_options {name: value}, extensions
 *     [names], can_request, can_approve, break_glass {max_ttl} (when the
 *     role has it)}]}
 *   users: [{name, groups, disabled, created}]
 *   a revocation: {revoked: [serials], already_revoked: [serials],
 *     krl_version, and for a key key_fingerprint, key_revoked}
 *   a host certificate (POST /v1/host-certs; ca/hosts.h has the structs
 *     already): {certificate, serial, valid_after, valid_before,
 *     principals (the host's), renewal}
 *
 * A view's fields the JSON has no place for (the request's key type,
 * critical options, extensions and source address; a role's requester
 * and approver groups) are for the pages and webhooks.  Each function
 * returns a new reference, or NULL when out of memory; nothing here
 * reads the ledger.
 */
#ifndef JITCA_ENCODE_H
#define JITCA_ENCODE_H

#include <jansson.h>

#include "ca/hosts.h"
#include "ca/store/jsonw.h"
#include "ca/views.h"

json_t *encode_request(const struct request_view *v);
/*
 * The compact dump of encode_request(v) appended to b, without building
 * it (the answers of the issuance path): the same bytes.  0, or
 * ERR_INVALID_ARG when v has decisions (approvals, a denial or a
 * review: encode_request() writes those) or a string is missing or not
 * UTF-8, ERR_TOO_LARGE or ERR_ALLOC; b is then as it was.
 */
MUST_CHECK int encode_request_text(
    struct jsonw_buf *b, const struct request_view *v);
/* The n requests of v as a JSON array (the "requests" of a page). */
json_t *encode_request_list(const struct request_view *v, size_t n);
json_t *encode_requests(const struct request_views *v);
json_t *encode_roles(const struct role_views *v);
json_t *encode_users(const struct user_views *v);
json_t *encode_revocation(const struct revocation_view *v);
json_t *encode_host_cert(const struct host_issued *hi, const struct host *h);

#endif /* JITCA_ENCODE_H */
