/*
 * admin.c - token administration: backup, restore, verify and rekey (what
 * `litehsm token backup|restore|verify|rekey` runs underneath).
 *
 * Implements lh_store_backup, lh_store_restore, lh_store_verify and
 * lh_store_rekey of store.h.
 *
 * Files.  A token file that backup or restore writes is never visible
 * under its name half written:
 *
 *   1. a new file "<dest>.tmp-XXXXXX" is made beside dest (so that the
 *      final rename or link stays inside one file system and is atomic)
 *      with mkostemp: O_EXCL, mode 0600, whatever the umask;
 *   2. SQLite's online backup API fills it from a connection that holds a
 *      read transaction, so the copy is one consistent snapshot however
 *      busily other processes write (in WAL mode they are not blocked);
 *   3. the copy is switched from WAL to rollback-journal mode, so that it
 *      is one self-contained file (a WAL-mode file needs -wal/-shm
 *      companions even to be read, e.g. from read-only media); the next
 *      lh_store_open puts it back in WAL mode;
 *   4. it is fsync'd, given its name, and the directory is fsync'd, so
 *      that after a crash either the whole copy or nothing is there.
 *
 * Restore and the write-ahead log.  A token's newest committed
 * transactions may live only in its -wal file until a checkpoint copies
 * them into the main file.  A WAL is not tied to the main file it belongs
 * to: SQLite would replay an old token's -wal onto a restored main file
 * and silently corrupt it.  So the old -wal, -shm and (in rollback mode)
 * -journal are removed, and that removal made durable, BEFORE the copy is
 * renamed over the token.  Whatever the old -wal held is discarded: that
 * is the point of a restore.  A crash in between leaves the old main file
 * without its log (it is being replaced anyway; run the restore again),
 * never the restored file with a stranger's log.
 *
 * Rekey runs in one BEGIN IMMEDIATE transaction (see lh_store_rekey).
 * Raising meta.mk_version is what makes every other handle's keys stale:
 * lh_keys_current, which every keyed read, write and search calls, then
 * logs that handle out instead of letting it use keys of a dead master key.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "store/store_int.h"

#define TMP_SUFFIX      ".tmp-XXXXXX"
#define COPY_RETRIES    5       /* sqlite3_backup_step on BUSY/LOCKED */
#define REKEY_RETRIES   3       /* token changed between PIN check and write */

/* ---- files ------------------------------------------------------------- */

/* "<path><suffix>", malloc'd, or NULL. */
static char *
path_cat (const char *path, const char *suffix)
{
	size_t len = strlen (path) + strlen (suffix) + 1;
	char *p = malloc (len);

	if (p != NULL)
		snprintf (p, len, "%s%s", path, suffix);
	return p;
}

/*
 * fsync the directory holding path, so that a name created, renamed or
 * removed in it survives a crash.  File systems that cannot sync a
 * directory say EINVAL; they order such changes themselves or not at all,
 * and there is nothing more we could do.
 */
static CK_RV
dir_sync (const char *path)
{
	char *copy, *dir;
	int fd, ok;

	copy = strdup (path);
	if (copy == NULL)
		return CKR_HOST_MEMORY;
	dir = dirname (copy);
	fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free (copy);
	if (fd < 0)
		return CKR_DEVICE_ERROR;
	ok = fsync (fd) == 0 || errno == EINVAL;
	close (fd);
	return ok ? CKR_OK : CKR_DEVICE_ERROR;
}

/* fsync a file SQLite has closed (we never keep an fd while it is open). */
static CK_RV
file_sync (const char *path)
{
	int fd, ok;

	fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return CKR_DEVICE_ERROR;
	ok = fsync (fd) == 0;
	close (fd);
	return ok ? CKR_OK : CKR_DEVICE_ERROR;
}

/* Remove the SQLite companions of path.  Missing ones are fine. */
static CK_RV
side_files_remove (const char *path)
{
	static const char *const suffix[] = { "-wal", "-shm", "-journal" };
	CK_RV rv = CKR_OK;
	size_t i;
	char *p;

	for (i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		p = path_cat (path, suffix[i]);
		if (p == NULL)
			return CKR_HOST_MEMORY;
		if (unlink (p) != 0 && errno != ENOENT)
			rv = CKR_DEVICE_ERROR;
		free (p);
	}
	return rv;
}

