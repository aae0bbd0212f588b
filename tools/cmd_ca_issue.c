/*
 * cmd_ca_issue.c - issuing certificates: "litehsm ca server", "ca client",
 * "ca sign" (a CSR made elsewhere) and "ca renew" (the same subject,
 * names and key again).
 *
 * All four share one core (issue): check that the output files can be
 * written, get the subject's key (made here by OpenSSL and written to a
 * file 0600, made in the token with --key-in-token, or taken from the
 * CSR or the old certificate), make the certificate and have the CA key
 * sign it in the token, record it in the index, write the files.  The
 * index entry exists before any file does and is destroyed again when
 * writing fails, as is a token key made by this run, so a failure
 * leaves neither files nor index entries nor keys behind.
 *
 * The file names follow the seeds: NAME.pem and NAME.key (seed 002),
 * NAME.pk8, NAME.pem.pk8 and NAME.pfx (seed 004), NAME being "server"
 * or "client" unless --name says otherwise.
 */
#include "tools/ca.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

enum {
	OPT_CN = LH_OPT_CMD, OPT_OID, OPT_DAYS, OPT_PATH, OPT_KEY, OPT_IN_TOKEN,
	OPT_LABEL, OPT_NAME, OPT_CA, OPT_FORCE, OPT_CHAIN, OPT_FORMAT,
	OPT_PFX_PASS, OPT_CSR, OPT_PROFILE, OPT_SAN, OPT_REVOKE_OLD,
};

#define OUT_OPTS \
	{ "days", "N", OPT_DAYS, "valid for N days (default 365)" }, \
	{ "path", "DIR", OPT_PATH, "write the files into DIR (default: the " \
	  "current directory)" }, \
	{ "name", "NAME", OPT_NAME, "base name of the files (default: server " \
	  "or client)" }, \
	{ "ca", "LABEL", OPT_CA, "the issuing CA (default " LH_CA_DEFAULT ")" }, \
	{ "chain", NULL, OPT_CHAIN, "also write NAME-chain.pem: the " \
	  "certificate and its CAs" }, \
	{ "force", NULL, OPT_FORCE, "replace existing files (and a token key " \
	  "of that label)" }

#define KEY_OPTS \
	{ "key", "KIND", OPT_KEY, "the new key: ec-p256 (default), ec-p384, " \
	  "rsa-2048, rsa-3072, rsa-4096, ed25519" }, \
	{ "key-in-token", NULL, OPT_IN_TOKEN, "generate the key in the token " \
	  "and print its PKCS#11 URI" }, \
	{ "label", "LABEL", OPT_LABEL, "the token key's label (default: the " \
	  "common name)" }, \
	{ "format", "LIST", OPT_FORMAT, "key files: pem (NAME.key, default), " \
	  "pk8, pk8-pem, pfx" }, \
	{ "pfx-pass-file", "FILE", OPT_PFX_PASS, "the password of NAME.pfx " \
	  "(default: none)" }

static const lh_opt server_opts[] = {
	{ "common-name", "NAMES", OPT_CN, "host names and IP addresses, "
	  "comma-separated (required)" },
	{ "cn", "NAMES", OPT_CN, "the same as --common-name" },
	KEY_OPTS,
	OUT_OPTS,
	{ NULL, NULL, 0, NULL },
};

static const lh_opt client_opts[] = {
	{ "oid", "FIELDS", OPT_OID, "the subject, e.g. C:DE,CN:backup,O:Example "
	  "(default CN:client)" },
	KEY_OPTS,
	OUT_OPTS,
	{ NULL, NULL, 0, NULL },
};

static const lh_opt sign_opts[] = {
	{ "csr", "FILE", OPT_CSR, "the certificate request, PEM or DER "
	  "(required)" },
	{ "profile", "KIND", OPT_PROFILE, "server or client (required)" },
	{ "san", "NAMES", OPT_SAN, "host names and IP addresses instead of the "
	  "request's" },
	{ "oid", "FIELDS", OPT_OID, "a subject instead of the request's" },
	OUT_OPTS,
	{ NULL, NULL, 0, NULL },
};

static const lh_opt renew_opts[] = {
	{ "revoke-old", NULL, OPT_REVOKE_OLD, "revoke the old certificate "
	  "(reason superseded)" },
	OUT_OPTS,
	{ NULL, NULL, 0, NULL },
};

#define ISSUE_DETAILS \
	"The certificate is signed by the CA's key inside the token and\n" \
	"recorded in the CA's index there ('litehsm ca list').  Files are\n" \
	"written atomically, keys with mode 0600, and never over existing\n" \
	"files without --force.  A validity beyond the CA's is refused.\n"

