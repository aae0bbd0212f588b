/*
 * cmd_ca.c - "litehsm ca": the dispatcher of the CA subcommands and what
 * they share (ca.h): finding a CA in the token, the index of issued
 * certificates (token data objects), validity periods, extensions, CRL
 * reasons.
 *
 * The CA's key never leaves the token; this file only reads public
 * attributes, certificates and the index, and every certificate made
 * here is signed by lh_pki_sign_cert (C_Sign in the token).
 */
#include "tools/ca.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

static const lh_subcmd ca_cmds[] = {
	{ "init", "make a CA: a key in the token and its certificate",
	  lh_ca_init },
	{ "server", "issue a TLS server certificate (and key)", lh_ca_server },
	{ "client", "issue a TLS client certificate (and key)", lh_ca_client },
	{ "sign", "sign a certificate request (CSR) made elsewhere",
	  lh_ca_sign },
	{ "list", "list the certificates the CA issued", lh_ca_list },
	{ "revoke", "revoke a certificate", lh_ca_revoke },
	{ "crl", "write a certificate revocation list", lh_ca_crl },
	{ "renew", "issue a new certificate for the same key and names",
	  lh_ca_renew },
	{ NULL, NULL, NULL },
};

int
lh_cmd_ca (lh_tool *t, int argc, char **argv)
{
	return lh_dispatch (t, "ca", "A certificate authority whose keys stay "
	                    "in the token: every signature is made there.",
	                    ca_cmds, argc, argv);
}

const char *
lh_ca_profile_name (lh_ca_profile p)
{
	switch (p) {
	case LH_CA_SERVER: return "server";
	case LH_CA_CLIENT: return "client";
	case LH_CA_SUBCA: return "ca";
	}
	return "?";
}

const char *
lh_ca_dir (const char *path)
{
	return path ? path : ".";
}

int
lh_ca_number (lh_tool *t, const char *opt, const char *arg, long max,
              long *out)
{
	char *end;
	long v;

	v = strtol (arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v <= 0 || v > max)
		return lh_error (t, LH_EXIT_USAGE, "see 'litehsm ca --help'",
		                 "the value \"%s\" of --%s is not a whole number "
		                 "from 1 to %ld", arg, opt, max);
	*out = v;
	return LH_CONTINUE;
}

/* ---- finding a CA -------------------------------------------------------- */

void
lh_ca_free (lh_ca *ca)
{
	lh_tkey_free (&ca->key);
	X509_free (ca->cert);
	ca->cert = NULL;
	sk_X509_pop_free (ca->chain, X509_free);
	ca->chain = NULL;
}

/* Add the CAs above ca->cert that the token holds (by authority key id,
 * which is their key's CKA_ID), up to a self-issued one. */
static int
load_chain (lh_tool *t, lh_secret_ctx *c, lh_ca *ca)
{
	X509 *cur = ca->cert, *up;
	const ASN1_OCTET_STRING *akid;
	int depth, rc;

	if (!(ca->chain = sk_X509_new_null ()) || !X509_up_ref (cur) ||
	    !sk_X509_push (ca->chain, cur))
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	for (depth = 0; depth < 8; depth++) {
		if (X509_check_issued (cur, cur) == X509_V_OK ||
		    !(akid = X509_get0_authority_key_id (cur)))
			break;
		if ((rc = lh_pki_load_cert (t, c, ASN1_STRING_get0_data (akid),
		                            (size_t)ASN1_STRING_length (akid),
		                            &up)) != LH_EXIT_OK)
			return rc;
		if (!up)
			break;
		if (X509_check_issued (up, cur) != X509_V_OK ||
		    !sk_X509_push (ca->chain, up)) {
			X509_free (up);
			break;
		}
		cur = up;
	}
	ERR_clear_error ();
	return LH_EXIT_OK;
}

