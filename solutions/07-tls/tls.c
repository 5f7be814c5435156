/* tls.c - lesson 07: TLS 1.3 around lesson 01's sockets, with OpenSSL's libssl. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

const char *tls_reason(char *buf, size_t len)
{
	/* The queue holds a chain, the cause first ("No such file or directory", then "system
	 * lib" from each layer above it): say the first, and empty the queue. */
	unsigned long code = ERR_get_error();
	const char *text = ERR_reason_error_string(code);

	if (code != 0 && ERR_SYSTEM_ERROR(code)) /* errno */
		snprintf(buf, len, "%s", strerror(ERR_GET_REASON(code)));
	else if (text != NULL)
		snprintf(buf, len, "%s", text);
	else if (code != 0)
		ERR_error_string_n(code, buf, len); /* "error:0A000086:SSL routines::..." */
	else
		snprintf(buf, len, "unknown error");
	ERR_clear_error();
	return buf;
}

int tls_fail(const char *what, char *err, size_t errlen)
{
	char why[TLS_ERRLEN];

	snprintf(err, errlen, "%s: %s", what, tls_reason(why, sizeof why));
	return -1;
}

/* TLS 1.3 and nothing older, for either side. */
static SSL_CTX *new_ctx(const SSL_METHOD *method, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL) {
		tls_fail("SSL_CTX_new", err, errlen);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
		tls_fail("TLS 1.3", err, errlen);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Our certificate chain and its key (the server's, or a client's). */
static int use_cert(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t errlen)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return tls_fail(cert, err, errlen);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		return tls_fail(key, err, errlen);
	/* The key is the certificate's: checked now, not at the first handshake. */
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail("the key does not match the certificate", err, errlen);
	return 0;
}

SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *ca, char *err, size_t errlen)
{
	SSL_CTX *ctx = new_ctx(TLS_server_method(), err, errlen);

	if (ctx == NULL)
		return NULL;
	if (use_cert(ctx, cert, key, err, errlen) < 0)
		goto fail;
	if (ca != NULL) {
		/* Mutual TLS: ask every client for a certificate, refuse it without one,
		 * and trust the CA in ca (and no other) to have signed it. */
		if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
			tls_fail(ca, err, errlen);
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = new_ctx(TLS_client_method(), err, errlen);

	if (ctx == NULL)
		return NULL;
	/* The CA we trust, and no other: not the system's list. */
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		tls_fail(ca, err, errlen);
		goto fail;
	}
	/* Without this, a client checks the certificate, notes the result, and goes on
	 * anyway: SSL_VERIFY_NONE is the default. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert != NULL && use_cert(ctx, cert, key, err, errlen) < 0)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* SSL_accept or SSL_connect: 1 for done, else retried after EINTR (Ctrl-Z, fg). */
static int handshake(SSL *ssl, int (*step)(SSL *), char *err, size_t errlen)
{
	int rc, e;

	for (;;) {
		ERR_clear_error();
		if ((rc = step(ssl)) == 1)
			return 0;
		e = SSL_get_error(ssl, rc);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && errno == EINTR)
			continue;
		tls_why(ssl, rc, err, errlen);
		return -1;
	}
}

/* A new SSL for the socket fd; NULL (reason in err) if there is no memory. */
static SSL *new_ssl(SSL_CTX *ctx, int fd, char *err, size_t errlen)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		tls_fail("SSL_new", err, errlen);
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

