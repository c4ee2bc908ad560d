/*
 * ephkey.h: the client's ephemeral Ed25519 key: made in memory with
 * OpenSSL, serialised for ssh-agent (draft-miller-ssh-agent, plain or
 * with its certificate) and as an unencrypted openssh-key-v1 private
 * key file (OpenSSH's PROTOCOL.key) for --no-agent.
 *
 * A struct ephkey owns its EVP_PKEY, its public key and a copy of the
 * 32-byte seed; ephkey_free() wipes the seed.  It does not write files
 * (login.c does, through cconf.c) or talk to the agent (agent.c
 * does).
 */
#ifndef JITCA_EPHKEY_H
#define JITCA_EPHKEY_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

struct wire;
struct pubkey;
struct cert;

struct ephkey;

/* A fresh Ed25519 key; *out is new (ephkey_free). */
MUST_CHECK int ephkey_generate(struct ephkey **out);
/* Wipes and frees; NULL is fine. */
void ephkey_free(struct ephkey *k);
/* The public half (borrowed, lives as long as k). */
const struct pubkey *ephkey_public(const struct ephkey *k);

/*
 * Append the agent's private key serialisation of k to w: the plain form
 * ("ssh-ed25519", pk, seed||pk) when cert is NULL, else the certificate
 * form ("ssh-ed25519-cert-v01@openssh.com", cert blob, pk, seed||pk).
 * ERR_CERT_WRONG_KEY when cert certifies another key; ERR_INVALID_ARG
 * when cert has no blob (not signed).
 */
MUST_CHECK int ephkey_put_private(
    struct wire *w, const struct ephkey *k, const struct cert *cert);

/*
 * The openssh-key-v1 file text ("-----BEGIN OPENSSH PRIVATE KEY-----",
 * base64 wrapped at 70 columns, END line, trailing newline), unencrypted
 * ("none" cipher and KDF), with comment.  *out is new; it holds the secret:
 * wipe it (OPENSSL_cleanse over strlen) before freeing.
 */
MUST_CHECK int ephkey_to_openssh(
    char **out, const struct ephkey *k, const char *comment);

#endif /* JITCA_EPHKEY_H */
