/*
 * test-uri.c - unit tests of the litehsm command's PKCS#11 URI parser,
 * matcher and writer (tools/uri.c, RFC 7512).
 *
 * Covers: every path attribute, percent-decoding (upper and lower case
 * hex, encoded separators, binary ids with NUL bytes), case-insensitive
 * scheme and names, the typed attributes (slot-id, library-version, type)
 * and their bounds, the query (pin-source, module-path, module-name,
 * unknown ones ignored, pin-value refused), structural errors (missing
 * scheme, no "=", duplicates, unknown attributes, bad escapes), vendor
 * "x-" attributes, matching against blank-padded PKCS#11 fields, and a
 * write-then-parse round trip of a token URI.
 */
#include <config.h>

#include "test.h"
#include "tools/uri.h"

#include <stdlib.h>
#include <string.h>

static lh_uri *
parse_ok (const char *s)
{
	lh_uri *u = NULL;
	char *why = NULL;

	if (lh_uri_parse (s, &u, &why) != 0) {
		printf ("# parsing \"%s\": %s\n", s, why ? why : "(null)");
		free (why);
		assert_true (!"the URI should parse");
	}
	assert_true (u != NULL);
	return u;
}

/* The URI must be refused with a reason that contains expect. */
static void
parse_fails (const char *s, const char *expect)
{
	lh_uri *u = (lh_uri *)1;
	char *why = NULL;
	int rc;

	rc = lh_uri_parse (s, &u, &why);
	if (rc == 0)
		lh_uri_free (u);
	assert_num_eq (-1, rc);
	assert_true (u == NULL);
	assert_true (why != NULL);
	if (!strstr (why, expect))
		printf ("# reason for \"%s\": %s\n", s, why);
	assert_true (strstr (why, expect) != NULL);
	free (why);
}

static void
pad (CK_UTF8CHAR *field, size_t size, const char *s)
{
	memset (field, ' ', size);
	memcpy (field, s, strlen (s));
}

static void
make_token (CK_TOKEN_INFO *ti, const char *label, const char *serial)
{
	memset (ti, 0, sizeof *ti);
	pad (ti->label, sizeof ti->label, label);
	pad (ti->manufacturerID, sizeof ti->manufacturerID, "litehsm");
	pad (ti->model, sizeof ti->model, "soft token");
	pad (ti->serialNumber, sizeof ti->serialNumber, serial);
}

static void
test_all_path_attrs (void *fx)
{
	lh_uri *u = parse_ok ("pkcs11:token=root;manufacturer=litehsm;"
	                      "serial=0123abcd;model=soft%20token;"
	                      "library-manufacturer=litehsm;"
	                      "library-description=litehsm%20PKCS%2311;"
	                      "library-version=0.1;object=web%20key;type=private;"
	                      "id=%01%02;slot-description=litehsm%20a.db;"
	                      "slot-manufacturer=litehsm;slot-id=42");

	assert_str_eq ("root", u->attr[LH_URI_TOKEN].value);
	assert_str_eq ("litehsm", u->attr[LH_URI_MANUFACTURER].value);
	assert_str_eq ("0123abcd", u->attr[LH_URI_SERIAL].value);
	assert_str_eq ("soft token", u->attr[LH_URI_MODEL].value);
	assert_str_eq ("litehsm PKCS#11",
	               u->attr[LH_URI_LIBRARY_DESCRIPTION].value);
	assert_num_eq (0, u->library_version.major);
	assert_num_eq (1, u->library_version.minor);
	assert_str_eq ("web key", u->attr[LH_URI_OBJECT].value);
	assert_num_eq (CKO_PRIVATE_KEY, u->type);
	assert_num_eq (2, u->attr[LH_URI_ID].len);
	assert_num_eq (42, u->slot_id);
	assert_str_eq ("litehsm a.db", u->attr[LH_URI_SLOT_DESCRIPTION].value);
	assert_true (lh_uri_names_token (u));
	assert_true (lh_uri_names_object (u));
	lh_uri_free (u);
}

static void
test_percent_decoding (void *fx)
{
	lh_uri *u = parse_ok ("pkcs11:token=a%3bb%3Fc%25d%2fe;id=%00%ff%7F");

	assert_str_eq ("a;b?c%d/e", u->attr[LH_URI_TOKEN].value);
	assert_num_eq (3, u->attr[LH_URI_ID].len);
	assert_num_eq (0x00, (unsigned char)u->attr[LH_URI_ID].value[0]);
	assert_num_eq (0xff, (unsigned char)u->attr[LH_URI_ID].value[1]);
	assert_num_eq (0x7f, (unsigned char)u->attr[LH_URI_ID].value[2]);
	lh_uri_free (u);

	/* lenient: an unencoded space is taken literally */
	u = parse_ok ("pkcs11:token=my token");
	assert_str_eq ("my token", u->attr[LH_URI_TOKEN].value);
	lh_uri_free (u);
}

