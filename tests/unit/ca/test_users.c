/*
 * test_users.c: tests of ca/users.c on a real ledger file: adding,
 * listing, rotating, disabling and authenticating users with exact error
 * codes; the token's shape; that only SHA-256(token) is stored and the
 * token text is nowhere in the database files or the events; name rules;
 * signing out of a session (user_session_end).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/sha.h>

#include "ca/ledger.h"
#include "ca/users.h"
#include "tests/lib/testutil.h"
#include "ca_fixture.h"

static char *dir, *dbpath;
static struct ledger *l;
static struct config *cfg; /* the fixture's roles */

static void
setup(void)
{
	fx_sqlite3_required();
	dir = tu_tmpdir();
	dbpath = tu_fmt("%s/ledger.db", dir);
	cr_assert_eq(setenv("JITCA_TEST_NOW", "1700000000", 1), 0);
	cr_assert_eq(ledger_open(&l, dbpath, 1), 0);
	cr_assert_eq(config_parse(&cfg, dir, fx_config_json,
			 strlen(fx_config_json), NULL),
	    0);
}

static void
teardown(void)
{
	ledger_close(l);
	config_free(cfg);
	tu_rmtree(dir);
	free(dir);
	free(dbpath);
}

TestSuite(users, .init = setup, .fini = teardown);

static char *
sq(const char *sql)
{
	return fx_sqlite3(dbpath, sql);
}

static char *
add(const char *name, const char *g1, const char *g2)
{
	char *groups[2] = {(char *)(uintptr_t)g1, (char *)(uintptr_t)g2};
	char *tok = NULL;
	int r = user_add(l, cfg, "cli:root", name, groups, g2 ? 2 : 1, &tok);

	cr_assert_eq(r, 0, "user_add %s: %d", name, r);
	cr_assert_not_null(tok);
	return tok;
}

static void
assert_token_shape(const char *tok)
{
	regex_t re;

	cr_assert_eq(
	    regcomp(&re, "^jitca_[A-Za-z0-9_-]{43}$", REG_EXTENDED | REG_NOSUB),
	    0);
	cr_assert_eq(regexec(&re, tok, 0, NULL, 0), 0, "token %s", tok);
	regfree(&re);
	cr_assert_eq(user_token_format_check(tok), 0);
}

