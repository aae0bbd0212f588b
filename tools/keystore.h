/*
 * keystore.h - the root keystore and the users' local keystores: the
 * askmscli model of seed 001 built from litehsm tokens.
 *
 *   root keystore   a token labelled "rootkeystore", file
 *                   $LITEHSM_KEYSTORE_DIR/rootkeystore.db (default: the
 *                   system token directory); the source of truth.
 *   local keystore  a token labelled "localkeystore" per user U, file
 *                   <data>/litehsm/tokens/localkeystore.db with <data> =
 *                   $LITEHSM_KEYSTORE_HOME/U or ~U/.local/share; owned by
 *                   U, mode 0600, so U's applications find it with the
 *                   module's defaults.
 *
 * The tool reaches each keystore through the module like any application:
 * for every phase it writes a configuration naming just that keystore file
 * (plus the settings of the configuration the module would read anyway)
 * and initializes the module with it.  Work on U's keystore runs in a
 * child process that has dropped to U's uid and gid (lh_ks_run_as), so
 * every file - the token and SQLite's -wal and -shm - is U's.
 *
 * Secrets travel root -> local only wrapped: per user a transport key,
 * AES-256 agreed by ECDH inside the two tokens, CKA_TRUSTED in the root
 * keystore; every root secret is CKA_WRAP_WITH_TRUSTED, so nothing but a
 * transport key can wrap it.  The root keystore also keeps each local
 * keystore's PINs (a private data object "litehsm-keystore@U") and the
 * list of copies made there, so sync knows what it may remove.
 */
#ifndef LH_TOOL_KEYSTORE_H
#define LH_TOOL_KEYSTORE_H

#include "tools/cmd.h"

#include <sys/types.h>

#define LH_KS_ROOT_LABEL   "rootkeystore"
#define LH_KS_LOCAL_LABEL  "localkeystore"
#define LH_KS_ROOT_FILE    "rootkeystore.db"
#define LH_KS_LOCAL_FILE   "localkeystore.db"
#define LH_KS_PIN_FILE     "localkeystore.pin"
#define LH_KS_REG_PREFIX   "litehsm-keystore@"
#define LH_KS_TRANSPORT    "litehsm-transport"    /* @U in the root */
#define LH_KS_TRANSPORT_EC "litehsm-transport-ec" /* while agreeing */

/* A user and where the local keystore lives. */
typedef struct {
	char name[64];
	uid_t uid;
	gid_t gid;
	char *data;             /* <data>/litehsm (PIN file here) */
	char *dir;              /* <data>/litehsm/tokens */
	char *path;             /* dir/localkeystore.db */
	char *pin_path;         /* data/localkeystore.pin */
} lh_ks_user;

/* One copy a local keystore holds (or should hold). */
typedef struct {
	char name[80];          /* label in the local keystore */
	char id[40];            /* CKA_ID: the version id */
	unsigned version;       /* N of "v<N>.<hex>" (0: other ids) */
	bool shared;            /* public copy made by the SO */
	CK_KEY_TYPE kt;
	CK_ULONG bytes;         /* CKA_VALUE_LEN */
	CK_BBOOL enc, dec, wrap, unwrap, derive;
	bool dated;
	CK_DATE start, end;
	unsigned char *blob;    /* wrapped under the transport key, or NULL */
	size_t blob_len;
	CK_OBJECT_HANDLE h;     /* in the session that listed it */
} lh_ks_item;

typedef struct {
	lh_ks_item *v;
	size_t n;
} lh_ks_items;

/* The registry entry of a local keystore (in the root keystore). */
typedef struct {
	char user[64];
	char *path;             /* the local keystore file */
	char *pin_file;         /* generated PIN's file, or NULL */
	lh_pin so_pin;
	lh_pin pin;
	lh_ks_items copied;     /* copies sync made (name, id, shared) */
	CK_OBJECT_HANDLE h;     /* its data object, when read from the root */
} lh_ks_reg;

/* The state of one run: where things are, the root PINs once read. */
typedef struct {
	char *root_dir;
	char *root_path;
	char *base_conf;        /* the module's configuration, minus token lines */
	char *tmp;              /* private directory for generated configs */
	char *conf;             /* the configuration now in LITEHSM_CONF */
	lh_pin pin;             /* root keystore user PIN */
	lh_pin so_pin;          /* root keystore SO PIN */
	bool have_pin, have_so_pin;
	bool force;             /* init --user --force: replace a keystore */
} lh_ks;

/* Prepare (paths, base configuration, temp dir); refuses --module of
 * another module.  lh_ks_done wipes the PINs and removes temp files. */
int lh_ks_begin (lh_tool *t, lh_ks *ks);
void lh_ks_done (lh_ks *ks);

/* Does the caller manage keystores of other users (euid 0)? */
bool lh_ks_is_root (void);

