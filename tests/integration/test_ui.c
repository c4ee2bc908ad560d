/*
 * test_ui.c: issue 16, the web pages under /ui/, with real processes
 * only: `jitcad serve` ($JITCAD) on a free loopback port, Debian's
 * chromium driven by puppeteer-core (tests/browser/ui.mjs, node), and
 * libcurl for the requests a browser would never send.
 *
 * What each test shows: an approver on a phone-sized window opens a
 * request's link, signs in with a token, sees what will be signed (the
 * hostile reason as text: no dialog, no element injected) and approves;
 * the API then answers the request issued; the requester and the
 * approver's own request show no approve button; the ledger page's
 * filter lists the same events as `jitcad ledger export`; every page has
 * the CSP.  Forged POSTs are refused: the approver's own request, a
 * non-approver, no CSRF token, another Origin or no Origin and no
 * Referer, a stale `expect` digest; the security headers and the cookie
 * flags are exact (Secure under TLS, where plain http is another
 * origin); the CSS is served with its strong ETag.  Through the test
 * OpenID Provider (tests/oidc/provider.mjs): sign-in from a request's
 * link and approval; a sign-in older than approver_max_auth_age asked
 * again, then approval.  The ledger page's verify status is cached: a
 * row tampered with after a view shows only in `jitcad ledger verify`
 * until the status is older than its age; with the age 0 (the test hook
 * JITCA_TEST_UI_VERIFY_MAX_AGE) the next view names the broken seq.
 * Screenshots go to $JITCA_BUILD_DIR/Testing/ui-screenshots.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "tests/lib/jitcad.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

#define HOSTILE                                                                \
	"INC-7 <script>alert(1)</script> <img src=x onerror=alert(1)> "        \
	"<a href=\"javascript:alert(1)\">javascript:alert(1)</a> & \"q\" 'a'"
#define CSP                                                                    \
	"default-src 'self'; script-src 'self'; frame-ancestors 'none'; "      \
	"form-action 'self'; base-uri 'none'"

static char *dir, *state, *server, *pubkey, *cafile;
static char *alice, *bob, *carol; /* tokens */
static pid_t serve_pid = -1, prov_pid = -1;

static char *
user_add(const char *name, const char *groups)
{
	char *out = NULL, *err = NULL, *args;
	int rc;

	args = tu_fmt("user add %s %s", name, groups);
	rc = tu_jitcad(state, args, &out, &err);
	cr_assert_eq(rc, 0, "user add %s: %s", name, err);
	out[strcspn(out, "\n")] = '\0';
	free(args);
	free(err);
	return out;
}

