/*
 * test-mech-digest.c - module-API tests of the digest, MAC and HKDF
 * families (pkcs11/mech_digest.c, mech_hmac.c, mech_kdf.c).
 *
 * Known answers from the documents that define the algorithms, embedded
 * here: FIPS 180 / NIST examples for SHA-1 and SHA-2 ("abc", the 56-byte
 * message, a million 'a'), RFC 2202 (HMAC-SHA-1), RFC 4231 (HMAC-SHA-224
 * to 512, case 5 through the _GENERAL mechanisms), NIST SP 800-38B
 * appendix D (AES-CMAC) and RFC 5869 (HKDF, through C_DeriveKey).  Where
 * no published vector fits (keys at the edge of the mechanism's size
 * range, AES base keys for HKDF, C_DigestKey) the expected value comes
 * from OpenSSL in this process.  Single-part and multi-part, the
 * length-query convention, and the error codes of each family.
 *
 * HMAC key sizes follow what C_GetMechanismInfo reports: an RFC vector
 * whose key lies outside the reported range must give
 * CKR_KEY_SIZE_RANGE, one inside must give the published MAC; so the
 * test checks the range the token advertises is the range it enforces.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "fixture.h"
#include "testdata.h"

#define N_(a) (sizeof (a) / sizeof ((a)[0]))

/* PKCS#11 3.0 HKDF declarations (p11-kit 0.24's header is 2.40), from
 * the 3.0 mechanisms specification, section 2.43.  Kept apart from the
 * module's own header on purpose: a layout mismatch then fails here. */
#ifndef CKF_HKDF_SALT_NULL
#define CKM_HKDF_DERIVE 0x0000402aUL
#define CKK_HKDF 0x00000042UL
#define CKF_HKDF_SALT_NULL 0x00000001UL
#define CKF_HKDF_SALT_DATA 0x00000002UL
#define CKF_HKDF_SALT_KEY 0x00000004UL
typedef struct CK_HKDF_PARAMS {
	CK_BBOOL bExtract;
	CK_BBOOL bExpand;
	CK_MECHANISM_TYPE prfHashMechanism;
	CK_ULONG ulSaltType;
	CK_BYTE_PTR pSalt;
	CK_ULONG ulSaltLen;
	CK_OBJECT_HANDLE hSaltKey;
	CK_BYTE_PTR pInfo;
	CK_ULONG ulInfoLen;
} CK_HKDF_PARAMS;
#endif

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY, cls_public = CKO_PUBLIC_KEY,
	cls_private = CKO_PRIVATE_KEY;
static CK_KEY_TYPE kt_generic = CKK_GENERIC_SECRET, kt_rsa = CKK_RSA;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* Decode a hex string (no separators) into out; returns the length. */
static size_t
unhex (const char *hex, uint8_t *out, size_t max)
{
	size_t n = strlen (hex) / 2, i;
	unsigned v;

	assert_true (strlen (hex) % 2 == 0 && n <= max);
	for (i = 0; i < n; i++) {
		assert_true (sscanf (hex + 2 * i, "%2x", &v) == 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* Import a session secret key usable for sign/verify (and derive if
 * asked); not sensitive, so derived values can be compared. */
static CK_RV
secret_rv (lh_fx *fx, CK_KEY_TYPE kt, const void *value, size_t len,
           bool derive, CK_OBJECT_HANDLE *out)
{
	CK_KEY_TYPE type = kt;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &type, sizeof type },
		{ CKA_VALUE, (void *)value, len },
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_SIGN, &yes, sizeof yes },
		{ CKA_VERIFY, &yes, sizeof yes },
		{ CKA_SENSITIVE, &no, sizeof no },
		{ CKA_EXTRACTABLE, &yes, sizeof yes },
		{ CKA_DERIVE, derive ? &yes : &no, sizeof no },
	};

	return fx->fl->C_CreateObject (fx->session, t, N_ (t), out);
}

static CK_OBJECT_HANDLE
secret (lh_fx *fx, CK_KEY_TYPE kt, const void *value, size_t len, bool derive)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv (CKR_OK, secret_rv (fx, kt, value, len, derive, &h));
	return h;
}

static CK_OBJECT_HANDLE
rsa_public (lh_fx *fx)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_public, sizeof cls_public },
		{ CKA_KEY_TYPE, &kt_rsa, sizeof kt_rsa },
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_VERIFY, &yes, sizeof yes },
		{ CKA_DERIVE, &yes, sizeof yes },
		{ CKA_MODULUS, (void *)td_rsa_modulus, sizeof td_rsa_modulus },
		{ CKA_PUBLIC_EXPONENT, (void *)td_rsa_public_exponent,
		  sizeof td_rsa_public_exponent },
	};

	return fx_create (fx, fx->session, t, N_ (t));
}

/* An RSA private key allowed to sign and derive: a key that passes the
 * C_* layer's class checks and must be refused by the family itself. */
static CK_OBJECT_HANDLE
rsa_private (lh_fx *fx)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_private, sizeof cls_private },
		{ CKA_KEY_TYPE, &kt_rsa, sizeof kt_rsa },
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_SIGN, &yes, sizeof yes },
		{ CKA_DERIVE, &yes, sizeof yes },
		{ CKA_MODULUS, (void *)td_rsa_modulus, sizeof td_rsa_modulus },
		{ CKA_PUBLIC_EXPONENT, (void *)td_rsa_public_exponent,
		  sizeof td_rsa_public_exponent },
		{ CKA_PRIVATE_EXPONENT, (void *)td_rsa_private_exponent,
		  sizeof td_rsa_private_exponent },
		{ CKA_PRIME_1, (void *)td_rsa_prime_1, sizeof td_rsa_prime_1 },
		{ CKA_PRIME_2, (void *)td_rsa_prime_2, sizeof td_rsa_prime_2 },
		{ CKA_EXPONENT_1, (void *)td_rsa_exponent_1, sizeof td_rsa_exponent_1 },
		{ CKA_EXPONENT_2, (void *)td_rsa_exponent_2, sizeof td_rsa_exponent_2 },
		{ CKA_COEFFICIENT, (void *)td_rsa_coefficient, sizeof td_rsa_coefficient },
	};

	return fx_create (fx, fx->session, t, N_ (t));
}

/* The key size range the token reports for a mechanism. */
static void
mech_range (lh_fx *fx, CK_MECHANISM_TYPE type, CK_ULONG *min, CK_ULONG *max)
{
	CK_MECHANISM_INFO info;

	assert_rv (CKR_OK, fx->fl->C_GetMechanismInfo (fx->slot, type, &info));
	*min = info.ulMinKeySize;
	*max = info.ulMaxKeySize;
}

/* C_DigestInit + C_Digest in one go. */
static CK_RV
digest_rv (lh_fx *fx, CK_MECHANISM_TYPE type, const void *in, size_t len,
           uint8_t *out, CK_ULONG *out_len)
{
	CK_MECHANISM m = { type, NULL, 0 };
	CK_RV rv;

	if ((rv = fx->fl->C_DigestInit (fx->session, &m)) != CKR_OK)
		return rv;
	return fx->fl->C_Digest (fx->session, (CK_BYTE_PTR)in, len, out, out_len);
}

/* C_SignInit + C_Sign.  param: _GENERAL length, 0 for none. */
static CK_RV
sign_rv (lh_fx *fx, CK_MECHANISM_TYPE type, CK_ULONG param,
         CK_OBJECT_HANDLE key, const void *in, size_t len, uint8_t *out,
         CK_ULONG *out_len)
{
	CK_MECHANISM m = { type, param ? &param : NULL, param ? sizeof param : 0 };
	CK_RV rv;

	if ((rv = fx->fl->C_SignInit (fx->session, &m, key)) != CKR_OK)
		return rv;
	return fx->fl->C_Sign (fx->session, (CK_BYTE_PTR)in, len, out, out_len);
}

