/*
 * notify.c: webhook delivery (notify.h): the payloads (json, slack), the
 * HMAC signature, one delivery thread per sink with its backoff, its
 * lease and its cursor, and the counters that /v1/health and /metrics
 * show.  An outbound module of web/: libcurl is used here (and in
 * web/oidc.c) only.  The events, cursors and leases come through a
 * struct notify_source, ca/outbox.h in the service.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ca/ledger.h"
#include "signer/base/duration.h"
#include "web/notify.h"

#define LINK_MAX (CONFIG_MAX_URL + 64)
#define TEXT_MAX 4096 /* a Slack mrkdwn section, bytes */

/* A sink as its thread needs it: copied from the configuration. */
struct sink {
	struct notify *n;
	struct config_notify c; /* strings owned */
	char *secret;
	size_t slen;
	pthread_t thread;
	int started;
	CURL *curl;
	/* Stats: under n->mu. */
	struct notify_stats st;
};

struct notify {
	struct notify_source src;
	char *public_url;
	char owner[OUTBOX_OWNER_MAX + 1];
	pthread_mutex_t mu;
	pthread_cond_t cv; /* stop or kick */
	atomic_int stop;
	unsigned kicks;
	struct sink *sinks;
	size_t nsinks;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc = -1;

static void
curl_init(void)
{
	curl_init_rc =
	    curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* ---- payloads ---- */

int
notify_wants(const struct config_notify *sink, const struct outbox_event *ev)
{
	size_t i;

	if (!((ev->kind & sink->events) != 0 ||
		(ev->break_glass &&
		    (sink->events & CONFIG_NOTIFY_BREAK_GLASS))))
		return 0;
	if (sink->nroles == 0)
		return 1;
	for (i = 0; ev->role != NULL && i < sink->nroles; i++)
		if (strcmp(ev->role, sink->roles[i]) == 0)
			return 1;
	return 0;
}

/* The kind's name ("request.created"); the event type when none. */
static const char *
kind_name(const struct outbox_event *ev)
{
	const char *k = config_notify_event_name(ev->kind);

	return k != NULL ? k : ev->type;
}

static void
link_make(
    char buf[LINK_MAX], const char *public_url, const struct outbox_event *ev)
{
	buf[0] = '\0';
	if (public_url != NULL && ev->request_id > 0)
		snprintf(buf, LINK_MAX, "%s/ui/requests/%" PRId64, public_url,
		    ev->request_id);
}

static json_t *
principals_json(const struct outbox_event *ev)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < ev->nprincipals; i++)
		if (json_array_append_new(a, json_string(ev->principals[i])) !=
		    0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int
payload_json(json_t **out, const char *link, const struct outbox_event *ev)
{
	json_t *o = NULL, *e = NULL, *d = NULL, *rq = NULL, *p = NULL;
	json_error_t jerr;
	int r = ERR_INTERNAL;

	*out = NULL;
	ENSURE((d = json_loads(ev->details, JSON_REJECT_DUPLICATES, &jerr)) !=
		NULL,
	    ERR_INVALID_ARG);
	ENSURE((e = json_pack("{s:I,s:I,s:s,s:s,s:s,s:O,s:s,s:s}", "seq",
		    (json_int_t)ev->seq, "time", (json_int_t)ev->time, "type",
		    ev->type, "actor", ev->actor, "subject", ev->subject,
		    "details", d, "prev_hash", ev->prev_hash, "hash",
		    ev->hash)) != NULL,
	    ERR_ALLOC);
	ENSURE((o = json_pack("{s:s,s:O}", "notification", kind_name(ev),
		    "event", e)) != NULL,
	    ERR_ALLOC);
	if (ev->request_id > 0 && ev->role != NULL) {
		ENSURE((p = principals_json(ev)) != NULL, ERR_ALLOC);
		ENSURE((rq = json_pack("{s:I,s:s,s:s?,s:O,s:I,s:s?}", "id",
			    (json_int_t)ev->request_id, "role", ev->role,
			    "requester", ev->requester, "principals", p, "ttl",
			    (json_int_t)ev->ttl, "reason", ev->reason)) != NULL,
		    ERR_ALLOC);
		ENSURE(json_object_set(o, "request", rq) == 0, ERR_ALLOC);
	}
	if (link[0] != '\0')
		ENSURE(json_object_set_new(o, "link", json_string(link)) == 0,
		    ERR_ALLOC);
	*out = o;
	o = NULL;
	r = 0;
out:
	json_decref(o);
	json_decref(e);
	json_decref(d);
	json_decref(rq);
	json_decref(p);
	return r;
}

/* Append s to buf (len bytes, *used so far) escaped for Slack mrkdwn:
 * &, < and > as entities (so no "<!channel>" or link can be smuggled in a
 * reason), control characters as spaces. */
static void
mrk_put(char *buf, size_t len, size_t *used, const char *s)
{
	const char *rep;
	size_t k;

	for (; s != NULL && *s != '\0'; s++) {
		char one[2] = {*s, '\0'};

		if (*s == '&')
			rep = "&amp;";
		else if (*s == '<')
			rep = "&lt;";
		else if (*s == '>')
			rep = "&gt;";
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			rep = " ";
		else
			rep = one;
		k = strlen(rep);
		if (*used + k >= len)
			return;
		memcpy(buf + *used, rep, k);
		*used += k;
		buf[*used] = '\0';
	}
}

/* Plain text (a link or a fixed word) appended as is. */
static void
raw_put(char *buf, size_t len, size_t *used, const char *s)
{
	size_t k = strlen(s);

	if (*used + k >= len)
		return;
	memcpy(buf + *used, s, k + 1);
	*used += k;
}

static int
payload_slack(json_t **out, const char *link, const struct outbox_event *ev)
{
	char text[TEXT_MAX], head[512], ttl[DURATION_FMT_LEN], num[48];
	json_t *d = NULL, *o = NULL, *blocks = NULL;
	json_error_t jerr;
	const char *what, *by;
	size_t used = 0, hu = 0, i;
	int r = ERR_INTERNAL;

	*out = NULL;
	text[0] = head[0] = '\0';
	ENSURE((d = json_loads(ev->details, JSON_REJECT_DUPLICATES, &jerr)) !=
		NULL,
	    ERR_INVALID_ARG);
	switch (ev->kind) {
	case CONFIG_NOTIFY_REQUEST_CREATED:
		what = "asks for access";
		break;
	case CONFIG_NOTIFY_REQUEST_APPROVED:
		what = "approved by";
		break;
	case CONFIG_NOTIFY_REQUEST_DENIED:
		what = "denied by";
		break;
	case CONFIG_NOTIFY_REQUEST_WITHDRAWN:
		what = "withdrawn by";
		break;
	case CONFIG_NOTIFY_REQUEST_EXPIRED:
		what = "expired without a decision";
		break;
	case CONFIG_NOTIFY_CERT_ISSUED:
		what = "certificate issued";
		break;
	case CONFIG_NOTIFY_CERT_REVOKED:
		what = "certificate revoked by";
		break;
	default:
		what = ev->type;
		break;
	}
	by = (ev->kind == CONFIG_NOTIFY_REQUEST_APPROVED ||
		 ev->kind == CONFIG_NOTIFY_REQUEST_DENIED ||
		 ev->kind == CONFIG_NOTIFY_REQUEST_WITHDRAWN ||
		 ev->kind == CONFIG_NOTIFY_CERT_REVOKED)
	    ? ev->actor
	    : NULL;
	/* Headline: "[BREAK-GLASS] Request #7 (prod-debug): approved by bob".
	 */
	if (ev->break_glass)
		raw_put(head, sizeof(head), &hu, "BREAK-GLASS: ");
	if (ev->request_id > 0) {
		snprintf(num, sizeof(num), "Request #%" PRId64, ev->request_id);
		raw_put(head, sizeof(head), &hu, num);
	} else if (ev->serial > 0) {
		snprintf(num, sizeof(num), "Certificate serial %" PRId64,
		    ev->serial);
		raw_put(head, sizeof(head), &hu, num);
	} else
		mrk_put(head, sizeof(head), &hu, ev->subject);
	if (ev->role != NULL) {
		raw_put(head, sizeof(head), &hu, " (");
		mrk_put(head, sizeof(head), &hu, ev->role);
		raw_put(head, sizeof(head), &hu, ")");
	}
	raw_put(head, sizeof(head), &hu, ": ");
	mrk_put(head, sizeof(head), &hu, what);
	if (by != NULL) {
		raw_put(head, sizeof(head), &hu, " ");
		mrk_put(head, sizeof(head), &hu, by);
	}
	if (ev->serial > 0 && ev->request_id > 0) {
		snprintf(num, sizeof(num), " (serial %" PRId64 ")", ev->serial);
		raw_put(head, sizeof(head), &hu, num);
	}

	raw_put(text, sizeof(text), &used, "*");
	raw_put(text, sizeof(text), &used, head);
	raw_put(text, sizeof(text), &used, "*");
	if (ev->role != NULL) {
		raw_put(text, sizeof(text), &used, "\n*Role:* ");
		mrk_put(text, sizeof(text), &used, ev->role);
	}
	if (ev->requester != NULL) {
		raw_put(text, sizeof(text), &used, "\n*Requester:* ");
		mrk_put(text, sizeof(text), &used, ev->requester);
	}
	if (ev->nprincipals > 0) {
		raw_put(text, sizeof(text), &used, "\n*Principals:* ");
		for (i = 0; i < ev->nprincipals; i++) {
			if (i > 0)
				raw_put(text, sizeof(text), &used, ", ");
			mrk_put(text, sizeof(text), &used, ev->principals[i]);
		}
	}
	if (ev->ttl > 0) {
		duration_format(ttl, sizeof(ttl), ev->ttl);
		raw_put(text, sizeof(text), &used, "\n*TTL:* ");
		raw_put(text, sizeof(text), &used, ttl);
	}
	if (ev->reason != NULL) {
		raw_put(text, sizeof(text), &used, "\n*Reason:* ");
		mrk_put(text, sizeof(text), &used, ev->reason);
	}
	if (json_is_string(json_object_get(d, "comment")) &&
	    json_string_length(json_object_get(d, "comment")) > 0) {
		raw_put(text, sizeof(text), &used, "\n*Comment:* ");
		mrk_put(text, sizeof(text), &used,
		    json_string_value(json_object_get(d, "comment")));
	}
	if (ev->kind == CONFIG_NOTIFY_CERT_REVOKED &&
	    json_is_string(json_object_get(d, "reason"))) {
		raw_put(text, sizeof(text), &used, "\n*Revocation reason:* ");
		mrk_put(text, sizeof(text), &used,
		    json_string_value(json_object_get(d, "reason")));
	}
	if (link[0] != '\0') {
		/* public_url passed url_check(): no '<', '>', '|' or space. */
		raw_put(text, sizeof(text), &used, "\n<");
		raw_put(text, sizeof(text), &used, link);
		raw_put(text, sizeof(text), &used, "|Open the request>");
	}
	snprintf(num, sizeof(num), "jitca ledger event %" PRId64, ev->seq);
	ENSURE((blocks = json_pack("[{s:s,s:{s:s,s:s}},{s:s,s:[{s:s,s:s}]}]",
		    "type", "section", "text", "type", "mrkdwn", "text", text,
		    "type", "context", "elements", "type", "plain_text", "text",
		    num)) != NULL,
	    ERR_ALLOC);
	ENSURE((o = json_pack("{s:s,s:O}", "text", head, "blocks", blocks)) !=
		NULL,
	    ERR_ALLOC);
	*out = o;
	o = NULL;
	r = 0;
out:
	json_decref(d);
	json_decref(o);
	json_decref(blocks);
	return r;
}

int
notify_payload(char **body, size_t *len, const struct config_notify *sink,
    const char *public_url, const struct outbox_event *ev)
{
	char link[LINK_MAX];
	json_t *o = NULL;
	int r = ERR_INTERNAL;

	*body = NULL;
	*len = 0;
	ENSURE(
	    sink != NULL && ev != NULL && ev->details != NULL, ERR_INVALID_ARG);
	link_make(link, public_url, ev);
	if (sink->format == CONFIG_NOTIFY_SLACK)
		TRY(payload_slack(&o, link, ev));
	else
		TRY(payload_json(&o, link, ev));
	ENSURE((*body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) != NULL,
	    ERR_ALLOC);
	*len = strlen(*body);
	if (*len > NOTIFY_BODY_MAX) {
		free(*body);
		*body = NULL;
		*len = 0;
		r = ERR_TOO_LARGE;
		goto out;
	}
	r = 0;
out:
	json_decref(o);
	return r;
}

int
notify_signature(char hex[NOTIFY_SIG_HEX], const void *secret, size_t slen,
    const char *ts, const void *body, size_t blen)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0, i;
	size_t tlen = strlen(ts);
	char *msg = NULL;
	int r = ERR_INTERNAL;

	hex[0] = '\0';
	ENSURE(
	    slen <= INT32_MAX && blen < SIZE_MAX - tlen - 2, ERR_INVALID_ARG);
	ENSURE((msg = malloc(tlen + 1 + blen + 1)) != NULL, ERR_ALLOC);
	memcpy(msg, ts, tlen);
	msg[tlen] = '.';
	if (blen > 0)
		memcpy(msg + tlen + 1, body, blen);
	if (HMAC(EVP_sha256(), secret, (int)slen, (const uint8_t *)msg,
		tlen + 1 + blen, mac, &mlen) == NULL ||
	    mlen != 32) {
		r = ERR_CRYPTO;
		goto out;
	}
	for (i = 0; i < mlen; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 15];
	}
	hex[2 * mlen] = '\0';
	r = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	free(msg);
	return r;
}

