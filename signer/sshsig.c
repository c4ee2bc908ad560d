/*
 * sshsig.c: PROTOCOL.sshsig signatures of sshsig.h: the signed data,
 * the blob, the armor, and the strict verifier.
 *
 * Signature blobs themselves are made by the caller's callback and
 * checked by pubkey_verify() (verify.c); this file only frames them.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "signer/sshsig.h"
#include "signer/wire.h"

/* The blob: magic, version, key, namespace, reserved, alg, signature. */
#define SSHSIG_MAX_BLOB (SSHSIG_MAX_ARMOR / 4 * 3)

static int
valid_namespace(const char *ns)
{
	size_t i, len;

	if (ns == NULL || (len = strlen(ns)) == 0 || len > SSHSIG_MAX_NAMESPACE)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)ns[i] <= 0x20 ||
		    (unsigned char)ns[i] >= 0x7f)
			return 0;
	return 1;
}

/* The digest named by a PROTOCOL.sshsig hash algorithm, or NULL. */
static const EVP_MD *
hash_md(const char *alg, size_t len)
{
	if (len == 6 && memcmp(alg, "sha512", 6) == 0)
		return EVP_sha512();
	if (len == 6 && memcmp(alg, "sha256", 6) == 0)
		return EVP_sha256();
	return NULL;
}

int
sshsig_signed_data(struct wire *w, const char *ns, const char *hashalg,
    const uint8_t *msg, size_t msglen)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	const EVP_MD *md;
	int r = ERR_INTERNAL;

	if (w == NULL || hashalg == NULL || (msg == NULL && msglen != 0))
		return ERR_INVALID_ARG;
	if (!valid_namespace(ns))
		return ERR_INVALID_ARG;
	if ((md = hash_md(hashalg, strlen(hashalg))) == NULL)
		return ERR_SSHSIG_HASH_ALG;
	if (EVP_Digest(msg == NULL ? (const uint8_t *)"" : msg, msglen, digest,
		&dlen, md, NULL) != 1) {
		err_crypto_set();
		return ERR_CRYPTO;
	}
	if ((r = wire_put(w, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN)) != 0 ||
	    (r = wire_put_cstring(w, ns)) != 0 ||
	    (r = wire_put_string(w, NULL, 0)) != 0 ||
	    (r = wire_put_cstring(w, hashalg)) != 0 ||
	    (r = wire_put_string(w, digest, dlen)) != 0)
		goto out;
	r = 0;
out:
	return r;
}

