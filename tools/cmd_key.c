/*
 * cmd_key.c - "litehsm key": the dispatcher, "key list", "key generate",
 * "key delete" and "key export-cert", and what they share with "key
 * import" (key.h): finding a key's objects by name, reading attributes,
 * naming key kinds.
 *
 * Everything goes through PKCS#11 in a logged-in user session
 * (lh_secret_open), so these commands work with any module (--module),
 * SoftHSM2 included.  No command ever reads a private value: "key list"
 * shows labels, ids, key kinds, certificates and URIs only.
 */
#include "tools/key.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

enum {
	OPT_KEY = LH_OPT_CMD, OPT_TLS, OPT_FORCE, OPT_YES, OPT_OUT, OPT_DER,
	OPT_CHAIN,
};

static int key_generate (lh_tool *t, int argc, char **argv);
static int key_list (lh_tool *t, int argc, char **argv);
static int key_delete (lh_tool *t, int argc, char **argv);
static int key_export_cert (lh_tool *t, int argc, char **argv);

static const lh_subcmd key_cmds[] = {
	{ "import", "move a key file (PEM, PKCS#8, PKCS#12) into the token",
	  lh_key_import },
	{ "generate", "make a key pair inside the token", key_generate },
	{ "list", "list the key pairs (never their values)", key_list },
	{ "delete", "delete a key pair and its certificates", key_delete },
	{ "export-cert", "write a key's certificate (PEM or DER)",
	  key_export_cert },
	{ NULL, NULL, NULL },
};

int
lh_cmd_key (lh_tool *t, int argc, char **argv)
{
	return lh_dispatch (t, "key", "Import, generate, list and delete key "
	                    "pairs in a token;\ntheir private keys never leave "
	                    "it.", key_cmds, argc, argv);
}

/* ---- shared (key.h) -------------------------------------------------------- */

static int
no_memory (lh_tool *t)
{
	return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
}

/* Is s (n bytes) a chain number: 1 to 9 digits, the first not 0? */
static bool
chain_number (const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 9 || s[0] == '0')
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Does s (n bytes) end in "-chain-N"? */
static bool
chain_suffix (const char *s, size_t n)
{
	size_t i;

	for (i = n; i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9'; i--)
		;
	return i >= 7 && memcmp (s + i - 7, "-chain-", 7) == 0 &&
	       chain_number (s + i, n - i);
}

int
lh_key_check_name (lh_tool *t, const char *name)
{
	size_t n = strlen (name);

	if (n == 0 || n > LH_KEY_NAME_MAX)
		return lh_error (t, LH_EXIT_USAGE, "choose a name of 1 to 64 bytes "
		                 "(--label)", "the key name \"%s\" is %s", name,
		                 n ? "longer than 64 bytes" : "empty");
	if (!lh_utf8_printable (name, n))
		return lh_error (t, LH_EXIT_USAGE, "use printable UTF-8 text",
		                 "the key name \"%s\" is not valid UTF-8 or holds "
		                 "control characters", name);
	/* those labels belong to another key's CA certificates */
	if (chain_suffix (name, n))
		return lh_error (t, LH_EXIT_USAGE, "choose a name that does not "
		                 "end in -chain-N", "the key name \"%s\" looks like "
		                 "the label of a chain certificate", name);
	return LH_EXIT_OK;
}

bool
lh_key_is_chain_label (const char *name, const char *label, size_t len)
{
	size_t n = strlen (name);

	return len > n + 7 && memcmp (label, name, n) == 0 &&
	       memcmp (label + n, "-chain-", 7) == 0 &&
	       chain_number (label + n + 7, len - n - 7);
}

int
lh_key_find_objects (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_CLASS cls,
                     const char *label, CK_OBJECT_HANDLE **hs, size_t *n)
{
	CK_BBOOL tok = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &tok, sizeof tok },
		{ CKA_LABEL, (void *)label, label ? strlen (label) : 0 },
	};

	return lh_pki_objects (t, c, tmpl, label ? 3 : 2, hs, n);
}

int
lh_key_get_bytes (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE o,
                  CK_ATTRIBUTE_TYPE type, unsigned char **out, size_t *len)
{
	CK_RV rv = lh_p11_attr (c->f, c->h, o, type, out, len);

	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE)
		return LH_EXIT_OK;
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot read an object in token "
		                    "\"%s\"", c->s.label);
	/* an empty value is no value */
	if (*len == 0) {
		free (*out);
		*out = NULL;
	}
	return LH_EXIT_OK;
}

/* Append the handles of every token object of class cls labelled label
 * (with chains: also the chain certificates of the name label). */
