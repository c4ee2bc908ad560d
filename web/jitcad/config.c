/*
 * config.c: `jitcad config check`: loads jitca.json (ca/config.h), reads
 * every notification sink's secret file, and checks the configuration
 * against the users already in the ledger (user_config_check()).  Shared
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
admin_config_check(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state");
	char errbuf[CONFIG_ERR_LEN];
	struct config *cfg = NULL;
	struct ledger *l = NULL;
	size_t i;
	int r;

	state = admin_state_dir(state);
	if ((r = config_load(&cfg, state, errbuf)) != 0) {
		fprintf(stderr, "jitcad config check: %s\n", errbuf);
		return ADMIN_EXIT_FAIL;
	}
	/* Every notification sink's secret file must be readable by the
	 * service (config_load() leaves them to this and to serve). */
	for (i = 0; i < cfg->nnotify; i++) {
		char *secret = NULL;
		size_t slen = 0;

		if (config_notify_secret(cfg, i, &secret, &slen, errbuf) != 0) {
			fprintf(stderr, "jitcad config check: %s\n", errbuf);
			config_free(cfg);
			return ADMIN_EXIT_FAIL;
		}
		config_notify_secret_free(secret, slen);
	}
	/* The users already in the ledger (none before jitcad init). */
	if ((r = ledger_open(&l, cfg->ledger_path, 0)) == 0)
		r = user_config_check(l, cfg, errbuf, sizeof(errbuf));
	else if (r == ERR_NOT_FOUND)
		r = 0;
	if (r == ERR_NAME_IS_PRINCIPAL)
		fprintf(stderr,
		    "jitcad config check: refused: %s, so \"{{user}}\" "
		    "would expand to it (change the role, or disable the "
		    "user)\n",
		    errbuf);
	else if (r != 0)
		report("config check", cfg->ledger_path, r);
	else
		printf("ok: %zu role%s\n", cfg->nroles,
		    cfg->nroles == 1 ? "" : "s");
	ledger_close(l);
	config_free(cfg);
	return r == 0 ? ADMIN_EXIT_OK : ADMIN_EXIT_FAIL;
}
