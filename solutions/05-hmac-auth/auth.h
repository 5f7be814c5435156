/* auth.h - lesson 05: HMAC challenge-response, the parts the server and the client share. */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>

#define AUTH_CHALLENGE  32 /* bytes of random challenge, as the seed's os.urandom(32) */
#define AUTH_MAX_DIGEST 64 /* room for any digest (SHA-512's 64 bytes) */
#define AUTH_DEMO_KEY   "my_super_secret_key"
#define AUTH_MAX_KEY    (1u << 20) /* a key file longer than this is refused */

/* The secret: the bytes of the file at path exactly (not empty, at most
 * AUTH_MAX_KEY), or, with path NULL, the seed's demo key.  Returns the key's
 * length (*key is malloc'd: free it), or -1 with a one-line reason in err. */
long auth_load_key(const char *path, unsigned char **key, char *err, size_t errlen);

/* Fill buf with n bytes from a cryptographically secure generator.  0 or -1. */
int auth_challenge(unsigned char *buf, size_t n);

/* The digest size of "md5" (16) or "sha256" (32), or 0 for any other name. */
size_t auth_digest_size(const char *digest);

/* out = HMAC-<digest>(key, msg), auth_digest_size(digest) bytes.  0 or -1. */
int auth_hmac(const char *digest, const unsigned char *key, size_t keylen, const unsigned char *msg,
              size_t msglen, unsigned char *out);

/* 1 if the n bytes at a and b are equal, else 0, in a time that does not
 * depend on where they first differ. */
int auth_equal(const unsigned char *a, const unsigned char *b, size_t n);

#endif