SSL *tls_accept(SSL_CTX *ctx, int fd, char *err, size_t errlen)
{
	SSL *ssl = new_ssl(ctx, fd, err, errlen);

	if (ssl != NULL && handshake(ssl, SSL_accept, err, errlen) < 0) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

SSL *tls_connect(SSL_CTX *ctx, int fd, const char *name, char *err, size_t errlen)
{
	unsigned char ip[sizeof(struct in6_addr)];
	SSL *ssl = new_ssl(ctx, fd, err, errlen);

	if (ssl == NULL)
		return NULL;
	/* SNI: the name we want, in clear in the ClientHello, so that a server with several
	 * names can choose the certificate.  RFC 6066 allows no IP address there. */
	if (inet_pton(AF_INET, name, ip) != 1 && inet_pton(AF_INET6, name, ip) != 1 &&
	    SSL_set_tlsext_host_name(ssl, name) != 1) {
		tls_fail("SNI", err, errlen);
		goto fail;
	}
	/* The certificate must name the server we asked for (DNS name or IP address in its
	 * subjectAltName): without this, any certificate of the CA's will do. */
	if (SSL_set1_host(ssl, name) != 1) {
		tls_fail(name, err, errlen);
		goto fail;
	}
	if (handshake(ssl, SSL_connect, err, errlen) < 0)
		goto fail;
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

ssize_t tls_read(SSL *ssl, void *buf, size_t n, char *err, size_t errlen)
{
	size_t got;
	int e;

	for (;;) {
		ERR_clear_error();
		if (SSL_read_ex(ssl, buf, n, &got) == 1)
			return (ssize_t)got;
		e = SSL_get_error(ssl, 0);
		if (e == SSL_ERROR_ZERO_RETURN) /* close_notify: the peer's proper end */
			return 0;
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && errno == EINTR)
			continue;
		tls_why(ssl, 0, err, errlen);
		return -1;
	}
}

int tls_write(SSL *ssl, const void *buf, size_t n, char *err, size_t errlen)
{
	size_t put;
	int e;

	/* All n bytes or a failure: without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write_ex()
	 * does the loop that send() leaves to us. */
	for (;;) {
		ERR_clear_error();
		if (SSL_write_ex(ssl, buf, n, &put) == 1)
			return 0;
		e = SSL_get_error(ssl, 0);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && errno == EINTR)
			continue; /* the same buffer again, as OpenSSL requires */
		tls_why(ssl, 0, err, errlen);
		return -1;
	}
}

int tls_close(SSL *ssl, char *err, size_t errlen)
{
	char rest[1024];
	size_t got;
	int rc;

	/* 1: both close_notify alerts are done (the peer's had come); 0: ours is sent. */
	ERR_clear_error();
	if ((rc = SSL_shutdown(ssl)) < 0) {
		tls_why(ssl, rc, err, errlen);
		return -1;
	}
	if (rc == 1)
		return 0;
	/* Read up to the peer's close_notify.  Closing the socket before it arrives would
	 * make our kernel answer it with a reset. */
	while (SSL_read_ex(ssl, rest, sizeof rest, &got) == 1)
		continue;
	if (SSL_get_error(ssl, 0) == SSL_ERROR_ZERO_RETURN)
		return 0;
	tls_why(ssl, 0, err, errlen);
	return -1;
}

const char *tls_describe(SSL *ssl, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", SSL_get_version(ssl),
	         SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
	return buf;
}

void tls_why(SSL *ssl, int ret, char *err, size_t errlen)
{
	int saved = errno;
	long verify = SSL_get_verify_result(ssl);

	switch (SSL_get_error(ssl, ret)) {
	case SSL_ERROR_WANT_READ: /* SO_RCVTIMEO or SO_SNDTIMEO ran out (errno EAGAIN) */
	case SSL_ERROR_WANT_WRITE:
		snprintf(err, errlen, "timed out");
		break;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(err, errlen, "the peer closed the TLS connection");
		break;
	case SSL_ERROR_SYSCALL: /* the socket failed, or ended (errno 0) without close_notify */
		snprintf(err, errlen, "%s",
		         saved != 0 ? strerror(saved) : "unexpected eof while reading");
		break;
	default:
		if (verify != X509_V_OK) {
			/* What the certificate check found: expired, unknown CA, wrong name. */
			snprintf(err, errlen, "certificate verify failed: %s",
			         X509_verify_cert_error_string(verify));
			ERR_clear_error();
			return;
		}
		tls_reason(err, errlen); /* the alert, or what was wrong with the bytes */
		return;
	}
	ERR_clear_error();
}
