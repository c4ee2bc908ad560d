/*
 * fuzz_logins.c: sshd log lines (ca/logins.h).  Properties: every input
 * gets a code of the parser's list; a parsed line's strings are within
 * their limits, printable ASCII and the account a plain name; an
 * accepted or refused line has a certificate key type, a port and a
 * non-empty key id; and whatever parses, put back into the shape sshd
 * writes, parses to the same fields.
 */
#include <stdio.h>
#include <string.h>

#include "ca/logins.h"
#include "tests/fuzz/fuzz.h"

static int
printable(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct login_line l, again;
	char buf[LOGIN_LINE_MAX + 1];
	int r, n;

	r = login_parse(&l, (const char *)data, size);
	FUZZ_CHECK(r == 0 || r == ERR_LOGIN_IGNORED ||
	    r == ERR_LOGIN_TOO_LONG || r == ERR_LOGIN_CHAR ||
	    r == ERR_LOGIN_FORMAT || r == ERR_LOGIN_ACCOUNT);
	if (r != 0) {
		FUZZ_CHECK(l.account[0] == '\0' && l.key_id[0] == '\0');
		return 0;
	}
	FUZZ_CHECK(printable(l.account, LOGIN_ACCOUNT_MAX));
	FUZZ_CHECK(printable(l.key_id, LOGIN_KEYID_MAX));
	FUZZ_CHECK(printable(l.source, LOGIN_ADDR_MAX));
	FUZZ_CHECK(printable(l.reason_text, LOGIN_REASON_TEXT_MAX));
	if (l.kind == LOGIN_REASON)
		return 0;
	FUZZ_CHECK(l.kind == LOGIN_ACCEPTED || l.kind == LOGIN_FAILED);
	FUZZ_CHECK(strspn(l.account, LOGIN_ACCOUNT_CHARS) == strlen(l.account));
	FUZZ_CHECK(l.account[0] != '\0' && l.account[0] != '-');
	FUZZ_CHECK(l.port > 0 && l.port <= 65535 && l.key_id[0] != '\0');
	FUZZ_CHECK(strlen(l.key_type) > 5 &&
	    strcmp(l.key_type + strlen(l.key_type) - 5, "-CERT") == 0);
	FUZZ_CHECK(strchr(l.key_id, ' ') == NULL);
	n = snprintf(buf, sizeof(buf),
	    "%s publickey for %s%s from %s port %u ssh2: %s %s ID %s "
	    "(serial %llu) CA %s %s",
	    l.kind == LOGIN_ACCEPTED ? "Accepted" : "Failed",
	    l.invalid_user ? "invalid user " : "", l.account, l.source, l.port,
	    l.key_type, l.key_fp, l.key_id, (unsigned long long)l.serial,
	    l.ca_type, l.ca_fp);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf));
	FUZZ_CHECK(login_parse(&again, buf, (size_t)n) == 0);
	FUZZ_CHECK(memcmp(&l, &again, sizeof(l)) == 0);
	return 0;
}
