/* client.c - lesson 02: send one UDP datagram and print the one that comes back.
 *
 * Your job is the TODOs below; ../README.md walks through each one.
 *   make test-lab LAB=02 IMPL=starter    runs this lesson's tests on your code
 */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <string.h>
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

	/* TODO: make a UDP socket aimed at host:port. */

	/* TODO: send the message as one datagram. */

	/* TODO: wait at most `timeout` seconds for one datagram of up to 1024 bytes. If none
	 * comes, say so in one line on stderr and exit 1; otherwise print "Response: TEXT". */

	/* TODO: close the socket. */
	(void)host;
	(void)port;
	(void)message;
	(void)timeout;
	return 0;
}
