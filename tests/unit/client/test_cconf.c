/*
 * test_cconf.c: client settings (client/cconf.c): durations, role names,
 * the precedence option > environment > ~/.config/jitca files, malformed
 * config and token files, and the atomic file writer.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "client/cconf.h"
#include "tests/lib/testutil.h"

static char *home;

static void
setup(void)
{
	home = tu_tmpdir();
	setenv("HOME", home, 1);
	unsetenv("JITCA_SERVER");
	unsetenv("JITCA_TOKEN");
}

static void
teardown(void)
{
	tu_rmtree(home);
	free(home);
}

TestSuite(cconf, .init = setup, .fini = teardown);

static void
put(const char *rel, const char *text, int mode)
{
	char *p = tu_fmt("%s/.config/jitca", home);

	cr_assert_eq(cconf_mkdirs(p, 0700), 0);
	free(p);
	p = tu_fmt("%s/.config/jitca/%s", home, rel);
	tu_write_file(p, text, strlen(text), mode);
	free(p);
}

Test(cconf, durations)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {{"90s", 90}, {"30m", 1800}, {"12h", 43200}, {"7d", 604800},
	    {"300", 300}, {"5s", 5}, {"365d", 31536000}};
	static const char *bad[] = {"", "0s", "0", "m", "1x", "-5m", "1.5h",
	    "366d", "99999999999d", " 5m", "5m ", "5 m", "1h30m"};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(
		    cconf_parse_duration(&v, good[i].s), 0, "%s", good[i].s);
		cr_assert_eq(v, good[i].v, "%s", good[i].s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(cconf_parse_duration(&v, bad[i]), ERR_BAD_DURATION,
		    "\"%s\"", bad[i]);
		cr_assert_eq(v, 0);
	}
	cr_assert_eq(cconf_parse_duration(&v, NULL), ERR_BAD_DURATION);
}

Test(cconf, format_duration)
{
	char b[32];

	cconf_format_duration(b, sizeof(b), 5);
	cr_assert_str_eq(b, "5s");
	cconf_format_duration(b, sizeof(b), 750);
	cr_assert_str_eq(b, "12m30s");
	cconf_format_duration(b, sizeof(b), 7500);
	cr_assert_str_eq(b, "2h05m");
	cconf_format_duration(b, sizeof(b), 3 * 86400 + 4 * 3600 + 5);
	cr_assert_str_eq(b, "3d04h");
}

Test(cconf, role_names)
{
	cr_assert(cconf_role_ok("prod-debug"));
	cr_assert(cconf_role_ok("a.b_c"));
	cr_assert_not(cconf_role_ok(""));
	cr_assert_not(cconf_role_ok(".hidden"));
	cr_assert_not(cconf_role_ok("-x"));
	cr_assert_not(cconf_role_ok("../x"));
	cr_assert_not(cconf_role_ok("a/b"));
	cr_assert_not(cconf_role_ok("a b"));
	cr_assert_not(cconf_role_ok(
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4"));
	cr_assert_not(cconf_role_ok(NULL));
}

Test(cconf, nothing_configured)
{
	struct cconf c;
	char *p;

	cr_assert_eq(cconf_load(&c, NULL, NULL, NULL, NULL), 0);
	cr_assert_null(c.server);
	cr_assert_null(c.token);
	cr_assert_null(c.ca_bundle);
	cr_assert_str_eq(c.home, home);
	p = tu_fmt("%s/.config/jitca", home);
	cr_assert_str_eq(c.dir, p);
	cconf_clear(&c);
	free(p);
}

Test(cconf, precedence)
{
	struct cconf c;
	char *tf = tu_fmt("%s/tok", home);

	put("config",
	    "# jitca\n\nserver = https://file.example\n"
	    "ca_bundle=/etc/ca.pem\n",
	    0644);
	put("token", "  file-token \n", 0600);
	cr_assert_eq(cconf_load(&c, NULL, NULL, NULL, NULL), 0);
	cr_assert_str_eq(c.server, "https://file.example");
	cr_assert_str_eq(c.ca_bundle, "/etc/ca.pem");
	cr_assert_str_eq(c.token, "file-token");
	cconf_clear(&c);

	setenv("JITCA_SERVER", "https://env.example", 1);
	setenv("JITCA_TOKEN", "env-token", 1);
	cr_assert_eq(cconf_load(&c, NULL, NULL, NULL, NULL), 0);
	cr_assert_str_eq(c.server, "https://env.example");
	cr_assert_str_eq(c.server_from, "$JITCA_SERVER");
	cr_assert_str_eq(c.token, "env-token");
	cconf_clear(&c);

	tu_write_file(tf, "opt-token\nsecond line\n", 22, 0600);
	cr_assert_eq(
	    cconf_load(&c, "http://opt.example", tf, "/b.pem", NULL), 0);
	cr_assert_str_eq(c.server, "http://opt.example");
	cr_assert_str_eq(c.token, "opt-token");
	cr_assert_str_eq(c.ca_bundle, "/b.pem");
	cconf_clear(&c);
	free(tf);
}

Test(cconf, token_file_in_config)
{
	struct cconf c;
	char *tf = tu_fmt("%s/elsewhere", home), *cfg;

	tu_write_file(tf, "cfg-token", 9, 0600);
	cfg = tu_fmt("server = http://x\ntoken_file = %s\n", tf);
	put("config", cfg, 0644);
	put("token", "ignored", 0600);
	cr_assert_eq(cconf_load(&c, NULL, NULL, NULL, NULL), 0);
	cr_assert_str_eq(c.token, "cfg-token");
	cconf_clear(&c);
	free(tf);
	free(cfg);
}

Test(cconf, bad_files)
{
	struct cconf c;
	char *bad = NULL, *missing = tu_fmt("%s/missing", home);

	put("config", "server = http://x\nnonsense\n", 0644);
	cr_assert_eq(cconf_load(&c, NULL, NULL, NULL, &bad), ERR_CONFIG);
	cr_assert(strstr(bad, "config:2: expected") != NULL, "%s", bad);
	free(bad);
	put("config", "colour = blue\n", 0644);
	cr_assert_eq(cconf_load(&c, NULL, NULL, NULL, &bad), ERR_CONFIG);
	cr_assert(
	    strstr(bad, "config:1: unknown key \"colour\"") != NULL, "%s", bad);
	free(bad);
	put("config", "server =\n", 0644);
	cr_assert_eq(cconf_load(&c, NULL, NULL, NULL, &bad), ERR_CONFIG);
	free(bad);
	put("config", "server = http://x\n", 0644);
	put("token", " \n", 0600);
	cr_assert_eq(cconf_load(&c, NULL, NULL, NULL, &bad), ERR_CONFIG);
	cr_assert(strstr(bad, "is empty") != NULL, "%s", bad);
	free(bad);
	/* An explicit token file must exist. */
	cr_assert_eq(cconf_load(&c, NULL, missing, NULL, &bad), ERR_CONFIG);
	cr_assert(strstr(bad, "missing") != NULL, "%s", bad);
	cr_assert_null(c.server);
	free(bad);
	free(missing);
}

