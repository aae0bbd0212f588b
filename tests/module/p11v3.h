/*
 * p11v3.h - the few PKCS#11 3.0 types the module-API tests need.
 *
 * Debian 12's p11-kit header (0.24) is PKCS#11 2.40: it has no
 * CK_INTERFACE, CK_FUNCTION_LIST_3_0, C_GetInterfaceList or C_GetInterface.
 * The tests reach those through dlsym() and these declarations, written
 * from the published PKCS#11 3.0 base specification (section 3.6 and 5.4).
 * The tests deliberately do not share the module's own 3.0 header, so a
 * wrong layout on either side shows up as a failing test.
 *
 * A newer p11-kit that declares the 3.0 types defines
 * CKF_INTERFACE_FORK_SAFE; then its declarations are used instead.
 */
#ifndef LH_TEST_P11V3_H
#define LH_TEST_P11V3_H

#include <p11-kit/pkcs11.h>

#ifndef CKF_INTERFACE_FORK_SAFE

#define CKF_INTERFACE_FORK_SAFE 0x00000001UL

typedef struct CK_INTERFACE {
	CK_CHAR *pInterfaceName;     /* "PKCS 11" for the standard lists */
	CK_VOID_PTR pFunctionList;   /* starts with a CK_VERSION */
	CK_FLAGS flags;
} CK_INTERFACE;

typedef CK_INTERFACE *CK_INTERFACE_PTR;
typedef CK_INTERFACE_PTR *CK_INTERFACE_PTR_PTR;

typedef CK_RV (*CK_C_GetInterfaceList) (CK_INTERFACE_PTR pInterfacesList,
                                        CK_ULONG_PTR pulCount);
typedef CK_RV (*CK_C_GetInterface) (CK_UTF8CHAR_PTR pInterfaceName,
                                    CK_VERSION_PTR pVersion,
                                    CK_INTERFACE_PTR_PTR ppInterface,
                                    CK_FLAGS flags);
typedef CK_RV (*CK_C_LoginUser) (CK_SESSION_HANDLE hSession,
                                 CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
                                 CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername,
                                 CK_ULONG ulUsernameLen);
typedef CK_RV (*CK_C_SessionCancel) (CK_SESSION_HANDLE hSession,
                                     CK_FLAGS flags);
typedef CK_RV (*CK_C_MessageEncryptInit) (CK_SESSION_HANDLE hSession,
                                          CK_MECHANISM_PTR pMechanism,
                                          CK_OBJECT_HANDLE hKey);
typedef CK_RV (*CK_C_MessageDecryptInit) (CK_SESSION_HANDLE hSession,
                                          CK_MECHANISM_PTR pMechanism,
                                          CK_OBJECT_HANDLE hKey);
typedef CK_RV (*CK_C_MessageSignInit) (CK_SESSION_HANDLE hSession,
                                       CK_MECHANISM_PTR pMechanism,
                                       CK_OBJECT_HANDLE hKey);
typedef CK_RV (*CK_C_MessageVerifyInit) (CK_SESSION_HANDLE hSession,
                                         CK_MECHANISM_PTR pMechanism,
                                         CK_OBJECT_HANDLE hKey);
/* The message functions the tests never call keep an opaque type: only
 * their place in the table matters here. */
typedef CK_RV (*CK_C_Message_Opaque) (void);

/*
 * The 3.0 function list: the 2.40 list (same order) followed by the 3.0
 * additions.  Kept as a struct of its own rather than a CK_FUNCTION_LIST
 * plus tail, as in the specification's pkcs11f.h order.
 */
