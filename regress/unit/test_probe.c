/*
 * Unit tests of the probe engine (signald/probe.c): the probe codec,
 * STUN through the probe socket and the NAT behaviour it shows,
 * parallel probing with host candidates beating reflexive ones,
 * replays, forgeries and garbage dropped and counted, failure reasons
 * and backoff, the bound on peers probed at once, and roaming.
 *
 * We are edge A (interface 1); peers are simulated with the codec.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "probe.h"
#include "stun.h"
#include "tap.h"

#define WG_PORT		51820
#define MAX_SENT	8192

struct sent {
	uint32_t		 ifid;
	struct omni_addr	 to;
	uint8_t			 udp[256];
	size_t			 len;
	uint64_t		 ms;
};

static struct sent	 sent[MAX_SENT];
static size_t		 nsent;
static int		 ncands_changed, nendpoint_changed, npath;
static struct peer_path	 last_path;
static struct sig_clock	 clk;
static uint8_t		 sigkey[32], pkey[32], keyA[32], keyB[32], keyC[32];
static double		 metric_value;
static const char	*metric_name, *metric_label;
static int		 metric_found;
static size_t		 busy_ticks;

static int
t_send(uint32_t ifid, const struct omni_addr *to, const uint8_t *udp,
    size_t len)
{
	if (nsent < MAX_SENT && len <= sizeof(sent[0].udp)) {
		sent[nsent].ifid = ifid;
		sent[nsent].to = *to;
		memcpy(sent[nsent].udp, udp, len);
		sent[nsent].len = len;
		sent[nsent].ms = clk.ms;
		nsent++;
	}
	return 0;
}

static void
t_cands(uint32_t ifid)
{
	(void)ifid;
	ncands_changed++;
}

static void
t_endpoint(uint32_t ifid)
{
	(void)ifid;
	nendpoint_changed++;
}

static void
t_path(const struct peer_path *pp)
{
	npath++;
	last_path = *pp;
}

static const struct probe_io t_io = {
	.cands_changed = t_cands,
	.endpoint_changed = t_endpoint,
	.path = t_path,
	.send = t_send
};

static void
t_emit(const char *name, double v, const char *labels)
{
	if (strcmp(name, metric_name) != 0)
		return;
	if (metric_label != NULL &&
	    (labels == NULL || strcmp(labels, metric_label) != 0))
		return;
	metric_value = v;
	metric_found = 1;
}

static double
metric(const char *name, const char *label)
{
	metric_name = name;
	metric_label = label;
	metric_found = 0;
	metric_value = -1;
	probe_metrics(t_emit);
	return metric_found ? metric_value : -1;
}

static double
dropped(const char *reason)
{
	char	 l[64];

	snprintf(l, sizeof(l), "reason=\"%s\"", reason);
	return metric("omni_probe_dropped_total", l);
}

static struct omni_addr
A(const char *ip, uint16_t port)
{
	struct omni_addr	 a;

	/* omni_addr_parse wants a port: 0 is set afterwards */
	if (omni_addr_parse(ip, port == 0 ? 1 : port, &a) == -1)
		abort();
	if (port == 0 && a.sa.sa_family == AF_INET)
		a.sin.sin_port = 0;
	else if (port == 0)
		a.sin6.sin6_port = 0;
	return a;
}

static int
addr_is(const struct omni_addr *a, const char *ip, uint16_t port)
{
	struct omni_addr	 b = A(ip, port);

	return a->sa.sa_family == b.sa.sa_family &&
	    omni_addr_len(a) == omni_addr_len(&b) &&
	    omni_addr_port(a) == port &&
	    (a->sa.sa_family == AF_INET ?
	    memcmp(&a->sin.sin_addr, &b.sin.sin_addr, 4) == 0 :
	    memcmp(&a->sin6.sin6_addr, &b.sin6.sin6_addr, 16) == 0);
}

static void
tick_to(uint64_t ms)
{
	uint64_t	 due;

	while (clk.ms < ms) {
		clk.ms += 10;
		clk.wall_us += 10000;
		due = probe_next_due();
		if (due != 0 && due <= clk.ms)
			probe_tick(&clk);
		if (clk.ms % 1000 == 0)
			probe_tick(&clk);
		/* signald arms its timer with this: never in the past */
		due = probe_next_due();
		if (due != 0 && due <= clk.ms)
			busy_ticks++;
	}
}

