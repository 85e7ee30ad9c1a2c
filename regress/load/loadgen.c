/*
 * loadgen: many simulated edges against a real nucleus, from one
 * process.  Each edge has its own X25519 key pair, its own source
 * address (127.x.y.z, sent with IP_PKTINFO from one socket) and runs
 * the real protocol (signald/PROTOCOL.md) with the real cryptography:
 * bare REGISTER, CHALLENGE, proof computed here (it owns the keys),
 * REGISTER with proof, then heartbeats with versioned syncs, pages and
 * retransmissions.  There is no WireGuard.  What an edge learned is
 * kept as a bitmap over its cluster; an edge has converged when it
 * knows every other edge of its cluster.
 *
 * The edges are split into clusters of -C edges (default: one cluster
 * of all), named after -c ("name-0", "name-1", ... when there are
 * several), joining cluster after cluster.  Each edge has one timer
 * in a timer wheel, so a tick costs what is due, not the population.
 *
 * Two ways to end:
 * - without -M (regress/load.t): when every edge converged, or at the
 *   timeout; then 1000 QUERY_PEER lookups.
 * - with -M secs (regress/bench/nucleus.sh): registration, then, once
 *   every edge converged, a measurement window of that many seconds
 *   in which the edges only heartbeat, then one newcomer (an edge held
 *   back until then) joins the last cluster and learns it, then the
 *   lookups.  Results are printed as "bench KEY VALUE" lines; with
 *   -P the nucleus process's CPU time and memory are sampled from
 *   /proc at the phase boundaries.
 *
 * usage: loadgen -n edges -a nucleus:port -c cluster -s secret
 *        [-C cluster size] [-p local port] [-H heartbeat s] [-r joins/s]
 *        [-w pages in flight] [-W registrations in flight]
 *        [-T timeout s] [-b first address] [-M window s] [-E] [-P pid] [-v]
 * -E: the window starts once every edge registered, converged or not
 * (a newcomer in a large cluster without waiting for all to settle).
 * Exit status 0 when every edge registered and converged within the
 * timeout and the lookups were right.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "proto.h"

#define LG_REQS		4	/* requests an answer may echo */
#define LG_RTO_MS	1000	/* first retransmission, then doubling */
#define LG_RTO_MAX	16000
#define LG_BATCH	64
#define LG_NIL		UINT32_MAX
#define LG_SLOT_MS	8	/* timer wheel: 8 ms slots ... */
#define LG_NSLOTS	8192	/* ... 65 s around, later timers go round */
#define LG_HIST_US	20	/* latency histogram: 20 us buckets ... */
#define LG_HIST_N	(1 << 20)	/* ... up to 21 s */
#define LG_MAXEDGES	2000000

enum lg_state { LG_IDLE, LG_HELLO, LG_PROVING, LG_REGISTERING, LG_REGISTERED };

struct lg_cluster {
	char			 c_name[SIG_CLUSTERMAX + 1];
	struct sig_ckeys	 c_ck;
	uint32_t		 c_first;	/* its edges: c_first ... */
	uint32_t		 c_n;		/* ... c_first + c_n - 1 */
	uint32_t		 c_want;	/* members an edge must know + 1 */
};

struct lg_edge {
	uint8_t		 pub[32];
	uint8_t		 priv[32];
	uint8_t		 proof[32];
	uint8_t		 cookie[16];
	uint64_t	 tlast;
	uint64_t	 reqs[LG_REQS];
	uint64_t	 next_ms;	/* next REGISTER/HEARTBEAT */
	uint64_t	 rto_ms;	/* page retransmission, 0: none */
	uint64_t	 due;		/* min(next_ms, rto_ms): its timer */
	uint64_t	 epoch, ver;
	uint64_t	 sepoch, sbase, scur;
	uint32_t	 known_n, stage_n;
	uint32_t	 cl;		/* index in C */
	uint32_t	 tnext, tprev;	/* timer wheel chain */
	uint32_t	 tslot;
	uint32_t	 rto;		/* current page timeout */
	uint16_t	 backoff;
	uint8_t		 state;
	uint8_t		 full;		/* a full sync in progress */
	uint8_t		 synced;	/* a sync completed */
	uint8_t		 inflight;	/* a page is outstanding */
	uint8_t		 conv;		/* knows its whole cluster */
	uint8_t		 queued;	/* in the timer wheel */
	uint8_t		 nreq;
	uint8_t		 answered;	/* bit per reqs[]: first answer seen */
	uint8_t		 regsent;	/* a REGISTER went out already */
};

/* Counters; snapshots of them delimit the phases. */
struct lg_stats {
	uint64_t	 sent, recv, bytes_in, bytes_out, parts, entries;
	uint64_t	 challenges, naks, bad, stale, gaps, rtos, full;
	uint64_t	 registers, reg_retries, heartbeats, hb_answers;
	uint64_t	 types[SIG_TYPE_MAX + 1];	/* opened, by type */
	uint64_t	 punch_bytes;
};

