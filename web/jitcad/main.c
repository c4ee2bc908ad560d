/*
 * main.c: the jitcad program.  Its commands and options are the
 * table of web/jitcad/cli.c; signer/base/cli.c parses the command line,
 * prints help, and runs the command.  Exit status: 0 success, 1 refused
 * or failed, 2 usage error.
 */
#include <stdio.h>

#include "signer/base/cli.h"
#include "web/jitcad/cli.h"

int
main(int argc, char **argv)
{
	return cli_main(&jitcad_prog, argc, argv, stdout, stderr);
}
