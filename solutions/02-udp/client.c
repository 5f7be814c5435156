/* client.c - lesson 02: send one UDP datagram and print the one that comes back. */
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
	char buf[1024];
	ssize_t n;
	int fd;

	lab_args(argc, argv, opts, "UDP client: sends one datagram and prints the reply.", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* A "connected" UDP socket: send() needs no address, recv() only takes
	 * datagrams from the server, and an ICMP "port unreachable" comes back
	 * as ECONNREFUSED instead of silence. */
	fd = xconnect(host, port, SOCK_DGRAM);
	if (lab_set_timeout(fd, timeout) < 0)
		err(1, "setsockopt");
	/* The whole message is one datagram: it arrives whole or not at all. */
	if (send(fd, message, strlen(message), 0) < 0)
		err(1, "send");
	/* UDP may lose the datagram or the reply: wait --timeout, not forever. */
	do
		n = recv(fd, buf, sizeof buf, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		errx(1, "no reply from %s:%s within %g s", host, port, timeout);
	if (n < 0)
		err(1, "recv from %s:%s", host, port);
	lab_print_text(stdout, "Response: ", buf, (size_t)n);
	close(fd);
	return 0;
}
