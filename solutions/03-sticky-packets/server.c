/* server.c - lesson 03: read one connection in --bufsize chunks and see where the messages went. */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Sleep for `seconds`. */
static void pause_for(double seconds)
{
	struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue; /* interrupted: sleep the rest */
}

/* TCP: one connection; after the delay, every recv() prints what it got. */
static int serve_stream(int lfd, char *buf, size_t bufsize, double delay, double timeout)
{
	ssize_t n;
	int conn;

	while ((conn = accept(lfd, NULL, NULL)) < 0)
		if (errno != EINTR && errno != ECONNABORTED)
			err(1, "accept");
	/* A client that goes silent for --timeout is dropped (lesson 01's SO_RCVTIMEO). */
	if (lab_set_timeout(conn, timeout) < 0)
		err(1, "setsockopt");
	/* Give the client time to send all its messages: now they are all
	 * waiting in one byte stream, and nothing marks where each ended. */
	pause_for(delay);
	while ((n = lab_recv(conn, buf, bufsize)) > 0)
		lab_print_text(stdout, "Received: ", buf, (size_t)n);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		warnx("client silent for %g s: timed out", timeout);
	else if (n < 0)
		warn("recv");
	close(conn);
	return n < 0 ? 1 : 0;
}

/* UDP: after the first datagram and the delay, every datagram waiting is read
 * with one recv(): each send is still one message (cut to bufsize if longer). */
static int serve_datagrams(int fd, char *buf, size_t bufsize, double delay)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n;

	while (poll(&pfd, 1, -1) < 0)
		if (errno != EINTR)
			err(1, "poll");
	pause_for(delay);
	/* Non-blocking now: "nothing left" is EAGAIN instead of waiting forever. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		err(1, "fcntl");
	while ((n = recv(fd, buf, bufsize, 0)) >= 0)
		lab_print_text(stdout, "Received: ", buf, (size_t)n);
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		err(1, "recv");
	return 0;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "65433";
	double delay = 0.2, timeout = 5;
	size_t bufsize = 1024;
	bool udp = false;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--delay", "SECONDS", "wait before the first read", LAB_OPT_SECONDS, &delay, 0, 0,
		  NULL },
		{ "--bufsize", "N", "bytes asked of each recv()", LAB_OPT_SIZE, &bufsize, 1, 65536,
		  NULL },
		{ "--udp", NULL, "datagrams instead of a stream", LAB_OPT_FLAG, &udp, 0, 0, NULL },
		{ "--timeout", "SECONDS", "drop a client that is silent that long", LAB_OPT_SECONDS,
		  &timeout, 0, 0, NULL },
		LAB_OPT_END,
	};
	char *buf;
	int fd, rc;

	lab_args(argc, argv, opts, "Sticky packets: prints each chunk that recv() returns.", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lab_catch_signals() < 0)
		err(1, "lab_catch_signals");
	if ((buf = malloc(bufsize)) == NULL)
		err(1, "malloc");

	fd = xlisten(host, port, udp ? SOCK_DGRAM : SOCK_STREAM, 5);
	rc = udp ? serve_datagrams(fd, buf, bufsize, delay)
	         : serve_stream(fd, buf, bufsize, delay, timeout);
	close(fd);
	free(buf);
	return rc;
}
