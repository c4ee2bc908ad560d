/*
 * test_replicas.c: three `jitcad serve` replicas on one PostgreSQL
 * database (tests/lib/pg.c starts a real server): a request made through
 * one replica is approved through another and seen by the third; the
 * same request approved through two replicas at once, 50 times, gives
 * exactly one certificate each time; a revocation is in the KRL that the
 * other replicas serve within 2 s, the same bytes with the same ETag;
 * with the database stopped the replicas answer 503 with Retry-After and
 * /v1/health says why, and they recover by themselves when it is back;
 * kill -9 of one replica under load, ten times: every certificate a
 * client received has its rows, no serial twice, the chain verifies and
 * the other replicas kept answering; PostgreSQL crashed and restarted
 * under load: only 503s while it is down, no 2xx without its rows, and
 * every replica issues again by itself; jitcad ledger migrate copies a
 * sqlite ledger into PostgreSQL, which then serves the same KRL bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/jitcad.h"
#include "tests/lib/pg.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

#define NREP 3

static struct tpg srv;
static char *dir, *url, *state[NREP], *base[NREP];
static pid_t pid[NREP] = {-1, -1, -1};

static void
setup(void)
{
	dir = tu_tmpdir();
	tpg_start(&srv);
	url = tpg_newdb(&srv, "jitca");
}

static void
teardown(void)
{
	int i;

	for (i = 0; i < NREP; i++) {
		tu_stop(&pid[i]);
		free(state[i]);
		free(base[i]);
	}
	tpg_stop(&srv);
	tu_rmtree(dir);
	free(dir);
	free(url);
	tu_keep_free();
}

TestSuite(replicas, .init = setup, .fini = teardown, .timeout = 300);

/* curl: "STATUS RETRY-AFTER|BODY" (new); the body is saved in file. */
static char *
http(int rep, const char *method, const char *path, const char *tok,
    const char *body, const char *file)
{
	char *auth = tok != NULL ? tu_fmt("-H 'Authorization: Bearer %s'", tok)
				 : strdup("");
	char *data = body != NULL ? tu_fmt("-H 'Content-Type: application/json'"
					   " --data-binary '%s'",
					body)
				  : strdup("");
	char *o = file != NULL ? strdup(file) : tu_fmt("%s/out%d", dir, rep);
	char *cmd, *out = NULL, *res;

	cmd = tu_fmt("curl -sS -o '%s' -w '%%{http_code} "
		     "%%header{retry-after}' -X %s %s %s '%s%s'",
	    o, method, auth, data, base[rep], path);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0, "%s", cmd);
	res = tu_read_file(o, NULL);
	cr_assert_not_null(res);
	free(cmd);
	cmd = tu_fmt("%s|%s", out, res);
	free(res);
	free(out);
	free(o);
	free(data);
	free(auth);
	return cmd;
}

static long
json_id(const char *r)
{
	const char *p = strstr(r, "\"id\":");

	cr_assert_not_null(p, "%s", r);
	return strtol(p + 5, NULL, 10);
}

static char *
krl_etag(int rep)
{
	char *cmd = tu_fmt("curl -sS -D - -o '%s/krl%d' '%s/v1/krl' | tr -d "
			   "'\\r' | sed -n 's/^[Ee][Tt]ag: //p'",
	    dir, rep, base[rep]);
	char *out = NULL;

	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	out[strcspn(out, "\n")] = '\0';
	free(cmd);
	return out;
}

static void
start_replicas(void)
{
	char *cmd, *log;
	int i;

	for (i = 0; i < NREP; i++) {
		state[i] = tu_fmt("%s/state%d", dir, i);
		if (i > 0) {
			cmd = tu_fmt("cp -a '%s' '%s'", state[0], state[i]);
			free(tu_sh_ok(cmd));
			free(cmd);
		}
	}
	for (i = 0; i < NREP; i++) {
		log = tu_fmt("%s/serve%d.log", dir, i);
		base[i] = tu_serve_start(state[i], log, NULL, NULL, &pid[i]);
		free(log);
	}
}

/* jitcad init --ledger URL in state0, the request limit off (the load
 * below is one user's), alice (and bob) added; their tokens (new). */
