/*
 * test_jsonw.c: ca/store/jsonw.c against jansson's json_dumps, byte for
 * byte, under every flag combination it accepts (JSON_COMPACT with or
 * without JSON_SORT_KEYS, JSON_ENSURE_ASCII, JSON_ENCODE_ANY): a fixed
 * corpus of the cases where the two could differ (key order, escapes,
 * UTF-8, integer extremes, reals, non-containers, embedded NULs, invalid
 * UTF-8, loops, depth) and thousands of values from a seeded generator;
 * then the buffer's cap, appending, and the flags it refuses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ca/store/jsonw.h"

static const size_t flag_sets[] = {
    JSON_COMPACT,
    JSON_COMPACT | JSON_ENCODE_ANY,
    JSON_COMPACT | JSON_SORT_KEYS,
    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY,
    JSON_COMPACT | JSON_ENSURE_ASCII,
    JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY,
    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII,
    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ENCODE_ANY,
};
#define NFLAGS (sizeof(flag_sets) / sizeof(flag_sets[0]))

/* jsonw_dumps(v) and an append after a prefix equal json_dumps(v). */
static void
same(const json_t *v, const char *what)
{
	size_t k;

	for (k = 0; k < NFLAGS; k++) {
		size_t f = flag_sets[k];
		char *want = json_dumps(v, f), *got = jsonw_dumps(v, f);
		struct jsonw_buf b;
		int r;

		if (want == NULL)
			cr_assert_null(got,
			    "%s flags %#zx: jansson NULL, got %s", what, f,
			    got);
		else {
			cr_assert_not_null(
			    got, "%s flags %#zx: NULL, want %s", what, f, want);
			cr_assert_str_eq(got, want, "%s flags %#zx", what, f);
		}
		jsonw_buf_init(&b, SIZE_MAX);
		cr_assert_eq(jsonw_buf_put(&b, "pre", 3), 0);
		r = jsonw_append(&b, v, f);
		if (want == NULL) {
			cr_assert_eq(r, ERR_INVALID_ARG, "%s: %d", what, r);
			cr_assert_str_eq(b.data, "pre");
		} else {
			cr_assert_eq(r, 0, "%s: %d", what, r);
			cr_assert_eq(b.len, 3 + strlen(want));
			cr_assert_str_eq(b.data + 3, want);
		}
		jsonw_buf_free(&b);
		free(want);
		free(got);
	}
}

static void
same_text(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

	cr_assert_not_null(v, "%s: %s", text, e.text);
	same(v, text);
	json_decref(v);
}

