/*
 * ui.c: the pages' common parts (ui_page.h) and the pages that are not
 * about requests or the ledger: sign-in with a token, sign-out, the
 * embedded static files.  The request pages are in ui_requests.c, the
 * ledger and the access report in ui_audit.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/ca.h"
#include "ca/ledger.h"
#include "signer/base/duration.h"
#include "web/ui.h"
#include "web/ui_page.h"
#include "web/ui_static.h"

#define UI_COOKIE "jitca_ui"
#define UI_CSP                                                                 \
	"default-src 'self'; script-src 'self'; frame-ancestors 'none'; "      \
	"form-action 'self'; base-uri 'none'"

/* ---- context ---- */

int
ui_ctx_begin(struct ui_ctx *c, struct api *a, struct http_req *req)
{
	const char *cookie = http_req_header(req, "Cookie");
	struct user *u = NULL;
	int r;

	memset(c, 0, sizeof(*c));
	c->a = a;
	c->req = req;
	if (cookie == NULL ||
	    !ui_cookie_get(cookie, UI_COOKIE, c->sid, sizeof(c->sid)) ||
	    ui_session_find(a->ui, c->sid, ledger_now(), &c->se) != 0)
		return 0;
	api_read_lock(a);
	r = user_get(a->ledger, c->se.user, &u);
	api_read_unlock(a);
	if (r != 0 || u->disabled) {
		user_free(u);
		ui_session_close(a->ui, c->sid);
		return 0;
	}
	u->session = c->se.oidc;
	u->auth_time = c->se.auth_time;
	c->u = u;
	c->act.name = u->name;
	c->act.groups = u->groups;
	c->act.ngroups = u->ngroups;
	http_req_set_user(req, u->name);
	return 1;
}

void
ui_ctx_end(struct ui_ctx *c)
{
	user_free(c->u);
	c->u = NULL;
	ui_form_free(&c->form);
}

int
ui_is_auditor(struct ui_ctx *c)
{
	int yes;

	api_cfg_lock(c->a);
	yes = ca_actor_is_auditor(&c->a->ca, &c->act);
	api_cfg_unlock(c->a);
	return yes;
}

/* ---- rendering ---- */

void
ui_render(struct tpl_buf *b, const char *tpl, const struct tpl_var *v, size_t n)
{
	if (tpl_render(b, tpl, v, n) != 0)
		return; /* b->err stays set */
}

static void
security_headers(struct http_req *req)
{
	http_reply_header(req, "Content-Security-Policy", UI_CSP);
	http_reply_header(req, "Referrer-Policy", "same-origin");
	http_reply_header(req, "Cache-Control", "no-store");
	http_reply_header(req, "X-Frame-Options", "DENY");
}

static const char nav_tpl[] =
    "<a href=\"/ui/\"><strong>jitca</strong></a>"
    "<nav aria-label=\"Main\"><a href=\"/ui/\">Pending</a>"
    "{{html:audit}}</nav>"
    "<span class=\"who\">Signed in as <strong>{{text:user}}</strong> "
    "<form method=\"post\" action=\"/ui/signout\">"
    "<input type=\"hidden\" name=\"csrf\" value=\"{{attr:csrf}}\">"
    "<button class=\"link\" type=\"submit\">Sign out</button></form></span>";

