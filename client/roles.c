/*
 * roles.c: `jitca roles`: the roles the user may request or approve
 * (GET /v1/roles), with their principals, lifetimes, approvals needed
 * and whether break-glass is allowed, as a table or --json.  Shared
 * helpers: common.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/capi.h"
#include "client/cconf.h"
#include "client/jitca.h"
#include "signer/base/cli.h"

int
cmd_roles(const struct cli_parsed *p)
{
	struct opts o;
	struct cconf cf;
	struct capi *api = NULL;
	json_t *rep = NULL, *roles, *v, *bg;
	char *detail = NULL, pr[512], cpr[41], name[33], mx[16], df[16];
	char bgt[16], you[24];
	size_t i;
	int r, ex = JITCA_EXIT_FAIL;

	opts_from(&o, p);
	memset(&cf, 0, sizeof(cf));
	if ((ex = connect_api(&o, &cf, &api)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	if ((r = capi_call(
		 api, "GET", "/v1/roles", NULL, 1, NULL, &rep, &detail)) != 0) {
		ex = api_fail("listing roles", r, detail);
		goto out;
	}
	roles = json_object_get(rep, "roles");
	if (!json_is_array(roles)) {
		msg("listing roles: %s", err_str(ERR_BAD_RESPONSE));
		goto out;
	}
	if (o.json) {
		if (json_dumpf(roles, stdout, JSON_INDENT(2)) != 0)
			goto out;
		putchar('\n');
		ex = 0;
		goto out;
	}
	if (json_array_size(roles) == 0) {
		msg("you may neither request nor approve any role");
		ex = 0;
		goto out;
	}
	printf("%-20s %-24s %-7s %-7s %-9s %-15s %s\n", "ROLE", "PRINCIPALS",
	    "MAX TTL", "DEFAULT", "APPROVALS", "YOU MAY", "BREAK-GLASS");
	json_array_foreach(roles, i, v)
	{
		principals_join(
		    pr, sizeof(pr), json_object_get(v, "principals"));
		clean_copy(cpr, sizeof(cpr) < 25 ? sizeof(cpr) : 25, pr);
		clean_copy(name, 21, jstr(v, "name"));
		dur_short(mx, sizeof(mx), (uint64_t)jint(v, "max_ttl"));
		dur_short(df, sizeof(df), (uint64_t)jint(v, "default_ttl"));
		bg = json_object_get(v, "break_glass");
		if (json_is_object(bg))
			dur_short(
			    bgt, sizeof(bgt), (uint64_t)jint(bg, "max_ttl"));
		else
			snprintf(bgt, sizeof(bgt), "no");
		snprintf(you, sizeof(you), "%s%s%s",
		    json_is_true(json_object_get(v, "can_request")) ? "request"
								    : "",
		    json_is_true(json_object_get(v, "can_request")) &&
			    json_is_true(json_object_get(v, "can_approve"))
			? ","
			: "",
		    json_is_true(json_object_get(v, "can_approve")) ? "approve"
								    : "");
		printf("%-20s %-24s %-7s %-7s %-9lld %-15s %s\n", name, cpr, mx,
		    df, jint(v, "approvals_required"), you, bgt);
	}
	ex = 0;
out:
	json_decref(rep);
	capi_free(api);
	cconf_clear(&cf);
	free(detail);
	return ex;
}
