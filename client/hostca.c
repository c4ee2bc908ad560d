/*
 * hostca.c: the host-certificate part of `jitca ssh-config`
 * (sshconfig.c): what ~/.ssh needs so that ssh trusts
 * jitca host certificates and never shows a host-key prompt for the
 * hosts the CA certifies (docs/hosts.md, docs/client.md).  It reads the
 * host CA key and the server's host_domains from GET /v1/ca (no token
 * needed) and prints, for known_hosts, one "@cert-authority PATTERNS
 * KEY" line, and for ~/.ssh/config a Host block for those patterns with
 * RevokedHostKeys pointing at a KRL synced from GET /v1/krl.
 *
 * sshconfig_host_ca() is called by sshconfig.c; everything printed comes from
 * the server, so every field is checked (a key line pubkey_from_line() reads,
 * patterns that are "*." and a host name or a host name) before it reaches a
 * file that ssh trusts.  Works with client/capi.h and signer/pubkey.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/capi.h"
#include "client/cconf.h"
#include "client/jitca.h"
#include "signer/names.h"
#include "signer/pubkey.h"

#define PATTERNS_MAX 2048

/*
 * Print the known_hosts line and the Host block of the host CA on out
 * from the GET /v1/ca reply ca (borrowed).  krl is the path for
 * RevokedHostKeys.  0, or an exit status with a message.
 */
int
sshconfig_host_ca(FILE *out, json_t *ca, const char *krl)
{
	struct pubkey *k = NULL;
	json_t *doms = json_object_get(ca, "host_domains"), *v;
	const char *hk =
	    json_string_value(json_object_get(ca, "host_public_key"));
	char pat[PATTERNS_MAX], hosts[PATTERNS_MAX], *line = NULL;
	size_t i, n = 0, m = 0;
	int ex = JITCA_EXIT_FAIL, w;

	if (hk == NULL || pubkey_from_line(&k, hk, strlen(hk)) != 0 ||
	    pubkey_to_line(&line, k, "jitca-host-ca") != 0) {
		msg("GET /v1/ca: the server has no usable host CA key "
		    "(host_public_key)");
		ex = JITCA_EXIT_BADCERT;
		goto out;
	}
	pat[0] = hosts[0] = '\0';
	json_array_foreach(doms, i, v)
	{
		const char *d = json_string_value(v);

		if (d == NULL ||
		    !name_host_valid(strncmp(d, "*.", 2) == 0 ? d + 2 : d)) {
			msg("GET /v1/ca: host_domains[%zu] is not a host name "
			    "pattern",
			    i);
			ex = JITCA_EXIT_BADCERT;
			goto out;
		}
		w = snprintf(pat + n, sizeof(pat) - n, "%s%s", n ? "," : "", d);
		if (w < 0 || (size_t)w >= sizeof(pat) - n)
			goto toolong;
		n += (size_t)w;
		w = snprintf(
		    hosts + m, sizeof(hosts) - m, "%s%s", m ? " " : "", d);
		if (w < 0 || (size_t)w >= sizeof(hosts) - m)
			goto toolong;
		m += (size_t)w;
	}
	if (n == 0) {
		msg("the server names no host_domains (jitca.json): nothing "
		    "to trust the host CA for");
		goto out;
	}
	fprintf(out,
	    "# ~/.ssh/known_hosts: hosts under these names that present a "
	    "jitca host\n# certificate are trusted without a prompt\n"
	    "@cert-authority %s %s\n\n",
	    pat, line);
	fprintf(out,
	    "# ~/.ssh/config: refuse revoked host certificates (the KRL "
	    "of %s)\nHost %s\n    StrictHostKeyChecking yes\n"
	    "    RevokedHostKeys %s\n",
	    "GET /v1/krl", hosts, krl);
	ex = 0;
	goto out;
toolong:
	msg("GET /v1/ca: host_domains is too long");
out:
	free(line);
	pubkey_free(k);
	return ex;
}
