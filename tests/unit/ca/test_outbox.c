/*
 * test_outbox.c: ca/outbox.c over a real ledger with requests made,
 * approved, withdrawn and issued through ca/request.h: the kind of each
 * event (a requester's own deny is a withdrawal), the request each one
 * concerns joined from its row (request.approved and request.denied do
 * not repeat it), the head, reads in pages, and the cursor and lease rows:
 * a new cursor at the head, a cursor that never moves back nor moves
 * without the lease, a lease that another owner cannot take before it
 * expires or is released.
 */
#include "tests/unit/ca/ca_fixture.h"

#include "ca/outbox.h"

static void
setup(void)
{
	fx_setup();
}

TestSuite(outbox, .init = setup, .fini = fx_teardown);

Test(outbox, kinds_and_requests)
{
	struct outbox_event *ev = NULL;
	char *key = fx_key_line();
	json_t *j = NULL;
	int64_t a, w, s, head = 0, since;
	size_t n = 0, i;

	fx_cast();
	cr_assert_eq(outbox_head(fx_l, &since), 0);
	a = fx_create(&alice, "prod-debug", key, NULL);
	cr_assert_eq(fx_request_approve(&fx_ca, &bob, a, "go", &j), 0);
	json_decref(j);
	w = fx_create(&alice, "prod-debug", key, NULL);
	cr_assert_eq(fx_request_deny(&fx_ca, &alice, w, NULL, &j), 0);
	json_decref(j);
	s = fx_create(&erin, "staging", key, NULL);
	cr_assert_eq(outbox_read(fx_l, since, OUTBOX_READ_MAX, &ev, &n), 0);
	cr_assert_eq(n, 7);
	{
		static const struct {
			const char *type;
			unsigned kind;
		} want[] = {
		    {"request.created", CONFIG_NOTIFY_REQUEST_CREATED},
		    {"request.approved", CONFIG_NOTIFY_REQUEST_APPROVED},
		    {"cert.issued", CONFIG_NOTIFY_CERT_ISSUED},
		    {"request.created", CONFIG_NOTIFY_REQUEST_CREATED},
		    {"request.denied", CONFIG_NOTIFY_REQUEST_WITHDRAWN},
		    {"request.created", CONFIG_NOTIFY_REQUEST_CREATED},
		    {"cert.issued", CONFIG_NOTIFY_CERT_ISSUED},
		};
		const int64_t ids[] = {a, a, a, w, w, s, s};

		for (i = 0; i < n; i++) {
			cr_assert_eq(ev[i].seq, since + 1 + (int64_t)i);
			cr_assert_str_eq(ev[i].type, want[i].type);
			cr_assert_eq(ev[i].kind, want[i].kind, "#%zu", i);
			cr_assert_eq(ev[i].request_id, ids[i], "#%zu", i);
			cr_assert_str_eq(
			    ev[i].role, ids[i] == s ? "staging" : "prod-debug");
			cr_assert_str_eq(
			    ev[i].requester, ids[i] == s ? "erin" : "alice");
			cr_assert_str_eq(ev[i].reason, "INC-4312 stuck queue");
			cr_assert_eq(ev[i].ttl, ids[i] == s ? 8 * 3600 : 1800,
			    "#%zu ttl %llu", i, (unsigned long long)ev[i].ttl);
			cr_assert_eq(ev[i].break_glass, 0);
			cr_assert_eq(strlen(ev[i].hash), 64);
		}
	}
	/* The approval's own event names only the approver: the rest is
	 * the request row's. */
	cr_assert_str_eq(ev[1].actor, "bob");
	cr_assert_null(strstr(ev[1].details, "\"role\""));
	cr_assert_eq(ev[1].nprincipals, 2);
	cr_assert_str_eq(ev[1].principals[0], "alice");
	cr_assert_str_eq(ev[1].principals[1], "debug");
	cr_assert_gt(ev[2].serial, 0);
	cr_assert_eq(ev[1].serial, 0);
	outbox_events_free(ev, n);
	/* Pages. */
	cr_assert_eq(outbox_read(fx_l, since, 3, &ev, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(ev[2].seq, since + 3);
	outbox_events_free(ev, n);
	cr_assert_eq(outbox_head(fx_l, &head), 0);
	cr_assert_eq(head, since + 7);
	cr_assert_eq(outbox_read(fx_l, head, 5, &ev, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(ev);
	cr_assert_eq(outbox_read(fx_l, 0, OUTBOX_READ_MAX + 1, &ev, &n),
	    ERR_INVALID_ARG);
	cr_assert_eq(outbox_read(fx_l, -1, 1, &ev, &n), ERR_INVALID_ARG);
	free(key);
}

Test(outbox, events_of_no_request)
{
	struct outbox_event *ev = NULL;
	int64_t since = 0;
	size_t n = 0;

	cr_assert_eq(outbox_head(fx_l, &since), 0);
	fx_user("zed", "engineering", 0);
	cr_assert_eq(outbox_read(fx_l, since, 10, &ev, &n), 0);
	cr_assert_geq(n, 1);
	cr_assert_str_eq(ev[0].type, "user.added");
	cr_assert_eq(ev[0].kind, 0);
	cr_assert_eq(ev[0].request_id, 0);
	cr_assert_null(ev[0].role);
	cr_assert_null(ev[0].reason);
	outbox_events_free(ev, n);
}

Test(outbox, cursors_and_leases)
{
	uint64_t now = FX_T0;
	int64_t head = 0, cur = -1;
	int created = 0;

	cr_assert_eq(outbox_head(fx_l, &head), 0);
	cr_assert_eq(outbox_cursor_get(fx_l, "s1", &cur, &created), 0);
	cr_assert_eq(created, 1);
	cr_assert_eq(cur, head, "a new sink starts at the head");
	fx_user("zed", "engineering", 0);
	cr_assert_eq(outbox_cursor_get(fx_l, "s1", &cur, &created), 0);
	cr_assert_eq(created, 0);
	cr_assert_eq(cur, head, "an existing cursor stays");

	/* Without the lease the cursor does not move. */
	cr_assert_eq(outbox_cursor_set(fx_l, "s1", "a", head + 1, now),
	    ERR_NOTIFY_LEASE);
	cr_assert_eq(outbox_lease_take(fx_l, "s1", "a", now, 30), 0);
	cr_assert_eq(
	    outbox_lease_take(fx_l, "s1", "b", now + 29, 30), ERR_NOTIFY_LEASE);
	cr_assert_eq(outbox_cursor_set(fx_l, "s1", "b", head + 1, now),
	    ERR_NOTIFY_LEASE);
	cr_assert_eq(outbox_cursor_set(fx_l, "s1", "a", head + 1, now), 0);
	cr_assert_eq(outbox_cursor_get(fx_l, "s1", &cur, NULL), 0);
	cr_assert_eq(cur, head + 1);
	/* Never back. */
	cr_assert_eq(outbox_cursor_set(fx_l, "s1", "a", head, now), 0);
	cr_assert_eq(outbox_cursor_get(fx_l, "s1", &cur, NULL), 0);
	cr_assert_eq(cur, head + 1);
	/* Renewed by its owner; expired, anyone may take it. */
	cr_assert_eq(outbox_lease_take(fx_l, "s1", "a", now + 20, 30), 0);
	cr_assert_eq(
	    outbox_lease_take(fx_l, "s1", "b", now + 49, 30), ERR_NOTIFY_LEASE);
	cr_assert_eq(outbox_lease_take(fx_l, "s1", "b", now + 50, 30), 0);
	cr_assert_eq(outbox_cursor_set(fx_l, "s1", "a", head + 2, now + 50),
	    ERR_NOTIFY_LEASE);
	/* Released: taken at once; a release by a non-owner does nothing. */
	cr_assert_eq(outbox_lease_release(fx_l, "s1", "a"), 0);
	cr_assert_eq(
	    outbox_lease_take(fx_l, "s1", "a", now + 51, 30), ERR_NOTIFY_LEASE);
	cr_assert_eq(outbox_lease_release(fx_l, "s1", "b"), 0);
	cr_assert_eq(outbox_lease_take(fx_l, "s1", "a", now + 51, 30), 0);
	/* Sinks are apart. */
	cr_assert_eq(outbox_lease_take(fx_l, "s2", "b", now + 51, 30), 0);
	cr_assert_eq(outbox_cursor_get(fx_l, "s2", &cur, &created), 0);
	cr_assert_eq(created, 1);
	/* Neither table is part of the chain or of the state replay. */
	{
		int64_t count = 0, bad = 0;
		char err[LEDGER_ERR_LEN] = "";
		uint64_t nbad = 0;

		cr_assert_eq(
		    ledger_verify(fx_l, &count, &bad, err), 0, "%s", err);
		cr_assert_eq(ledger_verify_state(fx_l, NULL, NULL, &nbad), 0);
		cr_assert_eq(nbad, 0);
	}
}

Test(outbox, an_older_file_gets_the_tables_when_opened)
{
	int64_t cur = -1;
	int created = 0;
	char *out;

	fx_sqlite3_required();
	ledger_close(fx_l);
	fx_l = NULL;
	out = fx_sqlite3(
	    fx_db, "DROP TABLE notify_cursors; DROP TABLE notify_leases;");
	free(out);
	out = fx_sqlite3(fx_db,
	    "SELECT count(*) FROM sqlite_master WHERE name LIKE 'notify_%'");
	cr_assert_str_eq(out, "0\n");
	free(out);
	cr_assert_eq(ledger_open(&fx_l, fx_db, 0), 0);
	fx_ca.ledger = fx_l;
	cr_assert_eq(outbox_cursor_get(fx_l, "s", &cur, &created), 0);
	cr_assert_eq(created, 1);
	cr_assert_eq(outbox_lease_take(fx_l, "s", "a", FX_T0, 30), 0);
	out = fx_sqlite3(fx_db,
	    "SELECT count(*) FROM sqlite_master WHERE name LIKE 'notify_%'");
	cr_assert_str_eq(out, "2\n");
	free(out);
}
