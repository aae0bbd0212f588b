/*
 * slot.h - slots and the token files behind them.
 *
 * One slot per token file (the config's "token =" files and every *.db in
 * token_dir) plus one free slot whose file (token_dir/token-N.db, N the
 * smallest unused) does not exist yet, so C_InitToken can create a token.
 * A slot's id is a hash of its file path: the same in every process and
 * across restarts, and the free slot already carries the id its token
 * will have.
 */
#ifndef LH_SLOT_H
#define LH_SLOT_H

#include "pkcs11/state.h"

/* Rescan token_dir and add new slots.  Caller holds the module lock. */
CK_RV lh_slots_refresh_locked (void);

/* Look a slot up (rescanning once if unknown).  Module lock held. */
CK_RV lh_slot_get_locked (CK_SLOT_ID id, lh_slot **out);
/* The same, taking the module lock.  CKR_SLOT_ID_INVALID */
CK_RV lh_slot_get (CK_SLOT_ID id, lh_slot **out);

/* Does the slot's file exist?  (a present token, maybe uninitialized) */
bool lh_slot_has_file (const lh_slot *slot);

/*
 * The slot's open store, opening it on first use (no lock held while
 * opening).  With create, a missing file is created (C_InitToken).
 * Call without the module lock.
 */
CK_RV lh_slot_store (lh_slot *slot, bool create, lh_store **out);

/*
 * Is the slot's file a token another process is creating right now: empty,
 * or an SQLite file whose header does not carry our application id yet?
 * Such a file is reported as an uninitialized token, not as an error.
 */
bool lh_slot_being_created (const lh_slot *slot);

/* Free every slot (C_Finalize). */
void lh_slots_free (void);

#endif
