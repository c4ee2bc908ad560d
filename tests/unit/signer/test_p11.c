/*
 * test_p11.c: CA keys in a PKCS#11 token (signer/p11.c) against a real
 * SoftHSM2 token, never skipped.
 *
 * Every test gets its own SOFTHSM2_CONF and token directory in a fresh
 * temporary directory, a token "jitca" made by softhsm2-util (user PIN
 * 1234, SO PIN 5678) and a 0600 PIN file.  Keys are made both by
 * p11_key_generate() and by the real pkcs11-tool (opensc).  For Ed25519,
 * P-256, P-384 and RSA-3072 the signatures are checked by jitca's own
 * verifier and certificates signed through the token are read by the
 * real ssh-keygen -L and log in to a real sshd (tests/lib/sshd.h), which
 * names the CA key type in its log.  Then the refusals, each with its
 * exact code: malformed URIs, wrong PIN (and the PIN is not locked
 * afterwards), missing or non-PKCS#11 modules, missing token or object,
 * ambiguous names, extractable keys, PIN file modes and owners; a token
 * that disappears while a key is open (ERR_TOKEN_UNAVAILABLE, then
 * signing again once it is back), comes back with another key
 * (ERR_P11_KEY_CHANGED) or with a changed PIN (never retried); keys that
 * want the PIN per signature; and that the private key's secret value
 * cannot be read (CKR_ATTRIBUTE_SENSITIVE), asked of the module directly
 * rather than through p11.c.
 *
 * The last test prints signatures per second through SoftHSM2 for each
 * key type; it asserts nothing about speed.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <p11-kit-1/p11-kit/pkcs11.h>

#include "signer/cert.h"
#include "signer/p11.h"
#include "signer/pubkey.h"
#include "tests/lib/jitcad.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"

static char *dir; /* per test */
static char *pin_path;
static char *tokens;

static void
setup(void)
{
	dir = tu_tmpdir();
	pin_path = tu_softhsm_token(dir, &tokens);
}

static void
teardown(void)
{
	if (dir != NULL)
		tu_rmtree(dir);
	free(dir);
	free(pin_path);
	free(tokens);
	dir = pin_path = tokens = NULL;
	tu_keep_free();
}

TestSuite(p11, .init = setup, .fini = teardown, .timeout = 120);

/* pkcs11-tool --keypairgen on token jitca; extra is added verbatim. */
static void
tool_keygen(
    const char *type, const char *label, const char *id, const char *extra)
{
	char *cmd, *err = NULL;
	int rc;

	cmd = tu_fmt("pkcs11-tool --module " MODULE " --token-label jitca "
		     "--login --pin 1234 --keypairgen --key-type %s "
		     "--label %s --id %s %s",
	    type, label, id, extra != NULL ? extra : "");
	rc = tu_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "%s: %s", cmd, err);
	free(err);
	free(cmd);
}

static struct p11_key *
open_ok(const char *uri)
{
	struct p11_key *k = NULL;
	int r = p11_key_open(&k, uri, MODULE, pin_path);

	cr_assert_eq(r, 0, "%s: %s (%s)", uri, err_str(r), p11_detail());
	cr_assert_not_null(p11_key_public(k));
	return k;
}

static int
open_err(const char *uri, const char *module, const char *pin)
{
	struct p11_key *k = NULL;
	int r = p11_key_open(&k, uri, module, pin);

	if (r == 0)
		p11_key_free(k);
	else
		cr_assert_null(k);
	return r;
}

/* Sign and check with verify.c; returns the algorithm name. */
static const char *
sign_verify(struct p11_key *k)
{
	static const uint8_t msg[] = "to be signed by the token";
	uint8_t *sig = NULL;
	size_t siglen = 0;
	const char *alg = NULL;
	int r;

	r = p11_key_sign(k, &sig, &siglen, msg, sizeof(msg));
	cr_assert_eq(r, 0, "sign: %s (%s)", err_str(r), p11_detail());
	cr_assert_eq(pubkey_verify(p11_key_public(k), sig, siglen, msg,
			 sizeof(msg), &alg),
	    0);
	/* One changed byte of the message: refused. */
	cr_assert_eq(pubkey_verify(p11_key_public(k), sig, siglen,
			 (const uint8_t *)"to be signed by the tokeN",
			 sizeof(msg), NULL),
	    ERR_SIG_INVALID);
	free(sig);
	return alg;
}

/* ---- signing, per key type ---------------------------------------- */

struct kind {
	enum key_type t;
	const char *tool; /* pkcs11-tool --key-type */
	const char *alg;
	const char *short_name; /* ssh-keygen -L "Signing CA:" */
};
static const struct kind kinds[] = {
    {KEY_ED25519, "EC:edwards25519", "ssh-ed25519", "ED25519"},
    {KEY_ECDSA_P256, "EC:prime256v1", "ecdsa-sha2-nistp256", "ECDSA"},
    {KEY_ECDSA_P384, "EC:secp384r1", "ecdsa-sha2-nistp384", "ECDSA"},
    {KEY_RSA, "rsa:3072", "rsa-sha2-512", "RSA"},
};

