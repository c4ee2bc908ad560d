/*
 * bench_p11.c: signatures per second through a PKCS#11 token
 * (signer/p11.h: p11_key_sign) for each CA key type, with SoftHSM2 as
 * the token.
 *
 *   bench_p11 DIR MILLISECONDS TYPE...   TYPE: ed25519 ecdsa-p256 ...
 *
 * Makes a SoftHSM2 configuration and token store in DIR (which must
 * exist and be empty; removed by the caller), a token "bench" with
 * softhsm2-util, and one key per TYPE with p11_key_generate(); then signs
 * a 600-byte message (about a certificate body) for MILLISECONDS per
 * type.  For each TYPE prints one line
 *   p11 type=T sign_per_s=N
 * Not a test: scripts/bench runs it (ed25519, ecdsa-p256, rsa-3072) and
 * reports the rates (the module's own speed dominates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/cakey.h"
#include "signer/p11.h"
#include "tests/bench/bench.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"

static int
setup_token(const char *dir, char *pin, size_t pinsz)
{
	char conf[4096], cmd[8192];
	FILE *f;

	if ((size_t)snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir) >=
		sizeof(conf) ||
	    (size_t)snprintf(pin, pinsz, "%s/pin", dir) >= pinsz)
		return -1;
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(f,
	    "directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
	    "log.level = ERROR\n",
	    dir);
	if (fclose(f) != 0 || setenv("SOFTHSM2_CONF", conf, 1) != 0)
		return -1;
	if ((f = fopen(pin, "w")) == NULL)
		return -1;
	fputs("1234\n", f);
	if (fclose(f) != 0)
		return -1;
	if ((size_t)snprintf(cmd, sizeof(cmd),
		"chmod 600 '%s' && mkdir '%s/tokens' && "
		"softhsm2-util --init-token --free --label bench --pin 1234 "
		"--so-pin 5678 >/dev/null",
		pin, dir) >= sizeof(cmd))
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const uint8_t msg[600] = {1};
	char pin[4096], uri[128];
	struct p11_key *k = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	double ms, t0, dt;
	unsigned long n;
	enum key_type t;
	int i, r;

	if (argc < 4 || (ms = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: bench_p11 DIR MILLISECONDS TYPE...\n");
		return 1;
	}
	if (setup_token(argv[1], pin, sizeof(pin)) != 0) {
		fprintf(stderr, "bench_p11: cannot make a SoftHSM2 token\n");
		return 1;
	}
	for (i = 3; i < argc; i++) {
		if ((t = cakey_type_from_name(argv[i])) == KEY_UNSPEC) {
			fprintf(
			    stderr, "bench_p11: unknown type %s\n", argv[i]);
			return 1;
		}
		(void)snprintf(
		    uri, sizeof(uri), "pkcs11:token=bench;object=%s", argv[i]);
		if ((r = p11_key_generate(NULL, uri, MODULE, pin, t)) != 0 ||
		    (r = p11_key_open(&k, uri, MODULE, pin)) != 0) {
			fprintf(stderr, "bench_p11: %s: %s (%s)\n", argv[i],
			    err_str(r), p11_detail());
			return 1;
		}
		t0 = bench_now();
		n = 0;
		do {
			if ((r = p11_key_sign(
				 k, &sig, &siglen, msg, sizeof(msg))) != 0) {
				fprintf(stderr, "bench_p11: sign: %s (%s)\n",
				    err_str(r), p11_detail());
				return 1;
			}
			free(sig);
			n++;
		} while ((dt = bench_now() - t0) * 1000 < ms);
		printf(
		    "p11 type=%s sign_per_s=%.0f\n", argv[i], (double)n / dt);
		p11_key_free(k);
		k = NULL;
	}
	return 0;
}
