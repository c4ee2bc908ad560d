/*
 * test_pubkey.c: unit tests of signer/pubkey.c against the real
 * ssh-keygen: fingerprints and round trips for every supported key type,
 * a table of malformed keys with their exact error codes (built with the
 * wire API from keys that ssh-keygen made in a temporary directory),
 * single-bit and truncation mutants of valid blobs cross-checked with
 * `ssh-keygen -l`, the certificate field form, and pubkey_from_evp.
 *
 * Needs ssh-keygen in PATH (the tests fail without it).  pubkey_verify is
 * tested with verify.c, not here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "signer/err.h"
#include "signer/pubkey.h"
#include "signer/wire.h"
#include "tests/lib/testutil.h"

/* Helpers --------------------------------------------------------------- */

static void
need_ssh_keygen(void)
{
	char *p = tu_which("ssh-keygen");

	cr_assert_not_null(p, "ssh-keygen is required for these tests");
	free(p);
}

/* ssh-keygen -t type [-b bits] into dir/name; returns the .pub line. */
static char *
keygen(const char *dir, const char *name, const char *type, int bits)
{
	char *cmd, *err = NULL, *line, *path;
	int rc;

	need_ssh_keygen();
	cmd = bits > 0 ? tu_fmt("ssh-keygen -q -t %s -b %d -N '' -C 'test %s' "
				"-f '%s/%s' </dev/null",
			     type, bits, name, dir, name)
		       : tu_fmt("ssh-keygen -q -t %s -N '' -C 'test %s' "
				"-f '%s/%s' </dev/null",
			     type, name, dir, name);
	rc = tu_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "%s: %s", cmd, err ? err : "");
	free(cmd);
	free(err);
	path = tu_fmt("%s/%s.pub", dir, name);
	line = tu_read_file(path, NULL);
	cr_assert_not_null(line, "cannot read %s", path);
	free(path);
	return line;
}

/* The decoded blob of a "type base64 ..." line. */
static uint8_t *
line_blob(const char *line, size_t *len)
{
	const char *s = strchr(line, ' '), *e;
	uint8_t *blob = NULL;

	cr_assert_not_null(s);
	s++;
	for (e = s; *e != '\0' && *e != ' ' && *e != '\n'; e++)
		;
	cr_assert_eq(wire_b64_decode(&blob, len, s, (size_t)(e - s)), 0);
	return blob;
}

static char *
make_line(const char *type, const uint8_t *blob, size_t len)
{
	char *b64 = NULL, *line;

	cr_assert_eq(wire_b64_encode(&b64, blob, len), 0);
	line = tu_fmt("%s %s test\n", type, b64);
	free(b64);
	return line;
}

static struct pubkey *
must_parse(const char *line)
{
	struct pubkey *k = NULL;
	int r = pubkey_from_line(&k, line, strlen(line));

	cr_assert_eq(r, 0, "parse \"%.60s\": %s", line, err_str(r));
	cr_assert_not_null(k);
	return k;
}

/* The pieces of a real key's blob, for building bad ones. */
struct parts {
	uint8_t *blob;
	size_t len;
	const uint8_t *f1, *f2; /* ed25519 pk | curve, Q | e, n */
	size_t l1, l2;
};

static void
parts_get(struct parts *p, const char *line)
{
	struct wire *w;

	memset(p, 0, sizeof(*p));
	p->blob = line_blob(line, &p->len);
	w = wire_from(p->blob, p->len);
	cr_assert_not_null(w);
	cr_assert_eq(wire_get_string_direct(w, NULL, NULL), 0);
	if (strncmp(line, "ssh-rsa ", 8) == 0) {
		cr_assert_eq(wire_get_mpint_direct(w, &p->f1, &p->l1), 0);
		cr_assert_eq(wire_get_mpint_direct(w, &p->f2, &p->l2), 0);
	} else {
		cr_assert_eq(wire_get_string_direct(w, &p->f1, &p->l1), 0);
		if (wire_len(w) > 0)
			cr_assert_eq(
			    wire_get_string_direct(w, &p->f2, &p->l2), 0);
	}
	cr_assert_eq(wire_len(w), 0);
	wire_free(w);
}

static struct wire *
wnew(void)
{
	struct wire *w = wire_new(64 * 1024);

	cr_assert_not_null(w);
	return w;
}

/* The malformed-key table ------------------------------------------------ */

static int ncases;

static void
expect_line(const char *what, const char *line, size_t len, int exp)
{
	struct pubkey *k = (struct pubkey *)1;
	int r = pubkey_from_line(&k, line, len);

	cr_assert_eq(r, exp, "%s: got %d (%s), expected %d (%s)", what, r,
	    err_str(r), exp, err_str(exp));
	if (exp != 0)
		cr_assert_null(k, "%s: output not cleared", what);
	pubkey_free(exp == 0 ? k : NULL);
	ncases++;
}

static void
expect_str(const char *what, const char *line, int exp)
{
	expect_line(what, line, strlen(line), exp);
}

/* A blob given as a line with text type `type`, and on its own. */
static void
expect_blob(const char *what, const char *type, struct wire *b, int exp_line,
    int exp_blob)
{
	struct pubkey *k = (struct pubkey *)1;
	char *line = make_line(type, wire_ptr(b), wire_len(b));
	int r;

	expect_str(what, line, exp_line);
	r = pubkey_from_blob(&k, wire_ptr(b), wire_len(b));
	cr_assert_eq(r, exp_blob, "%s (blob): got %d (%s), expected %d (%s)",
	    what, r, err_str(r), exp_blob, err_str(exp_blob));
	if (exp_blob != 0)
		cr_assert_null(k);
	else
		pubkey_free(k);
	free(line);
	wire_free(b);
}

/* An ECDSA P-256 blob with the given curve name and point. */
static struct wire *
ec_blob(const char *type, const char *curve, const uint8_t *q, size_t qlen)
{
	struct wire *b = wnew();

	cr_assert_eq(wire_put_cstring(b, type), 0);
	cr_assert_eq(wire_put_cstring(b, curve), 0);
	cr_assert_eq(wire_put_string(b, q, qlen), 0);
	return b;
}

static struct wire *
rsa_blob(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen)
{
	struct wire *b = wnew();

	cr_assert_eq(wire_put_cstring(b, "ssh-rsa"), 0);
	cr_assert_eq(wire_put_mpint(b, e, elen), 0);
	cr_assert_eq(wire_put_mpint(b, n, nlen), 0);
	return b;
}

/* An RSA blob with a raw (unchecked) mpint body for n. */
static struct wire *
rsa_blob_raw_n(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen)
{
	struct wire *b = wnew();

	cr_assert_eq(wire_put_cstring(b, "ssh-rsa"), 0);
	cr_assert_eq(wire_put_mpint(b, e, elen), 0);
	cr_assert_eq(wire_put_string(b, n, nlen), 0);
	return b;
}

