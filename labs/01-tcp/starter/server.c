/* server.c - lesson 01: a TCP server that answers every chunk it receives with "ACK: " + chunk.
 *
 * Your job is the TODOs below; ../README.md walks through each call.
 *   make test-lab LAB=01 IMPL=starter    runs this lesson's tests on your code
 *   make                                 shows your progress
 */
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
	/* TODO: getaddrinfo() for host and port: any family, SOCK_STREAM, AI_PASSIVE.
	 * For each address it returns, until one works: socket(); setsockopt() SO_REUSEADDR;
	 * for an IPv6 address, IPV6_V6ONLY off; bind(); listen() with a backlog of 5.
	 * Free the list.  If no address worked: one line on stderr and exit 1. */
	(void)host;
	(void)port;
	return -1;
}

/* Serve one client until it closes: print each chunk, send it back behind "ACK: ". */
static void serve(int conn, const char *who)
{
	/* TODO: until recv() returns 0 (the client closed its side):
	 *   - recv() up to BUFSIZE bytes;
	 *   - print them with lab_print_text() as "Received: TEXT";
	 *   - send "ACK: " and those bytes as one message, all of it (send() may take fewer).
	 * recv() or send() failing ends this client, not the server: one line on stderr,
	 * naming `who`; when the failure is the --timeout (errno EAGAIN), say "timed out". */
	(void)conn;
	(void)who;
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
	int lfd;

	lab_args(argc, argv, opts, "TCP echo server: answers each chunk with \"ACK: \" + chunk.",
	         NULL);
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line reaches a pipe as it is printed */
	if (lab_catch_signals() < 0)      /* SIGINT, SIGTERM: exit 0, from wherever we are */
		err(1, "lab_catch_signals");

	lfd = open_listener(host, port);

	/* TODO: lab_announce(lfd) prints the "listening on" line tests wait for and returns
	 * the port the socket really got; print "Server listening on HOST:PORT" with it. */

	/* TODO: for ever, one client at a time: accept() it (a client that gave up, errno
	 * ECONNABORTED, or EINTR, is no reason to stop); print "Connection from ADDR"
	 * (lab_addr_str() formats the address as Python does); give its socket the --timeout
	 * for receiving and for sending (setsockopt SO_RCVTIMEO, SO_SNDTIMEO); serve() it;
	 * close it. */
	(void)lfd;
	(void)timeout;
	(void)serve;
	return 0;
}
