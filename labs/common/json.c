/* json.c - json.loads, json.dumps and str() as CPython 3.11 does them, byte for byte.
 *
 * The parser is a loop over an explicit stack of open containers, so that no
 * input can overflow the C stack, and it allocates the tree from an arena
 * whose size is a constant times the input's: every node and every byte of
 * text comes from input bytes that were read.  The writers recurse, but only
 * as deep as a tree json_parse accepts (JSON_MAX_DEPTH).
 */
#include "json.h"
#include "lab.h"
#include "json_printable.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the arena ------------------------------------------------------------ */

enum {
	CHUNK_MIN = 1024,             /* the least first chunk: small documents stay small */
	CHUNK_MAX = 1 << 20,          /* later chunks double up to this (or past a larger first) */
	FIRST_MAX = 16 << 20,         /* the most json_parse asks for at once at the start */
	TREE_PER_BYTE = 4,            /* a typical tree's bytes per byte of its text */
	ALIGN = _Alignof(struct json) /* nodes, and arrays of pointers to them */
};

/* Nodes and pointer arrays are taken from a chunk's bottom, aligned; text
 * from its top, unaligned, so that "0" costs 2 bytes and not 8. */
struct chunk {
	struct chunk *next;
	size_t lo, hi; /* data[lo..hi) is free */
	unsigned char *data;
};

/* What json_parse returns a pointer into: the root's node, and the chunks
 * that hold everything below it, so that json_free(root) finds them all. */
struct doc {
	struct chunk *chunks;
	struct json root;
};

struct parser {
	const unsigned char *s;
	size_t len, pos;
	struct chunk *chunks;  /* the first is the one being filled */
	size_t next_cap;       /* size of the next ordinary chunk */
	struct json **pend;    /* finished values of the open containers, in order */
	size_t npend, cappend; /* (an object's are key, value, key, value ...) */
	char *scratch;         /* the string or number being decoded */
	size_t nscratch, capscratch;
	char *err;
	size_t errlen;
};

