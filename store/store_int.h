/*
 * store_int.h - private declarations shared by the files of store/.
 *
 * Nothing outside store/ (and tests/unit/test-store.c and
 * test-store-admin.c, which check the internals directly) includes this
 * header.  It holds the lh_store struct, the connection pool and
 * statement cache, the transaction helpers, the refcounted key set and
 * the crypto primitives the store files share.
 *
 * Locking: one mutex per lh_store (st->mutex, made from the lh_mutex_ops
 * given at open; none at all when the ops are NULL).  It guards exactly the
 * fields marked "protected by st->mutex" below and is held only for pointer
 * moves and refcount changes, never across SQLite I/O or cryptography.
 * Everything else in the struct is set at open and read-only afterwards.
 */
#ifndef LH_STORE_INT_H
#define LH_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sqlite3.h>

#include "store/store.h"

/* PRAGMA application_id: "LHSM" read as a big-endian 32-bit number. */
#define LH_APP_ID               0x4C48534D
/* PRAGMA user_version written by the newest migration in schema.c. */
#define LH_SCHEMA_VERSION       1
/* Version byte at the start of sealed blobs and in every AAD/encoding. */
#define LH_FORMAT_VERSION       1

#define LH_KEY_LEN              32      /* AES-256, HMAC-SHA256 keys */
#define LH_UID_LEN              16      /* token_uid */
#define LH_GCM_NONCE_LEN        12
#define LH_GCM_TAG_LEN          16
#define LH_CSUM_LEN             16      /* truncated SHA-256 */
#define LH_MAC_LEN              32      /* HMAC-SHA256 */
#define LH_HASH_LEN             32      /* SHA-256, blind index keys */
#define LH_SALT_LEN             16

/* Sealed blob: version(1) || nonce(12) || ciphertext || tag(16). */
#define LH_SEAL_OVERHEAD        (1 + LH_GCM_NONCE_LEN + LH_GCM_TAG_LEN)
/* auth.kdf and auth.wrapped_mk (layouts in auth.c) */
#define LH_KDF_BLOB_LEN         (1 + 4 + 4 + 4 + LH_SALT_LEN)
#define LH_WRAP_LEN             (LH_SEAL_OVERHEAD + LH_KEY_LEN)

/* Connection pool and SQLite retry policy (see store.c). */
#define LH_POOL_IDLE_MAX        4       /* idle connections kept open */
#define LH_STMT_CACHE_MAX       48      /* > number of distinct SQL strings */
#define LH_BUSY_TIMEOUT_MS      5000    /* sqlite3_busy_timeout per attempt */
#define LH_BUSY_RETRIES         3       /* BEGIN IMMEDIATE attempts */

/* Sanity bounds on Argon2id parameters read from a (maybe hostile) file. */
#define LH_KDF_MIN_M_PER_LANE   8       /* RFC 9106: m >= 8 * p */
#define LH_KDF_MAX_T            64
#define LH_KDF_MAX_M_KIB        (4u * 1024 * 1024)      /* 4 GiB */
#define LH_KDF_MAX_LANES        64

#define LH_DEFAULT_MAX_FAILURES 10

/*
 * One SQLite connection and its prepared statements.  Owned by the pool
 * while idle (linked through next, protected by st->mutex) and by exactly
 * one thread while taken, so it is opened with SQLITE_OPEN_NOMUTEX.
 */
typedef struct lh_conn {
	sqlite3 *db;
	struct {
		const char *sql;        /* the static string; cache key by address */
		sqlite3_stmt *stmt;
	} cache[LH_STMT_CACHE_MAX];
	size_t ncache;
	struct lh_conn *next;           /* idle list link */
} lh_conn;

/*
 * The master key and the subkeys derived from it, for one login.
 * Allocated with OPENSSL_secure_zalloc and cleansed when the last reference
 * goes.  Immutable after creation, so a thread holding a reference reads
 * it without the mutex; refs is protected by st->mutex.
 */
typedef struct lh_keys {
	unsigned refs;
	CK_USER_TYPE who;               /* CKU_SO or CKU_USER */
	uint32_t mk_version;            /* meta.mk_version the MK belongs to */
	uint8_t mk[LH_KEY_LEN];         /* master key */
	uint8_t seal[LH_KEY_LEN];       /* AES-256-GCM key for attribute values */
	uint8_t mac[LH_KEY_LEN];        /* HMAC-SHA256 key for object MACs */
	uint8_t index[LH_KEY_LEN];      /* HMAC-SHA256 key for the blind index */
} lh_keys;

/* Owned by the opener; one per token per process. */
struct lh_store {
	char *path;                     /* token file */
	lh_kdf_params kdf;              /* clamped cost for new PIN wraps */
	uint32_t max_failures;          /* PIN lock threshold, >= 1 */
	uint8_t token_uid[LH_UID_LEN];  /* meta.token_uid, stable for life */

	const lh_mutex_ops *mops;       /* NULL: no locking */
	void *mutex;

	/* OpenSSL algorithms fetched once at open from the caller's
	 * library context (the module's private one). */
	OSSL_LIB_CTX *libctx;           /* not owned; NULL: default context */
	EVP_CIPHER *gcm;                /* AES-256-GCM */
	EVP_MD *sha256;
	EVP_MAC *hmac;
	EVP_KDF *hkdf;

	/* protected by st->mutex */
	lh_conn *idle;                  /* idle connections */
	size_t nidle;
	lh_keys *keys;                  /* NULL when nobody is logged in */
	lh_conn *watch;                 /* data_version connection, NULL if taken */
	bool watch_open;                /* watch has been created */
	int64_t data_version;           /* last value seen on watch */
	bool have_version;
};

