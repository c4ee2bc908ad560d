/*
 * test_logins.c: login_parse() (ca/logins.h) over the lines a real sshd
 * writes at LogLevel VERBOSE for certificate logins: accepted, expired,
 * revoked by the KRL, principal not accepted, made here with ssh-keygen
 * certificates against tests/lib/sshd.h; then hostile variants of those
 * lines (forged "ID" in the account, controls, invalid UTF-8, huge
 * lines, fields moved) with the exact code each gets.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ca/logins.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

/* The first line of log that starts with prefix and holds needle
 * (NULL: any), new; fails the test when there is none. */
static char *
log_line(const char *log, const char *prefix, const char *needle)
{
	const char *p = log, *e;

	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) >= strlen(prefix) &&
		    strncmp(p, prefix, strlen(prefix)) == 0) {
			char *l = strndup(p, (size_t)(e - p));

			cr_assert_not_null(l);
			l[strcspn(l, "\r")] = '\0';
			if (needle == NULL || strstr(l, needle) != NULL)
				return l;
			free(l);
		}
		p = *e == '\n' ? e + 1 : e;
	}
	cr_assert_fail("no line \"%s...%s\" in the sshd log:\n%s", prefix,
	    needle ? needle : "", log);
	return NULL;
}

/* Lines a real sshd wrote, captured once per test process. */
struct captured {
	char *accepted, *expired_reason, *expired_failed;
	char *revoked_reason, *revoked_failed, *principal_reason;
	char *principal_failed, *plain_failed;
	char *ca_fp, *user_fp;
};

static struct captured cap;

