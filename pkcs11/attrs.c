/*
 * attrs.c - the attribute policy table.
 *
 * One row per (attribute, classes, key type).  Key-type specific rows come
 * after the generic ones; lh_attr_rule_find returns the first row that
 * applies, so keep specific rows for an attribute before any generic row
 * of the same attribute and classes.
 *
 * Key material (LH_A_MATERIAL) is taken only from C_CreateObject;
 * generation, unwrapping and derivation make it.  CKA_VALUE_LEN and
 * CKA_MODULUS_BITS (LH_A_GENPARAM) say what to make, so the spec forbids
 * them in C_CreateObject (footnote 2) and the token computes them there.
 *
 * Defaults are litehsm's choices where the spec says "token-specific":
 * keys are private, sensitive and unextractable unless the template says
 * otherwise, and usable for the plain operations of their class but not
 * for wrap, unwrap or derive, which must be asked for explicitly (the
 * strict key-usage policy builds on that).
 */
#include "pkcs11/lh.h"
#include "pkcs11/attrs.h"

#define T CK_TRUE
#define F CK_FALSE
#define ANY LH_KT_ANY
#define RO LH_A_READONLY
#define MOD LH_A_MODIFIABLE
#define CP LH_A_COPY
#define DEF LH_A_DEFAULT
#define REQ LH_A_REQUIRED
#define SENS (LH_A_SENSITIVE | LH_A_SEAL)
#define MAT LH_A_MATERIAL
#define GEN LH_A_GENPARAM

