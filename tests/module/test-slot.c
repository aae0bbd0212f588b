/*
 * test-slot.c - module-API tests: slots and tokens (C_GetSlotList,
 * C_GetSlotInfo, C_GetTokenInfo, C_GetMechanismList/Info), the free slot
 * and C_InitToken, C_InitPIN, C_SetPIN, and PIN failure counting and
 * lockout with the COUNT_LOW / FINAL_TRY / LOCKED flags.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include "fixture.h"

static const fx_opts fx_ready3 = { FX_READY, "max_pin_failures = 3" };
static const fx_opts fx_user3 = { FX_USER, "max_pin_failures = 3" };

#define USER_FLAGS (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | \
                    CKF_USER_PIN_LOCKED)
#define SO_FLAGS (CKF_SO_PIN_COUNT_LOW | CKF_SO_PIN_FINAL_TRY | \
                  CKF_SO_PIN_LOCKED)

static void
assert_printable (const CK_UTF8CHAR *field, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		assert_true (field[i] >= 0x20 && field[i] < 0x7f);
}

static CK_RV
set_pin (lh_fx *fx, CK_SESSION_HANDLE s, const char *old, const char *new_pin)
{
	return fx->fl->C_SetPIN (s, (CK_UTF8CHAR_PTR) old, strlen (old),
	                         (CK_UTF8CHAR_PTR) new_pin, strlen (new_pin));
}

static CK_RV
init_pin (lh_fx *fx, CK_SESSION_HANDLE s, const char *pin)
{
	return fx->fl->C_InitPIN (s, (CK_UTF8CHAR_PTR) pin, strlen (pin));
}

/* ------------------------------------------------------------------ */
/* Slot list and slot info                                             */

static void
test_list_fresh (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID ids[4];
	CK_ULONG n = 0;
	CK_SLOT_INFO info;

	assert_rv (CKR_OK, fx->fl->C_GetSlotList (CK_FALSE, NULL, &n));
	assert_num_eq (1, n);
	n = 4;
	assert_rv (CKR_OK, fx->fl->C_GetSlotList (CK_TRUE, ids, &n));
	assert_num_eq (1, n);
	assert_rv (CKR_OK, fx->fl->C_GetSlotInfo (ids[0], &info));
	assert_true (info.flags & CKF_TOKEN_PRESENT);
	assert_false (fx_token_flags (fx, ids[0]) & CKF_TOKEN_INITIALIZED);
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_GetSlotList (CK_FALSE, ids, NULL));
}

static void
test_list_too_small (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID ids[4] = { 0 };
	CK_ULONG n = 1;

	fx_new_token (fx, "one", false);
	assert_rv (CKR_BUFFER_TOO_SMALL, fx->fl->C_GetSlotList (CK_FALSE, ids, &n));
	assert_num_eq (2, n);
	n = 0;
	assert_rv (CKR_BUFFER_TOO_SMALL, fx->fl->C_GetSlotList (CK_TRUE, ids, &n));
	assert_num_eq (2, n);
	n = 4;
	assert_rv (CKR_OK, fx->fl->C_GetSlotList (CK_TRUE, ids, &n));
	assert_num_eq (2, n);
	assert_true (ids[0] != ids[1]);
}

static void
test_slot_info (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_INFO info;
	CK_SLOT_ID ids[4];
	CK_ULONG i, n;

	n = fx_slot_list (fx, ids, 4);
	assert_num_eq (2, n);
	for (i = 0; i < n; i++) {
		memset (&info, 0, sizeof info);
		assert_rv (CKR_OK, fx->fl->C_GetSlotInfo (ids[i], &info));
		assert_printable (info.slotDescription, sizeof info.slotDescription);
		assert_printable (info.manufacturerID, sizeof info.manufacturerID);
		assert_true (info.flags & CKF_TOKEN_PRESENT);
		assert_false (info.flags & CKF_HW_SLOT);
	}
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_GetSlotInfo (ids[0], NULL));
	assert_rv (CKR_SLOT_ID_INVALID, fx->fl->C_GetSlotInfo (ids[0] + ids[1] + 1000, &info));
}

static void
test_token_info_invalid (void *arg)
{
	lh_fx *fx = arg;
	CK_TOKEN_INFO info;
	CK_SLOT_ID free_slot = fx_free_slot (fx);

	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_GetTokenInfo (fx->slot, NULL));
	assert_rv (CKR_SLOT_ID_INVALID,
	           fx->fl->C_GetTokenInfo (fx->slot + free_slot + 1000, &info));
}

/* ------------------------------------------------------------------ */
/* Token info                                                          */

