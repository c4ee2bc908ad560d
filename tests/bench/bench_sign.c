/*
 * bench_sign.c: certificates per second through the signer process
 * (signer/signer.h: signer_start + signer_sign_user_cert) for each CA key
 * type, against the raw OpenSSL rate for that key type on one core
 * (EVP_DigestSign over a certificate's to-be-signed bytes, in a loop),
 * and the raw verify rate (cert_sign() verifies every signature before
 * handing a certificate out, so that is part of the signer path too).
 *
 *   bench_sign DIR MILLISECONDS TYPE...   TYPE: ed25519 ecdsa-p256 ...
 *
 * Each of the three loops runs for MILLISECONDS.
 *
 * For each TYPE prints one line
 *   sign type=T raw_sign_per_s=N raw_verify_per_s=N signer_per_s=N
 *        parent_us=N child_us=N verify_us=N
 * where parent_us and child_us are the CPU time per certificate of this
 * process (building, sending, verifying) and of the signer child
 * (reading, parsing, checking, signing), from /proc/PID/schedstat, and
 * verify_us the CPU time of one pubkey_verify() of a certificate's
 * signature under a copy of the CA key, as cert_sign() does it, after
 * signer_start() (which prepares the CA key for that).
 * Keys are made with cakey_generate() and stored in DIR (removed by the
 * caller).  Run by scripts/bench; not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "signer/cakey.h"
#include "signer/cert.h"
#include "signer/signer.h"
#include "signer/wire.h"
#include "tests/bench/bench.h"
#include "tests/lib/anypolicy.h"

static struct pubkey *
key_copy(const struct pubkey *k)
{
	struct pubkey *out = NULL;
	const uint8_t *b;
	size_t len;

	b = pubkey_blob(k, &len);
	if (pubkey_from_blob(&out, b, len) != 0)
		return NULL;
	return out;
}

/* A certificate shaped like the ones jitcad issues. */
static struct cert *
typical_cert(const struct pubkey *subject, const struct pubkey *ca)
{
	struct cert *c = cert_new();
	uint64_t now = (uint64_t)time(NULL);

	if (c == NULL)
		return NULL;
	c->key = key_copy(subject);
	c->ca_key = key_copy(ca);
	c->serial = 1;
	c->type = CERT_TYPE_USER;
	c->key_id = strdup("alice@jitca:req-1:serial-1");
	c->valid_after = now - 60;
	c->valid_before = now + 1800;
	if (c->key == NULL || c->ca_key == NULL || c->key_id == NULL ||
	    cert_set_random_nonce(c) != 0 ||
	    cert_add_principal(c, "alice") != 0 ||
	    cert_add_principal(c, "debug") != 0 ||
	    cert_add_extension(c, "permit-pty", NULL) != 0) {
		cert_free(c);
		return NULL;
	}
	return c;
}

