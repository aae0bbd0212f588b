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
#include "tools/p11.h"

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

/* litehsm secret ... (cmd_secret.c) */
int lh_cmd_secret (lh_tool *t, int argc, char **argv);

/* The secret subcommands. */
int lh_secret_set (lh_tool *t, int argc, char **argv);         /* cmd_secret_set.c */
int lh_secret_generate (lh_tool *t, int argc, char **argv);    /* cmd_secret_set.c */
int lh_secret_list (lh_tool *t, int argc, char **argv);        /* cmd_secret_list.c */
int lh_secret_show (lh_tool *t, int argc, char **argv);        /* cmd_secret_list.c */
int lh_secret_rm (lh_tool *t, int argc, char **argv);          /* cmd_secret_list.c */
int lh_secret_wrap (lh_tool *t, int argc, char **argv);        /* cmd_secret_wrap.c */
int lh_secret_unwrap (lh_tool *t, int argc, char **argv);      /* cmd_secret_wrap.c */
int lh_secret_encrypt (lh_tool *t, int argc, char **argv);     /* cmd_secret_crypt.c */
int lh_secret_decrypt (lh_tool *t, int argc, char **argv);     /* cmd_secret_crypt.c */

/*
 * Shared by the secret subcommands (cmd_secret.c).  A secret is a
 * CKO_SECRET_KEY token object whose CKA_LABEL is its name, in the token
 * --token/--token-uri names; every command logs in as the user.
 */
typedef struct {
	lh_p11 p;
	lh_p11_slot s;
	CK_SESSION_HANDLE h;
	CK_FUNCTION_LIST *f;        /* p.f once open */
} lh_secret_ctx;

/* Open the module, find the token, open a read-write session, log in.
 * c is zeroed first; lh_secret_close is safe whatever happened. */
int lh_secret_open (lh_tool *t, lh_secret_ctx *c);
void lh_secret_close (lh_secret_ctx *c);

/* A usable name: 1 to 64 bytes of printable UTF-8 (LH_EXIT_USAGE). */
int lh_secret_check_name (lh_tool *t, const char *name);
/* The secret named name: *found false when there is none (no error);
 * several with that name is an error (LH_EXIT_FAIL). */
int lh_secret_lookup (lh_tool *t, lh_secret_ctx *c, const char *name,
                      CK_OBJECT_HANDLE *out, bool *found);
/* The same, but a missing one is an error (LH_EXIT_NOTFOUND). */
int lh_secret_find (lh_tool *t, lh_secret_ctx *c, const char *name,
                    CK_OBJECT_HANDLE *out);
/* Refuse an existing name unless force (*old: its handle, or 0). */
int lh_secret_check_new (lh_tool *t, lh_secret_ctx *c, const char *name,
                         bool force, CK_OBJECT_HANDLE *old);
/* After creating the replacement of old (when old != 0): destroy old. */
int lh_secret_replace_done (lh_tool *t, lh_secret_ctx *c, const char *name,
                            CK_OBJECT_HANDLE old);

/* Read all of stdin (at most max bytes), base64-decoded with b64; what
 * names the input in messages.  Empty, over-long or bad base64 input is
 * LH_EXIT_USAGE.  *out is malloc'd: wipe and free it with lh_secret_free. */
int lh_secret_read_stdin (lh_tool *t, size_t max, bool b64, const char *what,
                          unsigned char **out, size_t *len);
void lh_secret_free (unsigned char *buf, size_t len);
/* Write buf to stdout, as one base64 line with b64. */
int lh_secret_write (lh_tool *t, const unsigned char *buf, size_t len,
                     bool b64);

#endif /* LH_TOOL_CMD_H */
