/*
 * test-store-admin.c - unit tests of store/admin.c: backup of a live
 * token, restore (including over a token whose -wal holds newer data),
 * verify before and after login, and rekey (success, wrong PINs, a
 * damaged object rolling everything back, other handles' stale keys).
 *
 * Each test gets a fresh temporary directory and works on "token.db" in
 * it.  Damage is done with SQLite directly, behind the store's back.  The
 * KDF cost is the minimum (t=1, 64 KiB) and max_pin_failures is 3, as in
 * test-store.c.
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

#define LH_FX_PREFIX "lh-admin"
#include "store-fixture.h"

static lh_store *
open_path (const char *path)
{
	lh_store *st = NULL;

	assert_rv (CKR_OK, lh_store_open (path, &cfg_fast, false, &st));
	assert_true (st != NULL);
	return st;
}

/* New token: SO PIN and user PIN set, nobody logged in. */
static void
make_token (fx_t *f)
{
	uint8_t label[32];

	memset (label, ' ', sizeof label);
	memcpy (label, "admin token", 11);
	assert_rv (CKR_OK, lh_store_open (f->path, &cfg_fast, true, &f->st));
	assert_rv (CKR_OK, lh_store_init_token (f->st, label, PIN (SO_PIN)));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_SO, PIN (SO_PIN)));
	assert_rv (CKR_OK, lh_store_init_pin (f->st, PIN (USER_PIN)));
	lh_store_logout (f->st);
}

static void
close_st (fx_t *f)
{
	lh_store_close (f->st);
	lh_store_close (f->st2);
	f->st = f->st2 = NULL;
}

static lh_oid
add_obj (lh_store *st, bool priv, const char *label, const char *value,
         bool seal_value)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	lh_sattr a[4];
	lh_oid oid = 0;

	a[0] = (lh_sattr){ CKA_CLASS, &cls, sizeof cls, 0 };
	a[1] = (lh_sattr){ CKA_LABEL, (void *) label, strlen (label), 0 };
	a[2] = (lh_sattr){ CKA_ID, (void *) "id", 2, 0 };
	a[3] = (lh_sattr){ CKA_VALUE, (void *) value, strlen (value),
	                   seal_value ? LH_SATTR_SEAL : 0 };
	assert_rv (CKR_OK, lh_store_obj_add (st, priv, a, 4, &oid));
	assert_true (oid != 0);
	return oid;
}

static bool
attr_is (const lh_attrs *at, CK_ATTRIBUTE_TYPE type, const char *s)
{
	size_t i;

	for (i = 0; i < at->n; i++) {
		if (at->a[i].type == type)
			return at->a[i].value != NULL && at->a[i].len == strlen (s) &&
			       memcmp (at->a[i].value, s, at->a[i].len) == 0;
	}
	return false;
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
count_all (lh_store *st)
{
	lh_oid *ids = NULL;
	size_t n = 0;

	assert_rv (CKR_OK, lh_store_obj_find (st, NULL, 0, true, &ids, &n));
	free (ids);
	return n;
}

static size_t
find_label (lh_store *st, const char *label)
{
	lh_sattr m = { CKA_LABEL, (void *) label, strlen (label), 0 };
	lh_oid *ids = NULL;
	size_t n = 0;

	assert_rv (CKR_OK, lh_store_obj_find (st, &m, 1, true, &ids, &n));
	free (ids);
	return n;
}

/* A whole file in memory (malloc'd), *len its size; NULL if missing. */
static uint8_t *
file_read (const char *path, size_t *len)
{
	uint8_t *buf;
	struct stat sb;
	FILE *fp;

	*len = 0;
	if (stat (path, &sb) != 0)
		return NULL;
	buf = malloc ((size_t) sb.st_size + 1);
	assert_true (buf != NULL);
	fp = fopen (path, "rb");
	assert_true (fp != NULL);
	*len = fread (buf, 1, (size_t) sb.st_size, fp);
	fclose (fp);
	return buf;
}

static void
file_write (const char *path, const void *data, size_t len)
{
	FILE *fp = fopen (path, "wb");

	assert_true (fp != NULL);
	assert_num_eq (len, fwrite (data, 1, len, fp));
	fclose (fp);
}

static bool
file_exists (const char *path)
{
	struct stat sb;

	return lstat (path, &sb) == 0;
}

static bool
file_same (const char *path, const uint8_t *data, size_t len)
{
	size_t n;
	uint8_t *b = file_read (path, &n);
	bool same = b != NULL && n == len && memcmp (b, data, n) == 0;

	free (b);
	return same;
}

/* Names in the test directory containing s. */
static int
dir_count (fx_t *f, const char *s)
{
	struct dirent *e;
	int n = 0;
	DIR *d;

	d = opendir (f->dir);
	assert_true (d != NULL);
	while ((e = readdir (d)) != NULL)
		n += strstr (e->d_name, s) != NULL;
	closedir (d);
	return n;
}

/*
 * Run one SQL statement on a token file behind the store's back, with ?1
 * and ?2 bound to a and b and ?3 to the blob.  Returns column 0 of the
 * first row as an integer.
 */
static int64_t
db_q (const char *path, const char *sql, int64_t a, int64_t b,
      const void *blob, int blen)
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
		while (rc == SQLITE_ROW)
			rc = sqlite3_step (s);
	}
	assert_num_eq (SQLITE_DONE, rc);
	sqlite3_finalize (s);
	sqlite3_close (db);
	return v;
}

