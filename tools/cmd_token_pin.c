/*
 * cmd_token_pin.c - the PIN subcommands: "token set-pin [--so]" (C_SetPIN),
 * "token init-pin" (the SO sets a missing user PIN, C_InitPIN) and
 * "token unlock" (the SO resets a locked user PIN, C_InitPIN).
 *
 * PIN roles: the PIN being replaced comes from --pin-* (user) or
 * --so-pin-* (SO); the PIN being set from --new-pin-* -- for init-pin and
 * unlock also from --pin-*, since there the user PIN is only ever the new
 * one -- or from a prompt that asks twice.  Each command checks the token's
 * state before it asks for any PIN, so "the PIN is locked" or "there is no
 * user PIN" is said at once, and nothing changes unless every PIN could be
 * read and the new one is within the token's length limits.
 */
#include "tools/cmd.h"
#include "tools/json.h"
#include "tools/p11.h"

#include <string.h>

enum { OPT_SO = LH_OPT_CMD, OPT_FORCE };

static void
print_done (lh_tool *t, const lh_p11_slot *s, const char *action,
            const char *human)
{
	lh_json j;

	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "label", s->label);
		lh_json_str (&j, "serial", s->serial);
		lh_json_str (&j, "action", action);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("%s of token \"%s\" (serial %s)\n", human, s->label,
		        s->serial);
	}
}

/* ---- set-pin ----------------------------------------------------------- */

static const lh_opt set_pin_opts[] = {
	{ "so", NULL, OPT_SO, "change the SO PIN instead of the user PIN" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd set_pin_cmd = {
	.name = "token set-pin",
	.summary = "Change the user PIN of a token, or the SO PIN with --so.  The\n"
	           "current PIN comes from --pin-file/--pin-env (--so-pin-file/\n"
	           "--so-pin-env with --so), the new one from --new-pin-file/\n"
	           "--new-pin-env, or each from a prompt (the new one twice).",
	.details = "Changing a PIN rewraps the token's master key; no object is\n"
	           "re-encrypted.  A wrong current PIN counts as a failed login.\n",
	.globals = LH_G_TOKEN | LH_G_PIN | LH_G_SOPIN | LH_G_NEWPIN,
	.min_args = 0,
	.max_args = 0,
	.opts = set_pin_opts,
};

static int
flag_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	*(bool *)ctx = true;
	return LH_CONTINUE;
}

int
lh_token_set_pin (lh_tool *t, int argc, char **argv)
{
	CK_SESSION_HANDLE h;
	CK_USER_TYPE who;
	lh_pin old, new;
	lh_p11_slot s;
	lh_p11 p;
	char what[96];
	bool so = false;
	CK_RV rv;
	int rc;

	memset (&p, 0, sizeof p);
	lh_pin_clear (&old);
	lh_pin_clear (&new);
	if ((rc = lh_args_parse (t, &set_pin_cmd, argc, argv, flag_opt, &so)) !=
	    LH_CONTINUE)
		return rc;
	who = so ? CKU_SO : CKU_USER;
	if (lh_pin_given (t, so ? LH_PIN_USER : LH_PIN_SO))
		return lh_error (t, LH_EXIT_USAGE, so ? "give the current SO PIN "
		                 "with --so-pin-file or --so-pin-env" : "add --so to "
		                 "change the SO PIN", "a %s PIN source was given to "
		                 "change the %s PIN", so ? "user" : "SO",
		                 so ? "SO" : "user");
	if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK ||
	    (rc = lh_p11_find_token (t, &p, &s)) != LH_EXIT_OK ||
	    (rc = lh_p11_session (t, &p, &s, true, &h)) != LH_EXIT_OK)
		goto out;
	/*
	 * Log in with the current PIN first: for the SO, C_SetPIN acts on the
	 * logged-in user; for both, a wrong PIN is reported with the tries
	 * left.  C_SetPIN then checks the same PIN again.
	 */
	if ((rc = lh_p11_read_pin (t, &p, &s, who, so ? LH_PIN_SO : LH_PIN_USER,
	                           &old)) != LH_EXIT_OK ||
	    (rc = lh_p11_login_pin (t, &p, h, &s, who, &old)) != LH_EXIT_OK)
		goto out;
	snprintf (what, sizeof what, "new %s PIN for token \"%s\"",
	          lh_p11_who (who), s.label);
	if ((rc = lh_pin_read (t, LH_PIN_NEW, what, true, &new)) != LH_EXIT_OK ||
	    (rc = lh_p11_check_new_pin (t, &s, &new, "new PIN")) != LH_EXIT_OK)
		goto out;
	rv = p.f->C_SetPIN (h, (CK_UTF8CHAR_PTR)old.v, old.len,
	                    (CK_UTF8CHAR_PTR)new.v, new.len);
	lh_pin_clear (&old);
	lh_pin_clear (&new);
	if (rv != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "cannot change the %s PIN of token "
		                  "\"%s\"", lh_p11_who (who), s.label);
		goto out;
	}
	print_done (t, &s, so ? "so-pin-changed" : "user-pin-changed",
	            so ? "Changed the SO PIN" : "Changed the user PIN");
	rc = LH_EXIT_OK;
out:
	lh_pin_clear (&old);
	lh_pin_clear (&new);
	lh_p11_close (&p);
	return rc;
}

/* ---- init-pin and unlock ----------------------------------------------------- */

