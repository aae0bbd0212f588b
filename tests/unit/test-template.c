/*
 * test-template.c - the attribute policy table and template handling,
 * without going through the module's entry points.
 */
#include "pkcs11/lh.h"
#include "pkcs11/attrs.h"
#include "pkcs11/object.h"
#include "pkcs11/template.h"
#include "test.h"

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
static CK_KEY_TYPE aes = CKK_AES;
static unsigned char key32[32] = { 1, 2, 3 };

/* Every rule is reachable: no earlier rule shadows a later one. */
static void
test_table_consistent (void *unused)
{
	const lh_attr_rule *r;
	size_t n, i, j;

	r = lh_attr_rules (&n);
	assert_true (n > 50);
	for (i = 0; i < n; i++) {
		assert_true (r[i].kind <= LH_K_MECHS);
		assert_true ((r[i].classes & ~LH_C_ANY) == 0 && r[i].classes != 0);
		/* a required attribute has no default */
		assert_false ((r[i].flags & LH_A_REQUIRED) && (r[i].flags & LH_A_DEFAULT));
		/* sticky and SO-only rules only make sense for booleans */
		if (r[i].flags & (LH_A_STICKY_TRUE | LH_A_STICKY_FALSE | LH_A_SO_TRUE))
			assert_num_eq (LH_K_BOOL, r[i].kind);
		for (j = 0; j < i; j++) {
			if (r[j].type != r[i].type || !(r[j].classes & r[i].classes))
				continue;
			/* overlap is fine only if the earlier row is key-type specific
			 * and the later one is not, or they name other key types */
			if (r[j].key_type == r[i].key_type || r[j].key_type == LH_KT_ANY)
				assert_true (!"rule shadowed by an earlier rule");
		}
	}
}

static CK_RV
create (CK_ATTRIBUTE *t, CK_ULONG n, CK_USER_TYPE user, lh_attrs *out)
{
	return lh_template_create (t, n, user, out);
}

static void
test_secret_defaults (void *unused)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &secret, sizeof secret },
		{ CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_VALUE, key32, sizeof key32 },
	};
	CK_ULONG len;
	lh_attrs a;

	assert_rv (CKR_OK, create (t, 3, CKU_USER, &a));
	assert_true (lh_attrs_bool (&a, CKA_SENSITIVE, false));
	assert_false (lh_attrs_bool (&a, CKA_EXTRACTABLE, true));
	assert_true (lh_attrs_bool (&a, CKA_PRIVATE, false));
	assert_false (lh_attrs_bool (&a, CKA_LOCAL, true));
	assert_false (lh_attrs_bool (&a, CKA_ALWAYS_SENSITIVE, true));
	assert_false (lh_attrs_bool (&a, CKA_WRAP, true));
	assert_false (lh_attrs_bool (&a, CKA_TOKEN, true));
	assert_true (lh_attrs_ulong (&a, CKA_VALUE_LEN, &len));
	assert_num_eq (32, len);
	assert_true (lh_object_hides (&a, lh_attrs_get (&a, CKA_VALUE)));
	assert_false (lh_object_hides (&a, lh_attrs_get (&a, CKA_LABEL)));
	lh_attrs_free (&a);
}

