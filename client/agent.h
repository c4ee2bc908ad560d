/*
 * agent.h: a small ssh-agent client (draft-miller-ssh-agent;
 * RFC 9987): list identities, add a key with its certificate and a
 * lifetime constraint, remove identities.
 *
 * One struct agent is one connection to the agent's UNIX socket; every
 * call sends one request and reads one reply (uint32 length, type,
 * payload), with a cap on the reply size.  It does not know about jitca
 * roles: callers pick identities by comment (login.c, logout.c).
 */
#ifndef JITCA_AGENT_H
#define JITCA_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "signer/err.h"

struct ephkey;
struct cert;

#define AGENT_MAX_REPLY (256u * 1024) /* identities answer, bytes */
#define AGENT_MAX_IDS 4096

/* Message numbers (draft-miller-ssh-agent). */
#define AGENT_FAILURE 5
#define AGENT_SUCCESS 6
#define AGENTC_REQUEST_IDENTITIES 11
#define AGENT_IDENTITIES_ANSWER 12
#define AGENTC_ADD_IDENTITY 17
#define AGENTC_REMOVE_IDENTITY 18
#define AGENTC_ADD_ID_CONSTRAINED 25
#define AGENT_EXTENSION_FAILURE 28
#define AGENT_CONSTRAIN_LIFETIME 1

struct agent;

/* One identity held by the agent (owned strings). */
struct agent_id {
	uint8_t *blob; /* public key or certificate blob */
	size_t blob_len;
	char *comment; /* NUL-terminated; bytes as the agent sent them */
};

/* Connect to the socket at path (NULL: $SSH_AUTH_SOCK).  ERR_NO_AGENT
 * when the variable is unset or nothing listens there.  *out is new. */
MUST_CHECK int agent_connect(struct agent **out, const char *path);
void agent_close(struct agent *a);

/* All identities; *ids is a new array of *n entries (agent_ids_free). */
MUST_CHECK int agent_list(struct agent *a, struct agent_id **ids, size_t *n);
void agent_ids_free(struct agent_id *ids, size_t n);

/* Add key with its certificate (cert may be NULL for the plain key)
 * under comment, with a lifetime constraint when lifetime > 0.
 * ERR_AGENT when the agent replies FAILURE. */
MUST_CHECK int agent_add(struct agent *a, const struct ephkey *key,
    const struct cert *cert, const char *comment, uint32_t lifetime);

/* Remove the identity with this blob: 0 when removed, ERR_NOT_FOUND when
 * the agent says FAILURE (it had no such identity). */
MUST_CHECK int agent_remove(
    struct agent *a, const uint8_t *blob, size_t blob_len);

#endif /* JITCA_AGENT_H */
