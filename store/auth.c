/*
 * auth.c - PINs, the master key and login state of a token.
 *
 * Implements lh_store_init_token, lh_store_login, lh_store_logout,
 * lh_store_logged_in, lh_store_init_pin and lh_store_set_pin (C_InitToken,
 * C_Login, C_Logout, C_InitPIN, C_SetPIN underneath), and the refcounted
 * key set (lh_keys) the object code borrows.
 *
 * Key hierarchy:
 *
 *   PIN --Argon2id(salt, t, m, lanes)--> KEK (32 bytes, per PIN wrap)
 *   KEK --AES-256-GCM--> wrapped_mk                   (auth.wrapped_mk)
 *   MK  (256 random bits from the private DRBG, never stored in clear)
 *   MK  --HKDF-SHA256(salt = token_uid, info = ...)--> seal, mac, index keys
 *
 * wrapped_mk uses the sealed-blob layout of seal.c (version || nonce ||
 * ct(32) || tag) with this AAD (38 bytes, integers big-endian):
 *
 *   0   10  "litehsm mk"
 *   10  16  token_uid
 *   26  8   user type (CKU_SO 0, CKU_USER 1)
 *   34  4   mk_version (meta.mk_version)
 *
 * so the SO's wrap cannot be copied into the user's row (or vice versa),
 * nor a wrap of an earlier master key replayed after C_InitToken.  A wrong
 * PIN gives a wrong KEK, which shows up as a GCM tag failure: there is no
 * separate PIN verifier that could be attacked offline more cheaply than
 * the wrap itself.
 *
 * The kdf blob (29 bytes): alg(1) = 1 || t_cost(4) || m_kib(4) ||
 * lanes(4) || salt(16).  Each wrap keeps the cost it was made with, so
 * changing the configured cost affects only PINs set afterwards.
 *
 * Failure counting is pessimistic: before the KDF runs, one write
 * transaction checks the count (CKR_PIN_LOCKED at max_failures) and
 * increments it; only a PIN that then unwraps the master key resets it.
 * So a guess costs a committed increment before any work is done for it:
 * killing the process during the KDF, or running many processes in
 * parallel, buys no extra guesses.
 *
 * Argon2id runs with threads = 1 whatever the lane count: the module must
 * create no threads (CKF_LIBRARY_CANT_CREATE_OS_THREADS).
 *
 * Locking: st->keys and every lh_keys refcount are protected by st->mutex;
 * the key bytes themselves are immutable after keys_make(), so a holder of
 * a reference reads them unlocked.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "store/store_int.h"

#define KDF_ALG_ARGON2ID        1
#define KDF_BLOB_LEN            LH_KDF_BLOB_LEN
#define WRAP_LEN                LH_WRAP_LEN
#define WRAP_AAD_LEN            (10 + LH_UID_LEN + 8 + 4)
#define CHANGED_RETRIES         3       /* token re-initialised under us */

/* One auth row and the meta fields it is bound to (read together). */
typedef struct {
	bool present;                   /* the PIN is set */
	uint8_t kdf[KDF_BLOB_LEN];
	uint8_t wrapped[WRAP_LEN];
	int64_t fails;
	int64_t mk_version;
	bool initialized;
} auth_row;

/* ---- the key set ---------------------------------------------------- */

static void
keys_free (lh_keys *k)
{
	if (k != NULL)
		OPENSSL_secure_clear_free (k, sizeof *k);
}

/* A reference to the current keys, or NULL when logged out. */
lh_keys *
lh_keys_get (lh_store *st)
{
	lh_keys *k;

	lh_lock (st);
	k = st->keys;
	if (k != NULL)
		k->refs++;
	lh_unlock (st);
	return k;
}

/* Release a reference; the last one cleanses the keys.  NULL-safe. */
void
lh_keys_put (lh_store *st, lh_keys *k)
{
	bool last;

	if (k == NULL)
		return;
	lh_lock (st);
	last = --k->refs == 0;
	lh_unlock (st);
	if (last)
		keys_free (k);
}

