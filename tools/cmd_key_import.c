/*
 * cmd_key_import.c - "litehsm key import": move a private key file into
 * the token, the migration path for the plaintext server.key/privkey.pem
 * and client.pfx files of seeds 003 and 004.
 *
 * The input's format is decided from its content, never its name:
 *   PEM     "RSA PRIVATE KEY" / "EC PRIVATE KEY" (traditional, also with
 *           a legacy "Proc-Type: 4,ENCRYPTED" header), "PRIVATE KEY"
 *           (PKCS#8), "ENCRYPTED PRIVATE KEY" (PKCS#8 with a password),
 *           plus any "CERTIFICATE" blocks (the key's certificate and its
 *           chain, as in a fullchain file);
 *   DER     PKCS#12 (.pfx/.p12: key, certificate, chain), PKCS#8 plain or
 *           encrypted, or a traditional RSA/EC key.
 * Passwords come from --pass-file only (never argv); a PKCS#12 without
 * one is opened with the empty password.
 *
 * What is stored (key.h): a private key object (RSA with every CRT
 * component; EC with CKA_EC_PARAMS the curve's OID and CKA_VALUE the
 * scalar; Ed25519/Ed448 with the OID 1.3.101.112/113 and the raw seed),
 * private, sensitive, never extractable, sign only (RSA: decrypt too, for
 * TLS 1.2 RSA key exchange); its public key object; the certificate and
 * chain.  CKA_ID is the SHA-1 of the public key's subjectPublicKey bits,
 * as lh_pki_generate makes it.
 *
 * Order, so that a failure leaves the token as it was: everything in the
 * input is read and checked before the token is opened; then the key
 * pair is created and a random challenge signed with C_Sign in the token
 * and verified by OpenSSL against the file's public key; only a key that
 * passes stays.  With --force the old objects of that name go after the
 * check, and then the certificates are stored.  --remove-source unlinks
 * the file last, after everything else succeeded.
 *
 * Secrets: the file and the password are read into OPENSSL_secure_*
 * buffers that are wiped when freed, the private values go through
 * wiped buffers into C_CreateObject, and the EVP_PKEY holding the key is
 * freed (OpenSSL clears key material on free) right after that.
 */
#include "tools/key.h"
#include "tools/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

enum {
	OPT_IN = LH_OPT_CMD, OPT_LABEL, OPT_PASS, OPT_CERT, OPT_REMOVE,
	OPT_FORCE,
};

#define IN_MAX   (1024 * 1024)  /* bytes: far more than any key file */
#define PASS_MAX 1024