int
lh_ca_load (lh_tool *t, lh_secret_ctx *c, const char *label, lh_ca *ca)
{
	bool found;
	int rc;

	memset (ca, 0, sizeof *ca);
	snprintf (ca->label, sizeof ca->label, "%s", label);
	if ((rc = lh_pki_lookup (t, c, label, &ca->key, &found)) != LH_EXIT_OK)
		return rc;
	if (!found)
		return lh_error (t, LH_EXIT_NOTFOUND, "create it with 'litehsm ca "
		                 "init', or name another with --ca", "no CA "
		                 "\"%s\" in token \"%s\"", label, c->s.label);
	if ((rc = lh_pki_load_cert (t, c, ca->key.id, ca->key.id_len,
	                            &ca->cert)) != LH_EXIT_OK)
		return rc;
	if (!ca->cert || X509_check_ca (ca->cert) == 0 ||
	    EVP_PKEY_eq (X509_get0_pubkey (ca->cert), ca->key.pkey) != 1) {
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_FAIL, "make it with 'litehsm ca init', "
		                 "or name another with --ca", "key \"%s\" in token "
		                 "\"%s\" has no CA certificate", label, c->s.label);
	}
	return load_chain (t, c, ca);
}

/* ---- the index ----------------------------------------------------------- */

#define REC_VERSION 1
#define REC_HEAD 14

void
lh_ca_serial_hex (const ASN1_INTEGER *s, char *out, size_t cap)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN (s, NULL);
	char *hex = bn ? BN_bn2hex (bn) : NULL;

	snprintf (out, cap, "%s", hex ? hex : "?");
	OPENSSL_free (hex);
	BN_free (bn);
}

/* A serial as given on the command line, in the index's spelling. */
static int
normalize_serial (lh_tool *t, const char *in, char *out, size_t cap)
{
	char buf[80];
	size_t i, n = 0;
	BIGNUM *bn = NULL;
	char *hex;

	if (strncasecmp (in, "0x", 2) == 0)
		in += 2;
	for (i = 0; in[i] && n < sizeof buf - 1; i++)
		if (in[i] != ':')
			buf[n++] = in[i];
	buf[n] = '\0';
	if (n == 0 || in[i] || strspn (buf, "0123456789abcdefABCDEF") != n ||
	    !BN_hex2bn (&bn, buf))
		return lh_error (t, LH_EXIT_USAGE, "give the serial in hex, as "
		                 "'litehsm ca list' shows it", "\"%s\" is not a "
		                 "serial number", in);
	hex = BN_bn2hex (bn);
	snprintf (out, cap, "%s", hex ? hex : "");
	OPENSSL_free (hex);
	BN_free (bn);
	return LH_EXIT_OK;
}

/* Record bytes of e (see ca.h); malloc'd. */
static unsigned char *
record_encode (const lh_ca_entry *e, size_t *len)
{
	unsigned char *der = NULL, *r;
	size_t kl = strlen (e->key_label);
	uint64_t at = (uint64_t)e->revoked_at;
	int dl = i2d_X509 (e->cert, &der), i;

	if (dl <= 0 || !(r = malloc (REC_HEAD + kl + (size_t)dl))) {
		OPENSSL_free (der);
		return NULL;
	}
	r[0] = REC_VERSION;
	r[1] = e->revoked ? 1 : 0;
	r[2] = (unsigned char)e->reason;
	r[3] = (unsigned char)e->profile;
	for (i = 0; i < 8; i++)
		r[4 + i] = (unsigned char)(at >> (8 * (7 - i)));
	r[12] = (unsigned char)(kl >> 8);
	r[13] = (unsigned char)kl;
	memcpy (r + REC_HEAD, e->key_label, kl);
	memcpy (r + REC_HEAD + kl, der, (size_t)dl);
	*len = REC_HEAD + kl + (size_t)dl;
	OPENSSL_free (der);
	return r;
}

