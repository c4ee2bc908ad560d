/*
 * signpolicy.h: the role policy the signer process applies on its own
 * copy of jitca.json (the struct signer_policy of signer/signer.h).
 *
 * signer/ knows no roles or JSON; this file is the narrow bridge.  jitcad
 * passes signpolicy_ops with the state directory as the argument; the
 * signer child (a fork of jitcad) calls load at start and on every
 * RELOAD request, so it reads jitca.json itself and never takes policy
 * bytes from the service.  check refuses, for a user certificate asked
 * for (user, role): a role the file does not have (ERR_SIGNER_NO_ROLE),
 * a key id that does not start "USER:ROLE:" (ERR_SIGNER_KEY_ID), a
 * principal outside the role's principals expanded for that user
 * (ERR_PRINCIPAL_NOT_ALLOWED), validity over the role's max_ttl from now
 * (ERR_TTL_TOO_LONG), critical options that are not exactly the role's or
 * an extension the role does not grant (ERR_SIGNER_OPTIONS).  The generic
 * checks (alphabets, hard maximum, backdate, unknown options) are
 * cert_check_policy()'s, run by the child before this one.
 */
#ifndef JITCA_SIGNPOLICY_H
#define JITCA_SIGNPOLICY_H

#include "signer/signer.h"

extern const struct signer_policy signpolicy_ops;

#endif /* JITCA_SIGNPOLICY_H */
