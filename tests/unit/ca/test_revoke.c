/*
 * test_revoke.c: revocation (ca/revoke.c) by every selector, with its
 * events, krl_version bumps, idempotence, refusals and who may revoke;
 * and the KRL built from the ledger, checked with the real ssh-keygen
 * (-Q says REVOKED / ok for certificates written to files), including
 * revoked keys and certificates that leave the KRL once expired.
 */
#include <unistd.h>

#include "ca_fixture.h"
#include "signer/krl.h"

TestSuite(revoke, .init = fx_setup, .fini = fx_teardown);

struct issued {
	int64_t id;
	int64_t serial;
	char *key_id;
	char *cert;
	char *key;
};

static void
issued_free(struct issued *i)
{
	free(i->key_id);
	free(i->cert);
	free(i->key);
	memset(i, 0, sizeof(*i));
}

/* Issue one certificate for a on role (approved by bob if needed). */
static void
issue(struct issued *out, const struct ca_actor *a, const char *role,
    const char *key)
{
	json_t *req = NULL, *fin = NULL;

	memset(out, 0, sizeof(*out));
	out->key = key != NULL ? strdup(key) : fx_key_line();
	out->id = fx_create(a, role, out->key, &req);
	if (strcmp(fx_str(req, "state"), "pending") == 0) {
		cr_assert_eq(
		    fx_request_approve(&fx_ca, &bob, out->id, NULL, &fin), 0);
		json_decref(req);
		req = fin;
	}
	cr_assert_str_eq(fx_str(req, "state"), "issued");
	out->serial = json_integer_value(json_object_get(req, "serial"));
	out->key_id = strdup(fx_str(req, "key_id"));
	out->cert = strdup(fx_str(req, "certificate"));
	json_decref(req);
}

static int
do_revoke(const struct ca_actor *a, enum revoke_by by, uint64_t n,
    const char *text, json_t **out)
{
	struct revoke_target t = {.by = by, .text = text};

	if (by == REVOKE_REQUEST)
		t.request = (int64_t)n;
	else
		t.serial = n;
	return fx_revoke_apply(&fx_ca, a, &t, "laptop stolen", out);
}

static int64_t
jint(json_t *o, const char *k)
{
	cr_assert(json_is_integer(json_object_get(o, k)), "%s", k);
	return json_integer_value(json_object_get(o, k));
}

static void
assert_serials(json_t *arr, const int64_t *want, size_t n)
{
	size_t i;

	cr_assert_eq(
	    json_array_size(arr), n, "got %zu serials", json_array_size(arr));
	for (i = 0; i < n; i++)
		cr_assert_eq(
		    json_integer_value(json_array_get(arr, i)), want[i]);
}

static uint64_t
krl_version_now(void)
{
	uint64_t v = 0;

	cr_assert_eq(ledger_krl_version(fx_l, &v), 0);
	return v;
}

