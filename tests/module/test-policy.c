/*
 * test-policy.c - module-API tests of the key-usage policy (issue 3,
 * item 9): pkcs11/policy.c, the origin rules of template.c and the
 * callers in op.c and fn_keymgmt.c, reached only through the
 * CK_FUNCTION_LIST.
 *
 * Every rule has a test that breaks it, and next to the refusal a
 * control: the same key, or a twin that differs only in what the rule
 * looks at, doing the same call successfully.  Without the control a
 * refusal for an unrelated reason (a mechanism not there yet, a template
 * the module dislikes) would pass for the policy.
 *
 *   /policy/usage/...               usage flags, at Init, wrap, unwrap, derive
 *   /policy/allowed-mechanisms/...  CKA_ALLOWED_MECHANISMS
 *   /policy/dates/...               outside its dates a key cannot encrypt,
 *                                   sign, wrap or derive, but it still
 *                                   decrypts, verifies and unwraps
 *   /policy/sensitive/...           values never returned, sticky flags,
 *                                   unextractable keys never leave
 *   /policy/trusted/...             CKA_WRAP_WITH_TRUSTED, CKA_TRUSTED (SO)
 *   /policy/template/...            wrap, unwrap and derive templates
 *   /policy/strict/...              litehsm's strict policy (the default)
 *   /policy/attack/...              the known extraction attacks, written as
 *                                   the attacker would try them; each
 *                                   asserts the step that must fail
 *   /policy/lax/...                 strict_policy = no: the strict rules
 *                                   go, the spec's rules stay
 *   /policy/always-auth/...         CKA_ALWAYS_AUTHENTICATE
 *
 * The families (AES, RSA, HMAC, HKDF) do the cryptography of the
 * controls; until a family exists its tests fail at the control, never
 * at the refusal they are about.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "testdata.h"

#define N_(a) (sizeof (a) / sizeof ((a)[0]))

/* PKCS#11 3.0 HKDF (3.0 mechanisms, section 2.43); p11-kit 0.24 lacks it. */
#ifndef CKM_HKDF_DERIVE
#define CKM_HKDF_DERIVE 0x0000402aUL
#endif
#ifndef CKF_HKDF_SALT_DATA
#define CKF_HKDF_SALT_NULL 0x00000001UL
#define CKF_HKDF_SALT_DATA 0x00000002UL
typedef struct {
	CK_BBOOL bExtract;
	CK_BBOOL bExpand;
	CK_MECHANISM_TYPE prfHashMechanism;
	CK_ULONG ulSaltType;
	CK_BYTE *pSalt;
	CK_ULONG ulSaltLen;
	CK_OBJECT_HANDLE hSaltKey;
	CK_BYTE *pInfo;
	CK_ULONG ulInfoLen;
} CK_HKDF_PARAMS;
#endif

/* The strict rules relaxed, as conf/litehsm.conf.example documents. */
static const fx_opts fx_lax = { FX_USER, "strict_policy = no\n" };

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

/* CK_DATE is "YYYYMMDD" in ASCII. */
static const char date_past[] = "20000101";
static const char date_future[] = "29991231";

static const CK_BYTE key128[16] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
};

static const CK_BYTE key256[32] = {
	0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0,
	0x85, 0x7d, 0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7,
	0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4,
};

static const char msg[] = "policy test msg!";   /* one AES block */
#define MSG_LEN ((CK_ULONG) (sizeof msg - 1))

/* RFC 5869, appendix A.1 (SHA-256): IKM, salt, info and OKM. */
static const CK_BYTE hkdf_ikm[22] = {
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
};
static CK_BYTE hkdf_salt[13] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c,
};
static CK_BYTE hkdf_info[10] = {
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
};
static const CK_BYTE hkdf_okm[42] = {
	0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f, 0x64,
	0xd0, 0x36, 0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90, 0xcf, 0x1a, 0x5a, 0x4c,
	0x5d, 0xb0, 0x2d, 0x56, 0xec, 0xc4, 0xc5, 0xbf, 0x34, 0x00, 0x72, 0x08,
	0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65,
};

static CK_BYTE iv16[16] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};
static CK_BYTE iv12[12] = {
	0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88,
};

static CK_GCM_PARAMS gcm_params = { iv12, sizeof iv12, 96, NULL, 0, 128 };
static CK_RSA_PKCS_OAEP_PARAMS oaep_params = {
	CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0,
};
static CK_HKDF_PARAMS hkdf_params = {
	CK_TRUE, CK_TRUE, CKM_SHA256, CKF_HKDF_SALT_DATA, hkdf_salt,
	sizeof hkdf_salt, CK_INVALID_HANDLE, hkdf_info, sizeof hkdf_info,
};

/* ------------------------------------------------------------------ */
/* Templates                                                           */

/*
 * A template under construction.  CK_ULONG values live in ul[], so a
 * tmpl must not be copied while its attributes are in use; t_cat copies
 * pointers into another tmpl, which must outlive the copy.
 */
typedef struct {
	CK_ATTRIBUTE a[32];
	CK_ULONG n;
	CK_ULONG ul[8];
	unsigned nul;
} tmpl;

static tmpl *
t_add (tmpl *t, CK_ATTRIBUTE_TYPE type, const void *v, CK_ULONG len)
{
	assert_true (t->n < N_ (t->a));
	t->a[t->n++] = (CK_ATTRIBUTE) { type, (void *) v, len };
	return t;
}

static tmpl *
t_bool (tmpl *t, CK_ATTRIBUTE_TYPE type, bool v)
{
	return t_add (t, type, v ? &yes : &no, sizeof (CK_BBOOL));
}

static tmpl *
t_ulong (tmpl *t, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	assert_true (t->nul < N_ (t->ul));
	t->ul[t->nul] = v;
	return t_add (t, type, &t->ul[t->nul++], sizeof (CK_ULONG));
}

static tmpl *
t_str (tmpl *t, CK_ATTRIBUTE_TYPE type, const char *s)
{
	return t_add (t, type, s, strlen (s));
}

static tmpl *
t_cat (tmpl *t, const tmpl *more)
{
	CK_ULONG i;

	for (i = 0; more && i < more->n; i++)
		t_add (t, more->a[i].type, more->a[i].pValue,
		       more->a[i].ulValueLen);
	return t;
}

