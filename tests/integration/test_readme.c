/*
 * test_readme.c: README.md's "The first ten minutes, on one machine" is
 * itself the test.  The ```sh blocks of that section are read from
 * README.md and run line by line, in order, through /bin/sh, each block
 * in the terminal the text before it names ("Terminal 2 — ...": one
 * environment per terminal, kept from line to line, so `export` and
 * `eval "$(ssh-agent)"` carry on as in a real shell).  It must reach a
 * real ssh login to a real sshd.
 *
 * What the test changes, and only that (each a mechanical substitution
 * on the README's text): `scripts/run` (it installs packages and builds
 * a release) becomes `jitcad init` + `jitcad serve` on a free loopback
 * port, and 127.0.0.1:8443 that port; build/release/ is the build under
 * test; scripts/ is the source tree's; `sudo scripts/host-setup` writes
 * into a scratch --etc (no reload, no timer) and the test then starts
 * sshd on exactly those files on a free port; `ssh` gets that port and
 * options that keep it away from the user's own ssh config and
 * known_hosts.  A `jitca login` for a role that needs approval runs in
 * the background (the README says it waits) and must end 0 once the
 * approver's block ran.  HOME is a scratch directory; the working
 * directory stands for the checkout, and no token may land in it.
 *
 * Uses tests/lib/testutil.h, tests/lib/proc.h and the scratch --etc
 * tree of tests/lib/sshd.h.
 */
#include <dirent.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/proc.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

#define MAX_LINES 64

static char *dir; /* the "checkout": the working directory */
static char *home, *etc;
static pid_t serve_pid = -1, sshd_proc = -1, login_pid = -1;

static void
setup(void)
{
	dir = tu_tmpdir();
	home = tu_fmt("%s/home", dir);
	cr_assert_eq(mkdir(home, 0700), 0);
	etc = tu_tmpdir();
	cr_assert_eq(chmod(etc, 0755), 0);
	unsetenv("JITCA_TOKEN");
	unsetenv("JITCA_SERVER");
	unsetenv("JITCA_STATE");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("SSH_AUTH_SOCK");
	unsetenv("SSH_AGENT_PID");
}

/* The ssh-agent a README line started (`eval "$(ssh-agent)"`). */
static void
agents_stop(void)
{
	char *cmd;
	int t;

	for (t = 2; t <= 3; t++) {
		cmd = tu_fmt("cd '%s' && [ -f env%d.sh ] && . ./env%d.sh && "
			     "[ -n \"${SSH_AGENT_PID:-}\" ] && "
			     "ssh-agent -k >/dev/null 2>&1",
		    dir, t, t);
		(void)tu_sh(cmd, NULL, NULL);
		free(cmd);
	}
}

static void
teardown(void)
{
	tu_stop(&login_pid);
	agents_stop();
	tu_stop(&sshd_proc);
	tu_stop(&serve_pid);
	tu_rmtree(etc);
	tu_rmtree(dir);
}

TestSuite(readme, .init = setup, .fini = teardown, .timeout = 180);

struct block {
	int terminal; /* the "Terminal N" the text before it names */
	char *lines[MAX_LINES];
	size_t nlines;
};

/* The ```sh blocks of the README section that starts with heading. */
static size_t
readme_blocks(
    const char *readme, const char *heading, struct block *b, size_t max)
{
	const char *p = strstr(readme, heading), *end, *q, *nl, *t;
	size_t n = 0;
	int terminal = 2;

	cr_assert_not_null(p, "README.md has no \"%s\"", heading);
	end = strstr(p + strlen(heading), "\n## ");
	if (end == NULL)
		end = p + strlen(p);
	while ((q = strstr(p, "```sh\n")) != NULL && q < end) {
		/* The last "Terminal N" between p and the block. */
		for (t = p; (t = strstr(t, "Terminal ")) != NULL && t < q; t++)
			if (t[9] >= '1' && t[9] <= '9')
				terminal = t[9] - '0';
		cr_assert(n < max);
		b[n].terminal = terminal;
		b[n].nlines = 0;
		q += 6;
		while (strncmp(q, "```", 3) != 0) {
			nl = strchr(q, '\n');
			cr_assert_not_null(nl);
			cr_assert(b[n].nlines < MAX_LINES);
			b[n].lines[b[n].nlines++] =
			    tu_fmt("%.*s", (int)(nl - q), q);
			q = nl + 1;
		}
		p = q + 3;
		n++;
	}
	return n;
}

