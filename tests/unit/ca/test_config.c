/*
 * test_config.c: ca/config.c and ca/duration.c: every refusal of
 * jitca.json with its exact message, durations both ways, the example
 * configuration, principal template expansion, the listen address check,
 * role lookup and group intersection, and loading from a real state
 * directory (missing file, directory, oversized file, symlinked dir).
 *
 * JSON inputs are written with ' for " (see jq()) so the tables stay
 * readable; the substitution keeps every byte's line and column.
 */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ca/config.h"
#include "signer/names.h"
#include "tests/lib/testutil.h"

/* s with every ' turned into " (a new string). */
static char *
jq(const char *s)
{
	char *t = strdup(s), *p;

	cr_assert_not_null(t);
	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

/* A minimal valid role body. */
#define ROLE_OK                                                                \
	"'principals': ['{{user}}'], 'max_ttl': '1h', 'requesters': ['eng'], " \
	"'approvals_required': 0"
/* A config with one role "r" made of ROLE_OK plus more keys. */
#define ONE_ROLE(more) "{'roles': {'r': {" ROLE_OK more "}}}"
/* A config with the given top-level keys in front of a valid role. */
#define TOP(more) "{" more "'roles': {'r': {" ROLE_OK "}}}"

struct broken {
	const char *json; /* ' for " */
	int code;
	const char *msg;
};

#define NAME_RULE_MSG                                                          \
	"(allowed: A-Z a-z 0-9 _ . @ -, not starting with . @ -, at most 64 "  \
	"characters)"

static const struct broken broken[] = {
    /* JSON syntax: jansson's text at its line and column. */
    {"{'roles': {},}", ERR_CONFIG,
	"jitca.json:1:14: string or '}' expected near '}'"},
    {"{\n  'listen': '1.2.3.4:1'\n  'roles': {}\n}", ERR_CONFIG,
	"jitca.json:3:9: '}' expected near '\"roles\"'"},
    {"{'listen': 'a:1',\n 'listen': 'b:2'}", ERR_CONFIG,
	"jitca.json:2:9: duplicate object key near '\"listen\"'"},
    {"", ERR_CONFIG, "jitca.json:1:0: '[' or '{' expected near end of file"},
    {"{'roles': {}} x", ERR_CONFIG,
	"jitca.json:1:15: end of file expected near 'x'"},
    {"{'roles':\n\n    tru}", ERR_CONFIG,
	"jitca.json:3:7: invalid token near 'tru'"},
    {"{'roles': {'r': {'principals': ['a\\u0000b']}}}", ERR_CONFIG,
	"jitca.json:1:42: \\u0000 is not allowed without JSON_ALLOW_NUL near "
	"'\"a\\u0000b\"'"},
    /* Shape of the top level. */
    {"[]", ERR_CONFIG, "top level: expected an object, got an array"},
    {"{'rolez': {}}", ERR_CONFIG, "top level: unknown key \"rolez\""},
    {"{'listen': '127.0.0.1:80'}", ERR_CONFIG,
	"top level: missing required key \"roles\""},
    {"{'roles': {}}", ERR_CONFIG,
	"roles: no roles are defined; at least one is required"},
    {"{'roles': []}", ERR_CONFIG, "roles: expected an object, got an array"},
    {"{'roles': {'r': 'x'}}", ERR_CONFIG,
	"roles.r: expected an object, got a string"},
    {"{'roles': {'bad name': {}}}", ERR_CONFIG,
	"roles: \"bad name\" is not a valid role name " NAME_RULE_MSG},
    {"{'roles': {'-r': {}}}", ERR_CONFIG,
	"roles: \"-r\" is not a valid role name " NAME_RULE_MSG},
    /* Unknown keys at every level. */
    {"{'roles': {'staging': {" ROLE_OK ", 'aprovers': ['x']}}}", ERR_CONFIG,
	"roles.staging: unknown key \"aprovers\""},
    {TOP("'ca': {'keyfile': 'k.pem'}, "), ERR_CONFIG,
	"ca: unknown key \"keyfile\""},
    {TOP("'ledger': {'path': 'l.db', 'wal': true}, "), ERR_CONFIG,
	"ledger: unknown key \"wal\""},
    {"{'r\\u00e9les': {}}", ERR_CONFIG,
	"top level: unknown key \"r\\xc3\\xa9les\""},
    /* listen */
    {TOP("'listen': 'localhost', "), ERR_CONFIG,
	"listen: \"localhost\" is not HOST:PORT: missing \":PORT\""},
    {TOP("'listen': '127.0.0.1:65536', "), ERR_CONFIG,
	"listen: \"127.0.0.1:65536\" is not HOST:PORT: the port must be a "
	"number from 0 to 65535"},
    {TOP("'listen': '::1:8443', "), ERR_CONFIG,
	"listen: \"::1:8443\" is not HOST:PORT: put IPv6 addresses in "
	"brackets, like \"[::1]:8443\""},
    {TOP("'listen': 8443, "), ERR_CONFIG,
	"listen: expected a string, got an integer"},
    /* ca and ledger */
    {TOP("'ca': {'backdate': '2h'}, "), ERR_CONFIG,
	"ca.backdate: 2h is longer than the maximum (1h)"},
    {TOP("'ca': {'hard_max_ttl': '31d'}, "), ERR_CONFIG,
	"ca.hard_max_ttl: 31d is longer than the maximum (30d)"},
    {TOP("'ca': {'key_file': ''}, "), ERR_CONFIG,
	"ca.key_file: must not be empty"},
    {TOP("'ca': 'ca_key.pem', "), ERR_CONFIG,
	"ca: expected an object, got a string"},
    {TOP("'ledger': {'path': 'a\\tb'}, "), ERR_CONFIG,
	"ledger.path: contains a control character"},
    {TOP("'ca': {'key': ''}, "), ERR_CONFIG, "ca.key: must not be empty"},
    {TOP("'ca': {'key': 'a.pem', 'key_file': 'b.pem'}, "), ERR_CONFIG,
	"ca.key_file: is the old name of ca.key; give one of them, not "
	"both"},
    {TOP("'ledger': {'url': 'a\\tb'}, "), ERR_CONFIG,
	"ledger.url: contains a control character"},
    {TOP("'ledger': {'url': 'x.db', 'path': 'y.db'}, "), ERR_CONFIG,
	"ledger.path: is the old name of ledger.url; give one of them, not "
	"both"},
    {TOP("'ledger': {'url': 'mysql://db/jitca'}, "), ERR_CONFIG,
	"ledger.url: \"mysql://db/jitca\": the ledger is a sqlite file path "
	"or a postgres:// URL"},
    {TOP("'ledger': {'url': 'postgres://jitca:secret@db/jitca'}, "), ERR_CONFIG,
	"ledger.url: a password does not belong in jitca.json; put it in a "
	"passfile (PGPASSFILE or ?passfile=)"},
    {TOP("'ledger': {'url': 'postgres://db/jitca?password=x'}, "), ERR_CONFIG,
	"ledger.url: a password does not belong in jitca.json; put it in a "
	"passfile (PGPASSFILE or ?passfile=)"},
    {TOP("'request_ttl': '0s', "), ERR_CONFIG,
	"request_ttl: \"0s\" is not a duration: zero is not allowed"},
    {TOP("'request_ttl': '8d', "), ERR_CONFIG,
	"request_ttl: 8d is longer than the maximum (7d)"},
    {TOP("'auditors': 'security', "), ERR_CONFIG,
	"auditors: expected an array of group names, got a string"},
    {TOP("'auditors': ['security', ''], "), ERR_CONFIG,
	"auditors[1]: \"\" is not a valid group name " NAME_RULE_MSG},
    /* Principals and their templates. */
    {"{'roles': {'r': {'max_ttl': '1h', 'requesters': ['e']}}}", ERR_CONFIG,
	"roles.r: missing required key \"principals\""},
    {"{'roles': {'r': {'principals': [], 'max_ttl': '1h'}}}", ERR_CONFIG,
	"roles.r.principals: a role needs at least one principal"},
    {"{'roles': {'r': {'principals': '{{user}}'}}}", ERR_CONFIG,
	"roles.r.principals: expected an array of principal templates, got a "
	"string"},
    {"{'roles': {'r': {'principals': ['a', 7]}}}", ERR_CONFIG,
	"roles.r.principals[1]: expected a principal template (a string), got "
	"an integer"},
    {"{'roles': {'r': {'principals': ['{{usr}}']}}}", ERR_CONFIG,
	"roles.r.principals[0]: \"{{usr}}\" is not a safe principal template: "
	"unknown placeholder (only {{user}} is supported)"},
    {"{'roles': {'r': {'principals': ['{{ user }}']}}}", ERR_CONFIG,
	"roles.r.principals[0]: \"{{ user }}\" is not a safe principal "
	"template: unknown placeholder (only {{user}} is supported)"},
    {"{'roles': {'r': {'principals': ['x', 'ops-{{user']}}}", ERR_CONFIG,
	"roles.r.principals[1]: \"ops-{{user\" is not a safe principal "
	"template: unterminated \"{{\""},
    {"{'roles': {'r': {'principals': ['*']}}}", ERR_CONFIG,
	"roles.r.principals[0]: \"*\" is not a safe principal template: it has "
	"a character outside A-Z a-z 0-9 _ . @ -"},
    {"{'roles': {'r': {'principals': ['{{user}},root']}}}", ERR_CONFIG,
	"roles.r.principals[0]: \"{{user}},root\" is not a safe principal "
	"template: it has a character outside A-Z a-z 0-9 _ . @ -"},
    {"{'roles': {'r': {'principals': ['a b']}}}", ERR_CONFIG,
	"roles.r.principals[0]: \"a b\" is not a safe principal template: it "
	"has a character outside A-Z a-z 0-9 _ . @ -"},
    {"{'roles': {'r': {'principals': ['-{{user}}']}}}", ERR_CONFIG,
	"roles.r.principals[0]: \"-{{user}}\" is not a safe principal "
	"template: it starts with \".\", \"@\" or \"-\""},
    {"{'roles': {'r': {'principals': ['']}}}", ERR_CONFIG,
	"roles.r.principals[0]: \"\" is not a safe principal template: it is "
	"empty"},
    {"{'roles': {'r': {'principals': ['{{user}}"
     "0123456789012345678901234567890123456789012345678901234567890123"
     "']}}}",
	ERR_CONFIG,
	"roles.r.principals[0]: \"{{user}}012345678901234567890123456789012345"
	"6789012345678901234567...\" is not a safe principal template: "
	"too long: it leaves no "
	"room for the user name (principals have at most 64 characters)"},
    {"{'roles': {'r': {'principals': ['"
     "01234567890123456789012345678901234567890123456789012345678901234"
     "']}}}",
	ERR_CONFIG,
	"roles.r.principals[0]: \"012345678901234567890123456789012345678901"
	"23456789012345678901234\" is not a safe principal template: "
	"longer than 64 "
	"characters"},
    /* TTLs */
    {"{'roles': {'r': {'principals': ['a']}}}", ERR_CONFIG,
	"roles.r: missing required key \"max_ttl\""},
    {"{'roles': {'prod-debug': {'principals': ['a'], 'max_ttl': '3d'}}}",
	ERR_CONFIG,
	"roles.prod-debug.max_ttl: 3d is longer than ca.hard_max_ttl (24h)"},
    {"{'ca': {'hard_max_ttl': '1440m'}, 'roles': {'r': {'principals': "
     "['a'], 'max_ttl': '25h'}}}",
	ERR_CONFIG,
	"roles.r.max_ttl: 25h is longer than ca.hard_max_ttl (1440m)"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '2h', "
     "'default_ttl': '3h'}}}",
	ERR_CONFIG, "roles.r.default_ttl: 3h is longer than max_ttl (2h)"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': 5}}}", ERR_CONFIG,
	"roles.r.max_ttl: expected a duration string like \"30m\", got an "
	"integer"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '5'}}}", ERR_CONFIG,
	"roles.r.max_ttl: \"5\" is not a duration: missing unit (use s, m, h "
	"or d)"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h30m'}}}", ERR_CONFIG,
	"roles.r.max_ttl: \"1h30m\" is not a duration: use one number and one "
	"unit, like \"90m\""},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'default_ttl': null}}}",
	ERR_CONFIG,
	"roles.r.default_ttl: expected a duration string like \"30m\", got "
	"null"},
    /* Requesters and approvers */
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h'}}}", ERR_CONFIG,
	"roles.r: missing required key \"requesters\""},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'requesters': []}}}",
	ERR_CONFIG, "roles.r.requesters: needs at least one group"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'requesters': ['eng ops']}}}",
	ERR_CONFIG,
	"roles.r.requesters[0]: \"eng ops\" is not a valid group name " NAME_RULE_MSG},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'requesters': ['e'], 'approvers': ['ok', '*']}}}",
	ERR_CONFIG,
	"roles.r.approvers[1]: \"*\" is not a valid group name " NAME_RULE_MSG},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'requesters': ['e'], 'approvers': [true]}}}",
	ERR_CONFIG,
	"roles.r.approvers[0]: expected a group name (a string), got true"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'requesters': ['e'], 'approvals_required': 1}}}",
	ERR_CONFIG,
	"roles.r: approvals_required is 1 but no approver groups are listed "
	"(add \"approvers\" or set approvals_required to 0)"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'requesters': ['e']}}}",
	ERR_CONFIG,
	"roles.r: approvals_required is 1 but no approver groups are listed "
	"(add \"approvers\" or set approvals_required to 0)"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'requesters': ['e'], 'approvers': ['x'], 'approvals_required': 11}}}",
	ERR_CONFIG, "roles.r.approvals_required: 11 is out of range (0..10)"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'requesters': ['e'], 'approvers': ['x'], 'approvals_required': -1}}}",
	ERR_CONFIG, "roles.r.approvals_required: -1 is out of range (0..10)"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'requesters': ['e'], 'approvers': ['x'], 'approvals_required': "
     "'1'}}}",
	ERR_CONFIG,
	"roles.r.approvals_required: expected an integer, got a string"},
    {"{'roles': {'r': {'principals': ['a'], 'max_ttl': '1h', "
     "'requesters': ['e'], 'approvers': ['x'], 'approvals_required': "
     "1.0}}}",
	ERR_CONFIG,
	"roles.r.approvals_required: expected an integer, got a real number"},
    /* Critical options */
    {ONE_ROLE(", 'critical_options': {'no-pty': ''}"), ERR_CONFIG,
	"roles.r.critical_options: unknown critical option \"no-pty\" (known: "
	"force-command, source-address, verify-required)"},
    {ONE_ROLE(", 'critical_options': ['verify-required']"), ERR_CONFIG,
	"roles.r.critical_options: expected an object, got an array"},
    {ONE_ROLE(", 'critical_options': {'force-command': ''}"), ERR_CONFIG,
	"roles.r.critical_options.force-command: must not be empty"},
    {ONE_ROLE(", 'critical_options': {'force-command': 'ls\\n-l'}"), ERR_CONFIG,
	"roles.r.critical_options.force-command: contains a control "
	"character"},
    {ONE_ROLE(", 'critical_options': {'force-command': ['ls']}"), ERR_CONFIG,
	"roles.r.critical_options.force-command: expected a string, got an "
	"array"},
    {ONE_ROLE(", 'critical_options': {'source-address': '10.0.0.1/8'}"),
	ERR_CONFIG,
	"roles.r.critical_options.source-address: \"10.0.0.1/8\" is not a "
	"valid address list (comma-separated IPv4 or IPv6 addresses with "
	"optional /prefix, no spaces, no host bits set, e.g. "
	"\"10.0.0.0/8,2001:db8::/32\")"},
    {ONE_ROLE(", 'critical_options': {'source-address': '10.0.0.0/8, "
	      "192.168.0.0/16'}"),
	ERR_CONFIG,
	"roles.r.critical_options.source-address: \"10.0.0.0/8, "
	"192.168.0.0/16\" is not a valid address list (comma-separated IPv4 "
	"or IPv6 addresses with optional /prefix, no spaces, no host bits "
	"set, e.g. \"10.0.0.0/8,2001:db8::/32\")"},
    {ONE_ROLE(", 'critical_options': {'verify-required': ''}"), ERR_CONFIG,
	"roles.r.critical_options.verify-required: expected true (it is a "
	"flag), got a string"},
    {ONE_ROLE(", 'critical_options': {'verify-required': false}"), ERR_CONFIG,
	"roles.r.critical_options.verify-required: expected true (it is a "
	"flag), got false"},
    /* Extensions */
    {ONE_ROLE(", 'extensions': ['permit-pty', 'permit-foo']"), ERR_CONFIG,
	"roles.r.extensions[1]: unknown extension \"permit-foo\" (known: "
	"no-touch-required, permit-X11-forwarding, permit-agent-forwarding, "
	"permit-port-forwarding, permit-pty, permit-user-rc)"},
    {ONE_ROLE(", 'extensions': ['permit-x11-forwarding']"), ERR_CONFIG,
	"roles.r.extensions[0]: unknown extension \"permit-x11-forwarding\" "
	"(known: no-touch-required, permit-X11-forwarding, "
	"permit-agent-forwarding, permit-port-forwarding, permit-pty, "
	"permit-user-rc)"},
    {ONE_ROLE(", 'extensions': ['permit-pty', 'permit-pty']"), ERR_CONFIG,
	"roles.r.extensions[1]: \"permit-pty\" is listed twice"},
    {ONE_ROLE(", 'extensions': 'permit-pty'"), ERR_CONFIG,
	"roles.r.extensions: expected an array of extension names, got a "
	"string"},
    {ONE_ROLE(", 'extensions': {'permit-pty': true}"), ERR_CONFIG,
	"roles.r.extensions: expected an array of extension names, got an "
	"object"}, /* limits */
    {TOP("'limits': [],"), ERR_CONFIG,
	"limits: expected an object, got an array"},
    {TOP("'limits': {'requests_per_hour': 5},"), ERR_CONFIG,
	"limits: unknown key \"requests_per_hour\""},
    {TOP("'limits': {'requests_per_minute': '30'},"), ERR_CONFIG,
	"limits.requests_per_minute: expected an integer, got a string"},
    {TOP("'limits': {'requests_per_minute': -1},"), ERR_CONFIG,
	"limits.requests_per_minute: -1 is out of range (0..10000; 0 turns "
	"the limit off)"},
    {TOP("'limits': {'requests_per_minute': 10001},"), ERR_CONFIG,
	"limits.requests_per_minute: 10001 is out of range (0..10000; 0 "
	"turns the limit off)"},
    /* server */
    {TOP("'server': 4,"), ERR_CONFIG,
	"server: expected an object, got an integer"},
    {TOP("'server': {'workers': 8},"), ERR_CONFIG,
	"server: unknown key \"workers\""},
    {TOP("'server': {'threads': '8'},"), ERR_CONFIG,
	"server.threads: expected an integer, got a string"},
    {TOP("'server': {'threads': 0},"), ERR_CONFIG,
	"server.threads: 0 is out of range (1..1024)"},
    {TOP("'server': {'threads': 1025},"), ERR_CONFIG,
	"server.threads: 1025 is out of range (1..1024)"},
    {TOP("'server': {'connections_per_client': 0},"), ERR_CONFIG,
	"server.connections_per_client: 0 is out of range (1..1024)"},
    {TOP("'server': {'connections_per_client': 1025},"), ERR_CONFIG,
	"server.connections_per_client: 1025 is out of range (1..1024)"},
    {TOP("'server': {'connections_per_client': 2.5},"), ERR_CONFIG,
	"server.connections_per_client: expected an integer, got a real "
	"number"},
    /* Keys in a PKCS#11 token: the URI is checked here. */
    {TOP("'ca': {'key': 'pkcs11:token=jitca'},"), ERR_CONFIG,
	"ca.key: PKCS#11 URI names no key (give \"object=\" or \"id=\")"},
    {TOP("'ca': {'host_key': 'PKCS11:object=h;slot-id=1'},"), ERR_CONFIG,
	"ca.host_key: PKCS#11 URI: unknown attribute"},
    {TOP("'ca': {'ledger_key': 'pkcs11:object=l?pin-value=1234'},"), ERR_CONFIG,
	"ca.ledger_key: PKCS#11 URI holds a PIN (use a PIN file, not "
	"\"pin-value=\")"},
    {TOP("'ca': {'pkcs11_module': 'lib/softhsm2.so'},"), ERR_CONFIG,
	"ca.pkcs11_module: must be an absolute path"},
    {TOP("'ca': {'pkcs11_module': 1},"), ERR_CONFIG,
	"ca.pkcs11_module: expected a string, got an integer"},
    {TOP("'ca': {'pin_file': ''},"), ERR_CONFIG,
	"ca.pin_file: must not be empty"},
    {TOP("'ca': {'pkcs11_allow_network': 'yes'},"), ERR_CONFIG,
	"ca.pkcs11_allow_network: expected true or false, got a string"},
    /* notify and public_url */
    {TOP("'notify': {},"), ERR_CONFIG,
	"notify: expected an array of sinks, got an object"},
    {TOP("'notify': [3],"), ERR_CONFIG,
	"notify[0]: expected an object, got an integer"},
    {TOP("'notify': [{'secret_file': 's'}],"), ERR_CONFIG,
	"notify[0]: missing required key \"url\""},
    {TOP("'notify': [{'url': 'https://h.example/x'}],"), ERR_CONFIG,
	"notify[0]: missing required key \"secret_file\""},
    {TOP("'notify': [{'url': 'https://h.example/x', 'secret_file': 's',"
	 " 'retries': 3}],"),
	ERR_CONFIG, "notify[0]: unknown key \"retries\""},
    {TOP("'notify': [{'url': 'ftp://h.example/x', 'secret_file': 's'}],"),
	ERR_CONFIG,
	"notify[0].url: not a usable URL: not an http:// or https:// URL"},
    {TOP("'notify': [{'url': 'http://hooks.example.com/T0/B1/secret',"
	 " 'secret_file': 's'}],"),
	ERR_CONFIG,
	"notify[0].url: not a usable URL: plain http is only for a literal "
	"loopback address (127.0.0.1, [::1]); use https"},
    {TOP("'notify': [{'url': 'https://u:p@h.example/x', 'secret_file': "
	 "'s'}],"),
	ERR_CONFIG,
	"notify[0].url: not a usable URL: has user info (user@host): put "
	"credentials in the secret file, not the URL"},
    {TOP("'notify': [{'url': 'https://h.example:0/x', 'secret_file': "
	 "'s'}],"),
	ERR_CONFIG,
	"notify[0].url: not a usable URL: has a port that is not 1..65535"},
    {TOP("'notify': [{'url': 'https://h.example/a b', 'secret_file': "
	 "'s'}],"),
	ERR_CONFIG,
	"notify[0].url: not a usable URL: contains a space, a control "
	"character or a non-ASCII byte"},
    {TOP("'notify': [{'url': 'https:///x', 'secret_file': 's'}],"), ERR_CONFIG,
	"notify[0].url: not a usable URL: has no host"},
    {TOP("'notify': [{'url': 'https://h.example/x', 'secret_file': 's',"
	 " 'format': 'teams'}],"),
	ERR_CONFIG,
	"notify[0].format: \"teams\" is not a format (json, "
	"slack)"},
    {TOP("'notify': [{'url': 'https://h.example/x', 'secret_file': 's',"
	 " 'events': []}],"),
	ERR_CONFIG,
	"notify[0].events: expected a non-empty array of event names, got "
	"an empty array"},
    {TOP("'notify': [{'url': 'https://h.example/x', 'secret_file': 's',"
	 " 'events': ['request.created', 'request.made']}],"),
	ERR_CONFIG,
	"notify[0].events[1]: unknown event \"request.made\" (known: "
	"request.created, request.approved, request.denied, "
	"request.expired, request.withdrawn, cert.issued, cert.revoked, "
	"break-glass)"},
    {TOP("'notify': [{'url': 'https://h.example/x', 'secret_file': 's',"
	 " 'roles': ['nope']}],"),
	ERR_CONFIG, "notify[0].roles[0]: no role named \"nope\""},
    {TOP("'notify': [{'url': 'https://h.example/x', 'secret_file': 's',"
	 " 'timeout': '2m'}],"),
	ERR_CONFIG, "notify[0].timeout: 2m is longer than the maximum (1m)"},
    {TOP("'notify': [{'url': 'https://h.example/x', 'secret_file': 's',"
	 " 'timeout': '0s'}],"),
	ERR_CONFIG,
	"notify[0].timeout: \"0s\" is not a duration: zero is not allowed"},
    {TOP("'notify': [{'url': 'https://h.example/x', 'secret_file': ''}],"),
	ERR_CONFIG, "notify[0].secret_file: must not be empty"},
    {TOP("'notify': [{'url': 'https://h.example/x', 'secret_file': 's'},"
	 " {'url': 'https://h.example/x', 'secret_file': 't'}],"),
	ERR_CONFIG,
	"notify[1].name: \"url-a21832b83a5c\" is also the name of notify[0] "
	"(two sinks need two names, or two URLs)"},
    {TOP("'notify': [{'url': 'https://h.example/x', 'secret_file': 's',"
	 " 'name': 'a b'}],"),
	ERR_CONFIG,
	"notify[0].name: \"a b\" is not a valid sink name " NAME_RULE_MSG},
    {TOP("'public_url': 'jitca.example.com',"), ERR_CONFIG,
	"public_url: \"jitca.example.com\" is not a usable URL: not an "
	"http:// or https:// URL"},
    {TOP("'public_url': 'https://jitca.example.com/?x=1',"), ERR_CONFIG,
	"public_url: must not have a query (?...)"},
    /* oidc */
    {TOP("'oidc': [],"), ERR_CONFIG, "oidc: expected an object, got an array"},
    {TOP("'oidc': {'client_id': 'j'},"), ERR_CONFIG,
	"oidc: missing required key \"issuer\""},
    {TOP("'oidc': {'issuer': 'https://idp'},"), ERR_CONFIG,
	"oidc: missing required key \"client_id\""},
    {TOP("'oidc': {'issuer': 'https://idp', 'client_id': 'j', 'x': 1},"),
	ERR_CONFIG, "oidc: unknown key \"x\""},
    {TOP("'oidc': {'issuer': 'http://idp.example', 'client_id': 'j'},"),
	ERR_CONFIG,
	"oidc.issuer: \"http://idp.example\" must be an https URL (plain "
	"http only for a loopback address)"},
    {TOP("'oidc': {'issuer': 'https://idp', 'client_id': ''},"), ERR_CONFIG,
	"oidc.client_id: must not be empty"},
    {TOP("'oidc': {'issuer': 'https://idp', 'client_id': 'j', "
	 "'username_claim': 'a b'},"),
	ERR_CONFIG,
	"oidc.username_claim: \"a b\" is not a claim name (1..64 printable "
	"characters, no space or quote)"},
    {TOP("'oidc': {'issuer': 'https://idp', 'client_id': 'j', "
	 "'algorithms': ['RS256', 'none']},"),
	ERR_CONFIG,
	"oidc.algorithms[1]: \"none\": only \"RS256\" and \"ES256\" are "
	"accepted (never \"none\" or HS*)"},
    {TOP("'oidc': {'issuer': 'https://idp', 'client_id': 'j', "
	 "'algorithms': ['HS256']},"),
	ERR_CONFIG,
	"oidc.algorithms[0]: \"HS256\": only \"RS256\" and \"ES256\" are "
	"accepted (never \"none\" or HS*)"},
    {TOP("'oidc': {'issuer': 'https://idp', 'client_id': 'j', "
	 "'algorithms': []},"),
	ERR_CONFIG,
	"oidc.algorithms: expected a non-empty array such as [\"RS256\", "
	"\"ES256\"], got an array"},
    {TOP("'oidc': {'issuer': 'https://idp', 'client_id': 'j', "
	 "'scopes': ['profile']},"),
	ERR_CONFIG,
	"oidc.scopes: must include \"openid\" (without it there is no ID "
	"token)"},
    {TOP("'oidc': {'issuer': 'https://idp', 'client_id': 'j', "
	 "'approver_max_auth_age': '8d'},"),
	ERR_CONFIG,
	"oidc.approver_max_auth_age: 8d is longer than the maximum (7d)"},
    {TOP("'oidc': {'issuer': 'https://idp', 'client_id': 'j', "
	 "'session_max_ttl': 3600},"),
	ERR_CONFIG,
	"oidc.session_max_ttl: expected a duration string like \"30m\", got "
	"an integer"},
};

