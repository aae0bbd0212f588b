/*
 * test-init.c - module-API tests: C_GetFunctionList, the 3.0 interface
 * functions, C_Initialize/C_Finalize in every locking mode, C_GetInfo,
 * the configuration file, legacy and not-yet-implemented functions, and
 * fork/multi-process behaviour (a forked child that re-initializes, and
 * other processes - this program re-executed with --child - creating
 * tokens and objects that this process must see without a restart).
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

/* Every function of the 2.40 list, for the "no NULL entry" checks. */
#define FX_ALL_240(X) \
	X (C_Initialize) X (C_Finalize) X (C_GetInfo) X (C_GetFunctionList) \
	X (C_GetSlotList) X (C_GetSlotInfo) X (C_GetTokenInfo) \
	X (C_GetMechanismList) X (C_GetMechanismInfo) X (C_InitToken) \
	X (C_InitPIN) X (C_SetPIN) X (C_OpenSession) X (C_CloseSession) \
	X (C_CloseAllSessions) X (C_GetSessionInfo) X (C_GetOperationState) \
	X (C_SetOperationState) X (C_Login) X (C_Logout) X (C_CreateObject) \
	X (C_CopyObject) X (C_DestroyObject) X (C_GetObjectSize) \
	X (C_GetAttributeValue) X (C_SetAttributeValue) X (C_FindObjectsInit) \
	X (C_FindObjects) X (C_FindObjectsFinal) X (C_EncryptInit) \
	X (C_Encrypt) X (C_EncryptUpdate) X (C_EncryptFinal) X (C_DecryptInit) \
	X (C_Decrypt) X (C_DecryptUpdate) X (C_DecryptFinal) X (C_DigestInit) \
	X (C_Digest) X (C_DigestUpdate) X (C_DigestKey) X (C_DigestFinal) \
	X (C_SignInit) X (C_Sign) X (C_SignUpdate) X (C_SignFinal) \
	X (C_SignRecoverInit) X (C_SignRecover) X (C_VerifyInit) X (C_Verify) \
	X (C_VerifyUpdate) X (C_VerifyFinal) X (C_VerifyRecoverInit) \
	X (C_VerifyRecover) X (C_DigestEncryptUpdate) \
	X (C_DecryptDigestUpdate) X (C_SignEncryptUpdate) \
	X (C_DecryptVerifyUpdate) X (C_GenerateKey) X (C_GenerateKeyPair) \
	X (C_WrapKey) X (C_UnwrapKey) X (C_DeriveKey) X (C_SeedRandom) \
	X (C_GenerateRandom) X (C_GetFunctionStatus) X (C_CancelFunction) \
	X (C_WaitForSlotEvent)

#define FX_ALL_30(X) \
	X (C_GetInterfaceList) X (C_GetInterface) X (C_LoginUser) \
	X (C_SessionCancel) X (C_MessageEncryptInit) X (C_EncryptMessage) \
	X (C_EncryptMessageBegin) X (C_EncryptMessageNext) \
	X (C_MessageEncryptFinal) X (C_MessageDecryptInit) \
	X (C_DecryptMessage) X (C_DecryptMessageBegin) \
	X (C_DecryptMessageNext) X (C_MessageDecryptFinal) \
	X (C_MessageSignInit) X (C_SignMessage) X (C_SignMessageBegin) \
	X (C_SignMessageNext) X (C_MessageSignFinal) X (C_MessageVerifyInit) \
	X (C_VerifyMessage) X (C_VerifyMessageBegin) X (C_VerifyMessageNext) \
	X (C_MessageVerifyFinal)

#define CHECK_NOT_NULL(name) \
	if (!list->name) { \
		printf ("# NULL entry: %s\n", #name); \
		missing++; \
	}

static CK_C_GetInterfaceList
get_interface_list_fn (lh_fx *fx)
{
	CK_C_GetInterfaceList fn;

	fn = (CK_C_GetInterfaceList) dlsym (fx->dl, "C_GetInterfaceList");
	assert_true (fn != NULL);
	return fn;
}

static CK_C_GetInterface
get_interface_fn (lh_fx *fx)
{
	CK_C_GetInterface fn;

	fn = (CK_C_GetInterface) dlsym (fx->dl, "C_GetInterface");
	assert_true (fn != NULL);
	return fn;
}

static void
assert_padded_printable (const CK_UTF8CHAR *field, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		assert_true (field[i] >= 0x20 && field[i] < 0x7f);
}

/* ------------------------------------------------------------------ */
/* C_GetFunctionList                                                   */

static void
test_function_list (void *arg)
{
	lh_fx *fx = arg;
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST_PTR list = NULL;
	int missing = 0;

	get = (CK_C_GetFunctionList) dlsym (fx->dl, "C_GetFunctionList");
	assert_true (get != NULL);
	assert_rv (CKR_ARGUMENTS_BAD, get (NULL));
	assert_rv (CKR_OK, get (&list));
	assert_true (list != NULL);
	assert_num_eq (2, list->version.major);
	assert_num_eq (40, list->version.minor);
	FX_ALL_240 (CHECK_NOT_NULL)
	assert_num_eq (0, missing);

	/* The list's own C_GetFunctionList gives a 2.40 list, too. */
	list = NULL;
	assert_rv (CKR_OK, fx->fl->C_GetFunctionList (&list));
	assert_true (list != NULL);
	assert_num_eq (2, list->version.major);
	assert_num_eq (40, list->version.minor);
}

/* Only the C_* entry points are exported (a linker version script). */
static void
test_exports (void *arg)
{
	char cmd[1200], line[512], type, name[400];
	unsigned long long addr;
	int c_funcs = 0, bad = 0;
	bool have_get_interface = false;
	FILE *p;

	(void) arg;
	snprintf (cmd, sizeof cmd, "nm -D --defined-only '%s' 2>/dev/null",
	          fx_module_path ());
	p = popen (cmd, "r");
	assert_true (p != NULL);
	while (fgets (line, sizeof line, p)) {
		if (sscanf (line, "%llx %c %399s", &addr, &type, name) != 3)
			continue;
		if (type == 'A')        /* version nodes */
			continue;
		if (strncmp (name, "C_", 2) == 0) {
			c_funcs++;
			if (strcmp (name, "C_GetInterface") == 0)
				have_get_interface = true;
			continue;
		}
		if (strcmp (name, "_init") == 0 || strcmp (name, "_fini") == 0)
			continue;
		printf ("# exported non-C_ symbol: %s", line);
		bad++;
	}
	assert_num_eq (0, pclose (p));
	assert_true (c_funcs >= 68);
	assert_true (have_get_interface);
	assert_num_eq (0, bad);
}

/* ------------------------------------------------------------------ */
/* C_Initialize / C_Finalize                                           */

static void
test_initialize_null (void *arg)
{
	lh_fx *fx = arg;
	CK_INFO info;

	assert_rv (CKR_OK, fx->fl->C_Initialize (NULL));
	assert_rv (CKR_OK, fx->fl->C_GetInfo (&info));
	assert_rv (CKR_OK, fx->fl->C_Finalize (NULL));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, fx->fl->C_GetInfo (&info));
}

