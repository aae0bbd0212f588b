/*
 * cmd_token_backup.c - "litehsm token backup FILE" and "litehsm token
 * restore FILE".
 *
 * backup: SQLite's online backup of the live token (lh_store_backup), a
 * consistent snapshot while other processes use it, written to a new file
 * (never over an existing one) with mode 0600.  No PIN: the copy is as
 * encrypted as the token.
 *
 * restore: put a backup in place of a token (lh_store_restore checks the
 * backup first and changes nothing if it is not a whole litehsm token).
 * With --token/--token-uri the named token is replaced, which needs --yes:
 * every change since the backup is lost, and services using the token must
 * be stopped (the tool cannot know about other processes).  Without a
 * token name the backup becomes a new token in the free slot (for a token
 * whose file was lost); a backup of a token that still exists is refused
 * there, since two tokens with one serial could not be told apart.  The
 * module is finalized before the file changes and loaded again afterwards
 * to show the restored token's label.
 */
#include "tools/cmd.h"
#include "tools/json.h"
#include "tools/tokenfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_YES = LH_OPT_CMD };

static void
print_done (lh_tool *t, const char *action, const lh_p11_slot *s,
            const char *file, const char *human)
{
	lh_json j;

	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "label", s->label);
		lh_json_str (&j, "serial", s->serial);
		lh_json_uint (&j, "slot_id", s->id);
		lh_json_str (&j, "file", file);
		lh_json_str (&j, "action", action);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("%s token \"%s\" (serial %s) %s %s\n", human, s->label,
		        s->serial, strcmp (action, "backup") == 0 ? "to" : "from",
		        file);
	}
}

/* ---- backup ------------------------------------------------------------ */

static const lh_cmd backup_cmd = {
	.name = "token backup",
	.args = "FILE",
	.summary = "Copy a token to the new file FILE while it is in use (SQLite\n"
	           "online backup: one consistent snapshot).  The copy is as\n"
	           "encrypted as the token, so no PIN is needed; it is created\n"
	           "mode 0600 and FILE must not exist.",
	.globals = LH_G_TOKEN,
	.min_args = 1,
	.max_args = 1,
};

int
lh_token_backup (lh_tool *t, int argc, char **argv)
{
	lh_token_file tf;
	lh_store *st = NULL;
	const char *dest;
	lh_p11_slot s;
	struct stat sb;
	lh_p11 p;
	CK_RV rv;
	int rc;

	memset (&p, 0, sizeof p);
	memset (&tf, 0, sizeof tf);
	if ((rc = lh_args_parse (t, &backup_cmd, argc, argv, NULL, NULL)) !=
	    LH_CONTINUE)
		return rc;
	dest = t->argv[0];
	if (lstat (dest, &sb) == 0)
		return lh_error (t, LH_EXIT_FAIL, "choose a new file name (a backup "
		                 "never overwrites a file)", "%s exists already",
		                 dest);
	if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK ||
	    (rc = lh_p11_find_token (t, &p, &s)) != LH_EXIT_OK ||
	    (rc = lh_token_file_find (t, &p, &s, true, &tf)) != LH_EXIT_OK ||
	    (rc = lh_token_file_open (t, &tf, s.serial, &st)) != LH_EXIT_OK)
		goto out;
	rv = lh_store_backup (st, dest);
	if (rv == CKR_ARGUMENTS_BAD) {
		rc = lh_error (t, LH_EXIT_FAIL, "choose a new file name (a backup "
		               "never overwrites a file)", "%s exists already", dest);
		goto out;
	}
	if (rv != CKR_OK) {
		rc = lh_error_rv (t, rv, "check that the directory of the backup "
		                  "exists and is writable, and that the token is "
		                  "readable", "cannot back up token \"%s\" to %s",
		                  s.label, dest);
		goto out;
	}
	print_done (t, "backup", &s, dest, "Backed up");
	rc = LH_EXIT_OK;
out:
	lh_store_close (st);
	lh_token_file_free (&tf);
	lh_p11_close (&p);
	return rc;
}

/* ---- restore --------------------------------------------------------------- */

