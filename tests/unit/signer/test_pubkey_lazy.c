/*
 * test_pubkey_lazy.c: unit tests of the lazily made Ed25519 EVP_PKEY of
 * signer/pubkey.c (pubkey_evp() on first use, published with a
 * compare-and-swap), of pubkey_share() (copies of a published key take
 * its EVP_PKEY and its prepared verify context, pubkey_verify_ctx()),
 * and of their use from several threads at once: run under the
 * sanitizer build, a loser of the race that leaked or double-freed its
 * EVP_PKEY would show.  ECDSA and RSA keys stay built and checked at
 * parse.
 *
 * Each test runs in its own process (criterion forks), so the table of
 * published keys starts empty in each.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <openssl/evp.h>

#include "signer/err.h"
#include "signer/pubkey.h"
#include "signer/wire.h"
#include "tests/lib/testutil.h"

#define NTHREADS 8
#define ROUNDS 25

static const uint8_t msg[] = "a to-be-signed body";

static EVP_PKEY *
ed25519_new(void)
{
	EVP_PKEY *p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	cr_assert_not_null(p);
	return p;
}

/* The SSH blob of an OpenSSL Ed25519 key, parsed: the lazy form. */
static struct pubkey *
parse_ed25519(EVP_PKEY *p)
{
	struct pubkey *k = NULL;
	struct wire *b = wire_new(256);
	uint8_t raw[32];
	size_t rawlen = sizeof(raw);

	cr_assert_not_null(b);
	cr_assert_eq(EVP_PKEY_get_raw_public_key(p, raw, &rawlen), 1);
	cr_assert_eq(wire_put_cstring(b, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(b, raw, rawlen), 0);
	cr_assert_eq(pubkey_from_blob(&k, wire_ptr(b), wire_len(b)), 0);
	wire_free(b);
	return k;
}

/* An SSH signature blob (string "ssh-ed25519", string sig) over msg. */
static struct wire *
ssh_sig(EVP_PKEY *p)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct wire *w = wire_new(256);
	uint8_t sig[64];
	size_t siglen = sizeof(sig);

	cr_assert(ctx != NULL && w != NULL);
	cr_assert_eq(EVP_DigestSignInit(ctx, NULL, NULL, NULL, p), 1);
	cr_assert_eq(EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(ctx);
	cr_assert_eq(wire_put_cstring(w, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(w, sig, siglen), 0);
	return w;
}

static int
verify(const struct pubkey *k, const struct wire *sig)
{
	const char *alg = NULL;
	int r;

	r = pubkey_verify(
	    k, wire_ptr(sig), wire_len(sig), msg, sizeof(msg), &alg);
	if (r == 0)
		cr_assert_str_eq(alg, "ssh-ed25519");
	return r;
}

/* The same signature with one bit of S flipped. */
static struct wire *
sig_flipped(const struct wire *sig)
{
	struct wire *w = wire_new(256);
	uint8_t buf[256];
	size_t len = wire_len(sig);

	cr_assert(w != NULL && len <= sizeof(buf));
	memcpy(buf, wire_ptr(sig), len);
	buf[len - 1] ^= 0x01;
	cr_assert_eq(wire_put(w, buf, len), 0);
	return w;
}

Test(pubkey_lazy, made_on_first_use_is_the_same_key)
{
	EVP_PKEY *p = ed25519_new();
	struct pubkey *k = parse_ed25519(p), *e = NULL;
	struct wire *sig = ssh_sig(p), *bad = sig_flipped(sig);
	EVP_PKEY *first;

	/* Made once, then the same one every time. */
	first = pubkey_evp(k);
	cr_assert_not_null(first);
	cr_assert_eq(pubkey_evp(k), first);
	cr_assert_eq(EVP_PKEY_eq(first, p), 1);
	/* As the eagerly made key of pubkey_from_evp() is. */
	cr_assert_eq(pubkey_from_evp(&e, p), 0);
	cr_assert(pubkey_equal(k, e));
	cr_assert_eq(EVP_PKEY_eq(pubkey_evp(e), first), 1);
	cr_assert_eq(verify(k, sig), 0);
	cr_assert_eq(verify(e, sig), 0);
	cr_assert_eq(verify(k, bad), ERR_SIG_INVALID);
	/* A key verified before any pubkey_evp() call makes its own. */
	pubkey_free(k);
	k = parse_ed25519(p);
	cr_assert_eq(verify(k, sig), 0);
	cr_assert_eq(verify(k, bad), ERR_SIG_INVALID);
	cr_assert_eq(EVP_PKEY_eq(pubkey_evp(k), p), 1);
	pubkey_free(k);
	pubkey_free(e);
	wire_free(sig);
	wire_free(bad);
	EVP_PKEY_free(p);
}

Test(pubkey_lazy, never_used_key_frees_cleanly)
{
	EVP_PKEY *p = ed25519_new();
	struct pubkey *k = parse_ed25519(p);
	char fp[PUBKEY_FP_LEN];

	/* Encoding and fingerprints need no EVP_PKEY. */
	cr_assert_eq(pubkey_fingerprint(fp, k), 0);
	cr_assert_eq(pubkey_bits(k), 256);
	pubkey_free(k);
	EVP_PKEY_free(p);
}

struct race {
	pthread_barrier_t *go;
	const struct pubkey *k;
	const struct wire *sig, *bad;
	EVP_PKEY *got;
	int ask_first, r, rbad;
};

static void *
race_run(void *arg)
{
	struct race *x = arg;

	pthread_barrier_wait(x->go);
	/* Half ask for the key, half verify first: both make it. */
	if (x->ask_first)
		x->got = pubkey_evp(x->k);
	x->r = pubkey_verify(
	    x->k, wire_ptr(x->sig), wire_len(x->sig), msg, sizeof(msg), NULL);
	x->rbad = pubkey_verify(
	    x->k, wire_ptr(x->bad), wire_len(x->bad), msg, sizeof(msg), NULL);
	if (x->got == NULL)
		x->got = pubkey_evp(x->k);
	return NULL;
}

/* Run NTHREADS threads on k at once; all must see one EVP_PKEY. */
static void
race_on(const struct pubkey *k, EVP_PKEY *p)
{
	pthread_t th[NTHREADS];
	struct race x[NTHREADS];
	pthread_barrier_t go;
	struct wire *sig = ssh_sig(p), *bad = sig_flipped(sig);
	int i;

	cr_assert_eq(pthread_barrier_init(&go, NULL, NTHREADS), 0);
	for (i = 0; i < NTHREADS; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		x[i].go = &go;
		x[i].k = k;
		x[i].sig = sig;
		x[i].bad = bad;
		x[i].ask_first = i % 2;
		cr_assert_eq(pthread_create(&th[i], NULL, race_run, &x[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_join(th[i], NULL), 0);
	for (i = 0; i < NTHREADS; i++) {
		cr_assert_eq(x[i].r, 0, "thread %d: %s", i, err_str(x[i].r));
		cr_assert_eq(x[i].rbad, ERR_SIG_INVALID);
		cr_assert_not_null(x[i].got);
		cr_assert_eq(x[i].got, x[0].got, "thread %d: another key", i);
	}
	cr_assert_eq(pubkey_evp(k), x[0].got);
	pthread_barrier_destroy(&go);
	wire_free(sig);
	wire_free(bad);
}

Test(pubkey_lazy, concurrent_first_use, .timeout = 60)
{
	int round;

	for (round = 0; round < ROUNDS; round++) {
		EVP_PKEY *p = ed25519_new();
		struct pubkey *k = parse_ed25519(p);

		race_on(k, p);
		pubkey_free(k);
		EVP_PKEY_free(p);
	}
}

Test(pubkey_lazy, shared_key_reused_by_copies, .timeout = 60)
{
	EVP_PKEY *p = ed25519_new();
	struct pubkey *k = parse_ed25519(p), *c, *c2;
	struct wire *sig = ssh_sig(p), *bad = sig_flipped(sig);
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *shared;

	cr_assert_eq(pubkey_share(k), 0);
	shared = pubkey_evp(k);
	cr_assert_not_null(shared);
	/* Sharing again, or a copy, publishes nothing new. */
	cr_assert_eq(pubkey_share(k), 0);
	c = tu_pubkey_copy(k);
	cr_assert_eq(pubkey_share(c), 0);
	cr_assert_eq(pubkey_evp(c), shared);
	/* A copy verifies through the prepared context... */
	c2 = tu_pubkey_copy(k);
	cr_assert_eq(verify(c2, sig), 0);
	cr_assert_eq(verify(c2, bad), ERR_SIG_INVALID);
	cr_assert_eq(pubkey_verify_ctx(c2, NULL, &ctx), 0);
	cr_assert_not_null(ctx);
	cr_assert_eq(EVP_DigestVerify(
			 ctx, wire_ptr(sig) + 4 + 11 + 4, 64, msg, sizeof(msg)),
	    1);
	EVP_MD_CTX_free(ctx);
	/* ...and outlives the key it was published from. */
	pubkey_free(k);
	pubkey_free(c);
	cr_assert_eq(verify(c2, sig), 0);
	cr_assert_eq(pubkey_evp(c2), shared);
	race_on(c2, p);
	pubkey_free(c2);
	/* Copies made from many threads at once. */
	c = parse_ed25519(p);
	race_on(c, p);
	cr_assert_eq(pubkey_evp(c), shared);
	pubkey_free(c);
	wire_free(sig);
	wire_free(bad);
	EVP_PKEY_free(p);
}

Test(pubkey_lazy, another_key_is_not_taken_for_a_shared_one)
{
	EVP_PKEY *p = ed25519_new(), *q = ed25519_new();
	struct pubkey *kp = parse_ed25519(p), *kq = parse_ed25519(q);
	struct wire *sigp = ssh_sig(p), *sigq = ssh_sig(q);

	cr_assert_eq(pubkey_share(kp), 0);
	cr_assert_eq(verify(kq, sigq), 0);
	cr_assert_eq(verify(kq, sigp), ERR_SIG_INVALID);
	cr_assert_eq(verify(kp, sigq), ERR_SIG_INVALID);
	cr_assert_neq(pubkey_evp(kq), pubkey_evp(kp));
	cr_assert_eq(EVP_PKEY_eq(pubkey_evp(kq), q), 1);
	pubkey_free(kp);
	pubkey_free(kq);
	wire_free(sigp);
	wire_free(sigq);
	EVP_PKEY_free(p);
	EVP_PKEY_free(q);
}

/* More keys than the table holds: the rest are not published, and all
 * still work. */
Test(pubkey_lazy, full_table_only_loses_the_reuse, .timeout = 60)
{
	int i;

	for (i = 0; i < 20; i++) {
		EVP_PKEY *p = ed25519_new();
		struct pubkey *k = parse_ed25519(p), *c;
		struct wire *sig = ssh_sig(p);

		cr_assert_eq(pubkey_share(k), 0);
		c = tu_pubkey_copy(k);
		cr_assert_eq(verify(c, sig), 0);
		cr_assert_eq(EVP_PKEY_eq(pubkey_evp(c), p), 1);
		pubkey_free(k);
		pubkey_free(c);
		wire_free(sig);
		EVP_PKEY_free(p);
	}
}

Test(pubkey_lazy, share_refuses_null)
{
	cr_assert_eq(pubkey_share(NULL), ERR_INVALID_ARG);
	cr_assert_null(pubkey_evp(NULL));
}

/* ECDSA and RSA keys: the EVP_PKEY is there right after parsing, and a
 * point off the curve is refused by the parser itself, in every form. */
Test(pubkey_lazy, ecdsa_and_rsa_stay_eager)
{
	EVP_PKEY *p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	struct pubkey *k = NULL, *r = NULL, *bad = (struct pubkey *)1;
	struct wire *f = NULL;
	const uint8_t *kb;
	uint8_t *blob;
	size_t len;

	cr_assert(p != NULL && rsa != NULL);
	cr_assert_eq(pubkey_from_evp(&k, p), 0);
	cr_assert_eq(pubkey_from_evp(&r, rsa), 0);
	cr_assert_not_null(pubkey_evp(k));
	cr_assert_not_null(pubkey_evp(r));
	cr_assert_eq(EVP_PKEY_eq(pubkey_evp(k), p), 1);
	cr_assert_eq(pubkey_share(k), 0);
	cr_assert_eq(pubkey_share(r), 0);
	/* Flip the last byte of y: off the curve. */
	kb = pubkey_blob(k, &len);
	cr_assert_eq(len, 4 + 19 + 4 + 8 + 4 + 65);
	blob = malloc(len);
	cr_assert_not_null(blob);
	memcpy(blob, kb, len);
	blob[len - 1] ^= 0x01;
	cr_assert_eq(pubkey_from_blob(&bad, blob, len), ERR_EC_POINT_INVALID);
	cr_assert_null(bad);
	/* The certificate field form (no type string) too. */
	f = wire_from(blob + 4 + 19, len - 4 - 19);
	cr_assert_not_null(f);
	bad = (struct pubkey *)1;
	cr_assert_eq(
	    pubkey_from_fields(&bad, KEY_ECDSA_P256, f), ERR_EC_POINT_INVALID);
	cr_assert_null(bad);
	cr_assert_eq(wire_len(f), len - 4 - 19, "consumed on failure");
	wire_free(f);
	free(blob);
	pubkey_free(k);
	pubkey_free(r);
	EVP_PKEY_free(p);
	EVP_PKEY_free(rsa);
}

/* An Ed25519 key of the wrong length is still refused at parse. */
Test(pubkey_lazy, ed25519_length_checked_at_parse)
{
	struct pubkey *k = (struct pubkey *)1;
	struct wire *b = wire_new(256);
	uint8_t raw[33];

	memset(raw, 0x11, sizeof(raw));
	cr_assert_not_null(b);
	cr_assert_eq(wire_put_cstring(b, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(b, raw, 31), 0);
	cr_assert_eq(
	    pubkey_from_blob(&k, wire_ptr(b), wire_len(b)), ERR_ED25519_LENGTH);
	cr_assert_null(k);
	wire_reset(b);
	cr_assert_eq(wire_put_cstring(b, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(b, raw, 33), 0);
	k = (struct pubkey *)1;
	cr_assert_eq(
	    pubkey_from_blob(&k, wire_ptr(b), wire_len(b)), ERR_ED25519_LENGTH);
	cr_assert_null(k);
	wire_free(b);
}
