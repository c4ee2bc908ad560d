/*
 * report.c: report_build() of report.h, a fold over the ledger's events
 * into access grants.  Requests are kept in id order and certificates in
 * serial order (both only grow along the chain), so each event finds its
 * grant by binary search.  The one place that reads the events is
 * events_fold() at the end; everything else works on one event at a
 * time.  Nothing here prints or writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ca/report.h"
#include "signer/base/duration.h"

#define PAGE 1000 /* events per read */

struct serial_ix {
	uint64_t serial;
	size_t grant;
};

struct fold {
	struct report *rep;
	size_t cap_grants, cap_unknown;
	struct serial_ix *ix;
	size_t nix, cap_ix;
};

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / size)
		return ERR_ALLOC;
	if ((np = realloc(*p, ncap * size)) == NULL)
		return ERR_ALLOC;
	memset((char *)np + *cap * size, 0, (ncap - *cap) * size);
	*p = np;
	*cap = ncap;
	return 0;
}

/* A copy of details' string field key ("" when absent), or NULL when
 * out of memory. */
static char *
dup_field(json_t *d, const char *key)
{
	const char *s = json_string_value(json_object_get(d, key));

	return strdup(s != NULL ? s : "");
}

static int64_t
int_field(json_t *d, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(d, key));
}

static void
login_clear(struct report_login *l)
{
	free(l->host);
	free(l->account);
	free(l->source);
	free(l->key_id);
	free(l->reason);
	free(l->unknown);
}

static void
grant_clear(struct report_grant *g)
{
	size_t i;

	free(g->requester);
	free(g->role);
	free(g->reason);
	for (i = 0; i < g->nprincipals; i++)
		free(g->principals[i]);
	free(g->principals);
	free(g->issued_by);
	for (i = 0; i < g->napprovals; i++) {
		free(g->approvals[i].who);
		free(g->approvals[i].comment);
	}
	free(g->approvals);
	free(g->key_id);
	free(g->revoked_by);
	free(g->revoked_reason);
	for (i = 0; i < g->nlogins; i++)
		login_clear(&g->logins[i]);
	free(g->logins);
	for (i = 0; i < g->nrefused; i++)
		login_clear(&g->refused[i]);
	free(g->refused);
	memset(g, 0, sizeof(*g));
}

void
report_free(struct report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ngrants; i++)
		grant_clear(&r->grants[i]);
	free(r->grants);
	for (i = 0; i < r->nunknown; i++)
		login_clear(&r->unknown[i]);
	free(r->unknown);
	free(r);
}

