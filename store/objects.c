/*
 * objects.c - token objects: create, read, replace, delete and search,
 * with the integrity tags and the blind index.
 *
 * Implements lh_store_obj_add, lh_store_obj_update, lh_store_obj_del,
 * lh_store_obj_get, lh_store_obj_find, lh_store_obj_is_private,
 * lh_store_indexed and lh_attrs_free (what C_CreateObject, C_CopyObject,
 * C_SetAttributeValue, C_DestroyObject, C_GetAttributeValue and
 * C_FindObjects need underneath).
 *
 * Canonical encoding of an object (the input of csum and mac), integers
 * big-endian:
 *
 *   "LHOB"(4) || format version(1) || token_uid(16) || object id(8) ||
 *   private(1) || for each attribute, sorted by type:
 *       type(8) || flags(4) || len(8) || stored bytes(len)
 *
 * "stored bytes" is what attrs.value holds: the sealed blob for a sealed
 * attribute, so the MAC can be checked without opening any seal.
 *   csum = SHA-256(encoding)[0..15]      checked on every read; catches
 *                                        accidental damage before login
 *   mac  = HMAC-SHA256(mac key, encoding) checked on every read while the
 *                                        master key is held; catches
 *                                        deliberate changes (a flipped
 *                                        CKA_SENSITIVE, a removed
 *                                        attribute, private set to 0)
 * A failed check, or a seal that does not open, is CKR_DEVICE_ERROR for
 * that object alone, and nothing of it is returned.
 *
 * Sealing rule: every attribute of a private object is sealed; in a public
 * object only those passed with LH_SATTR_SEAL.  Without the master key a
 * private object is not read at all (CKR_USER_NOT_LOGGED_IN) and the
 * sealed attributes of a public one come back LH_SATTR_UNAVAILABLE.
 *
 * Writes need the master key (for the MAC) and run in one BEGIN IMMEDIATE
 * transaction each, so an object is never seen half written.  An object is
 * inserted first and its attributes sealed afterwards, because the
 * AUTOINCREMENT id is bound into every seal.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/store_int.h"

#define CANON_MAGIC     "LHOB"
#define CANON_HEAD_LEN  (4 + 1 + LH_UID_LEN + 8 + 1)
#define CANON_ATTR_LEN  (8 + 4 + 8)

/*
 * The attribute types searched through idx.  The first group is selective
 * (few objects share a value), the second is not; lh_store_obj_find
 * starts from a selective one when it can.
 */
static const CK_ATTRIBUTE_TYPE indexed_types[] = {
	CKA_ID, CKA_LABEL, CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER,
	CKA_OBJECT_ID, CKA_APPLICATION,
	CKA_CLASS, CKA_KEY_TYPE, CKA_CERTIFICATE_TYPE,
};

/* Position in indexed_types, or -1. */
static int
indexed_rank (CK_ATTRIBUTE_TYPE type)
{
	size_t i;

	for (i = 0; i < sizeof indexed_types / sizeof indexed_types[0]; i++) {
		if (indexed_types[i] == type)
			return (int) i;
	}
	return -1;
}

/* store.h: does lh_store_obj_find narrow by this type? */
bool
lh_store_indexed (CK_ATTRIBUTE_TYPE type)
{
	return indexed_rank (type) >= 0;
}

/*
 * store.h.  Every value is cleansed, not only sealed ones: the caller may
 * have copied secrets into public-looking attributes, and a wipe of a few
 * public bytes costs nothing.  Leaves *attrs empty and reusable.
 */
void
lh_attrs_free (lh_attrs *attrs)
{
	size_t i;

	if (attrs == NULL)
		return;
	for (i = 0; attrs->a != NULL && i < attrs->n; i++)
		OPENSSL_clear_free (attrs->a[i].value, attrs->a[i].len);
	free (attrs->a);
	attrs->a = NULL;
	attrs->n = 0;
	attrs->private_obj = false;
}

static int
stored_cmp (const void *x, const void *y)
{
	const lh_stored *a = x, *b = y;

	return a->type < b->type ? -1 : a->type > b->type;
}

static void
stored_free (lh_stored *s, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		free (s[i].owned);
	free (s);
}

/*
 * The canonical encoding (header comment).  s must be sorted by type.
 * *out is malloc'd; it holds only what is on disk anyway (ciphertext or
 * public values), so it needs no cleansing.
 */
