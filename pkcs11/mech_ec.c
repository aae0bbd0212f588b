/*
 * mech_ec.c - the elliptic-curve family: keys on P-256, P-384 and P-521
 * (CKK_EC), Ed25519 and Ed448 (CKK_EC_EDWARDS), X25519 and X448
 * (CKK_EC_MONTGOMERY), and the mechanisms that use them:
 *   CKM_EC_KEY_PAIR_GEN, CKM_EC_EDWARDS_KEY_PAIR_GEN,
 *   CKM_EC_MONTGOMERY_KEY_PAIR_GEN            C_GenerateKeyPair
 *   CKM_ECDSA, CKM_ECDSA_SHA1/224/256/384/512 C_Sign*, C_Verify*
 *   CKM_EDDSA (pure, and with CK_EDDSA_PARAMS: ctx and ph variants)
 *   CKM_ECDH1_DERIVE (CKD_NULL and the X9.63 SHA KDFs)  C_DeriveKey
 * plus what key.c and C_CreateObject need per key type: the EVP_PKEY of
 * a key object (lh_ec_pkey), import checks (lh_ec_import) and the key
 * attributes of an EVP_PKEY (lh_ec_attrs).
 *
 * Encodings, as the PKCS#11 mechanisms spec (2.40 and 3.0, "Elliptic
 * Curve") and its clients (OpenSC, p11-kit, OpenSSL's engine) expect them:
 *   CKA_EC_PARAMS  DER of a named curve: an OBJECT IDENTIFIER, or for
 *                  Edwards/Montgomery curves also the PrintableString
 *                  curve name 3.0 allows ("edwards25519", "curve448"...).
 *                  What a caller gave is kept as given.
 *   CKA_EC_POINT   DER OCTET STRING around the point: 04||X||Y for the
 *                  P-curves, the raw 32/57/56-byte key for Ed/X.  A raw
 *                  point is accepted on import (and stored re-encoded)
 *                  and as the peer's point of ECDH.
 *   CKA_VALUE      P-curves: the private scalar, big-endian, padded to
 *                  the field size; Ed/X: the raw private key.
 *   ECDSA signatures are r||s, each padded to the order size, not DER.
 *
 * Invariants: every key that reaches an operation was checked at import
 * or made here, so operations trust the EVP_PKEY key.c built; secrets
 * that pass through our own buffers (private scalars, shared secrets,
 * EdDSA messages) are cleansed before they are freed.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"

/*
 * The key manager is named by its OID, not "EC": in OpenSSL 3.0 a name
 * that maps to a NID makes EVP_PKEY_CTX_new_from_name look for an ENGINE
 * registered for it first, even in our private library context, and a
 * host running with "-engine pkcs11" (libp11 registers RSA and EC) would
 * get the engine's legacy method, which cannot build keys from data.
 * The OID maps to no NID lookup and always reaches the provider.
 */
#define LH_EC_KEYMGMT "1.2.840.10045.2.1"
#include "pkcs11/object.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

/* OpenSSL 3.2 names, spelled out so the 3.0 headers compile too. */
#ifndef OSSL_SIGNATURE_PARAM_INSTANCE
#define OSSL_SIGNATURE_PARAM_INSTANCE "instance"
#endif
#ifndef OSSL_SIGNATURE_PARAM_CONTEXT_STRING
#define OSSL_SIGNATURE_PARAM_CONTEXT_STRING "context-string"
#endif

/* ------------------------------------------------------------------ */
/* Curves                                                              */

typedef struct {
	const char *name;          /* OpenSSL group (EC) or key type name */
	CK_KEY_TYPE kt;
	CK_MECHANISM_TYPE gen;     /* the key-pair generation mechanism */
	const uint8_t *oid;        /* DER OBJECT IDENTIFIER, tag included */
	size_t oid_len;
	const char *pname;         /* 3.0 PrintableString name, or NULL */
	size_t field;              /* bytes of a coordinate; raw key length */
	size_t order;              /* bytes of the group order (r, s) */
	size_t sig_len;            /* signature bytes (ECDSA r||s, EdDSA) */
} ec_curve;

static const uint8_t oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };
static const uint8_t oid_x25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x6e };
static const uint8_t oid_x448[] = { 0x06, 0x03, 0x2b, 0x65, 0x6f };
static const uint8_t oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const uint8_t oid_ed448[] = { 0x06, 0x03, 0x2b, 0x65, 0x71 };

#define OID(o) (o), sizeof (o)
#define GEN_EC CKM_EC_KEY_PAIR_GEN
#define GEN_ED CKM_EC_EDWARDS_KEY_PAIR_GEN
#define GEN_X CKM_EC_MONTGOMERY_KEY_PAIR_GEN

static const ec_curve curves[] = {
	/* name        key type        keygen  oid                 PrintableString  field order sig */
	{ "prime256v1", CKK_EC,        GEN_EC, OID (oid_p256),    NULL,            32, 32,  64 },
	{ "secp384r1", CKK_EC,         GEN_EC, OID (oid_p384),    NULL,            48, 48,  96 },
	{ "secp521r1", CKK_EC,         GEN_EC, OID (oid_p521),    NULL,            66, 66, 132 },
	{ "ED25519", CKK_EC_EDWARDS,   GEN_ED, OID (oid_ed25519), "edwards25519",  32, 32,  64 },
	{ "ED448", CKK_EC_EDWARDS,     GEN_ED, OID (oid_ed448),   "edwards448",    57, 57, 114 },
	{ "X25519", CKK_EC_MONTGOMERY, GEN_X,  OID (oid_x25519),  "curve25519",    32, 32,   0 },
	{ "X448", CKK_EC_MONTGOMERY,   GEN_X,  OID (oid_x448),    "curve448",      56, 56,   0 },
};

#define IS_P(c) ((c)->kt == CKK_EC)

