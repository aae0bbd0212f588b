/*
 * object.c - loading, storing and searching objects for a session.
 *
 * Token objects are read from the store on every use, so a change made by
 * another process is seen at once and nothing is loaded at start-up.
 * Session objects live in one list under the module lock; a caller gets
 * a private copy of their attributes and works on it without the lock.
 */
#include "pkcs11/lh.h"
#include "pkcs11/object.h"
#include "pkcs11/attrs.h"
#include "pkcs11/slot.h"
#include "pkcs11/template.h"
#include "pkcs11/session.h"
#include "pkcs11/mech.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define LH_OID_MASK (((CK_OBJECT_HANDLE)1 << 40) - 1)
#define LH_SLOT_SHIFT 48
#define LH_EPOCH_SHIFT 40

/* The epoch tag in handles of private objects: 1..255, never 0. */
static unsigned
epoch_tag (lh_slot *slot)
{
	unsigned e;

	lh_state_lock ();
	e = slot->epoch % 255 + 1;
	lh_state_unlock ();
	return e;
}

/* Is the user logged in on slot? */
static bool
epoch_user (lh_slot *slot)
{
	bool u;

	lh_state_lock ();
	u = slot->user == CKU_USER;
	lh_state_unlock ();
	return u;
}

bool
lh_object_visible_private (lh_session *s, CK_OBJECT_HANDLE h)
{
	CK_OBJECT_HANDLE tag = (h >> LH_EPOCH_SHIFT) & 0xff;

	return epoch_user (s->slot) && tag == epoch_tag (s->slot);
}

static CK_OBJECT_HANDLE
token_handle (lh_slot *slot, lh_oid oid, bool private_obj)
{
	CK_OBJECT_HANDLE h = ((CK_OBJECT_HANDLE)slot->index + 1) << LH_SLOT_SHIFT | oid;

	if (private_obj)
		h |= (CK_OBJECT_HANDLE)epoch_tag (slot) << LH_EPOCH_SHIFT;
	return h;
}

struct lh_find {
	lh_attrs match;           /* the search template (internal form) */
	CK_OBJECT_HANDLE *sh;     /* matching session objects */
	size_t nsh, spos;
	lh_oid *cand;             /* token object candidates from the index */
	size_t ncand, cpos;
	bool index_only;          /* every template attribute is indexed */
};

