/*
 * test_num.c: the strict decimal parser of signer/base/num.c: digits
 * only, bounded, the exact error for each kind of refusal.
 */
#include <stdint.h>

#include <criterion/criterion.h>

#include "signer/base/num.h"

Test(num, parse_u64)
{
	static const char *bad[] = {
	    "", "-1", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "12a"};
	uint64_t v;
	size_t i;

	cr_assert_eq(num_parse_u64("0", 10, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(num_parse_u64("7", 10, &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(num_parse_u64("10", 10, &v), 0);
	cr_assert_eq(v, 10);
	cr_assert_eq(num_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(num_parse_u64("18446744073709551616", UINT64_MAX, &v),
	    ERR_TOO_LARGE);
	cr_assert_eq(v, 0);
	cr_assert_eq(num_parse_u64("11", 10, &v), ERR_TOO_LARGE);
	cr_assert_eq(num_parse_u64("99999999999999999999x", UINT64_MAX, &v),
	    ERR_BAD_FORMAT);
	cr_assert_eq(num_parse_u64(NULL, 10, &v), ERR_BAD_FORMAT);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 5;
		cr_assert_eq(num_parse_u64(bad[i], UINT64_MAX, &v),
		    ERR_BAD_FORMAT, "\"%s\"", bad[i]);
		cr_assert_eq(v, 0);
	}
}
