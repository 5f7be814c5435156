/* server.h - lesson 06: one server, four ways to serve many clients at once. */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>
#include <sys/socket.h>

#define REQUEST_MAX 1024 /* the seed's self.request.recv(1024) */

/* --timeout: a client silent (or not reading) that long is dropped.  Set once
 * by main() before any client is served. */
extern double client_timeout;

/* The seed's MyTCPHandler.handle(), then what ThreadingTCPServer does after it:
 * one recv(1024), strip ASCII whitespace, print "Received from IP", send the
 * bytes upper-cased, shutdown(SHUT_WR), close; a client silent for
 * client_timeout seconds is dropped with one line on stderr.  Closes conn. */
void handle_client(int conn, const struct sockaddr *peer, socklen_t len);

/* The pure part of it: strip and upper-case req[0..n) in place, as
 * bytes.strip().upper(); returns where the result starts and sets *out_len. */
char *transform(char *req, size_t n, size_t *out_len);

/* After accept() failed: 1 to go on, 0 if the error is fatal.  A client
 * that gave up (ECONNABORTED) or EINTR is no reason to stop, and neither is
 * running out of file descriptors or memory: then it pauses 100 ms, since
 * the connection still waiting would make the next accept() fail at once. */
int accept_retry(void);

/* The models.  Each serves clients from the listening socket lfd for ever:
 * SIGINT or SIGTERM ends the program (lab_catch_signals), and with it every
 * thread; the fork model ends its children then too (lab_at_stop). */
int serve_thread(int lfd);
int serve_fork(int lfd);
int serve_pool(int lfd, size_t threads);
int serve_poll(int lfd);

#endif
