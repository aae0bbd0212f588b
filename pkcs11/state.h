/*
 * state.h - the module's one global state and the shape of every call.
 *
 * Ownership and locking:
 *   lh_g.lock (the module lock) guards the slot table, the session table,
 *   each slot's login state and session counts, and the session-object
 *   lists.  It is held for look-ups and bookkeeping only, never across
 *   SQLite I/O, the PIN KDF or other cryptography.
 *   Each session has its own op lock, held by the thread that is inside a
 *   call on that session, guarding that session's operation state.
 *   Slots are never freed before C_Finalize, so a slot pointer taken under
 *   the lock stays valid; sessions are reference-counted.
 */
#ifndef LH_STATE_H
#define LH_STATE_H

#include <sys/types.h>

#include "pkcs11/lh.h"
#include "pkcs11/conf.h"
#include "store/store.h"

typedef struct lh_slot lh_slot;
typedef struct lh_session lh_session;
typedef struct lh_sobj lh_sobj;
typedef struct lh_find lh_find;

#define LH_NOBODY ((CK_USER_TYPE)-1)

/* A slot: one token file (which may not exist yet: the free slot). */
struct lh_slot {
	CK_SLOT_ID id;            /* stable: hash of the file path */
	unsigned index;           /* position in lh_g.slots; used in handles */
	char *path;               /* token file */
	bool configured;          /* named by a "token =" line: listed even
	                             before its file exists */
	lh_store *store;          /* opened on first use; owned */
	CK_USER_TYPE user;        /* LH_NOBODY, CKU_SO or CKU_USER (lock) */
	unsigned sessions;        /* open sessions of this application (lock) */
	unsigned rw_sessions;     /* of which read/write (lock) */
	bool busy;                /* a login/init-token is running (lock) */
	unsigned epoch;           /* counts logouts; in private handles (lock) */
};

/* A session object: lives in memory, dies with its session. */
struct lh_sobj {
	CK_OBJECT_HANDLE handle;
	lh_slot *slot;
	CK_SESSION_HANDLE owner;  /* session that created it */
	bool private_obj;
	lh_attrs attrs;           /* owned, sorted */
	lh_sobj *next;
};

struct lh_session {
	CK_SESSION_HANDLE handle;
	lh_slot *slot;
	CK_FLAGS flags;           /* CKF_SERIAL_SESSION | CKF_RW_SESSION */
	unsigned refs;            /* callers inside + the table (lock) */
	bool closed;              /* removed from the table (lock) */
	void *op_lock;            /* guards the fields below */
	lh_find *find;            /* active C_FindObjects, or NULL */
	struct lh_op *ops[5];     /* active operations, by lh_op_kind */
	bool context_login;       /* CKU_CONTEXT_SPECIFIC done for ops */
	lh_session *hnext;        /* hash chain (lock) */
};

#define LH_SESSION_BUCKETS 256

typedef struct {
	bool initialized;
	pid_t pid;                /* process that called C_Initialize */
	void *lock;               /* the module lock (NULL: no locking) */
	lh_conf *conf;
	lh_slot **slots;          /* (lock) */
	unsigned nslots;
	lh_slot *free_slot;       /* the slot that can create a token (lock) */
	lh_session *sessions[LH_SESSION_BUCKETS];   /* (lock) */
	CK_SESSION_HANDLE next_session;             /* (lock) */
	lh_sobj *sobjs;           /* all session objects (lock) */
	CK_OBJECT_HANDLE next_sobj;                 /* (lock) */
	struct ossl_lib_ctx_st *libctx;             /* private OpenSSL context */
} lh_state;

extern lh_state lh_g;

/* Is the module initialized in this process?  (fork: the child is not) */
bool lh_state_ready (void);
/* Start watching for fork (C_Initialize); clears the child mark. */
void lh_state_watch_fork (void);

void lh_state_lock (void);
void lh_state_unlock (void);

/*
 * A call on a session: lh_call_enter checks initialization, looks the
 * session up, takes a reference and the session's op lock; lh_call_leave
 * undoes that and returns rv.  Both also keep the host's OpenSSL error
 * queue as it was (ERR mark).
 *   CKR_CRYPTOKI_NOT_INITIALIZED, CKR_SESSION_HANDLE_INVALID
 */
typedef struct {
	lh_session *session;
	bool marked;
} lh_call;

CK_RV lh_call_enter (lh_call *call, CK_SESSION_HANDLE hs);
CK_RV lh_call_leave (lh_call *call, CK_RV rv);

/* For calls without a session (slots, tokens): init check + ERR mark. */
CK_RV lh_enter_global (lh_call *call);

#endif
