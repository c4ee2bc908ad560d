/*
 * test_e2e.c: issue 6, the whole story end to end with real processes
 * only: `jitcad serve` ($JITCAD) on a fresh state dir, a real
 * `ssh-agent -D -a SOCK`, the client `jitca` ($JITCA) with a HOME per
 * user, scripts/host-setup installing the CA key, principals, KRL and
 * sshd drop-in into a scratch --etc, a real sshd started on exactly those
 * files, the real `ssh` client, and scripts/krl-sync.
 *
 * The shell lines follow README.md's command blocks line for line, in
 * the README's order, where they apply to the scenario; every place where
 * the README names a production URL, /etc or a build path, the test says
 * what it uses instead (a loopback `jitcad serve --listen 127.0.0.1:0`, a
 * scratch directory, $JITCAD/$JITCA).  The scenario: alice asks for
 * prod-debug (its source-address widened to 127.0.0.0/8, as
 * docs/configuration.md says), cannot approve it herself, bob approves,
 * her waiting login completes and she logs in over ssh through the agent
 * as an account whose principals file lists "debug" but not as one whose
 * file does not; a 5-second staging certificate kept in files works and
 * is then refused as expired; revoking her request's certificate and
 * syncing the KRL makes the next login fail; the sshd log carries the
 * serial and key id the ledger holds; the ledger verifies and exports
 * every step in order with its actor.
 *
 * Does not test failure paths of each piece (test_client.c, test_host.c,
 * test_sshd.c do).  Uses tests/lib/testutil.h, tests/lib/proc.h, only
 * the scratch --etc tree of tests/lib/sshd.h (sshd must run on the files
 * host-setup installed, not on sshd_start()'s), and jansson (to read the
 * ledger export).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/lib/proc.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

static char *dir; /* scratch: token files, logs, agent socket */
static char *state; /* jitcad's state dir ($JITCA_STATE) */
static char *etc; /* host-setup's --etc (stands for /etc) */
static char *home_alice, *home_bob;
static pid_t serve_pid = -1, agent_pid = -1, sshd_proc = -1, login_pid = -1;

static void
setup(void)
{
	dir = tu_tmpdir();
	state = tu_fmt("%s/jitca-state", dir);
	/* sshd reads principals files as the target account (nobody too):
	 * the scratch etc needs a world-searchable path, unlike dir. */
	etc = tu_tmpdir();
	cr_assert_eq(chmod(etc, 0755), 0);
	home_alice = tu_fmt("%s/alice", dir);
	home_bob = tu_fmt("%s/bob", dir);
	cr_assert_eq(mkdir(home_alice, 0700), 0);
	cr_assert_eq(mkdir(home_bob, 0700), 0);
	unsetenv("JITCA_TOKEN");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("SSH_AUTH_SOCK");
}

static void
teardown(void)
{
	tu_stop(&login_pid);
	tu_stop(&sshd_proc);
	tu_stop(&agent_pid);
	tu_stop(&serve_pid);
	tu_rmtree(etc);
	tu_rmtree(dir);
}

TestSuite(e2e, .init = setup, .fini = teardown, .timeout = 180);

/*
 * Run a README line through /bin/sh in DIR with HOME set to home (the
 * person typing it).  $JITCAD, $JITCA, $JITCA_STATE, $JITCA_SERVER and
 * $SSH_AUTH_SOCK come from the environment.  Returns the exit status.
 */
static int
sh_as(const char *home, const char *line, char **out, char **err)
{
	char *cmd = tu_fmt(
	    "cd '%s' && HOME='%s' && export HOME && %s", dir, home, line);
	int rc = tu_sh(cmd, out, err);

	free(cmd);
	return rc;
}

/* sh_as that must exit 0; returns stdout. */
static char *
ok_as(const char *home, const char *line)
{
	char *out = NULL, *err = NULL;
	int rc = sh_as(home, line, &out, &err);

	cr_assert_eq(
	    rc, 0, "%s: exit %d\nstdout: %s\nstderr: %s", line, rc, out, err);
	free(err);
	return out;
}

/* /bin/sh -c "exec LINE" in DIR with HOME=home, stdin from /dev/null,
 * stdout and stderr appended to the two files; the pid is LINE's program
 * itself (exec). */
