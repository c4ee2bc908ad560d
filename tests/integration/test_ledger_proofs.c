/*
 * test_ledger_proofs.c: the ledger's Merkle tree, signed checkpoints and
 * proofs, end to end with the real programs.  The real jitcad fills a
 * state directory and signs checkpoints with its ledger key; `jitcad
 * ledger prove` must agree with an independent reference
 * (support/merkle_ref.py, Python's hashlib over the ledger file); stock
 * `ssh-keygen -Y verify` must accept the checkpoint's SSHSIG and refuse a
 * tampered note or another namespace; scripts/ledger-verify-proof must
 * accept the proof and refuse a flipped byte in the proof, the note or
 * the signature; and the red-team edits (the whole chain rewritten with
 * recomputed hashes and tree, the tail truncated with the head reset,
 * every event deleted) must each fail `ledger verify --checkpoint`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "tests/lib/jitcad.h"
#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

static char *dir, *state, *db;
static char t0s[32];

static void
setup(void)
{
	tu_scratch(&dir, &state, NULL);
	db = tu_fmt("%s/ledger.db", state);
	(void)snprintf(t0s, sizeof(t0s), "%lld", (long long)time(NULL));
	cr_assert_eq(setenv("JITCA_TEST_NOW", t0s, 1), 0);
}

static void
teardown(void)
{
	tu_scratch_free(&dir, &state, NULL);
	free(db);
	unsetenv("JITCA_TEST_NOW");
}

TestSuite(ledger_proofs, .init = setup, .fini = teardown);

static char *
run_ok(const char *args)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(
	    tu_jitcad(state, args, &out, &err), 0, "%s: %s", args, err);
	free(err);
	return out;
}

/* A shell command's exit status, its stderr in *err (may be NULL). */
static int sh(char **err, const char *fmt, const char *a, const char *b)
    __attribute__((format(printf, 2, 0)));

static int
sh(char **err, const char *fmt, const char *a, const char *b)
{
	char *cmd;
	int rc;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	cmd = tu_fmt(fmt, a, b);
#pragma GCC diagnostic pop
	rc = tu_sh(cmd, NULL, err);

	free(cmd);
	return rc;
}

/* init, a user, n certificates (serials 1..n), then a checkpoint saved
 * as DIR/cp and its SSHSIG as DIR/cp.sig, the ledger key as DIR/lk. */
static void
populate(int n)
{
	char *args, *out, *path;
	int i;

	free(run_ok("init --ca-key-type ed25519"));
	free(run_ok("user add alice --group engineering"));
	path = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s/k'", dir);
	cr_assert_eq(tu_sh(path, NULL, NULL), 0);
	free(path);
	for (i = 1; i <= n; i++) {
		args = tu_fmt("issue --user alice --role staging --public-key "
			      "'%s/k.pub' --reason 'INC-%d'",
		    dir, i);
		free(run_ok(args));
		free(args);
	}
	out = run_ok("ledger checkpoint");
	path = tu_fmt("%s/cp", dir);
	tu_write_file(path, out, strlen(out), 0644);
	free(path);
	free(out);
	out = run_ok("ca-key --ledger");
	path = tu_fmt("%s/lk", dir);
	tu_write_file(path, out, strlen(out), 0644);
	free(path);
	free(out);
	cr_assert_eq(sh(NULL,
			 "sqlite3 '%s' 'SELECT sig FROM checkpoints ORDER BY"
			 " tree_size DESC LIMIT 1' | sed '$d' > '%s/cp.sig'",
			 db, dir),
	    0);
}

static void
prove(int serial, const char *name)
{
	char *args = tu_fmt("ledger prove --serial %d", serial);
	char *out = run_ok(args), *path = tu_fmt("%s/%s", dir, name);

	tu_write_file(path, out, strlen(out), 0644);
	free(path);
	free(out);
	free(args);
}

static int
reference(const char *proof, char **err)
{
	char *cmd = tu_fmt("python3 \"$JITCA_SOURCE_DIR\"/tests/integration/"
			   "support/merkle_ref.py check '%s' '%s/%s' '%s/cp'",
	    db, dir, proof, dir);
	int rc = tu_sh(cmd, err, NULL);

	free(cmd);
	return rc;
}

Test(ledger_proofs, prove_matches_an_independent_reference)
{
	char *err = NULL, *name;
	int s;

	populate(6);
	/* 12 leaves: serials 1..6 are cert.issued at seq 4, 6, ... 14. */
	for (s = 1; s <= 6; s++) {
		name = tu_fmt("p%d", s);
		prove(s, name);
		cr_assert_eq(reference(name, &err), 0, "serial %d: %s", s, err);
		free(err);
		err = NULL;
		free(name);
	}
	/* The reference can fail: a proof for another leaf does not pass. */
	cr_assert_eq(sh(NULL,
			 "sed 's/\"leaf_index\":[0-9]*/\"leaf_index\":0/' "
			 "'%s/p3' > '%s/bad'",
			 dir, dir),
	    0);
	cr_assert_eq(reference("bad", &err), 1);
	cr_assert_not_null(strstr(err, "leaf_hash"), "%s", err);
	free(err);
}

