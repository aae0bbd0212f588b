/*
 * keystore_sync.c - copying secrets from the root keystore into a user's
 * local keystore, and finding out what a local keystore holds.
 *
 * A sync is a short conversation between this process (the root keystore)
 * and a child running as the user (the local keystore, lh_ks_run_as):
 *
 *   create    child: make the token with the registered PINs; as its SO,
 *             an EC P-256 key pair (a token private key, a session public
 *             key); hands back the public point.
 *             root: as SO, an ephemeral EC pair and ECDH with that point
 *             -> litehsm-transport@U (public, CKA_TRUSTED, wrap only).
 *   wrap      root: as the user, every shared secret and U's own, wrapped
 *             (AES key wrap with padding) under U's transport key.
 *   apply     child: (after create: ECDH with the root's point ->
 *             litehsm-transport, unwrap only) as SO, unwrap the shared
 *             secrets as public trusted copies; as the user, U's own as
 *             private copies; drop retired usages; remove copies the root
 *             no longer has; report what the keystore holds.
 *
 * Only wrapped blobs and public points cross the pipe.  Before the child
 * runs, the registry records every copy it may make (write-ahead), so a
 * sync killed midway leaves nothing that a later sync would not recognise
 * and remove or complete.
 */
#include "tools/keystore.h"
#include "tools/tokenfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* DER of the P-256 OID: the curve of the transport agreement. */
static const unsigned char p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const char kdf_info[] = "litehsm keystore transport v1";

#define NITEMS(a) (sizeof (a) / sizeof ((a)[0]))

/* ---- reading secrets ------------------------------------------------------ */

static CK_RV
get_bool (lh_secret_ctx *c, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
          CK_BBOOL *out)
{
	CK_ATTRIBUTE a = { type, out, sizeof *out };

	*out = CK_FALSE;
	return c->f->C_GetAttributeValue (c->h, h, &a, 1);
}

/* Read the attributes of a secret key into it (label and id included). */
static bool
read_item (lh_secret_ctx *c, CK_OBJECT_HANDLE h, lh_ks_item *it, char *label,
           size_t label_cap, CK_BBOOL *private_obj)
{
	CK_ATTRIBUTE a[] = {
		{ CKA_LABEL, label, label_cap - 1 },
		{ CKA_ID, it->id, sizeof it->id - 1 },
		{ CKA_KEY_TYPE, &it->kt, sizeof it->kt },
		{ CKA_VALUE_LEN, &it->bytes, sizeof it->bytes },
		{ CKA_PRIVATE, private_obj, sizeof *private_obj },
	};
	CK_ATTRIBUTE d[] = {
		{ CKA_START_DATE, &it->start, sizeof it->start },
		{ CKA_END_DATE, &it->end, sizeof it->end },
	};
	CK_RV rv;

	memset (it, 0, sizeof *it);
	memset (label, 0, label_cap);
	it->h = h;
	rv = c->f->C_GetAttributeValue (c->h, h, a, NITEMS (a));
	if (rv != CKR_OK || a[0].ulValueLen >= label_cap ||
	    a[1].ulValueLen >= sizeof it->id)
		return false;
	label[a[0].ulValueLen] = '\0';
	it->id[a[1].ulValueLen] = '\0';
	it->version = lh_ks_version (it->id);
	if (get_bool (c, h, CKA_ENCRYPT, &it->enc) != CKR_OK ||
	    get_bool (c, h, CKA_DECRYPT, &it->dec) != CKR_OK ||
	    get_bool (c, h, CKA_WRAP, &it->wrap) != CKR_OK ||
	    get_bool (c, h, CKA_UNWRAP, &it->unwrap) != CKR_OK ||
	    get_bool (c, h, CKA_DERIVE, &it->derive) != CKR_OK)
		return false;
	rv = c->f->C_GetAttributeValue (c->h, h, d, 2);
	it->dated = rv == CKR_OK && d[0].ulValueLen == sizeof (CK_DATE) &&
	            d[1].ulValueLen == sizeof (CK_DATE);
	if (!it->dated) {
		memset (&it->start, 0, sizeof it->start);
		memset (&it->end, 0, sizeof it->end);
	}
	return true;
}

/* Every secret-key token object visible in the session (public only with
 * only_public). *hs is malloc'd. */
static CK_RV
all_secrets (lh_secret_ctx *c, bool only_public, CK_OBJECT_HANDLE **hs,
             CK_ULONG *n)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &no, sizeof no },
	};
	size_t count;
	CK_RV rv;

	rv = lh_p11_find_all (c->f, c->h, tmpl, only_public ? 3 : 2, hs, &count);
	*n = count;
	return rv;
}

/* The secret key labelled label (public ones only with only_public). */
static CK_RV
find_key (lh_secret_ctx *c, const char *label, CK_OBJECT_HANDLE *out,
          CK_ULONG max, CK_ULONG *n)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, (void *)label, strlen (label) },
	};

	return lh_p11_find (c->f, c->h, tmpl, 2, out, max, n);
}

static bool
internal (const char *label)
{
	return strncmp (label, "litehsm-", 8) == 0;
}

