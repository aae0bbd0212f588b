/*
 * mech_digest.c - the digest family: CKM_SHA_1, CKM_SHA224, CKM_SHA256,
 * CKM_SHA384 and CKM_SHA512 for C_DigestInit, C_Digest, C_DigestUpdate,
 * C_DigestKey and C_DigestFinal.
 *
 * An operation is one EVP_MD_CTX made from the module's library context.
 * There is no key: C_DigestKey is the fn layer feeding the secret key's
 * value to update().  The context holds a hash state that may have
 * absorbed key bytes (C_DigestKey), so it is freed with EVP_MD_CTX_free,
 * which cleanses it, and the op struct is cleansed too.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"

#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

typedef struct {
	lh_op head;                  /* first: the fn layer sees only this */
	EVP_MD_CTX *ctx;             /* owned */
	size_t md_len;               /* digest length in bytes */
} digest_op;

static size_t
digest_out_len (lh_op *op, size_t in_len, bool final)
{
	(void)in_len;
	(void)final;
	return ((digest_op *)op)->md_len;
}

static CK_RV
digest_update (lh_op *op, const uint8_t *in, size_t in_len,
               uint8_t *out, size_t *out_len)
{
	digest_op *d = (digest_op *)op;

	(void)out;
	if (out_len)
		*out_len = 0;
	if (in_len && !EVP_DigestUpdate (d->ctx, in, in_len))
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	return CKR_OK;
}

static CK_RV
digest_final (lh_op *op, uint8_t *out, size_t *out_len)
{
	digest_op *d = (digest_op *)op;
	unsigned int n = 0;

	/* The fn layer sized out with out_len(); a shorter buffer here is a
	 * bug in the caller, not something to write past. */
	if (*out_len < d->md_len)
		return CKR_BUFFER_TOO_SMALL;
	if (!EVP_DigestFinal_ex (d->ctx, out, &n))
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	*out_len = n;
	return CKR_OK;
}

static CK_RV
digest_oneshot (lh_op *op, const uint8_t *in, size_t in_len,
                uint8_t *out, size_t *out_len)
{
	CK_RV rv;

	if (*out_len < ((digest_op *)op)->md_len)
		return CKR_BUFFER_TOO_SMALL;
	if ((rv = digest_update (op, in, in_len, NULL, NULL)) != CKR_OK)
		return rv;
	return digest_final (op, out, out_len);
}

static void
digest_free (lh_op *op)
{
	digest_op *d = (digest_op *)op;

	EVP_MD_CTX_free (d->ctx);
	OPENSSL_cleanse (d, sizeof *d);
	free (d);
}

static const lh_op_ops digest_ops = {
	.out_len = digest_out_len,
	.oneshot = digest_oneshot,
	.update = digest_update,
	.final = digest_final,
	.free = digest_free,
};

/*
 * Start a digest.  The mechanism itself names the hash (CKM_SHA256 ->
 * "SHA256"), so the table's arg is not needed.
 *   CKR_MECHANISM_PARAM_INVALID  a parameter was given
 *   CKR_MECHANISM_INVALID        not a digest, or kind is not LH_OP_DIGEST
 */
static CK_RV
digest_init (const lh_mech *m, const CK_MECHANISM *p, lh_key *key,
             lh_op_kind kind, lh_op **out)
{
	const char *name = lh_digest_name (m->type);
	EVP_MD *md = NULL;
	digest_op *d = NULL;
	CK_RV rv = CKR_MECHANISM_INVALID;
	int len;

	(void)key;
	if (!name || kind != LH_OP_DIGEST)
		goto out;
	/* SPEC: the SHA-1/SHA-2 digest mechanisms "do not have a parameter" */
	rv = CKR_MECHANISM_PARAM_INVALID;
	if (p->ulParameterLen != 0)
		goto out;
	rv = CKR_HOST_MEMORY;
	if (!(d = calloc (1, sizeof *d)))
		goto out;
	rv = CKR_FUNCTION_FAILED;
	if (!(md = EVP_MD_fetch (lh_g.libctx, name, NULL)) ||
	    !(d->ctx = EVP_MD_CTX_new ()) ||
	    !EVP_DigestInit_ex2 (d->ctx, md, NULL) ||
	    (len = EVP_MD_get_size (md)) <= 0) {
		rv = lh_ossl_rv (CKR_FUNCTION_FAILED);
		goto out;
	}
	d->md_len = (size_t)len;
	d->head.ops = &digest_ops;
	d->head.mech = m;
	d->head.kind = kind;
	*out = &d->head;
	d = NULL;
	rv = CKR_OK;
out:
	EVP_MD_free (md);
	if (d)
		digest_free (&d->head);
	return rv;
}

const lh_family lh_digest_family = {
	.op_init = digest_init,
};
