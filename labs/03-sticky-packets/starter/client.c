/* client.c - lesson 03: send each message with its own send() call, then close.
 *
 * Your job is the TODO below; ../README.md walks through it.
 *   make test-lab LAB=03 IMPL=starter    runs this lesson's tests on your code
 */
#include "lab.h"

#include <err.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "65433";
	char *defaults[] = { "Hello", "World" };
	bool udp = false;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--udp", NULL, "datagrams instead of a stream", LAB_OPT_FLAG, &udp, 0, 0, NULL },
		LAB_OPT_END,
	};
	char **messages;
	int first, count;

	first = lab_args(argc, argv, opts,
	                 "Sticky packets: sends each message with its own send().",
	                 "[MESSAGE ...]");
	messages = first < argc ? argv + first : defaults;
	count = first < argc ? argc - first : 2;

	/* TODO: connect to host:port, over UDP if udp is set, else TCP.  Send each of the
	 * `count` messages with its own send: over TCP all of its bytes (sendall), over UDP
	 * exactly one datagram (an empty message is an empty datagram).  Then close. */
	(void)host;
	(void)port;
	(void)messages;
	(void)count;
	return 0;
}
