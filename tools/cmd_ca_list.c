/*
 * cmd_ca_list.c - the CA's index: "litehsm ca list" (every certificate
 * the CA issued, from the index in the token), "ca revoke SERIAL" (marks
 * its entry revoked) and "ca crl" (a CRL of the revoked ones, signed by
 * the CA key in the token).
 *
 * Revoking changes only the index entry; relying parties learn of it
 * from the next CRL, which the message says.  A CRL's number is the time
 * it was made (seconds since 1970), so CRLs made later always carry a
 * higher number without a counter to keep (RFC 5280 5.2.3).
 */
#include "tools/ca.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>

enum {
	OPT_CA = LH_OPT_CMD, OPT_REASON, OPT_DAYS, OPT_PATH, OPT_FORCE,
};

static const lh_opt list_opts[] = {
	{ "ca", "LABEL", OPT_CA, "the CA (default " LH_CA_DEFAULT ")" },
	{ NULL, NULL, 0, NULL },
};

static const lh_opt revoke_opts[] = {
	{ "reason", "REASON", OPT_REASON, "unspecified (default), "
	  "keyCompromise, cACompromise, affiliationChanged, superseded, "
	  "cessationOfOperation, privilegeWithdrawn" },
	{ "ca", "LABEL", OPT_CA, "the CA (default " LH_CA_DEFAULT ")" },
	{ NULL, NULL, 0, NULL },
};

static const lh_opt crl_opts[] = {
	{ "days", "N", OPT_DAYS, "next update in N days (default 30)" },
	{ "path", "DIR", OPT_PATH, "write into DIR (default: the current "
	  "directory)" },
	{ "ca", "LABEL", OPT_CA, "the CA (default " LH_CA_DEFAULT ")" },
	{ "force", NULL, OPT_FORCE, "replace an existing CRL file" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd list_cmd = {
	.name = "ca list",
	.summary = "List every certificate the CA issued (the index kept in\n"
	           "the token): serial, profile, status, validity, subject,\n"
	           "names, and where its key is.",
	.details = "Status is valid, expired or revoked.  --json prints one\n"
	           "document with a \"certificates\" array.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.opts = list_opts,
};

static const lh_cmd revoke_cmd = {
	.name = "ca revoke",
	.args = "SERIAL",
	.summary = "Mark certificate SERIAL ('litehsm ca list') revoked in the\n"
	           "CA's index; the next 'litehsm ca crl' lists it.",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 1,
	.max_args = 1,
	.opts = revoke_opts,
};

static const lh_cmd crl_cmd = {
	.name = "ca crl",
	.summary = "Write the CA's certificate revocation list, signed by the\n"
	           "CA key in the token, to DIR/<CA label>.crl.pem.",
	.details = "An existing file is replaced only with --force.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.opts = crl_opts,
};

typedef struct {
	const char *ca, *path;
	unsigned reason;
	long days;
	bool force;
} list_args;

static int
list_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	list_args *a = ctx;
	int rc;

	switch (key) {
	case OPT_CA: a->ca = arg; break;
	case OPT_PATH: a->path = arg; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_DAYS: return lh_ca_number (t, "days", arg, 3650, &a->days);
	case OPT_REASON:
		if ((rc = lh_ca_reason (t, arg, &a->reason)) != LH_EXIT_OK)
			return rc;
		break;
	default: break;
	}
	return LH_CONTINUE;
}

/* Open the token and find the CA. */
static int
open_ca (lh_tool *t, const list_args *a, lh_secret_ctx *c, lh_ca *ca)
{
	int rc;

	memset (ca, 0, sizeof *ca);
	if ((rc = lh_secret_open (t, c)) != LH_EXIT_OK)
		return rc;
	return lh_ca_load (t, c, a->ca, ca);
}

/* ---- list ---------------------------------------------------------------- */

static const char *
status (const lh_ca_entry *e)
{
	if (e->revoked)
		return "revoked";
	if (X509_cmp_time (X509_get0_notAfter (e->cert), NULL) < 0)
		return "expired";
	return "valid";
}

static void
json_name (void *ctx, const char *name)
{
	lh_json_str (ctx, NULL, name);
}

static void
list_json (const lh_secret_ctx *c, const lh_ca *ca, const lh_ca_entry *v,
           size_t n)
{
	char buf[512];
	lh_json j;
	size_t i;

	lh_json_init (&j, stdout);
	lh_json_object_begin (&j, NULL);
	lh_json_str (&j, "ca", ca->label);
	lh_json_str (&j, "token", c->s.label);
	lh_ca_name_text (X509_get_subject_name (ca->cert), buf, sizeof buf);
	lh_json_str (&j, "subject", buf);
	lh_json_array_begin (&j, "certificates");
	for (i = 0; i < n; i++) {
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "serial", v[i].serial);
		lh_json_str (&j, "profile", lh_ca_profile_name (v[i].profile));
		lh_json_str (&j, "status", status (&v[i]));
		lh_ca_name_text (X509_get_subject_name (v[i].cert), buf, sizeof buf);
		lh_json_str (&j, "subject", buf);
		lh_json_array_begin (&j, "names");
		lh_ca_names_each (v[i].cert, json_name, &j);
		lh_json_array_end (&j);
		lh_ca_time_text (X509_get0_notBefore (v[i].cert), buf, sizeof buf);
		lh_json_str (&j, "not_before", buf);
		lh_ca_time_text (X509_get0_notAfter (v[i].cert), buf, sizeof buf);
		lh_json_str (&j, "not_after", buf);
		lh_json_str (&j, "key_label", *v[i].key_label ? v[i].key_label :
		             NULL);
		if (v[i].revoked) {
			lh_json_int (&j, "revoked_at", v[i].revoked_at);
			lh_json_str (&j, "reason", lh_ca_reason_name (v[i].reason));
		}
		lh_json_object_end (&j);
	}
	lh_json_array_end (&j);
	lh_json_object_end (&j);
	lh_json_finish (&j);
}

