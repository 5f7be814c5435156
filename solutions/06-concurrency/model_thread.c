/* model_thread.c - lesson 06: a thread per connection (what ThreadingTCPServer does). */
#include "lab.h"
#include "server.h"

#include <err.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a new thread needs, in memory of its own: passing &conn instead would
 * race with the next accept() overwriting it. */
struct job {
	int conn;
	struct sockaddr_storage peer;
	socklen_t len;
};

static void *run(void *arg)
{
	struct job *job = arg;

	handle_client(job->conn, (struct sockaddr *)&job->peer, job->len);
	free(job);
	return NULL;
}

int serve_thread(int lfd)
{
	pthread_attr_t attr;
	pthread_t tid;
	struct job *job;
	int rc;

	/* Detached: nobody joins these threads; each frees itself on return. */
	if ((rc = pthread_attr_init(&attr)) != 0 ||
	    (rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED)) != 0)
		errx(1, "pthread_attr: %s", strerror(rc));
	for (;;) {
		if ((job = malloc(sizeof *job)) == NULL)
			err(1, "malloc");
		job->len = sizeof job->peer;
		job->conn = accept(lfd, (struct sockaddr *)&job->peer, &job->len);
		if (job->conn < 0) {
			free(job);
			if (accept_retry())
				continue;
			err(1, "accept");
		}
		if ((rc = pthread_create(&tid, &attr, run, job)) != 0) {
			/* Out of threads: this client is refused, the others go on. */
			warnx("pthread_create: %s", strerror(rc));
			close(job->conn);
			free(job);
		}
	}
}
