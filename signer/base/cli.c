/*
 * cli.c: the option-table command-line layer of cli.h: the parser, the
 * help and usage texts, the man page and the bash completion script, all
 * read from one struct cli_prog.  Works with num.c and duration.c for
 * the values it checks.  Prints only on the FILE pointers it is given.
 */
#include <assert.h>
#include <stdarg.h>
#include <string.h>

#include "signer/base/cli.h"
#include "signer/base/duration.h"
#include "signer/base/num.h"

#define HELP_COL 26 /* where option help starts in --help */
#define HELP_WIDTH 79 /* --help and usage lines fold before this */

static const struct cli_opt help_opt = {"help", 'h', CLI_FLAG, NULL, 0,
    "show this help and exit (does nothing else)", NULL};
static const struct cli_opt version_opt = {
    "version", 0, CLI_FLAG, NULL, 0, "show the version and exit", NULL};

static const struct cli_cmd *
cmd_find(const struct cli_cmd *list, const char *name)
{
	for (; list != NULL && list->name != NULL; list++)
		if (strcmp(list->name, name) == 0)
			return list;
	return NULL;
}

/* The option lists that apply at a level, most specific first. */
static size_t
opt_lists(const struct cli_prog *prog, const struct cli_cmd *cmd,
    const struct cli_cmd *sub, const struct cli_opt *lists[3])
{
	size_t n = 0;

	if (sub != NULL && sub->opts != NULL)
		lists[n++] = sub->opts;
	if (cmd != NULL && cmd->opts != NULL)
		lists[n++] = cmd->opts;
	if (cmd != NULL && prog->common != NULL)
		lists[n++] = prog->common;
	return n;
}

static const struct cli_opt *
opt_find(const struct cli_prog *prog, const struct cli_cmd *cmd,
    const struct cli_cmd *sub, const char *name, size_t nlen, char letter)
{
	const struct cli_opt *lists[3], *o;
	size_t i, n = opt_lists(prog, cmd, sub, lists);

	for (i = 0; i < n; i++) {
		for (o = lists[i]; o->name != NULL; o++) {
			if (name != NULL && strlen(o->name) == nlen &&
			    strncmp(o->name, name, nlen) == 0)
				return o;
			if (name == NULL && letter != 0 &&
			    o->short_name == letter)
				return o;
		}
	}
	return NULL;
}

/* 1 when word is one of the '|'-separated choices. */
static int
choice_ok(const char *choices, const char *word)
{
	size_t n = strlen(word);
	const char *p = choices, *bar;

	while (p != NULL && *p != '\0') {
		bar = strchr(p, '|');
		if ((bar != NULL ? (size_t)(bar - p) : strlen(p)) == n &&
		    strncmp(p, word, n) == 0)
			return 1;
		p = bar != NULL ? bar + 1 : NULL;
	}
	return 0;
}

/* ---- usage lines ---- */

/*
 * In a synopsis, the space inside one option ("[--ttl D]") is NBSP: the
 * folding below never breaks there, and the man page writes it as "\ ".
 */
#define NBSP '\x01'

static void
print_opt_synopsis(FILE *f, const struct cli_opt *o)
{
	int req = (o->flags & CLI_REQUIRED) != 0;

	fprintf(f, " %s--%s", req ? "" : "[", o->name);
	if (o->kind == CLI_CHOICE)
		fprintf(f, "%c%s", NBSP, o->choices);
	else if (o->kind != CLI_FLAG)
		fprintf(f, "%c%s", NBSP, o->arg != NULL ? o->arg : "VALUE");
	fprintf(f, "%s%s", req ? "" : "]",
	    (o->flags & CLI_REPEAT) != 0 ? "..." : "");
}

/* One synopsis line: "jitcad user add NAME --group G... [--state DIR]". */
static void
print_synopsis(FILE *f, const struct cli_prog *prog, const struct cli_cmd *cmd,
    const struct cli_cmd *sub)
{
	const struct cli_cmd *leaf = sub != NULL ? sub : cmd;
	const struct cli_opt *lists[3], *o;
	size_t i, n = opt_lists(prog, cmd, sub, lists);

	fprintf(f, "%s %s", prog->name, cmd->name);
	if (sub != NULL)
		fprintf(f, " %s", sub->name);
	else if (cmd->subs != NULL)
		fputs(" COMMAND", f);
	if (leaf->args != NULL)
		fprintf(f, " %s", leaf->args);
	/* Required options first, then the rest, in table order. */
	for (i = 0; i < n; i++)
		for (o = lists[i]; o->name != NULL; o++)
			if ((o->flags & CLI_REQUIRED) != 0)
				print_opt_synopsis(f, o);
	for (i = 0; i < n; i++)
		for (o = lists[i]; o->name != NULL; o++)
			if ((o->flags & CLI_REQUIRED) == 0)
				print_opt_synopsis(f, o);
}