Test(p11, tool_keys_sign_and_verify)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		char *label = tu_keep(tu_fmt("k%zu", i));
		char *id = tu_keep(tu_fmt("1%zu", i));
		char *uri =
		    tu_keep(tu_fmt("pkcs11:token=jitca;object=%s", label));
		struct p11_key *k;

		tool_keygen(kinds[i].tool, label, id, NULL);
		k = open_ok(uri);
		cr_assert_eq(pubkey_type(p11_key_public(k)), kinds[i].t);
		if (kinds[i].t == KEY_RSA)
			cr_assert_eq(pubkey_bits(p11_key_public(k)), 3072);
		cr_assert_str_eq(sign_verify(k), kinds[i].alg);
		p11_key_free(k);
		/* The same key by id alone (percent-encoded bytes). */
		uri = tu_keep(tu_fmt("pkcs11:token=jitca;id=%%1%zu", i));
		k = open_ok(uri);
		cr_assert_str_eq(sign_verify(k), kinds[i].alg);
		p11_key_free(k);
	}
}

Test(p11, generated_keys_sign_and_verify)
{
	struct pubkey *pub = NULL;
	size_t i;
	int r;

	for (i = 0; i < 4; i++) {
		char *uri = tu_keep(
		    tu_fmt("pkcs11:token=jitca;object=gen%zu;id=%%a%zu", i, i));
		struct p11_key *k;

		r = p11_key_generate(&pub, uri, MODULE, pin_path, kinds[i].t);
		cr_assert_eq(
		    r, 0, "%s: %s (%s)", uri, err_str(r), p11_detail());
		cr_assert_eq(pubkey_type(pub), kinds[i].t);
		k = open_ok(uri);
		cr_assert(pubkey_equal(pub, p11_key_public(k)));
		cr_assert_str_eq(sign_verify(k), kinds[i].alg);
		p11_key_free(k);
		/* The same name again: refused, the first key kept. */
		cr_assert_eq(
		    p11_key_generate(NULL, uri, MODULE, pin_path, kinds[i].t),
		    ERR_P11_EXISTS);
		pubkey_free(pub);
		pub = NULL;
	}
	cr_assert_eq(p11_key_generate(NULL, "pkcs11:token=jitca;object=x",
			 MODULE, pin_path, KEY_ECDSA_P521),
	    ERR_KEY_UNSUPPORTED_CA);
}

/* A user key made by ssh-keygen in dir, and its public half. */
static char *
user_key(struct pubkey **pub)
{
	char *id = tu_fmt("%s/id_ed25519", dir), *cmd, *err = NULL, *text;
	char *pubpath = tu_fmt("%s.pub", id);
	int rc;

	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f %s", id);
	rc = tu_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "%s", err);
	text = tu_read_file(pubpath, NULL);
	cr_assert_not_null(text);
	cr_assert_eq(pubkey_from_line(pub, text, strlen(text)), 0);
	free(text);
	free(cmd);
	free(err);
	free(pubpath);
	return id;
}

/* A user certificate for user_pub signed through the token; written
 * next to the user key as <id>-cert.pub.  Returns its path. */
static char *
token_cert(struct p11_key *k, const struct pubkey *user_pub,
    const char *id_path, const char *principal)
{
	struct cert *c = cert_new();
	char *line = NULL, *path = tu_fmt("%s-cert.pub", id_path), *nl;
	int64_t now = (int64_t)time(NULL);
	int r;

	cr_assert_not_null(c);
	c->key = tu_pubkey_copy(user_pub);
	c->ca_key = tu_pubkey_copy(p11_key_public(k));
	cr_assert_eq(cert_set_random_nonce(c), 0);
	c->serial = 42;
	c->type = CERT_TYPE_USER;
	c->key_id = strdup("alice:prod:req-1:serial-42");
	cr_assert_eq(cert_add_principal(c, principal), 0);
	c->valid_after = (uint64_t)(now - 60);
	c->valid_before = (uint64_t)(now + 600);
	cr_assert_eq(cert_add_extension(c, "permit-pty", NULL), 0);
	r = cert_sign(c, p11_sign_fn, k);
	cr_assert_eq(r, 0, "cert_sign: %s (%s)", err_str(r), p11_detail());
	cr_assert_eq(cert_to_line(&line, c, "alice"), 0);
	nl = tu_fmt("%s\n", line);
	tu_write_file(path, nl, strlen(nl), 0644);
	free(nl);
	free(line);
	cert_free(c);
	return path;
}

