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
 * - ca.host_key and ca.ledger_key as URIs: loaded from the token by the
 *   same code (a P-256 ledger key and a host key equal to the user CA's
 *   are refused with their messages; three token keys issue).
 * - ca.pkcs11_allow_network: a non-boolean is refused with its message;
 *   true still signs through SoftHSM2 under the (wider) filter.
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

#include "tests/lib/httpjson.h"
#include "tests/lib/jitcad.h"
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
	tu_scratch(&dir, &state, &log_path);
	pin_path = tu_softhsm_token(dir, &tokens);
}

static void
teardown(void)
{
	tu_stop(&serve_pid);
	tu_scratch_free(&dir, &state, &log_path);
	free(tokens);
	free(pin_path);
	free(url);
	free(tok_alice);
	free(id_path);
	free(pub_alice);
	tokens = pin_path = url = NULL;
	tok_alice = id_path = pub_alice = NULL;
	tu_keep_free();
}

TestSuite(p11int, .init = setup, .fini = teardown, .timeout = 180);

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
	char *line = tu_jitcad_ok(state, args), *out = NULL;

	/* The token will never let the private key out. */
	cr_assert_eq(tu_sh("pkcs11-tool --module " MODULE " --token-label "
			   "jitca --login --pin 1234 --list-objects --type "
			   "privkey",
			 &out, NULL),
	    0);
	cr_assert_not_null(strstr(out, "  label:      user-ca\n"), "%s", out);
	cr_assert_not_null(strstr(out,
			       "  Access:     sensitive, always sensitive, "
			       "never extractable, local\n"),
	    "%s", out);
	free(out);
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
	tok_alice = tu_jitcad_ok(state, "user add alice --group engineering");
	id_path = tu_fmt("%s/alice", dir);
	pub_alice = tu_keygen("ed25519", id_path);
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
	printed = tu_jitcad_ok(state, "ca-key");
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
	out = tu_jitcad_ok(state, cmd);
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

static void
serve(void)
{
	url = tu_serve_extra(state, "", log_path, &serve_pid);
}

static struct tu_res
http(const char *method, const char *path, const char *token, const char *body)
{
	return tu_http_json(url, method, path, token, body, 60L);
}

/* POST /v1/requests for staging (no approval needed) by alice. */
static struct tu_res
ask(void)
{
	char *body = tu_fmt("{\"role\":\"staging\",\"ttl\":\"10m\",\"reason\":"
			    "\"token test\",\"public_key\":\"%s\"}",
	    pub_alice);
	struct tu_res r = http("POST", "/v1/requests", tok_alice, body);

	free(body);
	return r;
}

Test(p11int, serve_token_removed_then_back)
{
	char *moved = tu_fmt("%s.gone", tokens), *seccomp, *log;
	struct tu_res r;
	pid_t signer;

	tool_keygen("EC:edwards25519");
	free(init_token());
	make_alice();
	serve();
	signer = tu_child_of(serve_pid, 0);
	seccomp = tu_proc_status(signer, "Seccomp:");
	cr_assert_str_eq(seccomp, "2");
	free(seccomp);
	r = ask();
	cr_assert_eq(r.status, 201);
	cr_assert_str_eq(tu_jstr(r.j, "state", NULL), "issued");
	json_decref(r.j);
	r = http("GET", "/v1/health", NULL, NULL);
	cr_assert_eq(r.status, 200);
	json_decref(r.j);

	/* The token goes away: 503 while it is gone, health degraded. */
	cr_assert_eq(rename(tokens, moved), 0);
	r = ask();
	cr_assert_eq(r.status, 503, "%ld %s", r.status, r.hdrs);
	cr_assert_str_eq(tu_jstr(r.j, "error", "code"), "token_unavailable");
	cr_assert_str_eq(tu_jstr(r.j, "error", "message"),
	    "request: the PKCS#11 token is not available");
	cr_assert_not_null(strstr(r.hdrs, "Retry-After: 1\r\n"), "%s", r.hdrs);
	json_decref(r.j);
	r = http("GET", "/v1/health", NULL, NULL);
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(tu_jstr(r.j, "status", NULL), "degraded");
	cr_assert_str_eq(tu_jstr(r.j, "reason", NULL), "token_unavailable");
	cr_assert_str_eq(tu_jstr(r.j, "message", NULL),
	    "the PKCS#11 token is not available");
	cr_assert_not_null(strstr(r.hdrs, "Retry-After: 1\r\n"), "%s", r.hdrs);
	json_decref(r.j);
	/* Still the same signer, still under its filter. */
	cr_assert_eq(tu_child_of(serve_pid, 0), signer);
	seccomp = tu_proc_status(signer, "Seccomp:");
	cr_assert_str_eq(seccomp, "2");
	free(seccomp);

	/* Back: issuance works again, with no restart. */
	cr_assert_eq(rename(moved, tokens), 0);
	r = ask();
	cr_assert_eq(r.status, 201, "%ld", r.status);
	cr_assert_str_eq(tu_jstr(r.j, "state", NULL), "issued");
	json_decref(r.j);
	r = http("GET", "/v1/health", NULL, NULL);
	cr_assert_eq(r.status, 200);
	json_decref(r.j);
	cr_assert_eq(tu_child_of(serve_pid, 0), signer);
	log = tu_read_file(log_path, NULL);
	cr_assert_null(strstr(log, "signer process"), "%s", log);
	free(log);
	free(moved);
}