static void
setup(void)
{
	char *out = NULL, *err = NULL, *log, *cmd;

	dir = tu_tmpdir();
	state = tu_fmt("%s/state", dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cr_assert_eq(tu_jitcad(state, "init", &out, &err), 0, "init: %s", err);
	free(out);
	free(err);
	alice = user_add("alice", "--group engineering");
	bob = user_add(
	    "bob", "--group engineering --group sre-leads --group security");
	carol = user_add("carol", "--group engineering");
	cmd = tu_fmt("%s/k", dir);
	pubkey = tu_keygen("ed25519", cmd);
	free(cmd);
	log = tu_fmt("%s/serve.log", dir);
	server = tu_serve_start(state, log, NULL, NULL, &serve_pid);
	free(log);
}

static void
teardown(void)
{
	tu_stop(&serve_pid);
	tu_stop(&prov_pid);
	tu_rmtree(dir);
	free(dir);
	free(state);
	free(server);
	free(pubkey);
	free(cafile);
	cafile = NULL;
	free(alice);
	free(bob);
	free(carol);
	tu_keep_free();
}

TestSuite(ui, .init = setup, .fini = teardown, .timeout = 240);

struct hx {
	long status;
	char *body;
	char hdrs[4096];
};

/*
 * One exchange: method by body (NULL: GET), extra header lines (NULL
 * ended, may be NULL).  The reply's status, body and headers.
 */
static struct hx
http(const char *path, const char *body, const char *const *hdr)
{
	struct tu_reply r;
	struct curl_slist *h = NULL;
	struct hx x;
	CURL *c = curl_easy_init();
	char *url = tu_fmt("%s%s", server, path);
	CURLcode rc;

	memset(&r, 0, sizeof(r));
	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	for (; hdr != NULL && *hdr != NULL; hdr++)
		h = curl_slist_append(h, *hdr);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, tu_curl_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (cafile != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
	rc = curl_easy_perform(c);
	cr_assert_eq(rc, CURLE_OK, "%s: %s", url, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x.status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(url);
	x.body = tu_keep(r.body != NULL ? r.body : tu_fmt("%s", ""));
	memcpy(x.hdrs, r.hdrs, sizeof(x.hdrs));
	return x;
}

/* The value of header name in x (new, kept), or NULL. */
static const char *
header(const struct hx *x, const char *name)
{
	char *want = tu_fmt("\r\n%s: ", name), *p, *v;
	size_t n = strlen(want);

	p = strcasestr(x->hdrs, want);
	free(want);
	if (p == NULL)
		return NULL;
	v = tu_fmt("%.*s", (int)strcspn(p + n, "\r\n"), p + n);
	return tu_keep(v);
}

/* A request by token for role prod-debug with reason; its id. */
static long
request(const char *token, const char *reason)
{
	json_t *b = json_pack("{s:s,s:s,s:s}", "role", "prod-debug", "reason",
	    reason, "public_key", pubkey);
	char *body = json_dumps(b, JSON_COMPACT), *auth;
	const char *h[3];
	struct hx x;
	json_t *j;
	long id;

	auth = tu_fmt("Authorization: Bearer %s", token);
	h[0] = auth;
	h[1] = "Content-Type: application/json";
	h[2] = NULL;
	x = http("/v1/requests", body, h);
	cr_assert_eq(x.status, 201, "create: %s", x.body);
	j = json_loads(x.body, 0, NULL);
	id = (long)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	json_decref(b);
	free(body);
	free(auth);
	return id;
}

/* The "who" of a request's first approval, or NULL. */
static const char *
first_approver(const json_t *q)
{
	return json_string_value(json_object_get(
	    json_array_get(json_object_get(q, "approvals"), 0), "who"));
}

/* GET /v1/requests/ID as bob: the JSON (new). */
static json_t *
api_get(long id)
{
	char *auth = tu_fmt("Authorization: Bearer %s", bob);
	char *path = tu_fmt("/v1/requests/%ld", id);
	const char *h[] = {auth, NULL};
	struct hx x = http(path, NULL, h);
	json_t *j = json_loads(x.body, 0, NULL);

	cr_assert_eq(x.status, 200, "%s: %s", path, x.body);
	free(auth);
	free(path);
	return j;
}

static char *
api_state(long id)
{
	json_t *j = api_get(id);
	char *s = tu_fmt("%s", json_string_value(json_object_get(j, "state")));

	json_decref(j);
	return tu_keep(s);
}

/* Sign in on the page with token: the cookie pair "jitca_ui=ID" (kept). */
static const char *
sign_in(const char *token)
{
	char *origin = tu_fmt("Origin: %s", server);
	char *body = tu_fmt("token=%s&next=%%2Fui%%2F", token);
	const char *h[] = {origin, NULL}, *sc;
	struct hx x = http("/ui/session", body, h);
	char *c;

	cr_assert_eq(x.status, 303, "sign-in: %ld %s", x.status, x.body);
	cr_assert_str_eq(header(&x, "Location"), "/ui/");
	sc = header(&x, "Set-Cookie");
	cr_assert_not_null(sc);
	c = tu_fmt("%.*s", (int)strcspn(sc, ";"), sc);
	free(origin);
	free(body);
	return tu_keep(c);
}

/* The CSRF token in a page's forms (kept). */
static const char *
csrf_of(const char *html)
{
	const char *p = strstr(html, "name=\"csrf\" value=\"");

	cr_assert_not_null(p, "no CSRF field in: %s", html);
	p += strlen("name=\"csrf\" value=\"");
	return tu_keep(tu_fmt("%.*s", (int)strcspn(p, "\""), p));
}

/* GET path with the cookie. */
static struct hx
page(const char *cookie, const char *path)
{
	char *ch = tu_fmt("Cookie: %s", cookie);
	const char *h[] = {ch, NULL};
	struct hx x = http(path, NULL, h);

	free(ch);
	return x;
}

/* POST a form with the cookie and one extra header (may be NULL). */
static struct hx
post(const char *cookie, const char *path, const char *form, const char *extra)
{
	char *ch = tu_fmt("Cookie: %s", cookie);
	const char *h[] = {
	    ch, "Content-Type: application/x-www-form-urlencoded", extra, NULL};
	struct hx x = http(path, form, h);

	free(ch);
	return x;
}

static int64_t
ledger_count(void)
{
	char *out = NULL;
	int64_t n = 0;
	char *p;

	cr_assert_eq(tu_jitcad(state, "ledger export", &out, NULL), 0);
	for (p = out; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(out);
	return n;
}

/* node tests/browser/ui.mjs CFG: what it printed, parsed (new). */
static json_t *
browser(json_t *cfg)
{
	const char *src = tu_env("JITCA_SOURCE_DIR");
	char *node = tu_which("node"), *out = NULL, *err = NULL;
	char *c = json_dumps(cfg, JSON_COMPACT);
	char *argv[] = {node, tu_fmt("%s/tests/browser/ui.mjs", src), c, NULL};
	json_t *j;
	int rc;

	cr_assert_not_null(
	    node, "node is not installed: run scripts/bootstrap");
	rc = tu_run(argv, NULL, &out, &err);
	cr_assert_eq(rc, 0, "ui.mjs failed: %s", err);
	j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "ui.mjs printed: %s", out);
	free(argv[1]);
	free(node);
	free(c);
	free(out);
	free(err);
	return j;
}

/* $JITCA_BUILD_DIR/Testing/ui-screenshots, made (kept). */
static const char *
shots_dir(void)
{
	char *shots =
	    tu_fmt("%s/Testing/ui-screenshots", tu_env("JITCA_BUILD_DIR"));
	char *cmd = tu_fmt("mkdir -p '%s'", shots);

	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
	return tu_keep(shots);
}

Test(ui, browser_approve_on_a_phone)
{
	long hostile, other, own;
	const char *shots = shots_dir();
	json_t *cj, *j, *v, *api, *exp;
	size_t i, n;

	hostile = request(alice, HOSTILE);
	other = request(alice, "INC-8 second look");
	own = request(bob, "INC-9 bob's own");
	cj = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "base", server, "out",
	    shots, "approver", bob, "requester", alice, "hostile",
	    (json_int_t)hostile, "other", (json_int_t)other, "own",
	    (json_int_t)own);
	j = browser(cj);
	cr_assert_str_eq(json_string_value(json_object_get(j, "signin_title")),
	    "Sign in - jitca");
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "reason_text")), HOSTILE);
	v = json_object_get(j, "injected");
	cr_assert_eq(json_integer_value(json_object_get(v, "img")), 0);
	cr_assert_eq(json_integer_value(json_object_get(v, "script")), 0);
	cr_assert_eq(json_integer_value(json_object_get(v, "js_links")), 0);
	cr_assert_eq(json_integer_value(json_object_get(v, "onerror")), 0);
	cr_assert_eq(json_array_size(json_object_get(j, "dialogs")), 0,
	    "a dialog fired");
	cr_assert_eq(json_array_size(json_object_get(j, "no_csp")), 0,
	    "a page without CSP");
	cr_assert_geq(json_integer_value(json_object_get(j, "documents")), 8);
	/* The form carries the digest the page shows; issued afterwards. */
	api = api_get(hostile);
	cr_assert_str_eq(json_string_value(json_object_get(j, "expect_field")),
	    json_string_value(json_object_get(api, "digest")));
	cr_assert_str_eq(json_string_value(json_object_get(j, "detail_digest")),
	    json_string_value(json_object_get(api, "digest")));
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "approved_state")), "issued");
	cr_assert_str_eq(
	    json_string_value(json_object_get(api, "state")), "issued");
	cr_assert_str_eq(first_approver(api), "bob");
	cr_assert_lt(
	    json_integer_value(json_object_get(j, "approve_ms")), 60000);
	/* Pending: the other two, newest first. */
	v = json_object_get(j, "pending_ids");
	cr_assert_eq(json_array_size(v), 2);
	cr_assert_eq(atol(json_string_value(json_array_get(v, 0))), own);
	cr_assert_eq(atol(json_string_value(json_array_get(v, 1))), other);
	cr_assert_eq(
	    json_integer_value(json_object_get(j, "own_approve_buttons")), 0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "own_note")),
	    "This is your own request: another approver must decide it.");
	cr_assert_eq(
	    json_integer_value(json_object_get(j, "requester_approve_buttons")),
	    0);
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "requester_state")),
	    "pending");
	/* The ledger filter lists what the export has of that type. */
	{
		char *ex = NULL, *line, *save = NULL;
		json_t *want = json_array();

		cr_assert_eq(tu_jitcad(state, "ledger export", &ex, NULL), 0);
		for (line = strtok_r(ex, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			exp = json_loads(line, 0, NULL);
			if (strcmp(
				json_string_value(json_object_get(exp, "type")),
				"cert.issued") == 0)
				json_array_append(
				    want, json_object_get(exp, "seq"));
			json_decref(exp);
		}
		v = json_object_get(j, "ledger_seqs");
		n = json_array_size(want);
		cr_assert_eq(json_array_size(v), n);
		cr_assert_eq(n, 1);
		for (i = 0; i < n; i++)
			cr_assert_eq(json_integer_value(json_array_get(v, i)),
			    json_integer_value(json_array_get(want, i)));
		json_decref(want);
		free(ex);
	}
	cr_assert_not_null(
	    strstr(json_string_value(json_object_get(j, "verify")),
		"Hash chain verified: "));
	/* The access report: one grant, why, approved by bob, not
	 * revoked, no logins. */
	v = json_object_get(j, "report_rows");
	cr_assert_eq(json_array_size(v), 1);
	v = json_array_get(v, 0);
	cr_assert_str_eq(json_string_value(json_array_get(v, 0)), "alice");
	cr_assert_str_eq(json_string_value(json_array_get(v, 1)), "prod-debug");
	cr_assert_str_eq(json_string_value(json_array_get(v, 3)), HOSTILE);
	cr_assert_str_eq(json_string_value(json_array_get(v, 4)), "bob");
	cr_assert_str_eq(json_string_value(json_array_get(v, 5)), "no");
	cr_assert_str_eq(json_string_value(json_array_get(v, 6)), "none seen");
	fprintf(stderr,
	    "test_ui: link to issued on a 390x844 window in %" JSON_INTEGER_FORMAT
	    " ms; screenshots in %s\n",
	    json_integer_value(json_object_get(j, "approve_ms")), shots);
	json_decref(api);
	json_decref(j);
	json_decref(cj);
}