/* Look up U (getpwnam) and the paths of U's keystore; checks that the
 * caller may act for U.  Free with lh_ks_user_free. */
int lh_ks_user_get (lh_tool *t, const char *name, lh_ks_user *u);
void lh_ks_user_free (lh_ks_user *u);

/*
 * Open the root keystore: a read-write session logged in as who (the PIN
 * is read once per run and kept in ks).  c is a secret context, so the
 * secret commands' helpers work on it.  Close with lh_secret_close.
 */
int lh_ks_root_open (lh_tool *t, lh_ks *ks, CK_USER_TYPE who,
                     lh_secret_ctx *c);
/* Log the root session in again as who (after C_Logout). */
int lh_ks_root_login (lh_tool *t, lh_ks *ks, lh_secret_ctx *c,
                      CK_USER_TYPE who);
/* Create the root keystore (keystore init --root). */
int lh_ks_root_create (lh_tool *t, lh_ks *ks);

/* The registry, in a root session logged in as the user. */
int lh_ks_reg_get (lh_tool *t, lh_secret_ctx *c, const char *user,
                   lh_ks_reg *r, bool *found);
int lh_ks_reg_put (lh_tool *t, lh_secret_ctx *c, lh_ks_reg *r);
int lh_ks_reg_del (lh_tool *t, lh_secret_ctx *c, lh_ks_reg *r);
int lh_ks_reg_users (lh_tool *t, lh_secret_ctx *c, char ***users,
                     size_t *n);
void lh_ks_reg_free (lh_ks_reg *r);
void lh_ks_users_free (char **users, size_t n);

void lh_ks_items_free (lh_ks_items *l);
bool lh_ks_items_add (lh_ks_items *l, const lh_ks_item *it);

/*
 * Run fn in a child process as user u: the module is dlopen'ed first, then
 * the child drops to u's uid and gid for good, creates u's keystore
 * directory, writes a configuration naming u's keystore and calls fn,
 * which writes its result to out.  The parent gets that result
 * (malloc'd, NUL-terminated), and the child's one error line in *err
 * (malloc'd or NULL), and returns the child's exit code.
 */
typedef int (*lh_ks_child_fn) (lh_tool *t, lh_ks *ks, const lh_ks_user *u,
                               void *arg, FILE *out);
int lh_ks_run_as (lh_tool *t, lh_ks *ks, const lh_ks_user *u,
                  lh_ks_child_fn fn, void *arg, char **result, size_t *rlen,
                  char **err);
/* Print a child's error line as this run's error, naming user's keystore;
 * returns rc. */
int lh_ks_child_error (lh_tool *t, int rc, const char *err,
                       const char *user);

/* A hint naming a user (fmt has one %s, or two for lh_ks_hint2), in buf
 * of LH_KS_HINT bytes. */
#define LH_KS_HINT 256
const char *lh_ks_hint (char *buf, const char *fmt, const char *user)
	__attribute__ ((format (printf, 2, 0)));
const char *lh_ks_hint2 (char *buf, const char *fmt, const char *user)
	__attribute__ ((format (printf, 2, 0)));

/* A random PIN of n characters from an unambiguous alphabet. */
bool lh_ks_random_pin (lh_pin *pin, size_t n);

/*
 * What U's keystore should hold: every shared secret and U's own, read
 * from a root session logged in as the user; with wrap, each wrapped
 * under U's transport key.
 */
int lh_ks_desired (lh_tool *t, lh_secret_ctx *c, const char *user,
                   bool wrap, lh_ks_items *out);

/* Results of making one local keystore match. */
typedef struct {
	unsigned added, changed, removed;
	unsigned shared, own;   /* copies held afterwards */
} lh_ks_counts;

/* How lh_ks_sync_user starts. */
enum {
	LH_KS_SYNC = 0,         /* the keystore exists: copy what changed */
	LH_KS_CREATE = 1,       /* make it (new PINs; new_pin or generated) */
	LH_KS_RESTORE = 2,      /* make it again with the registered PINs */
};

/*
 * Make U's local keystore hold exactly what the root keystore says,
 * creating it first for LH_KS_CREATE/LH_KS_RESTORE.  Reads and updates
 * U's registry entry.  Errors are reported (one line) and returned.
 */
int lh_ks_sync_user (lh_tool *t, lh_ks *ks, const char *user, unsigned how,
                     const lh_pin *new_pin, lh_ks_counts *counts);

/* What U's local keystore holds now (status); *reason set when it cannot
 * be read (missing, locked, damaged), in which case held is empty. */
int lh_ks_inventory (lh_tool *t, lh_ks *ks, const lh_ks_reg *r,
                     lh_ks_items *held, char **reason);

/* Sync one user's keystore, or every registered one (one == NULL); with
 * quiet nothing is printed but the error line. */
int lh_ks_sync_users (lh_tool *t, lh_ks *ks, const char *one, bool quiet);

