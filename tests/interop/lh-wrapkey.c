/*
 * lh-wrapkey.c - a small PKCS#11 client for tests/interop/crypto-wrap-master.sh:
 * a data key wrapped under a token master key, kept outside the token (a
 * file, as an application would keep it in Redis), and unwrapped by
 * another process.
 *
 *   lh-wrapkey wrap   TOKEN PIN MASTER FILE
 *       generate a session AES-256 data key (extractable, sensitive),
 *       write it wrapped with CKM_AES_KEY_WRAP_PAD under the token key
 *       labelled MASTER to FILE, and FILE.ct = AES-CBC of a fixed
 *       plaintext under the data key
 *   lh-wrapkey unwrap TOKEN PIN MASTER FILE
 *       unwrap FILE under MASTER into a session key and decrypt FILE.ct;
 *       prints the plaintext
 *   lh-wrapkey attack TOKEN PIN MASTER
 *       every way we know to get at MASTER's value; prints one line
 *       "NAME rv=0x..." per attempt (the script checks the codes)
 *
 * The module is $LH_MODULE.  Exit status: 0 done, 1 a PKCS#11 call
 * failed (the call and its rv go to stderr), 2 usage.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#define PLAINTEXT "the quick brown fox jumps over the lazy redis, 42 times"

static CK_FUNCTION_LIST_PTR fl;
static CK_SESSION_HANDLE sess;

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const CK_OBJECT_CLASS secret_class = CKO_SECRET_KEY;
static const CK_KEY_TYPE aes_type = CKK_AES;
static const uint8_t iv[16] = "litehsm-test-iv";

static int
fail (const char *call, CK_RV rv)
{
	fprintf (stderr, "lh-wrapkey: %s: rv 0x%lx\n", call, (unsigned long) rv);
	return 1;
}

#define TRY(call) do { CK_RV r_ = (call); \
	if (r_ != CKR_OK) return fail (#call, r_); } while (0)

/* Load the module, open a session on the token labelled label, log in. */
static int
open_token (const char *label, const char *pin)
{
	CK_C_GetFunctionList get;
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO ti;
	const char *path = getenv ("LH_MODULE");
	size_t len = strlen (label);
	void *dl;

	if (!path || !(dl = dlopen (path, RTLD_NOW | RTLD_LOCAL))) {
		fprintf (stderr, "lh-wrapkey: cannot load LH_MODULE (%s)\n",
		         path ? dlerror () : "unset");
		return 1;
	}
	get = (CK_C_GetFunctionList) dlsym (dl, "C_GetFunctionList");
	if (!get)
		return fail ("dlsym C_GetFunctionList", CKR_GENERAL_ERROR);
	TRY (get (&fl));
	TRY (fl->C_Initialize (NULL));
	TRY (fl->C_GetSlotList (CK_TRUE, slots, &n));
	for (i = 0; i < n; i++) {
		TRY (fl->C_GetTokenInfo (slots[i], &ti));
		if (len <= sizeof ti.label && memcmp (ti.label, label, len) == 0 &&
		    (len == sizeof ti.label || ti.label[len] == ' '))
			break;
	}
	if (i == n)
		return fail ("no token with that label", CKR_TOKEN_NOT_PRESENT);
	TRY (fl->C_OpenSession (slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION,
	                        NULL, NULL, &sess));
	TRY (fl->C_Login (sess, CKU_USER, (CK_UTF8CHAR_PTR) pin, strlen (pin)));
	return 0;
}

static int
find_key (const char *label, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, (void *) &secret_class, sizeof secret_class },
		{ CKA_LABEL, (void *) label, strlen (label) },
	};
	CK_ULONG got = 0;

	TRY (fl->C_FindObjectsInit (sess, t, 2));
	TRY (fl->C_FindObjects (sess, out, 1, &got));
	TRY (fl->C_FindObjectsFinal (sess));
	if (got != 1)
		return fail ("no secret key with that label", CKR_KEY_HANDLE_INVALID);
	return 0;
}

static int
write_file (const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen (path, "wb");

	if (!f || fwrite (p, 1, n, f) != n || fclose (f) != 0) {
		perror (path);
		return 1;
	}
	return 0;
}

static int
read_file (const char *path, uint8_t *p, size_t max, CK_ULONG *n)
{
	FILE *f = fopen (path, "rb");

	if (!f) {
		perror (path);
		return 1;
	}
	*n = fread (p, 1, max, f);
	fclose (f);
	return 0;
}

static int
cmd_wrap (CK_OBJECT_HANDLE master, const char *file)
{
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_MECHANISM cbc = { CKM_AES_CBC_PAD, (void *) iv, sizeof iv };
	CK_ULONG vlen = 32, n;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, (void *) &secret_class, sizeof secret_class },
		{ CKA_KEY_TYPE, (void *) &aes_type, sizeof aes_type },
		{ CKA_VALUE_LEN, &vlen, sizeof vlen },
		{ CKA_TOKEN, (void *) &no, 1 },
		{ CKA_SENSITIVE, (void *) &yes, 1 },
		{ CKA_EXTRACTABLE, (void *) &yes, 1 },
		{ CKA_ENCRYPT, (void *) &yes, 1 },
		{ CKA_DECRYPT, (void *) &yes, 1 },
	};
	CK_OBJECT_HANDLE dk;
	CK_BYTE out[512];
	char ct[4096];

	TRY (fl->C_GenerateKey (sess, &gen, t, sizeof t / sizeof t[0], &dk));
	n = sizeof out;
	TRY (fl->C_WrapKey (sess, &kwp, master, dk, out, &n));
	if (write_file (file, out, n))
		return 1;
	n = sizeof out;
	TRY (fl->C_EncryptInit (sess, &cbc, dk));
	TRY (fl->C_Encrypt (sess, (CK_BYTE_PTR) PLAINTEXT, strlen (PLAINTEXT),
	                    out, &n));
	snprintf (ct, sizeof ct, "%s.ct", file);
	return write_file (ct, out, n);
}

