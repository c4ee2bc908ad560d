/*
 * ui_requests.c: the approver's pages of web/ui.h: the pending list
 * (GET /ui/), one request with what will be signed and its forms
 * (GET /ui/requests/{id}), and the forms' POSTs, which call
 * ca/request.h and ca/revoke.h as web/api.c's handlers do.  The pages
 * render the domain's views (ca/views.h) field by field.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ledger.h"
#include "ca/request.h"
#include "ca/revoke.h"
#include "ca/text.h"
#include "ca/views.h"
#include "signer/base/duration.h"
#include "web/ui.h"
#include "web/ui_page.h"

#define UI_PENDING_MAX 100 /* requests on the pending page */
#define UI_HISTORY_SCAN 200 /* recent requests looked at for history */
#define UI_HISTORY_SHOW 5

static const char none_html[] = "<span class=\"muted\">none</span>";

/* The {id} segment as a request id, or 0. */
static int64_t
path_id(struct http_req *req)
{
	const char *p = http_req_param(req);
	char *end = NULL;
	long long v;

	if (p == NULL || p[0] < '1' || p[0] > '9' || strlen(p) > 18)
		return 0;
	v = strtoll(p, &end, 10);
	return end != NULL && *end == '\0' && v > 0 ? (int64_t)v : 0;
}

/* ", "-joined code elements, or "none". */
static void
code_list(struct tpl_buf *b, char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		UI_RENDER(b, "{{text:sep}}<code>{{text:s}}</code>",
		    UI_S("sep", i > 0 ? ", " : ""), UI_S("s", v[i]));
	if (n == 0)
		tpl_raw(b, none_html);
}

/* The role's critical options as configured now (what the digest
 * covers), "name=value" each. */
static void
option_list(struct tpl_buf *b, const struct request_view *q)
{
	size_t i;

	for (i = 0; i < q->ncritical; i++)
		UI_RENDER(b, "{{text:sep}}<code>{{text:n}}={{text:v}}</code>",
		    UI_S("sep", i > 0 ? ", " : ""),
		    UI_S("n", q->critical[i].name),
		    UI_S("v", q->critical[i].value));
	if (q->ncritical == 0)
		tpl_raw(b, none_html);
}

/* 1 if the signed-in user is an approver of q's role now and not its
 * requester. */
static int
may_approve(struct ui_ctx *c, const struct request_view *q)
{
	size_t i;

	if (strcmp(c->u->name, q->requester) == 0)
		return 0;
	for (i = 0; i < q->napprover_groups; i++) {
		if (user_in_group(c->u, q->approver_groups[i]))
			return 1;
	}
	return 0;
}

static int
list_requests(
    struct ui_ctx *c, int pending, size_t limit, struct request_views **out)
{
	struct request_filter f;
	int r;

	memset(&f, 0, sizeof(f));
	f.pending_only = pending;
	f.brief = 1;
	f.limit = limit;
	api_read_lock(c->a);
	r = request_list(&c->a->ca, &c->act, &f, out);
	api_read_unlock(c->a);
	return r;
}

/* The requester's latest other requests, from recent. */
static void
history(struct tpl_buf *b, const struct request_views *recent,
    const struct request_view *q)
{
	size_t i, shown = 0;
	const struct request_view *h;
	char t[UI_TIME_LEN], id[24];

	for (i = 0; i < recent->n && shown < UI_HISTORY_SHOW; i++) {
		h = &recent->v[i];
		if (strcmp(h->requester, q->requester) != 0 || h->id == q->id)
			continue;
		ui_time(t, (int64_t)h->created);
		snprintf(id, sizeof(id), "%" PRId64, h->id);
		UI_RENDER(b,
		    "<li><a href=\"/ui/requests/{{attr:id}}\">#{{text:id}}</a> "
		    "{{text:role}} <span class=\"state state-{{attr:st}}\">"
		    "{{text:st}}</span> <time>{{text:t}}</time></li>",
		    UI_S("id", id), UI_S("role", h->role), UI_S("st", h->state),
		    UI_S("t", t));
		shown++;
	}
	if (shown == 0)
		tpl_raw(b, "<li class=\"muted\">no earlier requests</li>");
}