static bool
record_decode (const unsigned char *r, size_t len, lh_ca_entry *e)
{
	const unsigned char *p;
	uint64_t at = 0;
	size_t kl;
	int i;

	if (len < REC_HEAD || r[0] != REC_VERSION || r[1] > 1 || r[3] < 1 ||
	    r[3] > 3)
		return false;
	kl = (size_t)r[12] << 8 | r[13];
	if (kl > LH_CA_LABEL_MAX || len < REC_HEAD + kl + 1)
		return false;
	e->revoked = r[1] == 1;
	e->reason = r[2];
	e->profile = (lh_ca_profile)r[3];
	for (i = 0; i < 8; i++)
		at = at << 8 | r[4 + i];
	e->revoked_at = (int64_t)at;
	memcpy (e->key_label, r + REC_HEAD, kl);
	e->key_label[kl] = '\0';
	p = r + REC_HEAD + kl;
	if (!(e->cert = d2i_X509 (NULL, &p, (long)(len - REC_HEAD - kl))) ||
	    p != r + len) {
		X509_free (e->cert);
		e->cert = NULL;
		ERR_clear_error ();
		return false;
	}
	lh_ca_serial_hex (X509_get0_serialNumber (e->cert), e->serial,
	                  sizeof e->serial);
	return true;
}

void
lh_ca_entry_free (lh_ca_entry *e)
{
	X509_free (e->cert);
	e->cert = NULL;
}

void
lh_ca_index_free (lh_ca_entry *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		lh_ca_entry_free (&v[i]);
	free (v);
}

/* "<ca>/<serial>", malloc'd. */
static char *
entry_label (const char *ca_label, const char *serial)
{
	char *l;

	if (asprintf (&l, "%s/%s", ca_label, serial) < 0)
		return NULL;
	return l;
}

/* Create the data object of e under CA ca_label; e->h is set. */
static int
index_create (lh_tool *t, lh_secret_ctx *c, const char *ca_label,
              lh_ca_entry *e)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	char *label = entry_label (ca_label, e->serial);
	unsigned char *rec;
	size_t len = 0;
	CK_RV rv;

	rec = record_encode (e, &len);
	if (!rec || !label) {
		free (rec);
		free (label);
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	}
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &yes, sizeof yes },
			{ CKA_APPLICATION, (void *)LH_CA_APP, strlen (LH_CA_APP) },
			{ CKA_LABEL, label, strlen (label) },
			{ CKA_VALUE, rec, len },
		};

		rv = c->f->C_CreateObject (c->h, tmpl, sizeof tmpl / sizeof tmpl[0],
		                           &e->h);
	}
	free (rec);
	free (label);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot record certificate %s in "
		                    "token \"%s\"", e->serial, c->s.label);
	return LH_EXIT_OK;
}

int
lh_ca_index_add (lh_tool *t, lh_secret_ctx *c, const char *ca_label,
                 lh_ca_entry *e)
{
	lh_ca_serial_hex (X509_get0_serialNumber (e->cert), e->serial,
	                  sizeof e->serial);
	return index_create (t, c, ca_label, e);
}

