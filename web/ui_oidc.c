/*
 * ui_oidc.c: signing in to the pages at the configured identity
 * provider (web/ui.h, docs/ui.md): the authorization code flow with PKCE
 * (RFC 6749 section 4.1, RFC 7636) and a nonce, the callback under
 * /ui/oidc/callback, the ID token verified by web/oidc.h and the sign-in
 * itself by api_oidc_sign_in(), exactly as POST /v1/session does.
 *
 *   GET /ui/oidc/start?next=PATH[&fresh=1]   303 to the provider
 *   GET /ui/oidc/callback?state=&code=       the page session, then next
 *
 * fresh=1 asks the provider for a new authentication (prompt=login,
 * max_age=0): the re-sign-in an approval needs once auth_time is older
 * than oidc.approver_max_auth_age.  The callback answers with a small
 * page that moves on to next by itself (meta refresh): a redirect would
 * still count as the provider's cross-site navigation, and the
 * SameSite=Strict cookie would not go with it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "ca/ledger.h"
#include "signer/base/fileio.h"
#include "signer/wire.h"
#include "web/oidc.h"
#include "web/ui.h"
#include "web/ui_page.h"

/* The query string of an authorization request for l and state. */
static void
authz_query(struct tpl_buf *q, const struct config_oidc *o,
    const struct ui_login *l, const char *state, const char *challenge,
    int fresh)
{
	size_t i;

	tpl_raw(q, "?response_type=code&client_id=");
	ui_query_escape(q, o->client_id);
	tpl_raw(q, "&redirect_uri=");
	ui_query_escape(q, l->redirect);
	tpl_raw(q, "&scope=");
	for (i = 0; i < o->nscopes; i++) {
		if (i > 0)
			tpl_raw(q, "%20");
		ui_query_escape(q, o->scopes[i]);
	}
	tpl_raw(q, "&state=");
	tpl_raw(q, state);
	tpl_raw(q, "&nonce=");
	tpl_raw(q, l->nonce);
	tpl_raw(q, "&code_challenge=");
	tpl_raw(q, challenge);
	tpl_raw(q, "&code_challenge_method=S256");
	if (fresh)
		tpl_raw(q, "&prompt=login&max_age=0");
}

void
ui_h_oidc_start(void *app, struct http_req *req)
{
	struct ui_ctx c;
	struct ui_login l;
	struct tpl_buf loc;
	const char *next = http_req_query(req, "next");
	const char *fresh = http_req_query(req, "fresh");
	char state[UI_SESSION_ID_LEN + 1], errbuf[OIDC_ERR_LEN];
	char origin[UI_ORIGIN_MAX], redirect[UI_ORIGIN_MAX + 32];
	uint8_t sum[SHA256_DIGEST_LENGTH];
	char *authz = NULL, *challenge = NULL;
	int r;

	(void)ui_ctx_begin(&c, app, req);
	tpl_init(&loc);
	if (!ui_own_origin(http_req_header(req, "Host"), http_req_tls(req),
		origin, sizeof(origin))) {
		ui_message(&c, 400, "Bad request",
		    "The Host header is missing "
		    "or not a host name.",
		    "/ui/");
		goto out;
	}
	snprintf(redirect, sizeof(redirect), "%s/ui/oidc/callback", origin);
	api_cfg_lock(c.a);
	if (c.a->cfg->oidc == NULL || c.a->oidc == NULL) {
		api_cfg_unlock(c.a);
		ui_message(&c, 404, "Not configured",
		    "This server has no identity provider: sign in with a "
		    "token.",
		    "/ui/");
		goto out;
	}
	errbuf[0] = '\0';
	r = oidc_authorization_endpoint(c.a->oidc, &authz, errbuf);
	if (r == 0)
		r = ui_login_begin(c.a->ui, ui_next_ok(next) ? next : "/ui/",
		    redirect, ledger_now(), state, &l);
	if (r == 0) {
		SHA256((const uint8_t *)l.verifier, strlen(l.verifier), sum);
		r = wire_b64_encode_nopad(&challenge, sum, sizeof(sum), 1);
	}
	if (r == 0) {
		tpl_raw(&loc, authz);
		authz_query(&loc, c.a->cfg->oidc, &l, state, challenge,
		    fresh != NULL && strcmp(fresh, "1") == 0);
	}
	api_cfg_unlock(c.a);
	if (r != 0 || loc.err != 0) {
		char msg[OIDC_ERR_LEN + 64];

		snprintf(msg, sizeof(msg),
		    "The identity provider cannot be reached: %s%s%s.",
		    err_str(r != 0 ? r : loc.err),
		    errbuf[0] != '\0' ? ": " : "", errbuf);
		ui_message(&c, 503, "Sign-in unavailable", msg, "/ui/");
		goto out;
	}
	ui_redirect(&c, tpl_str(&loc));
out:
	OPENSSL_cleanse(&l, sizeof(l));
	free(authz);
	free(challenge);
	tpl_free(&loc);
	ui_ctx_end(&c);
}

