/*
 * test-mech-table.c - C_GetMechanismList/C_GetMechanismInfo through the
 * API: truthful sizes and flags, the length-query convention, and the
 * config's disable_mechanisms taking mechanisms away everywhere.
 */
#include "fixture.h"

static const fx_opts fx_no_ecb = { FX_USER, "disable_mechanisms = CKM_AES_ECB, CKM_SHA_1\n" };

static CK_ULONG
mech_list (lh_fx *fx, CK_MECHANISM_TYPE *out, CK_ULONG max)
{
	CK_ULONG n = 0;

	assert_rv (CKR_OK, fx->fl->C_GetMechanismList (fx->slot, NULL, &n));
	assert_true (n <= max);
	assert_rv (CKR_OK, fx->fl->C_GetMechanismList (fx->slot, out, &n));
	return n;
}

static bool
listed (const CK_MECHANISM_TYPE *l, CK_ULONG n, CK_MECHANISM_TYPE m)
{
	CK_ULONG i;

	for (i = 0; i < n; i++)
		if (l[i] == m)
			return true;
	return false;
}

static void
test_list (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM_TYPE l[128], one;
	CK_ULONG n, small = 1;
	CK_MECHANISM_INFO info;
	CK_ULONG i;

	n = mech_list (fx, l, 128);
	assert_true (n >= 50);
	assert_true (listed (l, n, CKM_AES_GCM));
	assert_true (listed (l, n, CKM_ECDSA_SHA256));
	assert_true (listed (l, n, CKM_EDDSA));
	assert_true (listed (l, n, 0x402aUL));   /* CKM_HKDF_DERIVE (3.0) */
	assert_false (listed (l, n, CKM_CONCATENATE_BASE_AND_DATA));
	/* SPEC: 5.2: a short buffer gets CKR_BUFFER_TOO_SMALL and the count */
	assert_rv (CKR_BUFFER_TOO_SMALL, fx->fl->C_GetMechanismList (fx->slot, &one, &small));
	assert_num_eq (n, small);
	/* every listed mechanism has info, with a sane size range and a use */
	for (i = 0; i < n; i++) {
		assert_rv (CKR_OK, fx->fl->C_GetMechanismInfo (fx->slot, l[i], &info));
		assert_true (info.ulMinKeySize <= info.ulMaxKeySize);
		assert_true (info.flags != 0);
	}
	assert_rv (CKR_MECHANISM_INVALID,
	           fx->fl->C_GetMechanismInfo (fx->slot, CKM_MD5, &info));
	assert_rv (CKR_SLOT_ID_INVALID,
	           fx->fl->C_GetMechanismInfo (0x7ffffffe, CKM_AES_GCM, &info));
	assert_rv (CKR_ARGUMENTS_BAD,
	           fx->fl->C_GetMechanismInfo (fx->slot, CKM_AES_GCM, NULL));
}

/* The info says what the mechanism really does. */
static void
test_info_truthful (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM_INFO info;

	assert_rv (CKR_OK, fx->fl->C_GetMechanismInfo (fx->slot, CKM_AES_GCM, &info));
	assert_num_eq (16, info.ulMinKeySize);
	assert_num_eq (32, info.ulMaxKeySize);
	assert_num_eq (CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP, info.flags);
	assert_rv (CKR_OK, fx->fl->C_GetMechanismInfo (fx->slot, CKM_AES_CBC, &info));
	assert_false (info.flags & (CKF_WRAP | CKF_UNWRAP));   /* strict: no CBC wrap */
	assert_rv (CKR_OK, fx->fl->C_GetMechanismInfo (fx->slot, CKM_RSA_PKCS_KEY_PAIR_GEN, &info));
	assert_num_eq (2048, info.ulMinKeySize);
	assert_num_eq (8192, info.ulMaxKeySize);
	assert_num_eq (CKF_GENERATE_KEY_PAIR, info.flags);
	assert_rv (CKR_OK, fx->fl->C_GetMechanismInfo (fx->slot, CKM_SHA256, &info));
	assert_num_eq (CKF_DIGEST, info.flags);
	assert_rv (CKR_OK, fx->fl->C_GetMechanismInfo (fx->slot, CKM_ECDSA, &info));
	assert_true (info.flags & CKF_EC_NAMEDCURVE);
	assert_num_eq (521, info.ulMaxKeySize);
	/* honest: a soft token claims no hardware */
	assert_false (info.flags & CKF_HW);
}

/* disable_mechanisms: gone from the list, the info and every Init. */
static void
test_disabled (void *arg)
{
	lh_fx *fx = arg;
	CK_MECHANISM_TYPE l[128];
	CK_MECHANISM_INFO info;
	CK_MECHANISM ecb = { CKM_AES_ECB, NULL, 0 }, sha1 = { CKM_SHA_1, NULL, 0 };
	CK_MECHANISM sha256 = { CKM_SHA256, NULL, 0 };
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG len = 16;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof cls }, { CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_VALUE_LEN, &len, sizeof len },
	};
	CK_OBJECT_HANDLE k;
	CK_ULONG n;

	n = mech_list (fx, l, 128);
	assert_false (listed (l, n, CKM_AES_ECB));
	assert_false (listed (l, n, CKM_SHA_1));
	assert_true (listed (l, n, CKM_AES_CBC));
	assert_rv (CKR_MECHANISM_INVALID,
	           fx->fl->C_GetMechanismInfo (fx->slot, CKM_AES_ECB, &info));
	assert_rv (CKR_OK, fx->fl->C_GenerateKey (fx->session, &gen, t, 3, &k));
	assert_rv (CKR_MECHANISM_INVALID, fx->fl->C_EncryptInit (fx->session, &ecb, k));
	assert_rv (CKR_MECHANISM_INVALID, fx->fl->C_DigestInit (fx->session, &sha1));
	/* control: what is not disabled still works */
	assert_rv (CKR_OK, fx->fl->C_DigestInit (fx->session, &sha256));
}

int
main (void)
{
	fx_main ();
	lh_test_add ("/mech-table/list", test_list, FX (fx_user));
	lh_test_add ("/mech-table/info-truthful", test_info_truthful, FX (fx_user));
	lh_test_add ("/mech-table/disabled", test_disabled, FX (fx_no_ecb));
	return lh_test_run ();
}
