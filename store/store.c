/*
 * store.c - opening and closing a token file, the connection pool,
 * transactions, cross-process change detection and the one place where
 * SQLite result codes become CK_RVs.
 *
 * Implements lh_store_open, lh_store_close, lh_store_info_get and
 * lh_store_changed of store.h, and the internal helpers every other file
 * of store/ uses to talk to SQLite (store_int.h).
 *
 * Invariants:
 *   - st->mutex is held only to move a connection or key pointer in or
 *     out of the lh_store, never across SQLite I/O or cryptography, so
 *     threads reading the same token proceed in parallel on their own
 *     connections.
 *   - A connection leaves lh_conn_put() outside any transaction: a caller
 *     that forgot to finish one is rolled back here rather than leaking a
 *     held lock into the next user of the connection.
 *   - Every prepared statement is reset and its bindings cleared after use
 *     (lh_sql_done), so no statement pins a read snapshot or points at a
 *     caller's buffer once the function that bound it returns.
 *   - Writes use BEGIN IMMEDIATE, so a write transaction either gets the
 *     database write lock up front or fails cleanly after bounded retries;
 *     it never deadlocks by upgrading a read lock half-way.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "store/store_int.h"

/*
 * SQLite primary result codes to CK_RV, in one table.  Anything not listed
 * is a device error: the file or the library misbehaved and the caller can
 * do nothing about it but report it.
 *   - NOMEM is the host running out of memory inside SQLite;
 *   - FULL and TOOBIG mean the token (the disk, or SQLite's limits) has no
 *     room, which PKCS#11 calls device memory;
 *   - NOTADB is a file that is not an SQLite database at all;
 *   - READONLY is a token file we may not write.
 * BUSY/LOCKED arrive here only after busy_timeout and our own retries are
 * exhausted, so they too are a device error (another process holds the
 * token far longer than any of our transactions should take).
 */
static const struct {
	int code;
	CK_RV rv;
} sqlite_rv_map[] = {
	{ SQLITE_OK,       CKR_OK },
	{ SQLITE_ROW,      CKR_OK },
	{ SQLITE_DONE,     CKR_OK },
	{ SQLITE_NOMEM,    CKR_HOST_MEMORY },
	{ SQLITE_FULL,     CKR_DEVICE_MEMORY },
	{ SQLITE_TOOBIG,   CKR_DEVICE_MEMORY },
	{ SQLITE_NOTADB,   CKR_TOKEN_NOT_RECOGNIZED },
	{ SQLITE_READONLY, CKR_TOKEN_WRITE_PROTECTED },
	{ SQLITE_CORRUPT,  CKR_DEVICE_ERROR },
	{ SQLITE_IOERR,    CKR_DEVICE_ERROR },
	{ SQLITE_CANTOPEN, CKR_DEVICE_ERROR },
	{ SQLITE_BUSY,     CKR_DEVICE_ERROR },
	{ SQLITE_LOCKED,   CKR_DEVICE_ERROR },
};

/*
 * Map an SQLite result code (primary or extended) to a CK_RV.  The one
 * conversion point for SQLite errors in the store.
 */
CK_RV
lh_sqlite_rv (int rc)
{
	size_t i;

	for (i = 0; i < sizeof sqlite_rv_map / sizeof sqlite_rv_map[0]; i++) {
		if (sqlite_rv_map[i].code == (rc & 0xff))
			return sqlite_rv_map[i].rv;
	}
	return CKR_DEVICE_ERROR;
}

/*
 * The store mutex.  The callbacks can fail only on misuse (a bad mutex
 * pointer), which we never do, so the wrappers do not report errors.
 */
void
lh_lock (lh_store *st)
{
	if (st->mops != NULL)
		(void) st->mops->lock (st->mutex);
}

void
lh_unlock (lh_store *st)
{
	if (st->mops != NULL)
		(void) st->mops->unlock (st->mutex);
}

