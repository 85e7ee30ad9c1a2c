/*
 * loadgen: many simulated edges against a real nucleus, from one
 * process.  Each edge has its own X25519 key pair, its own source
 * address (127.x.y.z, sent with IP_PKTINFO from one socket) and runs
 * the real protocol (signald/PROTOCOL.md) with the real cryptography:
 * bare REGISTER, CHALLENGE, proof computed here (it owns the keys),
 * REGISTER with proof, then heartbeats with versioned syncs, pages and
 * retransmissions.  There is no WireGuard.  What an edge learned is
 * kept as a bitmap over the simulated population; an edge has
 * converged when it knows every other edge.
 *
 * usage: loadgen -n edges -a nucleus:port -c cluster -s secret
 *        [-p local port] [-H heartbeat s] [-r joins/s] [-w in flight]
 *        [-T timeout s] [-b first address] [-v]
 * Exit status 0 when every edge converged within the timeout.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "proto.h"
#include "ptab.h"

#define LG_REQS		4	/* requests an answer may echo */
#define LG_RTO_MS	1000	/* first retransmission, then doubling */
#define LG_RTO_MAX	16000
#define LG_BATCH	64

enum lg_state { LG_IDLE, LG_HELLO, LG_PROVING, LG_REGISTERING, LG_REGISTERED };

struct lg_edge {
	uint8_t		 pub[32];
	uint8_t		 priv[32];
	uint8_t		 proof[32];
	uint8_t		 cookie[16];
	struct in_addr	 addr;
	uint8_t		 state;
	uint8_t		 has_cookie;
	uint8_t		 full;		/* a full sync in progress */
	uint8_t		 synced;	/* a sync completed */
	uint8_t		 inflight;	/* a page is outstanding */
	uint64_t	 tlast;
	uint64_t	 reqs[LG_REQS];
	unsigned	 nreq;
	uint64_t	 next_ms;	/* next REGISTER/HEARTBEAT */
	uint64_t	 rto_ms;	/* page retransmission, 0: none */
	uint32_t	 rto;		/* its current timeout */
	uint32_t	 backoff;
	uint64_t	 epoch, ver;
	uint64_t	 sepoch, sbase, scur;
	uint32_t	 known_n, stage_n;
	uint8_t		*known, *stage;	/* bitmaps over the population */
	uint64_t	 reg_ms;	/* acknowledged */
	uint64_t	 conv_ms;	/* converged, 0: not (yet) */
};

static struct lg_edge	*E;
static uint32_t		 N;
static struct ptab	 byindex;	/* pubkey -> index (in pe_stamp) */
static int		 sock;
static struct sockaddr_in nucaddr;
static char		 cluster[64];
static uint8_t		 namekey[32];
static struct sig_ckeys	 ck;
static uint8_t		 nkey[32];
static int		 has_nkey;
static uint32_t		 heartbeat_ms = 10000;
static uint32_t		 inflight, maxinflight = 1024;
static int		 verbose;
static struct {
	int		 got;		/* a PEER_INFO arrived */
	uint8_t		 pub[32];
	uint32_t	 n;
} qa;
static struct {
	uint64_t	 sent, recv, bytes_in, bytes_out, parts, entries;
	uint64_t	 challenges, naks, bad, stale, gaps, rtos, full;
} st;

static void	lg_read(const struct sig_clock *);

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
clock_fill(struct sig_clock *c)
{
	struct timespec	 ts;

	c->ms = now_ms();
	clock_gettime(CLOCK_REALTIME, &ts);
	c->wall = ts.tv_sec;
	c->wall_us = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
lg_sendto(struct lg_edge *e, const uint8_t *buf, size_t len)
{
	struct msghdr		 mh;
	struct iovec		 iov;
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	}			 cm;
	struct cmsghdr		*c;
	struct in_pktinfo	*pi;

	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_name = &nucaddr;
	mh.msg_namelen = sizeof(nucaddr);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(*pi));
	pi = (struct in_pktinfo *)CMSG_DATA(c);
	pi->ipi_spec_dst = e->addr;
	if (sendmsg(sock, &mh, 0) == -1) {
		if (verbose)
			warn("sendmsg");
		return;
	}
	st.sent++;
	st.bytes_out += len;
}

