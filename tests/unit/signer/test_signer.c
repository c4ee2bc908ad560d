/*
 * test_signer.c: the signer process (signer/signer.c).
 *
 * A real child is forked on a CA key made by cakey_generate()+cakey_save()
 * in a temp dir.  Good certificates come back signed and verify; every
 * refusal the child owes (docs/key-custody.md) is asserted with
 * its exact code, sending hand-encoded to-be-signed bodies through the
 * typed request signer_sign_user_tbs() so the parent-side builder cannot
 * refuse them first.  The role policy here is a small one of this file
 * (role "ops": the user and the principal named in a policy file), so the
 * child's policy hooks, RELOAD (it re-reads the file itself) and its
 * own refusals are tested without ca/; ca/signpolicy.c over jitca.json is
 * tested in tests/integration/test_custody.c.  Key file permissions, a
 * garbage message, concurrency, the seccomp filter and the child's
 * disabled core dumps are covered too.  With the host CA and ledger keys
 * (setup3): host certificates and each of their refusals, checkpoints
 * checked with note.h and sshsig.h against the ledger key, KRL
 * signatures and the refusal of bytes that are not a KRL, three distinct
 * keys, and restarts that must find the same three.  The real sshd and
 * ssh-keygen checks of these are in tests/integration/test_keys.c.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "signer/cakey.h"
#include "signer/cert.h"
#include "signer/krl.h"
#include "signer/note.h"
#include "signer/signer.h"
#include "signer/sshsig.h"
#include "signer/wire.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

#define HARD_MAX_TTL 3600
#define MAX_BACKDATE 120

static char *dir;
static char *key_path;
static struct cakey *ca;
static struct cakey *subject;
static struct signer *sg;
static char *policy_path;
static char *host_path;
static char *ledger_path;
static struct cakey *hostca;
static struct cakey *ledgerk;

/* ---- the test policy: role "ops" grants USER and the file's word ---- */

struct tpol {
	char word[128];
};

static int
tpol_load(void **state, struct cert_limits *lim, const char *arg)
{
	struct tpol *t;
	FILE *f;

	*state = NULL;
	if ((f = fopen(arg, "r")) == NULL)
		return ERR_SYSTEM;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		fclose(f);
		return ERR_ALLOC;
	}
	if (fgets(t->word, sizeof(t->word), f) == NULL) {
		fclose(f);
		free(t);
		return ERR_CONFIG;
	}
	fclose(f);
	t->word[strcspn(t->word, "\n")] = '\0';
	lim->hard_max_ttl = HARD_MAX_TTL;
	lim->max_backdate = MAX_BACKDATE;
	*state = t;
	return 0;
}

static int
tpol_check(const void *state, const char *user, const char *role,
    const struct cert *c, uint64_t now)
{
	const struct tpol *t = state;
	size_t i;

	(void)now;
	if (strcmp(role, "ops") != 0)
		return ERR_SIGNER_NO_ROLE;
	for (i = 0; i < c->nprincipals; i++) {
		if (strcmp(c->principals[i], user) != 0 &&
		    strcmp(c->principals[i], t->word) != 0)
			return ERR_PRINCIPAL_NOT_ALLOWED;
	}
	return 0;
}

static void
tpol_free(void *state)
{
	free(state);
}

static const struct signer_policy tpol = {tpol_load, tpol_check, tpol_free};

/* signer_start() for kp with the test policy. */
static int
start_signer(const char *kp)
{
	struct signer_params p;

	memset(&p, 0, sizeof(p));
	p.key_path = kp;
	p.policy = &tpol;
	p.policy_arg = policy_path;
	return signer_start(&sg, &p);
}

static void
setup_keys(void)
{
	dir = tu_tmpdir();
	key_path = tu_fmt("%s/ca_key.pem", dir);
	cr_assert_eq(cakey_generate(&ca, KEY_ED25519), 0);
	cr_assert_eq(cakey_save(ca, key_path), 0);
	cr_assert_eq(cakey_generate(&subject, KEY_ED25519), 0);
	policy_path = tu_fmt("%s/policy", dir);
	tu_write_file(policy_path, "debug\n", 6, 0644);
}

static void
setup(void)
{
	setup_keys();
	cr_assert_eq(start_signer(key_path), 0);
	cr_assert_not_null(sg);
}

static void
teardown(void)
{
	signer_stop(sg);
	sg = NULL;
	cakey_free(ca);
	cakey_free(subject);
	ca = subject = NULL;
	if (dir != NULL)
		tu_rmtree(dir);
	free(dir);
	free(key_path);
	free(policy_path);
	dir = key_path = policy_path = NULL;
	cakey_free(hostca);
	cakey_free(ledgerk);
	hostca = ledgerk = NULL;
	free(host_path);
	free(ledger_path);
	host_path = ledger_path = NULL;
}

/* A good user certificate for the subject key, signed by the signer. */
static struct cert *
good_cert(uint64_t serial)
{
	struct cert *c = cert_new();
	uint64_t now = (uint64_t)time(NULL);

	cr_assert_not_null(c);
	c->key = tu_pubkey_copy(cakey_public(subject));
	c->ca_key = tu_pubkey_copy(signer_public(sg));
	cr_assert_eq(cert_set_random_nonce(c), 0);
	c->serial = serial;
	c->type = CERT_TYPE_USER;
	c->key_id =
	    tu_fmt("alice@test:req-1:serial-%llu", (unsigned long long)serial);
	cr_assert_eq(cert_add_principal(c, "alice"), 0);
	cr_assert_eq(cert_add_principal(c, "debug"), 0);
	c->valid_after = now - 60;
	c->valid_before = now + 1800;
	cr_assert_eq(cert_add_critical(c, "source-address", "10.0.0.0/8"), 0);
	cr_assert_eq(cert_add_extension(c, "permit-pty", NULL), 0);
	return c;
}

/* ---- hand-made to-be-signed bodies -------------------------------- */

struct tbs_spec {
	uint32_t type;
	uint64_t serial;
	const char *key_id;
	const char *principals[3];
	size_t nprincipals;
	uint64_t valid_after, valid_before;
	const char *crit_name, *crit_value;
	const char *ext_name;
	const struct pubkey *ca;
	int trailing;
};

static struct tbs_spec
good_spec(void)
{
	uint64_t now = (uint64_t)time(NULL);
	struct tbs_spec t;

	memset(&t, 0, sizeof(t));
	t.type = CERT_TYPE_USER;
	t.serial = 42;
	t.key_id = "alice@test";
	t.principals[0] = "alice";
	t.nprincipals = 1;
	t.valid_after = now - 30;
	t.valid_before = now + 600;
	t.ext_name = "permit-pty";
	t.ca = signer_public(sg);
	return t;
}

/* Field order of PROTOCOL.certkeys, written with the wire API. */
static struct wire *
tbs_encode(const struct tbs_spec *t)
{
	struct wire *w = wire_new(CERT_MAX_BLOB), *sub = wire_new(8192);
	struct wire *inner = wire_new(4096);
	const struct pubkey *sk = cakey_public(subject);
	uint8_t nonce[CERT_NONCE_LEN];
	size_t i;

	cr_assert(w != NULL && sub != NULL && inner != NULL);
	memset(nonce, 0x5a, sizeof(nonce));
	cr_assert_eq(
	    wire_put_cstring(w, key_type_cert_name(pubkey_type(sk))), 0);
	cr_assert_eq(wire_put_string(w, nonce, sizeof(nonce)), 0);
	cr_assert_eq(pubkey_put_fields(w, sk), 0);
	cr_assert_eq(wire_put_u64(w, t->serial), 0);
	cr_assert_eq(wire_put_u32(w, t->type), 0);
	cr_assert_eq(wire_put_cstring(w, t->key_id), 0);
	for (i = 0; i < t->nprincipals; i++)
		cr_assert_eq(wire_put_cstring(sub, t->principals[i]), 0);
	cr_assert_eq(wire_put_stringb(w, sub), 0);
	wire_reset(sub);
	cr_assert_eq(wire_put_u64(w, t->valid_after), 0);
	cr_assert_eq(wire_put_u64(w, t->valid_before), 0);
	if (t->crit_name != NULL) {
		cr_assert_eq(wire_put_cstring(sub, t->crit_name), 0);
		if (t->crit_value != NULL) {
			cr_assert_eq(wire_put_cstring(inner, t->crit_value), 0);
			cr_assert_eq(wire_put_stringb(sub, inner), 0);
		} else {
			cr_assert_eq(wire_put_string(sub, NULL, 0), 0);
		}
	}
	cr_assert_eq(wire_put_stringb(w, sub), 0);
	wire_reset(sub);
	if (t->ext_name != NULL) {
		cr_assert_eq(wire_put_cstring(sub, t->ext_name), 0);
		cr_assert_eq(wire_put_string(sub, NULL, 0), 0);
	}
	cr_assert_eq(wire_put_stringb(w, sub), 0);
	cr_assert_eq(wire_put_string(w, NULL, 0), 0); /* reserved */
	cr_assert_eq(pubkey_put_blob(w, t->ca), 0);
	if (t->trailing)
		cr_assert_eq(wire_put_u8(w, 0), 0);
	wire_free(sub);
	wire_free(inner);
	return w;
}

