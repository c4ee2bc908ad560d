/*
 * outbox.c: the notification outbox over the ledger (outbox.h): reading
 * events with the request each concerns, classifying them, and the
 * sinks' cursor and lease rows.  The SQL for the two small tables is
 * kept here, in one place, over the ledger's statement helpers
 * (ledger.h ledger_sql_*), so that it can move into the store's table of
 * operations as it stands.  Works with ca/ledger.c (events, statements,
 * transactions) and ca/config.h (the CONFIG_NOTIFY_* kinds).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ca/config.h"
#include "ca/ledger.h"
#include "ca/outbox.h"

static int
exec_tx(struct ledger *l, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL;

	TRY(ledger_sql_prepare(l, &st, sql));
	TRY(ledger_sql_done(l, st, NULL));
out:
	ledger_sql_release(l, st);
	return r;
}

int
outbox_init(struct ledger *l)
{
	int r = ERR_INTERNAL;

	TRY(ledger_begin(l));
	if ((r = exec_tx(l,
		 "CREATE TABLE IF NOT EXISTS notify_cursors("
		 "sink TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
		 " updated INTEGER NOT NULL)")) != 0 ||
	    (r = exec_tx(l,
		 "CREATE TABLE IF NOT EXISTS notify_leases("
		 "sink TEXT PRIMARY KEY, owner TEXT NOT NULL,"
		 " expires INTEGER NOT NULL)")) != 0) {
		ledger_rollback(l);
		goto out;
	}
	r = ledger_commit(l);
out:
	return r;
}

/* SELECT of one integer (the first column; 0 when no row or NULL). */
static int
query_int(
    struct ledger *l, const char *sql, const char *text, int64_t *v, int *found)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, f = 0;

	*v = 0;
	TRY(ledger_sql_cached(l, &st, sql));
	if (text != NULL)
		TRY(ledger_sql_bind_text(l, st, 1, text));
	TRY(ledger_sql_row(l, st, &f));
	if (f)
		*v = sqlite3_column_int64(st, 0);
	if (found != NULL)
		*found = f;
	r = 0;
out:
	ledger_sql_release(l, st);
	return r;
}

int
outbox_head(struct ledger *l, int64_t *seq)
{
	int r;

	ledger_read_begin(l);
	r = query_int(
	    l, "SELECT coalesce(max(seq), 0) FROM events", NULL, seq, NULL);
	ledger_read_end(l);
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

/* The request row id (role, requester, ...) into ev; no row: left as is. */
static int
request_fill(struct ledger *l, struct outbox_event *ev)
{
	sqlite3_stmt *st = NULL;
	json_t *p = NULL, *e;
	json_error_t jerr;
	size_t i;
	int r = ERR_INTERNAL, found = 0;

	TRY(ledger_sql_cached(l, &st,
	    "SELECT role, requester, principals, ttl, reason"
	    " FROM requests WHERE id = ?"));
	TRY(ledger_sql_bind_int(l, st, 1, ev->request_id));
	TRY(ledger_sql_row(l, st, &found));
	if (!found) {
		r = 0;
		goto out;
	}
	free(ev->role);
	free(ev->requester);
	ENSURE((ev->role = strdup(ledger_sql_text(st, 0))) != NULL &&
		(ev->requester = strdup(ledger_sql_text(st, 1))) != NULL &&
		(ev->reason = strdup(ledger_sql_text(st, 4))) != NULL,
	    ERR_ALLOC);
	ev->ttl = (uint64_t)sqlite3_column_int64(st, 3);
	p = json_loads(ledger_sql_text(st, 2), JSON_REJECT_DUPLICATES, &jerr);
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
	ledger_sql_release(l, st);
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
	sqlite3_stmt *st = NULL;
	int64_t v = 0, head = 0;
	int r = ERR_INTERNAL, found = 0, in_tx = 0;

	*seq = 0;
	if (created != NULL)
		*created = 0;
	ledger_read_begin(l);
	r = query_int(l, "SELECT seq FROM notify_cursors WHERE sink = ?", sink,
	    &v, &found);
	ledger_read_end(l);
	if (r != 0 || found) {
		*seq = v;
		return r;
	}
	TRY(ledger_begin(l));
	in_tx = 1;
	TRY(query_int(
	    l, "SELECT coalesce(max(seq), 0) FROM events", NULL, &head, NULL));
	/* Another replica may have made it meanwhile: keep that one. */
	TRY(ledger_sql_cached(l, &st,
	    "INSERT OR IGNORE INTO notify_cursors(sink, seq, updated)"
	    " VALUES(?, ?, ?)"));
	TRY(ledger_sql_bind_text(l, st, 1, sink));
	TRY(ledger_sql_bind_int(l, st, 2, head));
	TRY(ledger_sql_bind_int(l, st, 3, (int64_t)ledger_now()));
	TRY(ledger_sql_done(l, st, NULL));
	ledger_sql_release(l, st);
	st = NULL;
	TRY(query_int(l, "SELECT seq FROM notify_cursors WHERE sink = ?", sink,
	    &v, NULL));
	in_tx = 0;
	TRY(ledger_commit(l));
	*seq = v;
	if (created != NULL)
		*created = 1;
	r = 0;
out:
	ledger_sql_release(l, st);
	if (in_tx)
		ledger_rollback(l);
	return r;
}

/* 1 in *held when owner holds sink's lease at now (inside a tx). */
static int
lease_held(struct ledger *l, const char *sink, const char *owner, uint64_t now,
    int *held)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, found = 0;

	*held = 0;
	TRY(ledger_sql_cached(l, &st,
	    "SELECT 1 FROM notify_leases WHERE sink = ? AND owner = ?"
	    " AND expires > ?"));
	TRY(ledger_sql_bind_text(l, st, 1, sink));
	TRY(ledger_sql_bind_text(l, st, 2, owner));
	TRY(ledger_sql_bind_int(l, st, 3, (int64_t)now));
	TRY(ledger_sql_row(l, st, &found));
	*held = found;
	r = 0;
out:
	ledger_sql_release(l, st);
	return r;
}