static const char summary_tpl[] =
    "<dl class=\"kv\">"
    "<dt>Requester</dt><dd>{{text:requester}}</dd>"
    "<dt>Role</dt><dd>{{text:role}}</dd>"
    "<dt>Principals</dt><dd>{{html:principals}}</dd>"
    "<dt>TTL</dt><dd>{{text:ttl}}</dd>"
    "<dt>Critical options</dt><dd>{{html:crit}}</dd>"
    "<dt>Extensions</dt><dd>{{html:ext}}</dd>"
    "<dt>Source address</dt><dd>{{text:src}}</dd>"
    "<dt>Key fingerprint</dt><dd><code>{{text:fp}}</code></dd>"
    "<dt>Requested</dt><dd><time>{{text:created}}</time> "
    "(waited {{text:waited}})</dd>"
    "<dt>Reason</dt><dd><div class=\"reason\">{{text:reason}}</div></dd>"
    "</dl>";

/* The fields an approver weighs, for the list and the detail page. */
static void
summary(struct tpl_buf *b, const struct request_view *q)
{
	struct tpl_buf pr, crit, ext;
	char ttl[UI_DUR_LEN + 32], created[UI_TIME_LEN], waited[UI_DUR_LEN];
	char d[UI_DUR_LEN];
	uint64_t now = ledger_now();

	tpl_init(&pr);
	tpl_init(&crit);
	tpl_init(&ext);
	code_list(&pr, q->principals, q->nprincipals);
	option_list(&crit, q);
	code_list(&ext, q->extensions, q->nextensions);
	ui_dur(d, q->ttl);
	snprintf(ttl, sizeof(ttl), "%s (%" PRIu64 " s)", d, q->ttl);
	ui_time(created, (int64_t)q->created);
	ui_dur(waited, now > q->created ? now - q->created : 0);
	UI_RENDER(b, summary_tpl, UI_S("requester", q->requester),
	    UI_S("role", q->role), UI_F("principals", &pr), UI_S("ttl", ttl),
	    UI_F("crit", &crit), UI_F("ext", &ext),
	    UI_S("src",
		q->source_address != NULL ? q->source_address
					  : "any (no source-address option)"),
	    UI_S("fp", q->key_fp), UI_S("created", created),
	    UI_S("waited", waited), UI_S("reason", q->reason));
	tpl_free(&pr);
	tpl_free(&crit);
	tpl_free(&ext);
}

static const char pending_tpl[] =
    "<section class=\"card\" aria-labelledby=\"r{{attr:id}}\">"
    "<h2 id=\"r{{attr:id}}\"><a href=\"/ui/requests/{{attr:id}}\">"
    "Request #{{text:id}}</a>: {{text:requester}} wants "
    "{{text:role}}</h2>{{html:summary}}"
    "<h3>{{text:requester}}'s recent requests</h3><ul>{{html:hist}}</ul>"
    "<p><a href=\"/ui/requests/{{attr:id}}\">Review and decide "
    "#{{text:id}}</a></p></section>";

static void
pending_page(struct ui_ctx *c)
{
	struct request_views *pend = NULL, *recent = NULL;
	const struct request_view *q;
	struct tpl_buf b, s, h;
	char id[24];
	size_t i;
	int r;

	tpl_init(&b);
	if ((r = list_requests(c, 1, UI_PENDING_MAX, &pend)) != 0 ||
	    (r = list_requests(c, 0, UI_HISTORY_SCAN, &recent)) != 0) {
		ui_error(c, r, "pending requests", "/ui/");
		goto out;
	}
	for (i = 0; i < pend->n; i++) {
		q = &pend->v[i];
		tpl_init(&s);
		tpl_init(&h);
		summary(&s, q);
		history(&h, recent, q);
		snprintf(id, sizeof(id), "%" PRId64, q->id);
		UI_RENDER(&b, pending_tpl, UI_S("id", id),
		    UI_S("requester", q->requester), UI_S("role", q->role),
		    UI_F("summary", &s), UI_F("hist", &h));
		tpl_free(&s);
		tpl_free(&h);
	}
	if (pend->n == 0)
		tpl_raw(&b,
		    "<p class=\"msg\">Nothing is waiting for a "
		    "decision you can see.</p>");
	ui_send(c, 200, "Pending requests", &b);
out:
	tpl_free(&b);
	request_views_free(pend);
	request_views_free(recent);
}

void
ui_h_home(void *app, struct http_req *req)
{
	struct ui_ctx c;

	if (!ui_ctx_begin(&c, app, req))
		ui_signin_page(&c, 200, NULL, "/ui/");
	else
		pending_page(&c);
	ui_ctx_end(&c);
}

