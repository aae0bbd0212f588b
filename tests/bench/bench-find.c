/*
 * bench-find.c - does finding one object by label stay as fast among 10,000
 * token objects as among 10?  ("make bench"; a benchmark, not a test: it
 * prints numbers and asserts nothing.)
 *
 * For each module (litehsm from $LH_MODULE, and SoftHSM2 for comparison
 * when installed) it creates a token in a temp directory, logs in, and
 * grows the token to each size in turn (default 10, 1000, 10000 data
 * objects with distinct labels, made with C_CreateObject in one session).
 * At each size it times C_FindObjectsInit (CKA_CLASS + CKA_LABEL) +
 * C_FindObjects + C_FindObjectsFinal for one existing label, repeated for
 * about LH_BENCH_SECONDS in batches of ~10 ms, and prints the median of the
 * batch means (the mean time of one find, robust to a busy machine).  The closing lines give the
 * largest/smallest ratio per module: about 1 means an indexed look-up, a
 * ratio near the size ratio means a scan.
 *
 * Each module runs in a child process of its own, so the two never share
 * an address space (both use OpenSSL) and a failing module cannot take the
 * other's numbers with it.
 *
 * Environment:
 *   LH_MODULE         litehsm's module (make bench sets it)
 *   LH_BENCH_SOFTHSM  SoftHSM2's module (default
 *                     /usr/lib/softhsm/libsofthsm2.so; "none" to skip)
 *   LH_BENCH_SIZES    comma-separated sizes, ascending (default 10,1000,10000)
 *   LH_BENCH_SECONDS  time per measurement (default 0.5)
 *   LH_BENCH_PRIVATE  1: make the objects private (searched through
 *                     litehsm's keyed blind index) instead of public
 *
 * The litehsm token uses a cheap KDF cost (kdf_time_cost = 1) so set-up
 * time goes to creating objects, not to Argon2.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define MAX_SIZES 8
#define BENCH_PIN "bench-pin-1"
#define BENCH_SO  "bench-so-1"
#define WARMUP      3
#define BATCH_US    10000.0     /* one batch of finds: about 10 ms */
#define MIN_BATCHES 5
#define MAX_BATCHES 1000

/* What one module's run reports to the parent (through a pipe). */
typedef struct {
	int ok;                         /* 1 when set-up and all sizes worked */
	double find_us[MAX_SIZES];      /* time per find; < 0: not measured */
	unsigned long reps[MAX_SIZES];  /* finds behind each number */
	double create_us;               /* mean per C_CreateObject */
	char error[256];                /* first failure, if any */
} bench_result;

static size_t sizes[MAX_SIZES];
static size_t nsizes;
static double seconds = 0.5;
static bool private_objs;
static CK_FUNCTION_LIST_PTR f;

