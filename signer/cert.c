/*
 * cert.c: OpenSSH user certificates (cert.h): the builder that writes the
 * to-be-signed body in the field order of PROTOCOL.certkeys, signing
 * through a callback, the strict parsers (whole blob, one-line form, and
 * the bare TBS the signer process is asked to sign), the signer's policy
 * check, and the one-line output form.
 *
 * It never holds a private key (cakey.c signs, through cert_sign()'s
 * callback) and knows nothing of roles or users: the alphabets and known
 * option names come from names.c, key fields and blobs from pubkey.c,
 * signature checks from verify.c, encoding from wire.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "signer/cert.h"
#include "signer/names.h"
#include "signer/wire.h"

/* Nonces shorter than this are refused by policy (ssh-keygen: 32). */
#define CERT_MIN_NONCE 16
/* Options per section: far more than OpenSSH knows of. */
#define CERT_MAX_OPTIONS 64
/* One-line form: base64 of CERT_MAX_BLOB plus type and comment. */
#define CERT_MAX_LINE (CERT_MAX_BLOB / 3 * 4 + 4096)

struct cert *
cert_new(void)
{
	struct cert *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->type = CERT_TYPE_USER;
	return c;
}

void
cert_options_free(struct cert_option *o, size_t n)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(o[i].name);
		free(o[i].value);
	}
	free(o);
}

void
cert_free(struct cert *c)
{
	size_t i;

	if (c == NULL)
		return;
	pubkey_free(c->key);
	pubkey_free(c->ca_key);
	free(c->key_id);
	for (i = 0; i < c->nprincipals; i++)
		free(c->principals[i]);
	free(c->principals);
	cert_options_free(c->critical, c->ncritical);
	cert_options_free(c->extensions, c->nextensions);
	free(c->blob);
	free(c->sig_alg);
	free(c);
}

/* Append a copy of s[0..len) (no NUL inside) to the principal list. */
static int
principal_append(struct cert *c, const char *s, size_t len)
{
	char **np;
	char *cp;

	if (c->nprincipals >= CERT_MAX_PRINCIPALS)
		return ERR_CERT_TOO_MANY_PRINCIPALS;
	if ((cp = strndup(s, len)) == NULL)
		return ERR_ALLOC;
	np = reallocarray(c->principals, c->nprincipals + 1, sizeof(*np));
	if (np == NULL) {
		free(cp);
		return ERR_ALLOC;
	}
	np[c->nprincipals++] = cp;
	c->principals = np;
	return 0;
}

int
cert_add_principal(struct cert *c, const char *p)
{
	if (c == NULL || p == NULL || *p == '\0')
		return ERR_INVALID_ARG;
	return principal_append(c, p, strlen(p));
}

/* Append name/value (value may be NULL: a flag) to a list. */
static int
option_append(struct cert_option **list, size_t *n, const char *name,
    size_t namelen, const char *value, size_t valuelen)
{
	struct cert_option *nl;
	char *nm = NULL, *val = NULL;

	if (*n >= CERT_MAX_OPTIONS)
		return ERR_TOO_LARGE;
	if ((nm = strndup(name, namelen)) == NULL ||
	    (value != NULL && (val = strndup(value, valuelen)) == NULL)) {
		free(nm);
		return ERR_ALLOC;
	}
	if ((nl = reallocarray(*list, *n + 1, sizeof(*nl))) == NULL) {
		free(nm);
		free(val);
		return ERR_ALLOC;
	}
	nl[*n].name = nm;
	nl[*n].value = val;
	(*n)++;
	*list = nl;
	return 0;
}

int
cert_add_critical(struct cert *c, const char *name, const char *value)
{
	if (c == NULL || name == NULL || *name == '\0')
		return ERR_INVALID_ARG;
	return option_append(&c->critical, &c->ncritical, name, strlen(name),
	    value, value == NULL ? 0 : strlen(value));
}

