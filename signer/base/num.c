/*
 * num.c: the strict decimal parser of num.h.  Written out digit by digit
 * instead of strtoull, which accepts a sign and leading spaces.
 */
#include <stddef.h>

#include "signer/base/num.h"

int
num_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, d;
	size_t i;
	int big = 0;

	*out = 0;
	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return ERR_BAD_FORMAT;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_BAD_FORMAT;
		d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			big = 1; /* keep checking that the rest is digits */
		else
			v = v * 10 + d;
	}
	if (big || v > max)
		return ERR_TOO_LARGE;
	*out = v;
	return 0;
}