static int
cmd_unwrap (CK_OBJECT_HANDLE master, const char *file)
{
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_MECHANISM cbc = { CKM_AES_CBC_PAD, (void *) iv, sizeof iv };
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, (void *) &secret_class, sizeof secret_class },
		{ CKA_KEY_TYPE, (void *) &aes_type, sizeof aes_type },
		{ CKA_TOKEN, (void *) &no, 1 },
		{ CKA_ENCRYPT, (void *) &no, 1 },
		{ CKA_DECRYPT, (void *) &yes, 1 },
	};
	CK_OBJECT_HANDLE dk;
	CK_BYTE in[4096], out[4096];
	CK_ULONG n, m;
	char ct[4096];

	if (read_file (file, in, sizeof in, &n))
		return 1;
	TRY (fl->C_UnwrapKey (sess, &kwp, master, in, n, t,
	                      sizeof t / sizeof t[0], &dk));
	snprintf (ct, sizeof ct, "%s.ct", file);
	if (read_file (ct, in, sizeof in, &n))
		return 1;
	m = sizeof out;
	TRY (fl->C_DecryptInit (sess, &cbc, dk));
	TRY (fl->C_Decrypt (sess, in, n, out, &m));
	printf ("%.*s\n", (int) m, (const char *) out);
	return 0;
}

static void
report (const char *name, CK_RV rv)
{
	printf ("%s rv=0x%lx\n", name, (unsigned long) rv);
}

/* Each attempt is reported, none stops the others. */
static int
cmd_attack (CK_OBJECT_HANDLE master)
{
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_MECHANISM ecb = { CKM_AES_ECB, NULL, 0 };
	CK_ULONG vlen = 32, n;
	CK_ATTRIBUTE kt[] = {
		{ CKA_CLASS, (void *) &secret_class, sizeof secret_class },
		{ CKA_KEY_TYPE, (void *) &aes_type, sizeof aes_type },
		{ CKA_VALUE_LEN, &vlen, sizeof vlen },
		{ CKA_TOKEN, (void *) &no, 1 },
		{ CKA_WRAP, (void *) &yes, 1 },
		{ CKA_UNWRAP, (void *) &no, 1 },
		{ CKA_ENCRYPT, (void *) &no, 1 },
		{ CKA_DECRYPT, (void *) &no, 1 },
	};
	CK_ATTRIBUTE insens = { CKA_SENSITIVE, (void *) &no, 1 };
	CK_ATTRIBUTE extr = { CKA_EXTRACTABLE, (void *) &yes, 1 };
	CK_ATTRIBUTE dec = { CKA_DECRYPT, (void *) &yes, 1 };
	CK_OBJECT_HANDLE k = CK_INVALID_HANDLE, copy = CK_INVALID_HANDLE;
	CK_BYTE buf[512];
	CK_ATTRIBUTE val = { CKA_VALUE, buf, sizeof buf };
	CK_RV rv;

	report ("get-value", fl->C_GetAttributeValue (sess, master, &val, 1));
	printf ("get-value-len %ld\n", (long) val.ulValueLen);
	report ("set-insensitive", fl->C_SetAttributeValue (sess, master, &insens, 1));
	report ("set-extractable", fl->C_SetAttributeValue (sess, master, &extr, 1));
	report ("copy-insensitive", fl->C_CopyObject (sess, master, &insens, 1, &copy));
	rv = fl->C_GenerateKey (sess, &gen, kt, sizeof kt / sizeof kt[0], &k);
	report ("generate-kek", rv);
	n = sizeof buf;
	report ("wrap-master", fl->C_WrapKey (sess, &kwp, k, master, buf, &n));
	n = sizeof buf;
	report ("wrap-self", fl->C_WrapKey (sess, &kwp, master, master, buf, &n));
	/* Clulow: give the master key decrypt, then decrypt what it wraps */
	report ("set-decrypt", fl->C_SetAttributeValue (sess, master, &dec, 1));
	report ("decrypt-init", fl->C_DecryptInit (sess, &ecb, master));
	report ("encrypt-init", fl->C_EncryptInit (sess, &ecb, master));
	val.ulValueLen = sizeof buf;
	report ("get-value-again", fl->C_GetAttributeValue (sess, master, &val, 1));
	return 0;
}

int
main (int argc, char **argv)
{
	CK_OBJECT_HANDLE master;
	int rc;

	if (argc < 5 || (strcmp (argv[1], "attack") != 0 && argc < 6)) {
		fprintf (stderr, "usage: lh-wrapkey wrap|unwrap TOKEN PIN MASTER FILE\n"
		                 "       lh-wrapkey attack TOKEN PIN MASTER\n");
		return 2;
	}
	if (open_token (argv[2], argv[3]) || find_key (argv[4], &master))
		return 1;
	if (strcmp (argv[1], "wrap") == 0)
		rc = cmd_wrap (master, argv[5]);
	else if (strcmp (argv[1], "unwrap") == 0)
		rc = cmd_unwrap (master, argv[5]);
	else if (strcmp (argv[1], "attack") == 0)
		rc = cmd_attack (master);
	else
		rc = 2;
	fl->C_Finalize (NULL);
	return rc;
}