/* The synopsis into buf (with NBSP), "" if it does not fit. */
static void
synopsis_text(char *buf, size_t len, const struct cli_prog *prog,
    const struct cli_cmd *cmd, const struct cli_cmd *sub)
{
	FILE *m;

	buf[0] = '\0';
	if ((m = fmemopen(buf, len, "w")) == NULL)
		return;
	print_synopsis(m, prog, cmd, sub);
	if (fclose(m) != 0)
		buf[0] = '\0';
	buf[len - 1] = '\0';
}

/*
 * text folded at its spaces to HELP_WIDTH columns, starting at column
 * col; continuation lines are indented to indent.  NBSP prints as a
 * space but never breaks.  Ends with a newline.
 */
static void
print_folded(FILE *f, const char *text, size_t col, size_t indent)
{
	const char *p = text, *sp;
	size_t w, i;
	int first = 1;

	while (*p != '\0') {
		sp = strchr(p, ' ');
		w = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (!first && col + 1 + w > HELP_WIDTH && col > indent) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		for (i = 0; i < w; i++)
			fputc(p[i] == NBSP ? ' ' : p[i], f);
		col += w;
		first = 0;
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	fputc('\n', f);
}

static void
print_synopsis_folded(FILE *f, const char *lead, const struct cli_prog *prog,
    const struct cli_cmd *cmd, const struct cli_cmd *sub)
{
	char line[1024];

	synopsis_text(line, sizeof(line), prog, cmd, sub);
	fputs(lead, f);
	/* Continuation lines line up after "jitcad issue ". */
	print_folded(f, line, strlen(lead),
	    strlen(lead) + strlen(prog->name) + strlen(cmd->name) + 2);
}

/* A summary as a sentence: capital first letter, full stop. */
static void
print_sentence(FILE *f, const char *s, size_t col, size_t indent)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s.", s);
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
	print_folded(f, buf, col, indent);
}

static void
print_opt_help(FILE *f, const struct cli_opt *o)
{
	char buf[512];
	int n;

	if (o->short_name != 0)
		n = fprintf(f, "  -%c, --%s", o->short_name, o->name);
	else
		n = fprintf(f, "  --%s", o->name);
	if (o->kind == CLI_CHOICE)
		n += fprintf(f, " %s", o->choices);
	else if (o->kind != CLI_FLAG)
		n += fprintf(f, " %s", o->arg != NULL ? o->arg : "VALUE");
	if (n < 0 || n >= HELP_COL - 1)
		fprintf(f, "\n%*s", HELP_COL, "");
	else
		fprintf(f, "%*s", HELP_COL - n, "");
	snprintf(buf, sizeof(buf), "%s%s", o->help,
	    (o->flags & CLI_REPEAT) != 0 ? " (repeatable)" : "");
	print_folded(f, buf, HELP_COL, HELP_COL);
}