/* s with every from replaced by to (new string). */
static char *
replace(const char *s, const char *from, const char *to)
{
	char *out = tu_fmt("%s", ""), *n;
	const char *p;

	while ((p = strstr(s, from)) != NULL) {
		n = tu_fmt("%s%.*s%s", out, (int)(p - s), s, to);
		free(out);
		out = n;
		s = p + strlen(from);
	}
	n = tu_fmt("%s%s", out, s);
	free(out);
	return n;
}

/* The README line as the test runs it (the substitutions above). */
static char *
substitute(const char *line, int serve_port, int sshd_port)
{
	char *a, *b, *port = tu_fmt("127.0.0.1:%d", serve_port);
	char *ssh = tu_fmt(
	    "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no "
	    "-o UserKnownHostsFile=/dev/null -o "
	    "PreferredAuthentications=publickey -o ConnectTimeout=10 -o "
	    "LogLevel=ERROR -p %d ",
	    sshd_port);
	char *hs = tu_fmt("\"$JITCA_SOURCE_DIR\"/scripts/host-setup --etc '%s' "
			  "--no-reload --no-timer ",
	    etc);

	a = replace(line, "127.0.0.1:8443", port);
	b = replace(a, "build/release/", "\"$JITCA_BUILD\"/");
	free(a);
	a = replace(b, "sudo scripts/host-setup ", hs);
	free(b);
	if (strncmp(a, "ssh ", 4) == 0) {
		b = tu_fmt("%s%s", ssh, a + 4);
		free(a);
		a = b;
	}
	free(port);
	free(ssh);
	free(hs);
	return a;
}

/* Run line in terminal t: its environment (envT.sh: the exported
 * variables and the umask) before and after. */
static int
run_in(int t, const char *line, char **out, char **err)
{
	char *cmd = tu_fmt("cd '%s' && { [ ! -f env%d.sh ] || . ./env%d.sh; } "
			   "&& HOME='%s' && export HOME && %s && { export -p; "
			   "echo \"umask $(umask)\"; } > env%d.sh",
	    dir, t, t, home, line, t);
	int rc = tu_sh(cmd, out, err);

	free(cmd);
	return rc;
}

static pid_t
spawn_in(int t, const char *line, const char *o, const char *e)
{
	char *cmd = tu_fmt("cd '%s' && { [ ! -f env%d.sh ] || . ./env%d.sh; } "
			   "&& HOME='%s' && export HOME && exec %s",
	    dir, t, t, home, line);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	pid_t pid = tu_spawn(argv, o, e);

	free(cmd);
	return pid;
}

/* Every file name in dir ending in suffix, joined ("" when none). */
static char *
files_ending(const char *path, const char *suffix)
{
	char *got = tu_fmt("%s", ""), *n;
	struct dirent *de;
	DIR *d = opendir(path);
	size_t l, sl = strlen(suffix);

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l >= sl && strcmp(de->d_name + l - sl, suffix) == 0) {
			n = tu_fmt("%s %s", got, de->d_name);
			free(got);
			got = n;
		}
	}
	closedir(d);
	return got;
}

