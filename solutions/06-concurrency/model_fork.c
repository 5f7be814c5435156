/* model_fork.c - lesson 06: a process per connection (socketserver's ForkingTCPServer). */
#include "lab.h"
#include "server.h"

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

/* The children still serving, so that a stop can end them.  The library's
 * stop thread reads them (end_children), so they change under `lock`. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *kids;
static size_t nkids, cap;

static void on_child(int sig)
{
	(void)sig; /* only to interrupt pselect(): the loop reaps (errno is untouched) */
}

/* Collect every child that has exited: no zombies. */
static void reap(void)
{
	pid_t pid;
	size_t i;

	pthread_mutex_lock(&lock);
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (i = 0; i < nkids; i++)
			if (kids[i] == pid) {
				kids[i] = kids[--nkids];
				break;
			}
	pthread_mutex_unlock(&lock);
}

/* SIGINT or SIGTERM (run by the stop thread before exit): end the children
 * still serving and wait for them.  `lock` stays taken: no fork after this. */
static void end_children(void)
{
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nkids; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		continue;
}

int serve_fork(int lfd)
{
	struct sockaddr_storage peer;
	struct sigaction sa;
	sigset_t chld, waiting;
	fd_set ready;
	socklen_t len;
	pid_t pid;
	int conn;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_child; /* no SA_RESTART: SIGCHLD wakes pselect() to reap */
	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		err(1, "sigaction");
	/* SIGCHLD is let in only while pselect() waits: a child that ends
	 * after reap() and before the wait still wakes it.  Were it let in at
	 * any time, it could land just before a blocking accept(), and that
	 * child would stay a zombie until the next client came. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (pthread_sigmask(SIG_BLOCK, &chld, &waiting) != 0)
		errx(1, "pthread_sigmask");
	lab_at_stop(end_children);
	for (;;) {
		reap();
		FD_ZERO(&ready);
		FD_SET(lfd, &ready);
		if (pselect(lfd + 1, &ready, NULL, NULL, NULL, &waiting) < 0) {
			if (errno == EINTR)
				continue; /* SIGCHLD: reap */
			err(1, "pselect");
		}
		len = sizeof peer;
		if ((conn = accept(lfd, (struct sockaddr *)&peer, &len)) < 0) {
			if (accept_retry())
				continue;
			err(1, "accept");
		}
		pthread_mutex_lock(&lock);
		if (nkids == cap) {
			pid_t *more = realloc(kids, (cap = cap ? 2 * cap : 64) * sizeof *kids);
			if (more == NULL)
				err(1, "realloc");
			kids = more;
		}
		fflush(stdout); /* a child must not print the parent's buffer again */
		if ((pid = fork()) == 0) {
			/* The child: no listening socket (the parent alone accepts);
			 * SIGINT and SIGTERM end it (lab_catch_signals sees to that). */
			close(lfd);
			handle_client(conn, (struct sockaddr *)&peer, len);
			_exit(0);
		}
		if (pid > 0)
			kids[nkids++] = pid;
		else
			warn("fork"); /* this client is refused, the others go on */
		pthread_mutex_unlock(&lock);
		close(conn); /* the child has its own copy */
	}
}
