/*
 * fixture.c - shared fixture of the module-API tests; see fixture.h.
 *
 * The module is only ever reached through the CK_FUNCTION_LIST that its
 * exported C_GetFunctionList returns (dlsym of that one symbol).  Failures
 * are reported through fx_fail_hook, which fx_main() points at test.h's
 * lh_test_fail_ of the test program, so they end the current test.
 */
#define FX_INTERNAL 1
#include "config.h"

#include "fixture.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const fx_opts fx_loaded = { FX_LOADED, NULL };
const fx_opts fx_init = { FX_INIT, NULL };
const fx_opts fx_token = { FX_TOKEN, NULL };
const fx_opts fx_ready = { FX_READY, NULL };
const fx_opts fx_user = { FX_USER, NULL };

static void
fx_fail_exit (const char *file, int line, const char *msg)
{
	fprintf (stderr, "# %s:%d: %s\n", file, line, msg);
	_exit (1);
}

void (*fx_fail_hook) (const char *file, int line, const char *msg) = fx_fail_exit;

static lh_fx *current;

#define fail_(msg) fx_fail_hook (__FILE__, __LINE__, (msg))

#define check(expr) do { if (!(expr)) \
	fail_ ("fixture check failed: " #expr); } while (0)

#define check_rv(expected, actual) do { \
	CK_RV e_ = (expected), a_ = (actual); \
	if (e_ != a_) { char m_[300]; \
		snprintf (m_, sizeof m_, "%s: expected rv 0x%lx, got 0x%lx", \
		          #actual, (unsigned long) e_, (unsigned long) a_); \
		fail_ (m_); } } while (0)

static void
failf (const char *file, int line, const char *what, const char *detail)
{
	char m[512];

	snprintf (m, sizeof m, "%s%s", what, detail);
	fx_fail_hook (file, line, m);
}

/* ------------------------------------------------------------------ */
/* Module life cycle                                                   */

const char *
fx_module_path (void)
{
	static char path[1024];
	const char *env = getenv ("LH_MODULE");

	if (env && *env)
		return env;
	env = getenv ("LH_BUILDDIR");
	snprintf (path, sizeof path, "%s/.libs/litehsm-pkcs11.so",
	          env && *env ? env : ".");
	return path;
}

void
fx_write_conf (lh_fx *fx, const char *extra)
{
	FILE *f = fopen (fx->conf_path, "w");

	check (f != NULL);
	fprintf (f, "# written by tests/module/fixture.c\n"
	         "token_dir = %s\n"
	         "kdf_time_cost = 1\n"
	         "kdf_memory_kib = 64\n"
	         "kdf_parallelism = 1\n"
	         "log_file = %s\n"
	         "%s%s",
	         fx->token_dir, fx->log_path, extra ? extra : "",
	         extra && *extra && extra[strlen (extra) - 1] != '\n' ? "\n" : "");
	check (fclose (f) == 0);
}

void
fx_load (lh_fx *fx)
{
	CK_C_GetFunctionList get;
	const char *path = fx_module_path ();

	fx->dl = dlopen (path, RTLD_NOW | RTLD_LOCAL);
	if (!fx->dl)
		failf (__FILE__, __LINE__, "dlopen: ", dlerror ());
	get = (CK_C_GetFunctionList) dlsym (fx->dl, "C_GetFunctionList");
	check (get != NULL);
	check_rv (CKR_OK, get (&fx->fl));
	check (fx->fl != NULL);
}

void
fx_unload (lh_fx *fx)
{
	if (fx->initialized && fx->fl)
		fx->fl->C_Finalize (NULL);
	fx->initialized = false;
	fx->fl = NULL;
	if (fx->dl)
		dlclose (fx->dl);
	fx->dl = NULL;
}

CK_RV
fx_initialize_rv (lh_fx *fx)
{
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	memset (&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	rv = fx->fl->C_Initialize (&args);
	if (rv == CKR_OK)
		fx->initialized = true;
	return rv;
}

void
fx_initialize (lh_fx *fx)
{
	check_rv (CKR_OK, fx_initialize_rv (fx));
}

void
fx_finalize (lh_fx *fx)
{
	check_rv (CKR_OK, fx->fl->C_Finalize (NULL));
	fx->initialized = false;
}

void
fx_restart (lh_fx *fx)
{
	fx_finalize (fx);
	fx_initialize (fx);
}

void
fx_reload (lh_fx *fx)
{
	fx_finalize (fx);
	fx_unload (fx);
	fx_load (fx);
	fx_initialize (fx);
}

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                  */

void *
fx_setup (void *arg)
{
	const fx_opts *opts = arg ? arg : &fx_init;
	const char *tmp = getenv ("TMPDIR");
	lh_fx *fx = calloc (1, sizeof *fx);

	check (fx != NULL);
	current = fx;
	fx->opts = opts;
	snprintf (fx->dir, sizeof fx->dir, "%s/litehsm-test-XXXXXX",
	          tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp (fx->dir)) {
		fx->dir[0] = '\0';
		fail_ ("mkdtemp failed");
	}
	snprintf (fx->token_dir, sizeof fx->token_dir, "%s/tokens", fx->dir);
	snprintf (fx->conf_path, sizeof fx->conf_path, "%s/litehsm.conf", fx->dir);
	snprintf (fx->log_path, sizeof fx->log_path, "%s/module.log", fx->dir);
	fx_write_conf (fx, opts->conf_extra);
	check (setenv ("LITEHSM_CONF", fx->conf_path, 1) == 0);

	fx_load (fx);
	if (opts->level >= FX_INIT)
		fx_initialize (fx);
	if (opts->level >= FX_TOKEN)
		fx->slot = fx_new_token (fx, FX_LABEL, opts->level >= FX_READY);
	if (opts->level >= FX_USER) {
		fx->session = fx_open (fx, fx->slot, true);
		fx_login (fx, fx->session, CKU_USER, FX_USER_PIN);
	}
	return fx;
}

/* Ignores its argument: when setup failed half-way, the runner hands back
 * the test's argument instead of the fixture. */
void
fx_teardown (void *arg)
{
	lh_fx *fx = current;

	(void) arg;
	current = NULL;
	if (!fx)
		return;
	if (fx->fl)
		fx->fl->C_Finalize (NULL);
	fx->initialized = false;
	fx_unload (fx);
	if (getenv ("LH_TEST_SHOW_LOG")) {
		FILE *f = fopen (fx->log_path, "r");
		char line[512];

		while (f && fgets (line, sizeof line, f))
			printf ("# log: %s", line);
		if (f)
			fclose (f);
	}
	if (fx->dir[0] && !getenv ("LH_TEST_KEEP"))
		fx_rmrf (fx->dir);
	else if (fx->dir[0])
		printf ("# kept %s\n", fx->dir);
	free (fx);
}

lh_fx *
fx_current (void)
{
	return current;
}

/* ------------------------------------------------------------------ */
/* Slots and tokens                                                    */

CK_ULONG
fx_slot_list (lh_fx *fx, CK_SLOT_ID *ids, CK_ULONG max)
{
	CK_ULONG n = 0;

	check_rv (CKR_OK, fx->fl->C_GetSlotList (CK_FALSE, NULL, &n));
	check (n <= max);
	check_rv (CKR_OK, fx->fl->C_GetSlotList (CK_FALSE, ids, &n));
	return n;
}

bool
fx_slot_listed (lh_fx *fx, CK_SLOT_ID slot)
{
	CK_SLOT_ID ids[64];
	CK_ULONG i, n = fx_slot_list (fx, ids, 64);

	for (i = 0; i < n; i++)
		if (ids[i] == slot)
			return true;
	return false;
}

void
fx_token_info (lh_fx *fx, CK_SLOT_ID slot, CK_TOKEN_INFO *info)
{
	memset (info, 0, sizeof *info);
	check_rv (CKR_OK, fx->fl->C_GetTokenInfo (slot, info));
}

CK_FLAGS
fx_token_flags (lh_fx *fx, CK_SLOT_ID slot)
{
	CK_TOKEN_INFO info;

	fx_token_info (fx, slot, &info);
	return info.flags;
}

/* The one slot whose token is present but not initialized. */
CK_SLOT_ID
fx_free_slot (lh_fx *fx)
{
	CK_SLOT_ID ids[64], free_slot = 0;
	CK_ULONG i, n = fx_slot_list (fx, ids, 64);
	int found = 0;

	for (i = 0; i < n; i++) {
		if (!(fx_token_flags (fx, ids[i]) & CKF_TOKEN_INITIALIZED)) {
			free_slot = ids[i];
			found++;
		}
	}
	if (found != 1)
		failf (__FILE__, __LINE__, "expected exactly one free slot", "");
	return free_slot;
}

CK_RV
fx_init_token_rv (lh_fx *fx, CK_SLOT_ID slot, const char *so_pin,
                  const char *label)
{
	CK_UTF8CHAR lab[32];

	fx_pad (lab, sizeof lab, label);
	return fx->fl->C_InitToken (slot, (CK_UTF8CHAR_PTR) so_pin,
	                            strlen (so_pin), lab);
}

void
fx_init_pin (lh_fx *fx, CK_SLOT_ID slot, const char *so_pin,
             const char *user_pin)
{
	CK_SESSION_HANDLE s = fx_open (fx, slot, true);

	fx_login (fx, s, CKU_SO, so_pin);
	check_rv (CKR_OK, fx->fl->C_InitPIN (s, (CK_UTF8CHAR_PTR) user_pin,
	                                     strlen (user_pin)));
	check_rv (CKR_OK, fx->fl->C_Logout (s));
	check_rv (CKR_OK, fx->fl->C_CloseSession (s));
}

/* Initialize a token on the free slot (SO PIN FX_SO_PIN), optionally set
 * the user PIN FX_USER_PIN; returns the token's slot. */
CK_SLOT_ID
fx_new_token (lh_fx *fx, const char *label, bool user_pin)
{
	CK_SLOT_ID slot = fx_free_slot (fx);

	check_rv (CKR_OK, fx_init_token_rv (fx, slot, FX_SO_PIN, label));
	if (user_pin)
		fx_init_pin (fx, slot, FX_SO_PIN, FX_USER_PIN);
	return slot;
}

/* ------------------------------------------------------------------ */
/* Sessions                                                            */

CK_SESSION_HANDLE
fx_open (lh_fx *fx, CK_SLOT_ID slot, bool rw)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);

	check_rv (CKR_OK, fx->fl->C_OpenSession (slot, flags, NULL, NULL, &s));
	check (s != CK_INVALID_HANDLE);
	return s;
}