Test(config, broken_configs)
{
	char err[CONFIG_ERR_LEN];
	size_t i;

	cr_assert_geq(sizeof(broken) / sizeof(broken[0]), 25);
	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		struct config *c = (struct config *)1;
		char *json = jq(broken[i].json);
		int r;

		memset(err, 'X', sizeof(err));
		r = config_parse(
		    &c, "/nonexistent/state", json, strlen(json), err);
		cr_expect_eq(
		    r, broken[i].code, "#%zu %s: r=%d (%s)", i, json, r, err);
		cr_expect_null(c, "#%zu: config returned on error", i);
		cr_expect_str_eq(err, broken[i].msg,
		    "#%zu %s:\n got  %s\n want %s", i, json, err,
		    broken[i].msg);
		config_free(c);
		free(json);
	}
}

/* A message never overruns errbuf, even for huge keys and values. */
Test(config, long_names_are_cut)
{
	char err[CONFIG_ERR_LEN + 8];
	struct config *c = NULL;
	size_t klen = 100000, i;
	char *json = malloc(klen + 64);

	cr_assert_not_null(json);
	memcpy(json, "{\"", 2);
	for (i = 0; i < klen; i++)
		json[2 + i] = 'k';
	memcpy(json + 2 + klen, "\": 1}", 6);
	memset(err, 'Z', sizeof(err));
	cr_assert_eq(
	    config_parse(&c, "/s", json, strlen(json), err), ERR_CONFIG);
	cr_assert_eq(err[CONFIG_ERR_LEN], 'Z');
	cr_assert_str_eq(err,
	    "top level: unknown key "
	    "\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkk...\"");
	free(json);
}

