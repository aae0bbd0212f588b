/*
 * test-mech-rsa.c - module-API tests of the RSA family (pkcs11/mech_rsa.c).
 *
 * The fixed 2048-bit key of testdata.h is imported with C_CreateObject
 * and used with every RSA mechanism of the table; OpenSSL in this process
 * holds the same key and checks each result:
 *   - deterministic results (PKCS#1 v1.5 signatures raw and hashed, raw
 *     X.509 RSA) must equal OpenSSL's bytes: known answers;
 *   - randomized ones (PSS signatures, PKCS#1 v1.5 and OAEP ciphertexts)
 *     are verified or decrypted by OpenSSL, and OpenSSL's are verified or
 *     decrypted by the module;
 *   - a published vector: NIST CAVP SigVer15_186-3.rsp, [mod = 2048],
 *     the first SHAAlg = SHA256 records with Result = P and Result = F,
 *     through CKM_SHA256_RSA_PKCS on an imported public key.
 * Then the error codes (tampered and short signatures, input lengths,
 * bad mechanism parameters, wrong key class, keys outside 2048..8192
 * bits, bad padding), the length-query convention, import checks
 * (inconsistent components, CKA_PUBLIC_KEY_INFO), C_GenerateKeyPair for
 * 2048 and 3072 bits, and OAEP through C_WrapKey / C_UnwrapKey.
 *
 * Every key here is a session object: nothing needs to persist.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "fixture.h"
#include "testdata.h"

#define N_(a) (sizeof (a) / sizeof ((a)[0]))
#define K 256   /* modulus bytes of the test key */

/* OpenSSL's RSA key management by rsaEncryption's OID and digests as
 * EVP_MD objects: both keep working when an ENGINE is the default for
 * RSA (see /mech-rsa/engine-host), where "RSA" and the *_md_name calls
 * end up in the engine's legacy method. */
#define RSA_KEYMGMT "1.2.840.113549.1.1.1"

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_OBJECT_CLASS cls_public = CKO_PUBLIC_KEY, cls_private = CKO_PRIVATE_KEY,
	cls_secret = CKO_SECRET_KEY;
static CK_KEY_TYPE kt_rsa = CKK_RSA, kt_aes = CKK_AES;

static const char msg[] =
	"litehsm RSA test message: sign me, verify me, in one part or in many.";

/* ------------------------------------------------------------------ */
/* Key components                                                      */

enum { C_N, C_E, C_D, C_P, C_Q, C_DP, C_DQ, C_QI, C_COUNT };

static const CK_ATTRIBUTE_TYPE comp_type[C_COUNT] = {
	CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
	CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
};

static const char *const comp_param[C_COUNT] = {
	OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
	OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
	OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
	OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
};

/* An RSA key as byte strings (big-endian), copied so tests can edit. */
typedef struct {
	CK_BYTE v[C_COUNT][1024];
	size_t len[C_COUNT];
} comp;

#define OMIT(i) (1u << (i))
#define OMIT_CRT (OMIT (C_P) | OMIT (C_Q) | OMIT (C_DP) | OMIT (C_DQ) | OMIT (C_QI))

static void
comp_set (comp *c, int i, const void *v, size_t len)
{
	memcpy (c->v[i], v, len);
	c->len[i] = len;
}

/* The key of testdata.h. */
static void
td_comp (comp *c)
{
	comp_set (c, C_N, td_rsa_modulus, sizeof td_rsa_modulus);
	comp_set (c, C_E, td_rsa_public_exponent, sizeof td_rsa_public_exponent);
	comp_set (c, C_D, td_rsa_private_exponent, sizeof td_rsa_private_exponent);
	comp_set (c, C_P, td_rsa_prime_1, sizeof td_rsa_prime_1);
	comp_set (c, C_Q, td_rsa_prime_2, sizeof td_rsa_prime_2);
	comp_set (c, C_DP, td_rsa_exponent_1, sizeof td_rsa_exponent_1);
	comp_set (c, C_DQ, td_rsa_exponent_2, sizeof td_rsa_exponent_2);
	comp_set (c, C_QI, td_rsa_coefficient, sizeof td_rsa_coefficient);
}

/* OpenSSL's key (default library context) from components. */
static EVP_PKEY *
comp_pkey (const comp *c, bool priv)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new ();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn[C_COUNT] = { 0 };
	int i, last = priv ? C_COUNT : C_D;

	assert_true (bld != NULL);
	for (i = 0; i < last; i++) {
		bn[i] = BN_bin2bn (c->v[i], (int)c->len[i], NULL);
		assert_true (bn[i] && OSSL_PARAM_BLD_push_BN (bld, comp_param[i], bn[i]));
	}
	params = OSSL_PARAM_BLD_to_param (bld);
	ctx = EVP_PKEY_CTX_new_from_name (NULL, RSA_KEYMGMT, NULL);
	assert_true (params && ctx);
	assert_true (EVP_PKEY_fromdata_init (ctx) == 1);
	assert_true (EVP_PKEY_fromdata (ctx, &pkey, priv ? EVP_PKEY_KEYPAIR :
	                                EVP_PKEY_PUBLIC_KEY, params) == 1);
	EVP_PKEY_CTX_free (ctx);
	OSSL_PARAM_free (params);
	OSSL_PARAM_BLD_free (bld);
	for (i = 0; i < C_COUNT; i++)
		BN_free (bn[i]);
	return pkey;
}

/* A new key pair of bits made by OpenSSL. */
static EVP_PKEY *
o_gen (unsigned bits)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name (NULL, RSA_KEYMGMT, NULL);
	EVP_PKEY *pkey = NULL;

	assert_true (ctx && EVP_PKEY_keygen_init (ctx) == 1);
	assert_true (EVP_PKEY_CTX_set_rsa_keygen_bits (ctx, (int)bits) == 1);
	assert_true (EVP_PKEY_generate (ctx, &pkey) == 1);
	EVP_PKEY_CTX_free (ctx);
	return pkey;
}

/* Components of an OpenSSL key (for keys made in this process). */
static void
pkey_comp (EVP_PKEY *pkey, comp *c)
{
	BIGNUM *bn;
	int i;

	for (i = 0; i < C_COUNT; i++) {
		bn = NULL;
		assert_true (EVP_PKEY_get_bn_param (pkey, comp_param[i], &bn) == 1);
		c->len[i] = (size_t)BN_bn2bin (bn, c->v[i]);
		BN_free (bn);
	}
}

/* The public key of a module object, read back as OpenSSL's key. */
static EVP_PKEY *
module_pub (lh_fx *fx, CK_OBJECT_HANDLE h)
{
	comp c;

	memset (&c, 0, sizeof c);
	c.len[C_N] = fx_get_bytes (fx, fx->session, h, CKA_MODULUS, c.v[C_N],
	                           sizeof c.v[C_N]);
	c.len[C_E] = fx_get_bytes (fx, fx->session, h, CKA_PUBLIC_EXPONENT,
	                           c.v[C_E], sizeof c.v[C_E]);
	return comp_pkey (&c, false);
}

/* ------------------------------------------------------------------ */
/* Objects                                                             */

/*
 * Import a key: class CKO_PUBLIC_KEY takes n and e, CKO_PRIVATE_KEY every
 * component not in omit; extra attributes are appended.
 */
static CK_RV
import_rv (lh_fx *fx, CK_OBJECT_CLASS cls, const comp *c, unsigned omit,
           const CK_ATTRIBUTE *extra, size_t nextra, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[24] = {
		{ CKA_CLASS, cls == CKO_PUBLIC_KEY ? &cls_public : &cls_private,
		  sizeof (CK_OBJECT_CLASS) },
		{ CKA_KEY_TYPE, &kt_rsa, sizeof kt_rsa },
		{ CKA_TOKEN, &no, 1 },
	};
	CK_ULONG n = 3;
	int i, last = cls == CKO_PUBLIC_KEY ? C_D : C_COUNT;
	size_t j;

	for (i = 0; i < last; i++)
		if (!(omit & OMIT (i)))
			t[n++] = (CK_ATTRIBUTE){ comp_type[i], (void *)c->v[i], c->len[i] };
	for (j = 0; j < nextra; j++)
		t[n++] = extra[j];
	return fx->fl->C_CreateObject (fx->session, t, n, out);
}

static CK_OBJECT_HANDLE
import_key (lh_fx *fx, CK_OBJECT_CLASS cls, const comp *c)
{
	CK_OBJECT_HANDLE h = 0;

	assert_rv (CKR_OK, import_rv (fx, cls, c, 0, NULL, 0, &h));
	return h;
}

/* The test key in the module and in OpenSSL. */
typedef struct {
	CK_OBJECT_HANDLE pub, priv;
	EVP_PKEY *pkey;            /* OpenSSL's key pair */
} keypair;

static void
td_keys (lh_fx *fx, keypair *kp)
{
	comp c;

	td_comp (&c);
	kp->pub = import_key (fx, CKO_PUBLIC_KEY, &c);
	kp->priv = import_key (fx, CKO_PRIVATE_KEY, &c);
	kp->pkey = comp_pkey (&c, true);
}

/* ------------------------------------------------------------------ */
/* Module operations                                                   */

/* An output buffer: room for any key of the tests, and what was written. */
typedef struct {
	CK_BYTE b[1024];
	CK_ULONG len;
} buf;

static CK_MECHANISM
mech (CK_MECHANISM_TYPE type, void *param, CK_ULONG len)
{
	return (CK_MECHANISM){ type, param, len };
}

/* Feed in to C_SignUpdate/C_VerifyUpdate in parts of 7 bytes (not a
 * block size of anything). */