static void
list_text (const lh_secret_ctx *c, const lh_ca *ca, const lh_ca_entry *v,
           size_t n)
{
	char subj[512], names[1024], until[40];
	size_t i;

	lh_ca_name_text (X509_get_subject_name (ca->cert), subj, sizeof subj);
	printf ("CA \"%s\" in token \"%s\": %s\n", ca->label, c->s.label, subj);
	if (n == 0) {
		printf ("  (no certificates issued yet)\n");
		return;
	}
	for (i = 0; i < n; i++) {
		lh_ca_name_text (X509_get_subject_name (v[i].cert), subj,
		                 sizeof subj);
		lh_ca_names_text (v[i].cert, names, sizeof names);
		lh_ca_time_text (X509_get0_notAfter (v[i].cert), until,
		                 sizeof until);
		printf ("  %s  %-6s  %-7s  until %s  %s%s%s%s%s\n", v[i].serial,
		        lh_ca_profile_name (v[i].profile), status (&v[i]), until,
		        subj, *names ? "  [" : "", names, *names ? "]" : "",
		        *v[i].key_label ? "  (key in token)" : "");
	}
}

int
lh_ca_list (lh_tool *t, int argc, char **argv)
{
	list_args a = { .ca = LH_CA_DEFAULT };
	lh_ca_entry *v = NULL;
	lh_secret_ctx c;
	lh_ca ca;
	size_t n = 0;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&ca, 0, sizeof ca);
	if ((rc = lh_args_parse (t, &list_cmd, argc, argv, list_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if ((rc = open_ca (t, &a, &c, &ca)) != LH_EXIT_OK ||
	    (rc = lh_ca_index_list (t, &c, a.ca, &v, &n)) != LH_EXIT_OK)
		goto out;
	if (t->json)
		list_json (&c, &ca, v, n);
	else
		list_text (&c, &ca, v, n);
	rc = LH_EXIT_OK;
out:
	lh_ca_index_free (v, n);
	lh_ca_free (&ca);
	lh_secret_close (&c);
	return rc;
}

/* ---- revoke -------------------------------------------------------------- */

int
lh_ca_revoke (lh_tool *t, int argc, char **argv)
{
	list_args a = { .ca = LH_CA_DEFAULT };
	lh_ca_entry e = { .h = CK_INVALID_HANDLE };
	lh_secret_ctx c;
	lh_ca ca;
	lh_json j;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&ca, 0, sizeof ca);
	if ((rc = lh_args_parse (t, &revoke_cmd, argc, argv, list_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if ((rc = open_ca (t, &a, &c, &ca)) != LH_EXIT_OK ||
	    (rc = lh_ca_index_get (t, &c, a.ca, t->argv[0], &e)) != LH_EXIT_OK)
		goto out;
	if (e.revoked) {
		rc = lh_error (t, LH_EXIT_FAIL, "see 'litehsm ca list'", "certificate "
		               "%s is already revoked", e.serial);
		goto out;
	}
	e.revoked = true;
	e.reason = a.reason;
	e.revoked_at = (int64_t)time (NULL);
	if ((rc = lh_ca_index_update (t, &c, &e)) != LH_EXIT_OK)
		goto out;
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "ca", ca.label);
		lh_json_str (&j, "serial", e.serial);
		lh_json_str (&j, "reason", lh_ca_reason_name (e.reason));
		lh_json_int (&j, "revoked_at", e.revoked_at);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("Revoked certificate %s of CA \"%s\" (%s); publish a new "
		        "CRL with 'litehsm ca crl'\n", e.serial, ca.label,
		        lh_ca_reason_name (e.reason));
	}
	rc = LH_EXIT_OK;
out:
	lh_ca_entry_free (&e);
	lh_ca_free (&ca);
	lh_secret_close (&c);
	return rc;
}

/* ---- crl ----------------------------------------------------------------- */

/* One revoked entry of the CRL. */
static bool
add_revoked (X509_CRL *crl, const lh_ca_entry *e)
{
	X509_REVOKED *r = X509_REVOKED_new ();
	ASN1_TIME *at = ASN1_TIME_set (NULL, (time_t)e->revoked_at);
	ASN1_ENUMERATED *reason = NULL;
	bool ok;

	ok = r && at &&
	     X509_REVOKED_set_serialNumber (r, (ASN1_INTEGER *)
	                                    X509_get0_serialNumber (e->cert)) &&
	     X509_REVOKED_set_revocationDate (r, at);
	/* RFC 5280 5.3.1: leave the reason out rather than say unspecified */
	if (ok && e->reason != 0)
		ok = (reason = ASN1_ENUMERATED_new ()) &&
		     ASN1_ENUMERATED_set (reason, (long)e->reason) &&
		     X509_REVOKED_add1_ext_i2d (r, NID_crl_reason, reason, 0, 0) == 1;
	if (ok && X509_CRL_add0_revoked (crl, r))
		r = NULL;
	else
		ok = false;
	ASN1_ENUMERATED_free (reason);
	ASN1_TIME_free (at);
	X509_REVOKED_free (r);
	return ok;
}

/* The CRL's fields and extensions (all but the signature). */
static bool
crl_fields (X509_CRL *crl, const lh_ca *ca, long days, const lh_ca_entry *v,
            size_t n, size_t *revoked)
{
	time_t now = time (NULL);
	ASN1_TIME *last = ASN1_TIME_set (NULL, now);
	ASN1_TIME *next = X509_time_adj_ex (NULL, (int)days, 0, &now);
	ASN1_INTEGER *num = ASN1_INTEGER_new ();
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new ();
	const ASN1_OCTET_STRING *kid = X509_get0_subject_key_id (ca->cert);
	bool ok;
	size_t i;

	ok = last && next && num && akid &&
	     X509_CRL_set_version (crl, X509_CRL_VERSION_2) &&
	     X509_CRL_set_issuer_name (crl, X509_get_subject_name (ca->cert)) &&
	     X509_CRL_set1_lastUpdate (crl, last) &&
	     X509_CRL_set1_nextUpdate (crl, next) &&
	     ASN1_INTEGER_set_int64 (num, (int64_t)now) &&
	     X509_CRL_add1_ext_i2d (crl, NID_crl_number, num, 0, 0) == 1;
	if (ok && kid)
		ok = (akid->keyid = ASN1_OCTET_STRING_dup (kid)) &&
		     X509_CRL_add1_ext_i2d (crl, NID_authority_key_identifier,
		                            akid, 0, 0) == 1;
	*revoked = 0;
	for (i = 0; ok && i < n; i++) {
		if (!v[i].revoked)
			continue;
		ok = add_revoked (crl, &v[i]);
		(*revoked)++;
	}
	ok = ok && X509_CRL_sort (crl);
	ASN1_TIME_free (last);
	ASN1_TIME_free (next);
	ASN1_INTEGER_free (num);
	AUTHORITY_KEYID_free (akid);
	return ok;
}

static void
print_crl (lh_tool *t, const lh_ca *ca, X509_CRL *crl, const char *path,
           size_t revoked)
{
	char next[40];
	lh_json j;

	lh_ca_time_text (X509_CRL_get0_nextUpdate (crl), next, sizeof next);
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "ca", ca->label);
		lh_json_str (&j, "file", path);
		lh_json_uint (&j, "revoked", revoked);
		lh_json_str (&j, "next_update", next);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("Wrote the CRL of CA \"%s\" (%zu revoked certificate%s, next "
		        "update %s): %s\n", ca->label, revoked, revoked == 1 ? "" :
		        "s", next, path);
	}
}

