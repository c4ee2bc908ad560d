/*
 * test_cakey.c: the CA private key (signer/cakey.c) and signature
 * verification (signer/verify.c): generation, PKCS#8 storage and the
 * file checks of cakey_load(), SSH signature blobs checked by our own
 * verifier and key lines checked by the real ssh-keygen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "signer/cakey.h"
#include "signer/pubkey.h"
#include "signer/wire.h"
#include "tests/lib/testutil.h"

static const char *const type_names[] = {
    "ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-3072"};

/* A key generated once per test process, saved in a temp dir. */
static struct cakey *
gen(const char *name)
{
	struct cakey *k = NULL;
	enum key_type t = cakey_type_from_name(name);

	cr_assert_neq(t, KEY_UNSPEC, "%s", name);
	cr_assert_eq(cakey_generate(&k, t), 0, "%s", name);
	cr_assert_not_null(k);
	cr_assert_eq(pubkey_type(cakey_public(k)), t);
	return k;
}

/* Write an OpenSSL key as PEM (optionally encrypted) with mode 0600. */
static void
write_evp_pem(const char *path, EVP_PKEY *pkey, int encrypt)
{
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *bm = NULL;

	cr_assert_not_null(bio);
	if (encrypt)
		cr_assert(PEM_write_bio_PKCS8PrivateKey(
		    bio, pkey, EVP_aes_256_cbc(), "secret", 6, NULL, NULL));
	else
		cr_assert(PEM_write_bio_PrivateKey(
		    bio, pkey, NULL, NULL, 0, NULL, NULL));
	BIO_get_mem_ptr(bio, &bm);
	tu_write_file(path, bm->data, bm->length, 0600);
	BIO_free(bio);
}

Test(cakey, type_names)
{
	cr_assert_eq(cakey_type_from_name("ed25519"), KEY_ED25519);
	cr_assert_eq(cakey_type_from_name("ecdsa-p256"), KEY_ECDSA_P256);
	cr_assert_eq(cakey_type_from_name("ecdsa-p384"), KEY_ECDSA_P384);
	cr_assert_eq(cakey_type_from_name("rsa-3072"), KEY_RSA);
	cr_assert_eq(cakey_type_from_name("rsa"), KEY_UNSPEC);
	cr_assert_eq(cakey_type_from_name("ssh-ed25519"), KEY_UNSPEC);
	cr_assert_eq(cakey_type_from_name("ED25519"), KEY_UNSPEC);
	cr_assert_eq(cakey_type_from_name(""), KEY_UNSPEC);
	cr_assert_eq(cakey_type_from_name(NULL), KEY_UNSPEC);
}

/* Generate, save, load; same public key; ssh-keygen -l agrees on the
 * fingerprint, size and type of the public line. */
Test(cakey, roundtrip_all_types)
{
	char *dir = tu_tmpdir();
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		struct cakey *k = gen(type_names[i]), *l = NULL;
		char *path = tu_fmt("%s/%s.pem", dir, type_names[i]);
		char *pubpath = tu_fmt("%s/%s.pub", dir, type_names[i]);
		char *line = NULL, *out = NULL, *want, *pem, *cmd;
		char fp[PUBKEY_FP_LEN];
		struct stat st;
		const struct pubkey *pk;

		cr_assert_eq(cakey_save(k, path), 0, "%s", type_names[i]);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_mode & 07777, 0600);
		pem = tu_read_file(path, NULL);
		cr_assert_not_null(pem);
		cr_assert(
		    strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
		cr_assert_not_null(strstr(pem, "-----END PRIVATE KEY-----\n"));
		free(pem);

		cr_assert_eq(cakey_load(&l, path), 0, "%s", type_names[i]);
		cr_assert(pubkey_equal(cakey_public(k), cakey_public(l)));

		pk = cakey_public(l);
		cr_assert_eq(pubkey_to_line(&line, pk, "ca@test"), 0);
		tu_write_file(pubpath, line, strlen(line), 0644);
		cr_assert_eq(pubkey_fingerprint(fp, pk), 0);
		cmd = tu_fmt("ssh-keygen -l -E sha256 -f '%s'", pubpath);
		cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
		free(cmd);
		want = tu_fmt("%u %s ca@test (%s)\n", pubkey_bits(pk), fp,
		    pubkey_short_name(pk));
		cr_assert_str_eq(out, want);
		cr_assert_eq(pubkey_bits(pk),
		    i == 0	 ? 256u
			: i == 1 ? 256u
			: i == 2 ? 384u
				 : 3072u);

		free(want);
		free(out);
		free(line);
		free(path);
		free(pubpath);
		cakey_free(k);
		cakey_free(l);
	}
	tu_rmtree(dir);
	free(dir);
}

