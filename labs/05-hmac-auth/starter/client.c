/* client.c - lesson 05: answer the server's challenge with HMAC(key, challenge). */
#include "auth.h"
#include "lab.h"

#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		{ "--timeout", "SECONDS", "give up on a server that stalls this long",
		  LAB_OPT_SECONDS, &timeout, 0, 0, NULL },
		LAB_OPT_END,
	};
	unsigned char challenge[AUTH_CHALLENGE], answer[AUTH_MAX_DIGEST], *key;
	static char reply[65536]; /* read until EOF, up to this */
	char msg[LAB_ERRLEN];
	size_t have = 0;
	ssize_t got;
	long keylen;
	int fd, failure;

	lab_args(argc, argv, opts, "HMAC auth client: proves it knows the key.", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((keylen = auth_load_key(key_file, &key, msg, sizeof msg)) < 0)
		errx(1, "%s", msg);
	if (key_file == NULL)
		warnx("using the demo key from the tutorial; use --key-file for a real secret");

	fd = xconnect(host, port, SOCK_STREAM);
	if (lab_set_timeout(fd, timeout) < 0)
		err(1, "setsockopt");
	if ((got = lab_readn(fd, challenge, sizeof challenge)) < 0)
		err(1, "reading the challenge");
	if (got < AUTH_CHALLENGE)
		errx(1, "challenge cut short: got %zd of %d bytes", got, AUTH_CHALLENGE);
	/* The key never crosses the network: only a digest that needs it. */
	if (auth_hmac(digest, key, (size_t)keylen, challenge, sizeof challenge, answer) < 0)
		errx(1, "HMAC-%s is not available", digest);
	if (lab_writen(fd, answer, auth_digest_size(digest)) < 0)
		err(1, "sending the answer");
	/* The server says "Access Granted" and closes, or just closes.  Read to
	 * EOF, keeping what came before a reset (it closed with our bytes unread:
	 * a digest longer than it wanted) or before our --timeout ran out. */
	while (have < sizeof reply && (got = lab_recv(fd, reply + have, sizeof reply - have)) > 0)
		have += (size_t)got;
	failure = got < 0 ? errno : 0;
	close(fd);
	free(key);
	if (failure != 0 && failure != ECONNRESET && failure != EAGAIN && failure != EWOULDBLOCK)
		errx(1, "reading the reply: %s", strerror(failure));
	if (have == 0) {
		if (failure != 0)
			warnx("no reply: %s",
			      failure == ECONNRESET ? "connection reset" : "timed out");
		printf("Authentication failed\n");
		return 1;
	}
	lab_print_text(stdout, "Server replied: ", reply, have);
	return have == 14 && memcmp(reply, "Access Granted", 14) == 0 ? 0 : 1;
}
