/*
 * test-security.c - module-API tests of what must never happen:
 *
 *   - secret values, private labels and PINs in clear in the token files
 *     (the .db and its -wal/-shm) or in the debug log;
 *   - a token file edited behind the module's back (a byte flipped in a
 *     stored attribute, a file truncated, a foreign file in token_dir)
 *     yielding altered values, a crash, or damage to other objects;
 *   - failures or crashes when many threads use their own sessions at
 *     once (OS locking and application mutex callbacks);
 *   - token files and directory readable by others.
 *
 * The tamper tests open the token file with the sqlite3 C API between a
 * C_Finalize and the next C_Initialize; the schema they rely on is
 * store/schema.c's attrs(obj, type, flags, value) table.
 */
#include "config.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "testdata.h"

#define N_(a) (sizeof (a) / sizeof ((a)[0]))

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY, cls_private = CKO_PRIVATE_KEY;
static CK_KEY_TYPE kt_aes = CKK_AES, kt_rsa = CKK_RSA;

static const fx_opts fx_user_debug = { FX_USER, "log_level = debug" };

/* An AES key with the given value; returns its handle. */
static CK_OBJECT_HANDLE
make_aes (lh_fx *fx, CK_SESSION_HANDLE s, const CK_BYTE *value, bool priv,
          bool sensitive, const char *label)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
		{ CKA_VALUE, (void *) value, 32 },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, priv ? &yes : &no, sizeof yes },
		{ CKA_SENSITIVE, sensitive ? &yes : &no, sizeof yes },
		{ CKA_EXTRACTABLE, sensitive ? &no : &yes, sizeof yes },
		{ CKA_LABEL, (void *) label, strlen (label) },
	};

	return fx_create (fx, s, t, N_ (t));
}

static CK_OBJECT_HANDLE
make_rsa_private (lh_fx *fx, CK_SESSION_HANDLE s, const char *label)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_private, sizeof cls_private },
		{ CKA_KEY_TYPE, &kt_rsa, sizeof kt_rsa },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_LABEL, (void *) label, strlen (label) },
		{ CKA_MODULUS, (void *) td_rsa_modulus, sizeof td_rsa_modulus },
		{ CKA_PUBLIC_EXPONENT, (void *) td_rsa_public_exponent,
		  sizeof td_rsa_public_exponent },
		{ CKA_PRIVATE_EXPONENT, (void *) td_rsa_private_exponent,
		  sizeof td_rsa_private_exponent },
		{ CKA_PRIME_1, (void *) td_rsa_prime_1, sizeof td_rsa_prime_1 },
		{ CKA_PRIME_2, (void *) td_rsa_prime_2, sizeof td_rsa_prime_2 },
		{ CKA_EXPONENT_1, (void *) td_rsa_exponent_1, sizeof td_rsa_exponent_1 },
		{ CKA_EXPONENT_2, (void *) td_rsa_exponent_2, sizeof td_rsa_exponent_2 },
		{ CKA_COEFFICIENT, (void *) td_rsa_coefficient, sizeof td_rsa_coefficient },
	};

	return fx_create (fx, s, t, N_ (t));
}

/* No file in dir holds needle, nor its first or last 12 bytes. */
static void
assert_not_in_dir (const char *dir, const void *needle, size_t len,
                   const char *what)
{
	const unsigned char *n = needle;
	int hits = fx_dir_has (dir, n, len);

	if (len > 12) {
		hits += fx_dir_has (dir, n, 12);
		hits += fx_dir_has (dir, n + len - 12, 12);
	}
	if (hits)
		printf ("# %s found in clear in %s\n", what, dir);
	assert_num_eq (0, hits);
}

/* ------------------------------------------------------------------ */
/* Nothing secret in clear on disk                                     */

