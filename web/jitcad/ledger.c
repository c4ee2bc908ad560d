/*
 * ledger.c: `jitcad ledger verify [--checkpoint FILE]`, `ledger export`,
 * `ledger prove --serial N` and `ledger checkpoint`: the ledger's hash
 * chain, Merkle tree and state tables checked (ca/ledger.h), a saved
 * checkpoint proved extended (ca/checkpoint.h), its events written as
 * JSON lines or CSV (all, or those after a sequence number, a duration
 * ago or a date: ca/report.h parses it), an inclusion proof printed as
 * JSON, a checkpoint signed now.  `ledger report` is report.c.  Shared
 * helpers: common.c.
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
#include "ca/checkpoint.h"
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
#include "signer/note.h"
#include "signer/pubkey.h"
#include "signer/signer.h"
#include "web/encode.h"
#include "signer/wire.h"
#include "web/api.h"
#include "web/jitcad/admin.h"

/* ledger_verify_state()'s report: one line per disagreeing row. */
static void
state_report(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "jitcad ledger verify: state: %s\n", msg);
}

/*
 * verify --checkpoint FILE: the note in FILE must be signed by the
 * ledger key (STATE/ledger.pub) and the events must hash to its root at
 * its size.  0 with *size, else the reason on stderr.
 */
static int
saved_checkpoint(const struct cli_parsed *p, const char *state,
    struct ledger *l, uint64_t *size)
{
	const char *file = cli_str(p, "checkpoint");
	struct pubkey *lpub = NULL;
	char *text = NULL, errbuf[LEDGER_ERR_LEN];
	size_t len = 0;
	int r;

	*size = 0;
	if ((r = admin_load_ledger_pub("ledger verify", state, &lpub)) != 0)
		goto out;
	if ((r = fileio_read_small(file, NOTE_MAX_SIZE, &text, &len)) != 0) {
		report("ledger verify", file, r);
		goto out;
	}
	r = checkpoint_verify_saved(l, text, len, lpub, size, errbuf);
	if (r != 0)
		fprintf(stderr, "jitcad ledger verify: FAILED against %s: %s\n",
		    file, errbuf[0] != '\0' ? errbuf : err_str(r));
out:
	free(text);
	pubkey_free(lpub);
	return r;
}

/* ledger prove --serial N: the proof as one JSON object. */
int
admin_ledger_prove(const struct cli_parsed *p)
{
	struct checkpoint_proof *pr = NULL;
	struct store_checkpoint cp;
	struct admin_ctx x;
	json_t *o = NULL;
	uint64_t serial = 0;
	int r, nocp = 0, ret = ADMIN_EXIT_FAIL;

	memset(&cp, 0, sizeof(cp));
	(void)cli_num(p, "serial", 0, &serial);
	if (admin_open(&x, "ledger prove", cli_str(p, "state"), 0) != 0)
		return ADMIN_EXIT_FAIL;
	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		report("ledger prove", "proof", ERR_ALLOC);
		goto out;
	}
	r = checkpoint_prove_serial(x.ledger, serial, pr, &nocp);
	if (r == ERR_NOT_FOUND) {
		if (nocp)
			fprintf(stderr,
			    "jitcad ledger prove: there is no checkpoint yet; "
			    "run jitcad ledger checkpoint\n");
		else
			fprintf(stderr,
			    "jitcad ledger prove: no certificate with serial "
			    "%llu in the ledger\n",
			    (unsigned long long)serial);
		goto out;
	} else if (r == ERR_MERKLE_RANGE) {
		fprintf(stderr,
		    "jitcad ledger prove: serial %llu was issued after the "
		    "latest checkpoint (tree size %llu); wait for the next "
		    "one or run jitcad ledger checkpoint\n",
		    (unsigned long long)serial,
		    (unsigned long long)pr->tree_size);
		goto out;
	} else if (r != 0) {
		report("ledger prove", ledger_errmsg(x.ledger), r);
		goto out;
	}
	if ((r = checkpoint_latest(x.ledger, &cp)) != 0) {
		report("ledger prove", "checkpoint", r);
		goto out;
	}
	/* The proof, the serial, and the signed note it is against. */
	if ((o = api_proof_json(pr)) == NULL ||
	    json_object_set_new(
		o, "serial", json_integer((json_int_t)serial)) != 0 ||
	    json_object_set_new(o, "checkpoint", json_string(cp.note)) != 0)
		goto oom;
	if (print_json("ledger prove", o) != 0)
		goto out;
	ret = ADMIN_EXIT_OK;
	goto out;
oom:
	report("ledger prove", "proof", ERR_ALLOC);
out:
	json_decref(o);
	free(pr);
	store_checkpoint_clear(&cp);
	admin_close(&x);
	return ret;
}

/* ledger checkpoint: sign one now (the signer must hold the ledger key)
 * and print the signed note. */
