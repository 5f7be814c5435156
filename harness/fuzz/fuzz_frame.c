/* fuzz_frame.c - libFuzzer target: lesson 04's frame decoder and what its server does with
 * a frame (solutions/04-struct-framing/frame.c, then json_parse and json_repr).
 *
 * The input is what a peer sends on a connection, then closes: any number of frames,
 * announced lengths up to 4 GiB, truncated headers and payloads.  frame_recv must deliver
 * each whole frame, stop cleanly at the end, or refuse with a one-line reason; it must
 * never allocate for a length over the limit it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "json.h"

#define FUZZ_MAX_FRAME 4096 /* the limit the "server" applies here: small, to reach it often */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds[2], rc;
	char err[256], *payload;
	size_t len, frames = 0, seen = 0;

	/* A pipe holds 64 KiB: the whole input goes in before the decoder runs. */
	if (size > 60000)
		return 0;
	if (pipe(fds) != 0)
		abort();
	if (write(fds[1], data, size) != (ssize_t)size)
		abort();
	close(fds[1]);
	err[0] = '\0';
	while ((rc = frame_recv(fds[0], FUZZ_MAX_FRAME, &payload, &len, err, sizeof err)) == 1) {
		struct json *v;

		if (len > FUZZ_MAX_FRAME)
			abort();
		seen += 4 + len;
		frames++;
		if ((v = json_parse(payload, len, err, sizeof err)) != NULL) {
			struct json_buf out = JSON_BUF_INIT;

			if (json_repr(v, &out, 0) != 0)
				abort();
			json_buf_free(&out);
			json_free(v);
		}
		free(payload);
	}
	/* A clean end: exactly the bytes of the frames, then 0 to 3 bytes of a header. */
	if (rc == 0 && (seen + len != size || len > 3))
		abort();
	if (rc < 0 && (strlen(err) == 0 || strchr(err, '\n') != NULL))
		abort(); /* a refusal is one line that says why */
	(void)frames;
	close(fds[0]);
	return 0;
}
