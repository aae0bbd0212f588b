/*
 * pki.c - key pairs and certificates in a token, for "litehsm ca" and
 * "litehsm key" (pki.h): key kinds, generating, finding and deleting key
 * pairs, their public half as an EVP_PKEY, certificate objects, key URIs
 * and random serial numbers.
 *
 * Everything goes through the module's function list, so the same code
 * drives litehsm or any other module (--module).  The private key of a
 * pair is generated in the token as private, sensitive and never
 * extractable: nothing here ever asks for a private value, and the
 * public half is rebuilt from the public attributes (CKA_MODULUS and
 * CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS and CKA_EC_POINT).
 *
 * A pair's CKA_ID is the SHA-1 of its subjectPublicKey bits, the subject
 * key identifier of RFC 5280 4.2.1.2 method (1): certificates made by
 * "litehsm ca" carry it as SKI (and as AKI in what the key signs), so the
 * id links a key, its certificate and the certificates it issued.
 */
#include "tools/pki.h"
#include "tools/json.h"
#include "tools/uri.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

/* ---- key kinds ----------------------------------------------------------- */

static const struct {
	const char *name;
	CK_KEY_TYPE kt;
	CK_ULONG bits;              /* RSA modulus bits */
	const unsigned char *oid;   /* EC: DER OBJECT IDENTIFIER of the curve */
	size_t oid_len;
} specs[] = {
	[LH_KEY_EC_P256] = { "ec-p256", CKK_EC, 0, (const unsigned char *)
	                     "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10 },
	[LH_KEY_EC_P384] = { "ec-p384", CKK_EC, 0, (const unsigned char *)
	                     "\x06\x05\x2b\x81\x04\x00\x22", 7 },
	[LH_KEY_RSA_2048] = { "rsa-2048", CKK_RSA, 2048, NULL, 0 },
	[LH_KEY_RSA_3072] = { "rsa-3072", CKK_RSA, 3072, NULL, 0 },
	[LH_KEY_RSA_4096] = { "rsa-4096", CKK_RSA, 4096, NULL, 0 },
	[LH_KEY_ED25519] = { "ed25519", CKK_EC_EDWARDS, 0, (const unsigned char *)
	                     "\x06\x03\x2b\x65\x70", 5 },
};

#define NSPECS (sizeof specs / sizeof specs[0])

int
lh_pki_keyspec (lh_tool *t, const char *s, lh_keyspec *out)
{
	size_t i;

	for (i = 0; i < NSPECS; i++) {
		if (strcmp (s, specs[i].name) == 0) {
			*out = (lh_keyspec)i;
			return LH_EXIT_OK;
		}
	}
	return lh_error (t, LH_EXIT_USAGE, "use ec-p256, ec-p384, rsa-2048, "
	                 "rsa-3072, rsa-4096 or ed25519", "unknown key kind "
	                 "\"%s\"", s);
}

const char *
lh_pki_keyspec_name (lh_keyspec k)
{
	return (size_t)k < NSPECS ? specs[k].name : "?";
}

void
lh_tkey_free (lh_tkey *k)
{
	EVP_PKEY_free (k->pkey);
	k->pkey = NULL;
}

/* ---- object helpers ------------------------------------------------------ */

int
lh_pki_objects (lh_tool *t, lh_secret_ctx *c, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                CK_OBJECT_HANDLE **hs, size_t *count)
{
	CK_RV rv = lh_p11_find_all (c->f, c->h, tmpl, n, hs, count);

	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot search token \"%s\"",
		                    c->s.label);
	return LH_EXIT_OK;
}

int
lh_pki_attr (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE o,
             CK_ATTRIBUTE_TYPE type, unsigned char **out, size_t *len)
{
	CK_RV rv = lh_p11_attr (c->f, c->h, o, type, out, len);

	/* absent, or sensitive (which reports no length): no value */
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE)
		return LH_EXIT_OK;
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot read an object's "
		                    "attributes in token \"%s\"", c->s.label);
	return LH_EXIT_OK;
}

