/* text.c - print received bytes exactly as Python's decode('utf-8', 'backslashreplace'). */
#include "lab.h"

#include <stdio.h>

size_t lab_utf8_len(const void *start, size_t n)
{
	const unsigned char *s = start;
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
	/* The second byte's range is narrower after these lead bytes. */
	if (c == 0xE0)
		lo = 0xA0; /* overlong below U+0800 */
	else if (c == 0xED)
		hi = 0x9F; /* surrogates */
	else if (c == 0xF0)
		lo = 0x90; /* overlong below U+10000 */
	else if (c == 0xF4)
		hi = 0x8F; /* past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

size_t lab_backslashreplace(const void *in, size_t n, char *out, size_t outcap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = in;
	size_t i = 0, o = 0, k, len;

	while (i < n) {
		len = lab_utf8_len(s + i, n - i);
		if (len > 0) {
			for (k = 0; k < len; k++, o++)
				if (o < outcap)
					out[o] = (char)s[i + k];
			i += len;
			continue;
		}
		/* Not part of a well-formed sequence: \xNN, lower-case as Python. */
		const char esc[4] = { '\\', 'x', hex[s[i] >> 4], hex[s[i] & 0xF] };
		for (k = 0; k < 4; k++, o++)
			if (o < outcap)
				out[o] = esc[k];
		i++;
	}
	return o;
}

int lab_print_text(FILE *f, const char *prefix, const void *data, size_t n)
{
	return lab_print_line(f, prefix, data, n, "");
}

int lab_print_line(FILE *f, const char *prefix, const void *data, size_t n, const char *suffix)
{
	enum { SLICE = 60 }; /* input bytes decoded per step, + up to 3 to end a sequence */
	const unsigned char *s = data;
	char chunk[4 * (SLICE + 3)];
	size_t i = 0, step, len;
	int rc = 0;

	/* One lock around the whole line: stdio locks each call on its own, so
	 * without this another thread's line could land in the middle. */
	flockfile(f);
	if (fputs(prefix, f) == EOF)
		rc = EOF;
	/* Decode in slices small enough for the stack buffer.  A slice never
	 * ends inside a UTF-8 sequence: it is extended over the continuation
	 * bytes (at most 3) that follow its end. */
	while (rc == 0 && i < n) {
		step = n - i < SLICE ? n - i : SLICE;
		/* Extend the slice to finish a sequence cut at its end. */
		while (i + step < n && step < SLICE + 3 && (s[i + step] & 0xC0) == 0x80)
			step++;
		len = lab_backslashreplace(s + i, step, chunk, sizeof chunk);
		if (fwrite(chunk, 1, len, f) != len)
			rc = EOF;
		i += step;
	}
	if (rc == 0 && (fputs(suffix, f) == EOF || putc('\n', f) == EOF))
		rc = EOF;
	funlockfile(f);
	return rc;
}