/*
 * Open one connection to an existing token file and apply the
 * per-connection settings (schema.c).  SQLITE_OPEN_NOMUTEX: a connection is
 * used by one thread at a time, handed over through the pool mutex.
 * The file must already exist: the pool never creates a token.
 */
CK_RV
lh_conn_open (const char *path, lh_conn **out)
{
	lh_conn *c;
	int rc;
	CK_RV rv = CKR_HOST_MEMORY;

	*out = NULL;
	c = calloc (1, sizeof *c);
	if (c == NULL)
		goto out;
	rc = sqlite3_open_v2 (path, &c->db,
	                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rv = lh_sqlite_rv (rc);
		goto out;
	}
	if ((rv = lh_schema_setup_conn (c->db)) != CKR_OK)
		goto out;
	*out = c;
	c = NULL;
	rv = CKR_OK;
out:
	lh_conn_close (c);
	return rv;
}

/* Finalize the cached statements and close.  NULL-safe. */
void
lh_conn_close (lh_conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ncache; i++)
		sqlite3_finalize (c->cache[i].stmt);
	/* sqlite3_close(NULL) is a no-op; a failed open still needs a close */
	sqlite3_close (c->db);
	free (c);
}

/*
 * Take a connection: an idle one from the pool, or a fresh one.  The mutex
 * covers only the list manipulation; opening happens outside it.
 */
CK_RV
lh_conn_get (lh_store *st, lh_conn **out)
{
	lh_conn *c;

	lh_lock (st);
	c = st->idle;
	if (c != NULL) {
		st->idle = c->next;
		st->nidle--;
		c->next = NULL;
	}
	lh_unlock (st);
	if (c != NULL) {
		*out = c;
		return CKR_OK;
	}
	return lh_conn_open (st->path, out);
}

/*
 * Return a connection to the pool (or close it when the pool is full).
 * Rolls back a transaction the caller left open.  NULL-safe.
 */
void
lh_conn_put (lh_store *st, lh_conn *c)
{
	if (c == NULL)
		return;
	if (!sqlite3_get_autocommit (c->db))
		(void) lh_txn_end (c, CKR_GENERAL_ERROR);
	lh_lock (st);
	if (st->nidle < LH_POOL_IDLE_MAX) {
		c->next = st->idle;
		st->idle = c;
		st->nidle++;
		c = NULL;
	}
	lh_unlock (st);
	lh_conn_close (c);
}

/*
 * A prepared statement for one of our static SQL strings, from the
 * connection's cache.  The cache is keyed by the string's address: every
 * SQL text in store/ is a static const array, never built at run time.
 * The returned statement is reset; finish with lh_sql_done().
 */
CK_RV
lh_sql (lh_conn *c, const char *sql, sqlite3_stmt **out)
{
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc;

	*out = NULL;
	for (i = 0; i < c->ncache; i++) {
		if (c->cache[i].sql == sql) {
			*out = c->cache[i].stmt;
			return CKR_OK;
		}
	}
	if (c->ncache == LH_STMT_CACHE_MAX)
		return CKR_GENERAL_ERROR;       /* raise LH_STMT_CACHE_MAX */
	rc = sqlite3_prepare_v3 (c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	                         &s, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize (s);
		return lh_sqlite_rv (rc);
	}
	c->cache[c->ncache].sql = sql;
	c->cache[c->ncache].stmt = s;
	c->ncache++;
	*out = s;
	return CKR_OK;
}

/* Reset a statement and drop its bindings.  NULL-safe. */
void
lh_sql_done (sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_reset (s);
	sqlite3_clear_bindings (s);
}

/* Step once; *row says whether a row is available. */
CK_RV
lh_sql_step (sqlite3_stmt *s, bool *row)
{
	int rc;

	rc = sqlite3_step (s);
	*row = (rc == SQLITE_ROW);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return CKR_OK;
	return lh_sqlite_rv (rc);
}

