/*
 * cmd_secret_set.c - "litehsm secret set NAME" (a value from stdin) and
 * "litehsm secret generate NAME --bits N" (a key made inside the token).
 *
 * Both check everything they can (name, size, the existing name) before
 * anything is created.  The new object gets the next version id of its
 * name (cmd.h; v1 for a new name).  With --force an existing secret is
 * replaced: the new object is created first and every old version
 * destroyed afterwards, so a failure never leaves the name without a
 * value.
 */
#include "tools/keystore.h"
#include "tools/json.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_BASE64 = LH_OPT_CMD, OPT_BITS, OPT_FORCE, OPT_EXTRACTABLE,
	OPT_AES, OPT_DAYS, OPT_WRAPPING,
};

#define SET_MAX 512     /* bytes: CKK_GENERIC_SECRET up to 4096 bits */

static const lh_opt set_opts[] = {
	{ "base64", NULL, OPT_BASE64, "stdin holds base64 text, not raw bytes" },
	{ "bits", "N", OPT_BITS, "the value must be exactly N bits" },
	{ "force", NULL, OPT_FORCE, "replace a secret of that name" },
	{ "extractable", NULL, OPT_EXTRACTABLE,
	  "allow wrapping it (it stays sensitive)" },
	LH_KS_OPTS,
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd set_cmd = {
	.name = "secret set",
	.args = "NAME",
	.summary = "Store the value read from stdin (never from the command\n"
	           "line) as a generic secret named NAME: a private, sensitive\n"
	           "token object usable only to derive keys (HKDF).",
	.details = "With --user USER or --shared it goes into the root keystore\n"
	           "and is copied to the local keystores (see 'litehsm keystore';\n"
	           "the names redis-master-key, token-key and ssear have fixed\n"
	           "types and sizes).  Creating USER's keystore needs the root\n"
	           "keystore's SO PIN.\n"
	           "Empty stdin, bad base64 or a size other than --bits is\n"
	           "refused.  An existing NAME is refused unless --force, which\n"
	           "stores the new value first and then removes the old one.\n",
	.globals = LH_G_TOKEN | LH_G_PIN | LH_G_SOPIN,
	.min_args = 1,
	.max_args = 1,
	.opts = set_opts,
};

static const lh_opt gen_opts[] = {
	{ "bits", "N", OPT_BITS, "the key size (AES: 128, 192 or 256)" },
	{ "aes", NULL, OPT_AES, "an AES key for encrypt/decrypt" },
	{ "wrapping", NULL, OPT_WRAPPING,
	  "an AES key that wraps, unwraps and derives only" },
	{ "valid-days", "D", OPT_DAYS, "usable from today for D days" },
	{ "extractable", NULL, OPT_EXTRACTABLE,
	  "allow wrapping it (it stays sensitive)" },
	{ "force", NULL, OPT_FORCE, "replace a secret of that name" },
	LH_KS_OPTS,
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd gen_cmd = {
	.name = "secret generate",
	.args = "NAME",
	.summary = "Make a key named NAME inside the token (its value never\n"
	           "leaves it): a generic secret for deriving keys, an AES key\n"
	           "with --aes, or a wrapping key with --wrapping.",
	.details = "With --user USER or --shared it is made in the root keystore\n"
	           "and copied to the local keystores (see 'secret set --help').\n"
	           "The key is private and sensitive.  --extractable lets it be\n"
	           "wrapped ('secret wrap'); under the strict policy only a key\n"
	           "generated in the token can wrap it.  --valid-days sets its\n"
	           "start date to today and its end date D days later (UTC).\n"
	           "'secret rotate NAME' later makes its next version.\n",
	.globals = LH_G_TOKEN | LH_G_PIN | LH_G_SOPIN,
	.min_args = 1,
	.max_args = 1,
	.opts = gen_opts,
};

typedef struct {
	bool base64, force, extractable, aes, wrapping;
	long bits;              /* -1: not given */
	long days;              /* -1: not given */
	lh_ks_target to;        /* --user, --shared: the keystores */
} set_args;

static int
parse_num (lh_tool *t, const char *opt, const char *arg, long max, long *out)
{
	char *end;
	long v;

	v = strtol (arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v <= 0 || v > max)
		return lh_error (t, LH_EXIT_USAGE, "see 'litehsm secret --help'",
		                 "the value \"%s\" of --%s is not a whole number "
		                 "from 1 to %ld", arg, opt, max);
	*out = v;
	return LH_CONTINUE;
}

static int
set_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	set_args *a = ctx;

	switch (key) {
	case OPT_BASE64: a->base64 = true; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_EXTRACTABLE: a->extractable = true; break;
	case OPT_AES: a->aes = true; break;
	case OPT_WRAPPING: a->wrapping = true; break;
	case OPT_BITS: return parse_num (t, "bits", arg, 65536, &a->bits);
	case OPT_DAYS: return parse_num (t, "valid-days", arg, 36500, &a->days);
	default: return lh_ks_target_opt (t, &a->to, key, arg);
	}
	return LH_CONTINUE;
}

static void
print_done (lh_tool *t, const char *verb, const char *name, const char *type,
            unsigned long bits, const lh_secret_ctx *c, const char *id,
            size_t replaced)
{
	lh_json j;

	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "name", name);
		lh_json_str (&j, "type", type);
		lh_json_uint (&j, "bits", bits);
		lh_json_str (&j, "token", c->s.label);
		lh_json_str (&j, "action", verb);
		lh_json_uint (&j, "version", lh_secret_parse_id (id, strlen (id)));
		lh_json_str (&j, "id", id);
		lh_json_bool (&j, "replaced", replaced > 0);
		lh_json_uint (&j, "replaced_versions", replaced);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("%s %s secret \"%s\" (%lu bits) in token \"%s\"%s\n", verb,
		        type, name, bits, c->s.label, replaced > 1 ? ", replacing "
		        "all its old versions" : replaced ? ", replacing the old one" :
		        "");
	}
}

