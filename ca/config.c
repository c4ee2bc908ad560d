/*
 * config.c: jitca.json (docs/configuration.md): reading the file, parsing it
 * with jansson, validating every field into a struct config, and the small
 * policy helpers the request code uses (role lookup, group intersection,
 * expansion of principal templates).  Also the listen-address check and
 * the example configuration that `jitcad init` writes.
 *
 * Every refusal is ERR_CONFIG with one message naming the field by its
 * path ("roles.staging.max_ttl: ...") or, for JSON syntax, the line and
 * column ("jitca.json:3:7: ...").  The rules are documented for operators
 * in docs/configuration.md; keep the two in step.
 *
 * It does not touch the CA key, the ledger or the network: paths are only
 * resolved against the state directory, never opened (except jitca.json,
 * and a notify sink's secret file when config_notify_secret() is asked).
 * Works with ca/duration.c (durations), signer/names.c (the safe
 * alphabets, known options, CIDR lists), signer/cert.h (option structs)
 * and signer/fileio.h (reading jitca.json).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <openssl/crypto.h>

#include "ca/config.h"
#include "ca/store/store.h"
#include "signer/base/fileio.h"
#include "signer/base/sha256.h"
#include "signer/names.h"
#include "signer/p11.h"

#define CONFIG_FILE "jitca.json"
#define FIELD_LEN 256 /* a field path in a message */
#define QUOTE_LEN 72 /* a quoted value in a message */
#define LISTEN_MAX 300
#define HOST_MAX 253
#define NAME_RULE                                                              \
	"(allowed: A-Z a-z 0-9 _ . @ -, not starting with . @ -, "             \
	"at most 64 characters)"
#define CRITICAL_KNOWN "force-command, source-address, verify-required"
#define EXTENSIONS_KNOWN                                                       \
	"no-touch-required, permit-X11-forwarding, "                           \
	"permit-agent-forwarding, permit-port-forwarding, permit-pty, "        \
	"permit-user-rc"

/* What jitcad init writes (docs/configuration.md); must load unchanged. */
static const char example_config[] =
    "{\n"
    "  \"listen\": \"127.0.0.1:8443\",\n"
    "  \"ca\": {\"key\": \"ca_key.pem\", \"backdate\": \"1m\", "
    "\"hard_max_ttl\": \"24h\"},\n"
    "  \"ledger\": {\"url\": \"ledger.db\"},\n"
    "  \"request_ttl\": \"1h\",\n"
    "  \"auditors\": [\"security\"],\n"
    "  \"hosts\": [\"hosts\"],\n"
    "  \"roles\": {\n"
    "    \"prod-debug\": {\n"
    "      \"principals\": [\"{{user}}\", \"debug\"],\n"
    "      \"default_ttl\": \"30m\",\n"
    "      \"max_ttl\": \"2h\",\n"
    "      \"requesters\": [\"engineering\"],\n"
    "      \"approvers\": [\"sre-leads\"],\n"
    "      \"approvals_required\": 1,\n"
    "      \"break_glass\": {\"max_ttl\": \"15m\"},\n"
    "      \"critical_options\": {\"source-address\": "
    "\"10.0.0.0/8,127.0.0.0/8\"},\n"
    "      \"extensions\": [\"permit-pty\"]\n"
    "    },\n"
    "    \"staging\": {\n"
    "      \"principals\": [\"{{user}}\"],\n"
    "      \"max_ttl\": \"8h\",\n"
    "      \"requesters\": [\"engineering\"],\n"
    "      \"approvals_required\": 0,\n"
    "      \"extensions\": [\"permit-pty\", \"permit-port-forwarding\"]\n"
    "    }\n"
    "  }\n"
    "}\n";

static const char *const top_keys[] = {"listen", "ca", "ledger", "request_ttl",
    "auditors", "hosts", "limits", "roles", "trusted_proxies", "public_url",
    "notify", "oidc", "host_domains", "server", NULL};
static const char *const oidc_keys[] = {"issuer", "client_id",
    "client_secret_file", "username_claim", "groups_claim", "scopes",
    "algorithms", "approver_max_auth_age", "session_max_ttl", NULL};
static const char *const notify_keys[] = {"name", "url", "format", "events",
    "roles", "secret_file", "timeout", "max_backoff", "alert_after", NULL};
/* notify[].events, in CONFIG_NOTIFY_* bit order. */
static const char *const notify_events[] = {"request.created",
    "request.approved", "request.denied", "request.expired",
    "request.withdrawn", "cert.issued", "cert.revoked", "break-glass", NULL};
static const char *const limits_keys[] = {"requests_per_minute", NULL};
static const char *const server_keys[] = {
    "threads", "connections_per_client", NULL};
static const char *const ca_keys[] = {"key", "key_file", "host_key",
    "ledger_key", "backdate", "hard_max_ttl", "host_max_ttl", "pkcs11_module",
    "pin_file", "pkcs11_allow_network", NULL};
static const char *const ledger_keys[] = {
    "url", "path", "origin", "checkpoint_interval", NULL};
static const char *const role_keys[] = {"principals", "default_ttl", "max_ttl",
    "requesters", "approvers", "approvals_required", "critical_options",
    "extensions", "break_glass", NULL};
static const char *const break_glass_keys[] = {"max_ttl", NULL};

/* Parsing state: where messages go, and the config being built. */
struct ctx {
	char *err; /* CONFIG_ERR_LEN bytes, or NULL */
	struct config *c;
	char hard_text[DURATION_FMT_LEN]; /* ca.hard_max_ttl as written */
};

/* Write "field: message" (field "" is the top level); ERR_CONFIG. */
static int cfg_err(struct ctx *x, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
cfg_err(struct ctx *x, const char *field, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->err == NULL)
		return ERR_CONFIG;
	n = snprintf(x->err, CONFIG_ERR_LEN,
	    "%s: ", *field == '\0' ? "top level" : field);
	if (n < 0 || n >= CONFIG_ERR_LEN)
		return ERR_CONFIG;
	va_start(ap, fmt);
	vsnprintf(x->err + n, CONFIG_ERR_LEN - (size_t)n, fmt, ap);
	va_end(ap);
	return ERR_CONFIG;
}

static int
cfg_oom(struct ctx *x)
{
	if (x->err != NULL)
		snprintf(x->err, CONFIG_ERR_LEN, "out of memory");
	return ERR_ALLOC;
}

/*
 * s in double quotes for a message: '"' and '\' escaped, other bytes
 * outside printable ASCII as \xNN, cut with "..." to fit buf.
 */
static const char *
quote(char *buf, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	buf[o++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char piece[5];
		size_t plen = 0;

		if (c == '"' || c == '\\') {
			piece[plen++] = '\\';
			piece[plen++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			piece[plen++] = '\\';
			piece[plen++] = 'x';
			piece[plen++] = hex[c >> 4];
			piece[plen++] = hex[c & 0xf];
		} else
			piece[plen++] = (char)c;
		/* Keep room for "...", the closing quote and the NUL. */
		if (o + plen + 5 > len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, piece, plen);
		o += plen;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* The JSON type of v as a message fragment ("got an integer"). */
static const char *
jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "an unknown type";
}

/*
 * "parent.key" (or "key" at the top level) into out.  Parts are short
 * (role names are at most 64 bytes, keys are known names); a longer result
 * is cut, which only shortens a message.
 */
static void
field_join(char *out, size_t len, const char *parent, const char *key)
{
	int n;

	if (*parent == '\0')
		n = snprintf(out, len, "%s", key);
	else
		n = snprintf(out, len, "%s.%s", parent, key);
	if (n < 0)
		out[0] = '\0';
}

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

/* Every key of obj (NULL: none) must be in allowed (NULL-terminated). */
static int
check_keys(
    struct ctx *x, const char *field, json_t *obj, const char *const *allowed)
{
	char q[QUOTE_LEN];
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(obj, k, v)
	{
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return cfg_err(
			    x, field, "unknown key %s", quote(q, sizeof(q), k));
	}
	return 0;
}

/* obj[key] as an object (borrowed), NULL when absent. */
static int
get_object(struct ctx *x, json_t *obj, const char *parent, const char *key,
    json_t **out)
{
	json_t *v = json_object_get(obj, key);
	char field[FIELD_LEN];

	*out = NULL;
	if (v == NULL)
		return 0;
	field_join(field, sizeof(field), parent, key);
	if (!json_is_object(v))
		return cfg_err(
		    x, field, "expected an object, got %s", jtype(v));
	*out = v;
	return 0;
}

/* A checkpoint origin (also the note key name): no spaces, no "+". */
static int
origin_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("._-/:", s[i]) == NULL)
			return 0;
	}
	return i > 0 && i <= CONFIG_MAX_ORIGIN;
}

/* obj[key] as a string (borrowed), NULL when absent. */
static int
get_string(struct ctx *x, json_t *obj, const char *parent, const char *key,
    const char **out)
{
	json_t *v = json_object_get(obj, key);
	char field[FIELD_LEN];

	*out = NULL;
	if (v == NULL)
		return 0;
	field_join(field, sizeof(field), parent, key);
	if (!json_is_string(v))
		return cfg_err(x, field, "expected a string, got %s", jtype(v));
	/* jansson refuses \u0000 by default; stay safe if that changes. */
	if (strlen(json_string_value(v)) != json_string_length(v))
		return cfg_err(x, field, "contains a NUL character");
	*out = json_string_value(v);
	return 0;
}

/*
 * obj[key] as a duration, dflt when absent; over max is refused with
 * "... is longer than <maxname> (<maxtext>)", maxtext being the limit as
 * the operator wrote it (NULL: max formatted).  When text is not NULL and
 * the key is present, the value as written is copied there.
 */