static double
now_us (void)
{
	struct timespec ts;

	clock_gettime (CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void
parse_sizes (const char *s)
{
	char *copy = strdup (s), *tok, *save = NULL;

	nsizes = 0;
	for (tok = strtok_r (copy, ",", &save); tok && nsizes < MAX_SIZES;
	     tok = strtok_r (NULL, ",", &save)) {
		long v = strtol (tok, NULL, 10);
		if (v > 0 && (nsizes == 0 || (size_t)v > sizes[nsizes - 1]))
			sizes[nsizes++] = (size_t)v;
	}
	free (copy);
}

static int
remove_one (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove (path);
}

/* rm -rf of the temp dir. */
static void
remove_tree (const char *dir)
{
	if (nftw (dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf (stderr, "bench-find: could not remove %s\n", dir);
}

/* Make a temp dir with the module's config in it and point the module at it. */
static bool
prepare_config (const char *path, char *dir, size_t dirlen, bench_result *r)
{
	char conf[1100], tokens[1100];
	const char *tmp = getenv ("TMPDIR");
	FILE *fp;

	snprintf (dir, dirlen, "%.900s/lh-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp (dir)) {
		snprintf (r->error, sizeof r->error, "mkdtemp: %s", strerror (errno));
		return false;
	}
	snprintf (conf, sizeof conf, "%s/module.conf", dir);
	snprintf (tokens, sizeof tokens, "%s/tokens", dir);
	fp = fopen (conf, "w");
	if (!fp || mkdir (tokens, 0700) != 0) {
		snprintf (r->error, sizeof r->error, "%.180s: %.60s", conf,
		          strerror (errno));
		if (fp)
			fclose (fp);
		return false;
	}
	if (strstr (path, "softhsm")) {
		fprintf (fp, "directories.tokendir = %s\nobjectstore.backend = file\n"
		         "log.level = ERROR\n", tokens);
		setenv ("SOFTHSM2_CONF", conf, 1);
	} else {
		fprintf (fp, "token_dir = %s\nkdf_time_cost = 1\nkdf_memory_kib = 64\n",
		         tokens);
		setenv ("LITEHSM_CONF", conf, 1);
	}
	fclose (fp);
	return true;
}

#define CHECK(call) do { CK_RV rv_ = (call); if (rv_ != CKR_OK) { \
	snprintf (r->error, sizeof r->error, "%s: rv 0x%lx", #call, \
	          (unsigned long)rv_); return false; } } while (0)

/* A slot whose token matches: label NULL = the first uninitialized one. */
static bool
find_slot (const char *label, CK_SLOT_ID *out)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO ti;
	char padded[32];

	if (label) {
		memset (padded, ' ', sizeof padded);
		memcpy (padded, label, strlen (label));
	}
	if (f->C_GetSlotList (CK_TRUE, slots, &n) != CKR_OK)
		return false;
	for (i = 0; i < n; i++) {
		if (f->C_GetTokenInfo (slots[i], &ti) != CKR_OK)
			continue;
		if (label ? ((ti.flags & CKF_TOKEN_INITIALIZED) &&
		             memcmp (ti.label, padded, 32) == 0)
		          : !(ti.flags & CKF_TOKEN_INITIALIZED)) {
			*out = slots[i];
			return true;
		}
	}
	return false;
}

/* Load the module, make a token "bench", return a logged-in RW session. */
static bool
setup (const char *path, CK_SESSION_HANDLE *s, bench_result *r)
{
	CK_C_GetFunctionList get_list;
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_UTF8CHAR label[32];
	CK_SLOT_ID slot;
	void *dl;

	dl = dlopen (path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf (r->error, sizeof r->error, "dlopen: %s", dlerror ());
		return false;
	}
	get_list = (CK_C_GetFunctionList)dlsym (dl, "C_GetFunctionList");
	if (!get_list) {
		snprintf (r->error, sizeof r->error, "no C_GetFunctionList");
		return false;
	}
	CHECK (get_list (&f));
	CHECK (f->C_Initialize (&args));
	if (!find_slot (NULL, &slot)) {
		snprintf (r->error, sizeof r->error, "no slot with an uninitialized token");
		return false;
	}
	memset (label, ' ', sizeof label);
	memcpy (label, "bench", 5);
	CHECK (f->C_InitToken (slot, (CK_UTF8CHAR_PTR)BENCH_SO, strlen (BENCH_SO), label));
	if (!find_slot ("bench", &slot)) {
		snprintf (r->error, sizeof r->error, "token not found after C_InitToken");
		return false;
	}
	CHECK (f->C_OpenSession (slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, s));
	CHECK (f->C_Login (*s, CKU_SO, (CK_UTF8CHAR_PTR)BENCH_SO, strlen (BENCH_SO)));
	CHECK (f->C_InitPIN (*s, (CK_UTF8CHAR_PTR)BENCH_PIN, strlen (BENCH_PIN)));
	CHECK (f->C_Logout (*s));
	CHECK (f->C_Login (*s, CKU_USER, (CK_UTF8CHAR_PTR)BENCH_PIN, strlen (BENCH_PIN)));
	return true;
}

/* Create data objects [from, to) labelled "obj-<n>". */
static bool
create_objects (CK_SESSION_HANDLE s, size_t from, size_t to, bench_result *r)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, priv = private_objs ? CK_TRUE : CK_FALSE;
	char label[32], value[64];
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &priv, sizeof priv },
		{ CKA_LABEL, label, 0 },
		{ CKA_VALUE, value, 0 },
	};
	CK_OBJECT_HANDLE h;
	size_t i;

	for (i = from; i < to; i++) {
		tmpl[3].ulValueLen = (CK_ULONG)snprintf (label, sizeof label, "obj-%07zu", i);
		tmpl[4].ulValueLen = (CK_ULONG)snprintf (value, sizeof value,
		                                         "bench value number %zu", i);
		CHECK (f->C_CreateObject (s, tmpl, 5, &h));
	}
	return true;
}