#define db_int(path, sql)       db_q (path, sql, 0, 0, NULL, 0)

/* A list of byte strings read from a file with SQL (column 0 of each row). */
typedef struct {
	uint8_t *b[256];
	int len[256];
	int n;
} blobs;

static void
blobs_get (const char *path, const char *sql, blobs *out)
{
	sqlite3_stmt *s = NULL;
	sqlite3 *db = NULL;
	int rc;

	memset (out, 0, sizeof *out);
	assert_num_eq (SQLITE_OK, sqlite3_open (path, &db));
	assert_num_eq (SQLITE_OK, sqlite3_prepare_v2 (db, sql, -1, &s, NULL));
	while ((rc = sqlite3_step (s)) == SQLITE_ROW) {
		assert_true (out->n < 256);
		out->len[out->n] = sqlite3_column_bytes (s, 0);
		out->b[out->n] = malloc ((size_t) out->len[out->n] + 1);
		memcpy (out->b[out->n], sqlite3_column_blob (s, 0),
		        (size_t) out->len[out->n]);
		out->n++;
	}
	assert_num_eq (SQLITE_DONE, rc);
	sqlite3_finalize (s);
	sqlite3_close (db);
}

static void
blobs_free (blobs *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		free (l->b[i]);
	l->n = 0;
}

static bool
blobs_equal (const blobs *a, const blobs *b)
{
	int i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		if (a->len[i] != b->len[i] ||
		    memcmp (a->b[i], b->b[i], (size_t) a->len[i]) != 0)
			return false;
	}
	return true;
}

/*
 * The whole logical content of a token, one blob per row: every table
 * (fail counts included only when with_counts), so "nothing changed" can
 * be checked exactly.
 */
static const char sql_dump[] =
	"SELECT CAST(name AS BLOB) || x'00' || CAST(quote(value) AS BLOB) FROM meta"
	" UNION ALL SELECT CAST(user AS BLOB) || kdf || wrapped_mk FROM auth"
	" UNION ALL SELECT CAST(id AS BLOB) || CAST(private AS BLOB) || csum || mac"
	"   FROM objects"
	" UNION ALL SELECT CAST(obj AS BLOB) || CAST(type AS BLOB) ||"
	"   CAST(flags AS BLOB) || value FROM attrs"
	" UNION ALL SELECT CAST(type AS BLOB) || key || CAST(obj AS BLOB) FROM idx"
	" UNION ALL SELECT CAST(name AS BLOB) || CAST(seq AS BLOB)"
	"   FROM sqlite_sequence";
static const char sql_dump_counts[] =
	"SELECT CAST(user AS BLOB) || CAST(fail_count AS BLOB) FROM auth";

/* Every sealed blob and MK wrap in the file. */
static const char sql_sealed[] =
	"SELECT value FROM attrs WHERE flags = 2"
	" UNION ALL SELECT wrapped_mk FROM auth";

/* Does the token file or its -wal still hold any tag of l? */
static bool
file_has_any (const char *path, const blobs *l)
{
	char wal[400];
	const char *paths[2] = { path, wal };
	uint8_t *buf;
	size_t len, i;
	bool found = false;
	int j;

	snprintf (wal, sizeof wal, "%s-wal", path);
	for (i = 0; i < 2; i++) {
		buf = file_read (paths[i], &len);
		for (j = 0; buf != NULL && j < l->n; j++) {
			/* the GCM tag: 16 random-looking bytes at the end */
			if (memmem (buf, len, l->b[j] + l->len[j] - 16, 16) != NULL)
				found = true;
		}
		free (buf);
	}
	return found;
}

/* Flip one bit at offset off of attrs.value of (obj, type). */
static void
db_flip_attr (const char *path, lh_oid obj, CK_ATTRIBUTE_TYPE type, int off)
{
	char sql[200];
	blobs l;

	snprintf (sql, sizeof sql, "SELECT value FROM attrs WHERE obj = %llu"
	          " AND type = %lu", (unsigned long long) obj, (unsigned long) type);
	blobs_get (path, sql, &l);
	assert_num_eq (1, l.n);
	assert_true (l.len[0] > off);
	l.b[0][off] ^= 0x01;
	db_q (path, "UPDATE attrs SET value = ?3 WHERE obj = ?1 AND type = ?2",
	      (int64_t) obj, (int64_t) type, l.b[0], l.len[0]);
	blobs_free (&l);
}

/* What the verify callback saw. */
typedef struct {
	int n;
	lh_oid id[16];
	char label[16][64];
	bool has_label[16];
	CK_RV why[16];
} reports;

static void
report_cb (void *ctx, lh_oid id, const char *label, CK_RV why)
{
	reports *r = ctx;

	if (r->n >= 16)
		return;
	r->id[r->n] = id;
	r->has_label[r->n] = label != NULL;
	snprintf (r->label[r->n], sizeof r->label[r->n], "%s", label ? label : "");
	r->why[r->n] = why;
	r->n++;
}

/* The report for id: its index, or -1. */
static int
report_of (const reports *r, lh_oid id)
{
	int i;

	for (i = 0; i < r->n; i++) {
		if (r->id[i] == id)
			return i;
	}
	return -1;
}

