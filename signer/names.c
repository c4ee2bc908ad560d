/*
 * names.c: the safe alphabets of names.h and the strict CIDR-list check
 * for the source-address critical option.  No allocation, no state.
 */
#include <arpa/inet.h>
#include <string.h>

#include "signer/names.h"

int
name_principal_valid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_';

		if (i >= NAME_PRINCIPAL_MAX)
			return 0;
		if (!alnum && (i == 0 || (c != '.' && c != '@' && c != '-')))
			return 0;
	}
	return 1;
}

int
name_host_valid(const char *s)
{
	unsigned char buf[16];
	size_t i, label = 0, n;
	int digits = 1;

	if (s == NULL || s[0] == '\0')
		return 0;
	if ((n = strlen(s)) > NAME_HOST_MAX)
		return 0;
	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return 1;
	for (i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			if (c == '\0')
				break;
			label = 0;
			digits = 1;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (c < '0' || c > '9')
			digits = 0;
		if (++label > NAME_HOST_LABEL_MAX)
			return 0;
	}
	return !digits;
}

int
name_key_id_valid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= NAME_KEY_ID_MAX)
			return 0;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (strchr("@._:+=/-", c) == NULL)
			return 0;
	}
	return 1;
}

int
name_critical_known(const char *name, int *has_value)
{
	static const struct {
		const char *name;
		int has_value;
	} known[] = {
	    {"force-command", 1},
	    {"source-address", 1},
	    {"verify-required", 0},
	};
	size_t i;

	if (has_value != NULL)
		*has_value = 0;
	if (name == NULL)
		return 0;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(name, known[i].name) == 0) {
			if (has_value != NULL)
				*has_value = known[i].has_value;
			return 1;
		}
	}
	return 0;
}

int
name_extension_known(const char *name)
{
	static const char *const known[] = {
	    "no-touch-required",
	    "permit-X11-forwarding",
	    "permit-agent-forwarding",
	    "permit-port-forwarding",
	    "permit-pty",
	    "permit-user-rc",
	    /* jitca's own mark of a break-glass certificate (sshd ignores
	     * it; ca/request.h). */
	    "break-glass@jitca",
	};
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(name, known[i]) == 0)
			return 1;
	return 0;
}

/* Strict decimal 0..max with no sign, no leading zeros (except "0"). */
static int
parse_prefix(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* One "addr[/prefix]" item of len bytes. */
static int
cidr_item_check(const char *s, size_t len)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	const char *slash;
	size_t alen, nbytes, i;
	unsigned prefix, max;
	int af;

	slash = memchr(s, '/', len);
	alen = slash ? (size_t)(slash - s) : len;
	if (alen == 0 || alen >= sizeof(addr))
		return ERR_BAD_CIDR;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	af = memchr(addr, ':', alen) ? AF_INET6 : AF_INET;
	if (inet_pton(af, addr, bin) != 1)
		return ERR_BAD_CIDR;
	max = af == AF_INET6 ? 128 : 32;
	nbytes = max / 8;
	prefix = max;
	if (slash != NULL &&
	    parse_prefix(slash + 1, len - alen - 1, max, &prefix) != 0)
		return ERR_BAD_CIDR;
	/* Host bits beyond the prefix must be zero, as sshd requires. */
	for (i = 0; i < nbytes; i++) {
		unsigned bit0 = (unsigned)i * 8;
		unsigned char mask;

		if (bit0 + 8 <= prefix)
			continue;
		mask = bit0 >= prefix
		    ? 0xff
		    : (unsigned char)(0xff >> (prefix - bit0));
		if (bin[i] & mask)
			return ERR_BAD_CIDR;
	}
	return 0;
}

int
name_cidr_list_check(const char *s)
{
	const char *p, *comma;
	int r;

	if (s == NULL || *s == '\0')
		return ERR_BAD_CIDR;
	for (p = s;; p = comma + 1) {
		size_t len;

		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if ((r = cidr_item_check(p, len)) != 0)
			return r;
		if (comma == NULL)
			break;
	}
	return 0;
}
