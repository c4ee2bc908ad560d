/*
 * admin.c: the jitcad admin commands of admin.h.  Parses each command's
 * options, opens what it needs (config, ledger, signer process), calls the
 * ca/ library, and prints.  The policy lives in the library (request.c,
 * revoke.c, users.c); nothing here decides who may do what.
 *
 * The CA private key is touched here only by `init`, which generates and
 * stores it; commands that sign (`issue`) start the signer process and
 * never load the key themselves.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/admin.h"
#include "ca/config.h"
#include "ca/ledger.h"
#include "signer/cakey.h"
#include "signer/err.h"
#include "signer/pubkey.h"

#define CA_PUB_FILE "ca.pub"
#define CONFIG_FILE "jitca.json"

const char *
admin_state_dir(const char *opt)
{
	const char *env;

	if (opt != NULL && *opt != '\0')
		return opt;
	if ((env = getenv("JITCA_STATE")) != NULL && *env != '\0')
		return env;
	return "./jitca-state";
}

static char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Print "jitcad CMD: what: reason" for a library error. */
static void
report(const char *cmd, const char *what, int r)
{
	if (r == ERR_CRYPTO && *err_crypto_detail() != '\0')
		fprintf(stderr, "jitcad %s: %s: %s (%s)\n", cmd, what,
		    err_str(r), err_crypto_detail());
	else if (r == ERR_SYSTEM)
		fprintf(stderr, "jitcad %s: %s: %s\n", cmd, what,
		    strerror(errno));
	else
		fprintf(stderr, "jitcad %s: %s: %s\n", cmd, what, err_str(r));
}

static int
usage_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "jitcad %s: %s\n", cmd, msg);
	fprintf(stderr, "%s", admin_usage());
	return ADMIN_EXIT_USAGE;
}

/* Write a whole small file with mode, refusing to overwrite. */
static int
write_new_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode)) < 0)
		return ERR_SYSTEM;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return ERR_SYSTEM;
	}
	if (fputs(text, f) == EOF || fflush(f) != 0 || fsync(fd) != 0) {
		fclose(f);
		return ERR_SYSTEM;
	}
	if (fclose(f) != 0)
		return ERR_SYSTEM;
	return 0;
}

/* Read a whole file of at most max bytes into a new NUL-terminated
 * string. */