static void
init_ledger(char **alice, char **bob)
{
	char *cmd, *cfg, *text, *with;

	cmd = tu_fmt("init --ledger '%s'", url);
	state[0] = tu_fmt("%s/state0", dir);
	free(tu_jitcad_ok(state[0], cmd));
	free(cmd);
	cfg = tu_fmt("%s/jitca.json", state[0]);
	text = tu_read_file(cfg, NULL);
	cr_assert(text != NULL && text[0] == '{');
	with = tu_fmt("{\"limits\": {\"requests_per_minute\": 0},%s", text + 1);
	tu_write_file(cfg, with, strlen(with), 0644);
	free(with);
	free(text);
	free(cfg);
	*alice = tu_jitcad_ok(state[0], "user add alice --group engineering");
	if (bob != NULL)
		*bob = tu_jitcad_ok(state[0], "user add bob --group sre-leads");
	free(state[0]);
	state[0] = NULL;
}

Test(replicas, three_replicas_one_ledger)
{
	char *cmd, *alice, *bob, *key, *body, *r, *e[NREP], *pre;
	char *r1, *r2;
	long id, t0;
	int i, round, wins, seen;

	init_ledger(&alice, &bob);
	/* The schema is in the database, not in a file. */
	cmd = tu_fmt("%s/state0/ledger.db", dir);
	cr_assert_neq(access(cmd, F_OK), 0);
	free(cmd);
	start_replicas();

	key = tu_fmt("%s/id", dir);
	body = tu_keygen("ed25519", key);
	cmd = tu_fmt("{\"role\": \"prod-debug\", \"ttl\": \"10m\", \"reason\": "
		     "\"INC-9 replicas\", \"public_key\": \"%s\"}",
	    body);
	free(body);
	body = cmd;

	/* Made through A, approved through B, issued as C sees it. */
	r = http(0, "POST", "/v1/requests", alice, body, NULL);
	cr_assert(strncmp(r, "20", 2) == 0, "%s", r);
	id = json_id(r);
	free(r);
	cmd = tu_fmt("/v1/requests/%ld/approve", id);
	r = http(1, "POST", cmd, bob, "{}", NULL);
	free(cmd);
	cr_assert(strncmp(r, "200", 3) == 0, "%s", r);
	cr_assert_not_null(strstr(r, "ssh-ed25519-cert-v01@openssh.com"));
	free(r);
	cmd = tu_fmt("/v1/requests/%ld", id);
	r = http(2, "GET", cmd, alice, NULL, NULL);
	free(cmd);
	cr_assert(strncmp(r, "200", 3) == 0, "%s", r);
	cr_assert_not_null(strstr(r, "\"state\":\"issued\""), "%s", r);
	free(r);

	/* The same request approved through B and C at once. */
	for (round = 0; round < 50; round++) {
		r = http(
		    round % NREP, "POST", "/v1/requests", alice, body, NULL);
		id = json_id(r);
		free(r);
		cmd = tu_fmt("for i in 1 2; do curl -sS -o /dev/null -w "
			     "'%%{http_code}\\n' -X POST -H 'Authorization: "
			     "Bearer %s' -H 'Content-Type: application/json' "
			     "--data-binary '{}' "
			     "\"$(if [ $i = 1 ]; then echo %s; else echo %s; "
			     "fi)/v1/requests/%ld/approve\" & done; wait",
		    bob, base[1], base[2], id);
		r = NULL;
		cr_assert_eq(tu_sh(cmd, &r, NULL), 0);
		free(cmd);
		wins = 0;
		for (r1 = r; (r2 = strstr(r1, "200")) != NULL; r1 = r2 + 3)
			wins++;
		cr_assert_eq(wins, 1, "round %d: %s", round, r);
		free(r);
	}
	/* A racer that loses may have signed ahead: its serial is a gap
	 * (at most one per round). */
	r = tpg_psql(url,
	    "SELECT count(*), count(DISTINCT serial), min(serial),"
	    " max(serial) BETWEEN 51 AND 101 FROM certificates;");
	cr_assert_str_eq(r, "51|51|1|t\n");
	free(r);
	r = tpg_psql(url,
	    "SELECT count(*) FROM requests WHERE state ="
	    " 'issued' AND serial IS NOT NULL;");
	cr_assert_str_eq(r, "51\n");
	free(r);

	/* A revocation through A: in B's and C's KRL within 2 s, the
	 * same bytes, the same ETag. */
	for (i = 0; i < NREP; i++)
		e[i] = krl_etag(i);
	cr_assert_str_eq(e[0], e[1]);
	cr_assert_str_eq(e[1], e[2]);
	pre = e[0];
	free(e[1]);
	free(e[2]);
	r = http(0, "POST", "/v1/revocations", bob,
	    "{\"serial\": 1, \"reason\": \"laptop lost\"}", NULL);
	if (strncmp(r, "200", 3) != 0) {
		/* Not an approver's right: the admin command, on A's
		 * state directory, goes to the same database. */
		free(tu_jitcad_ok(
		    state[0], "revoke --serial 1 --reason 'laptop lost'"));
	}
	free(r);
	t0 = tu_now_ms();
	for (;;) {
		for (i = 0, seen = 0; i < NREP; i++) {
			e[i] = krl_etag(i);
			seen += strcmp(e[i], pre) != 0;
		}
		if (seen == NREP)
			break;
		for (i = 0; i < NREP; i++)
			free(e[i]);
		cr_assert_lt(tu_now_ms() - t0, 2000,
		    "the revocation did not reach every replica in 2 s");
		tu_sleep_ms(50);
	}
	cr_assert_str_eq(e[0], e[1]);
	cr_assert_str_eq(e[1], e[2]);
	cmd = tu_fmt("cmp '%s/krl0' '%s/krl1' && cmp '%s/krl1' '%s/krl2' && "
		     "ssh-keygen -Q -l -f '%s/krl2' | grep -q 'serial: 1$'",
	    dir, dir, dir, dir, dir);
	free(tu_sh_ok(cmd));
	free(cmd);
	for (i = 0; i < NREP; i++)
		free(e[i]);
	free(pre);

	/* The database stopped: 503 + Retry-After, health says why; back:
	 * every replica recovers without a restart. */
	tpg_server_stop(&srv);
	for (i = 0; i < NREP; i++) {
		r = http(i, "POST", "/v1/requests", alice, body, NULL);
		cr_assert(strncmp(r, "503 ", 4) == 0, "replica %d: %s", i, r);
		cr_assert(r[4] != '|', "no Retry-After: %s", r);
		free(r);
		r = http(i, "GET", "/v1/health", NULL, NULL, NULL);
		cr_assert(strncmp(r, "503", 3) == 0, "%s", r);
		cr_assert_not_null(strstr(r, "ledger_unavailable"), "%s", r);
		free(r);
	}
	tpg_server_start(&srv);
	for (i = 0; i < NREP; i++) {
		r = http(i, "POST", "/v1/requests", alice, body, NULL);
		cr_assert(strncmp(r, "20", 2) == 0, "replica %d: %s", i, r);
		free(r);
		r = http(i, "GET", "/v1/health", NULL, NULL, NULL);
		cr_assert(strncmp(r, "200", 3) == 0, "%s", r);
		free(r);
	}
	free(tu_jitcad_ok(state[1], "ledger verify"));
	free(alice);
	free(bob);
	free(body);
	free(key);
}

