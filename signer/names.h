/*
 * names.h: the safe alphabets of docs/design.md invariant 3, shared by the
 * signer (which re-checks what it signs), the CA's config and users, and
 * the KRL builder.  Pure functions on NUL-terminated strings.
 *
 * Principals and user names: ^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$, so
 * never '*', '?', ',', whitespace or control characters, never empty.
 * Key ids: [A-Za-z0-9@._:+=/-], 1..NAME_KEY_ID_MAX bytes, so sshd's log
 * lines parse.  Known critical options and extensions of OpenSSH user
 * certificates, and strict CIDR lists for source-address.  Host
 * certificate principals: a DNS host name (RFC 1123 labels) or an IPv4 or
 * IPv6 address literal, never a wildcard.
 */
#ifndef JITCA_NAMES_H
#define JITCA_NAMES_H

#include "signer/err.h"

#define NAME_PRINCIPAL_MAX 64
#define NAME_KEY_ID_MAX 256
#define NAME_HOST_MAX 253 /* a host name, bytes (RFC 1035 2.3.4) */
#define NAME_HOST_LABEL_MAX 63

/* 1 if s is a valid principal (or user name), else 0. */
int name_principal_valid(const char *s);
/* 1 if s is a valid key id, else 0. */
int name_key_id_valid(const char *s);
/*
 * 1 if s is a valid host certificate principal: an IPv4 address in
 * dotted-quad form or an IPv6 address (inet_pton(3), no zone, no
 * brackets, no prefix), or a host name of labels [A-Za-z0-9-] of 1 to
 * NAME_HOST_LABEL_MAX bytes joined by '.', at most NAME_HOST_MAX bytes,
 * no label starting or ending with '-', no empty label (so no leading,
 * trailing or doubled '.'), and a last label that is not all digits (so
 * "10.0.0.300" is neither).  No '*', '?', whitespace or controls.
 */
int name_host_valid(const char *s);
/* 1 if name is a critical option jitca knows ("force-command",
 * "source-address", "verify-required"); *has_value says whether it
 * carries a value. */
int name_critical_known(const char *name, int *has_value);
/* 1 if name is a known user-certificate extension (all flags):
 * no-touch-required, permit-X11-forwarding, permit-agent-forwarding,
 * permit-port-forwarding, permit-pty, permit-user-rc. */
int name_extension_known(const char *name);
/*
 * Validate a source-address value: a comma-separated list of IPv4 or IPv6
 * addresses, each with an optional /prefix (0..32 or 0..128), no host
 * bits set beyond the prefix, no whitespace, no empty items.  Returns 0 or
 * ERR_BAD_CIDR.
 */
MUST_CHECK int name_cidr_list_check(const char *s);

#endif /* JITCA_NAMES_H */
