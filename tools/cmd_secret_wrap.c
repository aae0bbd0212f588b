/*
 * cmd_secret_wrap.c - "litehsm secret wrap NAME --with KEY" and
 * "litehsm secret unwrap --with KEY --as NAME": a secret leaves or enters
 * the token only as a blob wrapped under KEY with CKM_AES_KEY_WRAP_PAD
 * (RFC 5649); its plaintext never exists outside the token.
 *
 * The module's policy decides what may be wrapped: the secret must be
 * extractable, and under the strict policy a sensitive one only by a key
 * generated in the token (or marked trusted by the SO) at least as strong.
 *
 * Versions (cmd.h): wrap uses the active version of both NAME and KEY;
 * unwrap tries the active version of KEY first, then the older ones, so a
 * blob wrapped before KEY was rotated still opens.  AES key wrap with
 * padding checks the blob's integrity, so a wrong version fails cleanly
 * and never yields a wrong key.  The unwrapped secret gets the next
 * version id of its name, and with --valid-days the dates that wrapping
 * does not carry.
 */
#include "tools/cmd.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>

enum {
	OPT_WITH = LH_OPT_CMD, OPT_AS, OPT_BASE64, OPT_AES, OPT_FORCE,
	OPT_EXTRACTABLE, OPT_DAYS,
};

#define BLOB_MAX 8192

typedef struct {
	const char *with, *as;
	bool base64, aes, force, extractable;
	long days;              /* -1: not given */
} wrap_args;

static int
wrap_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	wrap_args *a = ctx;
	char *end;

	switch (key) {
	case OPT_WITH: a->with = arg; break;
	case OPT_AS: a->as = arg; break;
	case OPT_BASE64: a->base64 = true; break;
	case OPT_AES: a->aes = true; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_EXTRACTABLE: a->extractable = true; break;
	case OPT_DAYS:
		a->days = strtol (arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end != '\0' || a->days <= 0 ||
		    a->days > 36500)
			return lh_error (t, LH_EXIT_USAGE, "see 'litehsm secret "
			                 "--help'", "the value \"%s\" of --valid-days "
			                 "is not a whole number from 1 to 36500", arg);
		break;
	default: break;
	}
	return LH_CONTINUE;
}