/* Send a hand-made body through SIGN_USER for (alice, ops) or, with
 * host, SIGN_HOST for host "web1"; returns the signer's answer.  On
 * success the signature is by the user (host) CA over exactly the bytes
 * sent, and for a user one not empty; else none came back. */
static int
send_spec(const struct tbs_spec *t, int host)
{
	struct wire *w = tbs_encode(t);
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r;

	if (host)
		r = signer_sign_host_tbs(
		    sg, "web1", wire_ptr(w), wire_len(w), &sig, &siglen);
	else
		r = signer_sign_user_tbs(sg, "alice", "ops", wire_ptr(w),
		    wire_len(w), &sig, &siglen);
	if (r == 0) {
		if (!host) {
			cr_assert_not_null(sig);
			cr_assert_gt(siglen, 0);
		}
		/* The signature is over exactly the bytes sent. */
		cr_assert_eq(pubkey_verify(host ? signer_public_host(sg)
						: signer_public(sg),
				 sig, siglen, wire_ptr(w), wire_len(w), NULL),
		    0);
	} else {
		cr_assert_null(sig);
		cr_assert_eq(siglen, 0);
	}
	free(sig);
	wire_free(w);
	return r;
}

/* Send a hand-made body; returns the signer's answer. */
static int
sign_spec(const struct tbs_spec *t)
{
	return send_spec(t, 0);
}

/* ---- good path ---------------------------------------------------- */

Test(signer, good_cert_signed_and_verifies, .init = setup, .fini = teardown)
{
	struct cert *c = good_cert(7), *back = NULL;
	char *line = NULL, *path, *out = NULL, *err = NULL, *cmd;
	int rc;

	cr_assert(pubkey_equal(signer_public(sg), cakey_public(ca)));
	cr_assert_gt(signer_pid(sg), 0);
	cr_assert_neq(signer_pid(sg), getpid());
	cr_assert_eq(signer_sign_user_cert(sg, c, "alice", "ops"), 0);
	cr_assert_not_null(c->blob);
	cr_assert_gt(c->blob_len, c->tbs_len);
	cr_assert_str_eq(c->sig_alg, "ssh-ed25519");
	cr_assert_eq(cert_from_blob(&back, c->blob, c->blob_len), 0);
	cr_assert_eq(back->serial, 7);
	cr_assert_eq(back->tbs_len, c->tbs_len);
	cr_assert_str_eq(back->key_id, c->key_id);
	cr_assert(pubkey_equal(back->ca_key, cakey_public(ca)));
	cr_assert(pubkey_equal(back->key, cakey_public(subject)));

	/* ssh-keygen agrees it is a good certificate. */
	cr_assert_eq(cert_to_line(&line, c, "test"), 0);
	path = tu_fmt("%s/id-cert.pub", dir);
	tu_write_file(path, line, strlen(line), 0644);
	cmd = tu_fmt("ssh-keygen -L -f %s", path);
	rc = tu_sh(cmd, &out, &err);
	cr_assert_eq(rc, 0, "ssh-keygen -L: %s", err);
	cr_assert_not_null(strstr(out, "Serial: 7"), "%s", out);
	cr_assert_not_null(
	    strstr(out, "Key ID: \"alice@test:req-1:serial-7\""), "%s", out);
	free(cmd);
	free(out);
	free(err);
	free(path);
	free(line);
	cert_free(back);
	cert_free(c);
}

Test(signer, hand_made_good_body_is_signed, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	cr_assert_eq(sign_spec(&t), 0);
}

/* ---- refusals (each with its exact code; the child survives) ------ */

static void
expect_refused(const struct tbs_spec *t, int code)
{
	struct tbs_spec good = good_spec();

	cr_assert_eq(
	    sign_spec(t), code, "expected %d (%s)", code, err_str(code));
	/* A refusal is not a protocol error: the child still works. */
	cr_assert_eq(sign_spec(&good), 0);
}

Test(signer, refuses_host_cert, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	t.type = CERT_TYPE_HOST;
	expect_refused(&t, ERR_CERT_NOT_USER);
}

Test(signer, refuses_no_principals, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	t.nprincipals = 0;
	expect_refused(&t, ERR_CERT_NO_PRINCIPALS);
}

Test(signer, refuses_bad_principals, .init = setup, .fini = teardown)
{
	const char *bad[] = {"*", "a?b", "a,b", "a b", "a\tb", "\x01x",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "-x", ""};
	size_t i;

	cr_assert_eq(strlen(bad[6]), 65);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tbs_spec t = good_spec();

		/* The bad one second, so that it is not only the first
		 * principal that is checked. */
		t.principals[1] = bad[i];
		t.nprincipals = 2;
		cr_assert_eq(
		    sign_spec(&t), ERR_CERT_BAD_PRINCIPAL, "principal %zu", i);
	}
	{
		/* 64 characters is the longest allowed. */
		struct tbs_spec t = good_spec();

		t.principals[0] = bad[6] + 1;
		tu_write_file(policy_path, t.principals[0], 64, 0644);
		cr_assert_eq(signer_reload(sg), 0);
		cr_assert_eq(sign_spec(&t), 0);
	}
}

Test(signer, refuses_too_long, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();
	uint64_t now = (uint64_t)time(NULL);

	t.valid_before = now + HARD_MAX_TTL + 120;
	expect_refused(&t, ERR_CERT_TOO_LONG);
}

Test(signer, refuses_too_long_via_builder, .init = setup, .fini = teardown)
{
	struct cert *c = good_cert(9);

	c->valid_before = (uint64_t)time(NULL) + 7 * 86400;
	cr_assert_eq(
	    signer_sign_user_cert(sg, c, "alice", "ops"), ERR_CERT_TOO_LONG);
	cr_assert_null(c->blob);
	cert_free(c);
}

Test(signer, refuses_backdate, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();
	uint64_t now = (uint64_t)time(NULL);

	t.valid_after = now - MAX_BACKDATE - 120;
	expect_refused(&t, ERR_CERT_BACKDATE);
}

Test(signer, refuses_postdated, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();
	uint64_t now = (uint64_t)time(NULL);

	t.valid_after = now + 600;
	t.valid_before = now + 1200;
	expect_refused(&t, ERR_CERT_POSTDATED);
}

/* The CA stamps valid_after = now - backdate a moment before the child
 * checks it: a second boundary in between must not refuse the cert. */
Test(signer, backdate_has_clock_slack, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();
	uint64_t now = (uint64_t)time(NULL);

	t.valid_after = now - MAX_BACKDATE - 2;
	cr_assert_eq(sign_spec(&t), 0);
	t.valid_after = now - MAX_BACKDATE - SIGNER_CLOCK_SLACK - 30;
	expect_refused(&t, ERR_CERT_BACKDATE);
}

Test(signer, refuses_inverted_validity, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	t.valid_before = t.valid_after;
	expect_refused(&t, ERR_CERT_VALIDITY);
	t.valid_before = t.valid_after - 1;
	expect_refused(&t, ERR_CERT_VALIDITY);
}

Test(signer, refuses_forever, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	t.valid_after = 0;
	t.valid_before = UINT64_MAX;
	expect_refused(&t, ERR_CERT_VALIDITY);
	t = good_spec();
	t.valid_before = UINT64_MAX;
	expect_refused(&t, ERR_CERT_VALIDITY);
}

Test(signer, refuses_unknown_critical, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	t.crit_name = "no-such-option";
	t.crit_value = "x";
	expect_refused(&t, ERR_CERT_UNKNOWN_OPTION);
}

Test(signer, refuses_unknown_extension, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	t.ext_name = "permit-everything@example.com";
	expect_refused(&t, ERR_CERT_UNKNOWN_EXTENSION);
}