Test(jsonw, corpus)
{
	static const char *const texts[] = {
	    "{}",
	    "[]",
	    "[{}]",
	    "{\"a\":[]}",
	    "[[[[]]],{},[{}],{\"x\":{\"y\":{\"z\":[1,[2,[3]]]}}}]",
	    /* strcmp, memcmp-then-length and insertion order differ */
	    "{\"b\":1,\"ab\":2,\"a\":3,\"B\":4,\"_\":5,\"A1\":6,\"\":7,"
	    "\"abc\":9,\"~\":10,\"A\":11}",
	    "{\"z\":{\"b\":1,\"a\":2},\"y\":[{\"d\":1,\"c\":2}]}",
	    /* escapes in keys and values */
	    "{\"q\\\"\":\"a\\\"b\",\"b\\\\s\":\"c\\\\d\",\"sl/ash\":\"/x/\"}",
	    "{\"\\u0001\\b\\f\\n\\r\\t\\u001f\":\"\\u0000\\u0007\\u001b\"}",
	    "[\"\\u007f\",\"del\\u007fx\",\"\\u0080\"]",
	    /* 2, 3 and 4 byte UTF-8, in keys and values */
	    "{\"\\u00e9t\\u00e9\":\"caf\\u00e9\",\"\\u20ac\":\"\\u4e2d\\u6587\","
	    "\"\\ud83d\\ude00\":\"\\ud800\\udc00 \\udbff\\udfff\"}",
	    "[\"\\uffff\",\"\\ufeff\",\"\\u07ff\",\"\\u0800\"]",
	    /* integers */
	    "[0,-1,1,9,10,-10,2147483647,-2147483648,4294967296]",
	    "[-9223372036854775808,9223372036854775807,-9223372036854775807]",
	    /* reals */
	    "[1.0,0.1,1e300,-0.0,0.0,1e-300,123456789.125,-2.5e-7,1e22,"
	    "4.9e-324,1.7976931348623157e308,0.30000000000000004]",
	    "[true,false,null]",
	    "{\"t\":true,\"f\":false,\"n\":null}",
	    /* top level non-containers (JSON_ENCODE_ANY) */
	    "0",
	    "-9223372036854775808",
	    "1.5",
	    "true",
	    "false",
	    "null",
	    "\"\"",
	    "\"plain\"",
	    "\"a\\\"b\"",
	    "\"\\u00e9\"",
	    "\"\\ud83d\\ude00\"",
	    "\"nul\\u0000inside\"",
	};
	size_t i;

	json_t *o = json_object();

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		same_text(texts[i]);
	same(NULL, "NULL");
	/* keys with a NUL (the parser refuses them; json_object_setn not) */
	cr_assert_eq(json_object_setn_new(o, "a\0", 2, json_integer(1)), 0);
	cr_assert_eq(json_object_setn_new(o, "a", 1, json_integer(2)), 0);
	cr_assert_eq(json_object_setn_new(o, "\0", 1, json_integer(3)), 0);
	cr_assert_eq(json_object_setn_new(o, "a\0b", 3, json_integer(4)), 0);
	cr_assert_eq(json_object_setn_new(o, "", 0, json_integer(5)), 0);
	same(o, "NUL in keys");
	json_decref(o);
}

/* A typical cert.issued event's details and the issuance reply. */
Test(jsonw, ledger_and_reply_shapes)
{
	json_t *d = json_pack("{s:s,s:I,s:s,s:[s,s],s:I,s:I,s:s,s:s,s:b,s:n}",
	    "role", "prod-db", "serial", (json_int_t)1234567, "key_id",
	    "alice@example.com/prod-db/1234567", "principals", "alice",
	    "dbadmin", "valid_after", (json_int_t)1700000000, "valid_before",
	    (json_int_t)1700003600, "fingerprint",
	    "SHA256:2Eowq3XkDOLKOHn3ejKx9DD0T+5jlD6WfGHfKfZiEXc", "reason",
	    "INC-42: rotate \"replica\" \xe2\x80\x94 see /runbook",
	    "break_glass", 0, "host", NULL);

	cr_assert_not_null(d);
	same(d, "cert.issued");
	json_decref(d);
}

/* A value refused here, where json_dumps writes something: for every
 * flag set, ERR_INVALID_ARG and the buffer as it was. */
static void
refused(const json_t *v, const char *what)
{
	size_t k;

	for (k = 0; k < NFLAGS; k++) {
		struct jsonw_buf b;

		jsonw_buf_init(&b, SIZE_MAX);
		cr_assert_eq(jsonw_buf_put(&b, "pre", 3), 0);
		cr_assert_eq(jsonw_append(&b, v, flag_sets[k]), ERR_INVALID_ARG,
		    "%s flags %#zx", what, flag_sets[k]);
		cr_assert_eq(b.len, 3, "%s", what);
		cr_assert_str_eq(b.data, "pre", "%s", what);
		jsonw_buf_free(&b);
		cr_assert_null(jsonw_dumps(v, flag_sets[k]), "%s", what);
	}
}

/* Every byte value at every offset of strings 1..20 long, as a value
 * and as a key: the eight-at-a-time scan has no blind spot.  Bytes
 * 0x80.. alone are not UTF-8: jansson fails the value, and such a key
 * is refused here (see invalid_utf8). */