/* Remove a temporary copy and whatever SQLite left beside it.  NULL-safe. */
static void
temp_remove (char *tmp)
{
	if (tmp == NULL)
		return;
	(void) unlink (tmp);
	(void) side_files_remove (tmp);
	free (tmp);
}

/*
 * A new empty file "<path>.tmp-XXXXXX", mode 0600, owned like owner when
 * owner is given (a restore keeps the token's owner: root restoring a
 * user's keystore must not leave it unreadable to that user; a change of
 * owner we are not allowed to make fails the restore before anything is
 * touched).  The fd is closed again before SQLite opens the file: closing
 * any descriptor of a file drops every POSIX lock this process holds on
 * it, SQLite's included.  *tmp is malloc'd.
 */
static CK_RV
temp_create (const char *path, const struct stat *owner, char **tmp)
{
	char *t;
	int fd;
	CK_RV rv = CKR_DEVICE_ERROR;

	*tmp = NULL;
	t = path_cat (path, TMP_SUFFIX);
	if (t == NULL)
		return CKR_HOST_MEMORY;
	fd = mkostemp (t, O_CLOEXEC);
	if (fd < 0) {
		free (t);
		return CKR_DEVICE_ERROR;
	}
	if (fchmod (fd, S_IRUSR | S_IWUSR) != 0)
		goto out;
	if (owner != NULL &&
	    (owner->st_uid != geteuid () || owner->st_gid != getegid ()) &&
	    fchown (fd, owner->st_uid, owner->st_gid) != 0)
		goto out;
	rv = CKR_OK;
out:
	close (fd);
	if (rv == CKR_OK)
		*tmp = t;
	else
		temp_remove (t);
	return rv;
}

static const char sql_journal_delete[] = "PRAGMA journal_mode = DELETE";

/* Leave dst in rollback-journal mode (header comment, step 3). */
static CK_RV
copy_unwal (sqlite3 *dst)
{
	sqlite3_stmt *s = NULL;
	const char *mode;
	int rc;
	CK_RV rv;

	rc = sqlite3_prepare_v2 (dst, sql_journal_delete, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return lh_sqlite_rv (rc);
	rc = sqlite3_step (s);
	mode = rc == SQLITE_ROW ? (const char *) sqlite3_column_text (s, 0) : NULL;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = lh_sqlite_rv (rc);
	else
		rv = mode != NULL && strcmp (mode, "delete") == 0 ?
		     CKR_OK : CKR_DEVICE_ERROR;
	sqlite3_finalize (s);
	return rv;
}

/*
 * Copy the main database of src into the empty file tmp with the backup
 * API, then close and fsync the copy.  src must be inside a read
 * transaction: sqlite3_backup_step then copies that snapshot instead of
 * opening its own, so the copy is exactly what the caller has checked or
 * read, and one step of all pages never has to restart.
 */
static CK_RV
db_copy (sqlite3 *src, const char *tmp)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	sqlite3_backup *b;
	sqlite3 *dst = NULL;
	unsigned attempt;
	int rc;
	CK_RV rv;

	rc = sqlite3_open_v2 (tmp, &dst, SQLITE_OPEN_READWRITE |
	                      SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rv = lh_sqlite_rv (rc);
		goto out;
	}
	sqlite3_extended_result_codes (dst, 1);
	b = sqlite3_backup_init (dst, "main", src, "main");
	if (b == NULL) {
		rv = lh_sqlite_rv (sqlite3_errcode (dst));
		goto out;
	}
	for (attempt = 0; attempt < COPY_RETRIES; attempt++) {
		rc = sqlite3_backup_step (b, -1);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		(void) nanosleep (&pause, NULL);
	}
	(void) sqlite3_backup_finish (b);
	if (rc != SQLITE_DONE) {
		rv = lh_sqlite_rv (rc);
		goto out;
	}
	if ((rv = copy_unwal (dst)) != CKR_OK)
		goto out;
	rc = sqlite3_close (dst);
	dst = NULL;
	rv = rc == SQLITE_OK ? file_sync (tmp) : lh_sqlite_rv (rc);
out:
	sqlite3_close (dst);
	return rv;
}

/*
 * Give the finished copy tmp the name dest, which must not exist: an
 * atomic "create if absent" either way.  renameat2(RENAME_NOREPLACE)
 * where the kernel and file system have it, else link() (POSIX; fails
 * with EEXIST) and removal of the temporary name.
 *   CKR_ARGUMENTS_BAD when dest exists.
 */
