/*
 * pkcs11_3.h - the PKCS#11 3.0 declarations that Debian 12's p11-kit
 * header (0.24, a 2.40 header) lacks.  Written from the constants and
 * prototypes published in the OASIS PKCS#11 3.0 base specification,
 * section 5 ("Functions") and 3.0's pkcs11f.h ordering of the function
 * list.  Everything is guarded so a newer system header wins.
 */
#ifndef LH_PKCS11_3_H
#define LH_PKCS11_3_H

#include <p11-kit/pkcs11.h>

#ifndef CKF_INTERFACE_FORK_SAFE
#define CKF_INTERFACE_FORK_SAFE 0x00000001UL
#endif

#ifndef CKF_END_OF_MESSAGE
#define CKF_END_OF_MESSAGE 0x00000001UL
#endif

#ifndef CKF_MESSAGE_ENCRYPT
#define CKF_MESSAGE_ENCRYPT 0x00000002UL
#define CKF_MESSAGE_DECRYPT 0x00000004UL
#define CKF_MESSAGE_SIGN    0x00000008UL
#define CKF_MESSAGE_VERIFY  0x00000010UL
#endif

#ifndef CKR_OPERATION_CANCEL_FAILED
#define CKR_OPERATION_CANCEL_FAILED 0x000001B2UL
#endif

#ifndef CKK_EC_MONTGOMERY
#define CKK_EC_MONTGOMERY 0x00000041UL
#endif

#ifndef CKM_EC_MONTGOMERY_KEY_PAIR_GEN
#define CKM_EC_MONTGOMERY_KEY_PAIR_GEN 0x00001056UL
#endif

#ifndef CKM_HKDF_DERIVE
#define CKM_HKDF_DERIVE 0x0000402aUL
#endif

/* 3.0 HKDF (section 2.43 of the 3.0 mechanisms spec) */
#ifndef CKK_HKDF
#define CKK_HKDF 0x00000042UL
#define CKM_HKDF_DATA 0x0000402bUL
#define CKM_HKDF_KEY_GEN 0x0000402cUL
#define CKF_HKDF_SALT_NULL 0x00000001UL
#define CKF_HKDF_SALT_DATA 0x00000002UL
#define CKF_HKDF_SALT_KEY 0x00000004UL
typedef struct CK_HKDF_PARAMS {
	CK_BBOOL bExtract;
	CK_BBOOL bExpand;
	CK_MECHANISM_TYPE prfHashMechanism;
	CK_ULONG ulSaltType;
	CK_BYTE *pSalt;
	CK_ULONG ulSaltLen;
	CK_OBJECT_HANDLE hSaltKey;
	CK_BYTE *pInfo;
	CK_ULONG ulInfoLen;
} CK_HKDF_PARAMS;
#endif

/* 3.0 EdDSA parameters (optional for CKM_EDDSA) */
#ifndef LH_HAVE_EDDSA_PARAMS
typedef struct CK_EDDSA_PARAMS {
	CK_BBOOL phFlag;
	CK_ULONG ulContextDataLen;
	CK_BYTE *pContextData;
} CK_EDDSA_PARAMS;
#endif

#ifndef CKA_UNIQUE_ID
#define CKA_UNIQUE_ID 0x0000000AUL
#endif

#if !defined(CRYPTOKI_VERSION_MAJOR) || CRYPTOKI_VERSION_MAJOR < 3

typedef struct CK_INTERFACE {
	CK_CHAR *pInterfaceName;
	CK_VOID_PTR pFunctionList;
	CK_FLAGS flags;
} CK_INTERFACE;
typedef CK_INTERFACE *CK_INTERFACE_PTR;
typedef CK_INTERFACE_PTR *CK_INTERFACE_PTR_PTR;

typedef struct CK_FUNCTION_LIST_3_0 CK_FUNCTION_LIST_3_0;
typedef CK_FUNCTION_LIST_3_0 *CK_FUNCTION_LIST_3_0_PTR;
typedef CK_FUNCTION_LIST_3_0_PTR *CK_FUNCTION_LIST_3_0_PTR_PTR;