static const lh_opt import_opts[] = {
	{ "in", "FILE", OPT_IN, "the key file (PEM, PKCS#8 or PKCS#12)" },
	{ "label", "NAME", OPT_LABEL,
	  "the key's name (default: FILE's name without extension)" },
	{ "pass-file", "FILE", OPT_PASS,
	  "the password of an encrypted key or PKCS#12" },
	{ "cert", "FILE", OPT_CERT,
	  "the key's certificate (and chain), PEM or DER" },
	{ "remove-source", NULL, OPT_REMOVE,
	  "delete the key file after a verified import" },
	{ "force", NULL, OPT_FORCE, "replace a key of that name" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd import_cmd = {
	.name = "key import",
	.summary = "Store the private key of --in FILE in the token, sensitive\n"
	           "and never extractable, with its public key, certificate and\n"
	           "chain, and print its PKCS#11 URI.",
	.details = "FILE may be PEM (traditional RSA/EC, PKCS#8, encrypted\n"
	           "PKCS#8), PKCS#8 DER or PKCS#12; the format is read from the\n"
	           "content.  A password is read from --pass-file (its bytes,\n"
	           "without one final newline); a PKCS#12 without --pass-file is\n"
	           "tried with the empty password.  The certificate comes from\n"
	           "--cert, else from the PKCS#12 or the PEM file itself; one that\n"
	           "does not match the key is refused.  After storing the key the\n"
	           "token signs a random challenge and the signature is verified\n"
	           "against the file's key; only then does --remove-source delete\n"
	           "FILE (copies may remain in backups and snapshots).  An\n"
	           "existing name, or the same key under another name, is refused\n"
	           "(--force replaces a key of the same name).\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = import_opts,
};

typedef struct {
	const char *in, *label, *pass_file, *cert;
	bool remove, force;
} imp_args;

/* A password from --pass-file: secure memory, NUL-terminated. */
typedef struct {
	char *v;
	size_t len;
	size_t cap;                 /* bytes allocated (wiped when freed) */
	bool given;
} pass;

/* What one input (--in or --cert) held. */
typedef struct {
	const char *path;           /* for messages */
	const char *opt;            /* "--in" or "--cert" */
	const pass *pw;
	bool want_key;              /* --in: look for a private key */
	EVP_PKEY *key;              /* the private key */
	size_t nkeys;               /* private keys seen */
	STACK_OF (X509) *certs;     /* every certificate, in file order */
	const char *format;         /* how the key was stored */
	char skipped[48];           /* a PEM block of another kind */
} source;

/* Attribute values for a template: each one malloc'd from the secure
 * heap and wiped when freed. */
#define MAT_MAX 12

typedef struct {
	CK_ATTRIBUTE a[MAT_MAX];
	size_t n;
} material;

/* What one import has read and will store. */
typedef struct {
	char name[256];             /* --label, or from the file's name */
	CK_KEY_TYPE kt;
	lh_key_kind kind;
	unsigned char id[SHA_DIGEST_LENGTH];
	material pm, um;            /* private / public key values */
	X509 *leaf;                 /* the key's certificate (in in or cf) */
	STACK_OF (X509) *chain;     /* the other certificates (in in or cf) */
	EVP_PKEY *pub;              /* the file's public key, for the check */
	source in, cf;              /* --in and --cert */
} job;

static int
import_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	imp_args *a = ctx;

	switch (key) {
	case OPT_IN: a->in = arg; break;
	case OPT_LABEL: a->label = arg; break;
	case OPT_PASS: a->pass_file = arg; break;
	case OPT_CERT: a->cert = arg; break;
	case OPT_REMOVE: a->remove = true; break;
	case OPT_FORCE: a->force = true; break;
	default: return LH_EXIT_USAGE;
	}
	return LH_CONTINUE;
}

static int
no_memory (lh_tool *t)
{
	return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
}

/* The reason of the last OpenSSL error (for messages); clears the queue. */
static const char *
ossl_reason (void)
{
	const char *r = ERR_reason_error_string (ERR_peek_last_error ());

	ERR_clear_error ();
	return r ? r : "unknown error";
}

/* ---- reading files ------------------------------------------------------------ */

/*
 * All of the regular file path (at most max bytes) into secure memory,
 * NUL-terminated (the NUL is not counted); free with
 * OPENSSL_secure_clear_free (*out, *len + 1).
 */
static int
read_all (lh_tool *t, const char *path, const char *opt, size_t max,
          unsigned char **out, size_t *len)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, err;

	*out = NULL;
	*len = 0;
	if ((fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		err = errno;
		return lh_error (t, LH_EXIT_USAGE, "check the file name and its "
		                 "permissions", "cannot read %s (%s): %s", path, opt,
		                 strerror (err));
	}
	if (fstat (fd, &st) != 0) {
		err = errno;
		close (fd);
		return lh_error (t, LH_EXIT_USAGE, "check the file", "cannot read "
		                 "%s (%s): %s", path, opt, strerror (err));
	}
	if (!S_ISREG (st.st_mode) || st.st_size > (off_t)max) {
		close (fd);
		return lh_error (t, LH_EXIT_USAGE, "give a key or certificate file",
		                 "%s (%s) is %s", path, opt, !S_ISREG (st.st_mode) ?
		                 "not a regular file" : "too large for a key file");
	}
	if (!(buf = OPENSSL_secure_malloc ((size_t)st.st_size + 1))) {
		close (fd);
		return no_memory (t);
	}
	err = 0;
	while (n < (size_t)st.st_size) {
		r = read (fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = errno;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close (fd);
	if (n != (size_t)st.st_size) {
		OPENSSL_secure_clear_free (buf, (size_t)st.st_size + 1);
		return lh_error (t, LH_EXIT_USAGE, "check the file", "cannot read "
		                 "%s (%s): %s", path, opt, err ? strerror (err) :
		                 "it shrank while being read");
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return LH_EXIT_OK;
}

static void
pass_clear (pass *pw)
{
	if (pw->v)
		OPENSSL_secure_clear_free (pw->v, pw->cap);
	pw->v = NULL;
	pw->len = pw->cap = 0;
	pw->given = false;
}

/* --pass-file: its bytes without one final newline (CR LF); may be
 * empty, which is the empty password. */
static int
read_pass (lh_tool *t, const char *path, pass *pw)
{
	unsigned char *buf;
	size_t n;
	int rc;

	if ((rc = read_all (t, path, "--pass-file", PASS_MAX, &buf, &n)) !=
	    LH_EXIT_OK)
		return rc;
	pw->v = (char *)buf;
	pw->cap = n + 1;
	if (n && buf[n - 1] == '\n') {
		buf[--n] = '\0';
		if (n && buf[n - 1] == '\r')
			buf[--n] = '\0';
	}
	pw->len = n;
	pw->given = true;
	return LH_EXIT_OK;
}

/* ---- decoding ------------------------------------------------------------------- */

static int
need_pass (lh_tool *t, const source *s, const char *what)
{
	ERR_clear_error ();
	return lh_error (t, LH_EXIT_USAGE, "give its password with --pass-file "
	                 "FILE", "%s (%s) is %s", s->path, s->opt, what);
}

static int
wrong_pass (lh_tool *t, const source *s)
{
	ERR_clear_error ();
	return lh_error (t, LH_EXIT_USAGE, "check the password file (its bytes "
	                 "without one final newline are the password)", "cannot "
	                 "decrypt %s (%s): wrong password", s->path, s->opt);
}

/* Take key as the input's private key (a second one is refused). */
static int
take_key (lh_tool *t, source *s, EVP_PKEY *key, const char *format)
{
	if (!key)
		return lh_error (t, LH_EXIT_USAGE, "give an unencrypted or "
		                 "correctly encrypted key", "%s (%s) holds a damaged "
		                 "or unsupported %s key (%s)", s->path, s->opt, format,
		                 ossl_reason ());
	if (s->nkeys++) {
		EVP_PKEY_free (key);
		return lh_error (t, LH_EXIT_USAGE, "split the file: one key per "
		                 "import", "%s (%s) holds more than one private key",
		                 s->path, s->opt);
	}
	s->key = key;
	s->format = format;
	return LH_EXIT_OK;
}

static int
take_cert (lh_tool *t, source *s, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509 (NULL, &p, (long)len);

	if (!x || p != der + len) {
		X509_free (x);
		return lh_error (t, LH_EXIT_USAGE, "give a valid certificate",
		                 "%s (%s) holds a damaged certificate (%s)", s->path,
		                 s->opt, ossl_reason ());
	}
	if (!sk_X509_push (s->certs, x)) {
		X509_free (x);
		return no_memory (t);
	}
	return LH_EXIT_OK;
}

/* A PKCS#8 PrivateKeyInfo (DER) to a key; NULL if it is not one. */
static EVP_PKEY *
from_p8 (const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO (NULL, &p, (long)len);
	EVP_PKEY *key = NULL;

	if (p8 && p == der + len)
		key = EVP_PKCS82PKEY (p8);
	PKCS8_PRIV_KEY_INFO_free (p8);      /* clears the key octets */
	return key;
}

/* An EncryptedPrivateKeyInfo (DER); *is_p8e false if it is not one. */
static int
from_p8e (lh_tool *t, source *s, const unsigned char *der, size_t len,
          bool *is_p8e, const char *format)
{
	const unsigned char *p = der;
	X509_SIG *sig = d2i_X509_SIG (NULL, &p, (long)len);
	PKCS8_PRIV_KEY_INFO *p8;
	EVP_PKEY *key;

	*is_p8e = sig && p == der + len;
	if (!*is_p8e) {
		X509_SIG_free (sig);
		return LH_EXIT_OK;
	}
	if (!s->pw->given) {
		X509_SIG_free (sig);
		return need_pass (t, s, "an encrypted PKCS#8 key");
	}
	p8 = PKCS8_decrypt (sig, s->pw->v, (int)s->pw->len);
	X509_SIG_free (sig);
	if (!p8)
		return wrong_pass (t, s);
	key = EVP_PKCS82PKEY (p8);
	PKCS8_PRIV_KEY_INFO_free (p8);
	return take_key (t, s, key, format);
}

/* A traditional RSAPrivateKey / ECPrivateKey (DER) of type. */
static EVP_PKEY *
from_trad (int type, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *key = d2i_PrivateKey (type, NULL, &p, (long)len);

	if (key && p != der + len) {
		EVP_PKEY_free (key);
		key = NULL;
	}
	return key;
}

static int
pem_pass_cb (char *buf, int size, int rwflag, void *u)
{
	const pass *pw = u;

	if (!pw->given || pw->len > (size_t)size)
		return -1;
	memcpy (buf, pw->v, pw->len);
	return (int)pw->len;
}

/* A traditional PEM key block, decrypted first if its header says so. */
static int
pem_trad (lh_tool *t, source *s, int type, const char *header,
          unsigned char *data, long len, const char *format)
{
	EVP_CIPHER_INFO ci;
	EVP_PKEY *key;

	if (header && strstr (header, "ENCRYPTED")) {
		if (!s->pw->given)
			return need_pass (t, s, "an encrypted PEM key");
		if (!PEM_get_EVP_CIPHER_INFO ((char *)header, &ci))
			return lh_error (t, LH_EXIT_USAGE, "convert it with 'openssl "
			                 "pkcs8 -topk8'", "%s (%s) is encrypted with an "
			                 "unknown cipher (%s)", s->path, s->opt,
			                 ossl_reason ());
		if (!PEM_do_header (&ci, data, &len, pem_pass_cb, (void *)s->pw))
			return wrong_pass (t, s);
	}
	if (!(key = from_trad (type, data, (size_t)len)) && header &&
	    strstr (header, "ENCRYPTED")) {
		ERR_clear_error ();
		return wrong_pass (t, s);   /* a wrong key decrypts to noise */
	}
	return take_key (t, s, key, format);
}

/* One PEM block. */
static int
pem_block (lh_tool *t, source *s, const char *name, const char *header,
           unsigned char *data, long len)
{
	bool is_p8e;

	if (strcmp (name, "CERTIFICATE") == 0 ||
	    strcmp (name, "X509 CERTIFICATE") == 0)
		return take_cert (t, s, data, (size_t)len);
	if (!s->want_key)
		goto skip;
	if (strcmp (name, "PRIVATE KEY") == 0)
		return take_key (t, s, from_p8 (data, (size_t)len), "PKCS#8 PEM");
	if (strcmp (name, "ENCRYPTED PRIVATE KEY") == 0) {
		int rc = from_p8e (t, s, data, (size_t)len, &is_p8e,
		                   "encrypted PKCS#8 PEM");
		if (rc == LH_EXIT_OK && !is_p8e)
			rc = take_key (t, s, NULL, "encrypted PKCS#8 PEM");
		return rc;
	}
	if (strcmp (name, "RSA PRIVATE KEY") == 0)
		return pem_trad (t, s, EVP_PKEY_RSA, header, data, len,
		                 "traditional RSA PEM");
	if (strcmp (name, "EC PRIVATE KEY") == 0)
		return pem_trad (t, s, EVP_PKEY_EC, header, data, len,
		                 "traditional EC PEM");
	if (strcmp (name, "OPENSSH PRIVATE KEY") == 0)
		return lh_error (t, LH_EXIT_USAGE, "convert a copy first: "
		                 "ssh-keygen -p -m PKCS8 -f COPY", "%s (%s) is an "
		                 "OpenSSH private key", s->path, s->opt);
skip:
	/* "EC PARAMETERS" before an EC key, a CSR, a public key ... */
	if (!s->skipped[0] && strcmp (name, "EC PARAMETERS") != 0)
		snprintf (s->skipped, sizeof s->skipped, "%s", name);
	return LH_EXIT_OK;
}

static int
parse_pem (lh_tool *t, source *s, const unsigned char *buf, size_t len)
{
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	unsigned long e;
	long dlen;
	BIO *b;
	int rc = LH_EXIT_OK;

	if (!(b = BIO_new_mem_buf (buf, (int)len)))
		return no_memory (t);
	while (rc == LH_EXIT_OK) {
		if (!PEM_read_bio_ex (b, &name, &header, &data, &dlen,
		                      PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE)) {
			e = ERR_peek_last_error ();
			if (ERR_GET_LIB (e) == ERR_LIB_PEM &&
			    ERR_GET_REASON (e) == PEM_R_NO_START_LINE) {
				ERR_clear_error ();
				break;              /* no more blocks */
			}
			rc = lh_error (t, LH_EXIT_USAGE, "give an intact file",
			               "%s (%s) is damaged PEM (%s)", s->path, s->opt,
			               ossl_reason ());
			break;
		}
		rc = pem_block (t, s, name, header, data, dlen);
		OPENSSL_secure_clear_free (data, (size_t)dlen);
		OPENSSL_secure_free (name);
		OPENSSL_secure_free (header);
		name = header = NULL;
		data = NULL;
	}
	BIO_free (b);
	s->format = s->format ? s->format : "PEM";
	return rc;
}

/* PKCS#12: the key, its certificate first, then the other ones. */
static int
parse_p12 (lh_tool *t, source *s, PKCS12 *p12)
{
	const char *pw = s->pw->given ? s->pw->v : "";
	STACK_OF (X509) *ca = NULL;
	OSSL_PROVIDER *legacy;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int rc, k, ok;

	if (PKCS12_mac_present (p12) &&
	    !PKCS12_verify_mac (p12, pw, (int)(s->pw->given ? s->pw->len : 0)) &&
	    (s->pw->given || !PKCS12_verify_mac (p12, NULL, 0))) {
		ERR_clear_error ();
		return s->pw->given ? wrong_pass (t, s) :
		       need_pass (t, s, "a PKCS#12 file with a password");
	}
	/* old PKCS#12 files (RC2, 3DES) need OpenSSL's legacy provider */
	if (!PKCS12_parse (p12, pw, &key, &x, &ca)) {
		ERR_clear_error ();
		legacy = OSSL_PROVIDER_try_load (NULL, "legacy", 1);
		ok = PKCS12_parse (p12, pw, &key, &x, &ca);
		OSSL_PROVIDER_unload (legacy);
		if (!ok)
			return lh_error (t, LH_EXIT_USAGE, "re-export it with a "
			                 "current OpenSSL (openssl pkcs12 -export)",
			                 "cannot open the PKCS#12 %s (%s): %s",
			                 s->path, s->opt, ossl_reason ());
	}
	if (!key) {
		X509_free (x);
		sk_X509_pop_free (ca, X509_free);
		return lh_error (t, LH_EXIT_USAGE, "give a PKCS#12 with a private "
		                 "key", "the PKCS#12 %s (%s) holds no private key",
		                 s->path, s->opt);
	}
	rc = take_key (t, s, key, "PKCS#12");
	if (rc == LH_EXIT_OK && x) {
		if (sk_X509_push (s->certs, x))
			x = NULL;
		else
			rc = no_memory (t);
	}
	for (k = 0; rc == LH_EXIT_OK && ca && k < sk_X509_num (ca); k++)
		if (sk_X509_push (s->certs, sk_X509_value (ca, k)))
			(void)sk_X509_set (ca, k, NULL);
		else
			rc = no_memory (t);
	X509_free (x);
	sk_X509_pop_free (ca, X509_free);
	return rc;
}

static int
parse_der (lh_tool *t, source *s, const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf;
	PKCS12 *p12;
	EVP_PKEY *key;
	X509 *x;
	bool is_p8e;
	int rc;

	if (!s->want_key)
		return take_cert (t, s, buf, len);
	/* each try must take the whole input: a prefix does not count */
	if ((p12 = d2i_PKCS12 (NULL, &p, (long)len)) && p == buf + len) {
		rc = parse_p12 (t, s, p12);
		PKCS12_free (p12);
		return rc;
	}
	PKCS12_free (p12);
	if ((key = from_p8 (buf, len)))
		return take_key (t, s, key, "PKCS#8 DER");
	if ((rc = from_p8e (t, s, buf, len, &is_p8e, "encrypted PKCS#8 DER")) !=
	    LH_EXIT_OK || is_p8e)
		return rc;
	if ((key = from_trad (EVP_PKEY_RSA, buf, len)) ||
	    (key = from_trad (EVP_PKEY_EC, buf, len)))
		return take_key (t, s, key, "traditional DER");
	p = buf;
	if ((x = d2i_X509 (NULL, &p, (long)len))) {
		X509_free (x);
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_USAGE, "give the key with --in and the "
		                 "certificate with --cert", "%s (%s) is a "
		                 "certificate, not a private key", s->path, s->opt);
	}
	ERR_clear_error ();
	return LH_EXIT_OK;
}

/* Read and decode --in or --cert into s. */
static int
parse_file (lh_tool *t, source *s)
{
	unsigned char *buf;
	size_t len;
	int rc;

	if ((rc = read_all (t, s->path, s->opt, IN_MAX, &buf, &len)) !=
	    LH_EXIT_OK)
		return rc;
	if (len == 0)
		rc = lh_error (t, LH_EXIT_USAGE, "give a key file", "%s (%s) is "
		               "empty", s->path, s->opt);
	else if (memmem (buf, len, "-----BEGIN ", 11))
		rc = parse_pem (t, s, buf, len);
	else
		rc = parse_der (t, s, buf, len);
	OPENSSL_secure_clear_free (buf, len + 1);
	if (rc != LH_EXIT_OK)
		return rc;
	if (s->want_key && !s->key)
		return lh_error (t, LH_EXIT_USAGE, "give a PEM, PKCS#8 or PKCS#12 "
		                 "private key", "%s (%s) holds no private key%s%s%s",
		                 s->path, s->opt, s->skipped[0] ? " (only \"" : "",
		                 s->skipped, s->skipped[0] ? "\")" : "");
	if (!s->want_key && sk_X509_num (s->certs) == 0)
		return lh_error (t, LH_EXIT_USAGE, "give a PEM or DER certificate",
		                 "%s (%s) holds no certificate", s->path, s->opt);
	return LH_EXIT_OK;
}

/*
 * Split certs into the key's own certificate (the first whose public key
 * is the key's) and the rest (its chain, in file order).  Certificates
 * none of which is the key's are refused: storing one would pair the key
 * with a name it cannot prove.
 */
static int
pick_cert (lh_tool *t, const source *from, EVP_PKEY *key, X509 **leaf,
           STACK_OF (X509) **chain)
{
	STACK_OF (X509) *certs = from->certs;
	X509 *x;
	int k;

	*leaf = NULL;
	if (!(*chain = sk_X509_new_null ()))
		return no_memory (t);
	for (k = 0; k < sk_X509_num (certs); k++) {
		x = sk_X509_value (certs, k);
		if (!*leaf && EVP_PKEY_eq (X509_get0_pubkey (x), key) == 1)
			*leaf = x;
		else if (!sk_X509_push (*chain, x))
			return no_memory (t);
	}
	ERR_clear_error ();
	if (sk_X509_num (certs) && !*leaf)
		return lh_error (t, LH_EXIT_USAGE, "give the certificate issued for "
		                 "this key", "the certificate%s in %s (%s) do%s not "
		                 "match the key (another public key)",
		                 sk_X509_num (certs) > 1 ? "s" : "", from->path,
		                 from->opt, sk_X509_num (certs) > 1 ? "" : "es");
	return LH_EXIT_OK;
}

/* ---- key material ---------------------------------------------------------------- */

static bool
mat_add (material *m, CK_ATTRIBUTE_TYPE type, const void *v, size_t len)
{
	void *copy;

	if (m->n == MAT_MAX || !(copy = OPENSSL_secure_malloc (len ? len : 1)))
		return false;
	memcpy (copy, v, len);
	m->a[m->n].type = type;
	m->a[m->n].pValue = copy;
	m->a[m->n].ulValueLen = len;
	m->n++;
	return true;
}

/* bn big-endian, left-padded to pad bytes (0: its own length). */
static bool
mat_add_bn (material *m, CK_ATTRIBUTE_TYPE type, const BIGNUM *bn,
            size_t pad)
{
	size_t len = pad ? pad : (size_t)BN_num_bytes (bn);
	unsigned char *buf;
	bool ok;

	if (!len)
		len = 1;
	if (!(buf = OPENSSL_secure_malloc (len)))
		return false;
	ok = BN_bn2binpad (bn, buf, (int)len) == (int)len &&
	     mat_add (m, type, buf, len);
	OPENSSL_secure_clear_free (buf, len);
	return ok;
}

static void
mat_free (material *m)
{
	size_t k;

	for (k = 0; k < m->n; k++)
		OPENSSL_secure_clear_free (m->a[k].pValue, m->a[k].ulValueLen ?
		                           m->a[k].ulValueLen : 1);
	m->n = 0;
}

/* DER OCTET STRING around a point (CKA_EC_POINT); points < 256 bytes. */
static bool
mat_add_point (material *m, const unsigned char *pt, size_t len)
{
	unsigned char der[3 + 255];
	size_t hdr = len > 0x7f ? 3 : 2;

	if (len > 255)
		return false;
	der[0] = 0x04;
	if (hdr == 3) {
		der[1] = 0x81;
		der[2] = (unsigned char)len;
	} else {
		der[1] = (unsigned char)len;
	}
	memcpy (der + hdr, pt, len);
	return mat_add (m, CKA_EC_POINT, der, hdr + len);
}

static int
rsa_material (lh_tool *t, const source *s, EVP_PKEY *key, material *priv,
              material *pub)
{
	static const struct {
		const char *param;
		CK_ATTRIBUTE_TYPE type;
		bool pub;
	} parts[] = {
		{ OSSL_PKEY_PARAM_RSA_N, CKA_MODULUS, true },
		{ OSSL_PKEY_PARAM_RSA_E, CKA_PUBLIC_EXPONENT, true },
		{ OSSL_PKEY_PARAM_RSA_D, CKA_PRIVATE_EXPONENT, false },
		{ OSSL_PKEY_PARAM_RSA_FACTOR1, CKA_PRIME_1, false },
		{ OSSL_PKEY_PARAM_RSA_FACTOR2, CKA_PRIME_2, false },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT1, CKA_EXPONENT_1, false },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT2, CKA_EXPONENT_2, false },
		{ OSSL_PKEY_PARAM_RSA_COEFFICIENT1, CKA_COEFFICIENT, false },
	};
	BIGNUM *bn = NULL;
	size_t k;
	bool ok;

	/* PKCS#11 has no attributes for a third prime */
	if (EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_RSA_FACTOR3, &bn)) {
		BN_clear_free (bn);
		return lh_error (t, LH_EXIT_USAGE, "use a two-prime RSA key",
		                 "%s (%s) is a multi-prime RSA key, which PKCS#11 "
		                 "cannot hold", s->path, s->opt);
	}
	ERR_clear_error ();
	for (k = 0; k < sizeof parts / sizeof parts[0]; k++) {
		bn = NULL;
		if (!EVP_PKEY_get_bn_param (key, parts[k].param, &bn)) {
			ERR_clear_error ();
			return lh_error (t, LH_EXIT_USAGE, "give a complete RSA key "
			                 "(as openssl genrsa writes it)", "the RSA key in "
			                 "%s (%s) lacks its CRT components", s->path,
			                 s->opt);
		}
		ok = mat_add_bn (priv, parts[k].type, bn, 0) &&
		     (!parts[k].pub || mat_add_bn (pub, parts[k].type, bn, 0));
		BN_clear_free (bn);
		if (!ok)
			return no_memory (t);
	}
	return LH_EXIT_OK;
}

