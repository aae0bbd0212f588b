/*
 * cmd_secret_rotate.c - "litehsm secret rotate NAME" (a new version made
 * inside the token; the old ones retired) and "litehsm secret prune
 * [NAME]" (versions past their end date plus a grace period removed).
 *
 * Rotation generates the next version (cmd.h) like the active one: same
 * key type, size, usages, sensitivity and extractability, and a validity
 * of the same length counted from today.  Only then are the older
 * versions retired: CKA_ENCRYPT and CKA_WRAP go to FALSE where they were
 * TRUE (the strict policy lets usages be dropped, never added), so they
 * no longer make anything new but still decrypt, unwrap and derive until
 * their end date, which the module enforces.  A failure before the new
 * version exists changes nothing; one while retiring leaves the new
 * version active and says which old one kept its usages.
 *
 * A secret stored from a value ('secret set', or unwrapped: CKA_LOCAL
 * false) cannot be rotated here: its next value must come from outside.
 */
#include "tools/keystore.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_GRACE = LH_OPT_CMD, OPT_DRY_RUN };

#define GRACE_DEFAULT 7
#define DAYS_MAX 36500

/* ---- rotate -------------------------------------------------------------- */

static const lh_opt rotate_opts[] = {
	LH_KS_OPTS,
	{ NULL, NULL, 0, NULL },
};

static int
target_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	return lh_ks_target_opt (t, ctx, key, arg);
}

static const lh_cmd rotate_cmd = {
	.name = "secret rotate",
	.args = "NAME",
	.summary = "Make a new version of the key NAME inside the token, like\n"
	           "its active version (type, size, usages, sensitivity, and a\n"
	           "validity of the same length from today), and retire the\n"
	           "older versions: they lose encrypt and wrap but still\n"
	           "decrypt, unwrap and derive until their end date.",
	.details = "Only a key generated in the token can be rotated; for a\n"
	           "value stored with 'secret set', store the new value with\n"
	           "'secret set NAME --force'.  'secret prune' removes versions\n"
	           "once they are past their end date.  With --user USER or\n"
	           "--shared: in the root keystore, then copied to the local\n"
	           "keystores.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 1,
	.max_args = 1,
	.opts = rotate_opts,
};

int
lh_secret_retire (lh_tool *t, lh_secret_ctx *c, const char *name,
                  const lh_secret_vlist *l, CK_OBJECT_HANDLE keep)
{
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE off[2];
	CK_ULONG n;
	size_t k;
	CK_RV rv;

	for (k = 0; k < l->n; k++) {
		if (l->v[k].h == keep)
			continue;
		/* only what is TRUE: setting a FALSE one again is no change,
		 * but a key with CKA_MODIFIABLE false would refuse even that */
		n = 0;
		if (l->v[k].encrypt)
			off[n++] = (CK_ATTRIBUTE){ CKA_ENCRYPT, &no, sizeof no };
		if (l->v[k].wrap)
			off[n++] = (CK_ATTRIBUTE){ CKA_WRAP, &no, sizeof no };
		if (n == 0)
			continue;
		rv = c->f->C_SetAttributeValue (c->h, l->v[k].h, off, n);
		if (rv != CKR_OK)
			return lh_error_rv (t, rv, "remove it with 'secret rm NAME "
			                    "--version N', or drop its encrypt and wrap "
			                    "usages with a PKCS#11 tool", "version %lu "
			                    "of \"%s\" cannot be retired", l->v[k].n,
			                    name);
	}
	return LH_EXIT_OK;
}

/* The generation mechanism for a key type the tool can rotate. */
static bool
gen_mechanism (CK_KEY_TYPE kt, CK_MECHANISM_TYPE *out)
{
	switch (kt) {
	case CKK_AES: *out = CKM_AES_KEY_GEN; return true;
	case CKK_GENERIC_SECRET: *out = CKM_GENERIC_SECRET_KEY_GEN; return true;
	default: return false;
	}
}

