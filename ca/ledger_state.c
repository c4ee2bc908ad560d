/*
 * ledger_state.c: ledger_verify_state() (ledger.h): replays the events
 * and compares the current-state tables (users, hosts, requests,
 * approvals, certificates, revoked_keys and the counters in meta) with what the
 * events say, naming every row that disagrees.
 *
 * The expected state is a function of the events alone: each event type
 * that jitca writes is applied to in-memory tables (jansson objects keyed
 * by the row's primary key) built only from its seq, time, actor, subject
 * and details.  Then every row of every state table is compared field by
 * field with its expected row, and expected rows that have no table row
 * are reported missing.  Time columns are written with the CA clock read
 * a little before the event is appended, so they must lie within
 * LEDGER_STATE_SLACK seconds before the time of the event that set them.
 *
 * Works with ca/store/store.h (the raw rows and meta, in one read
 * snapshot; no SQL here), signer/pubkey.h and signer/cert.h (fingerprints of
 * stored keys and certificates).  Not here: the hash chain (ca/store/chain.c),
 * HTTP, printing (the caller's report function prints).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "ca/ledger.h"
#include "ca/store/store.h"
#include "signer/cert.h"
#include "signer/pubkey.h"
#include "signer/wire.h"

#define STATE_MSG_LEN 512
#define STATE_VAL_LEN 96 /* a found value is shown up to this many bytes */

struct replay {
	struct ledger *l;
	struct store *s;
	void (*report)(void *arg, const char *msg);
	void *arg;
	uint64_t nbad;
	json_t *users, *hosts, *hostkeys, *requests, *approvals, *certs, *keys;
	int64_t last_serial;
	/* krl_version: exact when the last revocation event carries it,
	 * else at least krl_min (ledgers written before it did). */
	int64_t krl_exact, krl_min, krl_groups;
	int krl_known;
	int64_t last_rev_seq, last_rev_time;
	char last_rev_actor[LEDGER_FIELD_MAX + 1];
	char *ca_fp;
};

