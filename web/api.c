/*
 * api.c: the HTTP API's endpoints (see api.h and docs/design.md
 * "Interfaces"): token authentication with failed-attempt throttling,
 * strict JSON bodies, the error-code -> status table, the cached KRL
 * with its ETag, and Prometheus metrics.
 *
 * Decisions (also in docs/http-api.md):
 * - GET /metrics and GET /v1/ledger need a token of an auditor (a member
 *   of config "auditors"): both describe everyone's activity.
 * - "ttl" in POST /v1/requests is a duration string ("30m") or a number
 *   of seconds; absent means the role's default_ttl.
 * - A request id that is not a positive decimal number is 404, like an
 *   id that does not exist.
 * - Writers run concurrently and share COMMITs (the ledger's group
 *   commit); readers run between transactions (see "locking" below).
 *
 * Works with web/http.h (the HTTP layer), ca/users.h, ca/request.h,
 * ca/revoke.h, ca/ledger.h, ca/config.h, signer/signer.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ca/checkpoint.h"
#include "ca/config.h"
#include "ca/report.h"
#include "ca/request.h"
#include "ca/revoke.h"
#include "ca/sessions.h"
#include "ca/text.h"
#include "ca/users.h"
#include "ca/hosts.h"
#include "signer/base/fileio.h"
#include "signer/names.h"
#include "signer/pubkey.h"
#include "signer/signer.h"
#include "signer/wire.h"
#include "web/api.h"
#include "web/encode.h"
#include "web/notify.h"
#include "web/reportjson.h"
#include "web/ui.h"
#include "web/ui_session.h"

static const double latency_bounds[API_LATENCY_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

/* ---- the error table ---- */

struct err_map {
	int err;
	int status;
	const char *code;
};

static const struct err_map err_table[] = {
    {ERR_NOT_FOUND, 404, "not_found"},
    {ERR_FORBIDDEN, 403, "forbidden"},
    {ERR_SELF_APPROVAL, 403, "self_approval"},
    {ERR_USER_DISABLED, 403, "user_disabled"},
    {ERR_WRONG_STATE, 409, "wrong_state"},
    {ERR_EXPIRED, 409, "expired"},
    {ERR_ALREADY_APPROVED, 409, "already_approved"},
    {ERR_DIGEST_MISMATCH, 409, "digest_mismatch"},
    {ERR_TTL_NOT_SHORTER, 400, "ttl_not_shorter"},
    {ERR_BREAK_GLASS, 403, "break_glass_not_allowed"},
    {ERR_EXISTS, 409, "exists"},
    {ERR_BAD_TOKEN, 401, "bad_token"},
    {ERR_POLICY, 400, "policy"},
    {ERR_TTL_TOO_LONG, 400, "ttl_too_long"},
    {ERR_PRINCIPAL_NOT_ALLOWED, 400, "principal_not_allowed"},
    {ERR_CERT_BAD_PRINCIPAL, 400, "bad_principal"},
    {ERR_CERT_TOO_MANY_PRINCIPALS, 400, "bad_principal"},
    {ERR_CERT_NO_PRINCIPALS, 400, "bad_principal"},
    {ERR_INVALID_ARG, 400, "invalid_argument"},
    {ERR_BAD_DURATION, 400, "bad_duration"},
    {ERR_BAD_NAME, 400, "bad_name"},
    {ERR_TOO_LARGE, 400, "too_large"},
    {ERR_BUSY, 503, "busy"},
    {ERR_LEDGER_FULL, 503, "ledger_unavailable"},
    {ERR_LEDGER_UNWRITABLE, 503, "ledger_unavailable"},
    {ERR_LEDGER_UNREACHABLE, 503, "ledger_unavailable"},
    {ERR_KEY_IS_CA, 400, "bad_public_key"},
    /* Nothing was written: the unit of work rolled back. */
    {ERR_SIGNER_DEAD, 503, "signer_unavailable"},
    /* The CA key's PKCS#11 token is gone; the signer reconnects. */
    {ERR_TOKEN_UNAVAILABLE, 503, "token_unavailable"},
    /* The signer's copy of jitca.json disagrees (a reload between). */
    {ERR_SIGNER_NO_ROLE, 409, "signer_refused"},
    {ERR_SIGNER_KEY_ID, 409, "signer_refused"},
    {ERR_SIGNER_OPTIONS, 409, "signer_refused"},
    /* domain policy */
    {ERR_TEXT_CHAR, 400, "bad_text"},
    {ERR_TEXT_UTF8, 400, "bad_text"},
    {ERR_NAME_IS_PRINCIPAL, 403, "name_is_principal"},
    {ERR_RATE_LIMITED, 429, "rate_limited"},
    /* enrolled hosts (ca/hosts.h) */
    {ERR_HOST_KEY_BOUND, 409, "host_key_mismatch"},
    {ERR_HOST_DISABLED, 401, "bad_token"},
    {ERR_CERT_BAD_HOST_NAME, 400, "bad_principal"},
    {ERR_SIGNER_NO_KEY, 503, "no_host_ca"},
    /* signing in (POST /v1/session): one code per check of the token */
    {ERR_OIDC_MALFORMED, 401, "oidc_malformed"},
    {ERR_OIDC_BAD_ALG, 401, "oidc_bad_alg"},
    {ERR_OIDC_UNKNOWN_KID, 401, "oidc_unknown_kid"},
    {ERR_OIDC_KEY_ROTATED, 401, "oidc_key_rotated"},
    {ERR_OIDC_BAD_SIGNATURE, 401, "oidc_bad_signature"},
    {ERR_OIDC_BAD_ISSUER, 401, "oidc_bad_issuer"},
    {ERR_OIDC_BAD_AUDIENCE, 401, "oidc_bad_audience"},
    {ERR_OIDC_EXPIRED, 401, "oidc_expired"},
    {ERR_OIDC_NOT_YET_VALID, 401, "oidc_not_yet_valid"},
    {ERR_OIDC_STALE, 401, "oidc_stale"},
    {ERR_OIDC_NONCE, 401, "oidc_nonce"},
    {ERR_OIDC_MISSING_CLAIM, 401, "oidc_missing_claim"},
    {ERR_OIDC_BAD_CLAIM, 401, "oidc_bad_claim"},
    {ERR_OIDC_UNREACHABLE, 502, "idp_unavailable"},
    {ERR_OIDC_DISCOVERY, 502, "idp_unavailable"},
    {ERR_OIDC_BAD_JWKS, 502, "idp_unavailable"},
    {ERR_OIDC_INSECURE, 502, "idp_unavailable"},
    {ERR_OIDC_BAD_USERNAME, 403, "bad_username_claim"},
    {ERR_OIDC_NOT_CONFIGURED, 404, "oidc_not_configured"},
    {ERR_REAUTH_REQUIRED, 401, "reauth_required"},
    /* login reports */
    {ERR_LOGIN_HOST, 403, "wrong_host"},
    {ERR_LOGIN_TOO_LONG, 400, "line_too_long"},
    {ERR_LOGIN_CHAR, 400, "bad_character"},
    {ERR_LOGIN_FORMAT, 400, "bad_format"},
    {ERR_LOGIN_ACCOUNT, 400, "bad_account"},
};

int
api_err_status(int err, const char **code)
{
	size_t i;

	for (i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
		if (err_table[i].err == err) {
			*code = err_table[i].code;
			return err_table[i].status;
		}
	}
	/* Public-key and wire-format errors: the caller's key is bad. */
	if ((err <= ERR_BUF_FULL && err >= ERR_BAD_BASE64) ||
	    (err <= ERR_KEY_UNKNOWN_TYPE && err >= ERR_KEY_LINE)) {
		*code = "bad_public_key";
		return 400;
	}
	*code = "internal";
	return 500;
}

static void
reply_err(struct http_req *req, int err, const char *what)
{
	const char *code;
	int status = api_err_status(err, &code);

	if (status == 500)
		http_reply_error(req, 500, code, "%s: internal error (%s)",
		    what, err_str(err));
	else
		http_reply_error(
		    req, status, code, "%s: %s", what, err_str(err));
	if (err == ERR_LEDGER_FULL || err == ERR_LEDGER_UNWRITABLE ||
	    err == ERR_LEDGER_UNREACHABLE)
		http_reply_header(req, "Retry-After", API_LEDGER_RETRY_AFTER);
	else if (status == 503)
		http_reply_header(req, "Retry-After", "1");
}

/*
 * After a call that writes the ledger: remember a storage failure for
 * /v1/health, forget it when a write went through (r == 0).  Other
 * errors (policy, not found) wrote nothing and change nothing.
 */
static void
ledger_note(struct api *a, int r)
{
	if (r == ERR_LEDGER_FULL || r == ERR_LEDGER_UNWRITABLE ||
	    r == ERR_LEDGER_UNREACHABLE)
		atomic_store(&a->ledger_down, r);
	else if (r == 0)
		atomic_store(&a->ledger_down, 0);
}

/* After a call that may sign: remember a token that is gone for
 * /v1/health until a call goes through again. */
static void
token_note(struct api *a, int r)
{
	if (r == ERR_TOKEN_UNAVAILABLE)
		atomic_store(&a->token_down, 1);
	else if (r == 0)
		atomic_store(&a->token_down, 0);
}

void
api_write_noted(struct api *a, int r)
{
	ledger_note(a, r);
	token_note(a, r);
}

/* A refused free-text field: text_check()'s code and message. */
static void
reply_text_err(struct http_req *req, int err, const char *msg)
{
	const char *code;
	int status = api_err_status(err, &code);

	http_reply_error(req, status, code, "%s", msg);
}

/* ---- locking ---- */

/*
 * Writers (request_create/approve/deny, revoke_apply, expiry) run
 * concurrently: the ledger serialises their units of work and lets them
 * share one COMMIT (group commit, ca/ledger.h).  Read-only ledger calls
 * run between transactions (ledger_read_begin), so they never see rows
 * that are not committed.  cfg_lock is held for reading by every handler
 * while it uses the configuration, and for writing by a SIGHUP swap.
 */
static void
cfg_lock(struct api *a)
{
	pthread_rwlock_rdlock(&a->cfg_lock);
}

static void
cfg_unlock(struct api *a)
{
	pthread_rwlock_unlock(&a->cfg_lock);
}

static void
read_lock(struct api *a)
{
	cfg_lock(a);
	ledger_read_begin(a->ledger);
}

static void
read_unlock(struct api *a)
{
	ledger_read_end(a->ledger);
	cfg_unlock(a);
}

void
api_cfg_lock(struct api *a)
{
	cfg_lock(a);
}

void
api_cfg_unlock(struct api *a)
{
	cfg_unlock(a);
}