/* CKA_CLASS secret key and CKA_KEY_TYPE kt: what unwrap and derive need. */
static tmpl *
t_secret (tmpl *t, CK_KEY_TYPE kt)
{
	t_ulong (t, CKA_CLASS, CKO_SECRET_KEY);
	return t_ulong (t, CKA_KEY_TYPE, kt);
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

static CK_RV
gen_rv (lh_fx *fx, CK_MECHANISM_TYPE mt, CK_ULONG len, const tmpl *extra,
        CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM m = { mt, NULL, 0 };
	tmpl t = { .n = 0 };

	t_ulong (&t, CKA_VALUE_LEN, len);
	t_cat (&t, extra);
	*out = CK_INVALID_HANDLE;
	return fx->fl->C_GenerateKey (fx->session, &m, t.a, t.n, out);
}

/* A generated (CKA_LOCAL) AES key of len bytes. */
static CK_OBJECT_HANDLE
gen_aes (lh_fx *fx, CK_ULONG len, const tmpl *extra)
{
	CK_OBJECT_HANDLE h;

	assert_rv (CKR_OK, gen_rv (fx, CKM_AES_KEY_GEN, len, extra, &h));
	assert_true (h != CK_INVALID_HANDLE);
	return h;
}

/* A generated generic secret of len bytes. */
static CK_OBJECT_HANDLE
gen_secret (lh_fx *fx, CK_ULONG len, const tmpl *extra)
{
	CK_OBJECT_HANDLE h;

	assert_rv (CKR_OK,
	           gen_rv (fx, CKM_GENERIC_SECRET_KEY_GEN, len, extra, &h));
	assert_true (h != CK_INVALID_HANDLE);
	return h;
}

/* C_CreateObject of a secret key with a known value. */
static CK_RV
import_rv (lh_fx *fx, CK_KEY_TYPE kt, const void *value, CK_ULONG len,
           const tmpl *extra, CK_OBJECT_HANDLE *out)
{
	tmpl t = { .n = 0 };

	t_secret (&t, kt);
	t_add (&t, CKA_VALUE, value, len);
	t_cat (&t, extra);
	*out = CK_INVALID_HANDLE;
	return fx->fl->C_CreateObject (fx->session, t.a, t.n, out);
}

static CK_OBJECT_HANDLE
import_aes (lh_fx *fx, const void *value, CK_ULONG len, const tmpl *extra)
{
	CK_OBJECT_HANDLE h;

	assert_rv (CKR_OK, import_rv (fx, CKK_AES, value, len, extra, &h));
	return h;
}

static CK_OBJECT_HANDLE
import_secret (lh_fx *fx, const void *value, CK_ULONG len, const tmpl *extra)
{
	CK_OBJECT_HANDLE h;

	assert_rv (CKR_OK,
	           import_rv (fx, CKK_GENERIC_SECRET, value, len, extra, &h));
	return h;
}

/* The RFC 5869 A.1 input key as a generic secret that may derive. */
static CK_OBJECT_HANDLE
import_ikm (lh_fx *fx, const tmpl *extra)
{
	tmpl t = { .n = 0 };

	t_bool (&t, CKA_DERIVE, true);
	return import_secret (fx, hkdf_ikm, sizeof hkdf_ikm, t_cat (&t, extra));
}

/* The test RSA-2048 private key (testdata.h), imported. */
static CK_RV
rsa_priv_rv (lh_fx *fx, const tmpl *extra, CK_OBJECT_HANDLE *out)
{
	tmpl t = { .n = 0 };

	t_ulong (&t, CKA_CLASS, CKO_PRIVATE_KEY);
	t_ulong (&t, CKA_KEY_TYPE, CKK_RSA);
	t_add (&t, CKA_MODULUS, td_rsa_modulus, sizeof td_rsa_modulus);
	t_add (&t, CKA_PUBLIC_EXPONENT, td_rsa_public_exponent,
	       sizeof td_rsa_public_exponent);
	t_add (&t, CKA_PRIVATE_EXPONENT, td_rsa_private_exponent,
	       sizeof td_rsa_private_exponent);
	t_add (&t, CKA_PRIME_1, td_rsa_prime_1, sizeof td_rsa_prime_1);
	t_add (&t, CKA_PRIME_2, td_rsa_prime_2, sizeof td_rsa_prime_2);
	t_add (&t, CKA_EXPONENT_1, td_rsa_exponent_1, sizeof td_rsa_exponent_1);
	t_add (&t, CKA_EXPONENT_2, td_rsa_exponent_2, sizeof td_rsa_exponent_2);
	t_add (&t, CKA_COEFFICIENT, td_rsa_coefficient,
	       sizeof td_rsa_coefficient);
	t_cat (&t, extra);
	*out = CK_INVALID_HANDLE;
	return fx->fl->C_CreateObject (fx->session, t.a, t.n, out);
}

static CK_OBJECT_HANDLE
rsa_priv (lh_fx *fx, const tmpl *extra)
{
	CK_OBJECT_HANDLE h;

	assert_rv (CKR_OK, rsa_priv_rv (fx, extra, &h));
	return h;
}

/* Its public half, imported. */
static CK_OBJECT_HANDLE
rsa_pub (lh_fx *fx, const tmpl *extra)
{
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	t_ulong (&t, CKA_CLASS, CKO_PUBLIC_KEY);
	t_ulong (&t, CKA_KEY_TYPE, CKK_RSA);
	t_add (&t, CKA_MODULUS, td_rsa_modulus, sizeof td_rsa_modulus);
	t_add (&t, CKA_PUBLIC_EXPONENT, td_rsa_public_exponent,
	       sizeof td_rsa_public_exponent);
	t_cat (&t, extra);
	assert_rv (CKR_OK, fx->fl->C_CreateObject (fx->session, t.a, t.n, &h));
	return h;
}

/* C_GenerateKeyPair of an RSA key of bits bits, e = 65537. */
static CK_RV
gen_rsa_rv (lh_fx *fx, CK_ULONG bits, const tmpl *pub_extra,
            const tmpl *priv_extra, CK_OBJECT_HANDLE *pub,
            CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	tmpl pt = { .n = 0 }, vt = { .n = 0 };

	t_ulong (&pt, CKA_MODULUS_BITS, bits);
	t_add (&pt, CKA_PUBLIC_EXPONENT, td_rsa_public_exponent,
	       sizeof td_rsa_public_exponent);
	t_cat (&pt, pub_extra);
	t_cat (&vt, priv_extra);
	*pub = *priv = CK_INVALID_HANDLE;
	return fx->fl->C_GenerateKeyPair (fx->session, &m, pt.a, pt.n, vt.a,
	                                  vt.n, pub, priv);
}

static void
gen_rsa (lh_fx *fx, CK_ULONG bits, const tmpl *pub_extra,
         const tmpl *priv_extra, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	assert_rv (CKR_OK,
	           gen_rsa_rv (fx, bits, pub_extra, priv_extra, pub, priv));
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */

typedef struct {
	CK_BYTE b[1024];
	CK_ULONG len;
} blob;

/* Mechanism mt with the parameter these tests use for it. */
static CK_MECHANISM
mech (CK_MECHANISM_TYPE mt)
{
	CK_MECHANISM m = { mt, NULL, 0 };

	switch (mt) {
	case CKM_AES_CBC:
	case CKM_AES_CBC_PAD:
		m.pParameter = iv16;
		m.ulParameterLen = sizeof iv16;
		break;
	case CKM_AES_GCM:
		m.pParameter = &gcm_params;
		m.ulParameterLen = sizeof gcm_params;
		break;
	case CKM_RSA_PKCS_OAEP:
		m.pParameter = &oaep_params;
		m.ulParameterLen = sizeof oaep_params;
		break;
	case CKM_HKDF_DERIVE:
		m.pParameter = &hkdf_params;
		m.ulParameterLen = sizeof hkdf_params;
		break;
	default:
		break;
	}
	return m;
}

/* C_<usage>Init with mechanism mt and key k. */
static CK_RV
init_rv (lh_fx *fx, CK_ATTRIBUTE_TYPE usage, CK_MECHANISM_TYPE mt,
         CK_OBJECT_HANDLE k)
{
	CK_MECHANISM m = mech (mt);
	CK_SESSION_HANDLE s = fx->session;

	switch (usage) {
	case CKA_ENCRYPT:
		return fx->fl->C_EncryptInit (s, &m, k);
	case CKA_DECRYPT:
		return fx->fl->C_DecryptInit (s, &m, k);
	case CKA_SIGN:
		return fx->fl->C_SignInit (s, &m, k);
	case CKA_VERIFY:
		return fx->fl->C_VerifyInit (s, &m, k);
	default:
		return CKR_GENERAL_ERROR;
	}
}

/* Init and one single-part C_Encrypt/C_Decrypt/C_Sign: the rv of the
 * first step that fails. */
static CK_RV
crypt_rv (lh_fx *fx, CK_ATTRIBUTE_TYPE usage, CK_MECHANISM_TYPE mt,
          CK_OBJECT_HANDLE k, const void *in, CK_ULONG in_len, blob *out)
{
	CK_SESSION_HANDLE s = fx->session;
	CK_BYTE_PTR p = (CK_BYTE_PTR) in;
	CK_RV rv;

	if ((rv = init_rv (fx, usage, mt, k)) != CKR_OK)
		return rv;
	out->len = sizeof out->b;
	switch (usage) {
	case CKA_ENCRYPT:
		return fx->fl->C_Encrypt (s, p, in_len, out->b, &out->len);
	case CKA_DECRYPT:
		return fx->fl->C_Decrypt (s, p, in_len, out->b, &out->len);
	case CKA_SIGN:
		return fx->fl->C_Sign (s, p, in_len, out->b, &out->len);
	default:
		return CKR_GENERAL_ERROR;
	}
}

static CK_RV
verify_rv (lh_fx *fx, CK_MECHANISM_TYPE mt, CK_OBJECT_HANDLE k, const void *in,
           CK_ULONG in_len, const blob *sig)
{
	CK_RV rv;

	if ((rv = init_rv (fx, CKA_VERIFY, mt, k)) != CKR_OK)
		return rv;
	return fx->fl->C_Verify (fx->session, (CK_BYTE_PTR) in, in_len,
	                         (CK_BYTE_PTR) sig->b, sig->len);
}

/* The same for the test message msg. */
static CK_RV
sign_msg_rv (lh_fx *fx, CK_MECHANISM_TYPE mt, CK_OBJECT_HANDLE k, blob *sig)
{
	return crypt_rv (fx, CKA_SIGN, mt, k, msg, MSG_LEN, sig);
}

static CK_RV
encrypt_msg_rv (lh_fx *fx, CK_MECHANISM_TYPE mt, CK_OBJECT_HANDLE k, blob *ct)
{
	return crypt_rv (fx, CKA_ENCRYPT, mt, k, msg, MSG_LEN, ct);
}

static CK_RV
verify_msg_rv (lh_fx *fx, CK_MECHANISM_TYPE mt, CK_OBJECT_HANDLE k,
               const blob *sig)
{
	return verify_rv (fx, mt, k, msg, MSG_LEN, sig);
}

static CK_RV
decrypt_blob_rv (lh_fx *fx, CK_MECHANISM_TYPE mt, CK_OBJECT_HANDLE k,
                 const blob *in, blob *out)
{
	return crypt_rv (fx, CKA_DECRYPT, mt, k, in->b, in->len, out);
}

/* The data step alone, after an Init that went through. */
static CK_RV
sign_step_rv (lh_fx *fx, blob *sig)
{
	sig->len = sizeof sig->b;
	return fx->fl->C_Sign (fx->session, (CK_BYTE_PTR) msg, MSG_LEN, sig->b,
	                       &sig->len);
}

static CK_RV
decrypt_step_rv (lh_fx *fx, const blob *in, blob *out)
{
	out->len = sizeof out->b;
	return fx->fl->C_Decrypt (fx->session, (CK_BYTE_PTR) in->b, in->len,
	                          out->b, &out->len);
}

static CK_RV
wrap_rv (lh_fx *fx, CK_MECHANISM_TYPE mt, CK_OBJECT_HANDLE w,
         CK_OBJECT_HANDLE k, blob *out)
{
	CK_MECHANISM m = mech (mt);

	out->len = sizeof out->b;
	return fx->fl->C_WrapKey (fx->session, &m, w, k, out->b, &out->len);
}

/* C_WrapKey with CKM_AES_KEY_WRAP_PAD when only the rv matters. */
static CK_RV
kwp_rv (lh_fx *fx, CK_OBJECT_HANDLE w, CK_OBJECT_HANDLE k)
{
	blob b;

	return wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &b);
}

static CK_RV
unwrap_rv (lh_fx *fx, CK_MECHANISM_TYPE mt, CK_OBJECT_HANDLE u, const blob *in,
           const tmpl *t, CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM m = mech (mt);

	*out = CK_INVALID_HANDLE;
	return fx->fl->C_UnwrapKey (fx->session, &m, u, (CK_BYTE_PTR) in->b,
	                            in->len, (CK_ATTRIBUTE_PTR) t->a, t->n,
	                            out);
}

/* C_DeriveKey with CKM_HKDF_DERIVE (RFC 5869 A.1 parameters). */
static CK_RV
derive_rv (lh_fx *fx, CK_OBJECT_HANDLE base, const tmpl *t,
           CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM m = mech (CKM_HKDF_DERIVE);

	*out = CK_INVALID_HANDLE;
	return fx->fl->C_DeriveKey (fx->session, &m, base,
	                            (CK_ATTRIBUTE_PTR) t->a, t->n, out);
}

/* A derive template: a generic secret of 42 bytes, plus extra. */
static tmpl *
t_derived (tmpl *t, const tmpl *extra)
{
	t_secret (t, CKK_GENERIC_SECRET);
	t_ulong (t, CKA_VALUE_LEN, sizeof hkdf_okm);
	return t_cat (t, extra);
}

/* ------------------------------------------------------------------ */
/* Attributes                                                          */

static CK_RV
set_rv (lh_fx *fx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, const void *v,
        CK_ULONG len)
{
	CK_ATTRIBUTE a = { type, (void *) v, len };

	return fx->fl->C_SetAttributeValue (fx->session, h, &a, 1);
}

static CK_RV
set_bool_rv (lh_fx *fx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, bool v)
{
	return fx_set_bool_rv (fx, fx->session, h, type,
	                       v ? CK_TRUE : CK_FALSE);
}

static CK_RV
set_tmpl_rv (lh_fx *fx, CK_OBJECT_HANDLE h, tmpl *t)
{
	return fx->fl->C_SetAttributeValue (fx->session, h, t->a, t->n);
}

static CK_RV
copy_rv (lh_fx *fx, CK_OBJECT_HANDLE h, tmpl *t, CK_OBJECT_HANDLE *out)
{
	*out = CK_INVALID_HANDLE;
	return fx->fl->C_CopyObject (fx->session, h, t->a, t->n, out);
}

static bool
get_bool (lh_fx *fx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	return fx_get_bool (fx, fx->session, h, type) == CK_TRUE;
}

/* The value of attribute type is refused as sensitive, for a length
 * query and for a real read alike. */
#define assert_hidden(fx, h, type) do { \
	CK_BYTE b_[1024]; CK_ULONG l_ = sizeof b_; \
	CK_ATTRIBUTE q_ = { (type), NULL, 0 }; \
	assert_rv (CKR_ATTRIBUTE_SENSITIVE, \
	           fx_get_rv ((fx), (fx)->session, (h), (type), b_, &l_)); \
	assert_num_eq (CK_UNAVAILABLE_INFORMATION, l_); \
	assert_rv (CKR_ATTRIBUTE_SENSITIVE, \
	           (fx)->fl->C_GetAttributeValue ((fx)->session, (h), \
	                                          &q_, 1)); \
	assert_num_eq (CK_UNAVAILABLE_INFORMATION, q_.ulValueLen); \
	} while (0)

/* Only the SO may set CKA_TRUSTED, and the SO sees only public objects:
 * log the user out, mark the public token object labelled label trusted
 * as the SO, and log the user back in.  Returns the handle the user
 * sees. */
static CK_OBJECT_HANDLE
so_trust (lh_fx *fx, const char *label)
{
	CK_OBJECT_HANDLE h[2];

	assert_rv (CKR_OK, fx->fl->C_Logout (fx->session));
	fx_login (fx, fx->session, CKU_SO, FX_SO_PIN);
	assert_num_eq (1, fx_find_label (fx, fx->session, label, h, 2));
	assert_rv (CKR_OK, set_bool_rv (fx, h[0], CKA_TRUSTED, true));
	assert_true (get_bool (fx, h[0], CKA_TRUSTED));
	assert_rv (CKR_OK, fx->fl->C_Logout (fx->session));
	fx_login (fx, fx->session, CKU_USER, FX_USER_PIN);
	assert_num_eq (1, fx_find_label (fx, fx->session, label, h, 2));
	return h[0];
}

/* A public token key: what the SO can see and mark trusted. */
static tmpl *
t_public_token (tmpl *t, const char *label)
{
	t_bool (t, CKA_TOKEN, true);
	t_bool (t, CKA_PRIVATE, false);
	return t_str (t, CKA_LABEL, label);
}

/* A generated wrapping key (AES, len bytes): wraps, unwraps, nothing else
 * asked for. */
