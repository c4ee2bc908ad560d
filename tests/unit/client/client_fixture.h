/*
 * client_fixture.h: shared helpers of the client unit tests: a real
 * ssh-agent on a socket in a temp dir (started with -D so the test owns
 * its pid), and certificates for an ephemeral key signed by a CA key made
 * with cakey_generate().  Header-only (static) so each test binary gets
 * its own copy.
 */
#ifndef JITCA_TEST_CLIENT_FIXTURE_H
#define JITCA_TEST_CLIENT_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client/ephkey.h"
#include "signer/cakey.h"
#include "signer/cert.h"
#include "signer/pubkey.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

struct fx_agent {
	pid_t pid;
	char *sock;
};

/* ssh-agent -D -a DIR/agent.sock (tests/lib/proc.h); waits for the
 * socket. */
static inline void
fx_agent_start(struct fx_agent *a, const char *dir)
{
	a->sock = tu_fmt("%s/agent.sock", dir);
	a->pid = tu_agent_start(a->sock);
}

static inline void
fx_agent_stop(struct fx_agent *a)
{
	tu_stop(&a->pid);
	free(a->sock);
	a->sock = NULL;
}

static inline int
fx_sign_cb(
    void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *tbs, size_t tbslen)
{
	return cakey_sign(ctx, sig, siglen, tbs, tbslen);
}

/* A signed user certificate for subject with the given principals
 * (NULL-terminated) and validity; serial 7. */
static inline struct cert *
fx_cert(const struct cakey *ca, const struct pubkey *subject,
    const char *const *principals, uint64_t va, uint64_t vb)
{
	struct cert *c = cert_new();
	size_t i;

	cr_assert_not_null(c);
	c->key = tu_pubkey_copy(subject);
	c->ca_key = tu_pubkey_copy(cakey_public(ca));
	c->serial = 7;
	c->key_id = strdup("alice:fast:req-1:serial-7");
	c->valid_after = va;
	c->valid_before = vb;
	cr_assert_eq(cert_set_random_nonce(c), 0);
	for (i = 0; principals[i] != NULL; i++)
		cr_assert_eq(cert_add_principal(c, principals[i]), 0);
	cr_assert_eq(cert_add_extension(c, "permit-pty", NULL), 0);
	cr_assert_eq(cert_sign(c, fx_sign_cb, (void *)(uintptr_t)ca), 0);
	return c;
}

static inline uint64_t
fx_now(void)
{
	return (uint64_t)time(NULL);
}

#endif /* JITCA_TEST_CLIENT_FIXTURE_H */
