/*
 * pg.c: a throwaway PostgreSQL server for the tests (tests/lib/pg.h).
 * The tests run as root and initdb refuses root, so the data directory
 * belongs to nobody and every server program runs through runuser (as
 * another user they run as that user).  No PostgreSQL installed fails
 * the test with a message saying so: never a skip.
 * fsync is off (a test server, stopped cleanly or thrown away); the
 * client side keeps synchronous_commit on.  Works with tests/lib/pg.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/pg.h"
#include "tests/lib/testutil.h"

#define PG_USER "nobody"

static const char *
pg_bin(void)
{
	const char *b = getenv("JITCA_PG_BIN");

	return b != NULL && *b != '\0' ? b : "/usr/lib/postgresql/15/bin";
}

/* Run a server program as nobody (as ourselves when not root: initdb
 * refuses only root); 0 on success, its stderr in *err. */
static const char *
as_user(void)
{
	return geteuid() == 0 ? "runuser -u " PG_USER " -- " : "";
}

static int
as_pg(const char *cmd, char **out, char **err)
{
	char *line = tu_fmt("%s%s", as_user(), cmd);
	int rc = tu_sh(line, out, err);

	free(line);
	return rc;
}

/* Through system(), not a captured pipe: the server would inherit the
 * pipe and the reader would wait for its end forever. */
static int
try_start(struct tpg *p)
{
	char *cmd;
	int rc;

	cmd = tu_fmt("%s%s/pg_ctl -D %s/data -l "
		     "%s/log -w -t 60 -s -o \"-c listen_addresses=127.0.0.1 "
		     "-p %d -k %s -c fsync=off -c max_connections=60 -c "
		     "shared_buffers=16MB\" start </dev/null >/dev/null 2>&1",
	    as_user(), pg_bin(), p->dir, p->dir, p->port, p->dir);
	rc = system(cmd);
	free(cmd);
	return rc;
}

void
tpg_start(struct tpg *p)
{
	char *cmd, *err = NULL;
	int rc, tries;

	memset(p, 0, sizeof(*p));
	cmd = tu_fmt("%s/initdb", pg_bin());
	/* Never a skip: CI installs it (scripts/bootstrap). */
	cr_assert_eq(access(cmd, X_OK), 0,
	    "PostgreSQL is not installed (%s: %s): run scripts/bootstrap, "
	    "which installs postgresql-15 and libpq-dev, or set JITCA_PG_BIN",
	    cmd, strerror(errno));
	free(cmd);
	p->dir = tu_tmpdir();
	cr_assert_eq(chmod(p->dir, 0755), 0);
	if (geteuid() == 0) {
		cmd = tu_fmt("chown " PG_USER " %s", p->dir);
		cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
		free(cmd);
	}
	cmd = tu_fmt("%s/initdb -D %s/data -A trust -U jitca -E UTF8 "
		     "--locale=C --no-sync",
	    pg_bin(), p->dir);
	rc = as_pg(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "initdb: %s", err != NULL ? err : "");
	free(cmd);
	free(err);
	/* A port that looked free may be taken by the time the server
	 * binds it: another one, a few times. */
	for (tries = 0; tries < 8; tries++) {
		p->port = tu_free_port();
		if ((rc = try_start(p)) == 0)
			break;
	}
	cr_assert_eq(rc, 0, "pg_ctl start failed %d times", tries);
	p->url = tu_fmt("postgresql://jitca@127.0.0.1:%d/postgres", p->port);
}

int
tpg_psql_try(const char *url, const char *sql, char **out, char **err)
{
	char *cmd, *f;
	int rc;

	f = tu_fmt("/tmp/tpg-sql-%d-%p", (int)getpid(), (const void *)&cmd);
	tu_write_file(f, sql, strlen(sql), 0644);
	cmd = tu_fmt("%s/psql -X -q -t -A -v ON_ERROR_STOP=1 -d '%s' -f %s",
	    pg_bin(), url, f);
	rc = tu_sh(cmd, out, err);
	(void)unlink(f);
	free(cmd);
	free(f);
	return rc;
}

char *
tpg_psql(const char *url, const char *sql)
{
	char *out = NULL, *err = NULL;
	int rc = tpg_psql_try(url, sql, &out, &err);

	cr_assert_eq(rc, 0, "psql %s: %s", sql, err != NULL ? err : "");
	free(err);
	return out;
}

char *
tpg_newdb(struct tpg *p, const char *name)
{
	char *sql = tu_fmt("CREATE DATABASE %s;", name);

	free(tpg_psql(p->url, sql));
	free(sql);
	return tu_fmt("postgresql://jitca@127.0.0.1:%d/%s", p->port, name);
}

void
tpg_server_stop(struct tpg *p)
{
	char *cmd =
	    tu_fmt("%s/pg_ctl -D %s/data -w -s -m fast stop", pg_bin(), p->dir);

	cr_assert_eq(as_pg(cmd, NULL, NULL), 0);
	free(cmd);
}

void
tpg_server_crash(struct tpg *p)
{
	char *cmd = tu_fmt(
	    "%s/pg_ctl -D %s/data -w -s -m immediate stop", pg_bin(), p->dir);

	cr_assert_eq(as_pg(cmd, NULL, NULL), 0);
	free(cmd);
}

void
tpg_server_start(struct tpg *p)
{
	int rc, tries;

	for (tries = 0; tries < 20; tries++) {
		if ((rc = try_start(p)) == 0)
			return;
		usleep(200 * 1000);
	}
	cr_assert_fail("pg_ctl start on port %d failed", p->port);
}

void
tpg_stop(struct tpg *p)
{
	char *cmd;

	if (p->dir == NULL)
		return;
	cmd = tu_fmt(
	    "%s/pg_ctl -D %s/data -w -s -m immediate stop", pg_bin(), p->dir);
	(void)as_pg(cmd, NULL, NULL);
	free(cmd);
	tu_rmtree(p->dir);
	free(p->dir);
	free(p->url);
	memset(p, 0, sizeof(*p));
}