/* A POST refused with status and a page saying why; nothing written. */
static void
refused(
    const struct hx *x, long status, const char *says, long id, int64_t events)
{
	cr_assert_eq(x->status, status, "%ld: %s", x->status, x->body);
	cr_assert_not_null(
	    strstr(x->body, says), "no \"%s\" in %s", says, x->body);
	cr_assert_str_eq(api_state(id), "pending");
	cr_assert_eq(ledger_count(), events);
}

Test(ui, forged_posts_are_refused)
{
	long mine = request(bob, "bob's own"), theirs = request(alice, "x");
	const char *bc = sign_in(bob), *cc = sign_in(carol), *csrf, *ccsrf;
	char *origin = tu_fmt("Origin: %s", server);
	char *referer = tu_fmt("Referer: %s/ui/requests/%ld", server, theirs);
	char *own_path = tu_fmt("/ui/requests/%ld/approve", mine);
	char *path = tu_fmt("/ui/requests/%ld/approve", theirs);
	char *deny = tu_fmt("/ui/requests/%ld/deny", theirs);
	char *form, *digest;
	json_t *j = api_get(theirs);
	int64_t events = ledger_count();
	struct hx x;

	digest = tu_fmt("%s", json_string_value(json_object_get(j, "digest")));
	json_decref(j);
	x = page(bc, "/ui/");
	cr_assert_eq(x.status, 200);
	csrf = csrf_of(x.body);
	/* The approver's own request, with a valid form. */
	form = tu_fmt("csrf=%s&expect=%s", csrf, digest);
	x = post(bc, own_path, form, origin);
	refused(&x, 403, "is your own", mine, events);
	/* Someone who is not an approver of the role (for whom the
	 * request does not exist). */
	x = page(cc, "/ui/");
	ccsrf = csrf_of(x.body);
	free(form);
	form = tu_fmt("csrf=%s", ccsrf);
	x = post(cc, path, form, origin);
	refused(&x, 404, "not found", theirs, events);
	/* Without the CSRF token, with another session's, from another
	 * origin, with neither Origin nor Referer. */
	x = post(bc, path, "comment=ok", origin);
	refused(&x, 403, "lacks the CSRF token", theirs, events);
	free(form);
	form = tu_fmt("csrf=%s", ccsrf);
	x = post(bc, path, form, origin);
	refused(&x, 403, "lacks the CSRF token", theirs, events);
	free(form);
	form = tu_fmt("csrf=%s", csrf);
	x = post(bc, path, form, "Origin: http://evil.example");
	refused(&x, 403, "not sent from this server", theirs, events);
	x = post(bc, path, form, "Origin: null");
	refused(&x, 403, "not sent from this server", theirs, events);
	x = post(bc, path, form, NULL);
	refused(&x, 403, "not sent from this server", theirs, events);
	/* A digest that is not the request's: what the page showed is not
	 * what would be signed. */
	free(form);
	form = tu_fmt("csrf=%s&expect=sha256:%064d", csrf, 0);
	x = post(bc, path, form, origin);
	refused(&x, 409, "changed after this page showed it", theirs, events);
	/* A bad form. */
	x = post(bc, path, "csrf=%zz", origin);
	refused(&x, 400, "bad %-escape", theirs, events);
	/* Sign-in from another origin. */
	{
		const char *h[] = {"Origin: http://evil.example", NULL};
		char *b = tu_fmt("token=%s", bob);

		x = http("/ui/session", b, h);
		cr_assert_eq(x.status, 403);
		cr_assert_null(header(&x, "Set-Cookie"));
		free(b);
	}
	/* With the Referer of our own page (no Origin) a deny goes
	 * through, and the API says so. */
	free(form);
	form = tu_fmt("csrf=%s&comment=not+now", csrf);
	x = post(bc, deny, form, referer);
	cr_assert_eq(x.status, 303, "%ld: %s", x.status, x.body);
	cr_assert_str_eq(api_state(theirs), "denied");
	/* Signed out: the cookie no longer opens a page. */
	free(form);
	form = tu_fmt("csrf=%s", csrf);
	x = post(bc, "/ui/signout", form, origin);
	cr_assert_eq(x.status, 303);
	x = page(bc, "/ui/ledger");
	cr_assert_eq(x.status, 401);
	cr_assert_not_null(strstr(x.body, "name=\"token\""));
	free(form);
	free(digest);
	free(origin);
	free(referer);
	free(own_path);
	free(path);
	free(deny);
}

