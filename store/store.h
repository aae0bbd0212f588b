/*
 * store.h - the one public header of litehsm's token store.
 *
 * A token is one SQLite file.  This API is all that pkcs11/ and tools/ see:
 * SQL, sealing and the master key never leave store/.  The handle is
 * opaque; every function returns a CK_RV so callers need no second error
 * space.  Attribute types are plain CK_ATTRIBUTE_TYPE numbers: the store
 * does not interpret them except for the small set it indexes for search.
 *
 * Threading: an lh_store may be used from several threads at once.  It
 * keeps a small pool of SQLite connections guarded by its own mutex (made
 * with the lh_mutex_ops given at open); that mutex is held only to take or
 * return a connection, never across SQLite I/O or cryptography, so two
 * threads reading one token run in parallel.
 *
 * Login state (the unwrapped master key) belongs to the lh_store handle,
 * which is one per token per process, as PKCS#11 login is per application.
 *
 * On-disk format and crypto: see the comment at the top of store/schema.c
 * and store/seal.c.
 */
#ifndef LH_STORE_H
#define LH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

typedef struct lh_store lh_store;

/* Mutex callbacks, in the shape of CK_C_INITIALIZE_ARGS; NULL ops = none. */
typedef struct {
	CK_RV (*create) (void **mutex);
	CK_RV (*destroy) (void *mutex);
	CK_RV (*lock) (void *mutex);
	CK_RV (*unlock) (void *mutex);
} lh_mutex_ops;

/* Argon2id cost; used for new PIN wraps (each wrap stores its own). */
typedef struct {
	uint32_t t_cost;        /* iterations */
	uint32_t m_kib;         /* memory in KiB (>= 8 * lanes) */
	uint32_t lanes;         /* parallelism; computed in one thread */
} lh_kdf_params;

#define LH_KDF_DEFAULT_T      3
#define LH_KDF_DEFAULT_M_KIB  32768
#define LH_KDF_DEFAULT_LANES  1

typedef struct {
	lh_kdf_params kdf;           /* cost for PINs set through this handle */
	uint32_t max_pin_failures;   /* lock a PIN after this many; 0 = 10 */
	const lh_mutex_ops *mutex;   /* NULL: caller promises one thread */
	struct ossl_lib_ctx_st *libctx;  /* OpenSSL context to use; NULL: default */
} lh_store_config;

/* What C_GetTokenInfo needs; read fresh from the file on each call. */
typedef struct {
	bool initialized;            /* C_InitToken has run */
	bool user_pin_set;           /* C_InitPIN has run */
	uint8_t label[32];           /* blank-padded, as in CK_TOKEN_INFO */
	char serial[17];             /* 16 hex chars + NUL */
	uint8_t token_uid[16];       /* random, bound into every seal */
	uint32_t max_failures;
	uint32_t user_failures;      /* consecutive wrong user PINs */
	uint32_t so_failures;
	bool user_pin_locked;        /* user_failures >= max_failures */
	bool so_pin_locked;
	uint64_t object_count;       /* token objects (cheap COUNT) */
} lh_store_info;

/*
 * One attribute crossing the store boundary.
 *   in  (add/update): LH_SATTR_SEAL asks for the value to be sealed even in
 *       a public object (key material).  Every attribute of a private object
 *       is sealed regardless.
 *   out (get): value/len are owned by the lh_attrs that holds them.
 *       LH_SATTR_SEALED says the value was stored sealed;
 *       LH_SATTR_UNAVAILABLE says it is sealed and nobody is logged in, so
 *       value is NULL (len 0).
 */
#define LH_SATTR_SEAL         0x1u
#define LH_SATTR_SEALED       0x2u
#define LH_SATTR_UNAVAILABLE  0x4u

typedef struct {
	CK_ATTRIBUTE_TYPE type;
	void *value;
	size_t len;
	unsigned flags;
} lh_sattr;

