/*
 * cshow.c: the terminal escaping of cshow.h over signer/utf8.h.
 */
#include <stdio.h>
#include <string.h>

#include "client/cshow.h"
#include "signer/utf8.h"

int
cshow_escape(char *dst, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[16];
	const char *piece;
	size_t o = 0, n, plen, slen, i, start[4], k = 0, avail = 0, cut;
	uint32_t cp;

	if (len == 0)
		return s != NULL && *s != '\0';
	dst[0] = '\0';
	if (s == NULL)
		return 0;
	slen = strlen(s);
	for (i = 0; i < slen; i += n) {
		if ((n = utf8_decode(p + i, slen - i, &cp)) == 0) {
			snprintf(esc, sizeof(esc), "\\x{%02X}", p[i]);
			piece = esc;
			plen = strlen(esc);
			n = 1;
		} else if (utf8_unsafe_class(cp) != NULL) {
			snprintf(esc, sizeof(esc), "\\u{%04X}", (unsigned)cp);
			piece = esc;
			plen = strlen(esc);
		} else {
			piece = s + i;
			plen = n;
		}
		if (o + plen + 1 > len) {
			/* Make room for "..." by dropping whole pieces (a
			 * piece is at most 10 bytes, so 3 bytes need at most
			 * the last 3 pieces). */
			cut = o;
			while (avail > 0 && o + 4 > len) {
				k--;
				avail--;
				o = start[k % 4];
			}
			if (o + 4 <= len)
				memcpy(dst + o, "...", 4);
			else
				dst[cut] =
				    '\0'; /* no room for "...": keep all */
			return 1;
		}
		start[k++ % 4] = o;
		if (avail < 4)
			avail++;
		memcpy(dst + o, piece, plen);
		o += plen;
		dst[o] = '\0';
	}
	return 0;
}
