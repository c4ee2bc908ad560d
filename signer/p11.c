/*
 * p11.c: the PKCS#11 CA keys of p11.h: the RFC 7512 URI parser, the
 * module (dlopen, C_GetFunctionList, C_Initialize), finding the token and
 * the key, the PIN file, signing with reconnection, and key generation
 * on the token.
 *
 * It does not build certificates (cert.c), verify signatures (verify.c)
 * or decide where keys are configured (the signer and jitcad init do).
 * Public keys are made by encoding an SSH wire blob from the token's
 * attributes and parsing it with pubkey_from_blob(), so every check of
 * pubkey.c (point on the curve, RSA size) applies to token keys too.
 * Signature blobs are written with wire.c exactly as cakey.c writes them.
 *
 * Modules are reference-counted by function list: two keys on the same
 * module share one C_Initialize, and only the last one finalizes.  A
 * reconnection re-initializes the module (which makes SoftHSM2 and most
 * HSM modules look for their tokens again) only when this key is its
 * sole user; otherwise it reopens the session.  Reconnection never logs
 * in again after the token refused the PIN once, so a changed PIN cannot
 * lock the token by retries.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Debian's libp11-kit-dev puts pkcs11.h under /usr/include/p11-kit-1;
 * naming that directory here needs no extra include path in the build. */
#include <p11-kit-1/p11-kit/pkcs11.h>

#include "signer/base/fileio.h"
#include "signer/p11.h"
#include "signer/wire.h"

#define P11_MAX_SLOTS 256
#define P11_MAX_ATTR 8192 /* one attribute read from the token */
#define P11_PATH_MAX 1024 /* pin-source and module-path values */
#define P11_RSA_MIN_BITS 2048
#define P11_RSA_MAX_BITS 8192
#define P11_RSA_GEN_BITS 3072
#define P11_MAX_MODULES 8

/* Key states. */
#define P11_OK 0
#define P11_BROKEN 1 /* reconnect before the next use */
#define P11_DEAD 2 /* refused the PIN or changed key: never retried */

struct p11_key {
	struct p11_uri *uri;
	char *module_path;
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	int initialized; /* holds a reference in mods[] */
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE sess;
	int has_sess;
	CK_OBJECT_HANDLE priv;
	int always_auth; /* CKA_ALWAYS_AUTHENTICATE: log in per signature */
	enum key_type type;
	size_t raw_len; /* bytes of the raw signature */
	struct pubkey *pub;
	int state;
	int dead_code;
	size_t pin_len;
	uint8_t pin[P11_PIN_MAX + 1];
};

static _Thread_local char detail[512];

const char *
p11_detail(void)
{
	return detail;
}

static void
set_detail(const char *fn, const char *what)
{
	(void)snprintf(detail, sizeof(detail), "%s: %s", fn, what);
}

const char *
p11_rv_name(unsigned long rv)
{
	static _Thread_local char buf[32];

	switch (rv) {
#define N(x)                                                                   \
	case x:                                                                \
		return #x
		N(CKR_OK);
		N(CKR_CANCEL);
		N(CKR_HOST_MEMORY);
		N(CKR_SLOT_ID_INVALID);
		N(CKR_GENERAL_ERROR);
		N(CKR_FUNCTION_FAILED);
		N(CKR_ARGUMENTS_BAD);
		N(CKR_ATTRIBUTE_SENSITIVE);
		N(CKR_ATTRIBUTE_TYPE_INVALID);
		N(CKR_ATTRIBUTE_VALUE_INVALID);
		N(CKR_DATA_INVALID);
		N(CKR_DATA_LEN_RANGE);
		N(CKR_DEVICE_ERROR);
		N(CKR_DEVICE_MEMORY);
		N(CKR_DEVICE_REMOVED);
		N(CKR_FUNCTION_CANCELED);
		N(CKR_FUNCTION_NOT_SUPPORTED);
		N(CKR_KEY_HANDLE_INVALID);
		N(CKR_KEY_TYPE_INCONSISTENT);
		N(CKR_KEY_FUNCTION_NOT_PERMITTED);
		N(CKR_MECHANISM_INVALID);
		N(CKR_MECHANISM_PARAM_INVALID);
		N(CKR_OBJECT_HANDLE_INVALID);
		N(CKR_OPERATION_ACTIVE);
		N(CKR_OPERATION_NOT_INITIALIZED);
		N(CKR_PIN_INCORRECT);
		N(CKR_PIN_INVALID);
		N(CKR_PIN_LEN_RANGE);
		N(CKR_PIN_EXPIRED);
		N(CKR_PIN_LOCKED);
		N(CKR_SESSION_CLOSED);
		N(CKR_SESSION_COUNT);
		N(CKR_SESSION_HANDLE_INVALID);
		N(CKR_SESSION_READ_ONLY);
		N(CKR_TEMPLATE_INCOMPLETE);
		N(CKR_TEMPLATE_INCONSISTENT);
		N(CKR_TOKEN_NOT_PRESENT);
		N(CKR_TOKEN_NOT_RECOGNIZED);
		N(CKR_TOKEN_WRITE_PROTECTED);
		N(CKR_USER_ALREADY_LOGGED_IN);
		N(CKR_USER_NOT_LOGGED_IN);
		N(CKR_USER_PIN_NOT_INITIALIZED);
		N(CKR_USER_TYPE_INVALID);
		N(CKR_DOMAIN_PARAMS_INVALID);
		N(CKR_CURVE_NOT_SUPPORTED);
		N(CKR_BUFFER_TOO_SMALL);
		N(CKR_CRYPTOKI_NOT_INITIALIZED);
		N(CKR_CRYPTOKI_ALREADY_INITIALIZED);
		N(CKR_FUNCTION_REJECTED);
#undef N
	}
	(void)snprintf(buf, sizeof(buf), "CKR_0x%lx", rv);
	return buf;
}

/* The CKR_* values that mean "the session, token or module went away":
 * worth one reconnection. */
static int
rv_gone(CK_RV rv)
{
	switch (rv) {
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_DEVICE_REMOVED:
	case CKR_DEVICE_ERROR:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_TOKEN_NOT_RECOGNIZED:
	case CKR_USER_NOT_LOGGED_IN:
	case CKR_SLOT_ID_INVALID:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
		return 1;
	}
	return 0;
}

/* Record fn and rv and map rv to an error code. */
static int
p11_fail(const char *fn, CK_RV rv)
{
	set_detail(fn, p11_rv_name(rv));
	if (rv_gone(rv))
		return ERR_TOKEN_UNAVAILABLE;
	switch (rv) {
	case CKR_HOST_MEMORY:
		return ERR_ALLOC;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		return ERR_P11_PIN_INCORRECT;
	case CKR_PIN_LOCKED:
	case CKR_PIN_EXPIRED:
		return ERR_P11_PIN_LOCKED;
	case CKR_MECHANISM_INVALID:
	case CKR_MECHANISM_PARAM_INVALID:
	case CKR_CURVE_NOT_SUPPORTED:
	case CKR_DOMAIN_PARAMS_INVALID:
		return ERR_P11_MECHANISM;
	}
	return ERR_P11;
}

