/*
 * keystore_secret.c - the keystore mode of the secret commands: with
 * --user U or --shared, "secret set/generate/rotate/rm/show/prune/list"
 * work on the root keystore (U's secrets labelled NAME@U, shared ones
 * NAME) and then copy the change to the local keystores concerned.
 *
 * Root copies are private, sensitive, and extractable only under trusted
 * keys (CKA_WRAP_WITH_TRUSTED): the only trusted keys in the root keystore
 * are the transport keys, so a secret leaves it only wrapped for a user's
 * keystore.  Names with a known purpose (seed 001) have a fixed type and
 * size; see lh_ks_category.
 */
#include "tools/keystore.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

static const lh_ks_cat cats[] = {
	/* the Redis master key: wraps token keys, derives data keys */
	{ "redis-master-key", CKK_AES, 256, 256, 256,
	  false, false, true, true, true, "an AES-256 wrapping key" },
	/* dynamic token-encryption keys */
	{ "token-key", CKK_AES, 128, 256, 256,
	  true, true, false, false, false, "an AES key" },
	/* content-protection (SSEAR) passphrases */
	{ "ssear", CKK_GENERIC_SECRET, 8, 4096, 256,
	  false, false, false, false, true, "a passphrase" },
};

const lh_ks_cat *
lh_ks_category (const char *name)
{
	size_t i;

	for (i = 0; i < sizeof cats / sizeof cats[0]; i++)
		if (strcmp (cats[i].name, name) == 0)
			return &cats[i];
	return NULL;
}

int
lh_ks_check_size (lh_tool *t, const lh_ks_cat *cat, const char *name,
                  unsigned long bits)
{
	if (bits < cat->min_bits || bits > cat->max_bits ||
	    (cat->kt == CKK_AES && bits != 128 && bits != 192 && bits != 256) ||
	    bits % 8 != 0) {
		if (cat->min_bits == cat->max_bits)
			return lh_error (t, LH_EXIT_USAGE, "give exactly that size (for "
			                 "--base64, the base64 text of 32 random bytes: "
			                 "'openssl rand -base64 32')", "%s must be exactly "
			                 "%lu bits (%lu bytes), not %lu", name,
			                 cat->min_bits, cat->min_bits / 8, bits);
		return lh_error (t, LH_EXIT_USAGE, "give a size it allows", "%s is %s "
		                 "of %lu to %lu bits%s, not %lu", name, cat->what,
		                 cat->min_bits, cat->max_bits,
		                 cat->kt == CKK_AES ? " (128, 192 or 256)" : "", bits);
	}
	return LH_EXIT_OK;
}

void
lh_ks_label (char *out, size_t cap, const char *name, const char *user)
{
	if (user)
		snprintf (out, cap, "%s@%s", name, user);
	else
		snprintf (out, cap, "%s", name);
}

