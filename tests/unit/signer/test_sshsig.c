/*
 * test_sshsig.c: PROTOCOL.sshsig signatures (signer/sshsig.c) against the
 * real ssh-keygen: signatures we make with every CA key type are checked
 * by `ssh-keygen -Y verify` with an allowed_signers line restricted to
 * checkpoint@jitca and krl@jitca, and refused by it for another
 * namespace and a changed message; an RSA signature is byte for byte the
 * one `ssh-keygen -Y sign` makes with the same key; signatures
 * ssh-keygen makes are accepted by our verifier and refused for the
 * wrong namespace, message or key; every single-byte flip and every
 * truncation of an armored signature is refused; each malformed blob and
 * armor gets its exact code.  A real checkpoint (merkle.h root, note.h
 * note signed by the ledger key) signed as SSHSIG is checked by
 * ssh-keygen exactly as the ledger's users will check it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "signer/cakey.h"
#include "signer/merkle.h"
#include "signer/note.h"
#include "signer/pubkey.h"
#include "signer/sshsig.h"
#include "signer/wire.h"
#include "tests/lib/testutil.h"

static const char *const type_names[] = {
    "ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-3072"};

/* A checkpoint note, and a message with NUL and high bytes. */
static const char note_msg[] =
    "jitca.example/ledger\n42\nKgQFBkKA7PZrD0Pt0DbkbUoCNQKsqNQvB5UJv7x8mD8=\n"
    "\n"
    "\xe2\x80\x94 jitca.example/ledger AAAAAHN0cmluZw==\n";
static const uint8_t bin_msg[] = {0x00, 0x01, 0xff, 0x0a, 0x00, 'K', 'R', 'L'};

static int
sign_cb(void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *d, size_t dlen)
{
	return cakey_sign(ctx, sig, siglen, d, dlen);
}

static struct cakey *
gen(const char *name)
{
	struct cakey *k = NULL;

	cr_assert_eq(
	    cakey_generate(&k, cakey_type_from_name(name)), 0, "%s", name);
	return k;
}

static char *
sign_ours(struct cakey *k, const char *ns, const void *msg, size_t len)
{
	char *sig = NULL;
	size_t siglen = 0;

	cr_assert_eq(sshsig_sign(&sig, &siglen, cakey_public(k), ns, msg, len,
			 sign_cb, k),
	    0);
	cr_assert_eq(strlen(sig), siglen);
	return sig;
}

/* allowed_signers with the line for key, in dir. */
static char *
write_allowed(const char *dir, const struct pubkey *k)
{
	char *line = NULL, *path = tu_fmt("%s/allowed_signers", dir), *text;

	cr_assert_eq(pubkey_to_line(&line, k, NULL), 0);
	text = tu_fmt("ledger@jitca namespaces=\"checkpoint@jitca,krl@jitca\" "
		      "%s\n",
	    line);
	tu_write_file(path, text, strlen(text), 0644);
	free(text);
	free(line);
	return path;
}

/* `ssh-keygen -Y verify` of sig over msg under ns; its exit status,
 * stdout in *out when out is non-NULL. */
static int
keygen_verify(const char *dir, const char *allowed, const char *ns,
    const char *sig, const void *msg, size_t len, char **out)
{
	char *sigp = tu_fmt("%s/msg.sig", dir), *msgp = tu_fmt("%s/msg", dir);
	char *cmd, *o = NULL;
	int st;

	tu_write_file(sigp, sig, strlen(sig), 0644);
	tu_write_file(msgp, msg, len, 0644);
	cmd = tu_fmt("ssh-keygen -Y verify -f '%s' -I ledger@jitca -n '%s' "
		     "-s '%s' < '%s'",
	    allowed, ns, sigp, msgp);
	st = tu_sh(cmd, &o, NULL);
	if (out != NULL)
		*out = o;
	else
		free(o);
	free(cmd);
	free(sigp);
	free(msgp);
	return st;
}