static CK_RV
name_new (const char *tmp, const char *dest)
{
#ifdef RENAME_NOREPLACE
	if (renameat2 (AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) == 0)
		return CKR_OK;
	if (errno == EEXIST)
		return CKR_ARGUMENTS_BAD;
	if (errno != EINVAL && errno != ENOSYS)
		return CKR_DEVICE_ERROR;
#endif
	if (link (tmp, dest) != 0)
		return errno == EEXIST ? CKR_ARGUMENTS_BAD : CKR_DEVICE_ERROR;
	(void) unlink (tmp);
	return CKR_OK;
}

/* ---- backup and restore ------------------------------------------------ */

static const char sql_token_uid[] = "token_uid";

/*
 * store.h.  Needs no login: the file holds nothing in clear that the
 * copy would expose, and it is made 0600.  The early lstat gives the
 * usual answer cheaply; name_new is the check that no race can beat.
 *   CKR_ARGUMENTS_BAD (dest exists), CKR_DEVICE_ERROR, CKR_HOST_MEMORY
 */
CK_RV
lh_store_backup (lh_store *st, const char *dest_path)
{
	uint8_t uid[LH_UID_LEN];
	struct stat sb;
	lh_conn *c = NULL;
	char *tmp = NULL;
	CK_RV rv = CKR_ARGUMENTS_BAD;

	if (st == NULL || dest_path == NULL || dest_path[0] == '\0')
		return rv;
	if (lstat (dest_path, &sb) == 0)
		return CKR_ARGUMENTS_BAD;
	if (errno != ENOENT)
		return CKR_DEVICE_ERROR;
	if ((rv = temp_create (dest_path, NULL, &tmp)) != CKR_OK ||
	    (rv = lh_conn_get (st, &c)) != CKR_OK ||
	    (rv = lh_txn_begin (c, false)) != CKR_OK)
		goto out;
	/*
	 * The first read fixes the snapshot that db_copy then copies.  The
	 * token_uid check catches a file replaced under the open handle (a
	 * restore of another token), which would not be "this" token.
	 */
	rv = lh_meta_get_blob (c, sql_token_uid, uid, sizeof uid);
	if (rv == CKR_OK && memcmp (uid, st->token_uid, sizeof uid) != 0)
		rv = CKR_DEVICE_ERROR;
	if (rv == CKR_OK)
		rv = db_copy (c->db, tmp);
	rv = lh_txn_end (c, rv);
	lh_conn_put (st, c);
	c = NULL;
	if (rv != CKR_OK || (rv = name_new (tmp, dest_path)) != CKR_OK)
		goto out;
	/* the copy is complete and named; its name must last too */
	if ((rv = dir_sync (dest_path)) != CKR_OK)
		(void) unlink (dest_path);
out:
	lh_conn_put (st, c);
	temp_remove (tmp);
	return rv;
}

/*
 * A read-only connection to a restore's source: SQLite cannot write the
 * main file through it.  (On a WAL-mode source SQLite may still create
 * empty -wal/-shm companions to read it; a backup made by lh_store_backup
 * is in rollback mode and gets none.)
 */
