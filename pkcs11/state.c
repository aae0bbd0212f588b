/*
 * state.c - the global state, the module lock and the entry/exit shape
 * shared by every C_* function.
 */
#include "pkcs11/lh.h"
#include "pkcs11/state.h"
#include "pkcs11/session.h"
#include "pkcs11/lock.h"

#include <pthread.h>
#include <unistd.h>

#include <openssl/err.h>

lh_state lh_g;

/*
 * Fork detection without a system call per entry point: a child handler
 * registered once per process with pthread_atfork marks the child, whose
 * inherited state must not be used (glibc drops the handler when the
 * module is unloaded, so no handler outlives our code).
 */
static volatile int forked;

static void
mark_child (void)
{
	forked = 1;
}

void
lh_state_watch_fork (void)
{
	static bool registered;

	forked = 0;
	if (!registered && pthread_atfork (NULL, NULL, mark_child) == 0)
		registered = true;
}

bool
lh_state_ready (void)
{
	/* SPEC: a forked child must call C_Initialize before anything else */
	return lh_g.initialized && !forked;
}

void
lh_state_lock (void)
{
	lh_mutex_lock (lh_g.lock);
}

void
lh_state_unlock (void)
{
	lh_mutex_unlock (lh_g.lock);
}

CK_RV
lh_enter_global (lh_call *call)
{
	call->session = NULL;
	call->marked = false;
	if (!lh_state_ready ())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	/* Errors we cause in OpenSSL's queue never reach the host. */
	ERR_set_mark ();
	call->marked = true;
	return CKR_OK;
}

CK_RV
lh_call_enter (lh_call *call, CK_SESSION_HANDLE hs)
{
	lh_session *s;
	CK_RV rv;

	if ((rv = lh_enter_global (call)) != CKR_OK)
		return rv;
	lh_state_lock ();
	s = lh_session_lookup_locked (hs);
	if (s)
		s->refs++;
	lh_state_unlock ();
	if (!s)
		return lh_call_leave (call, CKR_SESSION_HANDLE_INVALID);
	lh_mutex_lock (s->op_lock);
	call->session = s;
	return CKR_OK;
}

CK_RV
lh_call_leave (lh_call *call, CK_RV rv)
{
	lh_session *s = call->session;

	if (s) {
		lh_mutex_unlock (s->op_lock);
		lh_state_lock ();
		lh_session_unref_locked (s);
		lh_state_unlock ();
		call->session = NULL;
	}
	if (call->marked) {
		ERR_pop_to_mark ();
		call->marked = false;
	}
	return rv;
}
