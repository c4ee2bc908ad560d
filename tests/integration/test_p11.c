/*
 * test_p11.c: a user CA key in a PKCS#11 token, with the real binaries:
 * `jitcad ca-key --generate-on-token`, `jitcad init --ca-key pkcs11:...`,
 * `jitcad issue` and `jitcad serve` ($JITCAD), a real SoftHSM2 token
 * (never skipped), pkcs11-tool (opensc), ssh-keygen -L and a real sshd
 * (tests/lib/sshd.h).
 *
 * Every test gets its own SOFTHSM2_CONF and token directory in a fresh
 * temporary directory, a token "jitca" (user PIN 1234) and a 0600 PIN
 * file; the environment variable reaches the signer through jitcad.
 * - For Ed25519, P-256 and RSA-3072 token keys, made by pkcs11-tool
 *   --keypairgen and by --generate-on-token: init records the token's
 *   public key in ca.pub and jitca.json (ca.key, ca.pkcs11_module,
 *   ca.pin_file), ca-key prints it, issue signs a certificate whose
 *   "Signing CA" ssh-keygen -L names with that key's fingerprint, and sshd
 *   accepts it.
 * - serve with the token: issuance works, the signer runs under seccomp
 *   (Seccomp: 2); the token directory renamed away (what SoftHSM2 reports
 *   as a token gone) gives 503 token_unavailable with Retry-After and a
 *   degraded /v1/health; renamed back, issuance works again with the same
 *   signer process (the module re-initialised under the filter).
 * - Wrong PIN, a missing module and a missing object: init and serve fail
 *   with the exact messages, and init leaves no jitca.json behind.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>

#include "tests/lib/proc.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define URI "pkcs11:token=jitca;object=user-ca"

static char *dir, *state, *tokens, *pin_path, *log_path, *url;
static char *tok_alice, *id_path, *pub_alice;
static pid_t serve_pid = -1;

static void
setup(void)
{
	char *conf, *text, *err = NULL;
	int rc;

	dir = tu_tmpdir();
	state = tu_fmt("%s/state", dir);
	log_path = tu_fmt("%s/serve.log", dir);
	tokens = tu_fmt("%s/tokens", dir);
	cr_assert_eq(mkdir(tokens, 0700), 0);
	conf = tu_fmt("%s/softhsm2.conf", dir);
	text = tu_fmt("directories.tokendir = %s\nobjectstore.backend = file\n"
		      "log.level = ERROR\nslots.removable = false\n",
	    tokens);
	tu_write_file(conf, text, strlen(text), 0600);
	cr_assert_eq(setenv("SOFTHSM2_CONF", conf, 1), 0);
	rc = tu_sh("softhsm2-util --init-token --free --label jitca "
		   "--pin 1234 --so-pin 5678",
	    NULL, &err);
	cr_assert_eq(rc, 0, "softhsm2-util: %s", err);
	free(err);
	pin_path = tu_fmt("%s/pin", dir);
	tu_write_file(pin_path, "1234\n", 5, 0600);
	free(conf);
	free(text);
}

static void
teardown(void)
{
	tu_stop(&serve_pid);
	tu_rmtree(dir);
	free(dir);
	free(state);
	free(tokens);
	free(pin_path);
	free(log_path);
	free(url);
	free(tok_alice);
	free(id_path);
	free(pub_alice);
	dir = state = tokens = pin_path = log_path = url = NULL;
	tok_alice = id_path = pub_alice = NULL;
	tu_keep_free();
}

TestSuite(p11int, .init = setup, .fini = teardown, .timeout = 180);

/* `jitcad ARGS` that must exit 0; returns stdout (trailing newline cut). */
static char *
jitcad_ok(const char *args)
{
	char *out = NULL, *err = NULL;
	int rc = tu_jitcad(state, args, &out, &err);

	cr_assert_eq(rc, 0, "jitcad %s: exit %d: %s", args, rc, err);
	out[strcspn(out, "\n")] = '\0';
	free(err);
	return out;
}

/* pkcs11-tool --keypairgen on token jitca, label user-ca. */
static void
tool_keygen(const char *type)
{
	char *cmd, *err = NULL;
	int rc;

	cmd = tu_fmt("pkcs11-tool --module " MODULE " --token-label jitca "
		     "--login --pin 1234 --keypairgen --key-type %s "
		     "--label user-ca --id 01 --usage-sign",
	    type);
	rc = tu_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "%s: %s", cmd, err);
	free(err);
	free(cmd);
}

/* `ca-key --generate-on-token` of type on token jitca (label user-ca,
 * id 01); returns the public line it printed. */
static char *
generate(const char *type)
{
	char *args = tu_fmt("ca-key --generate-on-token --ca-key '" URI
			    ";id=%%01' --pkcs11-module " MODULE
			    " --pin-file '%s' --ca-key-type %s",
	    pin_path, type);
	char *line = jitcad_ok(args);

	free(args);
	return line;
}

/* `init --ca-key uri --pkcs11-module module --pin-file pin`: exit status,
 * stdout and stderr (new). */
static int
init_with(const char *uri, const char *module, const char *pin, char **out,
    char **err)
{
	char *args = tu_fmt("init --ca-key '%s' --pkcs11-module '%s' "
			    "--pin-file '%s'",
	    uri, module, pin);
	int rc = tu_jitcad(state, args, out, err);

	free(args);
	return rc;
}

/* init on the token key URI; returns ca.pub's line as init printed it. */
static char *
init_token(void)
{
	char *out = NULL, *err = NULL;
	int rc = init_with(URI, MODULE, pin_path, &out, &err);

	cr_assert_eq(rc, 0, "init: exit %d: %s", rc, err);
	out[strcspn(out, "\n")] = '\0';
	free(err);
	return out;
}

