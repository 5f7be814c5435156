/* lab.h - the course library: sockets, exact I/O, flags and Python-compatible printing.
 *
 * Every lesson program includes this one header.  The functions named lab_*
 * never exit, and print only where printing is their job (lab_announce,
 * lab_print_*, lab_usage): they return -1 (or NULL) and, where they take
 * an `err` buffer, leave a one-line reason in it, so that a caller decides
 * what a failure means.  The few functions named x* are thin wrappers for
 * main() only: they print a one-line error and exit, as err(3) does.
 */
#ifndef LAB_H
#define LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#define LAB_ERRLEN  256 /* room for any error message the library writes */
#define LAB_ADDRLEN 80  /* room for "('IPv6 address', 65535, 0, 0)" */

/* ---- signals ------------------------------------------------------------ */

/* Make SIGINT and SIGTERM end the program with exit status 0, whatever it is
 * doing (waiting in accept(), halfway through a client), and make SIGPIPE
 * harmless: a vanished peer is an EPIPE error on one connection.  Call it in
 * main() before creating any thread.  How: the two signals are blocked in
 * every thread, and a thread of the library's waits for them in sigwait(),
 * flushes stdout and stderr and calls _exit(0): the kernel closes every
 * socket.  So no signal handler runs, and no loop of yours needs to check
 * for a stop.  A
 * child of fork() gets the default actions back: the signals end it.
 * 0, or -1 with errno set. */
int lab_catch_signals(void);

/* Run fn (in the library's thread) just before that _exit(0): lesson 06's
 * fork model ends its children there.  NULL for none. */
void lab_at_stop(void (*fn)(void));

/* ---- sockets: what lessons 01 and 02 write by hand ------------------------- */

/* Print the line tests and graders wait for, on stderr, for the bound socket
 * fd: "listening on HOST:PORT" with the address and the port the kernel
 * really gave (what --port 0 became).  Returns that port, or -1. */
int lab_announce(int fd);

/* From lesson 03 on, what your lesson 01 and 02 servers and clients did:
 *
 * Resolve host:port with getaddrinfo (IPv4 or IPv6, AI_PASSIVE) and return a
 * socket of `type` (SOCK_STREAM or SOCK_DGRAM) bound to the first address
 * that works; stream sockets get SO_REUSEADDR and listen(backlog), IPv6 ones
 * IPV6_V6ONLY off (a server on "::" takes IPv4 clients too).  Port "0" asks
 * the kernel for a free port.  -1 with the reason in err. */
int lab_listen(const char *host, const char *port, int type, int backlog, char *err, size_t errlen);

/* Return a socket of `type` connected to host:port, trying each address
 * getaddrinfo finds until one connects (for SOCK_DGRAM, "connected" means
 * send() and recv() talk to that address only).  -1 with the reason in err. */
int lab_connect(const char *host, const char *port, int type, char *err, size_t errlen);

/* Make recv() and send() on fd give up with EAGAIN after `seconds` without
 * progress (SO_RCVTIMEO and SO_SNDTIMEO), so that a silent peer cannot hold
 * a program forever.  0 or -1. */
int lab_set_timeout(int fd, double seconds);

/* Format an address as Python prints the tuple accept() returns:
 * ('127.0.0.1', 54321), or ('::1', 54321, 0, 0) for IPv6.  Returns buf. */
char *lab_addr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);

/* Just the numeric host of an address ("127.0.0.1"), as client_address[0]. */
char *lab_host_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);

/* ---- exact I/O ------------------------------------------------------------ */

/* Read exactly n bytes, looping over short reads and EINTR.  Returns n, or fewer if the peer closed
 * first (0 at once on EOF), or -1 with errno set.  Python's equivalent is the seed's recvall(). */
ssize_t lab_readn(int fd, void *buf, size_t n);

/* Send all n bytes to a socket, looping over short writes and EINTR, with
 * MSG_NOSIGNAL so that a closed peer is EPIPE, not a signal.  Returns n or
 * -1 with errno set.  Python's equivalent is sock.sendall(). */
ssize_t lab_writen(int fd, const void *buf, size_t n);

/* lab_readn with a deadline for the whole read, not for each recv(): a
 * peer sending a byte now and then cannot stretch it.  Returns as lab_readn,
 * or -1 with errno ETIMEDOUT once `seconds` have passed. */
ssize_t lab_readn_within(int fd, void *buf, size_t n, double seconds);