Test(revoke, by_each_selector)
{
	struct issued a1, a2, a3, c1;
	json_t *res = NULL;
	char *st;

	issue(&a1, &alice, "staging", NULL);
	issue(&a2, &alice, "staging", NULL);
	issue(&a3, &alice, "prod-debug", NULL);
	issue(&c1, &carol, "staging", NULL);
	cr_assert_eq(krl_version_now(), 0);

	/* serial */
	cr_assert_eq(do_revoke(&root, REVOKE_SERIAL, a1.serial, NULL, &res), 0);
	assert_serials(json_object_get(res, "revoked"), &a1.serial, 1);
	assert_serials(json_object_get(res, "already_revoked"), NULL, 0);
	cr_assert_eq(jint(res, "krl_version"), 1);
	json_decref(res);
	cr_assert_eq(fx_events("cert.revoked"), 1);
	st = fx_state(a1.id);
	cr_assert_str_eq(st, "revoked");
	free(st);
	cr_assert_eq(
	    fx_int("SELECT count(*) FROM events WHERE type ="
		   " 'cert.revoked' AND actor = 'local:root' AND"
		   " json_extract(details, '$.serial') = 1 AND"
		   " json_extract(details, '$.reason') = 'laptop"
		   " stolen' AND json_extract(details, '$.key_id') = ?",
		a1.key_id),
	    1);

	/* again: idempotent, nothing written */
	cr_assert_eq(do_revoke(&root, REVOKE_SERIAL, a1.serial, NULL, &res), 0);
	assert_serials(json_object_get(res, "revoked"), NULL, 0);
	assert_serials(json_object_get(res, "already_revoked"), &a1.serial, 1);
	cr_assert_eq(jint(res, "krl_version"), 1);
	json_decref(res);
	cr_assert_eq(fx_events("cert.revoked"), 1);

	/* key id */
	cr_assert_eq(do_revoke(&root, REVOKE_KEY_ID, 0, a2.key_id, &res), 0);
	assert_serials(json_object_get(res, "revoked"), &a2.serial, 1);
	cr_assert_eq(jint(res, "krl_version"), 2);
	json_decref(res);

	/* user: the live ones; two were already revoked */
	cr_assert_eq(do_revoke(&root, REVOKE_USER, 0, "alice", &res), 0);
	assert_serials(json_object_get(res, "revoked"), &a3.serial, 1);
	{
		int64_t old[] = {a1.serial, a2.serial};

		assert_serials(json_object_get(res, "already_revoked"), old, 2);
	}
	cr_assert_eq(jint(res, "krl_version"), 3);
	json_decref(res);

	/* request */
	cr_assert_eq(
	    do_revoke(&root, REVOKE_REQUEST, (uint64_t)c1.id, NULL, &res), 0);
	assert_serials(json_object_get(res, "revoked"), &c1.serial, 1);
	cr_assert_eq(jint(res, "krl_version"), 4);
	json_decref(res);
	cr_assert_eq(fx_events("cert.revoked"), 4);
	cr_assert_eq(fx_int("SELECT count(*) FROM certificates WHERE revoked"
			    " IS NULL",
			 NULL),
	    0);
	cr_assert_eq(fx_int("SELECT count(*) FROM requests WHERE state ="
			    " 'revoked'",
			 NULL),
	    4);
	issued_free(&a1);
	issued_free(&a2);
	issued_free(&a3);
	issued_free(&c1);
}

Test(revoke, by_public_key)
{
	struct issued a1, a2;
	json_t *res = NULL;
	char *key = fx_key_line();

	issue(&a1, &alice, "staging", key);
	issue(&a2, &alice, "prod-debug", key);
	cr_assert_eq(do_revoke(&sec, REVOKE_PUBLIC_KEY, 0, key, &res), 0);
	{
		int64_t both[] = {a1.serial, a2.serial};

		assert_serials(json_object_get(res, "revoked"), both, 2);
	}
	cr_assert(json_is_true(json_object_get(res, "key_revoked")));
	{
		struct pubkey *k = NULL;
		char fp[PUBKEY_FP_LEN];

		cr_assert_eq(pubkey_from_line(&k, key, strlen(key)), 0);
		cr_assert_eq(pubkey_fingerprint(fp, k), 0);
		cr_assert_str_eq(fx_str(res, "key_fingerprint"), fp);
		pubkey_free(k);
	}
	cr_assert_eq(jint(res, "krl_version"), 1);
	json_decref(res);
	cr_assert_eq(fx_events("key.revoked"), 1);
	cr_assert_eq(fx_events("cert.revoked"), 2);
	cr_assert_eq(fx_int("SELECT count(*) FROM revoked_keys", NULL), 1);
	cr_assert_eq(fx_int("SELECT count(*) FROM events WHERE type ="
			    " 'key.revoked' AND json_array_length(details,"
			    " '$.certificates') = 2 AND"
			    " length(json_extract(details, '$.key_sha256')) ="
			    " 64 AND actor = ?",
			 "sec"),
	    1);

	/* again: nothing new */
	cr_assert_eq(do_revoke(&root, REVOKE_PUBLIC_KEY, 0, key, &res), 0);
	cr_assert(json_is_false(json_object_get(res, "key_revoked")));
	assert_serials(json_object_get(res, "revoked"), NULL, 0);
	cr_assert_eq(jint(res, "krl_version"), 1);
	json_decref(res);
	cr_assert_eq(fx_events("key.revoked"), 1);

	/* a key never used can be revoked ahead */
	{
		char *fresh = fx_key_line();

		cr_assert_eq(
		    do_revoke(&root, REVOKE_PUBLIC_KEY, 0, fresh, &res), 0);
		assert_serials(json_object_get(res, "revoked"), NULL, 0);
		cr_assert(json_is_true(json_object_get(res, "key_revoked")));
		json_decref(res);
		cr_assert_eq(fx_request_create(&fx_ca, &alice, "staging", NULL,
				 0, 0, "r", fresh, &res),
		    ERR_POLICY);
		free(fresh);
	}
	issued_free(&a1);
	issued_free(&a2);
	free(key);
}