/* An IPv4 datagram from src to our WireGuard port around payload. */
static size_t
ip4_wrap(const struct omni_addr *src, uint16_t dport, const uint8_t *pl,
    size_t plen, uint8_t *out)
{
	size_t	 tot = 20 + 8 + plen;

	memset(out, 0, 28);
	out[0] = 0x45;
	out[2] = tot >> 8;
	out[3] = tot & 0xff;
	out[8] = 64;
	out[9] = IPPROTO_UDP;
	memcpy(out + 12, &src->sin.sin_addr, 4);
	out[16] = 192;
	out[19] = 1;
	out[20] = omni_addr_port(src) >> 8;
	out[21] = omni_addr_port(src) & 0xff;
	out[22] = dport >> 8;
	out[23] = dport & 0xff;
	out[24] = (8 + plen) >> 8;
	out[25] = (8 + plen) & 0xff;
	memcpy(out + 28, pl, plen);
	return tot;
}

static void
feed(const struct omni_addr *src, const uint8_t *pl, size_t plen)
{
	uint8_t	 buf[2048];
	size_t	 n;

	n = ip4_wrap(src, WG_PORT, pl, plen, buf);
	probe_input(1, buf, n, &clk);
}

/* Decode a datagram we sent as a probe. */
static int
sent_probe(const struct sent *s, struct probe_pkt *p)
{
	if (s->len < 8 || s->udp[0] != (WG_PORT >> 8) ||
	    s->udp[1] != (WG_PORT & 0xff) ||
	    (size_t)(s->udp[4] << 8 | s->udp[5]) != s->len)
		return -1;
	return probe_pkt_decode(s->udp + 8, s->len - 8, pkey, p) == 0 ? 0 :
	    -1;
}

/* The latest request we sent to ip:port, or -1. */
static int
last_request_to(const char *ip, uint16_t port, struct probe_pkt *p)
{
	size_t	 i;

	for (i = nsent; i-- > 0; )
		if (addr_is(&sent[i].to, ip, port) && sent_probe(&sent[i], p) ==
		    0 && p->pp_type == PROBE_REQUEST)
			return 0;
	return -1;
}

static size_t
count_to(const char *ip, uint16_t port, size_t from)
{
	size_t	 i, n = 0;

	for (i = from; i < nsent; i++)
		if (addr_is(&sent[i].to, ip, port))
			n++;
	return n;
}

/* Peer `from` answers a request of ours, seen from `seen`. */
static void
answer(const uint8_t *from, const struct probe_pkt *req,
    const struct omni_addr *src, const struct omni_addr *seen)
{
	struct probe_pkt	 a;
	uint8_t			 buf[PROBE_PKTLEN];

	memset(&a, 0, sizeof(a));
	a.pp_type = PROBE_ANSWER;
	memcpy(a.pp_from, from, 32);
	memcpy(a.pp_to, keyA, 32);
	a.pp_txid = req->pp_txid;
	a.pp_ts = clk.wall_us;
	a.pp_seen = *seen;
	probe_pkt_encode(&a, pkey, buf, sizeof(buf));
	feed(src, buf, sizeof(buf));
}

static void
request(const uint8_t *from, const uint8_t *to, uint64_t ts,
    const struct omni_addr *src, const uint8_t *key, uint8_t *out)
{
	struct probe_pkt	 r;

	memset(&r, 0, sizeof(r));
	r.pp_type = PROBE_REQUEST;
	memcpy(r.pp_from, from, 32);
	memcpy(r.pp_to, to, 32);
	r.pp_txid = 0x1122334455667788ULL ^ ts;
	r.pp_ts = ts;
	probe_pkt_encode(&r, key, out, PROBE_PKTLEN);
	feed(src, out, PROBE_PKTLEN);
}

