/* server.c - lesson 02: a UDP server that reports each datagram and answers "Message received".
 *
 * Your job is the TODOs below; ../README.md walks through each call.
 *   make test-lab LAB=02 IMPL=starter    runs this lesson's tests on your code
 *   make                                 shows your progress
 */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

/* A UDP socket bound to host:port (IPv4 or IPv6), or exit 1 with the reason. */
static int open_bound(const char *host, const char *port)
{
	/* TODO: as lesson 01's open_listener(), with SOCK_DGRAM: getaddrinfo(), then for
	 * each address until one works: socket(), IPV6_V6ONLY off for IPv6, bind().  What
	 * does a UDP socket not need, of what a TCP one did? */
	(void)host;
	(void)port;
	return -1;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "9999";
	const struct lab_opt opts[] = { LAB_OPT_HOST(&host), LAB_OPT_PORTNUM(&port), LAB_OPT_END };
	int fd;

	lab_args(argc, argv, opts,
	         "UDP server: reports each datagram and answers \"Message received\".", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lab_catch_signals() < 0)
		err(1, "lab_catch_signals");

	fd = open_bound(host, port);

	/* TODO: lab_announce(fd) (the "listening on" line tests wait for), then print
	 * "UDP Server started...". */

	/* TODO: for ever: receive one datagram of up to 1024 bytes with its sender's address
	 * (recvfrom); print "Received TEXT from ADDR" (lab_print_line() takes the part after
	 * TEXT; lab_addr_str() formats ADDR); answer the sender with the 16 bytes
	 * "Message received" (sendto).  An empty datagram is a datagram too. */
	(void)fd;
	return 0;
}