static void
test_plaintext_files (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_BYTE key1[32], key2[32];
	const char *label = "PRIVATE-LABEL-q7Zk2x";
	const char *data = "PRIVATE-DATA-VALUE-m3Hs9w";
	const char *app = "PRIVATE-APP-n8Rt1v";
	CK_OBJECT_CLASS k = CKO_DATA;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &k, sizeof k },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_LABEL, (void *) "PRIVATE-DATA-LABEL-c4Wp", 23 },
		{ CKA_APPLICATION, (void *) app, strlen (app) },
		{ CKA_VALUE, (void *) data, strlen (data) },
	};
	int round;

	assert_rv (CKR_OK, fx->fl->C_GenerateRandom (s, key1, sizeof key1));
	assert_rv (CKR_OK, fx->fl->C_GenerateRandom (s, key2, sizeof key2));
	make_aes (fx, s, key1, true, true, label);
	/* key material is sealed even in a public object */
	make_aes (fx, s, key2, false, true, "public aes key");
	make_rsa_private (fx, s, "PRIVATE-RSA-LABEL-h2Jd");
	fx_create (fx, s, t, N_ (t));

	/* the search itself works: the fixture's own config is found */
	assert_true (fx_dir_has (fx->dir, "kdf_memory_kib", 14) >= 1);
	assert_true (fx_dir_count (fx->token_dir, NULL, ".db") == 1);

	/* round 0: live, WAL in use; round 1: after C_Finalize */
	for (round = 0; round < 2; round++) {
		printf ("# round %d\n", round);
		assert_not_in_dir (fx->token_dir, key1, sizeof key1, "private key value");
		assert_not_in_dir (fx->token_dir, key2, sizeof key2, "public key value");
		assert_not_in_dir (fx->token_dir, td_rsa_private_exponent,
		                   sizeof td_rsa_private_exponent, "RSA private exponent");
		assert_not_in_dir (fx->token_dir, td_rsa_prime_1,
		                   sizeof td_rsa_prime_1, "RSA prime");
		assert_not_in_dir (fx->token_dir, label, strlen (label), "private label");
		assert_not_in_dir (fx->token_dir, "PRIVATE-RSA-LABEL-h2Jd", 22, "private label");
		assert_not_in_dir (fx->token_dir, "PRIVATE-DATA-LABEL-c4Wp", 23, "private label");
		assert_not_in_dir (fx->token_dir, data, strlen (data), "private data value");
		assert_not_in_dir (fx->token_dir, app, strlen (app), "private application");
		assert_not_in_dir (fx->token_dir, FX_USER_PIN, strlen (FX_USER_PIN), "user PIN");
		assert_not_in_dir (fx->token_dir, FX_SO_PIN, strlen (FX_SO_PIN), "SO PIN");
		if (round == 0)
			fx_finalize (fx);
	}
}

/* A secret changed with C_SetAttributeValue or deleted leaves no clear
 * copy either (secure_delete, sealed values). */
static void
test_plaintext_after_change (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	const char *old_label = "OLD-PRIVATE-LABEL-x1Yq";
	CK_OBJECT_HANDLE o, gone;
	CK_ATTRIBUTE a = { CKA_LABEL, (void *) "new label", 9 };

	o = fx_create_data (fx, s, true, true, old_label, "OLD-PRIVATE-VALUE-r5Tn");
	gone = fx_create_data (fx, s, true, true, "DELETED-LABEL-b6Vm", "DELETED-VALUE-k2Lp");
	assert_rv (CKR_OK, fx->fl->C_SetAttributeValue (s, o, &a, 1));
	assert_rv (CKR_OK, fx->fl->C_DestroyObject (s, gone));
	fx_finalize (fx);
	assert_not_in_dir (fx->token_dir, old_label, strlen (old_label), "old label");
	assert_not_in_dir (fx->token_dir, "OLD-PRIVATE-VALUE-r5Tn", 22, "value");
	assert_not_in_dir (fx->token_dir, "DELETED-LABEL-b6Vm", 18, "deleted label");
	assert_not_in_dir (fx->token_dir, "DELETED-VALUE-k2Lp", 18, "deleted value");
}

/* The debug log shows types and lengths, never PINs or values. */
static void
test_plaintext_log (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_BYTE key[32], buf[32];
	CK_ULONG len = sizeof buf;
	CK_OBJECT_HANDLE o;
	struct stat st;

	assert_rv (CKR_OK, fx->fl->C_GenerateRandom (s, key, sizeof key));
	o = make_aes (fx, s, key, true, false, "LOGGED-LABEL-w9Ez");
	assert_rv (CKR_OK, fx_get_rv (fx, s, o, CKA_VALUE, buf, &len));
	fx_create_data (fx, s, true, true, "x", "LOGGED-VALUE-f3Gh");
	assert_rv (CKR_OK, fx->fl->C_Logout (s));
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_SO, "WRONG-SO-PIN-u4Ka"));
	fx_finalize (fx);

	assert_true (stat (fx->log_path, &st) == 0);
	printf ("# log size %lld\n", (long long) st.st_size);
	assert_true (st.st_size > 0);
	assert_false (fx_file_has (fx->log_path, FX_USER_PIN, strlen (FX_USER_PIN)));
	assert_false (fx_file_has (fx->log_path, FX_SO_PIN, strlen (FX_SO_PIN)));
	assert_false (fx_file_has (fx->log_path, "WRONG-SO-PIN-u4Ka", 17));
	assert_false (fx_file_has (fx->log_path, key, sizeof key));
	assert_false (fx_file_has (fx->log_path, key, 8));
	assert_false (fx_file_has (fx->log_path, "LOGGED-VALUE-f3Gh", 17));
	assert_false (fx_file_has (fx->log_path, "LOGGED-LABEL-w9Ez", 17));
}

