/*
 * test_agent.c: the ssh-agent client (client/agent.c) against a real
 * ssh-agent (draft-miller-ssh-agent: ADD_IDENTITY, ADD_ID_CONSTRAINED,
 * REMOVE_IDENTITY): add a key with its certificate and a lifetime, list,
 * remove, expiry by lifetime, the agent's refusal of a certificate whose
 * signature is broken, and a fake agent that answers nonsense.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "client/agent.h"
#include "tests/unit/client/client_fixture.h"

static char *dir;
static struct fx_agent ag;
static struct ephkey *key;
static struct cakey *ca;
static const char *pr[] = {"alice", NULL};

static void
setup(void)
{
	dir = tu_tmpdir();
	fx_agent_start(&ag, dir);
	cr_assert_eq(ephkey_generate(&key), 0);
	cr_assert_eq(cakey_generate(&ca, KEY_ED25519), 0);
}

static void
teardown(void)
{
	fx_agent_stop(&ag);
	ephkey_free(key);
	cakey_free(ca);
	tu_rmtree(dir);
	free(dir);
}

TestSuite(agent, .init = setup, .fini = teardown);

static size_t
count_ids(struct agent *a)
{
	struct agent_id *ids = NULL;
	size_t n = 0;

	cr_assert_eq(agent_list(a, &ids, &n), 0);
	agent_ids_free(ids, n);
	return n;
}

Test(agent, no_agent)
{
	struct agent *a = NULL;
	char *missing = tu_fmt("%s/nothing.sock", dir);

	unsetenv("SSH_AUTH_SOCK");
	cr_assert_eq(agent_connect(&a, NULL), ERR_NO_AGENT);
	cr_assert_eq(agent_connect(&a, missing), ERR_NO_AGENT);
	setenv("SSH_AUTH_SOCK", "", 1);
	cr_assert_eq(agent_connect(&a, NULL), ERR_NO_AGENT);
	cr_assert_null(a);
	free(missing);
}

Test(agent, add_list_remove_certificate)
{
	struct agent *a = NULL;
	struct agent_id *ids = NULL;
	struct cert *c;
	char *out = NULL, *cmd;
	size_t n = 0;

	c = fx_cert(ca, ephkey_public(key), pr, fx_now() - 60, fx_now() + 600);
	setenv("SSH_AUTH_SOCK", ag.sock, 1);
	cr_assert_eq(agent_connect(&a, NULL), 0);
	cr_assert_eq(count_ids(a), 0);
	cr_assert_eq(agent_add(a, key, c, "jitca:fast:7", 600), 0);
	cr_assert_eq(agent_list(a, &ids, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(ids[0].comment, "jitca:fast:7");
	cr_assert_eq(ids[0].blob_len, c->blob_len);
	cr_assert_eq(memcmp(ids[0].blob, c->blob, c->blob_len), 0);
	agent_ids_free(ids, n);
	/* The real ssh-add sees a certificate. */
	cmd = tu_fmt("SSH_AUTH_SOCK='%s' ssh-add -l", ag.sock);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	cr_assert(
	    strstr(out, "jitca:fast:7 (ED25519-CERT)\n") != NULL, "%s", out);
	cr_assert_eq(agent_remove(a, c->blob, c->blob_len), 0);
	cr_assert_eq(agent_remove(a, c->blob, c->blob_len), ERR_NOT_FOUND);
	cr_assert_eq(count_ids(a), 0);
	agent_close(a);
	cert_free(c);
	free(cmd);
	free(out);
}

Test(agent, plain_key_without_constraint)
{
	struct agent *a = NULL;
	const uint8_t *b;
	size_t len;

	cr_assert_eq(agent_connect(&a, ag.sock), 0);
	cr_assert_eq(agent_add(a, key, NULL, "plain", 0), 0);
	cr_assert_eq(count_ids(a), 1);
	b = pubkey_blob(ephkey_public(key), &len);
	cr_assert_eq(agent_remove(a, b, len), 0);
	cr_assert_eq(count_ids(a), 0);
	agent_close(a);
}

Test(agent, lifetime_expires)
{
	struct agent *a = NULL;
	struct cert *c;
	time_t t0;

	c = fx_cert(ca, ephkey_public(key), pr, fx_now() - 60, fx_now() + 600);
	cr_assert_eq(agent_connect(&a, ag.sock), 0);
	t0 = time(NULL);
	cr_assert_eq(agent_add(a, key, c, "jitca:fast:7", 3), 0);
	cr_assert_eq(count_ids(a), 1);
	/* Gone by itself after its 3 s lifetime, not before (polled: the
	 * machine may be loaded). */
	while (count_ids(a) != 0 && time(NULL) - t0 < 15)
		usleep(100 * 1000);
	cr_assert_eq(count_ids(a), 0);
	cr_assert_geq(time(NULL) - t0, 2);
	agent_close(a);
	cert_free(c);
}

Test(agent, refuses_broken_certificate)
{
	struct agent *a = NULL;
	struct cert *c;

	c = fx_cert(ca, ephkey_public(key), pr, fx_now() - 60, fx_now() + 600);
	c->blob[c->blob_len - 3] ^= 0x40; /* the CA signature */
	cr_assert_eq(agent_connect(&a, ag.sock), 0);
	cr_assert_eq(agent_add(a, key, c, "jitca:fast:7", 60), ERR_AGENT);
	cr_assert_eq(count_ids(a), 0);
	agent_close(a);
	cert_free(c);
}

/* A one-shot fake agent on path that reads one request and sends reply. */
static pid_t
fake_agent(const char *path, const void *reply, size_t len)
{
	struct sockaddr_un sun;
	int s, c;
	pid_t pid;
	char buf[4096];

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert(s >= 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(s, 1), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		c = accept(s, NULL, NULL);
		if (c >= 0 && read(c, buf, sizeof(buf)) > 0 &&
		    write(c, reply, len) == (ssize_t)len)
			usleep(200 * 1000);
		_exit(0);
	}
	close(s);
	return pid;
}

Test(agent, nonsense_replies)
{
	static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 12};
	static const uint8_t wrong[] = {0, 0, 0, 1, 99};
	static const uint8_t count[] = {0, 0, 0, 5, 12, 0, 0, 0, 2};
	static const uint8_t trailing[] = {0, 0, 0, 2, 6, 0};
	const struct {
		const uint8_t *p;
		size_t len;
		int list; /* 1: REQUEST_IDENTITIES, 0: REMOVE */
	} cases[] = {{huge, sizeof(huge), 1}, {wrong, sizeof(wrong), 1},
	    {count, sizeof(count), 1}, {trailing, sizeof(trailing), 0},
	    {wrong, sizeof(wrong), 0}};
	size_t i, n;
	struct agent_id *ids;
	uint8_t blob[4] = {0, 0, 0, 0};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = tu_fmt("%s/fake%zu.sock", dir, i);
		struct agent *a = NULL;
		pid_t pid = fake_agent(path, cases[i].p, cases[i].len);

		cr_assert_eq(agent_connect(&a, path), 0);
		if (cases[i].list)
			cr_assert_eq(
			    agent_list(a, &ids, &n), ERR_AGENT, "case %zu", i);
		else
			cr_assert_eq(agent_remove(a, blob, sizeof(blob)),
			    ERR_AGENT, "case %zu", i);
		agent_close(a);
		waitpid(pid, NULL, 0);
		free(path);
	}
}
