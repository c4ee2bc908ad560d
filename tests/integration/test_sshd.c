/*
 * test_sshd.c: certificates made by jitca's builder and signed by the
 * signer process log in to a real OpenSSH sshd (tests/lib/sshd.h) with the
 * real ssh client and with libssh, and sshd logs the key id and serial.
 * Certificates sshd must refuse are refused, each for the reason sshd
 * names in its log: a principal the principals file does not list, an
 * expired certificate, a not-yet-valid one, one signed by another CA.
 * The expired / not-yet-valid ones are signed with cakey_sign() directly
 * (the signer process rightly refuses to make them).
 *
 * The first test proves the harness itself with an ssh-keygen -s
 * certificate, so a failure there is about sshd, not about jitca.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <libssh/libssh.h>

#include "signer/cakey.h"
#include "signer/cert.h"
#include "signer/signer.h"
#include "tests/lib/anypolicy.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

static char *dir;
static char *key_path; /* CA key */
static char *id_path; /* user private key (ssh-keygen) */
static struct pubkey *id_pub;
static struct signer *sg;
static struct test_sshd *sshd;
static char *user;

static void
setup(void)
{
	struct cakey *ca = NULL;
	char *cmd, *err = NULL, *pubfile, *line = NULL, *text;
	int rc;

	dir = tu_tmpdir();
	key_path = tu_fmt("%s/ca_key.pem", dir);
	id_path = tu_fmt("%s/id_ed25519", dir);
	cr_assert_eq(cakey_generate(&ca, KEY_ED25519), 0);
	cr_assert_eq(cakey_save(ca, key_path), 0);
	cakey_free(ca);
	{
		/* sshd's side is under test here, not the role policy (that
		 * is tests/integration/test_custody.c): tu_any_policy allows
		 * every certificate the generic checks allow, with a 300 s
		 * backdate. */
		struct signer_params sp = {key_path, &tu_any_policy, NULL, 0, 0,
		    0, NULL, NULL, NULL, NULL, 0};

		cr_assert_eq(signer_start(&sg, &sp), 0);
	}

	cmd = tu_fmt(
	    "ssh-keygen -q -t ed25519 -N '' -C alice@laptop -f %s", id_path);
	rc = tu_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "ssh-keygen: %s", err);
	free(err);
	free(cmd);
	pubfile = tu_fmt("%s.pub", id_path);
	text = tu_read_file(pubfile, NULL);
	cr_assert_not_null(text);
	cr_assert_eq(pubkey_from_line(&id_pub, text, strlen(text)), 0);
	free(text);
	free(pubfile);

	cr_assert_eq(pubkey_to_line(&line, signer_public(sg), "jitca-ca"), 0);
	sshd_start(&sshd, line);
	free(line);
	user = sshd_user();
	sshd_set_principals(sshd, user, "alice", "ops", NULL);
}

static void
teardown(void)
{
	sshd_stop(sshd);
	signer_stop(sg);
	pubkey_free(id_pub);
	if (dir != NULL)
		tu_rmtree(dir);
	free(dir);
	free(key_path);
	free(id_path);
	free(user);
	sshd = NULL;
	sg = NULL;
	id_pub = NULL;
	dir = key_path = id_path = user = NULL;
}

/* A user certificate for the test's key, not yet signed. */
static struct cert *
make_cert(const struct pubkey *ca, uint64_t serial, const char *key_id,
    const char *principal, int64_t from, int64_t to)
{
	struct cert *c = cert_new();
	int64_t now = (int64_t)time(NULL);

	cr_assert_not_null(c);
	c->key = tu_pubkey_copy(id_pub);
	c->ca_key = tu_pubkey_copy(ca);
	cr_assert_eq(cert_set_random_nonce(c), 0);
	c->serial = serial;
	c->type = CERT_TYPE_USER;
	c->key_id = strdup(key_id);
	cr_assert_not_null(c->key_id);
	cr_assert_eq(cert_add_principal(c, principal), 0);
	c->valid_after = (uint64_t)(now + from);
	c->valid_before = (uint64_t)(now + to);
	cr_assert_eq(cert_add_extension(c, "permit-pty", NULL), 0);
	return c;
}