static void
verify (lh_store *st, reports *r, size_t want_checked, size_t want_damaged)
{
	size_t checked = 99, damaged = 99;

	memset (r, 0, sizeof *r);
	assert_rv (CKR_OK, lh_store_verify (st, report_cb, r, &checked, &damaged));
	assert_num_eq (want_checked, checked);
	assert_num_eq (want_damaged, damaged);
	assert_num_eq (want_damaged, r->n);
}

/* ---- backup ------------------------------------------------------------ */

typedef struct {
	lh_store *st;
	int stop;
	int writes;
	int errors;
} writer_arg;

/* Keeps adding public and private objects until told to stop. */
static void *
writer (void *p)
{
	writer_arg *w = p;
	lh_sattr a[2];
	char v[64];
	lh_oid id;
	int i;

	for (i = 0; !__atomic_load_n (&w->stop, __ATOMIC_SEQ_CST); i++) {
		snprintf (v, sizeof v, "concurrent value %d", i);
		a[0] = (lh_sattr){ CKA_LABEL, (void *) "concurrent", 10, 0 };
		a[1] = (lh_sattr){ CKA_VALUE, v, strlen (v), 0 };
		if (lh_store_obj_add (w->st, i & 1, a, 2, &id) == CKR_OK)
			__atomic_add_fetch (&w->writes, 1, __ATOMIC_SEQ_CST);
		else
			__atomic_add_fetch (&w->errors, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/*
 * Backups of a token that another handle keeps writing: each opens as a
 * token with the same PINs, holds every object that existed before, and
 * every object in it reads back whole (one consistent snapshot).
 */
static void
test_backup_live (void *arg)
{
	fx_t *f = arg;
	lh_oid pub, priv, sealed, *ids = NULL;
	char bak[400], wal[420];
	uint8_t hdr[20];
	writer_arg w;
	pthread_t th;
	lh_store *b;
	struct stat sb;
	lh_attrs at;
	size_t before, n, i;
	int k;
	FILE *fp;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	pub = add_obj (f->st, false, "public", "public value", false);
	priv = add_obj (f->st, true, "private", "private value", false);
	sealed = add_obj (f->st, false, "sealed", "sealed value", true);
	before = count_all (f->st);
	lh_store_logout (f->st);        /* backup needs no login */

	f->st2 = open_path (f->path);
	assert_rv (CKR_OK, lh_store_login (f->st2, CKU_USER, PIN (USER_PIN)));
	memset (&w, 0, sizeof w);
	w.st = f->st2;
	assert_num_eq (0, pthread_create (&th, NULL, writer, &w));
	while (__atomic_load_n (&w.writes, __ATOMIC_SEQ_CST) < 5)
		usleep (1000);
	for (k = 0; k < 4; k++) {
		snprintf (bak, sizeof bak, "%s/backup-%d.db", f->dir, k);
		assert_rv (CKR_OK, lh_store_backup (f->st, bak));
		/* complete, private, and self-contained (rollback journal mode) */
		assert_num_eq (0, stat (bak, &sb));
		assert_num_eq (0600, sb.st_mode & 07777);
		fp = fopen (bak, "rb");
		assert_num_eq (sizeof hdr, fread (hdr, 1, sizeof hdr, fp));
		fclose (fp);
		assert_num_eq (1, hdr[18]);
		assert_num_eq (1, hdr[19]);
		snprintf (wal, sizeof wal, "%s-wal", bak);
		assert_false (file_exists (wal));
	}
	assert_true (__atomic_load_n (&w.writes, __ATOMIC_SEQ_CST) > 5);
	__atomic_store_n (&w.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join (th, NULL);
	assert_num_eq (0, w.errors);
	assert_num_eq (0, dir_count (f, ".tmp-"));

	for (k = 0; k < 4; k++) {
		snprintf (bak, sizeof bak, "%s/backup-%d.db", f->dir, k);
		b = open_path (bak);
		assert_rv (CKR_OK, lh_store_login (b, CKU_SO, PIN (SO_PIN)));
		assert_rv (CKR_OK, lh_store_login (b, CKU_USER, PIN (USER_PIN)));
		check_obj (b, pub, "public", "public value");
		check_obj (b, priv, "private", "private value");
		check_obj (b, sealed, "sealed", "sealed value");
		assert_rv (CKR_OK, lh_store_obj_find (b, NULL, 0, true, &ids, &n));
		assert_true (n >= before);
		assert_true (n <= before + (size_t) w.writes);
		for (i = 0; i < n; i++) {
			assert_rv (CKR_OK, lh_store_obj_get (b, ids[i], &at));
			lh_attrs_free (&at);
		}
		free (ids);
		ids = NULL;
		lh_store_close (b);
	}
	assert_num_eq (ERR_peek_error (), 0);
}

/* dest must not exist; failures leave nothing behind. */
static void
test_backup_refused (void *arg)
{
	fx_t *f = arg;
	char dest[400], bad[400];

	make_token (f);
	snprintf (dest, sizeof dest, "%s/exists.db", f->dir);
	file_write (dest, "precious", 8);
	assert_rv (CKR_ARGUMENTS_BAD, lh_store_backup (f->st, dest));
	assert_true (file_same (dest, (const uint8_t *) "precious", 8));
	/* a dangling symlink is a name that exists too */
	snprintf (bad, sizeof bad, "%s/link.db", f->dir);
	assert_num_eq (0, symlink ("/nonexistent/target", bad));
	assert_rv (CKR_ARGUMENTS_BAD, lh_store_backup (f->st, bad));
	snprintf (bad, sizeof bad, "%s/no-such-dir/b.db", f->dir);
	assert_rv (CKR_DEVICE_ERROR, lh_store_backup (f->st, bad));
	assert_rv (CKR_ARGUMENTS_BAD, lh_store_backup (f->st, NULL));
	assert_rv (CKR_ARGUMENTS_BAD, lh_store_backup (NULL, dest));
	assert_num_eq (0, dir_count (f, ".tmp-"));
	/* and a good one still works after all that */
	snprintf (dest, sizeof dest, "%s/good.db", f->dir);
	assert_rv (CKR_OK, lh_store_backup (f->st, dest));
	assert_rv (CKR_ARGUMENTS_BAD, lh_store_backup (f->st, dest));
}

/* ---- restore ----------------------------------------------------------- */

static void
copy_file (const char *from, const char *to)
{
	size_t len;
	uint8_t *b = file_read (from, &len);

	assert_true (b != NULL);
	file_write (to, b, len);
	free (b);
}

/*
 * The token changes after the backup, and its newest changes are only in
 * its -wal (the state a crash leaves).  Restoring the backup brings the
 * old objects and PINs back; the old -wal is gone rather than replayed
 * onto the restored file.  The backup itself is not modified.
 */
static void
test_restore_over_changed (void *arg)
{
	fx_t *f = arg;
	char bak[400], wal[420], shm[420], crash[400], crash_wal[420];
	lh_oid pub, priv, sealed, added;
	uint8_t *bak_bytes;
	size_t bak_len, wal_len;
	struct stat sb;
	lh_attrs at;
	lh_sattr a;
	reports r;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	pub = add_obj (f->st, false, "public", "public value", false);
	priv = add_obj (f->st, true, "private", "private value", false);
	sealed = add_obj (f->st, false, "sealed", "sealed value", true);
	snprintf (bak, sizeof bak, "%s/backup.db", f->dir);
	assert_rv (CKR_OK, lh_store_backup (f->st, bak));
	bak_bytes = file_read (bak, &bak_len);

	/* change everything: objects and the user PIN */
	a = (lh_sattr){ CKA_LABEL, (void *) "renamed", 7, 0 };
	assert_rv (CKR_OK, lh_store_obj_update (f->st, pub, false, &a, 1));
	assert_rv (CKR_OK, lh_store_obj_del (f->st, priv));
	added = add_obj (f->st, true, "added", "added value", false);
	assert_rv (CKR_OK, lh_store_set_pin (f->st, CKU_USER, PIN (USER_PIN),
	                                     PIN ("new-user-pin")));
	/* freeze the files as a crash would leave them: changes in the -wal */
	snprintf (wal, sizeof wal, "%s-wal", f->path);
	snprintf (shm, sizeof shm, "%s-shm", f->path);
	snprintf (crash, sizeof crash, "%s/crash.db", f->dir);
	snprintf (crash_wal, sizeof crash_wal, "%s/crash.db-wal", f->dir);
	copy_file (f->path, crash);
	copy_file (wal, crash_wal);
	close_st (f);                   /* checkpoints and removes the -wal */
	assert_num_eq (0, rename (crash, f->path));
	assert_num_eq (0, rename (crash_wal, wal));
	free (file_read (wal, &wal_len));
	assert_true (wal_len > 0);

	assert_rv (CKR_OK, lh_store_restore (bak, f->path));
	assert_false (file_exists (wal));
	assert_false (file_exists (shm));
	assert_num_eq (0, dir_count (f, ".tmp-"));
	/* the source was read, not written, and grew no companions */
	assert_true (file_same (bak, bak_bytes, bak_len));
	snprintf (crash_wal, sizeof crash_wal, "%s-wal", bak);
	assert_false (file_exists (crash_wal));

	f->st = open_path (f->path);
	assert_rv (CKR_PIN_INCORRECT,
	           lh_store_login (f->st, CKU_USER, PIN ("new-user-pin")));
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	check_obj (f->st, pub, "public", "public value");
	check_obj (f->st, priv, "private", "private value");
	check_obj (f->st, sealed, "sealed", "sealed value");
	assert_rv (CKR_OBJECT_HANDLE_INVALID, lh_store_obj_get (f->st, added, &at));
	assert_num_eq (3, count_all (f->st));
	assert_num_eq (1, find_label (f->st, "private"));
	verify (f->st, &r, 3, 0);
	assert_num_eq (0, stat (f->path, &sb));
	assert_num_eq (0600, sb.st_mode & 07777);
	free (bak_bytes);
	assert_num_eq (ERR_peek_error (), 0);
}

/* A restore to a path where no token is (a lost token) creates it. */
static void
test_restore_missing_dest (void *arg)
{
	fx_t *f = arg;
	char bak[400], dest[400];
	struct stat sb;
	lh_store *st;
	lh_oid id;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	id = add_obj (f->st, true, "private", "private value", false);
	snprintf (bak, sizeof bak, "%s/backup.db", f->dir);
	assert_rv (CKR_OK, lh_store_backup (f->st, bak));
	snprintf (dest, sizeof dest, "%s/new.db", f->dir);
	assert_rv (CKR_OK, lh_store_restore (bak, dest));
	assert_num_eq (0, stat (dest, &sb));
	assert_num_eq (0600, sb.st_mode & 07777);
	st = open_path (dest);
	assert_rv (CKR_OK, lh_store_login (st, CKU_USER, PIN (USER_PIN)));
	check_obj (st, id, "private", "private value");
	lh_store_close (st);
}

/*
 * The source may be a live token in WAL mode (here with the object only
 * in its -wal): the copy is its committed state.  Run as root, a restore
 * keeps the owner of the token it replaces.
 */
static void
test_restore_live_owner (void *arg)
{
	fx_t *f = arg;
	char dest[400];
	struct stat sb;
	lh_store *st;
	lh_oid id;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	id = add_obj (f->st, true, "private", "private value", false);
	snprintf (dest, sizeof dest, "%s/other.db", f->dir);
	file_write (dest, "old token", 9);
	if (geteuid () == 0)
		assert_num_eq (0, chown (dest, 65534, 65534));
	assert_rv (CKR_OK, lh_store_restore (f->path, dest));
	assert_num_eq (0, stat (dest, &sb));
	assert_num_eq (0600, sb.st_mode & 07777);
	if (geteuid () == 0) {
		assert_num_eq (65534, sb.st_uid);
		assert_num_eq (65534, sb.st_gid);
	} else {
		printf ("# not root: owner carry-over not checked\n");
	}
	st = open_path (dest);
	assert_rv (CKR_OK, lh_store_login (st, CKU_USER, PIN (USER_PIN)));
	check_obj (st, id, "private", "private value");
	lh_store_close (st);
	/* the live source still works */
	check_obj (f->st, id, "private", "private value");
}

/* Anything that is not a whole token is refused and changes nothing. */
static void
test_restore_garbage (void *arg)
{
	fx_t *f = arg;
	char src[400], bak[400], sub[400];
	uint8_t junk[8192], *tok, *b;
	size_t tok_len, blen, i;
	lh_oid id;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	id = add_obj (f->st, true, "private", "private value", false);
	snprintf (bak, sizeof bak, "%s/backup.db", f->dir);
	assert_rv (CKR_OK, lh_store_backup (f->st, bak));
	close_st (f);
	tok = file_read (f->path, &tok_len);
	snprintf (src, sizeof src, "%s/src.db", f->dir);

	/* not SQLite */
	for (i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t) (i * 131 + 7);
	file_write (src, junk, sizeof junk);
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED, lh_store_restore (src, f->path));
	/* empty */
	file_write (src, "", 0);
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED, lh_store_restore (src, f->path));
	/* someone else's SQLite database */
	unlink (src);
	db_int (src, "CREATE TABLE t (x)");
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED, lh_store_restore (src, f->path));
	/* a token of a newer schema than we know */
	unlink (src);
	copy_file (bak, src);
	db_int (src, "PRAGMA user_version = 99");
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED, lh_store_restore (src, f->path));
	/* a truncated backup */
	b = file_read (bak, &blen);
	file_write (src, b, blen / 2);
	free (b);
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED, lh_store_restore (src, f->path));
	/* a token without its meta rows */
	unlink (src);
	copy_file (bak, src);
	db_int (src, "DELETE FROM meta WHERE name = 'token_uid'");
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED, lh_store_restore (src, f->path));
	/* no file, a directory, a bad destination */
	unlink (src);
	assert_rv (CKR_TOKEN_NOT_PRESENT, lh_store_restore (src, f->path));
	snprintf (sub, sizeof sub, "%s/dir", f->dir);
	assert_num_eq (0, mkdir (sub, 0700));
	assert_rv (CKR_TOKEN_NOT_RECOGNIZED, lh_store_restore (sub, f->path));
	assert_rv (CKR_ARGUMENTS_BAD, lh_store_restore (bak, sub));
	assert_rv (CKR_ARGUMENTS_BAD, lh_store_restore (NULL, f->path));

	assert_true (file_same (f->path, tok, tok_len));
	assert_num_eq (0, dir_count (f, ".tmp-"));
	f->st = open_path (f->path);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	check_obj (f->st, id, "private", "private value");
	free (tok);
	assert_num_eq (ERR_peek_error (), 0);
}