Test(p11, certificates_read_by_ssh_keygen)
{
	struct pubkey *user_pub = NULL;
	char *id_path = user_key(&user_pub);
	size_t i;

	for (i = 0; i < 4; i++) {
		char *uri =
		    tu_keep(tu_fmt("pkcs11:token=jitca;object=c%zu", i));
		char *idhex = tu_keep(tu_fmt("2%zu", i));
		char fp[PUBKEY_FP_LEN], *cert, *cmd, *out = NULL, *err = NULL;
		char *want;
		struct p11_key *k;
		int rc;

		tool_keygen(kinds[i].tool,
		    uri +
			strlen("pkcs11:token=jitca;"
			       "object="),
		    idhex, NULL);
		k = open_ok(uri);
		cert = token_cert(k, user_pub, id_path, "alice");
		cmd = tu_fmt("ssh-keygen -L -f %s", cert);
		rc = tu_sh(cmd, &out, &err);
		cr_assert_eq(rc, 0, "%s: %s", cmd, err);
		cr_assert_eq(pubkey_fingerprint(fp, p11_key_public(k)), 0);
		want = tu_fmt("Signing CA: %s %s (using %s)",
		    kinds[i].short_name, fp, kinds[i].alg);
		cr_assert(strstr(out, want) != NULL, "%s\nwant %s", out, want);
		cr_assert(strstr(out, "Serial: 42") != NULL, "%s", out);
		free(want);
		free(cmd);
		free(out);
		free(err);
		free(cert);
		p11_key_free(k);
	}
	pubkey_free(user_pub);
	free(id_path);
}

/* Certificates signed through the token log in to a real sshd. */
static void
sshd_login(const struct kind *kd, int generated)
{
	struct pubkey *user_pub = NULL;
	struct test_sshd *s = NULL;
	struct p11_key *k;
	char *id_path = user_key(&user_pub), *line = NULL, *user, *cert;
	char *out = NULL, *err = NULL;
	const char *uri = "pkcs11:token=jitca;object=ssh-ca;id=%05";
	char *want;
	int rc;

	if (generated)
		cr_assert_eq(
		    p11_key_generate(NULL, uri, MODULE, pin_path, kd->t), 0);
	else
		tool_keygen(kd->tool, "ssh-ca", "05", NULL);
	k = open_ok(uri);
	cr_assert_eq(pubkey_to_line(&line, p11_key_public(k), "token-ca"), 0);
	sshd_start(&s, line);
	user = sshd_user();
	sshd_set_principals(s, user, "alice", NULL);
	cert = token_cert(k, user_pub, id_path, "alice");
	rc = sshd_ssh(s, user, id_path, cert, "echo jitca-ok", &out, &err);
	cr_assert_eq(rc, 0, "ssh: %s\nlog:\n%s", err, sshd_log(s));
	cr_assert_str_eq(out, "jitca-ok\n");
	want = tu_keep(tu_fmt(" (serial 42) CA %s ", kd->short_name));
	cr_assert(sshd_log_wait(s, want, 5000), "%s", sshd_log(s));
	free(out);
	free(err);
	free(cert);
	/* A certificate for a principal the host does not list: refused,
	 * so the login above was the certificate's doing. */
	cert = token_cert(k, user_pub, id_path, "mallory");
	out = err = NULL;
	rc = sshd_ssh(s, user, id_path, cert, "echo jitca-ok", &out, &err);
	cr_assert_eq(rc, 255, "ssh: %s", out);
	free(out);
	free(err);
	free(cert);
	sshd_stop(s);
	p11_key_free(k);
	pubkey_free(user_pub);
	free(user);
	free(line);
	free(id_path);
}

Test(p11, sshd_accepts_ed25519_token_cert)
{
	sshd_login(&kinds[0], 0);
}

Test(p11, sshd_accepts_p256_token_cert)
{
	sshd_login(&kinds[1], 1);
}

Test(p11, sshd_accepts_p384_token_cert)
{
	sshd_login(&kinds[2], 0);
}

Test(p11, sshd_accepts_rsa_token_cert)
{
	sshd_login(&kinds[3], 1);
}

/* ---- refusals ----------------------------------------------------- */

