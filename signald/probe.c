/*
 * issue 7: the probe engine -- NAT traversal candidates and probing
 * for the edge role.  The packet format is in PROBE.md.
 *
 * Sockets.  The parent gives us per interface and address family a
 * raw UDP socket whose locked filter passes only probes and STUN to
 * the WireGuard port.  We write the UDP header ourselves with the
 * WireGuard port as source port, so every probe and STUN request
 * leaves through the NAT mapping WireGuard's own packets use.  IPv4
 * probes carry checksum 0 (RFC 768: none), IPv6 ones get theirs from
 * the kernel (IPV6_CHECKSUM, set by the parent).  probe_input takes
 * an IP datagram: IPv4 as the raw socket reads it, IPv6 with a 40-byte
 * header signald.c puts in front from recvfrom's source address
 * (IPv6 raw sockets start at the UDP header).
 *
 * Candidates (per interface).  Host candidates are the parent's
 * underlay addresses (IMSG_LOCAL_ADDRS) with the WireGuard port.
 * Reflexive ones come from STUN Binding requests sent through the
 * probe socket to every nucleus (which answers STUN on its signaling
 * port) and to the configured STUN servers.  From the answers we learn
 * the NAT's behaviour: no NAT (a mapping equals a host address), port
 * preserved or not, and mapping per destination ("symmetric": two
 * servers saw two mappings).  Every distinct mapping is announced (at
 * most PROBE_MAX_REFL), so a peer learns our NAT maps per destination
 * from two reflexive candidates with one address and two ports.
 * STUN is repeated every PROBE_RESTUN_MS to notice an expired or
 * changed mapping, and at once when the address generation changes
 * (a roam); a changed candidate list goes to io->cands_changed.
 *
 * Probing (per peer).  When the nucleus says "punch" (both sides are
 * told at once), when a peer's candidates change, or when a probe of
 * the peer arrives, the peer is queued; at most PROBE_MAX_ACTIVE peers
 * are probed at a time, the rest wait in FIFO order, so a 10k-peer
 * cluster cannot make us flood.  A running peer gets a request to
 * every remote candidate in parallel, resent on probe_schedule (100
 * ms apart at first, then backing off) for PROBE_RUN_MS.  The kernel
 * routes, so a "pair" is (the source the kernel picks, a remote
 * candidate); the answer tells us which of our addresses the peer saw.
 * The first answer decides at once (endpoint_changed, path); better
 * candidates (cand_rank: host, reflexive, peer-reflexive, and IPv6
 * before IPv4) still unanswered keep being probed for PROBE_GRACE_MS,
 * and one that answers then wins (LAN beats NAT).  A later run keeps
 * its endpoint unless that stays silent while one of a lower kind
 * answers.  A request from the peer at a source we did not know makes
 * it a peer-reflexive candidate, answered and probed.  When nothing answers the peer is
 * PROBE_FAILED with a reason built from what we know of both NATs, and
 * retried after 5 s, 10 s, ... 60 s, or at once on a roam or new
 * candidates.  WireGuard's handshake is what confirms the path
 * (wgctld shows it); the probe only chooses the endpoint.
 *
 * Authentication.  Every probe carries a BLAKE2b-128 MAC under a key
 * derived from the cluster's signaling key, the sender's and the
 * receiver's WireGuard keys, a transaction id and a time stamp.
 * Answers must echo an outstanding transaction id, which is then
 * consumed; requests must be fresh (PROBE_WINDOW_US) and not seen
 * before (a small per-peer set over a floor that only rises).  So a
 * stranger without the key cannot move an endpoint, and a replay is
 * dropped and counted.
 *
 * Bounds: peers (PROBE_MAX_PEERS), concurrently probed peers, remote
 * candidates per peer, token buckets on requests sent, answers sent
 * and datagrams verified; every drop is counted by reason.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "probe.h"
#include "stun.h"

#define PROBE_MAX_PEERS		65536
#define PROBE_MAX_ACTIVE	64	/* peers probed at once */
#define PROBE_MAX_PRFLX		4	/* peer-reflexive per peer */
#define PROBE_MAX_REMOTE	(PROBE_MAX_CANDS + PROBE_MAX_PRFLX)
#define PROBE_MAX_REFL		2	/* reflexive candidates announced */
#define PROBE_MAX_SERVERS	(OMNI_MAX_NUCLEI + OMNI_MAX_STUN)
#define PROBE_TXIDS		8	/* outstanding requests per pair */
#define PROBE_RUN_MS		3000
#define PROBE_GRACE_MS		1000	/* a host candidate may still win */
#define PROBE_RETRY_MIN_MS	5000
#define PROBE_RETRY_MAX_MS	60000
#define PROBE_RESTUN_MS		25000
#define PROBE_STUN_GIVEUP_MS	3000
#define PROBE_WINDOW_US		(60ULL * 1000000)	/* either side */
#define PROBE_REPLAY		16	/* request time stamps per peer */
#define PROBE_NOTIFY_MS		200	/* endpoint_changed, per interface */
#define PROBE_SWEEP_MS		1000	/* retries of failed peers */
#define PROBE_HASH		4096
#define PROBE_UDPHDR		8

/* Token buckets: per second and burst. */
#define PROBE_SEND_RATE		2000
#define PROBE_SEND_BURST	400
#define PROBE_ANSWER_RATE	1000
#define PROBE_ANSWER_BURST	200
#define PROBE_INPUT_RATE	5000
#define PROBE_INPUT_BURST	1000

/* ms after the start of a run at which every pair is (re)sent */
static const uint16_t probe_schedule[] = {
	0, 100, 200, 300, 500, 800, 1200, 1700, 2300
};
#define PROBE_NSCHED	(sizeof(probe_schedule) / sizeof(probe_schedule[0]))

static const uint16_t stun_schedule[] = { 0, 250, 750, 1500 };
#define STUN_NSCHED	(sizeof(stun_schedule) / sizeof(stun_schedule[0]))

/* NAT behaviour of an interface, from STUN answers. */
#define NAT_KNOWN	0x01	/* at least one server answered */
#define NAT_NONE	0x02	/* a mapping is one of our addresses */
#define NAT_PORT_KEPT	0x04	/* a mapping kept the WireGuard port */
#define NAT_PER_DEST	0x08	/* two servers saw two mappings */

enum probe_kindstat { PK_REQUEST = 0, PK_ANSWER, PK_STUN, PK_MAX };
static const char *const probe_kind_names[PK_MAX] = {
	"request", "answer", "stun"
};

static const char *const probe_drop_names[PROBE_D_MAX] = {
	"malformed", "not_probe", "no_iface", "rate_limited", "version",
	"bad_mac", "not_for_us", "own", "stale", "replay", "unknown_peer",
	"unexpected", "stun_unexpected", "send_failed", "peers_full"
};

static const char *const probe_state_names[] = {
	"idle", "running", "ok", "failed"
};

struct bucket {
	double		 tokens;
	uint64_t	 last_ms;
};

struct pserver {
	struct omni_addr	 sv_addr;
	uint8_t			 sv_txid[STUN_TXIDLEN];
	int			 sv_pending;	/* a transaction runs */
	uint8_t			 sv_tries;
	uint64_t		 sv_start_ms;
	int			 sv_mapped_ok;
	struct omni_addr	 sv_mapped;
};

struct piface {
	int			 pi_used;
	uint32_t		 pi_ifid;
	int			 pi_keyed;	/* probe_iface seen */
	uint8_t			 pi_key[OMNI_KEYLEN];	/* probe key */
	uint8_t			 pi_pub[OMNI_KEYLEN];
	uint16_t		 pi_wg_port;
	int			 pi_fd[2];	/* IPv4, IPv6; -1 none */
	int			 pi_has_gen;
	uint32_t		 pi_gen;
	size_t			 pi_nlocal;
	struct omni_addr	 pi_local[OMNI_MAX_LOCAL];
	size_t			 pi_nsrv;
	struct pserver		 pi_srv[PROBE_MAX_SERVERS];
	uint64_t		 pi_stun_next_ms;
	size_t			 pi_ncands;
	struct probe_cand	 pi_cands[PROBE_MAX_CANDS];
	int			 pi_nat;
	uint64_t		 pi_last_ts;
	int			 pi_dirty;	/* endpoint_changed owed */
	uint64_t		 pi_notified_ms;
};

struct ppeer;

struct ppair {
	uint8_t			 pa_nsent;
	uint8_t			 pa_txnext;
	uint8_t			 pa_answered;
	uint64_t		 pa_next_ms;	/* 0: nothing more to send */
	uint64_t		 pa_txid[PROBE_TXIDS];
	uint64_t		 pa_sent_ms[PROBE_TXIDS];
};

struct pslot {
	struct ppeer		*ps_peer;	/* NULL: free */
	uint64_t		 ps_start_ms;
	uint64_t		 ps_first_ms;	/* first answer, 0 none */
	int			 ps_rerun;	/* an endpoint was chosen before */
	int			 ps_best;	/* best pair answered, -1 none */
	int64_t			 ps_best_us;
	struct omni_addr	 ps_best_seen;
	struct ppair		 ps_pairs[PROBE_MAX_REMOTE];
};