/* ---- verify -------------------------------------------------------------- */

static void
test_verify_clean (void *arg)
{
	fx_t *f = arg;
	reports r;
	size_t checked = 9, damaged = 9;

	make_token (f);
	/* an empty token */
	verify (f->st, &r, 0, 0);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	add_obj (f->st, false, "public", "public value", false);
	add_obj (f->st, true, "private", "private value", false);
	add_obj (f->st, false, "sealed", "sealed value", true);
	add_obj (f->st, true, "", "", false);
	verify (f->st, &r, 4, 0);
	lh_store_logout (f->st);
	verify (f->st, &r, 4, 0);
	/* the callback and the counters are optional */
	assert_rv (CKR_OK, lh_store_verify (f->st, NULL, NULL, NULL, NULL));
	assert_rv (CKR_ARGUMENTS_BAD,
	           lh_store_verify (NULL, NULL, NULL, &checked, &damaged));
	assert_num_eq (0, checked);
	assert_num_eq (0, damaged);
}

/*
 * One byte flipped in a private object's sealed value and one in a
 * public object's plain value: exactly those two are reported, with and
 * without login; the private label only when it opens.  Then a private
 * object whose sealed label itself is damaged: reported without a label.
 */
static void
test_verify_damaged (void *arg)
{
	fx_t *f = arg;
	lh_oid ok1, ok2, ok3, pub_bad, priv_bad, label_bad;
	reports r;
	int i;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	ok1 = add_obj (f->st, false, "public ok", "public value", false);
	priv_bad = add_obj (f->st, true, "private bad", "private value", false);
	ok2 = add_obj (f->st, true, "private ok", "private value", false);
	pub_bad = add_obj (f->st, false, "public bad", "public value", false);
	ok3 = add_obj (f->st, false, "sealed ok", "sealed value", true);
	close_st (f);
	/* in the ciphertext of the sealed value; in the plain value */
	db_flip_attr (f->path, priv_bad, CKA_VALUE, 15);
	db_flip_attr (f->path, pub_bad, CKA_VALUE, 3);

	f->st = open_path (f->path);
	/* before login: the checksum finds both; a private label stays hidden */
	verify (f->st, &r, 5, 2);
	assert_true ((i = report_of (&r, pub_bad)) >= 0);
	assert_true (r.has_label[i]);
	assert_str_eq ("public bad", r.label[i]);
	assert_rv (CKR_DEVICE_ERROR, r.why[i]);
	assert_true ((i = report_of (&r, priv_bad)) >= 0);
	assert_false (r.has_label[i]);
	assert_rv (CKR_DEVICE_ERROR, r.why[i]);
	/* reported in id order */
	assert_true (r.id[0] < r.id[1]);

	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	verify (f->st, &r, 5, 2);
	assert_true ((i = report_of (&r, pub_bad)) >= 0);
	assert_str_eq ("public bad", r.label[i]);
	assert_true ((i = report_of (&r, priv_bad)) >= 0);
	assert_true (r.has_label[i]);
	assert_str_eq ("private bad", r.label[i]);
	assert_true (report_of (&r, ok1) < 0 && report_of (&r, ok2) < 0 &&
	             report_of (&r, ok3) < 0);
	check_obj (f->st, ok2, "private ok", "private value");

	label_bad = add_obj (f->st, true, "label bad", "private value", false);
	close_st (f);
	db_flip_attr (f->path, label_bad, CKA_LABEL, 20);
	f->st = open_path (f->path);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	verify (f->st, &r, 6, 3);
	assert_true ((i = report_of (&r, label_bad)) >= 0);
	assert_false (r.has_label[i]);
	assert_num_eq (ERR_peek_error (), 0);
}

