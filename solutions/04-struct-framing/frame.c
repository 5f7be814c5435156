/* frame.c - lesson 04: length-prefixed frames (see frame.h). */
#include "frame.h"
#include "lab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int frame_send(int fd, const void *payload, size_t len)
{
	uint32_t n = (uint32_t)len;
	unsigned char *buf;
	int rc;

	if (len > UINT32_MAX) { /* the header cannot say it */
		errno = EMSGSIZE;
		return -1;
	}
	/* struct.pack('!I', len): the most significant byte first. */
	if ((buf = malloc(FRAME_HEADER + len)) == NULL)
		return -1;
	buf[0] = (unsigned char)(n >> 24);
	buf[1] = (unsigned char)(n >> 16);
	buf[2] = (unsigned char)(n >> 8);
	buf[3] = (unsigned char)n;
	memcpy(buf + FRAME_HEADER, payload, len);
	/* One write, not two: a small header sent alone waits for the peer's
	 * delayed ACK (Nagle), ~40 ms a frame on loopback. */
	rc = lab_writen(fd, buf, FRAME_HEADER + len) < 0 ? -1 : 0;
	free(buf);
	return rc;
}

ssize_t frame_recvall(int fd, void *buf, size_t n)
{
	size_t have = 0;
	ssize_t got;

	/* The seed's recvall(): recv() may return fewer bytes than asked, so
	 * ask again for the rest, at the offset reached. */
	while (have < n) {
		if ((got = recv(fd, (char *)buf + have, n - have, 0)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0) /* the peer closed first: the caller sees a short count */
			break;
		have += (size_t)got;
	}
	return (ssize_t)have;
}

/* The reason a read failed, in words. */
static const char *why(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno);
}

int frame_recv(int fd, size_t max, char **payload, size_t *len, char *err, size_t errlen)
{
	unsigned char header[FRAME_HEADER];
	size_t have, cap;
	ssize_t got;
	uint32_t n;
	char *buf, *bigger;

	got = frame_recvall(fd, header, sizeof header);
	if (got < 0) {
		snprintf(err, errlen, "reading the frame header: %s", why());
		return -1;
	}
	if (got < FRAME_HEADER) {
		*len = (size_t)got;
		return 0;
	}
	n = (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 | (uint32_t)header[2] << 8 |
	    header[3];
	/* Checked before anything is allocated: a peer cannot make us reserve
	 * 4 GiB by saying so. */
	if (n > max) {
		snprintf(err, errlen, "frame of %lu bytes is over the limit of %zu (--max-frame)",
		         (unsigned long)n, max);
		return -1;
	}
	/* Even within the limit, memory follows the bytes that arrive, not the
	 * length announced: start with at most FRAME_CHUNK and double as the
	 * payload comes.  A peer that announces 16 MiB and sends 10 bytes costs
	 * 64 KiB.  cap is a size_t, so cap + 1 cannot wrap as n + 1 would in 32
	 * bits (0xFFFFFFFF + 1 == 0). */
	cap = n < FRAME_CHUNK ? n : FRAME_CHUNK;
	if ((buf = malloc(cap + 1)) == NULL) {
		snprintf(err, errlen, "no memory for a frame of %lu bytes", (unsigned long)n);
		return -1;
	}
	for (have = 0; have < n; have += (size_t)got) {
		if (have == cap) { /* full: twice as big, but never past n */
			cap = cap > n - cap ? n : 2 * cap;
			if ((bigger = realloc(buf, cap + 1)) == NULL) {
				snprintf(err, errlen, "no memory for a frame of %lu bytes",
				         (unsigned long)n);
				free(buf);
				return -1;
			}
			buf = bigger;
		}
		got = frame_recvall(fd, buf + have, cap - have);
		if (got < 0) {
			snprintf(err, errlen, "reading the payload: %s", why());
			free(buf);
			return -1;
		}
		if ((size_t)got < cap - have) { /* the peer closed mid-payload */
			snprintf(err, errlen, "truncated payload: got %zu of %lu bytes",
			         have + (size_t)got, (unsigned long)n);
			free(buf);
			return -1;
		}
	}
	buf[n] = '\0';
	*payload = buf;
	*len = n;
	return 1;
}