Test(config, too_large)
{
	char err[CONFIG_ERR_LEN];
	struct config *c = NULL;
	size_t len = CONFIG_MAX_FILE + 1;
	char *json = malloc(len);

	cr_assert_not_null(json);
	memset(json, ' ', len);
	cr_assert_eq(config_parse(&c, "/s", json, len, err), ERR_TOO_LARGE);
	cr_assert_str_eq(
	    err, "jitca.json: larger than the limit of 1048576 bytes");
	cr_assert_null(c);
	free(json);
}

Test(config, bad_arguments)
{
	char err[CONFIG_ERR_LEN];
	struct config *c = NULL;

	cr_assert_eq(config_parse(NULL, "/s", "{}", 2, err), ERR_INVALID_ARG);
	cr_assert_eq(config_parse(&c, NULL, "{}", 2, err), ERR_INVALID_ARG);
	cr_assert_eq(config_parse(&c, "", "{}", 2, err), ERR_INVALID_ARG);
	cr_assert_eq(config_parse(&c, "/s", NULL, 2, err), ERR_INVALID_ARG);
	cr_assert_eq(config_load(&c, NULL, err), ERR_INVALID_ARG);
	/* errbuf may be NULL. */
	cr_assert_eq(config_parse(&c, "/s", "[]", 2, NULL), ERR_CONFIG);
	cr_assert_null(c);
	config_free(NULL);
}

