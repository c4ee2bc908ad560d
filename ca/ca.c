/*
 * ca.c: the small shared pieces of the CA context (ca.h): the clock, who
 * an actor is, and the sqlite/SHA-256 helpers request.c and revoke.c use.
 * No policy lives here; see request.c and revoke.c.
 */
#include <string.h>

#include <openssl/evp.h>

#include "ca/ca.h"

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
ca_sha256_hex(char out[65], const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	out[0] = '\0';
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md)) {
		err_crypto_set();
		return ERR_CRYPTO;
	}
	for (i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[64] = '\0';
	return 0;
}
