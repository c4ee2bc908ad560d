/*
 * test_names.c: the host-name check of signer/names.h (name_host_valid),
 * which the signer applies to every host certificate principal: RFC 1123
 * labels and their limits at the exact boundaries, address literals, and
 * everything a wildcard, separator or control character could smuggle in.
 * The other alphabets of names.h are exercised through test_cert.c.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "signer/names.h"

/* n copies of c followed by tail, in buf. */
static const char *
rep(char *buf, size_t n, char c, const char *tail)
{
	memset(buf, c, n);
	strcpy(buf + n, tail);
	return buf;
}

Test(names, host_names_and_addresses)
{
	static const char *const good[] = {"a", "web1", "WEB-1", "1a",
	    "db-2.prod.example.com", "a.b.c.d.e", "127.0.0.1", "0.0.0.0",
	    "255.255.255.255", "::1", "::", "2001:db8::42", "::ffff:192.0.2.1",
	    "fe80::1", "xn--bcher-kva.example", "a1.b2"};
	static const char *const bad[] = {"", "*", "*.example.com", "web?",
	    "web*", "-web", "web-", "a.-b", "a.b-", ".web", "web.", "a..b", ".",
	    "web 1", " web", "web\t1", "web\n", "web,db", "web_1", "web@x",
	    "web/1", "web:22", "[::1]", "fe80::1%eth0", "10.0.0.0/8", "1.2.3",
	    "10.0.0.300", "999.1.1.1", "01.2.3.4", "1.2.3.4.5", "123",
	    "example.123", "caf\xc3\xa9.example", "web\x7f"};
	char buf[400];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(name_host_valid(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(name_host_valid(bad[i]), "%s", bad[i]);
	cr_assert_not(name_host_valid(NULL));
	/* Labels of 63 bytes, not 64. */
	cr_assert(name_host_valid(rep(buf, 63, 'a', ".example")));
	cr_assert_not(name_host_valid(rep(buf, 64, 'a', ".example")));
	cr_assert(name_host_valid(rep(buf, 63, 'a', "")));
	cr_assert_not(name_host_valid(rep(buf, 64, 'a', "")));
}

Test(names, host_name_total_length)
{
	char buf[300];
	size_t i;

	/* 63+1+63+1+63+1+61 = 253 bytes: the longest name. */
	memset(buf, 'a', sizeof(buf));
	for (i = 63; i < 253; i += 64)
		buf[i] = '.';
	buf[253] = '\0';
	cr_assert_eq(strlen(buf), 253);
	cr_assert(name_host_valid(buf));
	buf[253] = 'a';
	buf[254] = '\0';
	cr_assert_not(name_host_valid(buf));
}
