/*
 * harness.h - what tests/diff/test-diff.c uses to drive two PKCS#11
 * tokens side by side: litehsm (through tests/module/fixture.c, a fresh
 * token per test) and SoftHSM2 (one token per program, a fresh session
 * per test), the same keys imported into both, and helpers that run an
 * operation single- or multi-part on either token, compare results and
 * fall back on OpenSSL where SoftHSM2 has no answer.
 *
 * Failures go through fixture.c's fx_fail_hook, which test-diff.c points
 * at test.h's lh_test_fail_: a failed check ends the current test.
 */
#ifndef LH_TEST_DIFF_HARNESS_H
#define LH_TEST_DIFF_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#define N_(a) (sizeof (a) / sizeof ((a)[0]))

/* One token under test and the handles of the keys imported into it. */
typedef struct {
	const char *name;          /* "litehsm" or "softhsm2", for messages */
	CK_FUNCTION_LIST_PTR fl;
	CK_SESSION_HANDLE s;       /* this test's session (R/W, user) */
	CK_OBJECT_HANDLE aes128, aes256;  /* data keys: enc/dec/sign/verify */
	CK_OBJECT_HANDLE gen36;    /* 36-byte generic secret (KWP, HMAC) */
	CK_OBJECT_HANDLE hmac;     /* 64-byte generic secret */
	CK_OBJECT_HANDLE kek;      /* AES-256, wrap/unwrap only */
	CK_OBJECT_HANDLE rsa_priv, rsa_pub;   /* sign+decrypt / verify+encrypt */
	CK_OBJECT_HANDLE rsa_unwrap, rsa_wrap;  /* the same key, unwrap / wrap */
	CK_OBJECT_HANDLE rsa_x;    /* the same private key, extractable */
	CK_OBJECT_HANDLE ec_priv, ec_pub, ec_x;
	CK_OBJECT_HANDLE ed_priv, ed_pub;
} tok;

extern tok L, S;   /* litehsm, softhsm2 */

/* Key material, made once with OpenSSL (make_keys). */
typedef struct {
	uint8_t b[512];
	size_t n;
} bin;

typedef struct {
	EVP_PKEY *rsa, *ec, *ed;
	bin n, e, d, p, q, dp, dq, qinv;      /* RSA, big-endian */
	bin ec_d, ec_point;                    /* scalar; DER OCTET STRING */
	bin ed_priv, ed_point;                 /* raw seed; DER OCTET STRING */
} dx_keys;

extern dx_keys K;
extern const uint8_t aes128_v[16], aes256_v[32];
extern uint8_t kek_v[32], gen36_v[36], hmac_v[64];
extern uint8_t msg[1000];   /* the message most tests use */

/* Results. */
typedef struct {
	uint8_t b[4096];
	CK_ULONG n;
} buf;

/* A TAP comment (where SoftHSM2 differs without litehsm being wrong). */
void note (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Fail the current test (does not return). */
void failf (const char *file, int line, const char *fmt, ...)
	__attribute__ ((format (printf, 3, 4), noreturn));
void hex_diag (const char *label, const uint8_t *p, size_t n);
void same_ (const char *file, int line, const char *what, const buf *a,
            const buf *b);

/* rv of a call on token t must be expected. */
#define check_rv(t, expected, rv, what) do { \
	CK_RV e_ = (expected), a_ = (rv); \
	if (e_ != a_) \
		failf (__FILE__, __LINE__, "%s: %s: expected rv 0x%lx, got 0x%lx", \
		       (t)->name, (what), e_, a_); } while (0)

/* litehsm's result a must equal b (softhsm2's or OpenSSL's). */
#define same(what, a, b) same_ (__FILE__, __LINE__, (what), (a), (b))

#define same_bytes(what, a, alen, b, blen) do { \
	if ((size_t) (alen) != (size_t) (blen) || \
	    memcmp ((a), (b), (size_t) (alen)) != 0) { \
		hex_diag ("got", (const uint8_t *) (a), (size_t) (alen)); \
		hex_diag ("want", (const uint8_t *) (b), (size_t) (blen)); \
		failf (__FILE__, __LINE__, "%s: bytes differ", (what)); } } while (0)

/* Templates: every usage flag of a key's class is set from the mask. */
enum {
	U_ENC = 1, U_DEC = 2, U_SIGN = 4, U_VER = 8, U_WRAP = 16, U_UNWRAP = 32,
};

typedef struct {
	CK_ATTRIBUTE a[24];
	CK_ULONG n;
	CK_ULONG ul[4];            /* storage for add_ulong values */
	int nul;
} tmpl;