struct ppeer {
	LIST_ENTRY(ppeer)	 pe_hash;
	TAILQ_ENTRY(ppeer)	 pe_queue;
	struct piface		*pe_if;
	uint8_t			 pe_key[OMNI_KEYLEN];
	size_t			 pe_ncands;
	struct probe_cand	 pe_cands[PROBE_MAX_REMOTE];
	size_t			 pe_nannounced;	/* the rest peer-reflexive */
	int			 pe_state;	/* enum omni_probe */
	int			 pe_queued;
	struct pslot		*pe_slot;
	int			 pe_has_ep;
	struct omni_addr	 pe_ep;
	struct omni_addr	 pe_local;
	uint8_t			 pe_ep_kind;
	int64_t			 pe_probe_us;
	uint64_t		 pe_retry_ms;	/* FAILED: next run */
	uint32_t		 pe_backoff_ms;
	uint64_t		 pe_rp_floor;
	uint64_t		 pe_rp_seen[PROBE_REPLAY];
	char			 pe_reason[128];
};

static const struct probe_io	*pio;
static struct piface		 ifaces[OMNI_MAX_IFACES];
static LIST_HEAD(, ppeer)	 peer_hash[PROBE_HASH];
static TAILQ_HEAD(, ppeer)	 peer_queue = TAILQ_HEAD_INITIALIZER(peer_queue);
static struct pslot		 slots[PROBE_MAX_ACTIVE];
static size_t			 npeers, nfailed;
static uint64_t			 last_sweep_ms;
static struct bucket		 bk_send, bk_answer, bk_input;

static struct {
	uint64_t	 sent[PK_MAX];
	uint64_t	 received[PK_MAX];
	uint64_t	 dropped[PROBE_D_MAX];
} pstats;

static void	 peer_set_state(struct ppeer *, int, const struct sig_clock *);
static void	 peer_enqueue(struct ppeer *, int);
static void	 iface_cands_update(struct piface *);
static void	 iface_kick(struct piface *, int, uint64_t);
static void	 queue_run(const struct sig_clock *);
static void	 peer_commit(struct ppeer *, const struct sig_clock *);

const char *
probe_drop_name(int d)
{
	if (d < 0 || d >= PROBE_D_MAX)
		return "unknown";
	return probe_drop_names[d];
}

/* --- small helpers ---------------------------------------------------- */

static void
put64(uint8_t *p, uint64_t v)
{
	int	 i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int
bucket_take(struct bucket *b, double rate, double burst, uint64_t now)
{
	if (b->last_ms == 0 || now < b->last_ms) {
		b->tokens = burst;
		b->last_ms = now;
	} else if (now > b->last_ms) {
		b->tokens += (now - b->last_ms) * rate / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ms = now;
	}
	if (b->tokens < 1.0)
		return -1;
	b->tokens -= 1.0;
	return 0;
}

/* IPv4-mapped IPv6 addresses count as IPv4; ports compare too. */
static int
addr_ip(const struct omni_addr *a, uint8_t *ip)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };

	memset(ip, 0, 16);
	if (a->sa.sa_family == AF_INET) {
		memcpy(ip, &a->sin.sin_addr, 4);
		return AF_INET;
	}
	if (a->sa.sa_family == AF_INET6) {
		if (memcmp(&a->sin6.sin6_addr, mapped, 12) == 0) {
			memcpy(ip, (const uint8_t *)&a->sin6.sin6_addr + 12,
			    4);
			return AF_INET;
		}
		memcpy(ip, &a->sin6.sin6_addr, 16);
		return AF_INET6;
	}
	return -1;
}

static int
addr_same_ip(const struct omni_addr *a, const struct omni_addr *b)
{
	uint8_t	 ia[16], ib[16];
	int	 fa, fb;

	fa = addr_ip(a, ia);
	fb = addr_ip(b, ib);
	return fa != -1 && fa == fb && memcmp(ia, ib, 16) == 0;
}

static int
addr_eq(const struct omni_addr *a, const struct omni_addr *b)
{
	return addr_same_ip(a, b) && omni_addr_port(a) == omni_addr_port(b);
}

/* A plain address of family af (v4-mapped made IPv4) and port. */
static void
addr_make(struct omni_addr *out, const struct omni_addr *in, uint16_t port)
{
	uint8_t	 ip[16];
	int	 af;

	af = addr_ip(in, ip);
	memset(out, 0, sizeof(*out));
	if (af == AF_INET) {
		out->sin.sin_family = AF_INET;
		memcpy(&out->sin.sin_addr, ip, 4);
		out->sin.sin_port = htons(port);
	} else if (af == AF_INET6) {
		out->sin6.sin6_family = AF_INET6;
		memcpy(&out->sin6.sin6_addr, ip, 16);
		out->sin6.sin6_port = htons(port);
		out->sin6.sin6_scope_id = in->sin6.sin6_scope_id;
	}
}

/* Worth probing: a unicast address and a port. */
static int
addr_probeable(const struct omni_addr *a)
{
	uint8_t	 ip[16];
	int	 af;

	if (omni_addr_port(a) == 0)
		return 0;
	switch ((af = addr_ip(a, ip))) {
	case AF_INET:
		return ip[0] != 0 && ip[0] != 127 && ip[0] < 224;
	case AF_INET6:
		/* not ::, ::1, multicast; link-local needs a scope */
		if (ip[0] == 0xff)
			return 0;
		if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
			return a->sin6.sin6_scope_id != 0;
		ip[15] &= 0xfe;
		return !(memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
		    16) == 0);
	default:
		return 0;
	}
}

static int
af_index(int af)
{
	return af == AF_INET6 ? 1 : 0;
}

static int
cand_prio(uint8_t kind)
{
	switch (kind) {
	case CAND_HOST:
		return 3;
	case CAND_REFLEXIVE:
		return 2;
	case CAND_PEER_REFLEXIVE:
		return 1;
	default:
		return 0;
	}
}

/*
 * The order candidates are preferred in: by kind (a LAN path beats
 * the NAT), then IPv6 before IPv4 as ICE does (RFC 8445 5.1.2.2): no
 * NAT on the way, and what a dual-stack pair signals over.
 */
static int
cand_rank(uint8_t kind, const struct omni_addr *a)
{
	uint8_t	 ip[16];

	return cand_prio(kind) * 2 + (addr_ip(a, ip) == AF_INET6 ? 1 : 0);
}

static int
pair_rank(const struct ppeer *pe, int i)
{
	return cand_rank(pe->pe_cands[i].pc_kind, &pe->pe_cands[i].pc_addr);
}

/* --- codec -------------------------------------------------------- */

void
probe_key_derive(const uint8_t *sigkey, uint8_t key[OMNI_KEYLEN])
{
	/* a subkey of its own: a probe can never pass for signaling */
	crypto_kdf_derive_from_key(key, OMNI_KEYLEN, 1, "omniprob", sigkey);
}

static void
probe_mac(const uint8_t *buf, const uint8_t *key, uint8_t *mac)
{
	crypto_generichash(mac, PROBE_MACLEN, buf,
	    PROBE_PKTLEN - PROBE_MACLEN, key, OMNI_KEYLEN);
}

int
probe_pkt_encode(const struct probe_pkt *p, const uint8_t *key, uint8_t *buf,
    size_t len)
{
	uint8_t	 ip[16];
	int	 af;

	if (len < PROBE_PKTLEN ||
	    (p->pp_type != PROBE_REQUEST && p->pp_type != PROBE_ANSWER))
		return -1;
	memset(buf, 0, PROBE_PKTLEN);
	memcpy(buf, OMNI_PROBE_MAGIC, 4);
	buf[4] = PROBE_VERSION;
	buf[5] = p->pp_type;
	memcpy(buf + 8, p->pp_from, OMNI_KEYLEN);
	memcpy(buf + 40, p->pp_to, OMNI_KEYLEN);
	put64(buf + 72, p->pp_txid);
	put64(buf + 80, p->pp_ts);
	if (p->pp_type == PROBE_ANSWER &&
	    (af = addr_ip(&p->pp_seen, ip)) != -1) {
		buf[88] = af == AF_INET ? 4 : 6;
		buf[90] = omni_addr_port(&p->pp_seen) >> 8;
		buf[91] = omni_addr_port(&p->pp_seen) & 0xff;
		memcpy(buf + 92, ip, af == AF_INET ? 4 : 16);
	}
	probe_mac(buf, key, buf + PROBE_PKTLEN - PROBE_MACLEN);
	return PROBE_PKTLEN;
}

int
probe_pkt_decode(const uint8_t *buf, size_t len, const uint8_t *key,
    struct probe_pkt *p)
{
	uint8_t		 mac[PROBE_MACLEN];
	uint16_t	 port;

	if (len < 6 || memcmp(buf, OMNI_PROBE_MAGIC, 4) != 0)
		return PROBE_D_NOT_PROBE;
	if (buf[4] != PROBE_VERSION)
		return PROBE_D_VERSION;
	if (len != PROBE_PKTLEN ||
	    (buf[5] != PROBE_REQUEST && buf[5] != PROBE_ANSWER) ||
	    buf[6] != 0 || buf[7] != 0)
		return PROBE_D_MALFORMED;
	probe_mac(buf, key, mac);
	if (sodium_memcmp(mac, buf + PROBE_PKTLEN - PROBE_MACLEN,
	    PROBE_MACLEN) != 0)
		return PROBE_D_BAD_MAC;
	memset(p, 0, sizeof(*p));
	p->pp_type = buf[5];
	memcpy(p->pp_from, buf + 8, OMNI_KEYLEN);
	memcpy(p->pp_to, buf + 40, OMNI_KEYLEN);
	p->pp_txid = get64(buf + 72);
	p->pp_ts = get64(buf + 80);
	port = (uint16_t)(buf[90] << 8 | buf[91]);
	if (buf[88] == 4) {
		p->pp_seen.sin.sin_family = AF_INET;
		memcpy(&p->pp_seen.sin.sin_addr, buf + 92, 4);
		p->pp_seen.sin.sin_port = htons(port);
	} else if (buf[88] == 6) {
		p->pp_seen.sin6.sin6_family = AF_INET6;
		memcpy(&p->pp_seen.sin6.sin6_addr, buf + 92, 16);
		p->pp_seen.sin6.sin6_port = htons(port);
	} else if (buf[88] != 0)
		return PROBE_D_MALFORMED;
	return 0;
}

