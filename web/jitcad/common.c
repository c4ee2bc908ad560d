/*
 * common.c: what the jitcad admin commands share (admin.h): the state
 * directory, error reports on stderr, --json output, the local actor, and
 * struct admin_ctx, which opens config, ledger, CA public key and, for
 * commands that sign, the signer process, and rebuilds the KRL.  The
 * commands themselves are init.c, cakey.c, config.c, user.c, issue.c,
 * revoke.c and ledger.c; the option table is cli.c.
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

#include "ca/checkpoint.h"
#include "ca/ca.h"
#include "ca/config.h"
#include "ca/ledger.h"
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

char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Print "jitcad CMD: what: reason" for a library error. */
void
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

int
usage_error(const struct cli_parsed *p, const char *msg)
{
	return cli_usage_error(p, stderr, "%s", msg);
}

/* One compact JSON document and a newline on stdout (--json). */
int
print_json(const char *cmd, const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_COMPACT) != 0 || putchar('\n') == EOF) {
		report(cmd, "stdout", ERR_SYSTEM);
		return ERR_SYSTEM;
	}
	return 0;
}

int
print_encoded(const char *cmd, json_t *v)
{
	int r;

	if (v == NULL) {
		report(cmd, "--json", ERR_ALLOC);
		return ERR_ALLOC;
	}
	r = print_json(cmd, v);
	json_decref(v);
	return r;
}

/* "local:<unix user>", the actor of commands run on the CA host. */
const char *
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
int
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

void
admin_close(struct admin_ctx *x)
{
	signer_stop(x->signer);
	pubkey_free(x->ca_pub);
	pubkey_free(x->host_pub);
	ledger_close(x->ledger);
	config_free(x->cfg);
	memset(x, 0, sizeof(*x));
}

/* Read and parse <state>/ca.pub, saying what is wrong on stderr. */
int
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

int
admin_key_present(const char *source)
{
	return p11_uri_is(source) || access(source, F_OK) == 0;
}

int
admin_load_ledger_pub(const char *cmd, const char *state, struct pubkey **out)
{
	char *path = NULL, *text = NULL;
	int r;

	*out = NULL;
	if ((path = path_join(state, LEDGER_PUB_FILE)) == NULL) {
		report(cmd, state, ERR_ALLOC);
		return ERR_ALLOC;
	}
	r = fileio_read_small(path, PUBKEY_MAX_LINE, &text, NULL);
	if (r == ERR_SYSTEM && errno == ENOENT)
		fprintf(stderr,
		    "jitcad %s: %s does not exist; run jitcad init --add-keys "
		    "--state %s first\n",
		    cmd, path, state);
	else if (r != 0 || (r = pubkey_from_line(out, text, strlen(text))) != 0)
		report(cmd, path, r);
	free(text);
	free(path);
	return r;
}

int
admin_ledger_origin(
    const struct config *cfg, const struct pubkey *ca_pub, char **out)
{
	*out = NULL;
	if (cfg->ledger_origin != NULL) {
		if ((*out = strdup(cfg->ledger_origin)) == NULL)
			return ERR_ALLOC;
		return 0;
	}
	return checkpoint_origin_default(out, ca_pub);
}

static int
sign_checkpoint_fn(void *ctx, const char *origin, uint64_t size,
    const uint8_t root[32], char **note, char **sig)
{
	return signer_sign_checkpoint(
	    ctx, origin, size, root, note, NULL, sig, NULL);
}

void
admin_checkpoint_signer(struct checkpoint_signer *sg, struct signer *s)
{
	sg->sign = sign_checkpoint_fn;
	sg->ctx = s;
}

/* Start the signer process for an open context; it alone loads the CA
 * key, and must hold the key whose public half is ca.pub. */
int
admin_start_signer(struct admin_ctx *x)
{
	struct signer_params sp;
	int r;

	memset(&sp, 0, sizeof(sp));
	sp.key_path = x->cfg->ca_key_file;
	sp.pkcs11_module = x->cfg->pkcs11_module;
	sp.pin_file = x->cfg->pin_file;
	sp.pkcs11_allow_network = x->cfg->pkcs11_allow_network;
	/* A state directory from before the host CA and ledger keys works
	 * without them (jitcad init --add-keys makes them). */
	if (admin_key_present(x->cfg->host_key_file))
		sp.host_key_path = x->cfg->host_key_file;
	if (admin_key_present(x->cfg->ledger_key_file))
		sp.ledger_key_path = x->cfg->ledger_key_file;
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
	x->ca.sign_host = signer_sign_host_fn;
	x->ca.sign_ctx = x->signer;
	return 0;
}

/* The host CA public key of an older state dir may be missing: then no
 * host certificates (and none in the KRL). */
static int
load_host_pub(struct admin_ctx *x)
{
	char *path = NULL, *text = NULL;
	int r = 0;

	if ((path = path_join(x->state, HOST_PUB_FILE)) == NULL)
		return ERR_ALLOC;
	if (access(path, F_OK) == 0 &&
	    ((r = fileio_read_small(path, PUBKEY_MAX_LINE, &text, NULL)) != 0 ||
		(r = pubkey_from_line(&x->host_pub, text, strlen(text))) != 0))
		report(x->cmd, path, r);
	free(text);
	free(path);
	return r;
}

int
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
	if ((r = load_host_pub(x)) != 0)
		goto fail;
	if (need_signer && (r = admin_start_signer(x)) != 0)
		goto fail;
	x->ca.cfg = x->cfg;
	x->ca.ledger = x->ledger;
	x->ca.ca_pub = x->ca_pub;
	x->ca.host_pub = x->host_pub;
	return 0;
fail:
	admin_close(x);
	return r;
}

/* Rebuild the KRL from the ledger into path (default <state>/revoked.krl);
 * *written (may be NULL) gets the path used (borrowed or new: free it). */
int
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
