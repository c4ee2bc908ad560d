/*
 * request.c: the request -> approval -> issuance state machine of
 * request.h, on the rows of ca/store/store.h (request_get, request_insert,
 * request_state_set, approvals, certificates; no SQL here).
 *
 * Every transition runs between ledger_begin() (BEGIN IMMEDIATE: the
 * writer lock is taken before anything is read, so two approvers in two
 * processes are serialised) and ledger_commit(), and changes state with a
 * conditional request_state_set() (from "pending" only, ERR_WRONG_STATE
 * when the row was not pending), so a request can be issued at most once. Input
 * is checked before the transaction where possible; any failure inside it rolls
 * back, so nothing is half-written.  The certificate is built here and
 * signed through the ca->sign callback (the signer process re-checks it);
 * it leaves this file only after a successful commit.
 *
 * Works with: ca/ca.h (context), ca/config.h (roles), ca/ledger.h
 * (transactions, events, serials), ca/store/store.h (the rows), signer/cert.h
 * and signer/pubkey.h (building and checking certificates), ca/users.h (the
 * user a local admin issues for).  revoke.c moves issued requests to "revoked".
 * Not here: HTTP, tokens (users.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ca/request.h"
#include "ca/text.h"
#include "ca/users.h"
#include "signer/names.h"
#include "signer/base/sha256.h"

#define SUBJECT_LEN 64

/* How a request is issued (create_common, issue_locked). */
#define HOW_DIRECT 0x1 /* jitcad issue: approvals bypassed */
#define HOW_BREAK_GLASS 0x2 /* no approver; flagged, needs review */

static void
subject_request(char buf[SUBJECT_LEN], int64_t id)
{
	snprintf(buf, SUBJECT_LEN, "request:%lld", (long long)id);
}

/* Load request id; ERR_NOT_FOUND when there is none. */
static int
req_row_load(struct ca *ca, int64_t id, struct store_request *row)
{
	return store_request_get(ledger_store(ca->ledger), id, row);
}

int
request_text_check(const char *s, size_t max, int required)
{
	return text_check(NULL, s, max, required, NULL);
}

static int
actor_is_approver(const struct role *role, const struct ca_actor *a)
{
	if (role == NULL || a == NULL)
		return 0;
	return config_groups_intersect(
	    a->groups, a->ngroups, role->approvers, role->napprovers);
}

static int
actor_may_see(struct ca *ca, const struct ca_actor *a, const char *requester,
    const char *role_name)
{
	if (a == NULL || a->name == NULL)
		return 0;
	if (ca_actor_is_local(a) || ca_actor_is_auditor(ca, a))
		return 1;
	if (strcmp(a->name, requester) == 0)
		return 1;
	return actor_is_approver(config_role(ca->cfg, role_name), a);
}

static int
key_is_revoked(struct ca *ca, const struct pubkey *k, int *revoked)
{
	uint8_t h[32];
	int r = ERR_INTERNAL;

	*revoked = 0;
	TRY(pubkey_sha256(h, k));
	TRY(store_revoked_key_exists(ledger_store(ca->ledger), h, revoked));
	r = 0;
out:
	return r;
}

/* Whether a users row for name exists and is disabled.  Users come from
 * tokens (users.c); a requester without a row (tests, old rows) is not
 * refused here. */
static int
user_disabled(struct ca *ca, const char *name, int *disabled)
{
	struct store_user *u = NULL;
	int r;

	*disabled = 0;
	r = store_user_get(ledger_store(ca->ledger), name, &u);
	if (r == ERR_NOT_FOUND)
		return 0;
	if (r == 0)
		*disabled = u->disabled;
	store_user_free(u);
	return r;
}

static int
strv_has(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0)
			return 1;
	}
	return 0;
}

/*
 * Resolve the principals of a request for user under role: all of the
 * role's when n == 0, else each must be in the safe alphabet
 * (ERR_CERT_BAD_PRINCIPAL), in the role's expanded set
 * (ERR_PRINCIPAL_NOT_ALLOWED) and appear once (ERR_INVALID_ARG).  *out is
 * a new non-empty JSON array of strings.
 */
static int
principals_resolve(const struct role *role, const char *user, char *const *req,
    size_t n, json_t **out)
{
	char **allowed = NULL;
	size_t nallowed = 0, i;
	json_t *arr = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	ENSURE(n == 0 || req != NULL, ERR_INVALID_ARG);
	ENSURE(n <= CERT_MAX_PRINCIPALS, ERR_CERT_TOO_MANY_PRINCIPALS);
	for (i = 0; i < n; i++) {
		ENSURE(req[i] != NULL, ERR_INVALID_ARG);
		ENSURE(name_principal_valid(req[i]), ERR_CERT_BAD_PRINCIPAL);
	}
	TRY(config_role_principals(role, user, &allowed, &nallowed));
	ENSURE((arr = json_array()) != NULL, ERR_ALLOC);
	if (n == 0) {
		for (i = 0; i < nallowed; i++) {
			if (strv_has(allowed, i, allowed[i]))
				continue; /* a template may repeat */
			ENSURE(json_array_append_new(
				   arr, json_string(allowed[i])) == 0,
			    ERR_ALLOC);
		}
	} else {
		for (i = 0; i < n; i++) {
			ENSURE(strv_has(allowed, nallowed, req[i]),
			    ERR_PRINCIPAL_NOT_ALLOWED);
			ENSURE(!strv_has(req, i, req[i]), ERR_INVALID_ARG);
			ENSURE(json_array_append_new(
				   arr, json_string(req[i])) == 0,
			    ERR_ALLOC);
		}
	}
	ENSURE(json_array_size(arr) > 0, ERR_CERT_NO_PRINCIPALS);
	*out = arr;
	arr = NULL;
	r = 0;
out:
	json_decref(arr);
	config_strv_free(allowed, nallowed);
	return r;
}

/* Append an approver to the array arg (approvals_each()). */
static int
approver_add(void *arg, const struct store_approval *a)
{
	if (strcmp(a->decision, "approve") != 0)
		return 0;
	return json_array_append_new(arg, json_string(a->approver)) == 0
	    ? 0
	    : ERR_ALLOC;
}

/* The approvers of request id (decision 'approve'), in order. */
static int
approvers_load(struct ca *ca, int64_t id, json_t **out)
{
	json_t *arr = NULL;
	int r = ERR_INTERNAL;

	*out = NULL;
	ENSURE((arr = json_array()) != NULL, ERR_ALLOC);
	TRY(store_approvals_each(
	    ledger_store(ca->ledger), id, approver_add, arr));
	*out = arr;
	arr = NULL;
	r = 0;
out:
	json_decref(arr);
	return r;
}

/* The key id of request id's certificate with serial,
 * "USER:ROLE:req-ID:serial-N"; ERR_CERT_BAD_KEY_ID when it is too long
 * or not a valid key id. */
static int
key_id_make(char out[NAME_KEY_ID_MAX + 1], const struct store_request *row,
    int64_t id, uint64_t serial)
{
	int n;

	n = snprintf(out, NAME_KEY_ID_MAX + 1, "%s:%s:req-%lld:serial-%llu",
	    row->requester, row->role, (long long)id,
	    (unsigned long long)serial);
	if (n <= 0 || n > NAME_KEY_ID_MAX || !name_key_id_valid(out))
		return ERR_CERT_BAD_KEY_ID;
	return 0;
}

/* 1 when c carries REQUEST_BREAK_GLASS_EXT. */
static int
cert_is_break_glass(const struct cert *c)
{
	size_t i;

	for (i = 0; i < c->nextensions; i++)
		if (strcmp(c->extensions[i].name, REQUEST_BREAK_GLASS_EXT) == 0)
			return 1;
	return 0;
}

/* Build and sign the certificate of a request (no database writes).
 * *key is the request's public key, already parsed by the caller: the
 * certificate takes it over (*key becomes NULL), so it is not parsed
 * twice per issuance. */
static int
cert_make(struct ca *ca, const struct role *role,
    const struct store_request *row, struct pubkey **key, json_t *principals,
    uint64_t serial, const char *key_id, uint64_t now, int how,
    struct cert **out)
{
	struct cert *c = NULL;
	const uint8_t *cablob;
	size_t cablen, i;
	int r = ERR_INTERNAL;