void
cli_print_help(FILE *out, const struct cli_prog *prog,
    const struct cli_cmd *cmd, const struct cli_cmd *sub)
{
	const struct cli_opt *lists[3], *o;
	const struct cli_cmd *c, *s;
	size_t i, n;

	if (cmd == NULL) {
		fprintf(out, "usage: %s COMMAND [options]\n\n", prog->name);
		print_sentence(out, prog->summary, 0, 0);
		fputs("\ncommands:\n", out);
		for (c = prog->cmds; c->name != NULL; c++) {
			if (c->subs == NULL)
				print_synopsis_folded(out, "  ", prog, c, NULL);
			for (s = c->subs; s != NULL && s->name != NULL; s++)
				print_synopsis_folded(out, "  ", prog, c, s);
		}
		fprintf(out,
		    "\n%s COMMAND --help shows a command's options; %s "
		    "--version its version.\n",
		    prog->name, prog->name);
		return;
	}
	if (sub == NULL && cmd->subs != NULL) {
		fputs("usage:\n", out);
		for (s = cmd->subs; s->name != NULL; s++)
			print_synopsis_folded(out, "  ", prog, cmd, s);
		fputc('\n', out);
		print_sentence(out, cmd->summary, 0, 0);
		fputs("\ncommands:\n", out);
		for (s = cmd->subs; s->name != NULL; s++) {
			fprintf(out, "  %-*s", HELP_COL - 2, s->name);
			print_sentence(out, s->summary, HELP_COL, HELP_COL);
		}
		fprintf(out, "\n%s %s COMMAND --help shows its options.\n",
		    prog->name, cmd->name);
		return;
	}
	print_synopsis_folded(out, "usage: ", prog, cmd, sub);
	fputc('\n', out);
	print_sentence(out, sub != NULL ? sub->summary : cmd->summary, 0, 0);
	fputs("\noptions:\n", out);
	n = opt_lists(prog, cmd, sub, lists);
	for (i = 0; i < n; i++)
		for (o = lists[i]; o->name != NULL; o++)
			print_opt_help(out, o);
	print_opt_help(out, &help_opt);
	print_opt_help(out, &version_opt);
}

/* ---- parsing ---- */

static void
set_path(struct cli_parsed *p)
{
	snprintf(p->path, sizeof(p->path), "%s%s%s%s%s", p->prog->name,
	    p->cmd != NULL ? " " : "", p->cmd != NULL ? p->cmd->name : "",
	    p->sub != NULL ? " " : "", p->sub != NULL ? p->sub->name : "");
}

int
cli_usage_error(const struct cli_parsed *p, FILE *err, const char *fmt, ...)
{
	va_list ap;

	fprintf(err, "%s: ", p->path);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
	if (p->cmd != NULL && (p->sub != NULL || p->cmd->subs == NULL))
		print_synopsis_folded(err, "usage: ", p->prog, p->cmd, p->sub);
	else
		fprintf(err, "run '%s --help' for the commands\n", p->path);
	return CLI_EXIT_USAGE;
}

/*
 * Help wins over everything else: any -h or --help before "--" prints the
 * help of the deepest command named by the words before it, even if the
 * rest of the line is wrong; else --version anywhere prints the version.
 * Returns 1 when help or the version was printed.
 */
static int
help_requested(const struct cli_prog *prog, int argc, char **argv, FILE *out)
{
	const struct cli_cmd *cmd = NULL, *sub = NULL;
	int i, want = 0;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			want = 2;
		else if (strcmp(argv[i], "--version") == 0 && want == 0)
			want = 1;
	}
	if (want == 0)
		return 0;
	if (want == 1) {
		fprintf(out, "%s %s\n", prog->name, prog->version);
		return 1;
	}
	/* The command word may follow common options. */
	for (i = 1; i < argc && cmd == NULL; i++)
		if (argv[i][0] != '-')
			cmd = cmd_find(prog->cmds, argv[i]);
	if (cmd != NULL && cmd->subs != NULL && i < argc)
		sub = cmd_find(cmd->subs, argv[i]);
	cli_print_help(out, prog, cmd, sub);
	return 1;
}

/* Check and store one option value; -1 after a message. */
static int
add_value(
    struct cli_parsed *p, const struct cli_opt *o, const char *v, FILE *err)
{
	struct cli_value *cv;
	const char *why = NULL;
	size_t i;

	for (i = 0; i < p->nvals; i++)
		if (p->vals[i].opt == o && (o->flags & CLI_REPEAT) == 0) {
			cli_usage_error(p, err, "--%s given twice", o->name);
			return -1;
		}
	if (p->nvals == CLI_MAX_VALUES) {
		cli_usage_error(p, err, "too many options");
		return -1;
	}
	cv = &p->vals[p->nvals];
	cv->opt = o;
	cv->text = v;
	cv->num = 0;
	switch (o->kind) {
	case CLI_NUMBER:
		if (num_parse_u64(v, UINT64_MAX, &cv->num) != 0) {
			cli_usage_error(p, err,
			    "--%s: \"%.64s\" is not a number (digits only, no "
			    "leading zero)",
			    o->name, v);
			return -1;
		}
		break;
	case CLI_DURATION:
		if (duration_parse_flags(
			v, DURATION_BARE_SECONDS, &cv->num, &why) != 0) {
			cli_usage_error(p, err,
			    "--%s: \"%.64s\" is not a duration: %s", o->name, v,
			    why);
			return -1;
		}
		break;
	case CLI_CHOICE:
		if (!choice_ok(o->choices, v)) {
			cli_usage_error(
			    p, err, "--%s must be %s", o->name, o->choices);
			return -1;
		}
		break;
	default:
		break;
	}
	p->nvals++;
	return 0;
}

