/*
 * cmd_secret_list.c - "litehsm secret list", "secret show NAME
 * [--version N]" and "secret rm NAME [--version N]": a secret's versions
 * and their attributes (never a value, except for "show --value" on an
 * object whose policy lets it be read), and their removal.
 *
 * The active version of a name is its highest (cmd.h); the others are
 * "retired".  Two objects sharing the highest version are both shown as
 * "duplicate", because no command will pick one of them.
 */
#include "tools/keystore.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

enum { OPT_VALUE = LH_OPT_CMD, OPT_YES, OPT_VERSION };

static const char *
type_name (CK_KEY_TYPE kt)
{
	switch (kt) {
	case CKK_GENERIC_SECRET: return "generic";
	case CKK_AES: return "aes";
	case CKK_SHA256_HMAC: return "hmac-sha256";
	default: return "other";
	}
}

/* "active", "retired" or "duplicate" for l->v[k]. */
static const char *
state (const lh_secret_vlist *l, size_t k)
{
	unsigned long top = l->v[0].n;

	if (l->n > 1 && l->v[1].n == top && l->v[k].n == top)
		return "duplicate";
	return k == 0 ? "active" : "retired";
}

/* "wrap,unwrap,derive" into buf. */
static const char *
usages (const lh_secret_version *v, char *buf, size_t len)
{
	static const char *names[] = { "encrypt", "decrypt", "wrap", "unwrap",
	                               "derive", "sign", "verify" };
	bool on[] = { v->encrypt, v->decrypt, v->wrap, v->unwrap, v->derive,
	              v->sign, v->verify };
	size_t k;

	buf[0] = '\0';
	for (k = 0; k < sizeof on / sizeof on[0]; k++) {
		if (!on[k])
			continue;
		if (buf[0])
			strncat (buf, ",", len - strlen (buf) - 1);
		strncat (buf, names[k], len - strlen (buf) - 1);
	}
	if (!buf[0])
		snprintf (buf, len, "-");
	return buf;
}

/* The fields of one version (no name: the caller writes it). */
static void
json_version (lh_json *j, const lh_secret_vlist *l, size_t k)
{
	const lh_secret_version *v = &l->v[k];
	char u[96], *p, *q;

	lh_json_uint (j, "version", v->n);
	lh_json_str (j, "id", v->id[0] ? v->id : NULL);
	lh_json_str (j, "state", state (l, k));
	lh_json_str (j, "type", type_name (v->kt));
	if (v->have_len)
		lh_json_uint (j, "bits", (unsigned long long)v->bytes * 8);
	else
		lh_json_null (j, "bits");
	lh_json_str (j, "start_date", v->start[0] ? v->start : NULL);
	lh_json_str (j, "end_date", v->end[0] ? v->end : NULL);
	lh_json_bool (j, "local", v->local);
	lh_json_bool (j, "sensitive", v->sensitive);
	lh_json_bool (j, "extractable", v->extractable);
	lh_json_bool (j, "always_sensitive", v->always_sensitive);
	lh_json_bool (j, "never_extractable", v->never_extractable);
	lh_json_bool (j, "private", v->private_);
	lh_json_array_begin (j, "usages");
	usages (v, u, sizeof u);
	for (p = u; strcmp (u, "-") != 0 && p && *p; p = q) {
		q = strchr (p, ',');
		if (q)
			*q++ = '\0';
		lh_json_str (j, NULL, p);
	}
	lh_json_array_end (j);
}

/* "3" or "-" (version 0: not made by litehsm). */
static const char *
vtext (unsigned long n, char *buf, size_t len)
{
	if (n)
		snprintf (buf, len, "%lu", n);
	else
		snprintf (buf, len, "-");
	return buf;
}

/* The index in l of version n (n < 0: the active one). */
static int
pick (lh_tool *t, lh_secret_ctx *c, const char *name,
      const lh_secret_vlist *l, long n, size_t *out)
{
	size_t k, hits = 0;

	if (n < 0) {
		*out = 0;
		return LH_EXIT_OK;
	}
	for (k = l->n; k-- > 0; ) {
		if (l->v[k].n == (unsigned long)n) {
			*out = k;
			hits++;
		}
	}
	if (hits == 0)
		return lh_error (t, LH_EXIT_NOTFOUND, "see 'litehsm secret list'",
		                 "secret \"%s\" in token \"%s\" has no version %ld",
		                 name, c->s.label, n);
	if (hits > 1)
		return lh_error (t, LH_EXIT_FAIL, "remove them with a PKCS#11 tool, "
		                 "or the whole secret with 'secret rm'", "secret "
		                 "\"%s\" in token \"%s\" has several objects of "
		                 "version %ld", name, c->s.label, n);
	return LH_EXIT_OK;
}