/* ------------------------------------------------------------------ */
/* Tampering with the token file                                       */

static sqlite3 *
open_token_db (lh_fx *fx)
{
	char path[1024];
	sqlite3 *db = NULL;

	assert_true (fx_dir_first (fx->token_dir, NULL, ".db", path, sizeof path));
	assert_num_eq (SQLITE_OK, sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL));
	sqlite3_busy_timeout (db, 5000);
	return db;
}

/* The object ids present in attrs, ascending. */
static int
object_ids (sqlite3 *db, sqlite3_int64 *ids, int max)
{
	sqlite3_stmt *st = NULL;
	int n = 0;

	assert_num_eq (SQLITE_OK, sqlite3_prepare_v2 (db,
		"SELECT DISTINCT obj FROM attrs ORDER BY obj", -1, &st, NULL));
	while (sqlite3_step (st) == SQLITE_ROW && n < max)
		ids[n++] = sqlite3_column_int64 (st, 0);
	sqlite3_finalize (st);
	return n;
}

/*
 * Flip one byte (the middle one) of the stored value of attribute type of
 * object obj; if type has no row, of that object's longest value.
 */
static void
flip_attr (sqlite3 *db, sqlite3_int64 obj, CK_ATTRIBUTE_TYPE type, int xor_mask)
{
	sqlite3_stmt *st = NULL;
	unsigned char *v;
	sqlite3_int64 row_type = -1;
	int len = 0, rc;

	assert_num_eq (SQLITE_OK, sqlite3_prepare_v2 (db,
		"SELECT obj, type, value FROM attrs WHERE obj = ?1 "
		"ORDER BY (type = ?2) DESC, length(value) DESC LIMIT 1", -1, &st, NULL));
	sqlite3_bind_int64 (st, 1, obj);
	sqlite3_bind_int64 (st, 2, (sqlite3_int64) type);
	assert_num_eq (SQLITE_ROW, sqlite3_step (st));
	row_type = sqlite3_column_int64 (st, 1);
	len = sqlite3_column_bytes (st, 2);
	assert_true (len > 0);
	v = malloc (len);
	assert_true (v != NULL);
	memcpy (v, sqlite3_column_blob (st, 2), len);
	sqlite3_finalize (st);
	printf ("# flipping byte %d of %d in object %lld attribute 0x%llx\n",
	        len / 2, len, (long long) obj, (unsigned long long) row_type);
	v[len / 2] ^= (unsigned char) xor_mask;

	assert_num_eq (SQLITE_OK, sqlite3_prepare_v2 (db,
		"UPDATE attrs SET value = ?1 WHERE obj = ?2 AND type = ?3", -1, &st, NULL));
	sqlite3_bind_blob (st, 1, v, len, SQLITE_TRANSIENT);
	sqlite3_bind_int64 (st, 2, obj);
	sqlite3_bind_int64 (st, 3, row_type);
	rc = sqlite3_step (st);
	sqlite3_finalize (st);
	free (v);
	assert_num_eq (SQLITE_DONE, rc);
	assert_num_eq (1, sqlite3_changes (db));
}

/* Set the one-byte value of attribute type of object obj. */
static void
set_byte_attr (sqlite3 *db, sqlite3_int64 obj, CK_ATTRIBUTE_TYPE type,
               unsigned char value)
{
	sqlite3_stmt *st = NULL;
	int rc;

	assert_num_eq (SQLITE_OK, sqlite3_prepare_v2 (db,
		"UPDATE attrs SET value = ?1 WHERE obj = ?2 AND type = ?3", -1, &st, NULL));
	sqlite3_bind_blob (st, 1, &value, 1, SQLITE_TRANSIENT);
	sqlite3_bind_int64 (st, 2, obj);
	sqlite3_bind_int64 (st, 3, (sqlite3_int64) type);
	rc = sqlite3_step (st);
	sqlite3_finalize (st);
	assert_num_eq (SQLITE_DONE, rc);
	assert_num_eq (1, sqlite3_changes (db));
}

