/*
 * p11.c - loading a PKCS#11 module and finding, opening and logging in to
 * its tokens, for the litehsm command (see p11.h).
 *
 * The tool is an ordinary PKCS#11 application: everything it does to a
 * token goes through the module's function list, so the same code drives
 * litehsm or, with --module, another module.  Tokens are named by label
 * (--token) or by an RFC 7512 URI (--token-uri); a name that matches no
 * token is exit code 4, one that matches several is a usage error that
 * shows how to tell them apart.
 */
#include "tools/p11.h"
#include "pkcs11/conf.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#ifndef LH_DEFAULT_MODULE
#define LH_DEFAULT_MODULE "litehsm-pkcs11.so"
#endif

const char *
lh_p11_who (CK_USER_TYPE who)
{
	return who == CKU_SO ? "SO" : "user";
}

bool
lh_p11_is_litehsm (const lh_p11 *p)
{
	char m[33];

	lh_unpad (m, p->info.manufacturerID, sizeof p->info.manufacturerID);
	return strcmp (m, "litehsm") == 0;
}

const char *
lh_p11_pin_state (const CK_TOKEN_INFO *ti, bool so)
{
	CK_FLAGS f = ti->flags;

	if (!(f & CKF_TOKEN_INITIALIZED) ||
	    (!so && !(f & CKF_USER_PIN_INITIALIZED)))
		return "not set";
	if (f & (so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED))
		return "locked";
	if (f & (so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY))
		return "final try";
	if (f & (so ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW))
		return "count low";
	return "ok";
}

/* ---- loading ------------------------------------------------------------- */

/* Which module to load, and from which setting (for messages). */
static const char *
module_path (lh_tool *t, lh_p11 *p, const char **from)
{
	const char *env = getenv ("LITEHSM_MODULE");

	if (t->module) {
		*from = "--module";
		return t->module;
	}
	if (p->uri && p->uri->module_path) {
		*from = "module-path in --token-uri";
		return p->uri->module_path;
	}
	if (env && *env) {
		*from = "LITEHSM_MODULE";
		return env;
	}
	*from = "the default";
	return LH_DEFAULT_MODULE;
}

const char *
lh_p11_module_path (lh_tool *t)
{
	lh_p11 p;
	const char *from;

	memset (&p, 0, sizeof p);
	return module_path (t, &p, &from);
}

static int
parse_uri (lh_tool *t, lh_p11 *p)
{
	char *why = NULL;
	int rc;

	if (!t->token_uri)
		return LH_EXIT_OK;
	if (lh_uri_parse (t->token_uri, &p->uri, &why) < 0) {
		rc = lh_error (t, LH_EXIT_USAGE, "'litehsm token list' prints each "
		               "token's URI (RFC 7512)", "bad --token-uri: %s",
		               why ? why : "out of memory");
		free (why);
		return rc;
	}
	if (p->uri->module_name)
		return lh_error (t, LH_EXIT_USAGE, "name the module file with "
		                 "--module PATH or module-path= instead",
		                 "module-name in --token-uri is not supported");
	return LH_EXIT_OK;
}

/*
 * C_Initialize failed.  A bad litehsm.conf is the usual reason with our
 * module; read it ourselves to say which line is wrong.
 */
static int
init_failed (lh_tool *t, lh_p11 *p, CK_RV rv)
{
	lh_conf *conf = NULL;
	char *why = NULL;
	int rc;

	if (rv == CKR_GENERAL_ERROR && lh_conf_load (&conf, &why) != CKR_OK &&
	    why) {
		rc = lh_error (t, LH_EXIT_FAIL, "fix the file (see "
		               "litehsm.conf.example)", "the litehsm configuration "
		               "is invalid: %s", why);
		free (why);
		return rc;
	}
	lh_conf_free (conf);
	free (why);
	return lh_error_rv (t, rv, NULL, "cannot initialize the PKCS#11 module %s",
	                    p->path);
}

