/*
 * cmd_token.c - "litehsm token": the dispatcher of the token subcommands.
 *
 * Each subcommand lives in its own file (cmd_token_*.c) and is listed
 * here with its one-line summary, which "litehsm token --help" prints.
 */
#include "tools/cmd.h"

static const lh_subcmd token_cmds[] = {
	{ "init", "create a token on the free slot (SO and user PIN)",
	  lh_token_init },
	{ "list", "list every slot with its token and PIN states",
	  lh_token_list },
	{ "info", "show everything about one token", lh_token_info },
	{ "set-pin", "change the user PIN, or the SO PIN with --so",
	  lh_token_set_pin },
	{ "init-pin", "set the user PIN of a token that has none (SO)",
	  lh_token_init_pin },
	{ "unlock", "reset a locked user PIN (SO)", lh_token_unlock },
	{ "delete", "delete a token and every object in it (SO)",
	  lh_token_delete },
	{ "backup", "copy a live token to a file (stays encrypted)",
	  lh_token_backup },
	{ "restore", "put a backup in place of a token", lh_token_restore },
	{ "verify", "check the integrity of every object", lh_token_verify },
	{ "rekey", "give a token a new master key (both PINs)",
	  lh_token_rekey },
	{ NULL, NULL, NULL },
};

int
lh_cmd_token (lh_tool *t, int argc, char **argv)
{
	return lh_dispatch (t, "token", "Create, inspect, back up and delete "
	                    "tokens, and manage their PINs.", token_cmds,
	                    argc, argv);
}
