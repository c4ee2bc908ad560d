/*
 * cakey.c: `jitcad ca-key` and `jitcad sshd-config`: the CA public key
 * from <state>/ca.pub, alone or with what a host's sshd needs to trust it;
 * `ca-key --host` / `--ledger` the host CA and ledger keys from
 * host_ca.pub / ledger.pub, the ledger key also as an allowed_signers
 * line for `ssh-keygen -Y verify` (--allowed-signers).
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

/* Read and parse the public line <state>/file of a key init makes; a
 * missing one says how to add it. */
static int
admin_load_pub(const char *state, const char *file, struct pubkey **out)
{
	char *path = NULL, *text = NULL;
	int r;

	*out = NULL;
	if ((path = path_join(state, file)) == NULL) {
		report("ca-key", state, ERR_ALLOC);
		return ERR_ALLOC;
	}
	r = fileio_read_small(path, PUBKEY_MAX_LINE, &text, NULL);
	if (r == ERR_SYSTEM && errno == ENOENT)
		fprintf(stderr,
		    "jitcad ca-key: %s does not exist; this state directory "
		    "predates the host CA and ledger keys: run jitcad init "
		    "--add-keys --state %s\n",
		    path, state);
	else if (r != 0 || (r = pubkey_from_line(out, text, strlen(text))) != 0)
		report("ca-key", path, r);
	free(text);
	free(path);
	return r;
}

int
admin_ca_key(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state");
	const char *comment = "jitca-ca";
	int host = cli_flag(p, "host"), ledger = cli_flag(p, "ledger");
	int allowed = cli_flag(p, "allowed-signers");
	char *line = NULL;
	struct pubkey *k = NULL;
	int r, ret = ADMIN_EXIT_FAIL;

	if (host && ledger)
		return usage_error(p, "--host and --ledger exclude each other");
	if (allowed && !ledger)
		return usage_error(p, "--allowed-signers needs --ledger");
	state = admin_state_dir(state);
	/* Print the key re-encoded: proves the file holds a valid key. */
	if (host) {
		comment = HOST_PUB_COMMENT;
		r = admin_load_pub(state, HOST_PUB_FILE, &k);
	} else if (ledger) {
		comment = LEDGER_PUB_COMMENT;
		r = admin_load_pub(state, LEDGER_PUB_FILE, &k);
	} else
		r = admin_load_ca_pub("ca-key", state, &k);
	if (r != 0)
		goto out;
	if ((r = pubkey_to_line(&line, k, allowed ? NULL : comment)) != 0) {
		report("ca-key", "public key", r);
		goto out;
	}
	/* ssh-keygen -Y verify -f FILE -I ledger@jitca -n NAMESPACE. */
	if (allowed)
		printf("%s namespaces=\"%s,%s\" %s\n", LEDGER_PRINCIPAL,
		    SIGNER_NS_CHECKPOINT, SIGNER_NS_KRL, line);
	else
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
