/*
 * fuzz.h: the one entry point every fuzz target defines (libFuzzer's),
 * and a check that aborts, so that both libFuzzer (scripts/fuzz) and the
 * replay driver run by ctest (replay_main.c) report a broken property.
 */
#ifndef JITCA_FUZZ_H
#define JITCA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: property failed: %s\n",        \
			    __FILE__, __LINE__, #cond);                        \
			abort();                                               \
		}                                                              \
	} while (0)

#endif /* JITCA_FUZZ_H */
