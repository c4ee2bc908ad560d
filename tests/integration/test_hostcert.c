/*
 * test_hostcert.c: host certificates end to end (docs/hosts.md), with the
 * real jitcad (host add|reset|disable, revoke --host, krl, ledger verify),
 * the real `jitcad serve` answering POST /v1/host-certs to curl, a real
 * sshd presenting the host certificate it got, and the real ssh client
 * with StrictHostKeyChecking=yes, BatchMode and a known_hosts file holding
 * only the @cert-authority line of the host CA key:
 *   - an enrolled host's certificate lets ssh in without a prompt;
 *   - refused: a host with only its plain host key, a certificate for
 *     another name, an expired certificate (ca.host_max_ttl of seconds),
 *     a revoked one (RevokedHostKeys = the KRL of jitcad krl);
 *   - a second host key with the same token is 409 until host reset, a
 *     disabled host's token is 401, a host token is no user token and a
 *     user token no host token;
 *   - ledger verify stays ok and names an edited hosts row.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/jitcad.h"
#include "tests/lib/proc.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

static char *dir, *state, *url, *slog;
static pid_t serve_pid = -1;

static void
setup(void)
{
	tu_scratch(&dir, &state, &slog);
}

static void
teardown(void)
{
	tu_stop(&serve_pid);
	tu_scratch_free(&dir, &state, &slog);
	free(url);
	url = NULL;
}

TestSuite(hostcert, .init = setup, .fini = teardown, .timeout = 240);

/* init, with host_max_ttl and host_domains set in jitca.json, then serve. */
static void
start(const char *host_max_ttl)
{
	char *p = tu_fmt("%s/jitca.json", state);
	json_error_t e;
	json_t *cfg;

	free(tu_jitcad_ok(state, "init"));
	cfg = json_load_file(p, 0, &e);
	cr_assert_not_null(cfg, "%s", e.text);
	cr_assert_eq(json_object_set_new(json_object_get(cfg, "ca"),
			 "host_max_ttl", json_string(host_max_ttl)),
	    0);
	cr_assert_eq(json_object_set_new(cfg, "host_domains",
			 json_pack("[s]", "*.prod.example.com")),
	    0);
	cr_assert_eq(json_dump_file(cfg, p, JSON_INDENT(2)), 0);
	json_decref(cfg);
	free(p);
	url = tu_serve_start(state, slog, NULL, NULL, &serve_pid);
}

/* POST /v1/host-certs with token and the key in file pub: the status;
 * *body (may be NULL) the reply. */
static int
host_cert_post(const char *token, const char *pub, char **body)
{
	char *key = tu_read_file(pub, NULL), *req, *reqp, *cmd, *out = NULL;
	json_t *j;
	int status = 0;

	cr_assert_not_null(key);
	key[strcspn(key, "\n")] = '\0';
	j = json_pack("{s:s}", "public_key", key);
	req = json_dumps(j, JSON_COMPACT);
	reqp = tu_fmt("%s/req.json", dir);
	tu_write_file(reqp, req, strlen(req), 0600);
	cmd = tu_fmt("curl -s -o '%s/reply.json' -w '%%{http_code}' -H "
		     "'Authorization: Bearer %s' --data-binary @'%s' "
		     "'%s/v1/host-certs'",
	    dir, token, reqp, url);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0, "%s", cmd);
	status = atoi(out);
	if (body != NULL) {
		char *rp = tu_fmt("%s/reply.json", dir);

		*body = tu_read_file(rp, NULL);
		free(rp);
	}
	free(out);
	free(cmd);
	free(reqp);
	free(req);
	json_decref(j);
	free(key);
	return status;
}

/* What sshd_start_host_cert() calls: the host enrolls its key. */
struct enroll {
	const char *token;
	int status;
};

