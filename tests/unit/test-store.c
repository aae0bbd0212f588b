/*
 * test-store.c - unit tests of store/: the token file, PINs and the
 * master key, objects, sealing, integrity, the blind index, change
 * detection and concurrent use.
 *
 * Each test gets a fresh temporary directory (fixture) and works on
 * "token.db" in it.  Some tests open that file with SQLite directly to
 * damage it the way an attacker or a failing disk would, then check that
 * the store notices.  The KDF cost is the minimum (t=1, 64 KiB) so the
 * whole program runs in seconds; max_pin_failures is 3.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "store/store_int.h"
#include "test.h"

#define LH_FX_PREFIX "lh-store"
#include "store-fixture.h"

static lh_store *
open_store (fx_t *f, bool create)
{
	lh_store *st = NULL;

	assert_rv (CKR_OK, lh_store_open (f->path, &cfg_fast, create, &st));
	assert_true (st != NULL);
	return st;
}

/* New token: SO PIN and user PIN set, nobody logged in. */
static void
make_token (fx_t *f)
{
	uint8_t label[32];

	memset (label, ' ', sizeof label);
	memcpy (label, "test token", 10);
	f->st = open_store (f, true);
	assert_rv (CKR_OK, lh_store_init_token (f->st, label, PIN (SO_PIN)));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_SO, PIN (SO_PIN)));
	assert_rv (CKR_OK, lh_store_init_pin (f->st, PIN (USER_PIN)));
	lh_store_logout (f->st);
}

static void
reopen (fx_t *f)
{
	lh_store_close (f->st);
	f->st = NULL;
	f->st = open_store (f, false);
}

static lh_oid
add_obj (lh_store *st, bool priv, CK_OBJECT_CLASS cls, const char *label,
         const char *id, const char *value, bool seal_value)
{
	lh_sattr a[4];
	lh_oid oid = 0;

	a[0] = (lh_sattr){ CKA_CLASS, &cls, sizeof cls, 0 };
	a[1] = (lh_sattr){ CKA_LABEL, (void *) label, strlen (label), 0 };
	a[2] = (lh_sattr){ CKA_ID, (void *) id, strlen (id), 0 };
	a[3] = (lh_sattr){ CKA_VALUE, (void *) value, strlen (value),
	                   seal_value ? LH_SATTR_SEAL : 0 };
	assert_rv (CKR_OK, lh_store_obj_add (st, priv, a, 4, &oid));
	assert_true (oid != 0);
	return oid;
}

static const lh_sattr *
attr_of (const lh_attrs *at, CK_ATTRIBUTE_TYPE type)
{
	size_t i;

	for (i = 0; i < at->n; i++) {
		if (at->a[i].type == type)
			return &at->a[i];
	}
	return NULL;
}

static bool
attr_is (const lh_attrs *at, CK_ATTRIBUTE_TYPE type, const char *s)
{
	const lh_sattr *a = attr_of (at, type);

	return a != NULL && a->value != NULL && a->len == strlen (s) &&
	       memcmp (a->value, s, a->len) == 0;
}

static void
check_obj (lh_store *st, lh_oid id, const char *label, const char *value)
{
	lh_attrs at;

	assert_rv (CKR_OK, lh_store_obj_get (st, id, &at));
	assert_true (attr_is (&at, CKA_LABEL, label));
	assert_true (attr_is (&at, CKA_VALUE, value));
	lh_attrs_free (&at);
}

static size_t
find_n (lh_store *st, const lh_sattr *m, size_t n, bool priv, lh_oid *first)
{
	lh_oid *ids = NULL;
	size_t count = 99;

	assert_rv (CKR_OK, lh_store_obj_find (st, m, n, priv, &ids, &count));
	if (first != NULL)
		*first = count ? ids[0] : 0;
	free (ids);
	return count;
}

static size_t
find_label (lh_store *st, const char *label, bool priv, lh_oid *first)
{
	lh_sattr m = { CKA_LABEL, (void *) label, strlen (label), 0 };

	return find_n (st, &m, 1, priv, first);
}

/* Does file (or its -wal companion) contain needle? */
static bool
file_has (const char *path, const char *needle)
{
	char wal[400];
	const char *paths[2] = { path, wal };
	bool found = false;
	size_t i, n;
	char *buf;
	FILE *fp;

	snprintf (wal, sizeof wal, "%s-wal", path);
	for (i = 0; i < 2 && !found; i++) {
		fp = fopen (paths[i], "rb");
		if (fp == NULL)
			continue;
		buf = malloc (64 << 20);
		n = buf ? fread (buf, 1, 64 << 20, fp) : 0;
		fclose (fp);
		if (buf != NULL && memmem (buf, n, needle, strlen (needle)) != NULL)
			found = true;
		free (buf);
	}
	return found;
}

/*
 * Run one SQL statement on the token file behind the store's back, with
 * ?1 and ?2 bound to a and b and ?3 to the blob (blob, blen).  Returns
 * column 0 of the first row as an integer (0 without rows), and copies it
 * as bytes to out/olen when out is given.
 */
static int64_t
db_q (const char *path, const char *sql, int64_t a, int64_t b,
      const void *blob, int blen, void *out, int *olen)
{
	sqlite3_stmt *s = NULL;
	sqlite3 *db = NULL;
	int64_t v = 0;
	int rc;

	assert_num_eq (SQLITE_OK, sqlite3_open (path, &db));
	assert_num_eq (SQLITE_OK, sqlite3_prepare_v2 (db, sql, -1, &s, NULL));
	sqlite3_bind_int64 (s, 1, a);
	sqlite3_bind_int64 (s, 2, b);
	sqlite3_bind_blob (s, 3, blob, blen, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step (s)) == SQLITE_ROW) {
		v = sqlite3_column_int64 (s, 0);
		if (out != NULL) {
			*olen = sqlite3_column_bytes (s, 0);
			assert_true (*olen < 4096);
			memcpy (out, sqlite3_column_blob (s, 0), (size_t) *olen);
			((char *) out)[*olen] = '\0';
		}
		while (rc == SQLITE_ROW)
			rc = sqlite3_step (s);
	}
	assert_num_eq (SQLITE_DONE, rc);
	sqlite3_finalize (s);
	sqlite3_close (db);
	return v;
}

#define db_exec(path, sql)      ((void) db_q (path, sql, 0, 0, NULL, 0, NULL, NULL))
#define db_int(path, sql)       db_q (path, sql, 0, 0, NULL, 0, NULL, NULL)
#define db_set(path, sql, a, b) ((void) db_q (path, sql, (int64_t) (a), \
                                              (int64_t) (b), NULL, 0, NULL, NULL))

/* Flip one bit at offset off of attrs.value of (obj, type). */
static void
db_flip_attr (const char *path, lh_oid obj, CK_ATTRIBUTE_TYPE type, int off)
{
	uint8_t buf[4096];
	int len = 0;

	db_q (path, "SELECT value FROM attrs WHERE obj = ?1 AND type = ?2",
	      (int64_t) obj, (int64_t) type, NULL, 0, buf, &len);
	assert_true (len > off);
	buf[off] ^= 0x01;
	db_q (path, "UPDATE attrs SET value = ?3 WHERE obj = ?1 AND type = ?2",
	      (int64_t) obj, (int64_t) type, buf, len, NULL, NULL);
}

/* ---- open / create ------------------------------------------------------ */

static void
test_open_create (void *arg)
{
	fx_t *f = arg;
	lh_store_info info, info2;
	lh_store *st = (lh_store *) 1;
	size_t i;

	assert_rv (CKR_TOKEN_NOT_PRESENT,
	           lh_store_open (f->path, &cfg_fast, false, &st));
	assert_true (st == NULL);
	f->st = open_store (f, true);
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_false (info.initialized);
	assert_false (info.user_pin_set);
	assert_num_eq (0, info.object_count);
	assert_num_eq (3, info.max_failures);
	assert_num_eq (16, strlen (info.serial));
	for (i = 0; i < 16; i++)
		assert_true (strchr ("0123456789abcdef", info.serial[i]) != NULL);
	for (i = 0; i < 32; i++)
		assert_num_eq (' ', info.label[i]);
	reopen (f);
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info2));
	assert_mem_eq (info.token_uid, 16, info2.token_uid, 16);
	assert_str_eq (info.serial, info2.serial);
	assert_num_eq (LH_APP_ID, db_int (f->path, "PRAGMA application_id"));
	assert_num_eq (LH_SCHEMA_VERSION, db_int (f->path, "PRAGMA user_version"));
}