/* The grant of request id, or NULL. */
static struct report_grant *
by_request(struct fold *f, int64_t id)
{
	size_t lo = 0, hi = f->rep->ngrants, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->rep->grants[mid].request == id)
			return &f->rep->grants[mid];
		if (f->rep->grants[mid].request != 0 &&
		    f->rep->grants[mid].request < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct report_grant *
by_serial(struct fold *f, uint64_t serial)
{
	size_t lo = 0, hi = f->nix, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->ix[mid].serial == serial)
			return &f->rep->grants[f->ix[mid].grant];
		if (f->ix[mid].serial < serial)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
new_grant(struct fold *f, struct report_grant **out)
{
	int r;

	if ((r = grow((void **)&f->rep->grants, &f->cap_grants, f->rep->ngrants,
		 sizeof(*f->rep->grants))) != 0)
		return r;
	*out = &f->rep->grants[f->rep->ngrants++];
	return 0;
}

static int
on_request_created(struct fold *f, int64_t id, json_t *d)
{
	struct report_grant *g;
	json_t *p = json_object_get(d, "principals"), *v;
	size_t i;
	int r = ERR_INTERNAL;

	/* Ids grow along the chain; anything else is not ours to fix. */
	if (f->rep->ngrants > 0 &&
	    f->rep->grants[f->rep->ngrants - 1].request >= id)
		return 0;
	TRY(new_grant(f, &g));
	g->request = id;
	ENSURE((g->requester = dup_field(d, "requester")) != NULL &&
		(g->role = dup_field(d, "role")) != NULL &&
		(g->reason = dup_field(d, "reason")) != NULL,
	    ERR_ALLOC);
	g->break_glass = json_is_true(json_object_get(d, "break_glass"));
	if (json_array_size(p) > 0) {
		ENSURE((g->principals = calloc(json_array_size(p),
			    sizeof(*g->principals))) != NULL,
		    ERR_ALLOC);
		json_array_foreach(p, i, v)
		{
			ENSURE((g->principals[i] = strdup(json_string_value(v)
					? json_string_value(v)
					: "")) != NULL,
			    ERR_ALLOC);
			g->nprincipals++;
		}
	}
	r = 0;
out:
	return r;
}

static int
on_approved(struct fold *f, int64_t id, int64_t t, const char *actor, json_t *d)
{
	struct report_grant *g = by_request(f, id);
	struct report_approval *a, *na;

	if (g == NULL)
		return 0;
	na = realloc(g->approvals, (g->napprovals + 1) * sizeof(*na));
	if (na == NULL)
		return ERR_ALLOC;
	g->approvals = na;
	a = &na[g->napprovals];
	memset(a, 0, sizeof(*a));
	a->time = t;
	if ((a->who = strdup(actor)) == NULL ||
	    (a->comment = dup_field(d, "comment")) == NULL) {
		free(a->who);
		free(a->comment);
		return ERR_ALLOC;
	}
	g->napprovals++;
	return 0;
}

static int
on_issued(struct fold *f, int64_t t, const char *actor, json_t *d)
{
	struct report_grant *g;
	int64_t req = int_field(d, "request");
	uint64_t serial = (uint64_t)int_field(d, "serial");
	int r = ERR_INTERNAL;

	if (serial == 0 || (f->nix > 0 && f->ix[f->nix - 1].serial >= serial))
		return 0;
	if ((g = by_request(f, req)) == NULL || g->serial != 0) {
		/* A certificate without its request event: its own row. */
		TRY(new_grant(f, &g));
		ENSURE((g->requester = dup_field(d, "user")) != NULL &&
			(g->role = dup_field(d, "role")) != NULL &&
			(g->reason = strdup("")) != NULL,
		    ERR_ALLOC);
	}
	g->serial = serial;
	g->issued = t;
	g->valid_after = int_field(d, "valid_after");
	g->valid_before = int_field(d, "valid_before");
	g->direct = json_is_true(json_object_get(d, "direct"));
	ENSURE((g->key_id = dup_field(d, "key_id")) != NULL &&
		(g->issued_by = strdup(actor)) != NULL,
	    ERR_ALLOC);
	TRY(grow((void **)&f->ix, &f->cap_ix, f->nix, sizeof(*f->ix)));
	f->ix[f->nix].serial = serial;
	f->ix[f->nix].grant = (size_t)(g - f->rep->grants);
	f->nix++;
	r = 0;
out:
	return r;
}

static int
mark_revoked(
    struct report_grant *g, int64_t t, const char *actor, const char *reason)
{
	if (g == NULL || g->revoked)
		return 0;
	g->revoked = 1;
	g->revoked_time = t;
	if ((g->revoked_by = strdup(actor)) == NULL ||
	    (g->revoked_reason = strdup(reason != NULL ? reason : "")) == NULL)
		return ERR_ALLOC;
	return 0;
}

static int
on_revoked(
    struct fold *f, int64_t t, const char *actor, const char *type, json_t *d)
{
	const char *reason = json_string_value(json_object_get(d, "reason"));
	json_t *v;
	size_t i;
	int r;

	if (strcmp(type, "cert.revoked") == 0)
		return mark_revoked(
		    by_serial(f, (uint64_t)int_field(d, "serial")), t, actor,
		    reason);
	json_array_foreach(json_object_get(d, "certificates"), i, v)
	{
		if ((r = mark_revoked(
			 by_serial(f, (uint64_t)json_integer_value(v)), t,
			 actor, reason)) != 0)
			return r;
	}
	return 0;
}

static int
on_session(struct fold *f, const char *type, json_t *d)
{
	struct report_grant *g = NULL;
	struct report_login *l, **list;
	size_t *n, need;
	void *np;
	uint64_t serial = (uint64_t)int_field(d, "serial");
	int known = json_is_true(json_object_get(d, "known"));
	int refused = strcmp(type, "session.refused") == 0;

	if (known)
		g = by_serial(f, serial);
	if (g == NULL) {
		list = &f->rep->unknown;
		n = &f->rep->nunknown;
	} else if (refused) {
		list = &g->refused;
		n = &g->nrefused;
	} else {
		list = &g->logins;
		n = &g->nlogins;
	}
	need = *n + 1;
	if ((np = realloc(*list, need * sizeof(**list))) == NULL)
		return ERR_ALLOC;
	*list = np;
	l = &(*list)[*n];
	memset(l, 0, sizeof(*l));
	(*n)++;
	l->time = int_field(d, "time");
	l->serial = serial;
	if ((l->host = dup_field(d, "host")) == NULL ||
	    (l->account = dup_field(d, "account")) == NULL ||
	    (l->source = dup_field(d, "source")) == NULL ||
	    (l->key_id = dup_field(d, "key_id")) == NULL ||
	    (refused && (l->reason = dup_field(d, "reason")) == NULL) ||
	    (g == NULL && (l->unknown = dup_field(d, "unknown")) == NULL))
		return ERR_ALLOC;
	if (g == NULL && l->unknown[0] == '\0') {
		/* known, but its certificate is not in this chain. */
		free(l->unknown);
		if ((l->unknown = strdup("not_issued")) == NULL)
			return ERR_ALLOC;
	}
	return 0;
}

static int
subject_id(const char *subject, const char *prefix, int64_t *id)
{
	size_t n = strlen(prefix);
	char *end = NULL;
	long long v;

	if (strncmp(subject, prefix, n) != 0)
		return 0;
	v = strtoll(subject + n, &end, 10);
	if (end == subject + n || *end != '\0' || v <= 0)
		return 0;
	*id = v;
	return 1;
}

/* One event. */
static int
fold_event(void *arg, json_t *ev)
{
	struct fold *f = arg;
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *actor = json_string_value(json_object_get(ev, "actor"));
	const char *subject = json_string_value(json_object_get(ev, "subject"));
	int64_t t = (int64_t)json_integer_value(json_object_get(ev, "time"));
	json_t *d = json_object_get(ev, "details");
	int64_t id = 0;

	if (type == NULL || actor == NULL || subject == NULL ||
	    !json_is_object(d))
		return 0;
	if (strcmp(type, "request.created") == 0 &&
	    subject_id(subject, "request:", &id))
		return on_request_created(f, id, d);
	if (strcmp(type, "request.approved") == 0 &&
	    subject_id(subject, "request:", &id))
		return on_approved(f, id, t, actor, d);
	if (strcmp(type, "cert.issued") == 0)
		return on_issued(f, t, actor, d);
	if (strcmp(type, "cert.revoked") == 0 ||
	    strcmp(type, "key.revoked") == 0)
		return on_revoked(f, t, actor, type, d);
	if (strcmp(type, "session.login") == 0 ||
	    strcmp(type, "session.refused") == 0)
		return on_session(f, type, d);
	return 0;
}

static int
wanted(const struct report_grant *g, const struct report_filter *f)
{
	int64_t end = g->valid_before;

	if (g->serial == 0)
		return 0; /* never issued: no access */
	if (f->role != NULL && strcmp(g->role, f->role) != 0)
		return 0;
	if (f->user != NULL && strcmp(g->requester, f->user) != 0)
		return 0;
	if (g->revoked && g->revoked_time < end)
		end = g->revoked_time;
	if (f->since > 0 && end <= f->since)
		return 0;
	if (f->until > 0 && g->issued >= f->until)
		return 0;
	return 1;
}

/* Keep the grants f wants, in issue (serial) order. */
static void
select_grants(struct fold *fo, const struct report_filter *f)
{
	struct report *rep = fo->rep;
	struct report_grant *g, *keep;
	size_t i, k = 0;

	keep = calloc(fo->nix > 0 ? fo->nix : 1, sizeof(*keep));
	if (keep == NULL) {
		/* Without room to reorder, keep request order. */
		for (i = 0; i < rep->ngrants; i++) {
			g = &rep->grants[i];
			if (wanted(g, f))
				rep->grants[k++] = *g;
			else
				grant_clear(g);
		}
		rep->ngrants = k;
		return;
	}
	for (i = 0; i < fo->nix; i++) {
		g = &rep->grants[fo->ix[i].grant];
		if (wanted(g, f)) {
			keep[k++] = *g;
			memset(g, 0, sizeof(*g));
		}
	}
	for (i = 0; i < rep->ngrants; i++)
		grant_clear(&rep->grants[i]);
	free(rep->grants);
	rep->grants = keep;
	rep->ngrants = k;
}

/* Keep the logins without a grant that lie in f's window. */
static void
select_unknown(struct report *rep, const struct report_filter *f)
{
	size_t i, k;

	for (i = 0, k = 0; i < rep->nunknown; i++) {
		struct report_login *u = &rep->unknown[i];

		if ((f->since > 0 && u->time < f->since) ||
		    (f->until > 0 && u->time >= f->until)) {
			login_clear(u);
			continue;
		}
		rep->unknown[k++] = *u;
	}
	rep->nunknown = k;
}

/* The one reader of the events: each, in seq order, a page at a time,
 * to fn until it returns non-zero (1: stop, < 0: an error). */
static int
events_each(struct ledger *l, int (*fn)(void *arg, json_t *ev), void *arg)
{
	json_t *page = NULL, *ev;
	int64_t since = 0;
	size_t i;
	int r = ERR_INTERNAL;

	for (;;) {
		ledger_read_begin(l);
		r = ledger_events_json(l, since, PAGE, &page);
		ledger_read_end(l);
		if (r != 0)
			goto out;
		if (json_array_size(page) == 0)
			break;
		json_array_foreach(page, i, ev)
		{
			if ((r = fn(arg, ev)) < 0)
				goto out;
			if (r == 1) {
				r = 0;
				goto out;
			}
			since = (int64_t)json_integer_value(
			    json_object_get(ev, "seq"));
		}
		json_decref(page);
		page = NULL;
	}
	r = 0;
out:
	json_decref(page);
	return r;
}

int
report_build(
    struct ledger *l, const struct report_filter *filter, struct report **out)
{
	struct fold f;
	int r = ERR_INTERNAL;

	*out = NULL;
	memset(&f, 0, sizeof(f));
	ENSURE((f.rep = calloc(1, sizeof(*f.rep))) != NULL, ERR_ALLOC);
	TRY(events_each(l, fold_event, &f));
	select_grants(&f, filter);
	select_unknown(f.rep, filter);
	*out = f.rep;
	f.rep = NULL;
	r = 0;
out:
	report_free(f.rep);
	free(f.ix);
	return r;
}

int
report_when_parse(const char *s, int64_t now, int64_t *out)
{
	struct tm tm;
	uint64_t secs;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0, n = 0;
	int64_t t;

	*out = 0;
	if (s == NULL || *s == '\0' || strlen(s) > 32)
		return ERR_INVALID_ARG;
	if (duration_parse(s, &secs) == 0) {
		if ((int64_t)secs >= now)
			return ERR_INVALID_ARG;
		*out = now - (int64_t)secs;
		return 0;
	}
	/* Fixed-width digits only: no signs or spaces slip through. */
	for (n = 0; s[n] != '\0'; n++)
		if (strchr("0123456789-:TZ+", s[n]) == NULL)
			return ERR_INVALID_ARG;
#define DIG(i) (s[i] >= '0' && s[i] <= '9')
#define NUM2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
	if (n < 10 || !DIG(0) || !DIG(1) || !DIG(2) || !DIG(3) || s[4] != '-' ||
	    !DIG(5) || !DIG(6) || s[7] != '-' || !DIG(8) || !DIG(9))
		return ERR_INVALID_ARG;
	y = NUM2(0) * 100 + NUM2(2);
	mo = NUM2(5);
	d = NUM2(8);
	if (n > 10) {
		const char *z;

		if (n < 17 || s[10] != 'T' || !DIG(11) || !DIG(12) ||
		    s[13] != ':' || !DIG(14) || !DIG(15))
			return ERR_INVALID_ARG;
		h = NUM2(11);
		mi = NUM2(14);
		z = s + 16;
		if (z[0] == ':') {
			if (!DIG(17) || !DIG(18))
				return ERR_INVALID_ARG;
			sec = NUM2(17);
			z = s + 19;
		}
		if (strcmp(z, "Z") == 0)
			sign = 0;
		else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 &&
		    z[3] == ':' && DIG(z - s + 1) && DIG(z - s + 2) &&
		    DIG(z - s + 4) && DIG(z - s + 5)) {
			sign = z[0] == '+' ? 1 : -1;
			oh = NUM2(z - s + 1);
			om = NUM2(z - s + 4);
		} else
			return ERR_INVALID_ARG;
	}
#undef DIG
#undef NUM2
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 59 || oh > 23 || om > 59)
		return ERR_INVALID_ARG;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm);
	/* timegm() normalises 2026-02-31: refuse what it moved. */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return ERR_INVALID_ARG;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}

void
report_time_format(char out[REPORT_TIME_LEN], int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, REPORT_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, REPORT_TIME_LEN, "@%lld", (long long)t);
}

struct seq_find {
	int64_t t, seq;
};

static int
seq_step(void *arg, json_t *ev)
{
	struct seq_find *s = arg;

	if ((int64_t)json_integer_value(json_object_get(ev, "time")) >= s->t)
		return 1;
	s->seq = (int64_t)json_integer_value(json_object_get(ev, "seq"));
	return 0;
}

int
report_seq_before(struct ledger *l, int64_t t, int64_t *seq)
{
	struct seq_find s = {t, 0};
	int r;

	*seq = 0;
	if ((r = events_each(l, seq_step, &s)) != 0)
		return r;
	*seq = s.seq;
	return 0;
}