/* Destroy every object matching tmpl. */
static int
destroy_all (lh_tool *t, lh_secret_ctx *c, CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_OBJECT_HANDLE *hs;
	size_t count, i;
	CK_RV rv;
	int rc;

	if ((rc = lh_pki_objects (t, c, tmpl, n, &hs, &count)) != LH_EXIT_OK)
		return rc;
	for (i = 0; i < count && rc == LH_EXIT_OK; i++)
		if ((rv = c->f->C_DestroyObject (c->h, hs[i])) != CKR_OK)
			rc = lh_error_rv (t, rv, NULL, "cannot remove an object "
			                  "from token \"%s\"", c->s.label);
	free (hs);
	return rc;
}

/* ---- public keys --------------------------------------------------------- */

static int
no_memory (lh_tool *t)
{
	return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
}

/* Build an EVP_PKEY from OSSL_PARAMs (type "RSA" or "EC"). */
static EVP_PKEY *
from_params (const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name (NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (!ctx || EVP_PKEY_fromdata_init (ctx) <= 0 ||
	    EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free (ctx);
	return pkey;
}

static EVP_PKEY *
rsa_pub (const unsigned char *n, size_t nlen, const unsigned char *e,
         size_t elen)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new ();
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = BN_bin2bn (n, (int)nlen, NULL);
	BIGNUM *be = BN_bin2bn (e, (int)elen, NULL);
	EVP_PKEY *pkey = NULL;

	if (b && bn && be &&
	    OSSL_PARAM_BLD_push_BN (b, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN (b, OSSL_PKEY_PARAM_RSA_E, be) &&
	    (params = OSSL_PARAM_BLD_to_param (b)))
		pkey = from_params ("RSA", params);
	OSSL_PARAM_free (params);
	OSSL_PARAM_BLD_free (b);
	BN_free (bn);
	BN_free (be);
	return pkey;
}

/*
 * The point inside a CKA_EC_POINT: the spec says a DER OCTET STRING, some
 * modules give the raw point; both are accepted, as OpenSC does.
 */
static void
ec_point (const unsigned char *v, size_t len, size_t raw_len,
          const unsigned char **pt, size_t *pt_len)
{
	const unsigned char *p = v;
	ASN1_OCTET_STRING *os = d2i_ASN1_OCTET_STRING (NULL, &p, (long)len);

	*pt = v;
	*pt_len = len;
	if (os && p == v + len && (raw_len == 0 ||
	    (size_t)ASN1_STRING_length (os) == raw_len)) {
		/* the point is the tail of v: skip tag and length */
		*pt_len = (size_t)ASN1_STRING_length (os);
		*pt = v + len - *pt_len;
	}
	ASN1_OCTET_STRING_free (os);
}

/* A P-curve public key from its group name and X9.62 point. */
static EVP_PKEY *
ec_from_point (const char *group, const unsigned char *pt, size_t len)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new ();
	OSSL_PARAM *op = NULL;
	EVP_PKEY *pkey = NULL;

	if (b && OSSL_PARAM_BLD_push_utf8_string (b, OSSL_PKEY_PARAM_GROUP_NAME,
	                                          group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string (b, OSSL_PKEY_PARAM_PUB_KEY, pt,
	                                      len) &&
	    (op = OSSL_PARAM_BLD_to_param (b)))
		pkey = from_params ("EC", op);
	OSSL_PARAM_free (op);
	OSSL_PARAM_BLD_free (b);
	return pkey;
}

static EVP_PKEY *
ec_pub (const unsigned char *params, size_t plen, const unsigned char *point,
        size_t len)
{
	const unsigned char *p = params, *pt;
	ASN1_OBJECT *oid = d2i_ASN1_OBJECT (NULL, &p, (long)plen);
	EVP_PKEY *pkey;
	const char *group;
	size_t pt_len;
	int nid = oid ? OBJ_obj2nid (oid) : NID_undef;

	ASN1_OBJECT_free (oid);
	if (nid == NID_ED25519 || nid == NID_ED448 ||
	    (plen > 2 && params[0] == 0x13)) {
		/* Edwards: the OID, or PKCS#11 3.0's PrintableString name */
		bool ed448 = nid == NID_ED448 ||
		             (plen == 12 && memcmp (params + 2, "edwards448", 10) == 0);

		ec_point (point, len, ed448 ? 57 : 32, &pt, &pt_len);
		return EVP_PKEY_new_raw_public_key_ex (NULL, ed448 ? "ED448" :
		                                       "ED25519", NULL, pt, pt_len);
	}
	if (nid == NID_undef || !(group = OBJ_nid2sn (nid)))
		return NULL;
	ec_point (point, len, 0, &pt, &pt_len);
	pkey = ec_from_point (group, pt, pt_len);
	/* a raw point that merely looked like an OCTET STRING */
	if (!pkey && pt != point)
		pkey = ec_from_point (group, point, len);
	return pkey;
}

/* The EVP_PKEY of public key object o of type kt. */
static int
pub_from_object (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE o,
                 CK_KEY_TYPE kt, EVP_PKEY **out)
{
	unsigned char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int rc;

	*out = NULL;
	if (kt == CKK_RSA) {
		if ((rc = lh_pki_attr (t, c, o, CKA_MODULUS, &a, &alen)) !=
		    LH_EXIT_OK ||
		    (rc = lh_pki_attr (t, c, o, CKA_PUBLIC_EXPONENT, &b, &blen)) !=
		    LH_EXIT_OK)
			goto out;
		if (alen && blen)
			*out = rsa_pub (a, alen, b, blen);
	} else if (kt == CKK_EC || kt == CKK_EC_EDWARDS) {
		if ((rc = lh_pki_attr (t, c, o, CKA_EC_PARAMS, &a, &alen)) !=
		    LH_EXIT_OK ||
		    (rc = lh_pki_attr (t, c, o, CKA_EC_POINT, &b, &blen)) !=
		    LH_EXIT_OK)
			goto out;
		if (alen && blen)
			*out = ec_pub (a, alen, b, blen);
	}
	ERR_clear_error ();
	rc = *out ? LH_EXIT_OK :
	     lh_error (t, LH_EXIT_FAIL, "use an RSA, P-256, P-384, P-521 or "
	               "Ed25519 key", "cannot read a public key in token \"%s\" "
	               "(missing attributes or an unsupported key type)",
	               c->s.label);
out:
	free (a);
	free (b);
	return rc;
}

/* SHA-1 of the subjectPublicKey bits of pkey (the key id). */
static int
key_id (lh_tool *t, EVP_PKEY *pkey, unsigned char *id, size_t *len)
{
	X509_PUBKEY *xp = NULL;
	const unsigned char *bits;
	unsigned int dlen;
	int n;

	if (!X509_PUBKEY_set (&xp, pkey) ||
	    !X509_PUBKEY_get0_param (NULL, &bits, &n, NULL, xp)) {
		X509_PUBKEY_free (xp);
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_FAIL, "use another key kind",
		                 "cannot encode the public key");
	}
	if (!EVP_Digest (bits, (size_t)n, id, &dlen, EVP_sha1 (), NULL)) {
		X509_PUBKEY_free (xp);
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_FAIL, "check the OpenSSL installation",
		                 "cannot hash the public key");
	}
	*len = dlen;
	X509_PUBKEY_free (xp);
	return LH_EXIT_OK;
}