/* Is there a secret labelled NAME@<anyone> (shared) or NAME (user)? */
static int
check_clash (lh_tool *t, lh_secret_ctx *c, const char *name, const char *user)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_OBJECT_HANDLE h[64];
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof cls } };
	CK_ULONG n = 0, i;
	size_t nl = strlen (name);
	char label[256];
	bool clash = false;
	CK_RV rv;

	if (user) {
		bool found;
		CK_OBJECT_HANDLE o;
		int rc = lh_secret_lookup (t, c, name, &o, &found);

		if (rc != LH_EXIT_OK)
			return rc;
		if (found)
			return lh_error (t, LH_EXIT_FAIL, "choose another name", "a "
			                 "shared secret named \"%s\" exists; a user's "
			                 "secret cannot have its name", name);
		return LH_EXIT_OK;
	}
	if ((rv = c->f->C_FindObjectsInit (c->h, tmpl, 1)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot search the root keystore");
	while (!clash && c->f->C_FindObjects (c->h, h, 64, &n) == CKR_OK && n) {
		for (i = 0; i < n && !clash; i++) {
			CK_ATTRIBUTE a = { CKA_LABEL, label, sizeof label - 1 };

			if (c->f->C_GetAttributeValue (c->h, h[i], &a, 1) != CKR_OK)
				continue;
			label[a.ulValueLen] = '\0';
			clash = strncmp (label, name, nl) == 0 && label[nl] == '@';
		}
	}
	c->f->C_FindObjectsFinal (c->h);
	if (clash)
		return lh_error (t, LH_EXIT_FAIL, "choose another name", "a user's "
		                 "secret named \"%s\" exists; a shared secret cannot "
		                 "have its name", name);
	return LH_EXIT_OK;
}

int
lh_ks_secret_open (lh_tool *t, lh_ks *ks, const char *name,
                   const lh_ks_target *to, lh_secret_ctx *c, char *label,
                   size_t cap)
{
	lh_ks_user u;
	int rc;

	memset (c, 0, sizeof *c);
	c->h = CK_INVALID_HANDLE;
	if (to->user && to->shared)
		return lh_error (t, LH_EXIT_USAGE, "give one of them", "--user and "
		                 "--shared exclude each other");
	if (name && strchr (name, '@'))
		return lh_error (t, LH_EXIT_USAGE, "choose a name without '@'",
		                 "the name \"%s\" holds '@', which the root keystore "
		                 "uses between a name and its owner", name);
	if (to->user) {
		if ((rc = lh_ks_user_get (t, to->user, &u)) != LH_EXIT_OK)
			return rc;
		lh_ks_user_free (&u);
	}
	if ((rc = lh_ks_begin (t, ks)) != LH_EXIT_OK ||
	    (rc = lh_ks_root_open (t, ks, CKU_USER, c)) != LH_EXIT_OK)
		return rc;
	if (name)
		lh_ks_label (label, cap, name, to->user);
	return LH_EXIT_OK;
}

/* After a change in the root keystore: copy it where it belongs. */
int
lh_ks_secret_done (lh_tool *t, lh_ks *ks, lh_secret_ctx *c,
                   const lh_ks_target *to, int rc, bool create_ok)
{
	lh_ks_counts n;
	bool found = false;
	lh_ks_reg r;

	if (rc != LH_EXIT_OK) {
		lh_secret_close (c);
		lh_ks_done (ks);
		return rc;
	}
	if (to->user) {
		rc = lh_ks_reg_get (t, c, to->user, &r, &found);
		/* registered, but its file was never made: made now */
		found = found && r.path && access (r.path, F_OK) == 0;
		lh_ks_reg_free (&r);
	}
	lh_secret_close (c);
	if (rc == LH_EXIT_OK && to->user && !found && !create_ok) {
		lh_ks_done (ks);
		return rc;      /* no local keystore to update */
	}
	if (rc == LH_EXIT_OK && to->user)
		rc = lh_ks_sync_user (t, ks, to->user, found ? LH_KS_SYNC :
		                      LH_KS_CREATE, NULL, &n);
	else if (rc == LH_EXIT_OK)
		rc = lh_ks_sync_users (t, ks, NULL, true);
	if (rc == LH_EXIT_OK && !t->json) {
		if (to->user && !found)
			printf ("Created %s's local keystore and copied it there.\n",
			        to->user);
		else if (to->user)
			printf ("Copied to %s's local keystore.\n", to->user);
		else
			printf ("Copied to every local keystore.\n");
	}
	lh_ks_done (ks);
	return rc;
}

/* The usages of a secret of category cat, or of an uncategorized one
 * (a generic secret for derive; --aes and --wrapping as in token mode). */
static void
usages (const lh_ks_cat *cat, const lh_ks_make *m, CK_BBOOL u[5],
        CK_KEY_TYPE *kt)
{
	if (cat) {
		*kt = cat->kt;
		u[0] = cat->enc; u[1] = cat->dec; u[2] = cat->wrap;
		u[3] = cat->unwrap; u[4] = cat->derive;
		return;
	}
	*kt = m->aes || m->wrapping ? CKK_AES : CKK_GENERIC_SECRET;
	u[0] = u[1] = m->aes && !m->wrapping;
	u[2] = u[3] = m->wrapping;
	u[4] = !m->aes || m->wrapping;
}

static void
print_made (lh_tool *t, const char *verb, const char *name,
            const lh_ks_target *to, CK_KEY_TYPE kt, unsigned long bits,
            const char *id, bool replaced)
{
	lh_json j;

	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "name", name);
		lh_json_str (&j, "owner", to->user ? to->user : NULL);
		lh_json_bool (&j, "shared", to->shared);
		lh_json_str (&j, "type", kt == CKK_AES ? "aes" : "generic");
		lh_json_uint (&j, "bits", bits);
		lh_json_uint (&j, "version", lh_secret_parse_id (id, strlen (id)));
		lh_json_str (&j, "action", verb);
		lh_json_bool (&j, "replaced", replaced);
		lh_json_object_end (&j);
		lh_json_finish (&j);
		return;
	}
	printf ("%s %s secret \"%s\" (%lu bits, version %lu) %s%s in the root "
	        "keystore%s.\n", verb, kt == CKK_AES ? "AES" : "generic", name,
	        bits, lh_secret_parse_id (id, strlen (id)),
	        to->user ? "for user " : "shared", to->user ? to->user : "",
	        replaced ? ", replacing the old versions" : "");
}

