/*
 * harness.c - the two tokens of the differential tests and what drives
 * them (see harness.h and test-diff.c).
 *
 * SoftHSM2 is loaded once, with a private config (SOFTHSM2_CONF) whose
 * token directory is a temp dir, and one token initialized there; each
 * test gets a new session on it, and the session objects the test
 * imported die with that session.  litehsm gets a new token per test
 * from tests/module/fixture.c (default config: the strict policy on).
 */
#define FX_INTERNAL 1
#include "config.h"

#include "fixture.h"
#include "harness.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>

#define SOFTHSM2_DEFAULT "/usr/lib/softhsm/libsofthsm2.so"
#define SH_SO_PIN "sh-so-pin-1"
#define SH_USER_PIN "sh-user-pin-1"
#define SH_LABEL "litehsm diff reference"

/* ------------------------------------------------------------------ */
/* The two tokens                                                      */

tok L = { .name = "litehsm" };
tok S = { .name = "softhsm2" };

/* SoftHSM2 is set up once per program; litehsm per test (fixture.c). */
static struct {
	bool ready;
	void *dl;
	CK_FUNCTION_LIST_PTR fl;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE base;    /* keeps the user logged in */
	char dir[256];
} sh;

dx_keys K;

const uint8_t aes128_v[16] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
const uint8_t aes256_v[32] = {
	0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe,
	0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d, 0x77, 0x81,
	0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7,
	0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4 };
uint8_t kek_v[32], gen36_v[36], hmac_v[64];

static const uint8_t oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };

/* The message most tests sign, encrypt or digest. */
uint8_t msg[1000];

/* ------------------------------------------------------------------ */
/* Reporting                                                           */

/* A TAP comment: where SoftHSM2 differs without litehsm being wrong. */
void
note (const char *fmt, ...)
{
	va_list ap;

	fputs ("# ", stdout);
	va_start (ap, fmt);
	vprintf (fmt, ap);
	va_end (ap);
	fputc ('\n', stdout);
}

void
failf (const char *file, int line, const char *fmt, ...)
{
	char m[1024];
	va_list ap;

	va_start (ap, fmt);
	vsnprintf (m, sizeof m, fmt, ap);
	va_end (ap);
	fx_fail_hook (file, line, m);
	abort ();   /* not reached: the hook jumps */
}

void
hex_diag (const char *label, const uint8_t *p, size_t n)
{
	size_t i;

	printf ("#   %s (%zu):", label, n);
	for (i = 0; i < n && i < (getenv ("LH_DIFF_FULLHEX") ? n : 48); i++)
		printf (" %02x", p[i]);
	printf ("%s\n", n > 48 && !getenv ("LH_DIFF_FULLHEX") ? " ..." : "");
}

void
same_ (const char *file, int line, const char *what, const buf *a, const buf *b)
{
	if (a->n == b->n && memcmp (a->b, b->b, a->n) == 0)
		return;
	hex_diag (L.name, a->b, a->n);
	hex_diag (S.name, b->b, b->n);
	failf (file, line, "%s: results differ", what);
}

/* ------------------------------------------------------------------ */
/* Templates                                                           */

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

void
add (tmpl *t, CK_ATTRIBUTE_TYPE type, const void *v, size_t len)
{
	if (t->n >= N_ (t->a))
		failf (__FILE__, __LINE__, "template too long");
	t->a[t->n++] = (CK_ATTRIBUTE){ type, (void *) v, len };
}

void
add_bool (tmpl *t, CK_ATTRIBUTE_TYPE type, bool v)
{
	add (t, type, v ? &yes : &no, sizeof (CK_BBOOL));
}

void
add_ulong (tmpl *t, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	t->ul[t->nul] = v;
	add (t, type, &t->ul[t->nul++], sizeof (CK_ULONG));
}

/* A key's head: class, type, session object, label, and every usage
 * flag its class has, set from the mask (explicit, so that neither
 * token's defaults matter). */