static void __attribute__((format(printf, 2, 3)))
bad(struct replay *p, const char *fmt, ...)
{
	char msg[STATE_MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->nbad++;
	if (p->report != NULL)
		p->report(p->arg, msg);
}

/* A shown value: a JSON dump of v ("none" for NULL), cut short. */
static void
show_json(char out[STATE_VAL_LEN], const json_t *v)
{
	char *s;

	if (v == NULL || json_is_null(v)) {
		(void)snprintf(out, STATE_VAL_LEN, "NULL");
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	(void)snprintf(out, STATE_VAL_LEN, "%s", s != NULL ? s : "?");
	free(s);
}

/* A cell as JSON (integer, string, NULL; a blob as hex). */
static json_t *
col_json(const struct store_cell *c)
{
	const uint8_t *b;
	char *hex;
	json_t *v;
	int n;

	switch (c->type) {
	case STORE_CELL_INTEGER:
		return json_integer(c->i);
	case STORE_CELL_TEXT:
		return json_stringn(c->text, c->len);
	case STORE_CELL_BLOB:
		n = (int)c->len;
		b = c->blob;
		if ((hex = malloc((size_t)n * 2 + 1)) == NULL)
			return NULL;
		wire_hex_encode(hex, b, (size_t)n);
		v = json_string(hex);
		free(hex);
		return v;
	case STORE_CELL_FLOAT:
		return json_real(c->d);
	default:
		return json_null();
	}
}

/* Compare field of a row (where: "TABLE KEY") with exp (borrowed). */
static int
cmp_value(struct replay *p, const char *where, const char *field,
    const json_t *exp, const struct store_cell *c)
{
	char e[STATE_VAL_LEN], f[STATE_VAL_LEN];
	json_t *found;

	if ((found = col_json(c)) == NULL)
		return ERR_ALLOC;
	if (!json_equal(exp == NULL ? json_null() : exp, found) &&
	    !(exp == NULL && json_is_null(found))) {
		show_json(e, exp);
		show_json(f, found);
		bad(p, "%s: %s: expected %s, found %s", where, field, e, f);
	}
	json_decref(found);
	return 0;
}

/* A JSON text column (principals, groups) compared as JSON. */
static int
cmp_json_text(struct replay *p, const char *where, const char *field,
    const json_t *exp, const struct store_cell *c)
{
	char e[STATE_VAL_LEN], f[STATE_VAL_LEN];
	json_t *found = NULL;
	json_error_t jerr;

	if (c->type == STORE_CELL_TEXT)
		found = json_loads(c->text, 0, &jerr);
	if (found == NULL || !json_equal(exp, found)) {
		show_json(e, exp);
		(void)snprintf(f, sizeof(f), "%s",
		    c->type == STORE_CELL_NULL ? "NULL" : c->text);
		bad(p, "%s: %s: expected %s, found %s", where, field, e, f);
	}
	json_decref(found);
	return 0;
}

/* A time column set by the event of time t at seq (t < 0: NULL). */
static void
cmp_time(struct replay *p, const char *where, const char *field, int64_t t,
    int64_t seq, const struct store_cell *c)
{
	char f[STATE_VAL_LEN];
	int64_t v;
	int isnull = c->type == STORE_CELL_NULL;

	v = c->i;
	if (t < 0) {
		if (!isnull)
			bad(p, "%s: %s: expected NULL, found %" PRId64, where,
			    field, v);
		return;
	}
	if (!isnull && c->type == STORE_CELL_INTEGER && v <= t &&
	    v >= t - LEDGER_STATE_SLACK)
		return;
	if (isnull)
		(void)snprintf(f, sizeof(f), "NULL");
	else
		(void)snprintf(f, sizeof(f), "%s", c->text);
	bad(p, "%s: %s: expected %" PRId64 " (seq %" PRId64 "), found %s",
	    where, field, t, seq, f);
}

/* Expected field of obj (borrowed; NULL when absent). */
static json_t *
ex(json_t *obj, const char *k)
{
	return json_object_get(obj, k);
}

static int64_t
ex_int(json_t *obj, const char *k, int64_t dflt)
{
	json_t *v = json_object_get(obj, k);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* ---- replay ---- */

/* A detail of an event, of the JSON type wanted ('s', 'i', 'a', 'b'); a
 * missing one is reported and NULL returned. */
static json_t *
need(struct replay *p, int64_t seq, const char *type, json_t *d, const char *k,
    char want)
{
	json_t *v = json_object_get(d, k);
	int ok = 0;

	switch (want) {
	case 's':
		ok = json_is_string(v);
		break;
	case 'i':
		ok = json_is_integer(v);
		break;
	case 'a':
		ok = json_is_array(v);
		break;
	case 'b':
		ok = json_is_boolean(v);
		break;
	}
	if (!ok) {
		bad(p,
		    "events seq=%" PRId64 ": %s: details.%s missing or of "
		    "the wrong type",
		    seq, type, k);
		return NULL;
	}
	return v;
}

/* Set k of obj to a new value v (stolen; NULL is an allocation error). */
static int
put(json_t *obj, const char *k, json_t *v)
{
	if (v == NULL)
		return ERR_ALLOC;
	return json_object_set_new(obj, k, v) == 0 ? 0 : ERR_ALLOC;
}

/* Parse "request:ID"; 0 when it is not that. */
static int64_t
subject_request_id(const char *subject)
{
	const char *s = subject;
	int64_t id = 0;

	if (strncmp(s, "request:", 8) != 0)
		return 0;
	for (s += 8; *s >= '0' && *s <= '9'; s++) {
		if (id > (INT64_MAX - 9) / 10)
			return 0;
		id = id * 10 + (*s - '0');
	}
	return *s == '\0' ? id : 0;
}

static void
key_i64(char out[32], int64_t v)
{
	(void)snprintf(out, 32, "%" PRId64, v);
}

/* A request's state event: state, updated time. */
static int
request_state(struct replay *p, int64_t seq, int64_t t, const char *type,
    int64_t id, const char *state)
{
	char k[32];
	json_t *rq;
	int r = ERR_INTERNAL;

	key_i64(k, id);
	if ((rq = json_object_get(p->requests, k)) == NULL) {
		bad(p,
		    "events seq=%" PRId64 ": %s: request %" PRId64
		    " was never created",
		    seq, type, id);
		return 0;
	}
	TRY(put(rq, "state", json_string(state)));
	TRY(put(rq, "updated", json_integer(t)));
	TRY(put(rq, "updated_seq", json_integer(seq)));
	r = 0;
out:
	return r;
}

static int
on_request_created(
    struct replay *p, int64_t seq, int64_t t, const char *subject, json_t *d)
{
	const char *ty = "request.created";
	json_t *rq = NULL, *v;
	char k[32];
	int64_t id = subject_request_id(subject);
	int r = ERR_INTERNAL;
	static const char *const fields[] = {"requester", "role", "principals",
	    "ttl", "reason", "key_fp", "expires", "approvals_required"};
	static const char want[] = "ssaissii";
	size_t i;

	if (id <= 0) {
		bad(p, "events seq=%" PRId64 ": %s: subject is not request:ID",
		    seq, ty);
		return 0;
	}
	ENSURE((rq = json_object()) != NULL, ERR_ALLOC);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if ((v = need(p, seq, ty, d, fields[i], want[i])) == NULL) {
			r = 0;
			goto out;
		}
		TRY(put(rq, fields[i], json_incref(v)));
	}
	TRY(put(rq, "state", json_string("pending")));
	TRY(put(rq, "serial", json_null()));
	TRY(put(rq, "created", json_integer(t)));
	TRY(put(rq, "seq", json_integer(seq)));
	TRY(put(rq, "updated", json_integer(t)));
	TRY(put(rq, "updated_seq", json_integer(seq)));
	key_i64(k, id);
	ENSURE(json_object_set_new(p->requests, k, rq) == 0, ERR_ALLOC);
	rq = NULL;
	r = 0;
out:
	json_decref(rq);
	return r;
}

/* request.approved / request.denied: an approvals row. */
static int
on_decision(struct replay *p, int64_t seq, int64_t t, const char *type,
    const char *actor, const char *subject, json_t *d, const char *decision)
{
	json_t *row = NULL, *c;
	char k[LEDGER_FIELD_MAX + 32];
	int64_t id = subject_request_id(subject);
	int r = ERR_INTERNAL;

	if (id <= 0) {
		bad(p, "events seq=%" PRId64 ": %s: subject is not request:ID",
		    seq, type);
		return 0;
	}
	if ((c = need(p, seq, type, d, "comment", 's')) == NULL)
		return 0;
	ENSURE((row = json_pack("{s:I, s:s, s:s, s:O, s:I, s:I}", "request_id",
		    (json_int_t)id, "approver", actor, "decision", decision,
		    "comment", c, "time", (json_int_t)t, "seq",
		    (json_int_t)seq)) != NULL,
	    ERR_ALLOC);
	(void)snprintf(k, sizeof(k), "%" PRId64 "/%s", id, actor);
	ENSURE(json_object_set_new(p->approvals, k, row) == 0, ERR_ALLOC);
	row = NULL;
	if (strcmp(decision, "deny") == 0)
		TRY(request_state(p, seq, t, type, id, "denied"));
	/* An approver shortened the ttl (request.h): the row has it. */
	if (strcmp(decision, "approve") == 0 &&
	    json_is_integer(json_object_get(d, "ttl"))) {
		json_t *rq;
		char rk[32];

		key_i64(rk, id);
		if ((rq = json_object_get(p->requests, rk)) != NULL)
			TRY(put(rq, "ttl",
			    json_integer(json_integer_value(
				json_object_get(d, "ttl")))));
	}
	r = 0;
out:
	json_decref(row);
	return r;
}

/* cert.issued, and host.cert_issued (ca/hosts.c: the same fields, no
 * request). */
static int
on_cert_issued(
    struct replay *p, int64_t seq, int64_t t, const char *ty, json_t *d)
{
	static const char *const fields[] = {"serial", "key_id", "principals",
	    "valid_after", "valid_before", "key_fp", "cert_sha256", "request",
	    "role", "user"};
	static const char want[] = "isaiississ";
	json_t *c = NULL, *v;
	char k[32];
	int64_t serial, req;
	size_t i;
	int r = ERR_INTERNAL;

	ENSURE((c = json_object()) != NULL, ERR_ALLOC);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if ((v = need(p, seq, ty, d, fields[i], want[i])) == NULL) {
			r = 0;
			goto out;
		}
		TRY(put(c, fields[i], json_incref(v)));
	}
	serial = ex_int(c, "serial", 0);
	req = ex_int(c, "request", 0);
	TRY(put(c, "issued", json_integer(t)));
	TRY(put(c, "seq", json_integer(seq)));
	if (serial > p->last_serial)
		p->last_serial = serial;
	if (serial <= 0)
		bad(p,
		    "events seq=%" PRId64 ": %s: serial %" PRId64
		    " is not positive",
		    seq, ty, serial);
	key_i64(k, serial);
	if (json_object_get(p->certs, k) != NULL)
		bad(p,
		    "events seq=%" PRId64 ": %s: serial %" PRId64
		    " issued twice",
		    seq, ty, serial);
	ENSURE(json_object_set_new(p->certs, k, c) == 0, ERR_ALLOC);
	c = NULL;
	if (req > 0) {
		json_t *rq;

		TRY(request_state(p, seq, t, ty, req, "issued"));
		key_i64(k, req);
		if ((rq = json_object_get(p->requests, k)) != NULL)
			TRY(put(rq, "serial", json_integer(serial)));
	}
	r = 0;
out:
	json_decref(c);
	return r;
}

/* One bump of krl_version per revoke_apply() transaction; events of one
 * transaction are consecutive, by one actor, at one time. */
static void
krl_note(struct replay *p, int64_t seq, int64_t t, const char *actor, json_t *d)
{
	json_t *v = json_object_get(d, "krl_version");

	if (json_is_integer(v)) {
		p->krl_exact = (int64_t)json_integer_value(v);
		p->krl_known = 1;
		p->krl_min = p->krl_exact;
	} else {
		if (seq != p->last_rev_seq + 1 || t != p->last_rev_time ||
		    strcmp(actor, p->last_rev_actor) != 0)
			p->krl_min++;
		p->krl_known = 0;
	}
	p->last_rev_seq = seq;
	p->last_rev_time = t;
	(void)snprintf(
	    p->last_rev_actor, sizeof(p->last_rev_actor), "%s", actor);
}

static int
on_cert_revoked(
    struct replay *p, int64_t seq, int64_t t, const char *actor, json_t *d)
{
	const char *ty = "cert.revoked";
	json_t *c, *v, *rq;
	char k[32];
	int64_t req;
	int r = ERR_INTERNAL;

	if ((v = need(p, seq, ty, d, "serial", 'i')) == NULL)
		return 0;
	krl_note(p, seq, t, actor, d);
	key_i64(k, (int64_t)json_integer_value(v));
	if ((c = json_object_get(p->certs, k)) == NULL) {
		bad(p,
		    "events seq=%" PRId64 ": %s: serial %s was never "
		    "issued",
		    seq, ty, k);
		return 0;
	}
	if (json_object_get(c, "revoked") != NULL)
		return 0; /* revoke_apply() never writes a second one */
	TRY(put(c, "revoked", json_integer(t)));
	TRY(put(c, "revoked_seq", json_integer(seq)));
	/* The certificate's request moves from issued to revoked. */
	req = ex_int(c, "request", 0);
	key_i64(k, req);
	rq = json_object_get(p->requests, k);
	if (rq != NULL && json_is_string(ex(rq, "state")) &&
	    strcmp(json_string_value(ex(rq, "state")), "issued") == 0)
		TRY(request_state(p, seq, t, ty, req, "revoked"));
	r = 0;
out:
	return r;
}

static int
on_key_revoked(
    struct replay *p, int64_t seq, int64_t t, const char *actor, json_t *d)
{
	const char *ty = "key.revoked";
	json_t *h, *fp, *reason, *row = NULL;
	int r = ERR_INTERNAL;

	if ((h = need(p, seq, ty, d, "key_sha256", 's')) == NULL ||
	    (fp = need(p, seq, ty, d, "key_fp", 's')) == NULL ||
	    (reason = need(p, seq, ty, d, "reason", 's')) == NULL)
		return 0;
	krl_note(p, seq, t, actor, d);
	ENSURE((row = json_pack("{s:O, s:O, s:I, s:I}", "key_fp", fp, "reason",
		    reason, "time", (json_int_t)t, "seq", (json_int_t)seq)) !=
		NULL,
	    ERR_ALLOC);
	ENSURE(json_object_set_new(p->keys, json_string_value(h), row) == 0,
	    ERR_ALLOC);
	row = NULL;
	r = 0;
out:
	json_decref(row);
	return r;
}

static int
on_user(struct replay *p, int64_t seq, int64_t t, const char *type,
    const char *name, json_t *d)
{
	json_t *u = json_object_get(p->users, name), *v;
	int r = ERR_INTERNAL;

	/* user.seen: created at the first sign-in, without a token. */
	if (strcmp(type, "user.added") == 0 || strcmp(type, "user.seen") == 0) {
		if ((v = need(p, seq, type, d, "groups", 'a')) == NULL)
			return 0;
		ENSURE((u = json_pack("{s:O, s:b, s:I, s:I}", "groups", v,
			    "disabled", 0, "created", (json_int_t)t, "seq",
			    (json_int_t)seq)) != NULL,
		    ERR_ALLOC);
		ENSURE(json_object_set_new(p->users, name, u) == 0, ERR_ALLOC);
		r = 0;
		goto out;
	}
	if (u == NULL) {
		bad(p, "events seq=%" PRId64 ": %s: user %s was never added",
		    seq, type, name);
		return 0;
	}
	if (strcmp(type, "user.disabled") == 0) {
		TRY(put(u, "disabled", json_true()));
	} else if (strcmp(type, "user.groups") == 0) {
		if ((v = need(p, seq, type, d, "groups", 'a')) == NULL)
			return 0;
		TRY(put(u, "groups", json_incref(v)));
	} else { /* token.issued */
		/* token_sha256 from schema 2 on; before, only token_id (the
		 * first 8 hex digits of it) is known. */
		if ((v = json_object_get(d, "token_sha256")) == NULL &&
		    (v = need(p, seq, type, d, "token_id", 's')) == NULL)
			return 0;
		TRY(put(u, "token", json_incref(v)));
		TRY(put(u, "token_created", json_integer(t)));
		TRY(put(u, "token_seq", json_integer(seq)));
	}
	r = 0;
out:
	return r;
}

/* host.added, host.token, host.key_bound, host.reset, host.disabled on
 * the subject "host:<name>" (ca/hosts.c). */
static int
on_host(struct replay *p, int64_t seq, int64_t t, const char *type,
    const char *subject, json_t *d)
{
	const char *name;
	json_t *h, *v;
	int r = ERR_INTERNAL;

	if (strncmp(subject, "host:", 5) != 0) {
		bad(p, "events seq=%" PRId64 ": %s: subject is not host:NAME",
		    seq, type);
		return 0;
	}
	name = subject + 5;
	h = json_object_get(p->hosts, name);
	if (strcmp(type, "host.added") == 0) {
		if ((v = need(p, seq, type, d, "principals", 'a')) == NULL)
			return 0;
		ENSURE((h = json_pack("{s:O, s:b, s:I, s:I}", "principals", v,
			    "disabled", 0, "created", (json_int_t)t, "seq",
			    (json_int_t)seq)) != NULL,
		    ERR_ALLOC);
		ENSURE(json_object_set_new(p->hosts, name, h) == 0, ERR_ALLOC);
		r = 0;
		goto out;
	}
	if (h == NULL) {
		bad(p, "events seq=%" PRId64 ": %s: host %s was never added",
		    seq, type, name);
		return 0;
	}
	if (strcmp(type, "host.token") == 0) {
		if ((v = need(p, seq, type, d, "token_sha256", 's')) == NULL)
			return 0;
		TRY(put(h, "token", json_incref(v)));
	} else if (strcmp(type, "host.key_bound") == 0) {
		json_t *kt, *row;
		char k[2 * LEDGER_FIELD_MAX + 2];

		if ((kt = need(p, seq, type, d, "key_type", 's')) == NULL ||
		    (v = need(p, seq, type, d, "key_fp", 's')) == NULL)
			return 0;
		(void)snprintf(
		    k, sizeof(k), "%s/%s", name, json_string_value(kt));
		ENSURE((row = json_pack("{s:s, s:O, s:O, s:I, s:I}", "name",
			    name, "key_type", kt, "key_fp", v, "bound",
			    (json_int_t)t, "seq", (json_int_t)seq)) != NULL,
		    ERR_ALLOC);
		ENSURE(
		    json_object_set_new(p->hostkeys, k, row) == 0, ERR_ALLOC);
	} else if (strcmp(type, "host.reset") == 0) {
		const char *k;
		json_t *row;
		void *tmp;

		json_object_foreach_safe(p->hostkeys, tmp, k, row)
		{
			if (strcmp(json_string_value(ex(row, "name")), name) ==
			    0)
				(void)json_object_del(p->hostkeys, k);
		}
	} else if (strcmp(type, "host.disabled") == 0) {
		TRY(put(h, "disabled", json_true()));
	}
	r = 0;
out:
	return r;
}

static int
replay_events(struct replay *p)
{
	struct store_rows *rows = NULL;
	const struct store_cell *cell;
	json_t *d = NULL;
	json_error_t jerr;
	const char *type, *actor, *subject;
	int64_t seq, t;
	int r = ERR_INTERNAL, more;

	TRY(store_rows_open(p->s, STORE_TABLE_EVENTS, &rows));
	for (;;) {
		TRY(store_rows_next(p->s, rows, &cell, &more));
		if (!more)
			break;
		seq = cell[0].i;
		t = cell[1].i;
		type = cell[2].text;
		actor = cell[3].text;
		subject = cell[4].text;
		json_decref(d);
		if ((d = json_loads(cell[5].text, 0, &jerr)) == NULL ||
		    !json_is_object(d)) {
			bad(p,
			    "events seq=%" PRId64 ": details are not a "
			    "JSON object",
			    seq);
			continue;
		}
		if (strcmp(type, "ca.created") == 0) {
			json_t *v = need(p, seq, type, d, "fingerprint", 's');

			free(p->ca_fp);
			p->ca_fp = NULL;
			if (v != NULL &&
			    (p->ca_fp = strdup(json_string_value(v))) == NULL) {
				r = ERR_ALLOC;
				goto out;
			}
		} else if (strcmp(type, "user.added") == 0 ||
		    strcmp(type, "user.seen") == 0 ||
		    strcmp(type, "user.disabled") == 0 ||
		    strcmp(type, "user.groups") == 0 ||
		    strcmp(type, "token.issued") == 0) {
			TRY(on_user(p, seq, t, type, subject, d));
		} else if (strcmp(type, "request.created") == 0) {
			TRY(on_request_created(p, seq, t, subject, d));
		} else if (strcmp(type, "request.approved") == 0) {
			TRY(on_decision(
			    p, seq, t, type, actor, subject, d, "approve"));
		} else if (strcmp(type, "request.denied") == 0) {
			TRY(on_decision(
			    p, seq, t, type, actor, subject, d, "deny"));
		} else if (strcmp(type, "request.reviewed") == 0) {
			TRY(on_decision(
			    p, seq, t, type, actor, subject, d, "review"));
		} else if (strcmp(type, "request.expired") == 0) {
			int64_t id = subject_request_id(subject);

			TRY(request_state(p, seq, t, type, id, "expired"));
		} else if (strcmp(type, "request.withdrawn") == 0) {
			int64_t id = subject_request_id(subject);

			TRY(request_state(p, seq, t, type, id, "withdrawn"));
		} else if (strcmp(type, "cert.issued") == 0) {
			TRY(on_cert_issued(p, seq, t, type, d));
		} else if (strcmp(type, "host.cert_issued") == 0) {
			TRY(on_cert_issued(p, seq, t, type, d));
		} else if (strncmp(type, "host.", 5) == 0) {
			TRY(on_host(p, seq, t, type, subject, d));
		} else if (strcmp(type, "cert.revoked") == 0) {
			TRY(on_cert_revoked(p, seq, t, actor, d));
		} else if (strcmp(type, "key.revoked") == 0) {
			TRY(on_key_revoked(p, seq, t, actor, d));
		}
		/* Other types (ca.started, session.login, session.refused,
		 * ...) change no state row. */
	}
	r = 0;
out:
	json_decref(d);
	store_rows_close(p->s, rows);
	return r;
}

/* ---- comparison ---- */

/* Expected rows of tab left over after the table was read: missing. */
static void
report_missing(
    struct replay *p, const char *table, const char *keyname, json_t *tab)
{
	const char *k;
	json_t *v;

	json_object_foreach(tab, k, v)
	{
		bad(p,
		    "%s %s=%s: row: expected a row (seq %" PRId64
		    "), found none",
		    table, keyname, k, ex_int(v, "seq", 0));
	}
}

static void
report_extra(struct replay *p, const char *where)
{
	bad(p, "%s: row: expected none (no event creates it), found a row",
	    where);
}

static int
check_users(struct replay *p)
{
	struct store_rows *rows = NULL;
	const struct store_cell *cell;
	char where[LEDGER_FIELD_MAX + 32], *hex = NULL;
	const char *name;
	json_t *u, *tok, *dis = NULL;
	int r = ERR_INTERNAL, more;

	TRY(store_rows_open(p->s, STORE_TABLE_USERS, &rows));
	for (;;) {
		TRY(store_rows_next(p->s, rows, &cell, &more));
		if (!more)
			break;
		name = cell[0].text;
		(void)snprintf(where, sizeof(where), "users name=%s", name);
		if ((u = json_object_get(p->users, name)) == NULL) {
			report_extra(p, where);
			continue;
		}
		TRY(cmp_json_text(
		    p, where, "groups", ex(u, "groups"), &cell[1]));
		tok = ex(u, "token");
		if (tok != NULL && json_string_length(tok) == 64) {
			TRY(cmp_value(p, where, "token_hash", tok, &cell[2]));
		} else if (tok != NULL) {
			/* An old event: only the token id is known. */
			json_t *found = col_json(&cell[2]);
			const char *fs = json_string_value(found);

			ENSURE(found != NULL, ERR_ALLOC);
			if (fs == NULL ||
			    strncmp(fs, json_string_value(tok),
				json_string_length(tok)) != 0) {
				char f[STATE_VAL_LEN];

				show_json(f, found);
				bad(p,
				    "%s: token_hash: expected a hash "
				    "starting %s, found %s",
				    where, json_string_value(tok), f);
			}
			json_decref(found);
		} else {
			TRY(cmp_value(p, where, "token_hash", NULL, &cell[2]));
		}
		json_decref(dis);
		ENSURE((dis = json_integer(json_is_true(ex(u, "disabled")))) !=
			NULL,
		    ERR_ALLOC);
		TRY(cmp_value(p, where, "disabled", dis, &cell[3]));
		cmp_time(p, where, "created", ex_int(u, "created", -1),
		    ex_int(u, "seq", 0), &cell[4]);
		cmp_time(p, where, "token_created",
		    ex_int(u, "token_created", -1), ex_int(u, "token_seq", 0),
		    &cell[5]);
		(void)json_object_del(p->users, name);
	}
	report_missing(p, "users", "name", p->users);
	r = 0;
out:
	json_decref(dis);
	free(hex);
	store_rows_close(p->s, rows);
	return r;
}

static int
check_requests(struct replay *p)
{
	struct store_rows *rows = NULL;
	const struct store_cell *cell;
	struct pubkey *key = NULL;
	char where[64], k[32], fp[PUBKEY_FP_LEN];
	const char *line;
	json_t *rq, *fpj = NULL;
	int r = ERR_INTERNAL, more;
	static const char *const cols[] = {"requester", "role", NULL, "ttl",
	    "reason", NULL, "key_fp", "state", NULL, "expires",
	    "approvals_required", "serial"};
	size_t i;

	TRY(store_rows_open(p->s, STORE_TABLE_REQUESTS, &rows));
	for (;;) {
		TRY(store_rows_next(p->s, rows, &cell, &more));
		if (!more)
			break;
		key_i64(k, cell[13].i);
		(void)snprintf(where, sizeof(where), "requests id=%s", k);
		if ((rq = json_object_get(p->requests, k)) == NULL) {
			report_extra(p, where);
			continue;
		}
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			if (cols[i] != NULL)
				TRY(cmp_value(p, where, cols[i],
				    ex(rq, cols[i]), &cell[i]));
		}
		TRY(cmp_json_text(
		    p, where, "principals", ex(rq, "principals"), &cell[2]));
		/* The key itself is not in the event, its fingerprint is. */
		line = cell[5].text;
		pubkey_free(key);
		key = NULL;
		if (pubkey_from_line(&key, line, strlen(line)) != 0 ||
		    pubkey_fingerprint(fp, key) != 0)
			(void)snprintf(fp, sizeof(fp), "(not a public key)");
		json_decref(fpj);
		ENSURE((fpj = json_string(fp)) != NULL, ERR_ALLOC);
		if (!json_equal(fpj, ex(rq, "key_fp"))) {
			char e[STATE_VAL_LEN];

			show_json(e, ex(rq, "key_fp"));
			bad(p,
			    "%s: public_key: expected a key with "
			    "fingerprint %s, found one with %s",
			    where, e, fp);
		}
		cmp_time(p, where, "created", ex_int(rq, "created", -1),
		    ex_int(rq, "seq", 0), &cell[8]);
		cmp_time(p, where, "updated", ex_int(rq, "updated", -1),
		    ex_int(rq, "updated_seq", 0), &cell[12]);
		(void)json_object_del(p->requests, k);
	}
	report_missing(p, "requests", "id", p->requests);
	r = 0;
out:
	json_decref(fpj);
	pubkey_free(key);
	store_rows_close(p->s, rows);
	return r;
}