int
admin_ledger_checkpoint(const struct cli_parsed *p)
{
	struct checkpoint_signer sg;
	struct store_checkpoint cp;
	struct admin_ctx x;
	char *origin = NULL;
	int r, made = 0, ret = ADMIN_EXIT_FAIL;

	memset(&cp, 0, sizeof(cp));
	if (admin_open(&x, "ledger checkpoint", cli_str(p, "state"), 1) != 0)
		return ADMIN_EXIT_FAIL;
	if (signer_public_ledger(x.signer) == NULL) {
		fprintf(stderr,
		    "jitcad ledger checkpoint: the signer holds no ledger key; "
		    "run jitcad init --add-keys\n");
		goto out;
	}
	if ((r = admin_ledger_origin(x.cfg, x.ca_pub, &origin)) != 0) {
		report("ledger checkpoint", "origin", r);
		goto out;
	}
	admin_checkpoint_signer(&sg, x.signer);
	if ((r = checkpoint_make(
		 x.ledger, origin, &sg, admin_actor(), 1, &made, &cp)) != 0) {
		report("ledger checkpoint", ledger_errmsg(x.ledger), r);
		goto out;
	}
	if (fputs(cp.note, stdout) == EOF || fflush(stdout) != 0) {
		report("ledger checkpoint", "stdout", ERR_SYSTEM);
		goto out;
	}
	ret = ADMIN_EXIT_OK;
out:
	free(origin);
	store_checkpoint_clear(&cp);
	admin_close(&x);
	return ret;
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
	uint64_t nbad = 0, v, cpsize = 0;
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
	if (cli_str(p, "checkpoint") != NULL &&
	    saved_checkpoint(p, state, l, &cpsize) != 0) {
		if (json)
			printf("{\"ok\":false,\"events\":%lld,"
			       "\"checkpoint\":false}\n",
			    (long long)count);
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
	if (json && cpsize > 0)
		printf("{\"ok\":true,\"events\":%lld,\"checkpoint_size\":%llu}"
		       "\n",
		    (long long)count, (unsigned long long)cpsize);
	else if (json)
		printf("{\"ok\":true,\"events\":%lld}\n", (long long)count);
	else if (cpsize > 0)
		printf("ok: %lld events, hash chain intact, extends the "
		       "checkpoint of tree size %llu\n",
		    (long long)count, (unsigned long long)cpsize);
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
/* Move the break-glass requests of page (that need review, or all)
 * to the end of found. */
static int
break_glass_take(
    struct request_views *found, struct request_views *page, int all)
{
	struct request_view *n;
	size_t i;

	for (i = 0; i < page->n; i++) {
		if (!page->v[i].break_glass ||
		    (!all && !page->v[i].needs_review))
			continue;
		n = realloc(found->v, (found->n + 1) * sizeof(*n));
		if (n == NULL)
			return ERR_ALLOC;
		found->v = n;
		found->v[found->n++] = page->v[i];
		memset(&page->v[i], 0, sizeof(page->v[i]));
	}
	return 0;
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
	struct request_views *page = NULL, found;
	char when[32];
	size_t i;
	int r, all = cli_flag(p, "all"), ret = ADMIN_EXIT_FAIL;

	memset(&found, 0, sizeof(found));
	if (admin_open(&x, "ledger break-glass", cli_str(p, "state"), 0) != 0)
		return ADMIN_EXIT_FAIL;
	memset(&f, 0, sizeof(f));
	f.brief = 0;
	f.limit = REQUEST_LIST_MAX;
	for (;;) {
		if ((r = request_list(&x.ca, &actor, &f, &page)) != 0 ||
		    (r = break_glass_take(&found, page, all)) != 0) {
			report("ledger break-glass", "requests", r);
			goto out;
		}
		if (page->next_cursor == 0)
			break;
		f.before = page->next_cursor;
		request_views_free(page);
		page = NULL;
	}
	if (cli_flag(p, "json")) {
		if (print_encoded("ledger break-glass",
			encode_request_list(found.v, found.n)) != 0)
			goto out;
		ret = ADMIN_EXIT_OK;
		goto out;
	}
	printf("%-6s %-16s %-20s %-8s %-20s %-7s %s\n", "ID", "REQUESTER",
	    "ROLE", "SERIAL", "CREATED", "REVIEW", "REASON");
	for (i = 0; i < found.n; i++) {
		const struct request_view *q = &found.v[i];
		time_t t = (time_t)q->created;
		struct tm tm;

		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) ==
			0)
			snprintf(when, sizeof(when), "?");
		printf("%-6lld %-16.16s %-20.20s %-8lld %-20s %-7s %.60s\n",
		    (long long)q->id, q->requester, q->role,
		    (long long)(q->cert != NULL ? q->cert->serial : 0), when,
		    q->needs_review ? "needed" : "done", q->reason);
	}
	if (found.n == 0)
		fprintf(stderr, "jitcad ledger break-glass: none %s\n",
		    all ? "" : "needs review");
	ret = ADMIN_EXIT_OK;
out:
	request_views_free(page);
	for (i = 0; i < found.n; i++)
		request_view_clear(&found.v[i]);
	free(found.v);
	admin_close(&x);
	return ret;
}