int
lh_ks_desired (lh_tool *t, lh_secret_ctx *c, const char *user, bool wrap,
               lh_ks_items *out)
{
	char hb[LH_KS_HINT];
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_OBJECT_HANDLE *hs = NULL, tr[2];
	CK_ULONG n, i, ntr = 0;
	char label[256], tlabel[128];
	size_t ulen = strlen (user);
	CK_BBOOL priv;
	lh_ks_item it;
	CK_RV rv;
	int rc = LH_EXIT_OK;

	memset (out, 0, sizeof *out);
	if (wrap) {
		snprintf (tlabel, sizeof tlabel, "%s@%s", LH_KS_TRANSPORT, user);
		rv = find_key (c, tlabel, tr, 2, &ntr);
		if (rv != CKR_OK || ntr != 1)
			return lh_error (t, LH_EXIT_FAIL, lh_ks_hint (hb, "rebuild it "
			                 "with 'litehsm keystore restore-user --user %s'",
			                 user), "the root "
			                 "keystore has %s transport key for user \"%s\"",
			                 ntr ? "more than one" : "no", user);
	}
	if ((rv = all_secrets (c, false, &hs, &n)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot list the root keystore");
	for (i = 0; i < n && rc == LH_EXIT_OK; i++) {
		char *at;
		size_t ll;

		if (!read_item (c, hs[i], &it, label, sizeof label, &priv) ||
		    internal (label))
			continue;
		at = strchr (label, '@');
		ll = strlen (label);
		if (!at) {
			it.shared = true;
		} else if (ll > ulen + 1 && strcmp (label + ll - ulen, user) == 0 &&
		           label[ll - ulen - 1] == '@' && at == label + ll - ulen - 1) {
			*at = '\0';
		} else {
			continue;
		}
		snprintf (it.name, sizeof it.name, "%s", label);
		if (wrap) {
			CK_ULONG blen = 0;

			rv = c->f->C_WrapKey (c->h, &kwp, tr[0], hs[i], NULL, &blen);
			if (rv == CKR_OK && !(it.blob = malloc (blen)))
				rv = CKR_HOST_MEMORY;
			if (rv == CKR_OK)
				rv = c->f->C_WrapKey (c->h, &kwp, tr[0], hs[i], it.blob,
				                      &blen);
			it.blob_len = blen;
			if (rv != CKR_OK) {
				free (it.blob);
				rc = lh_error_rv (t, rv, NULL, "cannot wrap \"%s\" for "
				                  "user \"%s\"", label, user);
				break;
			}
		}
		if (!lh_ks_items_add (out, &it)) {
			free (it.blob);
			rc = lh_error (t, LH_EXIT_FAIL, "free some memory",
			               "out of memory");
		}
	}
	free (hs);
	if (rc != LH_EXIT_OK)
		lh_ks_items_free (out);
	return rc;
}

/* ---- the child's side ------------------------------------------------------ */

typedef struct {
	lh_ks_reg *r;
	bool inventory_only;
	bool fresh;                     /* create: remove an old file first */
	const unsigned char *point;     /* apply: the root's point, or NULL */
	size_t point_len;
	const lh_ks_items *want;
} child_arg;

/* Open the module on the local keystore and a session in it. */
static int
local_open (lh_tool *t, const lh_ks_user *u, lh_secret_ctx *c, bool must_exist)
{
	lh_p11_slot *slots = NULL;
	size_t n, i, fl = strlen (LH_KS_LOCAL_FILE);
	char hint[160];
	int rc;

	memset (c, 0, sizeof *c);
	c->h = CK_INVALID_HANDLE;
	if ((rc = lh_p11_open (t, &c->p)) != LH_EXIT_OK)
		return rc;
	c->f = c->p.f;
	if ((rc = lh_p11_slots (t, &c->p, &slots, &n)) != LH_EXIT_OK)
		return rc;
	for (i = 0; i < n; i++) {
		size_t dl = strlen (slots[i].description);

		if (dl >= fl && strcmp (slots[i].description + dl - fl,
		                        LH_KS_LOCAL_FILE) == 0)
			break;
	}
	if (i == n) {
		free (slots);
		return lh_error (t, LH_EXIT_FAIL, "check LITEHSM_KEYSTORE_HOME",
		                 "the module does not show %s", u->path);
	}
	c->s = slots[i];
	free (slots);
	snprintf (hint, sizeof hint, "rebuild it with 'litehsm keystore "
	          "restore-user --user %s'", u->name);
	if (must_exist && !c->s.initialized && access (u->path, F_OK) != 0)
		return lh_error (t, LH_EXIT_NOTFOUND, hint, "it is missing (%s)",
		                 u->path);
	if (must_exist && !c->s.initialized)
		return lh_error (t, LH_EXIT_FAIL, hint, "it is damaged or was never "
		                 "finished (%s)", u->path);
	if (must_exist && strcmp (c->s.label, LH_KS_LOCAL_LABEL) != 0)
		return lh_error (t, LH_EXIT_FAIL, hint, "the token %s is labelled "
		                 "\"%s\", not \"%s\"", u->path, c->s.label,
		                 LH_KS_LOCAL_LABEL);
	return LH_EXIT_OK;
}

static void
put_hex (FILE *out, const char *tag, const unsigned char *v, size_t n)
{
	size_t i;

	fprintf (out, "%s ", tag);
	for (i = 0; i < n; i++)
		fprintf (out, "%02x", v[i]);
	fputc ('\n', out);
}

/* Write the generated PIN to U's PIN file (0400), atomically. */
static int
write_pin_file (lh_tool *t, const char *path, const lh_pin *pin)
{
	char *tmp = NULL;
	int fd, rc = LH_EXIT_OK;

	if (asprintf (&tmp, "%s.new", path) < 0)
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	unlink (tmp);
	fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (fd < 0 || write (fd, pin->v, pin->len) != (ssize_t)pin->len ||
	    fsync (fd) != 0 || close (fd) != 0 || rename (tmp, path) != 0) {
		rc = lh_error (t, LH_EXIT_FAIL, "check the user's data directory",
		               "cannot write the PIN file %s: %s", path,
		               strerror (errno));
		if (fd >= 0)
			close (fd);
		unlink (tmp);
	}
	free (tmp);
	return rc;
}

/* Make the token, and the EC key pair of the transport agreement. */
static int
child_create (lh_tool *t, lh_ks *ks, const lh_ks_user *u, void *arg, FILE *out)
{
	child_arg *a = arg;
	CK_MECHANISM gen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_EC_PARAMS, (void *)p256, sizeof p256 },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &no, sizeof no },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_EXTRACTABLE, &no, sizeof no },
		{ CKA_DERIVE, &yes, sizeof yes },
		{ CKA_SIGN, &no, sizeof no },
		{ CKA_DECRYPT, &no, sizeof no },
		{ CKA_UNWRAP, &no, sizeof no },
		{ CKA_LABEL, (void *)LH_KS_TRANSPORT_EC, strlen (LH_KS_TRANSPORT_EC) },
	};
	unsigned char point[256];
	CK_ATTRIBUTE pa = { CKA_EC_POINT, point, sizeof point };
	CK_OBJECT_HANDLE hpub, hpriv;
	lh_secret_ctx c;
	CK_RV rv;
	int rc;

	(void)ks;
	if (a->fresh && access (u->path, F_OK) == 0 &&
	    (rc = lh_token_file_remove (t, u->path)) != LH_EXIT_OK)
		return rc;
	if ((rc = local_open (t, u, &c, false)) != LH_EXIT_OK)
		goto out;
	if (c.s.initialized) {
		rc = lh_error (t, LH_EXIT_FAIL, "use 'litehsm keystore sync', or "
		               "--force to make a new one", "user \"%s\" already has "
		               "a local keystore (%s)", u->name, u->path);
		goto out;
	}
	if ((rc = lh_p11_init_token (t, &c.p, &c.s, LH_KS_LOCAL_LABEL,
	                             &a->r->so_pin, &a->r->pin)) != LH_EXIT_OK)
		goto out;
	chmod (u->path, 0600);
	if (a->r->pin_file &&
	    (rc = write_pin_file (t, a->r->pin_file, &a->r->pin)) != LH_EXIT_OK)
		goto out;
	if ((rc = lh_p11_session (t, &c.p, &c.s, true, &c.h)) != LH_EXIT_OK ||
	    (rc = lh_p11_login_pin (t, &c.p, c.h, &c.s, CKU_SO,
	                            &a->r->so_pin)) != LH_EXIT_OK)
		goto out;
	rv = c.f->C_GenerateKeyPair (c.h, &gen, pub, NITEMS (pub), priv,
	                             NITEMS (priv), &hpub, &hpriv);
	if (rv == CKR_OK)
		rv = c.f->C_GetAttributeValue (c.h, hpub, &pa, 1);
	if (rv != CKR_OK) {
		rc = lh_error_rv (t, rv, NULL, "cannot make the transport key pair "
		                  "in %s's keystore", u->name);
		goto out;
	}
	put_hex (out, "P", point, pa.ulValueLen);
