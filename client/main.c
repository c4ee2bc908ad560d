/*
 * main.c: the jitca program, the engineers' and approvers' command
 * (docs/client.md).  Its commands and options are the table of
 * client/cli.c; signer/base/cli.c parses the command line, prints help
 * and runs the command.  Results go to stdout, messages to stderr; the
 * exit status says what happened (JITCA_EXIT_* in client/jitca.h,
 * documented in docs/client.md).  The token is never printed.
 */
#include <stdio.h>
#include <sys/resource.h>

#include "client/cli.h"
#include "signer/base/cli.h"

int
main(int argc, char **argv)
{
	struct rlimit nocore = {0, 0};

	/* The ephemeral private key must not end up in a core file. */
	(void)setrlimit(RLIMIT_CORE, &nocore);
	return cli_main(&jitca_prog, argc, argv, stdout, stderr);
}
