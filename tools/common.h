/*
 * common.h - what every subcommand of the litehsm command shares: the
 * tool context (global options), exit codes, the one-line error report,
 * option parsing with generated --help, and the confirmation prompt.
 *
 * A subcommand is a function "int run (lh_tool *t, int argc, char **argv)"
 * that returns an exit code.  It describes itself with an lh_cmd (name,
 * synopsis, summary, its own options and the global option groups it
 * accepts), calls lh_args_parse() once, and reports at most one error with
 * lh_error()/lh_error_rv(), which print exactly one line on stderr:
 *
 *   litehsm: <what went wrong>; <what to do>
 *
 * and return the exit code to hand back.  Human output goes to stdout with
 * printf; with --json (t->json) a command writes one JSON document to
 * stdout through json.h instead.  The tool never prints a secret.
 */
#ifndef LH_TOOL_COMMON_H
#define LH_TOOL_COMMON_H

#include <config.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <p11-kit/pkcs11.h>

/* Exit codes (documented in litehsm(1) and in --help). */
#define LH_EXIT_OK        0     /* done */
#define LH_EXIT_FAIL      1     /* the operation failed */
#define LH_EXIT_USAGE     2     /* bad command line or input, or nobody to ask */
#define LH_EXIT_PIN       3     /* wrong or locked PIN */
#define LH_EXIT_NOTFOUND  4     /* token (or object) not found */

/* Returned by lh_args_parse when the command should go on. */
#define LH_CONTINUE       (-1)

/* Groups of global options; an lh_cmd lists the groups it accepts. */
#define LH_G_TOKEN   0x01u      /* --token, --token-uri */
#define LH_G_PIN     0x02u      /* --pin-file, --pin-env (user PIN) */
#define LH_G_SOPIN   0x04u      /* --so-pin-file, --so-pin-env */
#define LH_G_NEWPIN  0x08u      /* --new-pin-file, --new-pin-env */

/* Where one PIN comes from: a file, an environment variable, or neither
 * (then a no-echo prompt on the terminal). */
typedef struct {
	const char *file;       /* --*-pin-file FILE */
	const char *env;        /* --*-pin-env NAME */
} lh_pin_src;

/* Which PIN a command asks for. */
typedef enum {
	LH_PIN_USER = 0,        /* --pin-file / --pin-env */
	LH_PIN_SO = 1,          /* --so-pin-file / --so-pin-env */
	LH_PIN_NEW = 2,         /* --new-pin-file / --new-pin-env */
} lh_pin_role;

/*
 * The tool's state: global options as given (pointers into argv or the
 * environment, never copied) and what the running command is.  One per
 * process, owned by main().
 */
typedef struct {
	const char *module;     /* --module PATH; NULL: LITEHSM_MODULE or default */
	const char *token;      /* --token LABEL */
	const char *token_uri;  /* --token-uri URI */
	lh_pin_src pin[3];      /* indexed by lh_pin_role */
	bool json;              /* --json */
	unsigned given;         /* LH_G_* groups the user has set */
	const char *given_opt[4]; /* an option that set each group (by bit) */
	char cmd[64];           /* "token init": for messages and --help */
	int argc;               /* positional arguments left after parsing */
	char **argv;
	bool reported;          /* an error line has been printed */
} lh_tool;

/* One option of a command, for getopt_long and for --help. */
typedef struct {
	const char *name;       /* long name without "--" */
	const char *arg;        /* metavariable ("FILE"); NULL for a flag */
	int key;                /* handed to the command's handler */
	const char *help;       /* one line */
} lh_opt;

/* Keys of command options start here (below are the global ones). */
#define LH_OPT_CMD  1000

/*
 * A command's description.  opts ends with an entry whose name is NULL.
 * details (may be NULL) is printed under the options in --help.
 */
