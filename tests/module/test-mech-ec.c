/*
 * test-mech-ec.c - module-API tests of the elliptic-curve family:
 * key-pair generation on P-256/P-384/P-521, Ed25519/Ed448 and
 * X25519/X448 (attributes as clients read them), import checks, ECDSA
 * (raw and hashed, single- and multi-part) cross-checked with OpenSSL in
 * this process both ways, EdDSA against the RFC 8032 vectors, X25519
 * against RFC 7748 and ECDH on P-256 between two module keys, with the
 * null KDF and the X9.63 SHA-256 KDF, and the error codes of each.
 *
 * Everything goes through the PKCS#11 function list; OpenSSL is used
 * only on this side, as an independent implementation to check against.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "fixture.h"

#define N_(a) (sizeof (a) / sizeof ((a)[0]))

#ifndef CKK_EC_MONTGOMERY
#define CKK_EC_MONTGOMERY 0x41UL
#endif
#ifndef CKM_EC_MONTGOMERY_KEY_PAIR_GEN
#define CKM_EC_MONTGOMERY_KEY_PAIR_GEN 0x1056UL
#endif

/* CK_EDDSA_PARAMS (PKCS#11 3.0 mechanisms, 2.3.14); not in p11-kit 0.24 */
typedef struct {
	CK_BBOOL phFlag;
	CK_ULONG ulContextDataLen;
	CK_BYTE_PTR pContextData;
} eddsa_params_t;

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_OBJECT_CLASS cls_pub = CKO_PUBLIC_KEY, cls_priv = CKO_PRIVATE_KEY,
	cls_secret = CKO_SECRET_KEY;
static CK_KEY_TYPE kt_generic = CKK_GENERIC_SECRET;

/* DER of the named curves' OIDs, and the 3.0 PrintableString names. */
static const CK_BYTE p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const CK_BYTE p384_oid[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const CK_BYTE p521_oid[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };
static const CK_BYTE x25519_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x6e };
static const CK_BYTE x448_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x6f };
static const CK_BYTE ed25519_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const CK_BYTE ed448_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x71 };
static const CK_BYTE ed25519_name[] = { 0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's',
                                        '2', '5', '5', '1', '9' };
static const CK_BYTE x25519_name[] = { 0x13, 0x0a, 'c', 'u', 'r', 'v', 'e',
                                       '2', '5', '5', '1', '9' };
/* what OpenSC 0.23's pkcs11-tool sends for EC:curve25519: length 0x0b */
static const CK_BYTE x25519_opensc[] = { 0x13, 0x0b, 'c', 'u', 'r', 'v', 'e',
                                         '2', '5', '5', '1', '9' };
/* secp256k1 (1.3.132.0.10): a fine curve, but not one litehsm offers */
static const CK_BYTE k256_oid[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a };

/* ------------------------------------------------------------------ */
/* Test vectors                                                        */

/* RFC 8032 section 7.1, TEST 1..3 (Ed25519) */
static const struct {
	const char *sk, *pk, *msg, *sig;
} ed25519_vec[] = {
	{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	  "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	  "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
	  "af82",
	  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
	  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
};

/* RFC 8032 section 7.2, Ed25519ctx "foo", and 7.3, Ed25519ph "abc" */
static const char ed25519ctx_sk[] =
	"0305334e381af78f141cb666f6199f57bc3495335a256a95bd2a55bf546663f6";
static const char ed25519ctx_msg[] = "f726936d19c800494e3fdaff20b276a8";
static const char ed25519ctx_sig[] =
	"55a4cc2f70a54e04288c5f4cd1e45a7bb520b36292911876cada7323198dd87a"
	"8b36950b95130022907a7fb7c4e9b2d5f6cca685a587b4b21f4b888e4e7edb0d";
static const char ed25519ph_sk[] =
	"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42";
static const char ed25519ph_sig[] =
	"98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
	"31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406";

/* RFC 8032 section 7.4, "Blank" (Ed448, empty context) */
static const char ed448_sk[] =
	"6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3"
	"528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b";
static const char ed448_pk[] =
	"5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778"
	"edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180";
static const char ed448_sig[] =
	"533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f"
	"2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980ff0d2028d4b18a"
	"9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4db"
	"b61149f05a7363268c71d95808ff2e652600";

/* RFC 7748 section 6.1 (X25519 Diffie-Hellman) */
static const char x25519_a[] =
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char x25519_a_pub[] =
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char x25519_b[] =
	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char x25519_b_pub[] =
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char x25519_k[] =
	"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static size_t
unhex (const char *s, CK_BYTE *out, size_t max)
{
	size_t n = strlen (s) / 2, i;
	unsigned v;

	assert_true (strlen (s) % 2 == 0 && n <= max);
	for (i = 0; i < n; i++) {
		assert_true (sscanf (s + 2 * i, "%2x", &v) == 1);
		out[i] = (CK_BYTE)v;
	}
	return n;
}

/* DER OCTET STRING around raw (as CKA_EC_POINT holds it). */
static size_t
wrap_octets (const CK_BYTE *raw, size_t len, CK_BYTE *out)
{
	size_t h = len > 127 ? 3 : 2;

	out[0] = 0x04;
	if (h == 3) {
		out[1] = 0x81;
		out[2] = (CK_BYTE)len;
	} else {
		out[1] = (CK_BYTE)len;
	}
	memcpy (out + h, raw, len);
	return h + len;
}

static CK_RV
gen_pair_rv (lh_fx *fx, CK_MECHANISM_TYPE mt, const CK_BYTE *params,
             size_t plen, bool token, bool derive, CK_OBJECT_HANDLE *pub,
             CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM mech = { mt, NULL, 0 };
	CK_ATTRIBUTE pt[] = {
		{ CKA_EC_PARAMS, (void *)params, plen },
		{ CKA_TOKEN, token ? &yes : &no, 1 },
		{ CKA_VERIFY, &yes, 1 },
		{ CKA_LABEL, "ec-test", 7 },
	};
	CK_ATTRIBUTE vt[] = {
		{ CKA_TOKEN, token ? &yes : &no, 1 },
		{ CKA_SIGN, derive ? &no : &yes, 1 },
		{ CKA_DERIVE, derive ? &yes : &no, 1 },
		{ CKA_LABEL, "ec-test", 7 },
	};

	return fx->fl->C_GenerateKeyPair (fx->session, &mech, pt, N_ (pt), vt,
	                                  N_ (vt), pub, priv);
}

static void
gen_pair (lh_fx *fx, CK_MECHANISM_TYPE mt, const CK_BYTE *params, size_t plen,
          bool derive, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	assert_rv (CKR_OK, gen_pair_rv (fx, mt, params, plen, false, derive, pub, priv));
}

static CK_RV
import_pub_rv (lh_fx *fx, CK_KEY_TYPE kt, const CK_BYTE *params, size_t plen,
               const CK_BYTE *point, size_t ptlen, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_pub, sizeof cls_pub },
		{ CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_EC_PARAMS, (void *)params, plen },
		{ CKA_EC_POINT, (void *)point, ptlen },
		{ CKA_VERIFY, &yes, 1 },
	};

	return fx->fl->C_CreateObject (fx->session, t, N_ (t), out);
}

