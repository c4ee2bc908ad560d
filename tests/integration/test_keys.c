/*
 * test_keys.c: the signer's three keys with the real programs: `jitcad
 * init` ($JITCAD) makes the user CA, host CA and ledger keys, `jitcad
 * ca-key --host / --ledger [--allowed-signers]` prints them, `jitcad init
 * --add-keys` completes a state directory from before them, on which
 * `jitcad serve` runs and says how to add them; the signer
 * process over its real socket, on that state directory with
 * ca/signpolicy.c, signs
 *   - a host certificate that `ssh-keygen -L` shows as one, that a real
 *     sshd presents (HostCertificate) and that a real `ssh -o
 *     StrictHostKeyChecking=yes` accepts with nothing but an
 *     @cert-authority line for the host CA in known_hosts (and refuses
 *     with one for the user CA), with a user certificate from the same
 *     signer for the login;
 *   - a checkpoint and a KRL signature that `ssh-keygen -Y verify`
 *     accepts under their namespaces with the allowed_signers line
 *     `jitcad ca-key --ledger --allowed-signers` prints, and refuses under
 *     the other namespace or for changed bytes;
 * and refuses a user-CA body, a user certificate and a validity over the
 * configured ca.host_max_ttl through SIGN_HOST, and bytes that are not a
 * KRL through SIGN_KRL.  Uses tests/lib/sshd.h, proc.h, testutil.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ca/signpolicy.h"
#include "signer/cert.h"
#include "signer/pubkey.h"
#include "signer/signer.h"
#include "tests/lib/jitcad.h"
#include "tests/lib/proc.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

static char *dir, *state;
static struct signer *sg;

static void
setup(void)
{
	tu_scratch(&dir, &state, NULL);
}

static void
teardown(void)
{
	signer_stop(sg);
	sg = NULL;
	tu_scratch_free(&dir, &state, NULL);
}

TestSuite(keys, .init = setup, .fini = teardown, .timeout = 120);

static char *
state_file(const char *name)
{
	return tu_fmt("%s/%s", state, name);
}

/* The key file is a regular file of mode 0600 and its public line's type
 * is want. */
static void
expect_key(const char *file, const char *line, const char *want)
{
	char *p = state_file(file);
	struct stat st;

	cr_assert_eq(stat(p, &st), 0, "%s", p);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "%s: %o", p, st.st_mode);
	cr_assert_eq(strncmp(line, want, strlen(want)), 0, "%s", line);
	free(p);
}

Test(keys, init_makes_three_distinct_keys)
{
	char *ca, *host, *ledger, *allowed, *want, *out = NULL, *err = NULL;
	char *a, *b;

	free(tu_jitcad_ok(state, "init --ca-key-type ecdsa-p256"));
	ca = tu_jitcad_ok(state, "ca-key");
	host = tu_jitcad_ok(state, "ca-key --host");
	ledger = tu_jitcad_ok(state, "ca-key --ledger");
	allowed = tu_jitcad_ok(state, "ca-key --ledger --allowed-signers");
	/* The host CA has the user CA's type; the ledger is Ed25519. */
	expect_key("ca_key.pem", ca, "ecdsa-sha2-nistp256 ");
	expect_key("host_ca_key.pem", host, "ecdsa-sha2-nistp256 ");
	expect_key("ledger_key.pem", ledger, "ssh-ed25519 ");
	cr_assert_not_null(strstr(host, " jitca-host-ca"), "%s", host);
	cr_assert_not_null(strstr(ledger, " jitca-ledger"), "%s", ledger);
	/* Three keys, not one printed three times. */
	cr_assert_str_neq(ca, host);
	a = tu_read_file(tu_keep(state_file("ca_key.pem")), NULL);
	b = tu_read_file(tu_keep(state_file("host_ca_key.pem")), NULL);
	cr_assert(a != NULL && b != NULL);
	cr_assert_str_neq(a, b);
	free(a);
	free(b);
	/* ledger@jitca namespaces="checkpoint@jitca,krl@jitca" KEY. */
	*strrchr(ledger, ' ') = '\0';
	want = tu_fmt("ledger@jitca namespaces=\"checkpoint@jitca,krl@jitca\" "
		      "%s",
	    ledger);
	cr_assert_str_eq(allowed, want);
	free(want);
	/* --allowed-signers is the ledger key's; --host with --ledger is
	 * nothing. */
	cr_assert_eq(
	    tu_jitcad(state, "ca-key --allowed-signers", &out, &err), 2);
	free(out);
	free(err);
	cr_assert_eq(tu_jitcad(state, "ca-key --host --ledger", &out, &err), 2);
	free(out);
	free(err);
	free(ca);
	free(host);
	free(ledger);
	free(allowed);
	tu_keep_free();
}

