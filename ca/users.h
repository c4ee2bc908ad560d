/*
 * users.h: jitca's users, their groups and their API tokens (docs/design.md
 * invariant 8), kept in the ledger's users table.
 *
 * A token is "jitca_" followed by 43 base64url characters: 32 bytes from
 * RAND_bytes, unpadded.  Only SHA-256(token) is stored (users.token_hash,
 * a 32-byte BLOB); the token is returned once to the caller and never
 * logged.  Events name a token by its id: the first 8 hex digits of its
 * SHA-256.  Authentication checks the token's format first, then looks it
 * up by hash and compares with CRYPTO_memcmp.
 *
 * User and group names follow name_principal_valid() (signer/names.h),
 * since "{{user}}" becomes a certificate principal; and a user name is
 * never a literal principal of a role (config_user_name_check()), so
 * "{{user}}" cannot become another role's principal.  A user has 1 to
 * USER_GROUPS_MAX groups (duplicates are dropped, order kept).
 *
 * Every change runs in its own ledger transaction together with its event
 * (user.added + token.issued, token.issued, user.disabled), so these
 * functions must not be called inside an open ledger_begin().  actor is
 * who did it (e.g. "local:root" for jitcad run on the CA host, or a user
 * name), recorded in the events.
 * Nothing here knows about HTTP.  Works with ca/ledger.h.
 */
#ifndef JITCA_USERS_H
#define JITCA_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "ca/config.h"
#include "ca/ledger.h"
#include "ca/views.h"
#include "signer/err.h"

#define USER_TOKEN_PREFIX "jitca_"
#define USER_TOKEN_LEN 49 /* "jitca_" + 43 base64url characters */
#define USER_TOKEN_ID_LEN 8 /* hex digits of SHA-256(token) in events */
#define USER_GROUPS_MAX 32

struct user {
	char *name;
	char **groups;
	size_t ngroups;
	int disabled;
	uint64_t created; /* seconds since the epoch */
	uint64_t token_created; /* 0 when no token was ever issued */
	/* Set by user_authenticate() for a session token: when the person
	 * last proved who they are at the identity provider. */
	int session;
	uint64_t auth_time;
};

/*
 * What a verified ID token says about a person (web/oidc.h), for
 * user_sign_in(): the name and groups from the configured claims, when
 * the session must end and when they authenticated.
 */
struct user_sign_in {
	const char *name;
	char *const *groups;
	size_t ngroups;
	uint64_t expires; /* seconds since the epoch, > now */
	uint64_t auth_time;
	const char *issuer; /* iss and sub: the user name is bound to the */
	const char *subject; /* first pair that signs in with it */
};

/* Frees u and the strings it owns; NULL is fine. */
void user_free(struct user *u);
/* Wipes and frees a token returned by user_add()/user_token_rotate(). */
void user_token_free(char *token);
/* 1 if u is in group g. */
int user_in_group(const struct user *u, const char *g);

/*
 * Create user name with groups and a first token (*token_out, new; free
 * with user_token_free()).  ERR_BAD_NAME for a bad user or group name,
 * ERR_NAME_IS_PRINCIPAL when cfg says the name may not be a user name
 * (config_user_name_check(): it is, or "{{user}}" would expand it to, a
 * literal principal of a role), ERR_INVALID_ARG for no groups or more
 * than USER_GROUPS_MAX, ERR_EXISTS when the user exists.  Events:
 * user.added {groups}, token.issued {token_id}.
 */
MUST_CHECK int user_add(struct ledger *l, const struct config *cfg,
    const char *actor, const char *name, char *const *groups, size_t ngroups,
    char **token_out);
/*
 * Whether configuration cfg may be used with the users in l: every user
 * that is not disabled must pass config_user_name_check(), so that a new
 * or reloaded jitca.json cannot turn an existing user name into a
 * principal.  Disabled users cannot get certificates and are skipped
 * (disabling is the way out for an operator who must keep the principal).
 * 0 or ERR_NAME_IS_PRINCIPAL with msg (may be NULL, len bytes) naming
 * the first such user, the role and the principal; ERR_DB.
 */
MUST_CHECK int user_config_check(
    struct ledger *l, const struct config *cfg, char *msg, size_t len);
/*
 * New token for name (*token_out as above); the old one stops working at
 * once.  ERR_NOT_FOUND, ERR_USER_DISABLED.  Event: token.issued
 * {token_id, rotated: true}.
 */
MUST_CHECK int user_token_rotate(
    struct ledger *l, const char *actor, const char *name, char **token_out);
/* Disable name: its token stops working.  ERR_NOT_FOUND, and
 * ERR_USER_DISABLED when already disabled.  Event: user.disabled. */
MUST_CHECK int user_disable(
    struct ledger *l, const char *actor, const char *name);
/* The user called name (*out new; user_free()).  ERR_NOT_FOUND.  Here
 * and below, a stored row users.c would not have written (edited by
 * another tool) is ERR_DB. */
MUST_CHECK int user_get(struct ledger *l, const char *name, struct user **out);
/* All users sorted by name (*out new, user_views_free()). */
MUST_CHECK int user_list(struct ledger *l, struct user_views **out);
/*
 * The user whose token this is (*out new; user_free()): a user's static
 * token or a session's that has not expired (then u->session is 1 and
 * u->auth_time set).  ERR_BAD_TOKEN when the token is malformed (prefix,
 * length, alphabet), unknown or an expired session's, ERR_USER_DISABLED
 * when its user is disabled.
 */
MUST_CHECK int user_authenticate(
    struct ledger *l, const char *token, struct user **out);
/* A fresh token of that shape (*out new; user_token_free()), not
 * stored anywhere: for the host tokens of ca/hosts.h. */
MUST_CHECK int user_token_generate(char **out);
/*
 * A sign-in with the identity provider, in one transaction: the user is
 * created on the first one (event user.seen {groups, subject}), their
 * groups replaced when the token says otherwise (user.groups {groups,
 * previous}), and a new session token (*token_out, as user_add's) stored
 * as SHA-256 with its expiry and auth_time (event session.opened
 * {token_id, expires, auth_time}).  Groups that are not valid group names
 * are dropped; past USER_GROUPS_MAX only those cfg names are kept.
 * ERR_BAD_NAME, ERR_NAME_IS_PRINCIPAL (as user_add), ERR_INVALID_ARG when
 * no usable group is left, ERR_USER_DISABLED, ERR_OIDC_SUBJECT when the
 * name was bound to another (issuer, subject) at an earlier sign-in (the
 * claim now names someone else).  *created (may be NULL) is
 * 1 when the user was new.  Expired sessions are purged on the way;
 * user_session_end() ends one before it expires.
 */
MUST_CHECK int user_sign_in(struct ledger *l, const struct config *cfg,
    const struct user_sign_in *in, char **token_out, int *created);
/*
 * Signing out (DELETE /v1/session): the session whose token this is ends
 * at once, in one transaction: its row is deleted and event
 * session.closed {token_id} appended, actor and subject its user.
 * *user_out (may be NULL) is new: that user's name; id (may be NULL) the
 * token id as in session.opened.  ERR_BAD_TOKEN, with nothing written,
 * when the token is malformed or no unexpired session has it (unknown,
 * already ended, or a user's static token: user_authenticate() tells
 * those apart).
 */
MUST_CHECK int user_session_end(struct ledger *l, const char *token,
    char **user_out, char id[USER_TOKEN_ID_LEN + 1]);

/* 0 if token has the shape of a jitca token, else ERR_BAD_TOKEN. */
MUST_CHECK int user_token_format_check(const char *token);

#endif /* JITCA_USERS_H */