/* ---- generate, find, delete ---------------------------------------------- */

/* The private keys labelled label. */
static int
find_priv (lh_tool *t, lh_secret_ctx *c, const char *label,
           CK_OBJECT_HANDLE **hs, size_t *n)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, (void *)label, strlen (label) },
	};

	return lh_pki_objects (t, c, tmpl, 2, hs, n);
}

static int
check_label (lh_tool *t, const char *label)
{
	size_t n = strlen (label);

	if (n == 0 || n > 128 || !lh_utf8_printable (label, n))
		return lh_error (t, LH_EXIT_USAGE, "choose a label of 1 to 128 "
		                 "bytes of printable text", "the key label \"%s\" "
		                 "is empty, too long or not printable", label);
	return LH_EXIT_OK;
}

/* C_GenerateKeyPair of a key of kind spec labelled label (see pki.h for
 * the attributes); out->priv, out->pub and out->kt are set. */
static int
generate_pair (lh_tool *t, lh_secret_ctx *c, lh_keyspec spec,
               const char *label, bool tls, lh_tkey *out)
{
	CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL dec = (tls && specs[spec].kt == CKK_RSA) ? CK_TRUE : CK_FALSE;
	CK_ULONG bits = specs[spec].bits, npub = 8;
	CK_BYTE exp[] = { 0x01, 0x00, 0x01 };
	CK_RV rv;
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &no, sizeof no },
		{ CKA_VERIFY, &yes, sizeof yes },
		{ CKA_ENCRYPT, &no, sizeof no },
		{ CKA_WRAP, &no, sizeof no },
		{ CKA_LABEL, (void *)label, strlen (label) },
		/* the last two: the key kind's parameters */
		{ CKA_MODULUS_BITS, &bits, sizeof bits },
		{ CKA_PUBLIC_EXPONENT, exp, sizeof exp },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_EXTRACTABLE, &no, sizeof no },
		{ CKA_SIGN, &yes, sizeof yes },
		{ CKA_DECRYPT, &dec, sizeof dec },   /* TLS 1.2 RSA key exchange */
		{ CKA_UNWRAP, &no, sizeof no },
		{ CKA_DERIVE, &no, sizeof no },
		{ CKA_LABEL, (void *)label, strlen (label) },
	};

	if (specs[spec].kt != CKK_RSA) {
		mech.mechanism = specs[spec].kt == CKK_EC ? CKM_EC_KEY_PAIR_GEN :
		                 CKM_EC_EDWARDS_KEY_PAIR_GEN;
		pub[6].type = CKA_EC_PARAMS;
		pub[6].pValue = (void *)specs[spec].oid;
		pub[6].ulValueLen = specs[spec].oid_len;
		npub = 7;
	}
	rv = c->f->C_GenerateKeyPair (c->h, &mech, pub, npub, priv,
	                              sizeof priv / sizeof priv[0], &out->pub,
	                              &out->priv);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, rv == CKR_MECHANISM_INVALID ?
		                    "choose another --key kind" : NULL,
		                    "cannot generate a %s key in token \"%s\"",
		                    specs[spec].name, c->s.label);
	out->kt = specs[spec].kt;
	snprintf (out->label, sizeof out->label, "%s", label);
	return LH_EXIT_OK;
}