Test(cakey, p521_generates_and_loads)
{
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/k.pem", dir);
	struct cakey *k = NULL, *l = NULL;

	cr_assert_eq(cakey_generate(&k, KEY_ECDSA_P521), 0);
	cr_assert_eq(cakey_save(k, path), 0);
	cr_assert_eq(cakey_load(&l, path), 0);
	cr_assert(pubkey_equal(cakey_public(k), cakey_public(l)));
	cakey_free(k);
	cr_assert_eq(cakey_generate(&k, KEY_UNSPEC), ERR_KEY_UNSUPPORTED_CA);
	cr_assert_null(k);
	cakey_free(l);
	tu_rmtree(dir);
	free(dir);
	free(path);
}

Test(cakey, refuses_group_or_other_access)
{
	static const int modes[] = {0644, 0640, 0604, 0660, 0601, 0610, 0700};
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/k.pem", dir);
	struct cakey *k = gen("ed25519"), *l = NULL;
	size_t i;

	cr_assert_eq(cakey_save(k, path), 0);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		cr_assert_eq(chmod(path, (mode_t)modes[i]), 0);
		cr_assert_eq(cakey_load(&l, path),
		    modes[i] == 0700 ? 0 : ERR_KEY_FILE_MODE, "mode %o",
		    modes[i]);
		cakey_free(l);
		l = NULL;
	}
	cr_assert_eq(chmod(path, 0400), 0);
	cr_assert_eq(cakey_load(&l, path), 0);
	cakey_free(l);
	cakey_free(k);
	tu_rmtree(dir);
	free(dir);
	free(path);
}

/* CI runs as root, so the file can be given away to "nobody". */
Test(cakey, refuses_other_owner)
{
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/k.pem", dir);
	struct cakey *k = gen("ecdsa-p256"), *l = NULL;

	cr_assert_eq(geteuid(), 0, "this test needs root (CI runs as root)");
	cr_assert_eq(cakey_save(k, path), 0);
	cr_assert_eq(chown(path, 65534, 65534), 0);
	cr_assert_eq(cakey_load(&l, path), ERR_KEY_FILE_OWNER);
	cr_assert_null(l);
	cr_assert_eq(chown(path, 0, 0), 0);
	cr_assert_eq(cakey_load(&l, path), 0);
	cakey_free(l);
	cakey_free(k);
	tu_rmtree(dir);
	free(dir);
	free(path);
}

Test(cakey, save_never_overwrites)
{
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/k.pem", dir);
	char *link = tu_fmt("%s/link.pem", dir);
	char *target = tu_fmt("%s/target", dir);
	struct cakey *k = gen("ed25519");
	char *before;

	tu_write_file(path, "keep me\n", 8, 0600);
	cr_assert_eq(cakey_save(k, path), ERR_KEY_FILE_EXISTS);
	before = tu_read_file(path, NULL);
	cr_assert_str_eq(before, "keep me\n");
	/* A dangling symlink is not followed either. */
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(cakey_save(k, link), ERR_KEY_FILE_EXISTS);
	cr_assert_eq(access(target, F_OK), -1);
	cr_assert_eq(cakey_save(k, "/nonexistent-dir/k.pem"), ERR_SYSTEM);
	free(before);
	cakey_free(k);
	tu_rmtree(dir);
	free(dir);
	free(path);
	free(link);
	free(target);
}