Test(p11, uri_table)
{
	static const struct {
		const char *uri;
		int want;
	} cases[] = {
	    {"pkcs11:token=jitca;object=user-ca", 0},
	    {"PKCS11:object=a", 0},
	    {"pkcs11:id=%01%02", 0},
	    {"pkcs11:object=a;type=private", 0},
	    {"pkcs11:object=a%20b;token=My%3bToken", 0},
	    {"pkcs11:object=a;library-version=2.6", 0},
	    {"pkcs11:object=a;library-version=3", 0},
	    {"pkcs11:object=a?pin-source=file:/etc/pin&module-path=/m.so", 0},
	    {"pkcs11:object=a?pin-source=file:///etc/pin", 0},
	    {"pkcs11:object=a?pin-source=/etc/pin", 0},
	    {"pkcs11:object=a&b", 0},
	    {"pkcs11:object=a?module-path=/a/b|c?d", 0},
	    {"pkcs12:object=a", ERR_P11_URI_SCHEME},
	    {"object=a", ERR_P11_URI_SCHEME},
	    {"", ERR_P11_URI_SCHEME},
	    {"pkcs11:", ERR_P11_URI_NO_KEY},
	    {"pkcs11:token=jitca", ERR_P11_URI_NO_KEY},
	    {"pkcs11:token=jitca?pin-source=/p", ERR_P11_URI_NO_KEY},
	    {"pkcs11:object", ERR_P11_URI_SYNTAX},
	    {"pkcs11:=a", ERR_P11_URI_SYNTAX},
	    {"pkcs11:object=a;", ERR_P11_URI_SYNTAX},
	    {"pkcs11:object=a;;token=b", ERR_P11_URI_SYNTAX},
	    {"pkcs11:object=a?", ERR_P11_URI_SYNTAX},
	    {"pkcs11:object=a?module-path=/m&", ERR_P11_URI_SYNTAX},
	    {"pkcs11:object=a b", ERR_P11_URI_SYNTAX},
	    {"pkcs11:object=a/b", ERR_P11_URI_SYNTAX},
	    {"pkcs11:object=a#frag", ERR_P11_URI_SYNTAX},
	    {"pkcs11:object=a?module-path=/m;x", ERR_P11_URI_SYNTAX},
	    {"pkcs11:object=a;slot-id=1", ERR_P11_URI_ATTR},
	    {"pkcs11:object=a;x-vendor=1", ERR_P11_URI_ATTR},
	    {"pkcs11:Object=a", ERR_P11_URI_ATTR},
	    {"pkcs11:object=a;module-path=/m", ERR_P11_URI_ATTR},
	    {"pkcs11:object=a?token=b", ERR_P11_URI_ATTR},
	    {"pkcs11:object=a?module-name=softhsm2", ERR_P11_URI_ATTR},
	    {"pkcs11:object=a;object=b", ERR_P11_URI_DUPLICATE},
	    {"pkcs11:object=a;id=%01;id=%01", ERR_P11_URI_DUPLICATE},
	    {"pkcs11:object=a?pin-source=/a&pin-source=/a",
		ERR_P11_URI_DUPLICATE},
	    {"pkcs11:object=", ERR_P11_URI_EMPTY},
	    {"pkcs11:token=;object=a", ERR_P11_URI_EMPTY},
	    {"pkcs11:object=a?pin-source=", ERR_P11_URI_EMPTY},
	    {"pkcs11:object=%", ERR_P11_URI_PERCENT},
	    {"pkcs11:object=%4", ERR_P11_URI_PERCENT},
	    {"pkcs11:object=%zz", ERR_P11_URI_PERCENT},
	    {"pkcs11:id=%0g", ERR_P11_URI_PERCENT},
	    {"pkcs11:object=a%00b", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a%0a", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a%7f", ERR_P11_URI_VALUE},
	    {"pkcs11:token=123456789012345678901234567890123;object=a",
		ERR_P11_URI_VALUE},
	    {"pkcs11:serial=12345678901234567;object=a", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a;type=public", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a;type=secret-key", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a;library-version=2.", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a;library-version=.6", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a;library-version=256", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a;library-version=1.2.3", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a?pin-source=relative/pin", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a?pin-source=file://host/pin", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a?pin-source=|/bin/cat", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a?module-path=libsofthsm2.so", ERR_P11_URI_VALUE},
	    {"pkcs11:object=a?pin-value=1234", ERR_P11_URI_PIN_VALUE},
	};
	struct p11_uri *u = NULL;
	char *big;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = p11_uri_parse(&u, cases[i].uri);
		cr_expect_eq(r, cases[i].want, "%s: got %s (%d), want %d",
		    cases[i].uri, err_str(r), r, cases[i].want);
		if (r == 0)
			cr_assert_not_null(u);
		else
			cr_assert_null(u);
		p11_uri_free(u);
		u = NULL;
	}

	/* What the fields hold. */
	cr_assert_eq(
	    p11_uri_parse(&u,
		"pkcs11:token=My%3bToken;object=user%20ca;id=%00%ff;"
		"manufacturer=SoftHSM%20project;serial=abc;model=SoftHSM"
		"%20v2;library-version=2.6?pin-source=file:/run/pin&"
		"module-path=/usr/lib/softhsm/libsofthsm2.so"),
	    0);
	cr_assert_str_eq(u->token, "My;Token");
	cr_assert_str_eq(u->object, "user ca");
	cr_assert_eq(u->id_len, 2);
	cr_assert_eq(u->id[0], 0x00);
	cr_assert_eq(u->id[1], 0xff);
	cr_assert_str_eq(u->manufacturer, "SoftHSM project");
	cr_assert_str_eq(u->serial, "abc");
	cr_assert_str_eq(u->model, "SoftHSM v2");
	cr_assert(u->has_lib_version && u->lib_major == 2 && u->lib_minor == 6);
	cr_assert_str_eq(u->pin_source, "/run/pin");
	cr_assert_str_eq(u->module_path, "/usr/lib/softhsm/libsofthsm2.so");
	p11_uri_free(u);
	u = NULL;

	/* Exactly at the limits, then one byte over. */
	big = tu_keep(malloc(P11_URI_MAX + 2));
	memset(big, 'a', P11_URI_MAX + 1);
	memcpy(big, "pkcs11:id=", 10);
	big[P11_URI_MAX + 1] = '\0';
	cr_assert_eq(p11_uri_parse(&u, big), ERR_TOO_LARGE);
	big[10 + P11_VALUE_MAX] = '\0';
	cr_assert_eq(p11_uri_parse(&u, big), 0);
	cr_assert_eq(u->id_len, P11_VALUE_MAX);
	p11_uri_free(u);
	u = NULL;
	big[10 + P11_VALUE_MAX] = 'a';
	big[10 + P11_VALUE_MAX + 1] = '\0';
	cr_assert_eq(p11_uri_parse(&u, big), ERR_P11_URI_VALUE);
	cr_assert_eq(p11_uri_parse(&u,
			 "pkcs11:token=12345678901234567890123456789012;"
			 "object=a"),
	    0);
	p11_uri_free(u);
	cr_assert(p11_uri_is("pkcs11:object=a"));
	cr_assert(!p11_uri_is("/etc/jitca/ca_key.pem"));
	cr_assert(!p11_uri_is(NULL));
}

