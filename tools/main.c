/*
 * main.c - the litehsm command: global options, then dispatch to a command
 * group ("token", later "secret", "keystore", "ca", "key").
 *
 *   litehsm [global options] GROUP COMMAND [options] [arguments]
 *
 * Global options may also follow the command; see common.c.  The exit
 * code is the command's: 0 success, 1 failure, 2 usage, 3 PIN, 4 not found.
 */
#include "tools/cmd.h"
#include "tools/ca.h"
#include "tools/keystore.h"
#include "tools/key.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	const char *summary;
	int (*run) (lh_tool *t, int argc, char **argv);
} groups[] = {
	{ "token", "create, list, inspect, back up and delete tokens; manage "
	  "their PINs", lh_cmd_token },
	{ "secret", "store, generate, list, wrap and use secrets in a token",
	  lh_cmd_secret },
	{ "keystore", "the root keystore and the users' local keystores",
	  lh_cmd_keystore },
	{ "ca", "a certificate authority whose keys stay in the token",
	  lh_cmd_ca },
	{ "key", "import, generate, list and delete key pairs in a token",
	  lh_cmd_key },
};

#define NGROUPS (sizeof groups / sizeof groups[0])

static void
help (void)
{
	size_t i;

	printf ("Usage: litehsm [options] COMMAND SUBCOMMAND [options] "
	        "[arguments]\n\n"
	        "Administer litehsm PKCS#11 tokens (or those of another module "
	        "with --module).\n\nCommands:\n");
	for (i = 0; i < NGROUPS; i++)
		printf ("  %-10s %s\n", groups[i].name, groups[i].summary);
	printf ("\n'litehsm COMMAND --help' lists the subcommands, 'litehsm "
	        "COMMAND SUBCOMMAND --help'\ndescribes each.  Options may come "
	        "before the command or after the subcommand.\n");
	lh_print_global_options (stdout, LH_G_TOKEN | LH_G_PIN | LH_G_SOPIN |
	                         LH_G_NEWPIN);
	printf ("  --version              show the version\n");
	printf ("\nEnvironment: LITEHSM_MODULE (the module), LITEHSM_CONF (the "
	        "module's configuration).\n");
	lh_print_exit_codes (stdout);
	printf ("\nSee litehsm(1).\n");
}

int
main (int argc, char **argv)
{
	lh_tool t;
	size_t i;
	int rc;

	memset (&t, 0, sizeof t);
	rc = lh_args_global (&t, argc, argv, help);
	if (rc != LH_CONTINUE)
		return rc;
	if (t.argc == 0)
		return lh_error (&t, LH_EXIT_USAGE, "see 'litehsm --help'",
		                 "no command given");
	for (i = 0; i < NGROUPS; i++)
		if (strcmp (t.argv[0], groups[i].name) == 0)
			return groups[i].run (&t, t.argc, t.argv);
	if (strcmp (t.argv[0], "help") == 0) {
		help ();
		return LH_EXIT_OK;
	}
	return lh_error (&t, LH_EXIT_USAGE, "see 'litehsm --help'",
	                 "unknown command '%s'", t.argv[0]);
}
