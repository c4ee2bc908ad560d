/*
 * test_encode.c: the JSON of the domain's answers, byte for byte.  The
 * pins were taken from the code before the domain returned views
 * (ca/views.h) and web/encode.c encoded them, so these strings are the
 * wire format: a request pending, issued, denied and revoked, a page of
 * requests (brief and not, with and without a next cursor), the roles
 * and the users.  The certificate line (a random nonce) is masked; every
 * other byte is pinned, on the ca fixture's pinned clock and a fixed key.
 */
#include "tests/unit/ca/ca_fixture.h"

TestSuite(encode, .init = fx_setup, .fini = fx_teardown);

#define PIN_KEY                                                                 \
	"ssh-ed25519 "                                                          \
	"AAAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn7CE " \
	"pin"
#define PIN_KEY_NC                                                             \
	"ssh-ed25519 "                                                         \
	"AAAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn7CE"
#define PIN_FP "SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC4RQUsAyK6+0E6KA"

/* j as the API writes it (compact, keys in order), with the value of
 * every "certificate" replaced by "<cert>"; j is released. */
static char *
dump_masked(json_t *j)
{
	char *s;

	cr_assert_not_null(j);
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	cr_assert_not_null(s);
	return tu_keep(tu_mask(s, "\"certificate\":\"", "\"", "<cert>"));
}

static char *
pin_get(int64_t id, const struct ca_actor *who)
{
	json_t *j = NULL;

	cr_assert_eq(fx_request_get(&fx_ca, who, id, &j), 0);
	return dump_masked(j);
}

static char *
pin_list(const struct request_filter *f, const struct ca_actor *who)
{
	json_t *j = NULL;

	cr_assert_eq(fx_request_list(&fx_ca, who, f, &j), 0);
	return dump_masked(j);
}

static char *
pin_roles(const struct ca_actor *who)
{
	json_t *j = NULL;

	cr_assert_eq(fx_request_roles(&fx_ca, who, &j), 0);
	return dump_masked(j);
}

static char *
pin_users(void)
{
	json_t *j = NULL;

	cr_assert_eq(fx_user_list(fx_l, &j), 0);
	return dump_masked(j);
}

static int64_t
pin_create(const char *role)
{
	return fx_create(&alice, role, PIN_KEY, NULL);
}

Test(encode, request_pending_issued_revoked)
{
	const char *issued;
	struct revoke_target t = {REVOKE_REQUEST, 0, 0, NULL};
	json_t *j = NULL;
	int64_t id = pin_create("prod-debug");

	TU_PIN(pin_get(id, &alice),
	    "{\"id\":1,\"state\":\"pending\",\"role\":\"prod-debug\",\""
	    "requester\":\"alice\",\"principals\":[\"alice\",\"debug\"]"
	    ",\"ttl\":1800,\"reason\":\"INC-4312 stuck queue\",\"create"
	    "d\":1800000000,\"expires\":1800003600,\"approvals_required"
	    "\":1,\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbT"
	    "dRDC4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-ed25519 AAAAC3N"
	    "zaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn"
	    "7CE\",\"digest\":\"sha256:be2d22412436f23fea868fe3f136830d"
	    "6c8289cab7e90b20cbe3871a424cfe3e\",\"approver_groups\":[\""
	    "sre-leads\"],\"approvals\":[],\"break_glass\":false}");
	cr_assert_eq(
	    fx_request_approve(&fx_ca, &bob, id, "ok, INC-4312", &j), 0);
	issued = dump_masked(j);
	TU_PIN(issued,
	    "{\"id\":1,\"state\":\"issued\",\"role\":\"prod-debug\",\"r"
	    "equester\":\"alice\",\"principals\":[\"alice\",\"debug\"],"
	    "\"ttl\":1800,\"reason\":\"INC-4312 stuck queue\",\"created"
	    "\":1800000000,\"expires\":1800003600,\"approvals_required\""
	    ":1,\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbTdR"
	    "DC4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-ed25519 AAAAC3Nza"
	    "C1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn7C"
	    "E\",\"digest\":\"sha256:be2d22412436f23fea868fe3f136830d6c"
	    "8289cab7e90b20cbe3871a424cfe3e\",\"approver_groups\":[\"sr"
	    "e-leads\"],\"approvals\":[{\"who\":\"bob\",\"when\":180000"
	    "0000,\"comment\":\"ok, INC-4312\"}],\"certificate\":\"<cer"
	    "t>\",\"serial\":1,\"key_id\":\"alice:prod-debug:req-1:seri"
	    "al-1\",\"valid_after\":1799999940,\"valid_before\":1800001"
	    "800,\"break_glass\":false}");
	TU_PIN(pin_get(id, &sec), issued);
	t.request = id;
	cr_assert_eq(fx_revoke_apply(&fx_ca, &root, &t, "done", &j), 0);
	TU_PIN(dump_masked(j),
	    "{\"revoked\":[1],\"already_revoked\":[],\"krl_version\":1}");
	TU_PIN(pin_get(id, &bob),
	    "{\"id\":1,\"state\":\"revoked\",\"role\":\"prod-debug\",\""
	    "requester\":\"alice\",\"principals\":[\"alice\",\"debug\"]"
	    ",\"ttl\":1800,\"reason\":\"INC-4312 stuck queue\",\"create"
	    "d\":1800000000,\"expires\":1800003600,\"approvals_required"
	    "\":1,\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbT"
	    "dRDC4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-ed25519 AAAAC3N"
	    "zaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn"
	    "7CE\",\"digest\":\"sha256:be2d22412436f23fea868fe3f136830d"
	    "6c8289cab7e90b20cbe3871a424cfe3e\",\"approver_groups\":[\""
	    "sre-leads\"],\"approvals\":[{\"who\":\"bob\",\"when\":1800"
	    "000000,\"comment\":\"ok, INC-4312\"}],\"certificate\":\"<c"
	    "ert>\",\"serial\":1,\"key_id\":\"alice:prod-debug:req-1:se"
	    "rial-1\",\"valid_after\":1799999940,\"valid_before\":18000"
	    "01800,\"revoked\":1800000000,\"break_glass\":false}");
	cr_assert_eq(fx_revoke_apply(&fx_ca, &root, &t, "again", &j), 0);
	TU_PIN(dump_masked(j),
	    "{\"revoked\":[],\"already_revoked\":[1],\"krl_version\":1}");
	t.by = REVOKE_PUBLIC_KEY;
	t.text = PIN_KEY;
	cr_assert_eq(fx_revoke_apply(&fx_ca, &root, &t, "lost", &j), 0);
	TU_PIN(dump_masked(j),
	    "{\"revoked\":[],\"already_revoked\":[1],\"krl_version\":2,"
	    "\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC4"
	    "RQUsAyK6+0E6KA\",\"key_revoked\":true}");
	cr_assert_eq(fx_revoke_apply(&fx_ca, &root, &t, "lost", &j), 0);
	TU_PIN(dump_masked(j),
	    "{\"revoked\":[],\"already_revoked\":[1],\"krl_version\":2,"
	    "\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC4"
	    "RQUsAyK6+0E6KA\",\"key_revoked\":false}");
}