static int
add_objects (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_CLASS cls,
             const char *label, bool chains, CK_OBJECT_HANDLE **all,
             size_t *n)
{
	CK_OBJECT_HANDLE *hs, *na;
	unsigned char *l;
	size_t m, k, ll;
	int rc;

	if ((rc = lh_key_find_objects (t, c, cls, chains ? NULL : label, &hs,
	                               &m)) != LH_EXIT_OK)
		return rc;
	if (m && !(na = realloc (*all, (*n + m) * sizeof *na))) {
		free (hs);
		return no_memory (t);
	} else if (m) {
		*all = na;
	}
	for (k = 0; k < m && rc == LH_EXIT_OK; k++) {
		if (!chains) {
			(*all)[(*n)++] = hs[k];
			continue;
		}
		if ((rc = lh_key_get_bytes (t, c, hs[k], CKA_LABEL, &l, &ll)) !=
		    LH_EXIT_OK)
			break;
		if (l && lh_key_is_chain_label (label, (char *)l, ll))
			(*all)[(*n)++] = hs[k];
		free (l);
	}
	free (hs);
	return rc;
}

int
lh_key_objects (lh_tool *t, lh_secret_ctx *c, const char *name,
                CK_OBJECT_HANDLE **hs, size_t *n)
{
	int rc;

	*hs = NULL;
	*n = 0;
	if ((rc = add_objects (t, c, CKO_PRIVATE_KEY, name, false, hs, n)) !=
	    LH_EXIT_OK ||
	    (rc = add_objects (t, c, CKO_PUBLIC_KEY, name, false, hs, n)) !=
	    LH_EXIT_OK ||
	    (rc = add_objects (t, c, CKO_CERTIFICATE, name, false, hs, n)) !=
	    LH_EXIT_OK ||
	    (rc = add_objects (t, c, CKO_CERTIFICATE, name, true, hs, n)) !=
	    LH_EXIT_OK) {
		free (*hs);
		*hs = NULL;
		*n = 0;
	}
	return rc;
}