Test(jsonw, every_byte_everywhere)
{
	char s[20], what[48];
	size_t n, pos;
	json_t *v, *o, *valid;
	int c;

	for (n = 1; n <= sizeof(s); n++) {
		for (pos = 0; pos < n; pos++) {
			for (c = 0; c < 256; c++) {
				memset(s, 'a', sizeof(s));
				s[pos] = (char)c;
				v = json_stringn_nocheck(s, n);
				o = json_object();
				cr_assert_eq(json_object_setn_new_nocheck(
						 o, s, n, json_null()),
				    0);
				(void)snprintf(what, sizeof(what),
				    "len %zu byte %#x at %zu", n, c, pos);
				same(v, what);
				if ((valid = json_stringn(s, n)) != NULL)
					same(o, what);
				else
					refused(o, what);
				json_decref(valid);
				json_decref(v);
				json_decref(o);
			}
		}
	}
}

/* Keys not valid UTF-8: json_dumps writes a broken key ("b\xffad" as a
 * lone quote) and goes on; that is no JSON, so it is refused here.
 * String values not valid UTF-8: json_dumps fails, and so does this. */
Test(jsonw, invalid_utf8)
{
	json_t *o = json_object(), *k = json_object(), *a = json_array();
	char *broken;

	cr_assert_eq(json_object_set_new_nocheck(k, "ok", json_true()), 0);
	cr_assert_eq(json_object_set_new_nocheck(k,
			 "b\xff"
			 "ad",
			 json_true()),
	    0);
	broken = json_dumps(k, JSON_COMPACT);
	cr_assert_str_eq(broken, "{\"ok\":true,\":true}");
	free(broken);
	refused(k, "a bad key");
	cr_assert_eq(json_object_set_new_nocheck(o, "\xc3", json_null()), 0);
	refused(o, "a truncated key");
	cr_assert_eq(
	    json_array_append_new(a, json_string_nocheck("x\xc3(")), 0);
	same(a, "bad value");
	json_decref(o);
	o = json_object();
	cr_assert_eq(json_object_set_new(o, "v",
			 json_string_nocheck("\xed\xa0"
					     "\x80")),
	    0);
	same(o, "surrogate value");
	json_decref(o);
	json_decref(k);
	json_decref(a);
}

/* jansson's allocations fail after alloc_left more. */
static int alloc_left;

static void *
alloc_counted(size_t n)
{
	if (alloc_left <= 0)
		return NULL;
	alloc_left--;
	return malloc(n);
}

/* A key needing escapes, with jansson's memory running out at every
 * allocation in turn: either the exact text or a failure with the
 * buffer as it was, never a key left out. */
Test(jsonw, key_fallback_out_of_memory)
{
	json_t *o = json_pack("{s:i,s:i}", "a\n", 1, "b", 2);
	char *want = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	int i, r, failed = 0;

	cr_assert_str_eq(want, "{\"a\\n\":1,\"b\":2}");
	for (i = 0; i < 16; i++) {
		struct jsonw_buf b;

		jsonw_buf_init(&b, SIZE_MAX);
		cr_assert_eq(jsonw_buf_put(&b, "pre", 3), 0);
		alloc_left = i;
		json_set_alloc_funcs(alloc_counted, free);
		r = jsonw_append(&b, o, JSON_COMPACT | JSON_SORT_KEYS);
		json_set_alloc_funcs(malloc, free);
		if (r == 0)
			cr_assert_str_eq(b.data + 3, want, "after %d", i);
		else {
			cr_assert(r == ERR_ALLOC || r == ERR_INVALID_ARG,
			    "after %d: %d", i, r);
			cr_assert_str_eq(b.data, "pre", "after %d", i);
			failed++;
		}
		jsonw_buf_free(&b);
	}
	cr_assert_gt(failed, 0);
	free(want);
	json_decref(o);
}

