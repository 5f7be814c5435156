/* client.c - lesson 01: send one message over TCP and print the server's reply. */
#include "lab.h"

#include <err.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "65432", *message = "Hello, Server";
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--message", "TEXT", "what to send", LAB_OPT_STRING, &message, 0, 0, NULL },
		LAB_OPT_END,
	};
	char buf[1024];
	ssize_t n;
	int fd;

	lab_args(argc, argv, opts, "TCP client: sends one message and prints the reply.", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	fd = xconnect(host, port, SOCK_STREAM);
	/* The message's bytes exactly as given, in one sendall.  (lab_writen
	 * sends with MSG_NOSIGNAL: a vanished server is an error, not SIGPIPE.) */
	if (lab_writen(fd, message, strlen(message)) < 0)
		err(1, "send");
	/* One recv(1024), as the seed: whatever has arrived is the reply. */
	if ((n = lab_recv(fd, buf, sizeof buf)) < 0)
		err(1, "recv");
	lab_print_text(stdout, "Server replied: ", buf, (size_t)n);
	close(fd);
	return 0;
}