/* The armor is ssh-keygen's: 70-column lines between the two markers. */
static void
assert_armor_shape(const char *sig)
{
	const char *p = sig + strlen(SSHSIG_BEGIN), *end;
	size_t n;

	cr_assert_eq(strncmp(sig, SSHSIG_BEGIN, strlen(SSHSIG_BEGIN)), 0);
	end = sig + strlen(sig) - strlen(SSHSIG_END);
	cr_assert_str_eq(end, SSHSIG_END);
	while (p < end) {
		const char *nl = strchr(p, '\n');

		cr_assert_not_null(nl);
		n = (size_t)(nl - p);
		cr_assert(n == 70 || nl + 1 == end, "line of %zu", n);
		cr_assert(n > 0 && n <= 70);
		p = nl + 1;
	}
}

Test(sshsig, ours_verified_by_ssh_keygen)
{
	char *dir = tu_tmpdir();
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		struct cakey *k = gen(type_names[i]);
		const struct pubkey *pk = cakey_public(k);
		char *allowed = write_allowed(dir, pk), *out = NULL, *want;
		char fp[PUBKEY_FP_LEN];
		char *sig = sign_ours(
		    k, "checkpoint@jitca", note_msg, strlen(note_msg));
		char *ksig, *other;
		char changed[sizeof(note_msg)];

		assert_armor_shape(sig);
		cr_assert_eq(
		    sshsig_verify(sig, strlen(sig), pk, "checkpoint@jitca",
			(const uint8_t *)note_msg, strlen(note_msg)),
		    0);
		cr_assert_eq(keygen_verify(dir, allowed, "checkpoint@jitca",
				 sig, note_msg, strlen(note_msg), &out),
		    0, "%s", type_names[i]);
		cr_assert_eq(pubkey_fingerprint(fp, pk), 0);
		want = tu_fmt("Good \"checkpoint@jitca\" signature for "
			      "ledger@jitca with %s key %s\n",
		    pubkey_short_name(pk), fp);
		cr_assert_str_eq(out, want);
		free(want);
		free(out);
		/* Another namespace, even one the line allows. */
		cr_assert_neq(keygen_verify(dir, allowed, "krl@jitca", sig,
				  note_msg, strlen(note_msg), NULL),
		    0);
		cr_assert_eq(sshsig_verify(sig, strlen(sig), pk, "krl@jitca",
				 (const uint8_t *)note_msg, strlen(note_msg)),
		    ERR_SSHSIG_NAMESPACE);
		/* A changed message. */
		memcpy(changed, note_msg, sizeof(note_msg));
		changed[22] = '3'; /* "42" -> "43" */
		cr_assert_neq(keygen_verify(dir, allowed, "checkpoint@jitca",
				  sig, changed, strlen(changed), NULL),
		    0);
		cr_assert_eq(
		    sshsig_verify(sig, strlen(sig), pk, "checkpoint@jitca",
			(const uint8_t *)changed, strlen(changed)),
		    ERR_SIG_INVALID);
		/* A KRL's signature: binary bytes, the other namespace. */
		ksig = sign_ours(k, "krl@jitca", bin_msg, sizeof(bin_msg));
		cr_assert_eq(keygen_verify(dir, allowed, "krl@jitca", ksig,
				 bin_msg, sizeof(bin_msg), NULL),
		    0);
		cr_assert_neq(keygen_verify(dir, allowed, "checkpoint@jitca",
				  ksig, bin_msg, sizeof(bin_msg), NULL),
		    0);
		/* A namespace the allowed_signers line does not allow. */
		other = sign_ours(k, "file", bin_msg, sizeof(bin_msg));
		cr_assert_neq(keygen_verify(dir, allowed, "file", other,
				  bin_msg, sizeof(bin_msg), NULL),
		    0);
		free(other);
		free(ksig);
		free(sig);
		free(allowed);
		cakey_free(k);
	}
	tu_rmtree(dir);
	free(dir);
}