Test(encode, request_denied_withdrawn_half)
{
	json_t *j = NULL;
	int64_t d = pin_create("prod-debug"), w = pin_create("prod-debug");
	int64_t h = pin_create("db-admin");

	cr_assert_eq(fx_request_deny(&fx_ca, &bob, d, "not now", &j), 0);
	TU_PIN(dump_masked(j),
	    "{\"id\":1,\"state\":\"denied\",\"role\":\"prod-debug\",\"r"
	    "equester\":\"alice\",\"principals\":[\"alice\",\"debug\"],"
	    "\"ttl\":1800,\"reason\":\"INC-4312 stuck queue\",\"created"
	    "\":1800000000,\"expires\":1800003600,\"approvals_required\""
	    ":1,\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbTdR"
	    "DC4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-ed25519 AAAAC3Nza"
	    "C1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn7C"
	    "E\",\"digest\":\"sha256:be2d22412436f23fea868fe3f136830d6c"
	    "8289cab7e90b20cbe3871a424cfe3e\",\"approver_groups\":[\"sr"
	    "e-leads\"],\"denied\":{\"who\":\"bob\",\"when\":1800000000"
	    ",\"comment\":\"not now\"},\"approvals\":[],\"break_glass\""
	    ":false}");
	cr_assert_eq(fx_request_withdraw(&fx_ca, &alice, w, &j), 0);
	TU_PIN(dump_masked(j),
	    "{\"id\":2,\"state\":\"withdrawn\",\"role\":\"prod-debug\","
	    "\"requester\":\"alice\",\"principals\":[\"alice\",\"debug\""
	    "],\"ttl\":1800,\"reason\":\"INC-4312 stuck queue\",\"creat"
	    "ed\":1800000000,\"expires\":1800003600,\"approvals_require"
	    "d\":1,\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3Zthgb"
	    "TdRDC4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-ed25519 AAAAC3"
	    "NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkK"
	    "n7CE\",\"digest\":\"sha256:be2d22412436f23fea868fe3f136830"
	    "d6c8289cab7e90b20cbe3871a424cfe3e\",\"approver_groups\":[\""
	    "sre-leads\"],\"approvals\":[],\"break_glass\":false}");
	fx_cast();
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, h, NULL, &j), 0);
	TU_PIN(dump_masked(j),
	    "{\"id\":3,\"state\":\"pending\",\"role\":\"db-admin\",\"re"
	    "quester\":\"alice\",\"principals\":[\"alice\",\"dba\"],\"t"
	    "tl\":3600,\"reason\":\"INC-4312 stuck queue\",\"created\":"
	    "1800000000,\"expires\":1800003600,\"approvals_required\":2"
	    ",\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC"
	    "4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-ed25519 AAAAC3NzaC1"
	    "lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn7CE\""
	    ",\"digest\":\"sha256:562de86a98cc634dd1be0e140fd40c6c3d4f0"
	    "4b6f376c011b9afe6f88505f93c\",\"approver_groups\":[\"sre-l"
	    "eads\",\"dba-leads\"],\"approvals\":[{\"who\":\"bob\",\"wh"
	    "en\":1800000000,\"comment\":\"\"}],\"break_glass\":false}");
	fx_now_set(FX_T0 + 3600);
	TU_PIN(pin_get(h, &dave),
	    "{\"id\":3,\"state\":\"expired\",\"role\":\"db-admin\",\"re"
	    "quester\":\"alice\",\"principals\":[\"alice\",\"dba\"],\"t"
	    "tl\":3600,\"reason\":\"INC-4312 stuck queue\",\"created\":"
	    "1800000000,\"expires\":1800003600,\"approvals_required\":2"
	    ",\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC"
	    "4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-ed25519 AAAAC3NzaC1"
	    "lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn7CE\""
	    ",\"digest\":\"sha256:562de86a98cc634dd1be0e140fd40c6c3d4f0"
	    "4b6f376c011b9afe6f88505f93c\",\"approver_groups\":[\"sre-l"
	    "eads\",\"dba-leads\"],\"approvals\":[{\"who\":\"bob\",\"wh"
	    "en\":1800000000,\"comment\":\"\"}],\"break_glass\":false}");
}

