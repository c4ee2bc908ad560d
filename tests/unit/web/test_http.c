/*
 * test_http.c: the HTTP layer (web/http.c) on its own, with toy routes:
 * routing (404, 405 + Allow, {id}), the strict JSON reader, the 64 KiB
 * body cap (413 by Content-Length and by chunked upload), failed-token
 * throttling (429 + Retry-After, never for the right token), the client
 * address behind trusted proxies (X-Forwarded-For), duplicate query
 * parameters and Authorization headers, response counters, descriptors
 * past FD_SETSIZE, connections per client address (trusted proxies not
 * limited), quiesce and
 * drain,
 * and TLS with a self-signed certificate made by openssl in the test.
 * The endpoints of jitcad serve are tested in test_api.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>

#include "tests/lib/httpjson.h"
#include "tests/lib/testutil.h"
#include "web/http.h"

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
req_full(struct tu_reply *r, const char *method, const char *url,
    const char *body, const char *token, long chunked_len, const char *cafile)
{
	CURLcode rc;
	CURL *c = tu_curl_new(r, method, url, 20L);
	struct curl_slist *h = NULL;
	struct chunked ch = {0};
	char *auth = NULL;

	if (cafile != NULL) {
		curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	h = tu_curl_json(c, h, token, body, &auth);
	if (body == NULL && chunked_len > 0) {
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
	tu_keep(r->body);
	if (r->body == NULL)
		r->body = tu_keep(strdup(""));
	return rc;
}

static void
req(struct tu_reply *r, const char *method, const char *url, const char *body,
    const char *token, long chunked_len, const char *cafile)
{
	cr_assert_eq(req_full(r, method, url, body, token, chunked_len, cafile),
	    CURLE_OK, "%s %s", method, url);
}

static void
req_head(struct tu_reply *r, const char *url)
{
	CURL *c = curl_easy_init();

	memset(r, 0, sizeof(*r));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	tu_keep(r->body);
}

static CURLcode
req_rc(
    struct tu_reply *r, const char *method, const char *url, long chunked_len)
{
	return req_full(r, method, url, NULL, NULL, chunked_len, NULL);
}

/* A field of the JSON error body ("" when none). */
static char *
err_field(const struct tu_reply *r, const char *field)
{
	json_t *j = json_loads(r->body != NULL ? r->body : "", 0, NULL);
	const char *c = NULL;
	char *out;

	if (j != NULL)
		c = json_string_value(
		    json_object_get(json_object_get(j, "error"), field));
	out = tu_keep(strdup(c != NULL ? c : ""));
	json_decref(j);
	return out;
}

static char *
err_code(const struct tu_reply *r)
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
	t = http_req_bearer(req);
	if (t == NULL || strcmp(t, "good") != 0) {
		if (!http_req_auth_failed(req))
			http_reply_error(req, 401, "bad_token", "bad token");
		return;
	}
	http_req_set_user(req, "alice");
	http_reply(req, 200, "text/plain", http_req_client(req),
	    strlen(http_req_client(req)));
}

/* Set when h_slow has started: the request is in flight. */
static atomic_int slow_started;

