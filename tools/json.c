/*
 * json.c - the JSON writer of json.h.
 *
 * Output is indented by two spaces per level, one member per line, so a
 * human can read --json output too.  Nesting deeper than LH_JSON_DEPTH is a
 * programming error; the writer then stops indenting but stays valid.
 */
#include <config.h>

#include "tools/json.h"

#include <stdint.h>
#include <string.h>

void
lh_json_init (lh_json *j, FILE *f)
{
	memset (j, 0, sizeof *j);
	j->f = f;
}

void
lh_json_finish (lh_json *j)
{
	fputc ('\n', j->f);
	fflush (j->f);
}

static void
indent (lh_json *j)
{
	int i;

	fputc ('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs ("  ", j->f);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_len (const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

bool
lh_utf8_printable (const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;

	while (i < n) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return false;
		if ((len = utf8_len (s + i, n - i)) == 0)
			return false;
		i += len;
	}
	return true;
}

void
lh_json_write_string (FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;

	fputc ('"', f);
	while (i < n) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			fputc ('\\', f);
			fputc (c, f);
		} else if (c == '\n') {
			fputs ("\\n", f);
		} else if (c == '\r') {
			fputs ("\\r", f);
		} else if (c == '\t') {
			fputs ("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf (f, "\\u%04x", c);
		} else if (c >= 0x80) {
			len = utf8_len (s + i, n - i);
			if (len == 0) {
				fputs ("\\ufffd", f);
				len = 1;
			} else {
				fwrite (s + i, 1, len, f);
			}
			i += len;
			continue;
		} else {
			fputc (c, f);
		}
		i++;
	}
	fputc ('"', f);
}

/* Index of the innermost open container (deeper ones share the last). */
static int
top (const lh_json *j)
{
	return j->depth <= LH_JSON_DEPTH ? j->depth - 1 : LH_JSON_DEPTH - 1;
}

/* Comma, newline, indentation and key before a value. */
static void
member (lh_json *j, const char *key)
{
	if (j->depth == 0)
		return;
	if (!j->first[top (j)])
		fputc (',', j->f);
	j->first[top (j)] = false;
	indent (j);
	if (key && !j->array[top (j)]) {
		lh_json_write_string (j->f, key, strlen (key));
		fputs (": ", j->f);
	}
}

static void
open_container (lh_json *j, const char *key, bool array)
{
	member (j, key);
	fputc (array ? '[' : '{', j->f);
	if (j->depth < LH_JSON_DEPTH) {
		j->first[j->depth] = true;
		j->array[j->depth] = array;
	}
	j->depth++;
}

static void
close_container (lh_json *j, bool array)
{
	bool empty;

	if (j->depth == 0)
		return;         /* unbalanced: a programming error */
	empty = j->first[top (j)];
	j->depth--;
	if (!empty)
		indent (j);
	fputc (array ? ']' : '}', j->f);
}

void
lh_json_object_begin (lh_json *j, const char *key)
{
	open_container (j, key, false);
}

void
lh_json_object_end (lh_json *j)
{
	close_container (j, false);
}

void
lh_json_array_begin (lh_json *j, const char *key)
{
	open_container (j, key, true);
}

void
lh_json_array_end (lh_json *j)
{
	close_container (j, true);
}

void
lh_json_strn (lh_json *j, const char *key, const char *s, size_t n)
{
	member (j, key);
	lh_json_write_string (j->f, s, n);
}

void
lh_json_str (lh_json *j, const char *key, const char *s)
{
	if (!s) {
		lh_json_null (j, key);
		return;
	}
	lh_json_strn (j, key, s, strlen (s));
}

void
lh_json_uint (lh_json *j, const char *key, unsigned long long v)
{
	member (j, key);
	fprintf (j->f, "%llu", v);
}

void
lh_json_int (lh_json *j, const char *key, long long v)
{
	member (j, key);
	fprintf (j->f, "%lld", v);
}

void
lh_json_bool (lh_json *j, const char *key, bool v)
{
	member (j, key);
	fputs (v ? "true" : "false", j->f);
}

void
lh_json_null (lh_json *j, const char *key)
{
	member (j, key);
	fputs ("null", j->f);
}
