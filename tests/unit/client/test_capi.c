/*
 * test_capi.c: the HTTP client (client/capi.c) against a canned-answer
 * server in a forked child: the bearer token is sent only when asked,
 * JSON bodies go out, API errors map to their err.h codes with the
 * server's message, and unreachable servers, non-JSON and oversized
 * replies each give their own code.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client/capi.h"
#include "tests/lib/testutil.h"

static char *dir;
static pid_t srv;

static void
setup(void)
{
	dir = tu_tmpdir();
}

static void
teardown(void)
{
	if (srv > 0) {
		kill(srv, SIGKILL);
		waitpid(srv, NULL, 0);
	}
	tu_rmtree(dir);
	free(dir);
}

TestSuite(capi, .init = setup, .fini = teardown);

/* Answer one connection with status and body; write what was received
 * to DIR/req.  Returns the port. */
static int
serve_once(int status, const char *body)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int s;

	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(s, 1), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	srv = fork();
	cr_assert(srv >= 0);
	if (srv == 0) {
		char buf[8192], *resp, *path = tu_fmt("%s/req", dir);
		size_t got = 0;
		ssize_t n;
		int c = accept(s, NULL, NULL);

		while (got < sizeof(buf) - 1 &&
		    (n = read(c, buf + got, sizeof(buf) - 1 - got)) > 0) {
			got += (size_t)n;
			buf[got] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL &&
			    (strncmp(buf, "GET", 3) == 0 ||
				buf[got - 1] == '}'))
				break;
		}
		tu_write_file(path, buf, got, 0600);
		resp = tu_fmt("HTTP/1.1 %d X\r\nContent-Length: %zu\r\n"
			      "Connection: close\r\n\r\n%s",
		    status, strlen(body), body);
		if (write(c, resp, strlen(resp)) < 0)
			_exit(1);
		usleep(100000);
		_exit(0);
	}
	close(s);
	return ntohs(sin.sin_port);
}

static struct capi *
client(int port, const char *token)
{
	struct capi *c = NULL;
	char *url = tu_fmt("http://127.0.0.1:%d/", port);

	cr_assert_eq(capi_new(&c, url, token, NULL), 0);
	url[strlen(url) - 1] = '\0'; /* the trailing slash is dropped */
	cr_assert_str_eq(capi_server(c), url);
	free(url);
	return c;
}

static char *
received(void)
{
	char *p = tu_fmt("%s/req", dir), *t;

	waitpid(srv, NULL, 0);
	srv = 0;
	t = tu_read_file(p, NULL);
	cr_assert_not_null(t);
	free(p);
	return t;
}

Test(capi, post_with_token_and_body)
{
	struct capi *c = client(serve_once(201, "{\"id\": 3}"), "tok-123");
	json_t *body = json_pack("{s:s}", "role", "fast"), *rep = NULL;
	char *msg = NULL, *req;
	long st = 0;

	cr_assert_eq(
	    capi_call(c, "POST", "/v1/requests", body, 1, &st, &rep, &msg), 0);
	cr_assert_eq(st, 201);
	cr_assert_eq(json_integer_value(json_object_get(rep, "id")), 3);
	cr_assert_null(msg);
	req = received();
	cr_assert(
	    strncmp(req, "POST /v1/requests HTTP/1.1\r\n", 28) == 0, "%s", req);
	cr_assert(strstr(req, "\r\nAuthorization: Bearer tok-123\r\n") != NULL,
	    "%s", req);
	cr_assert(strstr(req, "\r\nContent-Type: application/json\r\n") != NULL,
	    "%s", req);
	cr_assert(
	    strstr(req, "\r\n\r\n{\"role\":\"fast\"}") != NULL, "%s", req);
	json_decref(body);
	json_decref(rep);
	capi_free(c);
	free(req);
}

Test(capi, no_token_on_unauthenticated_calls)
{
	struct capi *c = client(serve_once(200, "{}"), "tok-123");
	json_t *rep = NULL;
	char *req;

	cr_assert_eq(
	    capi_call(c, "GET", "/v1/ca", NULL, 0, NULL, &rep, NULL), 0);
	req = received();
	cr_assert_null(strstr(req, "tok-123"), "%s", req);
	cr_assert_null(strstr(req, "Authorization"), "%s", req);
	json_decref(rep);
	capi_free(c);
	free(req);
}

