/*
 * http.h: the HTTP layer of jitcad serve, on libmicrohttpd: listening
 * socket, daemon limits, raw bounded request bodies, a small router,
 * JSON replies and JSON errors, a strict JSON body reader, one log line
 * per request, per-address throttling of failed token attempts (the
 * address taken from X-Forwarded-For only behind a trusted proxy), and
 * response counters for /metrics.
 *
 * It does not know about users, roles, requests or the ledger: web/api.c
 * supplies the routes and their handlers, web/jitcad/serve.c the process
 * lifecycle.  Only web/ includes microhttpd headers, and only this file's
 * implementation (web/http.c) uses them; handlers see struct http_req.
 *
 * Threads: libmicrohttpd gives every connection a thread of its own (so
 * a handler that waits, for a COMMIT or the signer, holds up only its own
 * connection, never another one's request), so handlers must be
 * thread-safe.  A handler runs once per request, after
 * the whole body (at most cfg->max_body bytes) has arrived, and sets the
 * reply with one of the http_reply_* functions; a handler that sets none
 * answers 500.  Everything a struct http_req points to lives until the
 * response has been sent (MHD_OPTION_NOTIFY_COMPLETED), then is freed.
 *
 * Loose requests are refused before any handler runs: a query parameter
 * given twice ("?state=a&state=b") answers 400 bad_query naming it, and
 * a second Authorization header 400 duplicate_header.
 *
 * Errors are {"error": {"code": "snake_case", "message": "sentence"}}
 * (docs/design.md "Interfaces").  Log lines never hold a token, a body or a
 * query string.
 */
#ifndef JITCA_HTTP_H
#define JITCA_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ca/store/jsonw.h"
#include "signer/err.h"

#define HTTP_MAX_BODY (64u * 1024)
#define HTTP_MAX_PATH 1024
#define HTTP_MAX_PARAM 64
#define HTTP_MAX_USER 64
#define HTTP_MAX_HEADERS 8 /* the pages' security headers and a cookie */
#define HTTP_ERR_LEN 256
#define HTTP_MAX_PROXIES 64 /* entries of http_config.trusted_proxies */
#define HTTP_MAX_QUERY 32 /* query parameters in one request */
#define HTTP_MAX_XFF 2048 /* bytes of X-Forwarded-For looked at */
/* A JSON reply: bytes (LEDGER_EVENTS_MAX events at their largest fit). */
#define HTTP_MAX_REPLY (256u * 1024 * 1024)

struct http_server;
struct http_req;

typedef void http_handler_fn(void *app, struct http_req *req);

/*
 * One route: method ("GET", "POST") and a path pattern whose segments
 * are literal or "{id}" (one non-empty segment, captured; see
 * http_req_param).  A path that matches a pattern with another method
 * answers 405 with Allow; no match answers 404.
 */
struct http_route {
	const char *method;
	const char *pattern;
	http_handler_fn *fn;
};

struct http_config {
	int listen_fd; /* bound and listening (http_listen); taken over */
	const char *tls_cert_pem; /* both NULL: plain HTTP */
	const char *tls_key_pem;
	unsigned threads; /* connections served at once, each on its own
			     thread; 0: 256 */
	unsigned conn_limit; /* 0: threads */
	/* Of those, what one client address may hold (0: 64); trusted
	 * proxies are not limited by it.  A connection over it is closed
	 * at once, counted and logged (at most a line per 10 s). */
	unsigned per_ip_limit;
	size_t conn_memory; /* 0: 32 KiB (headers, per connection) */
	unsigned timeout_s; /* idle connection timeout, 0: 30 */
	size_t max_body; /* 0: HTTP_MAX_BODY */
	unsigned auth_fail_burst; /* failed tokens allowed at once, 0: 10 */
	unsigned auth_fail_refill_s; /* one more allowed every N s, 0: 6 */
	/*
	 * Reverse proxies ("10.0.0.5", "10.1.0.0/16", "fd00::/8"; borrowed
	 * for the call to http_server_start, which copies them).  When the
	 * peer is one of them, the client address is the right-most
	 * X-Forwarded-For entry that is not one of them; otherwise, and
	 * when the header is missing, empty or has an entry that is not an
	 * IP address, it is the nearest hop that could be checked.
	 */
	const char *const *trusted_proxies;
	size_t ntrusted_proxies;
	FILE *log; /* per-request log lines (borrowed); NULL: none */
	int quiet; /* no per-request log lines, even with log set */
	const struct http_route *routes; /* borrowed, must outlive server */
	size_t nroutes;
	void *app; /* passed to handlers */
};

/*
 * Parse "HOST:PORT" ("[v6]:PORT" too), bind and listen.  *fd is the new
 * socket, *port the bound port (useful with port 0).  On failure errbuf
 * names the reason ("127.0.0.1:8443: address already in use").
 * Returns ERR_INVALID_ARG for a malformed address, ERR_SYSTEM otherwise.
 */