void
api_read_lock(struct api *a)
{
	read_lock(a);
}

void
api_read_unlock(struct api *a)
{
	read_unlock(a);
}

/* ---- helpers ---- */

double
api_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
latency_observe(struct api *a, double secs)
{
	size_t i;

	for (i = 0; i < API_LATENCY_BUCKETS; i++) {
		if (secs <= latency_bounds[i])
			atomic_fetch_add(&a->lat_bucket[i], 1);
	}
	atomic_fetch_add(&a->lat_count, 1);
	atomic_fetch_add(&a->lat_sum_us, (uint64_t)(secs * 1e6));
}

/* Count an issuance if j is an issued request. */
static void
note_issued(struct api *a, const struct request_view *v, double t0)
{
	if (strcmp(v->state, "issued") == 0) {
		atomic_fetch_add(&a->certs_issued, 1);
		latency_observe(a, api_mono_now() - t0);
	}
}

/* Strict decimal: 1..19 digits, no sign, no leading zero, >= min. */
static int
parse_i64(const char *s, int64_t min, int64_t *out)
{
	char *end = NULL;
	long long v;
	size_t n = strlen(s);

	if (n == 0 || n > 19 || strspn(s, "0123456789") != n ||
	    (n > 1 && s[0] == '0'))
		return ERR_BAD_FORMAT;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end != s + n || v < min)
		return ERR_BAD_FORMAT;
	*out = v;
	return 0;
}

/* The bearer token of req, or NULL after a 401 naming what is missing
 * ("TOKEN", "HOST_TOKEN"). */
static const char *
bearer_or_401(struct http_req *req, const char *what)
{
	const char *tok = http_req_bearer(req);

	if (tok == NULL) {
		http_reply_error(req, 401, "missing_token",
		    "this endpoint needs an \"Authorization: Bearer %s\" "
		    "header",
		    what);
		http_reply_header(req, "WWW-Authenticate", "Bearer");
	}
	return tok;
}

/*
 * The answer to a token check that returned r != 0: an unknown token
 * (ERR_BAD_TOKEN) or one of a disabled account (disabled) is 401
 * bad_token with unknown_msg or disabled_msg, or 429 once its address
 * failed too often (only failures are throttled: a valid token from the
 * same address always gets through, docs/http-api.md); anything else
 * as reply_err().  Returns r.
 */
static int
auth_refused(struct http_req *req, int r, int disabled, const char *unknown_msg,
    const char *disabled_msg)
{
	if (r != ERR_BAD_TOKEN && r != disabled) {
		reply_err(req, r, "authentication");
		return r;
	}
	if (http_req_auth_failed(req))
		return r;
	http_reply_error(req, 401, "bad_token", "%s",
	    r == ERR_BAD_TOKEN ? unknown_msg : disabled_msg);
	http_reply_header(req, "WWW-Authenticate", "Bearer");
	return r;
}

/* The authenticated caller, who must be freed with user_free(). */
static int
authenticate(struct api *a, struct http_req *req, struct user **u)
{
	const char *tok;
	int r;

	*u = NULL;
	if ((tok = bearer_or_401(req, "TOKEN")) == NULL)
		return ERR_BAD_TOKEN;
	read_lock(a);
	r = user_authenticate(a->ledger, tok, u);
	read_unlock(a);
	if (r != 0)
		return auth_refused(req, r, ERR_USER_DISABLED,
		    "the token is unknown or malformed",
		    "the token's user is disabled");
	http_req_set_user(req, (*u)->name);
	return 0;
}

int
api_authenticate_host(struct api *a, struct http_req *req, struct host **h)
{
	const char *tok;
	int r;

	*h = NULL;
	if ((tok = bearer_or_401(req, "HOST_TOKEN")) == NULL)
		return ERR_BAD_TOKEN;
	read_lock(a);
	r = host_authenticate(a->ledger, tok, h);
	read_unlock(a);
	if (r != 0)
		return auth_refused(req, r, ERR_HOST_DISABLED,
		    "the host token is unknown or malformed",
		    "the token's host is disabled");
	http_req_set_user(req, (*h)->name);
	return 0;
}

/*
 * Approving and denying with a session needs a recent sign-in: auth_time
 * within oidc.approver_max_auth_age, else 401 reauth_required (and the
 * client signs in again).  Static tokens are not sessions.
 */
static int
reauth_needed(struct api *a, struct http_req *req, const struct user *u)
{
	uint64_t now = ledger_now(), max = 0;
	int have = 0;

	if (!u->session)
		return 0;
	cfg_lock(a);
	if (a->cfg->oidc != NULL) {
		have = 1;
		max = a->cfg->oidc->approver_max_auth_age;
	}
	cfg_unlock(a);
	if (have && u->auth_time <= now && now - u->auth_time <= max)
		return 0;
	http_reply_error(req, 401, "reauth_required",
	    "approving or denying needs a sign-in within the last %" PRIu64
	    " seconds; yours was %" PRIu64 " seconds ago: sign in again",
	    max, now >= u->auth_time ? now - u->auth_time : 0);
	return ERR_REAUTH_REQUIRED;
}

static void
actor_of(struct ca_actor *act, const struct user *u)
{
	act->name = u->name;
	act->groups = u->groups;
	act->ngroups = u->ngroups;
}

/* The {id} of the route as a request id, or a 404 reply. */
static int
path_id(struct http_req *req, int64_t *id)
{
	const char *p = http_req_param(req);

	if (p == NULL || parse_i64(p, 1, id) != 0) {
		http_reply_error(req, 404, "not_found",
		    "no such request: ids are positive numbers");
		return ERR_NOT_FOUND;
	}
	return 0;
}

static void
reply_json_steal(struct http_req *req, int status, json_t *j)
{
	http_reply_json(req, status, j);
	json_decref(j);
}

/* A request's view as its JSON: written directly when encode.h can,
 * else through encode_request(). */
static void
reply_request(struct http_req *req, int status, const struct request_view *v)
{
	struct jsonw_buf b;

	jsonw_buf_init(&b, HTTP_MAX_REPLY);
	if (encode_request_text(&b, v) == 0) {
		http_reply_json_buf(req, status, &b);
		return;
	}
	jsonw_buf_free(&b);
	reply_json_steal(req, status, encode_request(v));
}

/* ---- endpoints without authentication ---- */

/*
 * The sinks failing for longer than their alert_after, as a new array of
 * {"sink", "failing_since", "error"}, or NULL when none is (or there are
 * no sinks).  A failing sink does not make the CA unhealthy: issuance
 * goes on, and the events wait in the ledger.
 */
static json_t *
notify_alerts(struct api *a)
{
	struct notify *n = atomic_load(&a->notify);
	struct notify_stats st;
	json_t *arr = NULL, *o;
	size_t i;

	for (i = 0; i < notify_sink_count(n); i++) {
		notify_stats_get(n, i, &st);
		if (!st.alerting)
			continue;
		if (arr == NULL && (arr = json_array()) == NULL)
			return NULL;
		o = json_pack("{s:s,s:I,s:s}", "sink", st.name, "failing_since",
		    (json_int_t)st.failing_since, "error", st.last_error);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			break;
	}
	return arr;
}

/*
 * 200 {"status": "ok"} (with "details": {"notify": [...]} while a
 * notification sink has been failing for longer than its alert_after),
 * or 503 {"status": "degraded", "reason": CODE,
 * "message": ...} + Retry-After: "signer_unavailable" while the signer is
 * down (Retry-After: 1), "ledger_unavailable" while the last ledger write
 * failed for want of storage, "token_unavailable" (Retry-After: 1) while
 * the last signature failed because the CA key's token was gone.
 */
static void
h_health(void *app, struct http_req *req)
{
	struct api *a = app;
	char msg[sizeof(a->signer_note) + 64];
	int down = atomic_load(&a->ledger_down);
	json_t *alerts;

	if (!signer_alive(a->signer)) {
		pthread_mutex_lock(&a->health_lock);
		snprintf(msg, sizeof(msg), "%s%s%s%s", err_str(ERR_SIGNER_DEAD),
		    a->signer_note[0] != '\0' ? " (" : "", a->signer_note,
		    a->signer_note[0] != '\0' ? ")" : "");
		pthread_mutex_unlock(&a->health_lock);
		reply_json_steal(req, 503,
		    json_pack("{s:s,s:s,s:s}", "status", "degraded", "reason",
			"signer_unavailable", "message", msg));
		http_reply_header(req, "Retry-After", "1");
		return;
	}
	/* A database server may be gone without a write noticing yet: a
	 * cheap read says so, and says when it is back. */
	if (down == 0 || down == ERR_LEDGER_UNREACHABLE) {
		uint64_t v;
		int pr;

		ledger_read_begin(a->ledger);
		pr = ledger_krl_version(a->ledger, &v);
		ledger_read_end(a->ledger);
		if (pr == ERR_LEDGER_UNREACHABLE)
			down = pr;
		else if (pr == 0 && down != 0) {
			atomic_store(&a->ledger_down, 0);
			down = 0;
		}
	}
	if (down != 0) {
		reply_json_steal(req, 503,
		    json_pack("{s:s,s:s,s:s}", "status", "degraded", "reason",
			"ledger_unavailable", "message", err_str(down)));
		http_reply_header(req, "Retry-After", API_LEDGER_RETRY_AFTER);
		return;
	}
	if (atomic_load(&a->token_down)) {
		reply_json_steal(req, 503,
		    json_pack("{s:s,s:s,s:s}", "status", "degraded", "reason",
			"token_unavailable", "message",
			err_str(ERR_TOKEN_UNAVAILABLE)));
		http_reply_header(req, "Retry-After", "1");
		return;
	}
	if ((alerts = notify_alerts(a)) != NULL) {
		reply_json_steal(req, 200,
		    json_pack("{s:s,s:{s:o}}", "status", "ok", "details",
			"notify", alerts));
		return;
	}
	http_reply(req, 200, "application/json", "{\"status\":\"ok\"}\n", 16);
}

static void
h_ca(void *app, struct http_req *req)
{
	struct api *a = app;
	json_t *j;

	j = json_pack(
	    "{s:s,s:s}", "public_key", a->ca_line, "key_type", a->ca_key_type);
	if (j != NULL && a->host_line != NULL) {
		json_t *d = json_array();
		size_t i;

		cfg_lock(a);
		for (i = 0; d != NULL && i < a->cfg->nhost_domains; i++)
			if (json_array_append_new(
				d, json_string(a->cfg->host_domains[i])) != 0) {
				json_decref(d);
				d = NULL;
			}
		cfg_unlock(a);
		if (d == NULL ||
		    json_object_set_new(
			j, "host_public_key", json_string(a->host_line)) != 0 ||
		    json_object_set_new(j, "host_domains", d) != 0) {
			json_decref(j);
			j = NULL;
		}
	}
	if (j == NULL) {
		reply_err(req, ERR_ALLOC, "CA key");
		return;
	}
	reply_json_steal(req, 200, j);
}