static CK_OBJECT_HANDLE
gen_wrapper (lh_fx *fx, CK_ULONG len)
{
	tmpl t = { .n = 0 };

	t_bool (&t, CKA_WRAP, true);
	t_bool (&t, CKA_UNWRAP, true);
	return gen_aes (fx, len, &t);
}

/* A generated sensitive key that may leave the token wrapped. */
static CK_OBJECT_HANDLE
gen_target (lh_fx *fx, CK_ULONG len)
{
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE h;

	t_bool (&t, CKA_EXTRACTABLE, true);
	h = gen_aes (fx, len, &t);
	assert_true (get_bool (fx, h, CKA_SENSITIVE));
	return h;
}

/* ------------------------------------------------------------------ */
/* Usage flags                                                         */

static void
test_usage_encrypt (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE off, on;
	blob ct, pt;

	off = import_aes (fx, key128, 16, t_bool (&t, CKA_ENCRYPT, false));
	on = import_aes (fx, key128, 16, NULL);
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_ENCRYPT, CKM_AES_CBC_PAD, off));
	/* controls: the twin encrypts, the refused key still decrypts */
	assert_rv (CKR_OK, encrypt_msg_rv (fx, CKM_AES_CBC_PAD, on, &ct));
	assert_rv (CKR_OK,
	           decrypt_blob_rv (fx, CKM_AES_CBC_PAD, off, &ct, &pt));
	assert_mem_eq (msg, MSG_LEN, pt.b, pt.len);
}

static void
test_usage_decrypt (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE off;
	blob ct, pt;

	off = import_aes (fx, key128, 16, t_bool (&t, CKA_DECRYPT, false));
	assert_rv (CKR_OK, encrypt_msg_rv (fx, CKM_AES_CBC_PAD, off, &ct));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_DECRYPT, CKM_AES_CBC_PAD, off));
	/* the refused Init left no operation behind */
	assert_rv (CKR_OPERATION_NOT_INITIALIZED,
	           decrypt_step_rv (fx, &ct, &pt));
}

static void
test_usage_sign (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE off, on;
	blob mac;

	off = import_secret (fx, key256, 32, t_bool (&t, CKA_SIGN, false));
	on = import_secret (fx, key256, 32, NULL);
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_SIGN, CKM_SHA256_HMAC, off));
	assert_rv (CKR_OK, sign_msg_rv (fx, CKM_SHA256_HMAC, on, &mac));
	assert_rv (CKR_OK, verify_msg_rv (fx, CKM_SHA256_HMAC, off, &mac));
}

static void
test_usage_verify (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE off;
	blob mac;

	off = import_secret (fx, key256, 32, t_bool (&t, CKA_VERIFY, false));
	assert_rv (CKR_OK, sign_msg_rv (fx, CKM_SHA256_HMAC, off, &mac));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_VERIFY, CKM_SHA256_HMAC, off));
}

static void
test_usage_rsa_sign (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE off, on, pub;
	blob sig;

	off = rsa_priv (fx, t_bool (&t, CKA_SIGN, false));
	on = rsa_priv (fx, NULL);
	pub = rsa_pub (fx, NULL);
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_SIGN, CKM_SHA256_RSA_PKCS, off));
	assert_rv (CKR_OK, sign_msg_rv (fx, CKM_SHA256_RSA_PKCS, on, &sig));
	assert_rv (CKR_OK, verify_msg_rv (fx, CKM_SHA256_RSA_PKCS, pub, &sig));
}

static void
test_usage_rsa_verify (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE off, on, priv;
	blob sig;

	off = rsa_pub (fx, t_bool (&t, CKA_VERIFY, false));
	on = rsa_pub (fx, NULL);
	priv = rsa_priv (fx, NULL);
	assert_rv (CKR_OK, sign_msg_rv (fx, CKM_SHA256_RSA_PKCS, priv, &sig));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_VERIFY, CKM_SHA256_RSA_PKCS, off));
	assert_rv (CKR_OK, verify_msg_rv (fx, CKM_SHA256_RSA_PKCS, on, &sig));
}

static void
test_usage_wrap (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE off, on, target;
	blob b;

	off = gen_aes (fx, 32, NULL);     /* CKA_WRAP defaults to false */
	on = gen_wrapper (fx, 32);
	target = gen_target (fx, 16);
	assert_false (get_bool (fx, off, CKA_WRAP));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED, kwp_rv (fx, off, target));
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, on, target, &b));
	assert_num_eq (24, b.len);
}

static void
test_usage_unwrap (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 }, u = { .n = 0 };
	CK_OBJECT_HANDLE w, wu, target, out;
	blob b1, b2;

	w = gen_aes (fx, 32, t_bool (&t, CKA_WRAP, true));
	wu = gen_wrapper (fx, 32);
	target = gen_target (fx, 16);
	t_secret (&u, CKK_AES);
	assert_false (get_bool (fx, w, CKA_UNWRAP));
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, target, &b1));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b1, &u, &out));
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, wu, target, &b2));
	assert_rv (CKR_OK,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, wu, &b2, &u, &out));
	assert_num_eq (16, fx_get_ulong (fx, fx->session, out, CKA_VALUE_LEN));
}

static void
test_usage_derive (void *arg)
{
	lh_fx *fx = arg;
	tmpl d = { .n = 0 };
	CK_OBJECT_HANDLE off, on, out;

	off = import_secret (fx, hkdf_ikm, sizeof hkdf_ikm, NULL);
	on = import_ikm (fx, NULL);
	t_derived (&d, NULL);
	assert_false (get_bool (fx, off, CKA_DERIVE));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           derive_rv (fx, off, &d, &out));
	assert_rv (CKR_OK, derive_rv (fx, on, &d, &out));
}

/* ------------------------------------------------------------------ */
/* CKA_ALLOWED_MECHANISMS                                              */

static void
test_allowed_encrypt (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM_TYPE gcm_only[] = { CKM_AES_GCM };
	CK_MECHANISM_TYPE wider[] = { CKM_AES_GCM, CKM_AES_CBC };
	tmpl t = { .n = 0 }, c = { .n = 0 };
	CK_OBJECT_HANDLE k, copy;
	blob ct, pt;

	t_add (&t, CKA_ALLOWED_MECHANISMS, gcm_only, sizeof gcm_only);
	k = import_aes (fx, key128, 16, &t);
	assert_rv (CKR_MECHANISM_INVALID,
	           init_rv (fx, CKA_ENCRYPT, CKM_AES_CBC, k));
	assert_rv (CKR_MECHANISM_INVALID,
	           init_rv (fx, CKA_DECRYPT, CKM_AES_CBC, k));
	assert_rv (CKR_OK, encrypt_msg_rv (fx, CKM_AES_GCM, k, &ct));
	assert_num_eq (MSG_LEN + 16, ct.len);
	assert_rv (CKR_OK, decrypt_blob_rv (fx, CKM_AES_GCM, k, &ct, &pt));
	assert_mem_eq (msg, MSG_LEN, pt.b, pt.len);
	/* the list cannot be widened afterwards, in place or in a copy */
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_rv (fx, k, CKA_ALLOWED_MECHANISMS, wider, sizeof wider));
	t_add (&c, CKA_ALLOWED_MECHANISMS, wider, sizeof wider);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, copy_rv (fx, k, &c, &copy));
	assert_rv (CKR_MECHANISM_INVALID,
	           init_rv (fx, CKA_ENCRYPT, CKM_AES_CBC, k));
}

static void
test_allowed_wrap (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM_TYPE kw_only[] = { CKM_AES_KEY_WRAP };
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE w, target;
	blob b;

	t_bool (&t, CKA_WRAP, true);
	t_add (&t, CKA_ALLOWED_MECHANISMS, kw_only, sizeof kw_only);
	w = gen_aes (fx, 32, &t);
	target = gen_target (fx, 16);
	assert_rv (CKR_MECHANISM_INVALID,
	           wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, target, &b));
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP, w, target, &b));
	assert_num_eq (24, b.len);
}

/* ------------------------------------------------------------------ */
/* Dates                                                               */

static void
set_date (lh_fx *fx, CK_OBJECT_HANDLE k, CK_ATTRIBUTE_TYPE which,
          const char *date)
{
	assert_rv (CKR_OK,
	           set_rv (fx, k, which, date, date ? strlen (date) : 0));
}

/* Encrypt, move the key out of its dates: no more encryption, but what it
 * encrypted still decrypts. */
static void
dates_encrypt (lh_fx *fx, CK_ATTRIBUTE_TYPE which, const char *date)
{
	CK_OBJECT_HANDLE k = import_aes (fx, key128, 16, NULL);
	blob ct, pt;

	assert_rv (CKR_OK, encrypt_msg_rv (fx, CKM_AES_CBC_PAD, k, &ct));
	set_date (fx, k, which, date);
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_ENCRYPT, CKM_AES_CBC_PAD, k));
	assert_rv (CKR_OK, decrypt_blob_rv (fx, CKM_AES_CBC_PAD, k, &ct, &pt));
	assert_mem_eq (msg, MSG_LEN, pt.b, pt.len);
}

static void
dates_sign (lh_fx *fx, CK_ATTRIBUTE_TYPE which, const char *date)
{
	CK_OBJECT_HANDLE k = gen_secret (fx, 32, NULL);
	blob mac;

	assert_rv (CKR_OK, sign_msg_rv (fx, CKM_SHA256_HMAC, k, &mac));
	set_date (fx, k, which, date);
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_SIGN, CKM_SHA256_HMAC, k));
	assert_rv (CKR_OK, verify_msg_rv (fx, CKM_SHA256_HMAC, k, &mac));
}

static void
dates_wrap (lh_fx *fx, CK_ATTRIBUTE_TYPE which, const char *date)
{
	CK_OBJECT_HANDLE w = gen_wrapper (fx, 32), k = gen_target (fx, 16), out;
	tmpl u = { .n = 0 };
	blob b;

	t_secret (&u, CKK_AES);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &b));
	set_date (fx, w, which, date);
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED, kwp_rv (fx, w, k));
	assert_rv (CKR_OK,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &u, &out));
}

static void
dates_derive (lh_fx *fx, CK_ATTRIBUTE_TYPE which, const char *date)
{
	tmpl d = { .n = 0 };
	CK_OBJECT_HANDLE base, out;

	base = import_ikm (fx, NULL);
	t_derived (&d, NULL);
	assert_rv (CKR_OK, derive_rv (fx, base, &d, &out));
	set_date (fx, base, which, date);
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           derive_rv (fx, base, &d, &out));
}

#define DATE_TEST(fn, usage, which, date) \
	static void fn (void *arg) \
	{ dates_ ## usage ((lh_fx *) arg, (which), (date)); }

DATE_TEST (test_end_past_encrypt, encrypt, CKA_END_DATE, date_past)
DATE_TEST (test_end_past_sign, sign, CKA_END_DATE, date_past)
DATE_TEST (test_end_past_wrap, wrap, CKA_END_DATE, date_past)
DATE_TEST (test_end_past_derive, derive, CKA_END_DATE, date_past)
DATE_TEST (test_start_future_encrypt, encrypt, CKA_START_DATE, date_future)
DATE_TEST (test_start_future_sign, sign, CKA_START_DATE, date_future)
DATE_TEST (test_start_future_wrap, wrap, CKA_START_DATE, date_future)
DATE_TEST (test_start_future_derive, derive, CKA_START_DATE, date_future)

/* Encrypt, sign, wrap and derive all work for keys with these dates. */
static void
all_usages_work (lh_fx *fx, tmpl *dates)
{
	tmpl t1 = { .n = 0 }, d = { .n = 0 };
	CK_OBJECT_HANDLE k, w, base, out;
	blob b;

	k = import_aes (fx, key128, 16, dates);
	assert_rv (CKR_OK, encrypt_msg_rv (fx, CKM_AES_CBC_PAD, k, &b));
	k = import_secret (fx, key256, 32, dates);
	assert_rv (CKR_OK, sign_msg_rv (fx, CKM_SHA256_HMAC, k, &b));
	t_bool (&t1, CKA_WRAP, true);
	w = gen_aes (fx, 32, t_cat (&t1, dates));
	assert_rv (CKR_OK, kwp_rv (fx, w, gen_target (fx, 16)));
	base = import_ikm (fx, dates);
	assert_rv (CKR_OK, derive_rv (fx, base, t_derived (&d, NULL), &out));
}

static void
test_dates_empty (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE k;
	blob b;

	/* SPEC: an empty CKA_START_DATE/CKA_END_DATE is no limit */
	t_add (&t, CKA_START_DATE, "", 0);
	t_add (&t, CKA_END_DATE, "", 0);
	all_usages_work (fx, &t);
	/* a limit set and taken away again */
	k = import_aes (fx, key128, 16, NULL);
	set_date (fx, k, CKA_END_DATE, date_past);
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_ENCRYPT, CKM_AES_CBC_PAD, k));
	set_date (fx, k, CKA_END_DATE, NULL);
	assert_rv (CKR_OK, encrypt_msg_rv (fx, CKM_AES_CBC_PAD, k, &b));
}

