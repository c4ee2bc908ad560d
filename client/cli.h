/*
 * cli.h: the option table of the jitca program (cli.c), read by main()
 * (main.c), by `jitca --man` and `jitca --completion bash`.
 */
#ifndef JITCA_CLIENT_CLI_H
#define JITCA_CLIENT_CLI_H

#include "signer/base/cli.h"

extern const struct cli_prog jitca_prog;

#endif /* JITCA_CLIENT_CLI_H */