static struct lg_edge	*E;
static struct lg_cluster *C;
static uint32_t		 N, NC, csize;
static uint8_t		*maps;
static size_t		 mapbytes;	/* one bitmap: a cluster's edges */
static uint32_t		*kidx;		/* pubkey -> index + 1, open addr. */
static size_t		 kmask;
static int		 sock;
static struct sockaddr_in nucaddr;
static uint8_t		 namekey[32];
static uint8_t		 nkey[32];
static int		 has_nkey;
static uint32_t		 heartbeat_ms = 10000;
static uint32_t		 inflight, maxinflight = 1024;
static uint32_t		 pending;	/* registrations under way */
static uint32_t		 nreg, nconv, first_addr = 10;
static int		 verbose;
static int		 spread;	/* first heartbeats: random */
static int		 early;		/* window once registered (-E) */
static uint64_t		 newcomer_ms;	/* when the last edge converged */
static uint32_t		 whead[LG_NSLOTS];
static uint64_t		 wnext;		/* start of the next slot to run */
static uint32_t		*hist[2];	/* answer latency: 0 join, 1 window */
static int		 hphase;
static struct {
	int		 got;		/* a PEER_INFO arrived */
	uint8_t		 pub[32];
	uint32_t	 n;
} qa;
static struct lg_stats	 st;

static void	lg_read(void);

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

/* Addresses are dense: 250 per /24, 62,500 per /16 (lg_find). */
static void
lg_addr(uint32_t i, struct in_addr *a)
{
	a->s_addr = htonl((127U << 24) | ((first_addr + i / 62500) << 16) |
	    ((i / 250 % 250 + 1) << 8) | (i % 250 + 1));
}

static struct lg_edge *
lg_find(struct in_addr a)
{
	uint32_t	 h = ntohl(a.s_addr), i;

	if ((h >> 24) != 127 || (h >> 16 & 0xff) < first_addr ||
	    (h >> 8 & 0xff) < 1 || (h & 0xff) < 1)
		return NULL;
	i = ((h >> 16 & 0xff) - first_addr) * 62500 +
	    ((h >> 8 & 0xff) - 1) * 250 + ((h & 0xff) - 1);
	return i < N ? &E[i] : NULL;
}

/* --- public key index: our own keys are random, no need for a secret */

static uint32_t *
kidx_slot(const uint8_t *pub)
{
	uint64_t	 h;
	uint32_t	*s;

	memcpy(&h, pub, sizeof(h));
	for (h &= kmask;; h = (h + 1) & kmask) {
		s = &kidx[h];
		if (*s == 0 || memcmp(E[*s - 1].pub, pub, 32) == 0)
			return s;
	}
}

static struct lg_edge *
kidx_get(const uint8_t *pub)
{
	uint32_t	 v = *kidx_slot(pub);

	return v ? &E[v - 1] : NULL;
}

/* --- keys, made by every core at once ------------------------------- */

struct kg_job {
	uint32_t	 from, to;
};

static void *
kg_run(void *arg)
{
	struct kg_job	*j = arg;
	uint32_t	 i;

	for (i = j->from; i < j->to; i++) {
		randombytes_buf(E[i].priv, 32);
		if (crypto_scalarmult_base(E[i].pub, E[i].priv) != 0)
			errx(1, "scalarmult_base");
	}
	return NULL;
}

static void
keygen(void)
{
	pthread_t	 t[16];
	struct kg_job	 j[16];
	long		 nt = sysconf(_SC_NPROCESSORS_ONLN);
	int		 i;

	if (nt < 1)
		nt = 1;
	if (nt > 16)
		nt = 16;
	for (i = 0; i < nt; i++) {
		j[i].from = (uint64_t)N * i / nt;
		j[i].to = (uint64_t)N * (i + 1) / nt;
		if (pthread_create(&t[i], NULL, kg_run, &j[i]) != 0)
			errx(1, "pthread_create");
	}
	for (i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	for (i = 0; (uint32_t)i < N; i++) {
		uint32_t	*s = kidx_slot(E[i].pub);

		if (*s != 0)
			errx(1, "a key twice");
		*s = i + 1;
	}
}

/* --- timer wheel ----------------------------------------------------- */

static void
wheel_put(struct lg_edge *e)
{
	uint64_t	 t = e->due > wnext ? e->due : wnext;
	uint32_t	 s = (t / LG_SLOT_MS) % LG_NSLOTS, i = e - E;

	e->tslot = s;
	e->tprev = LG_NIL;
	e->tnext = whead[s];
	if (whead[s] != LG_NIL)
		E[whead[s]].tprev = i;
	whead[s] = i;
	e->queued = 1;
}

static void
wheel_del(struct lg_edge *e)
{
	if (!e->queued)
		return;
	if (e->tprev != LG_NIL)
		E[e->tprev].tnext = e->tnext;
	else
		whead[e->tslot] = e->tnext;
	if (e->tnext != LG_NIL)
		E[e->tnext].tprev = e->tprev;
	e->queued = 0;
}

/* The edge's timer follows its next send or retransmission. */
static void
lg_sched(struct lg_edge *e)
{
	uint64_t	 due = e->next_ms;

	if (e->rto_ms != 0 && e->rto_ms < due)
		due = e->rto_ms;
	if (e->queued && e->due == due)
		return;
	wheel_del(e);
	e->due = due;
	wheel_put(e);
}

/* --- sending --------------------------------------------------------- */

/*
 * Datagrams go out in batches of sendmmsg(2), each from its edge's own
 * source address (IP_PKTINFO): one system call per datagram would
 * cost the load generator the core it needs to keep up with a
 * nucleus at 40,000 heartbeats a second.  lg_flush sends the batch;
 * the wheel, the reader and the queries call it when they are done.
 */
static struct {
	uint32_t		 n;
	struct mmsghdr		 mm[LG_BATCH];
	struct iovec		 iov[LG_BATCH];
	uint8_t			 buf[LG_BATCH][SIG_MAXDGRAM];
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	}			 cm[LG_BATCH];
} out;