int
lh_p11_open (lh_tool *t, lh_p11 *p)
{
	CK_C_INITIALIZE_ARGS args;
	CK_C_GetFunctionList get;
	const char *from;
	CK_RV rv;
	int rc;

	memset (p, 0, sizeof *p);
	if ((rc = parse_uri (t, p)) != LH_EXIT_OK)
		return rc;
	p->path = module_path (t, p, &from);
	p->dl = dlopen (p->path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl)
		return lh_error (t, LH_EXIT_FAIL, "install litehsm or name the "
		                 "module with --module PATH or LITEHSM_MODULE",
		                 "cannot load the PKCS#11 module %s (%s): %s",
		                 p->path, from, dlerror ());
	*(void **)&get = dlsym (p->dl, "C_GetFunctionList");
	if (!get)
		return lh_error (t, LH_EXIT_FAIL, "name a PKCS#11 module with "
		                 "--module PATH", "%s is not a PKCS#11 module "
		                 "(no C_GetFunctionList)", p->path);
	if ((rv = get (&p->f)) != CKR_OK || !p->f)
		return lh_error_rv (t, rv != CKR_OK ? rv : CKR_GENERAL_ERROR, NULL,
		                    "C_GetFunctionList of %s failed", p->path);
	memset (&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	if ((rv = p->f->C_Initialize (&args)) != CKR_OK)
		return init_failed (t, p, rv);
	p->initialized = true;
	if ((rv = p->f->C_GetInfo (&p->info)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "C_GetInfo of %s failed", p->path);
	return LH_EXIT_OK;
}

void
lh_p11_close (lh_p11 *p)
{
	if (p->initialized)
		p->f->C_Finalize (NULL);
	p->initialized = false;
	if (p->dl)
		dlclose (p->dl);
	p->dl = NULL;
	lh_uri_free (p->uri);
	p->uri = NULL;
}

/* ---- slots and tokens -------------------------------------------------------- */

int
lh_p11_slot_get (lh_tool *t, lh_p11 *p, CK_SLOT_ID id, lh_p11_slot *s)
{
	CK_RV rv;

	memset (s, 0, sizeof *s);
	s->id = id;
	if ((rv = p->f->C_GetSlotInfo (id, &s->slot)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot read slot %lu",
		                    (unsigned long)id);
	lh_unpad (s->description, s->slot.slotDescription,
	          sizeof s->slot.slotDescription);
	s->present = (s->slot.flags & CKF_TOKEN_PRESENT) != 0;
	if (!s->present)
		return LH_EXIT_OK;
	rv = p->f->C_GetTokenInfo (id, &s->token);
	if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_TOKEN_NOT_RECOGNIZED) {
		s->present = false;     /* vanished meanwhile, or not ours */
		memset (&s->token, 0, sizeof s->token);
		return LH_EXIT_OK;
	}
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot read the token in slot %lu",
		                    (unsigned long)id);
	s->initialized = (s->token.flags & CKF_TOKEN_INITIALIZED) != 0;
	lh_unpad (s->label, s->token.label, sizeof s->token.label);
	lh_unpad (s->serial, s->token.serialNumber, sizeof s->token.serialNumber);
	lh_unpad (s->manufacturer, s->token.manufacturerID,
	          sizeof s->token.manufacturerID);
	lh_unpad (s->model, s->token.model, sizeof s->token.model);
	return LH_EXIT_OK;
}

int
lh_p11_slots (lh_tool *t, lh_p11 *p, lh_p11_slot **slots, size_t *count)
{
	CK_SLOT_ID *ids = NULL, *grown;
	CK_ULONG n = 0, i;
	lh_p11_slot *out = NULL;
	CK_RV rv;
	int rc = LH_EXIT_FAIL;

	*slots = NULL;
	*count = 0;
	/* The list can grow between the two calls (another process). */
	for (;;) {
		if ((rv = p->f->C_GetSlotList (CK_FALSE, NULL, &n)) != CKR_OK)
			return lh_error_rv (t, rv, NULL, "cannot list the slots");
		if (!(grown = realloc (ids, (n + 1) * sizeof *ids)))
			goto oom;
		ids = grown;
		rv = p->f->C_GetSlotList (CK_FALSE, ids, &n);
		if (rv == CKR_OK)
			break;
		if (rv != CKR_BUFFER_TOO_SMALL) {
			rc = lh_error_rv (t, rv, NULL, "cannot list the slots");
			goto out;
		}
	}
	if (!(out = calloc (n + 1, sizeof *out)))
		goto oom;
	for (i = 0; i < n; i++)
		if ((rc = lh_p11_slot_get (t, p, ids[i], &out[i])) != LH_EXIT_OK)
			goto out;
	*slots = out;
	*count = n;
	out = NULL;
	rc = LH_EXIT_OK;
	goto out;
oom:
	rc = lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
out:
	free (out);
	free (ids);
	return rc;
}

static bool
token_matches (lh_tool *t, lh_p11 *p, const lh_p11_slot *s)
{
	if (!s->present || !s->initialized)
		return false;
	if (t->token)
		return strcmp (s->label, t->token) == 0;
	return lh_uri_match_library (p->uri, &p->info) &&
	       lh_uri_match_slot (p->uri, s->id, &s->slot) &&
	       lh_uri_match_token (p->uri, &s->token);
}

int
lh_p11_find_token (lh_tool *t, lh_p11 *p, lh_p11_slot *out)
{
	lh_p11_slot *slots = NULL;
	size_t n, i, found = 0, first = 0, second = 0;
	const char *name = t->token ? t->token : t->token_uri;
	int rc;

	if (!t->token && !t->token_uri)
		return lh_error (t, LH_EXIT_USAGE, "name it with --token LABEL or "
		                 "--token-uri URI (see 'litehsm token list')",
		                 "'%s' needs a token", t->cmd);
	if ((rc = lh_p11_slots (t, p, &slots, &n)) != LH_EXIT_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if (!token_matches (t, p, &slots[i]))
			continue;
		if (found == 0)
			first = i;
		else if (found == 1)
			second = i;
		found++;
	}
	if (found == 0)
		rc = lh_error (t, LH_EXIT_NOTFOUND, "list the tokens with 'litehsm "
		               "token list'", "no token %s \"%s\"",
		               t->token ? "labelled" : "matches", name);
	else if (found > 1)
		rc = lh_error (t, LH_EXIT_USAGE, "name one with --token-uri "
		               "'pkcs11:token=...;serial=...' (see 'litehsm token "
		               "list')", "%zu tokens match \"%s\" (serials %s and %s%s)",
		               found, name, slots[first].serial, slots[second].serial,
		               found > 2 ? ", ..." : "");
	else
		*out = slots[first];
	free (slots);
	return rc;
}

int
lh_p11_free_slot (lh_tool *t, lh_p11 *p, lh_p11_slot *out)
{
	lh_p11_slot *slots = NULL;
	size_t n, i;
	int rc;

	if ((rc = lh_p11_slots (t, p, &slots, &n)) != LH_EXIT_OK)
		return rc;
	for (i = 0; i < n; i++)
		if (slots[i].present && !slots[i].initialized)
			break;
	if (i < n)
		*out = slots[i];
	else
		rc = lh_error (t, LH_EXIT_FAIL, "check token_dir in litehsm.conf "
		               "and that it is writable", "the module %s has no "
		               "free slot for a new token", p->path);
	free (slots);
	return rc;
}

/* ---- sessions and login ------------------------------------------------------ */

int
lh_p11_session (lh_tool *t, lh_p11 *p, const lh_p11_slot *s, bool rw,
                CK_SESSION_HANDLE *out)
{
	CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
	CK_RV rv;

	rv = p->f->C_OpenSession (s->id, flags, NULL, NULL, out);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot open a session with token "
		                    "\"%s\"", s->label);
	return LH_EXIT_OK;
}

