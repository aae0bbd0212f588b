/*
 * fn_keymgmt.c - key management (PKCS#11 2.40 section 5.13):
 * C_GenerateKey, C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey.
 *
 * Each function is the same three steps: check the template for its
 * origin (template.c), let the family make or open the key material, and
 * finish and store the object.  The key-usage policy (policy.c) decides
 * before any material moves.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"
#include "pkcs11/attrs.h"
#include "pkcs11/object.h"
#include "pkcs11/policy.h"
#include "pkcs11/template.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static CK_USER_TYPE
user_of (lh_session *s)
{
	CK_USER_TYPE u;

	lh_state_lock ();
	u = s->slot->user;
	lh_state_unlock ();
	return u;
}

/* Refuse early, before spending time on keys that cannot be stored. */
static CK_RV
may_store (lh_session *s, const lh_attrs *a)
{
	unsigned cls;
	CK_KEY_TYPE kt;

	/* CKA_PRIVATE's default depends on the class (attrs.c) */
	lh_template_kind (a, &cls, &kt);
	return lh_object_may_write (s, lh_attrs_bool (a, CKA_TOKEN, false),
	                            lh_attrs_bool (a, CKA_PRIVATE, cls != LH_C_PUB));
}

static CK_RV
generate_key (lh_session *s, const CK_MECHANISM *mech, CK_ATTRIBUTE *t,
              CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	const lh_mech *m;
	lh_attrs a = { 0 };
	CK_RV rv;

	if ((rv = lh_mech_find (mech->mechanism, CKF_GENERATE, &m)) != CKR_OK)
		return rv;
	if (!m->family->generate)
		return CKR_MECHANISM_INVALID;
	if ((rv = lh_template_check (t, n, user_of (s), LH_ORIGIN_GENERATE,
	                             CKO_SECRET_KEY, m->key_type, &a)) != CKR_OK)
		return rv;
	if ((rv = may_store (s, &a)) == CKR_OK &&
	    (rv = m->family->generate (m, mech, &a)) == CKR_OK &&
	    (rv = lh_template_finish (&a, LH_ORIGIN_GENERATE, m->type, NULL)) == CKR_OK)
		return lh_object_add (s, &a, out);
	lh_attrs_free (&a);
	return rv;
}

LH_EXPORT CK_RV
C_GenerateKey (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR t,
               CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
	lh_call call;
	CK_RV rv;

	if (!mech || !out || (!t && n))
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	return lh_call_leave (&call, generate_key (call.session, mech, t, n, out));
}

static CK_RV
generate_pair (lh_session *s, const CK_MECHANISM *mech, CK_ATTRIBUTE *pt,
               CK_ULONG pn, CK_ATTRIBUTE *vt, CK_ULONG vn,
               CK_OBJECT_HANDLE *pub_h, CK_OBJECT_HANDLE *priv_h)
{
	const lh_mech *m;
	lh_attrs pub = { 0 }, priv = { 0 };
	lh_object o;
	CK_USER_TYPE user = user_of (s);
	CK_MECHANISM_TYPE type = mech->mechanism;
	CK_RV rv;

	/*
	 * GnuTLS 3.7 (Debian 12's p11tool --generate-privkey ed25519) asks
	 * for CKM_EDDSA where the spec says CKM_EC_EDWARDS_KEY_PAIR_GEN; no
	 * other meaning is possible, so take it as that.
	 */
	if (type == CKM_EDDSA)
		type = CKM_EC_EDWARDS_KEY_PAIR_GEN;
	if ((rv = lh_mech_find (type, CKF_GENERATE_KEY_PAIR, &m)) != CKR_OK)
		return rv;
	if (!m->family->generate_pair)
		return CKR_MECHANISM_INVALID;
	if ((rv = lh_template_check (pt, pn, user, LH_ORIGIN_GENERATE, CKO_PUBLIC_KEY,
	                             m->key_type, &pub)) != CKR_OK)
		return rv;
	if ((rv = lh_template_check (vt, vn, user, LH_ORIGIN_GENERATE, CKO_PRIVATE_KEY,
	                             m->key_type, &priv)) != CKR_OK)
		goto out;
	if ((rv = may_store (s, &pub)) != CKR_OK || (rv = may_store (s, &priv)) != CKR_OK ||
	    (rv = m->family->generate_pair (m, mech, &pub, &priv)) != CKR_OK ||
	    (rv = lh_template_finish (&pub, LH_ORIGIN_GENERATE, m->type, NULL)) != CKR_OK ||
	    (rv = lh_template_finish (&priv, LH_ORIGIN_GENERATE, m->type, NULL)) != CKR_OK)
		goto out;
	if ((rv = lh_object_add (s, &pub, pub_h)) != CKR_OK)
		goto out;
	if ((rv = lh_object_add (s, &priv, priv_h)) != CKR_OK &&
	    lh_object_load (s, *pub_h, &o) == CKR_OK) {
		/* both halves or neither */
		lh_object_destroy (s, &o);
		lh_object_clear (&o);
	}
out:
	lh_attrs_free (&pub);
	lh_attrs_free (&priv);
	return rv;
}

