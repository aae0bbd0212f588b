/*
 * cmd_ca_init.c - "litehsm ca init": make a CA.  Its key pair is
 * generated in the token (private, sensitive, never extractable); its
 * certificate is self-signed by that key through C_Sign, or with
 * --intermediate signed by another CA of the token (--parent), stored
 * in the token next to the key and written to DIR/rootCA.pem (the
 * seed's name) or DIR/<label>.pem for an intermediate.
 *
 * Nothing is left half-done.  The output file is checked before the
 * token is touched; a failure after the key was generated removes the
 * new key, its certificate and (intermediate) its parent's index entry.
 * With --force an existing CA of that label is replaced only at the
 * very end: the new key is made under a temporary label, and once its
 * certificate is written the old CA (key, certificate, index) is
 * removed and the new key takes the label.
 */
#include "tools/ca.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

enum {
	OPT_CN = LH_OPT_CMD, OPT_KEY, OPT_DAYS, OPT_PATH, OPT_LABEL, OPT_FORCE,
	OPT_INTERMEDIATE, OPT_PARENT,
};

static const lh_opt init_opts[] = {
	{ "cn", "NAME", OPT_CN, "the CA's common name (required)" },
	{ "key", "KIND", OPT_KEY, "ec-p256 (default), ec-p384, rsa-2048, "
	  "rsa-3072, rsa-4096, ed25519" },
	{ "days", "N", OPT_DAYS, "valid for N days (default 3650; an "
	  "intermediate: at most its parent's)" },
	{ "path", "DIR", OPT_PATH, "write the certificate into DIR (default: "
	  "the current directory)" },
	{ "label", "LABEL", OPT_LABEL, "the CA's name in the token (default "
	  LH_CA_DEFAULT ")" },
	{ "force", NULL, OPT_FORCE, "replace a CA of that label and the "
	  "output file" },
	{ "intermediate", NULL, OPT_INTERMEDIATE, "make an intermediate CA "
	  "(needs --parent)" },
	{ "parent", "LABEL", OPT_PARENT, "the token CA that signs the "
	  "intermediate" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd init_cmd = {
	.name = "ca init",
	.summary = "Make a certificate authority: a key pair generated in the\n"
	           "token, which it never leaves, and a self-signed CA\n"
	           "certificate (basicConstraints CA:TRUE, keyUsage keyCertSign\n"
	           "and cRLSign, key identifiers), stored in the token and\n"
	           "written to DIR/rootCA.pem.",
	.details = "With --intermediate --parent LABEL the certificate is signed\n"
	           "by the token CA LABEL instead and written to DIR/<label>.pem\n"
	           "(give the new CA a --label of its own).  An existing CA of\n"
	           "the same label is refused unless --force, which replaces it\n"
	           "once the new one is complete; the old CA's index goes with\n"
	           "it, so its certificates can no longer be revoked or renewed.\n"
	           "An existing output file is refused unless --force.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = init_opts,
};

typedef struct {
	const char *cn, *path, *label, *parent;
	const char *key;
	long days;              /* -1: not given */
	bool force, intermediate;
} init_args;

static int
init_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	init_args *a = ctx;

	switch (key) {
	case OPT_CN: a->cn = arg; break;
	case OPT_KEY: a->key = arg; break;
	case OPT_DAYS: return lh_ca_number (t, "days", arg, 36500, &a->days);
	case OPT_PATH: a->path = arg; break;
	case OPT_LABEL: a->label = arg; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_INTERMEDIATE: a->intermediate = true; break;
	case OPT_PARENT: a->parent = arg; break;
	default: break;
	}
	return LH_CONTINUE;
}

/* A CA label: it names index entries "<label>/<serial>", so no '/'. */
static int
check_ca_label (lh_tool *t, const char *label)
{
	size_t n = strlen (label);

	if (n == 0 || n > LH_CA_LABEL_MAX - 8 || strchr (label, '/') ||
	    !lh_utf8_printable (label, n))
		return lh_error (t, LH_EXIT_USAGE, "choose 1 to 120 printable "
		                 "characters without '/'", "\"%s\" cannot be a "
		                 "CA label", label);
	return LH_EXIT_OK;
}

static int
check_args (lh_tool *t, init_args *a)
{
	int rc;

	if (!a->cn || !*a->cn || strlen (a->cn) > 64)
		return lh_error (t, LH_EXIT_USAGE, "give --cn \"Example Root CA\" "
		                 "(1 to 64 characters)", "%s", !a->cn ? "no --cn "
		                 "given" : "the --cn is empty or longer than 64 "
		                 "characters");
	if (a->intermediate != (a->parent != NULL))
		return lh_error (t, LH_EXIT_USAGE, "give both --intermediate and "
		                 "--parent LABEL, or neither", "%s",
		                 a->parent ? "--parent needs --intermediate" :
		                 "--intermediate needs --parent LABEL");
	if ((rc = check_ca_label (t, a->label)) != LH_EXIT_OK)
		return rc;
	if (a->parent && strcmp (a->parent, a->label) == 0)
		return lh_error (t, LH_EXIT_USAGE, "give the intermediate a --label "
		                 "of its own", "the intermediate CA would replace "
		                 "its parent \"%s\"", a->parent);
	return LH_EXIT_OK;
}

/* Without --days: ten years, but an intermediate no longer than what is
 * left of its parent (an explicit --days beyond it is refused). */
static void
default_days (init_args *a, const lh_ca *parent)
{
	int left, secs;

	if (a->days > 0)
		return;
	a->days = 3650;
	if (a->parent &&
	    ASN1_TIME_diff (&left, &secs, NULL,
	                    X509_get0_notAfter (parent->cert)) &&
	    left >= 1 && left < a->days)
		a->days = left;
}

/* Relabel the new key (private and public key) as label. */
static int
relabel (lh_tool *t, lh_secret_ctx *c, lh_tkey *k, const char *label)
{
	CK_ATTRIBUTE a = { CKA_LABEL, (void *)label, strlen (label) };
	CK_RV rv;

	if ((rv = c->f->C_SetAttributeValue (c->h, k->priv, &a, 1)) != CKR_OK ||
	    (k->pub != CK_INVALID_HANDLE &&
	     (rv = c->f->C_SetAttributeValue (c->h, k->pub, &a, 1)) != CKR_OK))
		return lh_error_rv (t, rv, "the new CA key keeps a label ending in "
		                    "\"~new\": relabel it with a PKCS#11 tool",
		                    "cannot "
		                    "relabel the new CA key in token \"%s\"",
		                    c->s.label);
	snprintf (k->label, sizeof k->label, "%s", label);
	return LH_EXIT_OK;
}

/* With --force: remove the CA being replaced, give the new one its name. */
static int
replace_old (lh_tool *t, lh_secret_ctx *c, lh_tkey *old, lh_tkey *k,
             const char *label)
{
	int rc;

	if ((rc = lh_ca_index_clear (t, c, label)) != LH_EXIT_OK ||
	    (rc = lh_pki_delete (t, c, old)) != LH_EXIT_OK)
		return rc;
	return relabel (t, c, k, label);
}

static void
print_done (lh_tool *t, const lh_secret_ctx *c, const init_args *a,
            X509 *x, const char *file, const lh_tkey *k)
{
	char subj[256], until[40], serial[80];
	char *uri = lh_pki_key_uri (&c->s, k);
	lh_json j;

	lh_ca_name_text (X509_get_subject_name (x), subj, sizeof subj);
	lh_ca_time_text (X509_get0_notAfter (x), until, sizeof until);
	lh_ca_serial_hex (X509_get0_serialNumber (x), serial, sizeof serial);
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "ca", a->label);
		lh_json_str (&j, "token", c->s.label);
		lh_json_str (&j, "key", a->key);
		lh_json_str (&j, "subject", subj);
		lh_json_str (&j, "serial", serial);
		lh_json_str (&j, "parent", a->parent);
		lh_json_str (&j, "not_after", until);
		lh_json_str (&j, "certificate", file);
		lh_json_str (&j, "key_uri", uri);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("Created %s CA \"%s\" in token \"%s\" (%s key, kept in "
		        "the token)\n  subject: %s\n  valid until: %s\n"
		        "  certificate: %s\n", a->parent ? "intermediate" : "root",
		        a->label, c->s.label, a->key, subj, until, file);
	}
	free (uri);
}