static int
check_approvals(struct replay *p)
{
	struct store_rows *rows = NULL;
	const struct store_cell *cell;
	char where[LEDGER_FIELD_MAX + 64], k[LEDGER_FIELD_MAX + 32];
	json_t *a;
	int r = ERR_INTERNAL, more;
	const char *key;

	TRY(store_rows_open(p->s, STORE_TABLE_APPROVALS, &rows));
	for (;;) {
		TRY(store_rows_next(p->s, rows, &cell, &more));
		if (!more)
			break;
		(void)snprintf(k, sizeof(k), "%" PRId64 "/%.256s",
		    (int64_t)cell[0].i, cell[1].text);
		(void)snprintf(where, sizeof(where),
		    "approvals request_id=%" PRId64 " approver=%s",
		    (int64_t)cell[0].i, cell[1].text);
		if ((a = json_object_get(p->approvals, k)) == NULL) {
			report_extra(p, where);
			continue;
		}
		TRY(cmp_value(
		    p, where, "decision", ex(a, "decision"), &cell[2]));
		TRY(cmp_value(p, where, "comment", ex(a, "comment"), &cell[3]));
		cmp_time(p, where, "time", ex_int(a, "time", -1),
		    ex_int(a, "seq", 0), &cell[4]);
		(void)json_object_del(p->approvals, k);
	}
	{
		json_t *v;

		json_object_foreach(p->approvals, key, v)
		{
			bad(p,
			    "approvals request_id=%" PRId64 " approver=%s: "
			    "row: expected a row (seq %" PRId64 "), found none",
			    ex_int(v, "request_id", 0),
			    json_string_value(ex(v, "approver")),
			    ex_int(v, "seq", 0));
		}
	}
	r = 0;
out:
	store_rows_close(p->s, rows);
	return r;
}