Test(pubkey, malformed_table)
{
	struct parts ed, p256, rsa, rsa1k, cert;
	char *dir = tu_tmpdir(), *l_ed, *l_p256, *l_p384, *l_rsa, *l_rsa1k;
	char *l_dsa, *l_cert, *s, *path, *cmd, *err = NULL;
	uint8_t q[65], big[PUBKEY_MAX_BLOB + 64], *dsa_blob, n2[600];
	struct pubkey *k;
	struct wire *b;
	size_t dsa_len;

	ncases = 0;
	l_ed = keygen(dir, "ed", "ed25519", 0);
	l_p256 = keygen(dir, "p256", "ecdsa", 256);
	l_p384 = keygen(dir, "p384", "ecdsa", 384);
	l_rsa = keygen(dir, "rsa", "rsa", 2048);
	l_rsa1k = keygen(dir, "rsa1k", "rsa", 1024);
	l_dsa = keygen(dir, "dsa", "dsa", 0);
	free(keygen(dir, "ca", "ed25519", 0));
	cmd = tu_fmt("ssh-keygen -q -s '%s/ca' -I test -n alice -z 7 "
		     "'%s/ed.pub' </dev/null",
	    dir, dir);
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s: %s", cmd, err);
	free(cmd);
	free(err);
	path = tu_fmt("%s/ed-cert.pub", dir);
	l_cert = tu_read_file(path, NULL);
	cr_assert_not_null(l_cert);
	free(path);
	parts_get(&ed, l_ed);
	parts_get(&p256, l_p256);
	parts_get(&rsa, l_rsa);
	parts_get(&rsa1k, l_rsa1k);
	cert.blob = line_blob(l_cert, &cert.len);
	dsa_blob = line_blob(l_dsa, &dsa_len);
	cr_assert_eq(p256.l2, 65);

	/* The valid keys themselves parse. */
	expect_str("valid ed25519", l_ed, 0);
	expect_str("valid p256", l_p256, 0);
	expect_str("valid p384", l_p384, 0);
	expect_str("valid rsa", l_rsa, 0);

	/* Refused types. */
	expect_str("ssh-dss line", l_dsa, ERR_KEY_DSA);
	b = wnew();
	cr_assert_eq(wire_put(b, dsa_blob, dsa_len), 0);
	expect_blob("ssh-dss blob, ed25519 text", "ssh-ed25519", b, ERR_KEY_DSA,
	    ERR_KEY_DSA);
	b = wnew();
	cr_assert_eq(wire_put_cstring(b, "sk-ssh-ed25519@openssh.com"), 0);
	cr_assert_eq(wire_put_string(b, ed.f1, ed.l1), 0);
	cr_assert_eq(wire_put_cstring(b, "ssh:"), 0);
	expect_blob("sk-ssh-ed25519", "sk-ssh-ed25519@openssh.com", b,
	    ERR_KEY_SK, ERR_KEY_SK);
	b = wnew();
	cr_assert_eq(
	    wire_put_cstring(b, "sk-ecdsa-sha2-nistp256@openssh.com"), 0);
	cr_assert_eq(wire_put_cstring(b, "nistp256"), 0);
	cr_assert_eq(wire_put_string(b, p256.f2, p256.l2), 0);
	cr_assert_eq(wire_put_cstring(b, "ssh:"), 0);
	expect_blob("sk-ecdsa", "sk-ecdsa-sha2-nistp256@openssh.com", b,
	    ERR_KEY_SK, ERR_KEY_SK);
	expect_str("certificate line (ssh-keygen -s)", l_cert, ERR_KEY_IS_CERT);
	b = wnew();
	cr_assert_eq(wire_put(b, cert.blob, cert.len), 0);
	expect_blob("certificate blob, plain text type", "ssh-ed25519", b,
	    ERR_KEY_IS_CERT, ERR_KEY_IS_CERT);
	b = wnew();
	cr_assert_eq(wire_put(b, ed.blob, ed.len), 0);
	expect_blob("cert text type, plain blob",
	    "ssh-ed25519-cert-v01@openssh.com", b, ERR_KEY_IS_CERT, 0);
	b = wnew();
	cr_assert_eq(wire_put(b, ed.blob, ed.len), 0);
	expect_blob("sk cert text type", "sk-ssh-ed25519-cert-v01@openssh.com",
	    b, ERR_KEY_IS_CERT, 0);
	b = wnew();
	cr_assert_eq(wire_put(b, ed.blob, ed.len), 0);
	expect_blob(
	    "unknown text type", "ssh-ed448", b, ERR_KEY_UNKNOWN_TYPE, 0);
	b = wnew();
	cr_assert_eq(wire_put(b, rsa.blob, rsa.len), 0);
	expect_blob("algorithm name as type", "rsa-sha2-256", b,
	    ERR_KEY_UNKNOWN_TYPE, 0);
	b = wnew();
	cr_assert_eq(wire_put_cstring(b, "ssh-ed448"), 0);
	cr_assert_eq(wire_put_string(b, ed.f1, ed.l1), 0);
	expect_blob("unknown blob type", "ssh-ed25519", b, ERR_KEY_UNKNOWN_TYPE,
	    ERR_KEY_UNKNOWN_TYPE);
	b = wnew();
	cr_assert_eq(wire_put_string(b, "", 0), 0);
	cr_assert_eq(wire_put_string(b, ed.f1, ed.l1), 0);
	expect_blob("empty blob type", "ssh-ed25519", b, ERR_KEY_UNKNOWN_TYPE,
	    ERR_KEY_UNKNOWN_TYPE);
	b = wnew();
	cr_assert_eq(wire_put_string(b, "ssh-ed25519\0", 12), 0);
	cr_assert_eq(wire_put_string(b, ed.f1, ed.l1), 0);
	expect_blob("NUL in blob type", "ssh-ed25519", b, ERR_STRING_NUL,
	    ERR_STRING_NUL);

	/* RSA. */
	expect_str("rsa 1024", l_rsa1k, ERR_RSA_TOO_SMALL);
	/* 2047 bits: the real modulus with its top bit cleared. */
	memcpy(n2, rsa.f2, rsa.l2);
	n2[0] &= 0x7f;
	expect_blob("rsa 2047 bits", "ssh-rsa",
	    rsa_blob(rsa.f1, rsa.l1, n2, rsa.l2), ERR_RSA_TOO_SMALL,
	    ERR_RSA_TOO_SMALL);
	memset(big, 0xc3, sizeof(big));
	big[0] = 0x01; /* 16385 bits */
	expect_blob("rsa 16385 bits", "ssh-rsa",
	    rsa_blob_raw_n(rsa.f1, rsa.l1, big, 2049), ERR_RSA_TOO_LARGE,
	    ERR_RSA_TOO_LARGE);
	expect_blob("rsa n = 0", "ssh-rsa", rsa_blob(rsa.f1, rsa.l1, NULL, 0),
	    ERR_RSA_TOO_SMALL, ERR_RSA_TOO_SMALL);
	expect_blob("rsa even e", "ssh-rsa",
	    rsa_blob((const uint8_t *)"\x01\x00\x00", 3, rsa.f2, rsa.l2),
	    ERR_RSA_BAD_EXPONENT, ERR_RSA_BAD_EXPONENT);
	expect_blob("rsa e = 1", "ssh-rsa",
	    rsa_blob((const uint8_t *)"\x01", 1, rsa.f2, rsa.l2),
	    ERR_RSA_BAD_EXPONENT, ERR_RSA_BAD_EXPONENT);
	expect_blob("rsa e = 0", "ssh-rsa", rsa_blob(NULL, 0, rsa.f2, rsa.l2),
	    ERR_RSA_BAD_EXPONENT, ERR_RSA_BAD_EXPONENT);
	memset(big, 0x0f, 9);
	expect_blob("rsa e of 68 bits", "ssh-rsa",
	    rsa_blob(big, 9, rsa.f2, rsa.l2), ERR_RSA_BAD_EXPONENT,
	    ERR_RSA_BAD_EXPONENT);
	big[0] = 0x00;
	memcpy(big + 1, rsa.f2, rsa.l2);
	big[1] &= 0x7f; /* 00 7f..: a redundant leading zero */
	expect_blob("rsa n padded", "ssh-rsa",
	    rsa_blob_raw_n(rsa.f1, rsa.l1, big, rsa.l2 + 1), ERR_MPINT_PADDING,
	    ERR_MPINT_PADDING);
	expect_blob("rsa n negative", "ssh-rsa",
	    rsa_blob_raw_n(rsa.f1, rsa.l1, rsa.f2, rsa.l2), ERR_MPINT_NEGATIVE,
	    ERR_MPINT_NEGATIVE);
	b = wnew();
	cr_assert_eq(wire_put_cstring(b, "ssh-rsa"), 0);
	cr_assert_eq(wire_put_mpint(b, rsa.f1, rsa.l1), 0);
	expect_blob(
	    "rsa without n", "ssh-rsa", b, ERR_BUF_SHORT, ERR_BUF_SHORT);

	/* Ed25519. */
	b = wnew();
	cr_assert_eq(wire_put_cstring(b, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(b, ed.f1, 31), 0);
	expect_blob("ed25519 31 bytes", "ssh-ed25519", b, ERR_ED25519_LENGTH,
	    ERR_ED25519_LENGTH);
	b = wnew();
	memcpy(big, ed.f1, 32);
	big[32] = 0;
	cr_assert_eq(wire_put_cstring(b, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(b, big, 33), 0);
	expect_blob("ed25519 33 bytes", "ssh-ed25519", b, ERR_ED25519_LENGTH,
	    ERR_ED25519_LENGTH);
	b = wnew();
	cr_assert_eq(wire_put_cstring(b, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(b, NULL, 0), 0);
	expect_blob("ed25519 empty", "ssh-ed25519", b, ERR_ED25519_LENGTH,
	    ERR_ED25519_LENGTH);

	/* ECDSA. */
	memcpy(q, p256.f2, 65);
	q[64] ^= 0x01;
	expect_blob("ec point off the curve", "ecdsa-sha2-nistp256",
	    ec_blob("ecdsa-sha2-nistp256", "nistp256", q, 65),
	    ERR_EC_POINT_INVALID, ERR_EC_POINT_INVALID);
	expect_blob("ec point at infinity", "ecdsa-sha2-nistp256",
	    ec_blob(
		"ecdsa-sha2-nistp256", "nistp256", (const uint8_t *)"\x00", 1),
	    ERR_EC_POINT_INVALID, ERR_EC_POINT_INVALID);
	memcpy(q, p256.f2, 33);
	q[0] = (uint8_t)(0x02 | (p256.f2[64] & 1));
	expect_blob("ec compressed point", "ecdsa-sha2-nistp256",
	    ec_blob("ecdsa-sha2-nistp256", "nistp256", q, 33),
	    ERR_EC_POINT_INVALID, ERR_EC_POINT_INVALID);
	memcpy(q, p256.f2, 65);
	q[0] = 0x06 | (q[64] & 1); /* hybrid form */
	expect_blob("ec hybrid point", "ecdsa-sha2-nistp256",
	    ec_blob("ecdsa-sha2-nistp256", "nistp256", q, 65),
	    ERR_EC_POINT_INVALID, ERR_EC_POINT_INVALID);
	expect_blob("ec point one byte short", "ecdsa-sha2-nistp256",
	    ec_blob("ecdsa-sha2-nistp256", "nistp256", p256.f2, 64),
	    ERR_EC_POINT_INVALID, ERR_EC_POINT_INVALID);
	memset(q, 0xff, 65);
	q[0] = 0x04;
	expect_blob("ec coordinates >= p", "ecdsa-sha2-nistp256",
	    ec_blob("ecdsa-sha2-nistp256", "nistp256", q, 65),
	    ERR_EC_POINT_INVALID, ERR_EC_POINT_INVALID);
	memcpy(q, p256.f2, 65);
	memset(q + 1, 0, 32);
	q[32] = 1;
	expect_blob("ec x = 1", "ecdsa-sha2-nistp256",
	    ec_blob("ecdsa-sha2-nistp256", "nistp256", q, 65),
	    ERR_EC_POINT_INVALID, ERR_EC_POINT_INVALID);
	expect_blob("ec curve mismatch", "ecdsa-sha2-nistp256",
	    ec_blob("ecdsa-sha2-nistp256", "nistp384", p256.f2, 65),
	    ERR_EC_CURVE_MISMATCH, ERR_EC_CURVE_MISMATCH);
	expect_blob("ec curve empty", "ecdsa-sha2-nistp256",
	    ec_blob("ecdsa-sha2-nistp256", "", p256.f2, 65),
	    ERR_EC_CURVE_MISMATCH, ERR_EC_CURVE_MISMATCH);
	b = wnew();
	cr_assert_eq(wire_put_cstring(b, "ecdsa-sha2-nistp256"), 0);
	cr_assert_eq(wire_put_string(b, "nistp256\0", 9), 0);
	cr_assert_eq(wire_put_string(b, p256.f2, 65), 0);
	expect_blob("ec curve with NUL", "ecdsa-sha2-nistp256", b,
	    ERR_EC_CURVE_MISMATCH, ERR_EC_CURVE_MISMATCH);
	expect_blob("ec 256 point as 384 key", "ecdsa-sha2-nistp384",
	    ec_blob("ecdsa-sha2-nistp384", "nistp384", p256.f2, 65),
	    ERR_EC_POINT_INVALID, ERR_EC_POINT_INVALID);
	b = wnew();
	cr_assert_eq(wire_put_cstring(b, "ecdsa-sha2-nistp256"), 0);
	cr_assert_eq(wire_put_cstring(b, "nistp256"), 0);
	expect_blob("ec without point", "ecdsa-sha2-nistp256", b, ERR_BUF_SHORT,
	    ERR_BUF_SHORT);

	/* Structure. */
	b = wnew();
	cr_assert_eq(wire_put(b, ed.blob, ed.len), 0);
	expect_blob(
	    "text/blob type mismatch", "ssh-rsa", b, ERR_KEY_TYPE_MISMATCH, 0);
	b = wnew();
	cr_assert_eq(wire_put(b, p256.blob, p256.len), 0);
	expect_blob("p256 blob, p384 text", "ecdsa-sha2-nistp384", b,
	    ERR_KEY_TYPE_MISMATCH, 0);
	b = wnew();
	cr_assert_eq(wire_put(b, ed.blob, ed.len), 0);
	cr_assert_eq(wire_put_u8(b, 0), 0);
	expect_blob("trailing byte", "ssh-ed25519", b, ERR_TRAILING_DATA,
	    ERR_TRAILING_DATA);
	b = wnew();
	cr_assert_eq(wire_put(b, rsa.blob, rsa.len), 0);
	cr_assert_eq(wire_put_u32(b, 0), 0);
	expect_blob("trailing empty string", "ssh-rsa", b, ERR_TRAILING_DATA,
	    ERR_TRAILING_DATA);
	b = wnew();
	cr_assert_eq(wire_put(b, ed.blob, ed.len - 1), 0);
	expect_blob(
	    "truncated blob", "ssh-ed25519", b, ERR_BUF_SHORT, ERR_BUF_SHORT);
	k = (struct pubkey *)1;
	cr_assert_eq(pubkey_from_blob(&k, (const uint8_t *)"", 0),
	    ERR_BUF_SHORT, "empty blob");
	cr_assert_null(k);
	ncases++;
	b = wnew();
	cr_assert_eq(wire_put(b, ed.blob, ed.len), 0);
	memset(big, 0, sizeof(big));
	cr_assert_eq(wire_put(b, big, PUBKEY_MAX_BLOB + 1 - ed.len), 0);
	expect_blob(
	    "blob over 4 KiB", "ssh-ed25519", b, ERR_TOO_LARGE, ERR_TOO_LARGE);

	/* The text form. */
	expect_str(
	    "bad base64 char", "ssh-ed25519 AAAA*AAA test", ERR_BAD_BASE64);
	expect_str(
	    "bad base64 length", "ssh-ed25519 AAAAC3NzaC", ERR_BAD_BASE64);
	expect_str("bad base64 padding", "ssh-ed25519 AA=A", ERR_BAD_BASE64);
	expect_str("base64 pad bits", "ssh-ed25519 AAAAC3N=", ERR_BAD_BASE64);
	expect_str("empty line", "", ERR_KEY_LINE);
	expect_str("newline only", "\n", ERR_KEY_LINE);
	expect_str("blanks only", " \t \n", ERR_KEY_LINE);
	expect_str("type only", "ssh-ed25519", ERR_KEY_LINE);
	expect_str("type and blanks", "ssh-ed25519 \t\n", ERR_KEY_LINE);
	s = tu_fmt("%.*s\n\n", (int)(strlen(l_ed) - 1), l_ed);
	expect_str("two newlines", s, ERR_KEY_LINE);
	free(s);
	s = tu_fmt("%s%s", l_ed, l_ed);
	expect_str("two keys", s, ERR_KEY_LINE);
	free(s);
	s = tu_fmt("%s", l_ed);
	s[11] = '\0'; /* after "ssh-ed25519" */
	expect_line("embedded NUL", s, strlen(l_ed), ERR_KEY_LINE);
	s[11] = ' ';
	s[40] = '\0';
	expect_line("NUL inside base64", s, strlen(l_ed), ERR_KEY_LINE);
	free(s);
	expect_str("control char in type",
	    "ssh-ed\x01"
	    "25519 AAAA",
	    ERR_KEY_LINE);
	expect_str("DEL in type", "ssh-ed25519\x7f AAAA", ERR_KEY_LINE);
	expect_str("8-bit type", "ssh-ed25519\xc3\xa9 AAAA", ERR_KEY_LINE);
	expect_str("unknown text type", "ssh-foo AAAA", ERR_KEY_UNKNOWN_TYPE);
	expect_str("ssh-dss text", "ssh-dss AAAA", ERR_KEY_DSA);
	expect_str("sk text", "sk-ssh-ed25519@openssh.com AAAA", ERR_KEY_SK);
	expect_str(
	    "cert text", "ssh-rsa-cert-v01@openssh.com AAAA", ERR_KEY_IS_CERT);
	expect_str("authorized_keys options", "restrict ssh-ed25519 AAAA",
	    ERR_KEY_UNKNOWN_TYPE);

	/* Over 16 KiB: a valid key with a long comment. */
	s = malloc(PUBKEY_MAX_LINE + 2);
	cr_assert_not_null(s);
	memset(s, 'c', PUBKEY_MAX_LINE + 1);
	memcpy(s, l_ed, strlen(l_ed) - 1);
	expect_line("over 16 KiB", s, PUBKEY_MAX_LINE + 1, ERR_TOO_LARGE);
	/* Exactly 16 KiB is fine. */
	expect_line("exactly 16 KiB", s, PUBKEY_MAX_LINE, 0);
	free(s);
	expect_line("NULL line", NULL, 0, ERR_KEY_LINE);
	expect_line("NULL line with length", NULL, 1, ERR_INVALID_ARG);

	cr_assert_geq(ncases, 25, "only %d cases", ncases);
	cr_log_info("malformed_table: %d cases", ncases);
	free(l_ed);
	free(l_p256);
	free(l_p384);
	free(l_rsa);
	free(l_rsa1k);
	free(l_dsa);
	free(l_cert);
	free(ed.blob);
	free(p256.blob);
	free(rsa.blob);
	free(rsa1k.blob);
	free(cert.blob);
	free(dsa_blob);
	tu_rmtree(dir);
	free(dir);
}

/* Lines that must parse despite their whitespace. */
Test(pubkey, line_whitespace)
{
	char *dir = tu_tmpdir(), *l, *b64, *s;
	const char *sp, *ep;
	struct pubkey *k0, *k;
	/* before type, between, after base64 */
	static const char *const fmts[][3] = {
	    {"", " ", ""},
	    {"", " ", "\n"},
	    {"", " ", "\r\n"},
	    {"  \t", " \t ", " \t\n"},
	    {"", "\t", "\tcomment with  spaces\n"},
	    {"", " ", " caf\xc3\xa9@host"},
	    {"", " ", " trailing \t"},
	};
	size_t i;

	l = keygen(dir, "ed", "ed25519", 0);
	k0 = must_parse(l);
	sp = strchr(l, ' ') + 1;
	ep = strchr(sp, ' ');
	b64 = tu_fmt("%.*s", (int)(ep - sp), sp);
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		s = tu_fmt("%sssh-ed25519%s%s%s", fmts[i][0], fmts[i][1], b64,
		    fmts[i][2]);
		k = NULL;
		cr_assert_eq(
		    pubkey_from_line(&k, s, strlen(s)), 0, "format %zu", i);
		cr_assert(pubkey_equal(k, k0));
		pubkey_free(k);
		free(s);
	}
	pubkey_free(k0);
	free(b64);
	free(l);
	tu_rmtree(dir);
	free(dir);
}

/* Fingerprints and round trips against ssh-keygen ----------------------- */

struct kt {
	const char *type;
	int bits;
	enum key_type t;
	const char *short_name;
	unsigned exp_bits;
};

static const struct kt all_types[] = {
    {"ed25519", 0, KEY_ED25519, "ED25519", 256},
    {"ecdsa", 256, KEY_ECDSA_P256, "ECDSA", 256},
    {"ecdsa", 384, KEY_ECDSA_P384, "ECDSA", 384},
    {"ecdsa", 521, KEY_ECDSA_P521, "ECDSA", 521},
    {"rsa", 2048, KEY_RSA, "RSA", 2048},
    {"rsa", 3072, KEY_RSA, "RSA", 3072},
    {"rsa", 4096, KEY_RSA, "RSA", 4096},
};

Test(pubkey, fingerprints_match_ssh_keygen)
{
	char *dir = tu_tmpdir();
	size_t i;

	for (i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++) {
		const struct kt *kt = &all_types[i];
		char name[32], fp[PUBKEY_FP_LEN], *line, *out = NULL, *cmd;
		char *exp, *rt = NULL, *pubpath, *b64line;
		uint8_t sha[32], d[32], *blob;
		size_t blen, klen;
		const uint8_t *kb;
		unsigned int dlen;
		struct pubkey *k;

		snprintf(name, sizeof(name), "k%zu", i);
		line = keygen(dir, name, kt->type, kt->bits);
		k = must_parse(line);
		cr_assert_eq(pubkey_type(k), kt->t);
		cr_assert_str_eq(pubkey_short_name(k), kt->short_name);
		cr_assert_eq(pubkey_bits(k), kt->exp_bits);
		cr_assert_str_eq(pubkey_type_name(k), key_type_name(kt->t));
		cr_assert_eq(pubkey_fingerprint(fp, k), 0);
		cr_assert_eq(strlen(fp), PUBKEY_FP_LEN - 1);

		pubpath = tu_fmt("%s/%s.pub", dir, name);
		cmd = tu_fmt("ssh-keygen -l -E sha256 -f '%s'", pubpath);
		cr_assert_eq(tu_sh(cmd, &out, NULL), 0, "%s", cmd);
		exp = tu_fmt("%u %s test %s (%s)\n", kt->exp_bits, fp, name,
		    kt->short_name);
		cr_assert_str_eq(out, exp, "ssh-keygen says %s", out);
		free(cmd);
		free(out);
		free(exp);

		/* Raw digest is SHA-256 of the blob, which is the input's. */
		blob = line_blob(line, &blen);
		kb = pubkey_blob(k, &klen);
		cr_assert_eq(klen, blen);
		cr_assert_eq(memcmp(kb, blob, blen), 0);
		cr_assert_eq(pubkey_sha256(sha, k), 0);
		cr_assert_eq(
		    EVP_Digest(blob, blen, d, &dlen, EVP_sha256(), NULL), 1);
		cr_assert_eq(memcmp(sha, d, 32), 0);

		/* Round trips. */
		cr_assert_eq(pubkey_to_line(&rt, k, NULL), 0);
		b64line = tu_fmt("%.*s", (int)strlen(rt), line);
		cr_assert_str_eq(rt, b64line);
		cr_assert_eq(line[strlen(rt)], ' ');
		free(rt);
		free(b64line);
		exp = tu_fmt("test %s", name);
		cr_assert_eq(pubkey_to_line(&rt, k, exp), 0);
		free(exp);
		exp = tu_fmt("%s\n", rt);
		cr_assert_str_eq(exp, line, "with comment");
		free(exp);
		free(rt);
		cr_assert_eq(pubkey_to_line(&rt, k, ""), 0);
		cr_assert_eq(strchr(rt, ' '), strrchr(rt, ' '), "no comment");
		free(rt);
		rt = (char *)1;
		cr_assert_eq(pubkey_to_line(&rt, k, "a\nb"), ERR_INVALID_ARG);
		cr_assert_null(rt);

		free(blob);
		free(pubpath);
		free(line);
		pubkey_free(k);
	}
	tu_rmtree(dir);
	free(dir);
}

/* Mutations ---------------------------------------------------------------- */

/*
 * Every single-bit flip (for RSA: in the header and the first and last
 * 64 bytes) and every truncation of a valid blob.  None may crash; each
 * accepted mutant must be the same canonical bytes, and must be accepted
 * by ssh-keygen -l with the same fingerprint, size and type.
 */
static void
mutate(const char *type, int bits, size_t *n_accepted, size_t *n_tried)
{
	char *dir = tu_tmpdir(), *line, *path, *cmd, *out = NULL, *err = NULL;
	char **fps = NULL, *p, *nl, fp[PUBKEY_FP_LEN], *ml, *expect;
	unsigned *kbits = NULL;
	const char **snames = NULL;
	uint8_t *blob, *m;
	size_t len, bit, i, nacc = 0, ntried = 0, head;
	FILE *f;
	struct pubkey *k;
	const uint8_t *kb;
	size_t klen;
	int r;

	line = keygen(dir, "k", type, bits);
	blob = line_blob(line, &len);
	m = malloc(len);
	cr_assert_not_null(m);
	path = tu_fmt("%s/mutants.pub", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	/* RSA header: type string, e, the n length and its leading bytes. */
	head = strcmp(type, "rsa") == 0 ? 4 + 7 + 4 + 3 + 4 + 64 : len;

	for (bit = 0; bit < len * 8; bit++) {
		size_t byte = bit / 8;

		if (byte >= head && byte < len - 64)
			continue;
		memcpy(m, blob, len);
		m[byte] ^= (uint8_t)(1u << (bit % 8));
		ntried++;
		k = NULL;
		r = pubkey_from_blob(&k, m, len);
		if (r != 0) {
			cr_assert_lt(r, 0);
			cr_assert_null(k);
			continue;
		}
		kb = pubkey_blob(k, &klen);
		cr_assert_eq(klen, len, "accepted mutant re-encodes");
		cr_assert_eq(
		    memcmp(kb, m, len), 0, "accepted mutant re-encodes");
		cr_assert_eq(pubkey_fingerprint(fp, k), 0);
		fps = realloc(fps, (nacc + 1) * sizeof(*fps));
		kbits = realloc(kbits, (nacc + 1) * sizeof(*kbits));
		snames = realloc(snames, (nacc + 1) * sizeof(*snames));
		cr_assert(fps && kbits && snames);
		fps[nacc] = strdup(fp);
		kbits[nacc] = pubkey_bits(k);
		snames[nacc] = pubkey_short_name(k);
		cr_assert_eq(pubkey_to_line(&ml, k, NULL), 0);
		fprintf(f, "%s m%zu\n", ml, nacc);
		free(ml);
		pubkey_free(k);
		nacc++;
	}
	cr_assert_eq(fclose(f), 0);

	for (i = 0; i < len; i++) {
		k = (struct pubkey *)1;
		cr_assert_eq(pubkey_from_blob(&k, blob, i), ERR_BUF_SHORT,
		    "truncated to %zu of %zu", i, len);
		cr_assert_null(k);
		ntried++;
	}

	if (nacc > 0) {
		cmd = tu_fmt("ssh-keygen -l -E sha256 -f '%s'", path);
		cr_assert_eq(tu_sh(cmd, &out, &err), 0, "%s: %s", cmd, err);
		p = out;
		for (i = 0; i < nacc; i++) {
			cr_assert_not_null(p);
			nl = strchr(p, '\n');
			cr_assert_not_null(
			    nl, "ssh-keygen listed %zu of %zu", i, nacc);
			expect = tu_fmt(
			    "%u %s m%zu (%s)", kbits[i], fps[i], i, snames[i]);
			cr_assert_eq(strncmp(p, expect, strlen(expect)), 0,
			    "mutant %zu: ssh-keygen says %.*s, we say %s", i,
			    (int)(nl - p), p, expect);
			cr_assert_eq(p + strlen(expect), nl);
			free(expect);
			p = nl + 1;
		}
		cr_assert_str_eq(p, "", "ssh-keygen listed more keys");
		free(cmd);
		free(out);
		free(err);
	}
	for (i = 0; i < nacc; i++)
		free(fps[i]);
	free(fps);
	free(kbits);
	free(snames);
	free(m);
	free(blob);
	free(line);
	free(path);
	tu_rmtree(dir);
	free(dir);
	*n_accepted = nacc;
	*n_tried = ntried;
}

Test(pubkey, mutants_ed25519)
{
	size_t acc, tried;

	mutate("ed25519", 0, &acc, &tried);
	/* Every flip inside the 32-byte key is a valid other key. */
	cr_assert_eq(acc, 256, "accepted %zu", acc);
	cr_log_info("ed25519: %zu mutants, %zu accepted", tried, acc);
}

Test(pubkey, mutants_ecdsa256)
{
	size_t acc, tried;

	mutate("ecdsa", 256, &acc, &tried);
	cr_log_info("ecdsa256: %zu mutants, %zu accepted", tried, acc);
}

Test(pubkey, mutants_ecdsa384)
{
	size_t acc, tried;

	mutate("ecdsa", 384, &acc, &tried);
	cr_log_info("ecdsa384: %zu mutants, %zu accepted", tried, acc);
}

Test(pubkey, mutants_ecdsa521)
{
	size_t acc, tried;

	mutate("ecdsa", 521, &acc, &tried);
	cr_log_info("ecdsa521: %zu mutants, %zu accepted", tried, acc);
}

Test(pubkey, mutants_rsa2048)
{
	size_t acc, tried;

	mutate("rsa", 2048, &acc, &tried);
	/* The modulus body flips (not its sign byte) stay valid keys. */
	cr_assert_geq(acc, 1000, "accepted %zu", acc);
	cr_log_info("rsa2048: %zu mutants, %zu accepted", tried, acc);
}

/*
 * Every single-bit flip of the text of a line (ed25519 and RSA lines):
 * no crash; an accepted mutant holds exactly the key it names (its
 * canonical "type base64" appears in the mutated text).
 */
static int
contains(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++) {
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	}
	return 0;
}

static void
mutate_text(const char *type, int bits)
{
	char *dir = tu_tmpdir(), *line, *m, *out;
	struct pubkey *k;
	size_t len, bit, nacc = 0;
	int r;

	line = keygen(dir, "k", type, bits);
	len = strlen(line);
	m = malloc(len + 1);
	cr_assert_not_null(m);
	for (bit = 0; bit < len * 8; bit++) {
		memcpy(m, line, len + 1);
		m[bit / 8] ^= (char)(1u << (bit % 8));
		k = NULL;
		r = pubkey_from_line(&k, m, len);
		if (r != 0) {
			cr_assert_lt(r, 0);
			cr_assert_null(k);
			continue;
		}
		cr_assert_eq(pubkey_to_line(&out, k, NULL), 0);
		cr_assert(contains(m, len, out),
		    "accepted mutant at bit %zu is another key", bit);
		free(out);
		pubkey_free(k);
		nacc++;
	}
	/* At least the comment's flips that stay printable are accepted. */
	cr_assert_gt(nacc, 0);
	cr_log_info("%s text: %zu mutants, %zu accepted", type, len * 8, nacc);
	free(m);
	free(line);
	tu_rmtree(dir);
	free(dir);
}

Test(pubkey, text_mutants)
{
	mutate_text("ed25519", 0);
	mutate_text("rsa", 2048);
}

/* Names ----------------------------------------------------------------- */

Test(pubkey, type_names)
{
	static const struct {
		enum key_type t;
		const char *name, *cert;
	} tab[] = {
	    {KEY_ED25519, "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com"},
	    {KEY_ECDSA_P256, "ecdsa-sha2-nistp256",
		"ecdsa-sha2-nistp256-cert-v01@openssh.com"},
	    {KEY_ECDSA_P384, "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp384-cert-v01@openssh.com"},
	    {KEY_ECDSA_P521, "ecdsa-sha2-nistp521",
		"ecdsa-sha2-nistp521-cert-v01@openssh.com"},
	    {KEY_RSA, "ssh-rsa", "ssh-rsa-cert-v01@openssh.com"},
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		cr_assert_str_eq(key_type_name(tab[i].t), tab[i].name);
		cr_assert_str_eq(key_type_cert_name(tab[i].t), tab[i].cert);
		cr_assert_eq(
		    key_type_from_name(tab[i].name, strlen(tab[i].name)),
		    tab[i].t);
		cr_assert_eq(
		    key_type_from_name(tab[i].cert, strlen(tab[i].cert)),
		    KEY_UNSPEC);
		cr_assert_eq(
		    key_type_from_name(tab[i].name, strlen(tab[i].name) - 1),
		    KEY_UNSPEC);
	}
	cr_assert_null(key_type_name(KEY_UNSPEC));
	cr_assert_null(key_type_cert_name(KEY_UNSPEC));
	cr_assert_eq(key_type_from_name("ssh-ed25519x", 12), KEY_UNSPEC);
	cr_assert_eq(key_type_from_name("ssh-dss", 7), KEY_UNSPEC);
	cr_assert_eq(key_type_from_name("rsa-sha2-512", 12), KEY_UNSPEC);
	cr_assert_eq(key_type_from_name(NULL, 0), KEY_UNSPEC);
	cr_assert_eq(key_type_from_name("", 0), KEY_UNSPEC);
	/* NULL keys. */
	cr_assert_eq(pubkey_type(NULL), KEY_UNSPEC);
	cr_assert_null(pubkey_type_name(NULL));
	cr_assert_null(pubkey_short_name(NULL));
	cr_assert_eq(pubkey_bits(NULL), 0);
	cr_assert_null(pubkey_evp(NULL));
	cr_assert_eq(pubkey_equal(NULL, NULL), 0);
	pubkey_free(NULL);
}

/* Certificate fields, put_fields, put_blob ------------------------------- */

Test(pubkey, fields_from_real_certificate)
{
	char *dir = tu_tmpdir(), *l, *cmd, *path, *cl, *err = NULL;
	uint8_t *cblob;
	size_t clen, len;
	struct pubkey *subj, *k = NULL;
	struct wire *w;
	const char *name;
	uint64_t serial;
	const uint8_t *kb, *p;

	l = keygen(dir, "user", "ecdsa", 384);
	free(keygen(dir, "ca", "ed25519", 0));
	cmd = tu_fmt("ssh-keygen -q -s '%s/ca' -I kid -n bob -z 4242 "
		     "'%s/user.pub' </dev/null",
	    dir, dir);
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s", err);
	path = tu_fmt("%s/user-cert.pub", dir);
	cl = tu_read_file(path, NULL);
	cr_assert_not_null(cl);
	subj = must_parse(l);
	cblob = line_blob(cl, &clen);

	w = wire_from(cblob, clen);
	cr_assert_not_null(w);
	cr_assert_eq(wire_get_cstring_direct(w, &name, &len), 0);
	cr_assert_eq(len, strlen(key_type_cert_name(KEY_ECDSA_P384)));
	cr_assert_eq(memcmp(name, key_type_cert_name(KEY_ECDSA_P384), len), 0);
	cr_assert_eq(wire_get_string_direct(w, NULL, &len), 0); /* nonce */
	/* The wrong type fails and leaves w where it was. */
	len = wire_len(w);
	cr_assert_eq(
	    pubkey_from_fields(&k, KEY_ECDSA_P256, w), ERR_EC_CURVE_MISMATCH);
	cr_assert_null(k);
	cr_assert_eq(wire_len(w), len);
	cr_assert_eq(
	    pubkey_from_fields(&k, KEY_ED25519, w), ERR_ED25519_LENGTH);
	cr_assert_eq(wire_len(w), len);
	cr_assert_eq(pubkey_from_fields(&k, KEY_UNSPEC, w), ERR_INVALID_ARG);
	cr_assert_eq(
	    pubkey_from_fields(&k, KEY_ECDSA_P384, NULL), ERR_INVALID_ARG);
	cr_assert_eq(wire_len(w), len);
	cr_assert_eq(pubkey_from_fields(&k, KEY_ECDSA_P384, w), 0);
	cr_assert(pubkey_equal(k, subj));
	cr_assert_eq(wire_get_u64(w, &serial), 0);
	cr_assert_eq(serial, 4242, "fields consumed exactly");
	pubkey_free(k);
	wire_free(w);

	/* put_fields writes exactly what the certificate held. */
	w = wnew();
	cr_assert_eq(pubkey_put_fields(w, subj), 0);
	kb = pubkey_blob(subj, &len);
	cr_assert_eq(wire_len(w), len - 4 - strlen("ecdsa-sha2-nistp384"));
	cr_assert_eq(memcmp(wire_ptr(w), kb + 4 + 19, wire_len(w)), 0);
	wire_reset(w);
	cr_assert_eq(pubkey_put_blob(w, subj), 0);
	cr_assert_eq(wire_get_string_direct(w, &p, &clen), 0);
	cr_assert_eq(clen, len);
	cr_assert_eq(memcmp(p, kb, len), 0);
	cr_assert_eq(wire_len(w), 0);
	cr_assert_eq(pubkey_put_blob(NULL, subj), ERR_INVALID_ARG);
	cr_assert_eq(pubkey_put_fields(w, NULL), ERR_INVALID_ARG);
	wire_free(w);

	pubkey_free(subj);
	free(cblob);
	free(cl);
	free(path);
	free(cmd);
	free(err);
	free(l);
	tu_rmtree(dir);
	free(dir);
}

Test(pubkey, fields_round_trip_all_types)
{
	char *dir = tu_tmpdir();
	size_t i;

	for (i = 0; i < 5; i++) {
		char name[8], *l;
		struct pubkey *k, *k2 = NULL;
		struct wire *w = wnew();

		snprintf(name, sizeof(name), "k%zu", i);
		l = keygen(dir, name, all_types[i].type, all_types[i].bits);
		k = must_parse(l);
		cr_assert_eq(pubkey_put_fields(w, k), 0);
		cr_assert_eq(wire_put_u32(w, 0xcafe), 0);
		cr_assert_eq(pubkey_from_fields(&k2, pubkey_type(k), w), 0);
		cr_assert(pubkey_equal(k, k2));
		cr_assert_eq(wire_len(w), 4);
		pubkey_free(k);
		pubkey_free(k2);
		wire_free(w);
		free(l);
	}
	tu_rmtree(dir);
	free(dir);
}

/* pubkey_from_evp -------------------------------------------------------- */

/* The public line ssh-keygen -y derives from an OpenSSL private key. */
static char *
ssh_keygen_y(const char *dir, EVP_PKEY *pkey)
{
	char *path = tu_fmt("%s/evp.pem", dir), *cmd, *out = NULL, *err = NULL;
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(
	    PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL), 1);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, 0600), 0);
	cmd = tu_fmt("ssh-keygen -y -f '%s'", path);
	cr_assert_eq(tu_sh(cmd, &out, &err), 0, "%s: %s", cmd, err);
	free(cmd);
	free(err);
	free(path);
	return out;
}

