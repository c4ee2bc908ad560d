/*
 * cconf.c: settings resolution, duration parsing and the small file
 * helpers of cconf.h.
 *
 * It does not print or exit.  Works with the commands (which report the
 * errors), signer/fileio.h (descriptor loops, directory fsync) and files
 * under ~/.config/jitca (docs/client.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "client/cconf.h"
#include "signer/base/duration.h"
#include "signer/base/fileio.h"

char *
cconf_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static char *
xstrdup(const char *s)
{
	return cconf_fmt("%s", s);
}

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

int
cconf_read_file(char **out, size_t *len, const char *path, size_t max)
{
	int r = fileio_read_small(path, max, out, len);

	return r == ERR_SYSTEM && errno == ENOENT ? ERR_NOT_FOUND : r;
}

int
cconf_mkdirs(const char *path, int mode)
{
	char tmp[PATH_MAX];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return ERR_INVALID_ARG;
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
			return ERR_SYSTEM;
		if (i < n)
			tmp[i] = '/';
	}
	return 0;
}

int
cconf_write_atomic(const char *path, const void *data, size_t len, int mode)
{
	return fileio_write_atomic(path, data, len, (mode_t)mode);
}

int
cconf_parse_duration(uint64_t *out, const char *s)
{
	/* The grammar of both programs (signer/base/duration.h); jitca's
	 * own bound is one year. */
	if (duration_parse_flags(s, DURATION_BARE_SECONDS, out, NULL) != 0)
		return ERR_BAD_DURATION;
	if (*out > CCONF_MAX_DURATION) {
		*out = 0;
		return ERR_BAD_DURATION;
	}
	return 0;
}

void
cconf_format_duration(char *buf, size_t len, uint64_t s)
{
	if (s < 60)
		snprintf(buf, len, "%us", (unsigned)s);
	else if (s < 3600)
		snprintf(buf, len, "%um%02us", (unsigned)(s / 60),
		    (unsigned)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%uh%02um", (unsigned)(s / 3600),
		    (unsigned)(s % 3600 / 60));
	else
		snprintf(buf, len, "%ud%02uh", (unsigned)(s / 86400),
		    (unsigned)(s % 86400 / 3600));
}