static void
test_create_errors (void *unused)
{
	unsigned char key17[17] = { 0 };
	CK_BBOOL two = 2;
	CK_ULONG wrong_len = 16;
	lh_attrs a;
	CK_ATTRIBUTE dup[] = {
		{ CKA_CLASS, &secret, sizeof secret }, { CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_VALUE, key32, 32 }, { CKA_LABEL, "a", 1 }, { CKA_LABEL, "b", 1 },
	};
	CK_ATTRIBUTE ro[] = {
		{ CKA_CLASS, &secret, sizeof secret }, { CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_VALUE, key32, 32 }, { CKA_LOCAL, &yes, 1 },
	};
	CK_ATTRIBUTE trusted[] = {
		{ CKA_CLASS, &secret, sizeof secret }, { CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_VALUE, key32, 32 }, { CKA_TRUSTED, &yes, 1 },
	};
	CK_ATTRIBUTE badlen[] = {
		{ CKA_CLASS, &secret, sizeof secret }, { CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_VALUE, key17, 17 },
	};
	CK_ATTRIBUTE badbool[] = {
		{ CKA_CLASS, &secret, sizeof secret }, { CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_VALUE, key32, 32 }, { CKA_TOKEN, &two, 1 },
	};
	CK_ATTRIBUTE noclass[] = { { CKA_LABEL, "x", 1 } };
	CK_ATTRIBUTE nokey[] = {
		{ CKA_CLASS, &secret, sizeof secret }, { CKA_KEY_TYPE, &aes, sizeof aes },
	};
	CK_ATTRIBUTE vlen[] = {
		{ CKA_CLASS, &secret, sizeof secret }, { CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_VALUE, key32, 32 }, { CKA_VALUE_LEN, &wrong_len, sizeof wrong_len },
	};
	CK_ATTRIBUTE foreign[] = {
		{ CKA_CLASS, &secret, sizeof secret }, { CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_VALUE, key32, 32 }, { CKA_MODULUS, key32, 32 },
	};

	assert_rv (CKR_TEMPLATE_INCONSISTENT, create (dup, 5, CKU_USER, &a));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, create (ro, 4, CKU_USER, &a));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, create (trusted, 4, CKU_USER, &a));
	assert_rv (CKR_OK, create (trusted, 4, CKU_SO, &a));
	lh_attrs_free (&a);
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID, create (badlen, 3, CKU_USER, &a));
	assert_rv (CKR_ATTRIBUTE_VALUE_INVALID, create (badbool, 4, CKU_USER, &a));
	assert_rv (CKR_TEMPLATE_INCOMPLETE, create (noclass, 1, CKU_USER, &a));
	assert_rv (CKR_TEMPLATE_INCOMPLETE, create (nokey, 2, CKU_USER, &a));
	/* SPEC: CKA_VALUE_LEN must not be given to C_CreateObject */
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, create (vlen, 4, CKU_USER, &a));
	assert_rv (CKR_ATTRIBUTE_TYPE_INVALID, create (foreign, 4, CKU_USER, &a));
	assert_rv (CKR_ARGUMENTS_BAD, create (NULL, 2, CKU_USER, &a));
}

static void
test_merge_rules (void *unused)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &secret, sizeof secret },
		{ CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_VALUE, key32, sizeof key32 },
		{ CKA_SENSITIVE, &no, 1 },
		{ CKA_EXTRACTABLE, &yes, 1 },
	};
	CK_ATTRIBUTE label[] = { { CKA_LABEL, "new", 3 } };
	CK_ATTRIBUTE unsens[] = { { CKA_SENSITIVE, &no, 1 } };
	CK_ATTRIBUTE sens[] = { { CKA_SENSITIVE, &yes, 1 } };
	CK_ATTRIBUTE unext[] = { { CKA_EXTRACTABLE, &no, 1 } };
	CK_ATTRIBUTE ext[] = { { CKA_EXTRACTABLE, &yes, 1 } };
	CK_ATTRIBUTE cls[] = { { CKA_CLASS, &(CK_OBJECT_CLASS){ CKO_DATA }, sizeof (CK_ULONG) } };
	CK_ATTRIBUTE tok[] = { { CKA_TOKEN, &yes, 1 } };
	lh_attrs a, b, c;
	const lh_sattr *l;

	assert_rv (CKR_OK, create (t, 5, CKU_USER, &a));
	assert_rv (CKR_OK, lh_template_merge (&a, label, 1, CKU_USER, false, &b));
	l = lh_attrs_get (&b, CKA_LABEL);
	assert_mem_eq ("new", 3, l->value, l->len);
	/* sensitive false -> true is allowed, and then sticks */
	assert_rv (CKR_OK, lh_template_merge (&b, sens, 1, CKU_USER, false, &c));
	lh_attrs_free (&b);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, lh_template_merge (&c, unsens, 1, CKU_USER, false, &b));
	/* extractable true -> false is allowed, and then sticks */
	lh_attrs_free (&c);
	assert_rv (CKR_OK, lh_template_merge (&a, unext, 1, CKU_USER, false, &c));
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, lh_template_merge (&c, ext, 1, CKU_USER, false, &b));
	lh_attrs_free (&c);
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, lh_template_merge (&a, cls, 1, CKU_USER, false, &b));
	/* CKA_TOKEN changes only through C_CopyObject */
	assert_rv (CKR_ATTRIBUTE_READ_ONLY, lh_template_merge (&a, tok, 1, CKU_USER, false, &b));
	assert_rv (CKR_OK, lh_template_merge (&a, tok, 1, CKU_USER, true, &b));
	assert_true (lh_attrs_bool (&b, CKA_TOKEN, false));
	lh_attrs_free (&b);
	lh_attrs_free (&a);
}

