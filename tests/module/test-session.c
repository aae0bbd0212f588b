/*
 * test-session.c - module-API tests: C_OpenSession, C_CloseSession,
 * C_CloseAllSessions, C_GetSessionInfo states, C_Login/C_Logout state
 * rules for the user and the SO, invalid handles and user types, and
 * C_GenerateRandom / C_SeedRandom.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define RO false
#define RW true

static CK_RV
open_rv (lh_fx *fx, CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE *s)
{
	return fx->fl->C_OpenSession (slot, flags, NULL, NULL, s);
}

/* ------------------------------------------------------------------ */
/* Opening and session info                                            */

static void
test_open_not_serial (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s;

	assert_rv (CKR_SESSION_PARALLEL_NOT_SUPPORTED, open_rv (fx, fx->slot, 0, &s));
	assert_rv (CKR_SESSION_PARALLEL_NOT_SUPPORTED,
	           open_rv (fx, fx->slot, CKF_RW_SESSION, &s));
}

static void
test_open_bad_args (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s;

	assert_rv (CKR_ARGUMENTS_BAD, open_rv (fx, fx->slot, CKF_SERIAL_SESSION, NULL));
	assert_rv (CKR_SLOT_ID_INVALID,
	           open_rv (fx, fx->slot + 1000, CKF_SERIAL_SESSION, &s));
}

static void
test_info (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE ro = fx_open (fx, fx->slot, RO);
	CK_SESSION_HANDLE rw = fx_open (fx, fx->slot, RW);
	CK_SESSION_INFO info;

	memset (&info, 0xa5, sizeof info);
	assert_rv (CKR_OK, fx->fl->C_GetSessionInfo (ro, &info));
	assert_num_eq (fx->slot, info.slotID);
	assert_num_eq (CKS_RO_PUBLIC_SESSION, info.state);
	assert_num_eq (CKF_SERIAL_SESSION, info.flags);
	assert_num_eq (0, info.ulDeviceError);

	memset (&info, 0xa5, sizeof info);
	assert_rv (CKR_OK, fx->fl->C_GetSessionInfo (rw, &info));
	assert_num_eq (fx->slot, info.slotID);
	assert_num_eq (CKS_RW_PUBLIC_SESSION, info.state);
	assert_num_eq (CKF_SERIAL_SESSION | CKF_RW_SESSION, info.flags);

	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_GetSessionInfo (rw, NULL));
	assert_true (ro != rw);
}

/* ------------------------------------------------------------------ */
/* Login states                                                        */

static void
test_states_user (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE ro = fx_open (fx, fx->slot, RO);
	CK_SESSION_HANDLE rw = fx_open (fx, fx->slot, RW);
	CK_SESSION_HANDLE later;

	/* logging in through the R/O session applies to all sessions */
	fx_login (fx, ro, CKU_USER, FX_USER_PIN);
	assert_num_eq (CKS_RO_USER_FUNCTIONS, fx_state (fx, ro));
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, rw));
	later = fx_open (fx, fx->slot, RO);
	assert_num_eq (CKS_RO_USER_FUNCTIONS, fx_state (fx, later));
	later = fx_open (fx, fx->slot, RW);
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, later));

	assert_rv (CKR_OK, fx->fl->C_Logout (rw));
	assert_num_eq (CKS_RO_PUBLIC_SESSION, fx_state (fx, ro));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, rw));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, later));
}

static void
test_states_so (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE rw = fx_open (fx, fx->slot, RW);
	CK_SESSION_HANDLE rw2 = fx_open (fx, fx->slot, RW);
	CK_SESSION_HANDLE later;

	fx_login (fx, rw, CKU_SO, FX_SO_PIN);
	assert_num_eq (CKS_RW_SO_FUNCTIONS, fx_state (fx, rw));
	assert_num_eq (CKS_RW_SO_FUNCTIONS, fx_state (fx, rw2));
	later = fx_open (fx, fx->slot, RW);
	assert_num_eq (CKS_RW_SO_FUNCTIONS, fx_state (fx, later));
	assert_rv (CKR_OK, fx->fl->C_Logout (rw2));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, rw));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, later));
}

/* SPEC: the SO cannot log in while an R/O session is open. */
static void
test_so_read_only_exists (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE ro = fx_open (fx, fx->slot, RO);
	CK_SESSION_HANDLE rw = fx_open (fx, fx->slot, RW);

	assert_rv (CKR_SESSION_READ_ONLY_EXISTS, fx_login_rv (fx, rw, CKU_SO, FX_SO_PIN));
	assert_rv (CKR_SESSION_READ_ONLY_EXISTS, fx_login_rv (fx, ro, CKU_SO, FX_SO_PIN));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, rw));
	assert_rv (CKR_OK, fx->fl->C_CloseSession (ro));
	fx_login (fx, rw, CKU_SO, FX_SO_PIN);
}