static void
lg_flush(void)
{
	uint32_t	 done = 0, k;
	int		 r;

	while (done < out.n) {
		r = sendmmsg(sock, out.mm + done, out.n - done, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (verbose)
				warn("sendmmsg");
			r = 1;		/* that one is lost; the rest go */
			st.sent--;
			st.bytes_out -= out.iov[done].iov_len;
		}
		done += r;
	}
	for (k = 0; k < out.n; k++) {
		st.sent++;
		st.bytes_out += out.iov[k].iov_len;
	}
	out.n = 0;
}

static void
lg_sendto(struct lg_edge *e, const uint8_t *buf, size_t len)
{
	struct msghdr		*mh;
	struct cmsghdr		*c;
	struct in_pktinfo	*pi;
	uint32_t		 k;

	if (len > SIG_MAXDGRAM)
		errx(1, "datagram of %zu bytes", len);
	if (out.n == LG_BATCH)
		lg_flush();
	k = out.n++;
	memcpy(out.buf[k], buf, len);
	out.iov[k].iov_base = out.buf[k];
	out.iov[k].iov_len = len;
	memset(&out.mm[k], 0, sizeof(out.mm[k]));
	memset(&out.cm[k], 0, sizeof(out.cm[k]));
	mh = &out.mm[k].msg_hdr;
	mh->msg_name = &nucaddr;
	mh->msg_namelen = sizeof(nucaddr);
	mh->msg_iov = &out.iov[k];
	mh->msg_iovlen = 1;
	mh->msg_control = out.cm[k].buf;
	mh->msg_controllen = sizeof(out.cm[k].buf);
	c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(*pi));
	pi = (struct in_pktinfo *)CMSG_DATA(c);
	lg_addr(e - E, &pi->ipi_spec_dst);
}

static void
lg_vip(uint32_t i, struct omni_prefix *vip, int plen)
{
	memset(vip, 0, sizeof(*vip));
	vip->af = AF_INET;
	vip->plen = plen;
	vip->addr[0] = 10;
	vip->addr[1] = 100 + i / 65536;
	vip->addr[2] = i / 256 % 256;
	vip->addr[3] = i % 256;
}

