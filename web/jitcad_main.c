/*
 * jitcad_main.c: the jitcad program: parses the command word and hands
 * over to the command's implementation.  Placeholder until the admin
 * commands land.
 */
#include <stdio.h>

int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "jitcad: no commands yet\n");
	return 2;
}
