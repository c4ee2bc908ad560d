/*
 * fuzz_cert.c: OpenSSH certificates as blobs (signature verified) and as
 * to-be-signed bodies (what the signer process parses).  Property: an
 * accepted certificate's line form parses back to the same blob.
 */
#include <string.h>

#include "signer/cert.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert *c = NULL, *c2 = NULL;
	char *line = NULL;

	if (cert_from_blob(&c, data, size) == 0) {
		FUZZ_CHECK(
		    c->blob_len == size && memcmp(c->blob, data, size) == 0);
		FUZZ_CHECK(cert_to_line(&line, c, "fuzz") == 0);
		FUZZ_CHECK(cert_from_line(&c2, line, strlen(line)) == 0);
		FUZZ_CHECK(c2->blob_len == c->blob_len &&
		    memcmp(c2->blob, c->blob, c->blob_len) == 0);
	}
	free(line);
	cert_free(c);
	cert_free(c2);
	c = NULL;
	if (cert_from_tbs(&c, data, size) == 0)
		FUZZ_CHECK(c->key != NULL && c->ca_key != NULL);
	cert_free(c);
	return 0;
}
