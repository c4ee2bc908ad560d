/*
 * user.c: `jitcad user add|token|disable|list`: users and their API
 * tokens (ca/users.h), recorded in the ledger with a local actor.
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
#include "signer/names.h"
#include "signer/pubkey.h"
#include "signer/signer.h"
#include "web/encode.h"
#include "web/jitcad/admin.h"

/* user add, token, disable and list. */
int
admin_user(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *sub = p->sub->name;
	const char *name = p->nargs > 0 ? p->args[0] : NULL;
	const char *groups[USER_GROUPS_MAX];
	char *token = NULL, msg[CONFIG_ERR_LEN];
	size_t ngroups = 0, i;
	struct admin_ctx x;
	struct user_views *list = NULL;
	int r, json = 0, ret = ADMIN_EXIT_FAIL;

	if (strcmp(sub, "add") == 0 &&
	    (ngroups = cli_list(p, "group", groups, USER_GROUPS_MAX)) >
		USER_GROUPS_MAX)
		return usage_error(p, "too many --group");
	if (strcmp(sub, "list") == 0)
		json = cli_flag(p, "json");
	/* Name the field that is wrong: the user name or which group. */
	if (strcmp(sub, "add") == 0 && !name_principal_valid(name)) {
		fprintf(stderr,
		    "jitcad user add: bad user name \"%.64s\": it must match "
		    "^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$\n",
		    name);
		return ADMIN_EXIT_FAIL;
	}
	for (i = 0; strcmp(sub, "add") == 0 && i < ngroups; i++) {
		if (!name_principal_valid(groups[i])) {
			fprintf(stderr,
			    "jitcad user add: bad group name \"%.64s\" "
			    "(--group): it must match "
			    "^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$; the user "
			    "name %s is fine\n",
			    groups[i], name);
			return ADMIN_EXIT_FAIL;
		}
	}
	if (admin_open(&x, "user", state, 0) != 0)
		return ADMIN_EXIT_FAIL;
	if (strcmp(sub, "add") == 0) {
		if ((r = config_user_name_check(x.cfg, name, msg,
			 sizeof(msg))) == ERR_NAME_IS_PRINCIPAL) {
			fprintf(stderr,
			    "jitcad user add: %s: refused: %s, so "
			    "\"{{user}}\" would expand to it\n",
			    name, msg);
			goto out;
		}
		if ((r = user_add(x.ledger, x.cfg, admin_actor(), name,
			 (char *const *)(uintptr_t)groups, ngroups, &token)) !=
		    0) {
			report("user add", name, r);
			goto out;
		}
		fprintf(stderr,
		    "jitcad user add: added %s; this token is "
		    "shown once, give it to %s:\n",
		    name, name);
		printf("%s\n", token);
	} else if (strcmp(sub, "token") == 0) {
		if ((r = user_token_rotate(
			 x.ledger, admin_actor(), name, &token)) != 0) {
			report("user token", name, r);
			goto out;
		}
		fprintf(stderr,
		    "jitcad user token: new token for %s; the old "
		    "one no longer works\n",
		    name);
		printf("%s\n", token);
	} else if (strcmp(sub, "disable") == 0) {
		if ((r = user_disable(x.ledger, admin_actor(), name)) != 0) {
			report("user disable", name, r);
			goto out;
		}
		fprintf(stderr,
		    "jitcad user disable: %s can no longer log "
		    "in\n",
		    name);
	} else {
		if ((r = user_list(x.ledger, &list)) != 0) {
			report("user list", x.cfg->ledger_path, r);
			goto out;
		}
		if (json) {
			if (print_encoded("user list", encode_users(list)) != 0)
				goto out;
		} else {
			for (i = 0; i < list->n; i++) {
				const struct user_view *u = &list->v[i];
				size_t j;

				printf("%-24s %-8s ", u->name,
				    u->disabled ? "disabled" : "active");
				for (j = 0; j < u->ngroups; j++)
					printf(
					    "%s%s", j ? "," : "", u->groups[j]);
				putchar('\n');
			}
		}
	}
	ret = ADMIN_EXIT_OK;
out:
	user_token_free(token);
	user_views_free(list);
	admin_close(&x);
	return ret;
}
