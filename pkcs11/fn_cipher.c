/*
 * fn_cipher.c - encryption and decryption (PKCS#11 2.40 sections 5.8,
 * 5.9): C_EncryptInit, C_Encrypt, C_EncryptUpdate, C_EncryptFinal and the
 * C_Decrypt* functions.  The state machine is op.c's; the cryptography
 * is the families'.
 */
#include "pkcs11/lh.h"
#include "pkcs11/op.h"

LH_EXPORT CK_RV
C_EncryptInit (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	return lh_op_call_init (hs, LH_OP_ENCRYPT, m, k);
}

LH_EXPORT CK_RV
C_Encrypt (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
           CK_ULONG_PTR out_len)
{
	return lh_op_call_data (hs, LH_OP_ENCRYPT, LH_STEP_ONESHOT, in, in_len, out, out_len);
}

LH_EXPORT CK_RV
C_EncryptUpdate (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
                 CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return lh_op_call_data (hs, LH_OP_ENCRYPT, LH_STEP_UPDATE, in, in_len, out, out_len);
}

LH_EXPORT CK_RV
C_EncryptFinal (CK_SESSION_HANDLE hs, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return lh_op_call_data (hs, LH_OP_ENCRYPT, LH_STEP_FINAL, NULL, 0, out, out_len);
}

LH_EXPORT CK_RV
C_DecryptInit (CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	return lh_op_call_init (hs, LH_OP_DECRYPT, m, k);
}

LH_EXPORT CK_RV
C_Decrypt (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
           CK_ULONG_PTR out_len)
{
	return lh_op_call_data (hs, LH_OP_DECRYPT, LH_STEP_ONESHOT, in, in_len, out, out_len);
}

LH_EXPORT CK_RV
C_DecryptUpdate (CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
                 CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return lh_op_call_data (hs, LH_OP_DECRYPT, LH_STEP_UPDATE, in, in_len, out, out_len);
}

LH_EXPORT CK_RV
C_DecryptFinal (CK_SESSION_HANDLE hs, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return lh_op_call_data (hs, LH_OP_DECRYPT, LH_STEP_FINAL, NULL, 0, out, out_len);
}
