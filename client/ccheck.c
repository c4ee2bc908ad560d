/*
 * ccheck.c: checks a returned certificate against what was asked
 * (ccheck.h).  Works with signer/cert.c (parsing, signature check) and
 * signer/pubkey.c (key comparison).  It does not print.
 */
#include <string.h>

#include "client/ccheck.h"
#include "signer/cert.h"
#include "signer/pubkey.h"

static int
has(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

int
ccheck_cert(struct cert **out, const char *line, const struct pubkey *ca,
    const struct pubkey *key, char *const *want, size_t nwant, uint64_t ttl,
    uint64_t now)
{
	struct cert *c = NULL;
	size_t i;
	int r = ERR_INTERNAL;

	if (out == NULL || line == NULL || ca == NULL || key == NULL ||
	    (nwant > 0 && want == NULL))
		return ERR_INVALID_ARG;
	*out = NULL;
	if ((r = cert_from_line(&c, line, strlen(line))) != 0)
		goto out;
	ENSURE(c->type == CERT_TYPE_USER, ERR_CERT_NOT_USER);
	ENSURE(c->ca_key != NULL && pubkey_equal(c->ca_key, ca),
	    ERR_CERT_WRONG_CA);
	ENSURE(c->key != NULL && pubkey_equal(c->key, key), ERR_CERT_WRONG_KEY);
	ENSURE(c->nprincipals > 0 && nwant > 0, ERR_CERT_UNEXPECTED);
	for (i = 0; i < c->nprincipals; i++)
		ENSURE(has(want, nwant, c->principals[i]), ERR_CERT_UNEXPECTED);
	for (i = 0; i < nwant; i++)
		ENSURE(has(c->principals, c->nprincipals, want[i]),
		    ERR_CERT_UNEXPECTED);
	ENSURE(c->valid_before > c->valid_after, ERR_CERT_UNEXPECTED);
	ENSURE(c->valid_before > now, ERR_CERT_VALIDITY);
	ENSURE(c->valid_after <= now + CCHECK_SKEW, ERR_CERT_UNEXPECTED);
	ENSURE(c->valid_before <= now + ttl + CCHECK_SKEW, ERR_CERT_UNEXPECTED);
	*out = c;
	c = NULL;
	r = 0;
out:
	cert_free(c);
	return r;
}