static void
lg_send(struct lg_edge *e, int type, const struct sig_clock *clk)
{
	struct sig_msg	 m;
	uint8_t		 buf[SIG_MAXDGRAM];
	const uint8_t	*auth = NULL;
	size_t		 len;
	int		 rv;

	proto_init_msg(&m, type, proto_next_time(&e->tlast, clk));
	memcpy(m.pubkey, e->pub, 32);
	m.vip.af = AF_INET;
	m.vip.plen = 16;
	m.vip.addr[0] = 10;
	m.vip.addr[1] = 100 + (e - E) / 65536;
	m.vip.addr[2] = (e - E) / 256 % 256;
	m.vip.addr[3] = (e - E) % 256;
	m.port = 51820;
	if (e->state >= LG_REGISTERING || type != SIG_REGISTER) {
		auth = e->proof;
		memcpy(m.cookie, e->cookie, 16);
		m.fields |= SIG_F(SIG_K_COOKIE) | SIG_F_SYNC;
		if (e->full) {
			m.epoch = e->sepoch;
			m.from = e->scur;
			m.base = e->sbase;
			m.flags = SIG_FL_FULL;
			m.fields |= SIG_F(SIG_K_BASE);
		} else if (e->synced) {
			m.epoch = e->epoch;
			m.from = e->ver;
		} else
			m.flags = SIG_FL_FULL;
	}
	if ((rv = proto_seal(&m, SIG_KIND_UP, cluster, namekey, ck.up, auth,
	    buf, sizeof(buf), &len)) != SIG_OK)
		errx(1, "seal: %s", proto_reason_name(rv));
	e->reqs[e->nreq++ % LG_REQS] = m.time;
	lg_sendto(e, buf, len);
}

/* A sync request; the page it starts has a retransmission timer. */
static void
lg_sync(struct lg_edge *e, const struct sig_clock *clk)
{
	if (!e->inflight) {
		e->inflight = 1;
		inflight++;
	}
	lg_send(e, SIG_HEARTBEAT, clk);
	if (e->rto < LG_RTO_MS)
		e->rto = LG_RTO_MS;
	e->rto_ms = clk->ms + e->rto;
}

static void
lg_page_done(struct lg_edge *e)
{
	if (e->inflight) {
		e->inflight = 0;
		inflight--;
	}
	e->rto_ms = 0;
	e->rto = LG_RTO_MS;
}

static void
bit_set(uint8_t *map, uint32_t *n, uint32_t i, int on)
{
	uint8_t	 b = 1 << (i & 7);

	if (on && !(map[i >> 3] & b)) {
		map[i >> 3] |= b;
		(*n)++;
	} else if (!on && (map[i >> 3] & b)) {
		map[i >> 3] &= ~b;
		(*n)--;
	}
}