/* ssh-keygen 9.2 cannot read Ed25519 PKCS#8 PEM: build the line from
 * the raw public key by hand (RFC 8709 section 4). */
static char *
ed25519_line(EVP_PKEY *pkey)
{
	uint8_t raw[32];
	size_t rawlen = sizeof(raw);
	struct wire *b = wnew();
	char *line;

	cr_assert_eq(EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen), 1);
	cr_assert_eq(rawlen, 32);
	cr_assert_eq(wire_put_cstring(b, "ssh-ed25519"), 0);
	cr_assert_eq(wire_put_string(b, raw, rawlen), 0);
	line = make_line("ssh-ed25519", wire_ptr(b), wire_len(b));
	wire_free(b);
	return line;
}

Test(pubkey, from_evp_private_keys)
{
	static const struct {
		const char *alg;
		const char *arg;
		enum key_type t;
	} tab[] = {
	    {"ED25519", NULL, KEY_ED25519},
	    {"EC", "P-256", KEY_ECDSA_P256},
	    {"EC", "P-384", KEY_ECDSA_P384},
	    {"EC", "P-521", KEY_ECDSA_P521},
	    {"RSA", NULL, KEY_RSA},
	};
	char *dir = tu_tmpdir();
	size_t i;

	need_ssh_keygen();
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		EVP_PKEY *pkey;
		struct pubkey *k = NULL, *k2 = NULL;
		char *exp, *line = NULL;
		uint8_t raw[64];
		size_t rawlen = sizeof(raw);
		BIGNUM *d = NULL;

		if (strcmp(tab[i].alg, "EC") == 0)
			pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", tab[i].arg);
		else if (strcmp(tab[i].alg, "RSA") == 0)
			pkey =
			    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		else
			pkey = EVP_PKEY_Q_keygen(NULL, NULL, tab[i].alg);
		cr_assert_not_null(pkey);
		cr_assert_eq(pubkey_from_evp(&k, pkey), 0, "%s", tab[i].alg);
		cr_assert_eq(pubkey_type(k), tab[i].t);
		cr_assert_eq(pubkey_to_line(&line, k, NULL), 0);
		exp = tab[i].t == KEY_ED25519 ? ed25519_line(pkey)
					      : ssh_keygen_y(dir, pkey);
		cr_assert_eq(strncmp(exp, line, strlen(line)), 0,
		    "ours %s\nssh-keygen %s", line, exp);
		/* Only the public half is kept. */
		cr_assert_neq(pubkey_evp(k), pkey);
		if (tab[i].t == KEY_ED25519)
			cr_assert_neq(EVP_PKEY_get_raw_private_key(
					  pubkey_evp(k), raw, &rawlen),
			    1);
		else if (tab[i].t == KEY_RSA)
			cr_assert_neq(EVP_PKEY_get_bn_param(pubkey_evp(k),
					  OSSL_PKEY_PARAM_RSA_D, &d),
			    1);
		else
			cr_assert_neq(EVP_PKEY_get_bn_param(pubkey_evp(k),
					  OSSL_PKEY_PARAM_PRIV_KEY, &d),
			    1);
		BN_free(d);
		/* And from that public key again. */
		cr_assert_eq(pubkey_from_evp(&k2, pubkey_evp(k)), 0);
		cr_assert(pubkey_equal(k, k2));
		EVP_PKEY_free(pkey);
		pubkey_free(k);
		pubkey_free(k2);
		free(line);
		free(exp);
	}
	tu_rmtree(dir);
	free(dir);
}

