/*
 * template.c - caller templates to checked attribute sets, and back.
 *
 * Every check here is a lookup in the policy table (attrs.c); this file
 * only applies the rules in the order the spec gives its error codes.
 * This is a fuzz target: lengths and pointers from the caller are
 * checked before anything is read.
 */
#include "pkcs11/lh.h"
#include "pkcs11/template.h"
#include "pkcs11/attrs.h"
#include "pkcs11/object.h"
#include "pkcs11/mech.h"
#include "pkcs11/policy.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

static bool
is_template_attr (CK_ATTRIBUTE_TYPE t)
{
	return t == CKA_WRAP_TEMPLATE || t == CKA_UNWRAP_TEMPLATE ||
	       t == CKA_DERIVE_TEMPLATE;
}

static void
put_u64 (uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_u64 (const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Serialize a nested template (CKA_WRAP_TEMPLATE etc.). */
static CK_RV
serialize_template (const CK_ATTRIBUTE *in, CK_ULONG len, lh_sattr *out)
{
	const CK_ATTRIBUTE *t = in;
	size_t n, i, total = 0, off = 0;
	uint8_t *buf;

	if (len % sizeof (CK_ATTRIBUTE) != 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	n = len / sizeof (CK_ATTRIBUTE);
	for (i = 0; i < n; i++) {
		if ((t[i].type & CKF_ARRAY_ATTRIBUTE) && is_template_attr (t[i].type))
			return CKR_ATTRIBUTE_VALUE_INVALID;   /* no nesting */
		if (t[i].ulValueLen > (1u << 20) || (!t[i].pValue && t[i].ulValueLen))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		total += 16 + t[i].ulValueLen;
	}
	buf = total ? OPENSSL_malloc (total) : NULL;
	if (total && !buf)
		return CKR_HOST_MEMORY;
	for (i = 0; i < n; i++) {
		put_u64 (buf + off, t[i].type);
		put_u64 (buf + off + 8, t[i].ulValueLen);
		if (t[i].ulValueLen)
			memcpy (buf + off + 16, t[i].pValue, t[i].ulValueLen);
		off += 16 + t[i].ulValueLen;
	}
	out->value = buf;
	out->len = total;
	return CKR_OK;
}

static int
cmp_sattr (const void *a, const void *b)
{
	CK_ATTRIBUTE_TYPE x = ((const lh_sattr *)a)->type, y = ((const lh_sattr *)b)->type;

	return x < y ? -1 : x > y;
}

static void
sort_attrs (lh_attrs *a)
{
	if (a->n > 1)
		qsort (a->a, a->n, sizeof *a->a, cmp_sattr);
}

CK_RV
lh_template_parse (const CK_ATTRIBUTE *t, CK_ULONG n, lh_attrs *out)
{
	lh_sattr *a;
	CK_ULONG i;
	CK_RV rv;

	memset (out, 0, sizeof *out);
	if (n && !t)
		return CKR_ARGUMENTS_BAD;
	if (n > 4096)
		return CKR_TEMPLATE_INCONSISTENT;
	if (n == 0)
		return CKR_OK;
	out->a = a = calloc (n, sizeof *a);
	if (!a)
		return CKR_HOST_MEMORY;
	for (i = 0; i < n; i++) {
		a[i].type = t[i].type;
		if (t[i].ulValueLen == CK_UNAVAILABLE_INFORMATION ||
		    t[i].ulValueLen > (1u << 24) || (!t[i].pValue && t[i].ulValueLen)) {
			rv = CKR_ATTRIBUTE_VALUE_INVALID;
			goto fail;
		}
		out->n = i + 1;
		if (is_template_attr (t[i].type)) {
			if ((rv = serialize_template (t[i].pValue, t[i].ulValueLen,
			                              &a[i])) != CKR_OK)
				goto fail;
			continue;
		}
		a[i].len = t[i].ulValueLen;
		if (a[i].len) {
			if (!(a[i].value = OPENSSL_malloc (a[i].len))) {
				rv = CKR_HOST_MEMORY;
				goto fail;
			}
			memcpy (a[i].value, t[i].pValue, a[i].len);
		}
	}
	sort_attrs (out);
	for (i = 1; i < n; i++) {
		/* SPEC: 4.1.1: an attribute given twice is inconsistent */
		if (a[i].type == a[i - 1].type) {
			rv = CKR_TEMPLATE_INCONSISTENT;
			goto fail;
		}
	}
	return CKR_OK;
fail:
	lh_attrs_free (out);
	return rv;
}

void
lh_template_kind (const lh_attrs *a, unsigned *class_bit, CK_KEY_TYPE *kt)
{
	CK_ULONG v;

	*class_bit = lh_attrs_ulong (a, CKA_CLASS, &v) ? lh_class_bit (v) : 0;
	*kt = lh_attrs_ulong (a, CKA_KEY_TYPE, &v) ? v : LH_KT_ANY;
}

/* Value shape of one attribute against its kind. */
static CK_RV
check_kind (const lh_attr_rule *r, const lh_sattr *a)
{
	const uint8_t *v = a->value;
	size_t i;

	switch (r->kind) {
	case LH_K_BOOL:
		if (a->len != sizeof (CK_BBOOL) || (v[0] != CK_TRUE && v[0] != CK_FALSE))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		break;
	case LH_K_ULONG:
		if (a->len != sizeof (CK_ULONG))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		break;
	case LH_K_DATE:
		if (a->len != 0 && a->len != sizeof (CK_DATE))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		for (i = 0; i < a->len; i++)
			if (v[i] < '0' || v[i] > '9')
				return CKR_ATTRIBUTE_VALUE_INVALID;
		break;
	case LH_K_MECHS:
		if (a->len % sizeof (CK_MECHANISM_TYPE) != 0)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		break;
	default:
		break;
	}
	return CKR_OK;
}

static bool
sattr_true (const lh_sattr *a)
{
	return a->len == 1 && ((const uint8_t *)a->value)[0] == CK_TRUE;
}

/* Append (type, value) to a, taking ownership of value. */
static CK_RV
append (lh_attrs *a, CK_ATTRIBUTE_TYPE type, void *value, size_t len)
{
	lh_sattr *grown = realloc (a->a, (a->n + 1) * sizeof *grown);

	if (!grown) {
		OPENSSL_clear_free (value, len);
		return CKR_HOST_MEMORY;
	}
	a->a = grown;
	a->a[a->n++] = (lh_sattr){ type, value, len, 0 };
	return CKR_OK;
}

static CK_RV
append_copy (lh_attrs *a, CK_ATTRIBUTE_TYPE type, const void *value, size_t len)
{
	void *v = NULL;

	if (len && !(v = OPENSSL_malloc (len)))
		return CKR_HOST_MEMORY;
	if (len)
		memcpy (v, value, len);
	return append (a, type, v, len);
}

static CK_RV
append_ulong (lh_attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	return append_copy (a, type, &v, sizeof v);
}

/* DER of an X.509 name/integer into a new attribute. */
static CK_RV
append_der (lh_attrs *a, CK_ATTRIBUTE_TYPE type, int len, unsigned char *der)
{
	CK_RV rv;

	if (len <= 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	rv = append_copy (a, type, der, (size_t)len);
	OPENSSL_free (der);
	return rv;
}

/*
 * X.509 certificates: CKA_ISSUER, CKA_SERIAL_NUMBER and CKA_PUBLIC_KEY_INFO
 * are taken from the certificate when the template leaves them out, so
 * searches by issuer and serial work for every client.  CKA_SUBJECT stays
 * required, as the spec says.  A CKA_VALUE that is not a certificate is
 * refused.
 */
static CK_RV
fill_certificate (lh_attrs *a)
{
	const lh_sattr *v = lh_attrs_get (a, CKA_VALUE);
	const unsigned char *p;
	unsigned char *der;
	X509 *x = NULL;
	int len;
	CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;

	if (!v)
		return CKR_TEMPLATE_INCOMPLETE;
	p = v->value;
	x = X509_new_ex (lh_g.libctx, NULL);
	if (!x || !p || !d2i_X509 (&x, &p, (long)v->len) ||
	    p != (const unsigned char *)v->value + v->len)
		goto out;
	rv = CKR_OK;
	if (!lh_attrs_get (a, CKA_ISSUER)) {
		der = NULL;
		len = i2d_X509_NAME (X509_get_issuer_name (x), &der);
		rv = append_der (a, CKA_ISSUER, len, der);
	}
	if (rv == CKR_OK && !lh_attrs_get (a, CKA_SERIAL_NUMBER)) {
		der = NULL;
		len = i2d_ASN1_INTEGER (X509_get0_serialNumber (x), &der);
		rv = append_der (a, CKA_SERIAL_NUMBER, len, der);
	}
	if (rv == CKR_OK && !lh_attrs_get (a, CKA_PUBLIC_KEY_INFO)) {
		der = NULL;
		len = i2d_X509_PUBKEY (X509_get_X509_PUBKEY (x), &der);
		rv = append_der (a, CKA_PUBLIC_KEY_INFO, len, der);
	}
	sort_attrs (a);
out:
	X509_free (x);
	return rv;
}

/* Attributes computed from others, and per-key-type value checks. */
static CK_RV
fill_computed (lh_attrs *a, unsigned cls, CK_KEY_TYPE kt)
{
	const lh_sattr *v, *m;
	CK_ULONG given, bits;
	CK_RV rv = CKR_OK;
	size_t i;

	if (cls == LH_C_CERT)
		return fill_certificate (a);
	if (cls == LH_C_SECRET && (v = lh_attrs_get (a, CKA_VALUE))) {
		if (kt == CKK_AES && v->len != 16 && v->len != 24 && v->len != 32)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		if (v->len == 0)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		if (lh_attrs_ulong (a, CKA_VALUE_LEN, &given))
			return given == v->len ? CKR_OK : CKR_TEMPLATE_INCONSISTENT;
		rv = append_ulong (a, CKA_VALUE_LEN, v->len);
	}
	if (cls == LH_C_PUB && kt == CKK_RSA && (m = lh_attrs_get (a, CKA_MODULUS))) {
		const uint8_t *p = m->value;

		for (i = 0; i < m->len && p[i] == 0; i++)
			;
		bits = 0;
		if (i < m->len) {
			bits = (CK_ULONG)(m->len - i - 1) * 8;
			for (uint8_t top = p[i]; top; top >>= 1)
				bits++;
		}
		if (lh_attrs_ulong (a, CKA_MODULUS_BITS, &given))
			return given == bits ? CKR_OK : CKR_TEMPLATE_INCONSISTENT;
		rv = append_ulong (a, CKA_MODULUS_BITS, bits);
	}
	sort_attrs (a);
	return rv;
}

/* Required attributes present, defaults filled. */
static CK_RV
fill_defaults (lh_attrs *a, unsigned cls, CK_KEY_TYPE kt)
{
	const lh_attr_rule *rules, *r;
	size_t n, i;
	CK_BBOOL b;
	CK_RV rv;

	rules = lh_attr_rules (&n);
	for (i = 0; i < n; i++) {
		r = &rules[i];
		/* only the first row that applies to a type counts */
		if (!lh_attr_rule_applies (r, cls, kt) ||
		    lh_attr_rule_find (cls, kt, r->type) != r ||
		    lh_attrs_get (a, r->type))
			continue;
		if (r->flags & LH_A_REQUIRED)
			return CKR_TEMPLATE_INCOMPLETE;
		if (!(r->flags & LH_A_DEFAULT))
			continue;
		if (r->kind == LH_K_BOOL) {
			b = (CK_BBOOL)r->def;
			/* a key asked to wrap (unwrap) does not also decrypt
			 * (encrypt) unless the template says so */
			if (r->type == CKA_DECRYPT && (lh_attrs_bool (a, CKA_WRAP, false) ||
			    (cls == LH_C_PRIV && lh_attrs_bool (a, CKA_UNWRAP, false))))
				b = CK_FALSE;
			if (r->type == CKA_ENCRYPT && lh_attrs_bool (a, CKA_UNWRAP, false))
				b = CK_FALSE;
			rv = append_copy (a, r->type, &b, 1);
		} else if (r->kind == LH_K_ULONG) {
			rv = append_ulong (a, r->type, r->def);
		} else {
			rv = append (a, r->type, NULL, 0);
		}
		if (rv != CKR_OK)
			return rv;
		sort_attrs (a);     /* lh_attrs_get bisects: keep a sorted */
	}
	return CKR_OK;
}

/* Check one attribute of a new object's template against its rule. */
static CK_RV
check_new (const lh_sattr *a, unsigned cls, CK_KEY_TYPE kt, CK_USER_TYPE user,
           lh_origin origin)
{
	const lh_attr_rule *r = lh_attr_rule_find (cls, kt, a->type);
	CK_RV rv;

	if (!r)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	if ((rv = check_kind (r, a)) != CKR_OK)
		return rv;
	/* SPEC: 4.1.1: read-only attributes in a template */
	if (r->flags & LH_A_READONLY)
		return CKR_ATTRIBUTE_READ_ONLY;
	/* SPEC: footnote 2 (not in C_CreateObject), 4 and 6 (only there) */
	if ((r->flags & LH_A_GENPARAM) && origin == LH_ORIGIN_CREATE)
		return CKR_ATTRIBUTE_READ_ONLY;
	if ((r->flags & LH_A_MATERIAL) && origin != LH_ORIGIN_CREATE)
		return CKR_ATTRIBUTE_READ_ONLY;
	if ((r->flags & LH_A_SO_TRUE) && user != CKU_SO && sattr_true (a))
		return CKR_ATTRIBUTE_READ_ONLY;
	return CKR_OK;
}

/* The class (and key type) of a new object: given, or implied by the
 * function; both must agree.  */
static CK_RV
new_kind (lh_attrs *a, CK_OBJECT_CLASS icls, CK_KEY_TYPE ikt, unsigned *cls,
          CK_KEY_TYPE *kt)
{
	CK_ULONG v;
	CK_RV rv;

	if (!lh_attrs_get (a, CKA_CLASS)) {
		if (icls == (CK_OBJECT_CLASS)-1)
			return CKR_TEMPLATE_INCOMPLETE;
		if ((rv = append_ulong (a, CKA_CLASS, icls)) != CKR_OK)
			return rv;
		sort_attrs (a);
	}
	if (!lh_attrs_ulong (a, CKA_CLASS, &v) || !(*cls = lh_class_bit (v)))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (icls != (CK_OBJECT_CLASS)-1 && v != icls)
		return CKR_TEMPLATE_INCONSISTENT;
	*kt = LH_KT_ANY;
	if (*cls & LH_C_KEY) {
		if (!lh_attrs_get (a, CKA_KEY_TYPE)) {
			if (ikt == LH_KT_ANY)
				return CKR_TEMPLATE_INCOMPLETE;
			if ((rv = append_ulong (a, CKA_KEY_TYPE, ikt)) != CKR_OK)
				return rv;
			sort_attrs (a);
		}
		if (!lh_attrs_ulong (a, CKA_KEY_TYPE, kt) || !lh_key_type_supported (*kt))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		if (ikt != LH_KT_ANY && *kt != ikt)
			return CKR_TEMPLATE_INCONSISTENT;
		if ((*cls == LH_C_SECRET) != (*kt == CKK_AES || *kt == CKK_GENERIC_SECRET))
			return CKR_TEMPLATE_INCONSISTENT;
	}
	if (*cls == LH_C_CERT) {
		if (!lh_attrs_get (a, CKA_CERTIFICATE_TYPE))
			return CKR_TEMPLATE_INCOMPLETE;
		if (!lh_attrs_ulong (a, CKA_CERTIFICATE_TYPE, &v) || v != CKC_X_509)
			return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	return CKR_OK;
}

CK_RV
lh_template_check (const CK_ATTRIBUTE *t, CK_ULONG n, CK_USER_TYPE user,
                   lh_origin origin, CK_OBJECT_CLASS icls, CK_KEY_TYPE ikt,
                   lh_attrs *out)
{
	lh_attrs a;
	unsigned cls;
	CK_KEY_TYPE kt;
	size_t i;
	CK_RV rv;

	if ((rv = lh_template_parse (t, n, &a)) != CKR_OK)
		return rv;
	if ((rv = new_kind (&a, icls, ikt, &cls, &kt)) != CKR_OK)
		goto fail;
	for (i = 0; i < a.n; i++)
		if ((rv = check_new (&a.a[i], cls, kt, user, origin)) != CKR_OK)
			goto fail;
	*out = a;
	return CKR_OK;
fail:
	lh_attrs_free (&a);
	return rv;
}

CK_RV
lh_template_merge_inner (lh_attrs *a, const lh_sattr *tmpl, CK_USER_TYPE user,
                         lh_origin origin)
{
	const uint8_t *p = tmpl->value;
	const lh_sattr *have;
	lh_sattr one;
	unsigned cls;
	CK_KEY_TYPE kt;
	size_t off = 0, len;
	CK_RV rv;

	lh_template_kind (a, &cls, &kt);
	while (off + 16 <= tmpl->len) {
		one.type = get_u64 (p + off);
		len = (size_t)get_u64 (p + off + 8);
		if (len > tmpl->len - off - 16)
			return CKR_TEMPLATE_INCONSISTENT;
		one.value = (void *)(p + off + 16);
		one.len = len;
		one.flags = 0;
		off += 16 + len;
		/* SPEC: 4.9: the key's template wins; a different value given
		 * by the caller is inconsistent */
		have = lh_attrs_get (a, one.type);
		if (have) {
			if (have->len != len || (len && memcmp (have->value, one.value, len)))
				return CKR_TEMPLATE_INCONSISTENT;
			continue;
		}
		if (one.type == CKA_CLASS || one.type == CKA_KEY_TYPE)
			return CKR_TEMPLATE_INCONSISTENT;
		if ((rv = check_new (&one, cls, kt, user, origin)) != CKR_OK ||
		    (rv = append_copy (a, one.type, one.value, len)) != CKR_OK)
			return rv;
		sort_attrs (a);
	}
	return CKR_OK;
}

/* Attributes that say where a key came from (SPEC: table 33, 37, 39). */
static CK_RV
fill_origin (lh_attrs *a, lh_origin origin, CK_MECHANISM_TYPE mech,
             const lh_attrs *base)
{
	CK_BBOOL local = origin == LH_ORIGIN_GENERATE;
	bool sens = lh_attrs_bool (a, CKA_SENSITIVE, false);
	bool extr = lh_attrs_bool (a, CKA_EXTRACTABLE, true);
	CK_BBOOL always, never;
	unsigned cls;
	CK_KEY_TYPE kt;
	CK_RV rv;

	lh_template_kind (a, &cls, &kt);
	if (!(cls & LH_C_KEY) || origin == LH_ORIGIN_CREATE)
		return CKR_OK;
	if ((rv = lh_attrs_add (a, CKA_LOCAL, &local, 1)) != CKR_OK ||
	    (rv = lh_attrs_add_ulong (a, CKA_KEY_GEN_MECHANISM,
	                              origin == LH_ORIGIN_UNWRAP ?
	                              CK_UNAVAILABLE_INFORMATION : mech)) != CKR_OK)
		return rv;
	if (cls == LH_C_PUB)
		return CKR_OK;
	/* generated: as protected as it is now; unwrapped: it was outside;
	 * derived: as protected as its base was and it is */
	always = origin == LH_ORIGIN_GENERATE ? sens :
	         origin == LH_ORIGIN_DERIVE ?
	         (sens && lh_attrs_bool (base, CKA_ALWAYS_SENSITIVE, false)) : CK_FALSE;
	never = origin == LH_ORIGIN_GENERATE ? !extr :
	        origin == LH_ORIGIN_DERIVE ?
	        (!extr && lh_attrs_bool (base, CKA_NEVER_EXTRACTABLE, false)) : CK_FALSE;
	if ((rv = lh_attrs_add (a, CKA_ALWAYS_SENSITIVE, &always, 1)) != CKR_OK)
		return rv;
	return lh_attrs_add (a, CKA_NEVER_EXTRACTABLE, &never, 1);
}

CK_RV
lh_template_finish (lh_attrs *a, lh_origin origin, CK_MECHANISM_TYPE mech,
                    const lh_attrs *base)
{
	unsigned cls;
	CK_KEY_TYPE kt;
	CK_ULONG c;
	CK_RV rv;

	lh_template_kind (a, &cls, &kt);
	lh_attrs_ulong (a, CKA_CLASS, &c);
	if ((rv = fill_computed (a, cls, kt)) != CKR_OK)
		return rv;
	/* imported key material is checked and its public info computed */
	if (origin == LH_ORIGIN_CREATE && (cls == LH_C_PUB || cls == LH_C_PRIV)) {
		rv = kt == CKK_RSA ? lh_rsa_import (a, c) : lh_ec_import (a, c, kt);
		if (rv != CKR_OK)
			return rv;
	}
	if ((rv = fill_defaults (a, cls, kt)) != CKR_OK ||
	    (rv = fill_origin (a, origin, mech, base)) != CKR_OK)
		return rv;
	/* strict: a key that comes out of C_UnwrapKey is always sensitive,
	 * so it is never less protected than it was when wrapped */
	if (origin == LH_ORIGIN_UNWRAP && lh_policy_strict () &&
	    (cls & (LH_C_PRIV | LH_C_SECRET)) && !lh_attrs_bool (a, CKA_SENSITIVE, false))
		return CKR_TEMPLATE_INCONSISTENT;
	return lh_policy_attrs (a);
}

CK_RV
lh_template_create (const CK_ATTRIBUTE *t, CK_ULONG n, CK_USER_TYPE user,
                    lh_attrs *out)
{
	lh_attrs a;
	CK_RV rv;

	rv = lh_template_check (t, n, user, LH_ORIGIN_CREATE, (CK_OBJECT_CLASS)-1,
	                        LH_KT_ANY, &a);
	if (rv != CKR_OK)
		return rv;
	if ((rv = lh_template_finish (&a, LH_ORIGIN_CREATE, 0, NULL)) != CKR_OK) {
		lh_attrs_free (&a);
		return rv;
	}
	*out = a;
	return CKR_OK;
}

/* Check one attribute of a C_SetAttributeValue/C_CopyObject template. */
static CK_RV
check_change (const lh_attrs *cur, const lh_sattr *na, unsigned cls,
              CK_KEY_TYPE kt, CK_USER_TYPE user, bool copy)
{
	const lh_attr_rule *r = lh_attr_rule_find (cls, kt, na->type);
	const lh_sattr *old;
	bool newv;
	CK_RV rv;

	if (!r)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	if ((rv = check_kind (r, na)) != CKR_OK)
		return rv;
	if ((r->flags & LH_A_READONLY) ||
	    !((r->flags & LH_A_MODIFIABLE) || (copy && (r->flags & LH_A_COPY)))) {
		/* an unchanged value is no change: allow it */
		old = lh_attrs_get (cur, na->type);
		if (old && old->len == na->len &&
		    (na->len == 0 || memcmp (old->value, na->value, na->len) == 0))
			return CKR_OK;
		return CKR_ATTRIBUTE_READ_ONLY;
	}
	if (r->kind != LH_K_BOOL)
		return CKR_OK;
	newv = sattr_true (na);
	/* SPEC: table 10 footnote 11/12: sticky attributes */
	if ((r->flags & LH_A_STICKY_TRUE) && lh_attrs_bool (cur, na->type, false) && !newv)
		return CKR_ATTRIBUTE_READ_ONLY;
	if ((r->flags & LH_A_STICKY_FALSE) && !lh_attrs_bool (cur, na->type, true) && newv)
		return CKR_ATTRIBUTE_READ_ONLY;
	if ((r->flags & LH_A_SO_TRUE) && newv && user != CKU_SO)
		return CKR_ATTRIBUTE_READ_ONLY;
	/*
	 * Strict policy: the usages that move key bytes in and out can be
	 * dropped but never added later, so no sequence of C_SetAttributeValue
	 * or C_CopyObject calls gives one key wrap and decrypt in turn.
	 */
	if (lh_policy_strict () && newv && !lh_attrs_bool (cur, na->type, false) &&
	    (na->type == CKA_ENCRYPT || na->type == CKA_DECRYPT ||
	     na->type == CKA_WRAP || na->type == CKA_UNWRAP))
		return CKR_ATTRIBUTE_READ_ONLY;
	return CKR_OK;
}

CK_RV
lh_template_merge (const lh_attrs *cur, const CK_ATTRIBUTE *t, CK_ULONG n,
                   CK_USER_TYPE user, bool copy, lh_attrs *out)
{
	lh_attrs tt, m;
	lh_sattr *slot;
	unsigned cls;
	CK_KEY_TYPE kt;
	size_t i;
	CK_RV rv;

	lh_template_kind (cur, &cls, &kt);
	if ((rv = lh_template_parse (t, n, &tt)) != CKR_OK)
		return rv;
	for (i = 0; i < tt.n; i++)
		if ((rv = check_change (cur, &tt.a[i], cls, kt, user, copy)) != CKR_OK)
			goto out;
	if ((rv = lh_attrs_copy (cur, &m)) != CKR_OK)
		goto out;
	for (i = 0; i < tt.n; i++) {
		slot = (lh_sattr *)lh_attrs_get (&m, tt.a[i].type);
		if (slot) {
			OPENSSL_clear_free (slot->value, slot->len);
			slot->value = tt.a[i].value;
			slot->len = tt.a[i].len;
			slot->flags = 0;
		} else if ((rv = append (&m, tt.a[i].type, tt.a[i].value,
		                         tt.a[i].len)) != CKR_OK) {
			tt.a[i].value = NULL;
			lh_attrs_free (&m);
			goto out;
		}
		tt.a[i].value = NULL;
		tt.a[i].len = 0;
	}
	sort_attrs (&m);
	if ((rv = lh_policy_attrs (&m)) != CKR_OK) {
		lh_attrs_free (&m);
		goto out;
	}
	*out = m;
out:
	lh_attrs_free (&tt);
	return rv;
}

/* One nested template back into the caller's CK_ATTRIBUTE array. */
static CK_RV
get_template (const lh_sattr *a, CK_ATTRIBUTE *out)
{
	const uint8_t *p = a->value;
	size_t count = 0, off, len, i;
	CK_ATTRIBUTE *inner = out->pValue;
	CK_RV rv = CKR_OK;

	/* stored values passed the integrity checks, but stay careful */
	for (off = 0; off + 16 <= a->len; off += 16 + len) {
		len = (size_t)get_u64 (p + off + 8);
		if (len > a->len - off - 16)
			return CKR_GENERAL_ERROR;
		count++;
	}
	if (!out->pValue) {
		out->ulValueLen = count * sizeof (CK_ATTRIBUTE);
		return CKR_OK;
	}
	if (out->ulValueLen < count * sizeof (CK_ATTRIBUTE)) {
		out->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (i = 0, off = 0; i < count; i++) {
		len = (size_t)get_u64 (p + off + 8);
		inner[i].type = get_u64 (p + off);
		if (!inner[i].pValue) {
			inner[i].ulValueLen = len;
		} else if (inner[i].ulValueLen < len) {
			inner[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_BUFFER_TOO_SMALL;
		} else {
			memcpy (inner[i].pValue, p + off + 16, len);
			inner[i].ulValueLen = len;
		}
		off += 16 + len;
	}
	out->ulValueLen = count * sizeof (CK_ATTRIBUTE);
	return rv;
}

CK_RV
lh_template_get (const lh_sattr *a, CK_ATTRIBUTE *out)
{
	if (is_template_attr (a->type))
		return get_template (a, out);
	if (!out->pValue) {
		out->ulValueLen = a->len;
		return CKR_OK;
	}
	/* SPEC: C_GetAttributeValue: too small -> CK_UNAVAILABLE_INFORMATION */
	if (out->ulValueLen < a->len) {
		out->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (a->len)
		memcpy (out->pValue, a->value, a->len);
	out->ulValueLen = a->len;
	return CKR_OK;
}