/* Label and value of o, or the rv of the failed read. */
static CK_RV
read_obj (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, char *label,
          CK_ULONG *label_len, char *value, CK_ULONG *value_len)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_LABEL, label, *label_len },
		{ CKA_VALUE, value, *value_len },
	};
	CK_RV rv = fx->fl->C_GetAttributeValue (s, o, t, 2);

	*label_len = t[0].ulValueLen;
	*value_len = t[1].ulValueLen;
	return rv;
}

/*
 * Find every visible object; the one labelled good_label must read back
 * exactly (good_value); every other object must fail to read, and never
 * with bad_label's label or anything but bad_value as its value.
 */
static void
assert_damage_contained (lh_fx *fx, CK_SESSION_HANDLE s, const char *good_label,
                         const char *good_value, const char *bad_label,
                         const char *bad_value)
{
	CK_OBJECT_HANDLE h[16];
	CK_ULONG i, n, llen, vlen;
	char label[64], value[64];
	int good = 0;
	CK_RV rv;

	n = fx_find (fx, s, NULL, 0, h, 16);
	printf ("# %lu objects visible\n", (unsigned long) n);
	assert_true (n >= 1 && n <= 2);
	for (i = 0; i < n; i++) {
		llen = sizeof label;
		vlen = sizeof value;
		rv = read_obj (fx, s, h[i], label, &llen, value, &vlen);
		printf ("# object %lu: rv 0x%lx\n", (unsigned long) h[i], (unsigned long) rv);
		if (rv == CKR_OK && llen == strlen (good_label) &&
		    memcmp (label, good_label, llen) == 0) {
			assert_mem_eq (good_value, strlen (good_value), value, vlen);
			good++;
			continue;
		}
		/* the damaged object: an error, never altered content */
		assert_true (rv != CKR_OK);
		if (llen != CK_UNAVAILABLE_INFORMATION && llen <= sizeof label)
			assert_mem_eq (bad_label, strlen (bad_label), label, llen);
		if (vlen != CK_UNAVAILABLE_INFORMATION && vlen <= sizeof value)
			assert_mem_eq (bad_value, strlen (bad_value), value, vlen);
	}
	assert_num_eq (1, good);
}

/* A flipped byte in a private object's sealed value: that object fails
 * cleanly, the other one keeps working, and the token stays usable. */