static int
read_small_file(const char *path, size_t max, char **out)
{
	FILE *f;
	char *buf = NULL;
	size_t n;
	int r = ERR_INTERNAL;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return ERR_SYSTEM;
	if ((buf = malloc(max + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		r = ERR_SYSTEM;
		goto out;
	}
	if (n > max) {
		r = ERR_TOO_LARGE;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	r = 0;
out:
	free(buf);
	fclose(f);
	return r;
}

/* "local:<unix user>", the actor of commands run on the CA host. */
static const char *
admin_actor(void)
{
	static char actor[96];
	struct passwd *pw;

	if (actor[0] == '\0') {
		pw = getpwuid(geteuid());
		if (pw != NULL && pw->pw_name != NULL &&
		    strlen(pw->pw_name) < sizeof(actor) - 7)
			snprintf(actor, sizeof(actor), "local:%s", pw->pw_name);
		else
			snprintf(actor, sizeof(actor), "local:uid-%u",
			    (unsigned)geteuid());
	}
	return actor;
}

/*
 * The ledger file named by the config; when the config does not load,
 * <state>/ledger.db, so that security can still verify the ledger of a
 * CA whose config is broken.
 */
static int
admin_ledger_path(const char *state, char **out)
{
	char errbuf[CONFIG_ERR_LEN];
	struct config *cfg = NULL;

	*out = NULL;
	if (config_load(&cfg, state, errbuf) == 0) {
		*out = strdup(cfg->ledger_path);
		config_free(cfg);
	} else {
		fprintf(stderr, "jitcad: warning: %s; using %s/ledger.db\n",
		    errbuf, state);
		*out = path_join(state, "ledger.db");
	}
	if (*out == NULL) {
		report("ledger", state, ERR_ALLOC);
		return ERR_ALLOC;
	}
	return 0;
}

static int admin_krl_write(struct ledger *l, const char *state,
    const char *out_path, char **written);

/* Options every command takes; getopt_long tables list them first. */
#define STATE_OPT { "state", required_argument, NULL, 'S' }
#define JSON_OPT { "json", no_argument, NULL, 'J' }
#define HELP_OPT { "help", no_argument, NULL, 'h' }

static int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = { STATE_OPT, HELP_OPT,
		{ "ca-key-type", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 } };
	const char *state = NULL, *type_name = "ed25519";
	char *key_path = NULL, *pub_path = NULL, *cfg_path = NULL;
	char *db_path = NULL, *line = NULL, fp[PUBKEY_FP_LEN];
	struct cakey *key = NULL;
	struct ledger *ledger = NULL;
	json_t *details = NULL;
	enum key_type t;
	int c, r, ret = ADMIN_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'S': state = optarg; break;
		case 't': type_name = optarg; break;
		case 'h':
			fputs(admin_usage(), stdout);
			return ADMIN_EXIT_OK;
		default: return usage_error("init", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("init", "unexpected argument");
	if ((t = cakey_type_from_name(type_name)) == KEY_UNSPEC)
		return usage_error("init", "--ca-key-type must be ed25519, "
		    "ecdsa-p256, ecdsa-p384 or rsa-3072");
	state = admin_state_dir(state);
	if (mkdir(state, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "jitcad init: cannot create %s: %s\n", state,
		    strerror(errno));
		return ADMIN_EXIT_FAIL;
	}
	if ((key_path = path_join(state, "ca_key.pem")) == NULL ||
	    (pub_path = path_join(state, CA_PUB_FILE)) == NULL ||
	    (cfg_path = path_join(state, CONFIG_FILE)) == NULL ||
	    (db_path = path_join(state, "ledger.db")) == NULL) {
		report("init", state, ERR_ALLOC);
		goto out;
	}
	if (access(key_path, F_OK) == 0) {
		fprintf(stderr, "jitcad init: %s already holds a CA key (%s); "
		    "refusing to replace it\n", state, key_path);
		goto out;
	}
	if ((r = cakey_generate(&key, t)) != 0) {
		report("init", "generating the CA key", r);
		goto out;
	}
	if ((r = cakey_save(key, key_path)) != 0) {
		report("init", key_path, r);
		goto out;
	}
	if ((r = pubkey_to_line(&line, cakey_public(key), "jitca-ca")) != 0 ||
	    (r = pubkey_fingerprint(fp, cakey_public(key))) != 0) {
		report("init", "CA public key", r);
		goto out;
	}
	/* ca.pub is rewritten from the key: an old one would be wrong. */
	(void)unlink(pub_path);
	{
		size_t n = strlen(line);
		char *nl = malloc(n + 2);

		if (nl == NULL) {
			report("init", pub_path, ERR_ALLOC);
			goto out;
		}
		memcpy(nl, line, n);
		nl[n] = '\n';
		nl[n + 1] = '\0';
		r = write_new_file(pub_path, nl, 0644);
		free(nl);
		if (r != 0) {
			report("init", pub_path, r);
			goto out;
		}
	}
	if (access(cfg_path, F_OK) != 0 &&
	    (r = write_new_file(cfg_path, config_example(), 0644)) != 0) {
		report("init", cfg_path, r);
		goto out;
	}
	if ((r = ledger_open(&ledger, db_path, 1)) != 0) {
		report("init", db_path, r);
		goto out;
	}
	if ((details = json_pack("{s:s, s:s}", "fingerprint", fp,
	    "key_type", pubkey_type_name(cakey_public(key)))) == NULL) {
		report("init", "ledger", ERR_ALLOC);
		goto out;
	}
	if ((r = ledger_begin(ledger)) != 0 ||
	    (r = ledger_append(ledger, NULL, "ca.created", admin_actor(),
	    fp, details)) != 0 ||
	    (r = ledger_commit(ledger)) != 0) {
		ledger_rollback(ledger);
		report("init", db_path, r);
		goto out;
	}
	if ((r = admin_krl_write(ledger, state, NULL, NULL)) != 0) {
		report("init", "initial KRL", r);
		goto out;
	}
	fprintf(stderr, "jitcad init: new %s CA %s in %s\n", type_name, fp,
	    state);
	printf("%s\n", line);
	ret = ADMIN_EXIT_OK;
out:
	json_decref(details);
	ledger_close(ledger);
	cakey_free(key);
	free(line);
	free(key_path);
	free(pub_path);
	free(cfg_path);
	free(db_path);
	return ret;
}

static int
cmd_ca_key(int argc, char **argv)
{
	static const struct option opts[] = { STATE_OPT, HELP_OPT,
		{ NULL, 0, NULL, 0 } };
	const char *state = NULL;
	char *path = NULL, *text = NULL, *line = NULL;
	struct pubkey *k = NULL;
	int c, r, ret = ADMIN_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'S': state = optarg; break;
		case 'h':
			fputs(admin_usage(), stdout);
			return ADMIN_EXIT_OK;
		default: return usage_error("ca-key", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("ca-key", "unexpected argument");
	state = admin_state_dir(state);
	if ((path = path_join(state, CA_PUB_FILE)) == NULL) {
		report("ca-key", state, ERR_ALLOC);
		goto out;
	}
	if ((r = read_small_file(path, PUBKEY_MAX_LINE, &text)) != 0) {
		if (r == ERR_SYSTEM && errno == ENOENT)
			fprintf(stderr, "jitcad ca-key: %s does not exist; run "
			    "jitcad init --state %s first\n", path, state);
		else
			report("ca-key", path, r);
		goto out;
	}
	/* Print the key re-encoded: proves the file holds a valid key. */
	if ((r = pubkey_from_line(&k, text, strlen(text))) != 0 ||
	    (r = pubkey_to_line(&line, k, "jitca-ca")) != 0) {
		report("ca-key", path, r);
		goto out;
	}
	printf("%s\n", line);
	ret = ADMIN_EXIT_OK;
out:
	pubkey_free(k);
	free(line);
	free(text);
	free(path);
	return ret;
}

static int
cmd_config(int argc, char **argv)
{
	static const struct option opts[] = { STATE_OPT, HELP_OPT,
		{ NULL, 0, NULL, 0 } };
	const char *state = NULL;
	char errbuf[CONFIG_ERR_LEN];
	struct config *cfg = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'S': state = optarg; break;
		case 'h':
			fputs(admin_usage(), stdout);
			return ADMIN_EXIT_OK;
		default: return usage_error("config", "unknown option");
		}
	}
	if (optind + 1 != argc || strcmp(argv[optind], "check") != 0)
		return usage_error("config", "expected: config check");
	state = admin_state_dir(state);
	if ((r = config_load(&cfg, state, errbuf)) != 0) {
		fprintf(stderr, "jitcad config check: %s\n", errbuf);
		return ADMIN_EXIT_FAIL;
	}
	printf("ok: %zu role%s\n", cfg->nroles, cfg->nroles == 1 ? "" : "s");
	config_free(cfg);
	return ADMIN_EXIT_OK;
}

static int
cmd_ledger(int argc, char **argv)
{
	static const struct option opts[] = { STATE_OPT, HELP_OPT, JSON_OPT,
		{ "format", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 } };
	const char *state = NULL, *sub;
	enum ledger_format fmt = LEDGER_FORMAT_JSONL;
	char *db_path = NULL, errbuf[LEDGER_ERR_LEN], *end;
	struct ledger *l = NULL;
	int64_t since = 0, count = 0, bad = 0;
	int c, r, json = 0, ret = ADMIN_EXIT_FAIL;
	unsigned long long v;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'S': state = optarg; break;
		case 'J': json = 1; break;
		case 'f':
			if (strcmp(optarg, "jsonl") == 0)
				fmt = LEDGER_FORMAT_JSONL;
			else if (strcmp(optarg, "csv") == 0)
				fmt = LEDGER_FORMAT_CSV;
			else
				return usage_error("ledger",
				    "--format must be jsonl or csv");
			break;
		case 's':
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' ||
			    errno != 0 || v > INT64_MAX)
				return usage_error("ledger",
				    "--since must be a sequence number");
			since = (int64_t)v;
			break;
		case 'h':
			fputs(admin_usage(), stdout);
			return ADMIN_EXIT_OK;
		default: return usage_error("ledger", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("ledger", "expected: ledger verify | "
		    "ledger export [--format jsonl|csv] [--since SEQ]");
	sub = argv[optind];
	if (strcmp(sub, "verify") != 0 && strcmp(sub, "export") != 0)
		return usage_error("ledger", "expected verify or export");
	state = admin_state_dir(state);
	if ((r = admin_ledger_path(state, &db_path)) != 0)
		goto out;
	if ((r = ledger_open(&l, db_path, 0)) != 0) {
		report("ledger", db_path, r);
		goto out;
	}
	if (strcmp(sub, "export") == 0) {
		if ((r = ledger_export(l, stdout, fmt, since)) != 0 ||
		    fflush(stdout) != 0) {
			report("ledger export", db_path, r ? r : ERR_SYSTEM);
			goto out;
		}
		ret = ADMIN_EXIT_OK;
		goto out;
	}
	r = ledger_verify(l, &count, &bad, errbuf);
	if (r == ERR_LEDGER_BROKEN) {
		if (json)
			printf("{\"ok\":false,\"events\":%lld,\"bad_seq\":%lld}\n",
			    (long long)count, (long long)bad);
		fprintf(stderr, "jitcad ledger verify: FAILED at seq %lld: %s\n",
		    (long long)bad, errbuf);
		goto out;
	} else if (r != 0) {
		report("ledger verify", db_path, r);
		goto out;
	}
	if (json)
		printf("{\"ok\":true,\"events\":%lld}\n", (long long)count);
	else
		printf("ok: %lld events, hash chain intact\n", (long long)count);
	ret = ADMIN_EXIT_OK;
out:
	ledger_close(l);
	free(db_path);
	return ret;
}

static int
cmd_sshd_config(int argc, char **argv)
{
	static const struct option opts[] = { STATE_OPT, HELP_OPT,
		{ NULL, 0, NULL, 0 } };
	const char *state = NULL;
	char *path = NULL, *text = NULL, *line = NULL, fp[PUBKEY_FP_LEN];
	struct pubkey *k = NULL;
	int c, r, ret = ADMIN_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'S': state = optarg; break;
		case 'h':
			fputs(admin_usage(), stdout);
			return ADMIN_EXIT_OK;
		default: return usage_error("sshd-config", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("sshd-config", "unexpected argument");
	state = admin_state_dir(state);
	if ((path = path_join(state, CA_PUB_FILE)) == NULL) {
		report("sshd-config", state, ERR_ALLOC);
		goto out;
	}
	if ((r = read_small_file(path, PUBKEY_MAX_LINE, &text)) != 0 ||
	    (r = pubkey_from_line(&k, text, strlen(text))) != 0 ||
	    (r = pubkey_to_line(&line, k, "jitca-ca")) != 0 ||
	    (r = pubkey_fingerprint(fp, k)) != 0) {
		report("sshd-config", path, r);
		goto out;
	}
	printf("# jitca: what a host needs to trust CA %s\n"
	       "#\n"
	       "# 1. The CA public key, in /etc/ssh/jitca_user_ca.pub:\n"
	       "#      %s\n"
	       "# 2. Principals: a certificate logs in as ACCOUNT only if one\n"
	       "#    of its principals is listed, one per line, in\n"
	       "#    /etc/ssh/jitca_principals/ACCOUNT.  A role's principals\n"
	       "#    are in jitca.json; e.g. to let prod-debug (principal\n"
	       "#    \"debug\") log in as root:\n"
	       "#      echo debug > /etc/ssh/jitca_principals/root\n"
	       "#    No file for an account = no certificate logins to it.\n"
	       "# 3. The KRL: sshd refuses every key if this file is missing,\n"
	       "#    so install the CA's KRL first and keep it fresh:\n"
	       "#      scripts/krl-sync --server URL --out "
	       "/etc/ssh/jitca_revoked.krl\n"
	       "# 4. These lines in /etc/ssh/sshd_config.d/jitca.conf, then\n"
	       "#    `sshd -t && systemctl reload ssh`\n"
	       "#    (scripts/host-setup does all four steps):\n"
	       "TrustedUserCAKeys /etc/ssh/jitca_user_ca.pub\n"
	       "AuthorizedPrincipalsFile /etc/ssh/jitca_principals/%%u\n"
	       "RevokedKeys /etc/ssh/jitca_revoked.krl\n"
	       "LogLevel VERBOSE\n",
	    fp, line);
	ret = ADMIN_EXIT_OK;
out:
	pubkey_free(k);
	free(line);
	free(text);
	free(path);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "init", cmd_init },
	{ "ca-key", cmd_ca_key },
	{ "sshd-config", cmd_sshd_config },
	{ "config", cmd_config },
	{ "ledger", cmd_ledger },
};

int
admin_is_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return 1;
	return 0;
}

int
admin_main(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			optind = 1;
			return commands[i].fn(argc, argv);
		}
	}
	fprintf(stderr, "jitcad: unknown command \"%s\"\n%s", argv[0],
	    admin_usage());
	return ADMIN_EXIT_USAGE;
}

const char *
admin_usage(void)
{
	return "usage:\n"
	       "  jitcad init [--state DIR] [--ca-key-type "
	       "ed25519|ecdsa-p256|ecdsa-p384|rsa-3072]\n"
	       "  jitcad serve [--state DIR] [--listen HOST:PORT] "
	       "[--tls-cert F --tls-key F]\n"
	       "  jitcad ca-key [--state DIR]\n"
	       "  jitcad sshd-config [--state DIR]\n"
	       "  jitcad config check [--state DIR]\n"
	       "  jitcad user add NAME --group G [--group G]...\n"
	       "  jitcad user token NAME | user disable NAME | user list "
	       "[--json]\n"
	       "  jitcad issue --user NAME --role ROLE --public-key FILE "
	       "[--ttl D] --reason TEXT\n"
	       "  jitcad revoke (--serial N | --key-id ID | --user NAME | "
	       "--request ID | --public-key FILE) --reason TEXT\n"
	       "  jitcad krl [-o FILE]\n"
	       "  jitcad ledger verify [--json] | ledger export "
	       "[--format jsonl|csv] [--since SEQ]\n"
	       "State directory: --state DIR, else $JITCA_STATE, else "
	       "./jitca-state.\n";
}