static void
lg_part(struct lg_edge *e, const struct sig_msg *m, const struct sig_clock *clk)
{
	struct ptab_ent	*pe;
	uint8_t		*map;
	uint32_t	*cnt, i;
	uint64_t	*cur;

	st.parts++;
	if ((m->flags & SIG_FL_FULL) && m->from == 0 &&
	    (!e->full || e->sepoch != m->epoch || e->sbase != m->base ||
	    e->scur != 0)) {
		memset(e->stage, 0, (N + 7) / 8);
		e->stage_n = 0;
		e->full = 1;
		e->sepoch = m->epoch;
		e->sbase = m->base;
		e->scur = 0;
		st.full++;
	}
	if (m->flags & SIG_FL_FULL) {
		if (!e->full || m->epoch != e->sepoch || m->base != e->sbase)
			return;
		map = e->stage;
		cnt = &e->stage_n;
		cur = &e->scur;
	} else {
		if (e->full || !e->synced || m->epoch != e->epoch)
			return;
		map = e->known;
		cnt = &e->known_n;
		cur = &e->ver;
	}
	if (m->from != *cur) {
		if (m->from > *cur)
			st.gaps++;
		return;
	}
	for (i = 0; i < m->npeers; i++) {
		st.entries++;
		if ((pe = ptab_get(&byindex, m->peers[i].pubkey)) == NULL)
			continue;	/* not one of ours */
		bit_set(map, cnt, pe->pe_stamp, !m->peers[i].removed);
	}
	*cur = m->to;
	if (m->flags & SIG_FL_MORE) {
		if (m->flags & SIG_FL_LAST)
			lg_sync(e, clk);	/* next page at once */
		return;
	}
	if (e->full) {
		memcpy(e->known, e->stage, (N + 7) / 8);
		e->known_n = e->stage_n;
		e->epoch = e->sepoch;
		e->ver = e->scur;
		e->full = 0;
		e->synced = 1;
	}
	lg_page_done(e);
	if (e->known_n == N - 1 && e->conv_ms == 0)
		e->conv_ms = clk->ms;
	else if (e->known_n != N - 1)
		e->conv_ms = 0;
}

static void
lg_input(struct lg_edge *e, const uint8_t *d, size_t len,
    const struct sig_clock *clk)
{
	static struct sig_rx	 rx;
	unsigned		 i;

	st.recv++;
	st.bytes_in += len;
	if (proto_open_down(&rx, d, len, ck.down) != SIG_OK) {
		st.bad++;
		return;
	}
	if (proto_check_time(&rx.m, clk) != SIG_OK) {
		st.stale++;
		return;
	}
	for (i = 0; i < LG_REQS; i++)
		if (e->reqs[i] == rx.m.re)
			break;
	if (i == LG_REQS) {
		st.stale++;
		return;
	}
	if (rx.m.type == SIG_CHALLENGE) {
		st.challenges++;
		if (!has_nkey) {
			memcpy(nkey, rx.m.nkey, 32);
			has_nkey = 1;
		} else if (memcmp(nkey, rx.m.nkey, 32) != 0)
			errx(1, "the nucleus changed its key");
		memcpy(e->cookie, rx.m.cookie, 16);
		e->has_cookie = 1;
		if (e->state <= LG_PROVING &&
		    keys_dh(e->priv, e->pub, nkey, e->proof) == -1)
			errx(1, "nucleus key of low order");
		e->state = LG_REGISTERING;
		e->backoff = 1;
		lg_send(e, SIG_REGISTER, clk);
		e->next_ms = clk->ms + 1000;
		return;
	}
	if (!proto_auth_ok(&rx, e->proof)) {
		st.bad++;
		return;
	}
	switch (rx.m.type) {
	case SIG_REGISTER_ACK:
		if (e->state != LG_REGISTERED) {
			e->state = LG_REGISTERED;
			e->reg_ms = clk->ms;
			e->next_ms = clk->ms + heartbeat_ms;
			if (!e->inflight) {
				e->inflight = 1;
				inflight++;
			}
			e->rto = LG_RTO_MS;
			e->rto_ms = clk->ms + e->rto;
		}
		/* FALLTHROUGH */
	case SIG_HEARTBEAT_ACK:
		memcpy(e->cookie, rx.m.cookie, 16);
		lg_part(e, &rx.m, clk);
		break;
	case SIG_PEER_INFO:
		qa.got = 1;
		qa.n = rx.m.npeers;
		if (rx.m.npeers == 1)
			memcpy(qa.pub, rx.m.peers[0].pubkey, 32);
		break;
	case SIG_NAK:
		st.naks++;
		e->state = LG_HELLO;
		e->next_ms = clk->ms;
		break;
	}
}

