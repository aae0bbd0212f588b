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
int lh_secret_rotate (lh_tool *t, int argc, char **argv);      /* cmd_secret_rotate.c */
int lh_secret_prune (lh_tool *t, int argc, char **argv);       /* cmd_secret_rotate.c */

/*
 * Shared by the secret subcommands (cmd_secret.c).  A secret is a
 * CKO_SECRET_KEY token object whose CKA_LABEL is its name, in the token
 * --token/--token-uri names; every command logs in as the user.
 *
 * Every function below that can fail reports its one error line (see
 * common.h) and returns an exit code; LH_EXIT_OK means success.
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

/*
 * Versions.  A secret may have several versions: objects with the same
 * CKA_LABEL whose CKA_ID is the ASCII text "v<N>.<8 lowercase hex>" (N =
 * 1, 2, ...; the hex part random, so a replaced value never has the id of
 * the one it replaced).  An object without CKA_ID, or with another one,
 * is version 0 (made by another tool).  The highest N is the active
 * version; 'secret rotate' retires the others (drops their encrypt and
 * wrap usages), which then only decrypt, unwrap and derive until their
 * end date.
 */
#define LH_SECRET_ID_SIZE 24        /* "v<N>.<8 hex>" and its NUL */

/* One version as lh_secret_versions reads it (never its value). */
typedef struct {
	CK_OBJECT_HANDLE h;
	unsigned long n;            /* version; 0: not made by litehsm */
	char id[LH_SECRET_ID_SIZE]; /* CKA_ID as text; "" when n is 0 */
	char start[11], end[11];    /* CKA_START/END_DATE "YYYY-MM-DD", or "" */
	CK_KEY_TYPE kt;             /* CKA_KEY_TYPE */
	CK_ULONG bytes;             /* CKA_VALUE_LEN, when have_len */
	bool have_len;
	bool local, sensitive, extractable, always_sensitive, never_extractable;
	bool private_, trusted, wrap_with_trusted;
	bool encrypt, decrypt, wrap, unwrap, derive, sign, verify;
} lh_secret_version;

/* The versions of one name; malloc'd, free with lh_secret_vlist_free. */
typedef struct {
	lh_secret_version *v;       /* sorted by n, highest (the active) first */
	size_t n;
} lh_secret_vlist;

/* Every object labelled label (n == 0 when there is none: no error). */
int lh_secret_versions (lh_tool *t, lh_secret_ctx *c, const char *label,
                        lh_secret_vlist *out);
void lh_secret_vlist_free (lh_secret_vlist *l);
/* The same, but no object (LH_EXIT_NOTFOUND) or two objects sharing the
 * highest version (LH_EXIT_FAIL) is an error: out->v[0] is the active. */
int lh_secret_find_versions (lh_tool *t, lh_secret_ctx *c, const char *name,
                             lh_secret_vlist *out);
/* The object of version n in l, or NULL (the first if several). */
const lh_secret_version *lh_secret_vlist_get (const lh_secret_vlist *l,
                                              unsigned long n);
/* N of a CKA_ID value, or 0 when it is not "v<N>.<8 lowercase hex>". */
unsigned long lh_secret_parse_id (const void *id, size_t len);
/* The id "v<n>.<8 random hex>" (random bytes from the token). */
int lh_secret_make_id (lh_tool *t, lh_secret_ctx *c, unsigned long n,
                       char out[LH_SECRET_ID_SIZE]);
/* The id of the next version of label: the highest N of its objects + 1
 * (v1 for a new name). */
int lh_secret_new_id (lh_tool *t, lh_secret_ctx *c, const char *label,
                      char out[LH_SECRET_ID_SIZE]);
/* The distinct labels of the token's secret keys, sorted; free with
 * lh_secret_names_free. */
int lh_secret_names (lh_tool *t, lh_secret_ctx *c, char ***names, size_t *n);
void lh_secret_names_free (char **names, size_t n);

/* The active version's handle: *found false when there is none (no
 * error); two objects sharing the highest version is an error. */
int lh_secret_lookup (lh_tool *t, lh_secret_ctx *c, const char *name,
                      CK_OBJECT_HANDLE *out, bool *found);
