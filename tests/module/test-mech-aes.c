/*
 * test-mech-aes.c - module-API tests of the AES family (pkcs11/mech_aes.c):
 * C_GenerateKey with CKM_AES_KEY_GEN and CKM_GENERIC_SECRET_KEY_GEN, and
 * C_Encrypt* / C_Decrypt* with CKM_AES_ECB, CBC, CBC_PAD, CTR, GCM,
 * KEY_WRAP and KEY_WRAP_PAD.
 *
 * Known answers: NIST SP 800-38A appendix F (ECB, CBC, CTR; AES-128 and
 * AES-256), the GCM test cases of McGrew and Viega's GCM specification
 * (2-6, 14-16, as in NIST's GCM validation), RFC 3394 section 4 and
 * RFC 5649 section 6.  Where a vector cannot cover a case (every length
 * of CBC_PAD, keys generated in the token), OpenSSL in this process is
 * the reference.  Every mode is also run multi-part in odd chunk sizes
 * and must equal the single-part result, and the length-query
 * convention and the error codes of bad keys, parameters and lengths are
 * checked.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fixture.h"

#define N_(a) (sizeof (a) / sizeof ((a)[0]))

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY;
static CK_KEY_TYPE kt_aes = CKK_AES, kt_generic = CKK_GENERIC_SECRET;

/* ------------------------------------------------------------------ */
/* Vectors                                                             */

/* SP 800-38A F.1-F.5: keys, the four-block plaintext, IV and counter. */
static const char k128_hex[] = "2b7e151628aed2a6abf7158809cf4f3c";
static const char k256_hex[] =
	"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
static const char sp_pt_hex[] =
	"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
	"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
static const char sp_iv_hex[] = "000102030405060708090a0b0c0d0e0f";
static const char sp_ctr_hex[] = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static const struct {
	const char *name;
	CK_MECHANISM_TYPE mech;
	const char *key, *ct;
} sp800_38a[] = {
	{ "F.1.1 ECB-AES128", CKM_AES_ECB, k128_hex,
	  "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
	  "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4" },
	{ "F.1.5 ECB-AES256", CKM_AES_ECB, k256_hex,
	  "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870"
	  "b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7" },
	{ "F.2.1 CBC-AES128", CKM_AES_CBC, k128_hex,
	  "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
	  "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7" },
	{ "F.2.5 CBC-AES256", CKM_AES_CBC, k256_hex,
	  "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
	  "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b" },
	{ "F.5.1 CTR-AES128", CKM_AES_CTR, k128_hex,
	  "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
	  "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee" },
	{ "F.5.5 CTR-AES256", CKM_AES_CTR, k256_hex,
	  "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
	  "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6" },
};

/* McGrew-Viega GCM test cases; ct is ciphertext || 128-bit tag. */
static const char gcm_k3[] = "feffe9928665731c6d6a8f9467308308";
static const char gcm_p3[] =
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char gcm_p4[] =
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
static const char gcm_a4[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";

static const struct {
	const char *name, *key, *iv, *aad, *pt, *ct;
} gcm_tc[] = {
	{ "TC2", "00000000000000000000000000000000", "000000000000000000000000", "",
	  "00000000000000000000000000000000",
	  "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf" },
	{ "TC3", gcm_k3, "cafebabefacedbaddecaf888", "", gcm_p3,
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
	  "4d5c2af327cd64a62cf35abd2ba6fab4" },
	{ "TC4", gcm_k3, "cafebabefacedbaddecaf888", gcm_a4, gcm_p4,
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
	  "5bc94fbc3221a5db94fae95ae7121a47" },
	{ "TC5 (64-bit IV)", gcm_k3, "cafebabefacedbad", gcm_a4, gcm_p4,
	  "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423"
	  "73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598"
	  "3612d2e79e3b0785561be14aaca2fccb" },
	{ "TC6 (480-bit IV)", gcm_k3,
	  "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
	  "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
	  gcm_a4, gcm_p4,
	  "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca7"
	  "01e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5"
	  "619cc5aefffe0bfa462af43c1699d050" },
	{ "TC14", "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "00000000000000000000000000000000",
	  "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919" },
	{ "TC15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", "", gcm_p3,
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
	  "b094dac5d93471bdec1a502270e3cc6c" },
	{ "TC16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", gcm_a4, gcm_p4,
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
};

/* RFC 3394 section 4 (KEK and key data are prefixes of these). */
static const char kw_kek[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char kw_data[] =
	"00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f";

static const struct {
	const char *name;
	size_t kek_len, data_len;
	const char *ct;
} rfc3394[] = {
	{ "4.1", 16, 16, "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5" },
	{ "4.2", 24, 16, "96778b25ae6ca435f92b5b97c050aed2468ab8a17ad84e5d" },
	{ "4.3", 32, 16, "64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7" },
	{ "4.4", 24, 24, "031d33264e15d33268f24ec260743edce1c6c7ddee725a93"
	                 "6ba814915c6762d2" },
	{ "4.5", 32, 24, "a8f9bc1612c68b3ff6e6f4fbe30e71e4769c8b80a32cb895"
	                 "8cd5d17d6b254da1" },
	{ "4.6", 32, 32, "28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326"
	                 "cbc7f0e71a99f43bfb988b9b7a02dd21" },
};

/* RFC 5649 section 6. */
static const char kwp_kek[] = "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8";
static const struct {
	const char *key, *ct;
} rfc5649[] = {
	{ "c37b7e6492584340bed12207808941155068f738",
	  "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a" },
	{ "466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f" },
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static size_t
unhex (const char *hex, CK_BYTE *out, size_t max)
{
	size_t n = strlen (hex) / 2, i;
	unsigned v;

	assert_true (n <= max);
	for (i = 0; i < n; i++) {
		assert_true (sscanf (hex + 2 * i, "%2x", &v) == 1);
		out[i] = (CK_BYTE)v;
	}
	return n;
}

/* A session AES (or other type) key usable for encrypt and decrypt. */
static CK_OBJECT_HANDLE
make_key (lh_fx *fx, CK_KEY_TYPE kt, const CK_BYTE *value, size_t len)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof cls_secret },
		{ CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_VALUE, (void *)value, len },
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_ENCRYPT, &yes, sizeof yes },
		{ CKA_DECRYPT, &yes, sizeof yes },
	};

	return fx_create (fx, fx->session, t, N_ (t));
}

static CK_OBJECT_HANDLE
make_aes_hex (lh_fx *fx, const char *hex)
{
	CK_BYTE k[32];
	size_t n = unhex (hex, k, sizeof k);

	return make_key (fx, CKK_AES, k, n);
}

/* The four C_Encrypt* or C_Decrypt* functions. */
typedef struct {
	CK_C_EncryptInit init;
	CK_C_Encrypt oneshot;
	CK_C_EncryptUpdate update;
	CK_C_EncryptFinal final;
} dir_fns;

static dir_fns
fns (lh_fx *fx, bool enc)
{
	CK_FUNCTION_LIST_PTR f = fx->fl;

	if (enc)
		return (dir_fns){ f->C_EncryptInit, f->C_Encrypt, f->C_EncryptUpdate,
		                  f->C_EncryptFinal };
	return (dir_fns){ f->C_DecryptInit, f->C_Decrypt, f->C_DecryptUpdate,
	                  f->C_DecryptFinal };
}