out:
	lh_secret_close (&c);
	return rc;
}

/* ECDH with the other side's point into a transport key. */
static CK_RV
agree (lh_secret_ctx *c, CK_OBJECT_HANDLE priv, const unsigned char *point,
       size_t plen, bool root_side, const char *label, CK_OBJECT_HANDLE *out)
{
	CK_ECDH1_DERIVE_PARAMS p = {
		CKD_SHA256_KDF, sizeof kdf_info - 1, (CK_BYTE_PTR)kdf_info,
		plen, (CK_BYTE_PTR)point,
	};
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof p };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL w = root_side ? CK_TRUE : CK_FALSE;
	CK_BBOOL uw = root_side ? CK_FALSE : CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_VALUE_LEN, &len, sizeof len },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &no, sizeof no },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_EXTRACTABLE, &no, sizeof no },
		{ CKA_WRAP, &w, sizeof w },
		{ CKA_UNWRAP, &uw, sizeof uw },
		{ CKA_ENCRYPT, &no, sizeof no },
		{ CKA_DECRYPT, &no, sizeof no },
		{ CKA_DERIVE, &no, sizeof no },
		{ CKA_SIGN, &no, sizeof no },
		{ CKA_VERIFY, &no, sizeof no },
		{ CKA_LABEL, (void *)label, strlen (label) },
		{ CKA_TRUSTED, &yes, sizeof yes },
	};

	return c->f->C_DeriveKey (c->h, &m, priv, tmpl,
	                          NITEMS (tmpl) - (root_side ? 0 : 1), out);
}

/* Destroy every secret key labelled label except keep. */
static void
destroy_others (lh_secret_ctx *c, const char *label, CK_OBJECT_HANDLE keep)
{
	CK_OBJECT_HANDLE h[16];
	CK_ULONG n = 0, i;

	if (find_key (c, label, h, 16, &n) != CKR_OK)
		return;
	for (i = 0; i < n; i++)
		if (h[i] != keep)
			c->f->C_DestroyObject (c->h, h[i]);
}