static int
ec_material (lh_tool *t, const source *s, EVP_PKEY *key, material *priv,
             material *pub)
{
	unsigned char oid[32], *p = oid, pt[133];
	size_t glen, ptlen;
	char group[64];
	BIGNUM *d = NULL;
	int nid, olen;
	bool ok;

	if (!EVP_PKEY_get_utf8_string_param (key, OSSL_PKEY_PARAM_GROUP_NAME,
	                                     group, sizeof group, &glen) ||
	    (nid = OBJ_txt2nid (group)) == NID_undef ||
	    (olen = i2d_ASN1_OBJECT (OBJ_nid2obj (nid), NULL)) <= 0 ||
	    (size_t)olen > sizeof oid) {
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_USAGE, "convert it with 'openssl ec "
		                 "-param_enc named_curve'", "the EC key in %s (%s) "
		                 "does not name its curve", s->path, s->opt);
	}
	i2d_ASN1_OBJECT (OBJ_nid2obj (nid), &p);
	/* CKA_EC_POINT and the key id use the uncompressed point */
	EVP_PKEY_set_utf8_string_param (key,
	                                OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	                                OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED);
	if (!EVP_PKEY_get_octet_string_param (key,
	                                      OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
	                                      pt, sizeof pt, &ptlen) ||
	    !EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_PRIV_KEY, &d)) {
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_USAGE, "give a complete EC key", "the "
		                 "EC key in %s (%s) on curve %s cannot be read", s->path,
		                 s->opt, group);
	}
	/* the scalar padded to the order's size, as PKCS#11 wants it */
	ok = mat_add (priv, CKA_EC_PARAMS, oid, (size_t)olen) &&
	     mat_add_bn (priv, CKA_VALUE, d,
	                 ((size_t)EVP_PKEY_get_bits (key) + 7) / 8) &&
	     mat_add (pub, CKA_EC_PARAMS, oid, (size_t)olen) &&
	     mat_add_point (pub, pt, ptlen);
	BN_clear_free (d);
	return ok ? LH_EXIT_OK : no_memory (t);
}

