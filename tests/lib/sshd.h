/*
 * sshd.h: a throw-away real OpenSSH sshd for integration tests.
 *
 * sshd_start() makes a temporary directory with its own ed25519 host
 * key, a TrustedUserCAKeys file holding the given CA line, a principals/
 * directory for AuthorizedPrincipalsFile (%u), an empty KRL for
 * RevokedKeys (made by ssh-keygen -k), and an sshd_config, then runs
 * "/usr/sbin/sshd -D -e -f CONFIG" listening on 127.0.0.1 on a free port,
 * with its stderr (LogLevel VERBOSE) in a log file, and waits until the
 * port accepts connections.  Only certificate logins can work: password,
 * keyboard-interactive and authorized_keys are off.
 *
 * It does not install anything system-wide except creating /run/sshd (the
 * privilege separation directory sshd insists on) when missing.  Tests run
 * as root in CI, so the login user is the current user (root).
 *
 * sshd_start_host_cert() also has sshd present a host certificate
 * (HostCertificate) that the test makes for the host key, and
 * sshd_ssh_known_hosts() connects with StrictHostKeyChecking=yes against
 * a known_hosts file of the test's, so that a host certificate is what
 * lets the client in.
 *
 * Like testutil.h (which it uses), every function fails the running
 * criterion test on a setup error; a missing sshd or ssh-keygen is a test
 * failure, never a skip.  sshd_stop() kills sshd, waits for it and
 * removes the directory.
 */
#ifndef JITCA_TESTS_SSHD_H
#define JITCA_TESTS_SSHD_H

#include <stddef.h>
#include <sys/types.h>

struct test_sshd;

/* Start sshd trusting the CA public key line ca_pub_line ("ssh-ed25519
 * AAAA..."); *out is new, release with sshd_stop(). */
void sshd_start(struct test_sshd **out, const char *ca_pub_line);
/* Makes the host certificate: reads the host public key file host_pub and
 * writes the certificate line to cert_path (before sshd starts). */
typedef void sshd_host_cert_fn(
    void *ctx, const char *host_pub, const char *cert_path);
/* sshd_start(), with "HostCertificate" for the certificate fn writes. */
void sshd_start_host_cert(struct test_sshd **out, const char *ca_pub_line,
    sshd_host_cert_fn *fn, void *ctx);
/* Kill sshd, reap it, remove its directory, free d.  NULL is fine. */
void sshd_stop(struct test_sshd *d);

/* Write the principals file of user: one principal per line from the
 * NULL-terminated list (an empty list makes an empty file). */
void sshd_set_principals(struct test_sshd *d, const char *user, ...)
    __attribute__((sentinel));
/* Replace the RevokedKeys file atomically with the KRL at path. */
void sshd_set_krl(struct test_sshd *d, const char *krl_path);

int sshd_port(const struct test_sshd *d);
pid_t sshd_pid(const struct test_sshd *d);
/* The temporary directory (borrowed). */
const char *sshd_dir(const struct test_sshd *d);
/* Path of the RevokedKeys file (borrowed). */
const char *sshd_krl_path(const struct test_sshd *d);
/* The login name the tests use: the current user (root in CI); new. */
char *sshd_user(void);

/* Everything sshd has logged so far, as a new string. */
char *sshd_log(const struct test_sshd *d);
/* Wait up to timeout_ms for the log to contain needle; 1 if it does. */
int sshd_log_wait(
    const struct test_sshd *d, const char *needle, int timeout_ms);

/*
 * Run the real ssh client against d as user with the private key key_path
 * and, if cert_path is non-NULL, the certificate cert_path (BatchMode,
 * IdentitiesOnly, no host key checking, no agent), executing command.
 * Returns ssh's exit status (255 when the login is refused); out and err
 * (each may be NULL) receive new strings.
 */
int sshd_ssh(const struct test_sshd *d, const char *user, const char *key_path,
    const char *cert_path, const char *command, char **out, char **err);
/* sshd_ssh() but with StrictHostKeyChecking=yes and UserKnownHostsFile
 * known_hosts: ssh refuses (255, "Host key verification failed") unless
 * that file vouches for the host key.  ssh runs with -v: err holds the
 * lines that say how the host key was checked. */
int sshd_ssh_known_hosts(const struct test_sshd *d, const char *user,
    const char *key_path, const char *cert_path, const char *known_hosts,
    const char *command, char **out, char **err);
/* The same against the sshd listening on 127.0.0.1:port. */
int sshd_ssh_port(int port, const char *user, const char *key_path,
    const char *cert_path, const char *command, char **out, char **err);

/*
 * For tests of scripts/host-setup, whose files sshd must then run on: a
 * scratch ETC/ssh with an ed25519 host key (kept when there) and an
 * sshd_config holding prefix, then "Include ETC/ssh/sshd_config.d/\*.conf"
 * (as Debian's does), listening on 127.0.0.1:port with its pid file in
 * piddir; only certificate logins can work.  Creates /run/sshd too.
 */
void sshd_scratch_etc(
    const char *etc, const char *prefix, int port, const char *piddir);
/* Run the real sshd -D -e on ETC/ssh/sshd_config (from sshd_scratch_etc
 * with port) with its log in log; waits until it listens.  Returns its
 * pid (stop with tu_stop). */
pid_t sshd_scratch_run(const char *etc, int port, const char *log);

#endif /* JITCA_TESTS_SSHD_H */
