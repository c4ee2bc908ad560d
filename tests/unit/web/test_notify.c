/*
 * test_notify.c: web/notify.c against real HTTP receivers (tests/lib/
 * hookrx.h, threads with listening sockets on loopback) and a real
 * ledger in a temporary directory (ca/outbox.h as the source): the
 * signature (checked here with OpenSSL on its own, and against a fixed
 * vector), the json and slack bodies, which events a sink wants, delivery
 * within 2 s in order, retries with growing waits on 500, a hanging
 * receiver timed out and stopped at once, the cursor kept across a
 * restart of the notifier, the lease, and an unreadable secret file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "ca/config.h"
#include "ca/ledger.h"
#include "ca/outbox.h"
#include "tests/lib/hookrx.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"
#include "web/notify.h"

#define SECRET "s3cr3t-for-tests"

static char *dir;
static struct ledger *led;
static struct hookrx *rx;

static void
setup(void)
{
	char *p;

	dir = tu_tmpdir();
	p = tu_fmt("%s/ledger.db", dir);
	cr_assert_eq(ledger_open(&led, p, 1), 0);
	free(p);
	p = tu_fmt("%s/hook.secret", dir);
	tu_write_file(p, SECRET "\n", strlen(SECRET) + 1, 0600);
	free(p);
	rx = hookrx_start();
}

static void
teardown(void)
{
	hookrx_stop(rx);
	rx = NULL;
	ledger_close(led);
	led = NULL;
	tu_rmtree(dir);
	free(dir);
}

TestSuite(notify, .init = setup, .fini = teardown, .timeout = 120);

/* A config with one sink to rx; extra is more keys of the sink. */
static struct config *
config_with(const char *extra, const char *top)
{
	char err[CONFIG_ERR_LEN] = "", *url = hookrx_url(rx), *j;
	struct config *c = NULL;

	j = tu_fmt("{\"roles\": {\"staging\": {\"principals\": [\"{{user}}\"],"
		   " \"max_ttl\": \"8h\", \"requesters\": [\"eng\"],"
		   " \"approvals_required\": 0},"
		   " \"prod\": {\"principals\": [\"{{user}}\"],"
		   " \"max_ttl\": \"8h\", \"requesters\": [\"eng\"],"
		   " \"approvers\": [\"leads\"], \"approvals_required\": 1}},"
		   " %s \"notify\": [{\"url\": \"%s\", \"secret_file\":"
		   " \"hook.secret\", \"max_backoff\": \"2s\", \"timeout\":"
		   " \"1s\"%s%s}]}",
	    top != NULL ? top : "", url, extra != NULL ? ", " : "",
	    extra != NULL ? extra : "");
	cr_assert_eq(
	    config_parse(&c, dir, j, strlen(j), err), 0, "%s: %s", err, j);
	free(j);
	free(url);
	return c;
}

/* Append one event (details JSON text) in its own transaction. */
static void
append(const char *type, const char *subject, const char *details)
{
	json_error_t e;
	json_t *d = json_loads(details, 0, &e);

	cr_assert_not_null(d, "%s", details);
	cr_assert_eq(ledger_begin(led), 0);
	cr_assert_eq(ledger_append(led, NULL, type, "alice", subject, d), 0);
	cr_assert_eq(ledger_commit(led), 0);
	json_decref(d);
}

static void
append_created(int id, const char *role)
{
	char *subj = tu_fmt("request:%d", id);
	char *d = tu_fmt("{\"requester\": \"alice\", \"role\": \"%s\","
			 " \"principals\": [\"alice\"], \"ttl\": 600,"
			 " \"reason\": \"INC-%d\"}",
	    role, id);

	append("request.created", subj, d);
	free(subj);
	free(d);
}

static struct notify *
start(const struct config *c)
{
	struct notify_source src;
	struct notify *n = NULL;
	char err[NOTIFY_ERR_LEN] = "";

	notify_source_ledger(&src, led);
	cr_assert_eq(notify_start(&n, c, &src, err), 0, "%s", err);
	return n;
}

static json_t *
body_json(const struct hookrx_record *r)
{
	json_error_t e;
	json_t *j = json_loads(r->body, 0, &e);

	cr_assert_not_null(j, "%s", r->body);
	return j;
}