Test(p11, wrong_pin_refused_and_not_locked)
{
	char *bad = tu_keep(tu_fmt("%s/badpin", dir));
	struct p11_key *k;
	int i;

	tool_keygen("EC:prime256v1", "ca", "01", NULL);
	tu_write_file(bad, "0000\n", 5, 0600);
	/* SoftHSM2 keeps no retry counter: many wrong PINs, then the
	 * right one still works.  (A real HSM may lock; jitca itself
	 * never retries a refused PIN, see the reconnection test.) */
	for (i = 0; i < 5; i++)
		cr_assert_eq(
		    open_err("pkcs11:token=jitca;object=ca", MODULE, bad),
		    ERR_P11_PIN_INCORRECT);
	cr_assert_str_eq(p11_detail(), "C_Login: CKR_PIN_INCORRECT");
	k = open_ok("pkcs11:token=jitca;object=ca");
	cr_assert_str_eq(sign_verify(k), "ecdsa-sha2-nistp256");
	p11_key_free(k);
	/* The PIN file without its newline works the same. */
	tu_write_file(pin_path, "1234", 4, 0600);
	k = open_ok("pkcs11:token=jitca;object=ca");
	p11_key_free(k);
	/* Only one newline is trimmed. */
	tu_write_file(pin_path, "1234\n\n", 6, 0600);
	cr_assert_eq(open_err("pkcs11:token=jitca;object=ca", MODULE, pin_path),
	    ERR_P11_PIN_INCORRECT);
}

Test(p11, pin_file_checks)
{
	const char *uri = "pkcs11:token=jitca;object=ca";
	char *p = tu_keep(tu_fmt("%s/pin2", dir));
	char *missing = tu_keep(tu_fmt("%s/none", dir));
	char *big = tu_keep(calloc(1, P11_PIN_MAX + 2));

	tool_keygen("EC:prime256v1", "ca", "01", NULL);
	tu_write_file(p, "1234\n", 5, 0640);
	cr_assert_eq(open_err(uri, MODULE, p), ERR_P11_PIN_FILE_MODE);
	cr_assert_eq(chmod(p, 0604), 0);
	cr_assert_eq(open_err(uri, MODULE, p), ERR_P11_PIN_FILE_MODE);
	cr_assert_eq(chmod(p, 0400), 0);
	cr_assert_eq(open_err(uri, MODULE, p), 0);
	cr_assert_eq(open_err(uri, MODULE, missing), ERR_P11_PIN_FILE);
	cr_assert_eq(open_err(uri, MODULE, dir), ERR_P11_PIN_FILE);
	cr_assert_eq(open_err(uri, MODULE, NULL), ERR_P11_PIN_FILE);
	tu_write_file(p, "\n", 1, 0600);
	cr_assert_eq(open_err(uri, MODULE, p), ERR_P11_PIN_FILE);
	memset(big, '1', P11_PIN_MAX + 1);
	tu_write_file(p, big, P11_PIN_MAX + 1, 0600);
	cr_assert_eq(open_err(uri, MODULE, p), ERR_TOO_LARGE);
	/* Owned by another user. */
	tu_write_file(p, "1234\n", 5, 0600);
	cr_assert_eq(chown(p, 65534, 65534), 0);
	cr_assert_eq(open_err(uri, MODULE, p), ERR_KEY_FILE_OWNER);
	/* From the URI's pin-source, and a conflict with the config. */
	cr_assert_eq(
	    open_err(tu_keep(tu_fmt("%s?pin-source=file:%s", uri, pin_path)),
		MODULE, NULL),
	    0);
	cr_assert_eq(
	    open_err(tu_keep(tu_fmt("%s?pin-source=file:%s", uri, pin_path)),
		MODULE, p),
	    ERR_P11_CONFLICT);
}