static void
test_token_info_flags (void *arg)
{
	lh_fx *fx = arg;
	CK_TOKEN_INFO info;
	size_t i;

	fx_token_info (fx, fx->slot, &info);
	assert_true (info.flags & CKF_TOKEN_INITIALIZED);
	assert_true (info.flags & CKF_RNG);
	assert_true (info.flags & CKF_LOGIN_REQUIRED);
	assert_false (info.flags & CKF_USER_PIN_INITIALIZED);
	assert_false (info.flags & CKF_WRITE_PROTECTED);
	assert_false (info.flags & (USER_FLAGS | SO_FLAGS));
	assert_true (fx_padded_eq (info.label, sizeof info.label, FX_LABEL));
	assert_printable (info.manufacturerID, sizeof info.manufacturerID);
	assert_printable (info.model, sizeof info.model);
	/* the serial: 16 characters, no padding */
	for (i = 0; i < sizeof info.serialNumber; i++)
		assert_true (info.serialNumber[i] > 0x20 && info.serialNumber[i] < 0x7f);
	assert_true (info.ulMinPinLen >= 1);
	assert_true (info.ulMaxPinLen >= info.ulMinPinLen);
	assert_true (info.ulMaxPinLen >= strlen (FX_SO_PIN));

	fx_init_pin (fx, fx->slot, FX_SO_PIN, FX_USER_PIN);
	assert_true (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_INITIALIZED);
}

static void
test_token_info_free_slot (void *arg)
{
	lh_fx *fx = arg;
	CK_TOKEN_INFO info;

	fx_token_info (fx, fx_free_slot (fx), &info);
	assert_false (info.flags & CKF_TOKEN_INITIALIZED);
	assert_false (info.flags & CKF_USER_PIN_INITIALIZED);
	assert_printable (info.label, sizeof info.label);
}

static void
test_token_info_sessions (void *arg)
{
	lh_fx *fx = arg;
	CK_TOKEN_INFO info;

	fx_token_info (fx, fx->slot, &info);
	if (info.ulSessionCount != CK_UNAVAILABLE_INFORMATION)
		assert_num_eq (0, info.ulSessionCount);
	fx_open (fx, fx->slot, false);
	fx_open (fx, fx->slot, true);
	fx_open (fx, fx->slot, true);
	fx_token_info (fx, fx->slot, &info);
	if (info.ulSessionCount != CK_UNAVAILABLE_INFORMATION)
		assert_num_eq (3, info.ulSessionCount);
	if (info.ulRwSessionCount != CK_UNAVAILABLE_INFORMATION)
		assert_num_eq (2, info.ulRwSessionCount);
}

static void
test_token_label_32 (void *arg)
{
	lh_fx *fx = arg;
	const char *label = "0123456789abcdefghijklmnopqrstuv";
	CK_SLOT_ID slot = fx_new_token (fx, label, false);
	CK_TOKEN_INFO info;

	fx_token_info (fx, slot, &info);
	assert_mem_eq (label, 32, info.label, 32);
}

static void
test_token_serials_differ (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID a = fx_new_token (fx, "a", false);
	CK_SLOT_ID b = fx_new_token (fx, "b", false);
	CK_TOKEN_INFO ia, ib;

	fx_token_info (fx, a, &ia);
	fx_token_info (fx, b, &ib);
	assert_true (memcmp (ia.serialNumber, ib.serialNumber, 16) != 0);
	assert_true (fx_padded_eq (ia.label, 32, "a"));
	assert_true (fx_padded_eq (ib.label, 32, "b"));
}

/* ------------------------------------------------------------------ */
/* C_InitToken and the free slot                                       */

static void
test_init_token_file (void *arg)
{
	lh_fx *fx = arg;
	char path[1024];
	struct stat st;

	assert_num_eq (0, fx_dir_count (fx->token_dir, NULL, ".db"));
	fx_new_token (fx, "file", false);
	assert_num_eq (1, fx_dir_count (fx->token_dir, NULL, ".db"));
	assert_num_eq (1, fx_dir_count (fx->token_dir, "token-", ".db"));
	assert_true (fx_dir_first (fx->token_dir, "token-", ".db", path, sizeof path));
	printf ("# token file %s\n", path);
	assert_true (stat (path, &st) == 0);
	assert_true (st.st_size > 0);
}

/* The initialized token keeps the slot id the free slot had; a new free
 * slot appears with another id. */
static void
test_init_token_slot_id (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID free1 = fx_free_slot (fx), slot, free2;
	CK_SLOT_ID ids[8];

	slot = fx_new_token (fx, "first", false);
	assert_num_eq (free1, slot);
	free2 = fx_free_slot (fx);
	assert_true (free2 != free1);
	assert_num_eq (2, fx_slot_list (fx, ids, 8));
	assert_true (fx_slot_listed (fx, slot));
	assert_true (fx_slot_listed (fx, free2));

	slot = fx_new_token (fx, "second", false);
	assert_num_eq (free2, slot);
	assert_num_eq (3, fx_slot_list (fx, ids, 8));
}

static CK_SLOT_ID
slot_of_label (lh_fx *fx, const char *label)
{
	CK_SLOT_ID ids[16];
	CK_ULONG i, n = fx_slot_list (fx, ids, 16);
	CK_TOKEN_INFO info;

	for (i = 0; i < n; i++) {
		fx_token_info (fx, ids[i], &info);
		if ((info.flags & CKF_TOKEN_INITIALIZED) &&
		    fx_padded_eq (info.label, 32, label))
			return ids[i];
	}
	assert_true (!"no token with that label");
	return 0;
}

