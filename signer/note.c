/*
 * note.c: C2SP signed notes, checkpoint texts and verifier keys of
 * note.h.
 *
 * Ed25519 signatures are carried as SSH signature blobs between us and
 * the signing callback, and checked with pubkey_verify() (verify.c) on a
 * key rebuilt from the 32 raw bytes, so the note code shares the one
 * verifier of the format library.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "signer/base/sha256.h"
#include "signer/note.h"
#include "signer/wire.h"

/* U+2014 EM DASH and a space: how every signature line starts. */
#define NOTE_SIG_PREFIX "\xe2\x80\x94 "
#define NOTE_SIG_PREFIX_LEN 4
#define NOTE_ED25519_SIG_LEN 64

/*
 * One UTF-8 code point from p (len > 0 bytes): *cp and *n on success, -1
 * for an invalid sequence (truncated, overlong, a surrogate, or beyond
 * U+10FFFF), as RFC 3629 section 4 defines well-formed UTF-8.
 */
static int
utf8_next(const uint8_t *p, size_t len, uint32_t *cp, size_t *n)
{
	uint32_t c;
	size_t need, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		*n = 1;
		return 0;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		c = p[0] & 0x07;
	} else
		return -1;
	if (len < need)
		return -1;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && c < 0x800) || (need == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	*n = need;
	return 0;
}

