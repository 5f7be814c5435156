/* client.c - lesson 04: send each JSON document as a length-prefixed frame. */
#include "frame.h"
#include "json.h"
#include "lab.h"

#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "5000";
	char *defaults[] = { "{\"message\": \"Hello, Server\", \"id\": 1}" };
	size_t max = FRAME_MAX_DEFAULT;
	double timeout = 5;
	bool echo_mode = false;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--echo", NULL, "read and print the reply to each frame", LAB_OPT_FLAG,
		  &echo_mode, 0, 0, NULL },
		{ "--max-frame", "BYTES", "refuse longer replies", LAB_OPT_SIZE, &max, 0,
		  UINT32_MAX, NULL },
		{ "--timeout", "SECONDS", "give up on a server that stalls this long",
		  LAB_OPT_SECONDS, &timeout, 0, 0, NULL },
		LAB_OPT_END,
	};
	struct json_buf *frames, text = JSON_BUF_INIT;
	struct json *value;
	char msg[LAB_ERRLEN], *reply;
	size_t len;
	int first, count, i, fd;

	first = lab_args(argc, argv, opts, "Framed JSON client: sends each DOCUMENT as one frame.",
	                 "[DOCUMENT ...]");
	setvbuf(stdout, NULL, _IOLBF, 0);
	count = first < argc ? argc - first : 1;
	if ((frames = calloc((size_t)count, sizeof *frames)) == NULL)
		err(1, "calloc");
	/* Every document is checked and re-encoded before anything is sent, as
	 * json.dumps(json.loads(text)) would write it. */
	for (i = 0; i < count; i++) {
		const char *doc = first < argc ? argv[first + i] : defaults[0];
		if ((value = json_parse(doc, strlen(doc), msg, sizeof msg)) == NULL) {
			fprintf(stderr, "client: argument %d: %s\n", i + 1, msg);
			exit(2);
		}
		if (json_dump(value, &frames[i]) < 0)
			err(1, "json_dump");
		json_free(value);
	}

	fd = xconnect(host, port, SOCK_STREAM);
	if (lab_set_timeout(fd, timeout) < 0)
		err(1, "setsockopt");
	for (i = 0; i < count; i++) {
		if (frame_send(fd, frames[i].data, frames[i].len) < 0)
			err(1, "send");
		if (!echo_mode)
			continue;
		switch (frame_recv(fd, max, &reply, &len, msg, sizeof msg)) {
		case 0:
			errx(1, "the server closed the connection without a reply");
		case -1:
			errx(1, "%s", msg);
		}
		if ((value = json_parse(reply, len, msg, sizeof msg)) == NULL)
			errx(1, "reply: %s", msg);
		free(reply);
		text.len = 0;
		if (json_repr(value, &text, 1) < 0)
			err(1, "json_repr");
		json_free(value);
		printf("Received Payload: ");
		fwrite(text.data, 1, text.len, stdout);
		putchar('\n');
	}
	close(fd);
	for (i = 0; i < count; i++)
		json_buf_free(&frames[i]);
	json_buf_free(&text);
	free(frames);
	return 0;
}