/*
 * Log out: drop the store's reference to its keys, if they are still k
 * (k == NULL: whatever keys it holds).  Holders of other references keep
 * working with their copy until they put it.
 */
void
lh_keys_drop (lh_store *st, lh_keys *k)
{
	lh_keys *old = NULL;

	lh_lock (st);
	if (st->keys != NULL && (k == NULL || st->keys == k)) {
		old = st->keys;
		st->keys = NULL;
	}
	lh_unlock (st);
	lh_keys_put (st, old);
}

static void
keys_install (lh_store *st, lh_keys *k)
{
	lh_keys *old;

	lh_lock (st);
	old = st->keys;
	st->keys = k;
	lh_unlock (st);
	lh_keys_put (st, old);
}

static const char sql_mk_version[] = "mk_version";

/*
 * Are k still the keys of this token?  Another process may have run
 * C_InitToken since we logged in, which makes a new master key and bumps
 * meta.mk_version.  Call inside a transaction.
 *   CKR_USER_NOT_LOGGED_IN when the keys are stale.
 */
CK_RV
lh_keys_current (lh_conn *c, const lh_keys *k)
{
	int64_t v = 0;
	CK_RV rv;

	if ((rv = lh_meta_get_int (c, sql_mk_version, &v)) != CKR_OK)
		return rv;
	return v == (int64_t) k->mk_version ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
}