Test(encode, request_pages)
{
	const char *pending;
	struct request_filter f = {0, 1, 1, 0};
	json_t *j = NULL;
	int64_t a = pin_create("prod-debug");

	(void)pin_create("staging");
	pending = pin_list(&fx_pending, &alice);
	TU_PIN(pending,
	    "{\"requests\":[{\"id\":1,\"state\":\"pending\",\"role\":\""
	    "prod-debug\",\"requester\":\"alice\",\"principals\":[\"ali"
	    "ce\",\"debug\"],\"ttl\":1800,\"reason\":\"INC-4312 stuck q"
	    "ueue\",\"created\":1800000000,\"expires\":1800003600,\"app"
	    "rovals_required\":1,\"key_fingerprint\":\"SHA256:Qc436/SO+"
	    "qBMrXhc+3ZthgbTdRDC4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-"
	    "ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST"
	    "6it9c/Joez9kkKn7CE\",\"digest\":\"sha256:be2d22412436f23fe"
	    "a868fe3f136830d6c8289cab7e90b20cbe3871a424cfe3e\",\"approv"
	    "er_groups\":[\"sre-leads\"],\"approvals\":[],\"break_glass"
	    "\":false}],\"next_cursor\":null}");
	TU_PIN(pin_list(&fx_all, &alice),
	    "{\"requests\":[{\"id\":2,\"state\":\"issued\",\"role\":\"s"
	    "taging\",\"requester\":\"alice\",\"principals\":[\"alice\""
	    "],\"ttl\":28800,\"reason\":\"INC-4312 stuck queue\",\"crea"
	    "ted\":1800000000,\"expires\":1800003600,\"approvals_requir"
	    "ed\":0,\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3Zthg"
	    "bTdRDC4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-ed25519 AAAAC"
	    "3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kk"
	    "Kn7CE\",\"digest\":\"sha256:36000b0219689152d183ffed7c5007"
	    "20336bb5123386097a49588db5950bf14d\",\"approver_groups\":["
	    "],\"approvals\":[],\"certificate\":\"<cert>\",\"serial\":1"
	    ",\"key_id\":\"alice:staging:req-2:serial-1\",\"valid_after"
	    "\":1799999940,\"valid_before\":1800028800,\"break_glass\":"
	    "false},{\"id\":1,\"state\":\"pending\",\"role\":\"prod-deb"
	    "ug\",\"requester\":\"alice\",\"principals\":[\"alice\",\"d"
	    "ebug\"],\"ttl\":1800,\"reason\":\"INC-4312 stuck queue\",\""
	    "created\":1800000000,\"expires\":1800003600,\"approvals_re"
	    "quired\":1,\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3"
	    "ZthgbTdRDC4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-ed25519 A"
	    "AAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joe"
	    "z9kkKn7CE\",\"digest\":\"sha256:be2d22412436f23fea868fe3f1"
	    "36830d6c8289cab7e90b20cbe3871a424cfe3e\",\"approver_groups"
	    "\":[\"sre-leads\"],\"approvals\":[],\"break_glass\":false}"
	    "],\"next_cursor\":null}");
	TU_PIN(pin_list(&f, &alice),
	    "{\"requests\":[{\"id\":2,\"state\":\"issued\",\"role\":\"s"
	    "taging\",\"requester\":\"alice\",\"principals\":[\"alice\""
	    "],\"ttl\":28800,\"reason\":\"INC-4312 stuck queue\",\"crea"
	    "ted\":1800000000,\"expires\":1800003600,\"approvals_requir"
	    "ed\":0,\"key_fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3Zthg"
	    "bTdRDC4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-ed25519 AAAAC"
	    "3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kk"
	    "Kn7CE\",\"digest\":\"sha256:36000b0219689152d183ffed7c5007"
	    "20336bb5123386097a49588db5950bf14d\",\"approver_groups\":["
	    "],\"approvals\":[],\"serial\":1,\"key_id\":\"alice:staging"
	    ":req-2:serial-1\",\"valid_after\":1799999940,\"valid_befor"
	    "e\":1800028800,\"break_glass\":false}],\"next_cursor\":\"2"
	    "\"}");
	f.before = 2;
	TU_PIN(pin_list(&f, &alice), pending);
	TU_PIN(
	    pin_list(&fx_all, &eve), "{\"requests\":[],\"next_cursor\":null}");
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, a, NULL, &j), 0);
	json_decref(j);
	f.before = 0;
	f.limit = 5;
	TU_PIN(pin_list(&f, &bob),
	    "{\"requests\":[{\"id\":1,\"state\":\"issued\",\"role\":\"p"
	    "rod-debug\",\"requester\":\"alice\",\"principals\":[\"alic"
	    "e\",\"debug\"],\"ttl\":1800,\"reason\":\"INC-4312 stuck qu"
	    "eue\",\"created\":1800000000,\"expires\":1800003600,\"appr"
	    "ovals_required\":1,\"key_fingerprint\":\"SHA256:Qc436/SO+q"
	    "BMrXhc+3ZthgbTdRDC4RQUsAyK6+0E6KA\",\"public_key\":\"ssh-e"
	    "d25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6"
	    "it9c/Joez9kkKn7CE\",\"digest\":\"sha256:be2d22412436f23fea"
	    "868fe3f136830d6c8289cab7e90b20cbe3871a424cfe3e\",\"approve"
	    "r_groups\":[\"sre-leads\"],\"approvals\":[{\"who\":\"bob\""
	    ",\"when\":1800000000,\"comment\":\"\"}],\"serial\":2,\"key"
	    "_id\":\"alice:prod-debug:req-1:serial-2\",\"valid_after\":"
	    "1799999940,\"valid_before\":1800001800,\"break_glass\":fal"
	    "se}],\"next_cursor\":null}");
}

