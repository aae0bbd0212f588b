/*
 * lh-watch.c - a long-running PKCS#11 process for tests/interop/multiproc.sh.
 *
 *   lh-watch MODULE TOKEN_LABEL PIN OBJECT_LABEL TIMEOUT_SECONDS
 *
 * dlopens MODULE, calls C_Initialize once and then, without ever
 * re-initializing, waits for what another process does to the token store:
 *
 *   1. polls C_GetSlotList/C_GetTokenInfo until an initialized token labelled
 *      TOKEN_LABEL appears                      -> prints "token LABEL slot ID"
 *      and until its user PIN is set            -> prints "pin-set"
 *   2. opens a session and logs in with PIN     -> prints "login"
 *   3. polls C_FindObjects{Init,,Final} for a data object labelled
 *      OBJECT_LABEL                             -> prints "object LABEL value V"
 *   4. polls until that object is gone again    -> prints "gone LABEL"
 *
 * It prints "ready" after C_Initialize, one line per step, and a "fail ..."
 * line (exit status 1) on an unexpected return value or when TIMEOUT_SECONDS
 * pass.  C_GetTokenInfo errors other than TOKEN_NOT_PRESENT/SLOT_ID_INVALID
 * while polling are printed as "error ..." lines and polled through, so
 * the script can tell a passing glitch from a token that never appears.  Output is line-buffered so the script can follow it.  It uses only
 * the function list, as any application does.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR f;
static struct timespec deadline;
static CK_RV last_error = CKR_OK;       /* last C_GetTokenInfo error shown */

static void
fail (const char *what, CK_RV rv)
{
	printf ("fail %s: rv 0x%lx\n", what, (unsigned long)rv);
	exit (1);
}

/* Sleep 50 ms; fail when the deadline has passed. */
static void
tick (const char *waiting_for)
{
	struct timespec now, pause = { 0, 50 * 1000 * 1000 };

	clock_gettime (CLOCK_MONOTONIC, &now);
	if (now.tv_sec > deadline.tv_sec ||
	    (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
		printf ("fail timeout waiting for %s\n", waiting_for);
		exit (1);
	}
	nanosleep (&pause, NULL);
}

/* Does the blank-padded 32-byte field equal the C string s? */
static bool
padded_eq (const CK_UTF8CHAR field[32], const char *s)
{
	size_t n = strlen (s), i;

	if (n > 32 || memcmp (field, s, n) != 0)
		return false;
	for (i = n; i < 32; i++)
		if (field[i] != ' ')
			return false;
	return true;
}

/* Find an initialized token with this label (and a user PIN, if asked). */
static bool
find_token (const char *label, bool need_pin, CK_SLOT_ID *out)
{
	CK_SLOT_ID slots[256];
	CK_ULONG n = 256, i;
	CK_TOKEN_INFO ti;
	CK_RV rv;

	rv = f->C_GetSlotList (CK_TRUE, slots, &n);
	if (rv != CKR_OK)
		fail ("C_GetSlotList", rv);
	for (i = 0; i < n; i++) {
		rv = f->C_GetTokenInfo (slots[i], &ti);
		if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_SLOT_ID_INVALID)
			continue;     /* raced with a change; look again later */
		if (rv != CKR_OK) {
			/* Reported (once per value), then polled again: the
			 * test decides whether a passing error is acceptable. */
			if (rv != last_error)
				printf ("error C_GetTokenInfo slot %lu: rv 0x%lx\n",
				        (unsigned long)slots[i], (unsigned long)rv);
			last_error = rv;
			continue;
		}
		if ((ti.flags & CKF_TOKEN_INITIALIZED) &&
		    (!need_pin || (ti.flags & CKF_USER_PIN_INITIALIZED)) &&
		    padded_eq (ti.label, label)) {
			*out = slots[i];
			return true;
		}
	}
	return false;
}

/* Search for a data object by label; on a hit copy its value (NUL-ended). */
static bool
find_object (CK_SESSION_HANDLE s, const char *label, char *value, size_t vlen)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, (void *)label, strlen (label) },
	};
	CK_OBJECT_HANDLE h;
	CK_ULONG count = 0;
	CK_ATTRIBUTE val = { CKA_VALUE, value, vlen - 1 };
	CK_RV rv;

	rv = f->C_FindObjectsInit (s, tmpl, 2);
	if (rv != CKR_OK)
		fail ("C_FindObjectsInit", rv);
	rv = f->C_FindObjects (s, &h, 1, &count);
	if (rv != CKR_OK)
		fail ("C_FindObjects", rv);
	rv = f->C_FindObjectsFinal (s);
	if (rv != CKR_OK)
		fail ("C_FindObjectsFinal", rv);
	if (count == 0)
		return false;
	rv = f->C_GetAttributeValue (s, h, &val, 1);
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		return false;         /* deleted between find and read */
	if (rv != CKR_OK)
		fail ("C_GetAttributeValue", rv);
	value[val.ulValueLen] = '\0';
	value[strcspn (value, "\r\n")] = '\0';
	return true;
}

int
main (int argc, char **argv)
{
	CK_C_GetFunctionList get_list;
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;
	char value[256];
	void *dl;
	CK_RV rv;

	if (argc != 6) {
		fprintf (stderr, "usage: %s MODULE TOKEN_LABEL PIN OBJECT_LABEL TIMEOUT\n",
		         argv[0]);
		return 2;
	}
	setvbuf (stdout, NULL, _IOLBF, 0);
	clock_gettime (CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += atoi (argv[5]);

	dl = dlopen (argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		printf ("fail dlopen: %s\n", dlerror ());
		return 1;
	}
	get_list = (CK_C_GetFunctionList)dlsym (dl, "C_GetFunctionList");
	if (!get_list) {
		printf ("fail no C_GetFunctionList\n");
		return 1;
	}
	rv = get_list (&f);
	if (rv != CKR_OK)
		fail ("C_GetFunctionList", rv);
	rv = f->C_Initialize (&args);
	if (rv != CKR_OK)
		fail ("C_Initialize", rv);
	printf ("ready\n");

	while (!find_token (argv[2], false, &slot))
		tick ("the token");
	printf ("token %s slot %lu\n", argv[2], (unsigned long)slot);
	while (!find_token (argv[2], true, &slot))
		tick ("the user PIN");
	printf ("pin-set\n");

	rv = f->C_OpenSession (slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		fail ("C_OpenSession", rv);
	rv = f->C_Login (s, CKU_USER, (CK_UTF8CHAR_PTR)argv[3], strlen (argv[3]));
	if (rv != CKR_OK)
		fail ("C_Login", rv);
	printf ("login\n");

	while (!find_object (s, argv[4], value, sizeof value))
		tick ("the object");
	printf ("object %s value %s\n", argv[4], value);

	while (find_object (s, argv[4], value, sizeof value))
		tick ("the object to go");
	printf ("gone %s\n", argv[4]);

	f->C_Logout (s);
	f->C_CloseSession (s);
	rv = f->C_Finalize (NULL);
	if (rv != CKR_OK)
		fail ("C_Finalize", rv);
	/* No dlclose: an ASan build would lose the module's symbols for its report. */
	return 0;
}
