/* test_json.c - unit tests of labs/common/json.c, printed as TAP, and filters for the
 * conformance suite (harness/conformance/test_json.py) to compare with Python.
 *
 *   test_json          run the tests; exit 1 if any fails
 *   test_json dump     stdin parsed, then json.dumps of it and a newline
 *   test_json repr     stdin parsed, then str() of it (a top-level string bare) and a newline
 *   test_json float    lines of 16 hex digits (IEEE-754 bits): repr(float) of each, one a line
 *
 * The filters exit 1 with a one-line reason on stderr for input Python would refuse.
 */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tests, failures;

static void ok(int cond, const char *what)
{
	tests++;
	if (!cond)
		failures++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", tests, what);
}

/* Parse text, write it with json_dump (repr = 0) or json_repr (repr = 1, a
 * bare top-level string), and compare with want. */
static void check(const char *text, int repr, const char *want, const char *what)
{
	char err[256];
	struct json *v = json_parse(text, strlen(text), err, sizeof err);
	struct json_buf b = JSON_BUF_INIT;
	int rc = -1;

	if (v != NULL)
		rc = repr ? json_repr(v, &b, 1) : json_dump(v, &b);
	ok(rc == 0 && strcmp(b.data, want) == 0, what);
	if (v == NULL)
		printf("#   error: %s\n", err);
	else if (rc == 0 && strcmp(b.data, want) != 0)
		printf("#   got:  %s\n#   want: %s\n", b.data, want);
	json_buf_free(&b);
	json_free(v);
}

/* json_parse must refuse text (n bytes), with a reason that contains `reason`. */
static void check_bad(const char *text, size_t n, const char *reason, const char *what)
{
	char err[256] = "";
	struct json *v = json_parse(text, n, err, sizeof err);

	ok(v == NULL && strstr(err, reason) != NULL && strchr(err, '\n') == NULL, what);
	if (v != NULL)
		printf("#   accepted\n");
	else if (strstr(err, reason) == NULL)
		printf("#   error: %s\n#   want:  ...%s...\n", err, reason);
	json_free(v);
}

static const char *float_repr(uint64_t bits)
{
	static char out[64];
	struct json v = { .type = JSON_FLOAT };
	struct json_buf b = JSON_BUF_INIT;

	memcpy(&v.num, &bits, sizeof v.num);
	snprintf(out, sizeof out, "%s", json_repr(&v, &b, 1) == 0 ? b.data : "(error)");
	json_buf_free(&b);
	return out;
}

static void check_float(uint64_t bits, const char *want)
{
	char what[96];
	const char *got = float_repr(bits);

	snprintf(what, sizeof what, "float: %016" PRIx64 " is %s", bits, want);
	ok(strcmp(got, want) == 0, what);
	if (strcmp(got, want) != 0)
		printf("#   got: %s\n", got);
}

static void test_floats(void)
{
	check_float(0x3ff0000000000000, "1.0");
	check_float(0x3fb999999999999a, "0.1");
	check_float(0x3ee4f8b588e368f1, "1e-05");
	check_float(0x3f1a36e2eb1c432d, "0.0001");
	check_float(0x4341c37937e08000, "1e+16");
	check_float(0x430c6bf526340000, "1000000000000000.0");
	check_float(0x0000000000000001, "5e-324");
	check_float(0x7fefffffffffffff, "1.7976931348623157e+308");
	check_float(0x8000000000000000, "-0.0");
	check_float(0x7ff8000000000000, "nan");
	check_float(0xfff0000000000000, "-inf");
	check_float(0x0060000000000000, "7.120236347223045e-307");
	check("[1e400, -1e400, NaN, -0.0, 1E2, 2.5e-3]", 0,
	      "[Infinity, -Infinity, NaN, -0.0, 100.0, 0.0025]", "dump: floats as json.dumps");
	check("[1e400, NaN, -Infinity]", 1, "[inf, nan, -inf]", "repr: floats as repr");
}