/* Durations: text, expected seconds (0 = refused), expected reason. */
static const struct {
	const char *s;
	uint64_t secs;
	const char *why;
} durations[] = {
    {"1s", 1, NULL}, {"90s", 90, NULL}, {"30m", 1800, NULL},
    {"12h", 43200, NULL}, {"7d", 604800, NULL}, {"10s", 10, NULL},
    {"100m", 6000, NULL}, {"3650d", 315360000, NULL},
    {"87600h", 315360000, NULL}, {"315360000s", 315360000, NULL},
    {"", 0, "empty"}, {"0s", 0, "zero is not allowed"},
    {"0d", 0, "zero is not allowed"},
    {"0", 0, "missing unit (use s, m, h or d)"},
    {"5", 0, "missing unit (use s, m, h or d)"},
    {"-5m", 0, "a sign is not allowed"}, {"+5m", 0, "a sign is not allowed"},
    {" 5m", 0, "spaces are not allowed"}, {"5 m", 0, "spaces are not allowed"},
    {"5m ", 0, "use one number and one unit, like \"90m\""},
    {"5m\n", 0, "use one number and one unit, like \"90m\""},
    {"007m", 0, "leading zeros are not allowed"},
    {"00s", 0, "leading zeros are not allowed"},
    {"1.5h", 0, "fractions are not allowed"},
    {"1h30m", 0, "use one number and one unit, like \"90m\""},
    {"5M", 0, "unknown unit (use s, m, h or d)"},
    {"5w", 0, "unknown unit (use s, m, h or d)"},
    {"5ms", 0, "use one number and one unit, like \"90m\""},
    {"m", 0, "it must start with a number"},
    {"h1", 0, "it must start with a number"},
    {"3651d", 0, "longer than 10 years"},
    {"315360001s", 0, "longer than 10 years"},
    {"87601h", 0, "longer than 10 years"},
    {"18446744073709551616s", 0, "longer than 10 years"},
    {"99999999999999999999999999999999999999d", 0, "longer than 10 years"},
    {"213503982334601d", 0, "longer than 10 years"}, /* *86400 wraps */
};

Test(duration, parse_table)
{
	size_t i;

	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		const char *why = "unset";
		uint64_t v = 12345;
		int r = duration_parse_why(durations[i].s, &v, &why);

		if (durations[i].secs != 0) {
			cr_expect_eq(r, 0, "\"%s\": r=%d", durations[i].s, r);
			cr_expect_eq(v, durations[i].secs, "\"%s\": %llu",
			    durations[i].s, (unsigned long long)v);
			cr_expect_null(why);
		} else {
			cr_expect_eq(r, ERR_BAD_DURATION, "\"%s\": r=%d",
			    durations[i].s, r);
			cr_expect_eq(
			    v, 0, "\"%s\": out not cleared", durations[i].s);
			cr_expect_str_eq(why, durations[i].why, "\"%s\": %s",
			    durations[i].s, why);
		}
		/* duration_parse agrees. */
		cr_expect_eq(duration_parse(durations[i].s, &v), r);
	}
	cr_assert_eq(duration_parse(NULL, NULL), ERR_BAD_DURATION);
	cr_assert_eq(duration_parse("5m", NULL), 0);
}

Test(duration, format_table)
{
	static const struct {
		uint64_t secs;
		const char *s;
	} t[] = {
	    {0, "0s"},
	    {1, "1s"},
	    {59, "59s"},
	    {60, "1m"},
	    {90, "90s"},
	    {1800, "30m"},
	    {3600, "1h"},
	    {5400, "90m"},
	    {86400, "1d"},
	    {90000, "25h"},
	    {604800, "7d"},
	    {86401, "86401s"},
	    {315360000, "3650d"},
	};
	char buf[DURATION_FMT_LEN], small[3];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t back = 0;

		duration_format(buf, sizeof(buf), t[i].secs);
		cr_expect_str_eq(buf, t[i].s, "%llu: %s",
		    (unsigned long long)t[i].secs, buf);
		if (t[i].secs != 0) {
			cr_expect_eq(duration_parse(buf, &back), 0);
			cr_expect_eq(back, t[i].secs);
		}
	}
	/* The largest value fits DURATION_FMT_LEN; small buffers are cut. */
	duration_format(buf, sizeof(buf), UINT64_MAX);
	cr_assert_str_eq(buf, "18446744073709551615s");
	duration_format(small, sizeof(small), 1800);
	cr_assert_str_eq(small, "30");
	duration_format(NULL, 0, 5);
}

/* The example `jitcad init` writes, loaded from a real state dir. */
Test(config, example_loads)
{
	char err[CONFIG_ERR_LEN], real[PATH_MAX];
	struct config *c = NULL;
	const struct role *pd, *st;
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/jitca.json", dir);
	char *want;

	tu_write_file(path, config_example(), strlen(config_example()), 0600);
	cr_assert_eq(config_load(&c, dir, err), 0, "%s", err);
	cr_assert_str_eq(err, "");
	cr_assert_not_null(realpath(dir, real));
	cr_assert_str_eq(c->state_dir, real);
	cr_assert_str_eq(c->listen, "127.0.0.1:8443");
	want = tu_fmt("%s/ca_key.pem", real);
	cr_assert_str_eq(c->ca_key_file, want);
	free(want);
	want = tu_fmt("%s/ledger.db", real);
	cr_assert_str_eq(c->ledger_path, want);
	free(want);
	cr_assert_eq(c->backdate, 60);
	cr_assert_eq(c->hard_max_ttl, 86400);
	cr_assert_eq(c->request_ttl, 3600);
	cr_assert_eq(c->nauditors, 1);
	cr_assert_str_eq(c->auditors[0], "security");
	cr_assert_eq(c->nroles, 2);
	cr_assert_str_eq(c->roles[0].name, "prod-debug");
	cr_assert_str_eq(c->roles[1].name, "staging");

	pd = config_role(c, "prod-debug");
	cr_assert_eq(pd, &c->roles[0]);
	cr_assert_eq(pd->nprincipals, 2);
	cr_assert_str_eq(pd->principals[0], "{{user}}");
	cr_assert_str_eq(pd->principals[1], "debug");
	cr_assert_eq(pd->default_ttl, 1800);
	cr_assert_eq(pd->max_ttl, 7200);
	cr_assert_eq(pd->nrequesters, 1);
	cr_assert_str_eq(pd->requesters[0], "engineering");
	cr_assert_eq(pd->napprovers, 1);
	cr_assert_str_eq(pd->approvers[0], "sre-leads");
	cr_assert_eq(pd->approvals_required, 1);
	cr_assert_eq(pd->ncritical, 1);
	cr_assert_str_eq(pd->critical[0].name, "source-address");
	cr_assert_str_eq(pd->critical[0].value, "10.0.0.0/8,127.0.0.0/8");
	cr_assert_eq(pd->break_glass_ttl, 15 * 60);
	cr_assert_eq(pd->nextensions, 1);
	cr_assert_str_eq(pd->extensions[0].name, "permit-pty");
	cr_assert_null(pd->extensions[0].value);

	st = config_role(c, "staging");
	cr_assert_eq(st, &c->roles[1]);
	cr_assert_eq(st->nprincipals, 1);
	cr_assert_eq(st->max_ttl, 8 * 3600);
	cr_assert_eq(st->default_ttl, 8 * 3600); /* absent: max_ttl */
	cr_assert_eq(st->approvals_required, 0);
	cr_assert_eq(st->napprovers, 0);
	cr_assert_eq(st->ncritical, 0);
	cr_assert_null(st->critical);
	/* Sorted byte-wise, as certificates need them. */
	cr_assert_eq(st->nextensions, 2);
	cr_assert_str_eq(st->extensions[0].name, "permit-port-forwarding");
	cr_assert_str_eq(st->extensions[1].name, "permit-pty");

	cr_assert_null(config_role(c, "prod"));
	cr_assert_null(config_role(c, "zzz"));
	cr_assert_null(config_role(c, ""));
	cr_assert_null(config_role(c, NULL));
	cr_assert_null(config_role(NULL, "staging"));
	config_free(c);
	tu_rmtree(dir);
	free(dir);
	free(path);
}

