/*
 * keystore.c - where the keystores are, how the tool reaches each one
 * (a configuration per phase, a child process per user), the root
 * keystore, and the registry of local keystores it keeps.  The copying
 * itself is keystore_sync.c.  See keystore.h for the model.
 */
#include "tools/keystore.h"
#include "tools/json.h"
#include "tools/tokenfile.h"
#include "pkcs11/conf.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define APP "litehsm keystore"

bool
lh_ks_is_root (void)
{
	return geteuid () == 0;
}

unsigned
lh_ks_version (const char *id)
{
	unsigned long n;
	char *end;
	size_t i;

	if (id[0] != 'v' || id[1] < '1' || id[1] > '9')
		return 0;
	n = strtoul (id + 1, &end, 10);
	if (*end != '.' || n > 1000000)
		return 0;
	for (i = 1; end[i]; i++)
		if (!((end[i] >= '0' && end[i] <= '9') ||
		      (end[i] >= 'a' && end[i] <= 'f')))
			return 0;
	return i == 9 ? (unsigned)n : 0;
}

/* ---- configuration -------------------------------------------------------- */

/* Is line a "token_dir =" or "token =" setting? */
static bool
token_line (const char *line)
{
	size_t n;

	line += strspn (line, " \t");
	n = strcspn (line, " \t=");
	if ((n == 9 && strncmp (line, "token_dir", 9) == 0) ||
	    (n == 5 && strncmp (line, "token", 5) == 0))
		return strchr (line, '=') != NULL;
	return false;
}

/* The configuration the module would read, without its token lines. */
static int
read_base_conf (lh_tool *t, lh_ks *ks)
{
	lh_conf *conf = NULL;
	char *why = NULL, line[4096];
	size_t len = 0, cap = 1;
	FILE *f;
	CK_RV rv;

	rv = lh_conf_load (&conf, &why);
	if (rv != CKR_OK) {
		lh_error (t, LH_EXIT_FAIL, "fix the configuration (litehsm.conf(5))",
		          "%s", why ? why : "cannot read the module's configuration");
		free (why);
		return LH_EXIT_FAIL;
	}
	ks->base_conf = calloc (1, 1);
	if (!conf->source || !ks->base_conf) {
		lh_conf_free (conf);
		return ks->base_conf ? LH_EXIT_OK :
		       lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	}
	if (!(f = fopen (conf->source, "r"))) {
		lh_error (t, LH_EXIT_FAIL, "check its permissions", "cannot read "
		          "%s: %s", conf->source, strerror (errno));
		lh_conf_free (conf);
		return LH_EXIT_FAIL;
	}
	while (fgets (line, sizeof line, f)) {
		size_t n = strlen (line);
		char *grown;

		if (token_line (line))
			continue;
		if (!(grown = realloc (ks->base_conf, cap + n + 1)))
			break;
		ks->base_conf = grown;
		memcpy (ks->base_conf + len, line, n);
		len += n;
		if (n && line[n - 1] != '\n')
			ks->base_conf[len++] = '\n';
		ks->base_conf[len] = '\0';
		cap = len + 1;
	}
	fclose (f);
	lh_conf_free (conf);
	return LH_EXIT_OK;
}

/* Write a configuration naming token_dir and one token file into dir, and
 * point LITEHSM_CONF at it. */
static int
use_conf (lh_tool *t, const char *base, const char *dir, const char *token_dir,
          const char *token, char **path)
{
	char *p = NULL;
	FILE *f;
	int fd;

	free (*path);
	*path = NULL;
	if (asprintf (&p, "%s/litehsm.conf", dir) < 0)
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	unlink (p);
	fd = open (p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen (fd, "w"))) {
		if (fd >= 0)
			close (fd);
		lh_error (t, LH_EXIT_FAIL, "check the temporary directory", "cannot "
		          "write %s: %s", p, strerror (errno));
		free (p);
		return LH_EXIT_FAIL;
	}
	fprintf (f, "# written by litehsm keystore for one run\n%s"
	         "token_dir = %s\ntoken = %s\n", base ? base : "", token_dir, token);
	if (fclose (f) != 0) {
		free (p);
		return lh_error (t, LH_EXIT_FAIL, "check the temporary directory",
		                 "cannot write the configuration");
	}
	setenv ("LITEHSM_CONF", p, 1);
	*path = p;
	return LH_EXIT_OK;
}