Test(encode, roles_and_users)
{
	TU_PIN(pin_roles(&alice),
	    "{\"roles\":[{\"name\":\"db-admin\",\"principals\":[\"alice"
	    "\",\"dba\"],\"default_ttl\":3600,\"max_ttl\":3600,\"approv"
	    "als_required\":2,\"critical_options\":{},\"extensions\":[\""
	    "permit-pty\"],\"can_request\":true,\"can_approve\":false},"
	    "{\"name\":\"prod-debug\",\"principals\":[\"alice\",\"debug"
	    "\"],\"default_ttl\":1800,\"max_ttl\":7200,\"approvals_requ"
	    "ired\":1,\"critical_options\":{\"source-address\":\"10.0.0"
	    ".0/8\"},\"extensions\":[\"permit-pty\"],\"can_request\":tr"
	    "ue,\"can_approve\":false},{\"name\":\"staging\",\"principa"
	    "ls\":[\"alice\"],\"default_ttl\":28800,\"max_ttl\":28800,\""
	    "approvals_required\":0,\"critical_options\":{},\"extension"
	    "s\":[\"permit-port-forwarding\",\"permit-pty\"],\"can_requ"
	    "est\":true,\"can_approve\":false}]}");
	TU_PIN(pin_roles(&bob),
	    "{\"roles\":[{\"name\":\"db-admin\",\"principals\":[\"bob\""
	    ",\"dba\"],\"default_ttl\":3600,\"max_ttl\":3600,\"approval"
	    "s_required\":2,\"critical_options\":{},\"extensions\":[\"p"
	    "ermit-pty\"],\"can_request\":false,\"can_approve\":true},{"
	    "\"name\":\"prod-debug\",\"principals\":[\"bob\",\"debug\"]"
	    ",\"default_ttl\":1800,\"max_ttl\":7200,\"approvals_require"
	    "d\":1,\"critical_options\":{\"source-address\":\"10.0.0.0/"
	    "8\"},\"extensions\":[\"permit-pty\"],\"can_request\":false"
	    ",\"can_approve\":true}]}");
	TU_PIN(pin_roles(&root),
	    "{\"roles\":[{\"name\":\"db-admin\",\"principals\":[\"{{use"
	    "r}}\",\"dba\"],\"default_ttl\":3600,\"max_ttl\":3600,\"app"
	    "rovals_required\":2,\"critical_options\":{},\"extensions\""
	    ":[\"permit-pty\"],\"can_request\":false,\"can_approve\":fa"
	    "lse},{\"name\":\"prod-debug\",\"principals\":[\"{{user}}\""
	    ",\"debug\"],\"default_ttl\":1800,\"max_ttl\":7200,\"approv"
	    "als_required\":1,\"critical_options\":{\"source-address\":"
	    "\"10.0.0.0/8\"},\"extensions\":[\"permit-pty\"],\"can_requ"
	    "est\":false,\"can_approve\":false},{\"name\":\"staging\",\""
	    "principals\":[\"{{user}}\"],\"default_ttl\":28800,\"max_tt"
	    "l\":28800,\"approvals_required\":0,\"critical_options\":{}"
	    ",\"extensions\":[\"permit-port-forwarding\",\"permit-pty\""
	    "],\"can_request\":false,\"can_approve\":false}]}");
	TU_PIN(pin_roles(&eve), "{\"roles\":[]}");
	TU_PIN(pin_users(), "[]");
	fx_cast();
	fx_user("erin", "engineering", 1);
	TU_PIN(pin_users(),
	    "[{\"name\":\"bob\",\"groups\":[\"sre-leads\"],\"disabled\""
	    ":false,\"created\":1800000000},{\"name\":\"carol\",\"group"
	    "s\":[\"sre-leads\",\"engineering\"],\"disabled\":false,\"c"
	    "reated\":1800000000},{\"name\":\"dave\",\"groups\":[\"dba-"
	    "leads\"],\"disabled\":false,\"created\":1800000000},{\"nam"
	    "e\":\"erin\",\"groups\":[\"engineering\"],\"disabled\":tru"
	    "e,\"created\":1800000000}]");
}

/* fx_cfg again, with a break-glass role "oncall". */
static void
bg_config(void)
{
	const char *at = strstr(fx_config_json, "  \"staging\"");
	char err[CONFIG_ERR_LEN] = "";
	char *json;

	cr_assert_not_null(at);
	json = tu_fmt("%.*s  \"oncall\": {\"principals\": [\"{{user}}\"], "
		      "\"max_ttl\": \"1h\", \"requesters\": [\"engineering\"], "
		      "\"approvers\": [\"sre-leads\"], \"approvals_required\": "
		      "1, \"break_glass\": {\"max_ttl\": \"15m\"}},\n%s",
	    (int)(at - fx_config_json), fx_config_json, at);
	config_free(fx_cfg);
	cr_assert_eq(config_parse(&fx_cfg, fx_dir, json, strlen(json), err), 0,
	    "%s", err);
	fx_ca.cfg = fx_cfg;
	free(json);
}