CK_RV
fx_login_rv (lh_fx *fx, CK_SESSION_HANDLE s, CK_USER_TYPE who,
             const char *pin)
{
	return fx->fl->C_Login (s, who, (CK_UTF8CHAR_PTR) pin, strlen (pin));
}

void
fx_login (lh_fx *fx, CK_SESSION_HANDLE s, CK_USER_TYPE who, const char *pin)
{
	check_rv (CKR_OK, fx_login_rv (fx, s, who, pin));
}

CK_STATE
fx_state (lh_fx *fx, CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO info;

	memset (&info, 0xa5, sizeof info);
	check_rv (CKR_OK, fx->fl->C_GetSessionInfo (s, &info));
	return info.state;
}

/* ------------------------------------------------------------------ */
/* Objects                                                             */

CK_OBJECT_HANDLE
fx_create (lh_fx *fx, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;

	check_rv (CKR_OK, fx->fl->C_CreateObject (s, tmpl, n, &o));
	check (o != CK_INVALID_HANDLE);
	return o;
}

CK_OBJECT_HANDLE
fx_create_data (lh_fx *fx, CK_SESSION_HANDLE s, bool token, bool priv,
                const char *label, const char *value)
{
	CK_OBJECT_CLASS klass = CKO_DATA;
	CK_BBOOL tok = token ? CK_TRUE : CK_FALSE;
	CK_BBOOL pri = priv ? CK_TRUE : CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &klass, sizeof klass },
		{ CKA_TOKEN, &tok, sizeof tok },
		{ CKA_PRIVATE, &pri, sizeof pri },
		{ CKA_LABEL, (void *) label, strlen (label) },
		{ CKA_APPLICATION, (void *) "litehsm-tests", 13 },
		{ CKA_VALUE, (void *) value, strlen (value) },
	};

	return fx_create (fx, s, t, sizeof t / sizeof t[0]);
}