/* Nanoseconds task pid (0: this one) has run, or -1. */
static double
task_ns(pid_t pid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;
	int ok;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/schedstat");
	else
		snprintf(path, sizeof(path), "/proc/%ld/schedstat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	ok = fscanf(f, "%llu", &ns) == 1;
	fclose(f);
	return ok ? (double)ns : -1;
}

static const EVP_MD *
type_md(enum key_type t)
{
	switch (t) {
	case KEY_ECDSA_P256:
		return EVP_sha256();
	case KEY_ECDSA_P384:
		return EVP_sha384();
	case KEY_RSA:
		return EVP_sha512();
	default:
		return NULL; /* Ed25519: PureEdDSA, no digest */
	}
}

/* One signature (verify=0) or verification (verify=1); 0 on success. */
static int
raw_once(EVP_PKEY *pk, const EVP_MD *md, int verify, const uint8_t *tbs,
    size_t tbslen, uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (ctx == NULL)
		return -1;
	if (verify) {
		ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) == 1 &&
		    EVP_DigestVerify(ctx, sig, *siglen, tbs, tbslen) == 1;
	} else {
		ok = EVP_DigestSignInit(ctx, NULL, md, NULL, pk) == 1 &&
		    EVP_DigestSign(ctx, sig, siglen, tbs, tbslen) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
bench_type(const char *dir, double secs, const char *name)
{
	struct cakey *ca = NULL, *subject = NULL;
	struct cert *c = NULL;
	struct wire *w = NULL;
	struct signer *sg = NULL;
	EVP_PKEY *pk = NULL;
	FILE *f = NULL;
	/* The signing cost is measured, not the role policy: allow
	 * everything the generic checks allow, within {86400, 120}. */
	struct signer_params sp = {
	    NULL, &tu_any_policy, "120", 0, 0, 0, NULL, NULL, NULL, NULL, 0};
	enum key_type t = cakey_type_from_name(name);
	uint8_t sig[1024];
	size_t siglen = sizeof(sig);
	uint64_t nsign = 0, nverify = 0, nsigner = 0, ncv = 0;
	double t0, rs, rv, rg, p0, c0, pus, cus, vus;
	char path[4096];
	int r = -1;

	if (t == KEY_UNSPEC) {
		fprintf(stderr, "bench_sign: unknown key type %s\n", name);
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/ca-%s.pem", dir, name) >=
	    (int)sizeof(path))
		return -1;
	if (cakey_generate(&ca, t) != 0 || cakey_save(ca, path) != 0 ||
	    cakey_generate(&subject, KEY_ED25519) != 0) {
		fprintf(stderr, "bench_sign: cannot make %s keys\n", name);
		goto out;
	}
	if ((f = fopen(path, "r")) == NULL ||
	    (pk = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		goto out;
	if ((c = typical_cert(cakey_public(subject), cakey_public(ca))) ==
		NULL ||
	    (w = wire_new(CERT_MAX_BLOB)) == NULL || cert_encode_tbs(w, c) != 0)
		goto out;

	/* Raw OpenSSL: sign, then verify, the same bytes, one thread. */
	t0 = bench_now();
	do {
		siglen = sizeof(sig);
		if (raw_once(pk, type_md(t), 0, wire_ptr(w), wire_len(w), sig,
			&siglen) != 0)
			goto out;
		nsign++;
	} while (bench_now() - t0 < secs);
	rs = (double)nsign / (bench_now() - t0);
	t0 = bench_now();
	do {
		if (raw_once(pk, type_md(t), 1, wire_ptr(w), wire_len(w), sig,
			&siglen) != 0)
			goto out;
		nverify++;
	} while (bench_now() - t0 < secs);
	rv = (double)nverify / (bench_now() - t0);

	/* The signer process: build, send, child parses/checks/signs,
	 * parent verifies; a fresh nonce and serial each time. */
	sp.key_path = path;
	if (signer_start(&sg, &sp) != 0) {
		fprintf(stderr, "bench_sign: signer_start failed\n");
		goto out;
	}
	t0 = bench_now();
	p0 = task_ns(0);
	c0 = task_ns(signer_pid(sg));
	do {
		c->serial = nsigner + 1;
		if (cert_set_random_nonce(c) != 0 ||
		    signer_sign_user_cert(sg, c, "bench", "bench") != 0) {
			fprintf(
			    stderr, "bench_sign: signer_sign_cert failed\n");
			goto out;
		}
		nsigner++;
	} while (bench_now() - t0 < secs);
	rg = (double)nsigner / (bench_now() - t0);
	pus = (task_ns(0) - p0) / 1e3 / (double)nsigner;
	cus = (task_ns(signer_pid(sg)) - c0) / 1e3 / (double)nsigner;

	/* cert_sign()'s verify: the last certificate's signature under
	 * its copy of the CA key. */
	{
		const uint8_t *sg_sig;
		size_t sg_len, tbs = c->tbs_len;
		struct wire *cw = wire_from(c->blob, c->blob_len);

		if (cw == NULL || wire_consume(cw, tbs) != 0 ||
		    wire_get_string_direct(cw, &sg_sig, &sg_len) != 0) {
			wire_free(cw);
			goto out;
		}
		p0 = task_ns(0);
		t0 = bench_now();
		do {
			if (pubkey_verify(c->ca_key, sg_sig, sg_len, c->blob,
				tbs, NULL) != 0) {
				wire_free(cw);
				goto out;
			}
			ncv++;
		} while (bench_now() - t0 < secs);
		vus = (task_ns(0) - p0) / 1e3 / (double)ncv;
		wire_free(cw);
	}

	printf("sign type=%s raw_sign_per_s=%.0f raw_verify_per_s=%.0f "
	       "signer_per_s=%.0f parent_us=%.1f child_us=%.1f "
	       "verify_us=%.1f\n",
	    name, rs, rv, rg, pus, cus, vus);
	fflush(stdout);
	r = 0;
out:
	if (f != NULL)
		fclose(f);
	signer_stop(sg);
	EVP_PKEY_free(pk);
	wire_free(w);
	cert_free(c);
	cakey_free(ca);
	cakey_free(subject);
	return r;
}

int
main(int argc, char **argv)
{
	uint64_t ms;
	int i;

	if (argc < 4 || bench_parse_u64(argv[2], 1, 3600000, &ms) != 0) {
		fprintf(stderr, "usage: bench_sign DIR MILLISECONDS TYPE...\n");
		return 2;
	}
	for (i = 3; i < argc; i++) {
		if (bench_type(argv[1], (double)ms / 1000.0, argv[i]) != 0)
			return 1;
	}
	return 0;
}