/* The headers every page carries. */
static void
page_headers(const struct hx *x)
{
	cr_assert_str_eq(header(x, "Content-Security-Policy"), CSP);
	cr_assert_str_eq(header(x, "X-Content-Type-Options"), "nosniff");
	cr_assert_str_eq(header(x, "Referrer-Policy"), "same-origin");
	cr_assert_str_eq(header(x, "Cache-Control"), "no-store");
	if (x->status != 303)
		cr_assert_str_eq(
		    header(x, "Content-Type"), "text/html; charset=utf-8");
}

Test(ui, headers_cookie_and_static)
{
	static const char *const paths[] = {"/ui/", "/ui/requests/1",
	    "/ui/ledger", "/ui/report", "/ui/ledger?since=bogus",
	    "/ui/requests/0"};
	const char *cookie, *sc, *etag, *h[3];
	char *css_path, *css, *want, hex[65];
	uint8_t sum[SHA256_DIGEST_LENGTH];
	struct hx x;
	size_t i, len;

	(void)request(alice, "headers");
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		x = http(paths[i], NULL, NULL);
		page_headers(&x);
	}
	/* The cookie: HttpOnly, SameSite=Strict, only under /ui, not
	 * Secure over plain HTTP; the id is 64 hex digits, no token. */
	{
		char *origin = tu_fmt("Origin: %s", server);
		char *body = tu_fmt("token=%s", bob);
		const char *hh[] = {origin, NULL};

		x = http("/ui/session", body, hh);
		sc = header(&x, "Set-Cookie");
		cr_assert_not_null(sc);
		cr_assert_eq(strlen(sc),
		    strlen("jitca_ui=") + 64 +
			strlen("; Path=/ui; Max-Age=43200; HttpOnly; "
			       "SameSite=Strict"));
		cr_assert_not_null(strstr(sc,
		    "; Path=/ui; Max-Age=43200; HttpOnly; SameSite=Strict"));
		cr_assert_null(strstr(sc, bob));
		page_headers(&x);
		free(origin);
		free(body);
	}
	cookie = sign_in(bob);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		x = page(cookie, paths[i]);
		page_headers(&x);
	}
	x = page(cookie, "/ui/ledger?since=bogus");
	cr_assert_eq(x.status, 400);
	/* The CSS: the embedded bytes of web/static/ui.css, a strong ETag
	 * of their SHA-256, a year of caching, 304 on a match. */
	css_path = tu_fmt("%s/web/static/ui.css", tu_env("JITCA_SOURCE_DIR"));
	css = tu_read_file(css_path, &len);
	SHA256((const uint8_t *)css, len, sum);
	for (i = 0; i < sizeof(sum); i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	want = tu_fmt("\"%s\"", hex);
	x = http("/ui/static/ui.css", NULL, NULL);
	cr_assert_eq(x.status, 200);
	cr_assert_str_eq(x.body, css);
	etag = header(&x, "ETag");
	cr_assert_str_eq(etag, want);
	cr_assert_str_eq(
	    header(&x, "Cache-Control"), "public, max-age=31536000, immutable");
	cr_assert_str_eq(header(&x, "Content-Type"), "text/css; charset=utf-8");
	h[0] = tu_keep(tu_fmt("If-None-Match: %s", want));
	h[1] = NULL;
	x = http("/ui/static/ui.css", NULL, h);
	cr_assert_eq(x.status, 304);
	x = http("/ui/static/nope.js", NULL, NULL);
	cr_assert_eq(x.status, 404);
	/* /ui goes to /ui/. */
	x = http("/ui", NULL, NULL);
	cr_assert_eq(x.status, 303);
	cr_assert_str_eq(header(&x, "Location"), "/ui/");
	free(css_path);
	free(css);
	free(want);
}