static int
add_arg(struct cli_parsed *p, const char *a, FILE *err)
{
	if (p->cmd->subs != NULL && p->sub == NULL) {
		if ((p->sub = cmd_find(p->cmd->subs, a)) == NULL) {
			cli_usage_error(p, err, "unknown command \"%.64s\"", a);
			return -1;
		}
		set_path(p);
		return 0;
	}
	if (p->nargs == CLI_MAX_ARGS) {
		cli_usage_error(p, err, "too many arguments");
		return -1;
	}
	p->args[p->nargs++] = a;
	return 0;
}

/* The options and arguments from argv[1] on, the command word at
 * argv[word] skipped; 0 or -1. */
static int
parse_rest(struct cli_parsed *p, int argc, char **argv, int word, FILE *err)
{
	const struct cli_opt *o;
	const char *a, *eq, *v;
	int i, only_args = 0;
	size_t nlen;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (i == word)
			continue;
		if (only_args || a[0] != '-' || a[1] == '\0') {
			if (add_arg(p, a, err) != 0)
				return -1;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = 1;
			continue;
		}
		v = NULL;
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			nlen =
			    eq != NULL ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			o = opt_find(p->prog, p->cmd, p->sub, a + 2, nlen, 0);
			if (o == NULL) {
				cli_usage_error(p, err, "unknown option --%.*s",
				    (int)(nlen > 64 ? 64 : nlen), a + 2);
				return -1;
			}
			if (eq != NULL && o->kind == CLI_FLAG) {
				cli_usage_error(
				    p, err, "--%s takes no value", o->name);
				return -1;
			}
			if (eq != NULL)
				v = eq + 1;
		} else {
			o = opt_find(p->prog, p->cmd, p->sub, NULL, 0, a[1]);
			if (o == NULL ||
			    (o->kind == CLI_FLAG && a[2] != '\0')) {
				cli_usage_error(
				    p, err, "unknown option %.64s", a);
				return -1;
			}
			if (a[2] != '\0')
				v = a + 2;
		}
		if (o->kind != CLI_FLAG && v == NULL) {
			if (i + 1 >= argc) {
				cli_usage_error(p, err, "--%s needs %s",
				    o->name,
				    o->arg != NULL ? o->arg : "a value");
				return -1;
			}
			v = argv[++i];
		}
		if (add_value(p, o, v != NULL ? v : "", err) != 0)
			return -1;
	}
	return 0;
}

/* Required options and the number of arguments; 0 or -1. */
static int
check_complete(struct cli_parsed *p, FILE *err)
{
	const struct cli_cmd *leaf = p->sub != NULL ? p->sub : p->cmd;
	const struct cli_opt *lists[3], *o;
	size_t i, n;

	if (p->cmd->subs != NULL && p->sub == NULL) {
		cli_usage_error(p, err, "a command is needed");
		return -1;
	}
	if (p->nargs < leaf->min_args) {
		cli_usage_error(p, err, "missing %s",
		    leaf->args != NULL ? leaf->args : "argument");
		return -1;
	}
	if (p->nargs > leaf->max_args) {
		cli_usage_error(p, err, "unexpected argument \"%.64s\"",
		    p->args[leaf->max_args]);
		return -1;
	}
	n = opt_lists(p->prog, p->cmd, p->sub, lists);
	for (i = 0; i < n; i++)
		for (o = lists[i]; o->name != NULL; o++)
			if ((o->flags & CLI_REQUIRED) != 0 &&
			    cli_str(p, o->name) == NULL) {
				cli_usage_error(
				    p, err, "--%s is required", o->name);
				return -1;
			}
	return 0;
}

/*
 * The index of the command word: the program's common options may come
 * before it (`jitca --server URL requests`), as git and curl allow.
 * Returns argc when there is none; -1 after a usage error (an option
 * before the command word that is not a common one).
 */
