/* server.c - lesson 01: a TCP server that answers every chunk it receives with "ACK: " + chunk.
 *
 * Your job is the TODOs below; ../README.md walks through each one.
 *   make test-lab LAB=01 IMPL=starter    runs this lesson's tests on your code
 *   make                                 shows your progress
 */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define BUFSIZE 1024 /* the seed's recv(1024) */

/* Serve one client until it closes its side of the connection. */
static void serve(int conn)
{
	/* TODO: until recv() says the client has closed (it returns 0):
	 *   - receive up to BUFSIZE bytes;
	 *   - print them as "Received: TEXT" (lab_print_text prints bytes as Python would);
	 *   - send back "ACK: " followed by exactly those bytes, in one message.
	 * If recv() or send() fails, give up on this client (not on the server). */
	(void)conn;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "65432";
	const struct lab_opt opts[] = { LAB_OPT_HOST(&host), LAB_OPT_PORTNUM(&port), LAB_OPT_END };

	lab_args(argc, argv, opts, "TCP echo server: answers each chunk with \"ACK: \" + chunk.",
	         NULL);
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line reaches a pipe as it is printed */
	if (lab_catch_signals() < 0)
		err(1, "sigaction");

	/* TODO: open a TCP socket listening on host:port with a backlog of 5
	 * (xlisten in lab.h does it and prints the "listening on" line tests wait for). */

	/* TODO: print "Server listening on HOST:PORT", with the port the socket really got:
	 * with --port 0 the kernel chooses it. */

	/* TODO: until lab_stop is set (SIGINT or SIGTERM): accept a client, print
	 * "Connection from ('IP', PORT)", serve it, then close its socket.  While it
	 * is served, the signal handler must be able to shut it down
	 * (lab_shutdown_on_stop; the README's "SIGINT, SIGTERM and EINTR" says why). */

	/* TODO: close the listening socket. */
	(void)host;
	(void)port;
	(void)serve;
	return 0;
}
