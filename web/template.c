/*
 * template.c: the escaping renderer of template.h.  One routine walks
 * the UTF-8 of a value and writes it with the HTML escapes; the URL
 * context first decides whether the value may be a link at all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signer/utf8.h"
#include "web/template.h"

#define TPL_MAX_NAME 64

void
tpl_init(struct tpl_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
tpl_free(struct tpl_buf *b)
{
	free(b->p);
	tpl_init(b);
}

const char *
tpl_str(const struct tpl_buf *b)
{
	return b->len > 0 ? b->p : "";
}

static void
put(struct tpl_buf *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->err != 0)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap > 0 ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->err = ERR_ALLOC;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
tpl_raw(struct tpl_buf *b, const char *markup)
{
	put(b, markup, strlen(markup));
}

/* The entity for an ASCII byte that HTML gives a meaning, or NULL. */
static const char *
entity(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	}
	return NULL;
}

/* Text and quoted attributes escape alike. */
static void
put_escaped(struct tpl_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t left = strlen((const char *)p), n;
	const char *e;
	uint32_t cp;

	while (left > 0) {
		n = utf8_decode(p, left, &cp);
		if (n == 0) {
			put(b, "\xef\xbf\xbd", 3); /* U+FFFD */
			p++;
			left--;
			continue;
		}
		if (cp != '\n' && cp != '\t' && utf8_unsafe_class(cp) != NULL)
			put(b, "\xef\xbf\xbd", 3);
		else if (n == 1 && (e = entity(*p)) != NULL)
			put(b, e, strlen(e));
		else
			put(b, (const char *)p, n);
		p += n;
		left -= n;
	}
}

void
tpl_text(struct tpl_buf *b, const char *s)
{
	put_escaped(b, s);
}

void
tpl_attr(struct tpl_buf *b, const char *s)
{
	put_escaped(b, s);
}

/*
 * A link is relative (no scheme: nothing before the first ':' but
 * characters that cannot form one, i.e. a '/', '?' or '#' comes first)
 * or http(s):.  Whitespace, controls and backslashes anywhere refuse it:
 * browsers drop them inside a scheme ("java\tscript:", " javascript:")
 * and read '\' as '/'.  "//host" (another origin) is refused too.
 */
int
tpl_url_safe(const char *s)
{
	size_t i, colon;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '\\' || c >= 0x80)
			return 0;
	}
	if (s[0] == '/' && s[1] == '/')
		return 0;
	colon = strcspn(s, ":/?#");
	if (s[colon] != ':')
		return 1;
	return (colon == 4 && strncasecmp(s, "http", 4) == 0) ||
	    (colon == 5 && strncasecmp(s, "https", 5) == 0);
}

void
tpl_url(struct tpl_buf *b, const char *s)
{
	put_escaped(b, tpl_url_safe(s) ? s : "#");
}

static const struct tpl_var *
var_find(const struct tpl_var *vars, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strlen(vars[i].name) == len &&
		    memcmp(vars[i].name, name, len) == 0)
			return &vars[i];
	}
	return NULL;
}

/* One "{{ctx:name}}" whose inside is p[0..len). */
static int
placeholder(struct tpl_buf *b, const char *p, size_t len,
    const struct tpl_var *vars, size_t nvars)
{
	const char *colon = memchr(p, ':', len);
	const struct tpl_var *v;
	size_t cl;

	if (colon == NULL || len > TPL_MAX_NAME)
		return ERR_TEMPLATE;
	cl = (size_t)(colon - p);
	v = var_find(vars, nvars, colon + 1, len - cl - 1);
	if (v == NULL)
		return ERR_TEMPLATE;
	if (cl == 4 && memcmp(p, "html", 4) == 0) {
		if (v->frag == NULL || v->frag->err != 0)
			return v->frag != NULL ? v->frag->err : ERR_TEMPLATE;
		put(b, tpl_str(v->frag), v->frag->len);
		return 0;
	}
	if (v->frag != NULL)
		return ERR_TEMPLATE;
	if (cl == 4 && memcmp(p, "text", 4) == 0)
		tpl_text(b, v->s);
	else if (cl == 4 && memcmp(p, "attr", 4) == 0)
		tpl_attr(b, v->s);
	else if (cl == 3 && memcmp(p, "url", 3) == 0)
		tpl_url(b, v->s);
	else
		return ERR_TEMPLATE;
	return 0;
}

int
tpl_render(struct tpl_buf *b, const char *tpl, const struct tpl_var *vars,
    size_t nvars)
{
	const char *p = tpl, *open, *close;
	int r;

	while ((open = strstr(p, "{{")) != NULL) {
		put(b, p, (size_t)(open - p));
		if ((close = strstr(open + 2, "}}")) == NULL) {
			b->err = ERR_TEMPLATE;
			return ERR_TEMPLATE;
		}
		r = placeholder(
		    b, open + 2, (size_t)(close - open - 2), vars, nvars);
		if (r != 0) {
			b->err = r;
			return r;
		}
		p = close + 2;
	}
	put(b, p, strlen(p));
	return b->err;
}