void
key_head (tmpl *t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, const char *label,
          unsigned usage)
{
	memset (t, 0, sizeof *t);
	add_ulong (t, CKA_CLASS, cls);
	add_ulong (t, CKA_KEY_TYPE, kt);
	add_bool (t, CKA_TOKEN, false);
	add (t, CKA_LABEL, label, strlen (label));
	if (cls != CKO_PRIVATE_KEY) {
		add_bool (t, CKA_ENCRYPT, usage & U_ENC);
		add_bool (t, CKA_VERIFY, usage & U_VER);
		add_bool (t, CKA_WRAP, usage & U_WRAP);
	}
	if (cls != CKO_PUBLIC_KEY) {
		add_bool (t, CKA_DECRYPT, usage & U_DEC);
		add_bool (t, CKA_SIGN, usage & U_SIGN);
		add_bool (t, CKA_UNWRAP, usage & U_UNWRAP);
	}
}

CK_OBJECT_HANDLE
create (tok *t, tmpl *tp)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	char what[160];

	snprintf (what, sizeof what, "C_CreateObject (%.*s)",
	          (int) tp->a[3].ulValueLen, (const char *) tp->a[3].pValue);
	check_rv (t, CKR_OK, t->fl->C_CreateObject (t->s, tp->a, tp->n, &h), what);
	return h;
}

CK_OBJECT_HANDLE
secret (tok *t, CK_KEY_TYPE kt, const char *label, const uint8_t *v,
        size_t len, unsigned usage, bool exportable)
{
	tmpl tp;

	key_head (&tp, CKO_SECRET_KEY, kt, label, usage);
	add (&tp, CKA_VALUE, v, len);
	add_bool (&tp, CKA_SENSITIVE, !exportable);
	add_bool (&tp, CKA_EXTRACTABLE, exportable);
	return create (t, &tp);
}

#define ADDBIN(tp, type, bn) add ((tp), (type), (bn).b, (bn).n)

static CK_OBJECT_HANDLE
rsa_key (tok *t, CK_OBJECT_CLASS cls, const char *label, unsigned usage,
         bool exportable)
{
	tmpl tp;

	key_head (&tp, cls, CKK_RSA, label, usage);
	ADDBIN (&tp, CKA_MODULUS, K.n);
	ADDBIN (&tp, CKA_PUBLIC_EXPONENT, K.e);
	if (cls == CKO_PRIVATE_KEY) {
		ADDBIN (&tp, CKA_PRIVATE_EXPONENT, K.d);
		ADDBIN (&tp, CKA_PRIME_1, K.p);
		ADDBIN (&tp, CKA_PRIME_2, K.q);
		ADDBIN (&tp, CKA_EXPONENT_1, K.dp);
		ADDBIN (&tp, CKA_EXPONENT_2, K.dq);
		ADDBIN (&tp, CKA_COEFFICIENT, K.qinv);
		add_bool (&tp, CKA_SENSITIVE, !exportable);
		add_bool (&tp, CKA_EXTRACTABLE, exportable);
	}
	return create (t, &tp);
}

static CK_OBJECT_HANDLE
ec_key (tok *t, CK_KEY_TYPE kt, CK_OBJECT_CLASS cls, const char *label,
        unsigned usage, bool exportable)
{
	bool ed = kt == CKK_EC_EDWARDS;
	tmpl tp;

	key_head (&tp, cls, kt, label, usage);
	if (ed)
		add (&tp, CKA_EC_PARAMS, oid_ed25519, sizeof oid_ed25519);
	else
		add (&tp, CKA_EC_PARAMS, oid_p256, sizeof oid_p256);
	if (cls == CKO_PRIVATE_KEY) {
		if (ed)
			ADDBIN (&tp, CKA_VALUE, K.ed_priv);
		else
			ADDBIN (&tp, CKA_VALUE, K.ec_d);
		add_bool (&tp, CKA_SENSITIVE, !exportable);
		add_bool (&tp, CKA_EXTRACTABLE, exportable);
	} else if (ed) {
		ADDBIN (&tp, CKA_EC_POINT, K.ed_point);
	} else {
		ADDBIN (&tp, CKA_EC_POINT, K.ec_point);
	}
	return create (t, &tp);
}

