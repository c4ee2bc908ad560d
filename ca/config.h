/*
 * config.h: jitca.json, the CA's configuration and role policy
 * (docs/configuration.md), read with jansson.
 *
 * config_load() parses and validates the whole file and either returns a
 * complete struct config or an error message that names the problem: the
 * line and column of a JSON syntax error, or the path of the offending
 * field ("roles.prod-debug.max_ttl: 3d is longer than ca.hard_max_ttl
 * (24h)").
 * Unknown keys are errors.  Durations are "90s", "30m", "12h", "7d".
 * A struct config owns everything it points to; config_free() frees it.
 * Relative paths in the file are resolved against the state directory.
 */
#ifndef JITCA_CONFIG_H
#define JITCA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "signer/cert.h"
#include "signer/base/duration.h"
#include "signer/err.h"

#define CONFIG_MAX_FILE (1024u * 1024)
#define CONFIG_ERR_LEN 512
#define CONFIG_MAX_ROLES 1000 /* roles in one file */
#define CONFIG_MAX_GROUPS 256 /* names in one group list */
#define CONFIG_MAX_PROXIES 64 /* entries of trusted_proxies */
#define CONFIG_MAX_HOST_DOMAINS 32 /* entries of host_domains */
#define CONFIG_MAX_APPROVALS 10 /* approvals_required upper bound */
#define CONFIG_MAX_OPTION_VALUE 1024 /* force-command, source-address */
#define CONFIG_MAX_BACKDATE (60u * 60) /* ca.backdate: 1h */
#define CONFIG_MAX_HARD_TTL (30u * 86400) /* ca.hard_max_ttl: 30d */
#define CONFIG_MAX_HOST_TTL (365u * 86400) /* ca.host_max_ttl: 365d */
#define CONFIG_MAX_REQUEST_TTL (7u * 86400) /* request_ttl: 7d */
/* ledger.checkpoint_interval: 1d; ledger.origin: bytes. */
#define CONFIG_MAX_CHECKPOINT_INTERVAL 86400u
#define CONFIG_MAX_ORIGIN 200
#define CONFIG_DEFAULT_REQUESTS_PER_MINUTE 30 /* limits.requests_per_minute */
#define CONFIG_MAX_REQUESTS_PER_MINUTE 10000
/* server.threads: the HTTP worker threads (web/http.h). */
#define CONFIG_DEFAULT_SERVER_THREADS 256
#define CONFIG_MAX_SERVER_THREADS 1024
/* server.connections_per_client: of those, what one address may hold. */
#define CONFIG_DEFAULT_SERVER_CONNECTIONS_PER_CLIENT 64
/* oidc: sign-in with an identity provider (docs/oidc.md). */
#define CONFIG_OIDC_RS256 0x01u /* the bits of web/oidc.h's OIDC_ALG_* */
#define CONFIG_OIDC_ES256 0x02u
#define CONFIG_OIDC_MAX_SCOPES 16
#define CONFIG_OIDC_MAX_CLAIM_NAME 64
#define CONFIG_OIDC_DEFAULT_AUTH_AGE 3600u /* approver_max_auth_age */
#define CONFIG_OIDC_MAX_AUTH_AGE (7u * 86400)
#define CONFIG_OIDC_DEFAULT_SESSION_TTL (8u * 3600) /* session_max_ttl */
#define CONFIG_OIDC_MAX_SESSION_TTL (7u * 86400)
#define CONFIG_MAX_NOTIFY 16 /* entries of notify */
#define CONFIG_MAX_URL 2048 /* notify[].url, public_url: bytes */
#define CONFIG_NOTIFY_NAME_MAX 64 /* notify[].name: bytes */
#define CONFIG_NOTIFY_SECRET_MAX 4096 /* a notify secret file: bytes */
#define CONFIG_NOTIFY_DEFAULT_TIMEOUT 10 /* notify[].timeout: seconds */
#define CONFIG_NOTIFY_MAX_TIMEOUT 60
#define CONFIG_NOTIFY_DEFAULT_MAX_BACKOFF 300 /* notify[].max_backoff */
#define CONFIG_NOTIFY_MAX_MAX_BACKOFF 3600
#define CONFIG_NOTIFY_DEFAULT_ALERT_AFTER 300 /* notify[].alert_after */
#define CONFIG_NOTIFY_MAX_ALERT_AFTER (7u * 86400)

struct role {
	char *name;
	char **principals; /* templates, may contain "{{user}}" */
	size_t nprincipals;
	uint64_t default_ttl; /* seconds; max_ttl when absent */
	uint64_t max_ttl; /* seconds */
	char **requesters; /* groups */
	size_t nrequesters;
	char **approvers; /* groups */
	size_t napprovers;
	unsigned approvals_required;
	struct cert_option *critical; /* sorted by name */
	size_t ncritical;
	struct cert_option *extensions; /* flags only, sorted */
	size_t nextensions;
	/* break_glass.max_ttl: seconds, 0 when the role has no break-glass
	 * (at most max_ttl). */
	uint64_t break_glass_ttl;
};