#define LH_FN(name) CK_RV (*name)
struct CK_FUNCTION_LIST_3_0 {
	CK_VERSION version;
	/* 2.40 functions, in CK_FUNCTION_LIST order */
	LH_FN(C_Initialize) (void *);
	LH_FN(C_Finalize) (void *);
	LH_FN(C_GetInfo) (CK_INFO *);
	LH_FN(C_GetFunctionList) (CK_FUNCTION_LIST **);
	LH_FN(C_GetSlotList) (CK_BBOOL, CK_SLOT_ID *, CK_ULONG *);
	LH_FN(C_GetSlotInfo) (CK_SLOT_ID, CK_SLOT_INFO *);
	LH_FN(C_GetTokenInfo) (CK_SLOT_ID, CK_TOKEN_INFO *);
	LH_FN(C_GetMechanismList) (CK_SLOT_ID, CK_MECHANISM_TYPE *, CK_ULONG *);
	LH_FN(C_GetMechanismInfo) (CK_SLOT_ID, CK_MECHANISM_TYPE, CK_MECHANISM_INFO *);
	LH_FN(C_InitToken) (CK_SLOT_ID, unsigned char *, CK_ULONG, unsigned char *);
	LH_FN(C_InitPIN) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG);
	LH_FN(C_SetPIN) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG);
	LH_FN(C_OpenSession) (CK_SLOT_ID, CK_FLAGS, void *, CK_NOTIFY, CK_SESSION_HANDLE *);
	LH_FN(C_CloseSession) (CK_SESSION_HANDLE);
	LH_FN(C_CloseAllSessions) (CK_SLOT_ID);
	LH_FN(C_GetSessionInfo) (CK_SESSION_HANDLE, CK_SESSION_INFO *);
	LH_FN(C_GetOperationState) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG *);
	LH_FN(C_SetOperationState) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, CK_OBJECT_HANDLE, CK_OBJECT_HANDLE);
	LH_FN(C_Login) (CK_SESSION_HANDLE, CK_USER_TYPE, unsigned char *, CK_ULONG);
	LH_FN(C_Logout) (CK_SESSION_HANDLE);
	LH_FN(C_CreateObject) (CK_SESSION_HANDLE, CK_ATTRIBUTE *, CK_ULONG, CK_OBJECT_HANDLE *);
	LH_FN(C_CopyObject) (CK_SESSION_HANDLE, CK_OBJECT_HANDLE, CK_ATTRIBUTE *, CK_ULONG, CK_OBJECT_HANDLE *);
	LH_FN(C_DestroyObject) (CK_SESSION_HANDLE, CK_OBJECT_HANDLE);
	LH_FN(C_GetObjectSize) (CK_SESSION_HANDLE, CK_OBJECT_HANDLE, CK_ULONG *);
	LH_FN(C_GetAttributeValue) (CK_SESSION_HANDLE, CK_OBJECT_HANDLE, CK_ATTRIBUTE *, CK_ULONG);
	LH_FN(C_SetAttributeValue) (CK_SESSION_HANDLE, CK_OBJECT_HANDLE, CK_ATTRIBUTE *, CK_ULONG);
	LH_FN(C_FindObjectsInit) (CK_SESSION_HANDLE, CK_ATTRIBUTE *, CK_ULONG);
	LH_FN(C_FindObjects) (CK_SESSION_HANDLE, CK_OBJECT_HANDLE *, CK_ULONG, CK_ULONG *);
	LH_FN(C_FindObjectsFinal) (CK_SESSION_HANDLE);
	LH_FN(C_EncryptInit) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
	LH_FN(C_Encrypt) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_EncryptUpdate) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_EncryptFinal) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG *);
	LH_FN(C_DecryptInit) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
	LH_FN(C_Decrypt) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_DecryptUpdate) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_DecryptFinal) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG *);
	LH_FN(C_DigestInit) (CK_SESSION_HANDLE, CK_MECHANISM *);
	LH_FN(C_Digest) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_DigestUpdate) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG);
	LH_FN(C_DigestKey) (CK_SESSION_HANDLE, CK_OBJECT_HANDLE);
	LH_FN(C_DigestFinal) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG *);
	LH_FN(C_SignInit) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
	LH_FN(C_Sign) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_SignUpdate) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG);
	LH_FN(C_SignFinal) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG *);
	LH_FN(C_SignRecoverInit) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
	LH_FN(C_SignRecover) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_VerifyInit) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
	LH_FN(C_Verify) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG);
	LH_FN(C_VerifyUpdate) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG);
	LH_FN(C_VerifyFinal) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG);
	LH_FN(C_VerifyRecoverInit) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
	LH_FN(C_VerifyRecover) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_DigestEncryptUpdate) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_DecryptDigestUpdate) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_SignEncryptUpdate) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_DecryptVerifyUpdate) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_GenerateKey) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_ATTRIBUTE *, CK_ULONG, CK_OBJECT_HANDLE *);
	LH_FN(C_GenerateKeyPair) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_ATTRIBUTE *, CK_ULONG, CK_ATTRIBUTE *, CK_ULONG, CK_OBJECT_HANDLE *, CK_OBJECT_HANDLE *);
	LH_FN(C_WrapKey) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE, CK_OBJECT_HANDLE, unsigned char *, CK_ULONG *);
	LH_FN(C_UnwrapKey) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE, unsigned char *, CK_ULONG, CK_ATTRIBUTE *, CK_ULONG, CK_OBJECT_HANDLE *);
	LH_FN(C_DeriveKey) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE, CK_ATTRIBUTE *, CK_ULONG, CK_OBJECT_HANDLE *);
	LH_FN(C_SeedRandom) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG);
	LH_FN(C_GenerateRandom) (CK_SESSION_HANDLE, unsigned char *, CK_ULONG);
	LH_FN(C_GetFunctionStatus) (CK_SESSION_HANDLE);
	LH_FN(C_CancelFunction) (CK_SESSION_HANDLE);
	LH_FN(C_WaitForSlotEvent) (CK_FLAGS, CK_SLOT_ID *, void *);
	/* 3.0 additions */
	LH_FN(C_GetInterfaceList) (CK_INTERFACE *, CK_ULONG *);
	LH_FN(C_GetInterface) (CK_UTF8CHAR *, CK_VERSION *, CK_INTERFACE **, CK_FLAGS);
	LH_FN(C_LoginUser) (CK_SESSION_HANDLE, CK_USER_TYPE, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG);
	LH_FN(C_SessionCancel) (CK_SESSION_HANDLE, CK_FLAGS);
	LH_FN(C_MessageEncryptInit) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
	LH_FN(C_EncryptMessage) (CK_SESSION_HANDLE, void *, CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_EncryptMessageBegin) (CK_SESSION_HANDLE, void *, CK_ULONG, unsigned char *, CK_ULONG);
	LH_FN(C_EncryptMessageNext) (CK_SESSION_HANDLE, void *, CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *, CK_FLAGS);
	LH_FN(C_MessageEncryptFinal) (CK_SESSION_HANDLE);
	LH_FN(C_MessageDecryptInit) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
	LH_FN(C_DecryptMessage) (CK_SESSION_HANDLE, void *, CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_DecryptMessageBegin) (CK_SESSION_HANDLE, void *, CK_ULONG, unsigned char *, CK_ULONG);
	LH_FN(C_DecryptMessageNext) (CK_SESSION_HANDLE, void *, CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *, CK_FLAGS);
	LH_FN(C_MessageDecryptFinal) (CK_SESSION_HANDLE);
	LH_FN(C_MessageSignInit) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
	LH_FN(C_SignMessage) (CK_SESSION_HANDLE, void *, CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_SignMessageBegin) (CK_SESSION_HANDLE, void *, CK_ULONG);
	LH_FN(C_SignMessageNext) (CK_SESSION_HANDLE, void *, CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
	LH_FN(C_MessageSignFinal) (CK_SESSION_HANDLE);
	LH_FN(C_MessageVerifyInit) (CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
	LH_FN(C_VerifyMessage) (CK_SESSION_HANDLE, void *, CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG);
	LH_FN(C_VerifyMessageBegin) (CK_SESSION_HANDLE, void *, CK_ULONG);
	LH_FN(C_VerifyMessageNext) (CK_SESSION_HANDLE, void *, CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG);
	LH_FN(C_MessageVerifyFinal) (CK_SESSION_HANDLE);
};
#undef LH_FN

#endif /* CRYPTOKI_VERSION_MAJOR < 3 */

#endif /* LH_PKCS11_3_H */