/* RSA PKCS#1 v1.5 is deterministic: ssh-keygen signing with our key file
 * gives exactly our bytes (armor, blob, signed data, hash). */
Test(sshsig, rsa_byte_exact_with_ssh_keygen)
{
	char *dir = tu_tmpdir();
	struct cakey *k = gen("rsa-3072");
	char *pem = tu_fmt("%s/ca.pem", dir),
	     *pub = tu_fmt("%s/ca.pem.pub", dir);
	char *msgp = tu_fmt("%s/note", dir), *line = NULL, *cmd, *theirs;
	char *ours =
	    sign_ours(k, "checkpoint@jitca", note_msg, strlen(note_msg));

	cr_assert_eq(cakey_save(k, pem), 0);
	cr_assert_eq(pubkey_to_line(&line, cakey_public(k), NULL), 0);
	tu_write_file(pub, line, strlen(line), 0644);
	tu_write_file(msgp, note_msg, strlen(note_msg), 0644);
	cmd = tu_fmt("ssh-keygen -q -Y sign -f '%s' -n checkpoint@jitca '%s'",
	    pem, msgp);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	theirs = tu_read_file(tu_keep(tu_fmt("%s.sig", msgp)), NULL);
	cr_assert_not_null(theirs);
	cr_assert_str_eq(ours, theirs);
	free(theirs);
	free(cmd);
	free(ours);
	free(line);
	free(msgp);
	free(pub);
	free(pem);
	cakey_free(k);
	tu_rmtree(dir);
	free(dir);
	tu_keep_free();
}

/* ssh-keygen's own keys and signatures, read by our verifier. */
Test(sshsig, ssh_keygen_signatures_verified)
{
	static const char *const kinds[] = {"-t ed25519", "-t ecdsa -b 256",
	    "-t ecdsa -b 384", "-t ecdsa -b 521", "-t rsa -b 3072"};
	char *dir = tu_tmpdir();
	struct cakey *other = gen("ed25519");
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char *key = tu_fmt("%s/k%zu", dir, i);
		char *msgp = tu_fmt("%s/m%zu", dir, i);
		char *cmd, *publ, *sig, *sig256, *sigp;
		struct pubkey *pk = NULL;

		cmd = tu_fmt(
		    "ssh-keygen -q %s -N '' -C '' -f '%s'", kinds[i], key);
		cr_assert_eq(tu_sh(cmd, NULL, NULL), 0, "%s", cmd);
		free(cmd);
		publ = tu_read_file(tu_keep(tu_fmt("%s.pub", key)), NULL);
		cr_assert_not_null(publ);
		cr_assert_eq(pubkey_from_line(&pk, publ, strlen(publ)), 0);
		tu_write_file(msgp, note_msg, strlen(note_msg), 0644);
		cmd =
		    tu_fmt("ssh-keygen -q -Y sign -f '%s' -n checkpoint@jitca "
			   "'%s'",
			key, msgp);
		cr_assert_eq(tu_sh(cmd, NULL, NULL), 0, "%s", cmd);
		free(cmd);
		sigp = tu_fmt("%s.sig", msgp);
		sig = tu_read_file(sigp, NULL);
		cr_assert_not_null(sig);
		assert_armor_shape(sig);
		cr_assert_eq(
		    sshsig_verify(sig, strlen(sig), pk, "checkpoint@jitca",
			(const uint8_t *)note_msg, strlen(note_msg)),
		    0, "%s", kinds[i]);
		cr_assert_eq(sshsig_verify(sig, strlen(sig), pk, "krl@jitca",
				 (const uint8_t *)note_msg, strlen(note_msg)),
		    ERR_SSHSIG_NAMESPACE);
		cr_assert_eq(
		    sshsig_verify(sig, strlen(sig), pk, "checkpoint@jitca",
			(const uint8_t *)note_msg, strlen(note_msg) - 1),
		    ERR_SIG_INVALID);
		cr_assert_eq(sshsig_verify(sig, strlen(sig),
				 cakey_public(other), "checkpoint@jitca",
				 (const uint8_t *)note_msg, strlen(note_msg)),
		    ERR_SSHSIG_WRONG_KEY);
		/* -O hashalg=sha256: the other hash PROTOCOL.sshsig names. */
		unlink(sigp);
		cmd = tu_fmt("ssh-keygen -q -Y sign -f '%s' -n krl@jitca -O "
			     "hashalg=sha256 '%s'",
		    key, msgp);
		cr_assert_eq(tu_sh(cmd, NULL, NULL), 0, "%s", cmd);
		free(cmd);
		sig256 = tu_read_file(sigp, NULL);
		cr_assert_not_null(sig256);
		cr_assert_eq(
		    sshsig_verify(sig256, strlen(sig256), pk, "krl@jitca",
			(const uint8_t *)note_msg, strlen(note_msg)),
		    0, "%s sha256", kinds[i]);
		free(sig256);
		free(sig);
		free(sigp);
		free(publ);
		free(msgp);
		free(key);
		pubkey_free(pk);
	}
	cakey_free(other);
	tu_rmtree(dir);
	free(dir);
	tu_keep_free();
}