Test(revoke, refusals_write_nothing)
{
	struct issued a1, p1;
	struct revoke_target t = {.by = REVOKE_SERIAL, .serial = 1};
	json_t *res = NULL;
	char *pend_key = fx_key_line();
	int64_t pending, events;

	issue(&a1, &alice, "staging", NULL);
	issue(&p1, &alice, "prod-debug", NULL);
	pending = fx_create(&alice, "prod-debug", pend_key, NULL);
	events = fx_events(NULL);

	cr_assert_eq(
	    do_revoke(&root, REVOKE_SERIAL, 999, NULL, &res), ERR_NOT_FOUND);
	cr_assert_null(res);
	cr_assert_eq(
	    do_revoke(&root, REVOKE_SERIAL, 0, NULL, &res), ERR_INVALID_ARG);
	cr_assert_eq(
	    do_revoke(&root, REVOKE_KEY_ID, 0, "nobody:x:req-1:serial-9", &res),
	    ERR_NOT_FOUND);
	cr_assert_eq(do_revoke(&root, REVOKE_KEY_ID, 0, "bad id", &res),
	    ERR_CERT_BAD_KEY_ID);
	cr_assert_eq(
	    do_revoke(&root, REVOKE_KEY_ID, 0, NULL, &res), ERR_INVALID_ARG);
	cr_assert_eq(
	    do_revoke(&root, REVOKE_USER, 0, "erin", &res), ERR_NOT_FOUND);
	cr_assert_eq(
	    do_revoke(&root, REVOKE_USER, 0, "a*b", &res), ERR_BAD_NAME);
	cr_assert_eq(
	    do_revoke(&root, REVOKE_REQUEST, 999, NULL, &res), ERR_NOT_FOUND);
	cr_assert_eq(
	    do_revoke(&root, REVOKE_REQUEST, (uint64_t)pending, NULL, &res),
	    ERR_WRONG_STATE);
	cr_assert_eq(do_revoke(&root, REVOKE_PUBLIC_KEY, 0, "garbage", &res),
	    ERR_KEY_LINE);
	cr_assert_eq(do_revoke(&root, 99, 1, NULL, &res), ERR_INVALID_ARG);
	/* reason is required and bounded */
	cr_assert_eq(
	    fx_revoke_apply(&fx_ca, &root, &t, "", &res), ERR_INVALID_ARG);
	cr_assert_eq(
	    fx_revoke_apply(&fx_ca, &root, &t, NULL, &res), ERR_INVALID_ARG);
	cr_assert_eq(
	    fx_revoke_apply(&fx_ca, &root, &t, "a\nb", &res), ERR_TEXT_CHAR);

	/* who may revoke */
	cr_assert_eq(
	    do_revoke(&eve, REVOKE_SERIAL, (uint64_t)a1.serial, NULL, &res),
	    ERR_FORBIDDEN);
	cr_assert_eq(
	    do_revoke(&erin, REVOKE_SERIAL, (uint64_t)a1.serial, NULL, &res),
	    ERR_FORBIDDEN);
	/* bob approves prod-debug, not staging (no approvers) */
	cr_assert_eq(
	    do_revoke(&bob, REVOKE_SERIAL, (uint64_t)a1.serial, NULL, &res),
	    ERR_FORBIDDEN);
	cr_assert_eq(
	    do_revoke(&bob, REVOKE_USER, 0, "alice", &res), ERR_FORBIDDEN);
	cr_assert_eq(do_revoke(&alice, REVOKE_PUBLIC_KEY, 0, a1.key, &res),
	    ERR_FORBIDDEN);
	cr_assert_null(res);
	cr_assert_eq(fx_events(NULL), events);
	cr_assert_eq(krl_version_now(), 0);

	/* allowed: bob for a prod-debug cert, alice for her own */
	cr_assert_eq(
	    do_revoke(&bob, REVOKE_SERIAL, (uint64_t)p1.serial, NULL, NULL), 0);
	cr_assert_eq(do_revoke(&alice, REVOKE_KEY_ID, 0, a1.key_id, NULL), 0);
	cr_assert_eq(fx_events("cert.revoked"), 2);
	cr_assert_eq(krl_version_now(), 2);
	issued_free(&a1);
	issued_free(&p1);
	free(pend_key);
}