/* SPEC: no R/O session can be opened while the SO is logged in. */
static void
test_so_open_read_only (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE rw = fx_open (fx, fx->slot, RW);
	CK_SESSION_HANDLE s;

	fx_login (fx, rw, CKU_SO, FX_SO_PIN);
	assert_rv (CKR_SESSION_READ_WRITE_SO_EXISTS,
	           open_rv (fx, fx->slot, CKF_SERIAL_SESSION, &s));
	fx_open (fx, fx->slot, RW);
	assert_rv (CKR_OK, fx->fl->C_Logout (rw));
	fx_open (fx, fx->slot, RO);
}

static void
test_login_twice (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE a = fx_open (fx, fx->slot, RW);
	CK_SESSION_HANDLE b = fx_open (fx, fx->slot, RO);

	fx_login (fx, a, CKU_USER, FX_USER_PIN);
	assert_rv (CKR_USER_ALREADY_LOGGED_IN, fx_login_rv (fx, a, CKU_USER, FX_USER_PIN));
	assert_rv (CKR_USER_ALREADY_LOGGED_IN, fx_login_rv (fx, b, CKU_USER, FX_USER_PIN));
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, a));
	assert_rv (CKR_OK, fx->fl->C_CloseSession (b));
	assert_rv (CKR_OK, fx->fl->C_Logout (a));

	fx_login (fx, a, CKU_SO, FX_SO_PIN);
	assert_rv (CKR_USER_ALREADY_LOGGED_IN, fx_login_rv (fx, a, CKU_SO, FX_SO_PIN));
	assert_num_eq (CKS_RW_SO_FUNCTIONS, fx_state (fx, a));
}

static void
test_login_another_user (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, RW);

	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_rv (CKR_USER_ANOTHER_ALREADY_LOGGED_IN, fx_login_rv (fx, s, CKU_SO, FX_SO_PIN));
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, s));
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	fx_login (fx, s, CKU_SO, FX_SO_PIN);
	assert_rv (CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
	           fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	assert_num_eq (CKS_RW_SO_FUNCTIONS, fx_state (fx, s));
}

static void
test_logout_not_logged_in (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, RW);

	assert_rv (CKR_USER_NOT_LOGGED_IN, fx->fl->C_Logout (s));
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	assert_rv (CKR_USER_NOT_LOGGED_IN, fx->fl->C_Logout (s));
}

static void
test_login_user_type_invalid (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, RW);

	assert_rv (CKR_USER_TYPE_INVALID, fx_login_rv (fx, s, 7, FX_USER_PIN));
	assert_rv (CKR_USER_TYPE_INVALID, fx_login_rv (fx, s, 0x80000001UL, FX_USER_PIN));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, s));
}

/* SPEC: improper use of CKU_CONTEXT_SPECIFIC gives
 * CKR_OPERATION_NOT_INITIALIZED. */
static void
test_login_context_specific (void *arg)
{
	lh_fx *fx = arg;

	assert_rv (CKR_OPERATION_NOT_INITIALIZED,
	           fx_login_rv (fx, fx->session, CKU_CONTEXT_SPECIFIC, FX_USER_PIN));
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, fx->session));
}

static void
test_login_null_pin (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, RW);

	/* no protected authentication path, so a NULL PIN is just bad */
	assert_false (fx_token_flags (fx, fx->slot) & CKF_PROTECTED_AUTHENTICATION_PATH);
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_Login (s, CKU_USER, NULL, 8));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, s));
	/* and it was not counted as a wrong PIN */
	assert_false (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_COUNT_LOW);
}

/* Login state is per token. */
static void
test_login_per_token (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID other = fx_new_token (fx, "other token", true);
	CK_SESSION_HANDLE a = fx_open (fx, fx->slot, RW);
	CK_SESSION_HANDLE b = fx_open (fx, other, RW);

	fx_login (fx, a, CKU_USER, FX_USER_PIN);
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, a));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, b));
	fx_login (fx, b, CKU_SO, FX_SO_PIN);
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, a));
	assert_num_eq (CKS_RW_SO_FUNCTIONS, fx_state (fx, b));
	assert_rv (CKR_OK, fx->fl->C_Logout (a));
	assert_num_eq (CKS_RW_SO_FUNCTIONS, fx_state (fx, b));
}

/* ------------------------------------------------------------------ */
/* Closing                                                             */