/* litehsm keystore ... (cmd_keystore.c) */
int lh_cmd_keystore (lh_tool *t, int argc, char **argv);

/* ---- the keystore mode of the secret commands (keystore_secret.c) ---- */

/* A name with a fixed purpose (seed 001) and what it must be. */
typedef struct {
	const char *name;
	CK_KEY_TYPE kt;
	unsigned long min_bits, max_bits, def_bits;
	CK_BBOOL enc, dec, wrap, unwrap, derive;
	const char *what;           /* "an AES-256 wrapping key" */
} lh_ks_cat;

/* The category of name, or NULL. */
const lh_ks_cat *lh_ks_category (const char *name);
/* Refuse a size the category does not allow (LH_EXIT_USAGE). */
int lh_ks_check_size (lh_tool *t, const lh_ks_cat *cat, const char *name,
                      unsigned long bits);

/* Where a keystore-mode secret command goes: --user U or --shared, or
 * (list, prune) every secret of the root keystore. */
typedef struct {
	const char *user;
	bool shared;
	bool all;
} lh_ks_target;

/* The options --user and --shared, for the secret commands' tables. */
#define LH_KS_OPT_USER    1900
#define LH_KS_OPT_SHARED  1901
#define LH_KS_OPTS \
	{ "user", "USER", LH_KS_OPT_USER, "USER's secret in the keystores" }, \
	{ "shared", NULL, LH_KS_OPT_SHARED, "a shared secret in the keystores" }

/* Handle one of those options (LH_CONTINUE). */
int lh_ks_target_opt (lh_tool *t, lh_ks_target *to, int key, const char *arg);
/* Keystore mode? */
bool lh_ks_mode (const lh_ks_target *to);
/* Decide the mode: with all_ok (list, prune), no --user/--shared and no
 * token named, every secret of the root keystore when there is one (else
 * the usual "needs a token" error).  LH_CONTINUE or an exit code. */
int lh_ks_decide (lh_tool *t, lh_ks_target *to, bool all_ok);
/*
 * Open what a secret command works on: the root keystore in keystore mode,
 * else the --token token (lh_secret_open).  With all_ok (list, prune) and
 * no token named, keystore mode for every secret when a root keystore
 * exists.  Close with lh_ks_close_for.
 */
int lh_ks_open_for (lh_tool *t, lh_ks_target *to, bool all_ok, lh_ks *ks,
                    lh_secret_ctx *c);
/* The label of name where the command works (NAME@U for --user). */
const char *lh_ks_label_for (const lh_ks_target *to, const char *name,
                             char *buf, size_t cap);
/* In keystore mode: a missing secret is LH_EXIT_NOTFOUND naming it and
 * its owner (not its internal label). */
int lh_ks_exists (lh_tool *t, const lh_ks_target *to, lh_secret_ctx *c,
                  const char *name, const char *label);
/* Does a label (from lh_secret_names) belong to the target? */
bool lh_ks_label_wanted (const lh_ks_target *to, const char *label);
/* Close; in keystore mode with changed, copy the change (rc OK only). */
int lh_ks_close_for (lh_tool *t, lh_ks_target *to, lh_ks *ks,
                     lh_secret_ctx *c, int rc, bool changed);

/* The root keystore's label of name: NAME@U or NAME. */
void lh_ks_label (char *out, size_t cap, const char *name, const char *user);

/* Check the target, open the root keystore (user login) and map name (may
 * be NULL) to its label. */
int lh_ks_secret_open (lh_tool *t, lh_ks *ks, const char *name,
                       const lh_ks_target *to, lh_secret_ctx *c, char *label,
                       size_t cap);
/* Close the root keystore and, when rc is LH_EXIT_OK, copy the change to
 * the keystores concerned (creating U's when missing and create_ok);
 * lh_ks_done. */
int lh_ks_secret_done (lh_tool *t, lh_ks *ks, lh_secret_ctx *c,
                       const lh_ks_target *to, int rc, bool create_ok);

/* What 'secret set/generate' asked for. */
typedef struct {
	long bits;                  /* -1: not given */
	long days;                  /* -1: not given */
	bool force, aes, wrapping;
} lh_ks_make;

/* Store value (or, when NULL, generate) the secret name in the root
 * keystore and copy it to the keystores concerned. */
int lh_ks_secret_make (lh_tool *t, const char *name, const lh_ks_target *to,
                       const lh_ks_make *m, const unsigned char *value,
                       size_t len);

/* 'secret list' on the keystores: names, owners, versions, dates, and
 * which keystores hold each version. */
int lh_ks_secret_list (lh_tool *t, const lh_ks_target *to);

/* Parse "v<N>.<hex>"; 0 for any other id. */
unsigned lh_ks_version (const char *id);

#endif /* LH_TOOL_KEYSTORE_H */
