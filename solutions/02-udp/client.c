/* client.c - lesson 02: send one UDP datagram and print the one that comes back. */
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
	struct addrinfo hints, *res;
	struct timeval tv;
	char buf[1024];
	ssize_t n;
	int fd, rc;

	lab_args(argc, argv, opts, "UDP client: sends one datagram and prints the reply.", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(1, "%s:%s: %s", host, port, gai_strerror(rc));
	/* No connection to try: nothing answers until a datagram is sent, so the
	 * first address is the one (as the seed's sendto(('127.0.0.1', 9999))). */
	if ((fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol)) < 0)
		err(1, "socket");
	/* UDP may lose the datagram or the reply: wait --timeout, not forever. */
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
		err(1, "setsockopt");
	/* The whole message is one datagram: it arrives whole or not at all. */
	if (sendto(fd, message, strlen(message), 0, res->ai_addr, res->ai_addrlen) < 0)
		err(1, "sendto %s:%s", host, port);
	freeaddrinfo(res);
	while ((n = recvfrom(fd, buf, sizeof buf, 0, NULL, NULL)) < 0 && errno == EINTR)
		continue;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		errx(1, "no reply from %s:%s within %g s", host, port, timeout);
	if (n < 0)
		err(1, "recvfrom");
	lab_print_text(stdout, "Response: ", buf, (size_t)n);
	close(fd);
	return 0;
}
