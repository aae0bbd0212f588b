/*
 * pki.h - keys in a token and the X.509 objects they sign, for "litehsm
 * ca" and "litehsm key".  Everything here works through PKCS#11 only, so
 * it works with any module (--module), SoftHSM2 included: a key is a
 * private key object (and its public key object) with the same CKA_ID and
 * CKA_LABEL; a signature is C_Sign; a certificate kept in the token is a
 * CKO_CERTIFICATE (CKC_X_509) object with the CKA_ID of its key.
 *
 * OpenSSL builds the certificates, requests and CRLs; the token signs
 * their to-be-signed part (lh_pki_sign_cert/_crl), and the result is
 * checked against the key's public half before it is used.
 *
 * Every function that can fail reports its one error line (common.h) and
 * returns an exit code; LH_EXIT_OK means success.
 */
#ifndef LH_TOOL_PKI_H
#define LH_TOOL_PKI_H

#include "tools/cmd.h"

#include <sys/types.h>

/* OpenSSL 3 APIs only (deprecated calls fail to compile).  This also
 * hides lhash.h's OpenSSL 1.1.0 compatibility macro "lh_error", which
 * would rename our lh_error (common.h): include this header before any
 * OpenSSL header. */
#ifndef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT 30000
#endif

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#undef lh_error     /* in case an OpenSSL header came first */

/* Key kinds of --key. */
typedef enum {
	LH_KEY_EC_P256 = 0,
	LH_KEY_EC_P384,
	LH_KEY_RSA_2048,
	LH_KEY_RSA_3072,
	LH_KEY_RSA_4096,
	LH_KEY_ED25519,
} lh_keyspec;

/* "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"
 * (LH_EXIT_USAGE naming the choices otherwise). */
int lh_pki_keyspec (lh_tool *t, const char *s, lh_keyspec *out);
const char *lh_pki_keyspec_name (lh_keyspec k);

/* A key pair in the token. */
typedef struct {
	CK_OBJECT_HANDLE priv;      /* private key object */
	CK_OBJECT_HANDLE pub;       /* public key object, or CK_INVALID_HANDLE */
	unsigned char id[64];       /* CKA_ID */
	size_t id_len;
	char label[129];            /* CKA_LABEL */
	CK_KEY_TYPE kt;             /* CKK_RSA, CKK_EC, CKK_EC_EDWARDS */
	EVP_PKEY *pkey;             /* the public key, built from the token's
	                             * attributes (CKA_MODULUS/EXPONENT,
	                             * CKA_EC_PARAMS/EC_POINT) */
} lh_tkey;

void lh_tkey_free (lh_tkey *k);

/*
 * Generate a key pair in the token: token objects, the private key
 * private, sensitive, never extractable, sign only (plus decrypt for RSA
 * when tls is set: TLS 1.2 RSA key exchange); the public key verify only.
 * CKA_ID = SHA-1 of the public key's subjectPublicKey bits (the subject key
 * identifier RFC 5280 suggests), CKA_LABEL = label.  An existing private
 * key with that label is refused (LH_EXIT_FAIL, "... --force") unless
 * force, which removes it (and its public key and certificate) after the
 * new one is made.
 */
int lh_pki_generate (lh_tool *t, lh_secret_ctx *c, lh_keyspec spec,
                     const char *label, bool tls, bool force, lh_tkey *out);

/*
 * The key pair whose private key has CKA_LABEL label (LH_EXIT_NOTFOUND if
 * none, LH_EXIT_FAIL if several), with its public key; the public key
 * object, or else a certificate with the same CKA_ID, gives pkey.
 */
int lh_pki_find (lh_tool *t, lh_secret_ctx *c, const char *label,
                 lh_tkey *out);

/* The same, but no such key is no error: *found false, LH_EXIT_OK.
 * (Added by the ca helper: "ca init" must tell "no CA yet" from a
 * failure without printing an error line.) */
int lh_pki_lookup (lh_tool *t, lh_secret_ctx *c, const char *label,
                   lh_tkey *out, bool *found);

/* Every object matching tmpl (n attributes); *hs malloc'd, NULL when
 * none.  (Added by the ca helper, for the certificate index.) */
int lh_pki_objects (lh_tool *t, lh_secret_ctx *c, CK_ATTRIBUTE *tmpl,
                    CK_ULONG n, CK_OBJECT_HANDLE **hs, size_t *count);
/* An attribute's value, malloc'd with a spare NUL byte; *out NULL and
 * *len 0 when the object has none (no error). */
int lh_pki_attr (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE o,
                 CK_ATTRIBUTE_TYPE type, unsigned char **out, size_t *len);

/* Destroy the key pair and every certificate with its CKA_ID. */
int lh_pki_delete (lh_tool *t, lh_secret_ctx *c, const lh_tkey *k);

/*
 * Sign x (its fields complete) with the token key k: SHA-256 for P-256
 * and RSA, SHA-384 for P-384, EdDSA for Ed25519 (RSA: PKCS#1 v1.5).  The
 * signature is made by C_Sign over the DER of the to-be-signed part, and
 * x is checked with X509_verify against k->pkey before return.
 */
