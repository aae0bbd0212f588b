/*
 * mech_rsa.c - the RSA family: CKK_RSA keys and the mechanisms of PKCS#11
 * 2.40 mechanisms spec section 2.1 that the table in mech.c gives us:
 *
 *   CKM_RSA_PKCS_KEY_PAIR_GEN          C_GenerateKeyPair
 *   CKM_RSA_PKCS                       PKCS#1 v1.5 sign/verify of a raw
 *                                      input (a DigestInfo), encrypt/decrypt
 *   CKM_RSA_X_509                      raw RSA, input left-padded to k bytes
 *   CKM_SHA{1,224,256,384,512}_RSA_PKCS         hash, then PKCS#1 v1.5
 *   CKM_RSA_PKCS_PSS                   PSS over a hash the caller made
 *   CKM_SHA{1,224,256,384,512}_RSA_PKCS_PSS     hash, then PSS
 *   CKM_RSA_PKCS_OAEP                  encrypt/decrypt, and so wrap/unwrap
 *
 * plus what key.c, fn_object.c and fn_keymgmt.c need per key type: the
 * EVP_PKEY of a key from its attributes (lh_rsa_pkey), the check of an
 * imported key (lh_rsa_import) and the attributes of an OpenSSL key
 * (lh_rsa_attrs).
 *
 * Decisions (the spec leaves them open):
 *   - Import accepts moduli of 1024..8192 bits; the mechanisms take the
 *     table's 2048..8192 and answer CKR_KEY_SIZE_RANGE otherwise, so a
 *     legacy 1024-bit key can be kept in the token (and is told apart from
 *     a malformed one) but not used.  8192 is the ceiling because the
 *     import check tests the primes, which grows with the cube of their
 *     size.
 *   - A private key must carry CKA_PUBLIC_EXPONENT: OpenSSL's RSA key
 *     needs e, and blinding needs it too (CKR_TEMPLATE_INCOMPLETE).
 *   - CRT: with CKA_PRIME_1 and CKA_PRIME_2 the exponents and coefficient
 *     are used when given and computed when not; without both primes the
 *     key is used as (n, e, d) and any CRT values are ignored.
 *   - The raw mechanisms (CKM_RSA_PKCS, CKM_RSA_X_509, CKM_RSA_PKCS_PSS,
 *     CKM_RSA_PKCS_OAEP) have no update/final: the spec defines them
 *     single-part only.  The fn layer (op.c) then collects the parts of
 *     a multi-part call and hands them to oneshot/verify at final, so the
 *     result is what the single-part call gives, with the same length
 *     rules.
 *   - PKCS#1 v1.5 decryption goes through OpenSSL's own padding check
 *     (constant time; implicit rejection where the OpenSSL version has
 *     it, which then returns a synthetic plaintext instead of an error),
 *     never through RSA_NO_PADDING plus our own parsing.
 *   - Hosts whose OpenSSL has an ENGINE as the default for RSA (openssl
 *     -engine pkcs11, a system openssl.cnf with default_algorithms): in
 *     OpenSSL 3.0 every EVP_PKEY_CTX of a key type with a NID asks the
 *     engine table first, even in our library context.  So keys are made
 *     through a key-management name without a NID (LH_RSA_KEYMGMT), the
 *     import checks are plain BIGNUM arithmetic, and digests are set as
 *     EVP_MD objects (the *_md_name setters fail on legacy contexts).
 *     The operations then run in the engine's legacy method, which hands
 *     keys that are not its own to OpenSSL's built-in RSA.
 *
 * Invariants: every EVP object is made in lh_g.libctx; every OpenSSL
 * failure returns through lh_ossl_rv (nothing left on the error queue);
 * private components live only in secure BIGNUMs and in buffers that are
 * cleansed before they are freed.
 */
#include "pkcs11/lh.h"
#include "pkcs11/mech.h"
#include "pkcs11/object.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define LH_RSA_IMPORT_MIN_BITS 1024
#define LH_RSA_IMPORT_MAX_BITS 8192
#define LH_RSA_DEFAULT_E 65537
#define LH_RSA_MAX_E_BITS 256          /* SP 800-56B: e < 2^256 */
#define LH_RSA_PKCS1_OVERHEAD 11       /* RFC 8017 7.2.1 / 8.2.1: k - 11 */

/*
 * The name we fetch OpenSSL's RSA key management by: rsaEncryption's OID,
 * one of the names the default provider gives it.  Not "RSA": OpenSSL 3.0
 * maps a name it knows as a legacy key type to its NID and then asks the
 * ENGINE table first (int_ctx_new), so in a host that made an engine the
 * default for RSA (openssl -engine pkcs11, i.e. libp11 in front of this
 * very module) our context became the engine's legacy method and
 * EVP_PKEY_fromdata failed.  The OID has no NID by name, so the key
 * management comes from our library context's provider.
 */
#define LH_RSA_KEYMGMT "1.2.840.113549.1.1.1"

/* ------------------------------------------------------------------ */
/* Hashes of the RSA mechanisms                                        */

typedef struct {
	CK_MECHANISM_TYPE hash;        /* CKM_SHA256 ... */
	CK_RSA_PKCS_MGF_TYPE mgf;      /* the matching CKG_MGF1_* */
	size_t len;                    /* digest length */
} rsa_hash;

static const rsa_hash hashes[] = {
	{ CKM_SHA_1,  CKG_MGF1_SHA1,   20 },
	{ CKM_SHA224, CKG_MGF1_SHA224, 28 },
	{ CKM_SHA256, CKG_MGF1_SHA256, 32 },
	{ CKM_SHA384, CKG_MGF1_SHA384, 48 },
	{ CKM_SHA512, CKG_MGF1_SHA512, 64 },
};

static const rsa_hash *
hash_by_mech (CK_MECHANISM_TYPE hash)
{
	size_t i;

	for (i = 0; i < LH_ARRAY_SIZE (hashes); i++)
		if (hashes[i].hash == hash)
			return &hashes[i];
	return NULL;
}