/*
 * A change whose checksum was recomputed passes the pre-login check and
 * is caught by the MAC once the master key is held.
 */
static void
test_verify_mac (void *arg)
{
	fx_t *f = arg;
	uint8_t hash[32], *enc = NULL;
	CK_OBJECT_CLASS cls = CKO_DATA;
	lh_store_info info;
	lh_stored s[4];
	size_t len = 0;
	lh_oid v;
	reports r;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	add_obj (f->st, false, "bystander", "value", false);
	v = add_obj (f->st, false, "victim", "victim value", false);
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	close_st (f);
	s[0] = (lh_stored){ CKA_CLASS, 0, (uint8_t *) &cls, sizeof cls, NULL };
	s[1] = (lh_stored){ CKA_LABEL, 0, (const uint8_t *) "victiM", 6, NULL };
	s[2] = (lh_stored){ CKA_VALUE, 0, (const uint8_t *) "victim value", 12, NULL };
	s[3] = (lh_stored){ CKA_ID, 0, (const uint8_t *) "id", 2, NULL };
	assert_rv (CKR_OK, lh_obj_canon (info.token_uid, v, false, s, 4, &enc, &len));
	assert_num_eq (1, EVP_Digest (enc, len, hash, NULL, EVP_sha256 (), NULL));
	free (enc);
	db_q (f->path, "UPDATE attrs SET value = ?3 WHERE obj = ?1 AND type = ?2",
	      (int64_t) v, CKA_LABEL, "victiM", 6);
	db_q (f->path, "UPDATE objects SET csum = ?3 WHERE id = ?1",
	      (int64_t) v, 0, hash, 16);
	f->st = open_path (f->path);
	verify (f->st, &r, 2, 0);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	verify (f->st, &r, 2, 1);
	assert_num_eq (v, r.id[0]);
	assert_str_eq ("victiM", r.label[0]);
}