/* init refused with exactly "jitcad init: CA key URI: why\n", and no
 * jitca.json, ca.pub or ledger left behind. */
static void
init_refused(const char *uri, const char *module, const char *why)
{
	char *out = NULL, *err = NULL, *want, *f;
	int rc = init_with(uri, module, pin_path, &out, &err);

	cr_assert_eq(rc, 1, "init: exit %d: %s", rc, err);
	want = tu_fmt("jitcad init: CA key %s: %s\n", uri, why);
	cr_assert_str_eq(err, want);
	cr_assert_str_eq(out, "");
	f = tu_fmt("%s/jitca.json", state);
	cr_assert_neq(access(f, F_OK), 0, "%s left behind", f);
	free(f);
	f = tu_fmt("%s/ca.pub", state);
	cr_assert_neq(access(f, F_OK), 0, "%s left behind", f);
	free(f);
	free(want);
	free(out);
	free(err);
}

/* serve exits 1 saying "cannot start the signer for CA key URI: why". */
static void
serve_refused(const char *why)
{
	char *cmd = tu_fmt("exec '%s' serve --state '%s' --listen "
			   "127.0.0.1:0",
	    tu_env("JITCAD"), state);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	char *log, *want;
	int rc;

	serve_pid = tu_spawn(argv, NULL, log_path);
	rc = tu_wait_exit(&serve_pid);
	log = tu_read_file(log_path, NULL);
	cr_assert_eq(rc, 1, "serve: exit %d: %s", rc, log);
	want = tu_fmt("jitcad serve: cannot start the signer for CA key " URI
		      ": %s\n",
	    why);
	cr_assert_not_null(strstr(log, want), "%s\nwant %s", log, want);
	cr_assert_null(strstr(log, "listening on"), "%s", log);
	free(want);
	free(log);
	free(cmd);
	cr_assert_eq(truncate(log_path, 0), 0);
}

Test(p11int, wrong_pin_missing_module_missing_object)
{
	char *cfg, *text, *p, *bad;

	tool_keygen("EC:prime256v1");
	tu_write_file(pin_path, "9999\n", 5, 0600);
	init_refused(URI, MODULE, "the token refused the PIN");
	tu_write_file(pin_path, "1234\n", 5, 0600);
	init_refused(URI, "/nonexistent/libsofthsm2.so",
	    "PKCS#11 module cannot be loaded");
	init_refused("pkcs11:token=jitca;object=no-such-key", MODULE,
	    "no private key on the token matches the URI");

	/* The same for serve, on a good state directory. */
	free(init_token());
	tu_write_file(pin_path, "9999\n", 5, 0600);
	serve_refused("the token refused the PIN");
	tu_write_file(pin_path, "1234\n", 5, 0600);
	cfg = tu_fmt("%s/jitca.json", state);
	text = tu_read_file(cfg, NULL);
	cr_assert_not_null(p = strstr(text, MODULE));
	bad = tu_fmt("%.*s/nonexistent/libsofthsm2.so%s", (int)(p - text), text,
	    p + strlen(MODULE));
	tu_write_file(cfg, bad, strlen(bad), 0644);
	serve_refused("PKCS#11 module cannot be loaded");
	tu_write_file(cfg, text, strlen(text), 0644);
	cr_assert_eq(tu_sh("pkcs11-tool --module " MODULE " --token-label "
			   "jitca --login --pin 1234 --delete-object "
			   "--type privkey --label user-ca",
			 NULL, NULL),
	    0);
	serve_refused("no private key on the token matches the URI");
	free(bad);
	free(text);
	free(cfg);
}

/* jitca.json's ca with text inserted after the pin_file entry. */
static void
config_insert(const char *what)
{
	char *cfg = tu_fmt("%s/jitca.json", state), *text, *p, *n, *key;

	text = tu_read_file(cfg, NULL);
	key = tu_fmt("\"pin_file\": \"%s\"", pin_path);
	cr_assert_not_null(p = strstr(text, key), "%s", text);
	p += strlen(key);
	n = tu_fmt("%.*s%s%s", (int)(p - text), text, what, p);
	tu_write_file(cfg, n, strlen(n), 0644);
	free(n);
	free(key);
	free(text);
	free(cfg);
}

