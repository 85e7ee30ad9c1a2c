/*
 * Nucleus state and edge state machine (protocol v2), without
 * sockets: datagrams go straight from one function to the other, on
 * a simulated clock.  The first half drives the nucleus with
 * hand-made edges (proto.c only), the second wires edge.c to it.
 */
#include <arpa/inet.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "probe.h"
#include "ptab.h"
#include "signald.h"
#include "tap.h"

#define WALL0	1700000000ULL

static uint8_t		 root[32], namekey[32], npriv[32], npub[32];
static struct sig_clock	 clk;
static struct sig_out	 out;
static struct sig_msg	 ans[SIG_PAGE_PARTS];
static size_t		 nans;

static void
advance(uint64_t ms)
{
	clk.ms += ms;
	clk.wall_us += ms * 1000;
	clk.wall = clk.wall_us / 1000000;
}

static void
addr4(struct omni_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sin.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin.sin_addr);
	a->sin.sin_port = htons(port);
}

/* A hand-made edge: the real protocol, driven step by step. */
struct sedge {
	const char		*cluster;
	struct sig_ckeys	 ck;
	uint8_t			 pub[32];
	uint8_t			 priv[32];
	uint8_t			 proof[32];
	struct omni_prefix	 vip;
	uint16_t		 port;
	struct omni_addr	 src;
	uint8_t			 cookie[16];
	int			 has_cookie;
	uint64_t		 tlast;
	uint64_t		 epoch;
	uint64_t		 cur;
	uint64_t		 base;
	int			 full;
	struct ptab		 view, stage;
	uint8_t			 last[SIG_MAXDGRAM];	/* last sent */
	size_t			 lastlen;
	int			 with_cands;	/* a v2.1 edge */
	uint8_t			 ncands;
	struct sig_cand		 cands[SIG_MAX_CANDS];
	int			 punched;	/* PUNCHes received */
	struct sig_peer		 punch;		/* the latest one's entry */
	uint64_t		 punch_time;
};

static void
sedge_init(struct sedge *e, const char *cluster, int n, const char *vip,
    const char *src)
{
	uint8_t	 sig[32];

	memset(e, 0, sizeof(*e));
	e->cluster = cluster;
	keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, cluster, sig);
	proto_cluster_keys(sig, &e->ck);
	crypto_box_keypair(e->pub, e->priv);
	keys_dh(e->priv, e->pub, npub, e->proof);
	omni_prefix_parse(vip, &e->vip);
	e->port = 51820 + n;
	addr4(&e->src, src, 40000 + n);
	e->full = 1;
	ptab_init(&e->view, 100000);
	ptab_init(&e->stage, 100000);
}

static void
sedge_free(struct sedge *e)
{
	ptab_free(&e->view);
	ptab_free(&e->stage);
}

/* Open every answer in out into ans[]; -1 if one does not open. */
static int
open_answers(struct sedge *e)
{
	static struct sig_rx	 rx;
	size_t			 i;

	nans = 0;
	for (i = 0; i < out.n; i++) {
		if (out.len[i] > SIG_MAXDGRAM ||
		    proto_open_down(&rx, out.buf[i], out.len[i], e->ck.down) !=
		    SIG_OK)
			return -1;
		if (rx.m.type != SIG_CHALLENGE && !proto_auth_ok(&rx,
		    e->proof))
			return -1;
		ans[nans++] = rx.m;
	}
	return 0;
}

#define X_AUTH		0x1	/* with auth (the edge's own proof) */
#define X_COOKIE	0x2
#define X_SYNC		0x4
#define X_BADAUTH	0x8	/* auth with a wrong key */

/* Send one message of type t; returns nucleus_input's verdict. */
static int
xchg(struct nucleus *n, struct sedge *e, int t, int how)
{
	struct sig_msg	 m;
	uint8_t		 wrong[32];
	const uint8_t	*auth = NULL;
	int		 rv;

	proto_init_msg(&m, t, proto_next_time(&e->tlast, &clk));
	memcpy(m.pubkey, e->pub, 32);
	m.vip = e->vip;
	m.port = e->port;
	if ((how & X_COOKIE) && e->has_cookie) {
		memcpy(m.cookie, e->cookie, 16);
		m.fields |= SIG_F(SIG_K_COOKIE);
	}
	if (how & X_SYNC) {
		m.fields |= SIG_F_SYNC;
		m.epoch = e->epoch;
		m.from = e->cur;
		m.flags = e->full ? SIG_FL_FULL : 0;
		if (e->full) {
			m.base = e->base;
			m.fields |= SIG_F(SIG_K_BASE);
		}
	}
	if (e->with_cands && (t == SIG_REGISTER || t == SIG_HEARTBEAT)) {
		m.fields |= SIG_F(SIG_K_CANDS);
		m.ncands = e->ncands;
		memcpy(m.cands, e->cands, sizeof(m.cands));
	}
	if (how & X_AUTH)
		auth = e->proof;
	if (how & X_BADAUTH) {
		memset(wrong, 0x5a, sizeof(wrong));
		auth = wrong;
	}
	if (proto_seal(&m, SIG_KIND_UP, e->cluster, namekey, e->ck.up, auth,
	    e->last, sizeof(e->last), &e->lastlen) != SIG_OK)
		return -100;
	rv = nucleus_input(n, e->last, e->lastlen, &e->src, &clk, &out);
	if (open_answers(e) == -1)
		return -101;
	return rv;
}

/* Apply answers as an edge would (in order only); 1 when up to date. */
static int
sedge_apply(struct sedge *e)
{
	size_t		 i, k;
	int		 done = 0;

	for (i = 0; i < nans; i++) {
		const struct sig_msg	*a = &ans[i];

		if (a->type == SIG_CHALLENGE) {
			memcpy(e->cookie, a->cookie, 16);
			e->has_cookie = 1;
			continue;
		}
		if (a->type != SIG_REGISTER_ACK &&
		    a->type != SIG_HEARTBEAT_ACK)
			continue;
		memcpy(e->cookie, a->cookie, 16);
		if ((a->flags & SIG_FL_FULL) && a->from == 0) {
			ptab_clear(&e->stage);
			e->full = 1;
			e->epoch = a->epoch;
			e->base = a->base;
			e->cur = 0;
		}
		if (a->from != e->cur)
			continue;
		for (k = 0; k < a->npeers; k++) {
			struct ptab	*t = e->full ? &e->stage : &e->view;

			if (a->peers[k].removed)
				ptab_del(t, a->peers[k].pubkey);
			else
				ptab_put(t, &a->peers[k], 1, 0);
		}
		e->cur = a->to;
		if ((a->flags & SIG_FL_MORE) == 0) {
			if (e->full) {
				ptab_swap(&e->view, &e->stage);
				ptab_clear(&e->stage);
				e->full = 0;
			}
			done = 1;
		}
	}
	return done;
}

/* Register from scratch: bare REGISTER, CHALLENGE, REGISTER. */
static int
sedge_join(struct nucleus *n, struct sedge *e)
{
	int	 rv;

	if ((rv = xchg(n, e, SIG_REGISTER, 0)) != SIG_OK || nans != 1 ||
	    ans[0].type != SIG_CHALLENGE)
		return -1;
	sedge_apply(e);
	if ((rv = xchg(n, e, SIG_REGISTER, X_AUTH | X_COOKIE)) != SIG_OK)
		return rv;
	if (nans == 0 || ans[0].type != SIG_REGISTER_ACK)
		return -2;
	sedge_apply(e);
	return 0;
}

