/*
 * cmd.h - the command groups of the litehsm command (main.c dispatches to
 * them) and the subcommands of each group, one file per subcommand or per
 * small family of them.
 *
 * A group adds one line to main.c's table and one function here; a
 * subcommand adds one lh_subcmd row to its group's table and one run
 * function.  Everything shared lives in common.h, p11.h, pin.h, uri.h,
 * json.h and tokenfile.h.
 */
#ifndef LH_TOOL_CMD_H
#define LH_TOOL_CMD_H

#include "tools/common.h"

/* litehsm token ... (cmd_token.c) */
int lh_cmd_token (lh_tool *t, int argc, char **argv);

/* The token subcommands. */
int lh_token_list (lh_tool *t, int argc, char **argv);         /* cmd_token_list.c */
int lh_token_info (lh_tool *t, int argc, char **argv);         /* cmd_token_list.c */
int lh_token_init (lh_tool *t, int argc, char **argv);         /* cmd_token_init.c */
int lh_token_set_pin (lh_tool *t, int argc, char **argv);      /* cmd_token_pin.c */
int lh_token_init_pin (lh_tool *t, int argc, char **argv);     /* cmd_token_pin.c */
int lh_token_unlock (lh_tool *t, int argc, char **argv);       /* cmd_token_pin.c */
int lh_token_delete (lh_tool *t, int argc, char **argv);       /* cmd_token_delete.c */
int lh_token_backup (lh_tool *t, int argc, char **argv);       /* cmd_token_backup.c */
int lh_token_restore (lh_tool *t, int argc, char **argv);      /* cmd_token_backup.c */
int lh_token_verify (lh_tool *t, int argc, char **argv);       /* cmd_token_verify.c */
int lh_token_rekey (lh_tool *t, int argc, char **argv);        /* cmd_token_verify.c */

#endif /* LH_TOOL_CMD_H */