static const lh_cmd server_cmd = {
	.name = "ca server",
	.summary = "Issue a TLS server certificate for --common-name NAMES:\n"
	           "every name goes into subjectAltName (DNS name or IP\n"
	           "address), the first also into the CN; extendedKeyUsage\n"
	           "serverAuth.  Writes DIR/NAME.pem and DIR/NAME.key.",
	.details = ISSUE_DETAILS
	           "With --key-in-token the key is generated in the token\n"
	           "instead, only the certificate is written (and stored next to\n"
	           "the key), and the key's PKCS#11 URI is printed for nginx,\n"
	           "openssl s_server or stunnel.  X.509 has no IP wildcards:\n"
	           "\"192.168.1.*\" is refused; list the addresses instead.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.opts = server_opts,
};

static const lh_cmd client_cmd = {
	.name = "ca client",
	.summary = "Issue a TLS client certificate (extendedKeyUsage\n"
	           "clientAuth) with the subject --oid FIELDS, keys C, CN, DQ,\n"
	           "GN, GQ, I, L, N, O, OU, P, PC, S (surname), ST, T; \"\\,\"\n"
	           "escapes a comma.  Writes DIR/NAME.pem and DIR/NAME.key.",
	.details = ISSUE_DETAILS
	           "--format pem,pk8,pk8-pem,pfx also writes NAME.pk8 (PKCS#8\n"
	           "DER), NAME.pem.pk8 (PKCS#8 PEM) and NAME.pfx (PKCS#12 with\n"
	           "the chain; empty password unless --pfx-pass-file).\n"
	           "--key-in-token keeps the key in the token (only the\n"
	           "certificate is written).\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.opts = client_opts,
};

static const lh_cmd sign_cmd = {
	.name = "ca sign",
	.summary = "Sign a certificate request made elsewhere, after checking\n"
	           "its signature, as a server or client certificate; writes\n"
	           "DIR/NAME.pem.",
	.details = ISSUE_DETAILS
	           "The request's subject and subjectAltName are kept unless\n"
	           "--oid or --san replace them; a server certificate without\n"
	           "names takes its CN as the name.  Other requested extensions\n"
	           "are ignored: the profile decides.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.opts = sign_opts,
};

static const lh_cmd renew_cmd = {
	.name = "ca renew",
	.args = "SERIAL",
	.summary = "Issue a new certificate for the subject, names and public\n"
	           "key of certificate SERIAL ('litehsm ca list'); writes\n"
	           "DIR/NAME.pem.  Key files are not touched; a token key stays\n"
	           "the same key and gets the new certificate next to it.",
	.details = ISSUE_DETAILS
	           "The new one is valid as long as the old one was, unless\n"
	           "--days.  The old one stays valid unless --revoke-old.\n",
	.globals = LH_G_TOKEN | LH_G_PIN,
	.min_args = 1,
	.max_args = 1,
	.opts = renew_opts,
};

/* Room for an output file's name: NAME and its longest suffix. */
#define NAME_MAX_LEN (LH_CA_LABEL_MAX + 16)

/* Key file formats of --format. */
#define F_PEM    0x01u
#define F_PK8    0x02u
#define F_PK8PEM 0x04u
#define F_PFX    0x08u

typedef struct {
	lh_ca_profile profile;
	const char *cn, *oid, *san, *csr, *path, *key, *label, *name, *ca;
	const char *pfx_pass, *serial;
	long days;                  /* -1: not given */
	unsigned formats;
	bool in_token, force, chain, revoke_old;
} issue_args;

/* What one run issues; everything in it is owned. */
typedef struct {
	X509_NAME *subject;
	GENERAL_NAMES *sans;
	EVP_PKEY *pub;              /* the key to certify, when given */
	EVP_PKEY *key;              /* a key made here, for the key files */
	lh_tkey tkey;               /* the token key, when tkey_used */
	bool tkey_used, tkey_made;
	X509 *old;                  /* renew: the certificate renewed */
	lh_ca_entry *old_entry;     /* renew: its index entry */
	bool old_revoked;           /* revoked by this run (--revoke-old) */
	lh_ca_entry entry;          /* the new index entry */
	lh_pin pass;                /* the PKCS#12 password */
	char base[LH_CA_LABEL_MAX + 1];
} plan;

static void
plan_free (plan *p)
{
	X509_NAME_free (p->subject);
	GENERAL_NAMES_free (p->sans);
	EVP_PKEY_free (p->pub);
	EVP_PKEY_free (p->key);
	lh_tkey_free (&p->tkey);
	X509_free (p->old);
	lh_ca_entry_free (&p->entry);
	lh_pin_clear (&p->pass);
}