/* Start replica i again on its state directory; its URL into urlI. */
static void
restart(int i)
{
	char *log = tu_fmt("%s/serve%d-again.log", dir, i), *f;

	free(base[i]);
	(void)unlink(log);
	base[i] = tu_serve_start(state[i], log, NULL, NULL, &pid[i]);
	f = tu_fmt("%s/url%d", dir, i);
	tu_write_file(f, base[i], strlen(base[i]), 0644);
	free(f);
	free(log);
}

/* What the load client saw: per replica the 2xx, 503 and other answers
 * (a refused connection is "other"), the serials of every 2xx, the
 * first answer that was neither and the last answer of each replica. */
enum { ANS_OTHER, ANS_OK, ANS_503 };
struct load {
	pid_t pid;
	int codes[NREP][3];
	int last[NREP];
	long got[8192];
	int ngot;
	char *odd;
};

/* The client: round robin over the replicas (their URLs re-read from
 * urlN each time, a restarted one has a new port) until STOP, one line
 * per answer: replica, body, HTTPstatus. */
static void
load_start(struct load *ld, const char *tok, const char *pubk)
{
	char *argv[] = {"/bin/sh", NULL, NULL};
	char *cmd, *f;
	int i;

	memset(ld, 0, sizeof(*ld));
	for (i = 0; i < NREP; i++) {
		f = tu_fmt("%s/url%d", dir, i);
		tu_write_file(f, base[i], strlen(base[i]), 0644);
		free(f);
	}
	cmd = tu_fmt("cd '%s' && while [ ! -f STOP ]; do for r in 0 1 2; do "
		     "b=$(cat url$r); o=$(curl -sS -m 10 -X POST -H "
		     "'Authorization: Bearer %s' -H 'Content-Type: "
		     "application/json' --data-binary '{\"role\": "
		     "\"staging\", \"ttl\": \"10m\", \"reason\": \"load\", "
		     "\"public_key\": \"%s\"}' -w ' HTTP%%{http_code}' "
		     "\"$b/v1/requests\" 2>/dev/null); echo \"$r $o\" | tr "
		     "-d '\\n'; echo; done; done > load.txt",
	    dir, tok, pubk);
	tu_write_file(
	    tu_keep(tu_fmt("%s/load.sh", dir)), cmd, strlen(cmd), 0755);
	free(cmd);
	argv[1] = tu_keep(tu_fmt("%s/load.sh", dir));
	ld->pid = tu_spawn(argv, NULL, NULL);
}