CK_RV
lh_obj_canon (const uint8_t token_uid[LH_UID_LEN], lh_oid id,
              bool private_obj, const lh_stored *s, size_t n,
              uint8_t **out, size_t *out_len)
{
	size_t i, len = CANON_HEAD_LEN;
	uint8_t *buf, *p;

	*out = NULL;
	*out_len = 0;
	for (i = 0; i < n; i++) {
		if (s[i].len > SIZE_MAX - len - CANON_ATTR_LEN)
			return CKR_HOST_MEMORY;
		len += CANON_ATTR_LEN + s[i].len;
	}
	buf = malloc (len);
	if (buf == NULL)
		return CKR_HOST_MEMORY;
	memcpy (buf, CANON_MAGIC, 4);
	buf[4] = LH_FORMAT_VERSION;
	memcpy (buf + 5, token_uid, LH_UID_LEN);
	lh_put_be (buf + 5 + LH_UID_LEN, id, 8);
	buf[CANON_HEAD_LEN - 1] = private_obj ? 1 : 0;
	p = buf + CANON_HEAD_LEN;
	for (i = 0; i < n; i++) {
		lh_put_be (p, s[i].type, 8);
		lh_put_be (p + 8, s[i].flags, 4);
		lh_put_be (p + 12, s[i].len, 8);
		if (s[i].len > 0)
			memcpy (p + CANON_ATTR_LEN, s[i].data, s[i].len);
		p += CANON_ATTR_LEN + s[i].len;
	}
	*out = buf;
	*out_len = len;
	return CKR_OK;
}

/* csum, and mac when k is given, of an object's stored form. */
static CK_RV
obj_tags (lh_store *st, const lh_keys *k, lh_oid id, bool private_obj,
          const lh_stored *s, size_t n, uint8_t csum[LH_CSUM_LEN],
          uint8_t mac[LH_MAC_LEN])
{
	uint8_t hash[LH_HASH_LEN], *enc = NULL;
	size_t len = 0;
	CK_RV rv;

	if ((rv = lh_obj_canon (st->token_uid, id, private_obj, s, n,
	                        &enc, &len)) != CKR_OK)
		return rv;
	rv = lh_sha256 (st, enc, len, NULL, 0, hash);
	if (rv == CKR_OK)
		memcpy (csum, hash, LH_CSUM_LEN);
	if (rv == CKR_OK && k != NULL)
		rv = lh_hmac (st, k->mac, enc, len, NULL, 0, mac);
	free (enc);
	return rv;
}

/*
 * Blind index key of one attribute value: a plain hash for public
 * objects, a keyed one for private objects so that their labels and ids
 * cannot be confirmed by hashing guesses.
 */
static CK_RV
index_key (lh_store *st, const lh_keys *k, bool private_obj,
           CK_ATTRIBUTE_TYPE type, const void *value, size_t len,
           uint8_t out[LH_HASH_LEN])
{
	uint8_t t[8];

	lh_put_be (t, type, 8);
	if (private_obj)
		return lh_hmac (st, k->index, t, sizeof t, value, len, out);
	return lh_sha256 (st, t, sizeof t, value, len, out);
}

/* Check a caller's attribute array: no NULL values with a length. */
static CK_RV
check_sattrs (const lh_sattr *a, size_t n)
{
	size_t i;

	if (a == NULL && n > 0)
		return CKR_ARGUMENTS_BAD;
	for (i = 0; i < n; i++) {
		if (a[i].value == NULL && a[i].len > 0)
			return CKR_ARGUMENTS_BAD;
	}
	return CKR_OK;
}

/*
 * The stored form of a caller's attributes, sorted by type, sealed where
 * the rule says so.  Plain values point into the caller's array.
 */
static CK_RV
stored_make (lh_store *st, const lh_keys *k, lh_oid id, bool private_obj,
             const lh_sattr *a, size_t n, lh_stored **out)
{
	lh_stored *s;
	size_t i;
	CK_RV rv = CKR_OK;

	*out = NULL;
	s = calloc (n ? n : 1, sizeof *s);
	if (s == NULL)
		return CKR_HOST_MEMORY;
	for (i = 0; i < n; i++) {
		s[i].type = a[i].type;
		s[i].data = a[i].value;
		s[i].len = a[i].len;
		if (!private_obj && !(a[i].flags & LH_SATTR_SEAL))
			continue;
		s[i].flags = LH_SATTR_SEALED;
		rv = lh_seal (st, k, id, a[i].type, a[i].value, a[i].len,
		              &s[i].owned, &s[i].len);
		if (rv != CKR_OK)
			goto out;
		s[i].data = s[i].owned;
	}
	qsort (s, n, sizeof *s, stored_cmp);
	for (i = 1; i < n; i++) {
		if (s[i].type == s[i - 1].type) {
			rv = CKR_TEMPLATE_INCONSISTENT;
			goto out;
		}
	}
out:
	if (rv != CKR_OK)
		stored_free (s, n);
	else
		*out = s;
	return rv;
}

static const char sql_obj_new[] =
	"INSERT INTO objects (private, csum, mac) VALUES (?1, x'', x'')";