/* The new pair's public half and its id, set on both objects: a hash of
 * the public key, known only once the key exists. */
static int
set_id (lh_tool *t, lh_secret_ctx *c, lh_tkey *k)
{
	CK_ATTRIBUTE ida = { CKA_ID, k->id, 0 };
	CK_RV rv;
	int rc;

	if ((rc = pub_from_object (t, c, k->pub, k->kt, &k->pkey)) !=
	    LH_EXIT_OK ||
	    (rc = key_id (t, k->pkey, k->id, &k->id_len)) != LH_EXIT_OK)
		return rc;
	ida.ulValueLen = k->id_len;
	if ((rv = c->f->C_SetAttributeValue (c->h, k->pub, &ida, 1)) != CKR_OK ||
	    (rv = c->f->C_SetAttributeValue (c->h, k->priv, &ida, 1)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot set the id of the new key "
		                    "in token \"%s\"", c->s.label);
	return LH_EXIT_OK;
}

/* --force: remove the private keys old (and what has their ids). */
static int
remove_old (lh_tool *t, lh_secret_ctx *c, const CK_OBJECT_HANDLE *old,
            size_t n)
{
	lh_tkey k;
	size_t i;
	int rc = LH_EXIT_OK;

	for (i = 0; i < n && rc == LH_EXIT_OK; i++) {
		CK_ATTRIBUTE ida = { CKA_ID, k.id, sizeof k.id };

		memset (&k, 0, sizeof k);
		k.priv = old[i];
		k.pub = CK_INVALID_HANDLE;
		ida.pValue = k.id;
		if (c->f->C_GetAttributeValue (c->h, old[i], &ida, 1) == CKR_OK)
			k.id_len = ida.ulValueLen;
		rc = lh_pki_delete (t, c, &k);
	}
	return rc;
}

int
lh_pki_generate (lh_tool *t, lh_secret_ctx *c, lh_keyspec spec,
                 const char *label, bool tls, bool force, lh_tkey *out)
{
	CK_OBJECT_HANDLE *old = NULL;
	size_t nold = 0;
	int rc;

	memset (out, 0, sizeof *out);
	out->priv = out->pub = CK_INVALID_HANDLE;
	if ((rc = check_label (t, label)) != LH_EXIT_OK ||
	    (rc = find_priv (t, c, label, &old, &nold)) != LH_EXIT_OK)
		return rc;
	if (nold && !force) {
		free (old);
		return lh_error (t, LH_EXIT_FAIL, "choose another label, or use "
		                 "--force to replace it", "a key labelled \"%s\" "
		                 "already exists in token \"%s\"", label,
		                 c->s.label);
	}
	if ((rc = generate_pair (t, c, spec, label, tls, out)) != LH_EXIT_OK) {
		free (old);
		return rc;
	}
	if ((rc = set_id (t, c, out)) != LH_EXIT_OK) {
		c->f->C_DestroyObject (c->h, out->priv);
		c->f->C_DestroyObject (c->h, out->pub);
		lh_tkey_free (out);
		out->priv = out->pub = CK_INVALID_HANDLE;
	} else {
		/* --force: the old keys go only once the new one exists */
		rc = remove_old (t, c, old, nold);
	}
	free (old);
	return rc;
}

/* The first object of class cls whose CKA_ID is id (or none). */
static int
find_by_id (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_CLASS cls,
            const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_OBJECT_HANDLE *hs;
	size_t n;
	int rc;

	*out = CK_INVALID_HANDLE;
	if ((rc = lh_pki_objects (t, c, tmpl, 2, &hs, &n)) != LH_EXIT_OK)
		return rc;
	if (n)
		*out = hs[0];
	free (hs);
	return LH_EXIT_OK;
}

int
lh_pki_find (lh_tool *t, lh_secret_ctx *c, const char *label, lh_tkey *out)
{
	bool found;
	int rc;

	if ((rc = lh_pki_lookup (t, c, label, out, &found)) != LH_EXIT_OK)
		return rc;
	if (!found)
		return lh_error (t, LH_EXIT_NOTFOUND, "see 'litehsm key list'",
		                 "no key labelled \"%s\" in token \"%s\"", label,
		                 c->s.label);
	return LH_EXIT_OK;
}

int
lh_pki_lookup (lh_tool *t, lh_secret_ctx *c, const char *label, lh_tkey *out,
               bool *found)
{
	CK_ATTRIBUTE a[] = {
		{ CKA_ID, out->id, sizeof out->id },
		{ CKA_KEY_TYPE, &out->kt, sizeof out->kt },
	};
	CK_OBJECT_HANDLE *hs;
	X509 *x = NULL;
	size_t n;
	CK_RV rv;
	int rc;

	memset (out, 0, sizeof *out);
	out->priv = out->pub = CK_INVALID_HANDLE;
	*found = false;
	if ((rc = find_priv (t, c, label, &hs, &n)) != LH_EXIT_OK)
		return rc;
	if (n != 1) {
		free (hs);
		if (n == 0)
			return LH_EXIT_OK;
		return lh_error (t, LH_EXIT_FAIL, "remove or relabel the extra "
		                 "ones", "token \"%s\" holds %zu private keys "
		                 "labelled \"%s\"", c->s.label, n, label);
	}
	out->priv = hs[0];
	free (hs);
	*found = true;
	snprintf (out->label, sizeof out->label, "%s", label);
	rv = c->f->C_GetAttributeValue (c->h, out->priv, a, 2);
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_BUFFER_TOO_SMALL ||
	    a[0].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		/* no usable id: only the key type then (no public half) */
		a[0].ulValueLen = 0;
		rv = c->f->C_GetAttributeValue (c->h, out->priv, &a[1], 1);
	}
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot read key \"%s\" in token "
		                    "\"%s\"", label, c->s.label);
	out->id_len = a[0].ulValueLen;
	if (out->id_len &&
	    (rc = find_by_id (t, c, CKO_PUBLIC_KEY, out->id, out->id_len,
	                      &out->pub)) != LH_EXIT_OK)
		return rc;
	if (out->pub != CK_INVALID_HANDLE)
		return pub_from_object (t, c, out->pub, out->kt, &out->pkey);
	if (out->id_len &&
	    (rc = lh_pki_load_cert (t, c, out->id, out->id_len, &x)) != LH_EXIT_OK)
		return rc;
	if (x)
		out->pkey = X509_get_pubkey (x);
	X509_free (x);
	if (!out->pkey)
		return lh_error (t, LH_EXIT_FAIL, "import its public key or "
		                 "certificate with the same id", "key \"%s\" in "
		                 "token \"%s\" has no public key or certificate",
		                 label, c->s.label);
	return LH_EXIT_OK;
}