/* The new CA's certificate, signed by itself or by parent. */
static int
make_cert (lh_tool *t, lh_secret_ctx *c, const init_args *a,
           const lh_ca *parent, const lh_tkey *k, X509 **out)
{
	X509_NAME *name = X509_NAME_new ();
	lh_ca_req r = { name, k->pkey, NULL, LH_CA_SUBCA, a->days };
	int rc;

	if (!name || !X509_NAME_add_entry_by_NID (name, NID_commonName,
	                                          MBSTRING_UTF8,
	                                          (const unsigned char *)a->cn,
	                                          -1, -1, 0)) {
		X509_NAME_free (name);
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_USAGE, "give a shorter --cn", "\"%s\" "
		                 "cannot be a common name", a->cn);
	}
	rc = lh_ca_make_cert (t, c, parent, k, &r, out);
	X509_NAME_free (name);
	return rc;
}

/* Everything after the key exists: certificate, index, file. */
static int
finish (lh_tool *t, lh_secret_ctx *c, const init_args *a, lh_ca *parent,
        lh_tkey *k, const char *file, X509 **out, lh_ca_entry *e)
{
	lh_pki_files fs = { lh_ca_dir (a->path), a->force, NULL, 0 };
	unsigned char *pem = NULL;
	size_t len = 0;
	int rc;

	if ((rc = make_cert (t, c, a, a->parent ? parent : NULL, k, out)) !=
	    LH_EXIT_OK ||
	    (rc = lh_pki_store_cert (t, c, *out, k->id, k->id_len, a->label)) !=
	    LH_EXIT_OK)
		return rc;
	if (a->parent) {
		e->cert = *out;
		e->profile = LH_CA_SUBCA;
		snprintf (e->key_label, sizeof e->key_label, "%s", a->label);
		if ((rc = lh_ca_index_add (t, c, parent->label, e)) != LH_EXIT_OK)
			return rc;
	}
	if ((rc = lh_pki_cert_pem (t, *out, &pem, &len)) == LH_EXIT_OK &&
	    (rc = lh_pki_files_add (t, &fs, file, pem, len, 0644)) ==
	    LH_EXIT_OK)
		rc = lh_pki_files_write (t, &fs);
	lh_pki_free_buf (pem, len);
	lh_pki_files_free (&fs);
	return rc;
}