/*
 * GET /v1/auth, no token: how clients sign in.  {"methods": ["token"]}
 * without an identity provider; with one also "oidc" and {"oidc":
 * {"issuer", "client_id", "scopes", "client_secret"?}}.  The client
 * secret is only for providers that give native apps one that is not
 * secret (Google's desktop clients; docs/oidc.md).
 */
static void
h_auth(void *app, struct http_req *req)
{
	struct api *a = app;
	const struct config_oidc *o;
	json_t *j = NULL, *scopes, *oj;
	char *secret = NULL;
	size_t i, len;
	int r = ERR_ALLOC;

	cfg_lock(a);
	o = a->cfg->oidc;
	if (o == NULL) {
		j = json_pack("{s:[s]}", "methods", "token");
		goto out;
	}
	if (o->client_secret_file != NULL &&
	    (r = fileio_read_small(
		 o->client_secret_file, 4096, &secret, &len)) != 0)
		goto out;
	if (secret != NULL)
		secret[strcspn(secret, "\r\n")] = '\0';
	if ((scopes = json_array()) == NULL)
		goto out;
	for (i = 0; i < o->nscopes; i++)
		json_array_append_new(scopes, json_string(o->scopes[i]));
	if ((oj = json_pack("{s:s,s:s,s:o}", "issuer", o->issuer, "client_id",
		 o->client_id, "scopes", scopes)) == NULL)
		goto out;
	if (secret != NULL)
		json_object_set_new(oj, "client_secret", json_string(secret));
	j = json_pack("{s:[s,s],s:o}", "methods", "token", "oidc", "oidc", oj);
out:
	cfg_unlock(a);
	if (secret != NULL)
		OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	if (j == NULL) {
		reply_err(req, r, "sign-in methods");
		return;
	}
	reply_json_steal(req, 200, j);
}

int
api_oidc_sign_in(
    struct api *a, const struct oidc_identity *id, struct api_sign_in *res)
{
	const struct config_oidc *o = a->cfg->oidc;
	struct user_sign_in in;
	char nmsg[256];
	uint64_t now;
	int r;

	memset(res, 0, sizeof(*res));
	if (!name_principal_valid(id->username)) {
		res->status = 403;
		res->code = "bad_username_claim";
		snprintf(res->msg, sizeof(res->msg),
		    "the %s claim is not a valid jitca user name (allowed: "
		    "A-Z a-z 0-9 _ . @ -, not starting with . @ -, at most "
		    "64 characters): ask the jitcad admin to set "
		    "oidc.username_claim to a claim that is",
		    o->username_claim);
		return ERR_OIDC_BAD_USERNAME;
	}
	if (config_user_name_check(a->cfg, id->username, nmsg, sizeof(nmsg)) !=
	    0) {
		res->status = 403;
		res->code = "name_is_principal";
		snprintf(res->msg, sizeof(res->msg),
		    "the %s claim may not be a user name here: %s",
		    o->username_claim, nmsg);
		return ERR_NAME_IS_PRINCIPAL;
	}
	now = ledger_now();
	res->exp = (uint64_t)id->exp;
	if (res->exp > now + o->session_max_ttl)
		res->exp = now + o->session_max_ttl;
	memset(&in, 0, sizeof(in));
	in.name = id->username;
	in.groups = id->groups;
	in.ngroups = id->ngroups;
	in.expires = res->exp;
	in.auth_time = (uint64_t)(id->auth_time > 0 ? id->auth_time : id->iat);
	in.issuer = o->issuer;
	in.subject = id->subject;
	res->auth_time = in.auth_time;
	snprintf(res->user, sizeof(res->user), "%s", id->username);
	r = user_sign_in(a->ledger, a->cfg, &in, &res->session, &res->created);
	if (r == ERR_INVALID_ARG) {
		res->status = 403;
		res->code = "no_groups";
		snprintf(res->msg, sizeof(res->msg),
		    "the %s claim names no group jitca can use: ask the "
		    "identity provider's admin to send it",
		    o->groups_claim);
	} else if (r == ERR_OIDC_SUBJECT) {
		res->status = 403;
		res->code = "identity_mismatch";
		snprintf(res->msg, sizeof(res->msg),
		    "the %s claim names a jitca user who signed in before as "
		    "another person at the identity provider (another sub); "
		    "ask the jitcad admin",
		    o->username_claim);
	}
	return r;
}

/*
 * POST /v1/session {id_token, nonce?}, no bearer token: an ID token of
 * the configured provider for a session token.  Nothing of the token is
 * used before oidc_verify() accepts it; then the user name and groups
 * come from its claims (ca/users.h user_sign_in()).  The session ends at
 * the ID token's exp or after oidc.session_max_ttl, whichever is first.
 * A refused token counts as a failed authentication (throttled).
 */
static void
h_session(void *app, struct http_req *req)
{
	struct api *a = app;
	const struct config_oidc *o;
	struct oidc_identity *id = NULL;
	struct api_sign_in res;
	const char *tok = NULL, *nonce = NULL, *code;
	char errbuf[OIDC_ERR_LEN], *session = NULL;
	json_t *j = NULL, *g;
	uint64_t exp;
	size_t i;
	int r, created = 0, locked = 0;
	const struct http_jfield f[] = {
	    {"id_token", HTTP_J_STRING, 1, OIDC_MAX_TOKEN, &tok, NULL, NULL,
		NULL},
	    {"nonce", HTTP_J_STRING, 0, 256, &nonce, NULL, NULL, NULL},
	};

	if (http_req_json(req, f, 2, 0) != 0)
		return;
	cfg_lock(a);
	locked = 1;
	o = a->cfg->oidc;
	if (o == NULL || a->oidc == NULL) {
		http_reply_error(req, 404, "oidc_not_configured",
		    "this server has no identity provider (config \"oidc\"); "
		    "use a token");
		goto out;
	}
	errbuf[0] = '\0';
	if ((r = oidc_verify(a->oidc, tok, strlen(tok), nonce, &id, errbuf)) !=
	    0) {
		int status = api_err_status(r, &code);

		if (status == 401 && http_req_auth_failed(req))
			goto out;
		http_reply_error(req, status, code, "%s%s%s", err_str(r),
		    errbuf[0] != '\0' ? ": " : "", errbuf);
		goto out;
	}
	/* Verified: its claims may be used now. */
	r = api_oidc_sign_in(a, id, &res);
	cfg_unlock(a);
	locked = 0;
	ledger_note(a, r);
	if (r != 0) {
		if (res.status == 0)
			reply_err(req, r, "sign-in");
		else
			http_reply_error(
			    req, res.status, res.code, "%s", res.msg);
		goto out;
	}
	session = res.session;
	exp = res.exp;
	created = res.created;
	if ((g = json_array()) == NULL ||
	    (j = json_pack("{s:s,s:I,s:s,s:I,s:b,s:o}", "token", session,
		 "expires_at", (json_int_t)exp, "user", id->username,
		 "auth_time", (json_int_t)res.auth_time, "created", created,
		 "groups", g)) == NULL) {
		reply_err(req, ERR_ALLOC, "sign-in");
		goto out;
	}
	for (i = 0; i < id->ngroups; i++)
		json_array_append_new(g, json_string(id->groups[i]));
	http_req_set_user(req, id->username);
	reply_json_steal(req, 200, j);
	j = NULL;
out:
	if (locked)
		cfg_unlock(a);
	json_decref(j);
	user_token_free(session);
	oidc_identity_free(id);
}

/*
 * DELETE /v1/session, the session's own token as the bearer: signing
 * out.  The session's row goes and session.closed {token_id} is written
 * in one unit (ca/users.h user_session_end()); the token is refused from
 * then on like any unknown one.  200 {"user", "token_id"}.  A static
 * token is 400 not_a_session: signing out does not end it (jitcad user
 * token or disable does), and nothing is written.
 */
static void
h_session_end(void *app, struct http_req *req)
{
	struct api *a = app;
	struct user *u = NULL;
	char id[USER_TOKEN_ID_LEN + 1], *name = NULL;
	json_t *j;
	int r;

	if (authenticate(a, req, &u) != 0)
		return;
	if (!u->session) {
		http_reply_error(req, 400, "not_a_session",
		    "this is the static token of user %s, not a session from "
		    "signing in: it cannot be signed out (an admin replaces "
		    "it with jitcad user token or stops it with jitcad user "
		    "disable)",
		    u->name);
		goto out;
	}
	r = user_session_end(a->ledger, http_req_bearer(req), &name, id);
	ledger_note(a, r);
	if (r == ERR_BAD_TOKEN) {
		/* Ended or expired since authenticate(): a concurrent
		 * sign-out won. */
		http_reply_error(
		    req, 401, "bad_token", "the session has already ended");
		http_reply_header(req, "WWW-Authenticate", "Bearer");
		goto out;
	} else if (r != 0) {
		reply_err(req, r, "sign-out");
		goto out;
	}
	if ((j = json_pack("{s:s,s:s}", "user", name, "token_id", id)) ==
	    NULL) {
		reply_err(req, ERR_ALLOC, "sign-out");
		goto out;
	}
	reply_json_steal(req, 200, j);
out:
	free(name);
	user_free(u);
}

/* 1 if an If-None-Match value lists the entity tag etag ("\"HEX\""). */
static int
etag_matches(const char *inm, const char *etag)
{
	const char *p = inm, *e;
	size_t n, el = strlen(etag);

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == el && memcmp(p, etag, n) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e;
	}
	return 0;
}

