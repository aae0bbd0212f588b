/*
 * pki_x509.c - signing certificates and CRLs with a key that stays in the
 * token, and the names that go into certificates (pki.h): --oid subject
 * lists and subjectAltName lists.
 *
 * OpenSSL builds the certificate; the token signs it.  OpenSSL has no
 * hook for "sign these bytes elsewhere" short of an engine or provider,
 * so signing is done in three steps:
 *
 *   1. X509_sign with a throwaway software key of the same algorithm
 *      (and digest) writes the AlgorithmIdentifier into both places it
 *      belongs (the TBS part and the outer signatureAlgorithm) and fixes
 *      the encoding of the TBS part;
 *   2. i2d_re_X509_tbs gives those TBS bytes, which the token signs with
 *      C_Sign (ECDSA signatures come back as r||s and are re-encoded as
 *      the DER ECDSA-Sig-Value X.509 wants);
 *   3. SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature } is
 *      assembled here, parsed back with d2i_X509 and verified against the
 *      key's public half, and the signature is put into the caller's X509
 *      in place of the throwaway one.
 *
 * Modules that lack the hash-and-sign mechanisms (CKM_ECDSA_SHA256,
 * CKM_SHA256_RSA_PKCS: SoftHSM2 among them for ECDSA) get the digest
 * computed here and signed with CKM_ECDSA or CKM_RSA_PKCS over a
 * DigestInfo, as C_SignInit's CKR_MECHANISM_INVALID tells.
 */
#include "tools/pki.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>

/* ---- the signature algorithm of a key ------------------------------------ */

typedef struct {
	CK_MECHANISM_TYPE mech;     /* hash-and-sign in the token */
	CK_MECHANISM_TYPE raw;      /* sign a digest made here, or 0 */
	const EVP_MD *md;           /* NULL for EdDSA */
	int type;                   /* EVP_PKEY_RSA, _EC, _ED25519, _ED448 */
	char group[32];             /* EC: the curve, for the throwaway key */
} sig_alg;

static int
choose_alg (lh_tool *t, const lh_tkey *k, sig_alg *a)
{
	memset (a, 0, sizeof *a);
	a->type = EVP_PKEY_get_base_id (k->pkey);
	switch (a->type) {
	case EVP_PKEY_RSA:
		a->mech = CKM_SHA256_RSA_PKCS;
		a->raw = CKM_RSA_PKCS;
		a->md = EVP_sha256 ();
		return LH_EXIT_OK;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param (k->pkey,
		                                     OSSL_PKEY_PARAM_GROUP_NAME,
		                                     a->group, sizeof a->group,
		                                     NULL))
			break;
		/* the digest matches the curve's strength (RFC 5480 4) */
		a->raw = CKM_ECDSA;
		if (EVP_PKEY_get_bits (k->pkey) <= 256) {
			a->mech = CKM_ECDSA_SHA256;
			a->md = EVP_sha256 ();
		} else if (EVP_PKEY_get_bits (k->pkey) <= 384) {
			a->mech = CKM_ECDSA_SHA384;
			a->md = EVP_sha384 ();
		} else {
			a->mech = CKM_ECDSA_SHA512;
			a->md = EVP_sha512 ();
		}
		return LH_EXIT_OK;
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		a->mech = CKM_EDDSA;
		return LH_EXIT_OK;
	default:
		break;
	}
	return lh_error (t, LH_EXIT_FAIL, "use an RSA, EC or Ed25519 key",
	                 "key \"%s\" is of a kind that cannot sign certificates",
	                 k->label);
}

/* A software key of the same algorithm, only to make OpenSSL write the
 * AlgorithmIdentifier; its signature is thrown away.  RSA: any size
 * gives the same identifier, so a small one keeps this fast. */
static EVP_PKEY *
throwaway_key (const sig_alg *a)
{
	switch (a->type) {
	case EVP_PKEY_RSA:
		return EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t)1024);
	case EVP_PKEY_EC:
		return EVP_PKEY_Q_keygen (NULL, NULL, "EC", a->group);
	case EVP_PKEY_ED25519:
		return EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");
	default:
		return EVP_PKEY_Q_keygen (NULL, NULL, "ED448");
	}
}