/*
 * IPv4 from its header (no options needed, fragments refused), IPv6
 * from a 40-byte header without extension headers, then UDP.
 */
int
probe_ip_parse(const uint8_t *d, size_t len, struct omni_addr *src,
    uint16_t *dport, const uint8_t **payload, size_t *plen)
{
	size_t		 hl, tot, ulen;

	memset(src, 0, sizeof(*src));
	if (len < 1)
		return -1;
	if ((d[0] >> 4) == 4) {
		hl = (size_t)(d[0] & 0x0f) * 4;
		if (hl < 20 || len < hl + PROBE_UDPHDR)
			return -1;
		tot = (size_t)(d[2] << 8 | d[3]);
		if (tot < hl + PROBE_UDPHDR || tot > len || d[9] != IPPROTO_UDP ||
		    ((d[6] & 0x3f) | d[7]) != 0)	/* MF, offset */
			return -1;
		src->sin.sin_family = AF_INET;
		memcpy(&src->sin.sin_addr, d + 12, 4);
	} else if ((d[0] >> 4) == 6) {
		hl = 40;
		if (len < hl + PROBE_UDPHDR || d[6] != IPPROTO_UDP)
			return -1;
		tot = hl + (size_t)(d[4] << 8 | d[5]);
		if (tot > len)
			return -1;
		src->sin6.sin6_family = AF_INET6;
		memcpy(&src->sin6.sin6_addr, d + 8, 16);
	} else
		return -1;
	d += hl;
	ulen = (size_t)(d[4] << 8 | d[5]);
	if (ulen < PROBE_UDPHDR || ulen > tot - hl)
		return -1;
	if (src->sa.sa_family == AF_INET)
		src->sin.sin_port = htons((uint16_t)(d[0] << 8 | d[1]));
	else
		src->sin6.sin6_port = htons((uint16_t)(d[0] << 8 | d[1]));
	*dport = (uint16_t)(d[2] << 8 | d[3]);
	*payload = d + PROBE_UDPHDR;
	*plen = ulen - PROBE_UDPHDR;
	return 0;
}

/* --- interfaces ------------------------------------------------------- */

static struct piface *
iface_find(uint32_t ifid)
{
	size_t	 i;

	for (i = 0; i < OMNI_MAX_IFACES; i++)
		if (ifaces[i].pi_used && ifaces[i].pi_ifid == ifid)
			return &ifaces[i];
	return NULL;
}

static struct piface *
iface_get(uint32_t ifid)
{
	struct piface	*pi;
	size_t		 i;

	if ((pi = iface_find(ifid)) != NULL)
		return pi;
	for (i = 0; i < OMNI_MAX_IFACES; i++)
		if (!ifaces[i].pi_used) {
			pi = &ifaces[i];
			memset(pi, 0, sizeof(*pi));
			pi->pi_used = 1;
			pi->pi_ifid = ifid;
			pi->pi_fd[0] = pi->pi_fd[1] = -1;
			return pi;
		}
	log_warnx("probe: too many interfaces, %u ignored", ifid);
	return NULL;
}

/* Probing needs the keys, a socket and the WireGuard port. */
static int
iface_ready(const struct piface *pi)
{
	return pi != NULL && pi->pi_keyed && pi->pi_wg_port != 0 &&
	    (pi->pi_fd[0] != -1 || pi->pi_fd[1] != -1);
}

static int
iface_has_af(const struct piface *pi, int af)
{
	if (af != AF_INET && af != AF_INET6)
		return 0;
	return pi->pi_fd[af_index(af)] != -1;
}

/* One UDP datagram from the WireGuard port. */
static int
iface_send(struct piface *pi, const struct omni_addr *to, const uint8_t *pl,
    size_t plen)
{
	uint8_t			 pkt[PROBE_UDPHDR + PROBE_PKTLEN];
	struct omni_addr	 dst;
	uint16_t		 port = omni_addr_port(to);
	int			 fd, r;

	if (plen > sizeof(pkt) - PROBE_UDPHDR)
		return -1;
	pkt[0] = pi->pi_wg_port >> 8;
	pkt[1] = pi->pi_wg_port & 0xff;
	pkt[2] = port >> 8;
	pkt[3] = port & 0xff;
	pkt[4] = (PROBE_UDPHDR + plen) >> 8;
	pkt[5] = (PROBE_UDPHDR + plen) & 0xff;
	/* IPv4: 0 is "no checksum"; IPv6: the kernel writes it */
	pkt[6] = pkt[7] = 0;
	memcpy(pkt + PROBE_UDPHDR, pl, plen);
	if (pio != NULL && pio->send != NULL)
		r = pio->send(pi->pi_ifid, to, pkt, PROBE_UDPHDR + plen);
	else {
		/* raw sockets take no port (IPv6 insists on 0 or UDP) */
		addr_make(&dst, to, 0);
		if (!iface_has_af(pi, dst.sa.sa_family))
			r = -1;
		else {
			fd = pi->pi_fd[af_index(dst.sa.sa_family)];
			r = sendto(fd, pkt, PROBE_UDPHDR + plen, 0, &dst.sa,
			    omni_addr_len(&dst)) == -1 ? -1 : 0;
			if (r == -1)
				log_debug("probe sendto: %s", strerror(errno));
		}
	}
	if (r == -1)
		pstats.dropped[PROBE_D_SEND_FAILED]++;
	return r;
}

/* --- STUN through the probe socket ------------------------------------ */

static void
stun_start(struct piface *pi, uint64_t now)
{
	size_t	 i;

	for (i = 0; i < pi->pi_nsrv; i++) {
		if (!iface_has_af(pi, pi->pi_srv[i].sv_addr.sa.sa_family))
			continue;
		randombytes_buf(pi->pi_srv[i].sv_txid, STUN_TXIDLEN);
		pi->pi_srv[i].sv_pending = 1;
		pi->pi_srv[i].sv_tries = 0;
		pi->pi_srv[i].sv_start_ms = now;
	}
	pi->pi_stun_next_ms = now + PROBE_RESTUN_MS;
}

static uint64_t
stun_due(const struct pserver *sv)
{
	if (!sv->sv_pending)
		return 0;
	if (sv->sv_tries < STUN_NSCHED)
		return sv->sv_start_ms + stun_schedule[sv->sv_tries];
	return sv->sv_start_ms + PROBE_STUN_GIVEUP_MS;
}

static void
stun_tick(struct piface *pi, uint64_t now)
{
	struct pserver	*sv;
	uint8_t		 req[STUN_REQLEN];
	size_t		 i;
	int		 n, lost = 0;

	if (!iface_ready(pi))
		return;
	if (now >= pi->pi_stun_next_ms)
		stun_start(pi, now);
	for (i = 0; i < pi->pi_nsrv; i++) {
		sv = &pi->pi_srv[i];
		if (!sv->sv_pending || now < stun_due(sv))
			continue;
		if (sv->sv_tries >= STUN_NSCHED) {
			/* no answer: the mapping it gave is no proof now */
			sv->sv_pending = 0;
			if (sv->sv_mapped_ok)
				lost = 1;
			sv->sv_mapped_ok = 0;
			continue;
		}
		sv->sv_tries++;
		if ((n = stun_build_request(sv->sv_txid, req, sizeof(req))) ==
		    -1)
			continue;
		if (iface_send(pi, &sv->sv_addr, req, n) == 0)
			pstats.sent[PK_STUN]++;
	}
	if (lost)
		iface_cands_update(pi);
}

static void
nat_update(struct piface *pi)
{
	const struct pserver	*a, *b;
	size_t			 i, j, k;
	int			 nat = 0;

	for (i = 0; i < pi->pi_nsrv; i++) {
		a = &pi->pi_srv[i];
		if (!a->sv_mapped_ok)
			continue;
		nat |= NAT_KNOWN;
		if (omni_addr_port(&a->sv_mapped) == pi->pi_wg_port)
			nat |= NAT_PORT_KEPT;
		for (k = 0; k < pi->pi_nlocal; k++)
			if (addr_same_ip(&a->sv_mapped, &pi->pi_local[k]))
				nat |= NAT_NONE;
		for (j = i + 1; j < pi->pi_nsrv; j++) {
			b = &pi->pi_srv[j];
			if (b->sv_mapped_ok &&
			    a->sv_mapped.sa.sa_family ==
			    b->sv_mapped.sa.sa_family &&
			    !addr_same_ip(&a->sv_addr, &b->sv_addr) &&
			    !addr_eq(&a->sv_mapped, &b->sv_mapped))
				nat |= NAT_PER_DEST;
		}
	}
	if (nat != pi->pi_nat && (nat & NAT_KNOWN))
		log_debug("probe: interface %u NAT: %s%s%s", pi->pi_ifid,
		    (nat & NAT_NONE) ? "none" : (nat & NAT_PER_DEST) ?
		    "maps per destination" : "endpoint-independent mapping",
		    (nat & NAT_PORT_KEPT) ? ", port kept" : "",
		    (nat & NAT_NONE) ? "" : ", behind NAT");
	pi->pi_nat = nat;
}

