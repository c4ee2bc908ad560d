/*
 * test_jitcad_cli.c: the jitcad admin commands as a user runs them: the
 * real binary ($JITCAD) on a fresh state directory, with ssh-keygen
 * checking what it produces.  Exit codes, stdout and the first words of
 * stderr are asserted exactly (docs/design.md "Interfaces"), and the
 * --json output byte for byte (user list, issue, revoke, ledger
 * break-glass): those pins were taken from jitcad before the domain
 * returned typed views (ca/views.h) encoded by web/encode.c.  The user
 * key is fixed; the certificate line (a random nonce) and the times (the
 * signer process checks validity against the real clock, so the clock
 * cannot be pinned) are masked.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

#define PIN_KEY                                                                 \
	"ssh-ed25519 "                                                          \
	"AAAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn7CE " \
	"pin\n"

static char *dir;
static char *state;

static void
setup(void)
{
	dir = tu_tmpdir();
	state = tu_fmt("%s/state", dir);
}

static void
teardown(void)
{
	tu_rmtree(dir);
	free(state);
	free(dir);
}

/* Run jitcad with args (a shell fragment) on the test's state dir. */
static int
jitcad(const char *args, char **out, char **err)
{
	return tu_jitcad(state, args, out, err);
}

static void
init_ok(const char *type)
{
	char *out = NULL, *err = NULL, *args;

	args = tu_fmt("init --ca-key-type %s", type);
	cr_assert_eq(jitcad(args, &out, &err), 0, "init %s: %s", type, err);
	free(args);
	free(out);
	free(err);
}

/* A fresh ed25519 user key at <dir>/NAME(.pub). */
static char *
user_key(const char *name)
{
	char *path = tu_fmt("%s/%s", dir, name);
	char *cmd =
	    tu_fmt("ssh-keygen -q -t ed25519 -N '' -C %s -f '%s'", name, path);

	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
	return path;
}

TestSuite(jitcad_cli, .init = setup, .fini = teardown);

Test(jitcad_cli, init_and_ca_key_for_every_key_type)
{
	static const struct {
		const char *name, *keygen_type, *bits;
	} types[] = {
	    {"ed25519", "(ED25519)", "256"},
	    {"ecdsa-p256", "(ECDSA)", "256"},
	    {"ecdsa-p384", "(ECDSA)", "384"},
	    {"rsa-3072", "(RSA)", "3072"},
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char *out = NULL, *err = NULL, *init_out = NULL, *cmd, *pub;
		struct stat st;

		tu_rmtree(state);
		cr_assert_eq(
		    jitcad(tu_fmt("init --ca-key-type %s", types[i].name),
			&init_out, &err),
		    0, "%s", err);
		cr_assert(strstr(err, "jitcad init: new ") == err, "%s", err);
		free(err);
		cr_assert_eq(jitcad("ca-key", &out, &err), 0, "%s", err);
		/* init prints the same line that ca-key prints. */
		cr_assert_str_eq(out, init_out);
		cr_assert_str_eq(err, "");
		pub = tu_fmt("%s/ca.pub", state);
		cmd = tu_fmt("ssh-keygen -l -f '%s'", pub);
		free(out);
		cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
		cr_assert(
		    strncmp(out, types[i].bits, strlen(types[i].bits)) == 0,
		    "%s: %s", types[i].name, out);
		cr_assert_not_null(
		    strstr(out, types[i].keygen_type), "%s", out);
		cr_assert_not_null(strstr(out, "jitca-ca"), "%s", out);
		/* Key custody: the private key is 0600, the rest readable. */
		free(pub);
		pub = tu_fmt("%s/ca_key.pem", state);
		cr_assert_eq(stat(pub, &st), 0);
		cr_assert_eq(st.st_mode & 0777, 0600);
		free(pub);
		pub = tu_fmt("%s/revoked.krl", state);
		free(cmd);
		cmd = tu_fmt("ssh-keygen -Q -l -f '%s'", pub);
		cr_assert_eq(tu_sh(cmd, NULL, NULL), 0, "empty KRL unreadable");
		free(cmd);
		free(pub);
		free(out);
		free(err);
		free(init_out);
	}
}

Test(jitcad_cli, init_refuses_to_replace_a_ca)
{
	char *out = NULL, *err = NULL, *before, *after, *key;

	init_ok("ed25519");
	key = tu_fmt("%s/ca_key.pem", state);
	before = tu_read_file(key, NULL);
	cr_assert_eq(jitcad("init", &out, &err), 1);
	cr_assert_str_eq(out, "");
	cr_assert(strstr(err, "already holds a CA key") != NULL, "%s", err);
	after = tu_read_file(key, NULL);
	cr_assert_str_eq(before, after);
}