static int
command_word(struct cli_parsed *p, int argc, char **argv, FILE *err)
{
	const struct cli_opt *o;
	const char *a;
	size_t nlen;
	int i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (a[0] != '-' || a[1] == '\0')
			return i;
		if (a[1] != '-' || a[2] == '\0') {
			cli_usage_error(p, err,
			    "%.64s before the command: only the common "
			    "options (--server, ...) may come first",
			    a);
			return -1;
		}
		nlen = strcspn(a + 2, "=");
		for (o = p->prog->common; o != NULL && o->name != NULL; o++)
			if (strlen(o->name) == nlen &&
			    strncmp(o->name, a + 2, nlen) == 0)
				break;
		if (o == NULL || o->name == NULL) {
			cli_usage_error(p, err,
			    "--%.*s before the command: only the common "
			    "options may come first",
			    (int)(nlen > 64 ? 64 : nlen), a + 2);
			return -1;
		}
		if (o->kind != CLI_FLAG && a[2 + nlen] != '=')
			i++; /* its value */
	}
	return argc;
}

int
cli_parse(struct cli_parsed *p, const struct cli_prog *prog, int argc,
    char **argv, FILE *out, FILE *err)
{
	int word;

	memset(p, 0, sizeof(*p));
	p->prog = prog;
	set_path(p);
	if (help_requested(prog, argc, argv, out))
		return 1;
	if (argc < 2) {
		cli_usage_error(p, err, "a command is needed");
		return -1;
	}
	if (strcmp(argv[1], "--man") == 0 && argc == 2) {
		cli_print_man(out, prog);
		return 1;
	}
	if (strcmp(argv[1], "--completion") == 0 && argc == 3 &&
	    strcmp(argv[2], "bash") == 0) {
		cli_print_bash(out, prog);
		return 1;
	}
	if ((word = command_word(p, argc, argv, err)) < 0)
		return -1;
	if (word >= argc) {
		cli_usage_error(p, err, "a command is needed");
		return -1;
	}
	if ((p->cmd = cmd_find(prog->cmds, argv[word])) == NULL) {
		cli_usage_error(
		    p, err, "unknown command \"%.64s\"", argv[word]);
		return -1;
	}
	set_path(p);
	if (parse_rest(p, argc, argv, word, err) != 0 ||
	    check_complete(p, err) != 0)
		return -1;
	return 0;
}

int
cli_main(
    const struct cli_prog *prog, int argc, char **argv, FILE *out, FILE *err)
{
	struct cli_parsed p;
	const struct cli_cmd *leaf;
	int r;

	if ((r = cli_parse(&p, prog, argc, argv, out, err)) != 0)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	leaf = p.sub != NULL ? p.sub : p.cmd;
	assert(leaf->run != NULL);
	return leaf->run(&p);
}

/* ---- results ---- */

/* The option name must exist for the parsed command: a typo in a
 * command body is a bug, not "option not given". */
static void
check_name(const struct cli_parsed *p, const char *name)
{
	assert(
	    opt_find(p->prog, p->cmd, p->sub, name, strlen(name), 0) != NULL);
	(void)p;
	(void)name;
}

const char *
cli_str(const struct cli_parsed *p, const char *name)
{
	size_t i = p->nvals;

	check_name(p, name);
	while (i-- > 0)
		if (strcmp(p->vals[i].opt->name, name) == 0)
			return p->vals[i].text;
	return NULL;
}

int
cli_flag(const struct cli_parsed *p, const char *name)
{
	return cli_str(p, name) != NULL;
}

int
cli_num(
    const struct cli_parsed *p, const char *name, uint64_t dflt, uint64_t *out)
{
	size_t i = p->nvals;

	check_name(p, name);
	*out = dflt;
	while (i-- > 0) {
		if (strcmp(p->vals[i].opt->name, name) == 0) {
			*out = p->vals[i].num;
			return 1;
		}
	}
	return 0;
}

size_t
cli_list(
    const struct cli_parsed *p, const char *name, const char **out, size_t max)
{
	size_t i, n = 0;

	check_name(p, name);
	for (i = 0; i < p->nvals; i++) {
		if (strcmp(p->vals[i].opt->name, name) != 0)
			continue;
		if (n < max)
			out[n] = p->vals[i].text;
		n++;
	}
	return n;
}

/* ---- the man page ---- */