static void
stun_input(struct piface *pi, const uint8_t *d, size_t len,
    const struct omni_addr *from, const struct sig_clock *clk)
{
	struct pserver		*sv;
	struct omni_addr	 mapped, was;
	size_t			 i;
	int			 was_ok;

	for (i = 0; i < pi->pi_nsrv; i++) {
		sv = &pi->pi_srv[i];
		if (!sv->sv_pending || !addr_eq(&sv->sv_addr, from))
			continue;
		if (stun_parse_response(d, len, sv->sv_txid, &mapped) != 0)
			continue;
		sv->sv_pending = 0;
		was = sv->sv_mapped;
		was_ok = sv->sv_mapped_ok;
		addr_make(&sv->sv_mapped, &mapped, omni_addr_port(&mapped));
		sv->sv_mapped_ok = 1;
		pstats.received[PK_STUN]++;
		if (was_ok && !addr_eq(&was, &sv->sv_mapped)) {
			char	 a[OMNI_ADDRSTRLEN], b[OMNI_ADDRSTRLEN];

			log_info("probe: interface %u mapping changed "
			    "%s -> %s", pi->pi_ifid,
			    omni_addr_str(&was, a, sizeof(a)),
			    omni_addr_str(&sv->sv_mapped, b, sizeof(b)));
			/* the NAT forgot us: paths through it are void */
			iface_kick(pi, 1, clk->ms);
		}
		iface_cands_update(pi);
		queue_run(clk);
		return;
	}
	pstats.dropped[PROBE_D_STUN]++;
}

/* --- our candidates ----------------------------------------------------- */

static int
cands_has(const struct probe_cand *c, size_t n, const struct omni_addr *a)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (addr_eq(&c[i].pc_addr, a))
			return 1;
	return 0;
}

static int
cands_equal(const struct probe_cand *a, const struct probe_cand *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (a[i].pc_kind != b[i].pc_kind ||
		    !addr_eq(&a[i].pc_addr, &b[i].pc_addr))
			return 0;
	return 1;
}

static size_t
cands_build(const struct piface *pi, struct probe_cand *out)
{
	struct probe_cand	 refl[PROBE_MAX_REFL];
	size_t			 i, n = 0, nrefl = 0, room;
	struct omni_addr	 a;

	if (!iface_ready(pi))
		return 0;
	/* reflexive first into a side list: each distinct mapping */
	for (i = 0; i < pi->pi_nsrv && nrefl < PROBE_MAX_REFL; i++) {
		if (!pi->pi_srv[i].sv_mapped_ok)
			continue;
		a = pi->pi_srv[i].sv_mapped;
		if (!addr_probeable(&a) || cands_has(refl, nrefl, &a))
			continue;
		refl[nrefl].pc_addr = a;
		refl[nrefl++].pc_kind = CAND_REFLEXIVE;
	}
	room = PROBE_MAX_CANDS - nrefl;
	for (i = 0; i < pi->pi_nlocal && n < room; i++) {
		addr_make(&a, &pi->pi_local[i], pi->pi_wg_port);
		if (!iface_has_af(pi, a.sa.sa_family) || !addr_probeable(&a) ||
		    cands_has(out, n, &a))
			continue;
		out[n].pc_addr = a;
		out[n++].pc_kind = CAND_HOST;
	}
	/* no NAT: the mapping is a host candidate already */
	for (i = 0; i < nrefl; i++)
		if (!cands_has(out, n, &refl[i].pc_addr))
			out[n++] = refl[i];
	return n;
}

static void
iface_cands_update(struct piface *pi)
{
	struct probe_cand	 c[PROBE_MAX_CANDS];
	size_t			 n;

	nat_update(pi);
	memset(c, 0, sizeof(c));
	n = cands_build(pi, c);
	if (n == pi->pi_ncands && cands_equal(c, pi->pi_cands, n))
		return;
	memcpy(pi->pi_cands, c, sizeof(c));
	pi->pi_ncands = n;
	log_debug("probe: interface %u has %zu candidates", pi->pi_ifid, n);
	if (pio != NULL && pio->cands_changed != NULL)
		pio->cands_changed(pi->pi_ifid);
}

/* --- peers ---------------------------------------------------------------- */

static size_t
peer_bucket(uint32_t ifid, const uint8_t *key)
{
	uint32_t	 h;

	memcpy(&h, key, sizeof(h));
	return (h ^ (ifid * 2654435761U)) % PROBE_HASH;
}

static struct ppeer *
peer_find(uint32_t ifid, const uint8_t *key)
{
	struct ppeer	*pe;

	LIST_FOREACH(pe, &peer_hash[peer_bucket(ifid, key)], pe_hash)
		if (pe->pe_if->pi_ifid == ifid &&
		    memcmp(pe->pe_key, key, OMNI_KEYLEN) == 0)
			return pe;
	return NULL;
}

static void
peer_report(struct ppeer *pe)
{
	struct peer_path	 pp;

	if (pio == NULL || pio->path == NULL)
		return;
	probe_peer_path(pe->pe_if->pi_ifid, pe->pe_key, &pp);
	pio->path(&pp);
}

static void
slot_release(struct ppeer *pe)
{
	if (pe->pe_slot == NULL)
		return;
	memset(pe->pe_slot, 0, sizeof(*pe->pe_slot));
	pe->pe_slot = NULL;
}

static void
peer_unqueue(struct ppeer *pe)
{
	if (!pe->pe_queued)
		return;
	TAILQ_REMOVE(&peer_queue, pe, pe_queue);
	pe->pe_queued = 0;
}

static void
peer_log(const struct ppeer *pe, int state)
{
	char	 k[OMNI_KEY_B64LEN], a[OMNI_ADDRSTRLEN];

	if (log_getverbose() < 1 ||
	    (state != PROBE_OK && state != PROBE_FAILED))
		return;
	omni_key_to_base64(pe->pe_key, k, sizeof(k));
	if (state == PROBE_OK)
		log_debug("probe: interface %u peer %.8s: %s candidate %s "
		    "answered after %lld ms", pe->pe_if->pi_ifid, k,
		    pe->pe_ep_kind == CAND_HOST ? "host" :
		    pe->pe_ep_kind == CAND_REFLEXIVE ? "reflexive" :
		    "peer-reflexive", omni_addr_str(&pe->pe_ep, a, sizeof(a)),
		    (long long)(pe->pe_probe_us / 1000));
	else
		log_debug("probe: interface %u peer %.8s: no path: %s",
		    pe->pe_if->pi_ifid, k, pe->pe_reason);
}

static void
peer_set_state(struct ppeer *pe, int state, const struct sig_clock *clk)
{
	if (pe->pe_state == PROBE_FAILED)
		nfailed--;
	if (state == PROBE_FAILED)
		nfailed++;
	pe->pe_state = state;
	(void)clk;
	peer_log(pe, state);
	peer_report(pe);
}

static void
peer_free(struct ppeer *pe)
{
	slot_release(pe);
	peer_unqueue(pe);
	if (pe->pe_state == PROBE_FAILED)
		nfailed--;
	if (pe->pe_has_ep)
		pe->pe_if->pi_dirty = 1;
	LIST_REMOVE(pe, pe_hash);
	npeers--;
	free(pe);
}

/* Queue for a run; front: ahead of the others (a peer probing us). */
static void
peer_enqueue(struct ppeer *pe, int front)
{
	if (pe->pe_queued || pe->pe_slot != NULL)
		return;
	if (front)
		TAILQ_INSERT_HEAD(&peer_queue, pe, pe_queue);
	else
		TAILQ_INSERT_TAIL(&peer_queue, pe, pe_queue);
	pe->pe_queued = 1;
}

/* Add or refresh a peer-reflexive candidate; its index or -1. */
static int
peer_learn(struct ppeer *pe, const struct omni_addr *src)
{
	size_t	 i, oldest;

	for (i = 0; i < pe->pe_ncands; i++)
		if (addr_eq(&pe->pe_cands[i].pc_addr, src))
			return (int)i;
	if (!addr_probeable(src))
		return -1;
	if (pe->pe_ncands < PROBE_MAX_REMOTE &&
	    pe->pe_ncands - pe->pe_nannounced < PROBE_MAX_PRFLX)
		i = pe->pe_ncands++;
	else {
		/* full: the first learned goes (they are in age order) */
		oldest = pe->pe_nannounced;
		if (oldest >= pe->pe_ncands)
			return -1;
		memmove(&pe->pe_cands[oldest], &pe->pe_cands[oldest + 1],
		    (pe->pe_ncands - oldest - 1) * sizeof(pe->pe_cands[0]));
		if (pe->pe_slot != NULL) {
			memmove(&pe->pe_slot->ps_pairs[oldest],
			    &pe->pe_slot->ps_pairs[oldest + 1],
			    (pe->pe_ncands - oldest - 1) *
			    sizeof(pe->pe_slot->ps_pairs[0]));
			/* the best pair moved with the others, or went */
			if (pe->pe_slot->ps_best == (int)oldest)
				pe->pe_slot->ps_best = -1;
			else if (pe->pe_slot->ps_best > (int)oldest)
				pe->pe_slot->ps_best--;
		}
		i = pe->pe_ncands - 1;
	}
	addr_make(&pe->pe_cands[i].pc_addr, src, omni_addr_port(src));
	pe->pe_cands[i].pc_kind = CAND_PEER_REFLEXIVE;
	if (pe->pe_slot != NULL) {
		memset(&pe->pe_slot->ps_pairs[i], 0,
		    sizeof(pe->pe_slot->ps_pairs[i]));
		pe->pe_slot->ps_pairs[i].pa_next_ms = 1;	/* at once */
	}
	return (int)i;
}

/* Can a pair to this candidate be probed from this interface at all? */
static int
pair_usable(const struct ppeer *pe, size_t i)
{
	const struct omni_addr	*a = &pe->pe_cands[i].pc_addr;
	struct omni_addr	 m;

	addr_make(&m, a, omni_addr_port(a));
	return iface_has_af(pe->pe_if, m.sa.sa_family) && addr_probeable(a);
}

