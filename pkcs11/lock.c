/*
 * lock.c - the three locking modes of CK_C_INITIALIZE_ARGS behind one API.
 */
#include "pkcs11/lh.h"
#include "pkcs11/lock.h"

#include <pthread.h>
#include <stdlib.h>

static CK_RV
os_create (void **out)
{
	pthread_mutex_t *m = malloc (sizeof *m);

	if (!m)
		return CKR_HOST_MEMORY;
	if (pthread_mutex_init (m, NULL) != 0) {
		free (m);
		return CKR_CANT_LOCK;
	}
	*out = m;
	return CKR_OK;
}

static CK_RV
os_destroy (void *m)
{
	pthread_mutex_destroy (m);
	free (m);
	return CKR_OK;
}

static CK_RV
os_lock (void *m)
{
	return pthread_mutex_lock (m) == 0 ? CKR_OK : CKR_CANT_LOCK;
}

static CK_RV
os_unlock (void *m)
{
	return pthread_mutex_unlock (m) == 0 ? CKR_OK : CKR_CANT_LOCK;
}

static const lh_mutex_ops os_ops = { os_create, os_destroy, os_lock, os_unlock };
static lh_mutex_ops app_ops;
static const lh_mutex_ops *ops;   /* set once by C_Initialize */

/* The application's callbacks take CK_VOID_PTR_PTR / CK_VOID_PTR. */
static CK_C_INITIALIZE_ARGS app_args;

static CK_RV
app_create (void **m)
{
	return app_args.CreateMutex (m);
}

static CK_RV
app_destroy (void *m)
{
	return app_args.DestroyMutex (m);
}

static CK_RV
app_lock (void *m)
{
	return app_args.LockMutex (m);
}

static CK_RV
app_unlock (void *m)
{
	return app_args.UnlockMutex (m);
}

void
lh_lock_setup (const CK_C_INITIALIZE_ARGS *args)
{
	if (!args || (!(args->flags & CKF_OS_LOCKING_OK) && !args->CreateMutex)) {
		ops = NULL;     /* SPEC: no flags, no callbacks: single-threaded */
	} else if (args->flags & CKF_OS_LOCKING_OK) {
		ops = &os_ops;  /* SPEC: both given: either may be used */
	} else {
		app_args = *args;
		app_ops = (lh_mutex_ops){ app_create, app_destroy, app_lock, app_unlock };
		ops = &app_ops;
	}
}

const lh_mutex_ops *
lh_lock_ops (void)
{
	return ops;
}

CK_RV
lh_mutex_new (void **mutex)
{
	*mutex = NULL;
	return ops ? ops->create (mutex) : CKR_OK;
}

void
lh_mutex_free (void *mutex)
{
	if (ops && mutex)
		ops->destroy (mutex);
}

void
lh_mutex_lock (void *mutex)
{
	if (ops && mutex)
		ops->lock (mutex);
}

void
lh_mutex_unlock (void *mutex)
{
	if (ops && mutex)
		ops->unlock (mutex);
}
