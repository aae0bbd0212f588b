/*
 * uri.c - parsing, matching and writing PKCS#11 URIs (RFC 7512).
 *
 * Grammar (RFC 7512 section 2.3, simplified to what a consumer needs):
 *
 *   pk11-URI   = "pkcs11:" pk11-path [ "?" pk11-query ]
 *   pk11-path  = [ pk11-pattr *( ";" pk11-pattr ) ]
 *   pk11-pattr = name "=" value        (value percent-encoded)
 *   pk11-query = [ pk11-qattr *( "&" pk11-qattr ) ]
 *
 * The scheme and attribute names are compared without regard to case.  The
 * parser is lenient about characters RFC 7512 wants percent-encoded (a
 * space in "token=my token" is taken literally) but strict about
 * structure: "%" must start a two-digit hex escape, numbers must be plain
 * decimal, no attribute may appear twice.  Nothing here is secret; the
 * pin-source value is a file name, not a PIN.
 */
#include <config.h>

#include "tools/uri.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const attr_names[LH_URI_NATTRS] = {
	[LH_URI_TOKEN] = "token",
	[LH_URI_MANUFACTURER] = "manufacturer",
	[LH_URI_SERIAL] = "serial",
	[LH_URI_MODEL] = "model",
	[LH_URI_LIBRARY_MANUFACTURER] = "library-manufacturer",
	[LH_URI_LIBRARY_DESCRIPTION] = "library-description",
	[LH_URI_LIBRARY_VERSION] = "library-version",
	[LH_URI_OBJECT] = "object",
	[LH_URI_TYPE] = "type",
	[LH_URI_ID] = "id",
	[LH_URI_SLOT_DESCRIPTION] = "slot-description",
	[LH_URI_SLOT_MANUFACTURER] = "slot-manufacturer",
	[LH_URI_SLOT_ID] = "slot-id",
};

/* RFC 7512 "type" values. */
static const struct {
	const char *name;
	CK_OBJECT_CLASS cls;
} types[] = {
	{ "public", CKO_PUBLIC_KEY },
	{ "private", CKO_PRIVATE_KEY },
	{ "cert", CKO_CERTIFICATE },
	{ "secret-key", CKO_SECRET_KEY },
	{ "data", CKO_DATA },
};

const char *
lh_uri_attr_name (lh_uri_attr a)
{
	return (unsigned)a < LH_URI_NATTRS ? attr_names[a] : "?";
}

void
lh_uri_free (lh_uri *u)
{
	int i;

	if (!u)
		return;
	for (i = 0; i < LH_URI_NATTRS; i++)
		free (u->attr[i].value);
	free (u->pin_source);
	free (u->module_name);
	free (u->module_path);
	free (u);
}

static int
fail (char **why, const char *fmt, ...)
{
	va_list ap;

	va_start (ap, fmt);
	if (vasprintf (why, fmt, ap) < 0)
		*why = NULL;
	va_end (ap);
	return -1;
}