/* Fingerprint of the key blob in column i, or a placeholder. */
static void
blob_fp(char fp[PUBKEY_FP_LEN], const struct store_cell *c)
{
	struct pubkey *key = NULL;

	if (c->type != STORE_CELL_BLOB ||
	    pubkey_from_blob(&key, c->blob, c->len) != 0 ||
	    pubkey_fingerprint(fp, key) != 0)
		(void)snprintf(fp, PUBKEY_FP_LEN, "(not a public key)");
	pubkey_free(key);
}

/* SHA-256 hex of the certificate in column i, or a placeholder. */
static void
cert_sha(char out[65], const struct store_cell *cell)
{
	struct cert *c = NULL;
	const char *line = cell->text;

	if (cert_from_line(&c, line, strlen(line)) != 0 ||
	    ca_sha256_hex(out, c->blob, c->blob_len) != 0)
		(void)snprintf(out, 65, "(not a certificate)");
	cert_free(c);
}

static int
check_certificates(struct replay *p)
{
	struct store_rows *rows = NULL;
	const struct store_cell *cell;
	char where[64], k[32], fp[PUBKEY_FP_LEN], sha[65], e[STATE_VAL_LEN];
	json_t *c;
	int r = ERR_INTERNAL, more;
	static const char *const cols[] = {"request", "user", "role", "key_id",
	    NULL, "valid_after", "valid_before", "key_fp", NULL, "cert_sha256"};
	static const char *const names[] = {"request_id", "user", "role",
	    "key_id", "principals", "valid_after", "valid_before", "key_fp",
	    "key_blob", "cert_sha256"};
	size_t i;

	TRY(store_rows_open(p->s, STORE_TABLE_CERTIFICATES, &rows));
	for (;;) {
		TRY(store_rows_next(p->s, rows, &cell, &more));
		if (!more)
			break;
		key_i64(k, cell[13].i);
		(void)snprintf(
		    where, sizeof(where), "certificates serial=%s", k);
		if ((c = json_object_get(p->certs, k)) == NULL) {
			report_extra(p, where);
			continue;
		}
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			if (cols[i] != NULL)
				TRY(cmp_value(p, where, names[i],
				    ex(c, cols[i]), &cell[i]));
		}
		TRY(cmp_json_text(
		    p, where, "principals", ex(c, "principals"), &cell[4]));
		blob_fp(fp, &cell[8]);
		if (!json_is_string(ex(c, "key_fp")) ||
		    strcmp(fp, json_string_value(ex(c, "key_fp"))) != 0) {
			show_json(e, ex(c, "key_fp"));
			bad(p,
			    "%s: key_blob: expected a key with fingerprint "
			    "%s, found one with %s",
			    where, e, fp);
		}
		cert_sha(sha, &cell[10]);
		if (!json_is_string(ex(c, "cert_sha256")) ||
		    strcmp(sha, json_string_value(ex(c, "cert_sha256"))) != 0) {
			show_json(e, ex(c, "cert_sha256"));
			bad(p,
			    "%s: certificate: expected one with SHA-256 "
			    "%s, found %s",
			    where, e, sha);
		}
		cmp_time(p, where, "issued", ex_int(c, "issued", -1),
		    ex_int(c, "seq", 0), &cell[11]);
		cmp_time(p, where, "revoked", ex_int(c, "revoked", -1),
		    ex_int(c, "revoked_seq", 0), &cell[12]);
		(void)json_object_del(p->certs, k);
	}
	report_missing(p, "certificates", "serial", p->certs);
	r = 0;
