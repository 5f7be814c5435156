/* server.c - lesson 05: admit only clients that prove they hold the key (HMAC challenge-response).
 */
#include "auth.h"
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Challenge the client and check its answer.  1: it knows the key; 0: it does
 * not, or did not answer properly (why says how, for the log). */
static int verify(int conn, const char *digest, const unsigned char *key, size_t keylen,
                  double timeout, const char **why)
{
	unsigned char challenge[AUTH_CHALLENGE], expected[AUTH_MAX_DIGEST], answer[AUTH_MAX_DIGEST];
	size_t n = auth_digest_size(digest);
	struct pollfd pfd = { conn, POLLIN, 0 };
	ssize_t got;
	char extra;

	/* A fresh random challenge per connection: an answer recorded once is
	 * worth nothing next time (no replay). */
	if (auth_challenge(challenge, sizeof challenge) < 0)
		errx(1, "no random bytes for a challenge");
	if (auth_hmac(digest, key, keylen, challenge, sizeof challenge, expected) < 0)
		errx(1, "HMAC-%s is not available", digest);
	if (lab_writen(conn, challenge, sizeof challenge) < 0) {
		*why = "the client left before its challenge";
		return 0;
	}
	/* Exactly n bytes, however they arrive (the seed's single recv() could
	 * take a short answer for the whole), all of them within --timeout. */
	got = lab_readn_within(conn, answer, n, timeout);
	if (got < 0) {
		*why = errno == ETIMEDOUT ? "no whole answer in time" : strerror(errno);
		return 0;
	}
	if ((size_t)got < n) {
		*why = "the answer was cut short";
		return 0;
	}
	/* One digest is the whole answer: bytes already waiting after it mean the
	 * client sent something else. */
	if (poll(&pfd, 1, 0) > 0 && recv(conn, &extra, 1, MSG_PEEK) > 0) {
		*why = "bytes after the digest";
		return 0;
	}
	*why = "wrong digest";
	return auth_equal(answer, expected, n);
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "8080", *digest = "md5", *key_file = NULL;
	double timeout = 5;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--digest", "NAME", "HMAC hash: md5 (the seed's) or sha256", LAB_OPT_CHOICE,
		  &digest, 0, 0, "md5|sha256" },
		{ "--key-file", "PATH", "the shared secret: this file's bytes", LAB_OPT_STRING,
		  &key_file, 0, 0, NULL },
		{ "--timeout", "SECONDS", "fail a client that has not answered by then",
		  LAB_OPT_SECONDS, &timeout, 0, 0, NULL },
		LAB_OPT_END,
	};
	struct sockaddr_storage peer;
	socklen_t len;
	unsigned char *key;
	char who[LAB_ADDRLEN], msg[LAB_ERRLEN];
	const char *why;
	long keylen;
	int lfd, conn;

	lab_args(argc, argv, opts, "HMAC auth server: grants access to clients that know the key.",
	         NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lab_catch_signals() < 0)
		err(1, "lab_catch_signals");
	if ((keylen = auth_load_key(key_file, &key, msg, sizeof msg)) < 0)
		errx(1, "%s", msg);
	if (key_file == NULL)
		warnx("using the demo key from the tutorial; use --key-file for a real secret");

	lfd = xlisten(host, port, SOCK_STREAM, 5);
	printf("Auth Server running...\n");
	for (;;) {
		len = sizeof peer;
		if ((conn = accept(lfd, (struct sockaddr *)&peer, &len)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			err(1, "accept");
		}
		lab_addr_str((struct sockaddr *)&peer, len, who, sizeof who);
		/* One client at a time: a slow one must not hold the others for long.
		 * (The timeout also bounds sending the challenge.) */
		if (lab_set_timeout(conn, timeout) < 0)
			err(1, "setsockopt");
		if (verify(conn, digest, key, (size_t)keylen, timeout, &why)) {
			printf("Client %s authenticated successfully.\n", who);
			if (lab_writen(conn, "Access Granted", 14) < 0)
				warn("%s", who);
		} else {
			printf("Client %s failed authentication.\n", who);
			warnx("%s: %s", who, why);
		}
		close(conn);
	}
}
