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
 *
 * Versions (cmd.h): encrypt derives from the active version of KEY only;
 * decrypt tries the active version first, then the older ones, until one
 * opens the blob (the GCM tag tells a wrong key cleanly), so data sealed
 * before KEY was rotated still opens.  The blob format does not change.
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
	.details = "The active version of KEY is used.  The blob format is\n"
	           "described in litehsm(1).\n",
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
	.details = "The active version of KEY is tried first, then its older\n"
	           "versions, so data sealed before KEY was rotated still opens\n"
	           "(while that version is within its dates).\n",
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
 * (enc) or decrypt-only.  Reports nothing: decrypt tries several
 * versions and explains only the failure that matters. */
static CK_RV
derive (lh_secret_ctx *c, CK_OBJECT_HANDLE base, unsigned char *salt,
        bool enc, CK_OBJECT_HANDLE *out)
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

	return c->f->C_DeriveKey (c->h, &mech, base, tmpl,
	                          sizeof tmpl / sizeof tmpl[0], out);
}

/*
 * Derive the data key from base with the header's salt and run one GCM
 * operation over in into out (*outlen: its room, then the bytes made).
 * *derived tells whether the failure, if any, came after the derivation.
 */
static CK_RV
seal_open (lh_secret_ctx *c, CK_OBJECT_HANDLE base, unsigned char *hdr,
           bool enc, const unsigned char *in, size_t inlen,
           unsigned char *out, CK_ULONG *outlen, bool *derived)
{
	CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
	CK_GCM_PARAMS gp;
	CK_MECHANISM mech = { CKM_AES_GCM, &gp, sizeof gp };
	CK_RV rv;

	*derived = false;
	if ((rv = derive (c, base, hdr + 5, enc, &key)) != CKR_OK)
		return rv;
	*derived = true;
	memset (&gp, 0, sizeof gp);
	gp.pIv = hdr + 5 + SALT_LEN;
	gp.ulIvLen = IV_LEN;
	gp.ulIvBits = IV_LEN * 8;
	gp.pAAD = hdr;
	gp.ulAADLen = HDR_LEN;
	gp.ulTagBits = TAG_LEN * 8;
	if (enc) {
		rv = c->f->C_EncryptInit (c->h, &mech, key);
		if (rv == CKR_OK)
			rv = c->f->C_Encrypt (c->h, (CK_BYTE *)in, inlen, out,
			                      outlen);
	} else {
		rv = c->f->C_DecryptInit (c->h, &mech, key);
		if (rv == CKR_OK)
			rv = c->f->C_Decrypt (c->h, (CK_BYTE *)in, inlen, out,
			                      outlen);
	}
	c->f->C_DestroyObject (c->h, key);      /* one message only */
	return rv;
}

/* Report a failure of seal_open with version v of with (k: its index). */
static int
failed (lh_tool *t, bool enc, const char *with, const lh_secret_version *v,
        size_t k, CK_RV rv, bool derived)
{
	char ver[48] = "";

	if (k > 0)
		snprintf (ver, sizeof ver, " (version %lu)", v->n);
	if (!derived)
		return lh_error_rv (t, rv, rv == CKR_KEY_FUNCTION_NOT_PERMITTED ?
		                    "use a key with the derive usage, within its "
		                    "dates (a generic secret or a --wrapping key)" :
		                    rv == CKR_KEY_TYPE_INCONSISTENT ? "use a generic "
		                    "secret or an AES key" : NULL,
		                    "cannot derive a data key from \"%s\"%s", with,
		                    ver);
	return lh_error_rv (t, rv, NULL, "cannot %s with the key derived from "
	                    "\"%s\"%s", enc ? "encrypt" : "decrypt", with, ver);
}

/*
 * Open the blob in with the versions in l, active first.  A wrong key
 * fails the GCM tag (CKR_ENCRYPTED_DATA_INVALID) and the next version is
 * tried; any other failure (a version past its end date cannot derive) is
 * kept, and reported if no version opens the blob.
 */
static int
open_any (lh_tool *t, lh_secret_ctx *c, const char *with,
          const lh_secret_vlist *l, const unsigned char *in, size_t inlen,
          unsigned char *out, CK_ULONG *outlen)
{
	unsigned char hdr[HDR_LEN];
	CK_RV rv, first = CKR_OK;
	bool derived, first_derived = false;
	size_t k, first_k = 0;

	memcpy (hdr, in, HDR_LEN);
	for (k = 0; k < l->n; k++) {
		*outlen = inlen - HDR_LEN;
		rv = seal_open (c, l->v[k].h, hdr, false, in + HDR_LEN,
		                inlen - HDR_LEN, out, outlen, &derived);
		if (rv == CKR_OK)
			return LH_EXIT_OK;
		if (derived && (rv == CKR_ENCRYPTED_DATA_INVALID ||
		                rv == CKR_ENCRYPTED_DATA_LEN_RANGE))
			continue;
		if (first == CKR_OK) {
			first = rv;
			first_k = k;
			first_derived = derived;
		}
	}
	if (first != CKR_OK)
		return failed (t, false, with, &l->v[first_k], first_k, first,
		               first_derived);
	return damaged (t);
}

static int
run (lh_tool *t, int argc, char **argv, bool enc)
{
	const char *with = NULL;
	lh_secret_vlist l = { NULL, 0 };
	unsigned char *in = NULL, *out = NULL;
	size_t inlen = 0, outcap = 0;
	CK_ULONG outlen = 0;
	lh_secret_ctx c;
	bool derived;
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
	    (rc = lh_secret_find_versions (t, &c, with, &l)) != LH_EXIT_OK)
		goto out;
	outcap = enc ? HDR_LEN + inlen + TAG_LEN : inlen;
	if (!(out = OPENSSL_secure_malloc (outcap))) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	if (!enc) {
		if ((rc = open_any (t, &c, with, &l, in, inlen, out, &outlen)) !=
		    LH_EXIT_OK)
			goto out;
	} else {
		/* the header (magic, version, salt, IV) leads the blob */
		memcpy (out, HDR_MAGIC, 4);
		out[4] = HDR_VERSION;
		rv = c.f->C_GenerateRandom (c.h, out + 5, SALT_LEN + IV_LEN);
		if (rv != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot get random bytes from "
			                  "token \"%s\"", c.s.label);
			goto out;
		}
		/* new data is sealed under the active version only */
		outlen = inlen + TAG_LEN;
		rv = seal_open (&c, l.v[0].h, out, true, in, inlen, out + HDR_LEN,
		                &outlen, &derived);
		if (rv != CKR_OK) {
			rc = failed (t, true, with, &l.v[0], 0, rv, derived);
			goto out;
		}
		outlen += HDR_LEN;
	}
	rc = lh_secret_write (t, out, outlen, false);
out:
	lh_secret_free (out, outcap);
	lh_secret_free (in, inlen);
	lh_secret_vlist_free (&l);
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
