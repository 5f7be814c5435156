/* fuzz_bsr.c - libFuzzer target: lab_backslashreplace, the course library's version of
 * Python's data.decode('utf-8', 'backslashreplace'), which every lesson prints with.
 *
 * Checked on any bytes: the output fits in the documented 4 * n; it is well-formed UTF-8;
 * well-formed input comes out unchanged; a short buffer gets a prefix of the full output
 * and the same length; and decoding the input in two pieces at a sequence boundary gives
 * the same bytes as decoding it whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = 4 * size + 1, need, i, n, half, valid = 1;
	char *out = malloc(cap), *part = malloc(cap), *two = malloc(cap);

	if (out == NULL || part == NULL || two == NULL)
		abort();
	need = lab_backslashreplace(data, size, out, cap);
	if (need > 4 * size)
		abort();
	for (i = 0; i < need; i += n)
		if ((n = lab_utf8_len(out + i, need - i)) == 0)
			abort();
	for (i = 0; i < size; i += n)
		if ((n = lab_utf8_len(data + i, size - i)) == 0) {
			valid = 0;
			break;
		}
	if (valid && (need != size || memcmp(out, data, size) != 0))
		abort();
	/* A buffer half as long: the same answer for the length, a prefix of the text. */
	if (lab_backslashreplace(data, size, part, need / 2) != need ||
	    memcmp(part, out, need / 2) != 0)
		abort();
	/* Split where a sequence (or a lone bad byte) ends, near the middle. */
	for (half = 0, i = 0; i < size / 2; i += n, half = i)
		if ((n = lab_utf8_len(data + i, size - i)) == 0)
			n = 1;
	n = lab_backslashreplace(data, half, two, cap);
	n += lab_backslashreplace(data + half, size - half, two + n, cap - n);
	if (n != need || memcmp(two, out, need) != 0)
		abort();
	free(out);
	free(part);
	free(two);
	return 0;
}
