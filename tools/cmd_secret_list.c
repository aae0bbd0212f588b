/*
 * cmd_secret_list.c - "litehsm secret list", "secret show NAME" and
 * "secret rm NAME": a secret's attributes (never its value, except for
 * "show --value" on an object whose policy lets it be read), and its
 * removal.
 */
#include "tools/cmd.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

enum { OPT_VALUE = LH_OPT_CMD, OPT_YES };

/* What list and show report about one secret. */
typedef struct {
	char name[65 * 4];
	CK_KEY_TYPE kt;
	CK_ULONG bytes;
	bool have_len;
	char start[11], end[11];        /* "YYYY-MM-DD" or "" */
	bool local, sensitive, extractable, always_sensitive, never_extractable;
	bool private_;
	bool encrypt, decrypt, wrap, unwrap, derive, sign, verify;
} secret_info;

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

static bool
get_bool (lh_secret_ctx *c, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = { type, &b, sizeof b };

	return c->f->C_GetAttributeValue (c->h, o, &a, 1) == CKR_OK && b;
}

static void
get_date (lh_secret_ctx *c, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
          char *out)
{
	CK_DATE d;
	CK_ATTRIBUTE a = { type, &d, sizeof d };

	out[0] = '\0';
	if (c->f->C_GetAttributeValue (c->h, o, &a, 1) != CKR_OK ||
	    a.ulValueLen != sizeof d)
		return;
	snprintf (out, 11, "%.4s-%.2s-%.2s", (const char *)d.year,
	          (const char *)d.month, (const char *)d.day);
}

static int
get_info (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE o, secret_info *i)
{
	CK_ATTRIBUTE a[] = {
		{ CKA_LABEL, i->name, sizeof i->name - 1 },
		{ CKA_KEY_TYPE, &i->kt, sizeof i->kt },
	};
	CK_ATTRIBUTE l = { CKA_VALUE_LEN, &i->bytes, sizeof i->bytes };
	CK_RV rv;

	memset (i, 0, sizeof *i);
	rv = c->f->C_GetAttributeValue (c->h, o, a, 2);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot read a secret's "
		                    "attributes in token \"%s\"", c->s.label);
	i->name[a[0].ulValueLen] = '\0';
	i->have_len = c->f->C_GetAttributeValue (c->h, o, &l, 1) == CKR_OK;
	get_date (c, o, CKA_START_DATE, i->start);
	get_date (c, o, CKA_END_DATE, i->end);
	i->local = get_bool (c, o, CKA_LOCAL);
	i->sensitive = get_bool (c, o, CKA_SENSITIVE);
	i->extractable = get_bool (c, o, CKA_EXTRACTABLE);
	i->always_sensitive = get_bool (c, o, CKA_ALWAYS_SENSITIVE);
	i->never_extractable = get_bool (c, o, CKA_NEVER_EXTRACTABLE);
	i->private_ = get_bool (c, o, CKA_PRIVATE);
	i->encrypt = get_bool (c, o, CKA_ENCRYPT);
	i->decrypt = get_bool (c, o, CKA_DECRYPT);
	i->wrap = get_bool (c, o, CKA_WRAP);
	i->unwrap = get_bool (c, o, CKA_UNWRAP);
	i->derive = get_bool (c, o, CKA_DERIVE);
	i->sign = get_bool (c, o, CKA_SIGN);
	i->verify = get_bool (c, o, CKA_VERIFY);
	return LH_EXIT_OK;
}

