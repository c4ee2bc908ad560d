/*
 * http.c: the libmicrohttpd side of jitcad serve (see http.h): the
 * listening socket, the daemon and its limits, per-request state, raw
 * bounded bodies, routing, replies, the strict JSON reader, request log
 * lines, failed-token throttling and response counters.
 *
 * It does not implement any endpoint (web/api.c does) or the process
 * lifecycle (web/jitcad/serve.c).  libmicrohttpd's rules followed here: the
 * per-request state is allocated on the first call of the access
 * handler and freed only in the completion callback; the body is read
 * raw into a buffer capped at max_body, and a body announced (or found)
 * larger is answered 413 without buffering the rest; connection,
 * per-IP, memory and timeout limits are always set.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ca/store/jsonw.h"
#include "web/http.h"

#define HTTP_MAX_DISCARD (1024u * 1024)
#define RL_BUCKETS 256
#define RL_WAYS 4

struct rl_entry {
	char addr[INET6_ADDRSTRLEN];
	double tokens;
	double last; /* monotonic seconds */
};

/* One trusted_proxies entry: an address and the bits of it that count. */
struct net {
	int af;
	uint8_t addr[16];
	unsigned bits;
};

#define CONN_BUCKETS 256 /* a power of two */
#define CONN_REFUSAL_LOG_S 10.0 /* at most one log line per this */

/* The live connections of one client address (the per-client limit). */
struct conn_addr {
	struct conn_addr *next;
	uint8_t key[16]; /* an IPv4 address as ::ffff:a.b.c.d */
	unsigned n;
};

struct http_server {
	struct MHD_Daemon *d;
	struct http_config cfg;
	int listen_fd; /* closed by us after a quiesce */
	int quiesced;
	atomic_uint in_flight;
	atomic_int closing;
	_Atomic uint64_t status_count[600];
	pthread_mutex_t rl_lock;
	struct rl_entry rl[RL_BUCKETS][RL_WAYS];
	struct net proxies[HTTP_MAX_PROXIES];
	size_t nproxies;
	/*
	 * Connections per client address, trusted proxies not counted
	 * (conn_lock).  An address needs a node only while it has a
	 * connection, so conn_limit nodes are enough: conn_nodes, those not
	 * in a bucket on conn_free.
	 */
	pthread_mutex_t conn_lock;
	struct conn_addr *conn_bucket[CONN_BUCKETS];
	struct conn_addr *conn_nodes;
	struct conn_addr *conn_free;
	uint32_t conn_seed;
	_Atomic uint64_t conn_refused;
	uint64_t conn_refused_logged; /* conn_refused at the last line */
	double conn_logged_at; /* monotonic seconds; 0: never */
};

struct http_hdr {
	char *name;
	char *value;
};