/* All matches (FindObjects one at a time until none is left). */
CK_ULONG
fx_find (lh_fx *fx, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
         CK_OBJECT_HANDLE *out, CK_ULONG max)
{
	CK_OBJECT_HANDLE h;
	CK_ULONG got, count = 0;

	check_rv (CKR_OK, fx->fl->C_FindObjectsInit (s, tmpl, n));
	for (;;) {
		got = 0;
		check_rv (CKR_OK, fx->fl->C_FindObjects (s, &h, 1, &got));
		if (got == 0)
			break;
		check (got == 1);
		if (count < max && out)
			out[count] = h;
		count++;
		check (count < 100000);
	}
	check_rv (CKR_OK, fx->fl->C_FindObjectsFinal (s));
	return count;
}

CK_ULONG
fx_find_label (lh_fx *fx, CK_SESSION_HANDLE s, const char *label,
               CK_OBJECT_HANDLE *out, CK_ULONG max)
{
	CK_ATTRIBUTE t = { CKA_LABEL, (void *) label, strlen (label) };

	return fx_find (fx, s, &t, 1, out, max);
}

CK_RV
fx_get_rv (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
           CK_ATTRIBUTE_TYPE type, void *buf, CK_ULONG *len)
{
	CK_ATTRIBUTE a = { type, buf, *len };
	CK_RV rv = fx->fl->C_GetAttributeValue (s, o, &a, 1);

	*len = a.ulValueLen;
	return rv;
}

