/*
 * requests.c: `jitca requests`, `jitca approve` and `jitca deny`: the
 * requests the user made or may approve, listed page by page (filtered by
 * state, role and requester; a table or --json), or, with --watch, the
 * pending ones as they come (polled); the approver's decision on one of
 * them (confirmed on the terminal unless --yes), which names the digest
 * of what will be signed so that a request that changed is refused;
 * `jitca cancel` (the requester withdraws) and `jitca review` (an
 * approver reviews a break-glass certificate).  Shared helpers: common.c.
 */
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "client/agent.h"
#include "client/capi.h"
#include "client/ccheck.h"
#include "client/cconf.h"
#include "client/cshow.h"
#include "client/ephkey.h"
#include "client/jitca.h"
#include "signer/base/cli.h"
#include "signer/base/num.h"
#include "signer/cert.h"
#include "signer/pubkey.h"

#define LIST_PAGE 500 /* requests per GET /v1/requests page */
#define LIST_PAGES_MAX 20 /* jitca requests shows at most 10000 */
#define WATCH_INTERVAL 5 /* seconds between polls of --watch */
#define WATCH_INTERVAL_MAX 3600

/* ---- approvers ---- */

static void
print_request(json_t *q)
{
	char b[512], t[32], when[64];
	json_t *a;
	size_t i;

	principals_join(b, sizeof(b), json_object_get(q, "principals"));
	cconf_format_duration(t, sizeof(t), (uint64_t)jint(q, "ttl"));
	fmt_local(when, sizeof(when), (uint64_t)jint(q, "created"));
	printf("request:     %lld (%s)\n", jint(q, "id"), jstr(q, "state"));
	printf("requester:   ");
	fput_clean(stdout, jstr(q, "requester"), 64);
	printf("\nrole:        ");
	fput_clean(stdout, jstr(q, "role"), 64);
	printf("\nprincipals:  ");
	fput_clean(stdout, b, sizeof(b));
	printf("\nttl:         %s\nreason:      ", t);
	fput_clean(stdout, jstr(q, "reason"), 1024);
	printf("\ncreated:     %s\nkey:         ", when);
	fput_clean(stdout, jstr(q, "key_fingerprint"), 64);
	if (*jstr(q, "digest") != '\0') {
		printf("\ndigest:      ");
		fput_clean(stdout, jstr(q, "digest"), 80);
	}
	if (json_is_true(json_object_get(q, "break_glass")))
		printf("\nbreak-glass: yes%s",
		    json_is_true(json_object_get(q, "needs_review"))
			? ", needs review"
			: "");
	printf("\napprovals:   %zu of %lld", napprovals(q),
	    jint(q, "approvals_required"));
	json_array_foreach(json_object_get(q, "approvals"), i, a)
	{
		fputs(i ? ", " : " (", stdout);
		fput_clean(stdout, jstr(a, "who"), 64);
		if (i + 1 == napprovals(q))
			fputc(')', stdout);
	}
	fputc('\n', stdout);
}

static void
print_header(void)
{
	printf("%-6s %-8s %-20s %-16s %-24s %-7s %-5s %-7s %s\n", "ID", "STATE",
	    "ROLE", "REQUESTER", "PRINCIPALS", "TTL", "APPR", "AGE", "REASON");
}

/* One request as a line of the table (server text escaped). */
static void
print_row(json_t *q, uint64_t now)
{
	char pr[41], reason[49], role[21], who[17], t[16], age[16], tmp[512];

	principals_join(tmp, sizeof(tmp), json_object_get(q, "principals"));
	clean_copy(pr, sizeof(pr) < 25 ? sizeof(pr) : 25, tmp);
	clean_copy(reason, sizeof(reason), jstr(q, "reason"));
	clean_copy(role, sizeof(role), jstr(q, "role"));
	clean_copy(who, sizeof(who), jstr(q, "requester"));
	cconf_format_duration(t, sizeof(t), (uint64_t)jint(q, "ttl"));
	cconf_format_duration(age, sizeof(age),
	    now > (uint64_t)jint(q, "created")
		? now - (uint64_t)jint(q, "created")
		: 0);
	snprintf(tmp, sizeof(tmp), "%zu/%lld", napprovals(q),
	    jint(q, "approvals_required"));
	printf("%-6lld %-8.8s %-20s %-16s %-24s %-7s %-5s %-7s %s\n",
	    jint(q, "id"), jstr(q, "state"), role, who, pr, t, tmp, age,
	    reason);
}

/* ---- jitca requests --watch ---- */

static volatile sig_atomic_t watch_stop;