/* The ledger page's verify status line as bob sees it (kept). */
static const char *
verify_line(const char *cookie)
{
	struct hx x = page(cookie, "/ui/ledger");
	const char *p = strstr(x.body, "id=\"verify\">"), *e;

	cr_assert_eq(x.status, 200, "%ld: %s", x.status, x.body);
	cr_assert_not_null(p, "no verify status in: %s", x.body);
	p += strlen("id=\"verify\">");
	e = strstr(p, "</p>");
	cr_assert_not_null(e);
	return tu_keep(tu_fmt("%.*s", (int)(e - p), p));
}

/* line ends with " (checked at HH:MM:SS UTC)" then tail, at a second of
 * [from, to] (the UTC clock). */
static void
checked_between(const char *line, const char *tail, time_t from, time_t to)
{
	char want[64];
	struct tm tm;
	size_t n = strlen(line), k;
	time_t t;

	for (t = from; t <= to; t++) {
		gmtime_r(&t, &tm);
		k = strftime(
		    want, sizeof(want), " (checked at %H:%M:%S UTC)", &tm);
		snprintf(want + k, sizeof(want) - k, "%s", tail);
		k = strlen(want);
		if (n >= k && strcmp(line + n - k, want) == 0)
			return;
	}
	cr_assert_fail("not checked in [%lld, %lld]: %s", (long long)from,
	    (long long)to, line);
}