static CK_RV
m_parts (lh_fx *fx, bool sign, const void *in, size_t len)
{
	CK_BYTE_PTR p = (CK_BYTE_PTR)in;
	size_t off, part;
	CK_RV rv = CKR_OK;

	for (off = 0; rv == CKR_OK && off < len; off += part) {
		part = len - off < 7 ? len - off : 7;
		rv = sign ? fx->fl->C_SignUpdate (fx->session, p + off, part) :
		     fx->fl->C_VerifyUpdate (fx->session, p + off, part);
	}
	return rv;
}

/* C_SignInit, then C_Sign (multi false) or the parts and C_SignFinal. */
static CK_RV
m_sign (lh_fx *fx, CK_MECHANISM *m, CK_OBJECT_HANDLE k, const void *in,
        size_t len, buf *sig, bool multi)
{
	CK_RV rv = fx->fl->C_SignInit (fx->session, m, k);

	sig->len = sizeof sig->b;
	if (rv != CKR_OK)
		return rv;
	if (!multi)
		return fx->fl->C_Sign (fx->session, (CK_BYTE_PTR)in, len, sig->b,
		                       &sig->len);
	if ((rv = m_parts (fx, true, in, len)) != CKR_OK)
		return rv;
	return fx->fl->C_SignFinal (fx->session, sig->b, &sig->len);
}

static CK_RV
m_verify (lh_fx *fx, CK_MECHANISM *m, CK_OBJECT_HANDLE k, const void *in,
          size_t len, const CK_BYTE *sig, CK_ULONG sig_len, bool multi)
{
	CK_RV rv = fx->fl->C_VerifyInit (fx->session, m, k);

	if (rv != CKR_OK)
		return rv;
	if (!multi)
		return fx->fl->C_Verify (fx->session, (CK_BYTE_PTR)in, len,
		                         (CK_BYTE_PTR)sig, sig_len);
	if ((rv = m_parts (fx, false, in, len)) != CKR_OK)
		return rv;
	return fx->fl->C_VerifyFinal (fx->session, (CK_BYTE_PTR)sig, sig_len);
}

/* Verify must answer rv in one part and in many (fx in scope). */
#define assert_verify(rv, m, k, in, len, sig, sig_len) do { \
	assert_rv (rv, m_verify (fx, m, k, in, len, sig, sig_len, false)); \
	assert_rv (rv, m_verify (fx, m, k, in, len, sig, sig_len, true)); } while (0)
#define m_verify_ok(fx, m, k, in, len, sig, sig_len) \
	assert_verify (CKR_OK, m, k, in, len, sig, sig_len)

/* Single-part encrypt (or decrypt) with C_EncryptInit + C_Encrypt. */
static CK_RV
m_crypt (lh_fx *fx, bool enc, CK_MECHANISM *m, CK_OBJECT_HANDLE k,
         const void *in, size_t len, buf *out)
{
	CK_RV rv = enc ? fx->fl->C_EncryptInit (fx->session, m, k) :
	           fx->fl->C_DecryptInit (fx->session, m, k);

	out->len = sizeof out->b;
	if (rv != CKR_OK)
		return rv;
	return enc ? fx->fl->C_Encrypt (fx->session, (CK_BYTE_PTR)in, len, out->b,
	                                &out->len) :
	       fx->fl->C_Decrypt (fx->session, (CK_BYTE_PTR)in, len, out->b,
	                          &out->len);
}

#define m_encrypt(fx, m, k, in, len, out) m_crypt (fx, true, m, k, in, len, out)
#define m_decrypt(fx, m, k, in, len, out) m_crypt (fx, false, m, k, in, len, out)

/* ------------------------------------------------------------------ */
/* OpenSSL operations                                                  */

/* What OpenSSL does: padding, digest, MGF1 digest, salt, label. */
typedef struct {
	int pad;                   /* RSA_PKCS1_PADDING, ... */
	const char *md;            /* signature/OAEP digest; NULL: none */
	const char *mgf;           /* MGF1 digest; NULL: as md */
	int saltlen;
	const char *label;         /* OAEP label; NULL: none */
} ossl_p;

/* OpenSSL's built-in EVP_MD of md_name: good for either kind of context. */
#define o_md(md_name) EVP_get_digestbyname (md_name)

/* Settings of p on ctx; md only for EVP_PKEY_sign/verify (sig). */
static void
o_setup (EVP_PKEY_CTX *ctx, const ossl_p *p, const char *md_name, bool sig)
{
	const char *mgf = p->mgf ? p->mgf : md_name;

	assert_true (EVP_PKEY_CTX_set_rsa_padding (ctx, p->pad) == 1);
	if (p->pad == RSA_PKCS1_PSS_PADDING) {
		assert_true (EVP_PKEY_CTX_set_rsa_mgf1_md (ctx, o_md (mgf)) == 1);
		assert_true (EVP_PKEY_CTX_set_rsa_pss_saltlen (ctx, p->saltlen) == 1);
	}
	if (p->pad == RSA_PKCS1_OAEP_PADDING) {
		assert_true (EVP_PKEY_CTX_set_rsa_oaep_md (ctx, o_md (md_name)) == 1);
		assert_true (EVP_PKEY_CTX_set_rsa_mgf1_md (ctx, o_md (mgf)) == 1);
		if (p->label)
			assert_true (EVP_PKEY_CTX_set0_rsa_oaep_label (ctx,
			             OPENSSL_strdup (p->label), (int)strlen (p->label)) == 1);
	}
	if (sig && md_name)
		assert_true (EVP_PKEY_CTX_set_signature_md (ctx, o_md (md_name)) == 1);
}

/* One EVP_PKEY operation: 's'ign, 'v'erify, 'e'ncrypt, 'd'ecrypt; in and
 * sig for verify, in and out for the others.  True on success. */
static bool
o_pkey (EVP_PKEY *pkey, char what, const ossl_p *p, const void *in,
        size_t len, const CK_BYTE *sig, size_t sig_len, buf *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey (NULL, pkey, NULL);
	size_t n = out ? sizeof out->b : 0;
	int ok;

	assert_true (ctx != NULL);
	ok = what == 's' ? EVP_PKEY_sign_init (ctx) : what == 'v' ?
	     EVP_PKEY_verify_init (ctx) : what == 'e' ? EVP_PKEY_encrypt_init (ctx) :
	     EVP_PKEY_decrypt_init (ctx);
	assert_true (ok == 1);
	o_setup (ctx, p, p->md, what == 's' || what == 'v');
	ok = what == 's' ? EVP_PKEY_sign (ctx, out->b, &n, in, len) :
	     what == 'v' ? EVP_PKEY_verify (ctx, sig, sig_len, in, len) :
	     what == 'e' ? EVP_PKEY_encrypt (ctx, out->b, &n, in, len) :
	     EVP_PKEY_decrypt (ctx, out->b, &n, in, len);
	EVP_PKEY_CTX_free (ctx);
	if (out)
		out->len = ok == 1 ? n : 0;
	return ok == 1;
}

#define o_sign(k, p, in, len, out) assert_true (o_pkey (k, 's', p, in, len, NULL, 0, out))
#define o_encrypt(k, p, in, len, out) assert_true (o_pkey (k, 'e', p, in, len, NULL, 0, out))
#define o_decrypt(k, p, in, len, out) o_pkey (k, 'd', p, in, len, NULL, 0, out)
#define o_verify(k, p, in, len, s, sl) o_pkey (k, 'v', p, in, len, s, sl, NULL)

/* EVP_DigestSign (out) or EVP_DigestVerify (sig): hash, then the rest. */
static bool
o_digest (EVP_PKEY *pkey, const ossl_p *p, const void *in, size_t len,
          const CK_BYTE *sig, size_t sig_len, buf *out)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new ();
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = out ? sizeof out->b : 0;
	int ok;

	assert_true (mctx != NULL);
	ok = out ? EVP_DigestSignInit_ex (mctx, &ctx, p->md, NULL, NULL, pkey, NULL) :
	     EVP_DigestVerifyInit_ex (mctx, &ctx, p->md, NULL, NULL, pkey, NULL);
	assert_true (ok == 1);
	o_setup (ctx, p, p->md, false);
	ok = out ? EVP_DigestSign (mctx, out->b, &n, in, len) :
	     EVP_DigestVerify (mctx, sig, sig_len, in, len);
	EVP_MD_CTX_free (mctx);
	if (out)
		out->len = ok == 1 ? n : 0;
	return ok == 1;
}

#define o_digest_sign(k, p, in, len, out) \
	assert_true (o_digest (k, p, in, len, NULL, 0, out))
#define o_digest_verify(k, p, in, len, s, sl) o_digest (k, p, in, len, s, sl, NULL)

static void
sha (const char *name, const void *in, size_t len, CK_BYTE *out, size_t *out_len)
{
	unsigned int n = 0;

	assert_true (EVP_Digest (in, len, out, &n, EVP_get_digestbyname (name), NULL) == 1);
	*out_len = n;
}

/* ------------------------------------------------------------------ */
/* Mechanism tables                                                    */

static const struct {
	CK_MECHANISM_TYPE hash;
	CK_RSA_PKCS_MGF_TYPE mgf;
	const char *name;
	size_t len;
	CK_MECHANISM_TYPE pkcs, pss;   /* the hashed mechanisms */
} hashes[] = {
	{ CKM_SHA_1, CKG_MGF1_SHA1, "SHA1", 20, CKM_SHA1_RSA_PKCS, CKM_SHA1_RSA_PKCS_PSS },
	{ CKM_SHA224, CKG_MGF1_SHA224, "SHA224", 28, CKM_SHA224_RSA_PKCS,
	  CKM_SHA224_RSA_PKCS_PSS },
	{ CKM_SHA256, CKG_MGF1_SHA256, "SHA256", 32, CKM_SHA256_RSA_PKCS,
	  CKM_SHA256_RSA_PKCS_PSS },
	{ CKM_SHA384, CKG_MGF1_SHA384, "SHA384", 48, CKM_SHA384_RSA_PKCS,
	  CKM_SHA384_RSA_PKCS_PSS },
	{ CKM_SHA512, CKG_MGF1_SHA512, "SHA512", 64, CKM_SHA512_RSA_PKCS,
	  CKM_SHA512_RSA_PKCS_PSS },
};