int
lh_p11_check_new_pin (lh_tool *t, const lh_p11_slot *s, const lh_pin *pin,
                      const char *what)
{
	CK_ULONG min = s->token.ulMinPinLen, max = s->token.ulMaxPinLen;
	char hint[96];

	if (max == 0 || max > LH_PIN_MAX)
		max = LH_PIN_MAX;
	if (pin->len >= min && pin->len <= max)
		return LH_EXIT_OK;
	snprintf (hint, sizeof hint, "choose one of %lu to %lu characters",
	          (unsigned long)min, (unsigned long)max);
	return lh_error (t, LH_EXIT_USAGE, hint, "the %s is too %s", what,
	                 pin->len < min ? "short" : "long");
}

/* Before asking for a PIN: is there one, and is it usable? */
static int
pin_usable (lh_tool *t, const lh_p11_slot *s, CK_USER_TYPE who)
{
	CK_FLAGS f = s->token.flags;
	char hint[160];

	if (who == CKU_USER && !(f & CKF_USER_PIN_INITIALIZED)) {
		snprintf (hint, sizeof hint, "the SO sets it with 'litehsm token "
		          "init-pin --token %s'", s->label);
		return lh_error (t, LH_EXIT_FAIL, hint, "token \"%s\" has no user "
		                 "PIN yet", s->label);
	}
	if (who == CKU_USER && (f & CKF_USER_PIN_LOCKED)) {
		snprintf (hint, sizeof hint, "the SO can reset it with 'litehsm "
		          "token unlock --token %s'", s->label);
		return lh_error (t, LH_EXIT_PIN, hint, "the user PIN of token "
		                 "\"%s\" is locked", s->label);
	}
	if (who == CKU_SO && (f & CKF_SO_PIN_LOCKED))
		return lh_error (t, LH_EXIT_PIN, "a locked SO PIN cannot be reset: "
		                 "restore a backup of the token or create a new one",
		                 "the SO PIN of token \"%s\" is locked", s->label);
	return LH_EXIT_OK;
}

