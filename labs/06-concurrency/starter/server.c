/* server.c - lesson 06: upper-case each client's request, serving many clients at once.
 *
 * The model to write is --model thread, in model_thread.c.  (The solution also has fork,
 * pool and poll models; adding them is the lesson's "Going further".)
 */
#include "lab.h"
#include "server.h"

#include <err.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *host = "localhost", *port = "9999", *model = "thread";
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--model", "NAME", "how to serve clients: thread", LAB_OPT_CHOICE, &model, 0, 0,
		  "thread" },
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
	 * short one makes the kernel drop connections under load. */
	lfd = xlisten(host, port, SOCK_STREAM, SOMAXCONN);
	/* TODO (optional, once --model thread passes): fork, pool and poll models. */
	rc = serve_thread(lfd);
	close(lfd);
	return rc;
}
