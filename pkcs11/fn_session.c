/*
 * fn_session.c - session management (PKCS#11 2.40 section 5.6):
 * C_OpenSession, C_CloseSession, C_CloseAllSessions, C_GetSessionInfo,
 * C_GetOperationState, C_SetOperationState, C_Login, C_Logout.
 *
 * Login state belongs to the application (this process) and the token,
 * not to a session: every session of the slot sees it.  The PIN KDF runs
 * with no lock held.
 */
#include "pkcs11/lh.h"
#include "pkcs11/fn.h"
#include "pkcs11/state.h"
#include "pkcs11/session.h"
#include "pkcs11/slot.h"
#include "pkcs11/op.h"

#include <string.h>

/* Sessions are only for initialized tokens. */
static CK_RV
token_ready (lh_slot *s)
{
	lh_store_info si;
	lh_store *st;
	CK_RV rv;

	if (!lh_slot_has_file (s))
		return CKR_TOKEN_NOT_RECOGNIZED;
	if ((rv = lh_slot_store (s, false, &st)) != CKR_OK)
		return rv == CKR_TOKEN_NOT_PRESENT ? CKR_TOKEN_NOT_RECOGNIZED : rv;
	if ((rv = lh_store_info_get (st, &si)) != CKR_OK)
		return rv;
	return si.initialized ? CKR_OK : CKR_TOKEN_NOT_RECOGNIZED;
}

LH_EXPORT CK_RV
C_OpenSession (CK_SLOT_ID id, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
               CK_SESSION_HANDLE_PTR out)
{
	lh_call call;
	lh_slot *s;
	CK_RV rv;

	if (!out)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_enter_global (&call)) != CKR_OK)
		return rv;
	/* SPEC: C_OpenSession: CKF_SERIAL_SESSION must be set */
	if (!(flags & CKF_SERIAL_SESSION))
		return lh_call_leave (&call, CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	rv = lh_slot_get (id, &s);
	if (rv != CKR_OK || (rv = token_ready (s)) != CKR_OK)
		return lh_call_leave (&call, rv);
	lh_state_lock ();
	/* SPEC: no read-only session while the SO is logged in */
	if (!(flags & CKF_RW_SESSION) && s->user == CKU_SO)
		rv = CKR_SESSION_READ_WRITE_SO_EXISTS;
	else
		rv = lh_session_open_locked (s, flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION),
		                             out);
	lh_state_unlock ();
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_CloseSession (CK_SESSION_HANDLE hs)
{
	lh_call call;
	lh_session *s;
	CK_RV rv;

	if ((rv = lh_enter_global (&call)) != CKR_OK)
		return rv;
	lh_state_lock ();
	s = lh_session_lookup_locked (hs);
	if (s)
		lh_session_close_locked (s);
	lh_state_unlock ();
	return lh_call_leave (&call, s ? CKR_OK : CKR_SESSION_HANDLE_INVALID);
}

LH_EXPORT CK_RV
C_CloseAllSessions (CK_SLOT_ID id)
{
	lh_call call;
	lh_slot *s;
	CK_RV rv;

	if ((rv = lh_enter_global (&call)) != CKR_OK)
		return rv;
	lh_state_lock ();
	rv = lh_slot_get_locked (id, &s);
	if (rv == CKR_OK)
		lh_session_close_all_locked (s);
	lh_state_unlock ();
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_GetSessionInfo (CK_SESSION_HANDLE hs, CK_SESSION_INFO_PTR info)
{
	lh_call call;
	CK_RV rv;

	if (!info)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	memset (info, 0, sizeof *info);
	lh_state_lock ();
	info->slotID = call.session->slot->id;
	info->state = lh_session_state_locked (call.session);
	lh_state_unlock ();
	info->flags = call.session->flags;
	info->ulDeviceError = 0;
	return lh_call_leave (&call, CKR_OK);
}

LH_EXPORT CK_RV
C_GetOperationState (CK_SESSION_HANDLE hs, CK_BYTE_PTR state, CK_ULONG_PTR len)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}

LH_EXPORT CK_RV
C_SetOperationState (CK_SESSION_HANDLE hs, CK_BYTE_PTR state, CK_ULONG len,
                     CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}

/* The state checks of C_Login, in the spec's order.  Module lock held. */
static CK_RV
login_allowed_locked (lh_slot *slot, CK_USER_TYPE user)
{
	if (slot->user == user)
		return CKR_USER_ALREADY_LOGGED_IN;
	if (slot->user != LH_NOBODY)
		return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
	/* SPEC: the SO cannot log in while read-only sessions exist */
	if (user == CKU_SO && slot->sessions > slot->rw_sessions)
		return CKR_SESSION_READ_ONLY_EXISTS;
	return CKR_OK;
}

/*
 * SPEC: CKA_ALWAYS_AUTHENTICATE: after C_SignInit/C_DecryptInit with such
 * a key, the user PIN is given again with CKU_CONTEXT_SPECIFIC for that
 * one operation.  A wrong PIN counts as a failure like any other.
 */
static CK_RV
context_login (lh_session *s, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	lh_op *op = lh_op_waiting_login (s);
	CK_USER_TYPE user;
	CK_RV rv;

	lh_state_lock ();
	user = s->slot->user;
	lh_state_unlock ();
	if (!op)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (user != CKU_USER)
		return CKR_USER_NOT_LOGGED_IN;
	rv = lh_store_login (s->slot->store, CKU_USER, pin, len);
	if (rv == CKR_OK)
		op->need_login = false;
	return rv;
}

LH_EXPORT CK_RV
C_Login (CK_SESSION_HANDLE hs, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	lh_call call;
	lh_slot *slot;
	CK_RV rv;

	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	slot = call.session->slot;
	if (user != CKU_SO && user != CKU_USER && user != CKU_CONTEXT_SPECIFIC)
		return lh_call_leave (&call, CKR_USER_TYPE_INVALID);
	if (!pin)
		return lh_call_leave (&call, CKR_ARGUMENTS_BAD);
	if (user == CKU_CONTEXT_SPECIFIC)
		return lh_call_leave (&call, context_login (call.session, pin, len));
	lh_state_lock ();
	rv = login_allowed_locked (slot, user);
	lh_state_unlock ();
	if (rv != CKR_OK)
		return lh_call_leave (&call, rv);

	rv = lh_store_login (slot->store, user, pin, len);
	if (rv != CKR_OK)
		return lh_call_leave (&call, rv);
	lh_state_lock ();
	/* another thread may have logged in while the KDF ran */
	rv = login_allowed_locked (slot, user);
	if (rv == CKR_OK)
		slot->user = user;
	lh_state_unlock ();
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_Logout (CK_SESSION_HANDLE hs)
{
	lh_call call;
	CK_RV rv;

	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	lh_state_lock ();
	if (call.session->slot->user == LH_NOBODY)
		rv = CKR_USER_NOT_LOGGED_IN;
	else
		lh_slot_logout_locked (call.session->slot);
	lh_state_unlock ();
	return lh_call_leave (&call, rv);
}

/* 3.0: C_LoginUser names a user; litehsm tokens have no named users. */
CK_RV
lh_C_LoginUser (CK_SESSION_HANDLE hs, CK_USER_TYPE user, unsigned char *pin,
                CK_ULONG pin_len, unsigned char *name, CK_ULONG name_len)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
lh_C_SessionCancel (CK_SESSION_HANDLE hs, CK_FLAGS flags)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}
