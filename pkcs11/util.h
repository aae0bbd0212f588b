/*
 * util.h - small helpers for the PKCS#11 boundary.
 */
#ifndef LH_UTIL_H
#define LH_UTIL_H

#include "pkcs11/lh.h"

/* Copy s into a blank-padded, unterminated field of len bytes. */
void lh_pad (unsigned char *field, size_t len, const char *s);

/*
 * The length-query convention, once: with out NULL, report the size and
 * return CKR_OK; with *out_len too small, report the size and return
 * CKR_BUFFER_TOO_SMALL (the caller keeps its operation alive); else copy.
 */
CK_RV lh_output (const void *data, size_t len, unsigned char *out,
                 CK_ULONG *out_len);

#endif