/* Can the active version a be rotated? */
static int
check_rotatable (lh_tool *t, lh_secret_ctx *c, const char *name,
                 const lh_secret_version *a, CK_MECHANISM_TYPE *mech)
{
	char hint[128];

	if (!a->local) {
		snprintf (hint, sizeof hint, "store its new value with 'litehsm "
		          "secret set %s --force'", name);
		return lh_error (t, LH_EXIT_FAIL, hint, "secret \"%s\" in token "
		                 "\"%s\" was stored from a value, not generated in "
		                 "the token, so it cannot be rotated", name,
		                 c->s.label);
	}
	if (!gen_mechanism (a->kt, mech) || !a->have_len)
		return lh_error (t, LH_EXIT_FAIL, "only AES keys and generic secrets "
		                 "can be rotated", "secret \"%s\" in token \"%s\" is "
		                 "not a key the tool can generate again", name,
		                 c->s.label);
	if (a->n >= 999999999)
		return lh_error (t, LH_EXIT_FAIL, "remove the secret and generate it "
		                 "again", "secret \"%s\" has run out of version "
		                 "numbers", name);
	return LH_EXIT_OK;
}

/*
 * Generate the next version like a (the active one) with id, today as
 * the start of a validity as long as a's.  The usages are a's, with
 * encrypt and wrap given back if a was itself retired (never both
 * halves of a pair the strict policy forbids: encrypt only without
 * unwrap, wrap only without decrypt).
 */
static int
generate_like (lh_tool *t, lh_secret_ctx *c, const char *name,
               const lh_secret_version *a, CK_MECHANISM_TYPE m,
               const char *id, long today, CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM mech = { m, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = a->kt;
	CK_ULONG vlen = a->bytes, n;
	CK_BBOOL yes = CK_TRUE;
	CK_BBOOL priv = a->private_, sens = a->sensitive, ext = a->extractable;
	CK_BBOOL wwt = a->wrap_with_trusted;
	CK_BBOOL enc = a->encrypt || (a->decrypt && !a->unwrap);
	CK_BBOOL wrap = a->wrap || (a->unwrap && !a->decrypt);
	CK_BBOOL dec = a->decrypt, unwrap = a->unwrap, derive = a->derive;
	CK_BBOOL sign = a->sign, verify = a->verify;
	CK_DATE start, end;
	long s, e;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_VALUE_LEN, &vlen, sizeof vlen },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &priv, sizeof priv },
		{ CKA_SENSITIVE, &sens, sizeof sens },
		{ CKA_EXTRACTABLE, &ext, sizeof ext },
		{ CKA_WRAP_WITH_TRUSTED, &wwt, sizeof wwt },
		{ CKA_ENCRYPT, &enc, sizeof enc },
		{ CKA_DECRYPT, &dec, sizeof dec },
		{ CKA_WRAP, &wrap, sizeof wrap },
		{ CKA_UNWRAP, &unwrap, sizeof unwrap },
		{ CKA_DERIVE, &derive, sizeof derive },
		{ CKA_SIGN, &sign, sizeof sign },
		{ CKA_VERIFY, &verify, sizeof verify },
		{ CKA_LABEL, (void *)name, strlen (name) },
		{ CKA_ID, (void *)id, strlen (id) },
		{ CKA_START_DATE, &start, sizeof start },
		{ CKA_END_DATE, &end, sizeof end },
	};
	CK_RV rv;

	n = sizeof tmpl / sizeof tmpl[0];
	/* the same length of validity, from today; none without both dates */
	if (lh_secret_parse_day (a->start, &s) &&
	    lh_secret_parse_day (a->end, &e)) {
		lh_secret_day_date (today, &start);
		lh_secret_day_date (today + (e > s ? e - s : 0), &end);
	} else {
		n -= 2;         /* the dates come last */
	}
	rv = c->f->C_GenerateKey (c->h, &mech, tmpl, n, out);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot generate a new version of "
		                    "\"%s\" in token \"%s\"", name, c->s.label);
	return LH_EXIT_OK;
}

