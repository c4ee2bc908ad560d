/*
 * replay_main.c: runs a fuzz target without libFuzzer, for ctest: every
 * file of a corpus directory, then a fixed number of deterministic
 * mutants of each (bit flips, truncations, byte overwrites).  So CI
 * exercises every target with the sanitizers on every run; long fuzzing
 * sessions use scripts/fuzz (clang's libFuzzer) with the same targets.
 *
 * usage: replay_TARGET CORPUS_DIR [MUTANTS_PER_FILE]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

#define REPLAY_MAX_INPUT (64u * 1024)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t
load(const char *path, uint8_t *buf)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		exit(2);
	}
	n = fread(buf, 1, REPLAY_MAX_INPUT, f);
	fclose(f);
	return n;
}

int
main(int argc, char **argv)
{
	static uint8_t seed[REPLAY_MAX_INPUT], m[REPLAY_MAX_INPUT];
	struct dirent *de;
	DIR *d;
	long mutants = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
	size_t files = 0;

	if (argc < 2 || (d = opendir(argv[1])) == NULL) {
		fprintf(stderr, "usage: %s CORPUS_DIR [MUTANTS]\n", argv[0]);
		return 2;
	}
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		size_t n;
		long i;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		n = load(path, seed);
		(void)LLVMFuzzerTestOneInput(seed, n);
		for (i = 0; i < mutants; i++) {
			size_t len = n, k;

			memcpy(m, seed, n);
			switch (next() % 4) {
			case 0: /* one bit */
				if (len > 0)
					m[next() % len] ^=
					    (uint8_t)(1u << (next() % 8));
				break;
			case 1: /* truncation */
				len = len > 0 ? next() % len : 0;
				break;
			case 2: /* a few random bytes */
				for (k = 0; k < 4 && len > 0; k++)
					m[next() % len] = (uint8_t)next();
				break;
			default: /* an interesting value in a length field */
				if (len >= 4) {
					k = next() % (len - 3);
					m[k] = 0xff;
					m[k + 1] = (uint8_t)next();
				}
				break;
			}
			(void)LLVMFuzzerTestOneInput(m, len);
		}
		files++;
	}
	closedir(d);
	if (files == 0) {
		fprintf(stderr, "replay: no input in %s\n", argv[1]);
		return 2;
	}
	printf(
	    "replay: %zu files, %ld mutants each: 0 failed\n", files, mutants);
	return 0;
}
