/* model_pool.c - lesson 06: threads spawned up front, each accepting in turn (Stevens' prethreaded
 * server). */
#include "lab.h"
#include "server.h"

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void *worker(void *arg)
{
	int lfd = *(int *)arg, conn;
	struct sockaddr_storage peer;
	socklen_t len;

	/* Several threads may wait in accept() on one socket: the kernel gives
	 * each new connection to one of them.  No thread creation per client,
	 * but only as many clients at once as threads. */
	while (!lab_stop) {
		len = sizeof peer;
		if ((conn = accept(lfd, (struct sockaddr *)&peer, &len)) < 0) {
			if (lab_stop || accept_retry())
				continue;
			err(1, "accept");
		}
		handle_client(conn, (struct sockaddr *)&peer, len);
	}
	return NULL;
}

int serve_pool(int lfd, size_t threads)
{
	sigset_t stop, old;
	pthread_t tid;
	size_t i;
	int rc;

	/* The workers start with SIGINT and SIGTERM blocked, so the signal comes
	 * to this thread, which waits for it in sigsuspend() without a race. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if ((rc = pthread_sigmask(SIG_BLOCK, &stop, &old)) != 0)
		errx(1, "pthread_sigmask: %s", strerror(rc));
	for (i = 0; i < threads; i++)
		if ((rc = pthread_create(&tid, NULL, worker, &lfd)) != 0 ||
		    (rc = pthread_detach(tid)) != 0)
			errx(1, "pthread_create: %s", strerror(rc));
	while (!lab_stop)
		sigsuspend(&old);
	/* The handler shut the listening socket down: no worker accepts any
	 * more.  Returning ends the process, and any request still in progress. */
	return 0;
}