static void
test_open_mode (void *arg)
{
	fx_t *f = arg;
	char wal[400];
	struct stat sb;
	mode_t old;

	old = umask (0);                /* the worst case: nothing masked */
	f->st = open_store (f, true);
	umask (old);
	assert_num_eq (0, stat (f->path, &sb));
	assert_num_eq (0600, sb.st_mode & 07777);
	/* the WAL exists while the store is open and inherits the mode */
	assert_rv (CKR_OK, lh_store_init_token (f->st, (const uint8_t *)
	           "label                           ", PIN (SO_PIN)));
	snprintf (wal, sizeof wal, "%s-wal", f->path);
	assert_num_eq (0, stat (wal, &sb));
	assert_num_eq (0600, sb.st_mode & 07777);
}

/* Files that are not (or not yet, or no longer) our tokens. */
static void
test_open_not_token (void *arg)
{
	fx_t *f = arg;
	lh_store *st = NULL;
	uint8_t junk[8192];
	size_t i;
	FILE *fp;

	/* empty: a token only when we are asked to create one */
	fp = fopen (f->path, "wb");
	assert_true (fp != NULL);
	fclose (fp);
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED,
	           lh_store_open (f->path, &cfg_fast, false, &st));
	st = open_store (f, true);
	lh_store_close (st);
	st = NULL;
	/* newer schema or another application: refused, file untouched */
	db_exec (f->path, "PRAGMA user_version = 2");
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED,
	           lh_store_open (f->path, &cfg_fast, true, &st));
	assert_true (st == NULL);
	assert_num_eq (2, db_int (f->path, "PRAGMA user_version"));
	db_exec (f->path, "PRAGMA user_version = 1");
	db_exec (f->path, "PRAGMA application_id = 42");
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED,
	           lh_store_open (f->path, &cfg_fast, false, &st));
	db_exec (f->path, "PRAGMA application_id = 1279808333");
	st = open_store (f, false);
	lh_store_close (st);
	st = NULL;
	/* someone else's SQLite database */
	unlink (f->path);
	db_exec (f->path, "CREATE TABLE t (x)");
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED,
	           lh_store_open (f->path, &cfg_fast, true, &st));
	/* not SQLite at all */
	for (i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t) (i * 131 + 7);
	fp = fopen (f->path, "wb");
	assert_true (fp != NULL);
	assert_num_eq (sizeof junk, fwrite (junk, 1, sizeof junk, fp));
	fclose (fp);
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED,
	           lh_store_open (f->path, &cfg_fast, true, &st));
	assert_true (st == NULL);
	assert_num_eq (ERR_peek_error (), 0);
}

/* Truncate a populated token at several sizes: errors, never crashes. */
static void
test_open_truncated (void *arg)
{
	fx_t *f = arg;
	static const long cuts[] = { 0, 50, 100, 1024, 4096, -3, -2 };
	uint8_t *image = malloc (1 << 20);
	lh_store_info info;
	lh_oid ids[20], *found;
	lh_attrs at;
	size_t i, j, len, count;
	bool failed;
	lh_store *st;
	FILE *fp;
	CK_RV rv;

	assert_true (image != NULL);
	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	for (i = 0; i < 20; i++)
		ids[i] = add_obj (f->st, i % 2, CKO_DATA, "some label", "id",
		                  "a value that fills the pages of the file", false);
	lh_store_close (f->st);
	f->st = NULL;
	fp = fopen (f->path, "rb");
	len = fread (image, 1, 1 << 20, fp);
	fclose (fp);
	for (i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		/* negative: that fraction of the file */
		fp = fopen (f->path, "wb");
		fwrite (image, 1, cuts[i] >= 0 ? (size_t) cuts[i] : len / (size_t) -cuts[i],
		        fp);
		fclose (fp);
		st = NULL;
		rv = lh_store_open (f->path, &cfg_fast, false, &st);
		if ((failed = rv != CKR_OK)) {
			assert_true (rv == CKR_TOKEN_NOT_RECOGNIZED ||
			             rv == CKR_DEVICE_ERROR);
			assert_true (st == NULL);
		} else {
			failed |= lh_store_info_get (st, &info) != CKR_OK;
			failed |= lh_store_login (st, CKU_USER, PIN (USER_PIN)) != CKR_OK;
			for (j = 0; j < 20; j++) {
				failed |= lh_store_obj_get (st, ids[j], &at) != CKR_OK;
				lh_attrs_free (&at);
			}
			found = NULL;
			failed |= lh_store_obj_find (st, NULL, 0, true, &found,
			                             &count) != CKR_OK;
			free (found);
			lh_store_close (st);
		}
		/* every cut loses data, and every loss must be reported */
		assert_true (failed);
		assert_num_eq (ERR_peek_error (), 0);
	}
	free (image);
}

static void
test_open_backup (void *arg)
{
	fx_t *f = arg;
	char bak[400];
	struct stat sb;
	lh_conn *c = NULL;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	add_obj (f->st, false, CKO_DATA, "backed up", "1", "v", false);
	assert_rv (CKR_OK, lh_conn_open (f->path, &c));
	assert_rv (CKR_OK, lh_schema_backup (c, f->path, 1));
	lh_conn_close (c);
	snprintf (bak, sizeof bak, "%s.v1.bak", f->path);
	assert_num_eq (0, stat (bak, &sb));
	assert_num_eq (0600, sb.st_mode & 07777);
	assert_num_eq (LH_APP_ID, db_int (bak, "PRAGMA application_id"));
	assert_num_eq (1, db_int (bak, "SELECT count(*) FROM objects"));
}

static void
test_error_map (void *arg)
{
	assert_rv (CKR_OK, lh_sqlite_rv (SQLITE_OK));
	assert_rv (CKR_OK, lh_sqlite_rv (SQLITE_DONE));
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED, lh_sqlite_rv (SQLITE_NOTADB));
	assert_rv (CKR_DEVICE_ERROR, lh_sqlite_rv (SQLITE_CORRUPT));
	assert_rv (CKR_DEVICE_ERROR, lh_sqlite_rv (SQLITE_IOERR_READ));
	assert_rv (CKR_DEVICE_ERROR, lh_sqlite_rv (SQLITE_BUSY));
	assert_rv (CKR_HOST_MEMORY, lh_sqlite_rv (SQLITE_NOMEM));
	assert_rv (CKR_DEVICE_MEMORY, lh_sqlite_rv (SQLITE_FULL));
	assert_rv (CKR_TOKEN_WRITE_PROTECTED, lh_sqlite_rv (SQLITE_READONLY));
	assert_rv (CKR_DEVICE_ERROR, lh_sqlite_rv (SQLITE_ERROR));
}

/* ---- C_InitToken, C_Login, PINs ---------------------------------------- */

static void
test_init_fresh (void *arg)
{
	fx_t *f = arg;
	lh_store_info info;

	make_token (f);
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_true (info.initialized);
	assert_true (info.user_pin_set);
	assert_mem_eq ("test token  ", 12, info.label, 12);
	assert_false (lh_store_logged_in (f->st));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_SO, PIN (SO_PIN)));
	assert_true (lh_store_logged_in (f->st));
	lh_store_logout (f->st);
	assert_false (lh_store_logged_in (f->st));
	assert_num_eq (1, db_int (f->path,
	        "SELECT value FROM meta WHERE name = 'mk_version'"));
}