/* ---- the ledger as the source ---- */

static int
src_read(
    void *arg, int64_t after, size_t max, struct outbox_event **out, size_t *n)
{
	return outbox_read(arg, after, max, out, n);
}

static int
src_head(void *arg, int64_t *seq)
{
	return outbox_head(arg, seq);
}

static int
src_cursor_get(void *arg, const char *sink, int64_t *seq)
{
	return outbox_cursor_get(arg, sink, seq, NULL);
}

static int
src_cursor_set(
    void *arg, const char *sink, const char *owner, int64_t seq, uint64_t now)
{
	return outbox_cursor_set(arg, sink, owner, seq, now);
}

static int
src_lease_take(
    void *arg, const char *sink, const char *owner, uint64_t now, uint64_t ttl)
{
	return outbox_lease_take(arg, sink, owner, now, ttl);
}

static int
src_lease_release(void *arg, const char *sink, const char *owner)
{
	return outbox_lease_release(arg, sink, owner);
}

void
notify_source_ledger(struct notify_source *src, struct ledger *l)
{
	memset(src, 0, sizeof(*src));
	src->arg = l;
	src->read = src_read;
	src->head = src_head;
	src->cursor_get = src_cursor_get;
	src->cursor_set = src_cursor_set;
	src->lease_take = src_lease_take;
	src->lease_release = src_lease_release;
}

