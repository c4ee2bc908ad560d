/*
 * test_views.c: the typed domain (ca/views.h) as ca/request.c, users.c
 * and revoke.c fill it: every field of a request view before and after
 * issuance, approval, denial, review and revocation, the absent cases
 * (no certificate yet, no decisions, a role without source-address, a
 * role that was removed), a brief page, roles, users and revocations;
 * and request_counts_get(), what /metrics reads, as one store operation
 * that lists nothing, however many requests there are.
 */
#include "ca_fixture.h"

TestSuite(views, .init = fx_setup, .fini = fx_teardown);

static const char fx_pin_key[] =
    "ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn7CE "
    "pin";
#define PIN_NC                                                                 \
	"ssh-ed25519 "                                                         \
	"AAAAC3NzaC1lZDI1NTE5AAAAIN1WjddTKUinvECXmpmc9jKTST6it9c/Joez9kkKn7CE"
#define PIN_FP "SHA256:Qc436/SO+qBMrXhc+3ZthgbTdRDC4RQUsAyK6+0E6KA"

static struct request_view *
create_view(const struct ca_actor *a, const char *role)
{
	struct request_view *v = NULL;
	int r = request_create(
	    &fx_ca, a, role, NULL, 0, 0, "INC-7 disk full", fx_pin_key, &v);

	cr_assert_eq(r, 0, "%s", err_str(r));
	cr_assert_not_null(v);
	return v;
}

static struct request_view *
get_view(const struct ca_actor *a, int64_t id)
{
	struct request_view *v = NULL;

	cr_assert_eq(request_get(&fx_ca, a, id, &v), 0);
	cr_assert_not_null(v);
	return v;
}

Test(views, pending_request_every_field)
{
	struct request_view *v = create_view(&alice, "prod-debug");

	cr_assert_eq(v->id, 1);
	cr_assert_str_eq(v->state, "pending");
	cr_assert_str_eq(v->role, "prod-debug");
	cr_assert_str_eq(v->requester, "alice");
	cr_assert_eq(v->nprincipals, 2);
	cr_assert_str_eq(v->principals[0], "alice");
	cr_assert_str_eq(v->principals[1], "debug");
	cr_assert_eq(v->ttl, 1800);
	cr_assert_str_eq(v->reason, "INC-7 disk full");
	cr_assert_eq(v->created, FX_T0);
	cr_assert_eq(v->expires, FX_T0 + 3600);
	cr_assert_eq(v->approvals_required, 1);
	cr_assert_str_eq(v->key_fp, PIN_FP);
	cr_assert_str_eq(v->key_type, "ssh-ed25519");
	cr_assert_str_eq(v->public_key, PIN_NC);
	cr_assert_str_eq(v->digest,
	    "sha256:"
	    "be2d22412436f23fea868fe3f136830d6c8289cab7e90b20cbe3871a424cfe3e");
	cr_assert_eq(v->has_role, 1);
	cr_assert_eq(v->napprover_groups, 1);
	cr_assert_str_eq(v->approver_groups[0], "sre-leads");
	cr_assert_eq(v->ncritical, 1);
	cr_assert_str_eq(v->critical[0].name, "source-address");
	cr_assert_str_eq(v->critical[0].value, "10.0.0.0/8");
	cr_assert_eq(v->source_address, v->critical[0].value);
	cr_assert_eq(v->nextensions, 1);
	cr_assert_str_eq(v->extensions[0], "permit-pty");
	/* Absent until decided and issued. */
	cr_assert_eq(v->ndecisions, 0);
	cr_assert_null(v->decisions);
	cr_assert_null(v->cert);
	cr_assert_eq(v->break_glass, 0);
	cr_assert_eq(v->needs_review, 0);
	request_view_free(v);
	/* Past its expiry it reads "expired" before the sweep. */
	fx_now_set(FX_T0 + 3600);
	v = get_view(&alice, 1);
	cr_assert_str_eq(v->state, "expired");
	request_view_free(v);
}

