/*
 * jsonw.c: json_dumps's compact output, written without json_dumps (see
 * jsonw.h for what is written here and what is left to jansson).
 *
 * Why: jansson 2.14's dump formats a pointer into a loop-check table
 * per object and array, walks every string by codepoint, grows its own
 * buffer and copies it once more at the end, and allocates to sort
 * keys.  Here the structure and the plain leaves go straight into one
 * buffer, keys are sorted on the stack, and jansson is called only for
 * the leaves whose text it alone defines.
 *
 * It does not parse JSON, and knows no event or reply: chain.c and
 * web/http.c are its callers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/jsonw.h"

#define JSONW_SORT_STACK 32 /* keys sorted without an allocation */
#define JSONW_CAP_MIN 1024 /* one allocation for most events */

struct jsonw_key {
	const char *key;
	size_t len;
	json_t *value;
};

struct jsonw {
	struct jsonw_buf *b;
	size_t flags;
	int err; /* the first error of a json_dump_callback() callback */
};

void
jsonw_buf_init(struct jsonw_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max < SIZE_MAX ? max : SIZE_MAX - 1; /* room for the NUL */
}

void
jsonw_buf_free(struct jsonw_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	jsonw_buf_init(b, b->max);
}

/* Room for n more bytes and a NUL, growing (by doubling) up to max + 1. */
static int
buf_grow(struct jsonw_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return ERR_TOO_LARGE;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap < JSONW_CAP_MIN ? JSONW_CAP_MIN : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	if ((p = realloc(b->data, cap)) == NULL)
		return ERR_ALLOC;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* cap is 0 or at most max + 1, so room here is within max. */
static inline int
buf_reserve(struct jsonw_buf *b, size_t n)
{
	if (b->cap - b->len > n)
		return 0;
	return buf_grow(b, n);
}

int
jsonw_buf_put(struct jsonw_buf *b, const void *p, size_t n)
{
	int r;

	if ((r = buf_reserve(b, n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* Internal writes leave the NUL to jsonw_append(). */
static inline int
put(struct jsonw *w, const char *p, size_t n)
{
	struct jsonw_buf *b = w->b;
	int r;

	if ((r = buf_reserve(b, n)) != 0)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static inline int
put_c(struct jsonw *w, char c)
{
	struct jsonw_buf *b = w->b;
	int r;

	if ((r = buf_reserve(b, 1)) != 0)
		return r;
	b->data[b->len++] = c;
	return 0;
}

#define ONES ((uint64_t)0x0101010101010101u)
#define HIGHS (ONES * 0x80)

/*
 * The bytes jansson writes as themselves in a string with any of our
 * flags: 0x20..0x7e but '"' and '\\'.  Eight at a time: a byte's high
 * bit in t is set when it is >= 0x7f (x | x + 1), < 0x20, '"' or '\\'
 * (the usual has-less and has-zero tests); a borrow or carry reaches
 * the next byte only from a byte that is itself flagged, so t is zero
 * exactly when all eight are plain.
 */
int
jsonw_plain(const char *s, size_t n)
{
	uint64_t x, q, k, t;
	size_t i = 0;

	for (; n - i >= 8; i += 8) {
		memcpy(&x, s + i, 8);
		q = x ^ (ONES * '"');
		k = x ^ (ONES * '\\');
		t = (x | (x + ONES)) | ((x - ONES * 0x20) & ~x) |
		    ((q - ONES) & ~q) | ((k - ONES) & ~k);
		if ((t & HIGHS) != 0)
			return 0;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

static int
put_plain_str(struct jsonw *w, const char *s, size_t n)
{
	struct jsonw_buf *b = w->b;
	int r;

	if ((r = buf_reserve(b, n + 2)) != 0)
		return r;
	b->data[b->len++] = '"';
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len++] = '"';
	return 0;
}

const char *
jsonw_i64(char buf[JSONW_I64_LEN], int64_t v, size_t *len)
{
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t i = JSONW_I64_LEN;

	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		buf[--i] = '-';
	*len = JSONW_I64_LEN - i;
	return buf + i;
}

static int
put_i64(struct jsonw *w, json_int_t v)
{
	char num[JSONW_I64_LEN];
	const char *p;
	size_t n;

	p = jsonw_i64(num, v, &n);
	return put(w, p, n);
}

/* jansson's iterators take json_t * and do not write through it. */
static json_t *
mut(const json_t *v)
{
	union {
		const json_t *c;
		json_t *m;
	} u;

	u.c = v;
	return u.m;
}

static int
jansson_cb(const char *p, size_t n, void *arg)
{
	struct jsonw *w = arg;
	int r;

	if ((r = put(w, p, n)) != 0) {
		if (w->err == 0)
			w->err = r;
		return -1;
	}
	return 0;
}

/* v dumped by jansson with w's flags; fail is the error when jansson
 * fails on its own (not in our callback). */
static int
put_jansson(struct jsonw *w, const json_t *v, int fail)
{
	int r;

	w->err = 0;
	r = json_dump_callback(v, jansson_cb, w, w->flags | JSON_ENCODE_ANY);
	if (w->err != 0)
		return w->err;
	return r != 0 ? fail : 0;
}

/*
 * A key that is not plain goes through jansson as a string.  One that
 * is not valid UTF-8 is refused: json_dumps writes a broken key there
 * and goes on (dump.c ignores that failure), which is no JSON to hash
 * or send.  json_stringn() refuses it (or fails for memory: either way
 * nothing is written); once the key is valid, jansson can fail only for
 * memory.
 */
static int
put_key(struct jsonw *w, const char *k, size_t n)
{
	json_t *ks;
	int r;

	if (jsonw_plain(k, n))
		return put_plain_str(w, k, n);
	if ((ks = json_stringn(k, n)) == NULL)
		return ERR_INVALID_ARG;
	r = put_jansson(w, ks, ERR_ALLOC);
	json_decref(ks);
	return r;
}

/* jansson's compare_keys(): memcmp over the shorter, then the length. */
static int
key_cmp(const struct jsonw_key *a, const struct jsonw_key *b)
{
	int c;

	/* memcmp compares unsigned bytes: the first one often decides */
	if (a->len > 0 && b->len > 0 && a->key[0] != b->key[0])
		return (unsigned char)a->key[0] - (unsigned char)b->key[0];
	c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);
	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int
key_qcmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

static int put_value(struct jsonw *w, const json_t *v, int depth);

static int
put_member(struct jsonw *w, const char *k, size_t klen, const json_t *v,
    int depth, int first)
{
	int r;

	if (!first && (r = put_c(w, ',')) != 0)
		return r;
	if ((r = put_key(w, k, klen)) != 0 || (r = put_c(w, ':')) != 0)
		return r;
	return put_value(w, v, depth);
}

/*
 * Keys sorted: distinct keys are never equal under key_cmp, so any
 * correct sort gives jansson's order.  Insertion sort on the stack for
 * the small objects of events and replies, qsort beyond.
 */
static int
put_object_sorted(struct jsonw *w, const json_t *o, int depth)
{
	struct jsonw_key stack[JSONW_SORT_STACK], *keys = stack, t;
	size_t n = json_object_size(o), i, j;
	void *it;
	int r = ERR_INTERNAL;

	if (n > JSONW_SORT_STACK && (keys = calloc(n, sizeof(*keys))) == NULL)
		return ERR_ALLOC;
	for (i = 0, it = json_object_iter(mut(o)); it != NULL && i < n;
	     i++, it = json_object_iter_next(mut(o), it)) {
		keys[i].key = json_object_iter_key(it);
		keys[i].len = json_object_iter_key_len(it);
		keys[i].value = json_object_iter_value(it);
	}
	n = i;
	if (n > JSONW_SORT_STACK)
		qsort(keys, n, sizeof(*keys), key_qcmp);
	else {
		for (i = 1; i < n; i++) {
			t = keys[i];
			for (j = i; j > 0 && key_cmp(&keys[j - 1], &t) > 0; j--)
				keys[j] = keys[j - 1];
			keys[j] = t;
		}
	}
	for (i = 0; i < n; i++) {
		if ((r = put_member(w, keys[i].key, keys[i].len, keys[i].value,
			 depth, i == 0)) != 0)
			goto out;
	}
	r = 0;
out:
	if (keys != stack)
		free(keys);
	return r;
}

static int
put_object(struct jsonw *w, const json_t *o, int depth)
{
	void *it;
	int r, first = 1;

	if ((r = put_c(w, '{')) != 0)
		return r;
	if (w->flags & JSON_SORT_KEYS) {
		if ((r = put_object_sorted(w, o, depth)) != 0)
			return r;
	} else {
		for (it = json_object_iter(mut(o)); it != NULL;
		     it = json_object_iter_next(mut(o), it)) {
			if ((r = put_member(w, json_object_iter_key(it),
				 json_object_iter_key_len(it),
				 json_object_iter_value(it), depth, first)) !=
			    0)
				return r;
			first = 0;
		}
	}
	return put_c(w, '}');
}

static int
put_array(struct jsonw *w, const json_t *a, int depth)
{
	size_t i, n = json_array_size(a);
	int r;

	if ((r = put_c(w, '[')) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (i > 0 && (r = put_c(w, ',')) != 0)
			return r;
		if ((r = put_value(w, json_array_get(a, i), depth)) != 0)
			return r;
	}
	return put_c(w, ']');
}

static int
put_value(struct jsonw *w, const json_t *v, int depth)
{
	const char *s;
	size_t n;

	if (v == NULL)
		return ERR_INVALID_ARG;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (depth >= JSONW_DEPTH_MAX)
			return ERR_INVALID_ARG;
		return put_object(w, v, depth + 1);
	case JSON_ARRAY:
		if (depth >= JSONW_DEPTH_MAX)
			return ERR_INVALID_ARG;
		return put_array(w, v, depth + 1);
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		if (jsonw_plain(s, n))
			return put_plain_str(w, s, n);
		/* a string made unchecked may not be valid UTF-8 */
		return put_jansson(w, v, ERR_INVALID_ARG);
	case JSON_INTEGER:
		return put_i64(w, json_integer_value(v));
	case JSON_TRUE:
		return put(w, "true", 4);
	case JSON_FALSE:
		return put(w, "false", 5);
	case JSON_NULL:
		return put(w, "null", 4);
	case JSON_REAL:
	default:
		return put_jansson(w, v, ERR_ALLOC);
	}
}

int
jsonw_append(struct jsonw_buf *b, const json_t *j, size_t flags)
{
	struct jsonw w;
	size_t len0 = b->len;
	int r;

	if ((flags & ~(size_t)JSONW_FLAGS) != 0 || !(flags & JSON_COMPACT))
		return ERR_INVALID_ARG;
	if (j == NULL ||
	    (!(flags & JSON_ENCODE_ANY) && !json_is_object(j) &&
		!json_is_array(j)))
		return ERR_INVALID_ARG;
	w.b = b;
	w.flags = flags & ~(size_t)JSON_ENCODE_ANY;
	w.err = 0;
	if ((r = buf_reserve(b, 0)) == 0 && (r = put_value(&w, j, 0)) == 0) {
		b->data[b->len] = '\0'; /* every reserve left room for it */
		return 0;
	}
	b->len = len0;
	if (b->data != NULL)
		b->data[len0] = '\0';
	return r;
}

char *
jsonw_dumps(const json_t *j, size_t flags)
{
	struct jsonw_buf b;

	jsonw_buf_init(&b, SIZE_MAX - 1);
	if (jsonw_append(&b, j, flags) != 0) {
		jsonw_buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* ---- objects written member by member ---- */

/* The string s as a value, as jansson would write json_string(s): as a
 * key is written. */
static int
put_str_value(struct jsonw *w, const char *s)
{
	return s != NULL ? put_key(w, s, strlen(s)) : ERR_INVALID_ARG;
}

void
jsonw_obj_begin(struct jsonw_obj *o, struct jsonw_buf *b, size_t flags)
{
	o->b = b;
	o->len0 = b->len;
	o->flags = flags & ~(size_t)JSON_ENCODE_ANY;
	o->n = 0;
	o->err = 0;
	if ((flags & ~(size_t)JSONW_FLAGS) != 0 || !(flags & JSON_COMPACT) ||
	    (flags & JSON_SORT_KEYS) != 0)
		o->err = ERR_INVALID_ARG;
	else
		o->err = jsonw_buf_put(b, "{", 1);
}

/* ',' before all but the first, the key and ':'; 0 when the value may
 * follow, with *w set up to write it. */
static int
obj_key(struct jsonw_obj *o, const char *key, struct jsonw *w)
{
	w->b = o->b;
	w->flags = o->flags;
	w->err = 0;
	if (o->err == 0 && o->n > 0)
		o->err = put_c(w, ',');
	if (o->err == 0)
		o->err = key != NULL ? put_key(w, key, strlen(key))
				     : ERR_INVALID_ARG;
	if (o->err == 0)
		o->err = put_c(w, ':');
	o->n++;
	return o->err;
}

void
jsonw_obj_str(struct jsonw_obj *o, const char *key, const char *s)
{
	struct jsonw w;

	if (obj_key(o, key, &w) == 0)
		o->err = put_str_value(&w, s);
}

void
jsonw_obj_int(struct jsonw_obj *o, const char *key, int64_t v)
{
	struct jsonw w;

	if (obj_key(o, key, &w) == 0)
		o->err = put_i64(&w, v);
}

void
jsonw_obj_bool(struct jsonw_obj *o, const char *key, int v)
{
	struct jsonw w;

	if (obj_key(o, key, &w) == 0)
		o->err = v ? put(&w, "true", 4) : put(&w, "false", 5);
}

void
jsonw_obj_strv(struct jsonw_obj *o, const char *key, char *const *v, size_t n)
{
	struct jsonw w;
	size_t i;

	if (obj_key(o, key, &w) != 0)
		return;
	o->err = put_c(&w, '[');
	for (i = 0; o->err == 0 && i < n; i++) {
		if (i > 0)
			o->err = put_c(&w, ',');
		if (o->err == 0)
			o->err = put_str_value(&w, v[i]);
	}
	if (o->err == 0)
		o->err = put_c(&w, ']');
}

int
jsonw_obj_end(struct jsonw_obj *o)
{
	struct jsonw_buf *b = o->b;

	if (o->err == 0)
		o->err = jsonw_buf_put(b, "}", 1);
	if (o->err != 0) {
		b->len = o->len0;
		if (b->data != NULL)
			b->data[b->len] = '\0';
	}
	return o->err;
}