static void
peer_start(struct ppeer *pe, struct pslot *ps, uint64_t now)
{
	size_t	 i;

	memset(ps, 0, sizeof(*ps));
	ps->ps_peer = pe;
	ps->ps_start_ms = now;
	ps->ps_rerun = pe->pe_has_ep;
	ps->ps_best = -1;
	for (i = 0; i < pe->pe_ncands; i++)
		if (pair_usable(pe, i))
			ps->ps_pairs[i].pa_next_ms = now;
	pe->pe_slot = ps;
	peer_set_state(pe, PROBE_RUNNING, NULL);
}

static void
nat_words(int nat, char *buf, size_t len)
{
	if (!(nat & NAT_KNOWN))
		strlcpy(buf, "unknown (no STUN answer)", len);
	else if (nat & NAT_NONE)
		strlcpy(buf, "none (public address)", len);
	else if (nat & NAT_PER_DEST)
		strlcpy(buf, "maps per destination (symmetric)", len);
	else
		strlcpy(buf, (nat & NAT_PORT_KEPT) ?
		    "endpoint-independent, port kept" :
		    "endpoint-independent", len);
}

/*
 * A reflexive candidate of the peer that is a mapping STUN saw: not
 * on the peer's WireGuard port (the port of its host candidates),
 * which is what the nucleus guesses from the signaling source.
 */
static int
peer_mapping(const struct ppeer *pe, const struct probe_cand *c)
{
	size_t	 i;

	if (c->pc_kind != CAND_REFLEXIVE)
		return 0;
	for (i = 0; i < pe->pe_nannounced; i++)
		if (pe->pe_cands[i].pc_kind == CAND_HOST &&
		    omni_addr_port(&pe->pe_cands[i].pc_addr) ==
		    omni_addr_port(&c->pc_addr))
			return 0;
	return 1;
}

/* An IP address, and not a private or local one: reachable as it is. */
static int
addr_public(const struct omni_addr *a)
{
	return (a->sa.sa_family == AF_INET || a->sa.sa_family == AF_INET6) &&
	    !omni_addr_is_private(a);
}

/*
 * The peer's NAT as its candidates tell: a public host address means
 * none; two mappings with one address and different ports mean it
 * maps per destination (we announce every distinct mapping, and so
 * does the peer).
 */
static int
peer_nat(const struct ppeer *pe)
{
	const struct probe_cand	*a, *b;
	size_t			 i, j;
	int			 nrefl = 0;

	for (i = 0; i < pe->pe_nannounced; i++) {
		a = &pe->pe_cands[i];
		if (a->pc_kind == CAND_HOST && addr_public(&a->pc_addr))
			return NAT_KNOWN | NAT_NONE;
		if (a->pc_kind != CAND_REFLEXIVE)
			continue;
		nrefl++;
		if (!peer_mapping(pe, a))
			continue;
		for (j = i + 1; j < pe->pe_nannounced; j++) {
			b = &pe->pe_cands[j];
			if (peer_mapping(pe, b) &&
			    addr_same_ip(&a->pc_addr, &b->pc_addr) &&
			    !addr_eq(&a->pc_addr, &b->pc_addr))
				return NAT_KNOWN | NAT_PER_DEST;
		}
	}
	return nrefl ? NAT_KNOWN : 0;
}

/* Known, behind a NAT, one mapping for every destination. */
static int
nat_cone(int nat)
{
	return (nat & NAT_KNOWN) && !(nat & (NAT_NONE | NAT_PER_DEST));
}

static void
peer_fail_reason(struct ppeer *pe, size_t tried)
{
	char	 ours[64], theirs[64];
	int	 pn = peer_nat(pe), on = pe->pe_if->pi_nat;

	nat_words(on, ours, sizeof(ours));
	if (pe->pe_nannounced == 0) {
		snprintf(pe->pe_reason, sizeof(pe->pe_reason),
		    "no candidates from the peer");
		return;
	}
	if (tried == 0) {
		snprintf(pe->pe_reason, sizeof(pe->pe_reason),
		    "no candidate of an address family we can probe");
		return;
	}
	if ((on & NAT_PER_DEST) && (pn & NAT_PER_DEST)) {
		snprintf(pe->pe_reason, sizeof(pe->pe_reason),
		    "no answer from %zu candidates in %.1f s; both NATs map "
		    "per destination (symmetric)", tried,
		    PROBE_RUN_MS / 1000.0);
		return;
	}
	if (nat_cone(on) && nat_cone(pn)) {
		/*
		 * Both map endpoint-independently, which punching needs,
		 * and still nothing came: a NAT that takes unsolicited
		 * packets in (masquerade without an input filter)
		 * remapped the port after the peer's early probe, or a
		 * firewall drops probes.  STUN cannot see either.
		 */
		snprintf(pe->pe_reason, sizeof(pe->pe_reason),
		    "no answer from %zu candidates in %.1f s; both NATs "
		    "cone-like: likely an unfiltered NAT remapping, or a "
		    "firewall", tried, PROBE_RUN_MS / 1000.0);
		return;
	}
	if (pn & NAT_NONE)
		strlcpy(theirs, "none (public address)", sizeof(theirs));
	else if (pn & NAT_PER_DEST)
		strlcpy(theirs, "maps per destination (symmetric)",
		    sizeof(theirs));
	else if (pn & NAT_KNOWN)
		strlcpy(theirs, "endpoint-independent", sizeof(theirs));
	else
		strlcpy(theirs, "unknown (no reflexive candidate)",
		    sizeof(theirs));
	/* strlcat: a reason cut short beats none */
	snprintf(pe->pe_reason, sizeof(pe->pe_reason),
	    "no answer from %zu candidates in %.1f s", tried,
	    PROBE_RUN_MS / 1000.0);
	strlcat(pe->pe_reason, "; our NAT ", sizeof(pe->pe_reason));
	strlcat(pe->pe_reason, ours, sizeof(pe->pe_reason));
	strlcat(pe->pe_reason, "; peer's NAT ", sizeof(pe->pe_reason));
	strlcat(pe->pe_reason, theirs, sizeof(pe->pe_reason));
}

/* Did the pair of the current endpoint answer in this run? */
static int
ep_answered(const struct ppeer *pe)
{
	size_t	 i;

	for (i = 0; pe->pe_has_ep && i < pe->pe_ncands; i++)
		if (addr_eq(&pe->pe_cands[i].pc_addr, &pe->pe_ep))
			return pe->pe_slot->ps_pairs[i].pa_answered;
	return 0;
}

static void
peer_finish(struct ppeer *pe, uint64_t now)
{
	struct pslot	*ps = pe->pe_slot;
	size_t		 i, tried = 0;
	int		 answered = ps->ps_first_ms != 0;

	for (i = 0; i < pe->pe_ncands; i++)
		if (ps->ps_pairs[i].pa_nsent > 0)
			tried++;
	if (answered && ps->ps_best != -1 && !ep_answered(pe))
		peer_commit(pe, NULL);	/* the old one stayed silent */
	slot_release(pe);
	if (pe->pe_has_ep && answered) {
		pe->pe_reason[0] = '\0';
		pe->pe_backoff_ms = 0;
		if (pe->pe_state != PROBE_OK)
			peer_set_state(pe, PROBE_OK, NULL);
		return;
	}
	if (pe->pe_has_ep) {
		/* a new run found nothing: the old endpoint is no proof */
		pe->pe_has_ep = 0;
		pe->pe_if->pi_dirty = 1;
	}
	pe->pe_probe_us = -1;
	peer_fail_reason(pe, tried);
	if (pe->pe_backoff_ms == 0)
		pe->pe_backoff_ms = PROBE_RETRY_MIN_MS;
	else if (pe->pe_backoff_ms < PROBE_RETRY_MAX_MS / 2)
		pe->pe_backoff_ms *= 2;
	else
		pe->pe_backoff_ms = PROBE_RETRY_MAX_MS;
	pe->pe_retry_ms = now + pe->pe_backoff_ms;
	if (pe->pe_nannounced == 0 && pe->pe_ncands == 0)
		peer_set_state(pe, PROBE_IDLE, NULL);
	else
		peer_set_state(pe, PROBE_FAILED, NULL);
}

/* --- sending probes ------------------------------------------------------ */

static uint64_t
clock_us(const struct sig_clock *clk)
{
	return clk->wall_us != 0 ? clk->wall_us : (uint64_t)clk->wall * 1000000;
}

static uint64_t
iface_stamp(struct piface *pi, const struct sig_clock *clk)
{
	uint64_t	 t = clock_us(clk);

	/* strictly increasing, so a receiver can tell repeats */
	if (t <= pi->pi_last_ts)
		t = pi->pi_last_ts + 1;
	pi->pi_last_ts = t;
	return t;
}