/*
 * Encrypt (enc) or decrypt in with key: single-part when chunk is 0,
 * else update in parts of chunk bytes and final.  Every output call
 * asks for the length first (NULL buffer) and the answer must cover what
 * the call then writes.  *out_len: room in out on entry, bytes written
 * on return.  Returns the first failure (the operation is then over).
 */
static CK_RV
run_crypt (lh_fx *fx, bool enc, CK_OBJECT_HANDLE key, CK_MECHANISM *m,
           const CK_BYTE *in, size_t len, size_t chunk, CK_BYTE *out,
           CK_ULONG *out_len)
{
	dir_fns d = fns (fx, enc);
	CK_SESSION_HANDLE s = fx->session;
	CK_ULONG room = *out_len, done = 0, q, n;
	size_t off = 0, c;
	CK_RV rv;

	*out_len = 0;
	if ((rv = d.init (s, m, key)) != CKR_OK)
		return rv;
	if (!chunk) {
		if ((rv = d.oneshot (s, (CK_BYTE_PTR)in, len, NULL, &q)) != CKR_OK)
			return rv;
		assert_true (q <= room);
		n = q;
		if ((rv = d.oneshot (s, (CK_BYTE_PTR)in, len, out, &n)) != CKR_OK)
			return rv;
		assert_true (n <= q);
		*out_len = n;
		return CKR_OK;
	}
	for (off = 0; off < len; off += c) {
		c = len - off < chunk ? len - off : chunk;
		if ((rv = d.update (s, (CK_BYTE_PTR)in + off, c, NULL, &q)) != CKR_OK)
			return rv;
		assert_true (done + q <= room);
		n = q;
		if ((rv = d.update (s, (CK_BYTE_PTR)in + off, c, out + done, &n)) != CKR_OK)
			return rv;
		assert_true (n <= q);
		done += n;
	}
	if ((rv = d.final (s, NULL, &q)) != CKR_OK)
		return rv;
	assert_true (done + q <= room);
	n = q;
	if ((rv = d.final (s, out + done, &n)) != CKR_OK)
		return rv;
	assert_true (n <= q);
	*out_len = done + n;
	return CKR_OK;
}

/* run_crypt () that must succeed and give want. */
static void
crypt_eq (lh_fx *fx, bool enc, CK_OBJECT_HANDLE key, CK_MECHANISM *m,
          const CK_BYTE *in, size_t len, size_t chunk,
          const CK_BYTE *want, size_t want_len)
{
	CK_BYTE out[1024];
	CK_ULONG n = sizeof out;

	assert_rv (CKR_OK, run_crypt (fx, enc, key, m, in, len, chunk, out, &n));
	if (n != want_len || memcmp (out, want, n) != 0)
		printf ("# %s differs (chunk %zu, len %lu, want %zu)\n",
		        enc ? "ciphertext" : "plaintext", chunk, n, want_len);
	assert_mem_eq (want, want_len, out, n);
}

/* Both directions, single-part and in several odd chunk sizes. */
static const size_t chunks[] = { 0, 1, 3, 5, 7, 13, 16, 17, 31, 1000 };

static void
both_ways (lh_fx *fx, CK_OBJECT_HANDLE key, CK_MECHANISM *m,
           const CK_BYTE *pt, size_t pt_len, const CK_BYTE *ct, size_t ct_len)
{
	size_t i;

	for (i = 0; i < N_ (chunks); i++) {
		crypt_eq (fx, true, key, m, pt, pt_len, chunks[i], ct, ct_len);
		crypt_eq (fx, false, key, m, ct, ct_len, chunks[i], pt, pt_len);
	}
}

/* The reference: OpenSSL in this process (padding as the mechanism). */
static size_t
ossl_crypt (const char *cipher, bool enc, bool pad, const CK_BYTE *key,
            const CK_BYTE *iv, const CK_BYTE *in, size_t len, CK_BYTE *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
	EVP_CIPHER *c = EVP_CIPHER_fetch (NULL, cipher, NULL);
	int n = 0, m = 0;

	assert_true (ctx && c);
	assert_true (EVP_CipherInit_ex2 (ctx, c, key, iv, enc, NULL));
	EVP_CIPHER_CTX_set_padding (ctx, pad);
	assert_true (EVP_CipherUpdate (ctx, out, &n, in, (int)len));
	assert_true (EVP_CipherFinal_ex (ctx, out + n, &m));
	EVP_CIPHER_CTX_free (ctx);
	EVP_CIPHER_free (c);
	return (size_t)(n + m);
}

static CK_RV
init_rv (lh_fx *fx, bool enc, CK_MECHANISM *m, CK_OBJECT_HANDLE key)
{
	return fns (fx, enc).init (fx->session, m, key);
}

/* A single-part call's length query: *q on success. */
static CK_RV
query1 (lh_fx *fx, bool enc, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
        const CK_BYTE *in, size_t len, CK_ULONG *q)
{
	assert_rv (CKR_OK, init_rv (fx, enc, m, key));
	return fns (fx, enc).oneshot (fx->session, (CK_BYTE_PTR)in, len, NULL, q);
}

/* End whatever operation a test left (C_*Init with NULL cancels). */
static void
cancel (lh_fx *fx, bool enc)
{
	assert_rv (CKR_OK, init_rv (fx, enc, NULL, CK_INVALID_HANDLE));
}

/* ------------------------------------------------------------------ */
/* Known answers                                                       */

/* SP 800-38A ECB, CBC and CTR, both key sizes, both directions. */
static void
test_sp800_38a (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE pt[64], ct[64], iv[16];
	CK_AES_CTR_PARAMS ctr;
	CK_MECHANISM m;
	CK_OBJECT_HANDLE k;
	size_t i, n;

	unhex (sp_pt_hex, pt, sizeof pt);
	unhex (sp_iv_hex, iv, sizeof iv);
	unhex (sp_ctr_hex, ctr.cb, sizeof ctr.cb);
	for (i = 0; i < N_ (sp800_38a); i++) {
		printf ("# %s\n", sp800_38a[i].name);
		n = unhex (sp800_38a[i].ct, ct, sizeof ct);
		k = make_aes_hex (fx, sp800_38a[i].key);
		m = (CK_MECHANISM){ sp800_38a[i].mech, NULL, 0 };
		if (m.mechanism == CKM_AES_CBC)
			m.pParameter = iv, m.ulParameterLen = sizeof iv;
		if (m.mechanism == CKM_AES_CTR) {
			/* the counter carries into byte 14 in block 2 */
			ctr.ulCounterBits = i % 2 ? 128 : 16;
			m.pParameter = &ctr, m.ulParameterLen = sizeof ctr;
		}
		both_ways (fx, k, &m, pt, sizeof pt, ct, n);
	}
}

static void
gcm_params (CK_GCM_PARAMS *gp, CK_BYTE *iv, size_t iv_len, CK_BYTE *aad,
            size_t aad_len, CK_ULONG tag_bits)
{
	gp->pIv = iv;
	gp->ulIvLen = iv_len;
	gp->ulIvBits = iv_len * 8;
	gp->pAAD = aad_len ? aad : NULL;
	gp->ulAADLen = aad_len;
	gp->ulTagBits = tag_bits;
}

/* McGrew-Viega GCM test cases: AES-128 and AES-256, with and without
 * AAD, 64-, 96- and 480-bit IVs. */
