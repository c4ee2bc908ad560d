/*
 * ca.c: the small shared pieces of the CA context (ca.h): the clock, who
 * an actor is, and SHA-256 for request.c, revoke.c and users.c.
 * No policy lives here; see request.c and revoke.c.
 */
#include <string.h>

#include "ca/ca.h"
#include "signer/base/sha256.h"
#include "signer/wire.h"

uint64_t
ca_now(const struct ca *ca)
{
	(void)ca;
	return ledger_now();
}

int
ca_actor_is_local(const struct ca_actor *a)
{
	size_t n = sizeof(CA_LOCAL_PREFIX) - 1;

	return a != NULL && a->name != NULL &&
	    strncmp(a->name, CA_LOCAL_PREFIX, n) == 0 && a->name[n] != '\0';
}

int
ca_actor_is_auditor(const struct ca *ca, const struct ca_actor *a)
{
	if (ca == NULL || ca->cfg == NULL || a == NULL)
		return 0;
	return config_groups_intersect(
	    a->groups, a->ngroups, ca->cfg->auditors, ca->cfg->nauditors);
}

int
ca_sign_cert(struct ca *ca, struct cert *c, const char *user, const char *role)
{
	if (ca == NULL || c == NULL)
		return ERR_INVALID_ARG;
	if (ca->sign_user != NULL)
		return ca->sign_user(ca->sign_ctx, c, user, role);
	if (ca->sign != NULL)
		return cert_sign(c, ca->sign, ca->sign_ctx);
	return ERR_INVALID_ARG;
}

int
ca_sign_host_cert(struct ca *ca, struct cert *c, const char *host)
{
	if (ca == NULL || c == NULL || host == NULL)
		return ERR_INVALID_ARG;
	if (ca->sign_host != NULL)
		return ca->sign_host(ca->sign_ctx, c, host);
	if (ca->sign != NULL)
		return cert_sign(c, ca->sign, ca->sign_ctx);
	return ERR_INVALID_ARG;
}

int
ca_sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char md[32];
	int r;

	out[0] = '\0';
	if ((r = sha256(md, data, len)) != 0)
		return r;
	wire_hex_encode(out, md, sizeof(md));
	return 0;
}