static CK_RV
conn_open_ro (const char *path, lh_conn **out)
{
	lh_conn *c;
	int rc;
	CK_RV rv = CKR_HOST_MEMORY;

	*out = NULL;
	c = calloc (1, sizeof *c);
	if (c == NULL)
		return rv;
	rc = sqlite3_open_v2 (path, &c->db,
	                      SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	rv = rc == SQLITE_OK ? lh_schema_setup_conn (c->db) : lh_sqlite_rv (rc);
	if (rv != CKR_OK) {
		lh_conn_close (c);
		return rv;
	}
	*out = c;
	return CKR_OK;
}

static const char sql_quick_check[] = "PRAGMA quick_check";
static const char sql_mk_version[] = "mk_version";
static const char sql_initialized[] = "initialized";

/*
 * Is src, in its read transaction, a whole token we can use?  Its header
 * (application_id, a user_version we know), SQLite's own structural
 * check, and the meta rows every open and login needs.  quick_check
 * reads the whole file, which is what a restore is about to trust.
 */
static CK_RV
restore_check (lh_conn *c)
{
	uint8_t uid[LH_UID_LEN];
	sqlite3_stmt *s = NULL;
	const char *res;
	int64_t v = 0;
	bool row;
	CK_RV rv;

	if ((rv = lh_schema_check (c)) != CKR_OK ||
	    (rv = lh_sql (c, sql_quick_check, &s)) != CKR_OK ||
	    (rv = lh_sql_step (s, &row)) != CKR_OK)
		goto out;
	res = row ? (const char *) sqlite3_column_text (s, 0) : NULL;
	if (res == NULL || strcmp (res, "ok") != 0) {
		rv = CKR_TOKEN_NOT_RECOGNIZED;
		goto out;
	}
	lh_sql_done (s);
	s = NULL;
	if ((rv = lh_meta_get_blob (c, sql_token_uid, uid, sizeof uid)) != CKR_OK ||
	    (rv = lh_meta_get_int (c, sql_mk_version, &v)) != CKR_OK ||
	    (rv = lh_meta_get_int (c, sql_initialized, &v)) != CKR_OK)
		goto out;
out:
	lh_sql_done (s);
	return rv;
}

/*
 * store.h.  Order (header comment): check and copy src in one read
 * snapshot; close it; remove dest's companions and sync that; rename the
 * copy over dest; sync the directory.  A failure before the companions
 * go leaves dest exactly as it was; one after (a failed rename, in
 * practice never) leaves dest's main file but not an old -wal, which
 * exists at all only if a process died with the token open.  dest may
 * be missing (a lost token is restored
 * to its old path); if it exists it must be a regular file, and its owner
 * carries over to the restored file.  Errors reading src, not being
 * SQLite or failing quick_check included, say CKR_TOKEN_NOT_RECOGNIZED:
 * to the caller it is one thing, a file that cannot be restored from.
 *   CKR_TOKEN_NOT_PRESENT (no src), CKR_TOKEN_NOT_RECOGNIZED,
 *   CKR_ARGUMENTS_BAD (dest not a regular file), CKR_DEVICE_ERROR,
 *   CKR_HOST_MEMORY
 */
CK_RV
lh_store_restore (const char *src_path, const char *dest_path)
{
	struct stat sb, db;
	bool have_dest = false;
	lh_conn *src = NULL;
	char *tmp = NULL;
	CK_RV rv = CKR_ARGUMENTS_BAD;

	if (src_path == NULL || dest_path == NULL || src_path[0] == '\0' ||
	    dest_path[0] == '\0')
		return rv;
	if (stat (src_path, &sb) != 0)
		return errno == ENOENT ? CKR_TOKEN_NOT_PRESENT : CKR_DEVICE_ERROR;
	if (!S_ISREG (sb.st_mode))
		return CKR_TOKEN_NOT_RECOGNIZED;
	if (lstat (dest_path, &db) == 0) {
		if (!S_ISREG (db.st_mode))
			return CKR_ARGUMENTS_BAD;
		have_dest = true;
	} else if (errno != ENOENT) {
		return CKR_DEVICE_ERROR;
	}

	/* checked and copied in one snapshot: src may be a live token */
	if ((rv = conn_open_ro (src_path, &src)) == CKR_OK &&
	    (rv = lh_txn_begin (src, false)) == CKR_OK)
		rv = restore_check (src);
	if (rv != CKR_OK) {
		if (rv != CKR_HOST_MEMORY)
			rv = CKR_TOKEN_NOT_RECOGNIZED;
		goto out;               /* closing src ends its transaction */
	}
	if ((rv = temp_create (dest_path, have_dest ? &db : NULL,
	                       &tmp)) == CKR_OK)
		rv = db_copy (src->db, tmp);
	rv = lh_txn_end (src, rv);
	/* src may be dest itself: let go of it before dest's files move */
	lh_conn_close (src);
	src = NULL;
	if (rv != CKR_OK ||
	    (rv = side_files_remove (dest_path)) != CKR_OK ||
	    (rv = dir_sync (dest_path)) != CKR_OK)
		goto out;
	if (rename (tmp, dest_path) != 0) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	free (tmp);
	tmp = NULL;
	rv = dir_sync (dest_path);
out:
	lh_conn_close (src);
	temp_remove (tmp);
	return rv;
}

/* ---- walking the objects ----------------------------------------------- */

static const char sql_next_obj[] =
	"SELECT id FROM objects WHERE id > ?1 ORDER BY id LIMIT 1";

/*
 * The first object id after *id, as an O(log n) seek in the caller's
 * transaction.  The statement is reset before returning, so the caller
 * may change the table before asking for the next id: no cursor stays
 * open across a write, and no list of ids is ever held in memory.
 */
static CK_RV
next_obj (lh_conn *c, lh_oid *id, bool *found)
{
	sqlite3_stmt *s = NULL;
	bool row = false;
	CK_RV rv;

	*found = false;
	if ((rv = lh_sql (c, sql_next_obj, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) *id);
	rv = lh_sql_step (s, &row);
	if (rv == CKR_OK && row) {
		*id = (lh_oid) sqlite3_column_int64 (s, 0);
		*found = true;
	}
	lh_sql_done (s);
	return rv;
}

/* ---- verify -------------------------------------------------------------- */

static const char sql_label_get[] =
	"SELECT a.flags, a.value, o.private FROM attrs AS a"
	" JOIN objects AS o ON o.id = a.obj WHERE a.obj = ?1 AND a.type = ?2";

/*
 * The label of a damaged object, if it can still be read: a sealed label
 * whose seal opens (GCM authenticates it, whatever else of the object is
 * damaged), or the plain label of a public object as stored (the csum
 * covers the whole object, so this label may be the damaged part).  The
 * plain label of an object marked private is not shown: a private
 * object's label is always sealed, so a plain one is itself damage.
 * *out is a NUL-terminated OPENSSL_malloc'd copy (free it with
 * OPENSSL_clear_free: a private label is private), or NULL.
 */
static void
label_read (lh_store *st, lh_conn *c, const lh_keys *k, lh_oid id,
            char **out, size_t *out_len)
{
	sqlite3_stmt *s = NULL;
	uint8_t *pt = NULL;
	const uint8_t *v;
	size_t len = 0;
	int64_t flags;
	bool row = false, priv;
	char *l;

	*out = NULL;
	*out_len = 0;
	if (lh_sql (c, sql_label_get, &s) != CKR_OK)
		return;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) id);
	sqlite3_bind_int64 (s, 2, (sqlite3_int64) CKA_LABEL);
	if (lh_sql_step (s, &row) != CKR_OK || !row ||
	    sqlite3_column_type (s, 1) != SQLITE_BLOB)
		goto out;
	flags = sqlite3_column_int64 (s, 0);
	priv = sqlite3_column_int64 (s, 2) != 0;
	v = sqlite3_column_blob (s, 1);
	len = (size_t) sqlite3_column_bytes (s, 1);
	if (flags == LH_SATTR_SEALED) {
		if (k == NULL ||
		    lh_unseal (st, k, id, CKA_LABEL, v, len, &pt, &len) != CKR_OK)
			goto out;
		v = pt;
	} else if (flags != 0 || priv) {
		goto out;
	}
	l = OPENSSL_malloc (len + 1);
	if (l == NULL)
		goto out;
	if (len > 0)
		memcpy (l, v, len);
	l[len] = '\0';
	*out = l;
	*out_len = len + 1;
out:
	if (pt != NULL)
		OPENSSL_clear_free (pt, len ? len : 1);
	lh_sql_done (s);
}