Test(encode, break_glass_and_review)
{
	json_t *j = NULL;
	int64_t id;

	bg_config();
	cr_assert_eq(fx_request_break_glass(&fx_ca, &alice, "oncall", NULL, 0,
			 0, "INC-9 down", PIN_KEY, &j),
	    0);
	id = json_integer_value(json_object_get(j, "id"));
	TU_PIN(dump_masked(j),
	    "{\"id\":1,\"state\":\"issued\",\"role\":\"oncall\",\"reque"
	    "ster\":\"alice\",\"principals\":[\"alice\"],\"ttl\":900,\""
	    "reason\":\"INC-9 down\",\"created\":1800000000,\"expires\""
	    ":1800003600,\"approvals_required\":1,\"key_fingerprint\":\""
	    "SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC4RQUsAyK6+0E6KA\",\"pub"
	    "lic_key\":\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKU"
	    "invECXmpmc9jKTST6it9c/Joez9kkKn7CE\",\"digest\":\"sha256:b"
	    "5e5871518cb59933bf031b0730a9c1fa31c5ae9bedce6a0183d47f7d71"
	    "2d993\",\"approver_groups\":[\"sre-leads\"],\"approvals\":"
	    "[],\"certificate\":\"<cert>\",\"serial\":1,\"key_id\":\"al"
	    "ice:oncall:req-1:serial-1\",\"valid_after\":1799999940,\"v"
	    "alid_before\":1800000900,\"break_glass\":true,\"needs_revi"
	    "ew\":true}");
	/* cert.issued as recorded, whole (made before the unit). */
	cr_assert_eq(
	    fx_int("SELECT count(*) FROM events e, certificates c WHERE"
		   " e.type = 'cert.issued' AND e.details = '{\"approvers\":[],"
		   "\"break_glass\":true,\"cert_sha256\":\"' || c.cert_sha256"
		   " || '\",\"direct\":false,\"key_fp\":\"SHA256:Qc436/SO+qB"
		   "MrXhc+3ZthgbTdRDC4RQUsAyK6+0E6KA\",\"key_id\":\"alice:onca"
		   "ll:req-1:serial-1\",\"principals\":[\"alice\"],\"request"
		   "\":1,\"role\":\"oncall\",\"serial\":1,\"user\":\"alice\""
		   ",\"valid_after\":1799999940,\"valid_before\":1800000900}'",
		NULL),
	    1);
	TU_PIN(pin_roles(&carol),
	    "{\"roles\":[{\"name\":\"db-admin\",\"principals\":[\"carol"
	    "\",\"dba\"],\"default_ttl\":3600,\"max_ttl\":3600,\"approv"
	    "als_required\":2,\"critical_options\":{},\"extensions\":[\""
	    "permit-pty\"],\"can_request\":true,\"can_approve\":true},{"
	    "\"name\":\"oncall\",\"principals\":[\"carol\"],\"default_t"
	    "tl\":3600,\"max_ttl\":3600,\"approvals_required\":1,\"crit"
	    "ical_options\":{},\"extensions\":[],\"can_request\":true,\""
	    "can_approve\":true,\"break_glass\":{\"max_ttl\":900}},{\"n"
	    "ame\":\"prod-debug\",\"principals\":[\"carol\",\"debug\"],"
	    "\"default_ttl\":1800,\"max_ttl\":7200,\"approvals_required"
	    "\":1,\"critical_options\":{\"source-address\":\"10.0.0.0/8"
	    "\"},\"extensions\":[\"permit-pty\"],\"can_request\":true,\""
	    "can_approve\":true},{\"name\":\"staging\",\"principals\":["
	    "\"carol\"],\"default_ttl\":28800,\"max_ttl\":28800,\"appro"
	    "vals_required\":0,\"critical_options\":{},\"extensions\":["
	    "\"permit-port-forwarding\",\"permit-pty\"],\"can_request\""
	    ":true,\"can_approve\":false}]}");
	fx_now_set(FX_T0 + 60);
	cr_assert_eq(fx_request_review(&fx_ca, &bob, id, "seen", &j), 0);
	TU_PIN(dump_masked(j),
	    "{\"id\":1,\"state\":\"issued\",\"role\":\"oncall\",\"reque"
	    "ster\":\"alice\",\"principals\":[\"alice\"],\"ttl\":900,\""
	    "reason\":\"INC-9 down\",\"created\":1800000000,\"expires\""
	    ":1800003600,\"approvals_required\":1,\"key_fingerprint\":\""
	    "SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC4RQUsAyK6+0E6KA\",\"pub"
	    "lic_key\":\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKU"
	    "invECXmpmc9jKTST6it9c/Joez9kkKn7CE\",\"digest\":\"sha256:b"
	    "5e5871518cb59933bf031b0730a9c1fa31c5ae9bedce6a0183d47f7d71"
	    "2d993\",\"approver_groups\":[\"sre-leads\"],\"reviewed\":{"
	    "\"who\":\"bob\",\"when\":1800000060,\"comment\":\"seen\"},"
	    "\"approvals\":[],\"certificate\":\"<cert>\",\"serial\":1,\""
	    "key_id\":\"alice:oncall:req-1:serial-1\",\"valid_after\":1"
	    "799999940,\"valid_before\":1800000900,\"break_glass\":true"
	    ",\"needs_review\":false}");
	TU_PIN(pin_list(&fx_all, &bob),
	    "{\"requests\":[{\"id\":1,\"state\":\"issued\",\"role\":\"o"
	    "ncall\",\"requester\":\"alice\",\"principals\":[\"alice\"]"
	    ",\"ttl\":900,\"reason\":\"INC-9 down\",\"created\":1800000"
	    "000,\"expires\":1800003600,\"approvals_required\":1,\"key_"
	    "fingerprint\":\"SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC4RQUsAy"
	    "K6+0E6KA\",\"public_key\":\"ssh-ed25519 AAAAC3NzaC1lZDI1NT"
	    "E5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn7CE\",\"dig"
	    "est\":\"sha256:b5e5871518cb59933bf031b0730a9c1fa31c5ae9bed"
	    "ce6a0183d47f7d712d993\",\"approver_groups\":[\"sre-leads\""
	    "],\"reviewed\":{\"who\":\"bob\",\"when\":1800000060,\"comm"
	    "ent\":\"seen\"},\"approvals\":[],\"certificate\":\"<cert>\""
	    ",\"serial\":1,\"key_id\":\"alice:oncall:req-1:serial-1\",\""
	    "valid_after\":1799999940,\"valid_before\":1800000900,\"bre"
	    "ak_glass\":true,\"needs_review\":false}],\"next_cursor\":n"
	    "ull}");
}

