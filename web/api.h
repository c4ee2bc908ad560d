/*
 * api.h: the endpoints of jitcad's HTTP API (docs/design.md "Interfaces"):
 * health, CA key, KRL, roles, requests and their approval, revocations,
 * the ledger for auditors, and Prometheus metrics.
 *
 * Handlers authenticate the bearer token (ca/users.h: a user's static
 * token or a session's from POST /v1/session, which trades an ID token
 * verified by web/oidc.h for one), call the domain
 * (ca/request.h, ca/revoke.h) and map its error codes to HTTP statuses in
 * one table.  They run on libmicrohttpd's thread pool: writers run
 * concurrently and the ledger batches their units of work into shared
 * COMMITs (group commit, ca/ledger.h); read-only calls run between
 * transactions (ledger_read_begin/end); cfg_lock guards the
 * configuration pointer against a SIGHUP swap; krl_lock the KRL cache.
 * Nothing here parses HTTP (web/http.c does) or manages the process
 * (web/jitcad/serve.c does).
 *
 * Ownership: struct api borrows the ledger and the signer
 * (web/jitcad/serve.c owns them) and owns the configuration it was given and
 * the KRL cache.
 */
#ifndef JITCA_API_H
#define JITCA_API_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"
#include "ca/config.h"
#include "ca/ledger.h"
#include "signer/err.h"
#include "signer/signer.h"
#include "web/http.h"
#include "web/oidc.h"
#include "web/ratelimit.h"

/* Upper bounds of the issuance latency histogram, in seconds. */
#define API_LATENCY_BUCKETS 11
#define API_LEDGER_LIMIT_DEFAULT 100
#define API_LEDGER_LIMIT_MAX 1000
#define API_REQUESTS_LIMIT_DEFAULT 50 /* GET /v1/requests?limit= */
#define API_REQUESTS_LIMIT_MAX 500
/* Retry-After (s) of a 503 ledger_unavailable: room takes a while. */
#define API_LEDGER_RETRY_AFTER "30"

/*
 * The last hash chain verify of GET /ui/ledger (web/ui_audit.c): a view
 * shows it while it is younger than max_age seconds, so that paging
 * through a large ledger does not verify the whole chain each time.  One
 * view verifies at a time; those arriving meanwhile wait for its result.
 * mu guards the rest; done is signalled when a verify ends.
 */
#define UI_VERIFY_MAX_AGE_S 60

/* Seconds on the monotonic clock. */
double api_mono_now(void);

struct ui_verify_result {
	int r; /* ledger_verify()'s */
	int64_t count, bad;
	char err[LEDGER_ERR_LEN];
	double mono; /* CLOCK_MONOTONIC when begun: its age */
	uint64_t wall; /* ledger_now() when begun: shown */
};

struct ui_verify {
	pthread_mutex_t mu;
	pthread_cond_t done;
	uint64_t max_age; /* s; UI_VERIFY_MAX_AGE_S, or the test hook's */
	int running; /* a view is verifying */
	uint64_t runs; /* verifies finished */
	int have; /* last is a verdict worth keeping */
	struct ui_verify_result last;
};

struct api {
	pthread_rwlock_t cfg_lock; /* cfg (write: swap; read: handlers) */
	pthread_mutex_t krl_lock; /* krl, krl_len, krl_version */
	struct ca ca;
	struct config *cfg; /* owned; swapped by api_config_swap() */
	struct ledger *ledger; /* borrowed */
	struct signer *signer; /* borrowed */
	char *ca_line; /* "type base64" of the CA key */
	char *host_line; /* of the host CA key, NULL: none */
	const char *ca_key_type; /* static */
	/* KRL cache: rebuilt when krl_version moves or the CA clock went
	 * back; its ETag is the SHA-256 of the bytes. */
	uint8_t *krl;
	size_t krl_len;
	uint64_t krl_version;
	uint64_t krl_built; /* CA time the cached KRL was built at */
	char krl_etag[68]; /* "\"" hex(SHA-256(krl)) "\"" */
	atomic_int krl_dirty; /* set by our own revocations */
	char *krl_sig; /* armored SSHSIG krl@jitca of krl (NULL: no key) */
	char *origin; /* the checkpoints' origin (ca/checkpoint.h) */
	struct ratelimit *create_rl; /* POST /v1/requests per user */
	/* The ID-token verifier of cfg->oidc (NULL without one), made
	 * afresh with each configuration and swapped with it. */
	struct oidc_verifier *oidc;
	/* The last ledger write failed with this ERR_LEDGER_* code (0: it
	 * succeeded): /v1/health answers 503 meanwhile. */
	atomic_int ledger_down;
	/* 1 while the last signature failed with ERR_TOKEN_UNAVAILABLE. */
	atomic_int token_down;
	/* Why the signer is down (web/jitcad/supervise.c),
	 * for /v1/health. */
	pthread_mutex_t health_lock;
	char signer_note[160];
	/* Metrics of this process. */
	_Atomic uint64_t certs_issued;
	_Atomic uint64_t revocations;
	_Atomic uint64_t lat_count;
	_Atomic uint64_t lat_sum_us;
	_Atomic uint64_t lat_bucket[API_LATENCY_BUCKETS];
	/* The notification sinks' delivery (web/notify.h), for /v1/health
	 * and /metrics; borrowed, set by the serve command after api_init()
	 * and cleared before it stops them; NULL when there is none. */
	struct notify *_Atomic notify;
	/* The web pages' sessions (web/ui_session.h), owned. */
	struct ui_sessions *ui;
	struct ui_verify ui_verify;
};

