/*
 * client_fixture.h: shared helpers of the client unit tests: a real
 * ssh-agent on a socket in a temp dir (started with -D so the test owns
 * its pid), and certificates for an ephemeral key signed by a CA key made
 * with cakey_generate().  Header-only (static) so each test binary gets
 * its own copy.
 */
#ifndef JITCA_TEST_CLIENT_FIXTURE_H
#define JITCA_TEST_CLIENT_FIXTURE_H

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client/ephkey.h"
#include "signer/cakey.h"
#include "signer/cert.h"
#include "signer/pubkey.h"
#include "tests/lib/testutil.h"

struct fx_agent {
	pid_t pid;
	char *sock;
};

/* ssh-agent -D -a DIR/agent.sock; waits for the socket. */
static inline void
fx_agent_start(struct fx_agent *a, const char *dir)
{
	char *agent = tu_which("ssh-agent");
	struct stat st;
	int i;

	cr_assert_not_null(agent, "ssh-agent is not installed");
	a->sock = tu_fmt("%s/agent.sock", dir);
	a->pid = fork();
	cr_assert(a->pid >= 0);
	if (a->pid == 0) {
		char *argv[] = {agent, "-D", "-a", a->sock, NULL};
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(agent, argv);
		_exit(127);
	}
	for (i = 0; i < 500 && stat(a->sock, &st) != 0; i++)
		usleep(10000);
	cr_assert_eq(stat(a->sock, &st), 0, "ssh-agent did not start");
	free(agent);
}

static inline void
fx_agent_stop(struct fx_agent *a)
{
	if (a->pid > 0) {
		kill(a->pid, SIGTERM);
		waitpid(a->pid, NULL, 0);
	}
	a->pid = 0;
	free(a->sock);
	a->sock = NULL;
}

static inline int
fx_sign_cb(
    void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *tbs, size_t tbslen)
{
	return cakey_sign(ctx, sig, siglen, tbs, tbslen);
}

static inline struct pubkey *
fx_key_copy(const struct pubkey *k)
{
	struct pubkey *c = NULL;
	const uint8_t *b;
	size_t len;

	b = pubkey_blob(k, &len);
	cr_assert_eq(pubkey_from_blob(&c, b, len), 0);
	return c;
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
	c->key = fx_key_copy(subject);
	c->ca_key = fx_key_copy(cakey_public(ca));
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