/* Text in roff: escape backslashes, '-' and a leading '.' or '\''. */
static void
roff(FILE *f, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i] != '\0'; i++) {
		if ((i == 0 || s[i - 1] == '\n') &&
		    (s[i] == '.' || s[i] == '\''))
			fputs("\\&", f);
		if (s[i] == '\\')
			fputs("\\e", f);
		else if (s[i] == '-')
			fputs("\\-", f);
		else
			fputc(s[i], f);
	}
}

static void
roff_str(FILE *f, const char *s)
{
	roff(f, s, strlen(s));
}

static void
man_synopsis(FILE *f, const struct cli_prog *prog, const struct cli_cmd *cmd,
    const struct cli_cmd *sub)
{
	char line[1024], *p, *nb;

	/* The --help synopsis, escaped; NBSP becomes roff's "\ ". */
	synopsis_text(line, sizeof(line), prog, cmd, sub);
	fputs(".PP\n.B ", f);
	for (p = line; (nb = strchr(p, NBSP)) != NULL; p = nb + 1) {
		roff(f, p, (size_t)(nb - p));
		fputs("\\ ", f);
	}
	roff_str(f, p);
	fputc('\n', f);
}

/* Paragraphs separated by blank lines become .PP paragraphs. */
static void
man_paragraphs(FILE *f, const char *text)
{
	const char *p = text, *end;

	while (*p != '\0') {
		end = strstr(p, "\n\n");
		fputs(".PP\n", f);
		roff(f, p, end != NULL ? (size_t)(end - p) : strlen(p));
		fputc('\n', f);
		if (end == NULL)
			break;
		p = end + 2;
	}
}

