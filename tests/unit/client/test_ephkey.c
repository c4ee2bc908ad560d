/*
 * test_ephkey.c: the ephemeral key (client/ephkey.c): the openssh-key-v1
 * file read back by the real ssh-keygen, the agent serialisation byte
 * layout of draft-miller-ssh-agent, and refusals.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client/ephkey.h"
#include "signer/wire.h"
#include "tests/unit/client/client_fixture.h"

Test(ephkey, fresh_keys_are_ed25519_and_differ)
{
	struct ephkey *a = NULL, *b = NULL;

	cr_assert_eq(ephkey_generate(&a), 0);
	cr_assert_eq(ephkey_generate(&b), 0);
	cr_assert_eq(pubkey_type(ephkey_public(a)), KEY_ED25519);
	cr_assert_not(pubkey_equal(ephkey_public(a), ephkey_public(b)));
	ephkey_free(a);
	ephkey_free(b);
	ephkey_free(NULL);
}

Test(ephkey, openssh_file_is_read_by_ssh_keygen)
{
	struct ephkey *k = NULL;
	char *text = NULL, *dir = tu_tmpdir(), *path, *cmd, *out = NULL;
	char *line = NULL, *err = NULL, *p, *nl;
	char fp[PUBKEY_FP_LEN];

	cr_assert_eq(ephkey_generate(&k), 0);
	cr_assert_eq(ephkey_to_openssh(&text, k, "jitca:fast:7"), 0);
	cr_assert_eq(
	    strncmp(text, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36), 0);
	cr_assert_not_null(
	    strstr(text, "\n-----END OPENSSH PRIVATE KEY-----\n"));
	/* Body lines are at most 70 characters, like ssh-keygen's. */
	for (p = strchr(text, '\n') + 1; (nl = strchr(p, '\n')) != NULL;
	     p = nl + 1)
		cr_assert_leq(nl - p, 70);
	path = tu_fmt("%s/key", dir);
	tu_write_file(path, text, strlen(text), 0600);
	cmd = tu_fmt("ssh-keygen -y -f '%s'", path);
	cr_assert_eq(tu_sh(cmd, &out, &err), 0, "ssh-keygen -y: %s", err);
	cr_assert_eq(
	    pubkey_to_line(&line, ephkey_public(k), "jitca:fast:7"), 0);
	free(err);
	p = tu_fmt("%s\n", line);
	cr_assert_str_eq(out, p);
	free(p);
	free(out);
	free(cmd);
	cmd = tu_fmt("ssh-keygen -l -E sha256 -f '%s'", path);
	cr_assert_eq(tu_sh(cmd, &out, &err), 0, "ssh-keygen -l: %s", err);
	cr_assert_eq(pubkey_fingerprint(fp, ephkey_public(k)), 0);
	p = tu_fmt("256 %s jitca:fast:7 (ED25519)\n", fp);
	cr_assert_str_eq(out, p);
	ephkey_free(k);
	free(p);
	free(out);
	free(err);
	free(cmd);
	free(line);
	free(path);
	free(text);
	tu_rmtree(dir);
	free(dir);
}

Test(ephkey, agent_serialisation_layout)
{
	struct ephkey *k = NULL;
	struct cakey *ca = NULL;
	struct cert *c;
	struct wire *w = wire_new(8192);
	const uint8_t *p, *blob;
	size_t len, blen;
	char *s = NULL;
	const char *pr[] = {"alice", NULL};

	cr_assert_eq(ephkey_generate(&k), 0);
	cr_assert_eq(cakey_generate(&ca, KEY_ED25519), 0);
	blob = pubkey_blob(ephkey_public(k), &blen);
	/* Plain: "ssh-ed25519", pk, seed||pk. */
	cr_assert_eq(ephkey_put_private(w, k, NULL), 0);
	cr_assert_eq(wire_get_cstring(w, &s, NULL), 0);
	cr_assert_str_eq(s, "ssh-ed25519");
	free(s);
	cr_assert_eq(wire_get_string_direct(w, &p, &len), 0);
	cr_assert_eq(len, 32);
	cr_assert_eq(memcmp(p, blob + blen - 32, 32), 0);
	cr_assert_eq(wire_get_string_direct(w, &p, &len), 0);
	cr_assert_eq(len, 64);
	cr_assert_eq(memcmp(p + 32, blob + blen - 32, 32), 0);
	cr_assert_eq(wire_len(w), 0);
	/* Certificate: cert type, cert blob, pk, seed||pk. */
	c = fx_cert(ca, ephkey_public(k), pr, fx_now() - 60, fx_now() + 60);
	cr_assert_eq(ephkey_put_private(w, k, c), 0);
	cr_assert_eq(wire_get_cstring(w, &s, NULL), 0);
	cr_assert_str_eq(s, "ssh-ed25519-cert-v01@openssh.com");
	free(s);
	cr_assert_eq(wire_get_string_direct(w, &p, &len), 0);
	cr_assert_eq(len, c->blob_len);
	cr_assert_eq(memcmp(p, c->blob, len), 0);
	cr_assert_eq(wire_get_string_direct(w, &p, &len), 0);
	cr_assert_eq(len, 32);
	cr_assert_eq(wire_get_string_direct(w, &p, &len), 0);
	cr_assert_eq(len, 64);
	cr_assert_eq(wire_len(w), 0);
	cert_free(c);
	cakey_free(ca);
	ephkey_free(k);
	wire_free(w);
}

Test(ephkey, refuses_a_cert_for_another_key_or_unsigned)
{
	struct ephkey *k = NULL, *other = NULL;
	struct cakey *ca = NULL;
	struct cert *c, *u = cert_new();
	struct wire *w = wire_new(8192);
	const char *pr[] = {"alice", NULL};

	cr_assert_eq(ephkey_generate(&k), 0);
	cr_assert_eq(ephkey_generate(&other), 0);
	cr_assert_eq(cakey_generate(&ca, KEY_ED25519), 0);
	c = fx_cert(ca, ephkey_public(other), pr, fx_now(), fx_now() + 60);
	cr_assert_eq(ephkey_put_private(w, k, c), ERR_CERT_WRONG_KEY);
	cr_assert_eq(ephkey_put_private(w, k, u), ERR_INVALID_ARG);
	cr_assert_eq(wire_len(w), 0);
	cr_assert_eq(ephkey_put_private(NULL, k, NULL), ERR_INVALID_ARG);
	cert_free(c);
	cert_free(u);
	cakey_free(ca);
	ephkey_free(k);
	ephkey_free(other);
	wire_free(w);
}
