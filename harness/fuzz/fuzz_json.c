/* fuzz_json.c - libFuzzer target: the JSON parser and json.dumps writer of labs/common/json.c.
 *
 * Any input: json_parse must return a tree or an error, never crash, hang or read past
 * the input.  A tree must dump, and the dump must parse again and dump to the same bytes:
 * json.dumps(json.loads(s)) is a fixed point in Python, so it must be here too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct json *v, *again;
	struct json_buf out = JSON_BUF_INIT, out2 = JSON_BUF_INIT;

	if ((v = json_parse((const char *)data, size, err, sizeof err)) == NULL) {
		if (strlen(err) == 0)
			abort(); /* a refusal always says why */
		return 0;
	}
	if (json_dump(v, &out) != 0)
		abort();
	if ((again = json_parse(out.data, out.len, err, sizeof err)) == NULL)
		abort(); /* we wrote something we cannot read */
	if (json_dump(again, &out2) != 0)
		abort();
	if (out.len != out2.len || memcmp(out.data, out2.data, out.len) != 0)
		abort(); /* dumps(loads(dumps(x))) != dumps(x) */
	json_free(again);
	json_free(v);
	json_buf_free(&out);
	json_buf_free(&out2);
	return 0;
}
