/* server.c - lesson 04: receive length-prefixed JSON frames and print them as Python would. */
#include "frame.h"
#include "json.h"
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Print "Received Payload: X" where X is what print() shows for the value. */
static void print_payload(const struct json *value)
{
	struct json_buf text = JSON_BUF_INIT;

	if (value != NULL && json_repr(value, &text, 1) < 0)
		err(1, "json_repr");
	flockfile(stdout);
	fputs("Received Payload: ", stdout);
	if (value == NULL)
		fputs("None", stdout); /* recv_msg() returned None */
	else
		fwrite(text.data, 1, text.len, stdout);
	putchar('\n');
	funlockfile(stdout);
	json_buf_free(&text);
}

/* Receive and decode one frame.  1: *value is set (json_free it); 0: the peer
 * closed before a whole header (*cut = header bytes it sent); -1: error in msg. */
static int receive(int fd, size_t max, struct json **value, size_t *cut, char *msg, size_t len)
{
	char *payload;
	size_t n;
	int rc;

	if ((rc = frame_recv(fd, max, &payload, &n, msg, len)) <= 0) {
		if (rc == 0)
			*cut = n;
		return rc;
	}
	/* json.loads(payload.decode('utf-8')): invalid UTF-8 or JSON is an error. */
	*value = json_parse(payload, n, msg, len);
	free(payload);
	return *value != NULL ? 1 : -1;
}

/* --echo: answer each frame with json.dumps(json.loads(payload)) until the peer closes. */
static void echo(int conn, size_t max, const char *who)
{
	struct json_buf out = JSON_BUF_INIT;
	struct json *value;
	char msg[LAB_ERRLEN];
	size_t cut = 0;
	int rc = 0;

	while ((rc = receive(conn, max, &value, &cut, msg, sizeof msg)) == 1) {
		print_payload(value);
		out.len = 0;
		rc = json_dump(value, &out);
		json_free(value);
		if (rc < 0 || frame_send(conn, out.data, out.len) < 0) {
			/* A peer that stopped reading: SO_SNDTIMEO gives EAGAIN. */
			snprintf(msg, sizeof msg, "%s the reply: %s",
			         rc < 0 ? "encoding" : "sending",
			         errno == EAGAIN || errno == EWOULDBLOCK ? "timed out"
			                                                 : strerror(errno));
			rc = -1; /* reported below, as the other failures */
			break;
		}
	}
	if (rc < 0)
		warnx("%s: %s; connection closed", who, msg);
	else if (rc == 0 && cut > 0)
		warnx("%s: frame header cut short after %zu of 4 bytes; connection closed", who,
		      cut);
	json_buf_free(&out);
}

int main(int argc, char **argv)
{
	const char *host = "0.0.0.0", *port = "5000";
	size_t max = FRAME_MAX_DEFAULT;
	double timeout = 5;
	bool echo_mode = false;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--echo", NULL, "serve client after client, answering every frame", LAB_OPT_FLAG,
		  &echo_mode, 0, 0, NULL },
		{ "--max-frame", "BYTES", "refuse longer frames", LAB_OPT_SIZE, &max, 0, UINT32_MAX,
		  NULL },
		{ "--timeout", "SECONDS", "drop a client that stalls this long", LAB_OPT_SECONDS,
		  &timeout, 0, 0, NULL },
		LAB_OPT_END,
	};
	struct sockaddr_storage peer;
	socklen_t len;
	struct json *value = NULL;
	char who[LAB_ADDRLEN], msg[LAB_ERRLEN];
	size_t cut;
	int lfd, conn, rc = 0, one = 1;

	lab_args(argc, argv, opts, "Framed JSON server: prints each frame's value as Python would.",
	         NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lab_catch_signals() < 0)
		err(1, "lab_catch_signals");

	lfd = xlisten(host, port, SOCK_STREAM, 5);
	/* Without --echo, the seed: one client, one frame, then exit. */
	for (;;) {
		len = sizeof peer;
		if ((conn = accept(lfd, (struct sockaddr *)&peer, &len)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			err(1, "accept");
		}
		lab_addr_str((struct sockaddr *)&peer, len, who, sizeof who);
		/* A client that stops sending (or reading) for --timeout is dropped:
		 * otherwise it would hold the server, and everyone behind it, forever. */
		if (lab_set_timeout(conn, timeout) < 0)
			err(1, "setsockopt");
		/* Nagle off: each frame already goes in one write, but when a client
		 * pipelines frames, Nagle would hold each reply until the client
		 * acknowledged the one before, and the client's delayed ACK waits
		 * ~40 ms for a reply to ride on: 368 frames a second instead of
		 * thousands (make bench, "pipelined"). */
		if (setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
			err(1, "setsockopt TCP_NODELAY");
		if (echo_mode) {
			echo(conn, max, who);
			close(conn);
			continue;
		}
		/* One frame, printed; None if the peer sent no whole header. */
		rc = receive(conn, max, &value, &cut, msg, sizeof msg);
		if (rc >= 0)
			print_payload(value);
		json_free(value);
		if (rc < 0)
			warnx("%s: %s", who, msg);
		close(conn);
		break;
	}
	close(lfd);
	return rc < 0 ? 1 : 0;
}