static void
test_gcm_kat (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE iv[64], aad[32], pt[64], ct[80];
	CK_GCM_PARAMS gp;
	CK_MECHANISM m = { CKM_AES_GCM, &gp, sizeof gp };
	CK_OBJECT_HANDLE k;
	size_t i, ivn, an, pn, cn;

	for (i = 0; i < N_ (gcm_tc); i++) {
		printf ("# %s\n", gcm_tc[i].name);
		k = make_aes_hex (fx, gcm_tc[i].key);
		ivn = unhex (gcm_tc[i].iv, iv, sizeof iv);
		an = unhex (gcm_tc[i].aad, aad, sizeof aad);
		pn = unhex (gcm_tc[i].pt, pt, sizeof pt);
		cn = unhex (gcm_tc[i].ct, ct, sizeof ct);
		gcm_params (&gp, iv, ivn, aad, an, 128);
		both_ways (fx, k, &m, pt, pn, ct, cn);
	}
}

/* RFC 3394 section 4 through C_Encrypt/C_Decrypt, default IV and the
 * same IV given explicitly. */
static void
test_kw_rfc3394 (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE kek[32], data[32], ct[40];
	CK_BYTE a6[8] = { 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6 };
	CK_MECHANISM m = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_MECHANISM mi = { CKM_AES_KEY_WRAP, a6, sizeof a6 };
	CK_OBJECT_HANDLE k;
	size_t i, n;

	unhex (kw_kek, kek, sizeof kek);
	unhex (kw_data, data, sizeof data);
	for (i = 0; i < N_ (rfc3394); i++) {
		printf ("# RFC 3394 %s\n", rfc3394[i].name);
		k = make_key (fx, CKK_AES, kek, rfc3394[i].kek_len);
		n = unhex (rfc3394[i].ct, ct, sizeof ct);
		both_ways (fx, k, &m, data, rfc3394[i].data_len, ct, n);
		crypt_eq (fx, true, k, &mi, data, rfc3394[i].data_len, 0, ct, n);
	}
}

static void
test_kwp_rfc5649 (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE kek[24], key[32], ct[40];
	CK_MECHANISM m = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_OBJECT_HANDLE k;
	size_t i, kn, cn;

	unhex (kwp_kek, kek, sizeof kek);
	k = make_key (fx, CKK_AES, kek, sizeof kek);
	for (i = 0; i < N_ (rfc5649); i++) {
		kn = unhex (rfc5649[i].key, key, sizeof key);
		cn = unhex (rfc5649[i].ct, ct, sizeof ct);
		both_ways (fx, k, &m, key, kn, ct, cn);
	}
}

/* ------------------------------------------------------------------ */
/* Modes beyond the vectors                                            */

/* CBC_PAD: every length 0..33 against OpenSSL, single- and multi-part. */
static void
test_cbc_pad_lengths (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE key[32], iv[16], pt[40], ref[64];
	CK_MECHANISM m = { CKM_AES_CBC_PAD, iv, sizeof iv };
	CK_OBJECT_HANDLE k128, k256;
	CK_ULONG q;
	size_t len, n, i;

	for (i = 0; i < sizeof key; i++)
		key[i] = (CK_BYTE)(0x30 + 7 * i);
	for (i = 0; i < sizeof pt; i++)
		pt[i] = (CK_BYTE)(i * 13);
	unhex (sp_iv_hex, iv, sizeof iv);
	k128 = make_key (fx, CKK_AES, key, 16);
	k256 = make_key (fx, CKK_AES, key, 32);
	for (len = 0; len <= 33; len++) {
		n = ossl_crypt ("AES-128-CBC", true, true, key, iv, pt, len, ref);
		assert_num_eq ((len / 16 + 1) * 16, n);
		/* SPEC: the length query for padded encryption is exact */
		assert_rv (CKR_OK, query1 (fx, true, &m, k128, pt, len, &q));
		assert_num_eq (n, q);
		cancel (fx, true);
		crypt_eq (fx, true, k128, &m, pt, len, 0, ref, n);
		crypt_eq (fx, true, k128, &m, pt, len, 5, ref, n);
		crypt_eq (fx, false, k128, &m, ref, n, 0, pt, len);
		crypt_eq (fx, false, k128, &m, ref, n, 7, pt, len);
		crypt_eq (fx, false, k128, &m, ref, n, 16, pt, len);
		n = ossl_crypt ("AES-256-CBC", true, true, key, iv, pt, len, ref);
		both_ways (fx, k256, &m, pt, len, ref, n);
	}
}

/* Bad padding and bad lengths in CBC_PAD decryption. */
static void
test_cbc_pad_errors (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE key[16] = { 1, 2, 3 }, iv[16] = { 0 }, blk[32], out[64];
	CK_MECHANISM m = { CKM_AES_CBC_PAD, iv, sizeof iv };
	CK_OBJECT_HANDLE k = make_key (fx, CKK_AES, key, sizeof key);
	CK_ULONG n;

	/* a block whose decryption ends in 0x00: not PKCS#7 */
	memset (blk, 0, sizeof blk);
	ossl_crypt ("AES-128-CBC", true, false, key, iv, blk, 16, out);
	n = sizeof blk;
	assert_rv (CKR_ENCRYPTED_DATA_INVALID, run_crypt (fx, false, k, &m, out, 16, 0, blk, &n));
	n = sizeof blk;
	assert_rv (CKR_ENCRYPTED_DATA_INVALID, run_crypt (fx, false, k, &m, out, 16, 3, blk, &n));
	/* padding bytes that disagree: ... 0x02 0x03 */
	memset (blk, 3, 16);
	blk[15] = 2;
	blk[14] = 3;
	ossl_crypt ("AES-128-CBC", true, false, key, iv, blk, 16, out);
	n = sizeof blk;
	assert_rv (CKR_ENCRYPTED_DATA_INVALID, run_crypt (fx, false, k, &m, out, 16, 0, blk, &n));
	/* lengths: not whole blocks, or nothing */
	n = sizeof blk;
	assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE, run_crypt (fx, false, k, &m, out, 17, 0, blk, &n));
	n = sizeof blk;
	assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE, run_crypt (fx, false, k, &m, out, 0, 0, blk, &n));
	n = sizeof blk;
	assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE, run_crypt (fx, false, k, &m, out, 15, 4, blk, &n));
}

/* ECB and CBC take whole blocks only. */
static void
test_block_lengths (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE key[16] = { 9 }, iv[16] = { 0 }, in[48] = { 0 }, out[64];
	CK_MECHANISM ecb = { CKM_AES_ECB, NULL, 0 }, cbc = { CKM_AES_CBC, iv, 16 };
	CK_MECHANISM *ms[] = { &ecb, &cbc };
	CK_OBJECT_HANDLE k = make_key (fx, CKK_AES, key, sizeof key);
	CK_ULONG n;
	size_t i;

	for (i = 0; i < N_ (ms); i++) {
		n = sizeof out;
		assert_rv (CKR_DATA_LEN_RANGE, run_crypt (fx, true, k, ms[i], in, 17, 0, out, &n));
		n = sizeof out;
		assert_rv (CKR_DATA_LEN_RANGE, run_crypt (fx, true, k, ms[i], in, 33, 8, out, &n));
		n = sizeof out;
		assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE,
		           run_crypt (fx, false, k, ms[i], in, 31, 0, out, &n));
		n = sizeof out;
		assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE,
		           run_crypt (fx, false, k, ms[i], in, 47, 16, out, &n));
		/* zero bytes is a whole number of blocks */
		n = sizeof out;
		assert_rv (CKR_OK, run_crypt (fx, true, k, ms[i], in, 0, 0, out, &n));
		assert_num_eq (0, n);
	}
}