static void
test_case_and_empty (void *fx)
{
	lh_uri *u = parse_ok ("PKCS11:Token=t;SERIAL=1");

	assert_str_eq ("t", u->attr[LH_URI_TOKEN].value);
	assert_str_eq ("1", u->attr[LH_URI_SERIAL].value);
	lh_uri_free (u);

	/* "pkcs11:" alone is valid and names nothing in particular */
	u = parse_ok ("pkcs11:");
	assert_false (lh_uri_names_token (u));
	assert_false (lh_uri_names_object (u));
	lh_uri_free (u);

	/* empty pieces between separators are skipped; an empty value is set */
	u = parse_ok ("pkcs11:;token=;;serial=9;");
	assert_true (u->attr[LH_URI_TOKEN].set);
	assert_num_eq (0, u->attr[LH_URI_TOKEN].len);
	assert_str_eq ("9", u->attr[LH_URI_SERIAL].value);
	lh_uri_free (u);
}

static void
test_query (void *fx)
{
	lh_uri *u = parse_ok ("pkcs11:token=t?pin-source=file:%2Fetc%2Fpin&"
	                      "module-path=/usr/lib/x.so&x-vendor=1&foo=bar");

	assert_str_eq ("file:/etc/pin", u->pin_source);
	assert_str_eq ("/usr/lib/x.so", u->module_path);
	assert_true (u->module_name == NULL);
	lh_uri_free (u);

	u = parse_ok ("pkcs11:?module-name=litehsm");
	assert_str_eq ("litehsm", u->module_name);
	lh_uri_free (u);

	parse_fails ("pkcs11:token=t?pin-value=1234", "pin-value");
	parse_fails ("pkcs11:token=t?PIN-VALUE=1234", "pin-value");
	parse_fails ("pkcs11:?pin-source=a&pin-source=b", "twice");
	parse_fails ("pkcs11:?pin-source=", "non-empty");
	parse_fails ("pkcs11:?module-path=%00", "NUL");
	parse_fails ("pkcs11:?pin-source", "name=value");
}

static void
test_errors (void *fx)
{
	parse_fails ("token=t", "starts with \"pkcs11:\"");
	parse_fails ("pkcs11", "starts with");
	parse_fails ("pkcs11:token", "name=value");
	parse_fails ("pkcs11:token=a;token=b", "twice");
	parse_fails ("pkcs11:frobnicate=1", "unknown attribute \"frobnicate\"");
	parse_fails ("pkcs11:token=%4", "percent");
	parse_fails ("pkcs11:token=%", "percent");
	parse_fails ("pkcs11:token=%zz", "percent");
	parse_fails ("pkcs11:token=a%g1", "percent");
	parse_fails ("pkcs11:slot-id=", "slot-id");
	parse_fails ("pkcs11:slot-id=-1", "slot-id");
	parse_fails ("pkcs11:slot-id=0x10", "slot-id");
	parse_fails ("pkcs11:slot-id=99999999999999999999999", "slot-id");
	parse_fails ("pkcs11:slot-id=1%002", "NUL");
	parse_fails ("pkcs11:library-version=256", "library-version");
	parse_fails ("pkcs11:library-version=1.", "library-version");
	parse_fails ("pkcs11:library-version=a.b", "library-version");
	parse_fails ("pkcs11:type=key", "type must be");
}

static void
test_typed_values (void *fx)
{
	lh_uri *u = parse_ok ("pkcs11:library-version=3;type=secret-key");

	assert_num_eq (3, u->library_version.major);
	assert_num_eq (0, u->library_version.minor);
	assert_num_eq (CKO_SECRET_KEY, u->type);
	assert_str_eq ("3", u->attr[LH_URI_LIBRARY_VERSION].value);
	lh_uri_free (u);

	u = parse_ok ("pkcs11:library-version=255.255;type=cert;slot-id=0");
	assert_num_eq (255, u->library_version.major);
	assert_num_eq (255, u->library_version.minor);
	assert_num_eq (CKO_CERTIFICATE, u->type);
	assert_num_eq (0, u->slot_id);
	assert_true (u->attr[LH_URI_SLOT_ID].set);
	lh_uri_free (u);
}

static void
test_vendor_ignored (void *fx)
{
	lh_uri *u = parse_ok ("pkcs11:x-custom=1;token=t;X-Other=%41");

	assert_str_eq ("t", u->attr[LH_URI_TOKEN].value);
	lh_uri_free (u);
}