/* GET /v1/krl and /v1/krl.sig: the same cache. */
static void
krl_reply(struct api *a, struct http_req *req, int want_sig)
{
	int r = ERR_INTERNAL, changed = 0, dirty;
	uint64_t v = 0;
	uint8_t *krl = NULL;
	char *sig = NULL;
	size_t len = 0;
	uint64_t now = ca_now(&a->ca);
	char hex[65];
	const char *inm;

	pthread_mutex_lock(&a->krl_lock);
	/* Our own revocations set krl_dirty after their COMMIT: taken
	 * before the read section, whose snapshot then holds them (on
	 * PostgreSQL the section's snapshot begins at its first read). */
	dirty = atomic_exchange(&a->krl_dirty, 0);
	read_lock(a);
	/* Another process (jitcad revoke) may have committed: data_version
	 * says so cheaply. */
	if ((r = ledger_changed(a->ledger, &changed)) != 0)
		goto out;
	v = a->krl_version;
	if (changed || dirty || a->krl == NULL) {
		if ((r = ledger_krl_version(a->ledger, &v)) != 0)
			goto out;
	}
	/* Rebuilt for a new version, and when the CA clock went back since
	 * the last build (what a clock that ran ahead pruned comes back). */
	if (a->krl == NULL || v != a->krl_version || now < a->krl_built) {
		if ((r = revoke_krl_build(&a->ca, &krl, &len)) != 0)
			goto out;
		/* A strong ETag that names these bytes, the same in every
		 * process that builds them (not the version: after a restart
		 * one version may name other bytes). */
		if ((r = ca_sha256_hex(hex, krl, len)) != 0)
			goto out;
		/* The same bytes signed by the ledger key, for hosts
		 * (krl-sync) to check before they install them. */
		if (signer_public_ledger(a->signer) != NULL &&
		    (r = signer_sign_krl(a->signer, krl, len, &sig, NULL)) != 0)
			goto out;
		free(a->krl_sig);
		a->krl_sig = sig;
		sig = NULL;
		free(a->krl);
		a->krl = krl;
		a->krl_len = len;
		a->krl_version = v;
		a->krl_built = now;
		(void)snprintf(a->krl_etag, sizeof(a->krl_etag), "\"%s\"", hex);
		krl = NULL;
	}
	if (want_sig) {
		if (a->krl_sig == NULL)
			http_reply_error(req, 404, "no_ledger_key",
			    "the signer holds no ledger key: the KRL is "
			    "not signed");
		else
			http_reply(req, 200, "text/plain; charset=utf-8",
			    a->krl_sig, strlen(a->krl_sig));
		http_reply_header(req, "ETag", a->krl_etag);
		http_reply_header(req, "Cache-Control", "no-cache");
		r = 0;
		goto out;
	}
	inm = http_req_header(req, "If-None-Match");
	if (inm != NULL && etag_matches(inm, a->krl_etag))
		http_reply(req, 304, "application/octet-stream", NULL, 0);
	else
		http_reply(
		    req, 200, "application/octet-stream", a->krl, a->krl_len);
	http_reply_header(req, "ETag", a->krl_etag);
	http_reply_header(req, "Cache-Control", "no-cache");
	r = 0;
out:
	read_unlock(a);
	if (r != 0 && dirty) /* not rebuilt: the next reader does */
		atomic_store(&a->krl_dirty, 1);
	pthread_mutex_unlock(&a->krl_lock);
	free(krl);
	free(sig);
	if (r != 0)
		reply_err(req, r, "KRL");
}

static void
h_krl(void *app, struct http_req *req)
{
	krl_reply(app, req, 0);
}

static void
h_krl_sig(void *app, struct http_req *req)
{
	krl_reply(app, req, 1);
}

/* GET /v1/checkpoint and /v1/checkpoint.sig: the latest one. */
static void
checkpoint_reply(struct api *a, struct http_req *req, int want_sig)
{
	struct store_checkpoint cp;
	const char *t;
	int r;

	read_lock(a);
	r = checkpoint_latest(a->ledger, &cp);
	read_unlock(a);
	if (r == ERR_NOT_FOUND) {
		http_reply_error(req, 404, "no_checkpoint",
		    "the ledger has no checkpoint yet");
		return;
	}
	if (r != 0) {
		reply_err(req, r, "checkpoint");
		return;
	}
	t = want_sig ? cp.sig : cp.note;
	http_reply(req, 200, "text/plain; charset=utf-8", t, strlen(t));
	http_reply_header(req, "Cache-Control", "no-cache");
	store_checkpoint_clear(&cp);
}

static void
h_checkpoint(void *app, struct http_req *req)
{
	checkpoint_reply(app, req, 0);
}

static void
h_checkpoint_sig(void *app, struct http_req *req)
{
	checkpoint_reply(app, req, 1);
}

static json_t *
hex_json(const uint8_t h[MERKLE_HASH_LEN])
{
	char hex[2 * MERKLE_HASH_LEN + 1];

	wire_hex_encode(hex, h, MERKLE_HASH_LEN);
	return json_string(hex);
}