/* Lines "TAG  text" (two spaces) become .TP items. */
static void
man_items(FILE *f, const char *text)
{
	const char *p = text, *nl, *sep;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		sep = strstr(p, "  ");
		if (sep == NULL || (nl != NULL && sep > nl))
			sep = nl != NULL ? nl : p + strlen(p);
		fputs(".TP\n.B ", f);
		roff(f, p, (size_t)(sep - p));
		fputc('\n', f);
		while (*sep == ' ')
			sep++;
		roff(f, sep, nl != NULL ? (size_t)(nl - sep) : strlen(sep));
		fputc('\n', f);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

static void
man_options(FILE *f, const struct cli_opt *o)
{
	for (; o != NULL && o->name != NULL; o++) {
		/* One tag line: .TP takes only the next line as its tag. */
		fputs(o->kind == CLI_FLAG || o->kind == CLI_CHOICE
			? ".TP\n.B \""
			: ".TP\n.BI \"",
		    f);
		if (o->short_name != 0)
			fprintf(f, "\\-%c, ", o->short_name);
		fputs("\\-\\-", f);
		roff_str(f, o->name);
		if (o->kind == CLI_CHOICE) {
			fputc(' ', f);
			roff_str(f, o->choices);
			fputs("\"", f);
		} else if (o->kind != CLI_FLAG) {
			fputs(" \" ", f);
			roff_str(f, o->arg != NULL ? o->arg : "VALUE");
		} else
			fputc('"', f);
		fputc('\n', f);
		roff_str(f, o->help);
		if ((o->flags & CLI_REPEAT) != 0)
			fputs(" (repeatable)", f);
		fputs(".\n", f);
	}
}

static void
man_command(FILE *f, const struct cli_prog *prog, const struct cli_cmd *cmd,
    const struct cli_cmd *sub)
{
	const struct cli_cmd *leaf = sub != NULL ? sub : cmd;

	fputs(".SS ", f);
	roff_str(f, cmd->name);
	if (sub != NULL) {
		fputc(' ', f);
		roff_str(f, sub->name);
	}
	fputc('\n', f);
	man_synopsis(f, prog, cmd, sub);
	fputs(".PP\n", f);
	if (leaf->summary[0] >= 'a' && leaf->summary[0] <= 'z')
		fputc(leaf->summary[0] - 'a' + 'A', f);
	else
		roff(f, leaf->summary, 1);
	roff_str(f, leaf->summary + 1);
	fputs(".\n", f);
	if (sub != NULL)
		man_options(f, cmd->opts);
	man_options(f, leaf->opts);
}

void
cli_print_man(FILE *out, const struct cli_prog *prog)
{
	const struct cli_cmd *c, *s;
	char up[32];
	size_t i;

	for (i = 0; prog->name[i] != '\0' && i + 1 < sizeof(up); i++)
		up[i] = (char)(prog->name[i] >= 'a' && prog->name[i] <= 'z'
			? prog->name[i] - 'a' + 'A'
			: prog->name[i]);
	up[i] = '\0';
	fprintf(out, ".TH %s %d \"\" \"jitca %s\"\n.SH NAME\n", up,
	    prog->section, prog->version);
	roff_str(out, prog->name);
	fputs(" \\- ", out);
	roff_str(out, prog->summary);
	fputs("\n.SH SYNOPSIS\n", out);
	for (c = prog->cmds; c->name != NULL; c++) {
		if (c->subs == NULL)
			man_synopsis(out, prog, c, NULL);
		for (s = c->subs; s != NULL && s->name != NULL; s++)
			man_synopsis(out, prog, c, s);
	}
	fputs(".PP\n.B ", out);
	roff_str(out, prog->name);
	fputs("\n\\-\\-help | \\-\\-version\n.SH DESCRIPTION\n", out);
	man_paragraphs(out, prog->description);
	fputs(".PP\nEvery command and subcommand takes\n.BR \\-\\-help ,\n"
	      "which prints its options on standard output and does "
	      "nothing else.\n",
	    out);
	if (prog->common != NULL) {
		fputs(".PP\nOptions every command takes:\n", out);
		man_options(out, prog->common);
	}
	fputs(".SH COMMANDS\n", out);
	for (c = prog->cmds; c->name != NULL; c++) {
		if (c->subs == NULL)
			man_command(out, prog, c, NULL);
		for (s = c->subs; s != NULL && s->name != NULL; s++)
			man_command(out, prog, c, s);
	}
	fputs(".SH EXIT STATUS\n", out);
	man_items(out, prog->exit_status);
	fputs(".SH ENVIRONMENT\n", out);
	man_items(out, prog->environment);
	fputs(".SH FILES\n", out);
	man_items(out, prog->files);
}

/* ---- bash completion ---- */

static void
bash_opts(FILE *f, const struct cli_opt *o)
{
	for (; o != NULL && o->name != NULL; o++) {
		fprintf(f, " --%s", o->name);
		if (o->short_name != 0)
			fprintf(f, " -%c", o->short_name);
	}
}

/* The case arm for one command level: subcommand words and options. */
static void
bash_arm(FILE *f, const struct cli_prog *prog, const struct cli_cmd *cmd,
    const struct cli_cmd *sub)
{
	const struct cli_cmd *s;

	if (sub != NULL)
		fprintf(f, "\t%s/%s)\n\t\topts=\"", cmd->name, sub->name);
	else if (cmd->subs != NULL)
		fprintf(f, "\t%s/)\n\t\topts=\"", cmd->name);
	else
		fprintf(f, "\t%s/*)\n\t\topts=\"", cmd->name);
	bash_opts(f, sub != NULL ? sub->opts : NULL);
	bash_opts(f, cmd->opts);
	bash_opts(f, prog->common);
	fputs(" --help --version\"\n", f);
	if (sub == NULL && cmd->subs != NULL) {
		fputs("\t\twords=\"", f);
		for (s = cmd->subs; s->name != NULL; s++)
			fprintf(f, "%s%s", s == cmd->subs ? "" : " ", s->name);
		fputs("\"\n", f);
	}
	fputs("\t\t;;\n", f);
}

/* 1 if an option named like o comes before o in the order the completion
 * script lists them (common, then each command and its subcommands). */
static int
listed_before(const struct cli_prog *prog, const struct cli_opt *o)
{
	const struct cli_opt *lists[64], *q;
	const struct cli_cmd *c, *s;
	size_t n = 0, i;

	lists[n++] = prog->common;
	for (c = prog->cmds; c->name != NULL && n < 64; c++) {
		lists[n++] = c->opts;
		for (s = c->subs; s != NULL && s->name != NULL && n < 64; s++)
			lists[n++] = s->opts;
	}
	for (i = 0; i < n; i++)
		for (q = lists[i]; q != NULL && q->name != NULL; q++) {
			if (q == o)
				return 0;
			if (strcmp(q->name, o->name) == 0)
				return 1;
		}
	return 0;
}

/* Every option that takes a value, with what to offer for it. */
static void
bash_values(FILE *f, const struct cli_prog *prog, const struct cli_opt *o)
{
	const char *p;

	for (; o != NULL && o->name != NULL; o++) {
		if (o->kind == CLI_FLAG || listed_before(prog, o))
			continue;
		fprintf(f, "\t--%s", o->name);
		if (o->short_name != 0)
			fprintf(f, " | -%c", o->short_name);
		fputs(")\n\t\t", f);
		if (o->kind == CLI_FILE)
			fputs(
			    "mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")",
			    f);
		else if (o->kind == CLI_DIR)
			fputs(
			    "mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")",
			    f);
		else if (o->kind == CLI_CHOICE) {
			fputs("mapfile -t COMPREPLY < <(compgen -W \"", f);
			for (p = o->choices; *p != '\0'; p++)
				fputc(*p == '|' ? ' ' : *p, f);
			fputs("\" -- \"$cur\")", f);
		} else
			fputs("COMPREPLY=()", f);
		fputs("\n\t\treturn\n\t\t;;\n", f);
	}
}

