/*
 * test_notify.c: notifications from a real `jitcad serve` to real HTTP
 * receivers (tests/lib/hookrx.h: a thread in this process listening on a
 * free loopback port), with requests made through the real HTTP API:
 * events arrive within 2 s, signed (the signature checked here with
 * OpenSSL and with the openssl(1) one-liner of docs/notifications.md); a
 * receiver down for 10 s gets everything afterwards, in order, none
 * missing, duplicates only of the same event; jitcad restarted while the
 * receiver is down delivers after the restart; a receiver that hangs does
 * not slow issuance (measured against no sink at all); a receiver
 * answering 500 shows in /v1/health and /metrics until it recovers; and
 * `jitcad config check` refuses an unreadable secret file and a bad URL
 * with the field path.
 *
 * The figures it measures are logged (cr_log_info: run the binary with
 * --verbose to see them); the only timed assertions are generous bounds.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>

#include "tests/lib/hookrx.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

#define SECRET "whsec-integration-0123456789"

static char *dir, *state, *url, *tok_alice, *tok_bob, *tok_sec, *pubkey;
static pid_t serve_pid = -1;
static struct hookrx *rx;
static int serve_n;

static void
setup(void)
{
	dir = tu_tmpdir();
	state = tu_fmt("%s/state", dir);
	rx = hookrx_start();
}

static void
teardown(void)
{
	tu_stop(&serve_pid);
	hookrx_stop(rx);
	rx = NULL;
	tu_rmtree(dir);
	free(dir);
	free(state);
	free(url);
	free(tok_alice);
	free(tok_bob);
	free(tok_sec);
	free(pubkey);
	url = tok_alice = tok_bob = tok_sec = pubkey = NULL;
}

TestSuite(notify, .init = setup, .fini = teardown, .timeout = 180);

static char *
user_add(const char *name, const char *group)
{
	char *out = NULL, *err = NULL, *args;

	args = tu_fmt("user add %s --group %s", name, group);
	cr_assert_eq(tu_jitcad(state, args, &out, &err), 0, "%s", err);
	out[strcspn(out, "\n")] = '\0';
	free(err);
	free(args);
	return out;
}

/* jitcad init, three users, the notify config (sink is the JSON text of
 * the one sink, NULL for none), a key pair for requests. */
static void
init_state(const char *sink)
{
	char *err = NULL, *p, *cmd, *text;
	json_t *cfg;
	json_error_t e;

	cr_assert_eq(tu_jitcad(state, "init", NULL, &err), 0, "%s", err);
	free(err);
	tok_alice = user_add("alice", "engineering");
	tok_bob = user_add("bob", "sre-leads");
	tok_sec = user_add("sec", "security");
	p = tu_fmt("%s/hook.secret", state);
	tu_write_file(p, SECRET "\n", strlen(SECRET) + 1, 0600);
	free(p);
	p = tu_fmt("%s/jitca.json", state);
	cr_assert_not_null(cfg = json_load_file(p, 0, &e), "%s", e.text);
	json_object_set_new(
	    cfg, "public_url", json_string("https://jitca.example.com"));
	if (sink != NULL) {
		json_t *s = json_loads(sink, 0, &e);

		cr_assert_not_null(s, "%s: %s", sink, e.text);
		json_object_set_new(cfg, "notify", json_pack("[o]", s));
	}
	cr_assert_eq(json_dump_file(cfg, p, JSON_INDENT(2)), 0);
	json_decref(cfg);
	free(p);
	p = tu_fmt("%s/id", dir);
	cmd = tu_fmt("rm -f '%s' '%s.pub'; ssh-keygen -q -t ed25519 -N '' "
		     "-f '%s'",
	    p, p, p);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
	cmd = tu_fmt("%s.pub", p);
	text = tu_read_file(cmd, NULL);
	cr_assert_not_null(text);
	text[strcspn(text, "\n")] = '\0';
	pubkey = text;
	free(cmd);
	free(p);
}

