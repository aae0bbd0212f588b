/*
 * cmd_token_delete.c - "litehsm token delete": remove a token's file (and
 * its -wal and -shm companions) after proving the SO PIN.
 *
 * PKCS#11 has no call that deletes a token, so this is one of the few
 * commands that works on the file (tokenfile.h).  Order, so that a refusal
 * never leaves anything changed:
 *   1. no --yes and no terminal to confirm on: refuse at once (exit 2);
 *   2. find the token and its file, and check the file holds that token;
 *   3. log in as SO (the proof of authority; a wrong PIN counts);
 *   4. confirm on the terminal unless --yes;
 *   5. finalize the module (it lets go of the file), then unlink.
 * Processes that still have the token open keep using the unlinked file
 * until they close it; the man page says to stop them first.
 */
#include "tools/cmd.h"
#include "tools/json.h"
#include "tools/tokenfile.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_YES = LH_OPT_CMD };

static const lh_opt delete_opts[] = {
	{ "yes", NULL, OPT_YES, "do not ask for confirmation" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd delete_cmd = {
	.name = "token delete",
	.summary = "Delete a token and every object in it: its file and the\n"
	           "file's -wal and -shm companions.  Needs the SO PIN\n"
	           "(--so-pin-file/--so-pin-env or a prompt) and a confirmation\n"
	           "on the terminal, or --yes.",
	.details = "Without a terminal and without --yes the command refuses and\n"
	           "changes nothing.  Stop the services that use the token first:\n"
	           "a process that has it open keeps the deleted file until it\n"
	           "closes it.  Only litehsm tokens can be deleted.\n",
	.globals = LH_G_TOKEN | LH_G_SOPIN,
	.min_args = 0,
	.max_args = 0,
	.opts = delete_opts,
};

static int
yes_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	*(bool *)ctx = true;
	return LH_CONTINUE;
}

/* Step 1-3: the token, its file, and the SO login. */
static int
prepare (lh_tool *t, lh_p11 *p, lh_p11_slot *s, lh_token_file *tf)
{
	CK_SESSION_HANDLE h;
	lh_store *st = NULL;
	int rc;

	if ((rc = lh_p11_open (t, p)) != LH_EXIT_OK ||
	    (rc = lh_p11_find_token (t, p, s)) != LH_EXIT_OK ||
	    (rc = lh_token_file_find (t, p, s, true, tf)) != LH_EXIT_OK ||
	    (rc = lh_token_file_open (t, tf, s->serial, &st)) != LH_EXIT_OK)
		return rc;
	lh_store_close (st);
	if ((rc = lh_p11_session (t, p, s, true, &h)) != LH_EXIT_OK ||
	    (rc = lh_p11_login (t, p, h, s, CKU_SO, LH_PIN_SO)) != LH_EXIT_OK)
		return rc;
	p->f->C_Logout (h);
	p->f->C_CloseSession (h);
	return LH_EXIT_OK;
}

int
lh_token_delete (lh_tool *t, int argc, char **argv)
{
	lh_token_file tf;
	char question[512];
	bool yes = false, ok;
	lh_p11_slot s;
	lh_json j;
	lh_p11 p;
	int rc;

	memset (&p, 0, sizeof p);
	memset (&tf, 0, sizeof tf);
	if ((rc = lh_args_parse (t, &delete_cmd, argc, argv, yes_opt, &yes)) !=
	    LH_CONTINUE)
		return rc;
	if (!yes && !lh_have_tty ())
		return lh_error (t, LH_EXIT_USAGE, "add --yes to delete it without "
		                 "asking", "refusing to delete a token without "
		                 "confirmation, and there is no terminal to ask on");
	if ((rc = prepare (t, &p, &s, &tf)) != LH_EXIT_OK)
		goto out;
	if (!yes) {
		snprintf (question, sizeof question, "Delete token \"%s\" (serial "
		          "%s, file %s) and every object in it?", s.label, s.serial,
		          tf.path);
		if (!lh_confirm (question, &ok) || !ok) {
			rc = lh_error (t, LH_EXIT_FAIL, "nothing was changed",
			               "token \"%s\" not deleted", s.label);
			goto out;
		}
	}
	lh_p11_close (&p);              /* the module lets go of the file */
	if ((rc = lh_token_file_remove (t, tf.path)) != LH_EXIT_OK)
		goto out;
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "label", s.label);
		lh_json_str (&j, "serial", s.serial);
		lh_json_str (&j, "file", tf.path);
		lh_json_str (&j, "action", "deleted");
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("Deleted token \"%s\" (serial %s, file %s)\n", s.label,
		        s.serial, tf.path);
	}
	rc = LH_EXIT_OK;
out:
	lh_token_file_free (&tf);
	lh_p11_close (&p);
	return rc;
}
