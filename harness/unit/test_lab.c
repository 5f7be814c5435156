/* test_lab.c - unit tests of the course library (labs/common), printed as TAP.
 *
 *   test_lab          run the tests; exit 1 if any fails
 *   test_lab --bsr    filter: stdin's bytes through lab_print_text, for the conformance
 *                     suite to compare with Python's decode('utf-8', 'backslashreplace')
 */
#include "lab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int tests, failures;

static void ok(int cond, const char *what)
{
	tests++;
	if (!cond)
		failures++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", tests, what);
}

static void check_str(const char *got, const char *want, const char *what)
{
	ok(strcmp(got, want) == 0, what);
	if (strcmp(got, want) != 0)
		printf("#   got:  \"%s\"\n#   want: \"%s\"\n", got, want);
}

/* lab_backslashreplace into a NUL-terminated buffer (inputs here hold no NUL). */
static const char *bsr(const char *in)
{
	static char out[512];
	size_t n = lab_backslashreplace(in, strlen(in), out, sizeof out - 1);

	out[n < sizeof out - 1 ? n : sizeof out - 1] = '\0';
	return out;
}

static void test_backslashreplace(void)
{
	char small[3];

	check_str(bsr("Hello, Server"), "Hello, Server", "bsr: ASCII is copied");
	check_str(bsr("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	          "bsr: 2-, 3- and 4-byte sequences are copied");
	check_str(bsr("\xff\xfe"), "\\xff\\xfe", "bsr: bytes that never start UTF-8 become \\xNN");
	check_str(bsr("\x80\x61"), "\\x80a", "bsr: a lone continuation byte");
	check_str(bsr("\xc0\xaf"), "\\xc0\\xaf", "bsr: overlong 2-byte form (C0)");
	check_str(bsr("\xe0\x80\xaf"), "\\xe0\\x80\\xaf", "bsr: overlong 3-byte form (E0 80)");
	check_str(bsr("\xed\xa0\x80"), "\\xed\\xa0\\x80", "bsr: a UTF-8-encoded surrogate");
	check_str(bsr("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80", "bsr: past U+10FFFF");
	check_str(bsr("\xe2\x82\x41"), "\\xe2\\x82A", "bsr: a sequence cut short by ASCII");
	check_str(bsr("ok\xe2\x82"), "ok\\xe2\\x82", "bsr: a sequence cut short by the end");
	check_str(bsr("\xf0\x9f\x98"), "\\xf0\\x9f\\x98", "bsr: 3 of 4 bytes");
	ok(lab_backslashreplace("\xff\xff", 2, small, sizeof small) == 8,
	   "bsr: returns the full length even when the buffer is small");
	ok(memcmp(small, "\\xf", 3) == 0, "bsr: writes no more than the buffer holds");
}

/* lab_print_text in slices must print what one lab_backslashreplace call gives. */
static void test_print_text(void)
{
	static unsigned char in[4000];
	static char want[4 * sizeof in + 16], got[sizeof want];
	unsigned seed = 12345;
	int round, same = 1;

	for (round = 0; round < 200 && same; round++) {
		size_t n = (size_t)(round * 19 % (int)sizeof in), len, i;
		FILE *f = tmpfile();

		for (i = 0; i < n; i++) { /* a mix of valid sequences and junk */
			seed = seed * 1103515245u + 12345u;
			in[i] = (unsigned char)((seed >> 16) % 3 == 0 ? 0x80 + (seed >> 8) % 0x80
			                                              : (seed >> 8) % 0x100);
		}
		memcpy(want, "P: ", 3);
		len = 3 + lab_backslashreplace(in, n, want + 3, sizeof want - 3);
		want[len++] = '\n';
		if (f == NULL || lab_print_text(f, "P: ", in, n) != 0) {
			same = 0;
		} else {
			rewind(f);
			same = fread(got, 1, sizeof got, f) == len && memcmp(got, want, len) == 0;
		}
		if (f != NULL)
			fclose(f);
	}
	ok(same,
	   "print_text: slicing never splits a sequence (200 random inputs up to 4000 bytes)");

	FILE *f = tmpfile();
	ok(f != NULL && lab_print_line(f, "Received ", "a\xff", 2, " from X") == 0 &&
	           (rewind(f), fread(got, 1, sizeof got, f) == 22) &&
	           memcmp(got, "Received a\\xff from X\n", 22) == 0,
	   "print_line: prefix, decoded bytes, suffix, newline");
	if (f != NULL)
		fclose(f);
}

static void test_addr(void)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char buf[LAB_ADDRLEN];

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(54321);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	check_str(lab_addr_str((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf),
	          "('127.0.0.1', 54321)", "addr: IPv4 prints as Python's tuple");
	check_str(lab_host_str((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf), "127.0.0.1",
	          "addr: host alone");
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(59846);
	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	check_str(lab_addr_str((struct sockaddr *)&sin6, sizeof sin6, buf, sizeof buf),
	          "('::1', 59846, 0, 0)", "addr: IPv6 prints as Python's 4-tuple");
}

/* Parse a NULL-terminated argument list; returns lab_parse_opts' result. */
static int parse(const struct lab_opt *opts, int *first, char *err, const char **args)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = "prog";
	while (*args != NULL && argc < 15)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return lab_parse_opts(argc, argv, opts, first, err, LAB_ERRLEN);
}

static void test_opts(void)
{
	const char *host = "127.0.0.1", *port = "65432", *digest = "md5";
	double timeout = 5;
	size_t frame = 100;
	bool echo = false;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--timeout", "SECONDS", "t", LAB_OPT_SECONDS, &timeout, 0, 0, NULL },
		{ "--max-frame", "BYTES", "m", LAB_OPT_SIZE, &frame, 1, 1000, NULL },
		{ "--echo", NULL, "e", LAB_OPT_FLAG, &echo, 0, 0, NULL },
		{ "--digest", "NAME", "d", LAB_OPT_CHOICE, &digest, 0, 0, "md5|sha256" },
		LAB_OPT_END,
	};
	char err[LAB_ERRLEN] = "";
	int first = 0;

	ok(parse(opts, &first, err,
	         (const char *[]){ "--host", "::1", "--port=0", "--echo", NULL }) == 0 &&
	           strcmp(host, "::1") == 0 && strcmp(port, "0") == 0 && echo && first == 5,
	   "opts: --name value, --name=value and a switch");
	ok(parse(opts, &first, err,
	         (const char *[]){ "--timeout", "0.25", "--max-frame", "1000", "--digest", "sha256",
	                           NULL }) == 0 &&
	           timeout == 0.25 && frame == 1000 && strcmp(digest, "sha256") == 0,
	   "opts: seconds, a bounded size and a choice");
	ok(parse(opts, &first, err, (const char *[]){ "--port", "65535", "a", "-1", NULL }) == 0 &&
	           first == 3,
	   "opts: positional arguments follow, and -1 is one of them");
	ok(parse(opts, &first, err, (const char *[]){ "--", "--echo", NULL }) == 0 && first == 2,
	   "opts: -- ends the flags");
	{
		char *argv[] = { "prog", "a", "--port", "1", "b", "--echo", "--", "-c", NULL };
		ok(lab_parse_opts(8, argv, opts, &first, err, LAB_ERRLEN) == 0 && first == 5 &&
		           strcmp(port, "1") == 0 && strcmp(argv[1], "--port") == 0 &&
		           strcmp(argv[3], "--echo") == 0 && strcmp(argv[4], "--") == 0 &&
		           strcmp(argv[5], "a") == 0 && strcmp(argv[6], "b") == 0 &&
		           strcmp(argv[7], "-c") == 0,
		   "opts: flags after positional arguments; argv reordered, positionals last");
	}
	ok(parse(opts, &first, err, (const char *[]){ "-h", NULL }) == 1 &&
	           parse(opts, &first, err, (const char *[]){ "--port", "1", "--help", NULL }) == 1,
	   "opts: -h and --help ask for the usage");
	static const char *bad[][3] = {
		{ "--port", "65536", NULL },     { "--port", "-1", NULL },
		{ "--port", " 80", NULL },       { "--port", "0x50", NULL },
		{ "--port", "", NULL },          { "--port", NULL, NULL },
		{ "--timeout", "0", NULL },      { "--timeout", "nan", NULL },
		{ "--timeout", "1e9", NULL },    { "--max-frame", "0", NULL },
		{ "--max-frame", "1001", NULL }, { "--digest", "sha1", NULL },
		{ "--echo=1", NULL, NULL },      { "--bogus", NULL, NULL },
		{ "--por", "1", NULL },
	};
	size_t i;
	int all_refused = 1;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (parse(opts, &first, err, bad[i]) != -1 || err[0] == '\0') {
			all_refused = 0;
			printf("#   accepted: %s %s\n", bad[i][0], bad[i][1] ? bad[i][1] : "");
		}
	}
	ok(all_refused,
	   "opts: bad ports, seconds, sizes, choices and unknown flags are refused with a reason");
	parse(opts, &first, err, (const char *[]){ "--port", "99999", NULL });
	check_str(err, "--port: '99999' is not a port number (0-65535)",
	          "opts: the reason names the flag and value");
}

/* The port a socket is bound to, or -1. */
static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                      : ((struct sockaddr_in *)&ss)->sin_port);
}