Test(jitcad_cli, usage_errors_exit_2)
{
	static const char *cases[] = {
	    "init --ca-key-type dsa",
	    "init extra",
	    "frobnicate",
	    "config verify",
	    "user add alice",
	    "user add",
	    "user list extra",
	    "issue --user alice --role staging",
	    /* A bare number is seconds (both programs' grammar), a
	     * unit that is not s, m, h or d is a usage error. */
	    "issue --user a --role staging --public-key x --reason r "
	    "--ttl 5x",
	    "revoke --reason x",
	    "revoke --serial 1 --user alice --reason x",
	    "revoke --serial 0 --reason x",
	    "revoke --serial -3 --reason x",
	    "revoke --serial 1",
	    "ledger",
	    "ledger export --format xml",
	    "ledger export --since -1",
	};
	size_t i;

	init_ok("ed25519");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL, *err = NULL;

		cr_assert_eq(
		    jitcad(cases[i], &out, &err), 2, "%s: %s", cases[i], err);
		cr_assert_str_eq(out, "", "%s printed on stdout", cases[i]);
		cr_assert(
		    strncmp(err, "jitcad", 6) == 0, "%s: %s", cases[i], err);
		free(out);
		free(err);
	}
}

Test(jitcad_cli, users_issue_revoke_krl_ledger)
{
	char *out = NULL, *err = NULL, *key, *cert, *cmd, *args, *krl;
	size_t i;

	init_ok("ed25519");
	cr_assert_eq(jitcad("user add alice --group engineering", &out, &err),
	    0, "%s", err);
	/* The token, alone on stdout: jitca_ + 43 base64url characters. */
	cr_assert_eq(strlen(out), 50, "%s", out);
	cr_assert(strncmp(out, "jitca_", 6) == 0);
	for (i = 6; i < 49; i++)
		cr_assert(
		    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			   "vwxyz0123456789-_",
			out[i]) != NULL);
	cr_assert_eq(out[49], '\n');
	free(out);
	free(err);
	cr_assert_eq(jitcad("user add alice --group x", NULL, &err), 1);
	cr_assert_str_eq(err, "jitcad user add: alice: already exists\n");
	free(err);
	cr_assert_eq(jitcad("user add 'a,b' --group x", NULL, &err), 1);
	cr_assert_str_eq(err,
	    "jitcad user add: bad user name \"a,b\": it must match "
	    "^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$\n");
	free(err);
	/* A bad group blames the group, not the user. */
	cr_assert_eq(
	    jitcad("user add carol --group 'sre leads'", NULL, &err), 1);
	cr_assert_str_eq(err,
	    "jitcad user add: bad group name \"sre leads\" (--group): it "
	    "must match ^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$; the user name "
	    "carol is fine\n");
	free(err);

	key = user_key("alice_key");
	args = tu_fmt("issue --user alice --role staging --public-key "
		      "'%s.pub' --ttl 1h --reason 'INC-1 first login'",
	    key);
	cr_assert_eq(jitcad(args, &out, &err), 0, "%s", err);
	cr_assert_str_eq(err,
	    "jitcad issue: serial 1 for alice, role "
	    "staging, request 1\n");
	cert = tu_fmt("%s-cert.pub", key);
	tu_write_file(cert, out, strlen(out), 0644);
	free(out);
	cmd = tu_fmt("TZ=UTC ssh-keygen -L -f '%s'", cert);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	cr_assert_not_null(strstr(out,
			       "Key ID: \"alice:staging:req-1:"
			       "serial-1\""),
	    "%s", out);
	cr_assert_not_null(strstr(out, "Serial: 1\n"), "%s", out);
	cr_assert_not_null(
	    strstr(out, "Principals: \n                alice\n"), "%s", out);
	free(out);
	free(err);
	free(args);

	/* Policy refusals name what was wrong and issue nothing. */
	args = tu_fmt("issue --user alice --role staging --public-key "
		      "'%s.pub' --ttl 9h --reason x",
	    key);
	cr_assert_eq(jitcad(args, &out, &err), 1);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(err,
	    "jitcad issue: staging: requested ttl is "
	    "longer than the role allows\n");
	free(args);
	free(out);
	free(err);

	cr_assert_eq(
	    jitcad("revoke --serial 1 --reason 'laptop lost'", &out, &err), 0,
	    "%s", err);
	cr_assert_str_eq(out, "1\n");
	free(out);
	free(err);
	krl = tu_fmt("%s/revoked.krl", state);
	free(cmd);
	cmd = tu_fmt("ssh-keygen -Q -f '%s' '%s'", krl, cert);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 1, "not revoked: %s", out);
	cr_assert_not_null(strstr(out, "REVOKED"));
	free(out);
	cr_assert_eq(jitcad("revoke --serial 77 --reason x", &out, &err), 1);
	cr_assert(strstr(err, "jitcad revoke: serial 77: not found\n") == err,
	    "%s", err);
	free(out);
	free(err);

	cr_assert_eq(jitcad("ledger verify", &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, "ok: 6 events, hash chain intact\n");
	free(out);
	free(err);
	cr_assert_eq(
	    jitcad("ledger export --format csv --since 3", &out, &err), 0);
	cr_assert(strncmp(out,
		      "seq,time,type,actor,subject,details,prev_hash,"
		      "hash\r\n4,",
		      54) == 0,
	    "%s", out);
	cr_assert_not_null(strstr(out, ",request.created,local:"));
	cr_assert_not_null(strstr(out, ",cert.issued,local:"));
	cr_assert_not_null(strstr(out, ",cert.revoked,local:"));
	free(out);
	free(err);
	/* Revoking a user's certificates leaves the token working: the
	 * command says so and names the offboarding step. */
	cr_assert_eq(jitcad("revoke --user alice --reason left", &out, &err), 0,
	    "%s", err);
	cr_assert(strstr(err,
		      "jitcad revoke: alice's token still works: they can "
		      "ask for new certificates; to offboard, also run "
		      "`jitcad user disable alice`\n") != NULL,
	    "%s", err);
	free(out);
	free(err);
	free(cmd);
	free(krl);
	free(cert);
	free(key);
}