/* ---- list ---------------------------------------------------------------- */

/* --value / --yes, and where the command works (--user, --shared). */
typedef struct {
	bool flag;
	lh_ks_target to;
	long ver;               /* --version N; -1: the active one */
} flag_args;

static int flag_opt (lh_tool *t, void *ctx, int key, const char *arg);

static const lh_opt list_opts[] = {
	LH_KS_OPTS,
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd list_cmd = {
	.name = "secret list",
	.summary = "List the secrets (secret-key objects) of the token, one line\n"
	           "per version: name, version, state (active or retired), type,\n"
	           "size, dates, whether it was made in the token (local) and is\n"
	           "sensitive, and its usages.  Never prints a value.",
	.details = "With --json: one entry per name with the active version's\n"
	           "attributes and a \"versions\" array, highest first.\n"
	           "With --user USER, --shared, or no token named while a root\n"
	           "keystore exists: the secrets of the root keystore, their\n"
	           "owners and versions, and which keystores hold each version.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = list_opts,
};

static void
list_json (const lh_secret_ctx *c, char **names, const lh_secret_vlist *ls,
           size_t n)
{
	size_t i, k;
	lh_json j;

	lh_json_init (&j, stdout);
	lh_json_object_begin (&j, NULL);
	lh_json_str (&j, "token", c->s.label);
	lh_json_array_begin (&j, "secrets");
	for (i = 0; i < n; i++) {
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "name", names[i]);
		json_version (&j, &ls[i], 0);
		lh_json_array_begin (&j, "versions");
		for (k = 0; k < ls[i].n; k++) {
			lh_json_object_begin (&j, NULL);
			json_version (&j, &ls[i], k);
			lh_json_object_end (&j);
		}
		lh_json_array_end (&j);
		lh_json_object_end (&j);
	}
	lh_json_array_end (&j);
	lh_json_object_end (&j);
	lh_json_finish (&j);
}

static void
list_text (const lh_secret_ctx *c, char **names, const lh_secret_vlist *ls,
           size_t n)
{
	const lh_secret_version *v;
	char u[96], bits[24], ver[24];
	size_t i, k;

	if (n == 0) {
		printf ("No secrets in token \"%s\"\n", c->s.label);
		return;
	}
	printf ("%-24s %3s %-9s %-8s %5s %-10s %-10s %-5s %-9s %s\n", "NAME",
	        "VER", "STATE", "TYPE", "BITS", "START", "END", "LOCAL",
	        "SENSITIVE", "USAGES");
	for (i = 0; i < n; i++) {
		for (k = 0; k < ls[i].n; k++) {
			v = &ls[i].v[k];
			if (v->have_len)
				snprintf (bits, sizeof bits, "%lu",
				          (unsigned long)v->bytes * 8);
			else
				snprintf (bits, sizeof bits, "?");
			printf ("%-24s %3s %-9s %-8s %5s %-10s %-10s %-5s %-9s %s\n",
			        names[i], vtext (v->n, ver, sizeof ver),
			        state (&ls[i], k), type_name (v->kt), bits,
			        v->start[0] ? v->start : "-", v->end[0] ? v->end : "-",
			        v->local ? "yes" : "no", v->sensitive ? "yes" : "no",
			        usages (v, u, sizeof u));
		}
	}
}

int
lh_secret_list (lh_tool *t, int argc, char **argv)
{
	lh_secret_vlist *ls = NULL;
	char **names = NULL;
	size_t n = 0, k;
	lh_secret_ctx c;
	int rc;

	flag_args fa;

	memset (&c, 0, sizeof c);
	memset (&fa, 0, sizeof fa);
	if ((rc = lh_args_parse (t, &list_cmd, argc, argv, flag_opt, &fa)) !=
	    LH_CONTINUE)
		return rc;
	if ((rc = lh_ks_decide (t, &fa.to, true)) != LH_CONTINUE)
		return rc;
	if (lh_ks_mode (&fa.to))
		return lh_ks_secret_list (t, &fa.to);
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = lh_secret_names (t, &c, &names, &n)) != LH_EXIT_OK)
		goto out;
	if (n && !(ls = calloc (n, sizeof *ls))) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	for (k = 0; k < n && rc == LH_EXIT_OK; k++)
		rc = lh_secret_versions (t, &c, names[k], &ls[k]);
	if (rc != LH_EXIT_OK)
		goto out;
	if (t->json)
		list_json (&c, names, ls, n);
	else
		list_text (&c, names, ls, n);
	rc = LH_EXIT_OK;
