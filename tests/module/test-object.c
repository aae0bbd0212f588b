/*
 * test-object.c - module-API tests: objects and attributes.
 *
 * C_CreateObject for data, X.509 certificate, RSA public/private and
 * AES/generic secret key objects, per-class default attributes, template
 * errors, C_GetAttributeValue's length-query / BUFFER_TOO_SMALL /
 * SENSITIVE / TYPE_INVALID rules, C_SetAttributeValue (read-only and
 * sticky attributes, CKA_MODIFIABLE), C_CopyObject, C_DestroyObject,
 * C_GetObjectSize, session versus token and public versus private object
 * visibility, and C_FindObjects*.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "testdata.h"

#define N_(a) (sizeof (a) / sizeof ((a)[0]))

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_OBJECT_CLASS cls_data = CKO_DATA, cls_cert = CKO_CERTIFICATE,
	cls_secret = CKO_SECRET_KEY, cls_public = CKO_PUBLIC_KEY,
	cls_private = CKO_PRIVATE_KEY;
static CK_KEY_TYPE kt_aes = CKK_AES, kt_generic = CKK_GENERIC_SECRET,
	kt_rsa = CKK_RSA;
static CK_CERTIFICATE_TYPE ct_x509 = CKC_X_509;

static const CK_BYTE aes_key[32] = {
	0x6c, 0x69, 0x74, 0x65, 0x68, 0x73, 0x6d, 0x2d, 0xa1, 0x9e, 0x03, 0x7b,
	0x55, 0xc4, 0x18, 0xe2, 0x90, 0x0d, 0x3f, 0x6a, 0xbe, 0x21, 0x47, 0x88,
	0x12, 0xf9, 0x5c, 0x33, 0xd0, 0x7e, 0x64, 0xab,
};

/* DER of OID 1.3.6.1.4.1.99999.1 */
static const CK_BYTE data_oid[] = {
	0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, 0x01,
};

#define BOOL_ATTR(type, v) { (type), (v) ? &yes : &no, sizeof (CK_BBOOL) }
#define STR_ATTR(type, s) { (type), (void *) (s), strlen (s) }
#define BIN_ATTR(type, b) { (type), (void *) (b), sizeof (b) }

/* Tri-state for optional template booleans. */
enum { UNSET = -1, FALSE_ = 0, TRUE_ = 1 };

static CK_RV
create_rv (lh_fx *fx, CK_SESSION_HANDLE s, CK_ATTRIBUTE *t, CK_ULONG n,
           CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_HANDLE dummy;

	return fx->fl->C_CreateObject (s, t, n, out ? out : &dummy);
}

/* An AES-256 key; sensitive/extractable UNSET leave the defaults. */
static CK_RV
aes_rv (lh_fx *fx, CK_SESSION_HANDLE s, bool token, int sensitive,
        int extractable, const char *label, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[8] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
		{ CKA_VALUE, (void *) aes_key, sizeof aes_key },
		BOOL_ATTR (CKA_TOKEN, token),
		STR_ATTR (CKA_LABEL, label),
	};
	CK_ULONG n = 5;

	if (sensitive != UNSET)
		t[n++] = (CK_ATTRIBUTE) BOOL_ATTR (CKA_SENSITIVE, sensitive);
	if (extractable != UNSET)
		t[n++] = (CK_ATTRIBUTE) BOOL_ATTR (CKA_EXTRACTABLE, extractable);
	return create_rv (fx, s, t, n, out);
}

static CK_OBJECT_HANDLE
make_aes (lh_fx *fx, CK_SESSION_HANDLE s, bool token, int sensitive,
          int extractable, const char *label)
{
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;

	assert_rv (CKR_OK, aes_rv (fx, s, token, sensitive, extractable, label, &o));
	return o;
}

static CK_OBJECT_HANDLE
make_cert (lh_fx *fx, CK_SESSION_HANDLE s, bool token, const char *label)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_cert, sizeof cls_cert },
		{ CKA_CERTIFICATE_TYPE, &ct_x509, sizeof ct_x509 },
		BOOL_ATTR (CKA_TOKEN, token),
		STR_ATTR (CKA_LABEL, label),
		STR_ATTR (CKA_ID, "cert-id-01"),
		BIN_ATTR (CKA_SUBJECT, td_cert_subject),
		BIN_ATTR (CKA_ISSUER, td_cert_issuer),
		BIN_ATTR (CKA_SERIAL_NUMBER, td_cert_serial),
		BIN_ATTR (CKA_VALUE, td_cert_der),
	};

	return fx_create (fx, s, t, N_ (t));
}

static CK_OBJECT_HANDLE
make_rsa_private (lh_fx *fx, CK_SESSION_HANDLE s, bool token, const char *label)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_private, sizeof cls_private },
		{ CKA_KEY_TYPE, &kt_rsa, sizeof kt_rsa },
		BOOL_ATTR (CKA_TOKEN, token),
		STR_ATTR (CKA_LABEL, label),
		STR_ATTR (CKA_ID, "rsa-id-01"),
		BIN_ATTR (CKA_MODULUS, td_rsa_modulus),
		BIN_ATTR (CKA_PUBLIC_EXPONENT, td_rsa_public_exponent),
		BIN_ATTR (CKA_PRIVATE_EXPONENT, td_rsa_private_exponent),
		BIN_ATTR (CKA_PRIME_1, td_rsa_prime_1),
		BIN_ATTR (CKA_PRIME_2, td_rsa_prime_2),
		BIN_ATTR (CKA_EXPONENT_1, td_rsa_exponent_1),
		BIN_ATTR (CKA_EXPONENT_2, td_rsa_exponent_2),
		BIN_ATTR (CKA_COEFFICIENT, td_rsa_coefficient),
		BOOL_ATTR (CKA_SIGN, true),
	};

	return fx_create (fx, s, t, N_ (t));
}

static CK_OBJECT_HANDLE
make_rsa_public (lh_fx *fx, CK_SESSION_HANDLE s, bool token, const char *label)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_public, sizeof cls_public },
		{ CKA_KEY_TYPE, &kt_rsa, sizeof kt_rsa },
		BOOL_ATTR (CKA_TOKEN, token),
		STR_ATTR (CKA_LABEL, label),
		STR_ATTR (CKA_ID, "rsa-id-01"),
		BIN_ATTR (CKA_MODULUS, td_rsa_modulus),
		BIN_ATTR (CKA_PUBLIC_EXPONENT, td_rsa_public_exponent),
		BOOL_ATTR (CKA_VERIFY, true),
	};

	return fx_create (fx, s, t, N_ (t));
}

static void
assert_bytes (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
              CK_ATTRIBUTE_TYPE type, const void *want, size_t want_len)
{
	CK_BYTE buf[4096];
	CK_ULONG len = fx_get_bytes (fx, s, o, type, buf, sizeof buf);

	if (len != want_len || memcmp (buf, want, len) != 0)
		printf ("# attribute 0x%lx differs (len %lu, want %zu)\n",
		        (unsigned long) type, (unsigned long) len, want_len);
	assert_mem_eq (want, want_len, buf, len);
}

static void
assert_empty (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
              CK_ATTRIBUTE_TYPE type)
{
	CK_BYTE buf[64];
	CK_ULONG len = fx_get_bytes (fx, s, o, type, buf, sizeof buf);

	if (len != 0)
		printf ("# attribute 0x%lx: length %lu, want empty\n",
		        (unsigned long) type, (unsigned long) len);
	assert_num_eq (0, len);
}

static void
assert_bool (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
             CK_ATTRIBUTE_TYPE type, bool want)
{
	CK_BBOOL v = fx_get_bool (fx, s, o, type);

	if ((v == CK_TRUE) != want)
		printf ("# attribute 0x%lx is %d, want %d\n", (unsigned long) type,
		        v, want);
	assert_num_eq (want ? CK_TRUE : CK_FALSE, v);
}

/* The storage-object defaults every class shares. */
static void
assert_storage_defaults (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	assert_bool (fx, s, o, CKA_MODIFIABLE, true);
	assert_bool (fx, s, o, CKA_COPYABLE, true);
	assert_bool (fx, s, o, CKA_DESTROYABLE, true);
}

/* Import defaults every key shares. */
static void
assert_key_import_defaults (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	assert_bool (fx, s, o, CKA_LOCAL, false);
	assert_num_eq (CK_UNAVAILABLE_INFORMATION,
	               fx_get_ulong (fx, s, o, CKA_KEY_GEN_MECHANISM));
	assert_empty (fx, s, o, CKA_START_DATE);
	assert_empty (fx, s, o, CKA_END_DATE);
	assert_storage_defaults (fx, s, o);
}

/* ------------------------------------------------------------------ */
/* Creating objects of each class                                      */

static void
test_create_data (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		STR_ATTR (CKA_LABEL, "a data object"),
		STR_ATTR (CKA_APPLICATION, "litehsm tests"),
		STR_ATTR (CKA_VALUE, "the data value"),
		BIN_ATTR (CKA_OBJECT_ID, data_oid),
	};
	CK_OBJECT_HANDLE o = fx_create (fx, fx->session, t, N_ (t));
	CK_SESSION_HANDLE s = fx->session;

	assert_num_eq (CKO_DATA, fx_get_ulong (fx, s, o, CKA_CLASS));
	assert_bytes (fx, s, o, CKA_LABEL, "a data object", 13);
	assert_bytes (fx, s, o, CKA_APPLICATION, "litehsm tests", 13);
	assert_bytes (fx, s, o, CKA_VALUE, "the data value", 14);
	assert_bytes (fx, s, o, CKA_OBJECT_ID, data_oid, sizeof data_oid);
	/* defaults */
	assert_bool (fx, s, o, CKA_TOKEN, false);
	assert_bool (fx, s, o, CKA_PRIVATE, false);
	assert_storage_defaults (fx, s, o);
}