/* ---- options ------------------------------------------------------------- */

static int
parse_formats (lh_tool *t, const char *list, unsigned *out)
{
	static const struct { const char *name; unsigned bit; } fmts[] = {
		{ "pem", F_PEM }, { "pk8", F_PK8 }, { "pk8-pem", F_PK8PEM },
		{ "pfx", F_PFX },
	};
	char *copy = strdup (list), *item, *save = NULL;
	size_t i;
	int rc = LH_CONTINUE;

	*out = 0;
	if (!copy)
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	for (item = strtok_r (copy, ",", &save); item && rc == LH_CONTINUE;
	     item = strtok_r (NULL, ",", &save)) {
		for (i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
			if (strcmp (item, fmts[i].name) == 0)
				break;
		if (i == sizeof fmts / sizeof fmts[0])
			rc = lh_error (t, LH_EXIT_USAGE, "use pem, pk8, pk8-pem and "
			               "pfx, comma-separated", "unknown --format "
			               "\"%s\"", item);
		else
			*out |= fmts[i].bit;
	}
	free (copy);
	if (rc == LH_CONTINUE && *out == 0)
		rc = lh_error (t, LH_EXIT_USAGE, "use pem, pk8, pk8-pem and pfx, "
		               "comma-separated", "--format is empty");
	return rc;
}

static int
issue_opt (lh_tool *t, void *ctx, int key, const char *arg)
{
	issue_args *a = ctx;

	switch (key) {
	case OPT_CN: a->cn = arg; break;
	case OPT_OID: a->oid = arg; break;
	case OPT_DAYS: return lh_ca_number (t, "days", arg, 36500, &a->days);
	case OPT_PATH: a->path = arg; break;
	case OPT_KEY: a->key = arg; break;
	case OPT_IN_TOKEN: a->in_token = true; break;
	case OPT_LABEL: a->label = arg; break;
	case OPT_NAME: a->name = arg; break;
	case OPT_CA: a->ca = arg; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_CHAIN: a->chain = true; break;
	case OPT_FORMAT: return parse_formats (t, arg, &a->formats);
	case OPT_PFX_PASS: a->pfx_pass = arg; break;
	case OPT_CSR: a->csr = arg; break;
	case OPT_SAN: a->san = arg; break;
	case OPT_REVOKE_OLD: a->revoke_old = true; break;
	case OPT_PROFILE:
		if (strcmp (arg, "server") == 0)
			a->profile = LH_CA_SERVER;
		else if (strcmp (arg, "client") == 0)
			a->profile = LH_CA_CLIENT;
		else
			return lh_error (t, LH_EXIT_USAGE, "use server or client",
			                 "unknown --profile \"%s\"", arg);
		break;
	default: break;
	}
	return LH_CONTINUE;
}

/* The checks of the options that go together. */
static int
check_args (lh_tool *t, issue_args *a, plan *p)
{
	const char *base = a->name ? a->name : lh_ca_profile_name (a->profile);

	if (!*base || strchr (base, '/') || strlen (base) > LH_CA_LABEL_MAX - 16)
		return lh_error (t, LH_EXIT_USAGE, "give a plain file name of at "
		                 "most 112 characters", "--name \"%s\" cannot be a "
		                 "file name", base);
	snprintf (p->base, sizeof p->base, "%s", base);
	if (a->in_token && (a->formats & ~F_PEM))
		return lh_error (t, LH_EXIT_USAGE, "leave out --format, or "
		                 "--key-in-token", "with --key-in-token the key "
		                 "stays in the token: no key file (pk8, pk8-pem, "
		                 "pfx) can be written");
	if (a->label && !a->in_token)
		return lh_error (t, LH_EXIT_USAGE, "add --key-in-token, or leave "
		                 "out --label", "--label names a key in the token");
	if (a->pfx_pass && !(a->formats & F_PFX))
		return lh_error (t, LH_EXIT_USAGE, "add --format ...,pfx, or leave "
		                 "out --pfx-pass-file", "--pfx-pass-file without a "
		                 "pfx file to write");
	if (a->pfx_pass)
		return lh_pin_from_file (t, a->pfx_pass, "--pfx-pass-file",
		                         &p->pass);
	return LH_EXIT_OK;
}

/* ---- keys and files ------------------------------------------------------ */

static EVP_PKEY *
soft_key (lh_keyspec s)
{
	switch (s) {
	case LH_KEY_EC_P256: return EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
	case LH_KEY_EC_P384: return EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-384");
	case LH_KEY_RSA_2048:
		return EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t)2048);
	case LH_KEY_RSA_3072:
		return EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t)3072);
	case LH_KEY_RSA_4096:
		return EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t)4096);
	case LH_KEY_ED25519: return EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");
	}
	return NULL;
}

