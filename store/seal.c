/*
 * seal.c - AES-256-GCM sealing of attribute values, and the primitives
 * (GCM, SHA-256, HMAC-SHA256, random bytes) the rest of store/ builds on.
 *
 * Sealed blob (attrs.value when attrs.flags has LH_SATTR_SEALED, and
 * auth.wrapped_mk), in the manner of SQLite's btreeInt.h:
 *
 *   offset  size  field
 *   0       1     format version, LH_FORMAT_VERSION (1)
 *   1       12    nonce: 96 random bits, fresh for every seal
 *   13      n     ciphertext, n = plaintext length
 *   13+n    16    GCM tag
 *
 * AAD of an attribute value (37 bytes, integers big-endian):
 *
 *   0       1     format version (1)
 *   1       16    token_uid (meta.token_uid)
 *   17      8     object id (objects.id)
 *   25      8     attribute type (CK_ATTRIBUTE_TYPE)
 *   33      4     mk_version the seal key was derived from
 *
 * So a sealed value moved to another token, object or attribute, or kept
 * across a re-initialisation of the token, fails its tag and is reported
 * as CKR_DEVICE_ERROR instead of being returned.  The key is the seal key,
 * HKDF-derived from the master key (auth.c); the master-key wrap uses the
 * same blob layout with its own AAD, described in auth.c.
 *
 * Nonces are random: an attribute is sealed once per write of its object,
 * so even a very busy token stays far below the 2^32 messages per key at
 * which random 96-bit nonces start to be a concern.
 *
 * Every function here leaves the OpenSSL error queue as it found it
 * (ERR_set_mark / ERR_pop_to_mark): we live in other people's processes
 * and must not leave stale errors for their next ERR_get_error().
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "store/store_int.h"

#define AAD_LEN (1 + LH_UID_LEN + 8 + 8 + 4)

/* Big-endian integer of n bytes (n <= 8). */
void
lh_put_be (uint8_t *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (uint8_t) (v & 0xff);
		v >>= 8;
	}
}

