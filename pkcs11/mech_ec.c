/*
 * mech_ec.c - placeholder: the ec family is being written.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"

const lh_family lh_ec_family;

CK_RV
lh_ec_pkey (const lh_attrs *a, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, EVP_PKEY **out)
{
	return CKR_KEY_TYPE_INCONSISTENT;
}

CK_RV
lh_ec_import (lh_attrs *attrs, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt)
{
	return CKR_OK;
}

CK_RV
lh_ec_attrs (EVP_PKEY *pkey, CK_KEY_TYPE kt, lh_attrs *pub, lh_attrs *priv)
{
	return CKR_FUNCTION_FAILED;
}