static void
test_tamper_private (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	sqlite3_int64 ids[8];
	sqlite3 *db;
	CK_OBJECT_HANDLE h[4];
	char value[64];
	CK_ULONG len;

	fx_create_data (fx, s, true, true, "victim", "victim value");
	fx_create_data (fx, s, true, true, "bystander", "bystander value");
	fx_finalize (fx);

	db = open_token_db (fx);
	assert_num_eq (2, object_ids (db, ids, 8));
	flip_attr (db, ids[0], CKA_VALUE, 0x01);   /* the first created */
	sqlite3_close (db);

	fx_initialize (fx);
	s = fx_open (fx, fx->slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_damage_contained (fx, s, "bystander", "bystander value",
	                         "victim", "victim value");
	/* searching by the victim's label gives nothing usable */
	if (fx_find_label (fx, s, "victim", h, 4) == 1) {
		len = sizeof value;
		assert_true (fx_get_rv (fx, s, h[0], CKA_VALUE, value, &len) != CKR_OK);
	}
	/* the token still takes new objects */
	fx_create_data (fx, s, true, true, "after", "after value");
	assert_num_eq (1, fx_find_label (fx, s, "after", h, 4));
	assert_num_eq (1, fx_find_label (fx, s, "bystander", h, 4));
}

/* The same for a flipped byte in a public object's clear value, checked
 * before login (checksum) and after (MAC). */
static void
test_tamper_public (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	sqlite3_int64 ids[8];
	sqlite3 *db;

	fx_create_data (fx, s, true, false, "victim", "victim value");
	fx_create_data (fx, s, true, false, "bystander", "bystander value");
	fx_finalize (fx);

	db = open_token_db (fx);
	assert_num_eq (2, object_ids (db, ids, 8));
	flip_attr (db, ids[0], CKA_VALUE, 0x20);   /* 'v' <-> 'V' style flip */
	sqlite3_close (db);

	fx_initialize (fx);
	s = fx_open (fx, fx->slot, true);
	assert_damage_contained (fx, s, "bystander", "bystander value",
	                         "victim", "victim value");
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_damage_contained (fx, s, "bystander", "bystander value",
	                         "victim", "victim value");
}

/*
 * A damaged object is not silently dropped: it is still listed, and using
 * it answers with an error (DESIGN.md 3: "A damaged object answers with
 * an error ... it never returns altered values").
 */
static void
test_tamper_reports_error (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	sqlite3_int64 ids[8];
	sqlite3 *db;
	CK_OBJECT_HANDLE h[4];
	CK_ULONG i, n, llen, vlen;
	char label[64], value[64];
	int failing = 0;
	CK_RV rv;

	fx_create_data (fx, s, true, true, "victim", "victim value");
	fx_create_data (fx, s, true, true, "bystander", "bystander value");
	fx_finalize (fx);

	db = open_token_db (fx);
	assert_num_eq (2, object_ids (db, ids, 8));
	flip_attr (db, ids[0], CKA_VALUE, 0x01);
	sqlite3_close (db);

	fx_initialize (fx);
	s = fx_open (fx, fx->slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	n = fx_find (fx, s, NULL, 0, h, 4);
	printf ("# %lu objects listed\n", (unsigned long) n);
	assert_num_eq (2, n);
	for (i = 0; i < n; i++) {
		llen = sizeof label;
		vlen = sizeof value;
		rv = read_obj (fx, s, h[i], label, &llen, value, &vlen);
		if (rv != CKR_OK)
			failing++;
	}
	assert_num_eq (1, failing);
}

/*
 * Tampering while the module runs and holds handles: the next use of the
 * damaged object gives an error or, at most, the original content from a
 * cache - never the altered bytes; the other object is unaffected.
 */
static void
test_tamper_live (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE victim, bystander, created;
	sqlite3_int64 ids[8];
	sqlite3 *db;
	char value[64];
	CK_ULONG len;
	CK_RV rv;
	int round;

	victim = fx_create_data (fx, s, true, false, "victim", "victim value");
	bystander = fx_create_data (fx, s, true, true, "bystander", "bystander value");
	db = open_token_db (fx);
	assert_num_eq (2, object_ids (db, ids, 8));
	flip_attr (db, ids[0], CKA_VALUE, 0x20);
	sqlite3_close (db);

	/* make sure the module notices a change (a write of its own) */
	created = fx_create_data (fx, s, true, false, "new", "new value");
	for (round = 0; round < 2; round++) {
		len = sizeof value;
		rv = fx_get_rv (fx, s, victim, CKA_VALUE, value, &len);
		printf ("# victim: rv 0x%lx\n", (unsigned long) rv);
		if (rv == CKR_OK)
			assert_mem_eq ("victim value", 12, value, len);
		len = sizeof value;
		assert_rv (CKR_OK, fx_get_rv (fx, s, bystander, CKA_VALUE, value, &len));
		assert_mem_eq ("bystander value", 15, value, len);
		len = sizeof value;
		assert_rv (CKR_OK, fx_get_rv (fx, s, created, CKA_VALUE, value, &len));
		/* again after logging out and in: no cache of the login */
		assert_rv (CKR_OK, fx->fl->C_Logout (s));
		fx_login (fx, s, CKU_USER, FX_USER_PIN);
		bystander = CK_INVALID_HANDLE;
		{
			CK_OBJECT_HANDLE h[4];
			assert_num_eq (1, fx_find_label (fx, s, "bystander", h, 4));
			bystander = h[0];
		}
	}
}

/* Clearing CKA_SENSITIVE of a stored key in the file must not make its
 * value readable. */
static void
test_tamper_sensitive_flag (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_BYTE key[32], buf[64];
	CK_BBOOL sens = 0x5a;
	CK_ULONG len;
	sqlite3_int64 ids[8];
	sqlite3 *db;
	CK_OBJECT_HANDLE h[4];
	CK_ULONG i, n;
	CK_RV rv;

	assert_rv (CKR_OK, fx->fl->C_GenerateRandom (s, key, sizeof key));
	/* public, so CKA_SENSITIVE is stored in clear */
	make_aes (fx, s, key, false, true, "guarded key");
	fx_create_data (fx, s, true, false, "bystander", "bystander value");
	fx_finalize (fx);

	db = open_token_db (fx);
	assert_num_eq (2, object_ids (db, ids, 8));
	set_byte_attr (db, ids[0], CKA_SENSITIVE, CK_FALSE);
	sqlite3_close (db);

	fx_initialize (fx);
	s = fx_open (fx, fx->slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	n = fx_find (fx, s, NULL, 0, h, 4);
	for (i = 0; i < n; i++) {
		len = sizeof buf;
		rv = fx_get_rv (fx, s, h[i], CKA_VALUE, buf, &len);
		if (rv == CKR_OK && len == 32)
			assert_false (memcmp (buf, key, 32) == 0);
		len = sizeof sens;
		rv = fx_get_rv (fx, s, h[i], CKA_SENSITIVE, &sens, &len);
		/* never the forged CK_FALSE */
		assert_true (rv != CKR_OK || sens == CK_TRUE);
	}
	assert_num_eq (1, fx_find_label (fx, s, "bystander", h, 4));
	len = sizeof buf;
	assert_rv (CKR_OK, fx_get_rv (fx, s, h[0], CKA_VALUE, buf, &len));
	assert_mem_eq ("bystander value", 15, buf, len);
}

/* A truncated token and a foreign *.db file: C_Initialize still works,
 * the healthy token is untouched, nothing crashes. */
static void
test_tamper_truncated (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_SLOT_ID healthy = fx->slot, ids[16];
	char path[1024], victim[1024];
	CK_TOKEN_INFO info;
	CK_ULONG i, n;
	CK_OBJECT_HANDLE h[4];
	FILE *f;
	int found_healthy = 0;

	fx_create_data (fx, s, true, true, "healthy object", "fine");
	/* a second token, to be truncated */
	{
		CK_SLOT_ID other;
		CK_SESSION_HANDLE s2;
		char before[1024];

		assert_true (fx_dir_first (fx->token_dir, NULL, ".db", before, sizeof before));
		other = fx_new_token (fx, "doomed token", true);
		s2 = fx_open (fx, other, true);
		fx_login (fx, s2, CKU_USER, FX_USER_PIN);
		for (i = 0; i < 20; i++)
			fx_create_data (fx, s2, true, i % 2, "filler", "filler value");
		fx_finalize (fx);
		/* the doomed file is the one that is not "before" */
		{
			char a[1024];
			int k = 0;
			FILE *p;
			char cmd[1100];

			snprintf (cmd, sizeof cmd, "ls '%s'/*.db", fx->token_dir);
			p = popen (cmd, "r");
			assert_true (p != NULL);
			victim[0] = '\0';
			while (fgets (a, sizeof a, p)) {
				a[strcspn (a, "\n")] = '\0';
				if (strcmp (a, before) != 0)
					snprintf (victim, sizeof victim, "%s", a);
				k++;
			}
			pclose (p);
			assert_num_eq (2, k);
			assert_true (victim[0] != '\0');
		}
	}
	printf ("# truncating %s\n", victim);
	assert_true (truncate (victim, 2048) == 0);
	snprintf (path, sizeof path, "%s/garbage.db", fx->token_dir);
	f = fopen (path, "w");
	assert_true (f != NULL);
	fputs ("this is not an SQLite database, just some text\n", f);
	fclose (f);

	fx_initialize (fx);
	n = fx_slot_list (fx, ids, 16);
	for (i = 0; i < n; i++) {
		CK_RV rv = fx->fl->C_GetTokenInfo (ids[i], &info);
		printf ("# slot %lu: rv 0x%lx\n", (unsigned long) ids[i], (unsigned long) rv);
		if (ids[i] == healthy) {
			assert_rv (CKR_OK, rv);
			assert_true (fx_padded_eq (info.label, 32, FX_LABEL));
			found_healthy++;
		} else if (rv == CKR_OK && (info.flags & CKF_TOKEN_INITIALIZED)) {
			/* whatever is left of the doomed token must not work */
			CK_SESSION_HANDLE s2;
			rv = fx->fl->C_OpenSession (ids[i], CKF_SERIAL_SESSION |
			                            CKF_RW_SESSION, NULL, NULL, &s2);
			if (rv == CKR_OK) {
				rv = fx_login_rv (fx, s2, CKU_USER, FX_USER_PIN);
				if (rv == CKR_OK) {
					rv = fx->fl->C_FindObjectsInit (s2, NULL, 0);
					printf ("# doomed token still logs in; find rv 0x%lx\n",
					        (unsigned long) rv);
				}
			}
		}
	}
	assert_num_eq (1, found_healthy);
	s = fx_open (fx, healthy, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	assert_num_eq (1, fx_find_label (fx, s, "healthy object", h, 4));
	fx_create_data (fx, s, true, false, "still writable", "yes");
}

/* ------------------------------------------------------------------ */
/* Files and directory modes                                           */

static void
test_file_modes (void *arg)
{
	lh_fx *fx = arg;
	struct stat st;
	char path[1024];
	FILE *p;
	char cmd[1100], line[256];
	int files = 0;

	fx_create_data (fx, fx->session, true, true, "x", "y");
	assert_true (stat (fx->token_dir, &st) == 0);
	printf ("# token_dir mode %o\n", (unsigned) (st.st_mode & 0777));
	assert_num_eq (0700, st.st_mode & 0777);
	snprintf (cmd, sizeof cmd, "ls -A '%s'", fx->token_dir);
	p = popen (cmd, "r");
	assert_true (p != NULL);
	while (fgets (line, sizeof line, p)) {
		line[strcspn (line, "\n")] = '\0';
		snprintf (path, sizeof path, "%s/%s", fx->token_dir, line);
		assert_true (stat (path, &st) == 0);
		printf ("# %s mode %o\n", line, (unsigned) (st.st_mode & 0777));
		assert_num_eq (0, st.st_mode & 077);
		files++;
	}
	pclose (p);
	assert_true (files >= 1);
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */

#define N_THREADS 8
#define N_ROUNDS 30

typedef struct {
	lh_fx *fx;
	int id;
	int failures;
	char where[128];
} worker;

#define W_CHECK(w, expr) do { if (!(expr)) { \
	if (!(w)->failures) snprintf ((w)->where, sizeof (w)->where, \
	                              "line %d: %s", __LINE__, #expr); \
	(w)->failures++; goto out; } } while (0)

static void *
work (void *arg)
{
	worker *w = arg;
	CK_FUNCTION_LIST_PTR f = w->fx->fl;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_CLASS k = CKO_DATA;
	char label[32], value[32], got[32];
	int r;

	W_CHECK (w, f->C_OpenSession (w->fx->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	                              NULL, NULL, &s) == CKR_OK);
	for (r = 0; r < N_ROUNDS; r++) {
		CK_BBOOL token = (r % 3 == 0) ? CK_TRUE : CK_FALSE;
		CK_BBOOL priv = (r % 2 == 0) ? CK_TRUE : CK_FALSE;
		CK_OBJECT_HANDLE o = 0, found[4];
		CK_ULONG n = 0;
		CK_BYTE rnd[16];
		CK_ATTRIBUTE t[5];
		CK_ATTRIBUTE q;

		snprintf (label, sizeof label, "thread %d round %d", w->id, r);
		snprintf (value, sizeof value, "value %d/%d", w->id, r);
		t[0] = (CK_ATTRIBUTE) { CKA_CLASS, &k, sizeof k };
		t[1] = (CK_ATTRIBUTE) { CKA_TOKEN, &token, 1 };
		t[2] = (CK_ATTRIBUTE) { CKA_PRIVATE, &priv, 1 };
		t[3] = (CK_ATTRIBUTE) { CKA_LABEL, label, strlen (label) };
		t[4] = (CK_ATTRIBUTE) { CKA_VALUE, value, strlen (value) };
		W_CHECK (w, f->C_CreateObject (s, t, 5, &o) == CKR_OK);

		W_CHECK (w, f->C_FindObjectsInit (s, &t[3], 1) == CKR_OK);
		W_CHECK (w, f->C_FindObjects (s, found, 4, &n) == CKR_OK);
		W_CHECK (w, f->C_FindObjectsFinal (s) == CKR_OK);
		W_CHECK (w, n == 1 && found[0] == o);

		q = (CK_ATTRIBUTE) { CKA_VALUE, got, sizeof got };
		W_CHECK (w, f->C_GetAttributeValue (s, o, &q, 1) == CKR_OK);
		W_CHECK (w, q.ulValueLen == strlen (value) &&
		         memcmp (got, value, q.ulValueLen) == 0);
		W_CHECK (w, f->C_GenerateRandom (s, rnd, sizeof rnd) == CKR_OK);
		if (r % 2)
			W_CHECK (w, f->C_DestroyObject (s, o) == CKR_OK);
	}
out:
	if (s != CK_INVALID_HANDLE)
		f->C_CloseSession (s);
	return NULL;
}

/* Sessions come and go while the workers run. */
static void *
churn (void *arg)
{
	worker *w = arg;
	CK_FUNCTION_LIST_PTR f = w->fx->fl;
	CK_TOKEN_INFO info;
	CK_SESSION_HANDLE s;
	CK_ULONG n;
	int r;

	for (r = 0; r < N_ROUNDS * 3; r++) {
		W_CHECK (w, f->C_OpenSession (w->fx->slot, CKF_SERIAL_SESSION,
		                              NULL, NULL, &s) == CKR_OK);
		W_CHECK (w, f->C_GetTokenInfo (w->fx->slot, &info) == CKR_OK);
		W_CHECK (w, f->C_GetSlotList (CK_FALSE, NULL, &n) == CKR_OK);
		W_CHECK (w, f->C_CloseSession (s) == CKR_OK);
	}
out:
	return NULL;
}

static void
run_threads (lh_fx *fx)
{
	pthread_t th[N_THREADS + 1];
	worker w[N_THREADS + 1];
	CK_OBJECT_HANDLE h[1];
	CK_OBJECT_CLASS k = CKO_DATA;
	CK_ATTRIBUTE t = { CKA_CLASS, &k, sizeof k };
	int i, failures = 0;

	for (i = 0; i <= N_THREADS; i++) {
		memset (&w[i], 0, sizeof w[i]);
		w[i].fx = fx;
		w[i].id = i;
		assert_num_eq (0, pthread_create (&th[i], NULL,
		                                  i < N_THREADS ? work : churn, &w[i]));
	}
	for (i = 0; i <= N_THREADS; i++) {
		pthread_join (th[i], NULL);
		if (w[i].failures)
			printf ("# thread %d: %s\n", i, w[i].where);
		failures += w[i].failures;
	}
	assert_num_eq (0, failures);
	/* every thread kept the even rounds: N_ROUNDS / 2 objects each, of
	 * which the session objects vanished with the workers' sessions */
	{
		CK_ULONG expect = 0, n;
		int r;
		for (r = 0; r < N_ROUNDS; r += 2)
			expect += (r % 3 == 0);
		n = fx_find (fx, fx->session, &t, 1, h, 1);
		assert_num_eq (expect * N_THREADS, n);
	}
}

static void
test_threads_os_locking (void *arg)
{
	run_threads (arg);
}

static void
test_threads_app_mutex (void *arg)
{
	lh_fx *fx = arg;
	CK_C_INITIALIZE_ARGS args;
	fx_mutex_counts c;

	fx_app_mutex_args (&args, 0);
	assert_rv (CKR_OK, fx->fl->C_Initialize (&args));
	fx->initialized = true;
	fx->slot = fx_new_token (fx, FX_LABEL, true);
	fx->session = fx_open (fx, fx->slot, true);
	fx_login (fx, fx->session, CKU_USER, FX_USER_PIN);
	run_threads (fx);
	c = fx_app_mutex_counts ();
	assert_true (c.locked > 0);
}

int
main (void)
{
	fx_main ();
	lh_test_add ("/security/plaintext/token-files", test_plaintext_files, FX (fx_user));
	lh_test_add ("/security/plaintext/after-change", test_plaintext_after_change, FX (fx_user));
	lh_test_add ("/security/plaintext/log", test_plaintext_log, FX (fx_user_debug));
	lh_test_add ("/security/tamper/private-object", test_tamper_private, FX (fx_user));
	lh_test_add ("/security/tamper/public-object", test_tamper_public, FX (fx_user));
	lh_test_add ("/security/tamper/damaged-object-reports-error", test_tamper_reports_error, FX (fx_user));
	lh_test_add ("/security/tamper/live", test_tamper_live, FX (fx_user));
	lh_test_add ("/security/tamper/sensitive-flag", test_tamper_sensitive_flag, FX (fx_user));
	lh_test_add ("/security/tamper/truncated-file", test_tamper_truncated, FX (fx_user));
	lh_test_add ("/security/file-modes", test_file_modes, FX (fx_user));
	lh_test_add ("/security/threads/os-locking", test_threads_os_locking, FX (fx_user));
	lh_test_add ("/security/threads/app-mutex", test_threads_app_mutex, FX (fx_loaded));
	return lh_test_run ();
}