int
outbox_cursor_set(struct ledger *l, const char *sink, const char *owner,
    int64_t seq, uint64_t now)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, in_tx = 0, held = 0;

	TRY(ledger_begin(l));
	in_tx = 1;
	TRY(lease_held(l, sink, owner, now, &held));
	ENSURE(held, ERR_NOTIFY_LEASE);
	TRY(ledger_sql_cached(l, &st,
	    "UPDATE notify_cursors SET seq = ?, updated = ?"
	    " WHERE sink = ? AND seq < ?"));
	TRY(ledger_sql_bind_int(l, st, 1, seq));
	TRY(ledger_sql_bind_int(l, st, 2, (int64_t)now));
	TRY(ledger_sql_bind_text(l, st, 3, sink));
	TRY(ledger_sql_bind_int(l, st, 4, seq));
	TRY(ledger_sql_done(l, st, NULL));
	in_tx = 0;
	TRY(ledger_commit(l));
	r = 0;
out:
	ledger_sql_release(l, st);
	if (in_tx)
		ledger_rollback(l);
	return r;
}

int
outbox_lease_take(struct ledger *l, const char *sink, const char *owner,
    uint64_t now, uint64_t ttl)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, in_tx = 0, changes = 0;

	ENSURE(strlen(owner) <= OUTBOX_OWNER_MAX, ERR_INVALID_ARG);
	TRY(ledger_begin(l));
	in_tx = 1;
	TRY(ledger_sql_cached(l, &st,
	    "INSERT OR IGNORE INTO notify_leases(sink, owner, expires)"
	    " VALUES(?, '', 0)"));
	TRY(ledger_sql_bind_text(l, st, 1, sink));
	TRY(ledger_sql_done(l, st, NULL));
	ledger_sql_release(l, st);
	st = NULL;
	TRY(ledger_sql_cached(l, &st,
	    "UPDATE notify_leases SET owner = ?, expires = ?"
	    " WHERE sink = ? AND (owner = ? OR expires <= ?)"));
	TRY(ledger_sql_bind_text(l, st, 1, owner));
	TRY(ledger_sql_bind_int(l, st, 2, (int64_t)(now + ttl)));
	TRY(ledger_sql_bind_text(l, st, 3, sink));
	TRY(ledger_sql_bind_text(l, st, 4, owner));
	TRY(ledger_sql_bind_int(l, st, 5, (int64_t)now));
	TRY(ledger_sql_done(l, st, &changes));
	in_tx = 0;
	TRY(ledger_commit(l));
	r = changes == 1 ? 0 : ERR_NOTIFY_LEASE;
out:
	ledger_sql_release(l, st);
	if (in_tx)
		ledger_rollback(l);
	return r;
}

int
outbox_lease_release(struct ledger *l, const char *sink, const char *owner)
{
	sqlite3_stmt *st = NULL;
	int r = ERR_INTERNAL, in_tx = 0;

	TRY(ledger_begin(l));
	in_tx = 1;
	TRY(ledger_sql_cached(l, &st,
	    "UPDATE notify_leases SET expires = 0 WHERE sink = ? AND owner = ?"));
	TRY(ledger_sql_bind_text(l, st, 1, sink));
	TRY(ledger_sql_bind_text(l, st, 2, owner));
	TRY(ledger_sql_done(l, st, NULL));
	in_tx = 0;
	TRY(ledger_commit(l));
	r = 0;
out:
	ledger_sql_release(l, st);
	if (in_tx)
		ledger_rollback(l);
	return r;
}