/* Edit event seq's actor in the ledger file as an attacker with write
 * access would (the trigger refusing it dropped first). */
static void
tamper(int seq)
{
	char *sq = tu_which("sqlite3"), *cmd, *err = NULL;

	cr_assert_not_null(sq, "the sqlite3 program is required");
	cmd = tu_fmt("sqlite3 '%s/ledger.db' \"DROP TRIGGER IF EXISTS "
		     "events_no_update; UPDATE events SET actor = 'mallory' "
		     "WHERE seq = %d;\"",
	    state, seq);
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s: %s", cmd, err);
	free(sq);
	free(cmd);
	free(err);
}

Test(ui, ledger_verify_is_cached)
{
	const char *cookie = sign_in(bob), *first, *again;
	char *want, *out = NULL, *err = NULL;
	time_t t0, t1;
	int64_t n;

	n = ledger_count();
	t0 = time(NULL);
	first = verify_line(cookie);
	t1 = time(NULL);
	want = tu_fmt("Hash chain verified: %lld events intact", (long long)n);
	cr_assert_eq(strncmp(first, want, strlen(want)), 0, "%s", first);
	checked_between(first, ".", t0, t1);
	/* Within UI_VERIFY_MAX_AGE_S the page shows the same check, with
	 * the same time, although the chain is now broken... */
	tamper(2);
	again = verify_line(cookie);
	cr_assert_str_eq(again, first);
	/* ...which the full check sees. */
	cr_assert_eq(
	    tu_jitcad(state, "ledger verify", &out, &err), 1, "%s%s", out, err);
	cr_assert_not_null(strstr(err, "seq 2"), "%s", err);
	free(want);
	free(out);
	free(err);
}