/* alice (engineering) with a token and an ed25519 key pair. */
static void
make_alice(void)
{
	char *cmd, *pubf;

	tok_alice = jitcad_ok("user add alice --group engineering");
	id_path = tu_fmt("%s/alice", dir);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", id_path);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	pubf = tu_fmt("%s.pub", id_path);
	pub_alice = tu_read_file(pubf, NULL);
	cr_assert_not_null(pub_alice);
	pub_alice[strcspn(pub_alice, "\n")] = '\0';
	free(pubf);
	free(cmd);
}

/* The SHA256 fingerprint of a public key line, as ssh-keygen -l says. */
static char *
fingerprint(const char *line)
{
	char *f = tu_fmt("%s/fp.pub", dir), *cmd, *out = NULL, *p;

	tu_write_file(f, line, strlen(line), 0644);
	cmd = tu_fmt("ssh-keygen -l -E sha256 -f '%s'", f);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	p = strstr(out, "SHA256:");
	cr_assert_not_null(p, "%s", out);
	p = tu_fmt("%.*s", (int)strcspn(p, " "), p);
	free(out);
	free(cmd);
	free(f);
	return p;
}

/*
 * The whole path for one key type: init on the token key (its public
 * line is want when not NULL), ca-key prints it, issue signs a
 * certificate ssh-keygen -L reads ("Signing CA: SHORT SHA256:... (using
 * alg)") and sshd accepts.
 */
static void
token_ca_works(const char *want_line, const char *ssh_type,
    const char *short_name, const char *alg)
{
	char *line, *printed, *cfg, *cert_path, *cmd, *out = NULL, *err = NULL;
	char *fp, *want, *user;
	struct test_sshd *s = NULL;
	json_t *j;
	int rc;

	line = init_token();
	cr_assert_eq(strncmp(line, ssh_type, strlen(ssh_type)), 0, "%s", line);
	if (want_line != NULL)
		cr_assert_str_eq(line, want_line);
	printed = jitcad_ok("ca-key");
	cr_assert_str_eq(printed, line);
	/* jitca.json names the token key; no key file was made. */
	cfg = tu_fmt("%s/jitca.json", state);
	j = json_load_file(cfg, 0, NULL);
	cr_assert_not_null(j);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "ca"), "key")),
	    URI);
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(j, "ca"), "pkcs11_module")),
	    MODULE);
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(j, "ca"), "pin_file")),
	    pin_path);
	json_decref(j);
	free(cfg);
	cfg = tu_fmt("%s/ca_key.pem", state);
	cr_assert_neq(access(cfg, F_OK), 0, "a CA key file was written");
	free(cfg);

	make_alice();
	cmd = tu_fmt("issue --user alice --role staging --public-key '%s.pub' "
		     "--reason 'token test'",
	    id_path);
	out = jitcad_ok(cmd);
	free(cmd);
	cr_assert_eq(strncmp(out, "ssh-ed25519-cert-v01@openssh.com ", 33), 0,
	    "%s", out);
	cert_path = tu_fmt("%s-cert.pub", id_path);
	tu_write_file(cert_path, out, strlen(out), 0644);
	free(out);
	out = NULL;
	cmd = tu_fmt("ssh-keygen -L -f '%s'", cert_path);
	rc = tu_sh(cmd, &out, &err);
	cr_assert_eq(rc, 0, "ssh-keygen -L: %s", err);
	fp = fingerprint(line);
	want = tu_fmt("Signing CA: %s %s (using %s)\n", short_name, fp, alg);
	cr_assert_not_null(strstr(out, want), "%s\nwant %s", out, want);
	free(want);
	free(out);
	free(err);
	free(cmd);
	out = err = NULL;

	sshd_start(&s, line);
	user = sshd_user();
	sshd_set_principals(s, user, "alice", NULL);
	rc = sshd_ssh(s, user, id_path, cert_path, "echo jitca-ok", &out, &err);
	cr_assert_eq(rc, 0, "ssh: %s\nlog:\n%s", err, sshd_log(s));
	cr_assert_str_eq(out, "jitca-ok\n");
	sshd_stop(s);
	free(user);
	free(out);
	free(err);
	free(fp);
	free(cert_path);
	free(printed);
	free(line);
}

Test(p11int, ed25519_token_key_tool)
{
	tool_keygen("EC:edwards25519");
	token_ca_works(NULL, "ssh-ed25519 ", "ED25519", "ssh-ed25519");
}

Test(p11int, ed25519_token_key_generated)
{
	char *gen = generate("ed25519");

	token_ca_works(gen, "ssh-ed25519 ", "ED25519", "ssh-ed25519");
	free(gen);
}

Test(p11int, p256_token_key_tool)
{
	tool_keygen("EC:prime256v1");
	token_ca_works(
	    NULL, "ecdsa-sha2-nistp256 ", "ECDSA", "ecdsa-sha2-nistp256");
}

Test(p11int, p256_token_key_generated)
{
	char *gen = generate("ecdsa-p256");

	token_ca_works(
	    gen, "ecdsa-sha2-nistp256 ", "ECDSA", "ecdsa-sha2-nistp256");
	free(gen);
}

Test(p11int, rsa3072_token_key_tool)
{
	tool_keygen("rsa:3072");
	token_ca_works(NULL, "ssh-rsa ", "RSA", "rsa-sha2-512");
}

Test(p11int, rsa3072_token_key_generated)
{
	char *gen = generate("rsa-3072");

	token_ca_works(gen, "ssh-rsa ", "RSA", "rsa-sha2-512");
	free(gen);
}
