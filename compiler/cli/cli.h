/* The pinhole command line: one function per subcommand, shared option handling. */
#ifndef PINHOLE_CLI_H
#define PINHOLE_CLI_H

#include "compile.h"

/* Exit statuses (LANGUAGE.md): */
enum { EXIT_OK = 0, EXIT_FINDINGS = 1, EXIT_BAD_INPUT = 2, EXIT_INTERNAL = 3 };

struct cli {
	struct compile_opts copts;
	VEC(const char *) libdirs;
};

int cmd_compile(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_explain(struct cli *cli, int argc, char **argv);
int cmd_diff(struct cli *cli, int argc, char **argv);
/* explain --to PROTO/PORT (explain_to.c): the sources that can open such a connection, per
 * deciding line, with a witness packet; 0 when some can, 1 when none can. */
int explain_to(const struct compilation *c, const char *target, FILE *out);
int cmd_apps(struct cli *cli, int argc, char **argv);
int cmd_apply(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_confirm(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);

/* -q (only errors on stderr; no success lines) and -v (what was read and how long it took,
 * what apply saved): set by cli_common_option, read by the commands. */
extern bool cli_quiet, cli_verbose;

/* The policy name "-" reads standard input; diagnostics call it this. */
#define CLI_STDIN_NAME "<stdin>"

/* Handles -L DIR (also -LDIR, --library DIR, --library=DIR), --stateless/--stateful and
 * -q/--quiet, -v/--verbose shared by subcommands; returns 1 if consumed (with *i advanced),
 * 0 if not an option of ours, -1 on a usage error. */
int cli_common_option(struct cli *cli, int argc, char **argv, int *i);
/* An option with a value, in every spelling: "-o FILE", "-oFILE", "--output FILE",
 * "--output=FILE" (shortopt or longopt may be NULL). 1 with *val set (and *i advanced past a
 * separate value), 0 when argv[*i] is not this option, -1 when the value is missing (told). */
int cli_value(const char *cmd, int argc, char **argv, int *i, const char *shortopt,
	      const char *longopt, const char **val);
/* -h or --help; cli_help prints a command's usage on stdout and returns EXIT_OK. */
bool cli_help_arg(const char *a);
int cli_help(const char *usage);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* compile_policy, or the policy from standard input when `policy` is "-"; with -v a line on
 * stderr saying what was compiled. */
bool cli_compile(struct cli *cli, const char *policy, struct compilation *c);
/* diag_print, errors only (with their notes) under -q. */
void cli_diag_print(const struct diags *d, FILE *out);
/* An argument that is no option of the command: the one POLICY it takes, or a usage error. */
int cli_policy_arg(const char *cmd, const char *arg, const char **policy);

/* `pinhole apps`: every app of the library, one line each, by name. */
void apps_list(const struct library *lib, FILE *out);
/* `pinhole apps APP`: an app's roles, flows, ports and sources. */
void apps_show(const struct library *lib, const struct ast_app *a, FILE *out);
/* The list (name NULL) or app `name` on `out`; an unknown name is told on `err` with the
 * nearest name, EXIT_BAD_INPUT. */
int apps_report(const struct library *lib, const char *name, FILE *out, FILE *err);

/* explain, one packet written as text (packet.h): the verdict on `out` (one line with brief).
 * A packet that does not parse is told on `err` with a caret under the fault, as
 * "WHERE:LINENO:COL: error: ..." when it is line `lineno` (> 0) of a batch, where brief mode
 * also prints "error" on `out` to keep the answers in step with the lines. EXIT_OK or
 * EXIT_BAD_INPUT. */
int explain_packet(const struct compilation *c, struct ir_state *st, const char *text, bool brief,
		   const char *where, int lineno, FILE *out, FILE *err);
/* Every packet line of `in` (blank and # lines skipped) in order, sharing the dynamic sets
 * the way the kernel would; EXIT_BAD_INPUT if any line did not parse. */
int explain_batch(const struct compilation *c, FILE *in, const char *where, bool brief, FILE *out,
		  FILE *err);

/* explain's lines about scoped channels: the peers a packet records, and what a scoped rule
 * that did not match waits for. */
void explain_scope(const struct compilation *c, const struct ir_packet *p,
		   const struct ir_verdict *v, FILE *out);

/* A flow written back in the policy language, e.g. "client -> server tcp dport 21 helper \"ftp\"". */
char *flow_format(const struct ast_flow *f);

#endif