static void
test_codec(void)
{
	struct probe_pkt	 p, q;
	uint8_t			 buf[PROBE_PKTLEN], bad[PROBE_PKTLEN];
	uint8_t			 other[32];
	size_t			 i;
	int			 all;

	memset(&p, 0, sizeof(p));
	p.pp_type = PROBE_ANSWER;
	memcpy(p.pp_from, keyA, 32);
	memcpy(p.pp_to, keyB, 32);
	p.pp_txid = 0x0102030405060708ULL;
	p.pp_ts = 1700000000123456ULL;
	p.pp_seen = A("2001:db8::5", 4242);
	ok(probe_pkt_encode(&p, pkey, buf, sizeof(buf)) == PROBE_PKTLEN &&
	    memcmp(buf, OMNI_PROBE_MAGIC, 4) == 0,
	    "codec: a probe is %d bytes and starts with OMNP", PROBE_PKTLEN);
	ok(probe_pkt_decode(buf, sizeof(buf), pkey, &q) == 0 &&
	    q.pp_type == PROBE_ANSWER && q.pp_txid == p.pp_txid &&
	    q.pp_ts == p.pp_ts && memcmp(q.pp_from, keyA, 32) == 0 &&
	    memcmp(q.pp_to, keyB, 32) == 0 &&
	    addr_is(&q.pp_seen, "2001:db8::5", 4242),
	    "codec: decode gives back every field");
	all = 1;
	for (i = 8; i < sizeof(buf); i++) {
		memcpy(bad, buf, sizeof(buf));
		bad[i] ^= 0x40;
		if (probe_pkt_decode(bad, sizeof(bad), pkey, &q) !=
		    PROBE_D_BAD_MAC)
			all = 0;
	}
	ok(all, "codec: any flipped byte past the header fails the MAC");
	memset(other, 7, sizeof(other));
	ok(probe_pkt_decode(buf, sizeof(buf), other, &q) == PROBE_D_BAD_MAC,
	    "codec: another cluster's key fails the MAC");
	memcpy(bad, buf, sizeof(buf));
	bad[4] = 2;
	ok(probe_pkt_decode(bad, sizeof(bad), pkey, &q) == PROBE_D_VERSION,
	    "codec: another version is told apart");
	ok(probe_pkt_decode(buf, sizeof(buf) - 1, pkey, &q) ==
	    PROBE_D_MALFORMED, "codec: a short probe is malformed");
	ok(probe_pkt_decode((const uint8_t *)"\1\0\0\0abcdef", 10, pkey, &q)
	    == PROBE_D_NOT_PROBE, "codec: no magic, no probe");
	p.pp_type = 3;
	ok(probe_pkt_encode(&p, pkey, buf, sizeof(buf)) == -1,
	    "codec: unknown types are not encoded");
}

static void
test_ip(void)
{
	uint8_t			 buf[128], pl[4] = { 'O', 'M', 'N', 'P' };
	struct omni_addr	 src = A("198.51.100.7", 4000), got;
	const uint8_t		*p;
	size_t			 n, plen;
	uint16_t		 dport;

	n = ip4_wrap(&src, WG_PORT, pl, 4, buf);
	ok(probe_ip_parse(buf, n, &got, &dport, &p, &plen) == 0 &&
	    addr_is(&got, "198.51.100.7", 4000) && dport == WG_PORT &&
	    plen == 4 && memcmp(p, "OMNP", 4) == 0,
	    "ip: IPv4 source, ports and payload");
	ok(probe_ip_parse(buf, n - 1, &got, &dport, &p, &plen) == -1,
	    "ip: a truncated IPv4 datagram is refused");
	buf[6] = 0x20;		/* more fragments */
	ok(probe_ip_parse(buf, n, &got, &dport, &p, &plen) == -1,
	    "ip: fragments are refused");
	buf[6] = 0;
	buf[9] = IPPROTO_TCP;
	ok(probe_ip_parse(buf, n, &got, &dport, &p, &plen) == -1,
	    "ip: not UDP is refused");
	memset(buf, 0, sizeof(buf));
	buf[0] = 0x60;
	buf[5] = 12;
	buf[6] = IPPROTO_UDP;
	inet_pton(AF_INET6, "2001:db8::9", buf + 8);
	buf[40] = 0x12;
	buf[41] = 0x34;
	buf[42] = WG_PORT >> 8;
	buf[43] = WG_PORT & 0xff;
	buf[45] = 12;
	memcpy(buf + 48, "OMNP", 4);
	ok(probe_ip_parse(buf, 52, &got, &dport, &p, &plen) == 0 &&
	    addr_is(&got, "2001:db8::9", 0x1234) && plen == 4,
	    "ip: IPv6 (header by signald.c) source and payload");
	buf[45] = 200;
	ok(probe_ip_parse(buf, 52, &got, &dport, &p, &plen) == -1,
	    "ip: a UDP length past the datagram is refused");
}

/* The servers answer our STUN requests with these mappings. */
static void
stun_answer_all(const char *nucleus_map, uint16_t nport,
    const char *stun_map, uint16_t sport, size_t from)
{
	struct omni_addr	 m;
	uint8_t			 out[STUN_MAXANSWER];
	size_t			 i;
	int			 n;

	for (i = from; i < nsent; i++) {
		if (!stun_is_message(sent[i].udp + 8, sent[i].len - 8))
			continue;
		if (addr_is(&sent[i].to, "198.51.100.1", 51900))
			m = A(nucleus_map, nport);
		else if (addr_is(&sent[i].to, "203.0.113.9", 3478))
			m = A(stun_map, sport);
		else
			continue;
		n = stun_answer_binding(sent[i].udp + 8, sent[i].len - 8,
		    &m.sa, out, sizeof(out));
		if (n > 0)
			feed(&sent[i].to, out, n);
	}
}

static size_t
stun_sent(size_t from)
{
	size_t	 i, n = 0;

	for (i = from; i < nsent; i++)
		if (stun_is_message(sent[i].udp + 8, sent[i].len - 8))
			n++;
	return n;
}

