/*
 * mech.c - the mechanism table: one sorted, const row per mechanism,
 * naming the family that implements it.  C_GetMechanismList and
 * C_GetMechanismInfo are loops over it; lh_mech_find bisects it; the
 * config's disable_mechanisms filters it.  A unit test checks that it is
 * sorted, has no duplicates, and that every flag has a family function
 * behind it.
 *
 * Key sizes are in the units the spec gives for each mechanism's
 * CK_MECHANISM_INFO: bits for RSA, EC, Edwards/Montgomery and generic
 * secret key generation, bytes for AES and HMAC keys.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"
#include "pkcs11/attrs.h"
#include "pkcs11/object.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#define ENC (CKF_ENCRYPT | CKF_DECRYPT)
#define SV (CKF_SIGN | CKF_VERIFY)
#define WU (CKF_WRAP | CKF_UNWRAP)
#define ECF (CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS)
#define NONE LH_KT_NONE
#define ANYK LH_KT_ANY
#define SAFE LH_MF_WRAP_SAFE

static const lh_mech mechs[] = {
	/* type                     min   max    flags                  key type   family            arg */
	{ CKM_RSA_PKCS_KEY_PAIR_GEN, 2048, 8192, CKF_GENERATE_KEY_PAIR, CKK_RSA, &lh_rsa_family, 0, 0 },
	{ CKM_RSA_PKCS,             2048, 8192, ENC | SV,              CKK_RSA, &lh_rsa_family, 0, 0 },
	{ CKM_RSA_X_509,            2048, 8192, ENC | SV,              CKK_RSA, &lh_rsa_family, 0, 0 },
	{ CKM_SHA1_RSA_PKCS,        2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, CKM_SHA_1, 0 },
	{ CKM_RSA_PKCS_OAEP,        2048, 8192, ENC | WU,              CKK_RSA, &lh_rsa_family, 0, SAFE },
	{ CKM_RSA_PKCS_PSS,         2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, 0, 0 },
	{ CKM_SHA1_RSA_PKCS_PSS,    2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, CKM_SHA_1, 0 },
	{ CKM_SHA256_RSA_PKCS,      2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, CKM_SHA256, 0 },
	{ CKM_SHA384_RSA_PKCS,      2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, CKM_SHA384, 0 },
	{ CKM_SHA512_RSA_PKCS,      2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, CKM_SHA512, 0 },
	{ CKM_SHA256_RSA_PKCS_PSS,  2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, CKM_SHA256, 0 },
	{ CKM_SHA384_RSA_PKCS_PSS,  2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, CKM_SHA384, 0 },
	{ CKM_SHA512_RSA_PKCS_PSS,  2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, CKM_SHA512, 0 },
	{ CKM_SHA224_RSA_PKCS,      2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, CKM_SHA224, 0 },
	{ CKM_SHA224_RSA_PKCS_PSS,  2048, 8192, SV,                    CKK_RSA, &lh_rsa_family, CKM_SHA224, 0 },
	{ CKM_SHA_1,                   0,    0, CKF_DIGEST,            NONE, &lh_digest_family, 0, 0 },
	{ CKM_SHA_1_HMAC,             14,  512, SV,                    ANYK, &lh_hmac_family, CKM_SHA_1, 0 },
	{ CKM_SHA_1_HMAC_GENERAL,     14,  512, SV,                    ANYK, &lh_hmac_family, CKM_SHA_1, 0 },
	{ CKM_SHA256,                  0,    0, CKF_DIGEST,            NONE, &lh_digest_family, 0, 0 },
	{ CKM_SHA256_HMAC,            16,  512, SV,                    ANYK, &lh_hmac_family, CKM_SHA256, 0 },
	{ CKM_SHA256_HMAC_GENERAL,    16,  512, SV,                    ANYK, &lh_hmac_family, CKM_SHA256, 0 },
	{ CKM_SHA224,                  0,    0, CKF_DIGEST,            NONE, &lh_digest_family, 0, 0 },
	{ CKM_SHA224_HMAC,            14,  512, SV,                    ANYK, &lh_hmac_family, CKM_SHA224, 0 },
	{ CKM_SHA224_HMAC_GENERAL,    14,  512, SV,                    ANYK, &lh_hmac_family, CKM_SHA224, 0 },
	{ CKM_SHA384,                  0,    0, CKF_DIGEST,            NONE, &lh_digest_family, 0, 0 },
	{ CKM_SHA384_HMAC,            16,  512, SV,                    ANYK, &lh_hmac_family, CKM_SHA384, 0 },
	{ CKM_SHA384_HMAC_GENERAL,    16,  512, SV,                    ANYK, &lh_hmac_family, CKM_SHA384, 0 },
	{ CKM_SHA512,                  0,    0, CKF_DIGEST,            NONE, &lh_digest_family, 0, 0 },
	{ CKM_SHA512_HMAC,            16,  512, SV,                    ANYK, &lh_hmac_family, CKM_SHA512, 0 },
	{ CKM_SHA512_HMAC_GENERAL,    16,  512, SV,                    ANYK, &lh_hmac_family, CKM_SHA512, 0 },
	{ CKM_GENERIC_SECRET_KEY_GEN,  8, 4096, CKF_GENERATE,          CKK_GENERIC_SECRET, &lh_aes_family, 0, 0 },
	{ CKM_EC_KEY_PAIR_GEN,       256,  521, CKF_GENERATE_KEY_PAIR | ECF, CKK_EC, &lh_ec_family, 0, 0 },
	{ CKM_ECDSA,                 256,  521, SV | ECF,              CKK_EC, &lh_ec_family, 0, 0 },
	{ CKM_ECDSA_SHA1,            256,  521, SV | ECF,              CKK_EC, &lh_ec_family, CKM_SHA_1, 0 },
	{ CKM_ECDSA_SHA224,          256,  521, SV | ECF,              CKK_EC, &lh_ec_family, CKM_SHA224, 0 },
	{ CKM_ECDSA_SHA256,          256,  521, SV | ECF,              CKK_EC, &lh_ec_family, CKM_SHA256, 0 },
	{ CKM_ECDSA_SHA384,          256,  521, SV | ECF,              CKK_EC, &lh_ec_family, CKM_SHA384, 0 },
	{ CKM_ECDSA_SHA512,          256,  521, SV | ECF,              CKK_EC, &lh_ec_family, CKM_SHA512, 0 },
	{ CKM_ECDH1_DERIVE,          255,  521, CKF_DERIVE | ECF,      ANYK, &lh_ec_family, 0, 0 },
	{ CKM_EC_EDWARDS_KEY_PAIR_GEN, 255, 448, CKF_GENERATE_KEY_PAIR, CKK_EC_EDWARDS, &lh_ec_family, 0, 0 },
	{ CKM_EC_MONTGOMERY_KEY_PAIR_GEN, 255, 448, CKF_GENERATE_KEY_PAIR, CKK_EC_MONTGOMERY, &lh_ec_family, 0, 0 },
	{ CKM_EDDSA,                 255,  448, SV,                    CKK_EC_EDWARDS, &lh_ec_family, 0, 0 },
	{ CKM_AES_KEY_GEN,            16,   32, CKF_GENERATE,          CKK_AES, &lh_aes_family, 0, 0 },
	{ CKM_AES_ECB,                16,   32, ENC,                   CKK_AES, &lh_aes_family, 0, 0 },
	{ CKM_AES_CBC,                16,   32, ENC,                   CKK_AES, &lh_aes_family, 0, 0 },
	{ CKM_AES_CBC_PAD,            16,   32, ENC,                   CKK_AES, &lh_aes_family, 0, 0 },
	{ CKM_AES_CTR,                16,   32, ENC,                   CKK_AES, &lh_aes_family, 0, 0 },
	{ CKM_AES_GCM,                16,   32, ENC | WU,              CKK_AES, &lh_aes_family, 0, SAFE },
	{ CKM_AES_CMAC,               16,   32, SV,                    CKK_AES, &lh_hmac_family, 0, 0 },
	{ CKM_AES_KEY_WRAP,           16,   32, ENC | WU,              CKK_AES, &lh_aes_family, 0, SAFE },
	{ CKM_AES_KEY_WRAP_PAD,       16,   32, ENC | WU,              CKK_AES, &lh_aes_family, 0, SAFE },
	{ CKM_HKDF_DERIVE,             1,  512, CKF_DERIVE,            ANYK, &lh_kdf_family, 0, 0 },
};