static CK_RV
verify_rv (lh_fx *fx, CK_MECHANISM_TYPE type, CK_ULONG param,
           CK_OBJECT_HANDLE key, const void *in, size_t len,
           const uint8_t *sig, size_t sig_len)
{
	CK_MECHANISM m = { type, param ? &param : NULL, param ? sizeof param : 0 };
	CK_RV rv;

	if ((rv = fx->fl->C_VerifyInit (fx->session, &m, key)) != CKR_OK)
		return rv;
	return fx->fl->C_Verify (fx->session, (CK_BYTE_PTR)in, len,
	                         (CK_BYTE_PTR)sig, sig_len);
}

/* HMAC (sub: digest) or CMAC (sub: cipher) by OpenSSL in this process. */
static size_t
ossl_mac (const char *alg, const char *sub, const uint8_t *key, size_t klen,
          const uint8_t *data, size_t dlen, uint8_t *out)
{
	size_t n = 0;

	assert_true (EVP_Q_mac (NULL, alg, NULL, sub, NULL, key, klen, data, dlen,
	                        out, 64, &n) != NULL);
	return n;
}

/* ------------------------------------------------------------------ */
/* Digests                                                             */

static const struct {
	CK_MECHANISM_TYPE type;
	const char *name;
	size_t len;
	const char *abc, *m56, *million;
} digests[] = {
	{ CKM_SHA_1, "SHA1", 20,
	  "a9993e364706816aba3e25717850c26c9cd0d89d",
	  "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
	  "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
	{ CKM_SHA224, "SHA224", 28,
	  "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
	  "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525",
	  "20794655980c91d8bbb4c1ea97618a4bf03f42581948b2ee4ee7ad67" },
	{ CKM_SHA256, "SHA256", 32,
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
	{ CKM_SHA384, "SHA384", 48,
	  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
	  "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
	  "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05ab"
	  "fe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b",
	  "9d0e1809716474cb086e834e310a4a1ced149e9c00f24852"
	  "7972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985" },
	{ CKM_SHA512, "SHA512", 64,
	  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	  "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
	  "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445",
	  "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
	  "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b" },
};

static const char m56[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

static void
test_digest_kat (void *arg)
{
	lh_fx *fx = arg;
	uint8_t want[64], got[64];
	CK_ULONG len;
	size_t i, n;

	for (i = 0; i < N_ (digests); i++) {
		n = unhex (digests[i].abc, want, sizeof want);
		len = sizeof got;
		assert_rv (CKR_OK, digest_rv (fx, digests[i].type, "abc", 3, got, &len));
		assert_mem_eq (want, n, got, len);

		n = unhex (digests[i].m56, want, sizeof want);
		len = sizeof got;
		assert_rv (CKR_OK, digest_rv (fx, digests[i].type, m56, 56, got, &len));
		assert_mem_eq (want, n, got, len);
	}
}

/* A million 'a', in 1000 updates of 1000 bytes. */
static void
test_digest_million (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	uint8_t chunk[1000], want[64], got[64];
	CK_MECHANISM m = { 0, NULL, 0 };
	CK_ULONG len;
	size_t i, j, n;

	memset (chunk, 'a', sizeof chunk);
	for (i = 0; i < N_ (digests); i++) {
		m.mechanism = digests[i].type;
		assert_rv (CKR_OK, f->C_DigestInit (s, &m));
		for (j = 0; j < 1000; j++)
			assert_rv (CKR_OK, f->C_DigestUpdate (s, chunk,
			                                            sizeof chunk));
		len = sizeof got;
		assert_rv (CKR_OK, f->C_DigestFinal (s, got, &len));
		n = unhex (digests[i].million, want, sizeof want);
		assert_mem_eq (want, n, got, len);
	}
}

/* Multi-part digests in uneven parts, including an empty one. */
static void
test_digest_multipart (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	static const size_t cuts[] = { 1, 0, 7, 30, 18 };   /* sums to 56 */
	uint8_t want[64], got[64];
	CK_MECHANISM m = { 0, NULL, 0 };
	CK_ULONG len;
	size_t i, j, off, n;

	for (i = 0; i < N_ (digests); i++) {
		m.mechanism = digests[i].type;
		assert_rv (CKR_OK, f->C_DigestInit (s, &m));
		for (j = 0, off = 0; j < N_ (cuts); off += cuts[j++])
			assert_rv (CKR_OK, f->C_DigestUpdate (s,
				(CK_BYTE_PTR)m56 + off, cuts[j]));
		assert_num_eq (56, off);
		len = sizeof got;
		assert_rv (CKR_OK, f->C_DigestFinal (s, got, &len));
		n = unhex (digests[i].m56, want, sizeof want);
		assert_mem_eq (want, n, got, len);
	}
}

/* NULL output reports the length; a short buffer gives
 * CKR_BUFFER_TOO_SMALL and keeps the operation; then it completes. */
static void
test_digest_length_query (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	CK_MECHANISM m = { CKM_SHA384, NULL, 0 };
	uint8_t want[48], got[64];
	CK_ULONG len;

	unhex (digests[3].abc, want, sizeof want);
	/* single-part */
	assert_rv (CKR_OK, f->C_DigestInit (s, &m));
	len = 0;
	assert_rv (CKR_OK, f->C_Digest (s, (CK_BYTE_PTR)"abc", 3,
	                                     NULL, &len));
	assert_num_eq (48, len);
	len = 47;
	assert_rv (CKR_BUFFER_TOO_SMALL,
	           f->C_Digest (s, (CK_BYTE_PTR)"abc", 3, got, &len));
	assert_num_eq (48, len);
	len = sizeof got;
	assert_rv (CKR_OK, f->C_Digest (s, (CK_BYTE_PTR)"abc", 3,
	                                     got, &len));
	assert_mem_eq (want, sizeof want, got, len);
	/* the operation ended with the digest */
	len = sizeof got;
	assert_rv (CKR_OPERATION_NOT_INITIALIZED,
	           f->C_Digest (s, (CK_BYTE_PTR)"abc", 3, got, &len));

	/* multi-part */
	assert_rv (CKR_OK, f->C_DigestInit (s, &m));
	assert_rv (CKR_OK, f->C_DigestUpdate (s, (CK_BYTE_PTR)"ab", 2));
	len = 0;
	assert_rv (CKR_OK, f->C_DigestFinal (s, NULL, &len));
	assert_num_eq (48, len);
	len = 10;
	assert_rv (CKR_BUFFER_TOO_SMALL, f->C_DigestFinal (s, got, &len));
	assert_num_eq (48, len);
	/* still running: more data is accepted */
	assert_rv (CKR_OK, f->C_DigestUpdate (s, (CK_BYTE_PTR)"c", 1));
	len = sizeof got;
	assert_rv (CKR_OK, f->C_DigestFinal (s, got, &len));
	assert_mem_eq (want, sizeof want, got, len);
}

static void
test_digest_bad_param (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	CK_ULONG junk = 1;
	CK_MECHANISM m = { CKM_SHA256, &junk, sizeof junk };
	uint8_t got[32];
	CK_ULONG len = sizeof got;

	/* SPEC: the SHA digests take no parameter */
	assert_rv (CKR_MECHANISM_PARAM_INVALID, f->C_DigestInit (s, &m));
	/* nothing was started */
	assert_rv (CKR_OPERATION_NOT_INITIALIZED,
	           f->C_Digest (s, (CK_BYTE_PTR)"abc", 3, got, &len));
	/* and a mechanism that is no digest */
	m = (CK_MECHANISM){ CKM_SHA256_HMAC, NULL, 0 };
	assert_rv (CKR_MECHANISM_INVALID, f->C_DigestInit (s, &m));
	m = (CK_MECHANISM){ CKM_MD5, NULL, 0 };
	assert_rv (CKR_MECHANISM_INVALID, f->C_DigestInit (s, &m));
}

/* C_DigestKey digests the key's value between the other parts. */
static void
test_digest_key (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	static const uint8_t value[40] = "digest-key value, forty bytes long ....";
	uint8_t all[3 + sizeof value + 4], want[64], got[64];
	CK_MECHANISM m = { CKM_SHA256, NULL, 0 };
	CK_OBJECT_HANDLE k = secret (fx, CKK_GENERIC_SECRET, value, sizeof value, false);
	CK_OBJECT_HANDLE pub = rsa_public (fx);
	unsigned int n = 0;
	CK_ULONG len;

	memcpy (all, "pre", 3);
	memcpy (all + 3, value, sizeof value);
	memcpy (all + 3 + sizeof value, "post", 4);
	assert_true (EVP_Digest (all, sizeof all, want, &n, EVP_sha256 (), NULL));

	assert_rv (CKR_OK, f->C_DigestInit (s, &m));
	assert_rv (CKR_OK, f->C_DigestUpdate (s, (CK_BYTE_PTR)"pre", 3));
	assert_rv (CKR_OK, f->C_DigestKey (s, k));
	assert_rv (CKR_OK, f->C_DigestUpdate (s, (CK_BYTE_PTR)"post", 4));
	len = sizeof got;
	assert_rv (CKR_OK, f->C_DigestFinal (s, got, &len));
	assert_mem_eq (want, n, got, len);

	/* SPEC: C_DigestKey: only secret keys; the error ends the op */
	assert_rv (CKR_OK, f->C_DigestInit (s, &m));
	assert_rv (CKR_KEY_INDIGESTIBLE, f->C_DigestKey (s, pub));
	len = sizeof got;
	assert_rv (CKR_OPERATION_NOT_INITIALIZED,
	           f->C_DigestFinal (s, got, &len));
}

/* ------------------------------------------------------------------ */
/* HMAC                                                                */

/* A key or message: hex, or fill repeated len times. */
typedef struct {
	const char *hex;
	uint8_t fill;
	size_t len;
} blob;

static size_t
blob_get (const blob *b, uint8_t *out, size_t max)
{
	if (b->hex)
		return unhex (b->hex, out, max);
	assert_true (b->len <= max);
	memset (out, b->fill, b->len);
	return b->len;
}

#define HEX(s) { s, 0, 0 }
#define FILL(byte, n) { NULL, byte, n }

typedef struct {
	int number;
	blob key;
	blob data;
	const char *text;            /* data as text, if set */
	bool trunc;                  /* case 5: through _GENERAL, at the
	                                MAC's length */
	const char *mac[5];          /* per hash, as in digests[] */
} hmac_case;

#define K25 "0102030405060708090a0b0c0d0e0f10111213141516171819"
#define T6 "Test Using Larger Than Block-Size Key - Hash Key First"
#define T7_4231 "This is a test using a larger than block-size key and a " \
	"larger than block-size data. The key needs to be hashed before " \
	"being used by the HMAC algorithm."
#define T7_2202 "Test Using Larger Than Block-Size Key and Larger Than One " \
	"Block-Size Data"

static const CK_MECHANISM_TYPE hmac_mechs[5] = {
	CKM_SHA_1_HMAC, CKM_SHA224_HMAC, CKM_SHA256_HMAC, CKM_SHA384_HMAC,
	CKM_SHA512_HMAC,
};
static const CK_MECHANISM_TYPE hmac_general[5] = {
	CKM_SHA_1_HMAC_GENERAL, CKM_SHA224_HMAC_GENERAL, CKM_SHA256_HMAC_GENERAL,
	CKM_SHA384_HMAC_GENERAL, CKM_SHA512_HMAC_GENERAL,
};

/* RFC 2202 (SHA-1, index 0) and RFC 4231 (SHA-224..512, 1..4). */
static const hmac_case hmac_cases[] = {
	{ 1, FILL (0x0b, 20), FILL (0, 0), "Hi There", 0, {
	  "b617318655057264e28bc0b6fb378c8ef146be00",
	  "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec6"
	  "82aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" } },
	{ 2, HEX ("4a656665"), FILL (0, 0), "what do ya want for nothing?", 0, {
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
	  "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
	  "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" } },
	{ 3, FILL (0xaa, 20), FILL (0xdd, 50), NULL, 0, {
	  "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
	  "7fb3cb3588c6c1f6ffa9694d7d6ad2649365b0c1f65d69d1ec8333ea",
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	  "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9feb"
	  "e83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
	  "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	  "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" } },
	{ 4, HEX (K25), FILL (0xcd, 50), NULL, 0, {
	  "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
	  "6c11506874013cac6a2abc1bb382627cec6a90d86efc012de7afec5a",
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
	  "3e8a69b7783c25851933ab6290af6ca77a9981480850009c"
	  "c5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
	  "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
	  "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" } },
	/* truncated output: 96 bits in RFC 2202, 128 bits in RFC 4231 */
	{ 5, FILL (0x0c, 20), FILL (0, 0), "Test With Truncation", 1, {
	  "4c1a03424b55e07fe7f27be1",
	  "0e2aea68a90c8d37c988bcdb9fca6fa8",
	  "a3b6167473100ee06e0c796c2955552b",
	  "3abf34c3503b2a23a46efc619baef897",
	  "415fad6271580a531d4179bc891d87a6" } },
};

/* Case 6 and 7 differ between the RFCs (key and text), so apart. */
static const hmac_case rfc2202_67[] = {
	{ 6, FILL (0xaa, 80), FILL (0, 0), T6, 0,
	  { "aa4ae5e15272d00e95705637ce8a3b55ed402112" } },
	{ 7, FILL (0xaa, 80), FILL (0, 0), T7_2202, 0,
	  { "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" } },
};
static const hmac_case rfc4231_67[] = {
	{ 6, FILL (0xaa, 131), FILL (0, 0), T6, 0, { NULL,
	  "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	  "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f"
	  "3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
	  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	  "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" } },
	{ 7, FILL (0xaa, 131), FILL (0, 0), T7_4231, 0, { NULL,
	  "3a854166ac5d9f023f54d517d0b39dbd946770db9c2b95c9f6f565d1",
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	  "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9a"
	  "dccebb82461e99c5a678cc31e799176d3860e6110c46523e",
	  "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
	  "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" } },
};

/*
 * Run one vector with hash h (index into digests[]): the published MAC
 * if the key fits the reported range, else CKR_KEY_SIZE_RANGE.  Returns
 * whether a MAC was compared.
 */
static bool
run_hmac_case (lh_fx *fx, const hmac_case *c, size_t h)
{
	uint8_t key[200], data[200], want[64], got[64];
	size_t klen = blob_get (&c->key, key, sizeof key), dlen, wlen;
	CK_MECHANISM_TYPE type = c->trunc ? hmac_general[h] : hmac_mechs[h];
	CK_ULONG min, max, len = sizeof got, param;
	CK_OBJECT_HANDLE k;
	CK_RV rv;

	if (c->text) {
		dlen = strlen (c->text);
		memcpy (data, c->text, dlen);
	} else {
		dlen = blob_get (&c->data, data, sizeof data);
	}
	wlen = unhex (c->mac[h], want, sizeof want);
	param = c->trunc ? wlen : 0;
	mech_range (fx, type, &min, &max);
	k = secret (fx, CKK_GENERIC_SECRET, key, klen, false);
	rv = sign_rv (fx, type, param, k, data, dlen, got, &len);
	if (klen < min || klen > max) {
		assert_rv (CKR_KEY_SIZE_RANGE, rv);
		assert_rv (CKR_KEY_SIZE_RANGE,
		           verify_rv (fx, type, param, k, data, dlen, want, wlen));
		return false;
	}
	assert_rv (CKR_OK, rv);
	assert_mem_eq (want, wlen, got, len);
	assert_rv (CKR_OK, verify_rv (fx, type, param, k, data, dlen, want, wlen));
	return true;
}

static void
test_hmac_rfc2202 (void *arg)
{
	lh_fx *fx = arg;
	size_t i, compared = 0;

	for (i = 0; i < N_ (hmac_cases); i++)
		compared += run_hmac_case (fx, &hmac_cases[i], 0);
	for (i = 0; i < N_ (rfc2202_67); i++)
		compared += run_hmac_case (fx, &rfc2202_67[i], 0);
	/* every case but the 4-byte "Jefe" key fits SHA-1's usual range */
	assert_true (compared >= 4);
}

static void
test_hmac_rfc4231 (void *arg)
{
	lh_fx *fx = arg;
	size_t h, i, compared;

	for (h = 1; h < N_ (digests); h++) {
		compared = 0;
		for (i = 0; i < N_ (hmac_cases); i++)
			compared += run_hmac_case (fx, &hmac_cases[i], h);
		for (i = 0; i < N_ (rfc4231_67); i++)
			compared += run_hmac_case (fx, &rfc4231_67[i], h);
		/* the 131-byte keys fit any sensible range */
		assert_true (compared >= 2);
	}
}

/* Keys at both ends of the reported range work (cross-checked with
 * OpenSSL); one byte beyond either end is CKR_KEY_SIZE_RANGE. */
static void
test_hmac_key_size (void *arg)
{
	lh_fx *fx = arg;
	uint8_t key[600], data[300], want[64], got[64];
	CK_ULONG min, max, len;
	CK_OBJECT_HANDLE k;
	size_t h, i, klen, n, sizes[4];

	for (i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	for (h = 0; h < N_ (digests); h++) {
		mech_range (fx, hmac_mechs[h], &min, &max);
		assert_true (min >= 1 && max >= min && max + 1 <= sizeof key);
		sizes[0] = min;
		sizes[1] = max;
		sizes[2] = min - 1;
		sizes[3] = max + 1;
		for (i = 0; i < N_ (sizes); i++) {
			klen = sizes[i];
			if (klen == 0)
				continue;
			k = secret (fx, CKK_GENERIC_SECRET, key, klen, false);
			len = sizeof got;
			if (i >= 2) {
				assert_rv (CKR_KEY_SIZE_RANGE,
				           sign_rv (fx, hmac_mechs[h], 0, k, data,
				                    sizeof data, got, &len));
				continue;
			}
			assert_rv (CKR_OK, sign_rv (fx, hmac_mechs[h], 0, k, data,
			                            sizeof data, got, &len));
			n = ossl_mac ("HMAC", digests[h].name, key, klen, data,
			              sizeof data, want);
			assert_mem_eq (want, n, got, len);
		}
	}
}

/* Multi-part sign and verify give the single-part result. */
static void
test_hmac_multipart (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	const hmac_case *c = &rfc4231_67[1];
	uint8_t key[131], want[64], got[64];
	CK_MECHANISM m = { CKM_SHA512_HMAC, NULL, 0 };
	const char *text = c->text;
	size_t dlen = strlen (text), wlen;
	CK_OBJECT_HANDLE k;
	CK_ULONG len;

	blob_get (&c->key, key, sizeof key);
	wlen = unhex (c->mac[4], want, sizeof want);
	k = secret (fx, CKK_GENERIC_SECRET, key, sizeof key, false);

	assert_rv (CKR_OK, f->C_SignInit (s, &m, k));
	assert_rv (CKR_OK, f->C_SignUpdate (s, (CK_BYTE_PTR)text, 1));
	assert_rv (CKR_OK, f->C_SignUpdate (s, (CK_BYTE_PTR)text + 1, 0));
	assert_rv (CKR_OK, f->C_SignUpdate (s, (CK_BYTE_PTR)text + 1, 130));
	assert_rv (CKR_OK, f->C_SignUpdate (s, (CK_BYTE_PTR)text + 131,
	                                         dlen - 131));
	len = sizeof got;
	assert_rv (CKR_OK, f->C_SignFinal (s, got, &len));
	assert_mem_eq (want, wlen, got, len);

	assert_rv (CKR_OK, f->C_VerifyInit (s, &m, k));
	assert_rv (CKR_OK, f->C_VerifyUpdate (s, (CK_BYTE_PTR)text, 100));
	assert_rv (CKR_OK, f->C_VerifyUpdate (s, (CK_BYTE_PTR)text + 100,
	                                           dlen - 100));
	assert_rv (CKR_OK, f->C_VerifyFinal (s, want, wlen));

	/* a wrong MAC fails at the final step */
	want[17] ^= 0x01;
	assert_rv (CKR_OK, f->C_VerifyInit (s, &m, k));
	assert_rv (CKR_OK, f->C_VerifyUpdate (s, (CK_BYTE_PTR)text, dlen));
	assert_rv (CKR_SIGNATURE_INVALID, f->C_VerifyFinal (s, want, wlen));
	/* and so does one of the wrong length */
	want[17] ^= 0x01;
	assert_rv (CKR_OK, f->C_VerifyInit (s, &m, k));
	assert_rv (CKR_OK, f->C_VerifyUpdate (s, (CK_BYTE_PTR)text, dlen));
	assert_rv (CKR_SIGNATURE_LEN_RANGE,
	           f->C_VerifyFinal (s, want, wlen - 1));
}

static void
test_hmac_verify_errors (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	const hmac_case *c = &hmac_cases[0];
	uint8_t key[20], want[64], sig[65];
	size_t wlen;
	CK_OBJECT_HANDLE k;
	const char *text = c->text;
	size_t dlen = strlen (text);

	blob_get (&c->key, key, sizeof key);
	wlen = unhex (c->mac[2], want, sizeof want);
	k = secret (fx, CKK_GENERIC_SECRET, key, sizeof key, false);

	memcpy (sig, want, wlen);
	assert_rv (CKR_OK, verify_rv (fx, CKM_SHA256_HMAC, 0, k, text, dlen, sig, wlen));
	/* every byte counts, the last one too */
	sig[wlen - 1] ^= 0x80;
	assert_rv (CKR_SIGNATURE_INVALID,
	           verify_rv (fx, CKM_SHA256_HMAC, 0, k, text, dlen, sig, wlen));
	sig[wlen - 1] ^= 0x80;
	sig[0] ^= 0x01;
	assert_rv (CKR_SIGNATURE_INVALID,
	           verify_rv (fx, CKM_SHA256_HMAC, 0, k, text, dlen, sig, wlen));
	sig[0] ^= 0x01;
	/* a different message */
	assert_rv (CKR_SIGNATURE_INVALID,
	           verify_rv (fx, CKM_SHA256_HMAC, 0, k, "Hi there", dlen, sig, wlen));
	/* SPEC: wrong length is CKR_SIGNATURE_LEN_RANGE, even as a prefix */
	assert_rv (CKR_SIGNATURE_LEN_RANGE,
	           verify_rv (fx, CKM_SHA256_HMAC, 0, k, text, dlen, sig, wlen - 1));
	sig[wlen] = 0;
	assert_rv (CKR_SIGNATURE_LEN_RANGE,
	           verify_rv (fx, CKM_SHA256_HMAC, 0, k, text, dlen, sig, wlen + 1));
	/* the failed verify ended the operation */
	assert_rv (CKR_OPERATION_NOT_INITIALIZED,
	           f->C_Verify (s, (CK_BYTE_PTR)text, dlen, sig, wlen));
}

static void
test_hmac_length_query (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	const hmac_case *c = &hmac_cases[0];
	uint8_t key[20], want[64], got[64];
	CK_MECHANISM m = { CKM_SHA224_HMAC, NULL, 0 };
	CK_ULONG len, param = 10;
	CK_OBJECT_HANDLE k;
	const char *text = c->text;
	size_t dlen = strlen (text), wlen;

	blob_get (&c->key, key, sizeof key);
	wlen = unhex (c->mac[1], want, sizeof want);
	k = secret (fx, CKK_GENERIC_SECRET, key, sizeof key, false);

	assert_rv (CKR_OK, f->C_SignInit (s, &m, k));
	len = 0;
	assert_rv (CKR_OK, f->C_Sign (s, (CK_BYTE_PTR)text, dlen, NULL, &len));
	assert_num_eq (28, len);
	len = 27;
	assert_rv (CKR_BUFFER_TOO_SMALL,
	           f->C_Sign (s, (CK_BYTE_PTR)text, dlen, got, &len));
	assert_num_eq (28, len);
	len = sizeof got;
	assert_rv (CKR_OK, f->C_Sign (s, (CK_BYTE_PTR)text, dlen, got, &len));
	assert_mem_eq (want, wlen, got, len);

	/* multi-part */
	assert_rv (CKR_OK, f->C_SignInit (s, &m, k));
	assert_rv (CKR_OK, f->C_SignUpdate (s, (CK_BYTE_PTR)text, dlen));
	len = 0;
	assert_rv (CKR_OK, f->C_SignFinal (s, NULL, &len));
	assert_num_eq (28, len);
	len = 1;
	assert_rv (CKR_BUFFER_TOO_SMALL, f->C_SignFinal (s, got, &len));
	assert_num_eq (28, len);
	len = sizeof got;
	assert_rv (CKR_OK, f->C_SignFinal (s, got, &len));
	assert_mem_eq (want, wlen, got, len);

	/* _GENERAL reports its own length */
	m = (CK_MECHANISM){ CKM_SHA224_HMAC_GENERAL, &param, sizeof param };
	assert_rv (CKR_OK, f->C_SignInit (s, &m, k));
	len = 0;
	assert_rv (CKR_OK, f->C_Sign (s, (CK_BYTE_PTR)text, dlen, NULL, &len));
	assert_num_eq (10, len);
	len = 9;
	assert_rv (CKR_BUFFER_TOO_SMALL,
	           f->C_Sign (s, (CK_BYTE_PTR)text, dlen, got, &len));
	len = sizeof got;
	assert_rv (CKR_OK, f->C_Sign (s, (CK_BYTE_PTR)text, dlen, got, &len));
	assert_mem_eq (want, 10, got, len);
}

/* _GENERAL: every length 1..hash size is the leading part of the full
 * MAC; 0, hash size + 1 and malformed parameters are refused. */
static void
test_hmac_general (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	uint8_t key[64], data[77], full[64], got[64], big[16] = { 0 };
	CK_ULONG len, param;
	CK_MECHANISM m;
	CK_OBJECT_HANDLE k;
	size_t h, n;

	memset (key, 0x42, sizeof key);
	memset (data, 0x17, sizeof data);
	k = secret (fx, CKK_GENERIC_SECRET, key, sizeof key, false);
	for (h = 0; h < N_ (digests); h++) {
		len = sizeof full;
		assert_rv (CKR_OK, sign_rv (fx, hmac_mechs[h], 0, k, data, sizeof data,
		                            full, &len));
		assert_num_eq (digests[h].len, len);
		for (n = 1; n <= digests[h].len; n++) {
			len = sizeof got;
			assert_rv (CKR_OK, sign_rv (fx, hmac_general[h], n, k, data,
			                            sizeof data, got, &len));
			assert_mem_eq (full, n, got, len);
			assert_rv (CKR_OK, verify_rv (fx, hmac_general[h], n, k, data,
			                              sizeof data, full, n));
		}
		/* the full MAC is not a valid 12-byte MAC */
		assert_rv (CKR_SIGNATURE_LEN_RANGE,
		           verify_rv (fx, hmac_general[h], 12, k, data, sizeof data,
		                      full, digests[h].len));
		/* a wrong truncated MAC */
		full[11] ^= 0x10;
		assert_rv (CKR_SIGNATURE_INVALID,
		           verify_rv (fx, hmac_general[h], 12, k, data, sizeof data,
		                      full, 12));
		len = sizeof got;
		assert_rv (CKR_MECHANISM_PARAM_INVALID,
		           sign_rv (fx, hmac_general[h], digests[h].len + 1, k, data,
		                    sizeof data, got, &len));
		/* zero (sign_rv's "no parameter") and wrong sizes */
		param = 0;
		m = (CK_MECHANISM){ hmac_general[h], &param, sizeof param };
		assert_rv (CKR_MECHANISM_PARAM_INVALID,
		           f->C_SignInit (s, &m, k));
		m = (CK_MECHANISM){ hmac_general[h], NULL, 0 };
		assert_rv (CKR_MECHANISM_PARAM_INVALID,
		           f->C_SignInit (s, &m, k));
		big[0] = 8;
		m = (CK_MECHANISM){ hmac_general[h], big, sizeof big };
		assert_rv (CKR_MECHANISM_PARAM_INVALID,
		           f->C_VerifyInit (s, &m, k));
		m = (CK_MECHANISM){ hmac_general[h], big, 4 };
		assert_rv (CKR_MECHANISM_PARAM_INVALID,
		           f->C_SignInit (s, &m, k));
	}
}

static void
test_hmac_bad_param (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	uint8_t key[32] = { 1 };
	CK_ULONG param = 16;
	CK_MECHANISM m = { CKM_SHA256_HMAC, &param, sizeof param };
	CK_OBJECT_HANDLE k = secret (fx, CKK_GENERIC_SECRET, key, sizeof key, false);
	CK_OBJECT_HANDLE a = secret (fx, CKK_AES, key, sizeof key, false);

	/* SPEC: the fixed-length HMAC and CMAC mechanisms have no parameter */
	assert_rv (CKR_MECHANISM_PARAM_INVALID, f->C_SignInit (s, &m, k));
	assert_rv (CKR_MECHANISM_PARAM_INVALID, f->C_VerifyInit (s, &m, k));
	m.mechanism = CKM_AES_CMAC;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, f->C_SignInit (s, &m, a));
	/* nothing was left running */
	m = (CK_MECHANISM){ CKM_SHA256_HMAC, NULL, 0 };
	assert_rv (CKR_OK, f->C_SignInit (s, &m, k));
}

static void
test_mac_key_type (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	uint8_t key[32] = { 9 };
	CK_MECHANISM m = { CKM_SHA256_HMAC, NULL, 0 };
	CK_OBJECT_HANDLE g = secret (fx, CKK_GENERIC_SECRET, key, sizeof key, false);
	CK_OBJECT_HANDLE a = secret (fx, CKK_AES, key, sizeof key, false);
	CK_OBJECT_HANDLE pub = rsa_public (fx), priv = rsa_private (fx);

	/* HMAC takes generic secrets, not AES keys or asymmetric keys */
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, f->C_SignInit (s, &m, a));
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, f->C_SignInit (s, &m, priv));
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, f->C_VerifyInit (s, &m, a));
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, f->C_VerifyInit (s, &m, pub));
	/* CMAC takes AES keys only */
	m.mechanism = CKM_AES_CMAC;
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, f->C_SignInit (s, &m, g));
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, f->C_VerifyInit (s, &m, pub));
	/* and the right pairings work */
	assert_rv (CKR_OK, f->C_SignInit (s, &m, a));
	m.mechanism = CKM_SHA256_HMAC;
	assert_rv (CKR_OK, f->C_VerifyInit (s, &m, g));
}