static const lh_attr_rule rules[] = {
	/* common to all objects (storage objects, spec table 23) */
	{ CKA_CLASS,          LH_C_ANY,    ANY, LH_K_ULONG, REQ, 0 },
	{ CKA_TOKEN,          LH_C_ANY,    ANY, LH_K_BOOL,  DEF | CP, F },
	{ CKA_PRIVATE,        LH_C_PRIV | LH_C_SECRET, ANY, LH_K_BOOL,
	                      DEF | CP | LH_A_STICKY_TRUE, T },
	{ CKA_PRIVATE,        LH_C_DATA | LH_C_CERT | LH_C_PUB, ANY, LH_K_BOOL, DEF | CP, F },
	{ CKA_MODIFIABLE,     LH_C_ANY,    ANY, LH_K_BOOL,  DEF | CP | LH_A_STICKY_FALSE, T },
	{ CKA_COPYABLE,       LH_C_ANY,    ANY, LH_K_BOOL,  DEF | CP | LH_A_STICKY_FALSE, T },
	{ CKA_DESTROYABLE,    LH_C_ANY,    ANY, LH_K_BOOL,  DEF | CP | LH_A_STICKY_FALSE, T },
	{ CKA_LABEL,          LH_C_ANY,    ANY, LH_K_BYTES, DEF | MOD, 0 },

	/* data objects (table 27) */
	{ CKA_APPLICATION,    LH_C_DATA,   ANY, LH_K_BYTES, DEF | MOD, 0 },
	{ CKA_OBJECT_ID,      LH_C_DATA,   ANY, LH_K_BYTES, DEF | MOD, 0 },
	{ CKA_VALUE,          LH_C_DATA,   ANY, LH_K_BYTES, DEF | MOD, 0 },

	/* certificates (tables 29, 31: X.509 public key certificates) */
	{ CKA_CERTIFICATE_TYPE, LH_C_CERT, ANY, LH_K_ULONG, REQ, 0 },
	{ CKA_TRUSTED,        LH_C_CERT,   ANY, LH_K_BOOL,  DEF | MOD | LH_A_SO_TRUE, F },
	{ CKA_CERTIFICATE_CATEGORY, LH_C_CERT, ANY, LH_K_ULONG, DEF | MOD, 0 },
	{ CKA_CHECK_VALUE,    LH_C_CERT,   ANY, LH_K_BYTES, 0, 0 },
	{ CKA_START_DATE,     LH_C_CERT | LH_C_KEY, ANY, LH_K_DATE, DEF | MOD, 0 },
	{ CKA_END_DATE,       LH_C_CERT | LH_C_KEY, ANY, LH_K_DATE, DEF | MOD, 0 },
	{ CKA_PUBLIC_KEY_INFO, LH_C_CERT | LH_C_PUB | LH_C_PRIV, ANY, LH_K_BYTES, DEF, 0 },
	{ CKA_SUBJECT,        LH_C_CERT,   ANY, LH_K_BYTES, REQ, 0 },
	{ CKA_ID,             LH_C_CERT | LH_C_KEY, ANY, LH_K_BYTES, DEF | MOD, 0 },
	{ CKA_ISSUER,         LH_C_CERT,   ANY, LH_K_BYTES, DEF | MOD, 0 },
	{ CKA_SERIAL_NUMBER,  LH_C_CERT,   ANY, LH_K_BYTES, DEF | MOD, 0 },
	{ CKA_VALUE,          LH_C_CERT,   ANY, LH_K_BYTES, REQ, 0 },
	{ CKA_URL,            LH_C_CERT,   ANY, LH_K_BYTES, DEF, 0 },
	{ CKA_HASH_OF_SUBJECT_PUBLIC_KEY, LH_C_CERT, ANY, LH_K_BYTES, DEF, 0 },
	{ CKA_HASH_OF_ISSUER_PUBLIC_KEY,  LH_C_CERT, ANY, LH_K_BYTES, DEF, 0 },
	{ CKA_JAVA_MIDP_SECURITY_DOMAIN,  LH_C_CERT, ANY, LH_K_ULONG, DEF, 0 },
	{ CKA_NAME_HASH_ALGORITHM,        LH_C_CERT, ANY, LH_K_ULONG, DEF, CKM_SHA_1 },

	/* all keys (table 33) */
	{ CKA_KEY_TYPE,       LH_C_KEY,    ANY, LH_K_ULONG, REQ, 0 },
	{ CKA_DERIVE,         LH_C_KEY,    ANY, LH_K_BOOL,  DEF | MOD, F },
	{ CKA_LOCAL,          LH_C_KEY,    ANY, LH_K_BOOL,  DEF | RO, F },
	{ CKA_KEY_GEN_MECHANISM, LH_C_KEY, ANY, LH_K_ULONG, DEF | RO, CK_UNAVAILABLE_INFORMATION },
	{ CKA_ALLOWED_MECHANISMS, LH_C_KEY, ANY, LH_K_MECHS, DEF, 0 },

	/* public keys (table 35) */
	{ CKA_SUBJECT,        LH_C_PUB | LH_C_PRIV, ANY, LH_K_BYTES, DEF | MOD, 0 },
	{ CKA_ENCRYPT,        LH_C_PUB | LH_C_SECRET, ANY, LH_K_BOOL, DEF | MOD, T },
	{ CKA_VERIFY,         LH_C_PUB | LH_C_SECRET, ANY, LH_K_BOOL, DEF | MOD, T },
	{ CKA_VERIFY_RECOVER, LH_C_PUB,    ANY, LH_K_BOOL,  DEF | MOD, F },
	{ CKA_WRAP,           LH_C_PUB | LH_C_SECRET, ANY, LH_K_BOOL, DEF | MOD, F },
	{ CKA_TRUSTED,        LH_C_PUB | LH_C_SECRET, ANY, LH_K_BOOL,
	                      DEF | MOD | LH_A_SO_TRUE, F },
	{ CKA_WRAP_TEMPLATE,  LH_C_PUB | LH_C_SECRET, ANY, LH_K_ATTRS, DEF, 0 },

	/* private keys (table 37) and secret keys (table 39) */
	{ CKA_SENSITIVE,      LH_C_PRIV | LH_C_SECRET, ANY, LH_K_BOOL,
	                      DEF | MOD | LH_A_STICKY_TRUE, T },
	{ CKA_DECRYPT,        LH_C_PRIV | LH_C_SECRET, ANY, LH_K_BOOL, DEF | MOD, T },
	{ CKA_SIGN,           LH_C_PRIV | LH_C_SECRET, ANY, LH_K_BOOL, DEF | MOD, T },
	{ CKA_SIGN_RECOVER,   LH_C_PRIV,   ANY, LH_K_BOOL,  DEF | MOD, F },
	{ CKA_UNWRAP,         LH_C_PRIV | LH_C_SECRET, ANY, LH_K_BOOL, DEF | MOD, F },
	{ CKA_EXTRACTABLE,    LH_C_PRIV | LH_C_SECRET, ANY, LH_K_BOOL,
	                      DEF | MOD | LH_A_STICKY_FALSE, F },
	{ CKA_ALWAYS_SENSITIVE, LH_C_PRIV | LH_C_SECRET, ANY, LH_K_BOOL, DEF | RO, F },
	{ CKA_NEVER_EXTRACTABLE, LH_C_PRIV | LH_C_SECRET, ANY, LH_K_BOOL, DEF | RO, F },
	{ CKA_WRAP_WITH_TRUSTED, LH_C_PRIV | LH_C_SECRET, ANY, LH_K_BOOL,
	                      DEF | MOD | LH_A_STICKY_TRUE, F },
	{ CKA_UNWRAP_TEMPLATE, LH_C_PRIV | LH_C_SECRET, ANY, LH_K_ATTRS, DEF, 0 },
	{ CKA_DERIVE_TEMPLATE, LH_C_PRIV | LH_C_SECRET, ANY, LH_K_ATTRS, DEF, 0 },
	{ CKA_ALWAYS_AUTHENTICATE, LH_C_PRIV, ANY, LH_K_BOOL, DEF, F },
	{ CKA_CHECK_VALUE,    LH_C_SECRET, ANY, LH_K_BYTES, 0, 0 },

	/* secret key values (tables 40, 41: generic secret, AES) */
	{ CKA_VALUE,          LH_C_SECRET, ANY, LH_K_BYTES, REQ | SENS | MAT, 0 },
	{ CKA_VALUE_LEN,      LH_C_SECRET, ANY, LH_K_ULONG, GEN, 0 },

	/* RSA (tables 2.x of the mechanisms spec) */
	{ CKA_MODULUS,        LH_C_PUB | LH_C_PRIV, CKK_RSA, LH_K_BYTES, REQ | MAT, 0 },
	{ CKA_MODULUS_BITS,   LH_C_PUB,    CKK_RSA, LH_K_ULONG, GEN, 0 },
	{ CKA_PUBLIC_EXPONENT, LH_C_PUB,   CKK_RSA, LH_K_BYTES, REQ, 0 },
	{ CKA_PUBLIC_EXPONENT, LH_C_PRIV,  CKK_RSA, LH_K_BYTES, DEF, 0 },
	{ CKA_PRIVATE_EXPONENT, LH_C_PRIV, CKK_RSA, LH_K_BYTES, REQ | SENS | MAT, 0 },
	{ CKA_PRIME_1,        LH_C_PRIV,   CKK_RSA, LH_K_BYTES, SENS | MAT, 0 },
	{ CKA_PRIME_2,        LH_C_PRIV,   CKK_RSA, LH_K_BYTES, SENS | MAT, 0 },
	{ CKA_EXPONENT_1,     LH_C_PRIV,   CKK_RSA, LH_K_BYTES, SENS | MAT, 0 },
	{ CKA_EXPONENT_2,     LH_C_PRIV,   CKK_RSA, LH_K_BYTES, SENS | MAT, 0 },
	{ CKA_COEFFICIENT,    LH_C_PRIV,   CKK_RSA, LH_K_BYTES, SENS | MAT, 0 },

	/* EC, Edwards and Montgomery keys */
	{ CKA_EC_PARAMS,      LH_C_PUB | LH_C_PRIV, CKK_EC, LH_K_BYTES, REQ, 0 },
	{ CKA_EC_POINT,       LH_C_PUB,    CKK_EC, LH_K_BYTES, REQ | MAT, 0 },
	{ CKA_VALUE,          LH_C_PRIV,   CKK_EC, LH_K_BYTES, REQ | SENS | MAT, 0 },
	{ CKA_EC_PARAMS,      LH_C_PUB | LH_C_PRIV, CKK_EC_EDWARDS, LH_K_BYTES, REQ, 0 },
	{ CKA_EC_POINT,       LH_C_PUB,    CKK_EC_EDWARDS, LH_K_BYTES, REQ | MAT, 0 },
	{ CKA_VALUE,          LH_C_PRIV,   CKK_EC_EDWARDS, LH_K_BYTES, REQ | SENS | MAT, 0 },
	{ CKA_EC_PARAMS,      LH_C_PUB | LH_C_PRIV, CKK_EC_MONTGOMERY, LH_K_BYTES, REQ, 0 },
	{ CKA_EC_POINT,       LH_C_PUB,    CKK_EC_MONTGOMERY, LH_K_BYTES, REQ | MAT, 0 },
	{ CKA_VALUE,          LH_C_PRIV,   CKK_EC_MONTGOMERY, LH_K_BYTES, REQ | SENS | MAT, 0 },
};