static const char page_tpl[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">"
    "<title>{{text:title}} - jitca</title>"
    "<link rel=\"stylesheet\" href=\"{{url:css}}\"></head>\n<body>"
    "<header class=\"top\">{{html:nav}}</header>\n"
    "<main id=\"main\"><h1>{{text:title}}</h1>\n{{html:body}}</main>\n"
    "</body></html>\n";

/* "/ui/static/ui.css?v=ETAGPREFIX": a new URL whenever the file changes,
 * so it may be cached for a year. */
static void
css_url(char *out, size_t len)
{
	const struct ui_static *f;

	snprintf(out, len, "/ui/static/ui.css");
	for (f = ui_static_files; f->name != NULL; f++) {
		if (strcmp(f->name, "ui.css") == 0)
			snprintf(
			    out, len, "/ui/static/ui.css?v=%.12s", f->etag + 1);
	}
}

void
ui_send(struct ui_ctx *c, int status, const char *title, struct tpl_buf *body)
{
	struct tpl_buf page, nav, audit;
	char css[64];
	static const char oops[] = "internal error: the page did not render\n";

	tpl_init(&page);
	tpl_init(&nav);
	tpl_init(&audit);
	if (c->u != NULL) {
		if (ui_is_auditor(c))
			tpl_raw(&audit,
			    "<a href=\"/ui/ledger\">Ledger</a>"
			    "<a href=\"/ui/report\">Access "
			    "report</a>");
		UI_RENDER(&nav, nav_tpl, UI_F("audit", &audit),
		    UI_S("user", c->u->name), UI_S("csrf", c->se.csrf));
	} else
		tpl_raw(&nav, "<strong>jitca</strong>");
	css_url(css, sizeof(css));
	UI_RENDER(&page, page_tpl, UI_S("title", title), UI_S("css", css),
	    UI_F("nav", &nav), UI_F("body", body));
	security_headers(c->req);
	if (page.err != 0)
		http_reply(c->req, 500, "text/plain; charset=utf-8", oops,
		    sizeof(oops) - 1);
	else
		http_reply(c->req, status, "text/html; charset=utf-8",
		    tpl_str(&page), page.len);
	tpl_free(&page);
	tpl_free(&nav);
	tpl_free(&audit);
}

void
ui_message_link(struct ui_ctx *c, int status, const char *title,
    const char *msg, const char *href, const char *label)
{
	struct tpl_buf b;

	tpl_init(&b);
	UI_RENDER(&b,
	    "<p class=\"msg {{attr:cls}}\" role=\"alert\">{{text:msg}}</p>"
	    "<p><a href=\"{{url:href}}\">{{text:label}}</a></p>",
	    UI_S("cls", status < 400 ? "ok" : "error"), UI_S("msg", msg),
	    UI_S("href", href), UI_S("label", label));
	ui_send(c, status, title, &b);
	tpl_free(&b);
}

void
ui_message(struct ui_ctx *c, int status, const char *title, const char *msg,
    const char *back)
{
	ui_message_link(
	    c, status, title, msg, back != NULL ? back : "/ui/", "Back");
}

void
ui_redirect(struct ui_ctx *c, const char *location)
{
	security_headers(c->req);
	http_reply(c->req, 303, "text/plain; charset=utf-8", "", 0);
	http_reply_header(c->req, "Location", location);
}

void
ui_error(struct ui_ctx *c, int err, const char *what, const char *back)
{
	const char *code;
	int status = api_err_status(err, &code);
	char msg[512];

	if (err == ERR_DIGEST_MISMATCH)
		snprintf(msg, sizeof(msg),
		    "%s changed after this page showed it (its principals, "
		    "TTL or the role's options): nothing was approved. "
		    "Open it again and check what will be signed.",
		    what);
	else if (err == ERR_SELF_APPROVAL)
		snprintf(msg, sizeof(msg),
		    "%s is your own: another approver must decide it.", what);
	else
		snprintf(msg, sizeof(msg), "%s: %s.", what, err_str(err));
	ui_message(c, status, "Refused", msg, back);
}

/* ---- formatters ---- */

void
ui_time(char out[UI_TIME_LEN], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	out[0] = '\0';
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return;
	strftime(out, UI_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
ui_dur(char out[UI_DUR_LEN], uint64_t secs)
{
	static const struct {
		uint64_t size;
		const char *name;
	} u[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
	size_t i;
	uint64_t big, small;

	for (i = 0; i + 1 < sizeof(u) / sizeof(u[0]); i++) {
		if (secs >= u[i].size)
			break;
	}
	big = secs / u[i].size;
	small = i + 1 < sizeof(u) / sizeof(u[0])
	    ? secs % u[i].size / u[i + 1].size
	    : 0;
	if (small == 0)
		snprintf(out, UI_DUR_LEN, "%" PRIu64 "%s", big, u[i].name);
	else
		snprintf(out, UI_DUR_LEN, "%" PRIu64 "%s %" PRIu64 "%s", big,
		    u[i].name, small, u[i + 1].name);
}

void
ui_query_escape(struct tpl_buf *b, const char *v)
{
	static const char digits[] = "0123456789ABCDEF";
	char e[4];

	for (; v != NULL && *v != '\0'; v++) {
		unsigned char ch = (unsigned char)*v;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL) {
			e[0] = (char)ch;
			e[1] = '\0';
		} else {
			e[0] = '%';
			e[1] = digits[ch >> 4];
			e[2] = digits[ch & 15];
			e[3] = '\0';
		}
		tpl_raw(b, e);
	}
}

/* ---- forms ---- */

int
ui_post_check(struct ui_ctx *c, int need_csrf)
{
	const uint8_t *body;
	const char *why = NULL;
	size_t len;

	if (!ui_same_origin(http_req_header(c->req, "Origin"),
		http_req_header(c->req, "Referer"),
		http_req_header(c->req, "Host"), http_req_tls(c->req))) {
		ui_message(c, 403, "Refused",
		    "This form was not sent from this server's own pages "
		    "(its Origin or Referer names another origin, or neither "
		    "was sent): nothing was done.",
		    "/ui/");
		return ERR_UI_ORIGIN;
	}
	body = http_req_body(c->req, &len);
	if (ui_form_parse(&c->form, body, len, &why) != 0) {
		ui_message(c, 400, "Bad form", why, "/ui/");
		return ERR_BAD_FORMAT;
	}
	if (need_csrf &&
	    (c->u == NULL ||
		!ui_csrf_ok(&c->se, ui_form_get(&c->form, "csrf")))) {
		ui_message(c, 403, "Refused",
		    "This form lacks the CSRF token of your session (it may "
		    "be from an older page, or from another site): nothing "
		    "was done. Reload the page and try again.",
		    "/ui/");
		return ERR_UI_CSRF;
	}
	return 0;
}

/* ---- sign-in and sign-out ---- */

int
ui_next_ok(const char *next)
{
	return next != NULL && strncmp(next, "/ui/", 4) == 0 &&
	    strlen(next) < 256 && tpl_url_safe(next) &&
	    strstr(next, "//") == NULL;
}

static const char oidc_tpl[] =
    "<section class=\"card\" aria-labelledby=\"idp\">"
    "<h2 id=\"idp\">Sign in with your identity provider</h2>"
    "<p><a class=\"button\" id=\"oidc\" href=\"{{url:href}}\">Sign in "
    "at {{text:issuer}}</a></p></section>";

static const char signin_tpl[] =
    "{{html:msg}}{{html:oidc}}"
    "<form class=\"card\" method=\"post\" action=\"/ui/session\">"
    "<h2>Sign in with a token</h2>"
    "<p class=\"muted\">Your jitca API token (the one <code>jitca</code> "
    "uses; <code>jitcad user add</code> prints it).</p>"
    "<input type=\"hidden\" name=\"next\" value=\"{{attr:next}}\">"
    "<label for=\"token\">API token</label>"
    "<input type=\"password\" id=\"token\" name=\"token\" "
    "autocomplete=\"off\" required>"
    "<button type=\"submit\">Sign in</button></form>";

void
ui_signin_page(struct ui_ctx *c, int status, const char *msg, const char *next)
{
	struct tpl_buf b, m, o, href;

	tpl_init(&b);
	tpl_init(&m);
	tpl_init(&o);
	tpl_init(&href);
	if (msg != NULL)
		UI_RENDER(&m,
		    "<p class=\"msg error\" role=\"alert\">{{text:msg}}</p>",
		    UI_S("msg", msg));
	if (!ui_next_ok(next))
		next = "/ui/";
	api_cfg_lock(c->a);
	if (c->a->cfg->oidc != NULL) {
		tpl_raw(&href, "/ui/oidc/start?next=");
		ui_query_escape(&href, next);
		UI_RENDER(&o, oidc_tpl, UI_S("href", tpl_str(&href)),
		    UI_S("issuer", c->a->cfg->oidc->issuer));
	}
	api_cfg_unlock(c->a);
	UI_RENDER(&b, signin_tpl, UI_F("msg", &m), UI_F("oidc", &o),
	    UI_S("next", next));
	ui_send(c, status, "Sign in", &b);
	tpl_free(&b);
	tpl_free(&m);
	tpl_free(&o);
	tpl_free(&href);
}

void
ui_set_cookie(struct ui_ctx *c, const char *value, unsigned max_age)
{
	char h[256];

	snprintf(h, sizeof(h),
	    UI_COOKIE "=%s; Path=/ui; Max-Age=%u; HttpOnly; "
		      "SameSite=Strict%s",
	    value, max_age, http_req_tls(c->req) ? "; Secure" : "");
	http_reply_header(c->req, "Set-Cookie", h);
}

void
ui_h_session(void *app, struct http_req *req)
{
	struct ui_ctx c;
	struct user *u = NULL;
	const char *tok, *next;
	char id[UI_SESSION_ID_LEN + 1];
	uint64_t now = ledger_now();
	int r;

	(void)ui_ctx_begin(&c, app, req);
	if (ui_post_check(&c, 0) != 0)
		goto out;
	tok = ui_form_get(&c.form, "token");
	next = ui_form_get(&c.form, "next");
	if (tok == NULL || tok[0] == '\0') {
		ui_signin_page(&c, 400, "Give your API token.", next);
		goto out;
	}
	api_read_lock(c.a);
	r = user_authenticate(c.a->ledger, tok, &u);
	api_read_unlock(c.a);
	if (r == ERR_BAD_TOKEN || r == ERR_USER_DISABLED) {
		if (http_req_auth_failed(req)) {
			ui_message(&c, 429, "Too many attempts",
			    "Too many failed sign-ins from your address: "
			    "wait a minute.",
			    "/ui/");
			goto out;
		}
		ui_signin_page(&c, 401,
		    r == ERR_BAD_TOKEN ? "That token is unknown or malformed."
				       : "That token's user is disabled.",
		    next);
		goto out;
	}
	if (r != 0) {
		ui_error(&c, r, "sign-in", "/ui/");
		goto out;
	}
	if ((r = ui_session_open(c.a->ui, u->name, u->session, u->auth_time,
		 now + UI_SESSION_MAX_TTL, now, id)) != 0) {
		ui_error(&c, r, "sign-in", "/ui/");
		goto out;
	}
	http_req_set_user(req, u->name);
	ui_redirect(&c, ui_next_ok(next) ? next : "/ui/");
	ui_set_cookie(&c, id, UI_SESSION_MAX_TTL);
out:
	user_free(u);
	ui_ctx_end(&c);
}

void
ui_h_signout(void *app, struct http_req *req)
{
	struct ui_ctx c;

	(void)ui_ctx_begin(&c, app, req);
	if (c.u == NULL) {
		ui_redirect(&c, "/ui/");
		goto out;
	}
	if (ui_post_check(&c, 1) != 0)
		goto out;
	ui_session_close(c.a->ui, c.sid);
	ui_redirect(&c, "/ui/");
	ui_set_cookie(&c, "", 0);
out:
	ui_ctx_end(&c);
}

void
ui_h_root_redirect(void *app, struct http_req *req)
{
	struct ui_ctx c;

	memset(&c, 0, sizeof(c));
	c.a = app;
	c.req = req;
	ui_redirect(&c, "/ui/");
}

/* ---- static files ---- */

void
ui_h_static(void *app, struct http_req *req)
{
	const char *name = http_req_param(req), *inm;
	const struct ui_static *f;

	(void)app;
	for (f = ui_static_files; f->name != NULL; f++) {
		if (name != NULL && strcmp(f->name, name) == 0)
			break;
	}
	if (f->name == NULL) {
		http_reply(req, 404, "text/plain; charset=utf-8",
		    "no such file\n", 13);
		return;
	}
	inm = http_req_header(req, "If-None-Match");
	if (inm != NULL && strcmp(inm, f->etag) == 0)
		http_reply(req, 304, f->type, "", 0);
	else
		http_reply(req, 200, f->type, f->data, f->len);
	http_reply_header(req, "ETag", f->etag);
	http_reply_header(
	    req, "Cache-Control", "public, max-age=31536000, immutable");
	http_reply_header(req, "Content-Security-Policy", UI_CSP);
}
