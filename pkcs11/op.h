/*
 * op.h - running operations for the C_* functions (fn_cipher.c,
 * fn_digest.c, fn_sign.c): the rules of PKCS#11 2.40 section 5.2 and the
 * Init/Update/Final state machine, written once for every kind.
 */
#ifndef LH_OP_H
#define LH_OP_H

#include "pkcs11/mech.h"

typedef enum { LH_STEP_ONESHOT, LH_STEP_UPDATE, LH_STEP_FINAL } lh_step;

/*
 * C_*Init: start an operation of kind on session s.  A NULL mechanism
 * cancels the active one (SPEC 3.0).  hkey is ignored for digests.
 *   CKR_OPERATION_ACTIVE, CKR_MECHANISM_INVALID, CKR_KEY_HANDLE_INVALID,
 *   CKR_KEY_TYPE_INCONSISTENT, CKR_KEY_FUNCTION_NOT_PERMITTED, family codes
 */
CK_RV lh_op_start (lh_session *s, lh_op_kind kind, const CK_MECHANISM *mech,
                   CK_OBJECT_HANDLE hkey);

/*
 * One data step of the active operation of kind: encrypt/decrypt
 * (in -> out), digest/sign (update absorbs; oneshot/final output).
 * Length-query convention: out NULL reports the size; a short buffer
 * gives CKR_BUFFER_TOO_SMALL; both keep the operation.  Any other error,
 * and the end of a oneshot or final, end it.
 */
CK_RV lh_op_data (lh_session *s, lh_op_kind kind, lh_step step,
                  const uint8_t *in, CK_ULONG in_len, uint8_t *out,
                  CK_ULONG *out_len);

/* Verify steps: ONESHOT (in, sig), UPDATE (in), FINAL (sig). */
CK_RV lh_op_verify (lh_session *s, lh_step step, const uint8_t *in,
                    CK_ULONG in_len, const uint8_t *sig, CK_ULONG sig_len);

/* Feed a secret key's value into the active digest (C_DigestKey). */
CK_RV lh_op_digest_key (lh_session *s, CK_OBJECT_HANDLE hkey);

/*
 * The whole body of a C_*Init / data entry point: enter the session,
 * run lh_op_start or lh_op_data, leave.  fn_cipher.c, fn_digest.c and
 * fn_sign.c are thin wrappers around these.
 */
CK_RV lh_op_call_init (CK_SESSION_HANDLE hs, lh_op_kind kind,
                       const CK_MECHANISM *mech, CK_OBJECT_HANDLE hkey);
CK_RV lh_op_call_data (CK_SESSION_HANDLE hs, lh_op_kind kind, lh_step step,
                       const uint8_t *in, CK_ULONG in_len, uint8_t *out,
                       CK_ULONG *out_len);

/* End (free) the operation of kind, if any. */
void lh_op_end (lh_session *s, lh_op_kind kind);

/* The active op of s that waits for a CKU_CONTEXT_SPECIFIC login. */
lh_op *lh_op_waiting_login (lh_session *s);

#endif