/* The local side of the agreement: litehsm-transport from the EC key. */
static int
local_transport (lh_tool *t, lh_secret_ctx *c, const lh_ks_user *u,
                 const unsigned char *point, size_t plen)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, (void *)LH_KS_TRANSPORT_EC, strlen (LH_KS_TRANSPORT_EC) },
	};
	CK_OBJECT_HANDLE ec, tr;
	CK_ULONG n = 0;
	CK_RV rv;

	rv = lh_p11_find (c->f, c->h, tmpl, 2, &ec, 1, &n);
	if (rv == CKR_OK && n == 0)
		rv = CKR_KEY_HANDLE_INVALID;
	if (rv == CKR_OK)
		rv = agree (c, ec, point, plen, false, LH_KS_TRANSPORT, &tr);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, "rebuild it with 'litehsm keystore "
		                    "restore-user --user ...'", "cannot agree on a "
		                    "transport key with %s's keystore", u->name);
	destroy_others (c, LH_KS_TRANSPORT, tr);
	c->f->C_DestroyObject (c->h, ec);
	return LH_EXIT_OK;
}

/* The copy of want among held (same name, id and kind), or NULL. */
static lh_ks_item *
find_item (lh_ks_items *held, const lh_ks_item *want)
{
	size_t i;

	for (i = 0; i < held->n; i++)
		if (held->v[i].shared == want->shared &&
		    strcmp (held->v[i].name, want->name) == 0 &&
		    strcmp (held->v[i].id, want->id) == 0)
			return &held->v[i];
	return NULL;
}

static bool
same_dates (const lh_ks_item *a, const lh_ks_item *b)
{
	return a->dated == b->dated &&
	       (!a->dated || (memcmp (&a->start, &b->start, sizeof a->start) == 0 &&
	                      memcmp (&a->end, &b->end, sizeof a->end) == 0));
}

/* The copies the session sees; shared copies are the public ones. */
static int
list_held (lh_tool *t, lh_secret_ctx *c, bool only_public, lh_ks_items *held)
{
	CK_OBJECT_HANDLE *hs = NULL;
	CK_ULONG n, i;
	char label[256];
	CK_BBOOL priv;
	lh_ks_item it;
	CK_RV rv;

	memset (held, 0, sizeof *held);
	if ((rv = all_secrets (c, only_public, &hs, &n)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot list the local keystore");
	for (i = 0; i < n; i++) {
		if (!read_item (c, hs[i], &it, label, sizeof label, &priv) ||
		    internal (label) || strlen (label) >= sizeof it.name)
			continue;
		it.shared = !priv;
		snprintf (it.name, sizeof it.name, "%s", label);
		if (!lh_ks_items_add (held, &it)) {
			free (hs);
			lh_ks_items_free (held);
			return lh_error (t, LH_EXIT_FAIL, "free some memory",
			                 "out of memory");
		}
	}
	free (hs);
	return LH_EXIT_OK;
}

/* Unwrap one copy into the local keystore. */
static CK_RV
unwrap_copy (lh_secret_ctx *c, CK_OBJECT_HANDLE tr, const lh_ks_item *w)
{
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL priv = w->shared ? CK_FALSE : CK_TRUE;
	CK_KEY_TYPE kt = w->kt;
	CK_DATE start = w->start, end = w->end;
	CK_BBOOL enc = w->enc, dec = w->dec, wrap = w->wrap, unwrap = w->unwrap,
	         derive = w->derive;
	CK_OBJECT_HANDLE h;
	CK_ATTRIBUTE tmpl[20] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_KEY_TYPE, &kt, sizeof kt },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &priv, sizeof priv },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		/* a user's own copies leave only under trusted (shared) keys;
		 * shared copies never leave */
		{ CKA_EXTRACTABLE, &priv, sizeof priv },
		{ CKA_WRAP_WITH_TRUSTED, &yes, sizeof yes },
		{ CKA_ENCRYPT, &enc, sizeof enc },
		{ CKA_DECRYPT, &dec, sizeof dec },
		{ CKA_WRAP, &wrap, sizeof wrap },
		{ CKA_UNWRAP, &unwrap, sizeof unwrap },
		{ CKA_DERIVE, &derive, sizeof derive },
		{ CKA_SIGN, &no, sizeof no },
		{ CKA_VERIFY, &no, sizeof no },
		{ CKA_LABEL, (void *)w->name, strlen (w->name) },
		{ CKA_ID, (void *)w->id, strlen (w->id) },
	};
	CK_ULONG n = 16;

	/* the SO vouches for the shared wrapping keys: they, and only they,
	 * may wrap the user's sensitive keys under the strict policy */
	if (w->shared && w->wrap)
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_TRUSTED, &yes, sizeof yes };
	if (w->dated) {
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_START_DATE, &start, sizeof start };
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_END_DATE, &end, sizeof end };
	}
	return c->f->C_UnwrapKey (c->h, &kwp, tr, w->blob, w->blob_len, tmpl, n,
	                          &h);
}

/* Drop the usages a copy has that the root's version no longer has;
 * false when the copy lacks one (it must be made again). */