	*out = NULL;
	ENSURE(
	    ca->ca_pub != NULL && (ca->sign != NULL || ca->sign_user != NULL),
	    ERR_INVALID_ARG);
	ENSURE((c = cert_new()) != NULL, ERR_ALLOC);
	c->type = CERT_TYPE_USER;
	c->serial = serial;
	c->key = *key;
	*key = NULL;
	cablob = pubkey_blob(ca->ca_pub, &cablen);
	TRY(pubkey_from_blob(&c->ca_key, cablob, cablen));
	ENSURE((c->key_id = strdup(key_id)) != NULL, ERR_ALLOC);
	for (i = 0; i < json_array_size(principals); i++) {
		TRY(cert_add_principal(
		    c, json_string_value(json_array_get(principals, i))));
	}
	c->valid_after = now > ca->cfg->backdate ? now - ca->cfg->backdate : 0;
	c->valid_before = now + row->ttl;
	/* Options and extensions exactly from the role, nothing else. */
	for (i = 0; i < role->ncritical; i++) {
		TRY(cert_add_critical(
		    c, role->critical[i].name, role->critical[i].value));
	}
	for (i = 0; i < role->nextensions; i++) {
		TRY(cert_add_extension(
		    c, role->extensions[i].name, role->extensions[i].value));
	}
	/* The mark every host log and ssh-keygen -L shows. */
	if ((how & HOW_BREAK_GLASS) != 0)
		TRY(cert_add_extension(c, REQUEST_BREAK_GLASS_EXT, NULL));
	TRY(cert_set_random_nonce(c));
	/*
	 * Whatever signed it, it must verify under this CA's key:
	 * cert_sign() verifies the signature under c->ca_key (a copy of
	 * ca->ca_pub, made above) before it sets c->blob, so the signature
	 * is checked once, there, not parsed and verified again here.
	 */
	TRY(ca_sign_cert(ca, c, row->requester, role->name));
	ENSURE(pubkey_equal(c->ca_key, ca->ca_pub), ERR_CERT_WRONG_CA);
	*out = c;
	c = NULL;
	r = 0;
out:
	cert_free(c);
	return r;
}

/*
 * A certificate built and signed before the unit that records it
 * (phase a of an issuance): from the request as a read snapshot showed
 * it, with a serial reserved ahead (ledger_serial_reserve()).
 * issue_locked() uses it only when the request as the unit has it (read
 * again, or just inserted) is still pending with the same requester, role,
 * principals, ttl and key under the same configuration, after every check has
 * passed again there; otherwise it is discarded (its serial is a gap) and the
 * certificate is signed inside the unit as before.
 */
struct presign {
	int ok;
	int64_t id;
	int how;
	const struct config *cfg;
	const struct role *role;
	char *requester, *role_name, *principals, *public_key, *key_fp;
	uint64_t ttl, serial, now;
	char key_id[NAME_KEY_ID_MAX + 1];
	struct cert *c;
	char *line; /* cert_to_line() of c */
	char sha[65]; /* hex SHA-256 of c's blob */
	/* cert.issued's details for a request not yet inserted (so with
	 * no approvers), made ahead (presign_details()); text NULL: none */
	struct ledger_details issued;
};

static void
presign_clear(struct presign *ps)
{
	free(ps->requester);
	free(ps->role_name);
	free(ps->principals);
	free(ps->public_key);
	free(ps->key_fp);
	free(ps->line);
	cert_free(ps->c);
	ledger_details_clear(&ps->issued);
	memset(ps, 0, sizeof(*ps));
}

#ifdef JITCA_TEST_HOOKS
void (*request_test_presigned)(struct ca *ca, int64_t id);
unsigned long request_test_details_ahead;
#endif

/* The details of cert.issued: the certificate c with serial, key_id and
 * sha (hex SHA-256 of its blob), for request id of row's fields. */
static json_t *
issued_details(const struct store_request *row, int64_t id, uint64_t serial,
    const char *key_id, const char *sha, const struct cert *c,
    json_t *principals, json_t *approvers, int how)
{
	json_t *d;

	d = json_pack("{s:I, s:s, s:O, s:I, s:I, s:s, s:s, s:I, s:s, s:s, "
		      "s:O, s:b}",
	    "serial", (json_int_t)serial, "key_id", key_id, "principals",
	    principals, "valid_after", (json_int_t)c->valid_after,
	    "valid_before", (json_int_t)c->valid_before, "key_fp", row->key_fp,
	    "cert_sha256", sha, "request", (json_int_t)id, "role", row->role,
	    "user", row->requester, "approvers", approvers, "direct",
	    (how & HOW_DIRECT) != 0);
	if (d != NULL && (how & HOW_BREAK_GLASS) != 0 &&
	    json_object_set_new(d, "break_glass", json_true()) != 0) {
		json_decref(d);
		d = NULL;
	}
	return d;
}

/*
 * cert.issued's details for ps, signed for row (whose principals are
 * parsed) before row is inserted, made here outside the unit:
 * issue_locked() appends them when ps fits the row it inserted (nobody
 * can have approved it).  Without them (out of memory) it makes them
 * itself.
 */
static void
presign_details(
    struct presign *ps, const struct store_request *row, json_t *principals)
{
	json_t *approvers = json_array(), *d = NULL;

	if (approvers != NULL)
		d = issued_details(row, row->id, ps->serial, ps->key_id,
		    ps->sha, ps->c, principals, approvers, ps->how);
	if (d != NULL) {
		ledger_details_make(&ps->issued, d);
		ps->issued.obj = NULL; /* d goes: only the text is used */
	}
	json_decref(d);
	json_decref(approvers);
}

/*
 * Phase a: sign the certificate of request row (as read, outside any
 * unit, or as it is about to be inserted) with ttl (the row's, or the
 * shorter one an approval sets).  When signing fails (the signer is
 * down, or its signature does not verify under the CA key) that is the
 * answer: its code is returned and nothing is written.  Any other
 * failure only means there is nothing presigned (ps->ok 0, 0 returned):
 * the unit then checks and signs as before and answers with that
 * failure's code.  fresh: row is about to be inserted, so cert.issued's
 * details are made here too (presign_details()).
 */
static int
presign_make(struct ca *ca, const struct store_request *row, uint64_t ttl,
    int how, int fresh, struct presign *ps)
{
	struct store_request r2;
	const struct role *role;
	struct pubkey *key = NULL;
	json_t *principals = NULL;
	json_error_t jerr;
	int r = 0;

	memset(ps, 0, sizeof(*ps));
	if (strcmp(row->state, "pending") != 0 ||
	    (role = config_role(ca->cfg, row->role)) == NULL || ttl == 0)
		return 0;
	principals = json_loads(row->principals, 0, &jerr);
	if (!json_is_array(principals) || json_array_size(principals) == 0)
		goto out;
	if (pubkey_from_line(&key, row->public_key, strlen(row->public_key)) !=
	    0)
		goto out;
	if (ledger_serial_reserve(ca->ledger, &ps->serial) != 0)
		goto out;
	ps->now = ca_now(ca);
	if (key_id_make(ps->key_id, row, row->id, ps->serial) != 0)
		goto out;
	r2 = *row;
	r2.ttl = ttl;
	if ((r = cert_make(ca, role, &r2, &key, principals, ps->serial,
		 ps->key_id, ps->now, how, &ps->c)) != 0)
		goto out;
	ps->id = row->id;
	ps->how = how;
	ps->cfg = ca->cfg;
	ps->role = role;
	ps->ttl = ttl;
	ps->requester = strdup(row->requester);
	ps->role_name = strdup(row->role);
	ps->principals = strdup(row->principals);
	ps->public_key = strdup(row->public_key);
	ps->key_fp = strdup(row->key_fp);
	ps->ok = ps->requester != NULL && ps->role_name != NULL &&
	    ps->principals != NULL && ps->public_key != NULL &&
	    ps->key_fp != NULL && cert_to_line(&ps->line, ps->c, NULL) == 0 &&
	    ca_sha256_hex(ps->sha, ps->c->blob, ps->c->blob_len) == 0;
	if (ps->ok && fresh)
		presign_details(ps, row, principals);
out:
	if (!ps->ok)
		presign_clear(ps);
	pubkey_free(key);
	json_decref(principals);
	return r;
}

/* Whether ps was signed for exactly the request row re-loaded in the
 * unit, under the configuration of now: the same configuration and role
 * (so the same options, extensions and limits), the same request id,
 * requester, principals, ttl and key, so the same request digest. */
static int
presign_fits(struct ca *ca, const struct presign *ps,
    const struct store_request *row, const struct role *role, int how)
{
	return ps != NULL && ps->ok && ps->c != NULL && ps->id == row->id &&
	    ps->how == how && ps->cfg == ca->cfg && ps->role == role &&
	    ps->ttl == row->ttl && strcmp(ps->requester, row->requester) == 0 &&
	    strcmp(ps->role_name, row->role) == 0 &&
	    strcmp(ps->principals, row->principals) == 0 &&
	    strcmp(ps->public_key, row->public_key) == 0 &&
	    strcmp(ps->key_fp, row->key_fp) == 0;
}

/*
 * Issue the certificate of pending request id inside the open unit:
 * re-check policy, take the presigned certificate (or a serial, and
 * sign), record it, move the request to "issued" (conditionally) and
 * append cert.issued by actor_name.  fresh: its row, when this unit
 * inserted it (so it is not read again, and nobody can have
 * approved it), else NULL.  *issued (when not NULL): the certificate as
 * recorded, for the caller's view of the request (row_view_of()), and
 * *bg whether it is break-glass.
 */