static void
bash_valopt_names(FILE *f, const struct cli_opt *o)
{
	for (; o != NULL && o->name != NULL; o++) {
		if (o->kind == CLI_FLAG)
			continue;
		fprintf(f, " --%s", o->name);
		if (o->short_name != 0)
			fprintf(f, " -%c", o->short_name);
	}
}

void
cli_print_bash(FILE *out, const struct cli_prog *prog)
{
	const struct cli_cmd *c, *d, *s;

	fprintf(out,
	    "# bash completion for %s, generated by `%s --completion "
	    "bash`\n# from the same option table as its --help and man "
	    "page.\n_%s()\n{\n"
	    "\tlocal cur=${COMP_WORDS[COMP_CWORD]}\n"
	    "\tlocal prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	    "\tlocal cmd=\"\" sub=\"\" opts=\"\" words=\"\" w i\n"
	    "\tlocal valopts=\"",
	    prog->name, prog->name, prog->name);
	bash_valopt_names(out, prog->common);
	for (c = prog->cmds; c->name != NULL; c++) {
		bash_valopt_names(out, c->opts);
		for (s = c->subs; s != NULL && s->name != NULL; s++)
			bash_valopt_names(out, s->opts);
	}
	fputs(" \"\n", out);
	fputs("\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tw=${COMP_WORDS[i]}\n"
	      "\t\tcase $w in\n"
	      "\t\t-*)\n"
	      "\t\t\t[[ $valopts == *\" $w \"* ]] && ((i++))\n"
	      "\t\t\tcontinue\n"
	      "\t\t\t;;\n"
	      "\t\tesac\n"
	      "\t\tif [[ -z $cmd ]]; then\n"
	      "\t\t\tcmd=$w\n"
	      "\t\telif [[ -z $sub ]]; then\n"
	      "\t\t\tsub=$w\n"
	      "\t\tfi\n"
	      "\tdone\n"
	      "\tcase $prev in\n",
	    out);
	bash_values(out, prog, prog->common);
	for (c = prog->cmds; c->name != NULL; c++) {
		/* Commands may share one option list (approve, deny). */
		for (d = prog->cmds; d != c && d->opts != c->opts; d++)
			;
		if (d == c)
			bash_values(out, prog, c->opts);
		for (s = c->subs; s != NULL && s->name != NULL; s++)
			bash_values(out, prog, s->opts);
	}
	fputs("\tesac\n\tcase \"$cmd/$sub\" in\n\t/)\n\t\topts=\"--help "
	      "--version\"\n\t\twords=\"",
	    out);
	for (c = prog->cmds; c->name != NULL; c++)
		fprintf(out, "%s%s", c == prog->cmds ? "" : " ", c->name);
	fputs("\"\n\t\t;;\n", out);
	for (c = prog->cmds; c->name != NULL; c++) {
		for (s = c->subs; s != NULL && s->name != NULL; s++)
			bash_arm(out, prog, c, s);
		bash_arm(out, prog, c, NULL);
	}
	fprintf(out,
	    "\tesac\n"
	    "\tif [[ $cur == -* ]]; then\n"
	    "\t\tmapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")\n"
	    "\telse\n"
	    "\t\tmapfile -t COMPREPLY < <(compgen -W \"$words\" -- \"$cur\")\n"
	    "\tfi\n"
	    "}\n"
	    "complete -F _%s %s\n",
	    prog->name, prog->name);
}