Test(notify, signature_matches_a_fixed_vector)
{
	char hex[NOTIFY_SIG_HEX];

	/* printf '%s' '1700000000.{"a":1}' |
	 *     openssl dgst -sha256 -hmac 'key' */
	cr_assert_eq(
	    notify_signature(hex, "key", 3, "1700000000", "{\"a\":1}", 7), 0);
	cr_assert_str_eq(hex,
	    "a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03");
	/* A different timestamp, body or key: a different MAC. */
	cr_assert_eq(
	    notify_signature(hex, "key", 3, "1700000001", "{\"a\":1}", 7), 0);
	cr_assert_str_neq(hex,
	    "a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03");
}

/* An event as outbox_read() gives it, for the payload tests. */
static struct outbox_event
event_of(unsigned kind, const char *type, const char *details)
{
	static char *pr[] = {"alice", "debug"};
	struct outbox_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.seq = 42;
	ev.time = 1700000000;
	ev.type = (char *)(uintptr_t)type;
	ev.actor = "bob";
	ev.subject = "request:7";
	ev.details = (char *)(uintptr_t)details;
	ev.prev_hash = "00";
	ev.hash = "ab";
	ev.kind = kind;
	ev.request_id = 7;
	ev.role = "prod-debug";
	ev.requester = "alice";
	ev.reason = "INC-4312 <!channel> & stuck";
	ev.principals = pr;
	ev.nprincipals = 2;
	ev.ttl = 1800;
	return ev;
}

Test(notify, json_payload_is_the_event_plus_request_and_link)
{
	struct config_notify sink = {0};
	struct outbox_event ev = event_of(CONFIG_NOTIFY_REQUEST_WITHDRAWN,
	    "request.denied", "{\"comment\":\"\",\"withdrawn\":true}");
	char *body = NULL;
	size_t len = 0;

	sink.format = CONFIG_NOTIFY_JSON;
	cr_assert_eq(notify_payload(
			 &body, &len, &sink, "https://jitca.example.com", &ev),
	    0);
	cr_assert_eq(len, strlen(body));
	cr_assert_str_eq(body,
	    "{\"event\":{\"actor\":\"bob\",\"details\":{\"comment\":\"\","
	    "\"withdrawn\":true},\"hash\":\"ab\",\"prev_hash\":\"00\","
	    "\"seq\":42,\"subject\":\"request:7\",\"time\":1700000000,"
	    "\"type\":\"request.denied\"},\"link\":"
	    "\"https://jitca.example.com/ui/requests/7\",\"notification\":"
	    "\"request.withdrawn\",\"request\":{\"id\":7,\"principals\":"
	    "[\"alice\",\"debug\"],\"reason\":\"INC-4312 <!channel> & stuck\","
	    "\"requester\":\"alice\",\"role\":\"prod-debug\",\"ttl\":"
	    "1800}}");
	free(body);
	/* Without public_url there is no link. */
	cr_assert_eq(notify_payload(&body, &len, &sink, NULL, &ev), 0);
	cr_assert_null(strstr(body, "\"link\""));
	free(body);
}

Test(notify, slack_payload_names_the_request_and_escapes_text)
{
	struct config_notify sink = {0};
	struct outbox_event ev =
	    event_of(CONFIG_NOTIFY_REQUEST_CREATED, "request.created", "{}");
	json_t *j;
	json_error_t e;
	const char *text, *head;
	char *body = NULL;
	size_t len = 0;

	sink.format = CONFIG_NOTIFY_SLACK;
	cr_assert_eq(notify_payload(
			 &body, &len, &sink, "https://jitca.example.com", &ev),
	    0);
	cr_assert_not_null(j = json_loads(body, 0, &e), "%s", body);
	head = json_string_value(json_object_get(j, "text"));
	cr_assert_str_eq(head, "Request #7 (prod-debug): asks for access");
	text = json_string_value(json_object_get(
	    json_object_get(
		json_array_get(json_object_get(j, "blocks"), 0), "text"),
	    "text"));
	cr_assert_str_eq(text,
	    "*Request #7 (prod-debug): asks for access*\n*Role:* prod-debug\n"
	    "*Requester:* alice\n*Principals:* alice, debug\n*TTL:* 30m\n"
	    "*Reason:* INC-4312 &lt;!channel&gt; &amp; stuck\n"
	    "<https://jitca.example.com/ui/requests/7|Open the request>");
	/* Never a button or any interactive element. */
	cr_assert_null(strstr(body, "\"button\""));
	cr_assert_null(strstr(body, "\"actions\""));
	json_decref(j);
	free(body);

	ev = event_of(CONFIG_NOTIFY_REQUEST_APPROVED, "request.approved",
	    "{\"comment\":\"ok <b>\"}");
	cr_assert_eq(notify_payload(&body, &len, &sink, NULL, &ev), 0);
	cr_assert_not_null(j = json_loads(body, 0, &e));
	cr_assert_str_eq(json_string_value(json_object_get(j, "text")),
	    "Request #7 (prod-debug): approved by bob");
	cr_assert_not_null(strstr(body, "*Comment:* ok &lt;b&gt;"));
	cr_assert_null(strstr(body, "Open the request"));
	json_decref(j);
	free(body);
}