/*
 * Check the object after *id (in the caller's read transaction) and
 * move *id to it.  *why is its verdict: CKR_OK or CKR_DEVICE_ERROR; then
 * the label when damaged.  Any other failure stops the walk.
 */
static CK_RV
verify_next (lh_store *st, lh_conn *c, const lh_keys *k, lh_oid *id,
             bool *found, CK_RV *why, char **label, size_t *label_len)
{
	lh_attrs at;
	CK_RV rv;

	*why = CKR_OK;
	if (k != NULL && (rv = lh_keys_current (c, k)) != CKR_OK)
		return rv;
	if ((rv = next_obj (c, id, found)) != CKR_OK || !*found)
		return rv;
	/* every seal is opened (and each tag checked), then wiped unseen */
	rv = lh_obj_load (st, c, k, *id, &at);
	lh_attrs_free (&at);
	if (rv == CKR_DEVICE_ERROR) {
		*why = rv;
		label_read (st, c, k, *id, label, label_len);
		return CKR_OK;
	}
	return rv;
}

/*
 * store.h.  One short read transaction per object on one connection, so
 * a long walk neither holds a snapshot (which would stop checkpoints)
 * nor reads the token into memory; an object added meanwhile is checked
 * if its id comes later.  The callback runs outside any transaction and
 * may call the store.  label is NUL-terminated, valid only during the
 * call, and the stored bytes as they are: a caller that prints it
 * escapes it.  Keys found stale (rekeyed or re-initialised elsewhere)
 * log the handle out and end the walk with CKR_USER_NOT_LOGGED_IN rather
 * than report every object as damaged.  cb, checked and damaged may be
 * NULL.
 *   CKR_USER_NOT_LOGGED_IN, CKR_DEVICE_ERROR (the walk itself failed),
 *   CKR_HOST_MEMORY
 */