/* ------------------------------------------------------------------ */
/* AES-CMAC                                                            */

#define SP_MSG "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" \
	"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"

/* NIST SP 800-38B appendix D: examples 1-4 (message 0, 16, 40, 64
 * bytes of SP_MSG) for each key length. */
static const struct {
	const char *key;
	const char *tag[4];
} cmac_kat[] = {
	{ "2b7e151628aed2a6abf7158809cf4f3c", {
	  "bb1d6929e95937287fa37d129b756746", "070a16b46b4d4144f79bdd9dd04a287c",
	  "dfa66747de9ae63030ca32611497c827", "51f0bebf7e3b9d92fc49741779363cfe" } },
	{ "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", {
	  "d17ddf46adaacde531cac483de7a9367", "9e99a7bf31e710900662f65e617c5184",
	  "8a1de5be2eb31aad089a82e6ee908b0e", "a1d5df0eed790f794d77589659f39a11" } },
	{ "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", {
	  "028962f61b7bf89efc6b551f4667d983", "28a7023f452e8f82bd4bf28d8c37c35c",
	  "aaf3d8f1de5640c232f5b169b9c911e6", "e1992190549f6ed5696a2c056c315410" } },
};
static const size_t cmac_lens[4] = { 0, 16, 40, 64 };

static void
test_cmac_kat (void *arg)
{
	lh_fx *fx = arg;
	uint8_t key[32], msg[64], want[16], got[32];
	CK_OBJECT_HANDLE k;
	CK_ULONG len;
	size_t i, j, klen;

	unhex (SP_MSG, msg, sizeof msg);
	for (i = 0; i < N_ (cmac_kat); i++) {
		klen = unhex (cmac_kat[i].key, key, sizeof key);
		k = secret (fx, CKK_AES, key, klen, false);
		for (j = 0; j < 4; j++) {
			unhex (cmac_kat[i].tag[j], want, sizeof want);
			len = sizeof got;
			assert_rv (CKR_OK, sign_rv (fx, CKM_AES_CMAC, 0, k, msg,
			                            cmac_lens[j], got, &len));
			assert_mem_eq (want, 16, got, len);
			assert_rv (CKR_OK, verify_rv (fx, CKM_AES_CMAC, 0, k, msg,
			                              cmac_lens[j], want, 16));
		}
	}
}

