/*
 * test_ccheck.c: the client's certificate checks (client/ccheck.c): a
 * good certificate passes; another CA, another key, other principals,
 * too long, expired, not yet valid and a broken signature are each
 * refused with their own code.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client/ccheck.h"
#include "signer/wire.h"
#include "tests/unit/client/client_fixture.h"

static struct ephkey *key;
static struct cakey *ca, *other_ca;
static char *want[] = {"alice", "debug"};
static const char *pr[] = {"alice", "debug", NULL};

static void
setup(void)
{
	cr_assert_eq(ephkey_generate(&key), 0);
	cr_assert_eq(cakey_generate(&ca, KEY_ED25519), 0);
	cr_assert_eq(cakey_generate(&other_ca, KEY_ED25519), 0);
}

static void
teardown(void)
{
	ephkey_free(key);
	cakey_free(ca);
	cakey_free(other_ca);
}

TestSuite(ccheck, .init = setup, .fini = teardown);

/* ccheck_cert on c as a line, asking for want and ttl. */
static int
check(struct cert *c, uint64_t ttl, struct cert **out)
{
	char *line = NULL;
	struct cert *dummy = NULL;
	int r;

	cr_assert_eq(cert_to_line(&line, c, NULL), 0);
	r = ccheck_cert(out != NULL ? out : &dummy, line, cakey_public(ca),
	    ephkey_public(key), want, 2, ttl, fx_now());
	cert_free(dummy);
	free(line);
	cert_free(c);
	return r;
}

Test(ccheck, good_certificate)
{
	struct cert *got = NULL;
	uint64_t now = fx_now();

	cr_assert_eq(
	    check(fx_cert(ca, ephkey_public(key), pr, now - 60, now + 300), 300,
		&got),
	    0);
	cr_assert_not_null(got);
	cr_assert_eq(got->serial, 7);
	cr_assert_eq(got->nprincipals, 2);
	cert_free(got);
}

Test(ccheck, principals_in_another_order_pass)
{
	const char *rev[] = {"debug", "alice", NULL};
	uint64_t now = fx_now();

	cr_assert_eq(check(fx_cert(ca, ephkey_public(key), rev, now, now + 60),
			 60, NULL),
	    0);
}

Test(ccheck, another_ca)
{
	uint64_t now = fx_now();

	cr_assert_eq(
	    check(fx_cert(other_ca, ephkey_public(key), pr, now, now + 60), 60,
		NULL),
	    ERR_CERT_WRONG_CA);
}

Test(ccheck, another_key)
{
	struct ephkey *k2 = NULL;
	uint64_t now = fx_now();

	cr_assert_eq(ephkey_generate(&k2), 0);
	cr_assert_eq(
	    check(fx_cert(ca, ephkey_public(k2), pr, now, now + 60), 60, NULL),
	    ERR_CERT_WRONG_KEY);
	ephkey_free(k2);
}

Test(ccheck, principals_differ)
{
	const char *more[] = {"alice", "debug", "root", NULL};
	const char *fewer[] = {"alice", NULL};
	uint64_t now = fx_now();

	cr_assert_eq(check(fx_cert(ca, ephkey_public(key), more, now, now + 60),
			 60, NULL),
	    ERR_CERT_UNEXPECTED);
	cr_assert_eq(
	    check(fx_cert(ca, ephkey_public(key), fewer, now, now + 60), 60,
		NULL),
	    ERR_CERT_UNEXPECTED);
}

Test(ccheck, validity)
{
	uint64_t now = fx_now();

	/* Longer than asked (beyond the skew allowance). */
	cr_assert_eq(check(fx_cert(ca, ephkey_public(key), pr, now,
			       now + 3600 + CCHECK_SKEW + 1),
			 3600, NULL),
	    ERR_CERT_UNEXPECTED);
	/* Already over. */
	cr_assert_eq(
	    check(fx_cert(ca, ephkey_public(key), pr, now - 120, now - 1), 60,
		NULL),
	    ERR_CERT_VALIDITY);
	/* Starts in the future. */
	cr_assert_eq(check(fx_cert(ca, ephkey_public(key), pr,
			       now + CCHECK_SKEW + 10, now + 3600),
			 3600, NULL),
	    ERR_CERT_UNEXPECTED);
}

Test(ccheck, broken_signature)
{
	struct cert *c;
	char *line = NULL, *b64;
	struct cert *out = NULL;
	size_t n;
	uint64_t now = fx_now();

	c = fx_cert(ca, ephkey_public(key), pr, now, now + 60);
	c->blob[c->blob_len - 5] ^= 0x01; /* inside the signature */
	cr_assert_eq(wire_b64_encode(&b64, c->blob, c->blob_len), 0);
	line = tu_fmt("ssh-ed25519-cert-v01@openssh.com %s", b64);
	n = strlen(line);
	cr_assert_eq(ccheck_cert(&out, line, cakey_public(ca),
			 ephkey_public(key), want, 2, 60, now),
	    ERR_SIG_INVALID, "len %zu", n);
	cr_assert_null(out);
	cert_free(c);
	free(b64);
	free(line);
}

Test(ccheck, garbage_line)
{
	struct cert *out = NULL;

	int r = ccheck_cert(&out, "ssh-ed25519 AAAA", cakey_public(ca),
	    ephkey_public(key), want, 2, 60, fx_now());
	cr_assert_eq(r, ERR_BUF_SHORT, "r=%d", r);
	r = ccheck_cert(&out, "x", cakey_public(ca), ephkey_public(key), want,
	    0, 60, fx_now());
	cr_assert_eq(r, ERR_KEY_LINE, "r=%d", r);
	cr_assert_null(out);
}