/* A sink to rx with these extra keys (JSON members, may be ""). */
static char *
sink_json(const char *extra)
{
	char *u = hookrx_url(rx), *s;

	s = tu_fmt("{\"name\": \"hooks\", \"url\": \"%s\", \"secret_file\": "
		   "\"hook.secret\", \"max_backoff\": \"2s\", \"timeout\": "
		   "\"2s\"%s%s}",
	    u, extra[0] != '\0' ? ", " : "", extra);
	free(u);
	return s;
}

static void
serve_start(void)
{
	char *log = tu_fmt("%s/serve%d.log", dir, serve_n++);

	free(url);
	url = tu_serve_start(state, log, NULL, NULL, &serve_pid);
	free(log);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	char **b = arg;
	size_t old = *b != NULL ? strlen(*b) : 0, k = size * n;

	*b = realloc(*b, old + k + 1);
	memcpy(*b + old, p, k);
	(*b)[old + k] = '\0';
	return k;
}

/* METHOD url+path with tok and body (may be NULL); *status; the reply
 * body (new, "" when none). */
static char *
api(const char *method, const char *path, const char *tok, const char *body,
    long *status)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *auth = tu_fmt("Authorization: Bearer %s", tok != NULL ? tok : "");
	char *full = tu_fmt("%s%s", url, path), *out = NULL;
	CURLcode cc;

	cr_assert_not_null(c);
	if (tok != NULL)
		h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	cc = curl_easy_perform(c);
	cr_assert_eq(
	    cc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(cc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(auth);
	free(full);
	return out != NULL ? out : strdup("");
}

/* POST /v1/requests for role as alice; the new request's id. */
static long long
request(const char *role, const char *reason, long long *ms)
{
	char *body = tu_fmt("{\"role\": \"%s\", \"ttl\": \"10m\", \"reason\": "
			    "\"%s\", \"public_key\": \"%s\"}",
	    role, reason, pubkey);
	long status = 0;
	long long t0 = tu_now_ms(), id;
	char *r = api("POST", "/v1/requests", tok_alice, body, &status);
	json_t *j;
	json_error_t e;

	if (ms != NULL)
		*ms = tu_now_ms() - t0;
	cr_assert(status == 201 || status == 200, "%ld: %s", status, r);
	cr_assert_not_null(j = json_loads(r, 0, &e), "%s", r);
	id = json_integer_value(json_object_get(j, "id"));
	cr_assert_gt(id, 0);
	json_decref(j);
	free(r);
	free(body);
	return id;
}

/* The seqs of the ledger's notification events (request.*, cert.*)
 * after since, in order, from `jitcad ledger export`; their count. */
static size_t
ledger_notifiable(long long since, long long *seqs, size_t max)
{
	char *out = NULL, *err = NULL, *line, *save = NULL;
	size_t n = 0;
	json_t *j;
	json_error_t e;

	cr_assert_eq(
	    tu_jitcad(state, "ledger export --format jsonl", &out, &err), 0,
	    "%s", err);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *type;
		long long seq;

		cr_assert_not_null(j = json_loads(line, 0, &e));
		type = json_string_value(json_object_get(j, "type"));
		seq = json_integer_value(json_object_get(j, "seq"));
		if (seq > since &&
		    (strncmp(type, "request.", 8) == 0 ||
			strncmp(type, "cert.", 5) == 0)) {
			cr_assert_lt(n, max);
			seqs[n++] = seq;
		}
		json_decref(j);
	}
	free(out);
	free(err);
	return n;
}

/*
 * What rx took, checked against the ledger: the distinct seqs in the
 * order they first arrived are exactly want[0..nwant), every record's
 * signature verifies, and a repeated seq repeats the same body.  The
 * number of duplicates is returned.
 */