static void
test_slot_ids_stable_restart (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID a = fx_new_token (fx, "stable a", true);
	CK_SLOT_ID b = fx_new_token (fx, "stable b", true);
	CK_SLOT_ID ids[8];

	fx_restart (fx);
	assert_num_eq (3, fx_slot_list (fx, ids, 8));
	assert_num_eq (a, slot_of_label (fx, "stable a"));
	assert_num_eq (b, slot_of_label (fx, "stable b"));
	fx_reload (fx);
	assert_num_eq (3, fx_slot_list (fx, ids, 8));
	assert_num_eq (a, slot_of_label (fx, "stable a"));
	assert_num_eq (b, slot_of_label (fx, "stable b"));
}

/* Up to max names of the *.db files in dir. */
static int
db_files (const char *dir, char names[][256], int max)
{
	DIR *d = opendir (dir);
	struct dirent *e;
	int n = 0;
	size_t len;

	assert_true (d != NULL);
	while ((e = readdir (d)) && n < max) {
		len = strlen (e->d_name);
		if (len > 3 && strcmp (e->d_name + len - 3, ".db") == 0)
			snprintf (names[n++], 256, "%s", e->d_name);
	}
	closedir (d);
	return n;
}

/* Removing one token file does not renumber the others. */
static void
test_slot_ids_stable_removal (void *arg)
{
	lh_fx *fx = arg;
	char before[8][256], after[8][256], path[1024];
	CK_SLOT_ID a, b, c, ids[8];
	int nb, na, i, j;
	const char *b_file = NULL;

	a = fx_new_token (fx, "keep a", false);
	nb = db_files (fx->token_dir, before, 8);
	b = fx_new_token (fx, "drop b", false);
	na = db_files (fx->token_dir, after, 8);
	assert_num_eq (nb + 1, na);
	for (i = 0; i < na && !b_file; i++) {
		for (j = 0; j < nb; j++)
			if (strcmp (after[i], before[j]) == 0)
				break;
		if (j == nb)
			b_file = after[i];
	}
	assert_true (b_file != NULL);
	c = fx_new_token (fx, "keep c", false);
	fx_finalize (fx);

	printf ("# removing %s\n", b_file);
	snprintf (path, sizeof path, "%s/%s", fx->token_dir, b_file);
	assert_true (unlink (path) == 0);
	snprintf (path, sizeof path, "%s/%s-wal", fx->token_dir, b_file);
	unlink (path);
	snprintf (path, sizeof path, "%s/%s-shm", fx->token_dir, b_file);
	unlink (path);

	fx_initialize (fx);
	assert_num_eq (3, fx_slot_list (fx, ids, 8));
	assert_num_eq (a, slot_of_label (fx, "keep a"));
	assert_num_eq (c, slot_of_label (fx, "keep c"));
	(void) b;
}

static void
test_free_slot_open_session (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s;
	CK_SLOT_ID free_slot = fx_free_slot (fx);

	assert_rv (CKR_TOKEN_NOT_RECOGNIZED,
	           fx->fl->C_OpenSession (free_slot, CKF_SERIAL_SESSION, NULL,
	                                  NULL, &s));
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED,
	           fx->fl->C_OpenSession (free_slot,
	                                  CKF_SERIAL_SESSION | CKF_RW_SESSION,
	                                  NULL, NULL, &s));
}