/* DER DigestInfo prefix of SHA-256 (RFC 8017 9.2, note 1). */
static const CK_BYTE sha256_prefix[19] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};

/* DigestInfo of SHA-256(msg). */
static size_t
digest_info (CK_BYTE *out)
{
	size_t n;

	memcpy (out, sha256_prefix, sizeof sha256_prefix);
	sha ("SHA256", msg, strlen (msg), out + sizeof sha256_prefix, &n);
	return sizeof sha256_prefix + n;
}

/* ------------------------------------------------------------------ */
/* NIST CAVP SigVer15_186-3.rsp, [mod = 2048], SHAAlg = SHA256         */

static const char cavp_n[] =
	"c47abacc2a84d56f3614d92fd62ed36ddde459664b9301dcd1d61781cfcc026b"
	"cb2399bee7e75681a80b7bf500e2d08ceae1c42ec0b707927f2b2fe92ae85208"
	"7d25f1d260cc74905ee5f9b254ed05494a9fe06732c3680992dd6f0dc634568d"
	"11542a705f83ae96d2a49763d5fbb24398edf3702bc94bc168190166492b8671"
	"de874bb9cecb058c6c8344aa8c93754d6effcd44a41ed7de0a9dcd9144437f21"
	"2b18881d042d331a4618a9e630ef9bb66305e4fdf8f0391b3b2313fe549f0189"
	"ff968b92f33c266a4bc2cffc897d1937eeb9e406f5d0eaa7a14782e76af3fce9"
	"8f54ed237b4a04a4159a5f6250a296a902880204e61d891c4da29f2d65f34cbb";
static const char cavp_e[] = "49d2a1";
/* Result = P */
static const char cavp_msg_p[] =
	"95123c8d1b236540b86976a11cea31f8bd4e6c54c235147d20ce722b03a6ad75"
	"6fbd918c27df8ea9ce3104444c0bbe877305bc02e35535a02a58dcda306e632a"
	"d30b3dc3ce0ba97fdf46ec192965dd9cd7f4a71b02b8cba3d442646eeec4af59"
	"0824ca98d74fbca934d0b6867aa1991f3040b707e806de6e66b5934f05509bea";
static const char cavp_s_p[] =
	"51265d96f11ab338762891cb29bf3f1d2b3305107063f5f3245af376dfcc7027"
	"d39365de70a31db05e9e10eb6148cb7f6425f0c93c4fb0e2291adbd22c77656a"
	"fc196858a11e1c670d9eeb592613e69eb4f3aa501730743ac4464486c7ae68fd"
	"509e896f63884e9424f69c1c5397959f1e52a368667a598a1fc90125273d9341"
	"295d2f8e1cc4969bf228c860e07a3546be2eeda1cde48ee94d062801fe666e4a"
	"7ae8cb9cd79262c017b081af874ff00453ca43e34efdb43fffb0bb42a4e2d32a"
	"5e5cc9e8546a221fe930250e5f5333e0efe58ffebf19369a3b8ae5a67f6a048b"
	"c9ef915bda25160729b508667ada84a0c27e7e26cf2abca413e5e4693f4a9405";
/* Result = F */
static const char cavp_msg_f[] =
	"f89fd2f6c45a8b5066a651410b8e534bfec0d9a36f3e2b887457afd44dd651d1"
	"ec79274db5a455f182572fceea5e9e39c3c7c5d9e599e4fe31c37c34d253b419"
	"c3e8fb6b916aef6563f87d4c37224a456e5952698ba3d01b38945d998a795bd2"
	"85d69478e3131f55117284e27b441f16095dca7ce9c5b68890b09a2bfbb010a5";
static const char cavp_s_f[] =
	"ba48538708512d45c0edcac57a9b4fb637e9721f72003c60f13f5c9a36c968ce"
	"f9be8f54665418141c3d9ecc02a5bf952cfc055fb51e18705e9d8850f4e1f5a3"
	"44af550de84ffd0805e27e557f6aa50d2645314c64c1c71aa6bb44faf8f29ca6"
	"578e2441d4510e36052f46551df341b2dcf43f761f08b946ca0b7081dadbb88e"
	"955e820fd7f657c4dd9f4554d167dd7c9a487ed41ced2b40068098deedc95106"
	"0faf7e15b1f0f80ae67ff2ee28a238d80bf72dd71c8d95c79bc156114ece8ec8"
	"37573a4b66898d45b45a5eacd0b0e41447d8fa08a367f437645e50c9920b88a1"
	"6bc0880147acfb9a79de9e351b3fa00b3f4e9f182f45553dffca55e393c5eab6";

static size_t
unhex (const char *hex, CK_BYTE *out)
{
	size_t n = 0;
	unsigned int b;

	for (; hex[0] && hex[1]; hex += 2) {
		assert_true (sscanf (hex, "%2x", &b) == 1);
		out[n++] = (CK_BYTE)b;
	}
	return n;
}

static void
test_cavp_sigver (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = mech (CKM_SHA256_RSA_PKCS, NULL, 0);
	CK_BYTE in[256], sig[256];
	size_t in_len, sig_len;
	CK_OBJECT_HANDLE pub;
	comp c;

	memset (&c, 0, sizeof c);
	c.len[C_N] = unhex (cavp_n, c.v[C_N]);
	c.len[C_E] = unhex (cavp_e, c.v[C_E]);
	pub = import_key (fx, CKO_PUBLIC_KEY, &c);
	assert_num_eq (2048, fx_get_ulong (fx, fx->session, pub, CKA_MODULUS_BITS));

	in_len = unhex (cavp_msg_p, in);
	sig_len = unhex (cavp_s_p, sig);
	m_verify_ok (fx, &m, pub, in, in_len, sig, sig_len);

	in_len = unhex (cavp_msg_f, in);
	sig_len = unhex (cavp_s_f, sig);
	assert_verify (CKR_SIGNATURE_INVALID, &m, pub, in, in_len, sig, sig_len);
}

/* ------------------------------------------------------------------ */
/* Import                                                              */

/* Attribute type of object h equals want. */
static void
assert_attr (lh_fx *fx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
             const void *want, size_t want_len)
{
	buf b;

	b.len = fx_get_bytes (fx, fx->session, h, type, b.b, sizeof b.b);
	assert_mem_eq (want, want_len, b.b, b.len);
}

/* Attribute type of h is sensitive. */
static void
assert_hidden (lh_fx *fx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	buf b;

	b.len = sizeof b.b;
	assert_rv (CKR_ATTRIBUTE_SENSITIVE, fx_get_rv (fx, fx->session, h, type,
	                                               b.b, &b.len));
}

static void
test_import_attrs (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE *der = NULL;
	keypair kp;
	int der_len;

	td_keys (fx, &kp);
	der_len = i2d_PUBKEY (kp.pkey, &der);
	assert_true (der_len > 0);
	/* SPEC: CKA_PUBLIC_KEY_INFO: the token computes it for both halves */
	assert_attr (fx, kp.pub, CKA_PUBLIC_KEY_INFO, der, der_len);
	assert_attr (fx, kp.priv, CKA_PUBLIC_KEY_INFO, der, der_len);
	OPENSSL_free (der);
	assert_num_eq (2048, fx_get_ulong (fx, fx->session, kp.pub, CKA_MODULUS_BITS));
	/* the private components stay inside (private keys are sensitive) */
	assert_hidden (fx, kp.priv, CKA_PRIVATE_EXPONENT);
	assert_hidden (fx, kp.priv, CKA_PRIME_1);
	EVP_PKEY_free (kp.pkey);
}

/* A private key imported as (n, e, d) only, or with the primes but
 * without the CRT exponents, signs exactly as the full key does. */
static void
test_import_partial (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = mech (CKM_SHA256_RSA_PKCS, NULL, 0);
	ossl_p op = { RSA_PKCS1_PADDING, "SHA256", NULL, 0, NULL };
	unsigned omit[] = { OMIT_CRT, OMIT (C_DP) | OMIT (C_DQ) | OMIT (C_QI) };
	CK_OBJECT_HANDLE h;
	EVP_PKEY *pkey;
	buf want, sig;
	size_t i;
	comp c;

	td_comp (&c);
	pkey = comp_pkey (&c, true);
	o_digest_sign (pkey, &op, msg, strlen (msg), &want);
	EVP_PKEY_free (pkey);
	for (i = 0; i < N_ (omit); i++) {
		assert_rv (CKR_OK, import_rv (fx, CKO_PRIVATE_KEY, &c, omit[i], NULL, 0, &h));
		assert_rv (CKR_OK, m_sign (fx, &m, h, msg, strlen (msg), &sig, false));
		assert_mem_eq (want.b, want.len, sig.b, sig.len);
	}
}

/* Import of c as cls (with omit) must fail with rv. */
#define assert_import(rv, cls, c, omit) do { CK_OBJECT_HANDLE h_; \
	assert_rv (rv, import_rv (fx, cls, c, omit, NULL, 0, &h_)); } while (0)

