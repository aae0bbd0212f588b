/*
 * ca.h - "litehsm ca": a certificate authority whose keys stay in the
 * token (cmd_ca*.c), and what its subcommands share.
 *
 * A CA is a key pair in the token labelled with the CA's name (default
 * "litehsm-ca") and its certificate, stored next to it with the same
 * CKA_ID (pki.h).  Every signature is a C_Sign by that key.
 *
 * The index of issued certificates lives in the token too, so a token
 * backup carries it: one CKO_DATA object per certificate, private, with
 *   CKA_APPLICATION  "litehsm ca"
 *   CKA_LABEL        "<CA label>/<serial in upper-case hex>"
 *   CKA_VALUE        a record (version 1, all integers big-endian):
 *     0      1 byte   version (1)
 *     1      1 byte   status: 0 valid, 1 revoked
 *     2      1 byte   revocation reason (RFC 5280 5.3.1 CRLReason)
 *     3      1 byte   profile: 1 server, 2 client, 3 intermediate CA
 *     4      8 bytes  revocation time, seconds since 1970 UTC (0: none)
 *     12     2 bytes  length L of the key's label when the key is in
 *                     the token (0: the key was written to a file)
 *     14     L bytes  that label
 *     14+L   ...      the certificate, DER
 * A reader refuses a record of another version rather than guess.
 *
 * The index entry is created before any file is written, and destroyed
 * again if writing fails: an entry always has its certificate out, and a
 * certificate that was handed out always has its entry.
 */
#ifndef LH_TOOL_CA_H
#define LH_TOOL_CA_H

#include "tools/pki.h"

#include <stdint.h>

/* litehsm ca ... (cmd_ca.c) */
int lh_cmd_ca (lh_tool *t, int argc, char **argv);

/* The subcommands. */
int lh_ca_init (lh_tool *t, int argc, char **argv);     /* cmd_ca_init.c */
int lh_ca_server (lh_tool *t, int argc, char **argv);   /* cmd_ca_issue.c */
int lh_ca_client (lh_tool *t, int argc, char **argv);   /* cmd_ca_issue.c */
int lh_ca_sign (lh_tool *t, int argc, char **argv);     /* cmd_ca_issue.c */
int lh_ca_renew (lh_tool *t, int argc, char **argv);    /* cmd_ca_issue.c */
int lh_ca_list (lh_tool *t, int argc, char **argv);     /* cmd_ca_list.c */
int lh_ca_revoke (lh_tool *t, int argc, char **argv);   /* cmd_ca_list.c */
int lh_ca_crl (lh_tool *t, int argc, char **argv);      /* cmd_ca_list.c */

#define LH_CA_DEFAULT   "litehsm-ca"    /* --ca and init's --label */
#define LH_CA_APP       "litehsm ca"    /* CKA_APPLICATION of the index */
#define LH_CA_LABEL_MAX 128

/* What a certificate is for. */
typedef enum {
	LH_CA_SERVER = 1,
	LH_CA_CLIENT = 2,
	LH_CA_SUBCA = 3,
} lh_ca_profile;

/* "server", "client", "ca" */
const char *lh_ca_profile_name (lh_ca_profile p);

/* A CA as found in the token. */
typedef struct {
	lh_tkey key;                /* its key pair (pkey: the public half) */
	X509 *cert;                 /* its certificate */
	STACK_OF (X509) *chain;     /* cert, then the CAs above it that the
	                             * token holds, up to the root */
	char label[LH_CA_LABEL_MAX + 1];
} lh_ca;

/*
 * The CA labelled label: its key, its certificate (same CKA_ID, public
 * key checked) and its chain.  No such key is LH_EXIT_NOTFOUND with a
 * hint to run "ca init"; a key without a CA certificate is LH_EXIT_FAIL.
 */
int lh_ca_load (lh_tool *t, lh_secret_ctx *c, const char *label, lh_ca *ca);
void lh_ca_free (lh_ca *ca);

/* An entry of the index (see above). */
typedef struct {
	CK_OBJECT_HANDLE h;         /* the data object */
	bool revoked;
	unsigned reason;            /* CRLReason, when revoked */
	lh_ca_profile profile;
	int64_t revoked_at;         /* seconds since 1970 UTC, when revoked */
	char key_label[LH_CA_LABEL_MAX + 1];    /* "" : key in a file */
	char serial[80];            /* upper-case hex */
	X509 *cert;
} lh_ca_entry;

