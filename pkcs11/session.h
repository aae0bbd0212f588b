/*
 * session.h - the session table.
 *
 * Sessions live in a small hash table keyed by handle.  Handles count up
 * from 1 and are never reused within a C_Initialize.  Closing removes a
 * session from the table at once; its memory goes when the last caller
 * inside it leaves (refs).
 */
#ifndef LH_SESSION_H
#define LH_SESSION_H

#include "pkcs11/state.h"

CK_RV lh_session_open_locked (lh_slot *slot, CK_FLAGS flags,
                              CK_SESSION_HANDLE *out);
lh_session *lh_session_lookup_locked (CK_SESSION_HANDLE hs);

/* Remove from the table, destroy its session objects, and log the
 * application out of the token if it was the slot's last session. */
void lh_session_close_locked (lh_session *s);
void lh_session_unref_locked (lh_session *s);

/* Close every session (C_Finalize) or every session of slot. */
void lh_session_close_all_locked (lh_slot *slot);

/* The CKS_* state of a session, from its flags and the slot's login. */
CK_STATE lh_session_state_locked (const lh_session *s);

/* Log the application out of slot: wipe the master key, destroy private
 * session objects (SPEC: C_Logout).  Module lock held. */
void lh_slot_logout_locked (lh_slot *slot);

static inline bool
lh_session_rw (const lh_session *s)
{
	return (s->flags & CKF_RW_SESSION) != 0;
}

#endif
