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
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/admin.h"
#include "ca/ca.h"
#include "ca/config.h"
#include "ca/krl.h"
#include "ca/ledger.h"
#include "ca/request.h"
#include "ca/revoke.h"
#include "ca/signpolicy.h"
#include "ca/text.h"
#include "ca/users.h"
#include "signer/cakey.h"
#include "signer/err.h"
#include "signer/fileio.h"
#include "signer/pubkey.h"
#include "signer/signer.h"

#define CA_PUB_FILE "ca.pub"
#define CONFIG_FILE "jitca.json"
#define KRL_FILE "revoked.krl"

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
		fprintf(
		    stderr, "jitcad %s: %s: %s\n", cmd, what, strerror(errno));
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

/* One compact JSON document and a newline on stdout (--json). */
static int
print_json(const char *cmd, const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_COMPACT) != 0 || putchar('\n') == EOF) {
		report(cmd, "stdout", ERR_SYSTEM);
		return ERR_SYSTEM;
	}
	return 0;
}

/* Write a whole small file with mode, refusing to overwrite. */
static int
write_new_file(const char *path, const char *text, mode_t mode)
{
	int fd, r;

	if ((fd = open(path,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)) <
	    0)
		return ERR_SYSTEM;
	if ((r = fileio_write_all(fd, text, strlen(text))) == 0 &&
	    fsync(fd) != 0)
		r = ERR_SYSTEM;
	if (close(fd) != 0 && r == 0)
		r = ERR_SYSTEM;
	return r;
}

/* Read a whole file of at most max bytes into a new NUL-terminated
 * string. */
static int
read_small_file(const char *path, size_t max, char **out)
{
	char *buf = NULL;
	size_t n = 0;
	int fd, r;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ERR_SYSTEM;
	if ((buf = malloc(max + 1)) == NULL)
		r = ERR_ALLOC;
	else if ((r = fileio_read_bounded(fd, (uint8_t *)buf, max, &n)) == 0) {
		buf[n] = '\0';
		*out = buf;
		buf = NULL;
	}
	free(buf);
	(void)close(fd);
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
	struct signer *signer;
	struct ca ca;
};

static void
admin_close(struct admin_ctx *x)
{
	signer_stop(x->signer);
	pubkey_free(x->ca_pub);
	ledger_close(x->ledger);
	config_free(x->cfg);
	memset(x, 0, sizeof(*x));
}

/* Read and parse <state>/ca.pub, saying what is wrong on stderr. */
static int
admin_load_ca_pub(const char *cmd, const char *state, struct pubkey **out)
{
	char *path = NULL, *text = NULL;
	int r;

	*out = NULL;
	if ((path = path_join(state, CA_PUB_FILE)) == NULL) {
		report(cmd, state, ERR_ALLOC);
		return ERR_ALLOC;
	}
	r = read_small_file(path, PUBKEY_MAX_LINE, &text);
	if (r == ERR_SYSTEM && errno == ENOENT)
		fprintf(stderr,
		    "jitcad %s: %s does not exist; run jitcad init --state "
		    "%s first\n",
		    cmd, path, state);
	else if (r != 0 || (r = pubkey_from_line(out, text, strlen(text))) != 0)
		report(cmd, path, r);
	free(text);
	free(path);
	return r;
}

/* Start the signer process for an open context; it alone loads the CA
 * key, and must hold the key whose public half is ca.pub. */
static int
admin_start_signer(struct admin_ctx *x)
{
	struct signer_params sp;
	int r;

	memset(&sp, 0, sizeof(sp));
	sp.key_path = x->cfg->ca_key_file;
	sp.policy = &signpolicy_ops;
	sp.policy_arg = x->cfg->state_dir;
	if ((r = signer_start(&x->signer, &sp)) != 0) {
		report(x->cmd, x->cfg->ca_key_file, r);
		return r;
	}
	if (!pubkey_equal(signer_public(x->signer), x->ca_pub)) {
		fprintf(stderr,
		    "jitcad %s: %s does not hold the key in %s/%s\n", x->cmd,
		    x->cfg->ca_key_file, x->state, CA_PUB_FILE);
		return ERR_CERT_WRONG_CA;
	}
	x->ca.sign_user = signer_sign_user_fn;
	x->ca.sign_ctx = x->signer;
	return 0;
}

static int
admin_open(
    struct admin_ctx *x, const char *cmd, const char *state, int need_signer)
{
	char errbuf[CONFIG_ERR_LEN];
	int r;

