/*
 * cmd_secret_crypt.c - "litehsm secret encrypt --with KEY" and
 * "secret decrypt --with KEY": seal and open data (stdin to stdout) under
 * a data key derived from KEY inside the token, so that KEY itself (a
 * wrapping key, say) never encrypts or decrypts and the strict policy
 * stays intact.
 *
 * Per message: a random 32-byte salt and 12-byte IV (C_GenerateRandom);
 * C_DeriveKey with CKM_HKDF_DERIVE (SHA-256, extract and expand, salt =
 * the salt, info = "litehsm secret encrypt v1") makes a 256-bit AES
 * session key, sensitive and unextractable, that can only encrypt (or only
 * decrypt); AES-256-GCM with the header as additional data; the session
 * key is destroyed right after.  The blob (documented in litehsm(1)):
 *
 *   offset  size  field
 *        0     4  magic "LHS1"
 *        4     1  version (1)
 *        5    32  HKDF salt
 *       37    12  GCM IV
 *       49     n  ciphertext
 *     49+n    16  GCM tag
 *
 * The first 49 bytes (the header) are GCM's additional data, so any
 * change to any byte makes decrypt fail, and decrypt writes nothing
 * unless the whole blob checks out.
 */
#include "tools/cmd.h"
#include "pkcs11/pkcs11_3.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

enum { OPT_WITH = LH_OPT_CMD };

#define HDR_MAGIC "LHS1"
#define HDR_VERSION 1
#define SALT_LEN 32
#define IV_LEN 12
#define TAG_LEN 16
#define HDR_LEN (4 + 1 + SALT_LEN + IV_LEN)
#define DATA_MAX ((size_t)64 << 20)
#define HKDF_INFO "litehsm secret encrypt v1"

static const lh_opt crypt_opts[] = {
	{ "with", "KEY", OPT_WITH, "the key the data key is derived from" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd encrypt_cmd = {
	.name = "secret encrypt",
	.summary = "Seal the data on stdin (up to 64 MiB) and write the blob\n"
	           "to stdout: AES-256-GCM under a one-message key derived from\n"
	           "KEY in the token (HKDF-SHA-256 with a random salt).  KEY\n"
	           "needs the derive usage: a generic secret or a --wrapping key.",
	.details = "The blob format is described in litehsm(1).\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = crypt_opts,
};

static const lh_cmd decrypt_cmd = {
	.name = "secret decrypt",
	.summary = "Open a blob made by 'secret encrypt --with KEY' (on stdin)\n"
	           "and write the data to stdout.  A blob that was changed or cut\n"
	           "short, or sealed under another key, is refused and nothing is\n"
	           "written.",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = crypt_opts,
};

static int
with_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	*(const char **)ctx = arg;
	return LH_CONTINUE;
}

static int
damaged (lh_tool *t)
{
	return lh_error (t, LH_EXIT_FAIL, "check that it was made by 'litehsm "
	                 "secret encrypt' with the same --with key",
	                 "the input is not a litehsm blob or damaged");
}

/* The one-message data key: derived from base with salt, encrypt-only
 * (enc) or decrypt-only. */
static int
derive (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE base,
        const char *with, unsigned char *salt, bool enc,
        CK_OBJECT_HANDLE *out)
{
	CK_HKDF_PARAMS hp = {
		.bExtract = CK_TRUE,
		.bExpand = CK_TRUE,
		.prfHashMechanism = CKM_SHA256,
		.ulSaltType = CKF_HKDF_SALT_DATA,
		.pSalt = salt,
		.ulSaltLen = SALT_LEN,
		.hSaltKey = CK_INVALID_HANDLE,
		.pInfo = (CK_BYTE *)HKDF_INFO,
		.ulInfoLen = sizeof HKDF_INFO - 1,
	};
	CK_MECHANISM mech = { CKM_HKDF_DERIVE, &hp, sizeof hp };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG vlen = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL e = enc ? CK_TRUE : CK_FALSE, d = enc ? CK_FALSE : CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_VALUE_LEN, &vlen, sizeof vlen },
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_EXTRACTABLE, &no, sizeof no },
		{ CKA_ENCRYPT, &e, sizeof e },
		{ CKA_DECRYPT, &d, sizeof d },
		{ CKA_WRAP, &no, sizeof no },
		{ CKA_UNWRAP, &no, sizeof no },
		{ CKA_DERIVE, &no, sizeof no },
		{ CKA_SIGN, &no, sizeof no },
		{ CKA_VERIFY, &no, sizeof no },
	};
	CK_RV rv;

	rv = c->f->C_DeriveKey (c->h, &mech, base, tmpl,
	                        sizeof tmpl / sizeof tmpl[0], out);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, rv == CKR_KEY_FUNCTION_NOT_PERMITTED ?
		                    "use a key with the derive usage, within its "
		                    "dates (a generic secret or a --wrapping key)" :
		                    rv == CKR_KEY_TYPE_INCONSISTENT ? "use a generic "
		                    "secret or an AES key" : NULL,
		                    "cannot derive a data key from \"%s\"", with);
	return LH_EXIT_OK;
}