void add (tmpl *t, CK_ATTRIBUTE_TYPE type, const void *v, size_t len);
void add_bool (tmpl *t, CK_ATTRIBUTE_TYPE type, bool v);
void add_ulong (tmpl *t, CK_ATTRIBUTE_TYPE type, CK_ULONG v);
void key_head (tmpl *t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, const char *label,
               unsigned usage);
CK_OBJECT_HANDLE create (tok *t, tmpl *tp);
CK_OBJECT_HANDLE secret (tok *t, CK_KEY_TYPE kt, const char *label,
                         const uint8_t *v, size_t len, unsigned usage,
                         bool exportable);

/* Operations. */
typedef enum { OP_ENC, OP_DEC, OP_SIGN, OP_DIGEST } opkind;
extern const char *const opname[];

/* Output lengths of the calls of one multi-part operation, in order. */
typedef struct {
	CK_ULONG n[1100];
	size_t count;
} trace;

/*
 * Run one operation on t: single-part when chunk is 0 (with a length
 * query first), else multi-part in pieces of chunk bytes, into out;
 * returns the first failing rv.  Multi-part only: rec (if not NULL)
 * records what each update and the final call wrote, and cap (if not
 * NULL) gives each call exactly that much room - a buffer that holds the
 * output must do (PKCS#11 5.2); a CKR_BUFFER_TOO_SMALL there is noted,
 * the operation finished with room, and the rv returned at the end.
 */
CK_RV run_ex (tok *t, opkind k, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
              const uint8_t *in, size_t len, size_t chunk, buf *out,
              trace *rec, const trace *cap);
CK_RV run (tok *t, opkind k, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
           const uint8_t *in, size_t len, size_t chunk, buf *out);
/* Verify sig over in (single-part when chunk is 0). */
CK_RV verify (tok *t, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
              const uint8_t *in, size_t len, size_t chunk, const buf *sig);
/* A signature with one bit flipped must give CKR_SIGNATURE_INVALID. */
void verify_rejects_tampered (tok *t, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                              const uint8_t *in, size_t len, const buf *sig);
CK_RV wrap (tok *t, CK_MECHANISM *m, CK_OBJECT_HANDLE kek,
            CK_OBJECT_HANDLE key, buf *out);
/* C_UnwrapKey that must succeed; the new key's handle. */
CK_OBJECT_HANDLE unwrap (tok *t, CK_MECHANISM *m, CK_OBJECT_HANDLE kek,
                         const buf *blob, tmpl *tp);

/* run() that must succeed. */
#define run_ok(t, k, m, key, in, len, chunk, out) do { \
	char w_[96]; \
	snprintf (w_, sizeof w_, "%s (mech 0x%lx, %zu bytes, chunk %zu)", \
	          opname[k], (unsigned long) (m)->mechanism, (size_t) (len), \
	          (size_t) (chunk)); \
	check_rv ((t), CKR_OK, run ((t), (k), (m), (key), (in), (len), \
	                            (chunk), (out)), w_); } while (0)

/* verify() that must succeed. */
#define verify_ok(t, m, key, in, len, chunk, sig) do { \
	char w_[96]; \
	snprintf (w_, sizeof w_, "verify (mech 0x%lx, chunk %zu)", \
	          (unsigned long) (m)->mechanism, (size_t) (chunk)); \
	check_rv ((t), CKR_OK, verify ((t), (m), (key), (in), (len), (chunk), \
	                               (sig)), w_); } while (0)

/* OpenSSL, with the test's keys. */
const EVP_MD *md_of (CK_MECHANISM_TYPE hash);
CK_RSA_PKCS_MGF_TYPE mgf_of (CK_MECHANISM_TYPE hash);
void ossl_hash (CK_MECHANISM_TYPE hash, const uint8_t *in, size_t len, buf *out);
/* out = DER DigestInfo of hash (in) (RFC 8017 section 9.2, note 1). */
void digest_info (CK_MECHANISM_TYPE hash, const uint8_t *in, size_t len,
                  buf *out);
/* RSA OAEP (hash and MGF1 with it, no label); false on failure. */
bool ossl_oaep (bool enc, CK_MECHANISM_TYPE hash, const buf *in, buf *out);
/* RFC 3394 (pad false) / RFC 5649 wrap or unwrap under kek_v. */
bool ossl_kw (bool wrap, bool pad, const uint8_t *in, size_t len, buf *out);

/* Life cycle. */
void make_keys (void);          /* once, before the tests */
const char *softhsm_path (void);   /* $LH_SOFTHSM2 or Debian's path */
void *diff_setup (void *arg);   /* test.h fixture: returns arg */
void diff_teardown (void *arg);
void sh_stop (void);            /* after the tests */

#endif /* LH_TEST_DIFF_HARNESS_H */
