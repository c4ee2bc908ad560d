/*
 * serve.c: `jitcad serve`, the CA service's process: options, startup in
 * the order docs/key-custody.md describes, signals, shutdown, and the
 * supervision of the signer process.
 *
 * Startup: load jitca.json; block SIGTERM/SIGINT/SIGHUP/SIGCHLD (so
 * every thread created later inherits the mask and only the main thread
 * takes them, in sigtimedwait); start the signer process FIRST (it alone
 * opens the CA key and refuses a group/world-readable file; started as
 * root it runs as the key's owner); as root with --user, switch to that
 * user and refuse to go on if it can open the key; open the ledger and
 * prove it writable by committing a ca.started event; bind the listening
 * socket; start the notification sinks' delivery threads (web/notify.c,
 * which read the ledger and never hold up a request; an unreadable secret
 * file stops the start); start the HTTP daemon (web/http.c) with the
 * API's routes (web/api.c); print "listening on http(s)://HOST:PORT".
 *
 * Startup and every reload also refuse a configuration whose literal
 * principal is the name of an existing, enabled user (ca/users.h
 * user_config_check()), naming both.
 *
 * Then the main thread waits for signals: SIGHUP reloads jitca.json (an
 * invalid file keeps the old configuration and says why) and tells the
 * signer to re-read it too (the sinks keep theirs until the next start),
 * SIGTERM and SIGINT stop accepting, let in-flight requests finish, and exit 0.
 * Every 10 s it expires pending requests past their request_ttl.  At least
 * every second (and at once on SIGCHLD) superv_step() looks after the signer:
 * reaps a dead child, logs why, marks the service degraded for /v1/health,
 * restarts it with backoff, and gives up (exit 1) when restarts keep failing
 * (supervise.c).
 *
 * It does not implement endpoints or HTTP details.  This is a main
 * program: it prints to stderr and returns exit statuses.
 */
#define _GNU_SOURCE /* setresuid, setresgid */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ca/config.h"
#include "ca/ledger.h"
#include "ca/outbox.h"
#include "ca/signpolicy.h"
#include "ca/users.h"
#include "signer/base/cli.h"
#include "signer/base/fileio.h"
#include "signer/p11.h"
#include "signer/pubkey.h"
#include "signer/signer.h"
#include "web/api.h"
#include "web/http.h"
#include "web/notify.h"
#include "web/jitcad/admin.h"
#include "web/jitcad/cli.h"
#include "web/jitcad/serve.h"
#include "web/jitcad/supervise.h"

#define SERVE_TLS_MAX (1024u * 1024)
#define SERVE_DRAIN_MS 30000
#define SERVE_TICK_S 10
/* The main thread looks at the signer at least this often. */
#define SERVE_WAKE_MS 1000

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

static int
strv_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

static int
opts_equal(const struct cert_option *a, size_t na, const struct cert_option *b,
    size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) != 0 ||
		    (a[i].value == NULL) != (b[i].value == NULL) ||
		    (a[i].value != NULL && strcmp(a[i].value, b[i].value) != 0))
			return 0;
	return 1;
}

static int
role_equal(const struct role *a, const struct role *b)
{
	return strv_equal(a->principals, a->nprincipals, b->principals,
		   b->nprincipals) &&
	    a->default_ttl == b->default_ttl && a->max_ttl == b->max_ttl &&
	    strv_equal(
		a->requesters, a->nrequesters, b->requesters, b->nrequesters) &&
	    strv_equal(
		a->approvers, a->napprovers, b->approvers, b->napprovers) &&
	    a->approvals_required == b->approvals_required &&
	    a->break_glass_ttl == b->break_glass_ttl &&
	    opts_equal(a->critical, a->ncritical, b->critical, b->ncritical) &&
	    opts_equal(
		a->extensions, a->nextensions, b->extensions, b->nextensions);
}

/* Append "name" to one of the lists of what a reload changed. */
static void
diff_add(char *buf, size_t len, const char *name)
{
	size_t o = strlen(buf);

	if (o + strlen(name) + 3 < len)
		snprintf(buf + o, len - o, "%s%s", o != 0 ? ", " : "", name);
}

