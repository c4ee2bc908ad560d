/*
 * encode.c: the views of ca/views.h as the API's JSON (encode.h), with
 * jansson.  Keys are set in the order encode.h lists; a failed
 * allocation anywhere releases what was built and returns NULL.
 */
#include <stdio.h>
#include <string.h>

#include "web/encode.h"

static json_t *
strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

static json_t *
serials_json(const uint64_t *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		if (json_array_append_new(a, json_integer((json_int_t)v[i])) !=
		    0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

static json_t *
decision_json(const struct approval_view *d)
{
	return json_pack("{s:s, s:I, s:s}", "who", d->approver, "when",
	    (json_int_t)d->time, "comment", d->comment);
}

/* A denial or review as a key of o, in the order made, then the
 * approvals as one array.  0 or -1. */
static int
decisions_set(json_t *o, const struct request_view *v)
{
	const struct approval_view *d;
	json_t *arr = json_array();
	size_t i;
	int bad = arr == NULL;

	for (i = 0; !bad && i < v->ndecisions; i++) {
		d = &v->decisions[i];
		if (strcmp(d->decision, "approve") == 0)
			bad = json_array_append_new(arr, decision_json(d)) != 0;
		else
			bad =
			    json_object_set_new(o,
				strcmp(d->decision, "review") == 0 ? "reviewed"
								   : "denied",
				decision_json(d)) != 0;
	}
	if (bad) {
		json_decref(arr);
		return -1;
	}
	return json_object_set_new(o, "approvals", arr);
}

static int
cert_set(json_t *o, const struct cert_view *c)
{
	if (c->certificate != NULL &&
	    json_object_set_new(
		o, "certificate", json_string(c->certificate)) != 0)
		return -1;
	if (json_object_set_new(
		o, "serial", json_integer((json_int_t)c->serial)) != 0 ||
	    json_object_set_new(o, "key_id", json_string(c->key_id)) != 0 ||
	    json_object_set_new(
		o, "valid_after", json_integer(c->valid_after)) != 0 ||
	    json_object_set_new(
		o, "valid_before", json_integer(c->valid_before)) != 0)
		return -1;
	if (c->revoked &&
	    json_object_set_new(o, "revoked", json_integer(c->revoked_time)) !=
		0)
		return -1;
	return 0;
}

json_t *
encode_request(const struct request_view *v)
{
	json_t *o;

	o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:I, s:s, s:I, s:I, s:i, "
		      "s:s, s:s, s:s}",
	    "id", (json_int_t)v->id, "state", v->state, "role", v->role,
	    "requester", v->requester, "principals",
	    strv_json(v->principals, v->nprincipals), "ttl", (json_int_t)v->ttl,
	    "reason", v->reason, "created", (json_int_t)v->created, "expires",
	    (json_int_t)v->expires, "approvals_required",
	    (int)v->approvals_required, "key_fingerprint", v->key_fp,
	    "public_key", v->public_key, "digest", v->digest);
	if (o == NULL)
		return NULL;
	if ((v->has_role &&
		json_object_set_new(o, "approver_groups",
		    strv_json(v->approver_groups, v->napprover_groups)) != 0) ||
	    decisions_set(o, v) != 0 ||
	    (v->cert != NULL && cert_set(o, v->cert) != 0) ||
	    json_object_set_new(
		o, "break_glass", json_boolean(v->break_glass)) != 0 ||
	    (v->break_glass &&
		json_object_set_new(
		    o, "needs_review", json_boolean(v->needs_review)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
encode_request_text(struct jsonw_buf *b, const struct request_view *v)
{
	const struct cert_view *c = v->cert;
	struct jsonw_obj o;

	if (v->ndecisions > 0)
		return ERR_INVALID_ARG; /* encode_request() writes those */
	jsonw_obj_begin(&o, b, JSON_COMPACT);
	jsonw_obj_int(&o, "id", v->id);
	jsonw_obj_str(&o, "state", v->state);
	jsonw_obj_str(&o, "role", v->role);
	jsonw_obj_str(&o, "requester", v->requester);
	jsonw_obj_strv(&o, "principals", v->principals, v->nprincipals);
	jsonw_obj_int(&o, "ttl", (json_int_t)v->ttl);
	jsonw_obj_str(&o, "reason", v->reason);
	jsonw_obj_int(&o, "created", (json_int_t)v->created);
	jsonw_obj_int(&o, "expires", (json_int_t)v->expires);
	jsonw_obj_int(&o, "approvals_required", (int)v->approvals_required);
	jsonw_obj_str(&o, "key_fingerprint", v->key_fp);
	jsonw_obj_str(&o, "public_key", v->public_key);
	jsonw_obj_str(&o, "digest", v->digest);
	if (v->has_role)
		jsonw_obj_strv(&o, "approver_groups", v->approver_groups,
		    v->napprover_groups);
	jsonw_obj_strv(&o, "approvals", NULL, 0);
	if (c != NULL) {
		if (c->certificate != NULL)
			jsonw_obj_str(&o, "certificate", c->certificate);
		jsonw_obj_int(&o, "serial", (json_int_t)c->serial);
		jsonw_obj_str(&o, "key_id", c->key_id);
		jsonw_obj_int(&o, "valid_after", c->valid_after);
		jsonw_obj_int(&o, "valid_before", c->valid_before);
		if (c->revoked)
			jsonw_obj_int(&o, "revoked", c->revoked_time);
	}
	jsonw_obj_bool(&o, "break_glass", v->break_glass);
	if (v->break_glass)
		jsonw_obj_bool(&o, "needs_review", v->needs_review);
	return jsonw_obj_end(&o);
}

json_t *
encode_request_list(const struct request_view *v, size_t n)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; list != NULL && i < n; i++) {
		if (json_array_append_new(list, encode_request(&v[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

json_t *
encode_requests(const struct request_views *v)
{
	json_t *list = encode_request_list(v->v, v->n), *cursor;
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v->next_cursor);
	cursor = v->next_cursor > 0 ? json_string(buf) : json_null();
	return json_pack("{s:o, s:o}", "requests", list, "next_cursor", cursor);
}

static json_t *
role_json(const struct role_view *v)
{
	json_t *o, *crit = json_object();
	size_t i;

	for (i = 0; crit != NULL && i < v->ncritical; i++) {
		if (json_object_set_new(crit, v->critical[i].name,
			json_string(v->critical[i].value)) != 0) {
			json_decref(crit);
			crit = NULL;
		}
	}
	o = json_pack("{s:s, s:o, s:I, s:I, s:i, s:o, s:o, s:b, s:b}", "name",
	    v->name, "principals", strv_json(v->principals, v->nprincipals),
	    "default_ttl", (json_int_t)v->default_ttl, "max_ttl",
	    (json_int_t)v->max_ttl, "approvals_required",
	    (int)v->approvals_required, "critical_options", crit, "extensions",
	    strv_json(v->extensions, v->nextensions), "can_request",
	    v->can_request, "can_approve", v->can_approve);
	if (o != NULL && v->break_glass_ttl > 0 &&
	    json_object_set_new(o, "break_glass",
		json_pack(
		    "{s:I}", "max_ttl", (json_int_t)v->break_glass_ttl)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
encode_roles(const struct role_views *v)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < v->n; i++) {
		if (json_array_append_new(arr, role_json(&v->v[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return json_pack("{s:o}", "roles", arr);
}

json_t *
encode_users(const struct user_views *v)
{
	json_t *arr = json_array();
	const struct user_view *u;
	size_t i;

	for (i = 0; arr != NULL && i < v->n; i++) {
		u = &v->v[i];
		if (json_array_append_new(arr,
			json_pack("{s:s,s:o,s:b,s:I}", "name", u->name,
			    "groups", strv_json(u->groups, u->ngroups),
			    "disabled", u->disabled, "created",
			    (json_int_t)u->created)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

json_t *
encode_revocation(const struct revocation_view *v)
{
	json_t *o;

	o = json_pack("{s:o, s:o, s:I}", "revoked",
	    serials_json(v->revoked, v->nrevoked), "already_revoked",
	    serials_json(v->already_revoked, v->nalready_revoked),
	    "krl_version", (json_int_t)v->krl_version);
	if (o != NULL && v->key_fp != NULL &&
	    (json_object_set_new(
		 o, "key_fingerprint", json_string(v->key_fp)) != 0 ||
		json_object_set_new(
		    o, "key_revoked", json_boolean(v->key_revoked)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
encode_host_cert(const struct host_issued *hi, const struct host *h)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:o, s:b}", "certificate",
	    hi->certificate, "serial", (json_int_t)hi->serial, "valid_after",
	    (json_int_t)hi->valid_after, "valid_before",
	    (json_int_t)hi->valid_before, "principals",
	    strv_json(h->principals, h->nprincipals), "renewal", hi->renewal);
}
