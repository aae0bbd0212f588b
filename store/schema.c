/*
 * schema.c - the token file's on-disk format: connection settings, DDL,
 * version checks and forward migrations.
 *
 * A token is one SQLite database in WAL mode.  SQLite's own header carries
 * our identity (btreeInt.h documents both fields):
 *
 *   offset 60  user_version     LH_SCHEMA_VERSION of the newest migration
 *                               that ran (0 = empty file, not yet a token)
 *   offset 68  application_id   0x4C48534D, "LHSM"
 *
 * A file with another application_id, a non-empty database with neither
 * field set, or a user_version newer than this code are all refused with
 * CKR_TOKEN_NOT_RECOGNIZED: we never guess at, and never silently
 * downgrade, a format we do not know.
 *
 * Tables (schema version 1):
 *
 *   meta(name TEXT PRIMARY KEY, value)           one row per setting:
 *       token_uid    BLOB(16)  random at creation; never changes; bound into
 *                              every seal, MK wrap and object MAC
 *       serial       BLOB(16)  ASCII hex of token_uid[0..7]
 *       label        BLOB(32)  CK_TOKEN_INFO label, blank padded
 *       mk_version   INTEGER   bumped by every C_InitToken; bound into every
 *                              seal and MK wrap, so keys of an older MK can
 *                              be told apart from the current ones
 *       initialized  INTEGER   0 until the first C_InitToken
 *
 *   auth(user INTEGER PRIMARY KEY, kdf, wrapped_mk, fail_count)
 *       user       CKU_SO (0) or CKU_USER (1); no row = PIN not set
 *       kdf        BLOB(29): alg(1) = 1 (Argon2id v1.3) || t_cost(4) ||
 *                  m_kib(4) || lanes(4) || salt(16), integers big-endian
 *       wrapped_mk BLOB(61): the master key sealed by auth.c (see there)
 *       fail_count consecutive wrong PINs, persistent across processes
 *
 *   objects(id INTEGER PRIMARY KEY AUTOINCREMENT, private, csum, mac)
 *       id         the lh_oid; AUTOINCREMENT so an id is never reused, even
 *                  after the last object is deleted
 *       private    0 or 1 (CKA_PRIVATE as stored)
 *       csum       BLOB(16): SHA-256 of the canonical encoding (objects.c)
 *       mac        BLOB(32): HMAC-SHA256 of the same, under the MAC key
 *
 *   attrs(obj, type, flags, value) PRIMARY KEY (obj, type), WITHOUT ROWID
 *       obj        objects.id, ON DELETE CASCADE
 *       type       CK_ATTRIBUTE_TYPE
 *       flags      LH_SATTR_SEALED (0x2) or 0
 *       value      the plain value, or the sealed blob (seal.c)
 *
 *   idx(type, key, obj) PRIMARY KEY (type, key, obj), WITHOUT ROWID
 *       one row per indexed attribute (lh_store_indexed) of every object;
 *       key = SHA-256(type(8) || value) for public objects and
 *       HMAC-SHA256(index key, type(8) || value) for private ones, so a
 *       search is a B-tree look-up on (type, key) and private labels and
 *       ids are never stored in clear.  idx_obj serves the cascade.
 *       The rows are search hints only: callers check candidates against
 *       the MAC-protected attributes they load.
 *
 * Migrations: migrations[v] takes a file from user_version v to v + 1;
 * migrations[0] creates the schema, so a new token and an upgraded one go
 * through the same code.  All pending steps run in one BEGIN IMMEDIATE
 * transaction; before upgrading an existing token (v > 0) a copy of the
 * file is written next to it as "<path>.v<v>.bak" (mode 0600).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

/*
 * Per-connection settings, on every connection (none of them is stored in
 * the file).  secure_delete overwrites deleted content so a deleted
 * object's ciphertext or public value does not linger in free pages;
 * cell_size_check makes SQLite reject malformed b-tree cells early instead
 * of trusting a damaged file.  Unknown pragmas are ignored by SQLite, so
 * trusted_schema is harmless on versions before 3.31.
 */
static const char sql_conn_pragmas[] =
	"PRAGMA foreign_keys = ON;"
	"PRAGMA secure_delete = ON;"
	"PRAGMA synchronous = FULL;"
	"PRAGMA cell_size_check = ON;"
	"PRAGMA trusted_schema = OFF;";

/*
 * Settings for a freshly opened connection: extended result codes,
 * busy timeout, defensive mode (no writes to the schema or raw pages
 * through SQL even if someone managed to run SQL on our connection).
 */