/*
 * A user without a local keystore gets one with the first secret, which
 * needs the root keystore's SO PIN: check it before anything is stored.
 */
static int
need_so (lh_tool *t, lh_ks *ks, lh_secret_ctx *c, const char *user)
{
	bool found = false;
	lh_ks_reg r;
	int rc;

	if (!user)
		return LH_EXIT_OK;
	rc = lh_ks_reg_get (t, c, user, &r, &found);
	/* registered, but its file was never made: made now */
	found = found && r.path && access (r.path, F_OK) == 0;
	lh_ks_reg_free (&r);
	if (rc != LH_EXIT_OK || found)
		return rc;
	if ((rc = lh_ks_root_login (t, ks, c, CKU_SO)) != LH_EXIT_OK)
		return rc;
	return lh_ks_root_login (t, ks, c, CKU_USER);
}

/* Make (value != NULL: store) the secret in the root keystore. */
int
lh_ks_secret_make (lh_tool *t, const char *name, const lh_ks_target *to,
                   const lh_ks_make *m, const unsigned char *value,
                   size_t len)
{
	const lh_ks_cat *cat = lh_ks_category (name);
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_MECHANISM mech = { CKM_GENERIC_SECRET_KEY_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, u[5];
	CK_KEY_TYPE kt;
	CK_ULONG vlen, n;
	CK_DATE start, end;
	CK_OBJECT_HANDLE obj;
	char label[160], id[LH_SECRET_ID_SIZE];
	unsigned long bits;
	lh_secret_vlist old;
	lh_secret_ctx c;
	long today;
	lh_ks ks;
	CK_RV rv;
	int rc;

	memset (&old, 0, sizeof old);
	memset (&ks, 0, sizeof ks);
	usages (cat, m, u, &kt);
	bits = value ? (unsigned long)len * 8 :
	       m->bits > 0 ? (unsigned long)m->bits : cat ? cat->def_bits : 0;
	if (!value && !bits)
		return lh_error (t, LH_EXIT_USAGE, "see 'litehsm secret generate "
		                 "--help'", "'secret generate' needs --bits N");
	if (value && m->bits > 0 && (unsigned long)m->bits != bits)
		return lh_error (t, LH_EXIT_USAGE, "give a value of exactly that size "
		                 "(raw bytes, or base64 text with --base64)", "the "
		                 "value on stdin is %lu bits, not the %ld of --bits",
		                 bits, m->bits);
	if (cat && (rc = lh_ks_check_size (t, cat, name, bits)) != LH_EXIT_OK)
		return rc;
	if (!cat && kt == CKK_AES && bits != 128 && bits != 192 && bits != 256)
		return lh_error (t, LH_EXIT_USAGE, "give 128, 192 or 256",
		                 "an AES key cannot have %lu bits", bits);
	if (!cat && (bits % 8 || bits > 4096))
		return lh_error (t, LH_EXIT_USAGE, "give a multiple of 8 up to 4096",
		                 "a generic secret cannot have %lu bits", bits);
	if (kt == CKK_AES)
		mech.mechanism = CKM_AES_KEY_GEN;
	vlen = bits / 8;
	if ((rc = lh_secret_today (t, &today)) != LH_EXIT_OK)
		return rc;
	lh_secret_day_date (today, &start);
	lh_secret_day_date (today + (m->days > 0 ? m->days : 0), &end);
	if ((rc = lh_ks_secret_open (t, &ks, name, to, &c, label,
	                             sizeof label)) != LH_EXIT_OK ||
	    (rc = need_so (t, &ks, &c, to->user)) != LH_EXIT_OK ||
	    (rc = check_clash (t, &c, name, to->user)) != LH_EXIT_OK ||
	    (rc = lh_secret_check_new (t, &c, label, m->force, &old, id)) !=
	    LH_EXIT_OK)
		goto out;
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_KEY_TYPE, &kt, sizeof kt },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &yes, sizeof yes },
			{ CKA_SENSITIVE, &yes, sizeof yes },
			/* it leaves only wrapped under a transport key */
			{ CKA_EXTRACTABLE, &yes, sizeof yes },
			{ CKA_WRAP_WITH_TRUSTED, &yes, sizeof yes },
			{ CKA_ENCRYPT, &u[0], sizeof u[0] },
			{ CKA_DECRYPT, &u[1], sizeof u[1] },
			{ CKA_WRAP, &u[2], sizeof u[2] },
			{ CKA_UNWRAP, &u[3], sizeof u[3] },
			{ CKA_DERIVE, &u[4], sizeof u[4] },
			{ CKA_LABEL, label, strlen (label) },
			{ CKA_ID, id, strlen (id) },
			{ CKA_START_DATE, &start, sizeof start },
			{ CKA_END_DATE, &end, sizeof end },
			{ CKA_VALUE_LEN, &vlen, sizeof vlen },
			{ CKA_VALUE, (void *)value, len },
		};

		n = 14;
		if (m->days > 0) {
			tmpl[n++] = tmpl[14];
			tmpl[n++] = tmpl[15];
		}
		if (value)
			tmpl[n++] = tmpl[17];
		else
			tmpl[n++] = tmpl[16];
		if (value)
			rv = c.f->C_CreateObject (c.h, tmpl, n, &obj);
		else
			rv = c.f->C_GenerateKey (c.h, &mech, tmpl, n, &obj);
		if (rv != CKR_OK) {
			rc = lh_error_rv (t, rv, NULL, "cannot %s secret \"%s\" in the "
			                  "root keystore", value ? "store" : "generate",
			                  label);
			goto out;
		}
	}
	if ((rc = lh_secret_replace_done (t, &c, label, &old)) != LH_EXIT_OK)
		goto out;
	print_made (t, value ? "Stored" : "Generated", name, to, kt, bits, id,
	            old.n > 0);