const lh_sattr *
lh_attrs_get (const lh_attrs *a, CK_ATTRIBUTE_TYPE type)
{
	size_t lo = 0, hi = a->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (a->a[mid].type == type)
			return &a->a[mid];
		if (a->a[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool
lh_attrs_bool (const lh_attrs *a, CK_ATTRIBUTE_TYPE type, bool dflt)
{
	const lh_sattr *s = lh_attrs_get (a, type);

	if (!s || s->len != 1 || !s->value)
		return dflt;
	return ((const uint8_t *)s->value)[0] != CK_FALSE;
}

bool
lh_attrs_ulong (const lh_attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG *out)
{
	const lh_sattr *s = lh_attrs_get (a, type);

	if (!s || s->len != sizeof (CK_ULONG) || !s->value)
		return false;
	memcpy (out, s->value, sizeof *out);
	return true;
}

CK_RV
lh_attrs_copy (const lh_attrs *from, lh_attrs *to)
{
	size_t i;

	memset (to, 0, sizeof *to);
	to->private_obj = from->private_obj;
	if (!from->n)
		return CKR_OK;
	if (!(to->a = calloc (from->n, sizeof *to->a)))
		return CKR_HOST_MEMORY;
	for (i = 0; i < from->n; i++) {
		to->a[i] = from->a[i];
		to->a[i].value = NULL;
		to->n = i + 1;
		if (from->a[i].len) {
			if (!(to->a[i].value = OPENSSL_malloc (from->a[i].len))) {
				lh_attrs_free (to);
				return CKR_HOST_MEMORY;
			}
			memcpy (to->a[i].value, from->a[i].value, from->a[i].len);
		}
	}
	return CKR_OK;
}

bool
lh_object_hides (const lh_attrs *attrs, const lh_sattr *a)
{
	const lh_attr_rule *r;
	unsigned cls;
	CK_KEY_TYPE kt;

	if (a->flags & LH_SATTR_UNAVAILABLE)
		return true;
	lh_template_kind (attrs, &cls, &kt);
	r = lh_attr_rule_find (cls, kt, a->type);
	if (!r || !(r->flags & LH_A_SENSITIVE))
		return false;
	/* SPEC: table 10 footnote 7: sensitive or unextractable -> hidden */
	return lh_attrs_bool (attrs, CKA_SENSITIVE, true) ||
	       !lh_attrs_bool (attrs, CKA_EXTRACTABLE, false);
}

void
lh_object_clear (lh_object *o)
{
	lh_attrs_free (&o->attrs);
	memset (o, 0, sizeof *o);
}

static CK_USER_TYPE
slot_user (lh_slot *slot)
{
	CK_USER_TYPE u;

	lh_state_lock ();
	u = slot->user;
	lh_state_unlock ();
	return u;
}

static lh_sobj *
sobj_find_locked (CK_OBJECT_HANDLE h)
{
	lh_sobj *o;

	for (o = lh_g.sobjs; o; o = o->next)
		if (o->handle == h)
			return o;
	return NULL;
}

static CK_RV
load_session_object (lh_session *s, CK_OBJECT_HANDLE h, lh_object *out)
{
	lh_sobj *o;
	CK_RV rv = CKR_OBJECT_HANDLE_INVALID;

	lh_state_lock ();
	o = sobj_find_locked (h);
	if (o && o->slot == s->slot &&
	    (!o->private_obj || s->slot->user == CKU_USER)) {
		rv = lh_attrs_copy (&o->attrs, &out->attrs);
		out->private_obj = o->private_obj;
	}
	lh_state_unlock ();
	return rv;
}

static CK_RV
load_token_object (lh_session *s, lh_oid oid, lh_object *out)
{
	lh_store *st;
	CK_RV rv;

	if ((rv = lh_slot_store (s->slot, false, &st)) != CKR_OK)
		return rv;
	rv = lh_store_obj_get (st, oid, &out->attrs);
	if (rv == CKR_USER_NOT_LOGGED_IN)
		return CKR_OBJECT_HANDLE_INVALID;
	if (rv != CKR_OK)
		return rv;
	out->private_obj = out->attrs.private_obj;
	/* SPEC: private objects are invisible unless the user is logged in */
	if (out->private_obj && slot_user (s->slot) != CKU_USER) {
		lh_attrs_free (&out->attrs);
		return CKR_OBJECT_HANDLE_INVALID;
	}
	return CKR_OK;
}

CK_RV
lh_object_load (lh_session *s, CK_OBJECT_HANDLE h, lh_object *out)
{
	CK_RV rv;

	memset (out, 0, sizeof *out);
	out->slot = s->slot;
	out->handle = h;
	if (h & LH_SOBJ_BIT)
		return load_session_object (s, h, out);
	if ((h >> LH_SLOT_SHIFT) != (CK_OBJECT_HANDLE)s->slot->index + 1 ||
	    !(h & LH_OID_MASK))
		return CKR_OBJECT_HANDLE_INVALID;
	out->token = true;
	out->oid = h & LH_OID_MASK;
	rv = load_token_object (s, out->oid, out);
	if (rv != CKR_OK) {
		memset (&out->attrs, 0, sizeof out->attrs);
		return rv;
	}
	/* a handle from another login, or a public handle dressed up */
	if (token_handle (s->slot, out->oid, out->private_obj) != h) {
		lh_object_clear (out);
		return CKR_OBJECT_HANDLE_INVALID;
	}
	return CKR_OK;
}

CK_RV
lh_object_may_write (lh_session *s, bool token, bool private_obj)
{
	CK_USER_TYPE user = slot_user (s->slot);

	/* SPEC: 5.6: token objects cannot be written in a read-only session */
	if (token && !lh_session_rw (s))
		return CKR_SESSION_READ_ONLY;
	if (private_obj && user != CKU_USER)
		return CKR_USER_NOT_LOGGED_IN;
	/* litehsm: every token object carries a MAC under the master key */
	if (token && user == LH_NOBODY)
		return CKR_USER_NOT_LOGGED_IN;
	return CKR_OK;
}

/* Mark the attributes store/ must seal even in a public object. */
static void
mark_seal (lh_attrs *a)
{
	const lh_attr_rule *r;
	unsigned cls;
	CK_KEY_TYPE kt;
	size_t i;

	lh_template_kind (a, &cls, &kt);
	for (i = 0; i < a->n; i++) {
		r = lh_attr_rule_find (cls, kt, a->a[i].type);
		a->a[i].flags = (r && (r->flags & LH_A_SEAL)) ? LH_SATTR_SEAL : 0;
	}
}

CK_RV
lh_object_add (lh_session *s, lh_attrs *attrs, CK_OBJECT_HANDLE *out)
{
	bool token = lh_attrs_bool (attrs, CKA_TOKEN, false);
	bool priv = lh_attrs_bool (attrs, CKA_PRIVATE, false);
	lh_store *st;
	lh_sobj *o;
	lh_oid oid;
	CK_RV rv;

	if ((rv = lh_object_may_write (s, token, priv)) != CKR_OK)
		goto out;
	mark_seal (attrs);
	attrs->private_obj = priv;
	if (token) {
		if ((rv = lh_slot_store (s->slot, false, &st)) != CKR_OK ||
		    (rv = lh_store_obj_add (st, priv, attrs->a, attrs->n, &oid)) != CKR_OK)
			goto out;
		if (oid > LH_OID_MASK) {
			rv = CKR_DEVICE_MEMORY;   /* 2^40 objects: not in our lifetime */
			goto out;
		}
		*out = token_handle (s->slot, oid, priv);
		goto out;
	}
	rv = CKR_HOST_MEMORY;
	if (!(o = calloc (1, sizeof *o)))
		goto out;
	o->attrs = *attrs;
	memset (attrs, 0, sizeof *attrs);
	o->slot = s->slot;
	o->owner = s->handle;
	o->private_obj = priv;
	lh_state_lock ();
	o->handle = LH_SOBJ_BIT | ++lh_g.next_sobj;
	o->next = lh_g.sobjs;
	lh_g.sobjs = o;
	lh_state_unlock ();
	*out = o->handle;
	rv = CKR_OK;
out:
	lh_attrs_free (attrs);
	return rv;
}

CK_RV
lh_object_replace (lh_session *s, lh_object *o, lh_attrs *attrs)
{
	bool priv = lh_attrs_bool (attrs, CKA_PRIVATE, false);
	lh_store *st;
	lh_sobj *so;
	lh_attrs old;
	CK_RV rv;

	if ((rv = lh_object_may_write (s, o->token, o->private_obj || priv)) != CKR_OK)
		goto out;
	mark_seal (attrs);
	if (o->token) {
		if ((rv = lh_slot_store (s->slot, false, &st)) == CKR_OK)
			rv = lh_store_obj_update (st, o->oid, priv, attrs->a, attrs->n);
		lh_key_cache_flush (s->slot);   /* our own change counts at once */
		goto out;
	}
	rv = CKR_OBJECT_HANDLE_INVALID;
	lh_state_lock ();
	so = sobj_find_locked (o->handle);
	if (so) {
		old = so->attrs;
		so->attrs = *attrs;
		so->private_obj = priv;
		memset (attrs, 0, sizeof *attrs);
		*attrs = old;       /* freed below, outside nothing else */
		rv = CKR_OK;
	}
	lh_state_unlock ();
out:
	lh_attrs_free (attrs);
	return rv;
}

static void
sobj_free (lh_sobj *o)
{
	lh_attrs_free (&o->attrs);
	free (o);
}

CK_RV
lh_object_destroy (lh_session *s, lh_object *o)
{
	lh_sobj **pp, *dead = NULL;
	lh_store *st;
	CK_RV rv;

	if ((rv = lh_object_may_write (s, o->token, o->private_obj)) != CKR_OK)
		return rv;
	if (o->token) {
		if ((rv = lh_slot_store (s->slot, false, &st)) != CKR_OK)
			return rv;
		rv = lh_store_obj_del (st, o->oid);
		lh_key_cache_flush (s->slot);
		return rv;
	}
	lh_state_lock ();
	for (pp = &lh_g.sobjs; *pp; pp = &(*pp)->next) {
		if ((*pp)->handle == o->handle) {
			dead = *pp;
			*pp = dead->next;
			break;
		}
	}
	lh_state_unlock ();
	if (!dead)
		return CKR_OBJECT_HANDLE_INVALID;
	sobj_free (dead);
	return CKR_OK;
}

void
lh_sobj_destroy_matching_locked (lh_slot *slot, CK_SESSION_HANDLE owner,
                                 bool private_only)
{
	lh_sobj **pp = &lh_g.sobjs, *o;

	while ((o = *pp) != NULL) {
		if ((!slot || o->slot == slot) && (!owner || o->owner == owner) &&
		    (!private_only || o->private_obj)) {
			*pp = o->next;
			sobj_free (o);
		} else {
			pp = &o->next;
		}
	}
}

/* Does an object match every attribute of a search template? */
static bool
matches (const lh_attrs *obj, const lh_attrs *match)
{
	const lh_sattr *a;
	size_t i;

	for (i = 0; i < match->n; i++) {
		a = lh_attrs_get (obj, match->a[i].type);
		/* a hidden value never matches: no search oracle on secrets */
		if (!a || lh_object_hides (obj, a) || a->len != match->a[i].len ||
		    (a->len && memcmp (a->value, match->a[i].value, a->len) != 0))
			return false;
	}
	return true;
}

static CK_RV
find_session_objects_locked (lh_session *s, lh_find *f)
{
	CK_OBJECT_HANDLE *grown;
	lh_sobj *o;

	for (o = lh_g.sobjs; o; o = o->next) {
		if (o->slot != s->slot || (o->private_obj && s->slot->user != CKU_USER) ||
		    !matches (&o->attrs, &f->match))
			continue;
		grown = realloc (f->sh, (f->nsh + 1) * sizeof *grown);
		if (!grown)
			return CKR_HOST_MEMORY;
		f->sh = grown;
		f->sh[f->nsh++] = o->handle;
	}
	return CKR_OK;
}

CK_RV
lh_find_start (lh_session *s, const lh_attrs *match, lh_find **out)
{
	lh_find *f = calloc (1, sizeof *f);
	bool token_ok = lh_attrs_bool (match, CKA_TOKEN, true);
	bool session_ok = !lh_attrs_bool (match, CKA_TOKEN, false);
	bool user;
	lh_store *st;
	size_t i;
	CK_RV rv;

	if (!f)
		return CKR_HOST_MEMORY;
	if ((rv = lh_attrs_copy (match, &f->match)) != CKR_OK)
		goto fail;
	f->index_only = true;
	for (i = 0; i < match->n; i++)
		f->index_only = f->index_only && lh_store_indexed (match->a[i].type);
	lh_state_lock ();
	user = s->slot->user == CKU_USER;
	rv = session_ok ? find_session_objects_locked (s, f) : CKR_OK;
	lh_state_unlock ();
	if (rv != CKR_OK)
		goto fail;
	if (token_ok) {
		if ((rv = lh_slot_store (s->slot, false, &st)) != CKR_OK ||
		    (rv = lh_store_obj_find (st, f->match.a, f->match.n, user,
		                             &f->cand, &f->ncand)) != CKR_OK)
			goto fail;
	}
	*out = f;
	return CKR_OK;
fail:
	lh_find_free (f);
	return rv;
}

CK_RV
lh_find_next (lh_session *s, lh_find *f, CK_OBJECT_HANDLE *out, size_t max,
              size_t *count)
{
	lh_object o;
	lh_store *st;
	lh_oid oid;
	bool priv, user = epoch_user (s->slot);
	size_t n = 0;
	CK_RV rv;

	while (n < max && f->spos < f->nsh)
		out[n++] = f->sh[f->spos++];
	/* Token candidates are checked lazily, as the caller pulls them. */
	while (n < max && f->cpos < f->ncand) {
		oid = f->cand[f->cpos++];
		memset (&o, 0, sizeof o);
		rv = load_token_object (s, oid, &o);
		if (rv == CKR_OK) {
			if (matches (&o.attrs, &f->match))
				out[n++] = token_handle (s->slot, oid, o.private_obj);
			lh_object_clear (&o);
		} else if (rv == CKR_DEVICE_ERROR && f->index_only &&
		           lh_slot_store (s->slot, false, &st) == CKR_OK &&
		           lh_store_obj_is_private (st, oid, &priv) == CKR_OK &&
		           (!priv || user)) {
			/*
			 * A damaged object the index vouches for is listed, so
			 * the caller learns it exists; every use of it then
			 * fails with CKR_DEVICE_ERROR.  Vanished ones are not.
			 */
			out[n++] = token_handle (s->slot, oid, priv);
		}
	}
	*count = n;
	return CKR_OK;
}

void
lh_find_free (lh_find *f)
{
	if (!f)
		return;
	lh_attrs_free (&f->match);
	free (f->sh);
	free (f->cand);
	free (f);
}
