/*
 * signpolicy.c: signpolicy.h, the signer child's role checks over its own
 * struct config (ca/config.h: config_load, config_role,
 * config_role_principals).  Runs only in the signer process; prints
 * nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "ca/config.h"
#include "ca/request.h"
#include "ca/signpolicy.h"

static int
sp_load(void **state, struct cert_limits *lim, const char *state_dir)
{
	struct config *cfg = NULL;
	int r;

	*state = NULL;
	if (state_dir == NULL)
		return ERR_INVALID_ARG;
	if ((r = config_load(&cfg, state_dir, NULL)) != 0)
		return r;
	lim->hard_max_ttl = cfg->hard_max_ttl;
	lim->max_backdate = cfg->backdate;
	lim->host_max_ttl = cfg->host_max_ttl;
	*state = cfg;
	return 0;
}

static void
sp_free(void *state)
{
	config_free(state);
}

/* 1 when o (n entries) has name with the same value (NULL: a flag). */
static int
opt_has(const struct cert_option *o, size_t n, const struct cert_option *want)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(o[i].name, want->name) != 0)
			continue;
		if (o[i].value == NULL || want->value == NULL)
			return o[i].value == want->value;
		return strcmp(o[i].value, want->value) == 0;
	}
	return 0;
}

static int
sp_check(const void *state, const char *user, const char *role,
    const struct cert *c, uint64_t now)
{
	const struct config *cfg = state;
	const struct role *ro;
	char **allowed = NULL;
	size_t nallowed = 0, i, j, ulen, rlen;
	int r = ERR_INTERNAL;

	ENSURE(cfg != NULL && user != NULL && role != NULL && c != NULL,
	    ERR_INVALID_ARG);
	ENSURE((ro = config_role(cfg, role)) != NULL, ERR_SIGNER_NO_ROLE);
	/* Key ids are USER:ROLE:req-ID:serial-N (the ledger's record). */
	ulen = strlen(user);
	rlen = strlen(role);
	ENSURE(c->key_id != NULL && strncmp(c->key_id, user, ulen) == 0 &&
		c->key_id[ulen] == ':' &&
		strncmp(c->key_id + ulen + 1, role, rlen) == 0 &&
		c->key_id[ulen + 1 + rlen] == ':',
	    ERR_SIGNER_KEY_ID);
	ENSURE(c->nprincipals > 0, ERR_CERT_NO_PRINCIPALS);
	TRY(config_role_principals(ro, user, &allowed, &nallowed));
	for (i = 0; i < c->nprincipals; i++) {
		for (j = 0; j < nallowed; j++) {
			if (strcmp(c->principals[i], allowed[j]) == 0)
				break;
		}
		ENSURE(j < nallowed, ERR_PRINCIPAL_NOT_ALLOWED);
	}
	/* The CA stamps valid_before = its now + ttl a moment earlier. */
	ENSURE(c->valid_before <= now + ro->max_ttl + SIGNER_CLOCK_SLACK,
	    ERR_TTL_TOO_LONG);
	/* Dropping a critical option (source-address) widens access; a
	 * missing extension only narrows it. */
	ENSURE(c->ncritical == ro->ncritical, ERR_SIGNER_OPTIONS);
	for (i = 0; i < c->ncritical; i++)
		ENSURE(opt_has(ro->critical, ro->ncritical, &c->critical[i]),
		    ERR_SIGNER_OPTIONS);
	for (i = 0; i < c->nextensions; i++) {
		/* The break-glass mark: only for a role that allows
		 * break-glass, and only as short as it says. */
		if (strcmp(c->extensions[i].name, REQUEST_BREAK_GLASS_EXT) ==
		    0) {
			ENSURE(ro->break_glass_ttl > 0 &&
				c->extensions[i].value == NULL,
			    ERR_SIGNER_OPTIONS);
			ENSURE(c->valid_before <=
				now + ro->break_glass_ttl + SIGNER_CLOCK_SLACK,
			    ERR_TTL_TOO_LONG);
			continue;
		}
		ENSURE(
		    opt_has(ro->extensions, ro->nextensions, &c->extensions[i]),
		    ERR_SIGNER_OPTIONS);
	}
	r = 0;
out:
	config_strv_free(allowed, nallowed);
	return r;
}

const struct signer_policy signpolicy_ops = {sp_load, sp_check, sp_free};
