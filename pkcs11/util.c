/*
 * util.c - padded strings and the length-query convention.
 */
#include "pkcs11/lh.h"
#include "pkcs11/util.h"

#include <string.h>

void
lh_pad (unsigned char *field, size_t len, const char *s)
{
	size_t n = strlen (s);

	if (n > len)
		n = len;
	memset (field, ' ', len);
	memcpy (field, s, n);
}

CK_RV
lh_output (const void *data, size_t len, unsigned char *out, CK_ULONG *out_len)
{
	/* SPEC: 5.2 "Returning output": NULL buffer -> length, CKR_OK */
	if (!out) {
		*out_len = len;
		return CKR_OK;
	}
	/* SPEC: short buffer -> CKR_BUFFER_TOO_SMALL and the needed length */
	if (*out_len < len) {
		*out_len = len;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (len)
		memcpy (out, data, len);
	*out_len = len;
	return CKR_OK;
}