static CK_OBJECT_HANDLE
import_pub (lh_fx *fx, CK_KEY_TYPE kt, const CK_BYTE *params, size_t plen,
            const CK_BYTE *point, size_t ptlen)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv (CKR_OK, import_pub_rv (fx, kt, params, plen, point, ptlen, &h));
	return h;
}

static CK_RV
import_priv_rv (lh_fx *fx, CK_KEY_TYPE kt, const CK_BYTE *params, size_t plen,
                const CK_BYTE *value, size_t vlen, bool derive,
                CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_priv, sizeof cls_priv },
		{ CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_EC_PARAMS, (void *)params, plen },
		{ CKA_VALUE, (void *)value, vlen },
		{ CKA_SIGN, derive ? &no : &yes, 1 },
		{ CKA_DERIVE, derive ? &yes : &no, 1 },
	};

	return fx->fl->C_CreateObject (fx->session, t, N_ (t), out);
}

static CK_OBJECT_HANDLE
import_priv (lh_fx *fx, CK_KEY_TYPE kt, const CK_BYTE *params, size_t plen,
             const CK_BYTE *value, size_t vlen, bool derive)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv (CKR_OK, import_priv_rv (fx, kt, params, plen, value, vlen,
	                                   derive, &h));
	return h;
}

/*
 * Sign with the length-query convention checked on the way: NULL output
 * reports want, a short buffer gives BUFFER_TOO_SMALL and keeps the
 * operation, which then signs.
 */
static CK_ULONG
sign (lh_fx *fx, CK_MECHANISM *mech, CK_OBJECT_HANDLE key, const CK_BYTE *data,
      size_t len, CK_BYTE *sig, CK_ULONG want)
{
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_ULONG n = 0;

	assert_rv (CKR_OK, f->C_SignInit (fx->session, mech, key));
	assert_rv (CKR_OK, f->C_Sign (fx->session, (CK_BYTE_PTR)data, len, NULL, &n));
	assert_num_eq (want, n);
	n = want - 1;
	assert_rv (CKR_BUFFER_TOO_SMALL,
	           f->C_Sign (fx->session, (CK_BYTE_PTR)data, len, sig, &n));
	assert_num_eq (want, n);
	assert_rv (CKR_OK, f->C_Sign (fx->session, (CK_BYTE_PTR)data, len, sig, &n));
	assert_num_eq (want, n);
	return n;
}

/* Multi-part: data in parts of at most chunk bytes. */
static CK_ULONG
sign_parts (lh_fx *fx, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
            const CK_BYTE *data, size_t len, size_t chunk, CK_BYTE *sig,
            CK_ULONG max)
{
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_ULONG n = max;
	size_t off, k;

	assert_rv (CKR_OK, f->C_SignInit (fx->session, mech, key));
	for (off = 0; off < len; off += k) {
		k = len - off < chunk ? len - off : chunk;
		assert_rv (CKR_OK, f->C_SignUpdate (fx->session, (CK_BYTE_PTR)data + off, k));
	}
	assert_rv (CKR_OK, f->C_SignFinal (fx->session, sig, &n));
	return n;
}

static CK_RV
verify_rv (lh_fx *fx, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
           const CK_BYTE *data, size_t len, const CK_BYTE *sig, size_t sig_len)
{
	CK_RV rv = fx->fl->C_VerifyInit (fx->session, mech, key);

	if (rv != CKR_OK)
		return rv;
	return fx->fl->C_Verify (fx->session, (CK_BYTE_PTR)data, len,
	                         (CK_BYTE_PTR)sig, sig_len);
}

static CK_RV
verify_parts_rv (lh_fx *fx, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
                 const CK_BYTE *data, size_t len, size_t chunk,
                 const CK_BYTE *sig, size_t sig_len)
{
	CK_FUNCTION_LIST_PTR f = fx->fl;
	size_t off, k;
	CK_RV rv;

	assert_rv (CKR_OK, f->C_VerifyInit (fx->session, mech, key));
	for (off = 0; off < len; off += k) {
		k = len - off < chunk ? len - off : chunk;
		rv = f->C_VerifyUpdate (fx->session, (CK_BYTE_PTR)data + off, k);
		if (rv != CKR_OK)
			return rv;
	}
	return f->C_VerifyFinal (fx->session, (CK_BYTE_PTR)sig, sig_len);
}

/* ------------------------------------------------------------------ */
/* OpenSSL on the test side                                            */

/* The NID of a 3.0 PrintableString curve name (DER), or NID_undef. */
static int
printable_nid (const CK_BYTE *p, size_t len)
{
	static const struct { const char *name; int nid; } names[] = {
		{ "edwards25519", NID_ED25519 }, { "edwards448", NID_ED448 },
		{ "curve25519", NID_X25519 }, { "curve448", NID_X448 },
	};
	size_t i;

	for (i = 0; i < N_ (names); i++)
		if (len >= 2 && p[0] == 0x13 && p[1] == len - 2 &&
		    strlen (names[i].name) == len - 2 &&
		    memcmp (p + 2, names[i].name, len - 2) == 0)
			return names[i].nid;
	return NID_undef;
}

/* The public key of object h, built from CKA_EC_PARAMS and CKA_EC_POINT
 * as a client would (not from CKA_PUBLIC_KEY_INFO). */
static EVP_PKEY *
ossl_pub (lh_fx *fx, CK_OBJECT_HANDLE h)
{
	CK_BYTE params[64], point[160];
	CK_ULONG plen = fx_get_bytes (fx, fx->session, h, CKA_EC_PARAMS, params,
	                              sizeof params);
	CK_ULONG ptlen = fx_get_bytes (fx, fx->session, h, CKA_EC_POINT, point,
	                               sizeof point);
	const unsigned char *p = params;
	ASN1_OBJECT *obj = d2i_ASN1_OBJECT (NULL, &p, (long)plen);
	ASN1_OCTET_STRING *os;
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *ps;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	int nid;

	if (obj) {
		nid = OBJ_obj2nid (obj);
		ASN1_OBJECT_free (obj);
	} else {
		/* 3.0: a PrintableString curve name */
		nid = printable_nid (params, plen);
	}
	assert_true (nid != NID_undef);
	p = point;
	os = d2i_ASN1_OCTET_STRING (NULL, &p, (long)ptlen);
	assert_true (os != NULL && p == point + ptlen);
	if (nid == NID_ED25519 || nid == NID_ED448 || nid == NID_X25519 ||
	    nid == NID_X448) {
		pkey = EVP_PKEY_new_raw_public_key (nid, NULL, os->data, os->length);
	} else {
		bld = OSSL_PARAM_BLD_new ();
		OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME,
		                                 OBJ_nid2sn (nid), 0);
		OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY,
		                                  os->data, os->length);
		ps = OSSL_PARAM_BLD_to_param (bld);
		ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
		if (ctx && EVP_PKEY_fromdata_init (ctx) == 1)
			EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, ps);
		EVP_PKEY_CTX_free (ctx);
		OSSL_PARAM_free (ps);
		OSSL_PARAM_BLD_free (bld);
	}
	ASN1_OCTET_STRING_free (os);
	assert_true (pkey != NULL);
	return pkey;
}