static void
test_dates_in_range (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };

	t_str (&t, CKA_START_DATE, date_past);
	t_str (&t, CKA_END_DATE, date_future);
	all_usages_work (fx, &t);
}

/* Both ends are inclusive: a key whose first and last day is today works. */
static void
test_dates_today (void *arg)
{
	lh_fx *fx = arg;
	char today[9];
	time_t now = time (NULL);
	struct tm tm;
	tmpl t = { .n = 0 };

	gmtime_r (&now, &tm);
	strftime (today, sizeof today, "%Y%m%d", &tm);
	t_add (&t, CKA_START_DATE, today, 8);
	t_add (&t, CKA_END_DATE, today, 8);
	all_usages_work (fx, &t);
}

/* ------------------------------------------------------------------ */
/* Sensitive and extractable                                           */

static void
test_sensitive_hidden (void *arg)
{
	lh_fx *fx = arg;
	tmpl t1 = { .n = 0 }, t2 = { .n = 0 };
	CK_OBJECT_HANDLE k;
	CK_BYTE buf[64], modulus[512];
	CK_ULONG len;

	/* generated: sensitive and unextractable by default */
	k = gen_aes (fx, 32, NULL);
	assert_true (get_bool (fx, k, CKA_SENSITIVE));
	assert_false (get_bool (fx, k, CKA_EXTRACTABLE));
	assert_hidden (fx, k, CKA_VALUE);
	/* imported, sensitive by default */
	k = import_aes (fx, key256, 32, NULL);
	assert_hidden (fx, k, CKA_VALUE);
	/* not sensitive but unextractable: still never returned */
	t_bool (&t1, CKA_SENSITIVE, false);
	k = import_aes (fx, key256, 32, &t1);
	assert_hidden (fx, k, CKA_VALUE);
	/* control: neither sensitive nor unextractable */
	t_bool (&t2, CKA_SENSITIVE, false);
	t_bool (&t2, CKA_EXTRACTABLE, true);
	k = import_aes (fx, key256, 32, &t2);
	len = fx_get_bytes (fx, fx->session, k, CKA_VALUE, buf, sizeof buf);
	assert_mem_eq (key256, sizeof key256, buf, len);
	/* an RSA private key: every private component */
	k = rsa_priv (fx, NULL);
	assert_hidden (fx, k, CKA_PRIVATE_EXPONENT);
	assert_hidden (fx, k, CKA_PRIME_1);
	assert_hidden (fx, k, CKA_PRIME_2);
	assert_hidden (fx, k, CKA_EXPONENT_1);
	assert_hidden (fx, k, CKA_EXPONENT_2);
	assert_hidden (fx, k, CKA_COEFFICIENT);
	/* control: the public components are there to read */
	len = fx_get_bytes (fx, fx->session, k, CKA_MODULUS, modulus,
	                    sizeof modulus);
	assert_mem_eq (td_rsa_modulus, sizeof td_rsa_modulus, modulus, len);
}

static void
test_sensitive_sticky (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 }, c = { .n = 0 }, x = { .n = 0 };
	CK_OBJECT_HANDLE k, open, copy;

	k = gen_target (fx, 32);           /* sensitive, extractable */
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, k, CKA_SENSITIVE, false));
	assert_true (get_bool (fx, k, CKA_SENSITIVE));
	t_bool (&c, CKA_SENSITIVE, false);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, copy_rv (fx, k, &c, &copy));
	/* extractable -> unextractable is allowed, and is for good */
	assert_rv (CKR_OK, set_bool_rv (fx, k, CKA_EXTRACTABLE, false));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, k, CKA_EXTRACTABLE, true));
	assert_false (get_bool (fx, k, CKA_EXTRACTABLE));
	assert_hidden (fx, k, CKA_VALUE);
	/* a default (unextractable) key */
	k = gen_aes (fx, 16, NULL);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, k, CKA_EXTRACTABLE, true));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           copy_rv (fx, k, t_bool (&x, CKA_EXTRACTABLE, true), &copy));
	/* not sensitive -> sensitive is allowed, and is for good */
	t_bool (&t, CKA_SENSITIVE, false);
	t_bool (&t, CKA_EXTRACTABLE, true);
	open = import_aes (fx, key128, 16, &t);
	assert_rv (CKR_OK, set_bool_rv (fx, open, CKA_SENSITIVE, true));
	assert_hidden (fx, open, CKA_VALUE);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, open, CKA_SENSITIVE, false));
	assert_hidden (fx, open, CKA_VALUE);
}

static void
test_unextractable_not_wrapped (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE w = gen_wrapper (fx, 32), k;

	k = gen_aes (fx, 16, NULL);
	assert_rv (CKR_KEY_UNEXTRACTABLE, kwp_rv (fx, w, k));
	/* not sensitive changes nothing */
	k = import_aes (fx, key128, 16, t_bool (&t, CKA_SENSITIVE, false));
	assert_rv (CKR_KEY_UNEXTRACTABLE, kwp_rv (fx, w, k));
	/* control */
	assert_rv (CKR_OK, kwp_rv (fx, w, gen_target (fx, 16)));
}

/* ------------------------------------------------------------------ */
/* CKA_WRAP_WITH_TRUSTED and CKA_TRUSTED                               */

static void
test_trusted_user_cannot_set (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 }, c = { .n = 0 };
	CK_OBJECT_HANDLE k, out;

	t_bool (&t, CKA_WRAP, true);
	t_bool (&t, CKA_TRUSTED, true);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           import_rv (fx, CKK_AES, key256, 32, &t, &out));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           gen_rv (fx, CKM_AES_KEY_GEN, 32, &t, &out));
	k = gen_wrapper (fx, 32);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, k, CKA_TRUSTED, true));
	t_bool (&c, CKA_TRUSTED, true);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, copy_rv (fx, k, &c, &out));
	assert_false (get_bool (fx, k, CKA_TRUSTED));
}

static void
test_trusted_so_sets (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE k;

	t_bool (&t, CKA_WRAP, true);
	t_public_token (&t, "to be trusted");
	k = gen_aes (fx, 32, &t);
	assert_false (get_bool (fx, k, CKA_TRUSTED));
	k = so_trust (fx, "to be trusted");
	assert_true (get_bool (fx, k, CKA_TRUSTED));
}

static void
test_wrap_with_trusted (void *arg)
{
	lh_fx *fx = arg;
	tmpl tw = { .n = 0 }, tk = { .n = 0 };
	CK_OBJECT_HANDLE trusted, plain, k;

	t_bool (&tw, CKA_WRAP, true);
	t_public_token (&tw, "trusted wrapper");
	gen_aes (fx, 32, &tw);
	trusted = so_trust (fx, "trusted wrapper");
	plain = gen_wrapper (fx, 32);
	t_bool (&tk, CKA_EXTRACTABLE, true);
	t_bool (&tk, CKA_WRAP_WITH_TRUSTED, true);
	k = gen_aes (fx, 16, &tk);
	assert_rv (CKR_KEY_NOT_WRAPPABLE, kwp_rv (fx, plain, k));
	assert_rv (CKR_OK, kwp_rv (fx, trusted, k));
	/* control: the untrusted key wraps keys that do not ask for trust */
	assert_rv (CKR_OK, kwp_rv (fx, plain, gen_target (fx, 16)));
	/* and the flag is sticky */
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, k, CKA_WRAP_WITH_TRUSTED, false));
	assert_rv (CKR_KEY_NOT_WRAPPABLE, kwp_rv (fx, plain, k));
}

/* ------------------------------------------------------------------ */
/* Wrap, unwrap and derive templates                                   */

static void
test_wrap_template (void *arg)
{
	lh_fx *fx = arg;
	CK_KEY_TYPE aes = CKK_AES;
	CK_ATTRIBUTE wt[] = {
		{ CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_LABEL, "export-ok", 9 },
	};
	tmpl t = { .n = 0 }, k1 = { .n = 0 }, k2 = { .n = 0 }, k3 = { .n = 0 },
	     k4 = { .n = 0 };
	CK_ATTRIBUTE back[2];
	CK_ATTRIBUTE q = { CKA_WRAP_TEMPLATE, NULL, 0 };
	CK_OBJECT_HANDLE w;

	t_bool (&t, CKA_WRAP, true);
	t_add (&t, CKA_WRAP_TEMPLATE, wt, sizeof wt);
	w = gen_aes (fx, 32, &t);
	t_bool (&k1, CKA_EXTRACTABLE, true);
	t_str (&k1, CKA_LABEL, "export-ok");
	assert_rv (CKR_OK, kwp_rv (fx, w, gen_aes (fx, 16, &k1)));
	t_bool (&k2, CKA_EXTRACTABLE, true);
	t_str (&k2, CKA_LABEL, "export-no");
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           kwp_rv (fx, w, gen_aes (fx, 16, &k2)));
	/* byte for byte: one trailing space is a different label */
	t_bool (&k3, CKA_EXTRACTABLE, true);
	t_str (&k3, CKA_LABEL, "export-ok ");
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           kwp_rv (fx, w, gen_aes (fx, 16, &k3)));
	/* every attribute of the template must match, not just one */
	t_bool (&k4, CKA_EXTRACTABLE, true);
	t_str (&k4, CKA_LABEL, "export-ok");
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           kwp_rv (fx, w, gen_secret (fx, 16, &k4)));
	/* it cannot be changed afterwards */
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_rv (fx, w, CKA_WRAP_TEMPLATE, wt, sizeof wt[0]));
	/* the template reads back as it was given */
	assert_rv (CKR_OK, fx->fl->C_GetAttributeValue (fx->session, w, &q, 1));
	assert_num_eq (sizeof wt, q.ulValueLen);
	memset (back, 0, sizeof back);
	q.pValue = back;
	assert_rv (CKR_OK, fx->fl->C_GetAttributeValue (fx->session, w, &q, 1));
	assert_num_eq (CKA_KEY_TYPE, back[0].type);
	assert_num_eq (CKA_LABEL, back[1].type);
	assert_num_eq (9, back[1].ulValueLen);
}