/* ---- rekey --------------------------------------------------------------- */

/*
 * Everything reads back the same under the new master key; no sealed
 * blob or wrap of the old one is left in the file or its log; both PINs
 * work; a handle logged in before the rekey finds its keys stale, gets
 * clean errors and logs in again.
 */
static void
test_rekey (void *arg)
{
	fx_t *f = arg;
	lh_oid pub, priv, sealed, empty;
	lh_sattr a = { CKA_LABEL, (void *) "x", 1, 0 };
	blobs old, now;
	lh_store_info info;
	lh_attrs at;
	lh_store *st3;
	lh_oid id;
	reports r;
	int i, j;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	pub = add_obj (f->st, false, "public", "public value", false);
	priv = add_obj (f->st, true, "private", "private value", false);
	sealed = add_obj (f->st, false, "sealed", "sealed value", true);
	empty = add_obj (f->st, true, "", "", false);
	for (i = 0; i < 20; i++)
		add_obj (f->st, i & 1, "filler", "some filler value", i % 3 == 0);
	f->st2 = open_path (f->path);
	assert_rv (CKR_OK, lh_store_login (f->st2, CKU_USER, PIN (USER_PIN)));
	check_obj (f->st2, priv, "private", "private value");
	blobs_get (f->path, sql_sealed, &old);
	assert_true (old.n > 40);
	assert_true (file_has_any (f->path, &old));     /* the scan works */
	lh_store_logout (f->st);

	assert_rv (CKR_OK, lh_store_rekey (f->st, PIN (SO_PIN), PIN (USER_PIN)));
	assert_num_eq (2, db_int (f->path,
	        "SELECT value FROM meta WHERE name = 'mk_version'"));
	/* logged in as the user now, with the new keys */
	assert_true (lh_store_logged_in (f->st));
	assert_num_eq (CKU_USER, f->st->keys->who);
	assert_num_eq (2, f->st->keys->mk_version);
	check_obj (f->st, pub, "public", "public value");
	check_obj (f->st, priv, "private", "private value");
	check_obj (f->st, sealed, "sealed", "sealed value");
	check_obj (f->st, empty, "", "");
	assert_num_eq (24, count_all (f->st));
	/* the private (keyed) index was rebuilt under the new index key */
	assert_num_eq (1, find_label (f->st, "private"));
	assert_num_eq (20, find_label (f->st, "filler"));
	verify (f->st, &r, 24, 0);

	/* every sealed blob and wrap is new, and no old one is left */
	blobs_get (f->path, sql_sealed, &now);
	assert_num_eq (old.n, now.n);
	for (i = 0; i < old.n; i++) {
		for (j = 0; j < now.n; j++)
			assert_false (old.len[i] == now.len[j] &&
			              memcmp (old.b[i], now.b[j], (size_t) old.len[i]) == 0);
	}
	assert_false (file_has_any (f->path, &old));
	blobs_free (&now);
	blobs_free (&old);

	/* the other handle: stale keys give clean errors, never garbage */
	assert_rv (CKR_USER_NOT_LOGGED_IN, lh_store_obj_get (f->st2, priv, &at));
	assert_true (at.a == NULL && at.n == 0);
	assert_false (lh_store_logged_in (f->st2));
	check_obj (f->st2, pub, "public", "public value");
	assert_rv (CKR_OK, lh_store_obj_get (f->st2, sealed, &at));
	assert_true (attr_is (&at, CKA_LABEL, "sealed"));
	for (i = 0; i < (int) at.n; i++) {
		if (at.a[i].type == CKA_VALUE)
			assert_num_eq (LH_SATTR_SEALED | LH_SATTR_UNAVAILABLE,
			               at.a[i].flags);
	}
	lh_attrs_free (&at);
	assert_rv (CKR_OK, lh_store_login (f->st2, CKU_USER, PIN (USER_PIN)));
	check_obj (f->st2, priv, "private", "private value");
	/* a stale writer is refused the same way */
	assert_rv (CKR_OK, lh_store_login (f->st2, CKU_SO, PIN (SO_PIN)));
	assert_rv (CKR_OK, lh_store_rekey (f->st2, PIN (SO_PIN), PIN (USER_PIN)));
	assert_num_eq (CKU_SO, f->st2->keys->who);     /* stays the SO */
	assert_rv (CKR_USER_NOT_LOGGED_IN, lh_store_obj_add (f->st, false, &a, 1, &id));
	assert_false (lh_store_logged_in (f->st));
	/* and a stale verifier */
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_rekey (f->st2, PIN (SO_PIN), PIN (USER_PIN)));
	assert_rv (CKR_USER_NOT_LOGGED_IN, lh_store_verify (f->st, NULL, NULL,
	                                                    NULL, NULL));
	assert_false (lh_store_logged_in (f->st));

	/* both PINs open the new master key on a fresh handle */
	st3 = open_path (f->path);
	assert_rv (CKR_OK, lh_store_login (st3, CKU_SO, PIN (SO_PIN)));
	check_obj (st3, priv, "private", "private value");
	assert_rv (CKR_OK, lh_store_login (st3, CKU_USER, PIN (USER_PIN)));
	check_obj (st3, sealed, "sealed", "sealed value");
	assert_rv (CKR_OK, lh_store_info_get (st3, &info));
	assert_num_eq (0, info.user_failures);
	assert_num_eq (0, info.so_failures);
	lh_store_close (st3);
	assert_num_eq (4, db_int (f->path,
	        "SELECT value FROM meta WHERE name = 'mk_version'"));
	assert_num_eq (ERR_peek_error (), 0);
}

