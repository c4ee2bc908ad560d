/*
 * template.h: the web pages' HTML renderer.  A template is a literal
 * string of trusted markup with placeholders "{{CONTEXT:NAME}}"; every
 * placeholder names the context its value lands in and is escaped for
 * it, so a value can never become markup:
 *
 *   text  HTML text: & < > " ' as entities;
 *   attr  a double-quoted attribute value: the same escapes;
 *   url   an href/action value: relative ("/ui/...", "?page=2") or with
 *         the scheme http or https only; anything else (javascript:,
 *         data:, a scheme after whitespace or a control character, an
 *         encoded or malformed one) becomes "#"; then escaped as attr;
 *   html  a fragment rendered earlier by this module (a struct tpl_buf),
 *         copied as it is — the only way markup enters a page.
 *
 * In every context a byte that is not valid UTF-8 and a code point
 * signer/utf8.h calls unsafe (controls other than tab and newline, bidi
 * controls, invisible characters) become U+FFFD.  A
 * template naming an unknown context or a value it was not given fails
 * with ERR_TEMPLATE: a page is never sent half-escaped.
 *
 * Nothing here knows HTTP or the domain (web/ui.c fills the values).
 */
#ifndef JITCA_TEMPLATE_H
#define JITCA_TEMPLATE_H

#include <stddef.h>

#include "signer/err.h"

/* A growing output buffer; err sticks at the first failure. */
struct tpl_buf {
	char *p; /* NUL-terminated when len > 0 */
	size_t len, cap;
	int err;
};

/* One named value of a template: s (text, attr, url) or frag (html). */
struct tpl_var {
	const char *name;
	const char *s;
	const struct tpl_buf *frag;
};

void tpl_init(struct tpl_buf *b);
void tpl_free(struct tpl_buf *b);
/* The text so far ("" when empty); valid until the next append. */
const char *tpl_str(const struct tpl_buf *b);

/* Append trusted markup (a literal of the program, never input). */
void tpl_raw(struct tpl_buf *b, const char *markup);
/* Append s escaped for HTML text / a quoted attribute / a URL. */
void tpl_text(struct tpl_buf *b, const char *s);
void tpl_attr(struct tpl_buf *b, const char *s);
void tpl_url(struct tpl_buf *b, const char *s);
/* 1 if s may be a link as it is (the test of tpl_url). */
int tpl_url_safe(const char *s);

/*
 * Append tpl with its placeholders filled from vars.  ERR_TEMPLATE (and
 * b->err set) for an unknown context or name; ERR_ALLOC.
 */
MUST_CHECK int tpl_render(struct tpl_buf *b, const char *tpl,
    const struct tpl_var *vars, size_t nvars);

#endif /* JITCA_TEMPLATE_H */