static void
test_import_bad (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE spki[1024], *p;
	CK_ATTRIBUTE info = { CKA_PUBLIC_KEY_INFO, spki, 0 };
	CK_OBJECT_HANDLE h;
	EVP_PKEY *other;
	comp c, bad;

	td_comp (&c);
	/* private key without its public exponent */
	assert_import (CKR_TEMPLATE_INCOMPLETE, CKO_PRIVATE_KEY, &c, OMIT (C_E));
	/* an even modulus is no RSA modulus; nor is one of 512 bits */
	bad = c;
	bad.v[C_N][K - 1] ^= 1;
	assert_import (CKR_ATTRIBUTE_VALUE_INVALID, CKO_PUBLIC_KEY, &bad, 0);
	bad = c;
	bad.len[C_N] = 64;
	assert_import (CKR_ATTRIBUTE_VALUE_INVALID, CKO_PUBLIC_KEY, &bad, 0);
	/* exponents 1 and 65536 */
	bad = c;
	comp_set (&bad, C_E, "\x01", 1);
	assert_import (CKR_ATTRIBUTE_VALUE_INVALID, CKO_PUBLIC_KEY, &bad, 0);
	comp_set (&bad, C_E, "\x01\x00\x00", 3);
	assert_import (CKR_ATTRIBUTE_VALUE_INVALID, CKO_PUBLIC_KEY, &bad, 0);
	/* a private exponent that is not this key's, with and without CRT */
	bad = c;
	bad.v[C_D][K - 1] ^= 2;
	assert_import (CKR_ATTRIBUTE_VALUE_INVALID, CKO_PRIVATE_KEY, &bad, OMIT_CRT);
	assert_import (CKR_ATTRIBUTE_VALUE_INVALID, CKO_PRIVATE_KEY, &bad, 0);
	/* a wrong CRT coefficient; a wrong prime */
	bad = c;
	bad.v[C_QI][10] ^= 0x40;
	assert_import (CKR_ATTRIBUTE_VALUE_INVALID, CKO_PRIVATE_KEY, &bad, 0);
	bad = c;
	bad.v[C_P][5] ^= 0x10;
	assert_import (CKR_ATTRIBUTE_VALUE_INVALID, CKO_PRIVATE_KEY, &bad, 0);
	/* CKA_PUBLIC_KEY_INFO of another key: inconsistent; of this key: fine */
	assert_true ((other = o_gen (2048)) != NULL);
	p = spki;
	info.ulValueLen = (CK_ULONG)i2d_PUBKEY (other, &p);
	EVP_PKEY_free (other);
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           import_rv (fx, CKO_PUBLIC_KEY, &c, 0, &info, 1, &h));
	other = comp_pkey (&c, false);
	p = spki;
	info.ulValueLen = (CK_ULONG)i2d_PUBKEY (other, &p);
	EVP_PKEY_free (other);
	assert_rv (CKR_OK, import_rv (fx, CKO_PUBLIC_KEY, &c, 0, &info, 1, &h));
	assert_rv (CKR_OK, import_rv (fx, CKO_PRIVATE_KEY, &c, 0, &info, 1, &h));
}

/* ------------------------------------------------------------------ */
/* PKCS#1 v1.5 signatures                                              */

/* CKM_RSA_PKCS over a DigestInfo: OpenSSL's bytes exactly, in one part
 * and in many. */
static void
test_pkcs_raw_kat (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = mech (CKM_RSA_PKCS, NULL, 0);
	CK_MECHANISM m256 = mech (CKM_SHA256_RSA_PKCS, NULL, 0);
	ossl_p op = { RSA_PKCS1_PADDING, NULL, NULL, 0, NULL };
	CK_BYTE di[64], big[K];
	size_t di_len = digest_info (di);
	buf want, sig;
	keypair kp;

	td_keys (fx, &kp);
	o_sign (kp.pkey, &op, di, di_len, &want);
	assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, di, di_len, &sig, false));
	assert_mem_eq (want.b, want.len, sig.b, sig.len);
	m_verify_ok (fx, &m, kp.pub, di, di_len, sig.b, sig.len);
	/* no multi-part form in the spec: the fn layer collects the parts,
	 * and the result is the single-part one */
	assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, di, di_len, &sig, true));
	assert_mem_eq (want.b, want.len, sig.b, sig.len);
	/* the same DigestInfo through CKM_SHA256_RSA_PKCS over msg */
	assert_rv (CKR_OK, m_sign (fx, &m256, kp.priv, msg, strlen (msg), &sig, false));
	assert_mem_eq (want.b, want.len, sig.b, sig.len);
	/* SPEC: 2.1.6: input at most k - 11 bytes */
	memset (big, 0x5a, sizeof big);
	assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, big, K - 11, &sig, false));
	assert_rv (CKR_OK, m_verify (fx, &m, kp.pub, big, K - 11, sig.b, sig.len, false));
	assert_rv (CKR_DATA_LEN_RANGE, m_sign (fx, &m, kp.priv, big, K - 10, &sig, false));
	assert_rv (CKR_DATA_LEN_RANGE,
	           m_verify (fx, &m, kp.pub, big, K - 10, sig.b, K, false));
	EVP_PKEY_free (kp.pkey);
}

/* CKM_SHA*_RSA_PKCS, single and multi-part: OpenSSL's bytes exactly. */
static void
test_pkcs_hashed_kat (void *arg)
{
	lh_fx *fx = arg;
	size_t i, len = strlen (msg);
	buf want, sig;
	keypair kp;

	td_keys (fx, &kp);
	for (i = 0; i < N_ (hashes); i++) {
		ossl_p op = { RSA_PKCS1_PADDING, hashes[i].name, NULL, 0, NULL };
		CK_MECHANISM m = mech (hashes[i].pkcs, NULL, 0);

		printf ("# %s\n", hashes[i].name);
		o_digest_sign (kp.pkey, &op, msg, len, &want);
		assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, msg, len, &sig, false));
		assert_mem_eq (want.b, want.len, sig.b, sig.len);
		assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, msg, len, &sig, true));
		assert_mem_eq (want.b, want.len, sig.b, sig.len);
		m_verify_ok (fx, &m, kp.pub, msg, len, sig.b, sig.len);
	}
	EVP_PKEY_free (kp.pkey);
}

/* OpenSSL signs, the module verifies; tampering and lengths. */
static void
test_pkcs_verify (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = mech (CKM_SHA256_RSA_PKCS, NULL, 0);
	CK_MECHANISM raw = mech (CKM_RSA_PKCS, NULL, 0);
	ossl_p op = { RSA_PKCS1_PADDING, "SHA256", NULL, 0, NULL };
	CK_BYTE other[sizeof msg], di[64];
	size_t len = strlen (msg), di_len = digest_info (di);
	buf sig;
	keypair kp;

	td_keys (fx, &kp);
	ERR_clear_error ();
	o_digest_sign (kp.pkey, &op, msg, len, &sig);
	m_verify_ok (fx, &m, kp.pub, msg, len, sig.b, sig.len);
	/* another message; a tampered signature */
	memcpy (other, msg, len);
	other[3] ^= 1;
	assert_verify (CKR_SIGNATURE_INVALID, &m, kp.pub, other, len, sig.b, sig.len);
	sig.b[100] ^= 0x80;
	assert_verify (CKR_SIGNATURE_INVALID, &m, kp.pub, msg, len, sig.b, sig.len);
	sig.b[100] ^= 0x80;
	/* SPEC: C_Verify: a signature of the wrong length */
	assert_verify (CKR_SIGNATURE_LEN_RANGE, &m, kp.pub, msg, len, sig.b, K - 1);
	assert_verify (CKR_SIGNATURE_LEN_RANGE, &m, kp.pub, msg, len, sig.b, K + 1);
	/* raw CKM_RSA_PKCS: OpenSSL's signature of the DigestInfo */
	m_verify_ok (fx, &raw, kp.pub, di, di_len, sig.b, sig.len);
	assert_verify (CKR_SIGNATURE_LEN_RANGE, &raw, kp.pub, di, di_len, sig.b, K - 1);
	di[di_len - 1] ^= 1;
	assert_verify (CKR_SIGNATURE_INVALID, &raw, kp.pub, di, di_len, sig.b, sig.len);
	/* a signature value >= n is invalid, not an internal error */
	memset (sig.b, 0xff, K);
	assert_verify (CKR_SIGNATURE_INVALID, &m, kp.pub, msg, len, sig.b, K);
	/* failures leave nothing on this thread's OpenSSL error queue */
	assert_num_eq (0, ERR_peek_error ());
	EVP_PKEY_free (kp.pkey);
}

/* ------------------------------------------------------------------ */
/* Raw RSA (X.509)                                                     */

static void
test_x509 (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = mech (CKM_RSA_X_509, NULL, 0);
	ossl_p op = { RSA_NO_PADDING, NULL, NULL, 0, NULL };
	CK_BYTE in[K + 1], block[K];
	buf want, sig, ct, pt;
	keypair kp;

	td_keys (fx, &kp);
	memset (in, 0x3c, sizeof in);
	/* the input is a number: 32 bytes mean 224 zero bytes before them */
	memset (block, 0, sizeof block);
	memcpy (block + K - 32, in, 32);
	o_sign (kp.pkey, &op, block, K, &want);
	assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, in, 32, &sig, false));
	assert_mem_eq (want.b, want.len, sig.b, sig.len);
	m_verify_ok (fx, &m, kp.pub, in, 32, sig.b, sig.len);
	m_verify_ok (fx, &m, kp.pub, block, K, sig.b, sig.len);
	assert_verify (CKR_SIGNATURE_LEN_RANGE, &m, kp.pub, in, 32, sig.b, K - 1);
	sig.b[7] ^= 1;
	assert_verify (CKR_SIGNATURE_INVALID, &m, kp.pub, in, 32, sig.b, sig.len);
	/* more than k bytes; a number not below n */
	assert_rv (CKR_DATA_LEN_RANGE, m_sign (fx, &m, kp.priv, in, K + 1, &sig, false));
	assert_rv (CKR_DATA_INVALID, m_sign (fx, &m, kp.priv, td_rsa_modulus, K, &sig,
	                                     false));
	/* encrypt in the module, decrypt in OpenSSL: the padded block */
	assert_rv (CKR_OK, m_encrypt (fx, &m, kp.pub, in, 32, &ct));
	assert_num_eq (K, ct.len);
	assert_true (o_decrypt (kp.pkey, &op, ct.b, ct.len, &pt));
	assert_mem_eq (block, sizeof block, pt.b, pt.len);
	/* and back: the module's plaintext is all k bytes */
	assert_rv (CKR_OK, m_decrypt (fx, &m, kp.priv, ct.b, ct.len, &pt));
	assert_mem_eq (block, sizeof block, pt.b, pt.len);
	assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE,
	           m_decrypt (fx, &m, kp.priv, ct.b, K - 1, &pt));
	EVP_PKEY_free (kp.pkey);
}