uint64_t
lh_get_be (const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Random bytes; priv selects OpenSSL's private DRBG, which is kept apart
 * from the one whose output is public (nonces, salts) and is the one
 * meant for long-term keys such as the master key.
 */
CK_RV
lh_random (OSSL_LIB_CTX *libctx, uint8_t *buf, size_t len, bool priv)
{
	int ok;

	if (len > INT_MAX)
		return CKR_ARGUMENTS_BAD;
	ERR_set_mark ();
	ok = priv ? RAND_priv_bytes_ex (libctx, buf, len, 0) :
	     RAND_bytes_ex (libctx, buf, len, 0);
	ERR_pop_to_mark ();
	return ok == 1 ? CKR_OK : CKR_FUNCTION_FAILED;
}

/*
 * AES-256-GCM encryption of len bytes (len may be 0) from in to out,
 * authenticated together with aad.  out has room for len bytes.
 */
CK_RV
lh_gcm_encrypt (lh_store *st, const uint8_t key[LH_KEY_LEN],
                const uint8_t nonce[LH_GCM_NONCE_LEN],
                const uint8_t *aad, size_t aad_len,
                const uint8_t *in, size_t len, uint8_t *out,
                uint8_t tag[LH_GCM_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx;
	uint8_t none[1];
	int n = 0, n2 = 0;
	CK_RV rv = CKR_HOST_MEMORY;

	if (len > INT_MAX || aad_len > INT_MAX)
		return CKR_ARGUMENTS_BAD;
	ERR_set_mark ();
	ctx = EVP_CIPHER_CTX_new ();
	if (ctx == NULL)
		goto out;
	rv = CKR_FUNCTION_FAILED;
	if (EVP_EncryptInit_ex2 (ctx, st->gcm, key, nonce, NULL) != 1 ||
	    (aad_len > 0 &&
	     EVP_EncryptUpdate (ctx, NULL, &n, aad, (int) aad_len) != 1) ||
	    (len > 0 && EVP_EncryptUpdate (ctx, out, &n, in, (int) len) != 1) ||
	    EVP_EncryptFinal_ex (ctx, len > 0 ? out + n : none, &n2) != 1 ||
	    EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_GET_TAG, LH_GCM_TAG_LEN,
	                         tag) != 1)
		goto out;
	rv = CKR_OK;
out:
	EVP_CIPHER_CTX_free (ctx);     /* the provider cleanses the key schedule */
	ERR_pop_to_mark ();
	return rv;
}

/*
 * AES-256-GCM decryption and tag check.  On a tag mismatch the output is
 * cleansed (it is unauthenticated plaintext) and CKR_ENCRYPTED_DATA_INVALID
 * returned, so callers can tell "wrong key or tampered" from other
 * failures.
 */
CK_RV
lh_gcm_decrypt (lh_store *st, const uint8_t key[LH_KEY_LEN],
                const uint8_t nonce[LH_GCM_NONCE_LEN],
                const uint8_t *aad, size_t aad_len,
                const uint8_t *in, size_t len, uint8_t *out,
                const uint8_t tag[LH_GCM_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx;
	uint8_t t[LH_GCM_TAG_LEN], none[1];
	int n = 0, n2 = 0;
	CK_RV rv = CKR_HOST_MEMORY;

	if (len > INT_MAX || aad_len > INT_MAX)
		return CKR_ARGUMENTS_BAD;
	memcpy (t, tag, sizeof t);      /* the ctrl takes a non-const pointer */
	ERR_set_mark ();
	ctx = EVP_CIPHER_CTX_new ();
	if (ctx == NULL)
		goto out;
	rv = CKR_FUNCTION_FAILED;
	if (EVP_DecryptInit_ex2 (ctx, st->gcm, key, nonce, NULL) != 1 ||
	    (aad_len > 0 &&
	     EVP_DecryptUpdate (ctx, NULL, &n, aad, (int) aad_len) != 1) ||
	    (len > 0 && EVP_DecryptUpdate (ctx, out, &n, in, (int) len) != 1) ||
	    EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_TAG, LH_GCM_TAG_LEN,
	                         t) != 1)
		goto out;
	rv = CKR_ENCRYPTED_DATA_INVALID;
	if (EVP_DecryptFinal_ex (ctx, len > 0 ? out + n : none, &n2) != 1)
		goto out;
	rv = CKR_OK;
out:
	if (rv != CKR_OK && len > 0)
		OPENSSL_cleanse (out, len);
	EVP_CIPHER_CTX_free (ctx);
	ERR_pop_to_mark ();
	return rv;
}

/* The AAD of an attribute value (layout in the header comment). */
static void
attr_aad (const lh_store *st, const lh_keys *k, lh_oid id,
          CK_ATTRIBUTE_TYPE type, uint8_t aad[AAD_LEN])
{
	aad[0] = LH_FORMAT_VERSION;
	memcpy (aad + 1, st->token_uid, LH_UID_LEN);
	lh_put_be (aad + 1 + LH_UID_LEN, id, 8);
	lh_put_be (aad + 1 + LH_UID_LEN + 8, type, 8);
	lh_put_be (aad + 1 + LH_UID_LEN + 16, k->mk_version, 4);
}

/*
 * Seal len bytes of attribute type of object id.  *blob is malloc'd (it
 * holds only ciphertext) and belongs to the caller.
 */
CK_RV
lh_seal (lh_store *st, const lh_keys *k, lh_oid id, CK_ATTRIBUTE_TYPE type,
         const uint8_t *pt, size_t len, uint8_t **blob, size_t *blob_len)
{
	uint8_t aad[AAD_LEN], *b;
	CK_RV rv;

	*blob = NULL;
	*blob_len = 0;
	if (len > INT_MAX - LH_SEAL_OVERHEAD)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	b = malloc (len + LH_SEAL_OVERHEAD);
	if (b == NULL)
		return CKR_HOST_MEMORY;
	b[0] = LH_FORMAT_VERSION;
	attr_aad (st, k, id, type, aad);
	if ((rv = lh_random (st->libctx, b + 1, LH_GCM_NONCE_LEN, false)) != CKR_OK ||
	    (rv = lh_gcm_encrypt (st, k->seal, b + 1, aad, sizeof aad, pt, len,
	                          b + 1 + LH_GCM_NONCE_LEN,
	                          b + 1 + LH_GCM_NONCE_LEN + len)) != CKR_OK) {
		free (b);
		return rv;
	}
	*blob = b;
	*blob_len = len + LH_SEAL_OVERHEAD;
	return CKR_OK;
}

/*
 * Open a sealed attribute value.  *pt is OPENSSL_malloc'd (at least one
 * byte, so an empty value is not NULL) and must be released with
 * OPENSSL_clear_free by the caller (lh_attrs_free does).  A malformed blob
 * or a failed tag is CKR_DEVICE_ERROR: the stored object is damaged.
 */
CK_RV
lh_unseal (lh_store *st, const lh_keys *k, lh_oid id, CK_ATTRIBUTE_TYPE type,
           const uint8_t *blob, size_t blob_len, uint8_t **pt, size_t *len)
{
	uint8_t aad[AAD_LEN], *p;
	size_t n;
	CK_RV rv;

	*pt = NULL;
	*len = 0;
	if (blob_len < LH_SEAL_OVERHEAD || blob[0] != LH_FORMAT_VERSION)
		return CKR_DEVICE_ERROR;
	n = blob_len - LH_SEAL_OVERHEAD;
	p = OPENSSL_malloc (n ? n : 1);
	if (p == NULL)
		return CKR_HOST_MEMORY;
	attr_aad (st, k, id, type, aad);
	rv = lh_gcm_decrypt (st, k->seal, blob + 1, aad, sizeof aad,
	                     blob + 1 + LH_GCM_NONCE_LEN, n, p,
	                     blob + 1 + LH_GCM_NONCE_LEN + n);
	if (rv != CKR_OK) {
		OPENSSL_clear_free (p, n ? n : 1);
		return rv == CKR_HOST_MEMORY ? rv : CKR_DEVICE_ERROR;
	}
	*pt = p;
	*len = n;
	return CKR_OK;
}

/* SHA-256 of a || b (either may be empty). */
CK_RV
lh_sha256 (lh_store *st, const uint8_t *a, size_t alen,
           const uint8_t *b, size_t blen, uint8_t out[LH_HASH_LEN])
{
	EVP_MD_CTX *ctx;
	CK_RV rv = CKR_HOST_MEMORY;

	ERR_set_mark ();
	ctx = EVP_MD_CTX_new ();
	if (ctx == NULL)
		goto out;
	rv = CKR_FUNCTION_FAILED;
	if (EVP_DigestInit_ex2 (ctx, st->sha256, NULL) != 1 ||
	    (alen > 0 && EVP_DigestUpdate (ctx, a, alen) != 1) ||
	    (blen > 0 && EVP_DigestUpdate (ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex (ctx, out, NULL) != 1)
		goto out;
	rv = CKR_OK;
out:
	EVP_MD_CTX_free (ctx);
	ERR_pop_to_mark ();
	return rv;
}

/* HMAC-SHA256 under key of a || b (either may be empty). */
CK_RV
lh_hmac (lh_store *st, const uint8_t key[LH_KEY_LEN], const uint8_t *a,
         size_t alen, const uint8_t *b, size_t blen, uint8_t out[LH_MAC_LEN])
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	size_t outl = 0;
	CK_RV rv = CKR_HOST_MEMORY;

	params[0] = OSSL_PARAM_construct_utf8_string ("digest", (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end ();
	ERR_set_mark ();
	ctx = EVP_MAC_CTX_new (st->hmac);
	if (ctx == NULL)
		goto out;
	rv = CKR_FUNCTION_FAILED;
	if (EVP_MAC_init (ctx, key, LH_KEY_LEN, params) != 1 ||
	    (alen > 0 && EVP_MAC_update (ctx, a, alen) != 1) ||
	    (blen > 0 && EVP_MAC_update (ctx, b, blen) != 1) ||
	    EVP_MAC_final (ctx, out, &outl, LH_MAC_LEN) != 1 ||
	    outl != LH_MAC_LEN)
		goto out;
	rv = CKR_OK;
out:
	EVP_MAC_CTX_free (ctx);        /* cleanses the keyed state */
	ERR_pop_to_mark ();
	return rv;
}