LH_EXPORT CK_RV
C_GenerateKeyPair (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR pt,
                   CK_ULONG pn, CK_ATTRIBUTE_PTR vt, CK_ULONG vn,
                   CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv)
{
	lh_call call;
	CK_RV rv;

	if (!mech || !pub || !priv || (!pt && pn) || (!vt && vn))
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	rv = generate_pair (call.session, mech, pt, pn, vt, vn, pub, priv);
	return lh_call_leave (&call, rv);
}

/* The wrapping/unwrapping key, with the error codes C_WrapKey and
 * C_UnwrapKey use for it. */
static CK_RV
get_wrapping_key (lh_session *s, CK_OBJECT_HANDLE h, const lh_mech *m,
                  bool unwrap, lh_key **out)
{
	CK_OBJECT_CLASS want = unwrap ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
	lh_key *k;
	CK_RV rv;

	rv = lh_key_get (s, h, &k);
	if (rv == CKR_KEY_HANDLE_INVALID)
		return unwrap ? CKR_UNWRAPPING_KEY_HANDLE_INVALID :
		       CKR_WRAPPING_KEY_HANDLE_INVALID;
	if (rv != CKR_OK)
		return rv;
	if ((m->key_type != LH_KT_ANY && k->kt != m->key_type) ||
	    (k->cls != CKO_SECRET_KEY && k->cls != want)) {
		lh_key_unref (k);
		return unwrap ? CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT :
		       CKR_WRAPPING_KEY_TYPE_INCONSISTENT;
	}
	rv = lh_policy_use (k, unwrap ? CKA_UNWRAP : CKA_WRAP, m);
	/*
	 * SPEC: CKA_ALWAYS_AUTHENTICATE: the PIN is needed for every decryption
	 * with the key.  C_UnwrapKey decrypts but has no Init after which a
	 * CKU_CONTEXT_SPECIFIC login could come, so such a key cannot unwrap.
	 */
	if (rv == CKR_OK && unwrap && k->cls == CKO_PRIVATE_KEY &&
	    lh_attrs_bool (&k->attrs, CKA_ALWAYS_AUTHENTICATE, false))
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (rv != CKR_OK) {
		lh_key_unref (k);
		return rv;
	}
	*out = k;
	return CKR_OK;
}

/* Run one single-part encrypt or decrypt with key k. */
static CK_RV
crypt_once (const lh_mech *m, const CK_MECHANISM *mech, lh_key *k, lh_op_kind kind,
            const uint8_t *in, size_t in_len, uint8_t *out, CK_ULONG *out_len)
{
	lh_op *op = NULL;
	size_t need, done;
	CK_RV rv;

	if (!m->family->op_init)
		return CKR_MECHANISM_INVALID;
	if ((rv = m->family->op_init (m, mech, k, kind, &op)) != CKR_OK)
		return rv;
	op->mech = m;
	op->kind = kind;
	op->key = lh_key_ref (k);
	need = op->ops->out_len (op, in_len, false);
	if (!out) {
		*out_len = need;
		rv = CKR_OK;
	} else if (*out_len < need) {
		*out_len = need;
		rv = CKR_BUFFER_TOO_SMALL;
	} else {
		done = *out_len;
		rv = op->ops->oneshot (op, in, in_len, out, &done);
		if (rv == CKR_OK)
			*out_len = done;
	}
	lh_op_free (op);
	return rv;
}

/* The bytes that represent key k inside a wrapped blob. */
static CK_RV
key_bytes (const lh_key *k, uint8_t **out, size_t *len)
{
	if (k->cls == CKO_SECRET_KEY) {
		if (!(*out = OPENSSL_memdup (k->value, k->value_len)))
			return CKR_HOST_MEMORY;
		*len = k->value_len;
		return CKR_OK;
	}
	if (k->cls == CKO_PRIVATE_KEY)
		return lh_key_to_pkcs8 (k, out, len);   /* PKCS#8 PrivateKeyInfo */
	return CKR_KEY_NOT_WRAPPABLE;
}