CK_BBOOL
fx_get_bool (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
             CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = 0x5a;
	CK_ULONG len = sizeof v;

	check_rv (CKR_OK, fx_get_rv (fx, s, o, type, &v, &len));
	check (len == sizeof v);
	check (v == CK_TRUE || v == CK_FALSE);
	return v;
}

CK_ULONG
fx_get_ulong (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
              CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG v = 0x5a5a5a5a, len = sizeof v;

	check_rv (CKR_OK, fx_get_rv (fx, s, o, type, &v, &len));
	check (len == sizeof v);
	return v;
}

CK_ULONG
fx_get_bytes (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
              CK_ATTRIBUTE_TYPE type, void *buf, CK_ULONG max)
{
	CK_ULONG len = max;

	check_rv (CKR_OK, fx_get_rv (fx, s, o, type, buf, &len));
	check (len <= max);
	return len;
}

CK_RV
fx_set_bool_rv (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                CK_ATTRIBUTE_TYPE type, CK_BBOOL value)
{
	CK_ATTRIBUTE a = { type, &value, sizeof value };

	return fx->fl->C_SetAttributeValue (s, o, &a, 1);
}

/* ------------------------------------------------------------------ */
/* Application mutex callbacks                                         */

static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;
static fx_mutex_counts counts;

static void
count (int *which)
{
	pthread_mutex_lock (&counts_lock);
	(*which)++;
	pthread_mutex_unlock (&counts_lock);
}

static CK_RV
app_create (void **mutex)
{
	pthread_mutex_t *m;

	if (!mutex)
		return CKR_ARGUMENTS_BAD;
	m = malloc (sizeof *m);
	if (!m)
		return CKR_HOST_MEMORY;
	pthread_mutex_init (m, NULL);
	*mutex = m;
	count (&counts.created);
	return CKR_OK;
}

static CK_RV
app_destroy (void *mutex)
{
	if (!mutex)
		return CKR_MUTEX_BAD;
	pthread_mutex_destroy (mutex);
	free (mutex);
	count (&counts.destroyed);
	return CKR_OK;
}

static CK_RV
app_lock (void *mutex)
{
	if (!mutex)
		return CKR_MUTEX_BAD;
	pthread_mutex_lock (mutex);
	count (&counts.locked);
	return CKR_OK;
}

static CK_RV
app_unlock (void *mutex)
{
	if (!mutex)
		return CKR_MUTEX_BAD;
	count (&counts.unlocked);
	pthread_mutex_unlock (mutex);
	return CKR_OK;
}

/* Fill args with the four counting callbacks; resets the counts. */
void
fx_app_mutex_args (CK_C_INITIALIZE_ARGS *args, CK_FLAGS flags)
{
	memset (args, 0, sizeof *args);
	args->CreateMutex = app_create;
	args->DestroyMutex = app_destroy;
	args->LockMutex = app_lock;
	args->UnlockMutex = app_unlock;
	args->flags = flags;
	pthread_mutex_lock (&counts_lock);
	memset (&counts, 0, sizeof counts);
	pthread_mutex_unlock (&counts_lock);
}

fx_mutex_counts
fx_app_mutex_counts (void)
{
	fx_mutex_counts c;

	pthread_mutex_lock (&counts_lock);
	c = counts;
	pthread_mutex_unlock (&counts_lock);
	return c;
}

/* ------------------------------------------------------------------ */
/* Padded strings                                                      */

void
fx_pad (CK_UTF8CHAR *dst, size_t size, const char *s)
{
	size_t n = strlen (s);

	if (n > size)
		n = size;
	memset (dst, ' ', size);
	memcpy (dst, s, n);
}

