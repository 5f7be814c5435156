/* server.c - lesson 01: a TCP server that answers every chunk it receives with "ACK: " + chunk. */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define BUFSIZE 1024 /* the seed's recv(1024) */

/* A TCP socket listening on host:port (IPv4 or IPv6), or exit 1 with the reason. */
static int open_listener(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, one = 1, off = 0, rc, saved = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;     /* whichever family host is: 127.0.0.1, ::1, ... */
	hints.ai_socktype = SOCK_STREAM; /* TCP */
	hints.ai_flags = AI_PASSIVE;     /* an address to bind to, not to connect to */
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(1, "%s:%s: %s", host, port, gai_strerror(rc));
	/* "localhost" can mean ::1 and 127.0.0.1: take the first that binds. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0) {
			saved = errno;
			continue;
		}
		/* SO_REUSEADDR: bind even while old connections sit in TIME_WAIT.
		 * IPV6_V6ONLY off: a socket on "::" takes IPv4 clients too. */
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
		    (ai->ai_family != AF_INET6 ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0) &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 5) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = saved;
		err(1, "cannot listen on %s:%s", host, port);
	}
	return fd;
}

/* Send all n bytes, as Python's sendall(): send() may take fewer.  0, or -1 with errno set. */
static int send_all(int fd, const char *buf, size_t n)
{
	ssize_t put;

	while (n > 0) {
		/* MSG_NOSIGNAL: a client that vanished is EPIPE, not a SIGPIPE that kills us. */
		if ((put = send(fd, buf, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += put;
		n -= (size_t)put;
	}
	return 0;
}

/* Serve one client until it closes: print each chunk, send it back behind "ACK: ". */
static void serve(int conn, const char *who)
{
	char buf[BUFSIZE], reply[5 + BUFSIZE];
	ssize_t n;

	for (;;) {
		if ((n = recv(conn, buf, sizeof buf, 0)) < 0 && errno == EINTR)
			continue;
		if (n == 0) /* EOF: the client has closed its side */
			return;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			warnx("%s: timed out", who); /* SO_RCVTIMEO: silent too long */
			return;
		}
		if (n < 0) {
			warn("%s: recv", who);
			return;
		}
		lab_print_text(stdout, "Received: ", buf, (size_t)n);
		/* One send for header and data, as the seed's b"ACK: " + data. */
		memcpy(reply, "ACK: ", 5);
		memcpy(reply + 5, buf, (size_t)n);
		if (send_all(conn, reply, 5 + (size_t)n) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				warnx("%s: timed out", who); /* SO_SNDTIMEO: it stopped reading */
			else
				warn("%s: send", who);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "65432";
	double timeout = 5;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--timeout", "SECONDS", "drop a client that is silent that long", LAB_OPT_SECONDS,
		  &timeout, 0, 0, NULL },
		LAB_OPT_END,
	};
	struct sockaddr_storage peer; /* room for an IPv4 or an IPv6 address */
	socklen_t len;
	struct timeval idle;
	char who[LAB_ADDRLEN];
	int lfd, conn;

	lab_args(argc, argv, opts, "TCP echo server: answers each chunk with \"ACK: \" + chunk.",
	         NULL);
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line reaches a pipe as it is printed */
	if (lab_catch_signals() < 0)      /* SIGINT, SIGTERM: exit 0, from wherever we are */
		err(1, "lab_catch_signals");

	lfd = open_listener(host, port);
	printf("Server listening on %s:%d\n", host, lab_announce(lfd));

	idle.tv_sec = (time_t)timeout;
	idle.tv_usec = (suseconds_t)((timeout - (double)idle.tv_sec) * 1e6);
	/* One client at a time, as in the seed: the next waits in the backlog. */
	for (;;) {
		len = sizeof peer;
		if ((conn = accept(lfd, (struct sockaddr *)&peer, &len)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue; /* a client that gave up before we took it */
			err(1, "accept");
		}
		printf("Connection from %s\n",
		       lab_addr_str((struct sockaddr *)&peer, len, who, sizeof who));
		/* A client that stops sending or reading for --timeout is dropped:
		 * otherwise it would hold the server, and everyone waiting. */
		if (setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle) < 0 ||
		    setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof idle) < 0)
			err(1, "setsockopt");
		serve(conn, who);
		close(conn);
	}
}
