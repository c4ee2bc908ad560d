/*
 * wire.c: the SSH wire buffer of wire.h, strict base64 and hex.
 *
 * Storage is one malloc'd block [d, d + size) with a read offset off:
 * unread bytes are d[off .. size).  Owned buffers grow by doubling up to
 * their cap; growth copies into a fresh block and wipes the old one, so
 * secrets never linger in freed memory.  Views point at borrowed memory
 * and refuse writes.  Nothing here knows about keys or certificates.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "signer/wire.h"

struct wire {
	uint8_t *d;
	size_t off; /* read offset */
	size_t size; /* bytes in use */
	size_t alloc; /* bytes allocated (owned buffers) */
	size_t max; /* cap */
	int readonly;
};

struct wire *
wire_new(size_t max)
{
	struct wire *w;

	if (max == 0 || max > WIRE_SIZE_MAX)
		return NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->max = max;
	return w;
}

struct wire *
wire_from(const void *p, size_t len)
{
	struct wire *w;

	if ((p == NULL && len != 0) || len > WIRE_SIZE_MAX)
		return NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	/* Views never write through d; the cast only drops const. */
	w->d = (uint8_t *)(uintptr_t)p;
	w->size = w->max = len;
	w->readonly = 1;
	return w;
}

void
wire_free(struct wire *w)
{
	if (w == NULL)
		return;
	if (!w->readonly && w->d != NULL) {
		OPENSSL_cleanse(w->d, w->alloc);
		free(w->d);
	}
	OPENSSL_cleanse(w, sizeof(*w));
	free(w);
}

void
wire_reset(struct wire *w)
{
	if (w == NULL)
		return;
	if (!w->readonly && w->d != NULL)
		OPENSSL_cleanse(w->d, w->alloc);
	w->off = 0;
	if (!w->readonly)
		w->size = 0;
}

size_t
wire_len(const struct wire *w)
{
	return w == NULL ? 0 : w->size - w->off;
}

const uint8_t *
wire_ptr(const struct wire *w)
{
	return w == NULL || w->d == NULL ? (const uint8_t *)"" : w->d + w->off;
}

size_t
wire_max(const struct wire *w)
{
	return w == NULL ? 0 : w->max;
}

int
wire_dup(const struct wire *w, uint8_t **out, size_t *outlen)
{
	size_t n;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (w == NULL || out == NULL || outlen == NULL)
		return ERR_INVALID_ARG;
	n = wire_len(w);
	if ((*out = malloc(n + 1)) == NULL)
		return ERR_ALLOC;
	if (n > 0)
		memcpy(*out, wire_ptr(w), n);
	(*out)[n] = 0;
	*outlen = n;
	return 0;
}

/* v big-endian into p[0..4). */
static void
store_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Make room for len more bytes at the end. */
static int
wire_grow(struct wire *w, size_t len)
{
	size_t need, nalloc;
	uint8_t *nd;

	if (w == NULL)
		return ERR_INVALID_ARG;
	if (w->readonly)
		return ERR_BUF_READ_ONLY;
	if (len > w->max || w->size > w->max - len)
		return ERR_BUF_FULL;
	need = w->size + len;
	if (need <= w->alloc)
		return 0;
	nalloc = w->alloc ? w->alloc : 256;
	while (nalloc < need)
		nalloc *= 2;
	if (nalloc > w->max)
		nalloc = w->max;
	if ((nd = malloc(nalloc)) == NULL)
		return ERR_ALLOC;
	if (w->d != NULL) {
		memcpy(nd, w->d, w->size);
		OPENSSL_cleanse(w->d, w->alloc);
		free(w->d);
	}
	w->d = nd;
	w->alloc = nalloc;
	return 0;
}

int
wire_reserve(struct wire *w, size_t len, uint8_t **dst)
{
	int r;

	if (dst != NULL)
		*dst = NULL;
	if ((r = wire_grow(w, len)) != 0)
		return r;
	if (dst != NULL)
		*dst = w->d + w->size;
	w->size += len;
	return 0;
}

int
wire_put(struct wire *w, const void *p, size_t len)
{
	uint8_t *dst;
	int r;

	if (p == NULL && len != 0)
		return ERR_INVALID_ARG;
	if ((r = wire_reserve(w, len, &dst)) != 0)
		return r;
	if (len > 0)
		memcpy(dst, p, len);
	return 0;
}