static bool
fix_usages (lh_secret_ctx *c, const lh_ks_item *have, const lh_ks_item *want,
            CK_RV *rv)
{
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE a[2];
	CK_ULONG n = 0;

	*rv = CKR_OK;
	if ((want->enc && !have->enc) || (want->dec && !have->dec) ||
	    (want->wrap && !have->wrap) || (want->unwrap && !have->unwrap) ||
	    (want->derive && !have->derive) || have->dec != want->dec ||
	    have->unwrap != want->unwrap || have->derive != want->derive ||
	    !same_dates (have, want))
		return false;
	if (have->enc && !want->enc)
		a[n++] = (CK_ATTRIBUTE){ CKA_ENCRYPT, &no, sizeof no };
	if (have->wrap && !want->wrap)
		a[n++] = (CK_ATTRIBUTE){ CKA_WRAP, &no, sizeof no };
	if (n)
		*rv = c->f->C_SetAttributeValue (c->h, have->h, a, n);
	return true;
}

static bool
was_copied (const lh_ks_reg *r, const lh_ks_item *it)
{
	size_t i;

	for (i = 0; i < r->copied.n; i++)
		if (r->copied.v[i].shared == it->shared &&
		    strcmp (r->copied.v[i].name, it->name) == 0 &&
		    strcmp (r->copied.v[i].id, it->id) == 0)
			return true;
	return false;
}

static bool
usages_differ (const lh_ks_item *a, const lh_ks_item *b)
{
	return a->enc != b->enc || a->dec != b->dec || a->wrap != b->wrap ||
	       a->unwrap != b->unwrap || a->derive != b->derive ||
	       !same_dates (a, b);
}

/* Make the shared (or own) copies match want. */
static int
apply (lh_tool *t, lh_secret_ctx *c, const lh_ks_user *u, const child_arg *a,
       bool shared, lh_ks_counts *cnt)
{
	char hb[LH_KS_HINT];
	CK_OBJECT_HANDLE tr[2];
	lh_ks_items held;
	CK_ULONG ntr = 0;
	size_t i;
	CK_RV rv;
	int rc;

	if ((rv = find_key (c, LH_KS_TRANSPORT, tr, 2, &ntr)) != CKR_OK ||
	    ntr != 1)
		return lh_error (t, LH_EXIT_FAIL, lh_ks_hint (hb, "rebuild it with "
		                 "'litehsm keystore restore-user --user %s'",
		                 u->name), "%s's local keystore has "
		                 "%s transport key", u->name,
		                 ntr ? "more than one" : "no");
	if ((rc = list_held (t, c, shared, &held)) != LH_EXIT_OK)
		return rc;
	for (i = 0; i < a->want->n && rc == LH_EXIT_OK; i++) {
		const lh_ks_item *w = &a->want->v[i];
		lh_ks_item *h;

		if (w->shared != shared)
			continue;
		if ((h = find_item (&held, w))) {
			h->version = (unsigned)-1;      /* seen */
			if (!usages_differ (h, w))
				continue;
			if (fix_usages (c, h, w, &rv)) {
				if (rv != CKR_OK)
					rc = lh_error_rv (t, rv, NULL, "cannot update \"%s\" in "
					                  "%s's keystore", w->name, u->name);
				cnt->changed++;
				continue;
			}
			if ((rv = c->f->C_DestroyObject (c->h, h->h)) != CKR_OK) {
				rc = lh_error_rv (t, rv, NULL, "cannot replace \"%s\" in "
				                  "%s's keystore", w->name, u->name);
				break;
			}
			cnt->changed++;
		} else {
			cnt->added++;
		}
		if ((rv = unwrap_copy (c, tr[0], w)) != CKR_OK)
			rc = lh_error_rv (t, rv, "rebuild it with 'litehsm keystore "
			                  "restore-user --user ...'", "cannot copy \"%s\" "
			                  "into %s's keystore", w->name, u->name);
	}
	for (i = 0; i < held.n && rc == LH_EXIT_OK; i++) {
		if (held.v[i].version == (unsigned)-1 || held.v[i].shared != shared ||
		    !was_copied (a->r, &held.v[i]))
			continue;
		if ((rv = c->f->C_DestroyObject (c->h, held.v[i].h)) != CKR_OK)
			rc = lh_error_rv (t, rv, NULL, "cannot remove \"%s\" from %s's "
			                  "keystore", held.v[i].name, u->name);
		cnt->removed++;
	}
	lh_ks_items_free (&held);
	return rc;
}

static void
put_date (FILE *out, const lh_ks_item *it, const CK_DATE *d)
{
	if (it->dated)
		fprintf (out, " %.4s%.2s%.2s", d->year, d->month, d->day);
	else
		fputs (" -", out);
}