static void
load_stop(struct load *ld)
{
	char *line, *next, *out, *f = tu_fmt("%s/STOP", dir);
	const char *h, *sp;
	int rep, code, a;

	tu_write_file(f, "", 0, 0644);
	free(f);
	(void)tu_wait_exit(&ld->pid);
	(void)unlink(tu_keep(tu_fmt("%s/STOP", dir)));
	out = tu_read_file(tu_keep(tu_fmt("%s/load.txt", dir)), NULL);
	cr_assert_not_null(out);
	for (line = out; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		rep = line[0] - '0';
		cr_assert(rep >= 0 && rep < NREP, "%s", line);
		h = strstr(line, " HTTP");
		code = h != NULL ? atoi(h + 5) : 0;
		a = code >= 200 && code < 300 ? ANS_OK
		    : code == 503	      ? ANS_503
					      : ANS_OTHER;
		ld->codes[rep][a]++;
		ld->last[rep] = a;
		if (a == ANS_503)
			cr_assert_not_null(strstr(line, "ledger_unavailable"),
			    "a 503 for another reason: %s", line);
		if (a == ANS_OTHER && rep != 0 && ld->odd == NULL)
			ld->odd = tu_keep(strdup(line));
		if (a != ANS_OK)
			continue;
		sp = strstr(line, "\"serial\":");
		cr_assert_not_null(sp, "a 2xx without a serial: %s", line);
		cr_assert(ld->ngot < 8192);
		ld->got[ld->ngot++] = strtol(sp + 9, NULL, 10);
	}
	free(out);
}

/* Every certificate a client received has its certificate row, its
 * issued request and its cert.issued event; no serial twice (in the
 * answers or in the table); the chain and the state verify. */
static void
load_check_rows(const struct load *ld)
{
	char *sql, *rows;
	int i, k;

	for (i = 0; i < ld->ngot; i++)
		for (k = i + 1; k < ld->ngot; k++)
			cr_assert_neq(ld->got[i], ld->got[k],
			    "serial %ld twice", ld->got[i]);
	for (i = 0; i < ld->ngot; i++) {
		sql = tu_fmt("SELECT (SELECT count(*) FROM certificates c JOIN "
			     "requests r ON r.serial = c.serial WHERE c.serial "
			     "= %ld AND r.state = 'issued'), (SELECT count(*) "
			     "FROM events WHERE type = 'cert.issued' AND "
			     "subject = 'cert:%ld');",
		    ld->got[i], ld->got[i]);
		rows = tpg_psql(url, sql);
		cr_assert_str_eq(rows, "1|1\n", "serial %ld", ld->got[i]);
		free(rows);
		free(sql);
	}
	rows = tpg_psql(url,
	    "SELECT count(*) = count(DISTINCT serial) FROM"
	    " certificates;");
	cr_assert_str_eq(rows, "t\n");
	free(rows);
	free(tu_jitcad_ok(state[1], "ledger verify"));
}

/* A new key pair at DIR/id; its public key line (kept). */
static char *
new_pubkey(void)
{
	return tu_keep(tu_keygen("ed25519", tu_keep(tu_fmt("%s/id", dir))));
}