/* One HKDF-SHA256 output of LH_KEY_LEN bytes. */
static CK_RV
hkdf (lh_store *st, const uint8_t mk[LH_KEY_LEN], const char *info,
      uint8_t out[LH_KEY_LEN])
{
	OSSL_PARAM p[5];
	EVP_KDF_CTX *ctx;
	CK_RV rv = CKR_HOST_MEMORY;

	p[0] = OSSL_PARAM_construct_utf8_string ("digest", (char *) "SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string ("key", (void *) mk, LH_KEY_LEN);
	p[2] = OSSL_PARAM_construct_octet_string ("salt", st->token_uid,
	                                          LH_UID_LEN);
	p[3] = OSSL_PARAM_construct_octet_string ("info", (void *) info,
	                                          strlen (info));
	p[4] = OSSL_PARAM_construct_end ();
	ERR_set_mark ();
	ctx = EVP_KDF_CTX_new (st->hkdf);
	if (ctx != NULL)
		rv = EVP_KDF_derive (ctx, out, LH_KEY_LEN, p) == 1 ?
		     CKR_OK : CKR_FUNCTION_FAILED;
	EVP_KDF_CTX_free (ctx);         /* cleanses the key copy */
	ERR_pop_to_mark ();
	return rv;
}

/*
 * A key set with one reference for the caller.  The info strings keep the
 * three subkeys independent: knowing the index key (which every search
 * uses) tells nothing about the seal or MAC keys.
 */
static CK_RV
keys_make (lh_store *st, CK_USER_TYPE who, uint32_t mk_version,
           const uint8_t mk[LH_KEY_LEN], lh_keys **out)
{
	lh_keys *k;
	CK_RV rv;

	*out = NULL;
	k = OPENSSL_secure_zalloc (sizeof *k);
	if (k == NULL)
		return CKR_HOST_MEMORY;
	k->refs = 1;
	k->who = who;
	k->mk_version = mk_version;
	memcpy (k->mk, mk, LH_KEY_LEN);
	if ((rv = hkdf (st, mk, "litehsm v1 seal key", k->seal)) != CKR_OK ||
	    (rv = hkdf (st, mk, "litehsm v1 mac key", k->mac)) != CKR_OK ||
	    (rv = hkdf (st, mk, "litehsm v1 index key", k->index)) != CKR_OK) {
		keys_free (k);
		return rv;
	}
	*out = k;
	return CKR_OK;
}

/* ---- Argon2id and the master-key wrap -------------------------------- */

static void
kdf_new (const lh_store *st, uint8_t blob[KDF_BLOB_LEN], CK_RV *rv)
{
	blob[0] = KDF_ALG_ARGON2ID;
	lh_put_be (blob + 1, st->kdf.t_cost, 4);
	lh_put_be (blob + 5, st->kdf.m_kib, 4);
	lh_put_be (blob + 9, st->kdf.lanes, 4);
	*rv = lh_random (st->libctx, blob + 13, LH_SALT_LEN, false);
}

/*
 * Derive the KEK from a PIN with the parameters in a kdf blob.  The blob
 * comes from the file, so its parameters are checked against sane bounds
 * first: a damaged or hostile file must not make us compute for hours or
 * ask for terabytes.
 */
static CK_RV
kdf_run (const uint8_t blob[KDF_BLOB_LEN], const uint8_t *pin, size_t len,
         uint8_t kek[LH_KEY_LEN])
{
	argon2_context ctx;
	uint32_t t, m, lanes;
	int rc;

	t = (uint32_t) lh_get_be (blob + 1, 4);
	m = (uint32_t) lh_get_be (blob + 5, 4);
	lanes = (uint32_t) lh_get_be (blob + 9, 4);
	if (blob[0] != KDF_ALG_ARGON2ID || t < 1 || t > LH_KDF_MAX_T ||
	    lanes < 1 || lanes > LH_KDF_MAX_LANES || m > LH_KDF_MAX_M_KIB ||
	    m < LH_KDF_MIN_M_PER_LANE * lanes)
		return CKR_DEVICE_ERROR;
	if (len > UINT32_MAX)
		return CKR_PIN_LEN_RANGE;
	memset (&ctx, 0, sizeof ctx);
	ctx.out = kek;
	ctx.outlen = LH_KEY_LEN;
	ctx.pwd = (uint8_t *) pin;      /* not written: no CLEAR_PASSWORD flag */
	ctx.pwdlen = (uint32_t) len;
	ctx.salt = (uint8_t *) blob + 13;
	ctx.saltlen = LH_SALT_LEN;
	ctx.t_cost = t;
	ctx.m_cost = m;
	ctx.lanes = lanes;
	ctx.threads = 1;                /* SPEC: the module creates no threads */
	ctx.version = ARGON2_VERSION_13;
	ctx.flags = ARGON2_DEFAULT_FLAGS;
	rc = argon2_ctx (&ctx, Argon2_id);
	if (rc == ARGON2_OK)
		return CKR_OK;
	OPENSSL_cleanse (kek, LH_KEY_LEN);
	return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? CKR_HOST_MEMORY :
	       CKR_FUNCTION_FAILED;
}

static void
wrap_aad (const lh_store *st, CK_USER_TYPE who, int64_t mk_version,
          uint8_t aad[WRAP_AAD_LEN])
{
	memcpy (aad, "litehsm mk", 10);
	memcpy (aad + 10, st->token_uid, LH_UID_LEN);
	lh_put_be (aad + 10 + LH_UID_LEN, who, 8);
	lh_put_be (aad + 18 + LH_UID_LEN, (uint64_t) mk_version, 4);
}

static CK_RV
mk_wrap (lh_store *st, const uint8_t kek[LH_KEY_LEN], CK_USER_TYPE who,
         int64_t mk_version, const uint8_t mk[LH_KEY_LEN],
         uint8_t out[WRAP_LEN])
{
	uint8_t aad[WRAP_AAD_LEN];
	CK_RV rv;

	out[0] = LH_FORMAT_VERSION;
	wrap_aad (st, who, mk_version, aad);
	if ((rv = lh_random (st->libctx, out + 1, LH_GCM_NONCE_LEN, false)) != CKR_OK)
		return rv;
	return lh_gcm_encrypt (st, kek, out + 1, aad, sizeof aad, mk, LH_KEY_LEN,
	                       out + 1 + LH_GCM_NONCE_LEN,
	                       out + 1 + LH_GCM_NONCE_LEN + LH_KEY_LEN);
}

/* A tag failure here means the PIN was wrong: CKR_PIN_INCORRECT. */
static CK_RV
mk_unwrap (lh_store *st, const uint8_t kek[LH_KEY_LEN], CK_USER_TYPE who,
           int64_t mk_version, const uint8_t in[WRAP_LEN],
           uint8_t mk[LH_KEY_LEN])
{
	uint8_t aad[WRAP_AAD_LEN];
	CK_RV rv;

	if (in[0] != LH_FORMAT_VERSION)
		return CKR_DEVICE_ERROR;
	wrap_aad (st, who, mk_version, aad);
	rv = lh_gcm_decrypt (st, kek, in + 1, aad, sizeof aad,
	                     in + 1 + LH_GCM_NONCE_LEN, LH_KEY_LEN, mk,
	                     in + 1 + LH_GCM_NONCE_LEN + LH_KEY_LEN);
	return rv == CKR_ENCRYPTED_DATA_INVALID ? CKR_PIN_INCORRECT : rv;
}

/* ---- auth rows --------------------------------------------------------- */

static const char sql_auth_get[] =
	"SELECT kdf, wrapped_mk, fail_count FROM auth WHERE user = ?1";
static const char sql_auth_fail[] =
	"UPDATE auth SET fail_count = fail_count + 1 WHERE user = ?1";
static const char sql_auth_reset[] =
	"UPDATE auth SET fail_count = 0 WHERE user = ?1 AND fail_count != 0";
static const char sql_auth_put[] =
	"INSERT OR REPLACE INTO auth (user, kdf, wrapped_mk, fail_count) "
	"VALUES (?1, ?2, ?3, 0)";
static const char sql_auth_del_user[] =
	"DELETE FROM auth WHERE user = 1";              /* CKU_USER */
static const char sql_objects_del_all[] =
	"DELETE FROM objects";
static const char sql_meta_set[] =
	"UPDATE meta SET value = ?2 WHERE name = ?1";
static const char sql_initialized[] = "initialized";

/* Read the auth row of who plus the meta fields, in the caller's txn. */
static CK_RV
auth_read (lh_conn *c, CK_USER_TYPE who, auth_row *r)
{
	sqlite3_stmt *s = NULL;
	int64_t init = 0;
	bool row;
	CK_RV rv;

	memset (r, 0, sizeof *r);
	if ((rv = lh_meta_get_int (c, sql_mk_version, &r->mk_version)) != CKR_OK ||
	    (rv = lh_meta_get_int (c, sql_initialized, &init)) != CKR_OK ||
	    (rv = lh_sql (c, sql_auth_get, &s)) != CKR_OK)
		goto out;
	r->initialized = init != 0;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) who);
	if ((rv = lh_sql_step (s, &row)) != CKR_OK || !row)
		goto out;
	rv = CKR_DEVICE_ERROR;
	if (sqlite3_column_bytes (s, 0) != KDF_BLOB_LEN ||
	    sqlite3_column_bytes (s, 1) != WRAP_LEN ||
	    sqlite3_column_type (s, 2) != SQLITE_INTEGER)
		goto out;
	memcpy (r->kdf, sqlite3_column_blob (s, 0), KDF_BLOB_LEN);
	memcpy (r->wrapped, sqlite3_column_blob (s, 1), WRAP_LEN);
	r->fails = sqlite3_column_int64 (s, 2);
	r->present = true;
	rv = CKR_OK;