/* Heartbeats until up to date (pages of MORE). */
static int
sedge_sync(struct nucleus *n, struct sedge *e)
{
	int	 i, rv;

	for (i = 0; i < 1000; i++) {
		if ((rv = xchg(n, e, SIG_HEARTBEAT, X_AUTH | X_COOKIE |
		    X_SYNC)) != SIG_OK) {
			printf("# heartbeat: %s\n", proto_reason_name(rv));
			return -1;
		}
		if (sedge_apply(e))
			return 0;
		advance(100);
	}
	return -1;
}

static int
sedge_has(struct sedge *e, struct sedge *p)
{
	return ptab_get(&e->view, p->pub) != NULL;
}

static void
test_register(void)
{
	struct nucleus	*n;
	struct sedge	 a, b, c, forger;
	struct sig_peer	 p;
	uint64_t	 drops, v, before;
	size_t		 len;
	int		 rv;

	n = nucleus_new(root, npriv, npub, 60);
	sedge_init(&a, "alpha", 1, "10.0.0.1/24", "192.0.2.1");
	sedge_init(&b, "alpha", 2, "10.0.0.2/24", "192.0.2.2");
	sedge_init(&c, "alpha", 3, "10.0.0.3/24", "192.0.2.3");

	rv = xchg(n, &a, SIG_REGISTER, 0);
	ok(rv == SIG_OK && nans == 1 && ans[0].type == SIG_CHALLENGE,
	    "bare REGISTER: CHALLENGE");
	ok(memcmp(ans[0].nkey, npub, 32) == 0, "carrying the nucleus key");
	ok(out.len[0] <= a.lastlen, "no longer than the request (%zu <= %zu)",
	    out.len[0], a.lastlen);
	ok(nucleus_nedges(n) == 0, "and no state");
	sedge_apply(&a);
	rv = xchg(n, &a, SIG_REGISTER, X_AUTH | X_COOKIE);
	ok(rv == SIG_OK && nans == 1 && ans[0].type == SIG_REGISTER_ACK &&
	    ans[0].npeers == 0, "REGISTER with proof: REGISTER_ACK");
	ok((ans[0].flags & (SIG_FL_FULL | SIG_FL_LAST)) ==
	    (SIG_FL_FULL | SIG_FL_LAST) && ans[0].to == 1,
	    "a full sync, one part, version 1");
	sedge_apply(&a);
	ok(nucleus_edge_state(n, "alpha", a.pub, &p) == 1 &&
	    p.port == 51821 && p.ep_af == AF_INET && p.ep[3] == 1,
	    "A live with its endpoint");

	ok(sedge_join(n, &b) == 0 && sedge_has(&b, &a), "B joins, sees A");
	ok(sedge_sync(n, &a) == 0 && sedge_has(&a, &b),
	    "A's heartbeat brings B (a delta)");
	ok(nans == 1 && (ans[0].flags & SIG_FL_FULL) == 0 &&
	    ans[0].npeers == 1, "the delta holds one entry");
	ok(sedge_sync(n, &a) == 0 && nans == 1 && ans[0].npeers == 0,
	    "nothing new: an empty delta");

	/* takeover of A's VIP by C's key */
	c.vip = a.vip;
	drops = sig_stats.dropped[SIG_R_VIP_TAKEN];
	rv = sedge_join(n, &c);
	ok(rv == SIG_R_VIP_TAKEN && nans == 1 && ans[0].type == SIG_NAK &&
	    ans[0].status == SIG_NAK_VIP_TAKEN, "VIP takeover: NAK 2");
	ok(sig_stats.dropped[SIG_R_VIP_TAKEN] == drops + 1,
	    "counted as vip_taken");
	ok(nucleus_edge_state(n, "alpha", c.pub, NULL) == -1 &&
	    nucleus_edge_state(n, "alpha", a.pub, &p) == 1 &&
	    memcmp(p.vip.addr, a.vip.addr, 4) == 0, "A keeps its VIP");
	omni_prefix_parse("10.0.0.3/24", &c.vip);
	ok(sedge_join(n, &c) == 0, "C with its own VIP joins");

	/* a forger with the secret but not A's private key */
	sedge_init(&forger, "alpha", 9, "10.0.0.1/24", "192.0.2.99");
	memcpy(forger.pub, a.pub, 32);		/* claims A's key */
	v = nucleus_cluster_version(n, "alpha", NULL);
	rv = xchg(n, &forger, SIG_REGISTER, 0);
	ok(rv == SIG_OK && nans == 1 && ans[0].type == SIG_CHALLENGE,
	    "forger gets a cookie for its own address");
	sedge_apply(&forger);
	drops = sig_stats.dropped[SIG_R_BAD_PROOF];
	rv = xchg(n, &forger, SIG_REGISTER, X_AUTH | X_COOKIE);
	ok(rv == SIG_R_BAD_PROOF && nans == 0, "REGISTER as A: bad_proof");
	rv = xchg(n, &forger, SIG_HEARTBEAT, X_BADAUTH | X_COOKIE | X_SYNC);
	ok(rv == SIG_R_BAD_PROOF && nans == 0, "HEARTBEAT as A: bad_proof");
	rv = xchg(n, &forger, SIG_DEREGISTER, X_BADAUTH);
	ok(rv == SIG_R_BAD_PROOF, "DEREGISTER as A: bad_proof");
	ok(sig_stats.dropped[SIG_R_BAD_PROOF] == drops + 3, "all counted");
	ok(nucleus_edge_state(n, "alpha", a.pub, &p) == 1 && p.ep[3] == 1 &&
	    nucleus_cluster_version(n, "alpha", NULL) == v,
	    "A's endpoint did not move, nothing changed");

	/* replays of A's heartbeat, from A's address and another one */
	ok(sedge_sync(n, &a) == 0, "A heartbeats");
	memcpy(forger.last, a.last, a.lastlen);
	drops = sig_stats.dropped[SIG_R_REPLAY];
	rv = nucleus_input(n, a.last, a.lastlen, &a.src, &clk, &out);
	ok(rv == SIG_R_REPLAY && out.n == 0, "replayed from A's address: "
	    "replay");
	rv = nucleus_input(n, forger.last, a.lastlen, &forger.src, &clk,
	    &out);
	ok(rv == SIG_R_BAD_COOKIE && out.n <= 1, "replayed from elsewhere: "
	    "bad_cookie, at most a CHALLENGE");
	ok(out.n == 0 || out.len[0] <= a.lastlen, "no longer than received");
	ok(sig_stats.dropped[SIG_R_REPLAY] == drops + 1 &&
	    nucleus_edge_state(n, "alpha", a.pub, &p) == 1 && p.ep[3] == 1,
	    "A's endpoint did not move");

	/* stale */
	before = sig_stats.dropped[SIG_R_STALE];
	v = a.tlast;
	a.tlast = clk.wall_us + 61000000ULL;
	rv = xchg(n, &a, SIG_HEARTBEAT, X_AUTH | X_COOKIE | X_SYNC);
	a.tlast = v;
	ok(rv == SIG_R_STALE && sig_stats.dropped[SIG_R_STALE] == before + 1,
	    "a clock 61 s ahead: stale");

	/* NAT rebinding: a new source needs a new cookie first */
	addr4(&b.src, "192.0.2.22", 41000);
	rv = xchg(n, &b, SIG_HEARTBEAT, X_AUTH | X_COOKIE | X_SYNC);
	ok(rv == SIG_R_BAD_COOKIE && nans == 1 &&
	    ans[0].type == SIG_CHALLENGE, "new source: CHALLENGE");
	sedge_apply(&b);
	v = nucleus_cluster_version(n, "alpha", NULL);
	ok(sedge_sync(n, &b) == 0 && nucleus_edge_state(n, "alpha", b.pub,
	    &p) == 1 && p.ep[3] == 22 &&
	    nucleus_cluster_version(n, "alpha", NULL) == v + 1,
	    "then the heartbeat moves B's endpoint (a change)");
	ok(sedge_sync(n, &a) == 0 && ptab_get(&a.view, b.pub)->pe_peer.ep[3] ==
	    22, "A learns B's new endpoint");

	/* DEREGISTER, and replays of it and of older messages */
	ok(xchg(n, &c, SIG_DEREGISTER, X_AUTH) == SIG_OK && nans == 0 &&
	    nucleus_edge_state(n, "alpha", c.pub, NULL) == 0,
	    "C deregisters: a tombstone");
	ok(sedge_sync(n, &a) == 0 && !sedge_has(&a, &c),
	    "A's next heartbeat removes C");
	memcpy(forger.last, c.last, c.lastlen);
	ok(nucleus_input(n, c.last, c.lastlen, &c.src, &clk, &out) ==
	    SIG_R_REPLAY, "replayed DEREGISTER: replay");
	ok(nucleus_nedges(n) == 2, "two live edges");

	/* QUERY_PEER */
	struct sedge	 q = a;
	q.vip = b.vip;
	ok(xchg(n, &q, SIG_QUERY_PEER, X_AUTH | X_COOKIE) == SIG_OK &&
	    nans == 1 && ans[0].type == SIG_PEER_INFO && ans[0].npeers == 1 &&
	    memcmp(ans[0].peers[0].pubkey, b.pub, 32) == 0,
	    "QUERY_PEER finds B by VIP");
	a.tlast = q.tlast;
	q.vip = c.vip;
	ok(xchg(n, &q, SIG_QUERY_PEER, X_AUTH | X_COOKIE) == SIG_OK &&
	    nans == 1 && ans[0].npeers == 0, "C's VIP: nobody");
	a.tlast = q.tlast;

	/* expiry, tombstone purge and the floor */
	advance(30000);
	ok(sedge_sync(n, &a) == 0, "A heartbeats at 30 s");
	advance(31000);
	nucleus_expire(n, &clk);
	ok(nucleus_edge_state(n, "alpha", b.pub, NULL) == 0 &&
	    nucleus_nedges(n) == 1, "B expired after 60 s of silence");
	ok(sedge_sync(n, &a) == 0 && !sedge_has(&a, &b), "A drops B");
	for (rv = 0, len = 0; len < 4; len++) {
		advance(SIG_TOMBSTONE_SECS * 1000 / 4);
		rv |= sedge_sync(n, &a);
	}
	ok(rv == 0, "A heartbeats every 30 s");
	nucleus_expire(n, &clk);
	ok(nucleus_edge_state(n, "alpha", b.pub, NULL) == -1,
	    "B's tombstone purged after 120 s");
	nucleus_cluster_version(n, "alpha", &v);
	ok(v > 0, "the floor rose to %llu", (unsigned long long)v);
	b.full = 0;
	b.cur = 1;
	b.epoch = a.epoch;
	rv = xchg(n, &b, SIG_HEARTBEAT, X_AUTH | X_COOKIE | X_SYNC);
	ok(rv == SIG_OK && nans == 1 && ans[0].type == SIG_NAK &&
	    ans[0].status == SIG_NAK_UNKNOWN_EDGE, "forgotten B: NAK 1");
	ok(sedge_join(n, &b) == 0 && sedge_has(&b, &a) && !b.full,
	    "B registers again");
	a.cur = 0;
	a.full = 0;
	ok(sedge_sync(n, &a) == 0 && (ans[0].flags & SIG_FL_FULL) &&
	    sedge_has(&a, &b), "a delta from below the floor: full sync");

	/* junk: nothing answered, nothing changed, all counted */
	v = nucleus_cluster_version(n, "alpha", NULL);
	before = sig_stats.dropped[SIG_R_MALFORMED];
	len = 0;
	for (rv = 0; rv < 300; rv++) {
		uint8_t	 junk[400];

		randombytes_buf(junk, sizeof(junk));
		junk[0] = 2;
		junk[1] = 1 + rv % 2;
		if (nucleus_input(n, junk, 30 + rv, &a.src, &clk, &out) ==
		    SIG_OK || out.n != 0)
			len++;
		advance(60);
	}
	ok(len == 0 && nucleus_cluster_version(n, "alpha", NULL) == v,
	    "300 random datagrams: all dropped, nothing changed");
	ok(sig_stats.dropped[SIG_R_MALFORMED] > before,
	    "counted by reason");
	nucleus_free(n);
	sedge_free(&a);
	sedge_free(&b);
	sedge_free(&c);
	sedge_free(&forger);
}

