/* auth.c - lesson 05: HMAC with OpenSSL 3's EVP_MAC, a CSPRNG challenge, a constant-time compare.
 *
 * Your job is the three TODOs below (auth_challenge, auth_hmac, auth_equal); server.c and
 * client.c are complete and use them.  ../README.md walks through each one.
 *   make test-lab LAB=05 IMPL=starter    runs this lesson's tests on your code
 */
#include "auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long auth_load_key(const char *path, unsigned char **key, char *err, size_t errlen)
{
	unsigned char *buf = NULL, *bigger;
	size_t len = 0, cap = 0, got;
	FILE *f;

	if (path == NULL) {
		len = strlen(AUTH_DEMO_KEY);
		if ((*key = malloc(len)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(*key, AUTH_DEMO_KEY, len);
		return (long)len;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	do { /* the file's bytes, exactly: no newline stripped; at most 1 MiB */
		if (len == cap) {
			cap = cap ? 2 * cap : 256;
			if ((bigger = realloc(buf, cap)) == NULL) {
				fclose(f);
				free(buf);
				snprintf(err, errlen, "%s: out of memory", path);
				return -1;
			}
			buf = bigger;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0 && len <= AUTH_MAX_KEY);
	if (ferror(f) || len == 0 || len > AUTH_MAX_KEY) {
		snprintf(err, errlen, "%s: %s", path,
		         ferror(f)  ? strerror(errno)
		         : len == 0 ? "empty key file"
		                    : "a key over 1 MiB");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	*key = buf;
	return (long)len;
}

int auth_challenge(unsigned char *buf, size_t n)
{
	/* TODO: fill buf with n bytes from a cryptographically secure generator
	 * (OpenSSL's RAND_bytes; not rand()).  Return 0, or -1 if it fails. */
	(void)buf;
	(void)n;
	return -1;
}

size_t auth_digest_size(const char *digest)
{
	if (strcmp(digest, "md5") == 0)
		return 16;
	if (strcmp(digest, "sha256") == 0)
		return 32;
	return 0;
}

int auth_hmac(const char *digest, const unsigned char *key, size_t keylen, const unsigned char *msg,
              size_t msglen, unsigned char *out)
{
	/* TODO: out = HMAC(key, msg) with the hash named by digest ("md5" -> "MD5",
	 * "sha256" -> "SHA256"), through OpenSSL 3's EVP_MAC API (EVP_Q_mac, or
	 * EVP_MAC_fetch + EVP_MAC_CTX), the current interface for every MAC.
	 * Return 0 if auth_digest_size(digest) bytes were written, else -1. */
	(void)digest;
	(void)key;
	(void)keylen;
	(void)msg;
	(void)msglen;
	(void)out;
	return -1;
}

int auth_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
	/* TODO: 1 if the n bytes are equal, else 0, in a time that does not depend on where
	 * they differ (memcmp stops at the first difference: CRYPTO_memcmp does not). */
	(void)a;
	(void)b;
	(void)n;
	return 0;
}
