/*
 * jitcad_main.c: the jitcad program.  Reads the command word and hands
 * over: `serve` to the HTTP service (web/serve.c), everything else to the
 * admin commands (ca/admin.c).  Exit status: 0 success, 1 refused or
 * failed, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "ca/admin.h"
#include "web/serve.h"

int
main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(admin_usage(), argc < 2 ? stderr : stdout);
		return argc < 2 ? ADMIN_EXIT_USAGE : ADMIN_EXIT_OK;
	}
	if (strcmp(argv[1], "serve") == 0)
		return web_serve_main(argc - 1, argv + 1);
	return admin_main(argc - 1, argv + 1);
}
