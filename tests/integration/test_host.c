/*
 * test_host.c: the host owner's scripts, scripts/krl-sync and
 * scripts/host-setup, run as a host owner runs them.
 *
 * krl-sync is pointed at a real `jitcad serve` (for good fetches, 304s
 * and KRLs that change after `jitcad revoke`) and at a tiny canned HTTP
 * responder forked here (for a 500, a body that is not a KRL, a KRL with
 * a trailing byte, an older KRL), at a hostile server that streams a
 * chunked body far over the 16 MiB limit (or stalls in the middle), or at
 * a closed port.  host-setup runs against a
 * scratch --etc tree holding a minimal sshd_config that includes
 * every DIR/ssh/sshd_config.d/NAME.conf and a host key; the real sshd checks
 * the result (sshd -t), and one test starts that sshd and logs in with a
 * certificate from `jitcad issue`, then revokes it and syncs the KRL.
 *
 * Every failing case asserts the exact exit status, the message, and that
 * the files were left byte-identical (same inode and mtime too).  Uses
 * tests/lib/testutil.h, tests/lib/proc.h and only the scratch --etc tree
 * of tests/lib/sshd.h: sshd must run on the files host-setup installed,
 * not on sshd_start()'s.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/proc.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

static char *dir; /* the test's scratch directory */
static char *state; /* jitcad's state dir */
static char *etc; /* host-setup's --etc */
static pid_t serve_pid = -1;
static char *serve_url; /* set by serve_start() */
static int serve_port;
static pid_t canned_pid = -1;
static pid_t sshd_proc = -1;

static void
setup(void)
{
	dir = tu_tmpdir();
	state = tu_fmt("%s/state", dir);
	etc = tu_fmt("%s/etc", dir);
}

static void
teardown(void)
{
	tu_stop(&sshd_proc);
	tu_stop(&canned_pid);
	tu_stop(&serve_pid);
	free(serve_url);
	serve_url = NULL;
	tu_rmtree(dir);
	free(etc);
	free(state);
	free(dir);
}

TestSuite(host, .init = setup, .fini = teardown, .timeout = 120);

static char *
script(const char *name)
{
	return tu_fmt("%s/scripts/%s", tu_env("JITCA_SOURCE_DIR"), name);
}

/* jitcad ARGS --state STATE through the shell. */
static int
jitcad(const char *args, char **out, char **err)
{
	return tu_jitcad(state, args, out, err);
}

/* A shell command line; fails the test unless it exits 0. */
static void
sh_ok(const char *cmd)
{
	char *err = NULL;
	int rc = tu_sh(cmd, NULL, &err);

	cr_assert_eq(rc, 0, "%s: exit %d: %s", cmd, rc, err);
	free(err);
}

/* jitcad init + `jitcad serve --listen 127.0.0.1:0` on state (its
 * stderr in DIR/serve.log); with tls, a self-signed certificate for
 * 127.0.0.1 in DIR/tls.crt (+ .key). */
static void
serve_start_tls(int tls)
{
	char *log = tu_fmt("%s/serve.log", dir), *err = NULL;
	char *crt = tu_fmt("%s/tls.crt", dir), *key = tu_fmt("%s/tls.key", dir);

	cr_assert_eq(jitcad("init", NULL, &err), 0, "init: %s", err);
	free(err);
	if (tls) {
		char *cmd = tu_fmt("umask 077 && openssl req -x509 -newkey ec "
				   "-pkeyopt ec_paramgen_curve:prime256v1 "
				   "-nodes -days 1 -subj /CN=localhost -addext "
				   "subjectAltName=IP:127.0.0.1 -keyout '%s' "
				   "-out '%s' 2>/dev/null && chmod 644 '%s'",
		    key, crt, crt);

		sh_ok(cmd);
		free(cmd);
	}
	serve_url = tu_serve_start(
	    state, log, tls ? crt : NULL, tls ? key : NULL, &serve_pid);
	cr_assert_eq(
	    strncmp(serve_url, tls ? "https://127.0.0.1:" : "http://127.0.0.1:",
		tls ? 18 : 17),
	    0, "%s", serve_url);
	serve_port = tu_url_port(serve_url);
	free(key);
	free(crt);
	free(log);
}

static void
serve_start(void)
{
	serve_start_tls(0);
}

/* HTTP/1.1 response with the given status line and body. */
static int
canned_body(const char *status, const void *body, size_t blen)
{
	char *head = tu_fmt("HTTP/1.1 %s\r\nContent-Type: application/"
			    "octet-stream\r\nContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n",
	    status, blen);
	size_t hl = strlen(head);
	char *resp = malloc(hl + blen + 1);
	int port;

	cr_assert_not_null(resp);
	memcpy(resp, head, hl);
	if (blen > 0)
		memcpy(resp + hl, body, blen);
	port = tu_http_canned(resp, hl + blen, &canned_pid);
	free(resp);
	free(head);
	return port;
}

/* krl-sync --server url --out out --insecure-http-ok [extra]. */
static int
krl_sync(const char *url, const char *out, char **so, char **se)
{
	char *k = script("krl-sync");
	char *argv[] = {k, "--server", (char *)(uintptr_t)url, "--out",
	    (char *)(uintptr_t)out, "--insecure-http-ok", "--timeout", "10",
	    NULL};
	int rc = tu_run(argv, NULL, so, se);

	free(k);
	return rc;
}

/* The server's current KRL bytes (via curl). */
static char *
server_krl(size_t *len)
{
	char *p = tu_fmt("%s/server.krl", dir), *cmd, *data;

	cmd = tu_fmt(
	    "curl -sSf -o '%s' http://127.0.0.1:%d/v1/krl", p, serve_port);
	sh_ok(cmd);
	data = tu_read_file(p, len);
	cr_assert_not_null(data);
	free(cmd);
	free(p);
	return data;
}

static void
assert_file_eq(const char *path, const char *data, size_t len)
{
	size_t got;
	char *s = tu_read_file(path, &got);

	cr_assert_not_null(s, "cannot read %s", path);
	cr_assert_eq(got, len, "%s: %zu bytes, expected %zu", path, got, len);
	cr_assert(memcmp(s, data, len) == 0, "%s differs", path);
	free(s);
}

static void
assert_mode(const char *path, mode_t mode)
{
	struct stat sb;

	cr_assert(stat(path, &sb) == 0, "stat %s: %s", path, strerror(errno));
	cr_assert_eq(sb.st_mode & 07777, mode, "%s: mode %o, expected %o", path,
	    (unsigned)(sb.st_mode & 07777), (unsigned)mode);
}

/* Every regular file under root: path, mode, size, inode, mtime (ns),
 * SHA-256.  Directory mtimes are left out: staging happens in DIR/ssh. */
static char *
snapshot(const char *root)
{
	char *cmd = tu_fmt("cd '%s' && find . -type f -printf "
			   "'%%p %%m %%s %%i %%T@\\n' | LC_ALL=C sort && "
			   "find . -type f -exec sha256sum {} + | LC_ALL=C "
			   "sort && find . -type d | LC_ALL=C sort",
	    root);
	char *out = NULL;

	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	free(cmd);
	return out;
}

/* ---- krl-sync ------------------------------------------------------ */