/* The subject's CN, for a token key's default label. */
static void
subject_cn (const X509_NAME *n, char *out, size_t cap)
{
	int i = X509_NAME_get_index_by_NID (n, NID_commonName, -1);
	ASN1_STRING *s = i >= 0 ?
	                 X509_NAME_ENTRY_get_data (X509_NAME_get_entry (n, i)) :
	                 NULL;
	unsigned char *u = NULL;
	int len = s ? ASN1_STRING_to_UTF8 (&u, s) : -1;

	snprintf (out, cap, "%.*s", len > 0 ? len : 0, len > 0 ? (char *)u : "");
	OPENSSL_free (u);
}

/* The key the certificate is for: given, made in the token or here. */
static int
get_key (lh_tool *t, lh_secret_ctx *c, const issue_args *a, plan *p)
{
	char label[LH_CA_LABEL_MAX + 1];
	lh_keyspec spec;
	int rc;

	if (p->pub)
		return LH_EXIT_OK;
	if ((rc = lh_pki_keyspec (t, a->key, &spec)) != LH_EXIT_OK)
		return rc;
	if (a->in_token) {
		if (a->label)
			snprintf (label, sizeof label, "%s", a->label);
		else
			subject_cn (p->subject, label, sizeof label);
		if (!*label)
			snprintf (label, sizeof label, "%s", p->base);
		if ((rc = lh_pki_generate (t, c, spec, label, true, a->force,
		                           &p->tkey)) != LH_EXIT_OK)
			return rc;
		p->tkey_used = p->tkey_made = true;
		p->pub = p->tkey.pkey;
		return EVP_PKEY_up_ref (p->pub) ? LH_EXIT_OK :
		       lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	}
	if (!(p->key = soft_key (spec)) || !EVP_PKEY_up_ref (p->key)) {
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_FAIL, "check the OpenSSL installation",
		                 "cannot generate a %s key", a->key);
	}
	p->pub = p->key;
	return LH_EXIT_OK;
}

/* What one output file holds. */
typedef enum {
	OUT_CERT, OUT_KEY, OUT_PK8, OUT_PK8_PEM, OUT_PFX, OUT_CHAIN,
} out_kind;

typedef struct {
	out_kind kind;
	char name[NAME_MAX_LEN];
} out_file;

#define MAX_OUT 6

static const struct {
	out_kind kind;
	unsigned format;            /* the --format bit it needs, or 0 */
	const char *suffix;
} outs[MAX_OUT] = {
	{ OUT_CERT, 0, ".pem" },
	{ OUT_KEY, F_PEM, ".key" },
	{ OUT_PK8, F_PK8, ".pk8" },
	{ OUT_PK8_PEM, F_PK8PEM, ".pem.pk8" },
	{ OUT_PFX, F_PFX, ".pfx" },
	{ OUT_CHAIN, 0, "-chain.pem" },
};

/* The files this run writes, in order: the certificate, the key files
 * of --format (only for a key made here), the chain with --chain. */
static size_t
outputs (const issue_args *a, const plan *p, out_file out[MAX_OUT])
{
	bool keys = !a->in_token && !p->tkey_used && !p->old && !a->csr;
	size_t n = 0, i;

	for (i = 0; i < MAX_OUT; i++) {
		if (outs[i].format && !(keys && (a->formats & outs[i].format)))
			continue;
		if (outs[i].kind == OUT_CHAIN && !a->chain)
			continue;
		out[n].kind = outs[i].kind;
		snprintf (out[n].name, sizeof out[n].name, "%s%s", p->base,
		          outs[i].suffix);
		n++;
	}
	return n;
}

static int
check_files (lh_tool *t, const issue_args *a, const plan *p)
{
	out_file out[MAX_OUT];
	const char *v[MAX_OUT];
	size_t n = outputs (a, p, out), i;

	for (i = 0; i < n; i++)
		v[i] = out[i].name;
	return lh_pki_files_check (t, lh_ca_dir (a->path), a->force, v, n);
}