Test(notify, a_sink_wants_its_kinds_and_roles)
{
	struct config *c =
	    config_with("\"events\": [\"request.created\", \"break-glass\"],"
			" \"roles\": [\"prod\"]",
		NULL);
	struct outbox_event ev =
	    event_of(CONFIG_NOTIFY_REQUEST_CREATED, "request.created", "{}");
	const struct config_notify *s = &c->notify[0];

	ev.role = "prod";
	cr_assert_eq(notify_wants(s, &ev), 1);
	ev.role = "staging";
	cr_assert_eq(notify_wants(s, &ev), 0);
	ev.role = NULL;
	cr_assert_eq(notify_wants(s, &ev), 0);
	ev.role = "prod";
	ev.kind = CONFIG_NOTIFY_REQUEST_APPROVED;
	cr_assert_eq(notify_wants(s, &ev), 0);
	ev.break_glass = 1;
	cr_assert_eq(notify_wants(s, &ev), 1);
	ev.kind = 0;
	ev.break_glass = 0;
	cr_assert_eq(notify_wants(s, &ev), 0);
	config_free(c);
}

Test(notify, events_arrive_signed_in_order_within_2s)
{
	struct config *c = config_with(NULL, NULL);
	struct notify *n;
	struct hookrx_record *r = NULL;
	struct notify_stats st;
	long long t0;
	size_t k, i;
	json_t *j;

	append("ca.started", "jitcad", "{}"); /* before the sink: not sent */
	n = start(c);
	/* The new sink's cursor is at the head: wait until it has one. */
	for (i = 0; i < 100; i++) {
		notify_stats_get(n, 0, &st);
		if (st.cursor >= 0)
			break;
		tu_sleep_ms(20);
	}
	cr_assert_eq(st.cursor, 1);
	t0 = tu_now_ms();
	append_created(1, "staging");
	append_created(2, "prod");
	append("token.issued", "alice", "{}"); /* not a notification */
	append_created(3, "staging");
	cr_assert_eq(
	    hookrx_wait_ok(rx, 3, 2000), 3, "three notifications within 2 s");
	k = hookrx_records(rx, &r);
	cr_assert_eq(k, 3);
	for (i = 0; i < k; i++) {
		cr_assert_eq(r[i].seq, i < 2 ? (long long)i + 2 : 5);
		cr_assert(hookrx_sig_ok(SECRET, &r[i]), "signature of %zu", i);
		cr_assert_str_eq(r[i].content_type, "application/json");
		cr_assert_lt(r[i].at_ms - t0, 2000);
		j = body_json(&r[i]);
		cr_assert_eq(json_integer_value(json_object_get(
				 json_object_get(j, "event"), "seq")),
		    r[i].seq);
		json_decref(j);
	}
	cr_log_info(
	    "first notification %lld ms after its commit", r[0].at_ms - t0);
	/* A wrong secret does not verify. */
	cr_assert_not(hookrx_sig_ok(SECRET "x", &r[0]));
	hookrx_records_free(r, k);
	for (i = 0; i < 100; i++) {
		notify_stats_get(n, 0, &st);
		if (st.cursor == 5)
			break;
		tu_sleep_ms(20);
	}
	cr_assert_eq(st.delivered, 3);
	cr_assert_eq(st.failed, 0);
	cr_assert_eq(st.cursor, 5);
	cr_assert_eq(st.head, 5);
	cr_assert_eq(st.leased, 1);
	cr_assert_str_eq(st.name, c->notify[0].name);
	notify_stop(n);
	config_free(c);
}

