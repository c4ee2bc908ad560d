/*
 * cshow.h: making server text safe to show on a terminal.  Reasons,
 * comments, names and error messages come from the server and may hold
 * anything; before jitca prints them, every code point that signer/utf8.h
 * lists as unsafe (controls, C1 controls, bidi controls, line and
 * paragraph separators, invisible characters) becomes "\u{202E}", every
 * byte that is not part of well-formed UTF-8 becomes "\x{FF}", and text
 * that does not fit is cut between characters, never inside a UTF-8
 * sequence or an escape, and marked with "...".  Nothing here allocates.
 */
#ifndef JITCA_CSHOW_H
#define JITCA_CSHOW_H

#include <stddef.h>

/*
 * Escape s (NULL shows as "") into dst (len bytes, always NUL-terminated
 * when len > 0).  Returns 1 when s was cut to fit, else 0.
 */
int cshow_escape(char *dst, size_t len, const char *s);

#endif /* JITCA_CSHOW_H */