/* The configured client secret (new), or NULL for a public client. */
static char *
client_secret(const struct config_oidc *o)
{
	char *s = NULL;
	size_t len;

	if (o->client_secret_file == NULL ||
	    fileio_read_small(o->client_secret_file, 4096, &s, &len) != 0)
		return NULL;
	s[strcspn(s, "\r\n")] = '\0';
	return s;
}

/*
 * Code -> ID token -> verified identity -> sign-in, all under the
 * configuration lock as POST /v1/session.  0 with *res filled, else a
 * page already sent.
 */
static int
callback_sign_in(struct ui_ctx *c, const struct ui_login *l, const char *code,
    struct api_sign_in *res)
{
	struct oidc_identity *id = NULL;
	char errbuf[sizeof(res->msg)], msg[sizeof(res->msg) + 96];
	char *secret = NULL;
	char *idt = NULL;
	int r, status = 401;

	memset(res, 0, sizeof(*res));
	errbuf[0] = '\0';
	api_cfg_lock(c->a);
	if (c->a->cfg->oidc == NULL || c->a->oidc == NULL)
		r = ERR_OIDC_NOT_CONFIGURED;
	else {
		secret = client_secret(c->a->cfg->oidc);
		r = oidc_code_exchange(c->a->oidc, code, l->redirect,
		    l->verifier, secret, &idt, errbuf);
	}
	if (r == 0)
		r = oidc_verify(
		    c->a->oidc, idt, strlen(idt), l->nonce, &id, errbuf);
	if (r == 0) {
		errbuf[0] = '\0';
		r = api_oidc_sign_in(c->a, id, res);
		status = res->status != 0 ? res->status : 500;
		if (res->status != 0)
			memcpy(errbuf, res->msg, sizeof(errbuf));
	}
	api_cfg_unlock(c->a);
	api_write_noted(c->a, r);
	if (r != 0) {
		if (status == 401 && http_req_auth_failed(c->req))
			status = 429;
		snprintf(msg, sizeof(msg), "Signing in failed: %s%s%s.",
		    err_str(r), errbuf[0] != '\0' ? ": " : "", errbuf);
		ui_message(c, status, "Sign-in failed", msg, "/ui/");
	}
	if (secret != NULL)
		OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	free(idt);
	oidc_identity_free(id);
	return r;
}

static const char onward_tpl[] =
    "<p class=\"msg ok\" role=\"status\">Signed in as {{text:user}}.</p>"
    "<p><a id=\"onward\" href=\"{{url:next}}\">Continue</a></p>";

void
ui_h_oidc_callback(void *app, struct http_req *req)
{
	struct ui_ctx c;
	struct ui_login l;
	struct api_sign_in res;
	struct tpl_buf b;
	const char *code = http_req_query(req, "code");
	const char *err = http_req_query(req, "error");
	char sid[UI_SESSION_ID_LEN + 1], msg[320], refresh[300];
	uint64_t now = ledger_now();
	int r;

	(void)ui_ctx_begin(&c, app, req);
	memset(&res, 0, sizeof(res));
	tpl_init(&b);
	if (ui_login_take(c.a->ui, http_req_query(req, "state"), now, &l) !=
	    0) {
		ui_message(&c, 400, "Sign-in expired",
		    "This sign-in is unknown, was used already or is older "
		    "than ten minutes: start again.",
		    "/ui/");
		goto out;
	}
	if (err != NULL || code == NULL) {
		snprintf(msg, sizeof(msg),
		    "The identity provider did not sign you in (%s).",
		    err != NULL ? err : "no code");
		ui_message(&c, 401, "Sign-in failed", msg, "/ui/");
		goto out;
	}
	if (callback_sign_in(&c, &l, code, &res) != 0)
		goto out;
	if ((r = ui_session_open(c.a->ui, res.user, 1, res.auth_time, res.exp,
		 now, sid)) != 0) {
		ui_error(&c, r, "sign-in", "/ui/");
		goto out;
	}
	http_req_set_user(req, res.user);
	UI_RENDER(&b, onward_tpl, UI_S("user", res.user), UI_S("next", l.next));
	ui_send(&c, 200, "Signed in", &b);
	snprintf(refresh, sizeof(refresh), "0;url=%s", l.next);
	http_reply_header(req, "Refresh", refresh);
	ui_set_cookie(&c, sid, UI_SESSION_MAX_TTL);
out:
	user_token_free(res.session);
	OPENSSL_cleanse(&l, sizeof(l));
	tpl_free(&b);
	ui_ctx_end(&c);
}