out:
	lh_sql_done (s);
	return rv;
}

/* Run a one-parameter (user) UPDATE/DELETE. */
static CK_RV
auth_exec (lh_conn *c, const char *sql, CK_USER_TYPE who)
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) who);
	rv = lh_sql_step (s, &row);
	lh_sql_done (s);
	return rv;
}

static CK_RV
auth_put (lh_conn *c, CK_USER_TYPE who, const uint8_t kdf[KDF_BLOB_LEN],
          const uint8_t wrapped[WRAP_LEN])
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql_auth_put, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_int64 (s, 1, (sqlite3_int64) who);
	sqlite3_bind_blob (s, 2, kdf, KDF_BLOB_LEN, SQLITE_STATIC);
	sqlite3_bind_blob (s, 3, wrapped, WRAP_LEN, SQLITE_STATIC);
	rv = lh_sql_step (s, &row);
	lh_sql_done (s);
	return rv;
}

static CK_RV
meta_set (lh_conn *c, const char *name, const void *blob, size_t len,
          int64_t num)
{
	sqlite3_stmt *s = NULL;
	bool row;
	CK_RV rv;

	if ((rv = lh_sql (c, sql_meta_set, &s)) != CKR_OK)
		return rv;
	sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
	if (blob != NULL)
		sqlite3_bind_blob (s, 2, blob, (int) len, SQLITE_STATIC);
	else
		sqlite3_bind_int64 (s, 2, num);
	rv = lh_sql_step (s, &row);
	if (rv == CKR_OK && sqlite3_changes (c->db) != 1)
		rv = CKR_DEVICE_ERROR;
	lh_sql_done (s);
	return rv;
}