/* Every byte of the armored text changed (xor 0x01, 0x20, 0x80), every
 * truncation, and any byte appended: all refused. */
Test(sshsig, every_flip_and_truncation_refused)
{
	size_t i, j, len, accepted = 0, tried = 0;
	static const uint8_t masks[] = {0x01, 0x20, 0x80};

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		struct cakey *k = gen(type_names[i]);
		const struct pubkey *pk = cakey_public(k);
		char *sig = sign_ours(
		    k, "checkpoint@jitca", note_msg, strlen(note_msg));
		char *m;

		len = strlen(sig);
		m = malloc(len + 2);
		cr_assert_not_null(m);
		for (j = 0; j < len; j++) {
			size_t b;

			for (b = 0; b < sizeof(masks); b++) {
				memcpy(m, sig, len);
				m[j] ^= (char)masks[b];
				tried++;
				if (sshsig_verify(m, len, pk,
					"checkpoint@jitca",
					(const uint8_t *)note_msg,
					strlen(note_msg)) == 0)
					accepted++;
			}
		}
		for (j = 0; j < len; j++)
			cr_assert_neq(
			    sshsig_verify(sig, j, pk, "checkpoint@jitca",
				(const uint8_t *)note_msg, strlen(note_msg)),
			    0, "truncated to %zu", j);
		memcpy(m, sig, len);
		m[len] = '\n';
		cr_assert_eq(sshsig_verify(m, len + 1, pk, "checkpoint@jitca",
				 (const uint8_t *)note_msg, strlen(note_msg)),
		    ERR_SSHSIG_ARMOR);
		cr_assert_eq(sshsig_verify(sig, len, pk, "checkpoint@jitca",
				 (const uint8_t *)note_msg, strlen(note_msg)),
		    0);
		free(m);
		free(sig);
		cakey_free(k);
	}
	cr_log_info("%zu flipped signatures, %zu accepted", tried, accepted);
	cr_assert_eq(accepted, 0);
}

/* A blob with chosen fields, correctly signed over the standard signed
 * data, armored. */
struct blob_spec {
	const char *magic;
	uint32_t version;
	const struct pubkey *key; /* in the blob */
	const char *ns; /* in the blob and the signed data */
	const char *reserved;
	const char *alg; /* in the blob */
	const char *sigalg; /* hash for the signed data */
	int trailing;
};

