/*
 * imsg framing and the dispatch-table checks of proc.c, over
 * socketpairs in one process.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "imsg.h"
#include "log.h"
#include "omni.h"
#include "proc.h"
#include "tap.h"

static void
pair(int sv[2], int nonblock)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0),
	    0, sv) == -1) {
		perror("socketpair");
		exit(1);
	}
}

/* Write raw bytes, with a descriptor on the first one when fd != -1. */
static ssize_t
rawsend(int s, const void *buf, size_t len, int fd)
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
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_len = CMSG_LEN(sizeof(int));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(s, &msg, 0);
}

static void
rawhdr(int s, uint32_t type, uint32_t len, uint32_t flags, int fd)
{
	struct imsg_hdr	 h;

	memset(&h, 0, sizeof(h));
	h.type = type;
	h.len = len;
	h.flags = flags;
	h.pid = getpid();
	if (rawsend(s, &h, sizeof(h), fd) != (ssize_t)sizeof(h)) {
		perror("rawsend");
		exit(1);
	}
}

static size_t
sizeof_msg(int i)
{
	static const size_t sizes[] = {
		0, 1, 2, 3, 7, 19, 20, 21, 100, 232, 511, 512, 513, 4095,
		4096, 8000, IMSG_MAX_PAYLOAD - 1, IMSG_MAX_PAYLOAD
	};

	return sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void
fill(unsigned char *p, size_t len, int seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7);
}

/* Many frames of assorted sizes, written and read interleaved. */
static void
test_roundtrip(void)
{
	struct imsgbuf	 w, r;
	struct imsg	 im;
	unsigned char	 buf[IMSG_MAX_PAYLOAD], want[IMSG_MAX_PAYLOAD];
	int		 sv[2], sent = 0, got = 0, bad = 0, n = 500, k;
	size_t		 len;
	ssize_t		 rn;

	pair(sv, 1);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);
	while (got < n) {
		/* Queue a few, write what fits, read what came. */
		for (k = 0; k < 7 && sent < n; k++, sent++) {
			len = sizeof_msg(sent);
			fill(buf, len, sent);
			if (imsg_compose(&w, 1000 + sent, sent * 3, -1,
			    len ? buf : NULL, len) == -1)
				bad++;
		}
		if (imsgbuf_write(&w) == -1)
			bad++;
		rn = imsgbuf_read(&r);
		if (rn == 0 || (rn == -1 && errno != EAGAIN)) {
			bad++;
			break;
		}
		while (imsg_get(&r, &im) == 1) {
			len = sizeof_msg(got);
			fill(want, len, got);
			if (im.hdr.type != (uint32_t)(1000 + got) ||
			    im.hdr.peerid != (uint32_t)(got * 3) ||
			    im.hdr.len != len ||
			    im.hdr.pid != (uint32_t)getpid() ||
			    im.fd != -1 ||
			    (len == 0 && im.data != NULL) ||
			    (len > 0 && memcmp(im.data, want, len) != 0) ||
			    (len > 0 && ((char *)im.data)[len] != '\0'))
				bad++;
			imsg_free(&im);
			got++;
		}
	}
	ok(got == n && bad == 0, "round trip of %d frames (%d bad)", got, bad);
	ok(!imsgbuf_pending(&w), "nothing left to write");
	ok(r.rlen == 0, "nothing left to read");
	ok(imsgbuf_read(&r) == -1 && errno == EAGAIN, "read EAGAIN when empty");
	close(sv[0]);
	ok(imsgbuf_read(&r) == 0, "read 0 on EOF");
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[1]);
}

