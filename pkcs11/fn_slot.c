/*
 * fn_slot.c - slot and token management (PKCS#11 2.40 section 5.5):
 * C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, C_WaitForSlotEvent,
 * C_GetMechanismList, C_GetMechanismInfo, C_InitToken, C_InitPIN, C_SetPIN.
 */
#include "pkcs11/lh.h"
#include "pkcs11/state.h"
#include "pkcs11/session.h"
#include "pkcs11/slot.h"
#include "pkcs11/util.h"
#include "pkcs11/log.h"
#include "pkcs11/mech.h"

#include <stdio.h>
#include <string.h>

/*
 * Is the slot listed: a token file exists, it is the free slot, or the
 * configuration names it ("token = PATH": an uninitialized token until
 * C_InitToken creates the file there).
 */
static bool
listed_locked (lh_slot *s)
{
	return s == lh_g.free_slot || s->configured || lh_slot_has_file (s);
}

LH_EXPORT CK_RV
C_GetSlotList (CK_BBOOL token_present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	lh_call call;
	CK_SLOT_ID ids[1024];
	CK_ULONG n = 0, i;
	CK_RV rv;
	unsigned k;

	(void)token_present;      /* every listed slot holds a token */
	if (!count)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_enter_global (&call)) != CKR_OK)
		return rv;
	lh_state_lock ();
	rv = lh_slots_refresh_locked ();
	/* tokens first, in the order found; the free slot last */
	for (k = 0; rv == CKR_OK && k < lh_g.nslots && n < LH_ARRAY_SIZE (ids) - 1; k++)
		if (lh_g.slots[k] != lh_g.free_slot && listed_locked (lh_g.slots[k]))
			ids[n++] = lh_g.slots[k]->id;
	if (rv == CKR_OK && lh_g.free_slot)
		ids[n++] = lh_g.free_slot->id;
	lh_state_unlock ();
	if (rv != CKR_OK)
		return lh_call_leave (&call, rv);
	if (list) {
		if (*count < n) {
			*count = n;
			return lh_call_leave (&call, CKR_BUFFER_TOO_SMALL);
		}
		for (i = 0; i < n; i++)
			list[i] = ids[i];
	}
	*count = n;
	return lh_call_leave (&call, CKR_OK);
}

LH_EXPORT CK_RV
C_GetSlotInfo (CK_SLOT_ID id, CK_SLOT_INFO_PTR info)
{
	lh_call call;
	lh_slot *s;
	const char *base;
	char desc[128];
	CK_RV rv;

	if (!info)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_enter_global (&call)) != CKR_OK)
		return rv;
	rv = lh_slot_get (id, &s);
	if (rv != CKR_OK)
		return lh_call_leave (&call, rv);
	memset (info, 0, sizeof *info);
	base = strrchr (s->path, '/');
	snprintf (desc, sizeof desc, "litehsm %s", base ? base + 1 : s->path);
	lh_pad (info->slotDescription, sizeof info->slotDescription, desc);
	lh_pad (info->manufacturerID, sizeof info->manufacturerID, "litehsm");
	info->flags = CKF_TOKEN_PRESENT;
	info->hardwareVersion.major = LH_VERSION_MAJOR;
	info->hardwareVersion.minor = LH_VERSION_MINOR;
	info->firmwareVersion = info->hardwareVersion;
	return lh_call_leave (&call, CKR_OK);
}

/* The PIN flags of CK_TOKEN_INFO from the persistent counters. */
static CK_FLAGS
pin_flags (uint32_t failures, uint32_t max, CK_FLAGS low, CK_FLAGS final,
           CK_FLAGS locked)
{
	if (failures >= max)
		return locked;
	if (failures + 1 == max)
		return final | low;
	return failures ? low : 0;
}