static size_t
check_in_order(const long long *want, size_t nwant)
{
	struct hookrx_record *r = NULL;
	size_t k = hookrx_records(rx, &r), i, j, distinct = 0, dups = 0;

	for (i = 0; i < k; i++) {
		cr_assert(hookrx_sig_ok(SECRET, &r[i]), "signature of %zu", i);
		for (j = 0; j < i; j++)
			if (r[j].seq == r[i].seq)
				break;
		if (j < i) {
			cr_assert_str_eq(r[j].body, r[i].body,
			    "seq %lld sent twice with two bodies", r[i].seq);
			dups++;
			continue;
		}
		cr_assert_lt(
		    distinct, nwant, "seq %lld was not expected", r[i].seq);
		cr_assert_eq(r[i].seq, want[distinct],
		    "arrival %zu: seq %lld, expected %lld", i, r[i].seq,
		    want[distinct]);
		distinct++;
	}
	cr_assert_eq(
	    distinct, nwant, "%zu of %zu events arrived", distinct, nwant);
	hookrx_records_free(r, k);
	return dups;
}

/* The docs' openssl(1) one-liner over the record's body. */
static void
check_with_openssl(const struct hookrx_record *r)
{
	char *bf = tu_fmt("%s/body.json", dir), *cmd, *out = NULL;

	tu_write_file(bf, r->body, r->body_len, 0600);
	cmd = tu_fmt("printf '%%s.' '%s' | cat - '%s' | openssl dgst -sha256 "
		     "-hmac \"$(cat '%s/hook.secret')\" | sed 's/^.* //'",
	    r->timestamp, bf, state);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0, "%s", cmd);
	out[strcspn(out, "\n")] = '\0';
	cr_assert_str_eq(r->signature + 7, out);
	cr_assert_eq(strncmp(r->signature, "sha256=", 7), 0);
	free(out);
	free(cmd);
	free(bf);
}

Test(notify, events_arrive_signed_within_2s)
{
	char *s = sink_json(""), *rep;
	struct hookrx_record *r = NULL;
	long long id, t0, want[8];
	size_t k, nwant, i;
	long status = 0;
	json_t *j;
	json_error_t e;

	init_state(s);
	free(s);
	serve_start();
	t0 = tu_now_ms();
	id = request("prod-debug", "INC-4312 stuck queue", NULL);
	cr_assert_eq(
	    hookrx_wait_ok(rx, 1, 2000), 1, "request.created within 2 s");
	k = hookrx_records(rx, &r);
	cr_log_info(
	    "request.created arrived %lld ms after the POST", r[0].at_ms - t0);
	check_with_openssl(&r[0]);
	cr_assert_not_null(j = json_loads(r[0].body, 0, &e));
	cr_assert_str_eq(json_string_value(json_object_get(j, "notification")),
	    "request.created");
	cr_assert_str_eq(json_string_value(json_object_get(j, "link")),
	    tu_keep(tu_fmt("https://jitca.example.com/ui/requests/%lld", id)));
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(j, "request"), "reason")),
	    "INC-4312 stuck queue");
	json_decref(j);
	hookrx_records_free(r, k);

	/* Approved: request.approved and cert.issued; never the
	 * certificate itself. */
	rep = api("POST", tu_keep(tu_fmt("/v1/requests/%lld/approve", id)),
	    tok_bob, "{}", &status);
	cr_assert_eq(status, 200, "%s", rep);
	free(rep);
	cr_assert_eq(hookrx_wait_ok(rx, 3, 2000), 3);
	/* And one withdrawn: denied by its own requester. */
	id = request("prod-debug", "INC-4313", NULL);
	rep = api("POST", tu_keep(tu_fmt("/v1/requests/%lld/deny", id)),
	    tok_alice, "{}", &status);
	cr_assert_eq(status, 200, "%s", rep);
	free(rep);
	cr_assert_eq(hookrx_wait_ok(rx, 5, 2000), 5);
	k = hookrx_records(rx, &r);
	for (i = 0; i < k; i++) {
		cr_assert_null(strstr(r[i].body, "-cert-v01@openssh.com"), "%s",
		    r[i].body);
		cr_assert_null(strstr(r[i].body, tok_alice));
		cr_assert_null(strstr(r[i].body, tok_bob));
	}
	cr_assert_not_null(
	    strstr(r[4].body, "\"notification\":\"request.withdrawn\""));
	hookrx_records_free(r, k);
	nwant = ledger_notifiable(0, want, 8);
	cr_assert_eq(nwant, 5);
	cr_assert_eq(check_in_order(want, nwant), 0);
}

