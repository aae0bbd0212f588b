/*
 * test-mech.c - the mechanism table is sorted, has no duplicates, and
 * every capability it claims has a family function behind it (the role
 * of p11-kit's P11_RPC_CHECK_CALLS).
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"
#include "test.h"

static void
test_sorted_unique (void *unused)
{
	const lh_mech *m;
	size_t n, i;

	m = lh_mech_table (&n);
	assert_true (n > 40);
	for (i = 1; i < n; i++)
		assert_true (m[i - 1].type < m[i].type);
}

static void
test_flags_backed (void *unused)
{
	const CK_FLAGS ops = CKF_ENCRYPT | CKF_DECRYPT | CKF_SIGN | CKF_VERIFY |
	                     CKF_DIGEST | CKF_WRAP | CKF_UNWRAP;
	const lh_mech *m;
	size_t n, i;

	m = lh_mech_table (&n);
	for (i = 0; i < n; i++) {
		printf ("# 0x%lx\n", (unsigned long)m[i].type);
		assert_true (m[i].family != NULL);
		assert_true (m[i].min_key <= m[i].max_key);
		if (m[i].flags & ops)
			assert_true (m[i].family->op_init != NULL);
		if (m[i].flags & CKF_GENERATE)
			assert_true (m[i].family->generate != NULL);
		if (m[i].flags & CKF_GENERATE_KEY_PAIR)
			assert_true (m[i].family->generate_pair != NULL);
		if (m[i].flags & CKF_DERIVE)
			assert_true (m[i].family->derive != NULL);
		/* only authenticated or padded modes may wrap */
		if (m[i].flags & CKF_WRAP)
			assert_true (m[i].lh_flags & LH_MF_WRAP_SAFE);
		/* hashed variants name a digest we know */
		if (m[i].arg)
			assert_true (lh_digest_name (m[i].arg) != NULL);
	}
}

static void
test_find (void *unused)
{
	const lh_mech *m;

	assert_rv (CKR_OK, lh_mech_find (CKM_SHA256, CKF_DIGEST, &m));
	assert_num_eq (CKM_SHA256, m->type);
	assert_rv (CKR_MECHANISM_INVALID, lh_mech_find (CKM_SHA256, CKF_SIGN, &m));
	assert_rv (CKR_OK, lh_mech_find (CKM_AES_KEY_WRAP_PAD, CKF_WRAP, &m));
	assert_rv (CKR_MECHANISM_INVALID, lh_mech_find (CKM_AES_CBC, CKF_WRAP, &m));
	assert_rv (CKR_MECHANISM_INVALID, lh_mech_find (CKM_CONCATENATE_BASE_AND_DATA, 0, &m));
	assert_rv (CKR_MECHANISM_INVALID, lh_mech_find (0x7fffffffUL, 0, &m));
}

int
main (void)
{
	lh_test_add ("/mech/table/sorted-unique", test_sorted_unique, NULL);
	lh_test_add ("/mech/table/flags-backed", test_flags_backed, NULL);
	lh_test_add ("/mech/find", test_find, NULL);
	return lh_test_run ();
}