/* Apply (unless inventory only) and report what the keystore holds. */
static int
child_apply (lh_tool *t, lh_ks *ks, const lh_ks_user *u, void *arg, FILE *out)
{
	char hb[LH_KS_HINT];
	child_arg *a = arg;
	lh_ks_counts cnt;
	lh_ks_items held;
	lh_secret_ctx c;
	size_t i;
	int rc;

	(void)ks;
	memset (&cnt, 0, sizeof cnt);
	if ((rc = local_open (t, u, &c, true)) != LH_EXIT_OK ||
	    (rc = lh_p11_session (t, &c.p, &c.s, !a->inventory_only, &c.h)) !=
	    LH_EXIT_OK)
		goto out;
	if (!a->inventory_only) {
		if ((rc = lh_p11_login_pin (t, &c.p, c.h, &c.s, CKU_SO,
		                            &a->r->so_pin)) != LH_EXIT_OK)
			goto out;
		if (a->point && (rc = local_transport (t, &c, u, a->point,
		                                       a->point_len)) != LH_EXIT_OK)
			goto out;
		if ((rc = apply (t, &c, u, a, true, &cnt)) != LH_EXIT_OK)
			goto out;
		c.f->C_Logout (c.h);
	}
	if ((rc = lh_p11_login_pin (t, &c.p, c.h, &c.s, CKU_USER,
	                            &a->r->pin)) != LH_EXIT_OK)
		goto out;
	if (!a->inventory_only && (rc = apply (t, &c, u, a, false, &cnt)) !=
	    LH_EXIT_OK)
		goto out;
	if (a->inventory_only) {
		CK_OBJECT_HANDLE tr[2];
		CK_ULONG ntr = 0;

		if (find_key (&c, LH_KS_TRANSPORT, tr, 2, &ntr) != CKR_OK ||
		    ntr != 1) {
			rc = lh_error (t, LH_EXIT_FAIL, lh_ks_hint (hb, "rebuild it "
			               "with 'litehsm keystore restore-user --user %s'",
			               u->name), "it is "
			               "incomplete (%s transport key)",
			               ntr ? "more than one" : "no");
			goto out;
		}
	}
	if ((rc = list_held (t, &c, false, &held)) != LH_EXIT_OK)
		goto out;
	for (i = 0; i < held.n; i++) {
		const lh_ks_item *it = &held.v[i];

		fprintf (out, "I %c %d %d %d %d %d", it->shared ? 's' : 'u',
		         it->enc, it->dec, it->wrap, it->unwrap, it->derive);
		put_date (out, it, &it->start);
		put_date (out, it, &it->end);
		fprintf (out, " %s %s\n", *it->id ? it->id : "-", it->name);
	}
	lh_ks_items_free (&held);
	fprintf (out, "C %u %u %u\n", cnt.added, cnt.changed, cnt.removed);
out:
	lh_secret_close (&c);
	return rc;
}

/* ---- the parent's side ---------------------------------------------------- */

static bool
parse_date (const char *s, CK_DATE *d)
{
	if (strlen (s) != 8)
		return false;
	memcpy (d->year, s, 4);
	memcpy (d->month, s + 4, 2);
	memcpy (d->day, s + 6, 2);
	return true;
}

/* Parse the child's report: held copies, counts, a point. */
static bool
parse_report (char *text, lh_ks_items *held, lh_ks_counts *cnt,
              unsigned char *point, size_t *plen)
{
	char *line, *save = NULL;

	for (line = strtok_r (text ? text : (char *)"", "\n", &save); line;
	     line = strtok_r (NULL, "\n", &save)) {
		lh_ks_item it;
		char kind, start[16], end[16], id[64];
		int e, d, w, uw, dv, off = 0;

		memset (&it, 0, sizeof it);
		if (line[0] == 'C') {
			if (sscanf (line, "C %u %u %u", &cnt->added, &cnt->changed,
			            &cnt->removed) != 3)
				return false;
		} else if (line[0] == 'P' && point) {
			size_t n = strlen (line + 2), i;

			if (n % 2 || n / 2 > 256)
				return false;
			for (i = 0; i < n / 2; i++) {
				unsigned v;

				if (sscanf (line + 2 + 2 * i, "%2x", &v) != 1)
					return false;
				point[i] = (unsigned char)v;
			}
			*plen = n / 2;
		} else if (line[0] == 'I' && held) {
			if (sscanf (line, "I %c %d %d %d %d %d %15s %15s %63s %n", &kind,
			            &e, &d, &w, &uw, &dv, start, end, id, &off) != 9 ||
			    !off || strlen (line + off) >= sizeof it.name ||
			    strlen (id) >= sizeof it.id)
				return false;
			it.shared = kind == 's';
			it.enc = (CK_BBOOL)e;
			it.dec = (CK_BBOOL)d;
			it.wrap = (CK_BBOOL)w;
			it.unwrap = (CK_BBOOL)uw;
			it.derive = (CK_BBOOL)dv;
			it.dated = strcmp (start, "-") != 0;
			if (it.dated && (!parse_date (start, &it.start) ||
			                 !parse_date (end, &it.end)))
				return false;
			snprintf (it.id, sizeof it.id, "%s", strcmp (id, "-") ? id : "");
			it.version = lh_ks_version (it.id);
			snprintf (it.name, sizeof it.name, "%s", line + off);
			if (!lh_ks_items_add (held, &it))
				return false;
		}
	}
	return true;
}