static int
ed_material (lh_tool *t, EVP_PKEY *key, material *priv, material *pub)
{
	static const unsigned char ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
	static const unsigned char ed448[] = { 0x06, 0x03, 0x2b, 0x65, 0x71 };
	const unsigned char *oid = EVP_PKEY_is_a (key, "ED448") ? ed448 :
	                           ed25519;
	unsigned char sk[57], pk[57];
	size_t sl = sizeof sk, pl = sizeof pk;
	bool ok;

	ok = EVP_PKEY_get_raw_private_key (key, sk, &sl) &&
	     EVP_PKEY_get_raw_public_key (key, pk, &pl) &&
	     mat_add (priv, CKA_EC_PARAMS, oid, sizeof ed25519) &&
	     mat_add (priv, CKA_VALUE, sk, sl) &&
	     mat_add (pub, CKA_EC_PARAMS, oid, sizeof ed25519) &&
	     mat_add_point (pub, pk, pl);
	OPENSSL_cleanse (sk, sizeof sk);
	ERR_clear_error ();
	return ok ? LH_EXIT_OK : no_memory (t);
}

/* The key's PKCS#11 type and its values for the two templates. */
static int
key_material (lh_tool *t, const source *s, EVP_PKEY *key, CK_KEY_TYPE *kt,
              material *priv, material *pub)
{
	if (EVP_PKEY_is_a (key, "RSA")) {
		*kt = CKK_RSA;
		return rsa_material (t, s, key, priv, pub);
	}
	if (EVP_PKEY_is_a (key, "EC")) {
		*kt = CKK_EC;
		return ec_material (t, s, key, priv, pub);
	}
	if (EVP_PKEY_is_a (key, "ED25519") || EVP_PKEY_is_a (key, "ED448")) {
		*kt = CKK_EC_EDWARDS;
		return ed_material (t, key, priv, pub);
	}
	return lh_error (t, LH_EXIT_USAGE, "give an RSA, EC (named curve) or "
	                 "Ed25519 key", "%s (%s) holds a key of type %s, which "
	                 "litehsm does not import", s->path, s->opt,
	                 EVP_PKEY_get0_type_name (key) ?
	                 EVP_PKEY_get0_type_name (key) : "unknown");
}