Test(host, krl_sync_fetch_then_304_then_update)
{
	char *url, *out, *etag, *so = NULL, *se = NULL, *krl, *s, *cmd;
	size_t len;
	struct stat a, b;

	serve_start();
	url = tu_fmt("%s", serve_url);
	out = tu_fmt("%s/revoked.krl", dir);
	etag = tu_fmt("%s.etag", out);

	cr_assert_eq(krl_sync(url, out, &so, &se), 0, "%s", se);
	krl = server_krl(&len);
	assert_file_eq(out, krl, len);
	assert_mode(out, 0644);
	s = tu_fmt(
	    "krl-sync: %s updated from %s/v1/krl (%zu bytes)\n", out, url, len);
	cr_assert_str_eq(so, s);
	cr_assert_str_eq(se, "");
	free(s);
	s = tu_read_file(etag, NULL);
	cr_assert_not_null(s);
	cr_assert(s[0] == '"' && strchr(s + 1, '"') != NULL, "etag %s", s);
	free(s);
	free(so);
	free(se);
	free(krl);

	/* Unchanged on the server: 304, same file (inode and mtime). */
	cr_assert(stat(out, &a) == 0);
	tu_sleep_ms(20);
	cr_assert_eq(krl_sync(url, out, &so, &se), 0, "%s", se);
	cr_assert_str_eq(so, "");
	cr_assert_str_eq(se, "");
	cr_assert(stat(out, &b) == 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert_eq(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
	cr_assert_eq(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	free(so);
	free(se);

	/* A revocation changes the KRL: the next run fetches it. */
	cr_assert_eq(jitcad("user add alice --group engineering", NULL, &se), 0,
	    "%s", se);
	free(se);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s/alice'", dir);
	sh_ok(cmd);
	free(cmd);
	cmd = tu_fmt("issue --user alice --role staging --public-key "
		     "'%s/alice.pub' --reason test",
	    dir);
	cr_assert_eq(jitcad(cmd, NULL, &se), 0, "%s", se);
	free(cmd);
	free(se);
	cr_assert_eq(
	    jitcad("revoke --serial 1 --reason lost", NULL, &se), 0, "%s", se);
	free(se);
	cr_assert_eq(krl_sync(url, out, &so, &se), 0, "%s", se);
	cr_assert(strstr(so, "updated from") != NULL, "%s", so);
	krl = server_krl(&len);
	assert_file_eq(out, krl, len);
	assert_mode(out, 0644);
	free(krl);
	free(so);
	free(se);
	cmd = tu_fmt("ssh-keygen -Q -l -f '%s'", out);
	cr_assert_eq(tu_sh(cmd, &so, NULL), 0);
	cr_assert(strstr(so, "serial: 1\n") != NULL, "%s", so);
	free(so);
	free(cmd);

	/* Only the KRL and its ETag in the directory: no temporary left. */
	cmd = tu_fmt("ls -A '%s' | grep -c krl", dir);
	cr_assert_eq(tu_sh(cmd, &so, NULL), 0);
	cr_assert_str_eq(so, "3\n"); /* revoked.krl, .etag, server.krl */
	free(so);
	free(cmd);
	free(etag);
	free(out);
	free(url);
}

/* Install a good KRL at out (from ssh-keygen -k); return its bytes. */
static char *
existing_krl(const char *out, size_t *len)
{
	char *cmd = tu_fmt("ssh-keygen -q -k -f '%s'", out), *data;

	sh_ok(cmd);
	free(cmd);
	data = tu_read_file(out, len);
	cr_assert_not_null(data);
	return data;
}

/* krl-sync against url must fail with status 1 and the one-line
 * message msg, leaving out as it was. */
static void
sync_fails(const char *url, const char *out, const char *msg)
{
	char *before = snapshot(dir), *after, *so = NULL, *se = NULL;
	char *want = tu_fmt("krl-sync: %s; %s left as it was\n", msg, out);

	cr_assert_eq(krl_sync(url, out, &so, &se), 1, "%s %s", so, se);
	cr_assert_str_eq(se, want);
	cr_assert_str_eq(so, "");
	after = snapshot(dir);
	cr_assert_str_eq(after, before);
	free(want);
	free(after);
	free(before);
	free(so);
	free(se);
}

/* A canned answer (status line, body) that krl-sync refuses with
 * "URL/v1/krl WHAT; OUT left as it was" (sync_fails); the responder is
 * stopped after. */
static void
canned_fails(const char *status, const void *body, size_t blen, const char *out,
    const char *what)
{
	int port = canned_body(status, body, blen);
	char *url = tu_fmt("http://127.0.0.1:%d", port);
	char *msg = tu_fmt("%s/v1/krl %s", url, what);

	sync_fails(url, out, msg);
	tu_stop(&canned_pid);
	free(msg);
	free(url);
}

Test(host, krl_sync_bad_bodies_keep_the_file)
{
	char *out = tu_fmt("%s/revoked.krl", dir), *bad;
	size_t len;
	char *good = existing_krl(out, &len);

	canned_fails("200 OK", "hello, world\n", 13, out,
	    "sent something that is not a KRL (no SSHKRL magic)");

	/* A real KRL plus one trailing byte: ssh-keygen refuses it. */
	bad = malloc(len + 1);
	cr_assert_not_null(bad);
	memcpy(bad, good, len);
	bad[len] = 'x';
	canned_fails("200 OK", bad, len + 1, out,
	    "sent a KRL that ssh-keygen rejects (Invalid KRL file body: "
	    "incomplete message)");

	canned_fails("200 OK", "", 0, out, "sent an empty body, not a KRL");

	/* 304 although we sent no If-None-Match (no .etag file). */
	canned_fails("304 Not Modified", "", 0, out,
	    "answered 304 Not Modified to a request without If-None-Match");

	assert_file_eq(out, good, len);
	free(bad);
	free(good);
	free(out);
}

Test(host, krl_sync_500_and_unreachable_keep_the_file)
{
	char *out = tu_fmt("%s/revoked.krl", dir), *url, *msg;
	size_t len;
	char *good = existing_krl(out, &len);
	int port;

	canned_fails("500 Internal Server Error", "{}", 2, out,
	    "answered HTTP 500, not 200 or 304");

	port = tu_free_port(); /* nothing listens there */
	url = tu_fmt("http://127.0.0.1:%d", port);
	msg = tu_fmt("cannot fetch %s/v1/krl: curl: (7) Failed to connect to "
		     "127.0.0.1 port %d after",
	    url, port);
	{
		char *so = NULL, *se = NULL, *before = snapshot(dir), *after;

		cr_assert_eq(krl_sync(url, out, &so, &se), 1);
		cr_assert(strncmp(se, "krl-sync: ", 10) == 0 &&
			strncmp(se + 10, msg, strlen(msg)) == 0,
		    "%s", se);
		cr_assert(strstr(se, "left as it was\n") != NULL, "%s", se);
		cr_assert_eq(strchr(se, '\n'), se + strlen(se) - 1, "%s", se);
		after = snapshot(dir);
		cr_assert_str_eq(after, before);
		free(after);
		free(before);
		free(so);
		free(se);
	}
	free(msg);
	free(url);
	assert_file_eq(out, good, len);
	free(good);
	free(out);
}

/* krl-sync with one more argument (NULL: none) after the usual ones. */
static int
krl_sync_x(
    const char *url, const char *out, const char *extra, char **so, char **se)
{
	char *k = script("krl-sync");
	char *argv[] = {k, "--server", (char *)(uintptr_t)url, "--out",
	    (char *)(uintptr_t)out, "--insecure-http-ok", "--timeout", "30",
	    (char *)(uintptr_t)extra, NULL};
	int rc = tu_run(argv, NULL, so, se);

	free(k);
	return rc;
}

#define KRL_MAX 16777216 /* krl-sync's MAX_BYTES */
#define HOSTILE_MAX (128u * 1024 * 1024)

/*
 * A hostile server on loopback: for one connection, a 200 with a chunked
 * body that starts like a KRL and goes on for HOSTILE_MAX bytes, 64 KiB a
 * chunk, until the client stops reading (with stall, it sends one chunk
 * and then nothing more).  The number of body bytes it got written goes
 * to sent_path.  Returns the port.
 */
static int
hostile_chunked(const char *sent_path, int stall, pid_t *pid)
{
	int port, fd = tu_listen_loopback(&port);

	*pid = fork();
	cr_assert(*pid >= 0, "fork: %s", strerror(errno));
	if (*pid == 0) {
		static char chunk[65536 + 16];
		static const char head[] =
		    "HTTP/1.1 200 OK\r\nContent-Type: application/"
		    "octet-stream\r\nTransfer-Encoding: chunked\r\n"
		    "Connection: close\r\n\r\n";
		char req[8192], num[32];
		size_t got = 0, sent = 0, n;
		ssize_t k;
		int c, f;

		signal(SIGPIPE, SIG_IGN);
		if ((c = accept(fd, NULL, NULL)) < 0)
			_exit(1);
		while (got < sizeof(req) - 1 &&
		    (k = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
			got += (size_t)k;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		if (write(c, head, sizeof(head) - 1) < 0)
			_exit(1);
		memcpy(chunk, "10000\r\nSSHKRL\n\0", 15);
		memset(chunk + 15, 0, 65536 - 8);
		memcpy(chunk + 7 + 65536, "\r\n", 2);
		while (sent < HOSTILE_MAX) {
			size_t len = 7 + 65536 + 2, off = 0;

			while (off < len) {
				k = write(c, chunk + off, len - off);
				if (k <= 0)
					goto done;
				off += (size_t)k;
			}
			sent += 65536;
			while (stall)
				pause();
			/* Later chunks are all zeros. */
			memset(chunk + 7, 0, 8);
		}
		(void)write(c, "0\r\n\r\n", 5);
done:
		f = open(sent_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		n = (size_t)snprintf(num, sizeof(num), "%zu\n", sent);
		if (f >= 0 && write(f, num, n) != (ssize_t)n)
			_exit(1);
		_exit(0);
	}
	close(fd);
	return port;
}

/* While krl-sync runs: the largest regular file seen in a directory. */
struct watch {
	const char *dir;
	atomic_int stop;
	off_t max;
	unsigned polls;
};

static void *
watch_main(void *arg)
{
	struct watch *w = arg;

	while (!atomic_load(&w->stop)) {
		DIR *d = opendir(w->dir);
		struct dirent *e;
		struct stat sb;

		if (d == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			char p[4096];

			snprintf(p, sizeof(p), "%s/%s", w->dir, e->d_name);
			if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
			    sb.st_size > w->max)
				w->max = sb.st_size;
		}
		closedir(d);
		w->polls++;
		usleep(500);
	}
	return NULL;
}

/* Issue 10 item 5: a chunked answer far over the limit is cut at the
 * limit; nothing larger ever lands on disk, nothing is left behind. */
Test(host, krl_sync_chunked_body_over_the_limit)
{
	char *kdir = tu_fmt("%s/ssh", dir), *out, *url, *want, *sent, *before,
	     *after, *so = NULL, *se = NULL;
	struct watch w;
	pthread_t th;
	size_t len;
	char *good;
	int port, rc;

	cr_assert_eq(mkdir(kdir, 0755), 0);
	out = tu_fmt("%s/revoked.krl", kdir);
	good = existing_krl(out, &len);
	sent = tu_fmt("%s/sent", dir);
	port = hostile_chunked(sent, 0, &canned_pid);
	url = tu_fmt("http://127.0.0.1:%d", port);
	before = snapshot(kdir);
	memset(&w, 0, sizeof(w));
	w.dir = kdir;
	cr_assert_eq(pthread_create(&th, NULL, watch_main, &w), 0);
	rc = krl_sync_x(url, out, NULL, &so, &se);
	atomic_store(&w.stop, 1);
	pthread_join(th, NULL);
	cr_assert_eq(rc, 1, "%s %s", so, se);
	want = tu_fmt("krl-sync: %s/v1/krl sent more than %d bytes (stopped "
		      "reading there); %s left as it was\n",
	    url, KRL_MAX, out);
	cr_assert_str_eq(se, want);
	cr_assert_str_eq(so, "");
	cr_assert_gt(w.polls, 0);
	cr_assert_leq(w.max, KRL_MAX, "a file in %s reached %lld bytes", kdir,
	    (long long)w.max);
	after = snapshot(kdir);
	cr_assert_str_eq(after, before);
	assert_file_eq(out, good, len);
	cr_assert_eq(tu_wait_exit(&canned_pid), 0);
	free(so);
	so = tu_read_file(sent, NULL);
	cr_assert_not_null(so);
	so[strcspn(so, "\n")] = '\0';
	cr_log_info("hostile server got %s bytes out; largest file seen %lld "
		    "bytes in %u polls",
	    so, (long long)w.max, w.polls);
	cr_assert_lt(strtoull(so, NULL, 10), HOSTILE_MAX);
	free(after);
	free(before);
	free(want);
	free(url);
	free(sent);
	free(good);
	free(out);
	free(kdir);
	free(so);
	free(se);
}

/* krl-sync stopped (SIGTERM, as systemd stops a unit) in the middle of
 * a download: the partial temporary file goes, the KRL stays. */
Test(host, krl_sync_interrupted_leaves_no_temp_file)
{
	char *kdir = tu_fmt("%s/ssh", dir), *out, *url, *before, *after, *k;
	char *cmd, *so = NULL, *errp = tu_fmt("%s/sync.err", dir), *tmp;
	size_t len;
	char *good;
	pid_t pid;
	int port, i;

	cr_assert_eq(mkdir(kdir, 0755), 0);
	out = tu_fmt("%s/revoked.krl", kdir);
	good = existing_krl(out, &len);
	port = hostile_chunked(tu_keep(tu_fmt("%s/sent", dir)), 1, &canned_pid);
	url = tu_fmt("http://127.0.0.1:%d", port);
	before = snapshot(kdir);
	k = script("krl-sync");
	tmp = tu_fmt("%s/tmp", dir);
	cr_assert_eq(mkdir(tmp, 0700), 0);
	cr_assert_eq(setenv("TMPDIR", tmp, 1), 0);
	{
		char *argv[] = {k, "--server", url, "--out", out,
		    "--insecure-http-ok", NULL};

		pid = tu_spawn(argv, NULL, errp);
	}
	cr_assert_eq(unsetenv("TMPDIR"), 0);
	/* Wait for most of the first 64 KiB chunk in the temporary file:
	 * curl may keep the chunk's last few KiB in its stdio buffer until
	 * more data comes, and the server stalls after one chunk, so only
	 * "more than 32 KiB" is certain to appear. */
	cmd = tu_fmt(
	    "find '%s' -name '.revoked.krl.*' -size +32k | grep -q .", kdir);
	for (i = 0; tu_sh(cmd, NULL, NULL) != 0; i++) {
		cr_assert_lt(
		    i, TU_WAIT_MS / 10, "no partial download appeared");
		tu_sleep_ms(10);
	}
	cr_assert_eq(kill(-pid, SIGTERM), 0);
	cr_assert_eq(tu_wait_exit(&pid), 1);
	after = snapshot(kdir);
	cr_assert_str_eq(after, before);
	assert_file_eq(out, good, len);
	free(cmd);
	/* Its scratch files in $TMPDIR (headers, curl's status) too. */
	cmd = tu_fmt("ls -A '%s'", tmp);
	cr_assert_eq(tu_sh(cmd, &so, NULL), 0);
	cr_assert_str_eq(so, "");
	free(cmd);
	free(so);
	free(tmp);
	free(after);
	free(before);
	free(k);
	free(url);
	free(good);
	free(out);
	free(errp);
	free(kdir);
}

/* A Content-Length over the limit is refused before the body. */
Test(host, krl_sync_announced_body_over_the_limit)
{
	char *out = tu_fmt("%s/revoked.krl", dir), *msg, *big;
	size_t len;
	char *good = existing_krl(out, &len);

	big = calloc(1, KRL_MAX + 1);
	cr_assert_not_null(big);
	memcpy(big, "SSHKRL\n", 8);
	msg = tu_fmt("announced more than %d bytes", KRL_MAX);
	canned_fails("200 OK", big, KRL_MAX + 1, out, msg);
	assert_file_eq(out, good, len);
	free(msg);
	free(big);
	free(good);
	free(out);
}

/* Issue 10 item 5: a valid KRL with a lower krl_version than the one
 * installed is a rollback: refused unless --allow-rollback. */
Test(host, krl_sync_refuses_rollback)
{
	char *out = tu_fmt("%s/revoked.krl", dir),
	     *old = tu_fmt("%s/old.krl", dir);
	char *cmd, *url, *msg, *data, *so = NULL, *se = NULL, *want;
	size_t len, olen;
	char *good;
	int port;

	cmd = tu_fmt("ssh-keygen -q -k -z 5 -f '%s' && ssh-keygen -q -k -z 3 "
		     "-f '%s'",
	    out, old);
	sh_ok(cmd);
	free(cmd);
	good = tu_read_file(out, &len);
	data = tu_read_file(old, &olen);
	cr_assert(good != NULL && data != NULL);
	port = canned_body("200 OK", data, olen);
	url = tu_fmt("http://127.0.0.1:%d", port);
	msg = tu_fmt("%s/v1/krl sent KRL version 3, older than version 5 in "
		     "%s (a rollback; --allow-rollback accepts it)",
	    url, out);
	sync_fails(url, out, msg);
	assert_file_eq(out, good, len);

	cr_assert_eq(
	    krl_sync_x(url, out, "--allow-rollback", &so, &se), 0, "%s", se);
	want = tu_fmt("krl-sync: %s updated from %s/v1/krl (%zu bytes)\n", out,
	    url, olen);
	cr_assert_str_eq(so, want);
	cr_assert_str_eq(se, "");
	assert_file_eq(out, data, olen);
	free(want);
	free(so);
	free(se);
	tu_stop(&canned_pid);
	free(msg);
	free(url);

	/* A newer version replaces it as before. */
	cmd = tu_fmt("ssh-keygen -q -k -z 9 -f '%s'", old);
	sh_ok(cmd);
	free(cmd);
	free(data);
	data = tu_read_file(old, &olen);
	port = canned_body("200 OK", data, olen);
	url = tu_fmt("http://127.0.0.1:%d", port);
	so = se = NULL;
	cr_assert_eq(krl_sync(url, out, &so, &se), 0, "%s", se);
	assert_file_eq(out, data, olen);
	free(so);
	free(se);
	free(url);
	free(data);
	free(good);
	free(old);
	free(out);
}

Test(host, krl_sync_usage)
{
	char *k = script("krl-sync"), *se = NULL;
	char *http[] = {k, "--server", "http://ca.example:8443", "--out",
	    "/tmp/x.krl", NULL};
	char *near[] = {k, "--server", "http://127.0.0.1.example", "--out",
	    "/tmp/x.krl", NULL};
	char *noout[] = {k, "--server", "https://ca.example", NULL};
	char *ftp[] = {k, "--server", "ftp://x", "--out", "/tmp/x", NULL};

	/* Plain http only on loopback (127.0.0.1, localhost, [::1]). */
	cr_assert_eq(tu_run(http, NULL, NULL, &se), 2);
	cr_assert(strncmp(se,
		      "krl-sync: refusing plain http (http://ca.example:8443) "
		      "without --insecure-http-ok (only loopback is accepted "
		      "without it)\n",
		      120) == 0,
	    "%s", se);
	free(se);
	cr_assert_eq(tu_run(near, NULL, NULL, &se), 2);
	cr_assert(strstr(se, "refusing plain http") != NULL, "%s", se);
	free(se);
	cr_assert_eq(tu_run(noout, NULL, NULL, &se), 2);
	cr_assert(strncmp(se, "krl-sync: --out FILE is required\n", 33) == 0,
	    "%s", se);
	free(se);
	cr_assert_eq(tu_run(ftp, NULL, NULL, &se), 2);
	cr_assert(strstr(se, "must be an https:// URL") != NULL, "%s", se);
	free(se);
	free(k);
}

/* ---- host-setup ---------------------------------------------------- */

/* tests/lib/sshd.h's scratch --etc tree; prefix goes before the
 * Include. */
static void
scratch_etc(const char *prefix, int port)
{
	sshd_scratch_etc(etc, prefix, port, dir);
}

/* host-setup --etc ETC --no-reload --no-timer ARGS (a shell fragment). */
static int
host_setup(const char *args, char **so, char **se)
{
	char *h = script("host-setup");
	char *cmd =
	    tu_fmt("'%s' --etc '%s' --no-reload --no-timer %s", h, etc, args);
	int rc = tu_sh(cmd, so, se);

	free(cmd);
	free(h);
	return rc;
}

static char *
ca_pub_file(void)
{
	char *err = NULL, *p;

	cr_assert_eq(jitcad("init", NULL, &err), 0, "init: %s", err);
	free(err);
	p = tu_fmt("%s/ca.pub", state);
	return p;
}

static void
assert_installed(const char *ca_pub)
{
	char *p, *want;
	size_t len;

	p = tu_fmt("%s/ssh/jitca_user_ca.pub", etc);
	want = tu_read_file(ca_pub, &len);
	assert_file_eq(p, want, len);
	assert_mode(p, 0644);
	free(want);
	free(p);

	p = tu_fmt("%s/ssh/jitca_principals/root", etc);
	assert_file_eq(p, "debug\nops\n", 10);
	assert_mode(p, 0644);
	free(p);
	p = tu_fmt("%s/ssh/jitca_principals/deploy", etc);
	assert_file_eq(p, "deploy\n", 7);
	assert_mode(p, 0644);
	free(p);
	p = tu_fmt("%s/ssh/jitca_principals", etc);
	assert_mode(p, 0755);
	free(p);

	p = tu_fmt("%s/ssh/sshd_config.d/jitca.conf", etc);
	want = tu_fmt("TrustedUserCAKeys %s/ssh/jitca_user_ca.pub\n"
		      "AuthorizedPrincipalsFile %s/ssh/jitca_principals/%%u\n"
		      "RevokedKeys %s/ssh/jitca_revoked.krl\n"
		      "LogLevel VERBOSE\n",
	    etc, etc, etc);
	assert_file_eq(p, want, strlen(want));
	assert_mode(p, 0644);
	free(want);
	free(p);

	p = tu_fmt("ssh-keygen -Q -l -f '%s/ssh/jitca_revoked.krl'", etc);
	sh_ok(p);
	free(p);
	p = tu_fmt("%s/ssh/jitca_revoked.krl", etc);
	assert_mode(p, 0644);
	free(p);

	/* The real sshd accepts the result and uses the jitca paths. */
	p = tu_fmt("/usr/sbin/sshd -t -f '%s/ssh/sshd_config'", etc);
	sh_ok(p);
	free(p);
}

#define ACCOUNTS                                                               \
	"--account root --principals debug,ops,debug "                         \
	"--account deploy --principals deploy"

Test(host, host_setup_installs_and_is_idempotent)
{
	char *ca = ca_pub_file(), *args, *so = NULL, *se = NULL, *s1, *s2;

	scratch_etc("", 22);
	args = tu_fmt("--ca-key '%s' " ACCOUNTS, ca);
	cr_assert_eq(host_setup(args, &so, &se), 0, "%s", se);
	cr_assert_str_eq(se, "");
	cr_assert(strstr(so, "/ssh/sshd_config.d/jitca.conf\n") != NULL);
	cr_assert(strstr(so, "not reloading sshd (--no-reload)") != NULL);
	free(so);
	free(se);
	assert_installed(ca);

	/* Twice: nothing changes, and it says so. */
	s1 = snapshot(etc);
	cr_assert_eq(host_setup(args, &so, &se), 0, "%s", se);
	s2 = snapshot(etc);
	cr_assert_str_eq(s2, s1);
	free(s2);
	s2 = tu_fmt("host-setup: nothing to change in %s/ssh\n", etc);
	cr_assert_str_eq(so, s2);
	cr_assert_str_eq(se, "");
	free(s2);
	free(s1);
	free(so);
	free(se);
	free(args);

	/* Changing one account's principals replaces only that file. */
	args = tu_fmt("--ca-key '%s' --account root --principals ops", ca);
	cr_assert_eq(host_setup(args, &so, &se), 0, "%s", se);
	s1 =
	    tu_fmt("host-setup: installed %s/ssh/jitca_principals/root\n", etc);
	cr_assert_str_eq(so, s1);
	free(s1);
	free(so);
	free(se);
	free(args);
	s1 = tu_fmt("%s/ssh/jitca_principals/root", etc);
	assert_file_eq(s1, "ops\n", 4);
	free(s1);
	s1 = tu_fmt("%s/ssh/jitca_principals/deploy", etc);
	assert_file_eq(s1, "deploy\n", 7);
	free(s1);
	free(ca);
}

/* host-setup ARGS must exit rc with stderr starting with msg, leaving
 * the --etc tree exactly as it was. */
static void
setup_refused(const char *args, int rc, const char *msg)
{
	char *before = snapshot(etc), *after, *so = NULL, *se = NULL;

	cr_assert_eq(host_setup(args, &so, &se), rc, "%s %s", so, se);
	cr_assert(
	    strncmp(se, msg, strlen(msg)) == 0, "got: %s\nwant: %s", se, msg);
	after = snapshot(etc);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	free(so);
	free(se);
}

Test(host, host_setup_refuses_bad_input_before_changing_anything)
{
	char *ca = ca_pub_file(), *args, *p, *msg;

	scratch_etc("", 22);
	args = tu_fmt("--ca-key '%s' " ACCOUNTS, ca);
	cr_assert_eq(host_setup(args, NULL, NULL), 0);
	free(args);

	/* Bad principal and account names. */
	args =
	    tu_fmt("--ca-key '%s' --account root --principals 'debug,a*'", ca);
	setup_refused(args, 2,
	    "host-setup: bad principal \"a*\" for root: must match "
	    "^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$\n");
	free(args);
	args = tu_fmt("--ca-key '%s' --account root --principals 'a b'", ca);
	setup_refused(args, 2, "host-setup: bad principal \"a b\" for root");
	free(args);
	args = tu_fmt("--ca-key '%s' --account root --principals 'ok,,x'", ca);
	setup_refused(args, 2, "host-setup: bad principal \"\" for root");
	free(args);
	args = tu_fmt("--ca-key '%s' --account ../x --principals p", ca);
	setup_refused(args, 2, "host-setup: bad account name \"../x\"");
	free(args);
	args = tu_fmt("--ca-key '%s' --account root", ca);
	setup_refused(
	    args, 2, "host-setup: --account root has no --principals\n");
	free(args);

	/* Broken CA key files: garbage, a damaged key, a private key. */
	p = tu_fmt("%s/broken.pub", dir);
	tu_write_file(p, "ssh-ed25519 AAAAnotbase64!!\n", 28, 0644);
	args = tu_fmt("--ca-key '%s' " ACCOUNTS, p);
	msg = tu_fmt("host-setup: CA key %s: ssh-keygen cannot read key 1; "
		     "nothing changed\n",
	    p);
	setup_refused(args, 1, msg);
	free(msg);
	free(args);
	tu_write_file(p, "hello\n", 6, 0644);
	args = tu_fmt("--ca-key '%s' " ACCOUNTS, p);
	msg = tu_fmt("host-setup: CA key %s: \"hello\" is not an OpenSSH "
		     "public key line; nothing changed\n",
	    p);
	setup_refused(args, 1, msg);
	free(msg);
	free(args);
	free(p);
	p = tu_fmt("%s/ca_key.pem", state);
	args = tu_fmt("--ca-key '%s' " ACCOUNTS, p);
	msg = tu_fmt("host-setup: CA key %s is a private key or PEM file", p);
	setup_refused(args, 1, msg);
	free(msg);
	free(args);
	free(p);
	args =
	    tu_fmt("--ca-key '%s' --ca-fingerprint SHA256:nope " ACCOUNTS, ca);
	setup_refused(args, 1, "host-setup: CA key fingerprint(s) SHA256:");
	free(args);

	/* A CA that cannot be reached: no key, no KRL, no change. */
	{
		int port = tu_free_port();

		args = tu_fmt(
		    "--server http://127.0.0.1:%d --insecure-http-ok " ACCOUNTS,
		    port);
		msg = tu_fmt("host-setup: cannot fetch http://127.0.0.1:%d/v1/"
			     "ca: curl: (7) Failed to connect",
		    port);
		setup_refused(args, 1, msg);
		free(msg);
		free(args);
	}
	/* The CA key from a file but the KRL from a dead server. */
	{
		int port = tu_free_port();

		args = tu_fmt("--ca-key '%s' --server http://127.0.0.1:%d "
			      "--insecure-http-ok " ACCOUNTS,
		    ca, port);
		setup_refused(args, 1, "krl-sync: cannot fetch ");
		free(args);
	}
	free(ca);
}

Test(host, host_setup_sshd_rejects_leaves_everything)
{
	char *ca = ca_pub_file(), *other, *args, *cmd, *p, *s, *msg;

	/* An old installation (other CA key, other principals) first. */
	scratch_etc("", 22);
	other = tu_fmt("%s/other", dir);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", other);
	sh_ok(cmd);
	free(cmd);
	args =
	    tu_fmt("--ca-key '%s.pub' --account root --principals old", other);
	cr_assert_eq(host_setup(args, NULL, NULL), 0);
	free(args);

	/* sshd -t fails on the staged configuration: nothing moves. */
	p = tu_fmt("%s/ssh/sshd_config", etc);
	s = tu_read_file(p, NULL);
	cr_assert_not_null(s);
	{
		char *bad = tu_fmt("%sNoSuchOption yes\n", s);

		tu_write_file(p, bad, strlen(bad), 0644);
		free(bad);
	}
	args = tu_fmt("--ca-key '%s' " ACCOUNTS, ca);
	msg = tu_fmt("host-setup: sshd -t rejects the configuration with the "
		     "jitca drop-in: %s: line 11: Bad configuration option: "
		     "NoSuchOption; nothing changed\n",
	    p);
	setup_refused(args, 1, msg);
	free(msg);

	/* sshd accepts the files but an earlier TrustedUserCAKeys wins:
	 * everything is installed, checked, and put back. */
	scratch_etc("TrustedUserCAKeys /nowhere\n", 22);
	msg = tu_fmt("host-setup: sshd does not use the jitca drop-in: it has "
		     "\"trustedusercakeys /nowhere\", not \"trustedusercakeys "
		     "%s/ssh/jitca_user_ca.pub\"",
	    etc);
	setup_refused(args, 1, msg);
	free(msg);
	free(args);
	free(s);
	free(p);
	p = tu_fmt("%s/ssh/jitca_principals/root", etc);
	assert_file_eq(p, "old\n", 4);
	free(p);
	p = tu_fmt("%s/ssh/jitca_principals/deploy", etc);
	cr_assert_eq(access(p, F_OK), -1, "%s was not removed", p);
	free(p);
	free(other);
	free(ca);
}

/*
 * The KRL timer's problems are found before anything changes: a missing
 * --sbindir (was found after the ssh files were installed, which then
 * stayed), and a path that the sed into the unit file or the sshd lines
 * would mangle ("&" became the matched text).
 */
Test(host, host_setup_timer_problems_change_nothing)
{
	char *url, *h, *cmd, *so = NULL, *se = NULL, *before, *after, *want;
	char *nosbin = tu_fmt("%s/nosbin", dir), *amp = tu_fmt("%s/s&b", dir);

	serve_start();
	url = tu_fmt("%s", serve_url);
	scratch_etc("", 22);
	cr_assert_eq(mkdir(amp, 0755), 0);
	h = script("host-setup");
	before = snapshot(etc);

	cmd = tu_fmt("'%s' --etc '%s' --no-reload --sbindir '%s' --server "
		     "'%s' --insecure-http-ok " ACCOUNTS,
	    h, etc, nosbin, url);
	cr_assert_eq(tu_sh(cmd, &so, &se), 1, "%s %s", so, se);
	want = tu_fmt("host-setup: %s does not exist (the KRL sync timer goes "
		      "there; or give --no-timer); nothing changed\n",
	    nosbin);
	cr_assert_str_eq(se, want);
	after = snapshot(etc);
	cr_assert_str_eq(after, before);
	free(after);
	free(want);
	free(cmd);
	free(so);
	free(se);

	cmd = tu_fmt("'%s' --etc '%s' --no-reload --sbindir '%s' --server "
		     "'%s' --insecure-http-ok " ACCOUNTS,
	    h, etc, amp, url);
	cr_assert_eq(tu_sh(cmd, &so, &se), 2, "%s %s", so, se);
	want = tu_fmt("host-setup: --sbindir \"%s\" may hold only letters, "
		      "digits and ._/@+-\n",
	    amp);
	cr_assert(strncmp(se, want, strlen(want)) == 0, "%s", se);
	after = snapshot(etc);
	cr_assert_str_eq(after, before);
	cr_assert_eq(access(tu_fmt("%s/jitca-krl-sync", amp), F_OK), -1);
	free(after);
	free(want);
	free(cmd);
	free(so);
	free(se);
	free(before);
	free(h);
	free(url);
	free(amp);
	free(nosbin);
}

Test(host, host_setup_from_server_with_timer_units)
{
	char *url, *h, *cmd, *so = NULL, *se = NULL, *p, *krl, *want;
	char *sbin = tu_fmt("%s/sbin", dir);
	size_t len;

	serve_start();
	url = tu_fmt("%s", serve_url);
	scratch_etc("", 22);
	cr_assert(mkdir(sbin, 0755) == 0);
	h = script("host-setup");
	cmd = tu_fmt("'%s' --etc '%s' --no-reload --sbindir '%s' --server "
		     "'%s' --insecure-http-ok " ACCOUNTS,
	    h, etc, sbin, url);
	cr_assert_eq(tu_sh(cmd, &so, &se), 0, "%s", se);
	p = tu_fmt("host-setup: --etc is not /etc: timer units installed in "
		   "%s/systemd/system but not enabled\n",
	    etc);
	cr_assert(strstr(so, p) != NULL, "%s", so);
	free(p);
	free(so);
	free(se);

	/* The CA key is /v1/ca's public_key; the KRL is the server's. */
	cr_assert_eq(jitcad("ca-key", &so, NULL), 0);
	p = tu_fmt("%s/ssh/jitca_user_ca.pub", etc);
	want = tu_read_file(p, NULL);
	cr_assert_not_null(want);
	cr_assert(
	    strncmp(so, want, strlen(want) - 1) == 0, "%s vs %s", so, want);
	free(want);
	free(p);
	free(so);
	krl = server_krl(&len);
	p = tu_fmt("%s/ssh/jitca_revoked.krl", etc);
	assert_file_eq(p, krl, len);
	free(p);
	free(krl);

	/* The units, the defaults file and the script. */
	p = tu_fmt("%s/systemd/system/jitca-krl-sync.service", etc);
	want = tu_read_file(p, NULL);
	cr_assert_not_null(want);
	assert_mode(p, 0644);
	free(p);
	p = tu_fmt("ExecStart=%s/jitca-krl-sync --server ${JITCA_SERVER} "
		   "--out ${JITCA_KRL} $JITCA_KRL_SYNC_OPTS\n",
	    sbin);
	cr_assert(strstr(want, p) != NULL, "%s", want);
	free(p);
	p = tu_fmt("\nReadWritePaths=%s/ssh\n", etc);
	cr_assert(strstr(want, p) != NULL, "%s", want);
	free(p);
	cr_assert(strstr(want, "\nType=oneshot\n") != NULL);
	cr_assert(strstr(want, "\nProtectSystem=strict\n") != NULL);
	cr_assert(strstr(want, "\nNoNewPrivileges=yes\n") != NULL);
	free(want);
	p = tu_fmt("%s/systemd/system/jitca-krl-sync.timer", etc);
	want = tu_read_file(p, NULL);
	cr_assert_not_null(want);
	cr_assert(strstr(want, "\nPersistent=true\n") != NULL);
	free(want);
	free(p);
	p = tu_fmt("%s/default/jitca-krl-sync", etc);
	want = tu_fmt("# jitca KRL sync (scripts/host-setup); read by "
		      "jitca-krl-sync.service\nJITCA_SERVER=%s\n"
		      "JITCA_KRL=%s/ssh/jitca_revoked.krl\n"
		      "JITCA_KRL_SYNC_OPTS=\"--insecure-http-ok\"\n",
	    url, etc);
	assert_file_eq(p, want, strlen(want));
	free(want);
	free(p);
	p = tu_fmt("%s/jitca-krl-sync", sbin);
	assert_mode(p, 0755);
	free(p);

	/* systemd itself accepts the installed units. */
	p = tu_which("systemd-analyze");
	cr_assert_not_null(p, "systemd-analyze is not installed (systemd)");
	free(p);
	p = tu_fmt("systemd-analyze verify "
		   "'%s/systemd/system/jitca-krl-sync.service' "
		   "'%s/systemd/system/jitca-krl-sync.timer'",
	    etc, etc);
	cr_assert_eq(tu_sh(p, &so, &se), 0, "%s%s", so, se);
	cr_assert_str_eq(se, "");
	free(so);
	free(se);
	free(p);

	/* The installed script, with the defaults file, works. */
	p = tu_fmt(". '%s/default/jitca-krl-sync' && '%s/jitca-krl-sync' "
		   "--server \"$JITCA_SERVER\" --out \"$JITCA_KRL\" "
		   "$JITCA_KRL_SYNC_OPTS",
	    etc, sbin);
	sh_ok(p);
	free(p);

	/* Twice: nothing to change anywhere. */
	{
		char *s1 = snapshot(etc), *s2, *b1 = snapshot(sbin), *b2;

		cr_assert_eq(tu_sh(cmd, &so, &se), 0, "%s", se);
		s2 = snapshot(etc);
		cr_assert_str_eq(s2, s1);
		b2 = snapshot(sbin);
		cr_assert_str_eq(b2, b1);
		free(b1);
		free(b2);
		cr_assert(
		    strstr(so, "host-setup: installed") == NULL, "%s", so);
		free(s1);
		free(s2);
		free(so);
		free(se);
	}
	free(cmd);
	free(h);
	free(url);
	free(sbin);
}

/* Run ssh as root with key + certificate against the scratch sshd. */
static int
ssh_login(int port, const char *key, const char *cert, char **out)
{
	return sshd_ssh_port(
	    port, "root", key, cert, "echo logged-in", out, NULL);
}

Test(host, real_sshd_accepts_certificate_then_revocation)
{
	char *url, *args, *cmd, *so = NULL, *se = NULL, *key, *cert, *log;
	int port = tu_free_port();

	serve_start();
	url = tu_fmt("%s", serve_url);
	scratch_etc("", port);
	args = tu_fmt("--server '%s' --insecure-http-ok --account root "
		      "--principals alice",
	    url);
	cr_assert_eq(host_setup(args, NULL, &se), 0, "%s", se);
	free(se);
	free(args);

	cr_assert_eq(jitcad("user add alice --group engineering", NULL, &se), 0,
	    "%s", se);
	free(se);
	key = tu_fmt("%s/alice", dir);
	cert = tu_fmt("%s/alice-cert.pub", dir);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", key);
	sh_ok(cmd);
	free(cmd);
	cmd = tu_fmt("issue --user alice --role staging --public-key '%s.pub' "
		     "--ttl 10m --reason 'host test'",
	    key);
	cr_assert_eq(jitcad(cmd, &so, &se), 0, "%s", se);
	tu_write_file(cert, so, strlen(so), 0644);
	free(so);
	free(se);
	free(cmd);

	/* sshd on exactly the files host-setup installed. */
	log = tu_fmt("%s/sshd.log", dir);
	sshd_proc = sshd_scratch_run(etc, port, log);

	cr_assert_eq(ssh_login(port, key, cert, &so), 0, "log: %s",
	    tu_read_file(log, NULL));
	cr_assert_str_eq(so, "logged-in\n");
	free(so);

	/* Revoke, sync the KRL: the same certificate is refused. */
	cr_assert_eq(jitcad("revoke --user alice --reason gone", NULL, &se), 0,
	    "%s", se);
	free(se);
	cmd = tu_fmt("%s/ssh/jitca_revoked.krl", etc);
	cr_assert_eq(krl_sync(url, cmd, &so, &se), 0, "%s", se);
	free(so);
	free(se);
	free(cmd);
	cr_assert_eq(ssh_login(port, key, cert, &so), 255, "%s", so);
	free(so);
	{
		char *s = tu_read_file(log, NULL);

		cr_assert(strstr(s, "revoked by file") != NULL, "log: %s", s);
		free(s);
	}
	free(log);
	free(cert);
	free(key);
	free(url);
}

Test(host, krl_sync_and_host_setup_over_tls)
{
	char *k = script("krl-sync"), *url, *out, *crt, *msg, *se = NULL;
	char *so = NULL, *krl, *args;
	size_t len;

	serve_start_tls(1);
	url = tu_fmt("%s", serve_url);
	out = tu_fmt("%s/revoked.krl", dir);
	crt = tu_fmt("%s/tls.crt", dir);

	/* TLS verification is on: a certificate nobody vouches for fails. */
	{
		char *argv[] = {k, "--server", url, "--out", out, NULL};

		cr_assert_eq(tu_run(argv, NULL, &so, &se), 1, "%s", so);
		msg = tu_fmt("krl-sync: cannot fetch %s/v1/krl: curl: (60) SSL "
			     "certificate problem: self-signed certificate; "
			     "%s left as it was\n",
		    url, out);
		cr_assert_str_eq(se, msg);
		cr_assert_eq(access(out, F_OK), -1);
		free(msg);
		free(so);
		free(se);
	}
	{
		char *argv[] = {
		    k, "--server", url, "--out", out, "--ca-bundle", crt, NULL};

		cr_assert_eq(tu_run(argv, NULL, &so, &se), 0, "%s", se);
		free(so);
		free(se);
	}
	{
		char *p = tu_fmt("%s/server.krl", dir);
		char *cmd = tu_fmt(
		    "curl -sSf --cacert '%s' -o '%s' %s/v1/krl", crt, p, url);

		sh_ok(cmd);
		krl = tu_read_file(p, &len);
		cr_assert_not_null(krl);
		assert_file_eq(out, krl, len);
		free(krl);
		free(cmd);
		free(p);
	}

	/* host-setup over https needs no --insecure-http-ok. */
	scratch_etc("", 22);
	args = tu_fmt("--server '%s' --ca-bundle '%s' --account root "
		      "--principals debug",
	    url, crt);
	cr_assert_eq(host_setup(args, &so, &se), 0, "%s", se);
	free(so);
	free(se);
	free(args);
	msg = tu_fmt("%s/ssh/jitca_user_ca.pub", etc);
	cr_assert_eq(access(msg, F_OK), 0);
	free(msg);
	free(crt);
	free(out);
	free(url);
	free(k);
}

Test(host, scripts_are_shellcheck_clean)
{
	char *sc = tu_which("shellcheck"), *cmd, *out = NULL;
	const char *src = tu_env("JITCA_SOURCE_DIR");

	cr_assert_not_null(sc, "shellcheck is not installed");
	cmd = tu_fmt("'%s' -s sh '%s/scripts/krl-sync' '%s/scripts/host-setup' "
		     "2>&1",
	    sc, src, src);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0, "%s", out);
	cr_assert_str_eq(out, "");
	free(out);
	free(cmd);
	free(sc);
}

/*
 * --host-token-file installs the login reporter beside the KRL timer:
 * the script, its defaults file and its service, which systemd accepts;
 * and the installed script, with those defaults, reports to the CA.
 */
Test(host, host_setup_installs_login_reporter)
{
	char *url, *h, *cmd, *so = NULL, *se = NULL, *p, *want, *tok;
	char *sbin = tu_fmt("%s/sbin", dir),
	     *tokf = tu_fmt("%s/host.token", dir);
	char *log = tu_fmt("%s/auth.log", dir);

	serve_start();
	url = tu_fmt("%s", serve_url);
	cr_assert_eq(jitcad("user add web-1 --group hosts", &tok, NULL), 0);
	tu_write_file(tokf, tok, strlen(tok), 0600);
	tu_write_file(log, "", 0, 0644);
	scratch_etc("", 22);
	cr_assert(mkdir(sbin, 0755) == 0);
	h = script("host-setup");
	cmd = tu_fmt("'%s' --etc '%s' --no-reload --sbindir '%s' --server "
		     "'%s' --insecure-http-ok --host-token-file '%s' --host "
		     "web-1 --login-log '%s' " ACCOUNTS,
	    h, etc, sbin, url, tokf, log);
	cr_assert_eq(tu_sh(cmd, &so, &se), 0, "%s", se);
	free(so);
	free(se);
	p = tu_fmt("%s/default/jitca-login-report", etc);
	want = tu_fmt("# jitca login reports (scripts/host-setup); read by "
		      "jitca-login-report.service\nJITCA_SERVER=%s\n"
		      "JITCA_HOST_TOKEN_FILE=%s\n"
		      "JITCA_LOGIN_REPORT_OPTS=\"--host web-1 --log %s "
		      "--insecure-http-ok\"\n",
	    url, tokf, log);
	assert_file_eq(p, want, strlen(want));
	free(want);
	free(p);
	p = tu_fmt("%s/jitca-login-report", sbin);
	assert_mode(p, 0755);
	free(p);
	p = tu_fmt("%s/systemd/system/jitca-login-report.service", etc);
	want = tu_read_file(p, NULL);
	cr_assert_not_null(want);
	free(p);
	p = tu_fmt("ExecStart=%s/jitca-login-report --server ${JITCA_SERVER} "
		   "--host-token-file ${JITCA_HOST_TOKEN_FILE} --state "
		   "/var/lib/jitca-login-report $JITCA_LOGIN_REPORT_OPTS\n",
	    sbin);
	cr_assert(strstr(want, p) != NULL, "%s", want);
	free(p);
	free(want);
	p = tu_fmt("systemd-analyze verify "
		   "'%s/systemd/system/jitca-login-report.service'",
	    etc);
	cr_assert_eq(tu_sh(p, &so, &se), 0, "%s%s", so, se);
	free(so);
	free(se);
	free(p);
	/* The installed script with the defaults file reports (nothing). */
	p = tu_fmt(
	    ". '%s/default/jitca-login-report' && '%s/jitca-login-report' "
	    "--server \"$JITCA_SERVER\" --host-token-file "
	    "\"$JITCA_HOST_TOKEN_FILE\" --state '%s/lr' --once "
	    "$JITCA_LOGIN_REPORT_OPTS",
	    etc, sbin, dir);
	sh_ok(p);
	free(p);
	/* Without --server there is nothing to report to. */
	cmd = tu_fmt("'%s' --etc '%s' --no-reload --ca-key '%s/ca.pub' "
		     "--host-token-file '%s' " ACCOUNTS,
	    h, etc, state, tokf);
	cr_assert_eq(tu_sh(cmd, NULL, &se), 2);
	cr_assert(
	    strstr(se, "--host-token-file needs --server") != NULL, "%s", se);
	free(se);
	free(cmd);
	free(h);
	free(url);
	free(tok);
	free(log);
	free(tokf);
	free(sbin);
}

/* ---- krl-sync with the pinned ledger key ----------------------------- */

/* krl-sync against url with the extra arguments x0..x3 (NULL ends
 * them). */
static int
krl_sync_at(const char *url, const char *out, const char *x0, const char *x1,
    const char *x2, const char *x3, char **so, char **se)
{
	char *k = script("krl-sync");
	char *argv[] = {k, "--server", (char *)(uintptr_t)url, "--out",
	    (char *)(uintptr_t)out, "--insecure-http-ok", "--timeout", "30",
	    (char *)(uintptr_t)x0, (char *)(uintptr_t)x1, (char *)(uintptr_t)x2,
	    (char *)(uintptr_t)x3, NULL};
	int rc = tu_run(argv, NULL, so, se);

	free(k);
	return rc;
}

/* krl_sync_at the real server. */
static int
krl_sync_pinned(const char *out, const char *x0, const char *x1, const char *x2,
    const char *x3, char **so, char **se)
{
	return krl_sync_at(serve_url, out, x0, x1, x2, x3, so, se);
}

/* DIR/lk: the ledger key as `jitcad ca-key --ledger` prints it. */
static char *
ledger_key_file(void)
{
	char *lk = tu_fmt("%s/lk", dir), *out = NULL, *err = NULL;

	cr_assert_eq(jitcad("ca-key --ledger", &out, &err), 0, "%s", err);
	tu_write_file(lk, out, strlen(out), 0644);
	free(out);
	free(err);
	return lk;
}

Test(host, krl_sync_installs_only_a_krl_signed_by_the_pinned_key)
{
	char *out = tu_fmt("%s/revoked.krl", dir), *lk, *other, *cmd;
	char *so = NULL, *se = NULL, *krl, *want, *prom;
	struct stat sa, sb;
	char *tfd = tu_fmt("%s/textfile", dir);
	size_t len, glen;
	char *good = existing_krl(out, &glen);

	serve_start();
	lk = ledger_key_file();
	/* Another key pinned: refused, nothing changes. */
	other = tu_fmt("%s/other", dir);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", other);
	sh_ok(cmd);
	free(cmd);
	free(other);
	other = tu_fmt("%s/other.pub", dir);
	cr_assert(stat(out, &sa) == 0);
	cr_assert_eq(
	    krl_sync_pinned(out, "--ledger-key", other, NULL, NULL, &so, &se),
	    1, "%s", so);
	want = tu_fmt("krl-sync: %s/v1/krl.sig is not a valid signature of "
		      "the KRL by the ledger key (",
	    serve_url);
	cr_assert_eq(strncmp(se, want, strlen(want)), 0, "%s", se);
	cr_assert_not_null(strstr(se, "; "), "%s", se);
	cr_assert(stat(out, &sb) == 0);
	cr_assert_eq(sa.st_ino, sb.st_ino);
	cr_assert_eq(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
	assert_file_eq(out, good, glen);
	free(want);
	free(so);
	free(se);

	/* The right key: installed, and the textfile written. */
	cr_assert_eq(mkdir(tfd, 0755), 0);
	cr_assert_eq(krl_sync_pinned(out, "--ledger-key", lk, "--textfile-dir",
			 tfd, &so, &se),
	    0, "%s", se);
	krl = server_krl(&len);
	assert_file_eq(out, krl, len);
	free(krl);
	free(so);
	free(se);
	prom = tu_fmt("%s/jitca_krl.prom", tfd);
	krl = tu_read_file(prom, NULL);
	cr_assert_not_null(krl);
	cr_assert_not_null(strstr(krl, "\njitca_krl_age_seconds "), "%s", krl);
	cr_assert_not_null(strstr(krl, "\njitca_krl_version 0\n"), "%s", krl);
	free(krl);
	free(prom);
	free(tfd);
	free(good);
	free(other);
	free(lk);
	free(out);
}

Test(host, krl_sync_refuses_a_missing_signature)
{
	char *out = tu_fmt("%s/revoked.krl", dir), *lk, *p, *want;
	char *so = NULL, *se = NULL;
	struct stat sa, sb;
	size_t glen;
	char *good = existing_krl(out, &glen);

	/* A state without the ledger key: the server signs no KRL. */
	cr_assert_eq(jitcad("init", NULL, &se), 0, "%s", se);
	free(se);
	lk = ledger_key_file();
	p = tu_fmt("%s/ledger_key.pem", state);
	cr_assert_eq(unlink(p), 0);
	free(p);
	p = tu_fmt("%s/serve.log", dir);
	serve_url = tu_serve_start(state, p, NULL, NULL, &serve_pid);
	free(p);
	cr_assert(stat(out, &sa) == 0);
	cr_assert_eq(
	    krl_sync_pinned(out, "--ledger-key", lk, NULL, NULL, &so, &se), 1,
	    "%s", so);
	want = tu_fmt("krl-sync: %s/v1/krl.sig answered HTTP 404, not 200; "
		      "%s left as it was\n",
	    serve_url, out);
	cr_assert_str_eq(se, want);
	cr_assert(stat(out, &sb) == 0);
	cr_assert_eq(sa.st_ino, sb.st_ino);
	cr_assert_eq(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
	assert_file_eq(out, good, glen);
	free(want);
	free(so);
	free(se);
	free(good);
	free(lk);
	free(out);
}

/* krl-sync at url pinning lk and keeping checkpoints in cpd. */
static int
cp_sync(const char *url, const char *out, const char *lk, const char *cpd,
    char **so, char **se)
{
	return krl_sync_at(
	    url, out, "--ledger-key", lk, "--checkpoint-dir", cpd, so, se);
}

/* DIR/cpd, new, and a first cp_sync into it from the real server that
 * must succeed; returns the directory. */
static char *
first_checkpoint(const char *out, const char *lk)
{
	char *cpd = tu_fmt("%s/cpd", dir), *so = NULL, *se = NULL;

	cr_assert_eq(mkdir(cpd, 0755), 0);
	cr_assert_eq(cp_sync(serve_url, out, lk, cpd, &so, &se), 0, "%s", se);
	free(so);
	free(se);
	return cpd;
}

/* The refusal of a checkpoint of size s2 against the kept one of size
 * s1, whose proof came from url. */
static char *
not_extended(long long s2, long long s1, const char *url, const char *out)
{
	return tu_fmt("krl-sync: the server's checkpoint (tree size %lld) does "
		      "not extend the kept one (tree size %lld): the "
		      "consistency proof from "
		      "%s/v1/ledger/consistency?from=%lld&to=%lld does not "
		      "verify (the ledger was rewritten); %s and the "
		      "checkpoint left as they were\n",
	    s2, s1, url, s1, s2, out);
}

Test(host, krl_sync_keeps_checkpoints_that_only_grow)
{
	char *out = tu_fmt("%s/revoked.krl", dir), *lk, *cpd, *cp, *cmd;
	char *so = NULL, *se = NULL, *want, *text;

	serve_start();
	lk = ledger_key_file();
	cpd = first_checkpoint(out, lk);
	/* The kept checkpoint verifies with stock ssh-keygen. */
	cmd = tu_fmt("cd '%s' && printf 'ledger@jitca %%s\\n' \"$(cut -d' ' "
		     "-f1,2 '%s')\" > allowed && ssh-keygen -Y verify -f "
		     "allowed -I ledger@jitca -n checkpoint@jitca -s "
		     "checkpoint.sig < checkpoint",
	    cpd, lk);
	sh_ok(cmd);
	free(cmd);
	/* A kept checkpoint of a larger tree: the server's is a rollback. */
	cp = tu_fmt("%s/checkpoint", cpd);
	text = tu_fmt("x\n999999\nAAAA\n");
	tu_write_file(cp, text, strlen(text), 0644);
	cr_assert_eq(cp_sync(serve_url, out, lk, cpd, &so, &se), 1, "%s", so);
	want = tu_fmt("smaller than the kept 999999 (the ledger was truncated "
		      "or rewritten); checkpoint not kept\n");
	cr_assert_not_null(strstr(se, want), "%s", se);
	free(want);
	free(so);
	free(se);
	/* ...and the kept file is untouched. */
	so = tu_read_file(cp, NULL);
	cr_assert_str_eq(so, text);
	free(so);
	free(text);
	free(cp);
	free(cpd);
	free(lk);
	free(out);
}

/* Line 2 of DIR's kept checkpoint: its tree size. */
static long long
kept_size(const char *cpd)
{
	char *p = tu_fmt("%s/checkpoint", cpd), *t = tu_read_file(p, NULL);
	char *nl;
	long long n;

	cr_assert_not_null(t, "no %s", p);
	nl = strchr(t, '\n');
	cr_assert_not_null(nl, "%s", t);
	n = strtoll(nl + 1, NULL, 10);
	free(t);
	free(p);
	return n;
}

/* On st: `jitcad user add NAME`, then `jitcad ledger checkpoint`. */
static void
grow_ledger(const char *st, const char *name)
{
	char *args = tu_fmt("user add %s --group engineering", name), *err;

	err = NULL;
	cr_assert_eq(tu_jitcad(st, args, NULL, &err), 0, "%s", err);
	free(err);
	err = NULL;
	cr_assert_eq(
	    tu_jitcad(st, "ledger checkpoint", NULL, &err), 0, "%s", err);
	free(err);
	free(args);
}

Test(host, krl_sync_follows_a_consistent_checkpoint)
{
	char *out = tu_fmt("%s/revoked.krl", dir), *lk, *cpd, *cmd, *kept;
	char *so = NULL, *se = NULL, *srv;
	long long s1;

	serve_start();
	lk = ledger_key_file();
	cpd = first_checkpoint(out, lk);
	s1 = kept_size(cpd);
	cr_assert_gt(s1, 0);
	/* New events and a new checkpoint: the proof from s1 holds. */
	grow_ledger(state, "bob");
	cr_assert_eq(cp_sync(serve_url, out, lk, cpd, &so, &se), 0, "%s", se);
	cr_assert_str_eq(se, "");
	free(so);
	free(se);
	cr_assert_gt(kept_size(cpd), s1);
	/* The kept checkpoint is now the server's. */
	cmd = tu_fmt("curl -sSf %s/v1/checkpoint", serve_url);
	cr_assert_eq(tu_sh(cmd, &srv, NULL), 0);
	kept = tu_fmt("%s/checkpoint", cpd);
	assert_file_eq(kept, srv, strlen(srv));
	free(kept);
	free(srv);
	free(cmd);
	free(cpd);
	free(lk);
	free(out);
}

Test(host, krl_sync_refuses_a_rewritten_history)
{
	char *out = tu_fmt("%s/revoked.krl", dir), *lk, *cpd, *cmd, *want;
	char *so = NULL, *se = NULL, *other = tu_fmt("%s/other", dir);
	char *cp, *cps, *cp0, *cps0, *krl0, *log;
	size_t l0, ls0, lk0;
	struct stat sa, sb;
	long long s1, s2;

	/* Two ledgers with the same keys and the same first events. */
	cr_assert_eq(jitcad("init", NULL, &se), 0, "init: %s", se);
	free(se);
	cmd = tu_fmt("cp -a '%s' '%s'", state, other);
	sh_ok(cmd);
	free(cmd);
	lk = ledger_key_file();
	log = tu_fmt("%s/serve.log", dir);
	serve_url = tu_serve_start(state, log, NULL, NULL, &serve_pid);
	grow_ledger(state, "alice");
	cpd = first_checkpoint(out, lk);
	s1 = kept_size(cpd);
	cp = tu_fmt("%s/checkpoint", cpd);
	cps = tu_fmt("%s/checkpoint.sig", cpd);
	cp0 = tu_read_file(cp, &l0);
	cps0 = tu_read_file(cps, &ls0);
	krl0 = tu_read_file(out, &lk0);
	cr_assert(cp0 != NULL && cps0 != NULL && krl0 != NULL);
	tu_stop(&serve_pid);
	free(serve_url);

	/* The other history: more events, a larger tree, another KRL. */
	grow_ledger(other, "mallory");
	grow_ledger(other, "eve");
	grow_ledger(other, "trudy");
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s/m' && '%s' issue "
		     "--state '%s' --user mallory --role staging --public-key "
		     "'%s/m.pub' --reason test >/dev/null && '%s' revoke "
		     "--state '%s' --serial 1 --reason lost && '%s' ledger "
		     "checkpoint --state '%s' >/dev/null",
	    dir, tu_env("JITCAD"), other, dir, tu_env("JITCAD"), other,
	    tu_env("JITCAD"), other);
	sh_ok(cmd);
	free(cmd);
	free(log);
	log = tu_fmt("%s/serve-other.log", dir);
	serve_url = tu_serve_start(other, log, NULL, NULL, &serve_pid);
	serve_port = tu_url_port(serve_url);
	cmd = tu_fmt("curl -sSf %s/v1/checkpoint | sed -n 2p", serve_url);
	cr_assert_eq(tu_sh(cmd, &so, NULL), 0);
	s2 = strtoll(so, NULL, 10);
	free(so);
	free(cmd);
	cr_assert_gt(
	    s2, s1, "the other tree (%lld) is not larger than %lld", s2, s1);

	cr_assert(stat(out, &sa) == 0);
	cr_assert_eq(cp_sync(serve_url, out, lk, cpd, &so, &se), 1, "%s", so);
	want = not_extended(s2, s1, serve_url, out);
	cr_assert_str_eq(se, want);
	cr_assert_str_eq(so, "");
	/* The KRL (same inode and mtime) and the checkpoint are the old. */
	cr_assert(stat(out, &sb) == 0);
	cr_assert_eq(sa.st_ino, sb.st_ino);
	cr_assert_eq(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
	assert_file_eq(out, krl0, lk0);
	assert_file_eq(cp, cp0, l0);
	assert_file_eq(cps, cps0, ls0);
	free(want);
	free(so);
	free(se);
	free(cp0);
	free(cps0);
	free(krl0);
	free(cp);
	free(cps);
	free(log);
	free(cpd);
	free(other);
	free(lk);
	free(out);
}

/* A proxy (a tu_http_responder callback, arg the real server's port):
 * every GET is forwarded with curl -si, and a consistency proof's first
 * path hash has its first hex digit changed. */
static char *
tamper_proxy(const char *request, size_t *len, void *arg)
{
	const int *port = arg;
	char path[512] = "", *f = tu_fmt("%s/proxy.out", dir), *cmd, *resp, *p;
	const char *tag = "\"path\":[\"";

	if (sscanf(request, "GET %511s ", path) != 1)
		snprintf(path, sizeof(path), "/");
	cmd =
	    tu_fmt("curl -si -o '%s' 'http://127.0.0.1:%d%s'", f, *port, path);
	resp = tu_sh(cmd, NULL, NULL) == 0 ? tu_read_file(f, len) : NULL;
	if (resp == NULL) {
		resp = tu_fmt("HTTP/1.1 502 Bad Gateway\r\nContent-Length: "
			      "0\r\nConnection: close\r\n\r\n");
		*len = strlen(resp);
	} else if (strncmp(path, "/v1/ledger/consistency", 22) == 0 &&
	    (p = strstr(resp, tag)) != NULL) {
		p += strlen(tag);
		*p = *p == '0' ? '1' : '0';
	}
	free(cmd);
	free(f);
	return resp;
}

Test(host, krl_sync_refuses_a_tampered_consistency_proof)
{
	char *out = tu_fmt("%s/revoked.krl", dir), *lk, *cpd, *cp, *cp0, *want;
	char *so = NULL, *se = NULL, *purl;
	long long s1, s2;
	size_t l0;
	pid_t proxy = -1;
	int pport;

	serve_start();
	lk = ledger_key_file();
	cpd = first_checkpoint(out, lk);
	s1 = kept_size(cpd);
	cp = tu_fmt("%s/checkpoint", cpd);
	cp0 = tu_read_file(cp, &l0);
	cr_assert_not_null(cp0);
	grow_ledger(state, "bob");
	pport = tu_http_responder(tamper_proxy, &serve_port, &proxy);
	purl = tu_fmt("http://127.0.0.1:%d", pport);
	cr_assert_eq(cp_sync(purl, out, lk, cpd, &so, &se), 1, "%s", so);
	tu_stop(&proxy);
	cr_assert_eq(sscanf(se,
			 "krl-sync: the server's checkpoint (tree size "
			 "%lld)",
			 &s2),
	    1, "%s", se);
	cr_assert_gt(s2, s1);
	want = not_extended(s2, s1, purl, out);
	cr_assert_str_eq(se, want);
	assert_file_eq(cp, cp0, l0);
	free(want);
	free(so);
	free(se);
	/* The same checkpoint with the server's own proof is kept. */
	cr_assert_eq(cp_sync(serve_url, out, lk, cpd, &so, &se), 0, "%s", se);
	cr_assert_geq(kept_size(cpd), s2);
	free(so);
	free(se);
	free(purl);
	free(cp0);
	free(cp);
	free(cpd);
	free(lk);
	free(out);
}