Test(views, issued_approved_revoked)
{
	struct revoke_target t = {REVOKE_REQUEST, 0, 1, NULL};
	struct request_approval ap = {"ok, INC-7", 600, NULL};
	struct request_view *v = create_view(&alice, "prod-debug");
	struct revocation_view *rv = NULL;
	struct cert *c = NULL;

	request_view_free(v);
	v = NULL;
	fx_now_set(FX_T0 + 5);
	cr_assert_eq(request_approve_with(&fx_ca, &bob, 1, &ap, &v), 0);
	cr_assert_str_eq(v->state, "issued");
	cr_assert_eq(v->ttl, 600);
	cr_assert_eq(v->ndecisions, 1);
	cr_assert_str_eq(v->decisions[0].approver, "bob");
	cr_assert_str_eq(v->decisions[0].decision, "approve");
	cr_assert_str_eq(v->decisions[0].comment, "ok, INC-7");
	cr_assert_eq(v->decisions[0].time, (int64_t)FX_T0 + 5);
	cr_assert_not_null(v->cert);
	cr_assert_eq(v->cert->serial, 1);
	cr_assert_str_eq(v->cert->key_id, "alice:prod-debug:req-1:serial-1");
	cr_assert_eq(v->cert->valid_after, (int64_t)FX_T0 + 5 - 60);
	cr_assert_eq(v->cert->valid_before, (int64_t)FX_T0 + 5 + 600);
	cr_assert_eq(v->cert->revoked, 0);
	cr_assert_eq(cert_from_line(&c, v->cert->certificate,
			 strlen(v->cert->certificate)),
	    0);
	cr_assert_eq(c->serial, 1);
	cr_assert_eq((int64_t)c->valid_before, v->cert->valid_before);
	cert_free(c);
	request_view_free(v);

	fx_now_set(FX_T0 + 9);
	cr_assert_eq(revoke_apply(&fx_ca, &root, &t, "done", &rv), 0);
	cr_assert_eq(rv->nrevoked, 1);
	cr_assert_eq(rv->revoked[0], 1);
	cr_assert_eq(rv->nalready_revoked, 0);
	cr_assert_eq(rv->krl_version, 1);
	cr_assert_null(rv->key_fp);
	cr_assert_eq(rv->key_revoked, 0);
	revocation_view_free(rv);
	v = get_view(&bob, 1);
	cr_assert_str_eq(v->state, "revoked");
	cr_assert_eq(v->cert->revoked, 1);
	cr_assert_eq(v->cert->revoked_time, (int64_t)FX_T0 + 9);
	request_view_free(v);
}

Test(views, denied_and_staging_without_source_address)
{
	struct request_view *v = create_view(&alice, "prod-debug");

	request_view_free(v);
	v = NULL;
	cr_assert_eq(request_deny(&fx_ca, &bob, 1, NULL, &v), 0);
	cr_assert_str_eq(v->state, "denied");
	cr_assert_eq(v->ndecisions, 1);
	cr_assert_str_eq(v->decisions[0].decision, "deny");
	cr_assert_str_eq(v->decisions[0].comment, "");
	cr_assert_null(v->cert);
	request_view_free(v);
	/* Issued at once; no critical options, so no source address. */
	v = create_view(&alice, "staging");
	cr_assert_str_eq(v->state, "issued");
	cr_assert_eq(v->approvals_required, 0);
	cr_assert_eq(v->napprover_groups, 0);
	cr_assert_eq(v->ncritical, 0);
	cr_assert_null(v->source_address);
	cr_assert_eq(v->nextensions, 2);
	cr_assert_eq(v->ndecisions, 0);
	cr_assert_not_null(v->cert);
	request_view_free(v);
}

