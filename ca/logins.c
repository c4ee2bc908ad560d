/*
 * logins.c: login_parse() of logins.h, sshd's certificate login lines
 * into struct login_line.  The line is split at single spaces into
 * borrowed tokens; a certificate login's 14 tail tokens are checked at
 * their fixed positions from the right, the account is what lies between
 * "for " and them.  Nothing here allocates, prints or knows the ledger.
 */
#include <string.h>

#include "ca/logins.h"

#define TAIL_TOKENS 14
#define MAX_TOKENS 64

struct tok {
	const char *p;
	size_t n;
};

static int
tok_is(const struct tok *t, const char *s)
{
	return t->n == strlen(s) && memcmp(t->p, s, t->n) == 0;
}

/* Copy token t into dst (cap bytes with the NUL), its bytes all from
 * allowed (NULL: any); 0 or ERR_LOGIN_FORMAT. */
static int
tok_copy(char *dst, size_t cap, const struct tok *t, const char *allowed)
{
	size_t i;

	if (t->n == 0 || t->n >= cap)
		return ERR_LOGIN_FORMAT;
	if (allowed != NULL)
		for (i = 0; i < t->n; i++)
			if (strchr(allowed, t->p[i]) == NULL)
				return ERR_LOGIN_FORMAT;
	memcpy(dst, t->p, t->n);
	dst[t->n] = '\0';
	return 0;
}

/* A decimal number without sign or leading zero, at most max. */
static int
tok_u64(const struct tok *t, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (t->n == 0 || t->n > 20 || (t->p[0] == '0' && t->n > 1))
		return ERR_LOGIN_FORMAT;
	for (i = 0; i < t->n; i++) {
		unsigned d = (unsigned)(t->p[i] - '0');

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return ERR_LOGIN_FORMAT;
		x = x * 10 + d;
	}
	if (x > max)
		return ERR_LOGIN_FORMAT;
	*v = x;
	return 0;
}

#define B64_CHARS                                                              \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define KEYTYPE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
#define ADDR_CHARS "0123456789abcdefABCDEF.:%"

/* "SHA256:" and 43 base64 characters (unpadded SHA-256). */
static int
tok_fp(char dst[LOGIN_FP_MAX + 1], const struct tok *t)
{
	struct tok b;

	if (t->n != 7 + 43 || memcmp(t->p, "SHA256:", 7) != 0)
		return ERR_LOGIN_FORMAT;
	b.p = t->p + 7;
	b.n = t->n - 7;
	if (tok_copy(dst, LOGIN_FP_MAX + 1, &b, B64_CHARS) != 0)
		return ERR_LOGIN_FORMAT;
	memcpy(dst, t->p, t->n);
	dst[t->n] = '\0';
	return 0;
}

static int
keytype_is_cert(const char *kt)
{
	size_t n = strlen(kt);

	return n > 5 && strcmp(kt + n - 5, "-CERT") == 0;
}

/* Split s[0..len) at single spaces; ERR_LOGIN_FORMAT for an empty token
 * (two spaces, leading or trailing space) or too many tokens. */
static int
split(struct tok *toks, size_t *ntok, const char *s, size_t len)
{
	size_t i, start = 0, n = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != ' ')
			continue;
		if (i == start || n == MAX_TOKENS)
			return ERR_LOGIN_FORMAT;
		toks[n].p = s + start;
		toks[n].n = i - start;
		n++;
		start = i + 1;
	}
	*ntok = n;
	return 0;
}

/*
 * "Accepted publickey for " / "Failed publickey for " + rest.  The
 * caller checked the prefix; rest is what follows it.
 */
