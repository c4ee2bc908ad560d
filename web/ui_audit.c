/*
 * ui_audit.c: the security reviewer's pages of web/ui.h: the ledger
 * (GET /ui/ledger: filters, paging, the chain's verify status) and the
 * access report (GET /ui/report: ca/report.h, the same fold as
 * `jitcad ledger report` and GET /v1/ledger/report).  Auditors only.
 *
 * The ledger's filters, all optional and combined with "and":
 *   type   an event type ("cert.issued"), or a prefix ending in "."
 *          ("request.");
 *   user   the event's actor, or the user it is about (details
 *          "requester" or "user");
 *   role   details "role";
 *   since, until   a date or a duration back from now, as for the
 *          report (ca/report.h report_when_parse): events logged at or
 *          after since and before until;
 *   after  paging: events with a larger seq (the "Next" link's cursor).
 * A page holds at most UI_LEDGER_PAGE matching events, in seq order.
 *
 * The verify status above the events is the last ledger_verify() of the
 * whole chain, at most UI_VERIFY_MAX_AGE_S old (web/api.h struct
 * ui_verify), with the time it was made: verifying a million events
 * takes seconds, too much for every page view.  In builds with test
 * hooks (the CMake option JITCA_TEST_HOOKS, as for ca/ledger.h's
 * JITCA_TEST_NOW) tests may set the age with the environment variable
 * JITCA_TEST_UI_VERIFY_MAX_AGE (decimal seconds, 0..86400, 0: every view
 * verifies; a value that does not parse is ignored), read when the
 * server starts.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ca/ca.h"
#include "ca/ledger.h"
#include "ca/report.h"
#include "signer/base/num.h"
#include "web/api.h"
#include "web/ui.h"
#include "web/ui_page.h"

#define UI_LEDGER_PAGE 50
#define UI_LEDGER_CHUNK 500

struct ledger_q {
	const char *type, *user, *role;
	int64_t since, until, after;
};

static const char *
js(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static int
matches(const struct ledger_q *f, const json_t *ev)
{
	const json_t *d = json_object_get(ev, "details");
	const char *type = js(ev, "type");
	int64_t t = (int64_t)json_integer_value(json_object_get(ev, "time"));
	size_t tl;

	if (f->type != NULL) {
		tl = strlen(f->type);
		if (tl > 0 && f->type[tl - 1] == '.'
			? strncmp(type, f->type, tl) != 0
			: strcmp(type, f->type) != 0)
			return 0;
	}
	if (f->user != NULL && strcmp(js(ev, "actor"), f->user) != 0 &&
	    strcmp(js(d, "requester"), f->user) != 0 &&
	    strcmp(js(d, "user"), f->user) != 0)
		return 0;
	if (f->role != NULL && strcmp(js(d, "role"), f->role) != 0)
		return 0;
	if (f->since != 0 && t < f->since)
		return 0;
	if (f->until != 0 && t >= f->until)
		return 0;
	return 1;
}

/* An empty query value counts as absent (a form's blank field). */
static const char *
query(struct http_req *req, const char *name)
{
	const char *v = http_req_query(req, name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The filters of the query, or -1 after a 400 page. */
static int
ledger_query(struct ui_ctx *c, struct ledger_q *f)
{
	int64_t now = (int64_t)ledger_now();
	const char *s, *u;
	char *end = NULL;

	memset(f, 0, sizeof(*f));
	f->type = query(c->req, "type");
	f->user = query(c->req, "user");
	f->role = query(c->req, "role");
	s = query(c->req, "since");
	u = query(c->req, "until");
	if ((s != NULL && report_when_parse(s, now, &f->since) != 0) ||
	    (u != NULL && report_when_parse(u, now, &f->until) != 0)) {
		ui_message(c, 400, "Bad filter",
		    "Since and until must be a date (2026-11-24, "
		    "2026-11-24T09:00:00Z) or a duration back from now (7d).",
		    "/ui/ledger");
		return -1;
	}
	if ((s = query(c->req, "after")) != NULL) {
		f->after = strtoll(s, &end, 10);
		if (*end != '\0' || f->after < 0) {
			ui_message(c, 400, "Bad filter",
			    "\"after\" must be a sequence number.",
			    "/ui/ledger");
			return -1;
		}
	}
	return 0;
}

static const char event_tpl[] =
    "<tr><td data-label=\"Seq\">{{text:seq}}</td>"
    "<td data-label=\"Time\"><time>{{text:time}}</time></td>"
    "<td data-label=\"Type\"><code>{{text:type}}</code></td>"
    "<td data-label=\"Actor\">{{text:actor}}</td>"
    "<td data-label=\"Subject\">{{text:subject}}</td>"
    "<td data-label=\"Details\"><code>{{text:details}}</code></td></tr>";

static void
event_row(struct tpl_buf *b, const json_t *ev)
{
	char seq[24], t[UI_TIME_LEN], *d;

	snprintf(seq, sizeof(seq), "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(ev, "seq")));
	ui_time(t, (int64_t)json_integer_value(json_object_get(ev, "time")));
	d = json_dumps(json_object_get(ev, "details"),
	    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	UI_RENDER(b, event_tpl, UI_S("seq", seq), UI_S("time", t),
	    UI_S("type", js(ev, "type")), UI_S("actor", js(ev, "actor")),
	    UI_S("subject", js(ev, "subject")),
	    UI_S("details", d != NULL ? d : ""));
	free(d);
}

/*
 * Rows of the events after f->after that match, at most a page; *next
 * the seq to continue after when more may follow, else 0.
 */
static int
ledger_rows(struct ui_ctx *c, const struct ledger_q *f, struct tpl_buf *rows,
    int64_t *next)
{
	int64_t since = f->after, seq;
	size_t i, n = 0, got;
	json_t *evs, *ev;
	int r;

	*next = 0;
	for (;;) {
		api_read_lock(c->a);
		r = ledger_events_json(
		    c->a->ledger, since, UI_LEDGER_CHUNK, &evs);
		api_read_unlock(c->a);
		if (r != 0)
			return r;
		got = json_array_size(evs);
		json_array_foreach(evs, i, ev)
		{
			seq = (int64_t)json_integer_value(
			    json_object_get(ev, "seq"));
			since = seq;
			if (!matches(f, ev))
				continue;
			event_row(rows, ev);
			if (++n == UI_LEDGER_PAGE) {
				*next = seq;
				break;
			}
		}
		json_decref(evs);
		if (n == UI_LEDGER_PAGE || got < UI_LEDGER_CHUNK)
			return 0;
	}
}

/* ---- the chain's verify status ---- */

int
ui_verify_init(struct ui_verify *v)
{
#ifdef JITCA_TEST_HOOKS
	const char *s = getenv("JITCA_TEST_UI_VERIFY_MAX_AGE");
	uint64_t age;
#endif

	memset(v, 0, sizeof(*v));
	v->max_age = UI_VERIFY_MAX_AGE_S;
#ifdef JITCA_TEST_HOOKS
	if (s != NULL && num_parse_u64(s, 86400, &age) == 0)
		v->max_age = age;
#endif
	if (pthread_mutex_init(&v->mu, NULL) != 0)
		return ERR_SYSTEM;
	if (pthread_cond_init(&v->done, NULL) != 0) {
		pthread_mutex_destroy(&v->mu);
		return ERR_SYSTEM;
	}
	return 0;
}

void
ui_verify_free(struct ui_verify *v)
{
	pthread_cond_destroy(&v->done);
	pthread_mutex_destroy(&v->mu);
}

/*
 * *out = the cached verify when it is younger than max_age, the result
 * of the verify in progress when there is one, else a new one.  Only a
 * verdict is kept (intact or BROKEN: a broken chain stays broken); a
 * verify that could not run is shown once and tried again next view.
 */
static void
verify_get(struct api *a, struct ui_verify_result *out)
{
	struct ui_verify *v = &a->ui_verify;
	struct ui_verify_result res;
	uint64_t runs;

	pthread_mutex_lock(&v->mu);
	if (v->running) {
		runs = v->runs;
		while (v->runs == runs)
			pthread_cond_wait(&v->done, &v->mu);
		goto copy;
	}
	if (v->have && api_mono_now() - v->last.mono < (double)v->max_age)
		goto copy;
	v->running = 1;
	pthread_mutex_unlock(&v->mu);
	/*
	 * Only the ledger's read section: ledger_verify() reads the events,
	 * the tree, the head and the checkpoints of one snapshot and nothing
	 * of the configuration, so a SIGHUP swap need not wait seconds for
	 * it (a->ledger is never swapped).
	 */
	memset(&res, 0, sizeof(res));
	/* Its time is the snapshot's, when it began: what it saw. */
	res.mono = api_mono_now();
	res.wall = ledger_now();
	ledger_read_begin(a->ledger);
	res.r = ledger_verify(a->ledger, &res.count, &res.bad, res.err);
	ledger_read_end(a->ledger);
	pthread_mutex_lock(&v->mu);
	v->last = res;
	v->have = res.r == 0 || res.r == ERR_LEDGER_BROKEN;
	v->running = 0;
	v->runs++;
	pthread_cond_broadcast(&v->done);
copy:
	*out = v->last;
	pthread_mutex_unlock(&v->mu);
}

static void
verify_status(struct ui_ctx *c, struct tpl_buf *b)
{
	char msg[LEDGER_ERR_LEN + 160], when[32];
	struct ui_verify_result v;
	struct tm tm;
	time_t t;

	verify_get(c->a, &v);
	t = (time_t)v.wall;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%H:%M:%S UTC", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	if (v.r == 0)
		snprintf(msg, sizeof(msg),
		    "Hash chain verified: %" PRId64
		    " events intact (checked at %s).",
		    v.count, when);
	else if (v.r == ERR_LEDGER_BROKEN)
		snprintf(msg, sizeof(msg),
		    "Hash chain BROKEN at seq %" PRId64 ": %s (checked at %s)",
		    v.bad, v.err, when);
	else
		snprintf(
		    msg, sizeof(msg), "Could not verify: %s", err_str(v.r));
	UI_RENDER(b,
	    "<p class=\"msg {{attr:cls}}\" id=\"verify\">"
	    "{{text:msg}}</p><p class=\"muted\">This status is at most a "
	    "minute old; <code>jitcad ledger verify</code> is the full check "
	    "at any time.</p>",
	    UI_S("cls", v.r == 0 ? "ok" : "error"), UI_S("msg", msg));
}

static const char type_tpl[] =
    "<div><label for=\"type\">Type</label><input type=\"text\" "
    "id=\"type\" name=\"type\" value=\"{{attr:type}}\" "
    "placeholder=\"cert.issued or request.\"></div>";

static const char filters_tpl[] =
    "<form class=\"card filters\" method=\"get\" action=\"{{url:action}}\" "
    "role=\"search\">{{html:type}}"
    "<div><label for=\"user\">User</label><input type=\"text\" id=\"user\" "
    "name=\"user\" value=\"{{attr:user}}\"></div>"
    "<div><label for=\"role\">Role</label><input type=\"text\" id=\"role\" "
    "name=\"role\" value=\"{{attr:role}}\"></div>"
    "<div><label for=\"since\">Since</label><input type=\"text\" "
    "id=\"since\" name=\"since\" value=\"{{attr:since}}\" "
    "placeholder=\"7d or 2026-11-24\"></div>"
    "<div><label for=\"until\">Until</label><input type=\"text\" "
    "id=\"until\" name=\"until\" value=\"{{attr:until}}\"></div>"
    "<div><button type=\"submit\" id=\"filter\">Filter</button></div>"
    "</form>";

/* The filter form of a page (action), with the query's values; the
 * ledger's has the type field too. */
static void
filters(
    struct http_req *req, struct tpl_buf *b, const char *action, int with_type)
{
	struct tpl_buf t;

	tpl_init(&t);
	if (with_type)
		UI_RENDER(&t, type_tpl, UI_S("type", query(req, "type")));
	UI_RENDER(b, filters_tpl, UI_S("action", action), UI_F("type", &t),
	    UI_S("user", query(req, "user")), UI_S("role", query(req, "role")),
	    UI_S("since", query(req, "since")),
	    UI_S("until", query(req, "until")));
	tpl_free(&t);
}

static const char table_tpl[] =
    "<div class=\"scroll\"><table class=\"stack events\" id=\"events\">"
    "<caption class=\"muted\">Events in sequence order</caption>"
    "<thead><tr><th scope=\"col\">Seq</th><th scope=\"col\">Time</th>"
    "<th scope=\"col\">Type</th><th scope=\"col\">Actor</th>"
    "<th scope=\"col\">Subject</th><th scope=\"col\">Details</th></tr>"
    "</thead><tbody>{{html:rows}}</tbody></table></div>";

/* The link to the page after next: the same filters, after=next. */
static void
next_link(struct ui_ctx *c, struct tpl_buf *b, int64_t next)
{
	static const char *const keys[] = {
	    "type", "user", "role", "since", "until"};
	struct tpl_buf href;
	const char *v;
	size_t i;
	char tail[32];

	tpl_init(&href);
	tpl_raw(&href, "/ui/ledger?");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((v = query(c->req, keys[i])) == NULL)
			continue;
		tpl_raw(&href, keys[i]);
		tpl_raw(&href, "=");
		ui_query_escape(&href, v);
		tpl_raw(&href, "&");
	}
	snprintf(tail, sizeof(tail), "after=%" PRId64, next);
	tpl_raw(&href, tail);
	UI_RENDER(b,
	    "<p class=\"pager\"><a id=\"next\" href=\"{{url:href}}\">Next "
	    "page</a></p>",
	    UI_S("href", tpl_str(&href)));
	tpl_free(&href);
}

static int
auditors_only(struct ui_ctx *c, const char *what)
{
	char msg[128];

	if (ui_is_auditor(c))
		return 0;
	snprintf(
	    msg, sizeof(msg), "The %s is for the auditor groups only.", what);
	ui_message(c, 403, "Forbidden", msg, "/ui/");
	return -1;
}

/* The signed-in context, or the sign-in page (returning to next). */
static int
begin_audit(struct ui_ctx *c, struct api *a, struct http_req *req,
    const char *next, const char *what)
{
	if (!ui_ctx_begin(c, a, req)) {
		ui_signin_page(c, 401, "Sign in to see this page.", next);
		return 0;
	}
	return auditors_only(c, what) == 0;
}

void
ui_h_ledger(void *app, struct http_req *req)
{
	struct ui_ctx c;
	struct ledger_q f;
	struct tpl_buf b, rows;
	int64_t next = 0;
	int r;

	tpl_init(&b);
	tpl_init(&rows);
	if (!begin_audit(&c, app, req, "/ui/ledger", "ledger") ||
	    ledger_query(&c, &f) != 0)
		goto out;
	verify_status(&c, &b);
	filters(req, &b, "/ui/ledger", 1);
	if ((r = ledger_rows(&c, &f, &rows, &next)) != 0) {
		ui_error(&c, r, "ledger", "/ui/ledger");
		goto out;
	}
	if (rows.len == 0)
		tpl_raw(
		    &b, "<p class=\"msg\" id=\"none\">No events match.</p>");
	else
		UI_RENDER(&b, table_tpl, UI_F("rows", &rows));
	if (next != 0)
		next_link(&c, &b, next);
	ui_send(&c, 200, "Ledger", &b);
out:
	tpl_free(&b);
	tpl_free(&rows);
	ui_ctx_end(&c);
}

/* ---- the access report ---- */

static const char grant_tpl[] =
    "<tr><td data-label=\"User\">{{text:user}}</td>"
    "<td data-label=\"Role\">{{text:role}}</td>"
    "<td data-label=\"When\"><time>{{text:va}}</time> to "
    "<time>{{text:vb}}</time></td>"
    "<td data-label=\"Why\"><div class=\"reason\">{{text:reason}}</div>"
    "</td>"
    "<td data-label=\"Approved by\">{{html:approvers}}</td>"
    "<td data-label=\"Revoked\">{{html:revoked}}</td>"
    "<td data-label=\"Logins\">{{html:logins}}</td>"
    "<td data-label=\"Request\">{{html:req}}</td></tr>";

/* One login line: lead ("" or "refused (why): "), who, where, when. */
static void
login_line(struct tpl_buf *b, const char *lead, const struct report_login *l)
{
	char t[UI_TIME_LEN];

	ui_time(t, l->time);
	UI_RENDER(b,
	    "<div>{{text:lead}}{{text:acct}}@{{text:host}} from {{text:src}} "
	    "at <time>{{text:t}}</time></div>",
	    UI_S("lead", lead), UI_S("acct", l->account), UI_S("host", l->host),
	    UI_S("src", l->source), UI_S("t", t));
}

static void
grant_logins(struct tpl_buf *b, const struct report_grant *g)
{
	char lead[64];
	size_t i;

	for (i = 0; i < g->nlogins; i++)
		login_line(b, "", &g->logins[i]);
	for (i = 0; i < g->nrefused; i++) {
		snprintf(lead, sizeof(lead), "refused (%s): ",
		    g->refused[i].reason != NULL ? g->refused[i].reason : "");
		login_line(b, lead, &g->refused[i]);
	}
	if (g->nlogins + g->nrefused == 0)
		tpl_raw(b, "<span class=\"muted\">none seen</span>");
}

static void
grant_row(struct tpl_buf *b, const struct report_grant *g)
{
	struct tpl_buf ap, rv, lg, rq;
	char va[UI_TIME_LEN], vb[UI_TIME_LEN], t[UI_TIME_LEN], id[24];
	size_t i;

	tpl_init(&ap);
	tpl_init(&rv);
	tpl_init(&lg);
	tpl_init(&rq);
	for (i = 0; i < g->napprovals; i++)
		UI_RENDER(&ap, "<div>{{text:who}}</div>",
		    UI_S("who", g->approvals[i].who));
	if (g->direct)
		UI_RENDER(&ap, "<div>issued directly by {{text:who}}</div>",
		    UI_S("who", g->issued_by != NULL ? g->issued_by : ""));
	if (g->break_glass)
		tpl_raw(&ap, "<div><strong>break-glass</strong></div>");
	if (g->revoked) {
		ui_time(t, g->revoked_time);
		UI_RENDER(&rv,
		    "yes, <time>{{text:t}}</time> by {{text:by}}: "
		    "{{text:why}}",
		    UI_S("t", t), UI_S("by", g->revoked_by),
		    UI_S("why", g->revoked_reason));
	} else
		tpl_raw(&rv, "no");
	grant_logins(&lg, g);
	if (g->request > 0) {
		snprintf(id, sizeof(id), "%" PRId64, g->request);
		UI_RENDER(&rq,
		    "<a href=\"/ui/requests/{{attr:id}}\">"
		    "#{{text:id}}</a>",
		    UI_S("id", id));
	}
	ui_time(va, g->valid_after);
	ui_time(vb, g->valid_before);
	UI_RENDER(b, grant_tpl, UI_S("user", g->requester),
	    UI_S("role", g->role), UI_S("va", va), UI_S("vb", vb),
	    UI_S("reason", g->reason), UI_F("approvers", &ap),
	    UI_F("revoked", &rv), UI_F("logins", &lg), UI_F("req", &rq));
	tpl_free(&ap);
	tpl_free(&rv);
	tpl_free(&lg);
	tpl_free(&rq);
}

static const char report_tpl[] =
    "{{html:filters}}"
    "<div class=\"scroll\"><table class=\"stack\" id=\"grants\">"
    "<caption class=\"muted\">Who had access to which role when, why, "
    "approved by whom</caption><thead><tr>"
    "<th scope=\"col\">User</th><th scope=\"col\">Role</th>"
    "<th scope=\"col\">When</th><th scope=\"col\">Why</th>"
    "<th scope=\"col\">Approved by</th><th scope=\"col\">Revoked</th>"
    "<th scope=\"col\">Logins seen</th><th scope=\"col\">Request</th>"
    "</tr></thead><tbody>{{html:rows}}</tbody></table></div>"
    "<p class=\"muted\">{{text:unknown}}</p>";

void
ui_h_report(void *app, struct http_req *req)
{
	struct ui_ctx c;
	struct report_filter f;
	struct report *rep = NULL;
	struct tpl_buf b, rows, fl;
	const char *s, *u;
	char unk[96];
	int64_t now = (int64_t)ledger_now();
	size_t i;
	int r;

	tpl_init(&b);
	tpl_init(&rows);
	tpl_init(&fl);
	if (!begin_audit(&c, app, req, "/ui/report", "access report"))
		goto out;
	memset(&f, 0, sizeof(f));
	f.role = query(req, "role");
	f.user = query(req, "user");
	s = query(req, "since");
	u = query(req, "until");
	if ((s != NULL && report_when_parse(s, now, &f.since) != 0) ||
	    (u != NULL && report_when_parse(u, now, &f.until) != 0)) {
		ui_message(&c, 400, "Bad filter",
		    "Since and until must be a date (2026-11-24, "
		    "2026-11-24T09:00:00Z) or a duration back from now (7d).",
		    "/ui/report");
		goto out;
	}
	if ((r = report_build(c.a->ledger, &f, &rep)) != 0) {
		ui_error(&c, r, "report", "/ui/report");
		goto out;
	}
	for (i = 0; i < rep->ngrants; i++)
		grant_row(&rows, &rep->grants[i]);
	if (rep->ngrants == 0)
		tpl_raw(&rows,
		    "<tr><td colspan=\"8\">No access in this "
		    "range.</td></tr>");
	snprintf(unk, sizeof(unk),
	    "%zu login(s) seen that no grant of this CA explains.",
	    rep->nunknown);
	filters(req, &fl, "/ui/report", 0);
	UI_RENDER(&b, report_tpl, UI_F("filters", &fl), UI_F("rows", &rows),
	    UI_S("unknown", unk));
	ui_send(&c, 200, "Access report", &b);
out:
	report_free(rep);
	tpl_free(&b);
	tpl_free(&rows);
	tpl_free(&fl);
	ui_ctx_end(&c);
}
