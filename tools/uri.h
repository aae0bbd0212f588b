/*
 * uri.h - PKCS#11 URIs (RFC 7512) for naming tokens, slots, modules and
 * objects on the command line.
 *
 *   pkcs11:token=rootkeystore;serial=1a2b3c4d5e6f7081
 *   pkcs11:token=web;object=server%20key;type=private?pin-source=/etc/pin
 *
 * The parser splits the path into its attributes (each percent-decoded; a
 * value may hold any byte, including NUL, so values carry a length) and the
 * query into pin-source, module-name and module-path.  It refuses what it
 * cannot honour safely: an unknown standard path attribute (vendor "x-"
 * attributes are ignored), an attribute given twice, a malformed percent
 * escape or number, and pin-value (a PIN never comes from the command
 * line).  Unknown query attributes are ignored, as RFC 7512 allows.
 *
 * Matching follows RFC 7512 section 3.3: an attribute that is absent
 * matches anything; a present one must equal the token's (or slot's, or
 * library's) field with its trailing blanks removed.
 */
#ifndef LH_TOOL_URI_H
#define LH_TOOL_URI_H

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

/* The path attributes, in the order RFC 7512 lists them. */
typedef enum {
	LH_URI_TOKEN,
	LH_URI_MANUFACTURER,
	LH_URI_SERIAL,
	LH_URI_MODEL,
	LH_URI_LIBRARY_MANUFACTURER,
	LH_URI_LIBRARY_DESCRIPTION,
	LH_URI_LIBRARY_VERSION,
	LH_URI_OBJECT,
	LH_URI_TYPE,
	LH_URI_ID,
	LH_URI_SLOT_DESCRIPTION,
	LH_URI_SLOT_MANUFACTURER,
	LH_URI_SLOT_ID,
	LH_URI_NATTRS
} lh_uri_attr;

/* One decoded value; NUL-terminated for convenience, len is authoritative. */
typedef struct {
	bool set;
	char *value;
	size_t len;
} lh_uri_value;

/* A parsed URI; owned by the caller, freed with lh_uri_free(). */
typedef struct {
	lh_uri_value attr[LH_URI_NATTRS];
	CK_SLOT_ID slot_id;             /* when attr[LH_URI_SLOT_ID].set */
	CK_VERSION library_version;     /* when attr[LH_URI_LIBRARY_VERSION].set */
	CK_OBJECT_CLASS type;           /* when attr[LH_URI_TYPE].set */
	char *pin_source;               /* query pin-source, or NULL */
	char *module_name;              /* query module-name, or NULL */
	char *module_path;              /* query module-path, or NULL */
} lh_uri;

/*
 * Parse s.  On success returns 0 and *out (free with lh_uri_free).  On a
 * malformed URI returns -1 and *why is a malloc'd one-line reason (NULL
 * when out of memory).
 */
int lh_uri_parse (const char *s, lh_uri **out, char **why);
void lh_uri_free (lh_uri *u);

/* The attribute's name as written in URIs ("slot-id"). */
const char *lh_uri_attr_name (lh_uri_attr a);

/* Does the URI name a token at all (any token, slot or library attribute)? */
bool lh_uri_names_token (const lh_uri *u);
/* Does it name an object (object, type or id)? */
bool lh_uri_names_object (const lh_uri *u);

/* RFC 7512 matching against the parts of a module. */
bool lh_uri_match_token (const lh_uri *u, const CK_TOKEN_INFO *ti);
bool lh_uri_match_slot (const lh_uri *u, CK_SLOT_ID id, const CK_SLOT_INFO *si);
bool lh_uri_match_library (const lh_uri *u, const CK_INFO *info);

/*
 * The URI of a token: "pkcs11:model=..;manufacturer=..;serial=..;token=..",
 * percent-encoded.  malloc'd; NULL when out of memory.
 */
char *lh_uri_for_token (const CK_TOKEN_INFO *ti);

/* Percent-encode n bytes (everything but RFC 3986 unreserved characters).
 * malloc'd; NULL when out of memory. */
char *lh_uri_encode (const void *data, size_t n);

#endif /* LH_TOOL_URI_H */
