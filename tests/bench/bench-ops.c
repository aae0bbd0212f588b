/*
 * bench-ops.c - what does litehsm cost over the raw cryptography, and
 * how does it compare with SoftHSM2?  ("make bench"; a benchmark, not a
 * test: it prints numbers, asserts nothing, and exits non-zero only when
 * an operation fails.)
 *
 * One run measures the same operations three ways:
 *   litehsm   the module in $LH_MODULE (or argv[1]), through PKCS#11;
 *   softhsm2  SoftHSM2 through PKCS#11, when installed;
 *   openssl   raw OpenSSL 3 EVP calls, no token at all;
 * and prints operations per second for each, with the ratios
 *   lh/ossl   litehsm / OpenSSL: the price of the PKCS#11 layer (session,
 *             policy checks, key cache); 1.00 means no overhead;
 *   lh/shsm   litehsm / SoftHSM2: above 1, litehsm is faster.
 *
 * The operations (issue 3, item 10): RSA-2048 sign (CKM_SHA256_RSA_PKCS),
 * P-256 sign (CKM_ECDSA_SHA256), Ed25519 sign (CKM_EDDSA), AES-256-GCM
 * encryption of 4 KiB and of 1 MiB, SHA-256 of 1 MiB, CKM_AES_KEY_WRAP_PAD
 * of an AES-256 key, C_CreateObject of a small token data object (the
 * mean over filling the token), and finding one object by label among
 * 10,000 token objects.  Each PKCS#11 operation includes its Init call
 * (C_SignInit + C_Sign, ...), as an application doing one operation at
 * a time pays both; the OpenSSL column likewise makes a fresh EVP context
 * per operation, but fetches algorithms once, as a careful application
 * would.  A second table signs with RSA-2048 and P-256 on one and on two
 * threads, each thread on a session of its own: with no lock held across
 * the cryptography, two threads do about twice the work on two CPUs.
 *
 * Keys are generated inside each token as token objects, like a CA's
 * keys.  The key-wrap row keeps to litehsm's strict policy
 * (pkcs11/policy.h): the wrapping key is generated in the token and may
 * wrap and unwrap but not encrypt or decrypt; the wrapped key is an
 * extractable AES-256 key.  A mechanism missing from a module's
 * C_GetMechanismList makes its row "n/a"; a failing call makes it
 * "FAIL", printed with the call and its CKR_ value, and the exit status 1.
 *
 * Each implementation runs in a child process of its own, so the modules
 * and the raw OpenSSL run never share an address space and a crashing
 * module cannot take the others' numbers with it.
 *
 * Environment:
 *   LH_MODULE         litehsm's module (make bench sets it)
 *   LH_BENCH_SOFTHSM  SoftHSM2's module (default
 *                     /usr/lib/softhsm/libsofthsm2.so; "none" to skip)
 *   LH_BENCH_SECONDS  time per measurement (default 0.5)
 *   LH_BENCH_OBJECTS  token objects to search among (default 10000)
 *   LH_BENCH_SESSION_KEYS  1: generate the keys as session objects
 *                     (CKA_TOKEN false) instead of token objects
 *   LH_BENCH_PRIVATE  1: make the data objects private (default public)
 *   LH_BENCH_FILL_SECONDS  cap on filling one token (default 75): a
 *                     module that has not made all its objects by then
 *                     is searched among those it made, and a note says so
 *
 * litehsm's temp token uses a cheap KDF (kdf_time_cost = 1, 64 KiB) so
 * the run's time goes to the operations, not to Argon2.  Most of a run
 * (about a minute on an idle machine) is SoftHSM2 writing its 10,000
 * object files; the fill cap keeps a busy machine's run near 3 minutes.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define BENCH_PIN   "bench-pin-1"
#define BENCH_SO    "bench-so-1"
#define SLICES      3                 /* a measurement's best-of count */
#define ERRLEN      160
#define BIG_LEN     (1024 * 1024)
#define SMALL_LEN   4096
#define MAX_THREADS 2

/* The rows: the main table, then the threads table. */
enum {
	R_RSA, R_P256, R_ED25519, R_GCM_4K, R_GCM_1M, R_SHA_1M, R_WRAP,
	R_CREATE, R_FIND,
	R_NMAIN,
	/* each sign row on one thread, then on two */
	R_RSA_T1 = R_NMAIN, R_RSA_T2, R_P256_T1, R_P256_T2,
	R_NROWS
};

static const char *const row_names[R_NMAIN] = {
	[R_RSA] = "RSA-2048 sign (SHA256_RSA_PKCS)",
	[R_P256] = "P-256 sign (ECDSA_SHA256)",
	[R_ED25519] = "Ed25519 sign (EDDSA)",
	[R_GCM_4K] = "AES-256-GCM encrypt 4 KiB",
	[R_GCM_1M] = "AES-256-GCM encrypt 1 MiB",
	[R_SHA_1M] = "SHA-256 digest 1 MiB",
	[R_WRAP] = "AES key wrap pad, AES-256 key",
	[R_CREATE] = "token object create (data)",
	[R_FIND] = "find by label among N",   /* N filled in when printed */
};

typedef struct {
	CK_MECHANISM_TYPE type;
	const char *name;
} mech_name;

#define MECH(m) { m, #m }

/* What a module must list in C_GetMechanismList for each row. */
static const struct {
	size_t n;
	mech_name m[2];
} row_mechs[R_NMAIN] = {
	[R_RSA] = { 2, { MECH (CKM_RSA_PKCS_KEY_PAIR_GEN), MECH (CKM_SHA256_RSA_PKCS) } },
	[R_P256] = { 2, { MECH (CKM_EC_KEY_PAIR_GEN), MECH (CKM_ECDSA_SHA256) } },
	[R_ED25519] = { 2, { MECH (CKM_EC_EDWARDS_KEY_PAIR_GEN), MECH (CKM_EDDSA) } },
	[R_GCM_4K] = { 2, { MECH (CKM_AES_KEY_GEN), MECH (CKM_AES_GCM) } },
	[R_GCM_1M] = { 2, { MECH (CKM_AES_KEY_GEN), MECH (CKM_AES_GCM) } },
	[R_SHA_1M] = { 1, { MECH (CKM_SHA256) } },
	[R_WRAP] = { 2, { MECH (CKM_AES_KEY_GEN), MECH (CKM_AES_KEY_WRAP_PAD) } },
};