Test(signer, refuses_bad_source_address, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	t.crit_name = "source-address";
	t.crit_value = "10.0.0.1/8";
	expect_refused(&t, ERR_CERT_BAD_OPTION_VALUE);
	t.crit_value = "not-an-address";
	expect_refused(&t, ERR_CERT_BAD_OPTION_VALUE);
	t.crit_value = "10.0.0.0/8";
	cr_assert_eq(sign_spec(&t), 0);
}

Test(signer, refuses_serial_zero, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	t.serial = 0;
	expect_refused(&t, ERR_CERT_SERIAL_ZERO);
}

Test(signer, refuses_bad_key_id, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	t.key_id = "alice laptop";
	expect_refused(&t, ERR_CERT_BAD_KEY_ID);
}

Test(signer, refuses_other_ca, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();
	struct cakey *other = NULL;

	cr_assert_eq(cakey_generate(&other, KEY_ED25519), 0);
	t.ca = cakey_public(other);
	expect_refused(&t, ERR_CERT_WRONG_CA);
	cakey_free(other);
}

Test(signer, refuses_malformed_body, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();
	uint8_t junk[] = {0, 0, 0, 3, 'a', 'b', 'c'};
	uint8_t *sig = NULL;
	size_t siglen = 0;

	t.trailing = 1;
	expect_refused(&t, ERR_TRAILING_DATA);
	cr_assert_eq(signer_sign_user_tbs(
			 sg, "alice", "ops", junk, sizeof(junk), &sig, &siglen),
	    ERR_KEY_UNKNOWN_TYPE);
	cr_assert_null(sig);
	cr_assert_eq(sign_spec(&t), ERR_TRAILING_DATA);
	t.trailing = 0;
	cr_assert_eq(sign_spec(&t), 0);
}

Test(signer, size_limits, .init = setup, .fini = teardown)
{
	/* header, type, "alice", "ops", the string's length */
	size_t max = SIGNER_MAX_MSG - 4 - 1 - (4 + 5) - (4 + 3) - 4;
	uint8_t *big = calloc(1, SIGNER_MAX_MSG), *sig = NULL;
	struct tbs_spec t = good_spec();
	size_t siglen = 0;

	cr_assert_not_null(big);
	/* Over the protocol limit: refused before anything is sent. */
	cr_assert_eq(signer_sign_user_tbs(
			 sg, "alice", "ops", big, max + 1, &sig, &siglen),
	    ERR_TOO_LARGE);
	/* At the limit: sent, and the child refuses it as too large a
	 * certificate, staying alive. */
	cr_assert_eq(
	    signer_sign_user_tbs(sg, "alice", "ops", big, max, &sig, &siglen),
	    ERR_TOO_LARGE);
	cr_assert_null(sig);
	cr_assert_eq(
	    signer_sign_user_tbs(sg, "alice", "ops", big, 0, &sig, &siglen),
	    ERR_BUF_SHORT);
	cr_assert_eq(sign_spec(&t), 0);
	free(big);
}

/* Every CA key type signs through the child and verifies. */
static void
sign_with_type(enum key_type kt, const char *alg)
{
	struct cert *c, *back = NULL;

	cakey_free(ca);
	ca = NULL;
	cr_assert_eq(unlink(key_path), 0);
	cr_assert_eq(cakey_generate(&ca, kt), 0);
	cr_assert_eq(cakey_save(ca, key_path), 0);
	cr_assert_eq(start_signer(key_path), 0);
	cr_assert(pubkey_equal(signer_public(sg), cakey_public(ca)));
	c = good_cert(3);
	cr_assert_eq(signer_sign_user_cert(sg, c, "alice", "ops"), 0);
	cr_assert_str_eq(c->sig_alg, alg);
	cr_assert_eq(cert_from_blob(&back, c->blob, c->blob_len), 0);
	cr_assert(pubkey_equal(back->ca_key, cakey_public(ca)));
	cert_free(back);
	cert_free(c);
}

Test(signer, ecdsa_p256_ca, .init = setup_keys, .fini = teardown)
{
	sign_with_type(KEY_ECDSA_P256, "ecdsa-sha2-nistp256");
}

Test(signer, ecdsa_p384_ca, .init = setup_keys, .fini = teardown)
{
	sign_with_type(KEY_ECDSA_P384, "ecdsa-sha2-nistp384");
}

Test(signer, rsa_3072_ca, .init = setup_keys, .fini = teardown, .timeout = 60)
{
	sign_with_type(KEY_RSA, "rsa-sha2-512");
}

/* ---- start-up failures -------------------------------------------- */

/* No child is left behind (neither running nor a zombie). */
static void
assert_no_children(void)
{
	int status;

	cr_assert_eq(waitpid(-1, &status, WNOHANG), -1);
	cr_assert_eq(errno, ECHILD);
}

Test(signer, key_file_mode_0644, .init = setup_keys, .fini = teardown)
{
	cr_assert_eq(chmod(key_path, 0644), 0);
	cr_assert_eq(start_signer(key_path), ERR_KEY_FILE_MODE);
	cr_assert_null(sg);
	assert_no_children();
}

Test(signer, key_file_group_or_other_access, .init = setup_keys,
    .fini = teardown)
{
	const mode_t modes[] = {0640, 0604, 0620, 0602, 0610, 0601, 0660};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		cr_assert_eq(chmod(key_path, modes[i]), 0);
		cr_assert_eq(start_signer(key_path), ERR_KEY_FILE_MODE,
		    "mode %o", (unsigned)modes[i]);
		cr_assert_null(sg);
	}
	assert_no_children();
	/* 0400 is as good as 0600. */
	cr_assert_eq(chmod(key_path, 0400), 0);
	cr_assert_eq(start_signer(key_path), 0);
}

Test(signer, key_file_missing, .init = setup_keys, .fini = teardown)
{
	char *p = tu_fmt("%s/nope.pem", dir);

	cr_assert_eq(start_signer(p), ERR_SYSTEM);
	cr_assert_null(sg);
	assert_no_children();
	free(p);
}

Test(signer, key_file_other_owner, .init = setup_keys, .fini = teardown)
{
	cr_assert_eq(geteuid(), 0, "this test needs root (as in CI)");
	cr_assert_eq(chown(key_path, 65534, 65534), 0);
	cr_assert_eq(start_signer(key_path), ERR_KEY_FILE_OWNER);
	cr_assert_null(sg);
	assert_no_children();
}

Test(signer, bad_arguments, .init = setup_keys, .fini = teardown)
{
	struct signer_params p;

	memset(&p, 0, sizeof(p));
	p.policy = &tpol;
	p.policy_arg = policy_path;
	cr_assert_eq(signer_start(&sg, &p), ERR_INVALID_ARG);
	p.key_path = key_path;
	p.policy = NULL;
	cr_assert_eq(signer_start(&sg, &p), ERR_INVALID_ARG);
	cr_assert_eq(signer_start(&sg, NULL), ERR_INVALID_ARG);
	cr_assert_null(sg);
	assert_no_children();
	signer_stop(NULL);
}

/* ---- the child dies on a garbage message -------------------------- */

/* Descriptors that are Unix stream sockets, as a bitmap of 0..1023. */
static void
unix_sockets(uint8_t map[128])
{
	int fd;

	memset(map, 0, 128);
	for (fd = 0; fd < 1024; fd++) {
		struct stat st;
		int type = 0;
		socklen_t len = sizeof(type);

		if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    type != SOCK_STREAM)
			continue;
		map[fd / 8] |= (uint8_t)(1u << (fd % 8));
	}
}

/* Start the signer and find the parent's end of its socketpair: the
 * one new Unix stream socket. */
static int
start_and_find_socket(void)
{
	uint8_t before[128], after[128];
	int fd, sock = -1, nnew = 0;

	unix_sockets(before);
	cr_assert_eq(start_signer(key_path), 0);
	unix_sockets(after);
	for (fd = 0; fd < 1024; fd++) {
		if ((after[fd / 8] & ~before[fd / 8]) & (1u << (fd % 8))) {
			sock = fd;
			nnew++;
		}
	}
	cr_assert_eq(nnew, 1, "the signer's socket is not identifiable");
	return sock;
}

/* The child must end by itself (not be killed by the parent) after
 * msg, and the parent must then report ERR_SIGNER_DEAD. */