/* Many edges: parts within 1200 bytes, pages of 32, all peers learned. */
static void
test_many(void)
{
	static struct sedge	 e[1500];
	struct nucleus		*n;
	char			 vip[32], src[32];
	size_t			 i, maxlen = 0, parts = 0, pages = 0;
	int			 bad = 0, k;

	n = nucleus_new(root, npriv, npub, 600);
	for (i = 0; i < 1500; i++) {
		snprintf(vip, sizeof(vip), "10.%zu.%zu.1/8", i / 250,
		    i % 250);
		snprintf(src, sizeof(src), "192.0.%zu.%zu", 2 + i / 250,
		    i % 250 + 1);
		sedge_init(&e[i], "big", (int)i, vip, src);
		if (sedge_join(n, &e[i]) != 0)
			bad++;
		advance(10);
	}
	ok(bad == 0 && nucleus_nedges(n) == 1500, "1500 edges joined");
	{
		struct nucleus_punch_stats	 ps;

		nucleus_punch_stats(n, &ps);
		ok(ps.pending == NUCLEUS_PUNCH_QUEUE && ps.dropped ==
		    1499 - NUCLEUS_PUNCH_QUEUE, "undrained: %zu PUNCH jobs "
		    "queued, %llu dropped and counted", ps.pending,
		    (unsigned long long)ps.dropped);
	}
	/* a newcomer: full sync over several pages */
	sedge_free(&e[0]);
	sedge_init(&e[0], "big", 0, "10.200.0.1/8", "192.0.99.1");
	xchg(n, &e[0], SIG_REGISTER, 0);
	sedge_apply(&e[0]);
	xchg(n, &e[0], SIG_REGISTER, X_AUTH | X_COOKIE);
	for (k = 0; k < 100; k++) {
		pages++;
		for (i = 0; i < out.n; i++)
			if (out.len[i] > maxlen)
				maxlen = out.len[i];
		parts += out.n;
		if (out.n > SIG_PAGE_PARTS)
			bad++;
		if (sedge_apply(&e[0]))
			break;
		xchg(n, &e[0], SIG_HEARTBEAT, X_AUTH | X_COOKIE | X_SYNC);
	}
	ok(e[0].view.pt_n == 1500, "the newcomer learned all 1500 others "
	    "(%zu)", e[0].view.pt_n);
	ok(maxlen <= SIG_MAXDGRAM && parts > 32 && pages > 1,
	    "%zu parts in %zu pages, largest %zu bytes", parts, pages,
	    maxlen);
	ok(bad == 0, "no page over %d parts", SIG_PAGE_PARTS);
	/* one early edge catches up with a delta */
	e[1].full = 0;
	ok(sedge_sync(n, &e[1]) == 0 && e[1].view.pt_n == 1500,
	    "an early edge catches up through deltas (%zu)", e[1].view.pt_n);
	nucleus_free(n);
	for (i = 0; i < 1500; i++)
		sedge_free(&e[i]);
}

