/*
 * op.c - the operation state machine shared by encrypt, decrypt, digest,
 * sign and verify.
 *
 * Rules enforced here for every mechanism (PKCS#11 2.40 5.2, 5.8-5.12):
 *   - one active operation per kind per session;
 *   - an error ends the operation, except CKR_BUFFER_TOO_SMALL and a
 *     length query, which leave it as it was;
 *   - a single-part call after an update is refused;
 *   - a key with CKA_ALWAYS_AUTHENTICATE needs C_Login(CKU_CONTEXT_SPECIFIC)
 *     after Init and before the first data;
 *   - a mechanism whose family has no multi-part support still accepts
 *     Update calls: the parts are collected and handed over at Final.
 */
#include "pkcs11/lh.h"
#include "pkcs11/op.h"
#include "pkcs11/policy.h"
#include "pkcs11/object.h"
#include "pkcs11/attrs.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* Largest input collected for a single-part-only mechanism. */
#define LH_ACC_MAX (64u << 20)

static const struct {
	CK_FLAGS mech_flag;
	CK_ATTRIBUTE_TYPE usage;
	CK_OBJECT_CLASS asym;        /* the asymmetric class it needs */
} kinds[LH_OP_KINDS] = {
	[LH_OP_ENCRYPT] = { CKF_ENCRYPT, CKA_ENCRYPT, CKO_PUBLIC_KEY },
	[LH_OP_DECRYPT] = { CKF_DECRYPT, CKA_DECRYPT, CKO_PRIVATE_KEY },
	[LH_OP_DIGEST]  = { CKF_DIGEST,  0,           0 },
	[LH_OP_SIGN]    = { CKF_SIGN,    CKA_SIGN,    CKO_PRIVATE_KEY },
	[LH_OP_VERIFY]  = { CKF_VERIFY,  CKA_VERIFY,  CKO_PUBLIC_KEY },
};

void
lh_op_end (lh_session *s, lh_op_kind kind)
{
	lh_op *op = s->ops[kind];

	s->ops[kind] = NULL;
	if (op)
		OPENSSL_clear_free (op->acc, op->acc_len);
	lh_op_free (op);
}

lh_op *
lh_op_waiting_login (lh_session *s)
{
	unsigned k;

	for (k = 0; k < LH_OP_KINDS; k++)
		if (s->ops[k] && s->ops[k]->need_login)
			return s->ops[k];
	return NULL;
}

/* Key class and type fit the operation and the mechanism? */
static CK_RV
check_key (const lh_mech *m, const lh_key *k, lh_op_kind kind)
{
	if (m->key_type != LH_KT_ANY && m->key_type != LH_KT_NONE &&
	    k->kt != m->key_type)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (k->cls != CKO_SECRET_KEY && k->cls != kinds[kind].asym)
		return CKR_KEY_TYPE_INCONSISTENT;
	return CKR_OK;
}

CK_RV
lh_op_start (lh_session *s, lh_op_kind kind, const CK_MECHANISM *mech,
             CK_OBJECT_HANDLE hkey)
{
	const lh_mech *m;
	lh_key *key = NULL;
	lh_op *op = NULL;
	CK_RV rv;

	/* SPEC 3.0: a NULL mechanism cancels the active operation */
	if (!mech) {
		lh_op_end (s, kind);
		return CKR_OK;
	}
	if (s->ops[kind])
		return CKR_OPERATION_ACTIVE;
	if ((rv = lh_mech_find (mech->mechanism, kinds[kind].mech_flag, &m)) != CKR_OK)
		return rv;
	if (!mech->pParameter && mech->ulParameterLen)
		return CKR_MECHANISM_PARAM_INVALID;
	if (kind != LH_OP_DIGEST) {
		if ((rv = lh_key_get (s, hkey, &key)) != CKR_OK)
			return rv;
		if ((rv = check_key (m, key, kind)) != CKR_OK ||
		    (rv = lh_policy_use (key, kinds[kind].usage, m)) != CKR_OK)
			goto out;
	}
	if (!m->family->op_init) {
		rv = CKR_MECHANISM_INVALID;
		goto out;
	}
	if ((rv = m->family->op_init (m, mech, key, kind, &op)) != CKR_OK)
		goto out;
	op->mech = m;
	op->kind = kind;
	op->key = key;                  /* the op owns the reference now */
	key = NULL;
	op->need_login = op->key && op->key->cls == CKO_PRIVATE_KEY &&
	                 lh_attrs_bool (&op->key->attrs, CKA_ALWAYS_AUTHENTICATE, false);
	s->ops[kind] = op;
	rv = CKR_OK;
out:
	lh_key_unref (key);
	return rv;
}