static int
cmp_double (const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One find by label; false (and r->error) unless exactly one object. */
static bool
find_once (CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, bench_result *r)
{
	CK_OBJECT_HANDLE h[4];
	CK_ULONG count;

	CHECK (f->C_FindObjectsInit (s, tmpl, 2));
	CHECK (f->C_FindObjects (s, h, 4, &count));
	CHECK (f->C_FindObjectsFinal (s));
	if (count != 1) {
		snprintf (r->error, sizeof r->error, "found %lu objects labelled %.*s",
		          (unsigned long)count, (int)tmpl[1].ulValueLen,
		          (const char *)tmpl[1].pValue);
		return false;
	}
	return true;
}

/*
 * Time find-by-label of "obj-<which>".  The finds run in batches of about
 * BATCH_US each; the result is the median of the batch means, which keeps
 * a busy machine's stray pauses out of the number.  Microseconds.
 */
static bool
time_find (CK_SESSION_HANDLE s, size_t which, double *mean, unsigned long *reps,
           bench_result *r)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	char label[32];
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, label, 0 },
	};
	static double batch[MAX_BATCHES];
	size_t nb = 0;
	unsigned long n = 0, in_batch;
	double start, bstart, t;
	int i;

	tmpl[1].ulValueLen = (CK_ULONG)snprintf (label, sizeof label, "obj-%07zu", which);
	/* Warm up (caches, statement preparation) before timing. */
	for (i = 0; i < WARMUP; i++)
		if (!find_once (s, tmpl, r))
			return false;
	start = now_us ();
	do {
		in_batch = 0;
		bstart = now_us ();
		do {
			if (!find_once (s, tmpl, r))
				return false;
			in_batch++;
			t = now_us ();
		} while (t - bstart < BATCH_US);
		batch[nb++] = (t - bstart) / in_batch;
		n += in_batch;
	} while (nb < MAX_BATCHES && (nb < MIN_BATCHES || t - start < seconds * 1e6));
	qsort (batch, nb, sizeof batch[0], cmp_double);
	*mean = nb % 2 ? batch[nb / 2] : (batch[nb / 2 - 1] + batch[nb / 2]) / 2;
	*reps = n;
	return true;
}

/* The child: everything for one module; results go into *r. */
static void
run_module (const char *path, bench_result *r)
{
	CK_SESSION_HANDLE s;
	char dir[1024];
	size_t i, have = 0;
	double t0, create_total = 0;

	for (i = 0; i < MAX_SIZES; i++)
		r->find_us[i] = -1;
	if (!prepare_config (path, dir, sizeof dir, r))
		return;
	if (setup (path, &s, r)) {
		for (i = 0; i < nsizes; i++) {
			t0 = now_us ();
			if (!create_objects (s, have, sizes[i], r))
				break;
			create_total += now_us () - t0;
			have = sizes[i];
			if (!time_find (s, have / 2, &r->find_us[i], &r->reps[i], r))
				break;
		}
		r->create_us = have ? create_total / have : 0;
		r->ok = i == nsizes;
		f->C_Logout (s);
		f->C_CloseSession (s);
		f->C_Finalize (NULL);
	}
	remove_tree (dir);
}