/* ---- one request ---- */

static const char approve_tpl[] =
    "<section class=\"card\" aria-labelledby=\"decide\">"
    "<h2 id=\"decide\">Decide</h2>"
    "<form class=\"act\" method=\"post\" "
    "action=\"/ui/requests/{{attr:id}}/approve\">"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{attr:csrf}}\">"
    "<input type=\"hidden\" name=\"expect\" value=\"{{attr:digest}}\">"
    "<label for=\"ttl\">TTL (optional, shorter than {{text:ttl}})</label>"
    "<input type=\"text\" id=\"ttl\" name=\"ttl\" inputmode=\"text\" "
    "placeholder=\"e.g. 15m\" autocomplete=\"off\">"
    "<label for=\"acomment\">Comment (optional)</label>"
    "<input type=\"text\" id=\"acomment\" name=\"comment\" "
    "autocomplete=\"off\">"
    "<button type=\"submit\" id=\"approve\">Approve #{{text:id}}</button>"
    "</form>"
    "<form class=\"act\" method=\"post\" "
    "action=\"/ui/requests/{{attr:id}}/deny\">"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{attr:csrf}}\">"
    "<label for=\"dcomment\">Why deny (optional)</label>"
    "<textarea id=\"dcomment\" name=\"comment\"></textarea>"
    "<button type=\"submit\" class=\"deny\" id=\"deny\">Deny "
    "#{{text:id}}</button></form></section>";

static const char revoke_tpl[] =
    "<section class=\"card\" aria-labelledby=\"rev\">"
    "<h2 id=\"rev\">Revoke</h2>"
    "<form class=\"act\" method=\"post\" "
    "action=\"/ui/requests/{{attr:id}}/revoke\">"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{attr:csrf}}\">"
    "<label for=\"reason\">Reason</label>"
    "<input type=\"text\" id=\"reason\" name=\"reason\" required>"
    "<button type=\"submit\" class=\"deny\" id=\"revoke\">Revoke "
    "#{{text:id}}</button></form></section>";

static const char detail_tpl[] =
    "<p>State: <span class=\"state state-{{attr:state}}\" "
    "id=\"state\">{{text:state}}</span></p>"
    "<section class=\"card\" aria-labelledby=\"what\">"
    "<h2 id=\"what\">{{text:what}}</h2>{{html:summary}}"
    "<dl class=\"kv\"><dt>Approvals</dt><dd>{{html:approvals}}</dd>"
    "<dt>Digest</dt><dd><code id=\"digest\">{{text:digest}}</code></dd>"
    "{{html:issued}}</dl></section>"
    "{{html:forms}}";

/* One decision: "who at TIME", and the comment when there is one. */
static void
decision(struct tpl_buf *b, const struct approval_view *d)
{
	char t[UI_TIME_LEN];

	ui_time(t, d->time);
	UI_RENDER(b, "; {{text:what}} {{text:who}} at <time>{{text:t}}</time>",
	    UI_S("what",
		strcmp(d->decision, "approve") == 0    ? "approved by"
		    : strcmp(d->decision, "deny") == 0 ? "denied by"
						       : "reviewed by"),
	    UI_S("who", d->approver), UI_S("t", t));
	if (d->comment != NULL && d->comment[0] != '\0')
		UI_RENDER(b, ": <q>{{text:c}}</q>", UI_S("c", d->comment));
}

static void
approvals(struct tpl_buf *b, const struct request_view *q)
{
	char need[64];
	size_t i;

	snprintf(need, sizeof(need), "%u needed", q->approvals_required);
	tpl_text(b, need);
	for (i = 0; i < q->ndecisions; i++)
		decision(b, &q->decisions[i]);
}

static void
issued_fields(struct tpl_buf *b, const struct request_view *q)
{
	char serial[24], va[UI_TIME_LEN], vb[UI_TIME_LEN], rv[UI_TIME_LEN];
	const struct cert_view *cv = q->cert;

	if (cv == NULL)
		return;
	snprintf(serial, sizeof(serial), "%" PRIu64, cv->serial);
	ui_time(va, cv->valid_after);
	ui_time(vb, cv->valid_before);
	UI_RENDER(b,
	    "<dt>Serial</dt><dd>{{text:serial}}</dd>"
	    "<dt>Key id</dt><dd><code>{{text:kid}}</code></dd>"
	    "<dt>Valid</dt><dd><time>{{text:va}}</time> to "
	    "<time>{{text:vb}}</time></dd>",
	    UI_S("serial", serial), UI_S("kid", cv->key_id), UI_S("va", va),
	    UI_S("vb", vb));
	if (cv->revoked) {
		ui_time(rv, cv->revoked_time);
		UI_RENDER(b, "<dt>Revoked</dt><dd><time>{{text:t}}</time></dd>",
		    UI_S("t", rv));
	}
}