static void
test_gather(void)
{
	struct sock_probe	 sp = { 1, AF_INET, WG_PORT };
	struct local_addrs	 la;
	struct omni_addr	 nuclei[1], stun[1];
	struct probe_cand	 c[PROBE_MAX_CANDS];
	size_t			 n, mark;
	int			 fd, before;

	fd = open("/dev/null", O_RDONLY);
	nuclei[0] = A("198.51.100.1", 51900);
	stun[0] = A("203.0.113.9", 3478);
	probe_iface(1, sigkey, keyA, nuclei, 1, stun, 1);
	ok(probe_local_cands(1, c, PROBE_MAX_CANDS) == 0,
	    "gather: no candidates before the probe socket");
	ok(probe_sock(&sp, fd) == 0, "gather: probe socket taken");
	memset(&la, 0, sizeof(la));
	la.ifid = 1;
	la.generation = 1;
	la.naddr = 2;
	la.addr[0] = A("192.168.1.10", 0);
	la.addr[1] = A("127.0.0.1", 0);
	before = ncands_changed;
	probe_local_addrs(&la, &clk);
	n = probe_local_cands(1, c, PROBE_MAX_CANDS);
	ok(n == 1 && c[0].pc_kind == CAND_HOST &&
	    addr_is(&c[0].pc_addr, "192.168.1.10", WG_PORT) &&
	    ncands_changed > before,
	    "gather: one host candidate on the WireGuard port (loopback "
	    "left out), announced");

	mark = nsent;
	probe_tick(&clk);
	ok(stun_sent(mark) == 2 && count_to("198.51.100.1", 51900, mark) == 1
	    && count_to("203.0.113.9", 3478, mark) == 1,
	    "gather: STUN from the WireGuard port to the nucleus and the "
	    "STUN server");
	ok(sent[mark].udp[0] == (WG_PORT >> 8) &&
	    sent[mark].udp[1] == (WG_PORT & 0xff) &&
	    sent[mark].udp[6] == 0 && sent[mark].udp[7] == 0,
	    "gather: UDP header from port %d, IPv4 checksum 0", WG_PORT);
	before = ncands_changed;
	/* per destination: the nucleus and the STUN server disagree */
	stun_answer_all("203.0.113.50", 51820, "203.0.113.50", 40000, mark);
	n = probe_local_cands(1, c, PROBE_MAX_CANDS);
	ok(n == 3 && c[0].pc_kind == CAND_HOST &&
	    c[1].pc_kind == CAND_REFLEXIVE && c[2].pc_kind == CAND_REFLEXIVE &&
	    addr_is(&c[1].pc_addr, "203.0.113.50", 51820) &&
	    addr_is(&c[2].pc_addr, "203.0.113.50", 40000) &&
	    ncands_changed > before,
	    "gather: both mappings announced after the host one");
	ok(metric("omni_probe_received_total", "kind=\"stun\"") == 2,
	    "gather: two STUN answers counted");
	stun_answer_all("203.0.113.50", 51820, "203.0.113.50", 40000, mark);
	ok(dropped("stun_unexpected") == 2,
	    "gather: repeated STUN answers are dropped");
}