/* Stored form of one attribute, as written to attrs and the MAC. */
typedef struct {
	CK_ATTRIBUTE_TYPE type;
	uint32_t flags;                 /* LH_SATTR_SEALED or 0 */
	const uint8_t *data;            /* sealed blob or plain value */
	size_t len;
	uint8_t *owned;                 /* non-NULL when data must be freed */
} lh_stored;

/* store.c: mutex, pool, statements, transactions, error mapping */
void lh_lock (lh_store *st);
void lh_unlock (lh_store *st);
CK_RV lh_sqlite_rv (int rc);
CK_RV lh_conn_get (lh_store *st, lh_conn **out);
void lh_conn_put (lh_store *st, lh_conn *c);
CK_RV lh_conn_open (const char *path, lh_conn **out);
void lh_conn_close (lh_conn *c);
CK_RV lh_sql (lh_conn *c, const char *sql, sqlite3_stmt **out);
void lh_sql_done (sqlite3_stmt *s);
CK_RV lh_sql_step (sqlite3_stmt *s, bool *row);
CK_RV lh_sql_exec (lh_conn *c, const char *sql);
CK_RV lh_txn_begin (lh_conn *c, bool write);
CK_RV lh_txn_end (lh_conn *c, CK_RV rv);
CK_RV lh_meta_get_int (lh_conn *c, const char *name, int64_t *out);
CK_RV lh_meta_get_blob (lh_conn *c, const char *name, uint8_t *buf,
                        size_t len);

/* schema.c: connection set-up, DDL and migrations */
CK_RV lh_schema_setup_conn (sqlite3 *db);
CK_RV lh_schema_open (lh_conn *c, const char *path, bool create);
CK_RV lh_schema_backup (lh_conn *c, const char *path, int64_t version);
CK_RV lh_schema_check (lh_conn *c);

/* seal.c: AES-256-GCM, attribute sealing, random bytes */
CK_RV lh_random (OSSL_LIB_CTX *libctx, uint8_t *buf, size_t len, bool priv);
CK_RV lh_gcm_encrypt (lh_store *st, const uint8_t key[LH_KEY_LEN],
                      const uint8_t nonce[LH_GCM_NONCE_LEN],
                      const uint8_t *aad, size_t aad_len,
                      const uint8_t *in, size_t len, uint8_t *out,
                      uint8_t tag[LH_GCM_TAG_LEN]);
CK_RV lh_gcm_decrypt (lh_store *st, const uint8_t key[LH_KEY_LEN],
                      const uint8_t nonce[LH_GCM_NONCE_LEN],
                      const uint8_t *aad, size_t aad_len,
                      const uint8_t *in, size_t len, uint8_t *out,
                      const uint8_t tag[LH_GCM_TAG_LEN]);
CK_RV lh_seal (lh_store *st, const lh_keys *k, lh_oid id,
               CK_ATTRIBUTE_TYPE type, const uint8_t *pt, size_t len,
               uint8_t **blob, size_t *blob_len);
CK_RV lh_unseal (lh_store *st, const lh_keys *k, lh_oid id,
                 CK_ATTRIBUTE_TYPE type, const uint8_t *blob, size_t blob_len,
                 uint8_t **pt, size_t *len);
CK_RV lh_sha256 (lh_store *st, const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen, uint8_t out[LH_HASH_LEN]);
CK_RV lh_hmac (lh_store *st, const uint8_t key[LH_KEY_LEN],
               const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
               uint8_t out[LH_MAC_LEN]);
void lh_put_be (uint8_t *p, uint64_t v, size_t n);
uint64_t lh_get_be (const uint8_t *p, size_t n);

/* auth.c: keys, KDF, login state */
lh_keys *lh_keys_get (lh_store *st);
void lh_keys_put (lh_store *st, lh_keys *k);
void lh_keys_drop (lh_store *st, lh_keys *k);
CK_RV lh_keys_current (lh_conn *c, const lh_keys *k);
/* auth.c: the steps of C_Login and C_SetPIN that rekey (admin.c) reuses */
CK_RV lh_pin_verify (lh_store *st, CK_USER_TYPE who, const uint8_t *pin,
                     size_t len, uint8_t mk[LH_KEY_LEN], int64_t *mk_version);
CK_RV lh_keys_make (lh_store *st, CK_USER_TYPE who, uint32_t mk_version,
                    const uint8_t mk[LH_KEY_LEN], lh_keys **out);
void lh_keys_install (lh_store *st, lh_keys *k);
CK_RV lh_wrap_new (lh_store *st, const uint8_t *pin, size_t len,
                   CK_USER_TYPE who, int64_t mk_version,
                   const uint8_t mk[LH_KEY_LEN],
                   uint8_t kdf[LH_KDF_BLOB_LEN], uint8_t wrapped[LH_WRAP_LEN]);

/* objects.c: canonical encoding (exposed for the tamper tests) */
CK_RV lh_obj_canon (const uint8_t token_uid[LH_UID_LEN], lh_oid id,
                    bool private_obj, const lh_stored *s, size_t n,
                    uint8_t **out, size_t *out_len);
/* objects.c: read-check-open and rewrite in the caller's txn (admin.c) */
CK_RV lh_obj_load (lh_store *st, lh_conn *c, const lh_keys *k, lh_oid id,
                   lh_attrs *out);
CK_RV lh_obj_rewrite (lh_store *st, lh_conn *c, const lh_keys *k, lh_oid id,
                      bool private_obj, const lh_sattr *a, size_t n);

/* SQL the unit test runs EXPLAIN QUERY PLAN on. */
extern const char lh_sql_find_first[];
extern const char lh_sql_find_probe[];

#endif /* LH_STORE_INT_H */