/* ---- delivery ---- */

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to ms (or until stop, or a kick when kickable); 1 when
 * stopping. */
static int
sink_wait(struct notify *n, long long ms, int kickable)
{
	struct timespec until;
	unsigned kicks;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->mu);
	kicks = n->kicks;
	while (!atomic_load(&n->stop) && rc != ETIMEDOUT &&
	    (!kickable || kicks == n->kicks))
		rc = pthread_cond_timedwait(&n->cv, &n->mu, &until);
	pthread_mutex_unlock(&n->mu);
	return atomic_load(&n->stop);
}

/* The wait before retry number tries (1, 2, ...): doubling from
 * NOTIFY_BACKOFF_FIRST_MS up to max_backoff, then a random point in its
 * upper half. */
static long long
backoff_ms(const struct sink *s, unsigned tries)
{
	long long cap = (long long)s->c.max_backoff * 1000, d;
	uint32_t rnd = 0;

	d = NOTIFY_BACKOFF_FIRST_MS;
	while (tries-- > 1 && d < cap)
		d *= 2;
	if (d > cap)
		d = cap;
	if (RAND_bytes((uint8_t *)&rnd, sizeof(rnd)) != 1)
		rnd = (uint32_t)mono_ms();
	return d / 2 + (long long)(rnd % (uint32_t)(d / 2 + 1));
}