int
sshsig_armor(char **out, size_t *outlen, const uint8_t *blob, size_t len)
{
	char *b64 = NULL, *text = NULL, *p;
	size_t blen, nlines, total, i;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (out == NULL || blob == NULL || len == 0)
		return ERR_INVALID_ARG;
	if (len > SSHSIG_MAX_BLOB)
		return ERR_TOO_LARGE;
	if ((r = wire_b64_encode(&b64, blob, len)) != 0)
		goto out;
	blen = strlen(b64);
	nlines = (blen + SSHSIG_LINE - 1) / SSHSIG_LINE;
	total = strlen(SSHSIG_BEGIN) + blen + nlines + strlen(SSHSIG_END);
	ENSURE(total <= SSHSIG_MAX_ARMOR, ERR_TOO_LARGE);
	if ((text = malloc(total + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	p = text;
	memcpy(p, SSHSIG_BEGIN, strlen(SSHSIG_BEGIN));
	p += strlen(SSHSIG_BEGIN);
	for (i = 0; i < blen; i += SSHSIG_LINE) {
		size_t n = blen - i < SSHSIG_LINE ? blen - i : SSHSIG_LINE;

		memcpy(p, b64 + i, n);
		p += n;
		*p++ = '\n';
	}
	memcpy(p, SSHSIG_END, strlen(SSHSIG_END));
	p += strlen(SSHSIG_END);
	*p = '\0';
	ENSURE((size_t)(p - text) == total, ERR_INTERNAL);
	*out = text;
	text = NULL;
	if (outlen != NULL)
		*outlen = total;
	r = 0;
out:
	free(b64);
	free(text);
	return r;
}

int
sshsig_dearmor(uint8_t **blob, size_t *bloblen, const char *text, size_t len)
{
	const size_t blen = strlen(SSHSIG_BEGIN), elen = strlen(SSHSIG_END);
	const char *body, *line, *nl;
	size_t bodylen, off, n, used = 0;
	char *b64 = NULL;
	int r = ERR_INTERNAL;

	if (blob != NULL)
		*blob = NULL;
	if (bloblen != NULL)
		*bloblen = 0;
	if (blob == NULL || bloblen == NULL || (text == NULL && len != 0))
		return ERR_INVALID_ARG;
	if (len > SSHSIG_MAX_ARMOR)
		return ERR_TOO_LARGE;
	if (len < blen + elen || memcmp(text, SSHSIG_BEGIN, blen) != 0 ||
	    memcmp(text + len - elen, SSHSIG_END, elen) != 0)
		return ERR_SSHSIG_ARMOR;
	body = text + blen;
	bodylen = len - blen - elen;
	if (bodylen == 0)
		return ERR_SSHSIG_ARMOR;
	if ((b64 = malloc(bodylen)) == NULL)
		return ERR_ALLOC;
	/* Lines of exactly SSHSIG_LINE characters, the last 1..SSHSIG_LINE,
	 * each ending in "\n"; base64 characters are checked by the strict
	 * decoder below (which also refuses "\r" and blanks). */
	for (off = 0; off < bodylen; off += n + 1) {
		line = body + off;
		nl = memchr(line, '\n', bodylen - off);
		ENSURE(nl != NULL, ERR_SSHSIG_ARMOR);
		n = (size_t)(nl - line);
		ENSURE(n > 0 && n <= SSHSIG_LINE, ERR_SSHSIG_ARMOR);
		ENSURE(n == SSHSIG_LINE || off + n + 1 == bodylen,
		    ERR_SSHSIG_ARMOR);
		ENSURE(memchr(line, '\0', n) == NULL, ERR_SSHSIG_ARMOR);
		memcpy(b64 + used, line, n);
		used += n;
	}
	if ((r = wire_b64_decode(blob, bloblen, b64, used)) != 0)
		goto out;
	r = 0;
out:
	free(b64);
	return r;
}

int
sshsig_sign(char **out, size_t *outlen, const struct pubkey *key,
    const char *ns, const uint8_t *msg, size_t msglen, sshsig_sign_fn *fn,
    void *ctx)
{
	struct wire *tbs = NULL, *blob = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (out == NULL || key == NULL || fn == NULL ||
	    (msg == NULL && msglen != 0))
		return ERR_INVALID_ARG;
	if ((tbs = wire_new(SSHSIG_MAX_BLOB)) == NULL ||
	    (blob = wire_new(SSHSIG_MAX_BLOB)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = sshsig_signed_data(tbs, ns, "sha512", msg, msglen)) != 0)
		goto out;
	if ((r = fn(ctx, &sig, &siglen, wire_ptr(tbs), wire_len(tbs))) != 0)
		goto out;
	ENSURE(sig != NULL, ERR_INTERNAL);
	/* Never hand out a signature that would not verify. */
	if ((r = pubkey_verify(
		 key, sig, siglen, wire_ptr(tbs), wire_len(tbs), NULL)) != 0)
		goto out;
	if ((r = wire_put(blob, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN)) != 0 ||
	    (r = wire_put_u32(blob, SSHSIG_VERSION)) != 0 ||
	    (r = pubkey_put_blob(blob, key)) != 0 ||
	    (r = wire_put_cstring(blob, ns)) != 0 ||
	    (r = wire_put_string(blob, NULL, 0)) != 0 ||
	    (r = wire_put_cstring(blob, "sha512")) != 0 ||
	    (r = wire_put_string(blob, sig, siglen)) != 0)
		goto out;
	if ((r = sshsig_armor(out, outlen, wire_ptr(blob), wire_len(blob))) !=
	    0)
		goto out;
	r = 0;
out:
	free(sig);
	wire_free(tbs);
	wire_free(blob);
	return r;
}

int
sshsig_verify(const char *text, size_t len, const struct pubkey *key,
    const char *ns, const uint8_t *msg, size_t msglen)
{
	struct wire *w = NULL, *tbs = NULL;
	uint8_t *raw = NULL;
	size_t rawlen = 0, klen, gotklen, nslen, reslen, alen, siglen;
	const uint8_t *kblob, *gotk, *res, *sig;
	const char *gotns, *alg;
	char algbuf[8];
	uint8_t magic[SSHSIG_MAGIC_LEN];
	uint32_t version;
	int r = ERR_INTERNAL;

	if (text == NULL || key == NULL || (msg == NULL && msglen != 0))
		return ERR_INVALID_ARG;
	if (!valid_namespace(ns))
		return ERR_INVALID_ARG;
	if ((r = sshsig_dearmor(&raw, &rawlen, text, len)) != 0)
		goto out;
	if ((w = wire_from(raw, rawlen)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = wire_get(w, magic, sizeof(magic))) != 0)
		goto out;
	ENSURE(memcmp(magic, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN) == 0,
	    ERR_SSHSIG_MAGIC);
	if ((r = wire_get_u32(w, &version)) != 0)
		goto out;
	ENSURE(version == SSHSIG_VERSION, ERR_SSHSIG_VERSION);
	if ((r = wire_get_string_direct(w, &gotk, &gotklen)) != 0)
		goto out;
	kblob = pubkey_blob(key, &klen);
	ENSURE(kblob != NULL, ERR_INVALID_ARG);
	ENSURE(gotklen == klen && memcmp(gotk, kblob, klen) == 0,
	    ERR_SSHSIG_WRONG_KEY);
	if ((r = wire_get_cstring_direct(w, &gotns, &nslen)) != 0)
		goto out;
	ENSURE(nslen == strlen(ns) && memcmp(gotns, ns, nslen) == 0,
	    ERR_SSHSIG_NAMESPACE);
	if ((r = wire_get_string_direct(w, &res, &reslen)) != 0)
		goto out;
	ENSURE(reslen == 0, ERR_BAD_FORMAT);
	if ((r = wire_get_cstring_direct(w, &alg, &alen)) != 0)
		goto out;
	ENSURE(hash_md(alg, alen) != NULL, ERR_SSHSIG_HASH_ALG);
	memcpy(algbuf, alg, alen);
	algbuf[alen] = '\0';
	if ((r = wire_get_string_direct(w, &sig, &siglen)) != 0)
		goto out;
	ENSURE(wire_len(w) == 0, ERR_TRAILING_DATA);

	if ((tbs = wire_new(SSHSIG_MAX_BLOB)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = sshsig_signed_data(tbs, ns, algbuf, msg, msglen)) != 0)
		goto out;
	if ((r = pubkey_verify(
		 key, sig, siglen, wire_ptr(tbs), wire_len(tbs), NULL)) != 0)
		goto out;
	r = 0;
out:
	wire_free(tbs);
	wire_free(w);
	free(raw);
	return r;
}
