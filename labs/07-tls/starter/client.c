/* client.c - lesson 07: send one message over TLS 1.3 and print the server's reply. */
#include "lab.h"
#include "tls.h"

#include <err.h>
#include <string.h>
#include <unistd.h>

#define PURPOSE "TLS client: checks the server's certificate, sends one message, prints the reply."

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = "65443", *message = "Hello, Server", *ca = NULL;
	const char *servername = NULL, *cert = NULL, *key = NULL, *name, *bad = NULL;
	double timeout = 5;
	const struct lab_opt opts[] = {
		LAB_OPT_HOST(&host),
		LAB_OPT_PORTNUM(&port),
		{ "--message", "TEXT", "what to send", LAB_OPT_STRING, &message, 0, 0, NULL },
		{ "--ca", "FILE", "the CA to trust, PEM (required)", LAB_OPT_STRING, &ca, 0, 0,
		  NULL },
		{ "--servername", "NAME", "the name the certificate must have (default: --host)",
		  LAB_OPT_STRING, &servername, 0, 0, NULL },
		{ "--client-cert", "FILE", "a client certificate chain to present, PEM",
		  LAB_OPT_STRING, &cert, 0, 0, NULL },
		{ "--client-key", "FILE", "its private key, PEM", LAB_OPT_STRING, &key, 0, 0,
		  NULL },
		{ "--timeout", "SECONDS", "give up on a server that stalls that long",
		  LAB_OPT_SECONDS, &timeout, 0, 0, NULL },
		LAB_OPT_END,
	};
	char buf[1024], why[TLS_ERRLEN], desc[128];
	size_t len;
	ssize_t n;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;

	lab_args(argc, argv, opts, PURPOSE, NULL);
	if (ca == NULL)
		bad = "--ca is required";
	else if ((cert == NULL) != (key == NULL))
		bad = "--client-cert and --client-key go together";
	if (bad != NULL) {
		warnx("%s", bad);
		lab_usage(stderr, "client", PURPOSE, NULL, opts);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((ctx = tls_client_ctx(ca, cert, key, why, sizeof why)) == NULL)
		errx(1, "%s", why);

	fd = xconnect(host, port, SOCK_STREAM); /* what you wrote in lesson 01 */
	if (lab_set_timeout(fd, timeout) < 0)
		err(1, "setsockopt");
	name = servername != NULL ? servername : host;
	if ((ssl = tls_connect(ctx, fd, name, why, sizeof why)) == NULL)
		errx(1, "TLS handshake with %s: %s", name, why);
	printf("TLS: %s\n", tls_describe(ssl, desc, sizeof desc));

	/* As lesson 01: the message's bytes (an empty one sends nothing), one read of the reply. */
	len = strlen(message);
	if (len > 0 && tls_write(ssl, message, len, why, sizeof why) < 0)
		errx(1, "send: %s", why);
	if ((n = tls_read(ssl, buf, sizeof buf, why, sizeof why)) < 0)
		errx(1, "recv: %s", why);
	lab_print_text(stdout, "Server replied: ", buf, (size_t)n);
	if (tls_close(ssl, why, sizeof why) < 0)
		warnx("closing: %s", why);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return 0;
}
