/*
 * mech_digest.c - placeholder: the digest family is being written.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"

const lh_family lh_digest_family;