static void
test_initialize_os_locking (void *arg)
{
	lh_fx *fx = arg;
	CK_C_INITIALIZE_ARGS args;
	CK_SLOT_ID ids[8];

	memset (&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	assert_rv (CKR_OK, fx->fl->C_Initialize (&args));
	assert_num_eq (1, fx_slot_list (fx, ids, 8));
	assert_rv (CKR_OK, fx->fl->C_Finalize (NULL));
}

static void
test_initialize_no_threads (void *arg)
{
	lh_fx *fx = arg;
	CK_C_INITIALIZE_ARGS args;

	memset (&args, 0, sizeof args);
	args.flags = CKF_LIBRARY_CANT_CREATE_OS_THREADS;
	assert_rv (CKR_OK, fx->fl->C_Initialize (&args));
	fx->initialized = true;
	fx_new_token (fx, "no threads", true);
	assert_rv (CKR_OK, fx->fl->C_Finalize (NULL));
}

/* Work the module enough that it needs its locks. */
static void
exercise (lh_fx *fx)
{
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot = fx_new_token (fx, "mutex", true);
	CK_OBJECT_HANDLE found[4];

	s = fx_open (fx, slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	fx_create_data (fx, s, true, false, "mutex-obj", "v");
	assert_num_eq (1, fx_find_label (fx, s, "mutex-obj", found, 4));
	assert_rv (CKR_OK, fx->fl->C_CloseSession (s));
}

/* flags 0 + callbacks: the module must use the application's mutexes. */
static void
test_initialize_app_mutex (void *arg)
{
	lh_fx *fx = arg;
	CK_C_INITIALIZE_ARGS args;
	fx_mutex_counts c;

	fx_app_mutex_args (&args, 0);
	assert_rv (CKR_OK, fx->fl->C_Initialize (&args));
	fx->initialized = true;
	exercise (fx);
	assert_rv (CKR_OK, fx->fl->C_Finalize (NULL));
	fx->initialized = false;
	c = fx_app_mutex_counts ();
	printf ("# mutexes created %d destroyed %d, lock %d unlock %d\n",
	        c.created, c.destroyed, c.locked, c.unlocked);
	assert_true (c.created > 0);
	assert_true (c.locked > 0);
	assert_num_eq (c.locked, c.unlocked);
	/* after C_Finalize the application may free its mutex system */
	assert_num_eq (c.created, c.destroyed);
}

static void
test_initialize_app_mutex_and_os (void *arg)
{
	lh_fx *fx = arg;
	CK_C_INITIALIZE_ARGS args;
	fx_mutex_counts c;

	fx_app_mutex_args (&args, CKF_OS_LOCKING_OK);
	assert_rv (CKR_OK, fx->fl->C_Initialize (&args));
	fx->initialized = true;
	exercise (fx);
	assert_rv (CKR_OK, fx->fl->C_Finalize (NULL));
	fx->initialized = false;
	c = fx_app_mutex_counts ();
	assert_num_eq (c.locked, c.unlocked);
	assert_num_eq (c.created, c.destroyed);
}

/* Some but not all of the four callbacks: CKR_ARGUMENTS_BAD. */
static void
test_initialize_partial_callbacks (void *arg)
{
	lh_fx *fx = arg;
	CK_C_INITIALIZE_ARGS full, args;
	unsigned mask;
	CK_INFO info;

	fx_app_mutex_args (&full, 0);
	for (mask = 1; mask < 15; mask++) {
		args = full;
		if (!(mask & 1))
			args.CreateMutex = NULL;
		if (!(mask & 2))
			args.DestroyMutex = NULL;
		if (!(mask & 4))
			args.LockMutex = NULL;
		if (!(mask & 8))
			args.UnlockMutex = NULL;
		args.flags = 0;
		assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_Initialize (&args));
		args.flags = CKF_OS_LOCKING_OK;
		assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_Initialize (&args));
		assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, fx->fl->C_GetInfo (&info));
	}
	/* nothing was left half-initialized */
	assert_rv (CKR_OK, fx->fl->C_Initialize (NULL));
	assert_rv (CKR_OK, fx->fl->C_Finalize (NULL));
}