static void
test_create_data_defaults (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls_data, sizeof cls_data } };
	CK_OBJECT_HANDLE o = fx_create (fx, fx->session, t, 1);
	CK_SESSION_HANDLE s = fx->session;

	assert_empty (fx, s, o, CKA_LABEL);
	assert_empty (fx, s, o, CKA_APPLICATION);
	assert_empty (fx, s, o, CKA_VALUE);
	assert_empty (fx, s, o, CKA_OBJECT_ID);
	assert_bool (fx, s, o, CKA_TOKEN, false);
	assert_bool (fx, s, o, CKA_PRIVATE, false);
	assert_storage_defaults (fx, s, o);
}

/* Public session objects need no login, in R/O sessions too. */
static void
test_create_public_session (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE rw = fx_open (fx, fx->slot, true);
	CK_SESSION_HANDLE ro = fx_open (fx, fx->slot, false);
	CK_OBJECT_HANDLE o;

	o = fx_create_data (fx, rw, false, false, "public rw", "1");
	assert_bytes (fx, rw, o, CKA_VALUE, "1", 1);
	o = fx_create_data (fx, ro, false, false, "public ro", "2");
	assert_bytes (fx, ro, o, CKA_VALUE, "2", 1);
}

static void
test_create_certificate (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_cert (fx, s, true, "server cert");

	assert_num_eq (CKO_CERTIFICATE, fx_get_ulong (fx, s, o, CKA_CLASS));
	assert_num_eq (CKC_X_509, fx_get_ulong (fx, s, o, CKA_CERTIFICATE_TYPE));
	assert_bytes (fx, s, o, CKA_SUBJECT, td_cert_subject, sizeof td_cert_subject);
	assert_bytes (fx, s, o, CKA_ISSUER, td_cert_issuer, sizeof td_cert_issuer);
	assert_bytes (fx, s, o, CKA_SERIAL_NUMBER, td_cert_serial, sizeof td_cert_serial);
	assert_bytes (fx, s, o, CKA_VALUE, td_cert_der, sizeof td_cert_der);
	assert_bytes (fx, s, o, CKA_ID, "cert-id-01", 10);
	assert_bytes (fx, s, o, CKA_LABEL, "server cert", 11);
	assert_bool (fx, s, o, CKA_TOKEN, true);
	assert_bool (fx, s, o, CKA_PRIVATE, false);
	assert_bool (fx, s, o, CKA_TRUSTED, false);
	assert_num_eq (0, fx_get_ulong (fx, s, o, CKA_CERTIFICATE_CATEGORY));
	assert_storage_defaults (fx, s, o);
}

static void
test_create_certificate_incomplete (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE no_type[] = {
		{ CKA_CLASS, &cls_cert, sizeof cls_cert },
		BIN_ATTR (CKA_SUBJECT, td_cert_subject),
		BIN_ATTR (CKA_VALUE, td_cert_der),
	};
	CK_ATTRIBUTE no_value[] = {
		{ CKA_CLASS, &cls_cert, sizeof cls_cert },
		{ CKA_CERTIFICATE_TYPE, &ct_x509, sizeof ct_x509 },
		BIN_ATTR (CKA_SUBJECT, td_cert_subject),
	};
	CK_ATTRIBUTE no_subject[] = {
		{ CKA_CLASS, &cls_cert, sizeof cls_cert },
		{ CKA_CERTIFICATE_TYPE, &ct_x509, sizeof ct_x509 },
		BIN_ATTR (CKA_VALUE, td_cert_der),
	};

	assert_rv (CKR_TEMPLATE_INCOMPLETE, create_rv (fx, fx->session, no_type, 3, NULL));
	assert_rv (CKR_TEMPLATE_INCOMPLETE, create_rv (fx, fx->session, no_value, 3, NULL));
	assert_rv (CKR_TEMPLATE_INCOMPLETE, create_rv (fx, fx->session, no_subject, 3, NULL));
}

static void
test_create_aes (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_aes (fx, s, false, FALSE_, TRUE_, "aes");

	assert_num_eq (CKO_SECRET_KEY, fx_get_ulong (fx, s, o, CKA_CLASS));
	assert_num_eq (CKK_AES, fx_get_ulong (fx, s, o, CKA_KEY_TYPE));
	assert_num_eq (32, fx_get_ulong (fx, s, o, CKA_VALUE_LEN));
	/* not sensitive and extractable: the value can be read */
	assert_bytes (fx, s, o, CKA_VALUE, aes_key, sizeof aes_key);
	assert_bool (fx, s, o, CKA_TOKEN, false);
	assert_bool (fx, s, o, CKA_PRIVATE, true);
	assert_bool (fx, s, o, CKA_SENSITIVE, false);
	assert_bool (fx, s, o, CKA_EXTRACTABLE, true);
	assert_bool (fx, s, o, CKA_ALWAYS_SENSITIVE, false);
	assert_bool (fx, s, o, CKA_NEVER_EXTRACTABLE, false);
	assert_bool (fx, s, o, CKA_WRAP_WITH_TRUSTED, false);
	assert_bool (fx, s, o, CKA_TRUSTED, false);
	assert_empty (fx, s, o, CKA_ID);
	assert_key_import_defaults (fx, s, o);
}

/* Imported keys were known outside the token: never "always sensitive". */
static void
test_create_aes_sensitive (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_aes (fx, s, false, TRUE_, FALSE_, "aes");

	assert_bool (fx, s, o, CKA_SENSITIVE, true);
	assert_bool (fx, s, o, CKA_EXTRACTABLE, false);
	assert_bool (fx, s, o, CKA_ALWAYS_SENSITIVE, false);
	assert_bool (fx, s, o, CKA_NEVER_EXTRACTABLE, false);
	assert_num_eq (32, fx_get_ulong (fx, s, o, CKA_VALUE_LEN));
	assert_key_import_defaults (fx, s, o);
}

static CK_RV
aes_len_rv (lh_fx *fx, size_t len, CK_OBJECT_HANDLE *o)
{
	CK_BYTE value[64];
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
		{ CKA_VALUE, value, len },
		BOOL_ATTR (CKA_SENSITIVE, false),
	};

	memset (value, 0x3c, sizeof value);
	return create_rv (fx, fx->session, t, N_ (t), o);
}

static void
test_create_aes_lengths (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE o;

	assert_rv (CKR_OK, aes_len_rv (fx, 16, &o));
	assert_num_eq (16, fx_get_ulong (fx, fx->session, o, CKA_VALUE_LEN));
	assert_rv (CKR_OK, aes_len_rv (fx, 24, &o));
	assert_num_eq (24, fx_get_ulong (fx, fx->session, o, CKA_VALUE_LEN));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID, aes_len_rv (fx, 17, &o));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID, aes_len_rv (fx, 0, &o));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID, aes_len_rv (fx, 33, &o));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID, aes_len_rv (fx, 8, &o));
}

/* SPEC: CKA_VALUE_LEN of a secret key must not be given to C_CreateObject. */
static void
test_create_aes_value_len_given (void *arg)
{
	lh_fx *fx = arg;
	CK_ULONG vlen = 32;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
		{ CKA_VALUE, (void *) aes_key, sizeof aes_key },
		{ CKA_VALUE_LEN, &vlen, sizeof vlen },
	};
	CK_RV rv = create_rv (fx, fx->session, t, N_ (t), NULL);

	printf ("# rv 0x%lx\n", (unsigned long) rv);
	assert_true (rv == CKR_ATTRIBUTE_READ_ONLY || rv == CKR_TEMPLATE_INCONSISTENT);
}

static void
test_create_generic_secret (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_BYTE value[20];
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_generic, sizeof kt_generic },
		BIN_ATTR (CKA_VALUE, value),
		BOOL_ATTR (CKA_SENSITIVE, true),
		STR_ATTR (CKA_LABEL, "hmac key"),
	};
	CK_OBJECT_HANDLE o;

	memset (value, 0x77, sizeof value);
	o = fx_create (fx, s, t, N_ (t));
	assert_num_eq (CKK_GENERIC_SECRET, fx_get_ulong (fx, s, o, CKA_KEY_TYPE));
	assert_num_eq (20, fx_get_ulong (fx, s, o, CKA_VALUE_LEN));
	assert_bool (fx, s, o, CKA_PRIVATE, true);
	assert_key_import_defaults (fx, s, o);
}

static void
test_create_secret_incomplete (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE no_value[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
	};
	CK_ATTRIBUTE no_type[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_VALUE, (void *) aes_key, sizeof aes_key },
	};

	assert_rv (CKR_TEMPLATE_INCOMPLETE, create_rv (fx, fx->session, no_value, 2, NULL));
	assert_rv (CKR_TEMPLATE_INCOMPLETE, create_rv (fx, fx->session, no_type, 2, NULL));
}