/* ---- the KRL ---- */

static char *
write_file(const char *name, const char *text)
{
	char *p = tu_fmt("%s/%s", fx_dir, name);

	tu_write_file(p, text, strlen(text), 0644);
	return p;
}

/* ssh-keygen -Q -f krl file: 0 ok, 1 revoked (asserting its line). */
static int
krl_query(const char *krl, const char *file)
{
	char *out = NULL, *err = NULL;
	int rc;

	rc = tu_run((char *[]){"ssh-keygen", "-Q", "-f", (char *)(uintptr_t)krl,
			(char *)(uintptr_t)file, NULL},
	    NULL, &out, &err);
	cr_assert(rc == 0 || rc == 1, "ssh-keygen -Q: %d %s", rc, err);
	cr_assert_not_null(
	    strstr(out, rc == 0 ? ": ok" : ": REVOKED"), "%s", out);
	free(out);
	free(err);
	return rc;
}

Test(revoke, krl_empty_is_valid)
{
	uint8_t *krl = NULL;
	size_t len = 0;
	struct issued a1;
	char *path = tu_fmt("%s/revoked.krl", fx_dir), *cf;

	cr_assert_eq(revoke_krl_build(&fx_ca, &krl, &len), 0);
	cr_assert_eq(len, KRL_EMPTY_LEN);
	cr_assert_eq(krl_check(krl, len), 0);
	free(krl);
	issue(&a1, &alice, "staging", NULL);
	cr_assert_eq(revoke_krl_write(&fx_ca, path), 0);
	cf = write_file("a1-cert.pub", a1.cert);
	cr_assert_eq(krl_query(path, cf), 0);
	issued_free(&a1);
	free(cf);
	free(path);
}