void lh_ca_entry_free (lh_ca_entry *e);
/* Create the entry for e->cert (valid) under CA ca_label; e->h is set. */
int lh_ca_index_add (lh_tool *t, lh_secret_ctx *c, const char *ca_label,
                     lh_ca_entry *e);
/* Write e's status back (revoke).  A module that keeps data objects'
 * values read-only (SoftHSM2) gets a new object in place of the old one:
 * e->h changes then. */
int lh_ca_index_update (lh_tool *t, lh_secret_ctx *c, lh_ca_entry *e);
/* The entry of serial (any hex spelling: "0x", ':' and case allowed);
 * none is LH_EXIT_NOTFOUND. */
int lh_ca_index_get (lh_tool *t, lh_secret_ctx *c, const char *ca_label,
                     const char *serial, lh_ca_entry *out);
/* Every entry of CA ca_label, oldest certificate first; free with
 * lh_ca_index_free. */
int lh_ca_index_list (lh_tool *t, lh_secret_ctx *c, const char *ca_label,
                      lh_ca_entry **v, size_t *n);
void lh_ca_index_free (lh_ca_entry *v, size_t n);
/* Destroy every entry of CA ca_label (ca init --force). */
int lh_ca_index_clear (lh_tool *t, lh_secret_ctx *c, const char *ca_label);

/* A serial as upper-case hex. */
void lh_ca_serial_hex (const ASN1_INTEGER *s, char *out, size_t cap);

/*
 * Validity: from now for days days (1..36500).  A certificate may not
 * outlive its issuer: LH_EXIT_USAGE naming the days left, unless issuer
 * is NULL (self-signed).
 */
int lh_ca_validity (lh_tool *t, X509 *x, X509 *issuer, long days);

/*
 * The extensions of a certificate of profile p (or of a root, with
 * issuer NULL and p LH_CA_SUBCA): basicConstraints, keyUsage (for the
 * key of x), extendedKeyUsage, subjectAltName (sans, may be NULL),
 * subject and authority key identifiers.
 */
int lh_ca_extensions (lh_tool *t, X509 *x, const lh_ca *issuer,
                      lh_ca_profile p, const GENERAL_NAMES *sans);

/* What a new certificate holds besides what its issuer decides. */
typedef struct {
	const X509_NAME *subject;
	EVP_PKEY *pub;              /* the subject's public key */
	const GENERAL_NAMES *sans;  /* or NULL */
	lh_ca_profile profile;      /* LH_CA_SUBCA for a CA (or a root) */
	long days;
} lh_ca_req;

/*
 * Make and sign a certificate: a random serial (pki.h), the validity
 * (checked against the issuer's), the extensions, and the signature by
 * issuer's key in the token.  A root: issuer NULL and self its own key.
 */
int lh_ca_make_cert (lh_tool *t, lh_secret_ctx *c, const lh_ca *issuer,
                     const lh_tkey *self, const lh_ca_req *r, X509 **out);

/* A name as RFC 2253 text ("CN=myserver,O=Example"). */
void lh_ca_name_text (const X509_NAME *n, char *out, size_t cap);

/* Each subjectAltName of x as text (DNS name, IP address, other kinds
 * as OpenSSL prints them), in order. */
typedef void (*lh_ca_name_fn) (void *ctx, const char *name);
void lh_ca_names_each (X509 *x, lh_ca_name_fn fn, void *ctx);
/* The same joined with ", " (truncated to cap). */
void lh_ca_names_text (X509 *x, char *out, size_t cap);

/* "2026-03-01 12:00:00 UTC" */
void lh_ca_time_text (const ASN1_TIME *at, char *out, size_t cap);

/* CRL reasons by name ("keyCompromise"); LH_EXIT_USAGE listing them. */
int lh_ca_reason (lh_tool *t, const char *name, unsigned *out);
const char *lh_ca_reason_name (unsigned reason);

/* Options "--days N" style numbers: 1..max, LH_CONTINUE or an error. */
int lh_ca_number (lh_tool *t, const char *opt, const char *arg, long max,
                  long *out);

/* The current directory when path is NULL ("."). */
const char *lh_ca_dir (const char *path);

#endif /* LH_TOOL_CA_H */
