/*
 * test_clock.c: a build without test hooks ignores JITCA_TEST_NOW.
 * tests/tests.cmake compiles ca/store/ a second time, without
 * -DJITCA_TEST_HOOKS, as a plain `cmake -S . -B build` does, and links
 * this test against that copy: if the hook leaked into builds that did
 * not ask for it, ledger_now() would return the variable's value.
 */
#include <stdlib.h>
#include <time.h>

#include <criterion/criterion.h>

#include "ca/ledger.h"

Test(nohooks, ledger_now_ignores_jitca_test_now)
{
	uint64_t before, now, after;

	cr_assert_eq(setenv("JITCA_TEST_NOW", "1000", 1), 0);
	before = (uint64_t)time(NULL);
	now = ledger_now();
	after = (uint64_t)time(NULL);
	cr_assert_neq(now, 1000);
	cr_assert(now >= before && now <= after, "%llu not in [%llu, %llu]",
	    (unsigned long long)now, (unsigned long long)before,
	    (unsigned long long)after);
}