Test(capi, missing_token_fails_before_sending)
{
	struct capi *c = client(1, NULL);
	json_t *rep = NULL;
	char *msg = NULL;

	cr_assert_eq(
	    capi_call(c, "GET", "/v1/requests", NULL, 1, NULL, &rep, &msg),
	    ERR_BAD_TOKEN);
	cr_assert(strstr(msg, "no token") == msg, "%s", msg);
	free(msg);
	capi_free(c);
}

Test(capi, api_errors_map_to_codes)
{
	static const struct {
		int status;
		const char *code;
		int want;
	} cases[] = {{401, "bad_token", ERR_BAD_TOKEN},
	    {403, "self_approval", ERR_SELF_APPROVAL},
	    {403, "forbidden", ERR_FORBIDDEN},
	    {404, "not_found", ERR_NOT_FOUND}, {409, "expired", ERR_EXPIRED},
	    {409, "wrong_state", ERR_WRONG_STATE},
	    {400, "ttl_too_long", ERR_TTL_TOO_LONG},
	    {400, "something_new", ERR_INVALID_ARG},
	    {429, "slow_down", ERR_BUSY}, {500, "internal", ERR_INTERNAL}};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = tu_fmt("{\"error\": {\"code\": \"%s\", "
				    "\"message\": \"because %zu\"}}",
		    cases[i].code, i);
		struct capi *c = client(serve_once(cases[i].status, body), "t");
		json_t *rep = NULL;
		char *msg = NULL, *want = tu_fmt("because %zu", i);
		long st = 0;

		cr_assert_eq(capi_call(c, "GET", "/v1/requests/1", NULL, 1, &st,
				 &rep, &msg),
		    cases[i].want, "case %zu", i);
		cr_assert_eq(st, cases[i].status);
		cr_assert_null(rep);
		cr_assert_str_eq(msg, want);
		free(received());
		free(msg);
		free(want);
		free(body);
		capi_free(c);
	}
}

Test(capi, bad_replies)
{
	struct capi *c;
	json_t *rep = NULL;
	char *msg = NULL, *big;

	c = client(serve_once(200, "not json"), "t");
	cr_assert_eq(capi_call(c, "GET", "/v1/ca", NULL, 0, NULL, &rep, &msg),
	    ERR_BAD_RESPONSE);
	cr_assert_str_eq(msg, "reply is not a JSON object");
	free(msg);
	free(received());
	capi_free(c);

	c = client(serve_once(200, "[1, 2]"), "t");
	cr_assert_eq(capi_call(c, "GET", "/v1/ca", NULL, 0, NULL, &rep, NULL),
	    ERR_BAD_RESPONSE);
	free(received());
	capi_free(c);

	/* Over CAPI_MAX_REPLY. */
	big = malloc(CAPI_MAX_REPLY + 2);
	memset(big, ' ', CAPI_MAX_REPLY + 1);
	big[CAPI_MAX_REPLY + 1] = '\0';
	c = client(serve_once(200, big), "t");
	cr_assert_eq(capi_call(c, "GET", "/v1/ca", NULL, 0, NULL, &rep, &msg),
	    ERR_BAD_RESPONSE);
	cr_assert_str_eq(msg, "reply too large");
	free(msg);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	srv = 0;
	capi_free(c);
	free(big);
}

Test(capi, unreachable_and_bad_urls)
{
	struct capi *c = client(tu_free_port(), "t");
	json_t *rep = NULL;
	char *msg = NULL;

	cr_assert_eq(capi_call(c, "GET", "/v1/ca", NULL, 0, NULL, &rep, &msg),
	    ERR_UNREACHABLE);
	cr_assert(strstr(msg, "http://127.0.0.1:") == msg, "%s", msg);
	free(msg);
	cr_assert_eq(capi_call(c, "GET", "v1/ca", NULL, 0, NULL, &rep, NULL),
	    ERR_INVALID_ARG);
	capi_free(c);
	c = NULL;
	cr_assert_eq(capi_new(&c, "ftp://x", "t", NULL), ERR_INVALID_ARG);
	cr_assert_eq(
	    capi_new(&c, "file:///etc/passwd", NULL, NULL), ERR_INVALID_ARG);
	cr_assert_null(c);
}