/* ---- the encoder on views built by hand: every field ---- */

static char *hb_principals[] = {"alice", "debug"};
static char *hb_groups[] = {"sre-leads", "dba-leads"};

/* A request with every field set; decisions and cert as given. */
static void
hb_request(struct request_view *v, struct approval_view *d, size_t nd,
    struct cert_view *c)
{
	memset(v, 0, sizeof(*v));
	v->id = 42;
	v->state = "issued";
	v->role = "prod-debug";
	v->requester = "alice";
	v->principals = hb_principals;
	v->nprincipals = 2;
	v->ttl = 900;
	v->reason = "INC-1 \"quoted\"";
	v->created = 100;
	v->expires = 3700;
	v->approvals_required = 2;
	v->key_fp = "SHA256:fp";
	v->key_type = "ssh-ed25519";
	v->public_key = "ssh-ed25519 AAAA";
	snprintf(v->digest, sizeof(v->digest), "sha256:%064d", 7);
	v->has_role = 1;
	v->approver_groups = hb_groups;
	v->napprover_groups = 2;
	v->decisions = d;
	v->ndecisions = nd;
	v->cert = c;
}

static char *
enc(json_t *j)
{
	char *s;

	cr_assert_not_null(j);
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	cr_assert_not_null(s);
	return tu_keep(s);
}

#define HB_HEAD                                                                \
	"{\"id\":42,\"state\":\"issued\",\"role\":\"prod-debug\","             \
	"\"requester\":\"alice\",\"principals\":[\"alice\",\"debug\"],"        \
	"\"ttl\":900,\"reason\":\"INC-1 \\\"quoted\\\"\",\"created\":100,"     \
	"\"expires\":3700,\"approvals_required\":2,"                           \
	"\"key_fingerprint\":\"SHA256:fp\","                                   \
	"\"public_key\":\"ssh-ed25519 AAAA\",\"digest\":\"sha256:"             \
	"0000000000000000000000000000000000000000000000000000000000000007\""

Test(encode, request_every_field)
{
	struct approval_view d[] = {
	    {"bob", "approve", "first", 110},
	    {"carol", "review", "seen", 130},
	    {"dave", "approve", "", 120},
	};
	struct cert_view c = {"ssh-ed25519-cert-v01@openssh.com AAAA", 9,
	    "alice:prod-debug:req-42:serial-9", 60, 1020, 1, 500};
	struct request_view v;

	hb_request(&v, d, 3, &c);
	v.break_glass = 1;
	v.needs_review = 0;
	cr_assert_str_eq(enc(encode_request(&v)),
	    HB_HEAD
	    ",\"approver_groups\":[\"sre-leads\",\"dba-leads\"],"
	    "\"reviewed\":{\"who\":\"carol\",\"when\":130,\"comment\":"
	    "\"seen\"},\"approvals\":[{\"who\":\"bob\",\"when\":110,"
	    "\"comment\":\"first\"},{\"who\":\"dave\",\"when\":120,"
	    "\"comment\":\"\"}],\"certificate\":\"ssh-ed25519-cert-v01@"
	    "openssh.com AAAA\",\"serial\":9,\"key_id\":\"alice:prod-"
	    "debug:req-42:serial-9\",\"valid_after\":60,\"valid_before\":"
	    "1020,\"revoked\":500,\"break_glass\":true,\"needs_review\":"
	    "false}");
}

Test(encode, request_absent_parts)
{
	struct approval_view d[] = {{"bob", "deny", "no", 110}};
	struct cert_view c = {NULL, 9, "k", 60, 1020, 0, 0};
	struct request_view v;

	/* No role any more, no decisions, no certificate. */
	hb_request(&v, NULL, 0, NULL);
	v.has_role = 0;
	cr_assert_str_eq(enc(encode_request(&v)),
	    HB_HEAD ",\"approvals\":[],\"break_glass\":false}");
	/* A denial is a key of its own; a brief certificate has no line. */
	hb_request(&v, d, 1, &c);
	v.approver_groups = NULL;
	v.napprover_groups = 0;
	cr_assert_str_eq(enc(encode_request(&v)),
	    HB_HEAD ",\"approver_groups\":[],\"denied\":{\"who\":\"bob\","
		    "\"when\":110,\"comment\":\"no\"},\"approvals\":[],"
		    "\"serial\":9,\"key_id\":\"k\",\"valid_after\":60,"
		    "\"valid_before\":1020,\"break_glass\":false}");
}