static void
test_cmac_multipart (void *arg)
{
	lh_fx *fx = arg;
	CK_FUNCTION_LIST_PTR f = fx->fl;
	CK_SESSION_HANDLE s = fx->session;
	uint8_t key[16], msg[64], want[16], got[32];
	CK_MECHANISM m = { CKM_AES_CMAC, NULL, 0 };
	CK_OBJECT_HANDLE k;
	CK_ULONG len;

	unhex (SP_MSG, msg, sizeof msg);
	unhex (cmac_kat[0].key, key, sizeof key);
	k = secret (fx, CKK_AES, key, sizeof key, false);

	/* example 4 in parts that cross the block boundaries */
	unhex (cmac_kat[0].tag[3], want, sizeof want);
	assert_rv (CKR_OK, f->C_SignInit (s, &m, k));
	assert_rv (CKR_OK, f->C_SignUpdate (s, msg, 5));
	assert_rv (CKR_OK, f->C_SignUpdate (s, msg + 5, 16));
	assert_rv (CKR_OK, f->C_SignUpdate (s, msg + 21, 43));
	len = 0;
	assert_rv (CKR_OK, f->C_SignFinal (s, NULL, &len));
	assert_num_eq (16, len);
	len = 15;
	assert_rv (CKR_BUFFER_TOO_SMALL, f->C_SignFinal (s, got, &len));
	len = sizeof got;
	assert_rv (CKR_OK, f->C_SignFinal (s, got, &len));
	assert_mem_eq (want, 16, got, len);

	assert_rv (CKR_OK, f->C_VerifyInit (s, &m, k));
	assert_rv (CKR_OK, f->C_VerifyUpdate (s, msg, 32));
	assert_rv (CKR_OK, f->C_VerifyUpdate (s, msg + 32, 32));
	assert_rv (CKR_OK, f->C_VerifyFinal (s, want, 16));

	/* example 1: the empty message, as Init + Final */
	unhex (cmac_kat[0].tag[0], want, sizeof want);
	assert_rv (CKR_OK, f->C_SignInit (s, &m, k));
	len = sizeof got;
	assert_rv (CKR_OK, f->C_SignFinal (s, got, &len));
	assert_mem_eq (want, 16, got, len);
}

