/*
 * cli.c: the one option table of the jitcad program
 * (signer/base/cli.h): every command, subcommand and option of jitcad,
 * from which the parser, each command's --help, the man page jitcad.8 and
 * the bash completion are made.  `serve` runs the HTTP service
 * (serve.c), the other commands are the admin commands (admin.h, one
 * file per command group in this folder); main.c is main().
 *
 * Adding an option is one line in a table below plus a cli_str() or
 * cli_num() in the command's body; adding a command is one entry in
 * commands[].
 */
#include <stdio.h>

#include "signer/base/cli.h"
#include "web/jitcad/admin.h"
#include "web/jitcad/cli.h"
#include "web/jitcad/serve.h"

#ifndef JITCA_VERSION
#define JITCA_VERSION "0"
#endif

static const struct cli_opt common_opts[] = {
    {"state", 0, CLI_DIR, "DIR", 0,
	"the state directory (else $JITCA_STATE, else ./jitca-state)", NULL},
    CLI_OPT_END,
};

static const struct cli_opt json_opts[] = {
    {"json", 0, CLI_FLAG, NULL, 0, "print the result as one JSON document",
	NULL},
    CLI_OPT_END,
};

static const struct cli_opt init_opts[] = {
    {"ca-key-type", 0, CLI_CHOICE, "TYPE", 0,
	"the type of the new CA key (default ed25519)",
	"ed25519|ecdsa-p256|ecdsa-p384|rsa-3072"},
    {"ca-user", 0, CLI_STRING, "NAME", 0,
	"give the CA key to this user: the signer runs as it (root only)",
	NULL},
    {"user", 0, CLI_STRING, "NAME", 0,
	"give the state (ledger, KRL) to this unprivileged service user "
	"(root only)",
	NULL},
    {"add-keys", 0, CLI_FLAG, NULL, 0,
	"in an existing state directory, make only the missing host CA and "
	"ledger keys",
	NULL},
    {"ca-key", 0, CLI_STRING, "URI", 0,
	"use the key a PKCS#11 token holds (pkcs11:token=...;object=...) "
	"as the user CA key",
	NULL},
    {"pkcs11-module", 0, CLI_FILE, "FILE", 0,
	"with --ca-key: the PKCS#11 module (an absolute path)", NULL},
    {"pin-file", 0, CLI_FILE, "FILE", 0,
	"with --ca-key: the file holding the token's user PIN (mode 0600)",
	NULL},
    {"ledger", 0, CLI_STRING, "URL", 0,
	"keep the ledger in this PostgreSQL database (postgres://...) "
	"instead of ledger.db; creates its schema",
	NULL},
    CLI_OPT_END,
};

static const struct cli_opt ca_key_opts[] = {
    {"host", 0, CLI_FLAG, NULL, 0, "print the host CA public key instead",
	NULL},
    {"ledger", 0, CLI_FLAG, NULL, 0,
	"print the ledger public key (checkpoints, KRL signatures) instead",
	NULL},
    {"allowed-signers", 0, CLI_FLAG, NULL, 0,
	"with --ledger: print it as an allowed_signers line for ssh-keygen -Y "
	"verify -I ledger@jitca",
	NULL},
    {"generate-on-token", 0, CLI_FLAG, NULL, 0,
	"make a new non-extractable key in the PKCS#11 token --ca-key names "
	"and print its public key",
	NULL},
    {"ca-key", 0, CLI_STRING, "URI", 0,
	"with --generate-on-token: the key to make (pkcs11:token=...;"
	"object=...;id=...)",
	NULL},
    {"pkcs11-module", 0, CLI_FILE, "FILE", 0,
	"with --generate-on-token: the PKCS#11 module", NULL},
    {"pin-file", 0, CLI_FILE, "FILE", 0,
	"with --generate-on-token: the file holding the user PIN", NULL},
    {"ca-key-type", 0, CLI_CHOICE, "TYPE", 0,
	"with --generate-on-token: the type of the new key (default "
	"ed25519)",
	"ed25519|ecdsa-p256|ecdsa-p384|rsa-3072"},
    CLI_OPT_END,
};

static const struct cli_opt serve_opts[] = {
    {"listen", 0, CLI_STRING, "HOST:PORT", 0,
	"address to listen on (else jitca.json's \"listen\")", NULL},
    {"tls-cert", 0, CLI_FILE, "FILE", 0,
	"serve HTTPS with this PEM certificate chain (with --tls-key)", NULL},
    {"tls-key", 0, CLI_FILE, "FILE", 0, "the PEM private key of --tls-cert",
	NULL},
    {"user", 0, CLI_STRING, "NAME", 0,
	"started as root: run the service as this unprivileged user, the "
	"signer as the CA key's owner",
	NULL},
    CLI_OPT_END,
};

