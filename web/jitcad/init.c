/*
 * init.c: `jitcad init`: a new state directory with the user CA, host CA
 * and ledger keys (the only command that touches private keys, which it
 * generates and stores with signer/cakey.h), ca.pub, host_ca.pub,
 * ledger.pub, jitca.json, the ledger and an empty KRL, and with
 * --ca-user/--user the files' owners; `init --add-keys` makes only the
 * host CA and ledger keys an older state directory lacks.  Shared
 * helpers: common.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ca/ca.h"
#include "ca/config.h"
#include "ca/ledger.h"
#include "ca/store/store.h"
#include "ca/request.h"
#include "ca/revoke.h"
#include "ca/signpolicy.h"
#include "ca/text.h"
#include "ca/users.h"
#include "signer/base/cli.h"
#include "signer/base/fileio.h"
#include "signer/base/num.h"
#include "signer/cakey.h"
#include "signer/err.h"
#include "signer/krl.h"
#include "signer/p11.h"
#include "signer/pubkey.h"
#include "signer/signer.h"
#include "web/jitcad/admin.h"

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
 * Make a key of type t at key_path (0600, never replacing a file) and its
 * public line "TYPE BASE64 comment\n" at pub_path (0644, replacing an old
 * one, which would be wrong); *line (may be NULL) the line, new.
 */
static int
init_make_key(const char *key_path, const char *pub_path, enum key_type t,
    const char *comment, char **line)
{
	struct cakey *key = NULL;
	char *l = NULL, *nl = NULL;
	int r = ERR_INTERNAL;

	if (line != NULL)
		*line = NULL;
	if ((r = cakey_generate(&key, t)) != 0) {
		report("init", "generating a key", r);
		goto out;
	}
	if ((r = cakey_save(key, key_path)) != 0) {
		report("init", key_path, r);
		goto out;
	}
	if ((r = pubkey_to_line(&l, cakey_public(key), comment)) != 0 ||
	    (nl = malloc(strlen(l) + 2)) == NULL) {
		r = r != 0 ? r : ERR_ALLOC;
		report("init", pub_path, r);
		goto out;
	}
	memcpy(nl, l, strlen(l));
	memcpy(nl + strlen(l), "\n", 2);
	(void)unlink(pub_path);
	if ((r = fileio_write_new(pub_path, nl, strlen(nl), 0644)) != 0) {
		report("init", pub_path, r);
		goto out;
	}
	if (line != NULL) {
		*line = l;
		l = NULL;
	}
	r = 0;
out:
	cakey_free(key);
	free(l);
	free(nl);
	return r;
}

/*
 * The host CA key (of type t, as the user CA's) and the ledger key
 * (always Ed25519: C2SP notes are signed with Ed25519), each only when
 * its file is missing, owned by ca when given.  *made counts new keys.
 */
