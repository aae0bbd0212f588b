/*
 * key.c - keys loaded for use, and the per-process key cache.
 *
 * A token key is read from the store, its sealed values opened and its
 * EVP_PKEY built once, then kept here so that C_SignInit costs a hash
 * look-up, not a SQLite read, two AES-GCM opens and a key parse.  The
 * cache is per slot and is flushed whenever the store reports a change
 * by any process (PRAGMA data_version, one cheap query), and at logout,
 * so a key another process changed or destroyed is never used stale.
 *
 * Locking: the cache table is guarded by the module lock, which is held
 * only to look up or insert; keys are immutable and reference counted,
 * so the cryptography runs with no lock held.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"
#include "pkcs11/object.h"
#include "pkcs11/slot.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#define LH_KEY_CACHE_SLOTS 64   /* per slot; a small direct-mapped table */

typedef struct {
	CK_OBJECT_HANDLE handle;
	lh_key *key;
} cache_entry;

/* One cache per slot, made on first use; guarded by the module lock. */
typedef struct lh_key_cache {
	cache_entry e[LH_KEY_CACHE_SLOTS];
} lh_key_cache;

static lh_key_cache *caches[0x8000];   /* by slot index */

lh_key *
lh_key_ref (lh_key *k)
{
	__atomic_add_fetch (&k->refs, 1, __ATOMIC_RELAXED);
	return k;
}

