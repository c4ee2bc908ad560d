/*
 * test_cli.c: the option-table CLI layer (signer/base/cli.c) against a
 * small table shaped like jitcad's: exact usage errors (unknown option,
 * missing value, repeated option, bad duration or number, missing or
 * extra arguments, unknown command), repeatable options, help for every
 * command in the table that runs nothing, --version, and the man page
 * and completion generated from the same table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "signer/base/cli.h"

static int runs;
static struct cli_parsed last_copy;
static const struct cli_parsed *last;
static char *copy;

/* Keeps a copy of what the command was given (it points into copy). */
static int
run(const struct cli_parsed *p)
{
	runs++;
	last_copy = *p;
	last = &last_copy;
	return 0;
}

static const struct cli_opt common[] = {
    {"state", 0, CLI_DIR, "DIR", 0, "the state directory", NULL},
    CLI_OPT_END,
};
static const struct cli_opt issue_opts[] = {
    {"user", 'u', CLI_STRING, "NAME", CLI_REQUIRED, "the user", NULL},
    {"ttl", 0, CLI_DURATION, "D", 0, "lifetime", NULL},
    {"principal", 0, CLI_STRING, "P", CLI_REPEAT, "a principal", NULL},
    {"serial", 0, CLI_NUMBER, "N", 0, "a serial", NULL},
    {"format", 0, CLI_CHOICE, "F", 0, "format", "jsonl|csv"},
    {"json", 0, CLI_FLAG, NULL, 0, "JSON", NULL},
    CLI_OPT_END,
};
static const struct cli_opt add_opts[] = {
    {"group", 0, CLI_STRING, "G", CLI_REPEAT | CLI_REQUIRED, "a group", NULL},
    CLI_OPT_END,
};
static const struct cli_cmd user_subs[] = {
    {"add", "NAME", 1, 1, "add a user", add_opts, NULL, run},
    {"list", NULL, 0, 0, "list users", NULL, NULL, run},
    CLI_CMD_END,
};
static const struct cli_cmd cmds[] = {
    {"issue", NULL, 0, 0, "issue a certificate", issue_opts, NULL, run},
    {"user", NULL, 0, 0, "users", NULL, user_subs, NULL},
    {"approve", "ID", 1, 1, "approve", NULL, NULL, run},
    CLI_CMD_END,
};
static const struct cli_prog prog = {"jitcad", 8, "1.2.3", "a test program",
    "First paragraph.\n\nSecond - with a dash.", common, cmds,
    "0  success\n2  usage error", "JITCA_STATE  the state", "STATE/x  a file"};

static char *out_buf, *err_buf;
static size_t out_len, err_len;

/* Run cli_main on a space-separated command line; the outputs land in
 * out_buf and err_buf. */
