/*
 * cmd_secret.c - "litehsm secret": the dispatcher of the secret
 * subcommands, and what they share (cmd.h): the logged-in session, finding
 * a secret's versions by name, version ids, today's date, reading stdin
 * and writing stdout.
 *
 * A secret is a CKO_SECRET_KEY token object whose CKA_LABEL is its name;
 * a name may have several versions, told apart by CKA_ID
 * "v<N>.<8 lowercase hex>" (cmd.h).  The highest N is the active version,
 * the one every command uses to make something new (encrypt, wrap); the
 * older ones are still tried to open what they made (decrypt, unwrap).
 * Values come from stdin only (never argv), are held in malloc'd buffers
 * that are wiped (OPENSSL_cleanse) before they are freed, and are never
 * printed.
 */
#include "tools/cmd.h"
#include "tools/json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static const lh_subcmd secret_cmds[] = {
	{ "set", "store a secret read from stdin", lh_secret_set },
	{ "generate", "make a secret or key inside the token",
	  lh_secret_generate },
	{ "list", "list the secrets (never their values)", lh_secret_list },
	{ "show", "show a secret's (or one version's) attributes",
	  lh_secret_show },
	{ "rm", "delete a secret or one of its versions", lh_secret_rm },
	{ "wrap", "write a secret wrapped under a key to stdout",
	  lh_secret_wrap },
	{ "unwrap", "store a wrapped secret read from stdin",
	  lh_secret_unwrap },
	{ "encrypt", "seal data from stdin under a key-derived data key",
	  lh_secret_encrypt },
	{ "decrypt", "open data sealed by 'secret encrypt'",
	  lh_secret_decrypt },
	{ "rotate", "make a new version of a generated key, retire the old",
	  lh_secret_rotate },
	{ "prune", "remove versions past their end date",
	  lh_secret_prune },
	{ NULL, NULL, NULL },
};

int
lh_cmd_secret (lh_tool *t, int argc, char **argv)
{
	return lh_dispatch (t, "secret", "Store, generate, rotate, list, wrap and "
	                    "use secrets (secret-key objects) in a token.",
	                    secret_cmds, argc, argv);
}

/* ---- session ------------------------------------------------------------- */

int
lh_secret_open (lh_tool *t, lh_secret_ctx *c)
{
	int rc;

	memset (c, 0, sizeof *c);
	c->h = CK_INVALID_HANDLE;
	if ((rc = lh_p11_open (t, &c->p)) != LH_EXIT_OK)
		return rc;
	c->f = c->p.f;
	if ((rc = lh_p11_find_token (t, &c->p, &c->s)) != LH_EXIT_OK ||
	    (rc = lh_p11_session (t, &c->p, &c->s, true, &c->h)) != LH_EXIT_OK ||
	    (rc = lh_p11_login (t, &c->p, c->h, &c->s, CKU_USER,
	                        LH_PIN_USER)) != LH_EXIT_OK)
		return rc;
	return LH_EXIT_OK;
}

void
lh_secret_close (lh_secret_ctx *c)
{
	if (c->f && c->h != CK_INVALID_HANDLE) {
		c->f->C_Logout (c->h);
		c->f->C_CloseSession (c->h);
	}
	c->h = CK_INVALID_HANDLE;
	lh_p11_close (&c->p);
	c->f = NULL;
}

/* ---- names --------------------------------------------------------------- */

int
lh_secret_check_name (lh_tool *t, const char *name)
{
	size_t n = strlen (name);

	if (n == 0 || n > 64)
		return lh_error (t, LH_EXIT_USAGE, "choose a name of 1 to 64 bytes",
		                 "the name \"%s\" is %s", name,
		                 n ? "longer than 64 bytes" : "empty");
	if (!lh_utf8_printable (name, n))
		return lh_error (t, LH_EXIT_USAGE, "use printable UTF-8 text",
		                 "the name \"%s\" is not valid UTF-8 or holds "
		                 "control characters", name);
	return LH_EXIT_OK;
}

/*
 * Every token secret key whose label is label, or every one with label
 * NULL: *hs is malloc'd.
 */