Test(pubkey, from_evp_compressed_point_format)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct pubkey *a = NULL, *b = NULL;
	const uint8_t *blob;
	size_t len;

	cr_assert_not_null(pkey);
	cr_assert_eq(pubkey_from_evp(&a, pkey), 0);
	cr_assert_eq(
	    EVP_PKEY_set_utf8_string_param(
		pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"),
	    1);
	cr_assert_eq(pubkey_from_evp(&b, pkey), 0);
	cr_assert(pubkey_equal(a, b));
	blob = pubkey_blob(b, &len);
	cr_assert_eq(len, 4 + 19 + 4 + 8 + 4 + 65);
	cr_assert_eq(blob[4 + 19 + 4 + 8 + 4], 0x04);
	pubkey_free(a);
	pubkey_free(b);
	EVP_PKEY_free(pkey);
}

Test(pubkey, from_evp_refuses)
{
	EVP_PKEY *pkey;
	struct pubkey *k = (struct pubkey *)1;

	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	cr_assert_not_null(pkey);
	cr_assert_eq(pubkey_from_evp(&k, pkey), ERR_KEY_UNKNOWN_TYPE);
	cr_assert_null(k);
	EVP_PKEY_free(pkey);
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	cr_assert_not_null(pkey);
	cr_assert_eq(pubkey_from_evp(&k, pkey), ERR_KEY_UNKNOWN_TYPE);
	EVP_PKEY_free(pkey);
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-224");
	cr_assert_not_null(pkey);
	cr_assert_eq(pubkey_from_evp(&k, pkey), ERR_KEY_UNKNOWN_TYPE);
	EVP_PKEY_free(pkey);
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	cr_assert_not_null(pkey);
	cr_assert_eq(pubkey_from_evp(&k, pkey), ERR_KEY_UNKNOWN_TYPE);
	EVP_PKEY_free(pkey);
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	cr_assert_not_null(pkey);
	cr_assert_eq(pubkey_from_evp(&k, pkey), ERR_RSA_TOO_SMALL);
	cr_assert_null(k);
	EVP_PKEY_free(pkey);
	cr_assert_eq(pubkey_from_evp(&k, NULL), ERR_INVALID_ARG);
	cr_assert_eq(pubkey_from_evp(NULL, NULL), ERR_INVALID_ARG);
}