Test(jitcad_cli, world_readable_ca_key_stops_signing)
{
	char *out = NULL, *err = NULL, *key, *args, *pem;

	init_ok("ed25519");
	cr_assert_eq(
	    jitcad("user add alice --group engineering", NULL, NULL), 0);
	pem = tu_fmt("%s/ca_key.pem", state);
	cr_assert_eq(chmod(pem, 0644), 0);
	key = user_key("k");
	args = tu_fmt("issue --user alice --role staging --public-key "
		      "'%s.pub' --reason x",
	    key);
	cr_assert_eq(jitcad(args, &out, &err), 1);
	cr_assert_str_eq(out, "");
	cr_assert_not_null(strstr(err,
			       "key file is readable by group or "
			       "others (chmod 600 it)"),
	    "%s", err);
	free(out);
	free(err);
	/* Nothing was recorded: the ledger holds only init and the user. */
	cr_assert_eq(jitcad("ledger verify", &out, NULL), 0);
	cr_assert_str_eq(out, "ok: 3 events, hash chain intact\n");
	free(out);
	free(args);
	free(key);
	free(pem);
}

Test(jitcad_cli, config_check_names_line_and_column)
{
	char *out = NULL, *err = NULL, *cfg;

	init_ok("ed25519");
	cr_assert_eq(jitcad("config check", &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, "ok: 2 roles\n");
	free(out);
	free(err);
	cfg = tu_fmt("%s/jitca.json", state);
	tu_write_file(cfg, "{\n  \"roles\": {,\n}\n", 17, 0644);
	cr_assert_eq(jitcad("config check", &out, &err), 1);
	cr_assert_str_eq(out, "");
	cr_assert(strncmp(err, "jitcad config check: jitca.json:2:", 34) == 0,
	    "%s", err);
	free(out);
	free(err);
	free(cfg);
}

/*
 * Issue 10 item 2: a user name never equals a literal principal of a
 * role, so "{{user}}" of an auto-approved role cannot hand out another
 * role's principal: user add refuses it, and config check refuses a
 * jitca.json whose new literal principal is an existing user's name.
 */
Test(jitcad_cli, user_name_never_a_literal_principal)
{
	char *out = NULL, *err = NULL, *cfg, *text, *edited, *p;

	init_ok("ed25519");
	cr_assert_eq(
	    jitcad("user add debug --group engineering", &out, &err), 1);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(err,
	    "jitcad user add: debug: refused: user \"debug\" is the "
	    "principal \"debug\" of role prod-debug, so \"{{user}}\" would "
	    "expand to it\n");
	free(out);
	free(err);
	/* Nothing was written: the name is still free of any user. */
	cr_assert_eq(jitcad("user list", &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, "");
	free(out);
	free(err);

	cr_assert_eq(jitcad("user add ops --group engineering", &out, &err), 0,
	    "%s", err);
	free(out);
	free(err);
	cfg = tu_fmt("%s/jitca.json", state);
	text = tu_read_file(cfg, NULL);
	cr_assert_not_null(p = strstr(text, "\"debug\"]"));
	edited = tu_fmt("%.*s\"debug\", \"ops\"]%s", (int)(p - text), text,
	    p + strlen("\"debug\"]"));
	tu_write_file(cfg, edited, strlen(edited), 0644);
	cr_assert_eq(jitcad("config check", &out, &err), 1);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(err,
	    "jitcad config check: refused: user \"ops\" is the principal "
	    "\"ops\" of role prod-debug, so \"{{user}}\" would expand to it "
	    "(change the role, or disable the user)\n");
	free(out);
	free(err);
	/* A disabled user cannot get certificates: the check passes. */
	cr_assert_eq(jitcad("user disable ops", &out, &err), 0, "%s", err);
	free(out);
	free(err);
	cr_assert_eq(jitcad("config check", &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, "ok: 2 roles\n");
	free(out);
	free(err);
	free(cfg);
	free(text);
	free(edited);
}

/* Issue 10 item 9: --reason names the offending code point. */
Test(jitcad_cli, reason_refuses_bidi_and_separators)
{
	static const struct {
		const char *arg, *want;
	} cases[] = {
	    {"$(printf 'fix \\342\\200\\256 now')",
		"jitcad revoke: --reason: U+202E (bidi control) is not "
		"allowed\n"},
	    {"$(printf 'a\\302\\205b')",
		"jitcad revoke: --reason: U+0085 (C1 control) is not "
		"allowed\n"},
	    {"$(printf 'a\\342\\200\\250b')",
		"jitcad revoke: --reason: U+2028 (line separator) is not "
		"allowed\n"},
	    {"$(printf 'a\\377b')",
		"jitcad revoke: --reason: not valid UTF-8 (at byte 2)\n"},
	};
	char *out = NULL, *err = NULL, *args;
	size_t i;

	init_ok("ed25519");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		args =
		    tu_fmt("revoke --serial 1 --reason \"%s\"", cases[i].arg);
		cr_assert_eq(jitcad(args, &out, &err), 2, "%s", err);
		cr_assert(
		    strncmp(err, cases[i].want, strlen(cases[i].want)) == 0,
		    "case %zu: %s", i, err);
		free(out);
		free(err);
		free(args);
	}
}

Test(jitcad_cli, issue_and_revoke_name_what_is_wrong)
{
	static const struct {
		const char *args, *err;
		int rc;
	} cases[] = {
	    {"issue --user nobody --role staging --public-key K --reason x",
		"jitcad issue: no user \"nobody\" (add it with jitcad user "
		"add)\n",
		1},
	    {"issue --user alice --role nope --public-key K --reason x",
		"jitcad issue: no role \"nope\" in STATE/jitca.json\n", 1},
	    {"issue --user alice --role staging --public-key BAD --reason x",
		"jitcad issue: BAD: not an OpenSSH public key line (\"type "
		"base64 [comment]\")\n",
		1},
	};
	char *key, *bad, *out = NULL, *err = NULL;
	size_t i;

	init_ok("ed25519");
	cr_assert_eq(
	    jitcad("user add alice --group engineering", NULL, NULL), 0);
	key = user_key("k");
	bad = tu_fmt("%s/bad.pub", dir);
	tu_write_file(bad, "garbage\n", 8, 0644);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *args = tu_fmt("%s", cases[i].args), *want, *p;
		char *kp = tu_fmt("'%s.pub'", key);

		/* Substitute the test's paths for K, BAD and STATE. */
		if ((p = strstr(args, " K ")) != NULL)
			args = tu_fmt(
			    "%.*s %s %s", (int)(p - args), args, kp, p + 3);
		if ((p = strstr(args, " BAD ")) != NULL)
			args = tu_fmt(
			    "%.*s '%s' %s", (int)(p - args), args, bad, p + 5);
		want = tu_fmt("%s", cases[i].err);
		if ((p = strstr(want, "STATE")) != NULL)
			want = tu_fmt(
			    "%.*s%s%s", (int)(p - want), want, state, p + 5);
		if ((p = strstr(want, "BAD")) != NULL)
			want = tu_fmt(
			    "%.*s%s%s", (int)(p - want), want, bad, p + 3);
		cr_assert_eq(
		    jitcad(args, &out, &err), cases[i].rc, "%s: %s", args, err);
		cr_assert_str_eq(out, "");
		cr_assert_str_eq(err, want);
		free(out);
		free(err);
	}
	cr_assert_eq(jitcad("revoke --user alice --reason ''", &out, &err), 2);
	cr_assert(
	    strncmp(err, "jitcad revoke: --reason: is required\n", 37) == 0,
	    "%s", err);
	free(out);
	free(err);
	free(bad);
	free(key);
}

/* jitcad args on the test's state dir, which must succeed: its stdout
 * with the certificate line and the times masked (new, kept). */
static char *
jitcad_ok(const char *args)
{
	static const char *const times[] = {"\"created\":", "\"expires\":",
	    "\"valid_after\":", "\"valid_before\":", "\"when\":"};
	char *out = NULL, *err = NULL;
	size_t i;

	cr_assert_eq(
	    tu_jitcad(state, args, &out, &err), 0, "%s: %s", args, err);
	free(err);
	out = tu_mask(out, "\"certificate\":\"", "\"", "<cert>");
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		out = tu_mask(out, times[i], ",}", "T");
	return tu_keep(out);
}

Test(jitcad_cli, json_output_pinned)
{
	char *key = tu_keep(tu_fmt("%s/pin.pub", dir));

	tu_write_file(key, PIN_KEY, strlen(PIN_KEY), 0644);
	(void)jitcad_ok("init --ca-key-type ed25519");
	TU_PIN(jitcad_ok("user list --json"), "[]\n");
	(void)jitcad_ok("user add alice --group engineering");
	(void)jitcad_ok("user add bob --group sre-leads --group engineering");
	TU_PIN(jitcad_ok("user list --json"),
	    "[{\"name\":\"alice\",\"groups\":[\"engineering\"],\"disabl"
	    "ed\":false,\"created\":T},{\"name\":\"bob\",\"groups\":[\""
	    "sre-leads\",\"engineering\"],\"disabled\":false,\"created\""
	    ":T}]\n");
	TU_PIN(jitcad_ok(tu_keep(tu_fmt("issue --user alice --role staging "
					"--public-key '%s' --ttl 1h --reason "
					"'INC-1 first login' --json",
		   key))),
	    "{\"id\":1,\"state\":\"issued\",\"role\":\"staging\",\"requ"
	    "ester\":\"alice\",\"principals\":[\"alice\"],\"ttl\":3600,"
	    "\"reason\":\"INC-1 first login\",\"created\":T,\"expires\""
	    ":T,\"approvals_required\":0,\"key_fingerprint\":\"SHA256:Q"
	    "c436/SO+qBMrXhc+3ZthgbTdRDC4RQUsAyK6+0E6KA\",\"public_key\""
	    ":\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpm"
	    "c9jKTST6it9c/Joez9kkKn7CE\",\"digest\":\"sha256:2788eee5d2"
	    "ff9fed7aef3e8d91e0ad6af8d072e0e05080fb04a6c9088904926f\",\""
	    "approver_groups\":[],\"approvals\":[],\"certificate\":\"<c"
	    "ert>\",\"serial\":1,\"key_id\":\"alice:staging:req-1:seria"
	    "l-1\",\"valid_after\":T,\"valid_before\":T,\"break_glass\""
	    ":false}\n");
	TU_PIN(jitcad_ok("revoke --serial 1 --reason 'laptop lost' --json"),
	    "{\"revoked\":[1],\"already_revoked\":[],\"krl_version\":1}"
	    "\n");
	TU_PIN(jitcad_ok("revoke --serial 1 --reason again --json"),
	    "{\"revoked\":[],\"already_revoked\":[1],\"krl_version\":1}"
	    "\n");
	TU_PIN(jitcad_ok(tu_keep(tu_fmt(
		   "revoke --public-key '%s' --reason lost --json", key))),
	    "{\"revoked\":[],\"already_revoked\":[1],\"krl_version\":2,"
	    "\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC4"
	    "RQUsAyK6+0E6KA\",\"key_revoked\":true}\n");
	TU_PIN(jitcad_ok("ledger break-glass --all --json"), "[]\n");
}