static int
find_all (lh_tool *t, lh_secret_ctx *c, const char *label,
          CK_OBJECT_HANDLE **hs, size_t *n)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_BBOOL tok = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &tok, sizeof tok },
		{ CKA_LABEL, (void *)label, label ? strlen (label) : 0 },
	};
	CK_RV rv = lh_p11_find_all (c->f, c->h, tmpl, label ? 3 : 2, hs, n);

	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot search token \"%s\"",
		                    c->s.label);
	return LH_EXIT_OK;
}

static int
cmp_name (const void *a, const void *b)
{
	return strcmp (*(char *const *)a, *(char *const *)b);
}

/* The label of o, malloc'd and NUL-terminated ("" when it has none). */
static int
get_label (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE o, char **out)
{
	CK_ATTRIBUTE a = { CKA_LABEL, NULL, 0 };
	CK_RV rv;

	rv = c->f->C_GetAttributeValue (c->h, o, &a, 1);
	if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		a.ulValueLen = 0;
	if (!(*out = calloc (1, a.ulValueLen + 1)))
		return lh_error (t, LH_EXIT_FAIL, "free some memory",
		                 "out of memory");
	if (a.ulValueLen) {
		a.pValue = *out;
		rv = c->f->C_GetAttributeValue (c->h, o, &a, 1);
		if (rv != CKR_OK) {
			free (*out);
			*out = NULL;
			return lh_error_rv (t, rv, NULL, "cannot read a secret's "
			                    "label in token \"%s\"", c->s.label);
		}
	}
	return LH_EXIT_OK;
}

void
lh_secret_names_free (char **names, size_t n)
{
	size_t k;

	for (k = 0; names && k < n; k++)
		free (names[k]);
	free (names);
}

int
lh_secret_names (lh_tool *t, lh_secret_ctx *c, char ***names, size_t *n)
{
	CK_OBJECT_HANDLE *hs;
	char **all = NULL;
	size_t nh, k, m = 0;
	int rc;

	*names = NULL;
	*n = 0;
	if ((rc = find_all (t, c, NULL, &hs, &nh)) != LH_EXIT_OK)
		return rc;
	if (nh && !(all = calloc (nh, sizeof *all)))
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	for (k = 0; k < nh && rc == LH_EXIT_OK; k++)
		if ((rc = get_label (t, c, hs[k], &all[k])) == LH_EXIT_OK)
			m++;
	free (hs);
	if (rc != LH_EXIT_OK) {
		lh_secret_names_free (all, m);
		return rc;
	}
	/* one entry per name: sort, then squeeze out the repeats */
	if (m)
		qsort (all, m, sizeof *all, cmp_name);
	for (k = 0, nh = 0; k < m; k++) {
		if (nh && strcmp (all[nh - 1], all[k]) == 0)
			free (all[k]);
		else
			all[nh++] = all[k];
	}
	*names = all;
	*n = nh;
	return LH_EXIT_OK;
}

/* ---- versions ------------------------------------------------------------ */