static int
get_duration(struct ctx *x, json_t *obj, const char *parent, const char *key,
    uint64_t dflt, uint64_t max, const char *maxname, const char *maxtext,
    uint64_t *out, char text[DURATION_FMT_LEN])
{
	json_t *v = json_object_get(obj, key);
	char field[FIELD_LEN], q[QUOTE_LEN], mbuf[DURATION_FMT_LEN];
	const char *s, *why = NULL;
	uint64_t d;

	*out = dflt;
	if (v == NULL)
		return 0;
	field_join(field, sizeof(field), parent, key);
	if (!json_is_string(v))
		return cfg_err(x, field,
		    "expected a duration string like \"30m\", got %s",
		    jtype(v));
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return cfg_err(x, field, "contains a NUL character");
	if (duration_parse_why(s, &d, &why) != 0)
		return cfg_err(x, field, "%s is not a duration: %s",
		    quote(q, sizeof(q), s), why);
	/* s parsed, so it is short and plain: print it as written. */
	if (d > max) {
		duration_format(mbuf, sizeof(mbuf), max);
		return cfg_err(x, field, "%s is longer than %s (%s)", s,
		    maxname, maxtext != NULL ? maxtext : mbuf);
	}
	if (text != NULL)
		snprintf(text, DURATION_FMT_LEN, "%s", s);
	*out = d;
	return 0;
}

/* A path field: absent means dflt; made absolute against state_dir. */
static int
get_path(struct ctx *x, json_t *obj, const char *parent, const char *key,
    const char *dflt, char **out)
{
	char field[FIELD_LEN];
	const char *s;
	size_t dlen, slen;
	int r;

	*out = NULL;
	if ((r = get_string(x, obj, parent, key, &s)) != 0)
		return r;
	if (s == NULL)
		s = dflt;
	field_join(field, sizeof(field), parent, key);
	if (*s == '\0')
		return cfg_err(x, field, "must not be empty");
	if (has_control(s))
		return cfg_err(x, field, "contains a control character");
	slen = strlen(s);
	dlen = strlen(x->c->state_dir);
	if (slen >= PATH_MAX || (s[0] != '/' && dlen + 1 + slen >= PATH_MAX))
		return cfg_err(x, field, "path is too long (at most %d bytes)",
		    PATH_MAX - 1);
	if (s[0] == '/')
		*out = strdup(s);
	else if ((*out = malloc(dlen + 1 + slen + 1)) != NULL) {
		memcpy(*out, x->c->state_dir, dlen);
		(*out)[dlen] = '/';
		memcpy(*out + dlen + 1, s, slen + 1);
	}
	if (*out == NULL)
		return cfg_oom(x);
	return 0;
}

/*
 * A key source (ca.key, ca.host_key, ca.ledger_key): a "pkcs11:" URI
 * (p11.h), checked with p11_uri_parse() and kept as written, or else a
 * path as get_path() makes it.
 */
static int
get_key_source(
    struct ctx *x, json_t *obj, const char *key, const char *dflt, char **out)
{
	char field[FIELD_LEN];
	struct p11_uri *u = NULL;
	const char *s;
	int r;

	*out = NULL;
	if ((r = get_string(x, obj, "ca", key, &s)) != 0)
		return r;
	if (s == NULL || !p11_uri_is(s))
		return get_path(x, obj, "ca", key, dflt, out);
	field_join(field, sizeof(field), "ca", key);
	if ((r = p11_uri_parse(&u, s)) != 0)
		return cfg_err(x, field, "%s", err_str(r));
	p11_uri_free(u);
	if ((*out = strdup(s)) == NULL)
		return cfg_oom(x);
	return 0;
}

/* ca.pkcs11_module (an absolute path) and ca.pin_file (a path), both
 * optional: a key URI may carry module-path and pin-source instead;
 * ca.pkcs11_allow_network, a boolean (default false). */
static int
get_pkcs11(struct ctx *x, json_t *ca)
{
	const char *s;
	json_t *v;
	int r;

	if ((r = get_string(x, ca, "ca", "pkcs11_module", &s)) != 0)
		return r;
	if (s != NULL) {
		if (s[0] != '/' || has_control(s) || strlen(s) >= PATH_MAX)
			return cfg_err(
			    x, "ca.pkcs11_module", "must be an absolute path");
		if ((x->c->pkcs11_module = strdup(s)) == NULL)
			return cfg_oom(x);
	}
	v = json_object_get(ca, "pkcs11_allow_network");
	if (v != NULL && !json_is_boolean(v))
		return cfg_err(x, "ca.pkcs11_allow_network",
		    "expected true or false, got %s", jtype(v));
	x->c->pkcs11_allow_network = v != NULL && json_is_true(v);
	if ((r = get_string(x, ca, "ca", "pin_file", &s)) != 0)
		return r;
	if (s == NULL)
		return 0;
	return get_path(x, ca, "ca", "pin_file", NULL, &x->c->pin_file);
}

/*
 * The name under which obj holds a setting that was renamed: key, or
 * old (its name in earlier versions, still read) when only that is
 * given.  Both at once is refused: which one wins would be a guess.
 */
static int
renamed_key(struct ctx *x, json_t *obj, const char *parent, const char *key,
    const char *old, const char **which)
{
	char field[FIELD_LEN];

	*which = key;
	if (json_object_get(obj, old) == NULL)
		return 0;
	if (json_object_get(obj, key) != NULL) {
		field_join(field, sizeof(field), parent, old);
		return cfg_err(x, field,
		    "is the old name of %s.%s; give one of them, not both",
		    parent, key);
	}
	*which = old;
	return 0;
}

/* Copy the strings of array v (checked by the caller; NULL is empty) into
 * a new array *out of *n new strings.  On failure *out holds the *n made
 * so far, for the caller's free. */
static int
strv_copy(struct ctx *x, json_t *v, char ***out, size_t *n)
{
	size_t i, count = json_array_size(v);

	if ((*out = calloc(count ? count : 1, sizeof(**out))) == NULL)
		return cfg_oom(x);
	for (i = 0; i < count; i++) {
		if (((*out)[i] = strdup(
			 json_string_value(json_array_get(v, i)))) == NULL)
			return cfg_oom(x);
		(*n)++;
	}
	return 0;
}

/*
 * obj[key] as a list of group names (new array of new strings).  Absent
 * means empty unless need_one, which also refuses an empty list.
 */
static int
get_groups(struct ctx *x, json_t *obj, const char *parent, const char *key,
    int need_one, char ***out, size_t *n)
{
	json_t *v = json_object_get(obj, key), *e;
	char field[FIELD_LEN], efield[FIELD_LEN + 24], q[QUOTE_LEN];
	size_t i, count;

	*out = NULL;
	*n = 0;
	field_join(field, sizeof(field), parent, key);
	if (v == NULL) {
		if (need_one)
			return cfg_err(
			    x, parent, "missing required key \"%s\"", key);
		count = 0;
	} else if (!json_is_array(v))
		return cfg_err(x, field,
		    "expected an array of group names, got %s", jtype(v));
	else
		count = json_array_size(v);
	if (count == 0 && need_one)
		return cfg_err(x, field, "needs at least one group");
	if (count > CONFIG_MAX_GROUPS)
		return cfg_err(x, field, "too many groups (at most %d)",
		    CONFIG_MAX_GROUPS);
	for (i = 0; i < count; i++) {
		const char *s;

		e = json_array_get(v, i);
		snprintf(efield, sizeof(efield), "%s[%zu]", field, i);
		if (!json_is_string(e))
			return cfg_err(x, efield,
			    "expected a group name (a string), got %s",
			    jtype(e));
		s = json_string_value(e);
		if (strlen(s) != json_string_length(e) ||
		    !name_principal_valid(s))
			return cfg_err(x, efield,
			    "%s is not a valid group name " NAME_RULE,
			    quote(q, sizeof(q), s));
	}
	return strv_copy(x, v, out, n);
}

/*
 * "trusted_proxies": the reverse proxies whose X-Forwarded-For jitcad
 * serve believes (web/http.h): an array of IPv4/IPv6 addresses, each
 * with an optional /prefix and no host bits past it; absent means none.
 */
static int
get_proxies(struct ctx *x, json_t *obj, char ***out, size_t *n)
{
	json_t *v = json_object_get(obj, "trusted_proxies"), *e;
	char efield[48], q[QUOTE_LEN];
	size_t i, count = 0;

	*out = NULL;
	*n = 0;
	if (v != NULL && !json_is_array(v))
		return cfg_err(x, "trusted_proxies",
		    "expected an array of addresses or CIDRs, got %s",
		    jtype(v));
	if (v != NULL)
		count = json_array_size(v);
	if (count > CONFIG_MAX_PROXIES)
		return cfg_err(x, "trusted_proxies",
		    "too many entries (at most %d)", CONFIG_MAX_PROXIES);
	for (i = 0; i < count; i++) {
		const char *s;

		e = json_array_get(v, i);
		snprintf(efield, sizeof(efield), "trusted_proxies[%zu]", i);
		if (!json_is_string(e))
			return cfg_err(x, efield,
			    "expected an address or CIDR (a string), got %s",
			    jtype(e));
		s = json_string_value(e);
		if (strlen(s) != json_string_length(e) ||
		    strchr(s, ',') != NULL || name_cidr_list_check(s) != 0)
			return cfg_err(x, efield,
			    "%s is not an IP address or CIDR (e.g. "
			    "\"10.0.0.5\", \"10.1.0.0/16\", \"fd00::/8\"; no "
			    "host bits past the prefix)",
			    quote(q, sizeof(q), s));
	}
	return count == 0 ? 0 : strv_copy(x, v, out, n);
}

/*
 * "host_domains": the known_hosts patterns that jitca ssh-config puts
 * before the host CA key in its @cert-authority line: each a host name,
 * optionally after "*." (e.g. "*.prod.example.com"); absent means none.
 */