static void test_values(void)
{
	char digits[4400] = "-";

	check(" {\"a\" : 1,\"b\":[true,null, 1.5]}\r\n", 0, "{\"a\": 1, \"b\": [true, null, 1.5]}",
	      "dump: separators and order as json.dumps");
	check("{\"a\": 1, \"b\": [true, null, 1.5]}", 1, "{'a': 1, 'b': [True, None, 1.5]}",
	      "repr: a dict as Python prints it");
	check("[[], {}, [[]], false]", 1, "[[], {}, [[]], False]", "repr: empty containers");
	check("{\"a\": 1, \"b\": 2, \"a\": 3}", 0, "{\"a\": 3, \"b\": 2}",
	      "dump: a duplicate key keeps its place and takes the last value");
	check("[-0, 123456789012345678901234567890]", 0, "[0, 123456789012345678901234567890]",
	      "dump: ints keep their digits, -0 is 0");
	memset(digits + 1, '7', 4300);
	digits[4301] = '\0';
	check(digits, 0, digits, "dump: a 4300-digit int is accepted");
	check("\"\\u00e9\\ud83d\\ude00\\ud800\\u007f/\\/\\t\\u0001\"", 0,
	      "\"\\u00e9\\ud83d\\ude00\\ud800\\u007f//\\t\\u0001\"",
	      "dump: ensure_ascii escapes, pairs joined, a lone surrogate kept");
	check("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", 0, "\"caf\\u00e9 \\ud83d\\ude00\"",
	      "dump: raw UTF-8 is escaped");
	check("[\"it's\", \"say \\\"hi\\\"\", \"both ' \\\"\", \"a\\\\b\\n\\u0000\\u007f\"]", 1,
	      "[\"it's\", 'say \"hi\"', 'both \\' \"', 'a\\\\b\\n\\x00\\x7f']",
	      "repr: quotes chosen and escaped as repr(str)");
	check("[\"\\u00a0\\u00e9\\u200b\\ud800\\ud83d\\ude00\\udb40\\udc01\"]", 1,
	      "['\\xa0\xc3\xa9\\u200b\\ud800\xf0\x9f\x98\x80\\U000e0001']",
	      "repr: printable text verbatim, the rest \\x, \\u, \\U");
	check("\"two\\nlines \\ud800\"", 1, "two\nlines \\ud800",
	      "repr: a top-level string is bare, a lone surrogate backslashreplaced");
}

static void test_errors(void)
{
	char deep[1200];
	struct json *v;
	struct json_buf b = JSON_BUF_INIT;

	check_bad("[1] x", 5, "byte 4: extra data", "bad: trailing data, with its offset");
	check_bad("\xef\xbb\xbf[]", 5, "BOM", "bad: a UTF-8 BOM");
	check_bad("[1, \xff]", 6, "UTF-8", "bad: invalid UTF-8");
	check_bad("\"\xed\xa0\x80\"", 5, "UTF-8", "bad: a UTF-8-encoded surrogate");
	check_bad("01", 2, "extra data", "bad: a leading zero");
	check_bad(".5", 2, "expected a value", "bad: no digit before the point");
	check_bad("[1.]", 4, "expected ','", "bad: no digit after the point");
	check_bad("+1", 2, "expected a value", "bad: a plus sign");
	check_bad("[1,]", 4, "expected a value", "bad: a trailing comma");
	check_bad("{\"a\" 1}", 7, "expected ':'", "bad: a missing colon");
	check_bad("\"a\tb\"", 5, "control character", "bad: a raw control character");
	check_bad("\"abc", 4, "unterminated", "bad: an unterminated string");
	check_bad("\"\\x\"", 4, "invalid escape", "bad: an unknown escape");
	check_bad("\"\\u12g4\"", 8, "\\uXXXX", "bad: a short \\u escape");
	check_bad("", 0, "expected a value", "bad: nothing");
	check_bad("tru", 3, "expected a value", "bad: a cut-short literal");
	check_bad("[1]\0", 4, "extra data", "bad: a NUL after the value");
	memset(deep, '[', 513);
	check_bad(deep, 513, "nested deeper than 512", "bad: 513 levels of nesting");
	memset(deep + 512, ']', 512);
	v = json_parse(deep, 1024, NULL, 0);
	ok(v != NULL && json_dump(v, &b) == 0 && b.len == 1024 && memcmp(b.data, deep, 1024) == 0,
	   "nesting: 512 levels parse and dump back");
	json_buf_free(&b);
	json_free(v);
}