#define KILL_CYCLES 10

Test(replicas, kill_9_under_load)
{
	struct load ld;
	char *alice;
	int k;

	init_ledger(&alice, NULL);
	start_replicas();
	load_start(&ld, alice, new_pubkey());
	for (k = 0; k < KILL_CYCLES; k++) {
		tu_sleep_ms(700);
		cr_assert_eq(kill(pid[0], SIGKILL), 0);
		(void)tu_wait_exit(&pid[0]);
		pid[0] = -1;
		restart(0);
	}
	tu_sleep_ms(1000);
	load_stop(&ld);
	fprintf(stderr,
	    "kill_9_under_load: %d kill -9 cycles, %d certificates "
	    "received; replica 0 %d ok / %d failed, replicas 1+2 %d ok / %d "
	    "failed\n",
	    KILL_CYCLES, ld.ngot, ld.codes[0][ANS_OK],
	    ld.codes[0][ANS_OTHER] + ld.codes[0][ANS_503],
	    ld.codes[1][ANS_OK] + ld.codes[2][ANS_OK],
	    ld.codes[1][ANS_OTHER] + ld.codes[1][ANS_503] +
		ld.codes[2][ANS_OTHER] + ld.codes[2][ANS_503]);
	cr_assert_gt(ld.ngot, 10);
	/* The other replicas kept answering, every time with a certificate. */
	for (k = 1; k < NREP; k++) {
		cr_assert_eq(ld.codes[k][ANS_OTHER] + ld.codes[k][ANS_503], 0,
		    "replica %d: %s", k, ld.odd);
		cr_assert_gt(ld.codes[k][ANS_OK], 0);
	}
	load_check_rows(&ld);
	free(alice);
}

/* PostgreSQL itself crashes (immediate stop) under load and comes back:
 * 503 + ledger_unavailable meanwhile, never another answer, no 2xx
 * without its rows, and every replica issues again without a restart. */
Test(replicas, postgres_restart_under_load)
{
	struct load ld;
	char *alice, *r;
	int k, n503 = 0;

	init_ledger(&alice, NULL);
	start_replicas();
	load_start(&ld, alice, new_pubkey());
	tu_sleep_ms(1500);
	tpg_server_crash(&srv);
	tu_sleep_ms(1500);
	tpg_server_start(&srv);
	tu_sleep_ms(2500);
	load_stop(&ld);
	for (k = 0; k < NREP; k++) {
		n503 += ld.codes[k][ANS_503];
		cr_assert_eq(
		    ld.codes[k][ANS_OTHER], 0, "replica %d: %s", k, ld.odd);
		cr_assert_eq(ld.last[k], ANS_OK,
		    "replica %d did not recover by itself", k);
		r = http(k, "GET", "/v1/health", NULL, NULL, NULL);
		cr_assert(strncmp(r, "200", 3) == 0, "%s", r);
		free(r);
	}
	fprintf(stderr,
	    "postgres_restart_under_load: %d certificates received, %d "
	    "answers 503 while the database was down\n",
	    ld.ngot, n503);
	cr_assert_gt(n503, 0);
	cr_assert_gt(ld.ngot, 10);
	load_check_rows(&ld);
	free(alice);
}

/*
 * jitcad ledger migrate: a sqlite ledger with every kind of event
 * (users, a direct issue, a revocation, a host enrolled, a checkpoint)
 * copied into PostgreSQL and verified there; a second migrate into it
 * is refused; served from PostgreSQL, the KRL has the same bytes, the
 * next serial follows the copied ones, and the other admin commands
 * work against the database.
 */