Test(views, removed_role_has_no_role_fields)
{
	static const char other[] =
	    "{\"roles\": {\"staging\": {\"principals\": [\"{{user}}\"], "
	    "\"max_ttl\": \"8h\", \"requesters\": [\"engineering\"], "
	    "\"approvals_required\": 0}}}";
	struct config *c2 = NULL, *old = fx_cfg;
	char err[CONFIG_ERR_LEN] = "";
	struct request_view *v = create_view(&alice, "prod-debug");

	request_view_free(v);
	cr_assert_eq(
	    config_parse(&c2, fx_dir, other, strlen(other), err), 0, "%s", err);
	fx_ca.cfg = c2;
	v = get_view(&root, 1);
	cr_assert_eq(v->has_role, 0);
	cr_assert_null(v->approver_groups);
	cr_assert_eq(v->ncritical, 0);
	cr_assert_null(v->source_address);
	cr_assert_eq(v->nextensions, 0);
	cr_assert_str_eq(v->role, "prod-debug");
	request_view_free(v);
	fx_ca.cfg = old;
	config_free(c2);
}

Test(views, brief_page_and_cursor)
{
	struct request_filter f = {0, 1, 1, 0};
	struct request_views *p = NULL;
	struct request_view *v;

	v = create_view(&alice, "staging");
	request_view_free(v);
	v = create_view(&alice, "staging");
	request_view_free(v);
	cr_assert_eq(request_list(&fx_ca, &alice, &f, &p), 0);
	cr_assert_eq(p->n, 1);
	cr_assert_eq(p->v[0].id, 2);
	cr_assert_eq(p->next_cursor, 2);
	cr_assert_not_null(p->v[0].cert);
	cr_assert_null(p->v[0].cert->certificate); /* brief */
	cr_assert_eq(p->v[0].cert->serial, 2);
	request_views_free(p);
	f.before = 2;
	f.brief = 0;
	cr_assert_eq(request_list(&fx_ca, &alice, &f, &p), 0);
	cr_assert_eq(p->n, 1);
	cr_assert_eq(p->next_cursor, 0);
	cr_assert_not_null(p->v[0].cert->certificate);
	request_views_free(p);
	cr_assert_eq(request_list(&fx_ca, &eve, &fx_all, &p), 0);
	cr_assert_eq(p->n, 0);
	cr_assert_eq(p->next_cursor, 0);
	request_views_free(p);
}

Test(views, roles_and_users)
{
	struct role_views *rv = NULL;
	struct user_views *uv = NULL;
	const struct role_view *pd;

	cr_assert_eq(request_roles(&fx_ca, &carol, &rv), 0);
	cr_assert_eq(rv->n, 3);
	pd = &rv->v[1];
	cr_assert_str_eq(pd->name, "prod-debug");
	cr_assert_eq(pd->nprincipals, 2);
	cr_assert_str_eq(pd->principals[0], "carol");
	cr_assert_eq(pd->default_ttl, 1800);
	cr_assert_eq(pd->max_ttl, 7200);
	cr_assert_eq(pd->approvals_required, 1);
	cr_assert_eq(pd->ncritical, 1);
	cr_assert_str_eq(pd->critical[0].value, "10.0.0.0/8");
	cr_assert_eq(pd->nrequesters, 1);
	cr_assert_str_eq(pd->requesters[0], "engineering");
	cr_assert_eq(pd->napprovers, 1);
	cr_assert_str_eq(pd->approvers[0], "sre-leads");
	cr_assert_eq(pd->can_request, 1);
	cr_assert_eq(pd->can_approve, 1);
	cr_assert_eq(pd->break_glass_ttl, 0);
	/* No default_ttl: max_ttl. */
	cr_assert_eq(rv->v[2].default_ttl, 8 * 3600);
	role_views_free(rv);
	/* A local actor sees the templates. */
	cr_assert_eq(request_roles(&fx_ca, &root, &rv), 0);
	cr_assert_str_eq(rv->v[1].principals[0], "{{user}}");
	cr_assert_eq(rv->v[1].can_request, 0);
	role_views_free(rv);

	cr_assert_eq(user_list(fx_l, &uv), 0);
	cr_assert_eq(uv->n, 0);
	user_views_free(uv);
	fx_cast();
	fx_user("erin", "engineering", 1);
	cr_assert_eq(user_list(fx_l, &uv), 0);
	cr_assert_eq(uv->n, 4);
	cr_assert_str_eq(uv->v[1].name, "carol");
	cr_assert_eq(uv->v[1].ngroups, 2);
	cr_assert_str_eq(uv->v[1].groups[1], "engineering");
	cr_assert_eq(uv->v[1].disabled, 0);
	cr_assert_eq(uv->v[1].created, FX_T0);
	cr_assert_str_eq(uv->v[3].name, "erin");
	cr_assert_eq(uv->v[3].disabled, 1);
	user_views_free(uv);
}