CK_RV
lh_store_verify (lh_store *st, lh_store_verify_cb cb, void *ctx,
                 size_t *checked, size_t *damaged)
{
	size_t nchecked = 0, ndamaged = 0, label_len = 0;
	lh_keys *k = NULL;
	lh_conn *c = NULL;
	char *label = NULL;
	lh_oid id = 0;
	bool found = true;
	CK_RV rv, why = CKR_OK;

	if (checked != NULL)
		*checked = 0;
	if (damaged != NULL)
		*damaged = 0;
	if (st == NULL)
		return CKR_ARGUMENTS_BAD;
	k = lh_keys_get (st);
	if ((rv = lh_conn_get (st, &c)) != CKR_OK)
		goto out;
	while (found) {
		if ((rv = lh_txn_begin (c, false)) != CKR_OK)
			break;
		rv = lh_txn_end (c, verify_next (st, c, k, &id, &found, &why,
		                                 &label, &label_len));
		if (rv != CKR_OK || !found)
			break;
		nchecked++;
		if (why != CKR_OK) {
			ndamaged++;
			if (cb != NULL)
				cb (ctx, id, label, why);
		}
		if (label != NULL)
			OPENSSL_clear_free (label, label_len);
		label = NULL;
	}
	if (rv == CKR_USER_NOT_LOGGED_IN)
		lh_keys_drop (st, k);
out:
	if (label != NULL)
		OPENSSL_clear_free (label, label_len);
	lh_conn_put (st, c);
	lh_keys_put (st, k);
	if (checked != NULL)
		*checked = nchecked;
	if (damaged != NULL)
		*damaged = ndamaged;
	return rv;
}

/* ---- rekey --------------------------------------------------------------- */

static const char sql_mk_version_set[] =
	"UPDATE meta SET value = ?1 WHERE name = 'mk_version'";
/* fail_count is left alone: see rewrap() */
static const char sql_auth_rewrap[] =
	"UPDATE auth SET kdf = ?2, wrapped_mk = ?3 WHERE user = ?1";
static const char sql_checkpoint[] = "PRAGMA wal_checkpoint(TRUNCATE)";

/* What one rekey attempt makes before it takes the write lock. */
typedef struct {
	int64_t version;                /* mk_version the PINs opened */
	lh_keys *old_k;                 /* keys of that master key */
	lh_keys *new_k;                 /* keys of the new one, version + 1 */
	uint8_t so_kdf[LH_KDF_BLOB_LEN];
	uint8_t so_wrap[LH_WRAP_LEN];
	uint8_t user_kdf[LH_KDF_BLOB_LEN];
	uint8_t user_wrap[LH_WRAP_LEN];
} rekey_ctx;

/*
 * Re-seal one object under the new keys: load it with every check of a
 * read under the old keys, then write it back with the old id (bound in
 * every seal and tag) as lh_store_obj_update would.  What was sealed
 * stays sealed: LH_SATTR_SEALED on the way out becomes LH_SATTR_SEAL on
 * the way in (a private object seals everything anyway).  The plaintext
 * exists only in the lh_attrs, which is cleansed.
 */
static CK_RV
rekey_obj (lh_store *st, lh_conn *c, const rekey_ctx *x, lh_oid id)
{
	lh_sattr *a = NULL;
	lh_attrs at;
	size_t i;
	CK_RV rv;

	/* a damaged object stops the rekey: it cannot be carried over */
	if ((rv = lh_obj_load (st, c, x->old_k, id, &at)) != CKR_OK)
		return rv == CKR_OBJECT_HANDLE_INVALID ? CKR_DEVICE_ERROR : rv;
	rv = CKR_HOST_MEMORY;
	a = calloc (at.n ? at.n : 1, sizeof *a);
	if (a == NULL)
		goto out;
	for (i = 0; i < at.n; i++) {
		a[i] = at.a[i];
		a[i].flags = (at.a[i].flags & LH_SATTR_SEALED) ? LH_SATTR_SEAL : 0;
	}
	rv = lh_obj_rewrite (st, c, x->new_k, id, at.private_obj, a, at.n);
out:
	free (a);                       /* pointers only; the values are in at */
	lh_attrs_free (&at);
	return rv;
}