Test(p11int, allow_network_config)
{
	char *out = NULL, *err = NULL, *cmd;
	int rc;

	tool_keygen("EC:edwards25519");
	free(init_token());
	make_alice();
	config_insert(", \"pkcs11_allow_network\": \"yes\"");
	rc = tu_jitcad(state, "config check", &out, &err);
	cr_assert_eq(rc, 1);
	cr_assert_str_eq(err,
	    "jitcad config check: ca.pkcs11_allow_network: "
	    "expected true or false, got a string\n");
	free(out);
	free(err);
	/* true: the signer's filter lets TCP through; SoftHSM2 signs the
	 * same. */
	{
		char *cfg = tu_fmt("%s/jitca.json", state);
		char *text = tu_read_file(cfg, NULL), *p;

		cr_assert_not_null(p = strstr(text, "\"yes\""));
		memcpy(p, "true ", 5);
		tu_write_file(cfg, text, strlen(text), 0644);
		free(text);
		free(cfg);
	}
	cmd = tu_fmt("issue --user alice --role staging --public-key '%s.pub' "
		     "--reason 'network allowed'",
	    id_path);
	out = tu_jitcad_ok(state, cmd);
	cr_assert_eq(strncmp(out, "ssh-ed25519-cert-v01@openssh.com ", 33), 0,
	    "%s", out);
	free(out);
	free(cmd);
}

/* issue for alice must fail with exactly want on stderr. */
static void
issue_refused(const char *want)
{
	char *cmd = tu_fmt("issue --user alice --role staging --public-key "
			   "'%s.pub' --reason 'token keys'",
	    id_path);
	char *out = NULL, *err = NULL;
	int rc = tu_jitcad(state, cmd, &out, &err);

	cr_assert_eq(rc, 1, "issue: exit %d: %s", rc, err);
	cr_assert_str_eq(err, want);
	free(out);
	free(err);
	free(cmd);
}

/* jitca.json's text restored from saved, then what inserted. */
static void
config_reset(const char *saved, const char *what)
{
	char *cfg = tu_fmt("%s/jitca.json", state);

	tu_write_file(cfg, saved, strlen(saved), 0644);
	free(cfg);
	config_insert(what);
}

/*
 * The host CA and ledger keys from the token too: the signer loads all
 * three through the same code (the ledger key's Ed25519 rule and the
 * one-key-per-source rule apply to token keys), and issue works.
 */
Test(p11int, host_and_ledger_keys_in_token)
{
	char *cfg = tu_fmt("%s/jitca.json", state), *saved, *cmd, *out, *f;
	char *cmd2 = NULL;

	tool_keygen("EC:edwards25519");
	cmd2 = tu_fmt("pkcs11-tool --module " MODULE " --token-label jitca "
		      "--login --pin 1234 --keypairgen --key-type "
		      "EC:prime256v1 --label host-ca --id 02 --usage-sign && "
		      "pkcs11-tool --module " MODULE " --token-label jitca "
		      "--login --pin 1234 --keypairgen --key-type "
		      "EC:edwards25519 --label ledger --id 03 --usage-sign");
	cr_assert_eq(tu_sh(cmd2, NULL, NULL), 0);
	free(cmd2);
	free(init_token());
	make_alice();
	/* The file keys init made must not be what is used. */
	f = tu_fmt("%s/host_ca_key.pem", state);
	cr_assert_eq(unlink(f), 0);
	free(f);
	f = tu_fmt("%s/ledger_key.pem", state);
	cr_assert_eq(unlink(f), 0);
	free(f);
	saved = tu_read_file(cfg, NULL);

	config_reset(saved,
	    ", \"host_key\": \"pkcs11:token=jitca;object=host-ca\", "
	    "\"ledger_key\": \"pkcs11:token=jitca;object=host-ca\"");
	issue_refused(
	    "jitcad issue: " URI ": the ledger key is not an Ed25519 key\n");
	config_reset(
	    saved, ", \"host_key\": \"pkcs11:token=jitca;object=user-ca\"");
	issue_refused("jitcad issue: " URI
		      ": the user CA, host CA and ledger keys must differ\n");

	config_reset(saved,
	    ", \"host_key\": \"pkcs11:token=jitca;object=host-ca\", "
	    "\"ledger_key\": \"pkcs11:token=jitca;object=ledger\"");
	cmd = tu_fmt("issue --user alice --role staging --public-key '%s.pub' "
		     "--reason 'token keys'",
	    id_path);
	out = tu_jitcad_ok(state, cmd);
	cr_assert_eq(strncmp(out, "ssh-ed25519-cert-v01@openssh.com ", 33), 0,
	    "%s", out);
	free(out);
	free(cmd);
	free(saved);
	free(cfg);
}