/* A value holding itself: json_dumps refuses it, and so does this. */
Test(jsonw, loops)
{
	json_t *a = json_array(), *o = json_object();

	cr_assert_eq(json_array_append(a, o), 0);
	cr_assert_eq(json_object_set(o, "a", a), 0);
	same(a, "array in an object in itself");
	same(o, "object in an array in itself");
	cr_assert_eq(json_object_del(o, "a"), 0);
	/* the same value twice, not nested in itself, is no loop */
	cr_assert_eq(json_array_append(a, o), 0);
	same(a, "siblings");
	json_decref(a);
	json_decref(o);
}

static json_t *
nested(int n)
{
	json_t *v = json_array(), *t;
	int i;

	for (i = 1; i < n; i++) {
		t = (i % 2) ? json_object() : json_array();
		if (json_is_object(t))
			cr_assert_eq(json_object_set_new(t, "k", v), 0);
		else
			cr_assert_eq(json_array_append_new(t, v), 0);
		v = t;
	}
	return v;
}

/* The deepest value written is json_dumps's text under every flag set
 * (sorted keys too), and parses back; one level more is refused. */
Test(jsonw, depth)
{
	json_t *ok = nested(JSONW_DEPTH_MAX),
	       *deep = nested(JSONW_DEPTH_MAX + 1), *back;
	char *got;

	same(ok, "deepest");
	got = jsonw_dumps(ok, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_not_null(got);
	back = json_loads(got, 0, NULL);
	cr_assert_not_null(back);
	cr_assert(json_equal(back, ok));
	free(got);
	json_decref(back);
	refused(deep, "one level too deep");
	json_decref(ok);
	json_decref(deep);
}

Test(jsonw, flags_refused)
{
	static const size_t bad[] = {0, JSON_ENCODE_ANY, JSON_INDENT(2),
	    JSON_COMPACT | JSON_INDENT(1), JSON_COMPACT | JSON_ESCAPE_SLASH,
	    JSON_COMPACT | JSON_EMBED, JSON_COMPACT | JSON_REAL_PRECISION(3),
	    JSON_COMPACT | JSON_PRESERVE_ORDER};
	json_t *v = json_pack("{s:s}", "a", "b");
	struct jsonw_buf b;
	size_t i;

	jsonw_buf_init(&b, SIZE_MAX);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(jsonw_append(&b, v, bad[i]), ERR_INVALID_ARG,
		    "flags %#zx", bad[i]);
		cr_assert_null(jsonw_dumps(v, bad[i]));
	}
	/* not a container without JSON_ENCODE_ANY */
	json_decref(v);
	v = json_integer(1);
	cr_assert_eq(jsonw_append(&b, v, JSON_COMPACT), ERR_INVALID_ARG);
	cr_assert_eq(b.len, 0);
	cr_assert_null(b.data);
	jsonw_buf_free(&b);
	json_decref(v);
}

/* The cap: a dump that fits exactly is written, one byte over is
 * ERR_TOO_LARGE and leaves what was there, on every path (structure,
 * plain string, a leaf jansson writes). */
Test(jsonw, cap)
{
	static const char *const texts[] = {
	    "{\"key\":[1,2,3],\"s\":\"plain\"}",
	    "[\"\\u00e9\\u00e9\\u00e9\",1.5]",
	    "{\"a\\nb\":\"x\"}",
	};
	struct jsonw_buf b;
	size_t i, n, max;
	char *want;
	json_t *v;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		v = json_loads(texts[i], 0, NULL);
		cr_assert_not_null(v);
		want = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
		n = strlen(want);
		for (max = 2; max < n + 2; max++) {
			jsonw_buf_init(&b, max);
			cr_assert_eq(jsonw_buf_put(&b, "[]", 2), 0);
			if (max - 2 >= n) {
				cr_assert_eq(
				    jsonw_append(&b, v,
					JSON_COMPACT | JSON_ENSURE_ASCII),
				    0);
				cr_assert_str_eq(b.data + 2, want);
			} else {
				cr_assert_eq(
				    jsonw_append(&b, v,
					JSON_COMPACT | JSON_ENSURE_ASCII),
				    ERR_TOO_LARGE, "%s max %zu", texts[i], max);
				cr_assert_eq(b.len, 2);
				cr_assert_str_eq(b.data, "[]");
			}
			jsonw_buf_free(&b);
		}
		jsonw_buf_init(&b, 2);
		cr_assert_eq(jsonw_buf_put(&b, "x", 1), 0);
		cr_assert_eq(jsonw_buf_put(&b, "yz", 2), ERR_TOO_LARGE);
		cr_assert_str_eq(b.data, "x");
		jsonw_buf_free(&b);
		free(want);
		json_decref(v);
	}
}

