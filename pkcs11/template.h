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

/* Where a new object comes from. */
typedef enum {
	LH_ORIGIN_CREATE,       /* C_CreateObject: material given */
	LH_ORIGIN_GENERATE,     /* C_GenerateKey(Pair): made in the token */
	LH_ORIGIN_UNWRAP,       /* C_UnwrapKey */
	LH_ORIGIN_DERIVE,       /* C_DeriveKey */
} lh_origin;

/*
 * First half of making a key: check template t for origin, with the class
 * and key type the function implies (-1 / LH_KT_ANY: none implied, the
 * template must say).  Key material is not there yet.
 */
CK_RV lh_template_check (const CK_ATTRIBUTE *t, CK_ULONG n, CK_USER_TYPE user,
                         lh_origin origin, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
                         lh_attrs *out);

/* Merge a key's CKA_UNWRAP_TEMPLATE / CKA_DERIVE_TEMPLATE into a new
 * key's attributes.  CKR_TEMPLATE_INCONSISTENT on a conflict. */
CK_RV lh_template_merge_inner (lh_attrs *a, const lh_sattr *tmpl,
                               CK_USER_TYPE user, lh_origin origin);

/*
 * Second half: the material is in; add computed attributes, defaults and
 * the origin attributes (CKA_LOCAL, CKA_KEY_GEN_MECHANISM,
 * CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE; base: the derive base key's
 * attributes), and apply the strict policy.
 */
CK_RV lh_template_finish (lh_attrs *a, lh_origin origin, CK_MECHANISM_TYPE mech,
                          const lh_attrs *base);

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