static void
sedge_cand(struct sedge *e, int i, const char *ip, uint16_t port, int kind)
{
	struct omni_addr	 a;

	addr4(&a, ip, port);
	proto_cand_from_addr(&a, kind, &e->cands[i]);
	if (e->ncands < i + 1)
		e->ncands = i + 1;
	e->with_cands = 1;
}

/*
 * Drain the nucleus's PUNCH queue once (one call of nucleus_punches)
 * and deliver each datagram to the hand-made edge at its destination.
 * Returns the number of datagrams, -1 when one is wrong.
 */
static int
punch_drain(struct nucleus *n, struct sedge **es, int nes)
{
	static struct sig_out	 po;
	static struct sig_rx	 rx;
	size_t			 k, got;
	int			 i;

	got = nucleus_punches(n, &clk, &po);
	for (k = 0; k < got; k++) {
		for (i = 0; i < nes; i++)
			if (proto_addr_eq(&po.to[k], &es[i]->src))
				break;
		if (i == nes || po.len[k] > SIG_MAXDGRAM ||
		    proto_open_down(&rx, po.buf[k], po.len[k],
		    es[i]->ck.down) != SIG_OK || rx.m.type != SIG_PUNCH ||
		    !proto_auth_ok(&rx, es[i]->proof) || rx.m.npeers != 1 ||
		    rx.m.time <= es[i]->punch_time)
			return -1;
		es[i]->punched++;
		es[i]->punch = rx.m.peers[0];
		es[i]->punch_time = rx.m.time;
	}
	return (int)got;
}

/* Drain until the queue is empty; the total, -1 when one is wrong. */
static int
punch_all(struct nucleus *n, struct sedge **es, int nes)
{
	int	 r, total = 0;

	while ((r = punch_drain(n, es, nes)) > 0)
		total += r;
	return r == -1 ? -1 : total;
}

/* Issue 7: candidates stored and passed on, PUNCH on join and roam. */
static void
test_punch(void)
{
	static struct sedge		 e[200];
	static struct sedge		*ep[200];
	struct nucleus			*n;
	struct nucleus_punch_stats	 ps;
	struct sig_peer			 p;
	struct ptab_ent			*pe;
	char				 vip[32], src[32];
	uint64_t			 v;
	int				 i, r, bad;

	n = nucleus_new(root, npriv, npub, 600);
	for (i = 0; i < 200; i++)
		ep[i] = &e[i];
	sedge_init(&e[0], "nat", 1, "10.9.0.1/24", "198.51.100.1");
	sedge_init(&e[1], "nat", 2, "10.9.0.2/24", "198.51.100.2");
	sedge_init(&e[2], "nat", 3, "10.9.0.3/24", "198.51.100.3");
	sedge_cand(&e[0], 0, "192.168.1.10", 51821, CAND_HOST);
	sedge_cand(&e[0], 1, "198.51.100.1", 60001, CAND_REFLEXIVE);
	sedge_cand(&e[1], 0, "192.168.1.11", 51822, CAND_HOST);
	/* e[2] is a v2 edge: no candidates key */

	ok(sedge_join(n, &e[0]) == 0 && (ans[0].flags & SIG_FL_PUNCH),
	    "A joins an empty cluster: PUNCH flag (nobody to tell)");
	ok(punch_all(n, ep, 3) == 0, "and no PUNCH is sent");
	ok(sedge_join(n, &e[1]) == 0, "B joins");
	ok(nans >= 1 && (ans[0].flags & SIG_FL_PUNCH) && sedge_has(&e[1],
	    &e[0]), "B's REGISTER_ACK lists A, flagged PUNCH");
	pe = ptab_get(&e[1].view, e[0].pub);
	ok(pe != NULL && pe->pe_peer.ncands == 2 &&
	    memcmp(pe->pe_peer.cands, e[0].cands, 2 * sizeof(e[0].cands[0]))
	    == 0, "with A's two candidates");
	r = punch_all(n, ep, 3);
	ok(r == 1 && e[0].punched == 1 && e[1].punched == 0,
	    "one PUNCH, to A, at its signaling address (%d)", r);
	ok(memcmp(e[0].punch.pubkey, e[1].pub, 32) == 0 &&
	    e[0].punch.ncands == 1 && memcmp(&e[0].punch.cands[0],
	    &e[1].cands[0], sizeof(e[1].cands[0])) == 0 &&
	    e[0].punch.port == e[1].port && e[0].punch.ep[3] == 2,
	    "carrying B's key, candidate and endpoint");
	ok(sig_stats.sent[SIG_PUNCH] >= 1, "counted as sent");

	ok(sedge_join(n, &e[2]) == 0, "C (v2, no candidates) joins");
	ok(punch_all(n, ep, 3) == 2 && e[0].punched == 2 &&
	    e[1].punched == 1 && e[0].punch.ncands == 0,
	    "A and B are told of C, without candidates");

	/* candidates change: a new version, and the others are told */
	ok(sedge_sync(n, &e[0]) == 0 && sedge_sync(n, &e[1]) == 0,
	    "A and B up to date");
	v = nucleus_cluster_version(n, "nat", NULL);
	ok(sedge_sync(n, &e[0]) == 0 && nucleus_cluster_version(n, "nat",
	    NULL) == v && punch_all(n, ep, 3) == 0,
	    "the same candidates again: no change, no PUNCH");
	sedge_cand(&e[0], 0, "10.1.1.10", 51821, CAND_HOST);
	ok(sedge_sync(n, &e[0]) == 0 && nucleus_cluster_version(n, "nat",
	    NULL) == v + 1, "A's new candidates bump the version");
	ok(punch_all(n, ep, 3) == 2 && e[1].punched == 2 &&
	    e[2].punched == 1 && e[1].punch.cands[0].ip[0] == 10,
	    "B and C are told at once");
	ok(sedge_sync(n, &e[1]) == 0 && (pe = ptab_get(&e[1].view,
	    e[0].pub)) != NULL && pe->pe_peer.cands[0].ip[0] == 10,
	    "B's next delta carries them too");
	e[0].ncands = 0;
	ok(sedge_sync(n, &e[0]) == 0 && nucleus_cluster_version(n, "nat",
	    NULL) == v + 2 && punch_all(n, ep, 3) == 2,
	    "an empty list clears them: a change");
	ok(nucleus_edge_state(n, "nat", e[0].pub, &p) == 1,
	    "A still live");
	e[0].with_cands = 0;
	ok(sedge_sync(n, &e[0]) == 0 && nucleus_cluster_version(n, "nat",
	    NULL) == v + 2, "no key at all (v2): kept as they are");

	/* roaming: a new source address is a new endpoint, told at once */
	sedge_cand(&e[1], 1, "203.0.113.2", 50000, CAND_REFLEXIVE);
	addr4(&e[1].src, "203.0.113.2", 50000);
	ok(xchg(n, &e[1], SIG_HEARTBEAT, X_AUTH | X_COOKIE | X_SYNC) ==
	    SIG_R_BAD_COOKIE, "B roams: a new cookie first");
	sedge_apply(&e[1]);
	ok(sedge_sync(n, &e[1]) == 0 && punch_all(n, ep, 3) == 2 &&
	    e[0].punch.ep[0] == 203 && e[0].punch.ncands == 2,
	    "then A and C are told of B's new endpoint and candidates");
	ok(punch_all(n, ep, 3) == 0, "once");

	/* a PUNCH for a change queued twice goes once per edge */
	sedge_cand(&e[1], 0, "192.168.7.11", 51822, CAND_HOST);
	ok(sedge_sync(n, &e[1]) == 0, "B changes");
	sedge_cand(&e[1], 0, "192.168.8.11", 51822, CAND_HOST);
	ok(sedge_sync(n, &e[1]) == 0, "and again before the punches went");
	i = e[0].punched;
	ok(punch_all(n, ep, 3) == 2 && e[0].punched == i + 1 &&
	    e[0].punch.cands[0].ip[2] == 8, "one PUNCH each, the newest");

	/* a PEER_INFO answer carries candidates too */
	{
		struct sedge	 q = e[2];

		q.vip = e[1].vip;
		ok(xchg(n, &q, SIG_QUERY_PEER, X_AUTH | X_COOKIE) == SIG_OK &&
		    nans == 1 && ans[0].npeers == 1 &&
		    ans[0].peers[0].ncands == 2, "QUERY_PEER: with candidates");
		e[2].tlast = q.tlast;
	}

	/* a deregistered edge is told of nobody, and nobody of it */
	ok(xchg(n, &e[2], SIG_DEREGISTER, X_AUTH) == SIG_OK &&
	    punch_all(n, ep, 3) == 0, "a removal is no PUNCH");
	nucleus_free(n);

	/* fan-out cap and pace in a cluster of 200 */
	n = nucleus_new(root, npriv, npub, 600);
	for (i = 0, bad = 0; i < 200; i++) {
		sedge_free(&e[i]);
		snprintf(vip, sizeof(vip), "10.8.%d.%d/16", i / 200, i % 200 +
		    1);
		snprintf(src, sizeof(src), "198.18.%d.%d", i / 200,
		    i % 200 + 1);
		sedge_init(&e[i], "wide", i, vip, src);
		sedge_cand(&e[i], 0, src, 51820, CAND_HOST);
		if (sedge_join(n, &e[i]) != 0)
			bad++;
		if (i == 199 && (ans[0].flags & SIG_FL_PUNCH))
			bad++;
		if (i == 10 && !(ans[0].flags & SIG_FL_PUNCH))
			bad++;
	}
	ok(bad == 0, "200 edges join; the PUNCH flag only while all others "
	    "are told");
	nucleus_punch_stats(n, &ps);
	ok(ps.queued == 199 && ps.pending == 199 && ps.dropped == 0,
	    "199 joins queued (%llu), none dropped",
	    (unsigned long long)ps.queued);
	ok(ps.capped == (uint64_t)(135 * 136 / 2),
	    "over the fan-out of %d: %llu edges not told", NUCLEUS_PUNCH_FANOUT,
	    (unsigned long long)ps.capped);
	r = 0;
	while ((i = punch_drain(n, ep, 200)) > 0)
		r += i;
	ok(i == 0 && r == NUCLEUS_PUNCH_BURST, "a burst of %d PUNCHes, then "
	    "the pace (%d)", NUCLEUS_PUNCH_BURST, r);
	ok(punch_drain(n, ep, 200) == 0, "nothing more at the same moment");
	advance(100);
	r = punch_all(n, ep, 200);
	ok(r == NUCLEUS_PUNCH_RATE / 10, "100 ms later: %d more (%d)",
	    NUCLEUS_PUNCH_RATE / 10, r);
	for (i = 0, bad = 0; i < 30; i++) {
		advance(1000);
		if ((r = punch_all(n, ep, 200)) > NUCLEUS_PUNCH_RATE ||
		    r == -1)
			bad++;
		nucleus_punch_stats(n, &ps);
		if (ps.pending == 0)
			break;
	}
	ok(bad == 0 && ps.pending == 0, "at most %d a second, all sent "
	    "after %d s", NUCLEUS_PUNCH_RATE, i + 1);
	/* each change is told to the 64 most recently changed others */
	ok(ps.sent == 199 * NUCLEUS_PUNCH_FANOUT, "%llu PUNCHes in all, "
	    "199 changes times the fan-out", (unsigned long long)ps.sent);
	ok(e[199].punched == 198 && e[136].punched == 198 &&
	    e[135].punched == 64 && e[0].punched == 0,
	    "the most recently changed edges are told (%d %d %d %d)",
	    e[199].punched, e[136].punched, e[135].punched, e[0].punched);
	nucleus_free(n);
	for (i = 0; i < 200; i++)
		sedge_free(&e[i]);
}

