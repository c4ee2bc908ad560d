/*
 * cli.h: the option table of the jitcad program (cli.c),
 * read by main() (main.c), by `jitcad --man` and `jitcad
 * --completion bash`, and by web_serve_main() for tests that start the
 * service in-process.
 */
#ifndef JITCA_JITCAD_CLI_H
#define JITCA_JITCAD_CLI_H

#include "signer/base/cli.h"

extern const struct cli_prog jitcad_prog;

#endif /* JITCA_JITCAD_CLI_H */