const lh_mech *
lh_mech_table (size_t *n)
{
	*n = LH_ARRAY_SIZE (mechs);
	return mechs;
}

bool
lh_mech_enabled (const lh_mech *m)
{
	size_t i;

	for (i = 0; lh_g.conf && i < lh_g.conf->ndisabled; i++)
		if (lh_g.conf->disabled[i] == m->type)
			return false;
	return true;
}

CK_RV
lh_mech_find (CK_MECHANISM_TYPE type, CK_FLAGS flag, const lh_mech **out)
{
	size_t lo = 0, hi = LH_ARRAY_SIZE (mechs), mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mechs[mid].type == type) {
			if (!lh_mech_enabled (&mechs[mid]) ||
			    (flag && !(mechs[mid].flags & flag)))
				return CKR_MECHANISM_INVALID;
			*out = &mechs[mid];
			return CKR_OK;
		}
		if (mechs[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return CKR_MECHANISM_INVALID;
}

CK_RV
lh_ossl_rv (CK_RV fallback)
{
	ERR_clear_error ();
	return fallback;
}

const char *
lh_digest_name (CK_MECHANISM_TYPE hash)
{
	switch (hash) {
	case CKM_SHA_1:   return "SHA1";
	case CKM_SHA224:  return "SHA224";
	case CKM_SHA256:  return "SHA256";
	case CKM_SHA384:  return "SHA384";
	case CKM_SHA512:  return "SHA512";
	default:          return NULL;
	}
}

static int
cmp_type (const void *a, const void *b)
{
	CK_ATTRIBUTE_TYPE x = ((const lh_sattr *)a)->type, y = ((const lh_sattr *)b)->type;

	return x < y ? -1 : x > y;
}

CK_RV
lh_attrs_add (lh_attrs *a, CK_ATTRIBUTE_TYPE type, const void *v, size_t len)
{
	lh_sattr *slot = (lh_sattr *)lh_attrs_get (a, type), *grown;
	void *copy = NULL;

	if (len && !(copy = OPENSSL_malloc (len)))
		return CKR_HOST_MEMORY;
	if (len)
		memcpy (copy, v, len);
	if (slot) {
		OPENSSL_clear_free (slot->value, slot->len);
		slot->value = copy;
		slot->len = len;
		slot->flags = 0;
		return CKR_OK;
	}
	grown = realloc (a->a, (a->n + 1) * sizeof *grown);
	if (!grown) {
		OPENSSL_clear_free (copy, len);
		return CKR_HOST_MEMORY;
	}
	a->a = grown;
	a->a[a->n++] = (lh_sattr){ type, copy, len, 0 };
	qsort (a->a, a->n, sizeof *a->a, cmp_type);
	return CKR_OK;
}

CK_RV
lh_attrs_add_ulong (lh_attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	return lh_attrs_add (a, type, &v, sizeof v);
}
