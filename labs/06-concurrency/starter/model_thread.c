/* model_thread.c - lesson 06: a thread per connection (what ThreadingTCPServer does).
 *
 * Your job is the TODO below; ../README.md walks through it.
 *   make test-lab LAB=06 IMPL=starter    runs this lesson's tests on your code
 */
#include "lab.h"
#include "server.h"

#include <err.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int serve_thread(int lfd)
{
	/* TODO: for ever: accept a client and start a DETACHED thread that runs
	 * handle_client(conn, peer address, its length) for it, so that the next accept() can
	 * happen at once.  Hand the thread its connection in memory of its own (malloc'd,
	 * freed by the thread): not a pointer to a variable that the next accept() overwrites.
	 * A failed accept() is no reason to stop when accept_retry() says so (server.h); if a
	 * thread cannot be created, close that client and go on.  SIGINT and SIGTERM end the
	 * program for you, with every thread. */
	(void)lfd;
	return 0;
}
