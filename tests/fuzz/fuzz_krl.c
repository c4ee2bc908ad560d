/*
 * fuzz_krl.c: the strict KRL checker that hosts run on what they fetch
 * (scripts/krl-sync relies on ssh-keygen; jitcad on krl_check before
 * installing a KRL).  Property: no crash, no read past the input, and
 * what it accepts at least has a KRL's header.
 */
#include <string.h>

#include "signer/krl.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (krl_check(data, size) == 0)
		FUZZ_CHECK(size >= KRL_EMPTY_LEN &&
		    memcmp(data, "SSHKRL\n\0", 8) == 0);
	return 0;
}