/* Absent keys take their documented defaults; options are sorted. */
Test(config, defaults_and_sorting)
{
	const char *j =
	    "{'roles': {'zeta': {'principals': ['z'], 'max_ttl': '90s', "
	    "'requesters': ['g'], 'approvers': ['a', 'b']}, "
	    "'alpha': {'principals': ['{{user}}', 'a.{{user}}@x'], "
	    "'max_ttl': '24h', 'default_ttl': '24h', 'requesters': ['g'], "
	    "'approvers': ['a'], 'approvals_required': 10, "
	    "'critical_options': {'verify-required': true, 'source-address': "
	    "'10.1.0.0/16,2001:db8::/32', 'force-command': '/usr/bin/id -a'}, "
	    "'extensions': ['permit-user-rc', 'permit-X11-forwarding', "
	    "'no-touch-required', 'permit-agent-forwarding']}, "
	    "'mid': {'principals': ['m'], 'max_ttl': '1m', 'requesters': ['g'],"
	    " 'approvals_required': 0, 'approvers': ['x']}}}";
	char err[CONFIG_ERR_LEN];
	struct config *c = NULL;
	const struct role *r;
	char *json = jq(j);

	cr_assert_eq(
	    config_parse(&c, "/nonexistent/st//", json, strlen(json), err), 0,
	    "%s", err);
	cr_assert_str_eq(c->state_dir, "/nonexistent/st");
	cr_assert_str_eq(c->listen, "127.0.0.1:8443");
	cr_assert_str_eq(c->ca_key_file, "/nonexistent/st/ca_key.pem");
	cr_assert_str_eq(c->ledger_path, "/nonexistent/st/ledger.db");
	cr_assert_eq(c->backdate, 60);
	cr_assert_eq(c->hard_max_ttl, 86400);
	cr_assert_eq(c->request_ttl, 3600);
	cr_assert_eq(c->nauditors, 0);
	cr_assert_eq(c->nroles, 3);
	cr_assert_str_eq(c->roles[0].name, "alpha");
	cr_assert_str_eq(c->roles[1].name, "mid");
	cr_assert_str_eq(c->roles[2].name, "zeta");

	r = config_role(c, "zeta");
	cr_assert_eq(r->approvals_required, 1); /* default */
	cr_assert_eq(r->max_ttl, 90);
	cr_assert_eq(r->default_ttl, 90);
	cr_assert_eq(r->napprovers, 2);
	cr_assert_eq(r->nextensions, 0);

	r = config_role(c, "mid");
	cr_assert_eq(r->approvals_required, 0);
	cr_assert_eq(r->napprovers, 1);

	r = config_role(c, "alpha");
	cr_assert_eq(r->approvals_required, 10);
	cr_assert_eq(r->default_ttl, 86400);
	cr_assert_eq(r->ncritical, 3);
	cr_assert_str_eq(r->critical[0].name, "force-command");
	cr_assert_str_eq(r->critical[0].value, "/usr/bin/id -a");
	cr_assert_str_eq(r->critical[1].name, "source-address");
	cr_assert_str_eq(r->critical[1].value, "10.1.0.0/16,2001:db8::/32");
	cr_assert_str_eq(r->critical[2].name, "verify-required");
	cr_assert_null(r->critical[2].value);
	cr_assert_eq(r->nextensions, 4);
	cr_assert_str_eq(r->extensions[0].name, "no-touch-required");
	cr_assert_str_eq(r->extensions[1].name, "permit-X11-forwarding");
	cr_assert_str_eq(r->extensions[2].name, "permit-agent-forwarding");
	cr_assert_str_eq(r->extensions[3].name, "permit-user-rc");
	config_free(c);
	free(json);
}

/* Key sources that are PKCS#11 URIs are kept as written, not made
 * paths; the PIN file is made absolute; the module stays as given. */
Test(config, pkcs11_key_sources)
{
	const char *j = TOP(
	    "'ca': {'key': 'pkcs11:token=jitca;object=user-ca', 'host_key': "
	    "'pkcs11:token=jitca;id=%02', 'pkcs11_module': "
	    "'/usr/lib/softhsm/libsofthsm2.so', 'pin_file': 'user-ca.pin', "
	    "'pkcs11_allow_network': true},");
	char err[CONFIG_ERR_LEN];
	struct config *c = NULL;
	char *json = jq(j);

	cr_assert_eq(
	    config_parse(&c, "/nonexistent/st", json, strlen(json), err), 0,
	    "%s", err);
	cr_assert_str_eq(c->ca_key_file, "pkcs11:token=jitca;object=user-ca");
	cr_assert_str_eq(c->host_key_file, "pkcs11:token=jitca;id=%02");
	cr_assert_str_eq(c->ledger_key_file, "/nonexistent/st/ledger_key.pem");
	cr_assert_str_eq(c->pkcs11_module, "/usr/lib/softhsm/libsofthsm2.so");
	cr_assert_str_eq(c->pin_file, "/nonexistent/st/user-ca.pin");
	cr_assert_eq(c->pkcs11_allow_network, 1);
	config_free(c);
	free(json);
	/* Without them: none. */
	json = jq(TOP(""));
	cr_assert_eq(
	    config_parse(&c, "/nonexistent/st", json, strlen(json), err), 0,
	    "%s", err);
	cr_assert_null(c->pkcs11_module);
	cr_assert_null(c->pin_file);
	cr_assert_eq(c->pkcs11_allow_network, 0);
	config_free(c);
	free(json);
}

/* Limits at their edges are accepted; absolute paths are kept. */
Test(config, edges_accepted)
{
	const char *j =
	    "{'listen': '[::1]:0', 'ca': {'key_file': '/etc/jitca/k.pem', "
	    "'backdate': '1h', 'hard_max_ttl': '30d'}, 'ledger': {'path': "
	    "'db/l.db'}, 'request_ttl': '7d', 'auditors': [], "
	    "'roles': {'_r.1@x-y': {'principals': ['{{user}}"
	    "01234567890123456789012345678901234567890123456789012345678901"
	    "2', '"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "', '{{user}}{{user}}'], 'max_ttl': '30d', 'requesters': ['g']"
	    ", 'approvals_required': 0, 'extensions': [], 'critical_options': "
	    "{}}}}";
	char err[CONFIG_ERR_LEN];
	struct config *c = NULL;
	char *json = jq(j);
	char *cwd = getcwd(NULL, 0), *want;

	cr_assert_not_null(cwd);
	cr_assert_eq(
	    config_parse(&c, "no-such-rel-dir", json, strlen(json), err), 0,
	    "%s", err);
	want = tu_fmt("%s/no-such-rel-dir", strcmp(cwd, "/") ? cwd : "");
	cr_assert_str_eq(c->state_dir, want);
	free(want);
	want =
	    tu_fmt("%s/no-such-rel-dir/db/l.db", strcmp(cwd, "/") ? cwd : "");
	cr_assert_str_eq(c->ledger_path, want);
	free(want);
	cr_assert_str_eq(c->ca_key_file, "/etc/jitca/k.pem");
	cr_assert_str_eq(c->listen, "[::1]:0");
	cr_assert_eq(c->backdate, 3600);
	cr_assert_eq(c->hard_max_ttl, 30 * 86400);
	cr_assert_eq(c->request_ttl, 7 * 86400);
	cr_assert_eq(c->roles[0].nprincipals, 3);
	cr_assert_eq(c->roles[0].ncritical, 0);
	cr_assert_eq(c->roles[0].nextensions, 0);
	config_free(c);
	free(json);
	free(cwd);
}

static struct config *
load_roles(const char *roles_json)
{
	char err[CONFIG_ERR_LEN];
	struct config *c = NULL;
	char *j = tu_fmt("{'roles': {%s}}", roles_json), *json = jq(j);

	cr_assert_eq(
	    config_parse(&c, "/s", json, strlen(json), err), 0, "%s", err);
	free(j);
	free(json);
	return c;
}