/* r||s -> DER; returns the DER length. */
static size_t
rs_to_der (const CK_BYTE *rs, size_t len, CK_BYTE *der)
{
	ECDSA_SIG *s = ECDSA_SIG_new ();
	unsigned char *p = der;
	int n;

	ECDSA_SIG_set0 (s, BN_bin2bn (rs, (int)len / 2, NULL),
	                BN_bin2bn (rs + len / 2, (int)len / 2, NULL));
	n = i2d_ECDSA_SIG (s, &p);
	ECDSA_SIG_free (s);
	assert_true (n > 0);
	return (size_t)n;
}

/* DER -> r||s, each half bytes. */
static void
der_to_rs (const CK_BYTE *der, size_t len, size_t half, CK_BYTE *rs)
{
	const unsigned char *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG (NULL, &p, (long)len);
	const BIGNUM *r, *ss;

	assert_true (s != NULL);
	ECDSA_SIG_get0 (s, &r, &ss);
	assert_num_eq (half, BN_bn2binpad (r, rs, (int)half));
	assert_num_eq (half, BN_bn2binpad (ss, rs + half, (int)half));
	ECDSA_SIG_free (s);
}

/* OpenSSL's verdict on a module signature (r||s or EdDSA). */
static int
ossl_verify (EVP_PKEY *pkey, const char *md, bool raw_ecdsa, const CK_BYTE *data,
             size_t len, const CK_BYTE *sig, size_t sig_len)
{
	CK_BYTE der[200];
	size_t der_len = sig_len;
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx;
	int ok = 0;

	if (EVP_PKEY_is_a (pkey, "EC"))
		der_len = rs_to_der (sig, sig_len, der);
	else
		memcpy (der, sig, sig_len);
	if (raw_ecdsa) {
		pctx = EVP_PKEY_CTX_new (pkey, NULL);
		ok = EVP_PKEY_verify_init (pctx) == 1 &&
		     EVP_PKEY_verify (pctx, der, der_len, data, len) == 1;
		EVP_PKEY_CTX_free (pctx);
		return ok;
	}
	mctx = EVP_MD_CTX_new ();
	ok = EVP_DigestVerifyInit (mctx, NULL, md ? EVP_get_digestbyname (md) : NULL,
	                           NULL, pkey) == 1 &&
	     EVP_DigestVerify (mctx, der, der_len, data, len) == 1;
	EVP_MD_CTX_free (mctx);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Key generation                                                      */

static void
check_generated (lh_fx *fx, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv,
                 CK_MECHANISM_TYPE mt, const CK_BYTE *params, size_t plen,
                 size_t point_len)
{
	CK_BYTE buf[300], want[160];
	CK_ULONG n, len;
	CK_RV rv;
	EVP_PKEY *a, *b;
	const unsigned char *p;

	/* CKA_EC_PARAMS on both halves, as the caller gave it */
	n = fx_get_bytes (fx, fx->session, pub, CKA_EC_PARAMS, buf, sizeof buf);
	assert_mem_eq (params, plen, buf, n);
	n = fx_get_bytes (fx, fx->session, priv, CKA_EC_PARAMS, buf, sizeof buf);
	assert_mem_eq (params, plen, buf, n);
	/* CKA_EC_POINT: a DER OCTET STRING of the point's size */
	n = fx_get_bytes (fx, fx->session, pub, CKA_EC_POINT, buf, sizeof buf);
	assert_num_eq (point_len + (point_len > 127 ? 3 : 2), n);
	assert_num_eq (0x04, buf[0]);
	if (point_len > 127) {
		assert_num_eq (0x81, buf[1]);
		assert_num_eq (point_len, buf[2]);
	} else {
		assert_num_eq (point_len, buf[1]);
	}
	if (mt == CKM_EC_KEY_PAIR_GEN)
		assert_num_eq (0x04, buf[point_len > 127 ? 3 : 2]);   /* uncompressed */
	/* never on the private half */
	len = sizeof buf;
	rv = fx_get_rv (fx, fx->session, priv, CKA_EC_POINT, buf, &len);
	assert_rv (CKR_ATTRIBUTE_TYPE_INVALID, rv);
	/* generated, sensitive private value */
	assert_num_eq (CK_TRUE, fx_get_bool (fx, fx->session, pub, CKA_LOCAL));
	assert_num_eq (CK_TRUE, fx_get_bool (fx, fx->session, priv, CKA_LOCAL));
	assert_num_eq (mt, fx_get_ulong (fx, fx->session, pub, CKA_KEY_GEN_MECHANISM));
	assert_num_eq (mt, fx_get_ulong (fx, fx->session, priv, CKA_KEY_GEN_MECHANISM));
	assert_num_eq (CK_TRUE, fx_get_bool (fx, fx->session, priv, CKA_SENSITIVE));
	assert_num_eq (CK_TRUE, fx_get_bool (fx, fx->session, priv, CKA_ALWAYS_SENSITIVE));
	len = sizeof buf;
	rv = fx_get_rv (fx, fx->session, priv, CKA_VALUE, buf, &len);
	assert_rv (CKR_ATTRIBUTE_SENSITIVE, rv);
	/* CKA_PUBLIC_KEY_INFO on both halves, the same key as the point */
	a = ossl_pub (fx, pub);
	n = fx_get_bytes (fx, fx->session, pub, CKA_PUBLIC_KEY_INFO, buf, sizeof buf);
	p = buf;
	b = d2i_PUBKEY (NULL, &p, (long)n);
	assert_true (b != NULL && EVP_PKEY_eq (a, b) == 1);
	EVP_PKEY_free (b);
	len = fx_get_bytes (fx, fx->session, priv, CKA_PUBLIC_KEY_INFO, want, sizeof want);
	assert_mem_eq (buf, n, want, len);
	EVP_PKEY_free (a);
}

static void
test_keygen_p (lh_fx *fx, const CK_BYTE *oid, size_t oid_len, size_t field)
{
	CK_OBJECT_HANDLE pub, priv;

	/* token objects: the key goes through the store and back */
	assert_rv (CKR_OK, gen_pair_rv (fx, CKM_EC_KEY_PAIR_GEN, oid, oid_len,
	                                true, false, &pub, &priv));
	check_generated (fx, pub, priv, CKM_EC_KEY_PAIR_GEN, oid, oid_len,
	                 1 + 2 * field);
}

static void
test_keygen_p256 (void *arg)
{
	test_keygen_p (arg, p256_oid, sizeof p256_oid, 32);
}

static void
test_keygen_p384 (void *arg)
{
	test_keygen_p (arg, p384_oid, sizeof p384_oid, 48);
}

static void
test_keygen_p521 (void *arg)
{
	test_keygen_p (arg, p521_oid, sizeof p521_oid, 66);
}

static void
test_keygen_edwards (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE pub, priv;

	gen_pair (fx, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed25519_oid, sizeof ed25519_oid,
	          false, &pub, &priv);
	check_generated (fx, pub, priv, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed25519_oid,
	                 sizeof ed25519_oid, 32);
	gen_pair (fx, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed448_oid, sizeof ed448_oid,
	          false, &pub, &priv);
	check_generated (fx, pub, priv, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed448_oid,
	                 sizeof ed448_oid, 57);
	/* 3.0: the PrintableString curve name, kept as given */
	gen_pair (fx, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed25519_name, sizeof ed25519_name,
	          false, &pub, &priv);
	check_generated (fx, pub, priv, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed25519_name,
	                 sizeof ed25519_name, 32);
	assert_num_eq (CKK_EC_EDWARDS, fx_get_ulong (fx, fx->session, priv, CKA_KEY_TYPE));
}

static void
test_keygen_montgomery (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE pub, priv;

	gen_pair (fx, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, x25519_oid, sizeof x25519_oid,
	          true, &pub, &priv);
	check_generated (fx, pub, priv, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, x25519_oid,
	                 sizeof x25519_oid, 32);
	assert_num_eq (CKK_EC_MONTGOMERY, fx_get_ulong (fx, fx->session, pub, CKA_KEY_TYPE));
	gen_pair (fx, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, x448_oid, sizeof x448_oid,
	          true, &pub, &priv);
	check_generated (fx, pub, priv, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, x448_oid,
	                 sizeof x448_oid, 56);
	gen_pair (fx, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, x25519_name, sizeof x25519_name,
	          true, &pub, &priv);
	check_generated (fx, pub, priv, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, x25519_name,
	                 sizeof x25519_name, 32);
	/* pkcs11-tool --keypairgen --key-type EC:curve25519 (Debian 12) */
	gen_pair (fx, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, x25519_opensc,
	          sizeof x25519_opensc, true, &pub, &priv);
	assert_num_eq (34, fx_get_bytes (fx, fx->session, pub, CKA_EC_POINT,
	                                 (CK_BYTE[64]){ 0 }, 64));
}

static void
test_keygen_errors (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv;
	CK_ATTRIBUTE none[] = { { CKA_VERIFY, &yes, 1 } };
	CK_ATTRIBUTE other[] = {
		{ CKA_EC_PARAMS, (void *)p384_oid, sizeof p384_oid },
	};
	CK_ATTRIBUTE p256[] = {
		{ CKA_EC_PARAMS, (void *)p256_oid, sizeof p256_oid },
	};

	/* a curve litehsm does not offer, or one of another key type */
	assert_rv (CKR_CURVE_NOT_SUPPORTED,
	           gen_pair_rv (fx, CKM_EC_KEY_PAIR_GEN, k256_oid, sizeof k256_oid,
	                        false, false, &pub, &priv));
	assert_rv (CKR_CURVE_NOT_SUPPORTED,
	           gen_pair_rv (fx, CKM_EC_KEY_PAIR_GEN, ed25519_oid,
	                        sizeof ed25519_oid, false, false, &pub, &priv));
	assert_rv (CKR_CURVE_NOT_SUPPORTED,
	           gen_pair_rv (fx, CKM_EC_EDWARDS_KEY_PAIR_GEN, x25519_oid,
	                        sizeof x25519_oid, false, false, &pub, &priv));
	assert_rv (CKR_CURVE_NOT_SUPPORTED,
	           gen_pair_rv (fx, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, p256_oid,
	                        sizeof p256_oid, false, true, &pub, &priv));
	/* no CKA_EC_PARAMS in the public template */
	assert_rv (CKR_TEMPLATE_INCOMPLETE,
	           fx->fl->C_GenerateKeyPair (fx->session, &mech, none, 1, NULL, 0,
	                                      &pub, &priv));
	/* private template naming another curve */
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           fx->fl->C_GenerateKeyPair (fx->session, &mech, p256, 1, other, 1,
	                                      &pub, &priv));
	/* the same curve in both is fine */
	assert_rv (CKR_OK, fx->fl->C_GenerateKeyPair (fx->session, &mech, p256, 1,
	                                              p256, 1, &pub, &priv));
}