/* ---- URIs (RFC 7512 section 2.3) ----------------------------------- */

int
p11_uri_is(const char *s)
{
	return s != NULL && strncasecmp(s, "pkcs11:", 7) == 0;
}

void
p11_uri_free(struct p11_uri *u)
{
	if (u == NULL)
		return;
	free(u->token);
	free(u->manufacturer);
	free(u->serial);
	free(u->model);
	free(u->lib_manufacturer);
	free(u->lib_description);
	free(u->object);
	free(u->id);
	free(u->pin_source);
	free(u->module_path);
	free(u);
}

enum uri_kind {
	U_TEXT, /* printable text, into a char * */
	U_BYTES, /* any bytes (id) */
	U_VERSION, /* library-version */
	U_TYPE, /* type */
	U_PATH, /* module-path: an absolute path */
	U_PIN_SOURCE, /* file:PATH or PATH */
	U_PIN_VALUE, /* always refused */
};

struct uri_attr {
	const char *name;
	int query; /* 1: after '?' */
	enum uri_kind kind;
	size_t max; /* decoded bytes */
	size_t off; /* of the char * (or uint8_t *) in struct p11_uri */
};

#define OFF(f) offsetof(struct p11_uri, f)
static const struct uri_attr uri_attrs[] = {
    {"token", 0, U_TEXT, 32, OFF(token)},
    {"manufacturer", 0, U_TEXT, 32, OFF(manufacturer)},
    {"serial", 0, U_TEXT, 16, OFF(serial)},
    {"model", 0, U_TEXT, 16, OFF(model)},
    {"library-manufacturer", 0, U_TEXT, 32, OFF(lib_manufacturer)},
    {"library-description", 0, U_TEXT, 32, OFF(lib_description)},
    {"library-version", 0, U_VERSION, 7, 0},
    {"object", 0, U_TEXT, P11_VALUE_MAX, OFF(object)},
    {"id", 0, U_BYTES, P11_VALUE_MAX, OFF(id)},
    {"type", 0, U_TYPE, 16, 0},
    {"pin-source", 1, U_PIN_SOURCE, P11_PATH_MAX, OFF(pin_source)},
    {"pin-value", 1, U_PIN_VALUE, P11_PATH_MAX, 0},
    {"module-path", 1, U_PATH, P11_PATH_MAX, OFF(module_path)},
};
#undef OFF

/* RFC 7512: pk11-unreserved and pk11-res-avail, plus '&' in the path
 * and '/', '?', '|' in the query. */
static int
uri_char_ok(unsigned char c, int query)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	if (c != '\0' && strchr("-._~:[]@!$'()*+,=", c) != NULL)
		return 1;
	if (!query)
		return c == '&';
	return c == '/' || c == '?' || c == '|';
}