static void
expect_principals(const struct role *r, const char *user, size_t n, ...)
{
	char **v = NULL;
	size_t nv = 0, i;
	va_list ap;

	cr_assert_eq(config_role_principals(r, user, &v, &nv), 0, "%s", user);
	cr_assert_eq(nv, n, "%s: %zu principals", user, nv);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		cr_expect_str_eq(v[i], va_arg(ap, const char *));
	va_end(ap);
	for (i = 0; i < nv; i++)
		cr_expect(name_principal_valid(v[i]));
	config_strv_free(v, nv);
}

Test(config, template_expansion)
{
	struct config *c = load_roles(
	    "'r': {'principals': ['{{user}}', 'debug', '{{user}}-admin', "
	    "'debug', 'x.{{user}}.y', '{{user}}@{{user}}'], 'max_ttl': '1h', "
	    "'requesters': ['g'], 'approvals_required': 0}");
	const struct role *r = config_role(c, "r");

	expect_principals(r, "alice", 5, "alice", "debug", "alice-admin",
	    "x.alice.y", "alice@alice");
	/* Duplicates after expansion are dropped, first one kept. */
	expect_principals(
	    r, "debug", 4, "debug", "debug-admin", "x.debug.y", "debug@debug");
	expect_principals(r, "_a.b@c-d", 5, "_a.b@c-d", "debug",
	    "_a.b@c-d-admin", "x._a.b@c-d.y", "_a.b@c-d@_a.b@c-d");
	config_free(c);
}

Test(config, template_expansion_unsafe)
{
	/* 56 literal characters leave room for users up to 8 characters. */
	struct config *c = load_roles(
	    "'r': {'principals': ['{{user}}"
	    "01234567890123456789012345678901234567890123456789012345"
	    "'], 'max_ttl': '1h', 'requesters': ['g'], "
	    "'approvals_required': 0}");
	const struct role *r = config_role(c, "r");
	char long_user[NAME_PRINCIPAL_MAX + 2];
	static const char *const bad_users[] = {"", "bad user", "*", "a,b",
	    "-x", ".x", "@x", "a?", "a\tb", "a\nb", "al\x7f",
	    "\xc3\xa9t\xc3\xa9", "{{user}}"};
	char **v = (char **)1;
	size_t n = 99, i;

	expect_principals(r, "abcdefgh", 1,
	    "abcdefgh01234567890123456789012345678901234567890123456789012345");
	cr_assert_eq(config_role_principals(r, "abcdefghi", &v, &n),
	    ERR_CERT_BAD_PRINCIPAL);
	cr_assert_null(v);
	cr_assert_eq(n, 0);
	for (i = 0; i < sizeof(bad_users) / sizeof(bad_users[0]); i++) {
		v = (char **)1;
		cr_expect_eq(config_role_principals(r, bad_users[i], &v, &n),
		    ERR_BAD_NAME, "user \"%s\"", bad_users[i]);
		cr_expect_null(v);
	}
	memset(long_user, 'u', NAME_PRINCIPAL_MAX + 1);
	long_user[NAME_PRINCIPAL_MAX + 1] = '\0';
	cr_assert_eq(
	    config_role_principals(r, long_user, &v, &n), ERR_BAD_NAME);
	cr_assert_eq(config_role_principals(r, NULL, &v, &n), ERR_INVALID_ARG);
	cr_assert_eq(
	    config_role_principals(NULL, "a", &v, &n), ERR_INVALID_ARG);
	cr_assert_eq(config_role_principals(r, "a", NULL, &n), ERR_INVALID_ARG);
	config_free(c);
}

/* A role built by hand (not via config_load) is still checked at
 * expansion, so an unsafe template can never reach a certificate. */
Test(config, template_expansion_rechecks)
{
	char *bad[] = {(char *)"{{user}}", (char *)"{{user}}*"};
	char *dash[] = {(char *)"-{{user}}"};
	char *brace[] = {(char *)"{{group}}"};
	struct role r;
	char **v = NULL;
	size_t n = 0;

	memset(&r, 0, sizeof(r));
	r.principals = bad;
	r.nprincipals = 2;
	cr_assert_eq(config_role_principals(&r, "alice", &v, &n),
	    ERR_CERT_BAD_PRINCIPAL);
	cr_assert_null(v);
	r.principals = dash;
	r.nprincipals = 1;
	cr_assert_eq(config_role_principals(&r, "alice", &v, &n),
	    ERR_CERT_BAD_PRINCIPAL);
	r.principals = brace;
	cr_assert_eq(config_role_principals(&r, "alice", &v, &n),
	    ERR_CERT_BAD_PRINCIPAL);
	r.nprincipals = 0;
	cr_assert_eq(config_role_principals(&r, "alice", &v, &n),
	    ERR_CERT_NO_PRINCIPALS);
}

Test(config, groups_intersect)
{
	char *user[] = {(char *)"eng", (char *)"oncall"};
	char *list[] = {(char *)"sre-leads", (char *)"oncall"};
	char *other[] = {(char *)"security", (char *)"Eng", (char *)"eng2"};

	cr_assert_eq(config_groups_intersect(user, 2, list, 2), 1);
	cr_assert_eq(config_groups_intersect(list, 2, user, 2), 1);
	cr_assert_eq(config_groups_intersect(user, 2, other, 3), 0);
	cr_assert_eq(config_groups_intersect(user, 1, list, 2), 0);
	cr_assert_eq(config_groups_intersect(user, 2, list, 1), 0);
	cr_assert_eq(config_groups_intersect(user, 0, list, 2), 0);
	cr_assert_eq(config_groups_intersect(NULL, 0, list, 2), 0);
	cr_assert_eq(config_groups_intersect(user, 2, NULL, 0), 0);
}

Test(config, listen_split)
{
	static const struct {
		const char *s;
		const char *host;
		unsigned port;
	} good[] = {
	    {"127.0.0.1:8443", "127.0.0.1", 8443},
	    {"0.0.0.0:0", "0.0.0.0", 0},
	    {"localhost:1", "localhost", 1},
	    {"ca.example.com:65535", "ca.example.com", 65535},
	    {"[::1]:8443", "::1", 8443},
	    {"[2001:db8::7]:443", "2001:db8::7", 443},
	};
	static const struct {
		const char *s;
		const char *why;
	} bad[] = {
	    {"", "it is empty"},
	    {"127.0.0.1", "missing \":PORT\""},
	    {"127.0.0.1:", "the port must be a number from 0 to 65535"},
	    {"127.0.0.1:65536", "the port must be a number from 0 to 65535"},
	    {"127.0.0.1:080", "the port must be a number from 0 to 65535"},
	    {"127.0.0.1:+80", "the port must be a number from 0 to 65535"},
	    {"127.0.0.1:-1", "the port must be a number from 0 to 65535"},
	    {"127.0.0.1:80 ", "the port must be a number from 0 to 65535"},
	    {"127.0.0.1:123456", "the port must be a number from 0 to 65535"},
	    {":8443", "missing host (use 0.0.0.0 for every address)"},
	    {"::1:8443", "put IPv6 addresses in brackets, like \"[::1]:8443\""},
	    {"[::1:8443", "bad IPv6 address in brackets"},
	    {"[]:8443", "bad IPv6 address in brackets"},
	    {"[1.2.3.4]:8443", "bad IPv6 address in brackets"},
	    {"999.1.1.1:80", "bad IPv4 address"},
	    {"1.2.3:80", "bad IPv4 address"},
	    {"host_name:80",
		"the host has a character outside A-Z a-z 0-9 . -"},
	    {"a b:80", "the host has a character outside A-Z a-z 0-9 . -"},
	    {"*:80", "the host has a character outside A-Z a-z 0-9 . -"},
	    {"-host:80", "the host must start with a letter or digit"},
	};
	char *host = NULL;
	unsigned port = 7;
	const char *why = NULL;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_expect_eq(config_listen_split(good[i].s, &host, &port, &why),
		    0, "%s: %s", good[i].s, why ? why : "");
		cr_expect_str_eq(host, good[i].host);
		cr_expect_eq(port, good[i].port);
		cr_expect_null(why);
		free(host);
		host = NULL;
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		host = (char *)1;
		cr_expect_eq(config_listen_split(bad[i].s, &host, &port, &why),
		    ERR_CONFIG, "%s", bad[i].s);
		cr_expect_null(host, "%s", bad[i].s);
		cr_expect_str_eq(why, bad[i].why, "%s: %s", bad[i].s, why);
	}
	cr_assert_eq(config_listen_split("1.2.3.4:5", NULL, NULL, NULL), 0);
	cr_assert_eq(config_listen_split(NULL, NULL, NULL, NULL), ERR_CONFIG);
}

Test(config, load_missing_file)
{
	char err[CONFIG_ERR_LEN];
	struct config *c = (struct config *)1;
	char *dir = tu_tmpdir(), *want;

	cr_assert_eq(config_load(&c, dir, err), ERR_SYSTEM);
	cr_assert_null(c);
	want = tu_fmt("%s/jitca.json: cannot open: No such file or directory "
		      "(create it with \"jitcad init\")",
	    dir);
	cr_assert_str_eq(err, want);
	free(want);

	/* A missing state directory reads the same way. */
	want = tu_fmt("%s/nope/jitca.json: cannot open: No such file or "
		      "directory (create it with \"jitcad init\")",
	    dir);
	{
		char *sub = tu_fmt("%s/nope", dir);

		cr_assert_eq(config_load(&c, sub, err), ERR_SYSTEM);
		free(sub);
	}
	cr_assert_str_eq(err, want);
	free(want);
	tu_rmtree(dir);
	free(dir);
}