/* Every key of the tests, as session objects of t->s. */
static void
import_all (tok *t)
{
	t->aes128 = secret (t, CKK_AES, "aes128", aes128_v, 16,
	                    U_ENC | U_DEC | U_SIGN | U_VER, true);
	t->aes256 = secret (t, CKK_AES, "aes256", aes256_v, 32,
	                    U_ENC | U_DEC | U_SIGN | U_VER, true);
	t->gen36 = secret (t, CKK_GENERIC_SECRET, "gen36", gen36_v, 36,
	                   U_SIGN | U_VER, true);
	t->hmac = secret (t, CKK_GENERIC_SECRET, "hmac", hmac_v, 64,
	                  U_SIGN | U_VER, false);
	t->kek = secret (t, CKK_AES, "kek", kek_v, 32, U_WRAP | U_UNWRAP, false);
	t->rsa_priv = rsa_key (t, CKO_PRIVATE_KEY, "rsa", U_SIGN | U_DEC, false);
	t->rsa_pub = rsa_key (t, CKO_PUBLIC_KEY, "rsa", U_VER | U_ENC, false);
	t->rsa_unwrap = rsa_key (t, CKO_PRIVATE_KEY, "rsa-unwrap", U_UNWRAP, false);
	t->rsa_wrap = rsa_key (t, CKO_PUBLIC_KEY, "rsa-wrap", U_WRAP, false);
	t->rsa_x = rsa_key (t, CKO_PRIVATE_KEY, "rsa-x", U_SIGN, true);
	t->ec_priv = ec_key (t, CKK_EC, CKO_PRIVATE_KEY, "p256", U_SIGN, false);
	t->ec_pub = ec_key (t, CKK_EC, CKO_PUBLIC_KEY, "p256", U_VER, false);
	t->ec_x = ec_key (t, CKK_EC, CKO_PRIVATE_KEY, "p256-x", U_SIGN, true);
	t->ed_priv = ec_key (t, CKK_EC_EDWARDS, CKO_PRIVATE_KEY, "ed25519",
	                     U_SIGN, false);
	t->ed_pub = ec_key (t, CKK_EC_EDWARDS, CKO_PUBLIC_KEY, "ed25519",
	                    U_VER, false);
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */

static CK_RV
op_init (tok *t, opkind k, CK_MECHANISM *m, CK_OBJECT_HANDLE key)
{
	switch (k) {
	case OP_ENC:    return t->fl->C_EncryptInit (t->s, m, key);
	case OP_DEC:    return t->fl->C_DecryptInit (t->s, m, key);
	case OP_SIGN:   return t->fl->C_SignInit (t->s, m, key);
	case OP_DIGEST: return t->fl->C_DigestInit (t->s, m);
	}
	return CKR_GENERAL_ERROR;
}

static CK_RV
op_one (tok *t, opkind k, const uint8_t *in, size_t len, uint8_t *out,
        CK_ULONG *olen)
{
	CK_BYTE_PTR p = (CK_BYTE_PTR) in;

	switch (k) {
	case OP_ENC:    return t->fl->C_Encrypt (t->s, p, len, out, olen);
	case OP_DEC:    return t->fl->C_Decrypt (t->s, p, len, out, olen);
	case OP_SIGN:   return t->fl->C_Sign (t->s, p, len, out, olen);
	case OP_DIGEST: return t->fl->C_Digest (t->s, p, len, out, olen);
	}
	return CKR_GENERAL_ERROR;
}

static CK_RV
op_update (tok *t, opkind k, const uint8_t *in, size_t len, uint8_t *out,
           CK_ULONG *olen)
{
	CK_BYTE_PTR p = (CK_BYTE_PTR) in;

	switch (k) {
	case OP_ENC:    return t->fl->C_EncryptUpdate (t->s, p, len, out, olen);
	case OP_DEC:    return t->fl->C_DecryptUpdate (t->s, p, len, out, olen);
	case OP_SIGN:   *olen = 0; return t->fl->C_SignUpdate (t->s, p, len);
	case OP_DIGEST: *olen = 0; return t->fl->C_DigestUpdate (t->s, p, len);
	}
	return CKR_GENERAL_ERROR;
}

static CK_RV
op_final (tok *t, opkind k, uint8_t *out, CK_ULONG *olen)
{
	switch (k) {
	case OP_ENC:    return t->fl->C_EncryptFinal (t->s, out, olen);
	case OP_DEC:    return t->fl->C_DecryptFinal (t->s, out, olen);
	case OP_SIGN:   return t->fl->C_SignFinal (t->s, out, olen);
	case OP_DIGEST: return t->fl->C_DigestFinal (t->s, out, olen);
	}
	return CKR_GENERAL_ERROR;
}

/*
 * Run one operation on t: single-part when chunk is 0 (with a length
 * query first), else multi-part in pieces of chunk bytes.  The result
 * goes to out; returns the first failing rv.  Multi-part only: rec (if
 * not NULL) records what each update and the final call wrote, and cap
 * (if not NULL) gives each call exactly that much room instead of the
 * rest of out - a buffer that holds the output must do (PKCS#11 5.2).
 */
CK_RV
run_ex (tok *t, opkind k, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
        const uint8_t *in, size_t len, size_t chunk, buf *out, trace *rec,
        const trace *cap)
{
	CK_ULONG olen;
	size_t off, piece, call = 0;
	CK_RV rv, first = CKR_OK;

	out->n = 0;
	if (rec)
		rec->count = 0;
	if ((rv = op_init (t, k, m, key)) != CKR_OK)
		return rv;
	if (chunk == 0) {
		olen = 0;
		if ((rv = op_one (t, k, in, len, NULL, &olen)) != CKR_OK)
			return rv;
		if (olen > sizeof out->b)
			return CKR_GENERAL_ERROR;
		if ((rv = op_one (t, k, in, len, out->b, &olen)) == CKR_OK)
			out->n = olen;
		return rv;
	}
	for (off = 0; off <= len; off += piece, call++) {
		piece = len - off < chunk ? len - off : chunk;
		olen = sizeof out->b - out->n;
		if (cap && call < cap->count && cap->n[call] < olen)
			olen = cap->n[call];
		rv = off == len ? op_final (t, k, out->b + out->n, &olen) :
		     op_update (t, k, in + off, piece, out->b + out->n, &olen);
		if (rv == CKR_BUFFER_TOO_SMALL && cap && first == CKR_OK) {
			note ("%s: %s call %zu (%zu bytes in) wants room for %lu "
			      "bytes", t->name, off == len ? "final" : "update",
			      call, piece, olen);
			/* the operation lives on (5.2): finish it with room */
			first = rv;
			cap = NULL;
			olen = sizeof out->b - out->n;
			rv = off == len ? op_final (t, k, out->b + out->n, &olen) :
			     op_update (t, k, in + off, piece, out->b + out->n, &olen);
		}
		if (rv != CKR_OK)
			return rv;
		if (rec && rec->count < N_ (rec->n))
			rec->n[rec->count++] = olen;
		out->n += olen;
		if (off == len)
			break;
	}
	return first;
}

CK_RV
run (tok *t, opkind k, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
     const uint8_t *in, size_t len, size_t chunk, buf *out)
{
	return run_ex (t, k, m, key, in, len, chunk, out, NULL, NULL);
}

const char *const opname[] = { "encrypt", "decrypt", "sign", "digest" };

/* Verify sig over in (single-part when chunk is 0). */
CK_RV
verify (tok *t, CK_MECHANISM *m, CK_OBJECT_HANDLE key, const uint8_t *in,
        size_t len, size_t chunk, const buf *sig)
{
	size_t off, piece;
	CK_RV rv;

	if ((rv = t->fl->C_VerifyInit (t->s, m, key)) != CKR_OK)
		return rv;
	if (chunk == 0)
		return t->fl->C_Verify (t->s, (CK_BYTE_PTR) in, len,
		                        (CK_BYTE_PTR) sig->b, sig->n);
	for (off = 0; off < len; off += piece) {
		piece = len - off < chunk ? len - off : chunk;
		rv = t->fl->C_VerifyUpdate (t->s, (CK_BYTE_PTR) in + off, piece);
		if (rv != CKR_OK)
			return rv;
	}
	return t->fl->C_VerifyFinal (t->s, (CK_BYTE_PTR) sig->b, sig->n);
}

/* A signature with one bit flipped must be refused by t. */
void
verify_rejects_tampered (tok *t, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                         const uint8_t *in, size_t len, const buf *sig)
{
	buf bad = *sig;

	bad.b[bad.n / 2] ^= 0x01;
	check_rv (t, CKR_SIGNATURE_INVALID, verify (t, m, key, in, len, 0, &bad),
	          "verify of a tampered signature");
}

CK_RV
wrap (tok *t, CK_MECHANISM *m, CK_OBJECT_HANDLE kek, CK_OBJECT_HANDLE key,
      buf *out)
{
	CK_ULONG n = 0;
	CK_RV rv;

	out->n = 0;
	if ((rv = t->fl->C_WrapKey (t->s, m, kek, key, NULL, &n)) != CKR_OK)
		return rv;
	if (n > sizeof out->b)
		return CKR_GENERAL_ERROR;
	rv = t->fl->C_WrapKey (t->s, m, kek, key, out->b, &n);
	if (rv == CKR_OK)
		out->n = n;
	return rv;
}

CK_OBJECT_HANDLE
unwrap (tok *t, CK_MECHANISM *m, CK_OBJECT_HANDLE kek, const buf *blob,
        tmpl *tp)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	check_rv (t, CKR_OK, t->fl->C_UnwrapKey (t->s, m, kek, (CK_BYTE_PTR) blob->b,
	                                         blob->n, tp->a, tp->n, &h),
	          "C_UnwrapKey");
	return h;
}