/* CTR: a counter that would wrap within ulCounterBits is refused. */
static void
test_ctr_wrap (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE key[16] = { 7 }, in[64] = { 0 }, out[80], ref[64], iv[16];
	CK_AES_CTR_PARAMS cp = { 8, { 0 } };
	CK_MECHANISM m = { CKM_AES_CTR, &cp, sizeof cp };
	CK_OBJECT_HANDLE k = make_key (fx, CKK_AES, key, sizeof key);
	CK_SESSION_HANDLE s = fx->session;
	CK_ULONG n;

	/* 8 counter bits at 0xfe: blocks 0xfe and 0xff, then it would wrap */
	memset (cp.cb, 0x55, sizeof cp.cb);
	cp.cb[15] = 0xfe;
	memcpy (iv, cp.cb, 16);
	ossl_crypt ("AES-128-CTR", true, false, key, iv, in, 32, ref);
	crypt_eq (fx, true, k, &m, in, 32, 0, ref, 32);
	crypt_eq (fx, true, k, &m, in, 32, 7, ref, 32);
	n = sizeof out;
	assert_rv (CKR_DATA_LEN_RANGE, run_crypt (fx, true, k, &m, in, 33, 0, out, &n));
	n = sizeof out;
	assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE, run_crypt (fx, false, k, &m, in, 33, 0, out, &n));
	/* multi-part: 31 + 1 bytes fit, the 33rd does not */
	assert_rv (CKR_OK, fx->fl->C_EncryptInit (s, &m, k));
	n = sizeof out;
	assert_rv (CKR_OK, fx->fl->C_EncryptUpdate (s, in, 31, out, &n));
	n = sizeof out;
	assert_rv (CKR_OK, fx->fl->C_EncryptUpdate (s, in, 1, out, &n));
	n = sizeof out;
	assert_rv (CKR_DATA_LEN_RANGE, fx->fl->C_EncryptUpdate (s, in, 1, out, &n));
	/* all 128 bits at their maximum: one block */
	cp.ulCounterBits = 128;
	memset (cp.cb, 0xff, sizeof cp.cb);
	n = sizeof out;
	assert_rv (CKR_OK, run_crypt (fx, true, k, &m, in, 16, 0, out, &n));
	n = sizeof out;
	assert_rv (CKR_DATA_LEN_RANGE, run_crypt (fx, true, k, &m, in, 17, 0, out, &n));
	/* 64 bits: the limit sits in the low half... */
	cp.ulCounterBits = 64;
	cp.cb[15] = 0xfd;
	n = sizeof out;
	assert_rv (CKR_OK, run_crypt (fx, true, k, &m, in, 48, 0, out, &n));
	n = sizeof out;
	assert_rv (CKR_DATA_LEN_RANGE, run_crypt (fx, true, k, &m, in, 49, 0, out, &n));
	/* ...and 72 bits with a spare bit above it leave room */
	cp.ulCounterBits = 72;
	cp.cb[7] = 0xfe;
	n = sizeof out;
	assert_rv (CKR_OK, run_crypt (fx, true, k, &m, in, 64, 0, out, &n));
}

static void
test_ctr_params (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE key[32] = { 1 };
	CK_AES_CTR_PARAMS cp = { 0, { 0 } };
	CK_MECHANISM m = { CKM_AES_CTR, &cp, sizeof cp };
	CK_OBJECT_HANDLE k = make_key (fx, CKK_AES, key, sizeof key);

	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &m, k));
	cp.ulCounterBits = 129;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &m, k));
	cp.ulCounterBits = 32;
	m.ulParameterLen = sizeof cp - 1;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, false, &m, k));
	m = (CK_MECHANISM){ CKM_AES_CTR, NULL, 0 };
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &m, k));
	m = (CK_MECHANISM){ CKM_AES_CTR, &cp, sizeof cp };
	cp.ulCounterBits = 1;
	assert_rv (CKR_OK, init_rv (fx, true, &m, k));
	cancel (fx, true);
}

/* GCM: any change to tag, ciphertext or AAD is CKR_ENCRYPTED_DATA_INVALID,
 * and multi-part decryption gives no plaintext before the tag is checked. */
static void
test_gcm_tamper (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE key[16], iv[12], aad[20], pt[60], ct[76], out[80];
	CK_GCM_PARAMS gp;
	CK_MECHANISM m = { CKM_AES_GCM, &gp, sizeof gp };
	CK_OBJECT_HANDLE k = make_aes_hex (fx, gcm_k3);
	CK_SESSION_HANDLE s = fx->session;
	CK_ULONG n, q;
	size_t i, cn;

	unhex (gcm_k3, key, sizeof key);
	unhex ("cafebabefacedbaddecaf888", iv, sizeof iv);
	unhex (gcm_a4, aad, sizeof aad);
	unhex (gcm_p4, pt, sizeof pt);
	cn = unhex (gcm_tc[2].ct, ct, sizeof ct);
	gcm_params (&gp, iv, sizeof iv, aad, sizeof aad, 128);
	crypt_eq (fx, false, k, &m, ct, cn, 0, pt, sizeof pt);
	for (i = 0; i < N_ (chunks); i++) {
		ct[cn - 1] ^= 0x01;             /* tag */
		n = sizeof out;
		assert_rv (CKR_ENCRYPTED_DATA_INVALID,
		           run_crypt (fx, false, k, &m, ct, cn, chunks[i], out, &n));
		ct[cn - 1] ^= 0x01;
		ct[5] ^= 0x80;                  /* ciphertext */
		n = sizeof out;
		assert_rv (CKR_ENCRYPTED_DATA_INVALID,
		           run_crypt (fx, false, k, &m, ct, cn, chunks[i], out, &n));
		ct[5] ^= 0x80;
	}
	aad[0] ^= 1;
	n = sizeof out;
	assert_rv (CKR_ENCRYPTED_DATA_INVALID, run_crypt (fx, false, k, &m, ct, cn, 0, out, &n));
	aad[0] ^= 1;
	/* shorter than the tag */
	n = sizeof out;
	assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE, run_crypt (fx, false, k, &m, ct, 15, 0, out, &n));
	/* multi-part: updates release nothing (their length queries are
	 * checked in /mech-aes/length-query-multi) */
	assert_rv (CKR_OK, fx->fl->C_DecryptInit (s, &m, k));
	for (i = 0; i < cn; i += 25) {
		n = sizeof out;
		assert_rv (CKR_OK, fx->fl->C_DecryptUpdate (s, ct + i, cn - i < 25 ? cn - i : 25,
		                                            out, &n));
		assert_num_eq (0, n);
	}
	assert_rv (CKR_OK, fx->fl->C_DecryptFinal (s, NULL, &q));
	assert_num_eq (sizeof pt, q);
	n = sizeof out;
	assert_rv (CKR_OK, fx->fl->C_DecryptFinal (s, out, &n));
	assert_mem_eq (pt, sizeof pt, out, n);
}

/* Shorter tags are prefixes of the full one; the decrypter checks the
 * length it was told. */
