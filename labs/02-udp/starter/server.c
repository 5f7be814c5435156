/* server.c - lesson 02: a UDP server that reports each datagram and answers "Message received".
 *
 * Your job is the TODOs below; ../README.md walks through each one.
 *   make test-lab LAB=02 IMPL=starter    runs this lesson's tests on your code
 *   make                                 shows your progress
 */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "9999";
	const struct lab_opt opts[] = { LAB_OPT_HOST(&host), LAB_OPT_PORTNUM(&port), LAB_OPT_END };

	lab_args(argc, argv, opts,
	         "UDP server: reports each datagram and answers \"Message received\".", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lab_catch_signals() < 0)
		err(1, "sigaction");

	/* TODO: open a UDP socket bound to host:port (xlisten with SOCK_DGRAM; a UDP
	 * socket has no listen() backlog). */

	/* TODO: print "UDP Server started...". */

	/* TODO: until lab_stop is set: receive one datagram of up to 1024 bytes together with
	 * the sender's address; print "Received TEXT from ('IP', PORT)" (lab_print_line takes
	 * the part after TEXT); answer the sender with the 16 bytes "Message received".
	 * An empty datagram is a datagram too. */

	/* TODO: close the socket. */
	(void)host;
	(void)port;
	return 0;
}