/* ------------------------------------------------------------------ */
/* PSS                                                                 */

static void
test_pss_raw (void *arg)
{
	lh_fx *fx = arg;
	CK_RSA_PKCS_PSS_PARAMS pp = { CKM_SHA256, CKG_MGF1_SHA256, 32 },
		p2 = { CKM_SHA384, CKG_MGF1_SHA1, 0 };
	CK_MECHANISM m = mech (CKM_RSA_PKCS_PSS, &pp, sizeof pp);
	ossl_p op = { RSA_PKCS1_PSS_PADDING, "SHA256", NULL, 32, NULL },
		o2 = { RSA_PKCS1_PSS_PADDING, "SHA384", "SHA1", 0, NULL };
	CK_BYTE h[64];
	size_t h_len;
	buf sig, sig2;
	keypair kp;

	td_keys (fx, &kp);
	sha ("SHA256", msg, strlen (msg), h, &h_len);
	assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, h, h_len, &sig, false));
	assert_num_eq (K, sig.len);
	assert_true (o_verify (kp.pkey, &op, h, h_len, sig.b, sig.len));
	assert_true (o_digest_verify (kp.pkey, &op, msg, strlen (msg), sig.b, sig.len));
	/* a random salt: two signatures differ, both verify */
	assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, h, h_len, &sig2, false));
	assert_false (memcmp (sig.b, sig2.b, K) == 0);
	m_verify_ok (fx, &m, kp.pub, h, h_len, sig2.b, sig2.len);
	/* OpenSSL signs, the module verifies */
	o_sign (kp.pkey, &op, h, h_len, &sig);
	m_verify_ok (fx, &m, kp.pub, h, h_len, sig.b, sig.len);
	assert_verify (CKR_SIGNATURE_LEN_RANGE, &m, kp.pub, h, h_len, sig.b, K - 1);
	sig.b[0] ^= 0x01;
	assert_verify (CKR_SIGNATURE_INVALID, &m, kp.pub, h, h_len, sig.b, sig.len);
	sig.b[0] ^= 0x01;
	/* another salt length in the parameter: the signature fails */
	pp.sLen = 20;
	assert_verify (CKR_SIGNATURE_INVALID, &m, kp.pub, h, h_len, sig.b, sig.len);
	pp.sLen = 32;
	/* SPEC: 2.1.10: the input is a hash of hashAlg's length exactly */
	assert_rv (CKR_DATA_LEN_RANGE, m_sign (fx, &m, kp.priv, h, h_len - 1, &sig, false));
	assert_rv (CKR_DATA_LEN_RANGE, m_sign (fx, &m, kp.priv, h, h_len + 1, &sig, false));
	assert_rv (CKR_DATA_LEN_RANGE,
	           m_verify (fx, &m, kp.pub, h, h_len + 1, sig.b, sig.len, false));
	/* SHA-384 hash, MGF1 with SHA-1, no salt: deterministic */
	m = mech (CKM_RSA_PKCS_PSS, &p2, sizeof p2);
	sha ("SHA384", msg, strlen (msg), h, &h_len);
	assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, h, h_len, &sig, false));
	assert_true (o_verify (kp.pkey, &o2, h, h_len, sig.b, sig.len));
	assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, h, h_len, &sig2, false));
	assert_mem_eq (sig.b, sig.len, sig2.b, sig2.len);
	EVP_PKEY_free (kp.pkey);
}

/* CKM_SHA*_RSA_PKCS_PSS, single and multi-part, against OpenSSL. */
static void
test_pss_hashed (void *arg)
{
	lh_fx *fx = arg;
	size_t i, len = strlen (msg);
	buf sig;
	keypair kp;

	td_keys (fx, &kp);
	for (i = 0; i < N_ (hashes); i++) {
		CK_RSA_PKCS_PSS_PARAMS pp = { hashes[i].hash, hashes[i].mgf, hashes[i].len };
		CK_MECHANISM m = mech (hashes[i].pss, &pp, sizeof pp);
		ossl_p op = { RSA_PKCS1_PSS_PADDING, hashes[i].name, NULL,
		              (int)hashes[i].len, NULL };

		printf ("# %s\n", hashes[i].name);
		assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, msg, len, &sig, false));
		assert_true (o_digest_verify (kp.pkey, &op, msg, len, sig.b, sig.len));
		assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, msg, len, &sig, true));
		assert_true (o_digest_verify (kp.pkey, &op, msg, len, sig.b, sig.len));
		/* OpenSSL signs; the module verifies in one and in many parts */
		o_digest_sign (kp.pkey, &op, msg, len, &sig);
		m_verify_ok (fx, &m, kp.pub, msg, len, sig.b, sig.len);
		sig.b[sig.len - 1] ^= 1;
		assert_verify (CKR_SIGNATURE_INVALID, &m, kp.pub, msg, len, sig.b, sig.len);
	}
	EVP_PKEY_free (kp.pkey);
}

/* C_SignInit / C_VerifyInit / C_EncryptInit of m must give rv. */
#define assert_init(rv, fn, m, k) \
	assert_rv (rv, fx->fl->fn (fx->session, m, k))

static void
test_pss_params (void *arg)
{
	lh_fx *fx = arg;
	CK_RSA_PKCS_PSS_PARAMS pp = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM m = mech (CKM_RSA_PKCS_PSS, NULL, 0);
	CK_BYTE h[32] = { 0 };
	buf sig;
	keypair kp;

	td_keys (fx, &kp);
	/* no parameter, a short one */
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_SignInit, &m, kp.priv);
	m = mech (CKM_RSA_PKCS_PSS, &pp, sizeof pp - 1);
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_SignInit, &m, kp.priv);
	m = mech (CKM_RSA_PKCS_PSS, &pp, sizeof pp);
	/* a hash we do not have (MD5), an unknown MGF */
	pp.hashAlg = CKM_MD5;
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_SignInit, &m, kp.priv);
	pp.hashAlg = CKM_SHA256;
	pp.mgf = 0x77;
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_VerifyInit, &m, kp.pub);
	pp.mgf = CKG_MGF1_SHA256;
	/* RFC 8017 9.1.1: emLen >= hLen + sLen + 2, so 222 fits, 223 not */
	pp.sLen = 223;
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_SignInit, &m, kp.priv);
	pp.sLen = 222;
	assert_rv (CKR_OK, m_sign (fx, &m, kp.priv, h, sizeof h, &sig, false));
	m_verify_ok (fx, &m, kp.pub, h, sizeof h, sig.b, sig.len);
	/* SPEC: 2.1.16, 2.1.17: the hashed mechanisms' hashAlg is their hash */
	pp.sLen = 32;
	pp.hashAlg = CKM_SHA384;
	m = mech (CKM_SHA256_RSA_PKCS_PSS, &pp, sizeof pp);
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_SignInit, &m, kp.priv);
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_VerifyInit, &m, kp.pub);
	m = mech (CKM_SHA256_RSA_PKCS_PSS, NULL, 0);
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_SignInit, &m, kp.priv);
	/* the PKCS#1 v1.5 mechanisms take no parameter */
	m = mech (CKM_SHA256_RSA_PKCS, &pp, sizeof pp);
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_SignInit, &m, kp.priv);
	m = mech (CKM_RSA_PKCS, &pp, sizeof pp);
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_EncryptInit, &m, kp.pub);
	EVP_PKEY_free (kp.pkey);
}

/* ------------------------------------------------------------------ */
/* Encryption                                                          */

static bool
implicit_rejection (void)
{
	/* OpenSSL 3.2 answers bad PKCS#1 v1.5 padding with a synthetic
	 * plaintext instead of an error (Marvin attack defence) */
	return OpenSSL_version_num () >= 0x30200000L;
}

/* OpenSSL (op) encrypts msg, the module (m) decrypts; and the other way. */
static void
both_ways (lh_fx *fx, const keypair *kp, CK_MECHANISM *m, const ossl_p *op)
{
	size_t len = strlen (msg);
	buf ct, pt;

	o_encrypt (kp->pkey, op, msg, len, &ct);
	assert_rv (CKR_OK, m_decrypt (fx, m, kp->priv, ct.b, ct.len, &pt));
	assert_mem_eq (msg, len, pt.b, pt.len);
	assert_rv (CKR_OK, m_encrypt (fx, m, kp->pub, msg, len, &ct));
	assert_num_eq (K, ct.len);
	assert_true (o_decrypt (kp->pkey, op, ct.b, ct.len, &pt));
	assert_mem_eq (msg, len, pt.b, pt.len);
}

/* OAEP with hash/MGF1 h/g (OpenSSL names, PKCS#11 values) and label. */
static void
oaep_both_ways (lh_fx *fx, const keypair *kp, CK_RSA_PKCS_OAEP_PARAMS *pp,
                const char *h, const char *g, char *label)
{
	CK_MECHANISM m = mech (CKM_RSA_PKCS_OAEP, pp, sizeof *pp);
	ossl_p op = { RSA_PKCS1_OAEP_PADDING, h, g, 0, label };

	pp->pSourceData = label;
	pp->ulSourceDataLen = label ? strlen (label) : 0;
	both_ways (fx, kp, &m, &op);
}