/* A list of hashes as hex strings; NULL when out of memory. */
static json_t *
path_json(const uint8_t (*p)[MERKLE_HASH_LEN], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		if (json_array_append_new(a, hex_json(p[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

/* base64 of a hash as a new JSON string. */
static json_t *
b64_json(const uint8_t h[MERKLE_HASH_LEN])
{
	json_t *j;
	char *b = NULL;

	if (wire_b64_encode(&b, h, MERKLE_HASH_LEN) != 0)
		return NULL;
	j = json_string(b);
	free(b);
	return j;
}

json_t *
api_proof_json(const struct checkpoint_proof *pr)
{
	return json_pack("{s:I, s:I, s:o?, s:o?, s:o?}", "tree_size",
	    (json_int_t)pr->tree_size, "leaf_index", (json_int_t)pr->leaf_index,
	    "leaf_hash", hex_json(pr->leaf), "path",
	    path_json((const uint8_t(*)[MERKLE_HASH_LEN])pr->path, pr->pathlen),
	    "root", b64_json(pr->root));
}

static int is_auditor(struct api *a, const struct user *u);

/* GET /v1/ledger/proof?serial=N (auditors): the inclusion proof of the
 * certificate's cert.issued event against the latest checkpoint. */
static void
h_proof(void *app, struct http_req *req)
{
	struct api *a = app;
	struct checkpoint_proof *pr = NULL;
	struct user *u = NULL;
	const char *q;
	int64_t serial = 0;
	int r, nocp = 0;

	if (authenticate(a, req, &u) != 0)
		return;
	if (!is_auditor(a, u)) {
		http_reply_error(req, 403, "forbidden",
		    "the ledger is for the auditor groups only");
		goto out;
	}
	if ((q = http_req_query(req, "serial")) == NULL ||
	    parse_i64(q, 1, &serial) != 0) {
		http_reply_error(req, 400, "bad_query",
		    "query \"serial\" must be a certificate serial >= 1");
		goto out;
	}
	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		reply_err(req, ERR_ALLOC, "proof");
		goto out;
	}
	read_lock(a);
	r = checkpoint_prove_serial(a->ledger, (uint64_t)serial, pr, &nocp);
	read_unlock(a);
	if (r == ERR_NOT_FOUND)
		http_reply_error(req, 404, nocp ? "no_checkpoint" : "not_found",
		    nocp ? "the ledger has no checkpoint yet"
			 : "no certificate with this serial");
	else if (r == ERR_MERKLE_RANGE)
		http_reply_error(req, 409, "not_yet_checkpointed",
		    "the certificate was issued after the latest checkpoint; "
		    "ask again after the next one");
	else if (r != 0)
		reply_err(req, r, "proof");
	else
		reply_json_steal(req, 200, api_proof_json(pr));
out:
	free(pr);
	user_free(u);
}

/* GET /v1/ledger/consistency?from=N&to=M (no auth: hashes only): RFC
 * 9162 consistency proof between two tree sizes, with both roots. */
static void
h_consistency(void *app, struct http_req *req)
{
	struct api *a = app;
	struct checkpoint_consistency *c = NULL;
	const char *qf = http_req_query(req, "from");
	const char *qt = http_req_query(req, "to");
	int64_t from = 0, to = 0;
	int r;

	if (qf == NULL || qt == NULL || parse_i64(qf, 0, &from) != 0 ||
	    parse_i64(qt, 0, &to) != 0 || from > to) {
		http_reply_error(req, 400, "bad_query",
		    "queries \"from\" and \"to\" must be tree sizes, "
		    "from <= to");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		reply_err(req, ERR_ALLOC, "proof");
		return;
	}
	read_lock(a);
	r = checkpoint_consistency(a->ledger, (uint64_t)from, (uint64_t)to, c);
	read_unlock(a);
	if (r == ERR_MERKLE_RANGE)
		http_reply_error(req, 404, "not_found",
		    "the ledger's tree is smaller than that");
	else if (r != 0)
		reply_err(req, r, "proof");
	else
		reply_json_steal(req, 200,
		    json_pack("{s:I, s:I, s:o?, s:o?, s:o?}", "from",
			(json_int_t)from, "to", (json_int_t)to, "from_root",
			b64_json(c->old_root), "to_root", b64_json(c->new_root),
			"path",
			path_json((const uint8_t(*)[MERKLE_HASH_LEN])c->path,
			    c->pathlen)));
	free(c);
}

static int
api_sign_checkpoint(void *ctx, const char *origin, uint64_t size,
    const uint8_t root[32], char **note, char **sig)
{
	return signer_sign_checkpoint(
	    ctx, origin, size, root, note, NULL, sig, NULL);
}

int
api_checkpoint(struct api *a, int force, int *made)
{
	struct checkpoint_signer sg;
	int r;

	if (made != NULL)
		*made = 0;
	if (signer_public_ledger(a->signer) == NULL)
		return ERR_SIGNER_NO_KEY;
	sg.sign = api_sign_checkpoint;
	sg.ctx = a->signer;
	cfg_lock(a);
	r = checkpoint_make(
	    a->ledger, a->origin, &sg, "jitcad", force, made, NULL);
	cfg_unlock(a);
	ledger_note(a, r);
	return r;
}

/* ---- authenticated endpoints ---- */

static void
h_roles(void *app, struct http_req *req)
{
	struct api *a = app;
	struct user *u = NULL;
	struct ca_actor act;
	struct role_views *out = NULL;
	int r;

	if (authenticate(a, req, &u) != 0)
		return;
	actor_of(&act, u);
	cfg_lock(a);
	r = request_roles(&a->ca, &act, &out);
	cfg_unlock(a);
	if (r != 0)
		reply_err(req, r, "roles");
	else
		reply_json_steal(req, 200, encode_roles(out));
	role_views_free(out);
	user_free(u);
}

static void
h_request_create(void *app, struct http_req *req)
{
	struct api *a = app;
	struct user *u = NULL;
	struct ca_actor act;
	const char *role = NULL, *reason = NULL, *pk = NULL, *why = NULL;
	json_t *principals = NULL, *ttlj = NULL, *bgj = NULL;
	struct request_view *out = NULL;
	char **pv = NULL;
	size_t i, np = 0;
	uint64_t ttl = 0, now, retry = 0;
	char tmsg[TEXT_MSG_LEN];
	unsigned rpm;
	double t0;
	int r;
	const struct http_jfield f[] = {
	    {"role", HTTP_J_STRING, 1, 64, &role, NULL, NULL, NULL},
	    {"principals", HTTP_J_STRINGS, 0, CERT_MAX_PRINCIPALS, NULL, NULL,
		&principals, NULL},
	    {"ttl", HTTP_J_ANY, 0, 0, NULL, NULL, &ttlj, NULL},
	    {"reason", HTTP_J_STRING, 1, REQUEST_REASON_MAX, &reason, NULL,
		NULL, NULL},
	    {"public_key", HTTP_J_STRING, 1, 16384, &pk, NULL, NULL, NULL},
	    {"break_glass", HTTP_J_ANY, 0, 0, NULL, NULL, &bgj, NULL},
	};

	if (authenticate(a, req, &u) != 0)
		return;
	/* Every authenticated attempt counts, accepted or not. */
	cfg_lock(a);
	rpm = a->cfg->requests_per_minute;
	now = ca_now(&a->ca);
	cfg_unlock(a);
	if ((r = ratelimit_take(a->create_rl, u->name, rpm, now, &retry)) ==
	    ERR_RATE_LIMITED) {
		char ra[24];

		http_reply_error(req, 429, "rate_limited",
		    "request: at most %u new requests per minute; try again "
		    "in %llus",
		    rpm, (unsigned long long)retry);
		snprintf(ra, sizeof(ra), "%llu", (unsigned long long)retry);
		http_reply_header(req, "Retry-After", ra);
		goto out;
	} else if (r != 0) {
		reply_err(req, r, "request");
		goto out;
	}
	if (http_req_json(req, f, sizeof(f) / sizeof(f[0]), 0) != 0)
		goto out;
	if ((r = text_check("reason", reason, REQUEST_REASON_MAX, 1, tmsg)) !=
	    0) {
		reply_text_err(req, r, tmsg);
		goto out;
	}
	if (ttlj != NULL) {
		if (json_is_string(ttlj)) {
			if (duration_parse_why(
				json_string_value(ttlj), &ttl, &why) != 0) {
				http_reply_error(req, 400, "bad_duration",
				    "field \"ttl\": %s (e.g. \"30m\")",
				    why != NULL ? why : "not a duration");
				goto out;
			}
		} else if (json_is_integer(ttlj) &&
		    json_integer_value(ttlj) > 0 &&
		    (uint64_t)json_integer_value(ttlj) <= DURATION_MAX) {
			ttl = (uint64_t)json_integer_value(ttlj);
		} else {
			http_reply_error(req, 400, "wrong_type",
			    "field \"ttl\" must be a duration like \"30m\" or "
			    "a positive number of seconds");
			goto out;
		}
	}
	if (principals != NULL && (np = json_array_size(principals)) > 0) {
		if ((pv = calloc(np, sizeof(*pv))) == NULL) {
			reply_err(req, ERR_ALLOC, "request");
			goto out;
		}
		for (i = 0; i < np; i++) {
			pv[i] = strdup(
			    json_string_value(json_array_get(principals, i)));
			if (pv[i] == NULL) {
				reply_err(req, ERR_ALLOC, "request");
				goto out;
			}
		}
	} else if (principals != NULL) {
		http_reply_error(req, 400, "bad_principal",
		    "field \"principals\" is empty: leave it out to get all "
		    "of the role's principals");
		goto out;
	}
	if (bgj != NULL && !json_is_boolean(bgj)) {
		http_reply_error(req, 400, "wrong_type",
		    "field \"break_glass\" must be true or false");
		goto out;
	}
	actor_of(&act, u);
	t0 = api_mono_now();
	cfg_lock(a);
	if (json_is_true(bgj))
		r = request_break_glass(
		    &a->ca, &act, role, pv, np, ttl, reason, pk, &out);
	else
		r = request_create(
		    &a->ca, &act, role, pv, np, ttl, reason, pk, &out);
	cfg_unlock(a);
	ledger_note(a, r);
	token_note(a, r);
	if (r != 0) {
		reply_err(req, r, "request");
		goto out;
	}
	note_issued(a, out, t0);
	reply_request(req, 201, out);
out:
	request_view_free(out);
	config_strv_free(pv, np);
	user_free(u);
}

/*
 * POST /v1/host-certs {"public_key"} with a host token: 201
 * {"certificate", "serial", "valid_after", "valid_before", "principals",
 * "renewal"}.  The first key binds (ca/hosts.h); another key is 409
 * host_key_mismatch until jitcad host reset.
 */
static void
h_host_cert(void *app, struct http_req *req)
{
	struct api *a = app;
	struct host *h = NULL;
	struct host_issued hi;
	const char *pk = NULL;
	int r;
	const struct http_jfield f[] = {
	    {"public_key", HTTP_J_STRING, 1, 16384, &pk, NULL, NULL, NULL},
	};

	memset(&hi, 0, sizeof(hi));
	if (api_authenticate_host(a, req, &h) != 0)
		return;
	if (http_req_json(req, f, sizeof(f) / sizeof(f[0]), 0) != 0)
		goto out;
	cfg_lock(a);
	r = host_cert_issue(&a->ca, h->name, pk, &hi);
	cfg_unlock(a);
	ledger_note(a, r);
	if (r != 0) {
		reply_err(req, r, "host certificate");
		goto out;
	}
	reply_json_steal(req, 201, encode_host_cert(&hi, h));
out:
	host_issued_clear(&hi);
	host_free(h);
}

static void
h_request_list(void *app, struct http_req *req)
{
	struct api *a = app;
	struct user *u = NULL;
	struct ca_actor act;
	struct request_filter f;
	const char *st, *q;
	struct request_views *out = NULL;
	int64_t v;
	int r;

	if (authenticate(a, req, &u) != 0)
		return;
	memset(&f, 0, sizeof(f));
	f.brief = 1;
	f.limit = API_REQUESTS_LIMIT_DEFAULT;
	if ((st = http_req_query(req, "state")) != NULL) {
		if (strcmp(st, "pending") != 0) {
			http_reply_error(req, 400, "bad_query",
			    "query \"state\" may only be \"pending\"");
			goto out;
		}
		f.pending_only = 1;
	}
	if ((q = http_req_query(req, "limit")) != NULL) {
		if (parse_i64(q, 1, &v) != 0 || v > API_REQUESTS_LIMIT_MAX) {
			http_reply_error(req, 400, "bad_query",
			    "query \"limit\" must be 1..%d",
			    API_REQUESTS_LIMIT_MAX);
			goto out;
		}
		f.limit = (size_t)v;
	}
	if ((q = http_req_query(req, "cursor")) != NULL) {
		if (parse_i64(q, 1, &v) != 0) {
			http_reply_error(req, 400, "bad_query",
			    "query \"cursor\" must be the \"next_cursor\" "
			    "of an earlier page");
			goto out;
		}
		f.before = v;
	}
	actor_of(&act, u);
	read_lock(a);
	r = request_list(&a->ca, &act, &f, &out);
	read_unlock(a);
	if (r != 0) {
		reply_err(req, r, "requests");
		goto out;
	}
	reply_json_steal(req, 200, encode_requests(out));
out:
	request_views_free(out);
	user_free(u);
}

static void
h_request_get(void *app, struct http_req *req)
{
	struct api *a = app;
	struct user *u = NULL;
	struct ca_actor act;
	struct request_view *out = NULL;
	char what[48];
	int64_t id;
	int r;

	if (authenticate(a, req, &u) != 0)
		return;
	if (path_id(req, &id) != 0)
		goto out;
	snprintf(what, sizeof(what), "request %" PRId64, id);
	actor_of(&act, u);
	read_lock(a);
	r = request_get(&a->ca, &act, id, &out);
	read_unlock(a);
	if (r != 0) {
		reply_err(req, r, what);
		goto out;
	}
	reply_request(req, 200, out);
out:
	request_view_free(out);
	user_free(u);
}

enum decision { DECIDE_DENY, DECIDE_APPROVE, DECIDE_WITHDRAW, DECIDE_REVIEW };

/* A "ttl" field: a duration string or a positive number of seconds.
 * 0 with *ttl set, or -1 after replying 400. */
static int
ttl_field(struct http_req *req, json_t *v, uint64_t *ttl)
{
	const char *why = NULL;

	*ttl = 0;
	if (v == NULL)
		return 0;
	if (json_is_string(v)) {
		if (duration_parse_why(json_string_value(v), ttl, &why) == 0)
			return 0;
		http_reply_error(req, 400, "bad_duration",
		    "field \"ttl\": %s (e.g. \"30m\")",
		    why != NULL ? why : "not a duration");
		return -1;
	}
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    (uint64_t)json_integer_value(v) <= DURATION_MAX) {
		*ttl = (uint64_t)json_integer_value(v);
		return 0;
	}
	http_reply_error(req, 400, "wrong_type",
	    "field \"ttl\" must be a duration like \"30m\" or a positive "
	    "number of seconds");
	return -1;
}

/*
 * approve {comment?, ttl?, expect?}, deny {comment?}, withdraw {} (the
 * requester only, request.h).
 */
static void
decide(struct api *a, struct http_req *req, enum decision how)
{
	struct user *u = NULL;
	struct ca_actor act;
	struct request_approval ap;
	const char *comment = NULL, *expect = NULL;
	char tmsg[TEXT_MSG_LEN], what[48];
	struct request_view *out = NULL;
	json_t *ttlj = NULL;
	uint64_t ttl = 0;
	int64_t id;
	double t0;
	int r;
	const struct http_jfield f[] = {
	    {"comment", HTTP_J_STRING, 0, REQUEST_COMMENT_MAX, &comment, NULL,
		NULL, NULL},
	    {"expect", HTTP_J_STRING, 0, REQUEST_DIGEST_LEN - 1, &expect, NULL,
		NULL, NULL},
	    {"ttl", HTTP_J_ANY, 0, 0, NULL, NULL, &ttlj, NULL},
	};
	size_t nf = how == DECIDE_APPROVE		 ? 3
	    : how == DECIDE_DENY || how == DECIDE_REVIEW ? 1
							 : 0;

	if (authenticate(a, req, &u) != 0)
		return;
	if (path_id(req, &id) != 0)
		goto out;
	snprintf(what, sizeof(what), "request %" PRId64, id);
	if (http_req_json(req, f, nf, 1) != 0)
		goto out;
	if (reauth_needed(a, req, u) != 0)
		goto out;
	if ((r = text_check(
		 "comment", comment, REQUEST_COMMENT_MAX, 0, tmsg)) != 0) {
		reply_text_err(req, r, tmsg);
		goto out;
	}
	if (ttl_field(req, ttlj, &ttl) != 0)
		goto out;
	actor_of(&act, u);
	t0 = api_mono_now();
	cfg_lock(a);
	if (how == DECIDE_APPROVE) {
		memset(&ap, 0, sizeof(ap));
		ap.comment = comment;
		ap.ttl = ttl;
		ap.expect = expect;
		r = request_approve_with(&a->ca, &act, id, &ap, &out);
	} else if (how == DECIDE_DENY)
		r = request_deny(&a->ca, &act, id, comment, &out);
	else if (how == DECIDE_REVIEW)
		r = request_review(&a->ca, &act, id, comment, &out);
	else
		r = request_withdraw(&a->ca, &act, id, &out);
	cfg_unlock(a);
	ledger_note(a, r);
	if (how == DECIDE_APPROVE)
		token_note(a, r);
	if (r == ERR_FORBIDDEN && how == DECIDE_WITHDRAW) {
		http_reply_error(req, 403, "forbidden",
		    "%s: only its requester may withdraw it", what);
		goto out;
	}
	if (r != 0) {
		reply_err(req, r, what);
		goto out;
	}
	if (how == DECIDE_APPROVE)
		note_issued(a, out, t0);
	reply_request(req, 200, out);
out:
	request_view_free(out);
	user_free(u);
}

static void
h_approve(void *app, struct http_req *req)
{
	decide(app, req, DECIDE_APPROVE);
}

static void
h_deny(void *app, struct http_req *req)
{
	decide(app, req, DECIDE_DENY);
}

static void
h_withdraw(void *app, struct http_req *req)
{
	decide(app, req, DECIDE_WITHDRAW);
}

static void
h_review(void *app, struct http_req *req)
{
	decide(app, req, DECIDE_REVIEW);
}

static void
h_revoke(void *app, struct http_req *req)
{
	struct api *a = app;
	struct user *u = NULL;
	struct ca_actor act;
	struct revoke_target t;
	const char *key_id = NULL, *user = NULL, *pk = NULL, *reason = NULL;
	int64_t serial = 0, request = 0;
	int has_serial = 0, has_key_id = 0, has_user = 0, has_request = 0,
	    has_pk = 0, r;
	char tmsg[TEXT_MSG_LEN];
	struct revocation_view *out = NULL;
	const struct http_jfield f[] = {
	    {"serial", HTTP_J_INT, 0, 0, NULL, &serial, NULL, &has_serial},
	    {"key_id", HTTP_J_STRING, 0, 1024, &key_id, NULL, NULL,
		&has_key_id},
	    {"user", HTTP_J_STRING, 0, 64, &user, NULL, NULL, &has_user},
	    {"request", HTTP_J_INT, 0, 0, NULL, &request, NULL, &has_request},
	    {"public_key", HTTP_J_STRING, 0, 16384, &pk, NULL, NULL, &has_pk},
	    {"reason", HTTP_J_STRING, 1, REVOKE_REASON_MAX, &reason, NULL, NULL,
		NULL},
	};

	if (authenticate(a, req, &u) != 0)
		return;
	if (http_req_json(req, f, sizeof(f) / sizeof(f[0]), 0) != 0)
		goto out;
	if ((r = text_check("reason", reason, REVOKE_REASON_MAX, 1, tmsg)) !=
	    0) {
		reply_text_err(req, r, tmsg);
		goto out;
	}
	if (has_serial + has_key_id + has_user + has_request + has_pk != 1) {
		http_reply_error(req, 400, "invalid_argument",
		    "give exactly one of \"serial\", \"key_id\", \"user\", "
		    "\"request\", \"public_key\"");
		goto out;
	}
	memset(&t, 0, sizeof(t));
	if (has_serial) {
		if (serial <= 0) {
			http_reply_error(req, 400, "invalid_argument",
			    "field \"serial\" must be a positive integer");
			goto out;
		}
		t.by = REVOKE_SERIAL;
		t.serial = (uint64_t)serial;
	} else if (has_request) {
		if (request <= 0) {
			http_reply_error(req, 400, "invalid_argument",
			    "field \"request\" must be a positive integer");
			goto out;
		}
		t.by = REVOKE_REQUEST;
		t.request = request;
	} else if (has_key_id) {
		t.by = REVOKE_KEY_ID;
		t.text = key_id;
	} else if (has_user) {
		t.by = REVOKE_USER;
		t.text = user;
	} else {
		t.by = REVOKE_PUBLIC_KEY;
		t.text = pk;
	}
	actor_of(&act, u);
	cfg_lock(a);
	r = revoke_apply(&a->ca, &act, &t, reason, &out);
	cfg_unlock(a);
	ledger_note(a, r);
	if (r != 0) {
		reply_err(req, r, "revoke");
		goto out;
	}
	atomic_store(&a->krl_dirty, 1);
	atomic_fetch_add(&a->revocations, out->nrevoked);
	reply_json_steal(req, 200, encode_revocation(out));
out:
	revocation_view_free(out);
	user_free(u);
}

static int
is_auditor(struct api *a, const struct user *u)
{
	struct ca_actor act;
	int yes;

	actor_of(&act, u);
	cfg_lock(a);
	yes = ca_actor_is_auditor(&a->ca, &act);
	cfg_unlock(a);
	return yes;
}

static void
h_ledger(void *app, struct http_req *req)
{
	struct api *a = app;
	struct user *u = NULL;
	const char *q;
	int64_t since = 0, limit = API_LEDGER_LIMIT_DEFAULT, next;
	json_t *ev = NULL, *last;
	int r;

	if (authenticate(a, req, &u) != 0)
		return;
	if (!is_auditor(a, u)) {
		http_reply_error(req, 403, "forbidden",
		    "the ledger is for the auditor groups only");
		goto out;
	}
	if ((q = http_req_query(req, "since")) != NULL &&
	    parse_i64(q, 0, &since) != 0) {
		http_reply_error(req, 400, "bad_query",
		    "query \"since\" must be a sequence number >= 0");
		goto out;
	}
	if ((q = http_req_query(req, "limit")) != NULL &&
	    (parse_i64(q, 1, &limit) != 0 || limit > API_LEDGER_LIMIT_MAX)) {
		http_reply_error(req, 400, "bad_query",
		    "query \"limit\" must be 1..%d", API_LEDGER_LIMIT_MAX);
		goto out;
	}
	read_lock(a);
	r = ledger_events_json(a->ledger, since, limit, &ev);
	read_unlock(a);
	if (r != 0) {
		reply_err(req, r, "ledger");
		goto out;
	}
	next = since;
	if ((last = json_array_get(ev, json_array_size(ev) - 1)) != NULL)
		next =
		    (int64_t)json_integer_value(json_object_get(last, "seq"));
	reply_json_steal(req, 200,
	    json_pack(
		"{s:O,s:I}", "events", ev, "next_since", (json_int_t)next));
out:
	json_decref(ev);
	user_free(u);
}

/*
 * GET /v1/ledger/report[?role=&user=&since=&until=] for auditors: the
 * access review of `jitcad ledger report` (docs/ledger.md), as
 * {"grants": [...], "unknown": [...]}; since and until as there (a
 * duration back from now or a date).
 */
static void
h_report(void *app, struct http_req *req)
{
	struct api *a = app;
	struct user *u = NULL;
	struct report_filter f;
	struct report *rep = NULL;
	const char *q;
	json_t *g = NULL, *unk = NULL;
	int64_t now = (int64_t)ca_now(&a->ca);
	int r;

	if (authenticate(a, req, &u) != 0)
		return;
	if (!is_auditor(a, u)) {
		http_reply_error(req, 403, "forbidden",
		    "the access review is for the auditor groups only");
		goto out;
	}
	memset(&f, 0, sizeof(f));
	f.role = http_req_query(req, "role");
	f.user = http_req_query(req, "user");
	if (((q = http_req_query(req, "since")) != NULL &&
		report_when_parse(q, now, &f.since) != 0) ||
	    ((q = http_req_query(req, "until")) != NULL &&
		report_when_parse(q, now, &f.until) != 0)) {
		http_reply_error(req, 400, "bad_query",
		    "queries \"since\" and \"until\" must be a duration "
		    "(7d) or a date (2026-11-24, 2026-11-24T09:00:00Z)");
		goto out;
	}
	/* report_build() reads between transactions itself. */
	if ((r = report_build(a->ledger, &f, &rep)) != 0) {
		reply_err(req, r, "report");
		goto out;
	}
	if ((g = report_grants_json(rep)) == NULL ||
	    (unk = report_unknown_json(rep)) == NULL) {
		reply_err(req, ERR_ALLOC, "report");
		goto out;
	}
	reply_json_steal(
	    req, 200, json_pack("{s:O, s:O}", "grants", g, "unknown", unk));
out:
	json_decref(g);
	json_decref(unk);
	report_free(rep);
	user_free(u);
}

/* ---- login reports from hosts ---- */

/*
 * One entry of POST /v1/logins: {"line": S, "at": S, "time": N}, time
 * optional; anything else is a 400 naming the entry.
 */
static int
login_entry(struct http_req *req, size_t i, json_t *v, struct session_entry *e)
{
	json_t *line, *at, *t;

	memset(e, 0, sizeof(*e));
	line = json_object_get(v, "line");
	at = json_object_get(v, "at");
	t = json_object_get(v, "time");
	if (!json_is_object(v) || !json_is_string(line) ||
	    !json_is_string(at) || (t != NULL && !json_is_integer(t)) ||
	    json_object_size(v) != 2u + (t != NULL)) {
		http_reply_error(req, 400, "invalid_argument",
		    "entries[%zu] must be {\"line\": string, \"at\": string, "
		    "\"time\": integer (optional)} and nothing else",
		    i);
		return ERR_BAD_FORMAT;
	}
	e->line = json_string_value(line);
	e->len = json_string_length(line);
	e->at = json_string_value(at);
	if (strlen(e->at) != json_string_length(at) ||
	    json_string_length(at) > SESSION_AT_MAX ||
	    (t != NULL && json_integer_value(t) < 0)) {
		http_reply_error(req, 400, "invalid_argument",
		    "entries[%zu]: \"at\" must be 1..%d printable bytes, "
		    "\"time\" >= 0",
		    i, SESSION_AT_MAX);
		return ERR_BAD_FORMAT;
	}
	e->time = t != NULL ? (int64_t)json_integer_value(t) : 0;
	return 0;
}

/*
 * POST /v1/logins {"host": NAME, "entries": [...]} from a host's
 * reporter: 200 {"added", "duplicates", "ignored", "refused",
 * "errors": [{"index", "code", "message"}]} (errors: the refused lines).
 */
static void
h_logins(void *app, struct http_req *req)
{
	struct api *a = app;
	struct user *u = NULL;
	struct host *h = NULL;
	struct ca_actor act;
	struct session_entry *e = NULL;
	struct session_result res;
	enum session_outcome *oc = NULL;
	const char *host = NULL, *code, *tok;
	char *hname = NULL;
	json_t *entries = NULL, *errs = NULL, *v;
	int *codes = NULL, r;
	size_t i, n;
	const struct http_jfield f[] = {
	    {"host", HTTP_J_STRING, 1, SESSION_HOST_MAX, &host, NULL, NULL,
		NULL},
	    {"entries", HTTP_J_ANY, 1, 0, NULL, NULL, &entries, NULL},
	};

	/* The host's own token (jitcad host add) reports for that host
	 * only; a service token of a user in the "hosts" groups named like
	 * the host also works (docs/hosts.md "Login reports"). */
	if ((tok = http_req_bearer(req)) != NULL) {
		read_lock(a);
		r = host_authenticate(a->ledger, tok, &h);
		read_unlock(a);
		if (r != 0 && r != ERR_BAD_TOKEN) {
			reply_err(req, r, "authentication");
			goto out;
		}
	}
	if (h == NULL && authenticate(a, req, &u) != 0)
		return;
	if (h != NULL)
		http_req_set_user(req, h->name);
	if (http_req_json(req, f, sizeof(f) / sizeof(f[0]), 0) != 0)
		goto out;
	if (h != NULL) {
		if ((hname = malloc(strlen(h->name) + 6)) == NULL) {
			reply_err(req, ERR_ALLOC, "logins");
			goto out;
		}
		snprintf(hname, strlen(h->name) + 6, "host:%s", h->name);
		act.name = hname;
		act.groups = NULL;
		act.ngroups = 0;
		r = host == NULL || strcmp(host, h->name) != 0 ? ERR_LOGIN_HOST
							       : 0;
	} else {
		actor_of(&act, u);
		cfg_lock(a);
		r = session_host_allowed(&a->ca, &act, host);
		cfg_unlock(a);
	}
	if (r == ERR_FORBIDDEN) {
		http_reply_error(req, 403, "forbidden",
		    "only members of the \"hosts\" groups report logins");
		goto out;
	} else if (r != 0) {
		http_reply_error(req, 403, "wrong_host",
		    "this token reports logins for host \"%s\" only",
		    h != NULL ? h->name : u->name);
		goto out;
	}
	if (!json_is_array(entries) ||
	    (n = json_array_size(entries)) > SESSION_BATCH_MAX) {
		http_reply_error(req, 400, "invalid_argument",
		    "\"entries\" must be an array of at most %d entries",
		    SESSION_BATCH_MAX);
		goto out;
	}
	if (n > 0 &&
	    ((e = calloc(n, sizeof(*e))) == NULL ||
		(oc = calloc(n, sizeof(*oc))) == NULL ||
		(codes = calloc(n, sizeof(*codes))) == NULL)) {
		reply_err(req, ERR_ALLOC, "logins");
		goto out;
	}
	json_array_foreach(entries, i, v)
	{
		if (login_entry(req, i, v, &e[i]) != 0)
			goto out;
	}
	cfg_lock(a);
	r = session_record(&a->ca, act.name, host, e, n, oc, codes, &res);
	cfg_unlock(a);
	ledger_note(a, r);
	if (r != 0) {
		reply_err(req, r, "logins");
		goto out;
	}
	if ((errs = json_array()) == NULL) {
		reply_err(req, ERR_ALLOC, "logins");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (oc[i] != SESSION_REFUSED)
			continue;
		(void)api_err_status(codes[i], &code);
		if (json_array_append_new(errs,
			json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i,
			    "code", code, "message", err_str(codes[i]))) != 0) {
			reply_err(req, ERR_ALLOC, "logins");
			goto out;
		}
	}
	reply_json_steal(req, 200,
	    json_pack("{s:I, s:I, s:I, s:I, s:O}", "added",
		(json_int_t)res.added, "duplicates", (json_int_t)res.duplicates,
		"ignored", (json_int_t)res.ignored, "refused",
		(json_int_t)res.refused, "errors", errs));
out:
	json_decref(errs);
	free(codes);
	free(oc);
	free(e);
	user_free(u);
	host_free(h);
	free(hname);
}

/* ---- metrics ---- */

struct textbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void tb_printf(struct textbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tb_printf(struct textbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *np;
	size_t ncap;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p != NULL ? b->p + b->len : NULL,
		    b->p != NULL ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if (b->p != NULL && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		ncap = b->cap == 0 ? 4096 : b->cap * 2;
		while (ncap < b->len + (size_t)n + 1)
			ncap *= 2;
		if (ncap > 1024 * 1024 || (np = realloc(b->p, ncap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

/* Per notification sink: delivered, failed, lag (events behind the
 * newest it has seen), failing (seconds), alerting.  Labelled with the
 * sink's name, never its URL. */
static void
notify_metrics(struct api *a, struct textbuf *b)
{
	struct notify *n = atomic_load(&a->notify);
	struct notify_stats *st = NULL;
	size_t i, k = notify_sink_count(n);
	uint64_t now = (uint64_t)time(NULL);

	if (k == 0)
		return;
	if ((st = calloc(k, sizeof(*st))) == NULL) {
		b->oom = 1;
		return;
	}
	for (i = 0; i < k; i++)
		notify_stats_get(n, i, &st[i]);
	tb_printf(b,
	    "# HELP jitca_notify_delivered_total Notifications the "
	    "receiver took (2xx).\n# TYPE "
	    "jitca_notify_delivered_total counter\n");
	for (i = 0; i < k; i++)
		tb_printf(b,
		    "jitca_notify_delivered_total{sink=\"%s\"} %" PRIu64 "\n",
		    st[i].name, st[i].delivered);
	tb_printf(b,
	    "# HELP jitca_notify_failed_total Delivery attempts that "
	    "failed.\n# TYPE jitca_notify_failed_total counter\n");
	for (i = 0; i < k; i++)
		tb_printf(b,
		    "jitca_notify_failed_total{sink=\"%s\"} %" PRIu64 "\n",
		    st[i].name, st[i].failed);
	tb_printf(b,
	    "# HELP jitca_notify_lag_events Ledger events not yet "
	    "delivered or passed over.\n# TYPE jitca_notify_lag_events "
	    "gauge\n");
	for (i = 0; i < k; i++)
		tb_printf(b,
		    "jitca_notify_lag_events{sink=\"%s\"} %" PRId64 "\n",
		    st[i].name,
		    st[i].cursor >= 0 && st[i].head > st[i].cursor
			? st[i].head - st[i].cursor
			: 0);
	tb_printf(b,
	    "# HELP jitca_notify_failing_seconds How long the sink "
	    "has failed without a success (0: it is not "
	    "failing).\n# TYPE jitca_notify_failing_seconds gauge\n");
	for (i = 0; i < k; i++)
		tb_printf(b,
		    "jitca_notify_failing_seconds{sink=\"%s\"} %" PRIu64 "\n",
		    st[i].name,
		    st[i].failing_since != 0 && now > st[i].failing_since
			? now - st[i].failing_since
			: 0);
	tb_printf(b,
	    "# HELP jitca_notify_alerting 1 while the sink has failed "
	    "for longer than its alert_after.\n# TYPE "
	    "jitca_notify_alerting gauge\n");
	for (i = 0; i < k; i++)
		tb_printf(b, "jitca_notify_alerting{sink=\"%s\"} %d\n",
		    st[i].name, st[i].alerting);
	free(st);
}

static const char *const req_states[] = {
    "pending", "issued", "denied", "expired", "revoked", "withdrawn"};

static void
h_metrics(void *app, struct http_req *req)
{
	struct api *a = app;
	struct user *u = NULL;
	struct http_server *srv = http_req_server(req);
	struct textbuf b = {0};
	struct request_counts rc;
	struct ledger_stats ls;
	uint64_t states[6], cum = 0;
	size_t k;
	int r, status;

	if (authenticate(a, req, &u) != 0)
		return;
	if (!is_auditor(a, u)) {
		http_reply_error(req, 403, "forbidden",
		    "metrics are for the auditor groups only");
		goto out;
	}
	read_lock(a);
	r = request_counts_get(&a->ca, &rc);
	read_unlock(a);
	ledger_stats_get(a->ledger, &ls);
	if (r != 0) {
		reply_err(req, r, "metrics");
		goto out;
	}
	states[0] = rc.pending;
	states[1] = rc.issued;
	states[2] = rc.denied;
	states[3] = rc.expired;
	states[4] = rc.revoked;
	states[5] = rc.withdrawn;
	tb_printf(&b,
	    "# HELP jitca_requests Requests by state.\n"
	    "# TYPE jitca_requests gauge\n");
	for (k = 0; k < 6; k++)
		tb_printf(&b, "jitca_requests{state=\"%s\"} %" PRIu64 "\n",
		    req_states[k], states[k]);
	tb_printf(&b,
	    "# HELP jitca_pending_approvals Approvals still needed by "
	    "pending requests.\n# TYPE jitca_pending_approvals gauge\n"
	    "jitca_pending_approvals %" PRIu64 "\n",
	    rc.approvals_needed);
	tb_printf(&b,
	    "# HELP jitca_certificates_issued_total Certificates issued by "
	    "this process.\n# TYPE jitca_certificates_issued_total counter\n"
	    "jitca_certificates_issued_total %" PRIu64 "\n",
	    atomic_load(&a->certs_issued));
	tb_printf(&b,
	    "# HELP jitca_revocations_total Certificates revoked through "
	    "this process.\n# TYPE jitca_revocations_total counter\n"
	    "jitca_revocations_total %" PRIu64 "\n",
	    atomic_load(&a->revocations));
	tb_printf(&b,
	    "# HELP jitca_http_responses_total HTTP responses by "
	    "status.\n# TYPE jitca_http_responses_total counter\n");
	for (status = 100; status <= 599; status++) {
		uint64_t n = http_server_status_count(srv, status);

		if (n > 0)
			tb_printf(&b,
			    "jitca_http_responses_total{code=\"%d\"} %" PRIu64
			    "\n",
			    status, n);
	}
	tb_printf(&b,
	    "# HELP jitca_http_connections_refused_total Connections "
	    "refused: their address held server.connections_per_client."
	    "\n# TYPE jitca_http_connections_refused_total counter\n"
	    "jitca_http_connections_refused_total %" PRIu64 "\n",
	    http_server_refused_count(srv));
	tb_printf(&b,
	    "# HELP jitca_issuance_seconds Time from request to signed, "
	    "committed certificate.\n# TYPE jitca_issuance_seconds "
	    "histogram\n");
	for (k = 0; k < API_LATENCY_BUCKETS; k++) {
		cum = atomic_load(&a->lat_bucket[k]);
		tb_printf(&b,
		    "jitca_issuance_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
		    latency_bounds[k], cum);
	}
	tb_printf(&b,
	    "jitca_issuance_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
	    "jitca_issuance_seconds_sum %.6f\n"
	    "jitca_issuance_seconds_count %" PRIu64 "\n",
	    atomic_load(&a->lat_count),
	    (double)atomic_load(&a->lat_sum_us) / 1e6,
	    atomic_load(&a->lat_count));
	tb_printf(&b,
	    "# HELP jitca_ledger_units_total Ledger units of work "
	    "committed.\n# TYPE jitca_ledger_units_total counter\n"
	    "jitca_ledger_units_total %" PRIu64 "\n"
	    "# HELP jitca_ledger_commits_total sqlite COMMITs (group "
	    "commit: several units per COMMIT).\n# TYPE "
	    "jitca_ledger_commits_total counter\n"
	    "jitca_ledger_commits_total %" PRIu64 "\n"
	    "# HELP jitca_ledger_max_batch Most units in one COMMIT.\n"
	    "# TYPE jitca_ledger_max_batch gauge\n"
	    "jitca_ledger_max_batch %u\n"
	    "# HELP jitca_ledger_commit_holds_total Batches that waited "
	    "for an announced unit before their COMMIT.\n# TYPE "
	    "jitca_ledger_commit_holds_total counter\n"
	    "jitca_ledger_commit_holds_total %" PRIu64 "\n"
	    "# HELP jitca_ledger_commit_hold_timeouts_total Of those, the "
	    "waits that ended without it.\n# TYPE "
	    "jitca_ledger_commit_hold_timeouts_total counter\n"
	    "jitca_ledger_commit_hold_timeouts_total %" PRIu64 "\n"
	    "# HELP jitca_ledger_wal_checkpoints_total WAL checkpoints "
	    "copied by the checkpointer thread, off the writer's path.\n"
	    "# TYPE jitca_ledger_wal_checkpoints_total counter\n"
	    "jitca_ledger_wal_checkpoints_total %" PRIu64 "\n"
	    "# HELP jitca_ledger_wal_checkpoint_frames_total WAL frames "
	    "those checkpoints copied into the database.\n"
	    "# TYPE jitca_ledger_wal_checkpoint_frames_total counter\n"
	    "jitca_ledger_wal_checkpoint_frames_total %" PRIu64 "\n"
	    "# HELP jitca_ledger_wal_catch_up_frames_total WAL frames the "
	    "writer copied before a BEGIN (those added during a "
	    "checkpoint), so that the WAL starts over.\n"
	    "# TYPE jitca_ledger_wal_catch_up_frames_total counter\n"
	    "jitca_ledger_wal_catch_up_frames_total %" PRIu64 "\n",
	    ls.units, ls.commits, ls.max_batch, ls.holds, ls.hold_timeouts,
	    ls.checkpoints, ls.checkpoint_frames,
	    ls.checkpoint_catch_up_frames);
	notify_metrics(a, &b);
	if (b.oom) {
		reply_err(req, ERR_ALLOC, "metrics");
		goto out;
	}
	http_reply(req, 200, "text/plain; version=0.0.4", b.p, b.len);
out:
	free(b.p);
	user_free(u);
}

/* ---- setup ---- */

static const struct http_route routes[] = {
    {"GET", "/v1/health", h_health},
    {"GET", "/v1/ca", h_ca},
    {"GET", "/v1/auth", h_auth},
    {"POST", "/v1/session", h_session},
    {"DELETE", "/v1/session", h_session_end},
    {"GET", "/v1/krl", h_krl},
    {"GET", "/v1/krl.sig", h_krl_sig},
    {"GET", "/v1/checkpoint", h_checkpoint},
    {"GET", "/v1/checkpoint.sig", h_checkpoint_sig},
    {"GET", "/v1/ledger/proof", h_proof},
    {"GET", "/v1/ledger/consistency", h_consistency},
    {"GET", "/v1/roles", h_roles},
    {"POST", "/v1/requests", h_request_create},
    {"GET", "/v1/requests", h_request_list},
    {"GET", "/v1/requests/{id}", h_request_get},
    {"POST", "/v1/requests/{id}/approve", h_approve},
    {"POST", "/v1/requests/{id}/deny", h_deny},
    {"POST", "/v1/requests/{id}/withdraw", h_withdraw},
    {"POST", "/v1/requests/{id}/review", h_review},
    {"POST", "/v1/revocations", h_revoke},
    {"POST", "/v1/host-certs", h_host_cert},
    {"GET", "/v1/ledger", h_ledger},
    {"GET", "/v1/ledger/report", h_report},
    {"POST", "/v1/logins", h_logins},
    {"GET", "/metrics", h_metrics},
    /* The web pages (web/ui.h). */
    {"GET", "/ui", ui_h_root_redirect},
    {"GET", "/ui/", ui_h_home},
    {"POST", "/ui/session", ui_h_session},
    {"POST", "/ui/signout", ui_h_signout},
    {"GET", "/ui/static/{id}", ui_h_static},
    {"GET", "/ui/requests/{id}", ui_h_request},
    {"POST", "/ui/requests/{id}/approve", ui_h_approve},
    {"POST", "/ui/requests/{id}/deny", ui_h_deny},
    {"POST", "/ui/requests/{id}/revoke", ui_h_revoke},
    {"GET", "/ui/ledger", ui_h_ledger},
    {"GET", "/ui/report", ui_h_report},
    {"GET", "/ui/oidc/start", ui_h_oidc_start},
    {"GET", "/ui/oidc/callback", ui_h_oidc_callback},
};

const struct http_route *
api_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

static time_t
api_clock(void *arg)
{
	(void)arg;
	return (time_t)ledger_now();
}

/* The verifier for cfg's oidc block (*out NULL when it has none). */
static int
verifier_for(const struct config *cfg, struct oidc_verifier **out)
{
	struct oidc_config oc;

	*out = NULL;
	if (cfg->oidc == NULL)
		return 0;
	memset(&oc, 0, sizeof(oc));
	oc.issuer = cfg->oidc->issuer;
	oc.client_id = cfg->oidc->client_id;
	oc.username_claim = cfg->oidc->username_claim;
	oc.groups_claim = cfg->oidc->groups_claim;
	oc.algs = cfg->oidc->algs; /* CONFIG_OIDC_* are OIDC_ALG_* */
	oc.skew = -1;
	oc.now = api_clock;
	return oidc_new(out, &oc, NULL);
}

int
api_init(struct api *a, struct config *cfg, struct ledger *l, struct signer *s)
{
	int r = ERR_INTERNAL;
	const struct pubkey *pub;

	memset(a, 0, sizeof(*a));
	if (pthread_rwlock_init(&a->cfg_lock, NULL) != 0)
		return ERR_SYSTEM;
	if (pthread_mutex_init(&a->krl_lock, NULL) != 0) {
		pthread_rwlock_destroy(&a->cfg_lock);
		return ERR_SYSTEM;
	}
	if (pthread_mutex_init(&a->health_lock, NULL) != 0) {
		pthread_rwlock_destroy(&a->cfg_lock);
		pthread_mutex_destroy(&a->krl_lock);
		return ERR_SYSTEM;
	}
	a->cfg = cfg;
	a->ledger = l;
	a->signer = s;
	pub = signer_public(s);
	if ((r = pubkey_to_line(&a->ca_line, pub, NULL)) != 0)
		goto out;
	a->ca_key_type = pubkey_type_name(pub);
	if ((r = ratelimit_new(&a->create_rl)) != 0)
		goto out;
	if (cfg->ledger_origin != NULL)
		a->origin = strdup(cfg->ledger_origin);
	else if ((r = checkpoint_origin_default(&a->origin, pub)) != 0)
		goto out;
	ENSURE(a->origin != NULL, ERR_ALLOC);
	if ((r = verifier_for(cfg, &a->oidc)) != 0)
		goto out;
	if ((r = ui_sessions_new(&a->ui)) != 0)
		goto out;
	a->ca.cfg = cfg;
	a->ca.ledger = l;
	a->ca.ca_pub = pub;
	a->ca.sign_user = signer_sign_user_fn;
	a->ca.sign_host = signer_sign_host_fn;
	a->ca.sign_ctx = s;
	if ((a->ca.host_pub = signer_public_host(s)) != NULL &&
	    (r = pubkey_to_line(&a->host_line, a->ca.host_pub, NULL)) != 0)
		goto out;
	/* Last: nothing after it fails, so the cleanup below needs no
	 * ui_verify_free(). */
	if ((r = ui_verify_init(&a->ui_verify)) != 0)
		goto out;
	r = 0;
out:
	if (r != 0) {
		/* cfg stays the caller's. */
		free(a->ca_line);
		free(a->host_line);
		free(a->origin);
		ratelimit_free(a->create_rl);
		oidc_free(a->oidc);
		ui_sessions_free(a->ui);
		pthread_rwlock_destroy(&a->cfg_lock);
		pthread_mutex_destroy(&a->krl_lock);
		pthread_mutex_destroy(&a->health_lock);
		memset(a, 0, sizeof(*a));
	}
	return r;
}

void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	free(a->ca_line);
	free(a->host_line);
	free(a->krl);
	free(a->krl_sig);
	free(a->origin);
	ratelimit_free(a->create_rl);
	oidc_free(a->oidc);
	ui_sessions_free(a->ui);
	ui_verify_free(&a->ui_verify);
	config_free(a->cfg);
	pthread_rwlock_destroy(&a->cfg_lock);
	pthread_mutex_destroy(&a->krl_lock);
	pthread_mutex_destroy(&a->health_lock);
	memset(a, 0, sizeof(*a));
}

void
api_signer_note(struct api *a, const char *why)
{
	pthread_mutex_lock(&a->health_lock);
	snprintf(a->signer_note, sizeof(a->signer_note), "%s",
	    why != NULL ? why : "");
	pthread_mutex_unlock(&a->health_lock);
}

void
api_config_swap(struct api *a, struct config *cfg)
{
	struct config *old;
	struct oidc_verifier *v = NULL, *oldv;

	/* A verifier that cannot be made leaves sign-in off (404) until
	 * the next reload; jitcad config check says why. */
	if (verifier_for(cfg, &v) != 0)
		v = NULL;
	pthread_rwlock_wrlock(&a->cfg_lock);
	old = a->cfg;
	oldv = a->oidc;
	a->cfg = cfg;
	a->ca.cfg = cfg;
	a->oidc = v;
	pthread_rwlock_unlock(&a->cfg_lock);
	atomic_store(&a->krl_dirty, 1);
	oidc_free(oldv);
	config_free(old);
}

int
api_tick(struct api *a, size_t *expired)
{
	int r;

	cfg_lock(a);
	r = request_expire_due(&a->ca, expired);
	ratelimit_prune(a->create_rl, ca_now(&a->ca));
	cfg_unlock(a);
	if (r != 0 || (expired != NULL && *expired > 0))
		ledger_note(a, r);
	return r;
}