/* SHA-1 of the subjectPublicKey bits of key: the CKA_ID rule of
 * lh_pki_generate (and the subject key identifier of RFC 5280). */
static bool
key_id (EVP_PKEY *key, unsigned char id[SHA_DIGEST_LENGTH])
{
	X509_PUBKEY *xp = NULL;
	const unsigned char *bits;
	int n;
	bool ok;

	ok = X509_PUBKEY_set (&xp, key) &&
	     X509_PUBKEY_get0_param (NULL, &bits, &n, NULL, xp) &&
	     SHA1 (bits, (size_t)n, id);
	X509_PUBKEY_free (xp);
	ERR_clear_error ();
	return ok;
}

/* A public-only copy of key, for the check after the private half is
 * gone from this process. */
static EVP_PKEY *
public_copy (EVP_PKEY *key)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub = NULL;
	int n;

	if ((n = i2d_PUBKEY (key, &der)) > 0) {
		p = der;
		pub = d2i_PUBKEY (NULL, &p, n);
	}
	OPENSSL_free (der);
	return pub;
}

/* ---- in the token ------------------------------------------------------------- */

/* Undo: destroy what this import made (errors ignored: the first error
 * has been reported, and the rest is best effort). */
static void
destroy (lh_secret_ctx *c, const CK_OBJECT_HANDLE *hs, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (hs[k] != CK_INVALID_HANDLE)
			c->f->C_DestroyObject (c->h, hs[k]);
}