Test(p11, module_errors)
{
	const char *uri = "pkcs11:token=jitca;object=ca";

	tool_keygen("EC:prime256v1", "ca", "01", NULL);
	cr_assert_eq(open_err(uri, NULL, pin_path), ERR_P11_NO_MODULE);
	cr_assert_eq(open_err(uri, "", pin_path), ERR_P11_NO_MODULE);
	cr_assert_eq(open_err(uri, "/nonexistent/libnothing.so", pin_path),
	    ERR_P11_MODULE);
	cr_assert(
	    strncmp(p11_detail(), "dlopen: ", 8) == 0, "%s", p11_detail());
	cr_assert_eq(open_err(uri, "libsofthsm2.so", pin_path), ERR_P11_MODULE);
	/* A shared library that is not a PKCS#11 module. */
	cr_assert_eq(open_err(uri, "/lib/x86_64-linux-gnu/libc.so.6", pin_path),
	    ERR_P11_NOT_MODULE);
	/* A file that is not a library at all. */
	cr_assert_eq(open_err(uri, pin_path, pin_path), ERR_P11_MODULE);
	/* The module from the URI, and a conflict with the config. */
	cr_assert_eq(
	    open_err("pkcs11:token=jitca;object=ca?module-path=" MODULE, NULL,
		pin_path),
	    0);
	cr_assert_eq(
	    open_err("pkcs11:token=jitca;object=ca?module-path=" MODULE,
		"/usr/lib/other.so", pin_path),
	    ERR_P11_CONFLICT);
}

Test(p11, token_and_object_errors)
{
	tool_keygen("EC:prime256v1", "ca", "01", NULL);
	tool_keygen("EC:prime256v1", "twice", "02", NULL);
	tool_keygen("EC:prime256v1", "twice", "03", NULL);
	cr_assert_eq(open_err("pkcs11:token=other;object=ca", MODULE, pin_path),
	    ERR_P11_NO_TOKEN);
	cr_assert_eq(open_err("pkcs11:token=jitca;manufacturer=Acme;object=ca",
			 MODULE, pin_path),
	    ERR_P11_NO_TOKEN);
	cr_assert_eq(
	    open_err("pkcs11:object=ca;library-version=99.0", MODULE, pin_path),
	    ERR_P11_NO_TOKEN);
	/* The only initialised token matches without a label. */
	cr_assert_eq(open_err("pkcs11:object=ca", MODULE, pin_path), 0);
	cr_assert_eq(
	    open_err("pkcs11:token=jitca;object=nope", MODULE, pin_path),
	    ERR_P11_NO_OBJECT);
	cr_assert_eq(
	    open_err("pkcs11:token=jitca;object=ca;id=%02", MODULE, pin_path),
	    ERR_P11_NO_OBJECT);
	cr_assert_eq(
	    open_err("pkcs11:token=jitca;object=twice", MODULE, pin_path),
	    ERR_P11_AMBIGUOUS);
	cr_assert_eq(open_err("pkcs11:token=jitca;object=twice;id=%03", MODULE,
			 pin_path),
	    0);
	/* A second token with the same label: ambiguous. */
	cr_assert_eq(tu_sh("softhsm2-util --init-token --free --label jitca "
			   "--pin 1234 --so-pin 5678 >/dev/null",
			 NULL, NULL),
	    0);
	cr_assert_eq(open_err("pkcs11:token=jitca;object=ca", MODULE, pin_path),
	    ERR_P11_AMBIGUOUS);
}

Test(p11, extractable_key_refused)
{
	tool_keygen("EC:prime256v1", "ext", "07", "--extractable");
	cr_assert_eq(
	    open_err("pkcs11:token=jitca;object=ext", MODULE, pin_path),
	    ERR_P11_EXTRACTABLE);
}

/* A key that wants the PIN again for each signature
 * (CKA_ALWAYS_AUTHENTICATE): p11.c logs in per signature. */
Test(p11, always_authenticate_key_signs)
{
	struct p11_key *k;

	tool_keygen("EC:prime256v1", "aa", "0a", "--always-auth");
	k = open_ok("pkcs11:token=jitca;object=aa");
	cr_assert_str_eq(sign_verify(k), "ecdsa-sha2-nistp256");
	cr_assert_str_eq(sign_verify(k), "ecdsa-sha2-nistp256");
	p11_key_free(k);
}

/* ---- the token going away ----------------------------------------- */

