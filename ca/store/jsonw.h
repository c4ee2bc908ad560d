/*
 * jsonw.h: jansson's compact dump (json_dumps), byte for byte, without
 * json_dumps on the hot paths: the ledger's canonical details
 * (ca/store/chain.c) and the HTTP API's replies (web/http.c).
 *
 * The structure is written here: '{' '}' '[' ']' ',' ':' (JSON_COMPACT),
 * object keys in iteration order (json_object_iter, which is the order
 * json_dumps uses) or, with JSON_SORT_KEYS, sorted as jansson 2.14's
 * dump.c sorts them (memcmp over the shorter key, then the shorter key
 * first).  So are the leaves whose dump is fixed: integers in decimal
 * (JSON_INTEGER_FORMAT), true, false, null, and strings (values or
 * keys) whose bytes are all 0x20..0x7e other than '"' and '\\', which
 * jansson writes as themselves between quotes.  Every other leaf (a
 * real, a string needing an escape or holding non-ASCII) is dumped by
 * jansson itself (json_dump_callback of that leaf with the same flags
 * and JSON_ENCODE_ANY), so escapes and number formats are jansson's by
 * construction.
 *
 * Flags: JSON_COMPACT is required; JSON_SORT_KEYS, JSON_ENSURE_ASCII and
 * JSON_ENCODE_ANY are honoured; any other flag is ERR_INVALID_ARG.
 * Where json_dumps returns NULL this fails too: a NULL value, a value
 * that is neither an object nor an array without JSON_ENCODE_ANY, a
 * string value that is not valid UTF-8 (ERR_INVALID_ARG).  Two cases
 * fail here where json_dumps writes something: a key that is not valid
 * UTF-8 (json_dumps writes a broken key and goes on) and a value nested
 * deeper than JSONW_DEPTH_MAX.  That limit is far below jansson's
 * parser's (2048), so whatever is written here parses back, and it
 * bounds the stack: a level of sorted keys holds about 1 KB of it, so
 * 256 levels stay within any thread's stack.  A value that contains
 * itself, which json_dumps refuses, is refused by the same limit.
 */
#ifndef JITCA_JSONW_H
#define JITCA_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "signer/err.h"

#define JSONW_DEPTH_MAX 256 /* nested objects and arrays */
#define JSONW_I64_LEN 24 /* the text of any int64_t, no NUL */
#define JSONW_FLAGS                                                            \
	(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ENCODE_ANY)

/*
 * A growable text buffer, capped at max bytes (the NUL not counted) from
 * jsonw_buf_init().  data is malloc'ed and owned by the buffer; it is
 * NUL-terminated after every successful append (NULL until the first).
 * A caller may take data (and then must not free the buffer) or free it
 * with jsonw_buf_free().  A failed append leaves len as it was.
 */
struct jsonw_buf {
	char *data;
	size_t len;
	size_t cap; /* bytes allocated at data */
	size_t max;
};

void jsonw_buf_init(struct jsonw_buf *b, size_t max);
/* Frees data; b may be NULL.  b is empty (same max) afterwards. */
void jsonw_buf_free(struct jsonw_buf *b);
/* Appends n bytes; ERR_TOO_LARGE past max, ERR_ALLOC. */
MUST_CHECK int jsonw_buf_put(struct jsonw_buf *b, const void *p, size_t n);

/*
 * Appends the dump of j with flags (see above) to b: exactly the bytes
 * json_dumps(j, flags) returns.  ERR_INVALID_ARG where json_dumps
 * returns NULL or for flags outside JSONW_FLAGS or without JSON_COMPACT,
 * ERR_TOO_LARGE past b's max, ERR_ALLOC.
 */
MUST_CHECK int jsonw_append(struct jsonw_buf *b, const json_t *j, size_t flags);

/*
 * json_dumps(j, flags) for the flags above: a malloc'ed string the
 * caller frees, or NULL where json_dumps would return NULL (or out of
 * memory).  No cap but SIZE_MAX.
 */
char *jsonw_dumps(const json_t *j, size_t flags);

/*
 * An object written member by member, without json_t: the bytes
 * jsonw_append() writes for an object that holds the same members set
 * in the same order (so flags as there, but not JSON_SORT_KEYS; keys
 * must be distinct).  A string member that is NULL or not valid UTF-8
 * fails, as json_pack() and json_string() do.  The first failure sticks
 * and later calls do nothing: jsonw_obj_end() returns it (ERR_INVALID_ARG,
 * ERR_TOO_LARGE past b's max, ERR_ALLOC) and puts b back as it was at
 * jsonw_obj_begin(); else it closes the object and returns 0.
 */
struct jsonw_obj {
	struct jsonw_buf *b;
	size_t len0, flags;
	size_t n; /* members so far */
	int err;
};
void jsonw_obj_begin(struct jsonw_obj *o, struct jsonw_buf *b, size_t flags);
void jsonw_obj_str(struct jsonw_obj *o, const char *key, const char *s);
void jsonw_obj_int(struct jsonw_obj *o, const char *key, int64_t v);
void jsonw_obj_bool(struct jsonw_obj *o, const char *key, int v);
/* An array of n strings (n 0: []). */
void jsonw_obj_strv(
    struct jsonw_obj *o, const char *key, char *const *v, size_t n);
MUST_CHECK int jsonw_obj_end(struct jsonw_obj *o);

/* 1 when jansson writes each of the n bytes at s as itself in a string
 * (0x20..0x7e but '"' and '\\'), with any of the flags above. */
int jsonw_plain(const char *s, size_t n);

/* v in decimal as jansson writes an integer: the text is the *len bytes
 * at the pointer returned, which points into buf. */
const char *jsonw_i64(char buf[JSONW_I64_LEN], int64_t v, size_t *len);

#endif /* JITCA_JSONW_H */