static void
test_cmac_verify_errors (void *arg)
{
	lh_fx *fx = arg;
	uint8_t key[32], msg[64], tag[17];
	CK_OBJECT_HANDLE k;

	unhex (SP_MSG, msg, sizeof msg);
	unhex (cmac_kat[2].key, key, sizeof key);
	unhex (cmac_kat[2].tag[2], tag, sizeof tag);
	k = secret (fx, CKK_AES, key, sizeof key, false);

	assert_rv (CKR_OK, verify_rv (fx, CKM_AES_CMAC, 0, k, msg, 40, tag, 16));
	assert_rv (CKR_SIGNATURE_INVALID, verify_rv (fx, CKM_AES_CMAC, 0, k, msg, 39,
	                                             tag, 16));
	tag[15] ^= 1;
	assert_rv (CKR_SIGNATURE_INVALID, verify_rv (fx, CKM_AES_CMAC, 0, k, msg, 40,
	                                             tag, 16));
	tag[15] ^= 1;
	/* CKM_AES_CMAC is the full 16 bytes: no truncated tags */
	assert_rv (CKR_SIGNATURE_LEN_RANGE, verify_rv (fx, CKM_AES_CMAC, 0, k, msg, 40,
	                                               tag, 8));
	tag[16] = 0;
	assert_rv (CKR_SIGNATURE_LEN_RANGE, verify_rv (fx, CKM_AES_CMAC, 0, k, msg, 40,
	                                               tag, 17));
}