Test(cakey, refuses_non_pkcs8_files)
{
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/k.pem", dir);
	char *out = NULL, *pem, *cmd;
	struct cakey *k = gen("ed25519"), *l = NULL;
	EVP_PKEY *rsa;
	size_t len;

	/* garbage */
	tu_write_file(path, "hello\n", 6, 0600);
	cr_assert_eq(cakey_load(&l, path), ERR_KEY_FILE_FORMAT);
	/* empty file */
	tu_write_file(path, "", 0, 0600);
	cr_assert_eq(cakey_load(&l, path), ERR_KEY_FILE_FORMAT);
	/* a public key, OpenSSH line and PEM SubjectPublicKeyInfo */
	cr_assert_eq(pubkey_to_line(&out, cakey_public(k), NULL), 0);
	tu_write_file(path, out, strlen(out), 0600);
	cr_assert_eq(cakey_load(&l, path), ERR_KEY_FILE_FORMAT);
	free(out);
	cr_assert_eq(cakey_save(k, path), ERR_KEY_FILE_EXISTS);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(cakey_save(k, path), 0);
	cmd = tu_fmt("openssl pkey -in '%s' -pubout", path);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	free(cmd);
	cr_assert(strncmp(out, "-----BEGIN PUBLIC KEY-----", 26) == 0);
	cr_assert_eq(unlink(path), 0);
	tu_write_file(path, out, strlen(out), 0600);
	cr_assert_eq(cakey_load(&l, path), ERR_KEY_FILE_FORMAT);
	free(out);
	/* an encrypted PKCS#8 key */
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	cr_assert_not_null(rsa);
	write_evp_pem(path, rsa, 1);
	pem = tu_read_file(path, NULL);
	cr_assert_not_null(strstr(pem, "BEGIN ENCRYPTED PRIVATE KEY"));
	free(pem);
	cr_assert_eq(cakey_load(&l, path), ERR_KEY_FILE_FORMAT);
	/* the same key unencrypted loads */
	write_evp_pem(path, rsa, 0);
	cr_assert_eq(cakey_load(&l, path), 0);
	cakey_free(l);
	l = NULL;
	/* a PEM block followed by junk, and a truncated block */
	pem = tu_read_file(path, &len);
	out = tu_fmt("%sjunk\n", pem);
	tu_write_file(path, out, strlen(out), 0600);
	cr_assert_eq(cakey_load(&l, path), ERR_KEY_FILE_FORMAT);
	tu_write_file(path, pem, len - 30, 0600);
	cr_assert_eq(cakey_load(&l, path), ERR_KEY_FILE_FORMAT);
	free(out);
	free(pem);
	EVP_PKEY_free(rsa);
	/* an OpenSSH-format private key */
	cr_assert_eq(unlink(path), 0);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", path);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
	cr_assert_eq(cakey_load(&l, path), ERR_KEY_FILE_FORMAT);
	/* a directory, a symlink, a FIFO, a file over 64 KiB, nothing */
	cr_assert_eq(cakey_load(&l, dir), ERR_KEY_FILE_FORMAT);
	cmd = tu_fmt("%s/link", dir);
	cr_assert_eq(symlink(path, cmd), 0);
	cr_assert_eq(cakey_load(&l, cmd), ERR_KEY_FILE_FORMAT);
	free(cmd);
	cmd = tu_fmt("%s/fifo", dir);
	cr_assert_eq(mkfifo(cmd, 0600), 0);
	cr_assert_eq(cakey_load(&l, cmd), ERR_KEY_FILE_FORMAT);
	free(cmd);
	out = calloc(1, 70000);
	memset(out, '\n', 70000);
	tu_write_file(path, out, 70000, 0600);
	cr_assert_eq(cakey_load(&l, path), ERR_TOO_LARGE);
	free(out);
	cmd = tu_fmt("%s/missing", dir);
	cr_assert_eq(cakey_load(&l, cmd), ERR_SYSTEM);
	free(cmd);
	cr_assert_null(l);
	cakey_free(k);
	tu_rmtree(dir);
	free(dir);
	free(path);
}

Test(cakey, refuses_unsupported_key_kinds)
{
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/k.pem", dir);
	struct cakey *l = NULL;
	EVP_PKEY *keys[4];
	size_t i;

	keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-224");
	keys[2] = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	keys[3] = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	for (i = 0; i < 4; i++) {
		cr_assert_not_null(keys[i], "%zu", i);
		write_evp_pem(path, keys[i], 0);
		cr_assert_eq(
		    cakey_load(&l, path), ERR_KEY_UNSUPPORTED_CA, "key %zu", i);
		cr_assert_null(l);
		EVP_PKEY_free(keys[i]);
	}
	tu_rmtree(dir);
	free(dir);
	free(path);
}