static void
test_login_right_wrong (void *arg)
{
	fx_t *f = arg;
	lh_store_info info;

	make_token (f);
	assert_rv (CKR_PIN_INCORRECT, lh_store_login (f->st, CKU_USER, PIN ("nope")));
	assert_false (lh_store_logged_in (f->st));
	assert_rv (CKR_PIN_INCORRECT, lh_store_login (f->st, CKU_SO, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (1, info.user_failures);
	assert_num_eq (1, info.so_failures);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_true (lh_store_logged_in (f->st));
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (0, info.user_failures);
	assert_rv (CKR_PIN_INCORRECT, lh_store_login (f->st, CKU_USER, PIN ("nope")));
	assert_rv (CKR_USER_TYPE_INVALID, lh_store_login (f->st, 7, PIN (USER_PIN)));
	/* an empty PIN is just a wrong PIN */
	assert_rv (CKR_PIN_INCORRECT, lh_store_login (f->st, CKU_USER, NULL, 0));
	assert_num_eq (ERR_peek_error (), 0);
	/* counts persist: another handle, after a reopen, sees them */
	reopen (f);
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (2, info.user_failures);
	assert_num_eq (1, info.so_failures);
	/* a right PIN resets its own count only */
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (0, info.user_failures);
	assert_num_eq (1, info.so_failures);
}

static void
test_login_lock (void *arg)
{
	fx_t *f = arg;
	lh_store_info info;
	int i;

	make_token (f);
	for (i = 0; i < 3; i++)
		assert_rv (CKR_PIN_INCORRECT,
		           lh_store_login (f->st, CKU_USER, PIN ("bad")));
	assert_rv (CKR_PIN_LOCKED, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_false (lh_store_logged_in (f->st));
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_true (info.user_pin_locked);
	assert_false (info.so_pin_locked);
	assert_num_eq (3, info.user_failures);
	/* the count is checked before the KDF: a KDF blob that would fail
	 * does not matter for a locked PIN */
	db_exec (f->path, "UPDATE auth SET kdf = zeroblob(29) WHERE user = 1");
	assert_rv (CKR_PIN_LOCKED, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	db_exec (f->path, "UPDATE auth SET fail_count = 0 WHERE user = 1");
	assert_rv (CKR_DEVICE_ERROR, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	/* set_pin counts too, and obeys the lock */
	assert_rv (CKR_PIN_INCORRECT, lh_store_set_pin (f->st, CKU_SO, PIN ("x"),
	                                                 PIN ("y")));
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (1, info.so_failures);
}

static void
test_login_no_user_pin (void *arg)
{
	fx_t *f = arg;

	f->st = open_store (f, true);
	assert_rv (CKR_USER_PIN_NOT_INITIALIZED,
	           lh_store_login (f->st, CKU_SO, PIN (SO_PIN)));
	assert_rv (CKR_OK, lh_store_init_token (f->st, (const uint8_t *)
	           "label                           ", PIN (SO_PIN)));
	assert_rv (CKR_USER_PIN_NOT_INITIALIZED,
	           lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
}

static void
test_pin_init_unlocks (void *arg)
{
	fx_t *f = arg;
	lh_store_info info;
	lh_oid id;
	int i;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	id = add_obj (f->st, true, CKO_SECRET_KEY, "k", "1", "secret", false);
	/* C_InitPIN needs the SO, not just the master key */
	assert_rv (CKR_USER_NOT_LOGGED_IN, lh_store_init_pin (f->st, PIN ("new")));
	lh_store_logout (f->st);
	assert_rv (CKR_USER_NOT_LOGGED_IN, lh_store_init_pin (f->st, PIN ("new")));
	for (i = 0; i < 3; i++)
		lh_store_login (f->st, CKU_USER, PIN ("bad"));
	assert_rv (CKR_PIN_LOCKED, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_SO, PIN (SO_PIN)));
	assert_rv (CKR_OK, lh_store_init_pin (f->st, PIN ("fresh")));
	lh_store_logout (f->st);
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (0, info.user_failures);
	assert_rv (CKR_PIN_INCORRECT, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN ("fresh")));
	/* same master key: the private object still opens */
	check_obj (f->st, id, "k", "secret");
}

static void
test_pin_set (void *arg)
{
	fx_t *f = arg;
	lh_store_info info;
	lh_oid id;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	id = add_obj (f->st, true, CKO_SECRET_KEY, "k", "1", "secret", false);
	lh_store_logout (f->st);
	assert_rv (CKR_PIN_INCORRECT, lh_store_set_pin (f->st, CKU_USER,
	           PIN ("wrong"), PIN ("new-user-pin")));
	assert_rv (CKR_OK, lh_store_set_pin (f->st, CKU_USER, PIN (USER_PIN),
	                                     PIN ("new-user-pin")));
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (0, info.user_failures);
	assert_false (lh_store_logged_in (f->st));
	assert_rv (CKR_PIN_INCORRECT, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN ("new-user-pin")));
	check_obj (f->st, id, "k", "secret");
	/* the SO PIN is separate */
	assert_rv (CKR_OK, lh_store_set_pin (f->st, CKU_SO, PIN (SO_PIN),
	                                     PIN ("new-so")));
	assert_rv (CKR_PIN_INCORRECT, lh_store_login (f->st, CKU_SO, PIN (SO_PIN)));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_SO, PIN ("new-so")));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN ("new-user-pin")));
}

/* Each wrap records its own cost; the config is clamped to sane values. */
static void
test_pin_kdf_params (void *arg)
{
	fx_t *f = arg;
	lh_store_config odd = { { 1, 1, 4 }, 0, NULL, NULL };
	lh_store_info info;
	lh_store *st = NULL;
	char hex[4096], hex2[4096];
	int hl = 0;

	make_token (f);
	/* alg 1, t=1 m=64 lanes=1, big-endian, then the 16-byte salt */
	db_q (f->path, "SELECT hex(kdf) FROM auth WHERE user = 0", 0, 0, NULL, 0, hex, &hl);
	assert_num_eq (58, strlen (hex));
	assert_true (strncmp (hex, "01" "00000001" "00000040" "00000001", 26) == 0);
	assert_rv (CKR_OK, lh_store_open (f->path, &odd, false, &st));
	assert_rv (CKR_OK, lh_store_info_get (st, &info));
	assert_num_eq (10, info.max_failures);        /* 0 = default */
	assert_rv (CKR_OK, lh_store_set_pin (st, CKU_USER, PIN (USER_PIN),
	                                     PIN ("p2")));
	/* m clamped to 8 * lanes = 32 KiB, lanes 4; a fresh salt */
	db_q (f->path, "SELECT hex(kdf) FROM auth WHERE user = 1", 0, 0, NULL, 0, hex2, &hl);
	assert_true (strncmp (hex2, "01" "00000001" "00000020" "00000004", 26) == 0);
	db_q (f->path, "SELECT hex(kdf) FROM auth WHERE user = 0", 0, 0, NULL, 0, hex, &hl);
	assert_true (strcmp (hex + 26, hex2 + 26) != 0);
	lh_store_close (st);
	/* a handle with other defaults still reads the old wrap */
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_SO, PIN (SO_PIN)));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN ("p2")));
}