/* A seeded generator (splitmix64): the same values on every run. */
static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Pieces of strings: plain runs, every escape, DEL, UTF-8 of each
 * length, NUL. */
static const char *const pieces[] = {"a", "b", "B", "_", "A1", "ab", "z",
    "hello world", "/", "\"", "\\", "\b", "\f", "\n", "\r", "\t", "\x01",
    "\x1f", "\x7f", "~", " ", "\xc3\xa9", "\xdf\xbf", "\xe2\x82\xac",
    "\xef\xbf\xbf", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "0",
    "9", "{", "}", "[", "]", ":", ","};
#define NPIECES (sizeof(pieces) / sizeof(pieces[0]))

static void
rand_str(char *out, size_t cap, size_t *len)
{
	size_t n = rng() % 6, i, pl;
	const char *p;

	*len = 0;
	for (i = 0; i < n; i++) {
		p = rng() % 16 == 0 ? "" : pieces[rng() % NPIECES];
		pl = *p == '\0' ? 1 : strlen(p); /* "": one NUL byte */
		if (*len + pl >= cap)
			break;
		memcpy(out + *len, p, pl);
		*len += pl;
	}
	out[*len] = '\0';
}

static json_t *
rand_value(int depth)
{
	char s[128];
	size_t n, i, len;
	uint64_t u;
	double d;
	json_t *v;
	int kind = (int)(rng() % (depth < 5 ? 10 : 7));

	switch (kind) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(rng() & 1);
	case 2:
		switch (rng() % 4) {
		case 0:
			return json_integer((json_int_t)(rng() % 21) - 10);
		case 1:
			return json_integer(rng() & 1 ? INT64_MIN : INT64_MAX);
		default:
			return json_integer((json_int_t)rng());
		}
	case 3:
		u = rng();
		memcpy(&d, &u, sizeof(d));
		if (!(d == d) || d - d != 0) /* NaN, inf: json_real refuses */
			d = (double)(int64_t)u / 1e6;
		if (rng() % 3 == 0)
			d = (double)(int)(rng() % 2001 - 1000) / 8;
		return json_real(d);
	case 4:
	case 5:
	case 6:
		rand_str(s, sizeof(s), &len);
		return json_stringn(s, len);
	case 7:
	case 8:
		v = json_object();
		n = rng() % 8;
		if (rng() % 10 == 0)
			n = 40 +
			    rng() % 40; /* more than the stack sort holds */
		for (i = 0; i < n; i++) {
			rand_str(s, sizeof(s), &len);
			if (rng() % 4 == 0)
				len = (size_t)snprintf(s, sizeof(s), "k%u",
				    (unsigned)(rng() % 64));
			cr_assert_eq(json_object_setn_new(
					 v, s, len, rand_value(depth + 1)),
			    0);
		}
		return v;
	default:
		v = json_array();
		n = rng() % 6;
		for (i = 0; i < n; i++)
			cr_assert_eq(
			    json_array_append_new(v, rand_value(depth + 1)), 0);
		return v;
	}
}

Test(jsonw, random_values)
{
	char what[64];
	json_t *v;
	int i;

	rng_state = 20261203;
	for (i = 0; i < 4000; i++) {
		v = rand_value(0);
		cr_assert_not_null(v);
		(void)snprintf(what, sizeof(what), "random value %d", i);
		same(v, what);
		json_decref(v);
	}
}