out:
	for (k = 0; ls && k < n; k++)
		lh_secret_vlist_free (&ls[k]);
	free (ls);
	lh_secret_names_free (names, n);
	lh_secret_close (&c);
	return rc;
}

/* ---- show ---------------------------------------------------------------- */

static const lh_opt show_opts[] = {
	{ "version", "N", OPT_VERSION, "show version N (default: the active "
	  "one)" },
	{ "value", NULL, OPT_VALUE, "print the value too (base64), where the "
	  "object's policy allows it" },
	LH_KS_OPTS,
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd show_cmd = {
	.name = "secret show",
	.args = "NAME",
	.summary = "Show the attributes of the secret NAME (its active version,\n"
	           "or version N).  With --value also its value in base64, which\n"
	           "only an extractable, non-sensitive object allows; for any\n"
	           "other the command fails and says why.",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 1,
	.max_args = 1,
	.opts = show_opts,
};

static int
flag_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	flag_args *a = ctx;
	char *end;

	if (key == LH_KS_OPT_USER || key == LH_KS_OPT_SHARED)
		return lh_ks_target_opt (t, &a->to, key, arg);
	if (key == OPT_VERSION) {
		a->ver = strtol (arg, &end, 10);
		if (*arg < '0' || *arg > '9' || *end != '\0' || a->ver > 999999999)
			return lh_error (t, LH_EXIT_USAGE, "see 'litehsm secret list' "
			                 "for the versions", "the value \"%s\" of "
			                 "--version is not a version number", arg);
		return LH_CONTINUE;
	}
	a->flag = true;
	return LH_CONTINUE;
}

/* Read the value of v (only called when its policy allows it). */
static int
read_value (lh_tool *t, lh_secret_ctx *c, const char *name,
            const lh_secret_version *v, unsigned char **val, size_t *cap,
            CK_ULONG *len)
{
	CK_ATTRIBUTE va = { CKA_VALUE, NULL, 0 };
	CK_RV rv;

	if (v->sensitive || !v->extractable)
		return lh_error (t, LH_EXIT_FAIL, "its value never leaves the "
		                 "token; use it through PKCS#11, or 'secret wrap' it",
		                 "the value of \"%s\" cannot be shown: it is %s",
		                 name, v->sensitive && !v->extractable ?
		                 "sensitive and unextractable" : v->sensitive ?
		                 "sensitive" : "unextractable");
	rv = c->f->C_GetAttributeValue (c->h, v->h, &va, 1);
	*cap = va.ulValueLen + 1;
	if (rv == CKR_OK && !(*val = OPENSSL_secure_malloc (*cap)))
		rv = CKR_HOST_MEMORY;
	if (rv == CKR_OK) {
		va.pValue = *val;
		rv = c->f->C_GetAttributeValue (c->h, v->h, &va, 1);
	}
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot read the value of \"%s\"",
		                    name);
	*len = va.ulValueLen;
	return LH_EXIT_OK;
}

static void
show_json (const lh_secret_ctx *c, const char *name, const lh_secret_vlist *l,
           size_t k, const unsigned char *val, CK_ULONG vlen)
{
	char *txt;
	lh_json j;

	lh_json_init (&j, stdout);
	lh_json_object_begin (&j, NULL);
	lh_json_str (&j, "token", c->s.label);
	lh_json_str (&j, "name", name);
	json_version (&j, l, k);
	lh_json_uint (&j, "version_count", l->n);
	if (val) {
		txt = malloc (vlen / 3 * 4 + 5);
		if (txt)
			EVP_EncodeBlock ((unsigned char *)txt, val, (int)vlen);
		lh_json_str (&j, "value_base64", txt);
		if (txt)
			OPENSSL_cleanse (txt, strlen (txt));
		free (txt);
	}
	lh_json_object_end (&j);
	lh_json_finish (&j);
}

