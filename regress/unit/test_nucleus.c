/*
 * Nucleus state and edge state machine, without sockets: datagrams go
 * straight from one function to the other, on a simulated clock.
 */
#include <arpa/inet.h>

#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "signald.h"
#include "tap.h"

#define WALL0	1700000000

static uint8_t		 root[32], kalpha[32], kbeta[32];
static struct sig_clock	 clk;

static void
advance(uint64_t ms)
{
	clk.ms += ms;
	clk.wall = WALL0 + clk.ms / 1000;
}

static void
addr4(struct omni_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sin.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin.sin_addr);
	a->sin.sin_port = htons(port);
}

struct edge_id {
	const char		*cluster;
	const uint8_t		*key;
	uint8_t			 pubkey[32];
	struct omni_prefix	 vip;
	uint16_t		 port;
	struct omni_addr	 src;
};

static void
edge_id(struct edge_id *e, const char *cluster, const uint8_t *key, int n,
    const char *vip, const char *src)
{
	memset(e, 0, sizeof(*e));
	e->cluster = cluster;
	e->key = key;
	memset(e->pubkey, n, sizeof(e->pubkey));
	omni_prefix_parse(vip, &e->vip);
	e->port = 51820 + n;
	addr4(&e->src, src, 40000 + n);
}

/* Send one message of type t from e; decode the answer into a. */
static int
send_msg(struct nucleus *n, const struct edge_id *e, int t,
    struct sig_msg *a, int *rv)
{
	struct sig_msg	 m;
	uint8_t		 d[SIG_MAXDGRAM], reply[SIG_MAXDGRAM];
	size_t		 len, rlen;

	proto_init_msg(&m, t, e->cluster, clk.wall);
	memcpy(m.pubkey, e->pubkey, 32);
	m.vip = e->vip;
	m.port = e->port;
	if (proto_encode(&m, e->key, d, sizeof(d), &len) != SIG_OK)
		return -2;
	*rv = nucleus_input(n, d, len, &e->src, &clk, reply, &rlen);
	if (rlen == 0)
		return 0;
	if (proto_open(reply, rlen, e->key, clk.wall, a) != SIG_OK)
		return -1;
	return a->type;
}

static int
has_peer(const struct sig_msg *a, const struct edge_id *e)
{
	uint32_t	 i;

	for (i = 0; i < a->npeers; i++)
		if (memcmp(a->peers[i].pubkey, e->pubkey, 32) == 0)
			return 1;
	return 0;
}

