/*
 * jitca.h: what the jitca commands share (common.c) and the commands
 * themselves (login.c, requests.c, roles.c, status.c, logout.c,
 * sshconfig.c), which the option
 * table of cli.c runs.  The pieces below the commands are capi.c (HTTP),
 * ephkey.c (the key), ccheck.c (certificate checks), agent.c (ssh-agent)
 * and cconf.c (settings, files).
 */
#ifndef JITCA_CLIENT_JITCA_H
#define JITCA_CLIENT_JITCA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "signer/err.h"

#define JITCA_EXIT_OK 0
#define JITCA_EXIT_FAIL 1 /* refused or failed, not covered below */
#define JITCA_EXIT_USAGE 2 /* bad command line or configuration */
#define JITCA_EXIT_UNREACHABLE 3 /* server unreachable, TLS failure */
#define JITCA_EXIT_AUTH 4 /* 401: no, bad or disabled token */
#define JITCA_EXIT_FORBIDDEN 5 /* 403: not allowed */
#define JITCA_EXIT_DENIED 6 /* the request was denied */
#define JITCA_EXIT_EXPIRED 7 /* the request expired unapproved */
#define JITCA_EXIT_TIMEOUT 8 /* --wait ran out */
#define JITCA_EXIT_BADCERT 9 /* certificate or CA key failed our checks */
#define JITCA_EXIT_INTERRUPTED 130 /* Ctrl-C while waiting */

#define COMMENT_PREFIX "jitca:"
#define MAX_PRINCIPALS 64
#define MAX_ARGS 64

struct agent;
struct capi;
struct cconf;
struct cli_parsed;

struct opts {
	const char *server, *token_file, *ca_bundle;
	const char *role, *ttl, *reason, *wait, *comment;
	const char *principals[MAX_PRINCIPALS];
	size_t nprincipals;
	const char *state, *user, *host;
	int no_agent, pending, yes, json, force, prune, break_glass;
	int device; /* --device: sign in with the device flow */
	const char *args[MAX_ARGS];
	size_t nargs;
};

/* "jitca: " and the message on stderr. */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Server text may hold anything: escaped as client/cshow.h says, and
 * cut to about max bytes between characters. */
void fput_clean(FILE *f, const char *s, size_t max);
/* s escaped (client/cshow.h) into dst[len]. */
void clean_copy(char *dst, size_t len, const char *s);
/* One line for a failed API call; returns the exit status. */
int api_fail(const char *what, int r, const char *detail);
/* t as local time into buf[len]. */
void fmt_local(char *buf, size_t len, uint64_t t);
uint64_t now_s(void);
/* The parsed command line in the shape the commands read. */
void opts_from(struct opts *o, const struct cli_parsed *p);
/*
 * Settings and a connection to the server; returns an exit status.  The
 * credential, first found wins: --token-file, $JITCA_TOKEN, token_file
 * in ~/.config/jitca/config, ~/.config/jitca/token (client/cconf.h), a
 * valid session cached for this server (client/session.h), else signing
 * in with the server's identity provider when it has one (sign_in).
 */
MUST_CHECK int connect_api(
    const struct opts *o, struct cconf *cf, struct capi **api);
/*
 * Sign in with the identity provider of GET /v1/auth (client/oidc.h),
 * trade the ID token for a session (POST /v1/session), cache it and give
 * it to api.  fresh: sign in again even if a session is cached, asking the
 * provider for a new login (for approve and deny after reauth_required).
 * Returns an exit status; the messages say what to do.
 */
MUST_CHECK int sign_in(
    const struct opts *o, struct cconf *cf, struct capi *api, int fresh);
/* o's string member k, or "" (borrowed). */
const char *jstr(json_t *o, const char *k);
/* o's integer member k, or -1. */
long long jint(json_t *o, const char *k);
/* The strings of arr joined with commas into buf[len]. */
void principals_join(char *buf, size_t len, json_t *arr);
/* The approvals a request has. */
size_t napprovals(json_t *req);
/* Remove every agent identity whose comment starts with prefix, except
 * keep (may be NULL); returns how many, or a negative code. */
int agent_remove_prefixed(
    struct agent *ag, const char *prefix, const uint8_t *keep, size_t keep_len);
/* The files in ~/.ssh/jitca: calls fn for each ROLE-cert.pub. */
int each_file(const struct cconf *cf,
    void (*fn)(const char *dir, const char *role, void *ctx), void *ctx);
/* The settings of logout (--ca-bundle for its servers); 0 or an exit
 * status. */
MUST_CHECK int local_setup(struct cconf *cf, const struct cli_parsed *p);
/* A limit as people write it: "2h", "15m", "7d", else "1h30m". */
void dur_short(char *buf, size_t len, uint64_t s);
/* GET /v1/roles: the "roles" array (new reference) or NULL. */
json_t *roles_fetch(struct capi *api);
/* The role named name in roles (borrowed), or NULL. */
json_t *roles_find(json_t *roles, const char *name);
/* The role name in roles nearest to name (borrowed), or NULL when none
 * is close. */
const char *roles_nearest(json_t *roles, const char *name);
/* Say why the server refused a request for o->role (err r, its text
 * detail), naming the limit from GET /v1/roles; returns the exit status. */
int request_refused(struct capi *api, const struct opts *o, uint64_t ttl, int r,
    const char *detail);
/* The file of the CA key pinned for the server in use (new string). */
char *ca_pin_path(const struct cconf *cf);
/* The role and request id of a jitca key id "USER:ROLE:req-ID:serial-N";
 * 0 or -1. */
int key_id_parse(const char *key_id, char *role, size_t rlen, long long *req);

/* 1 when the user answers y or yes to question on /dev/tty. */
int confirm(const char *question);

/* The commands: each returns the exit status. */
int cmd_login(const struct cli_parsed *p);
int cmd_requests(const struct cli_parsed *p);
int cmd_decide(const struct cli_parsed *p, int approve);
int cmd_approve(const struct cli_parsed *p);
int cmd_deny(const struct cli_parsed *p);
int cmd_status(const struct cli_parsed *p);
int cmd_roles(const struct cli_parsed *p);
int cmd_cancel(const struct cli_parsed *p);
int cmd_review(const struct cli_parsed *p);
int cmd_sshconfig(const struct cli_parsed *p);
int cmd_logout(const struct cli_parsed *p);
/* The host CA's known_hosts line and Host block, from the GET /v1/ca
 * reply ca, RevokedHostKeys krl (hostca.c): 0 or an exit status. */
int sshconfig_host_ca(FILE *out, json_t *ca, const char *krl);

#endif /* JITCA_CLIENT_JITCA_H */