static void
test_close_all_logs_out (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE a = fx_open (fx, fx->slot, RW);
	CK_SESSION_HANDLE b = fx_open (fx, fx->slot, RO);
	CK_SESSION_INFO info;

	fx_login (fx, a, CKU_USER, FX_USER_PIN);
	assert_rv (CKR_OK, fx->fl->C_CloseAllSessions (fx->slot));
	assert_rv (CKR_SESSION_HANDLE_INVALID, fx->fl->C_GetSessionInfo (a, &info));
	assert_rv (CKR_SESSION_HANDLE_INVALID, fx->fl->C_GetSessionInfo (b, &info));
	assert_rv (CKR_SESSION_HANDLE_INVALID, fx->fl->C_CloseSession (a));
	a = fx_open (fx, fx->slot, RW);
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, a));
	/* with no session at all, C_CloseAllSessions is fine too */
	assert_rv (CKR_OK, fx->fl->C_CloseAllSessions (fx->slot));
	assert_rv (CKR_OK, fx->fl->C_CloseAllSessions (fx->slot));
	assert_rv (CKR_SLOT_ID_INVALID, fx->fl->C_CloseAllSessions (fx->slot + 1000));
}

static void
test_close_all_other_token (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID other = fx_new_token (fx, "other token", true);
	CK_SESSION_HANDLE a = fx_open (fx, fx->slot, RW);
	CK_SESSION_HANDLE b = fx_open (fx, other, RW);

	fx_login (fx, a, CKU_USER, FX_USER_PIN);
	fx_login (fx, b, CKU_USER, FX_USER_PIN);
	assert_rv (CKR_OK, fx->fl->C_CloseAllSessions (fx->slot));
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, b));
}

/* SPEC: closing the last session returns the token to the public state. */
static void
test_close_last_logs_out (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE a = fx_open (fx, fx->slot, RW);
	CK_SESSION_HANDLE b = fx_open (fx, fx->slot, RW);

	fx_login (fx, a, CKU_USER, FX_USER_PIN);
	assert_rv (CKR_OK, fx->fl->C_CloseSession (a));
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, b));
	assert_rv (CKR_OK, fx->fl->C_CloseSession (b));
	a = fx_open (fx, fx->slot, RW);
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, a));
	assert_rv (CKR_USER_NOT_LOGGED_IN, fx->fl->C_Logout (a));
}

/* ------------------------------------------------------------------ */
/* Handles                                                             */

static void
assert_handle_invalid (lh_fx *fx, CK_SESSION_HANDLE s)
{
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_INFO info;
	CK_OBJECT_CLASS klass = CKO_DATA;
	CK_ATTRIBUTE a = { CKA_CLASS, &klass, sizeof klass };
	CK_OBJECT_HANDLE o, found;
	CK_ULONG n;
	CK_BYTE buf[8];

	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_GetSessionInfo (s, &info));
	assert_rv (CKR_SESSION_HANDLE_INVALID,
	           f->C_Login (s, CKU_USER, (CK_UTF8CHAR_PTR) FX_USER_PIN,
	                       strlen (FX_USER_PIN)));
	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_Logout (s));
	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_CreateObject (s, &a, 1, &o));
	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_FindObjectsInit (s, &a, 1));
	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_FindObjects (s, &found, 1, &n));
	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_FindObjectsFinal (s));
	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_GetAttributeValue (s, 1, &a, 1));
	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_DestroyObject (s, 1));
	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_GenerateRandom (s, buf, sizeof buf));
	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_SeedRandom (s, buf, sizeof buf));
	assert_rv (CKR_SESSION_HANDLE_INVALID,
	           f->C_InitPIN (s, (CK_UTF8CHAR_PTR) "12345678", 8));
	assert_rv (CKR_SESSION_HANDLE_INVALID, f->C_CloseSession (s));
}

static void
test_handle_invalid (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, RW);

	assert_handle_invalid (fx, CK_INVALID_HANDLE);
	assert_handle_invalid (fx, 0xdeadbeefUL);
	assert_handle_invalid (fx, s + 1000);
	assert_rv (CKR_OK, fx->fl->C_CloseSession (s));
	assert_handle_invalid (fx, s);
}

static void
test_handles_unique (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE h[200];
	int i, j;

	for (i = 0; i < 200; i++) {
		h[i] = fx_open (fx, fx->slot, i % 2 ? RW : RO);
		assert_true (h[i] != CK_INVALID_HANDLE);
		for (j = 0; j < i; j++)
			assert_true (h[i] != h[j]);
	}
	for (i = 0; i < 200; i += 2)
		assert_rv (CKR_OK, fx->fl->C_CloseSession (h[i]));
	for (i = 1; i < 200; i += 2)
		assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, h[i]));
	assert_rv (CKR_OK, fx->fl->C_CloseAllSessions (fx->slot));
}