static void
expect_child_dies(int sock, const uint8_t *msg, size_t len)
{
	struct tbs_spec t = good_spec();
	pid_t pid = signer_pid(sg);
	int status;

	cr_assert_eq(sign_spec(&t), 0);
	cr_assert_eq(send(sock, msg, len, MSG_NOSIGNAL), (ssize_t)len);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "status %d", status);
	cr_assert_neq(WEXITSTATUS(status), 0);
	cr_assert_eq(sign_spec(&t), ERR_SIGNER_DEAD);
	cr_assert_eq(sign_spec(&t), ERR_SIGNER_DEAD);
}

Test(signer, garbage_kills_child, .init = setup_keys, .fini = teardown)
{
	const uint8_t garbage[] = {
	    0xff, 0xff, 0xff, 0xff, 0x03, 'j', 'u', 'n', 'k'};

	expect_child_dies(start_and_find_socket(), garbage, sizeof(garbage));
}

Test(signer, unknown_type_kills_child, .init = setup_keys, .fini = teardown)
{
	const uint8_t msg[] = {0, 0, 0, 1, 99};

	expect_child_dies(start_and_find_socket(), msg, sizeof(msg));
}

Test(signer, zero_length_kills_child, .init = setup_keys, .fini = teardown)
{
	const uint8_t msg[] = {0, 0, 0, 0};

	expect_child_dies(start_and_find_socket(), msg, sizeof(msg));
}

Test(
    signer, sign_req_trailing_kills_child, .init = setup_keys, .fini = teardown)
{
	/* SIGN_USER whose payload is one string plus a stray byte. */
	const uint8_t msg[] = {
	    0, 0, 0, 7, SIGNER_MSG_SIGN_USER, 0, 0, 0, 1, 'x', 'y'};

	expect_child_dies(start_and_find_socket(), msg, sizeof(msg));
}

Test(signer, retired_pubkey_request_kills_child, .init = setup_keys,
    .fini = teardown)
{
	/* Type 1, once a public-key request: the key comes with READY. */
	const uint8_t req[] = {0, 0, 0, 1, 1};

	expect_child_dies(start_and_find_socket(), req, sizeof(req));
}