MUST_CHECK int http_listen(
    const char *hostport, int *fd, int *port, char errbuf[HTTP_ERR_LEN]);

/* Start the daemon.  *out new; http_server_stop() frees. */
MUST_CHECK int http_server_start(struct http_server **out,
    const struct http_config *cfg, char errbuf[HTTP_ERR_LEN]);
/* Stop accepting new connections; connections already open go on. */
void http_server_quiesce(struct http_server *s);
/* Wait until no request is in flight or timeout_ms passed; returns the
 * number still in flight. */
unsigned http_server_drain(struct http_server *s, unsigned timeout_ms);
/* Close everything and free.  NULL is fine. */
void http_server_stop(struct http_server *s);
/* Responses sent so far with this status (100..599), for /metrics. */
uint64_t http_server_status_count(const struct http_server *s, int status);
/* Connections refused by the per-client-address limit so far. */
uint64_t http_server_refused_count(const struct http_server *s);

/* The request, for handlers.  Strings are borrowed from req. */
/* The "{id}" segment of the matched route, or NULL. */
const char *http_req_param(const struct http_req *req);
/* A query argument or header (case-insensitive name), or NULL. */
const char *http_req_query(const struct http_req *req, const char *name);
const char *http_req_header(const struct http_req *req, const char *name);
/* The raw body (not NUL-terminated), possibly empty. */
const uint8_t *http_req_body(const struct http_req *req, size_t *len);
/* The client address as text ("127.0.0.1"): the peer, or the address
 * X-Forwarded-For names behind a trusted proxy (http_config). */
const char *http_req_client(const struct http_req *req);
struct http_server *http_req_server(const struct http_req *req);
/* 1 when the server speaks TLS (cookies are then Secure), else 0. */
int http_req_tls(const struct http_req *req);
/* Name the authenticated user in the log line (copied, bounded). */
void http_req_set_user(struct http_req *req, const char *user);
/*
 * The bearer token of the Authorization header, borrowed, or NULL when
 * the header is missing or not "Bearer <token>".
 */
const char *http_req_bearer(const struct http_req *req);

/*
 * Failed-token throttling per client address (a token bucket of
 * cfg->auth_fail_burst, refilled one per cfg->auth_fail_refill_s).
 * Handlers check the token first: a valid token always gets through,
 * so a flood of bad tokens from an address never locks out its users.
 * For a bad token they call http_req_auth_failed(), which spends one
 * attempt and returns 0 (the handler answers 401), or, when the address
 * had none left, sets a 429 reply with Retry-After and returns 1.
 */
int http_req_auth_failed(struct http_req *req);

/*
 * Replies.  Each replaces any reply set before.  http_reply() copies
 * data; http_reply_json() serialises j (borrowed) compactly with a
 * trailing newline (json_dumps's bytes, written by ca/store/jsonw.h; a
 * 500 when that fails or is over HTTP_MAX_REPLY); http_reply_json_buf()
 * sends JSON text already in b (initialised with HTTP_MAX_REPLY), with
 * that newline, and takes b's data (b is empty afterwards, also on a
 * failure); http_reply_error() builds the JSON error object.
 * http_reply_header() adds a header (copied; at most HTTP_MAX_HEADERS).
 */
void http_reply(struct http_req *req, int status, const char *content_type,
    const void *data, size_t len);
void http_reply_json(struct http_req *req, int status, const json_t *j);
void http_reply_json_buf(struct http_req *req, int status, struct jsonw_buf *b);
void http_reply_error(struct http_req *req, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void http_reply_header(
    struct http_req *req, const char *name, const char *value);

/*
 * Strict JSON body reader.  The body must be one JSON object (an empty
 * body counts as {} only when allow_empty), without duplicate keys, with
 * only the listed fields, each of the listed type; required fields must
 * be present.  Outputs are borrowed from the parsed body, which lives as
 * long as req.  On any failure it sets a 400 reply whose message names
 * the field and returns ERR_BAD_FORMAT.
 */
enum http_jtype {
	HTTP_J_STRING = 1, /* out.s: const char ** (no NUL, <= maxlen) */
	HTTP_J_INT, /* out.i: int64_t * */
	HTTP_J_STRINGS, /* out.a: json_t ** (array of strings) */
	HTTP_J_ANY, /* out.a: json_t ** (any value; caller checks) */
};

struct http_jfield {
	const char *name;
	enum http_jtype type;
	int required;
	size_t maxlen; /* strings: bytes; arrays: elements (0: 1024) */
	const char **s;
	int64_t *i;
	json_t **a;
	int *present; /* may be NULL */
};

MUST_CHECK int http_req_json(struct http_req *req,
    const struct http_jfield *fields, size_t nfields, int allow_empty);

#endif /* JITCA_HTTP_H */