static void
test_unwrap_template (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE ut[] = {
		{ CKA_SIGN, &no, sizeof no },
		{ CKA_LABEL, "unwrapped-here", 14 },
	};
	tmpl t = { .n = 0 }, u = { .n = 0 }, u_sign = { .n = 0 },
	     u_same = { .n = 0 }, u_label = { .n = 0 };
	CK_OBJECT_HANDLE w, k, out;
	CK_BYTE label[32];
	blob b;

	t_bool (&t, CKA_WRAP, true);
	t_bool (&t, CKA_UNWRAP, true);
	t_add (&t, CKA_UNWRAP_TEMPLATE, ut, sizeof ut);
	w = gen_aes (fx, 32, &t);
	k = gen_target (fx, 16);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &b));
	/* applied to the unwrapped key */
	t_secret (&u, CKK_AES);
	assert_rv (CKR_OK,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &u, &out));
	assert_false (get_bool (fx, out, CKA_SIGN));
	assert_num_eq (14, fx_get_bytes (fx, fx->session, out, CKA_LABEL, label,
	                                 sizeof label));
	assert_mem_eq ("unwrapped-here", 14, label, 14);
	/* a caller template that contradicts it */
	t_secret (&u_sign, CKK_AES);
	t_bool (&u_sign, CKA_SIGN, true);
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &u_sign, &out));
	t_secret (&u_label, CKK_AES);
	t_str (&u_label, CKA_LABEL, "mine");
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &u_label, &out));
	/* one that agrees with it */
	t_secret (&u_same, CKK_AES);
	t_bool (&u_same, CKA_SIGN, false);
	assert_rv (CKR_OK,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &u_same, &out));
}

static void
test_derive_template (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE dt[] = {
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_LABEL, "derived-here", 12 },
	};
	tmpl t = { .n = 0 }, d = { .n = 0 }, d_open = { .n = 0 },
	     x_open = { .n = 0 }, d_label = { .n = 0 }, x_label = { .n = 0 },
	     d_same = { .n = 0 }, x_same = { .n = 0 };
	CK_OBJECT_HANDLE base, out;
	CK_BYTE label[32];

	t_bool (&t, CKA_DERIVE, true);
	t_add (&t, CKA_DERIVE_TEMPLATE, dt, sizeof dt);
	base = import_secret (fx, hkdf_ikm, sizeof hkdf_ikm, &t);
	assert_rv (CKR_OK, derive_rv (fx, base, t_derived (&d, NULL), &out));
	assert_true (get_bool (fx, out, CKA_SENSITIVE));
	assert_num_eq (12, fx_get_bytes (fx, fx->session, out, CKA_LABEL, label,
	                                 sizeof label));
	assert_mem_eq ("derived-here", 12, label, 12);
	assert_hidden (fx, out, CKA_VALUE);
	t_bool (&x_open, CKA_SENSITIVE, false);
	t_bool (&x_open, CKA_EXTRACTABLE, true);
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           derive_rv (fx, base, t_derived (&d_open, &x_open), &out));
	t_str (&x_label, CKA_LABEL, "mine");
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           derive_rv (fx, base, t_derived (&d_label, &x_label), &out));
	t_bool (&x_same, CKA_SENSITIVE, true);
	assert_rv (CKR_OK,
	           derive_rv (fx, base, t_derived (&d_same, &x_same), &out));
}

/* ------------------------------------------------------------------ */
/* The strict policy                                                   */

/* Every way of making a secret key with usages a and b true. */
static void
refuse_pair (lh_fx *fx, CK_ATTRIBUTE_TYPE a, CK_ATTRIBUTE_TYPE b)
{
	tmpl t = { .n = 0 }, u = { .n = 0 }, d = { .n = 0 };
	CK_OBJECT_HANDLE w = gen_wrapper (fx, 32), k = gen_target (fx, 32), out;
	CK_OBJECT_HANDLE base = import_ikm (fx, NULL);
	blob wrapped;

	t_bool (&t, a, true);
	t_bool (&t, b, true);
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           import_rv (fx, CKK_AES, key256, 32, &t, &out));
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           gen_rv (fx, CKM_AES_KEY_GEN, 32, &t, &out));
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           gen_rv (fx, CKM_GENERIC_SECRET_KEY_GEN, 32, &t, &out));
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &wrapped));
	t_cat (t_secret (&u, CKK_AES), &t);
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &wrapped, &u, &out));
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           derive_rv (fx, base, t_derived (&d, &t), &out));
}

static void
test_strict_wrap_decrypt (void *arg)
{
	refuse_pair (arg, CKA_WRAP, CKA_DECRYPT);
}

static void
test_strict_unwrap_encrypt (void *arg)
{
	refuse_pair (arg, CKA_UNWRAP, CKA_ENCRYPT);
}

static void
test_strict_rsa_unwrap_decrypt (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 }, u = { .n = 0 };
	CK_OBJECT_HANDLE k, pub, priv;

	t_bool (&t, CKA_UNWRAP, true);
	t_bool (&t, CKA_DECRYPT, true);
	assert_rv (CKR_TEMPLATE_INCONSISTENT, rsa_priv_rv (fx, &t, &k));
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           gen_rsa_rv (fx, 2048, NULL, &t, &pub, &priv));
	/* control: unwrap alone, and decrypt then defaults to false */
	t_bool (&u, CKA_UNWRAP, true);
	assert_rv (CKR_OK, rsa_priv_rv (fx, &u, &k));
	assert_false (get_bool (fx, k, CKA_DECRYPT));
	assert_true (get_bool (fx, k, CKA_SIGN));
}

static void
test_strict_defaults (void *arg)
{
	lh_fx *fx = arg;
	tmpl tw = { .n = 0 }, tu = { .n = 0 }, te = { .n = 0 };
	CK_OBJECT_HANDLE k;

	k = gen_aes (fx, 32, t_bool (&tw, CKA_WRAP, true));
	assert_false (get_bool (fx, k, CKA_DECRYPT));
	assert_true (get_bool (fx, k, CKA_ENCRYPT));
	k = gen_aes (fx, 32, t_bool (&tu, CKA_UNWRAP, true));
	assert_false (get_bool (fx, k, CKA_ENCRYPT));
	assert_true (get_bool (fx, k, CKA_DECRYPT));
	k = gen_wrapper (fx, 32);
	assert_false (get_bool (fx, k, CKA_ENCRYPT));
	assert_false (get_bool (fx, k, CKA_DECRYPT));
	/* wrap and encrypt together are no conflict */
	t_bool (&te, CKA_WRAP, true);
	t_bool (&te, CKA_ENCRYPT, true);
	k = gen_aes (fx, 32, &te);
	assert_true (get_bool (fx, k, CKA_ENCRYPT));
}

/* C_SetAttributeValue switching usage add on in key k, where it is off. */
static void
refuse_add (lh_fx *fx, CK_OBJECT_HANDLE k, CK_ATTRIBUTE_TYPE add)
{
	assert_false (get_bool (fx, k, add));
	/* template.c check_change: the strict policy never adds these four */
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, set_bool_rv (fx, k, add, true));
	assert_false (get_bool (fx, k, add));
}

static void
test_strict_set_decrypt_on_wrap_key (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };

	t_bool (&t, CKA_WRAP, true);
	refuse_add (fx, gen_aes (fx, 32, &t), CKA_DECRYPT);
}

static void
test_strict_set_encrypt_on_unwrap_key (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };

	t_bool (&t, CKA_UNWRAP, true);
	refuse_add (fx, gen_aes (fx, 32, &t), CKA_ENCRYPT);
}

static void
test_strict_set_decrypt_on_rsa_unwrap_key (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };

	t_bool (&t, CKA_UNWRAP, true);
	refuse_add (fx, rsa_priv (fx, &t), CKA_DECRYPT);
}

static void
test_strict_set_wrap_on_decrypt_key (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE k = gen_aes (fx, 32, NULL);

	refuse_add (fx, k, CKA_WRAP);
	refuse_add (fx, k, CKA_UNWRAP);
}

/* The four usages can be dropped, and then not taken back. */
static void
test_strict_dropped_not_readded (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE k = import_aes (fx, key128, 16, NULL);
	CK_OBJECT_HANDLE w = gen_wrapper (fx, 32);

	assert_rv (CKR_OK, set_bool_rv (fx, k, CKA_DECRYPT, false));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_DECRYPT, CKM_AES_CBC_PAD, k));
	refuse_add (fx, k, CKA_DECRYPT);
	assert_rv (CKR_OK, set_bool_rv (fx, w, CKA_WRAP, false));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           kwp_rv (fx, w, gen_target (fx, 16)));
	refuse_add (fx, w, CKA_WRAP);
	/* setting a usage to what it already is is no change */
	assert_rv (CKR_OK, set_bool_rv (fx, w, CKA_UNWRAP, true));
}

static void
test_strict_self_wrap (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE w;

	t_bool (&t, CKA_WRAP, true);
	t_bool (&t, CKA_EXTRACTABLE, true);
	w = gen_aes (fx, 32, &t);
	assert_rv (CKR_KEY_NOT_WRAPPABLE, kwp_rv (fx, w, w));
	/* control: the same key wraps another key of its kind */
	assert_rv (CKR_OK, kwp_rv (fx, w, gen_target (fx, 32)));
}

static void
test_strict_local_wraps_sensitive (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE w = gen_wrapper (fx, 32), k = gen_target (fx, 32), out;
	tmpl u = { .n = 0 };
	blob b;

	assert_true (get_bool (fx, w, CKA_LOCAL));
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &b));
	assert_num_eq (40, b.len);
	t_secret (&u, CKK_AES);
	assert_rv (CKR_OK,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &u, &out));
	assert_num_eq (32, fx_get_ulong (fx, fx->session, out, CKA_VALUE_LEN));
}

static void
test_strict_imported_cannot_wrap_sensitive (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE w;

	w = import_aes (fx, key256, 32, t_bool (&t, CKA_WRAP, true));
	assert_false (get_bool (fx, w, CKA_LOCAL));
	assert_rv (CKR_KEY_NOT_WRAPPABLE, kwp_rv (fx, w, gen_target (fx, 32)));
	assert_rv (CKR_KEY_NOT_WRAPPABLE, kwp_rv (fx, w, gen_target (fx, 16)));
}

static void
test_strict_imported_wraps_nonsensitive (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 }, o = { .n = 0 };
	CK_OBJECT_HANDLE w, k;
	blob b;

	w = import_aes (fx, key256, 32, t_bool (&t, CKA_WRAP, true));
	t_bool (&o, CKA_SENSITIVE, false);
	t_bool (&o, CKA_EXTRACTABLE, true);
	k = gen_aes (fx, 32, &o);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &b));
	assert_num_eq (40, b.len);
}

/* Unwrap a key wrapped under a fresh wrapper with template extra. */
static CK_OBJECT_HANDLE
unwrapped_wrapper (lh_fx *fx, const tmpl *extra)
{
	tmpl tk = { .n = 0 }, u = { .n = 0 };
	CK_OBJECT_HANDLE w = gen_wrapper (fx, 32), k, out;
	blob b;

	t_bool (&tk, CKA_WRAP, true);
	t_bool (&tk, CKA_EXTRACTABLE, true);
	k = gen_aes (fx, 32, &tk);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &b));
	t_secret (&u, CKK_AES);
	t_bool (&u, CKA_WRAP, true);
	t_cat (&u, extra);
	assert_rv (CKR_OK,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &u, &out));
	assert_false (get_bool (fx, out, CKA_LOCAL));
	assert_true (get_bool (fx, out, CKA_WRAP));
	return out;
}

static void
test_strict_unwrapped_cannot_wrap_sensitive (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE w = unwrapped_wrapper (fx, NULL);
	tmpl o = { .n = 0 };

	assert_rv (CKR_KEY_NOT_WRAPPABLE, kwp_rv (fx, w, gen_target (fx, 32)));
	/* control: it is a working wrapping key for what is not sensitive */
	t_bool (&o, CKA_SENSITIVE, false);
	t_bool (&o, CKA_EXTRACTABLE, true);
	assert_rv (CKR_OK, kwp_rv (fx, w, gen_aes (fx, 32, &o)));
}