static void
test_create_rsa_private (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_rsa_private (fx, s, true, "rsa private");

	assert_num_eq (CKO_PRIVATE_KEY, fx_get_ulong (fx, s, o, CKA_CLASS));
	assert_num_eq (CKK_RSA, fx_get_ulong (fx, s, o, CKA_KEY_TYPE));
	assert_bytes (fx, s, o, CKA_MODULUS, td_rsa_modulus, sizeof td_rsa_modulus);
	assert_bytes (fx, s, o, CKA_PUBLIC_EXPONENT, td_rsa_public_exponent,
	              sizeof td_rsa_public_exponent);
	assert_bytes (fx, s, o, CKA_ID, "rsa-id-01", 9);
	assert_bool (fx, s, o, CKA_TOKEN, true);
	assert_bool (fx, s, o, CKA_PRIVATE, true);
	assert_bool (fx, s, o, CKA_SENSITIVE, true);
	assert_bool (fx, s, o, CKA_ALWAYS_SENSITIVE, false);
	assert_bool (fx, s, o, CKA_NEVER_EXTRACTABLE, false);
	assert_bool (fx, s, o, CKA_ALWAYS_AUTHENTICATE, false);
	assert_bool (fx, s, o, CKA_WRAP_WITH_TRUSTED, false);
	assert_bool (fx, s, o, CKA_SIGN, true);
	assert_key_import_defaults (fx, s, o);
}

static void
test_create_rsa_private_incomplete (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE no_modulus[] = {
		{ CKA_CLASS, &cls_private, sizeof cls_private },
		{ CKA_KEY_TYPE, &kt_rsa, sizeof kt_rsa },
		BIN_ATTR (CKA_PUBLIC_EXPONENT, td_rsa_public_exponent),
		BIN_ATTR (CKA_PRIVATE_EXPONENT, td_rsa_private_exponent),
	};
	CK_ATTRIBUTE no_private_exponent[] = {
		{ CKA_CLASS, &cls_private, sizeof cls_private },
		{ CKA_KEY_TYPE, &kt_rsa, sizeof kt_rsa },
		BIN_ATTR (CKA_MODULUS, td_rsa_modulus),
		BIN_ATTR (CKA_PUBLIC_EXPONENT, td_rsa_public_exponent),
	};
	CK_ATTRIBUTE no_key_type[] = {
		{ CKA_CLASS, &cls_private, sizeof cls_private },
		BIN_ATTR (CKA_MODULUS, td_rsa_modulus),
		BIN_ATTR (CKA_PRIVATE_EXPONENT, td_rsa_private_exponent),
	};

	assert_rv (CKR_TEMPLATE_INCOMPLETE,
	           create_rv (fx, fx->session, no_modulus, N_ (no_modulus), NULL));
	assert_rv (CKR_TEMPLATE_INCOMPLETE,
	           create_rv (fx, fx->session, no_private_exponent,
	                      N_ (no_private_exponent), NULL));
	assert_rv (CKR_TEMPLATE_INCOMPLETE,
	           create_rv (fx, fx->session, no_key_type, N_ (no_key_type), NULL));
}

static void
test_create_rsa_public (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_rsa_public (fx, s, true, "rsa public");
	CK_ATTRIBUTE no_exp[] = {
		{ CKA_CLASS, &cls_public, sizeof cls_public },
		{ CKA_KEY_TYPE, &kt_rsa, sizeof kt_rsa },
		BIN_ATTR (CKA_MODULUS, td_rsa_modulus),
	};

	assert_num_eq (CKO_PUBLIC_KEY, fx_get_ulong (fx, s, o, CKA_CLASS));
	assert_bytes (fx, s, o, CKA_MODULUS, td_rsa_modulus, sizeof td_rsa_modulus);
	assert_bytes (fx, s, o, CKA_PUBLIC_EXPONENT, td_rsa_public_exponent,
	              sizeof td_rsa_public_exponent);
	assert_bool (fx, s, o, CKA_PRIVATE, false);
	assert_bool (fx, s, o, CKA_TRUSTED, false);
	assert_bool (fx, s, o, CKA_VERIFY, true);
	assert_key_import_defaults (fx, s, o);
	assert_rv (CKR_TEMPLATE_INCOMPLETE,
	           create_rv (fx, s, no_exp, N_ (no_exp), NULL));
}

/* ------------------------------------------------------------------ */
/* Malformed templates                                                 */

static void
test_create_missing_class (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE t[] = {
		STR_ATTR (CKA_LABEL, "no class"),
		STR_ATTR (CKA_VALUE, "v"),
	};

	assert_rv (CKR_TEMPLATE_INCOMPLETE, create_rv (fx, fx->session, t, N_ (t), NULL));
	assert_rv (CKR_TEMPLATE_INCOMPLETE, create_rv (fx, fx->session, t, 0, NULL));
}

static void
test_create_duplicate (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE two_labels[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		STR_ATTR (CKA_LABEL, "first"),
		STR_ATTR (CKA_LABEL, "second"),
	};
	CK_ATTRIBUTE two_classes[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		{ CKA_CLASS, &cls_cert, sizeof cls_cert },
	};
	CK_ATTRIBUTE two_tokens[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		BOOL_ATTR (CKA_TOKEN, true),
		BOOL_ATTR (CKA_TOKEN, false),
	};

	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           create_rv (fx, fx->session, two_labels, N_ (two_labels), NULL));
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           create_rv (fx, fx->session, two_classes, N_ (two_classes), NULL));
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           create_rv (fx, fx->session, two_tokens, N_ (two_tokens), NULL));
}

static void
test_create_conflicting (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE secret_rsa[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_rsa, sizeof kt_rsa },
		{ CKA_VALUE, (void *) aes_key, sizeof aes_key },
	};
	CK_ATTRIBUTE private_aes[] = {
		{ CKA_CLASS, &cls_private, sizeof cls_private },
		{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
		{ CKA_VALUE, (void *) aes_key, sizeof aes_key },
	};

	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           create_rv (fx, fx->session, secret_rsa, N_ (secret_rsa), NULL));
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           create_rv (fx, fx->session, private_aes, N_ (private_aes), NULL));
}

/* An attribute the class does not have, and a type nobody defined. */
static void
test_create_type_invalid (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE modulus_on_data[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		BIN_ATTR (CKA_MODULUS, td_rsa_modulus),
	};
	CK_ATTRIBUTE unknown[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		{ CKA_VENDOR_DEFINED | 0x4c48dead, &yes, sizeof yes },
	};
	CK_ATTRIBUTE unassigned[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		{ 0x0ffeUL, &yes, sizeof yes },
	};
	CK_RV rv = create_rv (fx, fx->session, modulus_on_data, 2, NULL);

	assert_true (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_TEMPLATE_INCONSISTENT);
	assert_rv (CKR_ATTRIBUTE_TYPE_INVALID, create_rv (fx, fx->session, unknown, 2, NULL));
	assert_rv (CKR_ATTRIBUTE_TYPE_INVALID, create_rv (fx, fx->session, unassigned, 2, NULL));
}

static void
test_create_value_invalid (void *arg)
{
	lh_fx *fx = arg;
	CK_ULONG four = 1, bogus_class = 0x4c48UL, bogus_kt = 0x4c48UL;
	CK_BYTE one_byte = CKO_DATA;
	CK_ATTRIBUTE long_bool[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		{ CKA_TOKEN, &four, sizeof four },
	};
	CK_ATTRIBUTE short_class[] = {
		{ CKA_CLASS, &one_byte, 1 },
	};
	CK_ATTRIBUTE bad_class[] = {
		{ CKA_CLASS, &bogus_class, sizeof bogus_class },
	};
	CK_ATTRIBUTE bad_key_type[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &bogus_kt, sizeof bogus_kt },
		{ CKA_VALUE, (void *) aes_key, sizeof aes_key },
	};
	CK_ATTRIBUTE null_value[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		{ CKA_LABEL, NULL, 8 },
	};
	CK_RV rv;

	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID, create_rv (fx, fx->session, long_bool, 2, NULL));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID, create_rv (fx, fx->session, short_class, 1, NULL));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID, create_rv (fx, fx->session, bad_class, 1, NULL));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           create_rv (fx, fx->session, bad_key_type, N_ (bad_key_type), NULL));
	rv = create_rv (fx, fx->session, null_value, 2, NULL);
	assert_true (rv == CKR_ARGUMENTS_BAD || rv == CKR_ATTRIBUTE_VALUE_INVALID);
}

/* Attributes only the token sets. */
static void
test_create_read_only (void *arg)
{
	lh_fx *fx = arg;
	CK_ULONG mech = CKM_AES_KEY_GEN;
	CK_ATTRIBUTE ro[] = {
		BOOL_ATTR (CKA_LOCAL, true),
		BOOL_ATTR (CKA_LOCAL, false),
		BOOL_ATTR (CKA_ALWAYS_SENSITIVE, true),
		BOOL_ATTR (CKA_NEVER_EXTRACTABLE, true),
		{ CKA_KEY_GEN_MECHANISM, &mech, sizeof mech },
	};
	CK_ULONG i;

	for (i = 0; i < N_ (ro); i++) {
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls_secret, sizeof cls_secret },
			{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
			{ CKA_VALUE, (void *) aes_key, sizeof aes_key },
			ro[i],
		};
		printf ("# attribute 0x%lx\n", (unsigned long) ro[i].type);
		assert_rv (CKR_ATTRIBUTE_READ_ONLY, create_rv (fx, fx->session, t, N_ (t), NULL));
	}
}

