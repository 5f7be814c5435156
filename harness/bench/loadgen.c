/* loadgen.c - the one load generator `make bench` drives every server with, C and Python alike.
 *
 * One process, one thread, non-blocking sockets and poll(2): N clients run at
 * once without N threads, so on a 2-core machine the client costs little next
 * to the server it measures.  Each mode speaks one lesson's protocol, checks
 * every byte of every reply, and prints one line of JSON on stdout for
 * harness/bench/run.py.  Every wait is bounded: by --seconds, then --grace.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs("usage: loadgen MODE --port PORT [options]\n"
	      "  echo   01: round trips of --message, --per-conn R per connection (0: one "
	      "connection)\n"
	      "  udp    02: datagram round trips of --message\n"
	      "  frame  04 --echo: frames of --size bytes (default: the contract's small "
	      "document),\n"
	      "         --depth K sent back to back before reading K replies\n"
	      "  hmac   05: handshakes, --digest md5|sha256, the demo key\n"
	      "  upper  06: one connection per request, read until EOF\n"
	      "  idle   06: hold --conns N silent connections; report server --pid PID's RSS\n"
	      "         (--threaded: also wait for a thread per connection)\n"
	      "  raw    the loopback limit: a C sender and receiver, no server (no --port)\n"
	      "options: --host IPV4 (127.0.0.1) --clients N (1) --seconds S (1) --grace S (1)\n",
	      f);
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		die("clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- options ------------------------------------------------------------ */

static const char *mode, *host = "127.0.0.1", *message = "Hello, Server", *digest = "md5";
static long port = -1, clients = 1, per_conn, size, depth = 1, conns = 1000, pid;
static double seconds = 1, grace = 1;
static int threaded;

static long number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "loadgen: '%s' is not a number from %ld to %ld\n", s, lo, hi);
		usage(stderr);
		exit(2);
	}
	return v;
}

static double decimal(const char *s, double lo)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= 3600)) {
		fprintf(stderr, "loadgen: '%s' is not a number of seconds from %g to 3600\n", s,
		        lo);
		usage(stderr);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv)
{
	static const char *const modes[] = {
		"echo", "udp", "frame", "hmac", "upper", "idle", "raw"
	};
	int i, ok = 0;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		exit(0);
	}
	for (i = 0; argc > 1 && i < (int)(sizeof modes / sizeof *modes); i++)
		ok |= strcmp(argv[1], modes[i]) == 0;
	if (!ok) {
		fprintf(stderr, "loadgen: expected a MODE\n");
		usage(stderr);
		exit(2);
	}
	mode = argv[1];
	for (i = 2; i < argc; i += 2) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(f, "--threaded") == 0) {
			threaded = 1;
			i--;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "loadgen: %s needs a value\n", f);
			usage(stderr);
			exit(2);
		}
		if (strcmp(f, "--host") == 0)
			host = v;
		else if (strcmp(f, "--port") == 0)
			port = number(v, 1, 65535);
		else if (strcmp(f, "--message") == 0)
			message = v;
		else if (strcmp(f, "--digest") == 0 && (!strcmp(v, "md5") || !strcmp(v, "sha256")))
			digest = v;
		else if (strcmp(f, "--clients") == 0)
			clients = number(v, 1, 4096);
		else if (strcmp(f, "--per-conn") == 0)
			per_conn = number(v, 0, 1000000000);
		else if (strcmp(f, "--size") == 0)
			size = number(v, 2, 64L << 20);
		else if (strcmp(f, "--depth") == 0)
			depth = number(v, 1, 1024);
		else if (strcmp(f, "--conns") == 0)
			conns = number(v, 1, 100000);
		else if (strcmp(f, "--pid") == 0)
			pid = number(v, 1, 1L << 30);
		else if (strcmp(f, "--seconds") == 0)
			seconds = decimal(v, 0.01);
		else if (strcmp(f, "--grace") == 0)
			grace = decimal(v, 0);
		else {
			fprintf(stderr, "loadgen: bad option or value: %s %s\n", f, v);
			usage(stderr);
			exit(2);
		}
	}
	if (port < 0 && strcmp(mode, "raw") != 0) {
		fprintf(stderr, "loadgen: --port is required\n");
		usage(stderr);
		exit(2);
	}
}

