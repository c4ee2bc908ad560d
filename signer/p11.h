/*
 * p11.h: CA keys that live in a PKCS#11 token (an HSM, a YubiHSM 2,
 * SoftHSM2): the RFC 7512 URI that names the key, loading the module,
 * logging in with a PIN from a file, signing, and making a key on the token
 * that can never leave it.
 *
 * Only the signer process opens a key (key material stays in the signer
 * process, signer.h); the one other process that loads a module is
 * `jitcad ca-key --generate-on-token`, which makes a key the token never
 * lets out.  This file calls dlopen() and nothing else in jitca does.  The
 * module is driven directly through its function list (PKCS#11 v2.40, headers
 * from p11-kit): no OpenSSL engine or provider, because the libp11 engine of
 * Debian 12 cannot use Ed25519 keys.
 *
 * URIs (RFC 7512 section 2.3), strictly: the scheme "pkcs11:", then path
 * attributes separated by ';' and an optional query after '?' with
 * attributes separated by '&'.  Accepted path attributes: token,
 * manufacturer, serial, model (the token's CK_TOKEN_INFO), object
 * (CKA_LABEL), id (CKA_ID, usually percent-encoded bytes),
 * library-manufacturer, library-description, library-version (the module's
 * CK_INFO), type (only "private").  Accepted query attributes: pin-source
 * ("file:PATH" or an absolute PATH) and module-path.  Refused, each with
 * its own code (err.h, ERR_P11_URI_*): another scheme, an unknown or vendor
 * attribute, one given twice or with an empty value, a '%' not followed by
 * two hex digits, a byte the grammar does not allow, a decoded control byte
 * or NUL in a text value, a value longer than its CK_*_INFO field (32 bytes
 * for labels and manufacturers, 16 for serial and model) or P11_VALUE_MAX,
 * pin-value (a PIN never sits in a configuration line), and a URI naming no
 * key (neither object nor id).
 *
 * The key (struct p11_key, opaque) owns the module handle, the session and
 * a copy of the public key read from the token.  The PIN is read once at
 * p11_key_open() (from a regular file owned by the caller and not readable
 * by group or others; one trailing newline trimmed) and kept in locked,
 * wiped memory so the key can log in again after the token went away.  A
 * private key that is CKA_EXTRACTABLE or not CKA_SENSITIVE is refused
 * (ERR_P11_EXTRACTABLE): the point of a token is that the key cannot be
 * read out.  A key with CKA_ALWAYS_AUTHENTICATE gets a CKU_CONTEXT_SPECIFIC
 * login with the same PIN before each signature.  The public key is read
 * from the matching CKO_PUBLIC_KEY object (same CKA_ID, else same label);
 * its CKA_EC_POINT may be raw or a DER OCTET STRING (SoftHSM2), both are
 * accepted.
 *
 * Signatures are the SSH signature blobs cakey_sign() makes (RFC 8709, RFC
 * 5656 section 3.1.2, RFC 8332): Ed25519 with CKM_EDDSA over the data;
 * ECDSA P-256/P-384 by hashing with SHA-256/SHA-384 here and CKM_ECDSA on
 * the token, r||s turned into two mpints; RSA with CKM_SHA512_RSA_PKCS as
 * rsa-sha2-512, exactly modulus-length bytes.  When the module says the
 * session or the token is gone (CKR_SESSION_HANDLE_INVALID,
 * CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT,
 * CKR_USER_NOT_LOGGED_IN, CKR_DEVICE_ERROR, CKR_TOKEN_NOT_RECOGNIZED,
 * CKR_SLOT_ID_INVALID, CKR_CRYPTOKI_NOT_INITIALIZED, and at C_SignInit
 * CKR_KEY_HANDLE_INVALID or CKR_OBJECT_HANDLE_INVALID, which is what
 * SoftHSM2 answers once its token directory is gone), p11_key_sign()
 * reconnects once (C_Finalize, C_Initialize, find the token again, log in,
 * find the key, check that it is still the same public key) and retries
 * once; failing that it returns ERR_TOKEN_UNAVAILABLE, which the service
 * maps to 503, and the next call tries again.  A token that comes back with
 * a different key under the same name is ERR_P11_KEY_CHANGED, never used.
 *
 * Library code: nothing here prints. p11_detail() names the PKCS#11 call
 * and CKR_* value behind the last ERR_P11* code, in the manner of
 * err_crypto_detail().  A struct p11_key is for one thread (the signer
 * child is single-threaded); modules are initialised with CKF_OS_LOCKING_OK
 * all the same.  Open the key after fork(), never before: PKCS#11 sessions
 * do not survive a fork.
 */
#ifndef JITCA_P11_H
#define JITCA_P11_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"
#include "signer/pubkey.h"

#define P11_URI_MAX 2048 /* a whole URI, bytes */
#define P11_VALUE_MAX 255 /* one decoded attribute value, bytes */
#define P11_PIN_MAX 255 /* PIN file contents, bytes */
#define P11_MAX_SIG 2048 /* largest SSH signature blob (RSA-8192) */