/* "roles added: a; removed: b; changed: c" (or "roles unchanged"). */
static void
roles_diff(
    char *out, size_t len, const struct config *oc, const struct config *nc)
{
	char added[512] = "", removed[512] = "", changed[512] = "";
	const struct role *r;
	size_t i;

	for (i = 0; i < nc->nroles; i++) {
		if ((r = config_role(oc, nc->roles[i].name)) == NULL)
			diff_add(added, sizeof(added), nc->roles[i].name);
		else if (!role_equal(r, &nc->roles[i]))
			diff_add(changed, sizeof(changed), nc->roles[i].name);
	}
	for (i = 0; i < oc->nroles; i++)
		if (config_role(nc, oc->roles[i].name) == NULL)
			diff_add(removed, sizeof(removed), oc->roles[i].name);
	if (added[0] == '\0' && removed[0] == '\0' && changed[0] == '\0') {
		snprintf(out, len, "roles unchanged");
		return;
	}
	snprintf(out, len, "roles added: %s; removed: %s; changed: %s",
	    added[0] != '\0' ? added : "none",
	    removed[0] != '\0' ? removed : "none",
	    changed[0] != '\0' ? changed : "none");
}

static int
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* 1 when the sinks and public_url are as they were (the delivery
 * threads keep the configuration they started with). */
static int
notify_config_same(const struct config *a, const struct config *b)
{
	size_t i, j;

	if (a->nnotify != b->nnotify || !str_same(a->public_url, b->public_url))
		return 0;
	for (i = 0; i < a->nnotify; i++) {
		const struct config_notify *x = &a->notify[i],
					   *y = &b->notify[i];

		if (!str_same(x->name, y->name) || !str_same(x->url, y->url) ||
		    !str_same(x->secret_file, y->secret_file) ||
		    x->format != y->format || x->events != y->events ||
		    x->timeout != y->timeout ||
		    x->max_backoff != y->max_backoff ||
		    x->alert_after != y->alert_after || x->nroles != y->nroles)
			return 0;
		for (j = 0; j < x->nroles; j++)
			if (!str_same(x->roles[j], y->roles[j]))
				return 0;
	}
	return 1;
}