static CK_RV
mk_version_set (lh_conn *c, int64_t v)
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql_mk_version_set, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, v);
	rv = lh_sql_step (s, &row);
	if (rv == CKR_OK && sqlite3_changes (c->db) != 1)
		rv = CKR_DEVICE_ERROR;
	lh_sql_done (s);
	return rv;
}

/*
 * Store the new wrap of who.  Unlike C_SetPIN's INSERT OR REPLACE this
 * keeps the failure count: both counts were reset when the PINs were
 * checked, and an increment made since by a guess in another process
 * (committed before its KDF runs, auth.c) must not be wiped by us.
 */
static CK_RV
rewrap (lh_conn *c, CK_USER_TYPE who, const uint8_t kdf[LH_KDF_BLOB_LEN],
        const uint8_t wrapped[LH_WRAP_LEN])
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql_auth_rewrap, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) who);
	sqlite3_bind_blob (s, 2, kdf, LH_KDF_BLOB_LEN, SQLITE_STATIC);
	sqlite3_bind_blob (s, 3, wrapped, LH_WRAP_LEN, SQLITE_STATIC);
	rv = lh_sql_step (s, &row);
	if (rv == CKR_OK && sqlite3_changes (c->db) != 1)
		rv = CKR_DEVICE_ERROR;
	lh_sql_done (s);
	return rv;
}

/*
 * The write half, in the caller's BEGIN IMMEDIATE transaction.  The
 * master key the PINs opened must still be the token's (another process
 * may have rekeyed or re-initialised it meanwhile: CKR_FUNCTION_CANCELED
 * asks for a fresh attempt).  Objects are visited in id order, one at a
 * time; objects written by others before our lock are included.
 */
static CK_RV
rekey_write (lh_store *st, lh_conn *c, const rekey_ctx *x)
{
	lh_oid id = 0;
	bool found = true;
	CK_RV rv;

	rv = lh_keys_current (c, x->old_k);
	if (rv == CKR_USER_NOT_LOGGED_IN)
		return CKR_FUNCTION_CANCELED;
	while (rv == CKR_OK &&
	       (rv = next_obj (c, &id, &found)) == CKR_OK && found)
		rv = rekey_obj (st, c, x, id);
	if (rv == CKR_OK &&
	    (rv = rewrap (c, CKU_SO, x->so_kdf, x->so_wrap)) == CKR_OK &&
	    (rv = rewrap (c, CKU_USER, x->user_kdf, x->user_wrap)) == CKR_OK)
		rv = mk_version_set (c, x->version + 1);
	return rv;
}

/*
 * After the commit, copy the new pages into the main file and empty the
 * WAL, so the old ciphertexts (which secure_delete has already zeroed in
 * the new page versions) do not linger in the file or its log.  Best
 * effort: it waits at most the busy timeout for readers of older
 * snapshots; one still reading then keeps those frames until a later
 * checkpoint.  The rekey has committed whatever happens here.
 */
static void
rekey_checkpoint (lh_conn *c)
{
	sqlite3_stmt *s = NULL;
	bool row = true;

	if (lh_sql (c, sql_checkpoint, &s) != CKR_OK)
		return;
	while (row && lh_sql_step (s, &row) == CKR_OK)
		;
	lh_sql_done (s);
}

/*
 * One attempt: both PINs (counted), the new master key with its subkeys
 * and both wraps (two Argon2id runs) made before the write lock is taken,
 * then the transaction.  The handle gets the new keys on success only.
 */