/* Run a statement without parameters or result rows, to completion. */
CK_RV
lh_sql_exec (lh_conn *c, const char *sql)
{
	sqlite3_stmt *s = NULL;
	bool row = true;
	CK_RV rv;

	if ((rv = lh_sql (c, sql, &s)) != CKR_OK)
		return rv;
	while (rv == CKR_OK && row)
		rv = lh_sql_step (s, &row);
	lh_sql_done (s);
	return rv;
}

static const char sql_begin_read[] = "BEGIN";
static const char sql_begin_write[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";

static void
busy_pause (unsigned attempt)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 * (long) (attempt + 1) };

	(void) nanosleep (&ts, NULL);
}

/*
 * Start a transaction.  A read transaction (deferred BEGIN) gives the
 * following statements one consistent snapshot.  A write transaction takes
 * the write lock now, with BEGIN IMMEDIATE: each attempt already waits up
 * to LH_BUSY_TIMEOUT_MS in SQLite's busy handler, and we try
 * LH_BUSY_RETRIES times in all before reporting CKR_DEVICE_ERROR.
 */
CK_RV
lh_txn_begin (lh_conn *c, bool write)
{
	sqlite3_stmt *s = NULL;
	unsigned attempt;
	int rc = SQLITE_BUSY;
	CK_RV rv;

	if ((rv = lh_sql (c, write ? sql_begin_write : sql_begin_read, &s)) != CKR_OK)
		return rv;
	for (attempt = 0; attempt < LH_BUSY_RETRIES; attempt++) {
		rc = sqlite3_step (s);
		sqlite3_reset (s);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		busy_pause (attempt);
	}
	if (rc == SQLITE_DONE)
		return CKR_OK;
	return lh_sqlite_rv (rc);
}

/*
 * Finish the current transaction: commit when rv is CKR_OK, otherwise roll
 * back.  Returns rv, or the commit's error.  A failed COMMIT is rolled
 * back so the connection goes back to the pool clean.
 */
CK_RV
lh_txn_end (lh_conn *c, CK_RV rv)
{
	if (rv == CKR_OK) {
		rv = lh_sql_exec (c, sql_commit);
		if (rv == CKR_OK)
			return CKR_OK;
	}
	/* SQLite may already have rolled back on its own (e.g. SQLITE_FULL) */
	if (!sqlite3_get_autocommit (c->db))
		(void) lh_sql_exec (c, sql_rollback);
	return rv;
}

static const char sql_meta_get[] =
	"SELECT value FROM meta WHERE name = ?1";

/* meta.value as an integer.  A missing or mistyped row is a damaged token. */
CK_RV
lh_meta_get_int (lh_conn *c, const char *name, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql_meta_get, &s)) != CKR_OK)
		goto out;
	sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
	if ((rv = lh_sql_step (s, &row)) != CKR_OK)
		goto out;
	rv = CKR_DEVICE_ERROR;
	if (!row || sqlite3_column_type (s, 0) != SQLITE_INTEGER)
		goto out;
	*out = sqlite3_column_int64 (s, 0);
	rv = CKR_OK;
out:
	lh_sql_done (s);
	return rv;
}

/* meta.value as a blob of exactly len bytes. */
CK_RV
lh_meta_get_blob (lh_conn *c, const char *name, uint8_t *buf, size_t len)
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql_meta_get, &s)) != CKR_OK)
		goto out;
	sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
	if ((rv = lh_sql_step (s, &row)) != CKR_OK)
		goto out;
	rv = CKR_DEVICE_ERROR;
	if (!row || sqlite3_column_type (s, 0) != SQLITE_BLOB ||
	    (size_t) sqlite3_column_bytes (s, 0) != len)
		goto out;
	memcpy (buf, sqlite3_column_blob (s, 0), len);
	rv = CKR_OK;
out:
	lh_sql_done (s);
	return rv;
}

