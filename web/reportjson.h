/*
 * reportjson.h: the JSON of an access review (ca/report.h), one encoder
 * for `jitcad ledger report --format json` and GET /v1/ledger/report:
 * a list of grants in serial order, each
 *   {request, requester, role, principals, serial, key_id, reason,
 *    approvals: [{who, time, comment}], issued, issued_by, direct,
 *    valid_after, valid_before, revoked: null | {time, by, reason},
 *    break_glass, review: null, logins: [{host, account, time, source}],
 *    refused: [{host, account, time, source, reason}]}
 * with every time an ISO-8601 UTC string (null when unknown).
 */
#ifndef JITCA_REPORTJSON_H
#define JITCA_REPORTJSON_H

#include <jansson.h>

#include "ca/report.h"

/* The grants of r as a new JSON array, or NULL when out of memory. */
json_t *report_grants_json(const struct report *r);
/* The logins of r that no grant explains: [{host, account, time, source,
 * serial, key_id, unknown (, reason)}]; new, or NULL. */
json_t *report_unknown_json(const struct report *r);

#endif /* JITCA_REPORTJSON_H */