Test(config, load_not_regular_and_too_large)
{
	char err[CONFIG_ERR_LEN];
	struct config *c = NULL;
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/jitca.json", dir), *want;
	char *big;

	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(config_load(&c, dir, err), ERR_CONFIG);
	want = tu_fmt("%s: not a regular file", path);
	cr_assert_str_eq(err, want);
	free(want);
	cr_assert_eq(rmdir(path), 0);

	big = malloc(CONFIG_MAX_FILE + 1);
	cr_assert_not_null(big);
	memset(big, ' ', CONFIG_MAX_FILE + 1);
	tu_write_file(path, big, CONFIG_MAX_FILE + 1, 0600);
	cr_assert_eq(config_load(&c, dir, err), ERR_TOO_LARGE);
	want = tu_fmt("%s: larger than the limit of 1048576 bytes", path);
	cr_assert_str_eq(err, want);
	free(want);

	/* Exactly at the limit is read, then judged by its content. */
	tu_write_file(path, big, CONFIG_MAX_FILE, 0600);
	cr_assert_eq(config_load(&c, dir, err), ERR_CONFIG);
	cr_assert_str_eq(
	    err, "jitca.json:1:1048576: '[' or '{' expected near end of file");
	cr_assert_null(c);
	free(big);
	tu_rmtree(dir);
	free(dir);
	free(path);
}

/* A FIFO in place of jitca.json is refused at once: opening it must not
 * wait for a writer (the timeout fails the test if it does). */
Test(config, load_fifo_does_not_block, .timeout = 10)
{
	char err[CONFIG_ERR_LEN];
	struct config *c = NULL;
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/jitca.json", dir), *want;

	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_assert_eq(config_load(&c, dir, err), ERR_CONFIG);
	cr_assert_null(c);
	want = tu_fmt("%s: not a regular file", path);
	cr_assert_str_eq(err, want);
	free(want);
	tu_rmtree(dir);
	free(dir);
	free(path);
}

/* A syntax error in a real file names line and column. */
Test(config, load_syntax_error)
{
	static const char text[] = "{\n  \"listen\": \"127.0.0.1:8443\",\n"
				   "  \"roles\": {\n    \"r\": {,}\n  }\n}\n";
	char err[CONFIG_ERR_LEN];
	struct config *c = NULL;
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/jitca.json", dir);

	tu_write_file(path, text, strlen(text), 0600);
	cr_assert_eq(config_load(&c, dir, err), ERR_CONFIG);
	cr_assert_str_eq(
	    err, "jitca.json:4:11: string or '}' expected near ','");
	tu_rmtree(dir);
	free(dir);
	free(path);
}

/* A PostgreSQL ledger URL is kept as given (both schemes, a passfile
 * parameter), never made a path below the state directory. */
Test(config, ledger_url_postgres_kept)
{
	static const char *const urls[] = {
	    "postgres://jitca@db.internal:5432/jitca?sslmode=verify-full",
	    "postgresql://jitca@127.0.0.1/jitca?passfile=/etc/jitca/pgpass",
	};
	static const char dflt[] = "{\"url\": \"ledger.db\"}";
	char err[CONFIG_ERR_LEN];
	struct config *c = NULL;
	char *dir = tu_tmpdir(), *path = tu_fmt("%s/jitca.json", dir), *text;
	const char *ex = config_example(), *at = strstr(ex, dflt);
	size_t i;

	cr_assert_not_null(at);
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		text = tu_fmt("%.*s{\"url\": \"%s\"}%s", (int)(at - ex), ex,
		    urls[i], at + strlen(dflt));
		tu_write_file(path, text, strlen(text), 0600);
		cr_assert_eq(config_load(&c, dir, err), 0, "%s", err);
		cr_assert_str_eq(c->ledger_path, urls[i]);
		config_free(c);
		c = NULL;
		free(text);
	}
	tu_rmtree(dir);
	free(dir);
	free(path);
}

/* The state dir is made absolute with realpath(): symlinks resolved. */
Test(config, load_symlinked_state_dir)
{
	char err[CONFIG_ERR_LEN], real[PATH_MAX];
	struct config *c = NULL;
	char *dir = tu_tmpdir(), *sd = tu_fmt("%s/state", dir);
	char *link = tu_fmt("%s/link", dir), *path, *want;

	cr_assert_eq(mkdir(sd, 0700), 0);
	cr_assert_eq(symlink(sd, link), 0);
	path = tu_fmt("%s/jitca.json", sd);
	tu_write_file(path, config_example(), strlen(config_example()), 0600);
	cr_assert_eq(config_load(&c, link, err), 0, "%s", err);
	cr_assert_not_null(realpath(sd, real));
	cr_assert_str_eq(c->state_dir, real);
	want = tu_fmt("%s/ledger.db", real);
	cr_assert_str_eq(c->ledger_path, want);
	free(want);
	config_free(c);
	tu_rmtree(dir);
	free(dir);
	free(sd);
	free(link);
	free(path);
}

/*
 * Robustness: thousands of byte-level mutations of the example either
 * load or fail with ERR_CONFIG and a message (ASan watches the rest).
 * A fixed seed keeps failures reproducible.
 */
Test(config, mutations_never_crash)
{
	const char *ex = config_example();
	size_t len = strlen(ex), i, k;
	static const char pool[] = "{}[]\",:0123456789 \\u-.e\n{{user}}*tfn";
	unsigned seed = 12345;
	char *buf = malloc(len + 1);
	char err[CONFIG_ERR_LEN];
	int ok = 0, refused = 0;

	cr_assert_not_null(buf);
	for (i = 0; i < 3000; i++) {
		struct config *c = NULL;
		int r;

		memcpy(buf, ex, len + 1);
		for (k = 0; k < 1 + i % 4; k++) {
			size_t pos;

			seed = seed * 1103515245u + 12345u;
			pos = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			buf[pos] = pool[(seed >> 8) % (sizeof(pool) - 1)];
		}
		r = config_parse(&c, "/s", buf, len, err);
		if (r == 0) {
			cr_assert_not_null(c);
			cr_assert_geq(c->nroles, 1);
			ok++;
		} else {
			cr_assert_eq(r, ERR_CONFIG, "%d on: %s", r, buf);
			cr_assert_null(c);
			cr_assert_neq(err[0], '\0');
			refused++;
		}
		config_free(c);
	}
	/* Both outcomes happen, so the loop really exercised something. */
	cr_assert_gt(ok, 0);
	cr_assert_gt(refused, 1000);
	free(buf);
}

/* The configuration of json (jq-quoted), which must parse. */
static struct config *
parse_good(const char *src)
{
	struct config *c = NULL;
	char err[CONFIG_ERR_LEN];
	char *json = jq(src);

	cr_assert_eq(
	    config_parse(&c, "/x", json, strlen(json), err), 0, "%s", err);
	free(json);
	return c;
}

Test(config, limits_and_server_values)
{
	static const struct {
		const char *json;
		unsigned rpm, threads, per_client;
	} ok[] = {
	    {TOP(""), CONFIG_DEFAULT_REQUESTS_PER_MINUTE, 256, 64},
	    {TOP("'limits': {},"), CONFIG_DEFAULT_REQUESTS_PER_MINUTE, 256, 64},
	    {TOP("'limits': {'requests_per_minute': 0},"), 0, 256, 64},
	    {TOP("'limits': {'requests_per_minute': 10000},"), 10000, 256, 64},
	    {TOP("'server': {},"), CONFIG_DEFAULT_REQUESTS_PER_MINUTE, 256, 64},
	    {TOP("'server': {'threads': 1},"),
		CONFIG_DEFAULT_REQUESTS_PER_MINUTE, 1, 64},
	    {TOP("'server': {'threads': 1024},"),
		CONFIG_DEFAULT_REQUESTS_PER_MINUTE, 1024, 64},
	    {TOP("'server': {'connections_per_client': 1},"),
		CONFIG_DEFAULT_REQUESTS_PER_MINUTE, 256, 1},
	    {TOP("'server': {'threads': 8, 'connections_per_client': 1024},"),
		CONFIG_DEFAULT_REQUESTS_PER_MINUTE, 8, 1024},
	};
	size_t i;

	cr_assert_eq(CONFIG_DEFAULT_REQUESTS_PER_MINUTE, 30);
	cr_assert_eq(CONFIG_DEFAULT_SERVER_THREADS, 256);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct config *c = parse_good(ok[i].json);

		cr_assert_eq(c->requests_per_minute, ok[i].rpm, "case %zu", i);
		cr_assert_eq(c->server_threads, ok[i].threads, "case %zu", i);
		cr_assert_eq(c->server_connections_per_client, ok[i].per_client,
		    "case %zu", i);
		config_free(c);
	}
}

