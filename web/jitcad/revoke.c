/*
 * revoke.c: `jitcad revoke` and `jitcad krl`: revocations recorded in the
 * ledger (ca/revoke.h) and the KRL rebuilt from it (signer/krl.h).
 * Shared helpers: common.c.
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
#include "web/encode.h"
#include "web/jitcad/admin.h"

int
admin_revoke(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *reason = cli_str(p, "reason");
	const char *keyfile = NULL;
	char *keytext = NULL, *krl_path = NULL, tmsg[TEXT_MSG_LEN];
	struct revoke_target t;
	struct admin_ctx x;
	const struct ca_actor actor = {admin_actor(), NULL, 0};
	struct revocation_view *res = NULL;
	uint64_t n;
	size_t i;
	int r, json = cli_flag(p, "json"), nsel = 0, ret = ADMIN_EXIT_FAIL;

	memset(&t, 0, sizeof(t));
	if (cli_num(p, "serial", 0, &n)) {
		if (n == 0)
			return usage_error(
			    p, "--serial must be a positive number");
		t.by = REVOKE_SERIAL;
		t.serial = n;
		nsel++;
	}
	if (cli_num(p, "request", 0, &n)) {
		if (n == 0 || n > INT64_MAX)
			return usage_error(p,
			    "--request must be a request id (a positive "
			    "number)");
		t.by = REVOKE_REQUEST;
		t.request = (int64_t)n;
		nsel++;
	}
	if (cli_str(p, "key-id") != NULL) {
		t.by = REVOKE_KEY_ID;
		t.text = cli_str(p, "key-id");
		nsel++;
	}
	if (cli_str(p, "user") != NULL) {
		t.by = REVOKE_USER;
		t.text = cli_str(p, "user");
		nsel++;
	}
	if (cli_str(p, "host") != NULL) {
		t.by = REVOKE_HOST;
		t.text = cli_str(p, "host");
		nsel++;
	}
	if ((keyfile = cli_str(p, "public-key")) != NULL) {
		t.by = REVOKE_PUBLIC_KEY;
		nsel++;
	}
	if (nsel != 1)
		return usage_error(p,
		    "give exactly one of --serial, "
		    "--key-id, --user, --host, --request, --public-key");
	if (text_check("--reason", reason, REVOKE_REASON_MAX, 1, tmsg) != 0)
		return usage_error(p, tmsg);
	if (keyfile != NULL) {
		if ((r = fileio_read_small(
			 keyfile, PUBKEY_MAX_LINE, &keytext, NULL)) != 0) {
			report("revoke", keyfile, r);
			return ADMIN_EXIT_FAIL;
		}
		t.text = keytext;
	}
	if (admin_open(&x, "revoke", state, 0) != 0) {
		free(keytext);
		return ADMIN_EXIT_FAIL;
	}
	if ((r = revoke_apply(&x.ca, &actor, &t, reason, &res)) != 0) {
		char what[128];

		if (t.by == REVOKE_SERIAL)
			snprintf(
			    what, sizeof(what), "serial %" PRIu64, t.serial);
		else if (t.by == REVOKE_REQUEST)
			snprintf(
			    what, sizeof(what), "request %" PRId64, t.request);
		else if (t.by == REVOKE_KEY_ID)
			snprintf(what, sizeof(what), "key id %.64s", t.text);
		else if (t.by == REVOKE_USER)
			snprintf(what, sizeof(what), "user %.64s", t.text);
		else if (t.by == REVOKE_HOST)
			snprintf(what, sizeof(what), "host %.64s", t.text);
		else
			snprintf(what, sizeof(what), "%.100s", keyfile);
		report("revoke", what, r);
		fprintf(stderr, "jitcad revoke: nothing was revoked\n");
		goto out;
	}
	if ((r = admin_krl_write(&x, NULL, &krl_path)) != 0) {
		report(
		    "revoke", "revoked, but rebuilding " KRL_FILE " failed", r);
		goto out;
	}
	if (json) {
		if (print_encoded("revoke", encode_revocation(res)) != 0)
			goto out;
	} else {
		for (i = 0; i < res->nrevoked; i++)
			printf("%" PRId64 "\n", (int64_t)res->revoked[i]);
	}
	fprintf(stderr,
	    "jitcad revoke: %zu certificate(s) newly revoked, "
	    "%zu already revoked%s; KRL version %" PRId64 " written to %s\n",
	    res->nrevoked, res->nalready_revoked,
	    res->key_revoked ? ", key revoked" : "", (int64_t)res->krl_version,
	    krl_path);
	if (t.by == REVOKE_USER)
		fprintf(stderr,
		    "jitcad revoke: %.64s's token still works: they can ask "
		    "for new certificates; to offboard, also run `jitcad user "
		    "disable %.64s`\n",
		    t.text, t.text);
	ret = ADMIN_EXIT_OK;
out:
	revocation_view_free(res);
	free(keytext);
	free(krl_path);
	admin_close(&x);
	return ret;
}

int
admin_krl(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state");
	const char *out_path = cli_str(p, "output");
	char *written = NULL;
	struct admin_ctx x;
	int r, ret = ADMIN_EXIT_FAIL;

	if (admin_open(&x, "krl", state, 0) != 0)
		return ADMIN_EXIT_FAIL;
	if ((r = admin_krl_write(&x, out_path, &written)) != 0) {
		report("krl", out_path ? out_path : KRL_FILE, r);
		goto out;
	}
	printf("%s\n", written);
	ret = ADMIN_EXIT_OK;
out:
	free(written);
	admin_close(&x);
	return ret;
}