out:
	store_rows_close(p->s, rows);
	return r;
}

static int
check_hosts(struct replay *p)
{
	struct store_rows *rows = NULL;
	const struct store_cell *cell;
	char where[LEDGER_FIELD_MAX + 32];
	const char *name;
	json_t *h, *dis = NULL;
	int r = ERR_INTERNAL, more;

	TRY(store_rows_open(p->s, STORE_TABLE_HOSTS, &rows));
	for (;;) {
		TRY(store_rows_next(p->s, rows, &cell, &more));
		if (!more)
			break;
		name = cell[0].text;
		(void)snprintf(where, sizeof(where), "hosts name=%s", name);
		if ((h = json_object_get(p->hosts, name)) == NULL) {
			report_extra(p, where);
			continue;
		}
		TRY(cmp_json_text(
		    p, where, "principals", ex(h, "principals"), &cell[1]));
		TRY(cmp_value(
		    p, where, "token_hash", ex(h, "token"), &cell[2]));
		json_decref(dis);
		ENSURE((dis = json_integer(json_is_true(ex(h, "disabled")))) !=
			NULL,
		    ERR_ALLOC);
		TRY(cmp_value(p, where, "disabled", dis, &cell[3]));
		cmp_time(p, where, "created", ex_int(h, "created", -1),
		    ex_int(h, "seq", 0), &cell[4]);
		(void)json_object_del(p->hosts, name);
	}
	report_missing(p, "hosts", "name", p->hosts);
	r = 0;
out:
	json_decref(dis);
	store_rows_close(p->s, rows);
	return r;
}