void
lh_key_hex (const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The size of an RSA modulus in bits (big-endian bytes, any leading
 * zeros skipped). */
static unsigned
rsa_bits (const unsigned char *m, size_t len)
{
	unsigned bits, b;

	while (len && m[0] == 0) {
		m++;
		len--;
	}
	if (!len || len > 0xffff)
		return 0;
	bits = (unsigned)len * 8;
	for (b = 0x80; b && !(m[0] & b); b >>= 1)
		bits--;
	return bits;
}

void
lh_key_describe (CK_KEY_TYPE kt, const unsigned char *value, size_t len,
                 lh_key_kind *out)
{
	const unsigned char *p = value;
	ASN1_OBJECT *oid = NULL;
	const char *nist;
	char low[sizeof out->kind - 3];       /* "ec-" + low fits in kind */
	int nid = NID_undef;
	size_t k;

	memset (out, 0, sizeof *out);
	if (kt == CKK_RSA) {
		out->bits = rsa_bits (value, len);
		snprintf (out->type, sizeof out->type, "rsa");
		snprintf (out->kind, sizeof out->kind, "rsa-%u", out->bits);
		return;
	}
	if (value && len && (oid = d2i_ASN1_OBJECT (NULL, &p, (long)len)))
		nid = OBJ_obj2nid (oid);
	ASN1_OBJECT_free (oid);
	ERR_clear_error ();
	if (kt == CKK_EC_EDWARDS) {
		bool is448 = nid == NID_ED448 || (nid == NID_undef && len > 2 &&
		             value[0] == 0x13 && memmem (value, len, "448", 3));

		snprintf (out->type, sizeof out->type, is448 ? "ed448" : "ed25519");
		snprintf (out->kind, sizeof out->kind, "%s", out->type);
		out->bits = is448 ? 448 : 255;
		return;
	}
	if (kt != CKK_EC) {
		snprintf (out->type, sizeof out->type, "other");
		snprintf (out->kind, sizeof out->kind, "other");
		return;
	}
	snprintf (out->type, sizeof out->type, "ec");
	nist = nid != NID_undef ? EC_curve_nid2nist (nid) : NULL;
	snprintf (out->curve, sizeof out->curve, "%s", nist ? nist :
	          nid != NID_undef ? OBJ_nid2sn (nid) : "unknown");
	/* "P-256" -> "ec-p256", as --key names it */
	for (k = 0; out->curve[k] && k + 1 < sizeof low; k++)
		low[k] = (char)(out->curve[k] >= 'A' && out->curve[k] <= 'Z' ?
		                out->curve[k] - 'A' + 'a' : out->curve[k]);
	low[k] = '\0';
	if (nist && low[1] == '-')
		memmove (low + 1, low + 2, strlen (low + 2) + 1);
	snprintf (out->kind, sizeof out->kind, "ec-%s", low);
	if (nid != NID_undef) {
		EC_GROUP *g = EC_GROUP_new_by_curve_name (nid);

		out->bits = g ? (unsigned)EC_GROUP_order_bits (g) : 0;
		EC_GROUP_free (g);
		ERR_clear_error ();
	}
}

/* ---- key list ---------------------------------------------------------------- */

static const lh_cmd list_cmd = {
	.name = "key list",
	.summary = "List the token's private keys: name (CKA_LABEL), id, kind,\n"
	           "certificate and PKCS#11 URI.  Never a key's value.",
	.details = "'origin' is \"generated\" for a key made in the token and\n"
	           "\"imported\" for one that came from a file (CKA_LOCAL).\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
};

/* What "key list" shows about one key. */
typedef struct {
	char *label;                /* CKA_LABEL ("" when none) */
	unsigned char *id;          /* CKA_ID */
	size_t id_len;
	CK_KEY_TYPE kt;
	lh_key_kind kind;
	bool local, sensitive, extractable;
	X509 *cert;                 /* the certificate with its CKA_ID */
	size_t chain;               /* chain certificates */
	char *uri;
} key_info;

static void
info_free (key_info *k)
{
	free (k->label);
	free (k->id);
	X509_free (k->cert);
	free (k->uri);
}

static bool
get_flag (lh_secret_ctx *c, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
	return lh_p11_flag (c->f, c->h, o, type);
}

/* Count the chain certificates of name among the token's certificates. */
static int
count_chain (lh_tool *t, lh_secret_ctx *c, const char *name, size_t *n)
{
	CK_OBJECT_HANDLE *hs = NULL;
	int rc;

	*n = 0;
	if (!*name)
		return LH_EXIT_OK;
	rc = add_objects (t, c, CKO_CERTIFICATE, name, true, &hs, n);
	free (hs);
	return rc;
}


static int
read_info (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE o, key_info *k)
{
	CK_ATTRIBUTE kta = { CKA_KEY_TYPE, &k->kt, sizeof k->kt };
	unsigned char *params = NULL, *lab = NULL;
	size_t plen = 0, llen;
	lh_tkey tk;
	int rc;

	if (c->f->C_GetAttributeValue (c->h, o, &kta, 1) != CKR_OK)
		k->kt = CK_UNAVAILABLE_INFORMATION;
	if ((rc = lh_key_get_bytes (t, c, o, CKA_LABEL, &lab, &llen)) !=
	    LH_EXIT_OK ||
	    (rc = lh_key_get_bytes (t, c, o, CKA_ID, &k->id, &k->id_len)) !=
	    LH_EXIT_OK)
		goto out;
	k->label = lab ? (char *)lab : strdup ("");
	lab = NULL;
	if (!k->label) {
		rc = no_memory (t);
		goto out;
	}
	rc = lh_key_get_bytes (t, c, o, k->kt == CKK_RSA ? CKA_MODULUS :
	                       CKA_EC_PARAMS, &params, &plen);
	if (rc != LH_EXIT_OK)
		goto out;
	lh_key_describe (k->kt, params, plen, &k->kind);
	k->local = get_flag (c, o, CKA_LOCAL);
	k->sensitive = get_flag (c, o, CKA_SENSITIVE);
	k->extractable = get_flag (c, o, CKA_EXTRACTABLE);
	if ((k->id_len && (rc = lh_pki_load_cert (t, c, k->id, k->id_len,
	                                          &k->cert)) != LH_EXIT_OK) ||
	    (rc = count_chain (t, c, k->label, &k->chain)) != LH_EXIT_OK)
		goto out;
	memset (&tk, 0, sizeof tk);
	snprintf (tk.label, sizeof tk.label, "%s", k->label);
	/* an id longer than lh_tkey holds (not one of ours) is left out */
	if (k->id_len <= sizeof tk.id) {
		memcpy (tk.id, k->id, k->id_len);
		tk.id_len = k->id_len;
	}
	tk.kt = k->kt;
	if (!(k->uri = lh_pki_key_uri (&c->s, &tk)))
		rc = no_memory (t);
out:
	free (lab);
	free (params);
	return rc;
}

static int
cmp_info (const void *a, const void *b)
{
	const key_info *x = a, *y = b;
	int d = strcmp (x->label, y->label);

	if (d)
		return d;
	return memcmp (x->id, y->id, x->id_len < y->id_len ? x->id_len :
	               y->id_len);
}

/* A certificate's subject as one RFC 2253 line (malloc'd). */
static char *
subject_text (X509 *x)
{
	BIO *b = BIO_new (BIO_s_mem ());
	char *s = NULL, *p;
	long n;

	if (b && X509_NAME_print_ex (b, X509_get_subject_name (x), 0,
	                             XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data (b, &p)) >= 0 && (s = malloc ((size_t)n + 1))) {
		memcpy (s, p, (size_t)n);
		s[n] = '\0';
	}
	BIO_free (b);
	return s;
}

/* notAfter as "YYYY-MM-DDTHH:MM:SSZ" (json) or "YYYY-MM-DD" (people). */
static void
not_after (X509 *x, bool full, char *out, size_t len)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm (X509_get0_notAfter (x), &tm)) {
		snprintf (out, len, "?");
		return;
	}
	strftime (out, len, full ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm);
}