static void chunks_free(struct chunk *c)
{
	while (c != NULL) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

/* n bytes from the arena, aligned for a node or pointers unless bytes. */
static void *arena_alloc(struct parser *p, size_t n, int bytes)
{
	struct chunk *c = p->chunks;
	size_t cap, lo;

	if (n > SIZE_MAX / 2)
		return NULL;
	if (!bytes)
		n = (n + ALIGN - 1) / ALIGN * ALIGN;
	if (c == NULL || c->hi - c->lo < n) {
		/* A large block gets a chunk of its own, behind the current one, so
		 * that the space left in the current chunk is not wasted. */
		int own = n > p->next_cap / 4;

		cap = own ? n : p->next_cap;
		if (cap > SIZE_MAX - sizeof *c - ALIGN)
			return NULL;
		c = malloc(sizeof *c + ALIGN + cap);
		if (c == NULL)
			return NULL;
		c->data = (unsigned char *)c + (sizeof *c + ALIGN - 1) / ALIGN * ALIGN;
		c->lo = 0;
		c->hi = cap;
		if (own && p->chunks != NULL) {
			c->next = p->chunks->next;
			p->chunks->next = c;
		} else {
			c->next = p->chunks;
			p->chunks = c;
			if (p->next_cap < CHUNK_MAX)
				p->next_cap *= 2;
		}
	}
	if (bytes) {
		c->hi -= n;
		return c->data + c->hi;
	}
	/* lo is kept aligned: every block taken from the bottom is rounded up. */
	lo = c->lo;
	c->lo += n;
	return c->data + lo;
}

/* ---- errors --------------------------------------------------------------- */

/* Leave "invalid JSON at byte OFFSET: REASON" in the caller's buffer (just
 * REASON if offset is SIZE_MAX); returns NULL for the caller to return. */
static void *fail(struct parser *p, size_t offset, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (p->err == NULL || p->errlen == 0)
		return NULL;
	if (offset != SIZE_MAX)
		n = snprintf(p->err, p->errlen, "invalid JSON at byte %zu: ", offset);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above. */
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

static void *fail_oom(struct parser *p)
{
	errno = ENOMEM;
	return fail(p, SIZE_MAX, "out of memory");
}

/* ---- UTF-8 ---------------------------------------------------------------- */

/* utf8_len: lab_utf8_len from the course library (text.c), which printing
 * as backslashreplace uses too: one definition of well-formed UTF-8. */
#define utf8_len lab_utf8_len

/* ---- runs of plain bytes ------------------------------------------------------ */

/* Most of a string is plain ASCII that every reader and writer here copies
 * as it is, so each of them first measures how many bytes it can copy in one
 * memcpy, and does the per-code-point work only where that run stops.  What
 * stops a run depends on who reads it, one bit each in this table:
 *
 *   PARSE  json_parse: '"' (the end), '\\' (an escape), controls (an error);
 *          bytes >= 0x80 are copied, since the input is valid UTF-8
 *   DUMP   json.dumps: '"', '\\', controls, DEL and every byte >= 0x80
 *          (ensure_ascii escapes all code points outside 0x20..0x7E)
 *   REPR   repr(str): as DUMP, and '\'' too (either quote may be the one
 *          escaped; the other is copied by the slow path)
 *
 * A table lookup per byte is cheaper than strchr or a chain of tests, and
 * plain_run below tests whole blocks of bytes at once where it can. */
enum { PARSE = 1, DUMP = 2, REPR = 4, ALL = PARSE | DUMP | REPR };
#define ROW(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
/* One line per 16 bytes: */
/* clang-format off */
static const unsigned char stops[256] = {
	ROW(ALL),                                                 /* 0x00..0x0f: controls */
	ROW(ALL),                                                 /* 0x10..0x1f: controls */
	0, 0, ALL, 0, 0, 0, 0, REPR, 0, 0, 0, 0, 0, 0, 0, 0,      /* 0x20..0x2f: '"' and '\'' */
	ROW(0),                                                   /* 0x30..0x3f */
	ROW(0),                                                   /* 0x40..0x4f */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ALL, 0, 0, 0,         /* 0x50..0x5f: '\\' */
	ROW(0),                                                   /* 0x60..0x6f */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, DUMP | REPR, /* 0x70..0x7f: DEL */
	ROW(DUMP | REPR), ROW(DUMP | REPR), ROW(DUMP | REPR), ROW(DUMP | REPR), /* 0x80..0xbf */
	ROW(DUMP | REPR), ROW(DUMP | REPR), ROW(DUMP | REPR), ROW(DUMP | REPR), /* 0xc0..0xff */
};
/* clang-format on */
#undef ROW

/* Bytes are tested a block at a time first.  The loops over a block have
 * a fixed length and no early exit, so that gcc and clang (at -O2) turn
 * each into a few vector instructions that test 16 or 32 bytes at once;
 * only a block that holds a stop is then walked byte by byte. */
enum { BLOCK = 64 };

/* Whether one of the BLOCK bytes at s has one of the bits `stop` in
 * stops[]: the same sets of bytes, as comparisons (a table lookup per byte
 * would not vectorize). */
static inline int block_stops(const unsigned char *s, unsigned stop)
{
	/* unsigned char throughout: one vector lane per byte, no widening */
	unsigned char dump = (stop & (DUMP | REPR)) != 0, repr = (stop & REPR) != 0, hit = 0;
	int k;

	for (k = 0; k < BLOCK; k++) {
		unsigned char c = s[k];

		hit |= (unsigned char)((c < 0x20) | (c == '"') | (c == '\\') |
		                       (dump & (c >= 0x7F)) | (repr & (c == '\'')));
	}
	return hit != 0;
}

/* How many bytes at the start of s[0..n) have none of the bits `stop`.
 * inline: every caller passes a constant `stop`, and in each copy the
 * compiler drops the tests that this constant rules out. */
static inline size_t plain_run(const unsigned char *s, size_t n, unsigned stop)
{
	size_t i = 0;

	while (n - i >= BLOCK && !block_stops(s + i, stop))
		i += BLOCK;
	while (i < n && !(stops[s[i]] & stop))
		i++;
	return i;
}

/* How many bytes at the start of s[0..n) are ASCII (< 0x80). */
static size_t ascii_run(const unsigned char *s, size_t n)
{
	size_t i = 0;

	for (; n - i >= BLOCK; i += BLOCK) {
		unsigned char any = 0; /* the bits set in some byte of the block */
		int k;

		for (k = 0; k < BLOCK; k++)
			any |= s[i + k];
		if (any & 0x80)
			break;
	}
	while (i < n && s[i] < 0x80)
		i++;
	return i;
}

/* Write code point c (surrogates included: WTF-8) at out; returns the length. */
static size_t wtf8_put(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3F));
	out[2] = (char)(0x80 | (c >> 6 & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* Decode the code point at s[0..n), which json_parse wrote as WTF-8; *len
 * gets its length.  A truncated sequence (a hand-made tree) decodes to its
 * first byte's value rather than reading past the end. */
static uint32_t wtf8_get(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t c = s[0];
	size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1, i;

	if (k > n)
		k = 1;
	*len = k;
	if (k == 1)
		return c;
	c &= 0x3Fu >> (k - 1);
	for (i = 1; i < k; i++)
		c = c << 6 | (s[i] & 0x3Fu);
	return c;
}

/* ---- parsing -------------------------------------------------------------- */

static int is_ws(unsigned char c)
{
	/* Python's json: exactly these four, not \f or \v. */
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && is_ws(p->s[p->pos]))
		p->pos++;
}

static int at(struct parser *p, unsigned char c)
{
	return p->pos < p->len && p->s[p->pos] == c;
}

static int grow(void **buf, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap < 64 ? 64 : *cap;
	void *mem;

	while (n < need) {
		if (n > SIZE_MAX / 2 / size)
			return -1;
		n *= 2;
	}
	if (n == *cap)
		return 0;
	mem = realloc(*buf, n * size);
	if (mem == NULL)
		return -1;
	*buf = mem;
	*cap = n;
	return 0;
}

static int scratch_put(struct parser *p, const void *data, size_t n)
{
	void *buf = p->scratch;

	if (p->capscratch - p->nscratch <= n &&
	    grow(&buf, &p->capscratch, p->nscratch + n + 1, 1) != 0)
		return -1;
	p->scratch = buf;
	memcpy(p->scratch + p->nscratch, data, n);
	p->nscratch += n;
	return 0;
}

static int push(struct parser *p, struct json *v)
{
	void *buf = p->pend;

	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	if (p->npend == p->cappend && grow(&buf, &p->cappend, p->npend + 1, sizeof v) != 0)
		return -1;
	p->pend = buf;
	p->pend[p->npend++] = v;
	return 0;
}

static struct json *new_node(struct parser *p, enum json_type type)
{
	struct json *v = arena_alloc(p, sizeof *v, 0);

	if (v == NULL)
		return fail_oom(p);
	memset(v, 0, sizeof *v);
	v->type = type;
	return v;
}

/* A node whose text is a copy of data[0..n), NUL-terminated. */
static struct json *text_node(struct parser *p, enum json_type type, const void *data, size_t n)
{
	struct json *v = new_node(p, type);
	char *text;

	if (v == NULL)
		return NULL;
	if ((text = arena_alloc(p, n + 1, 1)) == NULL)
		return fail_oom(p);
	memcpy(text, data, n);
	text[n] = '\0';
	v->str = text;
	v->len = n;
	return v;
}

/* Four hex digits at s[i..], or -1. */
static long hex4(struct parser *p, size_t i)
{
	long c = 0;
	size_t k;

	if (p->len - i < 4)
		return -1;
	for (k = i; k < i + 4; k++) {
		unsigned char d = p->s[k];

		if (is_digit(d))
			c = c << 4 | (d - '0');
		else if (d >= 'a' && d <= 'f')
			c = c << 4 | (d - 'a' + 10);
		else if (d >= 'A' && d <= 'F')
			c = c << 4 | (d - 'A' + 10);
		else
			return -1;
	}
	return c;
}

/* The character that the escape \e stands for, or 0 if e is not one of
 * the one-letter escapes (\u is not). */
static char simple_escape(unsigned char e)
{
	switch (e) {
	case '"':
	case '\\':
	case '/':
		return (char)e;
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return 0;
	}
}

/* The string whose opening quote is at p->pos. */
static struct json *parse_string(struct parser *p)
{
	size_t start = p->pos++, run;
	char enc[4];

	p->nscratch = 0;
	for (;;) {
		/* Copy a run of ordinary bytes at once; the input is valid UTF-8
		 * already, so multi-byte sequences are copied as they are. */
		run = p->pos + plain_run(p->s + p->pos, p->len - p->pos, PARSE);
		if (run < p->len && p->s[run] == '"' && p->nscratch == 0) {
			/* No escape in the whole string (the usual case): its text is
			 * the input's bytes, copied once, straight into the tree. */
			struct json *v = text_node(p, JSON_STRING, p->s + p->pos, run - p->pos);

			p->pos = run + 1;
			return v;
		}
		if (scratch_put(p, p->s + p->pos, run - p->pos) != 0)
			return fail_oom(p);
		p->pos = run;
		if (p->pos >= p->len)
			return fail(p, start, "unterminated string");
		unsigned char c = p->s[p->pos];
		if (c == '"') {
			p->pos++;
			return text_node(p, JSON_STRING, p->scratch, p->nscratch);
		}
		if (c < 0x20)
			return fail(p, p->pos, "control character 0x%02x in a string", c);
		/* A backslash. */
		if (p->pos + 1 >= p->len)
			return fail(p, start, "unterminated string");
		if ((enc[0] = simple_escape(p->s[p->pos + 1])) != 0) {
			if (scratch_put(p, enc, 1) != 0)
				return fail_oom(p);
			p->pos += 2;
			continue;
		}
		if (p->s[p->pos + 1] != 'u')
			return fail(p, p->pos, "invalid escape");
		long u = hex4(p, p->pos + 2), lo;
		if (u < 0)
			return fail(p, p->pos, "invalid \\uXXXX escape");
		p->pos += 6;
		/* A high surrogate escape followed by a low one is one code point;
		 * any other surrogate stays as it is, as in Python. */
		if (u >= 0xD800 && u <= 0xDBFF && p->len - p->pos >= 6 && p->s[p->pos] == '\\' &&
		    p->s[p->pos + 1] == 'u' && (lo = hex4(p, p->pos + 2)) >= 0xDC00 &&
		    lo <= 0xDFFF) {
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			p->pos += 6;
		}
		if (scratch_put(p, enc, wtf8_put((uint32_t)u, enc)) != 0)
			return fail_oom(p);
	}
}

/* 10^0 .. 10^22: each is exact in a double (10^22 = 2^22 x 5^22, and 5^22
 * needs 52 bits), and the compiler converts these literals exactly. */
static const double pow10_exact[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                              1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	                              1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* Set *out to the double nearest to m x 10^q and return 1, if that can be
 * done exactly with one operation; otherwise return 0 (use strtod).
 *
 * Clinger's fast path: if m <= 2^53 and |q| <= 22, both m and 10^|q| are
 * exact doubles, and IEEE multiplication and division round their exact
 * result correctly, so m * 10^q (or m / 10^-q) is the correctly rounded
 * value: the very double strtod returns, since strtod rounds correctly too.
 * That needs double arithmetic done in double precision, which
 * FLT_EVAL_METHOD 0 promises (x86-64, ARM64; not the old x87 FPU). */
static int exact_decimal(uint64_t m, long q, double *out)
{
#if FLT_EVAL_METHOD == 0
	if (m > UINT64_C(1) << 53 || q < -22 || q > 22)
		return 0;
	*out = q >= 0 ? (double)m * pow10_exact[q] : (double)m / pow10_exact[-q];
	return 1;
#else
	(void)m;
	(void)q;
	(void)out;
	return 0;
#endif
}

/* The float literal s[0..n), which parse_number has checked against the
 * grammar, by exact_decimal when it can (most literals people write: 1.5,
 * 0.1, 2.5e-3); 0 if strtod must read it. */
static int float_fast(const unsigned char *s, size_t n, double *out)
{
	uint64_t m = 0; /* the digits, without the point */
	long q = 0, e = 0;
	size_t i = 0;
	int neg = s[0] == '-', frac = 0, eneg = 0;

	for (i = (size_t)neg; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.') {
			frac = 1;
			continue;
		}
		if (m > (UINT64_MAX - 9) / 10)
			return 0; /* more digits than a uint64_t holds: strtod */
		m = m * 10 + (uint64_t)(s[i] - '0');
		q -= frac; /* each digit after the point divides by 10 */
	}
	if (i < n) { /* the exponent */
		i++;
		if (s[i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < n; i++)
			if ((e = e * 10 + (s[i] - '0')) > 1000)
				return 0; /* far outside the fast path's range anyway */
		q += eneg ? -e : e;
	}
	if (!exact_decimal(m, q, out))
		return 0;
	if (neg)
		*out = -*out; /* -0.0 stays negative, as strtod gives it */
	return 1;
}

/* The number at p->pos, with Python's grammar: -?(0|[1-9][0-9]*), then a
 * fraction only if a digit follows the '.', an exponent only if a digit
 * follows the 'e' and its sign (otherwise the number ends before them, and
 * what follows is an error of the enclosing structure, as in Python). */
static struct json *parse_number(struct parser *p)
{
	const unsigned char *s = p->s;
	size_t start = p->pos, i = p->pos, digits;
	int is_float = 0;
	struct json *v;

	if (s[i] == '-')
		i++;
	if (i < p->len && s[i] == '0') {
		i++;
	} else if (i < p->len && is_digit(s[i])) {
		while (i < p->len && is_digit(s[i]))
			i++;
	} else {
		return fail(p, start, "expected a value");
	}
	digits = i - start - (s[start] == '-');
	if (i + 1 < p->len && s[i] == '.' && is_digit(s[i + 1])) {
		is_float = 1;
		for (i++; i < p->len && is_digit(s[i]); i++)
			;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;

		if (j < p->len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < p->len && is_digit(s[j])) {
			is_float = 1;
			for (i = j; i < p->len && is_digit(s[i]); i++)
				;
		}
	}
	p->pos = i;
	p->nscratch = 0;
	if (!is_float) {
		if (digits > JSON_MAX_INT_DIGITS)
			return fail(p, start, "integer of %zu digits (Python's limit is %d)",
			            digits, JSON_MAX_INT_DIGITS);
		/* int("-0") is 0 */
		if (i - start == 2 && s[start] == '-' && s[start + 1] == '0')
			start++;
		return text_node(p, JSON_INT, s + start, i - start);
	}
	if ((v = new_node(p, JSON_FLOAT)) == NULL)
		return NULL;
	if (float_fast(s + start, i - start, &v->num))
		return v;
	/* strtod rounds correctly, as Python's float() does: 1e400 is inf,
	 * 1e-400 is 0.0, and its ERANGE means nothing more. */
	char *end;
	if (scratch_put(p, s + start, i - start) != 0 || scratch_put(p, "", 1) != 0)
		return fail_oom(p);
	v->num = strtod(p->scratch, &end);
	if (end != p->scratch + (i - start))
		return fail(p, start, "strtod stopped early (is LC_NUMERIC not \"C\"?)");
	return v;
}

static struct json *parse_scalar(struct parser *p)
{
	static const struct {
		const char *word;
		enum json_type type;
		double num;
	} words[] = {
		{ "null", JSON_NULL, 0 },
		{ "true", JSON_TRUE, 0 },
		{ "false", JSON_FALSE, 0 },
		{ "NaN", JSON_FLOAT, NAN },
		{ "Infinity", JSON_FLOAT, INFINITY },
		{ "-Infinity", JSON_FLOAT, -INFINITY },
	};
	size_t k, n;

	if (p->pos >= p->len)
		return fail(p, p->pos, "expected a value, found the end");
	if (p->s[p->pos] == '"')
		return parse_string(p);
	for (k = 0; k < sizeof words / sizeof words[0]; k++) {
		n = strlen(words[k].word);
		if (p->len - p->pos >= n && memcmp(p->s + p->pos, words[k].word, n) == 0) {
			struct json *v = new_node(p, words[k].type);

			if (v != NULL)
				v->num = words[k].num;
			p->pos += n;
			return v;
		}
	}
	if (p->s[p->pos] == '-' || is_digit(p->s[p->pos]))
		return parse_number(p);
	return fail(p, p->pos, "expected a value");
}

/* An object's key and its ':' at p->pos, onto the pending stack. */
static int parse_key(struct parser *p)
{
	struct json *key;

	if (!at(p, '"')) {
		fail(p, p->pos, "expected a string key");
		return -1;
	}
	if ((key = parse_string(p)) == NULL)
		return -1;
	if (push(p, key) != 0) {
		fail_oom(p);
		return -1;
	}
	skip_ws(p);
	if (!at(p, ':')) {
		fail(p, p->pos, "expected ':'");
		return -1;
	}
	p->pos++;
	skip_ws(p);
	return 0;
}

struct keyref {
	const struct json *key;
	size_t pair;
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	size_t n = x->key->len < y->key->len ? x->key->len : y->key->len;
	int c = memcmp(x->key->str, y->key->str, n);

	if (c != 0)
		return c;
	if (x->key->len != y->key->len)
		return x->key->len < y->key->len ? -1 : 1;
	return x->pair < y->pair ? -1 : x->pair > y->pair;
}

enum { SMALL_OBJECT = 16 }; /* at most 120 key comparisons */

/* Merge duplicate keys among n pairs at kv as a dict does: the first key's
 * position, the last key's value.  Sorting by (key, position) finds them in
 * O(n log n), where comparing every pair would let a large object with many
 * keys take quadratic time.  *np becomes the number of pairs left; -1 if
 * out of memory. */
static int dedupe(struct json **kv, size_t *np)
{
	struct keyref *refs;
	size_t n = *np, i, j, out;

	if (n < 2)
		return 0;
	/* A small object with no duplicate (the usual case) is checked pair by
	 * pair: cheaper, for a few keys, than an allocation and a sort. */
	if (n <= SMALL_OBJECT) {
		for (i = 1; i < n; i++)
			for (j = 0; j < i; j++)
				if (kv[2 * i]->len == kv[2 * j]->len &&
				    memcmp(kv[2 * i]->str, kv[2 * j]->str, kv[2 * i]->len) == 0)
					goto sort; /* a duplicate: merge them below */
		return 0;
	}
sort:
	if ((refs = malloc(n * sizeof *refs)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		refs[i].key = kv[2 * i];
		refs[i].pair = i;
	}
	qsort(refs, n, sizeof *refs, keyref_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && refs[j].key->len == refs[i].key->len &&
		                memcmp(refs[j].key->str, refs[i].key->str, refs[i].key->len) == 0;
		     j++)
			kv[2 * refs[j].pair] = NULL; /* a later duplicate: dropped */
		kv[2 * refs[i].pair + 1] = kv[2 * refs[j - 1].pair + 1];
	}
	free(refs);
	for (i = out = 0; i < n; i++) {
		if (kv[2 * i] == NULL)
			continue;
		kv[2 * out] = kv[2 * i];
		kv[2 * out + 1] = kv[2 * i + 1];
		out++;
	}
	*np = out;
	return 0;
}

/* Close the container whose values start at pend[start]. */
static struct json *close_container(struct parser *p, enum json_type type, size_t start)
{
	struct json *v = new_node(p, type);
	size_t n = p->npend - start;

	if (v == NULL)
		return NULL;
	if (type == JSON_OBJECT) {
		v->len = n / 2;
		if (v->len > 1 && dedupe(p->pend + start, &v->len) != 0)
			return fail_oom(p);
		n = 2 * v->len;
	} else {
		v->len = n;
	}
	if (n > 0) {
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): items holds pointers */
		if ((v->items = arena_alloc(p, n * sizeof *v->items, 0)) == NULL)
			return fail_oom(p);
		/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
		memcpy(v->items, p->pend + start, n * sizeof *v->items);
	}
	p->npend = start;
	return v;
}

static struct json *parse(struct parser *p)
{
	struct {
		enum json_type type;
		size_t start; /* its first value's index in pend */
	} open[JSON_MAX_DEPTH];
	size_t depth = 0;
	struct json *v;

	skip_ws(p);
value:
	/* A value starts at p->pos. */
	if (at(p, '[') || at(p, '{')) {
		enum json_type type = p->s[p->pos] == '[' ? JSON_ARRAY : JSON_OBJECT;

		if (depth == JSON_MAX_DEPTH)
			return fail(p, p->pos, "nested deeper than %d", JSON_MAX_DEPTH);
		open[depth].type = type;
		open[depth].start = p->npend;
		depth++;
		p->pos++;
		skip_ws(p);
		if (at(p, type == JSON_ARRAY ? ']' : '}')) {
			p->pos++;
			depth--;
			if ((v = close_container(p, type, p->npend)) == NULL)
				return NULL;
			goto done;
		}
		if (type == JSON_OBJECT && parse_key(p) != 0)
			return NULL;
		goto value;
	}
	if ((v = parse_scalar(p)) == NULL)
		return NULL;
done:
	/* v is complete: it is the document, or the next value of open[depth - 1]. */
	while (depth > 0) {
		enum json_type type = open[depth - 1].type;
		char close = type == JSON_ARRAY ? ']' : '}';

		if (push(p, v) != 0)
			return fail_oom(p);
		skip_ws(p);
		if (at(p, ',')) {
			p->pos++;
			skip_ws(p);
			if (type == JSON_OBJECT && parse_key(p) != 0)
				return NULL;
			goto value;
		}
		if (!at(p, close))
			return fail(p, p->pos, "expected ',' or '%c'", close);
		p->pos++;
		depth--;
		if ((v = close_container(p, type, open[depth].start)) == NULL)
			return NULL;
	}
	skip_ws(p);
	if (p->pos != p->len)
		return fail(p, p->pos, "extra data after the value");
	return v;
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser p;
	struct doc *doc;
	struct json *v;
	size_t i, n;

	memset(&p, 0, sizeof p);
	p.s = (const unsigned char *)text;
	p.len = len;
	p.err = err;
	p.errlen = errlen;
	/* Size the first chunk for a typical document of len bytes (the
	 * benchmark's records take 3.5 times their text), so that most trees
	 * fit in one chunk: one malloc, not ten, and one block that malloc can
	 * hand to the next parse as it is.  Many small chunks freed together
	 * go back to the kernel and return as fresh pages, a page fault for
	 * each 4 kB, every parse.  Pages of the chunk that the tree does not
	 * use are never touched: they take address space, not memory. */
	p.next_cap = len < FIRST_MAX / TREE_PER_BYTE ? len * TREE_PER_BYTE : FIRST_MAX;
	if (p.next_cap < CHUNK_MIN)
		p.next_cap = CHUNK_MIN;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* Python decodes the whole input before it parses, so invalid UTF-8
	 * anywhere is the error, whatever the JSON. */
	for (i = 0; i < len; i += n) {
		i += ascii_run(p.s + i, len - i); /* ASCII needs no check */
		if (i == len)
			break;
		if ((n = utf8_len(p.s + i, len - i)) == 0)
			return fail(&p, SIZE_MAX, "invalid UTF-8 at byte %zu", i);
	}
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		return fail(&p, 0, "a UTF-8 BOM (Python's json refuses it)");
	if ((doc = malloc(sizeof *doc)) == NULL)
		return fail_oom(&p);
	v = parse(&p);
	free(p.pend);
	free(p.scratch);
	if (v == NULL) {
		chunks_free(p.chunks);
		free(doc);
		return NULL;
	}
	doc->chunks = p.chunks;
	doc->root = *v;
	return &doc->root;
}

void json_free(struct json *root)
{
	struct doc *doc;

	if (root == NULL)
		return;
	doc = (struct doc *)(void *)((char *)root - offsetof(struct doc, root));
	chunks_free(doc->chunks);
	free(doc);
}

/* ---- output buffer -------------------------------------------------------- */

/* Room for n more bytes and a NUL. */
static int reserve(struct json_buf *b, size_t n)
{
	void *buf = b->data;

	if (n >= SIZE_MAX - b->len) {
		errno = ENOMEM;
		return -1;
	}
	if (b->cap - b->len > n)
		return 0;
	if (grow(&buf, &b->cap, b->len + n + 1, 1) != 0) {
		errno = ENOMEM;
		return -1;
	}
	b->data = buf;
	return 0;
}

static int put(struct json_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) != 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int puts_(struct json_buf *b, const char *s)
{
	return put(b, s, strlen(s));
}

void json_buf_free(struct json_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ---- floats as repr() ------------------------------------------------------- */

enum { MAXDIG = 17 }; /* 17 significant digits always round-trip a double */

/* The double nearest to the decimal d1.d2...dp x 10^e (digits[0..p)). */
static double decimal(const char *digits, int p, int e)
{
	char text[MAXDIG + 16];
	uint64_t m = 0;
	double x;
	int k;

	for (k = 0; k < p; k++) /* p <= 17 digits: at most 10^17, well inside 64 bits */
		m = m * 10 + (uint64_t)(digits[k] - '0');
	if (exact_decimal(m, (long)e - p + 1, &x))
		return x; /* the double strtod would return, without the text */
	/* Written as an integer and an exponent, with no decimal point, so that
	 * strtod does not depend on the locale's. */
	snprintf(text, sizeof text, "%.*se%d", p, digits, e - p + 1);
	return strtod(text, NULL);
}

/* Is there a p-digit decimal that reads back as x (x finite and > 0)?  If
 * so, return 1 with the one nearest to x in digits[0..p) and e, as
 * decimal() takes them.
 *
 * snprintf's correctly rounded p digits are the nearest p-digit decimal to
 * x.  The decimals that read back as x form an interval around x, so if
 * that one is outside it, nothing further on its side is inside, and the
 * only candidate left is the nearest on the other side of x: one unit in
 * the last digit away.  The naive search (the rounded digits or nothing)
 * misses it where the interval is lopsided: at a power of two the gap below
 * is half the gap above, and 0x0060000000000000 would print with 17 digits
 * where Python's repr (dtoa's shortest mode) finds 16. */
static int digits_at(double x, int p, char *digits, int *e)
{
	char text[MAXDIG + 16], *s;
	int n = 0, k, up;
	double y;

	/* (snprintf writes all p digits; setting them first only tells the
	 * static analyzer, which cannot see that, that none is left unset.) */
	memset(digits, '0', (size_t)p);
	snprintf(text, sizeof text, "%.*e", p - 1, x);
	/* d.ddde+XX: take the digits, skipping the point (whatever its locale). */
	for (s = text; *s != 'e'; s++)
		if (is_digit((unsigned char)*s))
			digits[n++] = *s;
	*e = (int)strtol(s + 1, NULL, 10);
	y = decimal(digits, p, *e);
	if (y == x)
		return 1;
	/* Step one unit in the last digit towards x, with carry or borrow. */
	up = y < x;
	for (k = p - 1; k >= 0; k--) {
		if (up ? digits[k] != '9' : digits[k] != '0') {
			digits[k] = (char)(digits[k] + (up ? 1 : -1));
			break;
		}
		digits[k] = up ? '0' : '9';
	}
	if (up && k < 0) { /* 9.99 + 0.01 = 10.0 */
		digits[0] = '1';
		++*e;
	} else if (!up && digits[0] == '0') { /* 1.00 - 0.01 = 0.99 */
		memmove(digits, digits + 1, (size_t)p - 1);
		digits[p - 1] = '9';
		--*e;
	}
	return decimal(digits, p, *e) == x;
}

/* repr's digits for x (finite, > 0) the quick way, when x has a short
 * repr (at most 15 digits: 0.1, 2.5, 1234.5678) and is neither tiny nor
 * huge.  Returns the number of digits, with the digits and e as digits_at()
 * gives them; or -1 if x needs 16 or 17 digits; or 0 if it cannot tell
 * (then float_text searches every length).
 *
 * Scale x by 10^k so that t = x * 10^k lies in [10^14, 10^15), and round t
 * to an integer m.  If m * 10^-k reads back as x (exact_decimal says so
 * exactly), it is a decimal of at most 15 digits that round-trips.  For a
 * normal double there is only one such decimal: two different ones are at
 * least 10^-14 apart relative to their size, far more than the 2^-52
 * between neighbouring doubles (this is why DBL_DIG is 15), so they cannot
 * both read back as x.  So it is what the search would find, and its digits
 * without trailing zeros are repr's.
 *
 * If m does not read back, no decimal of 15 digits or fewer does: one that
 * did would be an integer M after scaling, within half a double's spacing
 * of t (at most 2^-53 * t < 0.12), and the computed t is within 0.12 of the
 * true one (one rounding), so M is within 0.24 of it: M would be m. */
static int short_digits(double x, char *digits, int *e)
{
	char text[24];
	double scaled, back;
	uint64_t m;
	int d, k, n, len;

	/* k = 14 - floor(log10(x)).  Found by comparing with powers of ten
	 * (the library does not link libm); for x < 1, x * 10^j is rounded, so
	 * near a power of ten d may be one off: then t is below 10^14 (m has
	 * fewer digits, fine if it reads back) or 10^15 and above (refused). */
	d = 0;
	if (x >= 1)
		while (d < 22 && x >= pow10_exact[d + 1])
			d++;
	else
		while (d > -8 && x * pow10_exact[-d] < 1)
			d--;
	k = 14 - d; /* in -8..22, so 10^|k| is exact */
	scaled = k >= 0 ? x * pow10_exact[k] : x / pow10_exact[-k];
	if (scaled >= 1e15 - 0.5) /* x >= 10^23, or d one too small */
		return 0;
	m = (uint64_t)(scaled + 0.5); /* rounded to the nearest integer */
	if (m == 0)                   /* x far below 10^-8 */
		return 0;
	if (!exact_decimal(m, -k, &back))
		return 0;
	if (back != x) /* the argument above holds when t >= 10^14 */
		return scaled >= 1e14 ? -1 : 0;
	len = snprintf(text, sizeof text, "%" PRIu64, m);
	for (n = len; n > 1 && text[n - 1] == '0'; n--)
		;
	memcpy(digits, text, (size_t)n);
	*e = len - 1 - k; /* m has len digits: x = m[0].m[1]... * 10^(len - 1 - k) */
	return n;
}

/* Write repr(x) to out (room for 32), with NaN and infinities spelt as
 * json.dumps (json = 1) or repr (json = 0) spells them.  Returns the length. */
static size_t float_text(double x, char *out, int json)
{
	char digits[MAXDIG + 1], best[MAXDIG + 1];
	int lo = 1, hi = MAXDIG, mid, e = 0, best_e = 0, n, decpt, i;
	size_t o = 0;

	if (isnan(x))
		return (size_t)sprintf(out, "%s", json ? "NaN" : "nan");
	if (signbit(x)) {
		out[o++] = '-';
		x = -x;
	}
	if (isinf(x))
		return o + (size_t)sprintf(out + o, "%s", json ? "Infinity" : "inf");
	if (x == 0)
		return o + (size_t)sprintf(out + o, "0.0");
	if ((n = short_digits(x, best, &best_e)) > 0)
		goto layout;
	if (n < 0)
		lo = 16; /* 15 digits are too few */
	/* The fewest digits that read back as x: some p-digit decimal does for
	 * every p from the least one up (append zeros), so search by halves. */
	while (lo <= hi) {
		mid = (lo + hi) / 2;
		if (digits_at(x, mid, digits, &e)) {
			memcpy(best, digits, (size_t)mid);
			best_e = e;
			hi = mid - 1;
		} else {
			lo = mid + 1;
		}
	}
	n = hi + 1;
	while (n > 1 && best[n - 1] == '0')
		n--;
layout:
	/* repr's layout (format_float_short): x = 0.DIGITS x 10^decpt;
	 * exponent form iff decpt <= -4 or decpt > 16. */
	decpt = best_e + 1;
	if (decpt <= -4 || decpt > 16) {
		out[o++] = best[0];
		if (n > 1) {
			out[o++] = '.';
			memcpy(out + o, best + 1, (size_t)n - 1);
			o += (size_t)n - 1;
		}
		return o + (size_t)sprintf(out + o, "e%c%02d", best_e < 0 ? '-' : '+',
		                           best_e < 0 ? -best_e : best_e);
	}
	if (decpt <= 0) { /* 0.000ddd */
		out[o++] = '0';
		out[o++] = '.';
		for (i = decpt; i < 0; i++)
			out[o++] = '0';
		memcpy(out + o, best, (size_t)n);
		return o + (size_t)n;
	}
	for (i = 0; i < decpt; i++) /* ddd000.0 or ddd.ddd */
		out[o++] = (char)(i < n ? best[i] : '0');
	out[o++] = '.';
	if (n <= decpt)
		out[o++] = '0';
	for (; i < n; i++)
		out[o++] = best[i];
	return o;
}

/* ---- strings ----------------------------------------------------------------- */

static const char hexdig[] = "0123456789abcdef";

static size_t hex_escape(char *out, char kind, uint32_t c, int ndig)
{
	int k;

	out[0] = '\\';
	out[1] = kind;
	for (k = 0; k < ndig; k++)
		out[2 + k] = hexdig[c >> (4 * (ndig - 1 - k)) & 0xF];
	return 2 + (size_t)ndig;
}

static int is_printable(uint32_t c)
{
	size_t lo = 0, hi = sizeof json_nonprintable / sizeof json_nonprintable[0];

	if (c >= 0x20 && c < 0x7F)
		return 1;
	while (lo < hi) { /* the range holding c, if any */
		size_t mid = lo + (hi - lo) / 2;

		if (c < json_nonprintable[mid][0])
			hi = mid;
		else if (c > json_nonprintable[mid][1])
			lo = mid + 1;
		else
			return 0;
	}
	return 1;
}

/* The string as json.dumps writes it (ensure_ascii).  Runs of printable
 * ASCII are copied whole; each other code point becomes an escape. */
static int dump_string(struct json_buf *b, const struct json *v)
{
	const unsigned char *s = (const unsigned char *)v->str;
	size_t i = 0, n, run;
	char esc[12]; /* the longest escape: a surrogate pair, \udXXX\udXXX */

	/* Room for the usual case, no escapes; put() grows the buffer
	 * geometrically if there are some. */
	if (v->len > SIZE_MAX - 2 || reserve(b, v->len + 2) != 0 || put(b, "\"", 1) != 0)
		return -1;
	while (i < v->len) {
		run = plain_run(s + i, v->len - i, DUMP);
		if (put(b, (const char *)s + i, run) != 0)
			return -1;
		if ((i += run) == v->len)
			break;
		uint32_t c = wtf8_get(s + i, v->len - i, &n);
		char shortform = 0;

		switch (c) {
		case '"':
		case '\\':
			shortform = (char)c;
			break;
		case '\b':
			shortform = 'b';
			break;
		case '\f':
			shortform = 'f';
			break;
		case '\n':
			shortform = 'n';
			break;
		case '\r':
			shortform = 'r';
			break;
		case '\t':
			shortform = 't';
			break;
		}
		if (shortform != 0) {
			esc[0] = '\\';
			esc[1] = shortform;
			run = 2;
		} else if (c >= 0x10000) {
			c -= 0x10000;
			run = hex_escape(esc, 'u', 0xD800 | c >> 10, 4);
			run += hex_escape(esc + run, 'u', 0xDC00 | (c & 0x3FF), 4);
		} else {
			run = hex_escape(esc, 'u', c, 4);
		}
		if (put(b, esc, run) != 0)
			return -1;
		i += n;
	}
	return put(b, "\"", 1);
}

/* print(str) with errors='backslashreplace': the text as it is, but for
 * lone surrogates (which UTF-8 cannot encode), written \udXXX.  In WTF-8 a
 * surrogate is a 3-byte sequence that starts with 0xED (as U+D000..U+D7FF
 * do too), and 0xED is never a continuation byte: so each 0xED that memchr
 * finds starts a code point to look at, and the bytes between are copied
 * whole. */
static int print_string(struct json_buf *b, const struct json *v)
{
	const unsigned char *s = (const unsigned char *)v->str, *ed;
	size_t i = 0, n, run;
	char esc[6];

	/* put() of nothing still NUL-terminates the buffer, even for "" */
	if (reserve(b, v->len) != 0 || put(b, "", 0) != 0)
		return -1;
	while (i < v->len) {
		ed = memchr(s + i, 0xED, v->len - i);
		run = ed == NULL ? v->len - i : (size_t)(ed - (s + i));
		if (put(b, (const char *)s + i, run) != 0)
			return -1;
		if ((i += run) == v->len)
			break;
		uint32_t c = wtf8_get(s + i, v->len - i, &n);

		if (c >= 0xD800 && c <= 0xDFFF) {
			if (put(b, esc, hex_escape(esc, 'u', c, 4)) != 0)
				return -1;
		} else if (put(b, (const char *)s + i, n) != 0) {
			return -1;
		}
		i += n;
	}
	return 0;
}

/* The string as repr(str) writes it, or bare as print(str) does.  Runs of
 * printable ASCII other than quotes and backslashes are copied whole. */
static int repr_string(struct json_buf *b, const struct json *v, int bare)
{
	const unsigned char *s = (const unsigned char *)v->str;
	char quote = '\'', esc[10]; /* the longest escape: \UXXXXXXXX */
	size_t i = 0, n, run;

	if (bare)
		return print_string(b, v);
	/* Single quotes, unless the text holds ' and no " (unicode_repr). */
	if (v->len > 0 && memchr(s, '\'', v->len) != NULL && memchr(s, '"', v->len) == NULL)
		quote = '"';
	if (v->len > SIZE_MAX - 2 || reserve(b, v->len + 2) != 0 || put(b, &quote, 1) != 0)
		return -1;
	while (i < v->len) {
		run = plain_run(s + i, v->len - i, REPR);
		if (put(b, (const char *)s + i, run) != 0)
			return -1;
		if ((i += run) == v->len)
			break;
		uint32_t c = wtf8_get(s + i, v->len - i, &n);
		const char *out = esc;

		if (c == (uint32_t)quote || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			run = 2;
		} else if (c == '\t' || c == '\n' || c == '\r') {
			esc[0] = '\\';
			esc[1] = (char)(c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
			run = 2;
		} else if (c >= 0x20 && (c < 0x7F || is_printable(c))) {
			out = (const char *)s + i; /* as it is (the other quote, or not ASCII) */
			run = n;
		} else if (c <= 0xFF) { /* C0 controls, DEL, unprintable Latin-1 */
			run = hex_escape(esc, 'x', c, 2);
		} else if (c <= 0xFFFF) {
			run = hex_escape(esc, 'u', c, 4);
		} else {
			run = hex_escape(esc, 'U', c, 8);
		}
		if (put(b, out, run) != 0)
			return -1;
		i += n;
	}
	return put(b, &quote, 1);
}

/* ---- the writers ------------------------------------------------------------- */

/* json.dumps(v) (repr = 0) or str(v) (repr = 1, bare = a top-level string
 * prints bare).  depth counts the containers around v. */
static int write_value(const struct json *v, struct json_buf *b, int repr, int bare, int depth)
{
	static const char *const words[2][3] = { { "null", "false", "true" },
		                                 { "None", "False", "True" } };
	char num[32];
	size_t i;

	switch (v->type) {
	case JSON_NULL:
	case JSON_FALSE:
	case JSON_TRUE:
		return puts_(b, words[repr][v->type - JSON_NULL]);
	case JSON_INT:
		return put(b, v->str, v->len);
	case JSON_FLOAT:
		return put(b, num, float_text(v->num, num, !repr));
	case JSON_STRING:
		return repr ? repr_string(b, v, bare) : dump_string(b, v);
	case JSON_ARRAY:
	case JSON_OBJECT:
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (depth >= JSON_MAX_DEPTH) {
		errno = EINVAL;
		return -1;
	}
	if (puts_(b, v->type == JSON_ARRAY ? "[" : "{") != 0)
		return -1;
	for (i = 0; i < v->len; i++) {
		if (i > 0 && puts_(b, ", ") != 0)
			return -1;
		if (v->type == JSON_OBJECT) {
			const struct json *key = v->items[2 * i];

			if (key->type != JSON_STRING) {
				errno = EINVAL;
				return -1;
			}
			if ((repr ? repr_string(b, key, 0) : dump_string(b, key)) != 0 ||
			    puts_(b, ": ") != 0 ||
			    write_value(v->items[2 * i + 1], b, repr, 0, depth + 1) != 0)
				return -1;
		} else if (write_value(v->items[i], b, repr, 0, depth + 1) != 0) {
			return -1;
		}
	}
	return puts_(b, v->type == JSON_ARRAY ? "]" : "}");
}

int json_dump(const struct json *v, struct json_buf *out)
{
	return write_value(v, out, 0, 0, 0);
}

int json_repr(const struct json *v, struct json_buf *out, int top_level_str_bare)
{
	return write_value(v, out, 1, top_level_str_bare != 0, 0);
}
