/*
 * views.h: the typed domain.  What ca/ answers about requests (with their
 * approvals and the certificate issued), roles, users and revocations is
 * a struct here, not a JSON document: the domain functions of request.h,
 * users.h and revoke.h fill these, and their readers (web/encode.c for
 * the API's JSON and the admin commands' --json, the pages, webhooks)
 * read fields instead of picking documents apart by string keys.
 *
 * One header for all the views rather than one per module: they share
 * their parts (an approval and a certificate inside a request, string
 * lists everywhere), the encoder needs every one of them, and a module
 * header (request.h, users.h, revoke.h) includes this one for its
 * signatures without including the others.  Nothing here knows JSON,
 * HTTP or the store; hosts are not here because ca/hosts.h returns
 * structs already (struct host, struct host_issued).
 *
 * Ownership: every view and every string and array in it is owned by the
 * view and freed by its free function, which accepts NULL.  Lists are an
 * array and a count.  Times are seconds since the epoch.
 */
#ifndef JITCA_VIEWS_H
#define JITCA_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

#define VIEW_DIGEST_LEN (7 + 64 + 1) /* "sha256:" hex NUL */

/* A critical option: name=value (value "" when the option has none). */
struct option_view {
	char *name;
	char *value;
};

/*
 * One decision on a request, in the order they were made: decision is
 * "approve", "deny" or "review" (a break-glass request's review).  An
 * approver's shorter ttl is not kept per decision (the request's ttl is
 * the shortest approved; the request.approved event has it).
 */
struct approval_view {
	char *approver;
	char *decision;
	char *comment; /* "" when none was given */
	int64_t time;
};

/* The certificate of an issued request. */
struct cert_view {
	char *certificate; /* the OpenSSH line; NULL in a brief list */
	uint64_t serial;
	char *key_id;
	int64_t valid_after, valid_before;
	int revoked; /* 1: revoked_time is set */
	int64_t revoked_time;
};

/*
 * A request as its reader may see it (ca/request.h).  state is what a
 * reader sees: a pending request past its expiry is "expired".  digest is
 * the SHA-256 of what will be signed (an approval's "expect").
 * has_role is 0 when the role was removed from the configuration since:
 * then approver_groups, critical and extensions are empty.  critical and
 * extensions are the role's as configured now (what the certificate gets
 * when issued); source_address points into critical ("source-address"),
 * NULL when the role has none.  cert is NULL until issued.  break_glass
 * is what the certificate says (its extension); needs_review only for a
 * break-glass request that no approver reviewed.
 */
struct request_view {
	int64_t id;
	char *state;
	char *role;
	char *requester;
	char **principals;
	size_t nprincipals;
	uint64_t ttl;
	char *reason;
	uint64_t created, expires;
	unsigned approvals_required;
	char *key_fp;
	char *key_type; /* the public key line's first word */
	char *public_key;
	char digest[VIEW_DIGEST_LEN];
	int has_role;
	char **approver_groups;
	size_t napprover_groups;
	struct option_view *critical;
	size_t ncritical;
	const char *source_address; /* borrowed from critical, or NULL */
	char **extensions;
	size_t nextensions;
	struct approval_view *decisions;
	size_t ndecisions;
	struct cert_view *cert;
	int break_glass;
	int needs_review;
};

/* A page of requests, newest first; next_cursor 0 when no more follow. */
struct request_views {
	struct request_view *v;
	size_t n;
	int64_t next_cursor;
};

/*
 * A role as an actor sees it (GET /v1/roles): principals expanded for
 * the actor when its name is a valid user name, else the templates;
 * default_ttl is max_ttl when the role sets none; extensions by name;
 * break_glass_ttl 0 when the role has no break-glass.
 */
struct role_view {
	char *name;
	char **principals;
	size_t nprincipals;
	uint64_t default_ttl, max_ttl;
	unsigned approvals_required;
	struct option_view *critical;
	size_t ncritical;
	char **extensions;
	size_t nextensions;
	char **requesters; /* groups */
	size_t nrequesters;
	char **approvers; /* groups */
	size_t napprovers;
	int can_request, can_approve;
	uint64_t break_glass_ttl;
};

struct role_views {
	struct role_view *v;
	size_t n;
};

/* A user (ca/users.h), without anything about its token. */
struct user_view {
	char *name;
	char **groups;
	size_t ngroups;
	int disabled;
	uint64_t created;
};

struct user_views {
	struct user_view *v;
	size_t n;
};

/*
 * What one revoke_apply() did (ca/revoke.h): the serials newly revoked
 * and those revoked already, the KRL version after it, and for a public
 * key its fingerprint (key_fp non-NULL) and whether the key was newly
 * revoked.
 */
struct revocation_view {
	uint64_t *revoked;
	size_t nrevoked;
	uint64_t *already_revoked;
	size_t nalready_revoked;
	uint64_t krl_version;
	char *key_fp; /* NULL unless a public key was revoked */
	int key_revoked;
};

void request_view_free(struct request_view *v);
void request_views_free(struct request_views *v);
void role_views_free(struct role_views *v);
void user_views_free(struct user_views *v);
void revocation_view_free(struct revocation_view *v);

/* For the modules that fill views: free the members of one (not the
 * struct itself); copy a string list (config_strv_free() frees it). */
void request_view_clear(struct request_view *v);
void cert_view_free(struct cert_view *c);
void role_view_clear(struct role_view *v);
void user_view_clear(struct user_view *v);
/* A copy of the n strings of src (*out new, config_strv_free(); NULL
 * for n == 0).  0 or ERR_ALLOC. */
MUST_CHECK int view_strv_dup(char *const *src, size_t n, char ***out);

#endif /* JITCA_VIEWS_H */