/* The curve named by a CKA_EC_PARAMS value, or NULL. */
static const ec_curve *
curve_from_params (const uint8_t *p, size_t len)
{
	const ec_curve *c;
	size_t i, n;

	if (!p || len < 2)
		return NULL;
	for (i = 0; i < LH_ARRAY_SIZE (curves); i++) {
		c = &curves[i];
		if (len == c->oid_len && memcmp (p, c->oid, len) == 0)
			return c;
		/* 3.0: PrintableString (tag 0x13) naming the curve */
		n = c->pname ? strlen (c->pname) : 0;
		if (n && p[0] == 0x13 && p[1] == n && len == n + 2 &&
		    memcmp (p + 2, c->pname, n) == 0)
			return c;
		/* OpenSC 0.23's pkcs11-tool (Debian 12) sends "curve25519"
		 * with a length byte one too big (0x0b); take it, or
		 * "--key-type EC:curve25519" cannot make an X25519 key */
		if (n && strcmp (c->pname, "curve25519") == 0 && p[0] == 0x13 &&
		    p[1] == n + 1 && len == n + 2 && memcmp (p + 2, c->pname, n) == 0)
			return c;
	}
	return NULL;
}

/* The curve of a key object of type kt, from its CKA_EC_PARAMS. */
static CK_RV
curve_of_attrs (const lh_attrs *a, CK_KEY_TYPE kt, const ec_curve **out)
{
	const lh_sattr *p = lh_attrs_get (a, CKA_EC_PARAMS);
	const ec_curve *c;

	if (!p || (p->flags & LH_SATTR_UNAVAILABLE))
		return CKR_TEMPLATE_INCOMPLETE;
	c = curve_from_params (p->value, p->len);
	if (!c || c->kt != kt)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	*out = c;
	return CKR_OK;
}