int
lh_p11_login_pin (lh_tool *t, lh_p11 *p, CK_SESSION_HANDLE h,
                  const lh_p11_slot *s, CK_USER_TYPE who, const lh_pin *pin)
{
	lh_p11_slot now;
	char hint[160];
	CK_RV rv;

	rv = p->f->C_Login (h, who, (CK_UTF8CHAR_PTR)pin->v, pin->len);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return LH_EXIT_OK;
	if (rv != CKR_PIN_INCORRECT && rv != CKR_PIN_LOCKED)
		return lh_error_rv (t, rv, NULL, "cannot log in to token \"%s\" as "
		                    "%s", s->label, lh_p11_who (who));
	/* What the failure did to the PIN: tell the tries left if we can. */
	snprintf (hint, sizeof hint, "check the PIN and try again");
	if (lh_p11_slot_get (t, p, s->id, &now) == LH_EXIT_OK) {
		const char *state = lh_p11_pin_state (&now.token, who == CKU_SO);

		if (strcmp (state, "locked") == 0 && who == CKU_USER)
			snprintf (hint, sizeof hint, "the PIN is now locked: the SO "
			          "can reset it with 'litehsm token unlock --token %s'",
			          s->label);
		else if (strcmp (state, "locked") == 0)
			snprintf (hint, sizeof hint, "the SO PIN is now locked: "
			          "restore a backup or create a new token");
		else if (strcmp (state, "final try") == 0)
			snprintf (hint, sizeof hint, "check the PIN: one more wrong "
			          "PIN locks it");
	}
	return lh_error_rv (t, rv, hint, "cannot log in to token \"%s\" as %s",
	                    s->label, lh_p11_who (who));
}

/* A pin-source in --token-uri: "file:///path", "file:/path" or a path. */
static const char *
uri_pin_file (const lh_p11 *p)
{
	const char *src = p->uri ? p->uri->pin_source : NULL;

	if (!src)
		return NULL;
	if (strncmp (src, "file://", 7) == 0)
		return src + 7;
	if (strncmp (src, "file:", 5) == 0)
		return src + 5;
	return src;
}

int
lh_p11_read_pin (lh_tool *t, lh_p11 *p, const lh_p11_slot *s,
                 CK_USER_TYPE who, lh_pin_role role, lh_pin *pin)
{
	char what[96];
	int rc;

	lh_pin_clear (pin);
	if ((rc = pin_usable (t, s, who)) != LH_EXIT_OK)
		return rc;
	snprintf (what, sizeof what, "%s PIN of token \"%s\"",
	          lh_p11_who (who), s->label);
	if (who == CKU_USER && role == LH_PIN_USER && !lh_pin_given (t, role) &&
	    uri_pin_file (p))
		return lh_pin_from_file (t, uri_pin_file (p), "pin-source in "
		                         "--token-uri", pin);
	return lh_pin_read (t, role, what, false, pin);
}

int
lh_p11_login (lh_tool *t, lh_p11 *p, CK_SESSION_HANDLE h,
              const lh_p11_slot *s, CK_USER_TYPE who, lh_pin_role role)
{
	lh_pin pin;
	int rc;

	rc = lh_p11_read_pin (t, p, s, who, role, &pin);
	if (rc == LH_EXIT_OK)
		rc = lh_p11_login_pin (t, p, h, s, who, &pin);
	lh_pin_clear (&pin);
	return rc;
}

