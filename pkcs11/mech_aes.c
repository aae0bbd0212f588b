/*
 * mech_aes.c - the AES family: AES and generic secret key generation, and
 * encrypt/decrypt with CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD,
 * CKM_AES_CTR, CKM_AES_GCM, CKM_AES_KEY_WRAP (RFC 3394) and
 * CKM_AES_KEY_WRAP_PAD (RFC 5649).  C_WrapKey/C_UnwrapKey reach the
 * wrapping modes through the same operations (a oneshot on the serialized
 * key), so this file is also the key-wrap engine.
 *
 * Three shapes of operation, each with its own lh_op_ops:
 *   block  ECB, CBC, CBC_PAD, CTR: streamed through one EVP_CIPHER_CTX;
 *          we count the bytes OpenSSL holds back (a partial block, or the
 *          last block of a padded decryption) so every output length is
 *          exact, except the tail of CBC_PAD decryption (padding unknown
 *          until it is decrypted: an upper bound, as the spec allows).
 *   gcm    encryption streams; decryption buffers all of its input and
 *          releases plaintext only at C_DecryptFinal, after the tag has
 *          been checked: C_DecryptUpdate returns no bytes at all.  Handing
 *          out unauthenticated plaintext would let an attacker who can
 *          alter the ciphertext learn from how the application reacts.
 *   wrap   KEY_WRAP and KEY_WRAP_PAD are one-pass algorithms over the
 *          whole input: update buffers (and returns no bytes), final or
 *          oneshot runs the algorithm.
 *
 * Output lengths: the fn layer sizes the output with ops->out_len before
 * each call; each call here checks *out_len against the exact need again,
 * before any state changes, so a short buffer is CKR_BUFFER_TOO_SMALL and
 * leaves the operation usable whatever the caller did.
 *
 * Key material lives only in the EVP_CIPHER_CTX (cleansed by OpenSSL when
 * freed) and in buffered input, which is cleansed when freed since a key
 * being wrapped passes through it.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"
#include "pkcs11/object.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define AES_BLOCK 16
#define GENERIC_MAX 512          /* generic secret keys: 1..512 bytes */
#define GCM_IV_MAX 128           /* OpenSSL's limit (GCM_IV_MAX_SIZE) */
#define WRAP_MAX ((size_t)INT_MAX - 16)   /* OpenSSL wrap is one int-sized call */
#define CHUNK ((size_t)1 << 30)  /* EVP lengths are int; a multiple of 16 */

typedef enum {
	M_ECB, M_CBC, M_CBC_PAD, M_CTR, M_GCM, M_KW, M_KWP
} aes_mode;

/* Which call an output length is for. */
typedef enum { W_ONESHOT, W_UPDATE, W_FINAL } aes_when;

/*
 * One AES operation.  Owned by the session's op slot; used by one thread
 * at a time (the session's op lock).
 */
typedef struct {
	lh_op head;                  /* first: the fn layer sees only this */
	EVP_CIPHER_CTX *ctx;         /* holds the key schedule */
	aes_mode mode;
	bool enc;
	size_t pending;              /* block: bytes taken, not yet output */
	bool ctr_limited;            /* CTR: the counter can wrap... */
	uint64_t ctr_left;           /* ...after this many more bytes */
	size_t tag_len;              /* GCM: bytes */
	uint8_t *buf;                /* gcm decrypt, wrap: all input so far */
	size_t buf_len;
} aes_op;

/*
 * CK_GCM_PARAMS as PKCS#11 2.40 first published it, without ulIvBits.
 * Applications built with that header still exist (the errata added the
 * field in the middle); ulParameterLen tells the two layouts apart.
 */
typedef struct {
	CK_BYTE_PTR pIv;
	CK_ULONG ulIvLen;
	CK_BYTE_PTR pAAD;
	CK_ULONG ulAADLen;
	CK_ULONG ulTagBits;
} gcm_params_240;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static CK_RV
len_range (const aes_op *a)
{
	return a->enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
}

