/*
 * mech_hmac.c - placeholder: the hmac family is being written.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"

const lh_family lh_hmac_family;
