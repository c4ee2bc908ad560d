/*
 * cakey.c: `jitcad ca-key` and `jitcad sshd-config`: the CA public key
 * from <state>/ca.pub, alone or with what a host's sshd needs to trust it.
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
#include "web/jitcad/admin.h"

int
admin_ca_key(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state");
	char *line = NULL;
	struct pubkey *k = NULL;
	int r, ret = ADMIN_EXIT_FAIL;

	state = admin_state_dir(state);
	/* Print the key re-encoded: proves the file holds a valid key. */
	if (admin_load_ca_pub("ca-key", state, &k) != 0)
		goto out;
	if ((r = pubkey_to_line(&line, k, "jitca-ca")) != 0) {
		report("ca-key", CA_PUB_FILE, r);
		goto out;
	}
	printf("%s\n", line);
	ret = ADMIN_EXIT_OK;
out:
	pubkey_free(k);
	free(line);
	return ret;
}

int
admin_sshd_config(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state");
	char *line = NULL, fp[PUBKEY_FP_LEN];
	struct pubkey *k = NULL;
	int r, ret = ADMIN_EXIT_FAIL;

	state = admin_state_dir(state);
	if (admin_load_ca_pub("sshd-config", state, &k) != 0)
		goto out;
	if ((r = pubkey_to_line(&line, k, "jitca-ca")) != 0 ||
	    (r = pubkey_fingerprint(fp, k)) != 0) {
		report("sshd-config", CA_PUB_FILE, r);
		goto out;
	}
	printf("# jitca: what a host needs to trust CA %s\n"
	       "#\n"
	       "# 1. The CA public key, in /etc/ssh/jitca_user_ca.pub:\n"
	       "#      %s\n"
	       "# 2. Principals: a certificate logs in as ACCOUNT only if one\n"
	       "#    of its principals is listed, one per line, in\n"
	       "#    /etc/ssh/jitca_principals/ACCOUNT.  A role's principals\n"
	       "#    are in jitca.json; e.g. to let prod-debug (principal\n"
	       "#    \"debug\") log in as root:\n"
	       "#      echo debug > /etc/ssh/jitca_principals/root\n"
	       "#    No file for an account = no certificate logins to it.\n"
	       "# 3. The KRL: sshd refuses every key if this file is missing,\n"
	       "#    so install the CA's KRL first and keep it fresh:\n"
	       "#      scripts/krl-sync --server URL --out "
	       "/etc/ssh/jitca_revoked.krl\n"
	       "# 4. These lines in /etc/ssh/sshd_config.d/jitca.conf, then\n"
	       "#    `sshd -t && systemctl reload ssh`\n"
	       "#    (scripts/host-setup does all four steps):\n"
	       "TrustedUserCAKeys /etc/ssh/jitca_user_ca.pub\n"
	       "AuthorizedPrincipalsFile /etc/ssh/jitca_principals/%%u\n"
	       "RevokedKeys /etc/ssh/jitca_revoked.krl\n"
	       "LogLevel VERBOSE\n",
	    fp, line);
	ret = ADMIN_EXIT_OK;
out:
	pubkey_free(k);
	free(line);
	return ret;
}
