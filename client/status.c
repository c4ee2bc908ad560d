/*
 * status.c: `jitca status`: the jitca certificates in ssh-agent and in
 * ~/.ssh/jitca, with their role, principals and time left, and whether
 * the server has revoked them (GET /v1/requests/ID of the request named
 * in the key id; "local only" when the server cannot be asked), as a
 * table or --json; --prune deletes expired certificate files and their
 * keys.  Shared helpers: common.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client/agent.h"
#include "client/capi.h"
#include "client/cconf.h"
#include "client/jitca.h"
#include "signer/base/cli.h"
#include "signer/cert.h"
#include "signer/pubkey.h"

struct status_ctx {
	struct capi *api; /* NULL: local only */
	json_t *rows; /* the --json array */
	int json, prune, count, failed, asked_fail;
};

/* "revoked", "valid", "expired" or "local only" (server not asked). */
static const char *
cert_status(struct status_ctx *sc, const struct cert *c, uint64_t now)
{
	char role[80], path[64];
	long long req;
	json_t *q = NULL;
	const char *st = "local only";

	if (c->valid_before <= now)
		return "expired";
	if (sc->api == NULL || c->key_id == NULL ||
	    key_id_parse(c->key_id, role, sizeof(role), &req) != 0)
		return st;
	snprintf(path, sizeof(path), "/v1/requests/%lld", req);
	if (capi_call(sc->api, "GET", path, NULL, 1, NULL, &q, NULL) != 0) {
		sc->asked_fail = 1;
		return st;
	}
	/* The request's certificate must be this one. */
	if (jint(q, "serial") != (long long)c->serial)
		st = "local only";
	else if (strcmp(jstr(q, "state"), "revoked") == 0 ||
	    json_object_get(q, "revoked") != NULL)
		st = "revoked";
	else
		st = "valid";
	json_decref(q);
	return st;
}

static void
cert_row(struct status_ctx *sc, const char *where, const char *name,
    const struct cert *c)
{
	char left[32], pr[256];
	const char *st;
	uint64_t now = now_s();
	size_t i, o = 0;
	json_t *row, *arr;
	int n;

	st = cert_status(sc, c, now);
	pr[0] = '\0';
	for (i = 0; i < c->nprincipals; i++) {
		n = snprintf(pr + o, sizeof(pr) - o, "%s%s", i ? "," : "",
		    c->principals[i]);
		if (n < 0 || (size_t)n >= sizeof(pr) - o)
			break;
		o += (size_t)n;
	}
	if (c->valid_before > now)
		cconf_format_duration(
		    left, sizeof(left), c->valid_before - now);
	else
		snprintf(left, sizeof(left), "-");
	sc->count++;
	if (!sc->json) {
		printf("%-6s %-24s %-24s %-8llu %-9s %s\n", where, name, pr,
		    (unsigned long long)c->serial, left, st);
		return;
	}
	if ((arr = json_array()) == NULL)
		return;
	for (i = 0; i < c->nprincipals; i++)
		(void)json_array_append_new(arr, json_string(c->principals[i]));
	row = json_pack("{s:s, s:s, s:s?, s:o, s:I, s:I, s:I, s:s}", "where",
	    where, "name", name, "key_id", c->key_id, "principals", arr,
	    "serial", (json_int_t)c->serial, "valid_after",
	    (json_int_t)c->valid_after, "valid_before",
	    (json_int_t)c->valid_before, "status", st);
	if (row != NULL)
		(void)json_array_append_new(sc->rows, row);
}

static void
status_file(const char *dir, const char *role, void *ctx)
{
	struct status_ctx *sc = ctx;
	char *path = cconf_fmt("%s/%s-cert.pub", dir, role), *text = NULL;
	char *key = cconf_fmt("%s/%s", dir, role);
	struct cert *c = NULL;

	if (path != NULL && key != NULL &&
	    cconf_read_file(&text, NULL, path, PUBKEY_MAX_LINE) == 0 &&
	    cert_from_line(&c, text, strlen(text)) == 0) {
		if (sc->prune && c->valid_before <= now_s()) {
			if ((unlink(path) != 0 && errno != ENOENT) ||
			    (unlink(key) != 0 && errno != ENOENT)) {
				msg("cannot remove %s: %s", path,
				    strerror(errno));
				sc->failed++;
			} else
				msg("deleted the expired %s and its key", path);
		} else
			cert_row(sc, "file", role, c);
	}
	cert_free(c);
	free(text);
	free(path);
	free(key);
}

int
cmd_status(const struct cli_parsed *p)
{
	struct opts o;
	struct cconf cf;
	struct status_ctx sc;
	struct agent *ag = NULL;
	struct agent_id *ids = NULL;
	struct cert *c = NULL;
	char *bad = NULL, name[64];
	size_t n = 0, i;
	int r, ex = JITCA_EXIT_FAIL, have_agent;

	opts_from(&o, p);
	memset(&cf, 0, sizeof(cf));
	memset(&sc, 0, sizeof(sc));
	sc.json = o.json;
	sc.prune = o.prune;
	if ((r = cconf_load(&cf, o.server, o.token_file, o.ca_bundle, &bad)) !=
	    0) {
		msg("%s", bad != NULL ? bad : err_str(r));
		free(bad);
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	/* Revocation is the server's to say; without one, local only. */
	if (cf.server != NULL && cf.token != NULL &&
	    capi_new(&sc.api, cf.server, cf.token, cf.ca_bundle) != 0)
		sc.api = NULL;
	if (sc.json && (sc.rows = json_array()) == NULL)
		goto out;
	if (!sc.json)
		printf("%-6s %-24s %-24s %-8s %-9s %s\n", "WHERE", "NAME",
		    "PRINCIPALS", "SERIAL", "LEFT", "STATUS");
	have_agent =
	    agent_connect(&ag, NULL) == 0 && agent_list(ag, &ids, &n) == 0;
	for (i = 0; have_agent && i < n; i++) {
		if (strncmp(ids[i].comment, COMMENT_PREFIX,
			strlen(COMMENT_PREFIX)) != 0 ||
		    cert_from_blob(&c, ids[i].blob, ids[i].blob_len) != 0)
			continue;
		clean_copy(name, sizeof(name), ids[i].comment);
		cert_row(&sc, "agent", name, c);
		cert_free(c);
		c = NULL;
	}
	if (!have_agent)
		msg("no ssh-agent to look in");
	(void)each_file(&cf, status_file, &sc);
	if (sc.json) {
		if (json_dumpf(sc.rows, stdout, JSON_INDENT(2)) != 0)
			goto out;
		putchar('\n');
	}
	if (sc.count == 0)
		msg("no jitca certificates");
	else if (sc.api == NULL)
		msg("local only: no server or token configured, so "
		    "revocation was not checked");
	else if (sc.asked_fail)
		msg("local only: the server could not be asked (%s), so "
		    "revocation was not checked for some",
		    capi_server(sc.api));
	ex = sc.failed > 0 ? JITCA_EXIT_FAIL : 0;
out:
	agent_ids_free(ids, n);
	agent_close(ag);
	capi_free(sc.api);
	json_decref(sc.rows);
	cconf_clear(&cf);
	return ex;
}