/* Re-initializing with the right SO PIN wipes objects and the user PIN. */
static void
test_init_token_reinit (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
	CK_OBJECT_HANDLE h[8];
	CK_TOKEN_INFO info;

	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	fx_create_data (fx, s, true, false, "old public", "1");
	fx_create_data (fx, s, true, true, "old private", "2");
	assert_num_eq (2, fx_find (fx, s, NULL, 0, h, 8));
	assert_rv (CKR_OK, fx->fl->C_CloseSession (s));

	assert_rv (CKR_OK, fx_init_token_rv (fx, fx->slot, FX_SO_PIN, "renewed"));
	fx_token_info (fx, fx->slot, &info);
	assert_true (fx_padded_eq (info.label, 32, "renewed"));
	assert_true (info.flags & CKF_TOKEN_INITIALIZED);
	assert_false (info.flags & CKF_USER_PIN_INITIALIZED);

	s = fx_open (fx, fx->slot, true);
	assert_num_eq (0, fx_find (fx, s, NULL, 0, h, 8));
	assert_rv (CKR_USER_PIN_NOT_INITIALIZED,
	           fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	assert_rv (CKR_OK, fx->fl->C_CloseSession (s));
	fx_init_pin (fx, fx->slot, FX_SO_PIN, "new-user-pin");
	s = fx_open (fx, fx->slot, true);
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	fx_login (fx, s, CKU_USER, "new-user-pin");
	assert_num_eq (0, fx_find (fx, s, NULL, 0, h, 8));
	/* the free slot is still the only other slot */
	assert_num_eq (2, fx_slot_list (fx, h, 8));
}

static void
test_init_token_wrong_so_pin (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE h[4];
	CK_TOKEN_INFO info;

	s = fx_open (fx, fx->slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	fx_create_data (fx, s, true, true, "survivor", "1");
	assert_rv (CKR_OK, fx->fl->C_CloseSession (s));

	assert_rv (CKR_PIN_INCORRECT, fx_init_token_rv (fx, fx->slot, "wrong-so-pin", "evil"));
	fx_token_info (fx, fx->slot, &info);
	assert_true (fx_padded_eq (info.label, 32, FX_LABEL));
	assert_true (info.flags & CKF_USER_PIN_INITIALIZED);
	s = fx_open (fx, fx->slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_num_eq (1, fx_find_label (fx, s, "survivor", h, 4));
}

static void
test_init_token_session_exists (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, false);

	assert_rv (CKR_SESSION_EXISTS, fx_init_token_rv (fx, fx->slot, FX_SO_PIN, "busy"));
	assert_rv (CKR_OK, fx->fl->C_CloseSession (s));
	assert_rv (CKR_OK, fx_init_token_rv (fx, fx->slot, FX_SO_PIN, "free now"));
}

static void
test_init_token_bad_args (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID free_slot = fx_free_slot (fx);
	CK_UTF8CHAR label[32];

	fx_pad (label, sizeof label, "x");
	assert_rv (CKR_ARGUMENTS_BAD,
	           fx->fl->C_InitToken (free_slot, (CK_UTF8CHAR_PTR) FX_SO_PIN,
	                                strlen (FX_SO_PIN), NULL));
	assert_rv (CKR_ARGUMENTS_BAD,
	           fx->fl->C_InitToken (free_slot, NULL, 8, label));
	assert_rv (CKR_SLOT_ID_INVALID,
	           fx->fl->C_InitToken (free_slot + 1000, (CK_UTF8CHAR_PTR) FX_SO_PIN,
	                                strlen (FX_SO_PIN), label));
	/* none of that created a token */
	assert_num_eq (free_slot, fx_free_slot (fx));
	assert_num_eq (0, fx_dir_count (fx->token_dir, NULL, ".db"));
}

static void
test_init_token_pin_len (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID free_slot = fx_free_slot (fx);
	CK_TOKEN_INFO info;
	CK_UTF8CHAR label[32], pin[4096];

	fx_token_info (fx, free_slot, &info);
	fx_pad (label, sizeof label, "len");
	memset (pin, 'p', sizeof pin);
	if (info.ulMinPinLen > 1)
		assert_rv (CKR_PIN_LEN_RANGE,
		           fx->fl->C_InitToken (free_slot, pin, info.ulMinPinLen - 1,
		                                label));
	if (info.ulMaxPinLen < sizeof pin)
		assert_rv (CKR_PIN_LEN_RANGE,
		           fx->fl->C_InitToken (free_slot, pin, info.ulMaxPinLen + 1,
		                                label));
	assert_false (fx_token_flags (fx, free_slot) & CKF_TOKEN_INITIALIZED);
	assert_rv (CKR_OK, fx->fl->C_InitToken (free_slot, pin, info.ulMinPinLen
	                                        < 8 ? 8 : info.ulMinPinLen, label));
}

/* ------------------------------------------------------------------ */
/* C_InitPIN                                                           */

static void
test_init_pin_needs_so (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);

	/* R/W public */
	assert_rv (CKR_USER_NOT_LOGGED_IN, init_pin (fx, s, "another-pin"));
	/* R/W user */
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_rv (CKR_USER_NOT_LOGGED_IN, init_pin (fx, s, "another-pin"));
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	/* the PIN is unchanged */
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
}

static void
test_init_pin_so (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
	CK_TOKEN_INFO info;

	fx_token_info (fx, fx->slot, &info);
	fx_login (fx, s, CKU_SO, FX_SO_PIN);
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_InitPIN (s, NULL, 8));
	if (info.ulMinPinLen > 1)
		assert_rv (CKR_PIN_LEN_RANGE,
		           fx->fl->C_InitPIN (s, (CK_UTF8CHAR_PTR) "pppppppppppp",
		                              info.ulMinPinLen - 1));
	assert_rv (CKR_OK, init_pin (fx, s, "so-set-pin"));
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	fx_login (fx, s, CKU_USER, "so-set-pin");
}

/* ------------------------------------------------------------------ */
/* C_SetPIN                                                            */

static void
test_set_pin_user (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;

	assert_rv (CKR_OK, set_pin (fx, s, FX_USER_PIN, "changed-pin"));
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	assert_rv (CKR_OK, fx_login_rv (fx, s, CKU_USER, "changed-pin"));
	/* and it survives a restart */
	fx_restart (fx);
	s = fx_open (fx, fx->slot, true);
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	assert_rv (CKR_OK, fx_login_rv (fx, s, CKU_USER, "changed-pin"));
}

/* SPEC: in the R/W public state C_SetPIN sets the normal user's PIN. */
static void
test_set_pin_public (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);

	assert_rv (CKR_OK, set_pin (fx, s, FX_USER_PIN, "public-changed"));
	assert_rv (CKR_OK, fx_login_rv (fx, s, CKU_USER, "public-changed"));
}

