/*
 * fn_general.c - C_Initialize, C_Finalize, C_GetInfo (PKCS#11 2.40
 * section 5.4, "General-purpose functions"), with fork detection.
 */
#include "pkcs11/lh.h"
#include "pkcs11/fn.h"
#include "pkcs11/state.h"
#include "pkcs11/lock.h"
#include "pkcs11/log.h"
#include "pkcs11/object.h"
#include "pkcs11/mech.h"
#include "pkcs11/session.h"
#include "pkcs11/slot.h"
#include "pkcs11/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

static CK_RV
check_init_args (const CK_C_INITIALIZE_ARGS *args)
{
	int given;

	if (!args)
		return CKR_OK;
	/* SPEC: C_Initialize: pReserved must be NULL */
	if (args->pReserved)
		return CKR_ARGUMENTS_BAD;
	given = !!args->CreateMutex + !!args->DestroyMutex + !!args->LockMutex +
	        !!args->UnlockMutex;
	/* SPEC: the four callbacks are all given or none */
	if (given != 0 && given != 4)
		return CKR_ARGUMENTS_BAD;
	return CKR_OK;
}

LH_EXPORT CK_RV
C_Initialize (CK_VOID_PTR init_args)
{
	CK_C_INITIALIZE_ARGS *args = init_args;
	lh_conf *conf = NULL;
	char *why = NULL;
	CK_RV rv;

	if (lh_state_ready ())
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	/*
	 * A forked child inherits the parent's state: forget it without
	 * touching it (its SQLite connections belong to the parent).
	 */
	if (lh_g.initialized)
		memset (&lh_g, 0, sizeof lh_g);
	if ((rv = check_init_args (args)) != CKR_OK)
		return rv;
	lh_lock_setup (args);

	ERR_set_mark ();
	rv = lh_conf_load (&conf, &why);
	if (rv != CKR_OK) {
		lh_log_setup (NULL, LH_LOG_ERROR);
		lh_log_error ("configuration: %s", why ? why : "out of memory");
		free (why);
		goto out;
	}
	lh_log_setup (conf->log_file, conf->log_level);
	rv = CKR_HOST_MEMORY;
	if (!(lh_g.libctx = OSSL_LIB_CTX_new ()))
		goto out;
	if ((rv = lh_mutex_new (&lh_g.lock)) != CKR_OK)
		goto out;
	lh_g.conf = conf;
	conf = NULL;
	lh_g.pid = getpid ();
	lh_state_watch_fork ();
	lh_g.initialized = true;
	lh_log_debug ("C_Initialize: token_dir %s", lh_g.conf->token_dir);
	rv = CKR_OK;
out:
	if (rv != CKR_OK && lh_g.libctx) {
		OSSL_LIB_CTX_free (lh_g.libctx);
		lh_g.libctx = NULL;
	}
	lh_conf_free (conf);
	ERR_pop_to_mark ();
	return rv;
}

LH_EXPORT CK_RV
C_Finalize (CK_VOID_PTR reserved)
{
	if (reserved)
		return CKR_ARGUMENTS_BAD;
	if (!lh_state_ready ())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	ERR_set_mark ();
	lh_state_lock ();
	lh_session_close_all_locked (NULL);
	lh_sobj_destroy_matching_locked (NULL, 0, false);
	lh_key_cache_free_locked ();
	lh_slots_free ();
	lh_state_unlock ();
	lh_mutex_free (lh_g.lock);
	lh_conf_free (lh_g.conf);
	OSSL_LIB_CTX_free (lh_g.libctx);
	memset (&lh_g, 0, sizeof lh_g);
	ERR_pop_to_mark ();
	return CKR_OK;
}

static CK_RV
get_info (CK_INFO_PTR info, CK_BYTE major, CK_BYTE minor)
{
	if (!info)
		return CKR_ARGUMENTS_BAD;
	if (!lh_state_ready ())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	memset (info, 0, sizeof *info);
	info->cryptokiVersion.major = major;
	info->cryptokiVersion.minor = minor;
	lh_pad (info->manufacturerID, sizeof info->manufacturerID, "litehsm");
	lh_pad (info->libraryDescription, sizeof info->libraryDescription,
	        "litehsm PKCS#11 soft token");
	info->libraryVersion.major = LH_VERSION_MAJOR;
	info->libraryVersion.minor = LH_VERSION_MINOR;
	return CKR_OK;
}

/* The 2.40 list reports 2.40; the 3.0 interface reports 3.0. */
LH_EXPORT CK_RV
C_GetInfo (CK_INFO_PTR info)
{
	return get_info (info, 2, 40);
}

CK_RV
lh_C_GetInfo_30 (CK_INFO_PTR info)
{
	return get_info (info, 3, 0);
}