bool
fx_padded_eq (const CK_UTF8CHAR *field, size_t size, const char *s)
{
	CK_UTF8CHAR want[256];

	if (size > sizeof want || strlen (s) > size)
		return false;
	fx_pad (want, size, s);
	return memcmp (want, field, size) == 0;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

bool
fx_file_has (const char *path, const void *needle, size_t len)
{
	FILE *f = fopen (path, "rb");
	unsigned char *buf = NULL;
	size_t size = 0, cap = 0, got;
	bool found = false;

	if (!f)
		return false;
	for (;;) {
		if (cap - size < 65536) {
			unsigned char *nb = realloc (buf, cap + 1048576);
			check (nb != NULL);
			buf = nb;
			cap += 1048576;
		}
		got = fread (buf + size, 1, cap - size, f);
		if (got == 0)
			break;
		size += got;
	}
	fclose (f);
	if (len > 0 && size >= len)
		found = memmem (buf, size, needle, len) != NULL;
	free (buf);
	return found;
}

/* How many regular files directly in dir contain needle. */
int
fx_dir_has (const char *dir, const void *needle, size_t len)
{
	DIR *d = opendir (dir);
	struct dirent *e;
	char path[1024];
	struct stat st;
	int hits = 0;

	if (!d)
		return 0;
	while ((e = readdir (d))) {
		snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat (path, &st) == 0 && S_ISREG (st.st_mode) &&
		    fx_file_has (path, needle, len))
			hits++;
	}
	closedir (d);
	return hits;
}

static bool
name_matches (const char *name, const char *prefix, const char *suffix)
{
	size_t n = strlen (name), ls = suffix ? strlen (suffix) : 0;

	if (prefix && strncmp (name, prefix, strlen (prefix)) != 0)
		return false;
	return !suffix || (n >= ls && strcmp (name + n - ls, suffix) == 0);
}

int
fx_dir_count (const char *dir, const char *prefix, const char *suffix)
{
	DIR *d = opendir (dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir (d)))
		if (e->d_name[0] != '.' && name_matches (e->d_name, prefix, suffix))
			n++;
	closedir (d);
	return n;
}

bool
fx_dir_first (const char *dir, const char *prefix, const char *suffix,
              char *path, size_t size)
{
	DIR *d = opendir (dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir (d))) {
		if (e->d_name[0] != '.' && name_matches (e->d_name, prefix, suffix)) {
			snprintf (path, size, "%s/%s", dir, e->d_name);
			found = true;
		}
	}
	closedir (d);
	return found;
}

void
fx_rmrf (const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char sub[1024];

	if (lstat (path, &st) != 0)
		return;
	if (S_ISDIR (st.st_mode)) {
		chmod (path, 0700);
		d = opendir (path);
		while (d && (e = readdir (d))) {
			if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
				continue;
			snprintf (sub, sizeof sub, "%s/%s", path, e->d_name);
			fx_rmrf (sub);
		}
		if (d)
			closedir (d);
		rmdir (path);
	} else {
		unlink (path);
	}
}

/* ------------------------------------------------------------------ */
/* Processes                                                           */

int
fx_wait (pid_t pid)
{
	int status;

	while (waitpid (pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

int
fx_run_self (const char *const *args, char *out, size_t out_size)
{
	char *argv[32], self[1024];
	int fds[2], n = 0, status;
	size_t used = 0;
	ssize_t got, len;
	pid_t pid;

	argv[n++] = (char *) "test-child";
	while (args[n - 1] && n < 31) {
		argv[n] = (char *) args[n - 1];
		n++;
	}
	argv[n] = NULL;
	/* resolve it here: under valgrind, exec of /proc/self/exe itself
	 * would start the tool binary, readlink answers for the client */
	len = readlink ("/proc/self/exe", self, sizeof self - 1);
	check (len > 0);
	self[len] = '\0';
	check (pipe (fds) == 0);
	fflush (stdout);
	pid = fork ();
	check (pid >= 0);
	if (pid == 0) {
		dup2 (fds[1], STDOUT_FILENO);
		close (fds[0]);
		close (fds[1]);
		execv (self, argv);
		_exit (127);
	}
	close (fds[1]);
	for (;;) {
		char sink[256];
		if (out && used + 1 < out_size)
			got = read (fds[0], out + used, out_size - used - 1);
		else
			got = read (fds[0], sink, sizeof sink);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (out && used + 1 < out_size)
			used += (size_t) got;
	}
	close (fds[0]);
	if (out && out_size)
		out[used] = '\0';
	status = fx_wait (pid);
	return status;
}