static void
test_init_reinit (void *arg)
{
	fx_t *f = arg;
	uint8_t label[32];
	lh_store_info info, before;
	lh_attrs at;
	lh_oid a, b, c;

	make_token (f);
	assert_rv (CKR_OK, lh_store_info_get (f->st, &before));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	a = add_obj (f->st, false, CKO_DATA, "pub", "1", "v", false);
	b = add_obj (f->st, true, CKO_DATA, "priv", "2", "w", false);
	memset (label, ' ', sizeof label);
	memcpy (label, "renamed", 7);
	assert_rv (CKR_PIN_INCORRECT,
	           lh_store_init_token (f->st, label, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (2, info.object_count);
	assert_num_eq (1, info.so_failures);
	assert_true (info.user_pin_set);
	assert_rv (CKR_OK, lh_store_init_token (f->st, label, PIN (SO_PIN)));
	assert_false (lh_store_logged_in (f->st));
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (0, info.object_count);
	assert_false (info.user_pin_set);
	assert_num_eq (0, info.so_failures);
	assert_mem_eq (label, 32, info.label, 32);
	assert_mem_eq (before.token_uid, 16, info.token_uid, 16);
	assert_num_eq (2, db_int (f->path,
	        "SELECT value FROM meta WHERE name = 'mk_version'"));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, lh_store_obj_get (f->st, a, &at));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, lh_store_obj_get (f->st, b, &at));
	assert_rv (CKR_USER_PIN_NOT_INITIALIZED,
	           lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_SO, PIN (SO_PIN)));
	/* ids are never reused */
	c = add_obj (f->st, false, CKO_DATA, "new", "3", "x", false);
	assert_true (c > b);
	/* the locked SO PIN blocks re-initialisation too */
	lh_store_init_token (f->st, label, PIN ("x"));
	lh_store_init_token (f->st, label, PIN ("x"));
	lh_store_init_token (f->st, label, PIN ("x"));
	assert_rv (CKR_PIN_LOCKED, lh_store_init_token (f->st, label, PIN (SO_PIN)));
}

/* A handle whose token is re-initialised by another handle is logged out. */
static void
test_init_stale_login (void *arg)
{
	fx_t *f = arg;
	lh_sattr m = { CKA_LABEL, (void *) "x", 1, 0 };
	lh_oid *ids = NULL;
	size_t n = 0;
	lh_oid id;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	id = add_obj (f->st, false, CKO_DATA, "x", "1", "v", false);
	f->st2 = open_store (f, false);
	assert_rv (CKR_OK, lh_store_init_token (f->st2, (const uint8_t *)
	           "again                           ", PIN (SO_PIN)));
	assert_rv (CKR_USER_NOT_LOGGED_IN, lh_store_obj_add (f->st, false, &m, 1, &id));
	assert_false (lh_store_logged_in (f->st));
	assert_rv (CKR_OK, lh_store_login (f->st2, CKU_SO, PIN (SO_PIN)));
	assert_rv (CKR_OK, lh_store_obj_find (f->st2, &m, 1, true, &ids, &n));
	assert_num_eq (0, n);
	free (ids);
}

/* ---- objects ------------------------------------------------------------- */

static void
test_obj_public (void *arg)
{
	fx_t *f = arg;
	CK_OBJECT_CLASS cls = CKO_DATA;
	lh_sattr upd[2];
	lh_attrs at;
	bool priv = true;
	lh_oid id;
	size_t i;

	make_token (f);
	{
		lh_sattr a = { CKA_LABEL, (void *) "x", 1, 0 };
		assert_rv (CKR_USER_NOT_LOGGED_IN,
		           lh_store_obj_add (f->st, false, &a, 1, &id));
	}
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	id = add_obj (f->st, false, CKO_DATA, "my label", "my id", "my value", false);
	assert_rv (CKR_OK, lh_store_obj_is_private (f->st, id, &priv));
	assert_false (priv);
	assert_rv (CKR_OK, lh_store_obj_get (f->st, id, &at));
	assert_num_eq (4, at.n);
	assert_false (at.private_obj);
	for (i = 1; i < at.n; i++)
		assert_true (at.a[i - 1].type < at.a[i].type);
	for (i = 0; i < at.n; i++)
		assert_num_eq (0, at.a[i].flags);
	assert_true (attr_is (&at, CKA_LABEL, "my label"));
	assert_true (attr_is (&at, CKA_ID, "my id"));
	assert_true (attr_is (&at, CKA_VALUE, "my value"));
	assert_mem_eq (&cls, sizeof cls, attr_of (&at, CKA_CLASS)->value,
	               attr_of (&at, CKA_CLASS)->len);
	lh_attrs_free (&at);
	assert_true (at.a == NULL && at.n == 0);

	/* public objects are readable after logout */
	lh_store_logout (f->st);
	check_obj (f->st, id, "my label", "my value");
	assert_rv (CKR_USER_NOT_LOGGED_IN, lh_store_obj_del (f->st, id));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));

	/* update replaces the whole set */
	upd[0] = (lh_sattr){ CKA_VALUE, (void *) "v2", 2, 0 };
	upd[1] = (lh_sattr){ CKA_LABEL, (void *) "l2", 2, 0 };
	assert_rv (CKR_OK, lh_store_obj_update (f->st, id, false, upd, 2));
	assert_rv (CKR_OK, lh_store_obj_get (f->st, id, &at));
	assert_num_eq (2, at.n);
	assert_true (attr_of (&at, CKA_ID) == NULL);
	assert_true (attr_is (&at, CKA_LABEL, "l2"));
	lh_attrs_free (&at);
	assert_num_eq (0, find_label (f->st, "my label", true, NULL));
	assert_num_eq (1, find_label (f->st, "l2", false, NULL));

	assert_rv (CKR_OK, lh_store_obj_del (f->st, id));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, lh_store_obj_get (f->st, id, &at));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, lh_store_obj_del (f->st, id));
	assert_rv (CKR_OBJECT_HANDLE_INVALID,
	           lh_store_obj_update (f->st, id, false, upd, 2));
	assert_rv (CKR_OBJECT_HANDLE_INVALID,
	           lh_store_obj_is_private (f->st, id, &priv));
	assert_num_eq (0, find_label (f->st, "l2", false, NULL));
	assert_num_eq (0, db_int (f->path, "SELECT count(*) FROM attrs"));
	assert_num_eq (0, db_int (f->path, "SELECT count(*) FROM idx"));
}

static void
test_obj_private (void *arg)
{
	fx_t *f = arg;
	lh_store_info info;
	lh_attrs at;
	bool priv = false;
	lh_oid id;
	size_t i;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	id = add_obj (f->st, true, CKO_SECRET_KEY, "key label", "kid", "key bytes",
	              false);
	assert_rv (CKR_OK, lh_store_obj_get (f->st, id, &at));
	assert_true (at.private_obj);
	for (i = 0; i < at.n; i++)
		assert_num_eq (LH_SATTR_SEALED, at.a[i].flags);
	assert_true (attr_is (&at, CKA_VALUE, "key bytes"));
	lh_attrs_free (&at);
	lh_store_logout (f->st);
	assert_rv (CKR_USER_NOT_LOGGED_IN, lh_store_obj_get (f->st, id, &at));
	assert_true (at.a == NULL && at.n == 0);
	assert_rv (CKR_OK, lh_store_obj_is_private (f->st, id, &priv));
	assert_true (priv);
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (1, info.object_count);
	/* after a reopen, a new login opens it again */
	reopen (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	check_obj (f->st, id, "key label", "key bytes");
	/* private -> public on update: attributes no longer sealed */
	{
		lh_sattr a = { CKA_LABEL, (void *) "now public", 10, 0 };
		assert_rv (CKR_OK, lh_store_obj_update (f->st, id, false, &a, 1));
	}
	lh_store_logout (f->st);
	assert_rv (CKR_OK, lh_store_obj_get (f->st, id, &at));
	assert_num_eq (0, at.a[0].flags);
	assert_true (attr_is (&at, CKA_LABEL, "now public"));
	lh_attrs_free (&at);
}

static void
test_obj_sealed_public (void *arg)
{
	fx_t *f = arg;
	const lh_sattr *v;
	lh_attrs at;
	lh_oid id;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	id = add_obj (f->st, false, CKO_SECRET_KEY, "pub key", "1", "sealed bytes",
	              true);
	lh_store_logout (f->st);
	assert_rv (CKR_OK, lh_store_obj_get (f->st, id, &at));
	v = attr_of (&at, CKA_VALUE);
	assert_true (v != NULL);
	assert_num_eq (LH_SATTR_SEALED | LH_SATTR_UNAVAILABLE, v->flags);
	assert_true (v->value == NULL && v->len == 0);
	assert_true (attr_is (&at, CKA_LABEL, "pub key"));
	assert_num_eq (0, attr_of (&at, CKA_LABEL)->flags);
	lh_attrs_free (&at);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_obj_get (f->st, id, &at));
	v = attr_of (&at, CKA_VALUE);
	assert_num_eq (LH_SATTR_SEALED, v->flags);
	assert_true (attr_is (&at, CKA_VALUE, "sealed bytes"));
	lh_attrs_free (&at);
}

