/*
 * status.c: `jitca status`: the jitca certificates in ssh-agent and in
 * ~/.ssh/jitca, with their role, principals and time left.  Only looks at
 * this machine.  Shared helpers: common.c.
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
#include "signer/base/cli.h"
#include "signer/base/num.h"
#include "signer/cert.h"
#include "signer/pubkey.h"

/* ---- status ---- */

static void
print_cert_row(
    const char *where, const char *name, const struct cert *c, uint64_t now)
{
	char left[32], pr[256];
	size_t i;

	pr[0] = '\0';
	for (i = 0; i < c->nprincipals; i++) {
		strncat(pr, i ? "," : "", sizeof(pr) - strlen(pr) - 1);
		strncat(pr, c->principals[i], sizeof(pr) - strlen(pr) - 1);
	}
	if (c->valid_before > now)
		cconf_format_duration(
		    left, sizeof(left), c->valid_before - now);
	else
		snprintf(left, sizeof(left), "expired");
	printf("%-6s %-24s %-24s %-8llu %s\n", where, name, pr,
	    (unsigned long long)c->serial, left);
}

static void
status_file(const char *dir, const char *role, void *ctx)
{
	char *path = cconf_fmt("%s/%s-cert.pub", dir, role), *text = NULL;
	struct cert *c = NULL;
	int *count = ctx;

	if (path != NULL &&
	    cconf_read_file(&text, NULL, path, PUBKEY_MAX_LINE) == 0 &&
	    cert_from_line(&c, text, strlen(text)) == 0) {
		print_cert_row("file", role, c, now_s());
		(*count)++;
	}
	cert_free(c);
	free(text);
	free(path);
}

int
cmd_status(const struct cli_parsed *p)
{
	struct cconf cf;
	struct agent *ag = NULL;
	struct agent_id *ids = NULL;
	struct cert *c = NULL;
	size_t n = 0, i;
	int r, count = 0, ex = JITCA_EXIT_FAIL;
	char name[64];

	memset(&cf, 0, sizeof(cf));
	if ((ex = local_setup(&cf)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	printf("%-6s %-24s %-24s %-8s %s\n", "WHERE", "NAME", "PRINCIPALS",
	    "SERIAL", "LEFT");
	if (agent_connect(&ag, NULL) == 0 &&
	    (r = agent_list(ag, &ids, &n)) == 0) {
		for (i = 0; i < n; i++) {
			if (strncmp(ids[i].comment, COMMENT_PREFIX,
				strlen(COMMENT_PREFIX)) != 0 ||
			    cert_from_blob(&c, ids[i].blob, ids[i].blob_len) !=
				0)
				continue;
			clean_copy(name, sizeof(name), ids[i].comment);
			print_cert_row("agent", name, c, now_s());
			cert_free(c);
			c = NULL;
			count++;
		}
	} else
		fprintf(stderr, "jitca: no ssh-agent to look in\n");
	(void)each_file(&cf, status_file, &count);
	if (count == 0)
		fprintf(stderr, "jitca: no jitca certificates\n");
	ex = 0;
out:
	agent_ids_free(ids, n);
	agent_close(ag);
	cconf_clear(&cf);
	return ex;
}