static void
on_watch_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static int
id_cmp(const void *a, const void *b)
{
	long long x = jint(*(json_t *const *)a, "id"),
		  y = jint(*(json_t *const *)b, "id");

	return x < y ? -1 : x > y;
}

/*
 * Poll the pending requests every interval seconds and print each one
 * not printed before, oldest first: those waiting at the start, then
 * every new one as it comes.  Request ids only grow, so "new" is an id
 * above the highest printed.  Transient failures (server down, busy) are
 * said once and the polling goes on; a refused token ends it.  Ctrl-C
 * (SIGINT) or SIGTERM ends it with 0.
 */
static int
watch(struct capi *api, uint64_t interval)
{
	struct sigaction sa;
	json_t *rep = NULL, *pl, *q, **v = NULL;
	char *detail = NULL, path[64];
	long long last = 0;
	size_t i, n;
	int r, ex = JITCA_EXIT_FAIL, failing = 0, header = 0;
	uint64_t waited;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_watch_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	snprintf(path, sizeof(path), "/v1/requests?state=pending&limit=%d",
	    LIST_PAGE);
	fprintf(stderr,
	    "jitca: watching for pending requests every %llus; Ctrl-C "
	    "stops\n",
	    (unsigned long long)interval);
	while (!watch_stop) {
		r = capi_call(api, "GET", path, NULL, 1, NULL, &rep, &detail);
		if (r == ERR_BAD_TOKEN || r == ERR_FORBIDDEN) {
			ex = api_fail("watching requests", r, detail);
			goto out;
		}
		if (r != 0 ||
		    !json_is_array(pl = json_object_get(rep, "requests"))) {
			if (!failing)
				(void)api_fail("watching requests (will "
					       "retry)",
				    r != 0 ? r : ERR_BAD_RESPONSE, detail);
			failing = 1;
		} else {
			if (failing)
				msg("watching requests: the server answers "
				    "again");
			failing = 0;
			n = json_array_size(pl);
			if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL)
				goto out;
			json_array_foreach(pl, i, q) v[i] = q;
			if (n > 0)
				qsort(v, n, sizeof(*v), id_cmp);
			for (i = 0; i < n; i++) {
				if (jint(v[i], "id") <= last)
					continue;
				if (!header) {
					print_header();
					header = 1;
				}
				print_row(v[i], now_s());
				last = jint(v[i], "id");
			}
			fflush(stdout);
			free(v);
			v = NULL;
		}
		json_decref(rep);
		rep = NULL;
		free(detail);
		detail = NULL;
		for (waited = 0; waited < interval * 10 && !watch_stop;
		     waited++) {
			struct timespec ts = {0, 100000000L};

			nanosleep(&ts, NULL);
		}
	}
	ex = 0;
out:
	free(v);
	json_decref(rep);
	free(detail);
	return ex;
}

