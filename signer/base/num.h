/*
 * num.h: the one strict parser of unsigned decimal numbers, for command
 * lines, the ledger's stored values and the test clock.  A number is one
 * or more ASCII digits: no sign, no spaces, no "0x", no leading zero
 * ("007": a number has one spelling, as a duration does), nothing after
 * the last digit, and at most max.  No allocation.
 */
#ifndef JITCA_NUM_H
#define JITCA_NUM_H

#include <stdint.h>

#include "signer/err.h"

/* *out = the value of s when s is a number <= max; else ERR_BAD_FORMAT
 * (ERR_TOO_LARGE when it is a number over max) and *out = 0. */
MUST_CHECK int num_parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif /* JITCA_NUM_H */