static void
test_nucleus(void)
{
	struct nucleus	*n;
	struct edge_id	 a, b, c, x, w;
	struct sig_msg	 ans, m;
	uint8_t		 d[SIG_MAXDGRAM], reply[SIG_MAXDGRAM], ip[16], af;
	size_t		 len, rlen;
	int		 rv, t;
	uint8_t		 wrongroot[32], wrongkey[32];
	struct omni_addr src6;

	n = nucleus_new(root, 60);
	edge_id(&a, "alpha", kalpha, 1, "10.0.0.1/24", "192.0.2.1");
	edge_id(&b, "alpha", kalpha, 2, "10.0.0.2/24", "192.0.2.2");
	edge_id(&c, "alpha", kalpha, 3, "10.0.0.1/24", "192.0.2.3");
	edge_id(&x, "beta", kbeta, 4, "10.0.0.9/24", "192.0.2.4");

	t = send_msg(n, &a, SIG_REGISTER, &ans, &rv);
	ok(t == SIG_REGISTER_ACK && rv == SIG_OK && ans.npeers == 0,
	    "first edge registers, no peers");
	ok(nucleus_nedges(n) == 1 && nucleus_nclusters(n) == 1,
	    "one edge in one cluster");
	t = send_msg(n, &b, SIG_REGISTER, &ans, &rv);
	ok(t == SIG_REGISTER_ACK && ans.npeers == 1 && has_peer(&ans, &a),
	    "second edge learns the first");
	ok(ans.peers[0].port == a.port && ans.peers[0].ep_af == AF_INET &&
	    memcmp(ans.peers[0].ep, &a.src.sin.sin_addr, 4) == 0 &&
	    omni_prefix_eq(&ans.peers[0].vip, &a.vip),
	    "endpoint is the source IP and the WireGuard port");
	advance(1000);
	t = send_msg(n, &a, SIG_HEARTBEAT, &ans, &rv);
	ok(t == SIG_HEARTBEAT_ACK && ans.npeers == 1 && has_peer(&ans, &b) &&
	    !has_peer(&ans, &a), "heartbeat answer lists the other, not self");

	/* VIP takeover refused while the holder lives */
	t = send_msg(n, &c, SIG_REGISTER, &ans, &rv);
	ok(t == SIG_NAK && ans.status == SIG_NAK_VIP_TAKEN &&
	    rv == SIG_R_VIP_TAKEN, "VIP held by another key: NAK 2");
	ok(nucleus_nedges(n) == 2, "the refused edge is not added");
	edge_id(&w, "alpha", kalpha, 9, "10.0.0.1/32", "192.0.2.9");
	t = send_msg(n, &w, SIG_QUERY_PEER, &ans, &rv);
	ok(t == SIG_PEER_INFO && ans.npeers == 1 && has_peer(&ans, &a),
	    "query: the holder keeps the VIP");
	w.vip.addr[3] = 77;
	t = send_msg(n, &w, SIG_QUERY_PEER, &ans, &rv);
	ok(t == SIG_PEER_INFO && ans.npeers == 0, "query of a free VIP: empty");

	/* clusters are separate */
	t = send_msg(n, &x, SIG_REGISTER, &ans, &rv);
	ok(t == SIG_REGISTER_ACK && ans.npeers == 0,
	    "other cluster sees nobody");
	ok(nucleus_nclusters(n) == 2 && nucleus_nedges(n) == 3,
	    "two clusters, three edges");
	x.key = kalpha;
	t = send_msg(n, &x, SIG_HEARTBEAT, &ans, &rv);
	ok(t == 0 && rv == SIG_R_BAD_MAC, "alpha's key for beta: bad_mac, "
	    "no answer");
	x.key = kbeta;

	/* a different secret */
	memset(wrongroot, 0x77, sizeof(wrongroot));
	keys_derive_cluster(wrongroot, KEY_PURPOSE_SIGNAL, "gamma", wrongkey);
	edge_id(&w, "gamma", wrongkey, 10, "10.9.0.1/24", "192.0.2.10");
	t = send_msg(n, &w, SIG_REGISTER, &ans, &rv);
	ok(t == 0 && rv == SIG_R_BAD_MAC && nucleus_nclusters(n) == 2,
	    "unknown secret: bad_mac, no answer, no cluster");

	/* heartbeat from an unknown edge */
	edge_id(&w, "alpha", kalpha, 11, "10.0.0.11/24", "192.0.2.11");
	t = send_msg(n, &w, SIG_HEARTBEAT, &ans, &rv);
	ok(t == SIG_NAK && ans.status == SIG_NAK_UNKNOWN_EDGE,
	    "heartbeat from an unknown edge: NAK 1");
	edge_id(&w, "delta", kalpha, 12, "10.0.0.12/24", "192.0.2.12");
	keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, "delta", wrongkey);
	w.key = wrongkey;
	t = send_msg(n, &w, SIG_HEARTBEAT, &ans, &rv);
	ok(t == SIG_NAK && ans.status == SIG_NAK_UNKNOWN_EDGE &&
	    nucleus_nclusters(n) == 2,
	    "heartbeat in a cluster not seen yet: NAK 1, nothing cached");

	/* stale and replayed */
	proto_init_msg(&m, SIG_HEARTBEAT, "alpha", clk.wall - 61);
	memcpy(m.pubkey, a.pubkey, 32);
	proto_encode(&m, kalpha, d, sizeof(d), &len);
	rv = nucleus_input(n, d, len, &a.src, &clk, reply, &rlen);
	ok(rv == SIG_R_STALE && rlen == 0, "61 s old heartbeat: stale");
	proto_init_msg(&m, SIG_HEARTBEAT, "alpha", clk.wall);
	memcpy(m.pubkey, a.pubkey, 32);
	proto_encode(&m, kalpha, d, sizeof(d), &len);
	rv = nucleus_input(n, d, len, &a.src, &clk, reply, &rlen);
	ok(rv == SIG_OK && rlen > 0, "fresh heartbeat answered");
	rv = nucleus_input(n, d, len, &a.src, &clk, reply, &rlen);
	ok(rv == SIG_R_STALE && rlen == 0, "the same heartbeat again: stale");
	proto_init_msg(&m, SIG_HEARTBEAT, "alpha", clk.wall - 5);
	memcpy(m.pubkey, a.pubkey, 32);
	proto_encode(&m, kalpha, d, sizeof(d), &len);
	rv = nucleus_input(n, d, len, &a.src, &clk, reply, &rlen);
	ok(rv == SIG_R_STALE, "older than the latest: stale");

	/* wrong direction */
	proto_init_msg(&m, SIG_REGISTER_ACK, "alpha", clk.wall);
	proto_encode(&m, kalpha, d, sizeof(d), &len);
	rv = nucleus_input(n, d, len, &a.src, &clk, reply, &rlen);
	ok(rv == SIG_R_UNKNOWN_TYPE && rlen == 0, "REGISTER_ACK to a nucleus: "
	    "unknown_type");

	/* the endpoint follows the source, IPv4-mapped becomes IPv4 */
	memset(&src6, 0, sizeof(src6));
	src6.sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:198.51.100.7", &src6.sin6.sin6_addr);
	src6.sin6.sin6_port = htons(999);
	ok(proto_addr_ip(&src6, &af, ip) == 0 && af == AF_INET &&
	    ip[0] == 198 && ip[3] == 7, "IPv4-mapped source is IPv4");
	advance(1000);
	b.src = src6;
	t = send_msg(n, &b, SIG_HEARTBEAT, &ans, &rv);
	advance(1000);
	t = send_msg(n, &a, SIG_HEARTBEAT, &ans, &rv);
	ok(t == SIG_HEARTBEAT_ACK && ans.npeers == 1 &&
	    ans.peers[0].ep_af == AF_INET && ans.peers[0].ep[0] == 198 &&
	    ans.peers[0].port == b.port, "heartbeat moves the endpoint");

	/* deregister */
	advance(1000);
	t = send_msg(n, &b, SIG_DEREGISTER, &ans, &rv);
	ok(t == 0 && rv == SIG_OK && nucleus_nedges(n) == 2,
	    "deregister removes at once, no answer");
	advance(1000);
	t = send_msg(n, &a, SIG_HEARTBEAT, &ans, &rv);
	ok(t == SIG_HEARTBEAT_ACK && ans.npeers == 0, "the other is gone");

	/* expiry: a heartbeats, x (beta) does not */
	advance(30000);
	send_msg(n, &a, SIG_HEARTBEAT, &ans, &rv);
	advance(31000);
	nucleus_expire(n, &clk);
	ok(nucleus_nedges(n) == 1 && nucleus_nclusters(n) == 1,
	    "silent edge expired, empty cluster gone");
	t = send_msg(n, &x, SIG_HEARTBEAT, &ans, &rv);
	ok(t == SIG_NAK && ans.status == SIG_NAK_UNKNOWN_EDGE,
	    "expired edge gets NAK 1");

	/* the holder of a VIP dies: before the sweep c may take it */
	advance(61000);
	t = send_msg(n, &c, SIG_REGISTER, &ans, &rv);
	ok(t == SIG_REGISTER_ACK && ans.npeers == 0,
	    "VIP of an expired holder can be taken");
	t = send_msg(n, &a, SIG_HEARTBEAT, &ans, &rv);
	ok(t == SIG_NAK && ans.status == SIG_NAK_UNKNOWN_EDGE,
	    "the old holder must register again");
	t = send_msg(n, &a, SIG_REGISTER, &ans, &rv);
	ok(t == SIG_NAK && ans.status == SIG_NAK_VIP_TAKEN,
	    "and finds its VIP taken");
	/* an edge may move to another VIP */
	advance(1000);
	omni_prefix_parse("10.0.0.50/24", &a.vip);
	t = send_msg(n, &a, SIG_REGISTER, &ans, &rv);
	ok(t == SIG_REGISTER_ACK && has_peer(&ans, &c), "moved to a free VIP");
	omni_prefix_parse("10.0.0.51/24", &a.vip);
	advance(1000);
	t = send_msg(n, &a, SIG_REGISTER, &ans, &rv);
	omni_prefix_parse("10.0.0.50/32", &w.vip);
	w.key = kalpha;
	w.cluster = "alpha";
	t = send_msg(n, &w, SIG_QUERY_PEER, &ans, &rv);
	ok(t == SIG_PEER_INFO && ans.npeers == 0 && nucleus_nedges(n) == 2,
	    "re-registering with a new VIP frees the old one");

	nucleus_free(n);
}