static const lh_cmd init_pin_cmd = {
	.name = "token init-pin",
	.summary = "The SO sets the user PIN of a token that has none (C_InitPIN).\n"
	           "The SO PIN comes from --so-pin-file/--so-pin-env, the new user\n"
	           "PIN from --new-pin-file/--new-pin-env or --pin-file/--pin-env,\n"
	           "or each from a prompt (the new one twice).",
	.details = "A token that has a user PIN already is refused: change it with\n"
	           "'token set-pin', or reset a locked one with 'token unlock'.\n",
	.globals = LH_G_TOKEN | LH_G_PIN | LH_G_SOPIN | LH_G_NEWPIN,
	.min_args = 0,
	.max_args = 0,
};

static const lh_opt unlock_opts[] = {
	{ "force", NULL, OPT_FORCE, "reset the user PIN even if it is not "
	  "locked" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd unlock_cmd = {
	.name = "token unlock",
	.summary = "The SO resets a locked user PIN to a new one (C_InitPIN), which\n"
	           "also clears the failure count.  The SO PIN comes from\n"
	           "--so-pin-file/--so-pin-env, the new user PIN from\n"
	           "--new-pin-file/--new-pin-env or --pin-file/--pin-env, or each\n"
	           "from a prompt (the new one twice).",
	.details = "A user PIN that is not locked is left alone unless --force is\n"
	           "given (the user can change it with 'token set-pin').  A locked\n"
	           "SO PIN cannot be reset.\n",
	.globals = LH_G_TOKEN | LH_G_PIN | LH_G_SOPIN | LH_G_NEWPIN,
	.min_args = 0,
	.max_args = 0,
	.opts = unlock_opts,
};

/* Is the token in the state the command needs?  Checked before any PIN. */
static int
check_state (lh_tool *t, const lh_p11_slot *s, bool unlock, bool force)
{
	CK_FLAGS f = s->token.flags;
	char hint[160];

	if (!unlock && (f & CKF_USER_PIN_INITIALIZED)) {
		snprintf (hint, sizeof hint, "change it with 'litehsm token set-pin "
		          "--token %s', or reset a locked one with 'litehsm token "
		          "unlock'", s->label);
		return lh_error (t, LH_EXIT_FAIL, hint, "token \"%s\" has a user PIN "
		                 "already", s->label);
	}
	if (unlock && !(f & CKF_USER_PIN_INITIALIZED)) {
		snprintf (hint, sizeof hint, "set one with 'litehsm token init-pin "
		          "--token %s'", s->label);
		return lh_error (t, LH_EXIT_FAIL, hint, "token \"%s\" has no user "
		                 "PIN to unlock", s->label);
	}
	if (unlock && !force && !(f & CKF_USER_PIN_LOCKED))
		return lh_error (t, LH_EXIT_FAIL, "the user can change it with "
		                 "'litehsm token set-pin', or add --force to reset it "
		                 "anyway", "the user PIN of token \"%s\" is not "
		                 "locked (%s)", s->label,
		                 lh_p11_pin_state (&s->token, false));
	return LH_EXIT_OK;
}

/* Shared by init-pin and unlock: SO login, new user PIN, C_InitPIN. */
static int
so_init_pin (lh_tool *t, const lh_cmd *cmd, int argc, char **argv,
             bool unlock)
{
	CK_SESSION_HANDLE h;
	bool force = false;
	lh_pin_role role;
	lh_p11_slot s;
	lh_pin new;
	lh_p11 p;
	char what[96];
	CK_RV rv;
	int rc;

	memset (&p, 0, sizeof p);
	lh_pin_clear (&new);
	if ((rc = lh_args_parse (t, cmd, argc, argv, flag_opt, &force)) !=
	    LH_CONTINUE)
		return rc;
	if (lh_pin_given (t, LH_PIN_USER) && lh_pin_given (t, LH_PIN_NEW))
		return lh_error (t, LH_EXIT_USAGE, "give one of them", "both --pin-* "
		                 "and --new-pin-* name the new user PIN");
	role = lh_pin_given (t, LH_PIN_USER) ? LH_PIN_USER : LH_PIN_NEW;
	if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK ||
	    (rc = lh_p11_find_token (t, &p, &s)) != LH_EXIT_OK ||
	    (rc = check_state (t, &s, unlock, force)) != LH_EXIT_OK ||
	    (rc = lh_p11_session (t, &p, &s, true, &h)) != LH_EXIT_OK ||
	    (rc = lh_p11_login (t, &p, h, &s, CKU_SO, LH_PIN_SO)) != LH_EXIT_OK)
		goto out;
	snprintf (what, sizeof what, "new user PIN for token \"%s\"", s.label);
	if ((rc = lh_pin_read (t, role, what, true, &new)) != LH_EXIT_OK ||
	    (rc = lh_p11_check_new_pin (t, &s, &new, "new user PIN")) !=
	    LH_EXIT_OK)
		goto out;
	rv = p.f->C_InitPIN (h, (CK_UTF8CHAR_PTR)new.v, new.len);
	lh_pin_clear (&new);
	p.f->C_Logout (h);
	if (rv != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "cannot set the user PIN of token "
		                  "\"%s\"", s.label);
		goto out;
	}
	print_done (t, &s, unlock ? "user-pin-reset" : "user-pin-set",
	            unlock ? "Reset the user PIN" : "Set the user PIN");
	rc = LH_EXIT_OK;
out:
	lh_pin_clear (&new);
	lh_p11_close (&p);
	return rc;
}

int
lh_token_init_pin (lh_tool *t, int argc, char **argv)
{
	return so_init_pin (t, &init_pin_cmd, argc, argv, false);
}

int
lh_token_unlock (lh_tool *t, int argc, char **argv)
{
	return so_init_pin (t, &unlock_cmd, argc, argv, true);
}