/* The root's side of the agreement, as the root keystore's SO. */
static int
root_transport (lh_tool *t, lh_ks *ks, lh_secret_ctx *c, const char *user,
                const unsigned char *lpoint, size_t llen,
                unsigned char *rpoint, size_t *rlen)
{
	CK_MECHANISM gen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_EC_PARAMS, (void *)p256, sizeof p256 },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &no, sizeof no },
		{ CKA_PRIVATE, &no, sizeof no },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_DERIVE, &yes, sizeof yes },
		{ CKA_SIGN, &no, sizeof no },
	};
	CK_ATTRIBUTE pa = { CKA_EC_POINT, rpoint, 256 };
	CK_OBJECT_HANDLE hpub, hpriv, tr;
	char label[128];
	CK_RV rv;
	int rc;

	if ((rc = lh_ks_root_login (t, ks, c, CKU_SO)) != LH_EXIT_OK)
		return rc;
	snprintf (label, sizeof label, "%s@%s", LH_KS_TRANSPORT, user);
	rv = c->f->C_GenerateKeyPair (c->h, &gen, pub, NITEMS (pub), priv,
	                              NITEMS (priv), &hpub, &hpriv);
	if (rv == CKR_OK)
		rv = c->f->C_GetAttributeValue (c->h, hpub, &pa, 1);
	if (rv == CKR_OK)
		rv = agree (c, hpriv, lpoint, llen, true, label, &tr);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot make the transport key for "
		                    "user \"%s\" in the root keystore", user);
	*rlen = pa.ulValueLen;
	destroy_others (c, label, tr);
	c->f->C_DestroyObject (c->h, hpriv);
	c->f->C_DestroyObject (c->h, hpub);
	return lh_ks_root_login (t, ks, c, CKU_USER);
}

/* Add want's names and ids to r's copies (write-ahead). */
static bool
record_copies (lh_ks_reg *r, const lh_ks_items *want)
{
	size_t i;

	for (i = 0; i < want->n; i++) {
		lh_ks_item it = want->v[i];

		if (was_copied (r, &it))
			continue;
		it.blob = NULL;
		it.blob_len = 0;
		if (!lh_ks_items_add (&r->copied, &it))
			return false;
	}
	return true;
}

/* After a sync: the copies are exactly what the root wants. */
static bool
set_copies (lh_ks_reg *r, const lh_ks_items *want)
{
	lh_ks_items_free (&r->copied);
	return record_copies (r, want);
}

/* New PINs for a keystore being made (or the registered ones kept). */
static int
new_pins (lh_tool *t, lh_ks_reg *r, const lh_ks_user *u, bool keep,
          const lh_pin *new_pin)
{
	free (r->path);
	if (!(r->path = strdup (u->path)))
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	lh_ks_items_free (&r->copied);
	if (keep && r->so_pin.len && r->pin.len)
		return LH_EXIT_OK;
	if (!lh_ks_random_pin (&r->so_pin, 32))
		return lh_error (t, LH_EXIT_FAIL, "retry", "cannot make a random PIN");
	free (r->pin_file);
	r->pin_file = NULL;
	if (new_pin) {
		r->pin = *new_pin;
		return LH_EXIT_OK;
	}
	if (!lh_ks_random_pin (&r->pin, 24))
		return lh_error (t, LH_EXIT_FAIL, "retry", "cannot make a random PIN");
	if (!(r->pin_file = strdup (u->pin_path)))
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	return LH_EXIT_OK;
}

/* The user's paths as the registry has them (the keystore may have been
 * made under another LITEHSM_KEYSTORE_HOME). */
static int
user_at (lh_tool *t, const lh_ks_reg *r, lh_ks_user *u)
{
	char *slash;

	if (!r->path || strcmp (r->path, u->path) == 0)
		return LH_EXIT_OK;
	free (u->path);
	free (u->dir);
	u->path = strdup (r->path);
	u->dir = strdup (r->path);
	if (!u->path || !u->dir)
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	if ((slash = strrchr (u->dir, '/')))
		*slash = '\0';
	return LH_EXIT_OK;
}