/* The digest name of an MGF1 generator, or NULL if we have no such one. */
static const char *
mgf_name (CK_RSA_PKCS_MGF_TYPE mgf)
{
	size_t i;

	for (i = 0; i < LH_ARRAY_SIZE (hashes); i++)
		if (hashes[i].mgf == mgf)
			return lh_digest_name (hashes[i].hash);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Key components                                                      */

/* The numbers of an RSA key as BIGNUMs; NULL where absent. */
typedef struct {
	BIGNUM *n, *e;                 /* public */
	BIGNUM *d, *p, *q, *dp, *dq, *qinv;   /* private: secure, cleansed */
} rsa_parts;

static void
parts_free (rsa_parts *r)
{
	BN_free (r->n);
	BN_free (r->e);
	BN_clear_free (r->d);
	BN_clear_free (r->p);
	BN_clear_free (r->q);
	BN_clear_free (r->dp);
	BN_clear_free (r->dq);
	BN_clear_free (r->qinv);
	memset (r, 0, sizeof *r);
}

/*
 * The attribute as a BIGNUM in *out; *out stays NULL when the attribute
 * is absent, empty (a default the template layer filled) or sealed and
 * unavailable.  secret: a secure, constant-time BIGNUM.
 */
static CK_RV
attr_bn (const lh_attrs *a, CK_ATTRIBUTE_TYPE type, bool secret, BIGNUM **out)
{
	const lh_sattr *s = lh_attrs_get (a, type);
	BIGNUM *bn;

	*out = NULL;
	if (!s || !s->value || s->len == 0 || s->len > INT_MAX ||
	    (s->flags & LH_SATTR_UNAVAILABLE))
		return CKR_OK;
	bn = secret ? BN_secure_new () : BN_new ();
	if (!bn || !BN_bin2bn (s->value, (int)s->len, bn)) {
		BN_clear_free (bn);
		return lh_ossl_rv (CKR_HOST_MEMORY);
	}
	if (secret)
		BN_set_flags (bn, BN_FLG_CONSTTIME);
	*out = bn;
	return CKR_OK;
}

/*
 * Fill in the CRT exponents and coefficient from p, q and d when the
 * attributes left them out (RFC 8017 3.2): dp = d mod (p-1),
 * dq = d mod (q-1), qinv = q^-1 mod p.
 */
static CK_RV
parts_complete_crt (rsa_parts *r)
{
	BN_CTX *ctx = NULL;
	BIGNUM *t;
	CK_RV rv = CKR_HOST_MEMORY;

	if (r->dp && r->dq && r->qinv)
		return CKR_OK;
	BN_clear_free (r->dp);
	BN_clear_free (r->dq);
	BN_clear_free (r->qinv);
	r->dp = BN_secure_new ();
	r->dq = BN_secure_new ();
	r->qinv = BN_secure_new ();
	if (!r->dp || !r->dq || !r->qinv ||
	    !(ctx = BN_CTX_secure_new_ex (lh_g.libctx)))
		goto out;
	BN_CTX_start (ctx);
	if (!(t = BN_CTX_get (ctx)))
		goto out_end;
	BN_set_flags (t, BN_FLG_CONSTTIME);
	rv = CKR_ATTRIBUTE_VALUE_INVALID;
	if (!BN_sub (t, r->p, BN_value_one ()) || !BN_mod (r->dp, r->d, t, ctx) ||
	    !BN_sub (t, r->q, BN_value_one ()) || !BN_mod (r->dq, r->d, t, ctx) ||
	    !BN_mod_inverse (r->qinv, r->q, r->p, ctx))
		goto out_end;
	rv = CKR_OK;
out_end:
	BN_CTX_end (ctx);
out:
	BN_CTX_free (ctx);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/*
 * Read the components of an RSA key from its attributes.
 *   CKR_TEMPLATE_INCOMPLETE  n or e missing, or d for a private key
 *   CKR_ATTRIBUTE_VALUE_INVALID, CKR_HOST_MEMORY
 */
static CK_RV
parts_load (const lh_attrs *a, bool priv, rsa_parts *r)
{
	CK_RV rv;

	memset (r, 0, sizeof *r);
	if ((rv = attr_bn (a, CKA_MODULUS, false, &r->n)) != CKR_OK ||
	    (rv = attr_bn (a, CKA_PUBLIC_EXPONENT, false, &r->e)) != CKR_OK)
		goto fail;
	rv = CKR_TEMPLATE_INCOMPLETE;
	if (!r->n || !r->e)
		goto fail;
	if (!priv)
		return CKR_OK;
	if ((rv = attr_bn (a, CKA_PRIVATE_EXPONENT, true, &r->d)) != CKR_OK ||
	    (rv = attr_bn (a, CKA_PRIME_1, true, &r->p)) != CKR_OK ||
	    (rv = attr_bn (a, CKA_PRIME_2, true, &r->q)) != CKR_OK ||
	    (rv = attr_bn (a, CKA_EXPONENT_1, true, &r->dp)) != CKR_OK ||
	    (rv = attr_bn (a, CKA_EXPONENT_2, true, &r->dq)) != CKR_OK ||
	    (rv = attr_bn (a, CKA_COEFFICIENT, true, &r->qinv)) != CKR_OK)
		goto fail;
	rv = CKR_TEMPLATE_INCOMPLETE;
	if (!r->d)
		goto fail;
	if (!r->p || !r->q) {
		/* without both primes there is no CRT to use */
		BN_clear_free (r->p);
		BN_clear_free (r->q);
		BN_clear_free (r->dp);
		BN_clear_free (r->dq);
		BN_clear_free (r->qinv);
		r->p = r->q = r->dp = r->dq = r->qinv = NULL;
		return CKR_OK;
	}
	if ((rv = parts_complete_crt (r)) != CKR_OK)
		goto fail;
	return CKR_OK;
fail:
	parts_free (r);
	return rv;
}

/* Make the EVP_PKEY (public only, or the key pair) from the numbers. */
static CK_RV
parts_to_pkey (const rsa_parts *r, bool priv, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	CK_RV rv = CKR_HOST_MEMORY;

	if (!(bld = OSSL_PARAM_BLD_new ()) ||
	    !OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_N, r->n) ||
	    !OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_E, r->e))
		goto out;
	if (priv && !OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_D, r->d))
		goto out;
	if (priv && r->p &&
	    (!OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_FACTOR1, r->p) ||
	     !OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_FACTOR2, r->q) ||
	     !OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, r->dp) ||
	     !OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, r->dq) ||
	     !OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, r->qinv)))
		goto out;
	/* secure BIGNUMs go to the builder's secure block, which
	 * OSSL_PARAM_free cleanses */
	if (!(params = OSSL_PARAM_BLD_to_param (bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name (lh_g.libctx, LH_RSA_KEYMGMT, NULL)))
		goto out;
	rv = CKR_ATTRIBUTE_VALUE_INVALID;
	if (EVP_PKEY_fromdata_init (ctx) <= 0 ||
	    EVP_PKEY_fromdata (ctx, &pkey, priv ? EVP_PKEY_KEYPAIR :
	                       EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	*out = pkey;
	rv = CKR_OK;
out:
	EVP_PKEY_CTX_free (ctx);
	OSSL_PARAM_free (params);
	OSSL_PARAM_BLD_free (bld);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/*
 * The EVP_PKEY of a stored key (mech.h).  Missing components make it no
 * usable RSA key of that class: CKR_KEY_TYPE_INCONSISTENT.
 */
CK_RV
lh_rsa_pkey (const lh_attrs *a, CK_OBJECT_CLASS cls, EVP_PKEY **out)
{
	rsa_parts r;
	CK_RV rv;

	if (cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY)
		return CKR_KEY_TYPE_INCONSISTENT;
	rv = parts_load (a, cls == CKO_PRIVATE_KEY, &r);
	if (rv == CKR_TEMPLATE_INCOMPLETE)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (rv != CKR_OK)
		return rv;
	rv = parts_to_pkey (&r, cls == CKO_PRIVATE_KEY, out);
	parts_free (&r);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Import (C_CreateObject)                                             */

/* The plain checks on the numbers that OpenSSL's checks do not make. */
static CK_RV
parts_check_ranges (const rsa_parts *r)
{
	int bits = BN_num_bits (r->n);

	if (bits < LH_RSA_IMPORT_MIN_BITS || bits > LH_RSA_IMPORT_MAX_BITS ||
	    !BN_is_odd (r->n))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	/* RFC 8017 3.1: 3 <= e <= n - 1, and e odd for any useful key */
	if (!BN_is_odd (r->e) || BN_is_one (r->e) || BN_cmp (r->e, r->n) >= 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (r->d && (BN_is_zero (r->d) || BN_is_one (r->d) ||
	             BN_cmp (r->d, r->n) >= 0))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

/*
 * The import checks are BIGNUM arithmetic, not EVP_PKEY_*_check: those
 * run through an EVP_PKEY_CTX, which a host that made an ENGINE its
 * default for RSA turns into the engine's legacy method (see
 * LH_RSA_KEYMGMT), where they are not supported; the token's answer to
 * C_CreateObject must not depend on the host's OpenSSL configuration.
 */

/* The modulus: no factor below 1000 and not a prime (which would make
 * any "private exponent" public knowledge). */
static CK_RV
check_modulus (const rsa_parts *r, BN_CTX *ctx)
{
	BN_ULONG f;

	for (f = 3; f < 1000; f += 2)
		if (BN_mod_word (r->n, f) == 0)
			return CKR_ATTRIBUTE_VALUE_INVALID;
	switch (BN_check_prime (r->n, ctx, NULL)) {
	case 0:
		return CKR_OK;
	case 1:
		return CKR_ATTRIBUTE_VALUE_INVALID;
	default:
		return CKR_HOST_MEMORY;
	}
}

/*
 * d belongs to (n, e): (2^e)^d = 2 mod n, which fails for any other d
 * except with negligible probability.  Made for every private key, with
 * primes or without.
 */
static CK_RV
check_roundtrip (const rsa_parts *r, BN_CTX *ctx)
{
	BIGNUM *c, *m;

	c = BN_CTX_get (ctx);
	m = BN_CTX_get (ctx);
	if (!m || !BN_set_word (m, 2) || !BN_mod_exp (c, m, r->e, r->n, ctx) ||
	    !BN_mod_exp_mont_consttime (m, c, r->d, r->n, ctx, NULL))
		return CKR_HOST_MEMORY;
	return BN_is_word (m, 2) ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
}

/*
 * The CRT values (RFC 8017 3.2): p and q distinct primes with n = pq,
 * d e = 1 mod lcm(p-1, q-1), dp = d mod (p-1), dq = d mod (q-1),
 * qinv q = 1 mod p.
 */
static CK_RV
check_crt (const rsa_parts *r, BN_CTX *ctx)
{
	BIGNUM *p1, *q1, *g, *t;

	p1 = BN_CTX_get (ctx);
	q1 = BN_CTX_get (ctx);
	g = BN_CTX_get (ctx);
	t = BN_CTX_get (ctx);
	if (!t || !BN_sub (p1, r->p, BN_value_one ()) ||
	    !BN_sub (q1, r->q, BN_value_one ()) || !BN_mul (t, r->p, r->q, ctx))
		return CKR_HOST_MEMORY;
	if (BN_cmp (r->p, r->q) == 0 || BN_cmp (t, r->n) != 0 ||
	    BN_check_prime (r->p, ctx, NULL) != 1 ||
	    BN_check_prime (r->q, ctx, NULL) != 1)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	/* lcm = (p-1)(q-1) / gcd(p-1, q-1) */
	if (!BN_gcd (g, p1, q1, ctx) || !BN_mul (t, p1, q1, ctx) ||
	    !BN_div (t, NULL, t, g, ctx) || !BN_mod_mul (g, r->d, r->e, t, ctx))
		return CKR_HOST_MEMORY;
	if (!BN_is_one (g))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (!BN_mod (t, r->d, p1, ctx) || BN_cmp (t, r->dp) != 0 ||
	    !BN_mod (t, r->d, q1, ctx) || BN_cmp (t, r->dq) != 0 ||
	    !BN_mod_mul (t, r->qinv, r->q, r->p, ctx) || !BN_is_one (t))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

static CK_RV
check_parts (const rsa_parts *r, bool priv)
{
	BN_CTX *ctx;
	CK_RV rv;

	if (!(ctx = BN_CTX_secure_new_ex (lh_g.libctx)))
		return lh_ossl_rv (CKR_HOST_MEMORY);
	BN_CTX_start (ctx);
	rv = check_modulus (r, ctx);
	if (rv == CKR_OK && priv)
		rv = check_roundtrip (r, ctx);
	if (rv == CKR_OK && priv && r->p)
		rv = check_crt (r, ctx);
	BN_CTX_end (ctx);
	BN_CTX_free (ctx);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/* DER SubjectPublicKeyInfo of pkey (OPENSSL_free it). */
static CK_RV
spki_der (EVP_PKEY *pkey, unsigned char **der, size_t *len)
{
	int n;

	*der = NULL;
	n = i2d_PUBKEY (pkey, der);
	if (n <= 0)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	*len = (size_t)n;
	return CKR_OK;
}

/*
 * CKA_PUBLIC_KEY_INFO: added when absent or empty (the template layer's
 * default); one the caller gave must be this key's.
 */
static CK_RV
set_spki (lh_attrs *attrs, EVP_PKEY *pkey)
{
	const lh_sattr *s = lh_attrs_get (attrs, CKA_PUBLIC_KEY_INFO);
	unsigned char *der;
	size_t len = 0;
	CK_RV rv;

	if ((rv = spki_der (pkey, &der, &len)) != CKR_OK)
		return rv;
	if (s && s->len != 0)
		rv = s->len == len && memcmp (s->value, der, len) == 0 ?
		     CKR_OK : CKR_TEMPLATE_INCONSISTENT;
	else
		rv = lh_attrs_add (attrs, CKA_PUBLIC_KEY_INFO, der, len);
	OPENSSL_free (der);
	return rv;
}

/*
 * C_CreateObject of an RSA key (mech.h): the numbers must make a key of
 * 1024..8192 bits that passes the checks above (a private key must match
 * its public half), then CKA_PUBLIC_KEY_INFO is added.
 *   CKR_TEMPLATE_INCOMPLETE      n, e or d missing
 *   CKR_ATTRIBUTE_VALUE_INVALID  not a valid key, or a size we refuse
 *   CKR_TEMPLATE_INCONSISTENT    a CKA_PUBLIC_KEY_INFO of another key
 */
CK_RV
lh_rsa_import (lh_attrs *attrs, CK_OBJECT_CLASS cls)
{
	bool priv = cls == CKO_PRIVATE_KEY;
	EVP_PKEY *pkey = NULL;
	rsa_parts r;
	CK_RV rv;

	if (cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY)
		return CKR_TEMPLATE_INCONSISTENT;
	if ((rv = parts_load (attrs, priv, &r)) != CKR_OK)
		return rv;
	if ((rv = parts_check_ranges (&r)) != CKR_OK ||
	    (rv = check_parts (&r, priv)) != CKR_OK ||
	    (rv = parts_to_pkey (&r, priv, &pkey)) != CKR_OK)
		goto out;
	rv = set_spki (attrs, pkey);
out:
	EVP_PKEY_free (pkey);
	parts_free (&r);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Attributes of an OpenSSL key (generation, PKCS#8 unwrap)            */

/*
 * Add the BIGNUM parameter name of pkey as type, big-endian without
 * leading zeros as PKCS#11 wants its "Big integer" attributes.
 * missing: set (not an error) when pkey has no such parameter.
 */
static CK_RV
add_bn_param (lh_attrs *a, CK_ATTRIBUTE_TYPE type, EVP_PKEY *pkey,
              const char *name, bool *missing)
{
	BIGNUM *bn = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	CK_RV rv = CKR_HOST_MEMORY;

	if (!EVP_PKEY_get_bn_param (pkey, name, &bn)) {
		*missing = true;
		return lh_ossl_rv (CKR_OK);
	}
	len = (size_t)BN_num_bytes (bn);
	if (len && !(buf = OPENSSL_secure_malloc (len)))
		goto out;
	if (len && BN_bn2bin (bn, buf) != (int)len) {
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	rv = lh_attrs_add (a, type, buf, len);
out:
	OPENSSL_secure_clear_free (buf, len);
	BN_clear_free (bn);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/* CKA_MODULUS, CKA_PUBLIC_EXPONENT and CKA_PUBLIC_KEY_INFO into a. */
static CK_RV
add_public (lh_attrs *a, EVP_PKEY *pkey)
{
	unsigned char *der;
	bool missing = false;
	size_t len = 0;
	CK_RV rv;

	if ((rv = add_bn_param (a, CKA_MODULUS, pkey, OSSL_PKEY_PARAM_RSA_N,
	                        &missing)) != CKR_OK ||
	    (rv = add_bn_param (a, CKA_PUBLIC_EXPONENT, pkey,
	                        OSSL_PKEY_PARAM_RSA_E, &missing)) != CKR_OK)
		return rv;
	if (missing)
		return CKR_KEY_TYPE_INCONSISTENT;
	if ((rv = spki_der (pkey, &der, &len)) != CKR_OK)
		return rv;
	rv = lh_attrs_add (a, CKA_PUBLIC_KEY_INFO, der, len);
	OPENSSL_free (der);
	return rv;
}

/* The private components into a; CRT ones only for two-prime keys,
 * since PKCS#11 has attributes for two primes only. */
static CK_RV
add_private (lh_attrs *a, EVP_PKEY *pkey)
{
	static const struct {
		CK_ATTRIBUTE_TYPE type;
		const char *name;
	} crt[] = {
		{ CKA_PRIME_1,     OSSL_PKEY_PARAM_RSA_FACTOR1 },
		{ CKA_PRIME_2,     OSSL_PKEY_PARAM_RSA_FACTOR2 },
		{ CKA_EXPONENT_1,  OSSL_PKEY_PARAM_RSA_EXPONENT1 },
		{ CKA_EXPONENT_2,  OSSL_PKEY_PARAM_RSA_EXPONENT2 },
		{ CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
	};
	BIGNUM *third = NULL;
	bool missing = false;
	size_t i;
	CK_RV rv;

	if ((rv = add_bn_param (a, CKA_PRIVATE_EXPONENT, pkey,
	                        OSSL_PKEY_PARAM_RSA_D, &missing)) != CKR_OK)
		return rv;
	if (missing)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_RSA_FACTOR3, &third)) {
		BN_clear_free (third);
		return CKR_OK;       /* multi-prime: (n, e, d) only */
	}
	lh_ossl_rv (CKR_OK);     /* drop the failed look-up from the queue */
	for (i = 0; i < LH_ARRAY_SIZE (crt); i++)
		if ((rv = add_bn_param (a, crt[i].type, pkey, crt[i].name,
		                        &missing)) != CKR_OK)
			return rv;
	return CKR_OK;
}

/*
 * The attributes of an OpenSSL RSA key (mech.h): pub gets CKA_MODULUS,
 * CKA_PUBLIC_EXPONENT, CKA_MODULUS_BITS and CKA_PUBLIC_KEY_INFO; priv the
 * same less CKA_MODULUS_BITS (not a private key attribute) plus the
 * private components.  Either may be NULL.
 */
CK_RV
lh_rsa_attrs (EVP_PKEY *pkey, lh_attrs *pub, lh_attrs *priv)
{
	CK_RV rv;

	if (!EVP_PKEY_is_a (pkey, "RSA"))
		return CKR_KEY_TYPE_INCONSISTENT;
	if (pub) {
		if ((rv = add_public (pub, pkey)) != CKR_OK ||
		    (rv = lh_attrs_add_ulong (pub, CKA_MODULUS_BITS,
		                              (CK_ULONG)EVP_PKEY_get_bits (pkey))) != CKR_OK)
			return rv;
	}
	if (priv) {
		if ((rv = add_public (priv, pkey)) != CKR_OK ||
		    (rv = add_private (priv, pkey)) != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

/* ------------------------------------------------------------------ */
/* Key pair generation                                                 */

/*
 * The public exponent the template asks for, or 65537.  Even, 1 or more
 * than 256 bits: CKR_ATTRIBUTE_VALUE_INVALID.
 */
static CK_RV
keygen_exponent (const lh_attrs *pub, BIGNUM **e)
{
	CK_RV rv;

	if ((rv = attr_bn (pub, CKA_PUBLIC_EXPONENT, false, e)) != CKR_OK)
		return rv;
	if (!*e) {
		if (!(*e = BN_new ()) || !BN_set_word (*e, LH_RSA_DEFAULT_E))
			return lh_ossl_rv (CKR_HOST_MEMORY);
		return CKR_OK;
	}
	if (!BN_is_odd (*e) || BN_is_one (*e) ||
	    BN_num_bits (*e) > LH_RSA_MAX_E_BITS)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

/*
 * C_GenerateKeyPair with CKM_RSA_PKCS_KEY_PAIR_GEN: CKA_MODULUS_BITS
 * (required) and CKA_PUBLIC_EXPONENT (optional) come from the public
 * template; both halves get the key material.
 *   CKR_TEMPLATE_INCOMPLETE, CKR_KEY_SIZE_RANGE,
 *   CKR_ATTRIBUTE_VALUE_INVALID, CKR_MECHANISM_PARAM_INVALID
 */
static CK_RV
rsa_generate_pair (const lh_mech *m, const CK_MECHANISM *p, lh_attrs *pub,
                   lh_attrs *priv)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *e = NULL;
	CK_ULONG bits;
	CK_RV rv;

	if (p->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	/* SPEC: 2.1.4: CKA_MODULUS_BITS must be in the public template */
	if (!lh_attrs_get (pub, CKA_MODULUS_BITS))
		return CKR_TEMPLATE_INCOMPLETE;
	if (!lh_attrs_ulong (pub, CKA_MODULUS_BITS, &bits))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (bits < m->min_key || bits > m->max_key)
		return CKR_KEY_SIZE_RANGE;
	if ((rv = keygen_exponent (pub, &e)) != CKR_OK)
		goto out;
	rv = CKR_HOST_MEMORY;
	if (!(ctx = EVP_PKEY_CTX_new_from_name (lh_g.libctx, LH_RSA_KEYMGMT, NULL)))
		goto out;
	rv = CKR_FUNCTION_FAILED;
	if (EVP_PKEY_keygen_init (ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits (ctx, (int)bits) <= 0 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp (ctx, e) <= 0 ||
	    EVP_PKEY_generate (ctx, &pkey) <= 0)
		goto out;
	rv = lh_rsa_attrs (pkey, pub, priv);
out:
	EVP_PKEY_free (pkey);
	EVP_PKEY_CTX_free (ctx);
	BN_free (e);
	return rv == CKR_OK ? rv : lh_ossl_rv (rv);
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */

typedef struct {
	lh_op head;
	EVP_PKEY_CTX *pctx;            /* raw mechanisms: sign/verify/enc/dec */
	EVP_MD_CTX *mdctx;             /* hashed mechanisms */
	EVP_PKEY *pkey;                /* borrowed from head.key (op_init:
	                                  from the key argument) */
	EVP_MD *md, *mgf_md;           /* PSS/OAEP digests set on pctx */
	size_t k;                      /* modulus length in bytes */
	size_t in_max;                 /* encrypt/sign input bound */
	size_t in_exact;               /* PSS: the hash length; 0: none */
	bool x509;                     /* CKM_RSA_X_509: pad input to k */
} rsa_op;

static size_t
rsa_out_len (lh_op *op, size_t in_len, bool final)
{
	(void)in_len;
	(void)final;
	return ((rsa_op *)op)->k;
}

static void
rsa_free (lh_op *op)
{
	rsa_op *r = (rsa_op *)op;

	EVP_PKEY_CTX_free (r->pctx);
	EVP_MD_CTX_free (r->mdctx);
	EVP_MD_free (r->md);
	EVP_MD_free (r->mgf_md);
	OPENSSL_cleanse (r, sizeof *r);
	free (r);
}

/*
 * CKM_RSA_X_509 takes up to k bytes, read as a number: left-pad to the k
 * bytes OpenSSL's RSA_NO_PADDING wants.  *buf is a cleansed-on-free copy.
 */
static CK_RV
x509_block (const rsa_op *r, const uint8_t *in, size_t in_len, uint8_t **buf)
{
	if (!(*buf = OPENSSL_zalloc (r->k)))
		return CKR_HOST_MEMORY;
	memcpy (*buf + r->k - in_len, in, in_len);
	return CKR_OK;
}

/* Input length rules of sign, verify and encrypt. */
static CK_RV
check_in_len (const rsa_op *r, size_t in_len)
{
	if (r->in_exact && in_len != r->in_exact)
		return CKR_DATA_LEN_RANGE;
	if (in_len > r->in_max)
		return CKR_DATA_LEN_RANGE;
	return CKR_OK;
}

/* Sign, encrypt or decrypt in one go with the raw mechanisms. */
static CK_RV
raw_oneshot (lh_op *op, const uint8_t *in, size_t in_len, uint8_t *out,
             size_t *out_len)
{
	rsa_op *r = (rsa_op *)op;
	uint8_t *block = NULL;
	size_t n = *out_len;
	int ok;
	CK_RV rv;

	if (op->kind == LH_OP_DECRYPT) {
		/* SPEC: 2.1.6, 2.1.8, 2.1.12: the ciphertext is exactly k bytes */
		if (in_len != r->k)
			return CKR_ENCRYPTED_DATA_LEN_RANGE;
		if (EVP_PKEY_decrypt (r->pctx, out, &n, in, in_len) <= 0)
			return lh_ossl_rv (CKR_ENCRYPTED_DATA_INVALID);
		*out_len = n;
		return CKR_OK;
	}
	if ((rv = check_in_len (r, in_len)) != CKR_OK)
		return rv;
	if (r->x509) {
		if ((rv = x509_block (r, in, in_len, &block)) != CKR_OK)
			return rv;
		in = block;
		in_len = r->k;
	}
	if (op->kind == LH_OP_SIGN)
		ok = EVP_PKEY_sign (r->pctx, out, &n, in, in_len);
	else
		ok = EVP_PKEY_encrypt (r->pctx, out, &n, in, in_len);
	OPENSSL_clear_free (block, r->k);
	/* the lengths were checked: what is left is an X.509 input >= n */
	if (ok <= 0)
		return lh_ossl_rv (r->x509 ? CKR_DATA_INVALID : CKR_FUNCTION_FAILED);
	*out_len = n;
	return CKR_OK;
}

static CK_RV
raw_verify (lh_op *op, const uint8_t *in, size_t in_len, const uint8_t *sig,
            size_t sig_len)
{
	rsa_op *r = (rsa_op *)op;
	uint8_t *block = NULL;
	int ok;
	CK_RV rv;

	if ((rv = check_in_len (r, in_len)) != CKR_OK)
		return rv;
	/* SPEC: 2.1.6, 2.1.10, 2.1.12: a signature is exactly k bytes */
	if (sig_len != r->k)
		return CKR_SIGNATURE_LEN_RANGE;
	if (r->x509) {
		if ((rv = x509_block (r, in, in_len, &block)) != CKR_OK)
			return rv;
		in = block;
		in_len = r->k;
	}
	ok = EVP_PKEY_verify (r->pctx, sig, sig_len, in, in_len);
	OPENSSL_clear_free (block, r->k);
	return ok == 1 ? CKR_OK : lh_ossl_rv (CKR_SIGNATURE_INVALID);
}

static CK_RV
hash_oneshot (lh_op *op, const uint8_t *in, size_t in_len, uint8_t *out,
              size_t *out_len)
{
	rsa_op *r = (rsa_op *)op;
	size_t n = *out_len;

	if (EVP_DigestSign (r->mdctx, out, &n, in, in_len) <= 0)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	*out_len = n;
	return CKR_OK;
}

static CK_RV
hash_update (lh_op *op, const uint8_t *in, size_t in_len, uint8_t *out,
             size_t *out_len)
{
	rsa_op *r = (rsa_op *)op;
	int ok;

	(void)out;
	if (out_len)
		*out_len = 0;
	if (op->kind == LH_OP_SIGN)
		ok = EVP_DigestSignUpdate (r->mdctx, in, in_len);
	else
		ok = EVP_DigestVerifyUpdate (r->mdctx, in, in_len);
	return ok == 1 ? CKR_OK : lh_ossl_rv (CKR_FUNCTION_FAILED);
}

static CK_RV
hash_final (lh_op *op, uint8_t *out, size_t *out_len)
{
	rsa_op *r = (rsa_op *)op;
	size_t n = *out_len;

	if (EVP_DigestSignFinal (r->mdctx, out, &n) <= 0)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	*out_len = n;
	return CKR_OK;
}

static CK_RV
hash_verify_final (lh_op *op, const uint8_t *sig, size_t sig_len)
{
	rsa_op *r = (rsa_op *)op;

	if (sig_len != r->k)
		return CKR_SIGNATURE_LEN_RANGE;
	if (EVP_DigestVerifyFinal (r->mdctx, sig, sig_len) != 1)
		return lh_ossl_rv (CKR_SIGNATURE_INVALID);
	return CKR_OK;
}

static CK_RV
hash_verify (lh_op *op, const uint8_t *in, size_t in_len, const uint8_t *sig,
             size_t sig_len)
{
	rsa_op *r = (rsa_op *)op;

	if (sig_len != r->k)
		return CKR_SIGNATURE_LEN_RANGE;
	if (EVP_DigestVerify (r->mdctx, sig, sig_len, in, in_len) != 1)
		return lh_ossl_rv (CKR_SIGNATURE_INVALID);
	return CKR_OK;
}

/* Single-part only: the spec gives these mechanisms no multi-part form. */
static const lh_op_ops raw_ops = {
	.out_len = rsa_out_len,
	.oneshot = raw_oneshot,
	.verify = raw_verify,
	.free = rsa_free,
};

static const lh_op_ops hash_ops = {
	.out_len = rsa_out_len,
	.oneshot = hash_oneshot,
	.update = hash_update,
	.final = hash_final,
	.verify = hash_verify,
	.verify_final = hash_verify_final,
	.free = rsa_free,
};

/* ------------------------------------------------------------------ */
/* Mechanism parameters                                                */

/*
 * The PSS parameter: hashAlg one of ours (and the mechanism's own hash
 * for the hashed variants), an MGF1 we know, and a salt that fits the
 * modulus (RFC 8017 9.1.1: emLen >= hLen + sLen + 2).
 */
static CK_RV
pss_param (const lh_mech *m, const CK_MECHANISM *p, const rsa_op *r,
           const rsa_hash **hash, const char **mgf, int *slen)
{
	const CK_RSA_PKCS_PSS_PARAMS *pp = p->pParameter;
	size_t em_len;
	int bits = EVP_PKEY_get_bits (r->pkey);

	if (!pp || p->ulParameterLen != sizeof *pp)
		return CKR_MECHANISM_PARAM_INVALID;
	if (!(*hash = hash_by_mech (pp->hashAlg)) || !(*mgf = mgf_name (pp->mgf)))
		return CKR_MECHANISM_PARAM_INVALID;
	/* SPEC: 2.1.16, 2.1.17: a hashed PSS mechanism's hashAlg is its hash */
	if (m->arg && pp->hashAlg != m->arg)
		return CKR_MECHANISM_PARAM_INVALID;
	em_len = ((size_t)bits - 1 + 7) / 8;
	if (pp->sLen > INT_MAX || em_len < (*hash)->len + 2 ||
	    pp->sLen > em_len - (*hash)->len - 2)
		return CKR_MECHANISM_PARAM_INVALID;
	*slen = (int)pp->sLen;
	return CKR_OK;
}

/*
 * Fetch digest name from our library context into *md (kept by the op:
 * a legacy context keeps the bare pointer).  Digests are set on contexts
 * as EVP_MD objects, never through the *_md_name calls, which fail on a
 * context that a host's default ENGINE made legacy (see LH_RSA_KEYMGMT).
 */
static CK_RV
fetch_md (const char *name, EVP_MD **md)
{
	if (!(*md = EVP_MD_fetch (lh_g.libctx, name, NULL)))
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	return CKR_OK;
}

/* PSS settings on ctx (padding first: the rest needs it). */
static CK_RV
pss_setup (rsa_op *r, EVP_PKEY_CTX *ctx, const char *mgf, int slen)
{
	CK_RV rv;

	if ((rv = fetch_md (mgf, &r->mgf_md)) != CKR_OK)
		return rv;
	if (EVP_PKEY_CTX_set_rsa_padding (ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md (ctx, r->mgf_md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen (ctx, slen) <= 0)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	return CKR_OK;
}

/*
 * The OAEP parameter: hashAlg and MGF1 of SHA-1/SHA-2, source
 * CKZ_DATA_SPECIFIED with an optional label.  source 0 with no label is
 * accepted too: some clients send a zeroed structure for "no label".
 * The label goes to ctx; the maximum input length to r.
 */
static CK_RV
oaep_setup (const CK_MECHANISM *p, rsa_op *r)
{
	const CK_RSA_PKCS_OAEP_PARAMS *oa = p->pParameter;
	const rsa_hash *h;
	const char *mgf;
	unsigned char *label = NULL;
	CK_RV rv;

	if (!oa || p->ulParameterLen != sizeof *oa)
		return CKR_MECHANISM_PARAM_INVALID;
	if (!(h = hash_by_mech (oa->hashAlg)) || !(mgf = mgf_name (oa->mgf)))
		return CKR_MECHANISM_PARAM_INVALID;
	if (oa->source != CKZ_DATA_SPECIFIED &&
	    !(oa->source == 0 && oa->ulSourceDataLen == 0))
		return CKR_MECHANISM_PARAM_INVALID;
	if ((oa->ulSourceDataLen && !oa->pSourceData) ||
	    oa->ulSourceDataLen > INT_MAX)
		return CKR_MECHANISM_PARAM_INVALID;
	/* RFC 8017 7.1.1: mLen <= k - 2hLen - 2 */
	if (r->k < 2 * h->len + 2)
		return CKR_KEY_SIZE_RANGE;
	r->in_max = r->k - 2 * h->len - 2;
	if ((rv = fetch_md (lh_digest_name (h->hash), &r->md)) != CKR_OK ||
	    (rv = fetch_md (mgf, &r->mgf_md)) != CKR_OK)
		return rv;
	if (oa->ulSourceDataLen &&
	    !(label = OPENSSL_memdup (oa->pSourceData, oa->ulSourceDataLen)))
		return CKR_HOST_MEMORY;
	if (EVP_PKEY_CTX_set_rsa_padding (r->pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md (r->pctx, r->md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md (r->pctx, r->mgf_md) <= 0 ||
	    (label && EVP_PKEY_CTX_set0_rsa_oaep_label (r->pctx, label,
	                                                (int)oa->ulSourceDataLen) <= 0)) {
		OPENSSL_free (label);
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	}
	return CKR_OK;
}

/* ------------------------------------------------------------------ */
/* op_init                                                             */

static bool
is_pss (CK_MECHANISM_TYPE type)
{
	switch (type) {
	case CKM_RSA_PKCS_PSS:
	case CKM_SHA1_RSA_PKCS_PSS:
	case CKM_SHA224_RSA_PKCS_PSS:
	case CKM_SHA256_RSA_PKCS_PSS:
	case CKM_SHA384_RSA_PKCS_PSS:
	case CKM_SHA512_RSA_PKCS_PSS:
		return true;
	default:
		return false;
	}
}

/* Key type, class for the operation kind, and size. */
static CK_RV
check_key (const lh_mech *m, const lh_key *key, lh_op_kind kind)
{
	CK_OBJECT_CLASS want;
	int bits;

	if (!key || key->kt != CKK_RSA || !key->pkey)
		return CKR_KEY_TYPE_INCONSISTENT;
	switch (kind) {
	case LH_OP_SIGN:
	case LH_OP_DECRYPT:
		want = CKO_PRIVATE_KEY;
		break;
	case LH_OP_VERIFY:
	case LH_OP_ENCRYPT:
		want = CKO_PUBLIC_KEY;
		break;
	default:
		return CKR_MECHANISM_INVALID;
	}
	if (key->cls != want)
		return CKR_KEY_TYPE_INCONSISTENT;
	bits = EVP_PKEY_get_bits (key->pkey);
	if (bits <= 0 || (CK_ULONG)bits < m->min_key || (CK_ULONG)bits > m->max_key)
		return CKR_KEY_SIZE_RANGE;
	return CKR_OK;
}

/* The raw PKEY context for the kind, initialized. */
static CK_RV
raw_ctx (rsa_op *r)
{
	int ok;

	if (!(r->pctx = EVP_PKEY_CTX_new_from_pkey (lh_g.libctx, r->pkey, NULL)))
		return lh_ossl_rv (CKR_HOST_MEMORY);
	switch (r->head.kind) {
	case LH_OP_SIGN:    ok = EVP_PKEY_sign_init (r->pctx); break;
	case LH_OP_VERIFY:  ok = EVP_PKEY_verify_init (r->pctx); break;
	case LH_OP_ENCRYPT: ok = EVP_PKEY_encrypt_init (r->pctx); break;
	default:            ok = EVP_PKEY_decrypt_init (r->pctx); break;
	}
	return ok > 0 ? CKR_OK : lh_ossl_rv (CKR_FUNCTION_FAILED);
}

/* CKM_RSA_PKCS and CKM_RSA_X_509: sign, verify, encrypt, decrypt. */
static CK_RV
init_raw (const CK_MECHANISM *p, rsa_op *r)
{
	bool x509 = p->mechanism == CKM_RSA_X_509;
	CK_RV rv;

	if (p->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	if ((rv = raw_ctx (r)) != CKR_OK)
		return rv;
	r->x509 = x509;
	/* SPEC: 2.1.6: PKCS#1 v1.5 input is at most k - 11 bytes */
	r->in_max = x509 ? r->k : r->k - LH_RSA_PKCS1_OVERHEAD;
	if (EVP_PKEY_CTX_set_rsa_padding (r->pctx, x509 ? RSA_NO_PADDING :
	                                  RSA_PKCS1_PADDING) <= 0)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	return CKR_OK;
}

/* CKM_RSA_PKCS_PSS: the input is a hash of hashAlg, exactly (SPEC:
 * 2.1.10, enforced by check_in_len through in_exact). */
static CK_RV
init_pss (const lh_mech *m, const CK_MECHANISM *p, rsa_op *r)
{
	const rsa_hash *h;
	const char *mgf;
	int slen;
	CK_RV rv;

	if ((rv = pss_param (m, p, r, &h, &mgf, &slen)) != CKR_OK ||
	    (rv = raw_ctx (r)) != CKR_OK ||
	    (rv = pss_setup (r, r->pctx, mgf, slen)) != CKR_OK ||
	    (rv = fetch_md (lh_digest_name (h->hash), &r->md)) != CKR_OK)
		return rv;
	r->in_exact = r->in_max = h->len;
	if (EVP_PKEY_CTX_set_signature_md (r->pctx, r->md) <= 0)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	return CKR_OK;
}

/* CKM_SHA*_RSA_PKCS and CKM_SHA*_RSA_PKCS_PSS: EVP_DigestSign/Verify. */
static CK_RV
init_hashed (const lh_mech *m, const CK_MECHANISM *p, rsa_op *r, bool pss)
{
	EVP_PKEY_CTX *pctx = NULL;     /* owned by mdctx */
	const rsa_hash *h;
	const char *mgf = NULL;
	int slen = 0, ok;
	CK_RV rv;

	if (pss && (rv = pss_param (m, p, r, &h, &mgf, &slen)) != CKR_OK)
		return rv;
	if (!pss && p->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	if (!(r->mdctx = EVP_MD_CTX_new ()))
		return CKR_HOST_MEMORY;
	if (r->head.kind == LH_OP_SIGN)
		ok = EVP_DigestSignInit_ex (r->mdctx, &pctx, lh_digest_name (m->arg),
		                            lh_g.libctx, NULL, r->pkey, NULL);
	else
		ok = EVP_DigestVerifyInit_ex (r->mdctx, &pctx, lh_digest_name (m->arg),
		                              lh_g.libctx, NULL, r->pkey, NULL);
	if (ok <= 0)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	if (pss)
		return pss_setup (r, pctx, mgf, slen);
	if (EVP_PKEY_CTX_set_rsa_padding (pctx, RSA_PKCS1_PADDING) <= 0)
		return lh_ossl_rv (CKR_FUNCTION_FAILED);
	return CKR_OK;
}

/*
 * Start an operation.  Sign and decrypt take a private key, verify and
 * encrypt a public key (CKR_KEY_TYPE_INCONSISTENT otherwise: a private
 * key object is not used to verify); the key size must be in the
 * mechanism's range (CKR_KEY_SIZE_RANGE).  The caller fills head.mech,
 * head.kind and head.key (with its own reference) after we return; the
 * contexts made here hold their own reference on the EVP_PKEY.
 */
static CK_RV
rsa_op_init (const lh_mech *m, const CK_MECHANISM *p, lh_key *key,
             lh_op_kind kind, lh_op **out)
{
	rsa_op *r;
	CK_RV rv;

	if ((rv = check_key (m, key, kind)) != CKR_OK)
		return rv;
	if (!(r = calloc (1, sizeof *r)))
		return CKR_HOST_MEMORY;
	r->head.mech = m;
	r->head.kind = kind;
	r->pkey = key->pkey;
	r->head.ops = m->arg ? &hash_ops : &raw_ops;
	r->k = (size_t)EVP_PKEY_get_size (key->pkey);
	switch (p->mechanism) {
	case CKM_RSA_PKCS:
	case CKM_RSA_X_509:
		rv = init_raw (p, r);
		break;
	case CKM_RSA_PKCS_PSS:
		rv = kind == LH_OP_SIGN || kind == LH_OP_VERIFY ?
		     init_pss (m, p, r) : CKR_MECHANISM_INVALID;
		break;
	case CKM_RSA_PKCS_OAEP:
		rv = kind == LH_OP_ENCRYPT || kind == LH_OP_DECRYPT ?
		     raw_ctx (r) : CKR_MECHANISM_INVALID;
		if (rv == CKR_OK)
			rv = oaep_setup (p, r);
		break;
	default:
		if (!m->arg || (kind != LH_OP_SIGN && kind != LH_OP_VERIFY))
			rv = CKR_MECHANISM_INVALID;
		else
			rv = init_hashed (m, p, r, is_pss (m->type));
		break;
	}
	if (rv != CKR_OK) {
		rsa_free (&r->head);
		return rv;
	}
	*out = &r->head;
	return CKR_OK;
}

const lh_family lh_rsa_family = {
	.op_init = rsa_op_init,
	.generate_pair = rsa_generate_pair,
};
