/*
 * test_duration.c: the one duration grammar (signer/base/duration.c) in
 * its two uses: jitca.json, which needs the unit, and the command line,
 * where a bare number is seconds.  Everything else is refused the same
 * way in both, with the same reason.
 */
#include <stdint.h>

#include <criterion/criterion.h>

#include "signer/base/duration.h"

#define MISSING "missing unit (use s, m, h or d)"

Test(duration, bare_seconds_only_when_asked)
{
	const char *why = NULL;
	uint64_t v;

	cr_assert_eq(
	    duration_parse_flags("300", 0, &v, &why), ERR_BAD_DURATION);
	cr_assert_str_eq(why, "missing unit (use s, m, h or d)");
	cr_assert_eq(
	    duration_parse_flags("300", DURATION_BARE_SECONDS, &v, &why), 0);
	cr_assert_eq(v, 300);
	cr_assert_null(why);
	cr_assert_eq(duration_parse("300", &v), ERR_BAD_DURATION);
}

Test(duration, same_refusals_both_ways)
{
	/* why0: jitca.json's reason where it differs (a bare number). */
	static const struct {
		const char *s, *why, *why0;
	} bad[] = {{"", "empty", NULL}, {"0", "zero is not allowed", MISSING},
	    {"0s", "zero is not allowed", NULL},
	    {"-5", "a sign is not allowed", NULL},
	    {" 5", "spaces are not allowed", NULL},
	    {"5 m", "spaces are not allowed", NULL},
	    {"007", "leading zeros are not allowed", NULL},
	    {"1.5h", "fractions are not allowed", NULL},
	    {"5x", "unknown unit (use s, m, h or d)", NULL},
	    {"1h30m", "use one number and one unit, like \"90m\"", NULL},
	    {"3651d", "longer than 10 years", NULL},
	    {"315360001", "longer than 10 years", MISSING}};
	const char *why, *want;
	uint64_t v;
	size_t i;
	unsigned f;

	for (f = 0; f <= DURATION_BARE_SECONDS; f++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			v = 1;
			why = NULL;
			want = f == 0 && bad[i].why0 != NULL ? bad[i].why0
							     : bad[i].why;
			cr_assert_eq(
			    duration_parse_flags(bad[i].s, f, &v, &why),
			    ERR_BAD_DURATION, "\"%s\" %u", bad[i].s, f);
			cr_assert_eq(v, 0);
			cr_assert_str_eq(why, want, "\"%s\" %u", bad[i].s, f);
		}
	}
	cr_assert_eq(duration_parse_flags("7d", 0, &v, NULL), 0);
	cr_assert_eq(v, 604800);
	cr_assert_eq(duration_parse_flags("3650d", 0, &v, NULL), 0);
	cr_assert_eq(v, DURATION_MAX);
}
