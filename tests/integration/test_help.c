/*
 * test_help.c: the command-line layer as users meet it, through the real
 * binaries (signer/base/cli.h): `--help` for every command and
 * subcommand of jitcad and jitca exits 0 with the help on stdout, with
 * no server, no state directory, HOME an empty directory and an
 * ssh-agent holding a jitca key, and acts on nothing (the working
 * directory and HOME stay empty, `jitca logout --help` leaves the key
 * in the agent); `--version`; the generated man pages render without
 * warnings; the generated bash completion offers the exact candidates.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/jitcad.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

static char *dir, *home, *cwd, *sock, *key;
static pid_t agent_pid = -1;

static void
setup(void)
{
	char *cmd;

	dir = tu_tmpdir();
	cwd = tu_fmt("%s/cwd", dir);
	sock = tu_fmt("%s/agent.sock", dir);
	key = tu_fmt("%s/id", dir);
	home = tu_client_home(dir);
	cr_assert_eq(mkdir(cwd, 0700), 0);
	unsetenv("JITCA_STATE");
	agent_pid = tu_agent_start(sock);
	setenv("SSH_AUTH_SOCK", sock, 1);
	/* A key with a jitca comment: the kind `jitca logout` removes. */
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -C jitca:prod:7 -f '%s' "
		     "&& ssh-add -q '%s'",
	    key, key);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
}

static void
teardown(void)
{
	tu_stop(&agent_pid);
	tu_rmtree(dir);
	free(dir);
	free(home);
	free(cwd);
	free(sock);
	free(key);
}

TestSuite(help, .init = setup, .fini = teardown);

/* Entries in path other than . and .. */
static int
entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d, "%s", path);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Run "PROG WORDS --help" (or -h) in the empty cwd. */
static void
help_ok(const char *prog, const char *words, const char *flag)
{
	char *cmd, *out = NULL, *err = NULL, *want;
	int rc;

	cmd = tu_fmt("cd '%s' && '%s' %s %s", cwd,
	    tu_env(strcmp(prog, "jitcad") == 0 ? "JITCAD" : "JITCA"), words,
	    flag);
	rc = tu_sh(cmd, &out, &err);
	cr_assert_eq(rc, 0, "%s %s %s: rc %d: %s", prog, words, flag, rc, err);
	cr_assert_str_eq(err, "", "%s %s: stderr: %s", prog, words, err);
	want = tu_fmt("%s%s%s", prog, *words != '\0' ? " " : "", words);
	cr_assert(strncmp(out, "usage:", 6) == 0, "%s: %s", want, out);
	cr_assert(strstr(out, want) != NULL, "%s: %s", want, out);
	cr_assert_eq(entries(cwd), 0, "%s %s created files", want, flag);
	cr_assert_eq(entries(home), 0, "%s %s wrote to HOME", want, flag);
	free(want);
	free(cmd);
	free(out);
	free(err);
}

Test(help, every_jitcad_command)
{
	static const char *words[] = {"", "init", "serve", "ca-key",
	    "sshd-config", "config", "config check", "user", "user add",
	    "user token", "user disable", "user list", "issue", "revoke", "krl",
	    "ledger", "ledger verify", "ledger export"};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		help_ok("jitcad", words[i], "--help");
		help_ok("jitcad", words[i], "-h");
	}
	/* Help wins over a bad option: it never runs the command. */
	help_ok("jitcad", "init", "--ca-key-type dsa --help");
	help_ok("jitcad", "user add", "--bogus --help");
}

Test(help, every_jitca_command)
{
	static const char *words[] = {
	    "", "login", "requests", "approve", "deny", "status", "logout"};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		help_ok("jitca", words[i], "--help");
		help_ok("jitca", words[i], "-h");
	}
}

Test(help, logout_help_leaves_the_agent_alone)
{
	char *out = NULL, *cmd = tu_fmt("'%s' logout", tu_env("JITCA"));

	help_ok("jitca", "logout", "--help");
	cr_assert_eq(tu_sh("ssh-add -l", &out, NULL), 0);
	cr_assert(strstr(out, "jitca:prod:7") != NULL, "%s", out);
	free(out);
	/* The same key is what a real logout removes. */
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	cr_assert_str_eq(out, "removed 1 certificate(s) from ssh-agent\n");
	free(out);
	cr_assert_eq(tu_sh("ssh-add -l", NULL, NULL), 1);
	free(cmd);
}