static void
test_pkcs_encrypt (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = mech (CKM_RSA_PKCS, NULL, 0);
	ossl_p op = { RSA_PKCS1_PADDING, NULL, NULL, 0, NULL };
	ossl_p raw = { RSA_NO_PADDING, NULL, NULL, 0, NULL };
	CK_BYTE big[K], block[K];
	buf ct, pt;
	CK_RV rv;
	keypair kp;

	td_keys (fx, &kp);
	both_ways (fx, &kp, &m, &op);
	/* SPEC: 2.1.6: at most k - 11 bytes */
	memset (big, 0xa5, sizeof big);
	assert_rv (CKR_OK, m_encrypt (fx, &m, kp.pub, big, K - 11, &ct));
	assert_rv (CKR_OK, m_decrypt (fx, &m, kp.priv, ct.b, ct.len, &pt));
	assert_mem_eq (big, K - 11, pt.b, pt.len);
	assert_rv (CKR_DATA_LEN_RANGE, m_encrypt (fx, &m, kp.pub, big, K - 10, &ct));
	/* a ciphertext of the wrong length */
	assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE,
	           m_decrypt (fx, &m, kp.priv, ct.b, K - 1, &pt));
	/* bad padding: block type 1 instead of 2 */
	memset (block, 0xff, sizeof block);
	block[0] = 0x00;
	block[1] = 0x01;
	block[K - 33] = 0x00;
	o_encrypt (kp.pkey, &raw, block, K, &ct);
	rv = m_decrypt (fx, &m, kp.priv, ct.b, ct.len, &pt);
	if (implicit_rejection () && rv == CKR_OK)
		assert_false (pt.len == 32 && memcmp (pt.b, block + K - 32, 32) == 0);
	else
		assert_rv (CKR_ENCRYPTED_DATA_INVALID, rv);
	/* a ciphertext value >= n */
	memset (ct.b, 0xff, K);
	assert_rv (CKR_ENCRYPTED_DATA_INVALID, m_decrypt (fx, &m, kp.priv, ct.b, K, &pt));
	EVP_PKEY_free (kp.pkey);
}

static void
test_oaep (void *arg)
{
	lh_fx *fx = arg;
	static char label[] = "litehsm label";
	CK_RSA_PKCS_OAEP_PARAMS pp = { CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED,
	                               NULL, 0 };
	CK_MECHANISM m = mech (CKM_RSA_PKCS_OAEP, &pp, sizeof pp);
	CK_BYTE big[K];
	buf ct, pt;
	keypair kp;

	td_keys (fx, &kp);
	oaep_both_ways (fx, &kp, &pp, "SHA256", NULL, label);
	/* SHA-1 without a label (the common default); mixed SHA-512/MGF1-SHA-224 */
	pp = (CK_RSA_PKCS_OAEP_PARAMS){ CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0 };
	oaep_both_ways (fx, &kp, &pp, "SHA1", NULL, NULL);
	pp = (CK_RSA_PKCS_OAEP_PARAMS){ CKM_SHA512, CKG_MGF1_SHA224, CKZ_DATA_SPECIFIED, NULL, 0 };
	oaep_both_ways (fx, &kp, &pp, "SHA512", "SHA224", NULL);
	/* another label: the ciphertext does not decrypt */
	pp = (CK_RSA_PKCS_OAEP_PARAMS){ CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED,
	                                label, sizeof label - 1 };
	assert_rv (CKR_OK, m_encrypt (fx, &m, kp.pub, msg, strlen (msg), &ct));
	pp.ulSourceDataLen--;
	assert_rv (CKR_ENCRYPTED_DATA_INVALID, m_decrypt (fx, &m, kp.priv, ct.b, ct.len, &pt));
	/* RFC 8017 7.1.1: at most k - 2 hLen - 2 bytes */
	memset (big, 0x11, sizeof big);
	assert_rv (CKR_OK, m_encrypt (fx, &m, kp.pub, big, K - 66, &ct));
	assert_rv (CKR_OK, m_decrypt (fx, &m, kp.priv, ct.b, ct.len, &pt));
	assert_mem_eq (big, K - 66, pt.b, pt.len);
	assert_rv (CKR_DATA_LEN_RANGE, m_encrypt (fx, &m, kp.pub, big, K - 65, &ct));
	assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE,
	           m_decrypt (fx, &m, kp.priv, ct.b, K - 2, &pt));
	EVP_PKEY_free (kp.pkey);
}

static void
test_oaep_params (void *arg)
{
	lh_fx *fx = arg;
	CK_RSA_PKCS_OAEP_PARAMS pp = { CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED,
	                               NULL, 0 };
	CK_RSA_PKCS_PSS_PARAMS ps = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM m = mech (CKM_RSA_PKCS_OAEP, NULL, 0);
	CK_MECHANISM mp = mech (CKM_RSA_PKCS_PSS, &ps, sizeof ps);
	keypair kp;

	td_keys (fx, &kp);
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_EncryptInit, &m, kp.pub);
	m = mech (CKM_RSA_PKCS_OAEP, &pp, sizeof pp + 1);
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_EncryptInit, &m, kp.pub);
	m = mech (CKM_RSA_PKCS_OAEP, &pp, sizeof pp);
	pp.hashAlg = CKM_MD5;
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_EncryptInit, &m, kp.pub);
	pp.hashAlg = CKM_SHA256;
	pp.mgf = 0;
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_DecryptInit, &m, kp.priv);
	pp.mgf = CKG_MGF1_SHA256;
	pp.source = 2;
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_EncryptInit, &m, kp.pub);
	pp.source = CKZ_DATA_SPECIFIED;
	pp.ulSourceDataLen = 4;   /* with no data */
	assert_init (CKR_MECHANISM_PARAM_INVALID, C_EncryptInit, &m, kp.pub);
	pp.ulSourceDataLen = 0;
	assert_init (CKR_OK, C_EncryptInit, &m, kp.pub);
	assert_init (CKR_OK, C_EncryptInit, NULL, kp.pub);
	/* OAEP neither signs nor verifies; PSS does not encrypt */
	assert_init (CKR_MECHANISM_INVALID, C_SignInit, &m, kp.priv);
	assert_init (CKR_MECHANISM_INVALID, C_EncryptInit, &mp, kp.pub);
	EVP_PKEY_free (kp.pkey);
}

/* ------------------------------------------------------------------ */
/* Length queries, key classes, key sizes                              */

static void
test_length_query (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM m = mech (CKM_SHA256_RSA_PKCS, NULL, 0);
	CK_MECHANISM e = mech (CKM_RSA_PKCS, NULL, 0);
	ossl_p op = { RSA_PKCS1_PADDING, "SHA256", NULL, 0, NULL };
	CK_BYTE_PTR in = (CK_BYTE_PTR)msg;
	CK_ULONG len, mlen = strlen (msg);
	buf sig, ct, pt;
	keypair kp;

	td_keys (fx, &kp);
	assert_rv (CKR_OK, fx->fl->C_SignInit (fx->session, &m, kp.priv));
	/* SPEC: 5.2: NULL output gives the length, the operation goes on */
	len = 0;
	assert_rv (CKR_OK, fx->fl->C_Sign (fx->session, in, mlen, NULL, &len));
	assert_num_eq (K, len);
	len = 100;
	assert_rv (CKR_BUFFER_TOO_SMALL, fx->fl->C_Sign (fx->session, in, mlen, sig.b, &len));
	assert_num_eq (K, len);
	assert_rv (CKR_OK, fx->fl->C_Sign (fx->session, in, mlen, sig.b, &len));
	assert_true (o_digest_verify (kp.pkey, &op, msg, mlen, sig.b, len));
	/* the operation ended with the signature */
	assert_rv (CKR_OPERATION_NOT_INITIALIZED,
	           fx->fl->C_Sign (fx->session, in, mlen, sig.b, &len));
	/* multi-part: C_SignFinal's length query and short buffer */
	assert_rv (CKR_OK, fx->fl->C_SignInit (fx->session, &m, kp.priv));
	assert_rv (CKR_OK, fx->fl->C_SignUpdate (fx->session, in, mlen));
	len = 0;
	assert_rv (CKR_OK, fx->fl->C_SignFinal (fx->session, NULL, &len));
	assert_num_eq (K, len);
	len = K - 1;
	assert_rv (CKR_BUFFER_TOO_SMALL, fx->fl->C_SignFinal (fx->session, sig.b, &len));
	assert_rv (CKR_OK, fx->fl->C_SignFinal (fx->session, sig.b, &len));
	assert_true (o_digest_verify (kp.pkey, &op, msg, mlen, sig.b, len));
	/* encrypt and decrypt: k bytes at most */
	assert_rv (CKR_OK, fx->fl->C_EncryptInit (fx->session, &e, kp.pub));
	len = 0;
	assert_rv (CKR_OK, fx->fl->C_Encrypt (fx->session, in, mlen, NULL, &len));
	assert_num_eq (K, len);
	ct.len = sizeof ct.b;
	assert_rv (CKR_OK, fx->fl->C_Encrypt (fx->session, in, mlen, ct.b, &ct.len));
	assert_rv (CKR_OK, fx->fl->C_DecryptInit (fx->session, &e, kp.priv));
	len = 0;
	assert_rv (CKR_OK, fx->fl->C_Decrypt (fx->session, ct.b, ct.len, NULL, &len));
	assert_true (len >= mlen && len <= K);
	pt.len = sizeof pt.b;
	assert_rv (CKR_OK, fx->fl->C_Decrypt (fx->session, ct.b, ct.len, pt.b, &pt.len));
	assert_mem_eq (msg, mlen, pt.b, pt.len);
	EVP_PKEY_free (kp.pkey);
}

/*
 * Sign/decrypt need the private key, verify/encrypt the public key; an
 * AES key is no RSA key.  A 1024-bit key imports (it may be kept) but no
 * mechanism takes it.
 */
