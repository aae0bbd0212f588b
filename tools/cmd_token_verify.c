/*
 * cmd_token_verify.c - "litehsm token verify" (the integrity of every
 * object) and "litehsm token rekey" (a new master key).
 *
 * Both work on the token file through store/ (lh_store_verify,
 * lh_store_rekey): PKCS#11 has no call for either.
 *
 * verify: with the user PIN (lh_store_login) every object's checksum, MAC
 * and sealed values are checked; with --no-login only the checksums, which
 * catch accidental damage but not a deliberate change.  Each damaged object
 * is listed by label (or id when its label cannot be read) on stdout, and
 * the command exits 1 if there is any.
 *
 * rekey: both PINs are verified, then every sealed value is re-encrypted
 * under a new master key in one transaction.  Applications logged in to the
 * token are logged out by the change and must log in again.
 */
#include "tools/cmd.h"
#include "tools/json.h"
#include "tools/tokenfile.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_NO_LOGIN = LH_OPT_CMD };

/* ---- verify ------------------------------------------------------------ */

static const lh_opt verify_opts[] = {
	{ "no-login", NULL, OPT_NO_LOGIN, "check checksums only, without the "
	  "user PIN" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd verify_cmd = {
	.name = "token verify",
	.summary = "Check the integrity of every object of a token and list each\n"
	           "damaged one by label.  With the user PIN (--pin-file/--pin-env\n"
	           "or a prompt) the checksum, the MAC and every encrypted value\n"
	           "are checked; with --no-login only the checksums.",
	.details = "Exits 1 when an object is damaged.  Restore a backup ('token\n"
	           "restore') or delete the damaged objects.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = verify_opts,
};

/* A damaged object as lh_store_verify reports it. */
typedef struct {
	lh_oid id;
	char *label;            /* NULL when it could not be read */
} damaged_obj;

typedef struct {
	damaged_obj *v;
	size_t n;
	bool oom;
} damaged_list;

static void
on_damaged (void *ctx, lh_oid id, const char *label, CK_RV why)
{
	damaged_list *l = ctx;
	damaged_obj *grown;

	grown = realloc (l->v, (l->n + 1) * sizeof *grown);
	if (!grown) {
		l->oom = true;
		return;
	}
	l->v = grown;
	l->v[l->n].id = id;
	l->v[l->n].label = label ? strdup (label) : NULL;
	l->n++;
}

static void
verify_print (lh_tool *t, const lh_p11_slot *s, bool full, size_t checked,
              const damaged_list *l)
{
	lh_json j;
	size_t i;

	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "label", s->label);
		lh_json_str (&j, "serial", s->serial);
		lh_json_str (&j, "checks", full ? "full" : "checksums");
		lh_json_uint (&j, "checked", checked);
		lh_json_array_begin (&j, "damaged");
		for (i = 0; i < l->n; i++) {
			lh_json_object_begin (&j, NULL);
			lh_json_uint (&j, "id", l->v[i].id);
			lh_json_str (&j, "label", l->v[i].label);
			lh_json_object_end (&j);
		}
		lh_json_array_end (&j);
		lh_json_object_end (&j);
		lh_json_finish (&j);
		return;
	}
	printf ("Token \"%s\" (serial %s): %zu object%s checked (%s), %zu "
	        "damaged\n", s->label, s->serial, checked, checked == 1 ? "" : "s",
	        full ? "checksums, MACs and encrypted values" :
	        "checksums only", l->n);
	for (i = 0; i < l->n; i++) {
		if (l->v[i].label)
			printf ("  damaged: \"%s\" (object %llu)\n", l->v[i].label,
			        (unsigned long long)l->v[i].id);
		else
			printf ("  damaged: object %llu (label unreadable)\n",
			        (unsigned long long)l->v[i].id);
	}
}

static int
no_login_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	*(bool *)ctx = true;
	return LH_CONTINUE;
}

int
lh_token_verify (lh_tool *t, int argc, char **argv)
{
	damaged_list dl = { NULL, 0, false };
	size_t checked = 0, damaged = 0, i;
	bool no_login = false;
	lh_token_file tf;
	lh_store *st = NULL;
	lh_p11_slot s;
	lh_pin pin;
	lh_p11 p;
	CK_RV rv;
	int rc;

	memset (&p, 0, sizeof p);
	memset (&tf, 0, sizeof tf);
	lh_pin_clear (&pin);
	if ((rc = lh_args_parse (t, &verify_cmd, argc, argv, no_login_opt,
	                         &no_login)) != LH_CONTINUE)
		return rc;
	if (no_login && (t->given & LH_G_PIN))
		return lh_error (t, LH_EXIT_USAGE, "drop one of them", "--no-login "
		                 "and a user PIN source were both given");
	if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK ||
	    (rc = lh_p11_find_token (t, &p, &s)) != LH_EXIT_OK ||
	    (rc = lh_token_file_find (t, &p, &s, true, &tf)) != LH_EXIT_OK ||
	    (rc = lh_token_file_open (t, &tf, s.serial, &st)) != LH_EXIT_OK)
		goto out;
	if (!no_login) {
		if ((rc = lh_p11_read_pin (t, &p, &s, CKU_USER, LH_PIN_USER, &pin)) !=
		    LH_EXIT_OK)
			goto out;
		rv = lh_store_login (st, CKU_USER, (const uint8_t *)pin.v, pin.len);
		lh_pin_clear (&pin);
		if (rv != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot log in to token \"%s\" as "
			                  "user", s.label);
			goto out;
		}
	}
	rv = lh_store_verify (st, on_damaged, &dl, &checked, &damaged);
	if (rv == CKR_OK && dl.oom)
		rv = CKR_HOST_MEMORY;
	if (rv != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "cannot verify token \"%s\"", s.label);
		goto out;
	}
	verify_print (t, &s, !no_login, checked, &dl);
	if (damaged > 0)
		rc = lh_error (t, LH_EXIT_FAIL, "restore a backup with 'litehsm token "
		               "restore', or delete the damaged objects", "%zu of %zu "
		               "objects of token \"%s\" are damaged", damaged, checked,
		               s.label);
	else
		rc = LH_EXIT_OK;