Test(notify, receiver_down_10s_then_back_gets_everything_in_order)
{
	char *s = sink_json("");
	long long want[64], t0, t_up;
	size_t nwant, dups, i;

	init_state(s);
	free(s);
	serve_start();
	hookrx_down(rx);
	t0 = tu_now_ms();
	/* staging needs no approval: created + issued, two events each. */
	for (i = 0; i < 5; i++) {
		(void)request("staging", "deploy", NULL);
		tu_sleep_ms(1500);
	}
	while (tu_now_ms() - t0 < 10000)
		tu_sleep_ms(100);
	cr_assert_eq(hookrx_wait_ok(rx, 1, 0), 0);
	hookrx_up(rx);
	t_up = tu_now_ms();
	/* max_backoff 2s: the next attempt within about 2 s. */
	cr_assert_eq(hookrx_wait_ok(rx, 10, 15000), 10);
	cr_log_info("down 10 s: all 10 delivered %lld ms after it came back",
	    tu_now_ms() - t_up);
	nwant = ledger_notifiable(0, want, 64);
	cr_assert_eq(nwant, 10);
	dups = check_in_order(want, nwant);
	cr_log_info("duplicates: %zu", dups);
}

Test(notify, restart_while_down_delivers_after_the_restart)
{
	char *s = sink_json("");
	long long want[64];
	size_t nwant;

	init_state(s);
	free(s);
	serve_start();
	(void)request("staging", "before", NULL);
	cr_assert_eq(hookrx_wait_ok(rx, 2, 5000), 2);
	hookrx_down(rx);
	(void)request("staging", "while down 1", NULL);
	(void)request("staging", "while down 2", NULL);
	tu_sleep_ms(1000);
	tu_stop(&serve_pid);
	serve_start();
	(void)request("staging", "after restart", NULL);
	tu_sleep_ms(1000);
	cr_assert_eq(hookrx_wait_ok(rx, 3, 0), 2, "nothing while down");
	hookrx_up(rx);
	cr_assert_eq(hookrx_wait_ok(rx, 8, 15000), 8);
	nwant = ledger_notifiable(0, want, 64);
	cr_assert_eq(nwant, 8);
	(void)check_in_order(want, nwant);
}