static void
test_key_checks (void *arg)
{
	lh_fx *fx = arg;
	CK_RSA_PKCS_OAEP_PARAMS pp = { CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED,
	                               NULL, 0 };
	CK_MECHANISM m = mech (CKM_SHA256_RSA_PKCS, NULL, 0);
	CK_MECHANISM e = mech (CKM_RSA_PKCS, NULL, 0);
	CK_MECHANISM o = mech (CKM_RSA_PKCS_OAEP, &pp, sizeof pp);
	static const CK_BYTE aes[32] = { 1, 2, 3 };
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
		{ CKA_TOKEN, &no, 1 },
		{ CKA_VALUE, (void *)aes, sizeof aes },
		{ CKA_SIGN, &yes, 1 },
	};
	CK_OBJECT_HANDLE pub, priv;
	EVP_PKEY *small = o_gen (1024);
	keypair kp;
	comp c;

	td_keys (fx, &kp);
	assert_init (CKR_KEY_TYPE_INCONSISTENT, C_SignInit, &m, kp.pub);
	assert_init (CKR_KEY_TYPE_INCONSISTENT, C_VerifyInit, &m, kp.priv);
	assert_init (CKR_KEY_TYPE_INCONSISTENT, C_EncryptInit, &e, kp.priv);
	assert_init (CKR_KEY_TYPE_INCONSISTENT, C_DecryptInit, &e, kp.pub);
	assert_init (CKR_KEY_TYPE_INCONSISTENT, C_SignInit, &m,
	             fx_create (fx, fx->session, t, N_ (t)));
	/* nothing was left active; then cancel (SPEC 3.0: NULL mechanism) */
	assert_init (CKR_OK, C_SignInit, &m, kp.priv);
	assert_init (CKR_OK, C_SignInit, NULL, kp.priv);
	EVP_PKEY_free (kp.pkey);

	pkey_comp (small, &c);
	EVP_PKEY_free (small);
	pub = import_key (fx, CKO_PUBLIC_KEY, &c);
	priv = import_key (fx, CKO_PRIVATE_KEY, &c);
	assert_num_eq (1024, fx_get_ulong (fx, fx->session, pub, CKA_MODULUS_BITS));
	/* SPEC: C_*Init: key size outside the mechanism's range */
	assert_init (CKR_KEY_SIZE_RANGE, C_VerifyInit, &m, pub);
	assert_init (CKR_KEY_SIZE_RANGE, C_SignInit, &m, priv);
	assert_init (CKR_KEY_SIZE_RANGE, C_EncryptInit, &o, pub);
	assert_init (CKR_KEY_SIZE_RANGE, C_DecryptInit, &o, priv);
	assert_init (CKR_KEY_SIZE_RANGE, C_EncryptInit, &e, pub);
}

/* ------------------------------------------------------------------ */
/* Key pair generation                                                 */

static CK_RV
generate_rv (lh_fx *fx, CK_ULONG *bits, const CK_BYTE *e, size_t elen,
             CK_MECHANISM *m, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM gen = mech (CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0);
	CK_ATTRIBUTE pt[5] = {
		{ CKA_TOKEN, &no, 1 },
		{ CKA_VERIFY, &yes, 1 },
		{ CKA_ENCRYPT, &yes, 1 },
	}, vt[] = {
		{ CKA_TOKEN, &no, 1 },
		{ CKA_SIGN, &yes, 1 },
		{ CKA_DECRYPT, &yes, 1 },
	};
	CK_ULONG pn = 3;

	if (bits)
		pt[pn++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, bits, sizeof *bits };
	if (e)
		pt[pn++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, (void *)e, elen };
	return fx->fl->C_GenerateKeyPair (fx->session, m ? m : &gen, pt, pn, vt,
	                                  N_ (vt), pub, priv);
}

static void
check_generated (lh_fx *fx, CK_ULONG bits, const CK_BYTE *e, size_t elen)
{
	CK_RSA_PKCS_PSS_PARAMS pp = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM m = mech (CKM_SHA256_RSA_PKCS_PSS, &pp, sizeof pp);
	ossl_p op = { RSA_PKCS1_PSS_PADDING, "SHA256", NULL, 32, NULL };
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE *der = NULL;
	EVP_PKEY *pkey;
	buf n, sig;
	int der_len;

	assert_rv (CKR_OK, generate_rv (fx, &bits, e, elen, NULL, &pub, &priv));
	assert_num_eq (bits, fx_get_ulong (fx, fx->session, pub, CKA_MODULUS_BITS));
	n.len = fx_get_bytes (fx, fx->session, pub, CKA_MODULUS, n.b, sizeof n.b);
	assert_num_eq (bits / 8, n.len);
	assert_true (n.b[0] & 0x80);
	assert_attr (fx, priv, CKA_MODULUS, n.b, n.len);
	assert_attr (fx, pub, CKA_PUBLIC_EXPONENT, e, elen);
	assert_attr (fx, priv, CKA_PUBLIC_EXPONENT, e, elen);
	/* made here: CKA_LOCAL, the mechanism, never out in the clear */
	assert_true (fx_get_bool (fx, fx->session, pub, CKA_LOCAL));
	assert_true (fx_get_bool (fx, fx->session, priv, CKA_LOCAL));
	assert_num_eq (CKM_RSA_PKCS_KEY_PAIR_GEN,
	               fx_get_ulong (fx, fx->session, pub, CKA_KEY_GEN_MECHANISM));
	assert_num_eq (CKM_RSA_PKCS_KEY_PAIR_GEN,
	               fx_get_ulong (fx, fx->session, priv, CKA_KEY_GEN_MECHANISM));
	assert_true (fx_get_bool (fx, fx->session, priv, CKA_SENSITIVE));
	assert_true (fx_get_bool (fx, fx->session, priv, CKA_ALWAYS_SENSITIVE));
	assert_true (fx_get_bool (fx, fx->session, priv, CKA_NEVER_EXTRACTABLE));
	assert_hidden (fx, priv, CKA_PRIVATE_EXPONENT);
	assert_hidden (fx, priv, CKA_PRIME_2);
	/* CKA_PUBLIC_KEY_INFO on both halves, of this modulus */
	pkey = module_pub (fx, pub);
	der_len = i2d_PUBKEY (pkey, &der);
	assert_true (der_len > 0);
	assert_attr (fx, pub, CKA_PUBLIC_KEY_INFO, der, der_len);
	assert_attr (fx, priv, CKA_PUBLIC_KEY_INFO, der, der_len);
	OPENSSL_free (der);
	/* the pair works, and OpenSSL agrees */
	assert_rv (CKR_OK, m_sign (fx, &m, priv, msg, strlen (msg), &sig, false));
	assert_num_eq (bits / 8, sig.len);
	assert_true (o_digest_verify (pkey, &op, msg, strlen (msg), sig.b, sig.len));
	m_verify_ok (fx, &m, pub, msg, strlen (msg), sig.b, sig.len);
	EVP_PKEY_free (pkey);
}

static const CK_BYTE f4[] = { 0x01, 0x00, 0x01 };

static void
test_generate_2048 (void *arg)
{
	lh_fx *fx = arg;
	CK_ULONG bits = 2048;
	CK_OBJECT_HANDLE pub, priv;

	check_generated (fx, 2048, f4, sizeof f4);
	/* without CKA_PUBLIC_EXPONENT: 65537 */
	assert_rv (CKR_OK, generate_rv (fx, &bits, NULL, 0, NULL, &pub, &priv));
	assert_attr (fx, pub, CKA_PUBLIC_EXPONENT, f4, sizeof f4);
}

static void
test_generate_3072 (void *arg)
{
	check_generated (arg, 3072, f4, sizeof f4);
}

/* e = 3 is odd and >= 3: allowed, and the key works. */
static void
test_generate_e3 (void *arg)
{
	check_generated (arg, 2048, (const CK_BYTE *)"\x03", 1);
}

static void
test_generate_bad (void *arg)
{
	lh_fx *fx = arg;
	static const CK_BYTE even[] = { 0x01, 0x00, 0x00 }, one[] = { 0x01 };
	CK_ULONG bits;
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = mech (CKM_RSA_PKCS_KEY_PAIR_GEN, &bits, sizeof bits);

	/* SPEC: 2.1.4: CKA_MODULUS_BITS is required */
	assert_rv (CKR_TEMPLATE_INCOMPLETE, generate_rv (fx, NULL, NULL, 0, NULL, &pub, &priv));
	bits = 1024;
	assert_rv (CKR_KEY_SIZE_RANGE, generate_rv (fx, &bits, NULL, 0, NULL, &pub, &priv));
	bits = 8193;
	assert_rv (CKR_KEY_SIZE_RANGE, generate_rv (fx, &bits, NULL, 0, NULL, &pub, &priv));
	bits = 2048;
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           generate_rv (fx, &bits, even, sizeof even, NULL, &pub, &priv));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           generate_rv (fx, &bits, one, sizeof one, NULL, &pub, &priv));
	assert_rv (CKR_MECHANISM_PARAM_INVALID,
	           generate_rv (fx, &bits, NULL, 0, &m, &pub, &priv));
}

/* ------------------------------------------------------------------ */
/* Wrap and unwrap secret keys with OAEP                               */