static int
hexval (int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower (c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) into a new NUL-terminated buffer (*out, *outlen).
 * Returns 0, or -1 with *why.
 */
static int
decode (const char *s, size_t n, const char *name, char **out, size_t *outlen,
        char **why)
{
	char *buf = malloc (n + 1);
	size_t i, k = 0;
	int hi, lo;

	if (!buf)
		return fail (why, "out of memory");
	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			buf[k++] = s[i];
			continue;
		}
		hi = i + 2 < n ? hexval ((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < n ? hexval ((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			free (buf);
			return fail (why, "bad percent escape in %s: '%%' must be "
			             "followed by two hex digits", name);
		}
		buf[k++] = (char)(hi << 4 | lo);
		i += 2;
	}
	buf[k] = '\0';
	*out = buf;
	*outlen = k;
	return 0;
}

/* A plain decimal number (no sign, no spaces) up to max. */
static bool
parse_ulong (const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isdigit ((unsigned char)*s))
			return false;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return true;
}

/* The typed forms of slot-id, library-version and type. */
static int
check_typed (lh_uri *u, lh_uri_attr a, char **why)
{
	const lh_uri_value *v = &u->attr[a];
	unsigned long major, minor = 0;
	char *dot;
	size_t i;

	if (a != LH_URI_SLOT_ID && a != LH_URI_LIBRARY_VERSION &&
	    a != LH_URI_TYPE)
		return 0;       /* a string or bytes: any value will do */
	if (strlen (v->value) != v->len)
		return fail (why, "%s must not contain a NUL byte", attr_names[a]);
	switch (a) {
	case LH_URI_SLOT_ID:
		if (!parse_ulong (v->value, (CK_ULONG)-1, &major))
			return fail (why, "slot-id must be a decimal number, got "
			             "\"%s\"", v->value);
		u->slot_id = major;
		return 0;
	case LH_URI_LIBRARY_VERSION:
		dot = strchr (v->value, '.');
		if (dot)
			*dot = '\0';
		if (!parse_ulong (v->value, 255, &major) ||
		    (dot && !parse_ulong (dot + 1, 255, &minor))) {
			if (dot)
				*dot = '.';
			return fail (why, "library-version must be M or M.N "
			             "(decimal, up to 255), got \"%s\"", v->value);
		}
		if (dot)
			*dot = '.';
		u->library_version.major = (CK_BYTE)major;
		u->library_version.minor = (CK_BYTE)minor;
		return 0;
	case LH_URI_TYPE:
		for (i = 0; i < sizeof types / sizeof types[0]; i++) {
			if (strcmp (v->value, types[i].name) == 0) {
				u->type = types[i].cls;
				return 0;
			}
		}
		return fail (why, "type must be public, private, cert, secret-key "
		             "or data, got \"%s\"", v->value);
	default:
		return 0;
	}
}

static int
parse_path_attr (lh_uri *u, const char *s, size_t n, char **why)
{
	const char *eq = memchr (s, '=', n);
	size_t nlen;
	int a;

	if (!eq)
		return fail (why, "\"%.*s\" in the URI path is not name=value",
		             (int)n, s);
	nlen = (size_t)(eq - s);
	if (nlen >= 2 && strncasecmp (s, "x-", 2) == 0)
		return 0;       /* vendor attribute: not ours, ignored */
	for (a = 0; a < LH_URI_NATTRS; a++)
		if (strlen (attr_names[a]) == nlen &&
		    strncasecmp (s, attr_names[a], nlen) == 0)
			break;
	if (a == LH_URI_NATTRS)
		return fail (why, "unknown attribute \"%.*s\" in the URI path",
		             (int)nlen, s);
	if (u->attr[a].set)
		return fail (why, "attribute %s appears twice in the URI",
		             attr_names[a]);
	if (decode (eq + 1, n - nlen - 1, attr_names[a], &u->attr[a].value,
	            &u->attr[a].len, why) < 0)
		return -1;
	u->attr[a].set = true;
	return check_typed (u, (lh_uri_attr)a, why);
}

static int
set_query (char **slot, const char *name, const char *s, size_t n, char **why)
{
	size_t len;

	if (*slot)
		return fail (why, "attribute %s appears twice in the URI", name);
	if (decode (s, n, name, slot, &len, why) < 0)
		return -1;
	if (strlen (*slot) != len || len == 0)
		return fail (why, "%s must be a non-empty value without NUL bytes",
		             name);
	return 0;
}

static int
parse_query_attr (lh_uri *u, const char *s, size_t n, char **why)
{
	const char *eq = memchr (s, '=', n);
	const char *v;
	size_t nlen, vlen;

	if (!eq)
		return fail (why, "\"%.*s\" in the URI query is not name=value",
		             (int)n, s);
	nlen = (size_t)(eq - s);
	v = eq + 1;
	vlen = n - nlen - 1;
	if (nlen == 9 && strncasecmp (s, "pin-value", 9) == 0)
		return fail (why, "the URI holds a PIN (pin-value), and PINs are "
		             "never taken from the command line");
	if (nlen == 10 && strncasecmp (s, "pin-source", 10) == 0)
		return set_query (&u->pin_source, "pin-source", v, vlen, why);
	if (nlen == 11 && strncasecmp (s, "module-name", 11) == 0)
		return set_query (&u->module_name, "module-name", v, vlen, why);
	if (nlen == 11 && strncasecmp (s, "module-path", 11) == 0)
		return set_query (&u->module_path, "module-path", v, vlen, why);
	return 0;               /* unknown query attribute: ignored */
}

/* Split s[0..n) at sep and hand each non-empty piece to fn. */
static int
split (lh_uri *u, const char *s, size_t n, char sep,
       int (*fn) (lh_uri *, const char *, size_t, char **), char **why)
{
	const char *end = s + n, *p;

	while (s < end) {
		p = memchr (s, sep, (size_t)(end - s));
		if (!p)
			p = end;
		if (p > s && fn (u, s, (size_t)(p - s), why) < 0)
			return -1;
		s = p + 1;
	}
	return 0;
}

int
lh_uri_parse (const char *s, lh_uri **out, char **why)
{
	const char *q;
	lh_uri *u;

	*why = NULL;
	*out = NULL;
	if (strncasecmp (s, "pkcs11:", 7) != 0)
		return fail (why, "a PKCS#11 URI starts with \"pkcs11:\"");
	s += 7;
	if (!(u = calloc (1, sizeof *u)))
		return fail (why, "out of memory");
	q = strchr (s, '?');
	if (split (u, s, q ? (size_t)(q - s) : strlen (s), ';',
	           parse_path_attr, why) < 0 ||
	    (q && split (u, q + 1, strlen (q + 1), '&', parse_query_attr,
	                 why) < 0)) {
		lh_uri_free (u);
		return -1;
	}
	*out = u;
	return 0;
}

bool
lh_uri_names_token (const lh_uri *u)
{
	static const lh_uri_attr a[] = {
		LH_URI_TOKEN, LH_URI_MANUFACTURER, LH_URI_SERIAL, LH_URI_MODEL,
		LH_URI_SLOT_DESCRIPTION, LH_URI_SLOT_MANUFACTURER, LH_URI_SLOT_ID,
		LH_URI_LIBRARY_MANUFACTURER, LH_URI_LIBRARY_DESCRIPTION,
		LH_URI_LIBRARY_VERSION,
	};
	size_t i;

	for (i = 0; i < sizeof a / sizeof a[0]; i++)
		if (u->attr[a[i]].set)
			return true;
	return false;
}

bool
lh_uri_names_object (const lh_uri *u)
{
	return u->attr[LH_URI_OBJECT].set || u->attr[LH_URI_TYPE].set ||
	       u->attr[LH_URI_ID].set;
}

/* An absent attribute matches; a present one equals the blank-trimmed field. */
static bool
match_field (const lh_uri_value *v, const CK_UTF8CHAR *field, size_t size)
{
	size_t len = size;

	if (!v->set)
		return true;
	while (len > 0 && field[len - 1] == ' ')
		len--;
	return v->len == len && memcmp (v->value, field, len) == 0;
}

bool
lh_uri_match_token (const lh_uri *u, const CK_TOKEN_INFO *ti)
{
	return match_field (&u->attr[LH_URI_TOKEN], ti->label, sizeof ti->label) &&
	       match_field (&u->attr[LH_URI_MANUFACTURER], ti->manufacturerID,
	                    sizeof ti->manufacturerID) &&
	       match_field (&u->attr[LH_URI_SERIAL], ti->serialNumber,
	                    sizeof ti->serialNumber) &&
	       match_field (&u->attr[LH_URI_MODEL], ti->model, sizeof ti->model);
}

bool
lh_uri_match_slot (const lh_uri *u, CK_SLOT_ID id, const CK_SLOT_INFO *si)
{
	if (u->attr[LH_URI_SLOT_ID].set && u->slot_id != id)
		return false;
	return match_field (&u->attr[LH_URI_SLOT_DESCRIPTION],
	                    si->slotDescription, sizeof si->slotDescription) &&
	       match_field (&u->attr[LH_URI_SLOT_MANUFACTURER],
	                    si->manufacturerID, sizeof si->manufacturerID);
}

bool
lh_uri_match_library (const lh_uri *u, const CK_INFO *info)
{
	if (u->attr[LH_URI_LIBRARY_VERSION].set &&
	    (u->library_version.major != info->libraryVersion.major ||
	     u->library_version.minor != info->libraryVersion.minor))
		return false;
	return match_field (&u->attr[LH_URI_LIBRARY_MANUFACTURER],
	                    info->manufacturerID, sizeof info->manufacturerID) &&
	       match_field (&u->attr[LH_URI_LIBRARY_DESCRIPTION],
	                    info->libraryDescription,
	                    sizeof info->libraryDescription);
}

char *
lh_uri_encode (const void *data, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = data;
	char *out = malloc (3 * n + 1), *p = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' ||
		    s[i] == '_' || s[i] == '~') {
			*p++ = (char)s[i];
		} else {
			*p++ = '%';
			*p++ = hex[s[i] >> 4];
			*p++ = hex[s[i] & 0xf];
		}
	}
	*p = '\0';
	return out;
}

/* Append ";name=<encoded field>" (blank-trimmed) to *uri. */
static bool
append (char **uri, const char *name, const CK_UTF8CHAR *field, size_t size)
{
	char *enc, *grown;
	size_t len = size;

	while (len > 0 && field[len - 1] == ' ')
		len--;
	if (!(enc = lh_uri_encode (field, len)))
		return false;
	if (asprintf (&grown, "%s%s%s=%s", *uri,
	              strcmp (*uri, "pkcs11:") == 0 ? "" : ";", name, enc) < 0) {
		free (enc);
		return false;
	}
	free (enc);
	free (*uri);
	*uri = grown;
	return true;
}

char *
lh_uri_for_token (const CK_TOKEN_INFO *ti)
{
	char *uri = strdup ("pkcs11:");

	if (!uri)
		return NULL;
	if (!append (&uri, "model", ti->model, sizeof ti->model) ||
	    !append (&uri, "manufacturer", ti->manufacturerID,
	             sizeof ti->manufacturerID) ||
	    !append (&uri, "serial", ti->serialNumber, sizeof ti->serialNumber) ||
	    !append (&uri, "token", ti->label, sizeof ti->label)) {
		free (uri);
		return NULL;
	}
	return uri;
}
