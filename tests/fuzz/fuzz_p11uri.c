/*
 * fuzz_p11uri.c: PKCS#11 URIs (signer/p11.h, RFC 7512).  Properties:
 * whatever parses names a key (object or id), holds no text field with a
 * control byte or over its limit, and re-encoded with every byte
 * percent-encoded parses back to the same fields.
 */
#include <string.h>

#include "signer/p11.h"
#include "tests/fuzz/fuzz.h"

#define MAXOUT (P11_URI_MAX * 4)

struct out {
	char buf[MAXOUT];
	size_t len;
	int over;
};

static void
put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->len + n >= sizeof(o->buf)) {
		o->over = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
put_attr(struct out *o, char *sep, const char *name, const uint8_t *v, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char pct[4] = "%00";
	size_t i;

	if (v == NULL)
		return;
	put(o, sep);
	put(o, name);
	put(o, "=");
	for (i = 0; i < n; i++) {
		pct[1] = hex[v[i] >> 4];
		pct[2] = hex[v[i] & 15];
		put(o, pct);
	}
	sep[0] = ';';
}

static void
put_text(struct out *o, char *sep, const char *name, const char *v)
{
	if (v != NULL)
		put_attr(o, sep, name, (const uint8_t *)v, strlen(v));
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
check_text(const char *s, size_t max)
{
	size_t i, n;

	if (s == NULL)
		return;
	n = strlen(s);
	FUZZ_CHECK(n > 0 && n <= max);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p11_uri *u = NULL, *v = NULL;
	struct out o;
	char *s, sep[2] = "";

	if (size > P11_URI_MAX + 16 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (p11_uri_parse(&u, s) != 0) {
		FUZZ_CHECK(u == NULL);
		free(s);
		return 0;
	}
	FUZZ_CHECK(u->object != NULL || u->id != NULL);
	check_text(u->token, 32);
	check_text(u->manufacturer, 32);
	check_text(u->serial, 16);
	check_text(u->model, 16);
	check_text(u->object, P11_VALUE_MAX);
	FUZZ_CHECK(u->id == NULL || (u->id_len > 0 && u->id_len <= 255));
	FUZZ_CHECK(u->pin_source == NULL || u->pin_source[0] == '/');
	FUZZ_CHECK(u->module_path == NULL || u->module_path[0] == '/');

	memset(&o, 0, sizeof(o));
	put(&o, "pkcs11:");
	put_text(&o, sep, "token", u->token);
	put_text(&o, sep, "manufacturer", u->manufacturer);
	put_text(&o, sep, "serial", u->serial);
	put_text(&o, sep, "model", u->model);
	put_text(&o, sep, "library-manufacturer", u->lib_manufacturer);
	put_text(&o, sep, "library-description", u->lib_description);
	put_text(&o, sep, "object", u->object);
	put_attr(&o, sep, "id", u->id, u->id_len);
	sep[0] = '?';
	put_text(&o, sep, "pin-source", u->pin_source);
	if (sep[0] == ';')
		sep[0] = '&';
	put_text(&o, sep, "module-path", u->module_path);
	/* Fully encoded, a value may outgrow P11_URI_MAX: skip those. */
	if (!o.over && o.len <= P11_URI_MAX) {
		FUZZ_CHECK(p11_uri_parse(&v, o.buf) == 0);
		FUZZ_CHECK(same(u->token, v->token));
		FUZZ_CHECK(same(u->manufacturer, v->manufacturer));
		FUZZ_CHECK(same(u->serial, v->serial));
		FUZZ_CHECK(same(u->model, v->model));
		FUZZ_CHECK(same(u->lib_manufacturer, v->lib_manufacturer));
		FUZZ_CHECK(same(u->lib_description, v->lib_description));
		FUZZ_CHECK(same(u->object, v->object));
		FUZZ_CHECK(same(u->pin_source, v->pin_source));
		FUZZ_CHECK(same(u->module_path, v->module_path));
		FUZZ_CHECK(u->id_len == v->id_len &&
		    (u->id_len == 0 || memcmp(u->id, v->id, u->id_len) == 0));
	}
	p11_uri_free(u);
	p11_uri_free(v);
	free(s);
	return 0;
}
