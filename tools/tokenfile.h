/*
 * tokenfile.h - the file behind a litehsm token, for the few commands that
 * work on the file itself through store/ (delete, backup, restore, verify,
 * rekey) rather than through PKCS#11.
 *
 * The module names each slot "litehsm <file name>" (slot description); the
 * directory comes from the same configuration the module reads
 * (pkcs11/conf.c: LITEHSM_CONF, ~/.config/litehsm/litehsm.conf, the system
 * file): an explicit "token = PATH" with that file name, else token_dir.
 * The file found is opened with lh_store_open and its serial compared with
 * the token's, so a command never acts on the wrong file.
 */
#ifndef LH_TOOL_TOKENFILE_H
#define LH_TOOL_TOKENFILE_H

#include "tools/p11.h"
#include "store/store.h"
#include "pkcs11/conf.h"

/* The file of a token and the configuration it was found with. */
typedef struct {
	char *path;             /* malloc'd */
	lh_conf *conf;          /* the module's configuration */
	lh_store_config cfg;    /* store settings from that configuration */
} lh_token_file;

/*
 * Find the file of token s (a slot of the litehsm module).  With
 * must_exist, a missing file is an error (exit 4); without, the path is
 * where the token's file belongs (the free slot's file, or a lost token's).
 * Free with lh_token_file_free.
 */
int lh_token_file_find (lh_tool *t, lh_p11 *p, const lh_p11_slot *s,
                        bool must_exist, lh_token_file *tf);
void lh_token_file_free (lh_token_file *tf);

/*
 * Open the token file with lh_store_open (never creating it) and check
 * that it holds the token with serial (NULL: no check).
 */
int lh_token_file_open (lh_tool *t, const lh_token_file *tf,
                        const char *serial, lh_store **out);

/*
 * Delete a token file with its -wal, -shm and -journal companions (these
 * first).  The module must not have it open (lh_p11_close first).
 */
int lh_token_file_remove (lh_tool *t, const char *path);

#endif /* LH_TOOL_TOKENFILE_H */
