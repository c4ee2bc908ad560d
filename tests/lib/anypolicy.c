/*
 * anypolicy.c: the allow-everything signer policy (anypolicy.h).
 */
#include "tests/lib/anypolicy.h"

#include <stdlib.h>

#include "signer/cert.h"

static int
any_load(void **state, struct cert_limits *lim, const char *arg)
{
	*state = NULL;
	lim->hard_max_ttl = 86400;
	lim->max_backdate = arg != NULL ? strtoull(arg, NULL, 10) : 300;
	return 0;
}

static int
any_check(const void *state, const char *user, const char *role,
    const struct cert *c, uint64_t now)
{
	(void)state;
	(void)user;
	(void)role;
	(void)c;
	(void)now;
	return 0;
}

static void
any_free(void *state)
{
	(void)state;
}

const struct signer_policy tu_any_policy = {any_load, any_check, any_free};