int
lh_secret_rotate_one (lh_tool *t, lh_secret_ctx *c, const char *name,
                      lh_secret_version *out, lh_secret_vlist *old)
{
	char id[LH_SECRET_ID_SIZE];
	CK_MECHANISM_TYPE mech = 0;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	lh_secret_vlist now = { NULL, 0 };
	const lh_secret_version *v;
	long today;
	int rc;

	memset (out, 0, sizeof *out);
	old->v = NULL;
	old->n = 0;
	if ((rc = lh_secret_today (t, &today)) != LH_EXIT_OK ||
	    (rc = lh_secret_find_versions (t, c, name, old)) != LH_EXIT_OK)
		return rc;
	if ((rc = check_rotatable (t, c, name, &old->v[0], &mech)) !=
	    LH_EXIT_OK ||
	    (rc = lh_secret_make_id (t, c, old->v[0].n + 1, id)) != LH_EXIT_OK ||
	    (rc = generate_like (t, c, name, &old->v[0], mech, id, today,
	                         &h)) != LH_EXIT_OK)
		goto fail;
	/* from here on the new version exists and is the active one */
	if ((rc = lh_secret_retire (t, c, name, old, h)) != LH_EXIT_OK)
		goto fail;
	if ((rc = lh_secret_versions (t, c, name, &now)) != LH_EXIT_OK)
		goto fail;
	for (v = now.v; v < now.v + now.n && v->h != h; v++)
		;
	if (v == now.v + now.n) {
		rc = lh_error (t, LH_EXIT_FAIL, "see 'litehsm secret list'",
		               "the new version of \"%s\" is not found after "
		               "generating it", name);
		goto fail;
	}
	*out = *v;
	lh_secret_vlist_free (&now);
	return LH_EXIT_OK;
fail:
	lh_secret_vlist_free (&now);
	lh_secret_vlist_free (old);
	return rc;
}

static void
rotate_report (lh_tool *t, const lh_secret_ctx *c, const char *name,
               const lh_secret_version *v, const lh_secret_vlist *old)
{
	lh_json j;
	size_t k;

	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "name", name);
		lh_json_str (&j, "token", c->s.label);
		lh_json_str (&j, "action", "rotated");
		lh_json_uint (&j, "version", v->n);
		lh_json_str (&j, "id", v->id);
		lh_json_uint (&j, "previous", old->v[0].n);
		lh_json_str (&j, "start_date", v->start[0] ? v->start : NULL);
		lh_json_str (&j, "end_date", v->end[0] ? v->end : NULL);
		lh_json_array_begin (&j, "retired");
		for (k = 0; k < old->n; k++)
			lh_json_uint (&j, NULL, old->v[k].n);
		lh_json_array_end (&j);
		lh_json_object_end (&j);
		lh_json_finish (&j);
		return;
	}
	printf ("Rotated secret \"%s\" in token \"%s\": version %lu is active",
	        name, c->s.label, v->n);
	if (v->end[0])
		printf (" (%s to %s)", v->start, v->end);
	printf (", %zu older version%s retired\n", old->n, old->n == 1 ? "" :
	        "s");
}

int
lh_secret_rotate (lh_tool *t, int argc, char **argv)
{
	lh_secret_vlist old = { NULL, 0 };
	lh_secret_version v;
	lh_ks_target to = { NULL, false, false };
	lh_secret_ctx c;
	const char *name;
	char label[160];
	long today;
	lh_ks ks;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&ks, 0, sizeof ks);
	if ((rc = lh_args_parse (t, &rotate_cmd, argc, argv, target_opt, &to)) !=
	    LH_CONTINUE)
		return rc;
	name = t->argv[0];
	/* a bad LITEHSM_TODAY is refused before the PIN is asked for */
	if ((rc = lh_secret_check_name (t, name)) != LH_EXIT_OK ||
	    (rc = lh_secret_today (t, &today)) != LH_EXIT_OK)
		return rc;
	if ((rc = lh_ks_open_for (t, &to, false, &ks, &c)) != LH_EXIT_OK ||
	    (rc = lh_ks_exists (t, &to, &c, name, lh_ks_label_for (&to, name,
	                        label, sizeof label))) != LH_EXIT_OK)
		goto out;
	name = lh_ks_label_for (&to, name, label, sizeof label);
	if ((rc = lh_secret_rotate_one (t, &c, name, &v, &old)) != LH_EXIT_OK)
		goto out;
	rotate_report (t, &c, name, &v, &old);
	rc = LH_EXIT_OK;