static void
test_obj_edge (void *arg)
{
	fx_t *f = arg;
	CK_OBJECT_CLASS cls = CKO_DATA;
	lh_sattr a[3];
	lh_attrs at;
	lh_oid id = 0, id2 = 0;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	/* empty values, sealed and plain; an object without attributes */
	a[0] = (lh_sattr){ CKA_LABEL, NULL, 0, 0 };
	a[1] = (lh_sattr){ CKA_VALUE, NULL, 0, LH_SATTR_SEAL };
	a[2] = (lh_sattr){ CKA_CLASS, &cls, sizeof cls, 0 };
	assert_rv (CKR_OK, lh_store_obj_add (f->st, false, a, 3, &id));
	assert_rv (CKR_OK, lh_store_obj_get (f->st, id, &at));
	assert_num_eq (3, at.n);
	assert_true (attr_of (&at, CKA_LABEL)->value != NULL);
	assert_num_eq (0, attr_of (&at, CKA_LABEL)->len);
	assert_num_eq (0, attr_of (&at, CKA_VALUE)->len);
	assert_num_eq (LH_SATTR_SEALED, attr_of (&at, CKA_VALUE)->flags);
	lh_attrs_free (&at);
	assert_num_eq (1, find_label (f->st, "", false, NULL));
	assert_rv (CKR_OK, lh_store_obj_add (f->st, true, NULL, 0, &id2));
	assert_rv (CKR_OK, lh_store_obj_get (f->st, id2, &at));
	assert_num_eq (0, at.n);
	assert_true (at.private_obj);
	lh_attrs_free (&at);
	/* duplicates and bad pointers */
	a[1] = (lh_sattr){ CKA_LABEL, (void *) "x", 1, 0 };
	assert_rv (CKR_TEMPLATE_INCONSISTENT, lh_store_obj_add (f->st, false, a, 2, &id));
	a[1] = (lh_sattr){ CKA_VALUE, NULL, 5, 0 };
	assert_rv (CKR_ARGUMENTS_BAD, lh_store_obj_add (f->st, false, a, 2, &id));
	assert_rv (CKR_OBJECT_HANDLE_INVALID, lh_store_obj_get (f->st, 0, &at));
	assert_rv (CKR_OBJECT_HANDLE_INVALID,
	           lh_store_obj_get (f->st, (lh_oid) 1 << 63, &at));
	/* a failed add leaves nothing behind */
	assert_num_eq (2, db_int (f->path, "SELECT count(*) FROM objects"));
	/* vendor-defined types with the top bit set sort and round-trip */
	a[0] = (lh_sattr){ CKA_VENDOR_DEFINED | 5, (void *) "v", 1, 0 };
	a[1] = (lh_sattr){ (CK_ATTRIBUTE_TYPE) -1, (void *) "w", 1, 0 };
	assert_rv (CKR_OK, lh_store_obj_add (f->st, true, a, 2, &id));
	assert_rv (CKR_OK, lh_store_obj_get (f->st, id, &at));
	assert_num_eq (2, at.n);
	assert_num_eq ((CK_ATTRIBUTE_TYPE) -1, at.a[1].type);
	lh_attrs_free (&at);
}

/* Nothing private is on disk in clear; public values are (control). */
static void
test_obj_no_plaintext (void *arg)
{
	fx_t *f = arg;
	lh_oid del;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	add_obj (f->st, true, CKO_SECRET_KEY, "PRIVATE-LABEL-7f3a", "PRIVATE-ID-99c1",
	         "TOPSECRET-VALUE-0b1e", false);
	add_obj (f->st, false, CKO_SECRET_KEY, "PUBLIC-LABEL-5d2c", "PUBLIC-ID-11",
	         "SEALED-PUBLIC-VALUE-e4a0", true);
	del = add_obj (f->st, false, CKO_DATA, "DELETED-LABEL-aa77", "x", "y", false);
	assert_true (file_has (f->path, "DELETED-LABEL-aa77"));
	assert_rv (CKR_OK, lh_store_obj_del (f->st, del));
	lh_store_close (f->st);
	f->st = NULL;
	assert_true (file_has (f->path, "PUBLIC-LABEL-5d2c"));
	assert_true (file_has (f->path, "PUBLIC-ID-11"));
	assert_false (file_has (f->path, "PRIVATE-LABEL-7f3a"));
	assert_false (file_has (f->path, "PRIVATE-ID-99c1"));
	assert_false (file_has (f->path, "TOPSECRET-VALUE-0b1e"));
	assert_false (file_has (f->path, "SEALED-PUBLIC-VALUE-e4a0"));
	assert_false (file_has (f->path, USER_PIN));
	assert_false (file_has (f->path, SO_PIN));
	/* secure_delete: a deleted object's content is overwritten */
	assert_false (file_has (f->path, "DELETED-LABEL-aa77"));
}

/* ---- search ---------------------------------------------------------------- */

static void
test_find_public (void *arg)
{
	fx_t *f = arg;
	CK_OBJECT_CLASS data = CKO_DATA, cert = CKO_CERTIFICATE;
	lh_sattr m[3];
	lh_oid a, b, c, first = 0;
	lh_oid *ids = NULL;
	size_t n = 0;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	a = add_obj (f->st, false, CKO_DATA, "alpha", "01", "va", false);
	b = add_obj (f->st, false, CKO_DATA, "beta", "02", "vb", false);
	c = add_obj (f->st, false, CKO_CERTIFICATE, "alpha", "03", "vc", false);
	lh_store_logout (f->st);

	assert_num_eq (1, find_label (f->st, "beta", false, &first));
	assert_num_eq (b, first);
	assert_num_eq (0, find_label (f->st, "gamma", false, NULL));
	assert_num_eq (0, find_label (f->st, "bet", false, NULL));
	m[0] = (lh_sattr){ CKA_LABEL, (void *) "alpha", 5, 0 };
	assert_rv (CKR_OK, lh_store_obj_find (f->st, m, 1, false, &ids, &n));
	assert_num_eq (2, n);
	assert_num_eq (a, ids[0]);              /* ordered by id */
	assert_num_eq (c, ids[1]);
	free (ids);
	m[1] = (lh_sattr){ CKA_CLASS, &cert, sizeof cert, 0 };
	assert_num_eq (1, find_n (f->st, m, 2, false, &first));
	assert_num_eq (c, first);
	m[1] = (lh_sattr){ CKA_CLASS, &data, sizeof data, 0 };
	assert_num_eq (2, find_n (f->st, &m[1], 1, false, NULL));
	m[2] = (lh_sattr){ CKA_ID, (void *) "02", 2, 0 };
	assert_num_eq (1, find_n (f->st, &m[1], 2, false, &first));
	assert_num_eq (b, first);
	assert_num_eq (0, find_n (f->st, m, 3, false, NULL));
	/* no indexed attribute: every (public) object is a candidate */
	assert_num_eq (3, find_n (f->st, NULL, 0, false, NULL));
	m[0] = (lh_sattr){ CKA_VALUE, (void *) "zz", 2, 0 };
	assert_num_eq (3, find_n (f->st, m, 1, false, NULL));
	assert_rv (CKR_USER_NOT_LOGGED_IN,
	           lh_store_obj_find (f->st, NULL, 0, true, &ids, &n));
	assert_true (lh_store_indexed (CKA_LABEL));
	assert_true (lh_store_indexed (CKA_SERIAL_NUMBER));
	assert_false (lh_store_indexed (CKA_VALUE));
}

