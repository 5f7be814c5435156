/* tls.h - lesson 07: TLS 1.3 with OpenSSL's libssl, the parts the server and the client share.
 *
 * Each function is a socket call of lesson 01 with TLS around it: tls_accept() after accept(),
 * tls_connect() after connect(), tls_read() for recv(), tls_write() for send(), tls_close()
 * before close().  The socket itself stays the caller's: these functions never close it.
 * Every failure leaves one line in err (room: TLS_ERRLEN), and returns NULL or -1.
 */
#ifndef TLS_H
#define TLS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <sys/types.h>

#define TLS_ERRLEN 256 /* room for any reason these functions write */

/* A server's context: TLS 1.3 only; the certificate chain (PEM: the server's certificate
 * first, then any intermediate CA) and its private key, checked to match.  With ca non-NULL,
 * every client must present a certificate that the CA in the file ca signed. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *ca, char *err,
                        size_t errlen);

/* A client's context: TLS 1.3 only; trusts the CA in the file ca, and nothing else; refuses a
 * server whose certificate it cannot verify.  With cert and key non-NULL, it presents that
 * client certificate to a server that asks for one. */
SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key, char *err,
                        size_t errlen);

/* The server's handshake on the accepted socket fd: a new SSL, or NULL. */
SSL *tls_accept(SSL_CTX *ctx, int fd, char *err, size_t errlen);

/* The client's handshake on the connected socket fd with the server called name (a host name,
 * or an IP address): the certificate must be valid for that name.  A new SSL, or NULL. */
SSL *tls_connect(SSL_CTX *ctx, int fd, const char *name, char *err, size_t errlen);

/* One SSL_read of up to n bytes: how many it gave (> 0), 0 when the peer closed the TLS
 * connection properly (close_notify), or -1 for anything else: a timeout, a peer that
 * closed the TCP connection without close_notify, an alert. */
ssize_t tls_read(SSL *ssl, void *buf, size_t n, char *err, size_t errlen);

/* Send all n bytes (n > 0).  0, or -1. */
int tls_write(SSL *ssl, const void *buf, size_t n, char *err, size_t errlen);

/* Close the TLS connection properly: send close_notify, and wait for the peer's (if it has not
 * come yet), discarding any data before it.  Only on a connection without a failure: after
 * one, OpenSSL forbids SSL_shutdown(); just SSL_free() it.  0, or -1.  The caller still
 * frees ssl (SSL_free) and closes the socket. */
int tls_close(SSL *ssl, char *err, size_t errlen);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384": the version and the cipher suite the handshake chose,
 * as Python's ssl prints them (version(), cipher()[0]).  Returns buf. */
const char *tls_describe(SSL *ssl, char *buf, size_t len);

/* Why an SSL call on ssl failed, as one line: ret is what the call returned.  Empties
 * OpenSSL's error queue, so that the next call's errors are its own. */
void tls_why(SSL *ssl, int ret, char *err, size_t errlen);

/* OpenSSL's reason for its last error ("wrong version number", "tlsv1 alert unknown ca"),
 * from its queue of errors, which it then empties.  Returns buf. */
const char *tls_reason(char *buf, size_t len);

/* Why an OpenSSL call failed, "what: REASON" (tls_reason()), into err.  Returns -1, so that
 * `return tls_fail(...)` ends a function that returns int. */
int tls_fail(const char *what, char *err, size_t errlen);

#endif
