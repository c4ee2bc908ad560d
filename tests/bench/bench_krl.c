/*
 * bench_krl.c: time and size of a KRL built with signer/krl.h for N revoked
 * serials of one CA, in one of three patterns:
 *   dense    1..N
 *   third    every third serial: 3, 6, ..., 3N
 *   random   N distinct serials drawn uniformly from 1..100N (about 1%
 *            density), in the order drawn (splitmix64, fixed seed)
 * Each serial is revoked by its own krl_revoke_serials(s, s) call, as
 * jitcad does for individual certificates; the time covers krl_new(),
 * the N calls and krl_serialize() (not writing the file).
 *
 *   bench_krl CA_PUB OUTDIR N PATTERN
 *
 * Writes OUTDIR/jitca-PATTERN-N.krl and, for `ssh-keygen -k -s CA_PUB`,
 * the same revocations as OUTDIR/spec-PATTERN-N ("serial: S" lines).
 * Prints
 *   krl n=N pattern=P build_ms=X bytes=Y
 *   sample revoked=S,S,S unrevoked=S,S,S
 * so that the caller can make certificates with those serials and ask
 * `ssh-keygen -Q`.  Run by scripts/bench; not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "signer/krl.h"
#include "signer/pubkey.h"
#include "tests/bench/bench.h"

#define NSAMPLE 3

static int
make_serials(uint64_t *s, uint64_t n, const char *pattern, uint64_t rev[],
    uint64_t unrev[])
{
	uint8_t *seen = NULL;
	uint64_t i, v, range, st = 0x6a697463612d6b72ULL;

	if (strcmp(pattern, "dense") == 0) {
		for (i = 0; i < n; i++)
			s[i] = i + 1;
		unrev[0] = n + 1;
		unrev[1] = n + 2;
		unrev[2] = 2 * n + 7;
	} else if (strcmp(pattern, "third") == 0) {
		for (i = 0; i < n; i++)
			s[i] = 3 * (i + 1);
		unrev[0] = 1;
		unrev[1] = 3 * (n / 2) + 1;
		unrev[2] = 3 * n - 1;
	} else if (strcmp(pattern, "random") == 0) {
		range = 100 * n;
		if ((seen = calloc(range / 8 + 1, 1)) == NULL)
			return -1;
		for (i = 0; i < n;) {
			v = bench_rand(&st) % range + 1;
			if (seen[v / 8] & (1u << (v % 8)))
				continue;
			seen[v / 8] |= (uint8_t)(1u << (v % 8));
			s[i++] = v;
		}
		for (i = 0; i < NSAMPLE;) {
			v = bench_rand(&st) % range + 1;
			if (!(seen[v / 8] & (1u << (v % 8))))
				unrev[i++] = v;
		}
		free(seen);
	} else {
		return -1;
	}
	rev[0] = s[0];
	rev[1] = s[n / 2];
	rev[2] = s[n - 1];
	return 0;
}

static int
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static int
write_spec(const char *path, const uint64_t *s, uint64_t n)
{
	FILE *f = fopen(path, "w");
	uint64_t i;
	int ok = 1;

	if (f == NULL)
		return -1;
	for (i = 0; i < n && ok; i++)
		ok = fprintf(f, "serial: %llu\n", (unsigned long long)s[i]) > 0;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct pubkey *ca = NULL;
	struct krl *krl = NULL;
	uint64_t *serials = NULL, n, i, rev[NSAMPLE], unrev[NSAMPLE];
	uint8_t *out = NULL;
	const uint8_t *blob;
	size_t bloblen, outlen = 0, linelen = 0;
	char *line = NULL, path[4096];
	double t0, ms;
	int r = 1;

	if (argc != 5 || bench_parse_u64(argv[3], 1, 10000000, &n) != 0) {
		fprintf(stderr,
		    "usage: bench_krl CA_PUB OUTDIR N "
		    "dense|third|random\n");
		return 2;
	}
	{
		FILE *f = fopen(argv[1], "r");
		ssize_t got;

		if (f == NULL)
			goto out;
		got = getline(&line, &linelen, f);
		fclose(f);
		if (got <= 0 || pubkey_from_line(&ca, line, (size_t)got) != 0) {
			fprintf(stderr, "bench_krl: cannot read %s\n", argv[1]);
			goto out;
		}
	}
	blob = pubkey_blob(ca, &bloblen);
	if ((serials = calloc(n, sizeof(*serials))) == NULL ||
	    make_serials(serials, n, argv[4], rev, unrev) != 0) {
		fprintf(stderr, "bench_krl: bad pattern %s\n", argv[4]);
		goto out;
	}
	if (snprintf(path, sizeof(path), "%s/spec-%s-%s", argv[2], argv[4],
		argv[3]) >= (int)sizeof(path) ||
	    write_spec(path, serials, n) != 0)
		goto out;

	t0 = bench_now();
	if (krl_new(&krl, 1, (uint64_t)time(NULL), NULL) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (krl_revoke_serials(
			krl, blob, bloblen, serials[i], serials[i]) != 0) {
			fprintf(stderr, "bench_krl: revoke failed\n");
			goto out;
		}
	}
	if (krl_serialize(krl, &out, &outlen) != 0) {
		fprintf(stderr, "bench_krl: serialize failed\n");
		goto out;
	}
	ms = (bench_now() - t0) * 1000.0;

	if (krl_check(out, outlen) != 0) {
		fprintf(stderr, "bench_krl: krl_check refused our KRL\n");
		goto out;
	}
	if (snprintf(path, sizeof(path), "%s/jitca-%s-%s.krl", argv[2], argv[4],
		argv[3]) >= (int)sizeof(path) ||
	    write_file(path, out, outlen) != 0)
		goto out;
	printf("krl n=%llu pattern=%s build_ms=%.2f bytes=%zu\n",
	    (unsigned long long)n, argv[4], ms, outlen);
	printf("sample revoked=%llu,%llu,%llu unrevoked=%llu,%llu,%llu\n",
	    (unsigned long long)rev[0], (unsigned long long)rev[1],
	    (unsigned long long)rev[2], (unsigned long long)unrev[0],
	    (unsigned long long)unrev[1], (unsigned long long)unrev[2]);
	r = 0;
out:
	free(line);
	free(out);
	free(serials);
	krl_free(krl);
	pubkey_free(ca);
	return r;
}