static void
enroll_fn(void *ctx, const char *host_pub, const char *cert_path)
{
	struct enroll *en = ctx;
	char *body = NULL, *line;
	json_error_t e;
	json_t *j;

	en->status = host_cert_post(en->token, host_pub, &body);
	cr_assert_eq(en->status, 201, "%s", body);
	j = json_loads(body, 0, &e);
	cr_assert_not_null(j, "%s", body);
	cr_assert(json_is_integer(json_object_get(j, "serial")));
	cr_assert(json_is_array(json_object_get(j, "principals")));
	line = tu_fmt(
	    "%s\n", json_string_value(json_object_get(j, "certificate")));
	tu_write_file(cert_path, line, strlen(line), 0644);
	free(line);
	json_decref(j);
	free(body);
}

/* A user key and a certificate for it (jitcad issue, role staging). */
static void
user_cert(const char *key, const char *cert)
{
	char *cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", key);
	char *args, *out;
	json_error_t e;
	json_t *j;

	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(tu_jitcad_ok(state, "user add alice --group engineering"));
	args = tu_fmt("issue --user alice --role staging --public-key "
		      "'%s.pub' --reason test --json",
	    key);
	out = tu_jitcad_ok(state, args);
	j = json_loads(out, 0, &e);
	cr_assert_not_null(j, "%s", out);
	tu_write_file(cert,
	    json_string_value(json_object_get(j, "certificate")),
	    strlen(json_string_value(json_object_get(j, "certificate"))), 0644);
	json_decref(j);
	free(out);
	free(args);
	free(cmd);
}

/* known_hosts with only the @cert-authority line for any host. */
static char *
known_hosts(void)
{
	char *host = tu_jitcad_ok(state, "ca-key --host");
	char *kh = tu_fmt("%s/known_hosts", dir);
	char *line = tu_fmt("@cert-authority * %s\n", host);

	tu_write_file(kh, line, strlen(line), 0600);
	free(line);
	free(host);
	return kh;
}

static char *
add_host(const char *name, const char *principal)
{
	char *args = tu_fmt("host add %s --principal %s", name, principal);
	char *tok = tu_jitcad_ok(state, args);

	cr_assert_eq(strncmp(tok, "jitca_", 6), 0, "%s", tok);
	cr_assert_eq(strlen(tok), 49);
	free(args);
	return tok;
}

/* ssh as user (key, cert) through d with only kh must fail (255) with
 * why and "Host key verification failed" in its stderr. */
static void
ssh_refused(struct test_sshd *d, const char *user, const char *key,
    const char *cert, const char *kh, const char *why)
{
	char *out = NULL, *err = NULL;
	int rc =
	    sshd_ssh_known_hosts(d, user, key, cert, kh, "echo in", &out, &err);

	cr_assert_eq(rc, 255, "ssh: %d\n%s", rc, err);
	cr_assert_not_null(strstr(err, why), "%s", err);
	cr_assert_not_null(
	    strstr(err, "Host key verification failed"), "%s", err);
	free(out);
	free(err);
}