/* SPEC: CKA_TRUSTED can only be set to CK_TRUE by the SO. */
static void
test_create_trusted_by_user (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_cert, sizeof cls_cert },
		{ CKA_CERTIFICATE_TYPE, &ct_x509, sizeof ct_x509 },
		BIN_ATTR (CKA_SUBJECT, td_cert_subject),
		BIN_ATTR (CKA_VALUE, td_cert_der),
		BOOL_ATTR (CKA_TRUSTED, true),
	};
	CK_OBJECT_HANDLE o;

	assert_rv (CKR_ATTRIBUTE_READ_ONLY, create_rv (fx, fx->session, t, N_ (t), NULL));
	t[4].pValue = &no;
	assert_rv (CKR_OK, create_rv (fx, fx->session, t, N_ (t), &o));
	assert_bool (fx, fx->session, o, CKA_TRUSTED, false);
}

static void
test_create_trusted_by_so (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_cert, sizeof cls_cert },
		{ CKA_CERTIFICATE_TYPE, &ct_x509, sizeof ct_x509 },
		BIN_ATTR (CKA_SUBJECT, td_cert_subject),
		BIN_ATTR (CKA_VALUE, td_cert_der),
		BOOL_ATTR (CKA_TRUSTED, true),
		BOOL_ATTR (CKA_TOKEN, true),
		STR_ATTR (CKA_LABEL, "trusted root"),
	};
	CK_OBJECT_HANDLE o, h[4];

	fx_login (fx, s, CKU_SO, FX_SO_PIN);
	o = fx_create (fx, s, t, N_ (t));
	assert_bool (fx, s, o, CKA_TRUSTED, true);
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	/* and the user sees it as trusted */
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_num_eq (1, fx_find_label (fx, s, "trusted root", h, 4));
	assert_bool (fx, s, h[0], CKA_TRUSTED, true);
}

/* SPEC: the SO has access to public objects only. */
static void
test_create_so_private (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		BOOL_ATTR (CKA_PRIVATE, true),
		STR_ATTR (CKA_LABEL, "so private"),
	};
	CK_OBJECT_HANDLE h[8];

	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	fx_create_data (fx, s, true, true, "user private", "p");
	fx_create_data (fx, s, true, false, "user public", "q");
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	fx_login (fx, s, CKU_SO, FX_SO_PIN);
	assert_rv (CKR_USER_NOT_LOGGED_IN, create_rv (fx, s, t, N_ (t), NULL));
	assert_num_eq (1, fx_find (fx, s, NULL, 0, h, 8));
	assert_num_eq (0, fx_find_label (fx, s, "user private", h, 8));
}

static void
test_create_bad_args (void *arg)
{
	lh_fx *fx = arg;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls_data, sizeof cls_data } };
	CK_OBJECT_HANDLE o;

	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_CreateObject (fx->session, NULL, 1, &o));
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_CreateObject (fx->session, t, 1, NULL));
}

/* ------------------------------------------------------------------ */
/* Session state rules on create                                       */

static void
test_create_token_read_only_session (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE ro = fx_open (fx, fx->slot, false);
	CK_OBJECT_HANDLE o;

	assert_rv (CKR_SESSION_READ_ONLY, aes_rv (fx, ro, true, TRUE_, UNSET, "ro", NULL));
	{
		CK_OBJECT_CLASS k = CKO_DATA;
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &k, sizeof k },
			BOOL_ATTR (CKA_TOKEN, true),
		};
		assert_rv (CKR_SESSION_READ_ONLY, create_rv (fx, ro, t, 2, NULL));
	}
	/* session objects are fine in R/O sessions */
	o = fx_create_data (fx, ro, false, true, "ro session obj", "x");
	assert_bool (fx, ro, o, CKA_PRIVATE, true);
}

static void
test_create_not_logged_in (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
	CK_OBJECT_CLASS k = CKO_DATA;
	CK_ATTRIBUTE priv_session[] = {
		{ CKA_CLASS, &k, sizeof k },
		BOOL_ATTR (CKA_PRIVATE, true),
	};
	CK_ATTRIBUTE pub_token[] = {
		{ CKA_CLASS, &k, sizeof k },
		BOOL_ATTR (CKA_TOKEN, true),
		BOOL_ATTR (CKA_PRIVATE, false),
	};

	assert_rv (CKR_USER_NOT_LOGGED_IN, create_rv (fx, s, priv_session, 2, NULL));
	/* a secret key is private by default */
	assert_rv (CKR_USER_NOT_LOGGED_IN, aes_rv (fx, s, false, TRUE_, UNSET, "k", NULL));
	/* litehsm: token objects carry a MAC under the master key, so even
	 * public ones need a login */
	assert_rv (CKR_USER_NOT_LOGGED_IN, create_rv (fx, s, pub_token, 3, NULL));
}

/* ------------------------------------------------------------------ */
/* C_GetAttributeValue                                                 */

static void
test_get_length_query (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE o = fx_create_data (fx, fx->session, false, false,
	                                     "0123456789", "twelve bytes");
	CK_ATTRIBUTE t[] = {
		{ CKA_LABEL, NULL, 0 },
		{ CKA_VALUE, NULL, 999 },
		{ CKA_CLASS, NULL, 0 },
	};

	assert_rv (CKR_OK, fx->fl->C_GetAttributeValue (fx->session, o, t, N_ (t)));
	assert_num_eq (10, t[0].ulValueLen);
	assert_num_eq (12, t[1].ulValueLen);
	assert_num_eq (sizeof (CK_OBJECT_CLASS), t[2].ulValueLen);
}

static void
test_get_buffer_too_small (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE o = fx_create_data (fx, fx->session, false, false,
	                                     "0123456789", "twelve bytes");
	CK_OBJECT_CLASS klass = 0xffff;
	char small[3], exact[10], big[64];
	CK_ATTRIBUTE t[] = {
		{ CKA_LABEL, small, sizeof small },
		{ CKA_CLASS, &klass, sizeof klass },
	};
	CK_ATTRIBUTE t2[] = {
		{ CKA_LABEL, exact, sizeof exact },
		{ CKA_VALUE, big, sizeof big },
	};

	assert_rv (CKR_BUFFER_TOO_SMALL, fx->fl->C_GetAttributeValue (fx->session, o, t, 2));
	assert_num_eq (CK_UNAVAILABLE_INFORMATION, t[0].ulValueLen);
	/* the other attribute of the call is still filled */
	assert_num_eq (sizeof klass, t[1].ulValueLen);
	assert_num_eq (CKO_DATA, klass);

	assert_rv (CKR_OK, fx->fl->C_GetAttributeValue (fx->session, o, t2, 2));
	assert_num_eq (10, t2[0].ulValueLen);
	assert_mem_eq ("0123456789", 10, exact, 10);
	assert_num_eq (12, t2[1].ulValueLen);
	assert_mem_eq ("twelve bytes", 12, big, 12);
}

static void
test_get_type_invalid (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE o = fx_create_data (fx, fx->session, false, false,
	                                     "label", "value");
	CK_BYTE buf[300], label[16];
	CK_ATTRIBUTE t[] = {
		{ CKA_VENDOR_DEFINED | 0x4c48dead, buf, sizeof buf },
		{ CKA_LABEL, label, sizeof label },
		{ CKA_MODULUS, buf, sizeof buf },
	};

	assert_rv (CKR_ATTRIBUTE_TYPE_INVALID,
	           fx->fl->C_GetAttributeValue (fx->session, o, t, N_ (t)));
	assert_num_eq (CK_UNAVAILABLE_INFORMATION, t[0].ulValueLen);
	assert_num_eq (5, t[1].ulValueLen);
	assert_mem_eq ("label", 5, label, 5);
	assert_num_eq (CK_UNAVAILABLE_INFORMATION, t[2].ulValueLen);
}

static void
test_get_sensitive_secret (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_aes (fx, s, true, TRUE_, UNSET, "sensitive aes");
	CK_BYTE value[64], label[32];
	CK_ULONG vlen = 0;
	CK_ATTRIBUTE t[] = {
		{ CKA_VALUE, value, sizeof value },
		{ CKA_VALUE_LEN, &vlen, sizeof vlen },
		{ CKA_LABEL, label, sizeof label },
	};
	CK_ATTRIBUTE q = { CKA_VALUE, NULL, 0 };

	memset (value, 0, sizeof value);
	assert_rv (CKR_ATTRIBUTE_SENSITIVE, fx->fl->C_GetAttributeValue (s, o, t, N_ (t)));
	assert_num_eq (CK_UNAVAILABLE_INFORMATION, t[0].ulValueLen);
	assert_true (memmem (value, sizeof value, aes_key, 8) == NULL);
	assert_num_eq (sizeof vlen, t[1].ulValueLen);
	assert_num_eq (32, vlen);
	assert_num_eq (13, t[2].ulValueLen);
	assert_mem_eq ("sensitive aes", 13, label, 13);
	/* a length query for it is refused the same way */
	assert_rv (CKR_ATTRIBUTE_SENSITIVE, fx->fl->C_GetAttributeValue (s, o, &q, 1));
	assert_num_eq (CK_UNAVAILABLE_INFORMATION, q.ulValueLen);
}

/* SPEC: unextractable attributes are refused like sensitive ones. */
static void
test_get_unextractable (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_aes (fx, s, false, FALSE_, FALSE_, "unextractable");
	CK_BYTE value[64];
	CK_ULONG len = sizeof value;

	assert_rv (CKR_ATTRIBUTE_SENSITIVE, fx_get_rv (fx, s, o, CKA_VALUE, value, &len));
	assert_num_eq (CK_UNAVAILABLE_INFORMATION, len);
}

