/* frame.h - lesson 04: a message over TCP as a 4-byte big-endian length, then that many bytes.
 *
 * The seed's send_msg, recvall and recv_msg, in C.  A frame is
 *
 *     +--------+--------+--------+--------+------------------------+
 *     |   N, 4 bytes: uint32, big-endian  |  N bytes of payload    |
 *     +--------+--------+--------+--------+------------------------+
 *
 * exactly what Python's struct.pack('!I', N) + payload puts on the wire.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FRAME_HEADER      4           /* bytes of length before each payload */
#define FRAME_MAX_DEFAULT (16u << 20) /* --max-frame: 16 MiB */
#define FRAME_CHUNK       (64u << 10) /* first buffer for a payload: 64 KiB */

/* Send one frame: header and payload in one write, as the seed's
 * sock.sendall(length_prefix + serialized).  0, or -1 with errno set. */
int frame_send(int fd, const void *payload, size_t len);

/* Read exactly n bytes, as the seed's recvall(): n, fewer if the peer closed
 * first, or -1 with errno set (EAGAIN: the --timeout passed). */
ssize_t frame_recvall(int fd, void *buf, size_t n);

/* Receive one frame, as the seed's recv_msg() but refusing an announced
 * length over `max` before reading or allocating anything for it.
 *   1: a frame: *payload (malloc'd, free() it) and *len;
 *   0: the peer closed before a whole header; *len is how many header bytes
 *      came (0: a clean end of the conversation);
 *  -1: anything else, with a one-line reason in err. */
int frame_recv(int fd, size_t max, char **payload, size_t *len, char *err, size_t errlen);

#endif