static int
init_add_keys(
    const char *state, enum key_type t, const struct passwd *ca, int *made)
{
	static const struct {
		const char *key, *pub, *comment, *what;
		int ledger;
	} keys[] = {
	    {HOST_KEY_FILE, HOST_PUB_FILE, HOST_PUB_COMMENT, "host CA", 0},
	    {LEDGER_KEY_FILE, LEDGER_PUB_FILE, LEDGER_PUB_COMMENT, "ledger", 1},
	};
	char *kp = NULL, *pp = NULL;
	size_t i;
	int r = 0;

	*made = 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && r == 0; i++) {
		if ((kp = path_join(state, keys[i].key)) == NULL ||
		    (pp = path_join(state, keys[i].pub)) == NULL) {
			r = ERR_ALLOC;
			report("init", state, r);
		} else if (access(kp, F_OK) != 0) {
			r = init_make_key(kp, pp,
			    keys[i].ledger ? KEY_ED25519 : t, keys[i].comment,
			    NULL);
			if (r == 0 && ca != NULL &&
			    chown(kp, ca->pw_uid, ca->pw_gid) != 0) {
				fprintf(stderr,
				    "jitcad init: chown %s to %s: %s\n", kp,
				    ca->pw_name, strerror(errno));
				r = ERR_SYSTEM;
			}
			if (r == 0) {
				fprintf(stderr, "jitcad init: new %s key %s\n",
				    keys[i].what, kp);
				(*made)++;
			}
		}
		free(kp);
		free(pp);
		kp = pp = NULL;
	}
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

	if (ca != NULL && key_path != NULL &&
	    chown(key_path, ca->pw_uid, ca->pw_gid) != 0) {
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

/* v as a JSON string literal, new (NULL: out of memory). */
static char *
json_quoted(const char *v)
{
	json_t *j = json_string(v);
	char *q = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	return q;
}

/*
 * jitca.json for a user CA key in a token: the example configuration
 * with ca.key the URI and ca.pkcs11_module, ca.pin_file (when given)
 * next to it.  Written only when there is none yet.
 */
static int
init_write_p11_config(const char *cfg_path, const char *uri, const char *module,
    const char *pin_file)
{
	static const char file_key[] = "\"key\": \"ca_key.pem\"";
	const char *ex = config_example(), *at = strstr(ex, file_key);
	char *qu = NULL, *qm = NULL, *qp = NULL, *text = NULL;
	size_t n;
	int r = ERR_INTERNAL;

	ENSURE(at != NULL, ERR_INTERNAL);
	if ((qu = json_quoted(uri)) == NULL ||
	    (module != NULL && (qm = json_quoted(module)) == NULL) ||
	    (pin_file != NULL && (qp = json_quoted(pin_file)) == NULL)) {
		r = ERR_ALLOC;
		goto out;
	}
	n = strlen(ex) + strlen(qu) + (qm != NULL ? strlen(qm) : 0) +
	    (qp != NULL ? strlen(qp) : 0) + 64;
	if ((text = malloc(n)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	snprintf(text, n, "%.*s\"key\": %s%s%s%s%s%s", (int)(at - ex), ex, qu,
	    qm != NULL ? ", \"pkcs11_module\": " : "", qm != NULL ? qm : "",
	    qp != NULL ? ", \"pin_file\": " : "", qp != NULL ? qp : "",
	    at + strlen(file_key));
	r = fileio_write_new(cfg_path, text, strlen(text), 0644);
out:
	free(qu);
	free(qm);
	free(qp);
	free(text);
	return r;
}

/*
 * The public key of the token key that jitca.json's ca.key names, from a
 * signer started on it: the module is loaded in the signer process only,
 * never in jitcad init.  *s is new (signer_stop).
 */
static int
init_p11_signer(const char *state, struct signer **s)
{
	char errbuf[CONFIG_ERR_LEN];
	struct config *cfg = NULL;
	struct signer_params sp;
	int r;

	*s = NULL;
	if ((r = config_load(&cfg, state, errbuf)) != 0) {
		fprintf(stderr, "jitcad init: %s\n", errbuf);
		return r;
	}
	memset(&sp, 0, sizeof(sp));
	sp.key_path = cfg->ca_key_file;
	sp.pkcs11_module = cfg->pkcs11_module;
	sp.pin_file = cfg->pin_file;
	sp.pkcs11_allow_network = cfg->pkcs11_allow_network;
	sp.policy = &signpolicy_ops;
	sp.policy_arg = cfg->state_dir;
	if ((r = signer_start(s, &sp)) != 0)
		fprintf(stderr, "jitcad init: CA key %s: %s\n",
		    cfg->ca_key_file, err_str(r));
	config_free(cfg);
	return r;
}

int
admin_init(const struct cli_parsed *p)
{
	const char *state = cli_str(p, "state"), *type_name = "ed25519";
	const char *ca_user = cli_str(p, "ca-user");
	const char *svc_user = cli_str(p, "user");
	const char *uri = cli_str(p, "ca-key");
	const char *module = cli_str(p, "pkcs11-module");
	const char *pin_opt = cli_str(p, "pin-file");
	const struct pubkey *pub = NULL;
	struct signer *signer = NULL;
	char *pin_file = NULL;
	const char *ledger_url = cli_str(p, "ledger");
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
	if (uri != NULL && !p11_uri_is(uri))
		return usage_error(p, "--ca-key must be a pkcs11: URI");
	if (uri == NULL && (module != NULL || pin_opt != NULL))
		return usage_error(
		    p, "--pkcs11-module and --pin-file need --ca-key");
	if (uri != NULL &&
	    (cli_flag(p, "add-keys") || cli_str(p, "ca-key-type") != NULL))
		return usage_error(p,
		    "--ca-key uses the token's key: no --ca-key-type or "
		    "--add-keys (jitcad ca-key --generate-on-token makes one)");
	if (module != NULL && module[0] != '/')
		return usage_error(
		    p, "--pkcs11-module must be an absolute path");
	/* jitca.json keeps an absolute path: the signer reads it from
	 * wherever it runs. */
	if (pin_opt != NULL && (pin_file = realpath(pin_opt, NULL)) == NULL) {
		fprintf(stderr, "jitcad init: --pin-file %s: %s\n", pin_opt,
		    strerror(errno));
		return ADMIN_EXIT_FAIL;
	}
	state = admin_state_dir(state);
	if (mkdir(state, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "jitcad init: cannot create %s: %s\n", state,
		    strerror(errno));
		return ADMIN_EXIT_FAIL;
	}
	if (ledger_url != NULL &&
	    (!store_is_pg_url(ledger_url) || strpbrk(ledger_url, "\"\\") ||
		store_url_has_password(ledger_url)))
		return usage_error(p,
		    "--ledger must be a postgres:// URL without a password "
		    "(give it in a passfile)");
	if ((key_path = path_join(state, "ca_key.pem")) == NULL ||
	    (pub_path = path_join(state, CA_PUB_FILE)) == NULL ||
	    (cfg_path = path_join(state, CONFIG_FILE)) == NULL ||
	    (db_path = ledger_url != NULL
		    ? strdup(ledger_url)
		    : path_join(state, "ledger.db")) == NULL) {
		report("init", state, ERR_ALLOC);
		goto out;
	}
	if (cli_flag(p, "add-keys")) {
		/* A state directory from before the host CA and ledger
		 * keys: add what is missing, touch nothing else. */
		int made = 0;

		if (access(key_path, F_OK) != 0) {
			fprintf(stderr,
			    "jitcad init --add-keys: %s holds no CA key; run "
			    "jitcad init without --add-keys\n",
			    state);
			goto out;
		}
		/* The host CA as the user CA unless --ca-key-type says. */
		if (cli_str(p, "ca-key-type") == NULL) {
			struct pubkey *ca_pub = NULL;

			if (admin_load_ca_pub("init", state, &ca_pub) != 0)
				goto out;
			t = pubkey_type(ca_pub);
			pubkey_free(ca_pub);
		}
		if (init_add_keys(
			state, t, ca_user != NULL ? &ca_pw : NULL, &made) != 0)
			goto out;
		if (made == 0)
			fprintf(stderr,
			    "jitcad init --add-keys: %s already holds every "
			    "key\n",
			    state);
		ret = ADMIN_EXIT_OK;
		goto out;
	}
	if (access(key_path, F_OK) == 0) {
		fprintf(stderr,
		    "jitcad init: %s already holds a CA key (%s); "
		    "refusing to replace it (jitcad init --add-keys adds "
		    "a missing host CA or ledger key)\n",
		    state, key_path);
		goto out;
	}
	if (uri != NULL) {
		/* The key stays in the token: jitca.json names it, a signer
		 * reads its public half. */
		if (access(cfg_path, F_OK) == 0) {
			fprintf(stderr,
			    "jitcad init: %s already exists; refusing to "
			    "replace it (set ca.key, ca.pkcs11_module and "
			    "ca.pin_file there)\n",
			    cfg_path);
			goto out;
		}
		if ((r = init_write_p11_config(
			 cfg_path, uri, module, pin_file)) != 0) {
			report("init", cfg_path, r);
			goto out;
		}
		if (init_p11_signer(state, &signer) != 0) {
			/* Nothing else was made: a corrected run can
			 * start again. */
			(void)unlink(cfg_path);
			goto out;
		}
		pub = signer_public(signer);
		t = pubkey_type(pub);
		type_name = pubkey_type_name(pub);
	} else {
		if ((r = cakey_generate(&key, t)) != 0) {
			report("init", "generating the CA key", r);
			goto out;
		}
		if ((r = cakey_save(key, key_path)) != 0) {
			report("init", key_path, r);
			goto out;
		}
		pub = cakey_public(key);
	}
	if ((r = pubkey_to_line(&line, pub, "jitca-ca")) != 0 ||
	    (r = pubkey_fingerprint(fp, pub)) != 0) {
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
	if (access(cfg_path, F_OK) != 0) {
		const char *ex = config_example(), *at;
		static const char dflt[] = "{\"url\": \"ledger.db\"}";
		char *text = NULL;

		if (ledger_url != NULL && (at = strstr(ex, dflt)) != NULL &&
		    (text = malloc(strlen(ex) + strlen(ledger_url) + 1)) !=
			NULL)
			(void)sprintf(text, "%.*s{\"url\": \"%s\"}%s",
			    (int)(at - ex), ex, ledger_url,
			    at + sizeof(dflt) - 1);
		r = fileio_write_new(cfg_path, text != NULL ? text : ex,
		    strlen(text != NULL ? text : ex), 0644);
		free(text);
		if (r != 0) {
			report("init", cfg_path, r);
			goto out;
		}
	}
	if ((r = ledger_open(&ledger, db_path, 1)) != 0) {
		report("init", db_path, r);
		goto out;
	}
	if ((details = json_pack("{s:s, s:s}", "fingerprint", fp, "key_type",
		 pubkey_type_name(pub))) == NULL) {
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
	{
		int made;

		if (init_add_keys(
			state, t, ca_user != NULL ? &ca_pw : NULL, &made) != 0)
			goto out;
	}
	if ((r = init_ownership(state, uri != NULL ? pin_file : key_path,
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
	signer_stop(signer);
	free(pin_file);
	cakey_free(key);
	free(line);
	free(key_path);
	free(pub_path);
	free(cfg_path);
	free(db_path);
	return ret;
}
