/*
 * fn_object.c - object management (PKCS#11 2.40 section 5.7):
 * C_CreateObject, C_CopyObject, C_DestroyObject, C_GetObjectSize,
 * C_GetAttributeValue, C_SetAttributeValue and C_FindObjects*.
 *
 * The rules live in attrs.c (policy table) and template.c (how a
 * template is checked); this file only orders the calls.
 */
#include "pkcs11/lh.h"
#include "pkcs11/state.h"
#include "pkcs11/object.h"
#include "pkcs11/session.h"
#include "pkcs11/template.h"

#include <string.h>

static CK_USER_TYPE
session_user (lh_session *s)
{
	CK_USER_TYPE u;

	lh_state_lock ();
	u = s->slot->user;
	lh_state_unlock ();
	return u;
}

LH_EXPORT CK_RV
C_CreateObject (CK_SESSION_HANDLE hs, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                CK_OBJECT_HANDLE_PTR out)
{
	lh_attrs attrs;
	lh_call call;
	CK_RV rv;

	if (!out || (!t && n))
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	rv = lh_template_create (t, n, session_user (call.session), &attrs);
	if (rv == CKR_OK)
		rv = lh_object_add (call.session, &attrs, out);
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_CopyObject (CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_PTR t,
              CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
	lh_object o;
	lh_attrs attrs;
	lh_call call;
	CK_RV rv;

	if (!out || (!t && n))
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	if ((rv = lh_object_load (call.session, h, &o)) != CKR_OK)
		return lh_call_leave (&call, rv);
	/* SPEC: 3.0 CKA_COPYABLE false: C_CopyObject -> CKR_ACTION_PROHIBITED */
	if (!lh_attrs_bool (&o.attrs, CKA_COPYABLE, true))
		rv = CKR_ACTION_PROHIBITED;
	else
		rv = lh_template_merge (&o.attrs, t, n, session_user (call.session),
		                        true, &attrs);
	if (rv == CKR_OK)
		rv = lh_object_add (call.session, &attrs, out);
	lh_object_clear (&o);
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_DestroyObject (CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE h)
{
	lh_object o;
	lh_call call;
	CK_RV rv;

	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	if ((rv = lh_object_load (call.session, h, &o)) != CKR_OK)
		return lh_call_leave (&call, rv);
	rv = lh_object_may_write (call.session, o.token, o.private_obj);
	if (rv == CKR_OK && !lh_attrs_bool (&o.attrs, CKA_DESTROYABLE, true))
		rv = CKR_ACTION_PROHIBITED;
	if (rv == CKR_OK)
		rv = lh_object_destroy (call.session, &o);
	lh_object_clear (&o);
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_GetObjectSize (CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE h, CK_ULONG_PTR size)
{
	lh_object o;
	lh_call call;
	CK_ULONG total = 0;
	size_t i;
	CK_RV rv;

	if (!size)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	if ((rv = lh_object_load (call.session, h, &o)) == CKR_OK) {
		/* what the object occupies: values plus a row per attribute */
		for (i = 0; i < o.attrs.n; i++)
			total += o.attrs.a[i].len + 16;
		*size = total;
		lh_object_clear (&o);
	}
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_GetAttributeValue (CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_PTR t,
                     CK_ULONG n)
{
	const lh_sattr *a;
	lh_object o;
	lh_call call;
	CK_ULONG i;
	CK_RV rv, one;

	if (!t && n)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	if ((rv = lh_object_load (call.session, h, &o)) != CKR_OK) {
		/* nothing of a damaged or invisible object reaches the caller */
		for (i = 0; i < n; i++)
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return lh_call_leave (&call, rv);
	}
	/*
	 * SPEC: C_GetAttributeValue processes every attribute; one that
	 * fails gets CK_UNAVAILABLE_INFORMATION and the others are still
	 * filled.  The first failure is the return value.
	 */
	for (i = 0; i < n; i++) {
		a = lh_attrs_get (&o.attrs, t[i].type);
		if (!a) {
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			one = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (lh_object_hides (&o.attrs, a)) {
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			one = CKR_ATTRIBUTE_SENSITIVE;
		} else {
			one = lh_template_get (a, &t[i]);
		}
		if (rv == CKR_OK && one != CKR_OK)
			rv = one;
	}
	lh_object_clear (&o);
	return lh_call_leave (&call, rv);
}

static bool
is_trusted_certificate (const lh_attrs *a)
{
	CK_ULONG cls;

	return lh_attrs_ulong (a, CKA_CLASS, &cls) && cls == CKO_CERTIFICATE &&
	       lh_attrs_bool (a, CKA_TRUSTED, false);
}

LH_EXPORT CK_RV
C_SetAttributeValue (CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_PTR t,
                     CK_ULONG n)
{
	lh_object o;
	lh_attrs attrs;
	lh_call call;
	CK_RV rv;

	if (!t && n)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	if ((rv = lh_object_load (call.session, h, &o)) != CKR_OK)
		return lh_call_leave (&call, rv);
	rv = lh_object_may_write (call.session, o.token, o.private_obj);
	/* SPEC: CKA_MODIFIABLE false: CKR_ACTION_PROHIBITED; and 4.6.2:
	 * "trusted certificates cannot be modified" */
	if (rv == CKR_OK && (!lh_attrs_bool (&o.attrs, CKA_MODIFIABLE, true) ||
	                     is_trusted_certificate (&o.attrs)))
		rv = CKR_ACTION_PROHIBITED;
	if (rv == CKR_OK)
		rv = lh_template_merge (&o.attrs, t, n, session_user (call.session),
		                        false, &attrs);
	if (rv == CKR_OK)
		rv = lh_object_replace (call.session, &o, &attrs);
	lh_object_clear (&o);
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_FindObjectsInit (CK_SESSION_HANDLE hs, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	lh_attrs match;
	lh_call call;
	lh_find *f;
	CK_RV rv;

	if (!t && n)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	/* SPEC: C_FindObjectsInit while a search is active */
	if (call.session->find)
		return lh_call_leave (&call, CKR_OPERATION_ACTIVE);
	if ((rv = lh_template_parse (t, n, &match)) != CKR_OK)
		return lh_call_leave (&call, rv);
	rv = lh_find_start (call.session, &match, &f);
	if (rv == CKR_OK)
		call.session->find = f;
	lh_attrs_free (&match);
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_FindObjects (CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE_PTR out, CK_ULONG max,
               CK_ULONG_PTR count)
{
	lh_call call;
	size_t n = 0;
	CK_RV rv;

	if (!out || !count)
		return CKR_ARGUMENTS_BAD;
	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	if (!call.session->find)
		return lh_call_leave (&call, CKR_OPERATION_NOT_INITIALIZED);
	rv = lh_find_next (call.session, call.session->find, out, max, &n);
	*count = n;
	return lh_call_leave (&call, rv);
}

LH_EXPORT CK_RV
C_FindObjectsFinal (CK_SESSION_HANDLE hs)
{
	lh_call call;
	CK_RV rv;

	if ((rv = lh_call_enter (&call, hs)) != CKR_OK)
		return rv;
	if (!call.session->find)
		return lh_call_leave (&call, CKR_OPERATION_NOT_INITIALIZED);
	lh_find_free (call.session->find);
	call.session->find = NULL;
	return lh_call_leave (&call, CKR_OK);
}