static void
test_gcm_tag_lengths (void *arg)
{
	lh_fx *fx = arg;
	static const CK_ULONG ok_bits[] = { 32, 64, 96, 104, 112, 120, 128 };
	CK_BYTE iv[12], pt[64], full[80], ct[80], out[96];
	CK_GCM_PARAMS gp;
	CK_MECHANISM m = { CKM_AES_GCM, &gp, sizeof gp };
	CK_OBJECT_HANDLE k = make_aes_hex (fx, gcm_k3);
	CK_ULONG n;
	size_t i, fn, tl;

	unhex ("cafebabefacedbaddecaf888", iv, sizeof iv);
	unhex (gcm_p3, pt, sizeof pt);
	fn = unhex (gcm_tc[1].ct, full, sizeof full);
	for (i = 0; i < N_ (ok_bits); i++) {
		tl = ok_bits[i] / 8;
		gcm_params (&gp, iv, sizeof iv, NULL, 0, ok_bits[i]);
		memcpy (ct, full, sizeof pt + tl);
		both_ways (fx, k, &m, pt, sizeof pt, ct, sizeof pt + tl);
		/* the full tag is not accepted for a shorter length */
		if (tl < 16) {
			n = sizeof out;
			assert_rv (CKR_ENCRYPTED_DATA_INVALID,
			           run_crypt (fx, false, k, &m, full, fn, 0, out, &n));
		}
	}
}

static void
test_gcm_params (void *arg)
{
	lh_fx *fx = arg;
	static const CK_ULONG bad_bits[] = { 0, 8, 24, 40, 72, 100, 136, 256 };
	CK_BYTE iv[200] = { 0 }, aad[4] = { 0 }, ct[80], pt[60];
	CK_GCM_PARAMS gp;
	CK_MECHANISM m = { CKM_AES_GCM, &gp, sizeof gp };
	CK_OBJECT_HANDLE k = make_aes_hex (fx, gcm_k3);
	struct {               /* CK_GCM_PARAMS of the first 2.40 header */
		CK_BYTE_PTR pIv;
		CK_ULONG ulIvLen;
		CK_BYTE_PTR pAAD;
		CK_ULONG ulAADLen;
		CK_ULONG ulTagBits;
	} old;
	size_t i, cn, an;

	for (i = 0; i < N_ (bad_bits); i++) {
		gcm_params (&gp, iv, 12, NULL, 0, bad_bits[i]);
		assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &m, k));
	}
	gcm_params (&gp, NULL, 12, NULL, 0, 128);
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &m, k));
	gcm_params (&gp, iv, 0, NULL, 0, 128);
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &m, k));
	gcm_params (&gp, iv, 129, NULL, 0, 128);     /* beyond OpenSSL's 128 */
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, false, &m, k));
	gcm_params (&gp, iv, 12, NULL, sizeof aad, 128);
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &m, k));
	gcm_params (&gp, iv, 12, aad, sizeof aad, 128);
	gp.ulIvBits = 64;                            /* disagrees with ulIvLen */
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &m, k));
	m.ulParameterLen = sizeof gp + 8;
	gp.ulIvBits = 96;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &m, k));
	m = (CK_MECHANISM){ CKM_AES_GCM, NULL, 0 };
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &m, k));
	/* the largest IV we take, and ulIvBits 0 (ignored by many callers) */
	gcm_params (&gp, iv, 128, NULL, 0, 128);
	m = (CK_MECHANISM){ CKM_AES_GCM, &gp, sizeof gp };
	assert_rv (CKR_OK, init_rv (fx, true, &m, k));
	cancel (fx, true);
	gcm_params (&gp, iv, 12, NULL, 0, 128);
	gp.ulIvBits = 0;
	assert_rv (CKR_OK, init_rv (fx, true, &m, k));
	cancel (fx, true);
	/* TC4 through the old structure layout */
	unhex ("cafebabefacedbaddecaf888", iv, 12);
	an = unhex (gcm_a4, iv + 16, 32);
	unhex (gcm_p4, pt, sizeof pt);
	cn = unhex (gcm_tc[2].ct, ct, sizeof ct);
	old.pIv = iv, old.ulIvLen = 12, old.pAAD = iv + 16, old.ulAADLen = an;
	old.ulTagBits = 128;
	m = (CK_MECHANISM){ CKM_AES_GCM, &old, sizeof old };
	both_ways (fx, k, &m, pt, sizeof pt, ct, cn);
}

/* KEY_WRAP: lengths, integrity, and the IV parameter. */
static void
test_kw_errors (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE kek[16] = { 3 }, data[40] = { 1 }, ct[48], out[48];
	CK_BYTE iv[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	CK_MECHANISM m = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_MECHANISM mi = { CKM_AES_KEY_WRAP, iv, sizeof iv };
	CK_OBJECT_HANDLE k = make_key (fx, CKK_AES, kek, sizeof kek);
	static const size_t bad_enc[] = { 0, 8, 15, 17, 23 };
	static const size_t bad_dec[] = { 0, 8, 16, 23, 25 };
	CK_ULONG n, cn;
	size_t i;

	for (i = 0; i < N_ (bad_enc); i++) {
		n = sizeof out;
		assert_rv (CKR_DATA_LEN_RANGE, run_crypt (fx, true, k, &m, data, bad_enc[i], 0, out, &n));
		n = sizeof out;
		assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE,
		           run_crypt (fx, false, k, &m, data, bad_dec[i], 0, out, &n));
	}
	/* an altered byte anywhere fails the integrity check */
	cn = sizeof ct;
	assert_rv (CKR_OK, run_crypt (fx, true, k, &m, data, 32, 0, ct, &cn));
	assert_num_eq (40, cn);
	for (i = 0; i < cn; i += 13) {
		ct[i] ^= 4;
		n = sizeof out;
		assert_rv (CKR_ENCRYPTED_DATA_INVALID, run_crypt (fx, false, k, &m, ct, cn, 0, out, &n));
		ct[i] ^= 4;
	}
	/* another IV: another result, round trip, and refused without it */
	cn = sizeof ct;
	assert_rv (CKR_OK, run_crypt (fx, true, k, &mi, data, 24, 0, ct, &cn));
	crypt_eq (fx, false, k, &mi, ct, cn, 0, data, 24);
	crypt_eq (fx, false, k, &mi, ct, cn, 9, data, 24);
	n = sizeof out;
	assert_rv (CKR_ENCRYPTED_DATA_INVALID, run_crypt (fx, false, k, &m, ct, cn, 0, out, &n));
	mi.ulParameterLen = 7;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &mi, k));
	mi.ulParameterLen = 16;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, false, &mi, k));
}