/* ---- C_Sign -------------------------------------------------------------- */

/* DigestInfo prefix of SHA-256 (RFC 8017 9.2 note 1). */
static const unsigned char sha256_info[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};

/* C_SignInit + C_Sign of data with mechanism m; *sig malloc'd. */
static CK_RV
p11_sign (lh_secret_ctx *c, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE m,
          const unsigned char *data, size_t len, unsigned char **sig,
          CK_ULONG *siglen)
{
	CK_MECHANISM mech = { m, NULL, 0 };
	CK_RV rv;

	*sig = NULL;
	if ((rv = c->f->C_SignInit (c->h, &mech, key)) != CKR_OK)
		return rv;
	/* SPEC: C_Sign: a NULL buffer asks for the length and keeps the
	 * operation going */
	rv = c->f->C_Sign (c->h, (CK_BYTE_PTR)data, len, NULL, siglen);
	if (rv != CKR_OK)
		return rv;
	if (!(*sig = malloc (*siglen ? *siglen : 1))) {
		c->f->C_SignInit (c->h, NULL, key);
		return CKR_HOST_MEMORY;
	}
	rv = c->f->C_Sign (c->h, (CK_BYTE_PTR)data, len, *sig, siglen);
	if (rv != CKR_OK) {
		free (*sig);
		*sig = NULL;
	}
	return rv;
}

/* The digest, prefixed with its DigestInfo for CKM_RSA_PKCS. */
static bool
prehash (const sig_alg *a, const unsigned char *data, size_t len,
         unsigned char *out, size_t *out_len)
{
	unsigned int n;
	size_t pre = 0;

	if (a->type == EVP_PKEY_RSA) {
		memcpy (out, sha256_info, sizeof sha256_info);
		pre = sizeof sha256_info;
	}
	if (!EVP_Digest (data, len, out + pre, &n, a->md, NULL))
		return false;
	*out_len = pre + n;
	return true;
}

/* r||s (each half the length) as a DER ECDSA-Sig-Value. */
static bool
ecdsa_der (unsigned char **sig, CK_ULONG *len)
{
	ECDSA_SIG *es = ECDSA_SIG_new ();
	BIGNUM *r = BN_bin2bn (*sig, (int)(*len / 2), NULL);
	BIGNUM *s = BN_bin2bn (*sig + *len / 2, (int)(*len / 2), NULL);
	unsigned char *der = NULL;
	int n = -1;

	if (es && r && s && *len % 2 == 0 && ECDSA_SIG_set0 (es, r, s)) {
		r = s = NULL;   /* es owns them */
		n = i2d_ECDSA_SIG (es, &der);
	}
	BN_free (r);
	BN_free (s);
	ECDSA_SIG_free (es);
	if (n <= 0)
		return false;
	free (*sig);
	if (!(*sig = malloc ((size_t)n))) {
		OPENSSL_free (der);
		return false;
	}
	memcpy (*sig, der, (size_t)n);
	*len = (CK_ULONG)n;
	OPENSSL_free (der);
	return true;
}

/* The token's signature of tbs by k, in the encoding X.509 wants. */
static int
token_sign (lh_tool *t, lh_secret_ctx *c, const lh_tkey *k, const sig_alg *a,
            const unsigned char *tbs, size_t len, unsigned char **sig,
            CK_ULONG *siglen)
{
	unsigned char md[EVP_MAX_MD_SIZE + sizeof sha256_info];
	size_t mdlen;
	CK_RV rv;

	rv = p11_sign (c, k->priv, a->mech, tbs, len, sig, siglen);
	if (rv == CKR_MECHANISM_INVALID && a->raw) {
		if (!prehash (a, tbs, len, md, &mdlen))
			return lh_error (t, LH_EXIT_FAIL, "check the OpenSSL "
			                 "installation", "cannot hash the data to "
			                 "sign");
		rv = p11_sign (c, k->priv, a->raw, md, mdlen, sig, siglen);
	}
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "key \"%s\" in token \"%s\" "
		                    "cannot sign", k->label, c->s.label);
	if (a->type == EVP_PKEY_EC && !ecdsa_der (sig, siglen)) {
		free (*sig);
		*sig = NULL;
		return lh_error (t, LH_EXIT_FAIL, "check the token", "the token "
		                 "returned a malformed ECDSA signature");
	}
	return LH_EXIT_OK;
}