static void
print_json (const lh_secret_ctx *c, const key_info *v, size_t n)
{
	char hex[2 * 64 + 1], date[32], *hexid, *subj;
	lh_json j;
	size_t k;

	lh_json_init (&j, stdout);
	lh_json_object_begin (&j, NULL);
	lh_json_str (&j, "token", c->s.label);
	lh_json_array_begin (&j, "keys");
	for (k = 0; k < n; k++) {
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "label", v[k].label);
		hexid = v[k].id_len <= 64 ? hex : malloc (2 * v[k].id_len + 1);
		if (hexid)
			lh_key_hex (v[k].id, v[k].id_len, hexid);
		lh_json_str (&j, "id", hexid);
		if (hexid != hex)
			free (hexid);
		lh_json_str (&j, "kind", v[k].kind.kind);
		lh_json_str (&j, "type", v[k].kind.type);
		lh_json_str (&j, "curve", v[k].kind.curve[0] ? v[k].kind.curve :
		             NULL);
		lh_json_uint (&j, "bits", v[k].kind.bits);
		lh_json_str (&j, "origin", v[k].local ? "generated" : "imported");
		lh_json_bool (&j, "sensitive", v[k].sensitive);
		lh_json_bool (&j, "extractable", v[k].extractable);
		if (v[k].cert) {
			lh_json_object_begin (&j, "certificate");
			subj = subject_text (v[k].cert);
			lh_json_str (&j, "subject", subj);
			free (subj);
			not_after (v[k].cert, true, date, sizeof date);
			lh_json_str (&j, "not_after", date);
			lh_json_object_end (&j);
		} else {
			lh_json_null (&j, "certificate");
		}
		lh_json_uint (&j, "chain", v[k].chain);
		lh_json_str (&j, "uri", v[k].uri);
		lh_json_object_end (&j);
	}
	lh_json_array_end (&j);
	lh_json_object_end (&j);
	lh_json_finish (&j);
}

static void
print_text (const lh_secret_ctx *c, const key_info *v, size_t n)
{
	char hex[2 * 64 + 1], date[32], *subj;
	size_t k;

	if (n == 0) {
		printf ("No keys in token \"%s\".\n", c->s.label);
		return;
	}
	for (k = 0; k < n; k++) {
		printf ("%s%s (%s, %s)\n", k ? "\n" : "", v[k].label[0] ?
		        v[k].label : "(no label)", v[k].kind.kind,
		        v[k].local ? "generated in the token" : "imported");
		if (v[k].id_len <= 64) {
			lh_key_hex (v[k].id, v[k].id_len, hex);
			printf ("  id:          %s\n", v[k].id_len ? hex : "(none)");
		}
		if (v[k].cert) {
			subj = subject_text (v[k].cert);
			not_after (v[k].cert, false, date, sizeof date);
			printf ("  certificate: %s, until %s", subj ? subj : "?", date);
			if (v[k].chain)
				printf (", and %zu chain certificate%s", v[k].chain,
				        v[k].chain > 1 ? "s" : "");
			printf ("\n");
			free (subj);
		} else {
			printf ("  certificate: none\n");
		}
		if (v[k].extractable || !v[k].sensitive)
			printf ("  warning:     its value can be read from the token "
			        "(%s)\n", v[k].extractable ? "extractable" :
			        "not sensitive");
		printf ("  uri:         %s\n", v[k].uri);
	}
}