static char *
sh_out(const char *cmd)
{
	char *out = NULL, *err = NULL;
	int rc = tu_sh(cmd, &out, &err);

	cr_assert_eq(rc, 0, "%s: %s", cmd, err);
	free(err);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/*
 * An accepted line exactly as sshd 9.2 wrote it in one run of
 * capture() (only the port and the fingerprints change between runs;
 * logins.real checks that a fresh line has this very shape), for the
 * hostile variants below.
 */
#define REAL_ACCEPTED                                                          \
	"Accepted publickey for root from 127.0.0.1 port 40392 ssh2: "         \
	"ED25519-CERT SHA256:VbynAyVGuh/ky9llLODIdcaAXWga4qTTxytKCG9T+rA ID "  \
	"alice:prod-debug:req-3:serial-3 (serial 3) CA ED25519 "               \
	"SHA256:nOFyPpH/hpYGNrq67sdBwJYpPH1VCKTQmeV7748zF+Q"
#define REAL_REVOKED                                                           \
	"Authentication key ED25519-CERT "                                     \
	"SHA256:mvGveyMAOoM8qILr+e0IugmPpyBWHdT2sBDUpjSEeiA revoked by file "  \
	"/tmp/sshdexp.2Fuk/krl"

static void
setup(void)
{
	cap.accepted = REAL_ACCEPTED;
	cap.revoked_reason = REAL_REVOKED;
	cap.expired_reason = "Certificate invalid: expired";
}

TestSuite(logins, .init = setup, .fini = tu_keep_free);

static struct login_line
parse_ok(const char *line)
{
	struct login_line l;
	int r = login_parse(&l, line, strlen(line));

	cr_assert_eq(r, 0, "%s: %d (%s)", line, r, err_str(r));
	return l;
}

static void
parse_err(const char *line, size_t len, int want)
{
	struct login_line l;
	int r = login_parse(&l, line, len);

	cr_assert_eq(r, want, "%.200s: got %d (%s), want %d (%s)", line, r,
	    err_str(r), want, err_str(want));
	/* A refused line leaves no field behind. */
	cr_assert_str_empty(l.account);
	cr_assert_str_empty(l.key_id);
	cr_assert_eq(l.serial, 0);
}

Test(logins, other_lines_are_ignored)
{
	static const char *const lines[] = {
	    "Server listening on 127.0.0.1 port 22999.",
	    "Connection from 127.0.0.1 port 40392 on 127.0.0.1 port 22 "
	    "rdomain \"\"",
	    "Postponed publickey for root from 127.0.0.1 port 40392 ssh2 "
	    "[preauth]",
	    "Accepted certificate ID \"alice:prod-debug:req-3:serial-3\" "
	    "(serial 3) signed by ED25519 CA SHA256:x via /etc/ssh/ca.pub",
	    "Starting session: command for root from 127.0.0.1 port 1 id 0",
	    "",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		parse_err(lines[i], strlen(lines[i]), ERR_LOGIN_IGNORED);
}

/* cap.accepted with its "for ACCOUNT " replaced by "for " + acct + " ". */
static char *
with_account(const char *acct)
{
	const char *from = strstr(cap.accepted, " from ");

	return tu_fmt("Accepted publickey for %s%s", acct, from);
}

Test(logins, forged_id_in_account_cannot_move_the_fields)
{
	char *line, *tail = strstr(cap.accepted, " from ") + 1;

	/* The whole real tail, forged, as the account name: the real tail
	 * still ends the line and is what counts; the account is refused. */
	line = with_account(tu_keep(tu_fmt("root %s", tail)));
	parse_err(line, strlen(line), ERR_LOGIN_ACCOUNT);
	free(line);
	line =
	    with_account("x ID mallory:prod-debug:req-1:serial-1 (serial 1)");
	parse_err(line, strlen(line), ERR_LOGIN_ACCOUNT);
	free(line);
	line = tu_fmt("Accepted publickey for invalid user %s",
	    strstr(cap.accepted, "for ") + 4);
	{
		struct login_line l = parse_ok(line);

		cr_assert_eq(l.invalid_user, 1);
		cr_assert_eq(l.serial, 3);
	}
	free(line);
	/* sshd escapes a tab in the name as \011: not a plain name. */
	line = with_account("a\\011b");
	parse_err(line, strlen(line), ERR_LOGIN_ACCOUNT);
	free(line);
	line = with_account("-oProxyCommand");
	parse_err(line, strlen(line), ERR_LOGIN_ACCOUNT);
	free(line);
	line = with_account(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	parse_err(line, strlen(line), ERR_LOGIN_ACCOUNT);
	free(line);
}

Test(logins, controls_and_non_ascii_are_refused)
{
	char *line = strdup(cap.accepted);
	size_t n = strlen(line), at = strstr(line, "ID ") - line + 4;
	static const unsigned char bad[] = {
	    0x00, 0x01, 0x1b, 0x7f, 0x80, 0xc3, 0xff, '\t', '\n'};
	size_t i;

	for (i = 0; i < sizeof(bad); i++) {
		char *l = strdup(line);

		l[at] = (char)bad[i];
		parse_err(l, n, ERR_LOGIN_CHAR);
		free(l);
	}
	/* Valid UTF-8 is no better: sshd never writes it unescaped. */
	{
		char *l = tu_fmt("%.*s\xc3\xa9%s", (int)at, line, line + at);

		parse_err(l, strlen(l), ERR_LOGIN_CHAR);
		free(l);
	}
	/* A trailing CR LF (sshd -e) is fine, as is LF alone. */
	{
		char *l = tu_fmt("%s\r\n", line);
		struct login_line ll;

		cr_assert_eq(login_parse(&ll, l, strlen(l)), 0);
		cr_assert_eq(ll.serial, 3);
		free(l);
	}
	free(line);
}

Test(logins, huge_lines_are_refused)
{
	size_t n = LOGIN_LINE_MAX + 1;
	char *l = malloc(n + 1);

	memset(l, 'A', n);
	memcpy(l, "Accepted publickey for ", 23);
	l[n] = '\0';
	parse_err(l, n, ERR_LOGIN_TOO_LONG);
	parse_err(l, n - 1, ERR_LOGIN_FORMAT);
	free(l);
	/* Over 64 tokens. */
	{
		char *m = calloc(1, 4096);
		int i;

		strcat(m, "Accepted publickey for ");
		for (i = 0; i < 70; i++)
			strcat(m, "a ");
		strcat(m, strstr(cap.accepted, "from "));
		parse_err(m, strlen(m), ERR_LOGIN_FORMAT);
		free(m);
	}
}

/* cap.accepted with the first occurrence of from replaced by to. */
static char *
replaced(const char *line, const char *from, const char *to)
{
	const char *p = strstr(line, from);

	cr_assert_not_null(p, "%s in %s", from, line);
	return tu_fmt("%.*s%s%s", (int)(p - line), line, to, p + strlen(from));
}

Test(logins, fields_out_of_place_are_refused)
{
	struct {
		const char *from, *to;
	} edits[] = {
	    {" port ", " prot "},
	    {" port ", " port 0"},
	    {"ssh2: ", "ssh1: "},
	    {" ID ", " Id "},
	    {" ID ", " ID x "},
	    {"(serial ", "(serial 0"},
	    {"(serial ", "(serial -"},
	    {"(serial ", "(serial 99999999999999999999"},
	    {" CA ", " CA x "},
	    {" CA ", " ca "},
	    {"ED25519-CERT", "ED25519-CERTIFICATE"},
	    {"ED25519-CERT", "ed25519-cert"},
	    {"SHA256:", "MD5:"},
	    {"SHA256:", "SHA256:="},
	    {" from ", "  from "},
	    {"127.0.0.1", "127.0.0.1;rm"},
	};
	size_t i;
	char *l;

	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		l = replaced(cap.accepted, edits[i].from, edits[i].to);
		parse_err(l, strlen(l), ERR_LOGIN_FORMAT);
		free(l);
	}
	/* Trailing data after the CA fingerprint. */
	l = tu_fmt("%s extra", cap.accepted);
	parse_err(l, strlen(l), ERR_LOGIN_FORMAT);
	free(l);
	l = tu_fmt("%s ", cap.accepted);
	parse_err(l, strlen(l), ERR_LOGIN_FORMAT);
	free(l);
	/* The revoked reason with its fingerprint broken. */
	l = replaced(cap.revoked_reason, "SHA256:", "SHA256:!");
	parse_err(l, strlen(l), ERR_LOGIN_FORMAT);
	free(l);
}

Test(logins, syslog_error_prefix_on_reasons)
{
	struct login_line l;
	char *s = tu_fmt("error: %s", cap.expired_reason);

	l = parse_ok(s);
	cr_assert_eq(l.reason, LOGIN_REASON_EXPIRED);
	free(s);
	l = parse_ok("Certificate invalid: not yet valid");
	cr_assert_eq(l.reason, LOGIN_REASON_NOT_YET_VALID);
	l = parse_ok("Certificate invalid: name is not a listed principal");
	cr_assert_eq(l.reason, LOGIN_REASON_PRINCIPAL);
	l = parse_ok("Certificate invalid: signature check failed");
	cr_assert_eq(l.reason, LOGIN_REASON_OTHER);
	cr_assert_str_eq(login_reason_name(l.reason), "certificate_invalid");
}

/* Run sshd, log in with each certificate, keep its lines. */
static void
capture(void)
{
	struct test_sshd *d = NULL;
	char *dir = tu_tmpdir(), *ca_line, *cmd, *log, *user = sshd_user();
	char *krl;

	cmd = tu_fmt("cd %s && ssh-keygen -q -t ed25519 -N '' -f ca &&"
		     " ssh-keygen -q -t ed25519 -N '' -f u1 &&"
		     " ssh-keygen -q -t ed25519 -N '' -f u2 &&"
		     " ssh-keygen -q -t ed25519 -N '' -f u3 &&"
		     " ssh-keygen -q -t ed25519 -N '' -f u4 &&"
		     " ssh-keygen -q -s ca -I alice:prod-debug:req-3:serial-3"
		     " -n debug -z 3 -V -5m:+1h u1.pub &&"
		     " ssh-keygen -q -s ca -I bob:prod-debug:req-4:serial-4"
		     " -n debug -z 4 -V 20200101:20200102 u2.pub &&"
		     " ssh-keygen -q -s ca -I carol:prod-debug:req-5:serial-5"
		     " -n debug -z 5 -V -5m:+1h u3.pub &&"
		     " ssh-keygen -q -s ca -I dave:other:req-6:serial-6"
		     " -n elsewhere -z 6 -V -5m:+1h u4.pub &&"
		     " printf 'serial: 5\\n' > spec &&"
		     " ssh-keygen -q -k -f krl -s ca.pub spec",
	    dir);
	free(sh_out(cmd));
	free(cmd);
	ca_line = sh_out(tu_keep(tu_fmt("cat %s/ca.pub", dir)));
	cap.ca_fp = sh_out(
	    tu_keep(tu_fmt("ssh-keygen -lf %s/ca.pub | cut -d' ' -f2", dir)));
	cap.user_fp = sh_out(
	    tu_keep(tu_fmt("ssh-keygen -lf %s/u1.pub | cut -d' ' -f2", dir)));
	sshd_start(&d, ca_line);
	sshd_set_principals(d, user, "debug", NULL);
	krl = tu_fmt("%s/krl", dir);
	sshd_set_krl(d, krl);
	cr_assert_eq(
	    sshd_ssh(d, user, tu_keep(tu_fmt("%s/u1", dir)),
		tu_keep(tu_fmt("%s/u1-cert.pub", dir)), "true", NULL, NULL),
	    0);
	cr_assert_eq(
	    sshd_ssh(d, user, tu_keep(tu_fmt("%s/u2", dir)),
		tu_keep(tu_fmt("%s/u2-cert.pub", dir)), "true", NULL, NULL),
	    255);
	cr_assert_eq(
	    sshd_ssh(d, user, tu_keep(tu_fmt("%s/u3", dir)),
		tu_keep(tu_fmt("%s/u3-cert.pub", dir)), "true", NULL, NULL),
	    255);
	cr_assert_eq(
	    sshd_ssh(d, user, tu_keep(tu_fmt("%s/u4", dir)),
		tu_keep(tu_fmt("%s/u4-cert.pub", dir)), "true", NULL, NULL),
	    255);
	cr_assert(sshd_log_wait(d, "serial-6", 20000));
	log = sshd_log(d);
	cap.accepted = log_line(log, "Accepted publickey for ", "serial-3");
	cap.expired_reason =
	    log_line(log, "Certificate invalid: expired", NULL);
	cap.expired_failed = log_line(log, "Failed publickey for ", "serial-4");
	cap.revoked_reason = log_line(log, "Authentication key ", "revoked");
	cap.revoked_failed = log_line(log, "Failed publickey for ", "serial-5");
	cap.principal_reason = log_line(
	    log, "Certificate does not contain an authorized principal", NULL);
	cap.principal_failed =
	    log_line(log, "Failed publickey for ", "serial-6");
	cap.plain_failed =
	    log_line(log, "Failed publickey for ", "ssh2: ED25519 SHA256:");
	sshd_stop(d);
	tu_rmtree(dir);
	free(log);
	free(krl);
	free(ca_line);
	free(user);
	free(dir);
}

static void
check_accepted(void)
{
	struct login_line l = parse_ok(cap.accepted);
	char *user = sshd_user();

	cr_assert_eq(l.kind, LOGIN_ACCEPTED);
	cr_assert_str_eq(l.account, user);
	cr_assert_eq(l.invalid_user, 0);
	cr_assert_str_eq(l.source, "127.0.0.1");
	cr_assert(l.port > 0);
	cr_assert_str_eq(l.key_type, "ED25519-CERT");
	cr_assert_str_eq(l.key_fp, cap.user_fp);
	cr_assert_str_eq(l.key_id, "alice:prod-debug:req-3:serial-3");
	cr_assert_eq(l.serial, 3);
	cr_assert_str_eq(l.ca_type, "ED25519");
	cr_assert_str_eq(l.ca_fp, cap.ca_fp);
	cr_assert_eq(l.reason, LOGIN_REASON_NONE);
	/* Exactly the shape of REAL_ACCEPTED. */
	cr_assert_str_eq(cap.accepted,
	    tu_keep(tu_fmt("Accepted publickey for %s from 127.0.0.1 port %u "
			   "ssh2: ED25519-CERT %s ID "
			   "alice:prod-debug:req-3:serial-3 (serial 3) CA "
			   "ED25519 %s",
		user, l.port, cap.user_fp, cap.ca_fp)));
	free(user);
}

static void
check_refusals(void)
{
	struct login_line l;

	l = parse_ok(cap.expired_reason);
	cr_assert_eq(l.kind, LOGIN_REASON);
	cr_assert_eq(l.reason, LOGIN_REASON_EXPIRED);
	cr_assert_str_eq(l.reason_text, "Certificate invalid: expired");
	l = parse_ok(cap.expired_failed);
	cr_assert_eq(l.kind, LOGIN_FAILED);
	cr_assert_eq(l.serial, 4);
	cr_assert_str_eq(l.key_id, "bob:prod-debug:req-4:serial-4");
	cr_assert_str_eq(l.ca_fp, cap.ca_fp);

	l = parse_ok(cap.revoked_reason);
	cr_assert_eq(l.kind, LOGIN_REASON);
	cr_assert_eq(l.reason, LOGIN_REASON_REVOKED);
	cr_assert_str_eq(l.key_type, "ED25519-CERT");
	cr_assert_eq(strncmp(l.key_fp, "SHA256:", 7), 0);
	l = parse_ok(cap.revoked_failed);
	cr_assert_eq(l.kind, LOGIN_FAILED);
	cr_assert_eq(l.serial, 5);

	l = parse_ok(cap.principal_reason);
	cr_assert_eq(l.reason, LOGIN_REASON_PRINCIPAL);
	cr_assert_str_eq(login_reason_name(l.reason), "principal_not_accepted");
	l = parse_ok(cap.principal_failed);
	cr_assert_eq(l.kind, LOGIN_FAILED);
	cr_assert_str_eq(l.key_id, "dave:other:req-6:serial-6");
	cr_assert_eq(l.serial, 6);
}

/* One sshd for all the real lines (each test is a process). */
Test(logins_real, lines_of_a_real_sshd, .timeout = 120, .fini = tu_keep_free)
{
	capture();
	check_accepted();
	check_refusals();
	parse_err(
	    cap.plain_failed, strlen(cap.plain_failed), ERR_LOGIN_IGNORED);
}
