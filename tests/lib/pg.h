/*
 * pg.h: a real PostgreSQL server for a test (tests/lib/pg.c): initdb
 * into a new temporary directory as the unprivileged user nobody,
 * listening on 127.0.0.1 at a random free port (another one when the
 * start fails) with its unix socket in the same directory, stopped and
 * removed at the end.  The binaries come from /usr/lib/postgresql/15/bin
 * (JITCA_PG_BIN overrides it).
 */
#ifndef JITCA_TESTS_PG_H
#define JITCA_TESTS_PG_H

struct tpg {
	char *dir; /* data directory, socket and log below it */
	int port;
	char *url; /* postgresql://jitca@127.0.0.1:PORT/postgres */
};

/* Start a new server (fails the test when it cannot). */
void tpg_start(struct tpg *p);
/* A new empty database on it; its URL (free()). */
char *tpg_newdb(struct tpg *p, const char *name);
/* Stop the server ("fast") and start it again on the same port. */
void tpg_server_stop(struct tpg *p);
void tpg_server_start(struct tpg *p);
/* Stop it "immediate" (a crash: recovery from the WAL at the start). */
void tpg_server_crash(struct tpg *p);
/* SQL run with psql against the database of url; its stdout. */
char *tpg_psql(const char *url, const char *sql);
/* The same when it may fail: psql's exit status, *out and *err new
 * (either may be NULL). */
int tpg_psql_try(const char *url, const char *sql, char **out, char **err);
/* Stop (immediate) and remove everything. */
void tpg_stop(struct tpg *p);

#endif /* JITCA_TESTS_PG_H */
