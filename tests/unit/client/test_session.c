/*
 * test_session.c: the session cache (client/session.c): written 0600 in a
 * 0700 directory, one file per server, read back only for the same
 * server, while more than SESSION_MARGIN seconds are left, and only from
 * a file nobody else can read; session_remove() for one server or all.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "client/session.h"
#include "tests/lib/testutil.h"

static char *home;

static void
setup(void)
{
	home = tu_tmpdir();
	unsetenv("XDG_CACHE_HOME");
}

static void
teardown(void)
{
	tu_rmtree(home);
	free(home);
}

TestSuite(session, .init = setup, .fini = teardown);

static void
save(const char *server, const char *token, uint64_t expires)
{
	struct session s = {(char *)(uintptr_t)token, "alice", expires};

	cr_assert_eq(session_save(home, server, &s), 0);
}

Test(session, round_trip_per_server)
{
	struct session s;
	struct stat st;
	char *dir = tu_fmt("%s/.cache/jitca", home), *cmd, *out = NULL;

	save("https://a.example", "jitca_AAAA", 1000);
	save("https://b.example", "jitca_BBBB", 2000);
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	cmd = tu_fmt("stat -c %%a '%s'/session-*.json | sort -u", dir);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	cr_assert_str_eq(out, "600\n");
	cr_assert_eq(session_load(home, "https://a.example", 900, &s), 0);
	cr_assert_str_eq(s.token, "jitca_AAAA");
	cr_assert_str_eq(s.user, "alice");
	cr_assert_eq(s.expires_at, 1000);
	session_clear(&s);
	cr_assert_eq(session_load(home, "https://b.example", 900, &s), 0);
	cr_assert_str_eq(s.token, "jitca_BBBB");
	session_clear(&s);
	cr_assert_eq(
	    session_load(home, "https://c.example", 900, &s), ERR_NOT_FOUND);
	free(out);
	free(cmd);
	free(dir);
}

Test(session, stale_is_not_used_and_removed)
{
	struct session s;

	save("https://a.example", "jitca_AAAA", 1000);
	/* Within SESSION_MARGIN of the end: stale. */
	cr_assert_eq(
	    session_load(home, "https://a.example", 1000 - SESSION_MARGIN, &s),
	    ERR_NOT_FOUND);
	cr_assert_eq(session_load(home, "https://a.example", 0, &s),
	    ERR_NOT_FOUND, "the stale file was removed");
}

Test(session, readable_by_others_is_refused)
{
	struct session s;
	char *cmd = tu_fmt("chmod 0644 '%s'/.cache/jitca/session-*.json", home);

	save("https://a.example", "jitca_AAAA", 1000);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	cr_assert_eq(
	    session_load(home, "https://a.example", 0, &s), ERR_NOT_FOUND);
	free(cmd);
}

Test(session, remove_one_or_all)
{
	struct session s;

	save("https://a.example", "jitca_AAAA", 1000);
	save("https://b.example", "jitca_BBBB", 1000);
	save("https://c.example", "jitca_CCCC", 1000);
	cr_assert_eq(session_remove(home, "https://a.example"), 1);
	cr_assert_eq(session_remove(home, "https://a.example"), 0);
	cr_assert_eq(session_remove(home, NULL), 2);
	cr_assert_eq(
	    session_load(home, "https://b.example", 0, &s), ERR_NOT_FOUND);
	cr_assert_eq(session_remove(home, NULL), 0);
}