/*
 * Make sure the token file exists before SQLite sees it.  With create we
 * make it ourselves with O_CREAT|O_EXCL and mode 0600, so it is never
 * readable by others, whatever the umask, not even for an instant; SQLite
 * gives its -wal and -shm files the same mode as the database.  An
 * existing file (perhaps being created by another process right now) is
 * fine: lh_schema_open sorts out its state under a write lock.
 */
static CK_RV
file_prepare (const char *path, bool create)
{
	struct stat sb;
	int fd;

	if (create) {
		fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		           S_IRUSR | S_IWUSR);
		if (fd >= 0) {
			/* the umask may have taken bits away; we need rw */
			if (fchmod (fd, S_IRUSR | S_IWUSR) != 0) {
				close (fd);
				return CKR_DEVICE_ERROR;
			}
			close (fd);
			return CKR_OK;
		}
		if (errno != EEXIST)
			return CKR_DEVICE_ERROR;
	}
	if (stat (path, &sb) != 0)
		return errno == ENOENT ? CKR_TOKEN_NOT_PRESENT : CKR_DEVICE_ERROR;
	if (!S_ISREG (sb.st_mode))
		return CKR_TOKEN_NOT_RECOGNIZED;
	return CKR_OK;
}

/* Clamp a requested KDF cost to something Argon2id accepts. */
static void
kdf_clamp (const lh_kdf_params *in, lh_kdf_params *out)
{
	out->t_cost = in->t_cost ? in->t_cost : LH_KDF_DEFAULT_T;
	out->m_kib = in->m_kib ? in->m_kib : LH_KDF_DEFAULT_M_KIB;
	out->lanes = in->lanes ? in->lanes : LH_KDF_DEFAULT_LANES;
	if (out->t_cost > LH_KDF_MAX_T)
		out->t_cost = LH_KDF_MAX_T;
	if (out->lanes > LH_KDF_MAX_LANES)
		out->lanes = LH_KDF_MAX_LANES;
	if (out->m_kib > LH_KDF_MAX_M_KIB)
		out->m_kib = LH_KDF_MAX_M_KIB;
	if (out->m_kib < LH_KDF_MIN_M_PER_LANE * out->lanes)
		out->m_kib = LH_KDF_MIN_M_PER_LANE * out->lanes;
}

/*
 * Fetch the OpenSSL algorithms once, from the library context the caller
 * gave (the module's private one, so the host's openssl.cnf and providers
 * never reach us); no property query.
 */
static CK_RV
fetch_algorithms (lh_store *st)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	ERR_set_mark ();
	st->gcm = EVP_CIPHER_fetch (st->libctx, "AES-256-GCM", NULL);
	st->sha256 = EVP_MD_fetch (st->libctx, "SHA256", NULL);
	st->hmac = EVP_MAC_fetch (st->libctx, "HMAC", NULL);
	st->hkdf = EVP_KDF_fetch (st->libctx, "HKDF", NULL);
	if (st->gcm && st->sha256 && st->hmac && st->hkdf)
		rv = CKR_OK;
	ERR_pop_to_mark ();
	return rv;
}

static const char sql_token_uid[] = "token_uid";

/*
 * store.h.  Order matters: the file is made (0600) before SQLite sees it,
 * its header is checked before anything is written, and token_uid is read
 * once, here, because it never changes and every seal binds it.  Nothing
 * about objects is read.
 *   CKR_TOKEN_NOT_PRESENT, CKR_TOKEN_NOT_RECOGNIZED, CKR_DEVICE_ERROR,
 *   CKR_ARGUMENTS_BAD (incomplete mutex ops), CKR_CANT_LOCK (an SQLite
 *   built without thread support, with mutex ops), CKR_HOST_MEMORY
 */