out:
	lh_secret_vlist_free (&old);
	return lh_ks_close_for (t, &to, &ks, &c, rc, rc == LH_EXIT_OK);
}

/* ---- prune --------------------------------------------------------------- */

static const lh_opt prune_opts[] = {
	{ "grace-days", "N", OPT_GRACE, "keep versions until N days after their "
	  "end date (default 7)" },
	{ "dry-run", NULL, OPT_DRY_RUN, "only show what would be removed" },
	LH_KS_OPTS,
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd prune_cmd = {
	.name = "secret prune",
	.args = "[NAME]",
	.summary = "Remove every version of NAME (or of every secret) whose end\n"
	           "date is more than --grace-days days (default 7) before\n"
	           "today (UTC).  Versions without an end date are kept.",
	.details = "Each removed version is printed with its end date; with\n"
	           "--dry-run nothing is removed.  Nothing to prune is success.\n"
	           "A version past its end date no longer encrypts, wraps or\n"
	           "derives, so data sealed under it cannot be opened either:\n"
	           "re-seal what you need before its grace period ends.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 1,
	.opts = prune_opts,
};

typedef struct {
	long grace;
	bool dry_run;
	lh_ks_target to;
} prune_args;

static int
prune_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	prune_args *a = ctx;
	char *end;

	switch (key) {
	case OPT_DRY_RUN: a->dry_run = true; break;
	case OPT_GRACE:
		a->grace = strtol (arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end != '\0' || a->grace < 0 ||
		    a->grace > DAYS_MAX)
			return lh_error (t, LH_EXIT_USAGE, "see 'litehsm secret "
			                 "prune --help'", "the value \"%s\" of "
			                 "--grace-days is not a whole number from 0 "
			                 "to %d", arg, DAYS_MAX);
		break;
	default: return lh_ks_target_opt (t, &a->to, key, arg);
	}
	return LH_CONTINUE;
}

int
lh_secret_prune_name (lh_tool *t, lh_secret_ctx *c, const char *name,
                      long today, long grace, bool dry_run,
                      lh_secret_prune_fn fn, void *ctx, size_t *count)
{
	lh_secret_vlist l;
	size_t k;
	long end;
	CK_RV rv;
	int rc;

	if ((rc = lh_secret_versions (t, c, name, &l)) != LH_EXIT_OK)
		return rc;
	for (k = 0; k < l.n; k++) {
		/* no end date, no end: such a version is never pruned */
		if (!lh_secret_parse_day (l.v[k].end, &end) || end + grace >= today)
			continue;
		if (!dry_run &&
		    (rv = c->f->C_DestroyObject (c->h, l.v[k].h)) != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot remove version %lu of "
			                  "\"%s\" (ended %s)", l.v[k].n, name,
			                  l.v[k].end);
			break;
		}
		(*count)++;
		if (fn)
			fn (ctx, name, &l.v[k]);
	}
	lh_secret_vlist_free (&l);
	return rc;
}

/* What prune prints per version: a line, or a JSON array element. */
typedef struct {
	lh_tool *t;
	lh_json *j;
	bool dry_run;
} prune_out;

static void
prune_line (void *ctx, const char *name, const lh_secret_version *v)
{
	prune_out *o = ctx;

	if (o->t->json) {
		lh_json_object_begin (o->j, NULL);
		lh_json_str (o->j, "name", name);
		lh_json_uint (o->j, "version", v->n);
		lh_json_str (o->j, "id", v->id[0] ? v->id : NULL);
		lh_json_str (o->j, "end_date", v->end);
		lh_json_object_end (o->j);
	} else {
		printf ("%s version %lu of \"%s\" (ended %s)\n", o->dry_run ?
		        "Would remove" : "Removed", v->n, name, v->end);
	}
}

