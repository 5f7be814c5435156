/* frame.c - lesson 04: length-prefixed frames (see frame.h).
 *
 * Your job is the three TODOs below: the seed's send_msg, recvall and recv_msg.  server.c
 * and client.c are complete and use them.  ../README.md walks through each one.
 *   make test-lab LAB=04 IMPL=starter    runs this lesson's tests on your code
 */
#include "frame.h"
#include "lab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int frame_send(int fd, const void *payload, size_t len)
{
	/* TODO: send the 4-byte header (len as a big-endian uint32, as struct.pack('!I', len))
	 * and then the payload, as ONE write of 4 + len bytes (build them in one buffer), and
	 * send all of it (short writes happen).  Return 0, or -1 with errno set. */
	(void)fd;
	(void)payload;
	(void)len;
	errno = ENOSYS;
	return -1;
}

ssize_t frame_recvall(int fd, void *buf, size_t n)
{
	/* TODO: the seed's recvall(): receive until exactly n bytes are in buf.  recv() may
	 * return fewer than asked; it returns 0 when the peer has closed.  Return n, or the
	 * smaller count if the peer closed first, or -1 on an error (retry on EINTR). */
	(void)fd;
	(void)buf;
	(void)n;
	errno = ENOSYS;
	return -1;
}

int frame_recv(int fd, size_t max, char **payload, size_t *len, char *err, size_t errlen)
{
	/* TODO: the seed's recv_msg(), with a limit:
	 *   - read the 4-byte header with frame_recvall; if the peer closed before all 4 bytes
	 *     came, set *len to how many did and return 0;
	 *   - decode the big-endian length N;
	 *   - if N > max, refuse it (write why into err) and return -1 BEFORE allocating
	 *     anything: the length comes from the peer, and it may say 4 GiB;
	 *   - read the N bytes of payload with frame_recvall into memory that grows as they
	 *     arrive: first min(N, FRAME_CHUNK) + 1 bytes, then twice as many (never more than
	 *     N + 1) each time it is full, so that a peer that announces 16 MiB and sends 10
	 *     bytes costs 64 KiB.  Count in size_t: N is a uint32_t, and 0xFFFFFFFF + 1 is 0
	 *     in 32 bits.  A short count is a truncated payload (an error);
	 *   - NUL-terminate, set *payload and *len, return 1.
	 * Every error returns -1 with a one-line reason in err (snprintf(err, errlen, ...)). */
	(void)fd;
	(void)max;
	(void)payload;
	*len = 0;
	snprintf(err, errlen, "frame_recv is not written yet");
	return -1;
}