static int
parse_publickey(struct login_line *out, const char *rest, size_t len)
{
	struct tok toks[MAX_TOKENS], *t, acct;
	const char *user;
	size_t ntok = 0, ulen;
	uint64_t v;
	int r;

	if ((r = split(toks, &ntok, rest, len)) != 0)
		return r;
	/* A plain key's tail: "from A port P ssh2: KT SHA256:FP". */
	if (ntok >= 8 && tok_is(&toks[ntok - 7], "from") &&
	    tok_is(&toks[ntok - 5], "port") &&
	    tok_is(&toks[ntok - 3], "ssh2:") &&
	    !(toks[ntok - 2].n > 5 &&
		memcmp(toks[ntok - 2].p + toks[ntok - 2].n - 5, "-CERT", 5) ==
		    0))
		return ERR_LOGIN_IGNORED;
	if (ntok < TAIL_TOKENS + 1)
		return ERR_LOGIN_FORMAT;
	t = &toks[ntok - TAIL_TOKENS];
	if (!tok_is(&t[0], "from") || !tok_is(&t[2], "port") ||
	    !tok_is(&t[4], "ssh2:") || !tok_is(&t[7], "ID") ||
	    !tok_is(&t[9], "(serial") || !tok_is(&t[11], "CA"))
		return ERR_LOGIN_FORMAT;
	if (tok_copy(out->source, sizeof(out->source), &t[1], ADDR_CHARS) != 0)
		return ERR_LOGIN_FORMAT;
	if (tok_u64(&t[3], 65535, &v) != 0 || v == 0)
		return ERR_LOGIN_FORMAT;
	out->port = (unsigned)v;
	if (tok_copy(out->key_type, sizeof(out->key_type), &t[5],
		KEYTYPE_CHARS) != 0 ||
	    !keytype_is_cert(out->key_type))
		return ERR_LOGIN_FORMAT;
	if (tok_fp(out->key_fp, &t[6]) != 0)
		return ERR_LOGIN_FORMAT;
	/* Printable ASCII was checked for the whole line already. */
	if (tok_copy(out->key_id, sizeof(out->key_id), &t[8], NULL) != 0)
		return ERR_LOGIN_FORMAT;
	if (t[10].n < 2 || t[10].p[t[10].n - 1] != ')')
		return ERR_LOGIN_FORMAT;
	acct.p = t[10].p;
	acct.n = t[10].n - 1;
	if (tok_u64(&acct, UINT64_MAX, &out->serial) != 0)
		return ERR_LOGIN_FORMAT;
	if (tok_copy(out->ca_type, sizeof(out->ca_type), &t[12],
		KEYTYPE_CHARS) != 0 ||
	    keytype_is_cert(out->ca_type))
		return ERR_LOGIN_FORMAT;
	if (tok_fp(out->ca_fp, &t[13]) != 0)
		return ERR_LOGIN_FORMAT;
	/* The account: everything left of the tail. */
	user = rest;
	ulen = (size_t)(t[0].p - rest) - 1;
	if (ulen >= 13 && memcmp(user, "invalid user ", 13) == 0) {
		out->invalid_user = 1;
		user += 13;
		ulen -= 13;
	}
	acct.p = user;
	acct.n = ulen;
	if (ulen == 0 || ulen > LOGIN_ACCOUNT_MAX || user[0] == '-' ||
	    tok_copy(out->account, sizeof(out->account), &acct,
		LOGIN_ACCOUNT_CHARS) != 0) {
		out->account[0] = '\0';
		return ERR_LOGIN_ACCOUNT;
	}
	return 0;
}

static int
has_prefix(const char *s, size_t len, const char *pre)
{
	size_t n = strlen(pre);

	return len >= n && memcmp(s, pre, n) == 0;
}