static CK_RV
wrap_key (lh_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE hw,
          CK_OBJECT_HANDLE hk, uint8_t *out, CK_ULONG *out_len)
{
	const lh_mech *m;
	lh_key *w = NULL, *k = NULL;
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	CK_RV rv;

	if ((rv = lh_mech_find (mech->mechanism, CKF_WRAP, &m)) != CKR_OK)
		return rv;
	if ((rv = get_wrapping_key (s, hw, m, false, &w)) != CKR_OK)
		return rv;
	if ((rv = lh_key_get (s, hk, &k)) != CKR_OK ||
	    (rv = lh_policy_wrap (w, k, m)) != CKR_OK ||
	    (rv = key_bytes (k, &plain, &plain_len)) != CKR_OK)
		goto out;
	rv = crypt_once (m, mech, w, LH_OP_ENCRYPT, plain, plain_len, out, out_len);
	if (rv == CKR_DATA_LEN_RANGE)
		rv = CKR_KEY_SIZE_RANGE;
out:
	OPENSSL_clear_free (plain, plain_len);
	lh_key_unref (k);
	lh_key_unref (w);
	return rv;
}

LH_EXPORT CK_RV
C_WrapKey (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE hw,
           CK_OBJECT_HANDLE hk, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	lh_call call;
	CK_RV rv;

	if (!mech || !out_len)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	return lh_call_leave (&call, wrap_key (call.session, mech, hw, hk, out, out_len));
}

/* Key material from an unwrapped blob into the new key's attributes. */
static CK_RV
add_material (lh_attrs *a, const uint8_t *plain, size_t len)
{
	lh_attrs mat = { 0 };
	unsigned cls;
	CK_KEY_TYPE kt;
	size_t i;
	CK_RV rv;

	lh_template_kind (a, &cls, &kt);
	if (cls == LH_C_SECRET)
		return lh_attrs_add (a, CKA_VALUE, plain, len);
	if (cls != LH_C_PRIV)
		return CKR_TEMPLATE_INCONSISTENT;
	if ((rv = lh_key_attrs_from_pkcs8 (plain, len, kt, &mat)) != CKR_OK)
		return rv;
	for (i = 0; i < mat.n && rv == CKR_OK; i++) {
		/* the blob decides the key; a template value that differs is
		 * inconsistent, not silently replaced */
		const lh_sattr *have = lh_attrs_get (a, mat.a[i].type);

		if (have && (have->len != mat.a[i].len ||
		             memcmp (have->value, mat.a[i].value, have->len)))
			rv = CKR_TEMPLATE_INCONSISTENT;
		else if (!have)
			rv = lh_attrs_add (a, mat.a[i].type, mat.a[i].value, mat.a[i].len);
	}
	lh_attrs_free (&mat);
	return rv;
}

static CK_RV
map_unwrap_rv (CK_RV rv)
{
	if (rv == CKR_ENCRYPTED_DATA_INVALID)
		return CKR_WRAPPED_KEY_INVALID;
	if (rv == CKR_ENCRYPTED_DATA_LEN_RANGE)
		return CKR_WRAPPED_KEY_LEN_RANGE;
	return rv;
}

static CK_RV
unwrap_key (lh_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE hu,
            const uint8_t *in, CK_ULONG in_len, CK_ATTRIBUTE *t, CK_ULONG n,
            CK_OBJECT_HANDLE *out)
{
	const lh_sattr *ut;
	const lh_mech *m;
	lh_attrs a = { 0 };
	lh_key *u = NULL;
	uint8_t *plain = NULL;
	CK_ULONG plain_len = 0;
	CK_USER_TYPE user = user_of (s);
	CK_RV rv;

	if ((rv = lh_mech_find (mech->mechanism, CKF_UNWRAP, &m)) != CKR_OK)
		return rv;
	if ((rv = get_wrapping_key (s, hu, m, true, &u)) != CKR_OK)
		return rv;
	if ((rv = lh_template_check (t, n, user, LH_ORIGIN_UNWRAP, (CK_OBJECT_CLASS)-1,
	                             LH_KT_ANY, &a)) != CKR_OK)
		goto out;
	/* SPEC: CKA_UNWRAP_TEMPLATE: applied to every key it unwraps */
	ut = lh_attrs_get (&u->attrs, CKA_UNWRAP_TEMPLATE);
	if (ut && ut->len && (rv = lh_template_merge_inner (&a, ut, user,
	                                                    LH_ORIGIN_UNWRAP)) != CKR_OK)
		goto out;
	if ((rv = may_store (s, &a)) != CKR_OK)
		goto out;
	rv = crypt_once (m, mech, u, LH_OP_DECRYPT, in, in_len, NULL, &plain_len);
	if (rv != CKR_OK)
		goto out;
	rv = CKR_HOST_MEMORY;
	if (!(plain = OPENSSL_malloc (plain_len ? plain_len : 1)))
		goto out;
	rv = crypt_once (m, mech, u, LH_OP_DECRYPT, in, in_len, plain, &plain_len);
	if (rv != CKR_OK)
		goto out;
	if ((rv = add_material (&a, plain, plain_len)) != CKR_OK ||
	    (rv = lh_template_finish (&a, LH_ORIGIN_UNWRAP, m->type, NULL)) != CKR_OK)
		goto out;
	rv = lh_object_add (s, &a, out);
out:
	OPENSSL_clear_free (plain, plain_len);
	lh_attrs_free (&a);
	lh_key_unref (u);
	/* an unusable blob is a bad wrapped key, not bad data */
	return map_unwrap_rv (rv == CKR_ATTRIBUTE_VALUE_INVALID && plain ?
	                      CKR_WRAPPED_KEY_INVALID : rv);
}