static void
test_initialize_reserved (void *arg)
{
	lh_fx *fx = arg;
	CK_C_INITIALIZE_ARGS args;
	CK_INFO info;
	int dummy = 0;

	memset (&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	args.pReserved = &dummy;
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_Initialize (&args));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, fx->fl->C_GetInfo (&info));
}

static void
test_initialize_twice (void *arg)
{
	lh_fx *fx = arg;
	CK_C_INITIALIZE_ARGS args;
	CK_INFO info;

	assert_rv (CKR_CRYPTOKI_ALREADY_INITIALIZED, fx->fl->C_Initialize (NULL));
	memset (&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	assert_rv (CKR_CRYPTOKI_ALREADY_INITIALIZED, fx->fl->C_Initialize (&args));
	/* still usable */
	assert_rv (CKR_OK, fx->fl->C_GetInfo (&info));
}

static void
test_finalize_reserved (void *arg)
{
	lh_fx *fx = arg;
	CK_INFO info;
	int dummy = 0;

	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_Finalize (&dummy));
	assert_rv (CKR_OK, fx->fl->C_GetInfo (&info));
	assert_rv (CKR_OK, fx->fl->C_Finalize (NULL));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, fx->fl->C_Finalize (NULL));
	fx->initialized = false;
}

/* Everything but the function-list functions needs C_Initialize. */
static void
assert_not_initialized (lh_fx *fx, CK_SLOT_ID slot, CK_SESSION_HANDLE s)
{
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_INFO info;
	CK_SLOT_INFO sinfo;
	CK_TOKEN_INFO tinfo;
	CK_SESSION_INFO ses;
	CK_ULONG n = 8;
	CK_SLOT_ID ids[8];
	CK_MECHANISM_TYPE mechs[8];
	CK_MECHANISM_INFO minfo;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE o;
	CK_OBJECT_CLASS klass = CKO_DATA;
	CK_ATTRIBUTE a = { CKA_CLASS, &klass, sizeof klass };
	CK_BYTE buf[16];
	CK_UTF8CHAR label[32];

	fx_pad (label, sizeof label, "x");
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_GetInfo (&info));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_GetSlotList (CK_FALSE, ids, &n));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_GetSlotInfo (slot, &sinfo));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_GetTokenInfo (slot, &tinfo));
	n = 8;
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED,
	           f->C_GetMechanismList (slot, mechs, &n));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED,
	           f->C_GetMechanismInfo (slot, CKM_SHA256, &minfo));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED,
	           f->C_InitToken (slot, (CK_UTF8CHAR_PTR) FX_SO_PIN,
	                           strlen (FX_SO_PIN), label));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED,
	           f->C_OpenSession (slot, CKF_SERIAL_SESSION, NULL, NULL, &h));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_CloseAllSessions (slot));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_CloseSession (s));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_GetSessionInfo (s, &ses));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED,
	           f->C_Login (s, CKU_USER, (CK_UTF8CHAR_PTR) "1234", 4));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_Logout (s));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_CreateObject (s, &a, 1, &o));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_FindObjectsInit (s, &a, 1));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_GenerateRandom (s, buf, 16));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_SeedRandom (s, buf, 16));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, f->C_Finalize (NULL));
}

static void
test_not_initialized (void *arg)
{
	lh_fx *fx = arg;

	assert_not_initialized (fx, 0, 1);
}

/* After C_Finalize: the same, and the old session handle is gone for good. */
static void
test_not_initialized_after_finalize (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_INFO info;
	CK_SLOT_ID slot = fx->slot;
	CK_SESSION_HANDLE s = fx->session;

	fx_finalize (fx);
	assert_not_initialized (fx, slot, s);
	fx_initialize (fx);
	assert_rv (CKR_SESSION_HANDLE_INVALID, fx->fl->C_GetSessionInfo (s, &info));
	/* logged out by C_Finalize: a new session is public */
	s = fx_open (fx, slot, true);
	assert_num_eq (CKS_RW_PUBLIC_SESSION, fx_state (fx, s));
}

/* ------------------------------------------------------------------ */
/* C_GetInfo                                                           */

static void
test_info (void *arg)
{
	lh_fx *fx = arg;
	CK_INFO info;

	memset (&info, 0, sizeof info);
	assert_rv (CKR_OK, fx->fl->C_GetInfo (&info));
	assert_num_eq (2, info.cryptokiVersion.major);
	assert_num_eq (40, info.cryptokiVersion.minor);
	assert_num_eq (0, info.flags);
	assert_padded_printable (info.manufacturerID, sizeof info.manufacturerID);
	assert_padded_printable (info.libraryDescription,
	                         sizeof info.libraryDescription);
	assert_true (info.manufacturerID[0] != ' ');
	assert_true (info.libraryDescription[0] != ' ');
	assert_rv (CKR_ARGUMENTS_BAD, fx->fl->C_GetInfo (NULL));
}

/* ------------------------------------------------------------------ */
/* C_GetInterfaceList / C_GetInterface                                  */

