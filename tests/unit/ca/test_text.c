/*
 * test_text.c: ca/text.c, the one free-text check: every class of
 * refused code point with its exact message, malformed UTF-8 (overlong,
 * surrogate, above U+10FFFF, truncated, stray continuation) with the byte
 * it starts at, the length bound, required and optional fields, and text
 * in other scripts that must pass.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "ca/text.h"

Test(text, refused_code_points_named)
{
	static const struct {
		const char *s, *msg;
	} cases[] = {
	    {"a\tb", "reason: U+0009 (control character) is not allowed"},
	    {"a\nb", "reason: U+000A (control character) is not allowed"},
	    {"a\x7f", "reason: U+007F (control character) is not allowed"},
	    {"a\xc2\x80", "reason: U+0080 (C1 control) is not allowed"},
	    {"a\xc2\x85", "reason: U+0085 (C1 control) is not allowed"},
	    {"a\xc2\x9f", "reason: U+009F (C1 control) is not allowed"},
	    {"a\xd8\x9c", "reason: U+061C (bidi control) is not allowed"},
	    {"a\xe2\x80\x8e", "reason: U+200E (bidi control) is not allowed"},
	    {"a\xe2\x80\x8f", "reason: U+200F (bidi control) is not allowed"},
	    {"a\xe2\x80\xaa", "reason: U+202A (bidi control) is not allowed"},
	    {"a\xe2\x80\xae", "reason: U+202E (bidi control) is not allowed"},
	    {"a\xe2\x81\xa6", "reason: U+2066 (bidi control) is not allowed"},
	    {"a\xe2\x81\xa9", "reason: U+2069 (bidi control) is not allowed"},
	    {"a\xe2\x80\xa8", "reason: U+2028 (line separator) is not allowed"},
	    {"a\xe2\x80\xa9",
		"reason: U+2029 (paragraph separator) is not allowed"},
	    {"a\xe2\x80\x8b",
		"reason: U+200B (invisible character) is not allowed"},
	    {"a\xef\xbb\xbf",
		"reason: U+FEFF (invisible character) is not allowed"},
	};
	char msg[TEXT_MSG_LEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(text_check("reason", cases[i].s, 512, 1, msg),
		    ERR_TEXT_CHAR, "case %zu", i);
		cr_assert_str_eq(msg, cases[i].msg, "case %zu", i);
		/* Without a buffer: the same code. */
		cr_assert_eq(text_check("reason", cases[i].s, 512, 1, NULL),
		    ERR_TEXT_CHAR);
	}
}

Test(text, malformed_utf8_named_by_byte)
{
	static const struct {
		const char *s, *msg;
	} cases[] = {
	    {"ab\xff", "comment: not valid UTF-8 (at byte 3)"},
	    {"\x80", "comment: not valid UTF-8 (at byte 1)"},
	    {"a\xc0\xaf",
		"comment: not valid UTF-8 (at byte 2)"}, /* overlong */
	    {"a\xe0\x80\xaf", "comment: not valid UTF-8 (at byte 2)"},
	    {"a\xed\xa0\x80",
		"comment: not valid UTF-8 (at byte 2)"}, /* D800 */
	    {"a\xf4\x90\x80\x80", "comment: not valid UTF-8 (at byte 2)"},
	    {"a\xe2\x80", "comment: not valid UTF-8 (at byte 2)"}, /* cut */
	    {"a\xe2\x28\xa1", "comment: not valid UTF-8 (at byte 2)"},
	};
	char msg[TEXT_MSG_LEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(text_check("comment", cases[i].s, 512, 0, msg),
		    ERR_TEXT_UTF8, "case %zu", i);
		cr_assert_str_eq(msg, cases[i].msg, "case %zu", i);
	}
}

Test(text, length_and_required)
{
	char msg[TEXT_MSG_LEN], big[600];

	cr_assert_eq(text_check("reason", NULL, 512, 1, msg), ERR_INVALID_ARG);
	cr_assert_str_eq(msg, "reason: is required");
	cr_assert_eq(text_check("reason", "", 512, 1, msg), ERR_INVALID_ARG);
	cr_assert_str_eq(msg, "reason: is required");
	cr_assert_eq(text_check("comment", NULL, 512, 0, msg), 0);
	cr_assert_str_eq(msg, "");
	cr_assert_eq(text_check("comment", "", 512, 0, msg), 0);
	memset(big, 'x', 513);
	big[513] = '\0';
	cr_assert_eq(text_check("reason", big, 512, 1, msg), ERR_INVALID_ARG);
	cr_assert_str_eq(msg, "reason: longer than 512 bytes");
	big[512] = '\0';
	cr_assert_eq(text_check("reason", big, 512, 1, msg), 0);
}

Test(text, other_scripts_pass)
{
	static const char *const ok[] = {
	    "INC-4312 stuck queue",
	    "\xc3\xa9t\xc3\xa9 \xc3\xbc\xc3\x9f", /* été üß */
	    "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", /* Hebrew, RTL */
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", /* Japanese */
	    "deploy \xf0\x9f\x9a\x80", /* U+1F680 */
	    "\xe2\x80\x8d", /* U+200D ZWJ (emoji sequences) */
	    "\xc2\xa0 no-break space",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert_eq(text_check("reason", ok[i], 512, 1, NULL), 0,
		    "case %zu", i);
}
