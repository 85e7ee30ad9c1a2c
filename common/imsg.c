/*
 * imsg framing: see imsg.h.  A malformed frame (length over the limit,
 * unknown flags, a descriptor flag without a descriptor) is reported
 * as -1 with errno EBADMSG so that the caller can treat the peer as
 * broken; nothing past a bad header is ever interpreted.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IMSG_HDR_SIZE	sizeof(struct imsg_hdr)
/* Bound the queue so a peer that stops reading cannot exhaust memory. */
#define IMSG_MAX_OUTQ	(4u * 1024 * 1024)

void
imsgbuf_init(struct imsgbuf *ib, int fd)
{
	memset(ib, 0, sizeof(*ib));
	ib->fd = fd;
	ib->pid = getpid();
	TAILQ_INIT(&ib->outq);
}

void
imsgbuf_clear(struct imsgbuf *ib)
{
	struct imsg_out	*o;
	int		 i;

	while ((o = TAILQ_FIRST(&ib->outq)) != NULL) {
		TAILQ_REMOVE(&ib->outq, o, entry);
		if (o->fd != -1)
			close(o->fd);
		free(o->buf);
		free(o);
	}
	ib->outq_bytes = 0;
	for (i = 0; i < ib->nrfds; i++)
		close(ib->rfds[i]);
	ib->nrfds = 0;
	ib->rlen = 0;
}

/*
 * Queue one frame.  Ownership of fd passes to the imsgbuf: it is
 * closed once sent (or when the buffer is cleared).
 */
int
imsg_compose(struct imsgbuf *ib, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct imsg_out	*o;
	struct imsg_hdr	 hdr;

	if (len > IMSG_MAX_PAYLOAD || (len > 0 && data == NULL)) {
		errno = ERANGE;
		goto fail;
	}
	if (ib->outq_bytes + IMSG_HDR_SIZE + len > IMSG_MAX_OUTQ) {
		errno = ENOBUFS;
		goto fail;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		goto fail;
	if ((o->buf = malloc(IMSG_HDR_SIZE + len)) == NULL) {
		free(o);
		goto fail;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.pid = ib->pid;
	hdr.flags = fd != -1 ? IMSG_FLAG_FD : 0;
	memcpy(o->buf, &hdr, IMSG_HDR_SIZE);
	if (len)
		memcpy(o->buf + IMSG_HDR_SIZE, data, len);
	o->len = IMSG_HDR_SIZE + len;
	o->fd = fd;
	TAILQ_INSERT_TAIL(&ib->outq, o, entry);
	ib->outq_bytes += o->len;
	return 0;
 fail:
	if (fd != -1)
		close(fd);
	return -1;
}

int
imsgbuf_pending(const struct imsgbuf *ib)
{
	return !TAILQ_EMPTY(&ib->outq);
}

/*
 * Write as much as the socket takes.  Returns 0 when done or when the
 * socket would block (check imsgbuf_pending), -1 on error.
 */
int
imsgbuf_write(struct imsgbuf *ib)
{
	struct imsg_out	*o;
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;

	while ((o = TAILQ_FIRST(&ib->outq)) != NULL) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = o->buf + o->off;
		iov.iov_len = o->len - o->off;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (o->fd != -1 && o->off == 0) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			msg.msg_control = cmsgbuf.buf;
			msg.msg_controllen = sizeof(cmsgbuf.buf);
			cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cmsg), &o->fd, sizeof(int));
		}
		n = sendmsg(ib->fd, &msg, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == ENOBUFS)
				return 0;
			return -1;
		}
		if (o->fd != -1 && o->off == 0) {
			close(o->fd);
			o->fd = -1;
		}
		o->off += n;
		ib->outq_bytes -= n;
		if (o->off == o->len) {
			TAILQ_REMOVE(&ib->outq, o, entry);
			free(o->buf);
			free(o);
		}
	}
	return 0;
}

/* Blocking flush for simple clients (omnictl) and tests. */
int
imsgbuf_flush(struct imsgbuf *ib)
{
	while (imsgbuf_pending(ib)) {
		if (imsgbuf_write(ib) == -1)
			return -1;
	}
	return 0;
}

/*
 * Read what is available.  Returns bytes read, 0 on EOF, -1 on error
 * (errno EAGAIN when nothing was there).
 */
ssize_t
imsgbuf_read(struct imsgbuf *ib)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;
	int		 i, nfds, fds[4];

	if (ib->rlen >= sizeof(ib->rbuf)) {
		errno = EBADMSG;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = ib->rbuf + ib->rlen;
	iov.iov_len = sizeof(ib->rbuf) - ib->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

	do {
		n = recvmsg(ib->fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;

	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfds > 4)
			nfds = 4;
		memcpy(fds, CMSG_DATA(cmsg), nfds * sizeof(int));
		for (i = 0; i < nfds; i++) {
			if (ib->nrfds >= IMSG_MAX_FDS_QUEUED) {
				/* A flood of descriptors: refuse them. */
				close(fds[i]);
				continue;
			}
			ib->rfds[ib->nrfds++] = fds[i];
		}
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		errno = EBADMSG;
		return -1;
	}
	ib->rlen += n;
	return n;
}

/*
 * Take the next complete frame out of the read buffer.
 * Returns 1 with *im filled, 0 when no complete frame is buffered,
 * -1 (errno EBADMSG) when the stream is malformed.
 */
int
imsg_get(struct imsgbuf *ib, struct imsg *im)
{
	struct imsg_hdr	 hdr;
	size_t		 total;

	if (ib->rlen < IMSG_HDR_SIZE)
		return 0;
	memcpy(&hdr, ib->rbuf, IMSG_HDR_SIZE);
	if (hdr.len > IMSG_MAX_PAYLOAD || (hdr.flags & ~IMSG_FLAG_FD)) {
		errno = EBADMSG;
		return -1;
	}
	total = IMSG_HDR_SIZE + hdr.len;
	if (ib->rlen < total)
		return 0;

	memset(im, 0, sizeof(*im));
	im->hdr = hdr;
	im->fd = -1;
	if (hdr.flags & IMSG_FLAG_FD) {
		if (ib->nrfds == 0) {
			errno = EBADMSG;
			return -1;
		}
		im->fd = ib->rfds[0];
		memmove(ib->rfds, ib->rfds + 1,
		    (ib->nrfds - 1) * sizeof(int));
		ib->nrfds--;
	}
	if (hdr.len > 0) {
		/* One spare NUL so string payloads can be checked safely. */
		if ((im->data = malloc(hdr.len + 1)) == NULL) {
			if (im->fd != -1)
				close(im->fd);
			return -1;
		}
		memcpy(im->data, ib->rbuf + IMSG_HDR_SIZE, hdr.len);
		((char *)im->data)[hdr.len] = '\0';
	}
	memmove(ib->rbuf, ib->rbuf + total, ib->rlen - total);
	ib->rlen -= total;
	return 1;
}

void
imsg_free(struct imsg *im)
{
	free(im->data);
	im->data = NULL;
}