static bool
is_pkcs11_name (const CK_INTERFACE *i)
{
	return i->pInterfaceName &&
	       strcmp ((const char *) i->pInterfaceName, "PKCS 11") == 0;
}

static const CK_VERSION *
iface_version (const CK_INTERFACE *i)
{
	return (const CK_VERSION *) i->pFunctionList;
}

static void
test_interface_list (void *arg)
{
	lh_fx *fx = arg;
	CK_C_GetInterfaceList get_list = get_interface_list_fn (fx);
	CK_INTERFACE ifs[16];
	CK_ULONG n = 0, i, small;
	bool v240 = false, v30 = false;
	int missing = 0;

	assert_rv (CKR_ARGUMENTS_BAD, get_list (NULL, NULL));
	assert_rv (CKR_OK, get_list (NULL, &n));
	assert_true (n >= 2 && n <= 16);
	small = 1;
	assert_rv (CKR_BUFFER_TOO_SMALL, get_list (ifs, &small));
	assert_num_eq (n, small);
	assert_rv (CKR_OK, get_list (ifs, &n));
	for (i = 0; i < n; i++) {
		const CK_VERSION *v;

		assert_true (ifs[i].pFunctionList != NULL);
		if (!is_pkcs11_name (&ifs[i]))
			continue;
		v = iface_version (&ifs[i]);
		if (v->major == 2 && v->minor == 40) {
			CK_FUNCTION_LIST *list = ifs[i].pFunctionList;
			FX_ALL_240 (CHECK_NOT_NULL)
			v240 = true;
		} else if (v->major == 3 && v->minor == 0) {
			CK_FUNCTION_LIST_3_0 *list = ifs[i].pFunctionList;
			FX_ALL_240 (CHECK_NOT_NULL)
			FX_ALL_30 (CHECK_NOT_NULL)
			v30 = true;
		}
	}
	assert_true (v240);
	assert_true (v30);
	assert_num_eq (0, missing);
}

static void
test_interface_default (void *arg)
{
	lh_fx *fx = arg;
	CK_C_GetInterface get = get_interface_fn (fx);
	CK_INTERFACE_PTR i = NULL;
	const CK_VERSION *v;

	assert_rv (CKR_OK, get (NULL, NULL, &i, 0));
	assert_true (i != NULL);
	assert_true (is_pkcs11_name (i));
	v = iface_version (i);
	assert_true ((v->major == 2 && v->minor == 40) ||
	             (v->major == 3 && v->minor == 0));
	assert_rv (CKR_ARGUMENTS_BAD, get (NULL, NULL, NULL, 0));
}

static void
test_interface_30 (void *arg)
{
	lh_fx *fx = arg;
	CK_C_GetInterface get = get_interface_fn (fx);
	CK_INTERFACE_PTR i = NULL;
	CK_VERSION want = { 3, 0 };
	CK_FUNCTION_LIST_3_0 *list;
	CK_INFO info;
	CK_ULONG n = 0;

	assert_rv (CKR_OK, get ((CK_UTF8CHAR_PTR) "PKCS 11", &want, &i, 0));
	assert_true (i != NULL);
	assert_true (is_pkcs11_name (i));
	list = i->pFunctionList;
	assert_num_eq (3, list->version.major);
	assert_num_eq (0, list->version.minor);
	assert_true (list->C_GetInterface != NULL);
	assert_true (list->C_GetInterfaceList != NULL);

	/* the 3.0 list drives the same module */
	assert_rv (CKR_OK, list->C_Initialize (NULL));
	fx->initialized = true;
	assert_rv (CKR_OK, list->C_GetInfo (&info));
	assert_rv (CKR_OK, list->C_GetSlotList (CK_FALSE, NULL, &n));
	assert_num_eq (1, n);
	assert_rv (CKR_CRYPTOKI_ALREADY_INITIALIZED, fx->fl->C_Initialize (NULL));
	assert_rv (CKR_OK, fx->fl->C_Finalize (NULL));
	fx->initialized = false;
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, list->C_GetInfo (&info));
}

static void
test_interface_240 (void *arg)
{
	lh_fx *fx = arg;
	CK_C_GetInterface get = get_interface_fn (fx);
	CK_INTERFACE_PTR i = NULL;
	CK_VERSION want = { 2, 40 };

	assert_rv (CKR_OK, get ((CK_UTF8CHAR_PTR) "PKCS 11", &want, &i, 0));
	assert_true (i != NULL);
	assert_true (is_pkcs11_name (i));
	assert_num_eq (2, iface_version (i)->major);
	assert_num_eq (40, iface_version (i)->minor);

	/* name only: some PKCS 11 version */
	i = NULL;
	assert_rv (CKR_OK, get ((CK_UTF8CHAR_PTR) "PKCS 11", NULL, &i, 0));
	assert_true (i != NULL && is_pkcs11_name (i));
}

static void
test_interface_unknown (void *arg)
{
	lh_fx *fx = arg;
	CK_C_GetInterface get = get_interface_fn (fx);
	CK_INTERFACE_PTR i = NULL;
	CK_VERSION v99 = { 9, 9 };

	assert_true (get ((CK_UTF8CHAR_PTR) "Vendor NoSuch", NULL, &i, 0) != CKR_OK);
	assert_true (get ((CK_UTF8CHAR_PTR) "PKCS 11", &v99, &i, 0) != CKR_OK);
	assert_rv (CKR_ARGUMENTS_BAD,
	           get ((CK_UTF8CHAR_PTR) "PKCS 11", NULL, NULL, 0));
}

