/*
 * test_http.c: the HTTP layer (web/http.c) on its own, with toy routes:
 * routing (404, 405 + Allow, {id}), the strict JSON reader, the 64 KiB
 * body cap (413 by Content-Length and by chunked upload), failed-token
 * throttling (429 + Retry-After), response counters, quiesce and drain,
 * and TLS with a self-signed certificate made by openssl in the test.
 * The endpoints of jitcad serve are tested in test_api.c.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>

#include "tests/lib/testutil.h"
#include "web/http.h"

struct resp {
	long status;
	char *body;
	size_t len;
	char hdrs[4096];
	size_t hlen;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	char *nb = realloc(r->body, r->len + sz * n + 1);

	cr_assert_not_null(nb);
	r->body = nb;
	memcpy(r->body + r->len, p, sz * n);
	r->len += sz * n;
	r->body[r->len] = '\0';
	return sz * n;
}

static size_t
on_hdr(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t k = sz * n;

	if (r->hlen + k < sizeof(r->hdrs)) {
		memcpy(r->hdrs + r->hlen, p, k);
		r->hlen += k;
		r->hdrs[r->hlen] = '\0';
	}
	return k;
}

/* Strings the tests allocate, freed at teardown. */
static void *pool[1024];
static size_t npool;

static void *
keep(void *p)
{
	if (p != NULL && npool < sizeof(pool) / sizeof(pool[0]))
		pool[npool++] = p;
	return p;
}

static void
pool_free(void)
{
	while (npool > 0)
		free(pool[--npool]);
}

struct chunked {
	size_t left;
};

static size_t
on_read(char *buf, size_t sz, size_t n, void *ud)
{
	struct chunked *c = ud;
	size_t k = sz * n;

	if (k > c->left)
		k = c->left;
	memset(buf, ' ', k);
	c->left -= k;
	return k;
}

/* One request; returns curl's result.  body NULL and chunked_len > 0:
 * a chunked upload of that many bytes. */
