/*
 * p11.h - the litehsm command as a PKCS#11 application: load a module,
 * find slots and tokens, open sessions, log in.
 *
 * Every function here that can fail reports its own error (one line, see
 * common.h) and returns an exit code; LH_EXIT_OK means success.  So a
 * command is a straight sequence of calls:
 *
 *   lh_p11 p;  lh_p11_slot s;  CK_SESSION_HANDLE h;
 *   if ((rc = lh_p11_open (t, &p)) != LH_EXIT_OK) return rc;
 *   if ((rc = lh_p11_find_token (t, &p, &s)) != LH_EXIT_OK ||
 *       (rc = lh_p11_session (t, &p, &s, true, &h)) != LH_EXIT_OK ||
 *       (rc = lh_p11_login (t, &p, h, &s, CKU_USER, LH_PIN_USER)) != LH_EXIT_OK)
 *           goto out;
 *   ...
 *   out: lh_p11_close (&p);      (closes sessions, C_Finalize, dlclose)
 *
 * The module is, first found: --module PATH, module-path= in --token-uri,
 * $LITEHSM_MODULE, the installed litehsm module (LH_DEFAULT_MODULE).  It is
 * initialized with CKF_OS_LOCKING_OK.
 */
#ifndef LH_TOOL_P11_H
#define LH_TOOL_P11_H

#include "tools/common.h"
#include "tools/pin.h"
#include "tools/uri.h"

/* A loaded and initialized module; one per run, owned by the command. */
typedef struct {
	void *dl;                   /* dlopen handle */
	CK_FUNCTION_LIST *f;        /* its function list */
	const char *path;           /* the file loaded */
	bool initialized;           /* C_Initialize succeeded */
	CK_INFO info;               /* C_GetInfo */
	lh_uri *uri;                /* the parsed --token-uri, or NULL */
} lh_p11;

/* One slot and its token, as C_GetSlotInfo/C_GetTokenInfo report them. */
typedef struct {
	CK_SLOT_ID id;
	CK_SLOT_INFO slot;
	CK_TOKEN_INFO token;        /* zero when !present */
	bool present;               /* CKF_TOKEN_PRESENT */
	bool initialized;           /* CKF_TOKEN_INITIALIZED */
	char label[33];             /* the padded fields, trimmed */
	char serial[17];
	char manufacturer[33];
	char model[17];
	char description[65];       /* slot description */
} lh_p11_slot;

/* The module lh_p11_open would load, leaving --token-uri aside. */
const char *lh_p11_module_path (lh_tool *t);

/* Load and initialize the module (and parse --token-uri). */
int lh_p11_open (lh_tool *t, lh_p11 *p);

/* Close every session, C_Finalize, dlclose; safe on a zeroed lh_p11. */
void lh_p11_close (lh_p11 *p);

/* Every slot with its token; *slots is malloc'd (free it). */
int lh_p11_slots (lh_tool *t, lh_p11 *p, lh_p11_slot **slots, size_t *n);

/* Read one slot's (and its token's) information again. */
int lh_p11_slot_get (lh_tool *t, lh_p11 *p, CK_SLOT_ID id, lh_p11_slot *s);

/*
 * The initialized token named by --token or --token-uri.
 *   LH_EXIT_USAGE     neither given, or the name matches several tokens
 *   LH_EXIT_NOTFOUND  no token matches
 */
int lh_p11_find_token (lh_tool *t, lh_p11 *p, lh_p11_slot *out);

/* The free slot: a present token without CKF_TOKEN_INITIALIZED. */
int lh_p11_free_slot (lh_tool *t, lh_p11 *p, lh_p11_slot *out);

/* Open a session (read-write with rw). */
int lh_p11_session (lh_tool *t, lh_p11 *p, const lh_p11_slot *s, bool rw,
                    CK_SESSION_HANDLE *out);