static int
get_host_domains(struct ctx *x, json_t *obj, char ***out, size_t *n)
{
	json_t *v = json_object_get(obj, "host_domains"), *e;
	char efield[48], q[QUOTE_LEN];
	const char *s;
	size_t i, count = 0;

	*out = NULL;
	*n = 0;
	if (v != NULL && !json_is_array(v))
		return cfg_err(x, "host_domains",
		    "expected an array of host name patterns, got %s",
		    jtype(v));
	if (v != NULL)
		count = json_array_size(v);
	if (count > CONFIG_MAX_HOST_DOMAINS)
		return cfg_err(x, "host_domains",
		    "too many entries (at most %d)", CONFIG_MAX_HOST_DOMAINS);
	for (i = 0; i < count; i++) {
		e = json_array_get(v, i);
		snprintf(efield, sizeof(efield), "host_domains[%zu]", i);
		if (!json_is_string(e))
			return cfg_err(x, efield,
			    "expected a host name pattern (a string), got %s",
			    jtype(e));
		s = json_string_value(e);
		if (strlen(s) != json_string_length(e) ||
		    !name_host_valid(strncmp(s, "*.", 2) == 0 ? s + 2 : s))
			return cfg_err(x, efield,
			    "%s is not a host name or \"*.\" and a host name "
			    "(e.g. \"*.prod.example.com\")",
			    quote(q, sizeof(q), s));
	}
	return count == 0 ? 0 : strv_copy(x, v, out, n);
}

static int
principal_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '@' ||
	    c == '-';
}

/*
 * Whether principal template t can only expand (for valid user names) to
 * principals in the safe alphabet: literal text from the principal
 * alphabet and "{{user}}" placeholders, a literal first character from
 * [A-Za-z0-9_], short enough to leave room for a one-letter user.
 * expand_template() re-checks the actual result.
 */
static int
template_check(const char *t, const char **why)
{
	size_t i = 0, lit = 0, nuser = 0;

	if (*t == '\0') {
		*why = "it is empty";
		return ERR_CONFIG;
	}
	while (t[i] != '\0') {
		unsigned char c = (unsigned char)t[i];

		if (c == '{' && t[i + 1] == '{') {
			if (strncmp(t + i, "{{user}}", 8) == 0) {
				nuser++;
				i += 8;
				continue;
			}
			*why = strstr(t + i + 2, "}}") == NULL
			    ? "unterminated \"{{\""
			    : "unknown placeholder (only {{user}} is "
			      "supported)";
			return ERR_CONFIG;
		}
		if (!principal_char(c)) {
			*why = "it has a character outside A-Z a-z 0-9 _ . @ -";
			return ERR_CONFIG;
		}
		if (i == 0 && (c == '.' || c == '@' || c == '-')) {
			*why = "it starts with \".\", \"@\" or \"-\"";
			return ERR_CONFIG;
		}
		lit++;
		i++;
	}
	if (lit + nuser > NAME_PRINCIPAL_MAX) {
		*why = nuser > 0 ? "too long: it leaves no room for the user "
				   "name (principals have at most 64 "
				   "characters)"
				 : "longer than 64 characters";
		return ERR_CONFIG;
	}
	return 0;
}

static int
role_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct role *)a)->name, ((const struct role *)b)->name);
}

static int
parse_principals(struct ctx *x, struct role *r, json_t *obj, const char *rf)
{
	json_t *v = json_object_get(obj, "principals"), *e;
	char field[FIELD_LEN], efield[FIELD_LEN + 24], q[QUOTE_LEN];
	const char *why = NULL;
	size_t i, count;

	field_join(field, sizeof(field), rf, "principals");
	if (v == NULL)
		return cfg_err(x, rf, "missing required key \"principals\"");
	if (!json_is_array(v))
		return cfg_err(x, field,
		    "expected an array of principal templates, got %s",
		    jtype(v));
	if ((count = json_array_size(v)) == 0)
		return cfg_err(x, field, "a role needs at least one principal");
	if (count > CERT_MAX_PRINCIPALS)
		return cfg_err(x, field, "too many principals (at most %d)",
		    CERT_MAX_PRINCIPALS);
	for (i = 0; i < count; i++) {
		const char *s;

		e = json_array_get(v, i);
		snprintf(efield, sizeof(efield), "%s[%zu]", field, i);
		if (!json_is_string(e))
			return cfg_err(x, efield,
			    "expected a principal template (a string), got %s",
			    jtype(e));
		s = json_string_value(e);
		if (strlen(s) != json_string_length(e))
			return cfg_err(x, efield, "contains a NUL character");
		if (template_check(s, &why) != 0)
			return cfg_err(x, efield,
			    "%s is not a safe principal template: %s",
			    quote(q, sizeof(q), s), why);
	}
	return strv_copy(x, v, &r->principals, &r->nprincipals);
}

/* One critical option's value (name is known); a new string or NULL. */
static int
parse_option_value(
    struct ctx *x, const char *field, const char *name, json_t *v, char **value)
{
	char q[QUOTE_LEN];
	const char *s;
	int has_value = 0;

	*value = NULL;
	(void)name_critical_known(name, &has_value);
	if (!has_value) {
		/* verify-required: a flag, written as true (documented). */
		if (!json_is_true(v))
			return cfg_err(x, field,
			    "expected true (it is a flag), got %s", jtype(v));
		return 0;
	}
	if (!json_is_string(v))
		return cfg_err(x, field, "expected a string, got %s", jtype(v));
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return cfg_err(x, field, "contains a NUL character");
	if (*s == '\0')
		return cfg_err(x, field, "must not be empty");
	if (strlen(s) > CONFIG_MAX_OPTION_VALUE)
		return cfg_err(x, field, "longer than %d characters",
		    CONFIG_MAX_OPTION_VALUE);
	if (has_control(s))
		return cfg_err(x, field, "contains a control character");
	if (strcmp(name, "source-address") == 0 && name_cidr_list_check(s) != 0)
		return cfg_err(x, field,
		    "%s is not a valid address list (comma-separated IPv4 or "
		    "IPv6 addresses with optional /prefix, no spaces, no host "
		    "bits set, e.g. \"10.0.0.0/8,2001:db8::/32\")",
		    quote(q, sizeof(q), s));
	if ((*value = strdup(s)) == NULL)
		return cfg_oom(x);
	return 0;
}

static int
parse_critical(struct ctx *x, struct role *r, json_t *obj, const char *rf)
{
	char field[FIELD_LEN], ofield[FIELD_LEN + 32], q[QUOTE_LEN];
	json_t *opts = NULL, *v;
	const char *k;
	size_t n;
	int rr;

	if ((rr = get_object(x, obj, rf, "critical_options", &opts)) != 0)
		return rr;
	if (opts == NULL)
		return 0;
	field_join(field, sizeof(field), rf, "critical_options");
	if ((n = json_object_size(opts)) == 0)
		return 0;
	if ((r->critical = calloc(n, sizeof(*r->critical))) == NULL)
		return cfg_oom(x);
	json_object_foreach(opts, k, v)
	{
		struct cert_option *o = &r->critical[r->ncritical];

		if (!name_critical_known(k, NULL))
			return cfg_err(x, field,
			    "unknown critical option %s (known: " CRITICAL_KNOWN
			    ")",
			    quote(q, sizeof(q), k));
		field_join(ofield, sizeof(ofield), field, k);
		if ((o->name = strdup(k)) == NULL)
			return cfg_oom(x);
		r->ncritical++;
		if ((rr = parse_option_value(x, ofield, k, v, &o->value)) != 0)
			return rr;
	}
	if (cert_options_sort(r->critical, r->ncritical) != 0)
		return cfg_err(x, field, "a critical option is listed twice");
	return 0;
}

static int
parse_extensions(struct ctx *x, struct role *r, json_t *obj, const char *rf)
{
	json_t *v = json_object_get(obj, "extensions"), *e;
	char field[FIELD_LEN], efield[FIELD_LEN + 24], q[QUOTE_LEN];
	size_t i, j, count;

	if (v == NULL)
		return 0;
	field_join(field, sizeof(field), rf, "extensions");
	if (!json_is_array(v))
		return cfg_err(x, field,
		    "expected an array of extension names, got %s", jtype(v));
	if ((count = json_array_size(v)) == 0)
		return 0;
	/* Each known extension at most once. */
	if (count > 16)
		return cfg_err(x, field, "too many extensions (at most 16)");
	if ((r->extensions = calloc(count, sizeof(*r->extensions))) == NULL)
		return cfg_oom(x);
	for (i = 0; i < count; i++) {
		const char *s;

		e = json_array_get(v, i);
		snprintf(efield, sizeof(efield), "%s[%zu]", field, i);
		if (!json_is_string(e))
			return cfg_err(x, efield,
			    "expected an extension name (a string), got %s",
			    jtype(e));
		s = json_string_value(e);
		if (strcmp(s, "break-glass@jitca") == 0)
			return cfg_err(x, efield,
			    "break-glass@jitca is added by jitca to "
			    "break-glass certificates only (see "
			    "\"break_glass\")");
		if (strlen(s) != json_string_length(e) ||
		    !name_extension_known(s))
			return cfg_err(x, efield,
			    "unknown extension %s (known: " EXTENSIONS_KNOWN
			    ")",
			    quote(q, sizeof(q), s));
		for (j = 0; j < r->nextensions; j++)
			if (strcmp(r->extensions[j].name, s) == 0)
				return cfg_err(x, efield, "%s is listed twice",
				    quote(q, sizeof(q), s));
		if ((r->extensions[r->nextensions].name = strdup(s)) == NULL)
			return cfg_oom(x);
		r->nextensions++;
	}
	if (cert_options_sort(r->extensions, r->nextensions) != 0)
		return cfg_err(x, field, "an extension is listed twice");
	return 0;
}