/* pubkey_to_line() writes only what pubkey_from_line() reads back. */
static void
test_to_line_limits(const struct pubkey *k)
{
	char *c = malloc(PUBKEY_MAX_LINE + 1), *line = (char *)1;
	struct pubkey *k2 = NULL;
	size_t base, len;

	cr_assert_not_null(c);
	cr_assert_eq(pubkey_to_line(&line, k, NULL), 0);
	base = strlen(line) + 1; /* "type base64 " */
	free(line);
	len = PUBKEY_MAX_LINE - base;
	memset(c, 'x', len);
	c[len] = '\0';
	c[3] = '\t';
	c[5] = ' ';
	cr_assert_eq(pubkey_to_line(&line, k, c), 0);
	cr_assert_eq(strlen(line), PUBKEY_MAX_LINE);
	cr_assert_eq(pubkey_from_line(&k2, line, strlen(line)), 0);
	cr_assert(pubkey_equal(k, k2));
	pubkey_free(k2);
	free(line);
	c[len] = 'x';
	c[len + 1] = '\0';
	line = (char *)1;
	cr_assert_eq(pubkey_to_line(&line, k, c), ERR_TOO_LARGE);
	cr_assert_null(line);
	c[1] = '\r';
	cr_assert_eq(pubkey_to_line(&line, k, c), ERR_INVALID_ARG);
	cr_assert_eq(pubkey_to_line(&line, NULL, NULL), ERR_INVALID_ARG);
	cr_assert_eq(pubkey_to_line(NULL, k, NULL), ERR_INVALID_ARG);
	free(c);
}

Test(pubkey, equal_and_blob_args)
{
	char *dir = tu_tmpdir(), *l1, *l2;
	struct pubkey *a, *a2, *b;
	char fp[PUBKEY_FP_LEN];
	size_t len = 9;

	l1 = keygen(dir, "a", "ed25519", 0);
	l2 = keygen(dir, "b", "ed25519", 0);
	a = must_parse(l1);
	a2 = must_parse(l1);
	b = must_parse(l2);
	cr_assert_eq(pubkey_equal(a, a2), 1);
	cr_assert_eq(pubkey_equal(a, b), 0);
	cr_assert_eq(pubkey_equal(a, NULL), 0);
	test_to_line_limits(a);
	cr_assert_null(pubkey_blob(NULL, &len));
	cr_assert_eq(len, 0);
	cr_assert_eq(pubkey_fingerprint(fp, NULL), ERR_INVALID_ARG);
	cr_assert_eq(fp[0], '\0');
	cr_assert_eq(
	    pubkey_from_blob(NULL, (const uint8_t *)"", 0), ERR_INVALID_ARG);
	pubkey_free(a);
	pubkey_free(a2);
	pubkey_free(b);
	free(l1);
	free(l2);
	tu_rmtree(dir);
	free(dir);
}