int
wire_put_u8(struct wire *w, uint8_t v)
{
	return wire_put(w, &v, 1);
}

int
wire_put_u32(struct wire *w, uint32_t v)
{
	uint8_t b[4];

	store_u32(b, v);
	return wire_put(w, b, sizeof(b));
}

int
wire_put_u64(struct wire *w, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	return wire_put(w, b, sizeof(b));
}

int
wire_put_string(struct wire *w, const void *p, size_t len)
{
	uint8_t *dst;
	int r;

	if (p == NULL && len != 0)
		return ERR_INVALID_ARG;
	if (len > UINT32_MAX || len > WIRE_SIZE_MAX)
		return ERR_TOO_LARGE;
	if ((r = wire_reserve(w, 4 + len, &dst)) != 0)
		return r;
	store_u32(dst, (uint32_t)len);
	if (len > 0)
		memcpy(dst + 4, p, len);
	return 0;
}

int
wire_put_cstring(struct wire *w, const char *s)
{
	if (s == NULL)
		return ERR_INVALID_ARG;
	return wire_put_string(w, s, strlen(s));
}

int
wire_put_stringb(struct wire *w, const struct wire *v)
{
	if (v == NULL)
		return ERR_INVALID_ARG;
	return wire_put_string(w, wire_ptr(v), wire_len(v));
}

int
wire_put_mpint(struct wire *w, const uint8_t *mag, size_t len)
{
	uint8_t *dst;
	size_t n;
	int pad, r;

	if (mag == NULL && len != 0)
		return ERR_INVALID_ARG;
	while (len > 0 && mag[0] == 0) {
		mag++;
		len--;
	}
	if (len > WIRE_MPINT_MAX_BYTES)
		return ERR_MPINT_TOO_LARGE;
	pad = len > 0 && (mag[0] & 0x80) != 0;
	n = len + (size_t)pad;
	if ((r = wire_reserve(w, 4 + n, &dst)) != 0)
		return r;
	store_u32(dst, (uint32_t)n);
	if (pad)
		dst[4] = 0;
	if (len > 0)
		memcpy(dst + 4 + pad, mag, len);
	return 0;
}

int
wire_poke_u32(struct wire *w, size_t off, uint32_t v)
{
	if (w == NULL)
		return ERR_INVALID_ARG;
	if (w->readonly)
		return ERR_BUF_READ_ONLY;
	if (off > wire_len(w) || wire_len(w) - off < 4)
		return ERR_BUF_SHORT;
	store_u32(w->d + w->off + off, v);
	return 0;
}

int
wire_consume(struct wire *w, size_t len)
{
	if (w == NULL)
		return ERR_INVALID_ARG;
	if (len > wire_len(w))
		return ERR_BUF_SHORT;
	w->off += len;
	return 0;
}

int
wire_get(struct wire *w, void *dst, size_t len)
{
	if (w == NULL || (dst == NULL && len != 0))
		return ERR_INVALID_ARG;
	if (len > wire_len(w))
		return ERR_BUF_SHORT;
	if (len > 0)
		memcpy(dst, wire_ptr(w), len);
	w->off += len;
	return 0;
}

int
wire_get_u8(struct wire *w, uint8_t *v)
{
	if (v != NULL)
		*v = 0;
	if (w == NULL)
		return ERR_INVALID_ARG;
	if (wire_len(w) < 1)
		return ERR_BUF_SHORT;
	if (v != NULL)
		*v = wire_ptr(w)[0];
	w->off++;
	return 0;
}

int
wire_peek_u32(const struct wire *w, uint32_t *v)
{
	const uint8_t *p;

	if (v != NULL)
		*v = 0;
	if (w == NULL)
		return ERR_INVALID_ARG;
	if (wire_len(w) < 4)
		return ERR_BUF_SHORT;
	p = wire_ptr(w);
	if (v != NULL)
		*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	return 0;
}

int
wire_get_u32(struct wire *w, uint32_t *v)
{
	int r;

	if ((r = wire_peek_u32(w, v)) != 0)
		return r;
	w->off += 4;
	return 0;
}

