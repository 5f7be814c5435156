/* model_pool.c - lesson 06: threads spawned up front, each accepting in turn (Stevens' prethreaded
 * server). */
#include "lab.h"
#include "server.h"

#include <err.h>
#include <pthread.h>
#include <string.h>

static void *worker(void *arg)
{
	int lfd = *(int *)arg, conn;
	struct sockaddr_storage peer;
	socklen_t len;

	/* Several threads may wait in accept() on one socket: the kernel gives
	 * each new connection to one of them.  No thread creation per client,
	 * but only as many clients at once as threads (each bounded by
	 * client_timeout, so a silent client holds its thread that long only). */
	for (;;) {
		len = sizeof peer;
		if ((conn = accept(lfd, (struct sockaddr *)&peer, &len)) < 0) {
			if (accept_retry())
				continue;
			err(1, "accept");
		}
		handle_client(conn, (struct sockaddr *)&peer, len);
	}
	return NULL;
}

int serve_pool(int lfd, size_t threads)
{
	pthread_t tid;
	size_t i;
	int rc;

	/* threads - 1 new ones; this thread is the last worker. */
	for (i = 1; i < threads; i++)
		if ((rc = pthread_create(&tid, NULL, worker, &lfd)) != 0 ||
		    (rc = pthread_detach(tid)) != 0)
			errx(1, "pthread_create: %s", strerror(rc));
	worker(&lfd);
	return 0;
}