enum { ST_NONE, ST_OK, ST_NA, ST_FAIL };

/* What one implementation's child reports to the parent (through a pipe). */
typedef struct {
	int state[R_NROWS];          /* ST_*; ST_NONE: not measured */
	double ops[R_NROWS];         /* operations per second when ST_OK */
	char note[R_NROWS][ERRLEN];  /* why n/a, or which call failed */
	char version[64];            /* library name and version */
	char fatal[ERRLEN];          /* set-up failure: nothing measured */
} bench_result;

/* One thread's state while it runs operations. */
typedef struct {
	CK_SESSION_HANDLE s;         /* PKCS#11 runs: this thread's session */
	unsigned long n;             /* operations so far: varies IVs, labels */
	uint8_t *out;                /* room for BIG_LEN plus a tag */
	char error[ERRLEN];          /* the first failure */
} worker;

/* One operation; false (with w->error set) when it failed. */
typedef bool (*bench_fn) (worker *w);

static double seconds = 0.5;
static unsigned long n_objects = 10000;
static double fill_seconds = 75;     /* cap on filling one token */
static uint8_t msg[64];              /* what the sign rows sign */
static uint8_t *big;                 /* the 1 MiB (and 4 KiB) input */

/* ------------------------------------------------------------------ */
/* Timing                                                              */

static double
now (void)
{
	struct timespec ts;

	clock_gettime (CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Run fn for about `seconds` in SLICES slices (each at least one
 * operation, so a 0.3 s SoftHSM2 find still runs) and put the fastest
 * slice's ops/s in *ops.  Other work on a shared machine can only slow
 * a slice down, never speed it up, so the best slice is the closest to
 * what the code costs.
 */
static bool
measure (bench_fn fn, worker *w, double *ops)
{
	double start, elapsed, rate;
	unsigned long reps;
	int i;

	*ops = 0;
	for (i = 0; i < SLICES; i++) {
		start = now ();
		reps = 0;
		do {
			if (!fn (w))
				return false;
			w->n++;
			reps++;
			elapsed = now () - start;
		} while (elapsed < seconds / SLICES);
		rate = reps / elapsed;
		if (rate > *ops)
			*ops = rate;
	}
	return true;
}

typedef struct {
	bench_fn fn;
	worker *w;
	atomic_int *go;              /* set once every thread exists */
	const double *deadline;      /* written before *go is set */
	unsigned long reps;
	double end;
	bool ok;
} thread_job;

static void *
thread_main (void *arg)
{
	thread_job *j = arg;

	while (!atomic_load (j->go))
		sched_yield ();
	while (now () < *j->deadline) {
		if (!j->fn (j->w)) {
			j->ok = false;
			break;
		}
		j->w->n++;
		j->reps++;
	}
	j->end = now ();
	return NULL;
}

/*
 * Run fn on n threads at once (worker ws[i] for thread i) for about
 * `duration` seconds; the sum of their operations per second in *ops.
 */
static bool
measure_threads (bench_fn fn, worker *ws, int n, double duration, double *ops,
                 char *err)
{
	pthread_t tid[MAX_THREADS];
	thread_job job[MAX_THREADS];
	atomic_int go = 0;
	double deadline = 0, start, end = 0;
	unsigned long reps = 0;
	int i, started;
	bool ok = true;

	for (started = 0; started < n; started++) {
		job[started] = (thread_job){ fn, &ws[started], &go, &deadline, 0, 0, true };
		if (pthread_create (&tid[started], NULL, thread_main, &job[started]) != 0)
			break;
	}
	/* a deadline of 0 lets already started threads end at once */
	start = now ();
	if (started == n)
		deadline = start + duration;
	atomic_store (&go, 1);
	for (i = 0; i < started; i++) {
		pthread_join (tid[i], NULL);
		reps += job[i].reps;
		if (job[i].end > end)
			end = job[i].end;
		if (!job[i].ok && ok) {
			memcpy (err, ws[i].error, ERRLEN);
			ok = false;
		}
	}
	if (started < n) {
		snprintf (err, ERRLEN, "pthread_create failed");
		return false;
	}
	if (ok && reps == 0) {
		snprintf (err, ERRLEN, "no operation finished in %.2f s", duration);
		return false;
	}
	*ops = reps / (end - start);
	return ok;
}

static void
set_state (bench_result *r, int row, int state, const char *note)
{
	r->state[row] = state;
	snprintf (r->note[row], ERRLEN, "%s", note ? note : "");
}

/* Measure one row unless set-up already made it n/a or failed. */
static void
run_row (bench_result *r, int row, bench_fn fn, worker *w)
{
	if (r->state[row] != ST_NONE)
		return;
	w->error[0] = '\0';
	if (measure (fn, w, &r->ops[row]))
		r->state[row] = ST_OK;
	else
		set_state (r, row, ST_FAIL, w->error);
}

/*
 * One sign row of the threads table: 1 and 2 threads (ws[0], ws[1]) in
 * turn, SLICES times, keeping the best of each, so a burst of other work
 * cannot fall on one of the two alone and fake or hide a speed-up.
 */
static void
thread_rows (bench_result *r, int src, int row, bench_fn fn, worker *ws)
{
	double rate;
	int i, t;

	if (r->state[src] != ST_OK) {
		set_state (r, row, ST_NA, "(see the main table)");
		set_state (r, row + 1, ST_NA, "(see the main table)");
		return;
	}
	for (i = 0; i < SLICES; i++) {
		for (t = 0; t < 2; t++) {
			if (!measure_threads (fn, ws, t + 1, seconds / SLICES, &rate,
			                      r->note[row + t])) {
				r->state[row + t] = ST_FAIL;
				return;
			}
			if (rate > r->ops[row + t])
				r->ops[row + t] = rate;
		}
	}
	r->state[row] = r->state[row + 1] = ST_OK;
}

/* The threads table: RSA-2048 and P-256 signing on 1 and 2 threads. */
static void
run_threads (bench_result *r, bench_fn rsa, bench_fn p256, worker *ws)
{
	if (r->state[R_RSA_T1] == ST_NONE)
		thread_rows (r, R_RSA, R_RSA_T1, rsa, ws);
	if (r->state[R_P256_T1] == ST_NONE)
		thread_rows (r, R_P256, R_P256_T1, p256, ws);
}

/* ------------------------------------------------------------------ */
/* PKCS#11 modules (runs in a child process)                           */

static CK_FUNCTION_LIST_PTR f;
static CK_SLOT_ID slot;
static CK_OBJECT_HANDLE k_rsa, k_p256, k_ed, k_gcm, k_kek, k_target;
static bool private_objs;
static CK_BBOOL token_keys = CK_TRUE;  /* CKA_TOKEN of the generated keys */
static unsigned long filled;  /* token objects made so far */
static bool p256_prehash;   /* no CKM_ECDSA_SHA256: hash here, CKM_ECDSA */

#define RV(x) { x, #x }
static const struct {
	CK_RV rv;
	const char *name;
} rv_names[] = {
	RV (CKR_GENERAL_ERROR), RV (CKR_FUNCTION_FAILED), RV (CKR_ARGUMENTS_BAD),
	RV (CKR_ATTRIBUTE_TYPE_INVALID), RV (CKR_ATTRIBUTE_VALUE_INVALID),
	RV (CKR_ATTRIBUTE_READ_ONLY), RV (CKR_DATA_LEN_RANGE),
	RV (CKR_DEVICE_ERROR), RV (CKR_DEVICE_MEMORY), RV (CKR_FUNCTION_NOT_SUPPORTED),
	RV (CKR_HOST_MEMORY), RV (CKR_KEY_FUNCTION_NOT_PERMITTED),
	RV (CKR_KEY_NOT_WRAPPABLE), RV (CKR_KEY_SIZE_RANGE),
	RV (CKR_KEY_TYPE_INCONSISTENT), RV (CKR_KEY_UNEXTRACTABLE),
	RV (CKR_MECHANISM_INVALID), RV (CKR_MECHANISM_PARAM_INVALID),
	RV (CKR_OBJECT_HANDLE_INVALID), RV (CKR_OPERATION_ACTIVE),
	RV (CKR_OPERATION_NOT_INITIALIZED), RV (CKR_SESSION_HANDLE_INVALID),
	RV (CKR_TEMPLATE_INCOMPLETE), RV (CKR_TEMPLATE_INCONSISTENT),
	RV (CKR_USER_NOT_LOGGED_IN), RV (CKR_BUFFER_TOO_SMALL),
	RV (CKR_WRAPPING_KEY_TYPE_INCONSISTENT), RV (CKR_DOMAIN_PARAMS_INVALID),
	RV (CKR_CURVE_NOT_SUPPORTED), RV (CKR_PIN_INCORRECT),
	RV (CKR_CRYPTOKI_NOT_INITIALIZED), RV (CKR_SLOT_ID_INVALID),
};

static bool
p11_fail (char *err, const char *call, CK_RV rv)
{
	size_t i;

	for (i = 0; i < sizeof rv_names / sizeof rv_names[0]; i++) {
		if (rv_names[i].rv == rv) {
			snprintf (err, ERRLEN, "%s: %s", call, rv_names[i].name);
			return false;
		}
	}
	snprintf (err, ERRLEN, "%s: CKR 0x%lx", call, (unsigned long)rv);
	return false;
}

/* Call a PKCS#11 function; on failure say which one and return false. */
#define P11(err, name, call) do { CK_RV rv_ = (call); \
	if (rv_ != CKR_OK) return p11_fail ((err), (name), rv_); } while (0)

static int
remove_one (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)type; (void)ftw;
	return remove (path);
}