Test(hostcert, enrolled_host_connects_without_prompt_then_refusals)
{
	struct test_sshd *d = NULL;
	struct enroll en;
	char *ca, *tok, *kh, *key, *cert, *user, *krl, *opt, *out = NULL;
	char *err = NULL, *body = NULL, *k2, *cmd;
	int rc;

	start("30d");
	ca = tu_jitcad_ok(state, "ca-key");
	tok = add_host("testhost", "127.0.0.1");
	en.token = tok;
	sshd_start_host_cert(&d, ca, enroll_fn, &en);
	user = sshd_user();
	sshd_set_principals(d, user, "alice", NULL);
	key = tu_fmt("%s/id", dir);
	cert = tu_fmt("%s/id-cert.pub", dir);
	user_cert(key, cert);
	kh = known_hosts();

	/* Only the @cert-authority line: in, no prompt (BatchMode). */
	rc =
	    sshd_ssh_known_hosts(d, user, key, cert, kh, "echo in", &out, &err);
	cr_assert_eq(rc, 0, "ssh: %d\n%s\nsshd:\n%s", rc, err, sshd_log(d));
	cr_assert_str_eq(out, "in\n");
	cr_assert_not_null(strstr(err,
			       "matches the ED25519-CERT host "
			       "certificate"),
	    "%s", err);
	free(out);
	free(err);

	/* A second key with the same token: refused until host reset. */
	k2 = tu_fmt("%s/hk2", dir);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", k2);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
	cmd = tu_fmt("%s.pub", k2);
	cr_assert_eq(host_cert_post(tok, cmd, &body), 409, "%s", body);
	cr_assert_not_null(strstr(body, "\"host_key_mismatch\""), "%s", body);
	free(body);
	free(tu_jitcad_ok(state, "host reset testhost"));
	cr_assert_eq(host_cert_post(tok, cmd, &body), 201, "%s", body);
	free(body);
	/* ...and now the first key is the other one. */
	cr_assert_eq(
	    host_cert_post(tok,
		tu_keep(tu_fmt("%s/host_ed25519.pub", sshd_dir(d))), &body),
	    409, "%s", body);
	free(body);
	free(cmd);

	/* One key binds per type: an ECDSA key binds beside the Ed25519
	 * one, and a second ECDSA key is refused. */
	cmd = tu_fmt("ssh-keygen -q -t ecdsa -N '' -f '%s/e1' && ssh-keygen "
		     "-q -t ecdsa -N '' -f '%s/e2'",
	    dir, dir);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
	cr_assert_eq(
	    host_cert_post(tok, tu_keep(tu_fmt("%s/e1.pub", dir)), &body), 201,
	    "%s", body);
	cr_assert_not_null(strstr(body, "\"renewal\":false"), "%s", body);
	free(body);
	cr_assert_eq(
	    host_cert_post(tok, tu_keep(tu_fmt("%s/e1.pub", dir)), &body), 201,
	    "%s", body);
	cr_assert_not_null(strstr(body, "\"renewal\":true"), "%s", body);
	free(body);
	cr_assert_eq(
	    host_cert_post(tok, tu_keep(tu_fmt("%s/e2.pub", dir)), &body), 409,
	    "%s", body);
	free(body);

	/* A host token is no user token. */
	cmd = tu_fmt("curl -s -o /dev/null -w '%%{http_code}' -H "
		     "'Authorization: Bearer %s' '%s/v1/roles'",
	    tok, url);
	cr_assert_eq(tu_sh(cmd, &out, NULL), 0);
	cr_assert_str_eq(out, "401");
	free(out);
	free(cmd);

	/* Revoked: the KRL of jitcad krl as the client's RevokedHostKeys. */
	free(tu_jitcad_ok(
	    state, "revoke --host testhost --reason 'host stolen'"));
	krl = tu_fmt("%s/hosts.krl", dir);
	free(tu_jitcad_ok(state, tu_keep(tu_fmt("krl -o '%s'", krl))));
	opt = tu_fmt("RevokedHostKeys=%s", krl);
	rc = sshd_ssh_known_hosts_opt(
	    d, user, key, cert, kh, opt, "echo in", &out, &err);
	cr_assert_eq(rc, 255, "ssh: %d\n%s", rc, err);
	cr_assert_str_eq(out, "");
	cr_assert_not_null(strstr(err, "revoked"), "%s", err);
	cr_assert_not_null(
	    strstr(err, "Host key verification failed"), "%s", err);
	free(out);
	free(err);
	/* ...the same KRL without host revocations would let it in: the
	 * refusal is the revocation (RevokedHostKeys=/dev/null is empty). */
	rc = sshd_ssh_known_hosts_opt(d, user, key, cert, kh,
	    "RevokedHostKeys=/dev/null", "echo in", &out, &err);
	cr_assert_eq(rc, 0, "ssh: %d\n%s", rc, err);
	free(out);
	free(err);

	/* A disabled host's token: 401. */
	free(tu_jitcad_ok(state, "host disable testhost"));
	cmd = tu_fmt("%s.pub", k2);
	cr_assert_eq(host_cert_post(tok, cmd, &body), 401, "%s", body);
	cr_assert_not_null(strstr(body, "\"bad_token\""), "%s", body);
	free(body);
	free(cmd);

	free(tu_jitcad_ok(state, "ledger verify"));
	sshd_stop(d);
	free(opt);
	free(krl);
	free(k2);
	free(kh);
	free(key);
	free(cert);
	free(user);
	free(tok);
	free(ca);
}