static const char sql_obj_tags[] =
	"UPDATE objects SET private = ?2, csum = ?3, mac = ?4 WHERE id = ?1";
static const char sql_obj_exists[] =
	"SELECT private FROM objects WHERE id = ?1";
static const char sql_obj_del[] =
	"DELETE FROM objects WHERE id = ?1";
static const char sql_attr_put[] =
	"INSERT INTO attrs (obj, type, flags, value) VALUES (?1, ?2, ?3, ?4)";
static const char sql_attr_clear[] =
	"DELETE FROM attrs WHERE obj = ?1";
static const char sql_idx_put[] =
	"INSERT OR IGNORE INTO idx (type, key, obj) VALUES (?1, ?2, ?3)";
static const char sql_idx_clear[] =
	"DELETE FROM idx WHERE obj = ?1";

/* Run a statement whose only parameter is an object id. */
static CK_RV
exec_id (lh_conn *c, const char *sql, lh_oid id)
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) id);
	rv = lh_sql_step (s, &row);
	lh_sql_done (s);
	return rv;
}

static CK_RV
attr_insert (lh_conn *c, lh_oid id, const lh_stored *a)
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql_attr_put, &s)) != CKR_OK)
		return rv;
	if (a->len > INT32_MAX) {
		rv = CKR_DEVICE_MEMORY;
		goto out;
	}
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) id);
	sqlite3_bind_int64 (s, 2, (sqlite3_int64) a->type);
	sqlite3_bind_int64 (s, 3, a->flags);
	/* a zero-length blob, not NULL: the column is NOT NULL */
	if (a->len == 0)
		sqlite3_bind_zeroblob (s, 4, 0);
	else
		sqlite3_bind_blob (s, 4, a->data, (int) a->len, SQLITE_STATIC);
	rv = lh_sql_step (s, &row);
out:
	lh_sql_done (s);
	return rv;
}

static CK_RV
idx_insert (lh_store *st, lh_conn *c, const lh_keys *k, lh_oid id,
            bool private_obj, const lh_sattr *a)
{
	uint8_t key[LH_HASH_LEN];
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = index_key (st, k, private_obj, a->type, a->value, a->len,
	                     key)) != CKR_OK ||
	    (rv = lh_sql (c, sql_idx_put, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) a->type);
	sqlite3_bind_blob (s, 2, key, sizeof key, SQLITE_STATIC);
	sqlite3_bind_int64 (s, 3, (sqlite3_int64) id);
	rv = lh_sql_step (s, &row);
	lh_sql_done (s);
	return rv;
}

/*
 * Write an object's attributes, index rows and tags.  The object row
 * exists and has no attributes or index rows.  In the caller's write txn.
 */
static CK_RV
obj_write (lh_store *st, lh_conn *c, const lh_keys *k, lh_oid id,
           bool private_obj, const lh_sattr *a, size_t n)
{
	uint8_t csum[LH_CSUM_LEN], mac[LH_MAC_LEN];
	lh_stored *s = NULL;
	sqlite3_stmt *q = NULL;
	bool row;
	size_t i;
	CK_RV rv;

	if ((rv = stored_make (st, k, id, private_obj, a, n, &s)) != CKR_OK)
		return rv;
	for (i = 0; i < n && rv == CKR_OK; i++)
		rv = attr_insert (c, id, &s[i]);
	for (i = 0; i < n && rv == CKR_OK; i++) {
		if (lh_store_indexed (a[i].type))
			rv = idx_insert (st, c, k, id, private_obj, &a[i]);
	}
	if (rv != CKR_OK ||
	    (rv = obj_tags (st, k, id, private_obj, s, n, csum, mac)) != CKR_OK ||
	    (rv = lh_sql (c, sql_obj_tags, &q)) != CKR_OK)
		goto out;
	sqlite3_bind_int64 (q, 1, (sqlite3_int64) id);
	sqlite3_bind_int (q, 2, private_obj ? 1 : 0);
	sqlite3_bind_blob (q, 3, csum, sizeof csum, SQLITE_STATIC);
	sqlite3_bind_blob (q, 4, mac, sizeof mac, SQLITE_STATIC);
	rv = lh_sql_step (q, &row);
out:
	lh_sql_done (q);
	stored_free (s, n);
	return rv;
}

/*
 * Common start of every write: the caller's keys, a connection and a
 * write transaction in which the keys are known to be current.  A stale
 * login (another process re-initialised the token) is dropped here.
 */
static CK_RV
write_begin (lh_store *st, lh_keys **k, lh_conn **c)
{
	CK_RV rv;

	*c = NULL;
	*k = lh_keys_get (st);
	if (*k == NULL)
		return CKR_USER_NOT_LOGGED_IN;
	if ((rv = lh_conn_get (st, c)) != CKR_OK ||
	    (rv = lh_txn_begin (*c, true)) != CKR_OK)
		return rv;
	rv = lh_keys_current (*c, *k);
	if (rv == CKR_USER_NOT_LOGGED_IN)
		lh_keys_drop (st, *k);
	return rv;
}

