/*
 * test_wire.c: unit tests of signer/wire.c: every putter and getter with
 * exact big-endian bytes, the "failed read changes nothing and clears the
 * outputs" rule, the size cap, read-only views, cstrings, RFC 4251 mpints,
 * strict base64 and hex.  Pure in-memory tests; no external programs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "signer/err.h"
#include "signer/wire.h"

/* A read-only view of a literal. */
static struct wire *
view(const void *p, size_t len)
{
	struct wire *w = wire_from(p, len);

	cr_assert_not_null(w);
	return w;
}

static void
assert_bytes(const struct wire *w, const void *exp, size_t len)
{
	cr_assert_eq(
	    wire_len(w), len, "len %zu, expected %zu", wire_len(w), len);
	cr_assert_eq(memcmp(wire_ptr(w), exp, len), 0, "bytes differ");
}

/* Snapshot of a buffer's unread state, to prove a failed read left it. */
struct snap {
	size_t len;
	uint8_t b[4096];
};

static void
snap_take(struct snap *s, const struct wire *w)
{
	s->len = wire_len(w);
	cr_assert(s->len <= sizeof(s->b));
	memcpy(s->b, wire_ptr(w), s->len);
}

static void
snap_same(const struct snap *s, const struct wire *w)
{
	cr_assert_eq(wire_len(w), s->len, "read offset moved");
	cr_assert_eq(memcmp(wire_ptr(w), s->b, s->len), 0, "bytes changed");
}

Test(wire, new_caps)
{
	struct wire *w;

	cr_assert_null(wire_new(0));
	cr_assert_null(wire_new(WIRE_SIZE_MAX + 1));
	w = wire_new(WIRE_SIZE_MAX);
	cr_assert_not_null(w);
	cr_assert_eq(wire_max(w), WIRE_SIZE_MAX);
	cr_assert_eq(wire_len(w), 0);
	wire_free(w);
	wire_free(NULL);
	cr_assert_eq(wire_len(NULL), 0);
	cr_assert_eq(wire_max(NULL), 0);
	cr_assert_null(wire_from(NULL, 1));
	w = wire_from(NULL, 0);
	cr_assert_not_null(w);
	cr_assert_eq(wire_len(w), 0);
	wire_free(w);
}

Test(wire, put_integers_big_endian)
{
	static const uint8_t exp[] = {0xab, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00,
	    0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x01, 0x23, 0x45, 0x67, 0x89,
	    0xab, 0xcd, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct wire *w = wire_new(1024);
	uint64_t v64 = 1;
	uint32_t v32 = 1;
	uint8_t v8 = 1;

	cr_assert_not_null(w);
	cr_assert_eq(wire_put_u8(w, 0xab), 0);
	cr_assert_eq(wire_put_u32(w, 0x01020304), 0);
	cr_assert_eq(wire_put_u32(w, 0), 0);
	cr_assert_eq(wire_put_u32(w, UINT32_MAX), 0);
	cr_assert_eq(wire_put_u64(w, 0x0123456789abcdefULL), 0);
	cr_assert_eq(wire_put_u64(w, 0), 0);
	cr_assert_eq(wire_put_u64(w, UINT64_MAX), 0);
	assert_bytes(w, exp, sizeof(exp));

	cr_assert_eq(wire_get_u8(w, &v8), 0);
	cr_assert_eq(v8, 0xab);
	cr_assert_eq(wire_peek_u32(w, &v32), 0);
	cr_assert_eq(v32, 0x01020304);
	cr_assert_eq(wire_len(w), sizeof(exp) - 1, "peek consumed");
	cr_assert_eq(wire_get_u32(w, &v32), 0);
	cr_assert_eq(v32, 0x01020304);
	cr_assert_eq(wire_get_u32(w, &v32), 0);
	cr_assert_eq(v32, 0);
	cr_assert_eq(wire_get_u32(w, &v32), 0);
	cr_assert_eq(v32, UINT32_MAX);
	cr_assert_eq(wire_get_u64(w, &v64), 0);
	cr_assert_eq(v64, 0x0123456789abcdefULL);
	cr_assert_eq(wire_get_u64(w, &v64), 0);
	cr_assert_eq(v64, 0);
	cr_assert_eq(wire_get_u64(w, &v64), 0);
	cr_assert_eq(v64, UINT64_MAX);
	cr_assert_eq(wire_len(w), 0);
	/* NULL outputs skip. */
	cr_assert_eq(wire_put_u8(w, 7), 0);
	cr_assert_eq(wire_get_u8(w, NULL), 0);
	wire_free(w);
}

Test(wire, get_integers_from_view)
{
	static const uint8_t in[] = {0x80, 0x00, 0x00, 0x01, 0xfe, 0xdc, 0xba,
	    0x98, 0x76, 0x54, 0x32, 0x10};
	struct wire *w = view(in, sizeof(in));
	uint32_t v32;
	uint64_t v64;

	cr_assert_eq(wire_get_u32(w, &v32), 0);
	cr_assert_eq(v32, 0x80000001u);
	cr_assert_eq(wire_get_u64(w, &v64), 0);
	cr_assert_eq(v64, 0xfedcba9876543210ULL);
	wire_free(w);
}

Test(wire, put_strings)
{
	static const uint8_t exp[] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 0,
	    0, 0, 2, 'h', 'i', 0, 0, 0, 2, 'x', 'y', 0, 0, 0, 3, 'a', 0, 'b'};
	struct wire *w = wire_new(1024), *v = wire_new(16);

	cr_assert_not_null(w);
	cr_assert_not_null(v);
	cr_assert_eq(wire_put_string(w, "abc", 3), 0);
	cr_assert_eq(wire_put_string(w, NULL, 0), 0);
	cr_assert_eq(wire_put_cstring(w, "hi"), 0);
	cr_assert_eq(wire_put(v, "xy", 2), 0);
	cr_assert_eq(wire_put_stringb(w, v), 0);
	cr_assert_eq(wire_put_string(w, "a\0b", 3), 0);
	assert_bytes(w, exp, sizeof(exp));
	cr_assert_eq(wire_put_string(w, NULL, 1), ERR_INVALID_ARG);
	cr_assert_eq(wire_put_cstring(w, NULL), ERR_INVALID_ARG);
	cr_assert_eq(wire_put_stringb(w, NULL), ERR_INVALID_ARG);
	cr_assert_eq(wire_put(w, NULL, 1), ERR_INVALID_ARG);
	assert_bytes(w, exp, sizeof(exp));
	wire_free(w);
	wire_free(v);
}

