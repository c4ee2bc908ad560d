/*
 * host.c: `jitcad host add|list|disable|reset`: the hosts enrolled for
 * host certificates (ca/hosts.h), recorded in the ledger with a local
 * actor.  add prints the host token once on stdout; the host sends it
 * to POST /v1/host-certs (scripts/host-setup --host-cert).  Shared
 * helpers: common.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ca/hosts.h"
#include "ca/users.h"
#include "signer/base/cli.h"
#include "signer/err.h"
#include "web/jitcad/admin.h"

/* One host on stdout: a table line, or an element of the JSON array. */
static int
host_print(void *arg, const struct host *h)
{
	json_t *list = arg, *o = NULL, *pa = NULL, *ka = NULL;
	size_t i;
	int r = ERR_INTERNAL;

	if (list == NULL) {
		printf("%-32s %-8s ", h->name,
		    h->disabled ? "disabled" : "active");
		for (i = 0; i < h->nprincipals; i++)
			printf("%s%s", i ? "," : "", h->principals[i]);
		for (i = 0; i < h->nkeys; i++)
			printf("%s%s", i ? "," : " ", h->key_fps[i]);
		printf("%s\n", h->nkeys == 0 ? " (no key)" : "");
		return 0;
	}
	ENSURE((pa = json_array()) != NULL, ERR_ALLOC);
	for (i = 0; i < h->nprincipals; i++)
		ENSURE(json_array_append_new(
			   pa, json_string(h->principals[i])) == 0,
		    ERR_ALLOC);
	ENSURE((ka = json_array()) != NULL, ERR_ALLOC);
	for (i = 0; i < h->nkeys; i++)
		ENSURE(
		    json_array_append_new(ka, json_string(h->key_fps[i])) == 0,
		    ERR_ALLOC);
	o = json_pack("{s:s, s:O, s:b, s:I, s:O}", "name", h->name,
	    "principals", pa, "disabled", h->disabled, "created",
	    (json_int_t)h->created, "key_fps", ka);
	ENSURE(o != NULL, ERR_ALLOC);
	ENSURE(json_array_append_new(list, o) == 0, ERR_ALLOC);
	o = NULL;
	r = 0;
out:
	json_decref(pa);
	json_decref(ka);
	return r;
}

int
admin_host(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *sub = p->sub->name;
	const char *name = p->nargs > 0 ? p->args[0] : NULL;
	const char *princ[HOST_PRINCIPALS_MAX + 1];
	char *token = NULL;
	size_t n = 0;
	struct admin_ctx x;
	json_t *list = NULL;
	int r, ret = ADMIN_EXIT_FAIL;

	if (strcmp(sub, "add") == 0 &&
	    (n = cli_list(p, "principal", princ, HOST_PRINCIPALS_MAX)) >
		HOST_PRINCIPALS_MAX)
		return usage_error(p, "too many --principal");
	if (admin_open(&x, "host", state, 0) != 0)
		return ADMIN_EXIT_FAIL;
	if (strcmp(sub, "add") == 0) {
		if ((r = host_add(x.ledger, admin_actor(), name,
			 (char *const *)(uintptr_t)princ, n, &token)) != 0) {
			report("host add", name, r);
			goto out;
		}
		fprintf(stderr,
		    "jitcad host add: added %s; this host token is shown "
		    "once, give it to the host (host-setup --host-cert):\n",
		    name);
		printf("%s\n", token);
	} else if (strcmp(sub, "disable") == 0) {
		if ((r = host_disable(x.ledger, admin_actor(), name)) != 0) {
			report("host disable", name, r);
			goto out;
		}
		fprintf(stderr,
		    "jitcad host disable: %s's token no longer works\n", name);
	} else if (strcmp(sub, "reset") == 0) {
		if ((r = host_reset(x.ledger, admin_actor(), name)) != 0) {
			report("host reset", name, r);
			goto out;
		}
		fprintf(stderr,
		    "jitcad host reset: %s's next request binds its host "
		    "key\n",
		    name);
	} else {
		if (cli_flag(p, "json") && (list = json_array()) == NULL) {
			report("host list", "", ERR_ALLOC);
			goto out;
		}
		if ((r = host_each(x.ledger, host_print, list)) != 0) {
			report("host list", x.cfg->ledger_path, r);
			goto out;
		}
		if (list != NULL && print_json("host list", list) != 0)
			goto out;
	}
	ret = ADMIN_EXIT_OK;
out:
	user_token_free(token);
	json_decref(list);
	admin_close(&x);
	return ret;
}