Test(p11, token_removed_then_back)
{
	char *moved = tu_keep(tu_fmt("%s/tokens.away", dir));
	struct p11_key *k;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r, i;

	tool_keygen("EC:edwards25519", "ca", "01", NULL);
	k = open_ok("pkcs11:token=jitca;object=ca");
	cr_assert_str_eq(sign_verify(k), "ssh-ed25519");

	/* The token directory disappears (an HSM unplugged). */
	cr_assert_eq(rename(tokens, moved), 0);
	cr_assert_eq(mkdir(tokens, 0700), 0);
	for (i = 0; i < 3; i++) {
		r = p11_key_sign(k, &sig, &siglen, (const uint8_t *)"x", 1);
		cr_assert_eq(r, ERR_TOKEN_UNAVAILABLE, "try %d: %s (%s)", i,
		    err_str(r), p11_detail());
		cr_assert_null(sig);
	}
	/* The message says what the module said and what reconnecting
	 * found. */
	cr_assert(strstr(p11_detail(), "no token matches") != NULL, "%s",
	    p11_detail());

	/* Back: the next signature works, by the same key. */
	cr_assert_eq(rmdir(tokens), 0);
	cr_assert_eq(rename(moved, tokens), 0);
	cr_assert_str_eq(sign_verify(k), "ssh-ed25519");
	p11_key_free(k);
}

Test(p11, token_back_with_other_key_refused)
{
	char *moved = tu_keep(tu_fmt("%s/tokens.away", dir));
	char *err = NULL;
	struct p11_key *k;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r;

	tool_keygen("EC:prime256v1", "ca", "01", NULL);
	k = open_ok("pkcs11:token=jitca;object=ca");
	cr_assert_eq(rename(tokens, moved), 0);
	cr_assert_eq(mkdir(tokens, 0700), 0);
	/* Someone makes a new token "jitca" with a key of the same name. */
	cr_assert_eq(tu_sh("softhsm2-util --init-token --free --label jitca "
			   "--pin 1234 --so-pin 5678 >/dev/null",
			 NULL, &err),
	    0, "%s", err);
	tool_keygen("EC:prime256v1", "ca", "01", NULL);
	r = p11_key_sign(k, &sig, &siglen, (const uint8_t *)"x", 1);
	cr_assert_eq(
	    r, ERR_P11_KEY_CHANGED, "%s (%s)", err_str(r), p11_detail());
	/* And it stays refused even when the old token comes back. */
	tu_rmtree(tokens);
	cr_assert_eq(rename(moved, tokens), 0);
	r = p11_key_sign(k, &sig, &siglen, (const uint8_t *)"x", 1);
	cr_assert_eq(r, ERR_P11_KEY_CHANGED);
	p11_key_free(k);
	free(err);
}

static void
change_pin(const char *from, const char *to)
{
	char *cmd =
	    tu_fmt("pkcs11-tool --module " MODULE " --token-label jitca "
		   "--login --pin %s --change-pin --new-pin %s",
		from, to);
	char *err = NULL;
	int rc = tu_sh(cmd, NULL, &err);

	cr_assert_eq(rc, 0, "%s: %s", cmd, err);
	free(cmd);
	free(err);
}

/* The PIN changes while the signer runs, and the token goes away and
 * comes back: the reconnection's login fails, and from then on the key
 * never tries the PIN again (a real HSM would count each try), even
 * after the PIN is changed back. */
Test(p11, pin_refused_at_reconnect_is_not_retried)
{
	char *moved = tu_keep(tu_fmt("%s/tokens.away", dir));
	struct p11_key *k;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r;

	tool_keygen("EC:prime256v1", "ca", "01", NULL);
	k = open_ok("pkcs11:token=jitca;object=ca");
	change_pin("1234", "9999");
	cr_assert_eq(rename(tokens, moved), 0);
	cr_assert_eq(mkdir(tokens, 0700), 0);
	r = p11_key_sign(k, &sig, &siglen, (const uint8_t *)"x", 1);
	cr_assert_eq(r, ERR_TOKEN_UNAVAILABLE, "%s", err_str(r));
	cr_assert_eq(rmdir(tokens), 0);
	cr_assert_eq(rename(moved, tokens), 0);
	r = p11_key_sign(k, &sig, &siglen, (const uint8_t *)"x", 1);
	cr_assert_eq(
	    r, ERR_P11_PIN_INCORRECT, "%s (%s)", err_str(r), p11_detail());
	change_pin("9999", "1234");
	r = p11_key_sign(k, &sig, &siglen, (const uint8_t *)"x", 1);
	cr_assert_eq(r, ERR_P11_PIN_INCORRECT, "%s", err_str(r));
	cr_assert_null(sig);
	p11_key_free(k);
	/* A fresh open with the right PIN works. */
	k = open_ok("pkcs11:token=jitca;object=ca");
	cr_assert_str_eq(sign_verify(k), "ecdsa-sha2-nistp256");
	p11_key_free(k);
}

/* ---- the key cannot be read out ----------------------------------- */

/* Directly through the module: log in, find the private key labelled
 * label, and try to read its secret attribute (CKA_VALUE for EC and
 * EdDSA keys, CKA_PRIVATE_EXPONENT for RSA). */