static int
parse_role(struct ctx *x, struct role *r, json_t *obj, const char *rf)
{
	char max_text[DURATION_FMT_LEN] = "";
	json_t *v;
	int rr;

	if ((rr = check_keys(x, rf, obj, role_keys)) != 0)
		return rr;
	if ((rr = parse_principals(x, r, obj, rf)) != 0)
		return rr;
	if (json_object_get(obj, "max_ttl") == NULL)
		return cfg_err(x, rf, "missing required key \"max_ttl\"");
	if ((rr = get_duration(x, obj, rf, "max_ttl", 0, x->c->hard_max_ttl,
		 "ca.hard_max_ttl", x->hard_text, &r->max_ttl, max_text)) != 0)
		return rr;
	if ((rr = get_duration(x, obj, rf, "default_ttl", r->max_ttl,
		 r->max_ttl, "max_ttl", max_text, &r->default_ttl, NULL)) != 0)
		return rr;
	if ((rr = get_groups(x, obj, rf, "requesters", 1, &r->requesters,
		 &r->nrequesters)) != 0)
		return rr;
	if ((rr = get_groups(x, obj, rf, "approvers", 0, &r->approvers,
		 &r->napprovers)) != 0)
		return rr;
	/* Absent means 1: a role is approved by someone unless it says 0. */
	r->approvals_required = 1;
	if ((v = json_object_get(obj, "approvals_required")) != NULL) {
		char field[FIELD_LEN];
		json_int_t n;

		field_join(field, sizeof(field), rf, "approvals_required");
		if (!json_is_integer(v))
			return cfg_err(
			    x, field, "expected an integer, got %s", jtype(v));
		n = json_integer_value(v);
		if (n < 0 || n > CONFIG_MAX_APPROVALS)
			return cfg_err(x, field,
			    "%" JSON_INTEGER_FORMAT " is out of range (0..%d)",
			    n, CONFIG_MAX_APPROVALS);
		r->approvals_required = (unsigned)n;
	}
	if ((rr = parse_critical(x, r, obj, rf)) != 0)
		return rr;
	if ((rr = parse_extensions(x, r, obj, rf)) != 0)
		return rr;
	if ((v = json_object_get(obj, "break_glass")) != NULL) {
		char field[FIELD_LEN];

		field_join(field, sizeof(field), rf, "break_glass");
		if (!json_is_object(v))
			return cfg_err(x, field,
			    "expected an object like {\"max_ttl\": \"15m\"}, "
			    "got %s",
			    jtype(v));
		if ((rr = check_keys(x, field, v, break_glass_keys)) != 0)
			return rr;
		if (json_object_get(v, "max_ttl") == NULL)
			return cfg_err(
			    x, field, "missing required key \"max_ttl\"");
		if ((rr = get_duration(x, v, field, "max_ttl", 0, r->max_ttl,
			 "max_ttl", max_text, &r->break_glass_ttl, NULL)) != 0)
			return rr;
		if (r->break_glass_ttl == 0)
			return cfg_err(x, field, "max_ttl must be above 0");
	}
	if (r->approvals_required > 0 && r->napprovers == 0)
		return cfg_err(x, rf,
		    "approvals_required is %u but no approver groups are "
		    "listed (add \"approvers\" or set approvals_required to 0)",
		    r->approvals_required);
	return 0;
}

static int
parse_roles(struct ctx *x, json_t *root)
{
	struct config *c = x->c;
	char rf[FIELD_LEN], q[QUOTE_LEN];
	json_t *roles = NULL, *v;
	const char *k;
	size_t n;
	int rr;

	if ((rr = get_object(x, root, "", "roles", &roles)) != 0)
		return rr;
	if (roles == NULL)
		return cfg_err(x, "", "missing required key \"roles\"");
	if ((n = json_object_size(roles)) == 0)
		return cfg_err(x, "roles",
		    "no roles are defined; at least one is required");
	if (n > CONFIG_MAX_ROLES)
		return cfg_err(x, "roles", "too many roles (at most %d)",
		    CONFIG_MAX_ROLES);
	if ((c->roles = calloc(n, sizeof(*c->roles))) == NULL)
		return cfg_oom(x);
	json_object_foreach(roles, k, v)
	{
		struct role *r = &c->roles[c->nroles];

		if (!name_principal_valid(k))
			return cfg_err(x, "roles",
			    "%s is not a valid role name " NAME_RULE,
			    quote(q, sizeof(q), k));
		field_join(rf, sizeof(rf), "roles", k);
		if (!json_is_object(v))
			return cfg_err(
			    x, rf, "expected an object, got %s", jtype(v));
		if ((r->name = strdup(k)) == NULL)
			return cfg_oom(x);
		c->nroles++;
		if ((rr = parse_role(x, r, v, rf)) != 0)
			return rr;
	}
	qsort(c->roles, c->nroles, sizeof(*c->roles), role_cmp);
	return 0;
}

/*
 * obj.key of the top-level object obj (keys: the ones it may have), an
 * integer min..max into *out, which keeps its default when obj or key
 * is absent.  hint ends the out-of-range message.
 */
static int
get_section_uint(struct ctx *x, json_t *root, const char *obj,
    const char *const *keys, const char *key, json_int_t min, json_int_t max,
    const char *hint, unsigned *out)
{
	json_t *o = NULL, *v;
	json_int_t n;
	char field[64];
	int rr;

	if ((rr = get_object(x, root, "", obj, &o)) != 0 ||
	    (rr = check_keys(x, obj, o, keys)) != 0)
		return rr;
	if (o == NULL || (v = json_object_get(o, key)) == NULL)
		return 0;
	(void)snprintf(field, sizeof(field), "%s.%s", obj, key);
	if (!json_is_integer(v))
		return cfg_err(
		    x, field, "expected an integer, got %s", jtype(v));
	n = json_integer_value(v);
	if (n < min || n > max)
		return cfg_err(x, field,
		    "%" JSON_INTEGER_FORMAT
		    " is out of range (%" JSON_INTEGER_FORMAT
		    "..%" JSON_INTEGER_FORMAT "%s)",
		    n, min, max, hint);
	*out = (unsigned)n;
	return 0;
}

/* "limits": {"requests_per_minute": N}, all optional. */
static int
parse_limits(struct ctx *x, json_t *root)
{
	x->c->requests_per_minute = CONFIG_DEFAULT_REQUESTS_PER_MINUTE;
	return get_section_uint(x, root, "limits", limits_keys,
	    "requests_per_minute", 0, CONFIG_MAX_REQUESTS_PER_MINUTE,
	    "; 0 turns the limit off", &x->c->requests_per_minute);
}

/* "server": {"threads": N, "connections_per_client": N}, all optional. */
static int
parse_server(struct ctx *x, json_t *root)
{
	int rr;

	x->c->server_threads = CONFIG_DEFAULT_SERVER_THREADS;
	x->c->server_connections_per_client =
	    CONFIG_DEFAULT_SERVER_CONNECTIONS_PER_CLIENT;
	if ((rr = get_section_uint(x, root, "server", server_keys, "threads", 1,
		 CONFIG_MAX_SERVER_THREADS, "", &x->c->server_threads)) != 0)
		return rr;
	return get_section_uint(x, root, "server", server_keys,
	    "connections_per_client", 1, CONFIG_MAX_SERVER_THREADS, "",
	    &x->c->server_connections_per_client);
}

/*
 * An outbound URL (notify[].url, public_url): "https://HOST[:PORT][/...]"
 * without user info, fragment, spaces or control characters, at most
 * CONFIG_MAX_URL bytes; plain "http://" only to a literal loopback
 * address (127.0.0.0/8, [::1]): the body of a notification is the
 * ledger's own record of who asked for what and why.  0, or -1 with *why
 * a static fragment.
 */
static int
url_check(const char *u, const char **why)
{
	const char *h, *e, *port = NULL;
	char host[HOST_MAX + 3];
	struct in_addr a4;
	size_t hl;
	int http = 0;

	if (strlen(u) > CONFIG_MAX_URL)
		return *why = "longer than 2048 bytes", -1;
	for (h = u; *h != '\0'; h++)
		if ((unsigned char)*h <= 0x20 || (unsigned char)*h >= 0x7f)
			return *why = "contains a space, a control character "
				      "or a non-ASCII byte",
			       -1;
	if (strncmp(u, "https://", 8) == 0)
		h = u + 8;
	else if (strncmp(u, "http://", 7) == 0) {
		h = u + 7;
		http = 1;
	} else
		return *why = "not an http:// or https:// URL", -1;
	if (strchr(u, '#') != NULL)
		return *why = "has a fragment (#...)", -1;
	e = h + strcspn(h, "/?");
	if (memchr(h, '@', (size_t)(e - h)) != NULL)
		return *why = "has user info (user@host): put credentials in "
			      "the secret file, not the URL",
		       -1;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (rb == NULL)
			return *why = "has an unclosed [IPv6] host", -1;
		if (rb + 1 < e && rb[1] != ':')
			return *why = "has bytes after the [IPv6] host", -1;
		if (rb + 1 < e)
			port = rb + 2;
		hl = (size_t)(rb + 1 - h);
	} else {
		const char *c = memchr(h, ':', (size_t)(e - h));

		if (c != NULL)
			port = c + 1;
		hl = (size_t)((c != NULL ? c : e) - h);
	}
	if (hl == 0)
		return *why = "has no host", -1;
	if (hl > HOST_MAX + 2)
		return *why = "has a host name longer than 253 bytes", -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (port != NULL) {
		unsigned long pn = 0;
		const char *q;

		if (port == e)
			return *why = "has an empty port", -1;
		for (q = port; q < e; q++) {
			if (*q < '0' || *q > '9' || q - port >= 5)
				return *why = "has a port that is not 1..65535",
				       -1;
			pn = pn * 10 + (unsigned long)(*q - '0');
		}
		if (pn == 0 || pn > 65535)
			return *why = "has a port that is not 1..65535", -1;
	}
	if (http && strcmp(host, "[::1]") != 0 &&
	    !(inet_pton(AF_INET, host, &a4) == 1 &&
		(ntohl(a4.s_addr) >> 24) == 127))
		return *why = "plain http is only for a literal loopback "
			      "address (127.0.0.1, [::1]); use https",
		       -1;
	return 0;
}