static void
test_probe_ok(void)
{
	struct probe_cand	 pc[2];
	struct probe_pkt	 rq_host, rq_refl;
	struct omni_addr	 ep, seen = A("192.168.1.10", WG_PORT);
	struct omni_addr	 rsrc = A("198.51.100.77", 51820);
	struct omni_addr	 rseen = A("203.0.113.50", 51820);
	size_t			 mark;
	int			 ec;
	uint64_t		 t0;

	pc[0].pc_addr = A("192.168.1.20", WG_PORT);
	pc[0].pc_kind = CAND_HOST;
	pc[1].pc_addr = rsrc;
	pc[1].pc_kind = CAND_REFLEXIVE;
	mark = nsent;
	t0 = clk.ms;
	probe_peer(1, keyB, pc, 2, 1, &clk);
	ok(count_to("192.168.1.20", WG_PORT, mark) == 1 &&
	    count_to("198.51.100.77", 51820, mark) == 1,
	    "probe: both candidates probed at once (in parallel)");
	ok(last_path.state == PROBE_RUNNING, "probe: path is running");
	ok(probe_endpoint(1, keyB, &ep) == 0, "probe: no endpoint yet");
	tick_to(t0 + 100);
	ok(count_to("192.168.1.20", WG_PORT, mark) == 2 &&
	    count_to("198.51.100.77", 51820, mark) == 2,
	    "probe: resent after 100 ms");
	ok(last_request_to("198.51.100.77", 51820, &rq_refl) == 0 &&
	    memcmp(rq_refl.pp_from, keyA, 32) == 0 &&
	    memcmp(rq_refl.pp_to, keyB, 32) == 0,
	    "probe: requests are ours and authenticated for B");
	ec = nendpoint_changed;
	clk.ms += 5;
	answer(keyB, &rq_refl, &rsrc, &rseen);
	ok(probe_endpoint(1, keyB, &ep) == 1 &&
	    addr_is(&ep, "198.51.100.77", 51820) &&
	    last_path.state == PROBE_OK &&
	    last_path.kind == CAND_REFLEXIVE && last_path.probe_us > 0 &&
	    nendpoint_changed > ec,
	    "probe: the first answer decides at once (reflexive, %lld us)",
	    (long long)last_path.probe_us);
	ok(probe_next_due() > clk.ms, "probe: nothing is due at once after "
	    "the decision (no busy timer)");
	answer(keyB, &rq_refl, &rsrc, &rseen);
	ok(dropped("unexpected") == 1,
	    "probe: a replayed answer is dropped (its transaction is used)");
	/* the host candidate answers within the grace window: it wins */
	tick_to(clk.ms + 60);
	ok(last_request_to("192.168.1.20", WG_PORT, &rq_host) == 0,
	    "probe: the host candidate is still probed");
	answer(keyB, &rq_host, &pc[0].pc_addr, &seen);
	tick_to(clk.ms + 300);
	ok(probe_endpoint(1, keyB, &ep) == 1 &&
	    addr_is(&ep, "192.168.1.20", WG_PORT) &&
	    last_path.state == PROBE_OK && last_path.kind == CAND_HOST &&
	    addr_is(&last_path.local, "192.168.1.10", WG_PORT),
	    "probe: a host answer in the grace window beats the reflexive");
	mark = nsent;
	tick_to(clk.ms + 3000);
	ok(count_to("192.168.1.20", WG_PORT, mark) == 0 &&
	    count_to("198.51.100.77", 51820, mark) == 0,
	    "probe: nothing more is sent once decided");
}

static void
test_requests(void)
{
	struct probe_pkt	 a;
	struct omni_addr	 src = A("198.51.100.88", 6000);
	uint8_t			 buf[PROBE_PKTLEN], other[32];
	size_t			 mark, i;
	uint64_t		 ts = clk.wall_us;
	double			 rx;

	mark = nsent;
	rx = metric("omni_probe_received_total", "kind=\"request\"");
	request(keyB, keyA, ts, &src, pkey, buf);
	ok(metric("omni_probe_received_total", "kind=\"request\"") == rx + 1 &&
	    nsent == mark + 1 && addr_is(&sent[mark].to, "198.51.100.88",
	    6000) && sent_probe(&sent[mark], &a) == 0 &&
	    a.pp_type == PROBE_ANSWER && a.pp_txid == (0x1122334455667788ULL ^
	    ts) && addr_is(&a.pp_seen, "198.51.100.88", 6000),
	    "request: answered to its source, which it echoes");
	feed(&src, buf, sizeof(buf));
	ok(dropped("replay") == 1 && nsent == mark + 1,
	    "request: a replay is dropped, not answered");
	request(keyB, keyA, ts - 5, &src, pkey, buf);
	ok(dropped("replay") == 1 && nsent == mark + 2,
	    "request: an older one not seen yet passes (reordered)");
	for (i = 0; i < 16; i++)
		request(keyB, keyA, ts + 100 + i, &src, pkey, buf);
	ok(nsent == mark + 18, "request: 16 more answered");
	mark = nsent;
	request(keyB, keyA, ts - 3, &src, pkey, buf);
	ok(dropped("replay") == 2, "request: one below the floor the "
	    "newer ones raised is a replay");
	request(keyB, keyA, ts + 200 - 61000000ULL, &src, pkey, buf);
	ok(dropped("stale") == 1, "request: outside the time window: stale");
	memset(other, 9, sizeof(other));
	request(keyB, keyA, ts + 201, &src, other, buf);
	ok(dropped("bad_mac") == 1, "request: a forgery is dropped");
	request(keyB, keyC, ts + 202, &src, pkey, buf);
	ok(dropped("not_for_us") == 1, "request: for another edge: dropped");
	request(keyA, keyA, ts + 203, &src, pkey, buf);
	ok(dropped("own") == 1, "request: our own, reflected: dropped");
	ok(nsent == mark, "request: none of those got an answer");
	request(other, keyA, ts + 204, &src, pkey, buf);
	ok(nsent == mark + 1 && sent_probe(&sent[mark], &a) == 0 &&
	    memcmp(a.pp_to, other, 32) == 0 && dropped("unknown_peer") == 0,
	    "request: from a cluster key not in our peer set yet: answered "
	    "(the nucleus tells both sides at once)");
	memset(&a, 0, sizeof(a));
	a.pp_type = PROBE_ANSWER;
	memcpy(a.pp_from, other, 32);
	memcpy(a.pp_to, keyA, 32);
	a.pp_txid = 7;
	a.pp_ts = ts + 205;
	probe_pkt_encode(&a, pkey, buf, sizeof(buf));
	feed(&src, buf, sizeof(buf));
	ok(dropped("unknown_peer") == 1 && nsent == mark + 1,
	    "answer: from a key not in our peer set: dropped");
}

