/*
 * mech_aes.c - placeholder: the aes family is being written.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"

const lh_family lh_aes_family;
