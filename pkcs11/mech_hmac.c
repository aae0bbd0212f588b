/*
 * mech_hmac.c - the MAC family: CKM_SHA_1_HMAC, CKM_SHA224_HMAC,
 * CKM_SHA256_HMAC, CKM_SHA384_HMAC, CKM_SHA512_HMAC, their _GENERAL
 * variants, and CKM_AES_CMAC, for C_SignInit/C_Sign/C_SignUpdate/
 * C_SignFinal and the C_Verify* counterparts.
 *
 * An operation is one EVP_MAC_CTX, keyed at init from the key's value
 * (so the op does not need the key bytes afterwards; the context holds
 * the keyed state and EVP_MAC_CTX_free cleanses it).  Signing writes
 * mac_len bytes: the full MAC, or for _GENERAL the first ulMacLength
 * bytes of it; verifying recomputes and compares exactly mac_len bytes
 * in constant time.
 *
 * Keys: HMAC takes CKK_GENERIC_SECRET (or the CKK_SHA*_HMAC type of the
 * same hash), CMAC takes CKK_AES; the value length must lie within the
 * table's min_key..max_key, which are bytes for both.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

typedef struct {
	lh_op head;                  /* first: the fn layer sees only this */
	EVP_MAC_CTX *ctx;            /* owned; keyed */
	size_t full_len;             /* what the MAC algorithm produces */
	size_t mac_len;              /* what we sign / compare (<= full_len) */
} mac_op;

/* The _GENERAL mechanisms carry a CK_MAC_GENERAL_PARAMS (a CK_ULONG:
 * the output length); the others have no parameter. */
static bool
is_general (CK_MECHANISM_TYPE type)
{
	switch (type) {
	case CKM_SHA_1_HMAC_GENERAL:
	case CKM_SHA224_HMAC_GENERAL:
	case CKM_SHA256_HMAC_GENERAL:
	case CKM_SHA384_HMAC_GENERAL:
	case CKM_SHA512_HMAC_GENERAL:
		return true;
	default:
		return false;
	}
}

/* The dedicated HMAC key type of a hash (PKCS#11 2.40 CKK_SHA*_HMAC),
 * accepted beside CKK_GENERIC_SECRET; LH_KT_NONE if there is none. */
static CK_KEY_TYPE
hmac_key_type (CK_MECHANISM_TYPE hash)
{
	switch (hash) {
#ifdef CKK_SHA_1_HMAC
	case CKM_SHA_1:   return CKK_SHA_1_HMAC;
	case CKM_SHA224:  return CKK_SHA224_HMAC;
	case CKM_SHA256:  return CKK_SHA256_HMAC;
	case CKM_SHA384:  return CKK_SHA384_HMAC;
	case CKM_SHA512:  return CKK_SHA512_HMAC;
#endif
	default:          return LH_KT_NONE;
	}
}

/* CMAC's block cipher follows the AES key length. */
static const char *
cmac_cipher (size_t key_len)
{
	switch (key_len) {
	case 16: return "AES-128-CBC";
	case 24: return "AES-192-CBC";
	case 32: return "AES-256-CBC";
	default: return NULL;
	}
}

/*
 * Is key usable with m?
 *   CKR_KEY_TYPE_INCONSISTENT  not a secret key of the right type
 *   CKR_KEY_SIZE_RANGE         value length outside the table's range
 */
static CK_RV
check_key (const lh_mech *m, const lh_key *key)
{
	if (!key || key->cls != CKO_SECRET_KEY || !key->value)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (m->type == CKM_AES_CMAC) {
		if (key->kt != CKK_AES)
			return CKR_KEY_TYPE_INCONSISTENT;
		if (!cmac_cipher (key->value_len))
			return CKR_KEY_SIZE_RANGE;
	} else if (key->kt != CKK_GENERIC_SECRET &&
	           key->kt != hmac_key_type ((CK_MECHANISM_TYPE)m->arg)) {
		return CKR_KEY_TYPE_INCONSISTENT;
	}
	if (key->value_len < m->min_key || key->value_len > m->max_key)
		return CKR_KEY_SIZE_RANGE;
	return CKR_OK;
}