Test(revoke, krl_matches_ssh_keygen)
{
	struct issued a1, a2, a3, b1, k1;
	char *path = tu_fmt("%s/revoked.krl", fx_dir);
	char *f1, *f2, *f3, *fb, *fk, *fkey, *out = NULL;
	char *kkey = fx_key_line();
	uint8_t *krl = NULL;
	size_t len = 0;
	uint64_t v = 0;
	size_t i;

	issue(&a1, &alice, "staging", NULL);
	issue(&a2, &alice, "staging", NULL);
	issue(&a3, &alice, "prod-debug", NULL);
	issue(&b1, &erin, "staging", NULL);
	issue(&k1, &erin, "staging", kkey);
	cr_assert_eq(
	    do_revoke(&root, REVOKE_SERIAL, (uint64_t)a1.serial, NULL, NULL),
	    0);
	cr_assert_eq(
	    do_revoke(&root, REVOKE_REQUEST, (uint64_t)a3.id, NULL, NULL), 0);
	cr_assert_eq(do_revoke(&root, REVOKE_PUBLIC_KEY, 0, kkey, NULL), 0);
	cr_assert_eq(revoke_krl_write(&fx_ca, path), 0);

	f1 = write_file("a1-cert.pub", a1.cert);
	f2 = write_file("a2-cert.pub", a2.cert);
	f3 = write_file("a3-cert.pub", a3.cert);
	fb = write_file("b1-cert.pub", b1.cert);
	fk = write_file("k1-cert.pub", k1.cert);
	fkey = write_file("k1.pub", kkey);
	cr_assert_eq(krl_query(path, f1), 1);
	cr_assert_eq(krl_query(path, f2), 0);
	cr_assert_eq(krl_query(path, f3), 1);
	cr_assert_eq(krl_query(path, fb), 0);
	cr_assert_eq(krl_query(path, fk), 1);
	cr_assert_eq(krl_query(path, fkey), 1);

	/* Header: krl_version from the ledger, generated_date now. */
	cr_assert_not_null(krl = (uint8_t *)tu_read_file(path, &len));
	cr_assert_gt(len, KRL_EMPTY_LEN);
	cr_assert_eq(ledger_krl_version(fx_l, &v), 0);
	cr_assert_eq(v, 3);
	for (v = 0, i = 12; i < 20; i++)
		v = (v << 8) | krl[i];
	cr_assert_eq(v, 3);
	for (v = 0, i = 20; i < 28; i++)
		v = (v << 8) | krl[i];
	cr_assert_eq(v, FX_T0);
	free(krl);
	krl = NULL;

	/* Listing: exactly the serials revoked, and one key hash. */
	cr_assert_eq(
	    tu_run((char *[]){"ssh-keygen", "-Q", "-l", "-f", path, NULL}, NULL,
		&out, NULL),
	    0);
	cr_assert_not_null(strstr(out, "serial: 1\n"), "%s", out);
	cr_assert_not_null(strstr(out, "serial: 3\n"), "%s", out);
	cr_assert_not_null(strstr(out, "serial: 5\n"), "%s", out);
	cr_assert_null(strstr(out, "serial: 2\n"), "%s", out);
	cr_assert_not_null(strstr(out, "hash: SHA256:"), "%s", out);
	free(out);
	out = NULL;

	/* A CA clock 9 h ahead: both certificates have expired by that
	 * clock, yet stay in the KRL (hosts with the right time still
	 * accept them); the key stays forever. */
	fx_now_set(FX_T0 + 9 * 3600);
	cr_assert_eq(revoke_krl_build(&fx_ca, &krl, &len), 0);
	cr_assert_eq(krl_check(krl, len), 0);
	free(krl);
	cr_assert_eq(revoke_krl_write(&fx_ca, path), 0);
	cr_assert_eq(krl_query(path, f1), 1);
	cr_assert_eq(krl_query(path, f3), 1);
	cr_assert_eq(krl_query(path, fk), 1);

	/* Retention: valid_before + hard_max_ttl (24h) + backdate (1m).
	 * prod-debug (30m) leaves at its valid_before + 86460 s, staging
	 * (8h) later. */
	cr_assert_eq(revoke_krl_retention(&fx_ca), 86460);
	cr_assert_eq(fx_int("SELECT valid_before FROM certificates"
			    " WHERE serial = 3",
			 NULL),
	    FX_T0 + 1800);
	fx_now_set(FX_T0 + 1800 + 86460 - 1);
	cr_assert_eq(revoke_krl_write(&fx_ca, path), 0);
	cr_assert_eq(krl_query(path, f3), 1);
	fx_now_set(FX_T0 + 1800 + 86460);
	cr_assert_eq(revoke_krl_write(&fx_ca, path), 0);
	cr_assert_eq(krl_query(path, f1), 1);
	cr_assert_eq(krl_query(path, f3), 0);
	fx_now_set(FX_T0 + 8 * 3600 + 86460 - 1);
	cr_assert_eq(revoke_krl_write(&fx_ca, path), 0);
	cr_assert_eq(krl_query(path, f1), 1);
	fx_now_set(FX_T0 + 8 * 3600 + 86460);
	cr_assert_eq(revoke_krl_write(&fx_ca, path), 0);
	cr_assert_eq(krl_query(path, f1), 0);
	cr_assert_eq(krl_query(path, fk), 1);
	cr_assert_eq(
	    tu_run((char *[]){"ssh-keygen", "-Q", "-l", "-f", path, NULL}, NULL,
		&out, NULL),
	    0);
	cr_assert_null(strstr(out, "serial:"), "%s", out);
	free(out);

	issued_free(&a1);
	issued_free(&a2);
	issued_free(&a3);
	issued_free(&b1);
	issued_free(&k1);
	free(f1);
	free(f2);
	free(f3);
	free(fb);
	free(fk);
	free(fkey);
	free(kkey);
	free(path);
}

Test(revoke, krl_write_is_atomic_and_refuses_bad_dir)
{
	char *path = tu_fmt("%s/nodir/revoked.krl", fx_dir);

	cr_assert_eq(revoke_krl_write(&fx_ca, path), ERR_SYSTEM);
	cr_assert_eq(access(path, F_OK), -1);
	cr_assert_eq(revoke_krl_write(&fx_ca, NULL), ERR_INVALID_ARG);
	free(path);
}

Test(revoke, chain_verifies_after_revocations)
{
	struct issued a1;
	char err[LEDGER_ERR_LEN] = "";
	int64_t count = 0, bad = 0;

	issue(&a1, &alice, "prod-debug", NULL);
	cr_assert_eq(do_revoke(&root, REVOKE_USER, 0, "alice", NULL), 0);
	cr_assert_eq(do_revoke(&root, REVOKE_PUBLIC_KEY, 0, a1.key, NULL), 0);
	cr_assert_eq(ledger_verify(fx_l, &count, &bad, err), 0, "%s", err);
	/* created, approved, issued, revoked, key.revoked */
	cr_assert_eq(count, 5);
	issued_free(&a1);
}