static void
test_get_sensitive_private_key (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_rsa_private (fx, s, false, "rsa");
	static const CK_ATTRIBUTE_TYPE secret[] = {
		CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
		CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
	};
	CK_BYTE buf[600], modulus[600];
	CK_ULONG i;

	for (i = 0; i < N_ (secret); i++) {
		CK_ATTRIBUTE t[] = {
			{ secret[i], buf, sizeof buf },
			{ CKA_MODULUS, modulus, sizeof modulus },
		};
		printf ("# attribute 0x%lx\n", (unsigned long) secret[i]);
		assert_rv (CKR_ATTRIBUTE_SENSITIVE, fx->fl->C_GetAttributeValue (s, o, t, 2));
		assert_num_eq (CK_UNAVAILABLE_INFORMATION, t[0].ulValueLen);
		assert_mem_eq (td_rsa_modulus, sizeof td_rsa_modulus, modulus,
		               t[1].ulValueLen);
	}
}

static void
test_get_invalid_handle (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE o = fx_create_data (fx, fx->session, false, false, "x", "y");
	CK_BYTE buf[16];
	CK_ULONG len = sizeof buf;
	CK_ATTRIBUTE a = { CKA_LABEL, buf, sizeof buf };

	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx_get_rv (fx, fx->session, 0, CKA_LABEL, buf, &len));
	len = sizeof buf;
	assert_rv (CKR_OBJECT_HANDLE_INVALID,
	           fx_get_rv (fx, fx->session, o + 100000, CKA_LABEL, buf, &len));
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_GetAttributeValue (fx->session, o, NULL, 1));
	assert_rv (CKR_OK, fx->fl->C_GetAttributeValue (fx->session, o, &a, 1));
}

/* ------------------------------------------------------------------ */
/* C_SetAttributeValue                                                 */

static CK_RV
set_rv (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
        const void *value, CK_ULONG len)
{
	CK_ATTRIBUTE a = { type, (void *) value, len };

	return fx->fl->C_SetAttributeValue (s, o, &a, 1);
}

static void
test_set_label (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = fx_create_data (fx, s, true, true, "old label", "v");
	CK_OBJECT_HANDLE h[4];

	assert_rv (CKR_OK, set_rv (fx, s, o, CKA_LABEL, "new label", 9));
	assert_bytes (fx, s, o, CKA_LABEL, "new label", 9);
	assert_num_eq (0, fx_find_label (fx, s, "old label", h, 4));
	assert_num_eq (1, fx_find_label (fx, s, "new label", h, 4));
	/* a data object's value may change too */
	assert_rv (CKR_OK, set_rv (fx, s, o, CKA_VALUE, "new value", 9));
	assert_bytes (fx, s, o, CKA_VALUE, "new value", 9);
	/* and all of it persists */
	fx_restart (fx);
	s = fx_open (fx, fx->slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_num_eq (1, fx_find_label (fx, s, "new label", h, 4));
	assert_bytes (fx, s, h[0], CKA_VALUE, "new value", 9);
}

static void
test_set_read_only (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE key = make_aes (fx, s, false, FALSE_, TRUE_, "k");
	CK_OBJECT_HANDLE data = fx_create_data (fx, s, false, false, "d", "v");
	CK_OBJECT_CLASS k = CKO_CERTIFICATE;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BYTE other[32];

	memset (other, 1, sizeof other);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, set_rv (fx, s, data, CKA_CLASS, &k, sizeof k));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, set_rv (fx, s, key, CKA_KEY_TYPE, &kt, sizeof kt));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, set_rv (fx, s, key, CKA_LOCAL, &yes, 1));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, set_rv (fx, s, key, CKA_VALUE, other, 32));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, set_rv (fx, s, key, CKA_ALWAYS_SENSITIVE, &yes, 1));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, set_rv (fx, s, key, CKA_NEVER_EXTRACTABLE, &yes, 1));
	/* nothing changed */
	assert_num_eq (CKO_DATA, fx_get_ulong (fx, s, data, CKA_CLASS));
	assert_bytes (fx, s, key, CKA_VALUE, aes_key, sizeof aes_key);
}

/* SPEC: CKA_SENSITIVE cannot be changed once CK_TRUE. */
static void
test_set_sensitive_sticky (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_aes (fx, s, true, FALSE_, TRUE_, "becomes sensitive");
	CK_BYTE value[32];
	CK_ULONG len = sizeof value;

	assert_rv (CKR_OK, fx_set_bool_rv (fx, s, o, CKA_SENSITIVE, CK_TRUE));
	assert_bool (fx, s, o, CKA_SENSITIVE, true);
	assert_rv (CKR_ATTRIBUTE_SENSITIVE, fx_get_rv (fx, s, o, CKA_VALUE, value, &len));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, fx_set_bool_rv (fx, s, o, CKA_SENSITIVE, CK_FALSE));
	assert_bool (fx, s, o, CKA_SENSITIVE, true);
	/* made sensitive later: still not "always sensitive" */
	assert_bool (fx, s, o, CKA_ALWAYS_SENSITIVE, false);
}

/* SPEC: CKA_EXTRACTABLE cannot be changed once CK_FALSE. */
static void
test_set_extractable_sticky (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_aes (fx, s, true, TRUE_, TRUE_, "becomes unextractable");

	assert_rv (CKR_OK, fx_set_bool_rv (fx, s, o, CKA_EXTRACTABLE, CK_FALSE));
	assert_bool (fx, s, o, CKA_EXTRACTABLE, false);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, fx_set_bool_rv (fx, s, o, CKA_EXTRACTABLE, CK_TRUE));
	assert_bool (fx, s, o, CKA_EXTRACTABLE, false);
	assert_bool (fx, s, o, CKA_NEVER_EXTRACTABLE, false);
}

static void
test_set_not_modifiable (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		BOOL_ATTR (CKA_TOKEN, true),
		BOOL_ATTR (CKA_MODIFIABLE, false),
		STR_ATTR (CKA_LABEL, "frozen"),
		STR_ATTR (CKA_VALUE, "ice"),
	};
	CK_OBJECT_HANDLE o = fx_create (fx, s, t, N_ (t));

	assert_bool (fx, s, o, CKA_MODIFIABLE, false);
	assert_rv (CKR_ACTION_PROHIBITED, set_rv (fx, s, o, CKA_LABEL, "thawed", 6));
	assert_rv (CKR_ACTION_PROHIBITED, set_rv (fx, s, o, CKA_VALUE, "water", 5));
	assert_bytes (fx, s, o, CKA_LABEL, "frozen", 6);
	assert_bytes (fx, s, o, CKA_VALUE, "ice", 3);
}

static void
test_set_trusted_by_user (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_cert (fx, s, true, "cert");

	assert_rv (CKR_ATTRIBUTE_READ_ONLY, fx_set_bool_rv (fx, s, o, CKA_TRUSTED, CK_TRUE));
	assert_bool (fx, s, o, CKA_TRUSTED, false);
}

/* SPEC: only CKA_ID, CKA_ISSUER and CKA_SERIAL_NUMBER of an X.509
 * certificate (and the storage attributes such as CKA_LABEL) change. */
static void
test_set_certificate (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_cert (fx, s, true, "cert");
	CK_CERTIFICATE_TYPE other = CKC_X_509_ATTR_CERT;

	assert_rv (CKR_OK, set_rv (fx, s, o, CKA_ID, "new-id", 6));
	assert_rv (CKR_OK, set_rv (fx, s, o, CKA_LABEL, "relabelled", 10));
	assert_rv (CKR_OK, set_rv (fx, s, o, CKA_ISSUER, td_cert_issuer,
	                           sizeof td_cert_issuer));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_rv (fx, s, o, CKA_SUBJECT, "x", 1));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_rv (fx, s, o, CKA_VALUE, td_cert_subject, sizeof td_cert_subject));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY,
	           set_rv (fx, s, o, CKA_CERTIFICATE_TYPE, &other, sizeof other));
	assert_bytes (fx, s, o, CKA_ID, "new-id", 6);
	assert_bytes (fx, s, o, CKA_VALUE, td_cert_der, sizeof td_cert_der);
}

/* SPEC: trusted certificates cannot be modified. */
static void
test_set_trusted_certificate (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_cert, sizeof cls_cert },
		{ CKA_CERTIFICATE_TYPE, &ct_x509, sizeof ct_x509 },
		BIN_ATTR (CKA_SUBJECT, td_cert_subject),
		BIN_ATTR (CKA_VALUE, td_cert_der),
		BOOL_ATTR (CKA_TRUSTED, true),
		BOOL_ATTR (CKA_TOKEN, true),
		STR_ATTR (CKA_LABEL, "trusted root"),
	};
	CK_OBJECT_HANDLE h[4];

	fx_login (fx, s, CKU_SO, FX_SO_PIN);
	fx_create (fx, s, t, N_ (t));
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_num_eq (1, fx_find_label (fx, s, "trusted root", h, 4));
	assert_true (set_rv (fx, s, h[0], CKA_LABEL, "changed", 7) != CKR_OK);
	assert_true (set_rv (fx, s, h[0], CKA_ID, "changed", 7) != CKR_OK);
	assert_true (fx_set_bool_rv (fx, s, h[0], CKA_TRUSTED, CK_FALSE) != CKR_OK);
	assert_bytes (fx, s, h[0], CKA_LABEL, "trusted root", 12);
	assert_bool (fx, s, h[0], CKA_TRUSTED, true);
}

