/*
 * lock.h - mutexes in whichever mode C_Initialize was given.
 *
 * CK_C_INITIALIZE_ARGS allows three modes and we honour all of them:
 *   - no locking (no flags, no callbacks): the application promises not to
 *     call us from two threads at once;
 *   - OS locking (CKF_OS_LOCKING_OK): pthread mutexes;
 *   - the application's four mutex callbacks (without CKF_OS_LOCKING_OK).
 *
 * Lock order, never acquired against:  session op lock -> module lock.
 * (A thread holding the module lock takes no other lock; store/ has its
 * own leaf mutex that is never held while calling back into us.)
 */
#ifndef LH_LOCK_H
#define LH_LOCK_H

#include "pkcs11/lh.h"
#include "store/store.h"

/* Choose the mode from C_Initialize's argument (already validated). */
void lh_lock_setup (const CK_C_INITIALIZE_ARGS *args);
const lh_mutex_ops *lh_lock_ops (void);      /* NULL in no-locking mode */

CK_RV lh_mutex_new (void **mutex);           /* *mutex NULL in no-locking mode */
void lh_mutex_free (void *mutex);
void lh_mutex_lock (void *mutex);
void lh_mutex_unlock (void *mutex);

#endif
