/*
 * ui.h: the web pages for approvers and security reviewers under /ui/
 * (docs/ui.md), server-rendered with web/template.h, no scripts:
 *
 *   GET  /ui/                        sign-in page, or the pending requests
 *   POST /ui/session                 sign in with a user's API token
 *   POST /ui/signout                 end the page session
 *   GET  /ui/requests/{id}           one request: what will be signed,
 *                                    approve (optionally shorter) / deny
 *   POST /ui/requests/{id}/approve   {csrf, expect, ttl?, comment?}
 *   POST /ui/requests/{id}/deny      {csrf, comment?}
 *   POST /ui/requests/{id}/revoke    {csrf, reason} (auditors)
 *   GET  /ui/ledger                  events with filters, paging, verify
 *   GET  /ui/report                  the access review (ca/report.h)
 *   GET  /ui/static/{name}           the embedded CSS (web/ui_static.h)
 *   GET  /ui/oidc/start, /callback   sign in at the identity provider
 *                                    (web/ui_oidc.c)
 *
 * Every page answers with Content-Security-Policy "default-src 'self';
 * script-src 'self'; frame-ancestors 'none'", X-Content-Type-Options
 * nosniff, Referrer-Policy same-origin and Cache-Control no-store.  A
 * POST must come from this server's own origin (ui_form.h) and, once
 * signed in, carry the session's CSRF token; the session cookie is
 * HttpOnly, SameSite=Strict, and Secure under TLS.  Approving and
 * denying call the same domain functions as the JSON API (ca/request.h)
 * with the same rules: the approver's own request is refused, the
 * `expect` digest of what the page showed must still hold, and a session
 * from the identity provider must be fresh (oidc.approver_max_auth_age).
 *
 * The handlers are routes of web/api.c's table; app is its struct api.
 */
#ifndef JITCA_UI_H
#define JITCA_UI_H

#include "signer/err.h"
#include "web/http.h"

/* Set up and free the verify cache of GET /ui/ledger (web/api.h). */
struct ui_verify;
MUST_CHECK int ui_verify_init(struct ui_verify *v);
void ui_verify_free(struct ui_verify *v);

void ui_h_root_redirect(void *app, struct http_req *req);
void ui_h_home(void *app, struct http_req *req);
void ui_h_session(void *app, struct http_req *req);
void ui_h_signout(void *app, struct http_req *req);
void ui_h_static(void *app, struct http_req *req);
void ui_h_request(void *app, struct http_req *req);
void ui_h_approve(void *app, struct http_req *req);
void ui_h_deny(void *app, struct http_req *req);
void ui_h_revoke(void *app, struct http_req *req);
void ui_h_ledger(void *app, struct http_req *req);
void ui_h_report(void *app, struct http_req *req);
void ui_h_oidc_start(void *app, struct http_req *req);
void ui_h_oidc_callback(void *app, struct http_req *req);

#endif /* JITCA_UI_H */