unsigned long
lh_secret_parse_id (const void *id, size_t len)
{
	const char *s = id, *dot;
	unsigned long n = 0;
	size_t i, digits;

	/* "v" N "." 8 hex, N from 1 without leading zeros, at most 9 digits */
	if (len < 4 || s[0] != 'v' || !(dot = memchr (s, '.', len)))
		return 0;
	digits = (size_t)(dot - s) - 1;
	if (digits == 0 || digits > 9 || s[1] == '0' ||
	    len != 1 + digits + 1 + 8)
		return 0;
	for (i = 1; i <= digits; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	for (i = 2 + digits; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return n;
}

static bool
get_bool (lh_secret_ctx *c, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
	return lh_p11_flag (c->f, c->h, o, type);
}

/* A CK_DATE attribute as "YYYY-MM-DD"; "" when absent, empty or not a
 * date (an empty date means no limit, as for the module). */
static void
get_date (lh_secret_ctx *c, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
          char *out)
{
	CK_DATE d;
	CK_ATTRIBUTE a = { type, &d, sizeof d };
	long day;

	out[0] = '\0';
	if (c->f->C_GetAttributeValue (c->h, o, &a, 1) != CKR_OK ||
	    a.ulValueLen != sizeof d)
		return;
	snprintf (out, 11, "%.4s-%.2s-%.2s", (const char *)d.year,
	          (const char *)d.month, (const char *)d.day);
	if (!lh_secret_parse_day (out, &day))
		out[0] = '\0';
}

/* Read what lh_secret_version holds about object o. */
static int
get_version (lh_tool *t, lh_secret_ctx *c, CK_OBJECT_HANDLE o,
             lh_secret_version *v)
{
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, &v->kt, sizeof v->kt };
	CK_ATTRIBUTE l = { CKA_VALUE_LEN, &v->bytes, sizeof v->bytes };
	unsigned char id[LH_SECRET_ID_SIZE];
	CK_ATTRIBUTE ia = { CKA_ID, id, sizeof id };
	CK_RV rv;

	memset (v, 0, sizeof *v);
	v->h = o;
	rv = c->f->C_GetAttributeValue (c->h, o, &a, 1);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot read a secret's "
		                    "attributes in token \"%s\"", c->s.label);
	/* an id too long for the buffer is not ours: the call fails */
	if (c->f->C_GetAttributeValue (c->h, o, &ia, 1) == CKR_OK &&
	    (v->n = lh_secret_parse_id (id, ia.ulValueLen)) != 0) {
		memcpy (v->id, id, ia.ulValueLen);
		v->id[ia.ulValueLen] = '\0';
	}
	v->have_len = c->f->C_GetAttributeValue (c->h, o, &l, 1) == CKR_OK;
	get_date (c, o, CKA_START_DATE, v->start);
	get_date (c, o, CKA_END_DATE, v->end);
	v->local = get_bool (c, o, CKA_LOCAL);
	v->sensitive = get_bool (c, o, CKA_SENSITIVE);
	v->extractable = get_bool (c, o, CKA_EXTRACTABLE);
	v->always_sensitive = get_bool (c, o, CKA_ALWAYS_SENSITIVE);
	v->never_extractable = get_bool (c, o, CKA_NEVER_EXTRACTABLE);
	v->private_ = get_bool (c, o, CKA_PRIVATE);
	v->trusted = get_bool (c, o, CKA_TRUSTED);
	v->wrap_with_trusted = get_bool (c, o, CKA_WRAP_WITH_TRUSTED);
	v->encrypt = get_bool (c, o, CKA_ENCRYPT);
	v->decrypt = get_bool (c, o, CKA_DECRYPT);
	v->wrap = get_bool (c, o, CKA_WRAP);
	v->unwrap = get_bool (c, o, CKA_UNWRAP);
	v->derive = get_bool (c, o, CKA_DERIVE);
	v->sign = get_bool (c, o, CKA_SIGN);
	v->verify = get_bool (c, o, CKA_VERIFY);
	return LH_EXIT_OK;
}

/* Highest version first; equal ones by handle, so the order is stable. */
static int
cmp_version (const void *a, const void *b)
{
	const lh_secret_version *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return x->h < y->h ? -1 : x->h > y->h;
}

void
lh_secret_vlist_free (lh_secret_vlist *l)
{
	free (l->v);
	l->v = NULL;
	l->n = 0;
}

int
lh_secret_versions (lh_tool *t, lh_secret_ctx *c, const char *label,
                    lh_secret_vlist *out)
{
	CK_OBJECT_HANDLE *hs;
	size_t n, k;
	int rc;

	out->v = NULL;
	out->n = 0;
	if ((rc = find_all (t, c, label, &hs, &n)) != LH_EXIT_OK)
		return rc;
	if (n && !(out->v = calloc (n, sizeof *out->v)))
		rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	for (k = 0; k < n && rc == LH_EXIT_OK; k++)
		rc = get_version (t, c, hs[k], &out->v[k]);
	free (hs);
	if (rc != LH_EXIT_OK) {
		lh_secret_vlist_free (out);
		return rc;
	}
	out->n = n;
	if (n > 1)
		qsort (out->v, n, sizeof *out->v, cmp_version);
	return LH_EXIT_OK;
}

const lh_secret_version *
lh_secret_vlist_get (const lh_secret_vlist *l, unsigned long n)
{
	size_t k;

	for (k = 0; k < l->n; k++)
		if (l->v[k].n == n)
			return &l->v[k];
	return NULL;
}