static int
check_host_keys(struct replay *p)
{
	struct store_rows *rows = NULL;
	const struct store_cell *cell;
	char where[2 * LEDGER_FIELD_MAX + 48], k[2 * LEDGER_FIELD_MAX + 2];
	char fp[PUBKEY_FP_LEN], e[STATE_VAL_LEN];
	json_t *row;
	int r = ERR_INTERNAL, more;

	TRY(store_rows_open(p->s, STORE_TABLE_HOST_KEYS, &rows));
	for (;;) {
		TRY(store_rows_next(p->s, rows, &cell, &more));
		if (!more)
			break;
		(void)snprintf(
		    k, sizeof(k), "%s/%s", cell[0].text, cell[1].text);
		(void)snprintf(where, sizeof(where),
		    "host_keys name=%s key_type=%s", cell[0].text,
		    cell[1].text);
		if ((row = json_object_get(p->hostkeys, k)) == NULL) {
			report_extra(p, where);
			continue;
		}
		TRY(cmp_value(p, where, "key_fp", ex(row, "key_fp"), &cell[3]));
		blob_fp(fp, &cell[2]);
		if (strcmp(fp, json_string_value(ex(row, "key_fp"))) != 0) {
			show_json(e, ex(row, "key_fp"));
			bad(p,
			    "%s: key_blob: expected a key with fingerprint %s, "
			    "found one with %s",
			    where, e, fp);
		}
		cmp_time(p, where, "bound", ex_int(row, "bound", -1),
		    ex_int(row, "seq", 0), &cell[4]);
		(void)json_object_del(p->hostkeys, k);
	}
	report_missing(p, "host_keys", "name/key_type", p->hostkeys);
	r = 0;
out:
	store_rows_close(p->s, rows);
	return r;
}