/* Wrong, locked or missing PINs: refused, counted, nothing else changes. */
static void
test_rekey_pins (void *arg)
{
	fx_t *f = arg;
	lh_store_info info;
	blobs before, after;
	lh_oid priv;
	int i;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	priv = add_obj (f->st, true, "private", "private value", false);
	add_obj (f->st, false, "sealed", "sealed value", true);
	blobs_get (f->path, sql_dump, &before);

	assert_rv (CKR_PIN_INCORRECT,
	           lh_store_rekey (f->st, PIN ("wrong"), PIN (USER_PIN)));
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (1, info.so_failures);
	assert_num_eq (0, info.user_failures);
	assert_rv (CKR_PIN_INCORRECT,
	           lh_store_rekey (f->st, PIN (SO_PIN), PIN ("wrong")));
	assert_rv (CKR_OK, lh_store_info_get (f->st, &info));
	assert_num_eq (0, info.so_failures);    /* a right PIN resets its count */
	assert_num_eq (1, info.user_failures);
	/* the PINs are not interchangeable */
	assert_rv (CKR_PIN_INCORRECT,
	           lh_store_rekey (f->st, PIN (USER_PIN), PIN (SO_PIN)));
	blobs_get (f->path, sql_dump, &after);
	assert_true (blobs_equal (&before, &after));
	blobs_free (&after);
	/* the handle's login is untouched */
	assert_true (lh_store_logged_in (f->st));
	check_obj (f->st, priv, "private", "private value");

	/* a locked PIN is refused before any KDF work */
	for (i = 0; i < 3; i++)
		lh_store_login (f->st, CKU_USER, PIN ("bad"));
	assert_rv (CKR_PIN_LOCKED,
	           lh_store_rekey (f->st, PIN (SO_PIN), PIN (USER_PIN)));
	assert_rv (CKR_ARGUMENTS_BAD, lh_store_rekey (f->st, NULL, 3,
	                                              PIN (USER_PIN)));
	assert_rv (CKR_ARGUMENTS_BAD, lh_store_rekey (NULL, PIN (SO_PIN),
	                                              PIN (USER_PIN)));
	blobs_get (f->path, sql_dump, &after);
	assert_true (blobs_equal (&before, &after));
	blobs_free (&after);
	blobs_free (&before);

	/* no user PIN yet */
	close_st (f);
	unlink (f->path);
	assert_rv (CKR_OK, lh_store_open (f->path, &cfg_fast, true, &f->st));
	assert_rv (CKR_OK, lh_store_init_token (f->st, (const uint8_t *)
	           "label                           ", PIN (SO_PIN)));
	assert_rv (CKR_USER_PIN_NOT_INITIALIZED,
	           lh_store_rekey (f->st, PIN (SO_PIN), PIN (USER_PIN)));
	assert_num_eq (1, db_int (f->path,
	        "SELECT value FROM meta WHERE name = 'mk_version'"));
	assert_num_eq (ERR_peek_error (), 0);
}