static void
prune_summary (lh_tool *t, lh_json *j, const lh_secret_ctx *c,
               const prune_args *a, const char *today, size_t count)
{
	if (t->json) {
		lh_json_array_end (j);
		lh_json_uint (j, "count", count);
		lh_json_object_end (j);
		lh_json_finish (j);
	} else if (count == 0) {
		printf ("Nothing to prune in token \"%s\": no version ended more "
		        "than %ld day%s before %s\n", c->s.label, a->grace,
		        a->grace == 1 ? "" : "s", today);
	} else {
		printf ("%s %zu version%s from token \"%s\"%s\n", a->dry_run ?
		        "Would prune" : "Pruned", count, count == 1 ? "" : "s",
		        c->s.label, a->dry_run ? " (dry run: nothing removed)" : "");
	}
}

int
lh_secret_prune (lh_tool *t, int argc, char **argv)
{
	prune_args a = { GRACE_DEFAULT, false, { NULL, false, false } };
	char **names = NULL, day[11];
	size_t n = 0, k, count = 0;
	lh_secret_vlist l = { NULL, 0 };
	lh_secret_ctx c;
	const char *one = NULL;
	char label[160];
	prune_out o;
	lh_ks ks;
	lh_json j;
	long today;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&ks, 0, sizeof ks);
	if ((rc = lh_args_parse (t, &prune_cmd, argc, argv, prune_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if ((t->argc == 1 &&
	     (rc = lh_secret_check_name (t, t->argv[0])) != LH_EXIT_OK) ||
	    (rc = lh_secret_today (t, &today)) != LH_EXIT_OK)
		return rc;
	lh_secret_day_text (today, day);
	if (t->argc == 1)
		one = lh_ks_label_for (&a.to, t->argv[0], label, sizeof label);
	if ((rc = lh_ks_open_for (t, &a.to, true, &ks, &c)) != LH_EXIT_OK)
		goto out;
	if (one) {
		/* a name that does not exist is a mistake, not "nothing to do" */
		if ((rc = lh_secret_versions (t, &c, one, &l)) != LH_EXIT_OK)
			goto out;
		if (l.n == 0) {
			rc = lh_error (t, LH_EXIT_NOTFOUND, "see 'litehsm secret "
			               "list'", "no secret named \"%s\" in token "
			               "\"%s\"", one, c.s.label);
			goto out;
		}
	} else if ((rc = lh_secret_names (t, &c, &names, &n)) != LH_EXIT_OK) {
		goto out;
	}
	o.t = t;
	o.j = &j;
	o.dry_run = a.dry_run;
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "token", c.s.label);
		lh_json_str (&j, "today", day);
		lh_json_uint (&j, "grace_days", (unsigned long long)a.grace);
		lh_json_bool (&j, "dry_run", a.dry_run);
		lh_json_array_begin (&j, "removed");
	}
	if (one)
		rc = lh_secret_prune_name (t, &c, one, today, a.grace,
		                           a.dry_run, prune_line, &o, &count);
	for (k = 0; k < n && rc == LH_EXIT_OK; k++)
		if (lh_ks_label_wanted (&a.to, names[k]))
			rc = lh_secret_prune_name (t, &c, names[k], today, a.grace,
			                           a.dry_run, prune_line, &o, &count);
	/* the JSON document is closed even after a failure, so that what was
	 * removed before it is still reported in valid JSON */
	if (rc == LH_EXIT_OK || t->json)
		prune_summary (t, &j, &c, &a, day, count);
out:
	lh_secret_vlist_free (&l);
	lh_secret_names_free (names, n);
	return lh_ks_close_for (t, &a.to, &ks, &c, rc,
	                        rc == LH_EXIT_OK && count > 0 && !a.dry_run);
}