Test(signer, stop_ends_child, .init = setup_keys, .fini = teardown)
{
	struct timespec t0, t1;
	double ms;
	pid_t pid;

	cr_assert_eq(start_signer(key_path), 0);
	pid = signer_pid(sg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	signer_stop(sg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sg = NULL;
	/* The child leaves on EOF by itself: no kill after the timeout. */
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	cr_assert_lt(ms, 1000.0, "signer_stop took %.0f ms", ms);
	cr_assert_eq(kill(pid, 0), -1);
	cr_assert_eq(errno, ESRCH);
	assert_no_children();
}

/* ---- the child's hardening ---------------------------------------- */

Test(signer, child_has_no_core_dumps, .init = setup, .fini = teardown)
{
	char *path = tu_fmt("/proc/%d/limits", (int)signer_pid(sg));
	char *lim = tu_read_file(path, NULL), *line, *soft, *hard, *end;

	cr_assert_not_null(lim, "cannot read %s", path);
	line = strstr(lim, "Max core file size");
	cr_assert_not_null(line, "%s", lim);
	line += strlen("Max core file size");
	soft = line + strspn(line, " ");
	end = soft + strcspn(soft, " ");
	cr_assert_eq(end - soft, 1, "%s", lim);
	cr_assert_eq(*soft, '0', "%s", lim);
	hard = end + strspn(end, " ");
	end = hard + strcspn(hard, " ");
	cr_assert_eq(end - hard, 1, "%s", lim);
	cr_assert_eq(*hard, '0', "%s", lim);
	free(lim);
	free(path);
}

Test(signer, child_holds_only_its_socket, .init = setup, .fini = teardown)
{
	char *cmd = tu_fmt("ls /proc/%d/fd", (int)signer_pid(sg));
	char *out = NULL;
	int rc = tu_sh(cmd, &out, NULL);

	cr_assert_eq(rc, 0);
	/* stderr and the socket, nothing else (stdin/stdout closed). */
	cr_assert_eq(strspn(out, "0123456789\n"), strlen(out), "%s", out);
	{
		int n = 0;
		char *p;

		for (p = out; *p != '\0'; p++)
			n += *p == '\n';
		cr_assert_eq(n, 2, "fds: %s", out);
	}
	cr_assert_not_null(strstr(out, "2\n"), "%s", out);
	free(out);
	free(cmd);
}

/* ---- concurrency --------------------------------------------------- */

#define NTHREADS 8
#define PER_THREAD 50

struct worker {
	int id;
	int failures;
	int r;
};

static void *
worker_run(void *arg)
{
	struct worker *wk = arg;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		uint64_t serial = (uint64_t)(wk->id * 1000 + i + 1);
		struct cert *c = good_cert(serial), *back = NULL;
		int r;

		if ((r = signer_sign_user_cert(sg, c, "alice", "ops")) != 0 ||
		    (r = cert_from_blob(&back, c->blob, c->blob_len)) != 0 ||
		    back->serial != serial ||
		    !pubkey_equal(back->ca_key, cakey_public(ca))) {
			wk->failures++;
			wk->r = r;
		}
		cert_free(back);
		cert_free(c);
	}
	return NULL;
}

Test(signer, concurrent_signing, .init = setup, .fini = teardown, .timeout = 60)
{
	pthread_t th[NTHREADS];
	struct worker wk[NTHREADS];
	struct timespec t0, t1;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NTHREADS; i++) {
		memset(&wk[i], 0, sizeof(wk[i]));
		wk[i].id = i + 1;
		cr_assert_eq(
		    pthread_create(&th[i], NULL, worker_run, &wk[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_join(th[i], NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < NTHREADS; i++)
		cr_assert_eq(wk[i].failures, 0, "thread %d: %d failures (%s)",
		    i, wk[i].failures, err_str(wk[i].r));
	cr_log_info("%d signatures in %.0f ms", NTHREADS * PER_THREAD,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

/* Signs until the first failure (its code in r), counting successes. */
static void *
signer_until_failure(void *arg)
{
	struct worker *wk = arg;
	uint64_t serial = (uint64_t)wk->id * 100000;

	for (;;) {
		struct cert *c = good_cert(++serial);

		wk->r = signer_sign_user_cert(sg, c, "alice", "ops");
		cert_free(c);
		if (wk->r != 0)
			break;
		wk->failures++; /* here: signatures made */
	}
	return NULL;
}

/* Requests are pipelined (several in flight at once): when the child is
 * killed under load, every caller gets ERR_SIGNER_DEAD (none waits for an
 * answer that will not come, none gets another's), and after a restart
 * signing works again. */
Test(signer, child_killed_with_requests_in_flight, .init = setup,
    .fini = teardown, .timeout = 60)
{
	pthread_t th[NTHREADS];
	struct worker wk[NTHREADS];
	struct tbs_spec t = good_spec();
	int i, status, made = 0;
	pid_t pid = signer_pid(sg);

	for (i = 0; i < NTHREADS; i++) {
		memset(&wk[i], 0, sizeof(wk[i]));
		wk[i].id = i + 1;
		cr_assert_eq(
		    pthread_create(&th[i], NULL, signer_until_failure, &wk[i]),
		    0);
	}
	usleep(200 * 1000);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	for (i = 0; i < NTHREADS; i++) {
		cr_assert_eq(pthread_join(th[i], NULL), 0);
		cr_assert_eq(wk[i].r, ERR_SIGNER_DEAD, "thread %d: %s", i,
		    err_str(wk[i].r));
		made += wk[i].failures;
	}
	cr_assert_gt(made, 0, "signing ran before the kill");
	cr_assert_not(signer_alive(sg));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status));
	cr_assert_eq(signer_restart(sg), 0);
	cr_assert(signer_alive(sg));
	cr_assert_eq(sign_spec(&t), 0);
}

/* ---- the role policy, in the child -------------------------------- */

/* A hand-made body for user/role; returns the child's answer. */
static int
sign_spec_as(const struct tbs_spec *t, const char *user, const char *role)
{
	struct wire *w = tbs_encode(t);
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r;

	r = signer_sign_user_tbs(
	    sg, user, role, wire_ptr(w), wire_len(w), &sig, &siglen);
	free(sig);
	wire_free(w);
	return r;
}

Test(signer, refuses_principal_no_role_grants, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	/* "alice" and the file's "debug" are granted; "root" is not. */
	t.principals[0] = "alice";
	t.principals[1] = "root";
	t.nprincipals = 2;
	cr_assert_eq(sign_spec(&t), ERR_PRINCIPAL_NOT_ALLOWED);
	/* The same body for another user: "alice" is no longer the user. */
	t.nprincipals = 1;
	cr_assert_eq(
	    sign_spec_as(&t, "mallory", "ops"), ERR_PRINCIPAL_NOT_ALLOWED);
	cr_assert_eq(sign_spec_as(&t, "alice", "admin"), ERR_SIGNER_NO_ROLE);
	/* The child refused and lives on. */
	cr_assert_eq(sign_spec_as(&t, "alice", "ops"), 0);
	cr_assert(signer_alive(sg));
}

Test(signer, reload_rereads_the_policy_file, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();

	t.principals[0] = "deploy";
	cr_assert_eq(sign_spec(&t), ERR_PRINCIPAL_NOT_ALLOWED);
	/* The parent sends no policy bytes: the child reads the file. */
	tu_write_file(policy_path, "deploy\n", 7, 0644);
	cr_assert_eq(sign_spec(&t), ERR_PRINCIPAL_NOT_ALLOWED);
	cr_assert_eq(signer_reload(sg), 0);
	cr_assert_eq(sign_spec(&t), 0);
	/* A policy that does not load is refused; the old one stays. */
	tu_write_file(policy_path, "", 0, 0644);
	cr_assert_eq(signer_reload(sg), ERR_CONFIG);
	cr_assert_eq(sign_spec(&t), 0);
	cr_assert(signer_alive(sg));
}

Test(signer, policy_that_does_not_load_stops_start, .init = setup_keys,
    .fini = teardown)
{
	cr_assert_eq(unlink(policy_path), 0);
	cr_assert_eq(start_signer(key_path), ERR_SYSTEM);
	cr_assert_null(sg);
	assert_no_children();
}

Test(signer, child_is_seccomp_filtered, .init = setup, .fini = teardown)
{
	char *mode = tu_proc_status(signer_pid(sg), "\nSeccomp:");
	char *self = tu_proc_status(getpid(), "\nSeccomp:");

	/* 2: SECCOMP_MODE_FILTER, in the child only. */
	cr_assert_str_eq(mode, "2");
	cr_assert_str_eq(self, "0");
	/* Reading a file (RELOAD) still works under the filter. */
	cr_assert_eq(signer_reload(sg), 0);
	free(mode);
	free(self);
}

Test(signer, runs_as_the_key_owner, .init = setup_keys, .fini = teardown)
{
	struct signer_params p;
	struct tbs_spec t;
	char *uid;

	cr_assert_eq(geteuid(), 0, "this test needs root (as in CI)");
	/* nobody owns the key; it must reach the key and policy files. */
	cr_assert_eq(chown(key_path, 65534, 65534), 0);
	cr_assert_eq(chmod(dir, 0711), 0);
	memset(&p, 0, sizeof(p));
	p.key_path = key_path;
	p.policy = &tpol;
	p.policy_arg = policy_path;
	p.run_as = 1;
	p.uid = 65534;
	p.gid = 65534;
	cr_assert_eq(signer_start(&sg, &p), 0);
	uid = tu_proc_status(signer_pid(sg), "\nUid:");
	cr_assert_str_eq(uid, "65534\t65534\t65534\t65534");
	t = good_spec();
	cr_assert_eq(sign_spec(&t), 0);
	free(uid);
}

Test(signer, restart_after_kill, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();
	pid_t old = signer_pid(sg);
	int status = 0, n;

	cr_assert_eq(signer_poll(sg, &status), 0);
	cr_assert_eq(kill(old, SIGKILL), 0);
	/* signer_poll reaps it (no zombie) and says how it died. */
	for (n = 0; n < 500 && signer_poll(sg, &status) == 0; n++)
		tu_sleep_ms(10);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "status %d", status);
	cr_assert_not(signer_alive(sg));
	cr_assert_eq(waitpid(old, &status, WNOHANG), -1);
	cr_assert_eq(errno, ECHILD);
	cr_assert_eq(sign_spec(&t), ERR_SIGNER_DEAD);
	cr_assert_eq(signer_poll(sg, NULL), -1);
	cr_assert_eq(signer_restart(sg), 0);
	cr_assert(signer_alive(sg));
	cr_assert_neq(signer_pid(sg), old);
	cr_assert_eq(sign_spec(&t), 0);
}

Test(signer, restart_refuses_another_key, .init = setup, .fini = teardown)
{
	struct cakey *other = NULL;
	struct tbs_spec t = good_spec();

	cr_assert_eq(cakey_generate(&other, KEY_ED25519), 0);
	cr_assert_eq(unlink(key_path), 0);
	cr_assert_eq(cakey_save(other, key_path), 0);
	cr_assert_eq(signer_restart(sg), ERR_CERT_WRONG_CA);
	cr_assert_not(signer_alive(sg));
	cr_assert_eq(sign_spec(&t), ERR_SIGNER_DEAD);
	cakey_free(other);
}

/* ---- host CA and ledger keys --------------------------------------- */

/* signer_start() with all three keys (host/ledger NULL: not held). */
static int
start_signer3(const char *kp, const char *hp, const char *lp)
{
	struct signer_params p;

	memset(&p, 0, sizeof(p));
	p.key_path = kp;
	p.host_key_path = hp;
	p.ledger_key_path = lp;
	p.policy = &tpol;
	p.policy_arg = policy_path;
	return signer_start(&sg, &p);
}

static void
setup3_keys(void)
{
	setup_keys();
	host_path = tu_fmt("%s/host_ca_key.pem", dir);
	ledger_path = tu_fmt("%s/ledger_key.pem", dir);
	cr_assert_eq(cakey_generate(&hostca, KEY_ECDSA_P256), 0);
	cr_assert_eq(cakey_save(hostca, host_path), 0);
	cr_assert_eq(cakey_generate(&ledgerk, KEY_ED25519), 0);
	cr_assert_eq(cakey_save(ledgerk, ledger_path), 0);
}

static void
setup3(void)
{
	setup3_keys();
	cr_assert_eq(start_signer3(key_path, host_path, ledger_path), 0);
}

/* A good host certificate body: host "web1", two principals. */
static struct tbs_spec
good_host_spec(void)
{
	uint64_t now = (uint64_t)time(NULL);
	struct tbs_spec t;

	memset(&t, 0, sizeof(t));
	t.type = CERT_TYPE_HOST;
	t.serial = 77;
	t.key_id = "web1:serial-77";
	t.principals[0] = "web1.example.com";
	t.principals[1] = "10.1.2.3";
	t.nprincipals = 2;
	t.valid_after = now - 30;
	t.valid_before = now + 7 * 86400;
	t.ca = signer_public_host(sg);
	return t;
}

/* Send a hand-made body through SIGN_HOST for host "web1". */
static int
sign_host_spec(const struct tbs_spec *t)
{
	return send_spec(t, 1);
}

Test(signer, three_distinct_keys_announced, .init = setup3, .fini = teardown)
{
	cr_assert(pubkey_equal(signer_public(sg), cakey_public(ca)));
	cr_assert(pubkey_equal(signer_public_host(sg), cakey_public(hostca)));
	cr_assert(
	    pubkey_equal(signer_public_ledger(sg), cakey_public(ledgerk)));
	cr_assert_not(pubkey_equal(signer_public(sg), signer_public_host(sg)));
	cr_assert_not(
	    pubkey_equal(signer_public(sg), signer_public_ledger(sg)));
	cr_assert_not(
	    pubkey_equal(signer_public_host(sg), signer_public_ledger(sg)));
}

Test(signer, host_cert_signed_and_verifies, .init = setup3, .fini = teardown)
{
	struct cert *c = cert_new(), *back = NULL;
	uint64_t now = (uint64_t)time(NULL);
	char *line = NULL, *path, *out = NULL, *cmd;
	int rc;

	cr_assert_not_null(c);
	c->key = tu_pubkey_copy(cakey_public(subject));
	c->ca_key = tu_pubkey_copy(signer_public_host(sg));
	cr_assert_eq(cert_set_random_nonce(c), 0);
	c->serial = 9;
	c->type = CERT_TYPE_HOST;
	c->key_id = tu_fmt("web1:serial-9");
	cr_assert_eq(cert_add_principal(c, "web1.example.com"), 0);
	cr_assert_eq(cert_add_principal(c, "2001:db8::7"), 0);
	c->valid_after = now - 60;
	c->valid_before = now + 30 * 86400;
	cr_assert_eq(signer_sign_host_cert(sg, c, "web1"), 0);
	cr_assert_eq(cert_from_blob(&back, c->blob, c->blob_len), 0);
	cr_assert_eq(back->type, CERT_TYPE_HOST);
	cr_assert(pubkey_equal(back->ca_key, cakey_public(hostca)));
	cr_assert_eq(cert_to_line(&line, c, NULL), 0);
	path = tu_fmt("%s/host-cert.pub", dir);
	tu_write_file(path, line, strlen(line), 0644);
	cmd = tu_fmt("ssh-keygen -L -f '%s'", path);
	rc = tu_sh(cmd, &out, NULL);
	cr_assert_eq(rc, 0);
	cr_assert_not_null(strstr(out, "host certificate"), "%s", out);
	cr_assert_not_null(strstr(out, "web1.example.com"), "%s", out);
	/* The same certificate through the user path is refused. */
	cr_assert_eq(
	    signer_sign_user_cert(sg, c, "alice", "ops"), ERR_CERT_WRONG_CA);
	free(out);
	free(cmd);
	free(path);
	free(line);
	cert_free(back);
	cert_free(c);
}

Test(signer, host_refusals, .init = setup3, .fini = teardown)
{
	static const char *const bad[] = {"*.example.com", "web?",
	    "-web.example.com", ".web", "web.", "a..b", "web 1", "web\t1",
	    "web,db", "web_1", "10.0.0.300", "1.2.3", "fe80::1%eth0", "[::1]",
	    "10.0.0.0/8", "web-.example.com",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	    "example.com"};
	static const char *const good[] = {"web1", "db-2.prod.example.com",
	    "127.0.0.1", "::1", "2001:db8::42", "xn--bcher-kva.example"};
	uint64_t now = (uint64_t)time(NULL);
	struct tbs_spec t;
	size_t i;

	t = good_host_spec();
	cr_assert_eq(sign_host_spec(&t), 0);
	/* A user certificate body, even one naming the host CA. */
	t = good_spec();
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_NOT_HOST);
	t.ca = signer_public_host(sg);
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_NOT_HOST);
	/* A host body for the user CA key. */
	t = good_host_spec();
	t.ca = signer_public(sg);
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_WRONG_CA);
	t.ca = signer_public_ledger(sg);
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_WRONG_CA);
	t = good_host_spec();
	t.principals[0] = "*";
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_BAD_HOST_NAME);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.principals[0] = bad[i];
		cr_assert_eq(
		    sign_host_spec(&t), ERR_CERT_BAD_HOST_NAME, "%s", bad[i]);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t.principals[0] = good[i];
		cr_assert_eq(sign_host_spec(&t), 0, "%s", good[i]);
	}
	t = good_host_spec();
	t.nprincipals = 0;
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_NO_PRINCIPALS);
	t = good_host_spec();
	t.ext_name = "permit-pty";
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_UNKNOWN_EXTENSION);
	t = good_host_spec();
	t.crit_name = "source-address";
	t.crit_value = "10.0.0.0/8";
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_UNKNOWN_OPTION);
	/* 30 days (the default maximum) is fine, 31 is not. */
	t = good_host_spec();
	t.valid_before = now + 30 * 86400;
	cr_assert_eq(sign_host_spec(&t), 0);
	t.valid_before = now + 31 * 86400;
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_TOO_LONG);
	t = good_host_spec();
	t.valid_after = now - MAX_BACKDATE - 3600;
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_BACKDATE);
	t = good_host_spec();
	t.valid_after = now + 3600;
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_POSTDATED);
	t = good_host_spec();
	t.valid_before = UINT64_MAX;
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_VALIDITY);
	t = good_host_spec();
	t.serial = 0;
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_SERIAL_ZERO);
	/* The key id must name the host of the request. */
	t = good_host_spec();
	t.key_id = "db1:serial-77";
	cr_assert_eq(sign_host_spec(&t), ERR_SIGNER_KEY_ID);
	t.key_id = "web1";
	cr_assert_eq(sign_host_spec(&t), ERR_SIGNER_KEY_ID);
	t.key_id = "web1 x:1";
	cr_assert_eq(sign_host_spec(&t), ERR_CERT_BAD_KEY_ID);
	t = good_host_spec();
	t.trailing = 1;
	cr_assert_eq(sign_host_spec(&t), ERR_TRAILING_DATA);
	/* Every refusal left the child serving. */
	t = good_host_spec();
	cr_assert_eq(sign_host_spec(&t), 0);
}