static size_t
discard_body(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

static int
abort_on_stop(
    void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct notify *n = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load(&n->stop) ? 1 : 0;
}

/* Host of a URL for messages (the path of a webhook URL may be secret). */
static void
url_host(char *buf, size_t len, const char *url)
{
	const char *h = strstr(url, "://");

	h = h != NULL ? h + 3 : url;
	snprintf(buf, len, "%.*s", (int)strcspn(h, "/?"), h);
}

/* POST ev to the sink once: 0 on 2xx, else ERR_NOTIFY_* with why. */
static int
sink_post(
    struct sink *s, const struct outbox_event *ev, char *why, size_t whylen)
{
	struct notify *n = s->n;
	struct curl_slist *h = NULL, *nh;
	char *body = NULL, sig[NOTIFY_SIG_HEX], ts[32],
	     cerr[CURL_ERROR_SIZE] = "", host[128];
	size_t blen = 0;
	long status = 0;
	long connect = NOTIFY_CONNECT_TIMEOUT;
	CURLcode cc;
	int r = ERR_INTERNAL;

	why[0] = '\0';
	url_host(host, sizeof(host), s->c.url);
	if ((r = notify_payload(&body, &blen, &s->c, n->public_url, ev)) != 0) {
		snprintf(
		    why, whylen, "event %" PRId64 ": %s", ev->seq, err_str(r));
		goto out;
	}
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	TRY(notify_signature(sig, s->secret, s->slen, ts, body, blen));
	{
		const char *lines[4];
		char l0[64], l1[96], l2[64];
		size_t i;

		snprintf(l0, sizeof(l0), "X-Jitca-Timestamp: %s", ts);
		snprintf(l1, sizeof(l1), "X-Jitca-Signature: sha256=%s", sig);
		snprintf(l2, sizeof(l2), "X-Jitca-Event: %" PRId64, ev->seq);
		lines[0] = "Content-Type: application/json";
		lines[1] = l0;
		lines[2] = l1;
		lines[3] = l2;
		for (i = 0; i < 4; i++) {
			if ((nh = curl_slist_append(h, lines[i])) == NULL) {
				r = ERR_ALLOC;
				goto out;
			}
			h = nh;
		}
		/* curl would otherwise wait for "100 Continue". */
		if ((nh = curl_slist_append(h, "Expect:")) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		h = nh;
	}
	if ((long)s->c.timeout < connect)
		connect = (long)s->c.timeout;
	curl_easy_reset(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_URL, s->c.url);
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR,
	    strncmp(s->c.url, "http://", 7) == 0 ? "http" : "https");
	/* Plain http is only ever loopback (config.c): never via a proxy. */
	if (strncmp(s->c.url, "http://", 7) == 0)
		curl_easy_setopt(s->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, connect);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, (long)s->c.timeout);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(
	    s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "jitcad/0.1");
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(s->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	curl_easy_setopt(s->curl, CURLOPT_XFERINFODATA, n);
	cc = curl_easy_perform(s->curl);
	if (cc != CURLE_OK) {
		snprintf(why, whylen, "event %" PRId64 " to %s: %s", ev->seq,
		    host, cerr[0] != '\0' ? cerr : curl_easy_strerror(cc));
		r = ERR_NOTIFY_UNREACHABLE;
		goto out;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(why, whylen,
		    "event %" PRId64 " to %s: HTTP status %ld", ev->seq, host,
		    status);
		r = ERR_NOTIFY_REFUSED;
		goto out;
	}
	r = 0;
out:
	curl_slist_free_all(h);
	free(body);
	return r;
}

static void
stats_fail(struct sink *s, int r, const char *why)
{
	struct notify *n = s->n;
	uint64_t now = (uint64_t)time(NULL);

	pthread_mutex_lock(&n->mu);
	s->st.failed++;
	if (s->st.failing_since == 0)
		s->st.failing_since = now;
	snprintf(s->st.last_error, sizeof(s->st.last_error), "%s",
	    why[0] != '\0' ? why : err_str(r));
	pthread_mutex_unlock(&n->mu);
}

/* An error of the store (not of the receiver), recorded as such. */
static void
stats_store_error(struct sink *s, const char *what, int r)
{
	char why[NOTIFY_ERR_LEN];

	snprintf(why, sizeof(why), "%s: %s", what, err_str(r));
	pthread_mutex_lock(&s->n->mu);
	snprintf(s->st.last_error, sizeof(s->st.last_error), "%s", why);
	pthread_mutex_unlock(&s->n->mu);
}

/* Take or renew the lease when due; 0 when held. */
static int
sink_lease(struct sink *s, long long *lease_ms)
{
	struct notify *n = s->n;
	long long now = mono_ms();
	int r;

	if (*lease_ms != 0 && now - *lease_ms < NOTIFY_LEASE_RENEW * 1000)
		return 0;
	r = n->src.lease_take(n->src.arg, s->c.name, n->owner,
	    (uint64_t)time(NULL), NOTIFY_LEASE_TTL);
	pthread_mutex_lock(&n->mu);
	s->st.leased = r == 0;
	pthread_mutex_unlock(&n->mu);
	*lease_ms = r == 0 ? now : 0;
	if (r != 0 && r != ERR_NOTIFY_LEASE)
		stats_store_error(s, "taking the sink's lease", r);
	return r;
}

/*
 * Deliver ev until the receiver takes it: 0, 1 when stopping,
 * ERR_NOTIFY_LEASE when the lease was lost meanwhile.
 */
static int
sink_deliver(struct sink *s, const struct outbox_event *ev, long long *lease_ms)
{
	struct notify *n = s->n;
	char why[NOTIFY_ERR_LEN];
	unsigned tries = 0;
	int r;

	for (;;) {
		if (atomic_load(&n->stop))
			return 1;
		if ((r = sink_lease(s, lease_ms)) != 0)
			return ERR_NOTIFY_LEASE;
		if ((r = sink_post(s, ev, why, sizeof(why))) == 0)
			break;
		if (atomic_load(&n->stop))
			return 1;
		stats_fail(s, r, why);
		if (r == ERR_TOO_LARGE || r == ERR_INVALID_ARG) {
			/* This event can never be sent: counted, passed. */
			return 0;
		}
		if (sink_wait(n, backoff_ms(s, ++tries), 0))
			return 1;
	}
	pthread_mutex_lock(&n->mu);
	s->st.delivered++;
	s->st.failing_since = 0;
	s->st.alerting = 0;
	pthread_mutex_unlock(&n->mu);
	return 0;
}

static void *
sink_main(void *arg)
{
	struct sink *s = arg;
	struct notify *n = s->n;
	struct outbox_event *evs = NULL;
	size_t nev = 0, i;
	long long lease_ms = 0;
	int64_t pos = -1, durable = -1, head = 0;
	int r;

	while (!atomic_load(&n->stop)) {
		if (sink_lease(s, &lease_ms) != 0) {
			pos = durable = -1;
			sink_wait(n, 1000, 0);
			continue;
		}
		if (pos < 0) {
			if ((r = n->src.cursor_get(
				 n->src.arg, s->c.name, &pos)) != 0) {
				pos = -1;
				stats_store_error(s, "reading the cursor", r);
				sink_wait(n, 1000, 0);
				continue;
			}
			durable = pos;
		}
		if ((r = n->src.read(
			 n->src.arg, pos, OUTBOX_READ_MAX, &evs, &nev)) != 0) {
			stats_store_error(s, "reading events", r);
			sink_wait(n, 1000, 0);
			continue;
		}
		if (nev > 0)
			head = evs[nev - 1].seq;
		else if (n->src.head(n->src.arg, &head) != 0)
			head = pos;
		pthread_mutex_lock(&n->mu);
		s->st.head = head > s->st.head ? head : s->st.head;
		s->st.cursor = pos;
		pthread_mutex_unlock(&n->mu);
		for (i = 0; i < nev && !atomic_load(&n->stop); i++) {
			if (!notify_wants(&s->c, &evs[i])) {
				pos = evs[i].seq;
				continue;
			}
			/* The lag counts what was passed over as done, also
			 * while this delivery is retried. */
			pthread_mutex_lock(&n->mu);
			s->st.cursor = pos;
			pthread_mutex_unlock(&n->mu);
			if ((r = sink_deliver(s, &evs[i], &lease_ms)) != 0)
				break;
			pos = evs[i].seq;
			r = n->src.cursor_set(n->src.arg, s->c.name, n->owner,
			    pos, (uint64_t)time(NULL));
			if (r == 0)
				durable = pos;
			else if (r == ERR_NOTIFY_LEASE) {
				lease_ms = 0;
				break;
			} else
				stats_store_error(s, "moving the cursor", r);
		}
		outbox_events_free(evs, nev);
		evs = NULL;
		if (r == ERR_NOTIFY_LEASE) {
			/* Another replica has it: start over from the
			 * durable cursor once ours again. */
			pos = durable = -1;
			continue;
		}
		/* Events passed over move the cursor too, once per read. */
		if (pos > durable &&
		    n->src.cursor_set(n->src.arg, s->c.name, n->owner, pos,
			(uint64_t)time(NULL)) == 0)
			durable = pos;
		pthread_mutex_lock(&n->mu);
		s->st.cursor = pos;
		pthread_mutex_unlock(&n->mu);
		if (nev < OUTBOX_READ_MAX)
			sink_wait(n, NOTIFY_POLL_MS, 1);
		nev = 0;
	}
	if (lease_ms != 0)
		(void)n->src.lease_release(n->src.arg, s->c.name, n->owner);
	return NULL;
}

/* ---- start, stop, stats ---- */

static int
sink_copy(struct sink *s, const struct config_notify *c)
{
	size_t i;

	s->c = *c;
	s->c.name = s->c.url = s->c.secret_file = NULL;
	s->c.roles = NULL;
	s->c.nroles = 0;
	if ((s->c.name = strdup(c->name)) == NULL ||
	    (s->c.url = strdup(c->url)) == NULL)
		return ERR_ALLOC;
	if (c->nroles > 0 &&
	    (s->c.roles = calloc(c->nroles, sizeof(*s->c.roles))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < c->nroles; i++) {
		if ((s->c.roles[i] = strdup(c->roles[i])) == NULL)
			return ERR_ALLOC;
		s->c.nroles = i + 1;
	}
	snprintf(s->st.name, sizeof(s->st.name), "%s", c->name);
	s->st.cursor = -1;
	return 0;
}

static void
sink_clear(struct sink *s)
{
	free(s->c.name);
	free(s->c.url);
	config_strv_free(s->c.roles, s->c.nroles);
	config_notify_secret_free(s->secret, s->slen);
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
}

int
notify_start(struct notify **out, const struct config *cfg,
    const struct notify_source *src, char errbuf[NOTIFY_ERR_LEN])
{
	struct notify *n = NULL;
	char cerr[CONFIG_ERR_LEN] = "", host[64];
	uint8_t rnd[4];
	int64_t cur = 0;
	size_t i;
	int r = ERR_INTERNAL, mu = 0, cv = 0;
	pthread_condattr_t ca;

	*out = NULL;
	if (errbuf != NULL)
		errbuf[0] = '\0';
	ENSURE(cfg != NULL && src != NULL, ERR_INVALID_ARG);
	pthread_once(&curl_once, curl_init);
	ENSURE(curl_init_rc == 0, ERR_INTERNAL);
	ENSURE((n = calloc(1, sizeof(*n))) != NULL, ERR_ALLOC);
	n->src = *src;
	atomic_init(&n->stop, 0);
	ENSURE(pthread_mutex_init(&n->mu, NULL) == 0, ERR_SYSTEM);
	mu = 1;
	ENSURE(pthread_condattr_init(&ca) == 0, ERR_SYSTEM);
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&n->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		r = ERR_SYSTEM;
		goto out;
	}
	pthread_condattr_destroy(&ca);
	cv = 1;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "jitcad");
	host[sizeof(host) - 1] = '\0';
	ENSURE(RAND_bytes(rnd, sizeof(rnd)) == 1, ERR_CRYPTO);
	snprintf(n->owner, sizeof(n->owner), "%s:%ld:%02x%02x%02x%02x", host,
	    (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3]);
	if (cfg->public_url != NULL)
		ENSURE((n->public_url = strdup(cfg->public_url)) != NULL,
		    ERR_ALLOC);
	if (cfg->nnotify > 0)
		ENSURE((n->sinks = calloc(cfg->nnotify, sizeof(*n->sinks))) !=
			NULL,
		    ERR_ALLOC);
	for (i = 0; i < cfg->nnotify; i++) {
		struct sink *s = &n->sinks[i];

		n->nsinks = i + 1;
		s->n = n;
		TRY(sink_copy(s, &cfg->notify[i]));
		if ((r = config_notify_secret(
			 cfg, i, &s->secret, &s->slen, cerr)) != 0) {
			if (errbuf != NULL)
				snprintf(errbuf, NOTIFY_ERR_LEN, "%s", cerr);
			goto out;
		}
		ENSURE((s->curl = curl_easy_init()) != NULL, ERR_ALLOC);
		/* A new sink's cursor is made now, at the head: every event
		 * committed after notify_start() returns is its to send,
		 * however late its thread first runs. */
		if ((r = n->src.cursor_get(n->src.arg, s->c.name, &cur)) != 0) {
			if (errbuf != NULL)
				snprintf(errbuf, NOTIFY_ERR_LEN,
				    "notify[%zu]: reading its cursor: %s", i,
				    err_str(r));
			goto out;
		}
	}
	for (i = 0; i < n->nsinks; i++) {
		if (pthread_create(&n->sinks[i].thread, NULL, sink_main,
			&n->sinks[i]) != 0) {
			r = ERR_SYSTEM;
			goto out;
		}
		n->sinks[i].started = 1;
	}
	*out = n;
	n = NULL;
	r = 0;
out:
	if (n != NULL && (mu || cv)) {
		if (cv && mu) {
			notify_stop(n);
			n = NULL;
		} else
			pthread_mutex_destroy(&n->mu);
	}
	free(n);
	return r;
}

void
notify_stop(struct notify *n)
{
	size_t i;

	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	atomic_store(&n->stop, 1);
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	for (i = 0; i < n->nsinks; i++)
		if (n->sinks[i].started)
			pthread_join(n->sinks[i].thread, NULL);
	for (i = 0; i < n->nsinks; i++)
		sink_clear(&n->sinks[i]);
	free(n->sinks);
	free(n->public_url);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	free(n);
}

void
notify_kick(struct notify *n)
{
	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	n->kicks++;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

size_t
notify_sink_count(const struct notify *n)
{
	return n != NULL ? n->nsinks : 0;
}

void
notify_stats_get(struct notify *n, size_t i, struct notify_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (n == NULL || i >= n->nsinks)
		return;
	pthread_mutex_lock(&n->mu);
	*out = n->sinks[i].st;
	if (out->failing_since != 0 &&
	    (uint64_t)time(NULL) - out->failing_since >=
		n->sinks[i].c.alert_after)
		out->alerting = 1;
	pthread_mutex_unlock(&n->mu);
}