static const lh_opt restore_opts[] = {
	{ "yes", NULL, OPT_YES, "confirm that the named token is replaced" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd restore_cmd = {
	.name = "token restore",
	.args = "FILE",
	.summary = "Restore the backup FILE.  With --token/--token-uri it replaces\n"
	           "that token (every change since the backup is lost), which\n"
	           "needs --yes; without, it becomes a new token on the free slot\n"
	           "(for a token whose file was lost).  Prints the restored\n"
	           "token's label.",
	.details = "Stop every service that uses the token before replacing it:\n"
	           "the tool cannot see other processes, and one that keeps the\n"
	           "old file open goes on using it.  FILE is checked first; if\n"
	           "it is not a whole litehsm token nothing changes.  The PINs\n"
	           "are those the token had when the backup was made.\n",
	.globals = LH_G_TOKEN,
	.min_args = 1,
	.max_args = 1,
	.opts = restore_opts,
};

static int
yes_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	*(bool *)ctx = true;
	return LH_CONTINUE;
}

/* Where the backup goes: the named token's file, or the free slot's. */
static int
restore_target (lh_tool *t, lh_p11 *p, lh_p11_slot *s, lh_token_file *tf,
                bool yes)
{
	int rc;

	if (t->token || t->token_uri) {
		if ((rc = lh_p11_find_token (t, p, s)) != LH_EXIT_OK)
			return rc;
		if (!yes)
			return lh_error (t, LH_EXIT_USAGE, "stop the services that use "
			                 "it and add --yes", "restoring replaces token "
			                 "\"%s\" (serial %s) and loses every change since "
			                 "the backup", s->label, s->serial);
		return lh_token_file_find (t, p, s, true, tf);
	}
	if ((rc = lh_p11_free_slot (t, p, s)) != LH_EXIT_OK)
		return rc;
	return lh_token_file_find (t, p, s, false, tf);
}

/*
 * After a restore to the free slot: another token with the restored one's
 * serial means the backup's token still exists; undo and refuse.
 */
static int
check_unique (lh_tool *t, lh_p11 *p, const lh_p11_slot *s,
              const lh_token_file *tf)
{
	lh_p11_slot *slots = NULL;
	size_t n, i;
	int rc;

	if ((rc = lh_p11_slots (t, p, &slots, &n)) != LH_EXIT_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if (slots[i].id == s->id || !slots[i].initialized ||
		    strcmp (slots[i].serial, s->serial) != 0)
			continue;
		lh_p11_close (p);
		if ((rc = lh_token_file_remove (t, tf->path)) != LH_EXIT_OK)
			break;
		rc = lh_error (t, LH_EXIT_FAIL, "nothing was changed (to go back to "
		               "the backup, replace that token with --token LABEL "
		               "--yes)", "the backup holds token \"%s\" (serial %s), "
		               "which exists already as \"%s\"", s->label, s->serial,
		               slots[i].label);
		break;
	}
	free (slots);
	return rc;
}

int
lh_token_restore (lh_tool *t, int argc, char **argv)
{
	lh_token_file tf;
	const char *src;
	bool yes = false, replace;
	lh_p11_slot s;
	CK_SLOT_ID id;
	lh_p11 p;
	CK_RV rv;
	int rc;

	memset (&p, 0, sizeof p);
	memset (&tf, 0, sizeof tf);
	if ((rc = lh_args_parse (t, &restore_cmd, argc, argv, yes_opt, &yes)) !=
	    LH_CONTINUE)
		return rc;
	src = t->argv[0];
	replace = t->token || t->token_uri;
	if (access (src, R_OK) != 0)
		return lh_error (t, errno == ENOENT ? LH_EXIT_NOTFOUND : LH_EXIT_FAIL,
		                 "check the file name", "cannot read the backup %s: %s",
		                 src, strerror (errno));
	if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK ||
	    (rc = restore_target (t, &p, &s, &tf, yes)) != LH_EXIT_OK)
		goto out;
	id = s.id;
	lh_p11_close (&p);              /* the module lets go of the file */
	rv = lh_store_restore (src, tf.path);
	if (rv != CKR_OK) {
		rc = lh_error_rv (t, rv, rv == CKR_TOKEN_NOT_RECOGNIZED ?
		                  "nothing was changed: check that FILE is a backup "
		                  "made by 'litehsm token backup'" : NULL,
		                  "cannot restore %s", src);
		goto out;
	}
	/* Load the module again to see the token as it now is. */
	if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK ||
	    (rc = lh_p11_slot_get (t, &p, id, &s)) != LH_EXIT_OK)
		goto out;
	if (!replace && (rc = check_unique (t, &p, &s, &tf)) != LH_EXIT_OK)
		goto out;
	print_done (t, replace ? "restored" : "restored-as-new", &s, src,
	            "Restored");
	rc = LH_EXIT_OK;
out:
	lh_token_file_free (&tf);
	lh_p11_close (&p);
	return rc;
}