Test(signer, cert_for_own_key_refused, .init = setup3_keys, .fini = teardown)
{
	struct tbs_spec t;
	struct cakey *keep = subject;

	cr_assert_eq(start_signer3(key_path, host_path, ledger_path), 0);
	/* tbs_encode certifies `subject`: make it the ledger key. */
	subject = ledgerk;
	t = good_host_spec();
	cr_assert_eq(sign_host_spec(&t), ERR_KEY_IS_CA);
	/* Nor a user certificate for the host CA key. */
	subject = hostca;
	t = good_spec();
	cr_assert_eq(sign_spec(&t), ERR_KEY_IS_CA);
	subject = keep;
	cr_assert_eq(sign_spec(&t), 0);
}

Test(signer, without_host_and_ledger_keys, .init = setup, .fini = teardown)
{
	struct tbs_spec t = good_spec();
	uint8_t root[32] = {0};
	char *note = NULL, *sig = NULL;

	cr_assert_null(signer_public_host(sg));
	cr_assert_null(signer_public_ledger(sg));
	t.type = CERT_TYPE_HOST;
	t.ext_name = NULL;
	t.key_id = "web1:serial-1";
	t.principals[0] = "web1";
	cr_assert_eq(sign_host_spec(&t), ERR_SIGNER_NO_KEY);
	cr_assert_eq(signer_sign_checkpoint(
			 sg, "jitca", 1, root, &note, NULL, &sig, NULL),
	    ERR_SIGNER_NO_KEY);
	cr_assert_eq(signer_sign_krl(sg, (const uint8_t *)"x", 1, &sig, NULL),
	    ERR_SIGNER_NO_KEY);
	cr_assert_null(note);
	cr_assert_null(sig);
	t = good_spec();
	cr_assert_eq(sign_spec(&t), 0);
}

