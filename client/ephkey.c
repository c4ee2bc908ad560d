/*
 * ephkey.c: the ephemeral Ed25519 key of ephkey.h: generation with
 * OpenSSL 3, the agent serialisation (draft-miller-ssh-agent, "Adding keys to
 * the agent") and the openssh-key-v1 private key file (OpenSSH's PROTOCOL.key).
 *
 * It does not write files or talk to sockets.  Works with signer/wire.c
 * (encoding, base64), signer/pubkey.c (the public half) and signer/cert.h
 * (the certificate blob placed in the agent serialisation).
 *
 * Every buffer that holds the seed is a wire buffer (wiped on free) or a
 * stack array wiped with OPENSSL_cleanse before return.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "client/ephkey.h"
#include "signer/cert.h"
#include "signer/pubkey.h"
#include "signer/wire.h"

#define ED25519_LEN 32
#define OPENSSH_MAGIC "openssh-key-v1" /* written with its NUL */
#define OPENSSH_WRAP 70
#define OPENSSH_BLOCK 8 /* block size of the "none" cipher */
#define PRIV_MAX (8u * 1024)

struct ephkey {
	EVP_PKEY *pkey;
	struct pubkey *pub;
	uint8_t pk[ED25519_LEN];
	uint8_t seed[ED25519_LEN];
};

int
ephkey_generate(struct ephkey **out)
{
	struct ephkey *k = NULL;
	size_t len;
	int r = ERR_INTERNAL;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return ERR_ALLOC;
	if ((k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	len = sizeof(k->seed);
	if (EVP_PKEY_get_raw_private_key(k->pkey, k->seed, &len) != 1 ||
	    len != sizeof(k->seed)) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	len = sizeof(k->pk);
	if (EVP_PKEY_get_raw_public_key(k->pkey, k->pk, &len) != 1 ||
	    len != sizeof(k->pk)) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	if ((r = pubkey_from_evp(&k->pub, k->pkey)) != 0)
		goto out;
	*out = k;
	k = NULL;
	r = 0;
out:
	ephkey_free(k);
	return r;
}

void
ephkey_free(struct ephkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	pubkey_free(k->pub);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

const struct pubkey *
ephkey_public(const struct ephkey *k)
{
	return k == NULL ? NULL : k->pub;
}

/* string pk, string seed||pk: the tail of both serialisations. */
static int
put_ed25519_secret(struct wire *w, const struct ephkey *k)
{
	uint8_t sk[2 * ED25519_LEN];
	int r = ERR_INTERNAL;

	memcpy(sk, k->seed, ED25519_LEN);
	memcpy(sk + ED25519_LEN, k->pk, ED25519_LEN);
	if ((r = wire_put_string(w, k->pk, sizeof(k->pk))) != 0 ||
	    (r = wire_put_string(w, sk, sizeof(sk))) != 0)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(sk, sizeof(sk));
	return r;
}

int
ephkey_put_private(
    struct wire *w, const struct ephkey *k, const struct cert *cert)
{
	int r = ERR_INTERNAL;

	if (w == NULL || k == NULL)
		return ERR_INVALID_ARG;
	if (cert == NULL) {
		if ((r = wire_put_cstring(w, key_type_name(KEY_ED25519))) != 0)
			return r;
		return put_ed25519_secret(w, k);
	}
	if (cert->blob == NULL || cert->blob_len == 0 || cert->key == NULL)
		return ERR_INVALID_ARG;
	if (!pubkey_equal(cert->key, k->pub))
		return ERR_CERT_WRONG_KEY;
	if ((r = wire_put_cstring(w, key_type_cert_name(KEY_ED25519))) != 0 ||
	    (r = wire_put_string(w, cert->blob, cert->blob_len)) != 0)
		return r;
	return put_ed25519_secret(w, k);
}

/* Base64 of the binary key, wrapped, between the PEM-like armour. */
static int
armour(char **out, const uint8_t *p, size_t len)
{
	char *b64 = NULL, *text = NULL;
	static const char head[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
	static const char tail[] = "-----END OPENSSH PRIVATE KEY-----\n";
	size_t blen, i, o = 0, cap, n;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((r = wire_b64_encode(&b64, p, len)) != 0)
		goto out;
	blen = strlen(b64);
	cap = sizeof(head) + blen + blen / OPENSSH_WRAP + 2 + sizeof(tail);
	if ((text = malloc(cap)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	memcpy(text, head, sizeof(head) - 1);
	o = sizeof(head) - 1;
	for (i = 0; i < blen; i += n) {
		n = blen - i < OPENSSH_WRAP ? blen - i : OPENSSH_WRAP;
		memcpy(text + o, b64 + i, n);
		o += n;
		text[o++] = '\n';
	}
	memcpy(text + o, tail, sizeof(tail)); /* with its NUL */
	*out = text;
	text = NULL;
	r = 0;
out:
	if (b64 != NULL) {
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	}
	free(text);
	return r;
}

int
ephkey_to_openssh(char **out, const struct ephkey *k, const char *comment)
{
	struct wire *w = NULL, *priv = NULL;
	uint32_t check;
	uint8_t pad;
	int r = ERR_INTERNAL;

	if (out == NULL || k == NULL || comment == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if ((w = wire_new(PRIV_MAX)) == NULL ||
	    (priv = wire_new(PRIV_MAX)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (RAND_bytes((unsigned char *)&check, sizeof(check)) != 1) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	/* Private section: check ints, key, comment, padding 1, 2, 3... */
	if ((r = wire_put_u32(priv, check)) != 0 ||
	    (r = wire_put_u32(priv, check)) != 0 ||
	    (r = ephkey_put_private(priv, k, NULL)) != 0 ||
	    (r = wire_put_cstring(priv, comment)) != 0)
		goto out;
	for (pad = 1; wire_len(priv) % OPENSSH_BLOCK != 0; pad++) {
		if ((r = wire_put_u8(priv, pad)) != 0)
			goto out;
	}
	if ((r = wire_put(w, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC))) != 0 ||
	    (r = wire_put_cstring(w, "none")) != 0 ||
	    (r = wire_put_cstring(w, "none")) != 0 ||
	    (r = wire_put_string(w, NULL, 0)) != 0 ||
	    (r = wire_put_u32(w, 1)) != 0 ||
	    (r = pubkey_put_blob(w, k->pub)) != 0 ||
	    (r = wire_put_stringb(w, priv)) != 0)
		goto out;
	if ((r = armour(out, wire_ptr(w), wire_len(w))) != 0)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(&check, sizeof(check));
	wire_free(priv);
	wire_free(w);
	return r;
}