/*
 * The MAC length the mechanism parameter asks for, given the algorithm's
 * full output length.
 *   CKR_MECHANISM_PARAM_INVALID
 */
static CK_RV
check_param (const lh_mech *m, const CK_MECHANISM *p, size_t full,
             size_t *mac_len)
{
	CK_ULONG want;

	if (!is_general (m->type)) {
		/* SPEC: CKM_SHA*_HMAC and CKM_AES_CMAC have no parameter */
		if (p->ulParameterLen != 0)
			return CKR_MECHANISM_PARAM_INVALID;
		*mac_len = full;
		return CKR_OK;
	}
	if (!p->pParameter || p->ulParameterLen != sizeof (CK_ULONG))
		return CKR_MECHANISM_PARAM_INVALID;
	memcpy (&want, p->pParameter, sizeof want);   /* may be unaligned */
	/* SPEC: the general-length MAC is at most the hash output.  A
	 * zero-length MAC would make every signature verify, so 0 is
	 * refused too. */
	if (want < 1 || want > full)
		return CKR_MECHANISM_PARAM_INVALID;
	*mac_len = (size_t)want;
	return CKR_OK;
}

/* A keyed EVP_MAC_CTX for m and key (already checked). */
static CK_RV
mac_ctx_new (const lh_mech *m, const lh_key *key, EVP_MAC_CTX **out)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	const char *alg, *name, *sub;
	CK_RV rv = CKR_FUNCTION_FAILED;

	if (m->type == CKM_AES_CMAC) {
		alg = "CMAC";
		name = OSSL_MAC_PARAM_CIPHER;
		sub = cmac_cipher (key->value_len);
	} else {
		alg = "HMAC";
		name = OSSL_MAC_PARAM_DIGEST;
		sub = lh_digest_name ((CK_MECHANISM_TYPE)m->arg);
	}
	if (!sub)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string (name, (char *)sub, 0);
	params[1] = OSSL_PARAM_construct_end ();
	if (!(mac = EVP_MAC_fetch (lh_g.libctx, alg, NULL)) ||
	    !(ctx = EVP_MAC_CTX_new (mac)) ||
	    !EVP_MAC_init (ctx, key->value, key->value_len, params)) {
		rv = lh_ossl_rv (CKR_FUNCTION_FAILED);
		goto out;
	}
	*out = ctx;
	ctx = NULL;
	rv = CKR_OK;
out:
	EVP_MAC_CTX_free (ctx);
	EVP_MAC_free (mac);
	return rv;
}

static size_t
mac_out_len (lh_op *op, size_t in_len, bool final)
{
	(void)in_len;
	(void)final;
	return ((mac_op *)op)->mac_len;
}

static CK_RV
mac_update (lh_op *op, const uint8_t *in, size_t in_len,
            uint8_t *out, size_t *out_len)
{
	mac_op *c = (mac_op *)op;

	(void)out;
	if (out_len)
		*out_len = 0;
	if (in_len && !EVP_MAC_update (c->ctx, in, in_len))
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	return CKR_OK;
}

/* The full MAC into buf (EVP_MAX_MD_SIZE bytes); ends the MAC context. */
static CK_RV
mac_compute (mac_op *c, uint8_t *buf)
{
	size_t n = 0;

	if (!EVP_MAC_final (c->ctx, buf, &n, EVP_MAX_MD_SIZE))
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	if (n != c->full_len)
		return CKR_GENERAL_ERROR;
	return CKR_OK;
}

static CK_RV
mac_final (lh_op *op, uint8_t *out, size_t *out_len)
{
	mac_op *c = (mac_op *)op;
	uint8_t buf[EVP_MAX_MD_SIZE];
	CK_RV rv;

	/* The fn layer sized out with out_len(); never write past it. */
	if (*out_len < c->mac_len)
		return CKR_BUFFER_TOO_SMALL;
	if ((rv = mac_compute (c, buf)) == CKR_OK) {
		/* _GENERAL: the leading bytes */
		memcpy (out, buf, c->mac_len);
		*out_len = c->mac_len;
	}
	OPENSSL_cleanse (buf, sizeof buf);
	return rv;
}