/* The same key under another name would make two names for one key, and
 * URIs by id ambiguous: refuse it. */
static int
check_dup (lh_tool *t, lh_secret_ctx *c, const char *name,
           const unsigned char *id, size_t id_len)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_OBJECT_HANDLE hs[16];
	CK_ULONG n = 0, k;
	unsigned char *lab;
	size_t ll;
	CK_RV rv;
	int rc = LH_EXIT_OK;

	if ((rv = lh_p11_find (c->f, c->h, tmpl, 2, hs, 16, &n)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot search token \"%s\"",
		                    c->s.label);
	for (k = 0; k < n && rc == LH_EXIT_OK; k++) {
		if ((rc = lh_key_get_bytes (t, c, hs[k], CKA_LABEL, &lab, &ll)) !=
		    LH_EXIT_OK)
			break;
		if (!lab || strcmp ((char *)lab, name) != 0)
			rc = lh_error (t, LH_EXIT_FAIL, "use that one, or delete it "
			               "first with 'litehsm key delete'", "this key is "
			               "already in token \"%s\" as \"%s\"", c->s.label,
			               lab ? (char *)lab : "(no label)");
		free (lab);
	}
	return rc;
}

/*
 * Create the private and public key objects.  The private key is
 * private, sensitive and never extractable, and signs (RSA: decrypts
 * too); nothing else, so under the strict policy it can never wrap,
 * unwrap or derive.  CKA_SUBJECT is the certificate's, as PKCS#11
 * applications that pair keys and certificates expect.
 */
static int
create_pair (lh_tool *t, lh_secret_ctx *c, const char *name, CK_KEY_TYPE kt,
             const unsigned char *id, size_t id_len, X509 *leaf,
             const material *pm, const material *um, CK_OBJECT_HANDLE *hpriv,
             CK_OBJECT_HANDLE *hpub)
{
	CK_OBJECT_CLASS pc = CKO_PRIVATE_KEY, uc = CKO_PUBLIC_KEY;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL dec = kt == CKK_RSA ? CK_TRUE : CK_FALSE;
	unsigned char *subj = NULL;
	int slen = leaf ? i2d_X509_NAME (X509_get_subject_name (leaf), &subj) :
	           0;
	CK_ATTRIBUTE priv[14 + MAT_MAX] = {
		{ CKA_CLASS, &pc, sizeof pc },
		{ CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_EXTRACTABLE, &no, sizeof no },
		{ CKA_SIGN, &yes, sizeof yes },
		{ CKA_DECRYPT, &dec, sizeof dec },
		{ CKA_UNWRAP, &no, sizeof no },
		{ CKA_DERIVE, &no, sizeof no },
		{ CKA_LABEL, (void *)name, strlen (name) },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_ATTRIBUTE pub[12 + MAT_MAX] = {
		{ CKA_CLASS, &uc, sizeof uc },
		{ CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &no, sizeof no },
		{ CKA_VERIFY, &yes, sizeof yes },
		{ CKA_ENCRYPT, &no, sizeof no },
		{ CKA_WRAP, &no, sizeof no },
		{ CKA_DERIVE, &no, sizeof no },
		{ CKA_LABEL, (void *)name, strlen (name) },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_ULONG np = 12, nu = 10;
	size_t k;
	CK_RV rv;
	int rc = LH_EXIT_OK;

	*hpriv = *hpub = CK_INVALID_HANDLE;
	if (slen > 0) {
		priv[np].type = pub[nu].type = CKA_SUBJECT;
		priv[np].pValue = pub[nu].pValue = subj;
		priv[np++].ulValueLen = pub[nu++].ulValueLen = (CK_ULONG)slen;
	}
	for (k = 0; k < pm->n; k++)
		priv[np++] = pm->a[k];
	for (k = 0; k < um->n; k++)
		pub[nu++] = um->a[k];
	if ((rv = c->f->C_CreateObject (c->h, priv, np, hpriv)) != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "token \"%s\" does not take the "
		                  "private key", c->s.label);
	} else if ((rv = c->f->C_CreateObject (c->h, pub, nu, hpub)) != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "token \"%s\" does not take the "
		                  "public key", c->s.label);
		destroy (c, hpriv, 1);
		*hpriv = CK_INVALID_HANDLE;
	}
	OPENSSL_free (subj);
	return rc;
}

/* r||s (PKCS#11) to a DER ECDSA-Sig-Value (OpenSSL); malloc'd. */
static int
ecdsa_der (const unsigned char *sig, size_t len, unsigned char **der)
{
	ECDSA_SIG *es = ECDSA_SIG_new ();
	BIGNUM *r = BN_bin2bn (sig, (int)(len / 2), NULL);
	BIGNUM *s = BN_bin2bn (sig + len / 2, (int)(len / 2), NULL);
	int n = -1;

	*der = NULL;
	if (es && r && s && ECDSA_SIG_set0 (es, r, s)) {
		r = s = NULL;               /* es owns them */
		n = i2d_ECDSA_SIG (es, der);
	}
	BN_free (r);
	BN_free (s);
	ECDSA_SIG_free (es);
	return n;
}

/*
 * The proof that the token holds the file's key: C_Sign a random
 * challenge with the new private key (RSA: SHA-256 PKCS#1 v1.5; EC:
 * ECDSA over its SHA-256; EdDSA) and verify it with OpenSSL against the
 * public key read from the file.
 */