int
cconf_role_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 64)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '.' || s[i] == '-'))
			return 0;
	}
	return 1;
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Trim in place; returns the start. */
static char *
trim(char *s, char *end)
{
	while (s < end && is_space(*s))
		s++;
	while (end > s && is_space(end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* Parse "key = value" lines of the config file into c (only keys whose
 * value is still unset are taken). */
static int
config_file(struct cconf *c, char **token_file, char **bad)
{
	char *path = NULL, *text = NULL, *line, *nl, *eq, *k, *v, **slot;
	unsigned lineno = 0;
	int r = ERR_INTERNAL;

	if ((path = cconf_fmt("%s/config", c->dir)) == NULL)
		return ERR_ALLOC;
	r = cconf_read_file(&text, NULL, path, CCONF_MAX_FILE);
	if (r == ERR_NOT_FOUND) {
		r = 0;
		goto out;
	}
	if (r != 0) {
		*bad = cconf_fmt("%s: %s", path, err_str(r));
		r = ERR_CONFIG;
		goto out;
	}
	for (line = text; line != NULL && *line != '\0'; line = nl) {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		k = trim(line, line + strlen(line));
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			*bad = cconf_fmt(
			    "%s:%u: expected \"key = value\"", path, lineno);
			r = ERR_CONFIG;
			goto out;
		}
		v = trim(eq + 1, eq + 1 + strlen(eq + 1));
		k = trim(k, eq);
		if (strcmp(k, "server") == 0)
			slot = &c->server;
		else if (strcmp(k, "ca_bundle") == 0)
			slot = &c->ca_bundle;
		else if (strcmp(k, "token_file") == 0)
			slot = token_file;
		else {
			*bad = cconf_fmt("%s:%u: unknown key \"%s\" (known: "
					 "server, ca_bundle, token_file)",
			    path, lineno, k);
			r = ERR_CONFIG;
			goto out;
		}
		if (*v == '\0' || strlen(v) > CCONF_MAX_VALUE) {
			*bad = cconf_fmt(
			    "%s:%u: empty or overlong value", path, lineno);
			r = ERR_CONFIG;
			goto out;
		}
		if (*slot != NULL)
			continue; /* an option or variable wins */
		if ((*slot = xstrdup(v)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		if (slot == &c->server)
			c->server_from = "~/.config/jitca/config";
	}
	r = 0;
out:
	free(path);
	free(text);
	return r;
}

/* 1 when every byte of t is printable ASCII without space: what a token
 * is made of, and what can go into an HTTP header unchanged. */
static int
token_ok(const char *t)
{
	for (; *t != '\0'; t++) {
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return 0;
	}
	return 1;
}

/* The token: the first line of the file, trimmed. */
static int
token_from_file(struct cconf *c, const char *path, int must, char **bad)
{
	char *text = NULL, *t, *nl;
	size_t len = 0;
	int r;

	r = cconf_read_file(&text, &len, path, CCONF_MAX_VALUE);
	if (r == ERR_NOT_FOUND && !must)
		return 0;
	if (r != 0) {
		*bad = cconf_fmt("token file %s: %s", path, err_str(r));
		return ERR_CONFIG;
	}
	if ((nl = strchr(text, '\n')) != NULL)
		*nl = '\0';
	t = trim(text, text + strlen(text));
	if (*t == '\0') {
		*bad = cconf_fmt("token file %s is empty", path);
		r = ERR_CONFIG;
	} else if (!token_ok(t)) {
		*bad = cconf_fmt("token file %s: the token holds spaces or "
				 "bytes that are not printable ASCII",
		    path);
		r = ERR_CONFIG;
	} else if ((c->token = xstrdup(t)) == NULL)
		r = ERR_ALLOC;
	else {
		struct stat st;

		/* Like ssh with private keys, but a warning: the token works.
		 */
		if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
			free(c->warning);
			c->warning = cconf_fmt("token file %s is readable by "
					       "others; chmod 600 it",
			    path);
		}
	}
	/* All of it: the NULs written above hide the rest from strlen. */
	OPENSSL_cleanse(text, len);
	free(text);
	return r;
}

int
cconf_load(struct cconf *c, const char *server_opt, const char *token_file_opt,
    const char *ca_bundle_opt, char **bad)
{
	struct passwd *pw;
	const char *home, *env;
	char *token_file = NULL, *path = NULL, *dummy = NULL;
	int r = ERR_INTERNAL;

	memset(c, 0, sizeof(*c));
	if (bad == NULL)
		bad = &dummy;
	*bad = NULL;
	if ((home = getenv("HOME")) == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL || pw->pw_dir == NULL) {
			*bad = cconf_fmt("cannot find the home directory");
			r = ERR_CONFIG;
			goto out;
		}
		home = pw->pw_dir;
	}
	if ((c->home = xstrdup(home)) == NULL ||
	    (c->dir = cconf_fmt("%s/.config/jitca", home)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (server_opt != NULL) {
		if ((c->server = xstrdup(server_opt)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		c->server_from = "--server";
	} else if ((env = getenv("JITCA_SERVER")) != NULL && *env != '\0') {
		if ((c->server = xstrdup(env)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		c->server_from = "$JITCA_SERVER";
	}
	if (ca_bundle_opt != NULL &&
	    (c->ca_bundle = xstrdup(ca_bundle_opt)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = config_file(c, &token_file, bad)) != 0)
		goto out;
	if (token_file_opt != NULL) {
		if ((r = token_from_file(c, token_file_opt, 1, bad)) != 0)
			goto out;
		c->token_from = "--token-file";
	} else if ((env = getenv("JITCA_TOKEN")) != NULL && *env != '\0') {
		if (!token_ok(env)) {
			*bad = cconf_fmt("$JITCA_TOKEN holds spaces or bytes "
					 "that are not printable ASCII");
			r = ERR_CONFIG;
			goto out;
		}
		if ((c->token = xstrdup(env)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		c->token_from = "$JITCA_TOKEN";
	} else if (token_file != NULL) {
		if ((r = token_from_file(c, token_file, 1, bad)) != 0)
			goto out;
		c->token_from = "token_file in the config";
	} else {
		if ((path = cconf_fmt("%s/token", c->dir)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		if ((r = token_from_file(c, path, 0, bad)) != 0)
			goto out;
		c->token_from = "~/.config/jitca/token";
	}
	r = 0;
out:
	free(token_file);
	free(path);
	free(dummy);
	if (r != 0)
		cconf_clear(c);
	return r;
}

void
cconf_clear(struct cconf *c)
{
	if (c == NULL)
		return;
	free(c->home);
	free(c->dir);
	free(c->server);
	wipe_free(c->token);
	free(c->ca_bundle);
	free(c->warning);
	memset(c, 0, sizeof(*c));
}