Test(keys, add_keys_completes_an_old_state_dir)
{
	static const char *const newer[] = {
	    "host_ca_key.pem", "host_ca.pub", "ledger_key.pem", "ledger.pub"};
	char *ca, *ca2, *host, *out = NULL, *err = NULL;
	size_t i;

	free(tu_jitcad_ok(state, "init --ca-key-type ecdsa-p384"));
	ca = tu_jitcad_ok(state, "ca-key");
	/* What a state directory made before the host CA and ledger keys
	 * looks like. */
	for (i = 0; i < sizeof(newer) / sizeof(newer[0]); i++)
		cr_assert_eq(unlink(tu_keep(state_file(newer[i]))), 0);
	cr_assert_eq(tu_jitcad(state, "ca-key --host", &out, &err), 1);
	cr_assert_not_null(strstr(err, "jitcad init --add-keys"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(tu_jitcad(state, "init", &out, &err), 1);
	cr_assert_not_null(strstr(err, "--add-keys"), "%s", err);
	free(out);
	free(err);
	free(tu_jitcad_ok(state, "init --add-keys"));
	ca2 = tu_jitcad_ok(state, "ca-key");
	cr_assert_str_eq(ca, ca2);
	host = tu_jitcad_ok(state, "ca-key --host");
	expect_key("host_ca_key.pem", host, "ecdsa-sha2-nistp384 ");
	free(host);
	host = tu_jitcad_ok(state, "ca-key --ledger");
	expect_key("ledger_key.pem", host, "ssh-ed25519 ");
	free(host);
	/* Nothing is replaced the second time. */
	cr_assert_eq(tu_jitcad(state, "init --add-keys", &out, &err), 0);
	cr_assert_not_null(strstr(err, "already holds every key"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(tu_jitcad(state, "init --add-keys", &out, &err), 0);
	free(out);
	free(err);
	/* A directory without any CA key is no place for --add-keys. */
	cr_assert_eq(tu_jitcad(tu_keep(tu_fmt("%s/empty", dir)),
			 "init --add-keys", &out, &err),
	    1);
	cr_assert_not_null(strstr(err, "holds no CA key"), "%s", err);
	free(out);
	free(err);
	free(ca);
	free(ca2);
	tu_keep_free();
}

Test(keys, serve_runs_on_an_old_state_dir)
{
	char *log = tu_fmt("%s/serve.log", dir), *url, *text;
	pid_t pid = -1;

	free(tu_jitcad_ok(state, "init"));
	cr_assert_eq(unlink(tu_keep(state_file("host_ca_key.pem"))), 0);
	cr_assert_eq(unlink(tu_keep(state_file("ledger_key.pem"))), 0);
	url = tu_serve_start(state, log, NULL, NULL, &pid);
	text = tu_read_file(log, NULL);
	cr_assert_not_null(text);
	cr_assert_not_null(
	    strstr(text, "jitcad serve: no host CA key "), "%s", text);
	cr_assert_not_null(
	    strstr(text, "jitcad serve: no ledger key "), "%s", text);
	cr_assert_not_null(
	    strstr(text, "(jitcad init --add-keys makes it)"), "%s", text);
	tu_stop(&pid);
	free(text);
	free(url);
	free(log);
	/* With every key: no such message. */
	free(tu_jitcad_ok(state, "init --add-keys"));
	log = tu_fmt("%s/serve2.log", dir);
	url = tu_serve_start(state, log, NULL, NULL, &pid);
	text = tu_read_file(log, NULL);
	cr_assert_not_null(text);
	cr_assert_null(strstr(text, "--add-keys"), "%s", text);
	tu_stop(&pid);
	free(text);
	free(url);
	free(log);
	tu_keep_free();
}

/* The signer on the state directory's three keys, as jitcad starts it. */
static void
start_signer(void)
{
	struct signer_params sp;
	char *k = state_file("ca_key.pem"), *h = state_file("host_ca_key.pem");
	char *l = state_file("ledger_key.pem");

	memset(&sp, 0, sizeof(sp));
	sp.key_path = k;
	sp.host_key_path = h;
	sp.ledger_key_path = l;
	sp.policy = &signpolicy_ops;
	sp.policy_arg = state;
	cr_assert_eq(signer_start(&sg, &sp), 0);
	cr_assert_not_null(signer_public_host(sg));
	cr_assert_not_null(signer_public_ledger(sg));
	free(k);
	free(h);
	free(l);
}

/* A host certificate body for key (host "testhost"). */
static struct cert *
host_cert(const struct pubkey *key, const struct pubkey *ca, uint64_t ttl)
{
	struct cert *c = cert_new();
	uint64_t now = (uint64_t)time(NULL);

	cr_assert_not_null(c);
	c->key = tu_pubkey_copy(key);
	c->ca_key = tu_pubkey_copy(ca);
	cr_assert_eq(cert_set_random_nonce(c), 0);
	c->serial = 1;
	c->type = CERT_TYPE_HOST;
	c->key_id = strdup("testhost:serial-1");
	cr_assert_eq(cert_add_principal(c, "127.0.0.1"), 0);
	cr_assert_eq(cert_add_principal(c, "localhost"), 0);
	c->valid_after = now - 60;
	c->valid_before = now + ttl;
	return c;
}

/* sshd_host_cert_fn: the signer certifies sshd's host key. */
static void
make_host_cert(void *ctx, const char *host_pub, const char *cert_path)
{
	char *text = tu_read_file(host_pub, NULL), *line = NULL, *cmd;
	char *out = NULL;
	struct pubkey *k = NULL;
	struct cert *c;

	(void)ctx;
	cr_assert_not_null(text);
	cr_assert_eq(pubkey_from_line(&k, text, strcspn(text, "\n")), 0);
	c = host_cert(k, signer_public_host(sg), 86400);
	cr_assert_eq(signer_sign_host_cert(sg, c, "testhost"), 0);
	cr_assert_eq(cert_to_line(&line, c, NULL), 0);
	tu_write_file(
	    cert_path, tu_keep(tu_fmt("%s\n", line)), strlen(line) + 1, 0644);
	cmd = tu_fmt("ssh-keygen -L -f '%s'", cert_path);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	cr_assert_not_null(strstr(out,
			       "ssh-ed25519-cert-v01@openssh.com "
			       "host certificate"),
	    "%s", out);
	cr_assert_not_null(strstr(out, "testhost:serial-1"), "%s", out);
	free(out);
	free(cmd);
	free(line);
	cert_free(c);
	pubkey_free(k);
	free(text);
}

/* A user key and a certificate for it from the signer (alice, staging). */
static void
make_user_cert(const char *key_path, const char *cert_path)
{
	char *cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", key_path);
	char *pubp = tu_fmt("%s.pub", key_path), *text, *line = NULL;
	struct cert *c = cert_new();
	uint64_t now = (uint64_t)time(NULL);

	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	text = tu_read_file(pubp, NULL);
	cr_assert_not_null(text);
	cr_assert_not_null(c);
	cr_assert_eq(pubkey_from_line(&c->key, text, strcspn(text, "\n")), 0);
	c->ca_key = tu_pubkey_copy(signer_public(sg));
	cr_assert_eq(cert_set_random_nonce(c), 0);
	c->serial = 2;
	c->type = CERT_TYPE_USER;
	c->key_id = strdup("alice:staging:req-1:serial-2");
	cr_assert_eq(cert_add_principal(c, "alice"), 0);
	cr_assert_eq(cert_add_extension(c, "permit-pty", NULL), 0);
	c->valid_after = now - 30;
	c->valid_before = now + 600;
	cr_assert_eq(signer_sign_user_cert(sg, c, "alice", "staging"), 0);
	cr_assert_eq(cert_to_line(&line, c, NULL), 0);
	tu_write_file(cert_path, line, strlen(line), 0644);
	free(line);
	cert_free(c);
	free(text);
	free(pubp);
	free(cmd);
}

Test(keys, sshd_presents_host_cert_and_ssh_accepts_it, .timeout = 180)
{
	struct test_sshd *d = NULL;
	char *ca = NULL, *host, *key, *cert, *kh, *line, *user;
	char *out = NULL, *err = NULL;
	int rc;

	free(tu_jitcad_ok(state, "init"));
	start_signer();
	ca = tu_jitcad_ok(state, "ca-key");
	host = tu_jitcad_ok(state, "ca-key --host");
	sshd_start_host_cert(&d, ca, make_host_cert, NULL);
	user = sshd_user();
	sshd_set_principals(d, user, "alice", NULL);
	key = tu_fmt("%s/id", dir);
	cert = tu_fmt("%s/id-cert.pub", dir);
	make_user_cert(key, cert);
	/* Only the host CA vouches for the host: no plain host key. */
	kh = tu_fmt("%s/known_hosts", dir);
	line =
	    tu_fmt("@cert-authority [127.0.0.1]:%d %s\n", sshd_port(d), host);
	tu_write_file(kh, line, strlen(line), 0600);
	free(line);
	rc =
	    sshd_ssh_known_hosts(d, user, key, cert, kh, "echo in", &out, &err);
	cr_assert_eq(rc, 0, "ssh: %d\n%s\nsshd:\n%s", rc, err, sshd_log(d));
	cr_assert_str_eq(out, "in\n");
	cr_assert_not_null(strstr(err,
			       "Server host certificate: "
			       "ssh-ed25519-cert-v01@openssh.com"),
	    "%s", err);
	cr_assert_not_null(
	    strstr(err, "matches the ED25519-CERT host certificate"), "%s",
	    err);
	free(out);
	free(err);
	/* The user CA is no host CA: the same host is then refused. */
	line = tu_fmt("@cert-authority [127.0.0.1]:%d %s\n", sshd_port(d), ca);
	tu_write_file(kh, line, strlen(line), 0600);
	free(line);
	rc =
	    sshd_ssh_known_hosts(d, user, key, cert, kh, "echo in", &out, &err);
	cr_assert_eq(rc, 255);
	cr_assert_not_null(
	    strstr(err, "Host key verification failed"), "%s", err);
	cr_assert_str_eq(out, "");
	free(out);
	free(err);
	sshd_stop(d);
	free(kh);
	free(key);
	free(cert);
	free(user);
	free(host);
	free(ca);
	tu_keep_free();
}

Test(keys, sign_host_refusals_with_the_real_config)
{
	struct pubkey *k = NULL;
	struct cert *c;
	char *cfgp, *cfg, *p, *line;

	free(tu_jitcad_ok(state, "init"));
	/* ca.host_max_ttl 2d, read by the signer from its own copy. */
	cfgp = state_file("jitca.json");
	cfg = tu_read_file(cfgp, NULL);
	cr_assert_not_null(cfg);
	p = strstr(cfg, "\"hard_max_ttl\": \"24h\"");
	cr_assert_not_null(p, "%s", cfg);
	p += strlen("\"hard_max_ttl\": \"24h\"");
	line =
	    tu_fmt("%.*s, \"host_max_ttl\": \"2d\"%s", (int)(p - cfg), cfg, p);
	tu_write_file(cfgp, line, strlen(line), 0644);
	free(line);
	start_signer();
	line = tu_jitcad_ok(state, "ca-key --ledger");
	cr_assert_eq(pubkey_from_line(&k, line, strlen(line)), 0);
	free(line);
	c = host_cert(k, signer_public_host(sg), 2 * 86400);
	cr_assert_eq(signer_sign_host_cert(sg, c, "testhost"), ERR_KEY_IS_CA);
	cert_free(c);
	pubkey_free(k);
	/* Any other key as the subject. */
	{
		char *cmd, *text, *kp = tu_fmt("%s/hk", dir);

		cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", kp);
		cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
		free(cmd);
		text = tu_read_file(tu_keep(tu_fmt("%s.pub", kp)), NULL);
		cr_assert_not_null(text);
		cr_assert_eq(
		    pubkey_from_line(&k, text, strcspn(text, "\n")), 0);
		free(text);
		free(kp);
	}
	c = host_cert(k, signer_public_host(sg), 2 * 86400);
	cr_assert_eq(signer_sign_host_cert(sg, c, "testhost"), 0);
	cert_free(c);
	c = host_cert(k, signer_public_host(sg), 3 * 86400);
	cr_assert_eq(
	    signer_sign_host_cert(sg, c, "testhost"), ERR_CERT_TOO_LONG);
	cert_free(c);
	/* A body for the user CA key through SIGN_HOST. */
	c = host_cert(k, signer_public(sg), 3600);
	cr_assert_eq(
	    signer_sign_host_cert(sg, c, "testhost"), ERR_CERT_WRONG_CA);
	cert_free(c);
	/* A user certificate through SIGN_HOST. */
	c = host_cert(k, signer_public_host(sg), 3600);
	c->type = CERT_TYPE_USER;
	cr_assert_eq(
	    signer_sign_host_cert(sg, c, "testhost"), ERR_CERT_NOT_HOST);
	cert_free(c);
	c = host_cert(k, signer_public_host(sg), 3600);
	cr_assert_eq(cert_add_principal(c, "*.example.com"), 0);
	cr_assert_eq(
	    signer_sign_host_cert(sg, c, "testhost"), ERR_CERT_BAD_HOST_NAME);
	cert_free(c);
	c = host_cert(k, signer_public_host(sg), 3600);
	cr_assert_eq(cert_add_extension(c, "permit-pty", NULL), 0);
	cr_assert_eq(signer_sign_host_cert(sg, c, "testhost"),
	    ERR_CERT_UNKNOWN_EXTENSION);
	cert_free(c);
	pubkey_free(k);
	free(cfg);
	free(cfgp);
	tu_keep_free();
}

/* ssh-keygen -Y verify of data in file with sig against allowed; exit
 * status, stdout+stderr in *out (may be NULL). */
static int
keygen_verify(const char *allowed, const char *ns, const char *sig,
    const char *file, char **out)
{
	char *cmd = tu_fmt("ssh-keygen -Y verify -f '%s' -I ledger@jitca -n "
			   "%s -s '%s' < '%s' 2>&1",
	    allowed, ns, sig, file);
	int rc = tu_sh(cmd, out, NULL);

	free(cmd);
	return rc;
}

Test(keys, checkpoint_and_krl_verified_by_ssh_keygen)
{
	char *allowed, *line, *notep, *sigp, *krlp, *ksigp, *out = NULL;
	char *note = NULL, *sig = NULL, *ksig = NULL, *krl, *cfg;
	size_t notelen = 0, siglen = 0, krllen = 0, cfglen = 0;
	uint8_t root[32];
	size_t i;

	free(tu_jitcad_ok(state, "init"));
	start_signer();
	allowed = tu_fmt("%s/allowed_signers", dir);
	line = tu_jitcad_ok(state, "ca-key --ledger --allowed-signers");
	tu_write_file(
	    allowed, tu_keep(tu_fmt("%s\n", line)), strlen(line) + 1, 0644);
	free(line);

	for (i = 0; i < sizeof(root); i++)
		root[i] = (uint8_t)(0xa0 + i);
	cr_assert_eq(signer_sign_checkpoint(sg, "jitca.test/ledger", 5, root,
			 &note, &notelen, &sig, &siglen),
	    0);
	notep = tu_fmt("%s/note", dir);
	sigp = tu_fmt("%s/note.sig", dir);
	tu_write_file(notep, note, notelen, 0644);
	tu_write_file(sigp, sig, siglen, 0644);
	cr_assert_eq(
	    keygen_verify(allowed, "checkpoint@jitca", sigp, notep, &out), 0,
	    "%s", out);
	cr_assert_not_null(strstr(out,
			       "Good \"checkpoint@jitca\" signature "
			       "for ledger@jitca with ED25519 key"),
	    "%s", out);
	free(out);
	cr_assert_neq(
	    keygen_verify(allowed, "krl@jitca", sigp, notep, NULL), 0);
	/* Tree size 5 -> 6. */
	note[strlen("jitca.test/ledger\n")] = '6';
	tu_write_file(notep, note, notelen, 0644);
	cr_assert_neq(
	    keygen_verify(allowed, "checkpoint@jitca", sigp, notep, NULL), 0);

	/* The KRL jitcad init wrote. */
	krlp = state_file("revoked.krl");
	krl = tu_read_file(krlp, &krllen);
	cr_assert_not_null(krl);
	cr_assert_eq(
	    signer_sign_krl(sg, (const uint8_t *)krl, krllen, &ksig, NULL), 0);
	ksigp = tu_fmt("%s/krl.sig", dir);
	tu_write_file(ksigp, ksig, strlen(ksig), 0644);
	cr_assert_eq(keygen_verify(allowed, "krl@jitca", ksigp, krlp, &out), 0,
	    "%s", out);
	cr_assert_not_null(strstr(out,
			       "Good \"krl@jitca\" signature "
			       "for ledger@jitca with ED25519 key"),
	    "%s", out);
	free(out);
	cr_assert_neq(
	    keygen_verify(allowed, "checkpoint@jitca", ksigp, krlp, NULL), 0);
	/* jitca.json is not a KRL. */
	free(ksig);
	ksig = NULL;
	cfg = tu_read_file(tu_keep(state_file("jitca.json")), &cfglen);
	cr_assert_not_null(cfg);
	cr_assert_eq(
	    signer_sign_krl(sg, (const uint8_t *)cfg, cfglen, &ksig, NULL),
	    ERR_SIGNER_NOT_KRL);
	cr_assert_null(ksig);
	free(cfg);
	free(krl);
	free(krlp);
	free(ksigp);
	free(note);
	free(sig);
	free(notep);
	free(sigp);
	free(allowed);
	tu_keep_free();
}
