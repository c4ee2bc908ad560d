/*
 * serve.h: `jitcad serve [--state DIR] [--listen HOST:PORT]
 * [--tls-cert F --tls-key F]`, the CA service (README.md "Commands").
 *
 * web/jitcad/cli.c's table dispatches the "serve" command here.  The
 * function runs until SIGTERM or SIGINT and returns the exit status:
 * 0 after a clean shutdown, 1 when startup failed (bad config, CA key
 * readable by others, ledger not writable, address in use), 2 on a usage
 * error.  Messages go to stderr, including
 * "listening on http://HOST:PORT" once connections are accepted.
 */
#ifndef JITCA_SERVE_H
#define JITCA_SERVE_H

struct cli_parsed;

/* The parsed `serve` command line (options state, listen, tls-cert,
 * tls-key of web/jitcad/cli.c's table). */
int web_serve_run(const struct cli_parsed *p);
/* The same from an argv whose argv[0] is "serve" (tests start the
 * service in-process this way). */
int web_serve_main(int argc, char **argv);

#endif /* JITCA_SERVE_H */
