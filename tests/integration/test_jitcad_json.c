/*
 * test_jitcad_json.c: the --json output of the admin commands, byte for
 * byte: jitcad user list, issue, revoke (a serial, then a public key)
 * and ledger break-glass.  The pins were taken from jitcad before the
 * domain returned typed views (ca/views.h) encoded by web/encode.c.  The
 * user key is fixed; the certificate line (a random nonce) and the times
 * (the signer process checks validity against the real clock, so the
 * clock cannot be pinned) are masked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Compare, or with PIN_RECORD set in the environment print what the
 * code says now (to take the pins from the old code). */
#define PIN(actual, want)                                                      \
	do {                                                                   \
		const char *pin_a = (actual);                                  \
		if (getenv("PIN_RECORD") != NULL)                              \
			fprintf(stderr, "PIN %d %s\n", __LINE__, pin_a);       \
		else                                                           \
			cr_assert_str_eq(pin_a, (want));                       \
	} while (0)

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

TestSuite(jitcad_json, .init = setup, .fini = teardown);

Test(jitcad_json, user_issue_revoke_break_glass)
{
	char *key = tu_keep(tu_fmt("%s/pin.pub", dir));

	tu_write_file(key, PIN_KEY, strlen(PIN_KEY), 0644);
	(void)jitcad_ok("init --ca-key-type ed25519");
	PIN(jitcad_ok("user list --json"), "[]\n");
	(void)jitcad_ok("user add alice --group engineering");
	(void)jitcad_ok("user add bob --group sre-leads --group engineering");
	PIN(jitcad_ok("user list --json"),
	    "[{\"name\":\"alice\",\"groups\":[\"engineering\"],\"disabl"
	    "ed\":false,\"created\":T},{\"name\":\"bob\",\"groups\":[\""
	    "sre-leads\",\"engineering\"],\"disabled\":false,\"created\""
	    ":T}]\n");
	PIN(jitcad_ok(tu_keep(tu_fmt("issue --user alice --role staging "
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
	PIN(jitcad_ok("revoke --serial 1 --reason 'laptop lost' --json"),
	    "{\"revoked\":[1],\"already_revoked\":[],\"krl_version\":1}"
	    "\n");
	PIN(jitcad_ok("revoke --serial 1 --reason again --json"),
	    "{\"revoked\":[],\"already_revoked\":[1],\"krl_version\":1}"
	    "\n");
	PIN(jitcad_ok(tu_keep(
		tu_fmt("revoke --public-key '%s' --reason lost --json", key))),
	    "{\"revoked\":[],\"already_revoked\":[1],\"krl_version\":2,"
	    "\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC4"
	    "RQUsAyK6+0E6KA\",\"key_revoked\":true}\n");
	PIN(jitcad_ok("ledger break-glass --all --json"), "[]\n");
}