static void
test_find_private (void *arg)
{
	fx_t *f = arg;
	CK_OBJECT_CLASS key = CKO_PRIVATE_KEY;
	lh_sattr m[2];
	lh_oid pub, priv, first = 0;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	pub = add_obj (f->st, false, CKO_PUBLIC_KEY, "server", "k1", "pub", false);
	priv = add_obj (f->st, true, CKO_PRIVATE_KEY, "server", "k1", "priv", false);
	assert_num_eq (2, find_label (f->st, "server", true, NULL));
	assert_num_eq (1, find_label (f->st, "server", false, &first));
	assert_num_eq (pub, first);
	m[0] = (lh_sattr){ CKA_ID, (void *) "k1", 2, 0 };
	m[1] = (lh_sattr){ CKA_CLASS, &key, sizeof key, 0 };
	assert_num_eq (1, find_n (f->st, m, 2, true, &first));
	assert_num_eq (priv, first);
	assert_num_eq (0, find_n (f->st, m, 2, false, NULL));
	assert_num_eq (2, find_n (f->st, NULL, 0, true, NULL));
	assert_num_eq (1, find_n (f->st, NULL, 0, false, &first));
	assert_num_eq (pub, first);
	/* the private object's index key is keyed: not the public hash */
	assert_num_eq (1, db_int (f->path,
	        "SELECT count(DISTINCT key) = count(*) FROM idx"
	        " WHERE type = 3"));                   /* CKA_LABEL */
	lh_store_logout (f->st);
	assert_num_eq (1, find_label (f->st, "server", false, NULL));
}

/* EXPLAIN QUERY PLAN: the search SQL uses B-tree look-ups, not scans. */
static void
check_plan (const char *path, const char *sql, const char *must)
{
	char *q;
	sqlite3_stmt *s = NULL;
	sqlite3 *db = NULL;
	bool seen = false;
	const char *d;

	q = sqlite3_mprintf ("EXPLAIN QUERY PLAN %s", sql);
	assert_num_eq (SQLITE_OK, sqlite3_open (path, &db));
	assert_num_eq (SQLITE_OK, sqlite3_prepare_v2 (db, q, -1, &s, NULL));
	while (sqlite3_step (s) == SQLITE_ROW) {
		d = (const char *) sqlite3_column_text (s, 3);
		printf ("# plan: %s\n", d);
		assert_true (strstr (d, "SCAN") == NULL);
		seen |= strstr (d, must) != NULL;
	}
	sqlite3_finalize (s);
	sqlite3_close (db);
	sqlite3_free (q);
	assert_true (seen);
}

static void
test_find_plan (void *arg)
{
	fx_t *f = arg;
	int i;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	for (i = 0; i < 20; i++)
		add_obj (f->st, i & 1, CKO_DATA, "label", "id", "v", false);
	db_exec (f->path, "ANALYZE");
	check_plan (f->path, lh_sql_find_first, "PRIMARY KEY (type=? AND key=?)");
	check_plan (f->path, lh_sql_find_probe, "PRIMARY KEY (type=? AND key=? AND obj=?)");
}

/* Many objects: finding one label takes a handful of page reads. */
static void
test_find_many (void *arg)
{
	fx_t *f = arg;
	const char *env = getenv ("LH_TEST_MANY");
	int count = env ? atoi (env) : 10000;
	CK_OBJECT_CLASS cls = CKO_DATA;
	char label[64];
	lh_sattr m[2];
	lh_oid want = 0, first = 0;
	struct timespec t0, t1;
	double ms;
	int i;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	for (i = 0; i < count; i++) {
		snprintf (label, sizeof label, "object %d", i);
		first = add_obj (f->st, i % 3 == 0, CKO_DATA, label, "same id", "v",
		                 false);
		if (i == count / 2)
			want = first;
	}
	snprintf (label, sizeof label, "object %d", count / 2);
	m[0] = (lh_sattr){ CKA_CLASS, &cls, sizeof cls, 0 };
	m[1] = (lh_sattr){ CKA_LABEL, label, strlen (label), 0 };
	clock_gettime (CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 100; i++) {
		assert_num_eq (1, find_n (f->st, m, 2, true, &first));
		assert_num_eq (want, first);
	}
	clock_gettime (CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf ("# %d objects: 100 finds by class+label in %.1f ms\n", count, ms);
	assert_num_eq ((size_t) count, find_n (f->st, m, 1, true, NULL));
}

/* ---- integrity ------------------------------------------------------------ */

/*
 * A token with victims v[0..n-1] and one bystander, closed so the test can
 * damage the file.  "victim value" is 12 bytes, so a sealed CKA_VALUE is
 * 41 bytes: version 0, nonce 1..12, ciphertext 13..24, tag 25..40.
 */
static lh_oid
tamper_setup (fx_t *f, bool priv, bool seal, lh_oid *v, size_t n)
{
	lh_oid other;
	size_t i;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	for (i = 0; i < n; i++)
		v[i] = add_obj (f->st, priv, CKO_SECRET_KEY, "victim", "1",
		                "victim value", seal);
	other = add_obj (f->st, priv, CKO_SECRET_KEY, "other", "2",
	                 "other value", seal);
	lh_store_close (f->st);
	f->st = NULL;
	return other;
}

/*
 * Every victim fails with CKR_DEVICE_ERROR and returns nothing, before
 * login (csum) and after (MAC, GCM); the bystander reads fine throughout.
 * priv: the objects are private, so before login the victims may also
 * answer CKR_USER_NOT_LOGGED_IN (when their private flag is intact).
 */
static void
tamper_check (fx_t *f, const lh_oid *v, size_t n, lh_oid other, bool priv)
{
	lh_attrs at;
	size_t i;
	CK_RV rv;

	f->st = open_store (f, false);
	for (i = 0; i < n; i++) {
		at.a = (lh_sattr *) &at;
		rv = lh_store_obj_get (f->st, v[i], &at);
		assert_true (rv == CKR_DEVICE_ERROR ||
		             (priv && rv == CKR_USER_NOT_LOGGED_IN));
		assert_true (at.a == NULL && at.n == 0);
	}
	assert_rv (priv ? CKR_USER_NOT_LOGGED_IN : CKR_OK,
	           lh_store_obj_get (f->st, other, &at));
	lh_attrs_free (&at);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	for (i = 0; i < n; i++) {
		at.a = (lh_sattr *) &at;
		assert_rv (CKR_DEVICE_ERROR, lh_store_obj_get (f->st, v[i], &at));
		assert_true (at.a == NULL && at.n == 0);
	}
	check_obj (f->st, other, "other", "other value");
	assert_num_eq (ERR_peek_error (), 0);
}

static void
test_tamper_value (void *arg)
{
	fx_t *f = arg;
	lh_oid v[2], o;

	o = tamper_setup (f, false, false, v, 2);
	db_flip_attr (f->path, v[0], CKA_LABEL, 2);
	db_flip_attr (f->path, v[1], CKA_CLASS, 0);
	tamper_check (f, v, 2, o, false);
}

static void
test_tamper_sealed (void *arg)
{
	fx_t *f = arg;
	lh_oid v[4], o;

	/* the nonce, the ciphertext and the tag of a sealed value */
	o = tamper_setup (f, true, false, v, 3);
	db_flip_attr (f->path, v[0], CKA_VALUE, 1);
	db_flip_attr (f->path, v[1], CKA_VALUE, 20);
	db_flip_attr (f->path, v[2], CKA_VALUE, 40);
	tamper_check (f, v, 3, o, true);
	teardown (f);
	/* the same in a public object with one sealed attribute */
	f = setup (NULL);
	o = tamper_setup (f, false, true, v, 4);
	db_flip_attr (f->path, v[0], CKA_VALUE, 0);
	db_flip_attr (f->path, v[1], CKA_VALUE, 5);
	db_flip_attr (f->path, v[2], CKA_VALUE, 13);
	db_flip_attr (f->path, v[3], CKA_VALUE, 33);
	tamper_check (f, v, 4, o, false);
}

static void
test_tamper_flag (void *arg)
{
	fx_t *f = arg;
	lh_oid v[2], o;

	o = tamper_setup (f, false, true, v, 2);
	/* "unseal" a sealed CKA_VALUE; claim a plain label is sealed */
	db_set (f->path, "UPDATE attrs SET flags = 0 WHERE obj = ?1 AND type = ?2",
	            (int64_t) v[0], CKA_VALUE);
	db_set (f->path, "UPDATE attrs SET flags = 2 WHERE obj = ?1 AND type = ?2",
	            (int64_t) v[1], CKA_LABEL);
	tamper_check (f, v, 2, o, false);
}

static void
test_tamper_private (void *arg)
{
	fx_t *f = arg;
	lh_attrs at;
	lh_oid v[1], o;

	o = tamper_setup (f, true, false, v, 1);
	/* make a private object look public: the csum catches it */
	db_set (f->path, "UPDATE objects SET private = ?2 WHERE id = ?1",
	            (int64_t) v[0], 0);
	f->st = open_store (f, false);
	assert_rv (CKR_DEVICE_ERROR, lh_store_obj_get (f->st, v[0], &at));
	lh_store_close (f->st);
	f->st = NULL;
	tamper_check (f, v, 1, o, true);
}

static void
test_tamper_rows (void *arg)
{
	fx_t *f = arg;
	lh_oid v[3], o;

	o = tamper_setup (f, false, false, v, 3);
	/* drop an attribute (think CKA_SENSITIVE), add one, damage a tag */
	db_set (f->path, "DELETE FROM attrs WHERE obj = ?1 AND type = ?2",
	            (int64_t) v[0], CKA_ID);
	db_set (f->path, "INSERT INTO attrs VALUES (?1, ?2, 0, x'01')",
	            (int64_t) v[1], CKA_SENSITIVE);
	db_set (f->path, "UPDATE objects SET csum = zeroblob(?2) WHERE id = ?1",
	            (int64_t) v[2], 16);
	tamper_check (f, v, 3, o, false);
}

/* Swapping sealed blobs between objects (same type) is caught. */
static void
test_tamper_swap (void *arg)
{
	fx_t *f = arg;
	lh_oid v[1], o;

	o = tamper_setup (f, true, false, v, 1);
	db_set (f->path, "UPDATE attrs SET value = (SELECT value FROM attrs"
	            " WHERE obj = ?2 AND type = 17) WHERE obj = ?1 AND type = 17",
	            (int64_t) v[0], (int64_t) o);
	tamper_check (f, v, 1, o, true);
}

/*
 * An attacker who recomputes the (unkeyed) checksum fools the pre-login
 * check, but not the MAC once the master key is held.
 */
static void
test_tamper_mac (void *arg)
{
	fx_t *f = arg;
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	uint8_t hash[32], *enc = NULL;
	lh_store_info info;
	lh_stored s[4];
	lh_attrs at;
	lh_oid v[1], o;
	size_t len = 0;

	o = tamper_setup (f, false, false, v, 1);
	f->st = open_store (f, false);
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	lh_store_close (f->st);
	f->st = NULL;
	/* the canonical encoding with the label changed to "victiM" */
	s[0] = (lh_stored){ CKA_CLASS, 0, (uint8_t *) &cls, sizeof cls, NULL };
	s[1] = (lh_stored){ CKA_LABEL, 0, (const uint8_t *) "victiM", 6, NULL };
	s[2] = (lh_stored){ CKA_VALUE, 0, (const uint8_t *) "victim value", 12, NULL };
	s[3] = (lh_stored){ CKA_ID, 0, (const uint8_t *) "1", 1, NULL };
	assert_rv (CKR_OK, lh_obj_canon (info.token_uid, v[0], false, s, 4,
	                                 &enc, &len));
	assert_num_eq (1, EVP_Digest (enc, len, hash, NULL, EVP_sha256 (), NULL));
	free (enc);
	db_q (f->path, "UPDATE attrs SET value = ?3 WHERE obj = ?1 AND type = ?2",
	      (int64_t) v[0], CKA_LABEL, "victiM", 6, NULL, NULL);
	db_q (f->path, "UPDATE objects SET csum = ?3 WHERE id = ?1",
	      (int64_t) v[0], 0, hash, 16, NULL, NULL);
	f->st = open_store (f, false);
	assert_rv (CKR_OK, lh_store_obj_get (f->st, v[0], &at));
	assert_true (attr_is (&at, CKA_LABEL, "victiM"));
	lh_attrs_free (&at);
	lh_store_close (f->st);
	f->st = NULL;
	/* with the master key, the MAC check rejects it */
	f->st = open_store (f, false);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_DEVICE_ERROR, lh_store_obj_get (f->st, v[0], &at));
	check_obj (f->st, o, "other", "other value");
}