int lh_pki_sign_cert (lh_tool *t, lh_secret_ctx *c, const lh_tkey *k,
                      X509 *x);
/* The same for a CRL (X509_CRL_verify). */
int lh_pki_sign_crl (lh_tool *t, lh_secret_ctx *c, const lh_tkey *k,
                     X509_CRL *crl);

/* Store x in the token as a CKO_CERTIFICATE with CKA_ID id and label
 * (CKA_SUBJECT/ISSUER/SERIAL_NUMBER/VALUE from x); replaces a certificate
 * with that CKA_ID and label. */
int lh_pki_store_cert (lh_tool *t, lh_secret_ctx *c, X509 *x,
                       const unsigned char *id, size_t id_len,
                       const char *label);
/* The certificate object with CKA_ID id (first found), or *out NULL. */
int lh_pki_load_cert (lh_tool *t, lh_secret_ctx *c, const unsigned char *id,
                      size_t id_len, X509 **out);

/*
 * Subject fields from the seed's --oid list: "C:DE,CN:backup-client,
 * O:Example,OU:IT,L:Berlin" with the keys C, CN, DQ (dnQualifier), GN
 * (givenName), GQ (generationQualifier), I (initials), L, N (name), O,
 * OU, P (pseudonym), PC (postalCode), S (surname, as seed 002's list
 * says), ST (stateOrProvinceName), T (title); "\," escapes a comma.  An unknown key, an empty value or a malformed item is
 * LH_EXIT_USAGE naming it and the keys allowed.
 */
int lh_pki_subject (lh_tool *t, const char *list, X509_NAME **out);

/*
 * subjectAltName from "myserver,myserver.domain.com,*.x.com,192.168.1.10,
 * ::1": each item an IP address (v4 or v6) or a DNS name (RFC 1123 labels,
 * a leading "*." allowed).  "192.168.1.*" and anything else that is
 * neither is LH_EXIT_USAGE with a message that says why (X.509 has no IP
 * wildcards: list the addresses, or use a DNS name).  *first is the first
 * item (for the CN), pointing into a copy kept in *names' owner.
 */
int lh_pki_sans (lh_tool *t, const char *list, GENERAL_NAMES **out,
                 char *first, size_t first_cap);

/* A random positive serial of 64 bits or more (C_GenerateRandom). */
int lh_pki_serial (lh_tool *t, lh_secret_ctx *c, ASN1_INTEGER **out);

/*
 * Output files.  Written atomically into dir (a temp file in dir, then
 * link(2) for a new file or rename(2) with force), created with mode
 * from the start; an existing file is refused unless force
 * (LH_EXIT_FAIL, "... --force"); a missing or unwritable dir is
 * LH_EXIT_USAGE.  lh_pki_files collects several files and writes them all
 * or none: every check (existence, directory) is made before the first
 * file is written, and on a failure the files already written are
 * removed.
 */
typedef struct {
	char *name;                 /* file name in dir */
	unsigned char *data;        /* wiped when freed (keys) */
	size_t len;
	mode_t mode;
} lh_pki_file;

typedef struct {
	const char *dir;
	bool force;
	lh_pki_file *v;
	size_t n;
} lh_pki_files;

/* Queue a file (data copied). */
int lh_pki_files_add (lh_tool *t, lh_pki_files *fs, const char *name,
                      const void *data, size_t len, mode_t mode);
/* Check that files of these names could be written into dir (the
 * checks of lh_pki_files_write), before the work that makes their
 * contents starts.  (Added by the ca helper: a CA must not create token
 * objects for output that cannot be written.) */
int lh_pki_files_check (lh_tool *t, const char *dir, bool force,
                        const char *const *names, size_t n);
/* Check every file can be written, then write them all (or none). */
int lh_pki_files_write (lh_tool *t, lh_pki_files *fs);
void lh_pki_files_free (lh_pki_files *fs);

/* PEM of a certificate / a private key in the formats of seed 004:
 * "pem" (traditional PEM for RSA/EC as openssl genrsa writes, else
 * PKCS#8), "pk8" (PKCS#8 DER), "pk8-pem" (PKCS#8 PEM); "pfx" (PKCS#12
 * with key and certificate chain, password pass, "" for none). Buffers are
 * malloc'd (free with lh_pki_free_buf, which wipes). */
int lh_pki_cert_pem (lh_tool *t, X509 *x, unsigned char **out, size_t *len);
int lh_pki_key_out (lh_tool *t, EVP_PKEY *key, const char *format,
                    unsigned char **out, size_t *len);
int lh_pki_pfx (lh_tool *t, EVP_PKEY *key, X509 *x, STACK_OF (X509) *chain,
                const char *pass, unsigned char **out, size_t *len);
void lh_pki_free_buf (unsigned char *buf, size_t len);

/* The RFC 7512 URI of a key in the token s ("pkcs11:token=...;
 * object=...;id=%..;type=private"), malloc'd. */
char *lh_pki_key_uri (const lh_p11_slot *s, const lh_tkey *k);

#endif /* LH_TOOL_PKI_H */