int
wire_get_u64(struct wire *w, uint64_t *v)
{
	const uint8_t *p;
	uint64_t x = 0;
	int i;

	if (v != NULL)
		*v = 0;
	if (w == NULL)
		return ERR_INVALID_ARG;
	if (wire_len(w) < 8)
		return ERR_BUF_SHORT;
	p = wire_ptr(w);
	for (i = 0; i < 8; i++)
		x = x << 8 | p[i];
	if (v != NULL)
		*v = x;
	w->off += 8;
	return 0;
}

int
wire_peek_string_direct(const struct wire *w, const uint8_t **p, size_t *len)
{
	uint32_t n;
	int r;

	if (p != NULL)
		*p = NULL;
	if (len != NULL)
		*len = 0;
	if ((r = wire_peek_u32(w, &n)) != 0)
		return r;
	if (n > WIRE_SIZE_MAX)
		return ERR_TOO_LARGE;
	if ((size_t)n > wire_len(w) - 4)
		return ERR_BUF_SHORT;
	if (p != NULL)
		*p = wire_ptr(w) + 4;
	if (len != NULL)
		*len = n;
	return 0;
}

int
wire_get_string_direct(struct wire *w, const uint8_t **p, size_t *len)
{
	size_t n;
	int r;

	if ((r = wire_peek_string_direct(w, p, &n)) != 0) {
		if (len != NULL)
			*len = 0;
		return r;
	}
	if (len != NULL)
		*len = n;
	w->off += 4 + n;
	return 0;
}

int
wire_get_string(struct wire *w, uint8_t **p, size_t *len)
{
	const uint8_t *s;
	size_t n;
	uint8_t *cp;
	int r;

	if (p != NULL)
		*p = NULL;
	if (len != NULL)
		*len = 0;
	if (p == NULL)
		return ERR_INVALID_ARG;
	if ((r = wire_peek_string_direct(w, &s, &n)) != 0)
		return r;
	if ((cp = malloc(n + 1)) == NULL)
		return ERR_ALLOC;
	if (n > 0)
		memcpy(cp, s, n);
	cp[n] = 0;
	w->off += 4 + n;
	*p = cp;
	if (len != NULL)
		*len = n;
	return 0;
}

int
wire_get_cstring_direct(struct wire *w, const char **s, size_t *len)
{
	const uint8_t *p;
	size_t n;
	int r;

	if (s != NULL)
		*s = NULL;
	if (len != NULL)
		*len = 0;
	if ((r = wire_peek_string_direct(w, &p, &n)) != 0)
		return r;
	if (n > 0 && memchr(p, 0, n) != NULL)
		return ERR_STRING_NUL;
	w->off += 4 + n;
	if (s != NULL)
		*s = (const char *)p;
	if (len != NULL)
		*len = n;
	return 0;
}

int
wire_get_cstring(struct wire *w, char **s, size_t *len)
{
	const uint8_t *p;
	size_t n;
	char *cp;
	int r;

	if (s != NULL)
		*s = NULL;
	if (len != NULL)
		*len = 0;
	if (s == NULL)
		return ERR_INVALID_ARG;
	if ((r = wire_peek_string_direct(w, &p, &n)) != 0)
		return r;
	if (n > 0 && memchr(p, 0, n) != NULL)
		return ERR_STRING_NUL;
	if ((cp = malloc(n + 1)) == NULL)
		return ERR_ALLOC;
	if (n > 0)
		memcpy(cp, p, n);
	cp[n] = '\0';
	w->off += 4 + n;
	*s = cp;
	if (len != NULL)
		*len = n;
	return 0;
}

int
wire_get_wire(struct wire *w, struct wire **sub)
{
	const uint8_t *p;
	size_t n;
	struct wire *v;
	int r;

	if (sub != NULL)
		*sub = NULL;
	if (sub == NULL)
		return ERR_INVALID_ARG;
	if ((r = wire_peek_string_direct(w, &p, &n)) != 0)
		return r;
	if ((v = wire_from(p, n)) == NULL)
		return ERR_ALLOC;
	w->off += 4 + n;
	*sub = v;
	return 0;
}