static void
test_strict_trusted_imported_wraps_sensitive (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE w;

	t_bool (&t, CKA_WRAP, true);
	t_public_token (&t, "imported, trusted");
	import_aes (fx, key256, 32, &t);
	w = so_trust (fx, "imported, trusted");
	assert_false (get_bool (fx, w, CKA_LOCAL));
	assert_rv (CKR_OK, kwp_rv (fx, w, gen_target (fx, 32)));
}

static void
test_strict_trusted_unwrapped_wraps_sensitive (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE w;

	t_public_token (&t, "unwrapped, trusted");
	unwrapped_wrapper (fx, &t);
	w = so_trust (fx, "unwrapped, trusted");
	assert_rv (CKR_OK, kwp_rv (fx, w, gen_target (fx, 32)));
}

static void
test_strict_shorter_key (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE w128 = gen_wrapper (fx, 16);
	CK_OBJECT_HANDLE w192 = gen_wrapper (fx, 24);

	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           kwp_rv (fx, w128, gen_target (fx, 32)));
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           kwp_rv (fx, w192, gen_target (fx, 32)));
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           kwp_rv (fx, w128, gen_target (fx, 24)));
	/* controls: as long, or longer */
	assert_rv (CKR_OK, kwp_rv (fx, w128, gen_target (fx, 16)));
	assert_rv (CKR_OK, kwp_rv (fx, w192, gen_target (fx, 16)));
}

/* RSA-2048 is 112 bits strong (SP 800-57): it wraps a 112-bit secret,
 * not an AES-128 key. */
static void
test_strict_shorter_key_rsa (void *arg)
{
	lh_fx *fx = arg;
	tmpl tp = { .n = 0 }, tk = { .n = 0 };
	CK_OBJECT_HANDLE pub, priv, k112, k128;
	blob b;

	gen_rsa (fx, 2048, t_bool (&tp, CKA_WRAP, true), NULL, &pub, &priv);
	k128 = gen_target (fx, 16);
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           wrap_rv (fx, CKM_RSA_PKCS_OAEP, pub, k128, &b));
	k112 = gen_secret (fx, 14, t_bool (&tk, CKA_EXTRACTABLE, true));
	assert_rv (CKR_OK, wrap_rv (fx, CKM_RSA_PKCS_OAEP, pub, k112, &b));
	assert_num_eq (256, b.len);
}

static void
test_strict_wrap_modes (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE w = gen_wrapper (fx, 32), k = gen_target (fx, 16);
	blob b;

	/* modes with neither an integrity check nor key-wrap padding: none */
	assert_rv (CKR_MECHANISM_INVALID, wrap_rv (fx, CKM_AES_ECB, w, k, &b));
	assert_rv (CKR_MECHANISM_INVALID, wrap_rv (fx, CKM_AES_CBC, w, k, &b));
	assert_rv (CKR_MECHANISM_INVALID,
	           wrap_rv (fx, CKM_AES_CBC_PAD, w, k, &b));
	assert_rv (CKR_MECHANISM_INVALID, wrap_rv (fx, CKM_AES_CTR, w, k, &b));
	assert_rv (CKR_MECHANISM_INVALID, wrap_rv (fx, CKM_RSA_PKCS, w, k, &b));
	/* the authenticated or padded ones do */
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP, w, k, &b));
	assert_num_eq (24, b.len);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &b));
	assert_num_eq (24, b.len);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_GCM, w, k, &b));
	assert_num_eq (16 + 16, b.len);
}

static void
test_strict_unwrapped_sensitive (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 }, u = { .n = 0 };
	CK_OBJECT_HANDLE w = gen_wrapper (fx, 32), k, out;
	blob b;

	/* even a key that was not sensitive comes back sensitive */
	t_bool (&t, CKA_SENSITIVE, false);
	t_bool (&t, CKA_EXTRACTABLE, true);
	k = gen_aes (fx, 16, &t);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &b));
	assert_rv (CKR_OK, unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b,
	                              t_secret (&u, CKK_AES), &out));
	assert_true (get_bool (fx, out, CKA_SENSITIVE));
	assert_false (get_bool (fx, out, CKA_ALWAYS_SENSITIVE));
	assert_false (get_bool (fx, out, CKA_NEVER_EXTRACTABLE));
	assert_false (get_bool (fx, out, CKA_LOCAL));
	assert_num_eq (CK_UNAVAILABLE_INFORMATION,
	               fx_get_ulong (fx, fx->session, out,
	                             CKA_KEY_GEN_MECHANISM));
	assert_hidden (fx, out, CKA_VALUE);
}

/* ------------------------------------------------------------------ */
/* The attacks                                                         */

/*
 * Clulow (2003): wrap the target under W, then C_Decrypt the blob with
 * W.  Step 1 is a key that does both.
 */
static void
test_attack_clulow (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 }, tw = { .n = 0 };
	CK_OBJECT_HANDLE target = gen_target (fx, 32), w, out;
	blob b, plain;

	t_bool (&t, CKA_WRAP, true);
	t_bool (&t, CKA_DECRYPT, true);
	t_bool (&t, CKA_ENCRYPT, true);
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           gen_rv (fx, CKM_AES_KEY_GEN, 32, &t, &out));
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           import_rv (fx, CKK_AES, key256, 32, &t, &out));
	/* settle for a wrap key; its blob cannot be decrypted with it */
	w = gen_aes (fx, 32, t_bool (&tw, CKA_WRAP, true));
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, target, &b));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           decrypt_blob_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &plain));
}

/* Clulow with a toggle: wrap first, then switch decrypt on. */
static void
test_attack_clulow_toggle (void *arg)
{
	lh_fx *fx = arg;
	tmpl tw = { .n = 0 }, both = { .n = 0 };
	CK_OBJECT_HANDLE target = gen_target (fx, 32), w;
	blob b, plain;

	w = gen_aes (fx, 32, t_bool (&tw, CKA_WRAP, true));
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, target, &b));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, w, CKA_DECRYPT, true));
	/* drop wrap and add decrypt in one call */
	t_bool (&both, CKA_WRAP, false);
	t_bool (&both, CKA_DECRYPT, true);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, set_tmpl_rv (fx, w, &both));
	assert_true (get_bool (fx, w, CKA_WRAP));
	assert_false (get_bool (fx, w, CKA_DECRYPT));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           decrypt_blob_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &plain));
}

/* Clulow with a copy: the copy shares the wrapping key's value. */
static void
test_attack_clulow_copy (void *arg)
{
	lh_fx *fx = arg;
	tmpl tw = { .n = 0 }, c1 = { .n = 0 }, c2 = { .n = 0 }, c3 = { .n = 0 };
	CK_OBJECT_HANDLE w, d, copy;

	w = gen_aes (fx, 32, t_bool (&tw, CKA_WRAP, true));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           copy_rv (fx, w, t_bool (&c1, CKA_DECRYPT, true), &copy));
	t_bool (&c2, CKA_WRAP, false);
	t_bool (&c2, CKA_DECRYPT, true);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, copy_rv (fx, w, &c2, &copy));
	/* the other way round: a decrypt key copied into a wrap key */
	d = gen_aes (fx, 32, NULL);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           copy_rv (fx, d, t_bool (&c3, CKA_WRAP, true), &copy));
	/* control: a plain copy is fine */
	assert_rv (CKR_OK,
	           fx->fl->C_CopyObject (fx->session, w, NULL, 0, &copy));
	assert_false (get_bool (fx, copy, CKA_DECRYPT));
}

/*
 * The mirror of Clulow: a key that encrypts and unwraps lets the
 * attacker plant a key of known value (encrypt it, unwrap the result).
 */
static void
test_attack_encrypt_then_unwrap (void *arg)
{
	lh_fx *fx = arg;
	tmpl tu = { .n = 0 }, c = { .n = 0 };
	CK_OBJECT_HANDLE u, e, copy;
	blob ct;

	refuse_pair (fx, CKA_UNWRAP, CKA_ENCRYPT);
	u = gen_aes (fx, 32, t_bool (&tu, CKA_UNWRAP, true));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           crypt_rv (fx, CKA_ENCRYPT, CKM_AES_KEY_WRAP_PAD, u, key256,
	                     32, &ct));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, u, CKA_ENCRYPT, true));
	e = gen_aes (fx, 32, NULL);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           copy_rv (fx, e, t_bool (&c, CKA_UNWRAP, true), &copy));
}

/* Tookan: import a key you know, wrap the sensitive key under it, decrypt
 * the blob at home. */
static void
test_attack_import_wrapping_key (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE k256 = gen_target (fx, 32), k128 = gen_target (fx, 16);
	CK_OBJECT_HANDLE known;
	blob b;

	known = import_aes (fx, key256, 32, t_bool (&t, CKA_WRAP, true));
	assert_rv (CKR_KEY_NOT_WRAPPABLE, kwp_rv (fx, known, k256));
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           wrap_rv (fx, CKM_AES_KEY_WRAP, known, k128, &b));
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           wrap_rv (fx, CKM_AES_GCM, known, k128, &b));
}

/*
 * Tookan: get a known key into the token through C_UnwrapKey (encrypt it
 * under the token's RSA public key, unwrap with the private key), then
 * wrap the sensitive key under it.
 */
static void
test_attack_unwrap_known_key (void *arg)
{
	lh_fx *fx = arg;
	tmpl tv = { .n = 0 }, u = { .n = 0 };
	CK_OBJECT_HANDLE pub, priv, known;
	blob ct;

	gen_rsa (fx, 2048, NULL, t_bool (&tv, CKA_UNWRAP, true), &pub, &priv);
	assert_rv (CKR_OK, crypt_rv (fx, CKA_ENCRYPT, CKM_RSA_PKCS_OAEP, pub,
	                             key256, 32, &ct));
	t_secret (&u, CKK_AES);
	t_bool (&u, CKA_WRAP, true);
	assert_rv (CKR_OK,
	           unwrap_rv (fx, CKM_RSA_PKCS_OAEP, priv, &ct, &u, &known));
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           kwp_rv (fx, known, gen_target (fx, 32)));
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           kwp_rv (fx, known, gen_target (fx, 16)));
}

/* Tookan: import an RSA public key whose private half you hold, wrap the
 * sensitive key under it, decrypt the blob at home. */
static void
test_attack_imported_public_key (void *arg)
{
	lh_fx *fx = arg;
	tmpl tp = { .n = 0 }, tg = { .n = 0 }, tk = { .n = 0 }, to = { .n = 0 };
	CK_OBJECT_HANDLE known, pub, priv, k112, open;
	blob b;

	known = rsa_pub (fx, t_bool (&tp, CKA_WRAP, true));
	k112 = gen_secret (fx, 14, t_bool (&tk, CKA_EXTRACTABLE, true));
	assert_rv (CKR_KEY_NOT_WRAPPABLE,
	           wrap_rv (fx, CKM_RSA_PKCS_OAEP, known, k112, &b));
	/* controls: a generated key pair of the same size wraps it, and the
	 * imported key wraps what is not sensitive */
	gen_rsa (fx, 2048, t_bool (&tg, CKA_WRAP, true), NULL, &pub, &priv);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_RSA_PKCS_OAEP, pub, k112, &b));
	t_bool (&to, CKA_SENSITIVE, false);
	t_bool (&to, CKA_EXTRACTABLE, true);
	open = gen_secret (fx, 14, &to);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_RSA_PKCS_OAEP, known, open, &b));
}

/* Wrap a sensitive key, unwrap it as a key that is not. */
static void
test_attack_reimport_weaker (void *arg)
{
	lh_fx *fx = arg;
	tmpl u1 = { .n = 0 }, u2 = { .n = 0 };
	CK_OBJECT_HANDLE w = gen_wrapper (fx, 32), k = gen_target (fx, 32), out;
	blob b;

	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &b));
	t_secret (&u1, CKK_AES);
	t_bool (&u1, CKA_SENSITIVE, false);
	t_bool (&u1, CKA_EXTRACTABLE, true);
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &u1, &out));
	t_secret (&u2, CKK_AES);
	t_bool (&u2, CKA_SENSITIVE, false);
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &u2, &out));
}