static int
key_list (lh_tool *t, int argc, char **argv)
{
	CK_OBJECT_HANDLE *hs = NULL;
	key_info *v = NULL;
	lh_secret_ctx c;
	size_t n = 0, k, got = 0;
	int rc;

	memset (&c, 0, sizeof c);
	if ((rc = lh_args_parse (t, &list_cmd, argc, argv, NULL, NULL)) !=
	    LH_CONTINUE)
		return rc;
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = lh_key_find_objects (t, &c, CKO_PRIVATE_KEY, NULL, &hs, &n)) !=
	    LH_EXIT_OK)
		goto out;
	if (n && !(v = calloc (n, sizeof *v))) {
		rc = no_memory (t);
		goto out;
	}
	for (got = 0; got < n; got++)
		if ((rc = read_info (t, &c, hs[got], &v[got])) != LH_EXIT_OK) {
			got++;
			goto out;
		}
	if (n > 1)
		qsort (v, n, sizeof *v, cmp_info);
	if (t->json)
		print_json (&c, v, n);
	else
		print_text (&c, v, n);
	rc = LH_EXIT_OK;
out:
	for (k = 0; k < got; k++)
		info_free (&v[k]);
	free (v);
	free (hs);
	lh_secret_close (&c);
	return rc;
}

/* ---- key generate ------------------------------------------------------------ */

static const lh_opt gen_opts[] = {
	{ "label", "NAME", OPT_KEY + 100, "the key's name (CKA_LABEL); required" },
	{ "key", "KIND", OPT_KEY, "ec-p256 (default), ec-p384, rsa-2048, "
	  "rsa-3072, rsa-4096 or ed25519" },
	{ "tls", NULL, OPT_TLS, "RSA: also decrypt (TLS 1.2 RSA key exchange)" },
	{ "force", NULL, OPT_FORCE, "replace a key of that name" },
	{ NULL, NULL, 0, NULL },
};

#define OPT_LABEL (OPT_KEY + 100)

static const lh_cmd gen_cmd = {
	.name = "key generate",
	.summary = "Make a key pair inside the token: the private key is\n"
	           "sensitive and never extractable, so it never leaves it.",
	.details = "Prints the key's PKCS#11 URI, for nginx, openssl s_server\n"
	           "(-engine pkcs11 -keyform engine -key URI) or stunnel.  An\n"
	           "existing name is refused unless --force, which removes the\n"
	           "old key, its certificates and chain once the new key exists.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 0,
	.max_args = 0,
	.opts = gen_opts,
};

typedef struct {
	const char *label, *key, *out;
	bool tls, force, yes, der, chain;
} key_args;

static int
key_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	key_args *a = ctx;

	switch (key) {
	case OPT_LABEL: a->label = arg; break;
	case OPT_KEY: a->key = arg; break;
	case OPT_TLS: a->tls = true; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_YES: a->yes = true; break;
	case OPT_OUT: a->out = arg; break;
	case OPT_DER: a->der = true; break;
	case OPT_CHAIN: a->chain = true; break;
	default: return LH_EXIT_USAGE;
	}
	return LH_CONTINUE;
}

/* The handles of name's chain certificates (malloc'd). */
static int
chain_objects (lh_tool *t, lh_secret_ctx *c, const char *name,
               CK_OBJECT_HANDLE **hs, size_t *n)
{
	*hs = NULL;
	*n = 0;
	return add_objects (t, c, CKO_CERTIFICATE, name, true, hs, n);
}

