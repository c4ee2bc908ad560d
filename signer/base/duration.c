/*
 * duration.c: the duration grammar of duration.h: a strict parser that
 * says why a text is refused, and the inverse formatter.  No allocation,
 * no state.
 */
#include <stdio.h>
#include <string.h>

#include "signer/base/duration.h"

/* Seconds per unit letter, 0 if c is not a unit. */
static uint64_t
unit_seconds(char c)
{
	switch (c) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	default:
		return 0;
	}
}

int
duration_parse_flags(
    const char *s, unsigned flags, uint64_t *out, const char **why)
{
	const char *dummy = NULL;
	uint64_t v = 0, unit;
	int big = 0;
	size_t i = 0;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (out != NULL)
		*out = 0;
	if (s == NULL || *s == '\0') {
		*why = "empty";
		return ERR_BAD_DURATION;
	}
	if (s[0] == '+' || s[0] == '-') {
		*why = "a sign is not allowed";
		return ERR_BAD_DURATION;
	}
	if (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') {
		*why = "spaces are not allowed";
		return ERR_BAD_DURATION;
	}
	if (s[0] < '0' || s[0] > '9') {
		*why = "it must start with a number";
		return ERR_BAD_DURATION;
	}
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9') {
		*why = "leading zeros are not allowed";
		return ERR_BAD_DURATION;
	}
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		/* Stop accumulating once over the cap: no overflow. */
		if (!big) {
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > DURATION_MAX)
				big = 1;
		}
	}
	if (s[i] == '\0' && (flags & DURATION_BARE_SECONDS) != 0)
		unit = 1;
	else if (s[i] == '\0') {
		*why = "missing unit (use s, m, h or d)";
		return ERR_BAD_DURATION;
	} else if (s[i] == '.' || s[i] == ',') {
		*why = "fractions are not allowed";
		return ERR_BAD_DURATION;
	} else if (s[i] == ' ' || s[i] == '\t') {
		*why = "spaces are not allowed";
		return ERR_BAD_DURATION;
	} else if ((unit = unit_seconds(s[i])) == 0) {
		*why = "unknown unit (use s, m, h or d)";
		return ERR_BAD_DURATION;
	} else if (s[i + 1] != '\0') {
		*why = "use one number and one unit, like \"90m\"";
		return ERR_BAD_DURATION;
	}
	if (!big && v == 0) {
		*why = "zero is not allowed";
		return ERR_BAD_DURATION;
	}
	/* v <= DURATION_MAX here, so v * 86400 cannot overflow. */
	if (big || v * unit > DURATION_MAX) {
		*why = "longer than 10 years";
		return ERR_BAD_DURATION;
	}
	if (out != NULL)
		*out = v * unit;
	return 0;
}

int
duration_parse_why(const char *s, uint64_t *out, const char **why)
{
	return duration_parse_flags(s, 0, out, why);
}

int
duration_parse(const char *s, uint64_t *out)
{
	return duration_parse_flags(s, 0, out, NULL);
}

void
duration_format(char *buf, size_t len, uint64_t secs)
{
	if (buf == NULL || len == 0)
		return;
	if (secs != 0 && secs % 86400 == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(secs / 86400));
	else if (secs != 0 && secs % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(secs / 3600));
	else if (secs != 0 && secs % 60 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(secs / 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)secs);
}