/* The 3.0 message functions are not implemented yet: truthful answer. */
static void
test_interface_30_unsupported (void *arg)
{
	lh_fx *fx = arg;
	CK_C_GetInterface get = get_interface_fn (fx);
	CK_INTERFACE_PTR i = NULL;
	CK_VERSION want = { 3, 0 };
	CK_FUNCTION_LIST_3_0 *list;
	CK_MECHANISM mech = { CKM_AES_GCM, NULL, 0 };

	assert_rv (CKR_OK, get ((CK_UTF8CHAR_PTR) "PKCS 11", &want, &i, 0));
	list = i->pFunctionList;
	assert_rv (CKR_FUNCTION_NOT_SUPPORTED,
	           list->C_MessageEncryptInit (fx->session, &mech, 1));
	assert_rv (CKR_FUNCTION_NOT_SUPPORTED,
	           list->C_MessageDecryptInit (fx->session, &mech, 1));
	mech.mechanism = CKM_SHA256_HMAC;
	assert_rv (CKR_FUNCTION_NOT_SUPPORTED,
	           list->C_MessageSignInit (fx->session, &mech, 1));
	assert_rv (CKR_FUNCTION_NOT_SUPPORTED,
	           list->C_MessageVerifyInit (fx->session, &mech, 1));
}

/* ------------------------------------------------------------------ */
/* Unimplemented and legacy functions                        */

static void
test_unsupported_crypto (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	CK_MECHANISM mech = { CKM_AES_CBC_PAD, NULL, 0 };
	CK_MECHANISM sign = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_OBJECT_HANDLE key = 1;
	CK_BYTE buf[64];
	CK_ULONG len = sizeof buf;

	/* what litehsm does not offer, from the 2.40 list */
	assert_rv (CKR_FUNCTION_NOT_SUPPORTED,
	           f->C_SignRecoverInit (s, &sign, key));
	assert_rv (CKR_FUNCTION_NOT_SUPPORTED,
	           f->C_VerifyRecoverInit (s, &sign, key));
	assert_rv (CKR_FUNCTION_NOT_SUPPORTED,
	           f->C_DigestEncryptUpdate (s, buf, 16, buf, &len));
	assert_rv (CKR_FUNCTION_NOT_SUPPORTED,
	           f->C_GetOperationState (s, NULL, &len));
	/* the implemented ones answer with real codes: no key behind handle 1 */
	assert_rv (CKR_KEY_HANDLE_INVALID, f->C_EncryptInit (s, &mech, key));
	assert_rv (CKR_KEY_HANDLE_INVALID, f->C_SignInit (s, &sign, key));
}

/* SPEC: C_GetFunctionStatus and C_CancelFunction are legacy functions
 * that should simply return CKR_FUNCTION_NOT_PARALLEL. */
static void
test_legacy_parallel (void *arg)
{
	lh_fx *fx = arg;

	assert_rv (CKR_FUNCTION_NOT_PARALLEL,
	           fx->fl->C_GetFunctionStatus (fx->session));
	assert_rv (CKR_FUNCTION_NOT_PARALLEL,
	           fx->fl->C_CancelFunction (fx->session));
}

static void
test_wait_for_slot_event (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID slot = 0;
	CK_RV rv = fx->fl->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL);

	/* SPEC: with CKF_DONT_BLOCK and nothing to report, CKR_NO_EVENT */
	assert_true (rv == CKR_FUNCTION_NOT_SUPPORTED || rv == CKR_NO_EVENT);
}

/* ------------------------------------------------------------------ */
/* Configuration file                                                  */

static void
assert_bad_config (lh_fx *fx, const char *extra)
{
	CK_INFO info;

	printf ("# config line: %s\n", extra);
	fx_write_conf (fx, extra);
	assert_rv (CKR_GENERAL_ERROR, fx->fl->C_Initialize (NULL));
	assert_rv (CKR_CRYPTOKI_NOT_INITIALIZED, fx->fl->C_GetInfo (&info));
}

static void
test_config_bad (void *arg)
{
	lh_fx *fx = arg;

	assert_bad_config (fx, "no_such_key = 1");
	assert_bad_config (fx, "this line has no equals sign");
	assert_bad_config (fx, "max_pin_failures = 0");
	assert_bad_config (fx, "max_pin_failures = lots");
	assert_bad_config (fx, "max_pin_failures = 1001");
	assert_bad_config (fx, "kdf_time_cost = -1");
	assert_bad_config (fx, "kdf_memory_kib = many");
	/* the fixed file works again */
	fx_write_conf (fx, NULL);
	assert_rv (CKR_OK, fx->fl->C_Initialize (NULL));
	fx->initialized = true;
}

static void
test_config_syntax (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID ids[4];

	fx_write_conf (fx, "\n# a comment line\n   \n  max_pin_failures   =   7   \n"
	                   "\t# indented comment\n");
	assert_rv (CKR_OK, fx->fl->C_Initialize (NULL));
	fx->initialized = true;
	assert_num_eq (1, fx_slot_list (fx, ids, 4));
}

/* The failure limit from the config is used (4 here). */
static void
test_config_max_failures (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s;
	int i;

	fx_write_conf (fx, "max_pin_failures = 4");
	fx_initialize (fx);
	fx->slot = fx_new_token (fx, "limit", true);
	s = fx_open (fx, fx->slot, true);
	for (i = 0; i < 3; i++)
		assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, "wrong-pin"));
	assert_true (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_FINAL_TRY);
	assert_false (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_LOCKED);
	fx_login_rv (fx, s, CKU_USER, "wrong-pin");
	assert_true (fx_token_flags (fx, fx->slot) & CKF_USER_PIN_LOCKED);
	assert_rv (CKR_PIN_LOCKED, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
}

