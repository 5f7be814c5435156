/* tls.c - lesson 07: TLS 1.3 around lesson 01's sockets, with OpenSSL's libssl.
 *
 * Your job is the TODOs below: every function of tls.h but tls_reason() and tls_fail(), which
 * are done.  server.c and client.c are complete and call them; ../README.md walks through
 * each OpenSSL call.  Make the certificates once:  labs/07-tls/make-certs /tmp/certs
 *   make test-lab LAB=07 IMPL=starter    runs this lesson's tests on your code
 */
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

/* What each function says until you write it. */
static void todo(const char *function, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s() is not written yet (labs/07-tls/starter/tls.c)", function);
}

SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *ca, char *err, size_t errlen)
{
	/* TODO: SSL_CTX_new(TLS_server_method()); TLS 1.3 at least
	 * (SSL_CTX_set_min_proto_version); the certificate chain from the file cert
	 * (SSL_CTX_use_certificate_chain_file), the key from the file key
	 * (SSL_CTX_use_PrivateKey_file, PEM), and SSL_CTX_check_private_key().  With ca
	 * non-NULL: trust the CA in that file (SSL_CTX_load_verify_locations) and require a
	 * client certificate (SSL_CTX_set_verify: SSL_VERIFY_PEER and
	 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT).  Each failure: tls_fail() says why; free the
	 * context (SSL_CTX_free) and return NULL. */
	(void)cert;
	(void)key;
	(void)ca;
	todo(__func__, err, errlen);
	return NULL;
}

SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
	/* TODO: SSL_CTX_new(TLS_client_method()); TLS 1.3 at least; trust the CA in the file
	 * ca, and verify the server (SSL_VERIFY_PEER: without it a failed check is noted and
	 * ignored).  With cert non-NULL: that certificate chain and key, checked, as the
	 * server's.  Failures as in tls_server_ctx(). */
	(void)ca;
	(void)cert;
	(void)key;
	todo(__func__, err, errlen);
	return NULL;
}

SSL *tls_accept(SSL_CTX *ctx, int fd, char *err, size_t errlen)
{
	/* TODO: SSL_new(ctx), SSL_set_fd(ssl, fd), then SSL_accept(ssl), which returns 1 when
	 * the handshake is done.  Anything else: tls_why() says why (after SSL_ERROR_WANT_READ
	 * or _WRITE with errno EINTR, call it again); SSL_free() and return NULL.  Empty the
	 * error queue (ERR_clear_error) before each call whose errors you will read. */
	(void)ctx;
	(void)fd;
	todo(__func__, err, errlen);
	return NULL;
}

SSL *tls_connect(SSL_CTX *ctx, int fd, const char *name, char *err, size_t errlen)
{
	/* TODO: as tls_accept(), with SSL_connect().  Before it: SNI, the name the client asks
	 * for (SSL_set_tlsext_host_name), unless name is an IP address (inet_pton() of
	 * AF_INET or AF_INET6 returns 1), which SNI may not carry; and the name the
	 * certificate must have, a host name or an address (SSL_set1_host). */
	(void)ctx;
	(void)fd;
	(void)name;
	todo(__func__, err, errlen);
	return NULL;
}

ssize_t tls_read(SSL *ssl, void *buf, size_t n, char *err, size_t errlen)
{
	/* TODO: SSL_read_ex() of up to n bytes: return how many it gave.  If it fails,
	 * SSL_get_error() says how: SSL_ERROR_ZERO_RETURN is the peer's close_notify, return 0;
	 * SSL_ERROR_WANT_READ or _WRITE with errno EINTR, try again; anything else: tls_why(),
	 * return -1. */
	(void)ssl;
	(void)buf;
	(void)n;
	todo(__func__, err, errlen);
	return -1;
}

int tls_write(SSL *ssl, const void *buf, size_t n, char *err, size_t errlen)
{
	/* TODO: SSL_write_ex() of the n bytes (it sends them all, or fails): 0.  EINTR as in
	 * tls_read() (the same buffer again); anything else: tls_why(), -1. */
	(void)ssl;
	(void)buf;
	(void)n;
	todo(__func__, err, errlen);
	return -1;
}

int tls_close(SSL *ssl, char *err, size_t errlen)
{
	/* TODO: SSL_shutdown(ssl) sends our close_notify: 1, the peer's had come already,
	 * return 0; 0, read (SSL_read_ex, into a buffer you throw away) until SSL_get_error()
	 * says SSL_ERROR_ZERO_RETURN, then return 0; any failure: tls_why(), -1. */
	(void)ssl;
	todo(__func__, err, errlen);
	return -1;
}

const char *tls_describe(SSL *ssl, char *buf, size_t len)
{
	/* TODO: "VERSION CIPHER" into buf: SSL_get_version(ssl), and the name
	 * (SSL_CIPHER_get_name) of the cipher suite in use (SSL_get_current_cipher). */
	(void)ssl;
	snprintf(buf, len, "tls_describe() is not written yet");
	return buf;
}

void tls_why(SSL *ssl, int ret, char *err, size_t errlen)
{
	/* TODO: one line for SSL_get_error(ssl, ret) (keep errno first: it may change):
	 *   SSL_ERROR_WANT_READ, _WRITE: on a blocking socket, the --timeout: "timed out";
	 *   SSL_ERROR_ZERO_RETURN: the peer closed the TLS connection;
	 *   SSL_ERROR_SYSCALL: strerror(errno), or with errno 0 "unexpected eof while reading";
	 *   anything else: if SSL_get_verify_result(ssl) is not X509_V_OK, "certificate verify
	 *   failed: " and X509_verify_cert_error_string() of it; else tls_reason().
	 * Then ERR_clear_error(), so that the next call's errors are its own. */
	(void)ssl;
	(void)ret;
	todo(__func__, err, errlen);
}