/*
 * Step 1 of a PIN check, in one write transaction: refuse a locked PIN
 * and count this attempt as a failure until proven otherwise.
 */
static CK_RV
pin_attempt (lh_store *st, lh_conn *c, CK_USER_TYPE who, auth_row *r)
{
	CK_RV rv;

	if ((rv = lh_txn_begin (c, true)) != CKR_OK)
		return rv;
	rv = auth_read (c, who, r);
	if (rv == CKR_OK && !r->present)
		rv = CKR_USER_PIN_NOT_INITIALIZED;
	/* SPEC: C_Login, the count is checked before the KDF runs */
	if (rv == CKR_OK && r->fails >= (int64_t) st->max_failures)
		rv = CKR_PIN_LOCKED;
	if (rv == CKR_OK)
		rv = auth_exec (c, sql_auth_fail, who);
	return lh_txn_end (c, rv);
}

/*
 * Step 3: a right PIN resets the count, if the token is still the one the
 * PIN was checked against.  CKR_FUNCTION_CANCELED asks the caller to start
 * over: the token was re-initialised (new master key) meanwhile.
 */
static CK_RV
pin_success (lh_conn *c, CK_USER_TYPE who, const auth_row *r)
{
	int64_t v = 0;
	CK_RV rv;

	if ((rv = lh_txn_begin (c, true)) != CKR_OK)
		return rv;
	rv = lh_meta_get_int (c, sql_mk_version, &v);
	if (rv == CKR_OK && v != r->mk_version)
		rv = CKR_FUNCTION_CANCELED;
	if (rv == CKR_OK)
		rv = auth_exec (c, sql_auth_reset, who);
	return lh_txn_end (c, rv);
}

/*
 * Verify the PIN of who and return the master key (cleanse it after use)
 * and its mk_version.  Neither the store mutex nor any transaction is
 * held while Argon2id runs.
 *   CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_USER_PIN_NOT_INITIALIZED, ...
 */
static CK_RV
pin_verify (lh_store *st, CK_USER_TYPE who, const uint8_t *pin, size_t len,
            uint8_t mk[LH_KEY_LEN], int64_t *mk_version)
{
	uint8_t kek[LH_KEY_LEN];
	lh_conn *c = NULL;
	auth_row r;
	unsigned attempt;
	CK_RV rv;

	if (pin == NULL && len > 0)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_conn_get (st, &c)) != CKR_OK)
		return rv;
	for (attempt = 0; attempt < CHANGED_RETRIES; attempt++) {
		if ((rv = pin_attempt (st, c, who, &r)) != CKR_OK ||
		    (rv = kdf_run (r.kdf, pin, len, kek)) != CKR_OK)
			break;
		rv = mk_unwrap (st, kek, who, r.mk_version, r.wrapped, mk);
		OPENSSL_cleanse (kek, sizeof kek);
		if (rv != CKR_OK)
			break;
		rv = pin_success (c, who, &r);
		if (rv != CKR_FUNCTION_CANCELED)
			break;
		OPENSSL_cleanse (mk, LH_KEY_LEN);
	}
	if (rv == CKR_FUNCTION_CANCELED)
		rv = CKR_DEVICE_ERROR;          /* re-initialised again and again */
	if (rv != CKR_OK)
		OPENSSL_cleanse (mk, LH_KEY_LEN);
	else
		*mk_version = r.mk_version;
	lh_conn_put (st, c);
	OPENSSL_cleanse (&r, sizeof r);
	return rv;
}