static void
test_match_token (void *fx)
{
	CK_TOKEN_INFO ti;
	lh_uri *u;

	make_token (&ti, "root keystore", "0011223344556677");
	u = parse_ok ("pkcs11:token=root%20keystore;serial=0011223344556677");
	assert_true (lh_uri_match_token (u, &ti));
	lh_uri_free (u);

	u = parse_ok ("pkcs11:token=root");             /* not a prefix match */
	assert_false (lh_uri_match_token (u, &ti));
	lh_uri_free (u);

	u = parse_ok ("pkcs11:token=root%20keystore%20"); /* trailing blank */
	assert_false (lh_uri_match_token (u, &ti));
	lh_uri_free (u);

	u = parse_ok ("pkcs11:model=soft%20token;manufacturer=litehsm");
	assert_true (lh_uri_match_token (u, &ti));
	lh_uri_free (u);

	u = parse_ok ("pkcs11:serial=0011223344556678");
	assert_false (lh_uri_match_token (u, &ti));
	lh_uri_free (u);

	u = parse_ok ("pkcs11:");                       /* matches anything */
	assert_true (lh_uri_match_token (u, &ti));
	lh_uri_free (u);

	/* a value longer than the field never matches */
	u = parse_ok ("pkcs11:token=0123456789012345678901234567890123");
	assert_false (lh_uri_match_token (u, &ti));
	lh_uri_free (u);
}

static void
test_match_slot_library (void *fx)
{
	CK_SLOT_INFO si;
	CK_INFO info;
	lh_uri *u;

	memset (&si, 0, sizeof si);
	pad (si.slotDescription, sizeof si.slotDescription, "litehsm token-1.db");
	pad (si.manufacturerID, sizeof si.manufacturerID, "litehsm");
	memset (&info, 0, sizeof info);
	pad (info.manufacturerID, sizeof info.manufacturerID, "litehsm");
	pad (info.libraryDescription, sizeof info.libraryDescription,
	     "litehsm PKCS#11 module");
	info.libraryVersion.major = 0;
	info.libraryVersion.minor = 1;

	u = parse_ok ("pkcs11:slot-id=7;slot-description=litehsm%20token-1.db");
	assert_true (lh_uri_match_slot (u, 7, &si));
	assert_false (lh_uri_match_slot (u, 8, &si));
	lh_uri_free (u);

	u = parse_ok ("pkcs11:library-manufacturer=litehsm;library-version=0.1");
	assert_true (lh_uri_match_library (u, &info));
	lh_uri_free (u);
	u = parse_ok ("pkcs11:library-version=0.2");
	assert_false (lh_uri_match_library (u, &info));
	lh_uri_free (u);
	u = parse_ok ("pkcs11:library-description=other");
	assert_false (lh_uri_match_library (u, &info));
	lh_uri_free (u);
}

static void
test_round_trip (void *fx)
{
	CK_TOKEN_INFO ti;
	lh_uri *u;
	char *s;

	make_token (&ti, "a;b?c%d e/f=g&h\xc3\xa9", "00ff");
	s = lh_uri_for_token (&ti);
	assert_true (s != NULL);
	/* nothing but unreserved characters and escapes after the names */
	assert_true (strstr (s, "token=a%3Bb%3Fc%25d%20e%2Ff%3Dg%26h%C3%A9") !=
	             NULL);
	assert_true (strncmp (s, "pkcs11:model=soft%20token;", 26) == 0);
	u = parse_ok (s);
	assert_true (lh_uri_match_token (u, &ti));
	assert_str_eq ("a;b?c%d e/f=g&h\xc3\xa9", u->attr[LH_URI_TOKEN].value);
	lh_uri_free (u);
	free (s);

	s = lh_uri_encode ("AZaz09-._~", 10);
	assert_str_eq ("AZaz09-._~", s);
	free (s);
	s = lh_uri_encode ("\0\x80", 2);
	assert_str_eq ("%00%80", s);
	free (s);
}

int
main (void)
{
	lh_test_add ("/uri/all-path-attributes", test_all_path_attrs, NULL);
	lh_test_add ("/uri/percent-decoding", test_percent_decoding, NULL);
	lh_test_add ("/uri/case-and-empty", test_case_and_empty, NULL);
	lh_test_add ("/uri/query", test_query, NULL);
	lh_test_add ("/uri/errors", test_errors, NULL);
	lh_test_add ("/uri/typed-values", test_typed_values, NULL);
	lh_test_add ("/uri/vendor-attributes-ignored", test_vendor_ignored, NULL);
	lh_test_add ("/uri/match-token", test_match_token, NULL);
	lh_test_add ("/uri/match-slot-library", test_match_slot_library, NULL);
	lh_test_add ("/uri/round-trip", test_round_trip, NULL);
	return lh_test_run ();
}