static int
key_generate (lh_tool *t, int argc, char **argv)
{
	key_args a = { .key = "ec-p256" };
	CK_OBJECT_HANDLE *chain = NULL, *old = NULL;
	size_t nchain = 0, nold = 0, k;
	char *uri = NULL, hex[2 * 64 + 1];
	lh_keyspec spec;
	lh_secret_ctx c;
	lh_tkey tk;
	lh_json j;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&tk, 0, sizeof tk);
	if ((rc = lh_args_parse (t, &gen_cmd, argc, argv, key_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	if (!a.label)
		return lh_error (t, LH_EXIT_USAGE, "see 'litehsm key generate "
		                 "--help'", "'key generate' needs --label NAME");
	if ((rc = lh_key_check_name (t, a.label)) != LH_EXIT_OK ||
	    (rc = lh_pki_keyspec (t, a.key, &spec)) != LH_EXIT_OK)
		return rc;
	if (a.tls && spec != LH_KEY_RSA_2048 && spec != LH_KEY_RSA_3072 &&
	    spec != LH_KEY_RSA_4096)
		return lh_error (t, LH_EXIT_USAGE, "leave it out, or choose an rsa "
		                 "--key", "--tls is for RSA keys (TLS 1.2 RSA key "
		                 "exchange decrypts with them)");
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = lh_key_objects (t, &c, a.label, &old, &nold)) != LH_EXIT_OK ||
	    (rc = chain_objects (t, &c, a.label, &chain, &nchain)) != LH_EXIT_OK ||
	    (rc = lh_pki_generate (t, &c, spec, a.label, a.tls, a.force, &tk)) !=
	    LH_EXIT_OK)
		goto out;
	/* the old key's chain does not belong to the new key */
	for (k = 0; k < nchain; k++)
		c.f->C_DestroyObject (c.h, chain[k]);
	if (!(uri = lh_pki_key_uri (&c.s, &tk))) {
		rc = no_memory (t);
		goto out;
	}
	lh_key_hex (tk.id, tk.id_len, hex);
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "label", a.label);
		lh_json_str (&j, "id", hex);
		lh_json_str (&j, "type", lh_pki_keyspec_name (spec));
		lh_json_str (&j, "token", c.s.label);
		lh_json_bool (&j, "replaced", nold > 0);
		lh_json_str (&j, "uri", uri);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("Generated %s key \"%s\" in token \"%s\"%s:\n%s\n",
		        lh_pki_keyspec_name (spec), a.label, c.s.label,
		        nold ? ", replacing the old one" : "", uri);
	}
	rc = LH_EXIT_OK;
out:
	free (uri);
	free (old);
	free (chain);
	lh_tkey_free (&tk);
	lh_secret_close (&c);
	return rc;
}

/*
 * The key pair named name, for delete and export-cert: unlike
 * lh_pki_find this needs no public half (a key another tool stored
 * without its public key can still be deleted); out->pkey stays NULL.
 */
static int
find_key (lh_tool *t, lh_secret_ctx *c, const char *name, lh_tkey *out)
{
	CK_ATTRIBUTE a[] = {
		{ CKA_KEY_TYPE, &out->kt, sizeof out->kt },
		{ CKA_ID, out->id, sizeof out->id },
	};
	CK_OBJECT_HANDLE *hs;
	size_t n;
	int rc;

	memset (out, 0, sizeof *out);
	out->priv = out->pub = CK_INVALID_HANDLE;
	if ((rc = lh_key_find_objects (t, c, CKO_PRIVATE_KEY, name, &hs, &n)) !=
	    LH_EXIT_OK)
		return rc;
	if (n == 1)
		out->priv = hs[0];
	free (hs);
	if (n == 0)
		return lh_error (t, LH_EXIT_NOTFOUND, "see 'litehsm key list'",
		                 "no key named \"%s\" in token \"%s\"", name,
		                 c->s.label);
	if (n > 1)
		return lh_error (t, LH_EXIT_FAIL, "remove or rename the extra ones "
		                 "with a PKCS#11 tool", "token \"%s\" holds %zu "
		                 "private keys named \"%s\"", c->s.label, n, name);
	snprintf (out->label, sizeof out->label, "%s", name);
	/* an id longer than lh_tkey holds is not one of ours: no id then,
	 * and only the private key itself is found */
	if (c->f->C_GetAttributeValue (c->h, out->priv, a, 2) == CKR_OK &&
	    a[1].ulValueLen != CK_UNAVAILABLE_INFORMATION)
		out->id_len = a[1].ulValueLen;
	return LH_EXIT_OK;
}

/* ---- key delete -------------------------------------------------------------- */

