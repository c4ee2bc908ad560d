/*
 * issue.c: `jitcad issue`: a certificate for a user and role issued
 * from the CA host (request_issue_direct(), ca/request.h) and signed by
 * the signer process, which this command starts.  Shared helpers: common.c.
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
admin_issue(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *user = cli_str(p, "user");
	const char *role = cli_str(p, "role");
	const char *keyfile = cli_str(p, "public-key");
	const char *reason = cli_str(p, "reason");
	const char *principals[CERT_MAX_PRINCIPALS];
	char *keytext = NULL, tmsg[TEXT_MSG_LEN];
	struct pubkey *key = NULL;
	struct user *u = NULL;
	size_t nprincipals = 0;
	uint64_t ttl = 0;
	struct admin_ctx x;
	const struct ca_actor actor = {admin_actor(), NULL, 0};
	struct request_view *req = NULL;
	int r, json = cli_flag(p, "json"), ret = ADMIN_EXIT_FAIL;

	(void)cli_num(p, "ttl", 0, &ttl);
	if ((nprincipals = cli_list(p, "principal", principals,
		 CERT_MAX_PRINCIPALS)) > CERT_MAX_PRINCIPALS)
		return usage_error(p, "too many --principal");
	if (text_check("--reason", reason, REQUEST_REASON_MAX, 1, tmsg) != 0)
		return usage_error(p, tmsg);
	if ((r = fileio_read_small(keyfile, PUBKEY_MAX_LINE, &keytext, NULL)) !=
		0 ||
	    (r = pubkey_from_line(&key, keytext, strlen(keytext))) != 0) {
		report("issue", keyfile, r);
		free(keytext);
		return ADMIN_EXIT_FAIL;
	}
	pubkey_free(key);
	/* Start the signer only for a request that can be issued, and say
	 * which name is unknown (the library says only "not found"). */
	if (admin_open(&x, "issue", state, 0) != 0) {
		free(keytext);
		return ADMIN_EXIT_FAIL;
	}
	if (config_role(x.cfg, role) == NULL) {
		fprintf(stderr,
		    "jitcad issue: no role \"%s\" in %s/jitca.json\n", role,
		    x.state);
		goto out;
	}
	if ((r = user_get(x.ledger, user, &u)) != 0) {
		if (r == ERR_NOT_FOUND)
			fprintf(stderr,
			    "jitcad issue: no user \"%s\" (add it "
			    "with jitcad user add)\n",
			    user);
		else
			report("issue", user, r);
		goto out;
	}
	if (admin_start_signer(&x) != 0)
		goto out;
	if ((r = request_issue_direct(&x.ca, &actor, user, role,
		 nprincipals ? (char **)(uintptr_t)principals : NULL,
		 nprincipals, ttl, reason, keytext, &req)) != 0) {
		report("issue", r == ERR_KEY_IS_CA ? keyfile : role, r);
		goto out;
	}
	if (json) {
		if (print_encoded("issue", encode_request(req)) != 0)
			goto out;
	} else
		printf("%s\n", req->cert->certificate);
	fprintf(stderr,
	    "jitcad issue: serial %" PRId64 " for %s, role %s, "
	    "request %" PRId64 "\n",
	    (int64_t)req->cert->serial, user, role, req->id);
	ret = ADMIN_EXIT_OK;
out:
	request_view_free(req);
	user_free(u);
	free(keytext);
	admin_close(&x);
	return ret;
}