Test(replicas, migrate_sqlite_to_postgres)
{
	char *cmd, *out, *err = NULL, *krl_path, *krl, *cfg, *text, *r;
	char *key = tu_keep(tu_fmt("%s/id", dir)), *log, *at;
	size_t krl_len, served_len;
	int rc;

	state[0] = tu_fmt("%s/state0", dir);
	free(tu_jitcad_ok(state[0], "init"));
	free(tu_jitcad_ok(state[0], "user add alice --group engineering"));
	cr_assert_not_null(new_pubkey()); /* at key */
	cmd = tu_fmt("issue --user alice --role staging --public-key "
		     "'%s.pub' --reason migrate",
	    key);
	free(tu_jitcad_ok(state[0], cmd));
	free(tu_jitcad_ok(state[0], cmd));
	free(cmd);
	free(tu_jitcad_ok(state[0], "revoke --serial 1 --reason lost"));
	free(tu_jitcad_ok(
	    state[0], "host add web-1 --principal web-1.example.com"));
	free(tu_jitcad_ok(state[0], "ledger checkpoint"));
	krl_path = tu_jitcad_ok(state[0], "krl");
	krl = tu_read_file(krl_path, &krl_len);
	cr_assert_not_null(krl);

	cmd = tu_fmt("ledger migrate --to '%s'", url);
	out = tu_jitcad_ok(state[0], cmd);
	cr_assert(strncmp(out, "ok: ", 4) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "verified there"), "%s", out);
	free(out);
	/* Into a ledger that has rows: refused, saying why. */
	out = NULL;
	rc = tu_jitcad(state[0], cmd, &out, &err);
	cr_assert_eq(rc, 1, "%s", err);
	cr_assert_not_null(
	    strstr(err, "the target ledger is not empty"), "%s", err);
	free(out);
	free(err);
	free(cmd);
	r = tpg_psql(url,
	    "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM"
	    " certificates WHERE revoked IS NOT NULL), (SELECT count(*) FROM"
	    " hosts), (SELECT count(*) FROM checkpoints), (SELECT count(*)"
	    " FROM merkle_nodes WHERE level = 0);");
	out = tu_fmt("%s", r);
	free(r);
	cr_assert(strncmp(out, "0|", 2) != 0, "%s", out);
	cr_assert_not_null(strstr(out, "|1|1|"), "%s", out);
	free(out);

	/* Served from PostgreSQL: the same KRL bytes. */
	cfg = tu_fmt("%s/jitca.json", state[0]);
	text = tu_read_file(cfg, NULL);
	at = strstr(text, "\"url\": \"ledger.db\"");
	cr_assert_not_null(at, "%s", text);
	out = tu_fmt("%.*s\"url\": \"%s\"%s", (int)(at - text), text, url,
	    at + strlen("\"url\": \"ledger.db\""));
	tu_write_file(cfg, out, strlen(out), 0644);
	free(out);
	free(text);
	free(cfg);
	cr_assert_eq(rename(tu_keep(tu_fmt("%s/ledger.db", state[0])),
			 tu_keep(tu_fmt("%s/ledger.db.old", state[0]))),
	    0);
	free(tu_jitcad_ok(state[0], "ledger verify"));
	log = tu_fmt("%s/serve-migrated.log", dir);
	base[0] = tu_serve_start(state[0], log, NULL, NULL, &pid[0]);
	free(log);
	cmd = tu_fmt("curl -sS -o '%s/served.krl' '%s/v1/krl'", dir, base[0]);
	free(tu_sh_ok(cmd));
	free(cmd);
	r = tu_read_file(tu_keep(tu_fmt("%s/served.krl", dir)), &served_len);
	cr_assert_not_null(r);
	cr_assert_eq(served_len, krl_len);
	cr_assert_eq(memcmp(r, krl, krl_len), 0, "the KRL bytes differ");
	free(r);
	/* The next certificate follows the copied serials. */
	cmd = tu_fmt("issue --user alice --role staging --public-key "
		     "'%s.pub' --reason after --json",
	    key);
	out = tu_jitcad_ok(state[0], cmd);
	cr_assert_not_null(strstr(out, "\"serial\":3"), "%s", out);
	free(out);
	free(cmd);
	/* The other admin commands against the database. */
	{
		static const char *const cmds[] = {"user list", "host list",
		    "host add web-2 --principal web-2.example.com",
		    "user add carol --group sre-leads", "user disable carol",
		    "ledger export", "ledger report", "ledger checkpoint",
		    "ledger prove --serial 2", "ledger break-glass",
		    "revoke --serial 3 --reason done", "krl", "ledger verify"};
		size_t i;

		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			free(tu_jitcad_ok(state[0], cmds[i]));
	}
	r = tpg_psql(url,
	    "SELECT (SELECT count(*) FROM hosts), (SELECT count(*) FROM"
	    " certificates WHERE revoked IS NOT NULL);");
	cr_assert_str_eq(r, "2|2\n");
	free(r);
	free(krl);
	free(krl_path);
}