int
lh_ca_crl (lh_tool *t, int argc, char **argv)
{
	list_args a = { .ca = LH_CA_DEFAULT, .days = 30 };
	lh_pki_files fs = { NULL, false, NULL, 0 };
	lh_ca_entry *v = NULL;
	X509_CRL *crl = NULL;
	char name[LH_CA_LABEL_MAX + 16], *path = NULL;
	const char *np = name;
	size_t n = 0, revoked = 0;
	BIO *b = NULL;
	lh_secret_ctx c;
	lh_ca ca;
	char *data;
	long len;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&ca, 0, sizeof ca);
	if ((rc = lh_args_parse (t, &crl_cmd, argc, argv, list_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	fs.dir = lh_ca_dir (a.path);
	fs.force = a.force;
	snprintf (name, sizeof name, "%s.crl.pem", a.ca);
	if ((rc = lh_pki_files_check (t, fs.dir, fs.force, &np, 1)) !=
	    LH_EXIT_OK ||
	    (rc = open_ca (t, &a, &c, &ca)) != LH_EXIT_OK ||
	    (rc = lh_ca_index_list (t, &c, a.ca, &v, &n)) != LH_EXIT_OK)
		goto out;
	if (!(crl = X509_CRL_new ()) ||
	    !crl_fields (crl, &ca, a.days, v, n, &revoked)) {
		ERR_clear_error ();
		rc = lh_error (t, LH_EXIT_FAIL, "check the OpenSSL installation",
		               "cannot build the CRL");
		goto out;
	}
	if ((rc = lh_pki_sign_crl (t, &c, &ca.key, crl)) != LH_EXIT_OK)
		goto out;
	if (!(b = BIO_new (BIO_s_mem ())) || !PEM_write_bio_X509_CRL (b, crl) ||
	    (len = BIO_get_mem_data (b, &data)) <= 0) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "cannot encode "
		               "the CRL");
		goto out;
	}
	if ((rc = lh_pki_files_add (t, &fs, name, data, (size_t)len, 0644)) !=
	    LH_EXIT_OK ||
	    (rc = lh_pki_files_write (t, &fs)) != LH_EXIT_OK)
		goto out;
	if (asprintf (&path, "%s/%s", fs.dir, name) < 0)
		path = NULL;
	print_crl (t, &ca, crl, path ? path : name, revoked);
	rc = LH_EXIT_OK;
out:
	free (path);
	BIO_free (b);
	X509_CRL_free (crl);
	lh_pki_files_free (&fs);
	lh_ca_index_free (v, n);
	lh_ca_free (&ca);
	lh_secret_close (&c);
	return rc;
}