static const lh_opt del_opts[] = {
	{ "yes", NULL, OPT_YES, "do not ask for confirmation" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd del_cmd = {
	.name = "key delete",
	.args = "NAME",
	.summary = "Delete the key pair NAME from the token: its private and\n"
	           "public key, its certificate and its chain certificates.",
	.details = "Asks on the terminal first; without one, --yes is needed.\n"
	           "There is no way back: export the certificate first if you\n"
	           "need it ('key export-cert').\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 1,
	.max_args = 1,
	.opts = del_opts,
};

static int
key_delete (lh_tool *t, int argc, char **argv)
{
	CK_OBJECT_HANDLE *chain = NULL;
	key_args a = { NULL };
	char question[256];
	const char *name;
	lh_secret_ctx c;
	size_t nchain = 0, k;
	lh_tkey tk;
	bool ok;
	CK_RV rv;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&tk, 0, sizeof tk);
	if ((rc = lh_args_parse (t, &del_cmd, argc, argv, key_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	name = t->argv[0];
	if (!a.yes && !lh_have_tty ())
		return lh_error (t, LH_EXIT_USAGE, "add --yes to delete it without "
		                 "asking", "refusing to delete a key without "
		                 "confirmation, and there is no terminal to ask on");
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = find_key (t, &c, name, &tk)) != LH_EXIT_OK ||
	    (rc = chain_objects (t, &c, name, &chain, &nchain)) != LH_EXIT_OK)
		goto out;
	if (!a.yes) {
		snprintf (question, sizeof question, "Delete key \"%s\" and its "
		          "certificates from token \"%s\"?", name, c.s.label);
		if (!lh_confirm (question, &ok) || !ok) {
			rc = lh_error (t, LH_EXIT_FAIL, "nothing was changed",
			               "key \"%s\" not deleted", name);
			goto out;
		}
	}
	if ((rc = lh_pki_delete (t, &c, &tk)) != LH_EXIT_OK)
		goto out;
	for (k = 0; k < nchain; k++) {
		rv = c.f->C_DestroyObject (c.h, chain[k]);
		if (rv != CKR_OK && rv != CKR_OBJECT_HANDLE_INVALID) {
			rc = lh_error_rv (t, rv, NULL, "key \"%s\" is deleted, but not "
			                  "all its chain certificates", name);
			goto out;
		}
	}
	if (t->json) {
		lh_json j;

		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "label", name);
		lh_json_str (&j, "token", c.s.label);
		lh_json_str (&j, "action", "deleted");
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("Deleted key \"%s\" from token \"%s\".\n", name, c.s.label);
	}
	rc = LH_EXIT_OK;
out:
	free (chain);
	lh_tkey_free (&tk);
	lh_secret_close (&c);
	return rc;
}

/* ---- key export-cert --------------------------------------------------------- */

static const lh_opt exp_opts[] = {
	{ "out", "FILE", OPT_OUT, "write to FILE (default: standard output)" },
	{ "der", NULL, OPT_DER, "DER instead of PEM" },
	{ "chain", NULL, OPT_CHAIN, "append the chain certificates (PEM)" },
	{ "force", NULL, OPT_FORCE, "replace an existing FILE" },
	{ NULL, NULL, 0, NULL },
};

static const lh_cmd exp_cmd = {
	.name = "key export-cert",
	.args = "NAME",
	.summary = "Write the certificate of key NAME, as PEM (default) or DER,\n"
	           "to standard output or to --out FILE.",
	.details = "FILE is written atomically (mode 0644) and an existing one is\n"
	           "kept unless --force.  --chain appends the CA certificates that\n"
	           "came with the key (a PKCS#12's chain), in chain order, as a\n"
	           "server's certificate file wants them.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 1,
	.max_args = 1,
	.opts = exp_opts,
};

/* name's chain certificates in chain order ("-chain-1" first). */
static int
load_chain (lh_tool *t, lh_secret_ctx *c, const char *name,
            STACK_OF (X509) **out)
{
	CK_OBJECT_HANDLE *hs = NULL;
	unsigned char *lab = NULL, *der = NULL;
	const unsigned char *p;
	size_t n = 0, k, want, ll, dl;
	X509 **byn = NULL;
	int rc;

	*out = sk_X509_new_null ();
	if (!*out)
		return no_memory (t);
	if ((rc = chain_objects (t, c, name, &hs, &n)) != LH_EXIT_OK || n == 0)
		goto out;
	if (!(byn = calloc (n, sizeof *byn))) {
		rc = no_memory (t);
		goto out;
	}
	for (k = 0; k < n && rc == LH_EXIT_OK; k++) {
		if ((rc = lh_key_get_bytes (t, c, hs[k], CKA_LABEL, &lab, &ll)) !=
		    LH_EXIT_OK ||
		    (rc = lh_key_get_bytes (t, c, hs[k], CKA_VALUE, &der, &dl)) !=
		    LH_EXIT_OK)
			break;
		/* the label ends in "-chain-N": N orders them */
		want = strtoul ((char *)lab + strlen (name) + 7, NULL, 10);
		p = der;
		if (want >= 1 && want <= n && !byn[want - 1])
			byn[want - 1] = d2i_X509 (NULL, &p, (long)dl);
		free (lab);
		free (der);
		lab = der = NULL;
	}
	ERR_clear_error ();
	for (k = 0; k < n && rc == LH_EXIT_OK; k++)
		if (byn[k] && sk_X509_push (*out, byn[k]))
			byn[k] = NULL;
out:
	for (k = 0; byn && k < n; k++)
		X509_free (byn[k]);
	free (byn);
	free (hs);
	if (rc != LH_EXIT_OK) {
		sk_X509_pop_free (*out, X509_free);
		*out = NULL;
	}
	return rc;
}

/* PEM (or DER) of x and, with chain, of every certificate in it. */
static int
encode_certs (lh_tool *t, X509 *x, STACK_OF (X509) *chain, bool der,
              BIO *b)
{
	int k, ok;

	ok = der ? i2d_X509_bio (b, x) : PEM_write_bio_X509 (b, x);
	for (k = 0; ok && chain && k < sk_X509_num (chain); k++)
		ok = PEM_write_bio_X509 (b, sk_X509_value (chain, k));
	if (!ok) {
		ERR_clear_error ();
		return no_memory (t);
	}
	return LH_EXIT_OK;
}

/* Write data to FILE through lh_pki_files (atomic, no overwrite
 * without force). */
static int
write_file (lh_tool *t, const char *path, bool force, const void *data,
            size_t len)
{
	lh_pki_files fs = { NULL, force, NULL, 0 };
	const char *slash = strrchr (path, '/');
	char *dir = NULL;
	struct stat st;
	int rc;

	if (!*path || (slash && !slash[1]))
		return lh_error (t, LH_EXIT_USAGE, "give a file name", "--out "
		                 "\"%s\" names a directory", path);
	if (slash && !(dir = strndup (path, (size_t)(slash - path) ?
	                              (size_t)(slash - path) : 1)))
		return no_memory (t);
	fs.dir = dir ? dir : ".";
	/* lh_pki_files refuses these too (atomically); this says it in
	 * terms of this command's options */
	if (stat (fs.dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
		rc = lh_error (t, LH_EXIT_USAGE, "create it first, or choose "
		               "another --out", "the directory %s of --out does not "
		               "exist", fs.dir);
		free (dir);
		return rc;
	}
	if (!force && access (path, F_OK) == 0) {
		free (dir);
		return lh_error (t, LH_EXIT_FAIL, "use --force to replace it, or "
		                 "choose another --out", "%s already exists", path);
	}
	if ((rc = lh_pki_files_add (t, &fs, slash ? slash + 1 : path, data, len,
	                            0644)) == LH_EXIT_OK)
		rc = lh_pki_files_write (t, &fs);
	lh_pki_files_free (&fs);
	free (dir);
	return rc;
}

static int
key_export_cert (lh_tool *t, int argc, char **argv)
{
	key_args a = { NULL };
	STACK_OF (X509) *chain = NULL;
	const char *name;
	lh_secret_ctx c;
	X509 *x = NULL;
	BIO *b = NULL;
	lh_tkey tk;
	char *data;
	long len;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&tk, 0, sizeof tk);
	if ((rc = lh_args_parse (t, &exp_cmd, argc, argv, key_opt, &a)) !=
	    LH_CONTINUE)
		return rc;
	name = t->argv[0];
	if (a.der && a.chain)
		return lh_error (t, LH_EXIT_USAGE, "leave out --der or --chain",
		                 "DER holds one certificate; --chain needs PEM");
	if (a.force && !a.out)
		return lh_error (t, LH_EXIT_USAGE, "leave it out, or give --out "
		                 "FILE", "--force is for --out FILE");
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = find_key (t, &c, name, &tk)) != LH_EXIT_OK ||
	    (tk.id_len && (rc = lh_pki_load_cert (t, &c, tk.id, tk.id_len,
	                                          &x)) != LH_EXIT_OK))
		goto out;
	if (!x) {
		rc = lh_error (t, LH_EXIT_NOTFOUND, "import the key again with "
		               "--cert and --force, or have one issued for it",
		               "key \"%s\" has no certificate in token \"%s\"",
		               name, c.s.label);
		goto out;
	}
	if ((a.chain && (rc = load_chain (t, &c, name, &chain)) != LH_EXIT_OK))
		goto out;
	if (!(b = BIO_new (BIO_s_mem ()))) {
		rc = no_memory (t);
		goto out;
	}
	if ((rc = encode_certs (t, x, chain, a.der, b)) != LH_EXIT_OK)
		goto out;
	len = BIO_get_mem_data (b, &data);
	if (a.out) {
		rc = write_file (t, a.out, a.force, data, (size_t)len);
	} else if (fwrite (data, 1, (size_t)len, stdout) != (size_t)len ||
	           fflush (stdout) != 0) {
		rc = lh_error (t, LH_EXIT_FAIL, "check where stdout goes",
		               "cannot write to stdout");
	}
out:
	BIO_free (b);
	X509_free (x);
	sk_X509_pop_free (chain, X509_free);
	lh_tkey_free (&tk);
	lh_secret_close (&c);
	return rc;
}