/*
 * Derive a non-sensitive key from a sensitive one and read it: with HKDF
 * the result is HKDF's output (RFC 5869 A.1), never the base key's bytes;
 * the mechanisms that would copy base bytes out are not offered.
 */
static void
test_attack_derive_expose (void *arg)
{
	lh_fx *fx = arg;
	static const CK_MECHANISM_TYPE exposing[] = {
		CKM_CONCATENATE_BASE_AND_DATA, CKM_CONCATENATE_DATA_AND_BASE,
		CKM_XOR_BASE_AND_DATA, CKM_CONCATENATE_BASE_AND_KEY,
		CKM_EXTRACT_KEY_FROM_KEY,
	};
	CK_BYTE data[4] = { 1, 2, 3, 4 };
	CK_KEY_DERIVATION_STRING_DATA sd = { data, sizeof data };
	CK_ULONG bit = 0;
	tmpl d = { .n = 0 }, x = { .n = 0 }, dl = { .n = 0 };
	CK_OBJECT_HANDLE base, out;
	CK_BYTE buf[64];
	CK_ULONG len;
	size_t i;

	base = import_ikm (fx, NULL);
	t_bool (&x, CKA_SENSITIVE, false);
	t_bool (&x, CKA_EXTRACTABLE, true);
	assert_rv (CKR_OK, derive_rv (fx, base, t_derived (&d, &x), &out));
	len = fx_get_bytes (fx, fx->session, out, CKA_VALUE, buf, sizeof buf);
	assert_mem_eq (hkdf_okm, sizeof hkdf_okm, buf, len);
	assert_false (get_bool (fx, out, CKA_ALWAYS_SENSITIVE));
	assert_hidden (fx, base, CKA_VALUE);
	t_derived (&dl, &x);
	for (i = 0; i < N_ (exposing); i++) {
		CK_MECHANISM m = { exposing[i], &sd, sizeof sd };

		if (exposing[i] == CKM_CONCATENATE_BASE_AND_KEY) {
			m.pParameter = &base;
			m.ulParameterLen = sizeof base;
		} else if (exposing[i] == CKM_EXTRACT_KEY_FROM_KEY) {
			m.pParameter = &bit;
			m.ulParameterLen = sizeof bit;
		}
		assert_rv (CKR_MECHANISM_INVALID,
		           fx->fl->C_DeriveKey (fx->session, &m, base, dl.a,
		                                dl.n, &out));
	}
	assert_hidden (fx, base, CKA_VALUE);
}

/* ------------------------------------------------------------------ */
/* strict_policy = no                                                  */

static void
test_lax_pairs_allowed (void *arg)
{
	lh_fx *fx = arg;
	tmpl wd = { .n = 0 }, ue = { .n = 0 }, rsa = { .n = 0 },
	     tw = { .n = 0 };
	CK_OBJECT_HANDLE k;

	t_bool (&wd, CKA_WRAP, true);
	t_bool (&wd, CKA_DECRYPT, true);
	k = gen_aes (fx, 32, &wd);
	assert_true (get_bool (fx, k, CKA_DECRYPT));
	import_aes (fx, key256, 32, &wd);
	t_bool (&ue, CKA_UNWRAP, true);
	t_bool (&ue, CKA_ENCRYPT, true);
	import_aes (fx, key256, 32, &ue);
	t_bool (&rsa, CKA_UNWRAP, true);
	t_bool (&rsa, CKA_DECRYPT, true);
	rsa_priv (fx, &rsa);
	/* and a usage can be added later */
	k = gen_aes (fx, 32, t_bool (&tw, CKA_WRAP, true));
	assert_rv (CKR_OK, set_bool_rv (fx, k, CKA_DECRYPT, true));
	assert_true (get_bool (fx, k, CKA_DECRYPT));
}

/* What the strict policy is for: without it Clulow's attack reads a
 * sensitive key. */
static void
test_lax_clulow_succeeds (void *arg)
{
	lh_fx *fx = arg;
	tmpl tk = { .n = 0 }, tw = { .n = 0 };
	CK_OBJECT_HANDLE target, w;
	blob b, plain;

	t_bool (&tk, CKA_EXTRACTABLE, true);
	target = import_aes (fx, key256, 32, &tk);
	assert_hidden (fx, target, CKA_VALUE);
	t_bool (&tw, CKA_WRAP, true);
	t_bool (&tw, CKA_DECRYPT, true);
	w = gen_aes (fx, 32, &tw);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, target, &b));
	assert_rv (CKR_OK,
	           decrypt_blob_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &plain));
	assert_mem_eq (key256, sizeof key256, plain.b, plain.len);
}

static void
test_lax_wrap_rules_relaxed (void *arg)
{
	lh_fx *fx = arg;
	tmpl ti = { .n = 0 }, ts = { .n = 0 }, u = { .n = 0 };
	CK_OBJECT_HANDLE imported, self, w128, w, k, out;
	blob b;

	imported = import_aes (fx, key256, 32, t_bool (&ti, CKA_WRAP, true));
	assert_rv (CKR_OK, kwp_rv (fx, imported, gen_target (fx, 32)));
	t_bool (&ts, CKA_WRAP, true);
	t_bool (&ts, CKA_EXTRACTABLE, true);
	self = gen_aes (fx, 32, &ts);
	assert_rv (CKR_OK, kwp_rv (fx, self, self));
	w128 = gen_wrapper (fx, 16);
	assert_rv (CKR_OK, kwp_rv (fx, w128, gen_target (fx, 32)));
	w = gen_wrapper (fx, 32);
	k = gen_target (fx, 32);
	assert_rv (CKR_OK, wrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, k, &b));
	t_secret (&u, CKK_AES);
	t_bool (&u, CKA_SENSITIVE, false);
	t_bool (&u, CKA_EXTRACTABLE, true);
	assert_rv (CKR_OK,
	           unwrap_rv (fx, CKM_AES_KEY_WRAP_PAD, w, &b, &u, &out));
	assert_false (get_bool (fx, out, CKA_SENSITIVE));
}

/* The spec's rules do not depend on the switch. */
static void
test_lax_spec_rules_hold (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM_TYPE gcm_only[] = { CKM_AES_GCM };
	CK_BYTE data[4] = { 1, 2, 3, 4 };
	CK_KEY_DERIVATION_STRING_DATA sd = { data, sizeof data };
	CK_MECHANISM concat = { CKM_CONCATENATE_BASE_AND_DATA, &sd, sizeof sd };
	tmpl tk = { .n = 0 }, tf = { .n = 0 }, ta = { .n = 0 }, te = { .n = 0 },
	     d = { .n = 0 };
	CK_OBJECT_HANDLE w = gen_wrapper (fx, 32), k, out;

	k = gen_target (fx, 32);
	assert_hidden (fx, k, CKA_VALUE);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, k, CKA_SENSITIVE, false));
	k = gen_aes (fx, 32, NULL);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, k, CKA_EXTRACTABLE, true));
	assert_rv (CKR_KEY_UNEXTRACTABLE, kwp_rv (fx, w, k));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_bool_rv (fx, w, CKA_TRUSTED, true));
	t_bool (&tk, CKA_EXTRACTABLE, true);
	t_bool (&tk, CKA_WRAP_WITH_TRUSTED, true);
	k = gen_aes (fx, 16, &tk);
	assert_rv (CKR_KEY_NOT_WRAPPABLE, kwp_rv (fx, w, k));
	k = import_aes (fx, key128, 16, t_bool (&tf, CKA_ENCRYPT, false));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_ENCRYPT, CKM_AES_CBC_PAD, k));
	t_add (&ta, CKA_ALLOWED_MECHANISMS, gcm_only, sizeof gcm_only);
	k = import_aes (fx, key128, 16, &ta);
	assert_rv (CKR_MECHANISM_INVALID,
	           init_rv (fx, CKA_ENCRYPT, CKM_AES_CBC, k));
	t_str (&te, CKA_END_DATE, date_past);
	k = import_aes (fx, key128, 16, &te);
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_ENCRYPT, CKM_AES_CBC_PAD, k));
	k = import_ikm (fx, NULL);
	t_derived (&d, NULL);
	assert_rv (CKR_MECHANISM_INVALID,
	           fx->fl->C_DeriveKey (fx->session, &concat, k, d.a, d.n,
	                                &out));
}

/* Finalize, rewrite the configuration, initialize, log the user in. */
static void
reinit (lh_fx *fx, const char *conf)
{
	fx_write_conf (fx, conf);
	fx_restart (fx);
	fx->session = fx_open (fx, fx->slot, true);
	fx_login (fx, fx->session, CKU_USER, FX_USER_PIN);
}

/* The switch read from the configuration at C_Initialize, both ways; a
 * key made while it was off is unusable for both usages once it is on. */
static void
test_lax_switch (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE k, h[2];

	t_bool (&t, CKA_WRAP, true);
	t_bool (&t, CKA_DECRYPT, true);
	t_bool (&t, CKA_TOKEN, true);
	t_str (&t, CKA_LABEL, "made lax");
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           gen_rv (fx, CKM_AES_KEY_GEN, 32, &t, &k));
	reinit (fx, "strict_policy = no\n");
	assert_rv (CKR_OK, gen_rv (fx, CKM_AES_KEY_GEN, 32, &t, &k));
	assert_rv (CKR_OK, kwp_rv (fx, k, gen_target (fx, 32)));
	reinit (fx, "strict_policy = yes\n");
	assert_num_eq (1, fx_find_label (fx, fx->session, "made lax", h, 2));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           kwp_rv (fx, h[0], gen_target (fx, 32)));
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           init_rv (fx, CKA_DECRYPT, CKM_AES_KEY_WRAP_PAD, h[0]));
	/* no change or copy keeps the conflict: only dropping a usage helps */
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           set_rv (fx, h[0], CKA_LABEL, "renamed", 7));
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           fx->fl->C_CopyObject (fx->session, h[0], NULL, 0, &k));
	assert_rv (CKR_OK, set_bool_rv (fx, h[0], CKA_DECRYPT, false));
	assert_rv (CKR_OK, kwp_rv (fx, h[0], gen_target (fx, 32)));
}

/* ------------------------------------------------------------------ */
/* CKA_ALWAYS_AUTHENTICATE                                             */

static CK_RV
context_login_rv (lh_fx *fx, const char *pin)
{
	return fx_login_rv (fx, fx->session, CKU_CONTEXT_SPECIFIC, pin);
}

static void
test_always_auth_sign (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE k, plain, pub = rsa_pub (fx, NULL);
	blob sig;

	k = rsa_priv (fx, t_bool (&t, CKA_ALWAYS_AUTHENTICATE, true));
	assert_true (get_bool (fx, k, CKA_ALWAYS_AUTHENTICATE));
	assert_rv (CKR_USER_NOT_LOGGED_IN,
	           sign_msg_rv (fx, CKM_SHA256_RSA_PKCS, k, &sig));
	/* with the context login it works, once */
	assert_rv (CKR_OK, init_rv (fx, CKA_SIGN, CKM_SHA256_RSA_PKCS, k));
	assert_rv (CKR_OK, context_login_rv (fx, FX_USER_PIN));
	assert_rv (CKR_OK, sign_step_rv (fx, &sig));
	assert_rv (CKR_OK, verify_msg_rv (fx, CKM_SHA256_RSA_PKCS, pub, &sig));
	assert_rv (CKR_USER_NOT_LOGGED_IN,
	           sign_msg_rv (fx, CKM_SHA256_RSA_PKCS, k, &sig));
	/* multi-part is no way round it */
	assert_rv (CKR_OK, init_rv (fx, CKA_SIGN, CKM_SHA256_RSA_PKCS, k));
	assert_rv (CKR_USER_NOT_LOGGED_IN,
	           fx->fl->C_SignUpdate (fx->session, (CK_BYTE_PTR) msg,
	                                 MSG_LEN));
	/* control: the same key without the attribute needs no second PIN */
	plain = rsa_priv (fx, NULL);
	assert_rv (CKR_OK, sign_msg_rv (fx, CKM_SHA256_RSA_PKCS, plain, &sig));
}