static void
test_set_pin_so (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);

	fx_login (fx, s, CKU_SO, FX_SO_PIN);
	assert_rv (CKR_OK, set_pin (fx, s, FX_SO_PIN, "new-so-pin"));
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_SO, FX_SO_PIN));
	assert_rv (CKR_OK, fx_login_rv (fx, s, CKU_SO, "new-so-pin"));
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	/* the user PIN is unaffected */
	assert_rv (CKR_OK, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	assert_rv (CKR_OK, fx->fl->C_CloseSession (s));
	/* and the new SO PIN is what C_InitToken wants */
	assert_rv (CKR_PIN_INCORRECT, fx_init_token_rv (fx, fx->slot, FX_SO_PIN, "x"));
	assert_rv (CKR_OK, fx_init_token_rv (fx, fx->slot, "new-so-pin", "x"));
}

static void
test_set_pin_read_only (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, false);

	assert_rv (CKR_SESSION_READ_ONLY, set_pin (fx, s, FX_USER_PIN, "ro-pin-123"));
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_rv (CKR_SESSION_READ_ONLY, set_pin (fx, s, FX_USER_PIN, "ro-pin-123"));
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
}

static void
test_set_pin_wrong_old (void *arg)
{
	lh_fx *fx = arg;

	assert_rv (CKR_PIN_INCORRECT, set_pin (fx, fx->session, "not-the-pin", "whatever-1"));
	assert_rv (CKR_OK, fx->fl->C_Logout (fx->session));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, fx->session, CKU_USER, "whatever-1"));
	assert_rv (CKR_OK, fx_login_rv (fx, fx->session, CKU_USER, FX_USER_PIN));
}

static void
test_set_pin_bad_args (void *arg)
{
	lh_fx *fx = arg;
	CK_TOKEN_INFO info;

	fx_token_info (fx, fx->slot, &info);
	assert_rv (CKR_ARGUMENTS_BAD,
	           fx->fl->C_SetPIN (fx->session, NULL, 4,
	                             (CK_UTF8CHAR_PTR) "newpin-1", 8));
	assert_rv (CKR_ARGUMENTS_BAD,
	           fx->fl->C_SetPIN (fx->session, (CK_UTF8CHAR_PTR) FX_USER_PIN,
	                             strlen (FX_USER_PIN), NULL, 8));
	if (info.ulMinPinLen > 1)
		assert_rv (CKR_PIN_LEN_RANGE,
		           fx->fl->C_SetPIN (fx->session, (CK_UTF8CHAR_PTR) FX_USER_PIN,
		                             strlen (FX_USER_PIN),
		                             (CK_UTF8CHAR_PTR) "pppppppppppp",
		                             info.ulMinPinLen - 1));
	assert_rv (CKR_SESSION_HANDLE_INVALID,
	           set_pin (fx, fx->session + 1000, FX_USER_PIN, "newpin-1"));
}

/* ------------------------------------------------------------------ */
/* C_Login basics around PINs                                          */

static void
test_login_wrong_pin (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);

	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, "bad-pin-00"));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, s));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_SO, "bad-pin-00"));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, s));
	/* a prefix or an extension of the PIN is not the PIN */
	assert_rv (CKR_PIN_INCORRECT,
	           fx->fl->C_Login (s, CKU_USER, (CK_UTF8CHAR_PTR) FX_USER_PIN,
	                            strlen (FX_USER_PIN) - 1));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN "x"));
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
}

static void
test_login_pin_not_initialized (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);

	assert_rv (CKR_USER_PIN_NOT_INITIALIZED,
	           fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	fx_login (fx, s, CKU_SO, FX_SO_PIN);
}

/* ------------------------------------------------------------------ */
/* PIN lockout                                                         */

/* Default limit 10: COUNT_LOW after the first failure, FINAL_TRY with
 * one try left, LOCKED after the tenth; the SO resets with C_InitPIN. */
static void
test_lockout_user_default (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
	CK_FLAGS flags;
	CK_RV rv;
	int i;

	assert_false (fx_token_flags (fx, fx->slot) & USER_FLAGS);
	for (i = 1; i <= 9; i++) {
		assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, "wrong-pin"));
		flags = fx_token_flags (fx, fx->slot);
		printf ("# after %d failures: flags 0x%lx\n", i, (unsigned long) flags);
		assert_true (flags & CKF_USER_PIN_COUNT_LOW);
		assert_num_eq (i == 9, !!(flags & CKF_USER_PIN_FINAL_TRY));
		assert_false (flags & CKF_USER_PIN_LOCKED);
		assert_false (flags & SO_FLAGS);
	}
	rv = fx_login_rv (fx, s, CKU_USER, "wrong-pin");
	assert_true (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED);
	flags = fx_token_flags (fx, fx->slot);
	assert_true (flags & CKF_USER_PIN_LOCKED);
	assert_rv (CKR_PIN_LOCKED, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	assert_rv (CKR_PIN_LOCKED, fx_login_rv (fx, s, CKU_USER, "wrong-pin"));
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, s));

	/* the SO unlocks by setting a new user PIN */
	fx_login (fx, s, CKU_SO, FX_SO_PIN);
	assert_rv (CKR_OK, init_pin (fx, s, "unlocked-pin"));
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	assert_false (fx_token_flags (fx, fx->slot) & USER_FLAGS);
	assert_rv (CKR_OK, fx_login_rv (fx, s, CKU_USER, "unlocked-pin"));
	assert_false (fx_token_flags (fx, fx->slot) & USER_FLAGS);
}

