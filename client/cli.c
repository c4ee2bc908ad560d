/*
 * cli.c: the one option table of the jitca program (signer/base/cli.h):
 * every command and option, from which the parser, each command's --help
 * (which never acts), the man page jitca.1 and the bash completion are
 * made.  The commands are in login.c, requests.c, roles.c, status.c,
 * logout.c and sshconfig.c; main.c is main().  The common options may
 * come before the command word too (`jitca --server URL requests`).
 */
#include <stdio.h>

#include "client/cli.h"
#include "client/jitca.h"
#include "signer/base/cli.h"

#ifndef JITCA_VERSION
#define JITCA_VERSION "0"
#endif

/* ---- the option table (signer/base/cli.h) ---- */

static const struct cli_opt common_opts[] = {
    {"server", 0, CLI_STRING, "URL", 0,
	"the jitcad server (else $JITCA_SERVER, else ~/.config/jitca/config)",
	NULL},
    {"token-file", 0, CLI_FILE, "FILE", 0,
	"read the token from FILE (else $JITCA_TOKEN, else "
	"~/.config/jitca/token)",
	NULL},
    {"ca-bundle", 0, CLI_FILE, "FILE", 0,
	"trust this PEM bundle for the server's TLS certificate", NULL},
    {"device", 0, CLI_FLAG, NULL, 0,
	"sign in with a code on another device (RFC 8628) instead of a "
	"browser here",
	NULL},
    CLI_OPT_END,
};

static const struct cli_opt login_opts[] = {
    {"role", 0, CLI_STRING, "ROLE", CLI_REQUIRED, "the role to ask for", NULL},
    {"principal", 0, CLI_STRING, "P", CLI_REPEAT,
	"a principal of the role (default all of them)", NULL},
    {"ttl", 0, CLI_DURATION, "D", 0,
	"lifetime (300, 90s, 30m, 12h, 7d; default the role's)", NULL},
    {"reason", 0, CLI_STRING, "TEXT", CLI_REQUIRED,
	"why, shown to the approvers and kept in the ledger", NULL},
    {"wait", 0, CLI_DURATION, "D", 0,
	"how long to wait for approval (default 15m)", NULL},
    {"no-agent", 0, CLI_FLAG, NULL, 0,
	"write ~/.ssh/jitca/ROLE and ROLE-cert.pub instead of using "
	"ssh-agent",
	NULL},
    {"break-glass", 0, CLI_FLAG, NULL, 0,
	"emergency: issue at once without an approver (roles with "
	"break_glass only; shorter, flagged, every approver is told, "
	"reviewed later)",
	NULL},
    {"force", 0, CLI_FLAG, NULL, 0,
	"ask even when a valid certificate for the role is already held", NULL},
    CLI_OPT_END,
};

#define STATES "pending|issued|denied|expired|withdrawn|revoked"

static const struct cli_opt requests_opts[] = {
    {"pending", 0, CLI_FLAG, NULL, 0,
	"only pending requests (same as --state pending)", NULL},
    {"state", 0, CLI_CHOICE, NULL, 0, "only requests in this state", STATES},
    {"role", 0, CLI_STRING, "ROLE", 0, "only requests for this role", NULL},
    {"user", 0, CLI_STRING, "NAME", 0, "only requests made by this user", NULL},
    {"json", 0, CLI_FLAG, NULL, 0, "print the requests as a JSON array", NULL},
    {"watch", 0, CLI_FLAG, NULL, 0,
	"keep running: print each pending request as it comes (polled), "
	"until Ctrl-C",
	NULL},
    {"interval", 0, CLI_DURATION, "D", 0,
	"how often --watch asks the server (default 5s)", NULL},
    CLI_OPT_END,
};

static const struct cli_opt approve_opts[] = {
    {"comment", 0, CLI_STRING, "TEXT", 0, "a comment for the requester", NULL},
    {"ttl", 0, CLI_DURATION, "D", 0,
	"approve a shorter lifetime than asked (never longer)", NULL},
    {"yes", 0, CLI_FLAG, NULL, 0, "do not ask for confirmation", NULL},
    CLI_OPT_END,
};

static const struct cli_opt deny_opts[] = {
    {"comment", 0, CLI_STRING, "TEXT", 0, "a comment for the requester", NULL},
    {"yes", 0, CLI_FLAG, NULL, 0, "do not ask for confirmation", NULL},
    CLI_OPT_END,
};

