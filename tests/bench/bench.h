/*
 * bench.h: tiny helpers shared by the benchmark programs in tests/bench/
 * (run by scripts/bench): a monotonic clock, a deterministic PRNG, a
 * strict unsigned number parser for the command line, and sorting for
 * percentiles.
 *
 * Benchmarks are programs, not tests: they print one line of
 * "name key=value ..." results on stdout, messages on stderr, and exit 1
 * on any failure.  Everything here is static inline so that each program
 * stays one file.
 */
#ifndef JITCA_BENCH_H
#define JITCA_BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double
bench_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: reproducible serials for the KRL patterns. */
static inline uint64_t
bench_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Parse a decimal in [lo, hi]; -1 when it is not one. */
static inline int
bench_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-th percentile (0..100) of v[0..n-1], sorting v; 0 when n is 0.
 * Nearest rank, as wrk and most load tools report it. */
static inline double
bench_percentile(double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	k = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

#endif /* JITCA_BENCH_H */
