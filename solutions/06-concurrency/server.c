/* server.c - lesson 06: upper-case each client's request, serving many clients at once. */
#include "lab.h"
#include "server.h"

#include <err.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *host = "localhost", *port = "9999", *model = "thread";
	size_t threads = 8;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--model", "NAME", "thread, fork, pool or poll", LAB_OPT_CHOICE, &model, 0, 0,
		  "thread|fork|pool|poll" },
		{ "--threads", "N", "threads in the pool (--model pool)", LAB_OPT_SIZE, &threads, 1,
		  1024, NULL },
		{ "--timeout", "SECONDS", "drop a client that is silent that long", LAB_OPT_SECONDS,
		  &client_timeout, 0, 0, NULL },
		LAB_OPT_END,
	};
	int lfd, rc;

	lab_args(argc, argv, opts, "Concurrent server: answers each request upper-cased.", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lab_catch_signals() < 0)
		err(1, "lab_catch_signals");

	/* SOMAXCONN, not the seed's 5: the backlog is not on the wire, and a
	 * short one makes the kernel drop connections under load (each dropped
	 * SYN stalls its client 1 s, then 3 s, then 7 s). */
	lfd = xlisten(host, port, SOCK_STREAM, SOMAXCONN);
	if (strcmp(model, "fork") == 0)
		rc = serve_fork(lfd);
	else if (strcmp(model, "pool") == 0)
		rc = serve_pool(lfd, threads);
	else if (strcmp(model, "poll") == 0)
		rc = serve_poll(lfd);
	else
		rc = serve_thread(lfd);
	close(lfd);
	return rc;
}
