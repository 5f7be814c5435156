/* net.c - sockets, signals and exact I/O for the course library (see lab.h). */
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The stop: SIGINT and SIGTERM are blocked in every thread, and one thread of
 * the library's waits for them with sigwait().  No handler runs, so nothing
 * can interrupt a learner's accept() or recv() halfway, or be lost between a
 * check and a blocking call: the thread ends the whole program instead. */
static pthread_mutex_t stopping = PTHREAD_MUTEX_INITIALIZER; /* guards at_stop */
static void (*at_stop)(void);

static void *wait_for_stop(void *arg)
{
	sigset_t *stop = arg;
	int sig;

	while (sigwait(stop, &sig) != 0)
		continue;
	pthread_mutex_lock(&stopping);
	if (at_stop != NULL)
		at_stop();
	/* _exit(), not exit(): exit() would run atexit handlers (OpenSSL's
	 * cleanup among them) while other threads still use what they free, and
	 * must not run twice if main() returns meanwhile.  So flush by hand what
	 * exit() would have flushed; the kernel closes every socket.  (Not
	 * close() here: a thread in accept() or recv() on it would report EBADF,
	 * or exit 1, before this exit ends it.) */
	fflush(stdout);
	fflush(stderr);
	_exit(0);
}

/* A child of fork() has no stop thread: it takes the signals as the default
 * does (they end it) instead of keeping them blocked for ever. */
static void child_default(void)
{
	sigset_t stop;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
}

int lab_catch_signals(void)
{
	static sigset_t stop;
	sigset_t all, old;
	struct sigaction sa;
	pthread_t stopper;
	int rc;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN; /* a vanished peer is EPIPE on one connection */
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -1;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	/* The stop thread starts with every signal blocked, so that it takes no
	 * other signal (SIGCHLD) from the threads that wait for one.  Then the
	 * two are blocked here, before any other thread exists: every thread
	 * created later inherits the mask, so they can only reach sigwait(). */
	sigfillset(&all);
	if ((rc = pthread_sigmask(SIG_BLOCK, &all, &old)) != 0 ||
	    (rc = pthread_create(&stopper, NULL, wait_for_stop, &stop)) != 0 ||
	    (rc = pthread_detach(stopper)) != 0 ||
	    (rc = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0 ||
	    (rc = pthread_sigmask(SIG_BLOCK, &stop, NULL)) != 0 ||
	    (rc = pthread_atfork(NULL, NULL, child_default)) != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

void lab_at_stop(void (*fn)(void))
{
	pthread_mutex_lock(&stopping); /* the stop thread reads it under this lock */
	at_stop = fn;
	pthread_mutex_unlock(&stopping);
}

/* getaddrinfo for host:port, IPv4 or IPv6: whichever families host has,
 * in the order the resolver prefers. */
static struct addrinfo *resolve(const char *host, const char *port, int type, int passive,
                                char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
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
	int fd = -1, one = 1, off = 0, saved = 0;

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
		 * sit in TIME_WAIT, as the seed's setsockopt() does.  IPV6_V6ONLY
		 * off: a socket on "::" takes IPv4 clients too, as ::ffff:a.b.c.d. */
		if ((type != SOCK_STREAM ||
		     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0) &&
		    (ai->ai_family != AF_INET6 ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0) &&
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

int lab_announce(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN];
	int port;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, NULL, 0, NI_NUMERICHOST) !=
	            0)
		return -1;
	port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                      : ((struct sockaddr_in *)&ss)->sin_port);
	/* Tests and graders wait for this line, so it goes out at once (stderr
	 * is unbuffered) and only once the socket can take traffic. */
	fprintf(stderr, "listening on %s:%d\n", host, port);
	return port;
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
	while (got < 0 && errno == EINTR);
	return got;
}

ssize_t lab_readn(int fd, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t got = read(fd, (char *)buf + done, n - done);
		if (got < 0) {
			if (errno == EINTR)
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
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (rc == 0)
			continue; /* the deadline check above ends it */
		got = recv(fd, (char *)buf + done, n - done, 0);
		if (got < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
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
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)put;
	}
	return (ssize_t)done;
}
