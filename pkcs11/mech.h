/*
 * mech.h - mechanisms, operations and keys: the contract between the
 * C_* functions (fn_cipher.c, fn_digest.c, fn_sign.c, fn_keymgmt.c) and
 * the algorithm families (mech_digest.c, mech_hmac.c, mech_aes.c,
 * mech_rsa.c, mech_ec.c, mech_kdf.c), which are the only files that call
 * OpenSSL's EVP API for cryptography.
 *
 * A family never sees a CK_SESSION_HANDLE, a lock or the store: it gets a
 * checked mechanism, a loaded key (lh_key) and byte buffers, and returns a
 * CK_RV.  The fn_* layer does the PKCS#11 bookkeeping: sessions, the
 * length-query convention, one active operation per kind, ending an
 * operation on error, the key-usage policy (policy.c).
 *
 * OpenSSL: always the module's private library context (lh_g.libctx);
 * every failure path leaves nothing on the error queue that escapes the
 * call (the fn layer sets an ERR mark around every call anyway).
 */
#ifndef LH_MECH_H
#define LH_MECH_H

#include "pkcs11/state.h"
#include "pkcs11/attrs.h"

#include <openssl/evp.h>

typedef struct lh_mech lh_mech;
typedef struct lh_family lh_family;
typedef struct lh_op lh_op;
typedef struct lh_key lh_key;

/* ------------------------------------------------------------------ */
/* Keys                                                                */

/*
 * A key loaded for use: its attributes (secret values included, as the
 * store opened them), and what OpenSSL needs.  Immutable once made and
 * reference counted, so a cached key can be shared by several threads
 * while each signs with it.  Made only by key.c.
 */
struct lh_key {
	unsigned refs;               /* atomic */
	lh_attrs attrs;              /* all attributes, sorted */
	CK_OBJECT_CLASS cls;         /* CKO_SECRET_KEY, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY */
	CK_KEY_TYPE kt;              /* CKK_* */
	const uint8_t *value;        /* secret keys: CKA_VALUE (points into attrs) */
	size_t value_len;
	EVP_PKEY *pkey;              /* asymmetric keys; NULL for secret keys */
	CK_OBJECT_HANDLE handle;
	bool token;                  /* token object (else session object) */
	bool local;                  /* CKA_LOCAL: generated in the token */
};

/* Load the key behind h for session s (cached per process for token
 * objects).  CKR_KEY_HANDLE_INVALID, CKR_DEVICE_ERROR.  No lock held. */
CK_RV lh_key_get (lh_session *s, CK_OBJECT_HANDLE h, lh_key **out);
lh_key *lh_key_ref (lh_key *k);
void lh_key_unref (lh_key *k);        /* NULL-safe; frees and cleanses */

/* Build a key from attributes (no object behind it): unwrap, tests. */
CK_RV lh_key_from_attrs (const lh_attrs *attrs, lh_key **out);

/*
 * Forget cached keys of slot (logout, re-init, store changed, and every
 * write to a token object by this process).  Another process's change is
 * noticed at the next key use at most LH_KEY_RECHECK_NS later.
 */
#define LH_KEY_RECHECK_NS 1000000u   /* 1 ms */
void lh_key_cache_flush (lh_slot *slot);
void lh_key_cache_flush_locked (lh_slot *slot);    /* module lock held */
void lh_key_cache_free_locked (void);               /* C_Finalize */

/*
 * Per key type: build the EVP_PKEY of an asymmetric key from its
 * attributes (mech_rsa.c: CKK_RSA; mech_ec.c: CKK_EC, CKK_EC_EDWARDS,
 * CKK_EC_MONTGOMERY).  cls says public or private.
 *   CKR_KEY_TYPE_INCONSISTENT, CKR_ATTRIBUTE_VALUE_INVALID
 */
CK_RV lh_rsa_pkey (const lh_attrs *a, CK_OBJECT_CLASS cls, EVP_PKEY **out);
CK_RV lh_ec_pkey (const lh_attrs *a, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
                  EVP_PKEY **out);

/*
 * Per key type, at C_CreateObject: check imported key material (a modulus
 * that is a modulus, a point on the curve, a private value that fits the
 * curve...) and add the attributes the token computes for it:
 * CKA_PUBLIC_KEY_INFO for public and private keys, CKA_EC_POINT is never
 * added to private keys.  attrs is sorted on entry and on return.
 *   CKR_ATTRIBUTE_VALUE_INVALID, CKR_TEMPLATE_INCONSISTENT
 */
