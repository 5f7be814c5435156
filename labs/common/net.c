/* net.c - sockets, signals and exact I/O for the course library (see lab.h). */
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

atomic_int lab_stop = 0;
/* The sockets to shut down on SIGINT or SIGTERM (see lab_shutdown_on_stop()):
 * the listening socket and the connection being served are enough for the
 * lessons' one-thread servers.  -1 is a free slot. */
static atomic_int stop_fds[LAB_STOP_FDS] = { -1, -1, -1, -1 };

static void on_stop(int sig)
{
	int i, fd;

	(void)sig;
	lab_stop = 1;
	/* EINTR only reaches a call that is already blocked.  A signal that lands
	 * between the loop's check of lab_stop and accept() (or recv()) would
	 * be lost, so also shut the sockets down: the call then returns at once,
	 * whenever it is made.  shutdown() is async-signal-safe; on an unconnected
	 * UDP socket Linux fails it with ENOTCONN but still wakes the readers. */
	for (i = 0; i < LAB_STOP_FDS; i++)
		if ((fd = stop_fds[i]) >= 0)
			shutdown(fd, SHUT_RDWR);
}

int lab_shutdown_on_stop(int fd)
{
	int i, free_slot = -1;

	for (i = 0; i < LAB_STOP_FDS; i++) {
		if (stop_fds[i] == fd)
			return 0;
		if (stop_fds[i] < 0 && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		errno = EMFILE;
		return -1;
	}
	stop_fds[free_slot] = fd;
	/* The signal may have come before fd was in the set: then shut it now. */
	if (lab_stop)
		shutdown(fd, SHUT_RDWR);
	return 0;
}

void lab_forget_on_stop(int fd)
{
	int i;

	for (i = 0; i < LAB_STOP_FDS; i++)
		if (stop_fds[i] == fd)
			stop_fds[i] = -1;
}

int lab_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked accept() or recv() must return EINTR so that
	 * the loop around it sees lab_stop. */
	sa.sa_handler = on_stop;
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

/* getaddrinfo for host:port.  The seed's sockets are all AF_INET, and the
 * contract prints IPv4 tuples, so the library asks for IPv4 only; use
 * AF_UNSPEC here to serve IPv6 as well. */
static struct addrinfo *resolve(const char *host, const char *port, int type, int passive,
                                char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = type;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s:%s: %s", host, port,
		         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return NULL;
	}
	return res;
}

int lab_listen(const char *host, const char *port, int type, int backlog, char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	int fd = -1, one = 1, saved = 0;

	if ((res = resolve(host, port, type, 1, err, errlen)) == NULL)
		return -1;
	/* Try each address getaddrinfo found until one binds. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		/* SO_REUSEADDR lets a restarted server bind while old connections
		 * sit in TIME_WAIT, as the seed's setsockopt() does. */
		if ((type != SOCK_STREAM ||
		     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0) &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    (type != SOCK_STREAM || listen(fd, backlog) == 0))
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot listen on %s:%s: %s", host, port, strerror(saved));
	return fd;
}

int lab_connect(const char *host, const char *port, int type, char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	int fd = -1, saved = 0;

	if ((res = resolve(host, port, type, 0, err, errlen)) == NULL)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
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
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s:%s: %s", host, port, strerror(saved));
	return fd;
}

int lab_set_timeout(int fd, double seconds)
{
	struct timeval tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1; /* 0 would mean "no timeout" */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		return -1;
	return 0;
}

int lab_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

char *lab_host_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	char host[INET6_ADDRSTRLEN];

	if (getnameinfo(sa, len, host, sizeof host, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(host, sizeof host, "?");
	snprintf(buf, buflen, "%s", host);
	return buf;
}

char *lab_addr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	char host[INET6_ADDRSTRLEN], port[8];

	if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, buflen, "('?', 0)");
		return buf;
	}
	if (sa->sa_family == AF_INET6) /* Python adds flowinfo and scope_id */
		snprintf(buf, buflen, "('%s', %s, 0, 0)", host, port);
	else
		snprintf(buf, buflen, "('%s', %s)", host, port);
	return buf;
}

ssize_t lab_recv(int fd, void *buf, size_t n)
{
	ssize_t got;

	do
		got = recv(fd, buf, n, 0);
	while (got < 0 && errno == EINTR && !lab_stop);
	return got;
}

ssize_t lab_readn(int fd, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t got = read(fd, (char *)buf + done, n - done);
		if (got < 0) {
			if (errno == EINTR && !lab_stop)
				continue;
			return -1;
		}
		if (got == 0) /* EOF: the caller sees a short count */
			break;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

ssize_t lab_readn_within(int fd, void *buf, size_t n, double seconds)
{
	struct timespec now, end;
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t done = 0;
	ssize_t got;
	double left;
	int rc;

	if (clock_gettime(CLOCK_MONOTONIC, &end) < 0)
		return -1;
	end.tv_sec += (time_t)seconds;
	end.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (done < n) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (double)(end.tv_sec - now.tv_sec) +
		       (double)(end.tv_nsec - now.tv_nsec) / 1e9;
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		/* Wait for data no longer than what is left of the deadline. */
		if ((rc = poll(&pfd, 1, (int)(left * 1000) + 1)) < 0) {
			if (errno == EINTR && !lab_stop)
				continue;
			return -1;
		}
		if (rc == 0)
			continue; /* the deadline check above ends it */
		got = recv(fd, (char *)buf + done, n - done, 0);
		if (got < 0) {
			if ((errno == EINTR && !lab_stop) || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return -1;
		}
		if (got == 0) /* EOF: the caller sees a short count */
			break;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

ssize_t lab_writen(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t put = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);
		if (put < 0) {
			if (errno == EINTR && !lab_stop)
				continue;
			return -1;
		}
		done += (size_t)put;
	}
	return (ssize_t)done;
}
