/*
 * outbox.c: the notification outbox over the ledger (outbox.h): reading
 * events with the request each concerns, classifying them, and the
 * sinks' cursor and lease rows, each write in its own transaction.  The
 * rows are the store's (ca/store/store.h notify_* operations, with their
 * SQL in the backend); events come from the chain (ledger_events_json()).
 * Works with ca/ledger.h (events, transactions), ca/store/store.h and
 * ca/config.h (the CONFIG_NOTIFY_* kinds).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ca/config.h"
#include "ca/ledger.h"
#include "ca/outbox.h"
#include "ca/store/store.h"

int
outbox_head(struct ledger *l, int64_t *seq)
{
	struct store_tail t;
	int r;

	*seq = 0;
	ledger_read_begin(l);
	r = store_event_tail(ledger_store(l), &t);
	ledger_read_end(l);
	if (r == 0)
		*seq = t.seq;
	return r;
}

/* The CONFIG_NOTIFY_* kind of an event (0: none). */
static unsigned
event_kind(const char *type, json_t *details)
{
	static const struct {
		const char *type;
		unsigned kind;
	} kinds[] = {
	    {"request.created", CONFIG_NOTIFY_REQUEST_CREATED},
	    {"request.approved", CONFIG_NOTIFY_REQUEST_APPROVED},
	    {"request.denied", CONFIG_NOTIFY_REQUEST_DENIED},
	    {"request.expired", CONFIG_NOTIFY_REQUEST_EXPIRED},
	    {"request.withdrawn", CONFIG_NOTIFY_REQUEST_WITHDRAWN},
	    {"cert.issued", CONFIG_NOTIFY_CERT_ISSUED},
	    {"cert.revoked", CONFIG_NOTIFY_CERT_REVOKED},
	};
	size_t i;

	/* A requester's own deny is a withdrawal (ca/request.h). */
	if (strcmp(type, "request.denied") == 0 &&
	    json_is_true(json_object_get(details, "withdrawn")))
		return CONFIG_NOTIFY_REQUEST_WITHDRAWN;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(type, kinds[i].type) == 0)
			return kinds[i].kind;
	return 0;
}

static char *
json_str_dup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? strdup(s) : NULL;
}

/* The request row ev->request_id (role, requester, ...) into ev; no row:
 * left as it is.  Called between transactions (outbox_read()). */
static int
request_fill(struct ledger *l, struct outbox_event *ev)
{
	struct store_request row;
	json_t *p = NULL, *e;
	json_error_t jerr;
	size_t i;
	int r = ERR_INTERNAL;

	memset(&row, 0, sizeof(row));
	if ((r = store_request_get(ledger_store(l), ev->request_id, &row)) ==
	    ERR_NOT_FOUND) {
		r = 0;
		goto out;
	}
	if (r != 0)
		goto out;
	free(ev->role);
	free(ev->requester);
	ev->role = row.role;
	ev->requester = row.requester;
	ev->reason = row.reason;
	row.role = row.requester = row.reason = NULL;
	ev->ttl = row.ttl;
	p = json_loads(row.principals != NULL ? row.principals : "",
	    JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_array(p) && json_array_size(p) > 0) {
		ENSURE((ev->principals = calloc(json_array_size(p),
			    sizeof(*ev->principals))) != NULL,
		    ERR_ALLOC);
		json_array_foreach(p, i, e)
		{
			if (!json_is_string(e))
				continue;
			ENSURE((ev->principals[ev->nprincipals] =
				       strdup(json_string_value(e))) != NULL,
			    ERR_ALLOC);
			ev->nprincipals++;
		}
	}
	r = 0;
out:
	json_decref(p);
	store_request_clear(&row);
	return r;
}

/* One event of ledger_events_json() into ev (zeroed by the caller). */
static int
event_fill(struct ledger *l, json_t *o, struct outbox_event *ev)
{
	json_t *d = json_object_get(o, "details");
	const char *subj;
	long long id = 0;
	int r = ERR_INTERNAL;

	ev->seq = json_integer_value(json_object_get(o, "seq"));
	ev->time = json_integer_value(json_object_get(o, "time"));
	ENSURE((ev->type = json_str_dup(o, "type")) != NULL &&
		(ev->actor = json_str_dup(o, "actor")) != NULL &&
		(ev->subject = json_str_dup(o, "subject")) != NULL &&
		(ev->prev_hash = json_str_dup(o, "prev_hash")) != NULL &&
		(ev->hash = json_str_dup(o, "hash")) != NULL,
	    ERR_ALLOC);
	ENSURE((ev->details = json_dumps(d,
		    JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII)) != NULL,
	    ERR_ALLOC);
	ev->kind = event_kind(ev->type, d);
	ev->break_glass = json_is_true(json_object_get(d, "break_glass"));
	subj = ev->subject;
	if (strncmp(subj, "request:", 8) == 0) {
		char *end = NULL;

		id = strtoll(subj + 8, &end, 10);
		if (end == subj + 8 || *end != '\0')
			id = 0;
	} else if (json_is_integer(json_object_get(d, "request")))
		id = json_integer_value(json_object_get(d, "request"));
	if (strncmp(ev->type, "cert.", 5) == 0)
		ev->serial = json_integer_value(json_object_get(d, "serial"));
	/* The event's own words first; the request row adds the rest. */
	if (json_is_string(json_object_get(d, "role")))
		ENSURE((ev->role = json_str_dup(d, "role")) != NULL, ERR_ALLOC);
	if (json_is_string(json_object_get(d, "requester")) ||
	    json_is_string(json_object_get(d, "user")))
		ENSURE((ev->requester = json_str_dup(d,
			    json_is_string(json_object_get(d, "requester"))
				? "requester"
				: "user")) != NULL,
		    ERR_ALLOC);
	if (id > 0) {
		ev->request_id = id;
		TRY(request_fill(l, ev));
	}
	r = 0;
out:
	return r;
}

