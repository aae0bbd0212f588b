/*
 * cmd_keystore.c - "litehsm keystore": init (--root, --user U), sync,
 * status and restore-user.  The work is in keystore.c and
 * keystore_sync.c; this file parses, asks for what is needed and prints.
 */
#include "tools/keystore.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>

enum {
	OPT_ROOT = LH_OPT_CMD, OPT_USER, OPT_ALL, OPT_FORCE,
};

typedef struct {
	bool root, all, force;
	const char *user;
} ks_args;

static int
ks_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	ks_args *a = ctx;

	(void)t;
	switch (key) {
	case OPT_ROOT: a->root = true; break;
	case OPT_USER: a->user = arg; break;
	case OPT_ALL: a->all = true; break;
	case OPT_FORCE: a->force = true; break;
	default: break;
	}
	return LH_CONTINUE;
}

static const lh_opt init_opts[] = {
	{ "root", NULL, OPT_ROOT, "create the root keystore" },
	{ "user", "USER", OPT_USER, "create USER's local keystore" },
	{ "force", NULL, OPT_FORCE, "replace USER's existing local keystore" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd init_cmd = {
	.name = "keystore init",
	.summary = "Create the root keystore (--root), or a user's local\n"
	           "keystore (--user USER) holding copies of the shared secrets\n"
	           "and of USER's own.",
	.details = "--root (as root) makes the token \"rootkeystore\" in the system\n"
	           "token directory ($LITEHSM_KEYSTORE_DIR): its SO PIN and user\n"
	           "PIN come from --so-pin-file/--pin-file (or -env), or are asked\n"
	           "twice on the terminal.\n"
	           "--user USER makes \"localkeystore\" in USER's data directory\n"
	           "(~USER/.local/share/litehsm/tokens, or $LITEHSM_KEYSTORE_HOME/\n"
	           "USER/litehsm/tokens), owned by USER, mode 0600.  It needs the\n"
	           "root keystore's user PIN and SO PIN.  USER's PIN is the one of\n"
	           "--new-pin-file/--new-pin-env, else a generated one written to\n"
	           "a file only USER can read (its path is printed).  The root\n"
	           "keystore keeps both PINs of every local keystore.\n",
	.globals = LH_G_PIN | LH_G_SOPIN | LH_G_NEWPIN,
	.min_args = 0,
	.max_args = 0,
	.opts = init_opts,
};

static const lh_opt sync_opts[] = {
	{ "user", "USER", OPT_USER, "only USER's local keystore" },
	{ "all", NULL, OPT_ALL, "every local keystore (the default)" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd sync_cmd = {
	.name = "keystore sync",
	.summary = "Make local keystores hold exactly what the root keystore\n"
	           "says: copy new and rotated secrets, drop retired usages,\n"
	           "remove copies of secrets the root keystore no longer has.",
	.details = "Needs the root keystore's user PIN.  A keystore that fails does\n"
	           "not stop the others; the exit code is 1 if any failed.\n",
	.globals = LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = sync_opts,
};

static const lh_opt status_opts[] = {
	{ "user", "USER", OPT_USER, "only USER's local keystore" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd status_cmd = {
	.name = "keystore status",
	.summary = "Show, for each local keystore, which secrets and versions\n"
	           "it holds and what is missing or stale.",
	.details = "States: ok, stale (run 'keystore sync'), missing or unusable\n"
	           "(run 'keystore restore-user').  Needs the root keystore's user\n"
	           "PIN.  Values are never shown.\n",
	.globals = LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = status_opts,
};

static const lh_opt restore_opts[] = {
	{ "user", "USER", OPT_USER, "the user whose keystore to rebuild" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd restore_cmd = {
	.name = "keystore restore-user",
	.summary = "Rebuild a lost or damaged local keystore from the root\n"
	           "keystore, with the same PINs (USER's applications keep\n"
	           "working).",
	.details = "Needs the root keystore's user PIN and SO PIN.  The old file is\n"
	           "replaced.\n",
	.globals = LH_G_PIN | LH_G_SOPIN,
	.min_args = 0,
	.max_args = 0,
	.opts = restore_opts,
};

static int keystore_init (lh_tool *t, int argc, char **argv);
static int keystore_sync (lh_tool *t, int argc, char **argv);
static int keystore_status (lh_tool *t, int argc, char **argv);
static int keystore_restore (lh_tool *t, int argc, char **argv);

static const lh_subcmd keystore_cmds[] = {
	{ "init", "create the root keystore or a user's local keystore",
	  keystore_init },
	{ "sync", "copy the root keystore's secrets to the local keystores",
	  keystore_sync },
	{ "status", "what each local keystore holds, and what is stale",
	  keystore_status },
	{ "restore-user", "rebuild a user's local keystore from the root one",
	  keystore_restore },
	{ NULL, NULL, NULL },
};

int
lh_cmd_keystore (lh_tool *t, int argc, char **argv)
{
	return lh_dispatch (t, "keystore", "The root keystore and the users' "
	                    "local keystores (seed 001's askmscli model).",
	                    keystore_cmds, argc, argv);
}

static void
print_made (lh_tool *t, const char *verb, const char *user,
            const lh_ks_reg *r, const lh_ks_counts *n)
{
	lh_json j;

	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "user", user);
		lh_json_str (&j, "path", r->path);
		lh_json_str (&j, "pin_file", r->pin_file);
		lh_json_uint (&j, "shared", n->shared);
		lh_json_uint (&j, "own", n->own);
		lh_json_object_end (&j);
		lh_json_finish (&j);
		return;
	}
	printf ("%s %s's local keystore %s; copied %u shared and %u own "
	        "secret(s).\n", verb, user, r->path, n->shared, n->own);
	if (r->pin_file)
		printf ("PIN file: %s\nURI: pkcs11:token=%s?pin-source=file:%s\n",
		        r->pin_file, LH_KS_LOCAL_LABEL, r->pin_file);
}

/* Read U's registry entry (after a successful create) for printing. */
static int
made (lh_tool *t, lh_ks *ks, const char *verb, const char *user,
      const lh_ks_counts *n)
{
	lh_secret_ctx c;
	lh_ks_reg r;
	bool found = false;
	int rc;

	if ((rc = lh_ks_root_open (t, ks, CKU_USER, &c)) == LH_EXIT_OK &&
	    (rc = lh_ks_reg_get (t, &c, user, &r, &found)) == LH_EXIT_OK &&
	    found) {
		print_made (t, verb, user, &r, n);
		lh_ks_reg_free (&r);
	}
	lh_secret_close (&c);
	return rc;
}

static int
keystore_init (lh_tool *t, int argc, char **argv)
{
	ks_args a = { 0 };
	lh_ks_counts n;
	lh_pin pin;
	lh_ks ks;
	int rc;

	lh_pin_clear (&pin);      /* OPENSSL_cleanse: also the starting state */
	if ((rc = lh_args_parse (t, &init_cmd, argc, argv, ks_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if (a.root == !!a.user)
		return lh_error (t, LH_EXIT_USAGE, "see 'litehsm keystore init "
		                 "--help'", "give exactly one of --root and --user "
		                 "USER");
	if (a.root && (a.force || lh_pin_given (t, LH_PIN_NEW)))
		return lh_error (t, LH_EXIT_USAGE, "leave them out", "--force and "
		                 "--new-pin-* go with --user, not --root");
	if ((rc = lh_ks_begin (t, &ks)) != LH_EXIT_OK)
		goto out;
	ks.force = a.force;
	if (a.root) {
		rc = lh_ks_root_create (t, &ks);
		goto out;
	}
	if (lh_pin_given (t, LH_PIN_NEW) &&
	    (rc = lh_pin_read (t, LH_PIN_NEW, "PIN of the new local keystore",
	                       true, &pin)) != LH_EXIT_OK)
		goto out;
	if (pin.len && (pin.len < 4 || pin.len > LH_PIN_MAX)) {
		rc = lh_error (t, LH_EXIT_USAGE, "give 4 to 256 bytes", "the new PIN "
		               "is %zu bytes long", pin.len);
		goto out;
	}
	rc = lh_ks_sync_user (t, &ks, a.user, LH_KS_CREATE, pin.len ? &pin : NULL,
	                      &n);
	if (rc == LH_EXIT_OK)
		rc = made (t, &ks, "Created", a.user, &n);
out:
	lh_pin_clear (&pin);
	lh_ks_done (&ks);
	return rc;
}

static int
keystore_restore (lh_tool *t, int argc, char **argv)
{
	ks_args a = { 0 };
	lh_ks_counts n;
	lh_ks ks;
	int rc;

	if ((rc = lh_args_parse (t, &restore_cmd, argc, argv, ks_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if (!a.user)
		return lh_error (t, LH_EXIT_USAGE, "name the user with --user USER",
		                 "'keystore restore-user' needs --user");
	if ((rc = lh_ks_begin (t, &ks)) == LH_EXIT_OK &&
	    (rc = lh_ks_sync_user (t, &ks, a.user, LH_KS_RESTORE, NULL, &n)) ==
	    LH_EXIT_OK)
		rc = made (t, &ks, "Restored", a.user, &n);
	lh_ks_done (&ks);
	return rc;
}

/* The registered users, or just one. */
static int
users_of (lh_tool *t, lh_ks *ks, const char *one, char ***users, size_t *n)
{
	lh_secret_ctx c;
	int rc;

	*users = NULL;
	*n = 0;
	if (one) {
		if (!(*users = calloc (1, sizeof **users)) ||
		    !((*users)[0] = strdup (one)))
			return lh_error (t, LH_EXIT_FAIL, "free some memory",
			                 "out of memory");
		*n = 1;
		return LH_EXIT_OK;
	}
	if ((rc = lh_ks_root_open (t, ks, CKU_USER, &c)) == LH_EXIT_OK)
		rc = lh_ks_reg_users (t, &c, users, n);
	lh_secret_close (&c);
	return rc;
}

int
lh_ks_sync_users (lh_tool *t, lh_ks *ks, const char *one, bool quiet)
{
	char **users = NULL, failed[512] = "";
	size_t n = 0, i, nfailed = 0;
	lh_json j;
	int rc, first = LH_EXIT_OK;

	if ((rc = users_of (t, ks, one, &users, &n)) != LH_EXIT_OK)
		return rc;
	if (t->json && !quiet) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_array_begin (&j, "keystores");
	}
	for (i = 0; i < n; i++) {
		lh_ks_counts c;
		bool was = t->reported;

		/* each user's error is collected, not printed, when there are
		 * several: the run reports one line */
		if (n > 1)
			t->reported = true;
		rc = lh_ks_sync_user (t, ks, users[i], LH_KS_SYNC, NULL, &c);
		t->reported = was;
		if (rc != LH_EXIT_OK) {
			if (first == LH_EXIT_OK)
				first = rc;
			nfailed++;
			if (strlen (failed) + strlen (users[i]) + 3 < sizeof failed)
				snprintf (failed + strlen (failed),
				          sizeof failed - strlen (failed), "%s%s",
				          *failed ? ", " : "", users[i]);
		}
		if (quiet)
			continue;
		if (t->json) {
			lh_json_object_begin (&j, NULL);
			lh_json_str (&j, "user", users[i]);
			lh_json_bool (&j, "ok", rc == LH_EXIT_OK);
			lh_json_uint (&j, "added", c.added);
			lh_json_uint (&j, "changed", c.changed);
			lh_json_uint (&j, "removed", c.removed);
			lh_json_object_end (&j);
		} else if (rc == LH_EXIT_OK) {
			if (c.added + c.changed + c.removed == 0)
				printf ("%s: up to date\n", users[i]);
			else
				printf ("%s: %u added, %u changed, %u removed\n", users[i],
				        c.added, c.changed, c.removed);
		}
	}
	if (t->json && !quiet) {
		lh_json_array_end (&j);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	}
	if (!quiet && !t->json && n == 0)
		printf ("No local keystores yet ('litehsm keystore init --user "
		        "USER' makes one).\n");
	lh_ks_users_free (users, n);
	if (nfailed && n > 1)
		return lh_error (t, first, "see 'litehsm keystore status', then "
		                 "retry 'litehsm keystore sync' or rebuild with "
		                 "'keystore restore-user'", "could not sync %zu of "
		                 "%zu local keystores (%s)", nfailed, n, failed);
	return first;
}

static int
keystore_sync (lh_tool *t, int argc, char **argv)
{
	ks_args a = { 0 };
	lh_ks ks;
	int rc;

	if ((rc = lh_args_parse (t, &sync_cmd, argc, argv, ks_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if (a.all && a.user)
		return lh_error (t, LH_EXIT_USAGE, "give one of them", "--all and "
		                 "--user exclude each other");
	if ((rc = lh_ks_begin (t, &ks)) == LH_EXIT_OK)
		rc = lh_ks_sync_users (t, &ks, a.user, false);
	lh_ks_done (&ks);
	return rc;
}

/* ---- status --------------------------------------------------------------- */

static const lh_ks_item *
held_copy (const lh_ks_items *held, const lh_ks_item *w)
{
	size_t i;

	for (i = 0; i < held->n; i++)
		if (held->v[i].shared == w->shared &&
		    strcmp (held->v[i].name, w->name) == 0 &&
		    strcmp (held->v[i].id, w->id) == 0)
			return &held->v[i];
	return NULL;
}

static bool
same_usage (const lh_ks_item *a, const lh_ks_item *b)
{
	return a->enc == b->enc && a->dec == b->dec && a->wrap == b->wrap &&
	       a->unwrap == b->unwrap && a->derive == b->derive &&
	       a->dated == b->dated &&
	       (!a->dated || (memcmp (&a->start, &b->start, sizeof a->start) == 0 &&
	                      memcmp (&a->end, &b->end, sizeof a->end) == 0));
}

static bool
in_list (const lh_ks_items *l, const lh_ks_item *it)
{
	return held_copy (l, it) != NULL;
}

static void
status_item (lh_tool *t, lh_json *j, const lh_ks_item *it, const char *state)
{
	if (t->json) {
		lh_json_object_begin (j, NULL);
		lh_json_str (j, "name", it->name);
		lh_json_uint (j, "version", it->version);
		lh_json_str (j, "id", it->id);
		lh_json_bool (j, "shared", it->shared);
		lh_json_str (j, "state", state);
		lh_json_object_end (j);
	} else {
		printf ("  %-24s v%-3u %-7s %s\n", it->name, it->version,
		        it->shared ? "shared" : "own", state);
	}
}

/* One keystore's status; *stale set when something is off. */
static int
status_one (lh_tool *t, lh_ks *ks, lh_json *j, const char *user, bool *stale)
{
	char hb[LH_KS_HINT];
	lh_ks_items want, held;
	char *reason = NULL;
	const char *state;
	lh_secret_ctx c;
	lh_ks_reg r;
	bool found = false, off = false;
	size_t i;
	int rc;

	memset (&want, 0, sizeof want);
	memset (&held, 0, sizeof held);
	memset (&r, 0, sizeof r);
	if ((rc = lh_ks_root_open (t, ks, CKU_USER, &c)) != LH_EXIT_OK ||
	    (rc = lh_ks_reg_get (t, &c, user, &r, &found)) != LH_EXIT_OK)
		goto out;
	if (!found) {
		rc = lh_error (t, LH_EXIT_NOTFOUND, lh_ks_hint (hb, "create it with "
		               "'litehsm keystore init --user %s'", user), "user "
		               "\"%s\" has no local keystore", user);
		goto out;
	}
	if ((rc = lh_ks_desired (t, &c, user, false, &want)) != LH_EXIT_OK)
		goto out;
	lh_secret_close (&c);
	if ((rc = lh_ks_inventory (t, ks, &r, &held, &reason)) != LH_EXIT_OK)
		goto out;
	for (i = 0; !reason && i < want.n; i++) {
		const lh_ks_item *h = held_copy (&held, &want.v[i]);

		off = off || !h || !same_usage (h, &want.v[i]);
	}
	for (i = 0; !reason && i < held.n; i++)
		off = off || (!in_list (&want, &held.v[i]) &&
		              in_list (&r.copied, &held.v[i]));
	state = reason ? (strcmp (reason, "missing") == 0 ? "missing" :
	                  "unusable") : off ? "stale" : "ok";
	*stale = *stale || reason || off;
	if (t->json) {
		lh_json_object_begin (j, NULL);
		lh_json_str (j, "user", user);
		lh_json_str (j, "path", r.path);
		lh_json_str (j, "state", state);
		if (reason && strcmp (reason, "missing") != 0)
			lh_json_str (j, "reason", reason);
		lh_json_array_begin (j, "secrets");
	} else {
		printf ("%s: %s (%s)%s%s\n", user, state, r.path,
		        reason && strcmp (reason, "missing") ? ": " : "",
		        reason && strcmp (reason, "missing") ? reason : "");
	}
	for (i = 0; !reason && i < want.n; i++) {
		const lh_ks_item *h = held_copy (&held, &want.v[i]);

		status_item (t, j, &want.v[i], !h ? "missing" :
		             same_usage (h, &want.v[i]) ? "held" : "stale");
	}
	for (i = 0; !reason && i < held.n; i++)
		if (!in_list (&want, &held.v[i]) && in_list (&r.copied, &held.v[i]))
			status_item (t, j, &held.v[i], "extra");
	if (t->json) {
		lh_json_array_end (j);
		lh_json_object_end (j);
	}
out:
	free (reason);
	lh_ks_items_free (&want);
	lh_ks_items_free (&held);
	lh_ks_reg_free (&r);
	lh_secret_close (&c);
	return rc;
}

static int
keystore_status (lh_tool *t, int argc, char **argv)
{
	ks_args a = { 0 };
	char **users = NULL;
	size_t n = 0, i;
	bool stale = false;
	char serial[17] = "";
	lh_secret_ctx c;
	lh_json j;
	lh_ks ks;
	int rc;

	memset (&ks, 0, sizeof ks);
	if ((rc = lh_args_parse (t, &status_cmd, argc, argv, ks_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if ((rc = lh_ks_begin (t, &ks)) != LH_EXIT_OK)
		goto out;
	if ((rc = lh_ks_root_open (t, &ks, CKU_USER, &c)) == LH_EXIT_OK)
		snprintf (serial, sizeof serial, "%s", c.s.serial);
	lh_secret_close (&c);
	if (rc != LH_EXIT_OK ||
	    (rc = users_of (t, &ks, a.user, &users, &n)) != LH_EXIT_OK)
		goto out;
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_object_begin (&j, "root");
		lh_json_str (&j, "path", ks.root_path);
		lh_json_str (&j, "serial", serial);
		lh_json_object_end (&j);
		lh_json_array_begin (&j, "keystores");
	} else {
		printf ("Root keystore: %s (serial %s)\n", ks.root_path, serial);
	}
	for (i = 0; i < n && rc == LH_EXIT_OK; i++)
		rc = status_one (t, &ks, &j, users[i], &stale);
	if (t->json) {
		lh_json_array_end (&j);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else if (rc == LH_EXIT_OK && n == 0) {
		printf ("No local keystores yet.\n");
	} else if (rc == LH_EXIT_OK && stale) {
		printf ("Run 'litehsm keystore sync' for stale keystores and "
		        "'litehsm keystore restore-user --user USER' for missing "
		        "or unusable ones.\n");
	}
out:
	lh_ks_users_free (users, n);
	lh_ks_done (&ks);
	return rc;
}