Test(help, version_and_usage_errors)
{
	char *cmd, *out = NULL, *err = NULL;

	cmd = tu_fmt("'%s' --version", tu_env("JITCAD"));
	cr_assert_eq(tu_sh(cmd, &out, &err), 0);
	cr_assert(strncmp(out, "jitcad ", 7) == 0, "%s", out);
	cr_assert_str_eq(err, "");
	free(cmd);
	free(out);
	free(err);
	cmd = tu_fmt("'%s' --version", tu_env("JITCA"));
	cr_assert_eq(tu_sh(cmd, &out, &err), 0);
	cr_assert(strncmp(out, "jitca ", 6) == 0, "%s", out);
	free(cmd);
	free(out);
	free(err);
	cmd = tu_fmt("'%s' issue --bogus", tu_env("JITCAD"));
	cr_assert_eq(tu_sh(cmd, &out, &err), 2);
	cr_assert_str_eq(out, "");
	cr_assert(strncmp(err,
		      "jitcad issue: unknown option --bogus\nusage: ", 44) == 0,
	    "%s", err);
	free(cmd);
	free(out);
	free(err);
	cmd = tu_fmt("'%s' login --ttl", tu_env("JITCA"));
	cr_assert_eq(tu_sh(cmd, &out, &err), 2);
	cr_assert(
	    strncmp(err, "jitca login: --ttl needs D\n", 27) == 0, "%s", err);
	free(cmd);
	free(out);
	free(err);
}

static void
man_renders(const char *page, const char *must)
{
	char *path = tu_fmt("%s/generated/%s", tu_env("JITCA_BUILD_DIR"), page);
	char *cmd, *out = NULL, *err = NULL;

	cmd = tu_fmt("groff -man -Tutf8 -ww -z '%s'", path);
	cr_assert_eq(tu_sh(cmd, &out, &err), 0, "%s", err);
	cr_assert_str_eq(err, "", "%s: %s", page, err);
	free(cmd);
	free(out);
	free(err);
	cmd = tu_fmt("MANWIDTH=80 man -l '%s' | col -b", path);
	cr_assert_eq(tu_sh(cmd, &out, &err), 0, "%s", err);
	cr_assert_str_eq(err, "", "%s: %s", page, err);
	cr_assert(strstr(out, "SYNOPSIS") != NULL, "%s", out);
	cr_assert(strstr(out, "EXIT STATUS") != NULL, "%s", out);
	cr_assert(strstr(out, "ENVIRONMENT") != NULL, "%s", out);
	cr_assert(strstr(out, "FILES") != NULL, "%s", out);
	cr_assert(
	    strstr(out, must) != NULL, "%s: no \"%s\":\n%s", page, must, out);
	free(cmd);
	free(out);
	free(err);
	free(path);
}

Test(help, man_pages_render)
{
	man_renders("jitcad.8", "--ca-key-type ed25519|ecdsa-p256");
	man_renders("jitcad.8", "jitcad user add NAME --group G...");
	man_renders("jitca.1", "--reason TEXT");
}

/* The candidates the completion function offers for words. */
static char *
complete(const char *prog, const char *words, int cword)
{
	char *cmd, *out = NULL, *err = NULL;

	cmd = tu_fmt("bash -c 'source \"%s/generated/completions/%s\"; "
		     "COMP_WORDS=(%s); COMP_CWORD=%d; _%s; "
		     "printf \"%%s\\n\" \"${COMPREPLY[@]}\"'",
	    tu_env("JITCA_BUILD_DIR"), prog, words, cword, prog);
	cr_assert_eq(tu_sh(cmd, &out, &err), 0, "%s", err);
	cr_assert_str_eq(err, "", "%s", err);
	free(cmd);
	free(err);
	return out;
}

Test(help, bash_completion)
{
	char *c;

	c = complete("jitcad", "jitcad us", 1);
	cr_assert_str_eq(c, "user\n");
	free(c);
	c = complete("jitcad", "jitcad user \"\"", 2);
	cr_assert_str_eq(c, "add\ntoken\ndisable\nlist\n");
	free(c);
	c = complete("jitca", "jitca login --r", 2);
	cr_assert_str_eq(c, "--role\n--reason\n");
	free(c);
	c = complete("jitcad", "jitcad ledger export --format \"\"", 4);
	cr_assert_str_eq(c, "jsonl\ncsv\n");
	free(c);
	/* An option's value is not taken for the subcommand. */
	c = complete("jitcad", "jitcad user add --group g --st", 5);
	cr_assert_str_eq(c, "--state\n");
	free(c);
}
