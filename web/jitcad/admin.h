/*
 * admin.h: the jitcad admin commands (README.md "Commands"): init,
 * ca-key, sshd-config, config check, user, host, issue, revoke, krl,
 * ledger, one file per command group in web/jitcad/, and what they share
 * (common.c).
 *
 * Each command takes its parsed command line, prints its result alone on
 * stdout and messages on stderr, and returns the exit status: 0 success,
 * 1 refused or failed, 2 usage error.  They are part of the jitcad
 * program; the library code below them (ca/, signer/, web/) returns error
 * codes and never prints.  The option table web/jitcad/cli.c dispatches
 * to them.
 */
#ifndef JITCA_ADMIN_H
#define JITCA_ADMIN_H

#include <jansson.h>

#include "ca/ca.h"
#include "signer/err.h"

#define ADMIN_EXIT_OK 0
#define ADMIN_EXIT_FAIL 1
#define ADMIN_EXIT_USAGE 2

#define CA_PUB_FILE "ca.pub"
#define HOST_KEY_FILE "host_ca_key.pem"
#define HOST_PUB_FILE "host_ca.pub"
#define LEDGER_KEY_FILE "ledger_key.pem"
#define LEDGER_PUB_FILE "ledger.pub"
/* The comments of the public lines, and the ledger key's signer name. */
#define HOST_PUB_COMMENT "jitca-host-ca"
#define LEDGER_PUB_COMMENT "jitca-ledger"
#define LEDGER_PRINCIPAL "ledger@jitca"
#define CONFIG_FILE "jitca.json"
#define KRL_FILE "revoked.krl"

struct cli_parsed;
struct config;
struct ledger;
struct pubkey;
struct signer;

/*
 * The commands, each given its parsed command line (signer/base/cli.h);
 * the option table that fills it is web/jitcad/cli.c.
 */
int admin_init(const struct cli_parsed *p);
int admin_ca_key(const struct cli_parsed *p);
int admin_sshd_config(const struct cli_parsed *p);
int admin_config_check(const struct cli_parsed *p);
/* user add, token, disable, list (by p->sub). */
int admin_user(const struct cli_parsed *p);
/* host add, list, disable, reset (by p->sub; host.c). */
int admin_host(const struct cli_parsed *p);
int admin_issue(const struct cli_parsed *p);
int admin_revoke(const struct cli_parsed *p);
int admin_krl(const struct cli_parsed *p);
/* ledger verify, export (by p->sub). */
int admin_ledger(const struct cli_parsed *p);
/* ledger report: access grants with approvals, revocation, logins. */
int admin_ledger_report(const struct cli_parsed *p);
/* ledger prove, ledger checkpoint. */
int admin_ledger_prove(const struct cli_parsed *p);
int admin_ledger_checkpoint(const struct cli_parsed *p);
/* ledger break-glass: the break-glass grants that need review. */
int admin_ledger_break_glass(const struct cli_parsed *p);

/*
 * The state directory: --state DIR if given, else $JITCA_STATE, else
 * ./jitca-state.  Returns a borrowed string.
 */
const char *admin_state_dir(const char *opt);

/* ---- shared by the commands (common.c) ---- */

/*
 * What a command needs, opened in order: config, ledger, the CA public
 * key (from ca.pub), and with need_signer the signer process, which alone
 * loads the CA private key.  admin_close() releases all of it.
 */
struct admin_ctx {
	const char *cmd;
	const char *state;
	struct config *cfg;
	struct ledger *ledger;
	struct pubkey *ca_pub;
	struct pubkey *host_pub; /* <state>/host_ca.pub; NULL: none */
	struct signer *signer;
	struct ca ca;
};

/* "<dir>/<name>", new (free it), or NULL when out of memory. */
char *path_join(const char *dir, const char *name);
/* Print "jitcad CMD: what: reason" for a library error. */
void report(const char *cmd, const char *what, int r);
/* The usage message of p's command on stderr; returns ADMIN_EXIT_USAGE. */
int usage_error(const struct cli_parsed *p, const char *msg);
/* One compact JSON document and a newline on stdout (--json). */
MUST_CHECK int print_json(const char *cmd, const json_t *v);
/* print_json() of v, a new reference from web/encode.c (released here;
 * NULL: out of memory, reported). */
MUST_CHECK int print_encoded(const char *cmd, json_t *v);
/* "local:<unix user>", the actor of commands run on the CA host
 * (borrowed, static). */
const char *admin_actor(void);
/* The ledger file named by the config, else <state>/ledger.db; *out is
 * new. */
MUST_CHECK int admin_ledger_path(const char *state, char **out);
/* Open config, ledger, ca.pub and with need_signer the signer, saying
 * what is wrong on stderr; admin_close() releases it (also after a
 * failed admin_open()). */
MUST_CHECK int admin_open(
    struct admin_ctx *x, const char *cmd, const char *state, int need_signer);
void admin_close(struct admin_ctx *x);
/* Read and parse <state>/ca.pub into *out (new). */
MUST_CHECK int admin_load_ca_pub(
    const char *cmd, const char *state, struct pubkey **out);
/* Start the signer for an open context; it must hold ca.pub's key. */
MUST_CHECK int admin_start_signer(struct admin_ctx *x);
/* 1 when a configured key source is there: a "pkcs11:" URI (the signer
 * finds out whether the token holds it), or a file that exists. */
int admin_key_present(const char *source);
/* The checkpoint origin: ledger.origin, else the default of the CA key
 * (ca/checkpoint.h); *out new. */
MUST_CHECK int admin_ledger_origin(
    const struct config *cfg, const struct pubkey *ca_pub, char **out);
/* A struct checkpoint_signer over a running signer. */
struct checkpoint_signer;
void admin_checkpoint_signer(struct checkpoint_signer *sg, struct signer *s);
/* Read and parse <state>/ledger.pub into *out (new). */
MUST_CHECK int admin_load_ledger_pub(
    const char *cmd, const char *state, struct pubkey **out);
/* Rebuild the KRL from the ledger into path (default <state>/revoked.krl);
 * *written (may be NULL) gets the path used (new: free it). */
MUST_CHECK int admin_krl_write(
    struct admin_ctx *x, const char *path, char **written);

#endif /* JITCA_ADMIN_H */