static void
test_compose_limits(void)
{
	struct imsgbuf	 w;
	static unsigned char big[IMSG_MAX_PAYLOAD + 1];
	int		 sv[2], p[2], i, r;

	pair(sv, 1);
	imsgbuf_init(&w, sv[0]);
	errno = 0;
	ok(imsg_compose(&w, 1, 0, -1, big, IMSG_MAX_PAYLOAD + 1) == -1 &&
	    errno == ERANGE, "payload over the maximum: ERANGE");
	errno = 0;
	ok(imsg_compose(&w, 1, 0, -1, NULL, 5) == -1 && errno == ERANGE,
	    "length without data: ERANGE");
	if (pipe(p) == -1)
		exit(1);
	ok(imsg_compose(&w, 1, 0, p[0], big, IMSG_MAX_PAYLOAD + 1) == -1 &&
	    fcntl(p[0], F_GETFD) == -1 && errno == EBADF,
	    "refused compose closes the descriptor");
	close(p[1]);
	ok(!imsgbuf_pending(&w), "nothing queued");

	/* Queue without writing until the bound is hit. */
	for (i = 0; i < 10000; i++)
		if ((r = imsg_compose(&w, 1, 0, -1, big,
		    IMSG_MAX_PAYLOAD)) == -1)
			break;
	ok(i < 10000 && errno == ENOBUFS, "queue bound: ENOBUFS after %d", i);
	ok(i * (sizeof(struct imsg_hdr) + IMSG_MAX_PAYLOAD) <= 4u << 20 &&
	    (i + 1) * (sizeof(struct imsg_hdr) + IMSG_MAX_PAYLOAD) > 4u << 20,
	    "bound is 4 MB");
	ok(imsg_compose(&w, 1, 0, -1, NULL, 0) == 0,
	    "a small frame still fits");
	if (pipe(p) == -1)
		exit(1);
	ok(imsg_compose(&w, 1, 0, p[0], big, IMSG_MAX_PAYLOAD) == -1 &&
	    errno == ENOBUFS && fcntl(p[0], F_GETFD) == -1,
	    "ENOBUFS closes the descriptor");
	close(p[1]);
	imsgbuf_clear(&w);
	ok(!imsgbuf_pending(&w) && w.outq_bytes == 0, "clear empties queue");
	ok(imsg_compose(&w, 1, 0, -1, big, IMSG_MAX_PAYLOAD) == 0,
	    "room again after clear");
	imsgbuf_clear(&w);
	close(sv[0]);
	close(sv[1]);
}

static void
test_fd(void)
{
	struct imsgbuf	 w, r;
	struct imsg	 im;
	int		 sv[2], p[2], n, wend;
	char		 c[8];

	pair(sv, 1);
	imsgbuf_init(&w, sv[0]);
	imsgbuf_init(&r, sv[1]);
	if (pipe(p) == -1)
		exit(1);
	wend = p[1];
	ok(imsg_compose(&w, 42, 7, p[0], "hi", 2) == 0, "compose with fd");
	ok(imsg_compose(&w, 43, 0, -1, NULL, 0) == 0, "compose without");
	ok(imsgbuf_flush(&w) == 0, "flush");
	ok(fcntl(p[0], F_GETFD) == -1, "sent descriptor closed by sender");
	ok(imsgbuf_read(&r) > 0, "read");
	n = imsg_get(&r, &im);
	ok(n == 1 && im.hdr.type == 42 && im.hdr.flags == IMSG_FLAG_FD &&
	    im.fd != -1 && im.hdr.len == 2 && memcmp(im.data, "hi", 2) == 0,
	    "frame with descriptor");
	if (n == 1 && im.fd != -1) {
		ok(write(wend, "pipe", 4) == 4, "write into the pipe");
		ok(read(im.fd, c, sizeof(c)) == 4 && memcmp(c, "pipe", 4) == 0,
		    "read through the passed descriptor");
		ok((fcntl(im.fd, F_GETFD) & FD_CLOEXEC) != 0,
		    "received descriptor is close-on-exec");
		close(im.fd);
	}
	imsg_free(&im);
	/* A read stops where the descriptor-carrying data ends. */
	if ((n = imsg_get(&r, &im)) == 0 && imsgbuf_read(&r) > 0)
		n = imsg_get(&r, &im);
	ok(n == 1 && im.hdr.type == 43 && im.fd == -1,
	    "next frame has no descriptor");
	imsg_free(&im);
	close(wend);
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/* A frame dribbled in one byte at a time, the descriptor on byte 0. */
static void
test_partial(void)
{
	struct imsgbuf	 r;
	struct imsg	 im;
	unsigned char	 frame[sizeof(struct imsg_hdr) + 300];
	struct imsg_hdr	 h;
	size_t		 i;
	int		 sv[2], p[2], early = 0, res = 0;

	pair(sv, 1);
	imsgbuf_init(&r, sv[1]);
	if (pipe(p) == -1)
		exit(1);
	memset(&h, 0, sizeof(h));
	h.type = 77;
	h.len = 300;
	h.peerid = 5;
	h.flags = IMSG_FLAG_FD;
	memcpy(frame, &h, sizeof(h));
	fill(frame + sizeof(h), 300, 9);
	for (i = 0; i < sizeof(frame); i++) {
		if (rawsend(sv[0], frame + i, 1, i == 0 ? p[0] : -1) != 1)
			break;
		if (imsgbuf_read(&r) != 1)
			break;
		res = imsg_get(&r, &im);
		if (i + 1 < sizeof(frame) && res != 0)
			early++;
	}
	ok(i == sizeof(frame), "fed %zu bytes one at a time", i);
	ok(early == 0, "no frame before the last byte");
	ok(res == 1 && im.hdr.type == 77 && im.hdr.peerid == 5 &&
	    im.hdr.len == 300 && im.fd != -1 &&
	    memcmp(im.data, frame + sizeof(h), 300) == 0,
	    "complete frame with its descriptor");
	if (res == 1) {
		if (im.fd != -1)
			close(im.fd);
		imsg_free(&im);
	}
	close(p[0]);
	close(p[1]);
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

static void
test_malformed(void)
{
	struct imsgbuf	 r;
	struct imsg	 im;
	int		 sv[2], p[2];

	/* Announced length over the maximum. */
	pair(sv, 1);
	imsgbuf_init(&r, sv[1]);
	rawhdr(sv[0], 1, IMSG_MAX_PAYLOAD + 1, 0, -1);
	imsgbuf_read(&r);
	errno = 0;
	ok(imsg_get(&r, &im) == -1 && errno == EBADMSG,
	    "len over the maximum: EBADMSG");
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);

	pair(sv, 1);
	imsgbuf_init(&r, sv[1]);
	rawhdr(sv[0], 1, UINT32_MAX, 0, -1);
	imsgbuf_read(&r);
	errno = 0;
	ok(imsg_get(&r, &im) == -1 && errno == EBADMSG,
	    "len 2^32-1: EBADMSG");
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);

	/* The descriptor flag without a descriptor. */
	pair(sv, 1);
	imsgbuf_init(&r, sv[1]);
	rawhdr(sv[0], 1, 0, IMSG_FLAG_FD, -1);
	imsgbuf_read(&r);
	errno = 0;
	ok(imsg_get(&r, &im) == -1 && errno == EBADMSG,
	    "fd flag without descriptor: EBADMSG");
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);

	/* Unknown flags, with and without a descriptor. */
	pair(sv, 1);
	imsgbuf_init(&r, sv[1]);
	rawhdr(sv[0], 1, 0, 0x0002, -1);
	imsgbuf_read(&r);
	errno = 0;
	ok(imsg_get(&r, &im) == -1 && errno == EBADMSG,
	    "unknown flag: EBADMSG");
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);

	pair(sv, 1);
	imsgbuf_init(&r, sv[1]);
	if (pipe(p) == -1)
		exit(1);
	rawhdr(sv[0], 1, 0, IMSG_FLAG_FD | 0x80000000u, p[0]);
	imsgbuf_read(&r);
	errno = 0;
	ok(imsg_get(&r, &im) == -1 && errno == EBADMSG,
	    "unknown flag with fd: EBADMSG");
	ok(r.nrfds == 1, "descriptor held until clear");
	imsgbuf_clear(&r);
	ok(r.nrfds == 0, "clear closes held descriptors");
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);

	/* A header alone is not yet a frame; nothing is consumed. */
	pair(sv, 1);
	imsgbuf_init(&r, sv[1]);
	rawhdr(sv[0], 1, 10, 0, -1);
	imsgbuf_read(&r);
	ok(imsg_get(&r, &im) == 0 && r.rlen == sizeof(struct imsg_hdr),
	    "incomplete frame: 0, buffer kept");
	imsgbuf_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/* --- dispatch tables ------------------------------------------------ */