/* ---- DER assembly -------------------------------------------------------- */

static size_t
der_len_size (size_t n)
{
	return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 4;
}

static unsigned char *
der_header (unsigned char *p, unsigned char tag, size_t n)
{
	size_t ls = der_len_size (n), i;

	*p++ = tag;
	if (ls == 1) {
		*p++ = (unsigned char)n;
		return p;
	}
	*p++ = (unsigned char)(0x80 | (ls - 1));
	for (i = ls - 1; i > 0; i--)
		*p++ = (unsigned char)(n >> (8 * (i - 1)));
	return p;
}

/* SEQUENCE { tbs, alg, BIT STRING sig } (X.509 4.1 and 5.1); malloc'd. */
static unsigned char *
assemble (const unsigned char *tbs, size_t tlen, const unsigned char *alg,
          size_t alen, const unsigned char *sig, size_t slen, size_t *len)
{
	size_t bits = 1 + slen;
	size_t body = tlen + alen + 1 + der_len_size (bits) + bits;
	unsigned char *der, *p;

	*len = 1 + der_len_size (body) + body;
	if (!(der = malloc (*len)))
		return NULL;
	p = der_header (der, 0x30, body);
	memcpy (p, tbs, tlen);
	p += tlen;
	memcpy (p, alg, alen);
	p += alen;
	p = der_header (p, 0x03, bits);
	*p++ = 0;       /* no unused bits */
	memcpy (p, sig, slen);
	return der;
}

/* What differs between certificates and CRLs. */
typedef struct {
	const char *what;           /* "certificate", "CRL" */
	void *obj;
	int (*sign) (void *obj, EVP_PKEY *key, const EVP_MD *md);
	int (*tbs) (void *obj, unsigned char **out);
	void (*get_sig) (void *obj, const ASN1_BIT_STRING **sig,
	                 const X509_ALGOR **alg);
	int (*check) (const unsigned char *der, size_t len, EVP_PKEY *pub);
	int (*verify) (void *obj, EVP_PKEY *pub);
} signable;

static int
sign_signable (lh_tool *t, lh_secret_ctx *c, const lh_tkey *k,
               const signable *s)
{
	unsigned char *tbs = NULL, *alg = NULL, *der = NULL, *sig = NULL;
	const ASN1_BIT_STRING *bs;
	const X509_ALGOR *xa;
	EVP_PKEY *dummy = NULL;
	CK_ULONG siglen = 0;
	int tlen, alen;
	size_t dlen;
	sig_alg a;
	bool ok;
	int rc;

	if ((rc = choose_alg (t, k, &a)) != LH_EXIT_OK)
		return rc;
	ok = (dummy = throwaway_key (&a)) && s->sign (s->obj, dummy, a.md) &&
	     (tlen = s->tbs (s->obj, &tbs)) > 0;
	if (ok) {
		s->get_sig (s->obj, &bs, &xa);
		ok = (alen = i2d_X509_ALGOR (xa, &alg)) > 0;
	}
	if (!ok) {
		rc = lh_error (t, LH_EXIT_FAIL, "check the OpenSSL installation",
		               "cannot encode the %s to sign", s->what);
		goto out;
	}
	if ((rc = token_sign (t, c, k, &a, tbs, (size_t)tlen, &sig, &siglen)) !=
	    LH_EXIT_OK)
		goto out;
	if (!(der = assemble (tbs, (size_t)tlen, alg, (size_t)alen, sig,
	                      siglen, &dlen))) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	/* the whole, parsed back, must verify: a token that signed with
	 * another key or mangled the encoding is caught here */
	if (!s->check (der, dlen, k->pkey) ||
	    !ASN1_BIT_STRING_set ((ASN1_BIT_STRING *)bs, sig, (int)siglen) ||
	    s->verify (s->obj, k->pkey) != 1) {
		rc = lh_error (t, LH_EXIT_FAIL, "check that the key's public half "
		               "matches it", "the %s signed by key \"%s\" in token "
		               "\"%s\" does not verify", s->what, k->label,
		               c->s.label);
		goto out;
	}
	rc = LH_EXIT_OK;
out:
	ERR_clear_error ();
	EVP_PKEY_free (dummy);
	OPENSSL_free (tbs);
	OPENSSL_free (alg);
	free (der);
	free (sig);
	return rc;
}