/* Write a signed cert as <dir>/<name>-cert.pub; returns the path. */
static char *
write_cert(const struct cert *c, const char *name)
{
	char *line = NULL, *path = tu_fmt("%s/%s-cert.pub", dir, name), *nl;

	cr_assert_eq(cert_to_line(&line, c, "alice@laptop"), 0);
	nl = tu_fmt("%s\n", line);
	tu_write_file(path, nl, strlen(nl), 0644);
	free(nl);
	free(line);
	return path;
}

static int
cakey_fn(
    void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *tbs, size_t tbslen)
{
	return cakey_sign(ctx, sig, siglen, tbs, tbslen);
}

/* The part of the sshd log written after offset *from; advances it. */
static char *
log_since(size_t *from)
{
	char *all = sshd_log(sshd), *part;
	size_t len = strlen(all);

	cr_assert_geq(len, *from);
	part = strdup(all + *from);
	cr_assert_not_null(part);
	*from = len;
	free(all);
	return part;
}

static size_t
log_len(void)
{
	char *all = sshd_log(sshd);
	size_t len = strlen(all);

	free(all);
	return len;
}

/* ---- the harness alone ------------------------------------------- */

Test(sshd, keygen_cert_logs_in, .timeout = 60)
{
	char *d = tu_tmpdir(), *out = NULL, *err = NULL, *cmd, *ca, *u, *id;
	char *cert;
	struct test_sshd *s = NULL;
	int rc;

	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f %s/ca && "
		     "ssh-keygen -q -t ed25519 -N '' -f %s/id && "
		     "ssh-keygen -q -s %s/ca -I test@x -n alice -V -1m:+5m "
		     "-z 7 %s/id.pub",
	    d, d, d, d);
	rc = tu_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "%s", err);
	free(err);
	free(cmd);
	cmd = tu_fmt("%s/ca.pub", d);
	ca = tu_read_file(cmd, NULL);
	cr_assert_not_null(ca);
	ca[strcspn(ca, "\n")] = '\0';
	free(cmd);
	sshd_start(&s, ca);
	u = sshd_user();
	id = tu_fmt("%s/id", d);
	cert = tu_fmt("%s/id-cert.pub", d);

	/* No principals file line yet: refused. */
	rc = sshd_ssh(s, u, id, cert, "echo jitca-ok", &out, &err);
	cr_assert_eq(rc, 255, "ssh: %s", err);
	free(out);
	free(err);

	sshd_set_principals(s, u, "alice", NULL);
	rc = sshd_ssh(s, u, id, cert, "echo jitca-ok", &out, &err);
	cr_assert_eq(rc, 0, "ssh: %s\nlog:\n%s", err, sshd_log(s));
	cr_assert_str_eq(out, "jitca-ok\n");
	cr_assert(sshd_log_wait(s, " ID test@x (serial 7) CA ED25519 ", 5000),
	    "%s", sshd_log(s));
	free(out);
	free(err);
	free(cert);
	free(id);
	free(u);
	free(ca);
	sshd_stop(s);
	tu_rmtree(d);
	free(d);
}

/* ---- jitca certificates: accepted ---------------------------------- */

/* Log in with libssh using key + certificate; run command, return its
 * output (new string). */
