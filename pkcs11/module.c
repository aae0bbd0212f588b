/*
 * module.c - the function-list tables and the ways to get them:
 * C_GetFunctionList (2.40) and C_GetInterfaceList / C_GetInterface (3.0).
 *
 * Both lists are truthful: a function litehsm does not implement returns
 * CKR_FUNCTION_NOT_SUPPORTED from either list.  The lists are const data;
 * nothing here needs C_Initialize.
 */
#include "pkcs11/lh.h"
#include "pkcs11/fn.h"

#include <string.h>

#define LH_240_FUNCTIONS \
	.C_Finalize = C_Finalize, \
	.C_GetFunctionList = C_GetFunctionList, \
	.C_GetSlotList = C_GetSlotList, \
	.C_GetSlotInfo = C_GetSlotInfo, \
	.C_GetTokenInfo = C_GetTokenInfo, \
	.C_GetMechanismList = C_GetMechanismList, \
	.C_GetMechanismInfo = C_GetMechanismInfo, \
	.C_InitToken = C_InitToken, \
	.C_InitPIN = C_InitPIN, \
	.C_SetPIN = C_SetPIN, \
	.C_OpenSession = C_OpenSession, \
	.C_CloseSession = C_CloseSession, \
	.C_CloseAllSessions = C_CloseAllSessions, \
	.C_GetSessionInfo = C_GetSessionInfo, \
	.C_GetOperationState = C_GetOperationState, \
	.C_SetOperationState = C_SetOperationState, \
	.C_Login = C_Login, \
	.C_Logout = C_Logout, \
	.C_CreateObject = C_CreateObject, \
	.C_CopyObject = C_CopyObject, \
	.C_DestroyObject = C_DestroyObject, \
	.C_GetObjectSize = C_GetObjectSize, \
	.C_GetAttributeValue = C_GetAttributeValue, \
	.C_SetAttributeValue = C_SetAttributeValue, \
	.C_FindObjectsInit = C_FindObjectsInit, \
	.C_FindObjects = C_FindObjects, \
	.C_FindObjectsFinal = C_FindObjectsFinal, \
	.C_EncryptInit = C_EncryptInit, \
	.C_Encrypt = C_Encrypt, \
	.C_EncryptUpdate = C_EncryptUpdate, \
	.C_EncryptFinal = C_EncryptFinal, \
	.C_DecryptInit = C_DecryptInit, \
	.C_Decrypt = C_Decrypt, \
	.C_DecryptUpdate = C_DecryptUpdate, \
	.C_DecryptFinal = C_DecryptFinal, \
	.C_DigestInit = C_DigestInit, \
	.C_Digest = C_Digest, \
	.C_DigestUpdate = C_DigestUpdate, \
	.C_DigestKey = C_DigestKey, \
	.C_DigestFinal = C_DigestFinal, \
	.C_SignInit = C_SignInit, \
	.C_Sign = C_Sign, \
	.C_SignUpdate = C_SignUpdate, \
	.C_SignFinal = C_SignFinal, \
	.C_SignRecoverInit = C_SignRecoverInit, \
	.C_SignRecover = C_SignRecover, \
	.C_VerifyInit = C_VerifyInit, \
	.C_Verify = C_Verify, \
	.C_VerifyUpdate = C_VerifyUpdate, \
	.C_VerifyFinal = C_VerifyFinal, \
	.C_VerifyRecoverInit = C_VerifyRecoverInit, \
	.C_VerifyRecover = C_VerifyRecover, \
	.C_DigestEncryptUpdate = C_DigestEncryptUpdate, \
	.C_DecryptDigestUpdate = C_DecryptDigestUpdate, \
	.C_SignEncryptUpdate = C_SignEncryptUpdate, \
	.C_DecryptVerifyUpdate = C_DecryptVerifyUpdate, \
	.C_GenerateKey = C_GenerateKey, \
	.C_GenerateKeyPair = C_GenerateKeyPair, \
	.C_WrapKey = C_WrapKey, \
	.C_UnwrapKey = C_UnwrapKey, \
	.C_DeriveKey = C_DeriveKey, \
	.C_SeedRandom = C_SeedRandom, \
	.C_GenerateRandom = C_GenerateRandom, \
	.C_GetFunctionStatus = C_GetFunctionStatus, \
	.C_CancelFunction = C_CancelFunction, \
	.C_WaitForSlotEvent = C_WaitForSlotEvent