/* ---- certificates and CRLs ----------------------------------------------- */

static int
x509_sign (void *o, EVP_PKEY *k, const EVP_MD *md)
{
	return X509_sign (o, k, md) > 0;
}

static int
x509_tbs (void *o, unsigned char **out)
{
	return i2d_re_X509_tbs (o, out);
}

static void
x509_get_sig (void *o, const ASN1_BIT_STRING **sig, const X509_ALGOR **alg)
{
	X509_get0_signature (sig, alg, o);
}

static int
x509_check (const unsigned char *der, size_t len, EVP_PKEY *pub)
{
	const unsigned char *p = der;
	X509 *y = d2i_X509 (NULL, &p, (long)len);
	int ok = y && p == der + len && X509_verify (y, pub) == 1;

	X509_free (y);
	return ok;
}

static int
x509_verify (void *o, EVP_PKEY *pub)
{
	return X509_verify (o, pub);
}

int
lh_pki_sign_cert (lh_tool *t, lh_secret_ctx *c, const lh_tkey *k, X509 *x)
{
	signable s = { "certificate", x, x509_sign, x509_tbs, x509_get_sig,
	               x509_check, x509_verify };

	return sign_signable (t, c, k, &s);
}

static int
crl_sign (void *o, EVP_PKEY *k, const EVP_MD *md)
{
	return X509_CRL_sign (o, k, md) > 0;
}

static int
crl_tbs (void *o, unsigned char **out)
{
	return i2d_re_X509_CRL_tbs (o, out);
}

static void
crl_get_sig (void *o, const ASN1_BIT_STRING **sig, const X509_ALGOR **alg)
{
	X509_CRL_get0_signature (o, sig, alg);
}

static int
crl_check (const unsigned char *der, size_t len, EVP_PKEY *pub)
{
	const unsigned char *p = der;
	X509_CRL *y = d2i_X509_CRL (NULL, &p, (long)len);
	int ok = y && p == der + len && X509_CRL_verify (y, pub) == 1;

	X509_CRL_free (y);
	return ok;
}

static int
crl_verify (void *o, EVP_PKEY *pub)
{
	return X509_CRL_verify (o, pub);
}

int
lh_pki_sign_crl (lh_tool *t, lh_secret_ctx *c, const lh_tkey *k,
                 X509_CRL *crl)
{
	signable s = { "CRL", crl, crl_sign, crl_tbs, crl_get_sig, crl_check,
	               crl_verify };

	return sign_signable (t, c, k, &s);
}

/* ---- subject names ------------------------------------------------------- */

/* The seed's --oid keys (sm_ssl_cert), plus ST for the state. */
static const struct {
	const char *key;
	int nid;
} oid_keys[] = {
	{ "C", NID_countryName },
	{ "CN", NID_commonName },
	{ "DQ", NID_dnQualifier },
	{ "GN", NID_givenName },
	{ "GQ", NID_generationQualifier },
	{ "I", NID_initials },
	{ "L", NID_localityName },
	{ "N", NID_name },
	{ "O", NID_organizationName },
	{ "OU", NID_organizationalUnitName },
	{ "P", NID_pseudonym },
	{ "PC", NID_postalCode },
	{ "S", NID_surname },
	{ "ST", NID_stateOrProvinceName },
	{ "T", NID_title },
};

