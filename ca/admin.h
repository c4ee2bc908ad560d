/*
 * admin.h: the jitcad admin commands (README.md "Commands"): init,
 * ca-key, sshd-config, config check, user, issue, revoke, krl, ledger.
 *
 * Each command takes its parsed command line, prints its result alone on
 * stdout and messages on stderr, and returns the exit status: 0 success,
 * 1 refused or failed, 2 usage error.  These are the
 * only functions in ca/ that print; the library code below them returns
 * error codes.  web/jitcad_main.c dispatches to them.
 */
#ifndef JITCA_ADMIN_H
#define JITCA_ADMIN_H

#define ADMIN_EXIT_OK 0
#define ADMIN_EXIT_FAIL 1
#define ADMIN_EXIT_USAGE 2

struct cli_parsed;

/*
 * The commands, each given its parsed command line (signer/base/cli.h);
 * the option table that fills it is web/jitcad_main.c's.
 */
int admin_init(const struct cli_parsed *p);
int admin_ca_key(const struct cli_parsed *p);
int admin_sshd_config(const struct cli_parsed *p);
int admin_config_check(const struct cli_parsed *p);
/* user add, token, disable, list (by p->sub). */
int admin_user(const struct cli_parsed *p);
int admin_issue(const struct cli_parsed *p);
int admin_revoke(const struct cli_parsed *p);
int admin_krl(const struct cli_parsed *p);
/* ledger verify, export (by p->sub). */
int admin_ledger(const struct cli_parsed *p);
/* ledger report: access grants with approvals, revocations, logins. */
int admin_ledger_report(const struct cli_parsed *p);

/*
 * The state directory: --state DIR if given, else $JITCA_STATE, else
 * ./jitca-state.  Returns a borrowed string.
 */
const char *admin_state_dir(const char *opt);

#endif /* JITCA_ADMIN_H */