/* ------------------------------------------------------------------ */
/* ECDSA                                                               */

static const CK_BYTE message[] =
	"litehsm: the quick brown fox signs a certificate request for "
	"server.litehsm.test and the lazy dog verifies it with OpenSSL";

static void
ecdsa_module_to_openssl (lh_fx *fx, const CK_BYTE *oid, size_t oid_len,
                         size_t order)
{
	CK_MECHANISM raw = { CKM_ECDSA, NULL, 0 };
	static const struct { CK_MECHANISM_TYPE mt; const char *md; } hashed[] = {
		{ CKM_ECDSA_SHA1, "SHA1" }, { CKM_ECDSA_SHA224, "SHA224" },
		{ CKM_ECDSA_SHA256, "SHA256" }, { CKM_ECDSA_SHA384, "SHA384" },
		{ CKM_ECDSA_SHA512, "SHA512" },
	};
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE sig[200], hash[64];
	CK_ULONG n;
	unsigned hlen;
	EVP_PKEY *pkey;
	size_t i;

	gen_pair (fx, CKM_EC_KEY_PAIR_GEN, oid, oid_len, false, &pub, &priv);
	pkey = ossl_pub (fx, pub);
	/* raw: a SHA-256 hash, and a SHA-512 hash longer than P-256's order */
	EVP_Digest (message, sizeof message, hash, &hlen, EVP_sha256 (), NULL);
	n = sign (fx, &raw, priv, hash, hlen, sig, 2 * order);
	assert_true (ossl_verify (pkey, NULL, true, hash, hlen, sig, n));
	assert_rv (CKR_OK, verify_rv (fx, &raw, pub, hash, hlen, sig, n));
	EVP_Digest (message, sizeof message, hash, &hlen, EVP_sha512 (), NULL);
	n = sign (fx, &raw, priv, hash, hlen, sig, 2 * order);
	assert_true (ossl_verify (pkey, NULL, true, hash, hlen, sig, n));
	/* hashed variants, single- and multi-part */
	for (i = 0; i < N_ (hashed); i++) {
		CK_MECHANISM m = { hashed[i].mt, NULL, 0 };

		n = sign (fx, &m, priv, message, sizeof message, sig, 2 * order);
		assert_true (ossl_verify (pkey, hashed[i].md, false, message,
		                          sizeof message, sig, n));
		n = sign_parts (fx, &m, priv, message, sizeof message, 7, sig,
		                sizeof sig);
		assert_num_eq (2 * order, n);
		assert_true (ossl_verify (pkey, hashed[i].md, false, message,
		                          sizeof message, sig, n));
		/* a flipped message bit: OpenSSL must say no (the check can fail) */
		assert_false (ossl_verify (pkey, hashed[i].md, false, message,
		                           sizeof message - 1, sig, n));
	}
	EVP_PKEY_free (pkey);
}

static void
test_ecdsa_sign_p256 (void *arg)
{
	ecdsa_module_to_openssl (arg, p256_oid, sizeof p256_oid, 32);
}

static void
test_ecdsa_sign_p384 (void *arg)
{
	ecdsa_module_to_openssl (arg, p384_oid, sizeof p384_oid, 48);
}

static void
test_ecdsa_sign_p521 (void *arg)
{
	ecdsa_module_to_openssl (arg, p521_oid, sizeof p521_oid, 66);
}

/* An OpenSSL key: its point (DER) and scalar (padded) for import. */
static EVP_PKEY *
ossl_keygen (const char *group, CK_BYTE *point, size_t *plen, CK_BYTE *d,
             size_t dlen)
{
	EVP_PKEY *pkey = EVP_EC_gen (group);
	CK_BYTE raw[160];
	BIGNUM *bn = NULL;
	size_t n = 0;

	assert_true (pkey != NULL);
	assert_true (EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_PUB_KEY,
	                                              raw, sizeof raw, &n));
	*plen = wrap_octets (raw, n, point);
	assert_true (EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn));
	assert_num_eq (dlen, BN_bn2binpad (bn, d, (int)dlen));
	BN_free (bn);
	return pkey;
}

