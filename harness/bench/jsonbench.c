/* jsonbench.c - how fast the course's JSON codec (labs/common/json.h) decodes and encodes a
 * document.
 *
 *   jsonbench FILE SECONDS
 *
 * Decodes FILE with json_parse, then encodes the tree with json_dump, each
 * over and over for half of SECONDS, and prints one line of JSON: MB of the
 * document per second each way, and whether json_dump gave FILE's bytes back
 * (run.py writes FILE with Python's json.dumps, so it must).
 */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		perror("jsonbench: clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fputs("usage: jsonbench FILE SECONDS\n", f);
}

int main(int argc, char **argv)
{
	struct json_buf out = JSON_BUF_INIT;
	struct json *tree;
	char err[256], *text, *end;
	double half, t0, dec, enc;
	long n, len, k;
	FILE *f;

	if (argc != 3 || (half = strtod(argv[2], &end) / 2, *end != '\0') || !(half > 0)) {
		usage(stderr);
		return 2;
	}
	if ((f = fopen(argv[1], "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "jsonbench: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if ((text = malloc((size_t)len + 1)) == NULL ||
	    fread(text, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
		fprintf(stderr, "jsonbench: reading %s failed\n", argv[1]);
		return 1;
	}

	/* Decode: parse and free, as the lesson 04 server does for each frame. */
	t0 = now();
	for (n = 0; n == 0 || now() - t0 < half; n++) {
		if ((tree = json_parse(text, (size_t)len, err, sizeof err)) == NULL) {
			fprintf(stderr, "jsonbench: %s: %s\n", argv[1], err);
			return 1;
		}
		json_free(tree);
	}
	dec = (double)n * (double)len / (now() - t0) / 1e6;

	/* Encode one tree again and again, into a buffer that is reused. */
	if ((tree = json_parse(text, (size_t)len, err, sizeof err)) == NULL)
		return 1;
	t0 = now();
	for (k = 0; k == 0 || now() - t0 < half; k++) {
		out.len = 0;
		if (json_dump(tree, &out) < 0) {
			perror("jsonbench: json_dump");
			return 1;
		}
	}
	enc = (double)k * (double)len / (now() - t0) / 1e6;

	printf("{\"bytes\": %ld, \"decode_mb_s\": %.1f, \"encode_mb_s\": %.1f, \"same_bytes\": "
	       "%s}\n",
	       len, dec, enc,
	       out.len == (size_t)len && memcmp(out.data, text, out.len) == 0 ? "true" : "false");
	json_free(tree);
	json_buf_free(&out);
	free(text);
	return 0;
}
