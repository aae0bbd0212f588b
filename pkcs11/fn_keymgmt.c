/*
 * fn_keymgmt.c - key management (PKCS#11 2.40 section 5.13):
 * C_GenerateKey, C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey.
 */
#include "pkcs11/lh.h"
#include "pkcs11/op.h"

LH_EXPORT CK_RV C_GenerateKey (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t,
                               CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{ return CKR_FUNCTION_NOT_SUPPORTED; }
LH_EXPORT CK_RV C_GenerateKeyPair (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pt,
                                   CK_ULONG pn, CK_ATTRIBUTE_PTR vt, CK_ULONG vn,
                                   CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv)
{ return CKR_FUNCTION_NOT_SUPPORTED; }
LH_EXPORT CK_RV C_WrapKey (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE w,
                           CK_OBJECT_HANDLE k, CK_BYTE_PTR o, CK_ULONG_PTR ol)
{ return CKR_FUNCTION_NOT_SUPPORTED; }
LH_EXPORT CK_RV C_UnwrapKey (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE u,
                             CK_BYTE_PTR i, CK_ULONG il, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                             CK_OBJECT_HANDLE_PTR k)
{ return CKR_FUNCTION_NOT_SUPPORTED; }
LH_EXPORT CK_RV C_DeriveKey (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE b,
                             CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{ return CKR_FUNCTION_NOT_SUPPORTED; }
