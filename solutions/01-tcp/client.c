/* client.c - lesson 01: send one message over TCP and print the server's reply. */
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <netdb.h>
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
	struct addrinfo hints, *res, *ai;
	char buf[1024];
	size_t len, sent = 0;
	ssize_t n;
	int fd = -1, rc, saved = 0;

	lab_args(argc, argv, opts, "TCP client: sends one message and prints the reply.", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC; /* IPv4 or IPv6, whichever host is */
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(1, "%s:%s: %s", host, port, gai_strerror(rc));
	/* Each address in turn until one answers ("localhost": maybe ::1, then 127.0.0.1). */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = saved;
		err(1, "cannot connect to %s:%s", host, port);
	}

	/* The message's bytes exactly as given, all of them (sendall). */
	len = strlen(message);
	while (sent < len) {
		if ((n = send(fd, message + sent, len - sent, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			err(1, "send");
		}
		sent += (size_t)n;
	}
	/* One recv(1024), as the seed: whatever has arrived is the reply. */
	while ((n = recv(fd, buf, sizeof buf, 0)) < 0 && errno == EINTR)
		continue;
	if (n < 0)
		err(1, "recv");
	lab_print_text(stdout, "Server replied: ", buf, (size_t)n);
	close(fd);
	return 0;
}