Test(wire, get_strings)
{
	static const uint8_t in[] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 0,
	    0, 0, 2, 'h', 'i', 0, 0, 0, 2, 'x', 'y', 0, 0, 0, 1, 'z'};
	struct wire *w = view(in, sizeof(in)), *sub = NULL;
	const uint8_t *p;
	const char *cs;
	uint8_t *s = NULL;
	char *c = NULL;
	size_t len;

	cr_assert_eq(wire_peek_string_direct(w, &p, &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_eq(p, in + 4);
	cr_assert_eq(wire_len(w), sizeof(in));
	cr_assert_eq(wire_get_string_direct(w, &p, &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(p, "abc", 3), 0);
	cr_assert_eq(wire_get_string(w, &s, &len), 0);
	cr_assert_eq(len, 0);
	cr_assert_not_null(s);
	cr_assert_eq(s[0], 0, "extra NUL");
	free(s);
	cr_assert_eq(wire_get_cstring(w, &c, &len), 0);
	cr_assert_str_eq(c, "hi");
	cr_assert_eq(len, 2);
	free(c);
	cr_assert_eq(wire_get_wire(w, &sub), 0);
	assert_bytes(sub, "xy", 2);
	/* A sub-view is read-only. */
	cr_assert_eq(wire_put_u8(sub, 1), ERR_BUF_READ_ONLY);
	wire_free(sub);
	cr_assert_eq(wire_get_cstring_direct(w, &cs, &len), 0);
	cr_assert_eq(len, 1);
	cr_assert_eq(cs[0], 'z');
	cr_assert_eq(wire_len(w), 0);
	wire_free(w);
}

Test(wire, string_skip_with_null_output)
{
	static const uint8_t in[] = {0, 0, 0, 2, 'a', 'b', 9};
	struct wire *w = view(in, sizeof(in));
	size_t len = 99;

	cr_assert_eq(wire_get_string_direct(w, NULL, &len), 0);
	cr_assert_eq(len, 2);
	assert_bytes(w, "\x09", 1);
	wire_free(w);
}

Test(wire, cstring_embedded_nul)
{
	static const uint8_t in[] = {0, 0, 0, 3, 'a', 0, 'b'};
	struct wire *w = view(in, sizeof(in));
	const char *cs = "x";
	char *c = (char *)1;
	uint8_t *s = NULL;
	size_t len = 5;

	cr_assert_eq(wire_get_cstring(w, &c, &len), ERR_STRING_NUL);
	cr_assert_null(c);
	cr_assert_eq(len, 0);
	cr_assert_eq(wire_len(w), sizeof(in));
	cr_assert_eq(wire_get_cstring_direct(w, &cs, &len), ERR_STRING_NUL);
	cr_assert_null(cs);
	cr_assert_eq(len, 0);
	cr_assert_eq(wire_len(w), sizeof(in));
	/* A plain string may hold a NUL. */
	cr_assert_eq(wire_get_string(w, &s, &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(s, "a\0b", 3), 0);
	free(s);
	wire_free(w);
}

Test(wire, cstring_nul_at_ends)
{
	static const uint8_t a[] = {0, 0, 0, 2, 0, 'b'};
	static const uint8_t b[] = {0, 0, 0, 2, 'b', 0};
	struct wire *w;
	char *c;

	w = view(a, sizeof(a));
	cr_assert_eq(wire_get_cstring(w, &c, NULL), ERR_STRING_NUL);
	wire_free(w);
	w = view(b, sizeof(b));
	cr_assert_eq(wire_get_cstring(w, &c, NULL), ERR_STRING_NUL);
	wire_free(w);
}

/* Every getter, failing on short input, leaves the buffer unchanged and
 * its outputs cleared. */
Test(wire, failed_reads_change_nothing)
{
	static const uint8_t in[] = {0, 0, 0, 9, 'a', 'b', 'c'};
	struct wire *w;
	struct snap sn;
	const uint8_t *p;
	const char *cs;
	uint8_t *s, v8, buf[16];
	char *c;
	uint32_t v32;
	uint64_t v64;
	size_t len;
	struct wire *sub;
	size_t n;

	for (n = 0; n <= sizeof(in); n++) {
		w = view(in, n);
		snap_take(&sn, w);

		v8 = 7;
		if (n < 1) {
			cr_assert_eq(wire_get_u8(w, &v8), ERR_BUF_SHORT);
			cr_assert_eq(v8, 0);
			snap_same(&sn, w);
		}
		if (n < 4) {
			v32 = 7;
			cr_assert_eq(wire_get_u32(w, &v32), ERR_BUF_SHORT);
			cr_assert_eq(v32, 0);
			snap_same(&sn, w);
			v32 = 7;
			cr_assert_eq(wire_peek_u32(w, &v32), ERR_BUF_SHORT);
			cr_assert_eq(v32, 0);
			snap_same(&sn, w);
		}
		v64 = 7;
		cr_assert_eq(wire_get_u64(w, &v64), ERR_BUF_SHORT);
		cr_assert_eq(v64, 0);
		snap_same(&sn, w);

		/* The string says 9 bytes; at most 3 follow. */
		p = in;
		len = 7;
		cr_assert_eq(
		    wire_get_string_direct(w, &p, &len), ERR_BUF_SHORT);
		cr_assert_null(p);
		cr_assert_eq(len, 0);
		snap_same(&sn, w);
		p = in;
		len = 7;
		cr_assert_eq(
		    wire_peek_string_direct(w, &p, &len), ERR_BUF_SHORT);
		cr_assert_null(p);
		cr_assert_eq(len, 0);
		s = buf;
		len = 7;
		cr_assert_eq(wire_get_string(w, &s, &len), ERR_BUF_SHORT);
		cr_assert_null(s);
		cr_assert_eq(len, 0);
		snap_same(&sn, w);
		c = (char *)buf;
		len = 7;
		cr_assert_eq(wire_get_cstring(w, &c, &len), ERR_BUF_SHORT);
		cr_assert_null(c);
		cr_assert_eq(len, 0);
		snap_same(&sn, w);
		cs = "x";
		len = 7;
		cr_assert_eq(
		    wire_get_cstring_direct(w, &cs, &len), ERR_BUF_SHORT);
		cr_assert_null(cs);
		cr_assert_eq(len, 0);
		snap_same(&sn, w);
		sub = (struct wire *)buf;
		cr_assert_eq(wire_get_wire(w, &sub), ERR_BUF_SHORT);
		cr_assert_null(sub);
		snap_same(&sn, w);
		p = in;
		len = 7;
		cr_assert_eq(wire_get_mpint_direct(w, &p, &len), ERR_BUF_SHORT);
		cr_assert_null(p);
		cr_assert_eq(len, 0);
		snap_same(&sn, w);
		cr_assert_eq(wire_get(w, buf, n + 1), ERR_BUF_SHORT);
		snap_same(&sn, w);
		cr_assert_eq(wire_consume(w, n + 1), ERR_BUF_SHORT);
		snap_same(&sn, w);
		wire_free(w);
	}
}

Test(wire, get_and_consume)
{
	struct wire *w = view("abcdef", 6);
	uint8_t b[4] = {0};

	cr_assert_eq(wire_get(w, b, 2), 0);
	cr_assert_eq(memcmp(b, "ab", 2), 0);
	cr_assert_eq(wire_consume(w, 1), 0);
	assert_bytes(w, "def", 3);
	cr_assert_eq(wire_get(w, NULL, 1), ERR_INVALID_ARG);
	cr_assert_eq(wire_get(w, b, 0), 0);
	cr_assert_eq(wire_consume(w, 3), 0);
	cr_assert_eq(wire_len(w), 0);
	cr_assert_eq(wire_consume(w, 1), ERR_BUF_SHORT);
	cr_assert_eq(wire_consume(NULL, 0), ERR_INVALID_ARG);
	wire_free(w);
}

Test(wire, null_buffer_refused)
{
	uint32_t v32 = 5;
	uint8_t *s = (uint8_t *)1;
	size_t len = 5;

	cr_assert_eq(wire_get_u32(NULL, &v32), ERR_INVALID_ARG);
	cr_assert_eq(v32, 0);
	cr_assert_eq(wire_get_string(NULL, &s, &len), ERR_INVALID_ARG);
	cr_assert_null(s);
	cr_assert_eq(wire_put_u8(NULL, 1), ERR_INVALID_ARG);
	cr_assert_eq(wire_dup(NULL, &s, &len), ERR_INVALID_ARG);
}

Test(wire, size_cap)
{
	struct wire *w = wire_new(10);
	struct snap sn;
	uint8_t *dst = (uint8_t *)1;

	cr_assert_not_null(w);
	cr_assert_eq(wire_put_u64(w, 1), 0);
	snap_take(&sn, w);
	cr_assert_eq(wire_put_u32(w, 1), ERR_BUF_FULL);
	snap_same(&sn, w);
	cr_assert_eq(wire_put_string(w, "", 0), ERR_BUF_FULL);
	cr_assert_eq(
	    wire_put_mpint(w, (const uint8_t *)"\x01", 1), ERR_BUF_FULL);
	cr_assert_eq(wire_reserve(w, 3, &dst), ERR_BUF_FULL);
	cr_assert_null(dst);
	cr_assert_eq(wire_reserve(w, SIZE_MAX, &dst), ERR_BUF_FULL);
	snap_same(&sn, w);
	cr_assert_eq(wire_put_u8(w, 1), 0);
	cr_assert_eq(wire_put_u8(w, 2), 0);
	cr_assert_eq(wire_len(w), 10);
	cr_assert_eq(wire_put_u8(w, 3), ERR_BUF_FULL);
	/* Reading does not make room: the cap counts what was written. */
	cr_assert_eq(wire_consume(w, 10), 0);
	cr_assert_eq(wire_put_u8(w, 3), ERR_BUF_FULL);
	wire_free(w);
}

Test(wire, growth_keeps_content)
{
	struct wire *w = wire_new(100000);
	uint8_t chunk[97];
	size_t i, j;

	cr_assert_not_null(w);
	for (i = 0; i < 1000; i++) {
		for (j = 0; j < sizeof(chunk); j++)
			chunk[j] = (uint8_t)(i * 31 + j);
		cr_assert_eq(wire_put(w, chunk, sizeof(chunk)), 0);
	}
	cr_assert_eq(wire_len(w), 97000);
	for (i = 0; i < 1000; i++) {
		for (j = 0; j < sizeof(chunk); j++)
			cr_assert_eq(
			    wire_ptr(w)[i * 97 + j], (uint8_t)(i * 31 + j));
	}
	cr_assert_eq(wire_put(w, chunk, 3001), ERR_BUF_FULL);
	wire_free(w);
}

Test(wire, reserve)
{
	struct wire *w = wire_new(64);
	uint8_t *dst = NULL;

	cr_assert_not_null(w);
	cr_assert_eq(wire_put_u8(w, 0x11), 0);
	cr_assert_eq(wire_reserve(w, 3, &dst), 0);
	cr_assert_not_null(dst);
	memcpy(dst, "\x22\x33\x44", 3);
	assert_bytes(w, "\x11\x22\x33\x44", 4);
	wire_free(w);
}

Test(wire, read_only_views_refuse_writes)
{
	static const uint8_t in[] = {1, 2, 3, 4};
	struct wire *w = view(in, sizeof(in)), *o = wire_new(8);
	uint8_t *dst = (uint8_t *)1;

	cr_assert_not_null(o);
	cr_assert_eq(wire_put(w, "a", 1), ERR_BUF_READ_ONLY);
	cr_assert_eq(wire_put(w, NULL, 0), ERR_BUF_READ_ONLY);
	cr_assert_eq(wire_put_u8(w, 1), ERR_BUF_READ_ONLY);
	cr_assert_eq(wire_put_u32(w, 1), ERR_BUF_READ_ONLY);
	cr_assert_eq(wire_put_u64(w, 1), ERR_BUF_READ_ONLY);
	cr_assert_eq(wire_put_string(w, "a", 1), ERR_BUF_READ_ONLY);
	cr_assert_eq(wire_put_cstring(w, "a"), ERR_BUF_READ_ONLY);
	cr_assert_eq(wire_put_stringb(w, o), ERR_BUF_READ_ONLY);
	cr_assert_eq(wire_put_mpint(w, in, 2), ERR_BUF_READ_ONLY);
	cr_assert_eq(wire_reserve(w, 1, &dst), ERR_BUF_READ_ONLY);
	cr_assert_null(dst);
	assert_bytes(w, in, sizeof(in));
	wire_free(w);
	wire_free(o);
}

Test(wire, dup_copies_unread)
{
	struct wire *w = view("hello", 5);
	uint8_t *d = NULL;
	size_t len = 0;

	cr_assert_eq(wire_consume(w, 2), 0);
	cr_assert_eq(wire_dup(w, &d, &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(d, "llo", 4), 0, "copy with NUL");
	free(d);
	wire_free(w);
}

Test(wire, reset)
{
	struct wire *w = wire_new(32), *v;
	uint32_t x;

	cr_assert_not_null(w);
	cr_assert_eq(wire_put_u32(w, 0xdeadbeef), 0);
	cr_assert_eq(wire_consume(w, 1), 0);
	wire_reset(w);
	cr_assert_eq(wire_len(w), 0);
	cr_assert_eq(wire_max(w), 32);
	cr_assert_eq(wire_get_u8(w, NULL), ERR_BUF_SHORT);
	/* Usable again, up to the same cap. */
	cr_assert_eq(wire_put_u32(w, 0x01020304), 0);
	assert_bytes(w, "\x01\x02\x03\x04", 4);
	cr_assert_eq(wire_reserve(w, 28, NULL), 0);
	cr_assert_eq(wire_put_u8(w, 0), ERR_BUF_FULL);
	wire_free(w);
	wire_reset(NULL);

	/* A view rewinds. */
	v = view("\x00\x00\x00\x05", 4);
	cr_assert_eq(wire_get_u32(v, &x), 0);
	cr_assert_eq(wire_len(v), 0);
	wire_reset(v);
	cr_assert_eq(wire_len(v), 4);
	cr_assert_eq(wire_get_u32(v, &x), 0);
	cr_assert_eq(x, 5);
	wire_free(v);
}

/*
 * wire_reset() wipes: white-box, since reset keeps the allocation, the
 * old bytes can still be read through a pointer taken before (freed
 * memory cannot be inspected, so wire_free()'s wipe is not observed).
 */
Test(wire, reset_wipes_content)
{
	static const uint8_t secret[] = {0x5e, 0xc2, 0xe7, 0x99, 0x42, 0x17};
	struct wire *w = wire_new(64);
	const uint8_t *p;
	size_t i;

	cr_assert_not_null(w);
	cr_assert_eq(wire_put(w, secret, sizeof(secret)), 0);
	p = wire_ptr(w);
	cr_assert_eq(memcmp(p, secret, sizeof(secret)), 0);
	wire_reset(w);
	for (i = 0; i < sizeof(secret); i++)
		cr_assert_eq(p[i], 0, "byte %zu not wiped", i);
	cr_assert_eq(wire_put_u8(w, 1), 0);
	cr_assert_eq(wire_ptr(w), p, "storage kept across reset");
	wire_free(w);
}

/* mpints ---------------------------------------------------------------- */

static void
assert_put_mpint(const void *mag, size_t len, const void *exp, size_t elen)
{
	struct wire *w = wire_new(8192);

	cr_assert_not_null(w);
	cr_assert_eq(wire_put_mpint(w, mag, len), 0);
	assert_bytes(w, exp, elen);
	wire_free(w);
}

Test(wire, mpint_put)
{
	assert_put_mpint(NULL, 0, "\0\0\0\0", 4);
	assert_put_mpint("\0\0", 2, "\0\0\0\0", 4);
	assert_put_mpint("\x7f", 1, "\0\0\0\x01\x7f", 5);
	assert_put_mpint("\x80", 1, "\0\0\0\x02\0\x80", 6);
	assert_put_mpint("\0\0\x80\x01", 4, "\0\0\0\x03\0\x80\x01", 7);
	assert_put_mpint("\0\x01\x00", 3, "\0\0\0\x02\x01\x00", 6);
	/* RFC 4251 section 5 examples. */
	assert_put_mpint("\x09\xa3\x78\xf9\xb2\xe3\x32\xa7", 8,
	    "\0\0\0\x08\x09\xa3\x78\xf9\xb2\xe3\x32\xa7", 12);
}

Test(wire, mpint_put_max)
{
	uint8_t mag[WIRE_MPINT_MAX_BYTES + 1];
	struct wire *w = wire_new(8192);
	uint32_t n;

	cr_assert_not_null(w);
	memset(mag, 0xff, sizeof(mag));
	cr_assert_eq(wire_put_mpint(w, mag, WIRE_MPINT_MAX_BYTES), 0);
	cr_assert_eq(wire_get_u32(w, &n), 0);
	cr_assert_eq(n, WIRE_MPINT_MAX_BYTES + 1);
	cr_assert_eq(wire_ptr(w)[0], 0);
	wire_reset(w);
	cr_assert_eq(wire_put_mpint(w, mag, sizeof(mag)), ERR_MPINT_TOO_LARGE);
	cr_assert_eq(wire_len(w), 0);
	/* Leading zeros do not count towards the limit. */
	mag[0] = 0;
	cr_assert_eq(wire_put_mpint(w, mag, sizeof(mag)), 0);
	cr_assert_eq(wire_put_mpint(w, NULL, 1), ERR_INVALID_ARG);
	wire_free(w);
}

static int
get_mpint(const void *in, size_t len, const uint8_t **mag, size_t *mlen,
    struct snap *sn)
{
	struct wire *w = view(in, len);
	int r;

	snap_take(sn, w);
	r = wire_get_mpint_direct(w, mag, mlen);
	if (r != 0)
		snap_same(sn, w);
	else
		cr_assert_eq(wire_len(w), 0);
	wire_free(w);
	return r;
}

Test(wire, mpint_get)
{
	static const uint8_t zero[] = {0, 0, 0, 0};
	static const uint8_t pos[] = {0, 0, 0, 2, 0x00, 0x80};
	static const uint8_t small[] = {0, 0, 0, 1, 0x7f};
	static const uint8_t neg[] = {0, 0, 0, 1, 0x80};
	static const uint8_t neg2[] = {0, 0, 0, 2, 0xff, 0x01};
	static const uint8_t pad0[] = {0, 0, 0, 1, 0x00};
	static const uint8_t pad1[] = {0, 0, 0, 2, 0x00, 0x7f};
	static const uint8_t pad2[] = {0, 0, 0, 3, 0x00, 0x00, 0x80};
	static const uint8_t shortm[] = {0, 0, 0, 3, 0x01, 0x02};
	struct snap sn;
	const uint8_t *mag = (const uint8_t *)"x";
	size_t len = 9;

	cr_assert_eq(get_mpint(zero, sizeof(zero), &mag, &len, &sn), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(get_mpint(pos, sizeof(pos), &mag, &len, &sn), 0);
	cr_assert_eq(len, 1);
	cr_assert_eq(mag[0], 0x80);
	cr_assert_eq(get_mpint(small, sizeof(small), &mag, &len, &sn), 0);
	cr_assert_eq(len, 1);
	cr_assert_eq(mag[0], 0x7f);

	cr_assert_eq(
	    get_mpint(neg, sizeof(neg), &mag, &len, &sn), ERR_MPINT_NEGATIVE);
	cr_assert_null(mag);
	cr_assert_eq(len, 0);
	cr_assert_eq(
	    get_mpint(neg2, sizeof(neg2), &mag, &len, &sn), ERR_MPINT_NEGATIVE);
	cr_assert_eq(
	    get_mpint(pad0, sizeof(pad0), &mag, &len, &sn), ERR_MPINT_PADDING);
	cr_assert_eq(
	    get_mpint(pad1, sizeof(pad1), &mag, &len, &sn), ERR_MPINT_PADDING);
	cr_assert_eq(
	    get_mpint(pad2, sizeof(pad2), &mag, &len, &sn), ERR_MPINT_PADDING);
	cr_assert_eq(
	    get_mpint(shortm, sizeof(shortm), &mag, &len, &sn), ERR_BUF_SHORT);
}

Test(wire, mpint_get_limits)
{
	static uint8_t in[4 + WIRE_MPINT_MAX_BYTES + 2];
	const uint8_t *mag;
	struct snap sn;
	size_t len, n;

	/* 2048 bytes with the top bit set: 2049 on the wire, accepted. */
	n = WIRE_MPINT_MAX_BYTES + 1;
	in[0] = 0;
	in[1] = 0;
	in[2] = (uint8_t)(n >> 8);
	in[3] = (uint8_t)n;
	in[4] = 0;
	memset(in + 5, 0xa5, WIRE_MPINT_MAX_BYTES);
	cr_assert_eq(get_mpint(in, 4 + n, &mag, &len, &sn), 0);
	cr_assert_eq(len, WIRE_MPINT_MAX_BYTES);
	cr_assert_eq(mag, in + 5);
	/* 2048 bytes, top bit clear. */
	n = WIRE_MPINT_MAX_BYTES;
	in[2] = (uint8_t)(n >> 8);
	in[3] = (uint8_t)n;
	in[4] = 0x7f;
	cr_assert_eq(get_mpint(in, 4 + n, &mag, &len, &sn), 0);
	cr_assert_eq(len, WIRE_MPINT_MAX_BYTES);
	/* 2049 significant bytes: one bit over 16384 bits. */
	n = WIRE_MPINT_MAX_BYTES + 1;
	in[2] = (uint8_t)(n >> 8);
	in[3] = (uint8_t)n;
	in[4] = 0x01;
	cr_assert_eq(
	    get_mpint(in, 4 + n, &mag, &len, &sn), ERR_MPINT_TOO_LARGE);
	/* 2049 significant bytes with a sign pad: 2050 on the wire. */
	n = WIRE_MPINT_MAX_BYTES + 2;
	in[2] = (uint8_t)(n >> 8);
	in[3] = (uint8_t)n;
	in[4] = 0x00;
	in[5] = 0x80;
	cr_assert_eq(
	    get_mpint(in, 4 + n, &mag, &len, &sn), ERR_MPINT_TOO_LARGE);
}

Test(wire, mpint_round_trip)
{
	uint8_t mag[64];
	const uint8_t *got;
	struct wire *w;
	size_t len, i, n;

	for (n = 1; n <= sizeof(mag); n++) {
		for (i = 0; i < n; i++)
			mag[i] = (uint8_t)(0x80 + 37 * i + n);
		w = wire_new(256);
		cr_assert_not_null(w);
		cr_assert_eq(wire_put_mpint(w, mag, n), 0);
		cr_assert_eq(wire_get_mpint_direct(w, &got, &len), 0);
		cr_assert_eq(len, n);
		cr_assert_eq(memcmp(got, mag, n), 0);
		cr_assert_eq(wire_len(w), 0);
		wire_free(w);
	}
}

/* base64 ---------------------------------------------------------------- */

static void
assert_b64(const char *plain, const char *enc, const char *nopad)
{
	char *s = NULL;
	uint8_t *d = NULL;
	size_t dlen = 0;

	cr_assert_eq(
	    wire_b64_encode(&s, (const uint8_t *)plain, strlen(plain)), 0);
	cr_assert_str_eq(s, enc);
	free(s);
	cr_assert_eq(
	    wire_b64_encode_nopad(&s, (const uint8_t *)plain, strlen(plain), 0),
	    0);
	cr_assert_str_eq(s, nopad);
	free(s);
	cr_assert_eq(wire_b64_decode(&d, &dlen, enc, strlen(enc)), 0);
	cr_assert_eq(dlen, strlen(plain));
	cr_assert_eq(memcmp(d, plain, dlen), 0);
	free(d);
}

Test(wire, b64_rfc4648_vectors)
{
	assert_b64("", "", "");
	assert_b64("f", "Zg==", "Zg");
	assert_b64("fo", "Zm8=", "Zm8");
	assert_b64("foo", "Zm9v", "Zm9v");
	assert_b64("foob", "Zm9vYg==", "Zm9vYg");
	assert_b64("fooba", "Zm9vYmE=", "Zm9vYmE");
	assert_b64("foobar", "Zm9vYmFy", "Zm9vYmFy");
}

Test(wire, b64_url_variant)
{
	static const uint8_t in[] = {0xfb, 0xff, 0xbf};
	char *s = NULL;

	cr_assert_eq(wire_b64_encode_nopad(&s, in, sizeof(in), 1), 0);
	cr_assert_str_eq(s, "-_-_");
	free(s);
	cr_assert_eq(wire_b64_encode_nopad(&s, in, sizeof(in), 0), 0);
	cr_assert_str_eq(s, "+/+/");
	free(s);
	cr_assert_eq(wire_b64_encode_nopad(&s, in, 1, 1), 0);
	cr_assert_str_eq(s, "-w");
	free(s);
}

Test(wire, b64_round_trips)
{
	uint8_t in[300], *d;
	char *s;
	size_t n, i, dlen;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 151 + 7);
	for (n = 0; n <= sizeof(in); n++) {
		cr_assert_eq(wire_b64_encode(&s, in, n), 0);
		cr_assert_eq(strlen(s), (n + 2) / 3 * 4);
		cr_assert_eq(wire_b64_decode(&d, &dlen, s, strlen(s)), 0);
		cr_assert_eq(dlen, n);
		cr_assert_eq(memcmp(d, in, n), 0);
		free(s);
		free(d);
	}
}

static void
assert_b64_bad(const char *s, size_t len)
{
	uint8_t *d = (uint8_t *)1;
	size_t dlen = 5;

	cr_assert_eq(wire_b64_decode(&d, &dlen, s, len), ERR_BAD_BASE64,
	    "accepted \"%.*s\"", (int)len, s);
	cr_assert_null(d);
	cr_assert_eq(dlen, 0);
}

#define BAD(s) assert_b64_bad(s, sizeof(s) - 1)

Test(wire, b64_bad_characters)
{
	BAD("Zm9-");
	BAD("Zm9_");
	BAD("Zm9*");
	BAD("Zm.v");
	BAD("Zm9\x80");
	BAD("Zm9\xff");
	BAD("Zm\x00v");
	BAD("Zm9vYmF\x01");
}

Test(wire, b64_bad_padding)
{
	BAD("Z");
	BAD("Zg");
	BAD("Zg=");
	BAD("Zm9");
	BAD("Zg===");
	BAD("Z===");
	BAD("====");
	BAD("=AAA");
	BAD("AA=A");
	BAD("A=AA");
	BAD("Zg==Zg==");
	BAD("Zm8=Zm9v");
	BAD("Zm9v=");
	BAD("Zm9v====");
}

Test(wire, b64_nonzero_pad_bits)
{
	/* "Zg==" is "f"; 'h' carries bits past the byte. */
	BAD("Zh==");
	BAD("Zv==");
	/* "Zm8=" is "fo"; '9' has its low bits set. */
	BAD("Zm9=");
	BAD("Zm/=");
}

Test(wire, b64_whitespace_refused)
{
	BAD("Zm9v\n");
	BAD(" Zm9v");
	BAD("Zm9v ");
	BAD("Zm 9v");
	BAD("Zm9v\r\n");
	BAD("Zm9v\tZm9v");
	BAD("Zm9vYmFy\n");
}

Test(wire, b64_null_args)
{
	uint8_t *d = NULL;
	size_t dlen;
	char *s = NULL;

	cr_assert_eq(wire_b64_decode(NULL, &dlen, "", 0), ERR_INVALID_ARG);
	cr_assert_eq(wire_b64_decode(&d, NULL, "", 0), ERR_INVALID_ARG);
	cr_assert_eq(wire_b64_decode(&d, &dlen, NULL, 4), ERR_INVALID_ARG);
	cr_assert_eq(
	    wire_b64_encode(NULL, (const uint8_t *)"", 0), ERR_INVALID_ARG);
	cr_assert_eq(wire_b64_encode(&s, NULL, 1), ERR_INVALID_ARG);
	cr_assert_null(s);
}

Test(wire, b64_value_alphabets)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
				  "rstuvwxyz0123456789+/";
	static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
				  "rstuvwxyz0123456789-_";
	int i;

	for (i = 0; i < 64; i++) {
		cr_assert_eq(wire_b64_value(std[i], 0), i);
		cr_assert_eq(wire_b64_value(url[i], 1), i);
	}
	cr_assert_eq(wire_b64_value('-', 0), -1);
	cr_assert_eq(wire_b64_value('_', 0), -1);
	cr_assert_eq(wire_b64_value('+', 1), -1);
	cr_assert_eq(wire_b64_value('/', 1), -1);
	cr_assert_eq(wire_b64_value('=', 0), -1);
	cr_assert_eq(wire_b64_value('\0', 1), -1);
	cr_assert_eq(wire_b64_value((char)0xc3, 0), -1);
}

Test(wire, hex_encode)
{
	static const uint8_t in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof(in) + 2];

	memset(out, 'x', sizeof(out));
	wire_hex_encode(out, in, sizeof(in));
	cr_assert_str_eq(out, "00017f80abff");
	cr_assert_eq(out[sizeof(out) - 1], 'x'); /* nothing past the NUL */
	wire_hex_encode(out, in, 0);
	cr_assert_str_eq(out, "");
}

Test(wire, poke_u32_back_patches)
{
	static const uint8_t want[] = {
	    0x07, 0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb};
	struct wire *w = wire_new(64), *v;
	uint32_t x;

	cr_assert_not_null(w);
	cr_assert_eq(wire_put_u8(w, 7), 0);
	cr_assert_eq(wire_put_u32(w, 0), 0);
	cr_assert_eq(wire_put_u8(w, 0xaa), 0);
	cr_assert_eq(wire_put_u8(w, 0xbb), 0);
	cr_assert_eq(wire_poke_u32(w, 1, 2), 0);
	cr_assert_eq(wire_len(w), sizeof(want));
	cr_assert_eq(memcmp(wire_ptr(w), want, sizeof(want)), 0);
	/* Past the end, or partly past it: nothing changes. */
	cr_assert_eq(wire_poke_u32(w, 4, 9), ERR_BUF_SHORT);
	cr_assert_eq(wire_poke_u32(w, (size_t)-1, 9), ERR_BUF_SHORT);
	cr_assert_eq(memcmp(wire_ptr(w), want, sizeof(want)), 0);
	/* Offsets count from the first unread byte. */
	cr_assert_eq(wire_get_u8(w, NULL), 0);
	cr_assert_eq(wire_poke_u32(w, 0, 0x01020304), 0);
	cr_assert_eq(wire_get_u32(w, &x), 0);
	cr_assert_eq(x, 0x01020304);
	v = view(want, sizeof(want));
	cr_assert_eq(wire_poke_u32(v, 0, 1), ERR_BUF_READ_ONLY);
	cr_assert_eq(wire_poke_u32(NULL, 0, 1), ERR_INVALID_ARG);
	wire_free(v);
	wire_free(w);
}