static void
detail_page(struct ui_ctx *c, int64_t id)
{
	struct request_view *q = NULL;
	struct tpl_buf b, s, ap, is, forms;
	char idt[24], what[48], ttl[UI_DUR_LEN];
	int r, pending;

	tpl_init(&b);
	tpl_init(&s);
	tpl_init(&ap);
	tpl_init(&is);
	tpl_init(&forms);
	snprintf(idt, sizeof(idt), "%" PRId64, id);
	snprintf(what, sizeof(what), "request %" PRId64, id);
	api_read_lock(c->a);
	r = request_get(&c->a->ca, &c->act, id, &q);
	api_read_unlock(c->a);
	if (r != 0) {
		ui_error(c, r, what, "/ui/");
		goto out;
	}
	pending = strcmp(q->state, "pending") == 0;
	summary(&s, q);
	approvals(&ap, q);
	issued_fields(&is, q);
	ui_dur(ttl, q->ttl);
	if (pending && may_approve(c, q))
		UI_RENDER(&forms, approve_tpl, UI_S("id", idt),
		    UI_S("csrf", c->se.csrf), UI_S("digest", q->digest),
		    UI_S("ttl", ttl));
	else if (pending && strcmp(q->requester, c->u->name) == 0)
		tpl_raw(&forms,
		    "<p class=\"msg\" id=\"own\">This is your own "
		    "request: another approver must decide "
		    "it.</p>");
	else if (strcmp(q->state, "issued") == 0 && ui_is_auditor(c))
		UI_RENDER(&forms, revoke_tpl, UI_S("id", idt),
		    UI_S("csrf", c->se.csrf));
	UI_RENDER(&b, detail_tpl, UI_S("state", q->state),
	    UI_S(
		"what", pending ? "What will be signed" : "What was asked for"),
	    UI_F("summary", &s), UI_F("approvals", &ap),
	    UI_S("digest", q->digest), UI_F("issued", &is),
	    UI_F("forms", &forms));
	snprintf(what, sizeof(what), "Request #%" PRId64, id);
	ui_send(c, 200, what, &b);
out:
	request_view_free(q);
	tpl_free(&b);
	tpl_free(&s);
	tpl_free(&ap);
	tpl_free(&is);
	tpl_free(&forms);
}

/* The signed-in context, or the sign-in page (returning here) sent. */
static int
begin_signed_in(struct ui_ctx *c, struct api *a, struct http_req *req)
{
	char next[96];

	if (ui_ctx_begin(c, a, req))
		return 1;
	snprintf(next, sizeof(next), "/ui/requests/%s",
	    http_req_param(req) != NULL ? http_req_param(req) : "");
	ui_signin_page(c, 401, "Sign in to see this page.", next);
	return 0;
}

void
ui_h_request(void *app, struct http_req *req)
{
	struct ui_ctx c;
	int64_t id;

	if (begin_signed_in(&c, app, req)) {
		if ((id = path_id(req)) == 0)
			ui_message(&c, 404, "Not found",
			    "No such request: ids are positive numbers.",
			    "/ui/");
		else
			detail_page(&c, id);
	}
	ui_ctx_end(&c);
}

/* ---- decisions ---- */

enum ui_act { UI_APPROVE, UI_DENY, UI_REVOKE };

/* 0 when the sign-in is fresh enough to decide, else a page sent. */
static int
fresh_enough(struct ui_ctx *c, const char *back)
{
	uint64_t now = ledger_now(), max = 0;
	int have = 0;
	char msg[256], again[128];

	if (!c->se.oidc)
		return 0;
	api_cfg_lock(c->a);
	if (c->a->cfg->oidc != NULL) {
		have = 1;
		max = c->a->cfg->oidc->approver_max_auth_age;
	}
	api_cfg_unlock(c->a);
	if (have && c->se.auth_time <= now && now - c->se.auth_time <= max)
		return 0;
	snprintf(msg, sizeof(msg),
	    "Approving or denying needs a sign-in within the last %" PRIu64
	    " seconds; yours was %" PRIu64
	    " seconds ago. Sign in again (the link below), then decide.",
	    max, now >= c->se.auth_time ? now - c->se.auth_time : 0);
	snprintf(again, sizeof(again), "/ui/oidc/start?fresh=1&next=%s", back);
	if (have)
		ui_message_link(c, 401, "Sign in again", msg, again,
		    "Sign in again at the identity provider");
	else
		ui_message(c, 401, "Sign in again", msg, "/ui/");
	return -1;
}