Test(ui, ledger_verify_max_age_zero)
{
	char *log = tu_fmt("%s/serve0.log", dir);
	const char *cookie, *line;
	time_t t0, t1;

	/* Every view verifies. */
	tu_stop(&serve_pid);
	free(server);
	cr_assert_eq(setenv("JITCA_TEST_UI_VERIFY_MAX_AGE", "0", 1), 0);
	server = tu_serve_start(state, log, NULL, NULL, &serve_pid);
	unsetenv("JITCA_TEST_UI_VERIFY_MAX_AGE");
	cookie = sign_in(bob);
	line = verify_line(cookie);
	cr_assert_eq(strncmp(line, "Hash chain verified: ",
			 strlen("Hash chain verified: ")),
	    0, "%s", line);
	tamper(3);
	t0 = time(NULL);
	line = verify_line(cookie);
	t1 = time(NULL);
	cr_assert_eq(strncmp(line, "Hash chain BROKEN at seq 3: ",
			 strlen("Hash chain BROKEN at seq 3: ")),
	    0, "%s", line);
	checked_between(line, "", t0, t1);
	free(log);
}

/* Restart jitcad serve with an "oidc" block naming the test provider,
 * whose only user is erin (sre-leads), approver_max_auth_age max_age. */
static void
serve_with_oidc(const char *max_age)
{
	static const char users_json[] = "{\"erin\": [\"sre-leads\"]}";
	char *users = tu_fmt("%s/oidc-users.json", dir);
	char *cfgp = tu_fmt("%s/jitca.json", state);
	char *log = tu_fmt("%s/serve2.log", dir), *prov;
	json_t *cfg;
	json_error_t jerr;

	tu_write_file(users, users_json, sizeof(users_json) - 1, 0600);
	setenv("JITCA_OIDC_USERS", users, 1);
	prov = tu_oidc_start(dir, "prov", &prov_pid);
	tu_stop(&serve_pid);
	cfg = json_load_file(cfgp, 0, &jerr);
	cr_assert_not_null(cfg, "%s", jerr.text);
	cr_assert_eq(json_object_set_new(cfg, "oidc",
			 json_pack("{s:s,s:s,s:[s,s,s],s:s,s:s}", "issuer",
			     prov, "client_id", "jitca", "scopes", "openid",
			     "profile", "groups", "approver_max_auth_age",
			     max_age, "session_max_ttl", "30m")),
	    0);
	cr_assert_eq(json_dump_file(cfg, cfgp, JSON_INDENT(2)), 0);
	json_decref(cfg);
	free(server);
	server = tu_serve_start(state, log, NULL, NULL, &serve_pid);
	tu_keep(prov);
	free(users);
	free(cfgp);
	free(log);
}