static void
test_ratelimit(void)
{
	struct nucleus		*n;
	struct omni_addr	 a, b;
	int			 i, pass = 0;

	n = nucleus_new(root, npriv, npub, 60);
	addr4(&a, "192.0.2.1", 1);
	addr4(&b, "192.0.2.2", 1);
	for (i = 0; i < 100; i++)
		if (nucleus_ratelimit(n, &a, 5000) == 0)
			pass++;
	ok(pass == RL_BURST, "burst of %d passes (%d)", RL_BURST, pass);
	ok(nucleus_ratelimit(n, &b, 5000) == 0, "another source unaffected");
	ok(nucleus_ratelimit(n, &a, 5049) == -1, "49 ms later still limited");
	ok(nucleus_ratelimit(n, &a, 5050) == 0, "50 ms later: one token");
	nucleus_free(n);
}

/*
 * The capacity bounds of omni.conf(5) (max-edges, max-clusters,
 * rate-limit) through nucleus_set_limits: a full table refuses a new
 * registration silently (table_full, no answer), a raised bound
 * accepts it, a lowered one keeps what is there.
 */
/*
 * A full per-source burst from each of 20 sources 203.0.113.first on,
 * at time now: how many the global bucket let through.
 */
static int
burst_pass(struct nucleus *n, int first, uint64_t now)
{
	struct omni_addr	 a;
	char			 src[32];
	int			 i, pass = 0;

	for (i = 0; i < 20 * RL_BURST; i++) {
		snprintf(src, sizeof(src), "203.0.113.%d",
		    i / RL_BURST + first);
		addr4(&a, src, 1);
		if (nucleus_ratelimit(n, &a, now) == 0)
			pass++;
	}
	return pass;
}