typedef struct CK_FUNCTION_LIST_3_0 {
	CK_VERSION version;
	CK_C_Initialize C_Initialize;
	CK_C_Finalize C_Finalize;
	CK_C_GetInfo C_GetInfo;
	CK_C_GetFunctionList C_GetFunctionList;
	CK_C_GetSlotList C_GetSlotList;
	CK_C_GetSlotInfo C_GetSlotInfo;
	CK_C_GetTokenInfo C_GetTokenInfo;
	CK_C_GetMechanismList C_GetMechanismList;
	CK_C_GetMechanismInfo C_GetMechanismInfo;
	CK_C_InitToken C_InitToken;
	CK_C_InitPIN C_InitPIN;
	CK_C_SetPIN C_SetPIN;
	CK_C_OpenSession C_OpenSession;
	CK_C_CloseSession C_CloseSession;
	CK_C_CloseAllSessions C_CloseAllSessions;
	CK_C_GetSessionInfo C_GetSessionInfo;
	CK_C_GetOperationState C_GetOperationState;
	CK_C_SetOperationState C_SetOperationState;
	CK_C_Login C_Login;
	CK_C_Logout C_Logout;
	CK_C_CreateObject C_CreateObject;
	CK_C_CopyObject C_CopyObject;
	CK_C_DestroyObject C_DestroyObject;
	CK_C_GetObjectSize C_GetObjectSize;
	CK_C_GetAttributeValue C_GetAttributeValue;
	CK_C_SetAttributeValue C_SetAttributeValue;
	CK_C_FindObjectsInit C_FindObjectsInit;
	CK_C_FindObjects C_FindObjects;
	CK_C_FindObjectsFinal C_FindObjectsFinal;
	CK_C_EncryptInit C_EncryptInit;
	CK_C_Encrypt C_Encrypt;
	CK_C_EncryptUpdate C_EncryptUpdate;
	CK_C_EncryptFinal C_EncryptFinal;
	CK_C_DecryptInit C_DecryptInit;
	CK_C_Decrypt C_Decrypt;
	CK_C_DecryptUpdate C_DecryptUpdate;
	CK_C_DecryptFinal C_DecryptFinal;
	CK_C_DigestInit C_DigestInit;
	CK_C_Digest C_Digest;
	CK_C_DigestUpdate C_DigestUpdate;
	CK_C_DigestKey C_DigestKey;
	CK_C_DigestFinal C_DigestFinal;
	CK_C_SignInit C_SignInit;
	CK_C_Sign C_Sign;
	CK_C_SignUpdate C_SignUpdate;
	CK_C_SignFinal C_SignFinal;
	CK_C_SignRecoverInit C_SignRecoverInit;
	CK_C_SignRecover C_SignRecover;
	CK_C_VerifyInit C_VerifyInit;
	CK_C_Verify C_Verify;
	CK_C_VerifyUpdate C_VerifyUpdate;
	CK_C_VerifyFinal C_VerifyFinal;
	CK_C_VerifyRecoverInit C_VerifyRecoverInit;
	CK_C_VerifyRecover C_VerifyRecover;
	CK_C_DigestEncryptUpdate C_DigestEncryptUpdate;
	CK_C_DecryptDigestUpdate C_DecryptDigestUpdate;
	CK_C_SignEncryptUpdate C_SignEncryptUpdate;
	CK_C_DecryptVerifyUpdate C_DecryptVerifyUpdate;
	CK_C_GenerateKey C_GenerateKey;
	CK_C_GenerateKeyPair C_GenerateKeyPair;
	CK_C_WrapKey C_WrapKey;
	CK_C_UnwrapKey C_UnwrapKey;
	CK_C_DeriveKey C_DeriveKey;
	CK_C_SeedRandom C_SeedRandom;
	CK_C_GenerateRandom C_GenerateRandom;
	CK_C_GetFunctionStatus C_GetFunctionStatus;
	CK_C_CancelFunction C_CancelFunction;
	CK_C_WaitForSlotEvent C_WaitForSlotEvent;
	/* PKCS#11 3.0 additions */
	CK_C_GetInterfaceList C_GetInterfaceList;
	CK_C_GetInterface C_GetInterface;
	CK_C_LoginUser C_LoginUser;
	CK_C_SessionCancel C_SessionCancel;
	CK_C_MessageEncryptInit C_MessageEncryptInit;
	CK_C_Message_Opaque C_EncryptMessage;
	CK_C_Message_Opaque C_EncryptMessageBegin;
	CK_C_Message_Opaque C_EncryptMessageNext;
	CK_C_Message_Opaque C_MessageEncryptFinal;
	CK_C_MessageDecryptInit C_MessageDecryptInit;
	CK_C_Message_Opaque C_DecryptMessage;
	CK_C_Message_Opaque C_DecryptMessageBegin;
	CK_C_Message_Opaque C_DecryptMessageNext;
	CK_C_Message_Opaque C_MessageDecryptFinal;
	CK_C_MessageSignInit C_MessageSignInit;
	CK_C_Message_Opaque C_SignMessage;
	CK_C_Message_Opaque C_SignMessageBegin;
	CK_C_Message_Opaque C_SignMessageNext;
	CK_C_Message_Opaque C_MessageSignFinal;
	CK_C_MessageVerifyInit C_MessageVerifyInit;
	CK_C_Message_Opaque C_VerifyMessage;
	CK_C_Message_Opaque C_VerifyMessageBegin;
	CK_C_Message_Opaque C_VerifyMessageNext;
	CK_C_Message_Opaque C_MessageVerifyFinal;
} CK_FUNCTION_LIST_3_0;

typedef CK_FUNCTION_LIST_3_0 *CK_FUNCTION_LIST_3_0_PTR;

#endif /* !CKF_INTERFACE_FORK_SAFE */

#endif /* LH_TEST_P11V3_H */
