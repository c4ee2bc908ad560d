/*
 * test_cshow.c: client/cshow.c, how jitca shows server text: unsafe code
 * points and bytes that are not UTF-8 escaped, text in any script kept,
 * and cutting that never splits a UTF-8 sequence or an escape.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "client/cshow.h"

Test(cshow, escapes_unsafe_and_invalid)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "plain"},
	    {"a\xe2\x80\xae"
	     "b",
		"a\\u{202E}b"},
	    {"a\xc2\x85"
	     "b",
		"a\\u{0085}b"},
	    {"a\xe2\x80\xa8"
	     "b",
		"a\\u{2028}b"},
	    {"a\x1b[31mred", "a\\u{001B}[31mred"},
	    {"a\nb\r", "a\\u{000A}b\\u{000D}"},
	    {"bad\xff\xfe", "bad\\x{FF}\\x{FE}"},
	    {"cut\xe2\x80", "cut\\x{E2}\\x{80}"},
	    {"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"},
	    {"", ""},
	};
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(cshow_escape(buf, sizeof(buf), cases[i].in), 0);
		cr_assert_str_eq(buf, cases[i].out, "case %zu", i);
	}
	cr_assert_eq(cshow_escape(buf, sizeof(buf), NULL), 0);
	cr_assert_str_eq(buf, "");
}

Test(cshow, cuts_between_characters)
{
	char buf[8];

	/* "ééééé" is 10 bytes: 2 characters and "..." fit in 8. */
	cr_assert_eq(cshow_escape(buf, sizeof(buf),
			 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
	    1);
	cr_assert_str_eq(buf, "\xc3\xa9\xc3\xa9...");
	/* An escape is never cut: "\u{202E}" (8 bytes) does not fit. */
	cr_assert_eq(cshow_escape(buf, sizeof(buf), "ab\xe2\x80\xae"), 1);
	cr_assert_str_eq(buf, "ab...");
	/* Exactly fitting text is not cut. */
	cr_assert_eq(cshow_escape(buf, sizeof(buf), "1234567"), 0);
	cr_assert_str_eq(buf, "1234567");
	cr_assert_eq(cshow_escape(buf, sizeof(buf), "12345678"), 1);
	cr_assert_str_eq(buf, "1234...");
	cr_assert_eq(cshow_escape(buf, 3, "abcdef"), 1);
	cr_assert_str_eq(buf, "ab");
}