int
lh_ks_sync_user (lh_tool *t, lh_ks *ks, const char *user, unsigned how,
                 const lh_pin *new_pin, lh_ks_counts *counts)
{
	char hb[LH_KS_HINT];
	unsigned char lpoint[256], rpoint[256];
	size_t llen = 0, rlen = 0, rs;
	char *res = NULL, *err = NULL;
	bool found, create = how != LH_KS_SYNC;
	lh_ks_items want, held;
	child_arg ca;
	lh_ks_user u;
	lh_ks_reg r;
	lh_secret_ctx c;
	lh_ks_counts dummy;
	int rc;

	memset (counts, 0, sizeof *counts);
	memset (&want, 0, sizeof want);
	memset (&held, 0, sizeof held);
	memset (&r, 0, sizeof r);
	memset (&c, 0, sizeof c);
	memset (&ca, 0, sizeof ca);
	if ((rc = lh_ks_user_get (t, user, &u)) != LH_EXIT_OK)
		return rc;
	if ((rc = lh_ks_root_open (t, ks, CKU_USER, &c)) != LH_EXIT_OK ||
	    (rc = lh_ks_reg_get (t, &c, user, &r, &found)) != LH_EXIT_OK)
		goto out;
	if (!create && !found) {
		rc = lh_error (t, LH_EXIT_NOTFOUND, lh_ks_hint (hb, "create it with "
		               "'litehsm keystore init --user %s'", user), "user "
		               "\"%s\" has no local keystore", user);
		goto out;
	}
	/* a registered keystore whose file never came to be (a create that
	 * was stopped) is made again without --force */
	if (how == LH_KS_CREATE && found && !ks->force &&
	    access (r.path, F_OK) == 0) {
		rc = lh_error (t, LH_EXIT_FAIL, lh_ks_hint2 (hb, "use 'litehsm "
		               "keystore sync --user %s' or 'keystore restore-user "
		               "--user %s', or --force to make a new one", user),
		               "user \"%s\" "
		               "already has a local keystore (%s)", user,
		               r.path);
		goto out;
	}
	if (how == LH_KS_RESTORE && !found) {
		rc = lh_error (t, LH_EXIT_NOTFOUND, lh_ks_hint (hb, "create it with "
		               "'litehsm keystore init --user %s'", user), "user "
		               "\"%s\" has no local keystore to restore", user);
		goto out;
	}
	if (how == LH_KS_RESTORE && (rc = user_at (t, &r, &u)) != LH_EXIT_OK)
		goto out;
	if (how == LH_KS_SYNC && (rc = user_at (t, &r, &u)) != LH_EXIT_OK)
		goto out;
	if (create) {
		/* the PINs are recorded before the keystore exists */
		snprintf (r.user, sizeof r.user, "%s", user);
		/* the SO PIN is asked for (and checked) before anything is
		 * recorded, not after the child's work */
		if ((rc = lh_ks_root_login (t, ks, &c, CKU_SO)) != LH_EXIT_OK ||
		    (rc = lh_ks_root_login (t, ks, &c, CKU_USER)) != LH_EXIT_OK)
			goto out;
		if ((rc = new_pins (t, &r, &u, how == LH_KS_RESTORE, new_pin)) !=
		    LH_EXIT_OK ||
		    (rc = lh_ks_reg_put (t, &c, &r)) != LH_EXIT_OK)
			goto out;
		lh_secret_close (&c);
		ca.r = &r;
		ca.fresh = true;
		rc = lh_ks_run_as (t, ks, &u, child_create, &ca, &res, &rs, &err);
		if (rc != LH_EXIT_OK) {
			rc = lh_ks_child_error (t, rc, err, user);
			goto out;
		}
		if (!parse_report (res, NULL, &dummy, lpoint, &llen) || !llen) {
			rc = lh_error (t, LH_EXIT_FAIL, "retry", "no transport key "
			               "from %s's keystore", user);
			goto out;
		}
		free (res);
		res = NULL;
		if ((rc = lh_ks_root_open (t, ks, CKU_USER, &c)) != LH_EXIT_OK ||
		    (rc = root_transport (t, ks, &c, user, lpoint, llen, rpoint,
		                          &rlen)) != LH_EXIT_OK)
			goto out;
		ca.point = rpoint;
		ca.point_len = rlen;
	}
	if ((rc = lh_ks_desired (t, &c, user, true, &want)) != LH_EXIT_OK)
		goto out;
	if (!record_copies (&r, &want)) {
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
		goto out;
	}
	if ((rc = lh_ks_reg_put (t, &c, &r)) != LH_EXIT_OK)
		goto out;
	lh_secret_close (&c);
	ca.r = &r;
	ca.want = &want;
	rc = lh_ks_run_as (t, ks, &u, child_apply, &ca, &res, &rs, &err);
	if (rc != LH_EXIT_OK) {
		rc = lh_ks_child_error (t, rc, err, user);
		goto out;
	}
	if (!parse_report (res, &held, counts, NULL, NULL)) {
		rc = lh_error (t, LH_EXIT_FAIL, "retry", "a garbled report from %s's "
		               "keystore", user);
		goto out;
	}
	counts->shared = counts->own = 0;
	for (rs = 0; rs < held.n; rs++)
		if (held.v[rs].shared)
			counts->shared++;
		else
			counts->own++;
	if (r.copied.n != want.n) {
		/* forget copies that are gone */
		bool found2;
		lh_ks_reg r2;

		if ((rc = lh_ks_root_open (t, ks, CKU_USER, &c)) != LH_EXIT_OK ||
		    (rc = lh_ks_reg_get (t, &c, user, &r2, &found2)) != LH_EXIT_OK)
			goto out;
		if (found2 && set_copies (&r2, &want))
			rc = lh_ks_reg_put (t, &c, &r2);
		lh_ks_reg_free (&r2);
	}
out:
	free (res);
	free (err);
	lh_ks_items_free (&want);
	lh_ks_items_free (&held);
	lh_ks_reg_free (&r);
	lh_ks_user_free (&u);
	lh_secret_close (&c);
	return rc;
}

int
lh_ks_inventory (lh_tool *t, lh_ks *ks, const lh_ks_reg *r,
                 lh_ks_items *held, char **reason)
{
	char *res = NULL, *err = NULL;
	lh_ks_counts cnt;
	lh_ks_user u;
	child_arg ca;
	size_t rs;
	int rc;

	memset (held, 0, sizeof *held);
	*reason = NULL;
	if ((rc = lh_ks_user_get (t, r->user, &u)) != LH_EXIT_OK)
		return rc;
	if ((rc = user_at (t, r, &u)) != LH_EXIT_OK)
		goto out;
	memset (&ca, 0, sizeof ca);
	ca.r = (lh_ks_reg *)r;
	ca.inventory_only = true;
	if (access (u.path, F_OK) != 0) {
		*reason = strdup ("missing");
		goto out;
	}
	rc = lh_ks_run_as (t, ks, &u, child_apply, &ca, &res, &rs, &err);
	if (rc != LH_EXIT_OK) {
		const char *why = err ? err : "unusable";

		if (strncmp (why, "litehsm: ", 9) == 0)
			why += 9;
		*reason = strndup (why, strcspn (why, "\n"));
		rc = LH_EXIT_OK;
	} else if (!parse_report (res, held, &cnt, NULL, NULL)) {
		*reason = strdup ("garbled report");
	}
out:
	free (res);
	free (err);
	lh_ks_user_free (&u);
	return rc;
}