/* "public_url": optional, a URL as url_check() wants, stored without
 * trailing slashes. */
static int
parse_public_url(struct ctx *x, json_t *root)
{
	const char *s, *why = NULL;
	char q[QUOTE_LEN];
	size_t len;
	int rr;

	if ((rr = get_string(x, root, "", "public_url", &s)) != 0)
		return rr;
	if (s == NULL)
		return 0;
	if (url_check(s, &why) != 0)
		return cfg_err(x, "public_url", "%s is not a usable URL: %s",
		    quote(q, sizeof(q), s), why);
	if (strpbrk(s, "?") != NULL)
		return cfg_err(x, "public_url", "must not have a query (?...)");
	len = strlen(s);
	while (len > 0 && s[len - 1] == '/')
		len--;
	if ((x->c->public_url = strndup(s, len)) == NULL)
		return cfg_oom(x);
	return 0;
}

/* notify[i].events: a non-empty list of notify_events names (absent:
 * every kind). */
static int
parse_notify_events(
    struct ctx *x, json_t *obj, const char *field, unsigned *out)
{
	json_t *v = json_object_get(obj, "events"), *e;
	char ef[FIELD_LEN + 32], q[QUOTE_LEN];
	size_t i, k;

	*out = CONFIG_NOTIFY_ALL;
	if (v == NULL)
		return 0;
	snprintf(ef, sizeof(ef), "%s.events", field);
	if (!json_is_array(v) || json_array_size(v) == 0)
		return cfg_err(x, ef,
		    "expected a non-empty array of event names, got %s",
		    json_is_array(v) ? "an empty array" : jtype(v));
	*out = 0;
	json_array_foreach(v, i, e)
	{
		snprintf(ef, sizeof(ef), "%s.events[%zu]", field, i);
		if (!json_is_string(e))
			return cfg_err(x, ef,
			    "expected an event name (a string), got %s",
			    jtype(e));
		for (k = 0; notify_events[k] != NULL; k++)
			if (strcmp(json_string_value(e), notify_events[k]) == 0)
				break;
		if (notify_events[k] == NULL)
			return cfg_err(x, ef,
			    "unknown event %s (known: request.created, "
			    "request.approved, request.denied, "
			    "request.expired, request.withdrawn, cert.issued, "
			    "cert.revoked, break-glass)",
			    quote(q, sizeof(q), json_string_value(e)));
		*out |= 1u << k;
	}
	return 0;
}

/* The default sink name: "url-" + 12 hex digits of SHA-256(url). */
static int
notify_default_name(struct ctx *x, const char *url, char **out)
{
	uint8_t d[SHA256_LEN];
	char buf[4 + 12 + 1];
	size_t i;

	if (sha256(d, url, strlen(url)) != 0)
		return cfg_oom(x);
	memcpy(buf, "url-", 4);
	for (i = 0; i < 6; i++)
		snprintf(buf + 4 + 2 * i, 3, "%02x", d[i]);
	if ((*out = strdup(buf)) == NULL)
		return cfg_oom(x);
	return 0;
}

static int
parse_notify_one(
    struct ctx *x, struct config_notify *n, json_t *obj, const char *field)
{
	const char *s, *why = NULL;
	char ef[FIELD_LEN + 32], q[QUOTE_LEN];
	size_t i;
	int rr;

	if (!json_is_object(obj))
		return cfg_err(
		    x, field, "expected an object, got %s", jtype(obj));
	if ((rr = check_keys(x, field, obj, notify_keys)) != 0)
		return rr;
	if ((rr = get_string(x, obj, field, "url", &s)) != 0)
		return rr;
	if (s == NULL)
		return cfg_err(x, field, "missing required key \"url\"");
	snprintf(ef, sizeof(ef), "%s.url", field);
	/* The URL may hold a secret (Slack's do): not quoted back. */
	if (url_check(s, &why) != 0)
		return cfg_err(x, ef, "not a usable URL: %s", why);
	if ((n->url = strdup(s)) == NULL)
		return cfg_oom(x);
	if ((rr = get_string(x, obj, field, "name", &s)) != 0)
		return rr;
	if (s != NULL) {
		snprintf(ef, sizeof(ef), "%s.name", field);
		if (!name_principal_valid(s) ||
		    strlen(s) > CONFIG_NOTIFY_NAME_MAX)
			return cfg_err(x, ef,
			    "%s is not a valid sink name " NAME_RULE,
			    quote(q, sizeof(q), s));
		if ((n->name = strdup(s)) == NULL)
			return cfg_oom(x);
	} else if ((rr = notify_default_name(x, n->url, &n->name)) != 0)
		return rr;
	if ((rr = get_string(x, obj, field, "format", &s)) != 0)
		return rr;
	if (s == NULL || strcmp(s, "json") == 0)
		n->format = CONFIG_NOTIFY_JSON;
	else if (strcmp(s, "slack") == 0)
		n->format = CONFIG_NOTIFY_SLACK;
	else {
		snprintf(ef, sizeof(ef), "%s.format", field);
		return cfg_err(x, ef, "%s is not a format (json, slack)",
		    quote(q, sizeof(q), s));
	}
	if ((rr = parse_notify_events(x, obj, field, &n->events)) != 0)
		return rr;
	if ((rr = get_groups(
		 x, obj, field, "roles", 0, &n->roles, &n->nroles)) != 0)
		return rr;
	for (i = 0; i < n->nroles; i++) {
		if (config_role(x->c, n->roles[i]) != NULL)
			continue;
		snprintf(ef, sizeof(ef), "%s.roles[%zu]", field, i);
		return cfg_err(x, ef, "no role named %s",
		    quote(q, sizeof(q), n->roles[i]));
	}
	if (json_object_get(obj, "secret_file") == NULL)
		return cfg_err(
		    x, field, "missing required key \"secret_file\"");
	if ((rr = get_path(
		 x, obj, field, "secret_file", NULL, &n->secret_file)) != 0 ||
	    (rr = get_duration(x, obj, field, "timeout",
		 CONFIG_NOTIFY_DEFAULT_TIMEOUT, CONFIG_NOTIFY_MAX_TIMEOUT,
		 "the maximum", NULL, &n->timeout, NULL)) != 0 ||
	    (rr = get_duration(x, obj, field, "max_backoff",
		 CONFIG_NOTIFY_DEFAULT_MAX_BACKOFF,
		 CONFIG_NOTIFY_MAX_MAX_BACKOFF, "the maximum", NULL,
		 &n->max_backoff, NULL)) != 0 ||
	    (rr = get_duration(x, obj, field, "alert_after",
		 CONFIG_NOTIFY_DEFAULT_ALERT_AFTER,
		 CONFIG_NOTIFY_MAX_ALERT_AFTER, "the maximum", NULL,
		 &n->alert_after, NULL)) != 0)
		return rr;
	/* The duration grammar refuses 0: every wait is at least 1s. */
	return 0;
}

/* "notify": optional, an array of sinks with distinct names. */
static int
parse_notify(struct ctx *x, json_t *root)
{
	json_t *v = json_object_get(root, "notify");
	char field[32], q[QUOTE_LEN];
	size_t i, j, count;
	int rr;

	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return cfg_err(x, "notify",
		    "expected an array of sinks, got %s", jtype(v));
	if ((count = json_array_size(v)) > CONFIG_MAX_NOTIFY)
		return cfg_err(x, "notify", "too many sinks (at most %d)",
		    CONFIG_MAX_NOTIFY);
	if (count == 0)
		return 0;
	if ((x->c->notify = calloc(count, sizeof(*x->c->notify))) == NULL)
		return cfg_oom(x);
	for (i = 0; i < count; i++) {
		x->c->nnotify = i + 1;
		snprintf(field, sizeof(field), "notify[%zu]", i);
		if ((rr = parse_notify_one(x, &x->c->notify[i],
			 json_array_get(v, i), field)) != 0)
			return rr;
		for (j = 0; j < i; j++) {
			if (strcmp(x->c->notify[j].name,
				x->c->notify[i].name) != 0)
				continue;
			snprintf(field, sizeof(field), "notify[%zu].name", i);
			return cfg_err(x, field,
			    "%s is also the name of notify[%zu] (two sinks "
			    "need two names, or two URLs)",
			    quote(q, sizeof(q), x->c->notify[i].name), j);
		}
	}
	return 0;
}

/* A claim or scope name: 1..CONFIG_OIDC_MAX_CLAIM_NAME printable ASCII
 * bytes without space, quote or backslash. */
static int
oidc_word_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > CONFIG_OIDC_MAX_CLAIM_NAME)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

/* A required (dflt NULL) or defaulted string of the oidc block that must
 * pass oidc_word_ok() when word is set; *out is new. */
static int
oidc_string(struct ctx *x, json_t *o, const char *key, const char *dflt,
    int word, char **out)
{
	char field[FIELD_LEN], q[QUOTE_LEN];
	const char *s = NULL;
	int rr;

	field_join(field, sizeof(field), "oidc", key);
	if ((rr = get_string(x, o, "oidc", key, &s)) != 0)
		return rr;
	if (s == NULL && dflt == NULL)
		return cfg_err(x, "oidc", "missing required key \"%s\"", key);
	if (s == NULL)
		s = dflt;
	if (*s == '\0')
		return cfg_err(x, field, "must not be empty");
	if (has_control(s) || strlen(s) > 1024)
		return cfg_err(x, field,
		    "contains a control character or is over 1024 bytes");
	if (word && !oidc_word_ok(s))
		return cfg_err(x, field,
		    "%s is not a claim name (1..%d printable characters, no "
		    "space or quote)",
		    quote(q, sizeof(q), s), CONFIG_OIDC_MAX_CLAIM_NAME);
	if ((*out = strdup(s)) == NULL)
		return cfg_oom(x);
	return 0;
}