/* ---- the fast paths: runs of plain bytes, and where they stop ---------------- */

/* Parse exactly n bytes (a copy in a buffer of that size, so that reading
 * past the end is a sanitizer error), then compare json_dump, json_repr
 * with a bare top-level string, and json_repr quoted, with the wants
 * (NULL: not compared). */
static void check_n(const char *text, size_t n, const char *dump, const char *bare,
                    const char *quoted, const char *what)
{
	char err[256], *copy = malloc(n > 0 ? n : 1);
	const char *want[3] = { dump, bare, quoted };
	struct json *v;
	int k, good = 1;

	if (copy == NULL)
		abort();
	memcpy(copy, text, n);
	v = json_parse(copy, n, err, sizeof err);
	free(copy);
	if (v == NULL) {
		ok(0, what);
		printf("#   error: %s\n", err);
		return;
	}
	for (k = 0; k < 3; k++) {
		struct json_buf b = JSON_BUF_INIT;
		int rc = k == 0 ? json_dump(v, &b) : json_repr(v, &b, k == 1);

		if (want[k] != NULL &&
		    (rc != 0 || b.len != strlen(want[k]) || memcmp(b.data, want[k], b.len) != 0)) {
			if (good)
				printf("#   %s: got %.80s...\n#   want %.80s...\n",
				       k == 0   ? "dump"
				       : k == 1 ? "bare"
				                : "quoted",
				       b.data != NULL ? b.data : "(nothing)", want[k]);
			good = 0;
		}
		json_buf_free(&b);
	}
	ok(good, what);
	json_free(v);
}

/* json_parse must refuse exactly n bytes of text with exactly this message. */
static void check_err(const char *text, size_t n, const char *want, const char *what)
{
	char err[256] = "", *copy = malloc(n > 0 ? n : 1);
	struct json *v;

	if (copy == NULL)
		abort();
	memcpy(copy, text, n);
	v = json_parse(copy, n, err, sizeof err);
	free(copy);
	ok(v == NULL && strcmp(err, want) == 0, what);
	if (v != NULL || strcmp(err, want) != 0)
		printf("#   got:  %s\n#   want: %s\n", v != NULL ? "(accepted)" : err, want);
	json_free(v);
}

/* s = head, then n `a`s, then tail. */
static char *with_run(char *s, size_t cap, const char *head, size_t n, const char *tail)
{
	size_t h = strlen(head);

	if (h + n + strlen(tail) + 1 > cap)
		abort();
	snprintf(s, cap, "%s", head);
	memset(s + h, 'a', n);
	snprintf(s + h + n, cap - h - n, "%s", tail);
	return s;
}