static void
test_set_bad_values (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_aes (fx, s, false, FALSE_, TRUE_, "k");
	CK_ULONG wide = 1;

	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID,
	           set_rv (fx, s, o, CKA_SENSITIVE, &wide, sizeof wide));
	assert_rv (CKR_ATTRIBUTE_TYPE_INVALID,
	           set_rv (fx, s, o, CKA_VENDOR_DEFINED | 0x4c48dead, &yes, 1));
	assert_rv (CKR_ATTRIBUTE_TYPE_INVALID,
	           set_rv (fx, s, o, CKA_APPLICATION, "app", 3));
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_SetAttributeValue (s, o, NULL, 1));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, set_rv (fx, s, o + 100000, CKA_LABEL, "x", 1));
	assert_bool (fx, s, o, CKA_SENSITIVE, false);
}

static void
test_set_read_only_session (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE tok = fx_create_data (fx, fx->session, true, false, "tok", "v");
	CK_SESSION_HANDLE ro = fx_open (fx, fx->slot, false);
	CK_OBJECT_HANDLE ses = fx_create_data (fx, ro, false, false, "ses", "v");

	assert_rv (CKR_SESSION_READ_ONLY, set_rv (fx, ro, tok, CKA_LABEL, "changed", 7));
	assert_bytes (fx, ro, tok, CKA_LABEL, "tok", 3);
	assert_rv (CKR_OK, set_rv (fx, ro, ses, CKA_LABEL, "changed", 7));
	assert_bytes (fx, ro, ses, CKA_LABEL, "changed", 7);
}

/* ------------------------------------------------------------------ */
/* C_CopyObject                                                        */

static void
test_copy (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = fx_create_data (fx, s, false, true, "original", "payload");
	CK_OBJECT_HANDLE c = CK_INVALID_HANDLE, h[4];
	CK_ATTRIBUTE t[] = {
		STR_ATTR (CKA_LABEL, "the copy"),
		BOOL_ATTR (CKA_TOKEN, true),
	};

	assert_rv (CKR_OK, fx->fl->C_CopyObject (s, o, t, N_ (t), &c));
	assert_true (c != CK_INVALID_HANDLE && c != o);
	assert_bytes (fx, s, c, CKA_LABEL, "the copy", 8);
	assert_bytes (fx, s, c, CKA_VALUE, "payload", 7);
	assert_bool (fx, s, c, CKA_TOKEN, true);
	assert_bool (fx, s, c, CKA_PRIVATE, true);
	assert_bytes (fx, s, o, CKA_LABEL, "original", 8);
	assert_bool (fx, s, o, CKA_TOKEN, false);
	/* the copy is a token object of its own */
	fx_restart (fx);
	s = fx_open (fx, fx->slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_num_eq (1, fx_find_label (fx, s, "the copy", h, 4));
	assert_num_eq (0, fx_find_label (fx, s, "original", h, 4));
}

static void
test_copy_sensitive_key (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_aes (fx, s, false, TRUE_, UNSET, "key");
	CK_OBJECT_HANDLE c = CK_INVALID_HANDLE;
	CK_ATTRIBUTE unsens[] = { BOOL_ATTR (CKA_SENSITIVE, false) };
	CK_ATTRIBUTE klass[] = { { CKA_CLASS, &cls_data, sizeof cls_data } };
	CK_RV rv;

	assert_rv (CKR_OK, fx->fl->C_CopyObject (s, o, NULL, 0, &c));
	assert_bool (fx, s, c, CKA_SENSITIVE, true);
	assert_num_eq (32, fx_get_ulong (fx, s, c, CKA_VALUE_LEN));
	/* a copy cannot drop the sensitivity of the original */
	rv = fx->fl->C_CopyObject (s, o, unsens, 1, &c);
	assert_true (rv == CKR_ATTRIBUTE_READ_ONLY || rv == CKR_TEMPLATE_INCONSISTENT);
	rv = fx->fl->C_CopyObject (s, o, klass, 1, &c);
	assert_true (rv == CKR_ATTRIBUTE_READ_ONLY || rv == CKR_TEMPLATE_INCONSISTENT);
}

static void
test_copy_not_copyable (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		BOOL_ATTR (CKA_COPYABLE, false),
		STR_ATTR (CKA_LABEL, "unique"),
	};
	CK_OBJECT_HANDLE o = fx_create (fx, s, t, N_ (t)), c, h[4];

	assert_bool (fx, s, o, CKA_COPYABLE, false);
	assert_rv (CKR_ACTION_PROHIBITED, fx->fl->C_CopyObject (s, o, NULL, 0, &c));
	assert_num_eq (1, fx_find_label (fx, s, "unique", h, 4));
	/* and CKA_COPYABLE cannot be turned back on */
	assert_true (fx_set_bool_rv (fx, s, o, CKA_COPYABLE, CK_TRUE) != CKR_OK);
}

static void
test_copy_bad (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE tok = fx_create_data (fx, fx->session, false, false, "o", "v");
	CK_SESSION_HANDLE ro = fx_open (fx, fx->slot, false);
	CK_ATTRIBUTE to_token[] = { BOOL_ATTR (CKA_TOKEN, true) };
	CK_OBJECT_HANDLE c;

	assert_rv (CKR_SESSION_READ_ONLY, fx->fl->C_CopyObject (ro, tok, to_token, 1, &c));
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_CopyObject (fx->session, tok, NULL, 0, NULL));
	assert_rv (CKR_OBJECT_HANDLE_INVALID,
	           fx->fl->C_CopyObject (fx->session, tok + 100000, NULL, 0, &c));
}

/* ------------------------------------------------------------------ */
/* C_DestroyObject, C_GetObjectSize                                    */

static void
test_destroy (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE ses = fx_create_data (fx, s, false, false, "ses", "v");
	CK_OBJECT_HANDLE tok = fx_create_data (fx, s, true, true, "tok", "v");
	CK_OBJECT_HANDLE h[4];
	CK_BYTE buf[8];
	CK_ULONG len = sizeof buf;

	assert_rv (CKR_OK, fx->fl->C_DestroyObject (s, ses));
	assert_rv (CKR_OK, fx->fl->C_DestroyObject (s, tok));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx_get_rv (fx, s, ses, CKA_VALUE, buf, &len));
	len = sizeof buf;
	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx_get_rv (fx, s, tok, CKA_VALUE, buf, &len));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx->fl->C_DestroyObject (s, tok));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx->fl->C_DestroyObject (s, 0));
	assert_num_eq (0, fx_find_label (fx, s, "ses", h, 4));
	assert_num_eq (0, fx_find_label (fx, s, "tok", h, 4));
	fx_restart (fx);
	s = fx_open (fx, fx->slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_num_eq (0, fx_find_label (fx, s, "tok", h, 4));
}

static void
test_destroy_not_destroyable (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_data, sizeof cls_data },
		BOOL_ATTR (CKA_TOKEN, true),
		BOOL_ATTR (CKA_DESTROYABLE, false),
		STR_ATTR (CKA_LABEL, "permanent"),
	};
	CK_OBJECT_HANDLE o = fx_create (fx, s, t, N_ (t)), h[4];

	assert_rv (CKR_ACTION_PROHIBITED, fx->fl->C_DestroyObject (s, o));
	assert_num_eq (1, fx_find_label (fx, s, "permanent", h, 4));
}

static void
test_destroy_read_only_session (void *arg)
{
	lh_fx *fx = arg;
	CK_OBJECT_HANDLE tok = fx_create_data (fx, fx->session, true, false, "tok", "v");
	CK_SESSION_HANDLE ro = fx_open (fx, fx->slot, false);
	CK_OBJECT_HANDLE ses = fx_create_data (fx, ro, false, false, "ses", "v");
	CK_OBJECT_HANDLE h[4];

	assert_rv (CKR_SESSION_READ_ONLY, fx->fl->C_DestroyObject (ro, tok));
	assert_num_eq (1, fx_find_label (fx, ro, "tok", h, 4));
	assert_rv (CKR_OK, fx->fl->C_DestroyObject (ro, ses));
}

static void
test_object_size (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE o = make_cert (fx, s, true, "cert");
	CK_ULONG size = 0;

	assert_rv (CKR_OK, fx->fl->C_GetObjectSize (s, o, &size));
	assert_true (size != 0);
	assert_true (size == CK_UNAVAILABLE_INFORMATION || size >= sizeof td_cert_der);
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_GetObjectSize (s, o, NULL));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx->fl->C_GetObjectSize (s, o + 100000, &size));
}

/* ------------------------------------------------------------------ */
/* Lifetime and visibility                                             */

static void
test_session_object_shared (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE a = fx->session, b = fx_open (fx, fx->slot, false);
	CK_OBJECT_HANDLE o = fx_create_data (fx, a, false, false, "shared", "v");
	CK_OBJECT_HANDLE h[4];

	/* session objects are visible to every session of the application */
	assert_num_eq (1, fx_find_label (fx, b, "shared", h, 4));
	assert_num_eq (o, h[0]);
	assert_bytes (fx, b, o, CKA_VALUE, "v", 1);
}