Test(readme, quick_start_reaches_a_real_ssh_login)
{
	struct block b[16];
	char *readme, *path, *line, *out, *err, *log, *t, *lo, *le, *all;
	char *build, *slash;
	int serve_port = tu_free_port(), sshd_port = tu_free_port(), rc;
	size_t nb, i, j;
	struct passwd *pw = getpwuid(geteuid());

	cr_assert_not_null(tu_which("sshd"), "sshd is not installed");
	cr_assert_not_null(pw);
	setenv("USER", pw->pw_name, 1);
	setenv("JITCA_SOURCE_DIR", tu_env("JITCA_SOURCE_DIR"), 1);
	build = tu_fmt("%s", tu_env("JITCAD"));
	slash = strrchr(build, '/');
	*slash = '\0';
	setenv("JITCA_BUILD", build, 1);
	path = tu_fmt("%s/README.md", tu_env("JITCA_SOURCE_DIR"));
	readme = tu_read_file(path, NULL);
	cr_assert_not_null(readme);
	nb = readme_blocks(
	    readme, "## The first ten minutes, on one machine", b, 16);
	/* run; terminal 2; host-setup + ssh; the waiting login; terminal 3. */
	cr_assert_eq(nb, 5, "README quick start has %zu sh blocks", nb);
	cr_assert(b[0].nlines == 1 && strcmp(b[0].lines[0], "scripts/run") == 0,
	    "%s", b[0].lines[0]);
	cr_assert_eq(b[0].terminal, 1);
	cr_assert_eq(b[4].terminal, 3);

	/* Terminal 1: scripts/run = init (no CA yet) + serve. */
	log = tu_fmt("%s/serve.log", dir);
	setenv("JITCA_STATE", tu_fmt("%s/jitca-state", dir), 1);
	cr_assert_eq(
	    run_in(1, "\"$JITCA_BUILD\"/jitcad init >/dev/null", NULL, NULL),
	    0);
	line = tu_fmt(
	    "\"$JITCA_BUILD\"/jitcad serve --listen 127.0.0.1:%d", serve_port);
	serve_pid = spawn_in(1, line, "/dev/null", log);
	free(tu_file_wait(log, "listening on http://127.0.0.1:", serve_pid));
	free(line);
	/* The readers of README start from a shell without these. */
	unsetenv("JITCA_STATE");

	/* The host's own sshd_config, which host-setup adds a drop-in to. */
	sshd_scratch_etc(
	    etc, "PermitRootLogin prohibit-password\n", sshd_port, dir);
	lo = tu_fmt("%s/login.out", dir);
	le = tu_fmt("%s/login.err", dir);
	all = tu_fmt("%s", "");
	for (i = 1; i < nb; i++) {
		for (j = 0; j < b[i].nlines; j++) {
			if (b[i].lines[j][0] == '\0' || b[i].lines[j][0] == '#')
				continue;
			line = substitute(b[i].lines[j], serve_port, sshd_port);
			if (strstr(line, "--role prod-debug") != NULL) {
				/* It waits for bob: in the background. */
				login_pid =
				    spawn_in(b[i].terminal, line, lo, le);
				free(tu_file_wait(le,
				    "request 2 for role prod-debug is pending",
				    login_pid));
				free(line);
				continue;
			}
			out = err = NULL;
			cr_log_info("terminal %d: %s", b[i].terminal, line);
			rc = run_in(b[i].terminal, line, &out, &err);
			cr_assert_eq(rc, 0,
			    "README line: %s\nran: %s\nexit %d\n%s%s",
			    b[i].lines[j], line, rc, out, err);
			t = tu_fmt(
			    "%s$ %s\n%s%s", all, b[i].lines[j], out, err);
			free(all);
			all = t;
			if (strstr(line, "scripts/host-setup") != NULL)
				/* sshd on the files host-setup installed. */
				sshd_proc = sshd_scratch_run(
				    etc, sshd_port, tu_fmt("%s/sshd.log", dir));
			free(out);
			free(err);
			free(line);
		}
	}
	/* What each step showed. */
	cr_assert(strstr(all, "\nstaging ") != NULL &&
		strstr(all, "\nprod-debug ") != NULL,
	    "jitca roles:\n%s", all);
	cr_assert(strstr(all, " jitca:staging:1 (ED25519-CERT)\n") != NULL,
	    "%s", all);
	cr_assert(strstr(all, "\nlogged in with a jitca certificate\n") != NULL,
	    "%s", all);
	cr_assert(strstr(all, "approved request 2: certificate issued") != NULL,
	    "%s", all);
	/* alice's waiting login ends with the certificate, naming who
	 * approved and what it allows (loopback is admitted: no warning). */
	rc = tu_wait_exit(&login_pid);
	t = tu_read_file(le, NULL);
	cr_assert_eq(rc, 0, "%s", t);
	cr_assert_null(strstr(t, "warning"), "%s", t);
	free(t);
	t = tu_read_file(lo, NULL);
	cr_assert(strstr(t, "approved by: bob: \"ok, pairing on it\"\n") &&
		strstr(t,
		    "options:     source-address=10.0.0.0/8,"
		    "127.0.0.0/8\n") &&
		strstr(t, "where:       ssh-agent\n") &&
		(strstr(t, " (15m00s left)\n") ||
		    strstr(t, " (14m59s left)\n")),
	    "%s", t);
	free(t);
	/* No token landed in the checkout; they are 0600 in the state. */
	t = files_ending(dir, ".token");
	cr_assert_str_eq(t, "");
	free(t);
	path = tu_fmt("%s/jitca-state/alice.token", dir);
	{
		struct stat st;

		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(st.st_mode & 0777, 0600);
	}
	free(path);
	free(all);
	free(readme);
	free(lo);
	free(le);
	free(log);
	free(build);
	for (i = 0; i < nb; i++)
		for (j = 0; j < b[i].nlines; j++)
			free(b[i].lines[j]);
}