Test(ui, oidc_sign_in_from_the_link)
{
	long id = request(alice, "INC-10 via the provider");
	json_t *cj, *j, *api;
	char *want;

	serve_with_oidc("10m");
	cj = json_pack("{s:s,s:s,s:s,s:s,s:I}", "mode", "oidc", "base", server,
	    "out", shots_dir(), "login", "erin", "request", (json_int_t)id);
	j = browser(cj);
	want = tu_fmt("/ui/oidc/start?next=%%2Fui%%2Frequests%%2F%ld", id);
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "oidc_link")), want);
	free(want);
	want = tu_fmt("%s/ui/requests/%ld", server, id);
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "after_url")), want);
	cr_assert_str_eq(json_string_value(json_object_get(j, "who")), "erin");
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "approved_state")), "issued");
	api = api_get(id);
	cr_assert_str_eq(
	    json_string_value(json_object_get(api, "state")), "issued");
	cr_assert_str_eq(first_approver(api), "erin");
	fprintf(stderr,
	    "test_ui: link to issued through the provider in %" JSON_INTEGER_FORMAT
	    " ms\n",
	    json_integer_value(json_object_get(j, "approve_ms")));
	free(want);
	json_decref(api);
	json_decref(j);
	json_decref(cj);
}

Test(ui, stale_sign_in_asks_again)
{
	long id = request(alice, "INC-11 after lunch");
	json_t *cj, *j;
	char *want;

	serve_with_oidc("4s");
	cj = json_pack("{s:s,s:s,s:s,s:s,s:I,s:i}", "mode", "oidc-stale",
	    "base", server, "out", shots_dir(), "login", "erin", "request",
	    (json_int_t)id, "wait", 5000);
	j = browser(cj);
	cr_assert_str_eq(json_string_value(json_object_get(j, "stale_title")),
	    "Sign in again - jitca");
	cr_assert_not_null(
	    strstr(json_string_value(json_object_get(j, "stale_message")),
		"needs a sign-in within the last 4 seconds"));
	want = tu_fmt("/ui/oidc/start?fresh=1&next=/ui/requests/%ld", id);
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "again_link")), want);
	cr_assert(json_is_true(json_object_get(j, "login_asked_again")));
	cr_assert_str_eq(
	    json_string_value(json_object_get(j, "approved_state")), "issued");
	cr_assert_str_eq(api_state(id), "issued");
	free(want);
	json_decref(j);
	json_decref(cj);
}

Test(ui, tls_cookie_is_secure)
{
	char *key = tu_fmt("%s/tls.key", dir), *log = tu_fmt("%s/tls.log", dir);
	char *cmd, *origin, *body = tu_fmt("token=%s", bob);
	const char *h[2], *sc;
	struct hx x;

	cafile = tu_fmt("%s/tls.crt", dir);
	cmd = tu_fmt("openssl req -x509 -newkey ec -pkeyopt "
		     "ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
		     "-addext subjectAltName=IP:127.0.0.1 -days 1 "
		     "-keyout '%s' -out '%s' 2>/dev/null",
	    key, cafile);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	tu_stop(&serve_pid);
	free(server);
	server = tu_serve_start(state, log, cafile, key, &serve_pid);
	cr_assert_eq(strncmp(server, "https://", 8), 0, "%s", server);
	/* The plain-http origin of the same host is another origin. */
	origin = tu_fmt("Origin: http://%s", server + 8);
	h[0] = origin;
	h[1] = NULL;
	x = http("/ui/session", body, h);
	cr_assert_eq(x.status, 403);
	free(origin);
	origin = tu_fmt("Origin: %s", server);
	h[0] = origin;
	x = http("/ui/session", body, h);
	cr_assert_eq(x.status, 303, "%ld %s", x.status, x.body);
	sc = header(&x, "Set-Cookie");
	cr_assert_not_null(sc);
	cr_assert_not_null(strstr(sc,
	    "; Path=/ui; Max-Age=43200; HttpOnly; SameSite=Strict; Secure"));
	page_headers(&x);
	free(origin);
	free(cmd);
	free(body);
	free(key);
	free(log);
}
