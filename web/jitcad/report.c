/*
 * report.c: `jitcad ledger report`, the access review: the grants
 * ca/report.c builds from the ledger's events (who asked, for which role
 * and why, who approved with what comment, when it was issued, valid
 * and revoked, and the logins hosts reported), printed as a readable
 * table, as CSV (one row per grant, RFC 4180) or as one JSON list, every
 * time ISO-8601 in UTC (the JSON is web/reportjson.c's, the API's too).  Logins
 * with certificates the CA never issued are listed apart in the table and
 * counted on stderr in every format. Shared helpers: common.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ca/ledger.h"
#include "ca/report.h"
#include "signer/base/cli.h"
#include "signer/err.h"
#include "web/jitcad/admin.h"
#include "web/reportjson.h"

/* RFC 4180 field. */
static void
csv_put(const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		putchar('"');
		for (; *s != '\0'; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else
		fputs(s, stdout);
	fputs(last ? "\r\n" : ",", stdout);
}

/* A growing text for one CSV cell (bounded by what the ledger holds). */
struct cell {
	char *p;
	size_t len;
	int oom;
};

static void __attribute__((format(printf, 2, 3)))
cell_add(struct cell *c, const char *fmt, ...)
{
	va_list ap;
	char *np;
	int n;

	if (c->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (np = realloc(c->p, c->len + (size_t)n + 1)) == NULL) {
		c->oom = 1;
		return;
	}
	c->p = np;
	va_start(ap, fmt);
	vsnprintf(c->p + c->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	c->len += (size_t)n;
}

static void
logins_cell(struct cell *c, const struct report_login *l, size_t n)
{
	char t[REPORT_TIME_LEN];
	size_t i;

	for (i = 0; i < n; i++) {
		report_time_format(t, l[i].time);
		cell_add(c, "%s%s %s %s %s%s%s", i ? "; " : "", l[i].host,
		    l[i].account, t, l[i].source, l[i].reason ? " " : "",
		    l[i].reason ? l[i].reason : "");
	}
}

static int
grant_csv(const struct report_grant *g)
{
	char t[REPORT_TIME_LEN], num[32];
	struct cell c = {NULL, 0, 0};
	size_t i;

	snprintf(num, sizeof(num), "%lld", (long long)g->request);
	csv_put(num, 0);
	csv_put(g->requester, 0);
	csv_put(g->role, 0);
	for (i = 0; i < g->nprincipals; i++)
		cell_add(&c, "%s%s", i ? " " : "", g->principals[i]);
	csv_put(c.p ? c.p : "", 0);
	c.len = 0;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)g->serial);
	csv_put(num, 0);
	csv_put(g->reason, 0);
	cell_add(&c, "%s", "");
	for (i = 0; i < g->napprovals; i++) {
		report_time_format(t, g->approvals[i].time);
		cell_add(&c, "%s%s %s %s", i ? "; " : "", g->approvals[i].who,
		    t, g->approvals[i].comment);
	}
	csv_put(c.p ? c.p : "", 0);
	report_time_format(t, g->issued);
	csv_put(t, 0);
	report_time_format(t, g->valid_before);
	csv_put(t, 0);
	if (g->revoked)
		report_time_format(t, g->revoked_time);
	csv_put(g->revoked ? t : "", 0);
	csv_put(g->revoked ? g->revoked_by : "", 0);
	csv_put(g->revoked ? g->revoked_reason : "", 0);
	csv_put(g->break_glass ? "yes" : "no", 0);
	c.len = 0;
	cell_add(&c, "%s", "");
	logins_cell(&c, g->logins, g->nlogins);
	csv_put(c.p ? c.p : "", 0);
	c.len = 0;
	cell_add(&c, "%s", "");
	logins_cell(&c, g->refused, g->nrefused);
	csv_put(c.p ? c.p : "", 1);
	free(c.p);
	return c.oom ? ERR_ALLOC : 0;
}

static void
login_line_print(const char *label, const struct report_login *l)
{
	char t[REPORT_TIME_LEN];

	report_time_format(t, l->time);
	printf("  %-10s %s %s@%s from %s%s%s%s\n", label, t, l->account,
	    l->host, l->source, l->reason ? " (" : "",
	    l->reason ? l->reason : "", l->reason ? ")" : "");
}