/* Commit or roll back (by rv), and release what write_begin took. */
static CK_RV
write_end (lh_store *st, lh_keys *k, lh_conn *c, CK_RV rv)
{
	if (c != NULL && !sqlite3_get_autocommit (c->db))
		rv = lh_txn_end (c, rv);
	lh_conn_put (st, c);
	lh_keys_put (st, k);
	return rv;
}

/* Does object id exist?  Optionally its private column. */
static CK_RV
obj_lookup (lh_conn *c, lh_oid id, bool *private_obj)
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if (id == 0 || id > INT64_MAX)
		return CKR_OBJECT_HANDLE_INVALID;
	if ((rv = lh_sql (c, sql_obj_exists, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) id);
	rv = lh_sql_step (s, &row);
	if (rv == CKR_OK && !row)
		rv = CKR_OBJECT_HANDLE_INVALID;
	if (rv == CKR_OK && private_obj != NULL)
		*private_obj = sqlite3_column_int64 (s, 0) != 0;
	lh_sql_done (s);
	return rv;
}

/*
 * store.h.  The object row comes first so that its id exists to be bound
 * into the seals; everything is one transaction, so a failure anywhere
 * leaves no row behind.
 *   CKR_USER_NOT_LOGGED_IN, CKR_TEMPLATE_INCONSISTENT (a type twice),
 *   CKR_ARGUMENTS_BAD, CKR_DEVICE_ERROR, CKR_DEVICE_MEMORY, ...
 */
CK_RV
lh_store_obj_add (lh_store *st, bool private_obj, const lh_sattr *a,
                  size_t n, lh_oid *out)
{
	sqlite3_stmt *s = NULL;
	lh_keys *k = NULL;
	lh_conn *c = NULL;
	lh_oid id = 0;
	bool row;
	CK_RV rv;

	if (st == NULL || out == NULL)
		return CKR_ARGUMENTS_BAD;
	*out = 0;
	if ((rv = check_sattrs (a, n)) != CKR_OK)
		return rv;
	if ((rv = write_begin (st, &k, &c)) != CKR_OK ||
	    (rv = lh_sql (c, sql_obj_new, &s)) != CKR_OK)
		goto out;
	sqlite3_bind_int (s, 1, private_obj ? 1 : 0);
	rv = lh_sql_step (s, &row);
	lh_sql_done (s);
	if (rv != CKR_OK)
		goto out;
	id = (lh_oid) sqlite3_last_insert_rowid (c->db);
	rv = obj_write (st, c, k, id, private_obj, a, n);
out:
	rv = write_end (st, k, c, rv);
	if (rv == CKR_OK)
		*out = id;
	return rv;
}

/*
 * store.h.  The id, and so the AAD of every seal, stays the same; the
 * values are sealed afresh with new nonces and the index rebuilt, since
 * the private flag (plain or keyed index) may have changed.
 *   CKR_OBJECT_HANDLE_INVALID and the codes of lh_store_obj_add.
 */
CK_RV
lh_store_obj_update (lh_store *st, lh_oid id, bool private_obj,
                     const lh_sattr *a, size_t n)
{
	lh_keys *k = NULL;
	lh_conn *c = NULL;
	CK_RV rv;

	if (st == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = check_sattrs (a, n)) != CKR_OK)
		return rv;
	if ((rv = write_begin (st, &k, &c)) != CKR_OK ||
	    (rv = obj_lookup (c, id, NULL)) != CKR_OK ||
	    (rv = exec_id (c, sql_attr_clear, id)) != CKR_OK ||
	    (rv = exec_id (c, sql_idx_clear, id)) != CKR_OK)
		goto out;
	rv = obj_write (st, c, k, id, private_obj, a, n);
out:
	return write_end (st, k, c, rv);
}

/* store.h.  CKR_OBJECT_HANDLE_INVALID, CKR_USER_NOT_LOGGED_IN, ... */
CK_RV
lh_store_obj_del (lh_store *st, lh_oid id)
{
	lh_keys *k = NULL;
	lh_conn *c = NULL;
	CK_RV rv;

	if (st == NULL)
		return CKR_ARGUMENTS_BAD;
	/* attrs and idx rows go by ON DELETE CASCADE, overwritten by
	 * secure_delete */
	if ((rv = write_begin (st, &k, &c)) != CKR_OK ||
	    (rv = obj_lookup (c, id, NULL)) != CKR_OK)
		goto out;
	rv = exec_id (c, sql_obj_del, id);
out:
	return write_end (st, k, c, rv);
}