static void
test_garbage(void)
{
	uint8_t		 buf[300];
	size_t		 i, n;
	double		 before;
	struct omni_addr src = A("198.51.100.5", 1);

	before = dropped("malformed") + dropped("not_probe");
	for (i = 0; i < 2000; i++) {
		n = 1 + (size_t)randombytes_uniform(sizeof(buf));
		randombytes_buf(buf, n);
		if (i % 2)
			buf[0] = 0x45;
		probe_input(1, buf, n, &clk);
	}
	for (i = 0; i < 100; i++) {
		randombytes_buf(buf, 60);
		memcpy(buf, "OMNP", 4);
		buf[4] = PROBE_VERSION;
		feed(&src, buf, 60 + i);
	}
	ok(dropped("malformed") + dropped("not_probe") > before,
	    "garbage: random datagrams are dropped and counted (%.0f)",
	    dropped("malformed") + dropped("not_probe") - before);
}

static void
test_failure(void)
{
	struct probe_cand	 pc[3];
	struct omni_addr	 ep;
	size_t			 mark;
	uint64_t		 t0;

	pc[0].pc_addr = A("10.9.9.9", WG_PORT);
	pc[0].pc_kind = CAND_HOST;
	pc[1].pc_addr = A("198.51.100.99", 1111);
	pc[1].pc_kind = CAND_REFLEXIVE;
	pc[2].pc_addr = A("198.51.100.99", 2222);
	pc[2].pc_kind = CAND_REFLEXIVE;
	mark = nsent;
	t0 = clk.ms;
	probe_peer(1, keyC, pc, 3, 1, &clk);
	tick_to(t0 + 3200);
	ok(count_to("10.9.9.9", WG_PORT, mark) == 9 &&
	    count_to("198.51.100.99", 1111, mark) == 9,
	    "failure: 9 requests per candidate over 3 s, then none");
	ok(last_path.state == PROBE_FAILED &&
	    probe_endpoint(1, keyC, &ep) == 0,
	    "failure: no answer, FAILED and no endpoint");
	ok(strstr(last_path.reason, "no answer from 3 candidates in 3.0 s")
	    != NULL && strstr(last_path.reason, "both NATs map per "
	    "destination (symmetric)") != NULL,
	    "failure: reason \"%s\"", last_path.reason);
	mark = nsent;
	tick_to(t0 + 3000 + 4800);
	ok(count_to("10.9.9.9", WG_PORT, mark) == 0,
	    "failure: no retry before 5 s");
	tick_to(t0 + 3000 + 6200);
	ok(count_to("10.9.9.9", WG_PORT, mark) > 0 &&
	    last_path.state == PROBE_RUNNING,
	    "failure: retried after 5 s");
	while (last_path.state != PROBE_FAILED && clk.ms < t0 + 20000)
		tick_to(clk.ms + 10);
	mark = nsent;
	tick_to(clk.ms + 9000);
	ok(count_to("10.9.9.9", WG_PORT, mark) == 0,
	    "failure: the next retry waits longer (10 s)");
	tick_to(clk.ms + 2000);
	ok(count_to("10.9.9.9", WG_PORT, mark) > 0,
	    "failure: ... and comes");
	tick_to(clk.ms + 3500);
	probe_peer_gone(1, keyC);
	ok(probe_peer_path(1, keyC, &last_path) == 0,
	    "failure: a peer gone is forgotten");
}

/* STUN went unanswered since test_failure: our NAT is unknown now. */
static void
test_reasons(void)
{
	struct probe_cand	 pc;
	struct peer_path	 pp;
	uint8_t			 kd[32], ke[32];
	uint64_t		 t0 = clk.ms;

	memset(kd, 0xdd, sizeof(kd));
	memset(ke, 0xee, sizeof(ke));
	pc.pc_addr = A("10.8.8.8", WG_PORT);
	pc.pc_kind = CAND_HOST;
	probe_peer(1, kd, &pc, 1, 1, &clk);
	tick_to(t0 + 3200);
	ok(probe_peer_path(1, kd, &pp) == 1 && pp.state == PROBE_FAILED &&
	    strcmp(pp.reason, "no answer from 1 candidates in 3.0 s; our NAT "
	    "unknown (no STUN answer); peer's NAT unknown (no reflexive "
	    "candidate)") == 0,
	    "reasons: \"%s\"", pp.reason);
	pc.pc_addr = A("198.51.100.200", WG_PORT);
	probe_peer(1, kd, &pc, 1, 1, &clk);
	tick_to(clk.ms + 3200);
	ok(probe_peer_path(1, kd, &pp) == 1 && pp.state == PROBE_FAILED &&
	    strstr(pp.reason, "; peer's NAT none (public address)") != NULL,
	    "reasons: \"%s\"", pp.reason);
	probe_peer(1, ke, NULL, 0, 1, &clk);
	ok(probe_peer_path(1, ke, &pp) == 1 && pp.state == PROBE_IDLE &&
	    strcmp(pp.reason, "no candidates from the peer") == 0,
	    "reasons: \"%s\"", pp.reason);
	probe_peer_gone(1, kd);
	probe_peer_gone(1, ke);
}