/* A new kdf blob (configured cost, fresh salt) and the MK wrapped under it. */
static CK_RV
wrap_new (lh_store *st, const uint8_t *pin, size_t len, CK_USER_TYPE who,
          int64_t mk_version, const uint8_t mk[LH_KEY_LEN],
          uint8_t kdf[KDF_BLOB_LEN], uint8_t wrapped[WRAP_LEN])
{
	uint8_t kek[LH_KEY_LEN];
	CK_RV rv;

	if (pin == NULL && len > 0)
		return CKR_ARGUMENTS_BAD;
	kdf_new (st, kdf, &rv);
	if (rv == CKR_OK && (rv = kdf_run (kdf, pin, len, kek)) == CKR_OK)
		rv = mk_wrap (st, kek, who, mk_version, mk, wrapped);
	OPENSSL_cleanse (kek, sizeof kek);
	return rv;
}

/* ---- the public functions --------------------------------------------- */

/*
 * store.h.  On success the handle holds a fresh key set (replacing any
 * earlier login); a failure leaves an earlier login as it was.
 */
CK_RV
lh_store_login (lh_store *st, CK_USER_TYPE who, const uint8_t *pin,
                size_t len)
{
	uint8_t mk[LH_KEY_LEN];
	int64_t mk_version = 0;
	lh_keys *k = NULL;
	CK_RV rv;

	if (st == NULL)
		return CKR_ARGUMENTS_BAD;
	if (who != CKU_SO && who != CKU_USER)
		return CKR_USER_TYPE_INVALID;
	rv = pin_verify (st, who, pin, len, mk, &mk_version);
	if (rv == CKR_OK)
		rv = keys_make (st, who, (uint32_t) mk_version, mk, &k);
	if (rv == CKR_OK)
		keys_install (st, k);
	OPENSSL_cleanse (mk, sizeof mk);
	return rv;
}

/* store.h.  Threads still holding a reference finish with their copy. */
void
lh_store_logout (lh_store *st)
{
	if (st != NULL)
		lh_keys_drop (st, NULL);
}

/* store.h */
bool
lh_store_logged_in (lh_store *st)
{
	bool in;

	if (st == NULL)
		return false;
	lh_lock (st);
	in = st->keys != NULL;
	lh_unlock (st);
	return in;
}

/*
 * SPEC: C_InitPIN needs an SO session; the SO's keys carry who == CKU_SO.
 * A stale login (token re-initialised elsewhere) is dropped.
 */
CK_RV
lh_store_init_pin (lh_store *st, const uint8_t *pin, size_t len)
{
	uint8_t kdf[KDF_BLOB_LEN], wrapped[WRAP_LEN];
	lh_keys *k = NULL;
	lh_conn *c = NULL;
	CK_RV rv = CKR_ARGUMENTS_BAD;

	if (st == NULL)
		return rv;
	k = lh_keys_get (st);
	rv = CKR_USER_NOT_LOGGED_IN;
	if (k == NULL || k->who != CKU_SO)
		goto out;
	if ((rv = wrap_new (st, pin, len, CKU_USER, k->mk_version, k->mk,
	                    kdf, wrapped)) != CKR_OK ||
	    (rv = lh_conn_get (st, &c)) != CKR_OK ||
	    (rv = lh_txn_begin (c, true)) != CKR_OK)
		goto out;
	rv = lh_keys_current (c, k);
	if (rv == CKR_OK)
		rv = auth_put (c, CKU_USER, kdf, wrapped);
	rv = lh_txn_end (c, rv);
	if (rv == CKR_USER_NOT_LOGGED_IN)
		lh_keys_drop (st, k);
out:
	lh_conn_put (st, c);
	lh_keys_put (st, k);
	return rv;
}