static void test_io(void)
{
	int sv[2], lfd, cfd, afd, port;
	char buf[64], err[LAB_ERRLEN];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		ok(0, "io: socketpair");
		return;
	}
	/* A writer that sends 10 bytes in three pieces, then closes. */
	if ((pid = fork()) == 0) {
		close(sv[0]);
		if (write(sv[1], "abc", 3) != 3 || write(sv[1], "defg", 4) != 4 ||
		    write(sv[1], "hij", 3) != 3)
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	ok(lab_readn(sv[0], buf, 8) == 8 && memcmp(buf, "abcdefgh", 8) == 0,
	   "io: readn gathers short reads into exactly n bytes");
	ok(lab_readn(sv[0], buf, 8) == 2 && memcmp(buf, "ij", 2) == 0,
	   "io: readn returns a short count at EOF");
	ok(lab_readn(sv[0], buf, 8) == 0, "io: readn returns 0 at EOF");
	close(sv[0]);
	waitpid(pid, NULL, 0);

	lfd = lab_listen("127.0.0.1", "0", SOCK_STREAM, 5, err, sizeof err);
	port = port_of(lfd);
	ok(lfd >= 0 && port > 0, "net: listening on port 0 gets a real port");
	snprintf(buf, sizeof buf, "%d", port);
	cfd = lab_connect("127.0.0.1", buf, SOCK_STREAM, err, sizeof err);
	afd = accept(lfd, NULL, NULL);
	ok(cfd >= 0 && afd >= 0, "net: connect reaches the listener");
	ok(lab_writen(cfd, "hello", 5) == 5 && lab_readn(afd, buf, 5) == 5 &&
	           memcmp(buf, "hello", 5) == 0,
	   "net: writen and readn carry the bytes");
	close(afd);
	ok(lab_writen(cfd, "x", 1) == 1, "net: a write to a closed peer may first succeed");
	/* The peer's RST arrives; the next writes fail with EPIPE/ECONNRESET, and
	 * MSG_NOSIGNAL means no SIGPIPE kills this test. */
	int failed = 0;
	for (int i = 0; i < 100 && !failed; i++)
		failed = lab_writen(cfd, "x", 1) < 0 && (errno == EPIPE || errno == ECONNRESET);
	ok(failed, "net: writing to a closed peer is an error, not SIGPIPE");
	close(cfd);
	close(lfd);

	/* A silent peer: recv() gives up with EAGAIN after the timeout. */
	lfd = lab_listen("127.0.0.1", "0", SOCK_STREAM, 5, err, sizeof err);
	snprintf(buf, sizeof buf, "%d", port_of(lfd));
	cfd = lab_connect("127.0.0.1", buf, SOCK_STREAM, err, sizeof err);
	errno = 0;
	ok(lab_set_timeout(cfd, 0.05) == 0 && lab_recv(cfd, buf, 1) < 0 &&
	           (errno == EAGAIN || errno == EWOULDBLOCK),
	   "net: lab_set_timeout makes recv give up with EAGAIN");
	afd = accept(lfd, NULL, NULL);
	errno = 0;
	ok(afd >= 0 && lab_writen(afd, "ab", 2) == 2 && lab_readn_within(cfd, buf, 3, 0.05) < 0 &&
	           errno == ETIMEDOUT,
	   "net: lab_readn_within gives up with ETIMEDOUT when the whole count is late");
	ok(lab_writen(afd, "cdef", 4) == 4 && lab_readn_within(cfd, buf, 4, 1.5) == 4,
	   "net: lab_readn_within reads the whole count in time (a deadline over 1 s)");
	close(afd);
	close(cfd);
	close(lfd);

	/* Dual stack: a server on "::" takes an IPv4 client, seen as ::ffff:a.b.c.d. */
	lfd = lab_listen("::", "0", SOCK_STREAM, 5, err, sizeof err);
	snprintf(buf, sizeof buf, "%d", port_of(lfd));
	cfd = lab_connect("127.0.0.1", buf, SOCK_STREAM, err, sizeof err);
	{
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		char who[LAB_ADDRLEN], want[LAB_ADDRLEN];

		afd = accept(lfd, (struct sockaddr *)&ss, &len);
		lab_addr_str((struct sockaddr *)&ss, len, who, sizeof who);
		snprintf(want, sizeof want, "('::ffff:127.0.0.1', %d, 0, 0)", port_of(cfd));
		ok(lfd >= 0 && cfd >= 0 && afd >= 0 && strcmp(who, want) == 0,
		   "net: a server on :: takes an IPv4 client, printed as Python prints it");
		if (strcmp(who, want) != 0)
			printf("#   got %s, want %s\n", who, want);
	}
	close(afd);
	close(cfd);
	close(lfd);
	lfd = lab_listen("::1", "0", SOCK_DGRAM, 0, err, sizeof err);
	snprintf(buf, sizeof buf, "%d", port_of(lfd));
	cfd = lab_connect("::1", buf, SOCK_DGRAM, err, sizeof err);
	ok(lfd >= 0 && cfd >= 0 && send(cfd, "v6", 2, 0) == 2 && recv(lfd, buf, sizeof buf, 0) == 2,
	   "net: UDP over ::1");
	close(cfd);
	close(lfd);

	ok(lab_listen("256.0.0.1", "0", SOCK_STREAM, 5, err, sizeof err) < 0 && err[0] != '\0',
	   "net: a bad host is an error with a reason");
	ok(lab_connect("127.0.0.1", "0", SOCK_STREAM, err, sizeof err) < 0 &&
	           strstr(err, "cannot connect") != NULL,
	   "net: a refused connection is an error with a reason");
}

