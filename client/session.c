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

int
session_load(
    const char *home, const char *server, uint64_t now, struct session *s)
{
	struct stat st;
	json_t *j = NULL;
	char *path = NULL, *text = NULL;
	const char *tok, *srv, *user;
	json_int_t exp;
	size_t len = 0;
	int r = ERR_ALLOC;

	memset(s, 0, sizeof(*s));
	if ((path = session_path(home, server)) == NULL)
		goto out;
	r = ERR_NOT_FOUND;
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if (st.st_uid != getuid() || (st.st_mode & 077) != 0) {
		(void)unlink(path);
		goto out;
	}
	if (cconf_read_file(&text, &len, path, SESSION_MAX_FILE) != 0)
		goto out;
	j = json_loadb(text, len, 0, NULL);
	tok = json_string_value(json_object_get(j, "token"));
	srv = json_string_value(json_object_get(j, "server"));
	user = json_string_value(json_object_get(j, "user"));
	exp = json_integer_value(json_object_get(j, "expires_at"));
	if (tok == NULL || srv == NULL || strcmp(srv, server) != 0 ||
	    exp <= 0 || (uint64_t)exp <= now + SESSION_MARGIN) {
		(void)unlink(path);
		goto out;
	}
	r = ERR_ALLOC;
	if ((s->token = strdup(tok)) == NULL ||
	    (s->user = strdup(user != NULL ? user : "")) == NULL) {
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
session_remove(const char *home, const char *server)
{
	struct dirent *de;
	DIR *d = NULL;
	char *path = NULL, *dir = NULL;
	int n = 0;

	if (server != NULL) {
		if ((path = session_path(home, server)) == NULL)
			return ERR_ALLOC;
		if (unlink(path) == 0)
			n = 1;
		else if (errno != ENOENT)
			n = ERR_SYSTEM;
		free(path);
		return n;
	}
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
		if (unlink(path) == 0)
			n++;
		free(path);
	}
	closedir(d);
	free(dir);
	return n;
}