int
wire_get_mpint_direct(struct wire *w, const uint8_t **mag, size_t *len)
{
	const uint8_t *p;
	size_t n;
	int r;

	if (mag != NULL)
		*mag = NULL;
	if (len != NULL)
		*len = 0;
	if ((r = wire_peek_string_direct(w, &p, &n)) != 0)
		return r;
	if (n > 0 && (p[0] & 0x80) != 0)
		return ERR_MPINT_NEGATIVE;
	/* A leading zero is only allowed to clear the sign bit. */
	if (n > 0 && p[0] == 0 && (n == 1 || (p[1] & 0x80) == 0))
		return ERR_MPINT_PADDING;
	if (n - (n > 0 && p[0] == 0) > WIRE_MPINT_MAX_BYTES)
		return ERR_MPINT_TOO_LARGE;
	w->off += 4 + n;
	if (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	if (mag != NULL)
		*mag = p;
	if (len != NULL)
		*len = n;
	return 0;
}

/* Base64 ----------------------------------------------------------------- */

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64_encode(char **out, const uint8_t *p, size_t len, const char *alpha, int pad)
{
	size_t olen, i, o = 0;
	char *s;

	*out = NULL;
	if (p == NULL && len != 0)
		return ERR_INVALID_ARG;
	if (len > WIRE_SIZE_MAX)
		return ERR_TOO_LARGE;
	olen = (len + 2) / 3 * 4;
	if ((s = malloc(olen + 1)) == NULL)
		return ERR_ALLOC;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v =
		    (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		s[o++] = alpha[(v >> 18) & 63];
		s[o++] = alpha[(v >> 12) & 63];
		s[o++] = alpha[(v >> 6) & 63];
		s[o++] = alpha[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		s[o++] = alpha[(v >> 18) & 63];
		s[o++] = alpha[(v >> 12) & 63];
		if (i + 1 < len)
			s[o++] = alpha[(v >> 6) & 63];
		else if (pad)
			s[o++] = '=';
		if (pad)
			s[o++] = '=';
	}
	s[o] = '\0';
	*out = s;
	return 0;
}

int
wire_b64_encode(char **out, const uint8_t *p, size_t len)
{
	if (out == NULL)
		return ERR_INVALID_ARG;
	return b64_encode(out, p, len, b64_std, 1);
}

int
wire_b64_encode_nopad(char **out, const uint8_t *p, size_t len, int url)
{
	if (out == NULL)
		return ERR_INVALID_ARG;
	return b64_encode(out, p, len, url ? b64_url : b64_std, 0);
}

int
wire_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
wire_b64_value(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

int
wire_b64_decode(uint8_t **out, size_t *outlen, const char *s, size_t len)
{
	size_t i, o = 0, npad = 0;
	uint8_t *d;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (out == NULL || outlen == NULL || (s == NULL && len != 0))
		return ERR_INVALID_ARG;
	if (len > WIRE_SIZE_MAX)
		return ERR_TOO_LARGE;
	if (len % 4 != 0)
		return ERR_BAD_BASE64;
	if (len > 0 && s[len - 1] == '=')
		npad = (len > 1 && s[len - 2] == '=') ? 2 : 1;
	if ((d = malloc(len / 4 * 3 + 1)) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < len; i += 4) {
		int v[4], k;
		int last = (i + 4 == len);

		for (k = 0; k < 4; k++) {
			if (last && k >= 4 - (int)npad) {
				v[k] = 0;
				continue;
			}
			if ((v[k] = wire_b64_value(s[i + k], 0)) < 0) {
				free(d);
				return ERR_BAD_BASE64;
			}
		}
		/* Padding bits must be zero (canonical encoding). */
		if (last && npad == 2 && (v[1] & 0x0f) != 0)
			goto bad;
		if (last && npad == 1 && (v[2] & 0x03) != 0)
			goto bad;
		d[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (!(last && npad == 2))
			d[o++] = (uint8_t)((v[1] & 0x0f) << 4 | v[2] >> 2);
		if (!(last && npad >= 1))
			d[o++] = (uint8_t)((v[2] & 0x03) << 6 | v[3]);
	}
	*out = d;
	*outlen = o;
	return 0;
bad:
	free(d);
	return ERR_BAD_BASE64;
}

/* Hex -------------------------------------------------------------------- */

void
wire_hex_encode(char *out, const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * len] = '\0';
}