out:
	lh_secret_vlist_free (&old);
	return lh_ks_secret_done (t, &ks, &c, to, rc, true);
}

/* ---- secret list in keystore mode ------------------------------------------ */

/* What one local keystore holds, for the "held by" column. */
typedef struct {
	char *user;
	lh_ks_items held;
	char *reason;               /* when it cannot be read */
} ks_holding;

static bool
holds (const ks_holding *k, const char *name, const char *id, bool shared)
{
	size_t i;

	for (i = 0; !k->reason && i < k->held.n; i++)
		if (k->held.v[i].shared == shared &&
		    strcmp (k->held.v[i].name, name) == 0 &&
		    strcmp (k->held.v[i].id, id) == 0)
			return true;
	return false;
}

/* Read every registered keystore's holdings (a child per user). */
static int
holdings (lh_tool *t, lh_ks *ks, lh_secret_ctx *c, ks_holding **out,
          size_t *n)
{
	char **users = NULL;
	size_t nu = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = lh_ks_reg_users (t, c, &users, &nu)) != LH_EXIT_OK)
		return rc;
	if (!(*out = calloc (nu + 1, sizeof **out))) {
		lh_ks_users_free (users, nu);
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	}
	for (i = 0; i < nu && rc == LH_EXIT_OK; i++) {
		lh_ks_reg r;
		bool found;

		(*out)[i].user = users[i];
		users[i] = NULL;
		(*n)++;
		if ((rc = lh_ks_reg_get (t, c, (*out)[i].user, &r, &found)) !=
		    LH_EXIT_OK || !found)
			continue;
		/* the child must not inherit an initialized module */
		lh_secret_close (c);
		rc = lh_ks_inventory (t, ks, &r, &(*out)[i].held, &(*out)[i].reason);
		lh_ks_reg_free (&r);
		if (rc == LH_EXIT_OK)
			rc = lh_ks_root_open (t, ks, CKU_USER, c);
	}
	lh_ks_users_free (users, nu);
	return rc;
}

static void
holdings_free (ks_holding *k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free (k[i].user);
		free (k[i].reason);
		lh_ks_items_free (&k[i].held);
	}
	free (k);
}