static void
test_bounded(void)
{
	struct probe_cand	 pc;
	uint8_t			 k[32];
	size_t			 i, mark, dst;
	uint64_t		 t0;

	mark = nsent;
	t0 = clk.ms;
	for (i = 0; i < 200; i++) {
		memset(k, 0, sizeof(k));
		k[0] = 0xa0;
		k[1] = i;
		pc.pc_addr = A("198.18.0.1", 10000 + i);
		pc.pc_kind = CAND_REFLEXIVE;
		probe_peer(1, k, &pc, 1, 1, &clk);
	}
	dst = 0;
	for (i = 0; i < 200; i++)
		if (count_to("198.18.0.1", 10000 + i, mark) > 0)
			dst++;
	ok(dst == 64, "bounded: 200 peers punched, %zu probed at once", dst);
	ok(metric("omni_probe_queued", NULL) == 136,
	    "bounded: the other 136 wait in the queue");
	ok(metric("omni_probe_paths", "state=\"running\"") == 64,
	    "bounded: 64 running");
	tick_to(t0 + 1000);
	ok(nsent - mark <= 400 + 2000,
	    "bounded: %zu requests in the first second (rate limit 2000/s, "
	    "burst 400)", nsent - mark);
	tick_to(t0 + 13000);
	dst = 0;
	for (i = 0; i < 200; i++)
		if (count_to("198.18.0.1", 10000 + i, mark) > 0)
			dst++;
	ok(dst == 200, "bounded: every peer probed in turn (%zu)", dst);
	for (i = 0; i < 200; i++) {
		memset(k, 0, sizeof(k));
		k[0] = 0xa0;
		k[1] = i;
		probe_peer_gone(1, k);
	}
	ok(metric("omni_probe_paths", "state=\"failed\"") == 0 &&
	    metric("omni_probe_paths", "state=\"running\"") == 0,
	    "bounded: all gone");
}

/* A 10,000-peer cluster: everyone punched at once. */
static void
test_many(void)
{
	struct probe_cand	 pc;
	struct timespec		 a, b;
	uint8_t			 k[32];
	size_t			 i, mark = nsent;
	uint64_t		 t0 = clk.ms;
	double			 ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 10000; i++) {
		memset(k, 0, sizeof(k));
		k[0] = 0xb0;
		k[1] = i >> 8;
		k[2] = i & 0xff;
		pc.pc_addr = A("198.18.1.1", 20000 + i % 40000);
		pc.pc_kind = CAND_REFLEXIVE;
		probe_peer(1, k, &pc, 1, 1, &clk);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	ok(metric("omni_probe_paths", "state=\"running\"") == 64 &&
	    metric("omni_probe_queued", NULL) == 10000 - 64,
	    "many: 10,000 peers punched: 64 probed, the rest queued "
	    "(%.1f ms for all)", ms);
	tick_to(t0 + 2000);
	ok(nsent - mark <= 400 + 2 * 2000,
	    "many: %zu requests in 2 s, within the rate limit",
	    nsent - mark);
	for (i = 0; i < 10000; i++) {
		memset(k, 0, sizeof(k));
		k[0] = 0xb0;
		k[1] = i >> 8;
		k[2] = i & 0xff;
		probe_peer_gone(1, k);
	}
	ok(metric("omni_probe_queued", NULL) == 0 &&
	    metric("omni_probe_paths", "state=\"running\"") == 0,
	    "many: all gone, nothing queued or running");
}