static pid_t
spawn_as(const char *home, const char *line, const char *out_path,
    const char *err_path)
{
	char *cmd = tu_fmt(
	    "cd '%s' && HOME='%s' && export HOME && exec %s", dir, home, line);
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	pid_t pid = tu_spawn(argv, out_path, err_path);

	free(cmd);
	return pid;
}

/* `jitcad init` + the sed docs/configuration.md suggests + `jitcad serve
 * --listen 127.0.0.1:0`; sets $JITCA_STATE and $JITCA_SERVER. */
static void
start_ca(void)
{
	char *log = tu_fmt("%s/serve.log", dir), *t, *p, *url;

	setenv("JITCA_STATE", state, 1);
	/* scripts/run: jitcad init when there is no CA, then serve. */
	free(ok_as(dir, "\"$JITCAD\" init >/dev/null"));
	/* docs/configuration.md: add 127.0.0.0/8 to prod-debug's
	 * source-address to try it from the same machine. */
	free(ok_as(dir,
	    "sed -i 's|\"source-address\": \"10.0.0.0/8\"|"
	    "\"source-address\": \"10.0.0.0/8,127.0.0.0/8\"|' "
	    "\"$JITCA_STATE/jitca.json\" && grep -q 10.0.0.0/8,127.0.0.0/8 "
	    "\"$JITCA_STATE/jitca.json\" && \"$JITCAD\" config check"));
	/* scripts/run serves on 127.0.0.1:8443; here a free port. */
	serve_pid = spawn_as(
	    dir, "\"$JITCAD\" serve --listen 127.0.0.1:0", "/dev/null", log);
	t = tu_file_wait(log, "listening on http://127.0.0.1:", serve_pid);
	p = strstr(t, "http://127.0.0.1:");
	p[strcspn(p, " \n")] = '\0';
	url = tu_fmt("%s", p);
	setenv("JITCA_SERVER", url, 1);
	free(url);
	free(t);
	free(log);
}

/* The ssh options every login here uses: no config file, no prompts, no
 * known_hosts (the host key is throw-away), publickey only. */
#define SSH_OPTS                                                                 \
	"ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no "         \
	"-o UserKnownHostsFile=/dev/null -o PreferredAuthentications=publickey " \
	"-o ConnectTimeout=10 -o LogLevel=ERROR"

/* ssh through alice's agent as account; returns ssh's status. */
static int
ssh_agent_login(int port, const char *account, char **out)
{
	char *line = tu_fmt(
	    SSH_OPTS " -p %d %s@127.0.0.1 echo logged-in", port, account);
	int rc = sh_as(home_alice, line, out, NULL);

	free(line);
	return rc;
}

/* Wait for the sshd log to hold needle after offset; returns the log. */
static char *
log_wait_after(const char *log, size_t offset, const char *needle)
{
	char *t = NULL;
	int waited;

	for (waited = 0; waited < TU_WAIT_MS; waited += 20) {
		size_t len = 0;

		free(t);
		t = tu_read_file(log, &len);
		if (t != NULL && len > offset && strstr(t + offset, needle))
			return t;
		tu_sleep_ms(20);
	}
	cr_assert_fail("sshd log has no \"%s\" after byte %zu:\n%s", needle,
	    offset, t != NULL ? t : "");
	return NULL;
}

static size_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* The line of text containing needle, as a new string (or NULL). */
static char *
line_with(const char *text, const char *needle)
{
	const char *p = strstr(text, needle), *b, *e;

	if (p == NULL)
		return NULL;
	for (b = p; b > text && b[-1] != '\n'; b--)
		;
	e = p + strcspn(p, "\n");
	return tu_fmt("%.*s", (int)(e - b), b);
}

/* "local:<name of the effective user>", as jitcad's ledger actor. */
static const char *
local_actor(void)
{
	static char actor[128];
	struct passwd *pw = getpwuid(geteuid());

	cr_assert_not_null(
	    pw, "no passwd entry for uid %u", (unsigned)geteuid());
	snprintf(actor, sizeof(actor), "local:%s", pw->pw_name);
	return actor;
}