/* Issue 15: the oidc block, its defaults and every field. */
Test(config, oidc_values)
{
	const char *full = TOP(
	    "'oidc': {'issuer': 'http://127.0.0.1:9000', 'client_id': 'jitca', "
	    "'client_secret_file': 'idp.secret', 'username_claim': 'email', "
	    "'groups_claim': 'roles', 'scopes': ['openid', 'email'], "
	    "'algorithms': ['ES256'], 'approver_max_auth_age': '2s', "
	    "'session_max_ttl': '1h'},");
	const char *least =
	    TOP("'oidc': {'issuer': 'https://idp.example', 'client_id': 'j'},");
	char err[CONFIG_ERR_LEN], *json;
	struct config *c = NULL;

	json = jq(TOP(""));
	cr_assert_eq(
	    config_parse(&c, "/x", json, strlen(json), err), 0, "%s", err);
	cr_assert_null(c->oidc, "no block: static tokens only");
	config_free(c);
	free(json);

	json = jq(least);
	cr_assert_eq(
	    config_parse(&c, "/x", json, strlen(json), err), 0, "%s", err);
	cr_assert_str_eq(c->oidc->issuer, "https://idp.example");
	cr_assert_str_eq(c->oidc->client_id, "j");
	cr_assert_null(c->oidc->client_secret_file);
	cr_assert_str_eq(c->oidc->username_claim, "preferred_username");
	cr_assert_str_eq(c->oidc->groups_claim, "groups");
	cr_assert_eq(c->oidc->nscopes, 2);
	cr_assert_str_eq(c->oidc->scopes[0], "openid");
	cr_assert_str_eq(c->oidc->scopes[1], "profile");
	cr_assert_eq(c->oidc->algs, CONFIG_OIDC_RS256 | CONFIG_OIDC_ES256);
	cr_assert_eq(c->oidc->approver_max_auth_age, 3600);
	cr_assert_eq(c->oidc->session_max_ttl, 8 * 3600);
	config_free(c);
	free(json);

	json = jq(full);
	cr_assert_eq(
	    config_parse(&c, "/x", json, strlen(json), err), 0, "%s", err);
	cr_assert_str_eq(c->oidc->client_secret_file, "/x/idp.secret");
	cr_assert_str_eq(c->oidc->username_claim, "email");
	cr_assert_str_eq(c->oidc->groups_claim, "roles");
	cr_assert_eq(c->oidc->nscopes, 2);
	cr_assert_str_eq(c->oidc->scopes[1], "email");
	cr_assert_eq(c->oidc->algs, CONFIG_OIDC_ES256);
	cr_assert_eq(c->oidc->approver_max_auth_age, 2);
	cr_assert_eq(c->oidc->session_max_ttl, 3600);
	config_free(c);
	free(json);
}

/* Issue 10 item 2: a user name never equals a literal principal, and
 * no {{user}} template expands for it to one. */
Test(config, user_name_check)
{
	static const char cfg_json[] =
	    "{'roles': {"
	    "'prod-debug': {'principals': ['{{user}}', 'debug'], "
	    "'max_ttl': '1h', 'requesters': ['eng'], "
	    "'approvals_required': 0},"
	    "'ops': {'principals': ['adm-{{user}}'], 'max_ttl': '1h', "
	    "'requesters': ['eng'], 'approvals_required': 0},"
	    "'root': {'principals': ['adm-root', 'root'], 'max_ttl': '1h', "
	    "'requesters': ['eng'], 'approvals_required': 0}}}";
	static const struct {
		const char *user;
		int code;
		const char *msg;
	} cases[] = {
	    {"alice", 0, ""},
	    {"debug", ERR_NAME_IS_PRINCIPAL,
		"user \"debug\" is the principal \"debug\" of role "
		"prod-debug"},
	    {"adm-root", ERR_NAME_IS_PRINCIPAL,
		"user \"adm-root\" is the principal \"adm-root\" of role "
		"root"},
	    {"root", ERR_NAME_IS_PRINCIPAL,
		"user \"root\" is the principal \"root\" of role root"},
	    {"Debug", 0, ""}, /* names are case-sensitive, as sshd is */
	    {"debug2", 0, ""},
	    {"bad name", ERR_BAD_NAME, ""},
	};
	char *json = jq(cfg_json), msg[CONFIG_ERR_LEN];
	struct config *c = NULL;
	size_t i;

	cr_assert_eq(
	    config_parse(&c, "/x", json, strlen(json), msg), 0, "%s", msg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(
		    config_user_name_check(c, cases[i].user, msg, sizeof(msg)),
		    cases[i].code, "case %zu", i);
		cr_assert_str_eq(msg, cases[i].msg, "case %zu", i);
	}
	config_free(c);
	free(json);
	/* The expansion rule on its own: "adm-{{user}}" for "x" is "adm-x". */
	json = jq("{'roles': {"
		  "'ops': {'principals': ['adm-{{user}}'], 'max_ttl': '1h', "
		  "'requesters': ['eng'], 'approvals_required': 0},"
		  "'box': {'principals': ['adm-x'], 'max_ttl': '1h', "
		  "'requesters': ['eng'], 'approvals_required': 0}}}");
	cr_assert_eq(config_parse(&c, "/x", json, strlen(json), msg), 0);
	cr_assert_eq(config_user_name_check(c, "x", msg, sizeof(msg)),
	    ERR_NAME_IS_PRINCIPAL);
	cr_assert_str_eq(msg,
	    "user \"x\" expands \"adm-{{user}}\" of role ops to \"adm-x\", "
	    "the principal \"adm-x\" of role box");
	cr_assert_eq(config_user_name_check(c, "y", NULL, 0), 0);
	config_free(c);
	free(json);
}

Test(config, notify_sinks)
{
	const char *j = "{'public_url': 'https://jitca.example.com/',"
			" 'notify': [{'url': 'https://hooks.example.com/x',"
			" 'secret_file': 'hook.secret'},"
			" {'name': 'slack-sre', 'url': 'http://127.0.0.1:9/y',"
			" 'format': 'slack', 'events': ['request.created',"
			" 'break-glass'], 'roles': ['r'], 'secret_file':"
			" '/etc/s', 'timeout': '3s', 'max_backoff': '1m',"
			" 'alert_after': '10m'}],"
			" 'roles': {'r': {" ROLE_OK "}}}";
	char err[CONFIG_ERR_LEN] = "", *json = jq(j);
	struct config *c = NULL;

	cr_assert_eq(
	    config_parse(&c, "/st", json, strlen(json), err), 0, "%s", err);
	cr_assert_str_eq(c->public_url, "https://jitca.example.com");
	cr_assert_eq(c->nnotify, 2);
	/* Default name: "url-" + 12 hex of SHA-256 of the URL. */
	cr_assert_str_eq(c->notify[0].name, "url-2eef74cce4c2");
	cr_assert_eq(c->notify[0].format, CONFIG_NOTIFY_JSON);
	cr_assert_eq(c->notify[0].events, CONFIG_NOTIFY_ALL);
	cr_assert_eq(c->notify[0].nroles, 0);
	cr_assert_str_eq(c->notify[0].secret_file, "/st/hook.secret");
	cr_assert_eq(c->notify[0].timeout, 10);
	cr_assert_eq(c->notify[0].max_backoff, 300);
	cr_assert_eq(c->notify[0].alert_after, 300);
	cr_assert_str_eq(c->notify[1].name, "slack-sre");
	cr_assert_eq(c->notify[1].format, CONFIG_NOTIFY_SLACK);
	cr_assert_eq(c->notify[1].events,
	    CONFIG_NOTIFY_REQUEST_CREATED | CONFIG_NOTIFY_BREAK_GLASS);
	cr_assert_eq(c->notify[1].nroles, 1);
	cr_assert_str_eq(c->notify[1].roles[0], "r");
	cr_assert_str_eq(c->notify[1].secret_file, "/etc/s");
	cr_assert_eq(c->notify[1].timeout, 3);
	cr_assert_eq(c->notify[1].max_backoff, 60);
	cr_assert_eq(c->notify[1].alert_after, 600);
	cr_assert_str_eq(
	    config_notify_event_name(CONFIG_NOTIFY_BREAK_GLASS), "break-glass");
	cr_assert_null(config_notify_event_name(3));
	config_free(c);
	free(json);
}

Test(config, notify_secret_file)
{
	char *dir = tu_tmpdir(), err[CONFIG_ERR_LEN] = "", *json, *p, *sec;
	struct config *c = NULL;
	size_t len = 0;

	json = jq("{'notify': [{'url': 'https://h.example/x',"
		  " 'secret_file': 'hook.secret'}],"
		  " 'roles': {'r': {" ROLE_OK "}}}");
	cr_assert_eq(
	    config_parse(&c, dir, json, strlen(json), err), 0, "%s", err);
	p = tu_fmt("%s/hook.secret", dir);
	cr_assert_eq(config_notify_secret(c, 0, &sec, &len, err), ERR_SYSTEM);
	cr_assert_null(sec);
	cr_assert_str_eq(err,
	    tu_keep(tu_fmt("notify[0].secret_file: %s: No such file or "
			   "directory",
		p)));
	/* One trailing newline (LF or CRLF) is not part of the secret. */
	tu_write_file(p, "abc\r\n", 5, 0600);
	cr_assert_eq(config_notify_secret(c, 0, &sec, &len, err), 0);
	cr_assert_eq(len, 3);
	cr_assert_str_eq(sec, "abc");
	config_notify_secret_free(sec, len);
	tu_write_file(p, "abc\n\n", 5, 0600);
	cr_assert_eq(config_notify_secret(c, 0, &sec, &len, err), 0);
	cr_assert_eq(len, 4);
	cr_assert_eq(memcmp(sec, "abc\n", 4), 0);
	config_notify_secret_free(sec, len);
	tu_write_file(p, "\n", 1, 0600);
	cr_assert_eq(config_notify_secret(c, 0, &sec, &len, err), ERR_CONFIG);
	cr_assert_str_eq(
	    err, tu_keep(tu_fmt("notify[0].secret_file: %s: is empty", p)));
	cr_assert_eq(
	    config_notify_secret(c, 1, &sec, &len, err), ERR_INVALID_ARG);
	config_free(c);
	free(json);
	free(p);
	tu_rmtree(dir);
	free(dir);
}
