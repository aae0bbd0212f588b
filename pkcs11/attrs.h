/*
 * attrs.h - the attribute policy table: which attributes each object
 * class and key type has, their value kinds, defaults and rules.
 *
 * This is the spec's "common footnotes" table as data (PKCS#11 2.40
 * section 4.2, table 10, and the per-class tables).  Template checks,
 * C_GetAttributeValue's sensitivity rule, C_SetAttributeValue/C_CopyObject
 * and what store/ seals are each one lookup here.
 */
#ifndef LH_ATTRS_H
#define LH_ATTRS_H

#include "pkcs11/lh.h"

/* Object classes as bits, so one row can serve several. */
#define LH_C_DATA    0x01u
#define LH_C_CERT    0x02u
#define LH_C_PUB     0x04u
#define LH_C_PRIV    0x08u
#define LH_C_SECRET  0x10u
#define LH_C_KEY     (LH_C_PUB | LH_C_PRIV | LH_C_SECRET)
#define LH_C_ANY     (LH_C_DATA | LH_C_CERT | LH_C_KEY)

/* Value kinds, checked for length and content. */
enum {
	LH_K_BOOL,      /* CK_BBOOL, CK_TRUE or CK_FALSE */
	LH_K_ULONG,     /* CK_ULONG */
	LH_K_BYTES,     /* any bytes */
	LH_K_DATE,      /* CK_DATE (8 digits) or empty */
	LH_K_ATTRS,     /* CK_ATTRIBUTE array (CKF_ARRAY_ATTRIBUTE) */
	LH_K_MECHS,     /* CK_MECHANISM_TYPE array */
};

/* Rules (flags). */
#define LH_A_REQUIRED     0x0001u  /* must be in a C_CreateObject template */
#define LH_A_READONLY     0x0002u  /* only the token sets it */
#define LH_A_MODIFIABLE   0x0004u  /* C_SetAttributeValue may change it */
#define LH_A_COPY         0x0008u  /* C_CopyObject may change it */
#define LH_A_SENSITIVE    0x0010u  /* hidden when sensitive/unextractable */
#define LH_A_SEAL         0x0020u  /* sealed at rest even in public objects */
#define LH_A_STICKY_TRUE  0x0040u  /* once CK_TRUE, stays CK_TRUE */
#define LH_A_STICKY_FALSE 0x0080u  /* once CK_FALSE, stays CK_FALSE */
#define LH_A_SO_TRUE      0x0100u  /* only the SO may set it to CK_TRUE */
#define LH_A_DEFAULT      0x0200u  /* filled with def when absent */
#define LH_A_MATERIAL     0x0400u  /* key material: only C_CreateObject takes it */
#define LH_A_GENPARAM     0x0800u  /* says what to make: not in C_CreateObject */

#define LH_KT_ANY ((CK_KEY_TYPE)-1)

typedef struct {
	CK_ATTRIBUTE_TYPE type;
	unsigned classes;        /* LH_C_* */
	CK_KEY_TYPE key_type;    /* LH_KT_ANY or one key type */
	unsigned kind;           /* LH_K_* */
	unsigned flags;          /* LH_A_* */
	CK_ULONG def;            /* default of BOOL/ULONG; others default empty */
} lh_attr_rule;

/* The class bit for a CKO_ value; 0 if we do not support the class. */
unsigned lh_class_bit (CK_OBJECT_CLASS cls);

/* Is the key type one we store? */
bool lh_key_type_supported (CK_KEY_TYPE kt);

/* The rule for type in an object of class cls / key type kt, or NULL. */
const lh_attr_rule *lh_attr_rule_find (unsigned class_bit, CK_KEY_TYPE kt,
                                       CK_ATTRIBUTE_TYPE type);

/* Iterate all rules (for defaults and required checks). */
const lh_attr_rule *lh_attr_rules (size_t *n);

/* Does the rule apply to this class and key type? */
bool lh_attr_rule_applies (const lh_attr_rule *r, unsigned class_bit,
                           CK_KEY_TYPE kt);

#endif