static CURLcode
req_full(struct resp *r, const char *method, const char *url, const char *body,
    const char *token, long chunked_len, const char *cafile)
{
	CURLcode rc;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct chunked ch = {0};
	char *auth = NULL;

	memset(r, 0, sizeof(*r));
	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_hdr);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (cafile != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (token != NULL) {
		auth = tu_fmt("Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (chunked_len > 0) {
		ch.left = (size_t)chunked_len;
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &ch);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(auth);
	keep(r->body);
	if (r->body == NULL)
		r->body = keep(strdup(""));
	return rc;
}

static void
req(struct resp *r, const char *method, const char *url, const char *body,
    const char *token, long chunked_len, const char *cafile)
{
	cr_assert_eq(req_full(r, method, url, body, token, chunked_len, cafile),
	    CURLE_OK, "%s %s", method, url);
}

static void
req_head(struct resp *r, const char *url)
{
	CURL *c = curl_easy_init();

	memset(r, 0, sizeof(*r));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	keep(r->body);
}

static CURLcode
req_rc(struct resp *r, const char *method, const char *url, long chunked_len)
{
	return req_full(r, method, url, NULL, NULL, chunked_len, NULL);
}

/* A field of the JSON error body ("" when none). */
static char *
err_field(const struct resp *r, const char *field)
{
	json_t *j = json_loads(r->body != NULL ? r->body : "", 0, NULL);
	const char *c = NULL;
	char *out;

	if (j != NULL)
		c = json_string_value(
		    json_object_get(json_object_get(j, "error"), field));
	out = keep(strdup(c != NULL ? c : ""));
	json_decref(j);
	return out;
}

static char *
err_code(const struct resp *r)
{
	return err_field(r, "code");
}

static void
h_hello(void *app, struct http_req *req)
{
	(void)app;
	http_reply(req, 200, "text/plain", "hello\n", 6);
}

static void
h_item(void *app, struct http_req *req)
{
	json_t *j = json_pack("{s:s}", "id", http_req_param(req));

	(void)app;
	http_reply_json(req, 200, j);
	json_decref(j);
}

static void
h_echo(void *app, struct http_req *req)
{
	const char *name = NULL;
	int64_t n = 0;
	json_t *list = NULL, *j;
	int have_n = 0;
	struct http_jfield f[] = {
	    {"name", HTTP_J_STRING, 1, 16, &name, NULL, NULL, NULL},
	    {"n", HTTP_J_INT, 0, 0, NULL, &n, NULL, &have_n},
	    {"list", HTTP_J_STRINGS, 0, 3, NULL, NULL, &list, NULL},
	};

	(void)app;
	if (http_req_json(req, f, 3, 0) != 0)
		return;
	j = json_pack("{s:s,s:I,s:b,s:I}", "name", name, "n", (json_int_t)n,
	    "have_n", have_n, "list", (json_int_t)json_array_size(list));
	http_reply_json(req, 200, j);
	json_decref(j);
}

static void
h_size(void *app, struct http_req *req)
{
	size_t len;
	char buf[32];

	(void)app;
	(void)http_req_body(req, &len);
	snprintf(buf, sizeof(buf), "%zu", len);
	http_reply(req, 200, "text/plain", buf, strlen(buf));
}

static void
h_auth(void *app, struct http_req *req)
{
	const char *t;

	(void)app;
	if (http_req_auth_throttled(req))
		return;
	t = http_req_bearer(req);
	if (t == NULL || strcmp(t, "good") != 0) {
		http_req_auth_failed(req);
		http_reply_error(req, 401, "bad_token", "bad token");
		return;
	}
	http_req_set_user(req, "alice");
	http_reply(req, 200, "text/plain", "ok", 2);
}

static void
h_slow(void *app, struct http_req *req)
{
	(void)app;
	usleep(500 * 1000);
	http_reply(req, 200, "text/plain", "slow", 4);
}

static void
h_none(void *app, struct http_req *req)
{
	(void)app;
	(void)req;
}

static const struct http_route routes[] = {
    {"GET", "/hello", h_hello},
    {"GET", "/items/{id}", h_item},
    {"POST", "/items/{id}/echo", h_echo},
    {"POST", "/size", h_size},
    {"PUT", "/size", h_size},
    {"GET", "/auth", h_auth},
    {"GET", "/slow", h_slow},
    {"GET", "/none", h_none},
};

static struct http_server *srv;
static int port;
static char base[64];

static void
start(const char *cert, const char *key)
{
	struct http_config cfg;
	char err[HTTP_ERR_LEN];
	int fd;

	cr_assert_eq(http_listen("127.0.0.1:0", &fd, &port, err), 0, "%s", err);
	cr_assert_gt(port, 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen_fd = fd;
	cfg.tls_cert_pem = cert;
	cfg.tls_key_pem = key;
	cfg.auth_fail_burst = 3;
	cfg.auth_fail_refill_s = 60;
	cfg.quiet = 1;
	cfg.routes = routes;
	cfg.nroutes = sizeof(routes) / sizeof(routes[0]);
	cr_assert_eq(http_server_start(&srv, &cfg, err), 0, "%s", err);
	snprintf(base, sizeof(base), "%s://127.0.0.1:%d",
	    cert != NULL ? "https" : "http", port);
}

static void
setup(void)
{
	start(NULL, NULL);
}

static void
teardown(void)
{
	http_server_stop(srv);
	srv = NULL;
	pool_free();
}

static char *
url(const char *path)
{
	return keep(tu_fmt("%s%s", base, path));
}

TestSuite(http, .init = setup, .fini = teardown);

Test(http, routes_and_params)
{
	struct resp r;
	char *c;

	req(&r, "GET", url("/hello"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "hello\n");
	req(&r, "GET", url("/items/42"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "{\"id\":\"42\"}\n");
	cr_assert(strstr(r.hdrs, "Content-Type: application/json") != NULL);
	req(&r, "GET", url("/items/"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 404);
	c = err_code(&r);
	cr_assert_str_eq(c, "not_found");
	req(&r, "GET", url("/items/1/2"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 404);
	req(&r, "GET", url("/nope"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 404);
	req(&r, "DELETE", url("/hello"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 405);
	c = err_code(&r);
	cr_assert_str_eq(c, "method_not_allowed");
	cr_assert(strstr(r.hdrs, "Allow: GET") != NULL, "%s", r.hdrs);
	req(&r, "GET", url("/size"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 405);
	cr_assert(strstr(r.hdrs, "Allow: POST, PUT") != NULL, "%s", r.hdrs);
	req_head(&r, url("/hello"));
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.len, 0);
	req(&r, "GET", url("/none"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 500);
	c = err_code(&r);
	cr_assert_str_eq(c, "internal");
	cr_assert_eq(http_server_status_count(srv, 200), 3);
	cr_assert_eq(http_server_status_count(srv, 404), 3);
	cr_assert_eq(http_server_status_count(srv, 405), 2);
	cr_assert_eq(http_server_status_count(srv, 500), 1);
}

struct jcase {
	const char *body;
	long status;
	const char *code;
	const char *needle; /* in the message */
};

Test(http, strict_json)
{
	static const struct jcase cases[] = {
	    {"{\"name\":\"bob\"}", 200, NULL, "\"have_n\":false"},
	    {"{\"name\":\"bob\",\"n\":7,\"list\":[\"a\"]}", 200, NULL,
		"\"n\":7"},
	    {"", 400, "invalid_json", "JSON object"},
	    {"[]", 400, "invalid_json", "JSON object"},
	    {"\"x\"", 400, "invalid_json", "JSON object"},
	    {"{", 400, "invalid_json", "not valid JSON"},
	    {"{\"name\":\"bob\"} x", 400, "invalid_json", "not valid JSON"},
	    {"{\"name\":\"a\",\"name\":\"b\"}", 400, "invalid_json",
		"duplicate"},
	    {"{\"name\":\"bob\",\"extra\":1}", 400, "unknown_field",
		"\"extra\""},
	    {"{}", 400, "missing_field", "\"name\""},
	    {"{\"name\":null}", 400, "missing_field", "\"name\""},
	    {"{\"name\":5}", 400, "wrong_type", "\"name\" must be a string"},
	    {"{\"name\":\"b\",\"n\":\"7\"}", 400, "wrong_type",
		"\"n\" must be an integer"},
	    {"{\"name\":\"b\",\"n\":7.5}", 400, "wrong_type", "\"n\""},
	    {"{\"name\":\"b\",\"n\":true}", 400, "wrong_type", "\"n\""},
	    {"{\"name\":\"b\",\"list\":\"a\"}", 400, "wrong_type",
		"\"list\" must be an array of strings"},
	    {"{\"name\":\"b\",\"list\":[1]}", 400, "wrong_type", "\"list\""},
	    {"{\"name\":\"b\",\"list\":[\"a\",\"b\",\"c\",\"d\"]}", 400,
		"field_too_long", "\"list\""},
	    {"{\"name\":\"0123456789abcdefg\"}", 400, "field_too_long",
		"\"name\""},
	    {"{\"name\":\"a\\u0000b\"}", 400, "invalid_json", "not valid"},
	    {"{\"name\":\"b\",\"x\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9x\":1}",
		400, "unknown_field", "unknown field"},
	};
	struct resp r;
	size_t i;
	char *c;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req(&r, "POST", url("/items/1/echo"), cases[i].body, NULL, 0,
		    NULL);
		cr_assert_eq(r.status, cases[i].status, "case %zu: %ld %s", i,
		    r.status, r.body);
		if (cases[i].code != NULL) {
			c = err_code(&r);
			cr_assert_str_eq(c, cases[i].code, "case %zu", i);
		}
		cr_assert(
		    strstr(cases[i].code != NULL ? err_field(&r, "message")
						 : r.body,
			cases[i].needle) != NULL,
		    "case %zu: %s", i, r.body);
	}
}

Test(http, body_limit)
{
	struct resp r;
	char *big, *c;

	big = malloc(HTTP_MAX_BODY + 2);
	cr_assert_not_null(big);
	memset(big, ' ', HTTP_MAX_BODY + 1);
	big[HTTP_MAX_BODY] = '\0';
	req(&r, "POST", url("/size"), big, NULL, 0, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(atoll(r.body), HTTP_MAX_BODY);
	big[HTTP_MAX_BODY] = ' ';
	big[HTTP_MAX_BODY + 1] = '\0';
	req(&r, "POST", url("/size"), big, NULL, 0, NULL);
	cr_assert_eq(r.status, 413);
	c = err_code(&r);
	cr_assert_str_eq(c, "body_too_large");
	/* Chunked, no Content-Length: found out while reading. */
	req(&r, "PUT", url("/size"), NULL, NULL, 1000, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "1000");
	req(&r, "PUT", url("/size"), NULL, NULL, 200L * 1024, NULL);
	cr_assert_eq(r.status, 413);
	c = err_code(&r);
	cr_assert_str_eq(c, "body_too_large");
	/* Far over: cut off rather than read forever. */
	cr_assert_neq(
	    req_rc(&r, "PUT", url("/size"), 10L * 1024 * 1024), CURLE_OK);
	/* Still healthy. */
	req(&r, "GET", url("/hello"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 200);
	free(big);
}

Test(http, auth_throttle)
{
	struct resp r;
	int i;
	char *c;

	req(&r, "GET", url("/auth"), NULL, "good", 0, NULL);
	cr_assert_eq(r.status, 200);
	for (i = 0; i < 3; i++) {
		req(&r, "GET", url("/auth"), NULL, "bad", 0, NULL);
		cr_assert_eq(r.status, 401, "attempt %d", i);
	}
	req(&r, "GET", url("/auth"), NULL, "bad", 0, NULL);
	cr_assert_eq(r.status, 429);
	c = err_code(&r);
	cr_assert_str_eq(c, "too_many_requests");
	cr_assert(strstr(r.hdrs, "Retry-After: ") != NULL, "%s", r.hdrs);
	/* Even the right token waits: no oracle while throttled. */
	req(&r, "GET", url("/auth"), NULL, "good", 0, NULL);
	cr_assert_eq(r.status, 429);
	req(&r, "GET", url("/auth"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 429);
}

static void *
slow_thread(void *arg)
{
	struct resp *r = arg;

	req(r, "GET", url("/slow"), NULL, NULL, 0, NULL);
	return NULL;
}

Test(http, quiesce_drains_in_flight)
{
	pthread_t t;
	struct resp r;

	cr_assert_eq(pthread_create(&t, NULL, slow_thread, &r), 0);
	usleep(150 * 1000);
	http_server_quiesce(srv);
	cr_assert_eq(http_server_drain(srv, 5000), 0);
	pthread_join(t, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "slow");
}

Test(http, listen_errors)
{
	char err[HTTP_ERR_LEN];
	int fd, p;
	char *hp;

	cr_assert_eq(http_listen("nocolon", &fd, &p, err), ERR_INVALID_ARG);
	cr_assert_eq(
	    http_listen("127.0.0.1:99999", &fd, &p, err), ERR_INVALID_ARG);
	cr_assert_eq(http_listen("127.0.0.1:x", &fd, &p, err), ERR_INVALID_ARG);
	hp = keep(tu_fmt("127.0.0.1:%d", port));
	cr_assert_eq(http_listen(hp, &fd, &p, err), ERR_SYSTEM);
	cr_assert(strstr(err, "in use") != NULL, "%s", err);
}

Test(http_tls, self_signed)
{
	char *dir = keep(tu_tmpdir()), *cmd, *cert, *key, *crt_path;
	struct resp r;
	int rc;

	cmd = keep(tu_fmt("openssl req -x509 -newkey ec -pkeyopt "
			  "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
			  "/CN=localhost -addext subjectAltName=IP:127.0.0.1 "
			  "-keyout %s/key.pem -out %s/cert.pem 2>/dev/null",
	    dir, dir));
	rc = tu_sh(cmd, NULL, NULL);
	cr_assert_eq(rc, 0);
	crt_path = keep(tu_fmt("%s/cert.pem", dir));
	cert = keep(tu_read_file(crt_path, NULL));
	key = keep(tu_read_file(keep(tu_fmt("%s/key.pem", dir)), NULL));
	cr_assert(cert != NULL && key != NULL);
	start(cert, key);
	req(&r, "GET", url("/hello"), NULL, NULL, 0, crt_path);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "hello\n");
	/* Plain HTTP to the TLS port gets no answer. */
	cr_assert_neq(req_rc(&r, "GET",
			  keep(tu_fmt("http://127.0.0.1:%d/hello", port)), 0),
	    CURLE_OK);
	tu_rmtree(dir);
	teardown();
}
