/*
 * ledger.c: `jitcad ledger verify` and `jitcad ledger export`: the
 * ledger's hash chain and state tables checked (ca/ledger.h), or its
 * events written as JSON lines or CSV, all of them or those after a
 * sequence number, a duration ago or a date (ca/report.h parses and
 * finds it).  `ledger report` is report.c.  Shared helpers: common.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/ca.h"
#include "ca/config.h"
#include "ca/ledger.h"
#include "ca/report.h"
#include "ca/request.h"
#include "ca/revoke.h"
#include "ca/signpolicy.h"
#include "ca/text.h"
#include "ca/users.h"
#include "signer/base/cli.h"
#include "signer/base/fileio.h"
#include "signer/base/num.h"
#include "signer/cakey.h"
#include "signer/err.h"
#include "signer/krl.h"
#include "signer/pubkey.h"
#include "signer/signer.h"
#include "web/jitcad/admin.h"

/* ledger_verify_state()'s report: one line per disagreeing row. */
static void
state_report(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "jitcad ledger verify: state: %s\n", msg);
}

/* ledger verify and ledger export. */
int
admin_ledger(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *sub = p->sub->name;
	enum ledger_format fmt = LEDGER_FORMAT_JSONL;
	char *db_path = NULL, errbuf[LEDGER_ERR_LEN];
	struct ledger *l = NULL;
	int64_t since = 0, count = 0, bad = 0, since_time = 0;
	uint64_t nbad = 0, v;
	const char *sv;
	int by_time = 0;
	int r, json = 0, ret = ADMIN_EXIT_FAIL;

	if (strcmp(sub, "export") == 0) {
		if (cli_str(p, "format") != NULL &&
		    strcmp(cli_str(p, "format"), "csv") == 0)
			fmt = LEDGER_FORMAT_CSV;
		if ((sv = cli_str(p, "since")) != NULL) {
			/* A bare number is a sequence number ("300" was
			 * always one); else a duration or a date. */
			if (num_parse_u64(sv, INT64_MAX, &v) == 0)
				since = (int64_t)v;
			else if (report_when_parse(sv, (int64_t)ledger_now(),
				     &since_time) == 0)
				by_time = 1;
			else
				return usage_error(p,
				    "--since must be a sequence number, a "
				    "duration (7d) or a date (2026-11-24, "
				    "2026-11-24T09:00:00Z)");
		}
	} else
		json = cli_flag(p, "json");
	state = admin_state_dir(state);
	if ((r = admin_ledger_path(state, &db_path)) != 0)
		goto out;
	if ((r = ledger_open(&l, db_path, 0)) != 0) {
		report("ledger", db_path, r);
		goto out;
	}
	if (strcmp(sub, "export") == 0) {
		if (by_time &&
		    (r = report_seq_before(l, since_time, &since)) != 0) {
			report("ledger export", db_path, r);
			goto out;
		}
		if ((r = ledger_export(l, stdout, fmt, since)) != 0 ||
		    fflush(stdout) != 0) {
			report("ledger export", db_path, r ? r : ERR_SYSTEM);
			goto out;
		}
		ret = ADMIN_EXIT_OK;
		goto out;
	}
	r = ledger_verify(l, &count, &bad, errbuf);
	if (r == ERR_LEDGER_BROKEN) {
		if (json)
			printf(
			    "{\"ok\":false,\"events\":%lld,\"bad_seq\":%lld}\n",
			    (long long)count, (long long)bad);
		fprintf(stderr,
		    "jitcad ledger verify: FAILED at seq %lld: %s\n",
		    (long long)bad, errbuf);
		goto out;
	} else if (r != 0) {
		report("ledger verify", db_path, r);
		goto out;
	}
	/* The state tables must be what the events say. */
	r = ledger_verify_state(l, state_report, NULL, &nbad);
	if (r == ERR_LEDGER_BROKEN) {
		if (json)
			printf("{\"ok\":false,\"events\":%lld,"
			       "\"state_mismatches\":%llu}\n",
			    (long long)count, (unsigned long long)nbad);
		fprintf(stderr,
		    "jitcad ledger verify: FAILED: %llu state %s disagree%s "
		    "with the events\n",
		    (unsigned long long)nbad, nbad == 1 ? "row" : "rows",
		    nbad == 1 ? "s" : "");
		goto out;
	} else if (r != 0) {
		report("ledger verify", db_path, r);
		goto out;
	}
	if (json)
		printf("{\"ok\":true,\"events\":%lld}\n", (long long)count);
	else
		printf(
		    "ok: %lld events, hash chain intact\n", (long long)count);
	ret = ADMIN_EXIT_OK;
out:
	ledger_close(l);
	free(db_path);
	return ret;
}