static void
test_session_object_vanishes (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE a = fx_open (fx, fx->slot, true), b = fx->session;
	CK_OBJECT_HANDLE o = fx_create_data (fx, a, false, true, "ephemeral", "v");
	CK_OBJECT_HANDLE keep = fx_create_data (fx, b, false, true, "kept", "v");
	CK_OBJECT_HANDLE h[4];
	CK_BYTE buf[8];
	CK_ULONG len = sizeof buf;

	assert_rv (CKR_OK, fx->fl->C_CloseSession (a));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx_get_rv (fx, b, o, CKA_VALUE, buf, &len));
	assert_num_eq (0, fx_find_label (fx, b, "ephemeral", h, 4));
	assert_bytes (fx, b, keep, CKA_VALUE, "v", 1);
	/* and nothing of it reached the token */
	fx_restart (fx);
	b = fx_open (fx, fx->slot, true);
	fx_login (fx, b, CKU_USER, FX_USER_PIN);
	assert_num_eq (0, fx_find (fx, b, NULL, 0, h, 4));
}

static void
test_token_objects_persist (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE h[4];

	fx_create_data (fx, s, true, false, "persist public", "public data");
	fx_create_data (fx, s, true, true, "persist private", "private data");
	make_cert (fx, s, true, "persist cert");
	make_aes (fx, s, true, FALSE_, TRUE_, "persist aes");
	make_rsa_private (fx, s, true, "persist rsa");

	fx_reload (fx);
	s = fx_open (fx, fx->slot, false);
	/* public objects are there before login */
	assert_num_eq (1, fx_find_label (fx, s, "persist public", h, 4));
	assert_bytes (fx, s, h[0], CKA_VALUE, "public data", 11);
	assert_num_eq (1, fx_find_label (fx, s, "persist cert", h, 4));
	assert_bytes (fx, s, h[0], CKA_VALUE, td_cert_der, sizeof td_cert_der);
	assert_num_eq (0, fx_find_label (fx, s, "persist private", h, 4));

	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_num_eq (1, fx_find_label (fx, s, "persist private", h, 4));
	assert_bytes (fx, s, h[0], CKA_VALUE, "private data", 12);
	assert_num_eq (1, fx_find_label (fx, s, "persist aes", h, 4));
	assert_bytes (fx, s, h[0], CKA_VALUE, aes_key, sizeof aes_key);
	assert_num_eq (32, fx_get_ulong (fx, s, h[0], CKA_VALUE_LEN));
	assert_num_eq (1, fx_find_label (fx, s, "persist rsa", h, 4));
	assert_bytes (fx, s, h[0], CKA_MODULUS, td_rsa_modulus, sizeof td_rsa_modulus);
	assert_bool (fx, s, h[0], CKA_SENSITIVE, true);
	assert_bool (fx, s, h[0], CKA_TOKEN, true);
	assert_num_eq (5, fx_find (fx, s, NULL, 0, h, 4));
}

static void
test_private_logged_out (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE priv = fx_create_data (fx, s, true, true, "secret", "v");
	CK_OBJECT_HANDLE pub = fx_create_data (fx, s, true, false, "open", "w");
	CK_OBJECT_HANDLE h[4];
	CK_BYTE buf[8];
	CK_ULONG len = sizeof buf;

	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx_get_rv (fx, s, priv, CKA_VALUE, buf, &len));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx->fl->C_DestroyObject (s, priv));
	assert_num_eq (0, fx_find_label (fx, s, "secret", h, 4));
	assert_num_eq (1, fx_find (fx, s, NULL, 0, h, 4));
	assert_num_eq (pub, h[0]);
	assert_bytes (fx, s, pub, CKA_VALUE, "w", 1);
	/* a template asking for private objects finds none */
	{
		CK_ATTRIBUTE t[] = { BOOL_ATTR (CKA_PRIVATE, true) };
		assert_num_eq (0, fx_find (fx, s, t, 1, h, 4));
	}
}

/* SPEC (C_Logout): handles to private objects become invalid, and stay
 * invalid after a new login; private session objects are destroyed. */
static void
test_private_relogin (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE tok = fx_create_data (fx, s, true, true, "private token", "v");
	CK_OBJECT_HANDLE ses = fx_create_data (fx, s, false, true, "private session", "v");
	CK_OBJECT_HANDLE pub = fx_create_data (fx, s, false, false, "public session", "v");
	CK_OBJECT_HANDLE h[4];
	CK_BYTE buf[8];
	CK_ULONG len;

	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	len = sizeof buf;
	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx_get_rv (fx, s, tok, CKA_VALUE, buf, &len));
	len = sizeof buf;
	assert_rv (CKR_OBJECT_HANDLE_INVALID, fx_get_rv (fx, s, ses, CKA_VALUE, buf, &len));
	assert_num_eq (0, fx_find_label (fx, s, "private session", h, 4));
	assert_num_eq (1, fx_find_label (fx, s, "public session", h, 4));
	assert_num_eq (pub, h[0]);
	assert_num_eq (1, fx_find_label (fx, s, "private token", h, 4));
	assert_bytes (fx, s, h[0], CKA_VALUE, "v", 1);
}

/* ------------------------------------------------------------------ */
/* C_FindObjects                                                       */

/* Two data objects, a certificate, an AES key, an RSA key pair. */
static void
populate (lh_fx *fx, CK_SESSION_HANDLE s)
{
	fx_create_data (fx, s, true, false, "data one", "value one");
	fx_create_data (fx, s, false, true, "data two", "value two");
	make_cert (fx, s, true, "the cert");
	make_aes (fx, s, true, TRUE_, UNSET, "the aes key");
	make_rsa_private (fx, s, true, "the rsa key");
	make_rsa_public (fx, s, false, "the rsa key");
}

static CK_ULONG
find_class (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_CLASS *klass)
{
	CK_ATTRIBUTE t = { CKA_CLASS, klass, sizeof *klass };

	return fx_find (fx, s, &t, 1, NULL, 0);
}

static void
test_find_by_class (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;

	populate (fx, s);
	assert_num_eq (2, find_class (fx, s, &cls_data));
	assert_num_eq (1, find_class (fx, s, &cls_cert));
	assert_num_eq (1, find_class (fx, s, &cls_secret));
	assert_num_eq (1, find_class (fx, s, &cls_private));
	assert_num_eq (1, find_class (fx, s, &cls_public));
}

static void
test_find_by_label_id (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE h[8];
	CK_ATTRIBUTE rsa_id = STR_ATTR (CKA_ID, "rsa-id-01");
	CK_ATTRIBUTE cert_id = STR_ATTR (CKA_ID, "cert-id-01");
	CK_ATTRIBUTE pair[] = {
		STR_ATTR (CKA_ID, "rsa-id-01"),
		{ CKA_CLASS, &cls_private, sizeof cls_private },
	};

	populate (fx, s);
	assert_num_eq (1, fx_find_label (fx, s, "data two", h, 8));
	assert_bytes (fx, s, h[0], CKA_VALUE, "value two", 9);
	assert_num_eq (2, fx_find_label (fx, s, "the rsa key", h, 8));
	assert_num_eq (0, fx_find_label (fx, s, "the rsa", h, 8));
	assert_num_eq (0, fx_find_label (fx, s, "the rsa key and more", h, 8));
	assert_num_eq (2, fx_find (fx, s, &rsa_id, 1, h, 8));
	assert_num_eq (1, fx_find (fx, s, &cert_id, 1, h, 8));
	assert_num_eq (CKO_CERTIFICATE, fx_get_ulong (fx, s, h[0], CKA_CLASS));
	assert_num_eq (1, fx_find (fx, s, pair, 2, h, 8));
	assert_num_eq (CKO_PRIVATE_KEY, fx_get_ulong (fx, s, h[0], CKA_CLASS));
}

/* Attributes without an index (CKA_VALUE, CKA_TOKEN, CKA_SUBJECT). */
static void
test_find_other_attrs (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE h[8];
	CK_ATTRIBUTE value = STR_ATTR (CKA_VALUE, "value one");
	CK_ATTRIBUTE token = BOOL_ATTR (CKA_TOKEN, true);
	CK_ATTRIBUTE session = BOOL_ATTR (CKA_TOKEN, false);
	CK_ATTRIBUTE subject = BIN_ATTR (CKA_SUBJECT, td_cert_subject);
	CK_ATTRIBUTE priv = BOOL_ATTR (CKA_PRIVATE, true);

	populate (fx, s);
	assert_num_eq (1, fx_find (fx, s, &value, 1, h, 8));
	assert_bytes (fx, s, h[0], CKA_LABEL, "data one", 8);
	assert_num_eq (4, fx_find (fx, s, &token, 1, h, 8));
	assert_num_eq (2, fx_find (fx, s, &session, 1, h, 8));
	assert_num_eq (1, fx_find (fx, s, &subject, 1, h, 8));
	assert_num_eq (3, fx_find (fx, s, &priv, 1, h, 8));
}

static void
test_find_all (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE h[16], batch[16];
	CK_ULONG i, j, n, got, total = 0;

	populate (fx, s);
	n = fx_find (fx, s, NULL, 0, h, 16);
	assert_num_eq (6, n);
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			assert_true (h[i] != h[j]);
	/* the same set with a big ulMaxObjectCount */
	assert_rv (CKR_OK, fx->fl->C_FindObjectsInit (s, NULL, 0));
	do {
		got = 0;
		assert_rv (CKR_OK, fx->fl->C_FindObjects (s, batch, 16, &got));
		assert_true (total + got <= 6);
		for (i = 0; i < got; i++) {
			for (j = 0; j < n; j++)
				if (h[j] == batch[i])
					break;
			assert_true (j < n);
		}
		total += got;
	} while (got > 0);
	assert_rv (CKR_OK, fx->fl->C_FindObjectsFinal (s));
	assert_num_eq (6, total);
}