/* rm -rf of the temp dir. */
static void
remove_tree (const char *dir)
{
	if (nftw (dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf (stderr, "bench-ops: could not remove %s\n", dir);
}

/* Make a temp dir with the module's config in it; point the module at it. */
static bool
prepare_config (const char *path, char *dir, size_t dirlen, char *err)
{
	char conf[1100], tokens[1100];
	const char *tmp = getenv ("TMPDIR");
	FILE *fp;

	snprintf (dir, dirlen, "%.900s/lh-bench-ops.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp (dir)) {
		snprintf (err, ERRLEN, "mkdtemp: %s", strerror (errno));
		return false;
	}
	snprintf (conf, sizeof conf, "%s/module.conf", dir);
	snprintf (tokens, sizeof tokens, "%s/tokens", dir);
	if (mkdir (tokens, 0700) != 0 || !(fp = fopen (conf, "w"))) {
		snprintf (err, ERRLEN, "%.100s: %.50s", conf, strerror (errno));
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

/* A slot whose token matches: label NULL = the first uninitialized one. */
static bool
find_slot (const char *label, CK_SLOT_ID *out)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO ti;
	char padded[32];

	memset (padded, ' ', sizeof padded);
	if (label)
		memcpy (padded, label, strlen (label));
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

/* dlopen the module and C_Initialize it (OS locking: threads follow). */
static bool
load_module (const char *path, bench_result *r)
{
	CK_C_GetFunctionList get_list;
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_INFO info;
	void *dl;

	if (!(dl = dlopen (path, RTLD_NOW | RTLD_LOCAL))) {
		snprintf (r->fatal, ERRLEN, "dlopen: %.140s", dlerror ());
		return false;
	}
	get_list = (CK_C_GetFunctionList)dlsym (dl, "C_GetFunctionList");
	if (!get_list) {
		snprintf (r->fatal, ERRLEN, "no C_GetFunctionList");
		return false;
	}
	P11 (r->fatal, "C_GetFunctionList", get_list (&f));
	P11 (r->fatal, "C_Initialize", f->C_Initialize (&args));
	P11 (r->fatal, "C_GetInfo", f->C_GetInfo (&info));
	snprintf (r->version, sizeof r->version, "%.32s %u.%u",
	          (const char *)info.libraryDescription, info.libraryVersion.major,
	          info.libraryVersion.minor);
	return true;
}

/* Make a token "bench" with a user PIN; a logged-in RW session in *s. */
static bool
init_token (CK_SESSION_HANDLE *s, char *err)
{
	CK_UTF8CHAR label[32];

	if (!find_slot (NULL, &slot)) {
		snprintf (err, ERRLEN, "no slot with an uninitialized token");
		return false;
	}
	memset (label, ' ', sizeof label);
	memcpy (label, "bench", 5);
	P11 (err, "C_InitToken", f->C_InitToken (slot, (CK_UTF8CHAR_PTR)BENCH_SO,
	                                         strlen (BENCH_SO), label));
	/* SoftHSM2 moves an initialized token to a new slot id */
	if (!find_slot ("bench", &slot)) {
		snprintf (err, ERRLEN, "token not found after C_InitToken");
		return false;
	}
	P11 (err, "C_OpenSession", f->C_OpenSession (slot, CKF_SERIAL_SESSION |
	                                             CKF_RW_SESSION, NULL, NULL, s));
	P11 (err, "C_Login(SO)", f->C_Login (*s, CKU_SO, (CK_UTF8CHAR_PTR)BENCH_SO,
	                                     strlen (BENCH_SO)));
	P11 (err, "C_InitPIN", f->C_InitPIN (*s, (CK_UTF8CHAR_PTR)BENCH_PIN,
	                                     strlen (BENCH_PIN)));
	P11 (err, "C_Logout", f->C_Logout (*s));
	P11 (err, "C_Login", f->C_Login (*s, CKU_USER, (CK_UTF8CHAR_PTR)BENCH_PIN,
	                                 strlen (BENCH_PIN)));
	return true;
}

static bool
listed (const CK_MECHANISM_TYPE *list, CK_ULONG n, CK_MECHANISM_TYPE type)
{
	CK_ULONG i;

	for (i = 0; i < n; i++)
		if (list[i] == type)
			return true;
	return false;
}

/*
 * Rows whose mechanisms the module does not list become n/a.  SoftHSM2
 * 2.6 has no CKM_ECDSA_SHA256; its P-256 row then does what its users do
 * (OpenSSL's engine, for one): hash in the caller and sign with CKM_ECDSA.
 */
static bool
mark_unsupported (bench_result *r)
{
	CK_MECHANISM_TYPE list[512];
	CK_ULONG n = 512;
	size_t row, k;
	CK_MECHANISM_TYPE type;

	P11 (r->fatal, "C_GetMechanismList", f->C_GetMechanismList (slot, list, &n));
	if (!listed (list, n, CKM_ECDSA_SHA256) && listed (list, n, CKM_ECDSA)) {
		p256_prehash = true;
		snprintf (r->note[R_P256], ERRLEN, "no CKM_ECDSA_SHA256: SHA-256 in the "
		          "caller, then CKM_ECDSA");
	}
	for (row = 0; row < R_NMAIN; row++) {
		for (k = 0; k < row_mechs[row].n && r->state[row] == ST_NONE; k++) {
			type = row_mechs[row].m[k].type;
			if (type == CKM_ECDSA_SHA256 && p256_prehash)
				continue;
			if (!listed (list, n, type)) {
				r->state[row] = ST_NA;
				snprintf (r->note[row], ERRLEN, "%s not in C_GetMechanismList",
				          row_mechs[row].m[k].name);
			}
		}
	}
	return true;
}

/* A signing key pair as token objects; the private key's handle in *priv. */
static bool
gen_pair (worker *w, CK_MECHANISM_TYPE mt, CK_ATTRIBUTE *pub, CK_ULONG npub,
          CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = { mt, NULL, 0 };
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE pt[] = {
		{ CKA_TOKEN, &token_keys, sizeof token_keys },
		{ CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_SIGN, &yes, sizeof yes },
	};
	CK_OBJECT_HANDLE pubh;

	P11 (w->error, "C_GenerateKeyPair", f->C_GenerateKeyPair (w->s, &m, pub, npub,
	     pt, sizeof pt / sizeof pt[0], &pubh, priv));
	return true;
}

static bool
gen_rsa (worker *w)
{
	CK_ULONG bits = 2048;
	CK_BYTE e[] = { 0x01, 0x00, 0x01 };
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &token_keys, sizeof token_keys },
		{ CKA_VERIFY, &yes, sizeof yes },
		{ CKA_MODULUS_BITS, &bits, sizeof bits },
		{ CKA_PUBLIC_EXPONENT, e, sizeof e },
	};

	return gen_pair (w, CKM_RSA_PKCS_KEY_PAIR_GEN, pub, 4, &k_rsa);
}

/* An EC or Edwards key pair on the curve whose DER OID is params. */
static bool
gen_ec (worker *w, CK_MECHANISM_TYPE mt, const CK_BYTE *params, size_t len,
        CK_OBJECT_HANDLE *priv)
{
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &token_keys, sizeof token_keys },
		{ CKA_VERIFY, &yes, sizeof yes },
		{ CKA_EC_PARAMS, (CK_VOID_PTR)params, len },
	};

	return gen_pair (w, mt, pub, 3, priv);
}