static void
grant_table(const struct report_grant *g)
{
	char t[REPORT_TIME_LEN], t2[REPORT_TIME_LEN];
	size_t i;

	printf("request %lld  %s  role %s  serial %llu%s\n",
	    (long long)g->request, g->requester, g->role,
	    (unsigned long long)g->serial,
	    g->break_glass ? "  BREAK-GLASS (needs review)" : "");
	printf("  %-10s ", "principals");
	for (i = 0; i < g->nprincipals; i++)
		printf("%s%s", i ? "," : "", g->principals[i]);
	printf("\n  %-10s %s\n", "reason", g->reason);
	for (i = 0; i < g->napprovals; i++) {
		report_time_format(t, g->approvals[i].time);
		printf("  %-10s %s %s%s%s%s\n", "approved", t,
		    g->approvals[i].who,
		    g->approvals[i].comment[0] ? ": \"" : "",
		    g->approvals[i].comment,
		    g->approvals[i].comment[0] ? "\"" : "");
	}
	report_time_format(t, g->issued);
	report_time_format(t2, g->valid_before);
	printf("  %-10s %s by %s%s, valid until %s\n", "issued", t,
	    g->issued_by, g->direct ? " (direct, no approval)" : "", t2);
	if (g->revoked) {
		report_time_format(t, g->revoked_time);
		printf("  %-10s %s by %s: %s\n", "revoked", t, g->revoked_by,
		    g->revoked_reason);
	}
	for (i = 0; i < g->nlogins; i++)
		login_line_print("login", &g->logins[i]);
	for (i = 0; i < g->nrefused; i++)
		login_line_print("refused", &g->refused[i]);
	if (g->nlogins == 0 && g->nrefused == 0)
		printf("  %-10s none reported\n", "logins");
}

/* ledger report [--role R] [--user U] [--since W] [--until W]
 * [--format table|csv|json]. */
int
admin_ledger_report(const struct cli_parsed *p)
{
	const char *state = admin_state_dir(cli_str(p, "state"));
	const char *fmt = cli_str(p, "format");
	struct report_filter f;
	struct report *rep = NULL;
	struct ledger *l = NULL;
	char *db_path = NULL, t[REPORT_TIME_LEN];
	json_t *arr = NULL;
	size_t i;
	int r, ret = ADMIN_EXIT_FAIL;
	int64_t now = (int64_t)ledger_now();

	memset(&f, 0, sizeof(f));
	f.role = cli_str(p, "role");
	f.user = cli_str(p, "user");
	if (fmt == NULL)
		fmt = "table";
	if (cli_str(p, "since") != NULL &&
	    report_when_parse(cli_str(p, "since"), now, &f.since) != 0)
		return usage_error(p,
		    "--since must be a duration (7d) or a date "
		    "(2026-11-24, 2026-11-24T09:00:00Z)");
	if (cli_str(p, "until") != NULL &&
	    report_when_parse(cli_str(p, "until"), now, &f.until) != 0)
		return usage_error(p,
		    "--until must be a duration (1d) or a date "
		    "(2026-12-01, 2026-12-01T09:00:00+01:00)");
	if ((r = admin_ledger_path(state, &db_path)) != 0)
		goto out;
	if ((r = ledger_open(&l, db_path, 0)) != 0) {
		report("ledger report", db_path, r);
		goto out;
	}
	if ((r = report_build(l, &f, &rep)) != 0) {
		report("ledger report", db_path, r);
		goto out;
	}
	if (strcmp(fmt, "json") == 0) {
		if ((arr = report_grants_json(rep)) == NULL)
			goto oom;
		if (print_json("ledger report", arr) != 0)
			goto out;
	} else if (strcmp(fmt, "csv") == 0) {
		fputs("request,requester,role,principals,serial,reason,"
		      "approvals,issued,valid_before,revoked,revoked_by,"
		      "revoked_reason,break_glass,logins,refused\r\n",
		    stdout);
		for (i = 0; i < rep->ngrants; i++)
			if (grant_csv(&rep->grants[i]) != 0)
				goto oom;
	} else {
		for (i = 0; i < rep->ngrants; i++) {
			if (i > 0)
				putchar('\n');
			grant_table(&rep->grants[i]);
		}
		if (rep->nunknown > 0)
			printf("%slogins with certificates this CA did not "
			       "issue (or forged lines):\n",
			    rep->ngrants ? "\n" : "");
		for (i = 0; i < rep->nunknown; i++) {
			const struct report_login *u = &rep->unknown[i];

			report_time_format(t, u->time);
			printf("  %s %s@%s from %s serial %llu id %s: %s%s%s\n",
			    t, u->account, u->host, u->source,
			    (unsigned long long)u->serial, u->key_id,
			    u->unknown, u->reason ? ", refused " : "",
			    u->reason ? u->reason : "");
		}
	}
	/* Logins no grant explains are worth a look in every format. */
	if (rep->nunknown > 0)
		fprintf(stderr,
		    "jitcad ledger report: %zu login%s with certificates "
		    "this CA did not issue, or forged lines\n",
		    rep->nunknown, rep->nunknown == 1 ? "" : "s");
	if (fflush(stdout) != 0) {
		report("ledger report", "stdout", ERR_SYSTEM);
		goto out;
	}
	ret = ADMIN_EXIT_OK;
	goto out;
oom:
	report("ledger report", db_path, ERR_ALLOC);
out:
	json_decref(arr);
	report_free(rep);
	ledger_close(l);
	free(db_path);
	return ret;
}