/* Like memmem (a GNU extension): 1 if needle is in hay. */
static int
find_bytes(const char *hay, size_t len, const char *needle, size_t nlen)
{
	size_t i;

	for (i = 0; nlen <= len && i <= len - nlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return 1;
	return 0;
}

static char *
sha256_hex(const char *s)
{
	unsigned char md[32];
	char *hex = malloc(65);
	int i;

	cr_assert_not_null(hex);
	SHA256((const unsigned char *)s, strlen(s), md);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02X", md[i]);
	return hex;
}

Test(users, add_and_authenticate)
{
	char *tok = add("alice", "eng", "sre-leads"), *tok2;
	struct user *u = NULL;

	assert_token_shape(tok);
	cr_assert_eq(user_authenticate(l, tok, &u), 0);
	cr_assert_str_eq(u->name, "alice");
	cr_assert_eq(u->ngroups, 2);
	cr_assert_str_eq(u->groups[0], "eng");
	cr_assert_str_eq(u->groups[1], "sre-leads");
	cr_assert_eq(u->disabled, 0);
	cr_assert_eq(u->created, 1700000000);
	cr_assert_eq(u->token_created, 1700000000);
	cr_assert(user_in_group(u, "eng"));
	cr_assert(!user_in_group(u, "ops"));
	user_free(u);
	u = NULL;
	/* Two users have different tokens. */
	tok2 = add("bob", "eng", NULL);
	assert_token_shape(tok2);
	cr_assert_str_neq(tok, tok2);
	cr_assert_eq(user_authenticate(l, tok2, &u), 0);
	cr_assert_str_eq(u->name, "bob");
	user_free(u);
	user_token_free(tok);
	user_token_free(tok2);
}

Test(users, add_errors)
{
	char *g[33], *tok = (char *)1;
	int i;

	free(add("alice", "eng", NULL));
	for (i = 0; i < 33; i++)
		g[i] = tu_fmt("g%d", i);
	cr_assert_eq(
	    user_add(l, cfg, "cli:root", "alice", g, 1, &tok), ERR_EXISTS);
	cr_assert_null(tok);
	cr_assert_eq(
	    user_add(l, cfg, "cli:root", "carol", g, 0, &tok), ERR_INVALID_ARG);
	cr_assert_eq(user_add(l, cfg, "cli:root", "carol", g, 33, &tok),
	    ERR_INVALID_ARG);
	cr_assert_eq(
	    user_add(l, cfg, "", "carol", g, 1, &tok), ERR_INVALID_ARG);
	cr_assert_eq(user_add(l, cfg, "cli:root", "carol", g, 32, &tok), 0);
	user_token_free(tok);
	/* Duplicate groups are dropped. */
	free(g[1]);
	g[1] = g[0];
	cr_assert_eq(user_add(l, cfg, "cli:root", "dave", g, 2, &tok), 0);
	user_token_free(tok);
	{
		struct user *u = NULL;

		cr_assert_eq(user_get(l, "dave", &u), 0);
		cr_assert_eq(u->ngroups, 1);
		cr_assert_str_eq(u->groups[0], "g0");
		user_free(u);
	}
	/* Nothing half-written by the failures: 3 users, 6 events. */
	{
		char *out = sq("SELECT count(*) FROM users; SELECT count(*) "
			       "FROM events;");

		cr_assert_str_eq(out, "3\n6\n");
		free(out);
	}
	for (i = 0; i < 33; i++)
		if (i != 1)
			free(g[i]);
}

Test(users, bad_names)
{
	static const char *bad[] = {"", "*", "a b", "a,b", "-x", ".x", "a?",
	    "a\tb", "a\nb", "\xc3\xa9t\xc3\xa9", "a/b", "a:b",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    NULL};
	char *good[] = {"eng"}, *badg[1], *tok = NULL;
	struct user *u = NULL;
	size_t i;

	cr_assert_eq(strlen(bad[12]), 65);
	for (i = 0; bad[i] != NULL; i++) {
		cr_assert_eq(
		    user_add(l, cfg, "cli:root", bad[i], good, 1, &tok),
		    ERR_BAD_NAME, "user name \"%s\"", bad[i]);
		cr_assert_null(tok);
		badg[0] = (char *)(uintptr_t)bad[i];
		cr_assert_eq(
		    user_add(l, cfg, "cli:root", "alice", badg, 1, &tok),
		    ERR_BAD_NAME, "group name \"%s\"", bad[i]);
		cr_assert_eq(user_get(l, bad[i], &u), ERR_BAD_NAME);
		cr_assert_eq(user_disable(l, "cli:root", bad[i]), ERR_BAD_NAME);
		cr_assert_eq(user_token_rotate(l, "cli:root", bad[i], &tok),
		    ERR_BAD_NAME);
	}
	cr_assert_eq(
	    user_add(l, cfg, "cli:root", NULL, good, 1, &tok), ERR_BAD_NAME);
	/* 64 characters and the full alphabet are fine. */
	tok =
	    add("a234567890123456789012345678901234567890123456789012345678901"
		"234",
		"eng", NULL);
	user_token_free(tok);
	tok = add("_A.z@0-9", "x.y@z", NULL);
	user_token_free(tok);
}

Test(users, rotate)
{
	char *tok = add("alice", "eng", NULL), *tok2 = NULL;
	struct user *u = NULL;

	cr_assert_eq(setenv("JITCA_TEST_NOW", "1700000500", 1), 0);
	cr_assert_eq(user_token_rotate(l, "alice", "alice", &tok2), 0);
	assert_token_shape(tok2);
	cr_assert_str_neq(tok, tok2);
	cr_assert_eq(user_authenticate(l, tok, &u), ERR_BAD_TOKEN);
	cr_assert_null(u);
	cr_assert_eq(user_authenticate(l, tok2, &u), 0);
	cr_assert_eq(u->token_created, 1700000500);
	cr_assert_eq(u->created, 1700000000);
	user_free(u);
	{
		char *t3 = (char *)1;

		cr_assert_eq(user_token_rotate(l, "cli:root", "nobody", &t3),
		    ERR_NOT_FOUND);
		cr_assert_null(t3);
	}
	user_token_free(tok);
	user_token_free(tok2);
}

Test(users, disable)
{
	char *tok = add("alice", "eng", NULL), *tok2 = NULL;
	struct user *u = NULL;

	cr_assert_eq(user_disable(l, "cli:root", "alice"), 0);
	cr_assert_eq(user_authenticate(l, tok, &u), ERR_USER_DISABLED);
	cr_assert_null(u);
	cr_assert_eq(user_disable(l, "cli:root", "alice"), ERR_USER_DISABLED);
	cr_assert_eq(user_token_rotate(l, "cli:root", "alice", &tok2),
	    ERR_USER_DISABLED);
	cr_assert_null(tok2);
	cr_assert_eq(user_disable(l, "cli:root", "nobody"), ERR_NOT_FOUND);
	cr_assert_eq(user_get(l, "alice", &u), 0);
	cr_assert_eq(u->disabled, 1);
	user_free(u);
	cr_assert_eq(user_get(l, "nobody", &u), ERR_NOT_FOUND);
	cr_assert_null(u);
	user_token_free(tok);
}

Test(users, authenticate_token_format)
{
	char *tok = add("alice", "eng", NULL), *t;
	struct user *u = NULL;
	size_t i;
	static const char *bad[] = {
	    "",
	    "jitca_",
	    "Jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "jitca-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/",
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
	    "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA AAAAAAAAAA",
	    NULL,
	};

	for (i = 0; bad[i] != NULL; i++) {
		cr_assert_eq(user_token_format_check(bad[i]), ERR_BAD_TOKEN,
		    "\"%s\"", bad[i]);
		cr_assert_eq(user_authenticate(l, bad[i], &u), ERR_BAD_TOKEN,
		    "\"%s\"", bad[i]);
		cr_assert_null(u);
	}
	cr_assert_eq(user_authenticate(l, NULL, &u), ERR_BAD_TOKEN);
	/* Well-formed but unknown. */
	cr_assert_eq(user_token_format_check(
			 "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"),
	    0);
	cr_assert_eq(
	    user_authenticate(
		l, "jitca_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE", &u),
	    ERR_BAD_TOKEN);
	/* One character changed. */
	t = strdup(tok);
	t[10] = t[10] == 'A' ? 'B' : 'A';
	cr_assert_eq(user_authenticate(l, t, &u), ERR_BAD_TOKEN);
	/* Trailing data. */
	free(t);
	t = tu_fmt("%s\n", tok);
	cr_assert_eq(user_authenticate(l, t, &u), ERR_BAD_TOKEN);
	free(t);
	cr_assert_eq(user_authenticate(l, tok, &u), 0);
	user_free(u);
	user_token_free(tok);
}

Test(users, only_the_hash_is_stored)
{
	char *tok = add("alice", "eng", NULL), *tok2 = NULL;
	char *hex, *out, *want, *files[3], *ev;
	struct ledger *l2 = NULL;
	size_t i, len;
	json_t *events = NULL;

	cr_assert_eq(user_token_rotate(l, "cli:root", "alice", &tok2), 0);
	hex = sha256_hex(tok2);
	out = sq("SELECT typeof(token_hash), hex(token_hash) FROM users;");
	want = tu_fmt("blob|%s\n", hex);
	cr_assert_str_eq(out, want);
	free(out);
	free(want);
	/* Events: user.added, token.issued x2 with token ids; no tokens. */
	out = sq("SELECT type, actor, subject, details FROM events ORDER BY "
		 "seq;");
	{
		char *h1 = sha256_hex(tok), id1[65], id2[65];

		/* token_id: the first 8 hex digits; token_sha256: all. */
		for (i = 0; i < 64; i++) {
			id1[i] = (char)(h1[i] >= 'A' ? h1[i] + 32 : h1[i]);
			id2[i] = (char)(hex[i] >= 'A' ? hex[i] + 32 : hex[i]);
		}
		id1[64] = id2[64] = '\0';
		want =
		    tu_fmt("user.added|cli:root|alice|{\"groups\":[\"eng\"]}\n"
			   "token.issued|cli:root|alice|{\"token_id\":\"%.8s\","
			   "\"token_sha256\":\"%s\"}\n"
			   "token.issued|cli:root|alice|{\"rotated\":true,"
			   "\"token_id\":\"%.8s\",\"token_sha256\":\"%s\"}\n",
			id1, id1, id2, id2);
		free(h1);
	}
	cr_assert_str_eq(out, want);
	free(out);
	free(want);
	/* The token text is in none of the files, checkpointed or not. */
	files[0] = tu_fmt("%s", dbpath);
	files[1] = tu_fmt("%s-wal", dbpath);
	files[2] = tu_fmt("%s-shm", dbpath);
	for (i = 0; i < 3; i++) {
		char *data = tu_read_file(files[i], &len);

		if (data == NULL)
			continue;
		cr_assert(!find_bytes(data, len, tok, strlen(tok)));
		cr_assert(!find_bytes(data, len, tok2, strlen(tok2)));
		cr_assert(!find_bytes(data, len, tok + 6, strlen(tok) - 6));
		cr_assert(!find_bytes(data, len, tok2 + 6, strlen(tok2) - 6));
		free(data);
	}
	ledger_close(l);
	l = NULL;
	free(sq("PRAGMA wal_checkpoint(TRUNCATE);"));
	{
		char *data = tu_read_file(dbpath, &len);

		cr_assert_not_null(data);
		cr_assert(len > 0);
		cr_assert(!find_bytes(data, len, tok + 6, strlen(tok) - 6));
		cr_assert(!find_bytes(data, len, tok2 + 6, strlen(tok2) - 6));
		free(data);
	}
	cr_assert_eq(ledger_open(&l2, dbpath, 0), 0);
	cr_assert_eq(ledger_events_json(l2, 0, 100, &events), 0);
	ev = json_dumps(events, JSON_COMPACT);
	cr_assert_null(strstr(ev, tok + 6));
	cr_assert_null(strstr(ev, tok2 + 6));
	cr_assert_eq(json_array_size(events), 3);
	free(ev);
	json_decref(events);
	l = l2;
	for (i = 0; i < 3; i++)
		free(files[i]);
	free(hex);
	user_token_free(tok);
	user_token_free(tok2);
}

Test(users, list)
{
	json_t *a = NULL;
	char *s;

	cr_assert_eq(fx_user_list(l, &a), 0);
	cr_assert_eq(json_array_size(a), 0);
	json_decref(a);
	user_token_free(add("bob", "ops", NULL));
	cr_assert_eq(setenv("JITCA_TEST_NOW", "1700000100", 1), 0);
	user_token_free(add("alice", "eng", "sre"));
	cr_assert_eq(user_disable(l, "cli:root", "bob"), 0);
	cr_assert_eq(fx_user_list(l, &a), 0);
	s = json_dumps(a, JSON_COMPACT);
	cr_assert_str_eq(s,
	    "[{\"name\":\"alice\",\"groups\":[\"eng\",\"sre\"],"
	    "\"disabled\":false,\"created\":1700000100},"
	    "{\"name\":\"bob\",\"groups\":[\"ops\"],\"disabled\":true,"
	    "\"created\":1700000000}]");
	free(s);
	json_decref(a);
}

Test(users, another_connection_sees_new_users)
{
	struct ledger *l2 = NULL;
	struct user *u = NULL;
	char *tok;
	int ch = -1;

	cr_assert_eq(ledger_open(&l2, dbpath, 0), 0);
	tok = add("alice", "eng", NULL);
	cr_assert_eq(ledger_changed(l2, &ch), 0);
	cr_assert_eq(ch, 1);
	cr_assert_eq(user_authenticate(l2, tok, &u), 0);
	cr_assert_str_eq(u->name, "alice");
	user_free(u);
	ledger_close(l2);
	user_token_free(tok);
}

/* A session of amy until now + ttl, as a sign-in makes it. */
static char *
sign_in(uint64_t ttl)
{
	char *g[1] = {"engineering"}, *tok = NULL;
	struct user_sign_in in;

	memset(&in, 0, sizeof(in));
	in.name = "amy";
	in.groups = g;
	in.ngroups = 1;
	in.expires = 1700000000 + ttl;
	in.auth_time = 1700000000;
	in.issuer = "https://idp";
	in.subject = "amy-1";
	cr_assert_eq(user_sign_in(l, cfg, &in, &tok, NULL), 0);
	return tok;
}

/* Signing out: that session ends (one event, its token id), others
 * stay; nothing else is a session to end, and refusing writes nothing. */
Test(users, session_end)
{
	char *s1 = sign_in(600), *s2 = sign_in(600), *s3 = sign_in(10);
	char *st = add("alice", "eng", NULL), *name = NULL, *h, *out, *want;
	char id[USER_TOKEN_ID_LEN + 1];
	struct user *u = NULL;
	int i;

	cr_assert_eq(user_session_end(l, s1, &name, id), 0);
	cr_assert_str_eq(name, "amy");
	h = sha256_hex(s1);
	for (i = 0; i < 8; i++)
		h[i] = (char)(h[i] >= 'A' ? h[i] + 32 : h[i]);
	cr_assert_eq(strncmp(id, h, 8), 0, "%s vs %s", id, h);
	cr_assert_eq(strlen(id), 8);
	free(name);
	cr_assert_eq(user_authenticate(l, s1, &u), ERR_BAD_TOKEN);
	cr_assert_eq(user_authenticate(l, s2, &u), 0);
	cr_assert_eq(u->session, 1);
	user_free(u);
	out = sq("SELECT type, actor, subject, details FROM events WHERE "
		 "type LIKE 'session.%' ORDER BY seq;");
	want = tu_fmt("session.opened|amy|amy|{\"auth_time\":1700000000,"
		      "\"expires\":1700000600,\"token_id\":\"%.8s\"}\n",
	    h);
	cr_assert(strncmp(out, want, strlen(want)) == 0, "%s", out);
	free(want);
	want = tu_fmt("session.closed|amy|amy|{\"token_id\":\"%.8s\"}\n", h);
	cr_assert(strlen(out) > strlen(want) &&
		strcmp(out + strlen(out) - strlen(want), want) == 0,
	    "%s", out);
	free(want);
	free(out);
	free(h);

	/* Refused, nothing written: ended already, a static token, garbage,
	 * an expired session (s3, past its 10 s). */
	out = sq("SELECT count(*) FROM events;");
	cr_assert_eq(user_session_end(l, s1, &name, id), ERR_BAD_TOKEN);
	cr_assert_null(name);
	cr_assert_str_eq(id, "");
	cr_assert_eq(user_session_end(l, st, NULL, NULL), ERR_BAD_TOKEN);
	cr_assert_eq(user_session_end(l, "jitca_x", NULL, NULL), ERR_BAD_TOKEN);
	cr_assert_eq(setenv("JITCA_TEST_NOW", "1700000011", 1), 0);
	cr_assert_eq(user_session_end(l, s3, NULL, NULL), ERR_BAD_TOKEN);
	want = sq("SELECT count(*) FROM events;");
	cr_assert_str_eq(out, want);
	free(want);
	free(out);
	out = sq("SELECT count(*) FROM sessions;");
	cr_assert_str_eq(out, "2\n", "s2 and the expired s3 are left");
	free(out);
	cr_assert_eq(user_authenticate(l, st, &u), 0);
	user_free(u);
	user_token_free(s1);
	user_token_free(s2);
	user_token_free(s3);
	user_token_free(st);
}

Test(users, chain_stays_intact)
{
	char *tok = add("alice", "eng", NULL), *t2 = NULL;
	char err[LEDGER_ERR_LEN];
	int64_t n = 0, bad = 0;

	cr_assert_eq(user_token_rotate(l, "cli:root", "alice", &t2), 0);
	cr_assert_eq(user_disable(l, "cli:root", "alice"), 0);
	cr_assert_eq(ledger_verify(l, &n, &bad, err), 0, "%s", err);
	cr_assert_eq(n, 4);
	user_token_free(tok);
	user_token_free(t2);
}

/* A users row edited with another tool (NULL or invalid name) is a
 * database error, never "out of memory", and never a user. */
Test(users, tampered_row_is_a_db_error)
{
	json_t *a = (json_t *)1;
	struct user *u = (struct user *)1;
	char *tok = add("alice", "eng", NULL);

	free(sq("INSERT INTO users(name, groups, disabled, created)"
		" VALUES(NULL, '[\"eng\"]', 0, 1)"));
	cr_assert_eq(fx_user_list(l, &a), ERR_DB);
	cr_assert_null(a);
	free(sq("DROP TRIGGER users_no_delete;"
		"DELETE FROM users WHERE name IS NULL"));
	free(sq("UPDATE users SET name = 'al ice' WHERE name = 'alice'"));
	cr_assert_eq(fx_user_list(l, &a), ERR_DB);
	cr_assert_null(a);
	cr_assert_eq(user_authenticate(l, tok, &u), ERR_DB);
	cr_assert_null(u);
	user_token_free(tok);
}

/* Issue 10 item 2: a user name that is a literal principal of a role is
 * refused, and nothing is written. */
Test(users, name_is_literal_principal_refused)
{
	char *g[1] = {"engineering"}, *tok = (char *)1, *out;

	/* The fixture's prod-debug has "debug", db-admin has "dba". */
	cr_assert_eq(user_add(l, cfg, "cli:root", "debug", g, 1, &tok),
	    ERR_NAME_IS_PRINCIPAL);
	cr_assert_null(tok);
	cr_assert_eq(user_add(l, cfg, "cli:root", "dba", g, 1, &tok),
	    ERR_NAME_IS_PRINCIPAL);
	out = sq("SELECT count(*) FROM users; SELECT count(*) FROM events;");
	cr_assert_str_eq(out, "0\n0\n");
	free(out);
	cr_assert_eq(
	    user_add(l, cfg, "cli:root", NULL, g, 1, &tok), ERR_BAD_NAME);
	cr_assert_eq(
	    user_add(l, NULL, "cli:root", "erin", g, 1, &tok), ERR_INVALID_ARG);
}

/* A configuration whose literal principal is an existing, enabled
 * user's name is refused by user_config_check(), naming both. */
Test(users, config_check_against_users)
{
	static const char json[] =
	    "{\"roles\": {\"ops\": {\"principals\": [\"{{user}}\", "
	    "\"carol\"], \"max_ttl\": \"1h\", \"requesters\": [\"eng\"], "
	    "\"approvals_required\": 0}}}";
	struct config *c2 = NULL;
	char msg[CONFIG_ERR_LEN];

	cr_assert_eq(user_config_check(l, cfg, msg, sizeof(msg)), 0);
	free(add("alice", "eng", NULL));
	free(add("carol", "eng", NULL));
	cr_assert_eq(user_config_check(l, cfg, msg, sizeof(msg)), 0);
	cr_assert_eq(config_parse(&c2, dir, json, strlen(json), msg), 0);
	cr_assert_eq(
	    user_config_check(l, c2, msg, sizeof(msg)), ERR_NAME_IS_PRINCIPAL);
	cr_assert_str_eq(
	    msg, "user \"carol\" is the principal \"carol\" of role ops");
	/* Disabled users cannot get certificates: not in the way. */
	cr_assert_eq(user_disable(l, "cli:root", "carol"), 0);
	cr_assert_eq(user_config_check(l, c2, msg, sizeof(msg)), 0);
	cr_assert_str_eq(msg, "");
	config_free(c2);
}
