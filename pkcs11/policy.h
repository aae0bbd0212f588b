/*
 * policy.h - the key-usage policy, checked on every use of a key.
 *
 * Two layers:
 *   - the spec's rules: usage flags (CKA_SIGN...), CKA_ALLOWED_MECHANISMS,
 *     CKA_START_DATE/CKA_END_DATE, CKA_WRAP_WITH_TRUSTED, templates;
 *   - litehsm's strict policy (config "strict_policy = yes", the default):
 *     no key both wraps and decrypts (nor unwraps and encrypts), no key
 *     wraps itself, a sensitive key is wrapped only by a key generated in
 *     the token or marked trusted by the SO, never by a shorter key, and
 *     only with an authenticated or padded wrap mechanism; unwrapped keys
 *     are never less sensitive than they were.  These close Clulow's
 *     wrap-then-decrypt attack and the Tookan catalogue.
 */
#ifndef LH_POLICY_H
#define LH_POLICY_H

#include "pkcs11/mech.h"

/* Is the strict policy on (config)? */
bool lh_policy_strict (void);

/*
 * May key k be used for usage (CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN,
 * CKA_VERIFY, CKA_WRAP, CKA_UNWRAP, CKA_DERIVE) with mechanism m now?
 *   CKR_KEY_FUNCTION_NOT_PERMITTED  usage flag false, outside its dates,
 *                                   or a strict-policy conflict
 *   CKR_MECHANISM_INVALID           not in CKA_ALLOWED_MECHANISMS
 */
CK_RV lh_policy_use (const lh_key *k, CK_ATTRIBUTE_TYPE usage, const lh_mech *m);

/*
 * May wrapping key w wrap key k with mechanism m?
 *   CKR_KEY_NOT_WRAPPABLE, CKR_KEY_UNEXTRACTABLE, CKR_WRAPPING_KEY_TYPE_INCONSISTENT
 */
CK_RV lh_policy_wrap (const lh_key *w, const lh_key *k, const lh_mech *m);

/*
 * Strict-policy check of a new or changed key's attributes (create,
 * generate, unwrap, derive, set, copy): CKR_TEMPLATE_INCONSISTENT when
 * they hold a conflicting pair.  (Adding one of the four usages by set or
 * copy is refused earlier, in template.c, with CKR_ATTRIBUTE_READ_ONLY.)
 */
CK_RV lh_policy_attrs (const lh_attrs *a);

/* Does template t (internal form) match attributes a byte for byte? */
bool lh_policy_template_match (const lh_sattr *tmpl, const lh_attrs *a);

#endif