static void
pair_send(struct ppeer *pe, size_t i, const struct sig_clock *clk)
{
	struct piface	*pi = pe->pe_if;
	struct pslot	*ps = pe->pe_slot;
	struct ppair	*pa = &ps->ps_pairs[i];
	struct probe_pkt p;
	uint8_t		 buf[PROBE_PKTLEN];
	uint64_t	 now = clk->ms;

	if (bucket_take(&bk_send, PROBE_SEND_RATE, PROBE_SEND_BURST, now) ==
	    -1) {
		/* not dropped: sent on a later tick */
		pa->pa_next_ms = now + 10;
		return;
	}
	memset(&p, 0, sizeof(p));
	p.pp_type = PROBE_REQUEST;
	memcpy(p.pp_from, pi->pi_pub, OMNI_KEYLEN);
	memcpy(p.pp_to, pe->pe_key, OMNI_KEYLEN);
	randombytes_buf(&p.pp_txid, sizeof(p.pp_txid));
	p.pp_ts = iface_stamp(pi, clk);
	probe_pkt_encode(&p, pi->pi_key, buf, sizeof(buf));
	pa->pa_txid[pa->pa_txnext] = p.pp_txid;
	pa->pa_sent_ms[pa->pa_txnext] = now;
	pa->pa_txnext = (pa->pa_txnext + 1) % PROBE_TXIDS;
	if (iface_send(pi, &pe->pe_cands[i].pc_addr, buf, sizeof(buf)) == 0)
		pstats.sent[PK_REQUEST]++;
	pa->pa_nsent++;
	if (pa->pa_nsent >= PROBE_NSCHED)
		pa->pa_next_ms = 0;
	else
		pa->pa_next_ms = now + (probe_schedule[pa->pa_nsent] -
		    probe_schedule[pa->pa_nsent - 1]);
}

/* A better candidate than the best answered may still answer. */
static int
slot_better_pending(const struct ppeer *pe)
{
	const struct pslot	*ps = pe->pe_slot;
	size_t			 i;

	for (i = 0; i < pe->pe_ncands; i++)
		if (pair_rank(pe, i) > pair_rank(pe, ps->ps_best) &&
		    ps->ps_pairs[i].pa_next_ms != 0 &&
		    !ps->ps_pairs[i].pa_answered)
			return 1;
	return 0;
}

static void
slot_tick(struct ppeer *pe, const struct sig_clock *clk)
{
	struct pslot	*ps = pe->pe_slot;
	uint64_t	 now = clk->ms;
	size_t		 i;
	int		 busy = 0;

	if (ps->ps_first_ms != 0) {
		/* decided: only better candidates may still upgrade it */
		if (ps->ps_best == -1 || !slot_better_pending(pe) ||
		    now >= ps->ps_first_ms + PROBE_GRACE_MS) {
			peer_finish(pe, now);
			return;
		}
	}
	for (i = 0; i < pe->pe_ncands; i++) {
		struct ppair	*pa = &ps->ps_pairs[i];

		if (pa->pa_next_ms == 0)
			continue;
		if (ps->ps_first_ms != 0 && (ps->ps_best == -1 ||
		    pair_rank(pe, i) <= pair_rank(pe, ps->ps_best))) {
			pa->pa_next_ms = 0;	/* decided: no more of these */
			continue;
		}
		if (pa->pa_next_ms <= now)
			pair_send(pe, i, clk);
		busy = 1;
	}
	if (!busy && ps->ps_first_ms == 0 &&
	    (now >= ps->ps_start_ms + PROBE_RUN_MS || pe->pe_ncands == 0))
		peer_finish(pe, now);
	else if (!busy && ps->ps_first_ms == 0) {
		/* every pair sent its last: wait for late answers */
		for (i = 0; i < pe->pe_ncands; i++)
			if (ps->ps_pairs[i].pa_nsent > 0)
				break;
		if (i == pe->pe_ncands)
			peer_finish(pe, now);
	}
}

static uint64_t
slot_due(const struct pslot *ps)
{
	const struct ppeer	*pe = ps->ps_peer;
	uint64_t		 due = 0, t;
	size_t			 i;

	if (ps->ps_first_ms != 0)
		due = ps->ps_first_ms + PROBE_GRACE_MS;
	else
		due = ps->ps_start_ms + PROBE_RUN_MS;
	for (i = 0; i < pe->pe_ncands; i++) {
		t = ps->ps_pairs[i].pa_next_ms;
		if (t != 0 && t < due)
			due = t;
	}
	return due;
}

/* Free slots to the head of the queue. */
static void
queue_run(const struct sig_clock *clk)
{
	struct ppeer	*pe;
	size_t		 i = 0;

	for (;;) {
		while (i < PROBE_MAX_ACTIVE && slots[i].ps_peer != NULL)
			i++;
		if (i == PROBE_MAX_ACTIVE ||
		    (pe = TAILQ_FIRST(&peer_queue)) == NULL)
			return;
		peer_unqueue(pe);
		/* not ready: iface_kick queues it again when it is */
		if (!iface_ready(pe->pe_if))
			continue;
		peer_start(pe, &slots[i], clk->ms);
		slot_tick(pe, clk);
	}
}

/*
 * Probe the peers of an interface again, now: all of them after a
 * roam, those without a path when the interface became ready.
 */
static void
iface_kick(struct piface *pi, int all, uint64_t now)
{
	struct ppeer	*pe;
	size_t		 i;

	if (!iface_ready(pi))
		return;
	for (i = 0; i < PROBE_HASH; i++)
		LIST_FOREACH(pe, &peer_hash[i], pe_hash) {
			if (pe->pe_if != pi || pe->pe_ncands == 0)
				continue;
			if (!all && (pe->pe_state == PROBE_OK ||
			    pe->pe_slot != NULL))
				continue;
			/* a run that just started probes the news already */
			if (pe->pe_slot != NULL &&
			    pe->pe_slot->ps_start_ms + 100 > now)
				continue;
			slot_release(pe);
			pe->pe_backoff_ms = 0;
			peer_enqueue(pe, 0);
		}
}

static void
notify_flush(uint64_t now)
{
	size_t	 i;

	for (i = 0; i < OMNI_MAX_IFACES; i++) {
		if (!ifaces[i].pi_used || !ifaces[i].pi_dirty)
			continue;
		/* one peer set resend per interval, however many changed */
		if (ifaces[i].pi_notified_ms != 0 &&
		    now < ifaces[i].pi_notified_ms + PROBE_NOTIFY_MS)
			continue;
		ifaces[i].pi_dirty = 0;
		ifaces[i].pi_notified_ms = now;
		if (pio != NULL && pio->endpoint_changed != NULL)
			pio->endpoint_changed(ifaces[i].pi_ifid);
	}
}

/* --- receiving probes ---------------------------------------------------- */

static int
replay_check(struct ppeer *pe, uint64_t ts)
{
	size_t	 i, lo = 0;

	if (ts <= pe->pe_rp_floor)
		return -1;
	for (i = 0; i < PROBE_REPLAY; i++) {
		if (pe->pe_rp_seen[i] == ts)
			return -1;
		if (pe->pe_rp_seen[i] < pe->pe_rp_seen[lo])
			lo = i;
	}
	/* the smallest goes; nothing at or below it is accepted again */
	if (pe->pe_rp_seen[lo] > pe->pe_rp_floor)
		pe->pe_rp_floor = pe->pe_rp_seen[lo];
	pe->pe_rp_seen[lo] = ts;
	return 0;
}

static void
request_input(struct piface *pi, struct ppeer *pe, const struct probe_pkt *p,
    const struct omni_addr *src, const struct sig_clock *clk)
{
	struct probe_pkt	 a;
	uint8_t			 buf[PROBE_PKTLEN];

	if (pe != NULL && replay_check(pe, p->pp_ts) == -1) {
		pstats.dropped[PROBE_D_REPLAY]++;
		return;
	}
	pstats.received[PK_REQUEST]++;
	if (bucket_take(&bk_answer, PROBE_ANSWER_RATE, PROBE_ANSWER_BURST,
	    clk->ms) == -1) {
		pstats.dropped[PROBE_D_RATE_LIMITED]++;
		return;
	}
	memset(&a, 0, sizeof(a));
	a.pp_type = PROBE_ANSWER;
	memcpy(a.pp_from, pi->pi_pub, OMNI_KEYLEN);
	memcpy(a.pp_to, p->pp_from, OMNI_KEYLEN);
	a.pp_txid = p->pp_txid;
	a.pp_ts = iface_stamp(pi, clk);
	a.pp_seen = *src;
	probe_pkt_encode(&a, pi->pi_key, buf, sizeof(buf));
	if (iface_send(pi, src, buf, sizeof(buf)) == 0)
		pstats.sent[PK_ANSWER]++;

	if (pe == NULL)
		return;
	/* the peer probes us from src: a candidate, and a reason to probe */
	peer_learn(pe, src);
	if (pe->pe_state != PROBE_OK && pe->pe_slot == NULL) {
		pe->pe_backoff_ms = 0;
		peer_enqueue(pe, 1);
	}
}

/* The best pair of the run becomes the endpoint. */
static void
peer_commit(struct ppeer *pe, const struct sig_clock *clk)
{
	struct pslot	*ps = pe->pe_slot;
	const struct probe_cand *c = &pe->pe_cands[ps->ps_best];

	if (!pe->pe_has_ep || !addr_eq(&pe->pe_ep, &c->pc_addr))
		pe->pe_if->pi_dirty = 1;
	pe->pe_has_ep = 1;
	pe->pe_ep = c->pc_addr;
	pe->pe_ep_kind = c->pc_kind;
	pe->pe_local = ps->ps_best_seen;
	pe->pe_probe_us = ps->ps_best_us;
	pe->pe_reason[0] = '\0';
	/* OK from the first answer; the slot stays for the grace window */
	if (pe->pe_state != PROBE_OK)
		peer_set_state(pe, PROBE_OK, clk);
	else
		peer_report(pe);
}

