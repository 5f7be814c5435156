/* model_fork.c - lesson 06: a process per connection (socketserver's ForkingTCPServer). */
#include "lab.h"
#include "server.h"

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t *kids; /* the children still serving, so that a stop can end them */
static size_t nkids, cap;

static void on_child(int sig)
{
	(void)sig; /* only to interrupt pselect(): the loop reaps */
}

/* Collect every child that has exited: no zombies. */
static void reap(void)
{
	pid_t pid;
	size_t i;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (i = 0; i < nkids; i++)
			if (kids[i] == pid) {
				kids[i] = kids[--nkids];
				break;
			}
}

int serve_fork(int lfd)
{
	struct sockaddr_storage peer;
	struct sigaction sa;
	sigset_t stop, old, chld, waiting;
	fd_set ready;
	socklen_t len;
	pid_t pid;
	size_t i;
	int conn;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_child; /* no SA_RESTART: SIGCHLD wakes accept() to reap */
	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		err(1, "sigaction");
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	/* SIGCHLD is let in only while pselect() waits: a child that ends
	 * after reap() and before the wait still wakes it.  Were it let in at
	 * any time, it could land just before a blocking accept(), and that
	 * child would stay a zombie until the next client came. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &waiting);
	while (!lab_stop) {
		reap();
		FD_ZERO(&ready);
		FD_SET(lfd, &ready);
		if (pselect(lfd + 1, &ready, NULL, NULL, NULL, &waiting) < 0) {
			if (errno == EINTR)
				continue; /* SIGCHLD (reap), or a stop (the loop ends) */
			err(1, "pselect");
		}
		len = sizeof peer;
		if ((conn = accept(lfd, (struct sockaddr *)&peer, &len)) < 0) {
			if (lab_stop || accept_retry())
				continue;
			err(1, "accept");
		}
		if (nkids == cap) {
			pid_t *more = realloc(kids, (cap = cap ? 2 * cap : 64) * sizeof *kids);
			if (more == NULL)
				err(1, "realloc");
			kids = more;
		}
		fflush(stdout); /* a child must not print the parent's buffer again */
		/* Until the child has its own signal actions, a stop signal must
		 * wait: the parent's handler, run in the child, would be lost on it
		 * (and the parent would wait for that child for ever). */
		sigprocmask(SIG_BLOCK, &stop, &old);
		if ((pid = fork()) < 0) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			warn("fork"); /* this client is refused, the others go on */
			close(conn);
			continue;
		}
		if (pid == 0) {
			/* The child: the default SIGINT/SIGTERM (end now; one that
			 * came meanwhile does so on unblocking), and no listening
			 * socket: the parent alone accepts. */
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			sigprocmask(SIG_SETMASK, &waiting, NULL);
			close(lfd);
			handle_client(conn, (struct sockaddr *)&peer, len);
			_exit(0);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		kids[nkids++] = pid;
		close(conn); /* the child has its own copy */
	}
	/* Stopping: end the children still serving, and wait for every one. */
	for (i = 0; i < nkids; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		continue;
	free(kids);
	return 0;
}