static void
test_ecdsa_verify_openssl (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM sha256 = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_MECHANISM raw = { CKM_ECDSA, NULL, 0 };
	CK_BYTE point[160], d[48], der[200], sig[96], hash[32];
	size_t plen, slen = sizeof der;
	unsigned hlen;
	CK_OBJECT_HANDLE pub, priv;
	EVP_MD_CTX *mctx = EVP_MD_CTX_new ();
	EVP_PKEY *pkey = ossl_keygen ("P-384", point, &plen, d, sizeof d);
	CK_ULONG n;

	pub = import_pub (fx, CKK_EC, p384_oid, sizeof p384_oid, point, plen);
	/* OpenSSL signs; the module verifies r||s */
	assert_true (EVP_DigestSignInit (mctx, NULL, EVP_sha256 (), NULL, pkey) == 1);
	assert_true (EVP_DigestSign (mctx, der, &slen, message, sizeof message) == 1);
	der_to_rs (der, slen, 48, sig);
	assert_rv (CKR_OK, verify_rv (fx, &sha256, pub, message, sizeof message, sig, 96));
	assert_rv (CKR_OK, verify_parts_rv (fx, &sha256, pub, message, sizeof message,
	                                    10, sig, 96));
	EVP_Digest (message, sizeof message, hash, &hlen, EVP_sha256 (), NULL);
	assert_rv (CKR_OK, verify_rv (fx, &raw, pub, hash, hlen, sig, 96));
	/* tampered signature, tampered data, wrong lengths */
	sig[10] ^= 0x01;
	assert_rv (CKR_SIGNATURE_INVALID,
	           verify_rv (fx, &sha256, pub, message, sizeof message, sig, 96));
	sig[10] ^= 0x01;
	assert_rv (CKR_SIGNATURE_INVALID,
	           verify_rv (fx, &sha256, pub, message, sizeof message - 1, sig, 96));
	assert_rv (CKR_SIGNATURE_INVALID,
	           verify_parts_rv (fx, &sha256, pub, message, sizeof message - 1,
	                            10, sig, 96));
	assert_rv (CKR_SIGNATURE_LEN_RANGE,
	           verify_rv (fx, &sha256, pub, message, sizeof message, sig, 95));
	assert_rv (CKR_SIGNATURE_LEN_RANGE,
	           verify_rv (fx, &raw, pub, hash, hlen, sig, 64));
	/* a DER signature is not what PKCS#11 verifies */
	assert_true (slen != 96);
	assert_rv (CKR_SIGNATURE_LEN_RANGE,
	           verify_rv (fx, &sha256, pub, message, sizeof message, der, slen));
	/* the private scalar imported: the module signs, OpenSSL verifies */
	priv = import_priv (fx, CKK_EC, p384_oid, sizeof p384_oid, d, sizeof d, false);
	n = sign (fx, &sha256, priv, message, sizeof message, sig, 96);
	assert_true (ossl_verify (pkey, "SHA256", false, message, sizeof message, sig, n));
	OPENSSL_cleanse (d, sizeof d);
	EVP_MD_CTX_free (mctx);
	EVP_PKEY_free (pkey);
}

static void
test_ecdsa_key_errors (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_MECHANISM bad = { CKM_ECDSA_SHA256, (void *)p256_oid, sizeof p256_oid };
	CK_MECHANISM ed = { CKM_EDDSA, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv, epub, epriv;

	gen_pair (fx, CKM_EC_KEY_PAIR_GEN, p256_oid, sizeof p256_oid, false, &pub, &priv);
	gen_pair (fx, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed25519_oid, sizeof ed25519_oid,
	          false, &epub, &epriv);
	/* SPEC: sign needs the private half, verify the public one */
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, fx->fl->C_SignInit (fx->session, &m, pub));
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, fx->fl->C_VerifyInit (fx->session, &m, priv));
	/* ECDSA with an Edwards key and EdDSA with a P-256 key */
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, fx->fl->C_SignInit (fx->session, &m, epriv));
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, fx->fl->C_SignInit (fx->session, &ed, priv));
	/* ECDSA takes no parameter */
	assert_rv (CKR_MECHANISM_PARAM_INVALID, fx->fl->C_SignInit (fx->session, &bad, priv));
	/* and the session is still usable afterwards */
	assert_rv (CKR_OK, fx->fl->C_SignInit (fx->session, &m, priv));
	assert_rv (CKR_OK, fx->fl->C_SignInit (fx->session, NULL, priv));
}

/* ------------------------------------------------------------------ */
/* EdDSA                                                               */

static void
test_eddsa_rfc8032_ed25519 (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = { CKM_EDDSA, NULL, 0 };
	CK_BYTE sk[32], pk[32], msg[8], want[64], sig[64], der[40];
	size_t mlen, i;
	CK_OBJECT_HANDLE priv, pub;
	CK_ULONG n;
	EVP_PKEY *pkey;

	for (i = 0; i < N_ (ed25519_vec); i++) {
		unhex (ed25519_vec[i].sk, sk, sizeof sk);
		unhex (ed25519_vec[i].pk, pk, sizeof pk);
		mlen = unhex (ed25519_vec[i].msg, msg, sizeof msg);
		unhex (ed25519_vec[i].sig, want, sizeof want);
		priv = import_priv (fx, CKK_EC_EDWARDS, ed25519_oid, sizeof ed25519_oid,
		                    sk, sizeof sk, false);
		n = sign (fx, &m, priv, msg, mlen, sig, 64);
		assert_mem_eq (want, 64, sig, n);
		/* multi-part (EdDSA is collected and signed at the end) */
		n = sign_parts (fx, &m, priv, msg, mlen, 1, sig, sizeof sig);
		assert_mem_eq (want, 64, sig, n);
		/* the public key: test 1 raw (stored as DER), others DER */
		if (i == 0)
			pub = import_pub (fx, CKK_EC_EDWARDS, ed25519_oid,
			                  sizeof ed25519_oid, pk, sizeof pk);
		else
			pub = import_pub (fx, CKK_EC_EDWARDS, ed25519_oid,
			                  sizeof ed25519_oid, der,
			                  wrap_octets (pk, sizeof pk, der));
		n = fx_get_bytes (fx, fx->session, pub, CKA_EC_POINT, sig, sizeof sig);
		assert_mem_eq (der, wrap_octets (pk, sizeof pk, der), sig, n);
		assert_rv (CKR_OK, verify_rv (fx, &m, pub, msg, mlen, want, 64));
		assert_rv (CKR_OK, verify_parts_rv (fx, &m, pub, msg, mlen, 1, want, 64));
		pkey = ossl_pub (fx, pub);
		assert_true (ossl_verify (pkey, NULL, false, msg, mlen, want, 64));
		EVP_PKEY_free (pkey);
		want[63] ^= 0x40;
		assert_rv (CKR_SIGNATURE_INVALID, verify_rv (fx, &m, pub, msg, mlen, want, 64));
		assert_rv (CKR_SIGNATURE_LEN_RANGE, verify_rv (fx, &m, pub, msg, mlen, want, 63));
	}
}