/* The curve of an EVP_PKEY, or NULL if it is none of ours. */
static const ec_curve *
curve_of_pkey (EVP_PKEY *pkey)
{
	char group[64];
	size_t i;

	if (EVP_PKEY_is_a (pkey, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param (pkey, OSSL_PKEY_PARAM_GROUP_NAME,
		                                     group, sizeof group, NULL)) {
			ERR_clear_error ();
			return NULL;
		}
		for (i = 0; i < LH_ARRAY_SIZE (curves); i++)
			if (IS_P (&curves[i]) && strcmp (group, curves[i].name) == 0)
				return &curves[i];
		return NULL;
	}
	for (i = 0; i < LH_ARRAY_SIZE (curves); i++)
		if (!IS_P (&curves[i]) && EVP_PKEY_is_a (pkey, curves[i].name))
			return &curves[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Points: DER OCTET STRING or raw                                     */

/* Is len the length of a raw public key on c?  (P-curves: uncompressed
 * 04||X||Y or compressed 02/03||X, as OpenSSL decodes both.) */
static bool
point_len_ok (const ec_curve *c, const uint8_t *p, size_t len)
{
	if (!IS_P (c))
		return len == c->field;
	if (len == 1 + 2 * c->field)
		return p[0] == 0x04;
	if (len == 1 + c->field)
		return p[0] == 0x02 || p[0] == 0x03;
	return false;
}

/*
 * The raw point in a CKA_EC_POINT or ECDH public data: a DER OCTET
 * STRING around a point of the curve's size, else the bytes themselves
 * if they have a point's size.  The two never both fit: a DER string is
 * two or three bytes longer than its content, and no two point sizes of
 * one curve differ by that, so there is no guessing.
 */
static bool
point_from_bytes (const ec_curve *c, const uint8_t *p, size_t len,
                  const uint8_t **pt, size_t *pt_len)
{
	size_t n, hdr;

	if (!p || len < 2)
		return false;
	if (p[0] == 0x04) {
		hdr = 2;
		n = p[1];
		if (p[1] == 0x81 && len >= 3) {
			hdr = 3;
			n = p[2];
		} else if (p[1] > 0x7f) {
			n = SIZE_MAX;
		}
		if (n != SIZE_MAX && len == hdr + n && point_len_ok (c, p + hdr, n)) {
			*pt = p + hdr;
			*pt_len = n;
			return true;
		}
	}
	if (!point_len_ok (c, p, len))
		return false;
	*pt = p;
	*pt_len = len;
	return true;
}

/* Add type = DER OCTET STRING of pt (points are under 256 bytes). */
static CK_RV
add_octets (lh_attrs *a, CK_ATTRIBUTE_TYPE type, const uint8_t *pt, size_t len)
{
	uint8_t der[3 + 255];
	size_t hdr = len > 0x7f ? 3 : 2;

	if (len > 255)
		return CKR_GENERAL_ERROR;
	der[0] = 0x04;
	if (hdr == 3) {
		der[1] = 0x81;
		der[2] = (uint8_t)len;
	} else {
		der[1] = (uint8_t)len;
	}
	memcpy (der + hdr, pt, len);
	return lh_attrs_add (a, type, der, hdr + len);
}

/* ------------------------------------------------------------------ */
/* EVP_PKEY from key material                                          */

/* An EVP_PKEY from OSSL_PARAMs (EC keys). */
static CK_RV
pkey_fromdata (OSSL_PARAM_BLD *bld, int selection, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM *params = NULL;
	CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;

	*out = NULL;
	if (!(params = OSSL_PARAM_BLD_to_param (bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name (lh_g.libctx, LH_EC_KEYMGMT, NULL)) ||
	    EVP_PKEY_fromdata_init (ctx) != 1 ||
	    EVP_PKEY_fromdata (ctx, out, selection, params) != 1)
		goto out;
	rv = CKR_OK;
out:
	EVP_PKEY_CTX_free (ctx);
	/* a private scalar was pushed as a secure BIGNUM, so it sits in
	 * secure memory, which OSSL_PARAM_free cleanses */
	OSSL_PARAM_free (params);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/* A public key from a raw point.  CKR_ATTRIBUTE_VALUE_INVALID when the
 * point is not one on the curve. */
static CK_RV
pkey_from_point (const ec_curve *c, const uint8_t *pt, size_t len,
                 EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld;
	CK_RV rv;

	if (!IS_P (c)) {
		*out = EVP_PKEY_new_raw_public_key_ex (lh_g.libctx, c->name, NULL,
		                                       pt, len);
		return *out ? CKR_OK : lh_ossl_rv (CKR_ATTRIBUTE_VALUE_INVALID);
	}
	if (!(bld = OSSL_PARAM_BLD_new ()))
		return lh_ossl_rv (CKR_HOST_MEMORY);
	rv = CKR_HOST_MEMORY;
	if (OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME,
	                                     c->name, 0) &&
	    OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY, pt, len))
		rv = pkey_fromdata (bld, EVP_PKEY_PUBLIC_KEY, out);
	OSSL_PARAM_BLD_free (bld);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/*
 * The uncompressed public point d*G of a P-curve scalar, which must be
 * in [1, n-1] (CKR_ATTRIBUTE_VALUE_INVALID otherwise).  OpenSSL accepts
 * a private-only EC key but then cannot export SubjectPublicKeyInfo or
 * check the pair, so key objects always get the whole pair.
 */
static CK_RV
ec_public_of (const ec_curve *c, const BIGNUM *d, uint8_t *pub, size_t pub_len)
{
	EC_GROUP *g = NULL;
	EC_POINT *q = NULL;
	BN_CTX *bn = NULL;
	CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;

	if (!(g = EC_GROUP_new_by_curve_name_ex (lh_g.libctx, NULL,
	                                         OBJ_sn2nid (c->name))) ||
	    !(bn = BN_CTX_secure_new_ex (lh_g.libctx)) || !(q = EC_POINT_new (g)))
		goto out;
	/* SPEC: EC private key objects: CKA_VALUE is d, in [1, n-1] */
	if (BN_is_zero (d) || BN_is_negative (d) ||
	    BN_cmp (d, EC_GROUP_get0_order (g)) >= 0)
		goto out;
	if (!EC_POINT_mul (g, q, d, NULL, NULL, bn) ||
	    EC_POINT_point2oct (g, q, POINT_CONVERSION_UNCOMPRESSED, pub, pub_len,
	                        bn) != pub_len)
		goto out;
	rv = CKR_OK;
out:
	EC_POINT_free (q);
	BN_CTX_free (bn);
	EC_GROUP_free (g);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/* A key pair from a private value (CKA_VALUE). */
static CK_RV
pkey_from_private (const ec_curve *c, const uint8_t *v, size_t len,
                   EVP_PKEY **out)
{
	uint8_t pub[1 + 2 * 66];
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *d = NULL;
	CK_RV rv;

	if (!IS_P (c)) {
		if (len != c->field)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		*out = EVP_PKEY_new_raw_private_key_ex (lh_g.libctx, c->name, NULL,
		                                        v, len);
		return *out ? CKR_OK : lh_ossl_rv (CKR_ATTRIBUTE_VALUE_INVALID);
	}
	/* leading zero bytes are tolerated; the value is what counts */
	if (!len || len > c->field + 8)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	rv = CKR_HOST_MEMORY;
	if (!(d = BN_secure_new ()) || !BN_bin2bn (v, (int)len, d) ||
	    !(bld = OSSL_PARAM_BLD_new ()))
		goto out;
	if ((rv = ec_public_of (c, d, pub, 1 + 2 * c->field)) != CKR_OK)
		goto out;
	rv = CKR_HOST_MEMORY;
	if (OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME,
	                                     c->name, 0) &&
	    OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
	                                      1 + 2 * c->field) &&
	    OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
		rv = pkey_fromdata (bld, EVP_PKEY_KEYPAIR, out);
out:
	OSSL_PARAM_BLD_free (bld);
	BN_clear_free (d);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

CK_RV
lh_ec_pkey (const lh_attrs *a, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
            EVP_PKEY **out)
{
	const ec_curve *c;
	const lh_sattr *v;
	const uint8_t *pt;
	size_t pt_len;
	CK_RV rv;

	*out = NULL;
	if (kt != CKK_EC && kt != CKK_EC_EDWARDS && kt != CKK_EC_MONTGOMERY)
		return CKR_KEY_TYPE_INCONSISTENT;
	if ((rv = curve_of_attrs (a, kt, &c)) != CKR_OK)
		return rv == CKR_TEMPLATE_INCOMPLETE ? CKR_ATTRIBUTE_VALUE_INVALID : rv;
	if (cls == CKO_PUBLIC_KEY) {
		v = lh_attrs_get (a, CKA_EC_POINT);
		if (!v || (v->flags & LH_SATTR_UNAVAILABLE) ||
		    !point_from_bytes (c, v->value, v->len, &pt, &pt_len))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		return pkey_from_point (c, pt, pt_len, out);
	}
	if (cls != CKO_PRIVATE_KEY)
		return CKR_KEY_TYPE_INCONSISTENT;
	v = lh_attrs_get (a, CKA_VALUE);
	if (v && (v->flags & LH_SATTR_UNAVAILABLE))
		return CKR_USER_NOT_LOGGED_IN;   /* sealed, nobody logged in */
	if (!v)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return pkey_from_private (c, v->value, v->len, out);
}

/* ------------------------------------------------------------------ */
/* Attributes of an EVP_PKEY                                           */

/* CKA_PUBLIC_KEY_INFO: the DER SubjectPublicKeyInfo. */
static CK_RV
add_spki (EVP_PKEY *pkey, lh_attrs *a)
{
	unsigned char *der = NULL;
	int n;
	CK_RV rv;

	if ((n = i2d_PUBKEY (pkey, &der)) <= 0)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	rv = lh_attrs_add (a, CKA_PUBLIC_KEY_INFO, der, (size_t)n);
	OPENSSL_free (der);
	return rv;
}

/* A P-curve point in the uncompressed form (out: 1 + 2 * field bytes). */
static CK_RV
uncompress (const ec_curve *c, const uint8_t *pt, size_t len, uint8_t *out)
{
	EC_GROUP *g;
	EC_POINT *q = NULL;
	size_t n = 1 + 2 * c->field;
	CK_RV rv = CKR_FUNCTION_FAILED;

	if ((g = EC_GROUP_new_by_curve_name_ex (lh_g.libctx, NULL,
	                                        OBJ_sn2nid (c->name))) &&
	    (q = EC_POINT_new (g)) &&
	    EC_POINT_oct2point (g, q, pt, len, NULL) &&
	    EC_POINT_point2oct (g, q, POINT_CONVERSION_UNCOMPRESSED, out, n,
	                        NULL) == n)
		rv = CKR_OK;
	EC_POINT_free (q);
	EC_GROUP_free (g);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/* SPEC: CKA_EC_POINT: the DER encoding of the X9.62 ECPoint, an OCTET
 * STRING (uncompressed for the P-curves; the raw key for Ed/X, 3.0). */
static CK_RV
add_point (EVP_PKEY *pkey, const ec_curve *c, lh_attrs *a)
{
	uint8_t pt[1 + 2 * 66], full[1 + 2 * 66];
	size_t n = 0;
	CK_RV rv;

	if (IS_P (c)) {
		if (!EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_PUB_KEY,
		                                      pt, sizeof pt, &n))
			return lh_ossl_rv (CKR_FUNCTION_FAILED);
		/* OpenSSL keeps the form a point came in: store one form */
		if (n != 1 + 2 * c->field) {
			if ((rv = uncompress (c, pt, n, full)) != CKR_OK)
				return rv;
			return add_octets (a, CKA_EC_POINT, full, 1 + 2 * c->field);
		}
	} else {
		n = sizeof pt;
		if (!EVP_PKEY_get_raw_public_key (pkey, pt, &n))
			return lh_ossl_rv (CKR_FUNCTION_FAILED);
	}
	return add_octets (a, CKA_EC_POINT, pt, n);
}

/* CKA_VALUE of a private key (cleansed copy). */
static CK_RV
add_private (EVP_PKEY *pkey, const ec_curve *c, lh_attrs *a)
{
	uint8_t v[66];
	size_t n = sizeof v;
	BIGNUM *d = NULL;
	CK_RV rv = CKR_KEY_TYPE_INCONSISTENT;   /* no private half */

	if (IS_P (c)) {
		if (EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) &&
		    BN_bn2binpad (d, v, (int)c->field) == (int)c->field) {
			n = c->field;
			rv = CKR_OK;
		}
	} else if (EVP_PKEY_get_raw_private_key (pkey, v, &n)) {
		rv = CKR_OK;
	}
	BN_clear_free (d);
	if (rv == CKR_OK)
		rv = lh_attrs_add (a, CKA_VALUE, v, n);
	OPENSSL_cleanse (v, sizeof v);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

CK_RV
lh_ec_attrs (EVP_PKEY *pkey, CK_KEY_TYPE kt, lh_attrs *pub, lh_attrs *priv)
{
	const ec_curve *c = curve_of_pkey (pkey);
	CK_RV rv = CKR_OK;

	/* the key must be what the caller's template says it is */
	if (!c || (kt != LH_KT_ANY && kt != c->kt))
		return CKR_TEMPLATE_INCONSISTENT;
	if (pub && ((rv = lh_attrs_add (pub, CKA_EC_PARAMS, c->oid,
	                                c->oid_len)) != CKR_OK ||
	            (rv = add_point (pkey, c, pub)) != CKR_OK ||
	            (rv = add_spki (pkey, pub)) != CKR_OK))
		return rv;
	if (priv && ((rv = lh_attrs_add (priv, CKA_EC_PARAMS, c->oid,
	                                 c->oid_len)) != CKR_OK ||
	             (rv = add_private (pkey, c, priv)) != CKR_OK ||
	             (rv = add_spki (pkey, priv)) != CKR_OK))
		return rv;
	return CKR_OK;
}

/* ------------------------------------------------------------------ */
/* C_CreateObject                                                      */

/*
 * A CKA_PUBLIC_KEY_INFO the caller gave must describe this key (any
 * valid encoding of it); an absent or empty one is computed.
 */
static CK_RV
check_spki (lh_attrs *a, EVP_PKEY *pkey)
{
	const lh_sattr *s = lh_attrs_get (a, CKA_PUBLIC_KEY_INFO);
	const unsigned char *p;
	EVP_PKEY *given;
	int same;

	if (!s || !s->len)
		return add_spki (pkey, a);
	p = s->value;
	given = d2i_PUBKEY_ex (NULL, &p, (long)s->len, lh_g.libctx, NULL);
	if (!given || p != (const unsigned char *)s->value + s->len) {
		EVP_PKEY_free (given);
		return lh_ossl_rv (CKR_ATTRIBUTE_VALUE_INVALID);
	}
	same = EVP_PKEY_eq (given, pkey);
	EVP_PKEY_free (given);
	return same == 1 ? CKR_OK : lh_ossl_rv (CKR_TEMPLATE_INCONSISTENT);
}

/* Public key: the point is on the curve; CKA_EC_POINT stored as DER. */
static CK_RV
import_public (lh_attrs *a, const ec_curve *c, EVP_PKEY **pkey)
{
	const lh_sattr *v = lh_attrs_get (a, CKA_EC_POINT);
	EVP_PKEY_CTX *ctx;
	const uint8_t *pt;
	size_t len;
	int ok;
	CK_RV rv;

	if (!v)
		return CKR_TEMPLATE_INCOMPLETE;
	if (!point_from_bytes (c, v->value, v->len, &pt, &len))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if ((rv = pkey_from_point (c, pt, len, pkey)) != CKR_OK)
		return rv;
	if (!(ctx = EVP_PKEY_CTX_new_from_pkey (lh_g.libctx, *pkey, NULL)))
		return lh_ossl_rv (CKR_HOST_MEMORY);
	ok = EVP_PKEY_public_check (ctx);
	EVP_PKEY_CTX_free (ctx);
	if (ok != 1)
		return lh_ossl_rv (CKR_ATTRIBUTE_VALUE_INVALID);
	/* a raw or compressed point becomes the DER form clients expect */
	return add_point (*pkey, c, a);
}

/* Private key: the value fits the curve; stored padded (P-curves). */
static CK_RV
import_private (lh_attrs *a, const ec_curve *c, EVP_PKEY **pkey)
{
	const lh_sattr *v = lh_attrs_get (a, CKA_VALUE);
	CK_RV rv;

	if (!v)
		return CKR_TEMPLATE_INCOMPLETE;
	if ((rv = pkey_from_private (c, v->value, v->len, pkey)) != CKR_OK)
		return rv;
	return IS_P (c) ? add_private (*pkey, c, a) : CKR_OK;
}

CK_RV
lh_ec_import (lh_attrs *attrs, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt)
{
	const ec_curve *c;
	EVP_PKEY *pkey = NULL;
	CK_RV rv;

	if ((rv = curve_of_attrs (attrs, kt, &c)) != CKR_OK)
		return rv;
	if (cls == CKO_PUBLIC_KEY)
		rv = import_public (attrs, c, &pkey);
	else if (cls == CKO_PRIVATE_KEY)
		rv = import_private (attrs, c, &pkey);
	else
		rv = CKR_TEMPLATE_INCONSISTENT;
	if (rv == CKR_OK)
		rv = check_spki (attrs, pkey);
	EVP_PKEY_free (pkey);
	return rv;
}

/* ------------------------------------------------------------------ */
/* C_GenerateKeyPair                                                   */

static CK_RV
keygen (const ec_curve *c, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx;
	CK_RV rv = CKR_FUNCTION_FAILED;

	*out = NULL;
	ctx = EVP_PKEY_CTX_new_from_name (lh_g.libctx, IS_P (c) ? LH_EC_KEYMGMT : c->name,
	                                  NULL);
	if (ctx && EVP_PKEY_keygen_init (ctx) == 1 &&
	    (!IS_P (c) || EVP_PKEY_CTX_set_group_name (ctx, c->name) == 1) &&
	    EVP_PKEY_generate (ctx, out) == 1)
		rv = CKR_OK;
	EVP_PKEY_CTX_free (ctx);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

static CK_RV
ec_generate_pair (const lh_mech *m, const CK_MECHANISM *p, lh_attrs *pub,
                  lh_attrs *priv)
{
	const lh_sattr *pp = lh_attrs_get (pub, CKA_EC_PARAMS);
	const lh_sattr *vp = lh_attrs_get (priv, CKA_EC_PARAMS);
	uint8_t *pub_params = NULL, *priv_params = NULL;
	size_t pub_len, priv_len = 0;
	const ec_curve *c;
	EVP_PKEY *pkey = NULL;
	CK_RV rv;

	(void)p;   /* the key-pair mechanisms take no parameter */
	/* SPEC: EC/Edwards/Montgomery key pair generation: the curve comes
	 * from CKA_EC_PARAMS in the public key template */
	if (!pp)
		return CKR_TEMPLATE_INCOMPLETE;
	c = curve_from_params (pp->value, pp->len);
	if (!c || c->gen != m->type)
		return CKR_CURVE_NOT_SUPPORTED;
	if (vp && curve_from_params (vp->value, vp->len) != c)
		return CKR_TEMPLATE_INCONSISTENT;
	pub_len = pp->len;
	rv = CKR_HOST_MEMORY;
	if (!(pub_params = OPENSSL_memdup (pp->value, pp->len)) ||
	    (vp && !(priv_params = OPENSSL_memdup (vp->value, vp->len))))
		goto out;
	priv_len = vp ? vp->len : 0;
	if ((rv = keygen (c, &pkey)) != CKR_OK ||
	    (rv = lh_ec_attrs (pkey, c->kt, pub, priv)) != CKR_OK ||
	    (rv = lh_attrs_add (pub, CKA_EC_PARAMS, pub_params, pub_len)) != CKR_OK)
		goto out;
	/* lh_ec_attrs wrote the OID form: keep the caller's encodings */
	rv = priv_params ? lh_attrs_add (priv, CKA_EC_PARAMS, priv_params, priv_len) :
	                   lh_attrs_add (priv, CKA_EC_PARAMS, pub_params, pub_len);
out:
	OPENSSL_free (pub_params);
	OPENSSL_free (priv_params);
	EVP_PKEY_free (pkey);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Signatures: r||s <-> DER                                            */

/* DER ECDSA-Sig-Value -> r||s, each padded to half bytes. */
static CK_RV
der_to_rs (const uint8_t *der, size_t len, uint8_t *out, size_t half)
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	CK_RV rv = CKR_FUNCTION_FAILED;

	if (!(sig = d2i_ECDSA_SIG (NULL, &p, (long)len)))
		return lh_ossl_rv (rv);
	ECDSA_SIG_get0 (sig, &r, &s);
	if (BN_bn2binpad (r, out, (int)half) == (int)half &&
	    BN_bn2binpad (s, out + half, (int)half) == (int)half)
		rv = CKR_OK;
	ECDSA_SIG_free (sig);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/* r||s (2 * half bytes) -> DER for OpenSSL's verify; *der OPENSSL_free. */
static CK_RV
rs_to_der (const uint8_t *rs, size_t half, unsigned char **der, size_t *len)
{
	BIGNUM *r = BN_bin2bn (rs, (int)half, NULL);
	BIGNUM *s = BN_bin2bn (rs + half, (int)half, NULL);
	ECDSA_SIG *sig = ECDSA_SIG_new ();
	int n;

	*der = NULL;
	if (!r || !s || !sig || !ECDSA_SIG_set0 (sig, r, s)) {
		BN_free (r);
		BN_free (s);
		ECDSA_SIG_free (sig);
		return lh_ossl_rv (CKR_HOST_MEMORY);
	}
	n = i2d_ECDSA_SIG (sig, der);
	ECDSA_SIG_free (sig);      /* frees r and s */
	if (n <= 0)
		return lh_ossl_rv (CKR_HOST_MEMORY);
	*len = (size_t)n;
	return CKR_OK;
}

/* ------------------------------------------------------------------ */
/* Sign and verify operations                                          */

/*
 * One signature operation.  Raw CKM_ECDSA uses an EVP_PKEY_CTX (the
 * input is already a hash); the hashed ECDSA variants an EVP_MD_CTX fed
 * by update; EdDSA an EVP_MD_CTX used once, as OpenSSL's EdDSA is
 * single-part: its op has no update, so the fn layer collects the parts
 * and hands them all to oneshot/verify at the end.
 */
typedef struct {
	lh_op head;                  /* first: the fn layer sees only this */
	const ec_curve *curve;
	EVP_PKEY_CTX *pctx;          /* CKM_ECDSA; owned */
	EVP_MD_CTX *md;              /* hashed ECDSA and EdDSA; owned */
	uint8_t *ctx_data;           /* EdDSA context string (copy) */
	size_t ctx_len;
} ec_op;

static size_t
ec_out_len (lh_op *op, size_t in_len, bool final)
{
	(void)in_len;
	(void)final;
	return ((ec_op *)op)->curve->sig_len;
}

static void
ec_free (lh_op *op)
{
	ec_op *e = (ec_op *)op;

	EVP_PKEY_CTX_free (e->pctx);
	EVP_MD_CTX_free (e->md);
	OPENSSL_clear_free (e->ctx_data, e->ctx_len);
	OPENSSL_cleanse (e, sizeof *e);
	free (e);
}

/* An ECDSA DER signature from OpenSSL into out as r||s. */
static CK_RV
put_rs (ec_op *e, const uint8_t *der, size_t der_len, uint8_t *out,
        size_t *out_len)
{
	CK_RV rv;

	if (*out_len < e->curve->sig_len)
		return CKR_BUFFER_TOO_SMALL;
	if ((rv = der_to_rs (der, der_len, out, e->curve->order)) != CKR_OK)
		return rv;
	*out_len = e->curve->sig_len;
	return CKR_OK;
}

/* CKM_ECDSA: sign a hash of any length (OpenSSL truncates it to the
 * order's bit length, as X9.62 says). */
static CK_RV
ecdsa_sign (lh_op *op, const uint8_t *in, size_t in_len, uint8_t *out,
            size_t *out_len)
{
	ec_op *e = (ec_op *)op;
	unsigned char der[160];
	size_t der_len = sizeof der;

	if (EVP_PKEY_sign (e->pctx, der, &der_len, in, in_len) != 1)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	return put_rs (e, der, der_len, out, out_len);
}

/* Verify results: 1 good; 0 or an error (a malformed signature) bad. */
static CK_RV
verify_rv (int r)
{
	return r == 1 ? CKR_OK : lh_ossl_rv (CKR_SIGNATURE_INVALID);
}

static CK_RV
ecdsa_verify (lh_op *op, const uint8_t *in, size_t in_len, const uint8_t *sig,
              size_t sig_len)
{
	ec_op *e = (ec_op *)op;
	unsigned char *der;
	size_t der_len;
	CK_RV rv;

	/* SPEC: C_Verify: a signature of the wrong length is LEN_RANGE */
	if (sig_len != e->curve->sig_len)
		return CKR_SIGNATURE_LEN_RANGE;
	if ((rv = rs_to_der (sig, e->curve->order, &der, &der_len)) != CKR_OK)
		return rv;
	rv = verify_rv (EVP_PKEY_verify (e->pctx, der, der_len, in, in_len));
	OPENSSL_free (der);
	return rv;
}

static CK_RV
hash_update (lh_op *op, const uint8_t *in, size_t in_len, uint8_t *out,
             size_t *out_len)
{
	ec_op *e = (ec_op *)op;
	int ok;

	(void)out;
	if (out_len)
		*out_len = 0;
	if (!in_len)
		return CKR_OK;
	ok = op->kind == LH_OP_SIGN ? EVP_DigestSignUpdate (e->md, in, in_len) :
	     EVP_DigestVerifyUpdate (e->md, in, in_len);
	return ok == 1 ? CKR_OK : lh_ossl_rv (CKR_FUNCTION_FAILED);
}

static CK_RV
hash_sign_final (lh_op *op, uint8_t *out, size_t *out_len)
{
	ec_op *e = (ec_op *)op;
	unsigned char der[160];
	size_t der_len = sizeof der;

	if (EVP_DigestSignFinal (e->md, der, &der_len) != 1)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	return put_rs (e, der, der_len, out, out_len);
}

static CK_RV
hash_sign (lh_op *op, const uint8_t *in, size_t in_len, uint8_t *out,
           size_t *out_len)
{
	CK_RV rv;

	if (*out_len < ((ec_op *)op)->curve->sig_len)
		return CKR_BUFFER_TOO_SMALL;
	if ((rv = hash_update (op, in, in_len, NULL, NULL)) != CKR_OK)
		return rv;
	return hash_sign_final (op, out, out_len);
}

static CK_RV
hash_verify_final (lh_op *op, const uint8_t *sig, size_t sig_len)
{
	ec_op *e = (ec_op *)op;
	unsigned char *der;
	size_t der_len;
	CK_RV rv;

	if (sig_len != e->curve->sig_len)
		return CKR_SIGNATURE_LEN_RANGE;
	if ((rv = rs_to_der (sig, e->curve->order, &der, &der_len)) != CKR_OK)
		return rv;
	rv = verify_rv (EVP_DigestVerifyFinal (e->md, der, der_len));
	OPENSSL_free (der);
	return rv;
}

static CK_RV
hash_verify (lh_op *op, const uint8_t *in, size_t in_len, const uint8_t *sig,
             size_t sig_len)
{
	CK_RV rv;

	if (sig_len != ((ec_op *)op)->curve->sig_len)
		return CKR_SIGNATURE_LEN_RANGE;
	if ((rv = hash_update (op, in, in_len, NULL, NULL)) != CKR_OK)
		return rv;
	return hash_verify_final (op, sig, sig_len);
}

static CK_RV
eddsa_sign (lh_op *op, const uint8_t *in, size_t in_len, uint8_t *out,
            size_t *out_len)
{
	ec_op *e = (ec_op *)op;
	size_t n = *out_len;

	if (n < e->curve->sig_len)
		return CKR_BUFFER_TOO_SMALL;
	if (EVP_DigestSign (e->md, out, &n, in, in_len) != 1 ||
	    n != e->curve->sig_len)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	*out_len = n;
	return CKR_OK;
}

static CK_RV
eddsa_verify (lh_op *op, const uint8_t *in, size_t in_len, const uint8_t *sig,
              size_t sig_len)
{
	ec_op *e = (ec_op *)op;

	if (sig_len != e->curve->sig_len)
		return CKR_SIGNATURE_LEN_RANGE;
	return verify_rv (EVP_DigestVerify (e->md, sig, sig_len, in, in_len));
}

static const lh_op_ops ecdsa_ops = {
	.out_len = ec_out_len,
	.oneshot = ecdsa_sign,
	.verify = ecdsa_verify,
	.free = ec_free,
};

static const lh_op_ops hash_ops = {
	.out_len = ec_out_len,
	.oneshot = hash_sign,
	.update = hash_update,
	.final = hash_sign_final,
	.verify = hash_verify,
	.verify_final = hash_verify_final,
	.free = ec_free,
};

static const lh_op_ops eddsa_ops = {
	.out_len = ec_out_len,
	.oneshot = eddsa_sign,
	.verify = eddsa_verify,
	.free = ec_free,
};

/* CKM_ECDSA: a signature context on the key, no digest. */
static CK_RV
ecdsa_init (ec_op *e, EVP_PKEY *pkey, lh_op_kind kind)
{
	int ok;

	if (!(e->pctx = EVP_PKEY_CTX_new_from_pkey (lh_g.libctx, pkey, NULL)))
		return lh_ossl_rv (CKR_HOST_MEMORY);
	ok = kind == LH_OP_SIGN ? EVP_PKEY_sign_init (e->pctx) :
	     EVP_PKEY_verify_init (e->pctx);
	return ok == 1 ? CKR_OK : lh_ossl_rv (CKR_FUNCTION_FAILED);
}

/* CKM_ECDSA_SHA*: a digest-sign context with the mechanism's hash. */
static CK_RV
hash_init (ec_op *e, const lh_mech *m, EVP_PKEY *pkey, lh_op_kind kind)
{
	const char *md = lh_digest_name ((CK_MECHANISM_TYPE)m->arg);
	int ok;

	if (!md)
		return CKR_MECHANISM_INVALID;
	if (!(e->md = EVP_MD_CTX_new ()))
		return lh_ossl_rv (CKR_HOST_MEMORY);
	ok = kind == LH_OP_SIGN ?
	     EVP_DigestSignInit_ex (e->md, NULL, md, lh_g.libctx, NULL, pkey, NULL) :
	     EVP_DigestVerifyInit_ex (e->md, NULL, md, lh_g.libctx, NULL, pkey, NULL);
	return ok == 1 ? CKR_OK : lh_ossl_rv (CKR_FUNCTION_FAILED);
}

/*
 * The EdDSA variant a CK_EDDSA_PARAMS asks for (3.0, "EdDSA"):
 * none, or phFlag false with no context, is pure Ed25519/Ed448; a
 * context without phFlag is Ed25519ctx (Ed448 takes it directly);
 * phFlag is Ed25519ph/Ed448ph, with the context if any.
 */
static CK_RV
eddsa_variant (ec_op *e, const CK_MECHANISM *p, const char **instance)
{
	const CK_EDDSA_PARAMS *ep = p->pParameter;
	bool ed448 = e->curve->field == 57;

	*instance = NULL;
	if (!p->ulParameterLen)
		return CKR_OK;
	if (!ep || p->ulParameterLen != sizeof *ep)
		return CKR_MECHANISM_PARAM_INVALID;
	/* RFC 8032 5.1/5.2: contexts are at most 255 bytes */
	if (ep->ulContextDataLen > 255 || (ep->ulContextDataLen && !ep->pContextData))
		return CKR_MECHANISM_PARAM_INVALID;
	if (ep->ulContextDataLen &&
	    !(e->ctx_data = OPENSSL_memdup (ep->pContextData, ep->ulContextDataLen)))
		return CKR_HOST_MEMORY;
	e->ctx_len = ep->ulContextDataLen;
	if (ep->phFlag)
		*instance = ed448 ? "Ed448ph" : "Ed25519ph";
	else if (e->ctx_len)
		*instance = ed448 ? "Ed448" : "Ed25519ctx";
	return CKR_OK;
}

/*
 * CKM_EDDSA.  The ctx/ph variants need OpenSSL 3.2's "instance" and
 * "context-string" parameters; an older OpenSSL would ignore them and
 * make a pure signature, so their absence is a refused parameter.
 */
static CK_RV
eddsa_init (ec_op *e, const CK_MECHANISM *p, EVP_PKEY *pkey, lh_op_kind kind)
{
	OSSL_PARAM params[3], *q = params;
	const OSSL_PARAM *settable;
	EVP_PKEY_CTX *pctx = NULL;
	const char *instance;
	CK_RV rv;
	int ok;

	if ((rv = eddsa_variant (e, p, &instance)) != CKR_OK)
		return rv;
	if (!(e->md = EVP_MD_CTX_new ()))
		return lh_ossl_rv (CKR_HOST_MEMORY);
	ok = kind == LH_OP_SIGN ?
	     EVP_DigestSignInit_ex (e->md, &pctx, NULL, lh_g.libctx, NULL, pkey, NULL) :
	     EVP_DigestVerifyInit_ex (e->md, &pctx, NULL, lh_g.libctx, NULL, pkey, NULL);
	if (ok != 1)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	if (!instance)
		return CKR_OK;
	settable = EVP_PKEY_CTX_settable_params (pctx);
	if (!settable || !OSSL_PARAM_locate_const (settable, OSSL_SIGNATURE_PARAM_INSTANCE) ||
	    (e->ctx_len && !OSSL_PARAM_locate_const (settable,
	                                             OSSL_SIGNATURE_PARAM_CONTEXT_STRING)))
		return lh_ossl_rv (CKR_MECHANISM_PARAM_INVALID);
	*q++ = OSSL_PARAM_construct_utf8_string (OSSL_SIGNATURE_PARAM_INSTANCE,
	                                         (char *)instance, 0);
	if (e->ctx_len)
		*q++ = OSSL_PARAM_construct_octet_string (
			OSSL_SIGNATURE_PARAM_CONTEXT_STRING, e->ctx_data, e->ctx_len);
	*q = OSSL_PARAM_construct_end ();
	if (EVP_PKEY_CTX_set_params (pctx, params) != 1)
		return lh_ossl_rv (CKR_MECHANISM_PARAM_INVALID);
	return CKR_OK;
}

static CK_RV
ec_op_init (const lh_mech *m, const CK_MECHANISM *p, lh_key *key,
            lh_op_kind kind, lh_op **out)
{
	CK_KEY_TYPE want = m->type == CKM_EDDSA ? CKK_EC_EDWARDS : CKK_EC;
	ec_op *e;
	CK_RV rv;

	if (kind != LH_OP_SIGN && kind != LH_OP_VERIFY)
		return CKR_MECHANISM_INVALID;
	/* SPEC: sign with the private half, verify with the public one */
	if (!key || !key->pkey || key->kt != want ||
	    key->cls != (kind == LH_OP_SIGN ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY))
		return CKR_KEY_TYPE_INCONSISTENT;
	/* the ECDSA mechanisms take no parameter */
	if (m->type != CKM_EDDSA && p->ulParameterLen)
		return CKR_MECHANISM_PARAM_INVALID;
	if (!(e = calloc (1, sizeof *e)))
		return CKR_HOST_MEMORY;
	if ((rv = curve_of_attrs (&key->attrs, key->kt, &e->curve)) != CKR_OK) {
		rv = CKR_KEY_TYPE_INCONSISTENT;
		goto fail;
	}
	if (m->type == CKM_EDDSA) {
		e->head.ops = &eddsa_ops;
		rv = eddsa_init (e, p, key->pkey, kind);
	} else if (m->type == CKM_ECDSA) {
		e->head.ops = &ecdsa_ops;
		rv = ecdsa_init (e, key->pkey, kind);
	} else {
		e->head.ops = &hash_ops;
		rv = hash_init (e, m, key->pkey, kind);
	}
	if (rv != CKR_OK)
		goto fail;
	*out = &e->head;
	return CKR_OK;
fail:
	ec_free (&e->head);
	return rv;
}

/* ------------------------------------------------------------------ */
/* CKM_ECDH1_DERIVE                                                    */

/* The X9.63 KDF digest of a CKD_* (NULL for CKD_NULL); false: unknown. */
static bool
kdf_digest (CK_ULONG kdf, const char **md)
{
	switch (kdf) {
	case CKD_NULL:       *md = NULL; return true;
	case CKD_SHA1_KDF:   *md = "SHA1"; return true;
	case CKD_SHA224_KDF: *md = "SHA224"; return true;
	case CKD_SHA256_KDF: *md = "SHA256"; return true;
	case CKD_SHA384_KDF: *md = "SHA384"; return true;
	case CKD_SHA512_KDF: *md = "SHA512"; return true;
	default:             return false;
	}
}

/* The raw shared secret Z (the x-coordinate, field-size bytes). */
static CK_RV
ecdh_secret (EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *z, size_t *z_len)
{
	EVP_PKEY_CTX *ctx;
	CK_RV rv = CKR_MECHANISM_PARAM_INVALID;

	if (!(ctx = EVP_PKEY_CTX_new_from_pkey (lh_g.libctx, priv, NULL)))
		return lh_ossl_rv (CKR_HOST_MEMORY);
	/* a peer point off the curve, or of small order (X25519/X448:
	 * an all-zero result), is the caller's bad parameter */
	if (EVP_PKEY_derive_init (ctx) == 1 &&
	    EVP_PKEY_derive_set_peer_ex (ctx, peer, 1) == 1 &&
	    EVP_PKEY_derive (ctx, z, z_len) == 1)
		rv = CKR_OK;
	EVP_PKEY_CTX_free (ctx);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/* ANSI X9.63 KDF: out = H(Z || counter || SharedInfo) || ... */
static CK_RV
x963 (const char *md, const uint8_t *z, size_t z_len, const uint8_t *info,
      size_t info_len, uint8_t *out, size_t out_len)
{
	OSSL_PARAM params[4], *q = params;
	EVP_KDF_CTX *kctx = NULL;
	EVP_KDF *kdf;
	CK_RV rv = CKR_FUNCTION_FAILED;

	if (!(kdf = EVP_KDF_fetch (lh_g.libctx, "X963KDF", NULL)))
		return lh_ossl_rv (rv);
	*q++ = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST,
	                                         (char *)md, 0);
	*q++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY,
	                                          (void *)z, z_len);
	if (info_len)
		*q++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO,
		                                          (void *)info, info_len);
	*q = OSSL_PARAM_construct_end ();
	if ((kctx = EVP_KDF_CTX_new (kdf)) &&
	    EVP_KDF_derive (kctx, out, out_len, params) == 1)
		rv = CKR_OK;
	EVP_KDF_CTX_free (kctx);
	EVP_KDF_free (kdf);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/* Parameter checks of CK_ECDH1_DERIVE_PARAMS ("EC mechanism parameters"). */
static CK_RV
ecdh_params (const CK_MECHANISM *p, const CK_ECDH1_DERIVE_PARAMS **out,
             const char **md)
{
	const CK_ECDH1_DERIVE_PARAMS *dp = p->pParameter;

	if (!dp || p->ulParameterLen != sizeof *dp || !kdf_digest (dp->kdf, md))
		return CKR_MECHANISM_PARAM_INVALID;
	/* SPEC: CK_ECDH1_DERIVE_PARAMS: with CKD_NULL, pSharedData is NULL
	 * and ulSharedDataLen 0 */
	if (dp->kdf == CKD_NULL && (dp->pSharedData || dp->ulSharedDataLen))
		return CKR_MECHANISM_PARAM_INVALID;
	if ((dp->ulSharedDataLen && !dp->pSharedData) ||
	    !dp->pPublicData || !dp->ulPublicDataLen)
		return CKR_MECHANISM_PARAM_INVALID;
	*out = dp;
	return CKR_OK;
}

/*
 * The derived value.  *len on entry is the length the template asks
 * for; 0 means the whole secret (the field size; with a KDF too).
 * CKD_NULL cannot make more than the secret (CKR_TEMPLATE_INCONSISTENT)
 * and gives its leading bytes when asked for fewer, as OpenSSL's
 * ECDH_compute_key does.
 */
static CK_RV
ec_derive (const lh_mech *m, const CK_MECHANISM *p, lh_key *base,
           uint8_t **value, size_t *len)
{
	const CK_ECDH1_DERIVE_PARAMS *dp;
	const ec_curve *c;
	const uint8_t *pt;
	const char *md;
	EVP_PKEY *peer = NULL;
	uint8_t z[66], *v = NULL;
	size_t z_len = sizeof z, pt_len, want = 0;
	CK_RV rv;

	(void)m;
	*value = NULL;
	if ((rv = ecdh_params (p, &dp, &md)) != CKR_OK)
		return rv;
	if (!base || !base->pkey || base->cls != CKO_PRIVATE_KEY ||
	    (base->kt != CKK_EC && base->kt != CKK_EC_MONTGOMERY) ||
	    curve_of_attrs (&base->attrs, base->kt, &c) != CKR_OK)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (!point_from_bytes (c, dp->pPublicData, dp->ulPublicDataLen, &pt, &pt_len) ||
	    pkey_from_point (c, pt, pt_len, &peer) != CKR_OK)
		return CKR_MECHANISM_PARAM_INVALID;
	if ((rv = ecdh_secret (base->pkey, peer, z, &z_len)) != CKR_OK)
		goto out;
	want = *len ? *len : z_len;
	rv = CKR_TEMPLATE_INCONSISTENT;
	if (!md && want > z_len)
		goto out;
	rv = CKR_HOST_MEMORY;
	if (!(v = malloc (want)))
		goto out;
	if (md)
		rv = x963 (md, z, z_len, dp->pSharedData, dp->ulSharedDataLen, v, want);
	else {
		memcpy (v, z, want);
		rv = CKR_OK;
	}
	if (rv != CKR_OK)
		goto out;
	*value = v;
	*len = want;
	v = NULL;
out:
	OPENSSL_clear_free (v, want);
	OPENSSL_cleanse (z, sizeof z);
	EVP_PKEY_free (peer);
	return rv;
}

const lh_family lh_ec_family = {
	.op_init = ec_op_init,
	.generate_pair = ec_generate_pair,
	.derive = ec_derive,
};
