/*
 * text.h: the one check for every free-text field jitca accepts (a
 * request's reason, an approval's or denial's comment, a revocation's
 * reason), at the API, in the admin commands and in the domain itself.
 *
 * A valid text is well-formed UTF-8 (RFC 3629: no overlong forms,
 * surrogates or values above U+10FFFF), at most max bytes, non-empty when
 * required, and holds none of the code points signer/utf8.h lists as
 * unsafe (C0 and C1 controls, DEL, bidi controls, line and paragraph
 * separators, invisible characters), so that what an approver reads is
 * what was written.
 *
 * The message names the field and what is wrong, exactly:
 *   "reason: is required"
 *   "reason: longer than 512 bytes"
 *   "reason: not valid UTF-8 (at byte 7)"
 *   "reason: U+202E (bidi control) is not allowed"
 * Callers that report to a person (web/api.c, the jitcad commands) pass a
 * buffer; the domain (request.c, revoke.c) passes NULL and returns only
 * the code.  Nothing here prints or allocates.
 */
#ifndef JITCA_TEXT_H
#define JITCA_TEXT_H

#include <stddef.h>

#include "signer/err.h"

#define TEXT_MSG_LEN 160

/*
 * Check text s of field (a name for the message, e.g. "reason").  s NULL
 * is fine unless required.  Returns 0, ERR_INVALID_ARG (missing, empty
 * or longer than max bytes), ERR_TEXT_UTF8 or ERR_TEXT_CHAR; on error
 * msg (when not NULL) holds the message above.
 */
MUST_CHECK int text_check(const char *field, const char *s, size_t max,
    int required, char msg[TEXT_MSG_LEN]);

#endif /* JITCA_TEXT_H */