static size_t
sat_add (size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* EVP_CipherUpdate over any length (EVP counts in int).  out NULL: AAD. */
static bool
evp_update (EVP_CIPHER_CTX *ctx, uint8_t *out, size_t *outl,
            const uint8_t *in, size_t inl)
{
	size_t c;
	int n;

	*outl = 0;
	while (inl) {
		c = inl < CHUNK ? inl : CHUNK;
		if (!EVP_CipherUpdate (ctx, out ? out + *outl : NULL, &n, in, (int)c))
			return false;
		*outl += out ? (size_t)n : 0;
		in += c;
		inl -= c;
	}
	return true;
}

/* Keep more input for later (gcm decrypt, wrap).  The old copy is
 * cleansed: it may be key material on its way to being wrapped. */
static CK_RV
buf_append (aes_op *a, const uint8_t *in, size_t len, size_t max)
{
	uint8_t *grown;

	if (!len)
		return CKR_OK;
	if (len > max || a->buf_len > max - len)
		return len_range (a);
	grown = OPENSSL_clear_realloc (a->buf, a->buf_len, a->buf_len + len);
	if (!grown)
		return CKR_HOST_MEMORY;
	memcpy (grown + a->buf_len, in, len);
	a->buf = grown;
	a->buf_len += len;
	return CKR_OK;
}

static void
aes_free (lh_op *op)
{
	aes_op *a = (aes_op *)op;

	EVP_CIPHER_CTX_free (a->ctx);
	OPENSSL_clear_free (a->buf, a->buf_len);
	OPENSSL_clear_free (a, sizeof *a);
}

/*
 * Which call the fn layer is sizing for.  out_len has no argument for
 * oneshot versus update, so op->multipart decides.  op.c sets it only
 * after sizing the first update, which is therefore answered as a
 * oneshot: never less than the update writes (safe), but more than it
 * for CBC_PAD, GCM and the wraps (an over-estimate the spec allows).
 */
static aes_when
when_of (const lh_op *op, bool final)
{
	if (final)
		return W_FINAL;
	return op->multipart ? W_UPDATE : W_ONESHOT;
}

/* ------------------------------------------------------------------ */
/* ECB, CBC, CBC_PAD, CTR                                              */

/* Exact output of the next call (an upper bound for CBC_PAD decrypt). */
static size_t
block_need (const aes_op *a, size_t in_len, aes_when w)
{
	size_t total = sat_add (a->pending, in_len);

	if (a->mode == M_CTR)
		return w == W_FINAL ? 0 : in_len;
	if (a->mode == M_CBC_PAD && a->enc) {
		if (w == W_ONESHOT)
			return sat_add (in_len - in_len % AES_BLOCK, AES_BLOCK);
		return w == W_FINAL ? AES_BLOCK : total - total % AES_BLOCK;
	}
	if (a->mode == M_CBC_PAD) {
		/* OpenSSL keeps the last full block back until final, since
		 * it may hold the padding. */
		if (w == W_ONESHOT)
			return in_len;
		if (w == W_FINAL)
			return a->pending;
		return total ? (total - 1) / AES_BLOCK * AES_BLOCK : 0;
	}
	return w == W_FINAL ? 0 : total - total % AES_BLOCK;
}

static size_t
block_out_len (lh_op *op, size_t in_len, bool final)
{
	return block_need ((aes_op *)op, in_len, when_of (op, final));
}

/* SPEC: CKM_AES_CTR: the counter must not wrap within its ulCounterBits;
 * refuse the data rather than reuse keystream. */
static CK_RV
ctr_take (aes_op *a, size_t in_len)
{
	if (a->mode != M_CTR || !a->ctr_limited)
		return CKR_OK;
	if ((uint64_t)in_len > a->ctr_left)
		return len_range (a);
	a->ctr_left -= in_len;
	return CKR_OK;
}

static CK_RV
block_update (lh_op *op, const uint8_t *in, size_t in_len,
              uint8_t *out, size_t *out_len)
{
	aes_op *a = (aes_op *)op;
	size_t n;
	CK_RV rv;

	if (*out_len < block_need (a, in_len, W_UPDATE))
		return CKR_BUFFER_TOO_SMALL;
	if (a->pending > SIZE_MAX - in_len)
		return len_range (a);
	if ((rv = ctr_take (a, in_len)) != CKR_OK)
		return rv;
	if (!evp_update (a->ctx, out, &n, in, in_len))
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	a->pending = a->pending + in_len - n;
	*out_len = n;
	return CKR_OK;
}

static CK_RV
block_final (lh_op *op, uint8_t *out, size_t *out_len)
{
	aes_op *a = (aes_op *)op;
	int n = 0;

	if (*out_len < block_need (a, 0, W_FINAL))
		return CKR_BUFFER_TOO_SMALL;
	/* No padding: the data must have been whole blocks; padded
	 * decryption must end on a block boundary, with a block held. */
	if ((a->mode == M_ECB || a->mode == M_CBC) && a->pending)
		return len_range (a);
	if (a->mode == M_CBC_PAD && !a->enc && a->pending != AES_BLOCK)
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	if (!EVP_CipherFinal_ex (a->ctx, out, &n))
		return lh_ossl_rv (a->mode == M_CBC_PAD && !a->enc ?
		                   CKR_ENCRYPTED_DATA_INVALID : CKR_FUNCTION_FAILED);
	a->pending = 0;
	*out_len = (size_t)n;
	return CKR_OK;
}

static CK_RV
block_oneshot (lh_op *op, const uint8_t *in, size_t in_len,
               uint8_t *out, size_t *out_len)
{
	aes_op *a = (aes_op *)op;
	size_t room = *out_len, n, m;
	CK_RV rv;

	if (room < block_need (a, in_len, W_ONESHOT))
		return CKR_BUFFER_TOO_SMALL;
	/* Lengths first, so a bad one is reported before any output. */
	if ((a->mode == M_ECB || a->mode == M_CBC) && in_len % AES_BLOCK)
		return len_range (a);
	if (a->mode == M_CBC_PAD && !a->enc && (in_len % AES_BLOCK || !in_len))
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	n = room;
	if ((rv = block_update (op, in, in_len, out, &n)) != CKR_OK)
		return rv;
	m = room - n;
	if ((rv = block_final (op, out + n, &m)) != CKR_OK) {
		OPENSSL_cleanse (out, n);
		return rv;
	}
	*out_len = n + m;
	return CKR_OK;
}

static const lh_op_ops block_ops = {
	.out_len = block_out_len,
	.oneshot = block_oneshot,
	.update = block_update,
	.final = block_final,
	.free = aes_free,
};

/*
 * How many bytes of keystream the counter block cb gives before its low
 * nbits bits wrap: 16 * (2^nbits - counter), saturated (false: no limit
 * that a size_t could reach).
 */
static bool
ctr_limit (const uint8_t cb[16], unsigned nbits, uint64_t *bytes)
{
	uint64_t lo = 0, hi = 0, blocks;
	int i;

	for (i = 0; i < 8; i++) {
		hi = hi << 8 | cb[i];
		lo = lo << 8 | cb[8 + i];
	}
	if (nbits < 64) {
		lo &= ((uint64_t)1 << nbits) - 1;
		blocks = ((uint64_t)1 << nbits) - lo;
	} else {
		/* 2^n - c = (~c within n bits) + 1: over 2^64 unless every
		 * counter bit above bit 63 is set, and the low half not 0. */
		hi = nbits == 128 ? ~hi : ~hi & (((uint64_t)1 << (nbits - 64)) - 1);
		if (hi || lo == 0)
			return false;
		blocks = ~lo + 1;
	}
	if (blocks > UINT64_MAX / AES_BLOCK)
		return false;
	*bytes = blocks * AES_BLOCK;
	return true;
}

/* ------------------------------------------------------------------ */
/* GCM                                                                 */

static size_t
gcm_need (const aes_op *a, size_t in_len, aes_when w)
{
	if (a->enc) {
		if (w == W_UPDATE)
			return in_len;
		return w == W_FINAL ? a->tag_len : sat_add (in_len, a->tag_len);
	}
	if (w == W_UPDATE)
		return 0;
	if (w == W_FINAL)
		in_len = a->buf_len;
	return in_len > a->tag_len ? in_len - a->tag_len : 0;
}

static size_t
gcm_out_len (lh_op *op, size_t in_len, bool final)
{
	return gcm_need ((aes_op *)op, in_len, when_of (op, final));
}

/*
 * Decrypt ciphertext||tag into out; on a bad tag the plaintext already
 * written is wiped before CKR_ENCRYPTED_DATA_INVALID is returned.
 */
static CK_RV
gcm_open (aes_op *a, const uint8_t *in, size_t in_len,
          uint8_t *out, size_t *out_len)
{
	size_t ct_len, n;
	int m = 0;

	if (in_len < a->tag_len)
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	ct_len = in_len - a->tag_len;
	if (*out_len < ct_len)
		return CKR_BUFFER_TOO_SMALL;
	if (!EVP_CIPHER_CTX_ctrl (a->ctx, EVP_CTRL_AEAD_SET_TAG, (int)a->tag_len,
	                          (void *)(in + ct_len)) ||
	    !evp_update (a->ctx, out, &n, in, ct_len))
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	if (!EVP_DecryptFinal_ex (a->ctx, out + n, &m)) {
		OPENSSL_cleanse (out, ct_len);
		return lh_ossl_rv (CKR_ENCRYPTED_DATA_INVALID);
	}
	*out_len = n + (size_t)m;
	return CKR_OK;
}

static CK_RV
gcm_update (lh_op *op, const uint8_t *in, size_t in_len,
            uint8_t *out, size_t *out_len)
{
	aes_op *a = (aes_op *)op;
	size_t n;

	if (!a->enc) {
		/* Plaintext only after the tag is checked, at final. */
		*out_len = 0;
		return buf_append (a, in, in_len, SIZE_MAX / 2);
	}
	if (*out_len < in_len)
		return CKR_BUFFER_TOO_SMALL;
	if (!evp_update (a->ctx, out, &n, in, in_len))
		return lh_ossl_rv (CKR_DATA_LEN_RANGE);   /* GCM's 2^36 limit */
	*out_len = n;
	return CKR_OK;
}

static CK_RV
gcm_final (lh_op *op, uint8_t *out, size_t *out_len)
{
	aes_op *a = (aes_op *)op;
	int n = 0;

	if (!a->enc)
		return gcm_open (a, a->buf, a->buf_len, out, out_len);
	if (*out_len < a->tag_len)
		return CKR_BUFFER_TOO_SMALL;
	if (!EVP_EncryptFinal_ex (a->ctx, out, &n) ||
	    !EVP_CIPHER_CTX_ctrl (a->ctx, EVP_CTRL_AEAD_GET_TAG, (int)a->tag_len,
	                          out + n))
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	*out_len = (size_t)n + a->tag_len;
	return CKR_OK;
}

static CK_RV
gcm_oneshot (lh_op *op, const uint8_t *in, size_t in_len,
             uint8_t *out, size_t *out_len)
{
	aes_op *a = (aes_op *)op;
	size_t room = *out_len, n, m;
	CK_RV rv;

	if (!a->enc)
		return gcm_open (a, in, in_len, out, out_len);
	if (room < gcm_need (a, in_len, W_ONESHOT))
		return CKR_BUFFER_TOO_SMALL;
	n = room;
	if ((rv = gcm_update (op, in, in_len, out, &n)) != CKR_OK)
		return rv;
	m = room - n;
	if ((rv = gcm_final (op, out + n, &m)) != CKR_OK)
		return rv;
	*out_len = n + m;
	return CKR_OK;
}

static const lh_op_ops gcm_ops = {
	.out_len = gcm_out_len,
	.oneshot = gcm_oneshot,
	.update = gcm_update,
	.final = gcm_final,
	.free = aes_free,
};

/* ------------------------------------------------------------------ */
/* KEY_WRAP (RFC 3394) and KEY_WRAP_PAD (RFC 5649)                    */

static size_t
wrap_need (const aes_op *a, size_t in_len, aes_when w)
{
	if (w == W_UPDATE)
		return 0;
	if (w == W_FINAL)
		in_len = a->buf_len;
	if (!a->enc)
		return in_len > 8 ? in_len - 8 : 0;    /* KWP: an upper bound */
	if (a->mode == M_KWP)
		in_len = sat_add (in_len, (8 - in_len % 8) % 8);
	return sat_add (in_len, 8);
}

static size_t
wrap_out_len (lh_op *op, size_t in_len, bool final)
{
	return wrap_need ((aes_op *)op, in_len, when_of (op, final));
}

/* Is in_len a length the algorithm takes (RFC 3394 2.2.1, RFC 5649 4)? */
static bool
wrap_len_ok (const aes_op *a, size_t in_len)
{
	if (in_len > WRAP_MAX)
		return false;
	if (a->mode == M_KWP)
		return a->enc ? in_len > 0 : in_len >= 16 && in_len % 8 == 0;
	return in_len % 8 == 0 && in_len >= (a->enc ? 16u : 24u);
}

static CK_RV
wrap_run (aes_op *a, const uint8_t *in, size_t in_len,
          uint8_t *out, size_t *out_len)
{
	int n = 0;

	if (!wrap_len_ok (a, in_len))
		return len_range (a);
	if (*out_len < wrap_need (a, in_len, W_ONESHOT))
		return CKR_BUFFER_TOO_SMALL;
	/* Integrity check failed (wrong key, altered data): n < 0 or 0. */
	if (!EVP_CipherUpdate (a->ctx, out, &n, in, (int)in_len) || n <= 0)
		return lh_ossl_rv (a->enc ? CKR_FUNCTION_FAILED :
		                   CKR_ENCRYPTED_DATA_INVALID);
	*out_len = (size_t)n;
	return CKR_OK;
}

static CK_RV
wrap_update (lh_op *op, const uint8_t *in, size_t in_len,
             uint8_t *out, size_t *out_len)
{
	(void)out;
	*out_len = 0;
	return buf_append ((aes_op *)op, in, in_len, WRAP_MAX);
}

static CK_RV
wrap_final (lh_op *op, uint8_t *out, size_t *out_len)
{
	aes_op *a = (aes_op *)op;

	return wrap_run (a, a->buf, a->buf_len, out, out_len);
}

static CK_RV
wrap_oneshot (lh_op *op, const uint8_t *in, size_t in_len,
              uint8_t *out, size_t *out_len)
{
	return wrap_run ((aes_op *)op, in, in_len, out, out_len);
}

static const lh_op_ops wrap_ops = {
	.out_len = wrap_out_len,
	.oneshot = wrap_oneshot,
	.update = wrap_update,
	.final = wrap_final,
	.free = aes_free,
};

/* ------------------------------------------------------------------ */
/* Starting an operation                                               */

static const char *
cipher_name (aes_mode mode, size_t key_len)
{
	static const char *const names[][3] = {
		[M_ECB]     = { "AES-128-ECB", "AES-192-ECB", "AES-256-ECB" },
		[M_CBC]     = { "AES-128-CBC", "AES-192-CBC", "AES-256-CBC" },
		[M_CBC_PAD] = { "AES-128-CBC", "AES-192-CBC", "AES-256-CBC" },
		[M_CTR]     = { "AES-128-CTR", "AES-192-CTR", "AES-256-CTR" },
		[M_GCM]     = { "AES-128-GCM", "AES-192-GCM", "AES-256-GCM" },
		[M_KW]      = { "AES-128-WRAP", "AES-192-WRAP", "AES-256-WRAP" },
		[M_KWP]     = { "AES-128-WRAP-PAD", "AES-192-WRAP-PAD",
		                "AES-256-WRAP-PAD" },
	};

	return names[mode][(key_len - 16) / 8];
}

static bool
mode_of (CK_MECHANISM_TYPE type, aes_mode *mode)
{
	switch (type) {
	case CKM_AES_ECB:          *mode = M_ECB; return true;
	case CKM_AES_CBC:          *mode = M_CBC; return true;
	case CKM_AES_CBC_PAD:      *mode = M_CBC_PAD; return true;
	case CKM_AES_CTR:          *mode = M_CTR; return true;
	case CKM_AES_GCM:          *mode = M_GCM; return true;
	case CKM_AES_KEY_WRAP:     *mode = M_KW; return true;
	case CKM_AES_KEY_WRAP_PAD: *mode = M_KWP; return true;
	default:                   return false;
	}
}

/*
 * Fetch the cipher for a's mode and key, and start it.  With iv_len set
 * (GCM), the IV length is set before the key and IV are given.
 */
static CK_RV
cipher_start (aes_op *a, const lh_key *key, const uint8_t *iv, size_t iv_len)
{
	EVP_CIPHER *c;
	CK_RV rv = CKR_FUNCTION_FAILED;

	c = EVP_CIPHER_fetch (lh_g.libctx, cipher_name (a->mode, key->value_len), NULL);
	if (!c)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	EVP_CIPHER_CTX_set_flags (a->ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (!EVP_CipherInit_ex2 (a->ctx, c, NULL, NULL, a->enc, NULL))
		goto out;
	if (a->mode == M_GCM &&
	    !EVP_CIPHER_CTX_ctrl (a->ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)iv_len, NULL))
		goto out;
	if (!EVP_CipherInit_ex2 (a->ctx, NULL, key->value, iv, a->enc, NULL))
		goto out;
	/* SPEC: CKM_AES_CBC/ECB have no padding: whole blocks only. */
	if (a->mode != M_CBC_PAD && !EVP_CIPHER_CTX_set_padding (a->ctx, 0))
		goto out;
	rv = CKR_OK;
out:
	EVP_CIPHER_free (c);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

static CK_RV
init_ctr (aes_op *a, const CK_MECHANISM *p, const lh_key *key)
{
	const CK_AES_CTR_PARAMS *cp = p->pParameter;

	if (!cp || p->ulParameterLen != sizeof *cp ||
	    cp->ulCounterBits == 0 || cp->ulCounterBits > 128)
		return CKR_MECHANISM_PARAM_INVALID;
	a->ctr_limited = ctr_limit (cp->cb, (unsigned)cp->ulCounterBits,
	                            &a->ctr_left);
	return cipher_start (a, key, cp->cb, AES_BLOCK);
}

/*
 * SP 800-38D 5.2.1.2: tags of 128, 120, 112, 104 or 96 bits, and 64 or
 * 32 for applications that know the risk.  The PKCS#11 text allows
 * 0..128; a tag of a few bits authenticates nothing, so we keep to NIST.
 */
static bool
gcm_tag_ok (CK_ULONG bits)
{
	return (bits >= 96 && bits <= 128 && bits % 8 == 0) ||
	       bits == 64 || bits == 32;
}

static CK_RV
init_gcm (aes_op *a, const CK_MECHANISM *p, const lh_key *key)
{
	const CK_GCM_PARAMS *gp = p->pParameter;
	const gcm_params_240 *old = p->pParameter;
	const uint8_t *iv, *aad;
	size_t iv_len, aad_len, n;
	CK_ULONG tag_bits;
	CK_RV rv;

	if (!gp)
		return CKR_MECHANISM_PARAM_INVALID;
	if (p->ulParameterLen == sizeof *gp) {
		iv = gp->pIv, iv_len = gp->ulIvLen, aad = gp->pAAD;
		aad_len = gp->ulAADLen, tag_bits = gp->ulTagBits;
		/* ulIvBits: 0 from applications that ignore it */
		if (gp->ulIvBits != 0 && gp->ulIvBits != gp->ulIvLen * 8)
			return CKR_MECHANISM_PARAM_INVALID;
	} else if (p->ulParameterLen == sizeof *old) {
		iv = old->pIv, iv_len = old->ulIvLen, aad = old->pAAD;
		aad_len = old->ulAADLen, tag_bits = old->ulTagBits;
	} else {
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if (!iv || iv_len == 0 || iv_len > GCM_IV_MAX ||
	    (!aad && aad_len) || !gcm_tag_ok (tag_bits))
		return CKR_MECHANISM_PARAM_INVALID;
	a->tag_len = tag_bits / 8;
	if ((rv = cipher_start (a, key, iv, iv_len)) != CKR_OK)
		return rv;
	if (aad_len && !evp_update (a->ctx, NULL, &n, aad, aad_len))
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	return CKR_OK;
}

/* SPEC: CKM_AES_KEY_WRAP: optional 8-byte IV; CKM_AES_KEY_WRAP_PAD:
 * optional 4-byte alternative IV (RFC 5649's AIV prefix).  NULL: the
 * RFC default. */
static CK_RV
init_wrap (aes_op *a, const CK_MECHANISM *p, const lh_key *key)
{
	size_t want = a->mode == M_KW ? 8 : 4;

	if (!p->pParameter && p->ulParameterLen == 0)
		return cipher_start (a, key, NULL, 0);
	if (!p->pParameter || p->ulParameterLen != want)
		return CKR_MECHANISM_PARAM_INVALID;
	return cipher_start (a, key, p->pParameter, want);
}

static CK_RV
init_mode (aes_op *a, const CK_MECHANISM *p, const lh_key *key)
{
	switch (a->mode) {
	case M_ECB:
		if (p->ulParameterLen != 0)
			return CKR_MECHANISM_PARAM_INVALID;
		return cipher_start (a, key, NULL, 0);
	case M_CBC:
	case M_CBC_PAD:
		if (!p->pParameter || p->ulParameterLen != AES_BLOCK)
			return CKR_MECHANISM_PARAM_INVALID;
		return cipher_start (a, key, p->pParameter, AES_BLOCK);
	case M_CTR:
		return init_ctr (a, p, key);
	case M_GCM:
		return init_gcm (a, p, key);
	default:
		return init_wrap (a, p, key);
	}
}

static const lh_op_ops *
ops_of (aes_mode mode)
{
	if (mode == M_GCM)
		return &gcm_ops;
	if (mode == M_KW || mode == M_KWP)
		return &wrap_ops;
	return &block_ops;
}

/* An AES secret key of a size AES has. */
static CK_RV
check_key (const lh_key *key)
{
	if (!key || key->cls != CKO_SECRET_KEY || key->kt != CKK_AES)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (!key->value || (key->value_len != 16 && key->value_len != 24 &&
	                    key->value_len != 32))
		return CKR_KEY_SIZE_RANGE;
	return CKR_OK;
}

/*
 * family->op_init.  The key's bytes go into the EVP context here; the op
 * keeps no pointer to key (op->key is left to the fn layer).
 */
static CK_RV
aes_op_init (const lh_mech *m, const CK_MECHANISM *p, lh_key *key,
             lh_op_kind kind, lh_op **out)
{
	aes_op *a = NULL;
	aes_mode mode;
	CK_RV rv;

	if ((kind != LH_OP_ENCRYPT && kind != LH_OP_DECRYPT) ||
	    !mode_of (m->type, &mode))
		return CKR_MECHANISM_INVALID;
	if ((rv = check_key (key)) != CKR_OK)
		return rv;
	rv = CKR_HOST_MEMORY;
	if (!(a = calloc (1, sizeof *a)) || !(a->ctx = EVP_CIPHER_CTX_new ()))
		goto out;
	a->head.ops = ops_of (mode);
	a->head.mech = m;
	a->head.kind = kind;
	a->mode = mode;
	a->enc = kind == LH_OP_ENCRYPT;
	if ((rv = init_mode (a, p, key)) != CKR_OK)
		goto out;
	*out = &a->head;
	a = NULL;
	rv = CKR_OK;
out:
	if (a)
		aes_free (&a->head);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Key generation                                                      */

/*
 * family->generate: CKA_VALUE_LEN from the template says how long; the
 * value comes from the private DRBG of our library context.
 *   CKR_TEMPLATE_INCOMPLETE  no CKA_VALUE_LEN (SPEC: required for both
 *                            CKM_AES_KEY_GEN and CKM_GENERIC_SECRET_KEY_GEN)
 *   CKR_ATTRIBUTE_VALUE_INVALID  CKA_VALUE_LEN not a CK_ULONG
 *   CKR_KEY_SIZE_RANGE       AES not 16/24/32, generic not 1..512
 *   CKR_TEMPLATE_INCONSISTENT  a CKA_KEY_TYPE the mechanism does not make
 */
static CK_RV
aes_generate (const lh_mech *m, const CK_MECHANISM *p, lh_attrs *key)
{
	uint8_t value[GENERIC_MAX];
	CK_ULONG len, kt;
	CK_RV rv;

	if (p->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	if (lh_attrs_ulong (key, CKA_KEY_TYPE, &kt) && kt != m->key_type)
		return CKR_TEMPLATE_INCONSISTENT;
	if (!lh_attrs_ulong (key, CKA_VALUE_LEN, &len))
		return lh_attrs_get (key, CKA_VALUE_LEN) ?
		       CKR_ATTRIBUTE_VALUE_INVALID : CKR_TEMPLATE_INCOMPLETE;
	if (m->type == CKM_AES_KEY_GEN) {
		if (len != 16 && len != 24 && len != 32)
			return CKR_KEY_SIZE_RANGE;
	} else if (m->type == CKM_GENERIC_SECRET_KEY_GEN) {
		if (len < 1 || len > GENERIC_MAX)
			return CKR_KEY_SIZE_RANGE;
	} else {
		return CKR_MECHANISM_INVALID;
	}
	if (RAND_priv_bytes_ex (lh_g.libctx, value, (size_t)len, 0) != 1)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	rv = lh_attrs_add (key, CKA_VALUE, value, (size_t)len);
	OPENSSL_cleanse (value, sizeof value);
	if (rv == CKR_OK)
		rv = lh_attrs_add_ulong (key, CKA_VALUE_LEN, len);
	return rv;
}

const lh_family lh_aes_family = {
	.op_init = aes_op_init,
	.generate = aes_generate,
};
