/*
 * test_ratelimit.c: web/ratelimit.c, the per-user sliding window behind
 * limits.requests_per_minute: the N-th event passes and the next is
 * refused with the exact Retry-After, keys are independent, the window
 * slides, a changed limit applies at once, 0 means no limit, pruning
 * forgets idle keys, and bad keys are refused.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "web/ratelimit.h"

static struct ratelimit *rl;

static void
setup(void)
{
	cr_assert_eq(ratelimit_new(&rl), 0);
}

static void
teardown(void)
{
	ratelimit_free(rl);
	rl = NULL;
}

TestSuite(ratelimit, .init = setup, .fini = teardown);

Test(ratelimit, window_and_retry_after)
{
	uint64_t ra = 99;

	cr_assert_eq(ratelimit_take(rl, "alice", 3, 1000, &ra), 0);
	cr_assert_eq(ra, 0);
	cr_assert_eq(ratelimit_take(rl, "alice", 3, 1010, &ra), 0);
	cr_assert_eq(ratelimit_take(rl, "alice", 3, 1020, &ra), 0);
	cr_assert_eq(
	    ratelimit_take(rl, "alice", 3, 1030, &ra), ERR_RATE_LIMITED);
	cr_assert_eq(ra, 30); /* the event at 1000 leaves at 1060 */
	/* A refused attempt is not counted. */
	cr_assert_eq(
	    ratelimit_take(rl, "alice", 3, 1059, &ra), ERR_RATE_LIMITED);
	cr_assert_eq(ra, 1);
	cr_assert_eq(ratelimit_take(rl, "alice", 3, 1060, &ra), 0);
	cr_assert_eq(
	    ratelimit_take(rl, "alice", 3, 1060, &ra), ERR_RATE_LIMITED);
	cr_assert_eq(ra, 10);
	/* Other users have their own window. */
	cr_assert_eq(ratelimit_take(rl, "bob", 3, 1060, &ra), 0);
}

Test(ratelimit, limit_changes_and_zero)
{
	uint64_t ra = 0;
	int i;

	for (i = 0; i < 5; i++)
		cr_assert_eq(ratelimit_take(rl, "alice", 5, 100 + i, &ra), 0);
	/* Reloaded down to 2: refused until 3 of the 5 have left. */
	cr_assert_eq(
	    ratelimit_take(rl, "alice", 2, 110, &ra), ERR_RATE_LIMITED);
	cr_assert_eq(ra, 53); /* the event at 103 leaves at 163 */
	cr_assert_eq(ratelimit_take(rl, "alice", 2, 163, &ra), 0);
	/* 0: no limit, nothing counted. */
	for (i = 0; i < 100; i++)
		cr_assert_eq(ratelimit_take(rl, "carol", 0, 200, &ra), 0);
	cr_assert_eq(ratelimit_take(rl, "carol", 1, 200, &ra), 0);
	cr_assert_eq(
	    ratelimit_take(rl, "carol", 1, 200, &ra), ERR_RATE_LIMITED);
	cr_assert_eq(ra, 60);
}

Test(ratelimit, prune_and_bad_keys)
{
	char big[RATELIMIT_KEY_MAX + 2];
	uint64_t ra = 0;

	cr_assert_eq(ratelimit_take(rl, "alice", 1, 100, &ra), 0);
	ratelimit_prune(rl, 159);
	cr_assert_eq(
	    ratelimit_take(rl, "alice", 1, 159, &ra), ERR_RATE_LIMITED);
	ratelimit_prune(rl, 160);
	cr_assert_eq(ratelimit_take(rl, "alice", 1, 160, &ra), 0);
	cr_assert_eq(ratelimit_take(rl, "", 1, 160, &ra), ERR_INVALID_ARG);
	cr_assert_eq(ratelimit_take(rl, NULL, 1, 160, &ra), ERR_INVALID_ARG);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(ratelimit_take(rl, big, 1, 160, &ra), ERR_INVALID_ARG);
	/* The clock went back: Retry-After stays within the window. */
	cr_assert_eq(ratelimit_take(rl, "dave", 1, 500, &ra), 0);
	cr_assert_eq(ratelimit_take(rl, "dave", 1, 400, &ra), ERR_RATE_LIMITED);
	cr_assert_eq(ra, 60);
}