/* ------------------------------------------------------------------ */
/* fork                                                                */

/* Child after fork without C_Initialize: everything says
 * CKR_CRYPTOKI_NOT_INITIALIZED; then C_Initialize works. */
static void
child_not_initialized (lh_fx *fx, void *arg)
{
	CK_SLOT_ID parent_slots[16], slots[16];
	CK_ULONG np, n, i;
	CK_SESSION_INFO info;
	CK_TOKEN_INFO tinfo;

	np = *(CK_ULONG *) arg;
	memcpy (parent_slots, (CK_SLOT_ID *) arg + 1, np * sizeof (CK_SLOT_ID));
	assert_not_initialized (fx, fx->slot, fx->session);

	assert_rv (CKR_OK, fx->fl->C_Initialize (NULL));
	/* the parent's session does not exist in the child */
	assert_rv (CKR_SESSION_HANDLE_INVALID,
	           fx->fl->C_GetSessionInfo (fx->session, &info));
	/* same slots, same ids */
	n = fx_slot_list (fx, slots, 16);
	assert_num_eq (np, n);
	for (i = 0; i < n; i++)
		assert_num_eq (parent_slots[i], slots[i]);
	fx_token_info (fx, fx->slot, &tinfo);
	assert_true (fx_padded_eq (tinfo.label, 32, FX_LABEL));
	/* and the child is a full application of its own */
	{
		CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);
		fx_login (fx, s, CKU_USER, FX_USER_PIN);
		fx_create_data (fx, s, true, true, "from-forked-child", "child");
	}
	assert_rv (CKR_OK, fx->fl->C_Finalize (NULL));
}

static void
test_fork_child (void *arg)
{
	lh_fx *fx = arg;
	CK_ULONG buf[17];
	CK_OBJECT_HANDLE h[4];
	char value[32];
	pid_t pid;

	buf[0] = fx_slot_list (fx, (CK_SLOT_ID *) buf + 1, 16);
	pid = fx_fork (child_not_initialized, fx, buf);
	assert_num_eq (0, fx_wait (pid));

	/* the parent is untouched: same session, same login */
	assert_num_eq (CKS_RW_USER_FUNCTIONS, fx_state (fx, fx->session));
	assert_num_eq (1, fx_find_label (fx, fx->session, "from-forked-child", h, 4));
	assert_num_eq (5, fx_get_bytes (fx, fx->session, h[0], CKA_VALUE,
	                                value, sizeof value));
	assert_mem_eq ("child", 5, value, 5);
}

/* A forked child that re-initializes creates a token; the parent, still
 * running, sees it in the slot that was free. */
static void
child_init_token (lh_fx *fx, void *arg)
{
	CK_SLOT_ID free_slot;

	assert_rv (CKR_OK, fx->fl->C_Initialize (NULL));
	free_slot = fx_free_slot (fx);
	assert_num_eq (*(CK_SLOT_ID *) arg, free_slot);
	assert_rv (CKR_OK, fx_init_token_rv (fx, free_slot, FX_SO_PIN, "forked token"));
	assert_rv (CKR_OK, fx->fl->C_Finalize (NULL));
}

static void
test_fork_creates_token (void *arg)
{
	lh_fx *fx = arg;
	CK_SLOT_ID free_slot = fx_free_slot (fx);
	CK_TOKEN_INFO info;

	assert_num_eq (0, fx_wait (fx_fork (child_init_token, fx, &free_slot)));
	fx_token_info (fx, free_slot, &info);
	assert_true (info.flags & CKF_TOKEN_INITIALIZED);
	assert_true (fx_padded_eq (info.label, 32, "forked token"));
	assert_true (fx_free_slot (fx) != free_slot);
}

/* ------------------------------------------------------------------ */
/* Other processes (this program with --child CMD ...)                  */

static CK_SLOT_ID
child_token_slot (lh_fx *fx, const char *label)
{
	CK_SLOT_ID ids[64];
	CK_ULONG i, n = fx_slot_list (fx, ids, 64);
	CK_TOKEN_INFO info;

	for (i = 0; i < n; i++) {
		fx_token_info (fx, ids[i], &info);
		if ((info.flags & CKF_TOKEN_INITIALIZED) &&
		    fx_padded_eq (info.label, 32, label))
			return ids[i];
	}
	assert_true (!"token not found");
	return 0;
}

/*
 *   --child slots                      print "ID FLAGS LABEL" per slot
 *   --child init-token LABEL           init the free slot; print its id
 *   --child create TOKEN LABEL VALUE PRIV   create a token data object
 *   --child destroy TOKEN LABEL        destroy the objects with LABEL
 *   --child set-pin TOKEN OLD NEW      change the user PIN
 */