CK_RV lh_rsa_import (lh_attrs *attrs, CK_OBJECT_CLASS cls);
CK_RV lh_ec_import (lh_attrs *attrs, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt);

/* Serialize a private key as PKCS#8 DER (wrap) and back (unwrap): the
 * attributes of an asymmetric private key, made from OpenSSL's key.
 * key.c, for all asymmetric key types. */
CK_RV lh_key_to_pkcs8 (const lh_key *k, uint8_t **der, size_t *len);
CK_RV lh_key_attrs_from_pkcs8 (const uint8_t *der, size_t len,
                               CK_KEY_TYPE expect, lh_attrs *out);
/* The key-material attributes of an EVP_PKEY (both halves of a pair;
 * used by key generation and PKCS#8 unwrap).  Per type:
 * mech_rsa.c and mech_ec.c. */
CK_RV lh_rsa_attrs (EVP_PKEY *pkey, lh_attrs *pub, lh_attrs *priv);
CK_RV lh_ec_attrs (EVP_PKEY *pkey, CK_KEY_TYPE kt, lh_attrs *pub, lh_attrs *priv);

/* ------------------------------------------------------------------ */
/* Operations                                                          */

typedef enum {
	LH_OP_ENCRYPT,
	LH_OP_DECRYPT,
	LH_OP_DIGEST,
	LH_OP_SIGN,
	LH_OP_VERIFY,
	LH_OP_KINDS
} lh_op_kind;

/*
 * What a family implements for an operation.  Buffers are plain bytes.
 * Output functions get out with room for *out_len bytes and set *out_len
 * to what they wrote; the fn layer has already sized out with out_len()
 * (the length-query convention lives there, not here), so a family may
 * write up to out_len() bytes.  Any function may be NULL when the
 * operation kind has no use for it.
 *
 *   out_len (op, in_len, final)  the most bytes oneshot/update (final
 *                false) or final (final true, in_len 0) can produce;
 *                for sign: the signature length
 *   oneshot      encrypt/decrypt/digest/sign all of in at once
 *   update       one more part (encrypt/decrypt write output; digest,
 *                sign, verify absorb only: out NULL)
 *   final        the rest of the output (or the signature/digest)
 *   verify       single-part verify: CKR_OK or CKR_SIGNATURE_INVALID /
 *                CKR_SIGNATURE_LEN_RANGE
 *   verify_final multi-part verify
 *   free         release the family state (cleansed)
 */
typedef struct {
	size_t (*out_len) (lh_op *op, size_t in_len, bool final);
	CK_RV (*oneshot) (lh_op *op, const uint8_t *in, size_t in_len,
	                  uint8_t *out, size_t *out_len);
	CK_RV (*update) (lh_op *op, const uint8_t *in, size_t in_len,
	                 uint8_t *out, size_t *out_len);
	CK_RV (*final) (lh_op *op, uint8_t *out, size_t *out_len);
	CK_RV (*verify) (lh_op *op, const uint8_t *in, size_t in_len,
	                 const uint8_t *sig, size_t sig_len);
	CK_RV (*verify_final) (lh_op *op, const uint8_t *sig, size_t sig_len);
	void (*free) (lh_op *op);
} lh_op_ops;

/*
 * The common head of every operation.  A family allocates its own larger
 * struct with this as the first member, fills ops, and returns &head.
 */
struct lh_op {
	const lh_op_ops *ops;
	const lh_mech *mech;
	lh_op_kind kind;
	lh_key *key;                 /* owned reference, or NULL (digest) */
	bool multipart;              /* an update ran: single-part refused */
	bool need_login;             /* CKA_ALWAYS_AUTHENTICATE: login first */
	/* fn layer only: the parts of a multi-part call to a mechanism whose
	 * family has no update (it then gets them all at once at final) */
	uint8_t *acc;
	size_t acc_len;
};

/* Free an operation (family state, key reference).  NULL-safe. */
void lh_op_free (lh_op *op);

/* ------------------------------------------------------------------ */
/* Mechanisms                                                          */