static int
issue_locked(struct ca *ca, int64_t id, const struct store_request *fresh,
    const char *actor_name, int how, struct presign *ps,
    struct cert_view **issued, int *bg)
{
	struct store_request row;
	const struct store_request *rw = &row;
	const struct role *role;
	struct pubkey *key = NULL;
	struct cert *c = NULL;
	struct store_cert sc;
	json_t *principals = NULL, *approvers = NULL, *details = NULL;
	json_error_t jerr;
	char *line = NULL, *pjson = NULL, key_id[NAME_KEY_ID_MAX + 1];
	char sha[65], subject[SUBJECT_LEN];
	const uint8_t *kblob;
	size_t kblen, i;
	uint64_t serial = 0, now = ca_now(ca);
	int r = ERR_INTERNAL, revoked = 0, disabled = 0, fits;

	memset(&row, 0, sizeof(row));
	if (fresh != NULL)
		rw = fresh;
	else
		TRY(req_row_load(ca, id, &row));
	ENSURE(strcmp(rw->state, "pending") == 0, ERR_WRONG_STATE);
	ENSURE((role = config_role(ca->cfg, rw->role)) != NULL, ERR_POLICY);
	ENSURE(rw->ttl > 0 && rw->ttl <= role->max_ttl &&
		rw->ttl <= ca->cfg->hard_max_ttl,
	    ERR_TTL_TOO_LONG);
	ENSURE((how & HOW_BREAK_GLASS) == 0 ||
		(role->break_glass_ttl > 0 && rw->ttl <= role->break_glass_ttl),
	    ERR_BREAK_GLASS);
	/* Principals against the role as configured now. */
	TRY(config_user_name_check(ca->cfg, rw->requester, NULL, 0));
	principals = json_loads(rw->principals, 0, &jerr);
	ENSURE(json_is_array(principals) && json_array_size(principals) > 0,
	    ERR_DB);
	{
		char **allowed = NULL;
		size_t nallowed = 0;

		TRY(config_role_principals(
		    role, rw->requester, &allowed, &nallowed));
		for (i = 0; i < json_array_size(principals); i++) {
			const char *p =
			    json_string_value(json_array_get(principals, i));

			if (p == NULL || !name_principal_valid(p) ||
			    !strv_has(allowed, nallowed, p)) {
				config_strv_free(allowed, nallowed);
				r = ERR_PRINCIPAL_NOT_ALLOWED;
				goto out;
			}
		}
		config_strv_free(allowed, nallowed);
	}
	/* The presigned certificate holds this row's key, parsed. */
	fits = presign_fits(ca, ps, rw, role, how);
	if (!fits)
		TRY(pubkey_from_line(
		    &key, rw->public_key, strlen(rw->public_key)));
	TRY(key_is_revoked(ca, fits ? ps->c->key : key, &revoked));
	ENSURE(!revoked, ERR_POLICY);
	TRY(user_disabled(ca, rw->requester, &disabled));
	ENSURE(!disabled, ERR_USER_DISABLED);
	if (fresh != NULL) /* nobody can have approved it yet */
		ENSURE((approvers = json_array()) != NULL, ERR_ALLOC);
	else
		TRY(approvers_load(ca, id, &approvers));

	if (fits) {
		/* Signed before the unit, for this very row: every check
		 * above passed again inside it. */
		serial = ps->serial;
		now = ps->now;
		memcpy(key_id, ps->key_id, sizeof(key_id));
		memcpy(sha, ps->sha, sizeof(sha));
		c = ps->c;
		ps->c = NULL;
		line = ps->line;
		ps->line = NULL;
	} else {
		TRY(ledger_serial_next(ca->ledger, &serial));
		TRY(key_id_make(key_id, rw, id, serial));
		TRY(cert_make(ca, role, rw, &key, principals, serial, key_id,
		    now, how, &c));
		TRY(cert_to_line(&line, c, NULL));
		TRY(ca_sha256_hex(sha, c->blob, c->blob_len));
	}
	ENSURE(
	    (pjson = json_dumps(principals, JSON_COMPACT)) != NULL, ERR_ALLOC);
	kblob = pubkey_blob(c->key, &kblen);

	memset(&sc, 0, sizeof(sc));
	sc.serial = serial;
	sc.request_id = id;
	sc.user = rw->requester;
	sc.role = rw->role;
	sc.key_id = key_id;
	sc.principals = pjson;
	sc.valid_after = c->valid_after;
	sc.valid_before = c->valid_before;
	sc.key_fp = rw->key_fp;
	sc.key_blob = kblob;
	sc.key_len = kblen;
	sc.cert_sha256 = sha;
	sc.certificate = line;
	sc.issued = now;
	TRY(store_cert_insert(ledger_store(ca->ledger), &sc));
	TRY(store_request_state_set(ledger_store(ca->ledger), id, "pending",
	    "issued", (int64_t)serial, now));

	snprintf(
	    subject, sizeof(subject), "cert:%llu", (unsigned long long)serial);
	if (fits && fresh != NULL && ps->issued.text != NULL) {
		TRY(ledger_append_details(ca->ledger, NULL, "cert.issued",
		    actor_name, subject, &ps->issued));
#ifdef JITCA_TEST_HOOKS
		request_test_details_ahead++;
#endif
	} else {
		details = issued_details(
		    rw, id, serial, key_id, sha, c, principals, approvers, how);
		ENSURE(details != NULL, ERR_ALLOC);
		TRY(ledger_append(ca->ledger, NULL, "cert.issued", actor_name,
		    subject, details));
	}
	if (issued != NULL) {
		struct cert_view *cv;

		ENSURE((cv = calloc(1, sizeof(*cv))) != NULL, ERR_ALLOC);
		cv->serial = serial;
		cv->valid_after = (int64_t)c->valid_after;
		cv->valid_before = (int64_t)c->valid_before;
		if ((cv->key_id = strdup(key_id)) == NULL) {
			free(cv);
			r = ERR_ALLOC;
			goto out;
		}
		cv->certificate = line; /* the line the row holds */
		line = NULL;
		*issued = cv;
		*bg = cert_is_break_glass(c);
	}
	r = 0;
out:
	json_decref(details);
	json_decref(approvers);
	json_decref(principals);
	free(pjson);
	free(line);
	cert_free(c);
	pubkey_free(key);
	store_request_clear(&row);
	return r;
}

/* Add one decision to the view arg (approvals_each()), in order. */
static int
decision_add(void *arg, const struct store_approval *a)
{
	struct request_view *v = arg;
	struct approval_view *n, *d;

	n = realloc(v->decisions, (v->ndecisions + 1) * sizeof(*n));
	if (n == NULL)
		return ERR_ALLOC;
	v->decisions = n;
	d = &n[v->ndecisions];
	memset(d, 0, sizeof(*d));
	v->ndecisions++;
	d->time = a->time;
	if ((d->approver = strdup(a->approver)) == NULL ||
	    (d->decision = strdup(a->decision)) == NULL ||
	    (d->comment = strdup(a->comment)) == NULL)
		return ERR_ALLOC;
	return 0;
}

/* The certificate of an issued request. */
static int
cert_view_load(struct ca *ca, int64_t serial, struct request_view *v)
{
	struct store_cert_info ci;
	struct cert_view *c;
	int r = ERR_INTERNAL;

	r = store_cert_info(ledger_store(ca->ledger), serial, &ci);
	/* An issued request without its certificate row: a broken ledger. */
	if (r == ERR_NOT_FOUND)
		return ERR_DB;
	if (r != 0)
		return r;
	ENSURE((c = v->cert = calloc(1, sizeof(*c))) != NULL, ERR_ALLOC);
	c->serial = (uint64_t)serial;
	c->valid_after = ci.valid_after;
	c->valid_before = ci.valid_before;
	c->revoked = ci.revoked_set;
	c->revoked_time = ci.revoked;
	c->certificate = ci.certificate;
	c->key_id = ci.key_id;
	ci.certificate = ci.key_id = NULL; /* the view took them */
	r = 0;
out:
	store_cert_info_clear(&ci);
	return r;
}

/*
 * The digest of what will be signed for a request (request.h): SHA-256
 * over "jitca-request-v1", the key fingerprint, the principals (JSON as
 * stored), the ttl, and the role's critical options and extensions as
 * configured now, one per line; "sha256:" and 64 hex digits.  A role
 * that was removed has none (the request cannot be issued anyway).
 */
/* Hash the n strings of p, in order; 1 when all went in. */
static int
digest_strings(EVP_MD_CTX *ctx, const char *const *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (EVP_DigestUpdate(ctx, p[i], strlen(p[i])) != 1)
			return 0;
	return 1;
}