/* mkdtemp under $TMPDIR or /tmp. */
static char *
make_tmp (void)
{
	const char *base = getenv ("TMPDIR");
	char *p = NULL;

	if (!base || !*base || access (base, W_OK | X_OK) != 0)
		base = "/tmp";
	if (asprintf (&p, "%s/litehsm-ks.XXXXXX", base) < 0)
		return NULL;
	if (!mkdtemp (p)) {
		free (p);
		return NULL;
	}
	return p;
}

/* Remove a directory made by make_tmp with the files the tool put there
 * (the configuration, the module's empty token directory). */
static void
remove_tmp (char *dir)
{
	char *p = NULL;

	if (!dir)
		return;
	if (asprintf (&p, "%s/litehsm.conf", dir) >= 0) {
		unlink (p);
		free (p);
	}
	if (asprintf (&p, "%s/empty", dir) >= 0) {
		rmdir (p);
		free (p);
	}
	rmdir (dir);
	free (dir);
}

int
lh_ks_begin (lh_tool *t, lh_ks *ks)
{
	const char *dir = getenv ("LITEHSM_KEYSTORE_DIR");
	int rc;

	memset (ks, 0, sizeof *ks);
	if (t->token || t->token_uri)
		return lh_error (t, LH_EXIT_USAGE, "leave out --token/--token-uri "
		                 "(or --user/--shared to work on that token)",
		                 "'%s' works on the keystores, not on a token "
		                 "named with --token or --token-uri", t->cmd);
	if (asprintf (&ks->root_dir, "%s", dir && *dir ? dir : LH_TOKEN_DIR) < 0 ||
	    asprintf (&ks->root_path, "%s/%s", ks->root_dir, LH_KS_ROOT_FILE) < 0)
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	if ((rc = read_base_conf (t, ks)) != LH_EXIT_OK)
		return rc;
	if (!(ks->tmp = make_tmp ()))
		return lh_error (t, LH_EXIT_FAIL, "check /tmp or set TMPDIR",
		                 "cannot make a temporary directory: %s",
		                 strerror (errno));
	return LH_EXIT_OK;
}

void
lh_ks_done (lh_ks *ks)
{
	lh_pin_clear (&ks->pin);
	lh_pin_clear (&ks->so_pin);
	free (ks->root_dir);
	free (ks->root_path);
	free (ks->base_conf);
	free (ks->conf);
	remove_tmp (ks->tmp);
	memset (ks, 0, sizeof *ks);
}

/* ---- users ---------------------------------------------------------------- */