static void
reload(struct api *a, const char *state_dir)
{
	char what[1700];
	struct config *nc = NULL;
	char err[CONFIG_ERR_LEN] = "";
	const struct config *oc = a->cfg;
	int r;

	if (config_load(&nc, state_dir, err) != 0) {
		fprintf(stderr,
		    "jitcad serve: SIGHUP: keeping the old configuration: "
		    "%s\n",
		    err[0] != '\0' ? err : "cannot load jitca.json");
		return;
	}
	/* A new literal principal must not be an existing user's name. */
	ledger_read_begin(a->ledger);
	r = user_config_check(a->ledger, nc, err, sizeof(err));
	ledger_read_end(a->ledger);
	if (r != 0) {
		fprintf(stderr,
		    "jitcad serve: SIGHUP: keeping the old configuration: "
		    "%s\n",
		    r == ERR_NAME_IS_PRINCIPAL ? err : err_str(r));
		config_free(nc);
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
	if (!notify_config_same(oc, nc))
		fprintf(stderr,
		    "jitcad serve: SIGHUP: changes to \"notify\" and "
		    "\"public_url\" take effect at the next start\n");
	/* The signer re-reads the file itself (its own copy of the roles)
	 * before the service uses the new one. */
	if ((r = signer_reload(a->signer)) != 0)
		fprintf(stderr,
		    "jitcad serve: SIGHUP: the signer keeps its old "
		    "configuration: %s\n",
		    err_str(r));
	roles_diff(what, sizeof(what), oc, nc);
	api_config_swap(a, nc);
	fprintf(stderr, "jitcad serve: configuration reloaded: %s\n", what);
}

/* A checkpoint (forced at start); a failure is said, not fatal: the
 * next one may succeed (a signer restarting, the ledger busy). */
static void
serve_checkpoint(struct api *a, int force)
{
	int r, made = 0;

	r = api_checkpoint(a, force, &made);
	if (r == ERR_SIGNER_NO_KEY) {
		if (force)
			fprintf(stderr,
			    "jitcad serve: no ledger key: no checkpoints "
			    "(jitcad init --add-keys makes one)\n");
		return;
	}
	if (r != 0)
		fprintf(stderr, "jitcad serve: checkpoint: %s\n", err_str(r));
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
	const char *key_f = cli_str(p, "tls-key");
	const char *user_opt = cli_str(p, "user"), *state_dir, *listen;
	char *tls_cert = NULL, *tls_key = NULL;
	char cerr[CONFIG_ERR_LEN] = "", herr[HTTP_ERR_LEN] = "",
	     lerr[LEDGER_ERR_LEN] = "";
	struct config *cfg = NULL;
	struct signer *signer = NULL;
	struct ledger *ledger = NULL;
	struct http_server *srv = NULL;
	struct notify *notify = NULL;
	struct notify_source nsrc;
	char nerr[NOTIFY_ERR_LEN] = "";
	struct api api;
	struct http_config hc;
	struct signer_params sp;
	struct superv sv;
	struct passwd *pw;
	uid_t svc_uid = 0;
	gid_t svc_gid = 0;
	sigset_t set, oldset;
	siginfo_t si;
	struct timespec wake;
	long long next_tick, now, next_cp, cp_every;
	int r, fd = -1, port = 0, ret = 1, api_ok = 0, sig, gave_up = 0;
	size_t expired;
	unsigned left;

	if ((cert_f == NULL) != (key_f == NULL))
		return cli_usage_error(
		    p, stderr, "--tls-cert and --tls-key go together");
	state_dir = admin_state_dir(state_opt);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* A dead signer wakes the main thread at once (superv_step). */
	sigaddset(&set, SIGCHLD);
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
	memset(&sp, 0, sizeof(sp));
	sp.key_path = cfg->ca_key_file;
	sp.pkcs11_module = cfg->pkcs11_module;
	sp.pin_file = cfg->pin_file;
	sp.pkcs11_allow_network = cfg->pkcs11_allow_network;
	/* A state directory from before the host CA and ledger keys runs
	 * without them, and says how to add them. */
	if (admin_key_present(cfg->host_key_file))
		sp.host_key_path = cfg->host_key_file;
	else
		fprintf(stderr,
		    "jitcad serve: no host CA key %s: host certificates are "
		    "off (jitcad init --add-keys makes it)\n",
		    cfg->host_key_file);
	if (admin_key_present(cfg->ledger_key_file))
		sp.ledger_key_path = cfg->ledger_key_file;
	else
		fprintf(stderr,
		    "jitcad serve: no ledger key %s: checkpoints and KRL "
		    "signatures are off (jitcad init --add-keys makes it)\n",
		    cfg->ledger_key_file);
	sp.policy = &signpolicy_ops;
	sp.policy_arg = cfg->state_dir;
	if (user_opt != NULL) {
		if ((pw = getpwnam(user_opt)) == NULL) {
			fprintf(stderr,
			    "jitcad serve: --user %s: no such user\n",
			    user_opt);
			goto out;
		}
		svc_uid = pw->pw_uid;
		svc_gid = pw->pw_gid;
		if (geteuid() != 0 && geteuid() != svc_uid) {
			fprintf(stderr,
			    "jitcad serve: --user %s: switching users needs "
			    "root\n",
			    user_opt);
			goto out;
		}
	}
	if (geteuid() == 0) {
		struct stat kst;
		/* A key in a token: the signer runs as the owner of its PIN
		 * file. */
		const char *owned =
		    p11_uri_is(cfg->ca_key_file) && cfg->pin_file != NULL
		    ? cfg->pin_file
		    : cfg->ca_key_file;

		/* The signer runs as the key's owner (jitcad init
		 * --ca-user), the service as --user. */
		if (stat(owned, &kst) != 0) {
			fprintf(stderr, "jitcad serve: CA key %s: %s\n", owned,
			    strerror(errno));
			goto out;
		}
		sp.run_as = 1;
		sp.uid = kst.st_uid;
		sp.gid = (pw = getpwuid(kst.st_uid)) != NULL ? pw->pw_gid
							     : kst.st_gid;
		if (user_opt == NULL)
			fprintf(stderr,
			    "jitcad serve: warning: running as root without "
			    "--user: the service process can read the CA "
			    "key\n");
		else if (svc_uid == kst.st_uid || svc_uid == 0) {
			fprintf(stderr,
			    "jitcad serve: --user %s: the service must not "
			    "run as %s, which %s\n",
			    user_opt,
			    svc_uid == 0 ? "root" : "the CA key's owner",
			    svc_uid == 0 ? "can read any file"
					 : "can read the key");
			goto out;
		}
	}
	if ((r = signer_start(&signer, &sp)) != 0) {
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
	if (user_opt != NULL && geteuid() == 0) {
		const char *const kf[] = {cfg->ca_key_file, sp.host_key_path,
		    sp.ledger_key_path, cfg->pin_file};
		size_t ki;
		int kfd;

		if (setgroups(0, NULL) != 0 ||
		    setresgid(svc_gid, svc_gid, svc_gid) != 0 ||
		    setresuid(svc_uid, svc_uid, svc_uid) != 0 ||
		    getuid() != svc_uid || geteuid() != svc_uid) {
			fprintf(stderr,
			    "jitcad serve: cannot switch to user %s: %s\n",
			    user_opt, strerror(errno));
			goto out;
		}
		/* Invariant: the service's uid cannot read any key. */
		for (ki = 0; ki < sizeof(kf) / sizeof(kf[0]); ki++) {
			if (kf[ki] == NULL ||
			    (kfd = open(kf[ki], O_RDONLY | O_CLOEXEC)) < 0)
				continue;
			close(kfd);
			fprintf(stderr,
			    "jitcad serve: user %s can read the key %s; "
			    "refusing to start (jitcad init --ca-user)\n",
			    user_opt, kf[ki]);
			goto out;
		}
	}

	if ((r = ledger_open_err(&ledger, cfg->ledger_path, 0, lerr)) != 0) {
		fprintf(stderr, "jitcad serve: %s the ledger %s: %s\n",
		    strstr(lerr, "readonly") != NULL ? "cannot write"
						     : "cannot open",
		    cfg->ledger_path, lerr[0] != '\0' ? lerr : err_str(r));
		goto out;
	}
	if ((r = user_config_check(ledger, cfg, cerr, sizeof(cerr))) != 0) {
		fprintf(stderr, "jitcad serve: %s\n",
		    r == ERR_NAME_IS_PRINCIPAL ? cerr : err_str(r));
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

	/* Notifications: a delivery thread per sink, reading the ledger
	 * after each sink's cursor (web/notify.h).  An unreadable secret
	 * file stops the start, as `jitcad config check` says. */
	notify_source_ledger(&nsrc, ledger);
	if ((r = notify_start(&notify, api.cfg, &nsrc, nerr)) != 0) {
		fprintf(stderr, "jitcad serve: %s\n",
		    nerr[0] != '\0' ? nerr : err_str(r));
		goto out;
	}
	atomic_store(&api.notify, notify);

	if ((r = http_listen(listen, &fd, &port, herr)) != 0) {
		fprintf(stderr, "jitcad serve: %s\n", herr);
		goto out;
	}
	memset(&hc, 0, sizeof(hc));
	hc.listen_fd = fd;
	hc.log = stderr;
	hc.tls_cert_pem = tls_cert;
	hc.tls_key_pem = tls_key;
	hc.trusted_proxies = (const char *const *)api.cfg->trusted_proxies;
	hc.ntrusted_proxies = api.cfg->ntrusted_proxies;
	hc.threads = api.cfg->server_threads;
	hc.per_ip_limit = api.cfg->server_connections_per_client;
	hc.routes = api_routes(&hc.nroutes);
	hc.app = &api;
	if ((r = http_server_start(&srv, &hc, herr)) != 0) {
		close(fd);
		fprintf(stderr, "jitcad serve: %s\n", herr);
		goto out;
	}
	/* A checkpoint at every start, made before "listening on" is said:
	 * whoever waits for that line finds it in the ledger already. */
	serve_checkpoint(&api, 1);
	{
		const char *colon = strrchr(listen, ':');

		fprintf(stderr, "listening on %s://%.*s:%d\n",
		    tls_cert != NULL ? "https" : "http", (int)(colon - listen),
		    listen, port);
	}

	memset(&sv, 0, sizeof(sv));
	sv.started_ms = mono_ms();
	next_tick = mono_ms() + SERVE_TICK_S * 1000;
	/* Then at most one checkpoint per ledger.checkpoint_interval while
	 * events arrive. */
	cp_every = (long long)api.cfg->checkpoint_interval * 1000;
	if (cp_every < 1000)
		cp_every = 1000;
	next_cp = mono_ms() + cp_every;
	for (;;) {
		long long ms = SERVE_WAKE_MS;

		now = mono_ms();
		if (sv.down && sv.next_ms - now < ms)
			ms = sv.next_ms > now ? sv.next_ms - now : 0;
		wake.tv_sec = (time_t)(ms / 1000);
		wake.tv_nsec = (long)(ms % 1000) * 1000000L;
		sig = sigtimedwait(&set, &si, &wake);
		if (sig == SIGHUP)
			reload(&api, state_dir);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "jitcad serve: sigtimedwait: %s\n",
			    strerror(errno));
			break;
		}
		if (superv_step(&sv, signer, &api) != 0) {
			gave_up = 1;
			break;
		}
		if ((now = mono_ms()) >= next_tick) {
			next_tick = now + SERVE_TICK_S * 1000;
			if ((r = api_tick(&api, &expired)) != 0)
				fprintf(stderr,
				    "jitcad serve: expiring requests: %s\n",
				    err_str(r));
		}
		if ((now = mono_ms()) >= next_cp) {
			next_cp = now + cp_every;
			serve_checkpoint(&api, 0);
		}
	}
	fprintf(stderr, "jitcad serve: shutting down\n");
	http_server_quiesce(srv);
	if ((left = http_server_drain(srv, SERVE_DRAIN_MS)) > 0)
		fprintf(stderr,
		    "jitcad serve: %u requests still running after %d s\n",
		    left, SERVE_DRAIN_MS / 1000);
	ret = gave_up ? 1 : 0;
out:
	http_server_stop(srv);
	if (api_ok)
		atomic_store(&api.notify, NULL);
	notify_stop(notify);
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