/*
 * An AES-256 token key.  The strict policy forbids a key that both wraps
 * and decrypts, so "crypt" and "wrap" keys are distinct; "extractable"
 * is for the key being wrapped (sensitive all the same).
 */
static bool
gen_aes (worker *w, bool crypt, bool wrap, bool extractable, CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM m = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ULONG len = 32;
	CK_BBOOL yes = CK_TRUE, c = crypt ? CK_TRUE : CK_FALSE;
	CK_BBOOL wr = wrap ? CK_TRUE : CK_FALSE, x = extractable ? CK_TRUE : CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{ CKA_TOKEN, &token_keys, sizeof token_keys },
		{ CKA_PRIVATE, &yes, sizeof yes },
		{ CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_VALUE_LEN, &len, sizeof len },
		{ CKA_ENCRYPT, &c, sizeof c },
		{ CKA_DECRYPT, &c, sizeof c },
		{ CKA_WRAP, &wr, sizeof wr },
		{ CKA_UNWRAP, &wr, sizeof wr },
		{ CKA_EXTRACTABLE, &x, sizeof x },
	};

	P11 (w->error, "C_GenerateKey", f->C_GenerateKey (w->s, &m, t,
	     sizeof t / sizeof t[0], out));
	return true;
}

/* Generate what the rows need; a row whose key fails is marked FAIL. */
static void
p11_keys (bench_result *r, worker *w)
{
	static const CK_BYTE p256[] = {
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	static const CK_BYTE ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };

	if (r->state[R_RSA] == ST_NONE && !gen_rsa (w))
		set_state (r, R_RSA, ST_FAIL, w->error);
	if (r->state[R_P256] == ST_NONE &&
	    !gen_ec (w, CKM_EC_KEY_PAIR_GEN, p256, sizeof p256, &k_p256))
		set_state (r, R_P256, ST_FAIL, w->error);
	if (r->state[R_ED25519] == ST_NONE &&
	    !gen_ec (w, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed25519, sizeof ed25519, &k_ed))
		set_state (r, R_ED25519, ST_FAIL, w->error);
	if (r->state[R_GCM_4K] == ST_NONE && !gen_aes (w, true, false, false, &k_gcm)) {
		set_state (r, R_GCM_4K, ST_FAIL, w->error);
		set_state (r, R_GCM_1M, ST_FAIL, w->error);
	}
	if (r->state[R_WRAP] == ST_NONE &&
	    (!gen_aes (w, false, true, false, &k_kek) ||
	     !gen_aes (w, true, false, true, &k_target)))
		set_state (r, R_WRAP, ST_FAIL, w->error);
}