int
lh_ks_user_get (lh_tool *t, const char *name, lh_ks_user *u)
{
	const char *home = getenv ("LITEHSM_KEYSTORE_HOME");
	struct passwd *pw;
	char *data = NULL;

	memset (u, 0, sizeof *u);
	if (!*name || strlen (name) >= sizeof u->name || strchr (name, '@') ||
	    strchr (name, '/'))
		return lh_error (t, LH_EXIT_USAGE, "give a user name of this system",
		                 "\"%s\" is not a user name", name);
	errno = 0;
	if (!(pw = getpwnam (name)))
		return lh_error (t, LH_EXIT_NOTFOUND, "check the name (getent "
		                 "passwd)", "no user named \"%s\" on this system",
		                 name);
	if (!lh_ks_is_root () && pw->pw_uid != getuid ())
		return lh_error (t, LH_EXIT_USAGE, "run it as root (sudo)", "only "
		                 "root can manage the keystore of user \"%s\"", name);
	snprintf (u->name, sizeof u->name, "%s", name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	if (home && *home) {
		if (asprintf (&data, "%s/%s", home, name) < 0)
			data = NULL;
	} else if (!pw->pw_dir || pw->pw_dir[0] != '/') {
		return lh_error (t, LH_EXIT_FAIL, "give the user a home directory, "
		                 "or set LITEHSM_KEYSTORE_HOME", "user \"%s\" has no "
		                 "home directory", name);
	} else if (asprintf (&data, "%s/.local/share", pw->pw_dir) < 0) {
		data = NULL;
	}
	if (!data ||
	    asprintf (&u->data, "%s/litehsm", data) < 0 ||
	    asprintf (&u->dir, "%s/tokens", u->data) < 0 ||
	    asprintf (&u->path, "%s/%s", u->dir, LH_KS_LOCAL_FILE) < 0 ||
	    asprintf (&u->pin_path, "%s/%s", u->data, LH_KS_PIN_FILE) < 0) {
		free (data);
		lh_ks_user_free (u);
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	}
	free (data);
	return LH_EXIT_OK;
}

void
lh_ks_user_free (lh_ks_user *u)
{
	free (u->data);
	free (u->dir);
	free (u->path);
	free (u->pin_path);
	memset (u, 0, sizeof *u);
}

/* ---- the root keystore ---------------------------------------------------- */

/* Load the module with a configuration that names the root keystore. */
static int
root_module (lh_tool *t, lh_ks *ks, lh_secret_ctx *c, lh_p11_slot *s)
{
	lh_p11_slot *slots = NULL;
	char *empty = NULL;
	size_t n, i;
	int rc;

	memset (c, 0, sizeof *c);
	c->h = CK_INVALID_HANDLE;
	if (asprintf (&empty, "%s/empty", ks->tmp) < 0)
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	rc = use_conf (t, ks->base_conf, ks->tmp, empty, ks->root_path, &ks->conf);
	free (empty);
	if (rc != LH_EXIT_OK || (rc = lh_p11_open (t, &c->p)) != LH_EXIT_OK)
		return rc;
	c->f = c->p.f;
	if (!lh_p11_is_litehsm (&c->p))
		return lh_error (t, LH_EXIT_USAGE, "leave out --module (keystores "
		                 "are litehsm tokens)", "%s is not the litehsm "
		                 "module", c->p.path);
	if ((rc = lh_p11_slots (t, &c->p, &slots, &n)) != LH_EXIT_OK)
		return rc;
	for (i = 0; i < n; i++) {
		size_t dl = strlen (slots[i].description);

		if (dl >= strlen (LH_KS_ROOT_FILE) &&
		    strcmp (slots[i].description + dl - strlen (LH_KS_ROOT_FILE),
		            LH_KS_ROOT_FILE) == 0)
			break;
	}
	if (i == n)
		rc = lh_error (t, LH_EXIT_FAIL, "check LITEHSM_KEYSTORE_DIR", "the "
		               "module does not show %s", ks->root_path);
	else
		*s = slots[i];
	free (slots);
	return rc;
}

/* Read the PIN of who once per run. */
static int
root_pin (lh_tool *t, lh_ks *ks, lh_secret_ctx *c, CK_USER_TYPE who)
{
	bool *have = who == CKU_SO ? &ks->have_so_pin : &ks->have_pin;
	lh_pin *pin = who == CKU_SO ? &ks->so_pin : &ks->pin;
	int rc;

	if (*have)
		return LH_EXIT_OK;
	rc = lh_p11_read_pin (t, &c->p, &c->s, who,
	                      who == CKU_SO ? LH_PIN_SO : LH_PIN_USER, pin);
	*have = rc == LH_EXIT_OK;
	return rc;
}

int
lh_ks_root_login (lh_tool *t, lh_ks *ks, lh_secret_ctx *c, CK_USER_TYPE who)
{
	int rc;

	c->f->C_Logout (c->h);
	if ((rc = root_pin (t, ks, c, who)) != LH_EXIT_OK)
		return rc;
	rc = lh_p11_login_pin (t, &c->p, c->h, &c->s, who,
	                       who == CKU_SO ? &ks->so_pin : &ks->pin);
	if (rc != LH_EXIT_OK) {
		/* a wrong PIN is not tried twice */
		lh_pin_clear (who == CKU_SO ? &ks->so_pin : &ks->pin);
		if (who == CKU_SO)
			ks->have_so_pin = false;
		else
			ks->have_pin = false;
	}
	return rc;
}

int
lh_ks_root_open (lh_tool *t, lh_ks *ks, CK_USER_TYPE who, lh_secret_ctx *c)
{
	struct stat st;
	int rc;

	memset (c, 0, sizeof *c);
	c->h = CK_INVALID_HANDLE;
	if (stat (ks->root_path, &st) != 0 && errno == ENOENT)
		return lh_error (t, LH_EXIT_NOTFOUND, "create it with 'litehsm "
		                 "keystore init --root' (as root)", "no root "
		                 "keystore in %s", ks->root_dir);
	if (access (ks->root_path, R_OK | W_OK) != 0)
		return lh_error (t, LH_EXIT_USAGE, "run it as root (sudo)", "cannot "
		                 "open the root keystore %s: %s", ks->root_path,
		                 strerror (errno));
	if ((rc = root_module (t, ks, c, &c->s)) != LH_EXIT_OK)
		return rc;
	if (!c->s.initialized)
		return lh_error (t, LH_EXIT_NOTFOUND, "create it with 'litehsm "
		                 "keystore init --root' (as root)", "the root "
		                 "keystore %s is not initialized", ks->root_path);
	if (strcmp (c->s.label, LH_KS_ROOT_LABEL) != 0)
		return lh_error (t, LH_EXIT_FAIL, "check LITEHSM_KEYSTORE_DIR", "the "
		                 "token in %s is labelled \"%s\", not \"%s\"",
		                 ks->root_path, c->s.label, LH_KS_ROOT_LABEL);
	if ((rc = lh_p11_session (t, &c->p, &c->s, true, &c->h)) != LH_EXIT_OK)
		return rc;
	return lh_ks_root_login (t, ks, c, who);
}

int
lh_ks_root_create (lh_tool *t, lh_ks *ks)
{
	lh_secret_ctx c;
	lh_pin so, user;
	int rc;

	memset (&so, 0, sizeof so);
	memset (&user, 0, sizeof user);
	if (!lh_ks_is_root () && !getenv ("LITEHSM_KEYSTORE_DIR"))
		return lh_error (t, LH_EXIT_USAGE, "run it as root (sudo), or set "
		                 "LITEHSM_KEYSTORE_DIR for a private setup", "only root "
		                 "creates the root keystore in %s", ks->root_dir);
	if (access (ks->root_path, F_OK) == 0)
		return lh_error (t, LH_EXIT_FAIL, "use it, or delete it first with "
		                 "'litehsm token delete'", "a root keystore exists "
		                 "already (%s)", ks->root_path);
	if ((rc = root_module (t, ks, &c, &c.s)) != LH_EXIT_OK)
		goto out;
	if ((rc = lh_pin_read (t, LH_PIN_SO, "SO PIN of the new root keystore",
	                       true, &so)) != LH_EXIT_OK ||
	    (rc = lh_p11_check_new_pin (t, &c.s, &so, "SO PIN")) != LH_EXIT_OK ||
	    (rc = lh_pin_read (t, LH_PIN_USER, "user PIN of the new root keystore",
	                       true, &user)) != LH_EXIT_OK ||
	    (rc = lh_p11_check_new_pin (t, &c.s, &user, "user PIN")) != LH_EXIT_OK)
		goto out;
	if ((rc = lh_p11_init_token (t, &c.p, &c.s, LH_KS_ROOT_LABEL, &so,
	                             &user)) != LH_EXIT_OK)
		goto out;
	chmod (ks->root_path, 0600);
	if (t->json) {
		lh_json j;

		lh_json_init (&j, stdout);
		lh_json_object_begin (&j, NULL);
		lh_json_str (&j, "path", ks->root_path);
		lh_json_str (&j, "label", LH_KS_ROOT_LABEL);
		lh_json_str (&j, "serial", c.s.serial);
		lh_json_object_end (&j);
		lh_json_finish (&j);
	} else {
		printf ("Created the root keystore %s (serial %s).\n",
		        ks->root_path, c.s.serial);
	}
out:
	lh_pin_clear (&so);
	lh_pin_clear (&user);
	lh_secret_close (&c);
	return rc;
}

/* ---- the registry ----------------------------------------------------------- */

static void
hex (char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool
unhex (const char *in, size_t n, unsigned char *out, size_t cap, size_t *len)
{
	size_t i;

	if (n % 2 || n / 2 > cap)
		return false;
	for (i = 0; i < n; i++) {
		char ch = in[i];
		int v = ch >= '0' && ch <= '9' ? ch - '0' :
		        ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;

		if (v < 0)
			return false;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	*len = n / 2;
	return true;
}

void
lh_ks_items_free (lh_ks_items *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free (l->v[i].blob);
	free (l->v);
	memset (l, 0, sizeof *l);
}

void
lh_ks_reg_free (lh_ks_reg *r)
{
	lh_pin_clear (&r->so_pin);
	lh_pin_clear (&r->pin);
	free (r->path);
	free (r->pin_file);
	lh_ks_items_free (&r->copied);
	memset (r, 0, sizeof *r);
}

void
lh_ks_users_free (char **users, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free (users[i]);
	free (users);
}

/* Append an item (name, id, shared) to a list; false when out of memory. */
bool
lh_ks_items_add (lh_ks_items *l, const lh_ks_item *it)
{
	lh_ks_item *grown = realloc (l->v, (l->n + 1) * sizeof *grown);

	if (!grown)
		return false;
	l->v = grown;
	l->v[l->n++] = *it;
	return true;
}

/* Parse the registry text (a line per field). */
static bool
reg_parse (lh_ks_reg *r, char *text)
{
	char *line, *save = NULL;

	for (line = strtok_r (text, "\n", &save); line;
	     line = strtok_r (NULL, "\n", &save)) {
		char *eq = strchr (line, '=');
		lh_ks_item it;

		if (!eq)
			return false;
		*eq++ = '\0';
		if (strcmp (line, "path") == 0) {
			if (!(r->path = strdup (eq)))
				return false;
		} else if (strcmp (line, "pin-file") == 0) {
			if (*eq && !(r->pin_file = strdup (eq)))
				return false;
		} else if (strcmp (line, "so-pin") == 0) {
			if (!unhex (eq, strlen (eq), (unsigned char *)r->so_pin.v,
			            LH_PIN_MAX, &r->so_pin.len))
				return false;
		} else if (strcmp (line, "pin") == 0) {
			if (!unhex (eq, strlen (eq), (unsigned char *)r->pin.v,
			            LH_PIN_MAX, &r->pin.len))
				return false;
		} else if (strcmp (line, "copy") == 0) {
			/* "s|u ID NAME" */
			char *id = eq + 2, *sp = strchr (id, ' ');

			memset (&it, 0, sizeof it);
			if ((eq[0] != 's' && eq[0] != 'u') || eq[1] != ' ' || !sp ||
			    (size_t)(sp - id) >= sizeof it.id ||
			    strlen (sp + 1) >= sizeof it.name)
				return false;
			it.shared = eq[0] == 's';
			memcpy (it.id, id, (size_t)(sp - id));
			snprintf (it.name, sizeof it.name, "%s", sp + 1);
			it.version = lh_ks_version (it.id);
			if (!lh_ks_items_add (&r->copied, &it))
				return false;
		}
	}
	return r->path && r->so_pin.len && r->pin.len;
}

static CK_RV
find_data (lh_secret_ctx *c, const char *label, CK_OBJECT_HANDLE *out,
           CK_ULONG max, CK_ULONG *n)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_APPLICATION, (void *)APP, strlen (APP) },
		{ CKA_LABEL, (void *)label, label ? strlen (label) : 0 },
	};

	return lh_p11_find (c->f, c->h, tmpl, label ? 4 : 3, out, max, n);
}