static void
show_text (const lh_secret_ctx *c, const char *name, const lh_secret_vlist *l,
           size_t k)
{
	const lh_secret_version *v = &l->v[k];
	char u[96];

	printf ("Secret \"%s\" in token \"%s\"\n", name, c->s.label);
	if (v->n)
		printf ("  version:     %lu (id %s), %s, of %zu\n", v->n, v->id,
		        state (l, k), l->n);
	else
		printf ("  version:     - (no litehsm id), %s, of %zu\n",
		        state (l, k), l->n);
	printf ("  type:        %s\n", type_name (v->kt));
	if (v->have_len)
		printf ("  bits:        %lu\n", (unsigned long)v->bytes * 8);
	printf ("  start date:  %s\n", v->start[0] ? v->start : "-");
	printf ("  end date:    %s\n", v->end[0] ? v->end : "-");
	printf ("  local:       %s\n", v->local ? "yes (made in the token)" :
	        "no (imported or unwrapped)");
	printf ("  sensitive:   %s\n", v->sensitive ? "yes" : "no");
	printf ("  extractable: %s\n", v->extractable ? "yes" : "no");
	printf ("  private:     %s\n", v->private_ ? "yes" : "no");
	printf ("  usages:      %s\n", usages (v, u, sizeof u));
}

int
lh_secret_show (lh_tool *t, int argc, char **argv)
{
	lh_secret_vlist l = { NULL, 0 };
	unsigned char *val = NULL;
	size_t vcap = 0, k = 0;
	CK_ULONG vlen = 0;
	bool value = false;
	lh_secret_ctx c;
	const char *name;
	char label[160];
	flag_args fa;
	lh_ks ks;
	long ver;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&fa, 0, sizeof fa);
	memset (&ks, 0, sizeof ks);
	fa.ver = -1;
	if ((rc = lh_args_parse (t, &show_cmd, argc, argv, flag_opt, &fa)) !=
	    LH_CONTINUE)
		return rc;
	value = fa.flag;
	ver = fa.ver;
	name = lh_ks_label_for (&fa.to, t->argv[0], label, sizeof label);
	if ((rc = lh_ks_open_for (t, &fa.to, false, &ks, &c)) != LH_EXIT_OK ||
	    (rc = lh_ks_exists (t, &fa.to, &c, t->argv[0], name)) != LH_EXIT_OK)
		goto out;
	/* a chosen version is shown even when the active one is ambiguous */
	rc = ver < 0 ? lh_secret_find_versions (t, &c, name, &l) :
	     lh_secret_versions (t, &c, name, &l);
	if (rc == LH_EXIT_OK && l.n == 0)
		rc = lh_error (t, LH_EXIT_NOTFOUND, "see 'litehsm secret list'",
		               "no secret named \"%s\" in token \"%s\"", name,
		               c.s.label);
	if (rc != LH_EXIT_OK ||
	    (rc = pick (t, &c, name, &l, ver, &k)) != LH_EXIT_OK)
		goto out;
	if (value && (rc = read_value (t, &c, name, &l.v[k], &val, &vcap,
	                               &vlen)) != LH_EXIT_OK)
		goto out;
	if (t->json) {
		show_json (&c, name, &l, k, val, vlen);
		rc = LH_EXIT_OK;
		goto out;
	}
	show_text (&c, name, &l, k);
	if (value) {
		printf ("  value:       ");
		fflush (stdout);
		rc = lh_secret_write (t, val, vlen, true);
		goto out;
	}
	rc = LH_EXIT_OK;
out:
	lh_secret_free (val, vcap);
	lh_secret_vlist_free (&l);
	return lh_ks_close_for (t, &fa.to, &ks, &c, rc, false);
}

/* ---- rm ------------------------------------------------------------------ */

static const lh_opt rm_opts[] = {
	{ "version", "N", OPT_VERSION, "delete only version N (not the active "
	  "one)" },
	{ "yes", NULL, OPT_YES, "do not ask for confirmation" },
	LH_KS_OPTS,
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd rm_cmd = {
	.name = "secret rm",
	.args = "NAME",
	.summary = "Delete the secret NAME (all its versions, or with --version\n"
	           "only version N) from the token, after a confirmation on the\n"
	           "terminal or with --yes.  Without a terminal and without\n"
	           "--yes nothing is deleted.",
	.details = "The active version cannot be deleted alone while older ones\n"
	           "exist: 'secret rotate' replaces it, and 'secret rm NAME'\n"
	           "deletes the whole secret.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 1,
	.max_args = 1,
	.opts = rm_opts,
};

static void
rm_report (lh_tool *t, const lh_secret_ctx *c, const char *name,
           const lh_secret_vlist *l, long ver)
{
	lh_json j;
	size_t k;

	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "name", name);
		lh_json_str (&j, "token", c->s.label);
		lh_json_str (&j, "action", "deleted");
		lh_json_array_begin (&j, "versions");
		for (k = 0; k < l->n; k++)
			if (ver < 0 || l->v[k].n == (unsigned long)ver)
				lh_json_uint (&j, NULL, l->v[k].n);
		lh_json_array_end (&j);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else if (ver >= 0) {
		printf ("Deleted version %ld of secret \"%s\" from token \"%s\"\n",
		        ver, name, c->s.label);
	} else if (l->n > 1) {
		printf ("Deleted secret \"%s\" (%zu versions) from token \"%s\"\n",
		        name, l->n, c->s.label);
	} else {
		printf ("Deleted secret \"%s\" from token \"%s\"\n", name,
		        c->s.label);
	}
}