out:
	for (i = 0; i < dl.n; i++)
		free (dl.v[i].label);
	free (dl.v);
	lh_pin_clear (&pin);
	lh_store_close (st);
	lh_token_file_free (&tf);
	lh_p11_close (&p);
	return rc;
}

/* ---- rekey ------------------------------------------------------------------- */

static const lh_cmd rekey_cmd = {
	.name = "token rekey",
	.summary = "Give a token a new master key: every encrypted value is\n"
	           "re-encrypted and every MAC recomputed in one transaction.\n"
	           "Needs both PINs: the SO PIN (--so-pin-file/--so-pin-env) and\n"
	           "the user PIN (--pin-file/--pin-env), or prompts.",
	.details = "A damaged object stops the rekey and nothing changes: run\n"
	           "'token verify' first.  Applications logged in to the token\n"
	           "are logged out by the change and must log in again.\n",
	.globals = LH_G_TOKEN | LH_G_PIN | LH_G_SOPIN,
	.min_args = 0,
	.max_args = 0,
};

/*
 * Log in with each PIN through the module first, so that a wrong one is
 * reported as such (which PIN, tries left) before the rekey starts.
 */
static int
check_pins (lh_tool *t, lh_p11 *p, const lh_p11_slot *s, const lh_pin *so,
            const lh_pin *user)
{
	CK_SESSION_HANDLE h;
	int rc;

	/* read-write: the SO cannot log in while a read-only session exists */
	if ((rc = lh_p11_session (t, p, s, true, &h)) != LH_EXIT_OK)
		return rc;
	if ((rc = lh_p11_login_pin (t, p, h, s, CKU_SO, so)) == LH_EXIT_OK) {
		p->f->C_Logout (h);
		if ((rc = lh_p11_login_pin (t, p, h, s, CKU_USER, user)) ==
		    LH_EXIT_OK)
			p->f->C_Logout (h);
	}
	p->f->C_CloseSession (h);
	return rc;
}

int
lh_token_rekey (lh_tool *t, int argc, char **argv)
{
	lh_pin so, user;
	lh_token_file tf;
	lh_store *st = NULL;
	lh_p11_slot s;
	lh_json j;
	lh_p11 p;
	CK_RV rv;
	int rc;

	memset (&p, 0, sizeof p);
	memset (&tf, 0, sizeof tf);
	lh_pin_clear (&so);
	lh_pin_clear (&user);
	if ((rc = lh_args_parse (t, &rekey_cmd, argc, argv, NULL, NULL)) !=
	    LH_CONTINUE)
		return rc;
	if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK ||
	    (rc = lh_p11_find_token (t, &p, &s)) != LH_EXIT_OK ||
	    (rc = lh_token_file_find (t, &p, &s, true, &tf)) != LH_EXIT_OK ||
	    (rc = lh_token_file_open (t, &tf, s.serial, &st)) != LH_EXIT_OK ||
	    (rc = lh_p11_read_pin (t, &p, &s, CKU_SO, LH_PIN_SO, &so)) !=
	    LH_EXIT_OK ||
	    (rc = lh_p11_read_pin (t, &p, &s, CKU_USER, LH_PIN_USER, &user)) !=
	    LH_EXIT_OK ||
	    (rc = check_pins (t, &p, &s, &so, &user)) != LH_EXIT_OK)
		goto out;
	rv = lh_store_rekey (st, (const uint8_t *)so.v, so.len,
	                     (const uint8_t *)user.v, user.len);
	lh_pin_clear (&so);
	lh_pin_clear (&user);
	if (rv != CKR_OK) {
		rc = lh_error_rv (t, rv, rv == CKR_DEVICE_ERROR ? "nothing was "
		                  "changed: run 'litehsm token verify' to find "
		                  "damaged objects" : NULL, "cannot rekey token "
		                  "\"%s\"", s.label);
		goto out;
	}
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "label", s.label);
		lh_json_str (&j, "serial", s.serial);
		lh_json_str (&j, "action", "rekeyed");
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("Rekeyed token \"%s\" (serial %s): every object is now "
		        "under a new master key\n", s.label, s.serial);
	}
	rc = LH_EXIT_OK;
out:
	lh_pin_clear (&so);
	lh_pin_clear (&user);
	lh_store_close (st);
	lh_token_file_free (&tf);
	lh_p11_close (&p);
	return rc;
}