Test(views, free_functions_accept_null)
{
	request_view_free(NULL);
	request_views_free(NULL);
	role_views_free(NULL);
	user_views_free(NULL);
	revocation_view_free(NULL);
	request_view_clear(NULL);
}

/* ---- /metrics: one store operation, no listing ---- */

static const struct store_ops *real_ops;
static struct store_ops spy_ops;
static int spy_lists, spy_counts;

static int
spy_page(struct store *s, const struct store_request_query *q, int64_t *ids,
    size_t max, size_t *n)
{
	spy_lists++;
	return real_ops->requests_page(s, q, ids, max, n);
}

static int
spy_get(struct store *s, int64_t id, struct store_request *out)
{
	spy_lists++;
	return real_ops->request_get(s, id, out);
}

static int
spy_approvals(struct store *s, int64_t id, store_approval_fn fn, void *arg)
{
	spy_lists++;
	return real_ops->approvals_each(s, id, fn, arg);
}

static int
spy_count(struct store *s, uint64_t now, struct store_request_counts *out)
{
	spy_counts++;
	return real_ops->requests_count(s, now, out);
}

/* request_counts_get() with the store's request reads spied on: the
 * reads that list or load requests in spy_lists, the counting in
 * spy_counts. */
static void
counts_spied(struct request_counts *c)
{
	struct store *st = ledger_store(fx_l);

	real_ops = st->ops;
	spy_ops = *real_ops;
	spy_ops.requests_page = spy_page;
	spy_ops.request_get = spy_get;
	spy_ops.approvals_each = spy_approvals;
	spy_ops.requests_count = spy_count;
	spy_lists = spy_counts = 0;
	st->ops = &spy_ops;
	cr_assert_eq(request_counts_get(&fx_ca, c), 0);
	st->ops = real_ops;
}

Test(views, counts_are_one_store_operation)
{
	struct request_counts c;
	struct request_view *v;
	size_t i;

	/* 11 requests in four states. */
	for (i = 0; i < 4; i++)
		request_view_free(create_view(&alice, "staging"));
	for (i = 0; i < 5; i++)
		request_view_free(create_view(&alice, "prod-debug"));
	for (i = 0; i < 2; i++) {
		v = NULL;
		cr_assert_eq(
		    request_deny(&fx_ca, &bob, 5 + (int64_t)i, "no", &v), 0);
		request_view_free(v);
	}
	v = NULL;
	cr_assert_eq(request_withdraw(&fx_ca, &alice, 7, &v), 0);
	request_view_free(v);
	request_view_free(create_view(&erin, "db-admin"));
	request_view_free(create_view(&erin, "db-admin"));

	counts_spied(&c);
	cr_assert_eq(spy_counts, 1);
	cr_assert_eq(spy_lists, 0);
	cr_assert_eq(c.issued, 4);
	cr_assert_eq(c.pending, 4);
	cr_assert_eq(c.denied, 2);
	cr_assert_eq(c.withdrawn, 1);
	cr_assert_eq(c.expired, 0);
	cr_assert_eq(c.revoked, 0);
	cr_assert_eq(c.approvals_needed, 2 * 1 + 2 * 2);
	/* Expired by the clock alone, still one operation. */
	fx_now_set(FX_T0 + 3600);
	counts_spied(&c);
	cr_assert_eq(spy_counts, 1);
	cr_assert_eq(spy_lists, 0);
	cr_assert_eq(c.pending, 0);
	cr_assert_eq(c.expired, 4);
	cr_assert_eq(c.approvals_needed, 0);
}