static bool
p11_sign (worker *w, CK_MECHANISM_TYPE mt, CK_OBJECT_HANDLE key,
          const uint8_t *data, size_t len)
{
	CK_MECHANISM m = { mt, NULL, 0 };
	CK_BYTE sig[512];
	CK_ULONG sig_len = sizeof sig;

	P11 (w->error, "C_SignInit", f->C_SignInit (w->s, &m, key));
	P11 (w->error, "C_Sign", f->C_Sign (w->s, (CK_BYTE_PTR)data, len, sig, &sig_len));
	return true;
}

static bool
p11_rsa (worker *w)
{
	return p11_sign (w, CKM_SHA256_RSA_PKCS, k_rsa, msg, sizeof msg);
}

static bool
p11_p256 (worker *w)
{
	uint8_t md[32];

	if (!p256_prehash)
		return p11_sign (w, CKM_ECDSA_SHA256, k_p256, msg, sizeof msg);
	if (EVP_Digest (msg, sizeof msg, md, NULL, EVP_sha256 (), NULL) != 1) {
		snprintf (w->error, ERRLEN, "EVP_Digest (SHA-256 for CKM_ECDSA) failed");
		return false;
	}
	return p11_sign (w, CKM_ECDSA, k_p256, md, sizeof md);
}

static bool
p11_ed25519 (worker *w)
{
	return p11_sign (w, CKM_EDDSA, k_ed, msg, sizeof msg);
}

/* AES-256-GCM, a new 96-bit IV per operation, 128-bit tag. */
static bool
p11_gcm (worker *w, size_t len)
{
	CK_BYTE iv[12] = { 0 };
	CK_GCM_PARAMS gp = {
		.pIv = iv, .ulIvLen = sizeof iv, .ulIvBits = 8 * sizeof iv,
		.pAAD = NULL, .ulAADLen = 0, .ulTagBits = 128,
	};
	CK_MECHANISM m = { CKM_AES_GCM, &gp, sizeof gp };
	CK_ULONG out_len = len + 16;

	memcpy (iv, &w->n, sizeof w->n);
	P11 (w->error, "C_EncryptInit", f->C_EncryptInit (w->s, &m, k_gcm));
	P11 (w->error, "C_Encrypt", f->C_Encrypt (w->s, big, len, w->out, &out_len));
	return true;
}

static bool p11_gcm_4k (worker *w) { return p11_gcm (w, SMALL_LEN); }
static bool p11_gcm_1m (worker *w) { return p11_gcm (w, BIG_LEN); }

static bool
p11_sha_1m (worker *w)
{
	CK_MECHANISM m = { CKM_SHA256, NULL, 0 };
	CK_BYTE md[32];
	CK_ULONG len = sizeof md;

	P11 (w->error, "C_DigestInit", f->C_DigestInit (w->s, &m));
	P11 (w->error, "C_Digest", f->C_Digest (w->s, big, BIG_LEN, md, &len));
	return true;
}

static bool
p11_wrap (worker *w)
{
	CK_MECHANISM m = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_BYTE out[64];
	CK_ULONG len = sizeof out;

	P11 (w->error, "C_WrapKey", f->C_WrapKey (w->s, &m, k_kek, k_target, out, &len));
	return true;
}

static int
object_label (char *buf, size_t len, unsigned long i)
{
	return snprintf (buf, len, "bench-obj-%07lu", i);
}

/* Token data object number w->n. */
static bool
p11_create (worker *w)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, priv = private_objs ? CK_TRUE : CK_FALSE;
	char label[32], value[48];
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_TOKEN, &yes, sizeof yes },
		{ CKA_PRIVATE, &priv, sizeof priv },
		{ CKA_LABEL, label, 0 },
		{ CKA_VALUE, value, 0 },
	};
	CK_OBJECT_HANDLE h;

	t[3].ulValueLen = (CK_ULONG)object_label (label, sizeof label, w->n);
	t[4].ulValueLen = (CK_ULONG)snprintf (value, sizeof value,
	                                      "bench value number %lu", w->n);
	P11 (w->error, "C_CreateObject", f->C_CreateObject (w->s, t, 5, &h));
	return true;
}

/* Find the object in the middle of the token by CKA_CLASS + CKA_LABEL. */
static bool
p11_find (worker *w)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	char label[32];
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, label, 0 },
	};
	CK_OBJECT_HANDLE h[2];
	CK_ULONG count = 0;

	t[1].ulValueLen = (CK_ULONG)object_label (label, sizeof label, filled / 2);
	P11 (w->error, "C_FindObjectsInit", f->C_FindObjectsInit (w->s, t, 2));
	P11 (w->error, "C_FindObjects", f->C_FindObjects (w->s, h, 2, &count));
	P11 (w->error, "C_FindObjectsFinal", f->C_FindObjectsFinal (w->s));
	if (count != 1) {
		snprintf (w->error, ERRLEN, "C_FindObjects: %lu objects labelled %s",
		          (unsigned long)count, label);
		return false;
	}
	return true;
}