static int
verify_sign (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE h,
             CK_KEY_TYPE kt, EVP_PKEY *pub)
{
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	unsigned char chal[32], md[SHA256_DIGEST_LENGTH];
	unsigned char *sig = NULL, *der = NULL;
	const unsigned char *vs;
	CK_BYTE_PTR tbs = chal;
	CK_ULONG tlen = sizeof chal, slen = 0;
	EVP_MD_CTX *mctx = NULL;
	size_t vlen;
	int n, rc = LH_EXIT_OK;
	CK_RV rv;

	if (RAND_bytes (chal, sizeof chal) != 1) {
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_FAIL, "check the system's random source",
		                 "cannot make a random challenge");
	}
	if (kt == CKK_EC) {
		mech.mechanism = CKM_ECDSA;
		SHA256 (chal, sizeof chal, md);
		tbs = md;
		tlen = sizeof md;
	} else if (kt == CKK_EC_EDWARDS) {
		mech.mechanism = CKM_EDDSA;
	}
	if ((rv = c->f->C_SignInit (c->h, &mech, h)) != CKR_OK ||
	    (rv = c->f->C_Sign (c->h, tbs, tlen, NULL, &slen)) != CKR_OK ||
	    !(sig = malloc (slen ? slen : 1)) ||
	    (rv = c->f->C_Sign (c->h, tbs, tlen, sig, &slen)) != CKR_OK) {
		if (!sig && rv == CKR_OK)
			rv = CKR_HOST_MEMORY;
		free (sig);
		return lh_error_rv (t, rv, rv == CKR_KEY_SIZE_RANGE ? "nothing was "
		                    "imported; the token does not use keys of this "
		                    "size (litehsm: RSA from 2048 bits)" :
		                    "nothing was imported", "token \"%s\" cannot "
		                    "sign with the imported key", c->s.label);
	}
	vs = sig;
	vlen = slen;
	if (kt == CKK_EC) {
		n = ecdsa_der (sig, slen, &der);
		vs = der;
		vlen = n > 0 ? (size_t)n : 0;
	}
	if (!vlen || !(mctx = EVP_MD_CTX_new ()) ||
	    EVP_DigestVerifyInit_ex (mctx, NULL, kt == CKK_EC_EDWARDS ? NULL :
	                             "SHA256", NULL, NULL, pub, NULL) != 1 ||
	    EVP_DigestVerify (mctx, vs, vlen, chal, sizeof chal) != 1) {
		ERR_clear_error ();
		rc = lh_error (t, LH_EXIT_FAIL, "nothing was imported; the token "
		               "may not handle this key kind", "a signature made "
		               "by token \"%s\" with the imported key does not "
		               "verify against the file's key", c->s.label);
	}
	EVP_MD_CTX_free (mctx);
	OPENSSL_free (der);
	free (sig);
	return rc;
}

/* The certificate with the key's CKA_ID and label name; each chain
 * certificate as "<name>-chain-N" with the SHA-1 of its own key. */
static int
store_certs (lh_tool *t, lh_secret_ctx *c, const char *name,
             const unsigned char *id, size_t id_len, X509 *leaf,
             STACK_OF (X509) *chain)
{
	unsigned char cid[SHA_DIGEST_LENGTH];
	char label[LH_KEY_NAME_MAX + 32];
	X509 *x;
	int k, rc;

	if (leaf && (rc = lh_pki_store_cert (t, c, leaf, id, id_len, name)) !=
	    LH_EXIT_OK)
		return rc;
	for (k = 0; k < sk_X509_num (chain); k++) {
		x = sk_X509_value (chain, k);
		if (!key_id (X509_get0_pubkey (x), cid))
			return lh_error (t, LH_EXIT_FAIL, "leave the chain out (give "
			                 "--cert with the key's certificate only)",
			                 "chain certificate %d has a public key that "
			                 "cannot be read", k + 1);
		snprintf (label, sizeof label, "%s-chain-%d", name, k + 1);
		if ((rc = lh_pki_store_cert (t, c, x, cid, sizeof cid, label)) !=
		    LH_EXIT_OK)
			return rc;
	}
	return LH_EXIT_OK;
}

/* ---- the command ------------------------------------------------------------------- */

/* FILE's name without its extension: server.key -> server; known key
 * extensions go too (client.pem.pk8 -> client). */
static void
default_name (const char *path, char *out, size_t cap)
{
	static const char *const known[] = {
		".pem", ".key", ".pk8", ".p8", ".der", ".p12", ".pfx", ".crt",
		".cer", NULL,
	};
	const char *base = strrchr (path, '/');
	char *dot;
	size_t k;

	snprintf (out, cap, "%s", base ? base + 1 : path);
	/* the last extension, whatever it is; before it, known ones */
	if ((dot = strrchr (out, '.')) && dot != out)
		*dot = '\0';
	while ((dot = strrchr (out, '.')) && dot != out) {
		for (k = 0; known[k] && strcmp (dot, known[k]) != 0; k++)
			;
		if (!known[k])
			break;
		*dot = '\0';
	}
}

/* What the input held, freed (the key's values are cleared by OpenSSL). */
static void
source_free (source *s)
{
	EVP_PKEY_free (s->key);
	s->key = NULL;
	sk_X509_pop_free (s->certs, X509_free);
	s->certs = NULL;
}

static void
print_result (lh_tool *t, const lh_secret_ctx *c, const imp_args *a,
              const char *name, const char *format, const lh_key_kind *kind,
              const unsigned char *id, X509 *leaf,
              int nchain, bool replaced, bool removed, const char *uri)
{
	char hex[2 * SHA_DIGEST_LENGTH + 1], *subj = NULL;
	BIO *b = BIO_new (BIO_s_mem ());
	long n;
	char *p;
	lh_json j;

	lh_key_hex (id, SHA_DIGEST_LENGTH, hex);
	if (leaf && b && X509_NAME_print_ex (b, X509_get_subject_name (leaf), 0,
	                                     XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data (b, &p)) >= 0)
		subj = strndup (p, (size_t)n);
	BIO_free (b);
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "label", name);
		lh_json_str (&j, "id", hex);
		lh_json_str (&j, "kind", kind->kind);
		lh_json_str (&j, "type", kind->type);
		lh_json_str (&j, "curve", kind->curve[0] ? kind->curve : NULL);
		lh_json_uint (&j, "bits", kind->bits);
		lh_json_str (&j, "token", c->s.label);
		lh_json_str (&j, "source", a->in);
		lh_json_str (&j, "format", format);
		lh_json_str (&j, "certificate", subj);
		lh_json_uint (&j, "chain", (unsigned long long)nchain);
		lh_json_bool (&j, "verified", true);
		lh_json_bool (&j, "replaced", replaced);
		lh_json_bool (&j, "source_removed", removed);
		lh_json_str (&j, "uri", uri);
		lh_json_object_end (&j);
		lh_json_finish (&j);
		free (subj);
		return;
	}
	printf ("Imported %s key \"%s\" from %s (%s) into token \"%s\"%s.\n",
	        kind->kind, name, a->in, format, c->s.label,
	        replaced ? ", replacing the old one" : "");
	if (subj && nchain)
		printf ("Certificate: %s (and %d chain certificate%s)\n", subj,
		        nchain, nchain == 1 ? "" : "s");
	else if (subj)
		printf ("Certificate: %s\n", subj);
	else
		printf ("No certificate stored with it.\n");
	printf ("The token signed a random challenge with it, and the signature "
	        "verified against the file's key.\n");
	if (removed)
		printf ("Removed %s.  Copies may remain in backups, snapshots and "
		        "old disk blocks: remove those too.\n", a->in);
	printf ("%s\n", uri);
	free (subj);
}

/*
 * Read and check everything in the input before the token is touched:
 * the key, the certificate that goes with it, the values for the
 * templates and the key id.  On return the private key has left this
 * process's OpenSSL objects (only j->pm holds its values, in wiped
 * memory) and j->pub is a public-only copy for the check.
 */