static void
answer_input(struct ppeer *pe, const struct probe_pkt *p,
    const struct sig_clock *clk)
{
	struct pslot	*ps = pe->pe_slot;
	struct ppair	*pa;
	size_t		 i, k;
	uint64_t	 now = clk->ms;

	if (ps == NULL)
		goto unexpected;
	for (i = 0; i < pe->pe_ncands; i++) {
		pa = &ps->ps_pairs[i];
		for (k = 0; k < PROBE_TXIDS; k++)
			if (pa->pa_sent_ms[k] != 0 &&
			    pa->pa_txid[k] == p->pp_txid)
				goto found;
	}
 unexpected:
	pstats.dropped[PROBE_D_UNEXPECTED]++;
	return;
 found:
	/* one answer per transaction: a replay finds nothing */
	pa->pa_txid[k] = 0;
	pa->pa_sent_ms[k] = 0;
	pa->pa_answered = 1;
	pstats.received[PK_ANSWER]++;
	if (ps->ps_first_ms == 0) {
		ps->ps_first_ms = now;
		ps->ps_best_us = (int64_t)(now - ps->ps_start_ms) * 1000;
	}
	if (ps->ps_best != -1 && pair_rank(pe, i) <= pair_rank(pe, ps->ps_best))
		return;
	ps->ps_best = (int)i;
	ps->ps_best_seen = p->pp_seen;
	/*
	 * The first run decides at once; a later one does not trade the
	 * endpoint for a worse kind unless the run ends without the
	 * better one answering (peer_finish), so a re-probe of a LAN
	 * path does not flap through the NAT and back.
	 */
	if (!ps->ps_rerun ||
	    pair_rank(pe, i) >= cand_rank(pe->pe_ep_kind, &pe->pe_ep))
		peer_commit(pe, clk);
	slot_tick(pe, clk);
}

static void
pkt_input(struct piface *pi, const uint8_t *d, size_t len,
    const struct omni_addr *src, const struct sig_clock *clk)
{
	struct probe_pkt	 p;
	struct ppeer		*pe;
	uint64_t		 now_us;
	int			 r;

	if (!pi->pi_keyed) {
		pstats.dropped[PROBE_D_NO_IFACE]++;
		return;
	}
	if (bucket_take(&bk_input, PROBE_INPUT_RATE, PROBE_INPUT_BURST,
	    clk->ms) == -1) {
		pstats.dropped[PROBE_D_RATE_LIMITED]++;
		return;
	}
	if ((r = probe_pkt_decode(d, len, pi->pi_key, &p)) != 0) {
		pstats.dropped[r]++;
		return;
	}
	if (memcmp(p.pp_to, pi->pi_pub, OMNI_KEYLEN) != 0) {
		pstats.dropped[PROBE_D_NOT_FOR_US]++;
		return;
	}
	if (memcmp(p.pp_from, pi->pi_pub, OMNI_KEYLEN) == 0) {
		pstats.dropped[PROBE_D_OWN]++;
		return;
	}
	now_us = clock_us(clk);
	if (p.pp_ts + PROBE_WINDOW_US < now_us ||
	    p.pp_ts > now_us + PROBE_WINDOW_US) {
		pstats.dropped[PROBE_D_STALE]++;
		return;
	}
	/*
	 * A request of a cluster member the nucleus has not told us of
	 * yet (it tells both sides at once, so this is a race): answered,
	 * so its prober need not wait for a retransmission, but it leaves
	 * no state.  Its MAC proves the key of the cluster; a replay only
	 * gets an answer to where it came from, at the answer rate.
	 */
	pe = peer_find(pi->pi_ifid, p.pp_from);
	if (pe == NULL && p.pp_type == PROBE_ANSWER) {
		pstats.dropped[PROBE_D_UNKNOWN_PEER]++;
		return;
	}
	if (p.pp_type == PROBE_REQUEST)
		request_input(pi, pe, &p, src, clk);
	else
		answer_input(pe, &p, clk);
}

void
probe_input(uint32_t ifid, const uint8_t *buf, size_t len,
    const struct sig_clock *clk)
{
	struct piface		*pi;
	struct omni_addr	 src;
	const uint8_t		*pl;
	size_t			 plen;
	uint16_t		 dport;

	if (probe_ip_parse(buf, len, &src, &dport, &pl, &plen) == -1) {
		pstats.dropped[PROBE_D_MALFORMED]++;
		return;
	}
	if ((pi = iface_find(ifid)) == NULL || !iface_ready(pi)) {
		pstats.dropped[PROBE_D_NO_IFACE]++;
		return;
	}
	if (dport != pi->pi_wg_port) {
		pstats.dropped[PROBE_D_MALFORMED]++;
		return;
	}
	if (stun_is_message(pl, plen))
		stun_input(pi, pl, plen, &src, clk);
	else if (plen >= 4 && memcmp(pl, OMNI_PROBE_MAGIC, 4) == 0)
		pkt_input(pi, pl, plen, &src, clk);
	else
		pstats.dropped[PROBE_D_NOT_PROBE]++;
	queue_run(clk);
	notify_flush(clk->ms);
}

/* --- the interface of probe.h ---------------------------------------- */

void
probe_init(const struct probe_io *io)
{
	/*
	 * The peer table is static, so its lists start empty: no
	 * initialisation that could drop peers learned before this call.
	 */
	pio = io;
}

int
probe_sock(const struct sock_probe *sp, int fd)
{
	struct piface	*pi;
	int		 off = -1, was, moved = 0;
	socklen_t	 olen = sizeof(off);

	if ((sp->af != AF_INET && sp->af != AF_INET6) || sp->wg_port == 0 ||
	    fd < 0) {
		log_warnx("probe: bad probe socket for interface %u",
		    sp->ifid);
		return -1;
	}
	if (sp->af == AF_INET6 && (pio == NULL || pio->send == NULL) &&
	    (getsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off, &olen) == -1 ||
	    off != 6)) {
		/* our IPv6 probes would carry no checksum and be dropped */
		log_warnx("probe: IPv6 probe socket of interface %u computes "
		    "no UDP checksum, refused", sp->ifid);
		return -1;
	}
	if ((pi = iface_get(sp->ifid)) == NULL)
		return -1;
	was = iface_ready(pi);
	pi->pi_fd[af_index(sp->af)] = fd;
	if (pi->pi_wg_port != sp->wg_port) {
		/* another port: a new mapping to learn, paths to prove */
		moved = pi->pi_wg_port != 0;
		pi->pi_wg_port = sp->wg_port;
		pi->pi_stun_next_ms = 0;
	}
	iface_cands_update(pi);
	iface_kick(pi, !was || moved, 0);
	return 0;
}

void
probe_local_addrs(const struct local_addrs *la, const struct sig_clock *clk)
{
	struct piface	*pi;
	size_t		 i, n;

	if ((pi = iface_get(la->ifid)) == NULL)
		return;
	if (pi->pi_has_gen && pi->pi_gen == la->generation)
		return;
	n = la->naddr < 0 ? 0 : (size_t)la->naddr;
	if (n > OMNI_MAX_LOCAL)
		n = OMNI_MAX_LOCAL;
	memset(pi->pi_local, 0, sizeof(pi->pi_local));
	for (i = 0; i < n; i++)
		pi->pi_local[i] = la->addr[i];
	pi->pi_nlocal = n;
	if (!pi->pi_has_gen) {
		pi->pi_has_gen = 1;
		pi->pi_gen = la->generation;
		iface_cands_update(pi);
		return;
	}
	pi->pi_gen = la->generation;
	log_info("probe: interface %u addresses changed (generation %u), "
	    "gathering again", pi->pi_ifid, la->generation);
	/* a roam: old mappings are void, learn them anew now */
	for (i = 0; i < pi->pi_nsrv; i++)
		pi->pi_srv[i].sv_mapped_ok = 0;
	pi->pi_nat = 0;
	stun_start(pi, clk->ms);
	iface_cands_update(pi);
	stun_tick(pi, clk->ms);
	/* and probe every peer again, at once (bounded by the queue) */
	iface_kick(pi, 1, clk->ms);
	queue_run(clk);
	notify_flush(clk->ms);
}

void
probe_tick(const struct sig_clock *clk)
{
	struct ppeer	*pe;
	size_t		 i;

	for (i = 0; i < OMNI_MAX_IFACES; i++)
		if (ifaces[i].pi_used)
			stun_tick(&ifaces[i], clk->ms);
	for (i = 0; i < PROBE_MAX_ACTIVE; i++)
		if (slots[i].ps_peer != NULL && slot_due(&slots[i]) <= clk->ms)
			slot_tick(slots[i].ps_peer, clk);
	/* after the runs: one that failed just now counts from now */
	if (nfailed > 0 && clk->ms >= last_sweep_ms + PROBE_SWEEP_MS) {
		last_sweep_ms = clk->ms;
		for (i = 0; i < PROBE_HASH; i++)
			LIST_FOREACH(pe, &peer_hash[i], pe_hash)
				if (pe->pe_state == PROBE_FAILED &&
				    !pe->pe_queued && pe->pe_slot == NULL &&
				    clk->ms >= pe->pe_retry_ms)
					peer_enqueue(pe, 0);
	}
	queue_run(clk);
	notify_flush(clk->ms);
}

uint64_t
probe_next_due(void)
{
	uint64_t	 due = 0, t;
	size_t		 i, j;

#define EARLIER(x)	do { if ((x) != 0 && (due == 0 || (x) < due)) \
				due = (x); } while (0)
	for (i = 0; i < OMNI_MAX_IFACES; i++) {
		if (!iface_ready(&ifaces[i]))
			continue;
		EARLIER(ifaces[i].pi_stun_next_ms == 0 ? 1 :
		    ifaces[i].pi_stun_next_ms);
		for (j = 0; j < ifaces[i].pi_nsrv; j++) {
			t = stun_due(&ifaces[i].pi_srv[j]);
			EARLIER(t);
		}
		if (ifaces[i].pi_dirty) {
			t = ifaces[i].pi_notified_ms + PROBE_NOTIFY_MS;
			EARLIER(t);
		}
	}
	for (i = 0; i < PROBE_MAX_ACTIVE; i++)
		if (slots[i].ps_peer != NULL) {
			t = slot_due(&slots[i]);
			EARLIER(t);
		}
	if (nfailed > 0) {
		t = last_sweep_ms + PROBE_SWEEP_MS;
		EARLIER(t);
	}
