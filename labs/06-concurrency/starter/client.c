/* client.c - lesson 06: send one request, print the whole reply. */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *host = "localhost", *port = "9999", *message = "Hello, Server";
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--message", "TEXT", "what to send", LAB_OPT_STRING, &message, 0, 0, NULL },
		LAB_OPT_END,
	};
	char reply[4096];
	size_t have = 0;
	ssize_t got = 0;
	int fd;

	lab_args(argc, argv, opts, "Client: sends one request and prints the reply.", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	fd = xconnect(host, port, SOCK_STREAM);
	if (lab_writen(fd, message, strlen(message)) < 0)
		err(1, "send");
	/* Until EOF: the server shuts its side down after the reply.  (A request
	 * over 1024 bytes is read in part; the server's close with the rest
	 * unread sends a reset, which may come instead of the EOF.) */
	while (have < sizeof reply && (got = lab_recv(fd, reply + have, sizeof reply - have)) > 0)
		have += (size_t)got;
	if (got < 0 && errno != ECONNRESET)
		err(1, "recv");
	lab_print_text(stdout, "Received: ", reply, have);
	close(fd);
	return 0;
}
