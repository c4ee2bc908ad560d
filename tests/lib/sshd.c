/*
 * sshd.c: the throw-away sshd of sshd.h.  Test-only code: it forks and
 * execs /usr/sbin/sshd, ssh-keygen and ssh, and fails the running
 * criterion test on any setup error (a missing binary included).  It
 * does not parse sshd's log beyond substring searches; tests decide what
 * a line means.  Works with testutil.{h,c} and proc.{h,c}.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/proc.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

/* How long sshd may take to accept connections. */
#define SSHD_START_MS TU_WAIT_MS
/* Attempts with a fresh port when another process took ours first. */
#define SSHD_PORT_TRIES 3

struct test_sshd {
	char *dir;
	char *config;
	char *log;
	char *krl;
	char *host_cert; /* HostCertificate, or NULL */
	int port;
	pid_t pid;
};

static int
port_accepts(int port)
{
	struct sockaddr_in a;
	int fd, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static void
write_config(struct test_sshd *d)
{
	char *cfg;

	cfg = tu_fmt("# jitca test sshd\n"
		     "ListenAddress 127.0.0.1:%d\n"
		     "AddressFamily inet\n"
		     "HostKey %s/host_ed25519\n"
		     "PidFile %s/sshd.pid\n"
		     "TrustedUserCAKeys %s/ca.pub\n"
		     "AuthorizedPrincipalsFile %s/principals/%%u\n"
		     "AuthorizedKeysFile none\n"
		     "RevokedKeys %s\n"
		     "LogLevel VERBOSE\n"
		     "PubkeyAuthentication yes\n"
		     "PasswordAuthentication no\n"
		     "KbdInteractiveAuthentication no\n"
		     "HostbasedAuthentication no\n"
		     "StrictModes no\n"
		     "PermitRootLogin prohibit-password\n"
		     "UsePAM no\n"
		     "UseDNS no\n"
		     "X11Forwarding no\n"
		     "PrintMotd no\n"
		     "PrintLastLog no\n"
		     "MaxAuthTries 6\n"
		     "MaxStartups 64\n"
		     "LoginGraceTime 30\n"
		     "%s%s%s",
	    d->port, d->dir, d->dir, d->dir, d->dir, d->krl,
	    d->host_cert != NULL ? "HostCertificate " : "",
	    d->host_cert != NULL ? d->host_cert : "",
	    d->host_cert != NULL ? "\n" : "");
	tu_write_file(d->config, cfg, strlen(cfg), 0644);
	free(cfg);
}

/* Fork sshd on d->port; 1 when the port accepts, 0 when sshd died early
 * (the port was taken), fails the test on a timeout. */
static int
spawn(struct test_sshd *d, const char *sshd_path)
{
	char *listening =
	    tu_fmt("Server listening on 127.0.0.1 port %d.", d->port);
	char *argv[] = {
	    (char *)(uintptr_t)sshd_path, "-D", "-e", "-f", d->config, NULL};
	int status, waited;
	pid_t pid;

	write_config(d);
	pid = tu_spawn(argv, NULL, d->log);
	d->pid = pid;
	for (waited = 0; waited < SSHD_START_MS; waited += 20) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = -1;
			free(listening);
			return 0;
		}
		/* Our own sshd must say it listens (not some other process
		 * that took the port), and the port must accept. */
		if (sshd_log_wait(d, listening, 0) && port_accepts(d->port)) {
			free(listening);
			return 1;
		}
		tu_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	d->pid = -1;
	cr_assert_fail("sshd did not accept connections on port %d within "
		       "%d ms; log:\n%s",
	    d->port, SSHD_START_MS, tu_read_file(d->log, NULL));
	return 0;
}

void
sshd_start(struct test_sshd **out, const char *ca_pub_line)
{
	sshd_start_host_cert(out, ca_pub_line, NULL, NULL);
}

