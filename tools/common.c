/*
 * common.c - option parsing, help texts, the one-line error report, CK_RV
 * names and messages, and the terminal confirmation of the litehsm command.
 *
 * Invariants:
 *   - a run prints at most one error line, "litehsm: <what>; <what to do>",
 *     with control characters of user-supplied text replaced by '?', so the
 *     line stays one line whatever a label or file name holds;
 *   - global options are accepted before the command word and after the
 *     subcommand alike; one that does not apply to the subcommand is a usage
 *     error rather than silently ignored;
 *   - answers are read from the terminal (/dev/tty), never from stdin.
 */
#include "tools/common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Keys of the global options (commands use LH_OPT_CMD and up). */
enum {
	G_HELP = 'h',
	G_VERSION = 'V',
	G_MODULE = 300,
	G_JSON,
	G_TOKEN,
	G_TOKEN_URI,
	G_PIN_FILE,
	G_PIN_ENV,
	G_SO_PIN_FILE,
	G_SO_PIN_ENV,
	G_NEW_PIN_FILE,
	G_NEW_PIN_ENV,
};

/* The global options, with the group each belongs to (0: always). */
static const struct {
	lh_opt o;
	unsigned group;
} globals[] = {
	{ { "token", "LABEL", G_TOKEN, "the token with this label" }, LH_G_TOKEN },
	{ { "token-uri", "URI", G_TOKEN_URI,
	    "the token named by a PKCS#11 URI (RFC 7512), e.g. "
	    "'pkcs11:token=t;serial=0123'" }, LH_G_TOKEN },
	{ { "pin-file", "FILE", G_PIN_FILE,
	    "read the user PIN from FILE (one trailing newline is dropped)" },
	  LH_G_PIN },
	{ { "pin-env", "NAME", G_PIN_ENV,
	    "read the user PIN from the environment variable NAME" }, LH_G_PIN },
	{ { "so-pin-file", "FILE", G_SO_PIN_FILE, "read the SO PIN from FILE" },
	  LH_G_SOPIN },
	{ { "so-pin-env", "NAME", G_SO_PIN_ENV,
	    "read the SO PIN from the environment variable NAME" }, LH_G_SOPIN },
	{ { "new-pin-file", "FILE", G_NEW_PIN_FILE, "read the new PIN from FILE" },
	  LH_G_NEWPIN },
	{ { "new-pin-env", "NAME", G_NEW_PIN_ENV,
	    "read the new PIN from the environment variable NAME" }, LH_G_NEWPIN },
	{ { "module", "PATH", G_MODULE,
	    "the PKCS#11 module to load (default: $LITEHSM_MODULE, else "
	    LH_DEFAULT_MODULE ")" }, 0 },
	{ { "json", NULL, G_JSON, "print the result as JSON (for scripts)" }, 0 },
	{ { "help", NULL, G_HELP, "show this help" }, 0 },
};

#define NGLOBALS (sizeof globals / sizeof globals[0])

static const char *const exit_codes =
	"Exit codes:\n"
	"  0  success\n"
	"  1  the operation failed\n"
	"  2  usage error: bad option or input, or no terminal to ask on\n"
	"  3  wrong or locked PIN\n"
	"  4  token or object not found\n";

/* ---- error reporting ---------------------------------------------------- */