static CK_FUNCTION_LIST list_240 = {
	.version = { 2, 40 },
	.C_Initialize = C_Initialize,
	.C_GetInfo = C_GetInfo,
	LH_240_FUNCTIONS,
};

static CK_FUNCTION_LIST_3_0 list_30 = {
	.version = { 3, 0 },
	.C_Initialize = C_Initialize,
	.C_GetInfo = lh_C_GetInfo_30,
	LH_240_FUNCTIONS,
	.C_GetInterfaceList = C_GetInterfaceList,
	.C_GetInterface = C_GetInterface,
	.C_LoginUser = lh_C_LoginUser,
	.C_SessionCancel = lh_C_SessionCancel,
	.C_MessageEncryptInit = lh_C_MessageInit,
	.C_EncryptMessage = lh_C_CryptMessage,
	.C_EncryptMessageBegin = lh_C_CryptMessageBegin,
	.C_EncryptMessageNext = lh_C_CryptMessageNext,
	.C_MessageEncryptFinal = lh_C_MessageFinal,
	.C_MessageDecryptInit = lh_C_MessageInit,
	.C_DecryptMessage = lh_C_CryptMessage,
	.C_DecryptMessageBegin = lh_C_CryptMessageBegin,
	.C_DecryptMessageNext = lh_C_CryptMessageNext,
	.C_MessageDecryptFinal = lh_C_MessageFinal,
	.C_MessageSignInit = lh_C_MessageInit,
	.C_SignMessage = lh_C_SignMessage,
	.C_SignMessageBegin = lh_C_SignMessageBegin,
	.C_SignMessageNext = lh_C_SignMessage,
	.C_MessageSignFinal = lh_C_MessageFinal,
	.C_MessageVerifyInit = lh_C_MessageInit,
	.C_VerifyMessage = lh_C_VerifyMessage,
	.C_VerifyMessageBegin = lh_C_SignMessageBegin,
	.C_VerifyMessageNext = lh_C_VerifyMessage,
	.C_MessageVerifyFinal = lh_C_MessageFinal,
};

static CK_INTERFACE interfaces[] = {
	/* the newest first: C_GetInterface (NULL name) returns it.  Not
	 * CKF_INTERFACE_FORK_SAFE: a forked child must call C_Initialize. */
	{ (CK_CHAR *)"PKCS 11", &list_30, 0 },
	{ (CK_CHAR *)"PKCS 11", &list_240, 0 },
};

LH_EXPORT CK_RV
C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR out)
{
	if (!out)
		return CKR_ARGUMENTS_BAD;
	*out = &list_240;
	return CKR_OK;
}

LH_EXPORT CK_RV
C_GetInterfaceList (CK_INTERFACE *list, CK_ULONG *count)
{
	size_t n = LH_ARRAY_SIZE (interfaces);

	if (!count)
		return CKR_ARGUMENTS_BAD;
	if (!list) {
		*count = n;
		return CKR_OK;
	}
	if (*count < n) {
		*count = n;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy (list, interfaces, sizeof interfaces);
	*count = n;
	return CKR_OK;
}

static const CK_VERSION *
iface_version (const CK_INTERFACE *i)
{
	return (const CK_VERSION *)i->pFunctionList;   /* version leads both lists */
}

LH_EXPORT CK_RV
C_GetInterface (CK_UTF8CHAR *name, CK_VERSION *version, CK_INTERFACE **iface,
                CK_FLAGS flags)
{
	const CK_VERSION *v;
	size_t i;

	if (!iface)
		return CKR_ARGUMENTS_BAD;
	for (i = 0; i < LH_ARRAY_SIZE (interfaces); i++) {
		v = iface_version (&interfaces[i]);
		if (name && strcmp ((const char *)name,
		                    (const char *)interfaces[i].pInterfaceName) != 0)
			continue;
		if (version && (version->major != v->major || version->minor != v->minor))
			continue;
		/* SPEC: 3.0 C_GetInterface: flags the interface must have */
		if ((interfaces[i].flags & flags) != flags)
			continue;
		*iface = &interfaces[i];
		return CKR_OK;
	}
	return CKR_ARGUMENTS_BAD;
}