static void test_runs(void)
{
	/* Run lengths around the scanners' block size (64) and its multiples,
	 * so that the byte that ends a run is the last or first of a block,
	 * or in the bytes left over after the last whole block. */
	static const size_t lens[] = { 0, 1, 7, 8, 31, 32, 63, 64, 65, 127, 128, 129, 200, 100000 };
	/* What ends the run: the input (inside the string), and what dump,
	 * print() and repr() write for it (then "b", so that a run follows). */
	static const struct {
		const char *in, *dump, *bare, *quoted, *name;
		char quote; /* the quote repr() chooses */
	} ends[] = {
		{ "", "", "", "", "the closing quote", '\'' },
		{ "\\nb", "\\nb", "\nb", "\\nb", "an escape", '\'' },
		{ "\\\"b", "\\\"b", "\"b", "\"b", "an escaped quote", '\'' },
		{ "\\\\b", "\\\\b", "\\b", "\\\\b", "an escaped backslash", '\'' },
		{ "'b", "'b", "'b", "'b", "an apostrophe", '"' },
		{ "'\\\"b", "'\\\"b", "'\"b", "\\'\"b", "both quotes", '\'' },
		{ "\\u0001b", "\\u0001b", "\001b", "\\x01b", "a control escape", '\'' },
		{ "\x7f"
		  "b",
		  "\\u007fb",
		  "\x7f"
		  "b",
		  "\\x7fb", "DEL", '\'' },
		{ "\xc3\xa9"
		  "b",
		  "\\u00e9b",
		  "\xc3\xa9"
		  "b",
		  "\xc3\xa9"
		  "b",
		  "non-ASCII", '\'' },
		{ "\xf0\x9f\x98\x80"
		  "b",
		  "\\ud83d\\ude00b",
		  "\xf0\x9f\x98\x80"
		  "b",
		  "\xf0\x9f\x98\x80"
		  "b",
		  "a 4-byte sequence", '\'' },
		{ "\\ud800b", "\\ud800b", "\\ud800b", "\\ud800b", "a lone surrogate", '\'' },
		{ "\xed\x9f\xbf"
		  "b",
		  "\\ud7ffb",
		  "\xed\x9f\xbf"
		  "b",
		  "\\ud7ffb", "U+D7FF (0xED, not a surrogate)", '\'' },
	};
	enum { CAP = 100100 };
	char *in = malloc(CAP), *dump = malloc(CAP), *bare = malloc(CAP), *quoted = malloc(CAP);
	char what[160], want[160], q[2] = "";
	size_t i, k;

	if (in == NULL || dump == NULL || bare == NULL || quoted == NULL)
		abort();
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		size_t n = lens[i];

		for (k = 0; k < sizeof ends / sizeof ends[0]; k++) {
			char tail[32];

			snprintf(tail, sizeof tail, "%s\"", ends[k].in);
			with_run(in, CAP, "\"", n, tail);
			snprintf(tail, sizeof tail, "%s\"", ends[k].dump);
			with_run(dump, CAP, "\"", n, tail);
			with_run(bare, CAP, "", n, ends[k].bare);
			q[0] = ends[k].quote;
			snprintf(tail, sizeof tail, "%s%s", ends[k].quoted, q);
			with_run(quoted, CAP, q, n, tail);
			snprintf(what, sizeof what, "runs: %zu ASCII bytes, then %s", n,
			         ends[k].name);
			check_n(in, strlen(in), dump, bare, quoted, what);
		}
		/* Errors right after a run, with their offsets. */
		with_run(in, CAP, "\"", n, "\xff\"");
		snprintf(want, sizeof want, "invalid UTF-8 at byte %zu", n + 1);
		snprintf(what, sizeof what, "runs: %zu ASCII bytes, then an invalid byte", n);
		check_err(in, strlen(in), want, what);
		with_run(in, CAP, "\"", n, "\xc3");
		snprintf(what, sizeof what, "runs: %zu ASCII bytes, then a sequence cut by the end",
		         n);
		check_err(in, strlen(in), want, what);
		with_run(in, CAP, "\"", n, "\xed\xa0\x80\"");
		snprintf(what, sizeof what, "runs: %zu ASCII bytes, then a UTF-8 surrogate", n);
		check_err(in, strlen(in), want, what);
		with_run(in, CAP, "\"", n, "\x1f\"");
		snprintf(want, sizeof want,
		         "invalid JSON at byte %zu: control character 0x1f in a string", n + 1);
		snprintf(what, sizeof what, "runs: %zu ASCII bytes, then a raw control", n);
		check_err(in, strlen(in), want, what);
		with_run(in, CAP, "\"", n, "");
		snprintf(what, sizeof what, "runs: %zu ASCII bytes, then the end", n);
		check_err(in, strlen(in), "invalid JSON at byte 0: unterminated string", what);
		with_run(in, CAP, "\"", n, "\\");
		snprintf(what, sizeof what, "runs: %zu ASCII bytes, then a backslash at the end",
		         n);
		check_err(in, strlen(in), "invalid JSON at byte 0: unterminated string", what);
		/* Outside a string, the invalid UTF-8 is still the error. */
		with_run(in, CAP, "[\"", n, "\"] \xe2\x82");
		snprintf(want, sizeof want, "invalid UTF-8 at byte %zu", n + 5);
		snprintf(what, sizeof what,
		         "runs: %zu ASCII bytes, then a cut sequence after the value", n);
		check_err(in, strlen(in), want, what);
	}
	/* (A low surrogate, then a high one: two lone ones, not a pair.) */
	check_n("\"a\\ud7ff\\udfff\\ud800\\ue000b\"", 28, "\"a\\ud7ff\\udfff\\ud800\\ue000b\"",
	        "a\xed\x9f\xbf\\udfff\\ud800\xee\x80\x80"
	        "b",
	        "'a\\ud7ff\\udfff\\ud800\\ue000b'",
	        "print: only surrogates among the 0xED sequences are escaped");
	check_n("\"\\ud800\\ud800\"", 14, NULL, "\\ud800\\ud800", NULL,
	        "print: two lone surrogates in a row");
	check_n("\"\\udfff\"", 8, NULL, "\\udfff", NULL, "print: a lone surrogate alone");
	check("\"\"", 1, "", "print: the empty string, NUL-terminated as every buffer is");
	free(in);
	free(dump);
	free(bare);
	free(quoted);
}