static void
test_ratelimit(void)
{
	struct nucleus		*n;
	struct omni_addr	 a, b;
	int			 i, okcount = 0;

	n = nucleus_new(root, 60);
	addr4(&a, "192.0.2.1", 1);
	addr4(&b, "192.0.2.2", 1);
	for (i = 0; i < 100; i++)
		if (nucleus_ratelimit(n, &a, 5000) == 0)
			okcount++;
	ok(okcount == RL_BURST, "burst of %d from one source", okcount);
	ok(nucleus_ratelimit(n, &b, 5000) == 0, "another source unaffected");
	ok(nucleus_ratelimit(n, &a, 5049) == -1, "49 ms later still limited");
	ok(nucleus_ratelimit(n, &a, 5050) == 0, "50 ms later: one token");
	for (okcount = 0, i = 0; i < 100; i++)
		if (nucleus_ratelimit(n, &a, 6050) == 0)
			okcount++;
	ok(okcount == RL_RATE, "one second later: %d more", okcount);
	/* many sources: the table stays bounded and sane */
	for (okcount = 0, i = 0; i < 100000; i++) {
		memset(&a, 0, sizeof(a));
		a.sin.sin_family = AF_INET;
		a.sin.sin_addr.s_addr = htonl(0x0a000000 + i);
		if (nucleus_ratelimit(n, &a, 10000 + i / 10) == 0)
			okcount++;
	}
	ok(okcount > 0, "100000 sources: %d accepted by the global bucket",
	    okcount);
	nucleus_free(n);
}

