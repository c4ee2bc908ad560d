/*
 * jitcad.c: running jitcad and shell commands that must succeed, serve
 * from a shell line, ssh-keygen and a SoftHSM2 token (jitcad.h).
 */
#include "tests/lib/jitcad.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "tests/lib/proc.h"
#include "tests/lib/testutil.h"

void
tu_scratch(char **dir, char **state, char **log)
{
	*dir = tu_tmpdir();
	*state = tu_fmt("%s/state", *dir);
	if (log != NULL)
		*log = tu_fmt("%s/serve.log", *dir);
}

void
tu_scratch_free(char **dir, char **state, char **log)
{
	tu_rmtree(*dir);
	free(*dir);
	free(*state);
	*dir = *state = NULL;
	if (log != NULL) {
		free(*log);
		*log = NULL;
	}
}

char *
tu_client_home(const char *dir)
{
	char *home = tu_fmt("%s/home", dir);

	cr_assert_eq(mkdir(home, 0700), 0);
	setenv("HOME", home, 1);
	unsetenv("JITCA_TOKEN");
	unsetenv("JITCA_SERVER");
	unsetenv("XDG_CONFIG_HOME");
	return home;
}

char *
tu_jitcad_ok(const char *state, const char *args)
{
	char *out = NULL, *err = NULL;
	int rc = tu_jitcad(state, args, &out, &err);

	cr_assert_eq(rc, 0, "jitcad %s: exit %d: %s", args, rc, err);
	out[strcspn(out, "\n")] = '\0';
	free(err);
	return out;
}

char *
tu_sh_ok(const char *cmd)
{
	char *out = NULL, *err = NULL;
	int rc = tu_sh(cmd, &out, &err);

	cr_assert_eq(rc, 0, "%s: %s", cmd, err);
	free(err);
	return out;
}

char *
tu_user_token(
    const char *state, const char *dir, const char *name, const char *groups)
{
	char *cmd = tu_fmt("'%s' user add %s %s --state '%s'", tu_env("JITCAD"),
	    name, groups, state);
	char *tok = tu_sh_ok(cmd), *path = tu_fmt("%s/%s.token", dir, name);

	tu_write_file(path, tok, strlen(tok), 0600);
	free(cmd);
	free(tok);
	return path;
}

char *
tu_serve_sh(const char *cmd, const char *log, pid_t *pid)
{
	char *argv[] = {"/bin/sh", "-c", (char *)(uintptr_t)cmd, NULL};

	*pid = tu_spawn(argv, NULL, log);
	return tu_serve_url(log, *pid);
}

char *
tu_serve_extra(
    const char *state, const char *extra, const char *log, pid_t *pid)
{
	char *cmd = tu_fmt("exec '%s' serve --state '%s' --listen "
			   "127.0.0.1:0 %s",
	    tu_env("JITCAD"), state, extra);
	char *url = tu_serve_sh(cmd, log, pid);

	free(cmd);
	return url;
}

char *
tu_keygen(const char *type, const char *path)
{
	char *cmd = tu_fmt("ssh-keygen -q -t %s -N '' -f '%s'", type, path);
	char *pubf = tu_fmt("%s.pub", path), *pub;

	cr_assert_eq(tu_sh(cmd, NULL, NULL), 0);
	pub = tu_read_file(pubf, NULL);
	cr_assert_not_null(pub);
	pub[strcspn(pub, "\n")] = '\0';
	free(pubf);
	free(cmd);
	return pub;
}

char *
tu_softhsm_token(const char *dir, char **tokens)
{
	char *tok = tu_fmt("%s/tokens", dir), *conf, *text, *pin, *err = NULL;
	int rc;

	cr_assert_eq(mkdir(tok, 0700), 0);
	conf = tu_fmt("%s/softhsm2.conf", dir);
	text = tu_fmt("directories.tokendir = %s\nobjectstore.backend = file\n"
		      "log.level = ERROR\nslots.removable = false\n",
	    tok);
	tu_write_file(conf, text, strlen(text), 0600);
	cr_assert_eq(setenv("SOFTHSM2_CONF", conf, 1), 0);
	rc = tu_sh("softhsm2-util --init-token --free --label jitca "
		   "--pin 1234 --so-pin 5678",
	    NULL, &err);
	cr_assert_eq(rc, 0, "softhsm2-util: %s", err);
	free(err);
	pin = tu_fmt("%s/pin", dir);
	tu_write_file(pin, "1234\n", 5, 0600);
	free(conf);
	free(text);
	if (tokens != NULL)
		*tokens = tok;
	else
		free(tok);
	return pin;
}