CK_RV
lh_store_open (const char *path, const lh_store_config *cfg, bool create,
               lh_store **out)
{
	static const lh_kdf_params no_kdf = { 0, 0, 0 };
	const lh_mutex_ops *m;
	lh_store *st = NULL;
	lh_conn *c = NULL;
	CK_RV rv = CKR_ARGUMENTS_BAD;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		goto out;
	m = cfg ? cfg->mutex : NULL;
	if (m != NULL && (!m->create || !m->destroy || !m->lock || !m->unlock))
		goto out;
	/* pool connections move between threads: SQLite must allow that */
	rv = CKR_CANT_LOCK;
	if (m != NULL && !sqlite3_threadsafe ())
		goto out;

	rv = CKR_HOST_MEMORY;
	st = calloc (1, sizeof *st);
	if (st == NULL)
		goto out;
	st->path = strdup (path);
	if (st->path == NULL)
		goto out;
	kdf_clamp (cfg ? &cfg->kdf : &no_kdf, &st->kdf);
	st->libctx = cfg ? cfg->libctx : NULL;
	st->max_failures = (cfg && cfg->max_pin_failures) ?
	                   cfg->max_pin_failures : LH_DEFAULT_MAX_FAILURES;
	if (m != NULL) {
		if ((rv = m->create (&st->mutex)) != CKR_OK)
			goto out;
		st->mops = m;
	}
	if ((rv = fetch_algorithms (st)) != CKR_OK ||
	    (rv = file_prepare (path, create)) != CKR_OK ||
	    (rv = lh_conn_open (path, &c)) != CKR_OK ||
	    (rv = lh_schema_open (c, path, create)) != CKR_OK ||
	    (rv = lh_txn_begin (c, false)) != CKR_OK)
		goto out;
	rv = lh_meta_get_blob (c, sql_token_uid, st->token_uid,
	                       sizeof st->token_uid);
	if ((rv = lh_txn_end (c, rv)) != CKR_OK)
		goto out;
	lh_conn_put (st, c);
	c = NULL;
	*out = st;
	st = NULL;
	rv = CKR_OK;
out:
	lh_conn_close (c);
	lh_store_close (st);
	return rv;
}

/*
 * Close everything.  The caller guarantees no other thread still uses st,
 * so no locking here.
 */
void
lh_store_close (lh_store *st)
{
	lh_conn *c;

	if (st == NULL)
		return;
	while ((c = st->idle) != NULL) {
		st->idle = c->next;
		lh_conn_close (c);
	}
	lh_conn_close (st->watch);
	lh_keys_drop (st, NULL);        /* wipes the master key */
	EVP_CIPHER_free (st->gcm);
	EVP_MD_free (st->sha256);
	EVP_MAC_free (st->hmac);
	EVP_KDF_free (st->hkdf);
	if (st->mops != NULL)
		(void) st->mops->destroy (st->mutex);
	free (st->path);
	OPENSSL_cleanse (st->token_uid, sizeof st->token_uid);
	free (st);
}

static const char sql_data_version[] = "PRAGMA data_version";

/*
 * PRAGMA data_version changes on a connection whenever another connection
 * (ours or another process's) commits, and costs no more than a look at
 * the WAL index.  One dedicated connection keeps the baseline.  When
 * another thread is using it right now we answer "no change": that thread
 * is looking at the same file at the same moment and will report any
 * change it finds, so nothing is hidden for longer than its check takes.
 * (Answering "changed" made threads that sign concurrently flush each
 * other's caches over and over.)
 */