Test(e2e, approve_login_expire_revoke_audit)
{
	long long t0 = tu_now_ms();
	char *out = NULL, *err = NULL, *t, *l, *log, *p, *key_id = NULL;
	char *login_out, *login_err, *cmd, *line, *certfp, *key_fp = NULL;
	int sshd_port = tu_free_port(), rc;
	long long serial = -1, staging_before = 0;
	size_t off, i, n;
	json_t *ev = NULL;
	json_error_t jerr;

	cr_assert_not_null(tu_which("ssh"), "ssh is not installed");
	cr_assert_not_null(tu_which("ssh-agent"), "ssh-agent is not installed");
	setenv("JITCAD", tu_env("JITCAD"), 1);
	setenv("JITCA", tu_env("JITCA"), 1);

	/* ---- Terminal 1 — the CA: `scripts/run`. */
	start_ca();

	/* ---- Terminal 2 — make two users, then log in as alice.
	 * README: export JITCA_STATE=$PWD/jitca-state
	 * JITCA_SERVER=http://127.0.0.1:8443 (here: the state dir above and
	 * the loopback URL `serve` printed; set by start_ca()). */
	/* README: build/release/jitcad ... (here: $JITCAD, the build under
	 * test). */
	free(ok_as(dir,
	    "\"$JITCAD\" user add alice --group engineering > "
	    "alice.token"));
	free(ok_as(dir,
	    "\"$JITCAD\" user add bob --group sre-leads > "
	    "bob.token"));
	/* README: eval "$(ssh-agent)" (here: ssh-agent -D -a SOCK, so the
	 * test owns the process and knows the socket). */
	{
		char *sock = tu_fmt("%s/agent.sock", dir);

		agent_pid = tu_agent_start(sock);
		setenv("SSH_AUTH_SOCK", sock, 1);
		free(sock);
	}
	/* README's first `jitca login --token-file alice.token --role
	 * staging` comes below, with the scenario's --ttl 5s --no-agent.
	 * Each person keeps their token where the README says jitca finds
	 * it: ~/.config/jitca/token. */
	free(ok_as(home_alice,
	    "install -D -m 600 alice.token "
	    "\"$HOME/.config/jitca/token\""));
	free(ok_as(home_bob,
	    "install -D -m 600 bob.token "
	    "\"$HOME/.config/jitca/token\""));

	/* ---- Host owners: make sshd trust jitca. */
	t = ok_as(dir, "\"$JITCAD\" sshd-config");
	p = tu_fmt("%s/ca.pub", state);
	l = tu_read_file(p, NULL);
	cr_assert_not_null(l);
	l[strcspn(l, "\n")] = '\0';
	cr_assert(strstr(t, l) != NULL, "sshd-config lacks the CA key: %s", t);
	cr_assert(strstr(t, "TrustedUserCAKeys /etc/ssh/jitca_user_ca.pub\n"),
	    "%s", t);
	free(t);
	free(l);
	free(p);
	sshd_scratch_etc(etc,
	    "PermitRootLogin prohibit-password\nMaxStartups 64\n", sshd_port,
	    dir);
	/* README: scripts/host-setup --server https://jitca.example.net
	 * --account root --principals debug.  Here: the loopback server
	 * (plain http, so --insecure-http-ok), --etc a scratch dir for /etc,
	 * --no-reload --no-timer (sshd is started on these files below; no
	 * systemd), and a second account, nobody, whose principals file
	 * lists neither of alice's prod-debug principals. */
	cmd = tu_fmt("\"$JITCA_SOURCE_DIR\"/scripts/host-setup --server "
		     "\"$JITCA_SERVER\" --account root --principals debug "
		     "--etc '%s' --no-reload --no-timer --insecure-http-ok "
		     "--account nobody --principals ops",
	    etc);
	free(ok_as(dir, cmd));
	free(cmd);
	p = tu_fmt("%s/ssh/jitca_principals/root", etc);
	t = tu_read_file(p, NULL);
	cr_assert_str_eq(t, "debug\n");
	free(t);
	free(p);
	log = tu_fmt("%s/sshd.log", dir);
	sshd_proc = sshd_scratch_run(etc, sshd_port, log);

	/* ---- Engineers: alice asks for prod-debug and waits.  The README
	 * line as written: the server from $JITCA_SERVER, the token from
	 * ~/.config/jitca/token.  (The README shows the host owners' part
	 * after this one; a host must trust the CA before anyone logs in.) */
	login_out = tu_fmt("%s/login.out", dir);
	login_err = tu_fmt("%s/login.err", dir);
	login_pid = spawn_as(home_alice,
	    "\"$JITCA\" login --role prod-debug --ttl 30m --reason "
	    "\"INC-4312 stuck queue\"",
	    login_out, login_err);
	free(tu_file_wait(
	    login_err, "request 1 for role prod-debug is pending", login_pid));

	/* ---- Approvers. */
	t = ok_as(home_bob, "\"$JITCA\" requests --pending");
	l = line_with(t, "INC-4312 stuck queue");
	cr_assert_not_null(l, "%s", t);
	cr_assert(strncmp(l, "1 ", 2) == 0 && strstr(l, " alice ") &&
		strstr(l, " prod-debug ") && strstr(l, "alice,debug") &&
		strstr(l, "30m00s"),
	    "%s", t);
	free(l);
	free(t);
	/* Nobody approves their own request: exit 5 (403). */
	rc = sh_as(home_alice, "\"$JITCA\" approve 1 --yes", &out, &err);
	cr_assert_eq(rc, 5, "alice approving her own request: exit %d: %s%s",
	    rc, out, err);
	cr_assert_str_eq(err,
	    "jitca: approve: request 1: nobody may approve their own request\n");
	free(out);
	free(err);
	/* README: jitca approve 7 --comment "ok, pairing on it" (here: the
	 * request id, and --yes as a script would). */
	t = ok_as(home_bob,
	    "\"$JITCA\" approve 1 --comment \"ok, pairing on "
	    "it\" --yes");
	cr_assert(strstr(t, "requester:   alice\n") &&
		strstr(t, "principals:  alice,debug\n"),
	    "%s", t);
	cr_assert(strstr(t,
		      "approved request 1: certificate issued "
		      "(serial 1, valid until "),
	    "%s", t);
	free(t);
	/* alice's waiting login completes into the agent. */
	rc = tu_wait_exit(&login_pid);
	cr_assert_eq(
	    rc, 0, "login: exit %d: %s", rc, tu_read_file(login_err, NULL));
	t = tu_read_file(login_out, NULL);
	cr_assert(strstr(t, "principals:  alice, debug\n") &&
		strstr(t, "where:       ssh-agent\n"),
	    "%s", t);
	free(t);
	/* README: ssh-add -l  # 256 SHA256:... jitca:staging:1
	 * (ED25519-CERT); here the certificate is prod-debug's, request 1. */
	t = ok_as(home_alice, "ssh-add -l");
	cr_assert(strstr(t, "jitca:prod-debug:1 (ED25519-CERT)\n"), "%s", t);
	free(t);

	/* README: ssh root@db-7.prod (here: root on the scratch sshd, whose
	 * principals file lists "debug"). */
	off = file_size(log);
	rc = ssh_agent_login(sshd_port, "root", &out);
	cr_assert_eq(rc, 0, "ssh root: exit %d; sshd log:\n%s", rc,
	    tu_read_file(log, NULL));
	cr_assert_str_eq(out, "logged-in\n");
	free(out);
	t = log_wait_after(log, off, "Accepted publickey for root ");
	line = line_with(t + off, "Accepted publickey for root ");
	free(t);
	/* "... ssh2: ED25519-CERT SHA256:... ID ...": the key sshd names. */
	p = strstr(line, " ssh2: ");
	cr_assert(p != NULL && strstr(p, " ID ") != NULL, "%s", line);
	certfp = tu_fmt("%.*s", (int)(strstr(p, " ID ") - p - 7), p + 7);
	/* An account whose principals file does not list debug (nor alice):
	 * refused. */
	off = file_size(log);
	rc = ssh_agent_login(sshd_port, "nobody", &out);
	cr_assert_eq(rc, 255, "ssh nobody: exit %d: %s", rc, out);
	free(out);
	free(log_wait_after(log, off,
	    "does not contain an authorized "
	    "principal"));
	t = tu_read_file(log, NULL);
	cr_assert_null(strstr(t + off, "Accepted"), "%s", t + off);
	free(t);
	/* README: jitca status. */
	t = ok_as(home_alice, "\"$JITCA\" status");
	cr_assert(strstr(t, "agent  jitca:prod-debug:1 "), "%s", t);
	free(t);

	/* ---- A role with no approval, 5 seconds, kept in files.  README:
	 * build/release/jitca login --token-file alice.token --role staging
	 * --reason "first login", plus --ttl 5s --no-agent.  staging's
	 * principal is the user name: the host owner lets alice in as root
	 * (host-setup again, same substitutions). */
	cmd = tu_fmt("\"$JITCA_SOURCE_DIR\"/scripts/host-setup --server "
		     "\"$JITCA_SERVER\" --account root --principals "
		     "debug,alice --etc '%s' --no-reload --no-timer "
		     "--insecure-http-ok",
	    etc);
	free(ok_as(dir, cmd));
	free(cmd);
	t = ok_as(home_alice,
	    "\"$JITCA\" login --token-file alice.token --role staging "
	    "--reason \"first login\" --ttl 5s --no-agent");
	p = tu_fmt("connect:     ssh -i %s/.ssh/jitca/staging alice@HOST\n",
	    home_alice);
	cr_assert(strstr(t, p) != NULL, "%s", t);
	free(p);
	free(t);
	/* When the certificate stops being valid, per ssh-keygen. */
	t = ok_as(home_alice,
	    "ssh-keygen -L -f ~/.ssh/jitca/staging-cert.pub "
	    "| sed -n 's/^ *Valid: from .* to //p' | "
	    "xargs -I{} date -d {} +%s");
	staging_before = strtoll(t, NULL, 10);
	cr_assert(staging_before > 0, "%s", t);
	free(t);
	/* The ssh -i line jitca printed (as root, not alice@). */
	cmd = tu_fmt(SSH_OPTS " -o IdentitiesOnly=yes -o IdentityAgent=none "
			      "-i ~/.ssh/jitca/staging -p %d root@127.0.0.1 "
			      "echo logged-in",
	    sshd_port);
	off = file_size(log);
	rc = sh_as(home_alice, cmd, &out, &err);
	cr_assert_eq(rc, 0,
	    "ssh -i staging: exit %d (%lld s before expiry): %s\n%s", rc,
	    staging_before - (long long)time(NULL), err,
	    tu_read_file(log, NULL));
	cr_assert_str_eq(out, "logged-in\n");
	free(out);
	free(err);
	free(log_wait_after(
	    log, off, "ID alice:staging:req-2:serial-2 (serial 2)"));
	/* Expiry: valid_before is exclusive for sshd; wait past it. */
	while ((long long)time(NULL) <= staging_before)
		tu_sleep_ms(100);
	off = file_size(log);
	rc = sh_as(home_alice, cmd, &out, &err);
	cr_assert_eq(rc, 255, "expired certificate accepted: %s", out);
	free(out);
	free(err);
	free(log_wait_after(log, off, "Certificate invalid: expired"));
	free(cmd);

	/* ---- Security: revoke by request, sync the KRL. */
	free(ok_as(dir,
	    "\"$JITCAD\" revoke --request 1 --reason \"laptop "
	    "stolen\""));
	/* README: scripts/krl-sync --server https://jitca.example.net --out
	 * /etc/ssh/jitca_revoked.krl (here: the loopback server, so
	 * --insecure-http-ok, and the scratch etc that sshd's RevokedKeys
	 * names). */
	cmd = tu_fmt("\"$JITCA_SOURCE_DIR\"/scripts/krl-sync --server "
		     "\"$JITCA_SERVER\" --out '%s/ssh/jitca_revoked.krl' "
		     "--insecure-http-ok",
	    etc);
	free(ok_as(dir, cmd));
	free(cmd);
	off = file_size(log);
	rc = ssh_agent_login(sshd_port, "root", &out);
	cr_assert_eq(rc, 255, "revoked certificate accepted: %s", out);
	free(out);
	p = tu_fmt("Authentication key %s revoked by file "
		   "%s/ssh/jitca_revoked.krl",
	    certfp, etc);
	free(log_wait_after(log, off, p));
	free(p);

	/* The earlier accepted login carries what the ledger holds for
	 * request 1.  README: jitcad ledger verify; jitcad ledger export
	 * --format jsonl --since 0. */
	t = ok_as(dir, "\"$JITCAD\" ledger verify");
	cr_assert(strncmp(t, "ok: ", 4) == 0 &&
		strstr(t, " events, hash chain intact\n"),
	    "%s", t);
	free(t);
	t = ok_as(dir, "\"$JITCAD\" ledger export --format jsonl --since 0");
	{
		/* (type, actor): `jitcad init` and `jitcad serve`, then
		 * every step above.  Local admin commands act as
		 * local:<login name>. */
		const char *me = local_actor();
		const char *const want[][2] = {
		    {"ca.created", me},
		    {"ca.started", "local:jitcad"},
		    {"checkpoint.created", "jitcad"}, /* at every start */
		    {"user.added", me},
		    {"token.issued", me},
		    {"user.added", me},
		    {"token.issued", me},
		    {"request.created", "alice"},
		    {"request.approved", "bob"},
		    {"cert.issued", "bob"},
		    {"request.created", "alice"},
		    {"cert.issued", "alice"},
		    {"cert.revoked", me},
		};
		char *s = t, *got = tu_fmt("%s", "");

		n = sizeof(want) / sizeof(want[0]);
		for (i = 0; *s != '\0'; i++) {
			size_t len = strcspn(s, "\n");
			const char *ty, *ac;
			char *g;

			json_decref(ev);
			ev = json_loadb(s, len, 0, &jerr);
			cr_assert_not_null(
			    ev, "line %zu: %s", i + 1, jerr.text);
			ty = json_string_value(json_object_get(ev, "type"));
			ac = json_string_value(json_object_get(ev, "actor"));
			cr_assert(ty != NULL && ac != NULL, "line %zu", i + 1);
			/* The periodic checkpoints (ledger.checkpoint_interval)
			 * may come anywhere on a slow machine. */
			if (i != 2 && strcmp(ty, "checkpoint.created") == 0) {
				i--;
				s += len;
				if (*s == '\n')
					s++;
				continue;
			}
			g = tu_fmt("%s%s %s\n", got, ty, ac);
			free(got);
			got = g;
			if (i < n && strcmp(ty, "cert.issued") == 0 &&
			    json_integer_value(json_object_get(
				json_object_get(ev, "details"), "request")) ==
				1) {
				json_t *d = json_object_get(ev, "details");

				serial = json_integer_value(
				    json_object_get(d, "serial"));
				key_id = tu_fmt("%s",
				    json_string_value(
					json_object_get(d, "key_id")));
				key_fp = tu_fmt("%s",
				    json_string_value(
					json_object_get(d, "key_fp")));
			}
			if (i < n && strcmp(ty, "cert.revoked") == 0)
				cr_assert_eq(json_integer_value(json_object_get(
						 json_object_get(ev, "details"),
						 "request")),
				    1, "%s", t);
			s += len;
			if (*s == '\n')
				s++;
		}
		{
			char *w = tu_fmt("%s", "");

			for (i = 0; i < n; i++) {
				char *g = tu_fmt(
				    "%s%s %s\n", w, want[i][0], want[i][1]);

				free(w);
				w = g;
			}
			cr_assert_str_eq(got, w, "ledger:\n%s", t);
			free(w);
		}
		free(got);
	}
	free(t);
	cr_assert(serial > 0 && key_id != NULL);
	p = tu_fmt(" ID %s (serial %lld) CA ", key_id, serial);
	cr_assert(strstr(line, p) != NULL,
	    "sshd: %s\nledger: ID %s serial %lld", line, key_id, serial);
	free(p);
	/* ... and the key sshd saw is the one the ledger recorded. */
	p = tu_fmt("ED25519-CERT %s", key_fp);
	cr_assert_str_eq(certfp, p);
	free(p);

	/* README: jitca logout. */
	free(ok_as(home_alice, "\"$JITCA\" logout"));
	rc = sh_as(home_alice, "ssh-add -l", &out, NULL);
	cr_assert_eq(rc, 1, "%s", out);
	free(out);

	json_decref(ev);
	free(line);
	free(key_id);
	free(key_fp);
	free(certfp);
	free(log);
	free(login_out);
	free(login_err);
	cr_log_info("e2e took %lld ms", tu_now_ms() - t0);
}