/* Longer, odd-sized input against OpenSSL's CMAC. */
static void
test_cmac_openssl (void *arg)
{
	lh_fx *fx = arg;
	static const char *ciphers[] = { "AES-128-CBC", "AES-192-CBC", "AES-256-CBC" };
	uint8_t key[32], data[1001], want[64], got[32];
	CK_OBJECT_HANDLE k;
	CK_ULONG len;
	size_t i, n;

	for (i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(0xa5 ^ (i * 13));
	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 31);
	for (i = 0; i < 3; i++) {
		k = secret (fx, CKK_AES, key, 16 + 8 * i, false);
		len = sizeof got;
		assert_rv (CKR_OK, sign_rv (fx, CKM_AES_CMAC, 0, k, data, sizeof data,
		                            got, &len));
		n = ossl_mac ("CMAC", ciphers[i], key, 16 + 8 * i, data, sizeof data, want);
		assert_mem_eq (want, n, got, len);
	}
}

/* ------------------------------------------------------------------ */
/* HKDF                                                                */

static const struct {
	int number;
	CK_MECHANISM_TYPE prf;
	blob ikm, salt, info;
	size_t L;
	const char *prk, *okm;
} hkdf_kat[] = {
	{ 1, CKM_SHA256, FILL (0x0b, 22), HEX ("000102030405060708090a0b0c"),
	  HEX ("f0f1f2f3f4f5f6f7f8f9"), 42,
	  "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
	  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	  "34007208d5b887185865" },
	{ 2, CKM_SHA256,
	  HEX ("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	       "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	       "404142434445464748494a4b4c4d4e4f"),
	  HEX ("606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	       "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	       "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"),
	  HEX ("b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
	       "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
	       "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"), 82,
	  "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
	  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	  "cc30c58179ec3e87c14c01d5c1f3434f1d87" },
	/* zero-length salt and info: the salt is CKF_HKDF_SALT_NULL */
	{ 3, CKM_SHA256, FILL (0x0b, 22), FILL (0, 0), FILL (0, 0), 42,
	  "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
	  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	  "9d201395faa4b61a96c8" },
	{ 4, CKM_SHA_1, FILL (0x0b, 11), HEX ("000102030405060708090a0b0c"),
	  HEX ("f0f1f2f3f4f5f6f7f8f9"), 42,
	  "9b6c18c432a7bf8f0e71c8eb88f4b30baa2ba243",
	  "085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2"
	  "c22e422478d305f3f896" },
};