/* Collect a part for a family without update. */
static CK_RV
accumulate (lh_op *op, const uint8_t *in, size_t len)
{
	uint8_t *grown;

	if (len > LH_ACC_MAX - op->acc_len)
		return CKR_DATA_LEN_RANGE;
	if (!len)
		return CKR_OK;
	/* not realloc: the old buffer may hold secret plaintext */
	if (!(grown = OPENSSL_malloc (op->acc_len + len)))
		return CKR_HOST_MEMORY;
	if (op->acc_len)
		memcpy (grown, op->acc, op->acc_len);
	memcpy (grown + op->acc_len, in, len);
	OPENSSL_clear_free (op->acc, op->acc_len);
	op->acc = grown;
	op->acc_len += len;
	return CKR_OK;
}

/* The bytes a step can write, from the family. */
static size_t
needed (lh_op *op, lh_step step, size_t in_len)
{
	const lh_op_ops *o = op->ops;

	switch (step) {
	case LH_STEP_ONESHOT:
		return o->out_len (op, in_len, false);
	case LH_STEP_UPDATE:
		/* the family sizes an update, not a single part, from now on */
		op->multipart = true;
		if (op->kind != LH_OP_ENCRYPT && op->kind != LH_OP_DECRYPT)
			return 0;
		return o->update ? o->out_len (op, in_len, false) : 0;
	default:
		return o->update ? o->out_len (op, 0, true) :
		       o->out_len (op, op->acc_len, false);
	}
}

static CK_RV
run (lh_op *op, lh_step step, const uint8_t *in, size_t in_len, uint8_t *out,
     size_t *out_len)
{
	const lh_op_ops *o = op->ops;

	switch (step) {
	case LH_STEP_ONESHOT:
		return o->oneshot ? o->oneshot (op, in, in_len, out, out_len) :
		       CKR_FUNCTION_FAILED;
	case LH_STEP_UPDATE:
		op->multipart = true;
		if (!o->update) {
			*out_len = 0;
			return accumulate (op, in, in_len);
		}
		if (op->kind != LH_OP_ENCRYPT && op->kind != LH_OP_DECRYPT)
			out = NULL;
		return o->update (op, in, in_len, out, out_len);
	default:
		if (!o->update)
			return o->oneshot ? o->oneshot (op, op->acc, op->acc_len, out,
			                                out_len) : CKR_FUNCTION_FAILED;
		return o->final ? o->final (op, out, out_len) : CKR_FUNCTION_FAILED;
	}
}

/* Should this error keep the operation?  (SPEC 5.2) */
static bool
keeps_op (CK_RV rv)
{
	return rv == CKR_BUFFER_TOO_SMALL || rv == CKR_OPERATION_ACTIVE;
}