static CK_RV
read_private_value(const char *label, CK_ATTRIBUTE_TYPE secret,
    CK_BBOOL *sensitive, CK_BBOOL *extractable, CK_BBOOL *never)
{
	CK_C_GetFunctionList getfl;
	CK_FUNCTION_LIST_PTR f = NULL;
	CK_SLOT_ID slots[8];
	CK_ULONG n = 8, found = 0;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE h;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)}};
	uint8_t value[1024];
	CK_ATTRIBUTE v = {secret, value, sizeof(value)};
	CK_ATTRIBUTE b[3] = {{CKA_SENSITIVE, sensitive, 1},
	    {CKA_EXTRACTABLE, extractable, 1},
	    {CKA_NEVER_EXTRACTABLE, never, 1}};
	CK_TOKEN_INFO ti;
	CK_RV rv;
	void *dl = dlopen(MODULE, RTLD_NOW), *sym;
	CK_ULONG i;

	cr_assert_not_null(dl);
	sym = dlsym(dl, "C_GetFunctionList");
	cr_assert_not_null(sym);
	memcpy(&getfl, &sym, sizeof(getfl));
	cr_assert_eq(getfl(&f), CKR_OK);
	cr_assert_eq(f->C_Initialize(NULL), CKR_OK);
	cr_assert_eq(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	for (i = 0; i < n; i++) {
		cr_assert_eq(f->C_GetTokenInfo(slots[i], &ti), CKR_OK);
		if (memcmp(ti.label, "jitca ", 6) == 0)
			break;
	}
	cr_assert_lt(i, n);
	cr_assert_eq(
	    f->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &s),
	    CKR_OK);
	cr_assert_eq(
	    f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "1234", 4), CKR_OK);
	cr_assert_eq(f->C_FindObjectsInit(s, t, 2), CKR_OK);
	cr_assert_eq(f->C_FindObjects(s, &h, 1, &found), CKR_OK);
	cr_assert_eq(f->C_FindObjectsFinal(s), CKR_OK);
	cr_assert_eq(found, 1);
	cr_assert_eq(f->C_GetAttributeValue(s, h, b, 3), CKR_OK);
	rv = f->C_GetAttributeValue(s, h, &v, 1);
	(void)f->C_Logout(s);
	(void)f->C_CloseSession(s);
	(void)f->C_Finalize(NULL);
	return rv;
}

Test(p11, private_key_cannot_be_read)
{
	CK_BBOOL sens = 0, ext = 1, never = 0;
	size_t i;

	for (i = 0; i < 4; i++) {
		char *uri =
		    tu_keep(tu_fmt("pkcs11:token=jitca;object=g%zu", i));

		cr_assert_eq(
		    p11_key_generate(NULL, uri, MODULE, pin_path, kinds[i].t),
		    0, "%s", p11_detail());
		CK_RV rv = read_private_value(
		    uri + strlen("pkcs11:token=jitca;object="),
		    kinds[i].t == KEY_RSA ? CKA_PRIVATE_EXPONENT : CKA_VALUE,
		    &sens, &ext, &never);

		cr_assert_eq(
		    rv, CKR_ATTRIBUTE_SENSITIVE, "%s: 0x%lx", kinds[i].alg, rv);
		cr_assert_eq(sens, CK_TRUE);
		cr_assert_eq(ext, CK_FALSE);
		cr_assert_eq(never, CK_TRUE);
	}
	/* pkcs11-tool's keys too (what docs/configuration.md shows). */
	tool_keygen("EC:edwards25519", "tool", "09", NULL);
	cr_assert_eq(read_private_value("tool", CKA_VALUE, &sens, &ext, &never),
	    CKR_ATTRIBUTE_SENSITIVE);
	cr_assert_eq(ext, CK_FALSE);
}

/* ---- how fast SoftHSM2 signs (printed, not asserted) -------------- */

Test(p11, signatures_per_second)
{
	static const uint8_t tbs[600] = {1}; /* about a certificate body */
	size_t i;

	for (i = 0; i < 4; i++) {
		char *uri =
		    tu_keep(tu_fmt("pkcs11:token=jitca;object=b%zu", i));
		struct p11_key *k;
		struct timespec a, b;
		uint8_t *sig = NULL;
		size_t siglen = 0;
		double secs;
		int n = 0, count = kinds[i].t == KEY_RSA ? 100 : 300;

		cr_assert_eq(
		    p11_key_generate(NULL, uri, MODULE, pin_path, kinds[i].t),
		    0);
		k = open_ok(uri);
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (n = 0; n < count; n++) {
			cr_assert_eq(
			    p11_key_sign(k, &sig, &siglen, tbs, sizeof(tbs)),
			    0);
			free(sig);
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		secs = (double)(b.tv_sec - a.tv_sec) +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		fprintf(stderr,
		    "p11 bench: %-20s %5d signatures in %.3f s: "
		    "%.0f/s\n",
		    kinds[i].alg, count, secs, (double)count / secs);
		p11_key_free(k);
	}
}
