/*
 * session.c: the per-server session cache under ~/.cache/jitca/
 * (client/session.h), written with cconf_write_atomic() and read back
 * only when the file is ours, mode 0600, and names the same server.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "client/cconf.h"
#include "client/session.h"

char *
session_dir(const char *home)
{
	const char *x = getenv("XDG_CACHE_HOME");

	if (x != NULL && x[0] == '/')
		return cconf_fmt("%s/jitca", x);
	return cconf_fmt("%s/.cache/jitca", home);
}

static char *
session_path(const char *home, const char *server)
{
	uint8_t d[SHA256_DIGEST_LENGTH];
	char hex[33], *dir, *p;
	size_t i;

	SHA256((const unsigned char *)server, strlen(server), d);
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	if ((dir = session_dir(home)) == NULL)
		return NULL;
	p = cconf_fmt("%s/session-%s.json", dir, hex);
	free(dir);
	return p;
}

void
session_clear(struct session *s)
{
	if (s->token != NULL)
		OPENSSL_cleanse(s->token, strlen(s->token));
	free(s->token);
	free(s->user);
	memset(s, 0, sizeof(*s));
}

/* 1 when t can go into an Authorization header unchanged: printable
 * ASCII without space, as every jitca token is. */
static int
token_ok(const char *t)
{
	for (; *t != '\0'; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return 0;
	return 1;
}

/*
 * The session in the file at path: 0 with *server (new) and s filled;
 * ERR_NOT_FOUND when there is no regular file, ERR_BAD_FORMAT when it is
 * not ours, others may read it or it does not hold a session (the
 * caller removes it), ERR_ALLOC.
 */
static int
session_read(const char *path, char **server, struct session *s)
{
	struct stat st;
	json_t *j = NULL;
	char *text = NULL;
	const char *tok, *srv, *user;
	json_int_t exp;
	size_t len = 0;
	int r = ERR_NOT_FOUND;

	*server = NULL;
	memset(s, 0, sizeof(*s));
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	r = ERR_BAD_FORMAT;
	if (st.st_uid != getuid() || (st.st_mode & 077) != 0)
		goto out;
	if (cconf_read_file(&text, &len, path, SESSION_MAX_FILE) != 0)
		goto out;
	j = json_loadb(text, len, 0, NULL);
	tok = json_string_value(json_object_get(j, "token"));
	srv = json_string_value(json_object_get(j, "server"));
	user = json_string_value(json_object_get(j, "user"));
	exp = json_integer_value(json_object_get(j, "expires_at"));
	if (tok == NULL || !token_ok(tok) || srv == NULL || exp <= 0)
		goto out;
	r = ERR_ALLOC;
	if ((s->token = strdup(tok)) == NULL ||
	    (s->user = strdup(user != NULL ? user : "")) == NULL ||
	    (*server = strdup(srv)) == NULL) {
		session_clear(s);
		goto out;
	}
	s->expires_at = (uint64_t)exp;
	r = 0;
out:
	json_decref(j);
	if (text != NULL)
		OPENSSL_cleanse(text, len);
	free(text);
	return r;
}

int
session_load(
    const char *home, const char *server, uint64_t now, struct session *s)
{
	char *path = NULL, *srv = NULL;
	int r = ERR_ALLOC;

	memset(s, 0, sizeof(*s));
	if ((path = session_path(home, server)) == NULL)
		goto out;
	if ((r = session_read(path, &srv, s)) == ERR_BAD_FORMAT ||
	    (r == 0 &&
		(strcmp(srv, server) != 0 ||
		    s->expires_at <= now + SESSION_MARGIN))) {
		session_clear(s);
		(void)unlink(path);
		r = ERR_NOT_FOUND;
	}
out:
	free(srv);
	free(path);
	return r;
}

int
session_save(const char *home, const char *server, const struct session *s)
{
	json_t *j = NULL;
	char *path = NULL, *dir = NULL, *text = NULL;
	int r = ERR_ALLOC;

	if ((path = session_path(home, server)) == NULL ||
	    (dir = session_dir(home)) == NULL)
		goto out;
	if ((r = cconf_mkdirs(dir, 0700)) != 0)
		goto out;
	r = ERR_ALLOC;
	if ((j = json_pack("{s:s,s:s,s:I,s:s}", "server", server, "token",
		 s->token, "expires_at", (json_int_t)s->expires_at, "user",
		 s->user != NULL ? s->user : "")) == NULL ||
	    (text = json_dumps(j, JSON_COMPACT)) == NULL)
		goto out;
	r = cconf_write_atomic(path, text, strlen(text), 0600);
out:
	json_decref(j);
	if (text != NULL)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	free(dir);
	free(path);
	return r;
}

int
session_remove_each(
    const char *home, session_fn fn, session_undeleted_fn undeleted, void *ctx)
{
	struct session ss;
	struct dirent *de;
	DIR *d = NULL;
	char *path = NULL, *dir = NULL, *srv = NULL;
	int n = 0, r;

	if ((dir = session_dir(home)) == NULL)
		return ERR_ALLOC;
	if ((d = opendir(dir)) == NULL) {
		n = errno == ENOENT ? 0 : ERR_SYSTEM;
		free(dir);
		return n;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (strncmp(de->d_name, "session-", 8) != 0 || l < 13 ||
		    strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		if ((path = cconf_fmt("%s/%s", dir, de->d_name)) == NULL) {
			n = ERR_ALLOC;
			break;
		}
		if (fn != NULL) {
			if ((r = session_read(path, &srv, &ss)) == ERR_ALLOC) {
				free(path);
				n = r;
				break;
			}
			fn(ctx, r == 0 ? srv : NULL, r == 0 ? &ss : NULL);
			session_clear(&ss);
			free(srv);
			srv = NULL;
		}
		if (unlink(path) == 0)
			n++;
		else if (errno != ENOENT && undeleted != NULL)
			undeleted(ctx, path, errno);
		free(path);
	}
	closedir(d);
	free(dir);
	return n;
}

int
session_remove(const char *home, const char *server)
{
	char *path = NULL;
	int n = 0;

	if (server == NULL)
		return session_remove_each(home, NULL, NULL, NULL);
	if ((path = session_path(home, server)) == NULL)
		return ERR_ALLOC;
	if (unlink(path) == 0)
		n = 1;
	else if (errno != ENOENT)
		n = ERR_SYSTEM;
	free(path);
	return n;
}