/* A set of attributes returned by the store; free with lh_attrs_free(). */
typedef struct {
	lh_sattr *a;                 /* sorted by type, no duplicates */
	size_t n;
	bool private_obj;            /* the object's CKA_PRIVATE as stored */
} lh_attrs;

void lh_attrs_free (lh_attrs *attrs);  /* cleanses every value; NULL-safe */

/* Store object ids are SQLite rowids (AUTOINCREMENT: never reused). */
typedef uint64_t lh_oid;

/*
 * Open the token file at path.  With create, a missing file is created
 * (mode 0600) and left uninitialized (info.initialized == false).
 *   CKR_TOKEN_NOT_PRESENT    no such file and !create
 *   CKR_TOKEN_NOT_RECOGNIZED not a litehsm token (or newer schema)
 *   CKR_DEVICE_ERROR         I/O or SQLite failure
 */
CK_RV lh_store_open (const char *path, const lh_store_config *cfg,
                     bool create, lh_store **out);
void lh_store_close (lh_store *st);   /* wipes the master key; NULL-safe */

CK_RV lh_store_info_get (lh_store *st, lh_store_info *out);

/*
 * C_InitToken.  On an uninitialized file: set label and SO PIN, make a new
 * master key.  On an initialized one: the SO PIN must match (a wrong one
 * counts as a failure), then every object and the user PIN are destroyed
 * and a new master key made, in one transaction.  Logs the handle out.
 *   CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_DEVICE_ERROR
 */
CK_RV lh_store_init_token (lh_store *st, const uint8_t label[32],
                           const uint8_t *so_pin, size_t so_len);

/*
 * Verify the PIN of who (CKU_SO or CKU_USER) and hold the master key.
 * A wrong PIN increments that user's persistent failure count; a right one
 * resets it.  The count is checked before the KDF runs.
 *   CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_USER_PIN_NOT_INITIALIZED,
 *   CKR_DEVICE_ERROR
 */
CK_RV lh_store_login (lh_store *st, CK_USER_TYPE who,
                      const uint8_t *pin, size_t len);
void lh_store_logout (lh_store *st);         /* wipes the master key */
bool lh_store_logged_in (lh_store *st);      /* master key held */

/* C_InitPIN: needs the master key (SO logged in); resets the user count. */
CK_RV lh_store_init_pin (lh_store *st, const uint8_t *pin, size_t len);

/*
 * C_SetPIN for who: old PIN verified (failures counted as in login), then
 * the master key is rewrapped under the new PIN.  Nothing else changes.
 */
CK_RV lh_store_set_pin (lh_store *st, CK_USER_TYPE who,
                        const uint8_t *old_pin, size_t old_len,
                        const uint8_t *new_pin, size_t new_len);

/*
 * Objects.  Writes need the master key (CKR_USER_NOT_LOGGED_IN otherwise)
 * because every object carries a MAC under a key derived from it.
 * add/update/del each run in one BEGIN IMMEDIATE transaction.
 * update replaces the object's whole attribute set.
 */
CK_RV lh_store_obj_add (lh_store *st, bool private_obj,
                        const lh_sattr *a, size_t n, lh_oid *out);
CK_RV lh_store_obj_update (lh_store *st, lh_oid id, bool private_obj,
                           const lh_sattr *a, size_t n);
CK_RV lh_store_obj_del (lh_store *st, lh_oid id);

/*
 * Read all attributes of an object.  The checksum is verified always, the
 * MAC whenever the master key is held; sealed values are opened when the
 * master key is held (AES-GCM with bound AAD).
 *   CKR_OBJECT_HANDLE_INVALID  no such object
 *   CKR_USER_NOT_LOGGED_IN     private object and no master key
 *   CKR_DEVICE_ERROR           the object failed an integrity check
 */
CK_RV lh_store_obj_get (lh_store *st, lh_oid id, lh_attrs *out);