CK_RV
lh_schema_setup_conn (sqlite3 *db)
{
	int rc;

	sqlite3_extended_result_codes (db, 1);
	rc = sqlite3_busy_timeout (db, LH_BUSY_TIMEOUT_MS);
#ifdef SQLITE_DBCONFIG_DEFENSIVE
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config (db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
#endif
	if (rc == SQLITE_OK)
		rc = sqlite3_exec (db, sql_conn_pragmas, NULL, NULL, NULL);
	return lh_sqlite_rv (rc);
}

/* Version 1: the whole schema (see the header comment). */
static const char sql_schema_v1[] =
	"CREATE TABLE meta ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  value BLOB"
	") WITHOUT ROWID;"
	"CREATE TABLE auth ("
	"  user INTEGER PRIMARY KEY,"
	"  kdf BLOB NOT NULL,"
	"  wrapped_mk BLOB NOT NULL,"
	"  fail_count INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE objects ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  private INTEGER NOT NULL,"
	"  csum BLOB NOT NULL,"
	"  mac BLOB NOT NULL"
	");"
	"CREATE TABLE attrs ("
	"  obj INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,"
	"  type INTEGER NOT NULL,"
	"  flags INTEGER NOT NULL,"
	"  value BLOB NOT NULL,"
	"  PRIMARY KEY (obj, type)"
	") WITHOUT ROWID;"
	"CREATE TABLE idx ("
	"  type INTEGER NOT NULL,"
	"  key BLOB NOT NULL,"
	"  obj INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (type, key, obj)"
	") WITHOUT ROWID;"
	"CREATE INDEX idx_obj ON idx(obj);"
	"PRAGMA application_id = 1279808333;"   /* LH_APP_ID */
	"PRAGMA user_version = 1;";

static const char sql_meta_insert[] =
	"INSERT INTO meta (name, value) VALUES (?1, ?2)";

static CK_RV
meta_insert (lh_conn *c, const char *name, const void *blob, size_t len,
             int64_t num)
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql_meta_insert, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
	if (blob != NULL)
		sqlite3_bind_blob (s, 2, blob, (int) len, SQLITE_STATIC);
	else
		sqlite3_bind_int64 (s, 2, num);
	rv = lh_sql_step (s, &row);
	lh_sql_done (s);
	return rv;
}

/* 0 -> 1: create the tables and the meta rows of an uninitialized token. */
static CK_RV
migrate_create (lh_conn *c)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t uid[LH_UID_LEN], label[32];
	char serial[16];
	size_t i;
	int rc;
	CK_RV rv;

	rc = sqlite3_exec (c->db, sql_schema_v1, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return lh_sqlite_rv (rc);
	/* the token uid is public: the default context is good enough here */
	if ((rv = lh_random (NULL, uid, sizeof uid, false)) != CKR_OK)
		return rv;
	for (i = 0; i < sizeof serial / 2; i++) {
		serial[2 * i] = hex[uid[i] >> 4];
		serial[2 * i + 1] = hex[uid[i] & 0xf];
	}
	memset (label, ' ', sizeof label);
	if ((rv = meta_insert (c, "token_uid", uid, sizeof uid, 0)) != CKR_OK ||
	    (rv = meta_insert (c, "serial", serial, sizeof serial, 0)) != CKR_OK ||
	    (rv = meta_insert (c, "label", label, sizeof label, 0)) != CKR_OK ||
	    (rv = meta_insert (c, "mk_version", NULL, 0, 0)) != CKR_OK ||
	    (rv = meta_insert (c, "initialized", NULL, 0, 0)) != CKR_OK)
		return rv;
	return CKR_OK;
}

/*
 * migrations[v] upgrades user_version v to v + 1 and must end by setting
 * user_version = v + 1 (a literal in its static SQL).  Append only.
 */
static CK_RV (*const migrations[LH_SCHEMA_VERSION]) (lh_conn *c) = {
	migrate_create,                 /* 0 -> 1 */
};

static const char sql_app_id[] = "PRAGMA application_id";
static const char sql_user_version[] = "PRAGMA user_version";
static const char sql_table_count[] = "SELECT count(*) FROM sqlite_master";
static const char sql_wal[] = "PRAGMA journal_mode = WAL";

static CK_RV
pragma_int (lh_conn *c, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql, &s)) == CKR_OK &&
	    (rv = lh_sql_step (s, &row)) == CKR_OK)
		*out = row ? sqlite3_column_int64 (s, 0) : 0;
	lh_sql_done (s);
	return rv;
}

/*
 * Read the header fields and decide what to do with the file.  *from is
 * the version to migrate from, or LH_SCHEMA_VERSION when nothing is to do.
 */
