/*
 * lh.h - what every file of the module includes: the PKCS#11 types (2.40
 * from p11-kit's header plus our 3.0 additions), the export macro and a few
 * helpers for the boundary between CK_ULONG and C sizes.
 */
#ifndef LH_H
#define LH_H

#include <config.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkcs11/pkcs11_3.h"

/* Entry points are the only symbols with default visibility. */
#define LH_EXPORT __attribute__ ((visibility ("default")))

#define LH_ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

/* The module's own version, reported in C_GetInfo and token info. */
#define LH_VERSION_MAJOR 0
#define LH_VERSION_MINOR 1

#define LH_MIN_PIN_LEN 4
#define LH_MAX_PIN_LEN 256

#endif /* LH_H */