/* "wrap,unwrap,derive" into buf. */
static const char *
usages (const secret_info *i, char *buf, size_t len)
{
	static const char *names[] = { "encrypt", "decrypt", "wrap", "unwrap",
	                               "derive", "sign", "verify" };
	bool on[] = { i->encrypt, i->decrypt, i->wrap, i->unwrap, i->derive,
	              i->sign, i->verify };
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

static void
json_info (lh_json *j, const secret_info *i)
{
	char u[96], *p, *q;

	lh_json_str (j, "name", i->name);
	lh_json_str (j, "type", type_name (i->kt));
	if (i->have_len)
		lh_json_uint (j, "bits", (unsigned long long)i->bytes * 8);
	else
		lh_json_null (j, "bits");
	lh_json_str (j, "start_date", i->start[0] ? i->start : NULL);
	lh_json_str (j, "end_date", i->end[0] ? i->end : NULL);
	lh_json_bool (j, "local", i->local);
	lh_json_bool (j, "sensitive", i->sensitive);
	lh_json_bool (j, "extractable", i->extractable);
	lh_json_bool (j, "always_sensitive", i->always_sensitive);
	lh_json_bool (j, "never_extractable", i->never_extractable);
	lh_json_bool (j, "private", i->private_);
	lh_json_array_begin (j, "usages");
	usages (i, u, sizeof u);
	for (p = u; strcmp (u, "-") != 0 && p && *p; p = q) {
		q = strchr (p, ',');
		if (q)
			*q++ = '\0';
		lh_json_str (j, NULL, p);
	}
	lh_json_array_end (j);
}

static int
cmp_info (const void *a, const void *b)
{
	return strcmp (((const secret_info *)a)->name,
	               ((const secret_info *)b)->name);
}

/* ---- list ---------------------------------------------------------------- */

static const lh_cmd list_cmd = {
	.name = "secret list",
	.summary = "List the secrets (secret-key objects) of the token: name,\n"
	           "type, size, dates, and whether each was made in the token\n"
	           "(local) and is sensitive.  Never prints a value.",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
};

int
lh_secret_list (lh_tool *t, int argc, char **argv)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_BBOOL tok = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &tok, sizeof tok },
	};
	CK_OBJECT_HANDLE hs[64];
	secret_info *info = NULL, *ni;
	size_t n = 0, k;
	lh_secret_ctx c;
	CK_ULONG got;
	char u[96], bits[16];
	lh_json j;
	CK_RV rv;
	int rc;

	memset (&c, 0, sizeof c);
	if ((rc = lh_args_parse (t, &list_cmd, argc, argv, NULL, NULL)) !=
	    LH_CONTINUE)
		return rc;
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK)
		goto out;
	if ((rv = c.f->C_FindObjectsInit (c.h, tmpl, 2)) != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "cannot search token \"%s\"",
		                  c.s.label);
		goto out;
	}
	rc = LH_EXIT_OK;
	for (;;) {
		rv = c.f->C_FindObjects (c.h, hs, 64, &got);
		if (rv != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot search token \"%s\"",
			                  c.s.label);
			break;
		}
		if (got == 0)
			break;
		if (!(ni = realloc (info, (n + got) * sizeof *info))) {
			rc = lh_error (t, LH_EXIT_FAIL, "free some memory",
			               "out of memory");
			break;
		}
		info = ni;
		for (k = 0; k < got && rc == LH_EXIT_OK; k++)
			rc = get_info (t, &c, hs[k], &info[n++]);
		if (rc != LH_EXIT_OK)
			break;
	}
	c.f->C_FindObjectsFinal (c.h);
	if (rc != LH_EXIT_OK)
		goto out;
	if (n)
		qsort (info, n, sizeof *info, cmp_info);
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "token", c.s.label);
		lh_json_array_begin (&j, "secrets");
		for (k = 0; k < n; k++) {
			lh_json_object_begin (&j, NULL);
			json_info (&j, &info[k]);
			lh_json_object_end (&j);
		}
		lh_json_array_end (&j);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else if (n == 0) {
		printf ("No secrets in token \"%s\"\n", c.s.label);
	} else {
		printf ("%-24s %-8s %5s %-10s %-10s %-5s %-9s %s\n", "NAME", "TYPE",
		        "BITS", "START", "END", "LOCAL", "SENSITIVE", "USAGES");
		for (k = 0; k < n; k++) {
			if (info[k].have_len)
				snprintf (bits, sizeof bits, "%lu",
				          (unsigned long)info[k].bytes * 8);
			else
				snprintf (bits, sizeof bits, "?");
			printf ("%-24s %-8s %5s %-10s %-10s %-5s %-9s %s\n",
			        info[k].name, type_name (info[k].kt), bits,
			        info[k].start[0] ? info[k].start : "-",
			        info[k].end[0] ? info[k].end : "-",
			        info[k].local ? "yes" : "no",
			        info[k].sensitive ? "yes" : "no",
			        usages (&info[k], u, sizeof u));
		}
	}
out:
	free (info);
	lh_secret_close (&c);
	return rc;
}

/* ---- show ---------------------------------------------------------------- */

