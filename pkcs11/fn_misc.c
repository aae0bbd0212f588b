/*
 * fn_misc.c - random numbers (PKCS#11 2.40 section 5.15), the legacy
 * parallel functions, and the entry points whose mechanisms litehsm does
 * not offer yet.  Those return CKR_FUNCTION_NOT_SUPPORTED, as the spec
 * allows, from both the 2.40 and the 3.0 function lists; the README says
 * which they are.
 */
#include "pkcs11/lh.h"
#include "pkcs11/fn.h"
#include "pkcs11/state.h"

#include <limits.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

LH_EXPORT CK_RV
C_GenerateRandom (CK_SESSION_HANDLE hs, CK_BYTE_PTR out, CK_ULONG len)
{
	lh_call call;
	CK_ULONG done = 0;
	size_t chunk;
	CK_RV rv;

	if (!out && len)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	while (rv == CKR_OK && done < len) {
		chunk = len - done > INT_MAX ? INT_MAX : (size_t)(len - done);
		if (RAND_bytes_ex (lh_g.libctx, out + done, chunk, 0) != 1)
			rv = CKR_FUNCTION_FAILED;
		done += chunk;
	}
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_SeedRandom (CK_SESSION_HANDLE hs, CK_BYTE_PTR seed, CK_ULONG len)
{
	EVP_RAND_CTX *primary;
	lh_call call;
	CK_RV rv;

	if (!seed && len)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	/*
	 * The seed is mixed in as additional input to a reseed of our
	 * private DRBG: it can add entropy, never replace the OS's.
	 */
	primary = RAND_get0_primary (lh_g.libctx);
	if (!primary || EVP_RAND_reseed (primary, 0, NULL, 0, seed, len) != 1)
		rv = CKR_FUNCTION_FAILED;
	return lh_call_leave (&call, rv);
}

/* SPEC: legacy functions: CKR_FUNCTION_NOT_PARALLEL */
LH_EXPORT CK_RV
C_GetFunctionStatus (CK_SESSION_HANDLE hs)
{
	return lh_state_ready () ? CKR_FUNCTION_NOT_PARALLEL : CKR_CRYPTOKI_NOT_INITIALIZED;
}

LH_EXPORT CK_RV
C_CancelFunction (CK_SESSION_HANDLE hs)
{
	return lh_state_ready () ? CKR_FUNCTION_NOT_PARALLEL : CKR_CRYPTOKI_NOT_INITIALIZED;
}

#define NOT_SUPPORTED { return CKR_FUNCTION_NOT_SUPPORTED; }
typedef CK_SESSION_HANDLE SH;
typedef CK_OBJECT_HANDLE OH;
typedef CK_BYTE_PTR B;
typedef CK_ULONG UL;
typedef CK_ULONG_PTR ULP;
typedef CK_MECHANISM_PTR MP;
typedef CK_ATTRIBUTE_PTR AP;

LH_EXPORT CK_RV C_DigestEncryptUpdate (SH s, B i, UL il, B o, ULP ol) NOT_SUPPORTED
LH_EXPORT CK_RV C_DecryptDigestUpdate (SH s, B i, UL il, B o, ULP ol) NOT_SUPPORTED
LH_EXPORT CK_RV C_SignEncryptUpdate (SH s, B i, UL il, B o, ULP ol) NOT_SUPPORTED
LH_EXPORT CK_RV C_DecryptVerifyUpdate (SH s, B i, UL il, B o, ULP ol) NOT_SUPPORTED
/* 3.0 message-based functions (section 5.13-5.16 of 3.0). */
CK_RV lh_C_MessageInit (SH s, CK_MECHANISM *m, OH k) NOT_SUPPORTED
CK_RV lh_C_CryptMessage (SH s, void *p, UL pl, B ad, UL adl, B i, UL il, B o, ULP ol)
	NOT_SUPPORTED
CK_RV lh_C_CryptMessageBegin (SH s, void *p, UL pl, B ad, UL adl) NOT_SUPPORTED
CK_RV lh_C_CryptMessageNext (SH s, void *p, UL pl, B i, UL il, B o, ULP ol,
                             CK_FLAGS f) NOT_SUPPORTED
CK_RV lh_C_MessageFinal (SH s) NOT_SUPPORTED
CK_RV lh_C_SignMessage (SH s, void *p, UL pl, B d, UL dl, B sig, ULP sl) NOT_SUPPORTED
CK_RV lh_C_SignMessageBegin (SH s, void *p, UL pl) NOT_SUPPORTED
CK_RV lh_C_VerifyMessage (SH s, void *p, UL pl, B d, UL dl, B sig, UL sl) NOT_SUPPORTED