Test(hostcert, plain_host_key_and_other_name_are_refused)
{
	struct test_sshd *d = NULL;
	struct enroll en;
	char *ca, *tok, *kh, *key, *cert, *user;

	start("30d");
	ca = tu_jitcad_ok(state, "ca-key");
	key = tu_fmt("%s/id", dir);
	cert = tu_fmt("%s/id-cert.pub", dir);
	user_cert(key, cert);
	kh = known_hosts();
	user = sshd_user();

	/* A plain host key: nothing in known_hosts vouches for it. */
	sshd_start(&d, ca);
	sshd_set_principals(d, user, "alice", NULL);
	ssh_refused(d, user, key, cert, kh, "host key is known for");
	sshd_stop(d);

	/* A jitca host certificate, but for another name. */
	tok = add_host("db-7.prod.example.com", "db-7.prod.example.com");
	en.token = tok;
	sshd_start_host_cert(&d, ca, enroll_fn, &en);
	sshd_set_principals(d, user, "alice", NULL);
	ssh_refused(d, user, key, cert, kh, "name is not a listed principal");
	sshd_stop(d);
	free(tu_jitcad_ok(state, "ledger verify"));
	free(tok);
	free(user);
	free(kh);
	free(key);
	free(cert);
	free(ca);
}

Test(hostcert, expired_host_cert_is_refused)
{
	struct test_sshd *d = NULL;
	struct enroll en;
	char *ca, *tok, *kh, *key, *cert, *user;

	/* 3 s host certificates, valid from now - 1 m (the backdate). */
	start("3s");
	ca = tu_jitcad_ok(state, "ca-key");
	key = tu_fmt("%s/id", dir);
	cert = tu_fmt("%s/id-cert.pub", dir);
	user_cert(key, cert);
	kh = known_hosts();
	user = sshd_user();
	tok = add_host("testhost", "127.0.0.1");
	en.token = tok;
	sshd_start_host_cert(&d, ca, enroll_fn, &en);
	sshd_set_principals(d, user, "alice", NULL);
	tu_sleep_ms(4500);
	ssh_refused(d, user, key, cert, kh, "Certificate invalid: expired");
	sshd_stop(d);
	free(tok);
	free(user);
	free(kh);
	free(key);
	free(cert);
	free(ca);
}

Test(hostcert, user_token_is_no_host_token_and_verify_names_edited_hosts)
{
	char *tok, *utok, *pub, *cmd, *out = NULL, *err = NULL, *body = NULL;
	int rc;

	start("30d");
	tok = add_host("testhost", "127.0.0.1");
	utok = tu_jitcad_ok(state, "user add alice --group engineering");
	pub = tu_fmt("%s/hk", dir);
	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f '%s'", pub);
	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	free(cmd);
	cmd = tu_fmt("%s.pub", pub);
	cr_assert_eq(host_cert_post(utok, cmd, &body), 401, "%s", body);
	free(body);
	cr_assert_eq(host_cert_post(tok, cmd, &body), 201, "%s", body);
	free(body);
	free(cmd);
	out = tu_jitcad_ok(state, "ledger verify");
	free(out);
	/* Edit the hosts row behind jitca's back: verify names it. */
	cmd = tu_fmt(
	    "sqlite3 '%s/ledger.db' \"UPDATE hosts SET principals ="
	    " '[\\\"evil.example.com\\\"]'; UPDATE host_keys SET bound = 1\"",
	    state);
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s", err);
	free(err);
	free(cmd);
	rc = tu_jitcad(state, "ledger verify", &out, &err);
	cr_assert_eq(rc, 1, "%s", out);
	cr_assert_not_null(strstr(err,
			       "hosts name=testhost: principals: "
			       "expected [\"127.0.0.1\"]"),
	    "%s", err);
	cr_assert_not_null(strstr(err,
			       "host_keys name=testhost "
			       "key_type=ssh-ed25519: bound: expected"),
	    "%s", err);
	free(out);
	free(err);
	free(pub);
	free(utok);
	free(tok);
}

/* The known_hosts line of `jitca ssh-config` alone: ssh to the host by
 * its name (HostKeyAlias: sshd listens on 127.0.0.1) gets in. */