static const lh_opt show_opts[] = {
	{ "value", NULL, OPT_VALUE, "print the value too (base64), where the "
	  "object's policy allows it" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd show_cmd = {
	.name = "secret show",
	.args = "NAME",
	.summary = "Show the attributes of the secret NAME.  With --value also\n"
	           "its value in base64, which only an extractable, non-sensitive\n"
	           "object allows; for any other the command fails and says why.",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 1,
	.max_args = 1,
	.opts = show_opts,
};

static int
flag_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	*(bool *)ctx = true;
	return LH_CONTINUE;
}

int
lh_secret_show (lh_tool *t, int argc, char **argv)
{
	CK_ATTRIBUTE va = { CKA_VALUE, NULL, 0 };
	unsigned char *val = NULL;
	size_t vcap = 0;
	bool value = false;
	CK_OBJECT_HANDLE o;
	secret_info i;
	lh_secret_ctx c;
	char u[96];
	lh_json j;
	CK_RV rv;
	int rc;

	memset (&c, 0, sizeof c);
	if ((rc = lh_args_parse (t, &show_cmd, argc, argv, flag_opt, &value)) !=
	    LH_CONTINUE)
		return rc;
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = lh_secret_find (t, &c, t->argv[0], &o)) != LH_EXIT_OK ||
	    (rc = get_info (t, &c, o, &i)) != LH_EXIT_OK)
		goto out;
	if (value) {
		if (i.sensitive || !i.extractable) {
			rc = lh_error (t, LH_EXIT_FAIL, "its value never leaves the "
			               "token; use it through PKCS#11, or 'secret wrap' "
			               "it", "the value of \"%s\" cannot be shown: it is "
			               "%s", i.name, i.sensitive && !i.extractable ?
			               "sensitive and unextractable" : i.sensitive ?
			               "sensitive" : "unextractable");
			goto out;
		}
		rv = c.f->C_GetAttributeValue (c.h, o, &va, 1);
		vcap = va.ulValueLen + 1;
		if (rv == CKR_OK && !(val = OPENSSL_secure_malloc (vcap)))
			rv = CKR_HOST_MEMORY;
		if (rv == CKR_OK) {
			va.pValue = val;
			rv = c.f->C_GetAttributeValue (c.h, o, &va, 1);
		}
		if (rv != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot read the value of \"%s\"",
			                  i.name);
			goto out;
		}
	}
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "token", c.s.label);
		json_info (&j, &i);
		if (value) {
			char *txt = malloc (va.ulValueLen / 3 * 4 + 5);

			if (txt)
				EVP_EncodeBlock ((unsigned char *)txt, val,
				                 (int)va.ulValueLen);
			lh_json_str (&j, "value_base64", txt);
			if (txt)
				OPENSSL_cleanse (txt, strlen (txt));
			free (txt);
		}
		lh_json_object_end (&j);
		lh_json_finish (&j);
		rc = LH_EXIT_OK;
		goto out;
	} else {
		printf ("Secret \"%s\" in token \"%s\"\n", i.name, c.s.label);
		printf ("  type:        %s\n", type_name (i.kt));
		if (i.have_len)
			printf ("  bits:        %lu\n", (unsigned long)i.bytes * 8);
		printf ("  start date:  %s\n", i.start[0] ? i.start : "-");
		printf ("  end date:    %s\n", i.end[0] ? i.end : "-");
		printf ("  local:       %s\n", i.local ? "yes (made in the token)" :
		        "no (imported or unwrapped)");
		printf ("  sensitive:   %s\n", i.sensitive ? "yes" : "no");
		printf ("  extractable: %s\n", i.extractable ? "yes" : "no");
		printf ("  private:     %s\n", i.private_ ? "yes" : "no");
		printf ("  usages:      %s\n", usages (&i, u, sizeof u));
	}
	if (value) {
		printf ("  value:       ");
		fflush (stdout);
		rc = lh_secret_write (t, val, va.ulValueLen, true);
		goto out;
	}
	rc = LH_EXIT_OK;
out:
	lh_secret_free (val, vcap);
	lh_secret_close (&c);
	return rc;
}

/* ---- rm ------------------------------------------------------------------ */

static const lh_opt rm_opts[] = {
	{ "yes", NULL, OPT_YES, "do not ask for confirmation" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd rm_cmd = {
	.name = "secret rm",
	.args = "NAME",
	.summary = "Delete the secret NAME from the token, after a confirmation\n"
	           "on the terminal or with --yes.  Without a terminal and\n"
	           "without --yes nothing is deleted.",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 1,
	.max_args = 1,
	.opts = rm_opts,
};

int
lh_secret_rm (lh_tool *t, int argc, char **argv)
{
	char question[256];
	bool yes = false, ok;
	CK_OBJECT_HANDLE o;
	lh_secret_ctx c;
	const char *name;
	lh_json j;
	CK_RV rv;
	int rc;

	memset (&c, 0, sizeof c);
	if ((rc = lh_args_parse (t, &rm_cmd, argc, argv, flag_opt, &yes)) !=
	    LH_CONTINUE)
		return rc;
	name = t->argv[0];
	if (!yes && !lh_have_tty ())
		return lh_error (t, LH_EXIT_USAGE, "add --yes to delete it without "
		                 "asking", "refusing to delete a secret without "
		                 "confirmation, and there is no terminal to ask on");
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = lh_secret_find (t, &c, name, &o)) != LH_EXIT_OK)
		goto out;
	if (!yes) {
		snprintf (question, sizeof question, "Delete secret \"%s\" from "
		          "token \"%s\"?", name, c.s.label);
		if (!lh_confirm (question, &ok) || !ok) {
			rc = lh_error (t, LH_EXIT_FAIL, "nothing was changed",
			               "secret \"%s\" not deleted", name);
			goto out;
		}
	}
	if ((rv = c.f->C_DestroyObject (c.h, o)) != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "cannot delete secret \"%s\"", name);
		goto out;
	}
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "name", name);
		lh_json_str (&j, "token", c.s.label);
		lh_json_str (&j, "action", "deleted");
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("Deleted secret \"%s\" from token \"%s\"\n", name, c.s.label);
	}
	rc = LH_EXIT_OK;
out:
	lh_secret_close (&c);
	return rc;
}