/* Seals are bound to token, object, type and MK version (AAD). */
static void
test_seal_binding (void *arg)
{
	fx_t *f = arg;
	static const uint8_t pt[] = "plaintext of a key";
	uint8_t *blob = NULL, *blob2 = NULL, *out = NULL;
	size_t blen = 0, blen2 = 0, olen = 0;
	lh_keys *k;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	k = lh_keys_get (f->st);
	assert_true (k != NULL);
	assert_rv (CKR_OK, lh_seal (f->st, k, 7, CKA_VALUE, pt, sizeof pt, &blob, &blen));
	assert_rv (CKR_OK, lh_seal (f->st, k, 7, CKA_VALUE, pt, sizeof pt, &blob2, &blen2));
	assert_num_eq (sizeof pt + 29, blen);
	assert_num_eq (LH_FORMAT_VERSION, blob[0]);
	assert_true (memcmp (blob + 1, blob2 + 1, 12) != 0);     /* fresh nonce */
	assert_true (memmem (blob, blen, "plaintext", 9) == NULL);
	assert_rv (CKR_OK, lh_unseal (f->st, k, 7, CKA_VALUE, blob, blen, &out, &olen));
	assert_mem_eq (pt, sizeof pt, out, olen);
	OPENSSL_clear_free (out, olen);
	assert_rv (CKR_DEVICE_ERROR, lh_unseal (f->st, k, 8, CKA_VALUE, blob, blen, &out, &olen));
	assert_true (out == NULL);
	assert_rv (CKR_DEVICE_ERROR, lh_unseal (f->st, k, 7, CKA_LABEL, blob, blen, &out, &olen));
	k->mk_version++;
	assert_rv (CKR_DEVICE_ERROR, lh_unseal (f->st, k, 7, CKA_VALUE, blob, blen, &out, &olen));
	k->mk_version--;
	f->st->token_uid[0] ^= 1;
	assert_rv (CKR_DEVICE_ERROR, lh_unseal (f->st, k, 7, CKA_VALUE, blob, blen, &out, &olen));
	f->st->token_uid[0] ^= 1;
	assert_rv (CKR_DEVICE_ERROR, lh_unseal (f->st, k, 7, CKA_VALUE, blob, 28, &out, &olen));
	blob[0] = 2;
	assert_rv (CKR_DEVICE_ERROR, lh_unseal (f->st, k, 7, CKA_VALUE, blob, blen, &out, &olen));
	blob[0] = 1;
	blob[blen - 1] ^= 0x80;
	assert_rv (CKR_DEVICE_ERROR, lh_unseal (f->st, k, 7, CKA_VALUE, blob, blen, &out, &olen));
	lh_keys_put (f->st, k);
	free (blob);
	free (blob2);
	assert_num_eq (ERR_peek_error (), 0);
}

/* ---- change detection and concurrency ---------------------------------- */

