/* server.c - lesson 02: a UDP server that reports each datagram and answers "Message received". */
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
	struct addrinfo hints, *res, *ai;
	int fd = -1, off = 0, rc, saved = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM; /* UDP */
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(1, "%s:%s: %s", host, port, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0) {
			saved = errno;
			continue;
		}
		/* No listen() and no accept(): bound, the socket takes every
		 * datagram sent to its address, from anyone. */
		if ((ai->ai_family != AF_INET6 ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0) &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = saved;
		err(1, "cannot bind %s:%s", host, port);
	}
	return fd;
}

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
		err(1, "lab_catch_signals");

	fd = open_bound(host, port);
	lab_announce(fd);
	printf("UDP Server started...\n");

	for (;;) {
		len = sizeof peer;
		/* One datagram per call, with its sender's address; a longer one is
		 * cut to the buffer and the rest is lost, as Python's recvfrom(1024). */
		if ((n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &len)) < 0) {
			if (errno == EINTR)
				continue;
			err(1, "recvfrom");
		}
		/* An empty datagram (n == 0) is a datagram too: it is printed and answered. */
		lab_addr_str((struct sockaddr *)&peer, len, who, sizeof who);
		snprintf(from, sizeof from, " from %s", who);
		lab_print_line(stdout, "Received ", buf, (size_t)n, from);
		if (sendto(fd, "Message received", 16, 0, (struct sockaddr *)&peer, len) < 0)
			warn("sendto %s", who); /* that client's problem, not the server's */
	}
}