/* Ask before deleting (the caller has checked that there is a terminal). */
static int
rm_confirm (lh_tool *t, const lh_secret_ctx *c, const char *name,
            const lh_secret_vlist *l, long ver)
{
	char question[256];
	bool ok;

	if (ver >= 0)
		snprintf (question, sizeof question, "Delete version %ld of secret "
		          "\"%s\" from token \"%s\"?", ver, name, c->s.label);
	else if (l->n > 1)
		snprintf (question, sizeof question, "Delete secret \"%s\" and all "
		          "its %zu versions from token \"%s\"?", name, l->n,
		          c->s.label);
	else
		snprintf (question, sizeof question, "Delete secret \"%s\" from "
		          "token \"%s\"?", name, c->s.label);
	if (!lh_confirm (question, &ok) || !ok)
		return lh_error (t, LH_EXIT_FAIL, "nothing was changed",
		                 "secret \"%s\" not deleted", name);
	return LH_EXIT_OK;
}

int
lh_secret_rm (lh_tool *t, int argc, char **argv)
{
	lh_secret_vlist l = { NULL, 0 };
	bool yes = false;
	lh_secret_ctx c;
	const char *name;
	char label[160];
	size_t k = 0;
	CK_RV rv = CKR_OK;
	flag_args fa;
	lh_ks ks;
	long ver;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&fa, 0, sizeof fa);
	memset (&ks, 0, sizeof ks);
	fa.ver = -1;
	if ((rc = lh_args_parse (t, &rm_cmd, argc, argv, flag_opt, &fa)) !=
	    LH_CONTINUE)
		return rc;
	yes = fa.flag;
	ver = fa.ver;
	name = lh_ks_label_for (&fa.to, t->argv[0], label, sizeof label);
	if (!yes && !lh_have_tty ())
		return lh_error (t, LH_EXIT_USAGE, "add --yes to delete it without "
		                 "asking", "refusing to delete a secret without "
		                 "confirmation, and there is no terminal to ask on");
	if ((rc = lh_ks_open_for (t, &fa.to, false, &ks, &c)) != LH_EXIT_OK ||
	    (rc = lh_ks_exists (t, &fa.to, &c, t->argv[0], name)) != LH_EXIT_OK ||
	    (rc = lh_secret_versions (t, &c, name, &l)) != LH_EXIT_OK)
		goto out;
	if (l.n == 0) {
		rc = lh_error (t, LH_EXIT_NOTFOUND, "see 'litehsm secret list'",
		               "no secret named \"%s\" in token \"%s\"", name,
		               c.s.label);
		goto out;
	}
	if (ver >= 0 && (rc = pick (t, &c, name, &l, ver, &k)) != LH_EXIT_OK)
		goto out;
	/* without its active version a secret would fall back to a retired
	 * one, which no longer encrypts or wraps: rotate instead */
	if (ver >= 0 && k == 0 && l.n > 1) {
		rc = lh_error (t, LH_EXIT_FAIL, "rotate it with 'secret rotate', "
		               "or leave out --version to delete the whole secret",
		               "version %ld is the active version of \"%s\"", ver,
		               name);
		goto out;
	}
	if (!yes && (rc = rm_confirm (t, &c, name, &l, ver)) != LH_EXIT_OK)
		goto out;
	if (ver >= 0)
		rv = c.f->C_DestroyObject (c.h, l.v[k].h);
	for (k = 0; ver < 0 && k < l.n && rv == CKR_OK; k++)
		rv = c.f->C_DestroyObject (c.h, l.v[k].h);
	if (rv != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "cannot delete secret \"%s\"%s", name,
		                  ver < 0 && k > 1 ? " (some versions are gone)" :
		                  "");
		goto out;
	}
	rm_report (t, &c, name, &l, ver);
	rc = LH_EXIT_OK;
out:
	lh_secret_vlist_free (&l);
	return lh_ks_close_for (t, &fa.to, &ks, &c, rc, rc == LH_EXIT_OK);
}