Test(ledger_proofs, prove_refuses_unknown_serial_and_no_checkpoint)
{
	char *out = NULL, *err = NULL;

	free(run_ok("init --ca-key-type ed25519"));
	cr_assert_eq(
	    tu_jitcad(state, "ledger prove --serial 1", &out, &err), 1);
	cr_assert_str_eq(err,
	    "jitcad ledger prove: there is no checkpoint yet; run jitcad "
	    "ledger checkpoint\n");
	free(out);
	free(err);
	free(run_ok("ledger checkpoint"));
	cr_assert_eq(
	    tu_jitcad(state, "ledger prove --serial 9", &out, &err), 1);
	cr_assert_str_eq(err,
	    "jitcad ledger prove: no certificate with serial 9 in the "
	    "ledger\n");
	free(out);
	free(err);
}

#define ALLOWED                                                                \
	"printf 'ledger@jitca namespaces=\"checkpoint@jitca\" %%s\\n' "        \
	"\"$(cut -d' ' -f1,2 '%s/lk')\" > '%s/allowed'"

Test(ledger_proofs, ssh_keygen_verifies_checkpoints)
{
	populate(1);
	cr_assert_eq(sh(NULL, ALLOWED, dir, dir), 0);
	cr_assert_eq(sh(NULL,
			 "cd '%s' && ssh-keygen -Y verify -f allowed -I "
			 "ledger@jitca -n checkpoint@jitca -s cp.sig < cp%s",
			 dir, ""),
	    0);
	/* Another namespace. */
	cr_assert_neq(sh(NULL,
			  "cd '%s' && ssh-keygen -Y verify -f allowed -I "
			  "ledger@jitca -n krl@jitca -s cp.sig < cp%s",
			  dir, ""),
	    0);
	/* A tampered note: the tree size changed. */
	cr_assert_eq(
	    sh(NULL, "cd '%s' && sed '2s/^/1/' cp > cp.bad%s", dir, ""), 0);
	cr_assert_neq(sh(NULL,
			  "cd '%s' && ssh-keygen -Y verify -f allowed -I "
			  "ledger@jitca -n checkpoint@jitca -s cp.sig < "
			  "cp.bad%s",
			  dir, ""),
	    0);
}

/* scripts/ledger-verify-proof over DIR/cp, DIR/cp.sig and proof. */
static int
standalone(const char *cp, const char *sig, const char *proof, char **err)
{
	char *cmd = tu_fmt("cd '%s' && \"$JITCA_SOURCE_DIR\"/scripts/"
			   "ledger-verify-proof --ledger-key lk --checkpoint "
			   "%s --checkpoint-sig %s --proof %s",
	    dir, cp, sig, proof);
	int rc = tu_sh(cmd, NULL, err);

	free(cmd);
	return rc;
}

/* Copy DIR/from to DIR/to with the byte at offset off xor 1. */
static void
flip(const char *from, const char *to, size_t off)
{
	char *p = tu_fmt("%s/%s", dir, from), *q = tu_fmt("%s/%s", dir, to);
	size_t len = 0;
	char *d = tu_read_file(p, &len);

	cr_assert(off < len);
	/* A hex digit stays a hex digit ('a' ^ 1 and 'f' ^ 1 are not), so
	 * that the verifier must refuse the value, not its spelling. */
	if (d[off] >= 'a' && d[off] <= 'f')
		d[off] = d[off] == 'a' ? 'b' : 'a';
	else
		d[off] ^= 1;
	tu_write_file(q, d, len, 0644);
	free(d);
	free(p);
	free(q);
}