/* Median of n values (sorted in place). */
static long long
median(long long *v, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			long long t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

Test(notify, a_hanging_receiver_does_not_slow_issuance)
{
	char *s, *cfgp, *text, *cmd;
	long long none[20], hang[20], mn, mh, maxh = 0;
	size_t i;

	init_state(NULL);
	serve_start();
	(void)request("staging", "warm-up", NULL);
	for (i = 0; i < 20; i++)
		(void)request("staging", "no sink", &none[i]);
	tu_stop(&serve_pid);
	/* The same state with a sink whose receiver never answers. */
	s = sink_json("");
	cfgp = tu_fmt("%s/jitca.json", state);
	text = tu_read_file(cfgp, NULL);
	cr_assert_not_null(text);
	cmd = tu_fmt("{\"notify\": [%s], %s", s, strchr(text, '{') + 1);
	tu_write_file(cfgp, cmd, strlen(cmd), 0600);
	hookrx_mode(rx, HOOKRX_HANG);
	serve_start();
	(void)request("staging", "warm-up", NULL);
	for (i = 0; i < 20; i++) {
		(void)request("staging", "hanging sink", &hang[i]);
		if (hang[i] > maxh)
			maxh = hang[i];
		cr_assert_lt(hang[i], 1000, "issuance took %lld ms", hang[i]);
	}
	/* The receiver did hang on us meanwhile. */
	{
		struct hookrx_record *r = NULL;
		size_t k = 0;

		for (i = 0; i < 250 && k == 0; i++) {
			hookrx_records_free(r, k);
			k = hookrx_records(rx, &r);
			tu_sleep_ms(20);
		}
		cr_assert_geq(k, 1, "the sink was tried");
		cr_assert_eq(r[0].answered, 0);
		hookrx_records_free(r, k);
	}
	mn = median(none, 20);
	mh = median(hang, 20);
	cr_log_info("issuance (POST /v1/requests, staging, direct): median "
		    "%lld ms without a sink, %lld ms with a hanging one (max "
		    "%lld ms)",
	    mn, mh, maxh);
	free(cmd);
	free(text);
	free(cfgp);
	free(s);
}

Test(notify, a_failing_receiver_shows_in_health_and_metrics)
{
	char *s = sink_json("\"alert_after\": \"2s\""), *rep;
	long long want[4];
	long status = 0;
	int i;

	init_state(s);
	free(s);
	hookrx_mode(rx, HOOKRX_FAIL);
	serve_start();
	(void)request("prod-debug", "INC-1", NULL);
	for (i = 0; i < 100; i++) {
		rep = api("GET", "/v1/health", NULL, NULL, &status);
		if (strstr(rep, "details") != NULL)
			break;
		free(rep);
		rep = NULL;
		tu_sleep_ms(100);
	}
	cr_assert_not_null(rep, "health never named the sink");
	cr_assert_eq(status, 200);
	cr_assert_eq(ledger_notifiable(0, want, 4), 1);
	cr_assert_not_null(
	    strstr(rep,
		tu_keep(tu_fmt("\"error\":\"event %lld to 127.0.0.1:%d: HTTP "
			       "status 500\"",
		    want[0], hookrx_port(rx)))),
	    "%s", rep);
	cr_assert_not_null(strstr(rep, "\"sink\":\"hooks\""), "%s", rep);
	free(rep);
	rep = api("GET", "/metrics", tok_sec, NULL, &status);
	cr_assert_eq(status, 200);
	cr_assert_not_null(
	    strstr(rep, "jitca_notify_alerting{sink=\"hooks\"} 1"), "%s", rep);
	cr_assert_not_null(
	    strstr(rep, "jitca_notify_delivered_total{sink=\"hooks\"} 0"));
	cr_assert_not_null(
	    strstr(rep, "jitca_notify_lag_events{sink=\"hooks\"} 1"), "%s",
	    rep);
	cr_assert_null(strstr(rep, "127.0.0.1:"), "no URL in metrics");
	free(rep);
	hookrx_mode(rx, HOOKRX_OK);
	cr_assert_eq(hookrx_wait_ok(rx, 1, 5000), 1);
	tu_sleep_ms(500);
	rep = api("GET", "/v1/health", NULL, NULL, &status);
	cr_assert_str_eq(rep, "{\"status\":\"ok\"}\n");
	free(rep);
	rep = api("GET", "/metrics", tok_sec, NULL, &status);
	cr_assert_not_null(
	    strstr(rep, "jitca_notify_delivered_total{sink=\"hooks\"} 1"));
	cr_assert_not_null(
	    strstr(rep, "jitca_notify_lag_events{sink=\"hooks\"} 0"), "%s",
	    rep);
	cr_assert_not_null(
	    strstr(rep, "jitca_notify_alerting{sink=\"hooks\"} 0"));
	free(rep);
}

Test(notify, config_check_names_the_field)
{
	char *s, *out = NULL, *err = NULL, *cfgp, *text, *bad;

	s = sink_json("");
	init_state(s);
	free(s);
	cr_assert_eq(
	    tu_jitcad(state, "config check", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	/* The secret file: missing, then a directory. */
	cr_assert_eq(unlink(tu_keep(tu_fmt("%s/hook.secret", state))), 0);
	cr_assert_eq(tu_jitcad(state, "config check", &out, &err), 1);
	cr_assert_str_eq(err,
	    tu_keep(tu_fmt("jitcad config check: notify[0].secret_file: "
			   "%s/hook.secret: No such file or directory\n",
		state)));
	free(out);
	free(err);
	cr_assert_eq(mkdir(tu_keep(tu_fmt("%s/hook.secret", state)), 0700), 0);
	cr_assert_eq(tu_jitcad(state, "config check", &out, &err), 1);
	cr_assert_str_eq(err,
	    tu_keep(tu_fmt("jitcad config check: notify[0].secret_file: "
			   "%s/hook.secret: Is a directory\n",
		state)));
	free(out);
	free(err);
	/* A plain-http URL to a host name. */
	cfgp = tu_fmt("%s/jitca.json", state);
	text = tu_read_file(cfgp, NULL);
	cr_assert_not_null(strstr(text, "http://127.0.0.1:"));
	bad = tu_fmt("%.*shttp://hooks.example.com/x%s",
	    (int)(strstr(text, "http://127.0.0.1:") - text), text,
	    strstr(text, "/hook\"") + 5);
	tu_write_file(cfgp, bad, strlen(bad), 0600);
	cr_assert_eq(tu_jitcad(state, "config check", &out, &err), 1);
	cr_assert_str_eq(err,
	    "jitcad config check: notify[0].url: not a usable URL: plain http "
	    "is only for a literal loopback address (127.0.0.1, [::1]); use "
	    "https\n");
	free(out);
	free(err);
	free(bad);
	free(text);
	free(cfgp);
}

Test(notify, requests_watch_prints_each_pending_request_once)
{
	char *out = tu_fmt("%s/watch.out", dir),
	     *errf = tu_fmt("%s/watch.err", dir);
	char *tokf = tu_fmt("%s/bob.token", dir), *t, *p;
	char *argv[] = {(char *)(uintptr_t)tu_env("JITCA"), "requests",
	    "--watch", "--interval", "1s", "--server", NULL, "--token-file",
	    tokf, NULL};
	pid_t pid;
	long long a, b;
	int n;

	init_state(NULL);
	serve_start();
	tu_write_file(tokf, tok_bob, strlen(tok_bob), 0600);
	argv[6] = url;
	a = request("prod-debug", "INC-first waiting", NULL);
	pid = tu_spawn(argv, out, errf);
	t = tu_file_wait(out, "INC-first waiting", pid);
	cr_assert_not_null(strstr(t, "ID     STATE"), "%s", t);
	free(t);
	(void)request("staging", "issued at once, never pending", NULL);
	b = request("prod-debug", "INC-second new", NULL);
	t = tu_file_wait(out, "INC-second new", pid);
	/* Each once, in order, the issued one never. */
	for (n = 0, p = t; (p = strstr(p, "INC-first")) != NULL; p++)
		n++;
	cr_assert_eq(n, 1, "%s", t);
	cr_assert_null(strstr(t, "never pending"), "%s", t);
	cr_assert_lt(strstr(t, "INC-first"), strstr(t, "INC-second"));
	cr_assert_not_null(
	    strstr(t, tu_keep(tu_fmt("%-6lld pending  prod-debug", a))), "%s",
	    t);
	cr_assert_not_null(
	    strstr(t, tu_keep(tu_fmt("%-6lld pending  prod-debug", b))), "%s",
	    t);
	free(t);
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(tu_wait_exit(&pid), 0);
	free(out);
	free(errf);
	free(tokf);
}