/* Many edges: answers fit, and who lists whom is symmetric. */
static void
test_truncation(void)
{
	struct nucleus	*n;
	struct edge_id	 e[60];
	struct sig_msg	 ans;
	uint8_t		 lists[60][60];
	char		 vip[32], src[32];
	int		 i, j, rv, t, sym = 1, sizes = 1, minp = 100;

	n = nucleus_new(root, 60);
	memset(lists, 0, sizeof(lists));
	for (i = 0; i < 60; i++) {
		snprintf(vip, sizeof(vip), "10.0.1.%d/24", i + 1);
		snprintf(src, sizeof(src), "192.0.2.%d", i + 1);
		edge_id(&e[i], "alpha", kalpha, i + 1, vip, src);
		send_msg(n, &e[i], SIG_REGISTER, &ans, &rv);
	}
	ok(nucleus_nedges(n) == 60, "60 edges registered");
	advance(1000);
	for (i = 0; i < 60; i++) {
		t = send_msg(n, &e[i], SIG_HEARTBEAT, &ans, &rv);
		if (t != SIG_HEARTBEAT_ACK)
			sizes = 0;
		if ((int)ans.npeers < minp)
			minp = ans.npeers;
		for (j = 0; j < 60; j++)
			if (has_peer(&ans, &e[j]))
				lists[i][j] = 1;
		if (lists[i][i])
			sizes = 0;
	}
	ok(sizes, "every answer decodes and leaves out self");
	ok(minp >= 16, "each answer lists %d or more peers", minp);
	for (i = 0; i < 60; i++)
		for (j = 0; j < 60; j++)
			if (lists[i][j] != lists[j][i])
				sym = 0;
	ok(sym, "if A lists B then B lists A");
	nucleus_free(n);
}

/* --- edge against nucleus, in memory -------------------------------- */