Test(encode, pages_roles_users_revocations_hosts)
{
	struct request_view one[1];
	struct request_views page = {one, 1, 42};
	struct request_views none = {NULL, 0, 0};
	struct option_view crit[] = {{"force-command", "/bin/true"}};
	static char *ext[] = {"permit-pty"};
	struct role_view rv[1];
	struct role_views roles = {rv, 1};
	struct role_views noroles = {NULL, 0};
	static char *g[] = {"engineering"};
	struct user_view uv[] = {{"alice", g, 1, 1, 5}};
	struct user_views users = {uv, 1};
	struct user_views nousers = {NULL, 0};
	uint64_t nw[] = {3, 4}, old[] = {1};
	struct revocation_view rev = {nw, 2, old, 1, 7, NULL, 0};
	struct host_issued hi = {
	    "ssh-ed25519-cert-v01@openssh.com BBBB", 11, 50, 90, 1};
	static char *hp[] = {"db1.example.com", "10.0.0.1"};
	struct host h = {"db1", hp, 2, 0, 5, NULL, 0};

	hb_request(&one[0], NULL, 0, NULL);
	one[0].has_role = 0;
	cr_assert_str_eq(enc(encode_requests(&page)),
	    "{\"requests\":[" HB_HEAD ",\"approvals\":[],\"break_glass\":"
	    "false}],\"next_cursor\":\"42\"}");
	cr_assert_str_eq(enc(encode_requests(&none)),
	    "{\"requests\":[],\"next_cursor\":null}");
	cr_assert_str_eq(enc(encode_request_list(NULL, 0)), "[]");

	memset(rv, 0, sizeof(rv));
	rv[0].name = "prod-debug";
	rv[0].principals = hb_principals;
	rv[0].nprincipals = 2;
	rv[0].default_ttl = 1800;
	rv[0].max_ttl = 7200;
	rv[0].approvals_required = 1;
	rv[0].critical = crit;
	rv[0].ncritical = 1;
	rv[0].extensions = ext;
	rv[0].nextensions = 1;
	rv[0].can_approve = 1;
	rv[0].break_glass_ttl = 900;
	cr_assert_str_eq(enc(encode_roles(&roles)),
	    "{\"roles\":[{\"name\":\"prod-debug\",\"principals\":[\"alice\","
	    "\"debug\"],\"default_ttl\":1800,\"max_ttl\":7200,"
	    "\"approvals_required\":1,\"critical_options\":{\"force-command\":"
	    "\"/bin/true\"},\"extensions\":[\"permit-pty\"],\"can_request\":"
	    "false,\"can_approve\":true,\"break_glass\":{\"max_ttl\":900}}]}");
	cr_assert_str_eq(enc(encode_roles(&noroles)), "{\"roles\":[]}");

	cr_assert_str_eq(enc(encode_users(&users)),
	    "[{\"name\":\"alice\",\"groups\":[\"engineering\"],\"disabled\":"
	    "true,\"created\":5}]");
	cr_assert_str_eq(enc(encode_users(&nousers)), "[]");

	cr_assert_str_eq(enc(encode_revocation(&rev)),
	    "{\"revoked\":[3,4],\"already_revoked\":[1],\"krl_version\":7}");
	rev.key_fp = "SHA256:k";
	rev.key_revoked = 1;
	rev.nrevoked = rev.nalready_revoked = 0;
	cr_assert_str_eq(enc(encode_revocation(&rev)),
	    "{\"revoked\":[],\"already_revoked\":[],\"krl_version\":7,"
	    "\"key_fingerprint\":\"SHA256:k\",\"key_revoked\":true}");

	cr_assert_str_eq(enc(encode_host_cert(&hi, &h)),
	    "{\"certificate\":\"ssh-ed25519-cert-v01@openssh.com BBBB\","
	    "\"serial\":11,\"valid_after\":50,\"valid_before\":90,"
	    "\"principals\":[\"db1.example.com\",\"10.0.0.1\"],\"renewal\":"
	    "true}");
}

/* Every allocation jansson makes failing in turn: NULL, never a
 * partial document, and nothing leaks (ASan). */
Test(encode, out_of_memory_is_null)
{
	struct approval_view d[] = {
	    {"bob", "deny", "no", 110}, {"dave", "approve", "", 120}};
	struct cert_view c = {"line", 9, "k", 60, 1020, 1, 500};
	struct request_view v;
	struct request_views page = {&v, 1, 42};
	json_t *j;
	size_t n;

	hb_request(&v, d, 2, &c);
	v.break_glass = v.needs_review = 1;
	for (n = 1;; n++) {
		tu_fail_malloc_arm(n);
		json_set_alloc_funcs(tu_fail_malloc, free);
		j = encode_requests(&page);
		json_set_alloc_funcs(malloc, free);
		if (!tu_fail_malloc_failed())
			break;
		cr_assert_null(j, "allocation %zu failing", n);
	}
	cr_assert_gt(n, 20);
	cr_assert_str_eq(enc(j),
	    "{\"requests\":[" HB_HEAD ",\"approver_groups\":[\"sre-leads\","
	    "\"dba-leads\"],\"denied\":{\"who\":\"bob\",\"when\":110,"
	    "\"comment\":\"no\"},\"approvals\":[{\"who\":\"dave\",\"when\":"
	    "120,\"comment\":\"\"}],\"certificate\":\"line\",\"serial\":9,"
	    "\"key_id\":\"k\",\"valid_after\":60,\"valid_before\":1020,"
	    "\"revoked\":500,\"break_glass\":true,\"needs_review\":true}],"
	    "\"next_cursor\":\"42\"}");
}

/*
 * encode_request_text() (the issuance path's answers, written without
 * building them) against json_dumps() of encode_request(), over views
 * that vary every optional part and strings that jsonw writes itself
 * (plain ASCII) or hands to jansson (escapes, non-ASCII, controls);
 * appended after text already in the buffer.  Where encode_request()
 * fails, so does it, leaving the buffer as it was.
 */
