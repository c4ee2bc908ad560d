/*
 * serve.c: `jitcad serve`, the CA service's process: options, startup in
 * the order DESIGN.md "Key custody" asks for, signals, shutdown.
 *
 * Startup: load jitca.json; block SIGTERM/SIGINT/SIGHUP (so every thread
 * created later inherits the mask and only the main thread takes them,
 * in sigtimedwait); start the signer process FIRST (it alone opens the CA
 * key and refuses a group/world-readable file); open the ledger and
 * prove it writable by committing a ca.started event; bind the listening
 * socket; start the HTTP daemon (web/http.c) with the API's routes
 * (web/api.c); print "listening on http(s)://HOST:PORT".
 *
 * Then the main thread waits for signals: SIGHUP reloads jitca.json (an
 * invalid file keeps the old configuration and says why), SIGTERM and
 * SIGINT stop accepting, let in-flight requests finish, and exit 0.
 * Every 10 s it expires pending requests past their request_ttl.
 *
 * It does not implement endpoints or HTTP details.  This is a main
 * program: it prints to stderr and returns exit statuses.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ca/config.h"
#include "ca/ledger.h"
#include "signer/base/fileio.h"
#include "signer/pubkey.h"
#include "signer/signer.h"
#include "web/api.h"
#include "web/http.h"
#include "web/serve.h"
#include "signer/base/cli.h"
#include "web/jitcad_cli.h"

#define SERVE_TLS_MAX (1024u * 1024)
#define SERVE_DRAIN_MS 30000
#define SERVE_TICK_S 10

/*
 * A whole PEM file (at most SERVE_TLS_MAX bytes) into a new
 * NUL-terminated string, or NULL with errno set (EISDIR, EINVAL: not a
 * regular file; EFBIG: too large).  Free a key with free_secret().
 */
static char *
read_pem_file(const char *path)
{
	char *buf = NULL;
	int r = fileio_read_small(path, SERVE_TLS_MAX, &buf, NULL);

	if (r == ERR_TOO_LARGE)
		errno = EFBIG;
	else if (r == ERR_ALLOC)
		errno = ENOMEM;
	return r == 0 ? buf : NULL;
}

/* Wipe and free a string that held a secret (the TLS key). */
static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Record the start in the ledger: proves it is writable. */
static int
ledger_mark_started(
    struct ledger *l, const struct pubkey *pub, const char *listen)
{
	int r = ERR_INTERNAL;
	char fp[PUBKEY_FP_LEN];
	json_t *d = NULL;

	if ((r = pubkey_fingerprint(fp, pub)) != 0)
		goto out;
	if ((d = json_pack("{s:i,s:s,s:s}", "pid", (int)getpid(), "ca_key", fp,
		 "listen", listen)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = ledger_begin(l)) != 0)
		goto out;
	if ((r = ledger_append(
		 l, NULL, "ca.started", "local:jitcad", "jitcad", d)) != 0) {
		ledger_rollback(l);
		goto out;
	}
	r = ledger_commit(l);
out:
	json_decref(d);
	return r;
}

static void
reload(struct api *a, const char *state_dir)
{
	struct config *nc = NULL;
	char err[CONFIG_ERR_LEN] = "";
	const struct config *oc = a->cfg;

	if (config_load(&nc, state_dir, err) != 0) {
		fprintf(stderr,
		    "jitcad serve: SIGHUP: keeping the old configuration: "
		    "%s\n",
		    err[0] != '\0' ? err : "cannot load jitca.json");
		return;
	}
	if (strcmp(nc->ca_key_file, oc->ca_key_file) != 0 ||
	    nc->hard_max_ttl != oc->hard_max_ttl ||
	    nc->backdate != oc->backdate ||
	    strcmp(nc->ledger_path, oc->ledger_path) != 0 ||
	    strcmp(nc->listen, oc->listen) != 0)
		fprintf(stderr,
		    "jitcad serve: SIGHUP: changes to \"ca\", \"ledger\" and "
		    "\"listen\" take effect at the next start\n");
	api_config_swap(a, nc);
	fprintf(stderr, "jitcad serve: configuration reloaded\n");
}

int
web_serve_main(int argc, char **argv)
{
	char **full;
	int i, r;

	/* jitcad's own command line: "jitcad serve ...". */
	if (argc < 1 ||
	    (full = calloc((size_t)argc + 2, sizeof(*full))) == NULL)
		return 1;
	full[0] = (char *)(uintptr_t) "jitcad";
	for (i = 0; i < argc; i++)
		full[i + 1] = argv[i];
	r = cli_main(&jitcad_prog, argc + 1, full, stdout, stderr);
	free(full);
	return r;
}