static int
cli(const char *line)
{
	char *argv[32], *tok, *save = NULL;
	FILE *out, *err;
	int argc = 0, rc;

	free(out_buf);
	free(err_buf);
	free(copy);
	copy = strdup(line);
	out = open_memstream(&out_buf, &out_len);
	err = open_memstream(&err_buf, &err_len);
	cr_assert(out != NULL && err != NULL);
	for (tok = strtok_r(copy, " ", &save); tok != NULL && argc < 31;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	runs = 0;
	last = NULL;
	rc = cli_main(&prog, argc, argv, out, err);
	fclose(out);
	fclose(err);
	return rc;
}

static void
cleanup(void)
{
	free(out_buf);
	free(err_buf);
	free(copy);
	out_buf = err_buf = copy = NULL;
}

TestSuite(cli, .fini = cleanup);

static void
usage_error(const char *line, const char *first_line)
{
	size_t n = strlen(first_line);

	cr_assert_eq(cli(line), CLI_EXIT_USAGE, "%s", line);
	cr_assert_eq(runs, 0, "%s ran", line);
	cr_assert_str_eq(out_buf, "", "%s", line);
	cr_assert(strncmp(err_buf, first_line, n) == 0 && err_buf[n] == '\n',
	    "%s:\n%s", line, err_buf);
}

Test(cli, usage_errors_name_the_option)
{
	usage_error(
	    "jitcad issue --bogus", "jitcad issue: unknown option --bogus");
	usage_error("jitcad issue -x", "jitcad issue: unknown option -x");
	usage_error("jitcad issue --user", "jitcad issue: --user needs NAME");
	usage_error("jitcad issue --user a --user b",
	    "jitcad issue: --user given twice");
	usage_error("jitcad issue --user a --ttl 5x",
	    "jitcad issue: --ttl: \"5x\" is not a duration: unknown unit (use "
	    "s, m, h or d)");
	usage_error("jitcad issue --user a --ttl 0",
	    "jitcad issue: --ttl: \"0\" is not a duration: zero is not "
	    "allowed");
	usage_error("jitcad issue --user a --serial -3",
	    "jitcad issue: --serial: \"-3\" is not a number (digits only, no leading zero)");
	usage_error("jitcad issue --user a --serial 99999999999999999999",
	    "jitcad issue: --serial: \"99999999999999999999\" is not a number "
	    "(digits only, no leading zero)");
	usage_error("jitcad issue --user a --format xml",
	    "jitcad issue: --format must be jsonl|csv");
	usage_error("jitcad issue --user a --json=1",
	    "jitcad issue: --json takes no value");
	usage_error("jitcad issue", "jitcad issue: --user is required");
	usage_error("jitcad issue --user a extra",
	    "jitcad issue: unexpected argument \"extra\"");
	usage_error("jitcad frob", "jitcad: unknown command \"frob\"");
	usage_error("jitcad", "jitcad: a command is needed");
	usage_error("jitcad user", "jitcad user: a command is needed");
	usage_error(
	    "jitcad user frob", "jitcad user: unknown command \"frob\"");
	usage_error(
	    "jitcad user add --group g", "jitcad user add: missing NAME");
	usage_error(
	    "jitcad user add bob", "jitcad user add: --group is required");
	usage_error("jitcad user list --group g",
	    "jitcad user list: unknown option --group");
	usage_error("jitcad approve", "jitcad approve: missing ID");
	/* The synopsis follows the message. */
	cli("jitcad issue --bogus");
	cr_assert_str_eq(err_buf,
	    "jitcad issue: unknown option --bogus\n"
	    "usage: jitcad issue --user NAME [--ttl D] [--principal P]... "
	    "[--serial N]\n"
	    "                    [--format jsonl|csv] [--json] [--state DIR]\n");
}

Test(cli, values)
{
	const char *v[4];
	uint64_t n;

	cr_assert_eq(cli("jitcad issue -ubob --ttl 300 --principal a "
			 "--principal=b --serial 7 --format csv --json "
			 "--state /s"),
	    0, "%s", err_buf);
	cr_assert_eq(runs, 1);
	cr_assert_str_eq(err_buf, "");
	cr_assert_str_eq(last->path, "jitcad issue");
	cr_assert_str_eq(cli_str(last, "user"), "bob");
	cr_assert_str_eq(cli_str(last, "state"), "/s");
	cr_assert_eq(cli_num(last, "ttl", 1, &n), 1);
	cr_assert_eq(n, 300);
	cr_assert_eq(cli_num(last, "serial", 1, &n), 1);
	cr_assert_eq(n, 7);
	cr_assert_eq(cli_list(last, "principal", v, 4), 2);
	cr_assert_str_eq(v[0], "a");
	cr_assert_str_eq(v[1], "b");
	cr_assert_eq(cli_list(last, "principal", v, 1), 2); /* "too many" */
	cr_assert(cli_flag(last, "json"));
	cr_assert_str_eq(cli_str(last, "format"), "csv");
	cr_assert_eq(cli("jitcad issue -u bob --ttl 2h -- --json"), 2);
	cr_assert_eq(cli("jitcad issue -u bob --ttl 2h"), 0);
	cr_assert_eq(cli_num(last, "ttl", 1, &n), 1);
	cr_assert_eq(n, 7200);
	cr_assert_eq(cli_num(last, "serial", 9, &n), 0);
	cr_assert_eq(n, 9);
	cr_assert(!cli_flag(last, "json"));
	cr_assert_null(cli_str(last, "principal"));
	cr_assert_eq(cli("jitcad user add --group a bob --group b"), 0);
	cr_assert_str_eq(last->path, "jitcad user add");
	cr_assert_str_eq(last->sub->name, "add");
	cr_assert_eq(last->nargs, 1);
	cr_assert_str_eq(last->args[0], "bob");
	cr_assert_eq(cli_list(last, "group", v, 4), 2);
}

Test(cli, help_for_every_command_runs_nothing)
{
	static const char *lines[] = {"jitcad --help", "jitcad -h",
	    "jitcad issue --help", "jitcad issue --bogus -h",
	    "jitcad user --help", "jitcad user add --help",
	    "jitcad user list --help", "jitcad approve --help",
	    "jitcad frob --help"};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		cr_assert_eq(cli(lines[i]), 0, "%s", lines[i]);
		cr_assert_eq(runs, 0, "%s ran the command", lines[i]);
		cr_assert_str_eq(err_buf, "", "%s", lines[i]);
		cr_assert(strncmp(out_buf, "usage:", 6) == 0, "%s", out_buf);
	}
	cli("jitcad user add --help");
	cr_assert_str_eq(out_buf,
	    "usage: jitcad user add NAME --group G... [--state DIR]\n"
	    "\n"
	    "Add a user.\n"
	    "\n"
	    "options:\n"
	    "  --group G               a group (repeatable)\n"
	    "  --state DIR             the state directory\n"
	    "  -h, --help              show this help and exit (does nothing "
	    "else)\n"
	    "  --version               show the version and exit\n");
	cli("jitcad user --help");
	cr_assert(strstr(out_buf, "  jitcad user list [--state DIR]\n") != NULL,
	    "%s", out_buf);
	/* After "--", -h is an argument, not a request for help. */
	cr_assert_eq(cli("jitcad approve -- -h"), 0);
	cr_assert_eq(runs, 1);
	cr_assert_str_eq(last->args[0], "-h");
	cr_assert_eq(cli("jitcad --version"), 0);
	cr_assert_str_eq(out_buf, "jitcad 1.2.3\n");
	cr_assert_eq(runs, 0);
	cr_assert_eq(cli("jitcad user add --version"), 0);
	cr_assert_str_eq(out_buf, "jitcad 1.2.3\n");
	cr_assert_eq(runs, 0);
	cr_assert_eq(cli("jitcad issue --version --help"), 0);
	cr_assert(strncmp(out_buf, "usage: jitcad issue", 19) == 0);
}