struct http_req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	struct timespec start; /* monotonic */
	char method[16];
	char path[HTTP_MAX_PATH + 1];
	int path_too_long;
	char param[HTTP_MAX_PARAM + 1];
	int have_param;
	char user[HTTP_MAX_USER + 1];
	char client[INET6_ADDRSTRLEN];
	uint8_t *body;
	size_t body_len;
	size_t body_cap;
	int too_large; /* chunked body over the cap: discarding */
	size_t discarded;
	json_t *json; /* parsed body, owned */
	/* the reply */
	int status;
	char *resp;
	size_t resp_len;
	char ctype[64];
	struct http_hdr hdr[HTTP_MAX_HEADERS];
	size_t nhdr;
	int queued;
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Now as the log lines' time: "2026-12-03T12:50:01Z". */
static void
log_time(char ts[32])
{
	struct timespec wall;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &wall);
	gmtime_r(&wall.tv_sec, &tm);
	strftime(ts, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- listening socket ---- */

int
http_listen(const char *hostport, int *fd, int *port, char errbuf[HTTP_ERR_LEN])
{
	int r = ERR_INTERNAL, s = -1, one = 1, gai;
	char host[256], portstr[16];
	const char *colon, *hs, *he;
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t hl, pl;

	*fd = -1;
	*port = 0;
	errbuf[0] = '\0';
	if ((colon = strrchr(hostport, ':')) == NULL || colon == hostport) {
		snprintf(errbuf, HTTP_ERR_LEN,
		    "%s: expected HOST:PORT (e.g. 127.0.0.1:8443)", hostport);
		r = ERR_INVALID_ARG;
		goto out;
	}
	hs = hostport;
	he = colon;
	if (*hs == '[') {
		if (he - hs < 3 || he[-1] != ']') {
			snprintf(errbuf, HTTP_ERR_LEN,
			    "%s: malformed IPv6 address", hostport);
			r = ERR_INVALID_ARG;
			goto out;
		}
		hs++;
		he--;
	}
	hl = (size_t)(he - hs);
	pl = strlen(colon + 1);
	if (hl == 0 || hl >= sizeof(host) || pl == 0 || pl > 5 ||
	    strspn(colon + 1, "0123456789") != pl) {
		snprintf(errbuf, HTTP_ERR_LEN,
		    "%s: expected HOST:PORT with a port 0-65535", hostport);
		r = ERR_INVALID_ARG;
		goto out;
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	memcpy(portstr, colon + 1, pl + 1);
	if (strtoul(portstr, NULL, 10) > 65535) {
		snprintf(errbuf, HTTP_ERR_LEN, "%s: port over 65535", hostport);
		r = ERR_INVALID_ARG;
		goto out;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		snprintf(errbuf, HTTP_ERR_LEN, "%s: %s", hostport,
		    gai_strerror(gai));
		r = ERR_INVALID_ARG;
		goto out;
	}
	if ((s = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(s, 128) != 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(errbuf, HTTP_ERR_LEN, "cannot listen on %s: %s",
		    hostport, strerror(errno));
		r = ERR_SYSTEM;
		goto out;
	}
	if (ss.ss_family == AF_INET)
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	*fd = s;
	s = -1;
	r = 0;
out:
	if (s >= 0)
		close(s);
	if (res != NULL)
		freeaddrinfo(res);
	return r;
}

/* ---- replies ---- */

/* The answer when even building the error fails. */
static const char oom_json[] =
    "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}\n";

static void
reply_clear_headers(struct http_req *req)
{
	size_t i;

	for (i = 0; i < req->nhdr; i++) {
		free(req->hdr[i].name);
		free(req->hdr[i].value);
	}
	req->nhdr = 0;
}

void
http_reply(struct http_req *req, int status, const char *content_type,
    const void *data, size_t len)
{
	free(req->resp);
	req->resp = NULL;
	req->resp_len = 0;
	req->status = status;
	snprintf(req->ctype, sizeof(req->ctype), "%s",
	    content_type != NULL ? content_type : "text/plain");
	if (len > 0) {
		if ((req->resp = malloc(len)) == NULL) {
			req->status = 500;
			return;
		}
		memcpy(req->resp, data, len);
		req->resp_len = len;
	}
}

void
http_reply_json(struct http_req *req, int status, const json_t *j)
{
	struct jsonw_buf b;

	jsonw_buf_init(&b, HTTP_MAX_REPLY);
	if (jsonw_append(&b, j, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
		jsonw_buf_free(&b);
		http_reply(req, 500, "application/json", oom_json,
		    sizeof(oom_json) - 1);
		return;
	}
	http_reply_json_buf(req, status, &b);
}

void
http_reply_json_buf(struct http_req *req, int status, struct jsonw_buf *b)
{
	char *p;

	/* The dump and its newline in one buffer, which the reply takes. */
	if (jsonw_buf_put(b, "\n", 1) != 0) {
		jsonw_buf_free(b);
		http_reply(req, 500, "application/json", oom_json,
		    sizeof(oom_json) - 1);
		return;
	}
	/* a large reply keeps no doubling slack until it is sent */
	if (b->cap - b->len > 64 * 1024 &&
	    (p = realloc(b->data, b->len + 1)) != NULL)
		b->data = p;
	free(req->resp);
	req->resp = b->data;
	req->resp_len = b->len;
	req->status = status;
	snprintf(req->ctype, sizeof(req->ctype), "application/json");
	b->data = NULL;
	jsonw_buf_free(b);
}

void
http_reply_error(
    struct http_req *req, int status, const char *code, const char *fmt, ...)
{
	char msg[512], *p;
	va_list ap;
	json_t *j = NULL;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages quote client input (field names, paths); keep them
	 * printable ASCII so a cut multi-byte character cannot make the
	 * JSON invalid. */
	for (p = msg; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	}
	j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	if (j == NULL) {
		http_reply(req, 500, "application/json", oom_json,
		    sizeof(oom_json) - 1);
		return;
	}
	http_reply_json(req, status, j);
	json_decref(j);
}

void
http_reply_header(struct http_req *req, const char *name, const char *value)
{
	char *n = NULL, *v = NULL;

	if (req->nhdr >= HTTP_MAX_HEADERS)
		return;
	if ((n = strdup(name)) == NULL || (v = strdup(value)) == NULL) {
		free(n);
		return;
	}
	req->hdr[req->nhdr].name = n;
	req->hdr[req->nhdr].value = v;
	req->nhdr++;
}

/* ---- request accessors ---- */

const char *
http_req_param(const struct http_req *req)
{
	return req->have_param ? req->param : NULL;
}

const char *
http_req_query(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(
	    req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
http_req_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const uint8_t *
http_req_body(const struct http_req *req, size_t *len)
{
	*len = req->body_len;
	return req->body != NULL ? req->body : (const uint8_t *)"";
}

const char *
http_req_client(const struct http_req *req)
{
	return req->client;
}

struct http_server *
http_req_server(const struct http_req *req)
{
	return req->srv;
}

int
http_req_tls(const struct http_req *req)
{
	return req->srv->cfg.tls_cert_pem != NULL;
}

void
http_req_set_user(struct http_req *req, const char *user)
{
	snprintf(req->user, sizeof(req->user), "%s", user);
}

const char *
http_req_bearer(const struct http_req *req)
{
	const char *h, *t;

	if ((h = http_req_header(req, MHD_HTTP_HEADER_AUTHORIZATION)) == NULL)
		return NULL;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	t = h + 7;
	while (*t == ' ')
		t++;
	if (*t == '\0')
		return NULL;
	return t;
}

/* ---- failed-token throttling ---- */

static struct rl_entry *
rl_find(struct http_server *s, const char *addr, double now, int create)
{
	uint32_t h = 2166136261u;
	const char *p;
	struct rl_entry *b, *victim = NULL;
	size_t i;

	for (p = addr; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	b = s->rl[h % RL_BUCKETS];
	for (i = 0; i < RL_WAYS; i++) {
		if (strcmp(b[i].addr, addr) == 0)
			return &b[i];
	}
	if (!create)
		return NULL;
	/* Evict the entry that would hold the most attempts by now. */
	for (i = 0; i < RL_WAYS; i++) {
		double t = b[i].addr[0] == '\0' ? 1e300
						: b[i].tokens +
			(now - b[i].last) / s->cfg.auth_fail_refill_s;
		double vt = victim == NULL ? -1
					   : victim->tokens +
			(now - victim->last) / s->cfg.auth_fail_refill_s;
		if (victim == NULL || t > vt)
			victim = &b[i];
		if (b[i].addr[0] == '\0')
			break;
	}
	snprintf(victim->addr, sizeof(victim->addr), "%s", addr);
	victim->tokens = s->cfg.auth_fail_burst;
	victim->last = now;
	return victim;
}

static void
rl_refill(const struct http_server *s, struct rl_entry *e, double now)
{
	e->tokens += (now - e->last) / s->cfg.auth_fail_refill_s;
	if (e->tokens > s->cfg.auth_fail_burst)
		e->tokens = s->cfg.auth_fail_burst;
	e->last = now;
}

int
http_req_auth_failed(struct http_req *req)
{
	struct http_server *s = req->srv;
	struct rl_entry *e;
	double now = mono_now(), wait = 0;
	char ra[32];

	pthread_mutex_lock(&s->rl_lock);
	e = rl_find(s, req->client, now, 1);
	rl_refill(s, e, now);
	if (e->tokens >= 1)
		e->tokens -= 1;
	else
		wait = (1 - e->tokens) * s->cfg.auth_fail_refill_s;
	pthread_mutex_unlock(&s->rl_lock);
	if (wait <= 0)
		return 0;
	snprintf(ra, sizeof(ra), "%u", (unsigned)wait + 1);
	http_reply_error(req, 429, "too_many_requests",
	    "too many failed token attempts from %s; retry in %s s",
	    req->client, ra);
	http_reply_header(req, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	return 1;
}

/* ---- strict JSON bodies ---- */

static const char *
jtype_name(enum http_jtype t)
{
	switch (t) {
	case HTTP_J_STRING:
		return "a string";
	case HTTP_J_INT:
		return "an integer";
	case HTTP_J_STRINGS:
		return "an array of strings";
	case HTTP_J_ANY:
		return "a value";
	}
	return "?";
}

int
http_req_json(struct http_req *req, const struct http_jfield *fields,
    size_t nfields, int allow_empty)
{
	json_error_t jerr;
	json_t *root = NULL, *v;
	const char *key;
	size_t i, j, max;

	for (i = 0; i < nfields; i++) {
		if (fields[i].present != NULL)
			*fields[i].present = 0;
		if (fields[i].s != NULL)
			*fields[i].s = NULL;
		if (fields[i].a != NULL)
			*fields[i].a = NULL;
		if (fields[i].i != NULL)
			*fields[i].i = 0;
	}
	json_decref(req->json);
	req->json = NULL;
	if (req->body_len == 0 && allow_empty) {
		if ((req->json = json_object()) == NULL)
			goto oom;
		return 0;
	}
	if (req->body_len == 0) {
		http_reply_error(req, 400, "invalid_json",
		    "the request body must be a JSON object");
		return ERR_BAD_FORMAT;
	}
	root = json_loadb((const char *)req->body, req->body_len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		http_reply_error(req, 400, "invalid_json",
		    "the request body is not valid JSON: %s (line %d, column "
		    "%d)",
		    jerr.text, jerr.line, jerr.column);
		return ERR_BAD_FORMAT;
	}
	req->json = root;
	if (!json_is_object(root)) {
		http_reply_error(req, 400, "invalid_json",
		    "the request body must be a JSON object");
		return ERR_BAD_FORMAT;
	}
	json_object_foreach(root, key, v)
	{
		for (i = 0; i < nfields; i++) {
			if (strcmp(fields[i].name, key) == 0)
				break;
		}
		if (i == nfields) {
			http_reply_error(req, 400, "unknown_field",
			    "unknown field \"%.64s\"", key);
			return ERR_BAD_FORMAT;
		}
	}
	for (i = 0; i < nfields; i++) {
		const struct http_jfield *f = &fields[i];

		if ((v = json_object_get(root, f->name)) == NULL ||
		    json_is_null(v)) {
			if (f->required) {
				http_reply_error(req, 400, "missing_field",
				    "missing field \"%s\"", f->name);
				return ERR_BAD_FORMAT;
			}
			continue;
		}
		max = f->maxlen != 0 ? f->maxlen : 1024;
		switch (f->type) {
		case HTTP_J_STRING:
			if (!json_is_string(v))
				goto wrong_type;
			if (json_string_length(v) > max) {
				http_reply_error(req, 400, "field_too_long",
				    "field \"%s\" is longer than %zu bytes",
				    f->name, max);
				return ERR_BAD_FORMAT;
			}
			if (f->s != NULL)
				*f->s = json_string_value(v);
			break;
		case HTTP_J_INT:
			if (!json_is_integer(v))
				goto wrong_type;
			if (f->i != NULL)
				*f->i = (int64_t)json_integer_value(v);
			break;
		case HTTP_J_STRINGS:
			if (!json_is_array(v))
				goto wrong_type;
			if (json_array_size(v) > max) {
				http_reply_error(req, 400, "field_too_long",
				    "field \"%s\" has more than %zu elements",
				    f->name, max);
				return ERR_BAD_FORMAT;
			}
			for (j = 0; j < json_array_size(v); j++) {
				if (!json_is_string(json_array_get(v, j)))
					goto wrong_type;
			}
			if (f->a != NULL)
				*f->a = v;
			break;
		case HTTP_J_ANY:
			if (f->a != NULL)
				*f->a = v;
			break;
		}
		if (f->present != NULL)
			*f->present = 1;
		continue;
wrong_type:
		http_reply_error(req, 400, "wrong_type",
		    "field \"%s\" must be %s", f->name, jtype_name(f->type));
		return ERR_BAD_FORMAT;
	}
	return 0;
oom:
	http_reply_error(req, 500, "internal", "out of memory");
	return ERR_ALLOC;
}

/* ---- routing ---- */

/* 1 if path matches pattern; the "{id}" segment goes to req->param. */
static int
route_match(struct http_req *req, const char *pattern, const char *path)
{
	const char *p = pattern, *q = path, *pe, *qe;
	size_t pl, ql;

	req->have_param = 0;
	for (;;) {
		if (*p != '/' || *q != '/')
			return 0;
		p++;
		q++;
		pe = strchr(p, '/');
		qe = strchr(q, '/');
		pl = pe != NULL ? (size_t)(pe - p) : strlen(p);
		ql = qe != NULL ? (size_t)(qe - q) : strlen(q);
		if (pl == 4 && memcmp(p, "{id}", 4) == 0) {
			if (ql == 0 || ql > HTTP_MAX_PARAM)
				return 0;
			memcpy(req->param, q, ql);
			req->param[ql] = '\0';
			req->have_param = 1;
		} else if (pl != ql || memcmp(p, q, pl) != 0)
			return 0;
		p += pl;
		q += ql;
		if (*p == '\0' && *q == '\0')
			return 1;
		if (*p == '\0' || *q == '\0')
			return 0;
	}
}

static int copy_printable(char *dst, size_t dstlen, const char *s);

struct seen {
	const char *names[HTTP_MAX_QUERY];
	size_t n;
	const char *dup; /* the first name given twice */
	int too_many;
	unsigned auth; /* Authorization headers */
};

static enum MHD_Result
seen_query(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct seen *w = cls;
	size_t i;

	(void)kind;
	(void)value;
	for (i = 0; i < w->n; i++) {
		if (strcmp(w->names[i], key) == 0) {
			w->dup = key;
			return MHD_NO;
		}
	}
	if (w->n == HTTP_MAX_QUERY) {
		w->too_many = 1;
		return MHD_NO;
	}
	w->names[w->n++] = key;
	return MHD_YES;
}

static enum MHD_Result
seen_header(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct seen *w = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
		w->auth++;
	return MHD_YES;
}

/*
 * 0, or 400 set: a query parameter given twice (which one would a
 * handler read?), too many of them, or a second Authorization header.
 */
static int
req_check_unique(struct http_req *req)
{
	struct seen w;
	char name[65];

	memset(&w, 0, sizeof(w));
	(void)MHD_get_connection_values(
	    req->conn, MHD_GET_ARGUMENT_KIND, seen_query, &w);
	if (w.dup != NULL) {
		(void)copy_printable(name, sizeof(name), w.dup);
		http_reply_error(req, 400, "bad_query",
		    "query parameter \"%s\" is given more than once", name);
		return -1;
	}
	if (w.too_many) {
		http_reply_error(req, 400, "bad_query",
		    "more than %d query parameters", HTTP_MAX_QUERY);
		return -1;
	}
	(void)MHD_get_connection_values(
	    req->conn, MHD_HEADER_KIND, seen_header, &w);
	if (w.auth > 1) {
		http_reply_error(req, 400, "duplicate_header",
		    "the Authorization header is given more than once");
		return -1;
	}
	return 0;
}

static void
route_dispatch(struct http_req *req)
{
	const struct http_config *cfg = &req->srv->cfg;
	char allow[64] = "";
	size_t i;

	if (req->path_too_long) {
		http_reply_error(req, 404, "not_found", "no such path");
		return;
	}
	if (req_check_unique(req) != 0)
		return;
	for (i = 0; i < cfg->nroutes; i++) {
		if (!route_match(req, cfg->routes[i].pattern, req->path))
			continue;
		/* HEAD is GET without the body (libmicrohttpd drops it). */
		if (strcmp(cfg->routes[i].method, req->method) == 0 ||
		    (strcmp(req->method, "HEAD") == 0 &&
			strcmp(cfg->routes[i].method, "GET") == 0)) {
			req->status = 0;
			cfg->routes[i].fn(cfg->app, req);
			if (req->status == 0)
				http_reply_error(req, 500, "internal",
				    "the handler set no reply");
			return;
		}
		if (strstr(allow, cfg->routes[i].method) == NULL &&
		    strlen(allow) + strlen(cfg->routes[i].method) + 3 <
			sizeof(allow)) {
			if (allow[0] != '\0')
				strncat(allow, ", ",
				    sizeof(allow) - 1 - strlen(allow));
			strncat(allow, cfg->routes[i].method,
			    sizeof(allow) - 1 - strlen(allow));
		}
	}
	if (allow[0] != '\0') {
		http_reply_error(req, 405, "method_not_allowed",
		    "%s is not allowed on %s (allowed: %s)", req->method,
		    req->path, allow);
		http_reply_header(req, MHD_HTTP_HEADER_ALLOW, allow);
		return;
	}
	http_reply_error(req, 404, "not_found", "no such path: %s", req->path);
}

/* ---- the MHD callbacks ---- */

static void
req_free(struct http_req *req)
{
	if (req == NULL)
		return;
	reply_clear_headers(req);
	free(req->resp);
	json_decref(req->json);
	if (req->body != NULL)
		OPENSSL_cleanse(req->body, req->body_cap);
	free(req->body);
	free(req);
}

static enum MHD_Result
req_queue(struct http_req *req)
{
	struct MHD_Response *resp = NULL;
	enum MHD_Result ret;
	size_t i;

	if (req->status < 100 || req->status > 599)
		http_reply_error(req, 500, "internal", "bad status");
	resp = MHD_create_response_from_buffer(
	    req->resp_len, req->resp, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	req->resp = NULL; /* MHD frees it now */
	req->resp_len = 0;
	(void)MHD_add_response_header(
	    resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->ctype);
	(void)MHD_add_response_header(
	    resp, "X-Content-Type-Options", "nosniff");
	if (strcmp(req->ctype, "application/json") == 0)
		(void)MHD_add_response_header(
		    resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (i = 0; i < req->nhdr; i++)
		(void)MHD_add_response_header(
		    resp, req->hdr[i].name, req->hdr[i].value);
	if (atomic_load(&req->srv->closing))
		(void)MHD_add_response_header(
		    resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(req->conn, (unsigned)req->status, resp);
	MHD_destroy_response(resp);
	req->queued = 1;
	/* Counted here, before the client can see the answer, so a count
	 * read after a response always includes it. */
	if (ret == MHD_YES && req->status >= 100 && req->status <= 599)
		atomic_fetch_add(&req->srv->status_count[req->status], 1);
	return ret;
}

/*
 * "addr" or "addr/bits" (IPv4 or IPv6) into n; -1 if it is not one.
 * Host bits past the prefix are not checked here: config check refuses
 * them, and matching ignores them.
 */
static int
net_parse(struct net *n, const char *s, size_t len)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - s) : len, i;
	unsigned max, bits = 0;

	memset(n, 0, sizeof(*n));
	if (alen == 0 || alen >= sizeof(a))
		return -1;
	memcpy(a, s, alen);
	a[alen] = '\0';
	n->af = memchr(a, ':', alen) != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(n->af, a, n->addr) != 1)
		return -1;
	max = n->af == AF_INET6 ? 128 : 32;
	n->bits = max;
	if (slash == NULL)
		return 0;
	if (len - alen - 1 == 0 || len - alen - 1 > 3)
		return -1;
	for (i = alen + 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		bits = bits * 10 + (unsigned)(s[i] - '0');
	}
	if (bits > max)
		return -1;
	n->bits = bits;
	return 0;
}

/* 1 if the address a (af, bytes) is one of the trusted proxies. */
static int
proxy_trusted(const struct http_server *s, int af, const uint8_t *a)
{
	size_t i;
	unsigned full, rest;

	for (i = 0; i < s->nproxies; i++) {
		const struct net *n = &s->proxies[i];

		if (n->af != af)
			continue;
		full = n->bits / 8;
		rest = n->bits % 8;
		if (memcmp(n->addr, a, full) != 0)
			continue;
		if (rest != 0 &&
		    ((n->addr[full] ^ a[full]) & (0xff << (8 - rest)) & 0xff))
			continue;
		return 1;
	}
	return 0;
}

/* ---- connections per client address ---- */

/*
 * The peer sa as (af, its address bytes) and as a key of 16 bytes (an
 * IPv4 address mapped); -1 for another family.  An IPv4 peer of a
 * dual-stack socket ([::]) arrives as ::ffff:a.b.c.d: it is AF_INET
 * here, so that trusted_proxies' IPv4 entries and the log see it as it
 * is.
 */
static int
peer_key(const struct sockaddr *sa, int *af, const uint8_t **a, uint8_t key[16])
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		*af = AF_INET;
		*a = (const uint8_t *)&((const struct sockaddr_in *)sa)
			 ->sin_addr;
		memcpy(key, mapped, 12);
		memcpy(key + 12, *a, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		*a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)
			 ->sin6_addr;
		memcpy(key, *a, 16);
		*af = memcmp(*a, mapped, 12) == 0 ? AF_INET : AF_INET6;
		if (*af == AF_INET)
			*a += 12;
		return 0;
	}
	return -1;
}

/* Where key's node is, or would be linked (called with conn_lock). */
static struct conn_addr **
conn_slot(struct http_server *s, const uint8_t key[16])
{
	struct conn_addr **pp;
	uint32_t h = 2166136261u ^ s->conn_seed;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	/* FNV's low bits depend on few of the seed's: mix them all in. */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	pp = &s->conn_bucket[h & (CONN_BUCKETS - 1)];
	while (*pp != NULL && memcmp((*pp)->key, key, 16) != 0)
		pp = &(*pp)->next;
	return pp;
}

/* A refusal: counted; into line (empty when not said) at most once per
 * CONN_REFUSAL_LOG_S (called with conn_lock, written after it). */
static void
conn_refusal_note(
    struct http_server *s, int af, const uint8_t *a, char *line, size_t len)
{
	char addr[INET6_ADDRSTRLEN], ts[32];
	uint64_t n = atomic_fetch_add(&s->conn_refused, 1) + 1;
	double now = mono_now();

	line[0] = '\0';
	if (s->cfg.log == NULL ||
	    (s->conn_logged_at != 0 &&
		now - s->conn_logged_at < CONN_REFUSAL_LOG_S))
		return;
	(void)inet_ntop(af, a, addr, sizeof(addr));
	log_time(ts);
	(void)snprintf(line, len,
	    "%s connection from %s refused: it holds %u already, the limit "
	    "per client address (server.connections_per_client); %" PRIu64
	    " refused since the last such line\n",
	    ts, addr, s->cfg.per_ip_limit, n - s->conn_refused_logged);
	s->conn_refused_logged = n;
	s->conn_logged_at = now;
}

/*
 * libmicrohttpd's accept policy, before a connection is taken: refuse
 * one from an address that holds per_ip_limit already (its own limit
 * would count a trusted proxy's connections as one client's).  It runs
 * on the listening thread, as does conn_notify(), so an admitted
 * connection is counted before the next is looked at.
 */
static enum MHD_Result
conn_admit(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct http_server *s = cls;
	const struct conn_addr *c;
	const uint8_t *a;
	uint8_t key[16];
	char line[INET6_ADDRSTRLEN + 192];
	int af, ok;

	(void)len;
	if (peer_key(sa, &af, &a, key) != 0 ||
	    (s->nproxies > 0 && proxy_trusted(s, af, a)))
		return MHD_YES;
	(void)pthread_mutex_lock(&s->conn_lock);
	c = *conn_slot(s, key);
	ok = c != NULL ? c->n < s->cfg.per_ip_limit : s->conn_free != NULL;
	line[0] = '\0';
	if (!ok)
		conn_refusal_note(s, af, a, line, sizeof(line));
	(void)pthread_mutex_unlock(&s->conn_lock);
	if (line[0] != '\0')
		(void)fputs(line, s->cfg.log);
	return ok ? MHD_YES : MHD_NO;
}

/* A connection starts (counted for its address, whose node it keeps in
 * *ctx) or is closed (no longer counted). */
static void
conn_notify(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn_addr **pp, *c;
	const uint8_t *a;
	uint8_t key[16];
	int af;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if ((c = *ctx) == NULL)
			return;
		*ctx = NULL;
		(void)pthread_mutex_lock(&s->conn_lock);
		if (--c->n == 0) {
			pp = conn_slot(s, c->key);
			*pp = c->next;
			c->next = s->conn_free;
			s->conn_free = c;
		}
		(void)pthread_mutex_unlock(&s->conn_lock);
		return;
	}
	*ctx = NULL;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || peer_key(ci->client_addr, &af, &a, key) != 0 ||
	    (s->nproxies > 0 && proxy_trusted(s, af, a)))
		return;
	(void)pthread_mutex_lock(&s->conn_lock);
	pp = conn_slot(s, key);
	if (*pp == NULL && (*pp = s->conn_free) != NULL) {
		s->conn_free = (*pp)->next;
		(*pp)->next = NULL;
		memcpy((*pp)->key, key, 16);
		(*pp)->n = 0;
	}
	if ((c = *pp) != NULL) {
		c->n++;
		*ctx = c;
	}
	(void)pthread_mutex_unlock(&s->conn_lock);
}

struct xff {
	char buf[HTTP_MAX_XFF + 1];
	size_t len;
	int too_long;
};

/* Every X-Forwarded-For header, joined with ',' in arrival order. */
static enum MHD_Result
xff_collect(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct xff *x = cls;
	size_t n;

	(void)kind;
	if (strcasecmp(key, "X-Forwarded-For") != 0 || value == NULL)
		return MHD_YES;
	n = strlen(value);
	if (x->len + n + 1 > HTTP_MAX_XFF) {
		x->too_long = 1;
		return MHD_NO;
	}
	if (x->len > 0)
		x->buf[x->len++] = ',';
	memcpy(x->buf + x->len, value, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return MHD_YES;
}

/*
 * The client behind trusted proxies: walk X-Forwarded-For from the
 * right while the hop we are at is trusted; the first hop that is not
 * is the client.  An entry that is not an address (or a header too long
 * to look at) stops the walk at the hop that sent it.
 */
static void
req_client_forwarded(struct http_req *req, int af, const uint8_t *peer)
{
	struct xff x;
	struct net hop;
	uint8_t cur[16];
	int cur_af = af;
	size_t end, start, a, b;

	memcpy(cur, peer, af == AF_INET6 ? 16 : 4);
	memset(&x, 0, sizeof(x));
	(void)MHD_get_connection_values(
	    req->conn, MHD_HEADER_KIND, xff_collect, &x);
	if (x.too_long)
		return;
	end = x.len;
	while (end > 0 && proxy_trusted(req->srv, cur_af, cur)) {
		start = end;
		while (start > 0 && x.buf[start - 1] != ',')
			start--;
		a = start;
		b = end;
		while (a < b && (x.buf[a] == ' ' || x.buf[a] == '\t'))
			a++;
		while (b > a && (x.buf[b - 1] == ' ' || x.buf[b - 1] == '\t'))
			b--;
		if (b == a || memchr(x.buf + a, '/', b - a) != NULL ||
		    net_parse(&hop, x.buf + a, b - a) != 0)
			break;
		cur_af = hop.af;
		memcpy(cur, hop.addr, sizeof(cur));
		end = start > 0 ? start - 1 : 0;
	}
	(void)inet_ntop(cur_af, cur, req->client, sizeof(req->client));
}

static void
req_init_client(struct http_req *req)
{
	const union MHD_ConnectionInfo *ci;
	const uint8_t *a;
	uint8_t key[16];
	int af;

	snprintf(req->client, sizeof(req->client), "-");
	ci = MHD_get_connection_info(
	    req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || peer_key(ci->client_addr, &af, &a, key) != 0)
		return;
	(void)inet_ntop(af, a, req->client, sizeof(req->client));
	if (req->srv->nproxies > 0 && proxy_trusted(req->srv, af, a))
		req_client_forwarded(req, af, a);
}

/* Copy s into dst (bounded), replacing bytes outside printable ASCII. */
static int
copy_printable(char *dst, size_t dstlen, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= dstlen) {
			dst[i] = '\0';
			return -1;
		}
		dst[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	dst[i] = '\0';
	return 0;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_req *req = *con_cls;
	const char *cl;
	char *end = NULL;
	unsigned long long n;
	size_t ncap;
	uint8_t *nb;

	(void)version;
	if (req == NULL) {
		if ((req = calloc(1, sizeof(*req))) == NULL)
			return MHD_NO;
		req->srv = s;
		req->conn = conn;
		clock_gettime(CLOCK_MONOTONIC, &req->start);
		snprintf(req->user, sizeof(req->user), "-");
		(void)copy_printable(req->method, sizeof(req->method), method);
		if (copy_printable(req->path, sizeof(req->path), url) != 0)
			req->path_too_long = 1;
		req_init_client(req);
		*con_cls = req;
		atomic_fetch_add(&s->in_flight, 1);
		cl = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			errno = 0;
			n = strtoull(cl, &end, 10);
			if (errno != 0 || end == cl || *end != '\0' ||
			    n > s->cfg.max_body) {
				http_reply_error(req, 413, "body_too_large",
				    "the request body is larger than %zu "
				    "bytes",
				    s->cfg.max_body);
				return req_queue(req);
			}
		}
		return MHD_YES;
	}
	if (req->queued) {
		/* Already answered (413): drop whatever still arrives. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->too_large && *upload_data_size > 0) {
		/*
		 * A chunked body went over the cap.  libmicrohttpd does not
		 * let us answer before the upload ends, so the rest is
		 * dropped unbuffered and 413 goes out at the end; a client
		 * that keeps sending past HTTP_MAX_DISCARD is cut off.
		 */
		req->discarded += *upload_data_size;
		*upload_data_size = 0;
		return req->discarded > HTTP_MAX_DISCARD ? MHD_NO : MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (*upload_data_size > s->cfg.max_body - req->body_len) {
			req->too_large = 1;
			req->discarded = *upload_data_size;
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (req->body_len + *upload_data_size > req->body_cap) {
			ncap = req->body_cap == 0 ? 4096 : req->body_cap * 2;
			while (ncap < req->body_len + *upload_data_size)
				ncap *= 2;
			if (ncap > s->cfg.max_body)
				ncap = s->cfg.max_body;
			if ((nb = realloc(req->body, ncap)) == NULL)
				return MHD_NO;
			req->body = nb;
			req->body_cap = ncap;
		}
		memcpy(
		    req->body + req->body_len, upload_data, *upload_data_size);
		req->body_len += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->too_large)
		http_reply_error(req, 413, "body_too_large",
		    "the request body is larger than %zu bytes",
		    s->cfg.max_body);
	else
		route_dispatch(req);
	return req_queue(req);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_req *req = *con_cls;
	struct timespec now;
	char ts[32], line[HTTP_MAX_PATH + 256];
	long ms;
	int n, status;

	(void)conn;
	if (req == NULL)
		return;
	*con_cls = NULL;
	status = req->queued ? req->status : 0;
	if (!s->cfg.quiet && s->cfg.log != NULL) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		log_time(ts);
		ms = (long)(now.tv_sec - req->start.tv_sec) * 1000 +
		    (now.tv_nsec - req->start.tv_nsec) / 1000000;
		n = snprintf(line, sizeof(line), "%s %s %s %d %ldms %s%s\n", ts,
		    req->method, req->path, status, ms, req->user,
		    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
							       : " (aborted)");
		if (n > 0)
			(void)fwrite(line, 1,
			    (size_t)n < sizeof(line) ? (size_t)n
						     : sizeof(line) - 1,
			    s->cfg.log);
	}
	req_free(req);
	atomic_fetch_sub(&s->in_flight, 1);
}

/* ---- the daemon ---- */

/* What http_server_start() made, but the daemon. */
static void
server_free(struct http_server *s)
{
	pthread_mutex_destroy(&s->rl_lock);
	pthread_mutex_destroy(&s->conn_lock);
	free(s->conn_nodes);
	free(s);
}

int
http_server_start(struct http_server **out, const struct http_config *cfg,
    char errbuf[HTTP_ERR_LEN])
{
	int r = ERR_INTERNAL;
	struct http_server *s = NULL;
	unsigned flags;
	size_t i;

	*out = NULL;
	errbuf[0] = '\0';
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	s->cfg = *cfg;
	s->cfg.trusted_proxies = NULL; /* parsed into s->proxies */
	s->cfg.ntrusted_proxies = 0;
	s->listen_fd = cfg->listen_fd;
	pthread_mutex_init(&s->rl_lock, NULL);
	pthread_mutex_init(&s->conn_lock, NULL);
	if (cfg->ntrusted_proxies > HTTP_MAX_PROXIES) {
		snprintf(errbuf, HTTP_ERR_LEN, "more than %d trusted proxies",
		    HTTP_MAX_PROXIES);
		r = ERR_INVALID_ARG;
		goto out;
	}
	for (i = 0; i < cfg->ntrusted_proxies; i++) {
		const char *p = cfg->trusted_proxies[i];

		if (net_parse(&s->proxies[i], p, strlen(p)) != 0) {
			snprintf(errbuf, HTTP_ERR_LEN,
			    "trusted proxy \"%.64s\" is not an address or "
			    "CIDR",
			    p);
			r = ERR_INVALID_ARG;
			goto out;
		}
		s->nproxies++;
	}
	if (s->cfg.threads == 0)
		s->cfg.threads = 256;
	/* A thread per connection: as many connections as threads. */
	if (s->cfg.conn_limit == 0 || s->cfg.conn_limit > s->cfg.threads)
		s->cfg.conn_limit = s->cfg.threads;
	if (s->cfg.per_ip_limit == 0)
		s->cfg.per_ip_limit = 64;
	if ((s->conn_nodes = calloc(
		 s->cfg.conn_limit, sizeof(*s->conn_nodes))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < s->cfg.conn_limit; i++) {
		s->conn_nodes[i].next = s->conn_free;
		s->conn_free = &s->conn_nodes[i];
	}
	/* Addresses a client picks should not all land in one bucket. */
	if (RAND_bytes((unsigned char *)&s->conn_seed, sizeof(s->conn_seed)) !=
	    1)
		s->conn_seed = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	if (s->cfg.conn_memory == 0)
		s->cfg.conn_memory = 32 * 1024;
	if (s->cfg.timeout_s == 0)
		s->cfg.timeout_s = 30;
	if (s->cfg.max_body == 0)
		s->cfg.max_body = HTTP_MAX_BODY;
	if (s->cfg.auth_fail_burst == 0)
		s->cfg.auth_fail_burst = 10;
	if (s->cfg.auth_fail_refill_s == 0)
		s->cfg.auth_fail_refill_s = 6;
	/* A thread per connection, not a pool of polling threads: in a
	 * pool each thread serves every connection it accepted, so a
	 * request that waits for its COMMIT held up the other connections
	 * of its thread (a KRL fetch waited for a stranger's issuance: p99
	 * 12-16 ms instead of 2-4 at 16 connections issuing).  Each
	 * connection's thread waits in poll(), not select(): select()
	 * cannot watch a descriptor numbered FD_SETSIZE (1024) or above,
	 * and scans its whole set per call. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ERROR_LOG |
	    MHD_USE_ITC;
	if ((cfg->tls_cert_pem == NULL) != (cfg->tls_key_pem == NULL)) {
		snprintf(errbuf, HTTP_ERR_LEN,
		    "TLS needs both a certificate and a key");
		r = ERR_INVALID_ARG;
		goto out;
	}
	if (cfg->tls_cert_pem != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(errbuf, HTTP_ERR_LEN,
			    "this libmicrohttpd has no TLS support");
			r = ERR_INVALID_ARG;
			goto out;
		}
		flags |= MHD_USE_TLS;
		s->d = MHD_start_daemon(flags, 0, conn_admit, s, on_access, s,
		    MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd,
		    MHD_OPTION_CONNECTION_LIMIT, s->cfg.conn_limit,
		    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, s,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->cfg.conn_memory,
		    MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.timeout_s,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		    MHD_OPTION_HTTPS_MEM_CERT, cfg->tls_cert_pem,
		    MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem, MHD_OPTION_END);
	} else {
		s->d = MHD_start_daemon(flags, 0, conn_admit, s, on_access, s,
		    MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd,
		    MHD_OPTION_CONNECTION_LIMIT, s->cfg.conn_limit,
		    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, s,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->cfg.conn_memory,
		    MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.timeout_s,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		    MHD_OPTION_END);
	}
	if (s->d == NULL) {
		snprintf(errbuf, HTTP_ERR_LEN, "cannot start the HTTP daemon%s",
		    cfg->tls_cert_pem != NULL
			? " (is the TLS certificate/key valid PEM?)"
			: "");
		r = ERR_SYSTEM;
		goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
out:
	if (s != NULL)
		server_free(s);
	return r;
}

void
http_server_quiesce(struct http_server *s)
{
	MHD_socket fd;

	if (s == NULL || s->quiesced)
		return;
	atomic_store(&s->closing, 1);
	fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		s->quiesced = 1;
}

unsigned
http_server_drain(struct http_server *s, unsigned timeout_ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	unsigned waited = 0, n;

	while ((n = atomic_load(&s->in_flight)) > 0 && waited < timeout_ms) {
		nanosleep(&ts, NULL);
		waited += 10;
	}
	return n;
}

void
http_server_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	if (s->d != NULL)
		MHD_stop_daemon(s->d);
	/* After a quiesce the listening socket is ours to close. */
	if (s->quiesced && s->listen_fd >= 0)
		close(s->listen_fd);
	server_free(s);
}

uint64_t
http_server_refused_count(const struct http_server *s)
{
	return atomic_load(&s->conn_refused);
}

uint64_t
http_server_status_count(const struct http_server *s, int status)
{
	if (status < 100 || status > 599)
		return 0;
	return atomic_load(&s->status_count[status]);
}