int
lh_ca_index_update (lh_tool *t, lh_secret_ctx *c, lh_ca_entry *e)
{
	CK_OBJECT_HANDLE old = e->h;
	unsigned char *rec, *label = NULL;
	size_t len, llen;
	CK_RV rv;
	int rc;

	if (!(rec = record_encode (e, &len)))
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	{
		CK_ATTRIBUTE a = { CKA_VALUE, rec, len };

		rv = c->f->C_SetAttributeValue (c->h, e->h, &a, 1);
	}
	free (rec);
	if (rv != CKR_ATTRIBUTE_READ_ONLY) {
		if (rv != CKR_OK)
			return lh_error_rv (t, rv, NULL, "cannot update the record of "
			                    "certificate %s in token \"%s\"",
			                    e->serial, c->s.label);
		return LH_EXIT_OK;
	}
	/* read-only values: the new record first, then the old one goes;
	 * its label "<ca>/<serial>" tells the CA's label */
	if ((rc = lh_pki_attr (t, c, old, CKA_LABEL, &label, &llen)) !=
	    LH_EXIT_OK)
		return rc;
	if (!label || !memchr (label, '/', llen)) {
		free (label);
		return lh_error (t, LH_EXIT_FAIL, "check the token", "the record "
		                 "of certificate %s has no label", e->serial);
	}
	*(unsigned char *)memrchr (label, '/', llen) = '\0';
	rc = index_create (t, c, (const char *)label, e);
	free (label);
	if (rc != LH_EXIT_OK)
		return rc;
	if ((rv = c->f->C_DestroyObject (c->h, old)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot remove the old record of "
		                    "certificate %s from token \"%s\"", e->serial,
		                    c->s.label);
	return LH_EXIT_OK;
}

/* Read and decode index object h. */
static int
read_entry (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE h, lh_ca_entry *e)
{
	unsigned char *rec;
	size_t len;
	int rc;

	memset (e, 0, sizeof *e);
	e->h = h;
	if ((rc = lh_pki_attr (t, c, h, CKA_VALUE, &rec, &len)) != LH_EXIT_OK)
		return rc;
	if (!rec || !record_decode (rec, len, e))
		rc = lh_error (t, LH_EXIT_FAIL, "remove it with a PKCS#11 tool, or "
		               "restore a backup", "an entry of the certificate "
		               "index in token \"%s\" is damaged", c->s.label);
	free (rec);
	return rc;
}

/* The index objects of ca_label (serial NULL: all of them). */
static int
index_objects (lh_tool *t, lh_secret_ctx *c, const char *ca_label,
               const char *serial, CK_OBJECT_HANDLE **hs, size_t *n)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_APPLICATION, (void *)LH_CA_APP, strlen (LH_CA_APP) },
		{ CKA_LABEL, NULL, 0 },
	};
	CK_OBJECT_HANDLE *all;
	unsigned char *l;
	char *label = serial ? entry_label (ca_label, serial) : NULL;
	size_t count, i, ll, pre = strlen (ca_label);
	int rc;

	*hs = NULL;
	*n = 0;
	if (serial && !label)
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	tmpl[2].pValue = label;
	tmpl[2].ulValueLen = label ? strlen (label) : 0;
	rc = lh_pki_objects (t, c, tmpl, label ? 3 : 2, &all, &count);
	free (label);
	if (rc != LH_EXIT_OK || serial) {
		*hs = all;
		*n = count;
		return rc;
	}
	/* keep those labelled "<ca_label>/..." */
	for (i = 0; i < count && rc == LH_EXIT_OK; i++) {
		if ((rc = lh_pki_attr (t, c, all[i], CKA_LABEL, &l, &ll)) !=
		    LH_EXIT_OK)
			break;
		if (l && ll > pre + 1 && memcmp (l, ca_label, pre) == 0 &&
		    l[pre] == '/' && !memchr (l + pre + 1, '/', ll - pre - 1))
			all[(*n)++] = all[i];
		free (l);
	}
	if (rc != LH_EXIT_OK) {
		free (all);
		*n = 0;
		return rc;
	}
	*hs = all;
	return LH_EXIT_OK;
}

int
lh_ca_index_get (lh_tool *t, lh_secret_ctx *c, const char *ca_label,
                 const char *serial, lh_ca_entry *out)
{
	CK_OBJECT_HANDLE *hs;
	char norm[80];
	size_t n;
	int rc;

	memset (out, 0, sizeof *out);
	if ((rc = normalize_serial (t, serial, norm, sizeof norm)) != LH_EXIT_OK ||
	    (rc = index_objects (t, c, ca_label, norm, &hs, &n)) != LH_EXIT_OK)
		return rc;
	if (n == 0)
		rc = lh_error (t, LH_EXIT_NOTFOUND, "see 'litehsm ca list'", "CA "
		               "\"%s\" has issued no certificate with serial %s",
		               ca_label, norm);
	else
		rc = read_entry (t, c, hs[0], out);
	free (hs);
	return rc;
}

static int
cmp_entry (const void *a, const void *b)
{
	const lh_ca_entry *x = a, *y = b;
	int d = ASN1_TIME_compare (X509_get0_notBefore (x->cert),
	                           X509_get0_notBefore (y->cert));

	return d ? d : strcmp (x->serial, y->serial);
}

