/*
 * test_crash.c: invariants 1 and 2 under SIGKILL.  A shell loop runs
 * `jitcad issue` over and over, appending each printed certificate to a
 * file; the whole process group (shell, jitcad, its signer child) is
 * killed with SIGKILL at random moments, 20 times, each time after it
 * printed at least one certificate.  Afterwards every
 * certificate that was printed has its certificates row and exactly one
 * cert.issued event, serials are unique and strictly increasing in the
 * order they were issued, and `jitcad ledger verify` passes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "signer/cert.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

#define ROUNDS 20

/* The size of path, 0 when it cannot be read. */
static off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Start the issuing loop in its own process group; returns its pid. */
static pid_t
start_loop(const char *state, const char *key, const char *certs)
{
	char *script = tu_fmt(
	    "while :; do '%s' issue --state '%s' --user alice --role staging "
	    "--public-key '%s.pub' --ttl 1h --reason crash-test >> '%s' "
	    "2>'%s.err' || exit 1; done",
	    tu_env("JITCAD"), state, key, certs, certs);
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	free(script);
	return pid;
}

Test(crash, sigkill_never_loses_or_reuses_a_serial)
{
	char *dir = tu_tmpdir(), *state = tu_fmt("%s/state", dir);
	char *key = tu_fmt("%s/k", dir), *certs = tu_fmt("%s/certs", dir);
	char *db = tu_fmt("%s/ledger.db", state), *text, *line, *save = NULL;
	char *cmd, *out = NULL;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	uint64_t last = 0, printed = 0;
	sqlite3 *sql;
	sqlite3_stmt *st;
	int round, status, waited;

	srand(seed);
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	cr_assert_eq(tu_jitcad(state, "init", NULL, NULL), 0);
	cr_assert_eq(
	    tu_jitcad(state, "user add alice --group engineering", NULL, NULL),
	    0);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", key);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	tu_write_file(certs, "", 0, 0600);

	for (round = 0; round < ROUNDS; round++) {
		off_t before = file_size(certs);
		pid_t pid = start_loop(state, key, certs);
		struct timespec ts;
		long ms = rand() % 450;

		/* Let the loop print one certificate first, so that every
		 * round tests something however slow the machine is; then
		 * kill it at a random moment of the issuances that follow. */
		for (waited = 0; file_size(certs) == before; waited += 10) {
			cr_assert_lt(waited, TU_WAIT_MS,
			    "round %d: no certificate printed", round);
			tu_sleep_ms(10);
		}
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		cr_assert_eq(kill(-pid, SIGKILL), 0);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status)) {
			char *e = tu_fmt("%s.err", certs);

			cr_assert_fail("seed %u round %d: the loop ended by "
				       "itself (status %d): %s",
			    seed, round, status, tu_read_file(e, NULL));
		}
		/* jitcad and its signer child were orphaned to this process
		 * (a subreaper): reap the whole group, so that nothing of
		 * it is left to write (zombies reparented to an init that
		 * never reaps would look alive to kill(-pid, 0)). */
		for (waited = 0; waited < TU_WAIT_MS; waited += 20) {
			pid_t w = waitpid(-pid, &status, WNOHANG);

			if (w < 0 && errno == ECHILD)
				break;
			if (w == 0)
				tu_sleep_ms(20);
		}
		cr_assert_lt(waited, TU_WAIT_MS,
		    "round %d: process group %d still alive", round, (int)pid);
	}

	cr_assert_eq(
	    sqlite3_open_v2(db, &sql, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	text = tu_read_file(certs, NULL);
	cr_assert_not_null(text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		struct cert *c = NULL;

		cr_assert_eq(cert_from_line(&c, line, strlen(line)), 0,
		    "seed %u: printed line is not a certificate: %s", seed,
		    line);
		/* Strictly increasing in the order they were printed. */
		cr_assert_gt(c->serial, last, "seed %u", seed);
		last = c->serial;
		cr_assert_eq(
		    sqlite3_prepare_v2(sql,
			"SELECT (SELECT certificate FROM certificates WHERE "
			"serial = ?1), (SELECT count(*) FROM events WHERE type = "
			"'cert.issued' AND json_extract(details, '$.serial') = ?1)",
			-1, &st, NULL),
		    SQLITE_OK);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)c->serial);
		cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
		cr_assert_not_null(sqlite3_column_text(st, 0),
		    "seed %u: serial %llu was printed but has no row", seed,
		    (unsigned long long)c->serial);
		cr_assert(
		    strncmp((const char *)sqlite3_column_text(st, 0), line,
			strlen((const char *)sqlite3_column_text(st, 0))) == 0,
		    "seed %u: ledger holds another certificate", seed);
		cr_assert_eq(sqlite3_column_int(st, 1), 1);
		sqlite3_finalize(st);
		cert_free(c);
		printed++;
	}
	cr_assert_geq(printed, ROUNDS, "only %llu certificates in %d rounds",
	    (unsigned long long)printed, ROUNDS);
	/* Across every crash, serials in the ledger only ever increase. */
	cr_assert_eq(
	    sqlite3_prepare_v2(sql,
		"SELECT count(*) FROM (SELECT json_extract(details, '$.serial') "
		"AS s, lag(json_extract(details, '$.serial')) OVER (ORDER BY seq) "
		"AS p FROM events WHERE type = 'cert.issued') WHERE s <= p",
		-1, &st, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(sql);

	cr_assert_eq(
	    tu_jitcad(state, "ledger verify", &out, NULL), 0, "%s", out);
	cr_assert(strncmp(out, "ok: ", 4) == 0);
	tu_rmtree(dir);
}