static int
do_act(struct ui_ctx *c, int64_t id, enum ui_act how, const char *text,
    uint64_t ttl)
{
	struct request_approval ap;
	struct revoke_target t;
	struct request_view *out = NULL;
	struct revocation_view *rv = NULL;
	int r;

	api_cfg_lock(c->a);
	if (how == UI_APPROVE) {
		memset(&ap, 0, sizeof(ap));
		ap.comment = text;
		ap.ttl = ttl;
		ap.expect = ui_form_get(&c->form, "expect");
		r = request_approve_with(&c->a->ca, &c->act, id, &ap, &out);
	} else if (how == UI_DENY)
		r = request_deny(&c->a->ca, &c->act, id, text, &out);
	else {
		memset(&t, 0, sizeof(t));
		t.by = REVOKE_REQUEST;
		t.request = id;
		r = revoke_apply(&c->a->ca, &c->act, &t, text, &rv);
	}
	api_cfg_unlock(c->a);
	api_write_noted(c->a, r);
	if (r == 0 && how == UI_APPROVE && strcmp(out->state, "issued") == 0)
		atomic_fetch_add(&c->a->certs_issued, 1);
	if (r == 0 && how == UI_REVOKE) {
		atomic_store(&c->a->krl_dirty, 1);
		atomic_fetch_add(&c->a->revocations, rv->nrevoked);
	}
	request_view_free(out);
	revocation_view_free(rv);
	return r;
}

static void
decide(struct api *a, struct http_req *req, enum ui_act how)
{
	struct ui_ctx c;
	const char *text, *ttls, *why = NULL;
	char tmsg[TEXT_MSG_LEN], what[48], back[64];
	uint64_t ttl = 0;
	int64_t id;
	int r;

	if (!begin_signed_in(&c, a, req))
		goto out;
	if (ui_post_check(&c, 1) != 0)
		goto out;
	if ((id = path_id(req)) == 0) {
		ui_message(&c, 404, "Not found", "No such request.", "/ui/");
		goto out;
	}
	snprintf(what, sizeof(what), "Request #%" PRId64, id);
	snprintf(back, sizeof(back), "/ui/requests/%" PRId64, id);
	if (how != UI_REVOKE && fresh_enough(&c, back) != 0)
		goto out;
	text = ui_form_get(&c.form, how == UI_REVOKE ? "reason" : "comment");
	if (text != NULL && text[0] == '\0')
		text = NULL;
	if ((r = text_check(how == UI_REVOKE ? "reason" : "comment", text,
		 how == UI_REVOKE ? REVOKE_REASON_MAX : REQUEST_COMMENT_MAX,
		 how == UI_REVOKE, tmsg)) != 0) {
		ui_message(&c, 400, "Refused", tmsg, back);
		goto out;
	}
	ttls = how == UI_APPROVE ? ui_form_get(&c.form, "ttl") : NULL;
	if (ttls != NULL && ttls[0] != '\0' &&
	    duration_parse_why(ttls, &ttl, &why) != 0) {
		snprintf(tmsg, sizeof(tmsg), "TTL: %s (e.g. 15m).",
		    why != NULL ? why : "not a duration");
		ui_message(&c, 400, "Refused", tmsg, back);
		goto out;
	}
	if ((r = do_act(&c, id, how, text, ttl)) != 0) {
		ui_error(&c, r, what, back);
		goto out;
	}
	ui_redirect(&c, back);
out:
	ui_ctx_end(&c);
}

void
ui_h_approve(void *app, struct http_req *req)
{
	decide(app, req, UI_APPROVE);
}

void
ui_h_deny(void *app, struct http_req *req)
{
	decide(app, req, UI_DENY);
}

void
ui_h_revoke(void *app, struct http_req *req)
{
	decide(app, req, UI_REVOKE);
}