static void
test_limits(void)
{
	static struct sedge	 e[19], x[3];
	struct nucleus		*n;
	char			 vip[32], src[32];
	int			 i, bad = 0, pass, rv;

	n = nucleus_new(root, npriv, npub, 60);
	nucleus_set_limits(n, 16, 0, 0);
	for (i = 0; i < 19; i++) {
		snprintf(vip, sizeof(vip), "10.9.0.%d/24", i + 1);
		snprintf(src, sizeof(src), "198.51.100.%d", i + 1);
		sedge_init(&e[i], "lim", i, vip, src);
	}
	for (i = 0; i < 16; i++)
		if (sedge_join(n, &e[i]) != 0)
			bad++;
	ok(bad == 0 && nucleus_nedges(n) == 16, "max-edges 16: 16 edges "
	    "joined");
	rv = sedge_join(n, &e[16]);
	ok(rv == SIG_R_TABLE_FULL && nans == 0 && nucleus_nedges(n) == 16 &&
	    nucleus_edge_state(n, "lim", e[16].pub, NULL) == -1,
	    "the 17th is dropped as table_full, unanswered (%s)",
	    rv >= 0 ? proto_reason_name(rv) : "no challenge");
	rv = xchg(n, &e[3], SIG_REGISTER, X_AUTH | X_COOKIE);
	ok(rv == SIG_OK && nans > 0 && ans[0].type == SIG_REGISTER_ACK,
	    "a registered edge registers again");
	nucleus_set_limits(n, 17, 0, 0);
	rv = xchg(n, &e[16], SIG_REGISTER, X_AUTH | X_COOKIE);
	ok(rv == SIG_OK && nans > 0 && ans[0].type == SIG_REGISTER_ACK &&
	    nucleus_nedges(n) == 17, "max-edges raised to 17: the 17th is "
	    "accepted");
	nucleus_set_limits(n, 16, 0, 0);
	ok(nucleus_nedges(n) == 17 &&
	    nucleus_edge_state(n, "lim", e[0].pub, NULL) == 1 &&
	    nucleus_edge_state(n, "lim", e[16].pub, NULL) == 1,
	    "max-edges lowered to 16: the 17 edges stay");
	ok(sedge_sync(n, &e[16]) == 0, "and heartbeat");
	rv = sedge_join(n, &e[17]);
	ok(rv == SIG_R_TABLE_FULL && nans == 0 && nucleus_nedges(n) == 17,
	    "but an 18th is refused");

	/* one cluster exists: max-clusters 2 lets one more in */
	nucleus_set_limits(n, 0, 2, 0);
	sedge_init(&x[0], "lim2", 100, "10.9.1.1/24", "198.51.100.101");
	sedge_init(&x[1], "lim3", 101, "10.9.2.1/24", "198.51.100.102");
	ok(sedge_join(n, &x[0]) == 0 && nucleus_nclusters(n) == 2,
	    "max-clusters 2: a second cluster");
	rv = sedge_join(n, &x[1]);
	ok(rv == SIG_R_TABLE_FULL && nans == 0 && nucleus_nclusters(n) == 2,
	    "a third is dropped as table_full");
	nucleus_set_limits(n, 0, 3, 0);
	ok(sedge_join(n, &x[1]) == 0 && nucleus_nclusters(n) == 3,
	    "max-clusters 3: accepted");
	nucleus_free(n);
	for (i = 0; i < 19; i++)
		sedge_free(&e[i]);
	for (i = 0; i < 2; i++)
		sedge_free(&x[i]);

	/* rate-limit 100: bursts of 200 over all sources, then 100/s */
	n = nucleus_new(root, npriv, npub, 60);
	nucleus_set_limits(n, 0, 0, 100);
	pass = burst_pass(n, 1, 5000);
	ok(pass == 200, "rate-limit 100: a burst of 200 from 20 sources "
	    "(%d)", pass);
	pass = burst_pass(n, 1, 6000);
	ok(pass == 100, "then 100 a second (%d)", pass);
	nucleus_set_limits(n, 0, 0, 5000);
	pass = burst_pass(n, 101, 6000);
	ok(pass == 20 * RL_BURST, "rate-limit 5000: the larger burst at once "
	    "(%d)", pass);
	nucleus_free(n);
}

/* --- edge.c wired to an in-process nucleus -------------------------- */

#define NIF	4

static struct nucleus	*nuc;
static struct omni_addr	 nucaddr, ifaddr[NIF + 1];
static uint8_t		 ifpriv[NIF + 1][32], ifpub[NIF + 1][32];
static int		 loss;		/* percent */
static int		 hold;		/* pump() delivers nothing */
static int		 maxrounds = 100;	/* request-answer rounds */
static size_t		 lastset[NIF + 1];
static int		 nemit[NIF + 1];
static size_t		 minset[NIF + 1];
static struct sig_dh	 dhq[16];
static int		 ndhq;
static uint8_t		 lastpunch[SIG_MAXDGRAM];	/* latest PUNCH */
static size_t		 lastpunchlen;
static uint32_t		 lastpunchif;

/* datagrams from edges, delivered by pump() */
static struct {
	uint32_t	 ifid;
	size_t		 len;
	uint8_t		 buf[SIG_MAXDGRAM];
} q[256];
static int		 nq;

static int
io_send(uint32_t ifid, const struct omni_addr *to, const uint8_t *d,
    size_t len)
{
	if (!proto_addr_eq(to, &nucaddr) || len > SIG_MAXDGRAM || nq == 256)
		return -1;
	q[nq].ifid = ifid;
	q[nq].len = len;
	memcpy(q[nq].buf, d, len);
	nq++;
	return 0;
}

static void
io_peers(uint32_t ifid, const struct omni_peer *p, size_t n)
{
	(void)p;
	lastset[ifid] = n;
	nemit[ifid]++;
	if (n < minset[ifid])
		minset[ifid] = n;
}

static void
io_dh(uint32_t ifid, const uint8_t *peer)
{
	dhq[ndhq].ifid = ifid;
	memcpy(dhq[ndhq].peer, peer, 32);
	ndhq = (ndhq + 1) % 16;
}

/* the latest answer an edge got, for the replay test */
static uint8_t	 lastans[SIG_MAXDGRAM];
static size_t	 lastanslen;
static int	 lastansif;

static void
pump(void)
{
	static struct sig_out	 o;
	static struct sig_dh	 r;
	static __typeof__(q)	 local;
	int			 n, j, rounds;
	size_t			 k;

	if (hold)
		return;
	for (rounds = 0; rounds < maxrounds; rounds++) {
		while (ndhq > 0) {
			r = dhq[--ndhq];
			r.ok = keys_dh(ifpriv[r.ifid], ifpub[r.ifid], r.peer,
			    r.result) == 0;
			edge_dh_result(&r, &clk);
		}
		if (nq == 0)
			break;
		n = nq;
		memcpy(local, q, n * sizeof(q[0]));
		nq = 0;
		for (j = 0; j < n; j++) {
			if (nuc == NULL || (int)(random() % 100) < loss)
				continue;
			nucleus_input(nuc, local[j].buf, local[j].len,
			    &ifaddr[local[j].ifid], &clk, &o);
			for (k = 0; k < o.n; k++)
				if ((int)(random() % 100) >= loss) {
					/* the latest answer, to replay */
					memcpy(lastans, o.buf[k], o.len[k]);
					lastanslen = o.len[k];
					lastansif = local[j].ifid;
					edge_input(local[j].ifid, o.buf[k],
					    o.len[k], &nucaddr, &clk);
				}
		}
		/* PUNCHes, as signald.c sends them after a batch */
		while (nuc != NULL && nucleus_punches(nuc, &clk, &o) > 0)
			for (k = 0; k < o.n; k++) {
				for (j = 1; j <= NIF; j++)
					if (proto_addr_eq(&o.to[k], &ifaddr[j]))
						break;
				if (j > NIF || (int)(random() % 100) < loss)
					continue;
				memcpy(lastpunch, o.buf[k], o.len[k]);
				lastpunchlen = o.len[k];
				lastpunchif = j;
				edge_input(j, o.buf[k], o.len[k], &nucaddr,
				    &clk);
			}
	}
}

/* The queued datagrams in interface order, each interface's in its own. */
static void
q_by_iface(void)
{
	static __typeof__(q)	 sorted;
	int			 i, j, n = 0;

	for (i = 1; i <= NIF; i++)
		for (j = 0; j < nq; j++)
			if (q[j].ifid == (uint32_t)i)
				sorted[n++] = q[j];
	memcpy(q, sorted, n * sizeof(q[0]));
	nq = n;
}

static void run_for(int);

/*
 * The nucleus (absent) comes back slowly: what the edges send queues
 * up as in a starting nucleus's socket, and the answer to their
 * REGISTER is late enough that each sends it again; omni1's two are
 * answered first, before it could learn of any other edge.
 */