/*
 * A damaged object midway stops the rekey; the transaction rolls back and
 * the file's whole content (every seal, tag, wrap, index row and count)
 * is exactly as before, and so is the handle's login.
 */
static void
test_rekey_rollback (void *arg)
{
	fx_t *f = arg;
	lh_oid first, bad, last;
	blobs before, after, counts_before, counts_after;
	lh_attrs at;
	reports r;

	make_token (f);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	first = add_obj (f->st, true, "first", "first value", false);
	bad = add_obj (f->st, true, "bad", "bad value", false);
	last = add_obj (f->st, false, "last", "last value", true);
	close_st (f);
	db_flip_attr (f->path, bad, CKA_VALUE, 14);
	blobs_get (f->path, sql_dump, &before);
	blobs_get (f->path, sql_dump_counts, &counts_before);

	f->st = open_path (f->path);
	assert_rv (CKR_OK, lh_store_login (f->st, CKU_USER, PIN (USER_PIN)));
	assert_rv (CKR_DEVICE_ERROR,
	           lh_store_rekey (f->st, PIN (SO_PIN), PIN (USER_PIN)));
	blobs_get (f->path, sql_dump, &after);
	assert_true (blobs_equal (&before, &after));
	blobs_free (&after);
	blobs_get (f->path, sql_dump_counts, &counts_after);
	assert_true (blobs_equal (&counts_before, &counts_after));
	blobs_free (&counts_after);
	/* the old keys are still the keys */
	assert_true (lh_store_logged_in (f->st));
	assert_num_eq (1, f->st->keys->mk_version);
	check_obj (f->st, first, "first", "first value");
	check_obj (f->st, last, "last", "last value");
	assert_rv (CKR_DEVICE_ERROR, lh_store_obj_get (f->st, bad, &at));
	verify (f->st, &r, 3, 1);
	assert_num_eq (bad, r.id[0]);
	assert_str_eq ("bad", r.label[0]);

	/* once the damaged object is gone, the rekey goes through */
	assert_rv (CKR_OK, lh_store_obj_del (f->st, bad));
	assert_rv (CKR_OK, lh_store_rekey (f->st, PIN (SO_PIN), PIN (USER_PIN)));
	check_obj (f->st, first, "first", "first value");
	check_obj (f->st, last, "last", "last value");
	blobs_free (&before);
	blobs_free (&counts_before);
	assert_num_eq (ERR_peek_error (), 0);
}

int
main (void)
{
	lh_test_fixture (setup, teardown);
	lh_test_add ("/store-admin/backup/live", test_backup_live, NULL);
	lh_test_add ("/store-admin/backup/refused", test_backup_refused, NULL);
	lh_test_add ("/store-admin/restore/over-changed", test_restore_over_changed, NULL);
	lh_test_add ("/store-admin/restore/missing-dest", test_restore_missing_dest, NULL);
	lh_test_add ("/store-admin/restore/live-source-owner", test_restore_live_owner, NULL);
	lh_test_add ("/store-admin/restore/garbage", test_restore_garbage, NULL);
	lh_test_add ("/store-admin/verify/clean", test_verify_clean, NULL);
	lh_test_add ("/store-admin/verify/damaged", test_verify_damaged, NULL);
	lh_test_add ("/store-admin/verify/mac", test_verify_mac, NULL);
	lh_test_add ("/store-admin/rekey/basic", test_rekey, NULL);
	lh_test_add ("/store-admin/rekey/pins", test_rekey_pins, NULL);
	lh_test_add ("/store-admin/rekey/rollback", test_rekey_rollback, NULL);
	return lh_test_run ();
}