Test(notify, a_500_is_retried_with_growing_waits)
{
	struct config *c = config_with(NULL, NULL);
	struct notify *n;
	struct hookrx_record *r = NULL;
	struct notify_stats st;
	size_t k, i;

	hookrx_mode(rx, HOOKRX_FAIL);
	n = start(c);
	tu_sleep_ms(300);
	append_created(1, "staging");
	/* 0.5 s, 1 s, 2 s (max_backoff) with jitter into their upper
	 * half: attempts at about 0, >=0.25, >=0.75, >=1.75 s. */
	for (i = 0; i < 400; i++) {
		k = hookrx_records(rx, &r);
		hookrx_records_free(r, k);
		if (k >= 4)
			break;
		tu_sleep_ms(20);
	}
	cr_assert_geq(k, 4, "four attempts");
	notify_stats_get(n, 0, &st);
	cr_assert_geq(st.failed, 4);
	cr_assert_eq(st.delivered, 0);
	cr_assert_neq(st.failing_since, 0);
	cr_assert_str_eq(st.last_error,
	    tu_keep(tu_fmt(
		"event 1 to 127.0.0.1:%d: HTTP status 500", hookrx_port(rx))));
	hookrx_mode(rx, HOOKRX_OK);
	cr_assert_geq(hookrx_wait_ok(rx, 1, 5000), 1);
	k = hookrx_records(rx, &r);
	for (i = 0; i < k; i++)
		cr_assert_eq(r[i].seq, 1, "the same event every time");
	/* The waits grow: the gap before the fourth attempt is longer
	 * than the one before the second (0.75..1 s vs 0.25..0.5 s). */
	cr_assert_gt(r[3].at_ms - r[2].at_ms, r[1].at_ms - r[0].at_ms);
	cr_assert_geq(r[1].at_ms - r[0].at_ms, 200);
	cr_assert_geq(r[3].at_ms - r[2].at_ms, 700);
	cr_log_info("retry gaps: %lld %lld %lld ms", r[1].at_ms - r[0].at_ms,
	    r[2].at_ms - r[1].at_ms, r[3].at_ms - r[2].at_ms);
	hookrx_records_free(r, k);
	for (i = 0; i < 100; i++) {
		notify_stats_get(n, 0, &st);
		if (st.delivered == 1)
			break;
		tu_sleep_ms(20);
	}
	cr_assert_eq(st.delivered, 1);
	cr_assert_eq(st.failing_since, 0);
	notify_stop(n);
	config_free(c);
}

Test(notify, a_hanging_receiver_times_out_and_stop_is_prompt)
{
	struct config *c = config_with(NULL, NULL);
	struct notify *n;
	struct notify_stats st;
	long long t0;
	size_t i;

	hookrx_mode(rx, HOOKRX_HANG);
	n = start(c);
	tu_sleep_ms(300);
	append_created(1, "staging");
	/* timeout 1s: the first attempt fails by itself. */
	for (i = 0; i < 200; i++) {
		notify_stats_get(n, 0, &st);
		if (st.failed >= 1)
			break;
		tu_sleep_ms(20);
	}
	cr_assert_geq(st.failed, 1);
	cr_assert_not_null(
	    strstr(st.last_error, "imed out"), "%s", st.last_error);
	/* Appending never waits for the receiver. */
	t0 = tu_now_ms();
	append_created(2, "staging");
	cr_assert_lt(tu_now_ms() - t0, 1000);
	t0 = tu_now_ms();
	notify_stop(n);
	cr_assert_lt(tu_now_ms() - t0, 1500, "stop aborts the transfer");
	config_free(c);
}

/*
 * The cursor of sink name once it reaches want (at most 5 s).  The
 * receiver records an event before its sender has read the answer, and
 * the cursor moves only then (stopping before that aborts the transfer,
 * and the event is sent again later: at least once).
 */
static int64_t
cursor_reaching(const char *name, int64_t want)
{
	int64_t cur = -1;
	int i;

	for (i = 0; i < 500; i++) {
		cr_assert_eq(outbox_cursor_get(led, name, &cur, NULL), 0);
		if (cur == want)
			break;
		tu_sleep_ms(10);
	}
	return cur;
}