static void
test_array_attribute (void *unused)
{
	CK_ATTRIBUTE inner[] = {
		{ CKA_EXTRACTABLE, &no, 1 },
		{ CKA_LABEL, "wrapped", 7 },
	};
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &secret, sizeof secret },
		{ CKA_KEY_TYPE, &aes, sizeof aes },
		{ CKA_VALUE, key32, sizeof key32 },
		{ CKA_UNWRAP_TEMPLATE, inner, sizeof inner },
	};
	CK_ATTRIBUTE out = { CKA_UNWRAP_TEMPLATE, NULL, 0 };
	CK_ATTRIBUTE got[2];
	CK_BBOOL b = 9;
	char label[16];
	lh_attrs a;

	assert_rv (CKR_OK, create (t, 4, CKU_USER, &a));
	assert_rv (CKR_OK, lh_template_get (lh_attrs_get (&a, CKA_UNWRAP_TEMPLATE), &out));
	assert_num_eq (2 * sizeof (CK_ATTRIBUTE), out.ulValueLen);
	/* inner lengths first, then values */
	got[0] = (CK_ATTRIBUTE){ 0, NULL, 0 };
	got[1] = (CK_ATTRIBUTE){ 0, NULL, 0 };
	out.pValue = got;
	assert_rv (CKR_OK, lh_template_get (lh_attrs_get (&a, CKA_UNWRAP_TEMPLATE), &out));
	assert_num_eq (CKA_EXTRACTABLE, got[0].type);
	assert_num_eq (1, got[0].ulValueLen);
	assert_num_eq (7, got[1].ulValueLen);
	got[0].pValue = &b;
	got[1].pValue = label;
	got[1].ulValueLen = 3;        /* too small */
	assert_rv (CKR_BUFFER_TOO_SMALL,
	           lh_template_get (lh_attrs_get (&a, CKA_UNWRAP_TEMPLATE), &out));
	assert_num_eq (CK_UNAVAILABLE_INFORMATION, got[1].ulValueLen);
	assert_num_eq (CK_FALSE, b);
	got[1].ulValueLen = sizeof label;
	assert_rv (CKR_OK, lh_template_get (lh_attrs_get (&a, CKA_UNWRAP_TEMPLATE), &out));
	assert_mem_eq ("wrapped", 7, label, got[1].ulValueLen);
	lh_attrs_free (&a);
}

int
main (void)
{
	lh_test_add ("/attrs/table-consistent", test_table_consistent, NULL);
	lh_test_add ("/template/secret-defaults", test_secret_defaults, NULL);
	lh_test_add ("/template/create-errors", test_create_errors, NULL);
	lh_test_add ("/template/merge-rules", test_merge_rules, NULL);
	lh_test_add ("/template/array-attribute", test_array_attribute, NULL);
	return lh_test_run ();
}