/* Float literals that one multiplication or division reads exactly, and
 * ones that need strtod; floats whose repr has at most 15 digits, and ones
 * that need 16 or 17 (expected: CPython 3.11's json.dumps). */
static void test_float_paths(void)
{
	check("[1e23, 0.30000000000000004, 9007199254740993.0, 1e-08, 1.5e-8, 123456.789, 1e22, "
	      "100000000000000000000000.0, 0.1e1, 12.5E-1, -0.0e5, 1.7976931348623157e308, "
	      "2.2250738585072014e-308, 4.9e-324, 123456789012345.6, 0.000123456789012345]",
	      0,
	      "[1e+23, 0.30000000000000004, 9007199254740992.0, 1e-08, 1.5e-08, 123456.789, "
	      "1e+22, 1e+23, 1.0, 1.25, -0.0, 1.7976931348623157e+308, 2.2250738585072014e-308, "
	      "5e-324, 123456789012345.6, 0.000123456789012345]",
	      "floats: the fast paths and the slow ones agree with Python");
	check_float(0x3fd5555555555555, "0.3333333333333333");
	check_float(0x3fb999999999999a, "0.1");
	check_float(0x4415af1d78b58c40, "1e+20");
	check_float(0x3e45798ee2308c3a, "1e-08");
	check_float(0x42d6bcc41e8ffffc, "99999999999999.94");
	/* Duplicate keys in an object small enough for the pairwise check (16
	 * pairs), and in one that takes the sort (17). */
	check("{\"k0\": 0, \"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, \"k6\": 6, "
	      "\"k7\": 7, \"k8\": 8, \"k9\": 9, \"k10\": 10, \"k11\": 11, \"k12\": 12, "
	      "\"k13\": 13, \"k14\": 14, \"k14\": 99}",
	      0,
	      "{\"k0\": 0, \"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, \"k6\": 6, "
	      "\"k7\": 7, \"k8\": 8, \"k9\": 9, \"k10\": 10, \"k11\": 11, \"k12\": 12, "
	      "\"k13\": 13, \"k14\": 99}",
	      "dump: a duplicate key among 16 pairs");
	check("{\"k0\": 0, \"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": 5, \"k6\": 6, "
	      "\"k7\": 7, \"k8\": 8, \"k9\": 9, \"k10\": 10, \"k11\": 11, \"k12\": 12, "
	      "\"k13\": 13, \"k14\": 14, \"k15\": 15, \"k3\": 99}",
	      0,
	      "{\"k0\": 0, \"k1\": 1, \"k2\": 2, \"k3\": 99, \"k4\": 4, \"k5\": 5, \"k6\": 6, "
	      "\"k7\": 7, \"k8\": 8, \"k9\": 9, \"k10\": 10, \"k11\": 11, \"k12\": 12, "
	      "\"k13\": 13, \"k14\": 14, \"k15\": 15}",
	      "dump: a duplicate key among 17 pairs");
}