/* Refuse a list whose two highest objects share one version: both could
 * claim to be the active one, and guessing could use the wrong key. */
static int
check_top (lh_tool *t, lh_secret_ctx *c, const char *name,
           const lh_secret_vlist *l)
{
	char ver[48] = "";

	if (l->n < 2 || l->v[0].n != l->v[1].n)
		return LH_EXIT_OK;
	if (l->v[0].n)
		snprintf (ver, sizeof ver, " of version %lu", l->v[0].n);
	return lh_error (t, LH_EXIT_FAIL, "remove the extra ones with a PKCS#11 "
	                 "tool, or rename them", "token \"%s\" holds several "
	                 "secrets named \"%s\"%s", c->s.label, name, ver);
}

int
lh_secret_find_versions (lh_tool *t, lh_secret_ctx *c, const char *name,
                         lh_secret_vlist *out)
{
	int rc;

	if ((rc = lh_secret_versions (t, c, name, out)) != LH_EXIT_OK)
		return rc;
	if (out->n == 0)
		rc = lh_error (t, LH_EXIT_NOTFOUND, "see 'litehsm secret list'",
		               "no secret named \"%s\" in token \"%s\"", name,
		               c->s.label);
	else
		rc = check_top (t, c, name, out);
	if (rc != LH_EXIT_OK)
		lh_secret_vlist_free (out);
	return rc;
}

int
lh_secret_make_id (lh_tool *t, lh_secret_ctx *c, unsigned long n,
                   char out[LH_SECRET_ID_SIZE])
{
	unsigned char r[4];
	CK_RV rv;

	/* the random part makes a replaced value's id differ from the old
	 * one's, so nothing that remembered an id can mistake the two */
	if ((rv = c->f->C_GenerateRandom (c->h, r, sizeof r)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot get random bytes from "
		                    "token \"%s\"", c->s.label);
	snprintf (out, LH_SECRET_ID_SIZE, "v%lu.%02x%02x%02x%02x", n, r[0], r[1],
	          r[2], r[3]);
	return LH_EXIT_OK;
}

int
lh_secret_new_id (lh_tool *t, lh_secret_ctx *c, const char *label,
                  char out[LH_SECRET_ID_SIZE])
{
	lh_secret_vlist l;
	unsigned long next;
	int rc;

	if ((rc = lh_secret_versions (t, c, label, &l)) != LH_EXIT_OK)
		return rc;
	next = l.n ? l.v[0].n + 1 : 1;
	lh_secret_vlist_free (&l);
	if (next > 999999999)
		return lh_error (t, LH_EXIT_FAIL, "remove the secret and store it "
		                 "again", "secret \"%s\" has run out of version "
		                 "numbers", label);
	return lh_secret_make_id (t, c, next, out);
}

int
lh_secret_lookup (lh_tool *t, lh_secret_ctx *c, const char *name,
                  CK_OBJECT_HANDLE *out, bool *found)
{
	lh_secret_vlist l;
	int rc;

	*found = false;
	*out = CK_INVALID_HANDLE;
	if ((rc = lh_secret_versions (t, c, name, &l)) != LH_EXIT_OK)
		return rc;
	if (l.n && (rc = check_top (t, c, name, &l)) == LH_EXIT_OK) {
		*found = true;
		*out = l.v[0].h;
	}
	lh_secret_vlist_free (&l);
	return rc;
}

int
lh_secret_find (lh_tool *t, lh_secret_ctx *c, const char *name,
                CK_OBJECT_HANDLE *out)
{
	lh_secret_vlist l;
	int rc;

	*out = CK_INVALID_HANDLE;
	if ((rc = lh_secret_find_versions (t, c, name, &l)) != LH_EXIT_OK)
		return rc;
	*out = l.v[0].h;
	lh_secret_vlist_free (&l);
	return LH_EXIT_OK;
}

int
lh_secret_check_new (lh_tool *t, lh_secret_ctx *c, const char *name,
                     bool force, lh_secret_vlist *old,
                     char id[LH_SECRET_ID_SIZE])
{
	int rc;

	if ((rc = lh_secret_versions (t, c, name, old)) != LH_EXIT_OK)
		return rc;
	if (old->n && !force) {
		lh_secret_vlist_free (old);
		return lh_error (t, LH_EXIT_FAIL, "use --force to replace it",
		                 "secret \"%s\" in token \"%s\" already "
		                 "exists", name, c->s.label);
	}
	/* the replacement continues the numbering: it is a new value */
	if (old->n && old->v[0].n >= 999999999) {
		lh_secret_vlist_free (old);
		return lh_error (t, LH_EXIT_FAIL, "remove the secret and store it "
		                 "again", "secret \"%s\" has run out of version "
		                 "numbers", name);
	}
	if ((rc = lh_secret_make_id (t, c, old->n ? old->v[0].n + 1 : 1, id)) !=
	    LH_EXIT_OK)
		lh_secret_vlist_free (old);
	return rc;
}

int
lh_secret_replace_done (lh_tool *t, lh_secret_ctx *c, const char *name,
                        lh_secret_vlist *old)
{
	CK_RV rv = CKR_OK;
	size_t k;

	for (k = 0; k < old->n && rv == CKR_OK; k++)
		rv = c->f->C_DestroyObject (c->h, old->v[k].h);
	lh_secret_vlist_free (old);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, "remove the old versions with 'litehsm "
		                    "secret rm NAME --version N' (see 'secret list')",
		                    "the new \"%s\" is stored but an old version "
		                    "cannot be destroyed", name);
	return LH_EXIT_OK;
}