/* Percent-decode p[0..n) into out (room for max bytes, plus a NUL). */
static int
uri_decode(const char *p, size_t n, int query, uint8_t *out, size_t max,
    size_t *outlen)
{
	size_t i, o = 0;
	int hi, lo;
	unsigned char c;

	*outlen = 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '%') {
			if (i + 2 >= n)
				return ERR_P11_URI_PERCENT;
			if ((hi = wire_hex_value((unsigned char)p[i + 1])) <
				0 ||
			    (lo = wire_hex_value((unsigned char)p[i + 2])) < 0)
				return ERR_P11_URI_PERCENT;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (!uri_char_ok(c, query))
			return ERR_P11_URI_SYNTAX;
		if (o >= max)
			return ERR_P11_URI_VALUE;
		out[o++] = c;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* "M" or "M.N", each 0..255 (CK_VERSION bytes). */
static int
uri_version(struct p11_uri *u, const uint8_t *v, size_t len)
{
	unsigned part[2] = {0, 0};
	size_t i, digits = 0;
	int which = 0;

	for (i = 0; i < len; i++) {
		if (v[i] == '.' && which == 0 && digits > 0) {
			which = 1;
			digits = 0;
			continue;
		}
		if (v[i] < '0' || v[i] > '9' || digits >= 3)
			return ERR_P11_URI_VALUE;
		part[which] = part[which] * 10 + (unsigned)(v[i] - '0');
		digits++;
	}
	if (digits == 0 || part[0] > 255 || part[1] > 255)
		return ERR_P11_URI_VALUE;
	u->has_lib_version = 1;
	u->lib_major = part[0];
	u->lib_minor = part[1];
	return 0;
}

/* One "name=value" of the path (query 0) or the query (query 1). */
static int
uri_attr_one(
    struct p11_uri *u, unsigned *seen, const char *p, size_t n, int query)
{
	const struct uri_attr *a = NULL;
	const char *eq, *path;
	uint8_t *v = NULL;
	size_t i, vlen = 0, namelen;
	char **sp;
	int r = ERR_INTERNAL;

	eq = memchr(p, '=', n);
	ENSURE(n > 0 && eq != NULL && eq != p, ERR_P11_URI_SYNTAX);
	namelen = (size_t)(eq - p);
	for (i = 0; i < sizeof(uri_attrs) / sizeof(uri_attrs[0]); i++) {
		if (uri_attrs[i].query == query &&
		    strlen(uri_attrs[i].name) == namelen &&
		    memcmp(uri_attrs[i].name, p, namelen) == 0) {
			a = &uri_attrs[i];
			break;
		}
	}
	ENSURE(a != NULL, ERR_P11_URI_ATTR);
	ENSURE((*seen & (1u << i)) == 0, ERR_P11_URI_DUPLICATE);
	*seen |= 1u << i;
	ENSURE(eq + 1 < p + n, ERR_P11_URI_EMPTY);
	ENSURE(a->kind != U_PIN_VALUE, ERR_P11_URI_PIN_VALUE);
	ENSURE((v = malloc(a->max + 1)) != NULL, ERR_ALLOC);
	TRY(uri_decode(
	    eq + 1, (size_t)(p + n - eq - 1), query, v, a->max, &vlen));
	ENSURE(vlen > 0, ERR_P11_URI_EMPTY);
	if (a->kind != U_BYTES) {
		/* Text: no NUL, no control bytes, even percent-encoded. */
		for (i = 0; i < vlen; i++)
			ENSURE(v[i] >= 0x20 && v[i] != 0x7f, ERR_P11_URI_VALUE);
	}
	switch (a->kind) {
	case U_VERSION:
		TRY(uri_version(u, v, vlen));
		break;
	case U_TYPE:
		/* The only object a CA key can be. */
		ENSURE(strcmp((char *)v, "private") == 0, ERR_P11_URI_VALUE);
		break;
	case U_BYTES:
		u->id = v;
		u->id_len = vlen;
		v = NULL;
		break;
	case U_PATH:
	case U_PIN_SOURCE:
		path = (char *)v;
		if (a->kind == U_PIN_SOURCE) {
			/* RFC 8089: file:/PATH or file:///PATH, no host. */
			if (strncmp(path, "file:///", 8) == 0)
				path += 7;
			else if (strncmp(path, "file://", 7) == 0)
				path = ""; /* a host: refused below */
			else if (strncmp(path, "file:", 5) == 0)
				path += 5;
		}
		ENSURE(path[0] == '/', ERR_P11_URI_VALUE);
		sp = (char **)(void *)((char *)u + a->off);
		ENSURE((*sp = strdup(path)) != NULL, ERR_ALLOC);
		break;
	default:
		sp = (char **)(void *)((char *)u + a->off);
		*sp = (char *)v;
		v = NULL;
		break;
	}
	r = 0;
out:
	free(v);
	return r;
}

int
p11_uri_parse(struct p11_uri **out, const char *s)
{
	struct p11_uri *u = NULL;
	const char *p, *end, *q, *sep;
	unsigned seen = 0;
	size_t len;
	int query = 0, r = ERR_INTERNAL;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if (s == NULL)
		return ERR_INVALID_ARG;
	len = strnlen(s, P11_URI_MAX + 1);
	if (len > P11_URI_MAX)
		return ERR_TOO_LARGE;
	if (!p11_uri_is(s))
		return ERR_P11_URI_SCHEME;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return ERR_ALLOC;
	p = s + 7;
	end = s + len;
	q = memchr(p, '?', (size_t)(end - p));
	/* The path: attributes separated by ';' up to the '?' (or the
	 * end); an empty path is allowed by the grammar. */
	while (p < (q != NULL ? q : end)) {
		const char *lim = q != NULL ? q : end;

		sep = memchr(p, ';', (size_t)(lim - p));
		if (sep == NULL)
			sep = lim;
		TRY(uri_attr_one(u, &seen, p, (size_t)(sep - p), query));
		if (sep == lim)
			break;
		p = sep + 1;
		ENSURE(p < lim, ERR_P11_URI_SYNTAX); /* trailing ';' */
	}
	if (q != NULL) {
		query = 1;
		p = q + 1;
		ENSURE(p < end, ERR_P11_URI_SYNTAX); /* a bare '?' */
		for (;;) {
			sep = memchr(p, '&', (size_t)(end - p));
			if (sep == NULL)
				sep = end;
			TRY(uri_attr_one(u, &seen, p, (size_t)(sep - p), 1));
			if (sep == end)
				break;
			p = sep + 1;
			ENSURE(p < end, ERR_P11_URI_SYNTAX);
		}
	}
	ENSURE(u->object != NULL || u->id != NULL, ERR_P11_URI_NO_KEY);
	*out = u;
	u = NULL;
	r = 0;
out:
	p11_uri_free(u);
	return r;
}

/* ---- modules ------------------------------------------------------- */

/* Modules initialised by this process, so that two keys share one
 * C_Initialize and the last one finalizes.  The signer child is
 * single-threaded; the table is not locked. */
static struct {
	CK_FUNCTION_LIST_PTR f;
	unsigned refs;
	int foreign; /* initialised by someone else: never finalized */
} mods[P11_MAX_MODULES];

static int
mod_slot(CK_FUNCTION_LIST_PTR f)
{
	int i;

	for (i = 0; i < P11_MAX_MODULES; i++)
		if (mods[i].f == f && mods[i].refs > 0)
			return i;
	return -1;
}

static CK_RV
mod_c_initialize(CK_FUNCTION_LIST_PTR f)
{
	CK_C_INITIALIZE_ARGS args;

	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	return f->C_Initialize(&args);
}

static int
mod_ref(CK_FUNCTION_LIST_PTR f)
{
	CK_RV rv;
	int i;

	if ((i = mod_slot(f)) >= 0) {
		mods[i].refs++;
		return 0;
	}
	for (i = 0; i < P11_MAX_MODULES; i++)
		if (mods[i].refs == 0)
			break;
	if (i == P11_MAX_MODULES) {
		set_detail("C_Initialize", "too many modules");
		return ERR_P11;
	}
	rv = mod_c_initialize(f);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return p11_fail("C_Initialize", rv);
	mods[i].f = f;
	mods[i].refs = 1;
	mods[i].foreign = rv == CKR_CRYPTOKI_ALREADY_INITIALIZED;
	return 0;
}

static void
mod_unref(CK_FUNCTION_LIST_PTR f)
{
	int i;

	if ((i = mod_slot(f)) < 0)
		return;
	if (--mods[i].refs == 0) {
		if (!mods[i].foreign)
			(void)f->C_Finalize(NULL);
		mods[i].f = NULL;
	}
}

/* Finalize and initialize again when we are the only user. */
static int
mod_reinit(CK_FUNCTION_LIST_PTR f)
{
	CK_RV rv;
	int i;

	if ((i = mod_slot(f)) < 0 || mods[i].refs != 1 || mods[i].foreign)
		return 0;
	(void)f->C_Finalize(NULL);
	rv = mod_c_initialize(f);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		/* Keep the reference; the next reconnect tries again. */
		return p11_fail("C_Initialize", rv);
	}
	return 0;
}