int
lh_ca_index_list (lh_tool *t, lh_secret_ctx *c, const char *ca_label,
                  lh_ca_entry **v, size_t *n)
{
	CK_OBJECT_HANDLE *hs;
	size_t count, i;
	int rc;

	*v = NULL;
	*n = 0;
	if ((rc = index_objects (t, c, ca_label, NULL, &hs, &count)) !=
	    LH_EXIT_OK)
		return rc;
	if (count && !(*v = calloc (count, sizeof **v)))
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	for (i = 0; i < count && rc == LH_EXIT_OK; i++)
		if ((rc = read_entry (t, c, hs[i], &(*v)[i])) == LH_EXIT_OK)
			(*n)++;
	free (hs);
	if (rc != LH_EXIT_OK) {
		lh_ca_index_free (*v, *n);
		*v = NULL;
		*n = 0;
		return rc;
	}
	if (*n > 1)
		qsort (*v, *n, sizeof **v, cmp_entry);
	return LH_EXIT_OK;
}

int
lh_ca_index_clear (lh_tool *t, lh_secret_ctx *c, const char *ca_label)
{
	CK_OBJECT_HANDLE *hs;
	size_t n, i;
	CK_RV rv;
	int rc;

	if ((rc = index_objects (t, c, ca_label, NULL, &hs, &n)) != LH_EXIT_OK)
		return rc;
	for (i = 0; i < n && rc == LH_EXIT_OK; i++)
		if ((rv = c->f->C_DestroyObject (c->h, hs[i])) != CKR_OK)
			rc = lh_error_rv (t, rv, NULL, "cannot remove the old CA's "
			                  "index from token \"%s\"", c->s.label);
	free (hs);
	return rc;
}

/* ---- validity and extensions --------------------------------------------- */

