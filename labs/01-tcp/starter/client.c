/* client.c - lesson 01: send one message over TCP and print the server's reply.
 *
 * Your job is the TODOs below; ../README.md walks through each call.
 *   make test-lab LAB=01 IMPL=starter    runs this lesson's tests on your code
 */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "65432", *message = "Hello, Server";
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--message", "TEXT", "what to send", LAB_OPT_STRING, &message, 0, 0, NULL },
		LAB_OPT_END,
	};

	lab_args(argc, argv, opts, "TCP client: sends one message and prints the reply.", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* TODO: resolve host and port with getaddrinfo() (any family, SOCK_STREAM). */

	/* TODO: for each address it returns: socket(), then connect(); stop at the first
	 * that connects.  None did: one line on stderr (err() in <err.h>) and exit 1. */

	/* TODO: send every byte of the message (send() may take fewer than you ask). */

	/* TODO: one recv() of up to 1024 bytes; print it with lab_print_text() as
	 * "Server replied: TEXT".  Then close the socket. */
	(void)host;
	(void)port;
	(void)message;
	return 0;
}