static void
lg_send(struct lg_edge *e, int type, const struct sig_clock *clk)
{
	struct lg_cluster	*cl = &C[e->cl];
	struct sig_msg		 m;
	uint8_t			 buf[SIG_MAXDGRAM];
	const uint8_t		*auth = NULL;
	size_t			 len;
	unsigned		 slot;
	int			 rv;

	proto_init_msg(&m, type, proto_next_time(&e->tlast, clk));
	memcpy(m.pubkey, e->pub, 32);
	lg_vip(e - E, &m.vip, 16);
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
	if ((rv = proto_seal(&m, SIG_KIND_UP, cl->c_name, namekey,
	    cl->c_ck.up, auth, buf, sizeof(buf), &len)) != SIG_OK)
		errx(1, "seal: %s", proto_reason_name(rv));
	slot = e->nreq++ % LG_REQS;
	e->reqs[slot] = m.time;
	e->answered &= ~(1 << slot);
	if (type == SIG_REGISTER)
		st.registers++;
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

/* --- receiving ------------------------------------------------------- */

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

static uint8_t *
lg_known(struct lg_edge *e)
{
	return maps + (size_t)(e - E) * 2 * mapbytes;
}

static uint8_t *
lg_stage(struct lg_edge *e)
{
	return lg_known(e) + mapbytes;
}

static void
lg_conv_check(struct lg_edge *e)
{
	int	 c = e->synced && e->known_n + 1 == C[e->cl].c_want;

	if (c && e == &E[N - 1] && newcomer_ms == 0)
		newcomer_ms = now_ms();		/* to the ms, not the 100 */
	if (c != e->conv) {
		e->conv = c;
		if (c)
			nconv++;
		else
			nconv--;
	}
}

static void
lg_part(struct lg_edge *e, const struct sig_msg *m, const struct sig_clock *clk)
{
	struct lg_cluster	*cl = &C[e->cl];
	struct lg_edge		*p;
	uint8_t			*map;
	uint32_t		*cnt, i;
	uint64_t		*cur;

	st.parts++;
	if ((m->flags & SIG_FL_FULL) && m->from == 0 &&
	    (!e->full || e->sepoch != m->epoch || e->sbase != m->base ||
	    e->scur != 0)) {
		memset(lg_stage(e), 0, mapbytes);
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
		map = lg_stage(e);
		cnt = &e->stage_n;
		cur = &e->scur;
	} else {
		if (e->full || !e->synced || m->epoch != e->epoch)
			return;
		map = lg_known(e);
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
		if ((p = kidx_get(m->peers[i].pubkey)) == NULL ||
		    p->cl != e->cl)
			continue;	/* not one of ours */
		bit_set(map, cnt, (p - E) - cl->c_first, !m->peers[i].removed);
	}
	*cur = m->to;
	if (m->flags & SIG_FL_MORE) {
		if (m->flags & SIG_FL_LAST)
			lg_sync(e, clk);	/* next page at once */
		return;
	}
	if (e->full) {
		memcpy(lg_known(e), lg_stage(e), mapbytes);
		e->known_n = e->stage_n;
		e->epoch = e->sepoch;
		e->ver = e->scur;
		e->full = 0;
		e->synced = 1;
	}
	lg_page_done(e);
	lg_conv_check(e);
}

static void
hist_add(uint64_t us)
{
	uint64_t	 b = us / LG_HIST_US;

	if (b >= LG_HIST_N - 1 && verbose)
		warnx("latency %llu us", (unsigned long long)us);
	hist[hphase][b < LG_HIST_N ? b : LG_HIST_N - 1]++;
}

static void
lg_input(struct lg_edge *e, const uint8_t *d, size_t len,
    const struct sig_clock *clk)
{
	static struct sig_rx	 rx;
	unsigned		 i;

	st.recv++;
	st.bytes_in += len;
	if (e->state == LG_IDLE ||
	    proto_open_down(&rx, d, len, C[e->cl].c_ck.down) != SIG_OK) {
		st.bad++;
		return;
	}
	if (rx.m.type <= SIG_TYPE_MAX)
		st.types[rx.m.type]++;
	if (proto_check_time(&rx.m, clk) != SIG_OK) {
		st.stale++;
		return;
	}
	/* unsolicited: nothing to do for an edge without WireGuard */
	if (rx.m.type == SIG_PUNCH) {
		st.punch_bytes += len;
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
		if (!(e->answered & (1 << i)) && clk->wall_us > rx.m.re)
			hist_add(clk->wall_us - rx.m.re);
		e->answered |= 1 << i;
		memcpy(e->cookie, rx.m.cookie, 16);
		if (e->state == LG_REGISTERED) {
			/*
			 * It forgot us, or the cookie expired: register
			 * again, from where the sync stands.
			 */
			nreg--;
			pending++;
		}
		if (e->state <= LG_PROVING &&
		    keys_dh(e->priv, e->pub, nkey, e->proof) == -1)
			errx(1, "nucleus key of low order");
		e->state = LG_REGISTERING;
		e->backoff = 1;
		lg_send(e, SIG_REGISTER, clk);
		e->next_ms = clk->ms + 1000;
		lg_sched(e);
		return;
	}
	if (!proto_auth_ok(&rx, e->proof)) {
		st.bad++;
		return;
	}
	if (!(e->answered & (1 << i))) {
		if (clk->wall_us > rx.m.re)
			hist_add(clk->wall_us - rx.m.re);
		if (rx.m.type == SIG_HEARTBEAT_ACK)
			st.hb_answers++;
	}
	e->answered |= 1 << i;
	switch (rx.m.type) {
	case SIG_REGISTER_ACK:
		if (e->state != LG_REGISTERED) {
			e->state = LG_REGISTERED;
			nreg++;
			pending--;
			/*
			 * Measuring: heartbeats spread evenly over the
			 * interval.  Otherwise the first comes a whole
			 * interval later, as from a real edge.
			 */
			e->next_ms = clk->ms + (spread ? 1 +
			    randombytes_uniform(heartbeat_ms) : heartbeat_ms);
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
		if (e->state == LG_REGISTERED) {
			nreg--;
			pending++;
		}
		e->state = LG_HELLO;
		e->next_ms = clk->ms;
		break;
	}
	lg_sched(e);
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
		if (e->regsent)
			st.reg_retries++;
		e->regsent = 1;
		lg_send(e, SIG_REGISTER, clk);
		e->next_ms = clk->ms + (uint64_t)e->backoff * 1000;
		if (e->backoff < heartbeat_ms / 1000)
			e->backoff *= 2;
		break;
	case LG_REGISTERED:
		if (e->inflight && spread) {
			/*
			 * Measuring: a page is under way, its requests are
			 * heartbeats already, and one more would fetch it
			 * twice.  (regress/load.t keeps the old behaviour,
			 * which also restarts a page stalled in backoff.)
			 */
			e->next_ms = clk->ms + heartbeat_ms;
			break;
		}
		if (inflight >= maxinflight) {
			e->next_ms = clk->ms + 50;	/* pacing */
			break;
		}
		st.heartbeats++;
		lg_sync(e, clk);
		e->next_ms = clk->ms + heartbeat_ms;
		break;
	default:
		break;
	}
}

/* Run every slot of the wheel up to now. */
static void
wheel_run(const struct sig_clock *clk)
{
	struct lg_edge	*e;
	uint32_t	 s, i, nx;

	while (wnext <= clk->ms) {
		s = (wnext / LG_SLOT_MS) % LG_NSLOTS;
		wnext += LG_SLOT_MS;
		i = whead[s];
		whead[s] = LG_NIL;
		for (; i != LG_NIL; i = nx) {
			e = &E[i];
			nx = e->tnext;
			e->queued = 0;
			if (e->due <= clk->ms)
				lg_tick(e, clk);
			lg_sched(e);	/* a later round, or its new time */
		}
	}
}

static void
lg_start(struct lg_edge *e, const struct sig_clock *clk)
{
	e->state = LG_HELLO;
	e->backoff = 1;
	e->next_ms = clk->ms;
	pending++;
	lg_sched(e);
}

/*
 * QUERY_PEER at scale: count random lookups through random edges, of a
 * random edge of the same cluster, that come back with the right key,
 * and their mean round trip.
 */
static uint32_t
lg_queries(uint32_t count, double *mean_us)
{
	struct sig_clock	 clk;
	struct sig_msg		 m;
	struct lg_edge		*a, *b;
	struct lg_cluster	*cl;
	uint8_t			 buf[SIG_MAXDGRAM];
	uint64_t		 t0, total = 0;
	size_t			 len;
	uint32_t		 i, good = 0;

	for (i = 0; i < count; i++) {
		a = &E[randombytes_uniform(N)];
		cl = &C[a->cl];
		b = &E[cl->c_first + randombytes_uniform(cl->c_n)];
		clock_fill(&clk);
		proto_init_msg(&m, SIG_QUERY_PEER,
		    proto_next_time(&a->tlast, &clk));
		memcpy(m.pubkey, a->pub, 32);
		memcpy(m.cookie, a->cookie, 16);
		lg_vip(b - E, &m.vip, 32);
		if (proto_seal(&m, SIG_KIND_UP, cl->c_name, namekey,
		    cl->c_ck.up, a->proof, buf, sizeof(buf), &len) != SIG_OK)
			errx(1, "seal");
		a->reqs[a->nreq++ % LG_REQS] = m.time;
		qa.got = 0;
		t0 = clk.wall_us;
		lg_sendto(a, buf, len);
		lg_flush();
		while (!qa.got) {
			clock_fill(&clk);
			if (clk.wall_us > t0 + 1000000)
				break;
			lg_read();
			lg_flush();
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

/*
 * Answers, each batch with the time it was read: the latency histogram
 * takes it, and a clock from before the wheel ran would hide (or
 * count as zero) the answers that came back while it did.
 */
static void
lg_read(void)
{
	struct sig_clock	 now;
	static uint8_t		 bufs[LG_BATCH][2048];
	static uint8_t		 ctl[LG_BATCH][64];
	struct mmsghdr		 mm[LG_BATCH];
	struct iovec		 iov[LG_BATCH];
	struct cmsghdr		*c;
	struct in_pktinfo	*pi;
	struct lg_edge		*e;
	int			 n, i, rounds;

	for (rounds = 0; rounds < 256; rounds++) {
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
		clock_fill(&now);
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
			lg_input(e, bufs[i], mm[i].msg_len, &now);
		}
		if (n < LG_BATCH)
			return;
	}
}

/* --- measurement ----------------------------------------------------- */

/* A sample of the nucleus process and of ourselves. */
struct lg_sample {
	uint64_t	 ms;
	double		 cpu_s;		/* nucleus user + system */
	double		 self_s;	/* ours */
	long		 rss_kb, hwm_kb;
	char		 load[64];
	struct lg_stats	 st;
};

static void
sample(pid_t pid, struct lg_sample *s)
{
	char		 path[64], line[512], *p;
	unsigned long	 ut = 0, stt = 0;
	struct rusage	 ru;
	FILE		*f;
	int		 i;

	memset(s, 0, sizeof(*s));
	s->ms = now_ms();
	s->st = st;
	getrusage(RUSAGE_SELF, &ru);
	s->self_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fgets(s->load, sizeof(s->load), f) != NULL)
			s->load[strcspn(s->load, "\n")] = '\0';
		fclose(f);
	}
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) != NULL) {
		/* after the command's closing parenthesis: field 3 on */
		if (fgets(line, sizeof(line), f) != NULL &&
		    (p = strrchr(line, ')')) != NULL) {
			strtok(p + 1, " ");		/* 3: state */
			for (i = 4; i < 14; i++)
				strtok(NULL, " ");
			if ((p = strtok(NULL, " ")) != NULL)	/* 14 */
				ut = strtoul(p, NULL, 10);
			if ((p = strtok(NULL, " ")) != NULL)	/* 15 */
				stt = strtoul(p, NULL, 10);
		}
		fclose(f);
	}
	s->cpu_s = (double)(ut + stt) / sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "VmRSS:", 6) == 0)
				s->rss_kb = atol(line + 6);
			else if (strncmp(line, "VmHWM:", 6) == 0)
				s->hwm_kb = atol(line + 6);
		}
		fclose(f);
	}
}

