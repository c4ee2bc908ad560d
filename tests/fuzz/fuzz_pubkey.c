/*
 * fuzz_pubkey.c: OpenSSH public keys, as a blob and as a line.  Property:
 * whatever parses re-encodes to a blob that parses to the same key, and
 * its line form parses back to it too.
 */
#include <string.h>

#include "signer/pubkey.h"
#include "tests/fuzz/fuzz.h"

static void
round_trip(const struct pubkey *k)
{
	struct pubkey *k2 = NULL, *k3 = NULL;
	const uint8_t *blob;
	char *line = NULL;
	size_t len;

	blob = pubkey_blob(k, &len);
	FUZZ_CHECK(pubkey_from_blob(&k2, blob, len) == 0);
	FUZZ_CHECK(pubkey_equal(k, k2));
	FUZZ_CHECK(pubkey_to_line(&line, k, "fuzz") == 0);
	FUZZ_CHECK(pubkey_from_line(&k3, line, strlen(line)) == 0);
	FUZZ_CHECK(pubkey_equal(k, k3));
	free(line);
	pubkey_free(k2);
	pubkey_free(k3);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pubkey *k = NULL;

	if (pubkey_from_blob(&k, data, size) == 0)
		round_trip(k);
	pubkey_free(k);
	k = NULL;
	if (pubkey_from_line(&k, (const char *)data, size) == 0)
		round_trip(k);
	pubkey_free(k);
	return 0;
}