static int	 handled, handled_fd, closed_calls;

static void
h_plain(struct imsgev *iev, struct imsg *im)
{
	handled++;
}

static void
h_fd(struct imsgev *iev, struct imsg *im)
{
	handled++;
	handled_fd = im->fd;
}

static void
on_closed(struct imsgev *iev)
{
	closed_calls++;
	imsgev_clear(iev);
}

static const struct proc_dispatch table[] = {
	{ IMSG_METRIC, PROC_BIT(PROC_SIGNALD) | PROC_BIT(PROC_WGCTLD),
	    sizeof(struct omni_metric), 0, h_plain },
	{ IMSG_METRIC_END, PROC_BIT(PROC_SIGNALD), 0, 0, h_plain },
	{ IMSG_SOCK_METRICS, PROC_BIT(PROC_SIGNALD), 0, 1, h_fd },
	{ IMSG_RECONF_END, PROC_BIT(PROC_PARENT), 0, 0, h_plain },
	{ IMSG_CTL_SHOW_PEERS, PROC_BIT(PROC_SIGNALD), IMSG_LEN_ANY, 0,
	    h_plain },
	{ 0, 0, 0, 0, NULL }
};

/*
 * Send one frame from a raw imsgbuf into a fresh channel whose peer is
 * signald, dispatch once, and report: 1 handled, 0 closed, -1 neither.
 */