/*
 * Fill the token with n_objects objects, or as many as fill_seconds
 * allow; the create row is their mean.
 */
static void
p11_fill (bench_result *r, worker *w)
{
	double start = now (), elapsed = 0;

	for (w->n = 0; w->n < n_objects && elapsed < fill_seconds; w->n++) {
		if (!p11_create (w)) {
			set_state (r, R_CREATE, ST_FAIL, w->error);
			set_state (r, R_FIND, ST_NA, "(the token could not be filled)");
			return;
		}
		filled = w->n + 1;
		elapsed = now () - start;
	}
	r->ops[R_CREATE] = filled / elapsed;
	r->state[R_CREATE] = ST_OK;
	if (filled < n_objects)
		snprintf (r->note[R_FIND], ERRLEN, "among only %lu objects: that many "
		          "were made in %.0f s (LH_BENCH_FILL_SECONDS)", filled,
		          fill_seconds);
}

/* Everything for one module, in its child; results into *r. */
static void
run_module (const char *path, bench_result *r, worker *ws)
{
	static const bench_fn fns[R_CREATE] = {
		p11_rsa, p11_p256, p11_ed25519, p11_gcm_4k, p11_gcm_1m, p11_sha_1m,
		p11_wrap,
	};
	char dir[1024];
	int row;

	if (!prepare_config (path, dir, sizeof dir, r->fatal))
		return;
	if (load_module (path, r) && init_token (&ws[0].s, r->fatal) &&
	    mark_unsupported (r)) {
		p11_keys (r, &ws[0]);
		for (row = 0; row < R_CREATE; row++)
			run_row (r, row, fns[row], &ws[0]);
		if (f->C_OpenSession (slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
		                      NULL, NULL, &ws[1].s) == CKR_OK)
			run_threads (r, p11_rsa, p11_p256, ws);
		else
			for (row = R_NMAIN; row < R_NROWS; row++)
				set_state (r, row, ST_FAIL, "C_OpenSession: second session");
		p11_fill (r, &ws[0]);
		run_row (r, R_FIND, p11_find, &ws[0]);
	}
	if (f)
		f->C_Finalize (NULL);
	remove_tree (dir);
}

/* ------------------------------------------------------------------ */
/* Raw OpenSSL 3 (runs in a child process)                             */

static EVP_PKEY *o_rsa, *o_p256, *o_ed;
static EVP_CIPHER *o_gcm, *o_wrap;
static EVP_MD *o_sha256;
static uint8_t o_key[32], o_kek[32], o_target[32];

static bool
ossl_fail (char *err, const char *call)
{
	unsigned long e = ERR_get_error ();
	char buf[120];

	ERR_error_string_n (e, buf, sizeof buf);
	snprintf (err, ERRLEN, "%s: %s", call, e ? buf : "failed");
	ERR_clear_error ();
	return false;
}

/* A fresh context per signature, like C_SignInit + C_Sign. */
static bool
ossl_sign (worker *w, EVP_PKEY *k, const char *md)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new ();
	uint8_t sig[512];
	size_t len = sizeof sig;
	bool ok;

	ok = c && EVP_DigestSignInit_ex (c, NULL, md, NULL, NULL, k, NULL) == 1 &&
	     EVP_DigestSign (c, sig, &len, msg, sizeof msg) == 1;
	EVP_MD_CTX_free (c);
	return ok || ossl_fail (w->error, "EVP_DigestSign");
}

static bool ossl_rsa (worker *w) { return ossl_sign (w, o_rsa, "SHA256"); }
static bool ossl_p256 (worker *w) { return ossl_sign (w, o_p256, "SHA256"); }
static bool ossl_ed25519 (worker *w) { return ossl_sign (w, o_ed, NULL); }

static bool
ossl_gcm (worker *w, size_t len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new ();
	uint8_t iv[12] = { 0 };
	int n1 = 0, n2 = 0;
	bool ok;

	memcpy (iv, &w->n, sizeof w->n);
	ok = c && EVP_EncryptInit_ex2 (c, o_gcm, o_key, iv, NULL) == 1 &&
	     EVP_EncryptUpdate (c, w->out, &n1, big, (int)len) == 1 &&
	     EVP_EncryptFinal_ex (c, w->out + n1, &n2) == 1 &&
	     EVP_CIPHER_CTX_ctrl (c, EVP_CTRL_AEAD_GET_TAG, 16, w->out + n1 + n2) == 1;
	EVP_CIPHER_CTX_free (c);
	return ok || ossl_fail (w->error, "EVP_Encrypt (AES-256-GCM)");
}

static bool ossl_gcm_4k (worker *w) { return ossl_gcm (w, SMALL_LEN); }
static bool ossl_gcm_1m (worker *w) { return ossl_gcm (w, BIG_LEN); }

static bool
ossl_sha_1m (worker *w)
{
	uint8_t md[32];

	if (EVP_Digest (big, BIG_LEN, md, NULL, o_sha256, NULL) != 1)
		return ossl_fail (w->error, "EVP_Digest");
	return true;
}

/* RFC 5649 wrap of the 32-byte key, as C_WrapKey does inside a token. */
static bool
ossl_wrap (worker *w)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new ();
	uint8_t out[64];
	int n1 = 0, n2 = 0;
	bool ok;

	if (c)
		EVP_CIPHER_CTX_set_flags (c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	ok = c && EVP_EncryptInit_ex2 (c, o_wrap, o_kek, NULL, NULL) == 1 &&
	     EVP_EncryptUpdate (c, out, &n1, o_target, sizeof o_target) == 1 &&
	     EVP_EncryptFinal_ex (c, out + n1, &n2) == 1;
	EVP_CIPHER_CTX_free (c);
	return ok || ossl_fail (w->error, "EVP_Encrypt (AES-256-WRAP-PAD)");
}