/* recv() once, retrying on EINTR. */
ssize_t lab_recv(int fd, void *buf, size_t n);

/* ---- printing text as Python does ------------------------------------------ */

/* Length of the well-formed UTF-8 sequence starting at s (n >= 1 bytes
 * available), or 0 if none starts there.  The ranges are the Unicode
 * standard's Table 3-7, which Python's decoder follows: no overlong forms,
 * no surrogates (U+D800..U+DFFF), nothing past U+10FFFF. */
size_t lab_utf8_len(const void *s, size_t n);

/* Decode n bytes as Python's data.decode('utf-8', 'backslashreplace'):
 * well-formed UTF-8 is copied, every other byte becomes \xNN.  Writes at
 * most outcap bytes (4 * n is always enough; the output is not
 * NUL-terminated, since the input may hold NUL) and returns the length the
 * full output needs. */
size_t lab_backslashreplace(const void *in, size_t n, char *out, size_t outcap);

/* Print prefix, the decoded bytes, and a newline as one locked stdio write,
 * so that lines from several threads never interleave.  0 or EOF. */
int lab_print_text(FILE *f, const char *prefix, const void *data, size_t n);

/* The same with a suffix after the decoded bytes, before the newline:
 * "Received TEXT from ('127.0.0.1', 54321)". */
int lab_print_line(FILE *f, const char *prefix, const void *data, size_t n, const char *suffix);

/* ---- command-line flags ------------------------------------------------------ */

enum lab_optkind {
	LAB_OPT_STRING,  /* const char **value: any text */
	LAB_OPT_PORT,    /* const char **value: a number 0..65535 */
	LAB_OPT_SECONDS, /* double *value: a number from 0.001 to 86400 */
	LAB_OPT_SIZE,    /* size_t *value: an integer from min to max */
	LAB_OPT_FLAG,    /* bool *value: set to true, takes no argument */
	LAB_OPT_CHOICE,  /* const char **value: one of the words in `choices` */
};

struct lab_opt {
	const char *name; /* "--port" */
	const char *arg;  /* "PORT" in the usage; NULL for a LAB_OPT_FLAG */
	const char *help; /* one line for --help */
	enum lab_optkind kind;
	void *value;
	size_t min, max;     /* LAB_OPT_SIZE bounds */
	const char *choices; /* LAB_OPT_CHOICE: "md5|sha256" */
};

/* The flags every program has. */
/* clang-format off */
#define LAB_OPT_HOST(p) { "--host", "HOST", "address to use", LAB_OPT_STRING, (p), 0, 0, NULL }
#define LAB_OPT_PORTNUM(p) { "--port", "PORT", "port number (a server takes 0: any free port)", LAB_OPT_PORT, (p), 0, 0, NULL }
#define LAB_OPT_END { NULL, NULL, NULL, LAB_OPT_FLAG, NULL, 0, 0, NULL }
/* clang-format on */

/* Parse argv[1..] against opts (ended by LAB_OPT_END).  Accepts "--name
 * value", "--name=value", -h/--help, and "--" before positional arguments;
 * flags may also follow positional arguments.  argv is reordered so that the
 * positional arguments come last, in their order.  Returns 1 for help, 0 on
 * success (with *first_arg the index of the first positional argument), -1 on
 * a bad flag or value (reason in err). */
int lab_parse_opts(int argc, char **argv, const struct lab_opt *opts, int *first_arg, char *err,
                   size_t errlen);

/* Write the usage: synopsis, one line of purpose, and a line per flag with
 * its help and its current (default) value. */
void lab_usage(FILE *f, const char *prog, const char *purpose, const char *args,
               const struct lab_opt *opts);

/* ---- wrappers for main(): print one line and exit on failure ---------------- */

/* Parse flags as lab_parse_opts does.  --help prints the usage to stdout and
 * exits 0; a bad flag prints the reason and the usage to stderr and exits 2.
 * `args` names the positional arguments in the usage (NULL for none); with
 * NULL, any positional argument is an error.  Returns the index of the
 * first positional argument. */
int lab_args(int argc, char **argv, const struct lab_opt *opts, const char *purpose,
             const char *args);

/* lab_listen, or exit 1 with the reason; then lab_announce(). */
int xlisten(const char *host, const char *port, int type, int backlog);

/* lab_connect, or exit 1 with the reason. */
int xconnect(const char *host, const char *port, int type);

#endif