static void
slow_comeback(void)
{
	nuc = nucleus_new(root, npriv, npub, 15);
	hold = 1;
	run_for(3);		/* REGISTERs without a cookie queue up */
	hold = 0;
	maxrounds = 1;		/* the CHALLENGEs; REGISTERs with one queue */
	pump();
	hold = 1;
	advance(1100);
	edge_tick(&clk);	/* no answer yet: REGISTER again */
	q_by_iface();
	hold = 0;
	maxrounds = 100;
	pump();
}

static void
run_for(int secs)
{
	int	 i;

	for (i = 0; i < secs * 10; i++) {
		advance(100);
		if (i % 10 == 0) {
			edge_tick(&clk);
			if (nuc != NULL && i % 50 == 0)
				nucleus_expire(nuc, &clk);
		}
		pump();
	}
}

static void
iface(struct sig_iface *si, int n)
{
	char	 vip[32];
	uint8_t	 r[32];

	memset(si, 0, sizeof(*si));
	si->ifid = n;
	snprintf(si->name, sizeof(si->name), "omni%d", n);
	strlcpy(si->cluster, "lab", sizeof(si->cluster));
	keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, "lab", si->key);
	memcpy(si->name_key, namekey, 32);
	crypto_box_keypair(ifpub[n], ifpriv[n]);
	memcpy(si->pubkey, ifpub[n], 32);
	snprintf(vip, sizeof(vip), "10.77.0.%d/24", n);
	omni_prefix_parse(vip, &si->vip);
	si->wg_port = 51820;
	si->heartbeat = 2;
	si->nnuclei = 1;
	si->nuclei[0] = nucaddr;
	snprintf(vip, sizeof(vip), "198.18.0.%d", 10 + n);
	addr4(&ifaddr[n], vip, 40000);
	(void)r;
}

/* probe_io for the roaming test: candidates go to edge.c at once */
static void
pio_cands(uint32_t ifid)
{
	edge_cands_changed(ifid, &clk);
}

static void
pio_endpoint(uint32_t ifid)
{
	edge_endpoint_changed(ifid, &clk);
}

static int
pio_send(uint32_t ifid, const struct omni_addr *to, const uint8_t *udp,
    size_t len)
{
	(void)ifid;
	(void)to;
	(void)udp;
	(void)len;
	return 0;		/* probes and STUN go nowhere here */
}

static int
all_sets(int nif, size_t want)
{
	int	 i;

	for (i = 1; i <= nif; i++)
		if (lastset[i] != want)
			return 0;
	return 1;
}

