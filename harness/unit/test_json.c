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
	printf("1..%d\n", tests);
	printf("%d passed, %d failed\n", tests - failures, failures);
	return failures == 0 ? 0 : 1;
}