static void
test_eddsa_rfc8032_ed448 (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = { CKM_EDDSA, NULL, 0 };
	CK_BYTE sk[57], pk[57], want[114], sig[114];
	CK_OBJECT_HANDLE priv, pub;
	CK_ULONG n;

	unhex (ed448_sk, sk, sizeof sk);
	unhex (ed448_pk, pk, sizeof pk);
	unhex (ed448_sig, want, sizeof want);
	priv = import_priv (fx, CKK_EC_EDWARDS, ed448_oid, sizeof ed448_oid, sk,
	                    sizeof sk, false);
	n = sign (fx, &m, priv, NULL, 0, sig, 114);
	assert_mem_eq (want, 114, sig, n);
	pub = import_pub (fx, CKK_EC_EDWARDS, ed448_oid, sizeof ed448_oid, pk, sizeof pk);
	assert_rv (CKR_OK, verify_rv (fx, &m, pub, NULL, 0, want, 114));
	assert_rv (CKR_SIGNATURE_INVALID, verify_rv (fx, &m, pub, (CK_BYTE *)"x", 1,
	                                             want, 114));
	/* the private half computes the same public key info as the public */
	{
		CK_BYTE a[128], b[128];
		CK_ULONG la = fx_get_bytes (fx, fx->session, priv, CKA_PUBLIC_KEY_INFO,
		                            a, sizeof a);
		CK_ULONG lb = fx_get_bytes (fx, fx->session, pub, CKA_PUBLIC_KEY_INFO,
		                            b, sizeof b);
		assert_mem_eq (a, la, b, lb);
	}
}

/* Generated Edwards keys: the module signs, OpenSSL verifies. */
static void
test_eddsa_generated (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = { CKM_EDDSA, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE sig[114];
	CK_ULONG n;
	EVP_PKEY *pkey;

	gen_pair (fx, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed448_oid, sizeof ed448_oid, false,
	          &pub, &priv);
	n = sign (fx, &m, priv, message, sizeof message, sig, 114);
	pkey = ossl_pub (fx, pub);
	assert_true (ossl_verify (pkey, NULL, false, message, sizeof message, sig, n));
	assert_false (ossl_verify (pkey, NULL, false, message, sizeof message - 1, sig, n));
	EVP_PKEY_free (pkey);
	assert_rv (CKR_OK, verify_rv (fx, &m, pub, message, sizeof message, sig, n));
}

/*
 * CK_EDDSA_PARAMS.  Without phFlag and context it is pure Ed25519.  The
 * ctx and ph variants need OpenSSL 3.2: with an older one the module
 * must refuse them (CKR_MECHANISM_PARAM_INVALID) rather than silently
 * make a pure signature; with a newer one they must give RFC 8032's
 * 7.2 and 7.3 signatures.
 */
static void
test_eddsa_params (void *arg)
{
	lh_fx *fx = arg;
	eddsa_params_t pure = { CK_FALSE, 0, NULL };
	eddsa_params_t ph = { CK_TRUE, 0, NULL };
	eddsa_params_t ctx = { CK_FALSE, 3, (CK_BYTE_PTR)"foo" };
	eddsa_params_t nullctx = { CK_FALSE, 3, NULL };
	CK_MECHANISM m = { CKM_EDDSA, &pure, sizeof pure };
	CK_BYTE sk[32], msg[16], want[64], sig[64];
	CK_OBJECT_HANDLE priv;
	size_t mlen;
	CK_ULONG n;
	CK_RV rv;

	unhex (ed25519_vec[0].sk, sk, sizeof sk);
	unhex (ed25519_vec[0].sig, want, sizeof want);
	priv = import_priv (fx, CKK_EC_EDWARDS, ed25519_oid, sizeof ed25519_oid, sk,
	                    sizeof sk, false);
	n = sign (fx, &m, priv, NULL, 0, sig, 64);
	assert_mem_eq (want, 64, sig, n);
	/* malformed parameters */
	m.ulParameterLen = sizeof pure - 1;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, fx->fl->C_SignInit (fx->session, &m, priv));
	m.pParameter = &nullctx;
	m.ulParameterLen = sizeof nullctx;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, fx->fl->C_SignInit (fx->session, &m, priv));
	/* Ed25519ph, RFC 8032 7.3 */
	unhex (ed25519ph_sk, sk, sizeof sk);
	unhex (ed25519ph_sig, want, sizeof want);
	priv = import_priv (fx, CKK_EC_EDWARDS, ed25519_oid, sizeof ed25519_oid, sk,
	                    sizeof sk, false);
	m.pParameter = &ph;
	m.ulParameterLen = sizeof ph;
	rv = fx->fl->C_SignInit (fx->session, &m, priv);
	if (rv == CKR_MECHANISM_PARAM_INVALID) {
		printf ("# Ed25519ph/ctx not offered (OpenSSL before 3.2)\n");
		return;
	}
	assert_rv (CKR_OK, rv);
	n = sizeof sig;
	assert_rv (CKR_OK, fx->fl->C_Sign (fx->session, (CK_BYTE_PTR)"abc", 3, sig, &n));
	assert_mem_eq (want, 64, sig, n);
	/* Ed25519ctx, RFC 8032 7.2 (context "foo") */
	unhex (ed25519ctx_sk, sk, sizeof sk);
	mlen = unhex (ed25519ctx_msg, msg, sizeof msg);
	unhex (ed25519ctx_sig, want, sizeof want);
	priv = import_priv (fx, CKK_EC_EDWARDS, ed25519_oid, sizeof ed25519_oid, sk,
	                    sizeof sk, false);
	m.pParameter = &ctx;
	m.ulParameterLen = sizeof ctx;
	n = sign (fx, &m, priv, msg, mlen, sig, 64);
	assert_mem_eq (want, 64, sig, n);
}

/* ------------------------------------------------------------------ */
/* Import                                                              */

static CK_RV
import_spki_rv (lh_fx *fx, const CK_BYTE *point, size_t plen, EVP_PKEY *key)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY (key, &der);
	CK_KEY_TYPE kt = CKK_EC;
	CK_OBJECT_HANDLE h;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_pub, sizeof cls_pub },
		{ CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_EC_PARAMS, (void *)p256_oid, sizeof p256_oid },
		{ CKA_EC_POINT, (void *)point, plen },
		{ CKA_PUBLIC_KEY_INFO, der, (CK_ULONG)n },
	};
	CK_RV rv;

	assert_true (n > 0);
	rv = fx->fl->C_CreateObject (fx->session, t, N_ (t), &h);
	OPENSSL_free (der);
	return rv;
}

static void
spki_check (lh_fx *fx, EVP_PKEY *pkey, const CK_BYTE *point, size_t plen)
{
	EVP_PKEY *other = EVP_EC_gen ("P-256");

	assert_rv (CKR_OK, import_spki_rv (fx, point, plen, pkey));
	assert_rv (CKR_TEMPLATE_INCONSISTENT, import_spki_rv (fx, point, plen, other));
	EVP_PKEY_free (other);
}

