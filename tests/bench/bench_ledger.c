/*
 * bench_ledger.c: events per second of ledger_verify() (ca/ledger.h) on
 * a ledger of N events, built first with ledger_append() in transactions
 * of BATCH events.  Every event is a cert.issued event with details
 * shaped like the ones jitcad writes (serial, key id, principals,
 * validity, fingerprints, request, approvers), so hashing and the
 * canonical JSON re-encoding cost what they cost in production.
 *
 *   bench_ledger PATH N BATCH
 *
 * PATH must not exist (the caller removes it).  Prints
 *   ledger n=N append_per_s=X build_s=X verify_s=X verify_per_s=X
 * Run by scripts/bench; not a test.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "ca/ledger.h"
#include "tests/bench/bench.h"

static json_t *
cert_details(uint64_t serial)
{
	char kid[96];

	(void)snprintf(kid, sizeof(kid), "alice@jitca:req-%llu:serial-%llu",
	    (unsigned long long)serial, (unsigned long long)serial);
	return json_pack("{s:I,s:s,s:[s,s],s:I,s:I,s:s,s:s,s:I,s:[s]}",
	    "serial", (json_int_t)serial, "key_id", kid, "principals", "alice",
	    "debug", "valid_after", (json_int_t)1800000000, "valid_before",
	    (json_int_t)1800001800, "key_fp",
	    "SHA256:2x6PxZc3qYqk1g1f0eI1Yk6y3m2C2m9Zq1xg7Ywq5dE", "cert_sha256",
	    "3f0a8c2e4b6d1e9f7a5c3b1d0e2f4a6c8b0d2e4f6a8c0b2d4e6f8a0c2b4d6e8f",
	    "request", (json_int_t)serial, "approvers", "bob");
}

int
main(int argc, char **argv)
{
	struct ledger *l = NULL;
	json_t *d = NULL;
	uint64_t n, batch, i;
	int64_t count = 0, bad = 0;
	char err[LEDGER_ERR_LEN] = "";
	double t0, build, verify;
	int r;

	if (argc != 4 || bench_parse_u64(argv[2], 1, 100000000, &n) != 0 ||
	    bench_parse_u64(argv[3], 1, 1000000, &batch) != 0) {
		fprintf(stderr, "usage: bench_ledger PATH N BATCH\n");
		return 2;
	}
	if (ledger_open_err(&l, argv[1], 1, err) != 0) {
		fprintf(stderr, "bench_ledger: %s\n", err);
		return 1;
	}
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		if (i % batch == 0 && (r = ledger_begin(l)) != 0)
			goto fail;
		if ((d = cert_details(i + 1)) == NULL)
			goto fail;
		if ((r = ledger_append(
			 l, NULL, "cert.issued", "alice", "serial:1", d)) != 0)
			goto fail;
		json_decref(d);
		d = NULL;
		if ((i + 1) % batch == 0 || i + 1 == n) {
			if ((r = ledger_commit(l)) != 0)
				goto fail;
		}
	}
	build = bench_now() - t0;

	t0 = bench_now();
	if ((r = ledger_verify(l, &count, &bad, err)) != 0 ||
	    count != (int64_t)n) {
		fprintf(stderr, "bench_ledger: verify: %s (count %lld)\n", err,
		    (long long)count);
		ledger_close(l);
		return 1;
	}
	verify = bench_now() - t0;
	printf("ledger n=%llu append_per_s=%.0f build_s=%.2f verify_s=%.2f "
	       "verify_per_s=%.0f\n",
	    (unsigned long long)n, (double)n / build, build, verify,
	    (double)n / verify);
	ledger_close(l);
	return 0;
fail:
	fprintf(stderr, "bench_ledger: append: %s\n", ledger_errmsg(l));
	json_decref(d);
	ledger_close(l);
	return 1;
}
