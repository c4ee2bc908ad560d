/*
 * test_edges.c: jitcad at the edges of its resources and inputs, with
 * the real binaries: `jitcad serve` on a ledger whose filesystem fills
 * up (a small tmpfs mounted here, so the test runs as root and skips
 * otherwise) answers 503 ledger_unavailable, reports itself degraded on
 * /v1/health, writes nothing half-way and recovers by itself once there
 * is room; `jitcad issue` refuses the CA's own public key as a subject.
 *
 * Uses tests/lib/testutil.h and tests/lib/proc.h; the HTTP calls are
 * made with curl(1), as an operator would.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

static char *dir; /* the test's scratch directory */
static char *state; /* jitcad's state dir (the tmpfs when mounted) */
static int mounted;
static pid_t serve_pid = -1;

static void
setup(void)
{
	dir = tu_tmpdir();
	state = tu_fmt("%s/state", dir);
}

static void
teardown(void)
{
	tu_stop(&serve_pid);
	if (mounted && umount2(state, MNT_DETACH) != 0)
		cr_log_error("umount %s: %s", state, strerror(errno));
	mounted = 0;
	tu_rmtree(dir);
	free(state);
	free(dir);
}

TestSuite(edges, .init = setup, .fini = teardown, .timeout = 120);

static void
sh_ok(const char *cmd)
{
	char *err = NULL;
	int rc = tu_sh(cmd, NULL, &err);

	cr_assert_eq(rc, 0, "%s: exit %d: %s", cmd, rc, err);
	free(err);
}

/* curl METHOD url+path with the token (may be NULL) and body (may be
 * NULL); returns "STATUS\nRETRY-AFTER\nBODY" (new). */
static char *
http(const char *url, const char *method, const char *path, const char *tok,
    const char *body)
{
	char *hdr = tu_fmt("%s/hdr", dir), *bfile = tu_fmt("%s/body", dir);
	char *auth = tok != NULL ? tu_fmt("-H 'Authorization: Bearer %s'", tok)
				 : strdup("");
	char *data = NULL, *cmd, *out = NULL, *res, *ra, *h;

	if (body != NULL) {
		tu_write_file(bfile, body, strlen(body), 0600);
		data = tu_fmt("-H 'Content-Type: application/json' "
			      "--data-binary '@%s'",
		    bfile);
	}
	cmd = tu_fmt("curl -sS -o '%s/out' -D '%s' -w '%%{http_code}' -X %s "
		     "%s %s '%s%s'",
	    dir, hdr, method, auth, data != NULL ? data : "", url, path);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0, "%s", cmd);
	h = tu_read_file(hdr, NULL);
	cr_assert_not_null(h);
	ra = strstr(h, "Retry-After: ");
	res = tu_read_file(tu_keep(tu_fmt("%s/out", dir)), NULL);
	cr_assert_not_null(res);
	free(cmd);
	cmd = tu_fmt("%s\n%.*s\n%s", out,
	    ra != NULL ? (int)strcspn(ra + 13, "\r\n") : 0,
	    ra != NULL ? ra + 13 : "", res);
	free(res);
	free(h);
	free(out);
	free(data);
	free(auth);
	free(bfile);
	free(hdr);
	return cmd;
}

/* Fill the filesystem of path until write() says ENOSPC. */
static void
fill(const char *path)
{
	char *cmd = tu_fmt("dd if=/dev/zero of='%s' bs=64k 2>/dev/null; "
			   "dd if=/dev/zero of='%s.2' bs=4k 2>/dev/null; "
			   "dd if=/dev/zero of='%s.3' bs=512 2>/dev/null; "
			   "sync; df -k '%s' | tail -n 1",
	    path, path, path, path);
	char *out = NULL;

	(void)tu_sh(cmd, &out, NULL);
	cr_log_info("filled: %s", out);
	free(out);
	free(cmd);
}