/* b's bytes and a newline on stdout; 0 or -1. */
static int put_line(const struct json_buf *b)
{
	if (fwrite(b->data, 1, b->len, stdout) != b->len || putchar('\n') == EOF)
		return -1;
	return 0;
}

/* All of stdin, or NULL. */
static char *read_all(size_t *n)
{
	size_t cap = 1 << 16, got;
	char *buf = malloc(cap), *more;

	*n = 0;
	while (buf != NULL && (got = fread(buf + *n, 1, cap - *n, stdin)) > 0) {
		*n += got;
		if (*n == cap) {
			more = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
			if (more == NULL)
				free(buf);
			buf = more;
			cap *= 2;
		}
	}
	if (buf != NULL && ferror(stdin)) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

static int filter(const char *mode)
{
	char err[256];
	size_t n;
	char *text = read_all(&n);
	struct json *v;
	struct json_buf b = JSON_BUF_INIT;
	int rc;

	if (text == NULL) {
		fprintf(stderr, "test_json: cannot read stdin: %s\n", strerror(errno));
		return 1;
	}
	v = json_parse(text, n, err, sizeof err);
	free(text);
	if (v == NULL) {
		fprintf(stderr, "test_json: %s\n", err);
		return 1;
	}
	rc = strcmp(mode, "dump") == 0 ? json_dump(v, &b) : json_repr(v, &b, 1);
	json_free(v);
	if (rc != 0 || put_line(&b) != 0 || fflush(stdout) == EOF) {
		fprintf(stderr, "test_json: %s\n", strerror(errno));
		json_buf_free(&b);
		return 1;
	}
	json_buf_free(&b);
	return 0;
}

static int float_filter(void)
{
	char line[64], *end;
	struct json v = { .type = JSON_FLOAT };
	struct json_buf b = JSON_BUF_INIT;
	uint64_t bits;
	int rc = 0;

	while (rc == 0 && fgets(line, sizeof line, stdin) != NULL) {
		bits = strtoull(line, &end, 16);
		if (strspn(line, "0123456789abcdefABCDEF") != 16 || end != line + 16 ||
		    (*end != '\n' && *end != '\0')) {
			line[strcspn(line, "\n")] = '\0';
			fprintf(stderr, "test_json: not 16 hex digits: %.20s\n", line);
			rc = 1;
			break;
		}
		memcpy(&v.num, &bits, sizeof v.num);
		b.len = 0;
		if (json_repr(&v, &b, 1) != 0 || put_line(&b) != 0) {
			fprintf(stderr, "test_json: %s\n", strerror(errno));
			rc = 1;
		}
	}
	json_buf_free(&b);
	if (fflush(stdout) == EOF)
		rc = 1;
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "dump") == 0 || strcmp(argv[1], "repr") == 0))
		return filter(argv[1]);
	if (argc > 1 && strcmp(argv[1], "float") == 0)
		return float_filter();
	if (argc > 1) {
		fprintf(stderr, "usage: test_json [dump|repr|float]\n");
		return 2;
	}
	test_floats();
	test_values();
	test_errors();
	test_runs();
	test_float_paths();
	printf("1..%d\n", tests);
	printf("%d passed, %d failed\n", tests - failures, failures);
	return failures == 0 ? 0 : 1;
}