/* ---- creating a token ---------------------------------------------------- */

int
lh_p11_init_token (lh_tool *t, lh_p11 *p, lh_p11_slot *s, const char *label,
                   const lh_pin *so, const lh_pin *user)
{
	CK_UTF8CHAR padded[32];
	CK_SESSION_HANDLE h;
	char hint[160];
	CK_RV rv;
	int rc;

	memset (padded, ' ', sizeof padded);
	memcpy (padded, label, strlen (label));
	rv = p->f->C_InitToken (s->id, (CK_UTF8CHAR_PTR)so->v, so->len, padded);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot create token \"%s\"", label);
	if ((rc = lh_p11_slot_get (t, p, s->id, s)) != LH_EXIT_OK)
		return rc;
	snprintf (hint, sizeof hint, "the token exists without a user PIN: set "
	          "it with 'litehsm token init-pin --token %s'", label);
	if ((rv = p->f->C_OpenSession (s->id, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	                               NULL, NULL, &h)) != CKR_OK)
		return lh_error_rv (t, rv, hint, "cannot open a session with the new "
		                    "token \"%s\"", label);
	rv = p->f->C_Login (h, CKU_SO, (CK_UTF8CHAR_PTR)so->v, so->len);
	if (rv == CKR_OK) {
		rv = p->f->C_InitPIN (h, (CK_UTF8CHAR_PTR)user->v, user->len);
		p->f->C_Logout (h);
	}
	p->f->C_CloseSession (h);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, hint, "cannot set the user PIN of the new "
		                    "token \"%s\"", label);
	return lh_p11_slot_get (t, p, s->id, s);
}

/* ---- objects ------------------------------------------------------------- */

CK_RV
lh_p11_find (CK_FUNCTION_LIST *f, CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl,
             CK_ULONG n, CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *got)
{
	CK_RV rv;

	*got = 0;
	if ((rv = f->C_FindObjectsInit (h, tmpl, n)) != CKR_OK)
		return rv;
	rv = f->C_FindObjects (h, out, max, got);
	f->C_FindObjectsFinal (h);
	if (rv != CKR_OK)
		*got = 0;
	return rv;
}

CK_RV
lh_p11_find_all (CK_FUNCTION_LIST *f, CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl,
                 CK_ULONG n, CK_OBJECT_HANDLE **hs, size_t *count)
{
	CK_OBJECT_HANDLE batch[64], *all = NULL, *na;
	CK_ULONG got;
	CK_RV rv;

	*hs = NULL;
	*count = 0;
	if ((rv = f->C_FindObjectsInit (h, tmpl, n)) != CKR_OK)
		return rv;
	/* batches: a token may hold more objects than one buffer */
	for (;;) {
		if ((rv = f->C_FindObjects (h, batch, 64, &got)) != CKR_OK ||
		    got == 0)
			break;
		if (!(na = realloc (all, (*count + got) * sizeof *all))) {
			rv = CKR_HOST_MEMORY;
			break;
		}
		all = na;
		memcpy (all + *count, batch, got * sizeof *batch);
		*count += got;
	}
	f->C_FindObjectsFinal (h);
	if (rv != CKR_OK) {
		free (all);
		*count = 0;
		return rv;
	}
	*hs = all;
	return CKR_OK;
}

CK_RV
lh_p11_attr (CK_FUNCTION_LIST *f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
             CK_ATTRIBUTE_TYPE type, unsigned char **out, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*out = NULL;
	*len = 0;
	rv = f->C_GetAttributeValue (h, o, &a, 1);
	if (rv == CKR_OK && a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		rv = CKR_ATTRIBUTE_TYPE_INVALID;
	if (rv != CKR_OK)
		return rv;
	if (!(a.pValue = calloc (1, a.ulValueLen + 1)))
		return CKR_HOST_MEMORY;
	if ((rv = f->C_GetAttributeValue (h, o, &a, 1)) != CKR_OK) {
		free (a.pValue);
		return rv;
	}
	*out = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

bool
lh_p11_flag (CK_FUNCTION_LIST *f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
             CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = { type, &b, sizeof b };

	return f->C_GetAttributeValue (h, o, &a, 1) == CKR_OK && b;
}