/*
 * store.h.  Old PIN checked (and counted) exactly as in C_Login; then the
 * master key is rewrapped under the new PIN with the configured cost and a
 * new salt, and that user's count starts again from 0.  The login state of
 * the handle does not change.
 */
CK_RV
lh_store_set_pin (lh_store *st, CK_USER_TYPE who,
                  const uint8_t *old_pin, size_t old_len,
                  const uint8_t *new_pin, size_t new_len)
{
	uint8_t mk[LH_KEY_LEN], kdf[KDF_BLOB_LEN], wrapped[WRAP_LEN];
	int64_t mk_version = 0, now = 0;
	lh_conn *c = NULL;
	CK_RV rv;

	if (st == NULL)
		return CKR_ARGUMENTS_BAD;
	if (who != CKU_SO && who != CKU_USER)
		return CKR_USER_TYPE_INVALID;
	if ((rv = pin_verify (st, who, old_pin, old_len, mk,
	                      &mk_version)) != CKR_OK ||
	    (rv = wrap_new (st, new_pin, new_len, who, mk_version, mk,
	                    kdf, wrapped)) != CKR_OK ||
	    (rv = lh_conn_get (st, &c)) != CKR_OK ||
	    (rv = lh_txn_begin (c, true)) != CKR_OK)
		goto out;
	/* the old PIN was right for a master key that has since been replaced */
	rv = lh_meta_get_int (c, sql_mk_version, &now);
	if (rv == CKR_OK && now != mk_version)
		rv = CKR_PIN_INCORRECT;
	if (rv == CKR_OK)
		rv = auth_put (c, who, kdf, wrapped);
	rv = lh_txn_end (c, rv);
out:
	lh_conn_put (st, c);
	OPENSSL_cleanse (mk, sizeof mk);
	return rv;
}

/*
 * The write half of C_InitToken, in one transaction.  expect_version is
 * the mk_version the SO PIN was verified against (-1: the token was not
 * initialised); if the file moved on meanwhile, CKR_FUNCTION_CANCELED
 * asks the caller to start over.
 */
static CK_RV
init_token_write (lh_store *st, lh_conn *c, const uint8_t label[32],
                  const uint8_t kdf[KDF_BLOB_LEN], const uint8_t kek[LH_KEY_LEN],
                  int64_t expect_version)
{
	uint8_t mk[LH_KEY_LEN], wrapped[WRAP_LEN];
	auth_row r;
	CK_RV rv;

	if ((rv = lh_txn_begin (c, true)) != CKR_OK)
		return rv;
	if ((rv = auth_read (c, CKU_SO, &r)) != CKR_OK)
		goto out;
	if (r.initialized != (expect_version >= 0) ||
	    (r.initialized && r.mk_version != expect_version)) {
		rv = CKR_FUNCTION_CANCELED;
		goto out;
	}
	if ((rv = lh_random (st->libctx, mk, sizeof mk, true)) != CKR_OK ||
	    (rv = mk_wrap (st, kek, CKU_SO, r.mk_version + 1, mk,
	                   wrapped)) != CKR_OK ||
	    (rv = lh_sql_exec (c, sql_objects_del_all)) != CKR_OK ||
	    (rv = lh_sql_exec (c, sql_auth_del_user)) != CKR_OK ||
	    (rv = auth_put (c, CKU_SO, kdf, wrapped)) != CKR_OK ||
	    (rv = meta_set (c, "label", label, 32, 0)) != CKR_OK ||
	    (rv = meta_set (c, sql_mk_version, NULL, 0,
	                    r.mk_version + 1)) != CKR_OK ||
	    (rv = meta_set (c, sql_initialized, NULL, 0, 1)) != CKR_OK)
		goto out;
	rv = CKR_OK;
out:
	OPENSSL_cleanse (mk, sizeof mk);
	OPENSSL_cleanse (&r, sizeof r);
	return lh_txn_end (c, rv);
}

