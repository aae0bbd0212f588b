/*
 * cmd_token_init.c - "litehsm token init --label L": create a token on the
 * free slot.
 *
 * Sequence: find the free slot (the present token without
 * CKF_TOKEN_INITIALIZED); refuse a label that an initialized token already
 * has (unless --force: PKCS#11 allows duplicates, but then --token cannot
 * tell them apart); read both new PINs and check their lengths *before*
 * anything changes; then lh_p11_init_token (C_InitToken, SO login,
 * C_InitPIN).
 */
#include "tools/cmd.h"
#include "tools/json.h"
#include "tools/p11.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_LABEL = LH_OPT_CMD, OPT_FORCE };

static const lh_opt init_opts[] = {
	{ "label", "LABEL", OPT_LABEL, "the new token's label (1 to 32 bytes)" },
	{ "force", NULL, OPT_FORCE, "allow a label another token already has" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd init_cmd = {
	.name = "token init",
	.summary = "Create a token labelled LABEL on the module's free slot.  The\n"
	           "new SO PIN comes from --so-pin-file/--so-pin-env and the new\n"
	           "user PIN from --pin-file/--pin-env, or each from a prompt\n"
	           "that asks twice.  Prints the new token's label, serial and\n"
	           "slot.",
	.details = "A label that an existing token already has is refused unless\n"
	           "--force is given.  Nothing is created when a PIN cannot be\n"
	           "read or is too short or too long.\n",
	.globals = LH_G_PIN | LH_G_SOPIN,
	.min_args = 0,
	.max_args = 0,
	.opts = init_opts,
};

typedef struct {
	const char *label;
	bool force;
} init_args;

static int
init_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	init_args *a = ctx;

	if (key == OPT_LABEL)
		a->label = arg;
	else
		a->force = true;
	return LH_CONTINUE;
}

/* Refuse a label an initialized token has already (unless forced). */
static int
check_label (lh_tool *t, lh_p11 *p, const init_args *a)
{
	lh_p11_slot *slots = NULL;
	size_t n, i;
	int rc;

	if ((rc = lh_p11_slots (t, p, &slots, &n)) != LH_EXIT_OK)
		return rc;
	for (i = 0; i < n && !a->force; i++) {
		if (slots[i].initialized && strcmp (slots[i].label, a->label) == 0) {
			rc = lh_error (t, LH_EXIT_FAIL, "choose another label, or add "
			               "--force to create a second token with it",
			               "a token labelled \"%s\" exists already "
			               "(serial %s, slot %lu)", a->label,
			               slots[i].serial, (unsigned long)slots[i].id);
			break;
		}
	}
	free (slots);
	return rc;
}

static void
print_result (lh_tool *t, const lh_p11_slot *s)
{
	lh_json j;
	char *uri;

	uri = lh_uri_for_token (&s->token);
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "label", s->label);
		lh_json_str (&j, "serial", s->serial);
		lh_json_uint (&j, "slot_id", s->id);
		lh_json_str (&j, "slot_description", s->description);
		lh_json_str (&j, "uri", uri);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("Created token \"%s\"\n  serial: %s\n  slot:   %lu (%s)\n"
		        "  URI:    %s\n", s->label, s->serial, (unsigned long)s->id,
		        s->description, uri ? uri : "?");
	}
	free (uri);
}

int
lh_token_init (lh_tool *t, int argc, char **argv)
{
	init_args a = { NULL, false };
	lh_pin so, user;
	lh_p11_slot s;
	lh_p11 p;
	char what[96];
	int rc;

	memset (&p, 0, sizeof p);
	lh_pin_clear (&so);
	lh_pin_clear (&user);
	if ((rc = lh_args_parse (t, &init_cmd, argc, argv, init_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if (!a.label)
		return lh_error (t, LH_EXIT_USAGE, "see 'litehsm token init --help'",
		                 "'token init' needs --label LABEL");
	if (a.label[0] == '\0' || strlen (a.label) > 32)
		return lh_error (t, LH_EXIT_USAGE, "choose a label of 1 to 32 bytes",
		                 "the label \"%s\" is %s", a.label,
		                 a.label[0] ? "longer than 32 bytes" : "empty");
	if (!lh_utf8_printable (a.label, strlen (a.label)))
		return lh_error (t, LH_EXIT_USAGE, "use printable UTF-8 text",
		                 "the label \"%s\" is not valid UTF-8 or holds "
		                 "control characters", a.label);
	if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK ||
	    (rc = check_label (t, &p, &a)) != LH_EXIT_OK ||
	    (rc = lh_p11_free_slot (t, &p, &s)) != LH_EXIT_OK)
		goto out;
	/* Both PINs first: nothing changes if one of them cannot be had. */
	snprintf (what, sizeof what, "new SO PIN for token \"%s\"", a.label);
	if ((rc = lh_pin_read (t, LH_PIN_SO, what, true, &so)) != LH_EXIT_OK ||
	    (rc = lh_p11_check_new_pin (t, &s, &so, "SO PIN")) != LH_EXIT_OK)
		goto out;
	snprintf (what, sizeof what, "new user PIN for token \"%s\"", a.label);
	if ((rc = lh_pin_read (t, LH_PIN_USER, what, true, &user)) != LH_EXIT_OK ||
	    (rc = lh_p11_check_new_pin (t, &s, &user, "user PIN")) != LH_EXIT_OK)
		goto out;
	if ((rc = lh_p11_init_token (t, &p, &s, a.label, &so, &user)) != LH_EXIT_OK)
		goto out;
	lh_pin_clear (&so);
	lh_pin_clear (&user);
	print_result (t, &s);
	rc = LH_EXIT_OK;
out:
	lh_pin_clear (&so);
	lh_pin_clear (&user);
	lh_p11_close (&p);
	return rc;
}