static const struct cli_opt user_add_opts[] = {
    {"group", 0, CLI_STRING, "G", CLI_REPEAT | CLI_REQUIRED,
	"a group the user belongs to", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd user_subs[] = {
    {"add", "NAME", 1, 1, "add a user and print its token (shown once)",
	user_add_opts, NULL, admin_user},
    {"token", "NAME", 1, 1,
	"print a new token for a user; the old one stops working", NULL, NULL,
	admin_user},
    {"disable", "NAME", 1, 1, "stop a user from logging in", NULL, NULL,
	admin_user},
    {"list", NULL, 0, 0, "list the users and their groups", json_opts, NULL,
	admin_user},
    CLI_CMD_END,
};

static const struct cli_opt host_add_opts[] = {
    {"principal", 0, CLI_STRING, "P", CLI_REPEAT | CLI_REQUIRED,
	"a host name or address the host's certificates name", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd host_subs[] = {
    {"add", "NAME", 1, 1, "enroll a host and print its host token (shown once)",
	host_add_opts, NULL, admin_host},
    {"list", NULL, 0, 0, "list the hosts, their names and bound keys",
	json_opts, NULL, admin_host},
    {"disable", "NAME", 1, 1, "stop a host's token from working", NULL, NULL,
	admin_host},
    {"reset", "NAME", 1, 1,
	"forget a host's bound host key: the next request binds a new one",
	NULL, NULL, admin_host},
    CLI_CMD_END,
};

static const struct cli_opt issue_opts[] = {
    {"user", 0, CLI_STRING, "NAME", CLI_REQUIRED, "the user to issue for",
	NULL},
    {"role", 0, CLI_STRING, "ROLE", CLI_REQUIRED, "the role of jitca.json",
	NULL},
    {"public-key", 0, CLI_FILE, "FILE", CLI_REQUIRED,
	"the user's OpenSSH public key", NULL},
    {"ttl", 0, CLI_DURATION, "D", 0,
	"lifetime (300, 90s, 30m, 12h, 7d; default the role's)", NULL},
    {"reason", 0, CLI_STRING, "TEXT", CLI_REQUIRED,
	"why, recorded in the ledger", NULL},
    {"principal", 0, CLI_STRING, "P", CLI_REPEAT,
	"a principal of the role (default all of them)", NULL},
    {"json", 0, CLI_FLAG, NULL, 0, "print the issued request as JSON", NULL},
    CLI_OPT_END,
};

static const struct cli_opt revoke_opts[] = {
    {"serial", 0, CLI_NUMBER, "N", 0, "the certificate with this serial", NULL},
    {"key-id", 0, CLI_STRING, "ID", 0, "certificates with this key id", NULL},
    {"user", 0, CLI_STRING, "NAME", 0, "every certificate of this user", NULL},
    {"host", 0, CLI_STRING, "NAME", 0,
	"every valid host certificate of this enrolled host", NULL},
    {"request", 0, CLI_NUMBER, "ID", 0, "the certificate of this request",
	NULL},
    {"public-key", 0, CLI_FILE, "FILE", 0,
	"this key, and every certificate for it", NULL},
    {"reason", 0, CLI_STRING, "TEXT", CLI_REQUIRED,
	"why, recorded in the ledger", NULL},
    {"json", 0, CLI_FLAG, NULL, 0, "print the result as JSON", NULL},
    CLI_OPT_END,
};

static const struct cli_opt krl_opts[] = {
    {"output", 'o', CLI_FILE, "FILE", 0,
	"where to write the KRL (default STATE/revoked.krl)", NULL},
    CLI_OPT_END,
};

static const struct cli_opt ledger_export_opts[] = {
    {"format", 0, CLI_CHOICE, "FORMAT", 0,
	"one JSON object per line, or CSV (default jsonl)", "jsonl|csv"},
    {"since", 0, CLI_STRING, "SEQ|WHEN", 0,
	"only events after sequence SEQ, or logged since WHEN: a duration "
	"back from now (7d) or a date (2026-11-24, 2026-11-24T09:00:00Z)",
	NULL},
    CLI_OPT_END,
};

static const struct cli_opt ledger_report_opts[] = {
    {"role", 0, CLI_STRING, "ROLE", 0, "only grants of this role", NULL},
    {"user", 0, CLI_STRING, "NAME", 0, "only grants this user asked for", NULL},
    {"since", 0, CLI_STRING, "WHEN", 0,
	"only access that lasted until after WHEN: a duration back from now "
	"(7d) or a date (2026-11-24, 2026-11-24T09:00:00Z)",
	NULL},
    {"until", 0, CLI_STRING, "WHEN", 0,
	"only access that began before WHEN (a duration or a date)", NULL},
    {"format", 0, CLI_CHOICE, "FORMAT", 0,
	"a readable table, CSV or a JSON list of grants (default table)",
	"table|csv|json"},
    CLI_OPT_END,
};

static const struct cli_opt ledger_verify_opts[] = {
    {"json", 0, CLI_FLAG, NULL, 0, "print the result as one JSON document",
	NULL},
    {"checkpoint", 0, CLI_FILE, "FILE", 0,
	"also prove that the ledger extends this saved signed checkpoint",
	NULL},
    CLI_OPT_END,
};

static const struct cli_opt ledger_prove_opts[] = {
    {"serial", 0, CLI_NUMBER, "N", CLI_REQUIRED,
	"the certificate whose cert.issued event to prove", NULL},
    CLI_OPT_END,
};

static const struct cli_opt ledger_bg_opts[] = {
    {"all", 0, CLI_FLAG, NULL, 0,
	"also the break-glass requests already reviewed", NULL},
    {"json", 0, CLI_FLAG, NULL, 0, "print the requests as one JSON array",
	NULL},
    CLI_OPT_END,
};

static const struct cli_opt ledger_migrate_opts[] = {
    {"to", 0, CLI_STRING, "URL", CLI_REQUIRED,
	"the new, empty ledger: a postgres:// URL (no password in it) or a "
	"sqlite file that does not exist yet",
	NULL},
    CLI_OPT_END,
};

static const struct cli_cmd ledger_subs[] = {
    {"verify", NULL, 0, 0,
	"check the hash chain, the Merkle tree and the state of every event",
	ledger_verify_opts, NULL, admin_ledger},
    {"prove", NULL, 0, 0,
	"print an inclusion proof of a certificate against the latest "
	"checkpoint",
	ledger_prove_opts, NULL, admin_ledger_prove},
    {"checkpoint", NULL, 0, 0,
	"sign a checkpoint of the ledger now and print it", NULL, NULL,
	admin_ledger_checkpoint},
    {"export", NULL, 0, 0, "print the events", ledger_export_opts, NULL,
	admin_ledger},
    {"report", NULL, 0, 0,
	"who had access: each grant with its reason, approvals, revocation "
	"and the logins hosts reported",
	ledger_report_opts, NULL, admin_ledger_report},
    {"break-glass", NULL, 0, 0,
	"list the break-glass certificates that need review", ledger_bg_opts,
	NULL, admin_ledger_break_glass},
    {"migrate", NULL, 0, 0,
	"copy the ledger (events, state, Merkle tree, checkpoints, hosts, "
	"sessions) into a new database and verify it there",
	ledger_migrate_opts, NULL, admin_ledger_migrate},
    CLI_CMD_END,
};

static const struct cli_cmd config_subs[] = {
    {"check", NULL, 0, 0, "load and validate jitca.json", NULL, NULL,
	admin_config_check},
    CLI_CMD_END,
};

static const struct cli_cmd commands[] = {
    {"init", NULL, 0, 0,
	"create the state directory: CA keys, ca.pub, jitca.json, ledger, KRL",
	init_opts, NULL, admin_init},
    {"serve", NULL, 0, 0, "run the HTTP API service", serve_opts, NULL,
	web_serve_run},
    {"ca-key", NULL, 0, 0, "print the CA public key", ca_key_opts, NULL,
	admin_ca_key},
    {"sshd-config", NULL, 0, 0, "print what a host needs to trust the CA", NULL,
	NULL, admin_sshd_config},
    {"config", NULL, 0, 0, "the configuration file", NULL, config_subs, NULL},
    {"user", NULL, 0, 0, "manage users and their tokens", NULL, user_subs,
	NULL},
    {"host", NULL, 0, 0, "enroll hosts for host certificates", NULL, host_subs,
	NULL},
    {"issue", NULL, 0, 0,
	"sign a certificate directly, without approval (recorded)", issue_opts,
	NULL, admin_issue},
    {"revoke", NULL, 0, 0, "revoke certificates and rebuild the KRL",
	revoke_opts, NULL, admin_revoke},
    {"krl", NULL, 0, 0, "rebuild the KRL from the ledger and print its path",
	krl_opts, NULL, admin_krl},
    {"ledger", NULL, 0, 0, "the issuance ledger", NULL, ledger_subs, NULL},
    CLI_CMD_END,
};

const struct cli_prog jitcad_prog = {
    "jitcad",
    8,
    JITCA_VERSION,
    "the jitca SSH certificate authority service and its admin commands",
    "jitcad signs short-lived OpenSSH user certificates for engineers who "
    "asked for a role and were approved. It keeps every step in a "
    "tamper-evident ledger and publishes a KRL for early revocation.\n\n"
    "Every command prints its result alone on standard output and its "
    "messages on standard error.",
    common_opts,
    commands,
    "0  success\n"
    "1  refused or failed\n"
    "2  usage error",
    "JITCA_STATE  the state directory when --state is not given\n"
    "SOFTHSM2_CONF, YUBIHSM_PKCS11_CONF  passed on to the signer's PKCS#11 "
    "module",
    "STATE/jitca.json  the configuration\n"
    "STATE/ca_key.pem  the CA private key (mode 0600)\n"
    "STATE/ca.pub  the CA public key\n"
    "STATE/host_ca_key.pem, host_ca.pub  the host CA key and its public "
    "line\n"
    "STATE/ledger_key.pem, ledger.pub  the ledger key (checkpoints, KRL "
    "signatures)\n"
    "STATE/ledger.db  the issuance ledger\n"
    "STATE/revoked.krl  the KRL",
};
