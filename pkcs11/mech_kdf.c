/*
 * mech_kdf.c - placeholder: the kdf family is being written.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"

const lh_family lh_kdf_family;