/* A right PIN resets the count. */
static void
test_lockout_reset_by_success (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);

	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, "wrong-pin"));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, "wrong-pin"));
	assert_true (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_FINAL_TRY);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_false (fx_token_flags (fx, fx->slot) & USER_FLAGS);
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, "wrong-pin"));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, "wrong-pin"));
	assert_false (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_LOCKED);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
}

/* The count lives in the token, not in the process. */
static void
test_lockout_persisted (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
	CK_FLAGS flags;

	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, "wrong-pin"));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, "wrong-pin"));
	fx_restart (fx);
	flags = fx_token_flags (fx, fx->slot);
	assert_true (flags & CKF_USER_PIN_COUNT_LOW);
	assert_true (flags & CKF_USER_PIN_FINAL_TRY);
	s = fx_open (fx, fx->slot, true);
	fx_login_rv (fx, s, CKU_USER, "wrong-pin");
	assert_true (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_LOCKED);
	fx_reload (fx);
	assert_true (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_LOCKED);
	s = fx_open (fx, fx->slot, true);
	assert_rv (CKR_PIN_LOCKED, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
}

static void
test_lockout_so (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
	CK_FLAGS flags;
	CK_RV rv;

	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_SO, "wrong-so"));
	flags = fx_token_flags (fx, fx->slot);
	assert_true (flags & CKF_SO_PIN_COUNT_LOW);
	assert_false (flags & (CKF_SO_PIN_FINAL_TRY | CKF_SO_PIN_LOCKED));
	assert_false (flags & USER_FLAGS);
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_SO, "wrong-so"));
	flags = fx_token_flags (fx, fx->slot);
	assert_true (flags & CKF_SO_PIN_FINAL_TRY);
	assert_false (flags & CKF_SO_PIN_LOCKED);
	rv = fx_login_rv (fx, s, CKU_SO, "wrong-so");
	assert_true (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED);
	assert_true (fx_token_flags (fx, fx->slot) & CKF_SO_PIN_LOCKED);
	assert_rv (CKR_PIN_LOCKED, fx_login_rv (fx, s, CKU_SO, FX_SO_PIN));
	assert_rv (CKR_OK, fx->fl->C_CloseSession (s));
	assert_rv (CKR_PIN_LOCKED, fx_init_token_rv (fx, fx->slot, FX_SO_PIN, "x"));
	/* the user is not affected */
	s = fx_open (fx, fx->slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_false (fx_token_flags (fx, fx->slot) & USER_FLAGS);
}

/* Wrong old PINs in C_SetPIN count like wrong logins. */
static void
test_lockout_set_pin (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
	int i;

	for (i = 0; i < 3; i++) {
		CK_RV rv = set_pin (fx, s, "wrong-old", "new-pin-99");
		assert_true (rv == CKR_PIN_INCORRECT || (i == 2 && rv == CKR_PIN_LOCKED));
	}
	assert_true (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_LOCKED);
	assert_rv (CKR_PIN_LOCKED, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	assert_rv (CKR_PIN_LOCKED, set_pin (fx, s, FX_USER_PIN, "new-pin-99"));
}

/* Wrong SO PINs in C_InitToken count, too. */
static void
test_lockout_init_token (void *arg)
{
	lh_fx *fx = arg;
	int i;

	for (i = 0; i < 3; i++) {
		CK_RV rv = fx_init_token_rv (fx, fx->slot, "wrong-so", "x");
		assert_true (rv == CKR_PIN_INCORRECT || (i == 2 && rv == CKR_PIN_LOCKED));
	}
	assert_true (fx_token_flags (fx, fx->slot) & CKF_SO_PIN_LOCKED);
	assert_rv (CKR_PIN_LOCKED, fx_init_token_rv (fx, fx->slot, FX_SO_PIN, "x"));
}

/* A logged-in user's wrong SetPIN attempts lock too, and the session
 * that is logged in stays logged in. */
static void
test_lockout_locked_while_logged_in (void *arg)
{
	lh_fx *fx = arg;
	int i;

	for (i = 0; i < 3; i++)
		set_pin (fx, fx->session, "wrong-old", "new-pin-99");
	assert_true (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_LOCKED);
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, fx->session));
}

/* ------------------------------------------------------------------ */
/* Mechanisms (the list may be empty until the crypto issue)           */

