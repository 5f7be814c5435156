/* server.c - lesson 02: a UDP server that reports each datagram and answers "Message received". */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "9999";
	const struct lab_opt opts[] = { LAB_OPT_HOST(&host), LAB_OPT_PORTNUM(&port), LAB_OPT_END };
	struct sockaddr_storage peer;
	socklen_t len;
	char buf[1024], who[LAB_ADDRLEN], from[LAB_ADDRLEN + 8];
	ssize_t n;
	int fd;

	lab_args(argc, argv, opts,
	         "UDP server: reports each datagram and answers \"Message received\".", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lab_catch_signals() < 0)
		err(1, "sigaction");

	/* No listen() and no accept(): a UDP socket is bound, then every
	 * datagram from anyone arrives on it, with the sender's address. */
	fd = xlisten(host, port, SOCK_DGRAM, 0);
	printf("UDP Server started...\n");

	while (!lab_stop) {
		len = sizeof peer;
		/* One datagram per call; a longer one is cut to the buffer and the
		 * rest is lost, as Python's recvfrom(1024). */
		n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &len);
		if (lab_stop)
			break; /* SIGINT or SIGTERM while we waited */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err(1, "recvfrom");
		}
		/* An empty datagram (n == 0) is a datagram too: it is printed and answered. */
		lab_addr_str((struct sockaddr *)&peer, len, who, sizeof who);
		snprintf(from, sizeof from, " from %s", who);
		lab_print_line(stdout, "Received ", buf, (size_t)n, from);
		if (sendto(fd, "Message received", 16, 0, (struct sockaddr *)&peer, len) < 0 &&
		    !lab_stop)
			warn("sendto %s", who); /* that client's problem, not the server's */
	}
	close(fd);
	return 0;
}
