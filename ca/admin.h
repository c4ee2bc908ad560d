/*
 * admin.h: the jitcad admin commands (DESIGN.md "Interfaces"): init,
 * ca-key, sshd-config, config check, user, issue, revoke, krl, ledger.
 *
 * Each command takes its own argv (argv[0] is the command word), prints
 * its result alone on stdout and messages on stderr, and returns the exit
 * status: 0 success, 1 refused or failed, 2 usage error.  These are the
 * only functions in ca/ that print; the library code below them returns
 * error codes.  web/jitcad_main.c dispatches to them.
 */
#ifndef JITCA_ADMIN_H
#define JITCA_ADMIN_H

#define ADMIN_EXIT_OK 0
#define ADMIN_EXIT_FAIL 1
#define ADMIN_EXIT_USAGE 2

/* Run the admin command named by argv[0]; ADMIN_EXIT_USAGE when unknown. */
int admin_main(int argc, char **argv);
/* 1 if name is an admin command. */
int admin_is_command(const char *name);
/* Usage text of all admin commands (static). */
const char *admin_usage(void);

/*
 * The state directory: --state DIR if given, else $JITCA_STATE, else
 * ./jitca-state.  Returns a borrowed string.
 */
const char *admin_state_dir(const char *opt);

#endif /* JITCA_ADMIN_H */