int
lh_pki_delete (lh_tool *t, lh_secret_ctx *c, const lh_tkey *k)
{
	CK_OBJECT_CLASS cert = CKO_CERTIFICATE, pub = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE tc[] = {
		{ CKA_CLASS, &cert, sizeof cert },
		{ CKA_ID, (void *)k->id, k->id_len },
	};
	CK_ATTRIBUTE tp[] = {
		{ CKA_CLASS, &pub, sizeof pub },
		{ CKA_ID, (void *)k->id, k->id_len },
	};
	CK_RV rv;
	int rc;

	/* without an id nothing else can be told to belong to the key */
	if (k->id_len &&
	    ((rc = destroy_all (t, c, tc, 2)) != LH_EXIT_OK ||
	     (rc = destroy_all (t, c, tp, 2)) != LH_EXIT_OK))
		return rc;
	if (!k->id_len && k->pub != CK_INVALID_HANDLE &&
	    (rv = c->f->C_DestroyObject (c->h, k->pub)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot remove key \"%s\" from "
		                    "token \"%s\"", k->label, c->s.label);
	if ((rv = c->f->C_DestroyObject (c->h, k->priv)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot remove key \"%s\" from "
		                    "token \"%s\"", k->label, c->s.label);
	return LH_EXIT_OK;
}

/* ---- certificates -------------------------------------------------------- */

int
lh_pki_store_cert (lh_tool *t, lh_secret_ctx *c, X509 *x,
                   const unsigned char *id, size_t id_len, const char *label)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	unsigned char *der = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
	int dlen, slen, ilen, nlen;
	CK_OBJECT_HANDLE *old = NULL, h;
	size_t nold = 0, i;
	CK_RV rv;
	int rc;

	dlen = i2d_X509 (x, &der);
	slen = i2d_X509_NAME (X509_get_subject_name (x), &subj);
	ilen = i2d_X509_NAME (X509_get_issuer_name (x), &iss);
	nlen = i2d_ASN1_INTEGER (X509_get0_serialNumber (x), &ser);
	if (dlen <= 0 || slen <= 0 || ilen <= 0 || nlen <= 0) {
		rc = no_memory (t);
		goto out;
	}
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_CERTIFICATE_TYPE, &ct, sizeof ct },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &no, sizeof no },
			{ CKA_LABEL, (void *)label, strlen (label) },
			{ CKA_ID, (void *)id, id_len },
			{ CKA_SUBJECT, subj, (CK_ULONG)slen },
			{ CKA_ISSUER, iss, (CK_ULONG)ilen },
			{ CKA_SERIAL_NUMBER, ser, (CK_ULONG)nlen },
			{ CKA_VALUE, der, (CK_ULONG)dlen },
		};

		/* the ones it replaces: same class, label and id; they go
		 * only once the new one is stored */
		CK_ATTRIBUTE m[] = { tmpl[0], tmpl[4], tmpl[5] };

		if ((rc = lh_pki_objects (t, c, m, 3, &old, &nold)) != LH_EXIT_OK)
			goto out;
		rv = c->f->C_CreateObject (c->h, tmpl, sizeof tmpl / sizeof tmpl[0],
		                           &h);
		if (rv != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot store the certificate "
			                  "\"%s\" in token \"%s\"", label, c->s.label);
			goto out;
		}
	}
	for (i = 0; i < nold; i++) {
		if ((rv = c->f->C_DestroyObject (c->h, old[i])) != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot remove the old "
			                  "certificate \"%s\" from token \"%s\"",
			                  label, c->s.label);
			goto out;
		}
	}
	rc = LH_EXIT_OK;