#define OID_KEYS "C, CN, DQ, GN, GQ, I, L, N, O, OU, P, PC, S, ST, T"

/*
 * The next item of a comma-separated list at *s, "\," unescaped, into
 * buf (malloc'd by the caller, as long as the list).  Returns false at
 * the end of the list (*s NULL); "" and "a,,b" give empty items.
 */
static bool
next_item (const char **s, char *buf)
{
	const char *p = *s;
	size_t n = 0;

	if (!p)
		return false;
	while (*p && *p != ',') {
		if (p[0] == '\\' && p[1] == ',')
			p++;
		buf[n++] = *p++;
	}
	buf[n] = '\0';
	*s = *p == ',' ? p + 1 : NULL;      /* NULL: that was the last */
	return true;
}

static int
add_rdn (lh_tool *t, X509_NAME *name, const char *item)
{
	const char *colon = strchr (item, ':');
	size_t klen, i;

	if (!colon || colon == item)
		return lh_error (t, LH_EXIT_USAGE, "write each field as KEY:VALUE, "
		                 "KEY one of " OID_KEYS, "\"%s\" in --oid is not "
		                 "KEY:VALUE", item);
	klen = (size_t)(colon - item);
	for (i = 0; i < sizeof oid_keys / sizeof oid_keys[0]; i++) {
		if (strlen (oid_keys[i].key) != klen ||
		    strncasecmp (item, oid_keys[i].key, klen) != 0)
			continue;
		if (colon[1] == '\0')
			return lh_error (t, LH_EXIT_USAGE, "give a value or leave the "
			                 "field out", "the field %.*s in --oid is "
			                 "empty", (int)klen, item);
		if (!X509_NAME_add_entry_by_NID (name, oid_keys[i].nid,
		                                 MBSTRING_UTF8,
		                                 (const unsigned char *)colon + 1,
		                                 -1, -1, 0)) {
			ERR_clear_error ();
			return lh_error (t, LH_EXIT_USAGE, "C is a two-letter country "
			                 "code; other fields hold at most 64 "
			                 "characters", "the value of %.*s in --oid "
			                 "(\"%s\") is not allowed there", (int)klen,
			                 item, colon + 1);
		}
		return LH_EXIT_OK;
	}
	return lh_error (t, LH_EXIT_USAGE, "use one of " OID_KEYS, "unknown "
	                 "field \"%.*s\" in --oid", (int)klen, item);
}

int
lh_pki_subject (lh_tool *t, const char *list, X509_NAME **out)
{
	X509_NAME *name = X509_NAME_new ();
	char *buf = malloc (strlen (list) + 1);
	const char *s = list;
	int rc = LH_EXIT_OK;

	*out = NULL;
	if (!name || !buf) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	if (*list == '\0') {
		rc = lh_error (t, LH_EXIT_USAGE, "give fields such as "
		               "CN:backup-client,O:Example", "--oid is empty");
		goto out;
	}
	while (rc == LH_EXIT_OK && next_item (&s, buf)) {
		if (*buf == '\0')
			rc = lh_error (t, LH_EXIT_USAGE, "separate the fields with "
			               "single commas", "--oid \"%s\" holds an empty "
			               "field", list);
		else
			rc = add_rdn (t, name, buf);
	}
	if (rc == LH_EXIT_OK) {
		*out = name;
		name = NULL;
	}
out:
	X509_NAME_free (name);
	free (buf);
	return rc;
}

/* ---- subjectAltName ------------------------------------------------------ */

/* A DNS name of RFC 1123 labels, optionally "*." in front. */
static bool
dns_name (const char *s)
{
	size_t len = strlen (s), lab = 0, labels = 0, i;

	if (strncmp (s, "*.", 2) == 0) {
		s += 2;
		len -= 2;
		/* "*.com" would match a whole top-level domain */
		if (!strchr (s, '.'))
			return false;
	}
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i <= len; i++) {
		char ch = s[i];

		if (ch == '.' || ch == '\0') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return false;
			lab = 0;
			labels++;
			continue;
		}
		if (!isalnum ((unsigned char)ch) && !(ch == '-' && lab > 0))
			return false;
		lab++;
	}
	return labels > 0;
}

