/* client.c - lesson 02: send one UDP datagram and print the one that comes back.
 *
 * Your job is the TODOs below; ../README.md walks through each call.
 *   make test-lab LAB=02 IMPL=starter    runs this lesson's tests on your code
 */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "9999", *message = "Hello via UDP";
	double timeout = 2;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--message", "TEXT", "what to send", LAB_OPT_STRING, &message, 0, 0, NULL },
		{ "--timeout", "SECONDS", "how long to wait for the reply", LAB_OPT_SECONDS,
		  &timeout, 0, 0, NULL },
		LAB_OPT_END,
	};

	lab_args(argc, argv, opts, "UDP client: sends one datagram and prints the reply.", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* TODO: getaddrinfo() for host and port, any family, SOCK_DGRAM; a socket() for the
	 * first address it returns. */

	/* TODO: make a recvfrom() on that socket give up after `timeout` seconds
	 * (setsockopt SO_RCVTIMEO takes a struct timeval). */

	/* TODO: send the message as one datagram to that address (sendto). */

	/* TODO: receive one datagram of up to 1024 bytes (recvfrom).  If the timeout passed
	 * (errno EAGAIN), say "no reply" in one line on stderr and exit 1; otherwise print
	 * "Response: TEXT" with lab_print_text().  Close the socket. */
	(void)host;
	(void)port;
	(void)message;
	(void)timeout;
	return 0;
}