static void
test_find_operation_state (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session, other = fx_open (fx, fx->slot, false);
	CK_OBJECT_HANDLE h[8];
	CK_ULONG got;

	populate (fx, s);
	assert_rv (CKR_OPERATION_NOT_INITIALIZED, fx->fl->C_FindObjects (s, h, 8, &got));
	assert_rv (CKR_OPERATION_NOT_INITIALIZED, fx->fl->C_FindObjectsFinal (s));
	assert_rv (CKR_OK, fx->fl->C_FindObjectsInit (s, NULL, 0));
	assert_rv (CKR_OPERATION_ACTIVE, fx->fl->C_FindObjectsInit (s, NULL, 0));
	/* another session searches on its own */
	assert_num_eq (1, fx_find_label (fx, other, "data one", h, 8));
	/* and the first search goes on unharmed */
	got = 0;
	assert_rv (CKR_OK, fx->fl->C_FindObjects (s, h, 1, &got));
	assert_num_eq (1, got);
	assert_rv (CKR_OK, fx->fl->C_FindObjectsFinal (s));
	assert_rv (CKR_OPERATION_NOT_INITIALIZED, fx->fl->C_FindObjects (s, h, 8, &got));
	assert_rv (CKR_OPERATION_NOT_INITIALIZED, fx->fl->C_FindObjectsFinal (s));
}

static void
test_find_bad_args (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE h[4];
	CK_ULONG got;
	CK_ATTRIBUTE unknown = { CKA_VENDOR_DEFINED | 0x4c48dead, &yes, 1 };
	CK_RV rv;

	populate (fx, s);
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_FindObjectsInit (s, NULL, 1));
	assert_rv (CKR_OK, fx->fl->C_FindObjectsInit (s, NULL, 0));
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_FindObjects (s, NULL, 1, &got));
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_FindObjects (s, h, 1, NULL));
	assert_rv (CKR_OK, fx->fl->C_FindObjectsFinal (s));
	/* an attribute no object has matches nothing */
	rv = fx->fl->C_FindObjectsInit (s, &unknown, 1);
	assert_true (rv == CKR_OK || rv == CKR_ATTRIBUTE_TYPE_INVALID);
	if (rv == CKR_OK) {
		got = 99;
		assert_rv (CKR_OK, fx->fl->C_FindObjects (s, h, 4, &got));
		assert_num_eq (0, got);
		assert_rv (CKR_OK, fx->fl->C_FindObjectsFinal (s));
	}
}

/* Many token objects: the right one by label, all by class. */
static void
test_find_many (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE h[4];
	char label[32], value[32];
	int i;

	for (i = 0; i < 200; i++) {
		snprintf (label, sizeof label, "object %03d", i);
		snprintf (value, sizeof value, "value %03d", i);
		fx_create_data (fx, s, true, i % 2 == 0, label, value);
	}
	assert_num_eq (200, find_class (fx, s, &cls_data));
	assert_num_eq (1, fx_find_label (fx, s, "object 137", h, 4));
	assert_bytes (fx, s, h[0], CKA_VALUE, "value 137", 9);
	assert_num_eq (1, fx_find_label (fx, s, "object 068", h, 4));
	assert_bytes (fx, s, h[0], CKA_VALUE, "value 068", 9);
}

int
main (void)
{
	fx_main ();
	lh_test_add ("/object/create/data", test_create_data, FX (fx_user));
	lh_test_add ("/object/create/data-defaults", test_create_data_defaults, FX (fx_user));
	lh_test_add ("/object/create/public-session", test_create_public_session, FX (fx_ready));
	lh_test_add ("/object/create/certificate", test_create_certificate, FX (fx_user));
	lh_test_add ("/object/create/certificate-incomplete", test_create_certificate_incomplete, FX (fx_user));
	lh_test_add ("/object/create/aes", test_create_aes, FX (fx_user));
	lh_test_add ("/object/create/aes-sensitive", test_create_aes_sensitive, FX (fx_user));
	lh_test_add ("/object/create/aes-lengths", test_create_aes_lengths, FX (fx_user));
	lh_test_add ("/object/create/aes-value-len-given", test_create_aes_value_len_given, FX (fx_user));
	lh_test_add ("/object/create/generic-secret", test_create_generic_secret, FX (fx_user));
	lh_test_add ("/object/create/secret-incomplete", test_create_secret_incomplete, FX (fx_user));
	lh_test_add ("/object/create/rsa-private", test_create_rsa_private, FX (fx_user));
	lh_test_add ("/object/create/rsa-private-incomplete", test_create_rsa_private_incomplete, FX (fx_user));
	lh_test_add ("/object/create/rsa-public", test_create_rsa_public, FX (fx_user));
	lh_test_add ("/object/create/missing-class", test_create_missing_class, FX (fx_user));
	lh_test_add ("/object/create/duplicate", test_create_duplicate, FX (fx_user));
	lh_test_add ("/object/create/conflicting", test_create_conflicting, FX (fx_user));
	lh_test_add ("/object/create/type-invalid", test_create_type_invalid, FX (fx_user));
	lh_test_add ("/object/create/value-invalid", test_create_value_invalid, FX (fx_user));
	lh_test_add ("/object/create/read-only-attrs", test_create_read_only, FX (fx_user));
	lh_test_add ("/object/create/trusted-by-user", test_create_trusted_by_user, FX (fx_user));
	lh_test_add ("/object/create/trusted-by-so", test_create_trusted_by_so, FX (fx_ready));
	lh_test_add ("/object/create/so-no-private", test_create_so_private, FX (fx_ready));
	lh_test_add ("/object/create/bad-args", test_create_bad_args, FX (fx_user));
	lh_test_add ("/object/create/token-in-read-only-session", test_create_token_read_only_session, FX (fx_user));
	lh_test_add ("/object/create/not-logged-in", test_create_not_logged_in, FX (fx_ready));
	lh_test_add ("/object/get/length-query", test_get_length_query, FX (fx_user));
	lh_test_add ("/object/get/buffer-too-small", test_get_buffer_too_small, FX (fx_user));
	lh_test_add ("/object/get/type-invalid", test_get_type_invalid, FX (fx_user));
	lh_test_add ("/object/get/sensitive", test_get_sensitive_secret, FX (fx_user));
	lh_test_add ("/object/get/unextractable", test_get_unextractable, FX (fx_user));
	lh_test_add ("/object/get/sensitive-private-key", test_get_sensitive_private_key, FX (fx_user));
	lh_test_add ("/object/get/invalid-handle", test_get_invalid_handle, FX (fx_user));
	lh_test_add ("/object/set/label", test_set_label, FX (fx_user));
	lh_test_add ("/object/set/read-only", test_set_read_only, FX (fx_user));
	lh_test_add ("/object/set/sensitive-sticky", test_set_sensitive_sticky, FX (fx_user));
	lh_test_add ("/object/set/extractable-sticky", test_set_extractable_sticky, FX (fx_user));
	lh_test_add ("/object/set/not-modifiable", test_set_not_modifiable, FX (fx_user));
	lh_test_add ("/object/set/trusted-by-user", test_set_trusted_by_user, FX (fx_user));
	lh_test_add ("/object/set/certificate", test_set_certificate, FX (fx_user));
	lh_test_add ("/object/set/trusted-certificate", test_set_trusted_certificate, FX (fx_ready));
	lh_test_add ("/object/set/bad-values", test_set_bad_values, FX (fx_user));
	lh_test_add ("/object/set/read-only-session", test_set_read_only_session, FX (fx_user));
	lh_test_add ("/object/copy/basic", test_copy, FX (fx_user));
	lh_test_add ("/object/copy/sensitive-key", test_copy_sensitive_key, FX (fx_user));
	lh_test_add ("/object/copy/not-copyable", test_copy_not_copyable, FX (fx_user));
	lh_test_add ("/object/copy/bad", test_copy_bad, FX (fx_user));
	lh_test_add ("/object/destroy/basic", test_destroy, FX (fx_user));
	lh_test_add ("/object/destroy/not-destroyable", test_destroy_not_destroyable, FX (fx_user));
	lh_test_add ("/object/destroy/read-only-session", test_destroy_read_only_session, FX (fx_user));
	lh_test_add ("/object/size", test_object_size, FX (fx_user));
	lh_test_add ("/object/session-object/shared", test_session_object_shared, FX (fx_user));
	lh_test_add ("/object/session-object/vanishes", test_session_object_vanishes, FX (fx_user));
	lh_test_add ("/object/token-object/persist", test_token_objects_persist, FX (fx_user));
	lh_test_add ("/object/private/logged-out", test_private_logged_out, FX (fx_user));
	lh_test_add ("/object/private/relogin", test_private_relogin, FX (fx_user));
	lh_test_add ("/object/find/by-class", test_find_by_class, FX (fx_user));
	lh_test_add ("/object/find/by-label-id", test_find_by_label_id, FX (fx_user));
	lh_test_add ("/object/find/other-attrs", test_find_other_attrs, FX (fx_user));
	lh_test_add ("/object/find/all", test_find_all, FX (fx_user));
	lh_test_add ("/object/find/operation-state", test_find_operation_state, FX (fx_user));
	lh_test_add ("/object/find/bad-args", test_find_bad_args, FX (fx_user));
	lh_test_add ("/object/find/many", test_find_many, FX (fx_user));
	return lh_test_run ();
}