/* Something that looks like an IPv4 address with a wildcard or range. */
static bool
ip_pattern (const char *s)
{
	bool digit = false, star = false;

	for (; *s; s++) {
		if (isdigit ((unsigned char)*s))
			digit = true;
		else if (*s == '*' || *s == '-' || *s == '/')
			star = true;
		else if (*s != '.')
			return false;
	}
	return digit && star;
}

static int
add_san (lh_tool *t, GENERAL_NAMES *gens, const char *item)
{
	unsigned char ip[16];
	GENERAL_NAME *g = NULL;
	ASN1_OCTET_STRING *os = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	int iplen = 0;

	if (inet_pton (AF_INET, item, ip) == 1)
		iplen = 4;
	else if (inet_pton (AF_INET6, item, ip) == 1)
		iplen = 16;
	if (!iplen && ip_pattern (item))
		return lh_error (t, LH_EXIT_USAGE, "X.509 has no wildcard or range "
		                 "of IP addresses: list each address "
		                 "(192.168.1.10,192.168.1.11) or use a DNS name "
		                 "(*.example.com)", "\"%s\" is not an IP address",
		                 item);
	if (!iplen && !dns_name (item))
		return lh_error (t, LH_EXIT_USAGE, "give host names (letters, "
		                 "digits, '-', dots; \"*.\" in front for a "
		                 "wildcard) or IP addresses", "\"%s\" is neither a "
		                 "DNS name nor an IP address", item);
	if (!(g = GENERAL_NAME_new ()))
		goto oom;
	if (iplen) {
		if (!(os = ASN1_OCTET_STRING_new ()) ||
		    !ASN1_OCTET_STRING_set (os, ip, iplen))
			goto oom;
		GENERAL_NAME_set0_value (g, GEN_IPADD, os);
		os = NULL;
	} else {
		if (!(ia5 = ASN1_IA5STRING_new ()) ||
		    !ASN1_STRING_set (ia5, item, -1))
			goto oom;
		GENERAL_NAME_set0_value (g, GEN_DNS, ia5);
		ia5 = NULL;
	}
	if (!sk_GENERAL_NAME_push (gens, g))
		goto oom;
	return LH_EXIT_OK;
oom:
	ASN1_OCTET_STRING_free (os);
	ASN1_IA5STRING_free (ia5);
	GENERAL_NAME_free (g);
	return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
}

int
lh_pki_sans (lh_tool *t, const char *list, GENERAL_NAMES **out, char *first,
             size_t first_cap)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null ();
	char *buf = malloc (strlen (list) + 1);
	const char *s = list;
	int rc = LH_EXIT_OK;
	size_t n = 0;

	*out = NULL;
	if (!gens || !buf) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	while (rc == LH_EXIT_OK && next_item (&s, buf)) {
		if (*buf == '\0') {
			rc = lh_error (t, LH_EXIT_USAGE, "give one or more names "
			               "separated by single commas", "the name list "
			               "\"%s\" holds an empty name", list);
			break;
		}
		if (n++ == 0) {
			if (strlen (buf) >= first_cap)
				rc = lh_error (t, LH_EXIT_USAGE, "put a shorter name first "
				               "(it becomes the CN)", "the first name "
				               "\"%s\" is longer than %zu characters", buf,
				               first_cap - 1);
			else
				strcpy (first, buf);
		}
		if (rc == LH_EXIT_OK)
			rc = add_san (t, gens, buf);
	}
	if (rc == LH_EXIT_OK && n == 0)
		rc = lh_error (t, LH_EXIT_USAGE, "give one or more host names or "
		               "IP addresses", "the name list is empty");
	if (rc == LH_EXIT_OK) {
		*out = gens;
		gens = NULL;
	}
out:
	GENERAL_NAMES_free (gens);
	free (buf);
	return rc;
}
