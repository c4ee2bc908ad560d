/*
 * logout.c: `jitca logout`: removes the jitca certificates from ssh-agent
 * and deletes their files in ~/.ssh/jitca, then ends each cached session
 * at its server (DELETE /v1/session) and deletes its file.  Needs no
 * configured server: a session's file names its own.  Shared helpers:
 * common.c.
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

/* What end_session() needs and counts. */
struct ending {
	const struct cconf *cf;
	uint64_t now;
	int failed;
};

/*
 * Sign out of one cached session at its server before its file goes, so
 * that a copy of the token stops working too.  jitca's 401 bad_token or
 * user_disabled means the server no longer takes it (ended, expired, or
 * its user disabled): nothing left to end.  Another 401 (a proxy's, or
 * missing_token when a proxy dropped the header) is a failure.  Any other
 * failure leaves the token valid until it expires, which the line says.
 */
static void
end_session(void *ctx, const char *server, const struct session *s)
{
	struct ending *e = ctx;
	struct capi *api = NULL;
	json_t *rep = NULL;
	char srv[256], user[128], why[512], when[64], *m = NULL;
	const char *reason;
	long status = 0;
	size_t n;
	int r;

	if (server == NULL || s == NULL)
		return; /* unusable: only the file goes */
	clean_copy(srv, sizeof(srv), server);
	clean_copy(user, sizeof(user), s->user);
	if (s->expires_at <= e->now) {
		printf("the session of %s on %s had expired\n", user, srv);
		return;
	}
	if ((r = capi_new(&api, server, s->token, e->cf->ca_bundle)) == 0)
		r = capi_call(
		    api, "DELETE", "/v1/session", NULL, 1, &status, &rep, &m);
	if (r == 0)
		printf("ended the session of %s on %s\n", user, srv);
	else if (status == 401 &&
	    (strcmp(capi_error_code(api), "bad_token") == 0 ||
		strcmp(capi_error_code(api), "user_disabled") == 0))
		printf(
		    "the session of %s on %s was already ended\n", user, srv);
	else {
		/* An unreachable server's reason starts with its URL: once
		 * is enough. */
		reason = m != NULL && *m != '\0' ? m : err_str(r);
		n = api != NULL ? strlen(capi_server(api)) : 0;
		if (n > 0 && strncmp(reason, capi_server(api), n) == 0 &&
		    strncmp(reason + n, ": ", 2) == 0)
			reason += n + 2;
		clean_copy(why, sizeof(why), reason);
		fmt_local(when, sizeof(when), s->expires_at);
		msg("could not end the session on %s: %s; removed it here only "
		    "(it expires at %s)",
		    srv, why, when);
		e->failed++;
	}
	json_decref(rep);
	free(m);
	capi_free(api);
}

/* A session file that could not be deleted: its token is still there. */
static void
session_undeleted(void *ctx, const char *path, int err)
{
	struct ending *e = ctx;

	msg("cannot delete %s: %s", path, strerror(err));
	e->failed++;
}

int
cmd_logout(const struct cli_parsed *p)
{
	struct cconf cf;
	struct agent *ag = NULL;
	struct ending end;
	int r, failed = 0, ex = JITCA_EXIT_FAIL;

	memset(&cf, 0, sizeof(cf));
	if ((ex = local_setup(&cf, p)) != 0)
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
	end.cf = &cf;
	end.now = now_s();
	end.failed = 0;
	r = session_remove_each(cf.home, end_session, session_undeleted, &end);
	failed += end.failed;
	if (r < 0) {
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