/* Run one module in a child process; false if it could not be run. */
static bool
run_child (const char *path, bench_result *r)
{
	int fds[2], status;
	pid_t pid;
	ssize_t got;

	memset (r, 0, sizeof *r);
	fflush (NULL);
	if (pipe (fds) != 0 || (pid = fork ()) < 0) {
		snprintf (r->error, sizeof r->error, "pipe/fork: %s", strerror (errno));
		return false;
	}
	if (pid == 0) {
		close (fds[0]);
		run_module (path, r);
		if (write (fds[1], r, sizeof *r) != (ssize_t)sizeof *r)
			_exit (1);
		_exit (0);
	}
	close (fds[1]);
	got = read (fds[0], r, sizeof *r);
	close (fds[0]);
	waitpid (pid, &status, 0);
	if (got != (ssize_t)sizeof *r) {
		memset (r, 0, sizeof *r);
		snprintf (r->error, sizeof r->error, "benchmark process died (status 0x%x)",
		          status);
		return false;
	}
	return true;
}

static void
print_cell (double us)
{
	if (us < 0)
		printf ("  %14s", "-");
	else if (us >= 10000)
		printf ("  %11.1f ms", us / 1000);
	else
		printf ("  %11.1f us", us);
}

int
main (int argc, char **argv)
{
	const char *names[2] = { "litehsm", "softhsm2" };
	const char *paths[2];
	bench_result res[2];
	bool have[2] = { false, false };
	const char *env;
	size_t i, m;

	paths[0] = argc > 1 ? argv[1] : getenv ("LH_MODULE");
	env = getenv ("LH_BENCH_SOFTHSM");
	paths[1] = env ? env : "/usr/lib/softhsm/libsofthsm2.so";
	parse_sizes ((env = getenv ("LH_BENCH_SIZES")) ? env : "10,1000,10000");
	if ((env = getenv ("LH_BENCH_SECONDS")) && atof (env) > 0)
		seconds = atof (env);
	private_objs = (env = getenv ("LH_BENCH_PRIVATE")) && strcmp (env, "1") == 0;
	if (!paths[0] || nsizes == 0) {
		fprintf (stderr, "usage: LH_MODULE=path/litehsm-pkcs11.so %s [module]\n",
		         argv[0]);
		return 2;
	}
	setvbuf (stdout, NULL, _IOLBF, 0);

	printf ("Find one %s data object by CKA_LABEL among N token objects\n"
	        "(C_FindObjectsInit + C_FindObjects + C_FindObjectsFinal: mean time "
	        "of one find,\n median over ~10 ms batches for ~%.1f s)\n\n",
	        private_objs ? "private" : "public", seconds);
	for (m = 0; m < 2; m++) {
		if (m == 1 && (strcmp (paths[1], "none") == 0 || access (paths[1], R_OK) != 0)) {
			printf ("%s: %s not available, skipped\n", names[m], paths[m]);
			continue;
		}
		printf ("%s: %s ...\n", names[m], paths[m]);
		run_child (paths[m], &res[m]);
		have[m] = true;
		if (res[m].error[0])
			printf ("%s: FAILED: %s\n", names[m], res[m].error);
	}

	printf ("\n%8s", "N");
	for (m = 0; m < 2; m++)
		if (have[m])
			printf ("  %14s", names[m]);
	printf ("\n");
	for (i = 0; i < nsizes; i++) {
		printf ("%8zu", sizes[i]);
		for (m = 0; m < 2; m++)
			if (have[m])
				print_cell (res[m].find_us[i]);
		printf ("\n");
	}
	printf ("%8s", "create");
	for (m = 0; m < 2; m++)
		if (have[m])
			print_cell (res[m].create_us > 0 ? res[m].create_us : -1);
	printf ("   (mean C_CreateObject)\n\n");

	for (m = 0; m < 2; m++) {
		double lo, hi;

		if (!have[m])
			continue;
		lo = res[m].find_us[0];
		hi = res[m].find_us[nsizes - 1];
		if (nsizes > 1 && lo > 0 && hi > 0)
			printf ("%s: find among %zu / among %zu = %.2f\n", names[m],
			        sizes[nsizes - 1], sizes[0], hi / lo);
		else
			printf ("%s: ratio not available\n", names[m]);
	}
	if (have[0] && have[1] && res[0].find_us[nsizes - 1] > 0 &&
	    res[1].find_us[nsizes - 1] > 0)
		printf ("softhsm2 / litehsm at %zu objects = %.2f\n", sizes[nsizes - 1],
		        res[1].find_us[nsizes - 1] / res[0].find_us[nsizes - 1]);
	return 0;
}