int
cert_add_extension(struct cert *c, const char *name, const char *value)
{
	if (c == NULL || name == NULL || *name == '\0')
		return ERR_INVALID_ARG;
	return option_append(&c->extensions, &c->nextensions, name,
	    strlen(name), value, value == NULL ? 0 : strlen(value));
}

int
cert_set_random_nonce(struct cert *c)
{
	if (c == NULL)
		return ERR_INVALID_ARG;
	if (RAND_bytes(c->nonce, CERT_NONCE_LEN) != 1) {
		err_crypto_set();
		return ERR_CRYPTO;
	}
	c->nonce_len = CERT_NONCE_LEN;
	return 0;
}

/* Encoding ---------------------------------------------------------------- */

static int
option_cmp(const void *a, const void *b)
{
	const struct cert_option *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Sort by byte-wise name (1.4) and refuse a name given twice. */
int
cert_options_sort(struct cert_option *o, size_t n)
{
	size_t i;

	if (n > 1)
		qsort(o, n, sizeof(*o), option_cmp);
	for (i = 0; i < n; i++) {
		if (o[i].name == NULL || o[i].name[0] == '\0')
			return ERR_BAD_FORMAT;
		if (i > 0 && strcmp(o[i - 1].name, o[i].name) == 0)
			return ERR_CERT_DUPLICATE_OPTION;
	}
	return 0;
}

/* The contents of a critical-options or extensions section. */
static int
options_put(struct wire *w, const struct cert_option *o, size_t n)
{
	struct wire *sec = NULL, *data = NULL;
	size_t i;
	int r = ERR_INTERNAL;

	if ((sec = wire_new(CERT_MAX_BLOB)) == NULL ||
	    (data = wire_new(CERT_MAX_BLOB)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		wire_reset(data);
		/* A flag has empty data; a value is a string inside it. */
		if (o[i].value != NULL &&
		    (r = wire_put_cstring(data, o[i].value)) != 0)
			goto out;
		if ((r = wire_put_cstring(sec, o[i].name)) != 0 ||
		    (r = wire_put_stringb(sec, data)) != 0)
			goto out;
	}
	if ((r = wire_put_stringb(w, sec)) != 0)
		goto out;
	r = 0;
out:
	wire_free(data);
	wire_free(sec);
	return r;
}

int
cert_encode_tbs(struct wire *w, struct cert *c)
{
	struct wire *pr = NULL;
	const char *tname;
	size_t i;
	int r = ERR_INTERNAL;

	if (w == NULL || c == NULL || c->key == NULL || c->ca_key == NULL ||
	    c->nonce_len > CERT_NONCE_LEN ||
	    (c->type != CERT_TYPE_USER && c->type != CERT_TYPE_HOST))
		return ERR_INVALID_ARG;
	if (c->serial == 0)
		return ERR_CERT_SERIAL_ZERO;
	if (c->nprincipals > CERT_MAX_PRINCIPALS)
		return ERR_CERT_TOO_MANY_PRINCIPALS;
	for (i = 0; i < c->nprincipals; i++) {
		if (c->principals[i] == NULL || c->principals[i][0] == '\0')
			return ERR_CERT_BAD_PRINCIPAL;
	}
	if ((r = cert_options_sort(c->critical, c->ncritical)) != 0 ||
	    (r = cert_options_sort(c->extensions, c->nextensions)) != 0)
		return r;
	if ((tname = key_type_cert_name(pubkey_type(c->key))) == NULL)
		return ERR_KEY_UNKNOWN_TYPE;
	if ((pr = wire_new(CERT_MAX_BLOB)) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < c->nprincipals; i++) {
		if ((r = wire_put_cstring(pr, c->principals[i])) != 0)
			goto out;
	}
	/* PROTOCOL.certkeys, in order. */
	if ((r = wire_put_cstring(w, tname)) != 0 ||
	    (r = wire_put_string(w, c->nonce, c->nonce_len)) != 0 ||
	    (r = pubkey_put_fields(w, c->key)) != 0 ||
	    (r = wire_put_u64(w, c->serial)) != 0 ||
	    (r = wire_put_u32(w, c->type)) != 0 ||
	    (r = wire_put_cstring(w, c->key_id ? c->key_id : "")) != 0 ||
	    (r = wire_put_stringb(w, pr)) != 0 ||
	    (r = wire_put_u64(w, c->valid_after)) != 0 ||
	    (r = wire_put_u64(w, c->valid_before)) != 0 ||
	    (r = options_put(w, c->critical, c->ncritical)) != 0 ||
	    (r = options_put(w, c->extensions, c->nextensions)) != 0 ||
	    (r = wire_put_string(w, NULL, 0)) != 0 || /* reserved */
	    (r = pubkey_put_blob(w, c->ca_key)) != 0)
		goto out;
	r = 0;
out:
	wire_free(pr);
	return r;
}

int
cert_sign(struct cert *c, cert_sign_fn *fn, void *ctx)
{
	struct wire *w = NULL;
	uint8_t *sig = NULL, *blob = NULL;
	size_t siglen = 0, bloblen = 0, tbslen;
	const char *alg = NULL;
	char *algcp = NULL;
	int r = ERR_INTERNAL;

	if (c == NULL || fn == NULL)
		return ERR_INVALID_ARG;
	if ((w = wire_new(CERT_MAX_BLOB)) == NULL)
		return ERR_ALLOC;
	if ((r = cert_encode_tbs(w, c)) != 0)
		goto out;
	tbslen = wire_len(w);
	if ((r = fn(ctx, &sig, &siglen, wire_ptr(w), tbslen)) != 0)
		goto out;
	ENSURE(sig != NULL, ERR_INTERNAL);
	/* Never hand out a certificate that would not verify. */
	if ((r = pubkey_verify(
		 c->ca_key, sig, siglen, wire_ptr(w), tbslen, &alg)) != 0)
		goto out;
	if ((r = wire_put_string(w, sig, siglen)) != 0 ||
	    (r = wire_dup(w, &blob, &bloblen)) != 0)
		goto out;
	if ((algcp = strdup(alg)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	free(c->blob);
	free(c->sig_alg);
	c->blob = blob;
	c->blob_len = bloblen;
	c->tbs_len = tbslen;
	c->sig_alg = algcp;
	blob = NULL;
	algcp = NULL;
	r = 0;
out:
	free(sig);
	free(blob);
	free(algcp);
	wire_free(w);
	return r;
}

/* Parsing ------------------------------------------------------------------ */

/* The key type whose certificate type string is name[0..len). */
static enum key_type
cert_type_from_name(const char *name, size_t len)
{
	static const enum key_type all[] = {KEY_ED25519, KEY_ECDSA_P256,
	    KEY_ECDSA_P384, KEY_ECDSA_P521, KEY_RSA};
	const char *cn;
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		cn = key_type_cert_name(all[i]);
		if (cn != NULL && strlen(cn) == len &&
		    memcmp(cn, name, len) == 0)
			return all[i];
	}
	return KEY_UNSPEC;
}

/* Inside a nested list, running out of bytes is a malformed list, not a
 * truncated certificate. */
static int
nested(int r)
{
	return r == ERR_BUF_SHORT ? ERR_BAD_FORMAT : r;
}

static int
principals_parse(struct cert *c, struct wire *sec)
{
	const char *p;
	size_t len;
	int r;

	while (wire_len(sec) > 0) {
		if (c->nprincipals >= CERT_MAX_PRINCIPALS)
			return ERR_CERT_TOO_MANY_PRINCIPALS;
		if ((r = wire_get_cstring_direct(sec, &p, &len)) != 0)
			return nested(r);
		if ((r = principal_append(c, p, len)) != 0)
			return r;
	}
	return 0;
}

/* One section of name/data pairs (1.4).  critical selects which names
 * are known; a known flag must have empty data, a known value option
 * exactly one string; unknown names are a flag or a single string. */
static int
options_parse(
    struct cert_option **list, size_t *n, struct wire *sec, int critical)
{
	const char *name, *prev = NULL, *val;
	size_t nlen, prevlen = 0, vlen, dlen;
	const uint8_t *dp;
	struct wire *data = NULL;
	char *nm = NULL;
	int known, has_value, cmp, r = ERR_INTERNAL;

	while (wire_len(sec) > 0) {
		if ((r = wire_get_cstring_direct(sec, &name, &nlen)) != 0 ||
		    (r = wire_get_string_direct(sec, &dp, &dlen)) != 0) {
			r = nested(r);
			goto out;
		}
		ENSURE(nlen > 0, ERR_BAD_FORMAT);
		if (prev != NULL) {
			cmp =
			    memcmp(prev, name, prevlen < nlen ? prevlen : nlen);
			if (cmp == 0)
				cmp = prevlen < nlen ? -1 : prevlen > nlen;
			ENSURE(cmp != 0, ERR_CERT_DUPLICATE_OPTION);
			ENSURE(cmp < 0, ERR_BAD_FORMAT);
		}
		prev = name;
		prevlen = nlen;
		if ((nm = strndup(name, nlen)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		has_value = 0;
		known = critical ? name_critical_known(nm, &has_value)
				 : name_extension_known(nm);
		if (dlen == 0) {
			/* A flag; a known value option needs its string. */
			ENSURE(
			    !(known && has_value), ERR_CERT_BAD_OPTION_VALUE);
			val = NULL;
			vlen = 0;
		} else {
			ENSURE(
			    !(known && !has_value), ERR_CERT_BAD_OPTION_VALUE);
			if ((data = wire_from(dp, dlen)) == NULL) {
				r = ERR_ALLOC;
				goto out;
			}
			if ((r = wire_get_cstring_direct(data, &val, &vlen)) !=
			    0) {
				r = r == ERR_STRING_NUL
				    ? r
				    : ERR_CERT_BAD_OPTION_VALUE;
				goto out;
			}
			ENSURE(wire_len(data) == 0, ERR_CERT_BAD_OPTION_VALUE);
			wire_free(data);
			data = NULL;
		}
		TRY(option_append(list, n, name, nlen, val, vlen));
		free(nm);
		nm = NULL;
	}
	r = 0;
out:
	free(nm);
	wire_free(data);
	return r;
}

/* The CA key blob: a plain key; a certificate is ERR_CERT_CA_IS_CERT. */
static int
ca_key_parse(struct pubkey **out, const uint8_t *p, size_t len)
{
	static const char sfx[] = "-cert-v01@openssh.com";
	struct wire *w;
	const uint8_t *t;
	size_t tlen;
	int r;

	*out = NULL;
	if ((w = wire_from(p, len)) == NULL)
		return ERR_ALLOC;
	r = wire_get_string_direct(w, &t, &tlen);
	wire_free(w);
	if (r != 0)
		return nested(r);
	if (tlen >= sizeof(sfx) - 1 &&
	    memcmp(t + tlen - (sizeof(sfx) - 1), sfx, sizeof(sfx) - 1) == 0)
		return ERR_CERT_CA_IS_CERT;
	r = pubkey_from_blob(out, p, len);
	return r == ERR_KEY_IS_CERT ? ERR_CERT_CA_IS_CERT : r;
}

/* What cert_parse() reads. */
enum parse_what {
	PARSE_TBS, /* a TBS: must end right after the signature key */
	PARSE_VERIFIED, /* a whole blob, the signature verified */
	PARSE_RECORDED, /* a whole blob the CA recorded: not verified */
};

/* The algorithm name a signature blob (string alg, string sig) starts
 * with, as a new string, without verifying anything. */
static int
sig_alg_dup(const uint8_t *sig, size_t siglen, char **out)
{
	struct wire *w;
	const char *alg;
	size_t alen;
	int r;

	*out = NULL;
	if ((w = wire_from(sig, siglen)) == NULL)
		return ERR_ALLOC;
	if ((r = wire_get_cstring_direct(w, &alg, &alen)) == 0 &&
	    (*out = strndup(alg, alen)) == NULL)
		r = ERR_ALLOC;
	wire_free(w);
	return r;
}

/*
 * Parse a certificate body from buf: a TBS, or a whole blob (signature
 * string last).  Sets c->tbs_len to the signed prefix length.
 */
static int
cert_parse(
    struct cert **out, const uint8_t *buf, size_t len, enum parse_what what)
{
	struct wire *w = NULL, *sec = NULL;
	struct cert *c = NULL;
	const char *tname, *alg = NULL;
	size_t tlen, klen, nlen, rlen, siglen;
	const uint8_t *kp, *np, *rp, *sig;
	enum key_type t;
	uint32_t type;
	int r = ERR_INTERNAL;

	*out = NULL;
	if (buf == NULL && len != 0)
		return ERR_INVALID_ARG;
	if (len > CERT_MAX_BLOB)
		return ERR_TOO_LARGE;
	if ((w = wire_from(buf, len)) == NULL || (c = cert_new()) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = wire_get_cstring_direct(w, &tname, &tlen)) != 0)
		goto out;
	t = cert_type_from_name(tname, tlen);
	ENSURE(t != KEY_UNSPEC, ERR_KEY_UNKNOWN_TYPE);
	if ((r = wire_get_string_direct(w, &np, &nlen)) != 0)
		goto out;
	/* Our struct holds up to 32 bytes, what ssh-keygen writes. */
	ENSURE(nlen <= CERT_NONCE_LEN, ERR_CERT_NONCE);
	if (nlen > 0)
		memcpy(c->nonce, np, nlen);
	c->nonce_len = nlen;
	if ((r = pubkey_from_fields(&c->key, t, w)) != 0 ||
	    (r = wire_get_u64(w, &c->serial)) != 0 ||
	    (r = wire_get_u32(w, &type)) != 0)
		goto out;
	ENSURE(
	    type == CERT_TYPE_USER || type == CERT_TYPE_HOST, ERR_BAD_FORMAT);
	c->type = type;
	if ((r = wire_get_cstring(w, &c->key_id, NULL)) != 0)
		goto out;
	if ((r = wire_get_wire(w, &sec)) != 0 ||
	    (r = principals_parse(c, sec)) != 0)
		goto out;
	wire_free(sec);
	sec = NULL;
	if ((r = wire_get_u64(w, &c->valid_after)) != 0 ||
	    (r = wire_get_u64(w, &c->valid_before)) != 0)
		goto out;
	if ((r = wire_get_wire(w, &sec)) != 0 ||
	    (r = options_parse(&c->critical, &c->ncritical, sec, 1)) != 0)
		goto out;
	wire_free(sec);
	sec = NULL;
	if ((r = wire_get_wire(w, &sec)) != 0 ||
	    (r = options_parse(&c->extensions, &c->nextensions, sec, 0)) != 0)
		goto out;
	wire_free(sec);
	sec = NULL;
	if ((r = wire_get_string_direct(w, &rp, &rlen)) != 0)
		goto out;
	ENSURE(rlen == 0, ERR_BAD_FORMAT); /* reserved */
	if ((r = wire_get_string_direct(w, &kp, &klen)) != 0)
		goto out;
	if ((r = ca_key_parse(&c->ca_key, kp, klen)) != 0)
		goto out;
	c->tbs_len = len - wire_len(w);
	if (what != PARSE_TBS) {
		if ((r = wire_get_string_direct(w, &sig, &siglen)) != 0)
			goto out;
		ENSURE(wire_len(w) == 0, ERR_TRAILING_DATA);
		if (what == PARSE_VERIFIED) {
			if ((r = pubkey_verify(c->ca_key, sig, siglen, buf,
				 c->tbs_len, &alg)) != 0)
				goto out;
			c->sig_alg = strdup(alg);
		} else if ((r = sig_alg_dup(sig, siglen, &c->sig_alg)) != 0)
			goto out;
		if (c->sig_alg == NULL || (c->blob = malloc(len)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		memcpy(c->blob, buf, len);
		c->blob_len = len;
	} else
		ENSURE(wire_len(w) == 0, ERR_TRAILING_DATA);
	*out = c;
	c = NULL;
	r = 0;
out:
	wire_free(sec);
	wire_free(w);
	cert_free(c);
	return r;
}

int
cert_from_blob(struct cert **out, const uint8_t *blob, size_t len)
{
	if (out == NULL)
		return ERR_INVALID_ARG;
	return cert_parse(out, blob, len, PARSE_VERIFIED);
}

int
cert_from_tbs(struct cert **out, const uint8_t *tbs, size_t len)
{
	if (out == NULL)
		return ERR_INVALID_ARG;
	return cert_parse(out, tbs, len, PARSE_TBS);
}

static int
line_parse(
    struct cert **out, const char *line, size_t len, enum parse_what what)
{
	struct cert *c = NULL;
	uint8_t *blob = NULL;
	size_t bloblen = 0, tlen, b64len;
	const char *tname, *b64, *want;
	int r = ERR_INTERNAL;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if (line == NULL)
		return ERR_INVALID_ARG;
	if (len > CERT_MAX_LINE)
		return ERR_TOO_LARGE;
	if (memchr(line, '\0', len) != NULL)
		return ERR_STRING_NUL;
	TRY(pubkey_line_split(
	    line, len, CERT_MAX_LINE, &tname, &tlen, &b64, &b64len));
	TRY(wire_b64_decode(&blob, &bloblen, b64, b64len));
	TRY(cert_parse(&c, blob, bloblen, what));
	want = key_type_cert_name(pubkey_type(c->key));
	ENSURE(want != NULL && strlen(want) == tlen &&
		memcmp(want, tname, tlen) == 0,
	    ERR_KEY_TYPE_MISMATCH);
	*out = c;
	c = NULL;
	r = 0;
out:
	free(blob);
	cert_free(c);
	return r;
}

int
cert_from_line(struct cert **out, const char *line, size_t len)
{
	return line_parse(out, line, len, PARSE_VERIFIED);
}

int
cert_from_recorded_line(struct cert **out, const char *line, size_t len)
{
	return line_parse(out, line, len, PARSE_RECORDED);
}

/* Policy ------------------------------------------------------------------- */

static int
options_dup_check(const struct cert_option *o, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (strcmp(o[i].name, o[j].name) == 0)
				return ERR_CERT_DUPLICATE_OPTION;
		}
	}
	return 0;
}

/* force-command: a non-empty command without control characters. */
static int
command_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	}
	return 1;
}

int
cert_check_policy(
    const struct cert *c, const struct cert_limits *lim, uint64_t now)
{
	const struct cert_option *o;
	size_t i;
	int has_value, r = ERR_INTERNAL;

	if (c == NULL || lim == NULL || c->key == NULL || c->ca_key == NULL)
		return ERR_INVALID_ARG;
	ENSURE(c->type == CERT_TYPE_USER, ERR_CERT_NOT_USER);
	ENSURE(c->nprincipals > 0, ERR_CERT_NO_PRINCIPALS);
	ENSURE(c->nprincipals <= CERT_MAX_PRINCIPALS,
	    ERR_CERT_TOO_MANY_PRINCIPALS);
	for (i = 0; i < c->nprincipals; i++)
		ENSURE(name_principal_valid(c->principals[i]),
		    ERR_CERT_BAD_PRINCIPAL);
	ENSURE(name_key_id_valid(c->key_id), ERR_CERT_BAD_KEY_ID);
	ENSURE(c->serial != 0, ERR_CERT_SERIAL_ZERO);
	/* "forever" is never issued (docs/design.md invariant 4). */
	ENSURE(
	    c->valid_before > c->valid_after && c->valid_before != UINT64_MAX,
	    ERR_CERT_VALIDITY);
	ENSURE(c->valid_before <= now ||
		c->valid_before - now <= lim->hard_max_ttl,
	    ERR_CERT_TOO_LONG);
	ENSURE(
	    c->valid_after >= now || now - c->valid_after <= lim->max_backdate,
	    ERR_CERT_BACKDATE);
	for (i = 0; i < c->ncritical; i++) {
		o = &c->critical[i];
		ENSURE(name_critical_known(o->name, &has_value),
		    ERR_CERT_UNKNOWN_OPTION);
		ENSURE(
		    has_value == (o->value != NULL), ERR_CERT_BAD_OPTION_VALUE);
		if (strcmp(o->name, "source-address") == 0)
			ENSURE(name_cidr_list_check(o->value) == 0,
			    ERR_CERT_BAD_OPTION_VALUE);
		else if (strcmp(o->name, "force-command") == 0)
			ENSURE(
			    command_valid(o->value), ERR_CERT_BAD_OPTION_VALUE);
	}
	if ((r = options_dup_check(c->critical, c->ncritical)) != 0)
		goto out;
	for (i = 0; i < c->nextensions; i++) {
		o = &c->extensions[i];
		ENSURE(
		    name_extension_known(o->name), ERR_CERT_UNKNOWN_EXTENSION);
		ENSURE(o->value == NULL, ERR_CERT_BAD_OPTION_VALUE);
	}
	if ((r = options_dup_check(c->extensions, c->nextensions)) != 0)
		goto out;
	ENSURE(c->nonce_len >= CERT_MIN_NONCE && c->nonce_len <= CERT_NONCE_LEN,
	    ERR_CERT_NONCE);
	r = 0;
out:
	return r;
}

int
cert_check_host_policy(
    const struct cert *c, const struct cert_limits *lim, uint64_t now)
{
	size_t i;
	int r = ERR_INTERNAL;

	if (c == NULL || lim == NULL || c->key == NULL || c->ca_key == NULL)
		return ERR_INVALID_ARG;
	ENSURE(c->type == CERT_TYPE_HOST, ERR_CERT_NOT_HOST);
	ENSURE(c->nprincipals > 0, ERR_CERT_NO_PRINCIPALS);
	ENSURE(c->nprincipals <= CERT_MAX_PRINCIPALS,
	    ERR_CERT_TOO_MANY_PRINCIPALS);
	for (i = 0; i < c->nprincipals; i++)
		ENSURE(
		    name_host_valid(c->principals[i]), ERR_CERT_BAD_HOST_NAME);
	ENSURE(name_key_id_valid(c->key_id), ERR_CERT_BAD_KEY_ID);
	ENSURE(c->serial != 0, ERR_CERT_SERIAL_ZERO);
	ENSURE(c->ncritical == 0, ERR_CERT_UNKNOWN_OPTION);
	ENSURE(c->nextensions == 0, ERR_CERT_UNKNOWN_EXTENSION);
	ENSURE(
	    c->valid_before > c->valid_after && c->valid_before != UINT64_MAX,
	    ERR_CERT_VALIDITY);
	ENSURE(c->valid_before <= now ||
		c->valid_before - now <= lim->host_max_ttl,
	    ERR_CERT_TOO_LONG);
	ENSURE(
	    c->valid_after >= now || now - c->valid_after <= lim->max_backdate,
	    ERR_CERT_BACKDATE);
	ENSURE(c->nonce_len >= CERT_MIN_NONCE && c->nonce_len <= CERT_NONCE_LEN,
	    ERR_CERT_NONCE);
	r = 0;
out:
	return r;
}

int
cert_to_line(char **out, const struct cert *c, const char *comment)
{
	const char *tname;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if (c == NULL || c->blob == NULL || c->key == NULL)
		return ERR_INVALID_ARG;
	if ((tname = key_type_cert_name(pubkey_type(c->key))) == NULL)
		return ERR_KEY_UNKNOWN_TYPE;
	return pubkey_line_join(
	    out, tname, c->blob, c->blob_len, comment, CERT_MAX_LINE);
}