/* Read the algorithm name and the raw signature string of a blob. */
static void
sig_parts(const uint8_t *sig, size_t len, char **alg, const uint8_t **raw,
    size_t *rawlen)
{
	struct wire *w = wire_from(sig, len);

	cr_assert_eq(wire_get_cstring(w, alg, NULL), 0);
	cr_assert_eq(wire_get_string_direct(w, raw, rawlen), 0);
	cr_assert_eq(wire_len(w), 0);
	wire_free(w);
}

static void
check_signatures(struct cakey *k, const char *want_alg)
{
	static const uint8_t msg[] = "to be signed: certificate body";
	const struct pubkey *pk = cakey_public(k);
	uint8_t *sig = NULL, *sig2 = NULL, *relabeled;
	size_t siglen = 0, sig2len = 0, rawlen;
	const uint8_t *raw;
	const char *alg = NULL;
	char *name = NULL;
	struct wire *w;
	int i;

	cr_assert_eq(cakey_sign(k, &sig, &siglen, msg, sizeof(msg)), 0);
	cr_assert_eq(pubkey_verify(pk, sig, siglen, msg, sizeof(msg), &alg), 0,
	    "%s", want_alg);
	cr_assert_str_eq(alg, want_alg);
	sig_parts(sig, siglen, &name, &raw, &rawlen);
	cr_assert_str_eq(name, want_alg);
	free(name);
	switch (pubkey_type(pk)) {
	case KEY_ED25519:
		cr_assert_eq(rawlen, 64);
		break;
	case KEY_RSA:
		cr_assert_eq(rawlen, pubkey_bits(pk) / 8);
		break;
	default: {
		/* string(mpint r, mpint s), each minimal. */
		struct wire *in = wire_from(raw, rawlen);
		const uint8_t *m;
		size_t mlen;

		for (i = 0; i < 2; i++) {
			cr_assert_eq(wire_get_mpint_direct(in, &m, &mlen), 0);
			cr_assert(mlen > 0 && mlen <= 66);
		}
		cr_assert_eq(wire_len(in), 0);
		wire_free(in);
	}
	}

	/* Empty data can be signed too. */
	cr_assert_eq(cakey_sign(k, &sig2, &sig2len, NULL, 0), 0);
	cr_assert_eq(pubkey_verify(pk, sig2, sig2len, NULL, 0, NULL), 0);
	cr_assert_eq(
	    pubkey_verify(pk, sig2, sig2len, msg, 1, NULL), ERR_SIG_INVALID);
	free(sig2);

	/* A flipped bit in the last signature byte, or in the data. */
	sig[siglen - 1] ^= 0x01;
	cr_assert_eq(pubkey_verify(pk, sig, siglen, msg, sizeof(msg), NULL),
	    ERR_SIG_INVALID, "%s", want_alg);
	sig[siglen - 1] ^= 0x01;
	{
		uint8_t m2[sizeof(msg)];

		memcpy(m2, msg, sizeof(msg));
		m2[3] ^= 0x40;
		cr_assert_eq(
		    pubkey_verify(pk, sig, siglen, m2, sizeof(m2), NULL),
		    ERR_SIG_INVALID);
	}
	/* Trailing byte after the blob; truncated blob. */
	relabeled = malloc(siglen + 1);
	memcpy(relabeled, sig, siglen);
	relabeled[siglen] = 0;
	cr_assert_eq(
	    pubkey_verify(pk, relabeled, siglen + 1, msg, sizeof(msg), NULL),
	    ERR_TRAILING_DATA);
	cr_assert_eq(pubkey_verify(pk, sig, siglen - 1, msg, sizeof(msg), NULL),
	    ERR_BUF_SHORT);
	free(relabeled);

	/* Another algorithm name on the same bytes: ssh-rsa (SHA-1) and
	 * names that do not fit the key are ERR_SIG_ALG. */
	sig_parts(sig, siglen, &name, &raw, &rawlen);
	free(name);
	{
		const char *others[] = {"ssh-rsa", "ssh-ed25519",
		    "ecdsa-sha2-nistp256", "rsa-sha2-512", "ssh-dss"};

		for (i = 0; i < 5; i++) {
			if (strcmp(others[i], want_alg) == 0)
				continue;
			w = wire_new(4096);
			cr_assert_eq(wire_put_cstring(w, others[i]), 0);
			cr_assert_eq(wire_put_string(w, raw, rawlen), 0);
			cr_assert_eq(pubkey_verify(pk, wire_ptr(w), wire_len(w),
					 msg, sizeof(msg), NULL),
			    ERR_SIG_ALG, "%s as %s", want_alg, others[i]);
			wire_free(w);
		}
	}
	free(sig);
}