static void
test_mechanisms (void *arg)
{
	lh_fx *fx = arg;
	CK_ULONG n = 0, m;
	CK_MECHANISM_TYPE *list;
	CK_MECHANISM_INFO info;

	assert_rv (CKR_OK, fx->fl->C_GetMechanismList (fx->slot, NULL, &n));
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_GetMechanismList (fx->slot, NULL, NULL));
	assert_rv (CKR_SLOT_ID_INVALID,
	           fx->fl->C_GetMechanismList (fx->slot + 1000, NULL, &n));
	list = calloc (n + 1, sizeof *list);
	assert_true (list != NULL);
	m = n;
	assert_rv (CKR_OK, fx->fl->C_GetMechanismList (fx->slot, list, &m));
	assert_num_eq (n, m);
	if (n > 0) {
		m = n - 1;
		assert_rv (CKR_BUFFER_TOO_SMALL,
		           fx->fl->C_GetMechanismList (fx->slot, list, &m));
		assert_num_eq (n, m);
		assert_rv (CKR_OK, fx->fl->C_GetMechanismInfo (fx->slot, list[0], &info));
	}
	free (list);
	assert_rv (CKR_MECHANISM_INVALID,
	           fx->fl->C_GetMechanismInfo (fx->slot, CKM_VENDOR_DEFINED + 0x4c48,
	                                       &info));
	assert_rv (CKR_ARGUMENTS_BAD,
	           fx->fl->C_GetMechanismInfo (fx->slot, CKM_SHA256, NULL));
}

/* ------------------------------------------------------------------ */
/* Token files named in the config                                     */

