/*
 * duration.h: the one duration grammar of jitca, used by jitca.json
 * (ca/config.c) and by both programs' command lines (signer/base/cli.c):
 * "90s", "30m", "12h", "7d", and on the command line also a bare number
 * of seconds ("300" = "300s").
 *
 * A duration is a positive decimal integer without sign, spaces or
 * leading zeros, then one unit letter (s, m, h, d; lower case) and
 * nothing after it.  jitca.json requires the unit (a file that says "5"
 * is more likely a mistake for "5m" than five seconds); the command line
 * allows it to be left out (DURATION_BARE_SECONDS), as `jitca login
 * --ttl 300` always did.  docs/configuration.md and docs/client.md say
 * the same.  No allocation, no state.
 */
#ifndef JITCA_DURATION_H
#define JITCA_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

#define DURATION_MAX (3650ull * 86400) /* 10 years of 365 days */
#define DURATION_FMT_LEN 24 /* fits any duration_format() output */

#define DURATION_BARE_SECONDS 0x1 /* "300" means 300 seconds */

/*
 * Parse s into seconds under flags (0 or DURATION_BARE_SECONDS).
 * Refuses zero, signs, whitespace, leading zeros ("007m"), fractions,
 * missing (unless allowed), unknown or several units, and values over
 * DURATION_MAX.  ERR_BAD_DURATION; then *why (if why is not NULL) points
 * at a static sentence fragment saying what is wrong ("missing unit (use
 * s, m, h or d)"), for messages.
 */
MUST_CHECK int duration_parse_flags(
    const char *s, unsigned flags, uint64_t *out, const char **why);
/* jitca.json: duration_parse_flags(s, 0, ...). */
MUST_CHECK int duration_parse(const char *s, uint64_t *out);
MUST_CHECK int duration_parse_why(
    const char *s, uint64_t *out, const char **why);
/* Format seconds as the largest exact unit ("90s", "30m", "2h", "7d")
 * into buf. */
void duration_format(char *buf, size_t len, uint64_t secs);

#endif /* JITCA_DURATION_H */