/* oidc.scopes: an array of scope names, "openid" among them. */
static int
oidc_scopes(struct ctx *x, json_t *o, struct config_oidc *d)
{
	static const char *const dflt[] = {"openid", "profile"};
	json_t *v = json_object_get(o, "scopes"), *e;
	char efield[FIELD_LEN], q[QUOTE_LEN];
	size_t i, n;
	int openid = 0;

	if (v == NULL) {
		n = sizeof(dflt) / sizeof(dflt[0]);
		if ((d->scopes = calloc(n, sizeof(*d->scopes))) == NULL)
			return cfg_oom(x);
		for (i = 0; i < n; i++) {
			if ((d->scopes[i] = strdup(dflt[i])) == NULL)
				return cfg_oom(x);
			d->nscopes++;
		}
		return 0;
	}
	if (!json_is_array(v))
		return cfg_err(x, "oidc.scopes",
		    "expected an array of scope names, got %s", jtype(v));
	n = json_array_size(v);
	if (n > CONFIG_OIDC_MAX_SCOPES)
		return cfg_err(x, "oidc.scopes", "too many scopes (at most %d)",
		    CONFIG_OIDC_MAX_SCOPES);
	json_array_foreach(v, i, e)
	{
		const char *s = json_string_value(e);

		snprintf(efield, sizeof(efield), "oidc.scopes[%zu]", i);
		if (s == NULL)
			return cfg_err(
			    x, efield, "expected a string, got %s", jtype(e));
		if (strlen(s) != json_string_length(e) || !oidc_word_ok(s))
			return cfg_err(x, efield, "%s is not a scope name",
			    quote(q, sizeof(q), s));
		if (strcmp(s, "openid") == 0)
			openid = 1;
	}
	if (!openid)
		return cfg_err(x, "oidc.scopes",
		    "must include \"openid\" (without it there is no ID "
		    "token)");
	return strv_copy(x, v, &d->scopes, &d->nscopes);
}

/* oidc.algorithms: ["RS256", "ES256"] or a part of it. */
static int
oidc_algs(struct ctx *x, json_t *o, struct config_oidc *d)
{
	json_t *v = json_object_get(o, "algorithms"), *e;
	char efield[FIELD_LEN], q[QUOTE_LEN];
	size_t i;

	d->algs = CONFIG_OIDC_RS256 | CONFIG_OIDC_ES256;
	if (v == NULL)
		return 0;
	if (!json_is_array(v) || json_array_size(v) == 0)
		return cfg_err(x, "oidc.algorithms",
		    "expected a non-empty array such as [\"RS256\", "
		    "\"ES256\"], got %s",
		    jtype(v));
	d->algs = 0;
	json_array_foreach(v, i, e)
	{
		const char *s = json_string_value(e);

		snprintf(efield, sizeof(efield), "oidc.algorithms[%zu]", i);
		if (s != NULL && strcmp(s, "RS256") == 0)
			d->algs |= CONFIG_OIDC_RS256;
		else if (s != NULL && strcmp(s, "ES256") == 0)
			d->algs |= CONFIG_OIDC_ES256;
		else
			return cfg_err(x, efield,
			    "%s: only \"RS256\" and \"ES256\" are accepted "
			    "(never \"none\" or HS*)",
			    s != NULL ? quote(q, sizeof(q), s) : jtype(e));
	}
	return 0;
}

/* "oidc": {"issuer", "client_id", ...}; absent: no identity provider. */
static int
parse_oidc(struct ctx *x, json_t *root)
{
	struct config_oidc *d;
	json_t *o = NULL;
	const char *secret = NULL;
	char q[QUOTE_LEN];
	int rr;

	if ((rr = get_object(x, root, "", "oidc", &o)) != 0 ||
	    (rr = check_keys(x, "oidc", o, oidc_keys)) != 0)
		return rr;
	if (o == NULL)
		return 0;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return cfg_oom(x);
	x->c->oidc = d;
	if ((rr = oidc_string(x, o, "issuer", NULL, 0, &d->issuer)) != 0)
		return rr;
	if (strncmp(d->issuer, "https://", 8) != 0 &&
	    strncmp(d->issuer, "http://127.", 11) != 0 &&
	    strncmp(d->issuer, "http://[::1]", 12) != 0)
		return cfg_err(x, "oidc.issuer",
		    "%s must be an https URL (plain http only for a "
		    "loopback address)",
		    quote(q, sizeof(q), d->issuer));
	if ((rr = oidc_string(x, o, "client_id", NULL, 0, &d->client_id)) !=
		0 ||
	    (rr = oidc_string(x, o, "username_claim", "preferred_username", 1,
		 &d->username_claim)) != 0 ||
	    (rr = oidc_string(
		 x, o, "groups_claim", "groups", 1, &d->groups_claim)) != 0 ||
	    (rr = oidc_scopes(x, o, d)) != 0 || (rr = oidc_algs(x, o, d)) != 0)
		return rr;
	if ((rr = get_string(x, o, "oidc", "client_secret_file", &secret)) != 0)
		return rr;
	if (secret != NULL &&
	    (rr = get_path(x, o, "oidc", "client_secret_file", NULL,
		 &d->client_secret_file)) != 0)
		return rr;
	if ((rr = get_duration(x, o, "oidc", "approver_max_auth_age",
		 CONFIG_OIDC_DEFAULT_AUTH_AGE, CONFIG_OIDC_MAX_AUTH_AGE,
		 "the maximum", NULL, &d->approver_max_auth_age, NULL)) != 0 ||
	    (rr = get_duration(x, o, "oidc", "session_max_ttl",
		 CONFIG_OIDC_DEFAULT_SESSION_TTL, CONFIG_OIDC_MAX_SESSION_TTL,
		 "the maximum", NULL, &d->session_max_ttl, NULL)) != 0)
		return rr;
	return 0;
}

static int
parse_top(struct ctx *x, json_t *root)
{
	struct config *c = x->c;
	json_t *ca = NULL, *ledger = NULL;
	const char *listen = NULL, *why = NULL, *name = NULL, *url = NULL;
	char q[QUOTE_LEN];
	int rr;

	if (!json_is_object(root))
		return cfg_err(
		    x, "", "expected an object, got %s", jtype(root));
	if ((rr = check_keys(x, "", root, top_keys)) != 0)
		return rr;

	if ((rr = get_string(x, root, "", "listen", &listen)) != 0)
		return rr;
	if (listen == NULL)
		listen = "127.0.0.1:8443";
	if (config_listen_split(listen, NULL, NULL, &why) != 0)
		return cfg_err(x, "listen", "%s is not HOST:PORT: %s",
		    quote(q, sizeof(q), listen), why);
	if ((c->listen = strdup(listen)) == NULL)
		return cfg_oom(x);

	/* An absent "ca" or "ledger" (NULL) reads as {}: every default. */
	if ((rr = get_object(x, root, "", "ca", &ca)) != 0 ||
	    (rr = check_keys(x, "ca", ca, ca_keys)) != 0 ||
	    (rr = renamed_key(x, ca, "ca", "key", "key_file", &name)) != 0 ||
	    (rr = get_key_source(x, ca, name, "ca_key.pem", &c->ca_key_file)) !=
		0 ||
	    (rr = get_key_source(x, ca, "host_key", "host_ca_key.pem",
		 &c->host_key_file)) != 0 ||
	    (rr = get_key_source(x, ca, "ledger_key", "ledger_key.pem",
		 &c->ledger_key_file)) != 0 ||
	    (rr = get_pkcs11(x, ca)) != 0 ||
	    (rr = get_duration(x, ca, "ca", "host_max_ttl", 30 * 86400,
		 CONFIG_MAX_HOST_TTL, "the maximum", NULL, &c->host_max_ttl,
		 NULL)) != 0 ||
	    (rr = get_duration(x, ca, "ca", "backdate", 60, CONFIG_MAX_BACKDATE,
		 "the maximum", NULL, &c->backdate, NULL)) != 0 ||
	    (rr = get_duration(x, ca, "ca", "hard_max_ttl", 86400,
		 CONFIG_MAX_HARD_TTL, "the maximum", NULL, &c->hard_max_ttl,
		 x->hard_text)) != 0)
		return rr;
	if ((rr = get_object(x, root, "", "ledger", &ledger)) != 0 ||
	    (rr = check_keys(x, "ledger", ledger, ledger_keys)) != 0 ||
	    (rr = renamed_key(x, ledger, "ledger", "url", "path", &name)) !=
		0 ||
	    (rr = get_string(x, ledger, "ledger", name, &url)) != 0)
		return rr;
	/* A sqlite file, or a PostgreSQL database (postgres://...); no other
	 * URL may become a relative path. */
	if (url != NULL && store_is_pg_url(url)) {
		if (store_url_has_password(url))
			return cfg_err(x, "ledger.url",
			    "a password does not belong in jitca.json; put it "
			    "in a passfile (PGPASSFILE or ?passfile=)");
		if (has_control(url))
			return cfg_err(
			    x, "ledger.url", "contains a control character");
		if ((c->ledger_path = strdup(url)) == NULL)
			return ERR_ALLOC;
	} else if (url != NULL && strstr(url, "://") != NULL)
		return cfg_err(x,
		    strcmp(name, "url") == 0 ? "ledger.url" : "ledger.path",
		    "%s: the ledger is a sqlite file path or a postgres:// "
		    "URL",
		    quote(q, sizeof(q), url));
	if (c->ledger_path == NULL &&
	    (rr = get_path(
		 x, ledger, "ledger", name, "ledger.db", &c->ledger_path)) != 0)
		return rr;
	/* ledger.origin: the checkpoints' origin line and note key name
	 * (ca/checkpoint.h checks it; NULL: derived from the CA key). */
	if ((rr = get_string(x, ledger, "ledger", "origin", &url)) != 0)
		return rr;
	if (url != NULL && !origin_valid(url))
		return cfg_err(x, "ledger.origin",
		    "%s: expected 1..%d characters of A-Z a-z 0-9 . _ - / :",
		    quote(q, sizeof(q), url), CONFIG_MAX_ORIGIN);
	if (url != NULL && (c->ledger_origin = strdup(url)) == NULL)
		return ERR_ALLOC;
	if ((rr = get_duration(x, ledger, "ledger", "checkpoint_interval", 60,
		 CONFIG_MAX_CHECKPOINT_INTERVAL, "the maximum", NULL,
		 &c->checkpoint_interval, NULL)) != 0)
		return rr;
	if ((rr = get_duration(x, root, "", "request_ttl", 3600,
		 CONFIG_MAX_REQUEST_TTL, "the maximum", NULL, &c->request_ttl,
		 NULL)) != 0)
		return rr;
	if ((rr = get_groups(
		 x, root, "", "auditors", 0, &c->auditors, &c->nauditors)) != 0)
		return rr;
	if ((rr = get_groups(x, root, "", "hosts", 0, &c->host_groups,
		 &c->nhost_groups)) != 0)
		return rr;
	if ((rr = parse_server(x, root)) != 0)
		return rr;
	if ((rr = parse_limits(x, root)) != 0)
		return rr;
	if ((rr = get_proxies(
		 x, root, &c->trusted_proxies, &c->ntrusted_proxies)) != 0)
		return rr;
	if ((rr = get_host_domains(
		 x, root, &c->host_domains, &c->nhost_domains)) != 0)
		return rr;
	if ((rr = parse_oidc(x, root)) != 0)
		return rr;
	if ((rr = parse_roles(x, root)) != 0 ||
	    (rr = parse_public_url(x, root)) != 0)
		return rr;
	/* After the roles: a sink's role filter names configured roles. */
	return parse_notify(x, root);
}

