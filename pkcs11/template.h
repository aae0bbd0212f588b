/*
 * template.h - turning caller templates into checked attribute sets.
 *
 * Internal form: an lh_attrs sorted by type, values copied; array
 * attributes (CKA_WRAP_TEMPLATE, ...) serialized as a sequence of
 * type(8, little-endian) || length(8, LE) || value.
 */
#ifndef LH_TEMPLATE_H
#define LH_TEMPLATE_H

#include "pkcs11/state.h"

/*
 * Convert and check a template's shape only: NULL values, duplicate types
 * (CKR_TEMPLATE_INCONSISTENT), lengths of known kinds.  Used for search
 * templates, where any attribute may appear.
 */
CK_RV lh_template_parse (const CK_ATTRIBUTE *t, CK_ULONG n, lh_attrs *out);

/*
 * C_CreateObject: check a template against the policy table for the
 * logged-in user (LH_NOBODY, CKU_SO, CKU_USER), fill defaults and computed
 * attributes, and return the full attribute set.
 */
CK_RV lh_template_create (const CK_ATTRIBUTE *t, CK_ULONG n, CK_USER_TYPE user,
                          lh_attrs *out);

/*
 * C_SetAttributeValue (copy = false) and C_CopyObject (copy = true):
 * check that each attribute of t may change on an object with the
 * attributes cur, and return cur merged with t.
 */
CK_RV lh_template_merge (const lh_attrs *cur, const CK_ATTRIBUTE *t,
                         CK_ULONG n, CK_USER_TYPE user, bool copy,
                         lh_attrs *out);

/* Write one attribute of an object into a caller's CK_ATTRIBUTE, with the
 * length-query rules (array attributes included). */
CK_RV lh_template_get (const lh_sattr *a, CK_ATTRIBUTE *out);

/* Object class bit and key type of an attribute set. */
void lh_template_kind (const lh_attrs *a, unsigned *class_bit, CK_KEY_TYPE *kt);

#endif