Test(signer, checkpoint_signed_by_ledger_key, .init = setup3, .fini = teardown)
{
	struct note_verifier v, wrong;
	struct note_checkpoint *cp = NULL;
	uint8_t root[32];
	char *note = NULL, *sig = NULL, *bad;
	size_t notelen = 0, siglen = 0, textlen = 0, i;

	for (i = 0; i < sizeof(root); i++)
		root[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(signer_sign_checkpoint(sg, "jitca.example/ledger", 12345,
			 root, &note, &notelen, &sig, &siglen),
	    0);
	cr_assert_eq(strlen(note), notelen);
	cr_assert_eq(strlen(sig), siglen);
	cr_assert_eq(strncmp(note, "jitca.example/ledger\n12345\n", 27), 0);
	/* A C2SP note by the ledger key under the origin's name ... */
	cr_assert_eq(note_verifier_from_pubkey(
			 &v, "jitca.example/ledger", cakey_public(ledgerk)),
	    0);
	cr_assert_eq(
	    note_open(note, notelen, &v, 1, NOTE_OPEN_KNOWN_ONLY, &textlen), 0);
	cr_assert_eq(note_checkpoint_parse(&cp, note, textlen), 0);
	cr_assert_str_eq(cp->origin, "jitca.example/ledger");
	cr_assert_eq(cp->size, 12345);
	cr_assert_eq(memcmp(cp->root, root, 32), 0);
	cr_assert_eq(cp->next, 0);
	note_checkpoint_free(cp);
	/* ... and not by the user CA key. */
	cr_assert_eq(note_verifier_from_pubkey(
			 &wrong, "jitca.example/ledger", cakey_public(ca)),
	    0);
	cr_assert_eq(
	    note_open(note, notelen, &wrong, 1, 0, NULL), ERR_NOTE_UNKNOWN_KEY);
	/* The SSHSIG covers the whole signed note. */
	cr_assert_eq(sshsig_verify(sig, siglen, cakey_public(ledgerk),
			 SIGNER_NS_CHECKPOINT, (const uint8_t *)note, notelen),
	    0);
	cr_assert_eq(sshsig_verify(sig, siglen, cakey_public(ledgerk),
			 SIGNER_NS_KRL, (const uint8_t *)note, notelen),
	    ERR_SSHSIG_NAMESPACE);
	bad = strdup(note);
	cr_assert_not_null(bad);
	bad[strlen("jitca.example/ledger\n1234")] = '6';
	cr_assert_eq(sshsig_verify(sig, siglen, cakey_public(ledgerk),
			 SIGNER_NS_CHECKPOINT, (const uint8_t *)bad, notelen),
	    ERR_SIG_INVALID);
	cr_assert_eq(note_open(bad, notelen, &v, 1, 0, NULL), ERR_SIG_INVALID);
	free(bad);
	free(note);
	free(sig);
}

Test(signer, checkpoint_refusals, .init = setup3, .fini = teardown)
{
	uint8_t root[32] = {1};
	char *note = NULL, *sig = NULL;

	/* The note name rules refuse a space or '+' in the origin. */
	cr_assert_eq(signer_sign_checkpoint(
			 sg, "jitca ledger", 1, root, &note, NULL, &sig, NULL),
	    ERR_NOTE_FORMAT);
	cr_assert_eq(signer_sign_checkpoint(
			 sg, "jitca+x", 1, root, &note, NULL, &sig, NULL),
	    ERR_NOTE_FORMAT);
	/* Control bytes and sizes past 2^63 (note_checkpoint_text). */
	cr_assert_eq(signer_sign_checkpoint(
			 sg, "jitca\nx", 1, root, &note, NULL, &sig, NULL),
	    ERR_INVALID_ARG);
	cr_assert_eq(signer_sign_checkpoint(sg, "jitca", UINT64_C(1) << 63,
			 root, &note, NULL, &sig, NULL),
	    ERR_INVALID_ARG);
	cr_assert_eq(
	    signer_sign_checkpoint(sg, "", 1, root, &note, NULL, &sig, NULL),
	    ERR_INVALID_ARG);
	cr_assert_null(note);
	cr_assert_null(sig);
	cr_assert_eq(signer_sign_checkpoint(
			 sg, "jitca", 0, root, &note, NULL, &sig, NULL),
	    0);
	free(note);
	free(sig);
}

/* A KRL revoking serial 5 of the user CA. */
static void
make_krl(uint8_t **data, size_t *len)
{
	struct krl *k = NULL;
	const uint8_t *blob;
	size_t bloblen;

	blob = pubkey_blob(cakey_public(ca), &bloblen);
	cr_assert_eq(krl_new(&k, 3, (uint64_t)time(NULL), "jitca"), 0);
	cr_assert_eq(krl_revoke_serials(k, blob, bloblen, 5, 5), 0);
	cr_assert_eq(krl_serialize(k, data, len), 0);
	krl_free(k);
}

Test(signer, krl_signed_by_ledger_key, .init = setup3, .fini = teardown)
{
	uint8_t *krl = NULL, *signedkrl;
	char *sig = NULL;
	size_t len = 0, siglen = 0;
	struct tbs_spec t;

	make_krl(&krl, &len);
	{
		int r = signer_sign_krl(sg, krl, len, &sig, &siglen);
		cr_assert_eq(r, 0, "%s", err_str(r));
	}
	cr_assert_eq(strlen(sig), siglen);
	cr_assert_eq(sshsig_verify(sig, siglen, cakey_public(ledgerk),
			 SIGNER_NS_KRL, krl, len),
	    0);
	cr_assert_eq(sshsig_verify(sig, siglen, cakey_public(ledgerk),
			 SIGNER_NS_CHECKPOINT, krl, len),
	    ERR_SSHSIG_NAMESPACE);
	cr_assert_eq(sshsig_verify(sig, siglen, cakey_public(ca), SIGNER_NS_KRL,
			 krl, len),
	    ERR_SSHSIG_WRONG_KEY);
	free(sig);
	sig = NULL;
	/* Not a KRL: text, a truncated KRL, a KRL with a signature
	 * section (4) appended (string key, string sig). */
	cr_assert_eq(
	    signer_sign_krl(sg, (const uint8_t *)"hello", 5, &sig, &siglen),
	    ERR_SIGNER_NOT_KRL);
	cr_assert_eq(signer_sign_krl(sg, krl, len - 1, &sig, &siglen),
	    ERR_SIGNER_NOT_KRL);
	cr_assert_eq(
	    signer_sign_krl(sg, krl, 0, &sig, &siglen), ERR_SIGNER_NOT_KRL);
	signedkrl = malloc(len + 13);
	cr_assert_not_null(signedkrl);
	memcpy(signedkrl, krl, len);
	memcpy(signedkrl + len, "\x04\0\0\0\x07\0\0\0\x01k\0\0\0\0", 13);
	cr_assert_eq(signer_sign_krl(sg, signedkrl, len + 13, &sig, &siglen),
	    ERR_SIGNER_NOT_KRL);
	cr_assert_null(sig);
	cr_assert_eq(siglen, 0);
	/* Too large for a KRL: refused before anything is sent. */
	cr_assert_eq(
	    signer_sign_krl(sg, krl, SIGNER_MAX_KRL + 1, &sig, &siglen),
	    ERR_TOO_LARGE);
	/* The child still serves. */
	t = good_host_spec();
	cr_assert_eq(sign_host_spec(&t), 0);
	free(signedkrl);
	free(krl);
}

Test(signer, big_krl_signed, .init = setup3, .fini = teardown, .timeout = 60)
{
	struct tbs_spec t;
	struct krl *k = NULL;
	const uint8_t *blob;
	uint8_t *krl = NULL;
	size_t bloblen, len = 0, siglen = 0;
	char *sig = NULL;
	uint64_t i;

	/* Over SIGNER_MAX_MSG: SIGN_KRL has its own message limit. */
	blob = pubkey_blob(cakey_public(ca), &bloblen);
	cr_assert_eq(krl_new(&k, 1, (uint64_t)time(NULL), "big"), 0);
	for (i = 1; i <= 40000; i++)
		cr_assert_eq(krl_revoke_serials(
				 k, blob, bloblen, i * 100000, i * 100000),
		    0);
	cr_assert_eq(krl_serialize(k, &krl, &len), 0);
	cr_assert_gt(len, SIGNER_MAX_MSG);
	cr_assert_eq(signer_sign_krl(sg, krl, len, &sig, &siglen), 0);
	cr_assert_eq(sshsig_verify(sig, siglen, cakey_public(ledgerk),
			 SIGNER_NS_KRL, krl, len),
	    0);
	free(sig);
	/* The child's read buffer grew for it and is back to its size:
	 * ordinary requests, and another big one, still go through. */
	t = good_spec();
	cr_assert_eq(sign_spec(&t), 0);
	cr_assert_eq(signer_sign_krl(sg, krl, len, &sig, &siglen), 0);
	free(sig);
	cr_assert_eq(sign_spec(&t), 0);
	free(krl);
	krl_free(k);
}

Test(signer, key_set_refusals, .init = setup3_keys, .fini = teardown)
{
	struct cakey *p256 = NULL;
	char *p256_path = tu_fmt("%s/p256.pem", dir);

	/* The same file (one key) for two roles. */
	cr_assert_eq(start_signer3(key_path, key_path, ledger_path),
	    ERR_SIGNER_SAME_KEY);
	cr_assert_eq(
	    start_signer3(key_path, host_path, key_path), ERR_SIGNER_SAME_KEY);
	cr_assert_eq(
	    start_signer3(key_path, host_path, host_path), ERR_LEDGER_KEY_TYPE);
	cr_assert_eq(cakey_generate(&p256, KEY_ECDSA_P256), 0);
	cr_assert_eq(cakey_save(p256, p256_path), 0);
	cr_assert_eq(
	    start_signer3(key_path, host_path, p256_path), ERR_LEDGER_KEY_TYPE);
	cr_assert_null(sg);
	/* Permission rules hold for every key. */
	cr_assert_eq(chmod(ledger_path, 0640), 0);
	cr_assert_eq(
	    start_signer3(key_path, host_path, ledger_path), ERR_KEY_FILE_MODE);
	cr_assert_eq(chmod(ledger_path, 0600), 0);
	cr_assert_eq(chmod(host_path, 0604), 0);
	cr_assert_eq(
	    start_signer3(key_path, host_path, ledger_path), ERR_KEY_FILE_MODE);
	cakey_free(p256);
	free(p256_path);
}

Test(signer, restart_checks_all_three_keys, .init = setup3, .fini = teardown)
{
	struct cakey *other = NULL;
	struct tbs_spec t;

	cr_assert_eq(signer_restart(sg), 0);
	t = good_host_spec();
	cr_assert_eq(sign_host_spec(&t), 0);
	/* Another host CA key on disk. */
	cr_assert_eq(cakey_generate(&other, KEY_ED25519), 0);
	cr_assert_eq(unlink(host_path), 0);
	cr_assert_eq(cakey_save(other, host_path), 0);
	cr_assert_eq(signer_restart(sg), ERR_CERT_WRONG_CA);
	cr_assert_not(signer_alive(sg));
	cakey_free(other);
	other = NULL;
	/* Back to the old host key, another ledger key. */
	cr_assert_eq(unlink(host_path), 0);
	cr_assert_eq(cakey_save(hostca, host_path), 0);
	cr_assert_eq(signer_restart(sg), 0);
	cr_assert_eq(cakey_generate(&other, KEY_ED25519), 0);
	cr_assert_eq(unlink(ledger_path), 0);
	cr_assert_eq(cakey_save(other, ledger_path), 0);
	cr_assert_eq(signer_restart(sg), ERR_CERT_WRONG_CA);
	cr_assert_not(signer_alive(sg));
	cakey_free(other);
}

Test(signer, checkpoint_short_root_kills_child, .init = setup3_keys,
    .fini = teardown)
{
	/* SIGN_CHECKPOINT: origin "o", size 1, a 31-byte root. */
	uint8_t msg[4 + 1 + 5 + 8 + 4 + 31];
	uint8_t before[128], after[128];
	int fd, sock = -1, status;
	pid_t pid;

	unix_sockets(before);
	cr_assert_eq(start_signer3(key_path, host_path, ledger_path), 0);
	unix_sockets(after);
	for (fd = 0; fd < 1024; fd++)
		if ((after[fd / 8] & ~before[fd / 8]) & (1u << (fd % 8)))
			sock = fd;
	cr_assert_geq(sock, 0);
	memset(msg, 0, sizeof(msg));
	msg[3] = (uint8_t)(sizeof(msg) - 4);
	msg[4] = SIGNER_MSG_SIGN_CHECKPOINT;
	msg[8] = 1;
	msg[9] = 'o';
	msg[17] = 1;
	msg[21] = 31;
	pid = signer_pid(sg);
	cr_assert_eq(
	    send(sock, msg, sizeof(msg), MSG_NOSIGNAL), (ssize_t)sizeof(msg));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(
	    WIFEXITED(status) && WEXITSTATUS(status) != 0, "status %d", status);
}

/* ---- the child's reading side ------------------------------------- */

/* signer.c's frame header: uint32 length of the rest. */
#define SIGNER_HDR_LEN_TEST 4

/* A SIGN_USER frame for (alice, ops) with the good body; *tbs (new) the
 * body alone. */
static struct wire *
sign_user_frame(struct wire **tbs)
{
	struct tbs_spec t = good_spec();
	struct wire *p = wire_new(SIGNER_MAX_MSG),
		    *f = wire_new(SIGNER_MAX_MSG);

	cr_assert(p != NULL && f != NULL);
	*tbs = tbs_encode(&t);
	cr_assert_eq(wire_put_cstring(p, "alice"), 0);
	cr_assert_eq(wire_put_cstring(p, "ops"), 0);
	cr_assert_eq(wire_put_stringb(p, *tbs), 0);
	cr_assert_eq(wire_put_u32(f, (uint32_t)wire_len(p) + 1), 0);
	cr_assert_eq(wire_put_u8(f, SIGNER_MSG_SIGN_USER), 0);
	cr_assert_eq(wire_put(f, wire_ptr(p), wire_len(p)), 0);
	wire_free(p);
	return f;
}

static void
read_exactly(int sock, uint8_t *p, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = recv(sock, p + off, len - off, 0);
		if (n < 0 && errno == EINTR)
			continue;
		cr_assert_gt(n, 0, "the child closed its socket");
		off += (size_t)n;
	}
}