/*
 * store.h.  Reads the private column only: no integrity check, so callers
 * use it as a hint (e.g. to skip private ids before login), never to
 * decide what to reveal; lh_store_obj_get decides that.
 */
CK_RV
lh_store_obj_is_private (lh_store *st, lh_oid id, bool *private_obj)
{
	lh_conn *c = NULL;
	CK_RV rv;

	if (st == NULL || private_obj == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_conn_get (st, &c)) == CKR_OK)
		rv = obj_lookup (c, id, private_obj);
	lh_conn_put (st, c);
	return rv;
}

/* ---- reading ------------------------------------------------------------ */

/* An object as read from the file, before any check. */
typedef struct {
	bool private_obj;
	uint8_t csum[LH_CSUM_LEN];
	uint8_t mac[LH_MAC_LEN];
	lh_stored *s;                   /* sorted by type; owned are OPENSSL_malloc'd */
	size_t n;
} obj_raw;

static void
raw_free (obj_raw *r)
{
	size_t i;

	for (i = 0; r->s != NULL && i < r->n; i++)
		OPENSSL_clear_free (r->s[i].owned, r->s[i].len);
	free (r->s);
	r->s = NULL;
	r->n = 0;
}

static const char sql_obj_head[] =
	"SELECT private, csum, mac FROM objects WHERE id = ?1";
static const char sql_attr_all[] =
	"SELECT type, flags, value FROM attrs WHERE obj = ?1";