Test(notify, the_cursor_survives_a_restart)
{
	struct config *c = config_with(NULL, NULL);
	struct notify *n;
	struct hookrx_record *r = NULL;
	int64_t cur = -1;
	size_t k;

	n = start(c);
	tu_sleep_ms(300);
	append_created(1, "staging");
	append_created(2, "staging");
	cr_assert_eq(hookrx_wait_ok(rx, 2, 5000), 2);
	cr_assert_eq(cursor_reaching(c->notify[0].name, 2), 2);
	notify_stop(n);
	cr_assert_eq(outbox_cursor_get(led, c->notify[0].name, &cur, NULL), 0);
	cr_assert_eq(cur, 2);
	/* While stopped: two more; the next start sends just those. */
	append_created(3, "staging");
	append_created(4, "staging");
	n = start(c);
	cr_assert_eq(hookrx_wait_ok(rx, 4, 5000), 4);
	tu_sleep_ms(300);
	k = hookrx_records(rx, &r);
	cr_assert_eq(k, 4, "nothing sent twice");
	cr_assert_eq(r[2].seq, 3);
	cr_assert_eq(r[3].seq, 4);
	hookrx_records_free(r, k);
	notify_stop(n);
	config_free(c);
}

Test(notify, a_lease_held_elsewhere_stops_delivery)
{
	struct config *c = config_with(NULL, NULL);
	const char *name = c->notify[0].name;
	struct notify *n;
	struct notify_stats st;
	uint64_t now = (uint64_t)time(NULL);
	int64_t cur = -1;

	cr_assert_eq(outbox_cursor_get(led, name, &cur, NULL), 0);
	cr_assert_eq(outbox_lease_take(led, name, "other:1", now, 30), 0);
	cr_assert_eq(
	    outbox_lease_take(led, name, "other:2", now, 30), ERR_NOTIFY_LEASE);
	cr_assert_eq(outbox_lease_take(led, name, "other:1", now, 30), 0);
	cr_assert_eq(
	    outbox_cursor_set(led, name, "other:2", 5, now), ERR_NOTIFY_LEASE);
	n = start(c);
	append_created(1, "staging");
	tu_sleep_ms(1500);
	cr_assert_eq(hookrx_wait_ok(rx, 1, 0), 0, "the other owner delivers");
	notify_stats_get(n, 0, &st);
	cr_assert_eq(st.leased, 0);
	/* Given back: this one takes over within a second or so. */
	cr_assert_eq(outbox_lease_release(led, name, "other:1"), 0);
	cr_assert_eq(hookrx_wait_ok(rx, 1, 5000), 1);
	cr_assert_eq(cursor_reaching(name, 1), 1);
	notify_stop(n);
	/* Stopping gave the lease back: "other:2" gets it at once. */
	cr_assert_eq(
	    outbox_lease_take(led, name, "other:2", (uint64_t)time(NULL), 30),
	    0);
	/* A cursor never moves back. */
	cr_assert_eq(
	    outbox_cursor_set(led, name, "other:2", 0, (uint64_t)time(NULL)),
	    0);
	cr_assert_eq(outbox_cursor_get(led, name, &cur, NULL), 0);
	cr_assert_eq(cur, 1);
	config_free(c);
}

Test(notify, an_unreadable_secret_stops_the_start)
{
	struct config *c = config_with(NULL, NULL);
	struct notify_source src;
	struct notify *n = NULL;
	char err[NOTIFY_ERR_LEN] = "", *p = tu_fmt("%s/hook.secret", dir);

	cr_assert_eq(unlink(p), 0);
	notify_source_ledger(&src, led);
	cr_assert_eq(notify_start(&n, c, &src, err), ERR_SYSTEM);
	cr_assert_null(n);
	cr_assert_str_eq(err,
	    tu_keep(tu_fmt("notify[0].secret_file: %s: No such file or "
			   "directory",
		p)));
	tu_write_file(p, "\n", 1, 0600);
	cr_assert_eq(notify_start(&n, c, &src, err), ERR_CONFIG);
	cr_assert_str_eq(
	    err, tu_keep(tu_fmt("notify[0].secret_file: %s: is empty", p)));
	free(p);
	config_free(c);
}