/*
 * Candidate ids for a search template.  Attributes of an indexed type
 * (lh_store_indexed) narrow the search through B-tree look-ups (a keyed
 * blind index for private objects); others are ignored here and must be
 * checked by the caller on the objects it loads.  Private objects are
 * included only when with_private (needs the master key).  *ids is
 * malloc'd, free() it.  Ordered by id.
 */
CK_RV lh_store_obj_find (lh_store *st, const lh_sattr *match, size_t n,
                         bool with_private, lh_oid **ids, size_t *count);
bool lh_store_indexed (CK_ATTRIBUTE_TYPE type);

/*
 * Has any process changed the file since the last call? (data_version)
 * While another thread of this process is checking, the answer is false:
 * that thread reports what it finds.
 */
CK_RV lh_store_changed (lh_store *st, bool *changed);

/* Is the given id a private object?  (cheap; no decryption) */
CK_RV lh_store_obj_is_private (lh_store *st, lh_oid id, bool *private_obj);

/* ------------------------------------------------------------------ */
/* Administration (litehsm token backup/restore/verify/rekey)          */

/*
 * Copy the live token to dest_path with SQLite's online backup, so the
 * copy is consistent while other processes use the token.  dest_path must
 * not exist; it is created mode 0600 and written completely before it
 * appears under its name (temporary name + rename).
 *   CKR_ARGUMENTS_BAD (dest exists), CKR_DEVICE_ERROR
 */
CK_RV lh_store_backup (lh_store *st, const char *dest_path);

/*
 * Put the backup src_path in place of the token file dest_path: src must
 * be a litehsm token (checked first, read-only; nothing changes
 * otherwise); it is copied to a temporary file beside dest, dest's stale
 * -wal/-shm/-journal files are removed (whatever newer data dest's -wal
 * held is discarded), then the copy is renamed over dest.  dest may be
 * missing.  No process may have the token open (the caller checks; the
 * store cannot know other processes' intent).
 *   CKR_TOKEN_NOT_PRESENT (no src), CKR_TOKEN_NOT_RECOGNIZED,
 *   CKR_ARGUMENTS_BAD (dest not a regular file), CKR_DEVICE_ERROR
 */
CK_RV lh_store_restore (const char *src_path, const char *dest_path);

/*
 * Check every object of the token: checksum always; MAC and every sealed
 * value when the master key is held.  cb is called once per damaged
 * object with its id, its label when that can still be read (else NULL;
 * NUL-terminated, valid during the call, the stored bytes unescaped)
 * and the reason (CKR_DEVICE_ERROR).  *checked and *damaged count.
 * Returns CKR_OK even when objects are damaged (the counts say so);
 * another rv means the check itself could not run (CKR_USER_NOT_LOGGED_IN:
 * the token was rekeyed or re-initialised since login).
 */
typedef void (*lh_store_verify_cb) (void *ctx, lh_oid id, const char *label,
                                    CK_RV why);
CK_RV lh_store_verify (lh_store *st, lh_store_verify_cb cb, void *ctx,
                       size_t *checked, size_t *damaged);

/*
 * A new master key: both PINs are verified (failures counted), then in
 * one transaction every sealed value is re-sealed, every MAC and private
 * index entry recomputed, mk_version incremented and the new key wrapped
 * under both PINs.  A crash leaves the old state whole.  Afterwards this
 * handle holds the new keys (logged in as before; a logged-out handle as
 * the user); every other handle's login is stale and is dropped at its
 * next use (CKR_USER_NOT_LOGGED_IN), as after a re-initialisation.
 *   CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_USER_PIN_NOT_INITIALIZED,
 *   CKR_DEVICE_ERROR (a damaged object stops the rekey: verify first)
 */
CK_RV lh_store_rekey (lh_store *st, const uint8_t *so_pin, size_t so_len,
                      const uint8_t *user_pin, size_t user_len);

#endif /* LH_STORE_H */
