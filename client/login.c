/*
 * login.c: `jitca login`: pins the CA key on first use, asks for a
 * certificate for a role, waits (with Ctrl-C and --wait) until it is
 * approved, checks it (client/ccheck.h) and adds it with its ephemeral
 * key (client/ephkey.h) to ssh-agent (client/agent.h), or writes
 * ~/.ssh/jitca/ROLE with --no-agent.  Shared helpers: common.c.
 */
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "client/agent.h"
#include "client/capi.h"
#include "client/ccheck.h"
#include "client/cconf.h"
#include "client/cshow.h"
#include "client/ephkey.h"
#include "client/jitca.h"
#include "signer/base/cli.h"
#include "signer/base/num.h"
#include "signer/cert.h"
#include "signer/pubkey.h"

#define DEFAULT_WAIT (15 * 60)
#define PLAIN_STATUS_EVERY 30 /* seconds between non-tty status lines */

static volatile sig_atomic_t interrupted;

/* ---- the CA key pin ---- */

/*
 * GET /v1/ca and compare with the key pinned for this server
 * (~/.config/jitca/ca/SERVER.pub, ca_pin_path()); write the pin on first
 * use.  A pin from before there was one per server (~/.config/jitca/
 * ca.pub) that matches is moved to this server's file, so a second
 * server later pins its own key.  *ca is the pinned key (new).  Returns
 * an exit status.
 */
static int
ca_pin(struct capi *api, const struct cconf *cf, struct pubkey **ca)
{
	struct pubkey *served = NULL, *pinned = NULL, *legacy = NULL;
	json_t *rep = NULL;
	char *path = NULL, *text = NULL, *line = NULL, *detail = NULL;
	char *dir = NULL, *old = NULL, *otext = NULL;
	char fp1[PUBKEY_FP_LEN], fp2[PUBKEY_FP_LEN];
	const char *pk;
	int r, ex = JITCA_EXIT_FAIL;

	*ca = NULL;
	if ((r = capi_call(
		 api, "GET", "/v1/ca", NULL, 0, NULL, &rep, &detail)) != 0) {
		ex = api_fail("GET /v1/ca", r, detail);
		goto out;
	}
	pk = json_string_value(json_object_get(rep, "public_key"));
	if (pk == NULL || pubkey_from_line(&served, pk, strlen(pk)) != 0 ||
	    pubkey_fingerprint(fp1, served) != 0) {
		msg("GET /v1/ca: the reply holds no usable public key");
		ex = JITCA_EXIT_BADCERT;
		goto out;
	}
	if ((path = ca_pin_path(cf)) == NULL ||
	    (dir = cconf_fmt("%s/ca", cf->dir)) == NULL ||
	    (old = cconf_fmt("%s/ca.pub", cf->dir)) == NULL)
		goto out;
	r = cconf_read_file(&text, NULL, path, PUBKEY_MAX_LINE);
	if (r == ERR_NOT_FOUND &&
	    cconf_read_file(&otext, NULL, old, PUBKEY_MAX_LINE) == 0) {
		if (pubkey_from_line(&legacy, otext, strlen(otext)) != 0 ||
		    !pubkey_equal(served, legacy)) {
			msg("the server's CA key %s differs from the key "
			    "pinned in %s; refusing. If that pin is another "
			    "server's, or the CA key was replaced on purpose, "
			    "delete that file.",
			    fp1, old);
			ex = JITCA_EXIT_BADCERT;
			goto out;
		}
		/* This server's pin from now on. */
		if (cconf_mkdirs(dir, 0700) != 0 ||
		    cconf_write_atomic(path, otext, strlen(otext), 0644) != 0 ||
		    unlink(old) != 0) {
			msg("cannot move %s to %s: %s", old, path,
			    strerror(errno));
			goto out;
		}
		*ca = served;
		served = NULL;
		ex = 0;
		goto out;
	}
	if (r == ERR_NOT_FOUND) {
		if (pubkey_to_line(&line, served, "jitca-ca") != 0)
			goto out;
		text = cconf_fmt("%s\n", line);
		if (text == NULL || cconf_mkdirs(dir, 0700) != 0 ||
		    cconf_write_atomic(path, text, strlen(text), 0644) != 0) {
			msg("cannot write %s: %s", path, strerror(errno));
			goto out;
		}
		msg("pinned the CA key %s of %s in %s (first use)", fp1,
		    cf->server, path);
		*ca = served;
		served = NULL;
		ex = 0;
		goto out;
	}
	if (r != 0 || pubkey_from_line(&pinned, text, strlen(text)) != 0) {
		msg("%s: not a public key line; delete it to pin the "
		    "server's key again",
		    path);
		ex = JITCA_EXIT_BADCERT;
		goto out;
	}
	if (!pubkey_equal(served, pinned)) {
		if (pubkey_fingerprint(fp2, pinned) != 0)
			goto out;
		msg("the server's CA key %s differs from the key pinned in "
		    "%s (%s); refusing. If the CA key was replaced on "
		    "purpose, delete that file.",
		    fp1, path, fp2);
		ex = JITCA_EXIT_BADCERT;
		goto out;
	}
	*ca = pinned;
	pinned = NULL;
	ex = 0;
out:
	pubkey_free(served);
	pubkey_free(pinned);
	pubkey_free(legacy);
	json_decref(rep);
	free(path);
	free(dir);
	free(old);
	free(text);
	free(otext);
	free(line);
	free(detail);
	return ex;
}

