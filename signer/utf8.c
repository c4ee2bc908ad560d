/*
 * utf8.c: strict UTF-8 decoding and the unsafe code point list of
 * utf8.h.  The decoder follows RFC 3629 section 4 (the well-formed byte
 * sequences table), so overlong forms, surrogates and values above
 * U+10FFFF are refused rather than repaired.
 */
#include "signer/utf8.h"

size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t v, min;
	size_t n, i;

	*cp = 0;
	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		v = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		v = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		v = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0; /* continuation byte, 0xc0, 0xc1, 0xf5.. */
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

const char *
utf8_unsafe_class(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f)
		return "control character";
	if (cp >= 0x80 && cp <= 0x9f)
		return "C1 control";
	if (cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return "bidi control";
	if (cp == 0x2028)
		return "line separator";
	if (cp == 0x2029)
		return "paragraph separator";
	if (cp == 0x200b || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff)
		return "invisible character";
	return NULL;
}