static char *
crafted(struct cakey *k, const struct blob_spec *s)
{
	struct wire *tbs = wire_new(4096), *b = wire_new(8192);
	uint8_t *sig = NULL;
	size_t siglen = 0;
	char *out = NULL;

	cr_assert(tbs != NULL && b != NULL);
	cr_assert_eq(sshsig_signed_data(tbs, s->ns, s->sigalg,
			 (const uint8_t *)note_msg, strlen(note_msg)),
	    0);
	cr_assert_eq(
	    cakey_sign(k, &sig, &siglen, wire_ptr(tbs), wire_len(tbs)), 0);
	cr_assert_eq(wire_put(b, s->magic, strlen(s->magic)), 0);
	cr_assert_eq(wire_put_u32(b, s->version), 0);
	cr_assert_eq(pubkey_put_blob(b, s->key), 0);
	cr_assert_eq(wire_put_cstring(b, s->ns), 0);
	cr_assert_eq(wire_put_cstring(b, s->reserved), 0);
	cr_assert_eq(wire_put_cstring(b, s->alg), 0);
	cr_assert_eq(wire_put_string(b, sig, siglen), 0);
	if (s->trailing)
		cr_assert_eq(wire_put_u8(b, 0), 0);
	cr_assert_eq(sshsig_armor(&out, NULL, wire_ptr(b), wire_len(b)), 0);
	free(sig);
	wire_free(tbs);
	wire_free(b);
	return out;
}

static int
verify_crafted(struct cakey *k, const struct blob_spec *s)
{
	char *text = crafted(k, s);
	int r = sshsig_verify(text, strlen(text), cakey_public(k),
	    "checkpoint@jitca", (const uint8_t *)note_msg, strlen(note_msg));

	free(text);
	return r;
}

Test(sshsig, malformed_blobs_exact_codes)
{
	struct cakey *k = gen("ed25519"), *o = gen("ed25519");
	const struct blob_spec good = {"SSHSIG", 1, cakey_public(k),
	    "checkpoint@jitca", "", "sha512", "sha512", 0};
	struct blob_spec s;

	cr_assert_eq(verify_crafted(k, &good), 0);
	s = good;
	s.magic = "SSHSIH";
	cr_assert_eq(verify_crafted(k, &s), ERR_SSHSIG_MAGIC);
	s = good;
	s.magic = "SSHSI"; /* then the version's bytes run one late */
	cr_assert_neq(verify_crafted(k, &s), 0);
	s = good;
	s.version = 2;
	cr_assert_eq(verify_crafted(k, &s), ERR_SSHSIG_VERSION);
	s = good;
	s.version = 0;
	cr_assert_eq(verify_crafted(k, &s), ERR_SSHSIG_VERSION);
	s = good;
	s.key = cakey_public(o);
	cr_assert_eq(verify_crafted(k, &s), ERR_SSHSIG_WRONG_KEY);
	s = good;
	s.ns = "krl@jitca";
	cr_assert_eq(verify_crafted(k, &s), ERR_SSHSIG_NAMESPACE);
	s = good;
	s.ns = "checkpoint@jitca2";
	cr_assert_eq(verify_crafted(k, &s), ERR_SSHSIG_NAMESPACE);
	s = good;
	s.reserved = "x";
	cr_assert_eq(verify_crafted(k, &s), ERR_BAD_FORMAT);
	s = good;
	s.alg = "sha1";
	cr_assert_eq(verify_crafted(k, &s), ERR_SSHSIG_HASH_ALG);
	s = good;
	s.alg = "SHA512";
	cr_assert_eq(verify_crafted(k, &s), ERR_SSHSIG_HASH_ALG);
	s = good;
	s.alg = "sha256"; /* signed data says sha512 */
	cr_assert_eq(verify_crafted(k, &s), ERR_SIG_INVALID);
	s = good;
	s.alg = "sha256";
	s.sigalg = "sha256";
	cr_assert_eq(verify_crafted(k, &s), 0);
	s = good;
	s.trailing = 1;
	cr_assert_eq(verify_crafted(k, &s), ERR_TRAILING_DATA);
	cakey_free(o);
	cakey_free(k);
}