static CK_RV
raw_head (lh_conn *c, lh_oid id, obj_raw *r)
{
	sqlite3_stmt *s = NULL;
	int64_t priv;
	bool row;
	CK_RV rv;

	if (id == 0 || id > INT64_MAX)
		return CKR_OBJECT_HANDLE_INVALID;
	if ((rv = lh_sql (c, sql_obj_head, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) id);
	if ((rv = lh_sql_step (s, &row)) != CKR_OK)
		goto out;
	rv = CKR_OBJECT_HANDLE_INVALID;
	if (!row)
		goto out;
	rv = CKR_DEVICE_ERROR;
	priv = sqlite3_column_int64 (s, 0);
	if (sqlite3_column_type (s, 0) != SQLITE_INTEGER ||
	    (priv != 0 && priv != 1) ||
	    sqlite3_column_bytes (s, 1) != LH_CSUM_LEN ||
	    sqlite3_column_bytes (s, 2) != LH_MAC_LEN)
		goto out;
	r->private_obj = priv == 1;
	memcpy (r->csum, sqlite3_column_blob (s, 1), LH_CSUM_LEN);
	memcpy (r->mac, sqlite3_column_blob (s, 2), LH_MAC_LEN);
	rv = CKR_OK;
out:
	lh_sql_done (s);
	return rv;
}

/* Copy one attrs row into r->s[r->n]. */
static CK_RV
raw_attr (sqlite3_stmt *s, obj_raw *r)
{
	lh_stored *a = &r->s[r->n];
	int64_t flags;
	int len;

	flags = sqlite3_column_int64 (s, 1);
	len = sqlite3_column_bytes (s, 2);
	if (sqlite3_column_type (s, 0) != SQLITE_INTEGER ||
	    (flags != 0 && flags != LH_SATTR_SEALED) ||
	    sqlite3_column_type (s, 2) != SQLITE_BLOB || len < 0)
		return CKR_DEVICE_ERROR;
	a->owned = OPENSSL_malloc (len ? (size_t) len : 1);
	if (a->owned == NULL)
		return CKR_HOST_MEMORY;
	if (len > 0)
		memcpy (a->owned, sqlite3_column_blob (s, 2), (size_t) len);
	a->type = (CK_ATTRIBUTE_TYPE) (uint64_t) sqlite3_column_int64 (s, 0);
	a->flags = (uint32_t) flags;
	a->data = a->owned;
	a->len = (size_t) len;
	r->n++;
	return CKR_OK;
}

/* Read an object's row and attribute rows, in the caller's transaction. */
static CK_RV
raw_read (lh_conn *c, lh_oid id, obj_raw *r)
{
	sqlite3_stmt *s = NULL;
	size_t cap = 0;
	lh_stored *grown;
	bool row;
	CK_RV rv;

	memset (r, 0, sizeof *r);
	if ((rv = raw_head (c, id, r)) != CKR_OK ||
	    (rv = lh_sql (c, sql_attr_all, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) id);
	while ((rv = lh_sql_step (s, &row)) == CKR_OK && row) {
		if (r->n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc (r->s, cap * sizeof *grown);
			if (grown == NULL) {
				rv = CKR_HOST_MEMORY;
				break;
			}
			r->s = grown;
		}
		if ((rv = raw_attr (s, r)) != CKR_OK)
			break;
	}
	lh_sql_done (s);
	/* our order, not SQLite's: types are unsigned, columns are signed */
	if (rv == CKR_OK && r->n > 1)
		qsort (r->s, r->n, sizeof *r->s, stored_cmp);
	return rv;
}

/*
 * The integrity checks: csum always, the MAC when k is given.  Without k
 * only the csum stands between a file edited by someone who recomputed it
 * and the caller; that is still safe for secrets: private objects are not
 * returned at all without k, and sealed values stay sealed whatever the
 * flags and private columns claim, since the seal key comes from k.
 */
static CK_RV
raw_check (lh_store *st, const lh_keys *k, lh_oid id, const obj_raw *r)
{
	uint8_t csum[LH_CSUM_LEN], mac[LH_MAC_LEN];
	CK_RV rv;

	if ((rv = obj_tags (st, k, id, r->private_obj, r->s, r->n,
	                    csum, mac)) != CKR_OK)
		return rv;
	if (CRYPTO_memcmp (csum, r->csum, LH_CSUM_LEN) != 0 ||
	    (k != NULL && CRYPTO_memcmp (mac, r->mac, LH_MAC_LEN) != 0))
		return CKR_DEVICE_ERROR;
	return CKR_OK;
}

/* Move a checked object into out, opening seals when k is given. */
static CK_RV
raw_open (lh_store *st, const lh_keys *k, lh_oid id, obj_raw *r,
          lh_attrs *out)
{
	lh_sattr *o;
	size_t i;
	CK_RV rv;

	out->a = calloc (r->n ? r->n : 1, sizeof *out->a);
	if (out->a == NULL)
		return CKR_HOST_MEMORY;
	out->private_obj = r->private_obj;
	for (i = 0; i < r->n; i++) {
		o = &out->a[i];
		o->type = r->s[i].type;
		out->n = i + 1;
		if (!(r->s[i].flags & LH_SATTR_SEALED)) {
			/* plain value: hand over the copy we made */
			o->value = r->s[i].owned;
			o->len = r->s[i].len;
			r->s[i].owned = NULL;
			continue;
		}
		o->flags = LH_SATTR_SEALED;
		if (k == NULL) {
			o->flags |= LH_SATTR_UNAVAILABLE;
			continue;
		}
		rv = lh_unseal (st, k, id, o->type, r->s[i].data, r->s[i].len,
		                (uint8_t **) &o->value, &o->len);
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

/*
 * store.h.  The rows are copied out in one read transaction; the checks
 * and the decryption run after the connection is back in the pool, so a
 * slow object never holds a connection or a read snapshot.  Keys found
 * stale (the token was re-initialised elsewhere) log the handle out.
 */
CK_RV
lh_store_obj_get (lh_store *st, lh_oid id, lh_attrs *out)
{
	lh_keys *k = NULL;
	lh_conn *c = NULL;
	obj_raw r;
	CK_RV rv = CKR_ARGUMENTS_BAD;

	memset (&r, 0, sizeof r);
	if (out != NULL)
		memset (out, 0, sizeof *out);
	if (st == NULL || out == NULL)
		return rv;
	k = lh_keys_get (st);
	if ((rv = lh_conn_get (st, &c)) != CKR_OK ||
	    (rv = lh_txn_begin (c, false)) != CKR_OK)
		goto out;
	if (k != NULL && (rv = lh_keys_current (c, k)) != CKR_OK) {
		if (rv != CKR_USER_NOT_LOGGED_IN) {
			lh_txn_end (c, rv);
			goto out;
		}
		/* re-initialised elsewhere: we are logged out now */
		lh_keys_drop (st, k);
		lh_keys_put (st, k);
		k = NULL;
	}
	rv = lh_txn_end (c, raw_read (c, id, &r));
	lh_conn_put (st, c);
	c = NULL;
	if (rv != CKR_OK)
		goto out;
	/* SPEC: private objects are invisible until the user logs in */
	if (r.private_obj && k == NULL) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	if ((rv = raw_check (st, k, id, &r)) != CKR_OK)
		goto out;
	rv = raw_open (st, k, id, &r, out);
out:
	if (rv != CKR_OK)
		lh_attrs_free (out);
	raw_free (&r);
	lh_conn_put (st, c);
	lh_keys_put (st, k);
	return rv;
}

/* ---- search ------------------------------------------------------------- */

/*
 * First step of a search: the objects having one indexed attribute value,
 * as two (type, key) B-tree look-ups on idx, public objects by the plain
 * hash (?2) and private ones by the keyed hash (?3; NULL when private
 * objects are not wanted, which matches nothing).
 */
const char lh_sql_find_first[] =
	"SELECT i.obj, o.private FROM idx AS i JOIN objects AS o ON o.id = i.obj"
	" WHERE i.type = ?1 AND i.key = ?2 AND o.private = 0"
	" UNION ALL "
	"SELECT i.obj, o.private FROM idx AS i JOIN objects AS o ON o.id = i.obj"
	" WHERE i.type = ?1 AND i.key = ?3 AND o.private = 1"
	" ORDER BY 1";

/* Narrowing: does candidate ?3 also have this (type, key)?  A PK probe. */
const char lh_sql_find_probe[] =
	"SELECT 1 FROM idx WHERE type = ?1 AND key = ?2 AND obj = ?3";

static const char sql_find_all[] =
	"SELECT id, private FROM objects WHERE private = 0 OR ?1 ORDER BY id";

typedef struct {
	lh_oid *ids;
	bool *priv;
	size_t n, cap;
} id_list;

static CK_RV
ids_push (id_list *l, lh_oid id, bool priv)
{
	lh_oid *ids;
	bool *p;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		ids = realloc (l->ids, l->cap * sizeof *ids);
		if (ids == NULL)
			return CKR_HOST_MEMORY;
		l->ids = ids;
		p = realloc (l->priv, l->cap * sizeof *p);
		if (p == NULL)
			return CKR_HOST_MEMORY;
		l->priv = p;
	}
	l->ids[l->n] = id;
	l->priv[l->n] = priv;
	l->n++;
	return CKR_OK;
}

/* Both blind index keys of a match attribute (hmac only with keys). */
static CK_RV
match_keys (lh_store *st, const lh_keys *k, const lh_sattr *a,
            uint8_t sha[LH_HASH_LEN], uint8_t hmac[LH_HASH_LEN])
{
	CK_RV rv;

	rv = index_key (st, NULL, false, a->type, a->value, a->len, sha);
	if (rv == CKR_OK && k != NULL)
		rv = index_key (st, k, true, a->type, a->value, a->len, hmac);
	return rv;
}

/* Collect rows (id, private) of a query into l. */
static CK_RV
collect (sqlite3_stmt *s, id_list *l)
{
	bool row;
	CK_RV rv;

	while ((rv = lh_sql_step (s, &row)) == CKR_OK && row) {
		rv = ids_push (l, (lh_oid) sqlite3_column_int64 (s, 0),
		               sqlite3_column_int64 (s, 1) != 0);
		if (rv != CKR_OK)
			break;
	}
	return rv;
}

static CK_RV
find_first (lh_store *st, lh_conn *c, const lh_keys *k, const lh_sattr *a,
            id_list *l)
{
	uint8_t sha[LH_HASH_LEN], hmac[LH_HASH_LEN];
	sqlite3_stmt *s = NULL;
	CK_RV rv;

	if ((rv = match_keys (st, k, a, sha, hmac)) != CKR_OK ||
	    (rv = lh_sql (c, lh_sql_find_first, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) a->type);
	sqlite3_bind_blob (s, 2, sha, sizeof sha, SQLITE_STATIC);
	if (k != NULL)
		sqlite3_bind_blob (s, 3, hmac, sizeof hmac, SQLITE_STATIC);
	rv = collect (s, l);
	lh_sql_done (s);
	OPENSSL_cleanse (hmac, sizeof hmac);
	return rv;
}

/* Keep only the candidates that also have attribute a. */
static CK_RV
find_narrow (lh_store *st, lh_conn *c, const lh_keys *k, const lh_sattr *a,
             id_list *l)
{
	uint8_t sha[LH_HASH_LEN], hmac[LH_HASH_LEN];
	sqlite3_stmt *s = NULL;
	size_t i, kept = 0;
	bool row = false;
	CK_RV rv;

	if ((rv = match_keys (st, k, a, sha, hmac)) != CKR_OK ||
	    (rv = lh_sql (c, lh_sql_find_probe, &s)) != CKR_OK)
		return rv;
	for (i = 0; i < l->n; i++) {
		sqlite3_bind_int64 (s, 1, (sqlite3_int64) a->type);
		sqlite3_bind_blob (s, 2, l->priv[i] ? hmac : sha, LH_HASH_LEN,
		                   SQLITE_STATIC);
		sqlite3_bind_int64 (s, 3, (sqlite3_int64) l->ids[i]);
		rv = lh_sql_step (s, &row);
		lh_sql_done (s);
		if (rv != CKR_OK)
			break;
		if (row) {
			l->ids[kept] = l->ids[i];
			l->priv[kept] = l->priv[i];
			kept++;
		}
	}
	l->n = kept;
	OPENSSL_cleanse (hmac, sizeof hmac);
	return rv;
}

/*
 * Run the search in one read transaction.  The most selective indexed
 * attribute (lowest rank) picks the candidates; the others narrow them by
 * primary-key probes, so the cost follows the smallest set, not the token.
 */
static CK_RV
find_run (lh_store *st, lh_conn *c, const lh_keys *k, const lh_sattr *m,
          size_t n, bool with_private, id_list *l)
{
	sqlite3_stmt *s = NULL;
	size_t i, best = n;
	int r, best_rank = -1;
	CK_RV rv;

	for (i = 0; i < n; i++) {
		r = indexed_rank (m[i].type);
		if (r >= 0 && (best_rank < 0 || r < best_rank)) {
			best = i;
			best_rank = r;
		}
	}
	if (best == n) {
		if ((rv = lh_sql (c, sql_find_all, &s)) != CKR_OK)
			return rv;
		sqlite3_bind_int (s, 1, with_private ? 1 : 0);
		rv = collect (s, l);
		lh_sql_done (s);
		return rv;
	}
	rv = find_first (st, c, k, &m[best], l);
	for (i = 0; rv == CKR_OK && l->n > 0 && i < n; i++) {
		if (i != best && lh_store_indexed (m[i].type))
			rv = find_narrow (st, c, k, &m[i], l);
	}
	return rv;
}

/*
 * store.h.  Private objects need the index key, so with_private needs the
 * master key (CKR_USER_NOT_LOGGED_IN otherwise).  The ids are candidates:
 * idx rows are not covered by any MAC, so the caller compares the
 * template with each object it then reads through lh_store_obj_get.
 */
CK_RV
lh_store_obj_find (lh_store *st, const lh_sattr *match, size_t n,
                   bool with_private, lh_oid **ids, size_t *count)
{
	id_list l = { NULL, NULL, 0, 0 };
	lh_keys *k = NULL;
	lh_conn *c = NULL;
	CK_RV rv;

	if (ids != NULL)
		*ids = NULL;
	if (count != NULL)
		*count = 0;
	if (st == NULL || ids == NULL || count == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = check_sattrs (match, n)) != CKR_OK)
		return rv;
	if (with_private && (k = lh_keys_get (st)) == NULL)
		return CKR_USER_NOT_LOGGED_IN;
	if ((rv = lh_conn_get (st, &c)) != CKR_OK ||
	    (rv = lh_txn_begin (c, false)) != CKR_OK)
		goto out;
	if (k != NULL && (rv = lh_keys_current (c, k)) == CKR_USER_NOT_LOGGED_IN)
		lh_keys_drop (st, k);
	if (rv == CKR_OK)
		rv = find_run (st, c, k, match, n, with_private, &l);
	rv = lh_txn_end (c, rv);
out:
	lh_conn_put (st, c);
	lh_keys_put (st, k);
	free (l.priv);
	if (rv == CKR_OK && l.n > 0) {
		*ids = l.ids;
		*count = l.n;
	} else {
		free (l.ids);
	}
	return rv;
}

/* ---- for verify and rekey (admin.c) ----------------------------------- */

/*
 * Read object id in the caller's transaction on c and run the checks of
 * lh_store_obj_get: csum always; the MAC and every seal when k is given.
 * Unlike lh_store_obj_get it does not refuse a private object without k
 * (its csum is still checked, and its values, all sealed, come back
 * LH_SATTR_UNAVAILABLE): verify checks private objects before login.  A
 * caller that hands values on must apply the private rule itself.
 *   CKR_OBJECT_HANDLE_INVALID, CKR_DEVICE_ERROR (damaged), CKR_HOST_MEMORY
 */
CK_RV
lh_obj_load (lh_store *st, lh_conn *c, const lh_keys *k, lh_oid id,
             lh_attrs *out)
{
	obj_raw r;
	CK_RV rv;

	memset (out, 0, sizeof *out);
	if ((rv = raw_read (c, id, &r)) == CKR_OK &&
	    (rv = raw_check (st, k, id, &r)) == CKR_OK)
		rv = raw_open (st, k, id, &r, out);
	if (rv != CKR_OK)
		lh_attrs_free (out);
	raw_free (&r);
	return rv;
}

/*
 * Replace the attributes, index rows and tags of the existing object id,
 * sealing and tagging with k, in the caller's write transaction (what
 * lh_store_obj_update does inside its own).  a follows the rules of
 * lh_store_obj_add: LH_SATTR_SEAL seals a value of a public object.
 */
CK_RV
lh_obj_rewrite (lh_store *st, lh_conn *c, const lh_keys *k, lh_oid id,
                bool private_obj, const lh_sattr *a, size_t n)
{
	CK_RV rv;

	if ((rv = exec_id (c, sql_attr_clear, id)) != CKR_OK ||
	    (rv = exec_id (c, sql_idx_clear, id)) != CKR_OK)
		return rv;
	return obj_write (st, c, k, id, private_obj, a, n);
}