/* ---- login ---- */

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: let nanosleep return */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {
	    (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	if (!interrupted)
		(void)nanosleep(&ts, NULL);
}

/* Approver groups, when the server says (request "approver_groups" or
 * "approvers", else the role from GET /v1/roles). */
static void
approvers_text(char *buf, size_t len, struct capi *api, json_t *req)
{
	json_t *g = json_object_get(req, "approver_groups"), *roles = NULL;
	json_t *v;
	size_t i;
	const char *role = jstr(req, "role");

	if (!json_is_array(g))
		g = json_object_get(req, "approvers");
	if (!json_is_array(g) &&
	    capi_call(api, "GET", "/v1/roles", NULL, 1, NULL, &roles, NULL) ==
		0) {
		json_array_foreach(json_object_get(roles, "roles"), i, v)
		{
			if (strcmp(jstr(v, "name"), role) == 0)
				g = json_object_get(v, "approvers");
		}
	}
	if (json_is_array(g) && json_array_size(g) > 0) {
		char tmp[256], groups[256];

		principals_join(tmp, sizeof(tmp), g);
		clean_copy(groups, sizeof(groups), tmp);
		snprintf(buf, len, "members of %s", groups);
	} else
		snprintf(buf, len, "the approvers of role %.64s", role);
	json_decref(roles);
}

/* An error worth retrying while waiting: the server restarting, a
 * network blip, an overloaded or degraded server. */
static int
transient(int r)
{
	return r == ERR_UNREACHABLE || r == ERR_BUSY || r == ERR_BAD_RESPONSE ||
	    r == ERR_INTERNAL;
}

/*
 * The waiting login gave up (Ctrl-C, --wait ran out, an error): withdraw
 * the request (POST /v1/requests/ID/withdraw), so nobody approves a key
 * that no longer exists.  A few quick tries; says what happened.
 */
static void
withdraw_on_exit(struct capi *api, long long id, const char *exp)
{
	char path[80], *detail = NULL;
	json_t *rep = NULL;
	int r = ERR_INTERNAL, i;

	snprintf(path, sizeof(path), "/v1/requests/%lld/withdraw", id);
	for (i = 0; i < 3; i++) {
		free(detail);
		detail = NULL;
		r = capi_call(api, "POST", path, NULL, 1, NULL, &rep, &detail);
		if (r == 0 || !transient(r))
			break;
		(void)usleep(300 * 1000);
	}
	if (r == 0)
		msg("withdrew request %lld: nobody can approve it now", id);
	else {
		fprintf(stderr, "jitca: could not withdraw request %lld (", id);
		fput_clean(stderr,
		    detail != NULL && *detail != '\0' ? detail : err_str(r),
		    200);
		fprintf(stderr,
		    "); it stays pending until %s: run `jitca cancel %lld`\n",
		    exp, id);
	}
	json_decref(rep);
	free(detail);
}

/*
 * Poll GET /v1/requests/ID until the request leaves "pending", the wait
 * runs out or the user interrupts.  Transient errors (transient()) are
 * retried with backoff (1s, 2s, 4s ... 15s) until the wait runs out; any
 * other error ends the wait.  When it ends without a certificate while
 * the request is still pending, the request is withdrawn.  *req is
 * replaced by the latest object.  Returns 0 when issued, else an exit
 * status (message shown).
 */
static int
wait_for_issue(struct capi *api, json_t **req, uint64_t wait)
{
	char path[64], who[200], el[32], exp[64], *detail = NULL, rname[80];
	const char *st;
	json_t *cur = NULL;
	uint64_t start = now_s(), t, last_plain = 0, left;
	long long id = jint(*req, "id");
	size_t seen = napprovals(*req), fails = 0;
	int tty = isatty(STDERR_FILENO), r, ex, gave_up = 0, down = 0;
	unsigned interval = 500, backoff = 0;

	snprintf(path, sizeof(path), "/v1/requests/%lld", id);
	approvers_text(who, sizeof(who), api, *req);
	fmt_local(exp, sizeof(exp), (uint64_t)jint(*req, "expires"));
	clean_copy(rname, sizeof(rname), jstr(*req, "role"));
	fprintf(stderr,
	    "jitca: request %lld for role %s is pending: needs %lld "
	    "approval(s) from %s (request expires %s)\n",
	    id, rname, jint(*req, "approvals_required"), who, exp);
	if (!tty)
		last_plain = start;
	for (;;) {
		st = jstr(*req, "state");
		if (strcmp(st, "issued") == 0) {
			ex = 0;
			break;
		}
		t = now_s();
		if (strcmp(st, "pending") != 0 || interrupted ||
		    t - start >= wait) {
			ex = -1;
			break;
		}
		cconf_format_duration(el, sizeof(el), t - start);
		if (down) {
			/* The retry message below says it. */
		} else if (tty)
			fprintf(stderr,
			    "\r\033[Krequest %lld: waiting %s, %zu/%lld "
			    "approvals (%.40s); Ctrl-C stops",
			    id, el, napprovals(*req),
			    jint(*req, "approvals_required"), who);
		else if (t - last_plain >= PLAIN_STATUS_EVERY ||
		    napprovals(*req) != seen) {
			fprintf(stderr,
			    "jitca: still waiting for request %lld: %zu/%lld "
			    "approvals, waited %s\n",
			    id, napprovals(*req),
			    jint(*req, "approvals_required"), el);
			last_plain = t;
		}
		seen = napprovals(*req);
		fflush(stderr);
		left = (wait - (t - start)) * 1000;
		sleep_ms(backoff != 0
			? (left < backoff ? (unsigned)left : backoff)
			: interval);
		if (interrupted)
			continue;
		if (t - start > 30)
			interval = 2000;
		r = capi_call(api, "GET", path, NULL, 1, NULL, &cur, &detail);
		if (r == 0) {
			json_decref(*req);
			*req = cur;
			cur = NULL;
			if (down)
				msg("the server answers again; still waiting "
				    "for request %lld",
				    id);
			fails = 0;
			down = 0;
			backoff = 0;
		} else if (transient(r)) {
			fails++;
			backoff = 1000u << (fails < 5 ? fails - 1 : 4);
			if (backoff > 15000)
				backoff = 15000;
			if (!down) {
				if (tty)
					fputc('\n', stderr);
				fprintf(
				    stderr, "jitca: cannot reach the server (");
				fput_clean(stderr,
				    detail != NULL && *detail != '\0'
					? detail
					: err_str(r),
				    200);
				fputs("); retrying until --wait runs out\n",
				    stderr);
			}
			down = 1;
		} else {
			if (tty)
				fputc('\n', stderr);
			ex = api_fail("polling the request", r, detail);
			gave_up = 1;
			break;
		}
		free(detail);
		detail = NULL;
	}
	free(detail);
	if (tty && !down && !gave_up)
		fputs("\r\033[K", stderr);
	else if (tty && down)
		fputc('\n', stderr);
	if (ex == 0)
		return 0;
	st = jstr(*req, "state");
	if (gave_up) {
		withdraw_on_exit(api, id, exp);
		return ex;
	}
	if (strcmp(st, "denied") == 0) {
		json_t *d = json_object_get(*req, "denied");

		fprintf(stderr, "jitca: request %lld was denied", id);
		if (d != NULL) {
			fputs(" by ", stderr);
			fput_clean(stderr, jstr(d, "who"), 64);
			if (*jstr(d, "comment") != '\0') {
				fputs(": ", stderr);
				fput_clean(stderr, jstr(d, "comment"), 300);
			}
		}
		fputc('\n', stderr);
		return JITCA_EXIT_DENIED;
	}
	if (strcmp(st, "expired") == 0) {
		msg("request %lld expired before it was approved", id);
		return JITCA_EXIT_EXPIRED;
	}
	if (strcmp(st, "pending") != 0) {
		msg("request %lld is %s; no certificate", id, st);
		return JITCA_EXIT_FAIL;
	}
	if (interrupted) {
		msg("interrupted while waiting for request %lld", id);
		withdraw_on_exit(api, id, exp);
		return JITCA_EXIT_INTERRUPTED;
	}
	cconf_format_duration(el, sizeof(el), wait);
	msg("timed out after %s waiting for approval of request %lld", el, id);
	withdraw_on_exit(api, id, exp);
	return JITCA_EXIT_TIMEOUT;
}

/* ---- what is already held ---- */

/* The longest-lived valid certificate for role in the agent or
 * ~/.ssh/jitca: *left seconds, *serial, where ("ssh-agent", "files");
 * 0 when there is none. */
static int
held_cert(const struct cconf *cf, const char *role, uint64_t *left,
    uint64_t *serial, const char **where)
{
	struct agent *ag = NULL;
	struct agent_id *ids = NULL;
	struct cert *c = NULL;
	char *prefix = NULL, *path = NULL, *text = NULL;
	size_t n = 0, i;
	uint64_t now = now_s();
	int found = 0;

	*left = 0;
	if ((prefix = cconf_fmt(COMMENT_PREFIX "%s:", role)) == NULL)
		goto out;
	if (agent_connect(&ag, NULL) == 0 && agent_list(ag, &ids, &n) == 0) {
		for (i = 0; i < n; i++) {
			if (strncmp(ids[i].comment, prefix, strlen(prefix)) !=
				0 ||
			    cert_from_blob(&c, ids[i].blob, ids[i].blob_len) !=
				0)
				continue;
			if (c->valid_before > now &&
			    c->valid_before - now > *left) {
				*left = c->valid_before - now;
				*serial = c->serial;
				*where = "ssh-agent";
				found = 1;
			}
			cert_free(c);
			c = NULL;
		}
	}
	if ((path = cconf_fmt("%s/.ssh/jitca/%s-cert.pub", cf->home, role)) !=
		NULL &&
	    cconf_read_file(&text, NULL, path, PUBKEY_MAX_LINE) == 0 &&
	    cert_from_line(&c, text, strlen(text)) == 0 &&
	    c->valid_before > now && c->valid_before - now > *left) {
		*left = c->valid_before - now;
		*serial = c->serial;
		*where = "files";
		found = 1;
	}
out:
	cert_free(c);
	agent_ids_free(ids, n);
	agent_close(ag);
	free(prefix);
	free(path);
	free(text);
	return found;
}

/* ---- what was decided ---- */

/* 1 when the address text a (IPv4 or IPv6) is inside CIDR (or equal to
 * an address without a mask). */
static int
cidr_match(const char *cidr, const struct sockaddr *sa)
{
	unsigned char want[16], have[16];
	char net[INET6_ADDRSTRLEN + 8], *slash;
	uint64_t bits;
	int fam, len, i;

	snprintf(net, sizeof(net), "%s", cidr);
	if ((slash = strchr(net, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, net, want) == 1) {
		fam = AF_INET;
		len = 4;
	} else if (inet_pton(AF_INET6, net, want) == 1) {
		fam = AF_INET6;
		len = 16;
	} else
		return 0;
	if (sa == NULL || sa->sa_family != fam)
		return 0;
	if (fam == AF_INET)
		memcpy(have,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
	else
		memcpy(have,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
	bits = (uint64_t)len * 8;
	if (slash != NULL &&
	    (num_parse_u64(slash, (uint64_t)len * 8, &bits) != 0))
		return 0;
	for (i = 0; i < len && bits > 0; i++, bits = bits > 8 ? bits - 8 : 0) {
		unsigned char m =
		    bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));

		if ((want[i] & m) != (have[i] & m))
			return 0;
	}
	return 1;
}

/*
 * The certificate's critical options, and a warning up front when it
 * holds a source-address that none of this machine's addresses is in:
 * sshd would refuse it with nothing but "Permission denied (publickey)".
 */
static void
print_options(const struct cert *cert)
{
	struct ifaddrs *ifs = NULL, *ifa;
	char tok[128], addr[INET6_ADDRSTRLEN], mine[512];
	const char *v, *comma;
	size_t i, n, used;
	int match;

	for (i = 0; i < cert->ncritical; i++) {
		printf("%s%s%s%s", i == 0 ? "options:     " : ", ",
		    cert->critical[i].name,
		    cert->critical[i].value != NULL ? "=" : "",
		    cert->critical[i].value != NULL ? cert->critical[i].value
						    : "");
		if (i + 1 == cert->ncritical)
			putchar('\n');
	}
	for (i = 0; i < cert->ncritical; i++) {
		if (strcmp(cert->critical[i].name, "source-address") != 0 ||
		    cert->critical[i].value == NULL)
			continue;
		if (getifaddrs(&ifs) != 0)
			return;
		match = 0;
		mine[0] = '\0';
		used = 0;
		for (ifa = ifs; ifa != NULL && !match; ifa = ifa->ifa_next) {
			if (ifa->ifa_addr == NULL ||
			    (ifa->ifa_addr->sa_family != AF_INET &&
				ifa->ifa_addr->sa_family != AF_INET6))
				continue;
			/* The value is a comma-separated list of CIDRs. */
			for (v = cert->critical[i].value; *v != '\0' && !match;
			     v = *comma != '\0' ? comma + 1 : comma) {
				comma = v + strcspn(v, ",");
				n = (size_t)(comma - v);
				if (n >= sizeof(tok))
					continue;
				memcpy(tok, v, n);
				tok[n] = '\0';
				match = cidr_match(tok, ifa->ifa_addr);
			}
			if (getnameinfo(ifa->ifa_addr,
				ifa->ifa_addr->sa_family == AF_INET
				    ? sizeof(struct sockaddr_in)
				    : sizeof(struct sockaddr_in6),
				addr, sizeof(addr), NULL, 0,
				NI_NUMERICHOST) == 0 &&
			    used + strlen(addr) + 3 < sizeof(mine))
				used += (size_t)snprintf(mine + used,
				    sizeof(mine) - used, "%s%s",
				    used != 0 ? ", " : "", addr);
		}
		freeifaddrs(ifs);
		if (!match)
			msg("warning: this certificate works only from %s "
			    "(source-address), and none of this machine's "
			    "addresses (%s) is in it: from here ssh will "
			    "say \"Permission denied (publickey)\"",
			    cert->critical[i].value, mine);
	}
}

/* Who approved (and what they said), as a denial already shows. */
static void
print_decision(json_t *req)
{
	json_t *a;
	size_t i;

	if (json_is_true(json_object_get(req, "break_glass"))) {
		printf("approved:    nobody: break-glass, every approver was "
		       "told; an approver must review it\n");
		return;
	}
	json_array_foreach(json_object_get(req, "approvals"), i, a)
	{
		printf("%s", i == 0 ? "approved by: " : "             ");
		fput_clean(stdout, jstr(a, "who"), 64);
		if (*jstr(a, "comment") != '\0') {
			fputs(": \"", stdout);
			fput_clean(stdout, jstr(a, "comment"), 300);
			fputc('"', stdout);
		}
		if (jint(a, "ttl") > 0) {
			char t[32];

			cconf_format_duration(
			    t, sizeof(t), (uint64_t)jint(a, "ttl"));
			printf(" (ttl %s)", t);
		}
		putchar('\n');
	}
	if (napprovals(req) == 0)
		printf("approved:    at once (the role needs no approval)\n");
}

/* Write ~/.ssh/jitca/ROLE and ROLE-cert.pub; prints the ssh line. */
static int
write_files(const struct cconf *cf, const char *role, const struct ephkey *k,
    const char *cert_line, const char *comment, const char *principal)
{
	char *dir = NULL, *kpath = NULL, *cpath = NULL, *ktext = NULL;
	char *cline = NULL;
	int ex = JITCA_EXIT_FAIL;

	if ((dir = cconf_fmt("%s/.ssh/jitca", cf->home)) == NULL ||
	    (kpath = cconf_fmt("%s/%s", dir, role)) == NULL ||
	    (cpath = cconf_fmt("%s/%s-cert.pub", dir, role)) == NULL ||
	    (cline = cconf_fmt("%s\n", cert_line)) == NULL)
		goto out;
	if (cconf_mkdirs(dir, 0700) != 0) {
		msg("cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if (ephkey_to_openssh(&ktext, k, comment) != 0)
		goto out;
	/* Key first: a certificate without its key is useless, the key
	 * without a certificate harmless. */
	if (cconf_write_atomic(kpath, ktext, strlen(ktext), 0600) != 0) {
		msg("cannot write %s: %s", kpath, strerror(errno));
		goto out;
	}
	if (cconf_write_atomic(cpath, cline, strlen(cline), 0600) != 0) {
		msg("cannot write %s: %s", cpath, strerror(errno));
		goto out;
	}
	printf("key:         %s\ncertificate: %s\n", kpath, cpath);
	printf("connect:     ssh -i %s %s@HOST\n", kpath, principal);
	ex = 0;
out:
	if (ktext != NULL) {
		OPENSSL_cleanse(ktext, strlen(ktext));
		free(ktext);
	}
	free(dir);
	free(kpath);
	free(cpath);
	free(cline);
	return ex;
}

int
cmd_login(const struct cli_parsed *p)
{
	struct opts o;
	struct cconf cf;
	struct capi *api = NULL;
	struct pubkey *ca = NULL;
	struct ephkey *key = NULL;
	struct cert *cert = NULL;
	struct agent *ag = NULL;
	json_t *body = NULL, *req = NULL, *arr = NULL, *v;
	char *pkline = NULL, *detail = NULL, *comment = NULL, *prefix = NULL;
	char **want = NULL, until[64], left[32], buf[512];
	const char *cline;
	uint64_t ttl = 0, wait = DEFAULT_WAIT, now, life = 0, held = 0;
	const char *where = NULL;
	size_t i, nwant = 0;
	int r, ex = JITCA_EXIT_FAIL, use_agent;

	opts_from(&o, p);
	memset(&cf, 0, sizeof(cf));
	if (cli_list(p, "principal", NULL, 0) > MAX_PRINCIPALS) {
		msg("too many --principal options");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (o.nargs > 0 || o.role == NULL || o.reason == NULL ||
	    *o.reason == '\0') {
		msg("usage: jitca login --role ROLE [--principal P]... "
		    "[--ttl D] --reason TEXT [--wait D] [--no-agent]");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (!cconf_role_ok(o.role)) {
		msg("bad role name \"%s\"", o.role);
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (o.ttl != NULL && cconf_parse_duration(&ttl, o.ttl) != 0) {
		msg("bad --ttl \"%s\" (use 90s, 30m, 12h, 7d)", o.ttl);
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (o.wait != NULL && cconf_parse_duration(&wait, o.wait) != 0) {
		msg("bad --wait \"%s\" (use 90s, 30m, 12h, 7d)", o.wait);
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if ((ex = connect_api(&o, &cf, &api)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	if (!o.force && held_cert(&cf, o.role, &life, &held, &where)) {
		char q[256];

		cconf_format_duration(left, sizeof(left), life);
		snprintf(q, sizeof(q),
		    "You already hold a certificate for %s (serial %llu, %s "
		    "left, in %s). Request another?",
		    o.role, (unsigned long long)held, left, where);
		if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO) ||
		    !confirm(q)) {
			msg("you already hold a certificate for %s (serial "
			    "%llu, %s left, in %s): use it, or add --force to "
			    "ask for another",
			    o.role, (unsigned long long)held, left, where);
			goto out;
		}
	}
	signals_install();
	if ((ex = ca_pin(api, &cf, &ca)) != 0)
		goto out;
	ex = JITCA_EXIT_FAIL;
	if ((r = ephkey_generate(&key)) != 0 ||
	    (r = pubkey_to_line(&pkline, ephkey_public(key), NULL)) != 0) {
		msg("making a key: %s %s", err_str(r), err_crypto_detail());
		goto out;
	}
	if ((body = json_object()) == NULL || (arr = json_array()) == NULL)
		goto out;
	/* json_string() refuses text that is not UTF-8: say so rather than
	 * send a body without the field. */
	for (i = 0; i < o.nprincipals; i++) {
		if (json_array_append_new(arr, json_string(o.principals[i])) !=
		    0) {
			msg("--principal is not valid UTF-8");
			ex = JITCA_EXIT_USAGE;
			goto out;
		}
	}
	if (json_object_set_new(body, "reason", json_string(o.reason)) != 0) {
		msg("--reason is not valid UTF-8");
		ex = JITCA_EXIT_USAGE;
		goto out;
	}
	if (json_object_set_new(body, "role", json_string(o.role)) != 0 ||
	    (o.nprincipals > 0 &&
		json_object_set(body, "principals", arr) != 0) ||
	    (ttl > 0 &&
		json_object_set_new(
		    body, "ttl", json_integer((json_int_t)ttl)) != 0) ||
	    json_object_set_new(body, "public_key", json_string(pkline)) != 0 ||
	    (o.break_glass &&
		json_object_set_new(body, "break_glass", json_true()) != 0))
		goto out;
	if ((r = capi_call(api, "POST", "/v1/requests", body, 1, NULL, &req,
		 &detail)) != 0) {
		ex = request_refused(api, &o, ttl, r, detail);
		goto out;
	}
	if (!json_is_integer(json_object_get(req, "id"))) {
		msg("the server's reply has no request id");
		goto out;
	}
	if (strcmp(jstr(req, "state"), "issued") != 0 &&
	    (ex = wait_for_issue(api, &req, wait)) != 0)
		goto out;
	ex = JITCA_EXIT_BADCERT;
	/* What we check the certificate against: our principals, else the
	 * ones the server put in the request (never an empty set). */
	if (o.nprincipals > 0) {
		want = (char **)(uintptr_t)o.principals;
		nwant = o.nprincipals;
	} else {
		v = json_object_get(req, "principals");
		nwant = json_array_size(v);
		if (nwant == 0 || nwant > MAX_PRINCIPALS ||
		    (want = calloc(nwant, sizeof(*want))) == NULL) {
			msg("the issued request names no principals");
			goto out;
		}
		for (i = 0; i < nwant; i++)
			want[i] = (char *)(uintptr_t)json_string_value(
			    json_array_get(v, i));
		for (i = 0; i < nwant; i++)
			if (want[i] == NULL) {
				msg("bad principals in the reply");
				goto out;
			}
	}
	if (ttl == 0 && jint(req, "ttl") > 0)
		ttl = (uint64_t)jint(req, "ttl");
	if (ttl == 0)
		ttl = CCONF_MAX_DURATION;
	cline = json_string_value(json_object_get(req, "certificate"));
	now = now_s();
	if (cline == NULL) {
		msg("request %lld is issued but the reply holds no "
		    "certificate",
		    jint(req, "id"));
		goto out;
	}
	if ((r = ccheck_cert(&cert, cline, ca, ephkey_public(key), want, nwant,
		 ttl, now)) != 0) {
		msg("refusing the certificate for request %lld: %s",
		    jint(req, "id"), err_str(r));
		goto out;
	}
	ex = JITCA_EXIT_FAIL;
	if ((comment = cconf_fmt(COMMENT_PREFIX "%s:%llu", o.role,
		 (unsigned long long)cert->serial)) == NULL ||
	    (prefix = cconf_fmt(COMMENT_PREFIX "%s:", o.role)) == NULL)
		goto out;
	life = cert->valid_before - now; /* ccheck: valid_before > now */
	if (life > UINT32_MAX)
		life = UINT32_MAX;
	use_agent = !o.no_agent;
	if (use_agent && (r = agent_connect(&ag, NULL)) != 0) {
		msg("no ssh-agent (%s): writing files instead",
		    getenv("SSH_AUTH_SOCK") == NULL ? "$SSH_AUTH_SOCK is unset"
						    : "cannot connect to "
						      "$SSH_AUTH_SOCK");
		use_agent = 0;
	}
	if (use_agent) {
		if ((r = agent_add(ag, key, cert, comment, (uint32_t)life)) !=
		    0) {
			msg("ssh-agent: %s", err_str(r));
			goto out;
		}
		r = agent_remove_prefixed(
		    ag, prefix, cert->blob, cert->blob_len);
		if (r > 0)
			msg("removed %d older %s certificate(s) from the agent",
			    r, o.role);
	} else if ((ex = write_files(&cf, o.role, key, cline, comment,
			cert->principals[0])) != 0)
		goto out;
	fmt_local(until, sizeof(until), cert->valid_before);
	cconf_format_duration(left, sizeof(left), life);
	buf[0] = '\0';
	for (i = 0; i < cert->nprincipals; i++) {
		strncat(buf, i ? ", " : "", sizeof(buf) - strlen(buf) - 1);
		strncat(
		    buf, cert->principals[i], sizeof(buf) - strlen(buf) - 1);
	}
	printf("role:        %s\nprincipals:  %s\nvalid until: %s (%s "
	       "left)\nserial:      %llu\nwhere:       %s\n",
	    o.role, buf, until, left, (unsigned long long)cert->serial,
	    use_agent ? "ssh-agent" : "files");
	print_decision(req);
	print_options(cert);
	if (json_is_true(json_object_get(req, "break_glass")))
		msg("break-glass: request %lld is flagged for review; every "
		    "approver of %s has been told",
		    jint(req, "id"), o.role);
	ex = 0;
out:
	if (want != NULL && want != (char **)(uintptr_t)o.principals)
		free(want);
	agent_close(ag);
	cert_free(cert);
	ephkey_free(key);
	pubkey_free(ca);
	json_decref(body);
	json_decref(arr);
	json_decref(req);
	capi_free(api);
	cconf_clear(&cf);
	free(pkline);
	free(detail);
	free(comment);
	free(prefix);
	return ex;
}