/*
 * Log in as who (CKU_USER or CKU_SO) with the PIN from role's source (for
 * CKU_USER without a source of its own, a pin-source in --token-uri).  A
 * locked or missing PIN is reported before any PIN is asked for; a wrong
 * PIN says how many tries are left when the token tells.  The PIN is wiped
 * before return.
 */
int lh_p11_login (lh_tool *t, lh_p11 *p, CK_SESSION_HANDLE h,
                  const lh_p11_slot *s, CK_USER_TYPE who, lh_pin_role role);

/*
 * Read the PIN of who for logging in, from role's source (or a pin-source
 * in --token-uri for the user), after checking that the PIN exists and is
 * not locked.  The caller wipes *pin.
 */
int lh_p11_read_pin (lh_tool *t, lh_p11 *p, const lh_p11_slot *s,
                     CK_USER_TYPE who, lh_pin_role role, lh_pin *pin);

/* Log in with a PIN the caller has already read (not wiped here). */
int lh_p11_login_pin (lh_tool *t, lh_p11 *p, CK_SESSION_HANDLE h,
                      const lh_p11_slot *s, CK_USER_TYPE who,
                      const lh_pin *pin);

/*
 * Create a token labelled label (1..32 bytes) in the free slot s:
 * C_InitToken with the SO PIN, then in a read-write session C_Login(SO)
 * and C_InitPIN with the user PIN.  *s is re-read afterwards (label,
 * serial).  If the second step fails the token exists without a user PIN
 * and the message says how to finish (token init-pin).  The caller checks
 * the label and the PINs' lengths first, and wipes the PINs.
 */
int lh_p11_init_token (lh_tool *t, lh_p11 *p, lh_p11_slot *s,
                       const char *label, const lh_pin *so,
                       const lh_pin *user);

/* Is a PIN about to be set within the token's length limits? */
int lh_p11_check_new_pin (lh_tool *t, const lh_p11_slot *s,
                          const lh_pin *pin, const char *what);

/* "user" or "SO" */
const char *lh_p11_who (CK_USER_TYPE who);

/* A PIN's state from token flags: "not set", "ok", "count low",
 * "final try" or "locked" (so: the SO PIN's flags). */
const char *lh_p11_pin_state (const CK_TOKEN_INFO *ti, bool so);

/*
 * Objects in an open session h of module f.  These print nothing and
 * return the module's CK_RV (CKR_HOST_MEMORY when the tool runs out of
 * memory), so each caller words its own error.
 *
 * lh_p11_find: the handles of up to max objects matching tmpl (n
 * attributes) in out, their number in *got (0 on failure); the search is
 * always ended with C_FindObjectsFinal.
 */
CK_RV lh_p11_find (CK_FUNCTION_LIST *f, CK_SESSION_HANDLE h,
                   CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out,
                   CK_ULONG max, CK_ULONG *got);

/* Every object matching tmpl, searched in batches: *hs malloc'd (NULL
 * when none or on failure), *count its length. */
CK_RV lh_p11_find_all (CK_FUNCTION_LIST *f, CK_SESSION_HANDLE h,
                       CK_ATTRIBUTE *tmpl, CK_ULONG n,
                       CK_OBJECT_HANDLE **hs, size_t *count);

/* The value of attribute type of object o, malloc'd with a spare NUL byte
 * (so labels can be used as strings).  A value the module reports as
 * unavailable (CK_UNAVAILABLE_INFORMATION) is CKR_ATTRIBUTE_TYPE_INVALID;
 * otherwise the module's CK_RV.  *out NULL and *len 0 unless CKR_OK. */
CK_RV lh_p11_attr (CK_FUNCTION_LIST *f, CK_SESSION_HANDLE h,
                   CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
                   unsigned char **out, size_t *len);

/* Is the CK_BBOOL attribute type of object o readable and CK_TRUE? */
bool lh_p11_flag (CK_FUNCTION_LIST *f, CK_SESSION_HANDLE h,
                  CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type);

/* Is the module litehsm (manufacturer "litehsm")? */
bool lh_p11_is_litehsm (const lh_p11 *p);

#endif /* LH_TOOL_P11_H */