/*
 * What a family does.  Any member may be NULL if no mechanism of the
 * family needs it.
 *
 *   op_init      start an operation of kind with key (NULL for digests).
 *                It fills op->ops (and its own state) only; the caller
 *                sets op->mech, op->kind and op->key (handing over its
 *                key reference), so the family takes no reference.
 *                Check the mechanism parameter (CKR_MECHANISM_PARAM_INVALID)
 *                and the key's type and size (CKR_KEY_TYPE_INCONSISTENT,
 *                CKR_KEY_SIZE_RANGE).  Usage flags and policy were
 *                checked by the caller.  On success *out is a new op.
 *   generate     C_GenerateKey: add the key material (CKA_VALUE, and
 *                CKA_VALUE_LEN) to key, whose template attributes (e.g.
 *                CKA_VALUE_LEN) say what to make.
 *                CKR_TEMPLATE_INCOMPLETE, CKR_KEY_SIZE_RANGE...
 *   generate_pair C_GenerateKeyPair: add material to both halves (pub
 *                has CKA_MODULUS_BITS/CKA_PUBLIC_EXPONENT or CKA_EC_PARAMS
 *                from the caller).  Both sets sorted on return.
 *   derive       C_DeriveKey: the derived secret bytes (*len on entry:
 *                the length the template asks for, 0 if it does not say),
 *                from base key and parameter.  *value comes from
 *                OPENSSL_malloc; the caller frees it with OPENSSL_clear_free.
 */
struct lh_family {
	CK_RV (*op_init) (const lh_mech *m, const CK_MECHANISM *p, lh_key *key,
	                  lh_op_kind kind, lh_op **out);
	CK_RV (*generate) (const lh_mech *m, const CK_MECHANISM *p, lh_attrs *key);
	CK_RV (*generate_pair) (const lh_mech *m, const CK_MECHANISM *p,
	                        lh_attrs *pub, lh_attrs *priv);
	CK_RV (*derive) (const lh_mech *m, const CK_MECHANISM *p, lh_key *base,
	                 uint8_t **value, size_t *len);
};

/* Mechanism flags of our own, beside the CKF_* of CK_MECHANISM_INFO. */
#define LH_MF_EXPOSES_KEY  0x1u   /* derive result reveals base key bytes */
#define LH_MF_WRAP_SAFE    0x2u   /* authenticated or padded key wrap */

/* One row of the mechanism table (mech.c). */
struct lh_mech {
	CK_MECHANISM_TYPE type;
	CK_ULONG min_key, max_key;   /* CK_MECHANISM_INFO units (bits or bytes) */
	CK_FLAGS flags;              /* CKF_ENCRYPT, CKF_SIGN, CKF_WRAP, ... */
	CK_KEY_TYPE key_type;        /* the key type it uses; LH_KT_NONE: none */
	const lh_family *family;
	uintptr_t arg;               /* family's own (digest name, mode...) */
	unsigned lh_flags;           /* LH_MF_* */
};

#define LH_KT_NONE ((CK_KEY_TYPE)-2)

/* The families (one per mech_*.c). */
extern const lh_family lh_digest_family;
extern const lh_family lh_hmac_family;
extern const lh_family lh_aes_family;
extern const lh_family lh_rsa_family;
extern const lh_family lh_ec_family;
extern const lh_family lh_kdf_family;

/*
 * Find an enabled mechanism that can do what flag says (CKF_SIGN, ...).
 *   CKR_MECHANISM_INVALID  unknown, disabled in the config, or not for flag
 */
CK_RV lh_mech_find (CK_MECHANISM_TYPE type, CK_FLAGS flag, const lh_mech **out);

/* All rows (sorted by type); for C_GetMechanismList and the unit test. */
const lh_mech *lh_mech_table (size_t *n);
bool lh_mech_enabled (const lh_mech *m);

/* Helpers for families. */
CK_RV lh_ossl_rv (CK_RV fallback);          /* clears the ERR queue */
const char *lh_digest_name (CK_MECHANISM_TYPE hash_mech);  /* CKM_SHA256 -> "SHA256" */
CK_RV lh_attrs_add (lh_attrs *a, CK_ATTRIBUTE_TYPE type, const void *v,
                    size_t len);            /* copy; replaces; keeps sorted */
CK_RV lh_attrs_add_ulong (lh_attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG v);

#endif