/*
 * Set up a (any contents; it is cleared first) with cfg, the open ledger
 * and the running signer (both borrowed).  On success a owns cfg
 * (api_free frees it); on failure cfg stays the caller's and a needs no
 * api_free.
 */
MUST_CHECK int api_init(
    struct api *a, struct config *cfg, struct ledger *l, struct signer *s);
void api_free(struct api *a);
/* The route table (static). */
const struct http_route *api_routes(size_t *n);
/* Replace the configuration (taken over) under the lock; frees the old
 * one. */
void api_config_swap(struct api *a, struct config *cfg);
/* Record why the signer is not running (copied; NULL or "" clears);
 * /v1/health answers 503 with it while signer_alive() is 0. */
void api_signer_note(struct api *a, const char *why);
/*
 * A checkpoint of the ledger, signed by the signer's ledger key: always
 * with force (at start), else only when events arrived since the last
 * one (the serve loop calls it every ledger.checkpoint_interval).
 * *made (may be NULL) 1 when one was made; ERR_SIGNER_NO_KEY when the
 * signer holds no ledger key.
 */
MUST_CHECK int api_checkpoint(struct api *a, int force, int *made);
struct checkpoint_proof;
/* The proof as the JSON object of GET /v1/ledger/proof and jitcad
 * ledger prove: tree_size, leaf_index, leaf_hash (hex), path (hex, RFC
 * 9162 order), root (base64 as in the checkpoint).  New, or NULL. */
json_t *api_proof_json(const struct checkpoint_proof *pr);
/* Periodic work: expire pending requests past their request_ttl. */
MUST_CHECK int api_tick(struct api *a, size_t *expired);

/*
 * The HTTP status and snake_case code for a library error code (the one
 * table; docs/design.md "Interfaces").  Exposed for tests.
 */
int api_err_status(int err, const char **code);

/*
 * For the web pages (web/ui.c), which call the domain as the handlers
 * here do: the configuration lock (read side), the same plus the ledger's
 * read section, and the note a write leaves for /v1/health (a storage
 * failure, a token that is gone; r is the domain call's result).
 */
void api_cfg_lock(struct api *a);
void api_cfg_unlock(struct api *a);
void api_read_lock(struct api *a);
void api_read_unlock(struct api *a);
void api_write_noted(struct api *a, int r);

/*
 * The sign-in of POST /v1/session once oidc_verify() accepted id, for
 * the API and the pages (web/ui_oidc.c), called with the configuration
 * locked (api_cfg_lock): the user name claim must be a usable jitca name,
 * then ca/users.h user_sign_in() (the session ends at the token's exp or
 * after oidc.session_max_ttl).  0 with res->session (new;
 * user_token_free), exp, auth_time and created set; else the error and,
 * when res->status is not 0, the status, snake_case code and sentence to
 * answer with.
 */
struct api_sign_in {
	char user[65]; /* the user name claim */
	char *session;
	uint64_t exp, auth_time;
	int created;
	int status;
	const char *code;
	char msg[384];
};
struct oidc_identity;
MUST_CHECK int api_oidc_sign_in(
    struct api *a, const struct oidc_identity *id, struct api_sign_in *res);

struct host;
/*
 * The enrolled host whose host token req carries (*h new; host_free()),
 * or a reply already made (401 missing_token / bad_token, 429 when
 * failures are throttled, 5xx) and its error.  A user token never
 * authenticates here, nor a host token as a user (ca/hosts.h).
 */
MUST_CHECK int api_authenticate_host(
    struct api *a, struct http_req *req, struct host **h);

#endif /* JITCA_API_H */
