/*
 * object.h - objects as the module sees them, token or session alike.
 *
 * An lh_object is a loaded, private copy of one object's attributes,
 * taken with its visibility checked; nothing holds a lock while it is
 * used.  Handles (64-bit CK_ULONG):
 *   token objects   bits 48..62 slot index + 1, bits 40..47 login epoch
 *                   (private objects; 0 for public ones), bits 0..39 the
 *                   store id
 *   session objects (1 << 63) | counter
 * so a handle names its slot, token handles are the same in every session
 * of the application, and handles of private objects die with the login
 * that found them (SPEC: C_Logout: "handles to private objects become
 * invalid, even if a user is later logged back in"; the epoch repeats
 * after 255 logouts).
 */
#ifndef LH_OBJECT_H
#define LH_OBJECT_H

#include "pkcs11/state.h"

typedef struct {
	lh_attrs attrs;           /* owned, sorted by type */
	bool token;
	bool private_obj;
	lh_slot *slot;
	lh_oid oid;               /* token objects */
	CK_OBJECT_HANDLE handle;
} lh_object;

#define LH_SOBJ_BIT ((CK_OBJECT_HANDLE)1 << 63)

/* Attribute look-ups on a sorted set. */
const lh_sattr *lh_attrs_get (const lh_attrs *a, CK_ATTRIBUTE_TYPE type);
bool lh_attrs_bool (const lh_attrs *a, CK_ATTRIBUTE_TYPE type, bool dflt);
bool lh_attrs_ulong (const lh_attrs *a, CK_ATTRIBUTE_TYPE type, CK_ULONG *out);
CK_RV lh_attrs_copy (const lh_attrs *from, lh_attrs *to);

/*
 * Load the object behind handle h as session s sees it.
 *   CKR_OBJECT_HANDLE_INVALID  no such object, other slot, or private and
 *                              no user logged in
 *   CKR_DEVICE_ERROR           the stored object failed an integrity check
 */
CK_RV lh_object_load (lh_session *s, CK_OBJECT_HANDLE h, lh_object *out);
void lh_object_clear (lh_object *o);

/*
 * May session s write (create, change, destroy) an object that is token /
 * private?  CKR_SESSION_READ_ONLY, CKR_USER_NOT_LOGGED_IN.
 */
CK_RV lh_object_may_write (lh_session *s, bool token, bool private_obj);

/* Store a new object built from attrs (taking ownership of attrs). */
CK_RV lh_object_add (lh_session *s, lh_attrs *attrs, CK_OBJECT_HANDLE *out);
/* Replace the attributes of an existing object (takes attrs). */
CK_RV lh_object_replace (lh_session *s, lh_object *o, lh_attrs *attrs);
CK_RV lh_object_destroy (lh_session *s, lh_object *o);

/* Would handle h of a private token object still be valid for s (user
 * logged in, same login epoch)?  No store access. */
bool lh_object_visible_private (lh_session *s, CK_OBJECT_HANDLE h);

/* Is attribute a of object o hidden (sensitive or unextractable)? */
bool lh_object_hides (const lh_attrs *attrs, const lh_sattr *a);

/* Session objects.  Module lock held.  owner 0: any owner. */
void lh_sobj_destroy_matching_locked (lh_slot *slot, CK_SESSION_HANDLE owner,
                                      bool private_only);

/* Searches (C_FindObjects*). */
CK_RV lh_find_start (lh_session *s, const lh_attrs *match, lh_find **out);
CK_RV lh_find_next (lh_session *s, lh_find *f, CK_OBJECT_HANDLE *out,
                    size_t max, size_t *count);
void lh_find_free (lh_find *f);

#endif