void
lh_ca_time_text (const ASN1_TIME *at, char *out, size_t cap)
{
	struct tm tm;

	if (!at || !ASN1_TIME_to_tm (at, &tm))
		snprintf (out, cap, "?");
	else
		strftime (out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

int
lh_ca_validity (lh_tool *t, X509 *x, X509 *issuer, long days)
{
	time_t now = time (NULL);
	char until[40];
	int left;

	if (!X509_time_adj_ex (X509_getm_notBefore (x), 0, 0, &now) ||
	    !X509_time_adj_ex (X509_getm_notAfter (x), (int)days, 0, &now))
		return lh_error (t, LH_EXIT_FAIL, "check the system clock",
		                 "cannot set the validity period");
	if (!issuer ||
	    ASN1_TIME_compare (X509_get0_notAfter (x),
	                       X509_get0_notAfter (issuer)) <= 0)
		return LH_EXIT_OK;
	lh_ca_time_text (X509_get0_notAfter (issuer), until, sizeof until);
	if (ASN1_TIME_cmp_time_t (X509_get0_notAfter (issuer), now) < 0)
		return lh_error (t, LH_EXIT_FAIL, "make a new CA with 'litehsm ca "
		                 "init'", "the CA certificate expired on %s", until);
	/* whole days from now to the issuer's end */
	if (!ASN1_TIME_diff (&left, NULL, NULL, X509_get0_notAfter (issuer)))
		left = 0;
	return lh_error (t, LH_EXIT_USAGE, "give --days of at most the days "
	                 "left", "%ld days would outlast the CA certificate, "
	                 "which is valid until %s (%d days from now)", days,
	                 until, left);
}

/* Add extension nid (DER value of its OpenSSL type) to x. */
static bool
add_ext (X509 *x, int nid, void *value, int crit)
{
	return X509_add1_ext_i2d (x, nid, value, crit, X509V3_ADD_REPLACE) == 1;
}

/* The key identifier of x's public key: SHA-1 of the key bits. */
static ASN1_OCTET_STRING *
key_identifier (X509 *x)
{
	const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr (x);
	unsigned char md[EVP_MAX_MD_SIZE];
	ASN1_OCTET_STRING *os;
	unsigned int n;

	if (!bits || !EVP_Digest (ASN1_STRING_get0_data (bits),
	                          (size_t)ASN1_STRING_length (bits), md, &n,
	                          EVP_sha1 (), NULL) ||
	    !(os = ASN1_OCTET_STRING_new ()))
		return NULL;
	if (!ASN1_OCTET_STRING_set (os, md, (int)n)) {
		ASN1_OCTET_STRING_free (os);
		return NULL;
	}
	return os;
}

/* keyUsage and extendedKeyUsage of profile p for x's key. */
static bool
add_usage (X509 *x, lh_ca_profile p)
{
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new ();
	EXTENDED_KEY_USAGE *eku = NULL;
	bool ok;

	if (!ku)
		return false;
	if (p == LH_CA_SUBCA) {
		ok = ASN1_BIT_STRING_set_bit (ku, 5, 1) &&      /* keyCertSign */
		     ASN1_BIT_STRING_set_bit (ku, 6, 1);        /* cRLSign */
	} else {
		ok = ASN1_BIT_STRING_set_bit (ku, 0, 1);        /* digitalSignature */
		/* TLS 1.2 RSA key exchange encrypts to the key */
		if (ok && EVP_PKEY_get_base_id (X509_get0_pubkey (x)) ==
		    EVP_PKEY_RSA)
			ok = ASN1_BIT_STRING_set_bit (ku, 2, 1);    /* keyEncipherment */
		ok = ok && (eku = sk_ASN1_OBJECT_new_null ()) &&
		     sk_ASN1_OBJECT_push (eku, OBJ_nid2obj (p == LH_CA_SERVER ?
		                                            NID_server_auth :
		                                            NID_client_auth));
	}
	ok = ok && add_ext (x, NID_key_usage, ku, 1) &&
	     (!eku || add_ext (x, NID_ext_key_usage, eku, 0));
	ASN1_BIT_STRING_free (ku);
	sk_ASN1_OBJECT_free (eku);      /* the OID is a static one */
	return ok;
}

int
lh_ca_extensions (lh_tool *t, X509 *x, const lh_ca *issuer, lh_ca_profile p,
                  const GENERAL_NAMES *sans)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new ();
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new ();
	ASN1_OCTET_STRING *skid = key_identifier (x);
	const ASN1_OCTET_STRING *ikid;
	bool ok;

	ok = bc && akid && skid;
	if (ok) {
		bc->ca = p == LH_CA_SUBCA ? 0xff : 0;
		/* the issuer's own key id, as its certificate states it */
		ikid = issuer ? X509_get0_subject_key_id (issuer->cert) : skid;
		akid->keyid = ikid ? ASN1_OCTET_STRING_dup (ikid) : NULL;
		ok = (!ikid || akid->keyid) &&
		     X509_set_version (x, X509_VERSION_3) &&
		     add_ext (x, NID_basic_constraints, bc, 1) &&
		     add_usage (x, p) &&
		     (!sans || add_ext (x, NID_subject_alt_name, (void *)sans, 0)) &&
		     add_ext (x, NID_subject_key_identifier, skid, 0) &&
		     (!akid->keyid ||
		      add_ext (x, NID_authority_key_identifier, akid, 0));
	}
	BASIC_CONSTRAINTS_free (bc);
	AUTHORITY_KEYID_free (akid);
	ASN1_OCTET_STRING_free (skid);
	if (!ok) {
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_FAIL, "check the OpenSSL installation",
		                 "cannot add the certificate's extensions");
	}
	return LH_EXIT_OK;
}

/* ---- making a certificate ------------------------------------------------ */

void
lh_ca_name_text (const X509_NAME *n, char *out, size_t cap)
{
	BIO *b = BIO_new (BIO_s_mem ());
	char *data;
	long len;

	snprintf (out, cap, "?");
	if (b && X509_NAME_print_ex (b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data (b, &data)) >= 0)
		snprintf (out, cap, "%.*s", (int)len, data);
	BIO_free (b);
}