static CK_RV
classify (lh_conn *c, bool create, int64_t *from)
{
	int64_t app = 0, ver = 0, tables = 0;
	CK_RV rv;

	if ((rv = pragma_int (c, sql_app_id, &app)) != CKR_OK ||
	    (rv = pragma_int (c, sql_user_version, &ver)) != CKR_OK ||
	    (rv = pragma_int (c, sql_table_count, &tables)) != CKR_OK)
		return rv;
	if (app == 0 && ver == 0) {
		/* empty: ours to create, but only when asked to; tables: not ours */
		if (tables != 0 || !create)
			return CKR_TOKEN_NOT_RECOGNIZED;
	} else if (app != LH_APP_ID || ver < 1 || ver > LH_SCHEMA_VERSION) {
		return CKR_TOKEN_NOT_RECOGNIZED;
	}
	*from = ver;
	return CKR_OK;
}

/*
 * Check that the file is a token we understand and bring it to
 * LH_SCHEMA_VERSION.  The decision is made twice: once without a lock
 * (cheap, and needed before the backup, which cannot run inside our
 * transaction), and again under BEGIN IMMEDIATE, because another process
 * may be creating or upgrading the same file at this moment.
 *   CKR_TOKEN_NOT_RECOGNIZED, CKR_DEVICE_ERROR, ...
 */
CK_RV
lh_schema_open (lh_conn *c, const char *path, bool create)
{
	sqlite3_stmt *s = NULL;
	int64_t from = 0;
	bool row;
	CK_RV rv;

	if ((rv = classify (c, create, &from)) != CKR_OK)
		return rv;
	if (from > 0 && from < LH_SCHEMA_VERSION &&
	    (rv = lh_schema_backup (c, path, from)) != CKR_OK)
		return rv;
	/*
	 * WAL must be set outside a transaction.  A file system without
	 * shared memory support keeps the old journal mode; that is slower
	 * but still correct and durable, so it is not treated as an error.
	 */
	if ((rv = lh_sql (c, sql_wal, &s)) == CKR_OK)
		rv = lh_sql_step (s, &row);
	lh_sql_done (s);
	if (rv != CKR_OK || from == LH_SCHEMA_VERSION)
		return rv;

	if ((rv = lh_txn_begin (c, true)) != CKR_OK)
		return rv;
	rv = classify (c, create, &from);
	while (rv == CKR_OK && from < LH_SCHEMA_VERSION)
		rv = migrations[from++] (c);
	return lh_txn_end (c, rv);
}

/*
 * Is the file behind c a token we understand, as it is?  For the source
 * of a restore (admin.c), opened read-only: nothing is created or
 * migrated here; an older version is accepted, since the next
 * lh_store_open upgrades it (keeping a copy).  Call in a read transaction.
 *   CKR_TOKEN_NOT_RECOGNIZED, CKR_DEVICE_ERROR, ...
 */
CK_RV
lh_schema_check (lh_conn *c)
{
	int64_t from = 0;

	return classify (c, false, &from);
}

/*
 * Copy the token file to "<path>.v<version>.bak" with the SQLite backup
 * API (consistent snapshot, works on a WAL database in use).  The copy is
 * created 0600 by us before SQLite opens it, like the token itself; an
 * older copy of the same version is replaced.
 */
CK_RV
lh_schema_backup (lh_conn *c, const char *path, int64_t version)
{
	sqlite3_backup *b;
	sqlite3 *dst = NULL;
	char *bak = NULL;
	size_t len;
	int fd, rc;
	CK_RV rv = CKR_HOST_MEMORY;

	len = strlen (path) + 32;
	bak = malloc (len);
	if (bak == NULL)
		goto out;
	snprintf (bak, len, "%s.v%lld.bak", path, (long long) version);
	rv = CKR_DEVICE_ERROR;
	fd = open (bak, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	           S_IRUSR | S_IWUSR);
	if (fd < 0)
		goto out;
	if (fchmod (fd, S_IRUSR | S_IWUSR) != 0) {
		close (fd);
		goto out;
	}
	close (fd);
	rc = sqlite3_open_v2 (bak, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		rv = lh_sqlite_rv (rc);
		goto out;
	}
	b = sqlite3_backup_init (dst, "main", c->db, "main");
	if (b == NULL) {
		rv = lh_sqlite_rv (sqlite3_errcode (dst));
		goto out;
	}
	rc = sqlite3_backup_step (b, -1);
	sqlite3_backup_finish (b);
	rv = rc == SQLITE_DONE ? CKR_OK : lh_sqlite_rv (rc);
out:
	sqlite3_close (dst);
	free (bak);
	return rv;
}