/* In a child: lab_catch_signals(), `ready` written, then blocked in recv() on a
 * socket nobody writes to, with an at_stop hook that writes "hook" to `out`.
 * Returns the child's pid (the parent's copy of the sockets closed). */
static int stop_out = -1;
static void stop_hook(void)
{
	if (write(stop_out, "hook", 4) != 4)
		_exit(3);
}

static pid_t blocked_child(int ready, int out, int early)
{
	int sv[2];
	char c;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	fflush(stdout); /* the child's exit() must not print our buffer again */
	if ((pid = fork()) != 0) {
		close(sv[0]);
		close(sv[1]);
		return pid;
	}
	if (lab_catch_signals() < 0)
		_exit(4);
	stop_out = out;
	lab_at_stop(stop_hook);
	if (early) /* the signal comes before the blocking call is made (kill(), not
	            * raise(): raise() aims at this thread alone, which blocks it) */
		kill(getpid(), SIGTERM);
	if (write(ready, "r", 1) != 1)
		_exit(5);
	recv(sv[0], &c, 1, 0); /* never returns: nobody writes, nobody closes */
	_exit(6);
}

static void test_stop(void)
{
	int ready[2], out[2], status, early;
	char buf[8];
	pid_t pid, grandchild;
	ssize_t n;

	for (early = 0; early <= 1; early++) {
		if (pipe(ready) < 0 || pipe(out) < 0 ||
		    (pid = blocked_child(ready[1], out[1], early)) < 0) {
			ok(0, "stop: pipe, socketpair, fork");
			return;
		}
		close(ready[1]);
		close(out[1]);
		n = read(ready[0], buf, 1);
		if (!early && n == 1)
			kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   early ? "stop: a SIGTERM before recv() is called still ends the program with 0"
		         : "stop: SIGTERM ends a program blocked in recv() with exit 0");
		n = read(out[0], buf, sizeof buf);
		ok(n == 4 && memcmp(buf, "hook", 4) == 0, "stop: the lab_at_stop hook ran first");
		close(ready[0]);
		close(out[0]);
	}

	/* A child of fork() gets the default actions back: SIGTERM kills it,
	 * even one sent before its fork() returned (blocked, then pending). */
	if (pipe(ready) < 0) {
		ok(0, "stop: pipe");
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (lab_catch_signals() < 0)
			_exit(4);
		if ((grandchild = fork()) == 0) {
			pause();
			_exit(6);
		}
		if (write(ready[1], &grandchild, sizeof grandchild) != sizeof grandchild)
			_exit(5);
		waitpid(grandchild, &status, 0);
		_exit(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? 0 : 7);
	}
	close(ready[1]);
	if (read(ready[0], &grandchild, sizeof grandchild) == sizeof grandchild)
		kill(grandchild, SIGTERM);
	close(ready[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "stop: after fork(), SIGTERM ends the child as by default");
}

static int bsr_filter(void)
{
	static char data[1 << 20];
	size_t n = fread(data, 1, sizeof data, stdin);

	return lab_print_text(stdout, "", data, n) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--bsr") == 0)
		return bsr_filter();
	test_backslashreplace();
	test_print_text();
	test_addr();
	test_opts();
	test_io();
	test_stop();
	printf("1..%d\n", tests);
	printf("%d passed, %d failed\n", tests - failures, failures);
	return failures == 0 ? 0 : 1;
}