out:
	free (old);
	OPENSSL_free (der);
	OPENSSL_free (subj);
	OPENSSL_free (iss);
	OPENSSL_free (ser);
	return rc;
}

int
lh_pki_load_cert (lh_tool *t, lh_secret_ctx *c, const unsigned char *id,
                  size_t id_len, X509 **out)
{
	CK_OBJECT_HANDLE h;
	const unsigned char *p;
	unsigned char *der;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = find_by_id (t, c, CKO_CERTIFICATE, id, id_len, &h)) !=
	    LH_EXIT_OK || h == CK_INVALID_HANDLE)
		return rc;
	if ((rc = lh_pki_attr (t, c, h, CKA_VALUE, &der, &len)) != LH_EXIT_OK)
		return rc;
	p = der;
	if (!len || !(*out = d2i_X509 (NULL, &p, (long)len))) {
		ERR_clear_error ();
		rc = lh_error (t, LH_EXIT_FAIL, "remove it and store a good one",
		               "a certificate in token \"%s\" is not valid DER",
		               c->s.label);
	}
	free (der);
	return rc;
}

/* ---- URIs and serials ---------------------------------------------------- */

char *
lh_pki_key_uri (const lh_p11_slot *s, const lh_tkey *k)
{
	char *tok = lh_uri_for_token (&s->token);
	char *obj = lh_uri_encode (k->label, strlen (k->label));
	char *id = lh_uri_encode (k->id, k->id_len);
	char *uri = NULL;

	if (tok && obj && id &&
	    asprintf (&uri, "%s;object=%s%s%s;type=private", tok, obj,
	              k->id_len ? ";id=" : "", k->id_len ? id : "") < 0)
		uri = NULL;
	free (tok);
	free (obj);
	free (id);
	return uri;
}

int
lh_pki_serial (lh_tool *t, lh_secret_ctx *c, ASN1_INTEGER **out)
{
	unsigned char r[16];
	BIGNUM *bn;
	CK_RV rv;

	*out = NULL;
	if ((rv = c->f->C_GenerateRandom (c->h, r, sizeof r)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot get random bytes from "
		                    "token \"%s\"", c->s.label);
	/* positive, and never shorter than 64 bits (RFC 5280 4.1.2.2 keeps
	 * it at 20 octets or fewer): 127 random-ish bits, top one set */
	r[0] = (unsigned char)((r[0] & 0x7f) | 0x40);
	bn = BN_bin2bn (r, sizeof r, NULL);
	if (bn)
		*out = BN_to_ASN1_INTEGER (bn, NULL);
	BN_free (bn);
	if (!*out)
		return no_memory (t);
	return LH_EXIT_OK;
}