/* dir as an absolute path: realpath() when it exists, else joined to the
 * working directory, trailing slashes removed. */
static int
state_dir_absolute(struct ctx *x, const char *dir, char **out)
{
	char buf[PATH_MAX], cwd[PATH_MAX];
	size_t len;

	*out = NULL;
	if (realpath(dir, buf) != NULL) {
		if ((*out = strdup(buf)) == NULL)
			return cfg_oom(x);
		return 0;
	}
	if (dir[0] == '/')
		len = (size_t)snprintf(buf, sizeof(buf), "%s", dir);
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			if (x->err != NULL)
				snprintf(x->err, CONFIG_ERR_LEN,
				    "cannot find the working directory: %s",
				    strerror(errno));
			return ERR_SYSTEM;
		}
		len = (size_t)snprintf(buf, sizeof(buf), "%s/%s",
		    strcmp(cwd, "/") == 0 ? "" : cwd, dir);
	}
	if (len >= sizeof(buf)) {
		if (x->err != NULL)
			snprintf(x->err, CONFIG_ERR_LEN,
			    "state directory path is too long");
		return ERR_CONFIG;
	}
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	if ((*out = strdup(buf)) == NULL)
		return cfg_oom(x);
	return 0;
}

int
config_parse(struct config **out, const char *state_dir, const char *json,
    size_t len, char errbuf[CONFIG_ERR_LEN])
{
	struct ctx x = {errbuf, NULL, "24h"};
	json_error_t jerr;
	json_t *root = NULL;
	int r = ERR_INTERNAL;

	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (out == NULL || state_dir == NULL || *state_dir == '\0' ||
	    (json == NULL && len != 0))
		return ERR_INVALID_ARG;
	*out = NULL;
	if (len > CONFIG_MAX_FILE) {
		if (errbuf != NULL)
			snprintf(errbuf, CONFIG_ERR_LEN,
			    CONFIG_FILE ": larger than the limit of %u bytes",
			    CONFIG_MAX_FILE);
		return ERR_TOO_LARGE;
	}
	root = json_loadb(
	    json != NULL ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (errbuf != NULL)
			snprintf(errbuf, CONFIG_ERR_LEN,
			    CONFIG_FILE ":%d:%d: %s", jerr.line, jerr.column,
			    jerr.text);
		r = ERR_CONFIG;
		goto out;
	}
	if ((x.c = calloc(1, sizeof(*x.c))) == NULL) {
		r = cfg_oom(&x);
		goto out;
	}
	if ((r = state_dir_absolute(&x, state_dir, &x.c->state_dir)) != 0)
		goto out;
	if ((r = parse_top(&x, root)) != 0)
		goto out;
	*out = x.c;
	x.c = NULL;
	r = 0;
out:
	json_decref(root);
	config_free(x.c);
	return r;
}

/* The whole of path into a new buffer, at most CONFIG_MAX_FILE bytes. */
static int
read_config_file(struct ctx *x, const char *path, char **buf, size_t *len)
{
	int r, e;

	r = fileio_read_small(path, CONFIG_MAX_FILE, buf, len);
	e = errno;
	if (r == 0)
		return 0;
	if (r == ERR_ALLOC)
		return cfg_oom(x);
	if (r == ERR_SYSTEM && (e == EISDIR || e == EINVAL))
		r = ERR_CONFIG; /* a directory, FIFO, device... */
	if (x->err == NULL)
		return r;
	if (r == ERR_TOO_LARGE)
		snprintf(x->err, CONFIG_ERR_LEN,
		    "%s: larger than the limit of %u bytes", path,
		    CONFIG_MAX_FILE);
	else if (r == ERR_CONFIG)
		snprintf(
		    x->err, CONFIG_ERR_LEN, "%s: not a regular file", path);
	else
		snprintf(x->err, CONFIG_ERR_LEN, "%s: cannot open: %s%s", path,
		    strerror(e),
		    e == ENOENT ? " (create it with \"jitcad init\")" : "");
	return r;
}

int
config_load(
    struct config **out, const char *state_dir, char errbuf[CONFIG_ERR_LEN])
{
	struct ctx x = {errbuf, NULL, "24h"};
	char *path = NULL, *buf = NULL;
	size_t len = 0, dlen;
	int r = ERR_INTERNAL;

	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (out == NULL || state_dir == NULL || *state_dir == '\0')
		return ERR_INVALID_ARG;
	*out = NULL;
	dlen = strlen(state_dir);
	if ((path = malloc(dlen + sizeof("/" CONFIG_FILE))) == NULL) {
		r = cfg_oom(&x);
		goto out;
	}
	memcpy(path, state_dir, dlen);
	memcpy(path + dlen, "/" CONFIG_FILE, sizeof("/" CONFIG_FILE));
	if ((r = read_config_file(&x, path, &buf, &len)) != 0)
		goto out;
	if ((r = config_parse(out, state_dir, buf, len, errbuf)) != 0)
		goto out;
	r = 0;
out:
	free(path);
	free(buf);
	return r;
}

void
config_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
role_clear(struct role *r)
{
	free(r->name);
	config_strv_free(r->principals, r->nprincipals);
	config_strv_free(r->requesters, r->nrequesters);
	config_strv_free(r->approvers, r->napprovers);
	cert_options_free(r->critical, r->ncritical);
	cert_options_free(r->extensions, r->nextensions);
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->state_dir);
	free(c->listen);
	free(c->ca_key_file);
	free(c->host_key_file);
	free(c->ledger_key_file);
	free(c->pkcs11_module);
	free(c->pin_file);
	free(c->ledger_path);
	free(c->ledger_origin);
	config_strv_free(c->auditors, c->nauditors);
	config_strv_free(c->host_groups, c->nhost_groups);
	config_strv_free(c->host_domains, c->nhost_domains);
	config_strv_free(c->trusted_proxies, c->ntrusted_proxies);
	if (c->oidc != NULL) {
		free(c->oidc->issuer);
		free(c->oidc->client_id);
		free(c->oidc->client_secret_file);
		free(c->oidc->username_claim);
		free(c->oidc->groups_claim);
		config_strv_free(c->oidc->scopes, c->oidc->nscopes);
		free(c->oidc);
	}
	if (c->roles != NULL) {
		for (i = 0; i < c->nroles; i++)
			role_clear(&c->roles[i]);
		free(c->roles);
	}
	for (i = 0; c->notify != NULL && i < c->nnotify; i++) {
		free(c->notify[i].name);
		free(c->notify[i].url);
		config_strv_free(c->notify[i].roles, c->notify[i].nroles);
		free(c->notify[i].secret_file);
	}
	free(c->notify);
	free(c->public_url);
	free(c);
}