static void
lg_tick(struct lg_edge *e, const struct sig_clock *clk)
{
	if (e->state == LG_REGISTERED && e->rto_ms != 0 &&
	    clk->ms >= e->rto_ms) {
		st.rtos++;
		/* back off: a busy nucleus must not get more work */
		e->rto = e->rto * 2 > LG_RTO_MAX ? LG_RTO_MAX : e->rto * 2;
		lg_sync(e, clk);
	}
	if (clk->ms < e->next_ms)
		return;
	switch (e->state) {
	case LG_HELLO:
	case LG_REGISTERING:
		lg_send(e, SIG_REGISTER, clk);
		e->next_ms = clk->ms + (uint64_t)e->backoff * 1000;
		if (e->backoff < heartbeat_ms / 1000)
			e->backoff *= 2;
		break;
	case LG_REGISTERED:
		if (!e->inflight && inflight >= maxinflight) {
			e->next_ms = clk->ms + 50;	/* pacing */
			break;
		}
		lg_sync(e, clk);
		e->next_ms = clk->ms + heartbeat_ms;
		break;
	default:
		break;
	}
}

static struct lg_edge *
lg_find(struct in_addr a)
{
	uint32_t	 h = ntohl(a.s_addr), base = ntohl(E[0].addr.s_addr), i;

	/* addresses are dense: 250 per /24, see lg_addr */
	if ((h >> 24) != 127)
		return NULL;
	i = ((h >> 16 & 0xff) - (base >> 16 & 0xff)) * 62500 +
	    ((h >> 8 & 0xff) - 1) * 250 + ((h & 0xff) - 1);
	if (i >= N || E[i].addr.s_addr != a.s_addr)
		return NULL;
	return &E[i];
}

/*
 * QUERY_PEER at scale: count random lookups through random edges that
 * come back with the right key, and their mean round trip.
 */
static uint32_t
lg_queries(uint32_t count, double *mean_us)
{
	struct sig_clock	 clk;
	struct sig_msg		 m;
	struct lg_edge		*a, *b;
	uint8_t			 buf[SIG_MAXDGRAM];
	uint64_t		 t0, total = 0;
	size_t			 len;
	uint32_t		 i, good = 0;

	for (i = 0; i < count; i++) {
		a = &E[randombytes_uniform(N)];
		b = &E[randombytes_uniform(N)];
		clock_fill(&clk);
		proto_init_msg(&m, SIG_QUERY_PEER,
		    proto_next_time(&a->tlast, &clk));
		memcpy(m.pubkey, a->pub, 32);
		memcpy(m.cookie, a->cookie, 16);
		m.vip.af = AF_INET;
		m.vip.plen = 32;
		m.vip.addr[0] = 10;
		m.vip.addr[1] = 100 + (b - E) / 65536;
		m.vip.addr[2] = (b - E) / 256 % 256;
		m.vip.addr[3] = (b - E) % 256;
		if (proto_seal(&m, SIG_KIND_UP, cluster, namekey, ck.up,
		    a->proof, buf, sizeof(buf), &len) != SIG_OK)
			errx(1, "seal");
		a->reqs[a->nreq++ % LG_REQS] = m.time;
		qa.got = 0;
		t0 = clk.wall_us;
		lg_sendto(a, buf, len);
		while (!qa.got) {
			clock_fill(&clk);
			if (clk.wall_us > t0 + 1000000)
				break;
			lg_read(&clk);
		}
		if (qa.got && qa.n == 1 && memcmp(qa.pub, b->pub, 32) == 0) {
			good++;
			total += clk.wall_us - t0;
		}
		if (i % 10 == 9)
			usleep(10000);	/* under the global rate limit */
	}
	*mean_us = good ? (double)total / good : 0;
	return good;
}

static void
lg_addr(uint32_t first, uint32_t i, struct in_addr *a)
{
	a->s_addr = htonl((127U << 24) | ((first + i / 62500) << 16) |
	    ((i / 250 % 250 + 1) << 8) | (i % 250 + 1));
}

