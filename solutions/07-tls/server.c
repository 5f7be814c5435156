/* server.c - lesson 07: lesson 01's echo server inside TLS 1.3 ("ACK: " + chunk, encrypted). */
#include "lab.h"
#include "tls.h"

#include <err.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define BUFSIZE 1024 /* the seed's recv(1024) */
#define PURPOSE "TLS echo server: answers each chunk with \"ACK: \" + chunk, over TLS 1.3."

/* Serve one client until it closes: print each chunk, send it back behind "ACK: ".  0 when
 * it closed properly (close_notify), -1 after a failure (said on stderr). */
static int serve(SSL *ssl, const char *who)
{
	char buf[BUFSIZE], reply[5 + BUFSIZE], why[TLS_ERRLEN];
	ssize_t n;

	for (;;) {
		if ((n = tls_read(ssl, buf, sizeof buf, why, sizeof why)) == 0)
			return 0;
		if (n < 0) {
			warnx("%s: %s", who, why);
			return -1;
		}
		lab_print_text(stdout, "Received: ", buf, (size_t)n);
		memcpy(reply, "ACK: ", 5);
		memcpy(reply + 5, buf, (size_t)n);
		if (tls_write(ssl, reply, 5 + (size_t)n, why, sizeof why) < 0) {
			warnx("%s: %s", who, why);
			return -1;
		}
	}
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "65443", *cert = NULL, *key = NULL, *ca = NULL;
	double timeout = 5;
	bool require = false;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--cert", "FILE", "the server's certificate chain, PEM (required)",
		  LAB_OPT_STRING, &cert, 0, 0, NULL },
		{ "--key", "FILE", "its private key, PEM (required)", LAB_OPT_STRING, &key, 0, 0,
		  NULL },
		{ "--require-client-cert", NULL, "refuse clients without a certificate from --ca",
		  LAB_OPT_FLAG, &require, 0, 0, NULL },
		{ "--ca", "FILE", "with --require-client-cert: the CA of the clients, PEM",
		  LAB_OPT_STRING, &ca, 0, 0, NULL },
		{ "--timeout", "SECONDS", "drop a client that stalls that long, handshake included",
		  LAB_OPT_SECONDS, &timeout, 0, 0, NULL },
		LAB_OPT_END,
	};
	struct sockaddr_storage peer;
	socklen_t len;
	char who[LAB_ADDRLEN], why[TLS_ERRLEN], desc[128];
	const char *bad = NULL;
	SSL_CTX *ctx;
	SSL *ssl;
	int lfd, conn;

	lab_args(argc, argv, opts, PURPOSE, NULL);
	if (cert == NULL || key == NULL)
		bad = "--cert and --key are required";
	else if (require != (ca != NULL))
		bad = "--require-client-cert and --ca go together";
	if (bad != NULL) {
		warnx("%s", bad);
		lab_usage(stderr, "server", PURPOSE, NULL, opts);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lab_catch_signals() < 0)
		err(1, "lab_catch_signals");
	/* One context for every connection: the certificate, the key, the rules. */
	if ((ctx = tls_server_ctx(cert, key, ca, why, sizeof why)) == NULL)
		errx(1, "%s", why);

	/* What you wrote in lesson 01's open_listener(); lab_announce() as in lesson 01. */
	if ((lfd = lab_listen(host, port, SOCK_STREAM, 5, why, sizeof why)) < 0)
		errx(1, "%s", why);
	printf("Server listening on %s:%d\n", host, lab_announce(lfd));
	for (;;) {
		len = sizeof peer;
		if ((conn = accept(lfd, (struct sockaddr *)&peer, &len)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			err(1, "accept");
		}
		printf("Connection from %s\n",
		       lab_addr_str((struct sockaddr *)&peer, len, who, sizeof who));
		/* The timeout bounds every read and write, the handshake's too: a peer that
		 * stalls in the middle of its ClientHello is dropped like a silent one. */
		if (lab_set_timeout(conn, timeout) < 0)
			err(1, "setsockopt");
		if ((ssl = tls_accept(ctx, conn, why, sizeof why)) == NULL) {
			warnx("%s: TLS handshake: %s", who, why);
			close(conn);
			continue;
		}
		printf("TLS: %s\n", tls_describe(ssl, desc, sizeof desc));
		/* After a failure, no close_notify: OpenSSL forbids SSL_shutdown() then. */
		if (serve(ssl, who) == 0 && tls_close(ssl, why, sizeof why) < 0)
			warnx("%s: closing: %s", who, why);
		SSL_free(ssl);
		close(conn);
	}
}
