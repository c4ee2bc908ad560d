/*
 * ui_form.h: what the web pages read from a request besides JSON:
 * application/x-www-form-urlencoded bodies (strict: each field at most
 * once, bounded, valid percent escapes), the session cookie, and the
 * same-origin check of a POST (its Origin header, or its Referer when
 * there is no Origin, must be this server's own scheme://Host).
 *
 * Pure functions over strings; web/ui.c calls them with what
 * web/http.h hands it.
 */
#ifndef JITCA_UI_FORM_H
#define JITCA_UI_FORM_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

#define UI_FORM_MAX_FIELDS 16
#define UI_FORM_MAX_VALUE 2048

struct ui_form {
	size_t n;
	char *name[UI_FORM_MAX_FIELDS];
	char *value[UI_FORM_MAX_FIELDS];
};

/*
 * Parse body[0..len) into f (ui_form_free() after, also on failure).
 * ERR_BAD_FORMAT for a bad escape, a field given twice, a NUL, too many
 * fields or a value over UI_FORM_MAX_VALUE; why names it.
 */
MUST_CHECK int ui_form_parse(
    struct ui_form *f, const uint8_t *body, size_t len, const char **why);
void ui_form_free(struct ui_form *f);
/* The decoded value of name, borrowed, or NULL. */
const char *ui_form_get(const struct ui_form *f, const char *name);

/* The value of cookie name in a Cookie header, copied into out (at most
 * outlen - 1 bytes; a longer one counts as absent).  1 found, else 0. */
int ui_cookie_get(
    const char *header, const char *name, char *out, size_t outlen);

/* "http(s)://host" of this server as the request names it (Host), in
 * out; 0 when host is missing or not a plain host[:port]. */
#define UI_ORIGIN_MAX 300
int ui_own_origin(const char *host, int tls, char *out, size_t outlen);

/*
 * 1 if a POST with these Origin and Referer headers (each may be NULL)
 * comes from http(s)://host (tls picks the scheme) itself, else 0: a
 * missing Host, an Origin of "null", a Referer of another origin, or
 * neither header.
 */
int ui_same_origin(
    const char *origin, const char *referer, const char *host, int tls);

#endif /* JITCA_UI_FORM_H */
