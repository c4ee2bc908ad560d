/*
 * fuzz_config.c: jitca.json.  Property: every input is either a complete
 * configuration (with at least one role, each with principals) or an
 * error with a non-empty message.
 */
#include "ca/config.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[CONFIG_ERR_LEN];
	struct config *c = NULL;
	size_t i;

	errbuf[0] = '\0';
	if (config_parse(&c, "/", (const char *)data, size, errbuf) == 0) {
		FUZZ_CHECK(c->nroles > 0);
		for (i = 0; i < c->nroles; i++)
			FUZZ_CHECK(c->roles[i].nprincipals > 0);
	} else
		FUZZ_CHECK(errbuf[0] != '\0');
	config_free(c);
	return 0;
}
