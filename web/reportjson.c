/*
 * reportjson.c: report_grants_json() and report_unknown_json() of
 * reportjson.h, the domain's report structs (ca/report.h) encoded with
 * jansson.  Nothing here reads the ledger.
 */
#include <jansson.h>

#include "web/reportjson.h"

static json_t *
json_time(int64_t t)
{
	char buf[REPORT_TIME_LEN];

	if (t <= 0)
		return json_null();
	report_time_format(buf, t);
	return json_string(buf);
}

/* One login as JSON: {host, account, time, source} (+ reason). */
static json_t *
login_json(const struct report_login *l)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:o, s:s}", "host", l->host, "account",
		l->account, "time", json_time(l->time), "source", l->source);

	if (o != NULL && l->reason != NULL &&
	    json_object_set_new(o, "reason", json_string(l->reason)) != 0) {
		json_decref(o);
		return NULL;
	}
	if (o != NULL && l->unknown != NULL &&
	    (json_object_set_new(
		 o, "serial", json_integer((json_int_t)l->serial)) != 0 ||
		json_object_set_new(o, "key_id", json_string(l->key_id)) != 0 ||
		json_object_set_new(o, "unknown", json_string(l->unknown)) !=
		    0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
logins_json(const struct report_login *l, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, login_json(&l[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
grant_json(const struct report_grant *g)
{
	json_t *o = NULL, *p = NULL, *ap = NULL, *rv = NULL;
	size_t i;

	if ((p = json_array()) == NULL || (ap = json_array()) == NULL)
		goto fail;
	for (i = 0; i < g->nprincipals; i++)
		if (json_array_append_new(p, json_string(g->principals[i])) !=
		    0)
			goto fail;
	for (i = 0; i < g->napprovals; i++)
		if (json_array_append_new(ap,
			json_pack("{s:s, s:o, s:s}", "who", g->approvals[i].who,
			    "time", json_time(g->approvals[i].time), "comment",
			    g->approvals[i].comment)) != 0)
			goto fail;
	rv = g->revoked
	    ? json_pack("{s:o, s:s, s:s}", "time", json_time(g->revoked_time),
		  "by", g->revoked_by, "reason", g->revoked_reason)
	    : json_null();
	o = json_pack("{s:I, s:s, s:s, s:O, s:I, s:s, s:s, s:O, s:o, s:s, "
		      "s:b, s:o, s:o, s:O, s:b, s:n, s:o, s:o}",
	    "request", (json_int_t)g->request, "requester", g->requester,
	    "role", g->role, "principals", p, "serial", (json_int_t)g->serial,
	    "key_id", g->key_id, "reason", g->reason, "approvals", ap, "issued",
	    json_time(g->issued), "issued_by", g->issued_by, "direct",
	    g->direct, "valid_after", json_time(g->valid_after), "valid_before",
	    json_time(g->valid_before), "revoked", rv, "break_glass",
	    g->break_glass, "review", "logins",
	    logins_json(g->logins, g->nlogins), "refused",
	    logins_json(g->refused, g->nrefused));
fail:
	json_decref(p);
	json_decref(ap);
	json_decref(rv);
	return o;
}

json_t *
report_grants_json(const struct report *r)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < r->ngrants; i++)
		if (json_array_append_new(a, grant_json(&r->grants[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *
report_unknown_json(const struct report *r)
{
	return logins_json(r->unknown, r->nunknown);
}