static int
check_revoked_keys(struct replay *p)
{
	struct store_rows *rows = NULL;
	const struct store_cell *cell;
	char where[128];
	json_t *kv = NULL, *row;
	int r = ERR_INTERNAL, more;

	TRY(store_rows_open(p->s, STORE_TABLE_REVOKED_KEYS, &rows));
	for (;;) {
		TRY(store_rows_next(p->s, rows, &cell, &more));
		if (!more)
			break;
		json_decref(kv);
		ENSURE((kv = col_json(&cell[0])) != NULL, ERR_ALLOC);
		(void)snprintf(where, sizeof(where),
		    "revoked_keys key_sha256=%.64s",
		    json_is_string(kv) ? json_string_value(kv) : "?");
		row = json_is_string(kv)
		    ? json_object_get(p->keys, json_string_value(kv))
		    : NULL;
		if (row == NULL) {
			report_extra(p, where);
			continue;
		}
		TRY(cmp_value(p, where, "key_fp", ex(row, "key_fp"), &cell[1]));
		TRY(cmp_value(p, where, "reason", ex(row, "reason"), &cell[2]));
		cmp_time(p, where, "time", ex_int(row, "time", -1),
		    ex_int(row, "seq", 0), &cell[3]);
		(void)json_object_del(p->keys, json_string_value(kv));
	}
	report_missing(p, "revoked_keys", "key_sha256", p->keys);
	r = 0;
out:
	json_decref(kv);
	store_rows_close(p->s, rows);
	return r;
}