/* The chain file: the certificate, then its CA and those above it. */
static int
chain_pem (lh_tool *t, X509 *x, const lh_ca *ca, unsigned char **out,
           size_t *len)
{
	BIO *b = BIO_new (BIO_s_mem ());
	char *data;
	long n;
	int i, ok;

	ok = b && PEM_write_bio_X509 (b, x);
	for (i = 0; ok && i < sk_X509_num (ca->chain); i++)
		ok = PEM_write_bio_X509 (b, sk_X509_value (ca->chain, i));
	*out = NULL;
	if (ok && (n = BIO_get_mem_data (b, &data)) > 0 &&
	    (*out = OPENSSL_malloc ((size_t)n))) {
		memcpy (*out, data, (size_t)n);
		*len = (size_t)n;
	}
	BIO_free (b);
	return *out ? LH_EXIT_OK :
	       lh_error (t, LH_EXIT_FAIL, "free some memory", "cannot encode "
	                 "the certificate chain");
}

/* The bytes of one output file (malloc'd; wipe with lh_pki_free_buf). */
static int
encode (lh_tool *t, const plan *p, const lh_ca *ca, X509 *x, out_kind k,
        unsigned char **buf, size_t *len)
{
	switch (k) {
	case OUT_CERT: return lh_pki_cert_pem (t, x, buf, len);
	case OUT_CHAIN: return chain_pem (t, x, ca, buf, len);
	case OUT_KEY: return lh_pki_key_out (t, p->key, "pem", buf, len);
	case OUT_PK8: return lh_pki_key_out (t, p->key, "pk8", buf, len);
	case OUT_PK8_PEM: return lh_pki_key_out (t, p->key, "pk8-pem", buf, len);
	case OUT_PFX:
		return lh_pki_pfx (t, p->key, x, ca->chain, p->pass.v, buf, len);
	}
	return LH_EXIT_FAIL;
}

static int
write_files (lh_tool *t, const issue_args *a, plan *p, const lh_ca *ca,
             X509 *x)
{
	lh_pki_files fs = { lh_ca_dir (a->path), a->force, NULL, 0 };
	out_file out[MAX_OUT];
	unsigned char *buf;
	size_t n = outputs (a, p, out), i, len;
	bool pub;
	int rc = LH_EXIT_OK;

	for (i = 0; i < n && rc == LH_EXIT_OK; i++) {
		buf = NULL;
		len = 0;
		pub = out[i].kind == OUT_CERT || out[i].kind == OUT_CHAIN;
		if ((rc = encode (t, p, ca, x, out[i].kind, &buf, &len)) ==
		    LH_EXIT_OK)
			rc = lh_pki_files_add (t, &fs, out[i].name, buf, len,
			                       pub ? 0644 : 0600);
		lh_pki_free_buf (buf, len);
	}
	if (rc == LH_EXIT_OK)
		rc = lh_pki_files_write (t, &fs);
	lh_pki_files_free (&fs);
	return rc;
}

/* ---- output -------------------------------------------------------------- */

static void
json_name (void *ctx, const char *name)
{
	lh_json_str (ctx, NULL, name);
}

static void
print_issued (lh_tool *t, const lh_secret_ctx *c, const lh_ca *ca,
              const issue_args *a, const plan *p, X509 *x)
{
	char subj[512], sans[1024];
	out_file out[MAX_OUT];
	char until[40], old[80];
	char *uri = p->tkey_used ? lh_pki_key_uri (&c->s, &p->tkey) : NULL;
	const char *dir = lh_ca_dir (a->path);
	size_t n = outputs (a, p, out), i;
	lh_json j;

	lh_ca_name_text (X509_get_subject_name (x), subj, sizeof subj);
	lh_ca_names_text (x, sans, sizeof sans);
	lh_ca_time_text (X509_get0_notAfter (x), until, sizeof until);
	if (p->old)
		lh_ca_serial_hex (X509_get0_serialNumber (p->old), old, sizeof old);
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "ca", ca->label);
		lh_json_str (&j, "serial", p->entry.serial);
		lh_json_str (&j, "profile", lh_ca_profile_name (p->entry.profile));
		lh_json_str (&j, "subject", subj);
		lh_json_array_begin (&j, "names");
		lh_ca_names_each (x, json_name, &j);
		lh_json_array_end (&j);
		lh_json_str (&j, "not_after", until);
		lh_json_array_begin (&j, "files");
		for (i = 0; i < n; i++) {
			char *path = NULL;

			if (asprintf (&path, "%s/%s", dir, out[i].name) >= 0)
				lh_json_str (&j, NULL, path);
			free (path);
		}
		lh_json_array_end (&j);
		lh_json_str (&j, "key_uri", uri);
		lh_json_str (&j, "renewed", p->old ? old : NULL);
		lh_json_bool (&j, "old_revoked", p->old && a->revoke_old);
		lh_json_object_end (&j);
		lh_json_finish (&j);
		free (uri);
		return;
	}
	printf ("Issued %s certificate %s (CA \"%s\")\n  subject: %s\n",
	        lh_ca_profile_name (p->entry.profile), p->entry.serial, ca->label,
	        subj);
	if (*sans)
		printf ("  names: %s\n", sans);
	printf ("  valid until: %s\n", until);
	if (p->old)
		printf ("  renews: %s%s\n", old, a->revoke_old ? " (now revoked)" :
		        "");
	for (i = 0; i < n; i++)
		printf ("  wrote: %s/%s\n", dir, out[i].name);
	if (uri)
		printf ("  key in token \"%s\": %s\n", c->s.label, uri);
	free (uri);
}