static int
child_main (int argc, char **argv)
{
	lh_fx fx;
	const char *cmd = argc > 2 ? argv[2] : "";
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;

	memset (&fx, 0, sizeof fx);
	fx_load (&fx);
	fx_initialize (&fx);
	if (strcmp (cmd, "slots") == 0) {
		CK_SLOT_ID ids[64];
		CK_ULONG i, n = fx_slot_list (&fx, ids, 64);
		CK_TOKEN_INFO info;

		for (i = 0; i < n; i++) {
			fx_token_info (&fx, ids[i], &info);
			printf ("# %lu %lu %.32s\n", (unsigned long) ids[i],
			        (unsigned long) (info.flags & CKF_TOKEN_INITIALIZED),
			        (const char *) info.label);
		}
	} else if (strcmp (cmd, "init-token") == 0 && argc == 4) {
		slot = fx_new_token (&fx, argv[3], true);
		printf ("%lu\n", (unsigned long) slot);
	} else if (strcmp (cmd, "create") == 0 && argc == 7) {
		slot = child_token_slot (&fx, argv[3]);
		s = fx_open (&fx, slot, true);
		fx_login (&fx, s, CKU_USER, FX_USER_PIN);
		fx_create_data (&fx, s, true, strcmp (argv[6], "1") == 0,
		                argv[4], argv[5]);
	} else if (strcmp (cmd, "destroy") == 0 && argc == 5) {
		CK_OBJECT_HANDLE h[16];
		CK_ULONG i, n;

		slot = child_token_slot (&fx, argv[3]);
		s = fx_open (&fx, slot, true);
		fx_login (&fx, s, CKU_USER, FX_USER_PIN);
		n = fx_find_label (&fx, s, argv[4], h, 16);
		assert_true (n > 0);
		for (i = 0; i < n; i++)
			assert_rv (CKR_OK, fx.fl->C_DestroyObject (s, h[i]));
	} else if (strcmp (cmd, "set-pin") == 0 && argc == 6) {
		slot = child_token_slot (&fx, argv[3]);
		s = fx_open (&fx, slot, true);
		fx_login (&fx, s, CKU_USER, argv[4]);
		assert_rv (CKR_OK, fx.fl->C_SetPIN (s, (CK_UTF8CHAR_PTR) argv[4],
		                                    strlen (argv[4]),
		                                    (CK_UTF8CHAR_PTR) argv[5],
		                                    strlen (argv[5])));
	} else {
		fprintf (stderr, "unknown child command\n");
		return 2;
	}
	fx_finalize (&fx);
	fx_unload (&fx);
	return 0;
}

static void
run_child (const char *const *args, char *out, size_t size)
{
	int status = fx_run_self (args, out, size);

	if (status != 0)
		printf ("# child %s %s exited with %d\n", args[0], args[1], status);
	assert_num_eq (0, status);
}

/* Slot ids and labels are the same in a fresh process. */
static void
test_process_slot_ids (void *arg)
{
	lh_fx *fx = arg;
	const char *const args[] = { "--child", "slots", NULL };
	char out[4096], mine[4096];
	CK_SLOT_ID ids[16];
	CK_TOKEN_INFO info;
	CK_ULONG i, n;
	size_t used = 0;

	fx_new_token (fx, "second token", true);
	n = fx_slot_list (fx, ids, 16);
	assert_num_eq (3, n);
	for (i = 0; i < n; i++) {
		fx_token_info (fx, ids[i], &info);
		used += snprintf (mine + used, sizeof mine - used, "# %lu %lu %.32s\n",
		                  (unsigned long) ids[i],
		                  (unsigned long) (info.flags & CKF_TOKEN_INITIALIZED),
		                  (const char *) info.label);
	}
	run_child (args, out, sizeof out);
	if (strcmp (mine, out) != 0)
		printf ("# parent:\n%s# child:\n%s", mine, out);
	assert_true (strcmp (mine, out) == 0);
}

/* A token initialized by another process appears without a restart, in
 * the slot that was free, and a new free slot appears. */
static void
test_process_token_created (void *arg)
{
	lh_fx *fx = arg;
	const char *const args[] = { "--child", "init-token", "made elsewhere", NULL };
	CK_SLOT_ID free_slot = fx_free_slot (fx), new_free;
	CK_TOKEN_INFO info;
	CK_SESSION_HANDLE s;
	char out[256];

	run_child (args, out, sizeof out);
	assert_num_eq (free_slot, strtoul (out, NULL, 10));

	assert_true (fx_slot_listed (fx, free_slot));
	fx_token_info (fx, free_slot, &info);
	assert_true (info.flags & CKF_TOKEN_INITIALIZED);
	assert_true (info.flags & CKF_USER_PIN_INITIALIZED);
	assert_true (fx_padded_eq (info.label, 32, "made elsewhere"));
	new_free = fx_free_slot (fx);
	assert_true (new_free != free_slot);

	s = fx_open (fx, free_slot, true);
	fx_login (fx, s, CKU_USER, FX_USER_PIN);
	fx_create_data (fx, s, true, true, "here", "x");
}

/* Objects created by another process are found without a restart. */
static void
test_process_object_created (void *arg)
{
	lh_fx *fx = arg;
	const char *const pub[] = { "--child", "create", FX_LABEL, "elsewhere-pub",
	                            "public value", "0", NULL };
	const char *const priv[] = { "--child", "create", FX_LABEL, "elsewhere-priv",
	                             "private value", "1", NULL };
	CK_OBJECT_HANDLE h[4];
	char value[64];
	CK_ULONG len;

	/* prime any per-process cache first */
	assert_num_eq (0, fx_find_label (fx, fx->session, "elsewhere-pub", h, 4));
	run_child (pub, NULL, 0);
	run_child (priv, NULL, 0);

	assert_num_eq (1, fx_find_label (fx, fx->session, "elsewhere-pub", h, 4));
	len = fx_get_bytes (fx, fx->session, h[0], CKA_VALUE, value, sizeof value);
	assert_mem_eq ("public value", 12, value, len);
	assert_num_eq (1, fx_find_label (fx, fx->session, "elsewhere-priv", h, 4));
	len = fx_get_bytes (fx, fx->session, h[0], CKA_VALUE, value, sizeof value);
	assert_mem_eq ("private value", 13, value, len);
	assert_true (fx_get_bool (fx, fx->session, h[0], CKA_PRIVATE));
}