/* ---- sockets and results -------------------------------------------------- */

static struct sockaddr_in addr;

/* A non-blocking TCP socket whose connect() has started. */
static int start_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		die("fcntl");
	/* Each write is a whole request: Nagle would only add the client's delays. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		die("setsockopt TCP_NODELAY");
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS)
		die("connect");
	return fd;
}

static double *lat; /* seconds each operation took */
static size_t nlat, caplat;
static long ops, errors, unfinished;

static void record(double seconds_taken)
{
	double *more;

	if (nlat == caplat) {
		caplat = caplat ? 2 * caplat : 4096;
		if ((more = realloc(lat, caplat * sizeof *lat)) == NULL)
			die("realloc");
		lat = more;
	}
	lat[nlat++] = seconds_taken;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The JSON line run.py reads: rate over the measured window (ops: those that
 * ended in it), latency percentiles over every operation timed (timed: those
 * too, the ones that ended in the grace after it, and the unfinished ones at
 * the time they had waited), and how many of those waited a second or more:
 * a dropped SYN's retry. */
static void report(double window, double bytes_per_op)
{
	long stalled = 0;
	size_t i;

	qsort(lat, nlat, sizeof *lat, cmp);
	for (i = 0; i < nlat; i++)
		stalled += lat[i] >= 1.0;
	printf("{\"mode\": \"%s\", \"ops\": %ld, \"seconds\": %.3f, \"rate\": %.1f, "
	       "\"bytes_per_s\": %.0f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
	       "\"stalled\": %ld, \"timed\": %zu, \"unfinished\": %ld, \"errors\": %ld}\n",
	       mode, ops, window, (double)ops / window, (double)ops * bytes_per_op / window,
	       nlat ? 1e3 * lat[(nlat - 1) / 2] : 0.0,
	       nlat ? 1e3 * lat[(nlat - 1) * 99 / 100] : 0.0, nlat ? 1e3 * lat[nlat - 1] : 0.0,
	       stalled, nlat, unfinished, errors);
}

/* ---- TCP modes: echo, frame, hmac, upper ---------------------------------- */

enum state { CLOSED, CONNECTING, CHALLENGE, EXCHANGE };

struct client {
	int fd;
	enum state state;
	double t0;        /* when the operation being timed started */
	size_t sent, got; /* bytes of the current request sent, of its reply read */
	long done;        /* exchanges done on this connection */
	const unsigned char *out;
	size_t outlen;
	unsigned char chal[32], mac[EVP_MAX_MD_SIZE];
};

static unsigned char *req, *rep; /* one request and its expected reply */
static size_t reqlen, replen;
static int per_connection; /* upper, hmac: the reply ends at EOF; a connection is the op */
static long ops_per_exchange = 1;
static double op_bytes; /* payload bytes one op sends (frame mode's throughput) */

/* Lay out the request and the reply each mode expects, byte for byte. */
static void prepare(void)
{
	static const char doc[] = "{\"message\": \"Hello, Server\", \"id\": 1}";
	size_t i, n = strlen(message), one = size ? (size_t)size : sizeof doc - 1;
	size_t room = n + 5 + (one + 4) * (size_t)depth;

	if ((req = malloc(room)) == NULL || (rep = malloc(room)) == NULL)
		die("malloc");
	if (strcmp(mode, "echo") == 0) { /* 01: "ACK: " + chunk */
		memcpy(req, message, reqlen = n);
		memcpy(rep, "ACK: ", 5);
		memcpy(rep + 5, req, n);
		replen = n + 5;
	} else if (strcmp(mode, "upper") == 0) { /* 06: bytes.upper(), then EOF */
		memcpy(req, message, reqlen = n);
		for (i = 0; i < n; i++)
			rep[i] = (unsigned char)(message[i] >= 'a' && message[i] <= 'z'
			                                 ? message[i] - 32
			                                 : message[i]);
		replen = n;
		per_connection = 1;
	} else if (strcmp(mode, "hmac") == 0) { /* 05: the request is per connection */
		memcpy(rep, "Access Granted", replen = 14);
		per_connection = 1;
	} else { /* frame: 04 --echo answers json.dumps(json.loads(x)), which is x here */
		if (size == 0) {
			memcpy(req + 4, doc, one);
		} else { /* a JSON string of `size` bytes: "aaaa...a" */
			memset(req + 4, 'a', one);
			req[4] = req[4 + one - 1] = '"';
		}
		req[0] = (unsigned char)(one >> 24), req[1] = (unsigned char)(one >> 16);
		req[2] = (unsigned char)(one >> 8), req[3] = (unsigned char)one;
		for (i = 1; i < (size_t)depth; i++) /* --depth frames in one write */
			memcpy(req + i * (one + 4), req, one + 4);
		reqlen = (one + 4) * (size_t)depth;
		memcpy(rep, req, replen = reqlen);
		ops_per_exchange = depth;
		op_bytes = (double)one;
	}
}

static void start(struct client *c)
{
	c->fd = start_connect();
	c->state = CONNECTING;
	c->t0 = now();
	c->done = 0;
}

static void finish(struct client *c, int ok, int more)
{
	if (!ok)
		errors++;
	if (close(c->fd) < 0)
		die("close");
	c->state = CLOSED;
	if (more)
		start(c);
}

static void begin_exchange(struct client *c)
{
	c->state = EXCHANGE;
	c->sent = c->got = 0;
	c->out = req;
	c->outlen = reqlen;
	if (!per_connection)
		c->t0 = now(); /* persistent connections time each exchange */
}

/* The reply is complete: count it (if it ended in the window) and go on. */
static void complete(struct client *c, int more, double end)
{
	double t = now();

	if (t <= end)
		ops += ops_per_exchange;
	record(t - c->t0);
	if (!per_connection && more && (per_conn == 0 || ++c->done < per_conn))
		begin_exchange(c);
	else
		finish(c, 1, more);
}

/* Advance one client on its poll() events; `more`: start new work when done. */
static void step(struct client *c, short ev, int more, double end)
{
	unsigned char buf[65536];
	unsigned int maclen = 0;
	ssize_t n;
	size_t i;
	int e = 0;
	socklen_t len = sizeof e;

	switch (c->state) {
	case CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			die("getsockopt SO_ERROR");
		if (e != 0)
			finish(c, 0, more);
		else if (strcmp(mode, "hmac") == 0)
			c->state = CHALLENGE, c->got = 0;
		else
			begin_exchange(c);
		return;
	case CHALLENGE: /* 05: read the 32-byte challenge, answer with its HMAC */
		if ((n = recv(c->fd, c->chal + c->got, 32 - c->got, 0)) <= 0) {
			if (n == 0 || errno != EAGAIN)
				finish(c, 0, more);
			return;
		}
		if ((c->got += (size_t)n) < 32)
			return;
		if (HMAC(strcmp(digest, "md5") == 0 ? EVP_md5() : EVP_sha256(),
		         "my_super_secret_key", 19, c->chal, 32, c->mac, &maclen) == NULL) {
			fprintf(stderr, "loadgen: HMAC failed\n");
			exit(1);
		}
		begin_exchange(c);
		c->out = c->mac;
		c->outlen = maclen;
		return;
	default:
		break;
	}
	/* EXCHANGE: write what is left of the request, read what has come back. */
	if ((ev & POLLOUT) && c->sent < c->outlen) {
		if ((n = send(c->fd, c->out + c->sent, c->outlen - c->sent, MSG_NOSIGNAL)) < 0) {
			if (errno != EAGAIN)
				finish(c, 0, more);
			return;
		}
		c->sent += (size_t)n;
	}
	if (!(ev & (POLLIN | POLLHUP | POLLERR)))
		return;
	if ((n = recv(c->fd, buf, sizeof buf, 0)) < 0) {
		if (errno != EAGAIN)
			finish(c, 0, more);
		return;
	}
	if (n == 0) { /* EOF: the end of the reply only where a reply ends so */
		if (per_connection && c->got == replen)
			complete(c, more, end);
		else
			finish(c, 0, more);
		return;
	}
	for (i = 0; i < (size_t)n; i++) /* every byte as expected, or it is an error */
		if (c->got + i >= replen || buf[i] != rep[c->got + i]) {
			finish(c, 0, more);
			return;
		}
	if ((c->got += (size_t)n) == replen && !per_connection)
		complete(c, more, end);
}

static void run_tcp(void)
{
	struct client *cl = calloc((size_t)clients, sizeof *cl);
	struct pollfd *pf = calloc((size_t)clients, sizeof *pf);
	double t0 = now(), end = t0 + seconds, hard = end + grace, t;
	long i, n;

	if (cl == NULL || pf == NULL)
		die("calloc");
	prepare();
	for (i = 0; i < clients; i++)
		start(&cl[i]);
	while ((t = now()) < hard) {
		for (i = n = 0; i < clients; i++) {
			struct client *c = &cl[i];

			if (c->state == CLOSED)
				continue;
			pf[n].fd = c->fd;
			pf[n].events =
			        (short)(c->state == CONNECTING ? POLLOUT
			                : c->state == CHALLENGE
			                        ? POLLIN
			                        : POLLIN | (c->sent < c->outlen ? POLLOUT : 0));
			pf[n++].revents = 0;
		}
		if (n == 0)
			break; /* past the end, every client finished */
		if (poll(pf, (nfds_t)n, (int)(1e3 * ((t < end ? end : hard) - t)) + 1) < 0)
			die("poll");
		for (i = n = 0; i < clients; i++) {
			if (cl[i].state == CLOSED)
				continue;
			if (pf[n].revents)
				step(&cl[i], pf[n].revents, now() < end, end);
			n++;
		}
	}
	/* What is still waiting past the grace counts with the time it has waited. */
	for (i = 0; i < clients; i++)
		if (cl[i].state != CLOSED) {
			unfinished++;
			record(now() - cl[i].t0);
			if (close(cl[i].fd) < 0)
				die("close");
		}
	report(seconds, op_bytes);
	free(cl);
	free(pf);
}

/* ---- udp: datagram round trips ---------------------------------------------- */

static void run_udp(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	size_t n = strlen(message);
	char buf[2048];
	double t0 = now(), end = t0 + seconds, t;

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		die("connect");
	while ((t = now()) < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t got;

		if (send(fd, message, n, 0) < 0)
			die("send");
		if (poll(&p, 1, 200) < 0) /* a datagram lost for 200 ms is lost */
			die("poll");
		if (!(p.revents & POLLIN)) {
			errors++;
			continue;
		}
		if ((got = recv(fd, buf, sizeof buf, 0)) < 0)
			die("recv");
		if (got != 16 || memcmp(buf, "Message received", 16) != 0)
			errors++;
		ops++;
		record(now() - t);
	}
	report(seconds, 0);
	if (close(fd) < 0)
		die("close");
}

/* ---- raw: the loopback limit, one stream from a sender to a receiver ------- */

static void run_raw(void)
{
	static char buf[128 * 1024]; /* iperf3's default write */
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fd, st;
	double t0, end, bytes = 0;
	pid_t child;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0)
		die("socket");
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
		die("listen");
	if ((child = fork()) < 0)
		die("fork");
	if (child == 0) { /* the receiver: read and drop until EOF */
		ssize_t n;

		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
			die("receiver connect");
		while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
			;
		_exit(n < 0);
	}
	if ((fd = accept(lfd, NULL, NULL)) < 0)
		die("accept");
	t0 = now(), end = t0 + seconds;
	while (now() < end) {
		ssize_t n = send(fd, buf, sizeof buf, MSG_NOSIGNAL);

		if (n < 0)
			die("send");
		bytes += (double)n;
	}
	if (close(fd) < 0 || close(lfd) < 0)
		die("close");
	if (waitpid(child, &st, 0) < 0) /* all of it read: the receiver saw EOF */
		die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		errors++;
	ops = 1;
	report(now() - t0, bytes);
}

