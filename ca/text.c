/*
 * text.c: the free-text check of text.h, over the strict decoder and the
 * unsafe code point list of signer/utf8.h.
 */
#include <stdio.h>
#include <string.h>

#include "ca/text.h"
#include "signer/utf8.h"

int
text_check(const char *field, const char *s, size_t max, int required,
    char msg[TEXT_MSG_LEN])
{
	const unsigned char *p = (const unsigned char *)s;
	const char *why;
	size_t len, i, n;
	uint32_t cp;

	if (field == NULL)
		field = "text";
	if (msg != NULL)
		msg[0] = '\0';
	if (s == NULL || *s == '\0') {
		if (!required)
			return 0;
		if (msg != NULL)
			snprintf(msg, TEXT_MSG_LEN, "%s: is required", field);
		return ERR_INVALID_ARG;
	}
	if ((len = strnlen(s, max + 1)) > max) {
		if (msg != NULL)
			snprintf(msg, TEXT_MSG_LEN, "%s: longer than %zu bytes",
			    field, max);
		return ERR_INVALID_ARG;
	}
	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(p + i, len - i, &cp)) == 0) {
			if (msg != NULL)
				snprintf(msg, TEXT_MSG_LEN,
				    "%s: not valid UTF-8 (at byte %zu)", field,
				    i + 1);
			return ERR_TEXT_UTF8;
		}
		if ((why = utf8_unsafe_class(cp)) != NULL) {
			if (msg != NULL)
				snprintf(msg, TEXT_MSG_LEN,
				    "%s: U+%04X (%s) is not allowed", field,
				    (unsigned)cp, why);
			return ERR_TEXT_CHAR;
		}
	}
	return 0;
}
