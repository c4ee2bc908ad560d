/*
 * test_sshd.c: smoke test of the sshd harness (tests/lib/sshd.h).
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

Test(sshd, keygen_cert_logs_in, .timeout = 60)
{
	char *dir = tu_tmpdir(), *out = NULL, *err = NULL, *cmd, *ca, *user;
	struct test_sshd *d = NULL;
	int rc;

	cmd = tu_fmt("ssh-keygen -q -t ed25519 -N '' -f %s/ca && "
		     "ssh-keygen -q -t ed25519 -N '' -f %s/id && "
		     "ssh-keygen -q -s %s/ca -I test@x -n alice -V -1m:+5m "
		     "-z 7 %s/id.pub",
	    dir, dir, dir, dir);
	rc = tu_sh(cmd, NULL, &err);
	cr_assert_eq(rc, 0, "%s", err);
	free(cmd);
	cmd = tu_fmt("%s/ca.pub", dir);
	ca = tu_read_file(cmd, NULL);
	free(cmd);
	ca[strcspn(ca, "\n")] = '\0';
	sshd_start(&d, ca);
	user = sshd_user();
	sshd_set_principals(d, user, "alice", NULL);
	cmd = tu_fmt("%s/id", dir);
	{
		char *c = tu_fmt("%s/id-cert.pub", dir);

		rc = sshd_ssh(d, user, cmd, c, "echo jitca-ok", &out, &err);
		free(c);
	}
	cr_assert_eq(rc, 0, "ssh: %s\nlog:\n%s", err, sshd_log(d));
	cr_assert_str_eq(out, "jitca-ok\n");
	cr_assert(sshd_log_wait(d, "ID test@x (serial 7)", 5000));
	sshd_stop(d);
	tu_rmtree(dir);
}