typedef struct {
	const char *name;       /* "token init" */
	const char *args;       /* positional synopsis ("FILE"), or NULL */
	const char *summary;    /* one line */
	const char *details;    /* more text for --help, or NULL */
	unsigned globals;       /* LH_G_* groups accepted */
	int min_args;           /* positional arguments */
	int max_args;
	const lh_opt *opts;     /* the command's own options, or NULL */
} lh_cmd;

/* A command's handler for its own options; returns LH_CONTINUE or an exit
 * code (after lh_error). */
typedef int (*lh_opt_fn) (lh_tool *t, void *ctx, int key, const char *arg);

/*
 * Parse argv (argv[0] is the command's name) against the global options in
 * the groups cmd->globals and cmd->opts.  Global options already given
 * before the command (main) count too: one outside cmd->globals is a
 * usage error.  On --help: prints the help, returns LH_EXIT_OK.  On a bad
 * option or a wrong number of arguments: one error line, LH_EXIT_USAGE.
 * Otherwise LH_CONTINUE with t->argc/t->argv the positional arguments.
 */
int lh_args_parse (lh_tool *t, const lh_cmd *cmd, int argc, char **argv,
                   lh_opt_fn fn, void *ctx);

/*
 * Parse the global options in front of the command word (main).  Returns
 * LH_CONTINUE with t->argc/t->argv starting at the command word, or an
 * exit code.  help_fn prints the top-level help for --help.
 */
int lh_args_global (lh_tool *t, int argc, char **argv, void (*help_fn) (void));

/* Print the global options of the given groups (for help texts). */
void lh_print_global_options (FILE *f, unsigned groups);
/* Print the exit-code table (for help texts). */
void lh_print_exit_codes (FILE *f);

/* A group of subcommands ("token"): dispatch argv[0] to one of them. */
typedef struct {
	const char *name;       /* "init" */
	const char *summary;    /* one line for the group's --help */
	int (*run) (lh_tool *t, int argc, char **argv);
} lh_subcmd;

int lh_dispatch (lh_tool *t, const char *group, const char *summary,
                 const lh_subcmd *subs, int argc, char **argv);

/*
 * Report the one error of this run: prints "litehsm: <what>; <hint>" on
 * stderr (what from fmt) and returns code.  Only the first call of a run
 * prints; later ones just return code.
 */
int lh_error (lh_tool *t, int code, const char *hint, const char *fmt, ...)
	__attribute__ ((format (printf, 4, 5)));

/*
 * The same for a failed PKCS#11 call: "litehsm: <what>: <message of rv>
 * (<CKR name>); <hint>", where hint NULL means the usual advice for rv.
 * Returns lh_rv_exit (rv).
 */
int lh_error_rv (lh_tool *t, CK_RV rv, const char *hint, const char *fmt, ...)
	__attribute__ ((format (printf, 4, 5)));

/* "CKR_PIN_INCORRECT"; a hex number for unknown values (static buffer). */
const char *lh_rv_name (CK_RV rv);
/* "the PIN is incorrect": a short phrase for messages. */
const char *lh_rv_message (CK_RV rv);
/* The usual advice for rv ("check the PIN and try again"). */
const char *lh_rv_hint (CK_RV rv);
/* The exit code for rv: 3 for PIN errors, 4 for a missing token, ... */
int lh_rv_exit (CK_RV rv);

/*
 * Is there a terminal to ask on (the controlling terminal, /dev/tty)?
 * The tool never reads answers or PINs from stdin, which belongs to the
 * data of commands such as "secret set".
 */
bool lh_have_tty (void);

/*
 * Ask question on the terminal and read a y/n answer.  *yes is true only
 * for "y" or "yes".  Returns false when there is no terminal.
 */
bool lh_confirm (const char *question, bool *yes);

/* Copy a blank-padded PKCS#11 string into a NUL-terminated one without
 * the trailing blanks; out has room for len + 1 bytes. */
void lh_unpad (char *out, const CK_UTF8CHAR *in, size_t len);

#endif /* LH_TOOL_COMMON_H */