void
sshd_start_host_cert(struct test_sshd **out, const char *ca_pub_line,
    sshd_host_cert_fn *fn, void *ctx)
{
	struct test_sshd *d;
	char *sshd_path = tu_which("sshd"), *keygen = tu_which("ssh-keygen");
	char *p, *errs = NULL;
	int i, rc;

	cr_assert_not_null(sshd_path, "sshd is not installed (openssh-server)");
	cr_assert_not_null(keygen, "ssh-keygen is not installed");
	cr_assert_not_null(ca_pub_line);
	*out = NULL;
	d = calloc(1, sizeof(*d));
	cr_assert_not_null(d);
	d->pid = -1;
	d->dir = tu_tmpdir();
	d->config = tu_fmt("%s/sshd_config", d->dir);
	d->log = tu_fmt("%s/sshd.log", d->dir);
	d->krl = tu_fmt("%s/revoked.krl", d->dir);

	/* sshd refuses to start without its privilege separation dir. */
	if (mkdir("/run/sshd", 0755) != 0)
		cr_assert(
		    errno == EEXIST, "mkdir /run/sshd: %s", strerror(errno));

	p = tu_fmt("%s/host_ed25519", d->dir);
	{
		char *argv[] = {keygen, "-q", "-t", "ed25519", "-N", "", "-C",
		    "jitca-test-host", "-f", p, NULL};

		rc = tu_run(argv, NULL, NULL, &errs);
		cr_assert_eq(rc, 0, "ssh-keygen host key: %s", errs);
		free(errs);
		errs = NULL;
	}
	free(p);
	if (fn != NULL) {
		p = tu_fmt("%s/host_ed25519.pub", d->dir);
		d->host_cert = tu_fmt("%s/host_ed25519-cert.pub", d->dir);
		fn(ctx, p, d->host_cert);
		free(p);
	}
	{
		char *argv[] = {keygen, "-q", "-k", "-f", d->krl, NULL};

		rc = tu_run(argv, NULL, NULL, &errs);
		cr_assert_eq(rc, 0, "ssh-keygen -k: %s", errs);
		free(errs);
		errs = NULL;
	}
	p = tu_fmt("%s/ca.pub", d->dir);
	{
		char *line = tu_fmt("%s\n", ca_pub_line);

		tu_write_file(p, line, strlen(line), 0644);
		free(line);
	}
	free(p);
	p = tu_fmt("%s/principals", d->dir);
	cr_assert(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
	free(p);

	for (i = 0; i < SSHD_PORT_TRIES; i++) {
		d->port = tu_free_port();
		if (spawn(d, sshd_path))
			break;
	}
	cr_assert(d->pid > 0, "sshd exited at start-up %d times; log:\n%s",
	    SSHD_PORT_TRIES, tu_read_file(d->log, NULL));
	free(sshd_path);
	free(keygen);
	*out = d;
}

void
sshd_stop(struct test_sshd *d)
{
	if (d == NULL)
		return;
	tu_stop(&d->pid);
	tu_rmtree(d->dir);
	free(d->dir);
	free(d->config);
	free(d->log);
	free(d->krl);
	free(d->host_cert);
	free(d);
}

void
sshd_set_principals(struct test_sshd *d, const char *user, ...)
{
	va_list ap;
	const char *p;
	char *buf = calloc(1, 1), *path, *tmp;
	size_t len = 0;

	cr_assert_not_null(buf);
	cr_assert(user != NULL && strchr(user, '/') == NULL && *user != '.');
	va_start(ap, user);
	while ((p = va_arg(ap, const char *)) != NULL) {
		size_t n = strlen(p);

		buf = realloc(buf, len + n + 2);
		cr_assert_not_null(buf);
		memcpy(buf + len, p, n);
		len += n;
		buf[len++] = '\n';
		buf[len] = '\0';
	}
	va_end(ap);
	path = tu_fmt("%s/principals/%s", d->dir, user);
	tmp = tu_fmt("%s.tmp", path);
	tu_write_file(tmp, buf, len, 0644);
	cr_assert(
	    rename(tmp, path) == 0, "rename %s: %s", tmp, strerror(errno));
	free(tmp);
	free(path);
	free(buf);
}

void
sshd_set_krl(struct test_sshd *d, const char *krl_path)
{
	size_t len;
	char *data = tu_read_file(krl_path, &len), *tmp;

	cr_assert_not_null(data, "cannot read %s", krl_path);
	tmp = tu_fmt("%s.tmp", d->krl);
	tu_write_file(tmp, data, len, 0644);
	cr_assert(
	    rename(tmp, d->krl) == 0, "rename %s: %s", tmp, strerror(errno));
	free(tmp);
	free(data);
}

int
sshd_port(const struct test_sshd *d)
{
	return d->port;
}

pid_t
sshd_pid(const struct test_sshd *d)
{
	return d->pid;
}

const char *
sshd_dir(const struct test_sshd *d)
{
	return d->dir;
}

const char *
sshd_krl_path(const struct test_sshd *d)
{
	return d->krl;
}

char *
sshd_user(void)
{
	struct passwd *pw = getpwuid(geteuid());
	char *s;

	cr_assert_not_null(
	    pw, "no passwd entry for uid %u", (unsigned)geteuid());
	s = strdup(pw->pw_name);
	cr_assert_not_null(s);
	return s;
}

char *
sshd_log(const struct test_sshd *d)
{
	char *s = tu_read_file(d->log, NULL);

	if (s == NULL) {
		s = strdup("");
		cr_assert_not_null(s);
	}
	return s;
}

int
sshd_log_wait(const struct test_sshd *d, const char *needle, int timeout_ms)
{
	int waited;

	for (waited = 0;; waited += 20) {
		char *s = sshd_log(d);
		int found = strstr(s, needle) != NULL;

		free(s);
		if (found)
			return 1;
		if (waited >= timeout_ms)
			return 0;
		tu_sleep_ms(20);
	}
}

int
sshd_ssh(const struct test_sshd *d, const char *user, const char *key_path,
    const char *cert_path, const char *command, char **out, char **err)
{
	return sshd_ssh_port(
	    d->port, user, key_path, cert_path, command, out, err);
}

static int
ssh_run(int sshd_port, const char *user, const char *key_path,
    const char *cert_path, const char *known_hosts, const char *command,
    char **out, char **err)
{
	char *ssh = tu_which("ssh"), *port = tu_fmt("%d", sshd_port);
	char *dest = tu_fmt("%s@127.0.0.1", user);
	char *certopt = NULL, *khopt = NULL;
	char *argv[40];
	int n = 0, rc;

	cr_assert_not_null(ssh, "ssh is not installed (openssh-client)");
	argv[n++] = ssh;
	argv[n++] = "-F";
	argv[n++] = "/dev/null";
	argv[n++] = "-i";
	argv[n++] = (char *)(uintptr_t)key_path;
	if (cert_path != NULL) {
		certopt = tu_fmt("CertificateFile=%s", cert_path);
		argv[n++] = "-o";
		argv[n++] = certopt;
	}
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = "IdentitiesOnly=yes";
	argv[n++] = "-o";
	argv[n++] = "IdentityAgent=none";
	if (known_hosts != NULL) {
		khopt = tu_fmt("UserKnownHostsFile=%s", known_hosts);
		argv[n++] = "-v";
		argv[n++] = "-o";
		argv[n++] = "StrictHostKeyChecking=yes";
		argv[n++] = "-o";
		argv[n++] = khopt;
		argv[n++] = "-o";
		argv[n++] = "GlobalKnownHostsFile=/dev/null";
	} else {
		argv[n++] = "-o";
		argv[n++] = "StrictHostKeyChecking=no";
		argv[n++] = "-o";
		argv[n++] = "UserKnownHostsFile=/dev/null";
	}
	argv[n++] = "-o";
	argv[n++] = "PreferredAuthentications=publickey";
	argv[n++] = "-o";
	argv[n++] = "ConnectTimeout=10";
	if (known_hosts == NULL) {
		argv[n++] = "-o";
		argv[n++] = "LogLevel=ERROR";
	}
	argv[n++] = "-p";
	argv[n++] = port;
	argv[n++] = dest;
	argv[n++] = (char *)(uintptr_t)command;
	argv[n] = NULL;
	rc = tu_run(argv, NULL, out, err);
	free(certopt);
	free(khopt);
	free(dest);
	free(port);
	free(ssh);
	return rc;
}

int
sshd_ssh_port(int sshd_port, const char *user, const char *key_path,
    const char *cert_path, const char *command, char **out, char **err)
{
	return ssh_run(
	    sshd_port, user, key_path, cert_path, NULL, command, out, err);
}

int
sshd_ssh_known_hosts(const struct test_sshd *d, const char *user,
    const char *key_path, const char *cert_path, const char *known_hosts,
    const char *command, char **out, char **err)
{
	return ssh_run(
	    d->port, user, key_path, cert_path, known_hosts, command, out, err);
}

void
sshd_scratch_etc(
    const char *etc, const char *prefix, int port, const char *piddir)
{
	char *cmd, *cfg, *p, *err = NULL;

	cmd = tu_fmt("mkdir -p '%s/ssh/sshd_config.d' && { [ -f "
		     "'%s/ssh/host_ed25519' ] || ssh-keygen -q -t ed25519 "
		     "-N '' -f '%s/ssh/host_ed25519'; }",
	    etc, etc, etc);
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s: %s", cmd, err);
	free(err);
	free(cmd);
	/* sshd (and sshd -t) insist on the privilege separation directory. */
	if (mkdir("/run/sshd", 0755) != 0)
		cr_assert_eq(
		    errno, EEXIST, "mkdir /run/sshd: %s", strerror(errno));
	cfg = tu_fmt("%sInclude %s/ssh/sshd_config.d/*.conf\n"
		     "HostKey %s/ssh/host_ed25519\n"
		     "ListenAddress 127.0.0.1\n"
		     "Port %d\n"
		     "PidFile %s/sshd.pid\n"
		     "UsePAM no\n"
		     "StrictModes no\n"
		     "PasswordAuthentication no\n"
		     "KbdInteractiveAuthentication no\n"
		     "AuthorizedKeysFile none\n",
	    prefix, etc, etc, port, piddir);
	p = tu_fmt("%s/ssh/sshd_config", etc);
	tu_write_file(p, cfg, strlen(cfg), 0644);
	free(p);
	free(cfg);
}

pid_t
sshd_scratch_run(const char *etc, int port, const char *log)
{
	char *cfg = tu_fmt("%s/ssh/sshd_config", etc);
	char *ready = tu_fmt("Server listening on 127.0.0.1 port %d.", port);
	char *argv[] = {"/usr/sbin/sshd", "-D", "-e", "-f", cfg, NULL};
	pid_t pid;

	cr_assert_eq(
	    access(argv[0], X_OK), 0, "sshd is not installed (openssh-server)");
	pid = tu_spawn(argv, NULL, log);
	free(tu_file_wait(log, ready, pid));
	free(ready);
	free(cfg);
	return pid;
}