/*
 * The kinds of notification a sink may ask for (notify[].events), as
 * bits.  Most are ledger event types; "request.withdrawn" is the
 * request.denied event of a requester withdrawing their own request
 * (details.withdrawn true), which is then not a "request.denied"; and
 * "break-glass" is any event whose details say break_glass: true.
 */
enum config_notify_event {
	CONFIG_NOTIFY_REQUEST_CREATED = 1u << 0,
	CONFIG_NOTIFY_REQUEST_APPROVED = 1u << 1,
	CONFIG_NOTIFY_REQUEST_DENIED = 1u << 2,
	CONFIG_NOTIFY_REQUEST_EXPIRED = 1u << 3,
	CONFIG_NOTIFY_REQUEST_WITHDRAWN = 1u << 4,
	CONFIG_NOTIFY_CERT_ISSUED = 1u << 5,
	CONFIG_NOTIFY_CERT_REVOKED = 1u << 6,
	CONFIG_NOTIFY_BREAK_GLASS = 1u << 7,
	CONFIG_NOTIFY_ALL = (1u << 8) - 1,
};

enum config_notify_format {
	CONFIG_NOTIFY_JSON = 1, /* the ledger event plus a link */
	CONFIG_NOTIFY_SLACK = 2, /* a Slack incoming-webhook message */
};

/*
 * One entry of "notify": where to POST and what.  name is the sink's
 * stable identity (its delivery cursor and lease are kept under it): the
 * configured name, else "url-" and the first 12 hex digits of the
 * SHA-256 of the URL (a webhook URL is often itself a secret, so it
 * never appears in metrics, health or logs).
 */
struct config_notify {
	char *name;
	char *url; /* https, or http to a literal loopback address */
	enum config_notify_format format;
	unsigned events; /* CONFIG_NOTIFY_* bits */
	char **roles; /* only these roles' events; none: every role */
	size_t nroles;
	char *secret_file; /* absolute path; read by config_notify_secret() */
	uint64_t timeout; /* whole POST, seconds */
	uint64_t max_backoff; /* longest wait between retries, seconds */
	uint64_t alert_after; /* failing this long: reported, seconds */
};

/* The "oidc" block; absent: config.oidc is NULL and only static tokens
 * sign in. */
struct config_oidc {
	char *issuer; /* exactly as the provider writes it */
	char *client_id;
	char *client_secret_file; /* absolute path, or NULL (public client) */
	char *username_claim; /* default "preferred_username" */
	char *groups_claim; /* default "groups" */
	char **scopes; /* what clients ask for; default openid, profile */
	size_t nscopes;
	unsigned algs; /* CONFIG_OIDC_* bits, at least one */
	uint64_t approver_max_auth_age; /* seconds */
	uint64_t session_max_ttl; /* seconds */
};

struct config {
	char *state_dir; /* absolute */
	char *listen; /* "127.0.0.1:8443" */
	/* Key sources: an absolute path, or a "pkcs11:" URI (p11.h) as
	 * written, which p11_uri_is() tells. */
	char *ca_key_file; /* ca.key: the user CA key */
	char *host_key_file; /* ca.host_key: the host CA key */
	char *ledger_key_file; /* ca.ledger_key: the ledger key */
	char *pkcs11_module; /* ca.pkcs11_module, absolute; NULL: none */
	char *pin_file; /* ca.pin_file, absolute; NULL: none */
	/* ca.pkcs11_allow_network: the signer may open TCP connections (a
	 * module that talks to its device over the network: YubiHSM 2's
	 * yubihsm-connector). */
	int pkcs11_allow_network;
	uint64_t host_max_ttl; /* ca.host_max_ttl, seconds (default 30d) */
	uint64_t backdate; /* seconds (default 60) */
	uint64_t hard_max_ttl; /* seconds (default 24h) */
	char *ledger_path; /* absolute path */
	/* ledger.origin (NULL: checkpoint_origin_default()) and
	 * ledger.checkpoint_interval, seconds (default 60). */
	char *ledger_origin;
	uint64_t checkpoint_interval;
	uint64_t request_ttl; /* seconds (default 1h) */
	char **auditors; /* groups */
	size_t nauditors;
	/* Groups whose members report sshd logins (POST /v1/logins), each
	 * for the host named like the member (until host tokens). */
	char **host_groups;
	size_t nhost_groups;
	/* limits.requests_per_minute: POST /v1/requests per user and any
	 * 60 seconds (default 30; 0: no limit). */
	unsigned requests_per_minute;
	/* server.threads: connections served at once, each on a thread of
	 * its own (default 256); a request waits for its own durable
	 * commit, so many of them let group commit batch. */
	unsigned server_threads;
	/* server.connections_per_client: how many of them one client
	 * address may hold (default 64); trusted proxies are not limited
	 * by it. */
	unsigned server_connections_per_client;
	char **trusted_proxies; /* addresses or CIDRs (web/http.h) */
	size_t ntrusted_proxies;
	/* known_hosts patterns of the host CA ("*.prod.example.com") */
	char **host_domains;
	size_t nhost_domains;
	struct role *roles; /* sorted by name */
	size_t nroles;
	/* public_url: where people reach jitcad ("https://jitca.example.com",
	 * no trailing slash), for links in notifications; NULL when absent. */
	char *public_url;
	struct config_notify *notify; /* in file order */
	size_t nnotify;
	struct config_oidc *oidc; /* NULL: no identity provider */
};

