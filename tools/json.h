/*
 * json.h - a small streaming JSON writer for --json output.
 *
 * The writer keeps a stack of open containers and puts commas, keys and
 * indentation where they belong; callers only say what comes next.  Inside
 * an object every value call takes its key; inside an array (or at the top
 * level) the key is NULL.  Strings are escaped as RFC 8259 requires, and
 * bytes that are not valid UTF-8 become U+FFFD, so the output is always
 * valid JSON whatever a token label holds.
 *
 *   lh_json j;
 *   lh_json_init (&j, stdout);
 *   lh_json_object_begin (&j, NULL);
 *   lh_json_str (&j, "label", "rootkeystore");
 *   lh_json_array_begin (&j, "tokens"); ... lh_json_array_end (&j);
 *   lh_json_object_end (&j);
 *   lh_json_finish (&j);      (final newline, flush)
 */
#ifndef LH_TOOL_JSON_H
#define LH_TOOL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define LH_JSON_DEPTH 32

/* Writer state; on the caller's stack, no allocation. */
typedef struct {
	FILE *f;
	int depth;                      /* open containers */
	bool first[LH_JSON_DEPTH];      /* nothing written in this one yet */
	bool array[LH_JSON_DEPTH];      /* container kind */
} lh_json;

void lh_json_init (lh_json *j, FILE *f);
void lh_json_finish (lh_json *j);

void lh_json_object_begin (lh_json *j, const char *key);
void lh_json_object_end (lh_json *j);
void lh_json_array_begin (lh_json *j, const char *key);
void lh_json_array_end (lh_json *j);

void lh_json_str (lh_json *j, const char *key, const char *s); /* NULL: null */
void lh_json_strn (lh_json *j, const char *key, const char *s, size_t n);
void lh_json_uint (lh_json *j, const char *key, unsigned long long v);
void lh_json_int (lh_json *j, const char *key, long long v);
void lh_json_bool (lh_json *j, const char *key, bool v);
void lh_json_null (lh_json *j, const char *key);

/* Write s (n bytes) as a JSON string literal, quotes included. */
void lh_json_write_string (FILE *f, const char *s, size_t n);

/* Is s (n bytes) valid UTF-8 without control characters?  (labels) */
bool lh_utf8_printable (const char *s, size_t n);

#endif /* LH_TOOL_JSON_H */