static void
test_changed (void *arg)
{
	fx_t *f = arg;
	bool changed = false;
	lh_oid id, first = 0;

	make_token (f);
	f->st2 = open_store (f, false);
	assert_rv (CKR_OK, lh_store_changed (f->st2, &changed));
	assert_rv (CKR_OK, lh_store_changed (f->st2, &changed));
	assert_false (changed);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_changed (f->st2, &changed));
	assert_true (changed);          /* the login reset wrote the file */
	assert_rv (CKR_OK, lh_store_changed (f->st2, &changed));
	assert_false (changed);
	id = add_obj (f->st, false, CKO_DATA, "from A", "1", "v", false);
	assert_rv (CKR_OK, lh_store_changed (f->st2, &changed));
	assert_true (changed);
	assert_rv (CKR_OK, lh_store_changed (f->st2, &changed));
	assert_false (changed);
	assert_num_eq (1, find_label (f->st2, "from A", false, &first));
	assert_num_eq (id, first);
	check_obj (f->st2, id, "from A", "v");
	/* and the other way round, with a private object */
	assert_rv (CKR_OK, lh_store_login (f->st2, CKU_USER, PIN (USER_PIN)));
	id = add_obj (f->st2, true, CKO_DATA, "from B", "2", "w", false);
	check_obj (f->st, id, "from B", "w");
	assert_rv (CKR_OK, lh_store_changed (f->st2, &changed));
	assert_true (changed);
}

/* CK_C_INITIALIZE_ARGS-style mutex callbacks over pthreads. */
static CK_RV
m_create (void **m)
{
	*m = malloc (sizeof (pthread_mutex_t));
	return *m && !pthread_mutex_init (*m, NULL) ? CKR_OK : CKR_HOST_MEMORY;
}

static CK_RV
m_destroy (void *m)
{
	pthread_mutex_destroy (m);
	free (m);
	return CKR_OK;
}

static CK_RV
m_lock (void *m)
{
	return pthread_mutex_lock (m) ? CKR_MUTEX_BAD : CKR_OK;
}

static CK_RV
m_unlock (void *m)
{
	return pthread_mutex_unlock (m) ? CKR_MUTEX_NOT_LOCKED : CKR_OK;
}

static const lh_mutex_ops mutex_ops = { m_create, m_destroy, m_lock, m_unlock };

#define NREADERS  6
#define NOBJ      20

typedef struct {
	lh_store *st;
	lh_oid ids[NOBJ];
	int errors;
	int writes;
} thr_arg;

static void *
reader (void *p)
{
	thr_arg *t = p;
	char label[32];
	lh_attrs at;
	lh_sattr m;
	lh_oid *ids;
	size_t n;
	int i, j;

	for (i = 0; i < 100; i++) {
		j = i % NOBJ;
		snprintf (label, sizeof label, "obj %d", j);
		if (lh_store_obj_get (t->st, t->ids[j], &at) != CKR_OK ||
		    !attr_is (&at, CKA_LABEL, label))
			__atomic_add_fetch (&t->errors, 1, __ATOMIC_SEQ_CST);
		lh_attrs_free (&at);
		m = (lh_sattr){ CKA_LABEL, label, strlen (label), 0 };
		ids = NULL;
		if (lh_store_obj_find (t->st, &m, 1, true, &ids, &n) != CKR_OK ||
		    n != 1 || ids[0] != t->ids[j])
			__atomic_add_fetch (&t->errors, 1, __ATOMIC_SEQ_CST);
		free (ids);
	}
	return NULL;
}

static void *
writer (void *p)
{
	thr_arg *t = p;
	lh_sattr a = { CKA_LABEL, (void *) "written", 7, 0 };
	lh_oid id;
	int i;

	for (i = 0; i < 30; i++) {
		if (lh_store_obj_add (t->st, i & 1, &a, 1, &id) == CKR_OK)
			__atomic_add_fetch (&t->writes, 1, __ATOMIC_SEQ_CST);
		else
			__atomic_add_fetch (&t->errors, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void
test_threads (void *arg)
{
	fx_t *f = arg;
	lh_store_config cfg = cfg_fast;
	pthread_t th[NREADERS + 2];
	thr_arg t, t2;
	lh_store_info info;
	char label[32];
	int i;

	make_token (f);
	lh_store_close (f->st);
	cfg.mutex = &mutex_ops;
	assert_rv (CKR_OK, lh_store_open (f->path, &cfg, false, &f->st));
	assert_rv (CKR_OK, lh_store_open (f->path, &cfg, false, &f->st2));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_login (f->st2, CKU_USER, PIN (USER_PIN)));
	memset (&t, 0, sizeof t);
	memset (&t2, 0, sizeof t2);
	t.st = f->st;
	t2.st = f->st2;
	for (i = 0; i < NOBJ; i++) {
		snprintf (label, sizeof label, "obj %d", i);
		t.ids[i] = add_obj (f->st, i & 1, CKO_DATA, label, "id", "v", false);
	}
	/* readers on one handle, a writer on it and one on a second handle */
	for (i = 0; i < NREADERS; i++)
		assert_num_eq (0, pthread_create (&th[i], NULL, reader, &t));
	assert_num_eq (0, pthread_create (&th[NREADERS], NULL, writer, &t));
	assert_num_eq (0, pthread_create (&th[NREADERS + 1], NULL, writer, &t2));
	for (i = 0; i < NREADERS + 2; i++)
		pthread_join (th[i], NULL);
	assert_num_eq (0, t.errors);
	assert_num_eq (0, t2.errors);
	assert_num_eq (30, t.writes);
	assert_num_eq (30, t2.writes);
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (NOBJ + 60, info.object_count);
	assert_num_eq (60, find_label (f->st, "written", true, NULL));
}

int
main (void)
{
	lh_test_fixture (setup, teardown);
	lh_test_add ("/store/open/create", test_open_create, NULL);
	lh_test_add ("/store/open/mode-0600", test_open_mode, NULL);
	lh_test_add ("/store/open/not-a-token", test_open_not_token, NULL);
	lh_test_add ("/store/open/truncated", test_open_truncated, NULL);
	lh_test_add ("/store/open/backup", test_open_backup, NULL);
	lh_test_add ("/store/errors/sqlite-map", test_error_map, NULL);
	lh_test_add ("/store/init/fresh", test_init_fresh, NULL);
	lh_test_add ("/store/init/reinit", test_init_reinit, NULL);
	lh_test_add ("/store/init/stale-login", test_init_stale_login, NULL);
	lh_test_add ("/store/login/right-wrong-reset", test_login_right_wrong, NULL);
	lh_test_add ("/store/login/lock", test_login_lock, NULL);
	lh_test_add ("/store/login/no-pin", test_login_no_user_pin, NULL);
	lh_test_add ("/store/pin/init-needs-so-unlocks", test_pin_init_unlocks, NULL);
	lh_test_add ("/store/pin/set", test_pin_set, NULL);
	lh_test_add ("/store/pin/kdf-params", test_pin_kdf_params, NULL);
	lh_test_add ("/store/obj/public", test_obj_public, NULL);
	lh_test_add ("/store/obj/private", test_obj_private, NULL);
	lh_test_add ("/store/obj/sealed-public", test_obj_sealed_public, NULL);
	lh_test_add ("/store/obj/edge", test_obj_edge, NULL);
	lh_test_add ("/store/obj/no-plaintext-on-disk", test_obj_no_plaintext, NULL);
	lh_test_add ("/store/find/public", test_find_public, NULL);
	lh_test_add ("/store/find/private", test_find_private, NULL);
	lh_test_add ("/store/find/query-plan", test_find_plan, NULL);
	lh_test_add ("/store/find/many", test_find_many, NULL);
	lh_test_add ("/store/seal/aad-binding", test_seal_binding, NULL);
	lh_test_add ("/store/tamper/value", test_tamper_value, NULL);
	lh_test_add ("/store/tamper/sealed", test_tamper_sealed, NULL);
	lh_test_add ("/store/tamper/flag", test_tamper_flag, NULL);
	lh_test_add ("/store/tamper/private", test_tamper_private, NULL);
	lh_test_add ("/store/tamper/rows", test_tamper_rows, NULL);
	lh_test_add ("/store/tamper/swap-sealed", test_tamper_swap, NULL);
	lh_test_add ("/store/tamper/mac-beats-csum", test_tamper_mac, NULL);
	lh_test_add ("/store/changed", test_changed, NULL);
	lh_test_add ("/store/threads", test_threads, NULL);
	return lh_test_run ();
}