static CK_RV
mac_oneshot (lh_op *op, const uint8_t *in, size_t in_len,
             uint8_t *out, size_t *out_len)
{
	CK_RV rv;

	if (*out_len < ((mac_op *)op)->mac_len)
		return CKR_BUFFER_TOO_SMALL;
	if ((rv = mac_update (op, in, in_len, NULL, NULL)) != CKR_OK)
		return rv;
	return mac_final (op, out, out_len);
}

static CK_RV
mac_verify_final (lh_op *op, const uint8_t *sig, size_t sig_len)
{
	mac_op *c = (mac_op *)op;
	uint8_t buf[EVP_MAX_MD_SIZE];
	CK_RV rv;

	/* SPEC: C_Verify: a MAC of the wrong length is
	 * CKR_SIGNATURE_LEN_RANGE, not CKR_SIGNATURE_INVALID */
	if (sig_len != c->mac_len)
		return CKR_SIGNATURE_LEN_RANGE;
	if ((rv = mac_compute (c, buf)) == CKR_OK &&
	    CRYPTO_memcmp (buf, sig, c->mac_len) != 0)
		rv = CKR_SIGNATURE_INVALID;
	OPENSSL_cleanse (buf, sizeof buf);
	return rv;
}

static CK_RV
mac_verify (lh_op *op, const uint8_t *in, size_t in_len,
            const uint8_t *sig, size_t sig_len)
{
	CK_RV rv;

	if (sig_len != ((mac_op *)op)->mac_len)
		return CKR_SIGNATURE_LEN_RANGE;
	if ((rv = mac_update (op, in, in_len, NULL, NULL)) != CKR_OK)
		return rv;
	return mac_verify_final (op, sig, sig_len);
}

static void
mac_free (lh_op *op)
{
	mac_op *c = (mac_op *)op;

	EVP_MAC_CTX_free (c->ctx);
	OPENSSL_cleanse (c, sizeof *c);
	free (c);
}

static const lh_op_ops mac_ops = {
	.out_len = mac_out_len,
	.oneshot = mac_oneshot,
	.update = mac_update,
	.final = mac_final,
	.verify = mac_verify,
	.verify_final = mac_verify_final,
	.free = mac_free,
};

/*
 * Start a MAC sign or verify.  The key's value goes into the keyed
 * context; the fn layer stores its key reference in head.key.
 *   CKR_MECHANISM_INVALID        kind is not sign or verify
 *   CKR_KEY_TYPE_INCONSISTENT, CKR_KEY_SIZE_RANGE (check_key)
 *   CKR_MECHANISM_PARAM_INVALID  (check_param)
 */
static CK_RV
mac_init (const lh_mech *m, const CK_MECHANISM *p, lh_key *key,
          lh_op_kind kind, lh_op **out)
{
	mac_op *c = NULL;
	CK_RV rv = CKR_MECHANISM_INVALID;
	size_t full;

	if (kind != LH_OP_SIGN && kind != LH_OP_VERIFY)
		goto out;
	if ((rv = check_key (m, key)) != CKR_OK)
		goto out;
	rv = CKR_HOST_MEMORY;
	if (!(c = calloc (1, sizeof *c)))
		goto out;
	if ((rv = mac_ctx_new (m, key, &c->ctx)) != CKR_OK)
		goto out;
	rv = CKR_FUNCTION_FAILED;
	if ((full = EVP_MAC_CTX_get_mac_size (c->ctx)) == 0 ||
	    full > EVP_MAX_MD_SIZE)
		goto out;
	c->full_len = full;
	if ((rv = check_param (m, p, full, &c->mac_len)) != CKR_OK)
		goto out;
	c->head.ops = &mac_ops;
	c->head.mech = m;
	c->head.kind = kind;
	*out = &c->head;
	c = NULL;
	rv = CKR_OK;
out:
	if (c)
		mac_free (&c->head);
	return rv;
}

const lh_family lh_hmac_family = {
	.op_init = mac_init,
};
