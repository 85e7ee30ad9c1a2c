/*
 * delayline: a userspace wire with a fixed delay, for benchmarks on a
 * kernel without netem (and without sch_fq for EDT).  It forwards
 * every frame arriving on interface A out of interface B after delay
 * milliseconds, and every frame arriving on B out of A after the
 * reverse delay, in order, through AF_PACKET sockets.  The sockets use
 * PACKET_VNET_HDR, so offloaded frames (GSO, checksum partial) cross
 * unchanged and the kernel finishes them on the way out; a qdisc on A
 * or B (tbf for the rate) applies to what delayline sends.
 *
 * usage: delayline -a ifA -b ifB -d ms [-r ms] [-T s] [-q frames]
 *   -d  delay A->B, -r  delay B->A (default: -d), -T  exit after so many
 *   seconds (default 600), -q  frames held per direction (default 65536;
 *   more are dropped and counted).
 * On exit (SIGTERM, SIGINT or -T) prints what it forwarded and dropped.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX	(65536 + 256)

struct pkt {
	uint64_t	 due;		/* CLOCK_MONOTONIC ns */
	size_t		 len;
	uint8_t		*data;		/* virtio_net_hdr + frame */
};

struct dir {
	int		 in, out;	/* sockets */
	uint64_t	 delay;		/* ns */
	struct pkt	*q;
	size_t		 head, n, cap;
	uint64_t	 fwd, bytes, qdrop, txerr;
};

static volatile sig_atomic_t	 quit;

static void
onsig(int sig)
{
	quit = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
psock(const char *ifname)
{
	struct sockaddr_ll	 sll;
	struct packet_mreq	 mr;
	unsigned		 idx;
	int			 s, one = 1, buf = 8 << 20;

	if ((idx = if_nametoindex(ifname)) == 0)
		err(1, "%s", ifname);
	if ((s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK,
	    htons(ETH_P_ALL))) == -1)
		err(1, "socket");
	if (setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one,
	    sizeof(one)) == -1)
		err(1, "PACKET_VNET_HDR");
	/* frames we send are not frames we received */
	if (setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
	    sizeof(one)) == -1)
		err(1, "PACKET_IGNORE_OUTGOING");
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) ==
	    -1 || setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &buf,
	    sizeof(buf)) == -1)
		err(1, "socket buffers");
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = idx;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		err(1, "bind %s", ifname);
	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = idx;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
	    sizeof(mr)) == -1)
		err(1, "promiscuous %s", ifname);
	return s;
}

/* Read every waiting frame of one direction into its queue. */
static void
receive(struct dir *d, uint8_t *buf)
{
	struct pkt	*p;
	ssize_t		 n;

	for (;;) {
		if ((n = recv(d->in, buf, FRAME_MAX, MSG_TRUNC)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				warn("recv");
			return;
		}
		if (n > FRAME_MAX || d->n == d->cap) {
			d->qdrop++;
			continue;
		}
		p = &d->q[(d->head + d->n) % d->cap];
		if ((p->data = malloc(n)) == NULL)
			err(1, NULL);
		memcpy(p->data, buf, n);
		p->len = n;
		p->due = now_ns() + d->delay;
		d->n++;
	}
}

/* Send what is due; returns ns until the next frame is, or -1. */
static int64_t
transmit(struct dir *d)
{
	struct pkt	*p;
	uint64_t	 t = now_ns();

	while (d->n > 0) {
		p = &d->q[d->head];
		if (p->due > t)
			return p->due - t;
		if (send(d->out, p->data, p->len, 0) == -1) {
			if (errno == EAGAIN) {
				/* the socket is full: try again soon */
				return 50000;
			}
			d->txerr++;	/* ENOBUFS: the qdisc dropped it */
		} else {
			d->fwd++;
			d->bytes += p->len;
		}
		free(p->data);
		d->head = (d->head + 1) % d->cap;
		d->n--;
	}
	return -1;
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: delayline -a ifA -b ifB -d ms [-r ms] "
	    "[-T s] [-q frames]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct dir		 d[2];
	struct pollfd		 pfd[2];
	struct sigaction	 sa;
	struct timespec		 ts;
	const char		*ifa = NULL, *ifb = NULL;
	uint8_t			*buf;
	uint64_t		 end;
	double			 ab = -1, ba = -1;
	size_t			 cap = 65536;
	int			 ch, i, lifetime = 600;

	while ((ch = getopt(argc, argv, "a:b:d:q:r:T:")) != -1) {
		switch (ch) {
		case 'a':
			ifa = optarg;
			break;
		case 'b':
			ifb = optarg;
			break;
		case 'd':
			ab = atof(optarg);
			break;
		case 'q':
			cap = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			ba = atof(optarg);
			break;
		case 'T':
			lifetime = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (ifa == NULL || ifb == NULL || ab < 0 || cap == 0 ||
	    lifetime < 1)
		usage();
	if (ba < 0)
		ba = ab;

	memset(d, 0, sizeof(d));
	d[0].in = d[1].out = psock(ifa);
	d[1].in = d[0].out = psock(ifb);
	d[0].delay = ab * 1e6;
	d[1].delay = ba * 1e6;
	for (i = 0; i < 2; i++) {
		d[i].cap = cap;
		if ((d[i].q = calloc(cap, sizeof(struct pkt))) == NULL)
			err(1, NULL);
	}
	if ((buf = malloc(FRAME_MAX)) == NULL)
		err(1, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	end = now_ns() + (uint64_t)lifetime * 1000000000;

	pfd[0].fd = d[0].in;
	pfd[1].fd = d[1].in;
	pfd[0].events = pfd[1].events = POLLIN;
	while (!quit && now_ns() < end) {
		int64_t	 w = 100000000, x;

		for (i = 0; i < 2; i++)
			if ((x = transmit(&d[i])) >= 0 && x < w)
				w = x;
		ts.tv_sec = w / 1000000000;
		ts.tv_nsec = w % 1000000000;
		if (ppoll(pfd, 2, &ts, NULL) <= 0)
			continue;
		for (i = 0; i < 2; i++)
			if (pfd[i].revents & POLLIN)
				receive(&d[i], buf);
	}
	for (i = 0; i < 2; i++)
		fprintf(stderr, "delayline %s->%s: %llu frames, %llu bytes, "
		    "%llu dropped (queue), %llu dropped (qdisc), %zu held\n",
		    i == 0 ? ifa : ifb, i == 0 ? ifb : ifa,
		    (unsigned long long)d[i].fwd,
		    (unsigned long long)d[i].bytes,
		    (unsigned long long)d[i].qdrop,
		    (unsigned long long)d[i].txerr, d[i].n);
	return 0;
}