/* ---- the core ------------------------------------------------------------ */

/* Undo what a failed run made in the token. */
static void
undo (lh_tool *t, lh_secret_ctx *c, plan *p)
{
	if (p->entry.h != CK_INVALID_HANDLE)
		c->f->C_DestroyObject (c->h, p->entry.h);
	p->entry.h = CK_INVALID_HANDLE;
	if (p->old_revoked) {
		p->old_entry->revoked = false;
		p->old_entry->reason = 0;
		p->old_entry->revoked_at = 0;
		lh_ca_index_update (t, c, p->old_entry);
	}
	if (p->tkey_made)
		lh_pki_delete (t, c, &p->tkey);
	else if (p->tkey_used && p->old)
		lh_pki_store_cert (t, c, p->old, p->tkey.id, p->tkey.id_len,
		                   p->tkey.label);
}

static int
issue (lh_tool *t, lh_secret_ctx *c, const lh_ca *ca, const issue_args *a,
       plan *p)
{
	lh_ca_req r = { p->subject, NULL, p->sans, a->profile, a->days };
	X509 *x = NULL;
	int rc;

	if ((rc = check_files (t, a, p)) != LH_EXIT_OK ||
	    (rc = get_key (t, c, a, p)) != LH_EXIT_OK)
		goto out;
	r.pub = p->pub;
	p->entry.h = CK_INVALID_HANDLE;
	if ((rc = lh_ca_make_cert (t, c, ca, NULL, &r, &x)) != LH_EXIT_OK ||
	    (p->tkey_used &&
	     (rc = lh_pki_store_cert (t, c, x, p->tkey.id, p->tkey.id_len,
	                              p->tkey.label)) != LH_EXIT_OK))
		goto out;
	p->entry.cert = x;
	p->entry.profile = a->profile;
	if (p->tkey_used)
		snprintf (p->entry.key_label, sizeof p->entry.key_label, "%s",
		          p->tkey.label);
	if (!X509_up_ref (x)) {
		p->entry.cert = NULL;
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	if ((rc = lh_ca_index_add (t, c, ca->label, &p->entry)) != LH_EXIT_OK)
		goto out;
	/* renew --revoke-old: in the index before the files are out, and
	 * taken back by undo if they cannot be written */
	if (p->old_entry && a->revoke_old) {
		p->old_entry->revoked = true;
		p->old_entry->reason = 4;       /* superseded */
		p->old_entry->revoked_at = (int64_t)time (NULL);
		if ((rc = lh_ca_index_update (t, c, p->old_entry)) != LH_EXIT_OK)
			goto out;
		p->old_revoked = true;
	}
	if ((rc = write_files (t, a, p, ca, x)) != LH_EXIT_OK)
		goto out;
	p->tkey_made = false;   /* done: nothing to undo */
	rc = LH_EXIT_OK;
out:
	if (rc != LH_EXIT_OK)
		undo (t, c, p);
	else
		print_issued (t, c, ca, a, p, x);
	X509_free (x);
	return rc;
}

/* Open the token, load the CA, issue. */
static int
run (lh_tool *t, issue_args *a, plan *p)
{
	lh_secret_ctx c;
	lh_ca ca;
	int rc;

	memset (&ca, 0, sizeof ca);
	if ((rc = lh_secret_open (t, &c)) == LH_EXIT_OK &&
	    (rc = lh_ca_load (t, &c, a->ca, &ca)) == LH_EXIT_OK)
		rc = issue (t, &c, &ca, a, p);
	lh_ca_free (&ca);
	lh_secret_close (&c);
	return rc;
}

static void
args_init (issue_args *a, plan *p, lh_ca_profile profile)
{
	memset (a, 0, sizeof *a);
	memset (p, 0, sizeof *p);
	a->profile = profile;
	a->key = "ec-p256";
	a->ca = LH_CA_DEFAULT;
	a->days = -1;
	a->formats = F_PEM;
	p->entry.h = CK_INVALID_HANDLE;
}

/* ---- server, client ------------------------------------------------------ */

int
lh_ca_server (lh_tool *t, int argc, char **argv)
{
	char cn[65];
	issue_args a;
	plan p;
	int rc;

	args_init (&a, &p, LH_CA_SERVER);
	if ((rc = lh_args_parse (t, &server_cmd, argc, argv, issue_opt, &a)) !=
	    LH_CONTINUE)
		goto out;
	if (a.days < 0)
		a.days = 365;
	if (!a.cn) {
		rc = lh_error (t, LH_EXIT_USAGE, "give --common-name=NAME[,NAME...]",
		               "no --common-name given");
		goto out;
	}
	if ((rc = check_args (t, &a, &p)) != LH_EXIT_OK ||
	    (rc = lh_pki_sans (t, a.cn, &p.sans, cn, sizeof cn)) != LH_EXIT_OK)
		goto out;
	if (!(p.subject = X509_NAME_new ()) ||
	    !X509_NAME_add_entry_by_NID (p.subject, NID_commonName, MBSTRING_UTF8,
	                                 (const unsigned char *)cn, -1, -1, 0)) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	rc = run (t, &a, &p);
out:
	plan_free (&p);
	return rc;
}

int
lh_ca_client (lh_tool *t, int argc, char **argv)
{
	issue_args a;
	plan p;
	int rc;

	args_init (&a, &p, LH_CA_CLIENT);
	if ((rc = lh_args_parse (t, &client_cmd, argc, argv, issue_opt, &a)) !=
	    LH_CONTINUE)
		goto out;
	if (a.days < 0)
		a.days = 365;
	if ((rc = check_args (t, &a, &p)) != LH_EXIT_OK ||
	    (rc = lh_pki_subject (t, a.oid ? a.oid : "CN:client",
	                          &p.subject)) != LH_EXIT_OK)
		goto out;
	rc = run (t, &a, &p);
out:
	plan_free (&p);
	return rc;
}

/* ---- sign ---------------------------------------------------------------- */

static int
read_csr (lh_tool *t, const char *path, X509_REQ **out)
{
	BIO *b = BIO_new_file (path, "rb");

	*out = NULL;
	if (!b) {
		ERR_clear_error ();
		return lh_error (t, LH_EXIT_USAGE, "check the --csr path", "cannot "
		                 "read the certificate request %s", path);
	}
	if (!(*out = PEM_read_bio_X509_REQ (b, NULL, NULL, NULL)) &&
	    BIO_reset (b) == 0)
		*out = d2i_X509_REQ_bio (b, NULL);
	BIO_free (b);
	ERR_clear_error ();
	if (!*out)
		return lh_error (t, LH_EXIT_USAGE, "give a PKCS#10 request in PEM "
		                 "or DER", "%s is not a certificate request", path);
	/* SPEC: RFC 2986 4.2: the request is signed by its own key */
	if (X509_REQ_verify (*out, X509_REQ_get0_pubkey (*out)) != 1) {
		ERR_clear_error ();
		X509_REQ_free (*out);
		*out = NULL;
		return lh_error (t, LH_EXIT_USAGE, "make the request again with its "
		                 "own key", "the signature of the certificate "
		                 "request %s does not verify", path);
	}
	return LH_EXIT_OK;
}

/* Subject and names from the request, unless --oid/--san replace them. */
static int
csr_names (lh_tool *t, const issue_args *a, X509_REQ *req, plan *p)
{
	STACK_OF (X509_EXTENSION) *exts;
	char first[65], cn[256];
	int rc;

	if (a->oid) {
		if ((rc = lh_pki_subject (t, a->oid, &p->subject)) != LH_EXIT_OK)
			return rc;
	} else {
		p->subject = X509_NAME_dup (X509_REQ_get_subject_name (req));
		if (!p->subject)
			return lh_error (t, LH_EXIT_FAIL, "free some memory",
			                 "out of memory");
	}
	if (a->san)
		return lh_pki_sans (t, a->san, &p->sans, first, sizeof first);
	exts = X509_REQ_get_extensions (req);
	p->sans = X509V3_get_d2i (exts, NID_subject_alt_name, NULL, NULL);
	sk_X509_EXTENSION_pop_free (exts, X509_EXTENSION_free);
	ERR_clear_error ();
	if (p->sans || a->profile != LH_CA_SERVER)
		return LH_EXIT_OK;
	/* a server needs a name a client can check: the CN, then */
	subject_cn (p->subject, cn, sizeof cn);
	if (!*cn)
		return lh_error (t, LH_EXIT_USAGE, "give --san NAMES", "the request "
		                 "has neither names nor a CN for a server "
		                 "certificate");
	return lh_pki_sans (t, cn, &p->sans, first, sizeof first);
}

int
lh_ca_sign (lh_tool *t, int argc, char **argv)
{
	X509_REQ *req = NULL;
	issue_args a;
	plan p;
	int rc;

	args_init (&a, &p, 0);
	if ((rc = lh_args_parse (t, &sign_cmd, argc, argv, issue_opt, &a)) !=
	    LH_CONTINUE)
		goto out;
	if (a.days < 0)
		a.days = 365;
	if (!a.csr || !a.profile) {
		rc = lh_error (t, LH_EXIT_USAGE, "give --csr FILE and --profile "
		               "server|client", "no %s given", !a.csr ? "--csr" :
		               "--profile");
		goto out;
	}
	if ((rc = check_args (t, &a, &p)) != LH_EXIT_OK ||
	    (rc = read_csr (t, a.csr, &req)) != LH_EXIT_OK ||
	    (rc = csr_names (t, &a, req, &p)) != LH_EXIT_OK)
		goto out;
	if (!(p.pub = X509_REQ_get_pubkey (req))) {
		rc = lh_error (t, LH_EXIT_USAGE, "make the request with an RSA, EC "
		               "or Ed25519 key", "the key of %s is not usable",
		               a.csr);
		goto out;
	}
	rc = run (t, &a, &p);
out:
	X509_REQ_free (req);
	plan_free (&p);
	return rc;
}

/* ---- renew --------------------------------------------------------------- */

/* Take subject, names, key and profile of the old certificate. */
static int
renew_plan (lh_tool *t, lh_secret_ctx *c, issue_args *a, lh_ca_entry *old,
            plan *p)
{
	bool found;
	int secs, days;
	int rc;

	if (old->revoked)
		return lh_error (t, LH_EXIT_FAIL, "issue a new one with 'litehsm ca "
		                 "server' or 'ca client'", "certificate %s is "
		                 "revoked", old->serial);
	a->profile = old->profile;
	if (!a->name && old->profile == LH_CA_SUBCA && *old->key_label)
		a->name = old->key_label;
	if (!X509_up_ref (old->cert))
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	p->old = old->cert;
	p->subject = X509_NAME_dup (X509_get_subject_name (p->old));
	p->sans = X509_get_ext_d2i (p->old, NID_subject_alt_name, NULL, NULL);
	p->pub = X509_get_pubkey (p->old);
	ERR_clear_error ();
	if (!p->subject || !p->pub)
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	/* as long as the old one was valid, unless --days */
	if (a->days < 0) {
		if (!ASN1_TIME_diff (&days, &secs, X509_get0_notBefore (p->old),
		                     X509_get0_notAfter (p->old)) || days < 1)
			days = 1;
		a->days = days;
	}
	if ((rc = check_args (t, a, p)) != LH_EXIT_OK || !*old->key_label)
		return rc;
	/* the same token key: it gets the new certificate next to it */
	if ((rc = lh_pki_lookup (t, c, old->key_label, &p->tkey, &found)) !=
	    LH_EXIT_OK)
		return rc;
	if (!found || EVP_PKEY_eq (p->tkey.pkey, p->pub) != 1)
		return lh_error (t, LH_EXIT_FAIL, "issue a new certificate instead",
		                 "the key \"%s\" of certificate %s is no longer in "
		                 "token \"%s\"", old->key_label, old->serial,
		                 c->s.label);
	p->tkey_used = true;
	return LH_EXIT_OK;
}

int
lh_ca_renew (lh_tool *t, int argc, char **argv)
{
	lh_ca_entry old = { .h = CK_INVALID_HANDLE };
	lh_secret_ctx c;
	issue_args a;
	lh_ca ca;
	plan p;
	int rc;

	memset (&c, 0, sizeof c);
	memset (&ca, 0, sizeof ca);
	args_init (&a, &p, 0);
	if ((rc = lh_args_parse (t, &renew_cmd, argc, argv, issue_opt, &a)) !=
	    LH_CONTINUE)
		goto out;
	a.serial = t->argv[0];
	if ((rc = lh_secret_open (t, &c)) != LH_EXIT_OK ||
	    (rc = lh_ca_load (t, &c, a.ca, &ca)) != LH_EXIT_OK ||
	    (rc = lh_ca_index_get (t, &c, a.ca, a.serial, &old)) != LH_EXIT_OK ||
	    (rc = renew_plan (t, &c, &a, &old, &p)) != LH_EXIT_OK)
		goto out;
	p.old_entry = &old;
	rc = issue (t, &c, &ca, &a, &p);
out:
	lh_ca_entry_free (&old);
	plan_free (&p);
	lh_ca_free (&ca);
	lh_secret_close (&c);
	return rc;
}