static CK_RV
rekey_once (lh_store *st, const uint8_t *so_pin, size_t so_len,
            const uint8_t *user_pin, size_t user_len)
{
	uint8_t mk[LH_KEY_LEN], mk_user[LH_KEY_LEN], mk_new[LH_KEY_LEN];
	int64_t v_user = -1;
	CK_USER_TYPE who = CKU_USER;
	rekey_ctx x;
	lh_keys *cur;
	lh_conn *c = NULL;
	CK_RV rv;

	memset (&x, 0, sizeof x);
	x.version = -1;
	/* each PIN is checked and counted exactly as in C_Login */
	if ((rv = lh_pin_verify (st, CKU_SO, so_pin, so_len, mk,
	                         &x.version)) != CKR_OK ||
	    (rv = lh_pin_verify (st, CKU_USER, user_pin, user_len, mk_user,
	                         &v_user)) != CKR_OK)
		goto out;
	/* rekeyed or re-initialised elsewhere between the two checks */
	if (v_user != x.version) {
		rv = CKR_FUNCTION_CANCELED;
		goto out;
	}
	/* one mk_version, one master key: two that differ mean damage */
	rv = CKR_DEVICE_ERROR;
	if (CRYPTO_memcmp (mk, mk_user, LH_KEY_LEN) != 0 ||
	    x.version < 0 || x.version >= (int64_t) UINT32_MAX)
		goto out;
	/* the handle stays logged in as it was; a logged-out one as the user */
	cur = lh_keys_get (st);
	if (cur != NULL && cur->who == CKU_SO)
		who = CKU_SO;
	lh_keys_put (st, cur);
	if ((rv = lh_random (st->libctx, mk_new, sizeof mk_new, true)) != CKR_OK ||
	    (rv = lh_keys_make (st, CKU_SO, (uint32_t) x.version, mk,
	                        &x.old_k)) != CKR_OK ||
	    (rv = lh_keys_make (st, who, (uint32_t) x.version + 1, mk_new,
	                        &x.new_k)) != CKR_OK ||
	    (rv = lh_wrap_new (st, so_pin, so_len, CKU_SO, x.version + 1,
	                       mk_new, x.so_kdf, x.so_wrap)) != CKR_OK ||
	    (rv = lh_wrap_new (st, user_pin, user_len, CKU_USER, x.version + 1,
	                       mk_new, x.user_kdf, x.user_wrap)) != CKR_OK ||
	    (rv = lh_conn_get (st, &c)) != CKR_OK ||
	    (rv = lh_txn_begin (c, true)) != CKR_OK)
		goto out;
	rv = lh_txn_end (c, rekey_write (st, c, &x));
	if (rv != CKR_OK)
		goto out;
	lh_keys_install (st, x.new_k);
	x.new_k = NULL;
	rekey_checkpoint (c);
out:
	lh_conn_put (st, c);
	lh_keys_put (st, x.old_k);
	lh_keys_put (st, x.new_k);
	OPENSSL_cleanse (mk, sizeof mk);
	OPENSSL_cleanse (mk_user, sizeof mk_user);
	OPENSSL_cleanse (mk_new, sizeof mk_new);
	OPENSSL_cleanse (&x, sizeof x);
	return rv;
}

/*
 * store.h.  Order: SO PIN, then user PIN (a wrong SO PIN leaves the
 * user's count alone); the KDF work is done before BEGIN IMMEDIATE, so
 * the write lock is held only for the re-sealing itself, during which
 * other processes' writers wait (busy timeout) and their readers go on
 * reading the old snapshot.  Any failure in the transaction rolls it
 * back: the file, both wraps and mk_version are as before, and so is the
 * handle's login.  A token changed by another process between the PIN
 * checks and the lock is tried again from the start a few times.
 *   CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_USER_PIN_NOT_INITIALIZED,
 *   CKR_DEVICE_ERROR (a damaged object, or the token keeps changing),
 *   CKR_ARGUMENTS_BAD, CKR_HOST_MEMORY
 */
CK_RV
lh_store_rekey (lh_store *st, const uint8_t *so_pin, size_t so_len,
                const uint8_t *user_pin, size_t user_len)
{
	unsigned attempt;
	CK_RV rv = CKR_ARGUMENTS_BAD;

	if (st == NULL || (so_pin == NULL && so_len > 0) ||
	    (user_pin == NULL && user_len > 0))
		return rv;
	for (attempt = 0; attempt < REKEY_RETRIES; attempt++) {
		rv = rekey_once (st, so_pin, so_len, user_pin, user_len);
		if (rv != CKR_FUNCTION_CANCELED)
			break;
	}
	return rv == CKR_FUNCTION_CANCELED ? CKR_DEVICE_ERROR : rv;
}
