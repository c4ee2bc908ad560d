/*
 * ui_form.c: form bodies, cookies and the origin check of ui_form.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/wire.h"
#include "web/ui_form.h"

/* Decode s[0..n) ('+' is a space); NULL on a bad escape or a NUL. */
static char *
decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i, o = 0;
	int hi, lo;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] != '%')
			out[o++] = s[i];
		else if (i + 2 < n &&
		    (hi = wire_hex_value((unsigned char)s[i + 1])) >= 0 &&
		    (lo = wire_hex_value((unsigned char)s[i + 2])) >= 0 &&
		    (hi | lo) != 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	out[o] = '\0';
	return out;
}

void
ui_form_free(struct ui_form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->name[i]);
		free(f->value[i]);
	}
	f->n = 0;
}

const char *
ui_form_get(const struct ui_form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (strcmp(f->name[i], name) == 0)
			return f->value[i];
	}
	return NULL;
}

/* One "name=value" pair p[0..n). */
static int
form_pair(struct ui_form *f, const char *p, size_t n, const char **why)
{
	const char *eq = memchr(p, '=', n);
	size_t nl = eq != NULL ? (size_t)(eq - p) : n;
	char *name, *value;

	if (f->n == UI_FORM_MAX_FIELDS) {
		*why = "too many form fields";
		return ERR_BAD_FORMAT;
	}
	name = decode(p, nl);
	value = eq != NULL ? decode(eq + 1, n - nl - 1) : decode("", 0);
	if (name == NULL || value == NULL) {
		free(name);
		free(value);
		*why = "a form field has a bad %-escape";
		return ERR_BAD_FORMAT;
	}
	f->name[f->n] = name;
	f->value[f->n] = value;
	f->n++;
	if (strlen(value) > UI_FORM_MAX_VALUE) {
		*why = "a form field is too long";
		return ERR_BAD_FORMAT;
	}
	if (f->n > 1 && ui_form_get(f, name) != value) {
		*why = "a form field is given more than once";
		return ERR_BAD_FORMAT;
	}
	return 0;
}

int
ui_form_parse(
    struct ui_form *f, const uint8_t *body, size_t len, const char **why)
{
	const char *p = (const char *)body, *end = p + len, *amp;
	int r;

	memset(f, 0, sizeof(*f));
	*why = NULL;
	if (len > 0 && memchr(body, '\0', len) != NULL) {
		*why = "the form holds a NUL byte";
		return ERR_BAD_FORMAT;
	}
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp > p &&
		    (r = form_pair(f, p, (size_t)(amp - p), why)) != 0)
			return r;
		p = amp + 1;
	}
	return 0;
}

int
ui_cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
	const char *p = header, *v, *e;
	size_t nl = strlen(name), vl;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t;");
		e = strchr(p, ';');
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			v = p + nl + 1;
			vl = e != NULL ? (size_t)(e - v) : strlen(v);
			if (vl + 1 > outlen)
				return 0;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 1;
		}
		p = e;
	}
	return 0;
}

int
ui_own_origin(const char *host, int tls, char *out, size_t outlen)
{
	int n;

	if (host == NULL || host[0] == '\0' || strlen(host) > 255 ||
	    strpbrk(host, "/\\@ ?#\"'<>") != NULL)
		return 0;
	n = snprintf(out, outlen, "%s://%s", tls ? "https" : "http", host);
	return n > 0 && (size_t)n < outlen;
}

int
ui_same_origin(
    const char *origin, const char *referer, const char *host, int tls)
{
	char own[UI_ORIGIN_MAX];
	size_t n;

	if (!ui_own_origin(host, tls, own, sizeof(own)))
		return 0;
	n = strlen(own);
	if (origin != NULL)
		return strcmp(origin, own) == 0;
	if (referer != NULL)
		return strncmp(referer, own, n) == 0 &&
		    (referer[n] == '/' || referer[n] == '\0');
	return 0;
}
