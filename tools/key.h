/*
 * key.h - "litehsm key": key pairs in a token, for the keys that used to
 * live in files (seeds 003 and 004: server.key, privkey.pem, client.pfx).
 *
 *   key import       a PEM, PKCS#8 or PKCS#12 private key (and its
 *                    certificate and chain) into the token, verified by a
 *                    signature made in the token (cmd_key_import.c)
 *   key generate     a new key pair made in the token (lh_pki_generate)
 *   key list         the token's private keys, never their values
 *   key delete       a key pair and its certificates
 *   key export-cert  the certificate (and chain) of a key, as PEM or DER
 *
 * A key is what pki.h calls a key pair: a private key object and its
 * public key object with the same CKA_LABEL (the key's name) and CKA_ID
 * (SHA-1 of the public key's subjectPublicKey bits), plus the certificate
 * with that CKA_ID if there is one.  The CA certificates that came with
 * it (a PKCS#12 chain) are certificate objects labelled "<name>-chain-1",
 * "<name>-chain-2", ... in chain order, each with its own key's SHA-1 as
 * CKA_ID, so that lh_pki_load_cert by the key's CKA_ID finds only the
 * key's own certificate.
 */
#ifndef LH_TOOL_KEY_H
#define LH_TOOL_KEY_H

#include "tools/cmd.h"
#include "tools/pki.h"

/* litehsm key ... (cmd_key.c) */
int lh_cmd_key (lh_tool *t, int argc, char **argv);

/* litehsm key import (cmd_key_import.c) */
int lh_key_import (lh_tool *t, int argc, char **argv);

/* The longest key name: room for "-chain-N" within CKA_LABEL's 128. */
#define LH_KEY_NAME_MAX 64

/* A usable key name: 1 to LH_KEY_NAME_MAX bytes of printable UTF-8, not
 * "-chain-<digits>" at its end (LH_EXIT_USAGE). */
int lh_key_check_name (lh_tool *t, const char *name);

/* Is label the label of one of name's chain certificates? */
bool lh_key_is_chain_label (const char *name, const char *label,
                            size_t len);

/*
 * Every token object of class cls (CKO_PRIVATE_KEY, CKO_PUBLIC_KEY,
 * CKO_CERTIFICATE) labelled label (NULL: any label); *hs is malloc'd (free
 * it), *n may be 0.
 */
int lh_key_find_objects (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_CLASS cls,
                         const char *label, CK_OBJECT_HANDLE **hs, size_t *n);

/*
 * The objects that make up the key name as it is now: its private and
 * public keys and certificates, and its chain certificates (found by
 * their labels).  *hs is malloc'd; *n is 0 for a name that is not there.
 */
int lh_key_objects (lh_tool *t, lh_secret_ctx *c, const char *name,
                    CK_OBJECT_HANDLE **hs, size_t *n);

/* A byte attribute of o, malloc'd (NULL with *len 0 when absent). */
int lh_key_get_bytes (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE o,
                      CK_ATTRIBUTE_TYPE type, unsigned char **out,
                      size_t *len);

/* A key's kind as people and scripts see it. */
typedef struct {
	char kind[32];              /* "rsa-2048", "ec-p256", "ed25519" (the
	                             * --key names), "ec-secp256k1" */
	char type[16];              /* "rsa", "ec", "ed25519", "ed448", "other" */
	char curve[32];             /* "P-256", "secp256k1"; "" for RSA/EdDSA */
	unsigned bits;              /* modulus or curve size; 0 if unknown */
} lh_key_kind;

/* The kind of a key from its CKA_KEY_TYPE and CKA_MODULUS (RSA) or
 * CKA_EC_PARAMS (EC, EdDSA: the DER of the curve's OID, or the
 * PrintableString name PKCS#11 3.0 allows for Edwards curves). */
void lh_key_describe (CK_KEY_TYPE kt, const unsigned char *value,
                      size_t len, lh_key_kind *out);

/* Hex of n bytes into out (2n + 1 bytes). */
void lh_key_hex (const unsigned char *p, size_t n, char *out);

#endif /* LH_TOOL_KEY_H */