Test(edges, disk_full_answers_503_and_recovers)
{
	char *err = NULL, *tok = NULL, *url, *r, *key, *body, *cmd, *filler;
	char *out = NULL;
	size_t n;

	cr_assert_eq(geteuid(), 0,
	    "this test needs root to mount a tmpfs (as in CI): run the suite "
	    "as root");
	cr_assert_eq(mkdir(state, 0700), 0);
	cr_assert_eq(mount("tmpfs", state, "tmpfs", MS_NOSUID | MS_NODEV,
			 "size=2m,mode=0700"),
	    0, "mount tmpfs on %s: %s", state, strerror(errno));
	mounted = 1;
	cr_assert_eq(tu_jitcad(state, "init", NULL, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(
	    tu_jitcad(state, "user add alice --group engineering", &tok, &err),
	    0, "%s", err);
	free(err);
	tok[strcspn(tok, "\n")] = '\0';
	key = tu_fmt("%s/id", dir);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", key);
	sh_ok(cmd);
	free(cmd);
	body = tu_read_file(tu_keep(tu_fmt("%s.pub", key)), &n);
	cr_assert_not_null(body);
	body[strcspn(body, "\n")] = '\0';
	cmd = tu_fmt("{\"role\": \"staging\", \"ttl\": \"10m\", \"reason\": "
		     "\"INC-7 disk\", \"public_key\": \"%s\"}",
	    body);
	free(body);
	body = cmd;
	url = tu_serve_start(state, tu_keep(tu_fmt("%s/serve.log", dir)), NULL,
	    NULL, &serve_pid);

	r = http(url, "GET", "/v1/health", NULL, NULL);
	cr_assert_str_eq(r, "200\n\n{\"status\":\"ok\"}\n");
	free(r);

	filler = tu_fmt("%s/filler", state);
	fill(filler);
	r = http(url, "POST", "/v1/requests", tok, body);
	cr_assert_str_eq(r,
	    "503\n30\n{\"error\":{\"code\":\"ledger_unavailable\","
	    "\"message\":\"request: the ledger cannot be written: no space "
	    "left on its disk\"}}\n");
	free(r);
	r = http(url, "GET", "/v1/health", NULL, NULL);
	cr_assert_str_eq(r,
	    "503\n30\n{\"status\":\"degraded\",\"reason\":"
	    "\"ledger_unavailable\",\"message\":\"the ledger cannot be "
	    "written: no space left on its disk\"}\n");
	free(r);
	/* Reads still work meanwhile. */
	r = http(url, "GET", "/v1/requests", tok, NULL);
	cr_assert_str_eq(r, "200\n\n{\"requests\":[],\"next_cursor\":null}\n");
	free(r);

	/* Room again: the next write succeeds and health follows, with
	 * the same process (no restart). */
	cmd = tu_fmt("rm -f '%s' '%s.2' '%s.3'", filler, filler, filler);
	sh_ok(cmd);
	free(cmd);
	r = http(url, "POST", "/v1/requests", tok, body);
	cr_assert(strncmp(r, "201\n\n{", 6) == 0, "%s", r);
	cr_assert(strstr(r, "\"state\":\"issued\"") != NULL, "%s", r);
	/* Id 1 was reserved for the refused request: a gap, as its
	 * serial would be. */
	cr_assert(strstr(r, "\"id\":2,") != NULL, "%s", r);
	free(r);
	r = http(url, "GET", "/v1/health", NULL, NULL);
	cr_assert_str_eq(r, "200\n\n{\"status\":\"ok\"}\n");
	free(r);
	cr_assert_eq(kill(serve_pid, 0), 0);

	/* Nothing half-written: one request, one serial, a chain that
	 * verifies. */
	tu_stop(&serve_pid);
	cr_assert_eq(tu_jitcad(state, "ledger verify", &out, &err), 0, "%s %s",
	    out, err);
	free(out);
	free(err);
	cmd = tu_fmt("sqlite3 '%s/ledger.db' 'SELECT count(*) FROM requests; "
		     "SELECT count(*) FROM certificates;'",
	    state);
	if (tu_which("sqlite3") != NULL) {
		cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
		cr_assert_str_eq(out, "1\n1\n");
		free(out);
	}
	free(cmd);
	free(filler);
	free(body);
	free(key);
	free(url);
	free(tok);
}

Test(edges, issue_refuses_the_ca_key)
{
	char *err = NULL, *out = NULL, *ca = NULL, *want, *pub;

	cr_assert_eq(tu_jitcad(state, "init", NULL, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(
	    tu_jitcad(state, "user add alice --group engineering", NULL, NULL),
	    0);
	cr_assert_eq(tu_jitcad(state, "ca-key", &ca, &err), 0, "%s", err);
	free(err);
	pub = tu_fmt("%s/ca.pub", dir);
	tu_write_file(pub, ca, strlen(ca), 0644);
	want = tu_fmt("issue --user alice --role staging --public-key '%s' "
		      "--reason 'INC-9 ca key'",
	    pub);
	cr_assert_eq(tu_jitcad(state, want, &out, &err), 1, "%s", out);
	free(want);
	want = tu_fmt("jitcad issue: %s: the public key is the CA's own key, "
		      "not a user key\n",
	    pub);
	cr_assert_str_eq(err, want);
	cr_assert_str_eq(out, "");
	free(want);
	free(out);
	free(err);
	/* Nothing was written: no request, no serial. */
	cr_assert_eq(
	    tu_jitcad(state, "ledger export", &out, &err), 0, "%s", err);
	cr_assert(strstr(out, "request.created") == NULL, "%s", out);
	cr_assert(strstr(out, "cert.issued") == NULL, "%s", out);
	free(out);
	free(err);
	free(pub);
	free(ca);
}