Test(encode, request_text_is_encode_request_dumped)
{
	static char *strs[] = {"plain", "q\"uo\\te", "caf\xc3\xa9 \xe6\x97\xa5",
	    "tab\tnl\n", "", "/slash del\x7f"};
	static char *ps2[] = {"alice", "db\"a"},
		    *groups[] = {"sre", "l\xc3\xa9"};
	struct cert_view c;
	struct request_view v;
	struct jsonw_buf b;
	unsigned k, n = 0;

	for (k = 0; k < 6 * 64; k++) {
		unsigned f = k / 6;
		char *s = strs[k % 6], *want;
		json_t *j;

		memset(&v, 0, sizeof(v));
		memset(&c, 0, sizeof(c));
		v.id = 1 + (int64_t)k;
		v.state = (f & 1) ? "issued" : "pending";
		v.role = s;
		v.requester = "alice";
		v.principals = (f & 2) ? ps2 : NULL;
		v.nprincipals = (f & 2) ? 2 : 0;
		v.ttl = (f & 4) ? UINT64_MAX - 5 : 3600;
		v.reason = s;
		v.created = 1800000000;
		v.expires = (f & 4) ? (uint64_t)INT64_MAX + 9 : 1800003600;
		v.approvals_required = (f & 4) ? 7 : 0;
		v.key_fp = PIN_FP;
		v.public_key = PIN_KEY_NC;
		snprintf(v.digest, sizeof(v.digest), "sha256:%064x", k);
		v.has_role = (f & 8) != 0;
		v.approver_groups = groups;
		v.napprover_groups = (f & 2) ? 2 : 0;
		if (f & 16) {
			c.certificate = (f & 1) ? s : NULL;
			c.serial = (f & 4) ? UINT64_MAX : 42;
			c.key_id = "alice:r:req-1:serial-42";
			c.valid_after = (f & 4) ? INT64_MIN : 1799999940;
			c.valid_before = 1800003600;
			c.revoked = (f & 2) != 0;
			c.revoked_time = -3;
			v.cert = &c;
		}
		v.break_glass = (f & 32) != 0;
		v.needs_review = (f & 1) != 0;
		j = encode_request(&v);
		cr_assert_not_null(j);
		want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(j);
		cr_assert_not_null(want);
		jsonw_buf_init(&b, 1 << 20);
		cr_assert_eq(jsonw_buf_put(&b, "x", 1), 0);
		cr_assert_eq(encode_request_text(&b, &v), 0, "view %u", k);
		cr_assert_eq(b.len, strlen(want) + 1);
		cr_assert_str_eq(b.data + 1, want, "view %u", k);
		cr_assert_eq(b.data[0], 'x');
		free(want);
		jsonw_buf_free(&b);
		n++;
	}
	cr_assert_eq(n, 384);

	/* Where encode_request() fails: a missing string, one that is not
	 * UTF-8, in a field and in a list; and decisions, which are left
	 * to it; and past the buffer's cap. */
	memset(&v, 0, sizeof(v));
	v.state = "pending";
	v.role = "r";
	v.requester = "alice";
	v.reason = NULL;
	v.key_fp = PIN_FP;
	v.public_key = PIN_KEY_NC;
	jsonw_buf_init(&b, 1 << 20);
	cr_assert_eq(jsonw_buf_put(&b, "ab", 2), 0);
	cr_assert_null(encode_request(&v));
	cr_assert_eq(encode_request_text(&b, &v), ERR_INVALID_ARG);
	cr_assert_eq(b.len, 2);
	cr_assert_str_eq(b.data, "ab");
	v.reason = "\xff\xfe";
	cr_assert_null(encode_request(&v));
	cr_assert_eq(encode_request_text(&b, &v), ERR_INVALID_ARG);
	cr_assert_str_eq(b.data, "ab");
	v.reason = "ok";
	v.principals = (char *[]){"fine", "bad\xc3"};
	v.nprincipals = 2;
	cr_assert_null(encode_request(&v));
	cr_assert_eq(encode_request_text(&b, &v), ERR_INVALID_ARG);
	cr_assert_str_eq(b.data, "ab");
	v.nprincipals = 1;
	v.has_role = 1;
	v.approver_groups = (char *[]){"bad\xed\xa0\x80"}; /* a surrogate */
	v.napprover_groups = 1;
	cr_assert_null(encode_request(&v));
	cr_assert_eq(encode_request_text(&b, &v), ERR_INVALID_ARG);
	cr_assert_str_eq(b.data, "ab");
	v.has_role = 0;
	v.state = NULL;
	cr_assert_null(encode_request(&v));
	cr_assert_eq(encode_request_text(&b, &v), ERR_INVALID_ARG);
	cr_assert_str_eq(b.data, "ab");
	v.state = "issued";
	v.cert = &(struct cert_view){.certificate = "x\xc3", .key_id = "k"};
	cr_assert_null(encode_request(&v));
	cr_assert_eq(encode_request_text(&b, &v), ERR_INVALID_ARG);
	cr_assert_str_eq(b.data, "ab");
	v.cert = &(struct cert_view){.certificate = "x", .key_id = NULL};
	cr_assert_null(encode_request(&v));
	cr_assert_eq(encode_request_text(&b, &v), ERR_INVALID_ARG);
	cr_assert_str_eq(b.data, "ab");
	v.cert = NULL;
	v.decisions = &(struct approval_view){"bob", "approve", "", 5};
	v.ndecisions = 1;
	cr_assert_eq(encode_request_text(&b, &v), ERR_INVALID_ARG);
	cr_assert_str_eq(b.data, "ab");
	v.ndecisions = 0;
	jsonw_buf_free(&b);
	jsonw_buf_init(&b, 40);
	cr_assert_eq(encode_request_text(&b, &v), ERR_TOO_LARGE);
	cr_assert_eq(b.len, 0);
	jsonw_buf_free(&b);
}
