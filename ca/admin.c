/*
 * admin.c: the jitcad admin commands of admin.h.  Reads each command's
 * parsed options (the table is web/jitcad_cli.c), opens what it needs
 * (config, ledger, signer process), calls the ca/ library, and prints.  The
 * policy lives in the library (request.c, revoke.c, users.c); nothing here
 * decides who may do what.
 *
 * The CA private key is touched here only by `init`, which generates and
 * stores it; commands that sign (`issue`) start the signer process and
 * never load the key themselves.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
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
#include "ca/report.h"
#include "ca/request.h"
#include "ca/revoke.h"
#include "ca/signpolicy.h"
#include "ca/text.h"
#include "ca/users.h"
#include "signer/cakey.h"
#include "signer/base/cli.h"
#include "signer/base/num.h"
#include "signer/err.h"
#include "signer/base/fileio.h"
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
usage_error(const struct cli_parsed *p, const char *msg)
{
	return cli_usage_error(p, stderr, "%s", msg);
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
	r = fileio_read_small(path, PUBKEY_MAX_LINE, &text, NULL);
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

int
admin_init(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *type_name = "ed25519";
	const char *ca_user = cli_str(p, "ca-user");
	const char *svc_user = cli_str(p, "user");
	struct passwd ca_pw, svc_pw, *pw;
	char *key_path = NULL, *pub_path = NULL, *cfg_path = NULL;
	char *db_path = NULL, *line = NULL, fp[PUBKEY_FP_LEN];
	struct cakey *key = NULL;
	struct ledger *ledger = NULL;
	json_t *details = NULL;
	enum key_type t;
	int r, ret = ADMIN_EXIT_FAIL;

	if (cli_str(p, "ca-key-type") != NULL)
		type_name = cli_str(p, "ca-key-type");
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
		return usage_error(p,
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
		r = fileio_write_new(pub_path, nl, strlen(nl), 0644);
		free(nl);
		if (r != 0) {
			report("init", pub_path, r);
			goto out;
		}
	}
	if (access(cfg_path, F_OK) != 0 &&
	    (r = fileio_write_new(cfg_path, config_example(),
		 strlen(config_example()), 0644)) != 0) {
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

int
admin_ca_key(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state");
	char *line = NULL;
	struct pubkey *k = NULL;
	int r, ret = ADMIN_EXIT_FAIL;

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

int
admin_config_check(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state");
	char errbuf[CONFIG_ERR_LEN];
	struct config *cfg = NULL;
	struct ledger *l = NULL;
	int r;

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

/* ledger verify and ledger export. */
int
admin_ledger(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *sub = p->sub->name;
	enum ledger_format fmt = LEDGER_FORMAT_JSONL;
	char *db_path = NULL, errbuf[LEDGER_ERR_LEN];
	struct ledger *l = NULL;
	int64_t since = 0, count = 0, bad = 0, since_time = 0;
	uint64_t nbad = 0, v;
	const char *sv;
	int by_time = 0;
	int r, json = 0, ret = ADMIN_EXIT_FAIL;

	if (strcmp(sub, "export") == 0) {
		if (cli_str(p, "format") != NULL &&
		    strcmp(cli_str(p, "format"), "csv") == 0)
			fmt = LEDGER_FORMAT_CSV;
		if ((sv = cli_str(p, "since")) != NULL) {
			/* A bare number is a sequence number ("300" was
			 * always one); else a duration or a date. */
			if (num_parse_u64(sv, INT64_MAX, &v) == 0)
				since = (int64_t)v;
			else if (report_when_parse(sv, (int64_t)ledger_now(),
				     &since_time) == 0)
				by_time = 1;
			else
				return usage_error(p,
				    "--since must be a sequence number, a "
				    "duration (7d) or a date (2026-11-24, "
				    "2026-11-24T09:00:00Z)");
		}
	} else
		json = cli_flag(p, "json");
	state = admin_state_dir(state);
	if ((r = admin_ledger_path(state, &db_path)) != 0)
		goto out;
	if ((r = ledger_open(&l, db_path, 0)) != 0) {
		report("ledger", db_path, r);
		goto out;
	}
	if (strcmp(sub, "export") == 0) {
		if (by_time &&
		    (r = report_seq_before(l, since_time, &since)) != 0) {
			report("ledger export", db_path, r);
			goto out;
		}
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

int
admin_sshd_config(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state");
	char *line = NULL, fp[PUBKEY_FP_LEN];
	struct pubkey *k = NULL;
	int r, ret = ADMIN_EXIT_FAIL;

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

/* user add, token, disable and list. */
int
admin_user(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *sub = p->sub->name;
	const char *name = p->nargs > 0 ? p->args[0] : NULL;
	const char *groups[USER_GROUPS_MAX];
	char *token = NULL, msg[CONFIG_ERR_LEN];
	size_t ngroups = 0, i;
	struct admin_ctx x;
	json_t *list = NULL, *u;
	int r, json = 0, ret = ADMIN_EXIT_FAIL;

	if (strcmp(sub, "add") == 0 &&
	    (ngroups = cli_list(p, "group", groups, USER_GROUPS_MAX)) >
		USER_GROUPS_MAX)
		return usage_error(p, "too many --group");
	if (strcmp(sub, "list") == 0)
		json = cli_flag(p, "json");
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
		if ((r = user_add(x.ledger, x.cfg, admin_actor(), name,
			 (char *const *)(uintptr_t)groups, ngroups, &token)) !=
		    0) {
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

int
admin_issue(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *user = cli_str(p, "user");
	const char *role = cli_str(p, "role");
	const char *keyfile = cli_str(p, "public-key");
	const char *reason = cli_str(p, "reason");
	const char *principals[CERT_MAX_PRINCIPALS];
	char *keytext = NULL, tmsg[TEXT_MSG_LEN];
	struct pubkey *key = NULL;
	struct user *u = NULL;
	size_t nprincipals = 0;
	uint64_t ttl = 0;
	struct admin_ctx x;
	const struct ca_actor actor = {admin_actor(), NULL, 0};
	json_t *req = NULL;
	int r, json = cli_flag(p, "json"), ret = ADMIN_EXIT_FAIL;

	(void)cli_num(p, "ttl", 0, &ttl);
	if ((nprincipals = cli_list(p, "principal", principals,
		 CERT_MAX_PRINCIPALS)) > CERT_MAX_PRINCIPALS)
		return usage_error(p, "too many --principal");
	if (text_check("--reason", reason, REQUEST_REASON_MAX, 1, tmsg) != 0)
		return usage_error(p, tmsg);
	if ((r = fileio_read_small(keyfile, PUBKEY_MAX_LINE, &keytext, NULL)) !=
		0 ||
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
		 nprincipals ? (char **)(uintptr_t)principals : NULL,
		 nprincipals, ttl, reason, keytext, &req)) != 0) {
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

int
admin_revoke(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *reason = cli_str(p, "reason");
	const char *keyfile = NULL;
	char *keytext = NULL, *krl_path = NULL, tmsg[TEXT_MSG_LEN];
	struct revoke_target t;
	struct admin_ctx x;
	const struct ca_actor actor = {admin_actor(), NULL, 0};
	json_t *res = NULL, *v;
	uint64_t n;
	size_t i;
	int r, json = cli_flag(p, "json"), nsel = 0, ret = ADMIN_EXIT_FAIL;

	memset(&t, 0, sizeof(t));
	if (cli_num(p, "serial", 0, &n)) {
		if (n == 0)
			return usage_error(
			    p, "--serial must be a positive number");
		t.by = REVOKE_SERIAL;
		t.serial = n;
		nsel++;
	}
	if (cli_num(p, "request", 0, &n)) {
		if (n == 0 || n > INT64_MAX)
			return usage_error(p,
			    "--request must be a request id (a positive "
			    "number)");
		t.by = REVOKE_REQUEST;
		t.request = (int64_t)n;
		nsel++;
	}
	if (cli_str(p, "key-id") != NULL) {
		t.by = REVOKE_KEY_ID;
		t.text = cli_str(p, "key-id");
		nsel++;
	}
	if (cli_str(p, "user") != NULL) {
		t.by = REVOKE_USER;
		t.text = cli_str(p, "user");
		nsel++;
	}
	if ((keyfile = cli_str(p, "public-key")) != NULL) {
		t.by = REVOKE_PUBLIC_KEY;
		nsel++;
	}
	if (nsel != 1)
		return usage_error(p,
		    "give exactly one of --serial, "
		    "--key-id, --user, --request, --public-key");
	if (text_check("--reason", reason, REVOKE_REASON_MAX, 1, tmsg) != 0)
		return usage_error(p, tmsg);
	if (keyfile != NULL) {
		if ((r = fileio_read_small(
			 keyfile, PUBKEY_MAX_LINE, &keytext, NULL)) != 0) {
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

int
admin_krl(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state");
	const char *out_path = cli_str(p, "output");
	char *written = NULL;
	struct admin_ctx x;
	int r, ret = ADMIN_EXIT_FAIL;

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

/* ---- ledger report ---- */

static json_t *
json_time(int64_t t)
{
	char buf[REPORT_TIME_LEN];

	if (t <= 0)
		return json_null();
	report_time_format(buf, t);
	return json_string(buf);
}

/* One login as JSON: {host, account, time, source} (+ reason). */
static json_t *
login_json(const struct report_login *l)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:o, s:s}", "host", l->host, "account",
		l->account, "time", json_time(l->time), "source", l->source);

	if (o != NULL && l->reason != NULL &&
	    json_object_set_new(o, "reason", json_string(l->reason)) != 0) {
		json_decref(o);
		return NULL;
	}
	if (o != NULL && l->unknown != NULL &&
	    (json_object_set_new(
		 o, "serial", json_integer((json_int_t)l->serial)) != 0 ||
		json_object_set_new(o, "key_id", json_string(l->key_id)) != 0 ||
		json_object_set_new(o, "unknown", json_string(l->unknown)) !=
		    0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
logins_json(const struct report_login *l, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, login_json(&l[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
grant_json(const struct report_grant *g)
{
	json_t *o = NULL, *p = NULL, *ap = NULL, *rv = NULL;
	size_t i;

	if ((p = json_array()) == NULL || (ap = json_array()) == NULL)
		goto fail;
	for (i = 0; i < g->nprincipals; i++)
		if (json_array_append_new(p, json_string(g->principals[i])) !=
		    0)
			goto fail;
	for (i = 0; i < g->napprovals; i++)
		if (json_array_append_new(ap,
			json_pack("{s:s, s:o, s:s}", "who", g->approvals[i].who,
			    "time", json_time(g->approvals[i].time), "comment",
			    g->approvals[i].comment)) != 0)
			goto fail;
	rv = g->revoked
	    ? json_pack("{s:o, s:s, s:s}", "time", json_time(g->revoked_time),
		  "by", g->revoked_by, "reason", g->revoked_reason)
	    : json_null();
	o = json_pack("{s:I, s:s, s:s, s:O, s:I, s:s, s:s, s:O, s:o, s:s, "
		      "s:b, s:o, s:o, s:O, s:b, s:n, s:o, s:o}",
	    "request", (json_int_t)g->request, "requester", g->requester,
	    "role", g->role, "principals", p, "serial", (json_int_t)g->serial,
	    "key_id", g->key_id, "reason", g->reason, "approvals", ap, "issued",
	    json_time(g->issued), "issued_by", g->issued_by, "direct",
	    g->direct, "valid_after", json_time(g->valid_after), "valid_before",
	    json_time(g->valid_before), "revoked", rv, "break_glass",
	    g->break_glass, "review", "logins",
	    logins_json(g->logins, g->nlogins), "refused",
	    logins_json(g->refused, g->nrefused));
fail:
	json_decref(p);
	json_decref(ap);
	json_decref(rv);
	return o;
}

/* RFC 4180 field. */
static void
csv_put(const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		putchar('"');
		for (; *s != '\0'; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else
		fputs(s, stdout);
	fputs(last ? "\r\n" : ",", stdout);
}

/* A growing text for one CSV cell (bounded by what the ledger holds). */
struct cell {
	char *p;
	size_t len;
	int oom;
};

static void __attribute__((format(printf, 2, 3)))
cell_add(struct cell *c, const char *fmt, ...)
{
	va_list ap;
	char *np;
	int n;

	if (c->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (np = realloc(c->p, c->len + (size_t)n + 1)) == NULL) {
		c->oom = 1;
		return;
	}
	c->p = np;
	va_start(ap, fmt);
	vsnprintf(c->p + c->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	c->len += (size_t)n;
}

static void
logins_cell(struct cell *c, const struct report_login *l, size_t n)
{
	char t[REPORT_TIME_LEN];
	size_t i;

	for (i = 0; i < n; i++) {
		report_time_format(t, l[i].time);
		cell_add(c, "%s%s %s %s %s%s%s", i ? "; " : "", l[i].host,
		    l[i].account, t, l[i].source, l[i].reason ? " " : "",
		    l[i].reason ? l[i].reason : "");
	}
}

static int
grant_csv(const struct report_grant *g)
{
	char t[REPORT_TIME_LEN], num[32];
	struct cell c = {NULL, 0, 0};
	size_t i;

	snprintf(num, sizeof(num), "%lld", (long long)g->request);
	csv_put(num, 0);
	csv_put(g->requester, 0);
	csv_put(g->role, 0);
	for (i = 0; i < g->nprincipals; i++)
		cell_add(&c, "%s%s", i ? " " : "", g->principals[i]);
	csv_put(c.p ? c.p : "", 0);
	c.len = 0;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)g->serial);
	csv_put(num, 0);
	csv_put(g->reason, 0);
	cell_add(&c, "%s", "");
	for (i = 0; i < g->napprovals; i++) {
		report_time_format(t, g->approvals[i].time);
		cell_add(&c, "%s%s %s %s", i ? "; " : "", g->approvals[i].who,
		    t, g->approvals[i].comment);
	}
	csv_put(c.p ? c.p : "", 0);
	report_time_format(t, g->issued);
	csv_put(t, 0);
	report_time_format(t, g->valid_before);
	csv_put(t, 0);
	if (g->revoked)
		report_time_format(t, g->revoked_time);
	csv_put(g->revoked ? t : "", 0);
	csv_put(g->revoked ? g->revoked_by : "", 0);
	csv_put(g->revoked ? g->revoked_reason : "", 0);
	csv_put(g->break_glass ? "yes" : "no", 0);
	c.len = 0;
	cell_add(&c, "%s", "");
	logins_cell(&c, g->logins, g->nlogins);
	csv_put(c.p ? c.p : "", 0);
	c.len = 0;
	cell_add(&c, "%s", "");
	logins_cell(&c, g->refused, g->nrefused);
	csv_put(c.p ? c.p : "", 1);
	free(c.p);
	return c.oom ? ERR_ALLOC : 0;
}

static void
login_line_print(const char *label, const struct report_login *l)
{
	char t[REPORT_TIME_LEN];

	report_time_format(t, l->time);
	printf("  %-10s %s %s@%s from %s%s%s%s\n", label, t, l->account,
	    l->host, l->source, l->reason ? " (" : "",
	    l->reason ? l->reason : "", l->reason ? ")" : "");
}

static void
grant_table(const struct report_grant *g)
{
	char t[REPORT_TIME_LEN], t2[REPORT_TIME_LEN];
	size_t i;

	printf("request %lld  %s  role %s  serial %llu%s\n",
	    (long long)g->request, g->requester, g->role,
	    (unsigned long long)g->serial,
	    g->break_glass ? "  BREAK-GLASS (needs review)" : "");
	printf("  %-10s ", "principals");
	for (i = 0; i < g->nprincipals; i++)
		printf("%s%s", i ? "," : "", g->principals[i]);
	printf("\n  %-10s %s\n", "reason", g->reason);
	for (i = 0; i < g->napprovals; i++) {
		report_time_format(t, g->approvals[i].time);
		printf("  %-10s %s %s%s%s%s\n", "approved", t,
		    g->approvals[i].who,
		    g->approvals[i].comment[0] ? ": \"" : "",
		    g->approvals[i].comment,
		    g->approvals[i].comment[0] ? "\"" : "");
	}
	report_time_format(t, g->issued);
	report_time_format(t2, g->valid_before);
	printf("  %-10s %s by %s%s, valid until %s\n", "issued", t,
	    g->issued_by, g->direct ? " (direct, no approval)" : "", t2);
	if (g->revoked) {
		report_time_format(t, g->revoked_time);
		printf("  %-10s %s by %s: %s\n", "revoked", t, g->revoked_by,
		    g->revoked_reason);
	}
	for (i = 0; i < g->nlogins; i++)
		login_line_print("login", &g->logins[i]);
	for (i = 0; i < g->nrefused; i++)
		login_line_print("refused", &g->refused[i]);
	if (g->nlogins == 0 && g->nrefused == 0)
		printf("  %-10s none reported\n", "logins");
}

/* ledger report [--role R] [--user U] [--since W] [--until W]
 * [--format table|csv|json]. */
int
admin_ledger_report(const struct cli_parsed *p)
{
	const char *state = admin_state_dir(cli_str(p, "state"));
	const char *fmt = cli_str(p, "format");
	struct report_filter f;
	struct report *rep = NULL;
	struct ledger *l = NULL;
	char *db_path = NULL, t[REPORT_TIME_LEN];
	json_t *arr = NULL;
	size_t i;
	int r, ret = ADMIN_EXIT_FAIL;
	int64_t now = (int64_t)ledger_now();

	memset(&f, 0, sizeof(f));
	f.role = cli_str(p, "role");
	f.user = cli_str(p, "user");
	if (fmt == NULL)
		fmt = "table";
	if (cli_str(p, "since") != NULL &&
	    report_when_parse(cli_str(p, "since"), now, &f.since) != 0)
		return usage_error(p,
		    "--since must be a duration (7d) or a date "
		    "(2026-11-24, 2026-11-24T09:00:00Z)");
	if (cli_str(p, "until") != NULL &&
	    report_when_parse(cli_str(p, "until"), now, &f.until) != 0)
		return usage_error(p,
		    "--until must be a duration (1d) or a date "
		    "(2026-12-01, 2026-12-01T09:00:00+01:00)");
	if ((r = admin_ledger_path(state, &db_path)) != 0)
		goto out;
	if ((r = ledger_open(&l, db_path, 0)) != 0) {
		report("ledger report", db_path, r);
		goto out;
	}
	if ((r = report_build(l, &f, &rep)) != 0) {
		report("ledger report", db_path, r);
		goto out;
	}
	if (strcmp(fmt, "json") == 0) {
		if ((arr = json_array()) == NULL)
			goto oom;
		for (i = 0; i < rep->ngrants; i++)
			if (json_array_append_new(
				arr, grant_json(&rep->grants[i])) != 0)
				goto oom;
		if (print_json("ledger report", arr) != 0)
			goto out;
	} else if (strcmp(fmt, "csv") == 0) {
		fputs("request,requester,role,principals,serial,reason,"
		      "approvals,issued,valid_before,revoked,revoked_by,"
		      "revoked_reason,break_glass,logins,refused\r\n",
		    stdout);
		for (i = 0; i < rep->ngrants; i++)
			if (grant_csv(&rep->grants[i]) != 0)
				goto oom;
	} else {
		for (i = 0; i < rep->ngrants; i++) {
			if (i > 0)
				putchar('\n');
			grant_table(&rep->grants[i]);
		}
		if (rep->nunknown > 0)
			printf("%slogins with certificates this CA did not "
			       "issue (or forged lines):\n",
			    rep->ngrants ? "\n" : "");
		for (i = 0; i < rep->nunknown; i++) {
			const struct report_login *u = &rep->unknown[i];

			report_time_format(t, u->time);
			printf("  %s %s@%s from %s serial %llu id %s: %s%s%s\n",
			    t, u->account, u->host, u->source,
			    (unsigned long long)u->serial, u->key_id,
			    u->unknown, u->reason ? ", refused " : "",
			    u->reason ? u->reason : "");
		}
	}
	/* Logins no grant explains are worth a look in every format. */
	if (rep->nunknown > 0)
		fprintf(stderr,
		    "jitcad ledger report: %zu login%s with certificates "
		    "this CA did not issue, or forged lines\n",
		    rep->nunknown, rep->nunknown == 1 ? "" : "s");
	if (fflush(stdout) != 0) {
		report("ledger report", "stdout", ERR_SYSTEM);
		goto out;
	}
	ret = ADMIN_EXIT_OK;
	goto out;
oom:
	report("ledger report", db_path, ERR_ALLOC);
out:
	json_decref(arr);
	report_free(rep);
	ledger_close(l);
	free(db_path);
	return ret;
}