static char *
libssh_run(const char *cert_path, const char *command)
{
	ssh_session s = ssh_new();
	ssh_key priv = NULL, cert = NULL;
	ssh_channel ch = NULL;
	unsigned int port = (unsigned)sshd_port(sshd);
	int rc, no = 0, n;
	char buf[256], *out = calloc(1, 1);
	size_t len = 0;

	cr_assert_not_null(s);
	cr_assert_not_null(out);
	cr_assert_eq(ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no), 0);
	cr_assert_eq(ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1"), 0);
	cr_assert_eq(ssh_options_set(s, SSH_OPTIONS_PORT, &port), 0);
	cr_assert_eq(ssh_options_set(s, SSH_OPTIONS_USER, user), 0);
	cr_assert_eq(
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null"), 0);
	cr_assert_eq(
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null"), 0);
	cr_assert_eq(
	    ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &no), 0);
	rc = ssh_connect(s);
	cr_assert_eq(rc, SSH_OK, "ssh_connect: %s", ssh_get_error(s));

	cr_assert_eq(
	    ssh_pki_import_privkey_file(id_path, NULL, NULL, NULL, &priv),
	    SSH_OK);
	cr_assert_eq(ssh_pki_import_cert_file(cert_path, &cert), SSH_OK);
	cr_assert_eq(ssh_key_type(cert), SSH_KEYTYPE_ED25519_CERT01);
	cr_assert_eq(ssh_pki_copy_cert_to_privkey(cert, priv), SSH_OK);
	rc = ssh_userauth_try_publickey(s, NULL, cert);
	cr_assert_eq(
	    rc, SSH_AUTH_SUCCESS, "try_publickey: %d %s", rc, ssh_get_error(s));
	rc = ssh_userauth_publickey(s, NULL, priv);
	cr_assert_eq(
	    rc, SSH_AUTH_SUCCESS, "publickey: %d %s", rc, ssh_get_error(s));

	ch = ssh_channel_new(s);
	cr_assert_not_null(ch);
	cr_assert_eq(
	    ssh_channel_open_session(ch), SSH_OK, "%s", ssh_get_error(s));
	cr_assert_eq(ssh_channel_request_exec(ch, command), SSH_OK, "%s",
	    ssh_get_error(s));
	while ((n = ssh_channel_read_timeout(ch, buf, sizeof(buf), 0, 10000)) >
	    0) {
		out = realloc(out, len + (size_t)n + 1);
		cr_assert_not_null(out);
		memcpy(out + len, buf, (size_t)n);
		len += (size_t)n;
		out[len] = '\0';
	}
	cr_assert_geq(n, 0, "read: %s", ssh_get_error(s));
	ssh_channel_send_eof(ch);
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	ssh_disconnect(s);
	ssh_free(s);
	ssh_key_free(cert);
	ssh_key_free(priv);
	return out;
}

Test(sshd, signer_cert_logs_in, .init = setup, .fini = teardown, .timeout = 60)
{
	struct cert *c1, *c2;
	char *p1, *p2, *out = NULL, *err = NULL, *log, *want, *o;
	char cafp[PUBKEY_FP_LEN], idfp[PUBKEY_FP_LEN];
	size_t off = log_len();
	int rc;

	cr_assert_eq(pubkey_fingerprint(cafp, signer_public(sg)), 0);
	cr_assert_eq(pubkey_fingerprint(idfp, id_pub), 0);

	/* The real ssh client. */
	c1 = make_cert(signer_public(sg), 1001, "alice@corp:req-17:1001",
	    "alice", -60, 600);
	cr_assert_eq(signer_sign_user_cert(sg, c1, "alice", "ops"), 0);
	p1 = write_cert(c1, "ssh");
	rc = sshd_ssh(sshd, user, id_path, p1, "echo jitca-ok", &out, &err);
	cr_assert_eq(
	    rc, 0, "ssh exit %d: %s\nlog:\n%s", rc, err, sshd_log(sshd));
	cr_assert_str_eq(out, "jitca-ok\n");
	want = tu_fmt("Accepted publickey for %s from 127.0.0.1 port ", user);
	cr_assert(sshd_log_wait(sshd, want, 5000), "%s", sshd_log(sshd));
	free(want);
	log = log_since(&off);
	want = tu_fmt("ssh2: ED25519-CERT %s ID alice@corp:req-17:1001 "
		      "(serial 1001) CA ED25519 %s",
	    idfp, cafp);
	cr_assert_not_null(strstr(log, want), "want %s in:\n%s", want, log);
	free(want);
	free(log);
	free(out);
	free(err);

	/* libssh, with a second certificate for the same key. */
	c2 = make_cert(
	    signer_public(sg), 1002, "alice@corp:req-18:1002", "ops", -60, 600);
	cr_assert_eq(signer_sign_user_cert(sg, c2, "alice", "ops"), 0);
	p2 = write_cert(c2, "libssh");
	o = libssh_run(p2, "echo jitca-ok");
	cr_assert_str_eq(o, "jitca-ok\n");
	want = tu_fmt(
	    "ID alice@corp:req-18:1002 (serial 1002) CA ED25519 %s", cafp);
	cr_assert(sshd_log_wait(sshd, want, 5000), "want %s in:\n%s", want,
	    sshd_log(sshd));
	log = log_since(&off);
	cr_assert_not_null(strstr(log, "Accepted publickey for "), "%s", log);
	free(log);
	free(want);
	free(o);
	free(p1);
	free(p2);
	cert_free(c1);
	cert_free(c2);
}

/* ---- refused ------------------------------------------------------- */

/* ssh must fail with 255 and sshd must log reason (and no acceptance)
 * in what it writes during this attempt. */
static void
expect_refused(
    const struct cert *c, const char *name, const char *reason, size_t *off)
{
	char *p = write_cert(c, name), *out = NULL, *err = NULL, *log, *id;
	int rc;

	rc = sshd_ssh(sshd, user, id_path, p, "echo jitca-ok", &out, &err);
	cr_assert_eq(rc, 255, "%s: ssh exit %d, out %s", name, rc, out);
	cr_assert_null(strstr(out, "jitca-ok"));
	id = tu_fmt(
	    "ID %s (serial %llu)", c->key_id, (unsigned long long)c->serial);
	/* The failure line comes last; wait for it before reading. */
	cr_assert(sshd_log_wait(sshd, id, 5000), "%s: no %s in:\n%s", name, id,
	    sshd_log(sshd));
	log = log_since(off);
	cr_assert_not_null(
	    strstr(log, reason), "%s: want \"%s\" in:\n%s", name, reason, log);
	cr_assert_null(strstr(log, "Accepted publickey"), "%s:\n%s", name, log);
	free(id);
	free(log);
	free(out);
	free(err);
	free(p);
}

Test(sshd, refusals, .init = setup, .fini = teardown, .timeout = 60)
{
	struct cakey *ca = NULL, *other = NULL;
	struct cert *c;
	char fp[PUBKEY_FP_LEN], *why;
	size_t off = log_len();

	/* The signer signs it (policy is fine) but sshd's principals file
	 * for this user does not list "bob". */
	c = make_cert(
	    signer_public(sg), 2001, "bob@corp:2001", "bob", -60, 600);
	cr_assert_eq(signer_sign_user_cert(sg, c, "alice", "ops"), 0);
	expect_refused(c, "principal",
	    "Certificate does not contain an authorized principal", &off);
	cert_free(c);

	/* The signer refuses expired / future certificates, so they are
	 * signed with the CA key directly, as only a test may. */
	cr_assert_eq(cakey_load(&ca, key_path), 0);
	c = make_cert(
	    signer_public(sg), 2002, "alice@corp:2002", "alice", -7200, -3600);
	cr_assert_eq(
	    signer_sign_user_cert(sg, c, "alice", "ops"), ERR_CERT_BACKDATE);
	cr_assert_eq(cert_sign(c, cakey_fn, ca), 0);
	expect_refused(c, "expired", "Certificate invalid: expired", &off);
	cert_free(c);

	c = make_cert(signer_public(sg), 2003, "alice@corp:2003", "alice",
	    2 * 86400, 2 * 86400 + 3600);
	cr_assert_eq(
	    signer_sign_user_cert(sg, c, "alice", "ops"), ERR_CERT_POSTDATED);
	cr_assert_eq(cert_sign(c, cakey_fn, ca), 0);
	expect_refused(c, "future", "Certificate invalid: not yet valid", &off);
	cert_free(c);

	/* Another CA: sshd 9.2 says why only at debug level; at VERBOSE
	 * the failure line names the untrusted CA's fingerprint. */
	cr_assert_eq(cakey_generate(&other, KEY_ED25519), 0);
	c = make_cert(
	    cakey_public(other), 2004, "alice@corp:2004", "alice", -60, 600);
	cr_assert_eq(
	    signer_sign_user_cert(sg, c, "alice", "ops"), ERR_CERT_WRONG_CA);
	cr_assert_eq(cert_sign(c, cakey_fn, other), 0);
	cr_assert_eq(pubkey_fingerprint(fp, cakey_public(other)), 0);
	why = tu_fmt("Failed publickey for %s from 127.0.0.1 port ", user);
	expect_refused(c, "otherca", why, &off);
	free(why);
	why = tu_fmt("(serial 2004) CA ED25519 %s", fp);
	{
		char *all = sshd_log(sshd);

		cr_assert_not_null(strstr(all, why), "%s", all);
		free(all);
	}
	free(why);
	cert_free(c);
	cakey_free(other);
	cakey_free(ca);
}