static const lh_opt wrap_opts[] = {
	{ "with", "KEY", OPT_WITH, "the wrapping key (a secret of the token)" },
	{ "base64", NULL, OPT_BASE64, "write base64 text instead of bytes" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd wrap_cmd = {
	.name = "secret wrap",
	.args = "NAME",
	.summary = "Write the secret NAME wrapped under KEY (AES key wrap with\n"
	           "padding, RFC 5649) to stdout: binary, or one line of base64\n"
	           "with --base64.",
	.details = "The active versions of NAME and KEY are used.\n"
	           "NAME must be extractable ('secret generate --extractable').\n"
	           "A sensitive NAME can be wrapped only by a key generated in\n"
	           "the token ('secret generate --wrapping') at least as long.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 1,
	.max_args = 1,
	.opts = wrap_opts,
};

static const lh_opt unwrap_opts[] = {
	{ "with", "KEY", OPT_WITH, "the unwrapping key (a secret of the token)" },
	{ "as", "NAME", OPT_AS, "the name of the new secret" },
	{ "base64", NULL, OPT_BASE64, "stdin holds base64 text" },
	{ "aes", NULL, OPT_AES, "the secret is an AES key (encrypt/decrypt)" },
	{ "extractable", NULL, OPT_EXTRACTABLE,
	  "allow wrapping it again (it stays sensitive)" },
	{ "valid-days", "D", OPT_DAYS, "usable from today for D days" },
	{ "force", NULL, OPT_FORCE, "replace a secret of that name" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd unwrap_cmd = {
	.name = "secret unwrap",
	.summary = "Read a blob made by 'secret wrap' from stdin, unwrap it with\n"
	           "KEY inside the token and store it as the secret NAME: a\n"
	           "private, sensitive object; a generic secret for deriving\n"
	           "keys, or with --aes an AES key for encrypt/decrypt.",
	.details = "The active version of KEY is tried first, then its older\n"
	           "versions, so a blob wrapped before KEY was rotated still\n"
	           "opens.  A blob that was not wrapped under KEY or was changed\n"
	           "is refused.  Wrapping does not carry dates: --valid-days\n"
	           "sets the start date to today and the end date D days later\n"
	           "(UTC).  An existing NAME is refused unless --force, which\n"
	           "stores the new one first and then removes the old versions.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = unwrap_opts,
};

int
lh_secret_wrap (lh_tool *t, int argc, char **argv)
{
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	wrap_args a = { NULL, NULL, false, false, false, false, -1 };
	CK_OBJECT_HANDLE key, w;
	unsigned char *blob = NULL;
	CK_ULONG len = 0;
	lh_secret_ctx c;
	const char *name;
	CK_RV rv;
	int rc;

	memset (&c, 0, sizeof c);
	if ((rc = lh_args_parse (t, &wrap_cmd, argc, argv, wrap_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	name = t->argv[0];
	if (!a.with)
		return lh_error (t, LH_EXIT_USAGE, "see 'litehsm secret wrap --help'",
		                 "'secret wrap' needs --with KEY");
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = lh_secret_find (t, &c, name, &key)) != LH_EXIT_OK ||
	    (rc = lh_secret_find (t, &c, a.with, &w)) != LH_EXIT_OK)
		goto out;
	rv = c.f->C_WrapKey (c.h, &mech, w, key, NULL, &len);
	if (rv == CKR_OK && !(blob = malloc (len ? len : 1)))
		rv = CKR_HOST_MEMORY;
	if (rv == CKR_OK)
		rv = c.f->C_WrapKey (c.h, &mech, w, key, blob, &len);
	if (rv != CKR_OK) {
		CK_BBOOL wwt = CK_FALSE;
		CK_ATTRIBUTE wa = { CKA_WRAP_WITH_TRUSTED, &wwt, sizeof wwt };

		if (rv == CKR_KEY_NOT_WRAPPABLE)
			c.f->C_GetAttributeValue (c.h, key, &wa, 1);
		rc = lh_error_rv (t, rv, rv == CKR_KEY_UNEXTRACTABLE ? "generate it "
		                  "with --extractable to make it wrappable" :
		                  rv == CKR_KEY_NOT_WRAPPABLE && wwt ? "only a key "
		                  "the SO marked trusted may wrap it (in a local "
		                  "keystore: a shared wrapping key such as "
		                  "redis-master-key)" :
		                  rv == CKR_KEY_NOT_WRAPPABLE ? "wrap it with a key "
		                  "generated in the token ('secret generate "
		                  "--wrapping') at least as long" :
		                  rv == CKR_KEY_FUNCTION_NOT_PERMITTED ? "use a key "
		                  "made with 'secret generate --wrapping', within its "
		                  "dates" : NULL, "cannot wrap \"%s\" with \"%s\"",
		                  name, a.with);
		goto out;
	}
	rc = lh_secret_write (t, blob, len, a.base64);
out:
	free (blob);
	lh_secret_close (&c);
	return rc;
}

/* Does rv mean "this key did not wrap that blob" (or it was changed)? */
static bool
wrong_key (CK_RV rv)
{
	return rv == CKR_WRAPPED_KEY_INVALID || rv == CKR_WRAPPED_KEY_LEN_RANGE ||
	       rv == CKR_ENCRYPTED_DATA_INVALID ||
	       rv == CKR_ENCRYPTED_DATA_LEN_RANGE;
}

int
lh_secret_unwrap_blob (lh_tool *t, lh_secret_ctx *c, const char *with_name,
                       const lh_secret_vlist *with, const char *as,
                       const unsigned char *blob, size_t len,
                       CK_ATTRIBUTE *tmpl, CK_ULONG n,
                       CK_OBJECT_HANDLE *out, size_t *used)
{
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_RV rv, other = CKR_OK;
	size_t k, other_k = 0;
	char ver[48] = "";

	*out = CK_INVALID_HANDLE;
	for (k = 0; k < with->n; k++) {
		rv = c->f->C_UnwrapKey (c->h, &mech, with->v[k].h,
		                        (CK_BYTE *)blob, len, tmpl, n, out);
		if (rv == CKR_OK) {
			*used = k;
			return LH_EXIT_OK;
		}
		/* anything but "wrong key" is a real obstacle: remember the
		 * first, it explains the failure better than "not wrapped" */
		if (!wrong_key (rv) && other == CKR_OK) {
			other = rv;
			other_k = k;
		}
	}
	if (other == CKR_OK)
		return lh_error (t, LH_EXIT_FAIL, "check which key it was wrapped "
		                 "under", "the blob on stdin is not a key wrapped "
		                 "under \"%s\", or it is damaged", with_name);
	if (other_k > 0)
		snprintf (ver, sizeof ver, " (version %lu)", with->v[other_k].n);
	return lh_error_rv (t, other, other == CKR_KEY_FUNCTION_NOT_PERMITTED ?
	                    "use a key made with 'secret generate --wrapping'" :
	                    other == CKR_TEMPLATE_INCONSISTENT ? "check the key "
	                    "type (--aes needs a 128, 192 or 256-bit key)" : NULL,
	                    "cannot unwrap into \"%s\" with \"%s\"%s", as,
	                    with_name, ver);
}

static void
unwrap_report (lh_tool *t, const wrap_args *a, const lh_secret_ctx *c,
               const char *id, const lh_secret_version *w, bool older,
               size_t replaced)
{
	char ver[48] = "";
	lh_json j;

	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "name", a->as);
		lh_json_str (&j, "type", a->aes ? "aes" : "generic");
		lh_json_str (&j, "token", c->s.label);
		lh_json_str (&j, "action", "unwrapped");
		lh_json_uint (&j, "version", lh_secret_parse_id (id, strlen (id)));
		lh_json_str (&j, "id", id);
		lh_json_str (&j, "with", a->with);
		lh_json_uint (&j, "with_version", w->n);
		lh_json_bool (&j, "replaced", replaced > 0);
		lh_json_uint (&j, "replaced_versions", replaced);
		lh_json_object_end (&j);
		lh_json_finish (&j);
		return;
	}
	/* say so when an older version of KEY did it: a hint to re-wrap */
	if (older)
		snprintf (ver, sizeof ver, " (version %lu)", w->n);
	printf ("Unwrapped %s secret \"%s\" with \"%s\"%s into token \"%s\"%s\n",
	        a->aes ? "aes" : "generic", a->as, a->with, ver, c->s.label,
	        replaced > 1 ? ", replacing all its old versions" :
	        replaced ? ", replacing the old one" : "");
}

int
lh_secret_unwrap (lh_tool *t, int argc, char **argv)
{
	wrap_args a = { NULL, NULL, false, false, false, false, -1 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE, ext, enc, derive;
	lh_secret_vlist with = { NULL, 0 }, old = { NULL, 0 };
	char id[LH_SECRET_ID_SIZE] = "";
	CK_OBJECT_HANDLE obj;
	CK_DATE start, end;
	unsigned char *blob = NULL;
	size_t len = 0, used = 0, replaced;
	lh_secret_ctx c;
	long today = 0;
	CK_ULONG n;
	int rc;

	memset (&c, 0, sizeof c);
	if ((rc = lh_args_parse (t, &unwrap_cmd, argc, argv, wrap_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if (!a.with || !a.as)
		return lh_error (t, LH_EXIT_USAGE, "see 'litehsm secret unwrap "
		                 "--help'", "'secret unwrap' needs --with KEY and "
		                 "--as NAME");
	if ((rc = lh_secret_check_name (t, a.as)) != LH_EXIT_OK)
		return rc;
	if (a.days != -1 && (rc = lh_secret_today (t, &today)) != LH_EXIT_OK)
		return rc;
	lh_secret_day_date (today, &start);
	lh_secret_day_date (today + (a.days > 0 ? a.days : 0), &end);
	if ((rc = lh_secret_read_stdin (t, BLOB_MAX, a.base64, "wrapped blob",
	                                &blob, &len)) != LH_EXIT_OK)
		return rc;
	kt = a.aes ? CKK_AES : CKK_GENERIC_SECRET;
	ext = a.extractable ? CK_TRUE : CK_FALSE;
	enc = a.aes ? CK_TRUE : CK_FALSE;
	derive = a.aes ? CK_FALSE : CK_TRUE;
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_KEY_TYPE, &kt, sizeof kt },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &yes, sizeof yes },
			{ CKA_SENSITIVE, &yes, sizeof yes },
			{ CKA_EXTRACTABLE, &ext, sizeof ext },
			{ CKA_ENCRYPT, &enc, sizeof enc },
			{ CKA_DECRYPT, &enc, sizeof enc },
			{ CKA_DERIVE, &derive, sizeof derive },
			{ CKA_WRAP, &no, sizeof no },
			{ CKA_UNWRAP, &no, sizeof no },
			{ CKA_SIGN, &no, sizeof no },
			{ CKA_VERIFY, &no, sizeof no },
			{ CKA_LABEL, (void *)a.as, strlen (a.as) },
			{ CKA_ID, id, 0 },
			{ CKA_START_DATE, &start, sizeof start },
			{ CKA_END_DATE, &end, sizeof end },
		};

		n = sizeof tmpl / sizeof tmpl[0];
		if (a.days == -1)
			n -= 2;         /* the dates come last */
		if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
		    (rc = lh_secret_find_versions (t, &c, a.with, &with)) !=
		    LH_EXIT_OK ||
		    (rc = lh_secret_check_new (t, &c, a.as, a.force, &old, id)) !=
		    LH_EXIT_OK)
			goto out;
		/* CKA_ID: its value is known only now */
		tmpl[14].ulValueLen = strlen (id);
		if ((rc = lh_secret_unwrap_blob (t, &c, a.with, &with, a.as, blob,
		                                 len, tmpl, n, &obj, &used)) !=
		    LH_EXIT_OK)
			goto out;
	}
	replaced = old.n;
	if ((rc = lh_secret_replace_done (t, &c, a.as, &old)) != LH_EXIT_OK)
		goto out;
	unwrap_report (t, &a, &c, id, &with.v[used], used > 0, replaced);
	rc = LH_EXIT_OK;
out:
	lh_secret_vlist_free (&with);
	lh_secret_vlist_free (&old);
	lh_secret_free (blob, len);
	lh_secret_close (&c);
	return rc;
}