	memset(x, 0, sizeof(*x));
	x->cmd = cmd;
	x->state = admin_state_dir(state);
	if ((r = config_load(&x->cfg, x->state, errbuf)) != 0) {
		fprintf(stderr, "jitcad %s: %s\n", cmd, errbuf);
		goto fail;
	}
	if ((r = ledger_open(&x->ledger, x->cfg->ledger_path, 0)) != 0) {
		report(cmd, x->cfg->ledger_path, r);
		goto fail;
	}
	if ((r = admin_load_ca_pub(cmd, x->state, &x->ca_pub)) != 0)
		goto fail;
	if (need_signer && (r = admin_start_signer(x)) != 0)
		goto fail;
	x->ca.cfg = x->cfg;
	x->ca.ledger = x->ledger;
	x->ca.ca_pub = x->ca_pub;
	return 0;
fail:
	admin_close(x);
	return r;
}

/* Rebuild the KRL from the ledger into path (default <state>/revoked.krl);
 * *written (may be NULL) gets the path used (borrowed or new: free it). */
static int
admin_krl_write(struct admin_ctx *x, const char *path, char **written)
{
	char *p = NULL;
	int r;

	if (written != NULL)
		*written = NULL;
	if (path == NULL) {
		if ((p = path_join(x->state, KRL_FILE)) == NULL)
			return ERR_ALLOC;
	} else if ((p = strdup(path)) == NULL)
		return ERR_ALLOC;
	r = revoke_krl_write(&x->ca, p);
	if (r == 0 && written != NULL)
		*written = p;
	else
		free(p);
	return r;
}

/* Options every command takes; getopt_long tables list them first. */
#define OPT_HELP 0x100

/*
 * getopt_long() that handles the options every command shares: --state
 * into *state, --json into *json (NULL when the command has none), and
 * --help, which prints the usage and yields OPT_HELP.  Other options are
 * returned to the caller; -1 at the end.
 */
static int
admin_getopt(int argc, char **argv, const char *shortopts,
    const struct option *opts, const char **state, int *json)
{
	int c;

	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == 'S')
			*state = optarg;
		else if (c == 'J' && json != NULL)
			*json = 1;
		else if (c == 'h') {
			fputs(admin_usage(), stdout);
			return OPT_HELP;
		} else
			return c;
	}
	return -1;
}

#define STATE_OPT                                                              \
	{                                                                      \
		"state", required_argument, NULL, 'S'                          \
	}
#define JSON_OPT                                                               \
	{                                                                      \
		"json", no_argument, NULL, 'J'                                 \
	}
#define HELP_OPT                                                               \
	{                                                                      \
		"help", no_argument, NULL, 'h'                                 \
	}

/* A valid KRL that revokes nothing: sshd refuses every key when its
 * RevokedKeys file is missing, so hosts get one from day one. */
static int
write_empty_krl(const char *state)
{
	struct krl *krl = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	char *path = NULL;
	int r = ERR_INTERNAL;

	if ((path = path_join(state, KRL_FILE)) == NULL)
		return ERR_ALLOC;
	TRY(krl_new(&krl, 0, ledger_now(), "jitca"));
	TRY(krl_serialize(krl, &data, &len));
	TRY(krl_write_atomic(path, data, len));
	r = 0;
out:
	free(data);
	krl_free(krl);
	free(path);
	return r;
}

/*
 * jitcad init --ca-user / --user: the key file to the CA user (mode
 * 0600 stays), the state directory and the files the service writes
 * (ledger, KRL) to the service user, the directory 0711 so that the CA
 * user reaches its key and jitca.json (0644) without listing the rest.
 */
static int
init_ownership(const char *state, const char *key_path, const struct passwd *ca,
    const struct passwd *svc)
{
	static const char *const svc_files[] = {
	    "ledger.db", "ledger.db-wal", "ledger.db-shm", KRL_FILE};
	char *p;
	size_t i;

	if (ca != NULL && chown(key_path, ca->pw_uid, ca->pw_gid) != 0) {
		fprintf(stderr, "jitcad init: chown %s to %s: %s\n", key_path,
		    ca->pw_name, strerror(errno));
		return ERR_SYSTEM;
	}
	if (svc != NULL) {
		if (chown(state, svc->pw_uid, svc->pw_gid) != 0) {
			fprintf(stderr, "jitcad init: chown %s to %s: %s\n",
			    state, svc->pw_name, strerror(errno));
			return ERR_SYSTEM;
		}
		for (i = 0; i < sizeof(svc_files) / sizeof(svc_files[0]); i++) {
			if ((p = path_join(state, svc_files[i])) == NULL)
				return ERR_ALLOC;
			if (chown(p, svc->pw_uid, svc->pw_gid) != 0 &&
			    errno != ENOENT) {
				fprintf(stderr,
				    "jitcad init: chown %s to %s: %s\n", p,
				    svc->pw_name, strerror(errno));
				free(p);
				return ERR_SYSTEM;
			}
			free(p);
		}
	}
	if ((ca != NULL || svc != NULL) && chmod(state, 0711) != 0) {
		fprintf(stderr, "jitcad init: chmod 711 %s: %s\n", state,
		    strerror(errno));
		return ERR_SYSTEM;
	}
	return 0;
}