/* Load and validate <state_dir>/jitca.json.  On failure returns
 * ERR_CONFIG (or ERR_SYSTEM when unreadable, ERR_TOO_LARGE when over
 * CONFIG_MAX_FILE) and writes a message naming the file or field into
 * errbuf (which may be NULL).  docs/configuration.md lists every rule. */
MUST_CHECK int config_load(
    struct config **out, const char *state_dir, char errbuf[CONFIG_ERR_LEN]);
/* Same, from a JSON text of len bytes (need not be NUL-terminated);
 * syntax errors read "jitca.json:LINE:COLUMN: ...". */
MUST_CHECK int config_parse(struct config **out, const char *state_dir,
    const char *json, size_t len, char errbuf[CONFIG_ERR_LEN]);
void config_free(struct config *c);

/*
 * Read notify[i]'s secret file into *secret (new, *len bytes, NUL
 * after them; wipe and free it with config_notify_secret_free()): the
 * file's content without one trailing newline ("\n" or "\r\n").  Empty,
 * over CONFIG_NOTIFY_SECRET_MAX, unreadable or not a regular file:
 * ERR_CONFIG (ERR_SYSTEM when unreadable) with "notify[i].secret_file:
 * PATH: why" in errbuf (may be NULL).  config_load() does not read the
 * secret files (the signer process loads the same file, as another
 * user); `jitcad config check` and `jitcad serve` call this.
 */
MUST_CHECK int config_notify_secret(const struct config *c, size_t i,
    char **secret, size_t *len, char errbuf[CONFIG_ERR_LEN]);
void config_notify_secret_free(char *secret, size_t len);
/* The name of one CONFIG_NOTIFY_* bit ("request.created"), NULL if none. */
const char *config_notify_event_name(unsigned bit);

/* Role by name (borrowed), NULL if none. */
const struct role *config_role(const struct config *c, const char *name);
/* 1 if any of the user's groups is in list. */
int config_groups_intersect(
    char *const *groups, size_t ngroups, char *const *list, size_t nlist);
/*
 * Expand the role's principal templates for user ("{{user}}" replaced):
 * a new array of new strings in *out (free with config_strv_free).  Every
 * expanded principal is checked with name_principal_valid().
 */
MUST_CHECK int config_role_principals(
    const struct role *r, const char *user, char ***out, size_t *n);
void config_strv_free(char **v, size_t n);

/*
 * Whether user may be a user name under this configuration: it must not equal a
 * literal principal (a template without "{{user}}") of any role, and no role's
 * "{{user}}" template may expand for it to such a literal principal, so that
 * "{{user}}" never becomes another role's principal.  0, ERR_BAD_NAME (not a
 * valid name) or ERR_NAME_IS_PRINCIPAL; on error msg (may be NULL, len bytes)
 * names the user, the role and the principal: user "debug" is the principal
 * "debug" of role prod-debug user "x" expands "adm-{{user}}" of role ops to
 * "adm-x", the principal "adm-x" of role root
 */
MUST_CHECK int config_user_name_check(
    const struct config *c, const char *user, char *msg, size_t len);

/*
 * Split and check a listen address "HOST:PORT": HOST is an IPv4 address,
 * a host name (A-Za-z0-9.-) or a bracketed IPv6 address ("[::1]"), PORT is
 * 0..65535 (0: any free port) without sign or leading zeros.  On success
 * *host (if host is not NULL) is a new string without brackets and *port
 * the port.  ERR_CONFIG otherwise, with *why (if not NULL) a static
 * sentence fragment.
 */
MUST_CHECK int config_listen_split(
    const char *listen, char **host, unsigned *port, const char **why);

/* The example configuration jitcad init writes (static text). */
const char *config_example(void);

#endif /* JITCA_CONFIG_H */