/* The same, but a missing one is an error (LH_EXIT_NOTFOUND). */
int lh_secret_find (lh_tool *t, lh_secret_ctx *c, const char *name,
                    CK_OBJECT_HANDLE *out);
/*
 * Before storing name: refuse an existing name unless force.  *old gets
 * every existing version (none for a new name) and id the id of the new
 * object (its next version).  Hand old to lh_secret_replace_done after
 * creating the new object, or free it with lh_secret_vlist_free (always
 * safe: it is empty after a failure).
 */
int lh_secret_check_new (lh_tool *t, lh_secret_ctx *c, const char *name,
                         bool force, lh_secret_vlist *old,
                         char id[LH_SECRET_ID_SIZE]);
/* After creating the replacement: destroy every version in old (nothing
 * for a new name) and free the list. */
int lh_secret_replace_done (lh_tool *t, lh_secret_ctx *c, const char *name,
                            lh_secret_vlist *old);

/*
 * Dates, as days since 1970-01-01 (UTC).  "Today" is the real date, or
 * $LITEHSM_TODAY (YYYY-MM-DD) when it is set: a testing aid for prune and
 * the dates the tool writes; the module checks key dates by its own clock.
 * A bad LITEHSM_TODAY is LH_EXIT_USAGE.
 */
int lh_secret_today (lh_tool *t, long *day);
/* "YYYY-MM-DD" to a day; false if it is not a valid date. */
bool lh_secret_parse_day (const char *ymd, long *day);
/* A day as "YYYY-MM-DD" and as a CK_DATE. */
void lh_secret_day_text (long day, char out[11]);
void lh_secret_day_date (long day, CK_DATE *out);

/*
 * Rotation and pruning (cmd_secret_rotate.c), for 'secret rotate/prune'
 * and the keystore commands.
 */
/* Generate the next version of the generated secret name inside the
 * token, like its active version (type, size, usages, sensitivity,
 * validity length from today), then retire the older versions.  *out:
 * the new version; *old: the versions that were there before (free it;
 * empty after a failure).  A value stored from outside (CKA_LOCAL false)
 * is refused (LH_EXIT_FAIL), a missing name is LH_EXIT_NOTFOUND.  The new
 * version is not CKA_TRUSTED even if the old one was: only the SO can
 * set that. */
int lh_secret_rotate_one (lh_tool *t, lh_secret_ctx *c, const char *name,
                          lh_secret_version *out, lh_secret_vlist *old);
/* Drop CKA_ENCRYPT and CKA_WRAP where TRUE on every version in l except
 * keep (the strict policy lets usages be dropped, never added). */
int lh_secret_retire (lh_tool *t, lh_secret_ctx *c, const char *name,
                      const lh_secret_vlist *l, CK_OBJECT_HANDLE keep);
/* Called by lh_secret_prune_name for each version it removes (or would
 * remove, with dry_run). */
typedef void (*lh_secret_prune_fn) (void *ctx, const char *name,
                                    const lh_secret_version *v);
/* Destroy every version of name whose end date + grace days is before
 * today (days since the epoch); *count is increased by their number. */
int lh_secret_prune_name (lh_tool *t, lh_secret_ctx *c, const char *name,
                          long today, long grace, bool dry_run,
                          lh_secret_prune_fn fn, void *ctx, size_t *count);

/*
 * Unwrap blob (CKM_AES_KEY_WRAP_PAD) with the versions of with (active
 * first, then older ones, until one opens it) into a new object made
 * from tmpl (its CKA_LABEL is as).  *used: the index in with->v that
 * opened it.  A blob that no version opens is LH_EXIT_FAIL.
 * (cmd_secret_wrap.c)
 */
int lh_secret_unwrap_blob (lh_tool *t, lh_secret_ctx *c, const char *with_name,
                           const lh_secret_vlist *with, const char *as,
                           const unsigned char *blob, size_t len,
                           CK_ATTRIBUTE *tmpl, CK_ULONG n,
                           CK_OBJECT_HANDLE *out, size_t *used);

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