static void
test_import (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE point[160], d[32], der[160], buf[200];
	CK_BYTE zero[32] = { 0 }, order[32];
	size_t plen;
	CK_ULONG n, len;
	CK_OBJECT_HANDLE h;
	EVP_PKEY *pkey = ossl_keygen ("P-256", point, &plen, d, sizeof d);
	CK_RV rv;

	/* a raw uncompressed point is accepted and stored as DER */
	h = import_pub (fx, CKK_EC, p256_oid, sizeof p256_oid, point + 2, plen - 2);
	n = fx_get_bytes (fx, fx->session, h, CKA_EC_POINT, buf, sizeof buf);
	assert_mem_eq (point, plen, buf, n);
	n = fx_get_bytes (fx, fx->session, h, CKA_PUBLIC_KEY_INFO, buf, sizeof buf);
	assert_true (n > 65);
	/* a compressed point is stored uncompressed */
	{
		CK_BYTE comp[33];

		comp[0] = 0x02 | (point[plen - 1] & 1);
		memcpy (comp + 1, point + 3, 32);
		h = import_pub (fx, CKK_EC, p256_oid, sizeof p256_oid, comp, sizeof comp);
		n = fx_get_bytes (fx, fx->session, h, CKA_EC_POINT, buf, sizeof buf);
		assert_mem_eq (point, plen, buf, n);
	}
	/* a CKA_PUBLIC_KEY_INFO given must be this key's */
	spki_check (fx, pkey, point, plen);
	/* a point off the curve (y changed) */
	memcpy (der, point, plen);
	der[plen - 1] ^= 0x01;
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           import_pub_rv (fx, CKK_EC, p256_oid, sizeof p256_oid, der, plen, &h));
	/* a point of the wrong size, an unknown curve, a curve of another type */
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           import_pub_rv (fx, CKK_EC, p256_oid, sizeof p256_oid, point, plen - 1, &h));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           import_pub_rv (fx, CKK_EC, k256_oid, sizeof k256_oid, point, plen, &h));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           import_pub_rv (fx, CKK_EC_EDWARDS, p256_oid, sizeof p256_oid,
	                          point, plen, &h));
	/* private: CKA_PUBLIC_KEY_INFO computed, never a CKA_EC_POINT */
	h = import_priv (fx, CKK_EC, p256_oid, sizeof p256_oid, d, sizeof d, false);
	n = fx_get_bytes (fx, fx->session, h, CKA_PUBLIC_KEY_INFO, buf, sizeof buf);
	{
		const unsigned char *p = buf;
		EVP_PKEY *spki = d2i_PUBKEY (NULL, &p, (long)n);

		assert_true (spki && EVP_PKEY_eq (spki, pkey) == 1);
		EVP_PKEY_free (spki);
	}
	len = sizeof buf;
	rv = fx_get_rv (fx, fx->session, h, CKA_EC_POINT, buf, &len);
	assert_rv (CKR_ATTRIBUTE_TYPE_INVALID, rv);
	/* private values out of range: 0 and the group order n */
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           import_priv_rv (fx, CKK_EC, p256_oid, sizeof p256_oid, zero,
	                           sizeof zero, false, &h));
	unhex ("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
	       order, sizeof order);
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           import_priv_rv (fx, CKK_EC, p256_oid, sizeof p256_oid, order,
	                           sizeof order, false, &h));
	/* an Ed25519 private key of the wrong length */
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           import_priv_rv (fx, CKK_EC_EDWARDS, ed25519_oid, sizeof ed25519_oid,
	                           d, 31, false, &h));
	OPENSSL_cleanse (d, sizeof d);
	EVP_PKEY_free (pkey);
}

/* ------------------------------------------------------------------ */
/* ECDH                                                                */

static CK_RV
derive_rv (lh_fx *fx, CK_OBJECT_HANDLE base, CK_ULONG kdf, const CK_BYTE *shared,
           size_t slen, const CK_BYTE *pub, size_t plen, CK_ULONG value_len,
           CK_OBJECT_HANDLE *out)
{
	CK_ECDH1_DERIVE_PARAMS p = {
		kdf, slen, (CK_BYTE_PTR)shared, plen, (CK_BYTE_PTR)pub,
	};
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof p };
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_generic, sizeof kt_generic },
		{ CKA_SENSITIVE, &no, 1 },
		{ CKA_EXTRACTABLE, &yes, 1 },
		{ CKA_VALUE_LEN, &value_len, sizeof value_len },
	};

	return fx->fl->C_DeriveKey (fx->session, &m, base, t,
	                            value_len ? N_ (t) : N_ (t) - 1, out);
}

/* Derive and read the value back. */
static CK_ULONG
derive (lh_fx *fx, CK_OBJECT_HANDLE base, CK_ULONG kdf, const CK_BYTE *shared,
        size_t slen, const CK_BYTE *pub, size_t plen, CK_ULONG value_len,
        CK_BYTE *out, CK_ULONG max)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv (CKR_OK, derive_rv (fx, base, kdf, shared, slen, pub, plen,
	                              value_len, &h));
	return fx_get_bytes (fx, fx->session, h, CKA_VALUE, out, max);
}

static void
test_x25519_rfc7748 (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE a[32], apub[32], b[32], bpub[32], k[32], der[34], out[64];
	CK_OBJECT_HANDLE ha, hb;
	CK_ULONG n;

	unhex (x25519_a, a, sizeof a);
	unhex (x25519_a_pub, apub, sizeof apub);
	unhex (x25519_b, b, sizeof b);
	unhex (x25519_b_pub, bpub, sizeof bpub);
	unhex (x25519_k, k, sizeof k);
	ha = import_priv (fx, CKK_EC_MONTGOMERY, x25519_oid, sizeof x25519_oid, a,
	                  sizeof a, true);
	/* Bob's public key raw, whole secret (no CKA_VALUE_LEN) */
	n = derive (fx, ha, CKD_NULL, NULL, 0, bpub, sizeof bpub, 0, out, sizeof out);
	assert_mem_eq (k, sizeof k, out, n);
	/* as a DER OCTET STRING, and asking for 32 bytes */
	n = derive (fx, ha, CKD_NULL, NULL, 0, der, wrap_octets (bpub, 32, der), 32,
	            out, sizeof out);
	assert_mem_eq (k, sizeof k, out, n);
	/* Bob's side, with the 3.0 curve name as CKA_EC_PARAMS */
	hb = import_priv (fx, CKK_EC_MONTGOMERY, x25519_name, sizeof x25519_name, b,
	                  sizeof b, true);
	n = derive (fx, hb, CKD_NULL, NULL, 0, apub, sizeof apub, 0, out, sizeof out);
	assert_mem_eq (k, sizeof k, out, n);
	/* more than the secret with the null KDF */
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           derive_rv (fx, ha, CKD_NULL, NULL, 0, bpub, sizeof bpub, 33, &hb));
	/* a public key of the wrong size */
	assert_rv (CKR_MECHANISM_PARAM_INVALID,
	           derive_rv (fx, ha, CKD_NULL, NULL, 0, bpub, 31, 0, &hb));
}