static int
request_digest(struct ca *ca, const struct store_request *row,
    char out[REQUEST_DIGEST_LEN])
{
	static const char hex[] = "0123456789abcdef";
	const struct role *role = config_role(ca->cfg, row->role);
	uint8_t h[SHA256_LEN];
	char ttl[32];
	size_t i;
	EVP_MD_CTX *ctx;
	int ok, r = ERR_INTERNAL;

	/* Hashed piece by piece, with no copy of the whole text. */
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_ALLOC;
	(void)snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)row->ttl);
	ok = EVP_DigestInit_ex(ctx, sha256_md(), NULL) == 1 &&
	    digest_strings(ctx,
		(const char *const[]){"jitca-request-v1\nkey ", row->key_fp,
		    "\nprincipals ", row->principals, "\nttl ", ttl, "\n"},
		7);
	for (i = 0; ok && role != NULL && i < role->ncritical; i++)
		ok = digest_strings(ctx,
		    (const char *const[]){"critical ", role->critical[i].name,
			"=",
			role->critical[i].value != NULL
			    ? role->critical[i].value
			    : "",
			"\n"},
		    5);
	for (i = 0; ok && role != NULL && i < role->nextensions; i++)
		ok = digest_strings(ctx,
		    (const char *const[]){
			"extension ", role->extensions[i].name, "\n"},
		    3);
	if (!ok || EVP_DigestFinal_ex(ctx, h, NULL) != 1) {
		err_crypto_set();
		r = ERR_CRYPTO;
		goto out;
	}
	memcpy(out, "sha256:", 7);
	for (i = 0; i < SHA256_LEN; i++) {
		out[7 + 2 * i] = hex[h[i] >> 4];
		out[8 + 2 * i] = hex[h[i] & 15];
	}
	out[7 + 2 * SHA256_LEN] = '\0';
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* 1 when the certificate line carries REQUEST_BREAK_GLASS_EXT. */
static int
cert_line_break_glass(const char *line)
{
	struct cert *c = NULL;
	int bg;

	if (cert_from_recorded_line(&c, line, strlen(line)) != 0)
		return 0;
	bg = cert_is_break_glass(c);
	cert_free(c);
	return bg;
}

/* The principals as stored (a JSON array of strings) as a list. */
static int
principals_view(const char *text, char ***out, size_t *n)
{
	json_t *arr = NULL;
	json_error_t jerr;
	char **v = NULL;
	size_t i, k = 0;
	int r = ERR_INTERNAL;

	*out = NULL;
	*n = 0;
	arr = json_loads(text, 0, &jerr);
	ENSURE(json_is_array(arr), ERR_DB);
	k = json_array_size(arr);
	ENSURE(k == 0 || (v = calloc(k, sizeof(*v))) != NULL, ERR_ALLOC);
	for (i = 0; i < k; i++) {
		const char *p = json_string_value(json_array_get(arr, i));

		ENSURE(p != NULL, ERR_DB);
		ENSURE((v[i] = strdup(p)) != NULL, ERR_ALLOC);
	}
	*out = v;
	*n = k;
	v = NULL;
	r = 0;
out:
	config_strv_free(v, k);
	json_decref(arr);
	return r;
}