/* ------------------------------------------------------------------ */
/* OpenSSL helpers (the third opinion where SoftHSM2 has none)         */

const EVP_MD *
md_of (CK_MECHANISM_TYPE hash)
{
	switch (hash) {
	case CKM_SHA_1:  return EVP_sha1 ();
	case CKM_SHA224: return EVP_sha224 ();
	case CKM_SHA256: return EVP_sha256 ();
	case CKM_SHA384: return EVP_sha384 ();
	case CKM_SHA512: return EVP_sha512 ();
	default:         return NULL;
	}
}

CK_RSA_PKCS_MGF_TYPE
mgf_of (CK_MECHANISM_TYPE hash)
{
	switch (hash) {
	case CKM_SHA_1:  return CKG_MGF1_SHA1;
	case CKM_SHA224: return CKG_MGF1_SHA224;
	case CKM_SHA256: return CKG_MGF1_SHA256;
	case CKM_SHA384: return CKG_MGF1_SHA384;
	default:         return CKG_MGF1_SHA512;
	}
}

/* out = hash (in), by OpenSSL. */
void
ossl_hash (CK_MECHANISM_TYPE hash, const uint8_t *in, size_t len, buf *out)
{
	unsigned int n = 0;

	if (!EVP_Digest (in, len, out->b, &n, md_of (hash), NULL))
		failf (__FILE__, __LINE__, "EVP_Digest failed");
	out->n = n;
}