Test(ledger_proofs, standalone_verifier_refuses_any_flipped_byte)
{
	char *err = NULL, *text, *p;
	size_t len, off;

	populate(4);
	prove(2, "p2");
	cr_assert_eq(standalone("cp", "cp.sig", "p2", &err), 0, "%s", err);
	free(err);
	err = NULL;
	/* The leaf hash, a path entry, the root, the tree size. */
	p = tu_fmt("%s/p2", dir);
	text = tu_read_file(p, &len);
	free(p);
	off = (size_t)(strstr(text, "\"leaf_hash\":\"") - text) + 20;
	flip("p2", "bad", off);
	cr_assert_eq(standalone("cp", "cp.sig", "bad", &err), 1);
	cr_assert_not_null(strstr(err, "does not lead to"), "%s", err);
	free(err);
	off = (size_t)(strstr(text, "\"path\":[\"") - text) + 12;
	flip("p2", "bad", off);
	cr_assert_eq(standalone("cp", "cp.sig", "bad", &err), 1);
	free(err);
	off = (size_t)(strstr(text, "\"root\":\"") - text) + 10;
	flip("p2", "bad", off);
	cr_assert_eq(standalone("cp", "cp.sig", "bad", &err), 1);
	cr_assert_not_null(strstr(err, "root"), "%s", err);
	free(err);
	off = (size_t)(strstr(text, "\"tree_size\":") - text) + 12;
	flip("p2", "bad", off);
	cr_assert_eq(standalone("cp", "cp.sig", "bad", &err), 1);
	free(err);
	free(text);
	/* The note (its root line) and the signature. */
	flip("cp", "cp.bad", 30);
	cr_assert_eq(standalone("cp.bad", "cp.sig", "p2", &err), 1);
	cr_assert_not_null(strstr(err, "does not verify"), "%s", err);
	free(err);
	/* In the signed key, and in the signature itself (a base64
	 * character of the last line, not a newline). */
	flip("cp.sig", "sig.bad", 60);
	cr_assert_eq(standalone("cp", "sig.bad", "p2", &err), 1);
	free(err);
	p = tu_fmt("%s/cp.sig", dir);
	text = tu_read_file(p, &len);
	free(p);
	flip("cp.sig", "sig.bad", len - 40);
	cr_assert_eq(standalone("cp", "sig.bad", "p2", &err), 1);
	free(err);
	free(text);
}

/* merkle_ref.py ACTION on the ledger file. */
static void
attack(const char *action)
{
	char *cmd = tu_fmt("python3 \"$JITCA_SOURCE_DIR\"/tests/integration/"
			   "support/merkle_ref.py %s '%s'",
	    action, db);

	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0, "%s", cmd);
	free(cmd);
}

static void
verify_cp_fails(const char *want)
{
	char *out = NULL, *err = NULL, *args;

	args = tu_fmt("ledger verify --checkpoint '%s/cp'", dir);
	cr_assert_eq(tu_jitcad(state, args, &out, &err), 1, "%s", out);
	cr_assert_not_null(strstr(err, want), "%s", err);
	free(args);
	free(out);
	free(err);
}

Test(ledger_proofs, verify_checkpoint_accepts_the_untouched_ledger)
{
	char *out, *args;

	populate(2);
	free(run_ok("ledger checkpoint"));
	args = tu_fmt("ledger verify --checkpoint '%s/cp'", dir);
	out = run_ok(args);
	/* 7 events when cp was made (tree size 7), +2 checkpoint events. */
	cr_assert_str_eq(out,
	    "ok: 9 events, hash chain intact, extends the checkpoint of "
	    "tree size 7\n");
	free(out);
	free(args);
}

Test(ledger_proofs, rewritten_chain_is_caught_by_a_saved_checkpoint)
{
	char *out;

	populate(2);
	attack("rewrite");
	/* The chain, the tree and the state are consistent again... */
	out = run_ok("ledger verify");
	cr_assert_str_eq(out, "ok: 8 events, hash chain intact\n");
	free(out);
	/* ...but not with what was signed. */
	verify_cp_fails("the root of the ledger's first 7 events is not the "
			"checkpoint's: they diverge at or before tree size 7");
}

Test(ledger_proofs, truncated_tail_is_caught_by_a_saved_checkpoint)
{
	char *out, *path;

	populate(2);
	/* The saved checkpoint is the second, of tree size 8 (seq 8 is the
	 * first checkpoint's event). */
	out = run_ok("ledger checkpoint");
	path = tu_fmt("%s/cp", dir);
	tu_write_file(path, out, strlen(out), 0644);
	free(path);
	free(out);
	/* Drop both checkpoint events (seq 8, 9): no state row changes. */
	attack("truncate 7");
	out = run_ok("ledger verify");
	cr_assert_str_eq(out, "ok: 7 events, hash chain intact\n");
	free(out);
	verify_cp_fails("the ledger has 7 events, fewer than the "
			"checkpoint's tree size 8");
}

Test(ledger_proofs, deleted_ledger_is_caught_by_a_saved_checkpoint)
{
	populate(1);
	attack("wipe");
	verify_cp_fails("the ledger has 0 events, fewer than the checkpoint's "
			"tree size 5");
}

Test(ledger_proofs, checkpoint_from_another_key_is_refused)
{
	char *path;

	populate(1);
	/* A note signed by some other Ed25519 key under the same origin. */
	path = tu_fmt("%s/state/ledger.pub", dir);
	cr_assert_eq(
	    sh(NULL, "ssh-keygen -q -t ed25519 -N '' -f '%s/other%s'", dir, ""),
	    0);
	cr_assert_eq(sh(NULL, "cp '%s/other.pub' '%s'", dir, path), 0);
	verify_cp_fails("the checkpoint is not signed by the ledger key");
	free(path);
}