static int
read_input (lh_tool *t, const imp_args *a, const pass *pw, job *j)
{
	source *in = &j->in, *cf = &j->cf;
	int rc;

	in->path = a->in;
	in->opt = "--in";
	in->pw = pw;
	in->want_key = true;
	cf->path = a->cert;
	cf->opt = "--cert";
	cf->pw = pw;
	if (!(in->certs = sk_X509_new_null ()) ||
	    !(cf->certs = sk_X509_new_null ()))
		return no_memory (t);
	if ((rc = parse_file (t, in)) != LH_EXIT_OK ||
	    (a->cert && (rc = parse_file (t, cf)) != LH_EXIT_OK) ||
	    (rc = pick_cert (t, a->cert ? cf : in, in->key, &j->leaf,
	                     &j->chain)) != LH_EXIT_OK ||
	    (rc = key_material (t, in, in->key, &j->kt, &j->pm, &j->um)) !=
	    LH_EXIT_OK)
		return rc;
	if (!key_id (in->key, j->id) || !(j->pub = public_copy (in->key))) {
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_USAGE, "give another key", "the public "
		                 "key of %s (--in) cannot be encoded", a->in);
	}
	EVP_PKEY_free (in->key);
	in->key = NULL;
	return LH_EXIT_OK;
}

/* The key's kind for messages, from the values going to the token. */
static void
describe (CK_KEY_TYPE kt, const material *pm, lh_key_kind *out)
{
	CK_ATTRIBUTE_TYPE want = kt == CKK_RSA ? CKA_MODULUS : CKA_EC_PARAMS;
	const CK_ATTRIBUTE *v = NULL;
	size_t k;

	for (k = 0; k < pm->n; k++)
		if (pm->a[k].type == want)
			v = &pm->a[k];
	lh_key_describe (kt, v ? v->pValue : NULL, v ? v->ulValueLen : 0, out);
}

/*
 * Store j in the token (c logged in), in the order that keeps a failure
 * from changing anything (see the top of this file).  *priv: the new
 * private key; *replaced: an old key of that name was removed (--force).
 */
static int
into_token (lh_tool *t, lh_secret_ctx *c, const imp_args *a, job *j,
            CK_OBJECT_HANDLE *priv, bool *replaced)
{
	CK_OBJECT_HANDLE *old = NULL, *now = NULL;
	CK_OBJECT_HANDLE made[2] = { CK_INVALID_HANDLE, CK_INVALID_HANDLE };
	size_t nold = 0, nnow = 0;
	int rc;

	if ((rc = lh_key_objects (t, c, j->name, &old, &nold)) != LH_EXIT_OK)
		return rc;
	*replaced = nold > 0;
	if (nold && !a->force)
		rc = lh_error (t, LH_EXIT_FAIL, "choose another --label, or use "
		               "--force to replace it", "a key named \"%s\" already "
		               "exists in token \"%s\"", j->name, c->s.label);
	if (rc != LH_EXIT_OK ||
	    (rc = check_dup (t, c, j->name, j->id, sizeof j->id)) != LH_EXIT_OK ||
	    (rc = create_pair (t, c, j->name, j->kt, j->id, sizeof j->id, j->leaf,
	                       &j->pm, &j->um, &made[0], &made[1])) != LH_EXIT_OK)
		goto out;
	mat_free (&j->pm);
	if ((rc = verify_sign (t, c, made[0], j->kt, j->pub)) != LH_EXIT_OK) {
		destroy (c, made, 2);
		goto out;
	}
	/* --force: the old objects go once the new key has proved itself;
	 * then the certificates, which replace theirs, are stored */
	destroy (c, old, nold);
	if ((rc = store_certs (t, c, j->name, j->id, sizeof j->id, j->leaf,
	                       j->chain)) != LH_EXIT_OK) {
		if (lh_key_objects (t, c, j->name, &now, &nnow) == LH_EXIT_OK)
			destroy (c, now, nnow);
		goto out;
	}
	*priv = made[0];
out:
	free (old);
	free (now);
	return rc;
}

/* The URI, --remove-source (last: the file goes only after everything
 * else worked), and the report. */
static int
finish (lh_tool *t, lh_secret_ctx *c, const imp_args *a, const job *j,
        CK_OBJECT_HANDLE priv, bool replaced)
{
	char *uri;
	lh_tkey tk;
	int rc = LH_EXIT_OK, err;

	memset (&tk, 0, sizeof tk);
	snprintf (tk.label, sizeof tk.label, "%s", j->name);
	memcpy (tk.id, j->id, sizeof j->id);
	tk.id_len = sizeof j->id;
	tk.kt = j->kt;
	tk.priv = priv;
	if (!(uri = lh_pki_key_uri (&c->s, &tk)))
		return no_memory (t);
	if (a->remove && unlink (a->in) != 0) {
		err = errno;
		rc = lh_error (t, LH_EXIT_FAIL, "remove it by hand", "key \"%s\" is "
		               "imported, but %s cannot be removed: %s", j->name,
		               a->in, strerror (err));
	}
	print_result (t, c, a, j->name, j->in.format, &j->kind, j->id, j->leaf,
	              sk_X509_num (j->chain), replaced,
	              a->remove && rc == LH_EXIT_OK, uri);
	free (uri);
	return rc;
}

int
lh_key_import (lh_tool *t, int argc, char **argv)
{
	imp_args a = { NULL };
	pass pw = { NULL, 0, 0, false };
	CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
	bool replaced = false;
	lh_secret_ctx c;
	job j;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&j, 0, sizeof j);
	if ((rc = lh_args_parse (t, &import_cmd, argc, argv, import_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if (!a.in)
		return lh_error (t, LH_EXIT_USAGE, "see 'litehsm key import "
		                 "--help'", "'key import' needs --in FILE");
	if (a.label)
		snprintf (j.name, sizeof j.name, "%s", a.label);
	else
		default_name (a.in, j.name, sizeof j.name);
	if ((rc = lh_key_check_name (t, j.name)) != LH_EXIT_OK ||
	    (a.pass_file && (rc = read_pass (t, a.pass_file, &pw)) != LH_EXIT_OK) ||
	    (rc = read_input (t, &a, &pw, &j)) != LH_EXIT_OK)
		goto out;
	pass_clear (&pw);
	describe (j.kt, &j.pm, &j.kind);
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = into_token (t, &c, &a, &j, &priv, &replaced)) != LH_EXIT_OK)
		goto out;
	rc = finish (t, &c, &a, &j, priv, replaced);
out:
	mat_free (&j.pm);
	mat_free (&j.um);
	pass_clear (&pw);
	EVP_PKEY_free (j.pub);
	sk_X509_free (j.chain);     /* its certificates belong to in or cf */
	source_free (&j.in);
	source_free (&j.cf);
	lh_secret_close (&c);
	return rc;
}
