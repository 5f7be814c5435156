/* auth.c - lesson 05: HMAC with OpenSSL 3's EVP_MAC, a CSPRNG challenge, a constant-time compare.
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
	/* RAND_bytes draws from OpenSSL's CSPRNG, seeded from the kernel:
	 * unpredictable, which a challenge must be (rand() is not). */
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
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
	size_t outlen = 0, want = auth_digest_size(digest);

	/* EVP_Q_mac is the one-call form of the EVP_MAC API (OpenSSL 3): fetch
	 * "HMAC", set its digest, and run it over msg.  It is the current
	 * interface for every MAC; OpenSSL 3.0 deprecated the HMAC_CTX and
	 * HMAC_Init_ex/Update/Final family it replaces. */
	if (want == 0 ||
	    EVP_Q_mac(NULL, "HMAC", NULL, strcmp(digest, "md5") == 0 ? "MD5" : "SHA256", NULL, key,
	              keylen, msg, msglen, out, AUTH_MAX_DIGEST, &outlen) == NULL)
		return -1;
	return outlen == want ? 0 : -1;
}

int auth_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
	/* memcmp stops at the first difference, so its time tells an attacker
	 * how many leading bytes of a guess were right. */
	return CRYPTO_memcmp(a, b, n) == 0;
}
