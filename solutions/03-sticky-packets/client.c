/* client.c - lesson 03: send each message with its own send() call, then close. */
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
	int first, count, i, fd;

	first = lab_args(argc, argv, opts,
	                 "Sticky packets: sends each message with its own send().",
	                 "[MESSAGE ...]");
	messages = first < argc ? argv + first : defaults;
	count = first < argc ? argc - first : 2;

	fd = xconnect(host, port, udp ? SOCK_DGRAM : SOCK_STREAM);
	for (i = 0; i < count; i++) {
		size_t len = strlen(messages[i]);
		/* One send per message.  Over TCP that marks nothing on the wire:
		 * the receiver gets one stream of bytes (lab_writen is sendall:
		 * it loops over short writes).  Over UDP each send() is one
		 * datagram, even an empty one. */
		if ((udp ? send(fd, messages[i], len, 0) : lab_writen(fd, messages[i], len)) < 0)
			err(1, "send");
	}
	close(fd);
	return 0;
}