static int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {STATE_OPT, HELP_OPT,
	    {"ca-key-type", required_argument, NULL, 't'},
	    {"ca-user", required_argument, NULL, 'c'},
	    {"user", required_argument, NULL, 'u'}, {NULL, 0, NULL, 0}};
	const char *state = NULL, *type_name = "ed25519", *ca_user = NULL;
	const char *svc_user = NULL;
	struct passwd ca_pw, svc_pw, *pw;
	char *key_path = NULL, *pub_path = NULL, *cfg_path = NULL;
	char *db_path = NULL, *line = NULL, fp[PUBKEY_FP_LEN];
	struct cakey *key = NULL;
	struct ledger *ledger = NULL;
	json_t *details = NULL;
	enum key_type t;
	int c, r, ret = ADMIN_EXIT_FAIL;

	while ((c = admin_getopt(argc, argv, "", opts, &state, NULL)) != -1) {
		switch (c) {
		case 't':
			type_name = optarg;
			break;
		case 'c':
			ca_user = optarg;
			break;
		case 'u':
			svc_user = optarg;
			break;
		case OPT_HELP:
			return ADMIN_EXIT_OK;
		default:
			return usage_error("init", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("init", "unexpected argument");
	/* Key custody as a uid boundary: the key belongs to --ca-user (the
	 * signer runs as it), the rest of the state to --user (the
	 * service), and the one cannot read the other's key. */
	memset(&ca_pw, 0, sizeof(ca_pw));
	memset(&svc_pw, 0, sizeof(svc_pw));
	if (ca_user != NULL || svc_user != NULL) {
		if (geteuid() != 0) {
			fprintf(stderr,
			    "jitcad init: --ca-user and --user need root\n");
			return ADMIN_EXIT_FAIL;
		}
		if (ca_user != NULL) {
			if ((pw = getpwnam(ca_user)) == NULL) {
				fprintf(stderr,
				    "jitcad init: --ca-user %s: no such "
				    "user\n",
				    ca_user);
				return ADMIN_EXIT_FAIL;
			}
			ca_pw = *pw;
		}
		if (svc_user != NULL) {
			if ((pw = getpwnam(svc_user)) == NULL) {
				fprintf(stderr,
				    "jitcad init: --user %s: no such user\n",
				    svc_user);
				return ADMIN_EXIT_FAIL;
			}
			svc_pw = *pw;
		}
		if (svc_user != NULL &&
		    (svc_pw.pw_uid == 0 ||
			(ca_user != NULL && svc_pw.pw_uid == ca_pw.pw_uid))) {
			fprintf(stderr,
			    "jitcad init: --user %s would be able to read "
			    "the CA key; use an unprivileged user other than "
			    "--ca-user\n",
			    svc_user);
			return ADMIN_EXIT_FAIL;
		}
	}
	if ((t = cakey_type_from_name(type_name)) == KEY_UNSPEC)
		return usage_error("init",
		    "--ca-key-type must be ed25519, "
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
		fprintf(stderr,
		    "jitcad init: %s already holds a CA key (%s); "
		    "refusing to replace it\n",
		    state, key_path);
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
	if ((details = json_pack("{s:s, s:s}", "fingerprint", fp, "key_type",
		 pubkey_type_name(cakey_public(key)))) == NULL) {
		report("init", "ledger", ERR_ALLOC);
		goto out;
	}
	if ((r = ledger_begin(ledger)) != 0 ||
	    (r = ledger_append(ledger, NULL, "ca.created", admin_actor(), fp,
		 details)) != 0 ||
	    (r = ledger_commit(ledger)) != 0) {
		ledger_rollback(ledger);
		report("init", db_path, r);
		goto out;
	}
	if ((r = write_empty_krl(state)) != 0) {
		report("init", "initial KRL " KRL_FILE, r);
		goto out;
	}
	if ((r = init_ownership(state, key_path,
		 ca_user != NULL ? &ca_pw : NULL,
		 svc_user != NULL ? &svc_pw : NULL)) != 0)
		goto out;
	fprintf(
	    stderr, "jitcad init: new %s CA %s in %s\n", type_name, fp, state);
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
	static const struct option opts[] = {
	    STATE_OPT, HELP_OPT, {NULL, 0, NULL, 0}};
	const char *state = NULL;
	char *line = NULL;
	struct pubkey *k = NULL;
	int c, r, ret = ADMIN_EXIT_FAIL;

	while ((c = admin_getopt(argc, argv, "", opts, &state, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			return ADMIN_EXIT_OK;
		default:
			return usage_error("ca-key", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("ca-key", "unexpected argument");
	state = admin_state_dir(state);
	/* Print the key re-encoded: proves the file holds a valid key. */
	if (admin_load_ca_pub("ca-key", state, &k) != 0)
		goto out;
	if ((r = pubkey_to_line(&line, k, "jitca-ca")) != 0) {
		report("ca-key", CA_PUB_FILE, r);
		goto out;
	}
	printf("%s\n", line);
	ret = ADMIN_EXIT_OK;
out:
	pubkey_free(k);
	free(line);
	return ret;
}

static int
cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
	    STATE_OPT, HELP_OPT, {NULL, 0, NULL, 0}};
	const char *state = NULL;
	char errbuf[CONFIG_ERR_LEN];
	struct config *cfg = NULL;
	struct ledger *l = NULL;
	int c, r;

	while ((c = admin_getopt(argc, argv, "", opts, &state, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			return ADMIN_EXIT_OK;
		default:
			return usage_error("config", "unknown option");
		}
	}
	if (optind + 1 != argc || strcmp(argv[optind], "check") != 0)
		return usage_error("config", "expected: config check");
	state = admin_state_dir(state);
	if ((r = config_load(&cfg, state, errbuf)) != 0) {
		fprintf(stderr, "jitcad config check: %s\n", errbuf);
		return ADMIN_EXIT_FAIL;
	}
	/* The users already in the ledger (none before jitcad init). */
	if ((r = ledger_open(&l, cfg->ledger_path, 0)) == 0)
		r = user_config_check(l, cfg, errbuf, sizeof(errbuf));
	else if (r == ERR_NOT_FOUND)
		r = 0;
	if (r == ERR_NAME_IS_PRINCIPAL)
		fprintf(stderr,
		    "jitcad config check: refused: %s, so \"{{user}}\" "
		    "would expand to it (change the role, or disable the "
		    "user)\n",
		    errbuf);
	else if (r != 0)
		report("config check", cfg->ledger_path, r);
	else
		printf("ok: %zu role%s\n", cfg->nroles,
		    cfg->nroles == 1 ? "" : "s");
	ledger_close(l);
	config_free(cfg);
	return r == 0 ? ADMIN_EXIT_OK : ADMIN_EXIT_FAIL;
}

/* ledger_verify_state()'s report: one line per disagreeing row. */
static void
state_report(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "jitcad ledger verify: state: %s\n", msg);
}

static int
cmd_ledger(int argc, char **argv)
{
	static const struct option opts[] = {STATE_OPT, HELP_OPT, JSON_OPT,
	    {"format", required_argument, NULL, 'f'},
	    {"since", required_argument, NULL, 's'}, {NULL, 0, NULL, 0}};
	const char *state = NULL, *sub;
	enum ledger_format fmt = LEDGER_FORMAT_JSONL;
	char *db_path = NULL, errbuf[LEDGER_ERR_LEN], *end;
	struct ledger *l = NULL;
	int64_t since = 0, count = 0, bad = 0;
	uint64_t nbad = 0;
	int c, r, json = 0, ret = ADMIN_EXIT_FAIL;
	unsigned long long v;

	while ((c = admin_getopt(argc, argv, "", opts, &state, &json)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "jsonl") == 0)
				fmt = LEDGER_FORMAT_JSONL;
			else if (strcmp(optarg, "csv") == 0)
				fmt = LEDGER_FORMAT_CSV;
			else
				return usage_error(
				    "ledger", "--format must be jsonl or csv");
			break;
		case 's':
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    *end != '\0' || errno != 0 || v > INT64_MAX)
				return usage_error("ledger",
				    "--since must be a sequence number");
			since = (int64_t)v;
			break;
		case OPT_HELP:
			return ADMIN_EXIT_OK;
		default:
			return usage_error("ledger", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("ledger",
		    "expected: ledger verify | "
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
			printf(
			    "{\"ok\":false,\"events\":%lld,\"bad_seq\":%lld}\n",
			    (long long)count, (long long)bad);
		fprintf(stderr,
		    "jitcad ledger verify: FAILED at seq %lld: %s\n",
		    (long long)bad, errbuf);
		goto out;
	} else if (r != 0) {
		report("ledger verify", db_path, r);
		goto out;
	}
	/* The state tables must be what the events say. */
	r = ledger_verify_state(l, state_report, NULL, &nbad);
	if (r == ERR_LEDGER_BROKEN) {
		if (json)
			printf("{\"ok\":false,\"events\":%lld,"
			       "\"state_mismatches\":%llu}\n",
			    (long long)count, (unsigned long long)nbad);
		fprintf(stderr,
		    "jitcad ledger verify: FAILED: %llu state %s disagree%s "
		    "with the events\n",
		    (unsigned long long)nbad, nbad == 1 ? "row" : "rows",
		    nbad == 1 ? "s" : "");
		goto out;
	} else if (r != 0) {
		report("ledger verify", db_path, r);
		goto out;
	}
	if (json)
		printf("{\"ok\":true,\"events\":%lld}\n", (long long)count);
	else
		printf(
		    "ok: %lld events, hash chain intact\n", (long long)count);
	ret = ADMIN_EXIT_OK;
out:
	ledger_close(l);
	free(db_path);
	return ret;
}

static int
cmd_sshd_config(int argc, char **argv)
{
	static const struct option opts[] = {
	    STATE_OPT, HELP_OPT, {NULL, 0, NULL, 0}};
	const char *state = NULL;
	char *line = NULL, fp[PUBKEY_FP_LEN];
	struct pubkey *k = NULL;
	int c, r, ret = ADMIN_EXIT_FAIL;

	while ((c = admin_getopt(argc, argv, "", opts, &state, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			return ADMIN_EXIT_OK;
		default:
			return usage_error("sshd-config", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("sshd-config", "unexpected argument");
	state = admin_state_dir(state);
	if (admin_load_ca_pub("sshd-config", state, &k) != 0)
		goto out;
	if ((r = pubkey_to_line(&line, k, "jitca-ca")) != 0 ||
	    (r = pubkey_fingerprint(fp, k)) != 0) {
		report("sshd-config", CA_PUB_FILE, r);
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
	return ret;
}

/* Strict unsigned decimal (no sign, no spaces, no overflow). */
static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	*out = 0;
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0)
		return -1;
	*out = v;
	return 0;
}

static int
cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {STATE_OPT, HELP_OPT, JSON_OPT,
	    {"group", required_argument, NULL, 'g'}, {NULL, 0, NULL, 0}};
	const char *state = NULL, *sub, *name = NULL;
	char *groups[USER_GROUPS_MAX], *token = NULL, msg[CONFIG_ERR_LEN];
	size_t ngroups = 0, i;
	struct admin_ctx x;
	json_t *list = NULL, *u;
	int c, r, json = 0, ret = ADMIN_EXIT_FAIL;

	while ((c = admin_getopt(argc, argv, "", opts, &state, &json)) != -1) {
		switch (c) {
		case 'g':
			if (ngroups == USER_GROUPS_MAX)
				return usage_error("user", "too many --group");
			groups[ngroups++] = optarg;
			break;
		case OPT_HELP:
			return ADMIN_EXIT_OK;
		default:
			return usage_error("user", "unknown option");
		}
	}
	if (optind >= argc)
		return usage_error("user",
		    "expected add, token, disable or "
		    "list");
	sub = argv[optind++];
	if (strcmp(sub, "list") == 0) {
		if (optind != argc || ngroups > 0)
			return usage_error("user",
			    "user list takes no "
			    "arguments");
	} else if (strcmp(sub, "add") == 0 || strcmp(sub, "token") == 0 ||
	    strcmp(sub, "disable") == 0) {
		if (optind + 1 != argc)
			return usage_error("user", "expected one user NAME");
		name = argv[optind];
		if (strcmp(sub, "add") == 0 && ngroups == 0)
			return usage_error("user",
			    "user add needs at least "
			    "one --group");
		if (strcmp(sub, "add") != 0 && ngroups > 0)
			return usage_error("user",
			    "--group is only for user "
			    "add");
	} else
		return usage_error("user",
		    "expected add, token, disable or "
		    "list");
	if (admin_open(&x, "user", state, 0) != 0)
		return ADMIN_EXIT_FAIL;
	if (strcmp(sub, "add") == 0) {
		if ((r = config_user_name_check(x.cfg, name, msg,
			 sizeof(msg))) == ERR_NAME_IS_PRINCIPAL) {
			fprintf(stderr,
			    "jitcad user add: %s: refused: %s, so "
			    "\"{{user}}\" would expand to it\n",
			    name, msg);
			goto out;
		}
		if ((r = user_add(x.ledger, x.cfg, admin_actor(), name, groups,
			 ngroups, &token)) != 0) {
			report("user add", name, r);
			goto out;
		}
		fprintf(stderr,
		    "jitcad user add: added %s; this token is "
		    "shown once, give it to %s:\n",
		    name, name);
		printf("%s\n", token);
	} else if (strcmp(sub, "token") == 0) {
		if ((r = user_token_rotate(
			 x.ledger, admin_actor(), name, &token)) != 0) {
			report("user token", name, r);
			goto out;
		}
		fprintf(stderr,
		    "jitcad user token: new token for %s; the old "
		    "one no longer works\n",
		    name);
		printf("%s\n", token);
	} else if (strcmp(sub, "disable") == 0) {
		if ((r = user_disable(x.ledger, admin_actor(), name)) != 0) {
			report("user disable", name, r);
			goto out;
		}
		fprintf(stderr,
		    "jitcad user disable: %s can no longer log "
		    "in\n",
		    name);
	} else {
		if ((r = user_list(x.ledger, &list)) != 0) {
			report("user list", x.cfg->ledger_path, r);
			goto out;
		}
		if (json) {
			if (print_json("user list", list) != 0)
				goto out;
		} else {
			json_array_foreach(list, i, u)
			{
				json_t *g, *gs = json_object_get(u, "groups");
				size_t j;

				printf("%-24s %-8s ",
				    json_string_value(
					json_object_get(u, "name")),
				    json_is_true(json_object_get(u, "disabled"))
					? "disabled"
					: "active");
				json_array_foreach(gs, j, g) printf(
				    "%s%s", j ? "," : "", json_string_value(g));
				putchar('\n');
			}
		}
	}
	ret = ADMIN_EXIT_OK;
out:
	user_token_free(token);
	json_decref(list);
	admin_close(&x);
	return ret;
}

static int
cmd_issue(int argc, char **argv)
{
	static const struct option opts[] = {STATE_OPT, HELP_OPT, JSON_OPT,
	    {"user", required_argument, NULL, 'u'},
	    {"role", required_argument, NULL, 'r'},
	    {"public-key", required_argument, NULL, 'k'},
	    {"ttl", required_argument, NULL, 't'},
	    {"reason", required_argument, NULL, 'R'},
	    {"principal", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0}};
	const char *state = NULL, *user = NULL, *role = NULL, *keyfile = NULL;
	const char *reason = NULL;
	char *principals[CERT_MAX_PRINCIPALS], *keytext = NULL;
	char tmsg[TEXT_MSG_LEN];
	struct pubkey *key = NULL;
	struct user *u = NULL;
	size_t nprincipals = 0;
	uint64_t ttl = 0;
	struct admin_ctx x;
	const struct ca_actor actor = {admin_actor(), NULL, 0};
	json_t *req = NULL;
	int c, r, json = 0, ret = ADMIN_EXIT_FAIL;

	while ((c = admin_getopt(argc, argv, "", opts, &state, &json)) != -1) {
		switch (c) {
		case 'u':
			user = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'R':
			reason = optarg;
			break;
		case 't':
			if (duration_parse(optarg, &ttl) != 0)
				return usage_error("issue",
				    "--ttl must be a "
				    "duration like 90s, 30m, 12h or 7d");
			break;
		case 'p':
			if (nprincipals == CERT_MAX_PRINCIPALS)
				return usage_error(
				    "issue", "too many --principal");
			principals[nprincipals++] = optarg;
			break;
		case OPT_HELP:
			return ADMIN_EXIT_OK;
		default:
			return usage_error("issue", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("issue", "unexpected argument");
	if (user == NULL || role == NULL || keyfile == NULL || reason == NULL)
		return usage_error("issue",
		    "--user, --role, --public-key and "
		    "--reason are required");
	if (text_check("--reason", reason, REQUEST_REASON_MAX, 1, tmsg) != 0)
		return usage_error("issue", tmsg);
	if ((r = read_small_file(keyfile, PUBKEY_MAX_LINE, &keytext)) != 0 ||
	    (r = pubkey_from_line(&key, keytext, strlen(keytext))) != 0) {
		report("issue", keyfile, r);
		free(keytext);
		return ADMIN_EXIT_FAIL;
	}
	pubkey_free(key);
	/* Start the signer only for a request that can be issued, and say
	 * which name is unknown (the library says only "not found"). */
	if (admin_open(&x, "issue", state, 0) != 0) {
		free(keytext);
		return ADMIN_EXIT_FAIL;
	}
	if (config_role(x.cfg, role) == NULL) {
		fprintf(stderr,
		    "jitcad issue: no role \"%s\" in %s/jitca.json\n", role,
		    x.state);
		goto out;
	}
	if ((r = user_get(x.ledger, user, &u)) != 0) {
		if (r == ERR_NOT_FOUND)
			fprintf(stderr,
			    "jitcad issue: no user \"%s\" (add it "
			    "with jitcad user add)\n",
			    user);
		else
			report("issue", user, r);
		goto out;
	}
	if (admin_start_signer(&x) != 0)
		goto out;
	if ((r = request_issue_direct(&x.ca, &actor, user, role,
		 nprincipals ? principals : NULL, nprincipals, ttl, reason,
		 keytext, &req)) != 0) {
		report("issue", r == ERR_KEY_IS_CA ? keyfile : role, r);
		goto out;
	}
	if (json) {
		if (print_json("issue", req) != 0)
			goto out;
	} else
		printf("%s\n",
		    json_string_value(json_object_get(req, "certificate")));
	fprintf(stderr,
	    "jitcad issue: serial %" PRId64 " for %s, role %s, "
	    "request %" PRId64 "\n",
	    (int64_t)json_integer_value(json_object_get(req, "serial")), user,
	    role, (int64_t)json_integer_value(json_object_get(req, "id")));
	ret = ADMIN_EXIT_OK;
out:
	json_decref(req);
	user_free(u);
	free(keytext);
	admin_close(&x);
	return ret;
}

static int
cmd_revoke(int argc, char **argv)
{
	static const struct option opts[] = {STATE_OPT, HELP_OPT, JSON_OPT,
	    {"serial", required_argument, NULL, 's'},
	    {"key-id", required_argument, NULL, 'i'},
	    {"user", required_argument, NULL, 'u'},
	    {"request", required_argument, NULL, 'q'},
	    {"public-key", required_argument, NULL, 'k'},
	    {"reason", required_argument, NULL, 'R'}, {NULL, 0, NULL, 0}};
	const char *state = NULL, *reason = NULL, *keyfile = NULL;
	char *keytext = NULL, *krl_path = NULL, tmsg[TEXT_MSG_LEN];
	struct revoke_target t;
	struct admin_ctx x;
	const struct ca_actor actor = {admin_actor(), NULL, 0};
	json_t *res = NULL, *v;
	uint64_t n;
	size_t i;
	int c, r, json = 0, nsel = 0, ret = ADMIN_EXIT_FAIL;

	memset(&t, 0, sizeof(t));
	while ((c = admin_getopt(argc, argv, "", opts, &state, &json)) != -1) {
		switch (c) {
		case 'R':
			reason = optarg;
			break;
		case 's':
			if (parse_u64(optarg, &n) != 0 || n == 0)
				return usage_error("revoke",
				    "--serial must be "
				    "a positive number");
			t.by = REVOKE_SERIAL;
			t.serial = n;
			nsel++;
			break;
		case 'q':
			if (parse_u64(optarg, &n) != 0 || n == 0 ||
			    n > INT64_MAX)
				return usage_error("revoke",
				    "--request must "
				    "be a request id (a positive number)");
			t.by = REVOKE_REQUEST;
			t.request = (int64_t)n;
			nsel++;
			break;
		case 'i':
			t.by = REVOKE_KEY_ID;
			t.text = optarg;
			nsel++;
			break;
		case 'u':
			t.by = REVOKE_USER;
			t.text = optarg;
			nsel++;
			break;
		case 'k':
			t.by = REVOKE_PUBLIC_KEY;
			keyfile = optarg;
			nsel++;
			break;
		case OPT_HELP:
			return ADMIN_EXIT_OK;
		default:
			return usage_error("revoke", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("revoke", "unexpected argument");
	if (nsel != 1)
		return usage_error("revoke",
		    "give exactly one of --serial, "
		    "--key-id, --user, --request, --public-key");
	if (reason == NULL)
		return usage_error("revoke", "--reason is required");
	if (text_check("--reason", reason, REVOKE_REASON_MAX, 1, tmsg) != 0)
		return usage_error("revoke", tmsg);
	if (keyfile != NULL) {
		if ((r = read_small_file(keyfile, PUBKEY_MAX_LINE, &keytext)) !=
		    0) {
			report("revoke", keyfile, r);
			return ADMIN_EXIT_FAIL;
		}
		t.text = keytext;
	}
	if (admin_open(&x, "revoke", state, 0) != 0) {
		free(keytext);
		return ADMIN_EXIT_FAIL;
	}
	if ((r = revoke_apply(&x.ca, &actor, &t, reason, &res)) != 0) {
		char what[128];

		if (t.by == REVOKE_SERIAL)
			snprintf(
			    what, sizeof(what), "serial %" PRIu64, t.serial);
		else if (t.by == REVOKE_REQUEST)
			snprintf(
			    what, sizeof(what), "request %" PRId64, t.request);
		else if (t.by == REVOKE_KEY_ID)
			snprintf(what, sizeof(what), "key id %.64s", t.text);
		else if (t.by == REVOKE_USER)
			snprintf(what, sizeof(what), "user %.64s", t.text);
		else
			snprintf(what, sizeof(what), "%.100s", keyfile);
		report("revoke", what, r);
		fprintf(stderr, "jitcad revoke: nothing was revoked\n");
		goto out;
	}
	if ((r = admin_krl_write(&x, NULL, &krl_path)) != 0) {
		report(
		    "revoke", "revoked, but rebuilding " KRL_FILE " failed", r);
		goto out;
	}
	if (json) {
		if (print_json("revoke", res) != 0)
			goto out;
	} else {
		json_array_foreach(json_object_get(res, "revoked"), i, v)
		    printf("%" PRId64 "\n", (int64_t)json_integer_value(v));
	}
	fprintf(stderr,
	    "jitcad revoke: %zu certificate(s) newly revoked, "
	    "%zu already revoked%s; KRL version %" PRId64 " written to %s\n",
	    json_array_size(json_object_get(res, "revoked")),
	    json_array_size(json_object_get(res, "already_revoked")),
	    json_is_true(json_object_get(res, "key_revoked")) ? ", key revoked"
							      : "",
	    (int64_t)json_integer_value(json_object_get(res, "krl_version")),
	    krl_path);
	ret = ADMIN_EXIT_OK;
out:
	json_decref(res);
	free(keytext);
	free(krl_path);
	admin_close(&x);
	return ret;
}

static int
cmd_krl(int argc, char **argv)
{
	static const struct option opts[] = {STATE_OPT, HELP_OPT,
	    {"output", required_argument, NULL, 'o'}, {NULL, 0, NULL, 0}};
	const char *state = NULL, *out_path = NULL;
	char *written = NULL;
	struct admin_ctx x;
	int c, r, ret = ADMIN_EXIT_FAIL;

	while ((c = admin_getopt(argc, argv, "o:", opts, &state, NULL)) != -1) {
		switch (c) {
		case 'o':
			out_path = optarg;
			break;
		case OPT_HELP:
			return ADMIN_EXIT_OK;
		default:
			return usage_error("krl", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("krl", "unexpected argument");
	if (admin_open(&x, "krl", state, 0) != 0)
		return ADMIN_EXIT_FAIL;
	if ((r = admin_krl_write(&x, out_path, &written)) != 0) {
		report("krl", out_path ? out_path : KRL_FILE, r);
		goto out;
	}
	printf("%s\n", written);
	ret = ADMIN_EXIT_OK;
out:
	free(written);
	admin_close(&x);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
    {"init", cmd_init},
    {"ca-key", cmd_ca_key},
    {"sshd-config", cmd_sshd_config},
    {"config", cmd_config},
    {"ledger", cmd_ledger},
    {"user", cmd_user},
    {"issue", cmd_issue},
    {"revoke", cmd_revoke},
    {"krl", cmd_krl},
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
	       "ed25519|ecdsa-p256|ecdsa-p384|rsa-3072] [--ca-user NAME] "
	       "[--user NAME]\n"
	       "  jitcad serve [--state DIR] [--listen HOST:PORT] "
	       "[--tls-cert F --tls-key F] [--user NAME]\n"
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
