/*
 * session.c - opening, finding and closing sessions; session states.
 */
#include "pkcs11/lh.h"
#include "pkcs11/session.h"
#include "pkcs11/object.h"
#include "pkcs11/lock.h"
#include "pkcs11/op.h"

#include <stdlib.h>

static unsigned
bucket (CK_SESSION_HANDLE hs)
{
	return (unsigned)(hs % LH_SESSION_BUCKETS);
}

CK_RV
lh_session_open_locked (lh_slot *slot, CK_FLAGS flags, CK_SESSION_HANDLE *out)
{
	lh_session *s = calloc (1, sizeof *s);
	CK_RV rv;

	if (!s)
		return CKR_HOST_MEMORY;
	if ((rv = lh_mutex_new (&s->op_lock)) != CKR_OK) {
		free (s);
		return rv;
	}
	s->handle = ++lh_g.next_session;
	s->slot = slot;
	s->flags = flags;
	s->refs = 1;                        /* the table's reference */
	s->hnext = lh_g.sessions[bucket (s->handle)];
	lh_g.sessions[bucket (s->handle)] = s;
	slot->sessions++;
	if (flags & CKF_RW_SESSION)
		slot->rw_sessions++;
	*out = s->handle;
	return CKR_OK;
}

lh_session *
lh_session_lookup_locked (CK_SESSION_HANDLE hs)
{
	lh_session *s;

	for (s = lh_g.sessions[bucket (hs)]; s; s = s->hnext)
		if (s->handle == hs)
			return s;
	return NULL;
}

void
lh_slot_logout_locked (lh_slot *slot)
{
	if (slot->user == LH_NOBODY)
		return;
	slot->user = LH_NOBODY;
	slot->epoch++;
	lh_key_cache_flush_locked (slot);
	if (slot->store)
		lh_store_logout (slot->store);
	/* SPEC: C_Logout: all private session objects are destroyed */
	lh_sobj_destroy_matching_locked (slot, 0, true);
}

void
lh_session_close_locked (lh_session *s)
{
	lh_session **pp;

	if (s->closed)
		return;
	for (pp = &lh_g.sessions[bucket (s->handle)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	s->closed = true;
	s->slot->sessions--;
	if (s->flags & CKF_RW_SESSION)
		s->slot->rw_sessions--;
	/* SPEC: session objects are destroyed when their session closes */
	lh_sobj_destroy_matching_locked (s->slot, s->handle, false);
	/* SPEC: closing the last session logs the user out */
	if (s->slot->sessions == 0)
		lh_slot_logout_locked (s->slot);
	lh_session_unref_locked (s);
}

void
lh_session_unref_locked (lh_session *s)
{
	if (--s->refs > 0)
		return;
	lh_find_free (s->find);
	for (unsigned k = 0; k < LH_OP_KINDS; k++)
		lh_op_end (s, (lh_op_kind)k);
	lh_mutex_free (s->op_lock);
	free (s);
}

void
lh_session_close_all_locked (lh_slot *slot)
{
	lh_session *s, *next;
	unsigned b;

	for (b = 0; b < LH_SESSION_BUCKETS; b++) {
		for (s = lh_g.sessions[b]; s; s = next) {
			next = s->hnext;
			if (!slot || s->slot == slot)
				lh_session_close_locked (s);
		}
	}
}

CK_STATE
lh_session_state_locked (const lh_session *s)
{
	bool rw = lh_session_rw (s);

	switch (s->slot->user) {
	case CKU_SO:
		return CKS_RW_SO_FUNCTIONS;
	case CKU_USER:
		return rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
	default:
		return rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
	}
}