int
lh_ca_init (lh_tool *t, int argc, char **argv)
{
	init_args a = { .label = LH_CA_DEFAULT, .key = "ec-p256", .days = -1 };
	lh_ca_entry e = { .h = CK_INVALID_HANDLE };
	lh_tkey old, k;
	lh_ca parent;
	lh_secret_ctx c;
	lh_keyspec spec;
	char file[LH_CA_LABEL_MAX + 8], tmp[LH_CA_LABEL_MAX + 8];
	const char *name;
	X509 *x = NULL;
	bool exists = false, made = false;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&old, 0, sizeof old);
	memset (&k, 0, sizeof k);
	memset (&parent, 0, sizeof parent);
	if ((rc = lh_args_parse (t, &init_cmd, argc, argv, init_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if ((rc = check_args (t, &a)) != LH_EXIT_OK ||
	    (rc = lh_pki_keyspec (t, a.key, &spec)) != LH_EXIT_OK)
		return rc;
	snprintf (file, sizeof file, "%s", a.parent ? a.label : "rootCA");
	strcat (file, ".pem");
	name = file;
	if ((rc = lh_pki_files_check (t, lh_ca_dir (a.path), a.force, &name, 1)) !=
	    LH_EXIT_OK ||
	    (rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = lh_pki_lookup (t, &c, a.label, &old, &exists)) != LH_EXIT_OK ||
	    (a.parent && (rc = lh_ca_load (t, &c, a.parent, &parent)) !=
	     LH_EXIT_OK))
		goto out;
	default_days (&a, &parent);
	if (exists && !a.force) {
		rc = lh_error (t, LH_EXIT_FAIL, "choose another --label, or use "
		               "--force to replace it", "token \"%s\" already has "
		               "a CA (or key) labelled \"%s\"", c.s.label, a.label);
		goto out;
	}
	snprintf (tmp, sizeof tmp, "%s~new", a.label);
	if ((rc = lh_pki_generate (t, &c, spec, exists ? tmp : a.label, false,
	                           true, &k)) != LH_EXIT_OK)
		goto out;
	made = true;
	if ((rc = finish (t, &c, &a, &parent, &k, file, &x, &e)) != LH_EXIT_OK ||
	    (exists && (rc = replace_old (t, &c, &old, &k, a.label)) !=
	     LH_EXIT_OK))
		goto out;
	made = false;   /* it stays */
	{
		char *path;

		if (asprintf (&path, "%s/%s", lh_ca_dir (a.path), file) < 0)
			path = NULL;
		print_done (t, &c, &a, x, path ? path : file, &k);
		free (path);
	}
	rc = LH_EXIT_OK;
out:
	if (made) {
		/* undo: the index entry, then the key and its certificate */
		if (e.h != CK_INVALID_HANDLE)
			c.f->C_DestroyObject (c.h, e.h);
		lh_pki_delete (t, &c, &k);
	}
	X509_free (x);
	lh_tkey_free (&k);
	lh_tkey_free (&old);
	lh_ca_free (&parent);
	lh_secret_close (&c);
	return rc;
}
