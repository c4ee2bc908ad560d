/*
 * ratelimit.h: a per-key sliding-window limit (at most N events in any
 * RATELIMIT_WINDOW seconds), used by web/api.c to bound how many
 * requests one user may create (config limits.requests_per_minute).
 *
 * Each key keeps the times of its last N events (N = the limit at the
 * last call, so a reload that changes the limit applies at once); a key
 * idle for a whole window is dropped by ratelimit_prune(), so memory
 * follows the users active in the last minute.  Times are seconds from
 * the caller's clock (the CA's, ca_now(), so tests can move it).  The
 * state lives in this process only: each jitcad replica limits on its
 * own.  Thread-safe (one mutex).  Nothing here knows HTTP.
 */
#ifndef JITCA_RATELIMIT_H
#define JITCA_RATELIMIT_H

#include <stdint.h>

#include "signer/err.h"

#define RATELIMIT_WINDOW 60 /* seconds */
#define RATELIMIT_KEY_MAX 256 /* bytes of a key */

struct ratelimit;

/* A new, empty limiter (*out; free with ratelimit_free()). */
MUST_CHECK int ratelimit_new(struct ratelimit **out);
void ratelimit_free(struct ratelimit *rl);

/*
 * Count one event for key at time now, if fewer than limit events of key
 * fall in (now - RATELIMIT_WINDOW, now]: 0.  Otherwise nothing is counted
 * and ERR_RATE_LIMITED, with *retry_after the seconds (>= 1) until the
 * oldest of those events leaves the window.  limit 0 always allows
 * (and counts nothing).  ERR_INVALID_ARG for a key that is empty or
 * longer than RATELIMIT_KEY_MAX, ERR_ALLOC.
 */
MUST_CHECK int ratelimit_take(struct ratelimit *rl, const char *key,
    unsigned limit, uint64_t now, uint64_t *retry_after);

/* Forget every key with no event in the window ending at now. */
void ratelimit_prune(struct ratelimit *rl, uint64_t now);

#endif /* JITCA_RATELIMIT_H */