static void
list_version (lh_tool *t, lh_json *j, const lh_secret_version *v, bool active,
              const char *name, const char *owner, const ks_holding *k,
              size_t nk)
{
	size_t i;

	if (t->json) {
		lh_json_object_begin (j, NULL);
		lh_json_uint (j, "version", v->n);
		lh_json_str (j, "id", v->id);
		lh_json_str (j, "start", *v->start ? v->start : NULL);
		lh_json_str (j, "end", *v->end ? v->end : NULL);
		lh_json_str (j, "state", active ? "active" : "retired");
		lh_json_array_begin (j, "keystores");
		lh_json_str (j, NULL, "root");
		for (i = 0; i < nk; i++)
			if ((!owner || strcmp (owner, k[i].user) == 0) &&
			    holds (&k[i], name, v->id, !owner))
				lh_json_str (j, NULL, k[i].user);
		lh_json_array_end (j);
		lh_json_object_end (j);
		return;
	}
	printf ("    v%-3lu %-7s %-10s %-10s root", v->n,
	        active ? "active" : "retired", *v->start ? v->start : "-",
	        *v->end ? v->end : "-");
	for (i = 0; i < nk; i++)
		if ((!owner || strcmp (owner, k[i].user) == 0) &&
		    holds (&k[i], name, v->id, !owner))
			printf (", %s", k[i].user);
	printf ("\n");
}