/* An object destroyed by another process is gone here, too. */
static void
test_process_object_destroyed (void *arg)
{
	lh_fx *fx = arg;
	const char *const args[] = { "--child", "destroy", FX_LABEL, "doomed", NULL };
	CK_OBJECT_HANDLE o, h[4];
	char value[16];
	CK_ULONG len = sizeof value;

	o = fx_create_data (fx, fx->session, true, false, "doomed", "v");
	assert_num_eq (1, fx_find_label (fx, fx->session, "doomed", h, 4));
	run_child (args, NULL, 0);
	assert_num_eq (0, fx_find_label (fx, fx->session, "doomed", h, 4));
	assert_rv (CKR_OBJECT_HANDLE_INVALID,
	           fx_get_rv (fx, fx->session, o, CKA_VALUE, value, &len));
}

/* A PIN changed by another process is the PIN here at the next login. */
static void
test_process_pin_changed (void *arg)
{
	lh_fx *fx = arg;
	const char *const args[] = { "--child", "set-pin", FX_LABEL, FX_USER_PIN,
	                             "changed-elsewhere", NULL };
	CK_SESSION_HANDLE s = fx_open (fx, fx->slot, true);

	run_child (args, NULL, 0);
	assert_rv (CKR_PIN_INCORRECT, fx_login_rv (fx, s, CKU_USER, FX_USER_PIN));
	assert_rv (CKR_OK, fx_login_rv (fx, s, CKU_USER, "changed-elsewhere"));
}

int
main (int argc, char **argv)
{
	fx_main ();
	if (argc > 1 && strcmp (argv[1], "--child") == 0)
		return fx_child_run (child_main, argc, argv);

	lh_test_add ("/init/function-list", test_function_list, FX (fx_loaded));
	lh_test_add ("/init/exports/only-c-functions", test_exports, FX (fx_loaded));
	lh_test_add ("/init/initialize/null-args", test_initialize_null, FX (fx_loaded));
	lh_test_add ("/init/initialize/os-locking", test_initialize_os_locking, FX (fx_loaded));
	lh_test_add ("/init/initialize/cant-create-threads", test_initialize_no_threads, FX (fx_loaded));
	lh_test_add ("/init/initialize/app-mutex", test_initialize_app_mutex, FX (fx_loaded));
	lh_test_add ("/init/initialize/app-mutex-and-os-locking", test_initialize_app_mutex_and_os, FX (fx_loaded));
	lh_test_add ("/init/initialize/partial-callbacks", test_initialize_partial_callbacks, FX (fx_loaded));
	lh_test_add ("/init/initialize/reserved", test_initialize_reserved, FX (fx_loaded));
	lh_test_add ("/init/initialize/twice", test_initialize_twice, FX (fx_init));
	lh_test_add ("/init/finalize/reserved", test_finalize_reserved, FX (fx_init));
	lh_test_add ("/init/not-initialized/before", test_not_initialized, FX (fx_loaded));
	lh_test_add ("/init/not-initialized/after-finalize", test_not_initialized_after_finalize, FX (fx_user));
	lh_test_add ("/init/info", test_info, FX (fx_init));
	lh_test_add ("/init/interface/list", test_interface_list, FX (fx_loaded));
	lh_test_add ("/init/interface/default", test_interface_default, FX (fx_loaded));
	lh_test_add ("/init/interface/3.0", test_interface_30, FX (fx_loaded));
	lh_test_add ("/init/interface/2.40", test_interface_240, FX (fx_loaded));
	lh_test_add ("/init/interface/unknown", test_interface_unknown, FX (fx_loaded));
	lh_test_add ("/init/interface/3.0-message-unsupported", test_interface_30_unsupported, FX (fx_user));
	lh_test_add ("/init/unsupported/crypto", test_unsupported_crypto, FX (fx_user));
	lh_test_add ("/init/legacy/not-parallel", test_legacy_parallel, FX (fx_user));
	lh_test_add ("/init/wait-for-slot-event", test_wait_for_slot_event, FX (fx_init));
	lh_test_add ("/init/config/bad", test_config_bad, FX (fx_loaded));
	lh_test_add ("/init/config/syntax", test_config_syntax, FX (fx_loaded));
	lh_test_add ("/init/config/max-pin-failures", test_config_max_failures, FX (fx_loaded));
	lh_test_add ("/fork/child-reinitializes", test_fork_child, FX (fx_user));
	lh_test_add ("/fork/child-creates-token", test_fork_creates_token, FX (fx_init));
	lh_test_add ("/process/slot-ids-stable", test_process_slot_ids, FX (fx_ready));
	lh_test_add ("/process/token-created-elsewhere", test_process_token_created, FX (fx_init));
	lh_test_add ("/process/object-created-elsewhere", test_process_object_created, FX (fx_user));
	lh_test_add ("/process/object-destroyed-elsewhere", test_process_object_destroyed, FX (fx_user));
	lh_test_add ("/process/pin-changed-elsewhere", test_process_pin_changed, FX (fx_ready));
	return lh_test_run ();
}