/* Read a CKA_VALUE or CKA_LABEL into a malloc'd NUL-terminated buffer. */
static CK_RV
get_text (lh_secret_ctx *c, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
          char **out, CK_ULONG *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*out = NULL;
	if ((rv = c->f->C_GetAttributeValue (c->h, h, &a, 1)) != CKR_OK)
		return rv;
	if (!(a.pValue = OPENSSL_zalloc (a.ulValueLen + 1)))
		return CKR_HOST_MEMORY;
	if ((rv = c->f->C_GetAttributeValue (c->h, h, &a, 1)) != CKR_OK) {
		OPENSSL_clear_free (a.pValue, a.ulValueLen + 1);
		return rv;
	}
	*out = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

int
lh_ks_reg_get (lh_tool *t, lh_secret_ctx *c, const char *user, lh_ks_reg *r,
               bool *found)
{
	char label[128], *text = NULL;
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n, len = 0;
	CK_RV rv;
	bool ok;

	memset (r, 0, sizeof *r);
	*found = false;
	snprintf (label, sizeof label, "%s%s", LH_KS_REG_PREFIX, user);
	if ((rv = find_data (c, label, h, 2, &n)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot search the root keystore");
	if (n == 0)
		return LH_EXIT_OK;
	if ((rv = get_text (c, h[0], CKA_VALUE, &text, &len)) != CKR_OK)
		return lh_error_rv (t, rv, "check it with 'litehsm token verify'",
		                    "cannot read the record of %s's keystore", user);
	ok = reg_parse (r, text);
	OPENSSL_clear_free (text, len + 1);
	if (!ok) {
		lh_ks_reg_free (r);
		return lh_error (t, LH_EXIT_FAIL, "rebuild it with 'litehsm keystore "
		                 "init --user USER --force'", "the record of %s's local "
		                 "keystore in the root keystore is damaged", user);
	}
	snprintf (r->user, sizeof r->user, "%s", user);
	r->h = h[0];
	*found = true;
	return LH_EXIT_OK;
}

/* Append printf output to a growing buffer; false when out of memory. */
static bool
cat (char **buf, size_t *len, const char *fmt, ...)
	__attribute__ ((format (printf, 3, 4)));

static bool
cat (char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *grown;
	int n;

	va_start (ap, fmt);
	n = vsnprintf (NULL, 0, fmt, ap);
	va_end (ap);
	if (n < 0 || !(grown = OPENSSL_zalloc (*len + (size_t)n + 1)))
		return false;
	if (*buf)
		memcpy (grown, *buf, *len);
	OPENSSL_clear_free (*buf, *len);
	va_start (ap, fmt);
	vsnprintf (grown + *len, (size_t)n + 1, fmt, ap);
	va_end (ap);
	*buf = grown;
	*len += (size_t)n;
	return true;
}

int
lh_ks_reg_put (lh_tool *t, lh_secret_ctx *c, lh_ks_reg *r)
{
	char sohex[2 * LH_PIN_MAX + 1], pinhex[2 * LH_PIN_MAX + 1], label[128];
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	char *text = NULL;
	size_t len = 0, i;
	bool ok;
	CK_RV rv;

	hex (sohex, (unsigned char *)r->so_pin.v, r->so_pin.len);
	hex (pinhex, (unsigned char *)r->pin.v, r->pin.len);
	ok = cat (&text, &len, "path=%s\npin-file=%s\nso-pin=%s\npin=%s\n",
	          r->path, r->pin_file ? r->pin_file : "", sohex, pinhex);
	OPENSSL_cleanse (sohex, sizeof sohex);
	OPENSSL_cleanse (pinhex, sizeof pinhex);
	for (i = 0; ok && i < r->copied.n; i++)
		ok = cat (&text, &len, "copy=%c %s %s\n",
		          r->copied.v[i].shared ? 's' : 'u', r->copied.v[i].id,
		          r->copied.v[i].name);
	if (!ok) {
		OPENSSL_clear_free (text, len);
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	}
	snprintf (label, sizeof label, "%s%s", LH_KS_REG_PREFIX, r->user);
	/* handles do not outlive a module instance: look it up again */
	{
		CK_OBJECT_HANDLE hs[1];
		CK_ULONG n = 0;

		r->h = find_data (c, label, hs, 1, &n) == CKR_OK && n ? hs[0] : 0;
	}
	if (r->h != CK_INVALID_HANDLE) {
		CK_ATTRIBUTE a = { CKA_VALUE, text, len };

		rv = c->f->C_SetAttributeValue (c->h, r->h, &a, 1);
	} else {
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &yes, sizeof yes },
			{ CKA_APPLICATION, (void *)APP, strlen (APP) },
			{ CKA_LABEL, label, strlen (label) },
			{ CKA_VALUE, text, len },
		};

		rv = c->f->C_CreateObject (c->h, tmpl, 6, &r->h);
	}
	OPENSSL_clear_free (text, len);
	if (rv != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot record %s's keystore in the "
		                    "root keystore", r->user);
	return LH_EXIT_OK;
}

int
lh_ks_reg_del (lh_tool *t, lh_secret_ctx *c, lh_ks_reg *r)
{
	CK_RV rv;

	if (!r->h)
		return LH_EXIT_OK;
	if ((rv = c->f->C_DestroyObject (c->h, r->h)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot remove the record of %s's "
		                    "keystore", r->user);
	r->h = 0;
	return LH_EXIT_OK;
}

static int
cmp_str (const void *a, const void *b)
{
	return strcmp (*(char *const *)a, *(char *const *)b);
}

int
lh_ks_reg_users (lh_tool *t, lh_secret_ctx *c, char ***users, size_t *n)
{
	CK_OBJECT_HANDLE h[1024];
	CK_ULONG cnt, i, len;
	size_t plen = strlen (LH_KS_REG_PREFIX);
	char *label;
	CK_RV rv;

	*users = NULL;
	*n = 0;
	if ((rv = find_data (c, NULL, h, 1024, &cnt)) != CKR_OK)
		return lh_error_rv (t, rv, NULL, "cannot search the root keystore");
	if (!(*users = calloc (cnt + 1, sizeof **users)))
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	for (i = 0; i < cnt; i++) {
		if (get_text (c, h[i], CKA_LABEL, &label, &len) != CKR_OK)
			continue;
		if (len > plen && strncmp (label, LH_KS_REG_PREFIX, plen) == 0)
			(*users)[(*n)++] = strdup (label + plen);
		OPENSSL_free (label);
		if (*n && !(*users)[*n - 1]) {
			lh_ks_users_free (*users, *n);
			*users = NULL;
			*n = 0;
			return lh_error (t, LH_EXIT_FAIL, "free some memory",
			                 "out of memory");
		}
	}
	qsort (*users, *n, sizeof **users, cmp_str);
	return LH_EXIT_OK;
}

/* ---- a child process as the user ------------------------------------------- */

/* Make dir and its missing parents below the user's data directory. */
static int
make_dirs (lh_tool *t, const char *dir)
{
	char buf[4096], *p;

	snprintf (buf, sizeof buf, "%s", dir);
	for (p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char ch = *p;

			*p = '\0';
			if (mkdir (buf, 0700) != 0 && errno != EEXIST)
				return lh_error (t, LH_EXIT_FAIL, "check the user's home "
				                 "directory or LITEHSM_KEYSTORE_HOME",
				                 "cannot create %s: %s", buf,
				                 strerror (errno));
			*p = ch;
			if (!ch)
				break;
		}
	}
	return LH_EXIT_OK;
}

/*
 * With LITEHSM_KEYSTORE_HOME, U's data directory is <home>/U: made here,
 * as the caller, and given to U (below it the child makes the rest).
 */
static int
make_home (lh_tool *t, const lh_ks_user *u)
{
	const char *home = getenv ("LITEHSM_KEYSTORE_HOME");
	char *dir = NULL;
	int rc = LH_EXIT_OK;

	if (!home || !*home)
		return LH_EXIT_OK;
	if (asprintf (&dir, "%s/%s", home, u->name) < 0)
		return lh_error (t, LH_EXIT_FAIL, "free some memory", "out of memory");
	if (mkdir (dir, 0700) == 0) {
		if (chown (dir, u->uid, u->gid) != 0)
			rc = lh_error (t, LH_EXIT_FAIL, "run it as root (sudo)", "cannot "
			               "give %s to user \"%s\": %s", dir, u->name,
			               strerror (errno));
	} else if (errno != EEXIST) {
		rc = lh_error (t, LH_EXIT_FAIL, "check LITEHSM_KEYSTORE_HOME", "cannot "
		               "create %s: %s", dir, strerror (errno));
	}
	free (dir);
	return rc;
}

/* In the child: become the user for good. */
static int
drop_to (lh_tool *t, const lh_ks_user *u)
{
	if (geteuid () == 0 && u->uid != 0) {
		if (initgroups (u->name, u->gid) != 0 || setgid (u->gid) != 0 ||
		    setuid (u->uid) != 0)
			return lh_error (t, LH_EXIT_FAIL, "run it as root (sudo)",
			                 "cannot switch to user \"%s\": %s", u->name,
			                 strerror (errno));
		if (setuid (0) == 0)
			return lh_error (t, LH_EXIT_FAIL, "report this bug",
			                 "dropping to user \"%s\" can be undone", u->name);
	}
	umask (077);
	return LH_EXIT_OK;
}

/* Read all of fd into a malloc'd buffer. */
static void
read_all (int fd, char **out, size_t *len)
{
	size_t cap = 0;
	char buf[4096];
	ssize_t r;

	*out = NULL;
	*len = 0;
	for (;;) {
		r = read (fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (*len + (size_t)r + 1 > cap) {
			char *grown;

			cap = (*len + (size_t)r + 1) * 2;
			if (!(grown = realloc (*out, cap)))
				break;
			*out = grown;
		}
		memcpy (*out + *len, buf, (size_t)r);
		*len += (size_t)r;
		(*out)[*len] = '\0';
	}
}

int
lh_ks_run_as (lh_tool *t, lh_ks *ks, const lh_ks_user *u, lh_ks_child_fn fn,
              void *arg, char **result, size_t *rlen, char **err)
{
	int outp[2], errp[2], status = 0, rc;
	size_t elen;
	void *dl;
	pid_t pid;

	*result = NULL;
	*rlen = 0;
	*err = NULL;
	if ((rc = make_home (t, u)) != LH_EXIT_OK)
		return rc;
	fflush (stdout);
	fflush (stderr);
	if (pipe (outp) != 0 || pipe (errp) != 0)
		return lh_error (t, LH_EXIT_FAIL, "retry", "cannot make a pipe: %s",
		                 strerror (errno));
	if ((pid = fork ()) < 0) {
		close (outp[0]); close (outp[1]); close (errp[0]); close (errp[1]);
		return lh_error (t, LH_EXIT_FAIL, "retry", "cannot fork: %s",
		                 strerror (errno));
	}
	if (pid == 0) {
		char *tmp;
		FILE *out;

		close (outp[0]);
		close (errp[0]);
		dup2 (errp[1], STDERR_FILENO);
		close (errp[1]);
		/* the module is loaded while the file is still readable */
		dl = dlopen (lh_p11_module_path (t), RTLD_NOW | RTLD_LOCAL);
		(void)dl;
		if ((rc = drop_to (t, u)) != LH_EXIT_OK ||
		    (rc = make_dirs (t, u->dir)) != LH_EXIT_OK)
			_exit (rc);
		if (!(tmp = make_tmp ())) {
			lh_error (t, LH_EXIT_FAIL, "check /tmp or set TMPDIR", "cannot "
			          "make a temporary directory as \"%s\": %s", u->name,
			          strerror (errno));
			_exit (LH_EXIT_FAIL);
		}
		ks->conf = NULL;
		rc = use_conf (t, ks->base_conf, tmp, u->dir, u->path, &ks->conf);
		if (rc == LH_EXIT_OK && (out = fdopen (outp[1], "w"))) {
			rc = fn (t, ks, u, arg, out);
			if (fclose (out) != 0 && rc == LH_EXIT_OK)
				rc = LH_EXIT_FAIL;
		}
		remove_tmp (tmp);
		_exit (rc);
	}
	close (outp[1]);
	close (errp[1]);
	read_all (outp[0], result, rlen);
	close (outp[0]);
	read_all (errp[0], err, &elen);
	close (errp[0]);
	while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED (status))
		rc = WEXITSTATUS (status);
	else
		rc = LH_EXIT_FAIL;
	if (rc != LH_EXIT_OK && (!*err || !**err)) {
		free (*err);
		*err = NULL;
		if (asprintf (err, "litehsm: the work on %s's keystore stopped (%s "
		              "%d); retry, or see 'litehsm keystore status'\n",
		              u->name, WIFSIGNALED (status) ? "signal" : "exit code",
		              WIFSIGNALED (status) ? WTERMSIG (status) :
		              WEXITSTATUS (status)) < 0)
			*err = NULL;
	}
	return rc;
}

const char *
lh_ks_hint (char *buf, const char *fmt, const char *user)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf (buf, LH_KS_HINT, fmt, user);
#pragma GCC diagnostic pop
	return buf;
}

