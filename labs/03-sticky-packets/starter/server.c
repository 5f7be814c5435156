/* server.c - lesson 03: read one connection in --bufsize chunks and see where the messages went.
 *
 * Your job is the TODOs below; ../README.md walks through each one.
 *   make test-lab LAB=03 IMPL=starter    runs this lesson's tests on your code
 *   make                                 shows your progress
 */
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
	/* TODO: accept one connection and give it the --timeout, as in lesson 01
	 * (lab_set_timeout() in lab.h is what you wrote there).  Then pause_for(delay), so
	 * that everything the client sends has arrived.  Then, until recv() reports EOF:
	 * receive up to bufsize bytes and print them as "Received: TEXT".  A recv() that
	 * fails ends the server with 1 and one line on stderr ("timed out" when the
	 * --timeout passed).  Close the connection and return 0. */
	(void)lfd;
	(void)buf;
	(void)bufsize;
	(void)delay;
	(void)timeout;
	return 0;
}

/* UDP: after the first datagram and the delay, every datagram waiting is read
 * with one recv() each. */
static int serve_datagrams(int fd, char *buf, size_t bufsize, double delay)
{
	/* TODO: wait until the first datagram is there (poll() for POLLIN), then
	 * pause_for(delay).  Then read, one recv() of up to bufsize bytes per datagram, every
	 * datagram that is waiting, printing each as "Received: TEXT"; stop when none is left
	 * (make the socket non-blocking: recv() then fails with EAGAIN). Return 0. */
	(void)fd;
	(void)buf;
	(void)bufsize;
	(void)delay;
	(void)pause_for;
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
