/*
 * supervise.h: the signer supervisor of `jitcad serve` (supervise.c).
 * Main thread only.
 */
#ifndef JITCA_SUPERVISE_H
#define JITCA_SUPERVISE_H

#include "signer/err.h"

struct api;
struct signer;

/* The signer supervisor's state (main thread only). */
struct superv {
	int down; /* the child is gone and not yet replaced */
	unsigned tries; /* starts in a row that failed or died young */
	long long next_ms; /* next restart attempt */
	long long started_ms; /* when the running child started */
};

/* Milliseconds on the monotonic clock. */
long long mono_ms(void);

/*
 * Look after the signer: reap a dead child (no zombie), say why it died,
 * report the service degraded, restart with backoff.  Returns 0, or -1
 * when it gave up (jitcad then exits 1).  Zero *sv and set started_ms
 * before the first call.
 */
MUST_CHECK int superv_step(struct superv *sv, struct signer *s, struct api *a);

#endif /* JITCA_SUPERVISE_H */