/* Unicode White_Space (what Go's unicode.IsSpace reports). */
static int
is_unicode_space(uint32_t c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 ||
	    c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
	    c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Well-formed UTF-8 with no control character below U+0020 but, when
 * newline_ok, "\n". */
static int
text_ok(const char *s, size_t len, int newline_ok)
{
	const uint8_t *p = (const uint8_t *)s;
	uint32_t c;
	size_t i, n;

	for (i = 0; i < len; i += n) {
		if (utf8_next(p + i, len - i, &c, &n) != 0)
			return 0;
		if (c < 0x20 && !(newline_ok && c == '\n'))
			return 0;
	}
	return 1;
}

/* A key name: 1..NOTE_MAX_NAME bytes of UTF-8, no space, "+" or
 * control character. */
static int
name_ok(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	uint32_t c;
	size_t i, n;

	if (len == 0 || len > NOTE_MAX_NAME)
		return 0;
	for (i = 0; i < len; i += n) {
		if (utf8_next(p + i, len - i, &c, &n) != 0)
			return 0;
		if (c < 0x20 || c == '+' || is_unicode_space(c))
			return 0;
	}
	return 1;
}

int
note_key_id(uint32_t *id, const char *name, size_t namelen,
    const uint8_t key[NOTE_ED25519_LEN])
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t d[32], sep[2] = {'\n', NOTE_ALG_ED25519};
	int r = ERR_CRYPTO;

	if (id != NULL)
		*id = 0;
	if (id == NULL || name == NULL || key == NULL)
		return ERR_INVALID_ARG;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_ALLOC;
	if (EVP_DigestInit_ex(ctx, sha256_md(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, name, namelen) != 1 ||
	    EVP_DigestUpdate(ctx, sep, sizeof(sep)) != 1 ||
	    EVP_DigestUpdate(ctx, key, NOTE_ED25519_LEN) != 1 ||
	    EVP_DigestFinal_ex(ctx, d, NULL) != 1) {
		err_crypto_set();
		goto out;
	}
	*id = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	    (uint32_t)d[2] << 8 | d[3];
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* Fill v from a checked name and raw key. */
static int
verifier_set(struct note_verifier *v, const char *name, size_t namelen,
    const uint8_t key[NOTE_ED25519_LEN])
{
	int r;

	if (!name_ok(name, namelen))
		return ERR_NOTE_FORMAT;
	memset(v, 0, sizeof(*v));
	memcpy(v->name, name, namelen);
	memcpy(v->key, key, NOTE_ED25519_LEN);
	if ((r = note_key_id(&v->key_id, v->name, namelen, v->key)) != 0)
		return r;
	return 0;
}

int
note_verifier_from_pubkey(
    struct note_verifier *v, const char *name, const struct pubkey *k)
{
	struct wire *w = NULL;
	const uint8_t *blob, *raw;
	size_t blen, rawlen;
	int r = ERR_INTERNAL;

	if (v == NULL || name == NULL || k == NULL)
		return ERR_INVALID_ARG;
	memset(v, 0, sizeof(*v));
	if (pubkey_type(k) != KEY_ED25519)
		return ERR_SIG_ALG;
	if ((blob = pubkey_blob(k, &blen)) == NULL)
		return ERR_INVALID_ARG;
	if ((w = wire_from(blob, blen)) == NULL)
		return ERR_ALLOC;
	/* string "ssh-ed25519", string key (RFC 8709 section 4). */
	if ((r = wire_get_string_direct(w, NULL, NULL)) != 0 ||
	    (r = wire_get_string_direct(w, &raw, &rawlen)) != 0)
		goto out;
	ENSURE(rawlen == NOTE_ED25519_LEN && wire_len(w) == 0, ERR_INTERNAL);
	if ((r = verifier_set(v, name, strlen(name), raw)) != 0)
		goto out;
	r = 0;
out:
	wire_free(w);
	return r;
}

int
note_verifier_from_vkey(struct note_verifier *v, const char *vkey, size_t len)
{
	const char *p1, *p2;
	uint8_t *dec = NULL;
	size_t declen = 0, namelen, i;
	uint32_t id = 0;
	int r = ERR_INTERNAL;

	if (v == NULL || (vkey == NULL && len != 0))
		return ERR_INVALID_ARG;
	memset(v, 0, sizeof(*v));
	if (len > NOTE_MAX_NAME + 64)
		return ERR_TOO_LARGE;
	/* NAME+KEYID+BASE64: the name has no "+", the base64 may. */
	if ((p1 = memchr(vkey, '+', len)) == NULL)
		return ERR_NOTE_VKEY;
	namelen = (size_t)(p1 - vkey);
	if (len - namelen - 1 < 9 || p1[9] != '+')
		return ERR_NOTE_VKEY;
	p2 = p1 + 9;
	for (i = 1; i <= 8; i++) {
		int c = (unsigned char)p1[i];

		if (c >= '0' && c <= '9')
			id = id << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			id = id << 4 | (uint32_t)(c - 'a' + 10);
		else
			return ERR_NOTE_VKEY;
	}
	if ((r = wire_b64_decode(
		 &dec, &declen, p2 + 1, len - (size_t)(p2 + 1 - vkey))) != 0)
		goto out;
	ENSURE(declen >= 1, ERR_NOTE_VKEY);
	ENSURE(dec[0] == NOTE_ALG_ED25519, ERR_SIG_ALG);
	ENSURE(declen == 1 + NOTE_ED25519_LEN, ERR_NOTE_VKEY);
	if ((r = verifier_set(v, vkey, namelen, dec + 1)) != 0) {
		if (r == ERR_NOTE_FORMAT)
			r = ERR_NOTE_VKEY;
		goto out;
	}
	ENSURE(v->key_id == id, ERR_NOTE_VKEY);
	r = 0;
out:
	if (r != 0)
		memset(v, 0, sizeof(*v));
	free(dec);
	return r;
}

int
note_verifier_vkey(char **out, const struct note_verifier *v)
{
	uint8_t raw[1 + NOTE_ED25519_LEN];
	char *b64 = NULL, *s = NULL, hex[9];
	size_t namelen, need;
	uint8_t idb[4];
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || v == NULL)
		return ERR_INVALID_ARG;
	namelen = strnlen(v->name, sizeof(v->name));
	if (namelen == sizeof(v->name) || !name_ok(v->name, namelen))
		return ERR_INVALID_ARG;
	raw[0] = NOTE_ALG_ED25519;
	memcpy(raw + 1, v->key, NOTE_ED25519_LEN);
	idb[0] = (uint8_t)(v->key_id >> 24);
	idb[1] = (uint8_t)(v->key_id >> 16);
	idb[2] = (uint8_t)(v->key_id >> 8);
	idb[3] = (uint8_t)v->key_id;
	wire_hex_encode(hex, idb, sizeof(idb));
	if ((r = wire_b64_encode(&b64, raw, sizeof(raw))) != 0)
		goto out;
	need = namelen + 1 + 8 + 1 + strlen(b64) + 1;
	if ((s = malloc(need)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	memcpy(s, v->name, namelen);
	s[namelen] = '+';
	memcpy(s + namelen + 1, hex, 8);
	s[namelen + 9] = '+';
	memcpy(s + namelen + 10, b64, strlen(b64) + 1);
	*out = s;
	s = NULL;
	r = 0;
out:
	free(b64);
	free(s);
	return r;
}

/* Verify a raw Ed25519 signature over msg by v's key, through the SSH
 * encodings pubkey_verify() reads. */
static int
verify_ed25519(const struct note_verifier *v, const uint8_t *sig, size_t siglen,
    const char *msg, size_t msglen)
{
	struct wire *kb = NULL, *sb = NULL;
	struct pubkey *k = NULL;
	int r = ERR_INTERNAL;

	if (siglen != NOTE_ED25519_SIG_LEN)
		return ERR_SIG_INVALID;
	if ((kb = wire_new(128)) == NULL || (sb = wire_new(128)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = wire_put_cstring(kb, "ssh-ed25519")) != 0 ||
	    (r = wire_put_string(kb, v->key, NOTE_ED25519_LEN)) != 0 ||
	    (r = wire_put_cstring(sb, "ssh-ed25519")) != 0 ||
	    (r = wire_put_string(sb, sig, siglen)) != 0)
		goto out;
	if ((r = pubkey_from_blob(&k, wire_ptr(kb), wire_len(kb))) != 0)
		goto out;
	if ((r = pubkey_verify(k, wire_ptr(sb), wire_len(sb),
		 (const uint8_t *)msg, msglen, NULL)) != 0)
		goto out;
	r = 0;
out:
	pubkey_free(k);
	wire_free(kb);
	wire_free(sb);
	return r;
}

int
note_sign(char **out, size_t *outlen, const char *text, size_t textlen,
    const struct note_verifier *v, note_sign_fn *fn, void *ctx)
{
	struct wire *w = NULL;
	uint8_t *blob = NULL, raw[4 + NOTE_ED25519_SIG_LEN];
	size_t bloblen = 0, namelen, siglen, b64len, total;
	const uint8_t *sig;
	const char *alg;
	size_t alen;
	char *b64 = NULL, *s = NULL, *p;
	uint32_t id;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (out == NULL || v == NULL || fn == NULL || text == NULL)
		return ERR_INVALID_ARG;
	if (textlen > NOTE_MAX_SIZE)
		return ERR_TOO_LARGE;
	if (textlen == 0 || text[textlen - 1] != '\n' ||
	    !text_ok(text, textlen, 1))
		return ERR_NOTE_FORMAT;
	namelen = strnlen(v->name, sizeof(v->name));
	if (namelen == sizeof(v->name) || !name_ok(v->name, namelen))
		return ERR_NOTE_FORMAT;
	if ((r = note_key_id(&id, v->name, namelen, v->key)) != 0)
		return r;
	if (id != v->key_id)
		return ERR_INVALID_ARG;

	if ((r = fn(ctx, &blob, &bloblen, (const uint8_t *)text, textlen)) != 0)
		goto out;
	ENSURE(blob != NULL, ERR_INTERNAL);
	/* The callback's SSH signature blob: string "ssh-ed25519", string
	 * the 64 signature bytes, nothing else. */
	if ((w = wire_from(blob, bloblen)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = wire_get_cstring_direct(w, &alg, &alen)) != 0 ||
	    (r = wire_get_string_direct(w, &sig, &siglen)) != 0)
		goto out;
	ENSURE(wire_len(w) == 0, ERR_TRAILING_DATA);
	ENSURE(alen == 11 && memcmp(alg, "ssh-ed25519", 11) == 0, ERR_SIG_ALG);
	ENSURE(siglen == NOTE_ED25519_SIG_LEN, ERR_SIG_INVALID);
	/* Never hand out a note that would not verify. */
	if ((r = verify_ed25519(v, sig, siglen, text, textlen)) != 0)
		goto out;

	raw[0] = (uint8_t)(id >> 24);
	raw[1] = (uint8_t)(id >> 16);
	raw[2] = (uint8_t)(id >> 8);
	raw[3] = (uint8_t)id;
	memcpy(raw + 4, sig, NOTE_ED25519_SIG_LEN);
	if ((r = wire_b64_encode(&b64, raw, sizeof(raw))) != 0)
		goto out;
	b64len = strlen(b64);
	/* text, "\n", "— ", name, " ", base64, "\n" */
	total = textlen + 1 + NOTE_SIG_PREFIX_LEN + namelen + 1 + b64len + 1;
	ENSURE(total <= NOTE_MAX_SIZE, ERR_TOO_LARGE);
	if ((s = malloc(total + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	p = s;
	memcpy(p, text, textlen);
	p += textlen;
	*p++ = '\n';
	memcpy(p, NOTE_SIG_PREFIX, NOTE_SIG_PREFIX_LEN);
	p += NOTE_SIG_PREFIX_LEN;
	memcpy(p, v->name, namelen);
	p += namelen;
	*p++ = ' ';
	memcpy(p, b64, b64len);
	p += b64len;
	*p++ = '\n';
	*p = '\0';
	*out = s;
	s = NULL;
	if (outlen != NULL)
		*outlen = total;
	r = 0;
out:
	free(s);
	free(b64);
	free(blob);
	wire_free(w);
	return r;
}

int
note_open(const char *note, size_t len, const struct note_verifier *vs,
    size_t nvs, unsigned flags, size_t *textlen)
{
	char seen[NOTE_MAX_SIGS];
	const char *sigs, *line, *nl, *sp;
	size_t split, sigslen, off, n, namelen, nsigs = 0, nverified = 0;
	size_t declen = 0, vi;
	uint8_t *dec = NULL;
	uint32_t id;
	int r = ERR_INTERNAL;

	if (textlen != NULL)
		*textlen = 0;
	if ((note == NULL && len != 0) || (vs == NULL && nvs != 0) ||
	    (flags & ~(unsigned)NOTE_OPEN_KNOWN_ONLY) != 0)
		return ERR_INVALID_ARG;
	if (nvs > NOTE_MAX_SIGS)
		return ERR_INVALID_ARG;
	if (len > NOTE_MAX_SIZE)
		return ERR_TOO_LARGE;
	if (!text_ok(note, len, 1))
		return ERR_NOTE_FORMAT;
	memset(seen, 0, sizeof(seen));
	/* The text ends at the last blank line ("\n\n"), which must leave
	 * at least one signature line that ends in "\n". */
	for (split = len; split >= 2; split--)
		if (note[split - 2] == '\n' && note[split - 1] == '\n')
			break;
	if (split < 2)
		return ERR_NOTE_FORMAT;
	sigs = note + split;
	sigslen = len - split;
	if (sigslen == 0 || sigs[sigslen - 1] != '\n')
		return ERR_NOTE_FORMAT;

	for (off = 0; off < sigslen; off += n + 1) {
		free(dec);
		dec = NULL;
		line = sigs + off;
		nl = memchr(line, '\n', sigslen - off);
		ENSURE(nl != NULL, ERR_INTERNAL);
		n = (size_t)(nl - line);
		ENSURE(++nsigs <= NOTE_MAX_SIGS, ERR_TOO_LARGE);
		ENSURE(n > NOTE_SIG_PREFIX_LEN &&
			memcmp(line, NOTE_SIG_PREFIX, NOTE_SIG_PREFIX_LEN) == 0,
		    ERR_NOTE_FORMAT);
		sp = memchr(
		    line + NOTE_SIG_PREFIX_LEN, ' ', n - NOTE_SIG_PREFIX_LEN);
		ENSURE(sp != NULL, ERR_NOTE_FORMAT);
		namelen = (size_t)(sp - line) - NOTE_SIG_PREFIX_LEN;
		ENSURE(name_ok(line + NOTE_SIG_PREFIX_LEN, namelen),
		    ERR_NOTE_FORMAT);
		ENSURE(sp + 1 < nl, ERR_NOTE_FORMAT);
		if ((r = wire_b64_decode(
			 &dec, &declen, sp + 1, (size_t)(nl - sp - 1))) != 0)
			goto out;
		ENSURE(declen >= 5, ERR_NOTE_FORMAT);
		id = (uint32_t)dec[0] << 24 | (uint32_t)dec[1] << 16 |
		    (uint32_t)dec[2] << 8 | dec[3];
		for (vi = 0; vi < nvs; vi++)
			if (vs[vi].key_id == id &&
			    strnlen(vs[vi].name, sizeof(vs[vi].name)) ==
				namelen &&
			    memcmp(vs[vi].name, line + NOTE_SIG_PREFIX_LEN,
				namelen) == 0)
				break;
		if (vi == nvs) {
			/* Not ours: a witness cosignature, another key. */
			ENSURE(!(flags & NOTE_OPEN_KNOWN_ONLY),
			    ERR_NOTE_UNKNOWN_KEY);
			continue;
		}
		ENSURE(!seen[vi], ERR_NOTE_FORMAT);
		seen[vi] = 1;
		if ((r = verify_ed25519(
			 &vs[vi], dec + 4, declen - 4, note, split - 1)) != 0)
			goto out;
		nverified++;
	}
	ENSURE(nverified > 0, ERR_NOTE_UNKNOWN_KEY);
	if (textlen != NULL)
		*textlen = split - 1;
	r = 0;
out:
	free(dec);
	return r;
}

/* A checkpoint line: 1..NOTE_MAX_LINE bytes, no control character. */
static int
line_ok(const char *s, size_t len)
{
	return len > 0 && len <= NOTE_MAX_LINE && text_ok(s, len, 0);
}

int
note_checkpoint_text(char **out, size_t *outlen, const char *origin,
    uint64_t size, const uint8_t root[32], const char *const *extensions,
    size_t next)
{
	char num[24], *b64 = NULL, *s = NULL, *p;
	size_t total, i, olen, nlen, blen;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (out == NULL || origin == NULL || root == NULL ||
	    (extensions == NULL && next != 0))
		return ERR_INVALID_ARG;
	olen = strlen(origin);
	if (!line_ok(origin, olen) || size >= (UINT64_C(1) << 63) ||
	    next > NOTE_MAX_EXTENSIONS)
		return ERR_INVALID_ARG;
	for (i = 0; i < next; i++)
		if (extensions[i] == NULL ||
		    !line_ok(extensions[i], strlen(extensions[i])))
			return ERR_INVALID_ARG;
	/* Decimal without leading zeros, "0" for the empty tree. */
	nlen = 0;
	do {
		num[sizeof(num) - 1 - nlen++] = (char)('0' + size % 10);
		size /= 10;
	} while (size != 0);
	if ((r = wire_b64_encode(&b64, root, 32)) != 0)
		goto out;
	blen = strlen(b64);
	total = olen + 1 + nlen + 1 + blen + 1;
	for (i = 0; i < next; i++)
		total += strlen(extensions[i]) + 1;
	if ((s = malloc(total + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	p = s;
	memcpy(p, origin, olen);
	p += olen;
	*p++ = '\n';
	memcpy(p, num + sizeof(num) - nlen, nlen);
	p += nlen;
	*p++ = '\n';
	memcpy(p, b64, blen);
	p += blen;
	*p++ = '\n';
	for (i = 0; i < next; i++) {
		size_t el = strlen(extensions[i]);

		memcpy(p, extensions[i], el);
		p += el;
		*p++ = '\n';
	}
	*p = '\0';
	ENSURE((size_t)(p - s) == total, ERR_INTERNAL);
	*out = s;
	s = NULL;
	if (outlen != NULL)
		*outlen = total;
	r = 0;
out:
	free(b64);
	free(s);
	return r;
}

void
note_checkpoint_free(struct note_checkpoint *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->origin);
	for (i = 0; i < c->next; i++)
		free(c->extensions[i]);
	free(c->extensions);
	free(c);
}

/* Copy of len bytes at p as a C string. */
static char *
dup_line(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

int
note_checkpoint_parse(
    struct note_checkpoint **out, const char *text, size_t len)
{
	struct note_checkpoint *c = NULL;
	const char *line, *nl;
	uint8_t *root = NULL;
	size_t rootlen = 0, off, n, lineno, i;
	uint64_t size = 0;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || (text == NULL && len != 0))
		return ERR_INVALID_ARG;
	if (len > NOTE_MAX_SIZE)
		return ERR_TOO_LARGE;
	if (len == 0 || text[len - 1] != '\n' || !text_ok(text, len, 1))
		return ERR_NOTE_CHECKPOINT;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_ALLOC;
	for (off = 0, lineno = 0; off < len; off += n + 1, lineno++) {
		line = text + off;
		nl = memchr(line, '\n', len - off);
		ENSURE(nl != NULL, ERR_INTERNAL);
		n = (size_t)(nl - line);
		ENSURE(n > 0, ERR_NOTE_CHECKPOINT);
		ENSURE(n <= NOTE_MAX_LINE, ERR_TOO_LARGE);
		if (lineno == 0) {
			if ((c->origin = dup_line(line, n)) == NULL) {
				r = ERR_ALLOC;
				goto out;
			}
		} else if (lineno == 1) {
			/* 1..19 digits, no leading zero, below 2^63. */
			ENSURE(n <= 19 && (n == 1 || line[0] != '0'),
			    ERR_NOTE_CHECKPOINT);
			for (i = 0; i < n; i++) {
				ENSURE(line[i] >= '0' && line[i] <= '9',
				    ERR_NOTE_CHECKPOINT);
				size = size * 10 + (uint64_t)(line[i] - '0');
			}
			ENSURE(size < (UINT64_C(1) << 63), ERR_NOTE_CHECKPOINT);
			c->size = size;
		} else if (lineno == 2) {
			if ((r = wire_b64_decode(&root, &rootlen, line, n)) !=
			    0)
				goto out;
			ENSURE(rootlen == 32, ERR_NOTE_CHECKPOINT);
			memcpy(c->root, root, 32);
		} else {
			char **e;

			ENSURE(c->next < NOTE_MAX_EXTENSIONS, ERR_TOO_LARGE);
			e = realloc(c->extensions,
			    (c->next + 1) * sizeof(*c->extensions));
			if (e == NULL) {
				r = ERR_ALLOC;
				goto out;
			}
			c->extensions = e;
			if ((e[c->next] = dup_line(line, n)) == NULL) {
				r = ERR_ALLOC;
				goto out;
			}
			c->next++;
		}
	}
	ENSURE(lineno >= 3, ERR_NOTE_CHECKPOINT);
	*out = c;
	c = NULL;
	r = 0;
out:
	free(root);
	note_checkpoint_free(c);
	return r;
}