/* A legacy SHA-1 "ssh-rsa" signature inside a well-formed blob. */
Test(sshsig, sha1_rsa_refused)
{
	struct cakey *k = gen("rsa-3072");
	struct wire *b = wire_new(8192), *sb = wire_new(1024);
	uint8_t zero[384];
	char *text = NULL;

	cr_assert(b != NULL && sb != NULL);
	memset(zero, 0, sizeof(zero));
	cr_assert_eq(wire_put_cstring(sb, "ssh-rsa"), 0);
	cr_assert_eq(wire_put_string(sb, zero, sizeof(zero)), 0);
	cr_assert_eq(wire_put(b, "SSHSIG", 6), 0);
	cr_assert_eq(wire_put_u32(b, 1), 0);
	cr_assert_eq(pubkey_put_blob(b, cakey_public(k)), 0);
	cr_assert_eq(wire_put_cstring(b, "checkpoint@jitca"), 0);
	cr_assert_eq(wire_put_cstring(b, ""), 0);
	cr_assert_eq(wire_put_cstring(b, "sha512"), 0);
	cr_assert_eq(wire_put_stringb(b, sb), 0);
	cr_assert_eq(sshsig_armor(&text, NULL, wire_ptr(b), wire_len(b)), 0);
	cr_assert_eq(sshsig_verify(text, strlen(text), cakey_public(k),
			 "checkpoint@jitca", (const uint8_t *)note_msg,
			 strlen(note_msg)),
	    ERR_SIG_ALG);
	free(text);
	wire_free(b);
	wire_free(sb);
	cakey_free(k);
}