int
lh_secret_set (lh_tool *t, int argc, char **argv)
{
	set_args a = { .bits = -1, .days = -1 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE, ext;
	lh_secret_vlist old = { NULL, 0 };
	char id[LH_SECRET_ID_SIZE] = "";
	CK_OBJECT_HANDLE obj;
	unsigned char *val = NULL;
	lh_secret_ctx c;
	const char *name;
	size_t len = 0, replaced;
	CK_RV rv;
	int rc;

	memset (&c, 0, sizeof c);
	if ((rc = lh_args_parse (t, &set_cmd, argc, argv, set_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	name = t->argv[0];
	if ((rc = lh_secret_check_name (t, name)) != LH_EXIT_OK ||
	    (rc = lh_ks_decide (t, &a.to, false)) != LH_CONTINUE)
		return rc;
	if (a.bits != -1 && a.bits % 8 != 0)
		return lh_error (t, LH_EXIT_USAGE, "give a multiple of 8",
		                 "--bits %ld is not a whole number of bytes", a.bits);
	if ((rc = lh_secret_read_stdin (t, SET_MAX, a.base64, "value", &val,
	                                &len)) != LH_EXIT_OK)
		return rc;
	if (a.bits != -1 && (long)len * 8 != a.bits) {
		rc = lh_error (t, LH_EXIT_USAGE, "give a value of exactly that size "
		               "(raw bytes, or base64 text with --base64)", "the "
		               "value on stdin is %zu bits, not the %ld of --bits",
		               len * 8, a.bits);
		goto out;
	}
	if (lh_ks_mode (&a.to)) {
		lh_ks_make m = { a.bits, -1, a.force, false, false };

		rc = a.extractable ?
		     lh_error (t, LH_EXIT_USAGE, "leave it out", "--extractable is "
		               "for a single token; keystore secrets leave only "
		               "wrapped for a local keystore") :
		     lh_ks_secret_make (t, name, &a.to, &m, val, len);
		goto out;
	}
	ext = a.extractable ? CK_TRUE : CK_FALSE;
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_KEY_TYPE, &kt, sizeof kt },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &yes, sizeof yes },
			{ CKA_SENSITIVE, &yes, sizeof yes },
			{ CKA_EXTRACTABLE, &ext, sizeof ext },
			{ CKA_DERIVE, &yes, sizeof yes },
			{ CKA_ENCRYPT, &no, sizeof no },
			{ CKA_DECRYPT, &no, sizeof no },
			{ CKA_SIGN, &no, sizeof no },
			{ CKA_VERIFY, &no, sizeof no },
			{ CKA_WRAP, &no, sizeof no },
			{ CKA_UNWRAP, &no, sizeof no },
			{ CKA_LABEL, (void *)name, strlen (name) },
			{ CKA_ID, id, 0 },
			{ CKA_VALUE, val, len },
		};

		if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
		    (rc = lh_secret_check_new (t, &c, name, a.force, &old, id)) !=
		    LH_EXIT_OK)
			goto out;
		/* CKA_ID: its value is known only now */
		tmpl[14].ulValueLen = strlen (id);
		rv = c.f->C_CreateObject (c.h, tmpl, sizeof tmpl / sizeof tmpl[0],
		                          &obj);
		lh_secret_free (val, len);
		val = NULL;
		if (rv != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot store secret \"%s\"",
			                  name);
			goto out;
		}
	}
	replaced = old.n;
	if ((rc = lh_secret_replace_done (t, &c, name, &old)) != LH_EXIT_OK)
		goto out;
	print_done (t, "Stored", name, "generic", (unsigned long)len * 8, &c, id,
	            replaced);
	rc = LH_EXIT_OK;
out:
	lh_secret_vlist_free (&old);
	lh_secret_free (val, len);
	lh_secret_close (&c);
	return rc;
}