/* out = DER DigestInfo of hash (in) (RFC 8017 section 9.2, note 1). */
void
digest_info (CK_MECHANISM_TYPE hash, const uint8_t *in, size_t len, buf *out)
{
	static const uint8_t p1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b,
		0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14 };
	static const uint8_t p2[] = { 0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60,
		0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04,
		0x1c };
	uint8_t pre[19];
	size_t plen;
	buf h;

	ossl_hash (hash, in, len, &h);
	if (hash == CKM_SHA_1) {
		memcpy (pre, p1, sizeof p1);
		plen = sizeof p1;
	} else {
		/* SHA-2: the same prefix except the lengths and the OID's arc */
		memcpy (pre, p2, sizeof p2);
		plen = sizeof p2;
		pre[1] = (uint8_t) (0x11 + h.n);
		pre[14] = hash == CKM_SHA224 ? 4 : hash == CKM_SHA256 ? 1 :
		          hash == CKM_SHA384 ? 2 : 3;
		pre[18] = (uint8_t) h.n;
	}
	memcpy (out->b, pre, plen);
	memcpy (out->b + plen, h.b, h.n);
	out->n = plen + h.n;
}

/* RSA OAEP with OpenSSL and the test's key; returns false on failure. */
bool
ossl_oaep (bool enc, CK_MECHANISM_TYPE hash, const buf *in, buf *out)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new (K.rsa, NULL);
	size_t n = sizeof out->b;
	bool ok;

	ok = c && (enc ? EVP_PKEY_encrypt_init (c) : EVP_PKEY_decrypt_init (c)) > 0 &&
	     EVP_PKEY_CTX_set_rsa_padding (c, RSA_PKCS1_OAEP_PADDING) > 0 &&
	     EVP_PKEY_CTX_set_rsa_oaep_md (c, md_of (hash)) > 0 &&
	     EVP_PKEY_CTX_set_rsa_mgf1_md (c, md_of (hash)) > 0 &&
	     (enc ? EVP_PKEY_encrypt (c, out->b, &n, in->b, in->n) :
	            EVP_PKEY_decrypt (c, out->b, &n, in->b, in->n)) > 0;
	out->n = ok ? n : 0;
	EVP_PKEY_CTX_free (c);
	return ok;
}