void
lh_key_unref (lh_key *k)
{
	if (!k || __atomic_sub_fetch (&k->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	EVP_PKEY_free (k->pkey);
	lh_attrs_free (&k->attrs);
	OPENSSL_cleanse (k, sizeof *k);
	free (k);
}

void
lh_op_free (lh_op *op)
{
	lh_key *k;

	if (!op)
		return;
	k = op->key;
	if (op->ops && op->ops->free)
		op->ops->free (op);
	lh_key_unref (k);
}

CK_RV
lh_key_from_attrs (const lh_attrs *attrs, lh_key **out)
{
	const lh_sattr *v;
	lh_key *k;
	CK_RV rv = CKR_HOST_MEMORY;

	if (!(k = calloc (1, sizeof *k)))
		return rv;
	k->refs = 1;
	if ((rv = lh_attrs_copy (attrs, &k->attrs)) != CKR_OK)
		goto fail;
	rv = CKR_KEY_TYPE_INCONSISTENT;
	if (!lh_attrs_ulong (&k->attrs, CKA_CLASS, &k->cls) ||
	    !lh_attrs_ulong (&k->attrs, CKA_KEY_TYPE, &k->kt))
		goto fail;
	k->local = lh_attrs_bool (&k->attrs, CKA_LOCAL, false);
	switch (k->cls) {
	case CKO_SECRET_KEY:
		v = lh_attrs_get (&k->attrs, CKA_VALUE);
		if (!v || (v->flags & LH_SATTR_UNAVAILABLE))
			goto fail;
		k->value = v->value;
		k->value_len = v->len;
		break;
	case CKO_PUBLIC_KEY:
	case CKO_PRIVATE_KEY:
		if (k->kt == CKK_RSA)
			rv = lh_rsa_pkey (&k->attrs, k->cls, &k->pkey);
		else
			rv = lh_ec_pkey (&k->attrs, k->cls, k->kt, &k->pkey);
		if (rv != CKR_OK)
			goto fail;
		break;
	default:
		goto fail;
	}
	*out = k;
	return CKR_OK;
fail:
	lh_key_unref (k);
	return rv;
}

/* Drop every cached key of slot.  Module lock held. */
void
lh_key_cache_flush_locked (lh_slot *slot)
{
	lh_key_cache *c = caches[slot->index];
	size_t i;

	if (!c)
		return;
	for (i = 0; i < LH_KEY_CACHE_SLOTS; i++) {
		lh_key_unref (c->e[i].key);
		c->e[i].key = NULL;
		c->e[i].handle = 0;
	}
}

void
lh_key_cache_flush (lh_slot *slot)
{
	lh_state_lock ();
	lh_key_cache_flush_locked (slot);
	lh_state_unlock ();
}

void
lh_key_cache_free_locked (void)
{
	size_t i, j;

	for (i = 0; i < LH_ARRAY_SIZE (caches); i++) {
		if (!caches[i])
			continue;
		for (j = 0; j < LH_KEY_CACHE_SLOTS; j++)
			lh_key_unref (caches[i]->e[j].key);
		free (caches[i]);
		caches[i] = NULL;
	}
}

static size_t
cache_index (CK_OBJECT_HANDLE h)
{
	return (size_t)((h ^ (h >> 40)) % LH_KEY_CACHE_SLOTS);
}

/* A cached key for h, with a reference, or NULL. */
static lh_key *
cache_get (lh_slot *slot, CK_OBJECT_HANDLE h)
{
	lh_key_cache *c;
	lh_key *k = NULL;
	cache_entry *e;

	lh_state_lock ();
	c = caches[slot->index];
	if (c) {
		e = &c->e[cache_index (h)];
		if (e->key && e->handle == h)
			k = lh_key_ref (e->key);
	}
	lh_state_unlock ();
	return k;
}

static void
cache_put (lh_slot *slot, CK_OBJECT_HANDLE h, lh_key *k)
{
	lh_key_cache *c;
	cache_entry *e;
	lh_key *old = NULL;

	lh_state_lock ();
	c = caches[slot->index];
	if (!c)
		c = caches[slot->index] = calloc (1, sizeof *c);
	if (c) {
		e = &c->e[cache_index (h)];
		old = e->key;
		e->key = lh_key_ref (k);
		e->handle = h;
	}
	lh_state_unlock ();
	lh_key_unref (old);
}

/*
 * Is it time to ask the store whether another process changed the file?
 * Asking costs a read transaction; the answer is trusted for
 * LH_KEY_RECHECK_NS, so a small operation is not dominated by it.
 */
static bool
recheck_due (lh_slot *slot)
{
	static uint64_t last[0x8000];    /* by slot index; module lock */
	struct timespec ts;
	uint64_t now;
	bool due;

	clock_gettime (CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	lh_state_lock ();
	due = now - last[slot->index] >= LH_KEY_RECHECK_NS || last[slot->index] == 0;
	if (due)
		last[slot->index] = now;
	lh_state_unlock ();
	return due;
}

CK_RV
lh_key_get (lh_session *s, CK_OBJECT_HANDLE h, lh_key **out)
{
	lh_object o;
	lh_key *k;
	bool changed = true;
	CK_RV rv;

	if (!(h & LH_SOBJ_BIT) && s->slot->store) {
		changed = false;
		if (recheck_due (s->slot) &&
		    (lh_store_changed (s->slot->store, &changed) != CKR_OK || changed)) {
			lh_key_cache_flush (s->slot);
			changed = true;
		}
	}
	/*
	 * A cached key is valid while nothing changed the file and the
	 * handle still resolves for this session (visibility, login epoch):
	 * the cache holds only what lh_object_load allowed before.
	 */
	if (!(h & LH_SOBJ_BIT) && !changed && (k = cache_get (s->slot, h))) {
		if (!k->attrs.private_obj || lh_object_visible_private (s, h)) {
			*out = k;
			return CKR_OK;
		}
		lh_key_unref (k);
		return CKR_KEY_HANDLE_INVALID;
	}
	rv = lh_object_load (s, h, &o);
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		return CKR_KEY_HANDLE_INVALID;
	if (rv != CKR_OK)
		return rv;
	o.attrs.private_obj = o.private_obj;
	rv = lh_key_from_attrs (&o.attrs, &k);
	lh_object_clear (&o);
	if (rv != CKR_OK)
		return rv == CKR_KEY_TYPE_INCONSISTENT ? CKR_KEY_HANDLE_INVALID : rv;
	k->handle = h;
	k->token = !(h & LH_SOBJ_BIT);
	if (k->token)
		cache_put (s->slot, h, k);
	*out = k;
	return CKR_OK;
}

CK_RV
lh_key_to_pkcs8 (const lh_key *k, uint8_t **der, size_t *len)
{
	PKCS8_PRIV_KEY_INFO *p8;
	unsigned char *buf = NULL;
	int n;

	if (!k->pkey || k->cls != CKO_PRIVATE_KEY)
		return CKR_KEY_NOT_WRAPPABLE;
	p8 = EVP_PKEY2PKCS8 (k->pkey);
	if (!p8)
		return lh_ossl_rv (CKR_KEY_NOT_WRAPPABLE);
	n = i2d_PKCS8_PRIV_KEY_INFO (p8, &buf);
	PKCS8_PRIV_KEY_INFO_free (p8);
	if (n <= 0)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	/* OpenSSL allocated it: the caller frees it with OPENSSL_clear_free */
	*der = buf;
	*len = (size_t)n;
	return CKR_OK;
}

CK_RV
lh_key_attrs_from_pkcs8 (const uint8_t *der, size_t len, CK_KEY_TYPE expect,
                         lh_attrs *out)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8;
	EVP_PKEY *pkey = NULL;
	lh_attrs pub = { 0 };
	CK_RV rv = CKR_WRAPPED_KEY_INVALID;

	memset (out, 0, sizeof *out);
	p8 = d2i_PKCS8_PRIV_KEY_INFO (NULL, &p, (long)len);
	if (!p8 || p != der + len)
		goto out;
	pkey = EVP_PKCS82PKEY_ex (p8, lh_g.libctx, NULL);
	if (!pkey)
		goto out;
	/* the blob says what the key is; it must be what the template says */
	if (EVP_PKEY_is_a (pkey, "RSA"))
		rv = expect == CKK_RSA ? lh_rsa_attrs (pkey, &pub, out) :
		     CKR_TEMPLATE_INCONSISTENT;
	else if (expect == CKK_EC || expect == CKK_EC_EDWARDS ||
	         expect == CKK_EC_MONTGOMERY)
		rv = lh_ec_attrs (pkey, expect, &pub, out);
	else
		rv = CKR_TEMPLATE_INCONSISTENT;
out:
	lh_attrs_free (&pub);
	EVP_PKEY_free (pkey);
	PKCS8_PRIV_KEY_INFO_free (p8);
	if (rv != CKR_OK)
		lh_attrs_free (out);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}
