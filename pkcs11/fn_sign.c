/*
 * fn_sign.c - signing and MACing, verifying (PKCS#11 2.40 sections 5.11,
 * 5.12): C_SignInit, C_Sign, C_SignUpdate, C_SignFinal and the C_Verify*
 * functions.  Signatures with message recovery are not offered:
 * C_SignRecover* and C_VerifyRecover* return CKR_FUNCTION_NOT_SUPPORTED.
 */
#include "pkcs11/lh.h"
#include "pkcs11/op.h"

static CK_RV
verify (CK_SESSION_HANDLE hs, lh_step step, CK_BYTE_PTR in, CK_ULONG in_len,
        CK_BYTE_PTR sig, CK_ULONG sig_len)
{
	lh_call call;
	CK_RV rv;

	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	rv = lh_op_verify (call.session, step, in, in_len, sig, sig_len);
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_SignInit (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	return lh_op_call_init (hs, LH_OP_SIGN, m, k);
}

LH_EXPORT CK_RV
C_Sign (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR sig,
        CK_ULONG_PTR sig_len)
{
	return lh_op_call_data (hs, LH_OP_SIGN, LH_STEP_ONESHOT, in, in_len, sig, sig_len);
}

LH_EXPORT CK_RV
C_SignUpdate (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len)
{
	return lh_op_call_data (hs, LH_OP_SIGN, LH_STEP_UPDATE, in, in_len, NULL, NULL);
}

LH_EXPORT CK_RV
C_SignFinal (CK_SESSION_HANDLE hs, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	return lh_op_call_data (hs, LH_OP_SIGN, LH_STEP_FINAL, NULL, 0, sig, sig_len);
}

LH_EXPORT CK_RV
C_VerifyInit (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	return lh_op_call_init (hs, LH_OP_VERIFY, m, k);
}

LH_EXPORT CK_RV
C_Verify (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR sig,
          CK_ULONG sig_len)
{
	return verify (hs, LH_STEP_ONESHOT, in, in_len, sig, sig_len);
}

LH_EXPORT CK_RV
C_VerifyUpdate (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len)
{
	return verify (hs, LH_STEP_UPDATE, in, in_len, NULL, 0);
}

LH_EXPORT CK_RV
C_VerifyFinal (CK_SESSION_HANDLE hs, CK_BYTE_PTR sig, CK_ULONG sig_len)
{
	return verify (hs, LH_STEP_FINAL, NULL, 0, sig, sig_len);
}

LH_EXPORT CK_RV
C_SignRecoverInit (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}

LH_EXPORT CK_RV
C_SignRecover (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
               CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}

LH_EXPORT CK_RV
C_VerifyRecoverInit (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}

LH_EXPORT CK_RV
C_VerifyRecover (CK_SESSION_HANDLE hs, CK_BYTE_PTR sig, CK_ULONG sig_len,
                 CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}