/* KEY_WRAP_PAD: every length 1..40 round trips and matches OpenSSL. */
static void
test_kwp_lengths (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE kek[32], data[40], ref[56], out[56];
	CK_BYTE aiv[4] = { 0xa6, 0x59, 0x59, 0xa6 };
	CK_MECHANISM m = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_MECHANISM mi = { CKM_AES_KEY_WRAP_PAD, aiv, sizeof aiv };
	CK_OBJECT_HANDLE k;
	CK_ULONG n, q;
	size_t len, rn, i;

	for (i = 0; i < sizeof kek; i++)
		kek[i] = (CK_BYTE)(i * 3 + 1);
	for (i = 0; i < sizeof data; i++)
		data[i] = (CK_BYTE)(0xf0 - i);
	k = make_key (fx, CKK_AES, kek, sizeof kek);
	for (len = 1; len <= sizeof data; len++) {
		rn = ossl_crypt ("AES-256-WRAP-PAD", true, true, kek, NULL, data, len, ref);
		assert_num_eq ((len + 7) / 8 * 8 + 8, rn);
		assert_rv (CKR_OK, query1 (fx, true, &m, k, data, len, &q));
		assert_num_eq (rn, q);
		cancel (fx, true);
		both_ways (fx, k, &m, data, len, ref, rn);
		crypt_eq (fx, true, k, &mi, data, len, 0, ref, rn);
	}
	n = sizeof out;
	assert_rv (CKR_DATA_LEN_RANGE, run_crypt (fx, true, k, &m, data, 0, 0, out, &n));
	n = sizeof out;
	assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE, run_crypt (fx, false, k, &m, ref, 8, 0, out, &n));
	n = sizeof out;
	assert_rv (CKR_ENCRYPTED_DATA_LEN_RANGE, run_crypt (fx, false, k, &m, ref, 20, 0, out, &n));
	ref[3] ^= 1;
	n = sizeof out;
	assert_rv (CKR_ENCRYPTED_DATA_INVALID, run_crypt (fx, false, k, &m, ref, rn, 0, out, &n));
	mi.ulParameterLen = 8;
	assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &mi, k));
}

/* ------------------------------------------------------------------ */
/* The length-query convention                                         */

/* Single-part: exact sizes, a short buffer keeps the operation. */
static void
test_length_query (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE key[16] = { 5 }, iv[16] = { 6 }, in[64] = { 7 }, out[96], ref[96];
	CK_AES_CTR_PARAMS cp = { 128, { 0 } };
	CK_GCM_PARAMS gp;
	struct {
		CK_MECHANISM m;
		size_t in_len, enc_len;
	} c[] = {
		{ { CKM_AES_ECB, NULL, 0 }, 64, 64 },
		{ { CKM_AES_CBC, iv, 16 }, 32, 32 },
		{ { CKM_AES_CBC_PAD, iv, 16 }, 20, 32 },
		{ { CKM_AES_CBC_PAD, iv, 16 }, 32, 48 },
		{ { CKM_AES_CTR, &cp, sizeof cp }, 21, 21 },
		{ { CKM_AES_GCM, &gp, sizeof gp }, 21, 37 },
		{ { CKM_AES_KEY_WRAP, NULL, 0 }, 24, 32 },
		{ { CKM_AES_KEY_WRAP_PAD, NULL, 0 }, 20, 32 },
		{ { CKM_AES_KEY_WRAP_PAD, NULL, 0 }, 7, 16 },
	};
	CK_OBJECT_HANDLE k = make_key (fx, CKK_AES, key, sizeof key);
	CK_SESSION_HANDLE s = fx->session;
	CK_ULONG q, n, rn;
	size_t i;

	gcm_params (&gp, iv, 12, NULL, 0, 128);
	for (i = 0; i < N_ (c); i++) {
		printf ("# mechanism 0x%lx, %zu bytes\n", c[i].m.mechanism, c[i].in_len);
		rn = sizeof ref;
		assert_rv (CKR_OK, run_crypt (fx, true, k, &c[i].m, in, c[i].in_len, 0, ref, &rn));
		assert_num_eq (c[i].enc_len, rn);
		assert_rv (CKR_OK, query1 (fx, true, &c[i].m, k, in, c[i].in_len, &q));
		assert_num_eq (c[i].enc_len, q);
		/* SPEC: C_Encrypt: CKR_BUFFER_TOO_SMALL keeps the operation */
		n = q - 1;
		assert_rv (CKR_BUFFER_TOO_SMALL, fx->fl->C_Encrypt (s, in, c[i].in_len, out, &n));
		assert_num_eq (q, n);
		assert_rv (CKR_OK, fx->fl->C_Encrypt (s, in, c[i].in_len, out, &n));
		assert_mem_eq (ref, rn, out, n);
		/* decryption: the answer covers the plaintext (exact but for
		 * the padded modes, where an upper bound is allowed) */
		assert_rv (CKR_OK, query1 (fx, false, &c[i].m, k, ref, rn, &q));
		assert_true (q >= c[i].in_len);
		if (c[i].m.mechanism != CKM_AES_CBC_PAD &&
		    c[i].m.mechanism != CKM_AES_KEY_WRAP_PAD)
			assert_num_eq (c[i].in_len, q);
		n = c[i].in_len - 1;
		if (n < q) {
			assert_rv (CKR_BUFFER_TOO_SMALL, fx->fl->C_Decrypt (s, ref, rn, out, &n));
			assert_true (n >= c[i].in_len);
		}
		n = q;
		assert_rv (CKR_OK, fx->fl->C_Decrypt (s, ref, rn, out, &n));
		assert_mem_eq (in, c[i].in_len, out, n);
	}
}

/* One multi-part step: the length query must say exactly want. */
static void
step_query (lh_fx *fx, bool enc, const CK_BYTE *in, size_t len, CK_ULONG want,
            CK_BYTE *out, CK_ULONG *done)
{
	dir_fns d = fns (fx, enc);
	CK_ULONG q = 12345, n;

	if (in)
		assert_rv (CKR_OK, d.update (fx->session, (CK_BYTE_PTR)in, len, NULL, &q));
	else
		assert_rv (CKR_OK, d.final (fx->session, NULL, &q));
	if (q != want)
		printf ("# %s %s of %zu bytes: length %lu, want %lu\n",
		        enc ? "encrypt" : "decrypt", in ? "update" : "final", len, q, want);
	assert_num_eq (want, q);
	/* a buffer one short is refused and the operation goes on */
	if (want) {
		n = want - 1;
		if (in)
			assert_rv (CKR_BUFFER_TOO_SMALL,
			           d.update (fx->session, (CK_BYTE_PTR)in, len, out + *done, &n));
		else
			assert_rv (CKR_BUFFER_TOO_SMALL, d.final (fx->session, out + *done, &n));
	}
	n = want;
	if (in)
		assert_rv (CKR_OK, d.update (fx->session, (CK_BYTE_PTR)in, len, out + *done, &n));
	else
		assert_rv (CKR_OK, d.final (fx->session, out + *done, &n));
	assert_num_eq (want, n);
	*done += n;
}

/* Multi-part: exact update and final lengths, including the first
 * update, whose answer must not be the single-part one. */
