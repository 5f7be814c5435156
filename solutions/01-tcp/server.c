/* server.c - lesson 01: a TCP server that answers every chunk it receives with "ACK: " + chunk. */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define BUFSIZE 1024 /* the seed's recv(1024) */

/* Serve one client until it closes: print each chunk, send it back behind "ACK: ". */
static void serve(int conn)
{
	char buf[BUFSIZE], reply[5 + BUFSIZE];
	ssize_t n;

	for (;;) {
		n = lab_recv(conn, buf, sizeof buf);
		if (n == 0) /* EOF: the client has closed its side */
			return;
		if (n < 0) {
			if (!lab_stop)
				warn("recv");
			return;
		}
		lab_print_text(stdout, "Received: ", buf, (size_t)n);
		/* One send for header and data, as the seed's b"ACK: " + data. */
		memcpy(reply, "ACK: ", 5);
		memcpy(reply + 5, buf, (size_t)n);
		if (lab_writen(conn, reply, 5 + (size_t)n) < 0) {
			warn("send");
			return;
		}
	}
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "65432";
	const struct lab_opt opts[] = { LAB_OPT_HOST(&host), LAB_OPT_PORTNUM(&port), LAB_OPT_END };
	struct sockaddr_storage peer;
	socklen_t len;
	char who[LAB_ADDRLEN];
	int lfd, conn;

	lab_args(argc, argv, opts, "TCP echo server: answers each chunk with \"ACK: \" + chunk.",
	         NULL);
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line reaches a pipe as it is printed */
	if (lab_catch_signals() < 0)
		err(1, "sigaction");

	lfd = xlisten(host, port, SOCK_STREAM, 5);
	printf("Server listening on %s:%d\n", host, lab_local_port(lfd));

	/* One client at a time, as in the seed: the next waits in the backlog. */
	while (!lab_stop) {
		len = sizeof peer;
		conn = accept(lfd, (struct sockaddr *)&peer, &len);
		if (conn < 0) {
			if (lab_stop || errno == EINTR || errno == ECONNABORTED)
				continue; /* a signal (the loop checks lab_stop) or a client gone */
			err(1, "accept");
		}
		printf("Connection from %s\n",
		       lab_addr_str((struct sockaddr *)&peer, len, who, sizeof who));
		/* A SIGTERM that lands just before serve()'s recv() must still end
		 * it: the signal handler shuts this connection down too. */
		if (lab_shutdown_on_stop(conn) < 0)
			err(1, "lab_shutdown_on_stop");
		serve(conn);
		lab_forget_on_stop(conn);
		close(conn);
	}
	close(lfd);
	return 0;
}
