/*
 * cli.h: the option-table command-line layer of both programs (jitcad and
 * jitca), in the manner of curl's tool_getparam.c.  Each program declares
 * one static table: commands, their subcommands, and each one's options
 * (long name, short letter, argument name, help line, kind of value,
 * whether it may repeat or is required).  From that one table this layer
 *
 *   - parses argv: `--name VALUE`, `--name=VALUE`, `-x VALUE`, `-xVALUE`,
 *     flags, `--` to end options; values of kind number and duration are
 *     checked here (signer/base/num.h, signer/base/duration.h);
 *   - prints `--help` for the program, every command and subcommand
 *     (help is found before anything else is checked, and never runs the
 *     command), and `--version`;
 *   - prints short usage errors that name the bad option, with the
 *     command's synopsis, and returns CLI_EXIT_USAGE;
 *   - generates the man page (roff, `PROG --man`) and the bash completion
 *     script (`PROG --completion bash`); CMake runs both at build time.
 *
 * It does not open files or know any command's meaning; the parsed
 * result points into argv and the table, which outlive it.  Output goes
 * to the FILE pointers main() hands in.
 */
#ifndef JITCA_CLI_H
#define JITCA_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "signer/err.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

#define CLI_MAX_VALUES 128 /* option values on one command line */
#define CLI_MAX_ARGS 16 /* positional arguments */

enum cli_kind {
	CLI_FLAG = 0, /* no value */
	CLI_STRING, /* any text */
	CLI_FILE, /* a path (completion offers files) */
	CLI_DIR, /* a directory (completion offers directories) */
	CLI_NUMBER, /* strict unsigned decimal, see num.h */
	CLI_DURATION, /* the command-line duration grammar, duration.h */
	CLI_CHOICE, /* one of the words in choices */
};

#define CLI_REPEAT 0x1 /* may be given more than once */
#define CLI_REQUIRED 0x2 /* the command refuses to run without it */

struct cli_opt {
	const char *name; /* long name without "--"; NULL ends a list */
	char short_name; /* 0 when none */
	enum cli_kind kind;
	const char *arg; /* argument name in help: "FILE", "D" */
	unsigned flags; /* CLI_REPEAT, CLI_REQUIRED */
	const char *help; /* one line */
	const char *choices; /* CLI_CHOICE: words separated by '|' */
};

/* The entry that ends a list of options. */
#define CLI_OPT_END                                                            \
	{                                                                      \
		NULL, 0, CLI_FLAG, NULL, 0, NULL, NULL                         \
	}

struct cli_parsed;

struct cli_cmd {
	const char *name; /* NULL ends a list */
	const char *args; /* positional synopsis ("NAME", "ID") or NULL */
	unsigned min_args, max_args;
	const char *summary; /* one line */
	const struct cli_opt *opts; /* this command's options, or NULL */
	const struct cli_cmd *subs; /* subcommands, or NULL */
	/* Runs the command; returns the exit status.  NULL when subs. */
	int (*run)(const struct cli_parsed *p);
};

/* The entry that ends a list of commands. */
#define CLI_CMD_END                                                            \
	{                                                                      \
		NULL, NULL, 0, 0, NULL, NULL, NULL, NULL                       \
	}

struct cli_prog {
	const char *name; /* "jitcad" */
	int section; /* man page section: 8 or 1 */
	const char *version;
	const char *summary; /* NAME line of the man page */
	const char *description; /* paragraphs separated by blank lines */
	const struct cli_opt *common; /* options every command takes */
	const struct cli_cmd *cmds;
	const char *exit_status; /* lines "N  meaning" */
	const char *environment; /* lines "NAME  meaning" */
	const char *files; /* lines "PATH  meaning" */
};

struct cli_value {
	const struct cli_opt *opt;
	const char *text; /* borrowed from argv */
	uint64_t num; /* CLI_NUMBER, CLI_DURATION: the value */
};

/* The result of cli_parse: all pointers borrowed from the table/argv. */
struct cli_parsed {
	const struct cli_prog *prog;
	const struct cli_cmd *cmd; /* the command word's entry */
	const struct cli_cmd *sub; /* its subcommand, or NULL */
	char path[64]; /* "jitcad user add", for messages */
	const char *args[CLI_MAX_ARGS];
	size_t nargs;
	struct cli_value vals[CLI_MAX_VALUES];
	size_t nvals;
};

/*
 * The whole front end: parses argv (argv[0] is the program), prints help,
 * version, man page or completion on out and usage errors on err, or runs
 * the selected command.  Returns the exit status.
 */
int cli_main(
    const struct cli_prog *prog, int argc, char **argv, FILE *out, FILE *err);

/*
 * Parse without running.  0 with *p filled; 1 when help, version, man
 * page or completion was printed on out (nothing else to do); -1 after a
 * usage error was printed on err.
 */
MUST_CHECK int cli_parse(struct cli_parsed *p, const struct cli_prog *prog,
    int argc, char **argv, FILE *out, FILE *err);

/* The last value of option name, or NULL when not given. */
const char *cli_str(const struct cli_parsed *p, const char *name);
/* 1 if option name was given. */
int cli_flag(const struct cli_parsed *p, const char *name);
/* The last parsed number or duration of option name into *out: 1 if
 * given, else 0 and *out = dflt. */
int cli_num(
    const struct cli_parsed *p, const char *name, uint64_t dflt, uint64_t *out);
/* Up to max values of a repeatable option, in order; returns how many
 * were given (may exceed max: the caller says "too many"). */
size_t cli_list(
    const struct cli_parsed *p, const char *name, const char **out, size_t max);

/* A usage error for the parsed command: "PATH: message" and the synopsis
 * on err; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_parsed *p, FILE *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Help for prog (cmd and sub NULL), a command, or a subcommand. */
void cli_print_help(FILE *out, const struct cli_prog *prog,
    const struct cli_cmd *cmd, const struct cli_cmd *sub);
/* The roff man page (man(7) macros). */
void cli_print_man(FILE *out, const struct cli_prog *prog);
/* The bash completion script: defines _PROG and registers it. */
void cli_print_bash(FILE *out, const struct cli_prog *prog);

#endif /* JITCA_CLI_H */