static void
test_length_query_multi (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE key[16] = { 5 }, iv[16] = { 6 }, in[64], out[96], ct[96];
	CK_GCM_PARAMS gp;
	CK_MECHANISM pad = { CKM_AES_CBC_PAD, iv, 16 };
	CK_MECHANISM gcm = { CKM_AES_GCM, &gp, sizeof gp };
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_OBJECT_HANDLE k = make_key (fx, CKK_AES, key, sizeof key);
	CK_ULONG done, cn;
	size_t i;

	for (i = 0; i < sizeof in; i++)
		in[i] = (CK_BYTE)i;
	gcm_params (&gp, iv, 12, NULL, 0, 128);
	/* CBC_PAD encrypt: 20 -> 16 out, 5 -> 0 (9 held), final 16 */
	assert_rv (CKR_OK, init_rv (fx, true, &pad, k));
	done = 0;
	step_query (fx, true, in, 20, 16, out, &done);
	step_query (fx, true, in + 20, 5, 0, out, &done);
	step_query (fx, true, NULL, 0, 16, out, &done);
	cn = sizeof ct;
	assert_rv (CKR_OK, run_crypt (fx, true, k, &pad, in, 25, 0, ct, &cn));
	assert_mem_eq (ct, cn, out, done);
	/* CBC_PAD decrypt: the last whole block waits for final */
	assert_rv (CKR_OK, init_rv (fx, false, &pad, k));
	done = 0;
	step_query (fx, false, ct, 16, 0, out, &done);
	step_query (fx, false, ct + 16, 16, 16, out, &done);
	assert_rv (CKR_OK, fx->fl->C_DecryptFinal (fx->session, out + done, &cn));
	assert_num_eq (9, cn);
	assert_mem_eq (in, 25, out, done + cn);
	/* GCM encrypt: update gives exactly its input, final the tag */
	assert_rv (CKR_OK, init_rv (fx, true, &gcm, k));
	done = 0;
	step_query (fx, true, in, 21, 21, out, &done);
	step_query (fx, true, in + 21, 3, 3, out, &done);
	step_query (fx, true, NULL, 0, 16, out, &done);
	cn = sizeof ct;
	assert_rv (CKR_OK, run_crypt (fx, true, k, &gcm, in, 24, 0, ct, &cn));
	assert_mem_eq (ct, cn, out, done);
	/* GCM decrypt: nothing before final, then all of it */
	assert_rv (CKR_OK, init_rv (fx, false, &gcm, k));
	done = 0;
	step_query (fx, false, ct, 30, 0, out, &done);
	step_query (fx, false, ct + 30, cn - 30, 0, out, &done);
	step_query (fx, false, NULL, 0, 24, out, &done);
	assert_mem_eq (in, 24, out, done);
	/* KEY_WRAP: buffered to the end */
	assert_rv (CKR_OK, init_rv (fx, true, &kw, k));
	done = 0;
	step_query (fx, true, in, 13, 0, out, &done);
	step_query (fx, true, in + 13, 11, 0, out, &done);
	step_query (fx, true, NULL, 0, 32, out, &done);
}

/* ------------------------------------------------------------------ */
/* Keys and parameters                                                 */

static void
test_wrong_key (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE key[32] = { 1 }, iv[16] = { 0 }, in[16] = { 0 }, out[32];
	CK_MECHANISM m = { CKM_AES_CBC, iv, sizeof iv };
	CK_MECHANISM ecb = { CKM_AES_ECB, NULL, 0 };
	CK_OBJECT_HANDLE g = make_key (fx, CKK_GENERIC_SECRET, key, 16);
	CK_OBJECT_HANDLE k;
	CK_ULONG n;
	CK_RV rv;

	assert_rv (CKR_KEY_TYPE_INCONSISTENT, init_rv (fx, true, &m, g));
	assert_rv (CKR_KEY_TYPE_INCONSISTENT, init_rv (fx, false, &ecb, g));
	/* an AES key of a size AES does not have: refused at import or use */
	{
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls_secret, sizeof cls_secret },
			{ CKA_KEY_TYPE, &kt_aes, sizeof kt_aes },
			{ CKA_VALUE, key, 20 },
			{ CKA_TOKEN, &no, sizeof no },
		};

		rv = fx->fl->C_CreateObject (fx->session, t, N_ (t), &k);
		if (rv == CKR_OK)
			assert_rv (CKR_KEY_SIZE_RANGE, init_rv (fx, true, &ecb, k));
		else
			assert_rv (CKR_ATTRIBUTE_VALUE_INVALID, rv);
	}
	/* the failures left no operation behind */
	k = make_key (fx, CKK_AES, key, 24);
	n = sizeof out;
	assert_rv (CKR_OK, run_crypt (fx, true, k, &ecb, in, 16, 0, out, &n));
}

static void
test_bad_params (void *arg)
{
	lh_fx *fx = arg;
	CK_BYTE key[16] = { 1 }, iv[17] = { 0 };
	CK_OBJECT_HANDLE k = make_key (fx, CKK_AES, key, sizeof key);
	CK_MECHANISM bad[] = {
		{ CKM_AES_CBC, NULL, 0 },
		{ CKM_AES_CBC, iv, 15 },
		{ CKM_AES_CBC, iv, 17 },
		{ CKM_AES_CBC_PAD, NULL, 0 },
		{ CKM_AES_CBC_PAD, iv, 8 },
		{ CKM_AES_ECB, iv, 16 },
		{ CKM_AES_KEY_WRAP, iv, 4 },
		{ CKM_AES_KEY_WRAP_PAD, iv, 2 },
	};
	size_t i;

	for (i = 0; i < N_ (bad); i++) {
		printf ("# mechanism 0x%lx, parameter %lu bytes\n", bad[i].mechanism,
		        bad[i].ulParameterLen);
		assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, true, &bad[i], k));
		assert_rv (CKR_MECHANISM_PARAM_INVALID, init_rv (fx, false, &bad[i], k));
	}
}

/* ------------------------------------------------------------------ */
/* Key generation                                                      */

static CK_RV
generate_rv (lh_fx *fx, CK_MECHANISM_TYPE mech, CK_ULONG len, bool readable,
             CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_ATTRIBUTE t[] = {
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_ENCRYPT, &yes, sizeof yes },
		{ CKA_DECRYPT, &yes, sizeof yes },
		{ CKA_VALUE_LEN, &len, sizeof len },
		{ CKA_SENSITIVE, &no, sizeof no },
		{ CKA_EXTRACTABLE, &yes, sizeof yes },
	};

	return fx->fl->C_GenerateKey (fx->session, &m, t, readable ? 6 : 4, out);
}

/* Generate a readable key; check its attributes; return its value. */
static size_t
generate_check (lh_fx *fx, CK_MECHANISM_TYPE mech, CK_KEY_TYPE kt,
                CK_ULONG len, CK_BYTE *value, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_HANDLE k;
	CK_SESSION_HANDLE s = fx->session;
	CK_ULONG n;

	assert_rv (CKR_OK, generate_rv (fx, mech, len, true, &k));
	assert_num_eq (CKO_SECRET_KEY, fx_get_ulong (fx, s, k, CKA_CLASS));
	assert_num_eq (kt, fx_get_ulong (fx, s, k, CKA_KEY_TYPE));
	assert_num_eq (len, fx_get_ulong (fx, s, k, CKA_VALUE_LEN));
	assert_num_eq (CK_TRUE, fx_get_bool (fx, s, k, CKA_LOCAL));
	assert_num_eq (mech, fx_get_ulong (fx, s, k, CKA_KEY_GEN_MECHANISM));
	n = fx_get_bytes (fx, s, k, CKA_VALUE, value, 512);
	assert_num_eq (len, n);
	if (out)
		*out = k;
	return n;
}