/* Read one answer straight from the socket: it must be SIGN_OK with a
 * signature by the CA over tbs. */
static void
expect_signed(int sock, const struct wire *tbs)
{
	uint8_t hdr[SIGNER_HDR_LEN_TEST + 1], body[1024];
	const uint8_t *sig;
	size_t siglen;
	struct wire *w;
	uint32_t len;

	read_exactly(sock, hdr, sizeof(hdr));
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	cr_assert_eq(hdr[4], SIGNER_MSG_SIGN_OK, "answer type %u", hdr[4]);
	cr_assert(len > 1 && len - 1 <= sizeof(body));
	read_exactly(sock, body, len - 1);
	cr_assert_not_null(w = wire_from(body, len - 1));
	cr_assert_eq(wire_get_string_direct(w, &sig, &siglen), 0);
	cr_assert_eq(wire_len(w), 0);
	cr_assert_eq(pubkey_verify(signer_public(sg), sig, siglen,
			 wire_ptr(tbs), wire_len(tbs), NULL),
	    0);
	wire_free(w);
}

/* A request that arrives in pieces (the header split too) is read
 * whole: the child reads ahead but waits for what is missing. */
Test(
    signer, request_in_pieces_is_answered, .init = setup_keys, .fini = teardown)
{
	int sock = start_and_find_socket();
	struct wire *tbs = NULL, *f = sign_user_frame(&tbs);
	const uint8_t *p = wire_ptr(f);
	size_t len = wire_len(f), cuts[] = {1, 3, 5, 40, len}, off = 0, i;
	struct tbs_spec t = good_spec();

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		cr_assert_eq(send(sock, p + off, cuts[i] - off, MSG_NOSIGNAL),
		    (ssize_t)(cuts[i] - off));
		off = cuts[i];
		usleep(20000); /* the child reads each piece alone */
	}
	expect_signed(sock, tbs);
	/* The stream is still in step for the parent. */
	cr_assert_eq(sign_spec(&t), 0);
	wire_free(tbs);
	wire_free(f);
}

/* Several requests in one send(), as pipelined callers may leave them:
 * each is answered, in order; the last one cut short is completed by
 * the next send. */
Test(signer, requests_in_one_send_are_all_answered, .init = setup_keys,
    .fini = teardown)
{
	int sock = start_and_find_socket();
	struct wire *tbs = NULL, *f = sign_user_frame(&tbs);
	struct wire *all = wire_new(SIGNER_MAX_MSG);
	struct tbs_spec t = good_spec();
	size_t i, n = 5, half;

	cr_assert_not_null(all);
	for (i = 0; i < n; i++)
		cr_assert_eq(wire_put(all, wire_ptr(f), wire_len(f)), 0);
	half = wire_len(f) / 2;
	/* Four and a half requests, then the rest of the fifth. */
	cr_assert_eq(
	    send(sock, wire_ptr(all), wire_len(all) - half, MSG_NOSIGNAL),
	    (ssize_t)(wire_len(all) - half));
	for (i = 0; i < n - 1; i++)
		expect_signed(sock, tbs);
	cr_assert_eq(send(sock, wire_ptr(all) + wire_len(all) - half, half,
			 MSG_NOSIGNAL),
	    (ssize_t)half);
	expect_signed(sock, tbs);
	cr_assert_eq(sign_spec(&t), 0);
	wire_free(all);
	wire_free(tbs);
	wire_free(f);
}

/* A header announcing more than any message may hold ends the child
 * before it waits for (or allocates) the body. */
Test(signer, oversized_length_kills_child, .init = setup_keys, .fini = teardown)
{
	const uint8_t msg[] = {0x01, 0x00, 0x00, 0x00, SIGNER_MSG_SIGN_KRL};

	expect_child_dies(start_and_find_socket(), msg, sizeof(msg));
}

/* A SIGN_USER over the ordinary limit (but under SIGN_KRL's) is read
 * whole and then refused for its type: the child ends. */
Test(signer, user_request_over_its_limit_kills_child, .init = setup_keys,
    .fini = teardown, .timeout = 60)
{
	int sock = start_and_find_socket();
	size_t len = SIGNER_MAX_MSG + 16;
	uint8_t *m = calloc(1, SIGNER_HDR_LEN_TEST + len);
	pid_t pid = signer_pid(sg);
	int status;

	cr_assert_not_null(m);
	m[0] = (uint8_t)(len >> 24);
	m[1] = (uint8_t)(len >> 16);
	m[2] = (uint8_t)(len >> 8);
	m[3] = (uint8_t)len;
	m[4] = SIGNER_MSG_SIGN_USER;
	cr_assert_eq(send(sock, m, SIGNER_HDR_LEN_TEST + len, MSG_NOSIGNAL),
	    (ssize_t)(SIGNER_HDR_LEN_TEST + len));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "status %d", status);
	cr_assert_neq(WEXITSTATUS(status), 0);
	free(m);
}