static void
h_slow(void *app, struct http_req *req)
{
	(void)app;
	atomic_store(&slow_started, 1);
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
static const char *const *proxies; /* for start() */
static size_t nproxies;
static unsigned per_client; /* for start(); 0: the default */
static FILE *log_to; /* for start(); NULL: no log */
static const char *listen_on = "127.0.0.1:0"; /* for start() */

static void
start(const char *cert, const char *key)
{
	struct http_config cfg;
	char err[HTTP_ERR_LEN];
	int fd;

	cr_assert_eq(http_listen(listen_on, &fd, &port, err), 0, "%s", err);
	cr_assert_gt(port, 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen_fd = fd;
	cfg.tls_cert_pem = cert;
	cfg.tls_key_pem = key;
	cfg.auth_fail_burst = 3;
	cfg.auth_fail_refill_s = 60;
	cfg.quiet = 1;
	cfg.trusted_proxies = proxies;
	cfg.ntrusted_proxies = nproxies;
	cfg.per_ip_limit = per_client;
	cfg.log = log_to;
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
	tu_keep_free();
}

static char *
url(const char *path)
{
	return tu_keep(tu_fmt("%s%s", base, path));
}

TestSuite(http, .init = setup, .fini = teardown);

Test(http, routes_and_params)
{
	struct tu_reply r;
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

/* Paths up to HTTP_MAX_PATH bytes are matched (and named in the
 * answer, whose message is cut at 511 bytes); a longer one matches
 * nothing and is not echoed. */
Test(http, path_length)
{
	struct tu_reply r;
	char *p = malloc(HTTP_MAX_PATH + 2), *want;

	cr_assert_not_null(p);
	p[0] = '/';
	memset(p + 1, 'a', HTTP_MAX_PATH);
	p[HTTP_MAX_PATH] = '\0';
	req(&r, "GET", url(p), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 404);
	cr_assert_str_eq(err_code(&r), "not_found");
	want = tu_keep(tu_fmt("no such path: %s", p));
	want[511] = '\0';
	cr_assert_str_eq(err_field(&r, "message"), want);
	p[HTTP_MAX_PATH] = 'a';
	p[HTTP_MAX_PATH + 1] = '\0';
	req(&r, "GET", url(p), NULL, NULL, 0, NULL);
	free(p);
	cr_assert_eq(r.status, 404);
	cr_assert_str_eq(err_field(&r, "message"), "no such path");
	req(&r, "GET", url("/hello"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 200);
}

/*
 * A server whose descriptors are numbered past FD_SETSIZE (a busy jitcad
 * with many connections and ledger files open) still serves: select()
 * cannot watch such a descriptor, poll() can.
 */
Test(http, serves_descriptors_past_fd_setsize)
{
	struct rlimit rl;
	struct tu_reply r;
	int fds[1100], n = 0, fd;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 2048) {
		cr_assert_geq(rl.rlim_max, 2048, "the hard limit is %llu",
		    (unsigned long long)rl.rlim_max);
		rl.rlim_cur = 2048;
		cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	do
		cr_assert_geq(fds[n++] = fd = dup(0), 0);
	while (n < 1100 && fd < FD_SETSIZE + 8);
	cr_assert_geq(fds[n - 1], FD_SETSIZE);
	req(&r, "GET", url("/hello"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "hello\n");
	while (n > 0)
		close(fds[--n]);
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
	struct tu_reply r;
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
	struct tu_reply r;
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
	struct tu_reply r;
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
	/* Only failures are throttled: the right token gets through, and
	 * does not refill the bucket for the wrong ones. */
	for (i = 0; i < 40; i++) {
		req(&r, "GET", url("/auth"), NULL, "bad", 0, NULL);
		cr_assert_eq(r.status, 429, "attempt %d", i);
	}
	req(&r, "GET", url("/auth"), NULL, "good", 0, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "127.0.0.1");
	req(&r, "GET", url("/auth"), NULL, "bad", 0, NULL);
	cr_assert_eq(r.status, 429);
	req(&r, "GET", url("/auth"), NULL, NULL, 0, NULL);
	cr_assert_eq(r.status, 429);
}

/* GET path with up to three extra header lines (NULL: none). */
static void
req_hdrs3(struct tu_reply *r, const char *path, const char *h1, const char *h2,
    const char *h3)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;

	memset(r, 0, sizeof(*r));
	cr_assert_not_null(c);
	curl_easy_setopt(c, CURLOPT_URL, url(path));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_curl_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, tu_curl_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (h1 != NULL)
		h = curl_slist_append(h, h1);
	if (h2 != NULL)
		h = curl_slist_append(h, h2);
	if (h3 != NULL)
		h = curl_slist_append(h, h3);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	tu_keep(r->body);
	if (r->body == NULL)
		r->body = tu_keep(strdup(""));
}

static void
req_hdrs(struct tu_reply *r, const char *path, const char *h1, const char *h2)
{
	req_hdrs3(r, path, h1, h2, NULL);
}

Test(http, duplicates_refused)
{
	struct tu_reply r;

	req_hdrs(&r, "/items/7?a=1&b=2", NULL, NULL);
	cr_assert_eq(r.status, 200);
	req_hdrs(&r, "/items/7?a=1&b=2&a=3", NULL, NULL);
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(err_code(&r), "bad_query");
	cr_assert_str_eq(err_field(&r, "message"),
	    "query parameter \"a\" is given more than once");
	req_hdrs(&r, "/items/7?state&state=x", NULL, NULL);
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(err_field(&r, "message"),
	    "query parameter \"state\" is given more than once");
	req_hdrs(&r,
	    "/items/7?a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1&l=1&m=1&"
	    "n=1&o=1&p=1&q=1&r=1&s=1&t=1&u=1&v=1&w=1&x=1&y=1&z=1&A=1&B=1&"
	    "C=1&D=1&E=1&F=1&G=1",
	    NULL, NULL);
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(
	    err_field(&r, "message"), "more than 32 query parameters");
	req_hdrs(&r, "/auth", "Authorization: Bearer good",
	    "authorization: Bearer bad");
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(err_code(&r), "duplicate_header");
	cr_assert_str_eq(err_field(&r, "message"),
	    "the Authorization header is given more than once");
	req_hdrs(&r, "/auth", "Authorization: Bearer good", NULL);
	cr_assert_eq(r.status, 200);
}

/* Without trusted proxies X-Forwarded-For is ignored. */
Test(http, forwarded_for_ignored)
{
	struct tu_reply r;

	req_hdrs(&r, "/auth", "Authorization: Bearer good",
	    "X-Forwarded-For: 203.0.113.9");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "127.0.0.1");
}

struct xcase {
	const char *xff; /* NULL: no header; a second header after '|' */
	const char *client;
};

Test(http, forwarded_for_trusted)
{
	static const char *const px[] = {
	    "127.0.0.1", "10.0.0.0/8", "2001:db8::/32"};
	static const struct xcase cases[] = {
	    {NULL, "127.0.0.1"},
	    {"203.0.113.9", "203.0.113.9"},
	    {" 203.0.113.9 ", "203.0.113.9"},
	    /* the right-most untrusted entry, not the left-most */
	    {"198.51.100.1, 203.0.113.9", "203.0.113.9"},
	    {"198.51.100.1, 10.2.3.4, 10.9.9.9", "198.51.100.1"},
	    {"198.51.100.1|10.2.3.4", "198.51.100.1"},
	    {"2001:db8::5, 10.1.1.1", "2001:db8::5"},
	    {"2001:db9::5, 2001:db8::7", "2001:db9::5"},
	    /* every hop trusted: the left-most */
	    {"10.1.1.1, 10.2.2.2", "10.1.1.1"},
	    /* not an address: stop at the hop that sent it */
	    {"198.51.100.1, junk", "127.0.0.1"},
	    {"junk, 10.4.4.4", "10.4.4.4"},
	    {"198.51.100.1,, 10.4.4.4", "10.4.4.4"},
	    {"10.0.0.0/8", "127.0.0.1"},
	    {"", "127.0.0.1"},
	};
	struct tu_reply r;
	size_t i;

	http_server_stop(srv);
	srv = NULL;
	proxies = px;
	nproxies = 3;
	start(NULL, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *x = cases[i].xff, *bar;
		char *h1 = NULL, *h2 = NULL;

		if (x != NULL && (bar = strchr(x, '|')) != NULL) {
			h1 = tu_keep(
			    tu_fmt("X-Forwarded-For: %.*s", (int)(bar - x), x));
			h2 = tu_keep(tu_fmt("X-Forwarded-For: %s", bar + 1));
		} else if (x != NULL)
			h1 = tu_keep(tu_fmt("X-Forwarded-For: %s", x));
		req_hdrs3(&r, "/auth", "Authorization: Bearer good", h1, h2);
		cr_assert_eq(r.status, 200, "case %zu", i);
		cr_assert_str_eq(r.body, cases[i].client, "case %zu (%s)", i,
		    x != NULL ? x : "none");
	}
	/* Failures count per forwarded address. */
	for (i = 0; i < 3; i++) {
		req_hdrs(&r, "/auth", "Authorization: Bearer bad",
		    "X-Forwarded-For: 203.0.113.1");
		cr_assert_eq(r.status, 401);
	}
	req_hdrs(&r, "/auth", "Authorization: Bearer bad",
	    "X-Forwarded-For: 203.0.113.1");
	cr_assert_eq(r.status, 429);
	cr_assert(
	    strncmp(err_field(&r, "message"),
		"too many failed token attempts from 203.0.113.1;", 48) == 0,
	    "%s", r.body);
	req_hdrs(&r, "/auth", "Authorization: Bearer bad",
	    "X-Forwarded-For: 203.0.113.2");
	cr_assert_eq(r.status, 401);
	req_hdrs(&r, "/auth", "Authorization: Bearer bad", NULL);
	cr_assert_eq(r.status, 401);
	proxies = NULL;
	nproxies = 0;
}

Test(http, trusted_proxies_refused)
{
	static const char *const bad[] = {"10.0.0.0/33"};
	struct http_config cfg;
	struct http_server *s2 = NULL;
	char err[HTTP_ERR_LEN];
	int fd, p;

	cr_assert_eq(http_listen("127.0.0.1:0", &fd, &p, err), 0, "%s", err);
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen_fd = fd;
	cfg.routes = routes;
	cfg.nroutes = 1;
	cfg.trusted_proxies = bad;
	cfg.ntrusted_proxies = 1;
	cr_assert_eq(http_server_start(&s2, &cfg, err), ERR_INVALID_ARG);
	cr_assert_str_eq(
	    err, "trusted proxy \"10.0.0.0/33\" is not an address or CIDR");
	cr_assert_null(s2);
	close(fd);
}

/* Back to the suite's server: the defaults of start()'s settings. */
static void
restart_plain(void)
{
	http_server_stop(srv);
	srv = NULL;
	proxies = NULL;
	nproxies = 0;
	per_client = 0;
	listen_on = "127.0.0.1:0";
	start(NULL, NULL);
}

/* A TCP connection to the server. */
static int
raw_connect(void)
{
	struct sockaddr_in sa;
	struct timeval tv = {10, 0};
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_geq(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
	    "connect: %s", strerror(errno));
	cr_assert_eq(
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return fd;
}

/* GET /hello on fd, which stays open: 1 when the answer came, 0 when the
 * server closed the connection without sending a byte. */
static int
raw_hello(int fd)
{
	static const char rq[] = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";
	char buf[1024];
	size_t got = 0;
	ssize_t n;

	if (send(fd, rq, sizeof(rq) - 1, MSG_NOSIGNAL) < 0) {
		cr_assert(errno == EPIPE || errno == ECONNRESET, "send: %s",
		    strerror(errno));
		return 0;
	}
	while (got < sizeof(buf) - 1) {
		if ((n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) < 0) {
			cr_assert_eq(
			    errno, ECONNRESET, "recv: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\nhello\n") != NULL) {
			cr_assert(
			    strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "%s", buf);
			return 1;
		}
	}
	cr_assert_eq(got, 0, "a partial answer: %.*s", (int)got, buf);
	return 0;
}

Test(http, connections_per_client)
{
	char line[512];
	int a, b, c, d, refused = 0, waited;

	http_server_stop(srv);
	per_client = 2;
	cr_assert_not_null(log_to = tmpfile());
	start(NULL, NULL);
	a = raw_connect();
	cr_assert_eq(raw_hello(a), 1);
	b = raw_connect();
	cr_assert_eq(raw_hello(b), 1);
	/* A third from the same address: closed before it is read. */
	c = raw_connect();
	cr_assert_eq(raw_hello(c), 0);
	close(c);
	cr_assert_eq(http_server_refused_count(srv), 1);
	/* Said once, with the address and the setting. */
	rewind(log_to);
	cr_assert_not_null(fgets(line, sizeof(line), log_to));
	cr_assert(strstr(line,
		      "Z connection from 127.0.0.1 refused: it holds "
		      "2 already, the limit per client address "
		      "(server.connections_per_client); 1 refused "
		      "since the last such line\n") != NULL,
	    "%s", line);
	/* A second within 10 s is counted, not said. */
	c = raw_connect();
	cr_assert_eq(raw_hello(c), 0);
	close(c);
	cr_assert_eq(http_server_refused_count(srv), 2);
	rewind(log_to);
	cr_assert_not_null(fgets(line, sizeof(line), log_to));
	cr_assert_null(fgets(line, sizeof(line), log_to), "%s", line);
	/* The two admitted ones go on. */
	cr_assert_eq(raw_hello(a), 1);
	cr_assert_eq(raw_hello(b), 1);
	/* One closed: its place is free again once the server has seen
	 * the close (it does so on its own thread: polled). */
	close(b);
	for (waited = 0;; waited += 10) {
		d = raw_connect();
		if (raw_hello(d))
			break;
		close(d);
		refused++;
		cr_assert_lt(waited, 10000,
		    "the closed connection's place "
		    "was never freed");
		usleep(10 * 1000);
	}
	cr_assert_eq(http_server_refused_count(srv), 2 + (uint64_t)refused);
	close(a);
	close(d);
	http_server_stop(srv); /* before its log goes */
	srv = NULL;
	fclose(log_to);
	log_to = NULL;
	restart_plain();
}

Test(http, connections_per_client_not_for_trusted_proxies)
{
	static const char *const px[] = {"127.0.0.1"};
	int fds[5];
	size_t i;

	http_server_stop(srv);
	proxies = px;
	nproxies = 1;
	per_client = 2;
	start(NULL, NULL);
	for (i = 0; i < 5; i++) {
		fds[i] = raw_connect();
		cr_assert_eq(raw_hello(fds[i]), 1, "connection %zu", i);
	}
	for (i = 0; i < 5; i++)
		cr_assert_eq(raw_hello(fds[i]), 1, "connection %zu again", i);
	cr_assert_eq(http_server_refused_count(srv), 0);
	for (i = 0; i < 5; i++)
		close(fds[i]);
	restart_plain();
}

/* On a dual-stack socket an IPv4 peer is ::ffff:127.0.0.1: it is still
 * 127.0.0.1, for trusted_proxies and for the client address. */
Test(http, dual_stack_peer_is_ipv4)
{
	static const char *const px[] = {"127.0.0.1"};
	struct tu_reply r;
	int fds[3];
	size_t i;

	http_server_stop(srv);
	listen_on = "[::]:0";
	per_client = 2;
	start(NULL, NULL);
	req_hdrs(&r, "/auth", "Authorization: Bearer good", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "127.0.0.1");
	http_server_stop(srv);
	proxies = px;
	nproxies = 1;
	start(NULL, NULL);
	req_hdrs(&r, "/auth", "Authorization: Bearer good",
	    "X-Forwarded-For: 203.0.113.9");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "203.0.113.9");
	/* A trusted proxy: not held to per_client (2). */
	for (i = 0; i < 3; i++) {
		fds[i] = raw_connect();
		cr_assert_eq(raw_hello(fds[i]), 1, "connection %zu", i);
	}
	cr_assert_eq(http_server_refused_count(srv), 0);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	restart_plain();
}

static void *
slow_thread(void *arg)
{
	struct tu_reply *r = arg;

	req(r, "GET", url("/slow"), NULL, NULL, 0, NULL);
	return NULL;
}

Test(http, quiesce_drains_in_flight)
{
	pthread_t t;
	struct tu_reply r;
	int waited;

	atomic_store(&slow_started, 0);
	cr_assert_eq(pthread_create(&t, NULL, slow_thread, &r), 0);
	/* Quiesce only once the request is in flight (polled: a fixed
	 * wait races on a loaded machine). */
	for (waited = 0; waited < 20000 && !atomic_load(&slow_started);
	     waited += 10)
		usleep(10 * 1000);
	cr_assert(atomic_load(&slow_started), "GET /slow never arrived");
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
	hp = tu_keep(tu_fmt("127.0.0.1:%d", port));
	cr_assert_eq(http_listen(hp, &fd, &p, err), ERR_SYSTEM);
	cr_assert(strstr(err, "in use") != NULL, "%s", err);
}

Test(http_tls, self_signed)
{
	char *dir = tu_keep(tu_tmpdir()), *cmd, *cert, *key, *crt_path;
	struct tu_reply r;
	int rc;

	cmd =
	    tu_keep(tu_fmt("openssl req -x509 -newkey ec -pkeyopt "
			   "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
			   "/CN=localhost -addext subjectAltName=IP:127.0.0.1 "
			   "-keyout %s/key.pem -out %s/cert.pem 2>/dev/null",
		dir, dir));
	rc = tu_sh(cmd, NULL, NULL);
	cr_assert_eq(rc, 0);
	crt_path = tu_keep(tu_fmt("%s/cert.pem", dir));
	cert = tu_keep(tu_read_file(crt_path, NULL));
	key = tu_keep(tu_read_file(tu_keep(tu_fmt("%s/key.pem", dir)), NULL));
	cr_assert(cert != NULL && key != NULL);
	start(cert, key);
	req(&r, "GET", url("/hello"), NULL, NULL, 0, crt_path);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "hello\n");
	/* Plain HTTP to the TLS port gets no answer. */
	cr_assert_neq(
	    req_rc(&r, "GET",
		tu_keep(tu_fmt("http://127.0.0.1:%d/hello", port)), 0),
	    CURLE_OK);
	tu_rmtree(dir);
	teardown();
}
