/* handle.c - lesson 06: what the server does for one client, whichever model runs it. */
#include "lab.h"
#include "server.h"

#include <err.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int accept_retry(void)
{
	struct timespec pause = { 0, 100L * 1000 * 1000 };

	switch (errno) {
	case EINTR:
	case ECONNABORTED:
		return 1;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		warn("accept");
		nanosleep(&pause, NULL);
		return 1;
	}
	return 0;
}

char *transform(char *req, size_t n, size_t *out_len)
{
	size_t i;

	/* bytes.strip(): space, \t \n \v \f \r at both ends, and nothing else
	 * (not NUL, not 0x1c-0x1f, which str.strip() would take). */
#define WS(c) ((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))
	while (n > 0 && WS(req[n - 1]))
		n--;
	while (n > 0 && WS(*req)) {
		req++;
		n--;
	}
#undef WS
	/* bytes.upper(): a-z only; other bytes, UTF-8 included, pass through. */
	for (i = 0; i < n; i++)
		if (req[i] >= 'a' && req[i] <= 'z')
			req[i] = (char)(req[i] - 'a' + 'A');
	*out_len = n;
	return req;
}

double client_timeout = 5;

/* Why recv() or send() failed, for one line on stderr. */
static const char *why(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno);
}

void handle_client(int conn, const struct sockaddr *peer, socklen_t len)
{
	char req[REQUEST_MAX], host[LAB_ADDRLEN], *reply;
	size_t n;
	ssize_t got;

	lab_host_str(peer, len, host, sizeof host);
	/* A client that sends nothing, or does not read, is dropped: in the pool
	 * it would hold a thread, in the fork model a process, for ever. */
	if (lab_set_timeout(conn, client_timeout) < 0)
		warn("setsockopt");
	/* One recv, as the seed: a longer request is cut at 1024 bytes. */
	if ((got = lab_recv(conn, req, sizeof req)) < 0) {
		warnx("%s: recv: %s", host, why());
		close(conn);
		return;
	}
	reply = transform(req, (size_t)got, &n);
	/* One printf is one locked stdio call: lines from threads never mix. */
	printf("Received from %s\n", host);
	if (lab_writen(conn, reply, n) < 0)
		warnx("%s: send: %s", host, why());
	/* As socketserver's shutdown_request(): "no more from me", then close. */
	shutdown(conn, SHUT_WR);
	close(conn);
}