CK_RV
lh_op_data (lh_session *s, lh_op_kind kind, lh_step step, const uint8_t *in,
            CK_ULONG in_len, uint8_t *out, CK_ULONG *out_len)
{
	lh_op *op = s->ops[kind];
	bool absorbs = step == LH_STEP_UPDATE &&
	               kind != LH_OP_ENCRYPT && kind != LH_OP_DECRYPT;
	size_t need, done = 0;
	CK_RV rv;

	if (!op)
		return CKR_OPERATION_NOT_INITIALIZED;
	if ((!in && in_len) || (!absorbs && !out_len)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	/* SPEC: 5.x: a context-specific login must follow the Init */
	if (op->need_login) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	if (step == LH_STEP_ONESHOT && op->multipart) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	need = needed (op, step, in_len);
	if (!absorbs) {
		/* SPEC: 5.2: length query and short buffer keep the op */
		if (!out) {
			*out_len = need;
			return CKR_OK;
		}
		if (*out_len < need) {
			*out_len = need;
			return CKR_BUFFER_TOO_SMALL;
		}
		done = *out_len;
	}
	rv = run (op, step, in ? in : (const uint8_t *)"", in_len, out, &done);
	if (rv == CKR_OK && !absorbs)
		*out_len = done;
out:
	if ((rv != CKR_OK && !keeps_op (rv)) ||
	    (rv == CKR_OK && step != LH_STEP_UPDATE))
		lh_op_end (s, kind);
	return rv;
}

CK_RV
lh_op_verify (lh_session *s, lh_step step, const uint8_t *in, CK_ULONG in_len,
              const uint8_t *sig, CK_ULONG sig_len)
{
	lh_op *op = s->ops[LH_OP_VERIFY];
	const lh_op_ops *o;
	CK_RV rv;

	if (!op)
		return CKR_OPERATION_NOT_INITIALIZED;
	o = op->ops;
	if ((!in && in_len) || (!sig && sig_len)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (!in)
		in = (const uint8_t *)"";
	if (step == LH_STEP_ONESHOT && op->multipart) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	switch (step) {
	case LH_STEP_ONESHOT:
		rv = o->verify ? o->verify (op, in, in_len, sig, sig_len) :
		     CKR_FUNCTION_FAILED;
		break;
	case LH_STEP_UPDATE:
		op->multipart = true;
		rv = o->update ? o->update (op, in, in_len, NULL, NULL) :
		     accumulate (op, in, in_len);
		break;
	default:
		if (o->update)
			rv = o->verify_final ? o->verify_final (op, sig, sig_len) :
			     CKR_FUNCTION_FAILED;
		else
			rv = o->verify ? o->verify (op, op->acc, op->acc_len, sig,
			                            sig_len) : CKR_FUNCTION_FAILED;
		break;
	}
out:
	if (rv != CKR_OK || step != LH_STEP_UPDATE)
		lh_op_end (s, LH_OP_VERIFY);
	return rv;
}

CK_RV
lh_op_digest_key (lh_session *s, CK_OBJECT_HANDLE hkey)
{
	lh_op *op = s->ops[LH_OP_DIGEST];
	lh_key *k = NULL;
	CK_ULONG none = 0;
	CK_RV rv;

	if (!op)
		return CKR_OPERATION_NOT_INITIALIZED;
	if ((rv = lh_key_get (s, hkey, &k)) != CKR_OK)
		goto out;
	/* SPEC: C_DigestKey: only secret keys can be digested */
	if (k->cls != CKO_SECRET_KEY) {
		rv = CKR_KEY_INDIGESTIBLE;
		goto out;
	}
	rv = lh_op_data (s, LH_OP_DIGEST, LH_STEP_UPDATE, k->value, k->value_len,
	                 NULL, &none);
	lh_key_unref (k);
	return rv;           /* lh_op_data ended the op on error */
out:
	lh_key_unref (k);
	lh_op_end (s, LH_OP_DIGEST);
	return rv;
}

CK_RV
lh_op_call_init (CK_SESSION_HANDLE hs, lh_op_kind kind, const CK_MECHANISM *mech,
                 CK_OBJECT_HANDLE hkey)
{
	lh_call call;
	CK_RV rv;

	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	return lh_call_leave (&call, lh_op_start (call.session, kind, mech, hkey));
}

CK_RV
lh_op_call_data (CK_SESSION_HANDLE hs, lh_op_kind kind, lh_step step,
                 const uint8_t *in, CK_ULONG in_len, uint8_t *out,
                 CK_ULONG *out_len)
{
	lh_call call;
	CK_RV rv;

	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	rv = lh_op_data (call.session, kind, step, in, in_len, out, out_len);
	return lh_call_leave (&call, rv);
}