/* A parsed URI: every field NULL (id_len 0) when not given; all owned. */
struct p11_uri {
	char *token; /* CK_TOKEN_INFO.label */
	char *manufacturer; /* CK_TOKEN_INFO.manufacturerID */
	char *serial; /* CK_TOKEN_INFO.serialNumber */
	char *model; /* CK_TOKEN_INFO.model */
	char *lib_manufacturer; /* CK_INFO.manufacturerID */
	char *lib_description; /* CK_INFO.libraryDescription */
	int has_lib_version;
	unsigned lib_major, lib_minor; /* CK_INFO.libraryVersion */
	char *object; /* CKA_LABEL */
	uint8_t *id; /* CKA_ID */
	size_t id_len;
	char *pin_source; /* a path (the "file:" scheme removed) */
	char *module_path;
};

/* 1 when s starts with the scheme "pkcs11:" (any case): what tells a
 * PKCS#11 key from a key file path in ca.key. */
int p11_uri_is(const char *s);
/* Parse the NUL-terminated URI s (rules above).  *out is new
 * (p11_uri_free). */
MUST_CHECK int p11_uri_parse(struct p11_uri **out, const char *s);
void p11_uri_free(struct p11_uri *u);

struct p11_key;

/*
 * Open the key named by uri.  module is the module's path (ca.pkcs11_module)
 * and pin_file the PIN file (ca.pin_file); either may be NULL when the URI
 * gives module-path / pin-source, and when both are given they must be
 * the same (ERR_P11_CONFLICT).  Errors: the URI codes; ERR_P11_NO_MODULE
 * (no module path at all), ERR_P11_MODULE (dlopen failed),
 * ERR_P11_NOT_MODULE (no C_GetFunctionList, or it fails); ERR_P11_PIN_FILE
 * (cannot open or read it, not a regular file), ERR_P11_PIN_FILE_MODE,
 * ERR_KEY_FILE_OWNER, ERR_TOO_LARGE; ERR_P11_NO_TOKEN, ERR_P11_AMBIGUOUS
 * (more than one token or key matches); ERR_P11_PIN_INCORRECT,
 * ERR_P11_PIN_LOCKED; ERR_P11_NO_OBJECT; ERR_P11_EXTRACTABLE;
 * ERR_P11_NO_PUBLIC; ERR_KEY_UNSUPPORTED_CA; ERR_P11 for anything else the
 * module says (see p11_detail()).  *out is new (p11_key_free).
 */
MUST_CHECK int p11_key_open(struct p11_key **out, const char *uri,
    const char *module, const char *pin_file);
/* Log out, close the session, finalize and unload the module, wipe the
 * PIN.  NULL is fine. */
void p11_key_free(struct p11_key *k);
/* The public key read from the token (borrowed; lives as long as k). */
const struct pubkey *p11_key_public(const struct p11_key *k);
/* SSH signature blob (string alg, string sig) over data; *sig is new.
 * ERR_TOKEN_UNAVAILABLE when the token is gone and reconnecting failed. */
MUST_CHECK int p11_key_sign(struct p11_key *k, uint8_t **sig, size_t *siglen,
    const uint8_t *data, size_t datalen);
/* cert_sign_fn adapter (cert.h): ctx is a struct p11_key *. */
int p11_sign_fn(void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *tbs,
    size_t tbslen);

/*
 * Generate a key pair of type t (KEY_ED25519, KEY_ECDSA_P256,
 * KEY_ECDSA_P384, KEY_RSA: 3072 bits) on the token the URI names, with
 * CKA_LABEL = the URI's object and CKA_ID = its id (both required here:
 * ERR_P11_URI_NO_KEY otherwise), CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE and
 * CKA_SIGN true, CKA_EXTRACTABLE false.  Refuses to make a second key
 * under a label or id already on the token (ERR_P11_EXISTS).  *out (may
 * be NULL) receives the new public key.  Same module/PIN rules and
 * errors as p11_key_open(); ERR_P11_MECHANISM when the token cannot make
 * that kind of key.
 */
MUST_CHECK int p11_key_generate(struct pubkey **out, const char *uri,
    const char *module, const char *pin_file, enum key_type t);

/* "C_Login: CKR_PIN_INCORRECT" for the last ERR_P11* of this thread;
 * "" when there is none.  Borrowed, thread-local. */
const char *p11_detail(void);
/* Name of a CKR_* value ("CKR_PIN_INCORRECT"), or "CKR_0x..." in a
 * static buffer for one this file does not know. */
const char *p11_rv_name(unsigned long rv);

/*
 * The seam for cakey.c: a CA key is either a file key (cakey.c's own
 * EVP_PKEY) or a key behind this table.  cakey.c keeps a pointer to the
 * table and the implementation's pointer, and dispatches cakey_sign(),
 * cakey_public() and cakey_free() through it.  p11_cakey_ops is the table
 * for a struct p11_key; its sign has the cert_sign_fn shape, so the same
 * function signs certificates directly in tests.
 */
struct cakey_ops {
	const char *name; /* "pkcs11" */
	int (*sign)(void *impl, uint8_t **sig, size_t *siglen,
	    const uint8_t *data, size_t datalen);
	const struct pubkey *(*pub)(const void *impl);
	void (*free)(void *impl);
};
extern const struct cakey_ops p11_cakey_ops;

#endif /* JITCA_P11_H */