int
cmd_requests(const struct cli_parsed *p)
{
	struct opts o;
	struct cconf cf;
	struct capi *api = NULL;
	json_t *rep = NULL, *q, *list = NULL;
	char *detail = NULL, path[96], cursor[24] = "";
	size_t i, page;
	uint64_t now = now_s(), interval = WATCH_INTERVAL;
	int r, ex = JITCA_EXIT_FAIL;

	opts_from(&o, p);
	memset(&cf, 0, sizeof(cf));
	if (o.pending && o.state != NULL && strcmp(o.state, "pending") != 0) {
		msg("--pending and --state %s contradict each other", o.state);
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (o.pending)
		o.state = "pending";
	(void)cli_num(p, "interval", WATCH_INTERVAL, &interval);
	if (cli_flag(p, "interval") && !cli_flag(p, "watch")) {
		msg("--interval goes with --watch");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (interval > WATCH_INTERVAL_MAX) {
		msg("--interval: at most 1h");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if ((ex = connect_api(&o, &cf, &api)) != 0)
		goto out;
	if (cli_flag(p, "watch")) {
		ex = watch(api, interval);
		goto out;
	}
	/* Every page (GET /v1/requests?limit=&cursor=), up to
	 * LIST_PAGES_MAX; a server without paging sends one page and no
	 * "next_cursor". */
	if ((list = json_array()) == NULL)
		goto out;
	for (page = 0; page < LIST_PAGES_MAX; page++) {
		json_t *pl, *nc;

		snprintf(path, sizeof(path), "/v1/requests?%slimit=%d%s%s",
		    o.state != NULL && strcmp(o.state, "pending") == 0
			? "state=pending&"
			: "",
		    LIST_PAGE, cursor[0] != '\0' ? "&cursor=" : "", cursor);
		if ((r = capi_call(api, "GET", path, NULL, 1, NULL, &rep,
			 &detail)) != 0) {
			ex = api_fail("listing requests", r, detail);
			goto out;
		}
		pl = json_object_get(rep, "requests");
		if (!json_is_array(pl)) {
			msg("listing requests: %s", err_str(ERR_BAD_RESPONSE));
			ex = JITCA_EXIT_FAIL;
			goto out;
		}
		/* The server filters pending; role, requester and the
		 * other states are filtered here. */
		json_array_foreach(pl, i, q)
		{
			if ((o.state != NULL &&
				strcmp(jstr(q, "state"), o.state) != 0) ||
			    (o.role != NULL &&
				strcmp(jstr(q, "role"), o.role) != 0) ||
			    (o.user != NULL &&
				strcmp(jstr(q, "requester"), o.user) != 0))
				continue;
			if (json_array_append(list, q) != 0)
				goto out;
		}
		nc = json_object_get(rep, "next_cursor");
		cursor[0] = '\0';
		if (json_is_string(nc) &&
		    strspn(json_string_value(nc), "0123456789") ==
			strlen(json_string_value(nc)) &&
		    strlen(json_string_value(nc)) < sizeof(cursor))
			snprintf(cursor, sizeof(cursor), "%s",
			    json_string_value(nc));
		json_decref(rep);
		rep = NULL;
		if (cursor[0] == '\0')
			break;
	}
	if (o.json) {
		if (json_dumpf(list, stdout, JSON_INDENT(2)) != 0)
			goto out;
		putchar('\n');
		ex = 0;
		goto out;
	}
	if (json_array_size(list) == 0) {
		fprintf(stderr, "jitca: no %s%srequests\n",
		    o.state != NULL ? o.state : "", o.state != NULL ? " " : "");
		ex = 0;
		goto out;
	}
	print_header();
	json_array_foreach(list, i, q) print_row(q, now);
	ex = 0;
out:
	json_decref(rep);
	json_decref(list);
	capi_free(api);
	cconf_clear(&cf);
	free(detail);
	return ex;
}

int
cmd_decide(const struct cli_parsed *p, int approve)
{
	struct opts o;
	struct cconf cf;
	struct capi *api = NULL;
	json_t *q = NULL, *rep = NULL, *body = NULL;
	char *detail = NULL, path[80], question[160];
	const char *verb = approve ? "approve" : "deny";
	unsigned long long id;
	uint64_t n = 0, ttl = 0;
	int r, ex = JITCA_EXIT_FAIL;

	opts_from(&o, p);
	memset(&cf, 0, sizeof(cf));
	if (o.nargs != 1 || num_parse_u64(o.args[0], 1ull << 53, &n) != 0 ||
	    n == 0) {
		msg("usage: jitca %s ID [--comment TEXT]%s", verb,
		    approve ? " [--yes]" : "");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	id = n;
	if ((ex = connect_api(&o, &cf, &api)) != 0)
		goto out;
	snprintf(path, sizeof(path), "/v1/requests/%llu", id);
	if ((r = capi_call(api, "GET", path, NULL, 1, NULL, &q, &detail)) !=
	    0) {
		ex = api_fail(path + 4, r, detail);
		goto out;
	}
	print_request(q);
	if (strcmp(jstr(q, "state"), "pending") != 0) {
		msg("request %llu is %s, not pending: nothing to %s", id,
		    jstr(q, "state"), verb);
		ex = strcmp(jstr(q, "state"), "expired") == 0
		    ? JITCA_EXIT_EXPIRED
		    : JITCA_EXIT_FAIL;
		goto out;
	}
	if (approve && !o.yes && isatty(STDIN_FILENO) &&
	    isatty(STDERR_FILENO)) {
		char qrole[41], qwho[41];

		clean_copy(qrole, sizeof(qrole), jstr(q, "role"));
		clean_copy(qwho, sizeof(qwho), jstr(q, "requester"));
		snprintf(question, sizeof(question),
		    "Approve request %llu (%s for %s)?", id, qrole, qwho);
		if (!confirm(question)) {
			msg("not approved");
			ex = JITCA_EXIT_FAIL;
			goto out;
		}
	}
	if ((body = json_object()) == NULL)
		goto out;
	if (approve && o.ttl != NULL) {
		char a[32], b[32];

		if (cconf_parse_duration(&ttl, o.ttl) != 0) {
			msg("bad --ttl \"%s\" (use 90s, 30m, 12h, 7d)", o.ttl);
			ex = JITCA_EXIT_USAGE;
			goto out;
		}
		if (jint(q, "ttl") > 0 && ttl > (uint64_t)jint(q, "ttl")) {
			cconf_format_duration(a, sizeof(a), ttl);
			cconf_format_duration(
			    b, sizeof(b), (uint64_t)jint(q, "ttl"));
			msg("--ttl %s is longer than request %llu asks for "
			    "(%s): an approver may shorten, never widen",
			    a, id, b);
			ex = JITCA_EXIT_USAGE;
			goto out;
		}
		if (json_object_set_new(
			body, "ttl", json_integer((json_int_t)ttl)) != 0)
			goto out;
	}
	/* The approval is for exactly what was shown: a request that
	 * changed since is refused by the server. */
	if (approve && *jstr(q, "digest") != '\0' &&
	    json_object_set_new(
		body, "expect", json_string(jstr(q, "digest"))) != 0)
		goto out;
	if (o.comment != NULL &&
	    json_object_set_new(body, "comment", json_string(o.comment)) != 0) {
		msg("--comment is not valid UTF-8");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/requests/%llu/%s", id, verb);
	r = capi_call(api, "POST", path, body, 1, NULL, &rep, &detail);
	if (r == ERR_REAUTH_REQUIRED) {
		/* The sign-in is too old to decide: a fresh one, once. */
		msg("your sign-in is too old to %s; signing in again", verb);
		free(detail);
		detail = NULL;
		if ((ex = sign_in(&o, &cf, api, 1)) != 0)
			goto out;
		ex = JITCA_EXIT_FAIL;
		r = capi_call(api, "POST", path, body, 1, NULL, &rep, &detail);
	}
	if (r != 0) {
		ex = api_fail(approve ? "approve" : "deny", r, detail);
		goto out;
	}
	if (!approve)
		printf("denied request %llu\n", id);
	else if (strcmp(jstr(rep, "state"), "issued") == 0) {
		char t[64];

		fmt_local(t, sizeof(t), (uint64_t)jint(rep, "valid_before"));
		printf("approved request %llu: certificate issued (serial "
		       "%lld, valid until %s)\n",
		    id, jint(rep, "serial"), t);
	} else
		printf("approved request %llu: %zu of %lld approvals, still "
		       "%s\n",
		    id, napprovals(rep), jint(rep, "approvals_required"),
		    jstr(rep, "state"));
	ex = 0;
out:
	json_decref(q);
	json_decref(rep);
	json_decref(body);
	capi_free(api);
	cconf_clear(&cf);
	free(detail);
	return ex;
}

int
cmd_approve(const struct cli_parsed *p)
{
	return cmd_decide(p, 1);
}

int
cmd_deny(const struct cli_parsed *p)
{
	return cmd_decide(p, 0);
}

/* POST /v1/requests/ID/VERB with body (may be NULL); prints done. */
static int
request_post(const struct cli_parsed *p, const char *verb, const char *usage,
    int with_comment, const char *done)
{
	struct opts o;
	struct cconf cf;
	struct capi *api = NULL;
	json_t *rep = NULL, *body = NULL;
	char *detail = NULL, path[80], what[40];
	uint64_t n = 0;
	int r, ex = JITCA_EXIT_FAIL;

	opts_from(&o, p);
	memset(&cf, 0, sizeof(cf));
	if (o.nargs != 1 || num_parse_u64(o.args[0], 1ull << 53, &n) != 0 ||
	    n == 0) {
		msg("usage: %s", usage);
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if ((ex = connect_api(&o, &cf, &api)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	if (with_comment) {
		if ((body = json_object()) == NULL)
			goto out;
		if (o.comment != NULL &&
		    json_object_set_new(
			body, "comment", json_string(o.comment)) != 0) {
			msg("--comment is not valid UTF-8");
			ex = JITCA_EXIT_USAGE;
			goto out;
		}
	}
	snprintf(path, sizeof(path), "/v1/requests/%llu/%s",
	    (unsigned long long)n, verb);
	snprintf(what, sizeof(what), "%s %llu", verb, (unsigned long long)n);
	if ((r = capi_call(api, "POST", path, body, 1, NULL, &rep, &detail)) !=
	    0) {
		ex = api_fail(what, r, detail);
		goto out;
	}
	printf("%s request %llu\n", done, (unsigned long long)n);
	ex = 0;
out:
	json_decref(rep);
	json_decref(body);
	capi_free(api);
	cconf_clear(&cf);
	free(detail);
	return ex;
}

int
cmd_cancel(const struct cli_parsed *p)
{
	return request_post(p, "withdraw", "jitca cancel ID", 0, "withdrew");
}

int
cmd_review(const struct cli_parsed *p)
{
	return request_post(
	    p, "review", "jitca review ID --comment TEXT", 1, "reviewed");
}
