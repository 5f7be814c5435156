/* json.h - JSON as Python's json module reads and writes it, byte for byte.
 *
 * Lesson 04 frames carry json.dumps(obj), and the server prints what
 * print("Received Payload:", obj) shows.  No C JSON library writes
 * json.dumps's bytes (escapes, float repr, NaN, big ints, lone surrogates),
 * so this is our own, checked against CPython 3.11 by
 * harness/conformance/test_json.py.  As in lab.h, nothing here prints or
 * exits: failures are -1 or NULL, with a one-line reason where there is an
 * `err` buffer.
 *
 * Floats are parsed with strtod and formatted with snprintf (json.c does
 * the common short cases itself, exactly, and gives the same bytes), so
 * the program's LC_NUMERIC must be "C" (it is unless the program calls
 * setlocale).
 */
#ifndef LAB_JSON_H
#define LAB_JSON_H

#include <stddef.h>

/* Containers nested deeper than this are invalid input.  Python's parser
 * stops near 1000 (its recursion limit); 512 keeps our bounded stack small
 * while every document Python writes for the lessons fits. */
#define JSON_MAX_DEPTH 512

/* Python refuses int("...") past 4300 digits (sys.get_int_max_str_digits()),
 * so json.loads raises on such a literal, and so do we. */
#define JSON_MAX_INT_DIGITS 4300

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_INT,
	JSON_FLOAT,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

/* One value.  Trees come from json_parse and are read-only.  A STRING's
 * code points are kept as "WTF-8": UTF-8 that may also hold lone surrogates
 * (U+D800..U+DFFF as 3-byte sequences), since Python strings can, and "\ud800"
 * must come back out as it went in. */
struct json {
	enum json_type type;
	size_t len; /* INT, STRING: bytes in str; ARRAY: values; OBJECT: members */
	/* One of these, by type: a node is 24 bytes, and a document has many. */
	union {
		double num;          /* FLOAT: any double, NaN and infinities included */
		const char *str;     /* INT: decimal digits, '-' first if negative ("-0"
		                        is "0"); STRING: WTF-8.  NUL-terminated, but a
		                        STRING may hold NUL too: use len */
		struct json **items; /* ARRAY: len values; OBJECT: 2 * len pointers, a
		                        key (a STRING) then its value, in dict order */
	};
};

/* A growable output buffer: start from JSON_BUF_INIT; data stays
 * NUL-terminated (once allocated), and the output may hold NUL too. */
struct json_buf {
	char *data;
	size_t len, cap;
};
#define JSON_BUF_INIT                                                                              \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Parse len bytes as Python's json.loads(text.decode('utf-8')) does, and
 * accept nothing it refuses: the input must be UTF-8 (a BOM is refused);
 * NaN, Infinity and -Infinity are allowed; an int literal stays exact (up to
 * JSON_MAX_INT_DIGITS digits), one with '.', 'e' or 'E' is a double (1e400
 * is inf); "\ud800" escapes are kept, paired ones joined; a duplicate key
 * keeps its first position and takes the last value.  Memory is bounded by
 * a constant times len, and nothing recurses.  Returns the tree (free it with
 * json_free), or NULL with a reason such as "invalid JSON at byte 17:
 * expected ',' or '}'". */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);

/* Free a tree returned by json_parse (only its root: the whole tree lives in
 * one allocation arena).  NULL is fine. */
void json_free(struct json *root);

/* Append json.dumps(v) with default arguments: ", " and ": " separators,
 * ensure_ascii escapes in lower-case hex, floats as repr(), NaN/Infinity.
 * Recurses once per level of nesting, at most JSON_MAX_DEPTH.  Returns 0,
 * or -1 with errno set (ENOMEM; EINVAL for a tree that json_parse could not
 * have made, such as one nested deeper). */
int json_dump(const struct json *v, struct json_buf *out);

/* Append str(v) as Python prints it: dicts and lists as their repr
 * ({'a': [True, None, 1.5]}), floats as repr (nan, inf), strings inside
 * containers as repr(str).  A top-level STRING prints bare when
 * top_level_str_bare is non-zero, as print() writes it, with a lone
 * surrogate as "\udXXX" as the 'backslashreplace' error handler would.
 * Returns 0, or -1 with errno set as json_dump. */
int json_repr(const struct json *v, struct json_buf *out, int top_level_str_bare);

/* Free a buffer's memory and reset it to JSON_BUF_INIT. */
void json_buf_free(struct json_buf *b);

#endif