int
config_notify_secret(const struct config *c, size_t i, char **secret,
    size_t *len, char errbuf[CONFIG_ERR_LEN])
{
	char *buf = NULL;
	size_t n = 0;
	int r = ERR_INTERNAL;

	*secret = NULL;
	*len = 0;
	if (c == NULL || i >= c->nnotify)
		return ERR_INVALID_ARG;
	r = fileio_read_small(
	    c->notify[i].secret_file, CONFIG_NOTIFY_SECRET_MAX + 2, &buf, &n);
	if (r != 0) {
		if (errbuf != NULL)
			snprintf(errbuf, CONFIG_ERR_LEN,
			    "notify[%zu].secret_file: %s: %s", i,
			    c->notify[i].secret_file,
			    r == ERR_TOO_LARGE	  ? "larger than 4096 bytes"
				: r == ERR_SYSTEM ? strerror(errno)
						  : err_str(r));
		return r == ERR_SYSTEM ? ERR_SYSTEM : ERR_CONFIG;
	}
	if (n > 0 && buf[n - 1] == '\n') {
		buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '\r')
			buf[--n] = '\0';
	}
	if (n == 0 || n > CONFIG_NOTIFY_SECRET_MAX ||
	    memchr(buf, '\0', n) != NULL) {
		if (errbuf != NULL)
			snprintf(errbuf, CONFIG_ERR_LEN,
			    "notify[%zu].secret_file: %s: %s", i,
			    c->notify[i].secret_file,
			    n == 0 ? "is empty"
				: n > CONFIG_NOTIFY_SECRET_MAX
				? "larger than 4096 bytes"
				: "contains a NUL byte");
		config_notify_secret_free(buf, n);
		return ERR_CONFIG;
	}
	*secret = buf;
	*len = n;
	return 0;
}

void
config_notify_secret_free(char *secret, size_t len)
{
	if (secret == NULL)
		return;
	OPENSSL_cleanse(secret, len);
	free(secret);
}

const char *
config_notify_event_name(unsigned bit)
{
	size_t k;

	for (k = 0; notify_events[k] != NULL; k++)
		if (bit == 1u << k)
			return notify_events[k];
	return NULL;
}

const struct role *
config_role(const struct config *c, const char *name)
{
	size_t lo = 0, hi;

	if (c == NULL || name == NULL)
		return NULL;
	hi = c->nroles;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(name, c->roles[mid].name);

		if (cmp == 0)
			return &c->roles[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int
config_groups_intersect(
    char *const *groups, size_t ngroups, char *const *list, size_t nlist)
{
	size_t i, j;

	if (groups == NULL || list == NULL)
		return 0;
	for (i = 0; i < ngroups; i++)
		for (j = 0; j < nlist; j++)
			if (groups[i] != NULL && list[j] != NULL &&
			    strcmp(groups[i], list[j]) == 0)
				return 1;
	return 0;
}

/* Template t with every "{{user}}" replaced by user, as a new string. */
static int
expand_template(char **out, const char *t, const char *user)
{
	size_t tlen = strlen(t), ulen = strlen(user), n = 0, o = 0, i;
	char *p = NULL;

	*out = NULL;
	/* A valid template is short; anything longer cannot expand to a
	 * valid principal, and the bound keeps the sizes below small. */
	if (tlen > 8 * (NAME_PRINCIPAL_MAX + 1) || ulen > NAME_PRINCIPAL_MAX)
		return ERR_CERT_BAD_PRINCIPAL;
	for (i = 0; i < tlen; i++)
		if (strncmp(t + i, "{{user}}", 8) == 0)
			n++;
	if ((p = malloc(tlen + n * ulen + 1)) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < tlen;) {
		if (strncmp(t + i, "{{user}}", 8) == 0) {
			memcpy(p + o, user, ulen);
			o += ulen;
			i += 8;
		} else
			p[o++] = t[i++];
	}
	p[o] = '\0';
	*out = p;
	return 0;
}

int
config_role_principals(
    const struct role *role, const char *user, char ***out, size_t *n)
{
	char **v = NULL, *p = NULL;
	size_t nv = 0, i, j;
	int r = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (role == NULL || user == NULL || out == NULL || n == NULL)
		return ERR_INVALID_ARG;
	if (!name_principal_valid(user))
		return ERR_BAD_NAME;
	if (role->nprincipals == 0)
		return ERR_CERT_NO_PRINCIPALS;
	if ((v = calloc(role->nprincipals, sizeof(*v))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < role->nprincipals; i++) {
		if ((r = expand_template(&p, role->principals[i], user)) != 0)
			goto out;
		if (!name_principal_valid(p)) {
			r = ERR_CERT_BAD_PRINCIPAL;
			goto out;
		}
		for (j = 0; j < nv; j++)
			if (strcmp(v[j], p) == 0)
				break;
		if (j < nv) {
			free(p);
			p = NULL;
			continue;
		}
		v[nv++] = p;
		p = NULL;
	}
	*out = v;
	*n = nv;
	v = NULL;
	r = 0;
out:
	free(p);
	config_strv_free(v, nv);
	return r;
}

static int
host_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-';
}

int
config_listen_split(
    const char *listen, char **host, unsigned *port, const char **why)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	const char *dummy = NULL, *colon, *h, *pp;
	size_t hlen, plen, i;
	unsigned long pv = 0;
	int digits_dots = 1;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (host != NULL)
		*host = NULL;
	if (port != NULL)
		*port = 0;
	if (listen == NULL || *listen == '\0') {
		*why = "it is empty";
		return ERR_CONFIG;
	}
	if (strlen(listen) > LISTEN_MAX) {
		*why = "it is too long";
		return ERR_CONFIG;
	}
	if ((colon = strrchr(listen, ':')) == NULL) {
		*why = "missing \":PORT\"";
		return ERR_CONFIG;
	}
	pp = colon + 1;
	plen = strlen(pp);
	if (plen == 0 || plen > 5 || (plen > 1 && pp[0] == '0')) {
		*why = "the port must be a number from 0 to 65535";
		return ERR_CONFIG;
	}
	for (i = 0; i < plen; i++) {
		if (pp[i] < '0' || pp[i] > '9') {
			*why = "the port must be a number from 0 to 65535";
			return ERR_CONFIG;
		}
		pv = pv * 10 + (unsigned long)(pp[i] - '0');
	}
	if (pv > 65535) {
		*why = "the port must be a number from 0 to 65535";
		return ERR_CONFIG;
	}
	h = listen;
	hlen = (size_t)(colon - listen);
	if (hlen == 0) {
		*why = "missing host (use 0.0.0.0 for every address)";
		return ERR_CONFIG;
	}
	if (h[0] == '[') {
		if (hlen < 3 || h[hlen - 1] != ']' ||
		    hlen - 2 >= sizeof(addr)) {
			*why = "bad IPv6 address in brackets";
			return ERR_CONFIG;
		}
		memcpy(addr, h + 1, hlen - 2);
		addr[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, addr, bin) != 1) {
			*why = "bad IPv6 address in brackets";
			return ERR_CONFIG;
		}
		h++;
		hlen -= 2;
	} else {
		if (memchr(h, ':', hlen) != NULL) {
			*why = "put IPv6 addresses in brackets, like "
			       "\"[::1]:8443\"";
			return ERR_CONFIG;
		}
		if (hlen > HOST_MAX) {
			*why = "the host name is too long";
			return ERR_CONFIG;
		}
		for (i = 0; i < hlen; i++) {
			unsigned char c = (unsigned char)h[i];

			if (!host_char(c)) {
				*why = "the host has a character outside A-Z "
				       "a-z 0-9 . -";
				return ERR_CONFIG;
			}
			if (c != '.' && (c < '0' || c > '9'))
				digits_dots = 0;
		}
		if (h[0] == '.' || h[0] == '-') {
			*why = "the host must start with a letter or digit";
			return ERR_CONFIG;
		}
		if (digits_dots) {
			memcpy(addr, h, hlen < sizeof(addr) ? hlen : 0);
			addr[hlen < sizeof(addr) ? hlen : 0] = '\0';
			if (inet_pton(AF_INET, addr, bin) != 1) {
				*why = "bad IPv4 address";
				return ERR_CONFIG;
			}
		}
	}
	if (host != NULL && (*host = strndup(h, hlen)) == NULL)
		return ERR_ALLOC;
	if (port != NULL)
		*port = (unsigned)pv;
	return 0;
}

const char *
config_example(void)
{
	return example_config;
}

/* The first literal principal equal to p (*role set), or NULL. */
static const char *
literal_principal(const struct config *c, const char *p, const char **role)
{
	size_t i, j;

	for (i = 0; i < c->nroles; i++) {
		for (j = 0; j < c->roles[i].nprincipals; j++) {
			const char *t = c->roles[i].principals[j];

			if (strstr(t, "{{user}}") == NULL &&
			    strcmp(t, p) == 0) {
				*role = c->roles[i].name;
				return t;
			}
		}
	}
	return NULL;
}

int
config_user_name_check(
    const struct config *c, const char *user, char *msg, size_t len)
{
	const char *lit, *lrole = NULL;
	char *p = NULL;
	size_t i, j;
	int r = ERR_INTERNAL;

	if (msg != NULL && len > 0)
		msg[0] = '\0';
	if (c == NULL || user == NULL)
		return ERR_INVALID_ARG;
	if (!name_principal_valid(user))
		return ERR_BAD_NAME;
	if ((lit = literal_principal(c, user, &lrole)) != NULL) {
		if (msg != NULL && len > 0)
			snprintf(msg, len,
			    "user \"%s\" is the principal \"%s\" of role %s",
			    user, lit, lrole);
		return ERR_NAME_IS_PRINCIPAL;
	}
	for (i = 0; i < c->nroles; i++) {
		for (j = 0; j < c->roles[i].nprincipals; j++) {
			const char *t = c->roles[i].principals[j];

			if (strstr(t, "{{user}}") == NULL)
				continue;
			if ((r = expand_template(&p, t, user)) != 0) {
				if (r == ERR_CERT_BAD_PRINCIPAL)
					continue; /* too long: never issued */
				goto out;
			}
			if ((lit = literal_principal(c, p, &lrole)) != NULL) {
				if (msg != NULL && len > 0)
					snprintf(msg, len,
					    "user \"%s\" expands \"%s\" of "
					    "role %s to \"%s\", the principal "
					    "\"%s\" of role %s",
					    user, t, c->roles[i].name, p, lit,
					    lrole);
				r = ERR_NAME_IS_PRINCIPAL;
				goto out;
			}
			free(p);
			p = NULL;
		}
	}
	r = 0;
out:
	free(p);
	return r;
}
