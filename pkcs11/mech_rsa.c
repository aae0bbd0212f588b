/*
 * mech_rsa.c - placeholder: the rsa family is being written.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"

const lh_family lh_rsa_family;

CK_RV
lh_rsa_pkey (const lh_attrs *a, CK_OBJECT_CLASS cls, EVP_PKEY **out)
{
	return CKR_KEY_TYPE_INCONSISTENT;
}

CK_RV
lh_rsa_import (lh_attrs *attrs, CK_OBJECT_CLASS cls)
{
	return CKR_OK;
}

CK_RV
lh_rsa_attrs (EVP_PKEY *pkey, lh_attrs *pub, lh_attrs *priv)
{
	return CKR_FUNCTION_FAILED;
}
