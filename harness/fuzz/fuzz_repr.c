/* fuzz_repr.c - libFuzzer target: the repr printer of labs/common/json.c (what lesson 04's
 * server prints as "Received Payload: ...").
 *
 * Whatever parses must print, both ways a string can print (bare at the top, as print()
 * writes it, or quoted, as repr()), and the printed text must be well-formed UTF-8: the
 * server writes it to a terminal, and lone surrogates must have become \udXXX escapes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "json.h"
#include "lab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const struct json_buf *b)
{
	size_t i = 0, n;

	while (i < b->len) {
		if ((n = lab_utf8_len(b->data + i, b->len - i)) == 0)
			abort();
		i += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct json *v;
	int bare;

	if ((v = json_parse((const char *)data, size, err, sizeof err)) == NULL)
		return 0;
	for (bare = 0; bare <= 1; bare++) {
		struct json_buf out = JSON_BUF_INIT;

		if (json_repr(v, &out, bare) != 0)
			abort();
		if (out.len == 0 && !(bare && v->type == JSON_STRING && v->len == 0))
			abort(); /* only print("") prints nothing */
		check_utf8(&out);
		json_buf_free(&out);
	}
	json_free(v);
	return 0;
}