Test(cconf, write_atomic)
{
	char *p = tu_fmt("%s/a/b/file", home), *d = tu_fmt("%s/a/b", home);
	char *got = NULL, *cmd, *out = NULL;
	struct stat st;
	size_t len;

	cr_assert_eq(cconf_mkdirs(d, 0700), 0);
	cr_assert_eq(cconf_mkdirs(d, 0700), 0);
	cr_assert_eq(cconf_write_atomic(p, "one", 3, 0600), 0);
	cr_assert_eq(cconf_write_atomic(p, "second", 6, 0600), 0);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(cconf_read_file(&got, &len, p, 100), 0);
	cr_assert_str_eq(got, "second");
	cr_assert_eq(len, 6);
	free(got);
	cr_assert_eq(cconf_read_file(&got, &len, p, 5), ERR_TOO_LARGE);
	cr_assert_null(got);
	/* Nothing left behind but the file. */
	cmd = tu_fmt("ls -A '%s'", d);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	cr_assert_str_eq(out, "file\n");
	cr_assert_eq(cconf_read_file(&got, NULL, d, 100), ERR_SYSTEM);
	free(p);
	free(d);
	free(cmd);
	free(out);
}

Test(cconf, token_file_readable_by_others_warns)
{
	struct cconf c;
	char *tf = tu_fmt("%s/alice.token", home), *want;

	tu_write_file(tf, "tok\n", 4, 0644);
	cr_assert_eq(cconf_load(&c, "http://x", tf, NULL, NULL), 0);
	cr_assert_str_eq(c.token, "tok");
	want = tu_fmt("token file %s is readable by others; chmod 600 it", tf);
	cr_assert_str_eq(c.warning, want);
	cconf_clear(&c);
	tu_write_file(tf, "tok\n", 4, 0600);
	cr_assert_eq(cconf_load(&c, "http://x", tf, NULL, NULL), 0);
	cr_assert_null(c.warning);
	cconf_clear(&c);
	free(want);
	free(tf);
}
