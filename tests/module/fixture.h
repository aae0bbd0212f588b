/*
 * fixture.h - shared fixture of the module-API tests (tests/module/).
 *
 * Every test gets a fresh world: a temporary directory holding a
 * litehsm.conf (cheap KDF, token_dir inside the temp dir) that
 * LITEHSM_CONF names, the module dlopen()ed from $LH_MODULE and reached
 * only through C_GetFunctionList, and, depending on the level asked for,
 * C_Initialize, a token on the free slot, a user PIN and a logged-in R/W
 * session.  Teardown finalizes, dlcloses and removes the directory.
 *
 * A test program registers its tests with the level as the test argument:
 *
 *   static void test_x (void *arg) { lh_fx *fx = arg; ... }
 *   int main (void) {
 *           fx_main ();
 *           lh_test_add ("/object/x", test_x, FX (fx_user));
 *           return lh_test_run ();
 *   }
 *
 * The helpers assert (through test.h) and so end the test on failure;
 * the *_rv variants return the CK_RV for the test to check instead.
 * Helpers may also be used in a forked child (see fx_fork): there a
 * failed assertion ends the child with exit status 1.
 */
#ifndef LH_TEST_FIXTURE_H
#define LH_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <p11-kit/pkcs11.h>

#include "p11v3.h"

/* PINs and label of the fixture's token. */
#define FX_SO_PIN    "so-pin-31415"
#define FX_USER_PIN  "user-pin-27182"
#define FX_LABEL     "litehsm test token"

typedef enum {
	FX_LOADED,   /* dlopen + C_GetFunctionList; not initialized */
	FX_INIT,     /* + C_Initialize (CKF_OS_LOCKING_OK) */
	FX_TOKEN,    /* + C_InitToken on the free slot (SO PIN set) */
	FX_READY,    /* + C_InitPIN (user PIN set); no session open */
	FX_USER,     /* + one R/W session with the user logged in */
} fx_level;

typedef struct {
	fx_level level;
	const char *conf_extra;  /* more litehsm.conf lines, or NULL */
} fx_opts;

/* The per-test state; owned by fx_setup/fx_teardown. */
typedef struct {
	char dir[256];            /* temp dir, removed at teardown */
	char token_dir[320];      /* <dir>/tokens (token_dir of the config) */
	char conf_path[320];      /* <dir>/litehsm.conf */
	char log_path[320];       /* <dir>/module.log */
	void *dl;                 /* dlopen handle of the module */
	CK_FUNCTION_LIST_PTR fl;  /* from C_GetFunctionList */
	bool initialized;         /* C_Initialize done by the fixture */
	CK_SLOT_ID slot;          /* FX_TOKEN and above: the token's slot */
	CK_SESSION_HANDLE session;  /* FX_USER: R/W session, user logged in */
	const fx_opts *opts;
} lh_fx;

extern const fx_opts fx_loaded, fx_init, fx_token, fx_ready, fx_user;
#define FX(opts) ((void *) &(opts))

/* The hook through which fixture.c reports a failed check. */
extern void (*fx_fail_hook) (const char *file, int line, const char *msg);

void *fx_setup (void *opts);
void fx_teardown (void *fx);
lh_fx *fx_current (void);

/* Module life cycle. */
void fx_write_conf (lh_fx *fx, const char *extra);
void fx_load (lh_fx *fx);
void fx_unload (lh_fx *fx);
CK_RV fx_initialize_rv (lh_fx *fx);
void fx_initialize (lh_fx *fx);
void fx_finalize (lh_fx *fx);
void fx_restart (lh_fx *fx);   /* C_Finalize + C_Initialize */
void fx_reload (lh_fx *fx);    /* finalize, dlclose, dlopen, initialize */
const char *fx_module_path (void);

/* Slots and tokens. */
CK_ULONG fx_slot_list (lh_fx *fx, CK_SLOT_ID *ids, CK_ULONG max);
bool fx_slot_listed (lh_fx *fx, CK_SLOT_ID slot);
CK_SLOT_ID fx_free_slot (lh_fx *fx);
void fx_token_info (lh_fx *fx, CK_SLOT_ID slot, CK_TOKEN_INFO *info);
CK_FLAGS fx_token_flags (lh_fx *fx, CK_SLOT_ID slot);
CK_SLOT_ID fx_new_token (lh_fx *fx, const char *label, bool user_pin);
CK_RV fx_init_token_rv (lh_fx *fx, CK_SLOT_ID slot, const char *so_pin,
                        const char *label);
void fx_init_pin (lh_fx *fx, CK_SLOT_ID slot, const char *so_pin,
                  const char *user_pin);