/* CK_HKDF_PARAMS with salt/info pointing into the caller's buffers. */
static CK_HKDF_PARAMS
hkdf_params (bool extract, bool expand, CK_MECHANISM_TYPE prf, uint8_t *salt,
             size_t salt_len, uint8_t *info, size_t info_len)
{
	CK_HKDF_PARAMS p = {
		.bExtract = extract ? CK_TRUE : CK_FALSE,
		.bExpand = expand ? CK_TRUE : CK_FALSE,
		.prfHashMechanism = prf,
		.ulSaltType = salt_len ? CKF_HKDF_SALT_DATA : CKF_HKDF_SALT_NULL,
		.pSalt = salt_len ? salt : NULL,
		.ulSaltLen = salt_len,
		.hSaltKey = CK_INVALID_HANDLE,
		.pInfo = info_len ? info : NULL,
		.ulInfoLen = info_len,
	};

	return p;
}

/* C_DeriveKey with CKM_HKDF_DERIVE into a readable generic secret;
 * value_len 0 leaves CKA_VALUE_LEN out of the template. */
static CK_RV
hkdf_rv (lh_fx *fx, CK_HKDF_PARAMS *p, CK_ULONG plen, CK_OBJECT_HANDLE base,
         CK_ULONG value_len, CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM m = { CKM_HKDF_DERIVE, p, plen };
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt_generic, sizeof kt_generic },
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_SENSITIVE, &no, sizeof no },
		{ CKA_EXTRACTABLE, &yes, sizeof yes },
		{ CKA_VALUE_LEN, &value_len, sizeof value_len },
	};
	CK_OBJECT_HANDLE dummy;

	return fx->fl->C_DeriveKey (fx->session, &m, base, t,
	                            value_len ? N_ (t) : N_ (t) - 1,
	                            out ? out : &dummy);
}

/* Derive and read the value back; returns its length. */
static size_t
hkdf_value (lh_fx *fx, CK_HKDF_PARAMS *p, CK_OBJECT_HANDLE base,
            CK_ULONG value_len, uint8_t *out, size_t max)
{
	CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
	size_t n;

	assert_rv (CKR_OK, hkdf_rv (fx, p, sizeof *p, base, value_len, &k));
	n = fx_get_bytes (fx, fx->session, k, CKA_VALUE, out, max);
	assert_num_eq (n, fx_get_ulong (fx, fx->session, k, CKA_VALUE_LEN));
	return n;
}

static void
test_hkdf_rfc5869 (void *arg)
{
	lh_fx *fx = arg;
	uint8_t ikm[80], salt[80], info[80], want[82], got[128];
	size_t i, ilen, slen, flen, n;
	CK_HKDF_PARAMS p;
	CK_OBJECT_HANDLE base;

	for (i = 0; i < N_ (hkdf_kat); i++) {
		ilen = blob_get (&hkdf_kat[i].ikm, ikm, sizeof ikm);
		slen = blob_get (&hkdf_kat[i].salt, salt, sizeof salt);
		flen = blob_get (&hkdf_kat[i].info, info, sizeof info);
		unhex (hkdf_kat[i].okm, want, sizeof want);
		base = secret (fx, CKK_GENERIC_SECRET, ikm, ilen, true);
		p = hkdf_params (true, true, hkdf_kat[i].prf, salt, slen, info, flen);
		n = hkdf_value (fx, &p, base, hkdf_kat[i].L, got, sizeof got);
		assert_mem_eq (want, hkdf_kat[i].L, got, n);
	}
}

/* bExtract alone gives the PRK, one hash long. */
static void
test_hkdf_extract_only (void *arg)
{
	lh_fx *fx = arg;
	uint8_t ikm[80], salt[80], want[64], got[128];
	size_t i, ilen, slen, wlen, n;
	CK_HKDF_PARAMS p;
	CK_OBJECT_HANDLE base;

	for (i = 0; i < N_ (hkdf_kat); i++) {
		ilen = blob_get (&hkdf_kat[i].ikm, ikm, sizeof ikm);
		slen = blob_get (&hkdf_kat[i].salt, salt, sizeof salt);
		wlen = unhex (hkdf_kat[i].prk, want, sizeof want);
		base = secret (fx, CKK_GENERIC_SECRET, ikm, ilen, true);
		p = hkdf_params (true, false, hkdf_kat[i].prf, salt, slen, NULL, 0);
		/* no CKA_VALUE_LEN: the hash length */
		n = hkdf_value (fx, &p, base, 0, got, sizeof got);
		assert_mem_eq (want, wlen, got, n);
		/* the hash length, said explicitly */
		n = hkdf_value (fx, &p, base, wlen, got, sizeof got);
		assert_mem_eq (want, wlen, got, n);
		/* any other length contradicts the mechanism */
		assert_rv (CKR_TEMPLATE_INCONSISTENT,
		           hkdf_rv (fx, &p, sizeof p, base, wlen - 4, NULL));
	}
}

/* bExpand alone takes the base key as the PRK. */
static void
test_hkdf_expand_only (void *arg)
{
	lh_fx *fx = arg;
	uint8_t prk[64], info[80], want[82], got[128];
	size_t i, plen, flen, n;
	CK_HKDF_PARAMS p;
	CK_OBJECT_HANDLE base;

	for (i = 0; i < N_ (hkdf_kat); i++) {
		plen = unhex (hkdf_kat[i].prk, prk, sizeof prk);
		flen = blob_get (&hkdf_kat[i].info, info, sizeof info);
		unhex (hkdf_kat[i].okm, want, sizeof want);
		base = secret (fx, CKK_GENERIC_SECRET, prk, plen, true);
		/* the salt is ignored without extract: give a bad one */
		p = hkdf_params (false, true, hkdf_kat[i].prf, NULL, 0, info, flen);
		p.ulSaltType = CKF_HKDF_SALT_KEY;
		n = hkdf_value (fx, &p, base, hkdf_kat[i].L, got, sizeof got);
		assert_mem_eq (want, hkdf_kat[i].L, got, n);
		/* a shorter output is a prefix (RFC 5869 2.3) */
		n = hkdf_value (fx, &p, base, 5, got, sizeof got);
		assert_mem_eq (want, 5, got, n);
	}
}

/* CKF_HKDF_SALT_NULL is a salt of HashLen zero bytes (RFC 5869 2.2). */
static void
test_hkdf_salt_null (void *arg)
{
	lh_fx *fx = arg;
	uint8_t ikm[22], zeros[32] = { 0 }, want[42], a[64], b[64];
	CK_HKDF_PARAMS p;
	CK_OBJECT_HANDLE base;
	size_t na, nb;

	blob_get (&hkdf_kat[2].ikm, ikm, sizeof ikm);
	unhex (hkdf_kat[2].okm, want, sizeof want);
	base = secret (fx, CKK_GENERIC_SECRET, ikm, sizeof ikm, true);
	p = hkdf_params (true, true, CKM_SHA256, NULL, 0, NULL, 0);
	assert_num_eq (CKF_HKDF_SALT_NULL, p.ulSaltType);
	na = hkdf_value (fx, &p, base, 42, a, sizeof a);
	p = hkdf_params (true, true, CKM_SHA256, zeros, sizeof zeros, NULL, 0);
	nb = hkdf_value (fx, &p, base, 42, b, sizeof b);
	assert_mem_eq (want, sizeof want, a, na);
	assert_mem_eq (want, sizeof want, b, nb);
}