static void
test_always_auth_wrong_pin (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE k;
	blob sig;

	k = rsa_priv (fx, t_bool (&t, CKA_ALWAYS_AUTHENTICATE, true));
	assert_rv (CKR_OK, init_rv (fx, CKA_SIGN, CKM_SHA256_RSA_PKCS, k));
	assert_rv (CKR_PIN_INCORRECT, context_login_rv (fx, "not-the-pin"));
	assert_rv (CKR_USER_NOT_LOGGED_IN, sign_step_rv (fx, &sig));
	/* a wrong PIN, then the right one */
	assert_rv (CKR_OK, init_rv (fx, CKA_SIGN, CKM_SHA256_RSA_PKCS, k));
	assert_rv (CKR_PIN_INCORRECT, context_login_rv (fx, "not-the-pin"));
	assert_rv (CKR_OK, context_login_rv (fx, FX_USER_PIN));
	assert_rv (CKR_OK, sign_step_rv (fx, &sig));
	/* the user is still logged in normally */
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, fx->session));
}

static void
test_always_auth_decrypt (void *arg)
{
	lh_fx *fx = arg;
	tmpl t = { .n = 0 };
	CK_OBJECT_HANDLE k, pub = rsa_pub (fx, NULL);
	blob ct, pt;

	k = rsa_priv (fx, t_bool (&t, CKA_ALWAYS_AUTHENTICATE, true));
	assert_rv (CKR_OK, encrypt_msg_rv (fx, CKM_RSA_PKCS_OAEP, pub, &ct));
	assert_rv (CKR_USER_NOT_LOGGED_IN,
	           decrypt_blob_rv (fx, CKM_RSA_PKCS_OAEP, k, &ct, &pt));
	assert_rv (CKR_OK, init_rv (fx, CKA_DECRYPT, CKM_RSA_PKCS_OAEP, k));
	assert_rv (CKR_OK, context_login_rv (fx, FX_USER_PIN));
	assert_rv (CKR_OK, decrypt_step_rv (fx, &ct, &pt));
	assert_mem_eq (msg, MSG_LEN, pt.b, pt.len);
}

static void
test_always_auth_no_operation (void *arg)
{
	lh_fx *fx = arg;

	assert_rv (CKR_OPERATION_NOT_INITIALIZED,
	           context_login_rv (fx, FX_USER_PIN));
}

/* A key that needs its PIN for every use cannot unwrap: C_UnwrapKey has
 * no Init after which a CKU_CONTEXT_SPECIFIC login could come. */
static void
test_always_auth_unwrap (void *arg)
{
	lh_fx *fx = arg;
	tmpl tv = { .n = 0 }, tw = { .n = 0 }, u = { .n = 0 };
	CK_OBJECT_HANDLE pub, priv, pub2, priv2, k;
	blob ct;

	t_bool (&tv, CKA_UNWRAP, true);
	t_bool (&tv, CKA_ALWAYS_AUTHENTICATE, true);
	gen_rsa (fx, 2048, NULL, &tv, &pub, &priv);
	assert_rv (CKR_OK, crypt_rv (fx, CKA_ENCRYPT, CKM_RSA_PKCS_OAEP, pub,
	                             key256, 32, &ct));
	t_secret (&u, CKK_AES);
	assert_rv (CKR_KEY_FUNCTION_NOT_PERMITTED,
	           unwrap_rv (fx, CKM_RSA_PKCS_OAEP, priv, &ct, &u, &k));
	/* control: the same pair without the attribute unwraps */
	gen_rsa (fx, 2048, NULL, t_bool (&tw, CKA_UNWRAP, true), &pub2, &priv2);
	assert_rv (CKR_OK, crypt_rv (fx, CKA_ENCRYPT, CKM_RSA_PKCS_OAEP, pub2,
	                             key256, 32, &ct));
	assert_rv (CKR_OK, unwrap_rv (fx, CKM_RSA_PKCS_OAEP, priv2, &ct, &u, &k));
}

/* Every test, with the fixture it runs in. */
static const struct {
	const char *name;
	lh_test_fn fn;
	const fx_opts *opts;
} tests[] = {
	{ "/policy/usage/encrypt", test_usage_encrypt, &fx_user },
	{ "/policy/usage/decrypt", test_usage_decrypt, &fx_user },
	{ "/policy/usage/sign", test_usage_sign, &fx_user },
	{ "/policy/usage/verify", test_usage_verify, &fx_user },
	{ "/policy/usage/rsa-sign", test_usage_rsa_sign, &fx_user },
	{ "/policy/usage/rsa-verify", test_usage_rsa_verify, &fx_user },
	{ "/policy/usage/wrap", test_usage_wrap, &fx_user },
	{ "/policy/usage/unwrap", test_usage_unwrap, &fx_user },
	{ "/policy/usage/derive", test_usage_derive, &fx_user },

	{ "/policy/allowed-mechanisms/encrypt",
	  test_allowed_encrypt, &fx_user },
	{ "/policy/allowed-mechanisms/wrap", test_allowed_wrap, &fx_user },

	{ "/policy/dates/end-past/encrypt", test_end_past_encrypt, &fx_user },
	{ "/policy/dates/end-past/sign", test_end_past_sign, &fx_user },
	{ "/policy/dates/end-past/wrap", test_end_past_wrap, &fx_user },
	{ "/policy/dates/end-past/derive", test_end_past_derive, &fx_user },
	{ "/policy/dates/start-future/encrypt",
	  test_start_future_encrypt, &fx_user },
	{ "/policy/dates/start-future/sign", test_start_future_sign, &fx_user },
	{ "/policy/dates/start-future/wrap", test_start_future_wrap, &fx_user },
	{ "/policy/dates/start-future/derive",
	  test_start_future_derive, &fx_user },
	{ "/policy/dates/empty-no-limit", test_dates_empty, &fx_user },
	{ "/policy/dates/in-range", test_dates_in_range, &fx_user },
	{ "/policy/dates/today-inclusive", test_dates_today, &fx_user },

	{ "/policy/sensitive/value-hidden", test_sensitive_hidden, &fx_user },
	{ "/policy/sensitive/sticky", test_sensitive_sticky, &fx_user },
	{ "/policy/sensitive/unextractable-not-wrapped",
	  test_unextractable_not_wrapped, &fx_user },

	{ "/policy/trusted/user-cannot-set",
	  test_trusted_user_cannot_set, &fx_user },
	{ "/policy/trusted/so-sets", test_trusted_so_sets, &fx_user },
	{ "/policy/trusted/wrap-with-trusted",
	  test_wrap_with_trusted, &fx_user },

	{ "/policy/template/wrap", test_wrap_template, &fx_user },
	{ "/policy/template/unwrap", test_unwrap_template, &fx_user },
	{ "/policy/template/derive", test_derive_template, &fx_user },

	{ "/policy/strict/wrap-decrypt-refused",
	  test_strict_wrap_decrypt, &fx_user },
	{ "/policy/strict/unwrap-encrypt-refused",
	  test_strict_unwrap_encrypt, &fx_user },
	{ "/policy/strict/rsa-unwrap-decrypt-refused",
	  test_strict_rsa_unwrap_decrypt, &fx_user },
	{ "/policy/strict/usage-defaults", test_strict_defaults, &fx_user },
	{ "/policy/strict/set-decrypt-on-wrap-key",
	  test_strict_set_decrypt_on_wrap_key, &fx_user },
	{ "/policy/strict/set-encrypt-on-unwrap-key",
	  test_strict_set_encrypt_on_unwrap_key, &fx_user },
	{ "/policy/strict/set-decrypt-on-rsa-unwrap-key",
	  test_strict_set_decrypt_on_rsa_unwrap_key, &fx_user },
	{ "/policy/strict/set-wrap-on-decrypt-key",
	  test_strict_set_wrap_on_decrypt_key, &fx_user },
	{ "/policy/strict/dropped-not-readded",
	  test_strict_dropped_not_readded, &fx_user },
	{ "/policy/strict/self-wrap", test_strict_self_wrap, &fx_user },
	{ "/policy/strict/local-wraps-sensitive",
	  test_strict_local_wraps_sensitive, &fx_user },
	{ "/policy/strict/imported-cannot-wrap-sensitive",
	  test_strict_imported_cannot_wrap_sensitive, &fx_user },
	{ "/policy/strict/imported-wraps-nonsensitive",
	  test_strict_imported_wraps_nonsensitive, &fx_user },
	{ "/policy/strict/unwrapped-cannot-wrap-sensitive",
	  test_strict_unwrapped_cannot_wrap_sensitive, &fx_user },
	{ "/policy/strict/trusted-imported-wraps-sensitive",
	  test_strict_trusted_imported_wraps_sensitive, &fx_user },
	{ "/policy/strict/trusted-unwrapped-wraps-sensitive",
	  test_strict_trusted_unwrapped_wraps_sensitive, &fx_user },
	{ "/policy/strict/shorter-key", test_strict_shorter_key, &fx_user },
	{ "/policy/strict/shorter-key-rsa",
	  test_strict_shorter_key_rsa, &fx_user },
	{ "/policy/strict/wrap-modes", test_strict_wrap_modes, &fx_user },
	{ "/policy/strict/unwrapped-always-sensitive",
	  test_strict_unwrapped_sensitive, &fx_user },

	{ "/policy/attack/clulow-wrap-decrypt-key",
	  test_attack_clulow, &fx_user },
	{ "/policy/attack/clulow-toggle", test_attack_clulow_toggle, &fx_user },
	{ "/policy/attack/clulow-copy", test_attack_clulow_copy, &fx_user },
	{ "/policy/attack/encrypt-then-unwrap",
	  test_attack_encrypt_then_unwrap, &fx_user },
	{ "/policy/attack/tookan-import-wrapping-key",
	  test_attack_import_wrapping_key, &fx_user },
	{ "/policy/attack/tookan-unwrap-known-key",
	  test_attack_unwrap_known_key, &fx_user },
	{ "/policy/attack/tookan-imported-public-key",
	  test_attack_imported_public_key, &fx_user },
	{ "/policy/attack/reimport-weaker",
	  test_attack_reimport_weaker, &fx_user },
	{ "/policy/attack/derive-expose", test_attack_derive_expose, &fx_user },

	{ "/policy/lax/pairs-allowed", test_lax_pairs_allowed, &fx_lax },
	{ "/policy/lax/clulow-succeeds", test_lax_clulow_succeeds, &fx_lax },
	{ "/policy/lax/wrap-rules-relaxed",
	  test_lax_wrap_rules_relaxed, &fx_lax },
	{ "/policy/lax/spec-rules-hold", test_lax_spec_rules_hold, &fx_lax },
	{ "/policy/lax/switch", test_lax_switch, &fx_user },

	{ "/policy/always-auth/sign", test_always_auth_sign, &fx_user },
	{ "/policy/always-auth/wrong-pin",
	  test_always_auth_wrong_pin, &fx_user },
	{ "/policy/always-auth/decrypt", test_always_auth_decrypt, &fx_user },
	{ "/policy/always-auth/unwrap-refused", test_always_auth_unwrap, &fx_user },
	{ "/policy/always-auth/no-operation",
	  test_always_auth_no_operation, &fx_user },
};

int
main (void)
{
	size_t i;

	fx_main ();
	for (i = 0; i < N_ (tests); i++)
		lh_test_add (tests[i].name, tests[i].fn,
		             (void *) tests[i].opts);
	return lh_test_run ();
}