/* Sessions. */
CK_SESSION_HANDLE fx_open (lh_fx *fx, CK_SLOT_ID slot, bool rw);
CK_RV fx_login_rv (lh_fx *fx, CK_SESSION_HANDLE s, CK_USER_TYPE who,
                   const char *pin);
void fx_login (lh_fx *fx, CK_SESSION_HANDLE s, CK_USER_TYPE who,
               const char *pin);
CK_STATE fx_state (lh_fx *fx, CK_SESSION_HANDLE s);

/* Objects. */
CK_OBJECT_HANDLE fx_create (lh_fx *fx, CK_SESSION_HANDLE s,
                            CK_ATTRIBUTE *tmpl, CK_ULONG n);
CK_OBJECT_HANDLE fx_create_data (lh_fx *fx, CK_SESSION_HANDLE s, bool token,
                                 bool priv, const char *label,
                                 const char *value);
CK_ULONG fx_find (lh_fx *fx, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
                  CK_ULONG n, CK_OBJECT_HANDLE *out, CK_ULONG max);
CK_ULONG fx_find_label (lh_fx *fx, CK_SESSION_HANDLE s, const char *label,
                        CK_OBJECT_HANDLE *out, CK_ULONG max);
CK_BBOOL fx_get_bool (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                      CK_ATTRIBUTE_TYPE type);
CK_ULONG fx_get_ulong (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                       CK_ATTRIBUTE_TYPE type);
CK_ULONG fx_get_bytes (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                       CK_ATTRIBUTE_TYPE type, void *buf, CK_ULONG max);
CK_RV fx_get_rv (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                 CK_ATTRIBUTE_TYPE type, void *buf, CK_ULONG *len);
CK_RV fx_set_bool_rv (lh_fx *fx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                      CK_ATTRIBUTE_TYPE type, CK_BBOOL value);

/* Application mutex callbacks that count their calls (C_Initialize). */
typedef struct {
	int created, destroyed, locked, unlocked;
} fx_mutex_counts;
void fx_app_mutex_args (CK_C_INITIALIZE_ARGS *args, CK_FLAGS flags);
fx_mutex_counts fx_app_mutex_counts (void);

/* Blank-padded CK_UTF8CHAR fields. */
void fx_pad (CK_UTF8CHAR *dst, size_t size, const char *s);
bool fx_padded_eq (const CK_UTF8CHAR *field, size_t size, const char *s);

/* Files. */
bool fx_file_has (const char *path, const void *needle, size_t len);
int fx_dir_has (const char *dir, const void *needle, size_t len);
int fx_dir_count (const char *dir, const char *prefix, const char *suffix);
bool fx_dir_first (const char *dir, const char *prefix, const char *suffix,
                   char *path, size_t size);
void fx_rmrf (const char *path);

/*
 * Run this executable again (/proc/self/exe) with argv[1..] = args, the
 * environment inherited; its stdout goes to out (NUL-terminated, may be
 * NULL).  Returns the exit status, or -1 if it did not exit normally.
 */
int fx_run_self (const char *const *args, char *out, size_t out_size);
int fx_wait (pid_t pid);   /* exit status, or -1 */

#ifndef FX_INTERNAL
#include <setjmp.h>
#include <unistd.h>

#include "test.h"

/* Call first in main(): routes fixture failures into test.h. */
static inline void
fx_main (void)
{
	fx_fail_hook = lh_test_fail_;
	lh_test_fixture (fx_setup, fx_teardown);
}

/*
 * Fork; the child runs fn (fx, arg) and exits 0, or 1 if an assertion
 * failed in it (the child's own jump point replaces the test runner's, so
 * a failure never continues the test list in the child).  The parent gets
 * the pid for fx_wait().
 */
static inline pid_t
fx_fork (void (*fn) (lh_fx *, void *), lh_fx *fx, void *arg)
{
	pid_t pid;

	fflush (stdout);
	pid = fork ();
	if (pid == 0) {
		if (setjmp (lh_test_g.jump) == 0) {
			fn (fx, arg);
			_exit (0);
		}
		_exit (1);
	}
	return pid;
}

/* For child modes of a test program (argv[1] == "--child"): assertions
 * end the process with status 1 instead of jumping into the runner. */
static inline int
fx_child_run (int (*fn) (int argc, char **argv), int argc, char **argv)
{
	if (setjmp (lh_test_g.jump) == 0)
		return fn (argc, argv);
	return 1;
}
#endif /* !FX_INTERNAL */

#endif /* LH_TEST_FIXTURE_H */