/* Read what C_GetTokenInfo reports.  No lock held (store I/O). */
static CK_RV
token_info (lh_slot *s, lh_store_info *si)
{
	lh_store *st;
	CK_RV rv;

	memset (si, 0, sizeof *si);
	memset (si->label, ' ', sizeof si->label);
	if (!lh_slot_has_file (s))
		return CKR_OK;                 /* the free slot */
	if ((rv = lh_slot_store (s, false, &st)) != CKR_OK) {
		/* vanished, or another process is creating it: not initialized */
		if (rv == CKR_TOKEN_NOT_PRESENT ||
		    (rv == CKR_TOKEN_NOT_RECOGNIZED && lh_slot_being_created (s)))
			return CKR_OK;
		return rv;
	}
	return lh_store_info_get (st, si);
}

LH_EXPORT CK_RV
C_GetTokenInfo (CK_SLOT_ID id, CK_TOKEN_INFO_PTR info)
{
	lh_store_info si;
	lh_call call;
	lh_slot *s;
	unsigned sessions, rw;
	CK_RV rv;

	if (!info)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_enter_global (&call)) != CKR_OK)
		return rv;
	rv = lh_slot_get (id, &s);
	if (rv != CKR_OK || (rv = token_info (s, &si)) != CKR_OK)
		return lh_call_leave (&call, rv);
	lh_state_lock ();
	sessions = s->sessions;
	rw = s->rw_sessions;
	lh_state_unlock ();

	memset (info, 0, sizeof *info);
	memcpy (info->label, si.label, sizeof info->label);
	lh_pad (info->manufacturerID, sizeof info->manufacturerID, "litehsm");
	lh_pad (info->model, sizeof info->model, "soft token");
	lh_pad (info->serialNumber, sizeof info->serialNumber, si.serial);
	info->flags = CKF_RNG | CKF_LOGIN_REQUIRED;
	if (si.initialized)
		info->flags |= CKF_TOKEN_INITIALIZED;
	if (si.user_pin_set)
		info->flags |= CKF_USER_PIN_INITIALIZED;
	if (si.initialized) {
		info->flags |= pin_flags (si.user_failures, si.max_failures,
		                          CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY,
		                          CKF_USER_PIN_LOCKED);
		info->flags |= pin_flags (si.so_failures, si.max_failures,
		                          CKF_SO_PIN_COUNT_LOW, CKF_SO_PIN_FINAL_TRY,
		                          CKF_SO_PIN_LOCKED);
	}
	info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulSessionCount = sessions;
	info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulRwSessionCount = rw;
	info->ulMaxPinLen = LH_MAX_PIN_LEN;
	info->ulMinPinLen = LH_MIN_PIN_LEN;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->hardwareVersion.major = LH_VERSION_MAJOR;
	info->hardwareVersion.minor = LH_VERSION_MINOR;
	info->firmwareVersion = info->hardwareVersion;
	memset (info->utcTime, ' ', sizeof info->utcTime);
	return lh_call_leave (&call, CKR_OK);
}

LH_EXPORT CK_RV
C_WaitForSlotEvent (CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved)
{
	if (!lh_state_ready ())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

LH_EXPORT CK_RV
C_GetMechanismList (CK_SLOT_ID id, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
	const lh_mech *m;
	lh_call call;
	lh_slot *s;
	size_t n, i;
	CK_ULONG k = 0;
	CK_RV rv;

	if (!count)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_enter_global (&call)) != CKR_OK)
		return rv;
	if ((rv = lh_slot_get (id, &s)) != CKR_OK)
		return lh_call_leave (&call, rv);
	m = lh_mech_table (&n);
	for (i = 0; i < n; i++) {
		if (!lh_mech_enabled (&m[i]))
			continue;
		if (list && k < *count)
			list[k] = m[i].type;
		k++;
	}
	/* SPEC: 5.2: too small -> CKR_BUFFER_TOO_SMALL and the count */
	if (list && *count < k)
		rv = CKR_BUFFER_TOO_SMALL;
	*count = k;
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_GetMechanismInfo (CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
	const lh_mech *m;
	lh_call call;
	lh_slot *s;
	CK_RV rv;

	if (!info)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_enter_global (&call)) != CKR_OK)
		return rv;
	if ((rv = lh_slot_get (id, &s)) != CKR_OK ||
	    (rv = lh_mech_find (type, 0, &m)) != CKR_OK)
		return lh_call_leave (&call, rv);
	info->ulMinKeySize = m->min_key;
	info->ulMaxKeySize = m->max_key;
	info->flags = m->flags;
	return lh_call_leave (&call, CKR_OK);
}