int
lh_secret_generate (lh_tool *t, int argc, char **argv)
{
	set_args a = { .bits = -1, .days = -1 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE, ext, enc, wrap, derive;
	CK_MECHANISM mech = { CKM_GENERIC_SECRET_KEY_GEN, NULL, 0 };
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	lh_secret_vlist old = { NULL, 0 };
	char id[LH_SECRET_ID_SIZE] = "";
	CK_OBJECT_HANDLE obj;
	CK_ULONG vlen;
	CK_DATE start, end;
	lh_secret_ctx c;
	const char *name, *type;
	size_t replaced;
	long today = 0;
	CK_ULONG n;
	CK_RV rv;
	int rc;

	memset (&c, 0, sizeof c);
	if ((rc = lh_args_parse (t, &gen_cmd, argc, argv, set_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	name = t->argv[0];
	if ((rc = lh_secret_check_name (t, name)) != LH_EXIT_OK ||
	    (rc = lh_ks_decide (t, &a.to, false)) != LH_CONTINUE)
		return rc;
	if (lh_ks_mode (&a.to)) {
		lh_ks_make m = { a.bits, a.days, a.force, a.aes, a.wrapping };

		if (a.extractable)
			return lh_error (t, LH_EXIT_USAGE, "leave it out", "--extractable "
			                 "is for a single token; keystore secrets leave "
			                 "only wrapped for a local keystore");
		return lh_ks_secret_make (t, name, &a.to, &m, NULL, 0);
	}
	if (a.bits == -1)
		return lh_error (t, LH_EXIT_USAGE, "see 'litehsm secret generate "
		                 "--help'", "'secret generate' needs --bits N");
	if (a.aes || a.wrapping) {
		if (a.bits != 128 && a.bits != 192 && a.bits != 256)
			return lh_error (t, LH_EXIT_USAGE, "give 128, 192 or 256",
			                 "an AES key cannot have %ld bits", a.bits);
		kt = CKK_AES;
		mech.mechanism = CKM_AES_KEY_GEN;
	} else if (a.bits % 8 != 0 || a.bits > 4096) {
		return lh_error (t, LH_EXIT_USAGE, "give a multiple of 8 up to 4096",
		                 "a generic secret cannot have %ld bits", a.bits);
	}
	type = a.wrapping ? "wrapping" : a.aes ? "aes" : "generic";
	vlen = (CK_ULONG)a.bits / 8;
	ext = a.extractable ? CK_TRUE : CK_FALSE;
	enc = a.aes && !a.wrapping ? CK_TRUE : CK_FALSE;
	wrap = a.wrapping ? CK_TRUE : CK_FALSE;
	derive = a.wrapping || !a.aes ? CK_TRUE : CK_FALSE;
	if (a.days != -1 && (rc = lh_secret_today (t, &today)) != LH_EXIT_OK)
		return rc;
	lh_secret_day_date (today, &start);
	lh_secret_day_date (today + (a.days > 0 ? a.days : 0), &end);
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_KEY_TYPE, &kt, sizeof kt },
			{ CKA_VALUE_LEN, &vlen, sizeof vlen },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &yes, sizeof yes },
			{ CKA_SENSITIVE, &yes, sizeof yes },
			{ CKA_EXTRACTABLE, &ext, sizeof ext },
			{ CKA_ENCRYPT, &enc, sizeof enc },
			{ CKA_DECRYPT, &enc, sizeof enc },
			{ CKA_WRAP, &wrap, sizeof wrap },
			{ CKA_UNWRAP, &wrap, sizeof wrap },
			{ CKA_DERIVE, &derive, sizeof derive },
			{ CKA_SIGN, &no, sizeof no },
			{ CKA_VERIFY, &no, sizeof no },
			{ CKA_LABEL, (void *)name, strlen (name) },
			{ CKA_ID, id, 0 },
			{ CKA_START_DATE, &start, sizeof start },
			{ CKA_END_DATE, &end, sizeof end },
		};

		n = sizeof tmpl / sizeof tmpl[0];
		if (a.days == -1)
			n -= 2;         /* the dates come last */
		if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
		    (rc = lh_secret_check_new (t, &c, name, a.force, &old, id)) !=
		    LH_EXIT_OK)
			goto out;
		/* CKA_ID: its value is known only now */
		tmpl[15].ulValueLen = strlen (id);
		rv = c.f->C_GenerateKey (c.h, &mech, tmpl, n, &obj);
		if (rv != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot generate secret \"%s\"",
			                  name);
			goto out;
		}
	}
	replaced = old.n;
	if ((rc = lh_secret_replace_done (t, &c, name, &old)) != LH_EXIT_OK)
		goto out;
	print_done (t, "Generated", name, type, (unsigned long)a.bits, &c, id,
	            replaced);
	rc = LH_EXIT_OK;
out:
	lh_secret_vlist_free (&old);
	lh_secret_close (&c);
	return rc;
}
