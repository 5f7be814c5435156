/* client.c - lesson 01: send one message over TCP and print the server's reply.
 *
 * Your job is the TODOs below; ../README.md walks through each one.
 *   make test-lab LAB=01 IMPL=starter    runs this lesson's tests on your code
 */
#include "lab.h"

#include <err.h>
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

	/* TODO: connect to host:port over TCP. */

	/* TODO: send all of the message's bytes. */

	/* TODO: receive once, up to 1024 bytes, and print "Server replied: TEXT". */

	/* TODO: close the socket. */
	(void)host;
	(void)port;
	(void)message;
	return 0;
}