/* A role's critical options (value "" for none) and extension names. */
static int
role_options_view(const struct role *role, struct option_view **crit,
    size_t *ncrit, char ***ext, size_t *next)
{
	size_t i;

	*crit = NULL;
	*ext = NULL;
	*ncrit = *next = 0;
	if (role->ncritical > 0 &&
	    (*crit = calloc(role->ncritical, sizeof(**crit))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < role->ncritical; i++, (*ncrit)++) {
		const char *val = role->critical[i].value;

		if (((*crit)[i].name = strdup(role->critical[i].name)) ==
			NULL ||
		    ((*crit)[i].value = strdup(val != NULL ? val : "")) == NULL)
			return ERR_ALLOC;
	}
	if (role->nextensions > 0 &&
	    (*ext = calloc(role->nextensions, sizeof(**ext))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < role->nextensions; i++, (*next)++)
		if (((*ext)[i] = strdup(role->extensions[i].name)) == NULL)
			return ERR_ALLOC;
	return 0;
}

/* What the role as configured now adds to the view of its request: who
 * can approve (so the requester knows whom to ask), and the options and
 * extensions a certificate gets. */
static int
row_role_view(const struct role *role, struct request_view *v)
{
	size_t i;
	int r = ERR_INTERNAL;

	v->has_role = 1;
	TRY(view_strv_dup(
	    role->approvers, role->napprovers, &v->approver_groups));
	v->napprover_groups = role->napprovers;
	TRY(role_options_view(role, &v->critical, &v->ncritical, &v->extensions,
	    &v->nextensions));
	for (i = 0; i < v->ncritical; i++)
		if (strcmp(v->critical[i].name, "source-address") == 0)
			v->source_address = v->critical[i].value;
	r = 0;
out:
	return r;
}

/*
 * The view of row.  cert: the certificate of a request this very call
 * issued (taken, and bg says whether it is break-glass), else NULL to
 * read it from the store.  fresh: the request was created in this call,
 * so it has no decisions to read.
 */
static int
row_view_of(struct ca *ca, const struct store_request *row,
    struct cert_view **cert, int bg, int fresh, struct request_view *v)
{
	const struct role *role;
	const char *state = row->state;
	size_t i;
	int r = ERR_INTERNAL;

	memset(v, 0, sizeof(*v));
	if (strcmp(state, "pending") == 0 && ca_now(ca) >= row->expires)
		state = "expired"; /* before request_expire_due() runs */
	v->id = row->id;
	v->ttl = row->ttl;
	v->created = row->created;
	v->expires = row->expires;
	v->approvals_required = row->approvals_required;
	ENSURE((v->state = strdup(state)) != NULL &&
		(v->role = strdup(row->role)) != NULL &&
		(v->requester = strdup(row->requester)) != NULL &&
		(v->reason = strdup(row->reason)) != NULL &&
		(v->key_fp = strdup(row->key_fp)) != NULL &&
		(v->public_key = strdup(row->public_key)) != NULL &&
		(v->key_type = strndup(
		     row->public_key, strcspn(row->public_key, " "))) != NULL,
	    ERR_ALLOC);
	TRY(principals_view(row->principals, &v->principals, &v->nprincipals));
	TRY(request_digest(ca, row, v->digest));
	if ((role = config_role(ca->cfg, row->role)) != NULL)
		TRY(row_role_view(role, v));
	if (!fresh)
		TRY(store_approvals_each(
		    ledger_store(ca->ledger), row->id, decision_add, v));
	/* Break-glass is what the certificate says (its extension); it
	 * needs review until an approver reviewed it. */
	if (cert != NULL && *cert != NULL) {
		v->cert = *cert;
		*cert = NULL;
		v->break_glass = bg;
	} else {
		if (row->serial > 0)
			TRY(cert_view_load(ca, row->serial, v));
		v->break_glass = v->cert != NULL &&
		    cert_line_break_glass(v->cert->certificate);
	}
	v->needs_review = v->break_glass;
	for (i = 0; i < v->ndecisions; i++)
		if (strcmp(v->decisions[i].decision, "review") == 0)
			v->needs_review = 0;
	r = 0;
out:
	if (r != 0)
		request_view_clear(v);
	return r;
}

static int
row_view(struct ca *ca, const struct store_request *row, struct request_view *v)
{
	return row_view_of(ca, row, NULL, 0, 0, v);
}

static int
request_view_load(struct ca *ca, int64_t id, struct request_view *v)
{
	struct store_request row;
	int r = ERR_INTERNAL;

	memset(v, 0, sizeof(*v));
	TRY(req_row_load(ca, id, &row));
	r = row_view(ca, &row, v);
	store_request_clear(&row);
out:
	return r;
}

/* The request as committed, read after ledger_commit(): between other
 * threads' transactions, so no uncommitted row shows (group commit).
 * *out new (request_view_free()). */
static int
request_view_committed(struct ca *ca, int64_t id, struct request_view **out)
{
	struct request_view *v;
	int r;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ERR_ALLOC;
	ledger_read_begin(ca->ledger);
	r = request_view_load(ca, id, v);
	ledger_read_end(ca->ledger);
	if (r != 0) {
		free(v);
		return r;
	}
	*out = v;
	return 0;
}

/* pending -> expired and its event, inside the open transaction. */
static int
expire_locked(struct ca *ca, const struct store_request *row, uint64_t now)
{
	json_t *details = NULL;
	char subject[SUBJECT_LEN];
	int r = ERR_INTERNAL;

	TRY(store_request_state_set(
	    ledger_store(ca->ledger), row->id, "pending", "expired", 0, now));
	details =
	    json_pack("{s:I, s:s, s:s}", "expires", (json_int_t)row->expires,
		"role", row->role, "requester", row->requester);
	ENSURE(details != NULL, ERR_ALLOC);
	subject_request(subject, row->id);
	TRY(ledger_append(
	    ca->ledger, NULL, "request.expired", "jitcad", subject, details));
	r = 0;
out:
	json_decref(details);
	return r;
}

/* The pending row that nr is about to become (or became: the unit's
 * row, as inserted).  Borrowed: the row type's strings are not const,
 * but nothing writes through them (presign_make() copies what it
 * keeps). */
static void
request_row_of(const struct store_request_new *nr, struct store_request *row)
{
	static char pending[] = "pending";

	memset(row, 0, sizeof(*row));
	row->id = nr->id;
	row->requester = (char *)(uintptr_t)nr->requester;
	row->role = (char *)(uintptr_t)nr->role;
	row->principals = (char *)(uintptr_t)nr->principals;
	row->ttl = nr->ttl;
	row->reason = (char *)(uintptr_t)nr->reason;
	row->public_key = (char *)(uintptr_t)nr->public_key;
	row->key_fp = (char *)(uintptr_t)nr->key_fp;
	row->state = pending;
	row->created = nr->created;
	row->expires = nr->expires;
	row->approvals_required = nr->approvals_required;
}

/*
 * The unit of work of create_common(): the request row and its events
 * and, when it is issued at once, its certificate.  ledger_run() may run
 * it in another thread, so it uses nothing but what is here: the event
 * details are made before, outside the ledger's one-at-a-time section.
 */
struct create_unit {
	struct ca *ca;
	const struct pubkey *key; /* the request's, parsed */
	const struct store_request_new *nr;
	struct ledger_details created; /* request.created's */
	struct ledger_details bg; /* request.break_glass's (obj NULL: none) */
	const char *event_actor;
	int how, issue_now;
	struct presign *ps;
	int64_t id; /* out: the request's */
	struct cert_view *cert; /* out: when issued, its certificate */
	int break_glass; /* ...which is break-glass */
};

static int
create_unit_run(void *arg)
{
	struct create_unit *u = arg;
	struct ca *ca = u->ca;
	char subject[SUBJECT_LEN];
	int r = ERR_INTERNAL, revoked = 0;

	/* issue_locked() checks the key in this unit when it issues. */
	if (!u->issue_now) {
		TRY(key_is_revoked(ca, u->key, &revoked));
		ENSURE(!revoked, ERR_POLICY);
	}
	TRY(store_request_insert(ledger_store(ca->ledger), u->nr, &u->id));
	subject_request(subject, u->id);
	TRY(ledger_append_details(ca->ledger, NULL, "request.created",
	    u->event_actor, subject, &u->created));
	if (u->bg.obj != NULL)
		TRY(ledger_append_details(ca->ledger, NULL,
		    "request.break_glass", u->event_actor, subject, &u->bg));
	if (u->issue_now) {
		struct store_request row;

		/* The row as inserted: issue_locked() need not read it. */
		request_row_of(u->nr, &row);
		row.id = u->id;
		TRY(issue_locked(ca, u->id, &row, u->event_actor, u->how, u->ps,
		    &u->cert, &u->break_glass));
	}
	r = 0;
out:
	return r;
}

/* The view of the request create_unit_run() wrote (u->id, from nr),
 * without reading it back; takes u->cert.  *out new. */
static int
created_view(struct ca *ca, const struct store_request_new *nr,
    struct create_unit *u, struct request_view **out)
{
	static char issued[] = "issued";
	struct store_request row;
	struct request_view *v;
	int r;

	request_row_of(nr, &row);
	row.id = u->id;
	if (u->cert != NULL) {
		row.state = issued;
		row.serial = (int64_t)u->cert->serial;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ERR_ALLOC;
	if ((r = row_view_of(ca, &row, &u->cert, u->break_glass, 1, v)) != 0) {
		free(v);
		return r;
	}
	*out = v;
	return 0;
}

/*
 * Shared by request_create() and request_issue_direct(): checks, inserts
 * the request and request.created (by event_actor), and issues at once
 * when direct or the role needs no approval.
 */
static int
create_common(struct ca *ca, const char *event_actor, const char *requester,
    char *const *groups, size_t ngroups, const char *role_name,
    char *const *principals, size_t nprincipals, uint64_t ttl,
    const char *reason, const char *pubkey_line, int how,
    struct request_view **out)
{
	int direct = (how & HOW_DIRECT) != 0;
	const struct role *role;
	struct pubkey *key = NULL;
	struct store_request_new nr;
	json_t *pj = NULL, *details = NULL, *bg = NULL;
	char *pjson = NULL, *keyline = NULL, fp[PUBKEY_FP_LEN];
	uint64_t now = ca_now(ca), expires;
	int r = ERR_INTERNAL, issue_now;
	struct create_unit u;
	struct presign ps;

	memset(&ps, 0, sizeof(ps));
	memset(&u, 0, sizeof(u));
	ENSURE(role_name != NULL && pubkey_line != NULL, ERR_INVALID_ARG);
	ENSURE((role = config_role(ca->cfg, role_name)) != NULL, ERR_NOT_FOUND);
	ENSURE(config_groups_intersect(
		   groups, ngroups, role->requesters, role->nrequesters),
	    ERR_FORBIDDEN);
	/* "{{user}}" must never become another role's principal. */
	TRY(config_user_name_check(ca->cfg, requester, NULL, 0));
	/* Break-glass: only where the role allows it, shorter. */
	ENSURE((how & HOW_BREAK_GLASS) == 0 || role->break_glass_ttl > 0,
	    ERR_BREAK_GLASS);
	if (ttl == 0 && (how & HOW_BREAK_GLASS) != 0)
		ttl = role->break_glass_ttl;
	ENSURE((how & HOW_BREAK_GLASS) == 0 || ttl <= role->break_glass_ttl,
	    ERR_TTL_TOO_LONG);
	if (ttl == 0)
		ttl =
		    role->default_ttl != 0 ? role->default_ttl : role->max_ttl;
	ENSURE(ttl <= role->max_ttl && ttl <= ca->cfg->hard_max_ttl,
	    ERR_TTL_TOO_LONG);
	ENSURE(ttl > 0, ERR_INVALID_ARG);
	TRY(principals_resolve(role, requester, principals, nprincipals, &pj));
	TRY(text_check("reason", reason, REQUEST_REASON_MAX, 1, NULL));
	ENSURE(strnlen(pubkey_line, PUBKEY_MAX_LINE + 1) <= PUBKEY_MAX_LINE,
	    ERR_TOO_LARGE);
	TRY(pubkey_from_line(&key, pubkey_line, strlen(pubkey_line)));
	/* A certificate for the CA's own key would let whoever holds the
	 * CA key log in with it as a user; nobody needs that. */
	ENSURE(ca->ca_pub == NULL || !pubkey_equal(key, ca->ca_pub),
	    ERR_KEY_IS_CA);
	TRY(pubkey_fingerprint(fp, key));
	TRY(pubkey_to_line(&keyline, key, NULL));
	ENSURE((pjson = json_dumps(pj, JSON_COMPACT)) != NULL, ERR_ALLOC);
	expires = now + ca->cfg->request_ttl;
	issue_now = direct || role->approvals_required == 0 ||
	    (how & HOW_BREAK_GLASS) != 0;
	/*
	 * A request that is issued at once gets its id and serial ahead and
	 * its certificate signed here, outside the unit, so that the
	 * ledger's one-at-a-time section holds no signer round trip and no
	 * verify; the unit checks everything again (issue_locked()) and
	 * uses the certificate only when nothing changed.  Without a
	 * reserved id the request takes the next free one, signed inside.
	 */
	memset(&nr, 0, sizeof(nr));
	nr.requester = requester;
	nr.role = role->name;
	nr.principals = pjson;
	nr.ttl = ttl;
	nr.reason = reason;
	nr.public_key = keyline;
	nr.key_fp = fp;
	nr.created = now;
	nr.expires = expires;
	nr.approvals_required = role->approvals_required;
	ledger_announce(ca->ledger); /* the unit follows the signing */
	if (store_request_id_reserve(ledger_store(ca->ledger), &nr.id) != 0)
		nr.id = 0;
	if (issue_now && nr.id > 0) {
		struct store_request pre;

		request_row_of(&nr, &pre);
		TRY(presign_make(ca, &pre, ttl, how, 1, &ps));
#ifdef JITCA_TEST_HOOKS
		if (request_test_presigned != NULL)
			request_test_presigned(ca, nr.id);
#endif
	}

	details = json_pack("{s:s, s:s, s:O, s:I, s:s, s:s, s:I, s:i, s:b}",
	    "requester", requester, "role", role->name, "principals", pj, "ttl",
	    (json_int_t)ttl, "reason", reason, "key_fp", fp, "expires",
	    (json_int_t)expires, "approvals_required",
	    (int)role->approvals_required, "direct", direct);
	ENSURE(details != NULL, ERR_ALLOC);
	if ((how & HOW_BREAK_GLASS) != 0) {
		/* Every approver of the role is told at once: the ledger
		 * always has it (webhooks read the same event). */
		json_t *g;
		size_t k;

		ENSURE(json_object_set_new(
			   details, "break_glass", json_true()) == 0,
		    ERR_ALLOC);
		ENSURE((g = json_array()) != NULL, ERR_ALLOC);
		for (k = 0; k < role->napprovers; k++)
			(void)json_array_append_new(
			    g, json_string(role->approvers[k]));
		bg = json_pack("{s:o, s:I, s:s}", "notify", g, "ttl",
		    (json_int_t)ttl, "reason", reason);
		ENSURE(bg != NULL, ERR_ALLOC);
	}
	u.ca = ca;
	u.key = key;
	u.nr = &nr;
	ledger_details_make(&u.created, details);
	if (bg != NULL)
		ledger_details_make(&u.bg, bg);
	u.event_actor = event_actor;
	u.how = how;
	u.issue_now = issue_now;
	u.ps = &ps;
	TRY(ledger_run(ca->ledger, create_unit_run, &u));
	/* Committed: only now may the certificate leave.  The view is
	 * what the unit wrote, so it is not read back. */
	r = created_view(ca, &nr, &u, out);
out:
	ledger_unannounce(ca->ledger);
	cert_view_free(u.cert);
	ledger_details_clear(&u.created);
	ledger_details_clear(&u.bg);
	presign_clear(&ps);
	json_decref(bg);
	json_decref(details);
	json_decref(pj);
	free(pjson);
	free(keyline);
	pubkey_free(key);
	return r;
}

int
request_create(struct ca *ca, const struct ca_actor *actor, const char *role,
    char *const *principals, size_t nprincipals, uint64_t ttl,
    const char *reason, const char *pubkey_line, struct request_view **out)
{
	if (out != NULL)
		*out = NULL;
	if (ca == NULL || actor == NULL || out == NULL)
		return ERR_INVALID_ARG;
	/* A local actor issues with request_issue_direct(); user names
	 * obey the principal alphabet (they become "{{user}}"). */
	if (!name_principal_valid(actor->name))
		return ERR_FORBIDDEN;
	return create_common(ca, actor->name, actor->name, actor->groups,
	    actor->ngroups, role, principals, nprincipals, ttl, reason,
	    pubkey_line, 0, out);
}

int
request_break_glass(struct ca *ca, const struct ca_actor *actor,
    const char *role, char *const *principals, size_t nprincipals, uint64_t ttl,
    const char *reason, const char *pubkey_line, struct request_view **out)
{
	if (out != NULL)
		*out = NULL;
	if (ca == NULL || actor == NULL || out == NULL)
		return ERR_INVALID_ARG;
	if (!name_principal_valid(actor->name))
		return ERR_FORBIDDEN;
	return create_common(ca, actor->name, actor->name, actor->groups,
	    actor->ngroups, role, principals, nprincipals, ttl, reason,
	    pubkey_line, HOW_BREAK_GLASS, out);
}

int
request_issue_direct(struct ca *ca, const struct ca_actor *actor,
    const char *user, const char *role, char *const *principals,
    size_t nprincipals, uint64_t ttl, const char *reason,
    const char *pubkey_line, struct request_view **out)
{
	struct user *u = NULL;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	ENSURE(ca != NULL && actor != NULL && out != NULL && user != NULL,
	    ERR_INVALID_ARG);
	ENSURE(ca_actor_is_local(actor), ERR_FORBIDDEN);
	ENSURE(name_principal_valid(user), ERR_BAD_NAME);
	TRY(user_get(ca->ledger, user, &u));
	ENSURE(!u->disabled, ERR_USER_DISABLED);
	r = create_common(ca, actor->name, u->name, u->groups, u->ngroups, role,
	    principals, nprincipals, ttl, reason, pubkey_line, HOW_DIRECT, out);
out:
	user_free(u);
	return r;
}

/*
 * Shared start of approve and deny: check the comment, open the
 * transaction (*in_tx = 1), load request id and check visibility, state
 * and expiry.  An expired request is moved to "expired" and that is
 * committed here: ERR_EXPIRED with *in_tx = 0.
 */
static int
decide_begin(struct ca *ca, const struct ca_actor *actor, int64_t id,
    const char *comment, struct store_request *row, const struct role **role,
    int *in_tx)
{
	int r = ERR_INTERNAL;
	uint64_t now;

	TRY(text_check("comment", comment, REQUEST_COMMENT_MAX, 0, NULL));
	TRY(ledger_begin(ca->ledger));
	*in_tx = 1;
	now = ca_now(ca); /* after waiting for the write lock */
	TRY(req_row_load(ca, id, row));
	ENSURE(
	    actor_may_see(ca, actor, row->requester, row->role), ERR_NOT_FOUND);
	ENSURE(strcmp(row->state, "pending") == 0, ERR_WRONG_STATE);
	if (now >= row->expires) {
		TRY(expire_locked(ca, row, now));
		*in_tx = 0; /* a failed commit rolls back */
		TRY(ledger_commit(ca->ledger));
		r = ERR_EXPIRED;
		goto out;
	}
	*role = config_role(ca->cfg, row->role);
	r = 0;
out:
	return r;
}

/*
 * Shared end of deny, withdraw and review: append the decision's event,
 * commit (*in_tx = 0 first: a failed commit rolls back) and answer with
 * the request as committed.
 */
static int
decide_end(struct ca *ca, const char *actor, int64_t id, const char *type,
    json_t *details, int *in_tx, struct request_view **out)
{
	char subject[SUBJECT_LEN];
	int r;

	subject_request(subject, id);
	if ((r = ledger_append(
		 ca->ledger, NULL, type, actor, subject, details)) != 0)
		return r;
	*in_tx = 0;
	if ((r = ledger_commit(ca->ledger)) != 0)
		return r;
	return request_view_committed(ca, id, out);
}

static int
decision_insert(struct ca *ca, int64_t id, const char *who,
    const char *decision, const char *comment, int *conflict)
{
	struct store_approval ap;

	ap.approver = who;
	ap.decision = decision;
	ap.time = (int64_t)ca_now(ca);
	ap.comment = comment == NULL ? "" : comment;
	return store_approval_put(ledger_store(ca->ledger), id, &ap,
	    strcmp(decision, "approve") != 0, conflict);
}

/*
 * The approvals of request id that count now (see request.h):
 * distinct approvers (the approvals table's key), never the requester,
 * each an approver of the role as configured now.  The caller (actor)
 * was just checked with the groups it acts with; every earlier approver
 * is checked against their user record as it is now: it must exist, be
 * enabled and be in one of the role's approver groups, so an approval by
 * someone a reload or a group change removed, or by a disabled user, no
 * longer counts.  *stale (new JSON array) names the approvals that do
 * not count.
 */
static int
approvals_count(struct ca *ca, const struct role *role, const char *requester,
    const struct ca_actor *actor, int64_t id, unsigned *count, json_t **stale)
{
	struct user *u = NULL;
	json_t *who = NULL, *bad = NULL, *v;
	const char *name;
	size_t i;
	int r = ERR_INTERNAL, ok;

	*count = 0;
	*stale = NULL;
	TRY(approvers_load(ca, id, &who));
	ENSURE((bad = json_array()) != NULL, ERR_ALLOC);
	json_array_foreach(who, i, v)
	{
		name = json_string_value(v);
		if (strcmp(name, requester) == 0)
			ok = 0;
		else if (strcmp(name, actor->name) == 0)
			ok = 1;
		else if ((r = user_get(ca->ledger, name, &u)) == 0)
			ok = !u->disabled &&
			    config_groups_intersect(u->groups, u->ngroups,
				role->approvers, role->napprovers);
		else if (r == ERR_NOT_FOUND || r == ERR_BAD_NAME)
			ok = 0;
		else
			goto out;
		user_free(u);
		u = NULL;
		if (ok)
			(*count)++;
		else
			ENSURE(
			    json_array_append_new(bad, json_string(name)) == 0,
			    ERR_ALLOC);
	}
	*stale = bad;
	bad = NULL;
	r = 0;
out:
	user_free(u);
	json_decref(who);
	json_decref(bad);
	return r;
}

/*
 * Phase a of an approval that will issue: when the request as a read
 * snapshot shows it is pending, not expired, this approval is allowed
 * (not the requester's, an approver of the role, the digest the
 * approver saw, a ttl no longer) and would bring the approvals to the
 * number needed, sign its certificate now, outside the unit; the unit
 * repeats every check (decide_begin(), issue_locked()) and uses it only
 * when nothing changed.
 */
static int
presign_approval(struct ca *ca, const struct ca_actor *actor, int64_t id,
    const struct request_approval *ap, struct presign *ps)
{
	char digest[REQUEST_DIGEST_LEN];
	struct store_request row;
	const struct role *role = NULL;
	json_t *who = NULL, *w;
	unsigned need;
	uint64_t ttl;
	size_t i;
	int ok, r = 0;

	memset(&row, 0, sizeof(row));
	memset(ps, 0, sizeof(*ps));
	ledger_read_begin(ca->ledger);
	ok = req_row_load(ca, id, &row) == 0 &&
	    strcmp(row.state, "pending") == 0 && ca_now(ca) < row.expires &&
	    (role = config_role(ca->cfg, row.role)) != NULL &&
	    strcmp(actor->name, row.requester) != 0 &&
	    actor_is_approver(role, actor) && ap->ttl <= row.ttl &&
	    config_user_name_check(ca->cfg, row.requester, NULL, 0) == 0 &&
	    approvers_load(ca, id, &who) == 0;
	json_array_foreach(who, i, w)
	{
		if (ok && json_is_string(w) &&
		    strcmp(json_string_value(w), actor->name) == 0)
			ok = 0; /* ERR_ALREADY_APPROVED in the unit */
	}
	if (ok && ap->expect != NULL)
		ok = request_digest(ca, &row, digest) == 0 &&
		    strcmp(digest, ap->expect) == 0;
	ledger_read_end(ca->ledger);
	if (ok) {
		need = row.approvals_required;
		if (role->approvals_required > need)
			need = role->approvals_required;
		ok = json_array_size(who) + 1 >= need;
	}
	if (ok) {
		ttl = ap->ttl > 0 && ap->ttl < row.ttl ? ap->ttl : row.ttl;
		r = presign_make(ca, &row, ttl, 0, 0, ps);
	}
	json_decref(who);
	store_request_clear(&row);
	return r;
}

int
request_approve(struct ca *ca, const struct ca_actor *actor, int64_t id,
    const char *comment, struct request_view **out)
{
	struct request_approval ap;

	memset(&ap, 0, sizeof(ap));
	ap.comment = comment;
	return request_approve_with(ca, actor, id, &ap, out);
}

int
request_approve_with(struct ca *ca, const struct ca_actor *actor, int64_t id,
    const struct request_approval *ap, struct request_view **out)
{
	const char *comment = ap != NULL ? ap->comment : NULL;
	char digest[REQUEST_DIGEST_LEN];
	struct store_request row;
	const struct role *role = NULL;
	json_t *details = NULL, *stale = NULL;
	char subject[SUBJECT_LEN];
	unsigned count = 0, need;
	int r = ERR_INTERNAL, in_tx = 0, conflict = 0, disabled = 0;
	struct presign ps;

	memset(&row, 0, sizeof(row));
	memset(&ps, 0, sizeof(ps));
	if (out != NULL)
		*out = NULL;
	ENSURE(
	    ca != NULL && actor != NULL && actor->name != NULL && out != NULL,
	    ERR_INVALID_ARG);
	ENSURE(ap != NULL, ERR_INVALID_ARG);
	ledger_announce(ca->ledger);
	TRY(presign_approval(ca, actor, id, ap, &ps));
#ifdef JITCA_TEST_HOOKS
	if (request_test_presigned != NULL)
		request_test_presigned(ca, id);
#endif
	TRY(decide_begin(ca, actor, id, comment, &row, &role, &in_tx));
	ENSURE(strcmp(actor->name, row.requester) != 0, ERR_SELF_APPROVAL);
	ENSURE(actor_is_approver(role, actor), ERR_FORBIDDEN);
	TRY(user_disabled(ca, actor->name, &disabled));
	ENSURE(!disabled, ERR_USER_DISABLED);
	/* An approval is for exactly what the approver was shown. */
	if (ap->expect != NULL) {
		TRY(request_digest(ca, &row, digest));
		ENSURE(strcmp(digest, ap->expect) == 0, ERR_DIGEST_MISMATCH);
	}
	/* Shorter only; the shortest approved ttl is the request's. */
	ENSURE(ap->ttl <= row.ttl, ERR_TTL_NOT_SHORTER);
	if (ap->ttl > 0 && ap->ttl < row.ttl)
		TRY(store_request_ttl_set(
		    ledger_store(ca->ledger), id, ap->ttl));
	TRY(decision_insert(
	    ca, id, actor->name, "approve", comment, &conflict));
	ENSURE(!conflict, ERR_ALREADY_APPROVED);
	TRY(approvals_count(
	    ca, role, row.requester, actor, id, &count, &stale));
	/* N as the request was made, or more if the role now wants more:
	 * a configuration change can tighten a waiting request, never
	 * loosen it. */
	need = row.approvals_required;
	if (role->approvals_required > need)
		need = role->approvals_required;
	details = json_pack("{s:s, s:I, s:I}", "comment",
	    comment == NULL ? "" : comment, "approvals", (json_int_t)count,
	    "approvals_required", (json_int_t)need);
	ENSURE(details != NULL, ERR_ALLOC);
	if (ap->ttl > 0 && ap->ttl < row.ttl)
		ENSURE(json_object_set_new(details, "ttl",
			   json_integer((json_int_t)ap->ttl)) == 0,
		    ERR_ALLOC);
	if (json_array_size(stale) > 0)
		ENSURE(json_object_set(details, "not_counted", stale) == 0,
		    ERR_ALLOC);
	subject_request(subject, id);
	TRY(ledger_append(ca->ledger, NULL, "request.approved", actor->name,
	    subject, details));
	if (count >= need)
		TRY(issue_locked(
		    ca, id, NULL, actor->name, 0, &ps, NULL, NULL));
	in_tx = 0; /* a failed commit rolls back */
	TRY(ledger_commit(ca->ledger));
	r = request_view_committed(ca, id, out);
out:
	if (in_tx)
		ledger_rollback(ca->ledger);
	json_decref(details);
	json_decref(stale);
	store_request_clear(&row);
	ledger_unannounce(ca->ledger);
	presign_clear(&ps);
	return r;
}

int
request_deny(struct ca *ca, const struct ca_actor *actor, int64_t id,
    const char *comment, struct request_view **out)
{
	struct store_request row;
	const struct role *role = NULL;
	json_t *details = NULL;
	int r = ERR_INTERNAL, in_tx = 0, conflict = 0, withdrawn;

	memset(&row, 0, sizeof(row));
	if (out != NULL)
		*out = NULL;
	ENSURE(
	    ca != NULL && actor != NULL && actor->name != NULL && out != NULL,
	    ERR_INVALID_ARG);
	TRY(decide_begin(ca, actor, id, comment, &row, &role, &in_tx));
	withdrawn = strcmp(actor->name, row.requester) == 0;
	ENSURE(withdrawn || actor_is_approver(role, actor), ERR_FORBIDDEN);
	TRY(decision_insert(ca, id, actor->name, "deny", comment, &conflict));
	ENSURE(!conflict, ERR_INTERNAL);
	TRY(store_request_state_set(
	    ledger_store(ca->ledger), id, "pending", "denied", 0, ca_now(ca)));
	details = json_pack("{s:s, s:b}", "comment",
	    comment == NULL ? "" : comment, "withdrawn", withdrawn);
	ENSURE(details != NULL, ERR_ALLOC);
	r = decide_end(
	    ca, actor->name, id, "request.denied", details, &in_tx, out);
out:
	if (in_tx)
		ledger_rollback(ca->ledger);
	json_decref(details);
	store_request_clear(&row);
	return r;
}

int
request_withdraw(struct ca *ca, const struct ca_actor *actor, int64_t id,
    struct request_view **out)
{
	struct store_request row;
	const struct role *role = NULL;
	json_t *details = NULL;
	int r = ERR_INTERNAL, in_tx = 0;

	memset(&row, 0, sizeof(row));
	if (out != NULL)
		*out = NULL;
	ENSURE(
	    ca != NULL && actor != NULL && actor->name != NULL && out != NULL,
	    ERR_INVALID_ARG);
	TRY(decide_begin(ca, actor, id, NULL, &row, &role, &in_tx));
	ENSURE(strcmp(actor->name, row.requester) == 0, ERR_FORBIDDEN);
	TRY(store_request_state_set(ledger_store(ca->ledger), id, "pending",
	    "withdrawn", 0, ca_now(ca)));
	ENSURE((details = json_object()) != NULL, ERR_ALLOC);
	r = decide_end(
	    ca, actor->name, id, "request.withdrawn", details, &in_tx, out);
out:
	if (in_tx)
		ledger_rollback(ca->ledger);
	json_decref(details);
	store_request_clear(&row);
	return r;
}

int
request_review(struct ca *ca, const struct ca_actor *actor, int64_t id,
    const char *comment, struct request_view **out)
{
	const struct role *role;
	struct request_view cur;
	json_t *details = NULL;
	int r = ERR_INTERNAL, in_tx = 0, conflict = 0;

	memset(&cur, 0, sizeof(cur));
	if (out != NULL)
		*out = NULL;
	ENSURE(
	    ca != NULL && actor != NULL && actor->name != NULL && out != NULL,
	    ERR_INVALID_ARG);
	TRY(text_check("comment", comment, REQUEST_COMMENT_MAX, 1, NULL));
	TRY(ledger_begin(ca->ledger));
	in_tx = 1;
	TRY(request_view_load(ca, id, &cur));
	ENSURE(
	    actor_may_see(ca, actor, cur.requester, cur.role), ERR_NOT_FOUND);
	ENSURE(cur.needs_review, ERR_WRONG_STATE);
	ENSURE(strcmp(actor->name, cur.requester) != 0, ERR_SELF_APPROVAL);
	role = config_role(ca->cfg, cur.role);
	ENSURE(role != NULL && actor_is_approver(role, actor), ERR_FORBIDDEN);
	TRY(decision_insert(ca, id, actor->name, "review", comment, &conflict));
	ENSURE((details = json_pack("{s:s}", "comment", comment)) != NULL,
	    ERR_ALLOC);
	r = decide_end(
	    ca, actor->name, id, "request.reviewed", details, &in_tx, out);
out:
	if (in_tx)
		ledger_rollback(ca->ledger);
	request_view_clear(&cur);
	json_decref(details);
	return r;
}

int
request_expire_due(struct ca *ca, size_t *count)
{
	struct store_request row;
	int64_t *ids = NULL;
	size_t n = 0, i;
	uint64_t now;
	int r = ERR_INTERNAL, in_tx = 0;

	memset(&row, 0, sizeof(row));
	if (count != NULL)
		*count = 0;
	ENSURE(ca != NULL, ERR_INVALID_ARG);
	now = ca_now(ca);
	TRY(ledger_begin(ca->ledger));
	in_tx = 1;
	TRY(store_requests_due(ledger_store(ca->ledger), now, &ids, &n));
	for (i = 0; i < n; i++) {
		TRY(req_row_load(ca, ids[i], &row));
		TRY(expire_locked(ca, &row, now));
		store_request_clear(&row);
	}
	if (n > 0)
		in_tx = 0; /* a failed commit rolls back */
	TRY(ledger_commit(ca->ledger));
	if (count != NULL)
		*count = n;
	r = 0;
out:
	if (in_tx)
		ledger_rollback(ca->ledger);
	store_request_clear(&row);
	free(ids);
	return r;
}

int
request_get(struct ca *ca, const struct ca_actor *actor, int64_t id,
    struct request_view **out)
{
	struct store_request row;
	struct request_view *v = NULL;
	int r = ERR_INTERNAL;

	memset(&row, 0, sizeof(row));
	if (out != NULL)
		*out = NULL;
	ENSURE(ca != NULL && actor != NULL && out != NULL, ERR_INVALID_ARG);
	TRY(req_row_load(ca, id, &row));
	ENSURE(
	    actor_may_see(ca, actor, row.requester, row.role), ERR_NOT_FOUND);
	ENSURE((v = calloc(1, sizeof(*v))) != NULL, ERR_ALLOC);
	TRY(row_view(ca, &row, v));
	*out = v;
	v = NULL;
	r = 0;
out:
	free(v);
	store_request_clear(&row);
	return r;
}

int
request_counts_get(struct ca *ca, struct request_counts *out)
{
	struct store_request_counts c;
	int r;

	if (out == NULL)
		return ERR_INVALID_ARG;
	memset(out, 0, sizeof(*out));
	if (ca == NULL)
		return ERR_INVALID_ARG;
	if ((r = store_requests_count(
		 ledger_store(ca->ledger), ca_now(ca), &c)) != 0)
		return r;
	out->pending = c.by_state[STORE_REQ_PENDING];
	out->issued = c.by_state[STORE_REQ_ISSUED];
	out->denied = c.by_state[STORE_REQ_DENIED];
	out->expired = c.by_state[STORE_REQ_EXPIRED];
	out->revoked = c.by_state[STORE_REQ_REVOKED];
	out->withdrawn = c.by_state[STORE_REQ_WITHDRAWN];
	out->approvals_needed = c.approvals_needed;
	return 0;
}

int
request_list(struct ca *ca, const struct ca_actor *actor,
    const struct request_filter *f, struct request_views **out)
{
	struct store_request_query q;
	struct request_views *page = NULL;
	struct request_view *one;
	const char **roles = NULL;
	int64_t *ids = NULL;
	size_t i, n = 0;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	ENSURE(ca != NULL && actor != NULL && actor->name != NULL &&
		f != NULL && out != NULL,
	    ERR_INVALID_ARG);
	ENSURE(f->limit >= 1 && f->limit <= REQUEST_LIST_MAX && f->before >= 0,
	    ERR_INVALID_ARG);
	memset(&q, 0, sizeof(q));
	q.all = ca_actor_is_local(actor) || ca_actor_is_auditor(ca, actor);
	q.requester = actor->name;
	/* Roles the actor approves. */
	if (ca->cfg->nroles > 0)
		ENSURE(
		    (roles = calloc(ca->cfg->nroles, sizeof(*roles))) != NULL,
		    ERR_ALLOC);
	for (i = 0; i < ca->cfg->nroles; i++) {
		if (actor_is_approver(&ca->cfg->roles[i], actor))
			roles[q.nroles++] = ca->cfg->roles[i].name;
	}
	q.roles = roles;
	q.pending_only = f->pending_only;
	q.now = ca_now(ca);
	q.before = f->before;
	ENSURE((ids = calloc(f->limit + 1, sizeof(*ids))) != NULL, ERR_ALLOC);
	ENSURE((page = calloc(1, sizeof(*page))) != NULL &&
		(page->v = calloc(f->limit, sizeof(*page->v))) != NULL,
	    ERR_ALLOC);
	/* One row more than asked says whether there is a next page. */
	TRY(store_requests_page(
	    ledger_store(ca->ledger), &q, ids, f->limit + 1, &n));
	for (i = 0; i < n && i < f->limit; i++) {
		one = &page->v[page->n];
		TRY(request_view_load(ca, ids[i], one));
		page->n++;
		if (f->brief && one->cert != NULL) {
			free(one->cert->certificate);
			one->cert->certificate = NULL;
		}
	}
	if (n > f->limit)
		page->next_cursor = ids[f->limit - 1];
	*out = page;
	page = NULL;
	r = 0;
out:
	request_views_free(page);
	free(roles);
	free(ids);
	return r;
}

/* One role as actor sees it (request_roles()). */
static int
role_view_fill(const struct role *role, const struct ca_actor *actor,
    int can_request, int can_approve, struct role_view *v)
{
	char **exp = NULL;
	size_t nexp = 0, i;
	int r = ERR_INTERNAL;

	memset(v, 0, sizeof(*v));
	ENSURE((v->name = strdup(role->name)) != NULL, ERR_ALLOC);
	if (name_principal_valid(actor->name)) {
		TRY(config_role_principals(role, actor->name, &exp, &nexp));
		ENSURE(nexp == 0 ||
			(v->principals = calloc(nexp, sizeof(char *))) != NULL,
		    ERR_ALLOC);
		for (i = 0; i < nexp; i++) {
			if (strv_has(exp, i, exp[i]))
				continue; /* a template may repeat */
			ENSURE((v->principals[v->nprincipals] =
				       strdup(exp[i])) != NULL,
			    ERR_ALLOC);
			v->nprincipals++;
		}
	} else {
		TRY(view_strv_dup(
		    role->principals, role->nprincipals, &v->principals));
		v->nprincipals = role->nprincipals;
	}
	v->default_ttl =
	    role->default_ttl != 0 ? role->default_ttl : role->max_ttl;
	v->max_ttl = role->max_ttl;
	v->approvals_required = role->approvals_required;
	TRY(role_options_view(role, &v->critical, &v->ncritical, &v->extensions,
	    &v->nextensions));
	TRY(view_strv_dup(role->requesters, role->nrequesters, &v->requesters));
	v->nrequesters = role->nrequesters;
	TRY(view_strv_dup(role->approvers, role->napprovers, &v->approvers));
	v->napprovers = role->napprovers;
	v->can_request = can_request;
	v->can_approve = can_approve;
	v->break_glass_ttl = role->break_glass_ttl;
	r = 0;
out:
	config_strv_free(exp, nexp);
	if (r != 0)
		role_view_clear(v);
	return r;
}

int
request_roles(
    struct ca *ca, const struct ca_actor *actor, struct role_views **out)
{
	struct role_views *rv = NULL;
	size_t i;
	int r = ERR_INTERNAL, all, req, appr;

	if (out != NULL)
		*out = NULL;
	ENSURE(
	    ca != NULL && actor != NULL && actor->name != NULL && out != NULL,
	    ERR_INVALID_ARG);
	all = ca_actor_is_local(actor) || ca_actor_is_auditor(ca, actor);
	ENSURE((rv = calloc(1, sizeof(*rv))) != NULL, ERR_ALLOC);
	if (ca->cfg->nroles > 0)
		ENSURE(
		    (rv->v = calloc(ca->cfg->nroles, sizeof(*rv->v))) != NULL,
		    ERR_ALLOC);
	for (i = 0; i < ca->cfg->nroles; i++) {
		const struct role *role = &ca->cfg->roles[i];

		req = name_principal_valid(actor->name) &&
		    config_groups_intersect(actor->groups, actor->ngroups,
			role->requesters, role->nrequesters);
		appr = actor_is_approver(role, actor);
		if (!all && !req && !appr)
			continue;
		TRY(role_view_fill(role, actor, req, appr, &rv->v[rv->n]));
		rv->n++;
	}
	*out = rv;
	rv = NULL;
	r = 0;
out:
	role_views_free(rv);
	return r;
}