static int
is_exactly(const char *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* "Authentication key KT SHA256:FP revoked by file PATH". */
static int
parse_revoked(struct login_line *out, const char *rest, size_t len)
{
	struct tok toks[MAX_TOKENS];
	size_t ntok = 0;
	int r;

	if ((r = split(toks, &ntok, rest, len)) != 0)
		return r;
	if (ntok < 6 || !tok_is(&toks[2], "revoked") ||
	    !tok_is(&toks[3], "by") || !tok_is(&toks[4], "file"))
		return ERR_LOGIN_FORMAT;
	if (tok_copy(out->key_type, sizeof(out->key_type), &toks[0],
		KEYTYPE_CHARS) != 0 ||
	    tok_fp(out->key_fp, &toks[1]) != 0)
		return ERR_LOGIN_FORMAT;
	if (!keytype_is_cert(out->key_type))
		return ERR_LOGIN_IGNORED;
	out->reason = LOGIN_REASON_REVOKED;
	return 0;
}

int
login_parse(struct login_line *out, const char *line, size_t len)
{
	static const char acc[] = "Accepted publickey for ";
	static const char fail[] = "Failed publickey for ";
	static const char inv[] = "Certificate invalid: ";
	static const char revk[] = "Authentication key ";
	static const char prin[] =
	    "Certificate does not contain an authorized principal";
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > LOGIN_LINE_MAX)
		return ERR_LOGIN_TOO_LONG;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] > 0x7e)
			return ERR_LOGIN_CHAR;
	if (has_prefix(line, len, acc)) {
		out->kind = LOGIN_ACCEPTED;
		r = parse_publickey(
		    out, line + sizeof(acc) - 1, len - (sizeof(acc) - 1));
	} else if (has_prefix(line, len, fail)) {
		out->kind = LOGIN_FAILED;
		r = parse_publickey(
		    out, line + sizeof(fail) - 1, len - (sizeof(fail) - 1));
	} else {
		/* Reasons: sshd's syslog lines say "error: " first. */
		if (has_prefix(line, len, "error: ")) {
			line += 7;
			len -= 7;
		}
		out->kind = LOGIN_REASON;
		if (has_prefix(line, len, inv)) {
			const char *w = line + sizeof(inv) - 1;
			size_t wn = len - (sizeof(inv) - 1);

			if (is_exactly(w, wn, "expired"))
				out->reason = LOGIN_REASON_EXPIRED;
			else if (is_exactly(w, wn, "not yet valid"))
				out->reason = LOGIN_REASON_NOT_YET_VALID;
			else if (is_exactly(
				     w, wn, "name is not a listed principal"))
				out->reason = LOGIN_REASON_PRINCIPAL;
			else
				out->reason = LOGIN_REASON_OTHER;
			r = 0;
		} else if (is_exactly(line, len, prin)) {
			out->reason = LOGIN_REASON_PRINCIPAL;
			r = 0;
		} else if (has_prefix(line, len, revk))
			r = parse_revoked(out, line + sizeof(revk) - 1,
			    len - (sizeof(revk) - 1));
		else
			r = ERR_LOGIN_IGNORED;
		if (r == 0) {
			size_t n = len < LOGIN_REASON_TEXT_MAX
			    ? len
			    : LOGIN_REASON_TEXT_MAX;

			memcpy(out->reason_text, line, n);
			out->reason_text[n] = '\0';
		}
	}
	if (r != 0) {
		enum login_kind k = out->kind;

		memset(out, 0, sizeof(*out));
		if (r != ERR_LOGIN_IGNORED)
			out->kind = k;
	}
	return r;
}

const char *
login_kind_name(enum login_kind k)
{
	switch (k) {
	case LOGIN_ACCEPTED:
		return "accepted";
	case LOGIN_FAILED:
		return "refused";
	case LOGIN_REASON:
		return "reason";
	}
	return "unknown";
}

const char *
login_reason_name(enum login_reason r)
{
	switch (r) {
	case LOGIN_REASON_NONE:
		return "";
	case LOGIN_REASON_EXPIRED:
		return "expired";
	case LOGIN_REASON_NOT_YET_VALID:
		return "not_yet_valid";
	case LOGIN_REASON_REVOKED:
		return "revoked";
	case LOGIN_REASON_PRINCIPAL:
		return "principal_not_accepted";
	case LOGIN_REASON_OTHER:
		return "certificate_invalid";
	}
	return "";
}