/* dlopen the module and get its function list into k. */
static int
mod_load(struct p11_key *k)
{
	CK_C_GetFunctionList getfl;
	CK_FUNCTION_LIST_PTR f = NULL;
	const char *e;
	void *sym;
	CK_RV rv;

	if (k->module_path[0] != '/') {
		set_detail("dlopen", "module path is not absolute");
		return ERR_P11_MODULE;
	}
	if ((k->dl = dlopen(k->module_path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		set_detail("dlopen", e != NULL ? e : "failed");
		return ERR_P11_MODULE;
	}
	(void)dlerror();
	if ((sym = dlsym(k->dl, "C_GetFunctionList")) == NULL) {
		set_detail("dlsym", "no C_GetFunctionList");
		return ERR_P11_NOT_MODULE;
	}
	/* POSIX: a data pointer from dlsym() converts to a function. */
	memcpy(&getfl, &sym, sizeof(getfl));
	if ((rv = getfl(&f)) != CKR_OK || f == NULL) {
		set_detail("C_GetFunctionList", p11_rv_name(rv));
		return ERR_P11_NOT_MODULE;
	}
	if (f->version.major != 2) {
		set_detail("C_GetFunctionList", "not PKCS#11 version 2");
		return ERR_P11_NOT_MODULE;
	}
	k->f = f;
	return 0;
}

/* ---- tokens, sessions, objects ------------------------------------- */

/* A space-padded CK_*_INFO field equals want (NULL matches anything). */
static int
field_eq(const unsigned char *field, size_t width, const char *want)
{
	size_t n, i;

	if (want == NULL)
		return 1;
	n = strlen(want);
	if (n > width || memcmp(field, want, n) != 0)
		return 0;
	for (i = n; i < width; i++)
		if (field[i] != ' ')
			return 0;
	return 1;
}

static int
check_library(struct p11_key *k)
{
	const struct p11_uri *u = k->uri;
	CK_INFO info;
	CK_RV rv;

	if (u->lib_manufacturer == NULL && u->lib_description == NULL &&
	    !u->has_lib_version)
		return 0;
	if ((rv = k->f->C_GetInfo(&info)) != CKR_OK)
		return p11_fail("C_GetInfo", rv);
	if (!field_eq(info.manufacturerID, sizeof(info.manufacturerID),
		u->lib_manufacturer) ||
	    !field_eq(info.libraryDescription, sizeof(info.libraryDescription),
		u->lib_description) ||
	    (u->has_lib_version &&
		(info.libraryVersion.major != u->lib_major ||
		    info.libraryVersion.minor != u->lib_minor))) {
		set_detail("C_GetInfo", "library does not match the URI");
		return ERR_P11_NO_TOKEN;
	}
	return 0;
}

/* The one initialised token that matches the URI, into k->slot. */
static int
find_slot(struct p11_key *k)
{
	const struct p11_uri *u = k->uri;
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i, found = 0;
	CK_TOKEN_INFO ti;
	CK_RV rv;
	int r = ERR_INTERNAL;

	if ((rv = k->f->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK) {
		r = p11_fail("C_GetSlotList", rv);
		goto out;
	}
	if (n == 0) {
		set_detail("C_GetSlotList", "no token present");
		r = ERR_P11_NO_TOKEN;
		goto out;
	}
	ENSURE(n <= P11_MAX_SLOTS, ERR_P11);
	ENSURE((slots = calloc(n, sizeof(*slots))) != NULL, ERR_ALLOC);
	if ((rv = k->f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK) {
		r = p11_fail("C_GetSlotList", rv);
		goto out;
	}
	for (i = 0; i < n; i++) {
		rv = k->f->C_GetTokenInfo(slots[i], &ti);
		if (rv != CKR_OK)
			continue; /* removed meanwhile, or unusable */
		if ((ti.flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;
		if (!field_eq(ti.label, sizeof(ti.label), u->token) ||
		    !field_eq(ti.manufacturerID, sizeof(ti.manufacturerID),
			u->manufacturer) ||
		    !field_eq(ti.model, sizeof(ti.model), u->model) ||
		    !field_eq(
			ti.serialNumber, sizeof(ti.serialNumber), u->serial))
			continue;
		if (found++ == 0)
			k->slot = slots[i];
	}
	if (found == 0) {
		set_detail("C_GetTokenInfo", "no token matches the URI");
		r = ERR_P11_NO_TOKEN;
		goto out;
	}
	if (found > 1) {
		set_detail("C_GetTokenInfo", "several tokens match the URI");
		r = ERR_P11_AMBIGUOUS;
		goto out;
	}
	r = 0;
out:
	free(slots);
	return r;
}

static void
close_session(struct p11_key *k)
{
	if (k->has_sess) {
		(void)k->f->C_Logout(k->sess);
		(void)k->f->C_CloseSession(k->sess);
	}
	k->has_sess = 0;
}

static int
open_session(struct p11_key *k, int rw)
{
	CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
	CK_RV rv;

	close_session(k);
	if ((rv = k->f->C_OpenSession(k->slot, flags, NULL, NULL, &k->sess)) !=
	    CKR_OK)
		return p11_fail("C_OpenSession", rv);
	k->has_sess = 1;
	rv = k->f->C_Login(
	    k->sess, CKU_USER, (CK_UTF8CHAR_PTR)k->pin, (CK_ULONG)k->pin_len);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return p11_fail("C_Login", rv);
	return 0;
}

/*
 * Find objects of class cls by label and/or id (either may be NULL);
 * *n receives 0, 1 or 2 (2 meaning "more than one"), *h the first.
 */
static int
find_objects(struct p11_key *k, CK_OBJECT_CLASS cls, const char *label,
    const uint8_t *id, size_t idlen, CK_OBJECT_HANDLE *h, CK_ULONG *n)
{
	CK_ATTRIBUTE t[3];
	CK_OBJECT_HANDLE found[2];
	CK_ULONG nt = 0;
	CK_RV rv;

	*n = 0;
	t[nt].type = CKA_CLASS;
	t[nt].pValue = &cls;
	t[nt++].ulValueLen = sizeof(cls);
	if (label != NULL) {
		t[nt].type = CKA_LABEL;
		t[nt].pValue = (void *)(uintptr_t)label;
		t[nt++].ulValueLen = strlen(label);
	}
	if (id != NULL && idlen > 0) {
		t[nt].type = CKA_ID;
		t[nt].pValue = (void *)(uintptr_t)id;
		t[nt++].ulValueLen = idlen;
	}
	if ((rv = k->f->C_FindObjectsInit(k->sess, t, nt)) != CKR_OK)
		return p11_fail("C_FindObjectsInit", rv);
	rv = k->f->C_FindObjects(k->sess, found, 2, n);
	(void)k->f->C_FindObjectsFinal(k->sess);
	if (rv != CKR_OK)
		return p11_fail("C_FindObjects", rv);
	if (*n > 0)
		*h = found[0];
	return 0;
}

/* One attribute of any size up to P11_MAX_ATTR; *v is new. */
static int
get_attr(struct p11_key *k, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    uint8_t **v, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv;

	*v = NULL;
	*len = 0;
	if ((rv = k->f->C_GetAttributeValue(k->sess, h, &a, 1)) != CKR_OK)
		return p11_fail("C_GetAttributeValue", rv);
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    a.ulValueLen > P11_MAX_ATTR) {
		set_detail("C_GetAttributeValue", "attribute unavailable");
		return ERR_P11;
	}
	/* One spare byte so that an empty value is not malloc(0). */
	if ((a.pValue = malloc(a.ulValueLen + 1)) == NULL)
		return ERR_ALLOC;
	if ((rv = k->f->C_GetAttributeValue(k->sess, h, &a, 1)) != CKR_OK) {
		free(a.pValue);
		return p11_fail("C_GetAttributeValue", rv);
	}
	*v = a.pValue;
	*len = a.ulValueLen;
	return 0;
}

static int
get_bool(
    struct p11_key *k, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, CK_BBOOL *b)
{
	CK_ATTRIBUTE a = {type, b, sizeof(*b)};
	CK_RV rv;

	*b = CK_FALSE;
	if ((rv = k->f->C_GetAttributeValue(k->sess, h, &a, 1)) != CKR_OK)
		return p11_fail("C_GetAttributeValue", rv);
	return 0;
}

/* DER of the curve OIDs (and SoftHSM2's printable "edwards25519"). */
static const uint8_t oid_p256[] = {
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
/* 1.3.6.1.4.1.11591.15.1, GnuPG's older name for Ed25519. */
static const uint8_t oid_ed25519_gnu[] = {
    0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01};
static const uint8_t str_ed25519[] = {
    0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'};

#define IS(p, n, a) ((n) == sizeof(a) && memcmp((p), (a), sizeof(a)) == 0)

/* Raw point bytes of the key type t: 32 for Ed25519, 1 + 2 * field for
 * uncompressed EC points. */
static size_t
point_len(enum key_type t)
{
	switch (t) {
	case KEY_ED25519:
		return 32;
	case KEY_ECDSA_P256:
		return 65;
	case KEY_ECDSA_P384:
		return 97;
	case KEY_ECDSA_P521:
		return 133;
	default:
		return 0;
	}
}

/* CKA_EC_POINT is a DER OCTET STRING in PKCS#11 v2.40 (and SoftHSM2);
 * some modules give the raw point.  The lengths tell them apart. */
static int
unwrap_point(enum key_type t, const uint8_t *p, size_t n, const uint8_t **pt)
{
	size_t want = point_len(t);

	if (n == want) {
		*pt = p;
		return 0;
	}
	if (want < 128 && n == want + 2 && p[0] == 0x04 && p[1] == want) {
		*pt = p + 2;
		return 0;
	}
	if (want >= 128 && want < 256 && n == want + 3 && p[0] == 0x04 &&
	    p[1] == 0x81 && p[2] == want) {
		*pt = p + 3;
		return 0;
	}
	set_detail("CKA_EC_POINT", "not a point of the key's curve");
	return ERR_P11_NO_PUBLIC;
}

/* Encode the SSH blob of the public key object h (type t) and parse it. */
static int
read_public(
    struct p11_key *k, CK_OBJECT_HANDLE h, CK_KEY_TYPE kt, struct pubkey **out)
{
	struct wire *w = NULL;
	uint8_t *a = NULL, *b = NULL, *blob = NULL;
	const uint8_t *pt;
	size_t alen = 0, blen = 0, bloblen = 0;
	enum key_type t = KEY_UNSPEC;
	const char *curve = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	ENSURE((w = wire_new(PUBKEY_MAX_BLOB)) != NULL, ERR_ALLOC);
	if (kt == CKK_RSA) {
		TRY(get_attr(k, h, CKA_MODULUS, &a, &alen));
		TRY(get_attr(k, h, CKA_PUBLIC_EXPONENT, &b, &blen));
		TRY(wire_put_cstring(w, "ssh-rsa"));
		TRY(wire_put_mpint(w, b, blen));
		TRY(wire_put_mpint(w, a, alen));
		t = KEY_RSA;
	} else if (kt == CKK_EC || kt == CKK_EC_EDWARDS) {
		TRY(get_attr(k, h, CKA_EC_PARAMS, &a, &alen));
		if (kt == CKK_EC && IS(a, alen, oid_p256)) {
			t = KEY_ECDSA_P256;
			curve = "nistp256";
		} else if (kt == CKK_EC && IS(a, alen, oid_p384)) {
			t = KEY_ECDSA_P384;
			curve = "nistp384";
		} else if (kt == CKK_EC && IS(a, alen, oid_p521)) {
			t = KEY_ECDSA_P521;
			curve = "nistp521";
		} else if (kt == CKK_EC_EDWARDS &&
		    (IS(a, alen, oid_ed25519) || IS(a, alen, oid_ed25519_gnu) ||
			IS(a, alen, str_ed25519))) {
			t = KEY_ED25519;
		} else {
			set_detail("CKA_EC_PARAMS", "curve not supported");
			r = ERR_KEY_UNSUPPORTED_CA;
			goto out;
		}
		TRY(get_attr(k, h, CKA_EC_POINT, &b, &blen));
		TRY(unwrap_point(t, b, blen, &pt));
		TRY(wire_put_cstring(w, key_type_name(t)));
		if (curve != NULL)
			TRY(wire_put_cstring(w, curve));
		TRY(wire_put_string(w, pt, point_len(t)));
	} else {
		set_detail("CKA_KEY_TYPE", "not an RSA, EC or EdDSA key");
		r = ERR_KEY_UNSUPPORTED_CA;
		goto out;
	}
	TRY(wire_dup(w, &blob, &bloblen));
	TRY(pubkey_from_blob(out, blob, bloblen));
	if (t == KEY_RSA &&
	    (pubkey_bits(*out) < P11_RSA_MIN_BITS ||
		pubkey_bits(*out) > P11_RSA_MAX_BITS)) {
		pubkey_free(*out);
		*out = NULL;
		r = ERR_KEY_UNSUPPORTED_CA;
		goto out;
	}
	r = 0;
out:
	free(a);
	free(b);
	free(blob);
	wire_free(w);
	return r;
}

/* Raw signature length of a key: Ed25519 64, ECDSA 2 * field, RSA the
 * modulus length. */
static size_t
raw_sig_len(const struct pubkey *pub)
{
	switch (pubkey_type(pub)) {
	case KEY_ED25519:
		return 64;
	case KEY_ECDSA_P256:
		return 64;
	case KEY_ECDSA_P384:
		return 96;
	case KEY_ECDSA_P521:
		return 132;
	case KEY_RSA:
		return (pubkey_bits(pub) + 7) / 8;
	default:
		return 0;
	}
}

/*
 * Find the private key, check that it cannot leave the token, read its
 * public key.  When k->pub is already set (a reconnection) the key found
 * must be the same key.
 */
static int
find_key(struct p11_key *k)
{
	const struct p11_uri *u = k->uri;
	CK_OBJECT_HANDLE priv = 0, pubh = 0;
	CK_ULONG n = 0;
	CK_KEY_TYPE kt;
	CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	CK_BBOOL sensitive, extractable, always = CK_FALSE;
	CK_ATTRIBUTE aa = {CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always)};
	struct pubkey *pub = NULL;
	uint8_t *id = NULL, *label = NULL;
	size_t idlen = 0, labellen = 0;
	CK_RV rv;
	int r = ERR_INTERNAL;

	TRY(find_objects(
	    k, CKO_PRIVATE_KEY, u->object, u->id, u->id_len, &priv, &n));
	if (n == 0) {
		set_detail("C_FindObjects", "no private key matches the URI");
		r = ERR_P11_NO_OBJECT;
		goto out;
	}
	if (n > 1) {
		set_detail("C_FindObjects", "several private keys match");
		r = ERR_P11_AMBIGUOUS;
		goto out;
	}
	if ((rv = k->f->C_GetAttributeValue(k->sess, priv, &a, 1)) != CKR_OK) {
		r = p11_fail("C_GetAttributeValue", rv);
		goto out;
	}
	/* A token key that could be copied out is just a key file. */
	TRY(get_bool(k, priv, CKA_SENSITIVE, &sensitive));
	TRY(get_bool(k, priv, CKA_EXTRACTABLE, &extractable));
	if (sensitive != CK_TRUE || extractable != CK_FALSE) {
		set_detail("CKA_SENSITIVE/CKA_EXTRACTABLE",
		    "key is not sensitive or is extractable");
		r = ERR_P11_EXTRACTABLE;
		goto out;
	}
	/* PKCS#11 v2.40 section 4.9: absent means false. */
	rv = k->f->C_GetAttributeValue(k->sess, priv, &aa, 1);
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID) {
		r = p11_fail("C_GetAttributeValue", rv);
		goto out;
	}
	k->always_auth = rv == CKR_OK && always == CK_TRUE;
	/* The public key object: same CKA_ID, else same label. */
	TRY(get_attr(k, priv, CKA_ID, &id, &idlen));
	if (idlen > 0) {
		TRY(find_objects(
		    k, CKO_PUBLIC_KEY, NULL, id, idlen, &pubh, &n));
	} else {
		TRY(get_attr(k, priv, CKA_LABEL, &label, &labellen));
		label[labellen] = '\0';
		ENSURE(labellen > 0 && strlen((char *)label) == labellen,
		    ERR_P11_NO_PUBLIC);
		TRY(find_objects(
		    k, CKO_PUBLIC_KEY, (char *)label, NULL, 0, &pubh, &n));
	}
	if (n == 0 && kt == CKK_RSA) {
		/* RSA private keys carry the public modulus and exponent. */
		pubh = priv;
		n = 1;
	}
	if (n == 0) {
		set_detail("C_FindObjects", "no public key object");
		r = ERR_P11_NO_PUBLIC;
		goto out;
	}
	if (n > 1) {
		set_detail("C_FindObjects", "several public key objects");
		r = ERR_P11_AMBIGUOUS;
		goto out;
	}
	TRY(read_public(k, pubh, kt, &pub));
	if (k->pub != NULL && !pubkey_equal(k->pub, pub)) {
		set_detail("C_FindObjects", "the key on the token changed");
		r = ERR_P11_KEY_CHANGED;
		goto out;
	}
	k->priv = priv;
	if (k->pub == NULL) {
		k->pub = pub;
		pub = NULL;
		k->type = pubkey_type(k->pub);
		k->raw_len = raw_sig_len(k->pub);
	}
	r = 0;
out:
	pubkey_free(pub);
	free(id);
	free(label);
	return r;
}

/* ---- the PIN file -------------------------------------------------- */

static int
read_pin(struct p11_key *k, const char *path)
{
	struct stat st;
	size_t len = 0;
	int fd = -1, r = ERR_INTERNAL;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) <
	    0) {
		set_detail("open", strerror(errno));
		r = ERR_P11_PIN_FILE;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = ERR_SYSTEM;
		goto out;
	}
	ENSURE(S_ISREG(st.st_mode), ERR_P11_PIN_FILE);
	ENSURE(st.st_uid == geteuid(), ERR_KEY_FILE_OWNER);
	ENSURE((st.st_mode & 077) == 0, ERR_P11_PIN_FILE_MODE);
	TRY(fileio_read_bounded(fd, k->pin, P11_PIN_MAX, &len));
	/* One trailing newline (echo 1234 > pin), and its CR if any. */
	if (len > 0 && k->pin[len - 1] == '\n')
		len--;
	if (len > 0 && k->pin[len - 1] == '\r')
		len--;
	if (len == 0) {
		set_detail("read", "PIN file is empty");
		r = ERR_P11_PIN_FILE;
		goto out;
	}
	k->pin_len = len;
	r = 0;
out:
	if (r != 0)
		OPENSSL_cleanse(k->pin, sizeof(k->pin));
	if (fd >= 0)
		close(fd);
	return r;
}

/* ---- keys ---------------------------------------------------------- */

void
p11_key_free(struct p11_key *k)
{
	if (k == NULL)
		return;
	if (k->f != NULL) {
		close_session(k);
		if (k->initialized)
			mod_unref(k->f);
	}
	/* No dlclose(): a module's own threads or atexit handlers may
	 * still point into it, and the signer holds one module for life. */
	pubkey_free(k->pub);
	p11_uri_free(k->uri);
	free(k->module_path);
	OPENSSL_cleanse(k->pin, sizeof(k->pin));
	(void)munlock(k, sizeof(*k));
	free(k);
}

/* Pick one of the URI's value and the configuration's. */
static int
pick(const char *from_uri, const char *from_conf, const char **out)
{
	*out = NULL;
	if (from_uri != NULL && from_conf != NULL &&
	    strcmp(from_uri, from_conf) != 0)
		return ERR_P11_CONFLICT;
	*out = from_uri != NULL ? from_uri : from_conf;
	return 0;
}

/* Parse, read the PIN, load and initialise the module, check the
 * library: everything up to finding the token. */
static int
key_start(struct p11_key **out, const char *uri, const char *module,
    const char *pin_file)
{
	struct p11_key *k = NULL;
	const char *mod, *pin;
	int r = ERR_INTERNAL;

	*out = NULL;
	detail[0] = '\0';
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return ERR_ALLOC;
	/* Keep the PIN out of swap where we may (best effort). */
	(void)mlock(k, sizeof(*k));
	TRY(p11_uri_parse(&k->uri, uri));
	TRY(pick(k->uri->module_path, module, &mod));
	TRY(pick(k->uri->pin_source, pin_file, &pin));
	ENSURE(mod != NULL && *mod != '\0', ERR_P11_NO_MODULE);
	ENSURE(pin != NULL && *pin != '\0', ERR_P11_PIN_FILE);
	ENSURE((k->module_path = strdup(mod)) != NULL, ERR_ALLOC);
	TRY(read_pin(k, pin));
	TRY(mod_load(k));
	TRY(mod_ref(k->f));
	k->initialized = 1;
	TRY(check_library(k));
	*out = k;
	k = NULL;
	r = 0;
out:
	p11_key_free(k);
	return r;
}

/* A missing token at open time is ERR_P11_NO_TOKEN; while running the
 * same thing means the token went away. */
static int
connect_key(struct p11_key *k, int rw)
{
	int r;

	if ((r = find_slot(k)) != 0)
		return r;
	if ((r = open_session(k, rw)) != 0)
		return r;
	return find_key(k);
}

int
p11_key_open(struct p11_key **out, const char *uri, const char *module,
    const char *pin_file)
{
	struct p11_key *k = NULL;
	int r = ERR_INTERNAL;

	if (out == NULL)
		return ERR_INVALID_ARG;
	*out = NULL;
	if (uri == NULL)
		return ERR_INVALID_ARG;
	TRY(key_start(&k, uri, module, pin_file));
	TRY(connect_key(k, 0));
	ENSURE(k->raw_len > 0 && k->raw_len <= P11_MAX_SIG, ERR_INTERNAL);
	*out = k;
	k = NULL;
	r = 0;
out:
	p11_key_free(k);
	return r;
}

const struct pubkey *
p11_key_public(const struct p11_key *k)
{
	return k == NULL ? NULL : k->pub;
}

/* After a "gone" answer: start over from the module, once. */
static int
reconnect(struct p11_key *k)
{
	int r;

	if (k->state == P11_DEAD)
		return k->dead_code;
	close_session(k);
	if ((r = mod_reinit(k->f)) == 0)
		r = connect_key(k, 0);
	if (r == ERR_P11_PIN_INCORRECT || r == ERR_P11_PIN_LOCKED ||
	    r == ERR_P11_KEY_CHANGED) {
		/* Never try the PIN again by ourselves; never sign with
		 * another key. */
		k->state = P11_DEAD;
		k->dead_code = r;
		return r;
	}
	if (r != 0) {
		k->state = P11_BROKEN;
		return ERR_TOKEN_UNAVAILABLE;
	}
	k->state = P11_OK;
	return 0;
}

/* C_SignInit + C_Sign of data with mech into raw[k->raw_len]. */
static int
sign_raw(struct p11_key *k, CK_MECHANISM_TYPE mech, const uint8_t *data,
    size_t datalen, uint8_t *raw, size_t *rawlen)
{
	CK_MECHANISM m = {mech, NULL, 0};
	CK_ULONG n = (CK_ULONG)k->raw_len;
	CK_RV rv;

	*rawlen = 0;
	if (!k->has_sess)
		return ERR_TOKEN_UNAVAILABLE;
	if ((rv = k->f->C_SignInit(k->sess, &m, k->priv)) != CKR_OK) {
		/* A stale object handle after the token came back. */
		if (rv == CKR_KEY_HANDLE_INVALID ||
		    rv == CKR_OBJECT_HANDLE_INVALID) {
			set_detail("C_SignInit", p11_rv_name(rv));
			return ERR_TOKEN_UNAVAILABLE;
		}
		return p11_fail("C_SignInit", rv);
	}
	/* A key that wants the PIN for every signature (section 5.6). */
	if (k->always_auth &&
	    (rv = k->f->C_Login(k->sess, CKU_CONTEXT_SPECIFIC,
		 (CK_UTF8CHAR_PTR)k->pin, (CK_ULONG)k->pin_len)) != CKR_OK)
		return p11_fail("C_Login", rv);
	rv = k->f->C_Sign(
	    k->sess, (CK_BYTE_PTR)(uintptr_t)data, (CK_ULONG)datalen, raw, &n);
	if (rv != CKR_OK)
		return p11_fail("C_Sign", rv);
	if (n > k->raw_len) {
		set_detail("C_Sign", "signature longer than the key allows");
		return ERR_P11;
	}
	*rawlen = n;
	return 0;
}

/* One attempt: the SSH signature blob into w. */
static int
sign_once(
    struct p11_key *k, struct wire *w, const uint8_t *data, size_t datalen)
{
	uint8_t raw[P11_MAX_SIG], padded[P11_MAX_SIG], md[EVP_MAX_MD_SIZE];
	struct wire *inner = NULL;
	const EVP_MD *evp;
	unsigned mdlen = 0;
	size_t rawlen = 0, half;
	int r = ERR_INTERNAL;

	wire_reset(w);
	switch (k->type) {
	case KEY_ED25519:
		/* PureEdDSA over the data itself (RFC 8032, RFC 8709). */
		TRY(sign_raw(k, CKM_EDDSA, data, datalen, raw, &rawlen));
		ENSURE(rawlen == 64, ERR_P11);
		TRY(wire_put_cstring(w, "ssh-ed25519"));
		TRY(wire_put_string(w, raw, rawlen));
		break;
	case KEY_ECDSA_P256:
	case KEY_ECDSA_P384:
	case KEY_ECDSA_P521:
		/* RFC 5656 section 6.2.1: the curve's SHA-2; CKM_ECDSA signs
		 * the digest and returns r || s, each a field long. */
		evp = k->type == KEY_ECDSA_P256 ? EVP_sha256()
		    : k->type == KEY_ECDSA_P384 ? EVP_sha384()
						: EVP_sha512();
		if (EVP_Digest(data, datalen, md, &mdlen, evp, NULL) != 1) {
			err_crypto_set();
			r = ERR_CRYPTO;
			goto out;
		}
		TRY(sign_raw(k, CKM_ECDSA, md, mdlen, raw, &rawlen));
		ENSURE(rawlen == k->raw_len, ERR_P11);
		half = rawlen / 2;
		ENSURE((inner = wire_new(256)) != NULL, ERR_ALLOC);
		TRY(wire_put_mpint(inner, raw, half));
		TRY(wire_put_mpint(inner, raw + half, half));
		TRY(wire_put_cstring(w, pubkey_type_name(k->pub)));
		TRY(wire_put_stringb(w, inner));
		break;
	case KEY_RSA:
		/* RFC 8332: rsa-sha2-512, exactly modulus-length bytes. */
		TRY(sign_raw(
		    k, CKM_SHA512_RSA_PKCS, data, datalen, raw, &rawlen));
		memset(padded, 0, k->raw_len);
		memcpy(padded + (k->raw_len - rawlen), raw, rawlen);
		TRY(wire_put_cstring(w, "rsa-sha2-512"));
		TRY(wire_put_string(w, padded, k->raw_len));
		break;
	default:
		r = ERR_KEY_UNSUPPORTED_CA;
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(md, sizeof(md));
	wire_free(inner);
	return r;
}

int
p11_key_sign(struct p11_key *k, uint8_t **sig, size_t *siglen,
    const uint8_t *data, size_t datalen)
{
	struct wire *w = NULL;
	char first[240], again[240];
	int r = ERR_INTERNAL, retried = 0;

	if (sig != NULL)
		*sig = NULL;
	if (siglen != NULL)
		*siglen = 0;
	if (k == NULL || sig == NULL || siglen == NULL ||
	    (data == NULL && datalen != 0))
		return ERR_INVALID_ARG;
	detail[0] = '\0';
	ENSURE((w = wire_new(P11_MAX_SIG)) != NULL, ERR_ALLOC);
	if (k->state != P11_OK) {
		/* Gone at the last call: this call's one reconnection. */
		TRY(reconnect(k));
		retried = 1;
	}
	r = sign_once(k, w, data, datalen);
	if (r == ERR_TOKEN_UNAVAILABLE && !retried) {
		/* Keep what the module said first for the message. */
		(void)snprintf(first, sizeof(first), "%.200s", detail);
		if ((r = reconnect(k)) != 0) {
			(void)snprintf(again, sizeof(again), "%.200s", detail);
			(void)snprintf(detail, sizeof(detail),
			    "%.200s; reconnecting: %.200s", first, again);
			goto out;
		}
		r = sign_once(k, w, data, datalen);
	}
	if (r == ERR_TOKEN_UNAVAILABLE)
		k->state = P11_BROKEN;
	if (r != 0)
		goto out;
	TRY(wire_dup(w, sig, siglen));
	r = 0;
out:
	wire_free(w);
	return r;
}

int
p11_sign_fn(
    void *ctx, uint8_t **sig, size_t *siglen, const uint8_t *tbs, size_t tbslen)
{
	return p11_key_sign(ctx, sig, siglen, tbs, tbslen);
}

static const struct pubkey *
ops_pub(const void *impl)
{
	return p11_key_public(impl);
}

static void
ops_free(void *impl)
{
	p11_key_free(impl);
}

const struct cakey_ops p11_cakey_ops = {
    .name = "pkcs11",
    .sign = p11_sign_fn,
    .pub = ops_pub,
    .free = ops_free,
};

/* ---- generation on the token --------------------------------------- */

/* C_GenerateKeyPair with the templates of p11.h; *pubh the public half. */
static int
generate(struct p11_key *k, enum key_type t, const uint8_t *params,
    size_t paramslen, CK_OBJECT_HANDLE *pubh)
{
	const struct p11_uri *u = k->uri;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = P11_RSA_GEN_BITS;
	static const uint8_t f4[] = {0x01, 0x00, 0x01};
	CK_MECHANISM m = {0, NULL, 0};
	CK_ATTRIBUTE pt[8], st[10];
	CK_ULONG np = 0, ns = 0;
	CK_OBJECT_HANDLE privh;
	CK_RV rv;

#define A(arr, n, ty, p, len)                                                  \
	do {                                                                   \
		(arr)[n].type = (ty);                                          \
		(arr)[n].pValue = (void *)(uintptr_t)(p);                      \
		(arr)[(n)++].ulValueLen = (len);                               \
	} while (0)
	A(pt, np, CKA_TOKEN, &yes, sizeof(yes));
	A(pt, np, CKA_VERIFY, &yes, sizeof(yes));
	A(pt, np, CKA_LABEL, u->object, strlen(u->object));
	A(st, ns, CKA_TOKEN, &yes, sizeof(yes));
	A(st, ns, CKA_PRIVATE, &yes, sizeof(yes));
	A(st, ns, CKA_SENSITIVE, &yes, sizeof(yes));
	A(st, ns, CKA_EXTRACTABLE, &no, sizeof(no));
	A(st, ns, CKA_SIGN, &yes, sizeof(yes));
	A(st, ns, CKA_DECRYPT, &no, sizeof(no));
	A(st, ns, CKA_LABEL, u->object, strlen(u->object));
	if (u->id != NULL) {
		A(pt, np, CKA_ID, u->id, u->id_len);
		A(st, ns, CKA_ID, u->id, u->id_len);
	}
	if (t == KEY_RSA) {
		m.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		A(pt, np, CKA_MODULUS_BITS, &bits, sizeof(bits));
		A(pt, np, CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
	} else {
		m.mechanism = t == KEY_ED25519 ? CKM_EC_EDWARDS_KEY_PAIR_GEN
					       : CKM_EC_KEY_PAIR_GEN;
		A(pt, np, CKA_EC_PARAMS, params, paramslen);
	}
#undef A
	rv = k->f->C_GenerateKeyPair(k->sess, &m, pt, np, st, ns, pubh, &privh);
	if (rv != CKR_OK)
		return p11_fail("C_GenerateKeyPair", rv);
	return 0;
}

int
p11_key_generate(struct pubkey **out, const char *uri, const char *module,
    const char *pin_file, enum key_type t)
{
	struct p11_key *k = NULL;
	struct pubkey *pub = NULL;
	CK_OBJECT_HANDLE h = 0, pubh = 0;
	CK_ULONG n = 0;
	const uint8_t *params = NULL;
	size_t paramslen = 0;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (uri == NULL)
		return ERR_INVALID_ARG;
	switch (t) {
	case KEY_ED25519:
		params = oid_ed25519;
		paramslen = sizeof(oid_ed25519);
		break;
	case KEY_ECDSA_P256:
		params = oid_p256;
		paramslen = sizeof(oid_p256);
		break;
	case KEY_ECDSA_P384:
		params = oid_p384;
		paramslen = sizeof(oid_p384);
		break;
	case KEY_RSA:
		break;
	default:
		return ERR_KEY_UNSUPPORTED_CA;
	}
	TRY(key_start(&k, uri, module, pin_file));
	ENSURE(k->uri->object != NULL, ERR_P11_URI_NO_KEY);
	TRY(find_slot(k));
	TRY(open_session(k, 1));
	/* One key per name: no second object under that label or id. */
	TRY(find_objects(k, CKO_PRIVATE_KEY, k->uri->object, NULL, 0, &h, &n));
	ENSURE(n == 0, ERR_P11_EXISTS);
	TRY(find_objects(k, CKO_PUBLIC_KEY, k->uri->object, NULL, 0, &h, &n));
	ENSURE(n == 0, ERR_P11_EXISTS);
	if (k->uri->id != NULL) {
		TRY(find_objects(k, CKO_PRIVATE_KEY, NULL, k->uri->id,
		    k->uri->id_len, &h, &n));
		ENSURE(n == 0, ERR_P11_EXISTS);
	}
	r = generate(k, t, params, paramslen, &pubh);
	if (r == ERR_P11_MECHANISM && t == KEY_ED25519) {
		/* Modules that predate RFC 8410 want the curve's name. */
		r = generate(k, t, str_ed25519, sizeof(str_ed25519), &pubh);
	}
	if (r != 0)
		goto out;
	TRY(read_public(k, pubh,
	    t == KEY_RSA	   ? CKK_RSA
		: t == KEY_ED25519 ? CKK_EC_EDWARDS
				   : CKK_EC,
	    &pub));
	if (out != NULL) {
		*out = pub;
		pub = NULL;
	}
	r = 0;
out:
	pubkey_free(pub);
	p11_key_free(k);
	return r;
}
