/*
 * utf8.h: strict UTF-8 decoding (RFC 3629) and the list of code points
 * jitca never stores in free text nor shows unescaped: C0 and C1
 * controls, DEL, the bidirectional formatting characters (embeddings,
 * overrides, isolates and marks, Unicode TR #9), the line and paragraph
 * separators and a few invisible characters.  Such characters let a
 * reason or comment look different on a terminal or a web page from what
 * it is ("Trojan Source", CVE-2021-42574).
 *
 * One list for both sides: ca/text.c refuses these code points in every
 * free-text field, client/cshow.c escapes them (and any byte that is not
 * UTF-8) before it prints text that came from a server.  Nothing here
 * allocates.
 */
#ifndef JITCA_UTF8_H
#define JITCA_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the code point at s[0..len): returns the bytes it takes (1..4)
 * and sets *cp, or 0 when s does not start with a well-formed sequence
 * (truncated, overlong, a surrogate, above U+10FFFF, a stray
 * continuation byte) or len is 0.
 */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/*
 * NULL when code point cp may appear in free text, else a static name of
 * its class: "control character" (U+0000-U+001F, U+007F), "C1 control"
 * (U+0080-U+009F), "bidi control" (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069), "line separator" (U+2028), "paragraph
 * separator" (U+2029), "invisible character" (U+200B, U+2060-U+2064,
 * U+FEFF).
 */
const char *utf8_unsafe_class(uint32_t cp);

#endif /* JITCA_UTF8_H */