/* X9.63 KDF computed here by hand: SHA-256(Z || counter || info)... */
static void
x963_sha256 (const CK_BYTE *z, size_t zlen, const CK_BYTE *info, size_t ilen,
             CK_BYTE *out, size_t len)
{
	CK_BYTE block[32], ctr[4];
	uint32_t i;
	size_t off, k;
	EVP_MD_CTX *c = EVP_MD_CTX_new ();

	for (i = 1, off = 0; off < len; i++, off += k) {
		ctr[0] = (CK_BYTE)(i >> 24);
		ctr[1] = (CK_BYTE)(i >> 16);
		ctr[2] = (CK_BYTE)(i >> 8);
		ctr[3] = (CK_BYTE)i;
		EVP_DigestInit_ex (c, EVP_sha256 (), NULL);
		EVP_DigestUpdate (c, z, zlen);
		EVP_DigestUpdate (c, ctr, 4);
		EVP_DigestUpdate (c, info, ilen);
		EVP_DigestFinal_ex (c, block, NULL);
		k = len - off < 32 ? len - off : 32;
		memcpy (out + off, block, k);
	}
	EVP_MD_CTX_free (c);
}

static void
test_ecdh_p256 (void *arg)
{
	lh_fx *fx = arg;
	static const CK_BYTE info[] = "litehsm ecdh test shared info";
	CK_OBJECT_HANDLE apub, apriv, bpub, bpriv, h;
	CK_BYTE pa[80], pb[80], za[64], zb[64], ka[64], kb[64], want[64];
	CK_BYTE bad[80];
	CK_ULONG la, lb, n;

	gen_pair (fx, CKM_EC_KEY_PAIR_GEN, p256_oid, sizeof p256_oid, true, &apub, &apriv);
	gen_pair (fx, CKM_EC_KEY_PAIR_GEN, p256_oid, sizeof p256_oid, true, &bpub, &bpriv);
	la = fx_get_bytes (fx, fx->session, apub, CKA_EC_POINT, pa, sizeof pa);
	lb = fx_get_bytes (fx, fx->session, bpub, CKA_EC_POINT, pb, sizeof pb);
	/* null KDF: both sides get the same 32-byte x-coordinate */
	n = derive (fx, apriv, CKD_NULL, NULL, 0, pb, lb, 0, za, sizeof za);
	assert_num_eq (32, n);
	n = derive (fx, bpriv, CKD_NULL, NULL, 0, pa, la, 0, zb, sizeof zb);
	assert_mem_eq (za, 32, zb, n);
	/* the raw point works as well as the DER one; fewer bytes: the first */
	n = derive (fx, bpriv, CKD_NULL, NULL, 0, pa + 2, la - 2, 16, zb, sizeof zb);
	assert_mem_eq (za, 16, zb, n);
	/* SHA-256 X9.63 KDF with shared data, 48 bytes (two blocks) */
	n = derive (fx, apriv, CKD_SHA256_KDF, info, sizeof info, pb, lb, 48, ka, sizeof ka);
	assert_num_eq (48, n);
	n = derive (fx, bpriv, CKD_SHA256_KDF, info, sizeof info, pa, la, 48, kb, sizeof kb);
	assert_mem_eq (ka, 48, kb, n);
	x963_sha256 (za, 32, info, sizeof info, want, 48);
	assert_mem_eq (want, 48, ka, 48);
	/* without shared data */
	n = derive (fx, apriv, CKD_SHA256_KDF, NULL, 0, pb, lb, 32, ka, sizeof ka);
	x963_sha256 (za, 32, NULL, 0, want, 32);
	assert_mem_eq (want, 32, ka, n);
	/* errors */
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           derive_rv (fx, apriv, CKD_NULL, NULL, 0, pb, lb, 33, &h));
	memcpy (bad, pb, lb);
	bad[lb - 1] ^= 0x01;       /* off the curve */
	assert_rv (CKR_MECHANISM_PARAM_INVALID,
	           derive_rv (fx, apriv, CKD_NULL, NULL, 0, bad, lb, 0, &h));
	assert_rv (CKR_MECHANISM_PARAM_INVALID,
	           derive_rv (fx, apriv, CKD_NULL, info, sizeof info, pb, lb, 0, &h));
	assert_rv (CKR_MECHANISM_PARAM_INVALID,
	           derive_rv (fx, apriv, 0x4242, NULL, 0, pb, lb, 0, &h));
	assert_rv (CKR_MECHANISM_PARAM_INVALID,
	           derive_rv (fx, apriv, CKD_NULL, NULL, 0, NULL, 0, 0, &h));
	/* a public key as base */
	assert_rv (CKR_KEY_TYPE_INCONSISTENT,
	           derive_rv (fx, apub, CKD_NULL, NULL, 0, pb, lb, 0, &h));
}

/* ECDH needs a P-curve or Montgomery key; an Edwards key cannot derive. */
static void
test_ecdh_key_errors (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE pub, priv, h;
	CK_BYTE pt[40];
	CK_ULONG n;

	gen_pair (fx, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed25519_oid, sizeof ed25519_oid,
	          true, &pub, &priv);
	n = fx_get_bytes (fx, fx->session, pub, CKA_EC_POINT, pt, sizeof pt);
	assert_rv (CKR_KEY_TYPE_INCONSISTENT,
	           derive_rv (fx, priv, CKD_NULL, NULL, 0, pt, n, 0, &h));
}

int
main (void)
{
	fx_main ();
	lh_test_add ("/ec/keygen/p256", test_keygen_p256, FX (fx_user));
	lh_test_add ("/ec/keygen/p384", test_keygen_p384, FX (fx_user));
	lh_test_add ("/ec/keygen/p521", test_keygen_p521, FX (fx_user));
	lh_test_add ("/ec/keygen/edwards", test_keygen_edwards, FX (fx_user));
	lh_test_add ("/ec/keygen/montgomery", test_keygen_montgomery, FX (fx_user));
	lh_test_add ("/ec/keygen/errors", test_keygen_errors, FX (fx_user));
	lh_test_add ("/ec/ecdsa/sign-p256", test_ecdsa_sign_p256, FX (fx_user));
	lh_test_add ("/ec/ecdsa/sign-p384", test_ecdsa_sign_p384, FX (fx_user));
	lh_test_add ("/ec/ecdsa/sign-p521", test_ecdsa_sign_p521, FX (fx_user));
	lh_test_add ("/ec/ecdsa/verify-openssl", test_ecdsa_verify_openssl, FX (fx_user));
	lh_test_add ("/ec/ecdsa/key-errors", test_ecdsa_key_errors, FX (fx_user));
	lh_test_add ("/ec/eddsa/rfc8032-ed25519", test_eddsa_rfc8032_ed25519, FX (fx_user));
	lh_test_add ("/ec/eddsa/rfc8032-ed448", test_eddsa_rfc8032_ed448, FX (fx_user));
	lh_test_add ("/ec/eddsa/generated", test_eddsa_generated, FX (fx_user));
	lh_test_add ("/ec/eddsa/params", test_eddsa_params, FX (fx_user));
	lh_test_add ("/ec/import", test_import, FX (fx_user));
	lh_test_add ("/ec/ecdh/x25519-rfc7748", test_x25519_rfc7748, FX (fx_user));
	lh_test_add ("/ec/ecdh/p256", test_ecdh_p256, FX (fx_user));
	lh_test_add ("/ec/ecdh/key-errors", test_ecdh_key_errors, FX (fx_user));
	return lh_test_run ();
}