/* The armor: only ssh-keygen's exact layout. */
Test(sshsig, armor_strict)
{
	struct cakey *k = gen("ed25519");
	const struct pubkey *pk = cakey_public(k);
	char *sig =
	    sign_ours(k, "checkpoint@jitca", note_msg, strlen(note_msg));
	uint8_t *blob = NULL;
	size_t bloblen = 0, len = strlen(sig);
	char *b64 = NULL, *t;
	const uint8_t *m = (const uint8_t *)note_msg;
	size_t ml = strlen(note_msg);

	cr_assert_eq(sshsig_dearmor(&blob, &bloblen, sig, len), 0);
	cr_assert_eq(memcmp(blob, "SSHSIG\0\0\0\1", 10), 0);
	cr_assert_eq(wire_b64_encode(&b64, blob, bloblen), 0);

	/* One line of everything, and 76-column lines. */
	t = tu_fmt("%s%s\n%s", SSHSIG_BEGIN, b64, SSHSIG_END);
	cr_assert_eq(sshsig_verify(t, strlen(t), pk, "checkpoint@jitca", m, ml),
	    ERR_SSHSIG_ARMOR);
	free(t);
	t = tu_fmt("%s%.76s\n%s\n%s", SSHSIG_BEGIN, b64, b64 + 76, SSHSIG_END);
	cr_assert_eq(sshsig_verify(t, strlen(t), pk, "checkpoint@jitca", m, ml),
	    ERR_SSHSIG_ARMOR);
	free(t);
	/* Shorter lines than 70 before the last. */
	t = tu_fmt("%s%.69s\n%s\n%s", SSHSIG_BEGIN, b64, b64 + 69, SSHSIG_END);
	cr_assert_eq(sshsig_verify(t, strlen(t), pk, "checkpoint@jitca", m, ml),
	    ERR_SSHSIG_ARMOR);
	free(t);
	/* CRLF, a blank line, no final newline, leading junk. */
	t = tu_fmt("%s%.70s\r\n%s", SSHSIG_BEGIN, b64,
	    sig + strlen(SSHSIG_BEGIN) + 71);
	cr_assert_eq(sshsig_verify(t, strlen(t), pk, "checkpoint@jitca", m, ml),
	    ERR_SSHSIG_ARMOR);
	free(t);
	t = tu_fmt("%s\n%s", SSHSIG_BEGIN, sig + strlen(SSHSIG_BEGIN));
	cr_assert_eq(sshsig_verify(t, strlen(t), pk, "checkpoint@jitca", m, ml),
	    ERR_SSHSIG_ARMOR);
	free(t);
	cr_assert_eq(sshsig_verify(sig, len - 1, pk, "checkpoint@jitca", m, ml),
	    ERR_SSHSIG_ARMOR);
	t = tu_fmt(" %s", sig);
	cr_assert_eq(sshsig_verify(t, strlen(t), pk, "checkpoint@jitca", m, ml),
	    ERR_SSHSIG_ARMOR);
	free(t);
	t = tu_fmt("%s%s", SSHSIG_BEGIN, SSHSIG_END);
	cr_assert_eq(sshsig_verify(t, strlen(t), pk, "checkpoint@jitca", m, ml),
	    ERR_SSHSIG_ARMOR);
	free(t);
	/* A character outside base64 in a line of the right length. */
	t = strdup(sig);
	cr_assert_not_null(t);
	t[strlen(SSHSIG_BEGIN) + 5] = '*';
	cr_assert_eq(sshsig_verify(t, len, pk, "checkpoint@jitca", m, ml),
	    ERR_BAD_BASE64);
	free(t);
	/* An embedded NUL. */
	t = strdup(sig);
	cr_assert_not_null(t);
	t[strlen(SSHSIG_BEGIN) + 5] = '\0';
	cr_assert_eq(sshsig_verify(t, len, pk, "checkpoint@jitca", m, ml),
	    ERR_SSHSIG_ARMOR);
	free(t);
	/* Too large. */
	t = calloc(1, SSHSIG_MAX_ARMOR + 1);
	cr_assert_not_null(t);
	cr_assert_eq(sshsig_verify(t, SSHSIG_MAX_ARMOR + 1, pk,
			 "checkpoint@jitca", m, ml),
	    ERR_TOO_LARGE);
	free(t);

	/* The armor round trip. */
	cr_assert_eq(sshsig_armor(&t, NULL, blob, bloblen), 0);
	cr_assert_str_eq(t, sig);
	free(t);
	free(b64);
	free(blob);
	free(sig);
	cakey_free(k);
}

static int
fail_cb(void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *d, size_t n)
{
	return ERR_SIGNER_DEAD;
}

/* Signing refuses a bad namespace, a callback error is passed on, and a
 * signature by another key is never armored. */
Test(sshsig, sign_refusals)
{
	struct cakey *k = gen("ed25519"), *o = gen("ed25519");
	char dummy = 0, *sig = &dummy;
	size_t len = 9;

	cr_assert_eq(sshsig_sign(&sig, &len, cakey_public(k), "", bin_msg,
			 sizeof(bin_msg), sign_cb, k),
	    ERR_INVALID_ARG);
	cr_assert_null(sig);
	cr_assert_eq(len, 0);
	cr_assert_eq(sshsig_sign(&sig, &len, cakey_public(k), "a b", bin_msg,
			 sizeof(bin_msg), sign_cb, k),
	    ERR_INVALID_ARG);
	cr_assert_eq(sshsig_sign(&sig, &len, cakey_public(k), NULL, bin_msg,
			 sizeof(bin_msg), sign_cb, k),
	    ERR_INVALID_ARG);
	cr_assert_eq(sshsig_sign(&sig, &len, cakey_public(k), "krl@jitca",
			 bin_msg, sizeof(bin_msg), fail_cb, k),
	    ERR_SIGNER_DEAD);
	cr_assert_eq(sshsig_sign(&sig, &len, cakey_public(k), "krl@jitca",
			 bin_msg, sizeof(bin_msg), sign_cb, o),
	    ERR_SIG_INVALID);
	cr_assert_null(sig);
	/* An empty message is a message. */
	cr_assert_eq(sshsig_sign(&sig, &len, cakey_public(k), "krl@jitca", NULL,
			 0, sign_cb, k),
	    0);
	cr_assert_eq(
	    sshsig_verify(sig, len, cakey_public(k), "krl@jitca", NULL, 0), 0);
	cr_assert_eq(sshsig_verify(sig, len, cakey_public(k), "", NULL, 0),
	    ERR_INVALID_ARG);
	free(sig);
	cakey_free(o);
	cakey_free(k);
}