static void
test_edge(void)
{
	static const struct edge_io	 io = { io_send, io_peers, io_dh };
	struct sig_iface		 ifs[NIF];
	struct sig_status		 st;
	char				 name[OMNI_IFNAMSIZ];
	uint64_t			 drops;
	int				 i, reg, before, regs;
	uint8_t				 p2[32], s2[32];

	srandom(42);
	addr4(&nucaddr, "192.0.2.1", 51900);
	nuc = nucleus_new(root, npriv, npub, 15);
	edge_init(&io);
	for (i = 0; i < 3; i++)
		iface(&ifs[i], i + 1);
	edge_reconf(ifs, 3, &clk);
	run_for(3);
	ok(nucleus_nedges(nuc) == 3, "three edges registered in 3 s");
	ok(all_sets(3, 2), "each reports the two others (%zu %zu %zu)",
	    lastset[1], lastset[2], lastset[3]);
	ok(edge_status(0, name, sizeof(name), &reg) && reg &&
	    strcmp(name, "omni1") == 0, "omni1 registered");
	ok(edge_nucleus_status(0, &clk, &st) && st.ifid == 1 &&
	    st.registered && st.rtt_us >= 0 && memcmp(st.key, npub, 32) == 0 &&
	    st.peers == 2 && st.last_answer > 0, "status of (omni1, nucleus)");
	ok(!edge_nucleus_status(3, &clk, &st), "three pairs only");

	/* the nucleus restarts: the edges come back within a heartbeat */
	for (i = 1; i <= 3; i++)
		minset[i] = 99;
	nucleus_free(nuc);
	nuc = nucleus_new(root, npriv, npub, 15);
	run_for(3);
	ok(nucleus_nedges(nuc) == 3, "restarted nucleus repopulated within "
	    "one heartbeat and a second (%zu)", nucleus_nedges(nuc));
	run_for(10);
	ok(all_sets(3, 2) && minset[1] == 99 && minset[2] == 99 &&
	    minset[3] == 99, "no peer set shrank meanwhile");

	/*
	 * It goes silent long enough for the edges to give it up, then
	 * comes back slowly (a starting nucleus's socket is bound before
	 * signald reads it).  Each edge's two REGISTERs get a full sync of
	 * the new epoch, the second with fewer peers than the edge had:
	 * the peers kept from before the restart must survive it too.
	 */
	for (i = 1; i <= 3; i++)
		minset[i] = 99;
	nucleus_free(nuc);
	nuc = NULL;
	run_for(8);
	ok(edge_status(0, name, sizeof(name), &reg) && !reg,
	    "silent for 8 s: not registered");
	before = sig_stats.received[SIG_REGISTER_ACK];
	slow_comeback();
	ok(sig_stats.received[SIG_REGISTER_ACK] - before >= 4,
	    "late answers: REGISTERs answered twice (%d ACKs)",
	    (int)(sig_stats.received[SIG_REGISTER_ACK] - before));
	run_for(10);
	ok(nucleus_nedges(nuc) == 3 && all_sets(3, 2),
	    "all registered again with the slow nucleus");
	ok(minset[1] == 99 && minset[2] == 99 && minset[3] == 99,
	    "no peer set shrank meanwhile (smallest %zu %zu %zu)",
	    minset[1] == 99 ? 2 : minset[1], minset[2] == 99 ? 2 : minset[2],
	    minset[3] == 99 ? 2 : minset[3]);

	/*
	 * The same, but omni3 went for good while the nucleus was away:
	 * the others keep it through both syncs, then drop it within
	 * EDGE_SILENT_BEATS heartbeats, as after a single sync.
	 */
	nucleus_free(nuc);
	nuc = NULL;
	edge_reconf(ifs, 2, &clk);	/* its DEREGISTER reaches nobody */
	run_for(8);
	slow_comeback();
	ok(lastset[1] == 2 && lastset[2] == 2,
	    "omni3 gone: kept provisionally through both syncs (%zu %zu)",
	    lastset[1], lastset[2]);
	run_for(7);
	ok(lastset[1] == 1 && lastset[2] == 1,
	    "and dropped within 3 heartbeats (%zu %zu)", lastset[1],
	    lastset[2]);
	edge_reconf(ifs, 3, &clk);
	run_for(3);
	ok(nucleus_nedges(nuc) == 3 && all_sets(3, 2), "omni3 back");

	/* 30% loss on everything, a fourth edge joins */
	loss = 30;
	iface(&ifs[3], 4);
	edge_reconf(ifs, 4, &clk);
	run_for(40);
	loss = 0;
	run_for(3);
	ok(nucleus_nedges(nuc) == 4 && all_sets(4, 3),
	    "30%% loss: converged within a heartbeat after it stopped "
	    "(%zu %zu %zu %zu)", lastset[1], lastset[2], lastset[3],
	    lastset[4]);

	/* the fourth leaves cleanly: the others drop it at once */
	edge_reconf(ifs, 3, &clk);
	pump();
	ok(nucleus_nedges(nuc) == 3, "DEREGISTER removes it at the nucleus");
	run_for(3);
	ok(all_sets(3, 2), "the others dropped it within a heartbeat");

	/* the nucleus goes silent: the sets stay */
	before = nemit[1];
	nucleus_free(nuc);
	nuc = NULL;
	run_for(20);
	ok(edge_status(0, name, sizeof(name), &reg) && !reg,
	    "no answer for 3 heartbeats: not registered");
	ok(nemit[1] == before && all_sets(3, 2), "the peer sets are kept");

	/* it comes back with another key: accepted once it was lost */
	crypto_box_keypair(p2, s2);
	nuc = nucleus_new(root, s2, p2, 15);
	memcpy(npub, p2, 32);
	memcpy(npriv, s2, 32);
	run_for(4);
	ok(nucleus_nedges(nuc) == 3 && all_sets(3, 2),
	    "a nucleus with a new key: registered again");

	/* backoff while nobody answers */
	before = sig_stats.sent[SIG_REGISTER];
	nucleus_free(nuc);
	nuc = NULL;
	run_for(7);
	before = sig_stats.sent[SIG_REGISTER];
	run_for(20);
	regs = (sig_stats.sent[SIG_REGISTER] - before) / 3;
	ok(regs >= 8 && regs <= 12, "registering every heartbeat interval "
	    "at most (%d in 20 s)", regs);
	nuc = nucleus_new(root, npriv, npub, 15);
	run_for(3);

	/* issue 7: a newcomer is known to the others at once (PUNCH) */
	for (i = 0; i < 3; i++)
		ifs[i].heartbeat = 30;
	edge_reconf(ifs, 3, &clk);
	run_for(3);
	iface(&ifs[3], 4);
	ifs[3].heartbeat = 30;
	before = sig_stats.received[SIG_PUNCH];
	edge_reconf(ifs, 4, &clk);
	run_for(1);
	ok(sig_stats.received[SIG_PUNCH] - before == 3 && all_sets(4, 3),
	    "a fourth joins: PUNCHed to the three, in every peer set within "
	    "1 s, not at the next 30 s heartbeat (%zu %zu %zu %zu)",
	    lastset[1], lastset[2], lastset[3], lastset[4]);
	drops = sig_stats.dropped[SIG_R_REPLAY];
	edge_input(lastpunchif, lastpunch, lastpunchlen, &nucaddr, &clk);
	ok(sig_stats.dropped[SIG_R_REPLAY] == drops + 1 &&
	    sig_stats.received[SIG_PUNCH] - before == 3,
	    "a replayed PUNCH: replay");
	/*
	 * An answer replayed while its request is still among the last
	 * ones echoed: dropped as a replay, not taken as a live nucleus.
	 */
	drops = sig_stats.dropped[SIG_R_REPLAY];
	edge_input(lastansif, lastans, lastanslen, &nucaddr, &clk);
	ok(lastanslen > 0 && sig_stats.dropped[SIG_R_REPLAY] == drops + 1,
	    "a replayed answer within the echo window: replay");
	drops = sig_stats.dropped[SIG_R_BAD_PROOF];
	edge_input(lastpunchif % 3 + 1, lastpunch, lastpunchlen, &nucaddr,
	    &clk);
	ok(sig_stats.dropped[SIG_R_BAD_PROOF] == drops + 1,
	    "a PUNCH for another edge: bad_proof");
	edge_reconf(ifs, 3, &clk);
	pump();

	/* roaming: new addresses are at the nucleus and the others at once */
	{
		static const struct probe_io	 pio = { pio_cands,
						    pio_endpoint, NULL,
						    pio_send };
		struct sock_probe		 sp;
		struct local_addrs		 la;
		struct sig_peer			 p;
		uint64_t			 v, hb;
		int				 fd;

		probe_init(&pio);
		memset(&sp, 0, sizeof(sp));
		sp.ifid = 1;
		sp.af = AF_INET;
		sp.wg_port = 51820;
		fd = open("/dev/null", O_RDONLY);
		memset(&la, 0, sizeof(la));
		la.ifid = 1;
		la.generation = 1;
		la.naddr = 1;
		addr4(&la.addr[0], "192.168.50.1", 51820);
		before = sig_stats.received[SIG_PUNCH];
		ok(probe_sock(&sp, fd) == 0, "omni1 gets a probe socket");
		probe_local_addrs(&la, &clk);
		pump();
		ok(nucleus_edge_state(nuc, "lab", ifpub[1], &p) == 1 &&
		    p.ncands == 1 && p.cands[0].kind == CAND_HOST &&
		    p.cands[0].ip[2] == 50 && p.cands[0].port == 51820,
		    "its host candidate reaches the nucleus at once");
		ok(sig_stats.received[SIG_PUNCH] - before == 2,
		    "and a PUNCH reaches each of the two others (%llu)",
		    (unsigned long long)(sig_stats.received[SIG_PUNCH] -
		    before));
		v = nucleus_cluster_version(nuc, "lab", NULL);
		hb = sig_stats.sent[SIG_HEARTBEAT];
		advance(300);
		la.generation = 2;
		addr4(&la.addr[0], "192.168.60.1", 51820);
		probe_local_addrs(&la, &clk);
		pump();
		ok(nucleus_edge_state(nuc, "lab", ifpub[1], &p) == 1 &&
		    p.ncands == 1 && p.cands[0].ip[2] == 60 &&
		    nucleus_cluster_version(nuc, "lab", NULL) == v + 1 &&
		    sig_stats.received[SIG_PUNCH] - before == 4,
		    "a roam 300 ms later: told at once, the others punched");
		la.generation = 3;
		addr4(&la.addr[0], "192.168.70.1", 51820);
		probe_local_addrs(&la, &clk);
		pump();
		ok(sig_stats.sent[SIG_HEARTBEAT] == hb + 1 &&
		    nucleus_edge_state(nuc, "lab", ifpub[1], &p) == 1 &&
		    p.cands[0].ip[2] == 60, "another at once waits %d ms",
		    EDGE_CANDS_MS);
		run_for(2);
		ok(nucleus_edge_state(nuc, "lab", ifpub[1], &p) == 1 &&
		    p.cands[0].ip[2] == 70, "and is told at the next tick");
		probe_iface_gone(1);
		probe_init(NULL);
	}

	for (i = 0; i < 3; i++)
		ifs[i].heartbeat = 2;
	edge_reconf(ifs, 3, &clk);
	run_for(35);
	ok(all_sets(3, 2), "it leaves again: gone from every set");

	/* shutdown */
	before = sig_stats.sent[SIG_DEREGISTER];
	edge_shutdown(&clk);
	ok(sig_stats.sent[SIG_DEREGISTER] - before == 3,
	    "shutdown: DEREGISTER from each");
	pump();
	ok(nucleus_nedges(nuc) == 0, "the nucleus is empty");
	edge_reconf(ifs, 0, &clk);
	nucleus_free(nuc);
}

int
main(void)
{
	int	 fd;

	if (sodium_init() == -1)
		return 1;
	/* the roles log at info level: keep that out of TAP's way */
	if (getenv("TEST_VERBOSE") == NULL &&
	    (fd = open("/dev/null", O_WRONLY)) != -1)
		dup2(fd, STDERR_FILENO);
	memset(root, 0x42, sizeof(root));
	keys_derive_root_subkey(root, KEY_ROOT_NAME, namekey);
	crypto_box_keypair(npub, npriv);
	clk.ms = 1000000;
	clk.wall_us = WALL0 * 1000000;
	clk.wall = WALL0;
	test_register();
	test_many();
	test_punch();
	test_ratelimit();
	test_limits();
	test_edge();
	return tap_done();
}