/*
 * SPEC: C_InitToken on an initialised token needs the current SO PIN,
 * and destroys every object and the user PIN.  The new master key is
 * wrapped under a fresh Argon2id run with the configured cost (the PIN is
 * the same, but its cost and salt are renewed like any PIN set); that run
 * comes after the SO PIN check, so a locked SO PIN costs no KDF work.  The
 * handle is logged out: keys of the old master key are useless now.
 */
CK_RV
lh_store_init_token (lh_store *st, const uint8_t label[32],
                     const uint8_t *so_pin, size_t so_len)
{
	uint8_t mk[LH_KEY_LEN], kdf[KDF_BLOB_LEN], kek[LH_KEY_LEN];
	bool have_kek = false;
	int64_t expect = -1;
	lh_conn *c = NULL;
	auth_row r;
	unsigned attempt;
	CK_RV rv = CKR_ARGUMENTS_BAD;

	if (st == NULL || label == NULL || (so_pin == NULL && so_len > 0))
		return rv;
	lh_store_logout (st);
	for (attempt = 0; attempt < CHANGED_RETRIES; attempt++) {
		if ((rv = lh_conn_get (st, &c)) != CKR_OK ||
		    (rv = lh_txn_begin (c, false)) != CKR_OK)
			break;
		rv = lh_txn_end (c, auth_read (c, CKU_SO, &r));
		lh_conn_put (st, c);
		c = NULL;
		if (rv != CKR_OK)
			break;
		expect = -1;
		if (r.initialized &&
		    (rv = pin_verify (st, CKU_SO, so_pin, so_len, mk,
		                      &expect)) != CKR_OK)
			break;
		OPENSSL_cleanse (mk, sizeof mk);
		if (!have_kek) {
			kdf_new (st, kdf, &rv);
			if (rv != CKR_OK ||
			    (rv = kdf_run (kdf, so_pin, so_len, kek)) != CKR_OK)
				break;
			have_kek = true;
		}
		if ((rv = lh_conn_get (st, &c)) != CKR_OK)
			break;
		rv = init_token_write (st, c, label, kdf, kek, expect);
		lh_conn_put (st, c);
		c = NULL;
		if (rv != CKR_FUNCTION_CANCELED)
			break;
	}
	if (rv == CKR_FUNCTION_CANCELED)
		rv = CKR_DEVICE_ERROR;
	lh_store_logout (st);
	OPENSSL_cleanse (kek, sizeof kek);
	OPENSSL_cleanse (mk, sizeof mk);
	OPENSSL_cleanse (&r, sizeof r);
	return rv;
}

/* ---- for lh_store_rekey (admin.c) ------------------------------------- */

/*
 * Rekey checks both PINs exactly as C_Login does and wraps the new master
 * key exactly as C_SetPIN does, so it calls the same code through these
 * thin wrappers rather than having a second copy of the PIN logic.
 */

/* pin_verify: counted PIN check; mk is cleansed by the caller. */
CK_RV
lh_pin_verify (lh_store *st, CK_USER_TYPE who, const uint8_t *pin,
               size_t len, uint8_t mk[LH_KEY_LEN], int64_t *mk_version)
{
	return pin_verify (st, who, pin, len, mk, mk_version);
}

/* keys_make: a key set with one reference for the caller. */
CK_RV
lh_keys_make (lh_store *st, CK_USER_TYPE who, uint32_t mk_version,
              const uint8_t mk[LH_KEY_LEN], lh_keys **out)
{
	return keys_make (st, who, mk_version, mk, out);
}

/* keys_install: the handle takes over the caller's reference to k. */
void
lh_keys_install (lh_store *st, lh_keys *k)
{
	keys_install (st, k);
}

/* wrap_new: configured cost, fresh salt; runs Argon2id once. */
CK_RV
lh_wrap_new (lh_store *st, const uint8_t *pin, size_t len, CK_USER_TYPE who,
             int64_t mk_version, const uint8_t mk[LH_KEY_LEN],
             uint8_t kdf[LH_KDF_BLOB_LEN], uint8_t wrapped[LH_WRAP_LEN])
{
	return wrap_new (st, pin, len, who, mk_version, mk, kdf, wrapped);
}