CK_RV
lh_store_changed (lh_store *st, bool *changed)
{
	sqlite3_stmt *s = NULL;
	lh_conn *c = NULL;
	int64_t v = 0;
	bool row, busy;
	CK_RV rv = CKR_ARGUMENTS_BAD;

	if (st == NULL || changed == NULL)
		return rv;
	*changed = true;
	lh_lock (st);
	busy = st->watch_open && st->watch == NULL;
	if (!busy) {
		c = st->watch;
		st->watch = NULL;
		st->watch_open = true;
	}
	lh_unlock (st);
	if (busy) {
		*changed = false;
		return CKR_OK;
	}

	if (c == NULL && (rv = lh_conn_open (st->path, &c)) != CKR_OK)
		goto out;
	if ((rv = lh_sql (c, sql_data_version, &s)) != CKR_OK ||
	    (rv = lh_sql_step (s, &row)) != CKR_OK)
		goto out;
	rv = CKR_DEVICE_ERROR;
	if (!row)
		goto out;
	v = sqlite3_column_int64 (s, 0);
	rv = CKR_OK;
out:
	lh_sql_done (s);
	lh_lock (st);
	st->watch = c;
	if (c == NULL)
		st->watch_open = false;         /* next call opens a new one */
	if (rv == CKR_OK) {
		*changed = !st->have_version || v != st->data_version;
		st->data_version = v;
		st->have_version = true;
	}
	lh_unlock (st);
	return rv;
}

static const char sql_info_auth[] =
	"SELECT user, fail_count FROM auth";
static const char sql_info_count[] =
	"SELECT count(*) FROM objects";
static const char sql_info_initialized[] = "initialized";
static const char sql_info_label[] = "label";
static const char sql_info_serial[] = "serial";

static CK_RV
info_read (lh_store *st, lh_conn *c, lh_store_info *out)
{
	sqlite3_stmt *s = NULL;
	int64_t init = 0, user, fails;
	bool row;
	CK_RV rv;

	if ((rv = lh_meta_get_int (c, sql_info_initialized, &init)) != CKR_OK ||
	    (rv = lh_meta_get_blob (c, sql_info_label, out->label,
	                            sizeof out->label)) != CKR_OK ||
	    (rv = lh_meta_get_blob (c, sql_info_serial, (uint8_t *) out->serial,
	                            sizeof out->serial - 1)) != CKR_OK ||
	    (rv = lh_meta_get_blob (c, sql_token_uid, out->token_uid,
	                            sizeof out->token_uid)) != CKR_OK)
		goto out;
	out->initialized = init != 0;
	if ((rv = lh_sql (c, sql_info_auth, &s)) != CKR_OK)
		goto out;
	while ((rv = lh_sql_step (s, &row)) == CKR_OK && row) {
		user = sqlite3_column_int64 (s, 0);
		fails = sqlite3_column_int64 (s, 1);
		if (fails < 0 || fails > UINT32_MAX) {
			rv = CKR_DEVICE_ERROR;
			goto out;
		}
		if (user == CKU_USER) {
			out->user_pin_set = true;
			out->user_failures = (uint32_t) fails;
		} else if (user == CKU_SO) {
			out->so_failures = (uint32_t) fails;
		}
	}
	if (rv != CKR_OK)
		goto out;
	lh_sql_done (s);
	if ((rv = lh_sql (c, sql_info_count, &s)) != CKR_OK ||
	    (rv = lh_sql_step (s, &row)) != CKR_OK)
		goto out;
	out->object_count = row ? (uint64_t) sqlite3_column_int64 (s, 0) : 0;
	out->max_failures = st->max_failures;
	out->user_pin_locked = out->user_failures >= st->max_failures;
	out->so_pin_locked = out->so_failures >= st->max_failures;
out:
	lh_sql_done (s);
	return rv;
}

/* store.h.  Reads everything fresh, in one snapshot. */
CK_RV
lh_store_info_get (lh_store *st, lh_store_info *out)
{
	lh_conn *c = NULL;
	CK_RV rv = CKR_ARGUMENTS_BAD;

	if (st == NULL || out == NULL)
		return rv;
	memset (out, 0, sizeof *out);
	if ((rv = lh_conn_get (st, &c)) != CKR_OK ||
	    (rv = lh_txn_begin (c, false)) != CKR_OK)
		goto out;
	rv = lh_txn_end (c, info_read (st, c, out));
out:
	lh_conn_put (st, c);
	if (rv != CKR_OK)
		memset (out, 0, sizeof *out);
	return rv;
}