int
lh_ca_make_cert (lh_tool *t, lh_secret_ctx *c, const lh_ca *issuer,
                 const lh_tkey *self, const lh_ca_req *r, X509 **out)
{
	ASN1_INTEGER *serial = NULL;
	X509 *x = X509_new ();
	int rc;

	*out = NULL;
	if (!x || !X509_set_subject_name (x, r->subject) ||
	    !X509_set_issuer_name (x, issuer ?
	                           X509_get_subject_name (issuer->cert) :
	                           r->subject) ||
	    !X509_set_pubkey (x, r->pub)) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	if ((rc = lh_pki_serial (t, c, &serial)) != LH_EXIT_OK)
		goto out;
	if (!X509_set_serialNumber (x, serial)) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	if ((rc = lh_ca_validity (t, x, issuer ? issuer->cert : NULL,
	                          r->days)) != LH_EXIT_OK ||
	    (rc = lh_ca_extensions (t, x, issuer, r->profile, r->sans)) !=
	    LH_EXIT_OK ||
	    (rc = lh_pki_sign_cert (t, c, issuer ? &issuer->key : self, x)) !=
	    LH_EXIT_OK)
		goto out;
	*out = x;
	x = NULL;
out:
	ASN1_INTEGER_free (serial);
	X509_free (x);
	return rc;
}

void
lh_ca_names_each (X509 *x, lh_ca_name_fn fn, void *ctx)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i (x, NID_subject_alt_name, NULL,
	                                        NULL);
	const unsigned char *d;
	char buf[INET6_ADDRSTRLEN + 1];
	ASN1_STRING *v;
	int i, type, len;

	for (i = 0; i < sk_GENERAL_NAME_num (gens); i++) {
		v = GENERAL_NAME_get0_value (sk_GENERAL_NAME_value (gens, i),
		                             &type);

		d = v ? ASN1_STRING_get0_data (v) : NULL;
		len = v ? ASN1_STRING_length (v) : 0;
		if (type == GEN_DNS || type == GEN_EMAIL || type == GEN_URI) {
			char *s = strndup ((const char *)d, (size_t)len);

			if (s)
				fn (ctx, s);
			free (s);
		} else if (type == GEN_IPADD && (len == 4 || len == 16) &&
		           inet_ntop (len == 4 ? AF_INET : AF_INET6, d, buf,
		                      sizeof buf)) {
			fn (ctx, buf);
		} else {
			fn (ctx, "(other name)");
		}
	}
	GENERAL_NAMES_free (gens);
	ERR_clear_error ();
}

typedef struct {
	char *out;
	size_t cap, len;
} names_buf;

static void
names_append (void *ctx, const char *name)
{
	names_buf *b = ctx;
	int n;

	if (b->len >= b->cap)
		return;
	n = snprintf (b->out + b->len, b->cap - b->len, "%s%s",
	              b->len ? ", " : "", name);
	if (n > 0)
		b->len += (size_t)n;
}

void
lh_ca_names_text (X509 *x, char *out, size_t cap)
{
	names_buf b = { out, cap, 0 };

	out[0] = '\0';
	lh_ca_names_each (x, names_append, &b);
}

/* ---- CRL reasons --------------------------------------------------------- */

static const char *const reasons[] = {
	[0] = "unspecified",
	[1] = "keyCompromise",
	[2] = "cACompromise",
	[3] = "affiliationChanged",
	[4] = "superseded",
	[5] = "cessationOfOperation",
	[9] = "privilegeWithdrawn",
};

#define NREASONS (sizeof reasons / sizeof reasons[0])

int
lh_ca_reason (lh_tool *t, const char *name, unsigned *out)
{
	unsigned i;

	for (i = 0; i < NREASONS; i++) {
		if (reasons[i] && strcasecmp (name, reasons[i]) == 0) {
			*out = i;
			return LH_EXIT_OK;
		}
	}
	return lh_error (t, LH_EXIT_USAGE, "use unspecified, keyCompromise, "
	                 "cACompromise, affiliationChanged, superseded, "
	                 "cessationOfOperation or privilegeWithdrawn", "unknown "
	                 "revocation reason \"%s\"", name);
}

const char *
lh_ca_reason_name (unsigned reason)
{
	return reason < NREASONS && reasons[reason] ? reasons[reason] :
	       "unspecified";
}
