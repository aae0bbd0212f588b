/*
 * mech_kdf.c - the KDF family: CKM_HKDF_DERIVE (PKCS#11 3.0 mechanisms,
 * section 2.43) for C_DeriveKey, with OpenSSL's "HKDF" EVP_KDF (RFC 5869).
 *
 * CK_HKDF_PARAMS selects the steps: bExtract alone gives the
 * pseudo-random key PRK = HMAC-Hash(salt, IKM), exactly one hash long;
 * bExpand alone treats the base key as the PRK and expands it with pInfo
 * to the length the template asks for; both do the two in turn.  The
 * base key is a secret key's value (generic secret, AES or CKK_HKDF).
 *
 * The derived bytes are returned in a malloc'd buffer that the fn layer
 * cleanses and frees; every intermediate buffer here is cleansed.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

/* The most HKDF can make: 255 blocks of the hash (RFC 5869 2.3). */
#define HKDF_MAX_BLOCKS 255

/*
 * Check the CK_HKDF_PARAMS of p.  On success *out points into p and
 * *md_len is the PRF hash length.
 *   CKR_MECHANISM_PARAM_INVALID
 */
static CK_RV
check_params (const CK_MECHANISM *p, const CK_HKDF_PARAMS **out,
              size_t *md_len)
{
	const CK_HKDF_PARAMS *h = p->pParameter;
	const char *name;
	EVP_MD *md;
	int len;

	if (!h || p->ulParameterLen != sizeof *h)
		return CKR_MECHANISM_PARAM_INVALID;
	/* Neither step would be no derivation at all. */
	if (!h->bExtract && !h->bExpand)
		return CKR_MECHANISM_PARAM_INVALID;
	if (!(name = lh_digest_name (h->prfHashMechanism)))
		return CKR_MECHANISM_PARAM_INVALID;
	if (h->bExtract) {
		switch (h->ulSaltType) {
		case CKF_HKDF_SALT_NULL:
			break;
		case CKF_HKDF_SALT_DATA:
			if (!h->pSalt || h->ulSaltLen == 0)
				return CKR_MECHANISM_PARAM_INVALID;
			break;
		case CKF_HKDF_SALT_KEY:
			/* The salt would be the value of the key hSaltKey, but
			 * a family never sees sessions or the store (mech.h),
			 * so it cannot resolve the handle: refused until the
			 * fn layer hands the salt key's value to derive. */
		default:
			return CKR_MECHANISM_PARAM_INVALID;
		}
	}
	if (h->bExpand && h->ulInfoLen && !h->pInfo)
		return CKR_MECHANISM_PARAM_INVALID;
	if (!(md = EVP_MD_fetch (lh_g.libctx, name, NULL)))
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	len = EVP_MD_get_size (md);
	EVP_MD_free (md);
	if (len <= 0)
		return CKR_FUNCTION_FAILED;
	*md_len = (size_t)len;
	*out = h;
	return CKR_OK;
}

/*
 * The output length: the hash length for extract only, else what the
 * template asked for (want; 0 if it did not say).
 *   CKR_TEMPLATE_INCOMPLETE, CKR_TEMPLATE_INCONSISTENT, CKR_KEY_SIZE_RANGE
 */
static CK_RV
out_length (const CK_HKDF_PARAMS *h, size_t md_len, size_t want,
            size_t *len)
{
	if (!h->bExpand) {
		/* The PRK is one hash long; a template that asks for
		 * another length contradicts the mechanism. */
		if (want != 0 && want != md_len)
			return CKR_TEMPLATE_INCONSISTENT;
		*len = md_len;
		return CKR_OK;
	}
	if (want == 0)
		return CKR_TEMPLATE_INCOMPLETE;
	/* RFC 5869 2.3: L <= 255 * HashLen */
	if (want > HKDF_MAX_BLOCKS * md_len)
		return CKR_KEY_SIZE_RANGE;
	*len = want;
	return CKR_OK;
}

/* Run OpenSSL's HKDF with the checked parameters into out[len]. */
static CK_RV
run_hkdf (const CK_HKDF_PARAMS *h, const lh_key *base, uint8_t *out,
          size_t len)
{
	OSSL_PARAM params[6], *q = params;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	int mode;
	CK_RV rv = CKR_FUNCTION_FAILED;

	if (h->bExtract && h->bExpand)
		mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
	else if (h->bExtract)
		mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
	else
		mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	*q++ = OSSL_PARAM_construct_int (OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST,
		(char *)lh_digest_name (h->prfHashMechanism), 0);
	*q++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY,
		(void *)base->value, base->value_len);
	/* CKF_HKDF_SALT_NULL: no salt, which RFC 5869 defines as HashLen
	 * zero bytes; OpenSSL's HMAC with an empty key is the same. */
	if (h->bExtract && h->ulSaltType == CKF_HKDF_SALT_DATA)
		*q++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT,
			h->pSalt, h->ulSaltLen);
	if (h->bExpand && h->ulInfoLen)
		*q++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO,
			h->pInfo, h->ulInfoLen);
	*q = OSSL_PARAM_construct_end ();
	if (!(kdf = EVP_KDF_fetch (lh_g.libctx, "HKDF", NULL)) ||
	    !(ctx = EVP_KDF_CTX_new (kdf)) ||
	    EVP_KDF_derive (ctx, out, len, params) <= 0) {
		rv = lh_ossl_rv (CKR_FUNCTION_FAILED);
		goto out;
	}
	rv = CKR_OK;
out:
	EVP_KDF_CTX_free (ctx);   /* cleanses the key and PRK it held */
	EVP_KDF_free (kdf);
	return rv;
}

/*
 * C_DeriveKey with CKM_HKDF_DERIVE: *len on entry is the template's
 * CKA_VALUE_LEN (0: not given), on return the length of *value.
 *   CKR_MECHANISM_PARAM_INVALID, CKR_KEY_TYPE_INCONSISTENT,
 *   CKR_KEY_SIZE_RANGE, CKR_TEMPLATE_INCOMPLETE, CKR_TEMPLATE_INCONSISTENT
 */
static CK_RV
hkdf_derive (const lh_mech *m, const CK_MECHANISM *p, lh_key *base,
             uint8_t **value, size_t *len)
{
	const CK_HKDF_PARAMS *h = NULL;
	uint8_t *out = NULL;
	size_t md_len = 0, n = 0;
	CK_RV rv;

	if ((rv = check_params (p, &h, &md_len)) != CKR_OK)
		goto out;
	rv = CKR_KEY_TYPE_INCONSISTENT;
	if (!base || base->cls != CKO_SECRET_KEY || !base->value ||
	    (base->kt != CKK_GENERIC_SECRET && base->kt != CKK_AES &&
	     base->kt != CKK_HKDF))
		goto out;
	rv = CKR_KEY_SIZE_RANGE;
	if (base->value_len < m->min_key || base->value_len > m->max_key)
		goto out;
	if ((rv = out_length (h, md_len, *len, &n)) != CKR_OK)
		goto out;
	rv = CKR_HOST_MEMORY;
	if (!(out = malloc (n)))
		goto out;
	if ((rv = run_hkdf (h, base, out, n)) != CKR_OK)
		goto out;
	*value = out;
	*len = n;
	out = NULL;
	rv = CKR_OK;
out:
	if (out) {
		OPENSSL_cleanse (out, n);
		free (out);
	}
	return rv;
}

const lh_family lh_kdf_family = {
	.derive = hkdf_derive,
};