static int
run (lh_tool *t, int argc, char **argv, bool enc)
{
	const char *with = NULL;
	CK_GCM_PARAMS gp;
	CK_MECHANISM mech = { CKM_AES_GCM, &gp, sizeof gp };
	CK_OBJECT_HANDLE base, key = CK_INVALID_HANDLE;
	unsigned char *in = NULL, *out = NULL, hdr[HDR_LEN];
	size_t inlen = 0, outcap = 0;
	CK_ULONG outlen;
	lh_secret_ctx c;
	CK_RV rv;
	int rc;

	memset (&c, 0, sizeof c);
	if ((rc = lh_args_parse (t, enc ? &encrypt_cmd : &decrypt_cmd, argc,
	                         argv, with_opt, &with)) != LH_CONTINUE)
		return rc;
	if (!with)
		return lh_error (t, LH_EXIT_USAGE, enc ? "see 'litehsm secret "
		                 "encrypt --help'" : "see 'litehsm secret decrypt "
		                 "--help'", "'%s' needs --with KEY", t->cmd);
	if ((rc = lh_secret_read_stdin (t, DATA_MAX, false, enc ? "data" :
	                                "blob", &in, &inlen)) != LH_EXIT_OK)
		return rc;
	if (!enc && (inlen < HDR_LEN + TAG_LEN ||
	             memcmp (in, HDR_MAGIC, 4) != 0 || in[4] != HDR_VERSION)) {
		rc = damaged (t);
		goto out;
	}
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = lh_secret_find (t, &c, with, &base)) != LH_EXIT_OK)
		goto out;
	if (enc) {
		memcpy (hdr, HDR_MAGIC, 4);
		hdr[4] = HDR_VERSION;
		rv = c.f->C_GenerateRandom (c.h, hdr + 5, SALT_LEN + IV_LEN);
		if (rv != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot get random bytes from "
			                  "token \"%s\"", c.s.label);
			goto out;
		}
	} else {
		memcpy (hdr, in, HDR_LEN);
	}
	if ((rc = derive (t, &c, base, with, hdr + 5, enc, &key)) != LH_EXIT_OK)
		goto out;
	memset (&gp, 0, sizeof gp);
	gp.pIv = hdr + 5 + SALT_LEN;
	gp.ulIvLen = IV_LEN;
	gp.ulIvBits = IV_LEN * 8;
	gp.pAAD = hdr;
	gp.ulAADLen = HDR_LEN;
	gp.ulTagBits = TAG_LEN * 8;
	outcap = enc ? HDR_LEN + inlen + TAG_LEN : inlen;
	if (!(out = OPENSSL_secure_malloc (outcap))) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	if (enc) {
		memcpy (out, hdr, HDR_LEN);
		outlen = inlen + TAG_LEN;
		rv = c.f->C_EncryptInit (c.h, &mech, key);
		if (rv == CKR_OK)
			rv = c.f->C_Encrypt (c.h, in, inlen, out + HDR_LEN, &outlen);
		outlen += HDR_LEN;
	} else {
		outlen = inlen;
		rv = c.f->C_DecryptInit (c.h, &mech, key);
		if (rv == CKR_OK)
			rv = c.f->C_Decrypt (c.h, in + HDR_LEN, inlen - HDR_LEN, out,
			                     &outlen);
	}
	if (!enc && (rv == CKR_ENCRYPTED_DATA_INVALID ||
	             rv == CKR_ENCRYPTED_DATA_LEN_RANGE)) {
		rc = damaged (t);
		goto out;
	}
	if (rv != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "cannot %s with the key derived from "
		                  "\"%s\"", enc ? "encrypt" : "decrypt", with);
		goto out;
	}
	c.f->C_DestroyObject (c.h, key);
	key = CK_INVALID_HANDLE;
	rc = lh_secret_write (t, out, outlen, false);
out:
	if (key != CK_INVALID_HANDLE)
		c.f->C_DestroyObject (c.h, key);
	lh_secret_free (out, outcap);
	lh_secret_free (in, inlen);
	lh_secret_close (&c);
	return rc;
}

int
lh_secret_encrypt (lh_tool *t, int argc, char **argv)
{
	return run (t, argc, argv, true);
}

int
lh_secret_decrypt (lh_tool *t, int argc, char **argv)
{
	return run (t, argc, argv, false);
}
