/*
 * logout.c: `jitca logout`: removes the jitca certificates from ssh-agent
 * and deletes their files in ~/.ssh/jitca.  Only looks at this machine.
 * Shared helpers: common.c.
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
#include "client/session.h"
#include "signer/base/cli.h"
#include "signer/base/num.h"
#include "signer/cert.h"
#include "signer/pubkey.h"

static void
logout_file(const char *dir, const char *role, void *ctx)
{
	char *k = cconf_fmt("%s/%s", dir, role);
	char *c = cconf_fmt("%s/%s-cert.pub", dir, role);
	int *failed = ctx;

	if (k == NULL || c == NULL) {
		msg("%s", err_str(ERR_ALLOC));
		(*failed)++;
	} else if (unlink(c) != 0 && errno != ENOENT) {
		msg("cannot remove %s: %s", c, strerror(errno));
		(*failed)++;
	} else if (unlink(k) != 0 && errno != ENOENT) {
		msg("cannot remove %s: %s", k, strerror(errno));
		(*failed)++;
	} else
		printf("deleted %s and its key\n", c);
	free(k);
	free(c);
}

int
cmd_logout(const struct cli_parsed *p)
{
	struct cconf cf;
	struct agent *ag = NULL;
	int r, failed = 0, ex = JITCA_EXIT_FAIL;

	memset(&cf, 0, sizeof(cf));
	if ((ex = local_setup(&cf)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	if (agent_connect(&ag, NULL) == 0) {
		r = agent_remove_prefixed(ag, COMMENT_PREFIX, NULL, 0);
		if (r < 0) {
			msg("ssh-agent: %s", err_str(r));
			goto out;
		}
		printf("removed %d certificate(s) from ssh-agent\n", r);
	}
	if ((r = each_file(&cf, logout_file, &failed)) != 0) {
		msg("%s", err_str(r));
		goto out;
	}
	if ((r = session_remove(cf.home, NULL)) < 0) {
		msg("cannot remove the sessions in ~/.cache/jitca: %s",
		    err_str(r));
		failed++;
	} else if (r > 0)
		printf("removed %d session(s) of signing in\n", r);
	ex = failed > 0 ? JITCA_EXIT_FAIL : JITCA_EXIT_OK;
out:
	agent_close(ag);
	cconf_clear(&cf);
	return ex;
}
