/*
 * fn_digest.c - message digesting (PKCS#11 2.40 section 5.10):
 * C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey, C_DigestFinal.
 */
#include "pkcs11/lh.h"
#include "pkcs11/op.h"

LH_EXPORT CK_RV
C_DigestInit (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m)
{
	return lh_op_call_init (hs, LH_OP_DIGEST, m, 0);
}

LH_EXPORT CK_RV
C_Digest (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
          CK_ULONG_PTR out_len)
{
	return lh_op_call_data (hs, LH_OP_DIGEST, LH_STEP_ONESHOT, in, in_len, out,
	                        out_len);
}

LH_EXPORT CK_RV
C_DigestUpdate (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len)
{
	return lh_op_call_data (hs, LH_OP_DIGEST, LH_STEP_UPDATE, in, in_len, NULL,
	                        NULL);
}

LH_EXPORT CK_RV
C_DigestKey (CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE key)
{
	lh_call call;
	CK_RV rv;

	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	return lh_call_leave (&call, lh_op_digest_key (call.session, key));
}

LH_EXPORT CK_RV
C_DigestFinal (CK_SESSION_HANDLE hs, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return lh_op_call_data (hs, LH_OP_DIGEST, LH_STEP_FINAL, NULL, 0, out, out_len);
}