#undef EARLIER
	return due;
}

void
probe_iface_gone(uint32_t ifid)
{
	struct piface	*pi;
	struct ppeer	*pe, *tmp;
	size_t		 i;

	if ((pi = iface_find(ifid)) == NULL)
		return;
	for (i = 0; i < PROBE_HASH; i++)
		LIST_FOREACH_SAFE(pe, &peer_hash[i], pe_hash, tmp)
			if (pe->pe_if == pi)
				peer_free(pe);
	sodium_memzero(pi, sizeof(*pi));
	pi->pi_fd[0] = pi->pi_fd[1] = -1;
}

void
probe_iface(uint32_t ifid, const uint8_t *sigkey, const uint8_t *pubkey,
    const struct omni_addr *nuclei, size_t nnuclei,
    const struct omni_addr *stun, size_t nstun)
{
	struct piface		*pi;
	struct ppeer		*pe, *tmp;
	struct omni_addr	 srv[PROBE_MAX_SERVERS];
	const struct omni_addr	*src;
	uint8_t			 key[OMNI_KEYLEN];
	size_t			 i, n = 0;
	int			 was, same;

	if ((pi = iface_get(ifid)) == NULL)
		return;
	probe_key_derive(sigkey, key);
	if (pi->pi_keyed && (memcmp(key, pi->pi_key, sizeof(key)) != 0 ||
	    memcmp(pubkey, pi->pi_pub, OMNI_KEYLEN) != 0)) {
		/* another cluster or identity: nothing learned holds */
		for (i = 0; i < PROBE_HASH; i++)
			LIST_FOREACH_SAFE(pe, &peer_hash[i], pe_hash, tmp)
				if (pe->pe_if == pi)
					peer_free(pe);
	}
	memcpy(pi->pi_key, key, sizeof(key));
	memcpy(pi->pi_pub, pubkey, OMNI_KEYLEN);
	sodium_memzero(key, sizeof(key));
	was = iface_ready(pi);
	pi->pi_keyed = 1;

	for (i = 0; i < nnuclei + nstun && n < PROBE_MAX_SERVERS; i++) {
		src = i < nnuclei ? &nuclei[i] : &stun[i - nnuclei];
		addr_make(&srv[n++], src, omni_addr_port(src));
	}
	same = n == pi->pi_nsrv;
	for (i = 0; same && i < n; i++)
		same = addr_eq(&srv[i], &pi->pi_srv[i].sv_addr);
	if (!same) {
		memset(pi->pi_srv, 0, sizeof(pi->pi_srv));
		for (i = 0; i < n; i++)
			pi->pi_srv[i].sv_addr = srv[i];
		pi->pi_nsrv = n;
		pi->pi_stun_next_ms = 0;	/* ask them at the next tick */
	}
	iface_cands_update(pi);
	iface_kick(pi, !was, 0);
}

size_t
probe_local_cands(uint32_t ifid, struct probe_cand *c, size_t n)
{
	struct piface	*pi;
	size_t		 k;

	if ((pi = iface_find(ifid)) == NULL)
		return 0;
	k = pi->pi_ncands < n ? pi->pi_ncands : n;
	memcpy(c, pi->pi_cands, k * sizeof(*c));
	return k;
}

void
probe_peer(uint32_t ifid, const uint8_t *pubkey, const struct probe_cand *c,
    size_t n, int punch, const struct sig_clock *clk)
{
	struct piface		*pi;
	struct ppeer		*pe;
	struct probe_cand	 nc[PROBE_MAX_REMOTE];
	size_t			 i, k = 0;
	int			 changed;

	if ((pi = iface_get(ifid)) == NULL)
		return;
	if (pi->pi_keyed && memcmp(pubkey, pi->pi_pub, OMNI_KEYLEN) == 0)
		return;		/* ourselves */
	memset(nc, 0, sizeof(nc));
	for (i = 0; i < n && k < PROBE_MAX_CANDS; i++) {
		if (c[i].pc_kind != CAND_HOST &&
		    c[i].pc_kind != CAND_REFLEXIVE)
			continue;
		if (!addr_probeable(&c[i].pc_addr) ||
		    cands_has(nc, k, &c[i].pc_addr))
			continue;
		addr_make(&nc[k].pc_addr, &c[i].pc_addr,
		    omni_addr_port(&c[i].pc_addr));
		nc[k++].pc_kind = c[i].pc_kind;
	}
	if ((pe = peer_find(ifid, pubkey)) == NULL) {
		if (npeers >= PROBE_MAX_PEERS) {
			pstats.dropped[PROBE_D_PEERS_FULL]++;
			return;
		}
		if ((pe = calloc(1, sizeof(*pe))) == NULL) {
			log_warn("probe peer");
			return;
		}
		pe->pe_if = pi;
		memcpy(pe->pe_key, pubkey, OMNI_KEYLEN);
		pe->pe_probe_us = -1;
		LIST_INSERT_HEAD(&peer_hash[peer_bucket(ifid, pubkey)], pe,
		    pe_hash);
		npeers++;
		changed = 1;
	} else
		changed = k != pe->pe_nannounced ||
		    !cands_equal(nc, pe->pe_cands, k);
	if (changed) {
		/* learned ones stay behind the announced */
		memmove(&pe->pe_cands[k], &pe->pe_cands[pe->pe_nannounced],
		    (pe->pe_ncands - pe->pe_nannounced) * sizeof(nc[0]));
		pe->pe_ncands = k + (pe->pe_ncands - pe->pe_nannounced);
		memcpy(pe->pe_cands, nc, k * sizeof(nc[0]));
		pe->pe_nannounced = k;
		if (pe->pe_slot != NULL)
			slot_release(pe);	/* pairs moved: start over */
	}
	if (pe->pe_ncands == 0) {
		snprintf(pe->pe_reason, sizeof(pe->pe_reason),
		    "no candidates from the peer");
		peer_unqueue(pe);
		slot_release(pe);
		if (pe->pe_has_ep) {
			pe->pe_has_ep = 0;
			pi->pi_dirty = 1;
		}
		if (pe->pe_state != PROBE_IDLE)
			peer_set_state(pe, PROBE_IDLE, clk);
		return;
	}
	if (changed || punch) {
		pe->pe_backoff_ms = 0;
		if (iface_ready(pi))
			peer_enqueue(pe, punch);
	}
	if (clk != NULL) {
		queue_run(clk);
		notify_flush(clk->ms);
	}
}

void
probe_peer_gone(uint32_t ifid, const uint8_t *pubkey)
{
	struct ppeer	*pe;

	if ((pe = peer_find(ifid, pubkey)) != NULL)
		peer_free(pe);
}

int
probe_endpoint(uint32_t ifid, const uint8_t *pubkey, struct omni_addr *ep)
{
	struct ppeer	*pe;

	if ((pe = peer_find(ifid, pubkey)) == NULL || !pe->pe_has_ep ||
	    !iface_ready(pe->pe_if))
		return 0;
	*ep = pe->pe_ep;
	return 1;
}

int
probe_peer_path(uint32_t ifid, const uint8_t *pubkey, struct peer_path *pp)
{
	struct ppeer	*pe;

	memset(pp, 0, sizeof(*pp));
	pp->ifid = ifid;
	memcpy(pp->pubkey, pubkey, OMNI_KEYLEN);
	pp->probe_us = -1;
	if ((pe = peer_find(ifid, pubkey)) == NULL)
		return 0;
	pp->state = pe->pe_state;
	if (pe->pe_has_ep) {
		pp->kind = pe->pe_ep_kind;
		pp->local = pe->pe_local;
		pp->remote = pe->pe_ep;
		pp->probe_us = pe->pe_probe_us;
	}
	if (pe->pe_state == PROBE_FAILED || pe->pe_state == PROBE_IDLE)
		strlcpy(pp->reason, pe->pe_reason, sizeof(pp->reason));
	return 1;
}

void
probe_metrics(void (*emit)(const char *, double, const char *))
{
	char		 l[64];
	size_t		 n[4] = { 0, 0, 0, 0 }, i, queued = 0;
	struct ppeer	*pe;
	int		 k;

	for (k = 0; k < PK_MAX; k++) {
		snprintf(l, sizeof(l), "kind=\"%s\"", probe_kind_names[k]);
		emit("omni_probe_sent_total", pstats.sent[k], l);
		emit("omni_probe_received_total", pstats.received[k], l);
	}
	for (k = 0; k < PROBE_D_MAX; k++) {
		snprintf(l, sizeof(l), "reason=\"%s\"", probe_drop_names[k]);
		emit("omni_probe_dropped_total", pstats.dropped[k], l);
	}
	for (i = 0; i < PROBE_HASH; i++)
		LIST_FOREACH(pe, &peer_hash[i], pe_hash) {
			if (pe->pe_state >= 0 && pe->pe_state < 4)
				n[pe->pe_state]++;
			if (pe->pe_queued)
				queued++;
		}
	for (k = 0; k < 4; k++) {
		snprintf(l, sizeof(l), "state=\"%s\"", probe_state_names[k]);
		emit("omni_probe_paths", n[k], l);
	}
	emit("omni_probe_queued", queued, NULL);
}