int
lh_ks_secret_list (lh_tool *t, const lh_ks_target *to)
{
	ks_holding *k = NULL;
	char **names = NULL;
	size_t nn = 0, nk = 0, i, v, shown = 0;
	lh_secret_ctx c;
	lh_json j;
	lh_ks ks;
	int rc;

	if ((rc = lh_ks_secret_open (t, &ks, NULL, to, &c, NULL, 0)) !=
	    LH_EXIT_OK || (rc = holdings (t, &ks, &c, &k, &nk)) != LH_EXIT_OK ||
	    (rc = lh_secret_names (t, &c, &names, &nn)) != LH_EXIT_OK)
		goto out;
	if (t->json) {
		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_array_begin (&j, "secrets");
	}
	for (i = 0; i < nn && rc == LH_EXIT_OK; i++) {
		char *at = strchr (names[i], '@'), name[160];
		const char *owner = at ? at + 1 : NULL;
		lh_secret_vlist l;

		if (strncmp (names[i], "litehsm-", 8) == 0 ||
		    (to->shared && owner) ||
		    (to->user && (!owner || strcmp (owner, to->user) != 0)))
			continue;
		snprintf (name, sizeof name, "%.*s",
		          (int)(at ? (size_t)(at - names[i]) : strlen (names[i])),
		          names[i]);
		if ((rc = lh_secret_versions (t, &c, names[i], &l)) != LH_EXIT_OK ||
		    l.n == 0)
			continue;
		shown++;
		if (t->json) {
			lh_json_object_begin (&j, NULL);
			lh_json_str (&j, "name", name);
			lh_json_str (&j, "owner", owner);
			lh_json_bool (&j, "shared", !owner);
			lh_json_str (&j, "type", l.v[0].kt == CKK_AES ? "aes" :
			             "generic");
			lh_json_uint (&j, "bits", l.v[0].have_len ?
			              l.v[0].bytes * 8 : 0);
			lh_json_array_begin (&j, "versions");
		} else {
			printf ("%s (%s, %s, %lu bits)\n", name,
			        owner ? owner : "shared",
			        l.v[0].kt == CKK_AES ? "AES" : "generic",
			        l.v[0].have_len ? l.v[0].bytes * 8 : 0);
		}
		for (v = 0; v < l.n; v++)
			list_version (t, &j, &l.v[v], v == 0, name, owner, k, nk);
		if (t->json) {
			lh_json_array_end (&j);
			lh_json_object_end (&j);
		}
		lh_secret_vlist_free (&l);
	}
	if (t->json) {
		lh_json_array_end (&j);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else if (rc == LH_EXIT_OK && shown == 0) {
		printf ("No secrets in the root keystore%s.\n",
		        to->user || to->shared ? " for that choice" : "");
	}
	for (i = 0; !t->json && rc == LH_EXIT_OK && i < nk; i++)
		if (k[i].reason)
			printf ("(%s's local keystore cannot be read: %s)\n", k[i].user,
			        k[i].reason);
out:
	lh_secret_names_free (names, nn);
	holdings_free (k, nk);
	lh_secret_close (&c);
	lh_ks_done (&ks);
	return rc;
}

/* ---- the secret commands' switch between a token and the keystores ------- */

bool
lh_ks_mode (const lh_ks_target *to)
{
	return to->user || to->shared || to->all;
}

int
lh_ks_target_opt (lh_tool *t, lh_ks_target *to, int key, const char *arg)
{
	(void)t;
	if (key == LH_KS_OPT_USER)
		to->user = arg;
	else if (key == LH_KS_OPT_SHARED)
		to->shared = true;
	return LH_CONTINUE;
}

int
lh_ks_decide (lh_tool *t, lh_ks_target *to, bool all_ok)
{
	lh_ks probe;
	bool there;

	if ((to->user || to->shared) && (t->token || t->token_uri))
		return lh_error (t, LH_EXIT_USAGE, "leave out --token/--token-uri "
		                 "(or --user/--shared to work on that token)",
		                 "--%s works on the keystores, not on a token named "
		                 "with --token or --token-uri",
		                 to->user ? "user" : "shared");
	if (to->user && to->shared)
		return lh_error (t, LH_EXIT_USAGE, "give one of them", "--user and "
		                 "--shared exclude each other");
	if (to->user || to->shared || !all_ok || t->token || t->token_uri)
		return LH_CONTINUE;
	/* no token named: the keystores, when there is a root one */
	if (lh_ks_begin (t, &probe) != LH_EXIT_OK)
		return LH_EXIT_FAIL;
	there = access (probe.root_path, F_OK) == 0;
	if (!there)
		lh_error (t, LH_EXIT_USAGE, "name a token with --token LABEL or "
		          "--token-uri URI (see 'litehsm token list')", "'%s' needs "
		          "a token or a root keystore (there is none in %s)", t->cmd,
		          probe.root_dir);
	lh_ks_done (&probe);
	if (!there)
		return LH_EXIT_USAGE;
	to->all = true;
	return LH_CONTINUE;
}

int
lh_ks_open_for (lh_tool *t, lh_ks_target *to, bool all_ok, lh_ks *ks,
                lh_secret_ctx *c)
{
	int rc;

	memset (ks, 0, sizeof *ks);
	memset (c, 0, sizeof *c);
	c->h = CK_INVALID_HANDLE;
	if ((rc = lh_ks_decide (t, to, all_ok)) != LH_CONTINUE)
		return rc;
	if (!lh_ks_mode (to))
		return lh_secret_open (t, c);
	return lh_ks_secret_open (t, ks, NULL, to, c, NULL, 0);
}

const char *
lh_ks_label_for (const lh_ks_target *to, const char *name, char *buf,
                 size_t cap)
{
	if (!to->user)
		return name;
	lh_ks_label (buf, cap, name, to->user);
	return buf;
}

bool
lh_ks_label_wanted (const lh_ks_target *to, const char *label)
{
	const char *at = strchr (label, '@');

	if (!lh_ks_mode (to))
		return true;
	if (strncmp (label, "litehsm-", 8) == 0)
		return false;
	if (to->shared)
		return !at;
	if (to->user)
		return at && strcmp (at + 1, to->user) == 0;
	return true;
}

int
lh_ks_close_for (lh_tool *t, lh_ks_target *to, lh_ks *ks, lh_secret_ctx *c,
                 int rc, bool changed)
{
	if (!lh_ks_mode (to)) {
		lh_secret_close (c);
		return rc;
	}
	if (!changed) {
		lh_secret_close (c);
		lh_ks_done (ks);
		return rc;
	}
	/* every keystore, for a change that may touch several owners */
	if (to->all)
		to->shared = true;
	return lh_ks_secret_done (t, ks, c, to, rc, false);
}

int
lh_ks_exists (lh_tool *t, const lh_ks_target *to, lh_secret_ctx *c,
              const char *name, const char *label)
{
	lh_secret_vlist l;
	int rc;

	if (!lh_ks_mode (to))
		return LH_EXIT_OK;
	if ((rc = lh_secret_versions (t, c, label, &l)) != LH_EXIT_OK)
		return rc;
	rc = l.n ? LH_EXIT_OK :
	     lh_error (t, LH_EXIT_NOTFOUND, "see 'litehsm secret list'", "no "
	               "secret named \"%s\" %s%s%s in the root keystore", name,
	               to->user ? "for user \"" : "shared", to->user ? to->user :
	               "", to->user ? "\"" : "");
	lh_secret_vlist_free (&l);
	return rc;
}