static CK_RV
check_pin_len (CK_ULONG len)
{
	return len < LH_MIN_PIN_LEN || len > LH_MAX_PIN_LEN ? CKR_PIN_LEN_RANGE : CKR_OK;
}

LH_EXPORT CK_RV
C_InitToken (CK_SLOT_ID id, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len,
             CK_UTF8CHAR_PTR label)
{
	lh_call call;
	lh_store *st;
	lh_slot *s;
	CK_RV rv;

	/* no protected authentication path: the PIN must be given */
	if (!pin || !label)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_enter_global (&call)) != CKR_OK)
		return rv;
	if ((rv = check_pin_len (pin_len)) != CKR_OK)
		return lh_call_leave (&call, rv);
	lh_state_lock ();
	rv = lh_slot_get_locked (id, &s);
	/* SPEC: C_InitToken: CKR_SESSION_EXISTS if any session is open */
	if (rv == CKR_OK && (s->sessions > 0 || s->busy))
		rv = CKR_SESSION_EXISTS;
	if (rv == CKR_OK)
		s->busy = true;
	lh_state_unlock ();
	if (rv != CKR_OK)
		return lh_call_leave (&call, rv);

	rv = lh_slot_store (s, true, &st);
	if (rv == CKR_OK)
		rv = lh_store_init_token (st, label, pin, pin_len);
	lh_state_lock ();
	s->busy = false;
	s->user = LH_NOBODY;
	lh_key_cache_flush_locked (s);
	if (rv == CKR_OK)
		rv = lh_slots_refresh_locked ();  /* a new free slot appears */
	lh_state_unlock ();
	if (rv != CKR_OK && rv != CKR_PIN_INCORRECT && rv != CKR_PIN_LOCKED)
		lh_log_error ("C_InitToken on %s failed (rv 0x%lx)", s->path, rv);
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_InitPIN (CK_SESSION_HANDLE hs, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len)
{
	lh_call call;
	CK_STATE state;
	CK_RV rv;

	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	lh_state_lock ();
	state = lh_session_state_locked (call.session);
	lh_state_unlock ();
	/* SPEC: C_InitPIN only in the "R/W SO Functions" state */
	if (state != CKS_RW_SO_FUNCTIONS)
		rv = lh_session_rw (call.session) ? CKR_USER_NOT_LOGGED_IN :
		     CKR_SESSION_READ_ONLY;
	else if (!pin)
		rv = CKR_ARGUMENTS_BAD;
	else if ((rv = check_pin_len (pin_len)) == CKR_OK)
		rv = lh_store_init_pin (call.session->slot->store, pin, pin_len);
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_SetPIN (CK_SESSION_HANDLE hs, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_len,
          CK_UTF8CHAR_PTR new_pin, CK_ULONG new_len)
{
	lh_call call;
	CK_USER_TYPE who;
	CK_RV rv;

	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	lh_state_lock ();
	who = call.session->slot->user == CKU_SO ? CKU_SO : CKU_USER;
	lh_state_unlock ();
	/* SPEC: C_SetPIN: only in read/write sessions */
	if (!lh_session_rw (call.session))
		rv = CKR_SESSION_READ_ONLY;
	else if (!old_pin || !new_pin)
		rv = CKR_ARGUMENTS_BAD;
	else if ((rv = check_pin_len (new_len)) == CKR_OK)
		rv = lh_store_set_pin (call.session->slot->store, who, old_pin, old_len,
		                       new_pin, new_len);
	return lh_call_leave (&call, rv);
}