struct qd {
	uint32_t		 ifid;
	struct omni_addr	 to;
	uint8_t			 d[SIG_MAXDGRAM];
	size_t			 len;
};

static struct qd	 queue[256];
static int		 nqueue;
static int		 nsent[SIG_TYPE_MAX + 1];
static struct nucleus	*nuc;
static struct omni_addr	 nucaddr;
static int		 nemit[3];
static size_t		 lastset[3];
static struct omni_peer	 lastpeers[3][EDGE_MAX_PEERS];

static int
t_send(uint32_t ifid, const struct omni_addr *to, const uint8_t *d,
    size_t len)
{
	if (nqueue == 256)
		return -1;
	queue[nqueue].ifid = ifid;
	queue[nqueue].to = *to;
	memcpy(queue[nqueue].d, d, len);
	queue[nqueue].len = len;
	nqueue++;
	nsent[d[1]]++;
	return 0;
}

static void
t_peers(uint32_t ifid, const struct omni_peer *p, size_t n)
{
	if (ifid > 2)
		return;
	nemit[ifid]++;
	lastset[ifid] = n;
	memcpy(lastpeers[ifid], p, n * sizeof(*p));
}

/* Deliver what the edges sent; with drop set, lose it all. */
static void
pump(int drop)
{
	struct omni_addr	 src;
	uint8_t			 reply[SIG_MAXDGRAM];
	size_t			 rlen;
	int			 i, n;

	while (nqueue > 0) {
		n = nqueue;
		for (i = 0; i < n; i++) {
			if (drop || nuc == NULL)
				continue;
			addr4(&src, "127.0.0.1", 20000 + queue[i].ifid);
			nucleus_input(nuc, queue[i].d, queue[i].len, &src, &clk,
			    reply, &rlen);
			if (rlen > 0)
				edge_input(queue[i].ifid, reply, rlen,
				    &nucaddr, &clk);
		}
		memmove(queue, queue + n, (nqueue - n) * sizeof(queue[0]));
		nqueue -= n;
	}
}

static void
mk_iface(struct sig_iface *si, uint32_t ifid, const char *vip)
{
	memset(si, 0, sizeof(*si));
	si->ifid = ifid;
	snprintf(si->name, sizeof(si->name), "omni%u", ifid);
	strlcpy(si->cluster, "alpha", sizeof(si->cluster));
	memcpy(si->key, kalpha, 32);
	memset(si->pubkey, 0x40 + ifid, 32);
	omni_prefix_parse(vip, &si->vip);
	si->wg_port = 51820 + ifid;
	si->heartbeat = 10;
	si->nnuclei = 1;
	si->nuclei[0] = nucaddr;
}

static void
run_for(int seconds, int drop)
{
	int	 i;

	for (i = 0; i < seconds; i++) {
		advance(1000);
		edge_tick(&clk);
		pump(drop);
	}
}