static void
ossl_keys (bench_result *r, worker *w)
{
	if (!(o_rsa = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t)2048)))
		set_state (r, R_RSA, ST_FAIL, (ossl_fail (w->error, "RSA keygen"), w->error));
	if (!(o_p256 = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256")))
		set_state (r, R_P256, ST_FAIL, (ossl_fail (w->error, "EC keygen"), w->error));
	if (!(o_ed = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519")))
		set_state (r, R_ED25519, ST_FAIL,
		           (ossl_fail (w->error, "Ed25519 keygen"), w->error));
	if (!(o_gcm = EVP_CIPHER_fetch (NULL, "AES-256-GCM", NULL)) ||
	    RAND_bytes (o_key, sizeof o_key) != 1) {
		ossl_fail (w->error, "AES-256-GCM");
		set_state (r, R_GCM_4K, ST_FAIL, w->error);
		set_state (r, R_GCM_1M, ST_FAIL, w->error);
	}
	if (!(o_sha256 = EVP_MD_fetch (NULL, "SHA256", NULL)))
		set_state (r, R_SHA_1M, ST_FAIL, (ossl_fail (w->error, "SHA256"), w->error));
	if (!(o_wrap = EVP_CIPHER_fetch (NULL, "AES-256-WRAP-PAD", NULL)) ||
	    RAND_bytes (o_kek, sizeof o_kek) != 1 ||
	    RAND_bytes (o_target, sizeof o_target) != 1)
		set_state (r, R_WRAP, ST_FAIL,
		           (ossl_fail (w->error, "AES-256-WRAP-PAD"), w->error));
}

static void
run_openssl (bench_result *r, worker *ws)
{
	static const bench_fn fns[R_CREATE] = {
		ossl_rsa, ossl_p256, ossl_ed25519, ossl_gcm_4k, ossl_gcm_1m,
		ossl_sha_1m, ossl_wrap,
	};
	int row;

	snprintf (r->version, sizeof r->version, "%s", OpenSSL_version (OPENSSL_VERSION));
	ossl_keys (r, &ws[0]);
	for (row = 0; row < R_CREATE; row++)
		run_row (r, row, fns[row], &ws[0]);
	run_threads (r, ossl_rsa, ossl_p256, ws);
	/* objects are a token's business: nothing to compare with */
	set_state (r, R_CREATE, ST_NA, NULL);
	set_state (r, R_FIND, ST_NA, NULL);
	EVP_PKEY_free (o_rsa);
	EVP_PKEY_free (o_p256);
	EVP_PKEY_free (o_ed);
	EVP_CIPHER_free (o_gcm);
	EVP_CIPHER_free (o_wrap);
	EVP_MD_free (o_sha256);
}

/* ------------------------------------------------------------------ */
/* The parent: children, table, exit status                            */

enum { I_LITEHSM, I_SOFTHSM, I_OPENSSL, I_N };
static const char *const impl_names[I_N] = { "litehsm", "softhsm2", "openssl" };

/* The child's body: path NULL = raw OpenSSL. */
static void
child_main (const char *path, bench_result *r)
{
	worker ws[MAX_THREADS];
	int i;

	memset (ws, 0, sizeof ws);
	for (i = 0; i < MAX_THREADS; i++) {
		if (!(ws[i].out = malloc (BIG_LEN + 64))) {
			snprintf (r->fatal, ERRLEN, "out of memory");
			return;
		}
	}
	if (path)
		run_module (path, r, ws);
	else
		run_openssl (r, ws);
}

/* Run one implementation in a child process; false if it died. */
static bool
run_child (const char *path, bench_result *r)
{
	int fds[2], status = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	memset (r, 0, sizeof *r);
	fflush (NULL);
	if (pipe (fds) != 0 || (pid = fork ()) < 0) {
		snprintf (r->fatal, ERRLEN, "pipe/fork: %s", strerror (errno));
		return false;
	}
	if (pid == 0) {
		close (fds[0]);
		child_main (path, r);
		if (write (fds[1], r, sizeof *r) != (ssize_t)sizeof *r)
			_exit (1);
		_exit (0);
	}
	close (fds[1]);
	while (got < sizeof *r && (n = read (fds[0], (char *)r + got, sizeof *r - got)) > 0)
		got += (size_t)n;
	close (fds[0]);
	waitpid (pid, &status, 0);
	if (got != sizeof *r) {
		memset (r, 0, sizeof *r);
		snprintf (r->fatal, ERRLEN, "benchmark process died (status 0x%x)", status);
		return false;
	}
	return true;
}

static void
print_ops (const bench_result *r, int row, int width)
{
	char buf[32];
	double v = r->ops[row];

	switch (r->state[row]) {
	case ST_OK:
		snprintf (buf, sizeof buf, v >= 1000 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
		break;
	case ST_NA:
		snprintf (buf, sizeof buf, "n/a");
		break;
	case ST_FAIL:
		snprintf (buf, sizeof buf, "FAIL");
		break;
	default:
		snprintf (buf, sizeof buf, "-");
	}
	printf ("%*s", width, buf);
}

/* a / b as "1.23x", or "-" when either is missing. */
static void
print_x (bool ok, double a, double b)
{
	char buf[32] = "-";
	double x;

	if (ok && b > 0) {
		x = a / b;
		snprintf (buf, sizeof buf, x >= 100 ? "%.0fx" : "%.2fx", x);
	}
	printf ("%10s", buf);
}

/* Ratio of implementation a to b on one row. */
static void
print_ratio (const bench_result *a, const bench_result *b, int row)
{
	bool ok = a && b && a->state[row] == ST_OK && b->state[row] == ST_OK;

	print_x (ok, ok ? a->ops[row] : 0, ok ? b->ops[row] : 0);
}

/* A row's name; the find row's names its object count. */
static const char *
row_label (int row, char *buf, size_t len)
{
	if (row == R_FIND)
		snprintf (buf, len, "find by label among %lu", n_objects);
	else
		snprintf (buf, len, "%s", row_names[row]);
	return buf;
}

static void
print_main (bench_result *const res[I_N])
{
	char name[48];
	int row, i;

	printf ("\n%-34s%11s%11s%11s%10s%10s\n", "operations per second",
	        "litehsm", "softhsm2", "openssl", "lh/ossl", "lh/shsm");
	for (row = 0; row < R_NMAIN; row++) {
		printf ("%-34s", row_label (row, name, sizeof name));
		for (i = 0; i < I_N; i++)
			if (res[i])
				print_ops (res[i], row, 11);
			else
				printf ("%11s", "-");
		print_ratio (res[I_LITEHSM], res[I_OPENSSL], row);
		print_ratio (res[I_LITEHSM], res[I_SOFTHSM], row);
		printf ("\n");
	}
	printf ("lh/ossl: litehsm / raw OpenSSL (1.00x = no overhead); "
	        "lh/shsm: litehsm / SoftHSM2\n(above 1x: litehsm is faster)\n");
}

static void
print_threads (bench_result *const res[I_N])
{
	static const char *const names[2] = { "RSA-2048 sign", "P-256 sign" };
	int k, i, row;

	printf ("\nsign on 1 and 2 threads, a session each (%ld CPUs online)\n",
	        sysconf (_SC_NPROCESSORS_ONLN));
	printf ("%-34s%11s%11s%10s\n", "operations per second", "1 thread",
	        "2 threads", "speed-up");
	for (k = 0; k < 2; k++) {
		row = R_NMAIN + 2 * k;
		for (i = 0; i < I_N; i++) {
			if (!res[i])
				continue;
			printf ("%-15s%-19s", i == 0 ? names[k] : "", impl_names[i]);
			print_ops (res[i], row, 11);
			print_ops (res[i], row + 1, 11);
			print_x (res[i]->state[row] == ST_OK &&
			         res[i]->state[row + 1] == ST_OK,
			         res[i]->ops[row + 1], res[i]->ops[row]);
			printf ("\n");
		}
	}
}

/* Failures and n/a reasons under the tables; true if anything failed. */
static bool
print_notes (bench_result *const res[I_N])
{
	bool failed = false;
	char buf[48];
	int i, row;

	for (i = 0; i < I_N; i++) {
		if (!res[i])
			continue;
		if (res[i]->fatal[0]) {
			printf ("%s: FAILED: %s\n", impl_names[i], res[i]->fatal);
			failed = true;
		}
		for (row = 0; row < R_NROWS; row++) {
			const char *name = row_label (row < R_NMAIN ? row :
			                              (row - R_NMAIN) / 2 == 0 ? R_RSA : R_P256,
			                              buf, sizeof buf);

			if (res[i]->state[row] == ST_FAIL) {
				printf ("%s: %s%s: FAIL: %s\n", impl_names[i], name,
				        row < R_NMAIN ? "" : " (threads)", res[i]->note[row]);
				failed = true;
			} else if (row < R_NMAIN && res[i]->note[row][0]) {
				printf ("%s: %s: %s%s\n", impl_names[i], name,
				        res[i]->state[row] == ST_NA ? "n/a: " : "",
				        res[i]->note[row]);
			}
		}
	}
	return failed;
}

/* Other work on the machine skews the numbers, the speed-up most. */
static void
print_load (void)
{
	long cpus = sysconf (_SC_NPROCESSORS_ONLN);
	double load;

	if (getloadavg (&load, 1) != 1)
		return;
	printf ("load average %.2f on %ld CPUs%s\n\n", load, cpus,
	        load >= 1 ? ": other work is running, expect noisy numbers" : "");
}

int
main (int argc, char **argv)
{
	static bench_result store[I_N];
	bench_result *res[I_N] = { NULL, NULL, NULL };
	const char *paths[I_N];
	const char *env;
	bool failed = false;
	int i;

	paths[I_LITEHSM] = argc > 1 ? argv[1] : getenv ("LH_MODULE");
	env = getenv ("LH_BENCH_SOFTHSM");
	paths[I_SOFTHSM] = env ? env : "/usr/lib/softhsm/libsofthsm2.so";
	paths[I_OPENSSL] = NULL;
	if ((env = getenv ("LH_BENCH_SECONDS")) && atof (env) > 0)
		seconds = atof (env);
	if ((env = getenv ("LH_BENCH_OBJECTS")) && strtoul (env, NULL, 10) > 0)
		n_objects = strtoul (env, NULL, 10);
	if ((env = getenv ("LH_BENCH_FILL_SECONDS")) && atof (env) > 0)
		fill_seconds = atof (env);
	private_objs = (env = getenv ("LH_BENCH_PRIVATE")) && strcmp (env, "1") == 0;
	if ((env = getenv ("LH_BENCH_SESSION_KEYS")) && strcmp (env, "1") == 0)
		token_keys = CK_FALSE;
	if (!paths[I_LITEHSM]) {
		fprintf (stderr, "usage: LH_MODULE=path/litehsm-pkcs11.so %s [module]\n",
		         argv[0]);
		return 2;
	}
	setvbuf (stdout, NULL, _IOLBF, 0);
	if (!(big = malloc (BIG_LEN)) || RAND_bytes (big, BIG_LEN) != 1 ||
	    RAND_bytes (msg, sizeof msg) != 1) {
		fprintf (stderr, "bench-ops: cannot prepare the input\n");
		return 1;
	}

	printf ("litehsm next to SoftHSM2 and raw OpenSSL: each PKCS#11 operation "
	        "includes its Init;\nthe best of %d slices of ~%.2f s per "
	        "measurement; %lu token objects\n", SLICES, seconds / SLICES,
	        n_objects);
	print_load ();
	for (i = 0; i < I_N; i++) {
		if (i == I_SOFTHSM && (strcmp (paths[i], "none") == 0 ||
		                       access (paths[i], R_OK) != 0)) {
			printf ("%-9s %s not available, skipped\n", impl_names[i], paths[i]);
			continue;
		}
		printf ("%-9s %s ...\n", impl_names[i], paths[i] ? paths[i] : "EVP calls");
		res[i] = &store[i];
		if (!run_child (paths[i], res[i]))
			failed = true;
		if (res[i]->version[0])
			printf ("%-9s %s\n", "", res[i]->version);
	}
	print_main (res);
	print_threads (res);
	printf ("\n");
	failed |= print_notes (res);
	return failed ? 1 : 0;
}