Test(hostcert, jitca_ssh_config_line_is_enough)
{
	struct test_sshd *d = NULL;
	struct enroll en;
	char *ca, *tok, *kh, *key, *cert, *user, *cmd, *out = NULL;
	char *err = NULL, *line;
	int rc;

	start("30d");
	ca = tu_jitcad_ok(state, "ca-key");
	key = tu_fmt("%s/id", dir);
	cert = tu_fmt("%s/id-cert.pub", dir);
	user_cert(key, cert);
	user = sshd_user();
	tok = add_host("db-7.prod.example.com", "db-7.prod.example.com");
	en.token = tok;
	sshd_start_host_cert(&d, ca, enroll_fn, &en);
	sshd_set_principals(d, user, "alice", NULL);

	cmd = tu_fmt("HOME='%s' '%s' ssh-config --server '%s' </dev/null", dir,
	    tu_env("JITCA"), url);
	rc = tu_sh(cmd, &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_not_null(
	    strstr(out, "\nHost *.prod.example.com\n"), "%s", out);
	cr_assert_not_null(
	    strstr(out,
		tu_keep(tu_fmt("    RevokedHostKeys %s/.config/jitca/"
			       "revoked.krl\n",
		    dir))),
	    "%s", out);
	line = strstr(out, "@cert-authority *.prod.example.com ssh-ed25519 ");
	cr_assert_not_null(line, "%s", out);
	line[strcspn(line, "\n") + 1] = '\0';
	kh = tu_fmt("%s/known_hosts", dir);
	tu_write_file(kh, line, strlen(line), 0600);
	free(out);
	free(err);
	free(cmd);

	rc = sshd_ssh_known_hosts_opt(d, user, key, cert, kh,
	    "HostKeyAlias=db-7.prod.example.com", "echo in", &out, &err);
	cr_assert_eq(rc, 0, "ssh: %d\n%s", rc, err);
	cr_assert_str_eq(out, "in\n");
	free(out);
	free(err);
	/* Another name under the same pattern: the certificate does not
	 * name it. */
	rc = sshd_ssh_known_hosts_opt(d, user, key, cert, kh,
	    "HostKeyAlias=db-8.prod.example.com", "echo in", &out, &err);
	cr_assert_eq(rc, 255, "ssh: %d\n%s", rc, err);
	cr_assert_not_null(
	    strstr(err, "name is not a listed principal"), "%s", err);
	free(out);
	free(err);
	sshd_stop(d);
	free(kh);
	free(tok);
	free(user);
	free(key);
	free(cert);
	free(ca);
}

/* scripts/host-setup --host-cert against a scratch /etc, then the real
 * sshd on those files: ssh gets in through the @cert-authority line; a
 * second run does nothing; the timer units pass systemd-analyze verify. */
Test(hostcert, host_setup_host_cert_installs_and_sshd_presents_it)
{
	char *tok, *etc, *sbin, *tokf, *prefix, *cmd, *out = NULL, *err = NULL;
	char *ca, *key, *cert, *user, *kh, *p, *log, *c1, *c2;
	int port, rc;
	pid_t pid;

	start("30d");
	ca = tu_jitcad_ok(state, "ca-key");
	key = tu_fmt("%s/id", dir);
	cert = tu_fmt("%s/id-cert.pub", dir);
	user_cert(key, cert);
	kh = known_hosts();
	user = sshd_user();
	tok = add_host("testhost", "127.0.0.1");
	tokf = tu_fmt("%s/token", dir);
	tu_write_file(tokf, tok, strlen(tok), 0600);
	etc = tu_fmt("%s/etc", dir);
	sbin = tu_fmt("%s/sbin", dir);
	/* The Debian host key names host-cert looks for, as the key sshd
	 * uses (sshd_scratch_etc keeps an existing host_ed25519). */
	cmd = tu_fmt(
	    "mkdir -p '%s/ssh' '%s' && ssh-keygen -q -t ed25519 -N '' "
	    "-f '%s/ssh/host_ed25519' && cp '%s/ssh/host_ed25519' "
	    "'%s/ssh/ssh_host_ed25519_key' && cp "
	    "'%s/ssh/host_ed25519.pub' '%s/ssh/ssh_host_ed25519_key.pub'",
	    etc, sbin, etc, etc, etc, etc, etc);
	cr_assert_eq(tu_sh(cmd, NULL, &err), 0, "%s", err);
	free(err);
	free(cmd);
	p = tu_fmt("%s/ca.pub", dir);
	tu_write_file(p, tu_keep(tu_fmt("%s\n", ca)), strlen(ca) + 1, 0644);
	free(p);
	p = tu_fmt("%s/principals", dir);
	tu_write_file(p, "alice\n", 6, 0644);
	free(p);
	prefix = tu_fmt("TrustedUserCAKeys %s/ca.pub\nAuthorizedPrincipalsFile "
			"%s/principals\n",
	    dir, dir);
	port = tu_free_port();
	sshd_scratch_etc(etc, prefix, port, dir);

	cmd = tu_fmt("'%s/scripts/host-setup' --host-cert --server '%s' "
		     "--insecure-http-ok --host-token-file '%s' --etc '%s' "
		     "--sbindir '%s'",
	    tu_env("JITCA_SOURCE_DIR"), url, tokf, etc, sbin);
	rc = tu_sh(cmd, &out, &err);
	cr_assert_eq(rc, 0, "%s%s", out, err);
	cr_assert_not_null(strstr(out, "installed ") &&
		strstr(out,
		    "ssh_host_ed25519_key-"
		    "cert.pub"),
	    "%s", out);
	free(out);
	free(err);
	p = tu_fmt("%s/ssh/sshd_config.d/jitca-host.conf", etc);
	c1 = tu_read_file(p, NULL);
	cr_assert_str_eq(c1,
	    tu_keep(tu_fmt("HostCertificate "
			   "%s/ssh/ssh_host_ed25519_key-cert."
			   "pub\n",
		etc)));
	free(c1);
	free(p);
	p = tu_fmt("%s/ssh/ssh_host_ed25519_key-cert.pub", etc);
	c1 = tu_read_file(p, NULL);

	log = tu_fmt("%s/sshd.log", dir);
	pid = sshd_scratch_run(etc, port, log);
	rc = sshd_ssh_port_known_hosts(
	    port, user, key, cert, kh, "echo in", &out, &err);
	cr_assert_eq(
	    rc, 0, "ssh: %d\n%s\nsshd:\n%s", rc, err, tu_read_file(log, NULL));
	cr_assert_str_eq(out, "in\n");
	cr_assert_not_null(strstr(err,
			       "matches the ED25519-CERT host "
			       "certificate"),
	    "%s", err);
	free(out);
	free(err);
	tu_stop(&pid);

	/* Again: the certificate is fresh, nothing changes. */
	rc = tu_sh(cmd, &out, &err);
	cr_assert_eq(rc, 0, "%s%s", out, err);
	cr_assert_not_null(strstr(out, "fresh; nothing to do"), "%s", out);
	free(out);
	free(err);
	c2 = tu_read_file(p, NULL);
	cr_assert_str_eq(c2, c1);
	free(c2);
	free(c1);
	free(cmd);

	/* The installed timer units are ones systemd accepts. */
	cmd = tu_fmt("systemd-analyze verify "
		     "'%s/systemd/system/jitca-host-cert.service' "
		     "'%s/systemd/system/jitca-host-cert.timer'",
	    etc, etc);
	rc = tu_sh(cmd, &out, &err);
	cr_assert_eq(rc, 0, "%s%s", out, err);
	cr_assert_str_eq(err, "");
	free(out);
	free(err);
	free(cmd);
	cmd = tu_fmt("%s/jitca-host-cert", sbin);
	cr_assert_eq(access(cmd, X_OK), 0);
	free(cmd);
	free(tu_jitcad_ok(state, "ledger verify"));
	free(p);
	free(log);
	free(prefix);
	free(etc);
	free(sbin);
	free(tokf);
	free(tok);
	free(user);
	free(kh);
	free(key);
	free(cert);
	free(ca);
}