static void
test_generate (void *arg)
{
	lh_fx *fx = arg;
	static const CK_ULONG aes_lens[] = { 16, 24, 32 };
	static const CK_ULONG gen_lens[] = { 1, 20, 64, 512 };
	static const char *names[] = { "AES-128-ECB", "AES-192-ECB", "AES-256-ECB" };
	CK_BYTE v1[512], v2[512], in[32], ct[48], ref[48];
	CK_MECHANISM ecb = { CKM_AES_ECB, NULL, 0 };
	CK_OBJECT_HANDLE k;
	CK_ULONG n;
	size_t i;

	memset (in, 0x42, sizeof in);
	for (i = 0; i < N_ (aes_lens); i++) {
		generate_check (fx, CKM_AES_KEY_GEN, CKK_AES, aes_lens[i], v1, &k);
		generate_check (fx, CKM_AES_KEY_GEN, CKK_AES, aes_lens[i], v2, NULL);
		assert_true (memcmp (v1, v2, aes_lens[i]) != 0);
		/* the value read back is the key that encrypts */
		n = sizeof ct;
		assert_rv (CKR_OK, run_crypt (fx, true, k, &ecb, in, sizeof in, 0, ct, &n));
		ossl_crypt (names[i], true, false, v1, NULL, in, sizeof in, ref);
		assert_mem_eq (ref, sizeof in, ct, n);
	}
	for (i = 0; i < N_ (gen_lens); i++) {
		generate_check (fx, CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET,
		                gen_lens[i], v1, NULL);
		generate_check (fx, CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET,
		                gen_lens[i], v2, NULL);
		/* one byte: equal once in 256 runs; compare a second pair */
		if (gen_lens[i] == 1 && v1[0] == v2[0])
			generate_check (fx, CKM_GENERIC_SECRET_KEY_GEN,
			                CKK_GENERIC_SECRET, 1, v2, NULL);
		assert_true (memcmp (v1, v2, gen_lens[i]) != 0);
	}
}

/* A key generated with the defaults is sensitive from birth. */
static void
test_generate_default_sensitive (void *arg)
{
	lh_fx *fx = arg;
	CK_SESSION_HANDLE s = fx->session;
	CK_OBJECT_HANDLE k;
	CK_BYTE buf[32];
	CK_ULONG len = sizeof buf;

	assert_rv (CKR_OK, generate_rv (fx, CKM_AES_KEY_GEN, 32, false, &k));
	assert_rv (CKR_ATTRIBUTE_SENSITIVE, fx_get_rv (fx, s, k, CKA_VALUE, buf, &len));
	assert_num_eq (CK_TRUE, fx_get_bool (fx, s, k, CKA_SENSITIVE));
	assert_num_eq (CK_TRUE, fx_get_bool (fx, s, k, CKA_ALWAYS_SENSITIVE));
	assert_num_eq (CK_TRUE, fx_get_bool (fx, s, k, CKA_NEVER_EXTRACTABLE));
	assert_num_eq (32, fx_get_ulong (fx, s, k, CKA_VALUE_LEN));
	assert_rv (CKR_OK, generate_rv (fx, CKM_GENERIC_SECRET_KEY_GEN, 48, false, &k));
	len = sizeof buf;
	assert_rv (CKR_ATTRIBUTE_SENSITIVE, fx_get_rv (fx, s, k, CKA_VALUE, buf, &len));
}

static void
test_generate_errors (void *arg)
{
	lh_fx *fx = arg;
	static const CK_ULONG bad_aes[] = { 0, 8, 15, 17, 20, 31, 33, 64 };
	static const CK_ULONG bad_gen[] = { 0, 513, 4096 };
	CK_MECHANISM aes = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ULONG len = 16;
	CK_ATTRIBUTE none[] = { { CKA_TOKEN, &no, sizeof no } };
	CK_ATTRIBUTE wrong_type[] = {
		{ CKA_VALUE_LEN, &len, sizeof len },
		{ CKA_KEY_TYPE, &kt_generic, sizeof kt_generic },
	};
	CK_OBJECT_HANDLE k;
	CK_RV rv;
	size_t i;

	/* SPEC: CKA_VALUE_LEN is required when generating these keys */
	assert_rv (CKR_TEMPLATE_INCOMPLETE,
	           fx->fl->C_GenerateKey (fx->session, &aes, none, 1, &k));
	aes.mechanism = CKM_GENERIC_SECRET_KEY_GEN;
	assert_rv (CKR_TEMPLATE_INCOMPLETE,
	           fx->fl->C_GenerateKey (fx->session, &aes, none, 1, &k));
	for (i = 0; i < N_ (bad_aes); i++) {
		rv = generate_rv (fx, CKM_AES_KEY_GEN, bad_aes[i], false, &k);
		if (rv != CKR_ATTRIBUTE_VALUE_INVALID)
			assert_rv (CKR_KEY_SIZE_RANGE, rv);
	}
	for (i = 0; i < N_ (bad_gen); i++) {
		rv = generate_rv (fx, CKM_GENERIC_SECRET_KEY_GEN, bad_gen[i], false, &k);
		if (rv != CKR_ATTRIBUTE_VALUE_INVALID)
			assert_rv (CKR_KEY_SIZE_RANGE, rv);
	}
	aes.mechanism = CKM_AES_KEY_GEN;
	assert_rv (CKR_TEMPLATE_INCONSISTENT,
	           fx->fl->C_GenerateKey (fx->session, &aes, wrong_type, 2, &k));
	/* a parameter where the mechanism has none */
	aes.pParameter = &len;
	aes.ulParameterLen = sizeof len;
	assert_rv (CKR_MECHANISM_PARAM_INVALID,
	           fx->fl->C_GenerateKey (fx->session, &aes, wrong_type, 1, &k));
}

int
main (void)
{
	fx_main ();
	lh_test_add ("/mech-aes/sp800-38a", test_sp800_38a, FX (fx_user));
	lh_test_add ("/mech-aes/gcm-kat", test_gcm_kat, FX (fx_user));
	lh_test_add ("/mech-aes/kw-rfc3394", test_kw_rfc3394, FX (fx_user));
	lh_test_add ("/mech-aes/kwp-rfc5649", test_kwp_rfc5649, FX (fx_user));
	lh_test_add ("/mech-aes/cbc-pad-lengths", test_cbc_pad_lengths, FX (fx_user));
	lh_test_add ("/mech-aes/cbc-pad-errors", test_cbc_pad_errors, FX (fx_user));
	lh_test_add ("/mech-aes/block-lengths", test_block_lengths, FX (fx_user));
	lh_test_add ("/mech-aes/ctr-wrap", test_ctr_wrap, FX (fx_user));
	lh_test_add ("/mech-aes/ctr-params", test_ctr_params, FX (fx_user));
	lh_test_add ("/mech-aes/gcm-tamper", test_gcm_tamper, FX (fx_user));
	lh_test_add ("/mech-aes/gcm-tag-lengths", test_gcm_tag_lengths, FX (fx_user));
	lh_test_add ("/mech-aes/gcm-params", test_gcm_params, FX (fx_user));
	lh_test_add ("/mech-aes/kw-errors", test_kw_errors, FX (fx_user));
	lh_test_add ("/mech-aes/kwp-lengths", test_kwp_lengths, FX (fx_user));
	lh_test_add ("/mech-aes/length-query", test_length_query, FX (fx_user));
	lh_test_add ("/mech-aes/length-query-multi", test_length_query_multi, FX (fx_user));
	lh_test_add ("/mech-aes/wrong-key", test_wrong_key, FX (fx_user));
	lh_test_add ("/mech-aes/bad-params", test_bad_params, FX (fx_user));
	lh_test_add ("/mech-aes/generate", test_generate, FX (fx_user));
	lh_test_add ("/mech-aes/generate-default-sensitive",
	             test_generate_default_sensitive, FX (fx_user));
	lh_test_add ("/mech-aes/generate-errors", test_generate_errors, FX (fx_user));
	return lh_test_run ();
}