int
web_serve_run(const struct cli_parsed *p)
{
	const char *state_opt = cli_str(p, "state");
	const char *listen_opt = cli_str(p, "listen");
	const char *cert_f = cli_str(p, "tls-cert");
	const char *key_f = cli_str(p, "tls-key"), *state_dir, *listen;
	char *tls_cert = NULL, *tls_key = NULL;
	char cerr[CONFIG_ERR_LEN] = "", herr[HTTP_ERR_LEN] = "",
	     lerr[LEDGER_ERR_LEN] = "";
	struct config *cfg = NULL;
	struct signer *signer = NULL;
	struct ledger *ledger = NULL;
	struct http_server *srv = NULL;
	struct api api;
	struct http_config hc;
	struct cert_limits lim;
	sigset_t set, oldset;
	siginfo_t si;
	struct timespec tick = {SERVE_TICK_S, 0};
	int r, fd = -1, port = 0, ret = 1, api_ok = 0, sig;
	size_t expired;
	unsigned left;

	if ((cert_f == NULL) != (key_f == NULL))
		return cli_usage_error(
		    p, stderr, "--tls-cert and --tls-key go together");
	if ((state_dir = state_opt) == NULL &&
	    (state_dir = getenv("JITCA_STATE")) == NULL)
		state_dir = "./jitca-state";

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &oldset);
	signal(SIGPIPE, SIG_IGN);

	if ((r = config_load(&cfg, state_dir, cerr)) != 0) {
		fprintf(stderr, "jitcad serve: %s\n",
		    cerr[0] != '\0' ? cerr : err_str(r));
		goto out;
	}
	listen = listen_opt != NULL ? listen_opt : cfg->listen;
	if (cert_f != NULL) {
		if ((tls_cert = read_pem_file(cert_f)) == NULL) {
			fprintf(stderr, "jitcad serve: %s: %s\n", cert_f,
			    strerror(errno));
			goto out;
		}
		if ((tls_key = read_pem_file(key_f)) == NULL) {
			fprintf(stderr, "jitcad serve: %s: %s\n", key_f,
			    strerror(errno));
			goto out;
		}
	}

	/* The signer first: the key is opened only in its child. */
	lim.hard_max_ttl = cfg->hard_max_ttl;
	lim.max_backdate = cfg->backdate;
	if ((r = signer_start(&signer, cfg->ca_key_file, &lim)) != 0) {
		if (r == ERR_KEY_FILE_MODE)
			fprintf(stderr,
			    "jitcad serve: CA key %s is readable by group or "
			    "others; refusing to start (chmod 600 %s)\n",
			    cfg->ca_key_file, cfg->ca_key_file);
		else
			fprintf(stderr,
			    "jitcad serve: cannot start the signer for CA key "
			    "%s: %s\n",
			    cfg->ca_key_file, err_str(r));
		goto out;
	}

	if ((r = ledger_open_err(&ledger, cfg->ledger_path, 0, lerr)) != 0) {
		fprintf(stderr, "jitcad serve: %s the ledger %s: %s\n",
		    strstr(lerr, "readonly") != NULL ? "cannot write"
						     : "cannot open",
		    cfg->ledger_path, lerr[0] != '\0' ? lerr : err_str(r));
		goto out;
	}
	if ((r = ledger_mark_started(ledger, signer_public(signer), listen)) !=
	    0) {
		fprintf(stderr,
		    "jitcad serve: the ledger %s is not writable: %s%s%s\n",
		    cfg->ledger_path, err_str(r),
		    ledger_errmsg(ledger)[0] != '\0' ? ": " : "",
		    ledger_errmsg(ledger));
		goto out;
	}

	if ((r = api_init(&api, cfg, ledger, signer)) != 0) {
		fprintf(stderr, "jitcad serve: %s\n", err_str(r));
		goto out;
	}
	cfg = NULL; /* api owns it now */
	api_ok = 1;

	if ((r = http_listen(listen, &fd, &port, herr)) != 0) {
		fprintf(stderr, "jitcad serve: %s\n", herr);
		goto out;
	}
	memset(&hc, 0, sizeof(hc));
	hc.listen_fd = fd;
	hc.tls_cert_pem = tls_cert;
	hc.tls_key_pem = tls_key;
	hc.routes = api_routes(&hc.nroutes);
	hc.app = &api;
	if ((r = http_server_start(&srv, &hc, herr)) != 0) {
		close(fd);
		fprintf(stderr, "jitcad serve: %s\n", herr);
		goto out;
	}
	{
		const char *colon = strrchr(listen, ':');

		fprintf(stderr, "listening on %s://%.*s:%d\n",
		    tls_cert != NULL ? "https" : "http", (int)(colon - listen),
		    listen, port);
	}

	for (;;) {
		sig = sigtimedwait(&set, &si, &tick);
		if (sig == SIGHUP) {
			reload(&api, state_dir);
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "jitcad serve: sigtimedwait: %s\n",
			    strerror(errno));
			break;
		}
		if (sig < 0 && errno == EAGAIN &&
		    (r = api_tick(&api, &expired)) != 0)
			fprintf(stderr, "jitcad serve: expiring requests: %s\n",
			    err_str(r));
	}
	fprintf(stderr, "jitcad serve: shutting down\n");
	http_server_quiesce(srv);
	if ((left = http_server_drain(srv, SERVE_DRAIN_MS)) > 0)
		fprintf(stderr,
		    "jitcad serve: %u requests still running after %d s\n",
		    left, SERVE_DRAIN_MS / 1000);
	ret = 0;
out:
	http_server_stop(srv);
	if (api_ok)
		api_free(&api);
	ledger_close(ledger);
	signer_stop(signer);
	config_free(cfg);
	free(tls_cert);
	free_secret(tls_key);
	pthread_sigmask(SIG_SETMASK, &oldset, NULL);
	return ret;
}
