/*
 * ledger.c: `jitcad ledger verify` and `jitcad ledger export`: the
 * ledger's hash chain and state tables checked (ca/ledger.h), or its
 * events written as JSON lines or CSV.  Shared helpers: common.c.
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
#include <time.h>
#include <unistd.h>

#include "ca/ca.h"
#include "ca/config.h"
#include "ca/ledger.h"
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
	int64_t since = 0, count = 0, bad = 0;
	uint64_t nbad = 0, v;
	int r, json = 0, ret = ADMIN_EXIT_FAIL;

	if (strcmp(sub, "export") == 0) {
		if (cli_str(p, "format") != NULL &&
		    strcmp(cli_str(p, "format"), "csv") == 0)
			fmt = LEDGER_FORMAT_CSV;
		if (cli_num(p, "since", 0, &v) && v > INT64_MAX)
			return usage_error(
			    p, "--since must be a sequence number");
		since = (int64_t)v;
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

/*
 * ledger break-glass: the break-glass requests (ca/request.h) that need
 * review (--all: every one), newest first, from the requests as a local
 * actor sees them: a table, or --json.
 */
int
admin_ledger_break_glass(const struct cli_parsed *p)
{
	const struct ca_actor actor = {admin_actor(), NULL, 0};
	struct request_filter f;
	struct admin_ctx x;
	json_t *page = NULL, *list = NULL, *q, *nc;
	char when[32];
	uint64_t cur;
	size_t i;
	int r, all = cli_flag(p, "all"), ret = ADMIN_EXIT_FAIL;

	if (admin_open(&x, "ledger break-glass", cli_str(p, "state"), 0) != 0)
		return ADMIN_EXIT_FAIL;
	if ((list = json_array()) == NULL)
		goto out;
	memset(&f, 0, sizeof(f));
	f.brief = 0;
	f.limit = REQUEST_LIST_MAX;
	for (;;) {
		if ((r = request_list(&x.ca, &actor, &f, &page)) != 0) {
			report("ledger break-glass", "requests", r);
			goto out;
		}
		json_array_foreach(json_object_get(page, "requests"), i, q)
		{
			if (json_is_true(json_object_get(q, "break_glass")) &&
			    (all ||
				json_is_true(
				    json_object_get(q, "needs_review"))))
				(void)json_array_append(list, q);
		}
		nc = json_object_get(page, "next_cursor");
		if (!json_is_string(nc) ||
		    num_parse_u64(json_string_value(nc), INT64_MAX, &cur) != 0)
			break;
		f.before = (int64_t)cur;
		json_decref(page);
		page = NULL;
	}
	if (cli_flag(p, "json")) {
		if (print_json("ledger break-glass", list) != 0)
			goto out;
		ret = ADMIN_EXIT_OK;
		goto out;
	}
	printf("%-6s %-16s %-20s %-8s %-20s %-7s %s\n", "ID", "REQUESTER",
	    "ROLE", "SERIAL", "CREATED", "REVIEW", "REASON");
	json_array_foreach(list, i, q)
	{
		time_t t =
		    (time_t)json_integer_value(json_object_get(q, "created"));
		struct tm tm;

		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) ==
			0)
			snprintf(when, sizeof(when), "?");
		printf("%-6lld %-16.16s %-20.20s %-8lld %-20s %-7s %.60s\n",
		    (long long)json_integer_value(json_object_get(q, "id")),
		    json_string_value(json_object_get(q, "requester")),
		    json_string_value(json_object_get(q, "role")),
		    (long long)json_integer_value(json_object_get(q, "serial")),
		    when,
		    json_is_true(json_object_get(q, "needs_review")) ? "needed"
								     : "done",
		    json_string_value(json_object_get(q, "reason")));
	}
	if (json_array_size(list) == 0)
		fprintf(stderr, "jitcad ledger break-glass: none %s\n",
		    all ? "" : "needs review");
	ret = ADMIN_EXIT_OK;
out:
	json_decref(page);
	json_decref(list);
	admin_close(&x);
	return ret;
}
