/*
 * Fuzz the imsg read path: arbitrary bytes (optionally with
 * descriptors attached) go into a socketpair in chunks, and the
 * receiving imsgbuf takes frames out until imsg_get reports 0 or -1.
 * With the round-trip mode the input is instead cut into payloads
 * that are composed, written and must come back unchanged.
 *
 * Build: make regress/fuzz/fuzz_imsg
 * Run:   ./regress/fuzz/fuzz_imsg -max_total_time=60 regress/fuzz/corpus/imsg
 *
 * The first input byte selects the mode:
 *   bit 7: a descriptor goes with the first chunk
 *   bit 6: a descriptor goes with every chunk
 *   bit 5: round trip mode
 *   bits 0-4: chunk size selector
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAX_INPUT	(64 * 1024)

static int	devnull = -1;

static ssize_t
send_chunk(int s, const uint8_t *buf, size_t len, int withfd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr	*c;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (withfd) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_len = CMSG_LEN(sizeof(int));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(c), &devnull, sizeof(int));
	}
	return sendmsg(s, &msg, MSG_NOSIGNAL);
}

/* Take every complete frame; 1 to go on, 0 when the stream is dead. */
static int
drain(struct imsgbuf *ib)
{
	struct imsg	 im;
	volatile uint8_t sum = 0;
	ssize_t		 n;
	uint32_t	 i;
	int		 r;

	for (;;) {
		n = imsgbuf_read(ib);
		if (n == 0 || (n == -1 && errno != EAGAIN))
			return 0;
		while ((r = imsg_get(ib, &im)) == 1) {
			/* Touch every payload byte, and the spare NUL. */
			for (i = 0; i <= im.hdr.len && im.data != NULL; i++)
				sum += ((uint8_t *)im.data)[i];
			if (im.hdr.len == 0 && im.data != NULL)
				abort();
			if (im.hdr.len > 0 &&
			    ((uint8_t *)im.data)[im.hdr.len] != 0)
				abort();
			if (im.fd != -1)
				close(im.fd);
			imsg_free(&im);
		}
		if (r == -1)
			return 0;
		if (n == -1)
			return 1;	/* EAGAIN: all read */
	}
}

static void
fuzz_stream(int sv[2], uint8_t mode, const uint8_t *data, size_t size)
{
	struct imsgbuf	 ib;
	size_t		 off = 0, chunk, n;
	int		 withfd;

	imsgbuf_init(&ib, sv[1]);
	chunk = 1 + (size_t)(mode & 0x1f) * (mode & 0x10 ? 97 : 3);
	while (off < size) {
		n = size - off < chunk ? size - off : chunk;
		withfd = (mode & 0x40) || ((mode & 0x80) && off == 0);
		if (send_chunk(sv[0], data + off, n, withfd) != (ssize_t)n)
			break;
		off += n;
		if (!drain(&ib))
			break;
	}
	imsgbuf_clear(&ib);
}

/*
 * Round trip: the input is a list of (type, len, bytes) records, each
 * composed (with a descriptor when the type's low bit is set), then
 * everything must come back as sent.
 */
static void
fuzz_roundtrip(int sv[2], const uint8_t *data, size_t size)
{
	struct imsgbuf	 w, r;
	struct imsg	 im;
	const uint8_t	*p = data, *end = data + size;
	const uint8_t	*payload[64];
	size_t		 plen[64], len;
	uint32_t	 type[64];
	int		 n = 0, got = 0, fd, spins = 0;
	ssize_t		 rn;

	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);
	while (n < 64 && end - p >= 3) {
		type[n] = p[0];
		len = (size_t)(p[1] | p[2] << 8) % (IMSG_MAX_PAYLOAD + 2);
		p += 3;
		if (len > (size_t)(end - p))
			len = end - p;
		if (len > IMSG_MAX_PAYLOAD) {
			if (imsg_compose(&w, type[n], n, -1, p, len) != -1 ||
			    errno != ERANGE)
				abort();
			continue;
		}
		fd = type[n] & 1 ? dup(devnull) : -1;
		if (imsg_compose(&w, type[n], n, fd, len ? p : NULL,
		    len) == -1)
			abort();
		payload[n] = p;
		plen[n] = len;
		p += len;
		n++;
	}
	while (got < n && spins++ < 100000) {
		if (imsgbuf_write(&w) == -1)
			abort();
		rn = imsgbuf_read(&r);
		if (rn == 0 || (rn == -1 && errno != EAGAIN))
			abort();
		while (imsg_get(&r, &im) == 1) {
			if (got >= n || im.hdr.type != type[got] ||
			    im.hdr.peerid != (uint32_t)got ||
			    im.hdr.len != plen[got] ||
			    (im.fd != -1) != (type[got] & 1) ||
			    (plen[got] &&
			    memcmp(im.data, payload[got], plen[got]) != 0))
				abort();
			if (im.fd != -1)
				close(im.fd);
			imsg_free(&im);
			got++;
		}
	}
	if (got != n || imsgbuf_pending(&w))
		abort();
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	 sv[2];
	uint8_t	 mode;

	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	if (devnull == -1 && (devnull = open("/dev/null", O_RDWR)) == -1)
		abort();
	mode = data[0];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	if (mode & 0x20)
		fuzz_roundtrip(sv, data + 1, size - 1);
	else
		fuzz_stream(sv, mode, data + 1, size - 1);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
