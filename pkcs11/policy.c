/*
 * policy.c - the key-usage policy (see policy.h for the rules).
 *
 * Every rule here has a negative test in tests/module/test-policy.c,
 * including the attack sequences it exists to stop.  Where the spec and
 * the strict policy meet, the spec's error code is used.
 */
#include "pkcs11/lh.h"
#include "pkcs11/policy.h"
#include "pkcs11/object.h"

#include <string.h>
#include <time.h>

bool
lh_policy_strict (void)
{
	return !lh_g.conf || lh_g.conf->strict_policy;
}

/* Today (UTC) as the 8 digits of a CK_DATE. */
static void
today (char out[8])
{
	char buf[9];
	time_t now = time (NULL);
	struct tm tm;

	gmtime_r (&now, &tm);
	strftime (buf, sizeof buf, "%Y%m%d", &tm);
	memcpy (out, buf, 8);
}

/* SPEC: 4.7/4.8 CKA_START_DATE/CKA_END_DATE; an empty date is no limit. */
static bool
within_dates (const lh_attrs *a)
{
	const lh_sattr *start = lh_attrs_get (a, CKA_START_DATE);
	const lh_sattr *end = lh_attrs_get (a, CKA_END_DATE);
	char now[8];

	today (now);
	if (start && start->len == 8 && memcmp (now, start->value, 8) < 0)
		return false;
	if (end && end->len == 8 && memcmp (now, end->value, 8) > 0)
		return false;
	return true;
}

static bool
allowed_mechanism (const lh_attrs *a, CK_MECHANISM_TYPE type)
{
	const lh_sattr *m = lh_attrs_get (a, CKA_ALLOWED_MECHANISMS);
	CK_MECHANISM_TYPE t;
	size_t i;

	if (!m || m->len == 0)
		return true;
	for (i = 0; i + sizeof t <= m->len; i += sizeof t) {
		memcpy (&t, (const uint8_t *)m->value + i, sizeof t);
		if (t == type)
			return true;
	}
	return false;
}

/* Strict: a key must not hold two usages that together reveal keys. */
static bool
conflicting (const lh_attrs *a)
{
	bool wrap = lh_attrs_bool (a, CKA_WRAP, false);
	bool unwrap = lh_attrs_bool (a, CKA_UNWRAP, false);
	bool enc = lh_attrs_bool (a, CKA_ENCRYPT, false);
	bool dec = lh_attrs_bool (a, CKA_DECRYPT, false);
	CK_ULONG cls = 0;

	lh_attrs_ulong (a, CKA_CLASS, &cls);
	/* wrap-then-decrypt (Clulow) and its mirror */
	if ((wrap && dec) || (unwrap && enc))
		return true;
	/* a private key that unwraps must not decrypt: its public half
	 * wraps with the very same operation an encrypt would do */
	return cls == CKO_PRIVATE_KEY && unwrap && dec;
}

CK_RV
lh_policy_use (const lh_key *k, CK_ATTRIBUTE_TYPE usage, const lh_mech *m)
{
	/* SPEC: 5.x Init functions: the key must permit the function */
	if (!lh_attrs_bool (&k->attrs, usage, false))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (!allowed_mechanism (&k->attrs, m->type))
		return CKR_MECHANISM_INVALID;
	/* creating new protected data needs a key within its dates;
	 * reading old data (decrypt, verify, unwrap) does not */
	if ((usage == CKA_ENCRYPT || usage == CKA_SIGN || usage == CKA_WRAP ||
	     usage == CKA_DERIVE) && !within_dates (&k->attrs))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (lh_policy_strict () && conflicting (&k->attrs))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	return CKR_OK;
}

/*
 * Security strength in bits (NIST SP 800-57 part 1, table 2) of a key:
 * what "a shorter key" means when a symmetric key wraps an RSA key or
 * an RSA key wraps an AES key.
 */
static unsigned
strength (const lh_key *k)
{
	int bits;

	if (k->cls == CKO_SECRET_KEY)
		return k->value_len * 8 > 256 ? 256 : (unsigned)k->value_len * 8;
	if (!k->pkey)
		return 0;
	if (k->kt == CKK_RSA) {
		bits = EVP_PKEY_get_bits (k->pkey);
		return bits >= 15360 ? 256 : bits >= 7680 ? 192 : bits >= 4096 ? 152 :
		       bits >= 3072 ? 128 : bits >= 2048 ? 112 : 80;
	}
	return (unsigned)EVP_PKEY_get_security_bits (k->pkey);
}

bool
lh_policy_template_match (const lh_sattr *tmpl, const lh_attrs *a)
{
	const uint8_t *p = tmpl->value;
	const lh_sattr *have;
	uint64_t type, len;
	size_t off = 0;
	int i;

	/* serialized as in template.c: type(8, LE) || len(8, LE) || value */
	while (off + 16 <= tmpl->len) {
		for (type = 0, i = 7; i >= 0; i--)
			type = (type << 8) | p[off + i];
		for (len = 0, i = 7; i >= 0; i--)
			len = (len << 8) | p[off + 8 + i];
		if (len > tmpl->len - off - 16)
			return false;
		have = lh_attrs_get (a, (CK_ATTRIBUTE_TYPE)type);
		/* SPEC: 4.9 templates compare byte for byte */
		if (!have || have->len != len ||
		    (len && memcmp (have->value, p + off + 16, len) != 0))
			return false;
		off += 16 + len;
	}
	return off == tmpl->len;
}

CK_RV
lh_policy_wrap (const lh_key *w, const lh_key *k, const lh_mech *m)
{
	const lh_sattr *wt = lh_attrs_get (&w->attrs, CKA_WRAP_TEMPLATE);
	bool sensitive = lh_attrs_bool (&k->attrs, CKA_SENSITIVE, false);

	/* SPEC: C_WrapKey: an unextractable key cannot be wrapped */
	if (!lh_attrs_bool (&k->attrs, CKA_EXTRACTABLE, false))
		return CKR_KEY_UNEXTRACTABLE;
	/* SPEC: CKA_WRAP_WITH_TRUSTED: only a CKA_TRUSTED key may wrap it */
	if (lh_attrs_bool (&k->attrs, CKA_WRAP_WITH_TRUSTED, false) &&
	    !lh_attrs_bool (&w->attrs, CKA_TRUSTED, false))
		return CKR_KEY_NOT_WRAPPABLE;
	/* SPEC: CKA_WRAP_TEMPLATE: the wrapped key must match it */
	if (wt && wt->len && !lh_policy_template_match (wt, &k->attrs))
		return CKR_KEY_NOT_WRAPPABLE;
	if (!lh_policy_strict ())
		return CKR_OK;
	if (w->handle == k->handle)
		return CKR_KEY_NOT_WRAPPABLE;
	if (!sensitive)
		return CKR_OK;
	/*
	 * A sensitive key leaves only under a key the attacker cannot know:
	 * one made inside the token, or one the SO vouched for - never an
	 * imported or unwrapped key (Tookan's "import a known wrapping key").
	 */
	if (!w->local && !lh_attrs_bool (&w->attrs, CKA_TRUSTED, false))
		return CKR_KEY_NOT_WRAPPABLE;
	if (strength (w) < strength (k))
		return CKR_KEY_NOT_WRAPPABLE;
	if (!(m->lh_flags & LH_MF_WRAP_SAFE))
		return CKR_KEY_NOT_WRAPPABLE;
	return CKR_OK;
}

CK_RV
lh_policy_attrs (const lh_attrs *a)
{
	if (lh_policy_strict () && conflicting (a))
		return CKR_TEMPLATE_INCONSISTENT;
	return CKR_OK;
}
