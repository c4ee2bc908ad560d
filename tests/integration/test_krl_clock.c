/*
 * test_krl_clock.c: the KRL served by a real `jitcad serve` keeps a
 * revoked certificate whatever the CA clock does (docs/design.md invariant 6),
 * and its ETag names the bytes.  The CA clock is moved with the test hook
 * JITCA_TEST_NOW; ssh-keygen -Q says whether the KRL revokes the
 * certificate; curl fetches with and without If-None-Match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <criterion/criterion.h>

#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

static char *dir, *state;
static long long t0;

static void
clock_set(long long t)
{
	char buf[32];

	(void)snprintf(buf, sizeof(buf), "%lld", t);
	cr_assert_eq(setenv("JITCA_TEST_NOW", buf, 1), 0);
}

static void
setup(void)
{
	dir = tu_tmpdir();
	state = tu_fmt("%s/state", dir);
	/* Now: the signer checks validity against its own clock. */
	t0 = (long long)time(NULL);
	clock_set(t0);
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(state);
	free(dir);
	unsetenv("JITCA_TEST_NOW");
}

TestSuite(krl_clock, .init = setup, .fini = teardown, .timeout = 120);

static void
run_ok(const char *args, char **out)
{
	char *err = NULL;

	cr_assert_eq(tu_jitcad(state, args, out, &err), 0, "%s: %s", args, err);
	free(err);
}

/* GET /v1/krl (with If-None-Match: inm unless NULL) into DIR/got.krl;
 * the status; *etag gets the ETag header (new). */
static int
krl_get(const char *url, const char *inm, char **etag)
{
	char *cmd, *out = NULL, *err = NULL, *p, *e;
	int status = 0;

	cmd = tu_fmt("curl -sS -o '%s/got.krl' -D - %s%s%s '%s/v1/krl' | tr -d "
		     "'\\r'",
	    dir, inm != NULL ? "-H 'If-None-Match: " : "",
	    inm != NULL ? inm : "", inm != NULL ? "'" : "", url);
	cr_assert_eq(tu_sh(cmd, &out, &err), 0, "%s: %s", cmd, err);
	cr_assert_eq(
	    sscanf(out, "HTTP/%*s %d", &status), 1, "%s: %s%s", cmd, out, err);
	cr_assert_not_null(p = strstr(out, "\nETag: "), "%s", out);
	p += 7;
	e = strchr(p, '\n');
	cr_assert_not_null(e);
	*etag = strndup(p, (size_t)(e - p));
	free(err);
	free(out);
	free(cmd);
	return status;
}

/* "\"" hex(SHA-256(DIR/got.krl)) "\"" */
static char *
got_etag(void)
{
	char *cmd = tu_fmt("sha256sum '%s/got.krl'", dir), *out = NULL, *t;

	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	cr_assert_gt(strlen(out), 64);
	out[64] = '\0';
	t = tu_fmt("\"%s\"", out);
	free(out);
	free(cmd);
	return t;
}

/* 1 if DIR/got.krl revokes the certificate at path (ssh-keygen -Q). */
static int
got_revokes(const char *cert)
{
	char *cmd = tu_fmt("ssh-keygen -Q -f '%s/got.krl' '%s'", dir, cert);
	char *out = NULL;
	int rc = tu_sh(cmd, &out, NULL);

	cr_assert(rc == 0 || rc == 1, "%s: exit %d: %s", cmd, rc, out);
	free(out);
	free(cmd);
	return rc == 1;
}

/* jitcad serve with its own log (tu_serve_start() waits for the first
 * "listening on" in it). */
static char *
serve(pid_t *pid)
{
	static int n;
	char *log = tu_fmt("%s/serve%d.log", dir, ++n);
	char *url = tu_serve_start(state, log, NULL, NULL, pid);

	free(log);
	return url;
}

Test(krl_clock, revoked_certificate_stays_when_the_clock_jumps)
{
	char *cmd, *out = NULL, *cert, *url, *e1 = NULL, *e2 = NULL, *e3 = NULL;
	char *sum, *krl1, *krl2;
	size_t n1, n2;
	pid_t pid = -1;

	run_ok("init", NULL);
	run_ok("user add alice --group engineering", NULL);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s/k'", dir);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
	cmd = tu_fmt("issue --user alice --role staging --public-key "
		     "'%s/k.pub' --ttl 1h --reason 'INC-7 clock test'",
	    dir);
	run_ok(cmd, &out);
	free(cmd);
	cert = tu_fmt("%s/k-cert.pub", dir);
	tu_write_file(cert, out, strlen(out), 0644);
	free(out);
	run_ok("revoke --serial 1 --reason 'laptop lost'", NULL);

	/* The CA clock 9 h ahead: by it the certificate expired 8 h ago,
	 * but hosts on the right time still accept it: it stays. */
	clock_set(t0 + 9 * 3600);
	url = serve(&pid);
	cr_assert_eq(krl_get(url, NULL, &e1), 200);
	cr_assert(got_revokes(cert), "the KRL dropped serial 1");
	sum = got_etag();
	cr_assert_str_eq(e1, sum);
	free(sum);
	krl1 = tu_read_file(tu_keep(tu_fmt("%s/got.krl", dir)), &n1);
	cr_assert_not_null(krl1);

	/* If-None-Match with that strong tag: 304; a weak form of it
	 * also matches (RFC 9110 13.1.2 weak comparison); another: 200. */
	cr_assert_eq(krl_get(url, e1, &e2), 304);
	cr_assert_str_eq(e2, e1);
	free(e2);
	sum = tu_fmt("W/%s", e1);
	cr_assert_eq(krl_get(url, sum, &e2), 304);
	free(sum);
	free(e2);
	cr_assert_eq(krl_get(url, "\"1\"", &e2), 200);
	cr_assert_str_eq(e2, e1);
	free(e2);

	/* A restart with the same clock: same bytes, same ETag. */
	tu_stop(&pid);
	free(url);
	url = serve(&pid);
	cr_assert_eq(krl_get(url, e1, &e2), 304);
	cr_assert_str_eq(e2, e1);
	free(e2);

	/* The clock fixed (a restart at the right time): the certificate
	 * is still in, and the bytes are the same (generated_date is the
	 * time of the last event, not the clock's), so is the ETag: the
	 * KRL is a function of the ledger. */
	tu_stop(&pid);
	free(url);
	clock_set(t0);
	url = serve(&pid);
	cr_assert_eq(krl_get(url, NULL, &e3), 200);
	cr_assert(got_revokes(cert));
	krl2 = tu_read_file(tu_keep(tu_fmt("%s/got.krl", dir)), &n2);
	cr_assert_not_null(krl2);
	cr_assert(n1 == n2 && memcmp(krl1, krl2, n1) == 0);
	cr_assert_str_eq(e3, e1);
	sum = got_etag();
	cr_assert_str_eq(e3, sum);
	free(sum);

	/* Long after: valid_before + hard_max_ttl (24h) + backdate (1m) it
	 * leaves; the ETag follows the bytes. */
	tu_stop(&pid);
	free(url);
	clock_set(t0 + 3600 + 24 * 3600 + 60);
	url = serve(&pid);
	cr_assert_eq(krl_get(url, e3, &e2), 200);
	cr_assert(!got_revokes(cert));
	sum = got_etag();
	cr_assert_str_eq(e2, sum);
	free(sum);
	free(e2);

	tu_stop(&pid);
	tu_keep_free();
	free(krl1);
	free(krl2);
	free(url);
	free(e1);
	free(e3);
	free(cert);
}