static void
test_config_explicit_token (void *arg)
{
	lh_fx *fx = arg;
	char src[1024], dst[1024], dir[512], extra[1200];
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE h[4];
	CK_SLOT_ID slot;

	s = fx_open (fx, fx->slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	fx_create_data (fx, s, true, true, "moved object", "moved");
	fx_finalize (fx);

	assert_true (fx_dir_first (fx->token_dir, NULL, ".db", src, sizeof src));
	snprintf (dir, sizeof dir, "%s/elsewhere", fx->dir);
	assert_true (mkdir (dir, 0700) == 0);
	snprintf (dst, sizeof dst, "%s/keystore.db", dir);
	assert_true (rename (src, dst) == 0);
	assert_num_eq (0, fx_dir_count (fx->token_dir, NULL, ".db"));
	snprintf (extra, sizeof extra, "token = %s", dst);
	fx_write_conf (fx, extra);

	fx_initialize (fx);
	slot = slot_of_label (fx, FX_LABEL);
	fx_free_slot (fx);
	s = fx_open (fx, slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_num_eq (1, fx_find_label (fx, s, "moved object", h, 4));
}

/*
 * A "token = PATH" line whose file does not exist yet (the keystore tool
 * names a user's keystore before creating it): the slot is listed with a
 * present, uninitialized token; C_InitToken creates the file at exactly
 * PATH, parent directories included (0700), not in token_dir; the slot
 * keeps its id then and across a restart and a reload.
 */
static void
test_config_token_not_yet (void *arg)
{
	lh_fx *fx = arg;
	char parent[512], path[600], extra[700];
	CK_SLOT_ID free_slot, slot = 0, ids[8];
	CK_SESSION_HANDLE s;
	CK_SLOT_INFO sinfo;
	CK_TOKEN_INFO info;
	CK_ULONG i, n;
	struct stat st;

	free_slot = fx_free_slot (fx);
	fx_finalize (fx);
	snprintf (parent, sizeof parent, "%s/home/u/litehsm/tokens", fx->dir);
	snprintf (path, sizeof path, "%s/localkeystore.db", parent);
	snprintf (extra, sizeof extra, "token = %s", path);
	fx_write_conf (fx, extra);
	fx_initialize (fx);

	/* listed (with and without tokenPresent), besides the free slot */
	n = fx_slot_list (fx, ids, 8);
	assert_num_eq (2, n);
	for (i = 0; i < n; i++)
		if (ids[i] != free_slot)
			slot = ids[i];
	assert_true (slot != 0 && slot != free_slot);
	n = 8;
	assert_rv (CKR_OK, fx->fl->C_GetSlotList (CK_TRUE, ids, &n));
	assert_num_eq (2, n);
	assert_true (ids[0] == slot || ids[1] == slot);
	assert_rv (CKR_OK, fx->fl->C_GetSlotInfo (slot, &sinfo));
	assert_true (sinfo.flags & CKF_TOKEN_PRESENT);
	fx_token_info (fx, slot, &info);
	assert_false (info.flags & CKF_TOKEN_INITIALIZED);
	assert_false (info.flags & CKF_USER_PIN_INITIALIZED);
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED,
	           fx->fl->C_OpenSession (slot, CKF_SERIAL_SESSION, NULL, NULL, &s));
	/* looking at it created nothing */
	assert_true (stat (path, &st) != 0);
	assert_true (stat (parent, &st) != 0);

	assert_rv (CKR_OK, fx_init_token_rv (fx, slot, FX_SO_PIN, "configured"));
	assert_true (stat (path, &st) == 0 && S_ISREG (st.st_mode));
	assert_true (st.st_size > 0);
	assert_true (stat (parent, &st) == 0 && S_ISDIR (st.st_mode));
	assert_num_eq (0700, st.st_mode & 0777);
	assert_num_eq (0, fx_dir_count (fx->token_dir, NULL, ".db"));

	/* same slot id, now initialized; the free slot is still the free one */
	assert_num_eq (slot, slot_of_label (fx, "configured"));
	assert_num_eq (free_slot, fx_free_slot (fx));
	assert_num_eq (2, fx_slot_list (fx, ids, 8));
	fx_init_pin (fx, slot, FX_SO_PIN, FX_USER_PIN);
	s = fx_open (fx, slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	fx_create_data (fx, s, true, true, "kept", "1");
	fx_restart (fx);
	assert_num_eq (slot, slot_of_label (fx, "configured"));
	fx_reload (fx);
	assert_num_eq (slot, slot_of_label (fx, "configured"));
	assert_num_eq (free_slot, fx_free_slot (fx));
	s = fx_open (fx, slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_num_eq (1, fx_find_label (fx, s, "kept", ids, 8));
}

int
main (void)
{
	fx_main ();
	lh_test_add ("/slot/list/fresh", test_list_fresh, FX (fx_init));
	lh_test_add ("/slot/list/buffer-too-small", test_list_too_small, FX (fx_init));
	lh_test_add ("/slot/info", test_slot_info, FX (fx_token));
	lh_test_add ("/slot/token-info/invalid", test_token_info_invalid, FX (fx_token));
	lh_test_add ("/slot/token-info/flags", test_token_info_flags, FX (fx_token));
	lh_test_add ("/slot/token-info/free-slot", test_token_info_free_slot, FX (fx_token));
	lh_test_add ("/slot/token-info/session-count", test_token_info_sessions, FX (fx_ready));
	lh_test_add ("/slot/token-info/label-32", test_token_label_32, FX (fx_init));
	lh_test_add ("/slot/token-info/serials-differ", test_token_serials_differ, FX (fx_init));
	lh_test_add ("/slot/init-token/file", test_init_token_file, FX (fx_init));
	lh_test_add ("/slot/init-token/slot-id", test_init_token_slot_id, FX (fx_init));
	lh_test_add ("/slot/init-token/ids-stable-restart", test_slot_ids_stable_restart, FX (fx_init));
	lh_test_add ("/slot/init-token/ids-stable-removal", test_slot_ids_stable_removal, FX (fx_init));
	lh_test_add ("/slot/init-token/free-slot-session", test_free_slot_open_session, FX (fx_init));
	lh_test_add ("/slot/init-token/reinit-wipes", test_init_token_reinit, FX (fx_ready));
	lh_test_add ("/slot/init-token/wrong-so-pin", test_init_token_wrong_so_pin, FX (fx_ready));
	lh_test_add ("/slot/init-token/session-exists", test_init_token_session_exists, FX (fx_ready));
	lh_test_add ("/slot/init-token/bad-args", test_init_token_bad_args, FX (fx_init));
	lh_test_add ("/slot/init-token/pin-len-range", test_init_token_pin_len, FX (fx_init));
	lh_test_add ("/slot/init-pin/needs-so", test_init_pin_needs_so, FX (fx_ready));
	lh_test_add ("/slot/init-pin/so", test_init_pin_so, FX (fx_ready));
	lh_test_add ("/slot/set-pin/user", test_set_pin_user, FX (fx_user));
	lh_test_add ("/slot/set-pin/public-rw", test_set_pin_public, FX (fx_ready));
	lh_test_add ("/slot/set-pin/so", test_set_pin_so, FX (fx_ready));
	lh_test_add ("/slot/set-pin/read-only", test_set_pin_read_only, FX (fx_ready));
	lh_test_add ("/slot/set-pin/wrong-old", test_set_pin_wrong_old, FX (fx_user));
	lh_test_add ("/slot/set-pin/bad-args", test_set_pin_bad_args, FX (fx_user));
	lh_test_add ("/slot/login/wrong-pin", test_login_wrong_pin, FX (fx_ready));
	lh_test_add ("/slot/login/pin-not-initialized", test_login_pin_not_initialized, FX (fx_token));
	lh_test_add ("/slot/lockout/user-default-10", test_lockout_user_default, FX (fx_ready));
	lh_test_add ("/slot/lockout/reset-by-success", test_lockout_reset_by_success, FX (fx_ready3));
	lh_test_add ("/slot/lockout/persisted", test_lockout_persisted, FX (fx_ready3));
	lh_test_add ("/slot/lockout/so", test_lockout_so, FX (fx_ready3));
	lh_test_add ("/slot/lockout/set-pin-counts", test_lockout_set_pin, FX (fx_ready3));
	lh_test_add ("/slot/lockout/init-token-counts", test_lockout_init_token, FX (fx_ready3));
	lh_test_add ("/slot/lockout/while-logged-in", test_lockout_locked_while_logged_in, FX (fx_user3));
	lh_test_add ("/slot/mechanisms", test_mechanisms, FX (fx_token));
	lh_test_add ("/slot/config/explicit-token", test_config_explicit_token, FX (fx_ready));
	lh_test_add ("/slot/config/token-not-yet-created", test_config_token_not_yet, FX (fx_init));
	return lh_test_run ();
}