static void
test_wrap_oaep (void *arg)
{
	lh_fx *fx = arg;
	static char label[] = "wrap";
	static const CK_BYTE aes[32] = {
		0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0,
		0x85, 0x7d, 0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7,
		0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4,
	};
	CK_RSA_PKCS_OAEP_PARAMS pp = { CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED,
	                               label, sizeof label - 1 };
	CK_MECHANISM m = mech (CKM_RSA_PKCS_OAEP, &pp, sizeof pp);
	ossl_p op = { RSA_PKCS1_OAEP_PADDING, "SHA256", NULL, 0, label };
	CK_ATTRIBUTE wrap_attr[] = { { CKA_WRAP, &yes, 1 } };
	CK_ATTRIBUTE unwrap_attr[] = { { CKA_UNWRAP, &yes, 1 }, { CKA_DECRYPT, &no, 1 } };
	CK_ATTRIBUTE sec[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
		{ CKA_TOKEN, &no, 1 },
		{ CKA_VALUE, (void *)aes, sizeof aes },
		{ CKA_SENSITIVE, &no, 1 },
		{ CKA_EXTRACTABLE, &yes, 1 },
	};
	CK_ATTRIBUTE ut[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
		{ CKA_TOKEN, &no, 1 },
		{ CKA_SENSITIVE, &yes, 1 },
	};
	CK_OBJECT_HANDLE pub, priv, sk, uk;
	EVP_PKEY *pkey;
	buf w, pt;
	comp c;

	td_comp (&c);
	pkey = comp_pkey (&c, true);
	assert_rv (CKR_OK, import_rv (fx, CKO_PUBLIC_KEY, &c, 0, wrap_attr, 1, &pub));
	assert_rv (CKR_OK, import_rv (fx, CKO_PRIVATE_KEY, &c, 0, unwrap_attr, 2, &priv));
	sk = fx_create (fx, fx->session, sec, N_ (sec));
	/* wrap: length query, then the blob, which OpenSSL opens */
	w.len = 0;
	assert_rv (CKR_OK, fx->fl->C_WrapKey (fx->session, &m, pub, sk, NULL, &w.len));
	assert_num_eq (K, w.len);
	assert_rv (CKR_OK, fx->fl->C_WrapKey (fx->session, &m, pub, sk, w.b, &w.len));
	assert_num_eq (K, w.len);
	assert_true (o_decrypt (pkey, &op, w.b, w.len, &pt));
	assert_mem_eq (aes, sizeof aes, pt.b, pt.len);
	/* unwrap OpenSSL's blob; the new key has the value's length */
	o_encrypt (pkey, &op, aes, sizeof aes, &w);
	assert_rv (CKR_OK, fx->fl->C_UnwrapKey (fx->session, &m, priv, w.b, w.len, ut,
	                                        N_ (ut), &uk));
	assert_num_eq (32, fx_get_ulong (fx, fx->session, uk, CKA_VALUE_LEN));
	/* a blob under another label is refused */
	pp.ulSourceDataLen--;
	assert_rv (CKR_WRAPPED_KEY_INVALID, fx->fl->C_UnwrapKey (fx->session, &m, priv,
	                                                         w.b, w.len, ut, N_ (ut),
	                                                         &uk));
	EVP_PKEY_free (pkey);
}

/* ------------------------------------------------------------------ */
/* A host whose OpenSSL has an ENGINE as its default for RSA           */

/*
 * Write an OpenSSL config that loads libp11's pkcs11 engine with
 * default_algorithms = ALL, as "openssl -engine pkcs11" or a system
 * openssl.cnf does, into path.  The engine needs some PKCS#11 module
 * that is not ours (ours would then be initialized twice in one
 * process): $LH_TEST_ENGINE_MODULE, p11-kit's trust module or SoftHSM2.
 * False when the engine or such a module is missing.
 */
static bool
engine_conf (lh_fx *fx, char *path, size_t size)
{
	const char *v = OpenSSL_version (OPENSSL_ENGINES_DIR), *mod;
	char dir[512], engine[600], trust[600], *q;
	FILE *f;

	/* ENGINESDIR: "<libdir>/engines-3" */
	if (!(q = strchr (v, '"')) || snprintf (dir, sizeof dir, "%s", q + 1) <= 0 ||
	    !(q = strrchr (dir, '"')))
		return false;
	*q = '\0';
	snprintf (engine, sizeof engine, "%s/pkcs11.so", dir);
	if ((q = strrchr (dir, '/')))
		*q = '\0';
	snprintf (trust, sizeof trust, "%s/pkcs11/p11-kit-trust.so", dir);
	if (!(mod = getenv ("LH_TEST_ENGINE_MODULE")))
		mod = access (trust, R_OK) == 0 ? trust : "/usr/lib/softhsm/libsofthsm2.so";
	if (access (mod, R_OK) != 0 || access (engine, R_OK) != 0)
		return false;
	snprintf (path, size, "%s/openssl-engine.cnf", fx->dir);
	assert_true ((f = fopen (path, "w")) != NULL);
	fprintf (f, "openssl_conf = openssl_init\n[openssl_init]\n"
	         "engines = engine_section\n[engine_section]\n"
	         "pkcs11 = pkcs11_section\n[pkcs11_section]\nengine_id = pkcs11\n"
	         "dynamic_path = %s\nMODULE_PATH = %s\n"
	         "default_algorithms = ALL\ninit = 1\n", engine, mod);
	assert_true (fclose (f) == 0);
	return true;
}

/* In the child: the engine really is the default for RSA here, so a
 * context made from the name "RSA" is the engine's legacy one. */
static void
test_engine_active (void *arg)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name (NULL, "RSA", NULL);

	(void)arg;
	assert_true (ctx != NULL);
	assert_true (EVP_PKEY_fromdata_init (ctx) != 1);
	EVP_PKEY_CTX_free (ctx);
	ERR_clear_error ();
}

/*
 * Every test of this program again, in a process whose OpenSSL has the
 * pkcs11 engine as its default for RSA (regression: there the module's
 * key import, its EVP_PKEY_fromdata and its PSS/OAEP digest settings
 * failed).  Skipped when the engine is not installed.
 */
static void
test_engine_host (void *arg)
{
	lh_fx *fx = arg;
	static char out[65536];
	const char *args[] = { NULL };
	char conf[400], saved[256], saved_asan[256], *line;
	const char *only, *asan;
	int status;

	if (!engine_conf (fx, conf, sizeof conf)) {
		printf ("# skip: no pkcs11 engine (libengine-pkcs11-openssl) or "
		        "no PKCS#11 module for it\n");
		return;
	}
	/* the child runs every test, whatever LH_TEST_ONLY chose here */
	only = getenv ("LH_TEST_ONLY");
	snprintf (saved, sizeof saved, "%s", only ? only : "");
	unsetenv ("LH_TEST_ONLY");
	setenv ("OPENSSL_CONF", conf, 1);
	setenv ("LH_RSA_ENGINE_CHILD", "1", 1);
	/* libp11's engine leaks its RSA method at exit; that is not ours to
	 * report, so the child runs without leak detection (sanitizer builds) */
	asan = getenv ("ASAN_OPTIONS");
	snprintf (saved_asan, sizeof saved_asan, "%s", asan ? asan : "");
	setenv ("ASAN_OPTIONS", "detect_leaks=0:halt_on_error=1", 1);
	status = fx_run_self (args, out, sizeof out);
	if (asan)
		setenv ("ASAN_OPTIONS", saved_asan, 1);
	else
		unsetenv ("ASAN_OPTIONS");
	unsetenv ("OPENSSL_CONF");
	unsetenv ("LH_RSA_ENGINE_CHILD");
	if (only)
		setenv ("LH_TEST_ONLY", saved, 1);
	/* the child ran, and under the engine */
	assert_true (strstr (out, "\nok 1 - /mech-rsa/engine-host/active\n") != NULL);
	for (line = strtok (out, "\n"); status != 0 && line; line = strtok (NULL, "\n"))
		if (strncmp (line, "not ok", 6) == 0 || strstr (line, ".c:"))
			printf ("# child: %s\n", line);
	assert_num_eq (0, status);
}

int
main (void)
{
	fx_main ();
	if (getenv ("LH_RSA_ENGINE_CHILD"))
		lh_test_add ("/mech-rsa/engine-host/active", test_engine_active,
		             FX (fx_loaded));
	lh_test_add ("/mech-rsa/cavp/sigver15-sha256", test_cavp_sigver, FX (fx_user));
	lh_test_add ("/mech-rsa/import/attrs", test_import_attrs, FX (fx_user));
	lh_test_add ("/mech-rsa/import/partial", test_import_partial, FX (fx_user));
	lh_test_add ("/mech-rsa/import/bad", test_import_bad, FX (fx_user));
	lh_test_add ("/mech-rsa/pkcs/raw-kat", test_pkcs_raw_kat, FX (fx_user));
	lh_test_add ("/mech-rsa/pkcs/hashed-kat", test_pkcs_hashed_kat, FX (fx_user));
	lh_test_add ("/mech-rsa/pkcs/verify", test_pkcs_verify, FX (fx_user));
	lh_test_add ("/mech-rsa/pkcs/encrypt", test_pkcs_encrypt, FX (fx_user));
	lh_test_add ("/mech-rsa/x509", test_x509, FX (fx_user));
	lh_test_add ("/mech-rsa/pss/raw", test_pss_raw, FX (fx_user));
	lh_test_add ("/mech-rsa/pss/hashed", test_pss_hashed, FX (fx_user));
	lh_test_add ("/mech-rsa/pss/params", test_pss_params, FX (fx_user));
	lh_test_add ("/mech-rsa/oaep/encrypt", test_oaep, FX (fx_user));
	lh_test_add ("/mech-rsa/oaep/params", test_oaep_params, FX (fx_user));
	lh_test_add ("/mech-rsa/length-query", test_length_query, FX (fx_user));
	lh_test_add ("/mech-rsa/key-checks", test_key_checks, FX (fx_user));
	lh_test_add ("/mech-rsa/generate/2048", test_generate_2048, FX (fx_user));
	lh_test_add ("/mech-rsa/generate/3072", test_generate_3072, FX (fx_user));
	lh_test_add ("/mech-rsa/generate/e3", test_generate_e3, FX (fx_user));
	lh_test_add ("/mech-rsa/generate/bad", test_generate_bad, FX (fx_user));
	lh_test_add ("/mech-rsa/wrap/oaep", test_wrap_oaep, FX (fx_user));
	if (!getenv ("LH_RSA_ENGINE_CHILD"))
		lh_test_add ("/mech-rsa/engine-host", test_engine_host, FX (fx_loaded));
	return lh_test_run ();
}