static void
test_edge(void)
{
	static const struct edge_io	 io = { t_send, t_peers };
	struct sig_iface		 ifs[2];
	char				 name[16];
	int				 reg, before, regs;

	addr4(&nucaddr, "127.0.0.1", 20999);
	nuc = nucleus_new(root, 60);
	edge_init(&io);
	mk_iface(&ifs[0], 1, "10.0.0.1/24");
	mk_iface(&ifs[1], 2, "10.0.0.2/24");
	ok(edge_iface_valid(&ifs[0]) && edge_iface_valid(&ifs[1]),
	    "interfaces valid");
	edge_reconf(ifs, 2, &clk);
	ok(edge_has_iface(1) && edge_has_iface(2) && !edge_has_iface(3),
	    "two interfaces");
	edge_tick(&clk);
	ok(nsent[SIG_REGISTER] == 2, "both register at once");
	pump(0);
	ok(nucleus_nedges(nuc) == 2, "nucleus holds both");
	ok(edge_status(0, name, sizeof(name), &reg) && reg &&
	    strcmp(name, "omni1") == 0, "omni1 registered");
	ok(nemit[1] == 1 && lastset[1] == 0,
	    "first registration reports an empty set once");
	ok(nemit[2] == 1 && lastset[2] == 1 &&
	    memcmp(lastpeers[2][0].pubkey, ifs[0].pubkey, 32) == 0,
	    "the second learns the first");
	ok(lastpeers[2][0].endpoint.sin.sin_family == AF_INET &&
	    omni_addr_port(&lastpeers[2][0].endpoint) == 51821 &&
	    lastpeers[2][0].ifid == 2 &&
	    omni_prefix_eq(&lastpeers[2][0].vip, &ifs[0].vip),
	    "peer endpoint and VIP as registered");

	run_for(10, 0);
	ok(nsent[SIG_HEARTBEAT] == 2, "heartbeats after 10 s");
	ok(nemit[1] == 2 && lastset[1] == 1 &&
	    memcmp(lastpeers[1][0].pubkey, ifs[1].pubkey, 32) == 0,
	    "the first learns the second from its heartbeat answer");
	run_for(20, 0);
	ok(nemit[1] == 2 && nemit[2] == 1, "no change, nothing reported");

	/* the nucleus goes silent: back to registering, set kept */
	before = nsent[SIG_REGISTER];
	run_for(31, 1);
	ok(edge_status(0, name, sizeof(name), &reg) && !reg,
	    "no answer for 3 heartbeats: not registered");
	ok(nsent[SIG_REGISTER] > before, "registering again");
	ok(nemit[1] == 2 && lastset[1] == 1, "the peer set is kept");
	/* backoff: 1, 2, 4, 8, 10, 10 ... */
	before = nsent[SIG_REGISTER];
	run_for(60, 1);
	regs = (nsent[SIG_REGISTER] - before) / 2;
	ok(regs >= 5 && regs <= 8, "%d registrations in 60 s of silence",
	    regs);

	/* the nucleus restarts empty: heartbeats get NAK 1 */
	nucleus_free(nuc);
	nuc = nucleus_new(root, 60);
	run_for(12, 0);
	ok(nucleus_nedges(nuc) == 2, "both registered with the new nucleus");
	ok(edge_status(1, name, sizeof(name), &reg) && reg,
	    "omni2 registered again");
	run_for(11, 0);
	before = nsent[SIG_REGISTER];
	nucleus_free(nuc);
	nuc = nucleus_new(root, 60);
	run_for(10, 0);
	ok(nsent[SIG_REGISTER] - before == 2 && nucleus_nedges(nuc) == 2,
	    "NAK 1 makes both register at once");
	ok(nemit[1] == 2 && nemit[2] == 1, "and nothing changed for wgctld");

	/* interface 2 goes away: it leaves the nucleus */
	before = nsent[SIG_DEREGISTER];
	edge_reconf(ifs, 1, &clk);
	ok(nsent[SIG_DEREGISTER] - before == 1 && !edge_has_iface(2),
	    "removed interface sends DEREGISTER");
	pump(0);
	ok(nucleus_nedges(nuc) == 1, "and is gone from the nucleus");
	run_for(10, 0);
	ok(nemit[1] == 3 && lastset[1] == 0, "omni1 reports the empty set");

	/* a new VIP re-registers */
	before = nsent[SIG_REGISTER];
	omni_prefix_parse("10.0.0.100/24", &ifs[0].vip);
	edge_reconf(ifs, 1, &clk);
	run_for(1, 0);
	ok(nsent[SIG_REGISTER] - before == 1, "new VIP: registered again");

	/* shutdown */
	before = nsent[SIG_DEREGISTER];
	edge_shutdown(&clk);
	ok(nsent[SIG_DEREGISTER] - before == 1, "shutdown: DEREGISTER");
	pump(0);
	ok(nucleus_nedges(nuc) == 0, "nucleus empty");
	edge_reconf(ifs, 0, &clk);
	pump(0);
	nucleus_free(nuc);
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	memset(root, 0x42, sizeof(root));
	keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, "alpha", kalpha);
	keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, "beta", kbeta);
	clk.ms = 1000000;
	clk.wall = WALL0 + clk.ms / 1000;
	test_nucleus();
	test_ratelimit();
	test_truncation();
	test_edge();
	return tap_done();
}