static void
lg_read(const struct sig_clock *clk)
{
	static uint8_t		 bufs[LG_BATCH][2048];
	static uint8_t		 ctl[LG_BATCH][64];
	struct mmsghdr		 mm[LG_BATCH];
	struct iovec		 iov[LG_BATCH];
	struct cmsghdr		*c;
	struct in_pktinfo	*pi;
	struct lg_edge		*e;
	int			 n, i;

	for (;;) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < LG_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_control = ctl[i];
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
		}
		if ((n = recvmmsg(sock, mm, LG_BATCH, MSG_DONTWAIT, NULL)) <=
		    0)
			return;
		for (i = 0; i < n; i++) {
			e = NULL;
			for (c = CMSG_FIRSTHDR(&mm[i].msg_hdr); c != NULL;
			    c = CMSG_NXTHDR(&mm[i].msg_hdr, c))
				if (c->cmsg_level == IPPROTO_IP &&
				    c->cmsg_type == IP_PKTINFO) {
					pi = (struct in_pktinfo *)CMSG_DATA(c);
					e = lg_find(pi->ipi_addr);
				}
			if (e == NULL) {
				st.bad++;
				continue;
			}
			lg_input(e, bufs[i], mm[i].msg_len, clk);
		}
		if (n < LG_BATCH)
			return;
	}
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: loadgen -n edges -a nucleus:port -c cluster "
	    "-s secret [-p port] [-H heartbeat] [-r joins/s] [-w in-flight] "
	    "[-T timeout] [-b first] [-v]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sig_clock	 clk;
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	struct sig_peer		 p;
	struct omni_addr	 na;
	const char		*secret = NULL, *naddr = NULL;
	uint8_t			*maps, root[32], sig[32];
	uint64_t		 t0, tlast_join = 0, tick = 0, treg = 0, tconv = 0;
	uint64_t		 timeout_ms = 300000, lastreport = 0, t;
	uint64_t		 lastcount = 0;
	uint32_t		 i, started = 0, reg = 0, conv = 0, rate = 2000;
	uint32_t		 first = 10, port = 40000;
	int			 ch, one = 1, sz = 256 << 20;

	while ((ch = getopt(argc, argv, "a:b:c:H:n:p:r:s:T:vw:")) != -1) {
		switch (ch) {
		case 'a':
			naddr = optarg;
			break;
		case 'b':
			first = atoi(optarg);
			break;
		case 'c':
			strlcpy(cluster, optarg, sizeof(cluster));
			break;
		case 'H':
			heartbeat_ms = atoi(optarg) * 1000;
			break;
		case 'n':
			N = atoi(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'r':
			rate = atoi(optarg);
			break;
		case 's':
			secret = optarg;
			break;
		case 'T':
			timeout_ms = (uint64_t)atoi(optarg) * 1000;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'w':
			maxinflight = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (N < 2 || N > 1000000 || naddr == NULL || secret == NULL ||
	    cluster[0] == '\0' || heartbeat_ms == 0 || rate == 0 ||
	    first < 1 || first > 250)
		usage();
	if (sodium_init() == -1)
		errx(1, "sodium_init");
	log_init(1, 0);
	if (omni_addr_parse(naddr, OMNI_NUCLEUS_PORT, &na) == -1 ||
	    na.sa.sa_family != AF_INET)
		errx(1, "%s: an IPv4 address:port please", naddr);
	nucaddr = na.sin;

	keys_derive_root(secret, strlen(secret), root);
	keys_derive_root_subkey(root, KEY_ROOT_NAME, namekey);
	keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, cluster, sig);
	proto_cluster_keys(sig, &ck);

	if ((E = calloc(N, sizeof(*E))) == NULL ||
	    (maps = calloc(2 * (size_t)N, (N + 7) / 8)) == NULL)
		err(1, "calloc");
	ptab_init(&byindex, N);
	memset(&p, 0, sizeof(p));
	for (i = 0; i < N; i++) {
		crypto_box_keypair(E[i].pub, E[i].priv);
		lg_addr(first, i, &E[i].addr);
		E[i].known = maps + (size_t)2 * i * ((N + 7) / 8);
		E[i].stage = E[i].known + (N + 7) / 8;
		E[i].backoff = 1;
		memcpy(p.pubkey, E[i].pub, 32);
		if (ptab_put(&byindex, &p, i, 0) == -1)
			errx(1, "index");
	}

	if ((sock = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		err(1, "socket");
	setsockopt(sock, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) ==
	    -1)
		setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (bind(sock, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "bind port %u", port);

	t0 = now_ms();
	printf("# %u edges of cluster %s against %s, joining at %u/s, "
	    "heartbeat %u s\n", N, cluster, naddr, rate, heartbeat_ms / 1000);
	fflush(stdout);
	pfd.fd = sock;
	pfd.events = POLLIN;
	for (;;) {
		clock_fill(&clk);
		/* joins at the given rate */
		while (started < N && (uint64_t)started * 1000 <
		    (clk.ms - t0) * rate) {
			E[started].state = LG_HELLO;
			E[started].next_ms = clk.ms;
			started++;
			tlast_join = clk.ms;
		}
		if (clk.ms - tick >= 5) {
			tick = clk.ms;
			for (i = 0; i < started; i++)
				lg_tick(&E[i], &clk);
		}
		lg_read(&clk);
		if (clk.ms - lastcount < 100)
			goto next;
		lastcount = clk.ms;
		reg = conv = 0;
		for (i = 0; i < started; i++) {
			reg += E[i].state == LG_REGISTERED;
			conv += E[i].conv_ms != 0 && E[i].known_n == N - 1;
		}
		if (reg == N && treg == 0)
			treg = clk.ms;
		if (verbose || clk.ms - lastreport >= 5000) {
			if (clk.ms - lastreport >= 5000) {
				printf("# %5.1f s: %u started, %u registered, "
				    "%u converged, %llu parts, in flight %u\n",
				    (clk.ms - t0) / 1000.0, started, reg, conv,
				    (unsigned long long)st.parts, inflight);
				fflush(stdout);
				lastreport = clk.ms;
			}
		}
		if (conv == N) {
			tconv = clk.ms;
			break;
		}
		if (clk.ms - t0 > timeout_ms)
			break;
 next:
		poll(&pfd, 1, 2);
	}
	(void)tlast_join;

	t = now_ms();
	printf("edges %u\n", N);
	printf("registered %u in %.1f s: %.0f registrations/s\n", reg,
	    ((treg ? treg : t) - t0) / 1000.0,
	    reg / ((((treg ? treg : t) - t0) / 1000.0) + 1e-9));
	printf("converged %u of %u (each knows %u peers) in %.1f s\n", conv,
	    N, N - 1, ((tconv ? tconv : t) - t0) / 1000.0);
	printf("datagrams sent %llu (%llu bytes), received %llu (%llu bytes)"
	    "\n", (unsigned long long)st.sent,
	    (unsigned long long)st.bytes_out, (unsigned long long)st.recv,
	    (unsigned long long)st.bytes_in);
	printf("parts %llu, peer entries %llu, full syncs %llu, "
	    "challenges %llu, naks %llu, gaps %llu, retransmissions %llu, "
	    "bad %llu, stale %llu\n", (unsigned long long)st.parts,
	    (unsigned long long)st.entries, (unsigned long long)st.full,
	    (unsigned long long)st.challenges, (unsigned long long)st.naks,
	    (unsigned long long)st.gaps, (unsigned long long)st.rtos,
	    (unsigned long long)st.bad, (unsigned long long)st.stale);
	if (conv == N) {
		double	 us;
		uint32_t good = lg_queries(1000, &us);

		printf("query_peer: %u of 1000 random lookups answered with the "
		    "right key, %.0f us round trip on average\n", good, us);
		if (good != 1000)
			return 1;
	}
	if (conv != N) {
		for (i = 0; i < N && i < 5; i++)
			if (E[i].known_n != N - 1)
				printf("# edge %u: state %d knows %u\n", i,
				    E[i].state, E[i].known_n);
		return 1;
	}
	return 0;
}