/* Keep a message on one line: control characters become '?'. */
static void
one_line (char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int
verror (lh_tool *t, int code, const char *detail, const char *hint,
        const char *fmt, va_list ap)
{
	char what[1024], help[96];

	if (t->reported)
		return code;
	t->reported = true;
	vsnprintf (what, sizeof what, fmt, ap);
	one_line (what);
	if (!hint) {
		snprintf (help, sizeof help, "see 'litehsm %s%s--help'", t->cmd,
		          t->cmd[0] ? " " : "");
		hint = help;
	}
	fprintf (stderr, "litehsm: %s%s%s; %s\n", what, detail ? ": " : "",
	         detail ? detail : "", hint);
	fflush (stderr);
	return code;
}

int
lh_error (lh_tool *t, int code, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start (ap, fmt);
	code = verror (t, code, NULL, hint, fmt, ap);
	va_end (ap);
	return code;
}

int
lh_error_rv (lh_tool *t, CK_RV rv, const char *hint, const char *fmt, ...)
{
	char detail[256];
	va_list ap;
	int code;

	snprintf (detail, sizeof detail, "%s (%s)", lh_rv_message (rv),
	          lh_rv_name (rv));
	va_start (ap, fmt);
	code = verror (t, lh_rv_exit (rv), detail, hint ? hint : lh_rv_hint (rv),
	               fmt, ap);
	va_end (ap);
	return code;
}

/* ---- CK_RV names, messages, advice and exit codes ------------------------ */

static const struct {
	CK_RV rv;
	const char *name;
	const char *message;
	const char *hint;
	int code;
} rvs[] = {
#define R(x, msg, hint, code) { x, #x, msg, hint, code }
	R (CKR_OK, "no error", "nothing to do", LH_EXIT_OK),
	R (CKR_CANCEL, "cancelled", "try again", LH_EXIT_FAIL),
	R (CKR_HOST_MEMORY, "out of memory", "free some memory and try again",
	   LH_EXIT_FAIL),
	R (CKR_SLOT_ID_INVALID, "no such slot",
	   "list the tokens with 'litehsm token list'", LH_EXIT_NOTFOUND),
	R (CKR_GENERAL_ERROR, "the module failed",
	   "check the configuration file and the module's log (log_file in "
	   "litehsm.conf)", LH_EXIT_FAIL),
	R (CKR_FUNCTION_FAILED, "the operation failed",
	   "check the module's log (log_file in litehsm.conf)", LH_EXIT_FAIL),
	R (CKR_ARGUMENTS_BAD, "bad arguments", "check the command line",
	   LH_EXIT_USAGE),
	R (CKR_CANT_LOCK, "the module cannot lock", "use another module",
	   LH_EXIT_FAIL),
	R (CKR_ATTRIBUTE_SENSITIVE, "the value is sensitive and cannot be read",
	   "the token never reveals it", LH_EXIT_FAIL),
	R (CKR_ATTRIBUTE_VALUE_INVALID, "an attribute value is invalid",
	   "check the command line", LH_EXIT_FAIL),
	R (CKR_DEVICE_ERROR, "the token file is damaged or cannot be read",
	   "check it with 'litehsm token verify' and restore a backup if needed",
	   LH_EXIT_FAIL),
	R (CKR_DEVICE_MEMORY, "the token is full", "free space on its file system",
	   LH_EXIT_FAIL),
	R (CKR_DEVICE_REMOVED, "the token was removed",
	   "list the tokens with 'litehsm token list'", LH_EXIT_NOTFOUND),
	R (CKR_FUNCTION_NOT_SUPPORTED, "the module does not support this",
	   "use a module that does (--module PATH)", LH_EXIT_FAIL),
	R (CKR_MECHANISM_INVALID, "the token does not offer this mechanism",
	   "check disable_mechanisms in litehsm.conf", LH_EXIT_FAIL),
	R (CKR_OBJECT_HANDLE_INVALID, "no such object",
	   "list the objects again", LH_EXIT_NOTFOUND),
	R (CKR_OPERATION_ACTIVE, "another operation is active", "try again",
	   LH_EXIT_FAIL),
	R (CKR_PIN_INCORRECT, "the PIN is incorrect",
	   "check the PIN and try again (too many wrong PINs lock it)",
	   LH_EXIT_PIN),
	R (CKR_PIN_INVALID, "the PIN has characters the token does not accept",
	   "choose another PIN", LH_EXIT_USAGE),
	R (CKR_PIN_LEN_RANGE, "the PIN is too short or too long",
	   "choose a PIN of 4 to 256 characters", LH_EXIT_USAGE),
	R (CKR_PIN_EXPIRED, "the PIN has expired", "set a new one",
	   LH_EXIT_PIN),
	R (CKR_PIN_LOCKED, "the PIN is locked",
	   "the SO can reset a locked user PIN with 'litehsm token unlock'",
	   LH_EXIT_PIN),
	R (CKR_SESSION_CLOSED, "the session was closed", "try again",
	   LH_EXIT_FAIL),
	R (CKR_SESSION_COUNT, "too many sessions", "close other applications",
	   LH_EXIT_FAIL),
	R (CKR_SESSION_HANDLE_INVALID, "invalid session", "try again",
	   LH_EXIT_FAIL),
	R (CKR_SESSION_READ_ONLY, "the session is read-only", "try again",
	   LH_EXIT_FAIL),
	R (CKR_SESSION_EXISTS, "the token has open sessions",
	   "close them and try again", LH_EXIT_FAIL),
	R (CKR_SESSION_READ_ONLY_EXISTS, "a read-only session is open",
	   "close it and try again", LH_EXIT_FAIL),
	R (CKR_TEMPLATE_INCOMPLETE, "the template is incomplete",
	   "report this as a bug", LH_EXIT_FAIL),
	R (CKR_TEMPLATE_INCONSISTENT, "the template is inconsistent",
	   "report this as a bug", LH_EXIT_FAIL),
	R (CKR_TOKEN_NOT_PRESENT, "the token is not present",
	   "list the tokens with 'litehsm token list'", LH_EXIT_NOTFOUND),
	R (CKR_TOKEN_NOT_RECOGNIZED, "the file is not a litehsm token",
	   "check the file name", LH_EXIT_FAIL),
	R (CKR_TOKEN_WRITE_PROTECTED, "the token is read-only",
	   "check the permissions of the token file", LH_EXIT_FAIL),
	R (CKR_USER_ALREADY_LOGGED_IN, "already logged in", "try again",
	   LH_EXIT_FAIL),
	R (CKR_USER_NOT_LOGGED_IN, "not logged in", "log in first",
	   LH_EXIT_FAIL),
	R (CKR_USER_PIN_NOT_INITIALIZED, "the token has no user PIN yet",
	   "set one with 'litehsm token init-pin'", LH_EXIT_FAIL),
	R (CKR_USER_TYPE_INVALID, "invalid user type", "report this as a bug",
	   LH_EXIT_FAIL),
	R (CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
	   "another user is logged in to the token", "try again",
	   LH_EXIT_FAIL),
	R (CKR_USER_TOO_MANY_TYPES, "too many users are logged in",
	   "try again", LH_EXIT_FAIL),
	R (CKR_KEY_HANDLE_INVALID, "no such key", "list the keys again",
	   LH_EXIT_NOTFOUND),
	R (CKR_KEY_FUNCTION_NOT_PERMITTED, "the key may not be used for this",
	   "check the key's usage attributes", LH_EXIT_FAIL),
	R (CKR_KEY_UNEXTRACTABLE, "the key cannot be extracted",
	   "the token never reveals it", LH_EXIT_FAIL),
	R (CKR_KEY_SIZE_RANGE, "the key size is outside what the token "
	   "supports", "use a supported key size (see 'litehsm token info')",
	   LH_EXIT_FAIL),
	R (CKR_KEY_NOT_WRAPPABLE, "the key may not be wrapped with that key",
	   "wrap it with a key the policy allows", LH_EXIT_FAIL),
	R (CKR_WRAPPED_KEY_INVALID, "the wrapped key is invalid or damaged",
	   "check the blob and the unwrapping key", LH_EXIT_FAIL),
	R (CKR_DATA_INVALID, "the data are invalid", "check the input",
	   LH_EXIT_FAIL),
	R (CKR_DATA_LEN_RANGE, "the data are too long or too short",
	   "check the input", LH_EXIT_FAIL),
	R (CKR_ENCRYPTED_DATA_INVALID, "the encrypted data are invalid or "
	   "damaged", "check the input and the key", LH_EXIT_FAIL),
	R (CKR_BUFFER_TOO_SMALL, "a buffer is too small", "report this as a bug",
	   LH_EXIT_FAIL),
	R (CKR_CRYPTOKI_NOT_INITIALIZED, "the module is not initialized",
	   "report this as a bug", LH_EXIT_FAIL),
	R (CKR_CRYPTOKI_ALREADY_INITIALIZED, "the module is already initialized",
	   "report this as a bug", LH_EXIT_FAIL),
	R (CKR_FUNCTION_REJECTED, "the token refused the operation",
	   "check the module's log", LH_EXIT_FAIL),
#undef R
};

static int
rv_index (CK_RV rv)
{
	size_t i;

	for (i = 0; i < sizeof rvs / sizeof rvs[0]; i++)
		if (rvs[i].rv == rv)
			return (int)i;
	return -1;
}

const char *
lh_rv_name (CK_RV rv)
{
	static char buf[32];
	int i = rv_index (rv);

	if (i >= 0)
		return rvs[i].name;
	snprintf (buf, sizeof buf, "CKR 0x%lx", (unsigned long)rv);
	return buf;
}

const char *
lh_rv_message (CK_RV rv)
{
	int i = rv_index (rv);

	return i >= 0 ? rvs[i].message : "the module returned an error";
}

const char *
lh_rv_hint (CK_RV rv)
{
	int i = rv_index (rv);

	return i >= 0 ? rvs[i].hint : "check the module's log";
}

int
lh_rv_exit (CK_RV rv)
{
	int i = rv_index (rv);

	return i >= 0 ? rvs[i].code : LH_EXIT_FAIL;
}

/* ---- help ------------------------------------------------------------------ */

/* One option of a help text: name and metavariable, then the help
 * wrapped at 79 columns in a column of its own. */
static void
print_opt (FILE *f, const lh_opt *o)
{
	enum { COL = 25, WIDTH = 79 };
	const char *h = o->help, *end;
	char left[64];
	int len, n;

	n = snprintf (left, sizeof left, "  --%s%s%s", o->name, o->arg ? " " : "",
	              o->arg ? o->arg : "");
	fputs (left, f);
	if (n >= COL - 1) {
		fputc ('\n', f);
		n = 0;
	}
	while (*h) {
		fprintf (f, "%*s", COL - n, "");
		len = (int)strlen (h);
		if (len > WIDTH - COL) {
			/* the last blank that keeps the line within WIDTH */
			for (end = h + (WIDTH - COL); end > h && *end != ' '; end--)
				;
			len = end > h ? (int)(end - h) : WIDTH - COL;
		}
		fprintf (f, "%.*s\n", len, h);
		h += len;
		while (*h == ' ')
			h++;
		n = 0;
	}
}

void
lh_print_global_options (FILE *f, unsigned groups)
{
	size_t i;

	if (groups & LH_G_TOKEN) {
		fprintf (f, "\nToken (one of):\n");
		for (i = 0; i < NGLOBALS; i++)
			if (globals[i].group == LH_G_TOKEN)
				print_opt (f, &globals[i].o);
	}
	if (groups & (LH_G_PIN | LH_G_SOPIN | LH_G_NEWPIN)) {
		fprintf (f, "\nPIN sources (never the command line; without one,"
		         " a no-echo prompt\non the terminal):\n");
		for (i = 0; i < NGLOBALS; i++)
			if (globals[i].group & groups &
			    (LH_G_PIN | LH_G_SOPIN | LH_G_NEWPIN))
				print_opt (f, &globals[i].o);
	}
	fprintf (f, "\nGeneral:\n");
	for (i = 0; i < NGLOBALS; i++)
		if (globals[i].group == 0)
			print_opt (f, &globals[i].o);
}

void
lh_print_exit_codes (FILE *f)
{
	fprintf (f, "\n%s", exit_codes);
}

static void
print_cmd_help (const lh_cmd *cmd)
{
	const lh_opt *o;

	printf ("Usage: litehsm %s [options]%s%s\n\n%s\n", cmd->name,
	        cmd->args ? " " : "", cmd->args ? cmd->args : "", cmd->summary);
	if (cmd->opts && cmd->opts[0].name) {
		printf ("\nOptions:\n");
		for (o = cmd->opts; o->name; o++)
			print_opt (stdout, o);
	}
	lh_print_global_options (stdout, cmd->globals);
	if (cmd->details)
		printf ("\n%s", cmd->details);
	lh_print_exit_codes (stdout);
}

/* ---- parsing ----------------------------------------------------------------- */

/* The getopt_long table: the global options, then the command's. */
static struct option *
build_table (const lh_opt *opts)
{
	struct option *tab;
	size_t n = 0, i, k = 0;

	while (opts && opts[n].name)
		n++;
	tab = calloc (NGLOBALS + n + 2, sizeof *tab);
	if (!tab)
		return NULL;
	/* the command's own options first: getopt_long takes the first exact
	 * match, so a command may have a --version N of its own */
	for (i = 0; i < n; i++, k++) {
		tab[k].name = opts[i].name;
		tab[k].has_arg = opts[i].arg ? required_argument : no_argument;
		tab[k].val = opts[i].key;
	}
	for (i = 0; i < NGLOBALS; i++, k++) {
		tab[k].name = globals[i].o.name;
		tab[k].has_arg = globals[i].o.arg ? required_argument : no_argument;
		tab[k].val = globals[i].o.key;
	}
	tab[k].name = "version";
	tab[k++].val = G_VERSION;
	return tab;
}

static const char *
key_name (const lh_opt *opts, int key)
{
	size_t i;

	for (i = 0; i < NGLOBALS; i++)
		if (globals[i].o.key == key)
			return globals[i].o.name;
	for (; opts && opts->name; opts++)
		if (opts->key == key)
			return opts->name;
	return "?";
}

static unsigned
key_group (int key)
{
	size_t i;

	for (i = 0; i < NGLOBALS; i++)
		if (globals[i].o.key == key)
			return globals[i].group;
	return 0;
}

/* An unknown option: a PIN on the command line gets its own message. */
static int
bad_option (lh_tool *t, const char *arg)
{
	static const char *const pins[] = { "--pin", "--so-pin", "--new-pin" };
	size_t i, n;

	for (i = 0; i < sizeof pins / sizeof pins[0]; i++) {
		n = strlen (pins[i]);
		if (strncmp (arg, pins[i], n) == 0 &&
		    (arg[n] == '\0' || arg[n] == '='))
			return lh_error (t, LH_EXIT_USAGE, "use --pin-file FILE, "
			                 "--pin-env NAME (and the --so-/--new- forms) "
			                 "or the prompt", "PINs are never taken from "
			                 "the command line (%s)", pins[i]);
	}
	return lh_error (t, LH_EXIT_USAGE, NULL, "unknown option %s for '%s'",
	                 arg, t->cmd[0] ? t->cmd : "litehsm");
}

/* Record a global option; LH_CONTINUE or an exit code. */
static int
set_global (lh_tool *t, int key, const char *arg)
{
	int i;

	switch (key) {
	case G_MODULE:
		t->module = arg;
		return LH_CONTINUE;
	case G_JSON:
		t->json = true;
		return LH_CONTINUE;
	case G_TOKEN:
		t->token = arg;
		break;
	case G_TOKEN_URI:
		t->token_uri = arg;
		break;
	case G_PIN_FILE:
		t->pin[LH_PIN_USER].file = arg;
		break;
	case G_PIN_ENV:
		t->pin[LH_PIN_USER].env = arg;
		break;
	case G_SO_PIN_FILE:
		t->pin[LH_PIN_SO].file = arg;
		break;
	case G_SO_PIN_ENV:
		t->pin[LH_PIN_SO].env = arg;
		break;
	case G_NEW_PIN_FILE:
		t->pin[LH_PIN_NEW].file = arg;
		break;
	case G_NEW_PIN_ENV:
		t->pin[LH_PIN_NEW].env = arg;
		break;
	default:
		return LH_EXIT_USAGE;
	}
	for (i = 0; i < 4; i++)
		if (key_group (key) == 1u << i)
			t->given_opt[i] = key_name (NULL, key);
	t->given |= key_group (key);
	return LH_CONTINUE;
}

/* Combinations of global options that make no sense. */
static int
check_globals (lh_tool *t, unsigned allowed)
{
	static const char *const roles[] = { "", "so-", "new-" };
	int i;

	for (i = 0; i < 4; i++)
		if (t->given & ~allowed & (1u << i))
			return lh_error (t, LH_EXIT_USAGE, NULL, "option --%s does "
			                 "not apply to '%s'", t->given_opt[i], t->cmd);
	if (t->token && t->token_uri)
		return lh_error (t, LH_EXIT_USAGE, "give only one of them",
		                 "both --token and --token-uri name a token");
	for (i = 0; i < 3; i++)
		if (t->pin[i].file && t->pin[i].env)
			return lh_error (t, LH_EXIT_USAGE, "give only one source "
			                 "for each PIN", "both --%spin-file and "
			                 "--%spin-env given", roles[i], roles[i]);
	return LH_CONTINUE;
}

int
lh_args_parse (lh_tool *t, const lh_cmd *cmd, int argc, char **argv,
               lh_opt_fn fn, void *ctx)
{
	struct option *tab;
	int c, rc = LH_CONTINUE, n;

	snprintf (t->cmd, sizeof t->cmd, "%s", cmd->name);
	if (!(tab = build_table (cmd->opts)))
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	optind = 0;             /* GNU: full re-initialization */
	opterr = 0;
	while (rc == LH_CONTINUE &&
	       (c = getopt_long (argc, argv, ":h", tab, NULL)) != -1) {
		if (c == 'h') {
			print_cmd_help (cmd);
			rc = LH_EXIT_OK;
		} else if (c == '?') {
			rc = bad_option (t, argv[optind - 1]);
		} else if (c == ':') {
			rc = lh_error (t, LH_EXIT_USAGE, NULL, "option --%s of '%s' "
			               "needs a value", key_name (cmd->opts, optopt),
			               cmd->name);
		} else if (c == G_VERSION) {
			rc = bad_option (t, "--version");
		} else if (c >= LH_OPT_CMD) {
			rc = fn ? fn (t, ctx, c, optarg) : LH_EXIT_USAGE;
		} else {
			rc = set_global (t, c, optarg);
		}
	}
	free (tab);
	if (rc != LH_CONTINUE)
		return rc;
	if ((rc = check_globals (t, cmd->globals)) != LH_CONTINUE)
		return rc;
	n = argc - optind;
	if (n < cmd->min_args)
		return lh_error (t, LH_EXIT_USAGE, NULL, "'%s' needs %s",
		                 cmd->name, cmd->args ? cmd->args : "an argument");
	if (n > cmd->max_args)
		return lh_error (t, LH_EXIT_USAGE, NULL, "unexpected argument "
		                 "\"%s\" for '%s'", argv[optind + cmd->max_args],
		                 cmd->name);
	t->argc = n;
	t->argv = argv + optind;
	return LH_CONTINUE;
}

int
lh_args_global (lh_tool *t, int argc, char **argv, void (*help_fn) (void))
{
	struct option *tab;
	int c, rc = LH_CONTINUE;

	if (!(tab = build_table (NULL)))
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	optind = 0;
	opterr = 0;
	/* "+": stop at the command word; what follows is the command's. */
	while (rc == LH_CONTINUE &&
	       (c = getopt_long (argc, argv, "+:hV", tab, NULL)) != -1) {
		if (c == 'h') {
			help_fn ();
			rc = LH_EXIT_OK;
		} else if (c == 'V') {
			printf ("litehsm %s\n", PACKAGE_VERSION);
			rc = LH_EXIT_OK;
		} else if (c == '?') {
			rc = bad_option (t, argv[optind - 1]);
		} else if (c == ':') {
			rc = lh_error (t, LH_EXIT_USAGE, NULL, "option --%s needs a "
			               "value", key_name (NULL, optopt));
		} else {
			rc = set_global (t, c, optarg);
		}
	}
	free (tab);
	if (rc != LH_CONTINUE)
		return rc;
	t->argc = argc - optind;
	t->argv = argv + optind;
	return LH_CONTINUE;
}

int
lh_dispatch (lh_tool *t, const char *group, const char *summary,
             const lh_subcmd *subs, int argc, char **argv)
{
	const lh_subcmd *s;

	snprintf (t->cmd, sizeof t->cmd, "%s", group);
	if (argc >= 2 && (strcmp (argv[1], "--help") == 0 ||
	                  strcmp (argv[1], "-h") == 0 ||
	                  strcmp (argv[1], "help") == 0)) {
		printf ("Usage: litehsm %s COMMAND [options]\n\n%s\n\n"
		        "Commands:\n", group, summary);
		for (s = subs; s->name; s++)
			printf ("  %-10s %s\n", s->name, s->summary);
		printf ("\n'litehsm %s COMMAND --help' describes each.\n", group);
		lh_print_exit_codes (stdout);
		return LH_EXIT_OK;
	}
	if (argc < 2)
		return lh_error (t, LH_EXIT_USAGE, NULL, "'%s' needs a command",
		                 group);
	for (s = subs; s->name; s++) {
		if (strcmp (argv[1], s->name) == 0) {
			snprintf (t->cmd, sizeof t->cmd, "%s %s", group, s->name);
			return s->run (t, argc - 1, argv + 1);
		}
	}
	return lh_error (t, LH_EXIT_USAGE, NULL, "unknown command '%s %s'",
	                 group, argv[1]);
}

/* ---- terminal ------------------------------------------------------------------ */

bool
lh_have_tty (void)
{
	int fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close (fd);
	return true;
}

bool
lh_confirm (const char *question, bool *yes)
{
	char answer[16];
	size_t n = 0;
	ssize_t r;
	char ch;
	int fd;

	*yes = false;
	fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (write (fd, question, strlen (question)) < 0 ||
	    write (fd, " [y/N] ", 7) < 0) {
		close (fd);
		return false;
	}
	for (;;) {
		r = read (fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n')
			break;
		if (n < sizeof answer - 1)
			answer[n++] = ch;
	}
	answer[n] = '\0';
	close (fd);
	*yes = strcmp (answer, "y") == 0 || strcmp (answer, "Y") == 0 ||
	       strcmp (answer, "yes") == 0 || strcmp (answer, "YES") == 0;
	return true;
}

void
lh_unpad (char *out, const CK_UTF8CHAR *in, size_t len)
{
	while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\0'))
		len--;
	memcpy (out, in, len);
	out[len] = '\0';
}