Test(cakey, signatures_verify_and_detect_changes)
{
	struct cakey *k;

	k = gen("ed25519");
	check_signatures(k, "ssh-ed25519");
	cakey_free(k);
	k = gen("ecdsa-p256");
	check_signatures(k, "ecdsa-sha2-nistp256");
	cakey_free(k);
	k = gen("ecdsa-p384");
	check_signatures(k, "ecdsa-sha2-nistp384");
	cakey_free(k);
	cr_assert_eq(cakey_generate(&k, KEY_ECDSA_P521), 0);
	check_signatures(k, "ecdsa-sha2-nistp521");
	cakey_free(k);
	k = gen("rsa-3072");
	check_signatures(k, "rsa-sha2-512");
	cakey_free(k);
}

/* RSA signatures: SHA-256 accepted, shorter than the modulus refused,
 * another key's signature refused. */
Test(cakey, rsa_variants)
{
	static const uint8_t msg[] = "data";
	struct cakey *k = gen("rsa-3072"), *e = gen("ed25519");
	const struct pubkey *pk = cakey_public(k);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t raw[384], *sig = NULL;
	size_t rawlen = sizeof(raw), siglen;
	EVP_PKEY *priv;
	struct wire *w;
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/k.pem", dir);
	BIO *bio;

	/* The private key back as an EVP_PKEY through its PEM file. */
	cr_assert_eq(cakey_save(k, path), 0);
	bio = BIO_new_file(path, "r");
	priv = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	cr_assert_not_null(priv);
	BIO_free(bio);
	cr_assert_eq(
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, priv), 1);
	cr_assert_eq(EVP_DigestSign(ctx, raw, &rawlen, msg, sizeof(msg)), 1);
	cr_assert_eq(rawlen, 384);
	w = wire_new(4096);
	cr_assert_eq(wire_put_cstring(w, "rsa-sha2-256"), 0);
	cr_assert_eq(wire_put_string(w, raw, rawlen), 0);
	cr_assert_eq(
	    pubkey_verify(pk, wire_ptr(w), wire_len(w), msg, sizeof(msg), NULL),
	    0);
	/* The same bytes as rsa-sha2-512: wrong hash. */
	wire_reset(w);
	cr_assert_eq(wire_put_cstring(w, "rsa-sha2-512"), 0);
	cr_assert_eq(wire_put_string(w, raw, rawlen), 0);
	cr_assert_eq(
	    pubkey_verify(pk, wire_ptr(w), wire_len(w), msg, sizeof(msg), NULL),
	    ERR_SIG_INVALID);
	/* One byte short of the modulus length. */
	wire_reset(w);
	cr_assert_eq(wire_put_cstring(w, "rsa-sha2-256"), 0);
	cr_assert_eq(wire_put_string(w, raw + 1, rawlen - 1), 0);
	cr_assert_eq(
	    pubkey_verify(pk, wire_ptr(w), wire_len(w), msg, sizeof(msg), NULL),
	    ERR_SIG_INVALID);
	wire_free(w);
	/* An ed25519 signature under an RSA key. */
	cr_assert_eq(cakey_sign(e, &sig, &siglen, msg, sizeof(msg)), 0);
	cr_assert_eq(pubkey_verify(pk, sig, siglen, msg, sizeof(msg), NULL),
	    ERR_SIG_ALG);
	free(sig);
	EVP_PKEY_free(priv);
	EVP_MD_CTX_free(ctx);
	cakey_free(k);
	cakey_free(e);
	tu_rmtree(dir);
	free(dir);
	free(path);
}