Test(cli, man_page_from_the_table)
{
	cr_assert_eq(cli("jitcad --man"), 0);
	cr_assert(strncmp(out_buf,
		      ".TH JITCAD 8 \"\" \"jitca 1.2.3\"\n.SH NAME\n"
		      "jitcad \\- a test program\n.SH SYNOPSIS\n",
		      60) == 0,
	    "%s", out_buf);
	cr_assert(strstr(out_buf,
		      ".SS user add\n.PP\n.B jitcad user add NAME "
		      "\\-\\-group\\ G... [\\-\\-state\\ DIR]\n.PP\n"
		      "Add a user.\n") != NULL,
	    "%s", out_buf);
	cr_assert(strstr(out_buf,
		      ".TP\n.BI \"\\-u, \\-\\-user \" NAME\nthe "
		      "user.\n") != NULL,
	    "%s", out_buf);
	cr_assert(strstr(out_buf, "Second \\- with a dash.\n") != NULL, "%s",
	    out_buf);
	cr_assert(
	    strstr(out_buf, ".SH EXIT STATUS\n.TP\n.B 0\nsuccess\n") != NULL,
	    "%s", out_buf);
	cr_assert(
	    strstr(out_buf, ".SH FILES\n.TP\n.B STATE/x\na file\n") != NULL,
	    "%s", out_buf);
}

Test(cli, completion_from_the_table)
{
	cr_assert_eq(cli("jitcad --completion bash"), 0);
	cr_assert(strstr(out_buf,
		      "\t/)\n\t\topts=\"--help --version\"\n"
		      "\t\twords=\"issue user approve\"\n") != NULL,
	    "%s", out_buf);
	cr_assert(strstr(out_buf,
		      "\tuser/)\n\t\topts=\" --state --help --version\"\n"
		      "\t\twords=\"add list\"\n") != NULL,
	    "%s", out_buf);
	cr_assert(strstr(out_buf, "complete -F _jitcad jitcad\n") != NULL);
	cr_assert_eq(cli("jitcad --completion zsh"), 2);
}