/* ------------------------------------------------------------------ */
/* Random                                                              */

static void
test_random_generate (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, RO);
	CK_BYTE a[64], b[64], zero[64], big[65536];

	memset (a, 0, sizeof a);
	memset (b, 0, sizeof b);
	memset (zero, 0, sizeof zero);
	/* no login needed */
	assert_rv (CKR_OK, fx->fl->C_GenerateRandom (s, a, sizeof a));
	assert_rv (CKR_OK, fx->fl->C_GenerateRandom (s, b, sizeof b));
	assert_true (memcmp (a, zero, sizeof a) != 0);
	assert_true (memcmp (a, b, sizeof a) != 0);
	assert_rv (CKR_OK, fx->fl->C_GenerateRandom (s, big, sizeof big));
	assert_rv (CKR_OK, fx->fl->C_GenerateRandom (s, a, 0));
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_GenerateRandom (s, NULL, 16));
}

static void
test_random_seed (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, RW);
	CK_BYTE seed[32], a[32];

	memset (seed, 0x42, sizeof seed);
	/* litehsm mixes the seed in: CKR_OK (not RANDOM_SEED_NOT_SUPPORTED) */
	assert_rv (CKR_OK, fx->fl->C_SeedRandom (s, seed, sizeof seed));
	assert_rv (CKR_OK, fx->fl->C_GenerateRandom (s, a, sizeof a));
	assert_true (memcmp (a, seed, sizeof a) != 0);
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_SeedRandom (s, NULL, 8));
}

/* ------------------------------------------------------------------ */
/* NULL pointers                                                       */

static void
test_null_args (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	CK_ULONG n;

	assert_rv (CKR_ARGUMENTS_BAD, f->C_OpenSession (fx->slot, CKF_SERIAL_SESSION,
	                                                NULL, NULL, NULL));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_GetSessionInfo (s, NULL));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_GetSlotList (CK_FALSE, NULL, NULL));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_GetSlotInfo (fx->slot, NULL));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_GetTokenInfo (fx->slot, NULL));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_GetInfo (NULL));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_GetFunctionList (NULL));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_GenerateRandom (s, NULL, 1));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_SeedRandom (s, NULL, 1));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_CreateObject (s, NULL, 1, NULL));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_FindObjects (s, NULL, 1, &n));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_GetObjectSize (s, 1, NULL));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_GetMechanismList (fx->slot, NULL, NULL));
	assert_rv (CKR_ARGUMENTS_BAD, f->C_SetPIN (s, NULL, 4, NULL, 4));
	/* the session is still fine */
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, s));
}

int
main (void)
{
	fx_main ();
	lh_test_add ("/session/open/not-serial", test_open_not_serial, FX (fx_ready));
	lh_test_add ("/session/open/bad-args", test_open_bad_args, FX (fx_ready));
	lh_test_add ("/session/info", test_info, FX (fx_ready));
	lh_test_add ("/session/state/user", test_states_user, FX (fx_ready));
	lh_test_add ("/session/state/so", test_states_so, FX (fx_ready));
	lh_test_add ("/session/so/read-only-exists", test_so_read_only_exists, FX (fx_ready));
	lh_test_add ("/session/so/open-read-only", test_so_open_read_only, FX (fx_ready));
	lh_test_add ("/session/login/twice", test_login_twice, FX (fx_ready));
	lh_test_add ("/session/login/another-user", test_login_another_user, FX (fx_ready));
	lh_test_add ("/session/login/user-type-invalid", test_login_user_type_invalid, FX (fx_ready));
	lh_test_add ("/session/login/context-specific", test_login_context_specific, FX (fx_user));
	lh_test_add ("/session/login/null-pin", test_login_null_pin, FX (fx_ready));
	lh_test_add ("/session/login/per-token", test_login_per_token, FX (fx_ready));
	lh_test_add ("/session/logout/not-logged-in", test_logout_not_logged_in, FX (fx_ready));
	lh_test_add ("/session/close-all/logs-out", test_close_all_logs_out, FX (fx_ready));
	lh_test_add ("/session/close-all/other-token", test_close_all_other_token, FX (fx_ready));
	lh_test_add ("/session/close/last-logs-out", test_close_last_logs_out, FX (fx_ready));
	lh_test_add ("/session/handle/invalid", test_handle_invalid, FX (fx_ready));
	lh_test_add ("/session/handle/unique", test_handles_unique, FX (fx_ready));
	lh_test_add ("/session/random/generate", test_random_generate, FX (fx_ready));
	lh_test_add ("/session/random/seed", test_random_seed, FX (fx_ready));
	lh_test_add ("/session/null-args", test_null_args, FX (fx_user));
	return lh_test_run ();
}