LH_EXPORT CK_RV
C_UnwrapKey (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE hu,
             CK_BYTE_PTR in, CK_ULONG in_len, CK_ATTRIBUTE_PTR t, CK_ULONG n,
             CK_OBJECT_HANDLE_PTR out)
{
	lh_call call;
	CK_RV rv;

	if (!mech || !out || !in || (!t && n))
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	rv = unwrap_key (call.session, mech, hu, in, in_len, t, n, out);
	return lh_call_leave (&call, rv);
}

static CK_RV
derive_key (lh_session *s, const CK_MECHANISM *mech, CK_OBJECT_HANDLE hb,
            CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	const lh_sattr *dt;
	const lh_mech *m;
	lh_attrs a = { 0 };
	lh_key *base = NULL;
	uint8_t *value = NULL;
	size_t len = 0;
	CK_ULONG want;
	CK_USER_TYPE user = user_of (s);
	CK_RV rv;

	if ((rv = lh_mech_find (mech->mechanism, CKF_DERIVE, &m)) != CKR_OK)
		return rv;
	if (!m->family->derive)
		return CKR_MECHANISM_INVALID;
	if ((rv = lh_key_get (s, hb, &base)) != CKR_OK)
		return rv;
	if ((m->key_type != LH_KT_ANY && base->kt != m->key_type) ||
	    base->cls == CKO_PUBLIC_KEY) {
		rv = CKR_KEY_TYPE_INCONSISTENT;
		goto out;
	}
	/* derive mechanisms that reveal the base key's bytes are not in the
	 * table at all; LH_MF_EXPOSES_KEY stays for any that come later */
	if ((m->lh_flags & LH_MF_EXPOSES_KEY) &&
	    lh_attrs_bool (&base->attrs, CKA_SENSITIVE, true)) {
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto out;
	}
	/* as for unwrap: no Init, so no context login for such a key */
	if (base->cls == CKO_PRIVATE_KEY &&
	    lh_attrs_bool (&base->attrs, CKA_ALWAYS_AUTHENTICATE, false)) {
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
		goto out;
	}
	if ((rv = lh_policy_use (base, CKA_DERIVE, m)) != CKR_OK ||
	    (rv = lh_template_check (t, n, user, LH_ORIGIN_DERIVE, CKO_SECRET_KEY,
	                             LH_KT_ANY, &a)) != CKR_OK)
		goto out;
	dt = lh_attrs_get (&base->attrs, CKA_DERIVE_TEMPLATE);
	if (dt && dt->len && (rv = lh_template_merge_inner (&a, dt, user,
	                                                    LH_ORIGIN_DERIVE)) != CKR_OK)
		goto out;
	if ((rv = may_store (s, &a)) != CKR_OK)
		goto out;
	if (lh_attrs_ulong (&a, CKA_VALUE_LEN, &want))
		len = want;
	if ((rv = m->family->derive (m, mech, base, &value, &len)) != CKR_OK)
		goto out;
	if ((rv = lh_attrs_add (&a, CKA_VALUE, value, len)) != CKR_OK ||
	    (rv = lh_template_finish (&a, LH_ORIGIN_DERIVE, m->type, &base->attrs)) != CKR_OK)
		goto out;
	rv = lh_object_add (s, &a, out);
out:
	OPENSSL_clear_free (value, len);
	lh_attrs_free (&a);
	lh_key_unref (base);
	return rv;
}

LH_EXPORT CK_RV
C_DeriveKey (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE hb,
             CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
	lh_call call;
	CK_RV rv;

	if (!mech || !out || (!t && n))
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	return lh_call_leave (&call, derive_key (call.session, mech, hb, t, n, out));
}