int
outbox_read(struct ledger *l, int64_t after, size_t max,
    struct outbox_event **out, size_t *n)
{
	json_t *a = NULL, *o;
	struct outbox_event *ev = NULL;
	size_t i, count = 0;
	int r = ERR_INTERNAL, locked = 0;

	*out = NULL;
	*n = 0;
	ENSURE(l != NULL && after >= 0 && max >= 1 && max <= OUTBOX_READ_MAX,
	    ERR_INVALID_ARG);
	ledger_read_begin(l);
	locked = 1;
	TRY(ledger_events_json(l, after, (int64_t)max, &a));
	if ((count = json_array_size(a)) == 0) {
		r = 0;
		goto out;
	}
	ENSURE((ev = calloc(count, sizeof(*ev))) != NULL, ERR_ALLOC);
	json_array_foreach(a, i, o) TRY(event_fill(l, o, &ev[i]));
	*out = ev;
	*n = count;
	ev = NULL;
	r = 0;
out:
	if (locked)
		ledger_read_end(l);
	outbox_events_free(ev, count);
	json_decref(a);
	return r;
}

void
outbox_events_free(struct outbox_event *ev, size_t n)
{
	size_t i, k;

	if (ev == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(ev[i].type);
		free(ev[i].actor);
		free(ev[i].subject);
		free(ev[i].details);
		free(ev[i].prev_hash);
		free(ev[i].hash);
		free(ev[i].role);
		free(ev[i].requester);
		free(ev[i].reason);
		for (k = 0; k < ev[i].nprincipals; k++)
			free(ev[i].principals[k]);
		free(ev[i].principals);
	}
	free(ev);
}

int
outbox_cursor_get(
    struct ledger *l, const char *sink, int64_t *seq, int *created)
{
	struct store *st = ledger_store(l);
	struct store_tail t;
	int r = ERR_INTERNAL, found = 0, in_tx = 0;

	*seq = 0;
	if (created != NULL)
		*created = 0;
	ledger_read_begin(l);
	r = store_notify_cursor_get(st, sink, seq, &found);
	ledger_read_end(l);
	if (r != 0 || found)
		return r;
	TRY(ledger_begin(l));
	in_tx = 1;
	TRY(store_event_tail(st, &t));
	/* Another replica may have made it meanwhile: that one stays. */
	TRY(store_notify_cursor_put(st, sink, t.seq, ledger_now()));
	TRY(store_notify_cursor_get(st, sink, seq, &found));
	ENSURE(found, ERR_INTERNAL);
	in_tx = 0; /* a failed commit rolls back */
	TRY(ledger_commit(l));
	if (created != NULL)
		*created = 1;
	r = 0;
out:
	if (in_tx)
		ledger_rollback(l);
	return r;
}

int
outbox_cursor_set(struct ledger *l, const char *sink, const char *owner,
    int64_t seq, uint64_t now)
{
	int r = ERR_INTERNAL, in_tx = 0;

	TRY(ledger_begin(l));
	in_tx = 1;
	TRY(store_notify_cursor_advance(
	    ledger_store(l), sink, owner, seq, now));
	in_tx = 0;
	TRY(ledger_commit(l));
	r = 0;
out:
	if (in_tx)
		ledger_rollback(l);
	return r;
}

int
outbox_lease_take(struct ledger *l, const char *sink, const char *owner,
    uint64_t now, uint64_t ttl)
{
	int r = ERR_INTERNAL, in_tx = 0;

	ENSURE(strlen(owner) <= OUTBOX_OWNER_MAX, ERR_INVALID_ARG);
	TRY(ledger_begin(l));
	in_tx = 1;
	TRY(store_notify_lease_take(ledger_store(l), sink, owner, now, ttl));
	in_tx = 0;
	TRY(ledger_commit(l));
	r = 0;
out:
	if (in_tx)
		ledger_rollback(l);
	return r;
}

int
outbox_lease_release(struct ledger *l, const char *sink, const char *owner)
{
	int r = ERR_INTERNAL, in_tx = 0;

	TRY(ledger_begin(l));
	in_tx = 1;
	TRY(store_notify_lease_release(ledger_store(l), sink, owner));
	in_tx = 0;
	TRY(ledger_commit(l));
	r = 0;
out:
	if (in_tx)
		ledger_rollback(l);
	return r;
}