/* ---- dates --------------------------------------------------------------- */

/*
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil): plain arithmetic, so no time zone or
 * time_t range is involved.
 */
static long
days_from_civil (long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static void
civil_from_days (long z, long *y, unsigned *m, unsigned *d)
{
	long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long)yoe + era * 400 + (*m <= 2);
}

bool
lh_secret_parse_day (const char *ymd, long *day)
{
	unsigned m, d, bm, bd;
	long y, by;
	size_t i;

	if (strlen (ymd) != 10 || ymd[4] != '-' || ymd[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (ymd[i] < '0' || ymd[i] > '9'))
			return false;
	y = strtol (ymd, NULL, 10);
	m = (unsigned)strtoul (ymd + 5, NULL, 10);
	d = (unsigned)strtoul (ymd + 8, NULL, 10);
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		return false;
	/* a day that does not exist (02-30) comes back as another date */
	*day = days_from_civil (y, m, d);
	civil_from_days (*day, &by, &bm, &bd);
	return by == y && bm == m && bd == d;
}

void
lh_secret_day_text (long day, char out[11])
{
	unsigned m, d;
	long y;

	civil_from_days (day, &y, &m, &d);
	/* the moduli only tell the compiler the fields fit */
	snprintf (out, 11, "%04u-%02u-%02u", (unsigned)(y % 10000), m % 100,
	          d % 100);
}

void
lh_secret_day_date (long day, CK_DATE *out)
{
	char buf[11];

	lh_secret_day_text (day, buf);
	memcpy (out->year, buf, 4);
	memcpy (out->month, buf + 5, 2);
	memcpy (out->day, buf + 8, 2);
}

int
lh_secret_today (lh_tool *t, long *day)
{
	const char *env = getenv ("LITEHSM_TODAY");

	/* a testing aid: it moves only the tool's idea of today, never the
	 * module's, which checks key dates by the real clock */
	if (env && *env) {
		if (!lh_secret_parse_day (env, day))
			return lh_error (t, LH_EXIT_USAGE, "unset it, or give a date "
			                 "such as 2030-01-31", "LITEHSM_TODAY=\"%s\" is "
			                 "not a date of the form YYYY-MM-DD", env);
		return LH_EXIT_OK;
	}
	*day = (long)(time (NULL) / 86400);
	return LH_EXIT_OK;
}

/* ---- stdin and stdout ---------------------------------------------------- */

void
lh_secret_free (unsigned char *buf, size_t len)
{
	if (buf)
		OPENSSL_secure_clear_free (buf, len);
}

/* Decode base64 text in place (whitespace ignored); false if invalid. */
static bool
b64_decode (unsigned char *buf, size_t *len)
{
	size_t i, n = 0, pad = 0;
	unsigned char *tmp;
	int out;

	for (i = 0; i < *len; i++)
		if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r' &&
		    buf[i] != '\t')
			buf[n++] = buf[i];
	if (n == 0 || n % 4 != 0 || n > 0x7fffffff)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = buf[i];
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		          (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
		if (ch == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (!ok || pad)
			return false;
	}
	if (!(tmp = malloc (n)))
		return false;
	out = EVP_DecodeBlock (tmp, buf, (int)n);
	if (out < 0 || (size_t)out < pad) {
		OPENSSL_cleanse (tmp, n);
		free (tmp);
		return false;
	}
	*len = (size_t)out - pad;
	memcpy (buf, tmp, *len);
	OPENSSL_cleanse (buf + *len, n - *len);     /* the text's tail */
	OPENSSL_cleanse (tmp, n);
	free (tmp);
	return true;
}

/* Grow *buf (holding n bytes) to cap bytes; the old copy is wiped. */
static bool
grow (unsigned char **buf, size_t n, size_t cap)
{
	unsigned char *nb;

	if (!(nb = OPENSSL_secure_malloc (cap)))
		return false;
	if (*buf)
		memcpy (nb, *buf, n);
	lh_secret_free (*buf, n);
	*buf = nb;
	return true;
}

int
lh_secret_read_stdin (lh_tool *t, size_t max, bool b64, const char *what,
                      unsigned char **out, size_t *len)
{
	size_t limit = b64 ? max / 3 * 4 + 4096 : max + 1, cap = 0, n = 0;
	unsigned char *buf = NULL;
	ssize_t r;

	*out = NULL;
	*len = 0;
	for (;;) {
		if (n == cap) {
			if (cap == limit)
				break;
			if (!grow (&buf, n, cap = cap * 2 + 4096 > limit ? limit :
			           cap * 2 + 4096)) {
				lh_secret_free (buf, n);
				return lh_error (t, LH_EXIT_FAIL, "free some memory",
				                 "out of memory");
			}
		}
		r = read (STDIN_FILENO, buf + n, cap - n);
		if (r < 0) {
			lh_secret_free (buf, cap);
			return lh_error (t, LH_EXIT_USAGE, "pipe the input in",
			                 "cannot read the %s from stdin", what);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == limit) {
		lh_secret_free (buf, cap);
		return lh_error (t, LH_EXIT_USAGE, "give a shorter input",
		                 "the %s on stdin is longer than %zu bytes", what,
		                 max);
	}
	if (n == 0) {
		lh_secret_free (buf, cap);
		return lh_error (t, LH_EXIT_USAGE, "pipe it in (the value is "
		                 "never taken from the command line)", "no %s on "
		                 "stdin (it is empty)", what);
	}
	if (b64) {
		if (!b64_decode (buf, &n)) {
			lh_secret_free (buf, cap);
			return lh_error (t, LH_EXIT_USAGE, "give base64 text (RFC 4648), "
			                 "or leave out --base64 for raw bytes",
			                 "the %s on stdin is not valid base64", what);
		}
		if (n == 0 || n > max) {
			lh_secret_free (buf, cap);
			return lh_error (t, LH_EXIT_USAGE, "give a shorter input",
			                 "the %s on stdin decodes to %zu bytes (at most "
			                 "%zu)", what, n, max);
		}
	}
	*out = buf;
	*len = n;
	return LH_EXIT_OK;
}

int
lh_secret_write (lh_tool *t, const unsigned char *buf, size_t len, bool b64)
{
	unsigned char *txt = NULL;
	bool ok;

	if (b64) {
		if (!(txt = malloc (len / 3 * 4 + 5)))
			return lh_error (t, LH_EXIT_FAIL, "free some memory",
			                 "out of memory");
		EVP_EncodeBlock (txt, buf, (int)len);
		ok = printf ("%s\n", (char *)txt) >= 0;
		OPENSSL_cleanse (txt, len / 3 * 4 + 5);
		free (txt);
	} else {
		ok = fwrite (buf, 1, len, stdout) == len;
	}
	if (!ok || fflush (stdout) != 0 || ferror (stdout))
		return lh_error (t, LH_EXIT_FAIL, "check where stdout goes",
		                 "cannot write to stdout");
	return LH_EXIT_OK;
}