const char *
lh_ks_hint2 (char *buf, const char *fmt, const char *user)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf (buf, LH_KS_HINT, fmt, user, user);
#pragma GCC diagnostic pop
	return buf;
}

/* Report a child's error as this run's one line, naming the user whose
 * keystore it is about. */
int
lh_ks_child_error (lh_tool *t, int rc, const char *err, const char *user)
{
	const char *msg = err;
	size_t n, semi;

	if (t->reported || !err || !*err)
		return rc;
	if (strncmp (msg, "litehsm: ", 9) == 0)
		msg += 9;
	n = strcspn (msg, "\n");
	semi = strcspn (msg, ";\n");
	/* the module's generic advice (token verify, a backup) is no help for
	 * a local keystore: the root keystore rebuilds it */
	if (rc != LH_EXIT_PIN && (semi >= n || !strstr (msg + semi, "keystore")))
		fprintf (stderr, "litehsm: %s's local keystore: %.*s; rebuild it with "
		         "'litehsm keystore restore-user --user %s' if it stays "
		         "so\n", user, (int)semi, msg, user);
	else if (rc == LH_EXIT_PIN)
		fprintf (stderr, "litehsm: %s's local keystore: %.*s; its PIN is "
		         "kept in the root keystore: rebuild the keystore with "
		         "'litehsm keystore restore-user --user %s' (same PIN)\n",
		         user, (int)strcspn (msg, ";\n"), msg, user);
	else
		fprintf (stderr, "litehsm: %s's local keystore: %.*s\n", user,
		         (int)n, msg);
	t->reported = true;
	return rc;
}

/* A random PIN of n printable characters (no look-alikes). */
bool
lh_ks_random_pin (lh_pin *pin, size_t n)
{
	static const char set[] = "abcdefghijkmnpqrstuvwxyz"
	                          "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char r[LH_PIN_MAX];
	size_t i;

	size_t got = 0;

	if (n > LH_PIN_MAX)
		return false;
	while (got < n) {
		if (RAND_bytes (r, (int)n) != 1)
			return false;
		/* 224 = 4 * 56: no bias towards the first letters */
		for (i = 0; i < n && got < n; i++)
			if (r[i] < 224)
				pin->v[got++] = set[r[i] % (sizeof set - 1)];
	}
	pin->len = n;
	OPENSSL_cleanse (r, sizeof r);
	return true;
}