/* ---- idle: silent connections, and what they cost the server --------------- */

/* A number from /proc/PID/status ("VmRSS:", "Threads:"), or -1. */
static long proc_status(const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		die(path);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	if (fclose(f) != 0)
		die("fclose");
	return v;
}

static long proc_fds(void)
{
	char path[64];
	long n = 0;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%ld/fd", pid);
	if ((d = opendir(path)) == NULL)
		die(path);
	errno = 0;
	while (readdir(d) != NULL)
		n++;
	if (errno != 0)
		die("readdir");
	if (closedir(d) < 0)
		die("closedir");
	return n;
}

static void run_idle(void)
{
	int *fd = calloc((size_t)conns, sizeof *fd);
	long i, rss0 = proc_status("VmRSS:"), fds0 = proc_fds(), thr0 = proc_status("Threads:"),
	        rss;
	double t0 = now(), deadline = t0 + seconds;
	struct pollfd p;

	if (fd == NULL)
		die("calloc");
	/* One at a time: each connect to loopback completes at once (or fails). */
	for (i = 0; i < conns; i++) {
		fd[i] = start_connect();
		p = (struct pollfd){ fd[i], POLLOUT, 0 };
		if (poll(&p, 1, (int)(1e3 * (deadline - now())) + 1) < 0)
			die("poll");
		if (!(p.revents & POLLOUT) || now() > deadline) {
			fprintf(stderr, "loadgen: connection %ld not made in time\n", i + 1);
			exit(1);
		}
	}
	/* The server has them when it holds a descriptor (and a thread) for each. */
	while (proc_fds() < fds0 + conns || (threaded && proc_status("Threads:") < thr0 + conns)) {
		if (now() > deadline) {
			fprintf(stderr,
			        "loadgen: the server did not take %ld connections in time\n",
			        conns);
			exit(1);
		}
		if (poll(NULL, 0, 10) < 0) /* not a sync sleep: a bounded look every 10 ms */
			die("poll");
	}
	rss = proc_status("VmRSS:");
	printf("{\"mode\": \"idle\", \"conns\": %ld, \"rss_before_kb\": %ld, \"rss_after_kb\": "
	       "%ld, "
	       "\"bytes_per_conn\": %.0f, \"seconds\": %.3f}\n",
	       conns, rss0, rss, 1024.0 * (double)(rss - rss0) / (double)conns, now() - t0);
	for (i = 0; i < conns; i++)
		if (close(fd[i]) < 0)
			die("close");
	free(fd);
}

int main(int argc, char **argv)
{
	struct rlimit rl;

	parse(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal");
	/* Thousands of sockets: raise the soft descriptor limit to the hard one. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit");
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "loadgen: --host wants an IPv4 address: %s\n", host);
		usage(stderr);
		return 2;
	}
	if (strcmp(mode, "udp") == 0)
		run_udp();
	else if (strcmp(mode, "raw") == 0)
		run_raw();
	else if (strcmp(mode, "idle") == 0)
		run_idle();
	else
		run_tcp();
	free(lat);
	free(req);
	free(rep);
	return errors != 0;
}