/* The check, end to end: a checkpoint note over a real tree,
 * signed by the ledger key as a note and as an SSHSIG; `ssh-keygen -Y
 * verify ... -n checkpoint@jitca -s note.sig < note` accepts it and
 * refuses the note with a changed tree size or root, or under krl@jitca. */
Test(sshsig, checkpoint_note_verified_by_ssh_keygen)
{
	char *dir = tu_tmpdir();
	struct cakey *k = gen("ed25519");
	struct note_verifier v;
	struct merkle_tree t;
	uint8_t leaf[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	char *text = NULL, *note = NULL, *sig, *allowed, *out = NULL, *bad;
	size_t tl = 0, nl = 0, i;

	merkle_tree_init(&t);
	for (i = 0; i < 5; i++) {
		char ev[32];
		int n = snprintf(ev, sizeof(ev), "event %zu", i);

		cr_assert_eq(
		    merkle_leaf_hash(leaf, (const uint8_t *)ev, (size_t)n), 0);
		cr_assert_eq(merkle_tree_append(&t, leaf, NULL, NULL), 0);
	}
	cr_assert_eq(merkle_tree_root(&t, root), 0);
	cr_assert_eq(note_checkpoint_text(&text, &tl, "jitca.example/ledger",
			 t.size, root, NULL, 0),
	    0);
	cr_assert_eq(note_verifier_from_pubkey(
			 &v, "jitca.example/ledger", cakey_public(k)),
	    0);
	cr_assert_eq(note_sign(&note, &nl, text, tl, &v, sign_cb, k), 0);
	cr_assert_eq(note_open(note, nl, &v, 1, 0, NULL), 0);
	sig = sign_ours(k, "checkpoint@jitca", note, nl);
	allowed = write_allowed(dir, cakey_public(k));
	cr_assert_eq(keygen_verify(
			 dir, allowed, "checkpoint@jitca", sig, note, nl, &out),
	    0);
	cr_assert_not_null(strstr(out,
	    "Good \"checkpoint@jitca\" signature "
	    "for ledger@jitca with ED25519 key"));
	free(out);
	cr_assert_neq(
	    keygen_verify(dir, allowed, "krl@jitca", sig, note, nl, NULL), 0);
	/* Size 5 -> 6, and one root character changed. */
	bad = strdup(note);
	cr_assert_not_null(bad);
	bad[strlen("jitca.example/ledger\n")] = '6';
	cr_assert_neq(
	    keygen_verify(dir, allowed, "checkpoint@jitca", sig, bad, nl, NULL),
	    0);
	cr_assert_eq(sshsig_verify(sig, strlen(sig), cakey_public(k),
			 "checkpoint@jitca", (const uint8_t *)bad, nl),
	    ERR_SIG_INVALID);
	cr_assert_eq(note_open(bad, nl, &v, 1, 0, NULL), ERR_SIG_INVALID);
	memcpy(bad, note, nl);
	bad[strlen("jitca.example/ledger\n5\n") + 3] ^= 0x01;
	cr_assert_neq(
	    keygen_verify(dir, allowed, "checkpoint@jitca", sig, bad, nl, NULL),
	    0);
	free(bad);
	free(allowed);
	free(sig);
	free(note);
	free(text);
	cakey_free(k);
	tu_rmtree(dir);
	free(dir);
}