/* RFC 3394 / RFC 5649 key wrap (wrap) or unwrap with OpenSSL under kek_v. */
bool
ossl_kw (bool wrap, bool pad, const uint8_t *in, size_t len, buf *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new ();
	const EVP_CIPHER *ciph = pad ? EVP_aes_256_wrap_pad () : EVP_aes_256_wrap ();
	int n = 0, f = 0;
	bool ok;

	if (!c)
		return false;
	EVP_CIPHER_CTX_set_flags (c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	ok = EVP_CipherInit_ex (c, ciph, NULL, kek_v, NULL, wrap ? 1 : 0) > 0 &&
	     EVP_CipherUpdate (c, out->b, &n, in, (int) len) > 0 &&
	     EVP_CipherFinal_ex (c, out->b + n, &f) > 0;
	out->n = ok ? (CK_ULONG) (n + f) : 0;
	EVP_CIPHER_CTX_free (c);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

static void
bn_param (EVP_PKEY *pk, const char *name, bin *out, size_t pad)
{
	BIGNUM *bn = NULL;
	int n;

	if (!EVP_PKEY_get_bn_param (pk, name, &bn))
		failf (__FILE__, __LINE__, "no %s", name);
	n = pad ? BN_bn2binpad (bn, out->b, (int) pad) : BN_bn2bin (bn, out->b);
	BN_clear_free (bn);
	if (n <= 0)
		failf (__FILE__, __LINE__, "BN_bn2bin %s", name);
	out->n = (size_t) n;
}

/* b = DER OCTET STRING of raw (raw shorter than 128 bytes). */
static void
octet_string (bin *b, const uint8_t *raw, size_t n)
{
	b->b[0] = 0x04;
	b->b[1] = (uint8_t) n;
	memcpy (b->b + 2, raw, n);
	b->n = n + 2;
}

void
make_keys (void)
{
	uint8_t raw[128];
	size_t n, i;

	for (i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t) (i * 7 + 3);
	for (i = 0; i < sizeof hmac_v; i++)
		hmac_v[i] = (uint8_t) (0xa0 + i);
	for (i = 0; i < sizeof gen36_v; i++)
		gen36_v[i] = (uint8_t) (0x11 * i + 1);
	for (i = 0; i < sizeof kek_v; i++)
		kek_v[i] = (uint8_t) (0xf0 - i);
	K.rsa = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 2048);
	K.ec = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
	K.ed = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");
	if (!K.rsa || !K.ec || !K.ed)
		failf (__FILE__, __LINE__, "OpenSSL key generation failed");
	bn_param (K.rsa, OSSL_PKEY_PARAM_RSA_N, &K.n, 0);
	bn_param (K.rsa, OSSL_PKEY_PARAM_RSA_E, &K.e, 0);
	bn_param (K.rsa, OSSL_PKEY_PARAM_RSA_D, &K.d, 0);
	bn_param (K.rsa, OSSL_PKEY_PARAM_RSA_FACTOR1, &K.p, 0);
	bn_param (K.rsa, OSSL_PKEY_PARAM_RSA_FACTOR2, &K.q, 0);
	bn_param (K.rsa, OSSL_PKEY_PARAM_RSA_EXPONENT1, &K.dp, 0);
	bn_param (K.rsa, OSSL_PKEY_PARAM_RSA_EXPONENT2, &K.dq, 0);
	bn_param (K.rsa, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, &K.qinv, 0);
	bn_param (K.ec, OSSL_PKEY_PARAM_PRIV_KEY, &K.ec_d, 32);
	if (!EVP_PKEY_get_octet_string_param (K.ec, OSSL_PKEY_PARAM_PUB_KEY,
	                                      raw, sizeof raw, &n) || n != 65)
		failf (__FILE__, __LINE__, "P-256 public point");
	octet_string (&K.ec_point, raw, n);
	n = sizeof K.ed_priv.b;
	if (!EVP_PKEY_get_raw_private_key (K.ed, K.ed_priv.b, &n))
		failf (__FILE__, __LINE__, "Ed25519 private key");
	K.ed_priv.n = n;
	n = sizeof raw;
	if (!EVP_PKEY_get_raw_public_key (K.ed, raw, &n))
		failf (__FILE__, __LINE__, "Ed25519 public key");
	octet_string (&K.ed_point, raw, n);
}

const char *
softhsm_path (void)
{
	const char *p = getenv ("LH_SOFTHSM2");

	return p && *p ? p : SOFTHSM2_DEFAULT;
}

/* The slot whose token has this label (or, with label NULL, the one
 * that is not initialized yet). */
static bool
sh_find_slot (const char *label, CK_SLOT_ID *out)
{
	CK_SLOT_ID ids[32];
	CK_ULONG n = N_ (ids), i;
	CK_TOKEN_INFO ti;

	if (sh.fl->C_GetSlotList (CK_TRUE, ids, &n) != CKR_OK)
		return false;
	for (i = 0; i < n; i++) {
		if (sh.fl->C_GetTokenInfo (ids[i], &ti) != CKR_OK)
			continue;
		if (label ? (ti.flags & CKF_TOKEN_INITIALIZED) &&
		            fx_padded_eq (ti.label, sizeof ti.label, label) :
		            !(ti.flags & CKF_TOKEN_INITIALIZED)) {
			*out = ids[i];
			return true;
		}
	}
	return false;
}

/* Load SoftHSM2 with a private config and token directory, initialize
 * a token and log its user in (once per program). */
static void
sh_start (void)
{
	CK_C_INITIALIZE_ARGS args;
	CK_C_GetFunctionList get;
	CK_UTF8CHAR label[32];
	CK_SESSION_HANDLE so;
	const char *tmp = getenv ("TMPDIR");
	tok t = { .name = "softhsm2" };
	char path[400];
	FILE *f;

	snprintf (sh.dir, sizeof sh.dir, "%s/litehsm-diff-XXXXXX",
	          tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp (sh.dir))
		failf (__FILE__, __LINE__, "mkdtemp");
	snprintf (path, sizeof path, "%s/tokens", sh.dir);
	mkdir (path, 0700);
	snprintf (path, sizeof path, "%s/softhsm2.conf", sh.dir);
	if (!(f = fopen (path, "w")))
		failf (__FILE__, __LINE__, "cannot write %s", path);
	fprintf (f, "directories.tokendir = %s/tokens\n"
	         "objectstore.backend = file\nlog.level = ERROR\n"
	         "slots.removable = false\n", sh.dir);
	fclose (f);
	setenv ("SOFTHSM2_CONF", path, 1);

	if (!(sh.dl = dlopen (softhsm_path (), RTLD_NOW | RTLD_LOCAL)))
		failf (__FILE__, __LINE__, "dlopen %s: %s", softhsm_path (), dlerror ());
	get = (CK_C_GetFunctionList) dlsym (sh.dl, "C_GetFunctionList");
	if (!get || get (&sh.fl) != CKR_OK)
		failf (__FILE__, __LINE__, "softhsm2: C_GetFunctionList");
	t.fl = sh.fl;
	memset (&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	check_rv (&t, CKR_OK, sh.fl->C_Initialize (&args), "C_Initialize");
	if (!sh_find_slot (NULL, &sh.slot))
		failf (__FILE__, __LINE__, "softhsm2: no free slot");
	fx_pad (label, sizeof label, SH_LABEL);
	check_rv (&t, CKR_OK, sh.fl->C_InitToken (sh.slot, (CK_UTF8CHAR_PTR) SH_SO_PIN,
	          strlen (SH_SO_PIN), label), "C_InitToken");
	/* SoftHSM2 moves an initialized token to a new slot id */
	if (!sh_find_slot (SH_LABEL, &sh.slot))
		failf (__FILE__, __LINE__, "softhsm2: token not found after init");
	check_rv (&t, CKR_OK, sh.fl->C_OpenSession (sh.slot,
	          CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &so), "C_OpenSession");
	check_rv (&t, CKR_OK, sh.fl->C_Login (so, CKU_SO, (CK_UTF8CHAR_PTR) SH_SO_PIN,
	          strlen (SH_SO_PIN)), "C_Login (SO)");
	check_rv (&t, CKR_OK, sh.fl->C_InitPIN (so, (CK_UTF8CHAR_PTR) SH_USER_PIN,
	          strlen (SH_USER_PIN)), "C_InitPIN");
	check_rv (&t, CKR_OK, sh.fl->C_Logout (so), "C_Logout");
	check_rv (&t, CKR_OK, sh.fl->C_Login (so, CKU_USER, (CK_UTF8CHAR_PTR) SH_USER_PIN,
	          strlen (SH_USER_PIN)), "C_Login (user)");
	sh.base = so;
	sh.ready = true;
}

void
sh_stop (void)
{
	if (sh.fl)
		sh.fl->C_Finalize (NULL);
	/* no dlclose: SoftHSM2's C++ static destructors are not ours to run
	 * in the middle of the process */
	if (sh.dir[0])
		fx_rmrf (sh.dir);
}

/* LSan (ASan builds): SoftHSM2's own allocations that it keeps for the
 * life of the process are not litehsm's leaks. */
const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
	return "leak:libsofthsm2.so\n";
}

static const fx_opts diff_opts = { FX_USER, NULL };

/* Per test: a fresh litehsm token (fixture.c), a fresh SoftHSM2 session,
 * the keys imported into both. */
void *
diff_setup (void *arg)
{
	lh_fx *fx;

	memset (&L.s, 0, sizeof L - offsetof (tok, s));
	memset (&S.s, 0, sizeof S - offsetof (tok, s));
	S.s = CK_INVALID_HANDLE;
	fx = fx_setup ((void *) &diff_opts);
	L.fl = fx->fl;
	L.s = fx->session;
	if (!sh.ready)
		sh_start ();
	S.fl = sh.fl;
	check_rv (&S, CKR_OK, sh.fl->C_OpenSession (sh.slot,
	          CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &S.s),
	          "C_OpenSession");
	import_all (&L);
	import_all (&S);
	return arg;
}

void
diff_teardown (void *arg)
{
	/* closing the session destroys its session objects */
	if (sh.fl && S.s != CK_INVALID_HANDLE)
		sh.fl->C_CloseSession (S.s);
	S.s = CK_INVALID_HANDLE;
	fx_teardown (arg);
}