/* An AES key as the input keying material, against OpenSSL's HKDF. */
static void
test_hkdf_aes_base (void *arg)
{
	lh_fx *fx = arg;
	uint8_t key[32], salt[16], info[] = "litehsm hkdf test", want[100], got[128];
	CK_HKDF_PARAMS p;
	CK_OBJECT_HANDLE base;
	OSSL_PARAM op[5];
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	size_t i, n;

	for (i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 3 + 11);
	memset (salt, 0x5c, sizeof salt);
	base = secret (fx, CKK_AES, key, sizeof key, true);
	p = hkdf_params (true, true, CKM_SHA384, salt, sizeof salt, info,
	                 sizeof info - 1);
	n = hkdf_value (fx, &p, base, 100, got, sizeof got);

	op[0] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, "SHA384", 0);
	op[1] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY, key, sizeof key);
	op[2] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT, salt, sizeof salt);
	op[3] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO, info,
	                                           sizeof info - 1);
	op[4] = OSSL_PARAM_construct_end ();
	kdf = EVP_KDF_fetch (NULL, "HKDF", NULL);
	ctx = EVP_KDF_CTX_new (kdf);
	assert_true (ctx && EVP_KDF_derive (ctx, want, 100, op) > 0);
	EVP_KDF_CTX_free (ctx);
	EVP_KDF_free (kdf);
	assert_mem_eq (want, 100, got, n);
}

static void
test_hkdf_bad_params (void *arg)
{
	lh_fx *fx = arg;
	uint8_t ikm[32], salt[8] = { 1 }, info[4] = { 2 };
	CK_OBJECT_HANDLE base, salt_key;
	CK_HKDF_PARAMS p, good;

	memset (ikm, 0x33, sizeof ikm);
	base = secret (fx, CKK_GENERIC_SECRET, ikm, sizeof ikm, true);
	salt_key = secret (fx, CKK_GENERIC_SECRET, salt, sizeof salt, true);
	good = hkdf_params (true, true, CKM_SHA256, salt, sizeof salt, info, sizeof info);
	assert_rv (CKR_OK, hkdf_rv (fx, &good, sizeof good, base, 32, NULL));

	/* a salt given as a key is not supported */
	p = good;
	p.ulSaltType = CKF_HKDF_SALT_KEY;
	p.pSalt = NULL;
	p.ulSaltLen = 0;
	p.hSaltKey = salt_key;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, hkdf_rv (fx, &p, sizeof p, base, 32, NULL));
	/* unknown or combined salt types */
	p = good;
	p.ulSaltType = 0;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, hkdf_rv (fx, &p, sizeof p, base, 32, NULL));
	p.ulSaltType = CKF_HKDF_SALT_NULL | CKF_HKDF_SALT_DATA;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, hkdf_rv (fx, &p, sizeof p, base, 32, NULL));
	/* salt data missing */
	p = good;
	p.pSalt = NULL;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, hkdf_rv (fx, &p, sizeof p, base, 32, NULL));
	p = good;
	p.ulSaltLen = 0;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, hkdf_rv (fx, &p, sizeof p, base, 32, NULL));
	/* info length without info */
	p = good;
	p.pInfo = NULL;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, hkdf_rv (fx, &p, sizeof p, base, 32, NULL));
	/* neither step */
	p = good;
	p.bExtract = p.bExpand = CK_FALSE;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, hkdf_rv (fx, &p, sizeof p, base, 32, NULL));
	/* PRF hashes that are not SHA-1/SHA-2 digests */
	p = good;
	p.prfHashMechanism = CKM_MD5;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, hkdf_rv (fx, &p, sizeof p, base, 32, NULL));
	p.prfHashMechanism = CKM_SHA256_HMAC;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, hkdf_rv (fx, &p, sizeof p, base, 32, NULL));
	/* malformed parameter block */
	assert_rv (CKR_MECHANISM_PARAM_INVALID,
	           hkdf_rv (fx, &good, sizeof good - 1, base, 32, NULL));
	assert_rv (CKR_MECHANISM_PARAM_INVALID, hkdf_rv (fx, NULL, 0, base, 32, NULL));
	/* RFC 5869: L <= 255 * HashLen */
	p = good;
	p.prfHashMechanism = CKM_SHA_1;
	assert_rv (CKR_OK, hkdf_rv (fx, &p, sizeof p, base, 255 * 20, NULL));
	assert_rv (CKR_KEY_SIZE_RANGE, hkdf_rv (fx, &p, sizeof p, base, 255 * 20 + 1, NULL));
	/* expand needs a length from the template */
	assert_rv (CKR_TEMPLATE_INCOMPLETE, hkdf_rv (fx, &good, sizeof good, base, 0, NULL));
}

static void
test_hkdf_base_key (void *arg)
{
	lh_fx *fx = arg;
	CK_HKDF_PARAMS p = hkdf_params (true, true, CKM_SHA256, NULL, 0, NULL, 0);
	CK_OBJECT_HANDLE pub = rsa_public (fx), priv = rsa_private (fx);

	/* RSA keys (CKA_DERIVE set) have no secret value to derive from */
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, hkdf_rv (fx, &p, sizeof p, pub, 32, NULL));
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, hkdf_rv (fx, &p, sizeof p, priv, 32, NULL));
}

int
main (void)
{
	fx_main ();
	lh_test_add ("/mech-digest/digest/kat", test_digest_kat, FX (fx_user));
	lh_test_add ("/mech-digest/digest/million-a", test_digest_million, FX (fx_user));
	lh_test_add ("/mech-digest/digest/multipart", test_digest_multipart, FX (fx_user));
	lh_test_add ("/mech-digest/digest/length-query", test_digest_length_query, FX (fx_user));
	lh_test_add ("/mech-digest/digest/bad-param", test_digest_bad_param, FX (fx_user));
	lh_test_add ("/mech-digest/digest/key", test_digest_key, FX (fx_user));
	lh_test_add ("/mech-digest/hmac/rfc2202", test_hmac_rfc2202, FX (fx_user));
	lh_test_add ("/mech-digest/hmac/rfc4231", test_hmac_rfc4231, FX (fx_user));
	lh_test_add ("/mech-digest/hmac/key-size", test_hmac_key_size, FX (fx_user));
	lh_test_add ("/mech-digest/hmac/multipart", test_hmac_multipart, FX (fx_user));
	lh_test_add ("/mech-digest/hmac/verify-errors", test_hmac_verify_errors, FX (fx_user));
	lh_test_add ("/mech-digest/hmac/length-query", test_hmac_length_query, FX (fx_user));
	lh_test_add ("/mech-digest/hmac/general", test_hmac_general, FX (fx_user));
	lh_test_add ("/mech-digest/hmac/bad-param", test_hmac_bad_param, FX (fx_user));
	lh_test_add ("/mech-digest/mac/key-type", test_mac_key_type, FX (fx_user));
	lh_test_add ("/mech-digest/cmac/sp800-38b", test_cmac_kat, FX (fx_user));
	lh_test_add ("/mech-digest/cmac/multipart", test_cmac_multipart, FX (fx_user));
	lh_test_add ("/mech-digest/cmac/verify-errors", test_cmac_verify_errors, FX (fx_user));
	lh_test_add ("/mech-digest/cmac/openssl", test_cmac_openssl, FX (fx_user));
	lh_test_add ("/mech-digest/hkdf/rfc5869", test_hkdf_rfc5869, FX (fx_user));
	lh_test_add ("/mech-digest/hkdf/extract-only", test_hkdf_extract_only, FX (fx_user));
	lh_test_add ("/mech-digest/hkdf/expand-only", test_hkdf_expand_only, FX (fx_user));
	lh_test_add ("/mech-digest/hkdf/salt-null", test_hkdf_salt_null, FX (fx_user));
	lh_test_add ("/mech-digest/hkdf/aes-base", test_hkdf_aes_base, FX (fx_user));
	lh_test_add ("/mech-digest/hkdf/bad-params", test_hkdf_bad_params, FX (fx_user));
	lh_test_add ("/mech-digest/hkdf/base-key", test_hkdf_base_key, FX (fx_user));
	return lh_test_run ();
}