/* The meta value of key as text, or NULL (absent). */
static int
meta_text(struct replay *p, const char *key, char **out)
{
	return store_meta_get(p->s, key, out);
}

static int
check_meta(struct replay *p)
{
	char *v = NULL, want[32];
	int r = ERR_INTERNAL;

	/* Serials are reserved ahead (ledger_serial_reserve()): the
	 * counter may be above every committed serial (a gap), never
	 * below one. */
	TRY(meta_text(p, "last_serial", &v));
	{
		char *end = NULL;
		long long n = v != NULL ? strtoll(v, &end, 10) : -1;

		if (v == NULL || end == v || *end != '\0' || n < p->last_serial)
			bad(p,
			    "meta key=last_serial: value: expected at least "
			    "%" PRId64 ", found %s",
			    p->last_serial, v != NULL ? v : "none");
	}
	free(v);
	TRY(meta_text(p, "krl_version", &v));
	if (p->krl_known) {
		(void)snprintf(want, sizeof(want), "%" PRId64, p->krl_exact);
		if (v == NULL || strcmp(v, want) != 0)
			bad(p,
			    "meta key=krl_version: value: expected %s, "
			    "found %s",
			    want, v != NULL ? v : "none");
	} else {
		char *end = NULL;
		long long n = v != NULL ? strtoll(v, &end, 10) : -1;

		if (v == NULL || end == v || *end != '\0' || n < p->krl_min)
			bad(p,
			    "meta key=krl_version: value: expected at least "
			    "%" PRId64 ", found %s",
			    p->krl_min, v != NULL ? v : "none");
	}
	free(v);
	TRY(meta_text(p, "ca_fingerprint", &v));
	/* Optional in meta; when it is there, it is the CA of ca.created. */
	if (p->ca_fp != NULL && v != NULL && strcmp(v, p->ca_fp) != 0)
		bad(p, "meta key=ca_fingerprint: value: expected %s, found %s",
		    p->ca_fp, v);
	r = 0;
out:
	free(v);
	return r;
}

int
ledger_verify_state(struct ledger *l,
    void (*report)(void *arg, const char *msg), void *arg, uint64_t *nbad)
{
	struct replay p;
	int r = ERR_INTERNAL, began = 0;

	memset(&p, 0, sizeof(p));
	if (nbad != NULL)
		*nbad = 0;
	ENSURE(l != NULL, ERR_INVALID_ARG);
	p.l = l;
	p.s = ledger_store(l);
	p.report = report;
	p.arg = arg;
	p.last_rev_seq = -1;
	ENSURE((p.users = json_object()) != NULL &&
		(p.hosts = json_object()) != NULL &&
		(p.hostkeys = json_object()) != NULL &&
		(p.requests = json_object()) != NULL &&
		(p.approvals = json_object()) != NULL &&
		(p.certs = json_object()) != NULL &&
		(p.keys = json_object()) != NULL,
	    ERR_ALLOC);
	/* One read snapshot for the events and every table. */
	TRY(store_snapshot_begin(p.s, &began));
	TRY(replay_events(&p));
	TRY(check_meta(&p));
	TRY(check_users(&p));
	TRY(check_hosts(&p));
	TRY(check_host_keys(&p));
	TRY(check_requests(&p));
	TRY(check_approvals(&p));
	TRY(check_certificates(&p));
	TRY(check_revoked_keys(&p));
	if (nbad != NULL)
		*nbad = p.nbad;
	r = p.nbad == 0 ? 0 : ERR_LEDGER_BROKEN;
out:
	if (began)
		store_snapshot_end(p.s, began);
	json_decref(p.users);
	json_decref(p.hosts);
	json_decref(p.hostkeys);
	json_decref(p.requests);
	json_decref(p.approvals);
	json_decref(p.certs);
	json_decref(p.keys);
	free(p.ca_fp);
	return r;
}