static int
dispatch_one(uint32_t type, const void *data, size_t len, int fd,
    uint32_t rawflags)
{
	struct imsgev	 iev;
	struct imsgbuf	 w;
	int		 sv[2], res;

	handled = closed_calls = 0;
	handled_fd = -1;
	pair(sv, 1);
	imsgbuf_init(&w, sv[0]);
	if (rawflags != 0)
		rawhdr(sv[0], type, 0, rawflags, fd);
	else {
		imsg_compose(&w, type, 0, fd, data, len);
		imsgbuf_flush(&w);
	}
	memset(&iev, 0, sizeof(iev));
	imsgev_init(&iev, sv[1], PROC_SIGNALD, table, on_closed, NULL);
	imsgev_dispatch(sv[1], EV_READ, &iev);
	if (handled == 1 && closed_calls == 0)
		res = 1;
	else if (handled == 0 && closed_calls == 1)
		res = 0;
	else
		res = -1;
	if (iev.ibuf.fd != -1)
		imsgev_clear(&iev);
	if (handled_fd != -1)
		close(handled_fd);
	imsgbuf_clear(&w);
	close(sv[0]);
	return res;
}

static int
dup_pipe_fd(void)
{
	int	 p[2];

	if (pipe(p) == -1)
		exit(1);
	close(p[1]);
	return p[0];
}

static void
test_dispatch(void)
{
	struct omni_metric	 m;
	char			 big[sizeof(m) + 1];
	int			 before, after, fd;

	memset(&m, 0, sizeof(m));
	memset(big, 0, sizeof(big));
	ok(dispatch_one(IMSG_METRIC, &m, sizeof(m), -1, 0) == 1,
	    "valid message reaches its handler");
	ok(dispatch_one(IMSG_CTL_SHOW_PEERS, big, 3, -1, 0) == 1,
	    "IMSG_LEN_ANY accepts any length");
	ok(dispatch_one(IMSG_METRIC, &m, sizeof(m) - 1, -1, 0) == 0,
	    "short message closes the channel");
	ok(dispatch_one(IMSG_METRIC, big, sizeof(big), -1, 0) == 0,
	    "long message closes the channel");
	ok(dispatch_one(IMSG_METRIC_END, NULL, 0, -1, 0) == 1,
	    "empty message of length 0 handled");
	ok(dispatch_one(IMSG_RECONF_END, NULL, 0, -1, 0) == 0,
	    "wrong sender closes the channel");
	ok(dispatch_one(IMSG_PEERS_BEGIN, NULL, 0, -1, 0) == 0,
	    "unknown type closes the channel");
	ok(dispatch_one(IMSG_TYPE_MAX + 100, NULL, 0, -1, 0) == 0,
	    "out of range type closes the channel");
	ok(dispatch_one(IMSG_SOCK_METRICS, NULL, 0, -1, 0) == 0,
	    "missing descriptor closes the channel");
	ok(dispatch_one(IMSG_SOCK_METRICS, NULL, 0, dup_pipe_fd(), 0) == 1 &&
	    handled_fd != -1, "descriptor reaches its handler");
	before = dup_pipe_fd();
	close(before);
	ok(dispatch_one(IMSG_METRIC_END, NULL, 0, dup_pipe_fd(), 0) == 0,
	    "unexpected descriptor closes the channel");
	/* The refused descriptor must not leak: the lowest fd is free. */
	after = dup_pipe_fd();
	ok(after == before, "unexpected descriptor was closed");
	close(after);
	ok(dispatch_one(IMSG_METRIC_END, NULL, 0, -1, IMSG_FLAG_FD) == 0,
	    "fd flag without descriptor closes the channel");
	fd = dup_pipe_fd();
	ok(dispatch_one(IMSG_METRIC_END, NULL, 0, fd, 0x10) == 0,
	    "unknown flags close the channel");
	close(fd);
}

/* A channel survives many messages (the read event stays armed). */
static void
test_dispatch_loop(void)
{
	struct imsgev		 iev;
	struct imsgbuf		 w;
	struct omni_metric	 m;
	struct timeval		 tv = { 0, 200000 };
	int			 sv[2], i;

	handled = closed_calls = 0;
	pair(sv, 1);
	imsgbuf_init(&w, sv[0]);
	memset(&m, 0, sizeof(m));
	memset(&iev, 0, sizeof(iev));
	imsgev_init(&iev, sv[1], PROC_SIGNALD, table, on_closed, NULL);
	for (i = 0; i < 3; i++) {
		imsg_compose(&w, IMSG_METRIC, 0, -1, &m, sizeof(m));
		imsgbuf_flush(&w);
		event_loopexit(&tv);
		event_dispatch();
	}
	ok(handled == 3 && closed_calls == 0,
	    "three messages over three loop runs: %d handled", handled);
	close(sv[0]);
	event_loopexit(&tv);
	event_dispatch();
	ok(closed_calls == 1, "peer close reported once");
	imsgbuf_clear(&w);
}

int
main(void)
{
	log_init(1, LOG_DAEMON);
	event_init();
	test_roundtrip();
	test_compose_limits();
	test_fd();
	test_partial();
	test_malformed();
	test_dispatch();
	test_dispatch_loop();
	return tap_done();
}