unsigned
lh_class_bit (CK_OBJECT_CLASS cls)
{
	switch (cls) {
	case CKO_DATA:        return LH_C_DATA;
	case CKO_CERTIFICATE: return LH_C_CERT;
	case CKO_PUBLIC_KEY:  return LH_C_PUB;
	case CKO_PRIVATE_KEY: return LH_C_PRIV;
	case CKO_SECRET_KEY:  return LH_C_SECRET;
	default:              return 0;
	}
}

bool
lh_key_type_supported (CK_KEY_TYPE kt)
{
	return kt == CKK_RSA || kt == CKK_EC || kt == CKK_EC_EDWARDS ||
	       kt == CKK_EC_MONTGOMERY || kt == CKK_AES || kt == CKK_GENERIC_SECRET;
}

bool
lh_attr_rule_applies (const lh_attr_rule *r, unsigned class_bit, CK_KEY_TYPE kt)
{
	return (r->classes & class_bit) &&
	       (r->key_type == LH_KT_ANY || r->key_type == kt);
}

const lh_attr_rule *
lh_attr_rule_find (unsigned class_bit, CK_KEY_TYPE kt, CK_ATTRIBUTE_TYPE type)
{
	size_t i;

	for (i = 0; i < LH_ARRAY_SIZE (rules); i++)
		if (rules[i].type == type && lh_attr_rule_applies (&rules[i], class_bit, kt))
			return &rules[i];
	return NULL;
}

const lh_attr_rule *
lh_attr_rules (size_t *n)
{
	*n = LH_ARRAY_SIZE (rules);
	return rules;
}