static void
test_roam(void)
{
	struct local_addrs	 la;
	struct probe_cand	 c[PROBE_MAX_CANDS];
	struct probe_pkt	 rq;
	struct omni_addr	 ep, rsrc = A("198.51.100.77", 51820);
	struct omni_addr	 rseen = A("203.0.113.60", 51820);
	size_t			 mark, mark2, n;
	uint64_t		 t0;
	int			 before;

	memset(&la, 0, sizeof(la));
	la.ifid = 1;
	la.generation = 2;
	la.naddr = 1;
	la.addr[0] = A("192.168.7.10", 0);
	before = ncands_changed;
	mark = nsent;
	probe_local_addrs(&la, &clk);
	n = probe_local_cands(1, c, PROBE_MAX_CANDS);
	ok(n == 1 && addr_is(&c[0].pc_addr, "192.168.7.10", WG_PORT) &&
	    ncands_changed > before,
	    "roam: the new host candidate is announced at once, old "
	    "mappings dropped");
	ok(stun_sent(mark) == 2, "roam: STUN asked again at once");
	ok(count_to("192.168.1.20", WG_PORT, mark) == 1 &&
	    count_to("198.51.100.77", 51820, mark) == 1,
	    "roam: peer B probed again at once");
	stun_answer_all("203.0.113.60", 51820, "203.0.113.60", 51820, mark);
	n = probe_local_cands(1, c, PROBE_MAX_CANDS);
	ok(n == 2 && c[1].pc_kind == CAND_REFLEXIVE &&
	    addr_is(&c[1].pc_addr, "203.0.113.60", 51820),
	    "roam: one mapping now (endpoint-independent, port kept)");
	probe_local_addrs(&la, &clk);
	ok(stun_sent(mark) == 2, "roam: the same generation again is "
	    "no roam");

	/* the re-run: the reflexive answers, the LAN one does not */
	ok(last_request_to("198.51.100.77", 51820, &rq) == 0,
	    "re-run: a request to B's reflexive candidate");
	clk.ms += 2;
	answer(keyB, &rq, &rsrc, &rseen);
	ok(probe_endpoint(1, keyB, &ep) == 1 &&
	    addr_is(&ep, "192.168.1.20", WG_PORT),
	    "re-run: a reflexive answer first does not replace the LAN path");
	tick_to(clk.ms + 3500);
	ok(probe_endpoint(1, keyB, &ep) == 1 &&
	    addr_is(&ep, "198.51.100.77", 51820) &&
	    last_path.state == PROBE_OK && last_path.kind == CAND_REFLEXIVE,
	    "re-run: the LAN candidate stayed silent, the reflexive one "
	    "takes over");

	/* the NAT forgets us: a new mapping at the periodic STUN */
	mark = nsent;
	t0 = clk.ms;
	while (stun_sent(mark) < 2 && clk.ms < t0 + 30000)
		tick_to(clk.ms + 10);
	ok(stun_sent(mark) == 2 && clk.ms - t0 <= 25000,
	    "mapping: STUN asked again within 25 s (after %llu ms)",
	    (unsigned long long)(clk.ms - t0));
	mark2 = nsent;
	stun_answer_all("203.0.113.60", 40500, "203.0.113.60", 40500, mark);
	n = probe_local_cands(1, c, PROBE_MAX_CANDS);
	ok(n == 2 && addr_is(&c[1].pc_addr, "203.0.113.60", 40500) &&
	    count_to("198.51.100.77", 51820, mark2) == 1,
	    "mapping: a changed mapping is announced and B probed again "
	    "at once");
}

static void
test_no_socket(void)
{
	struct probe_cand	 pc;
	struct omni_addr	 nuclei[1], ep;
	size_t			 i, mark = nsent, n2 = 0;

	nuclei[0] = A("198.51.100.1", 51900);
	probe_iface(2, sigkey, keyA, nuclei, 1, NULL, 0);
	pc.pc_addr = A("198.51.100.77", 51820);
	pc.pc_kind = CAND_REFLEXIVE;
	probe_peer(2, keyB, &pc, 1, 1, &clk);
	tick_to(clk.ms + 500);
	for (i = mark; i < nsent; i++)
		if (sent[i].ifid == 2)
			n2++;
	ok(n2 == 0 && probe_endpoint(2, keyB, &ep) == 0,
	    "no socket: nothing probed, no endpoint (the nucleus's stays)");
	probe_iface_gone(2);
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	memset(sigkey, 0x33, sizeof(sigkey));
	probe_key_derive(sigkey, pkey);
	memset(keyA, 0xaa, sizeof(keyA));
	memset(keyB, 0xbb, sizeof(keyB));
	memset(keyC, 0xcc, sizeof(keyC));
	clk.ms = 1000000;
	clk.wall = 1700000000;
	clk.wall_us = 1700000000ULL * 1000000;
	probe_init(&t_io);

	test_codec();
	test_ip();
	test_gather();
	test_probe_ok();
	test_requests();
	test_garbage();
	test_failure();
	test_reasons();
	test_bounded();
	test_many();
	test_roam();
	test_no_socket();
	ok(busy_ticks == 0, "timer: after a tick nothing is due at once "
	    "(%zu times it was)", busy_ticks);
	return tap_done();
}
