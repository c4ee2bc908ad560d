/*
 * sshconfig.c: `jitca ssh-config`: the lines to paste into ~/.ssh/config
 * for jitca certificates.  One Host block per role the user may request
 * (GET /v1/roles; with no server, the roles in ~/.ssh/jitca): with the
 * certificate in files (--no-agent logins) IdentitiesOnly, IdentityFile
 * and CertificateFile, so ssh offers exactly that key; with ssh-agent
 * nothing is needed but a comment saying so.  When the server has a host
 * CA key (GET /v1/ca "host_public_key"), hostca.c adds the
 * `@cert-authority` line for ~/.ssh/known_hosts and its Host block.  Prints
 * only; writes nothing.  Shared helpers: common.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "client/capi.h"
#include "client/cconf.h"
#include "client/jitca.h"
#include "signer/base/cli.h"

/* The block of one role. */
static void
role_block(const struct cconf *cf, const char *host, const char *role,
    json_t *principals)
{
	char *cert = cconf_fmt("%s/.ssh/jitca/%s-cert.pub", cf->home, role);
	char pr[512];
	struct stat st;

	if (cert == NULL)
		return;
	printf("# jitca role %s", role);
	if (principals != NULL) {
		principals_join(pr, sizeof(pr), principals);
		fputs(": log in as an account whose principals file lists ",
		    stdout);
		fput_clean(stdout, pr, sizeof(pr));
	}
	putchar('\n');
	if (stat(cert, &st) == 0) {
		printf("Host %s\n", host);
		printf("    IdentitiesOnly yes\n");
		printf("    IdentityFile ~/.ssh/jitca/%s\n", role);
		printf("    CertificateFile ~/.ssh/jitca/%s-cert.pub\n", role);
	} else
		printf("# (its certificate goes to ssh-agent: nothing to add; "
		       "after `jitca login --no-agent --role %s`, run this "
		       "again for the IdentityFile lines)\n",
		    role);
	putchar('\n');
	free(cert);
}

/* each_file's callback when the server cannot be asked. */
struct local_ctx {
	const struct cconf *cf;
	const char *host, *only;
};

static void
local_role(const char *dir, const char *role, void *ctx)
{
	struct local_ctx *lc = ctx;

	(void)dir;
	if (lc->only == NULL || strcmp(lc->only, role) == 0)
		role_block(lc->cf, lc->host, role, NULL);
}

int
cmd_sshconfig(const struct cli_parsed *p)
{
	struct opts o;
	struct cconf cf;
	struct capi *api = NULL;
	struct local_ctx lc;
	json_t *roles = NULL, *ca = NULL, *v;
	const char *host, *hk = NULL;
	char *krl = NULL;
	size_t i, shown = 0;
	int ex = JITCA_EXIT_FAIL;

	opts_from(&o, p);
	memset(&cf, 0, sizeof(cf));
	host = o.host != NULL ? o.host : "*";
	if (strpbrk(host, " \t\r\n\"") != NULL) {
		msg("--host: a pattern without spaces or quotes");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (o.role != NULL && !cconf_role_ok(o.role)) {
		msg("bad role name \"%s\"", o.role);
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if ((ex = connect_api(&o, &cf, &api)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	printf("# jitca: lines for ~/.ssh/config (server %s)\n\n", cf.server);
	if ((roles = roles_fetch(api)) == NULL) {
		msg("cannot list the server's roles: showing the roles in "
		    "~/.ssh/jitca only");
		lc.cf = &cf;
		lc.host = host;
		lc.only = o.role;
		(void)each_file(&cf, local_role, &lc);
	} else {
		json_array_foreach(roles, i, v)
		{
			if (!json_is_true(json_object_get(v, "can_request")) ||
			    !cconf_role_ok(jstr(v, "name")) ||
			    (o.role != NULL &&
				strcmp(o.role, jstr(v, "name")) != 0))
				continue;
			role_block(&cf, host, jstr(v, "name"),
			    json_object_get(v, "principals"));
			shown++;
		}
		if (o.role != NULL && shown == 0) {
			msg("you may not request a role \"%s\" (jitca roles)",
			    o.role);
			goto out;
		}
	}
	if (capi_call(api, "GET", "/v1/ca", NULL, 0, NULL, &ca, NULL) == 0 &&
	    (hk = json_string_value(json_object_get(ca, "host_public_key"))) !=
		NULL &&
	    json_array_size(json_object_get(ca, "host_domains")) == 0)
		printf("# the server has a host CA but names no host_domains "
		       "(jitca.json): no @cert-authority line\n");
	else if (hk != NULL) {
		/* The host CA: the known_hosts line and its Host block. */
		if ((krl = cconf_fmt("%s/revoked.krl", cf.dir)) == NULL)
			goto out;
		if ((ex = sshconfig_host_ca(stdout, ca, krl)) != 0)
			goto out;
	} else
		printf("# no host CA yet: host keys are checked through "
		       "~/.ssh/known_hosts as usual\n");
	ex = 0;
out:
	json_decref(roles);
	json_decref(ca);
	capi_free(api);
	cconf_clear(&cf);
	free(krl);
	return ex;
}
