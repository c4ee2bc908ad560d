/*
 * ui_page.h: what the page files of web/ui.h share (web/ui.c has it):
 * the request's context (who is signed in, through which session), the
 * page layout with its security headers, the checks every form passes,
 * and small formatters.  Internal to web/ui*.c.
 */
#ifndef JITCA_UI_PAGE_H
#define JITCA_UI_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"
#include "ca/users.h"
#include "web/api.h"
#include "web/http.h"
#include "web/template.h"
#include "web/ui_form.h"
#include "web/ui_session.h"

#define UI_TIME_LEN 32 /* "2026-12-01T20:15:00Z" */
#define UI_DUR_LEN 32

/* One page request. */
struct ui_ctx {
	struct api *a;
	struct http_req *req;
	struct user *u; /* NULL: not signed in */
	struct ca_actor act; /* u as the domain's actor, when u is set */
	struct ui_session se; /* valid when u is set */
	char sid[UI_SESSION_ID_LEN + 1];
	struct ui_form form; /* POST bodies (ui_post_check) */
};

/* Fill c; 1 when a live session names an enabled user, else 0. */
int ui_ctx_begin(struct ui_ctx *c, struct api *a, struct http_req *req);
void ui_ctx_end(struct ui_ctx *c);
/* 1 if the signed-in user is an auditor. */
int ui_is_auditor(struct ui_ctx *c);

/* Append tpl with vars (errors stick in b->err; ui_send reports them). */
#define UI_RENDER(b, tpl, ...)                                                 \
	ui_render((b), (tpl), (const struct tpl_var[]){__VA_ARGS__},           \
	    sizeof((const struct tpl_var[]){__VA_ARGS__}) /                    \
		sizeof(struct tpl_var))
#define UI_S(n, v)                                                             \
	{                                                                      \
		(n), (v), NULL                                                 \
	}
#define UI_F(n, f)                                                             \
	{                                                                      \
		(n), NULL, (f)                                                 \
	}
void ui_render(
    struct tpl_buf *b, const char *tpl, const struct tpl_var *v, size_t n);

/* Send a whole page: the layout around body, with the headers. */
void ui_send(
    struct ui_ctx *c, int status, const char *title, struct tpl_buf *body);
/* A page holding one message (class "error" or "ok") and a link back. */
void ui_message(struct ui_ctx *c, int status, const char *title,
    const char *msg, const char *back);
/* The same with another link. */
void ui_message_link(struct ui_ctx *c, int status, const char *title,
    const char *msg, const char *href, const char *label);
/* The sign-in page (status 200 or 401), returning to next afterwards. */
void ui_signin_page(
    struct ui_ctx *c, int status, const char *msg, const char *next);
/* 303 to location (a path of ours). */
void ui_redirect(struct ui_ctx *c, const char *location);

/*
 * A POST's checks: same origin, a well-formed form (into c->form) and,
 * when signed in, the session's CSRF token.  0, or a page already sent
 * and ERR_UI_ORIGIN (403), ERR_BAD_FORMAT (400) or ERR_UI_CSRF (403).
 */
int ui_post_check(struct ui_ctx *c, int need_csrf);
/* The message of a domain error for a page ("request 7: ..."). */
void ui_error(struct ui_ctx *c, int err, const char *what, const char *back);

/* 1 if next may be where a sign-in returns: one of our page paths. */
int ui_next_ok(const char *next);
/* Set the session cookie (value "" and max_age 0 clear it). */
void ui_set_cookie(struct ui_ctx *c, const char *value, unsigned max_age);
/* Append v percent-encoded for a query string (A-Z a-z 0-9 - . _ ~ as
 * they are). */
void ui_query_escape(struct tpl_buf *b, const char *v);

/* "2026-12-01T20:15:00Z" (UTC); "" for 0. */
void ui_time(char out[UI_TIME_LEN], int64_t t);
/* Roughly, in two units at most: "1h 30m", "2d 3h", "30m", "45s". */
void ui_dur(char out[UI_DUR_LEN], uint64_t secs);

#endif /* JITCA_UI_PAGE_H */
