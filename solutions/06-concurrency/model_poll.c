/* model_poll.c - lesson 06: one thread, non-blocking sockets, poll(2) (an event loop). */
#include "lab.h"
#include "server.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One client: waiting for its request, then for its reply to be sent. */
struct client {
	char host[LAB_ADDRLEN];
	char buf[REQUEST_MAX];
	size_t start, left; /* the reply still to send: buf[start..start+left) */
	int replying;
	double due; /* when it is dropped unless it makes progress (client_timeout) */
};

/* Seconds on a clock that only goes forward. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* poll()'s timeout in ms: until the first client is due, or -1 (none). */
static int until_due(const struct client *cl, size_t n)
{
	double first = -1, left;
	size_t i;

	for (i = 1; i < n; i++)
		if (first < 0 || cl[i].due < first)
			first = cl[i].due;
	if (first < 0)
		return -1;
	left = first - now();
	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

static int nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Double the room in both arrays; 0, or -1 with the room as it was (the
 * first array may have grown: harmless). */
static int grow(struct pollfd **fds, struct client **cl, size_t *cap)
{
	struct pollfd *f = realloc(*fds, 2 * *cap * sizeof **fds);
	struct client *c;

	if (f == NULL)
		return -1;
	*fds = f;
	if ((c = realloc(*cl, 2 * *cap * sizeof **cl)) == NULL)
		return -1;
	*cl = c;
	*cap *= 2;
	return 0;
}

/* Accept every connection waiting; grow the arrays as needed. */
static void accept_all(int lfd, struct pollfd **fds, struct client **cl, size_t *n, size_t *cap)
{
	struct sockaddr_storage peer;
	socklen_t len;
	int conn;

	for (;;) {
		len = sizeof peer;
		if ((conn = accept(lfd, (struct sockaddr *)&peer, &len)) < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && !accept_retry())
				err(1, "accept");
			return; /* the rest at the next event */
		}
		if (*n == *cap && grow(fds, cl, cap) < 0) {
			warnx("out of memory: connection refused");
			close(conn);
			return;
		}
		if (nonblocking(conn) < 0) {
			warn("fcntl");
			close(conn);
			continue;
		}
		(*fds)[*n] = (struct pollfd){ conn, POLLIN, 0 };
		memset(&(*cl)[*n], 0, sizeof **cl);
		(*cl)[*n].due = now() + client_timeout;
		lab_host_str((struct sockaddr *)&peer, len, (*cl)[*n].host, sizeof(*cl)[*n].host);
		(*n)++;
	}
}

/* Make progress on one client; 1 when it is finished (and closed). */
static int step(struct pollfd *p, struct client *c)
{
	ssize_t got;
	size_t n;

	if (!c->replying) {
		/* poll() said readable: this recv() does not block. */
		if ((got = recv(p->fd, c->buf, sizeof c->buf, 0)) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			warn("%s: recv", c->host);
			close(p->fd);
			return 1;
		}
		c->start = (size_t)(transform(c->buf, (size_t)got, &n) - c->buf);
		c->left = n;
		c->replying = 1;
		c->due = now() + client_timeout;
		printf("Received from %s\n", c->host);
		p->events = POLLOUT;
	}
	while (c->left > 0) {
		got = send(p->fd, c->buf + c->start, c->left, MSG_NOSIGNAL);
		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0; /* the rest when poll() says writable */
			warn("%s: send", c->host);
			break;
		}
		c->start += (size_t)got;
		c->left -= (size_t)got;
		c->due = now() + client_timeout;
	}
	shutdown(p->fd, SHUT_WR);
	close(p->fd);
	return 1;
}

int serve_poll(int lfd)
{
	size_t n = 1, cap = 64, i;
	struct pollfd *fds = malloc(cap * sizeof *fds);
	struct client *cl = malloc(cap * sizeof *cl);
	int done;

	if (fds == NULL || cl == NULL || nonblocking(lfd) < 0)
		err(1, "setting up");
	fds[0] = (struct pollfd){ lfd, POLLIN, 0 }; /* slot 0: the listening socket */
	for (;;) {
		/* One wait for every socket, and for the first client's deadline:
		 * no thread blocks on any one client. */
		if (poll(fds, n, until_due(cl, n)) < 0) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if (fds[0].revents != 0)
			accept_all(lfd, &fds, &cl, &n, &cap);
		for (i = n; i-- > 1;) {
			done = fds[i].revents != 0 && step(&fds[i], &cl[i]);
			if (!done && cl[i].due <= now()) {
				/* silent, or not reading: as handle_client() says it */
				warnx("%s: %s: timed out", cl[i].host,
				      cl[i].replying ? "send" : "recv");
				close(fds[i].fd);
				done = 1;
			}
			if (done) {
				/* Finished: the last slot takes its place. */
				fds[i] = fds[--n];
				cl[i] = cl[n];
			}
		}
	}
}