static const struct cli_opt review_opts[] = {
    {"comment", 0, CLI_STRING, "TEXT", CLI_REQUIRED,
	"what the review found (kept in the ledger)", NULL},
    CLI_OPT_END,
};

static const struct cli_opt json_opts[] = {
    {"json", 0, CLI_FLAG, NULL, 0, "print JSON instead of a table", NULL},
    CLI_OPT_END,
};

static const struct cli_opt status_opts[] = {
    {"json", 0, CLI_FLAG, NULL, 0, "print JSON instead of a table", NULL},
    {"prune", 0, CLI_FLAG, NULL, 0,
	"delete expired certificates and their keys from ~/.ssh/jitca", NULL},
    CLI_OPT_END,
};

static const struct cli_opt sshconfig_opts[] = {
    {"host", 0, CLI_STRING, "PATTERN", 0,
	"the Host pattern of the block (default *)", NULL},
    {"role", 0, CLI_STRING, "ROLE", 0,
	"only this role (default every role you may request)", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd commands[] = {
    {"login", NULL, 0, 0,
	"request a certificate, wait for approval, add it to ssh-agent (or "
	"write ~/.ssh/jitca/ROLE)",
	login_opts, NULL, cmd_login},
    {"requests", NULL, 0, 0, "list the requests you made or may approve",
	requests_opts, NULL, cmd_requests},
    {"roles", NULL, 0, 0,
	"list the roles you may request or approve, with their limits",
	json_opts, NULL, cmd_roles},
    {"approve", "ID", 1, 1, "approve a pending request", approve_opts, NULL,
	cmd_approve},
    {"deny", "ID", 1, 1, "deny a pending request", deny_opts, NULL, cmd_deny},
    {"cancel", "ID", 1, 1, "withdraw your own pending request", NULL, NULL,
	cmd_cancel},
    {"review", "ID", 1, 1,
	"review a break-glass certificate (approvers of its role)", review_opts,
	NULL, cmd_review},
    {"status", NULL, 0, 0,
	"list the jitca certificates in the agent and in files, and whether "
	"the server has revoked them",
	status_opts, NULL, cmd_status},
    {"logout", NULL, 0, 0,
	"remove jitca certificates from the agent, delete their files, and "
	"sign out of the cached sessions at their servers",
	NULL, NULL, cmd_logout},
    {"ssh-config", NULL, 0, 0,
	"print the ~/.ssh/config lines for jitca certificates and the "
	"known_hosts line that trusts jitca host certificates",
	sshconfig_opts, NULL, cmd_sshconfig},
    CLI_CMD_END,
};

const struct cli_prog jitca_prog = {
    "jitca",
    1,
    JITCA_VERSION,
    "ask for, approve and use short-lived SSH certificates",
    "jitca asks the jitca certificate authority for access to a role, for "
    "a stated reason and a bounded time. Once someone else approves, the "
    "certificate goes into ssh-agent with the same lifetime, and plain "
    "ssh works until it expires.\n\n"
    "Results go to standard output, messages to standard error. Durations "
    "are a number and a unit (90s, 30m, 12h, 7d) or a bare number of "
    "seconds (300).",
    common_opts,
    commands,
    "0  success\n"
    "1  refused or failed\n"
    "2  usage error or bad configuration\n"
    "3  server unreachable or TLS failure\n"
    "4  no, bad or disabled token\n"
    "5  forbidden\n"
    "6  the request was denied\n"
    "7  the request expired unapproved\n"
    "8  --wait ran out\n"
    "9  the certificate or CA key failed jitca's checks\n"
    "130  interrupted",
    "JITCA_SERVER  the server when --server is not given\n"
    "JITCA_TOKEN  the token when --token-file is not given\n"
    "JITCA_BROWSER  run with the sign-in URL (and with --device the code) "
    "instead of xdg-open\n"
    "SSH_AUTH_SOCK  the ssh-agent to add certificates to",
    "~/.config/jitca/config  settings (server = URL, token_file, ca_bundle)\n"
    "~/.config/jitca/token  the token\n"
    "~/.cache/jitca/  the sessions of signing in, one per server\n"
    "~/.config/jitca/ca/SERVER.pub  the CA key of each server, pinned on "
    "first use\n"
    "~/.ssh/jitca/  keys and certificates written with --no-agent",
};