static double
hist_pct(const uint32_t *h, double pct, uint64_t *total)
{
	uint64_t	 n = 0, want, acc = 0;
	size_t		 i;

	for (i = 0; i < LG_HIST_N; i++)
		n += h[i];
	*total = n;
	if (n == 0)
		return 0;
	want = (uint64_t)(n * pct / 100.0);
	if (want >= n)
		want = n - 1;
	for (i = 0; i < LG_HIST_N; i++) {
		acc += h[i];
		if (acc > want)
			break;
	}
	/* the upper edge of the bucket: never optimistic */
	return (i + 1) * LG_HIST_US / 1000.0;
}

static void
bench_phase(const char *name, const struct lg_sample *a,
    const struct lg_sample *b)
{
	double	 s = (b->ms - a->ms) / 1000.0;

	if (s <= 0)
		s = 1e-3;
	printf("bench %s_seconds %.1f\n", name, s);
	printf("bench %s_nucleus_cpu_pct %.1f\n", name,
	    100.0 * (b->cpu_s - a->cpu_s) / s);
	printf("bench %s_loadgen_cpu_pct %.1f\n", name,
	    100.0 * (b->self_s - a->self_s) / s);
	printf("bench %s_datagrams_out %llu\n", name,
	    (unsigned long long)(b->st.sent - a->st.sent));
	printf("bench %s_datagrams_in %llu\n", name,
	    (unsigned long long)(b->st.recv - a->st.recv));
	printf("bench %s_bytes_out %llu\n", name,
	    (unsigned long long)(b->st.bytes_out - a->st.bytes_out));
	printf("bench %s_bytes_in %llu\n", name,
	    (unsigned long long)(b->st.bytes_in - a->st.bytes_in));
	printf("bench %s_retransmissions %llu\n", name,
	    (unsigned long long)(b->st.rtos - a->st.rtos));
	printf("bench %s_loadavg %s\n", name, b->load);
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: loadgen -n edges -a nucleus:port -c cluster "
	    "-s secret [-C size] [-p port] [-H heartbeat] [-r joins/s] "
	    "[-w in-flight] [-W registering] [-T timeout] [-b first] "
	    "[-M window] [-E] [-P pid] [-v]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sig_clock	 clk;
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	struct omni_addr	 na;
	struct lg_sample	 s0, s1, s2, s3, s4;
	const char		*secret = NULL, *naddr = NULL;
	char			 cname[SIG_CLUSTERMAX + 1] = "";
	uint8_t			 root[32], sig[32];
	uint64_t		 t0, treg = 0, tconv = 0, tnew = 0, tnewc = 0;
	uint64_t		 timeout_ms = 300000, lastreport = 0;
	uint64_t		 lastcount = 0, tk, hn;
	uint32_t		 i, started = 0, rate = 2000, nplan;
	uint32_t		 window = 0, regwin = 4096, port = 40000;
	pid_t			 npid = 0;
	int			 ch, one = 1, sz = 256 << 20, phase = 0, rc = 0;

	while ((ch = getopt(argc, argv, "a:b:C:c:EH:M:n:P:p:r:s:T:vW:w:")) !=
	    -1) {
		switch (ch) {
		case 'E':
			early = 1;
			break;
		case 'a':
			naddr = optarg;
			break;
		case 'b':
			first_addr = atoi(optarg);
			break;
		case 'C':
			csize = atoi(optarg);
			break;
		case 'c':
			strlcpy(cname, optarg, sizeof(cname));
			break;
		case 'H':
			heartbeat_ms = atoi(optarg) * 1000;
			break;
		case 'M':
			window = atoi(optarg);
			break;
		case 'n':
			N = atoi(optarg);
			break;
		case 'P':
			npid = atoi(optarg);
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
		case 'W':
			regwin = atoi(optarg);
			break;
		case 'w':
			maxinflight = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (csize == 0 || csize > N)
		csize = N;
	if (N < 2 || N > LG_MAXEDGES || csize < 2 || naddr == NULL ||
	    secret == NULL || cname[0] == '\0' || heartbeat_ms == 0 ||
	    rate == 0 || regwin == 0 || first_addr < 1 ||
	    first_addr + (N - 1) / 62500 > 255)
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
	NC = (N + csize - 1) / csize;
	mapbytes = (csize + 7) / 8;
	for (kmask = 1; kmask < 2 * (size_t)N; kmask <<= 1)
		;
	if ((E = calloc(N, sizeof(*E))) == NULL ||
	    (C = calloc(NC, sizeof(*C))) == NULL ||
	    (maps = calloc(N, 2 * mapbytes)) == NULL ||
	    (kidx = calloc(kmask, sizeof(*kidx))) == NULL ||
	    (hist[0] = calloc(LG_HIST_N, sizeof(uint32_t))) == NULL ||
	    (hist[1] = calloc(LG_HIST_N, sizeof(uint32_t))) == NULL)
		err(1, "calloc");
	kmask--;
	for (i = 0; i < NC; i++) {
		if (NC == 1)
			strlcpy(C[i].c_name, cname, sizeof(C[i].c_name));
		else if ((size_t)snprintf(C[i].c_name, sizeof(C[i].c_name),
		    "%s-%u", cname, i) >= sizeof(C[i].c_name))
			errx(1, "cluster name too long");
		C[i].c_first = i * csize;
		C[i].c_n = i == NC - 1 ? N - i * csize : csize;
		C[i].c_want = C[i].c_n;
		keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, C[i].c_name, sig);
		proto_cluster_keys(sig, &C[i].c_ck);
	}
	for (i = 0; i < N; i++) {
		E[i].cl = i / csize;
		E[i].tnext = E[i].tprev = LG_NIL;
	}
	for (i = 0; i < LG_NSLOTS; i++)
		whead[i] = LG_NIL;
	/* with a window the last edge is the newcomer, held back */
	nplan = N;
	spread = window != 0;
	if (window) {
		nplan = N - 1;
		C[NC - 1].c_want--;
	}
	tk = now_ms();
	keygen();
	tk = now_ms() - tk;

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

	printf("# %u edges in %u cluster%s of %u (%s%s) against %s, joining "
	    "at %u/s at most, heartbeat %u s; keys made in %.1f s\n", N, NC,
	    NC == 1 ? "" : "s", csize, cname, NC == 1 ? "" : "-K", naddr,
	    rate, heartbeat_ms / 1000, tk / 1000.0);
	fflush(stdout);
	sample(npid, &s0);
	s1 = s2 = s3 = s4 = s0;
	t0 = now_ms();
	wnext = t0 - t0 % LG_SLOT_MS;
	pfd.fd = sock;
	pfd.events = POLLIN;
	for (;;) {
		clock_fill(&clk);
		/* joins at the given rate, a bounded number at a time */
		while (started < nplan && pending < regwin &&
		    (uint64_t)started * 1000 < (clk.ms - t0) * rate)
			lg_start(&E[started++], &clk);
		wheel_run(&clk);
		lg_flush();
		lg_read();
		lg_flush();	/* what the answers asked for */
		if (clk.ms - lastcount < 100)
			goto next;
		lastcount = clk.ms;
		if (nreg >= nplan && treg == 0) {
			treg = clk.ms;
			sample(npid, &s1);
		}
		if (verbose || clk.ms - lastreport >= 5000) {
			printf("# %5.1f s: %u started, %u registered, "
			    "%u converged, %llu parts, in flight %u\n",
			    (clk.ms - t0) / 1000.0, started, nreg, nconv,
			    (unsigned long long)st.parts, inflight);
			fflush(stdout);
			lastreport = clk.ms;
		}
		if (clk.ms - t0 > timeout_ms) {
			rc = 1;
			break;
		}
		if (!window) {
			if (nconv == N) {
				tconv = clk.ms;
				break;
			}
			goto next;
		}
		/* bench: converge, measure, then the newcomer */
		if (phase == 0 && nreg == nplan && (nconv == nplan || early)) {
			tconv = clk.ms;
			sample(npid, &s2);
			hphase = 1;
			phase = 1;
			printf("# %5.1f s: all registered, %u converged, "
			    "measuring for %u s\n", (clk.ms - t0) / 1000.0,
			    nconv, window);
		} else if (phase == 1 &&
		    clk.ms >= s2.ms + (uint64_t)window * 1000) {
			sample(npid, &s3);
			hphase = 0;
			phase = 2;
			C[NC - 1].c_want++;
			for (i = C[NC - 1].c_first; i < N - 1; i++)
				lg_conv_check(&E[i]);
			tnew = clk.ms;
			newcomer_ms = 0;
			lg_start(&E[N - 1], &clk);
			started++;
		} else if (phase == 2 && E[N - 1].conv) {
			tnewc = newcomer_ms;
			phase = 3;
		} else if (phase == 3 && (nconv == N ||
		    clk.ms > tnewc + 2 * (uint64_t)heartbeat_ms + 5000)) {
			sample(npid, &s4);
			break;
		}
 next:
		poll(&pfd, 1, 2);
	}

	clk.ms = now_ms();
	if (treg == 0)
		sample(npid, &s1);
	printf("edges %u\n", N);
	printf("registered %u in %.1f s: %.0f registrations/s\n", nreg,
	    ((treg ? treg : clk.ms) - t0) / 1000.0,
	    nreg / ((((treg ? treg : clk.ms) - t0) / 1000.0) + 1e-9));
	printf("converged %u of %u (each knows %u peers) in %.1f s\n", nconv,
	    N, csize - 1, ((tconv ? tconv : clk.ms) - t0) / 1000.0);
	printf("datagrams sent %llu (%llu bytes), received %llu (%llu bytes)"
	    "\n", (unsigned long long)st.sent,
	    (unsigned long long)st.bytes_out, (unsigned long long)st.recv,
	    (unsigned long long)st.bytes_in);
	printf("parts %llu, peer entries %llu, full syncs %llu, "
	    "challenges %llu, naks %llu, gaps %llu, retransmissions %llu, "
	    "register retries %llu, bad %llu, stale %llu\n",
	    (unsigned long long)st.parts,
	    (unsigned long long)st.entries, (unsigned long long)st.full,
	    (unsigned long long)st.challenges, (unsigned long long)st.naks,
	    (unsigned long long)st.gaps, (unsigned long long)st.rtos,
	    (unsigned long long)st.reg_retries,
	    (unsigned long long)st.bad, (unsigned long long)st.stale);
	printf("received by type:");
	for (i = 1; i <= SIG_TYPE_MAX; i++)
		printf(" %s %llu", proto_type_name(i),
		    (unsigned long long)st.types[i]);
	printf("\n");
	if (window) {
		uint64_t	 hb = s3.st.hb_answers - s2.st.hb_answers;
		double		 ws = (s3.ms - s2.ms) / 1000.0;

		printf("bench edges %u\n", N);
		printf("bench cluster_size %u\n", csize);
		printf("bench clusters %u\n", NC);
		printf("bench heartbeat_s %u\n", heartbeat_ms / 1000);
		printf("bench keygen_seconds %.1f\n", tk / 1000.0);
		printf("bench registered %u\n", nreg);
		printf("bench lost_registrations %u\n", N - nreg);
		printf("bench register_datagrams %llu\n",
		    (unsigned long long)st.registers);
		printf("bench register_retries %llu\n",
		    (unsigned long long)st.reg_retries);
		printf("bench naks %llu\n", (unsigned long long)st.naks);
		printf("bench registrations_per_s %.0f\n", nplan /
		    ((s1.ms - s0.ms) / 1000.0 + 1e-9));
		printf("bench join_p50_ms %.2f\n", hist_pct(hist[0], 50, &hn));
		printf("bench join_p99_ms %.2f\n", hist_pct(hist[0], 99, &hn));
		printf("bench join_answers %llu\n", (unsigned long long)hn);
		bench_phase("join", &s0, &s1);
		if (phase >= 2) {
			printf("bench converge_seconds %.1f\n",
			    (s2.ms - s0.ms) / 1000.0);
			bench_phase("window", &s2, &s3);
			printf("bench heartbeats_per_s %.0f\n", hb / ws);
			printf("bench heartbeats_expected_per_s %.0f\n",
			    nplan / (heartbeat_ms / 1000.0));
			printf("bench heartbeats_sent %llu\n",
			    (unsigned long long)(s3.st.heartbeats -
			    s2.st.heartbeats));
			printf("bench heartbeats_answered %llu\n",
			    (unsigned long long)hb);
			printf("bench p50_ms %.2f\n",
			    hist_pct(hist[1], 50, &hn));
			printf("bench p99_ms %.2f\n",
			    hist_pct(hist[1], 99, &hn));
			printf("bench p999_ms %.2f\n",
			    hist_pct(hist[1], 99.9, &hn));
			/* PUNCH is left over from the joins: apart */
			printf("bench bytes_per_edge_min %.0f\n",
			    (double)(s3.st.bytes_in - s2.st.bytes_in +
			    s3.st.bytes_out - s2.st.bytes_out -
			    (s3.st.punch_bytes - s2.st.punch_bytes)) / nplan /
			    (ws / 60.0));
			printf("bench datagrams_per_edge_min %.2f\n",
			    (double)(s3.st.recv - s2.st.recv +
			    s3.st.sent - s2.st.sent -
			    (s3.st.types[SIG_PUNCH] -
			    s2.st.types[SIG_PUNCH])) / nplan / (ws / 60.0));
			printf("bench window_punches_per_s %.0f\n",
			    (s3.st.types[SIG_PUNCH] -
			    s2.st.types[SIG_PUNCH]) / ws);
		} else {
			/* no window (timeout): what the nucleus holds now */
			sample(npid, &s3);
			printf("bench window_loadavg %s\n", s3.load);
		}
		printf("bench nucleus_rss_kb %ld\n", s3.rss_kb);
		printf("bench nucleus_hwm_kb %ld\n", s3.hwm_kb);
		if (nreg > 0)
			printf("bench nucleus_rss_per_edge_bytes %.0f\n",
			    s3.rss_kb * 1024.0 / nreg);
		if (phase >= 3) {
			printf("bench newcomer_peers %u\n", E[N - 1].known_n);
			printf("bench newcomer_ms %llu\n",
			    (unsigned long long)(tnewc - tnew));
		} else if (phase == 2)
			printf("bench newcomer_ms timeout (knows %u)\n",
			    E[N - 1].known_n);
		fflush(stdout);
	}
	if (nconv == N) {
		double	 us;
		uint32_t good = lg_queries(1000, &us);

		printf("query_peer: %u of 1000 random lookups answered with the "
		    "right key, %.0f us round trip on average\n", good, us);
		if (good != 1000)
			rc = 1;
	} else {
		for (i = 0; i < N && i < 5; i++)
			if (!E[i].conv)
				printf("# edge %u: state %d knows %u\n", i,
				    E[i].state, E[i].known_n);
		for (i = 0; i < N; i++)
			if (!E[i].conv)
				break;
		if (i < N)
			printf("# first edge not converged %u: state %d knows "
			    "%u of %u\n", i, E[i].state, E[i].known_n,
			    C[E[i].cl].c_want - 1);
		rc = 1;
	}
	return rc;
}
