/*
 * Edge role (PROTOCOL.md, "Edge"): for every interface and every
 * nucleus it names, get a cookie and the nucleus's key (CHALLENGE),
 * have the parent compute the proof key, register, then heartbeat.
 * Each heartbeat carries the cluster version this edge has applied
 * from that nucleus and fetches the changes since (or a full sync),
 * a page of parts at a time.  The interface's peer set is the union
 * of the views of the nuclei that answer (per public key the most
 * recently learned entry wins) and goes to the parent whenever it
 * changes.
 *
 * A nucleus that stops answering is registered with again, but what
 * it reported last is kept while no other nucleus answers: signaling
 * trouble must not tear tunnels down.
 *
 * NAT traversal (issue 7): REGISTER and HEARTBEAT carry the candidates
 * the probe engine gathered (probe.c); every peer's candidates go to
 * the probe engine when they are new or change, at once (punch) when
 * a nucleus sends PUNCH; the endpoint the engine chose overrides the
 * nucleus's in the peer set.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "probe.h"
#include "ptab.h"
#include "signald.h"

enum en_state {
	EN_HELLO = 0,		/* REGISTER without proof, for a CHALLENGE */
	EN_PROVING,		/* waiting for the parent's proof key */
	EN_REGISTERING,		/* REGISTER with cookie and proof */
	EN_REGISTERED
};

struct edge_nucleus {
	struct omni_addr	 en_addr;
	enum en_state		 en_state;
	uint64_t		 en_next;	/* ms: next REGISTER/HEARTBEAT */
	uint32_t		 en_backoff;	/* seconds */
	uint64_t		 en_last_ans;	/* ms: authenticated answer */
	time_t			 en_last_wall;
	uint64_t		 en_last_reg;	/* ms: latest REGISTER sent */
	int64_t			 en_rtt_us;
	int			 en_has_nkey;
	int			 en_has_proof;
	int			 en_has_cookie;
	int			 en_dh_pending;
	uint8_t			 en_nkey[SIG_KEYLEN];
	uint8_t			 en_proof[SIG_KEYLEN];
	uint8_t			 en_cookie[SIG_COOKIELEN];
	uint64_t		 en_reqs[EDGE_RECENT_REQS];
	uint64_t		 en_reqms[EDGE_RECENT_REQS];
	unsigned		 en_nreq;
	/* nonces of the answers accepted to those requests */
	uint64_t		 en_seen[EDGE_SEEN_ANSWERS];
	unsigned		 en_nseen;
	int			 en_vip_warned;
	int			 en_key_warned;
	/* the view and where it stands */
	int			 en_synced;	/* a sync completed */
	uint64_t		 en_epoch;
	uint64_t		 en_ver;
	struct ptab		 en_view;
	uint64_t		 en_prov_until;	/* ms: provisional entries */
	/* a full sync in progress */
	int			 en_full;
	uint64_t		 en_sepoch;
	uint64_t		 en_sbase;
	uint64_t		 en_scur;
	struct ptab		 en_stage;
	/* parts that came early */
	struct sig_msg		*en_held[EDGE_HELD_PARTS];
	int			 en_nheld;
	/* page retransmission */
	uint64_t		 en_rto_at;	/* ms, 0: none */
	uint32_t		 en_rto;	/* ms */
	/* PUNCH replay protection: times accepted, all above the floor */
	uint64_t		 en_punch[EDGE_PUNCH_SEEN];
	unsigned		 en_npunch;
	uint64_t		 en_pfloor;
	uint64_t		 en_cands_ms;	/* HEARTBEAT for new candidates */
};

struct edge_iface {
	TAILQ_ENTRY(edge_iface)	 ei_entry;
	struct sig_iface	 ei_conf;
	struct sig_ckeys	 ei_keys;
	struct edge_nucleus	 ei_nuclei[OMNI_MAX_NUCLEI];
	uint64_t		 ei_time;	/* our latest `time` */
	int			 ei_sent_once;
	int			 ei_dirty;	/* recompute the union */
	size_t			 ei_nsent;
	struct omni_peer	*ei_sent;
	/* peers as told to the probe engine; pe_until: punched, ms */
	struct ptab		 ei_known;
};

static TAILQ_HEAD(, edge_iface)	 edge_ifaces =
    TAILQ_HEAD_INITIALIZER(edge_ifaces);
static struct edge_io		 edge_io;
static uint64_t			 edge_seq;

static void	edge_update_peers(struct edge_iface *,
		    const struct sig_clock *);

void
edge_init(const struct edge_io *io)
{
	edge_io = *io;
}

/* Values from the parent are checked all the same. */
int
edge_iface_valid(const struct sig_iface *c)
{
	int	 i, max;

	if (!omni_str_valid(c->name, sizeof(c->name)) ||
	    !omni_str_valid(c->cluster, sizeof(c->cluster)) ||
	    !proto_cluster_valid(c->cluster) || c->name[0] == '\0')
		return 0;
	if (c->vip.af == AF_INET)
		max = 32;
	else if (c->vip.af == AF_INET6)
		max = 128;
	else
		return 0;
	if (c->vip.plen == 0 || c->vip.plen > max || c->wg_port == 0)
		return 0;
	if (c->nnuclei < 0 || c->nnuclei > OMNI_MAX_NUCLEI)
		return 0;
	for (i = 0; i < c->nnuclei; i++)
		if ((c->nuclei[i].sa.sa_family != AF_INET &&
		    c->nuclei[i].sa.sa_family != AF_INET6) ||
		    omni_addr_port(&c->nuclei[i]) == 0)
			return 0;
	return 1;
}

static struct edge_iface *
edge_find(uint32_t ifid)
{
	struct edge_iface	*ei;

	TAILQ_FOREACH(ei, &edge_ifaces, ei_entry)
		if (ei->ei_conf.ifid == ifid)
			return ei;
	return NULL;
}

int
edge_has_iface(uint32_t ifid)
{
	return edge_find(ifid) != NULL;
}

static uint64_t
hb_ms(const struct edge_iface *ei)
{
	return (uint64_t)ei->ei_conf.heartbeat * 1000;
}

/* --- per nucleus state ------------------------------------------------ */

static void
held_clear(struct edge_nucleus *en)
{
	int	 i;

	for (i = 0; i < en->en_nheld; i++)
		free(en->en_held[i]);
	en->en_nheld = 0;
}

static void
nucleus_reset(struct edge_nucleus *en, const struct omni_addr *addr,
    uint64_t now)
{
	held_clear(en);
	ptab_free(&en->en_view);
	ptab_free(&en->en_stage);
	sodium_memzero(en, sizeof(*en));
	en->en_addr = *addr;
	en->en_state = EN_HELLO;
	en->en_backoff = 1;
	en->en_next = now;
	en->en_rtt_us = -1;
	en->en_rto = EDGE_RTO_MS;
	ptab_init(&en->en_view, EDGE_MAX_PEERS);
	ptab_init(&en->en_stage, EDGE_MAX_PEERS);
}

static void
nucleus_release(struct edge_nucleus *en)
{
	held_clear(en);
	ptab_free(&en->en_view);
	ptab_free(&en->en_stage);
	sodium_memzero(en, sizeof(*en));
}

/* Answered within EDGE_SILENT_BEATS heartbeat intervals. */
static int
nucleus_fresh(const struct edge_iface *ei, const struct edge_nucleus *en,
    uint64_t now)
{
	return en->en_last_ans != 0 &&
	    now < en->en_last_ans + EDGE_SILENT_BEATS * hb_ms(ei);
}

/* --- sending ----------------------------------------------------------- */

/* The sync position a request carries. */
static void
sync_fields(const struct edge_nucleus *en, struct sig_msg *m)
{
	if (en->en_full) {
		m->epoch = en->en_sepoch;
		m->from = en->en_scur;
		m->flags = SIG_FL_FULL;
		m->base = en->en_sbase;
		m->fields |= SIG_F(SIG_K_BASE);
	} else if (en->en_synced) {
		m->epoch = en->en_epoch;
		m->from = en->en_ver;
		m->flags = 0;
	} else {
		m->epoch = 0;		/* never an epoch: a full sync */
		m->from = 0;
		m->flags = SIG_FL_FULL;
	}
	m->fields |= SIG_F_SYNC;
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct sig_cand	*x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return memcmp(x, y, sizeof(*x));
}

/*
 * Our candidates, as the probe engine ranks them, at most
 * SIG_MAX_CANDS: first the best of each kind, then the rest in order.
 * They go sorted: the same set in another order is no change (which
 * would cost a new version and a PUNCH to everyone).
 */
static void
local_cands(const struct edge_iface *ei, struct sig_msg *m)
{
	struct probe_cand	 pc[PROBE_MAX_CANDS];
	uint8_t			 used[PROBE_MAX_CANDS];
	unsigned		 kinds = 0;
	size_t			 n, i;
	int			 pass;

	n = probe_local_cands(ei->ei_conf.ifid, pc, PROBE_MAX_CANDS);
	if (n > PROBE_MAX_CANDS)
		n = PROBE_MAX_CANDS;
	memset(used, 0, sizeof(used));
	m->ncands = 0;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n && m->ncands < SIG_MAX_CANDS; i++) {
			if (used[i] || (pass == 0 && pc[i].pc_kind < 32 &&
			    (kinds & (1u << pc[i].pc_kind))))
				continue;
			used[i] = 1;
			if (proto_cand_from_addr(&pc[i].pc_addr,
			    pc[i].pc_kind, &m->cands[m->ncands]) == -1)
				continue;
			if (pc[i].pc_kind < 32)
				kinds |= 1u << pc[i].pc_kind;
			m->ncands++;
		}
	qsort(m->cands, m->ncands, sizeof(m->cands[0]), cand_cmp);
	m->fields |= SIG_F(SIG_K_CANDS);
}

static int
edge_send(struct edge_iface *ei, struct edge_nucleus *en, int type,
    const struct sig_clock *clk)
{
	const struct sig_iface	*c = &ei->ei_conf;
	struct sig_msg		 m;
	uint8_t			 buf[SIG_MAXDGRAM];
	const uint8_t		*auth = NULL;
	size_t			 len;
	char			 abuf[OMNI_ADDRSTRLEN];
	unsigned		 slot;
	int			 rv;

	proto_init_msg(&m, type, proto_next_time(&ei->ei_time, clk));
	memcpy(m.pubkey, c->pubkey, SIG_KEYLEN);
	m.vip = c->vip;
	m.port = c->wg_port;
	if (en->en_has_proof && (en->en_has_cookie ||
	    type == SIG_DEREGISTER))
		auth = en->en_proof;
	if (en->en_has_cookie) {
		memcpy(m.cookie, en->en_cookie, SIG_COOKIELEN);
		m.fields |= SIG_F(SIG_K_COOKIE);
	}
	if (type == SIG_HEARTBEAT || (type == SIG_REGISTER && auth != NULL))
		sync_fields(en, &m);
	if (type == SIG_HEARTBEAT || type == SIG_REGISTER)
		local_cands(ei, &m);
	if (type == SIG_REGISTER && auth == NULL)
		m.fields &= ~SIG_F(SIG_K_COOKIE);
	if ((rv = proto_seal(&m, SIG_KIND_UP, c->cluster, c->name_key,
	    ei->ei_keys.up, auth, buf, sizeof(buf), &len)) != SIG_OK) {
		log_warnx("%s: cannot seal %s: %s", c->name,
		    proto_type_name(type), proto_reason_name(rv));
		return -1;
	}
	slot = en->en_nreq++ % EDGE_RECENT_REQS;
	en->en_reqs[slot] = m.time;
	en->en_reqms[slot] = clk->ms;
	if (edge_io.send(c->ifid, &en->en_addr, buf, len) == -1) {
		log_debug("%s: %s to %s not sent", c->name,
		    proto_type_name(type),
		    omni_addr_str(&en->en_addr, abuf, sizeof(abuf)));
		return -1;
	}
	sig_stats.sent[type]++;
	if (log_getverbose() > 1)
		log_debug("%s: %s sent to %s", c->name, proto_type_name(type),
		    omni_addr_str(&en->en_addr, abuf, sizeof(abuf)));
	return 0;
}

/* A sync request now; the page it starts has a retransmission timer. */
static void
edge_sync_now(struct edge_iface *ei, struct edge_nucleus *en,
    const struct sig_clock *clk)
{
	edge_send(ei, en, SIG_HEARTBEAT, clk);
	en->en_rto_at = clk->ms + en->en_rto;
}

static void
edge_register_now(struct edge_iface *ei, struct edge_nucleus *en,
    const struct sig_clock *clk)
{
	en->en_last_reg = clk->ms;
	edge_send(ei, en, SIG_REGISTER, clk);
	en->en_next = clk->ms + (uint64_t)en->en_backoff * 1000;
	en->en_backoff *= 2;
	if (en->en_backoff > ei->ei_conf.heartbeat)
		en->en_backoff = ei->ei_conf.heartbeat;
	/* the first page of the answer has its retransmission timer */
	if (en->en_has_proof && en->en_has_cookie)
		en->en_rto_at = clk->ms + en->en_rto;
}

/* Register again soon, but not more than once a second. */
static void
edge_reregister(struct edge_iface *ei, struct edge_nucleus *en,
    const struct sig_clock *clk)
{
	en->en_backoff = 1;
	if (en->en_last_reg == 0 || clk->ms >= en->en_last_reg + 1000)
		edge_register_now(ei, en, clk);
	else
		en->en_next = en->en_last_reg + 1000;
}

static void
edge_deregister_all(struct edge_iface *ei, const struct sig_clock *clk)
{
	int	 i;

	for (i = 0; i < ei->ei_conf.nnuclei; i++)
		if (ei->ei_nuclei[i].en_has_proof)
			edge_send(ei, &ei->ei_nuclei[i], SIG_DEREGISTER, clk);
}

/* --- probing ----------------------------------------------------------- */

/*
 * A candidate worth probing: not unspecified, loopback (that would be
 * ourselves), multicast or broadcast, nor IPv6 link-local (it needs
 * a scope we cannot know).  A member announcing other hosts' addresses
 * gets them probed at the probe engine's pace only.
 */
static int
cand_usable(const struct sig_cand *c)
{
	static const uint8_t	 zero[16];

	if (c->af == AF_INET)
		return c->ip[0] != 0 && c->ip[0] != 127 && c->ip[0] < 224;
	return memcmp(c->ip, zero, 16) != 0 && c->ip[0] != 0xff &&
	    !(c->ip[0] == 0xfe && (c->ip[1] & 0xc0) == 0x80) &&
	    !(memcmp(c->ip, zero, 15) == 0 && c->ip[15] == 1);
}

/*
 * What the probe engine gets of a peer: its candidates, then the
 * endpoint the nucleus saw (a reflexive candidate too), no duplicates.
 */
static size_t
peer_cands(const struct sig_peer *p, struct probe_cand *pc)
{
	struct omni_addr	 a;
	size_t			 n = 0, i, k;

	for (i = 0; i <= p->ncands && n < PROBE_MAX_CANDS; i++) {
		if (i < p->ncands) {
			if (p->cands[i].kind < CAND_HOST ||
			    p->cands[i].kind > CAND_PEER_REFLEXIVE ||
			    !cand_usable(&p->cands[i]))
				continue;	/* unknown kind, or unusable */
			proto_cand_to_addr(&p->cands[i], &a);
			pc[n].pc_kind = p->cands[i].kind;
		} else {
			proto_peer_to_addr(p, &a);
			pc[n].pc_kind = CAND_REFLEXIVE;
		}
		for (k = 0; k < n; k++)
			if (proto_addr_eq(&pc[k].pc_addr, &a))
				break;
		if (k < n || a.sa.sa_family == AF_UNSPEC)
			continue;
		pc[n++].pc_addr = a;
	}
	return n;
}

/* Same endpoint and candidates: nothing new to probe. */
static int
peer_cands_eq(const struct sig_peer *a, const struct sig_peer *b)
{
	return a->ep_af == b->ep_af && a->port == b->port &&
	    memcmp(a->ep, b->ep, sizeof(a->ep)) == 0 &&
	    a->ncands == b->ncands && memcmp(a->cands, b->cands,
	    a->ncands * sizeof(a->cands[0])) == 0;
}

/*
 * Tell the probe engine about a peer: always when punch (a nucleus
 * asks both sides to probe now), else when it is new to the engine or
 * its candidates changed.  A punched peer is kept for a while even if
 * no view holds it yet (PUNCH comes before the delta).
 */
static void
edge_probe(struct edge_iface *ei, const struct sig_peer *p, int punch,
    const struct sig_clock *clk)
{
	struct probe_cand	 pc[PROBE_MAX_CANDS];
	struct ptab_ent		*k;
	uint64_t		 until = 0;

	if (memcmp(p->pubkey, ei->ei_conf.pubkey, SIG_KEYLEN) == 0)
		return;
	k = ptab_get(&ei->ei_known, p->pubkey);
	if (!punch && k != NULL && peer_cands_eq(&k->pe_peer, p))
		return;
	if (punch)
		until = clk->ms + EDGE_SILENT_BEATS * hb_ms(ei);
	else if (k != NULL)
		until = k->pe_until;
	if (ptab_put(&ei->ei_known, p, 0, until) == -1)
		return;
	probe_peer(ei->ei_conf.ifid, p->pubkey, pc, peer_cands(p, pc), punch,
	    clk);
}

/* Peers of the set u now: new or changed ones to the engine, gone go. */
static void
edge_probe_set(struct edge_iface *ei, const struct ptab *u,
    const struct sig_clock *clk)
{
	struct ptab		*k = &ei->ei_known;
	const struct ptab_ent	*pe;
	size_t			 i;

	PTAB_FOREACH(pe, u)
		edge_probe(ei, &pe->pe_peer, 0, clk);
	for (i = 0; i < k->pt_cap; ) {
		if (k->pt_t[i].pe_used &&
		    ptab_get(u, k->pt_t[i].pe_peer.pubkey) == NULL &&
		    clk->ms >= k->pt_t[i].pe_until) {
			probe_peer_gone(ei->ei_conf.ifid,
			    k->pt_t[i].pe_peer.pubkey);
			/* the deletion shifts: look at i again */
			ptab_del(k, k->pt_t[i].pe_peer.pubkey);
		} else
			i++;
	}
}

/* Forget every peer at the probe engine (identity change, removal). */
static void
edge_probe_clear(struct edge_iface *ei)
{
	struct ptab_ent	*pe;

	PTAB_FOREACH(pe, &ei->ei_known)
		probe_peer_gone(ei->ei_conf.ifid, pe->pe_peer.pubkey);
	ptab_clear(&ei->ei_known);
}

/* --- the peer set ------------------------------------------------------- */

static int
peer_cmp(const void *a, const void *b)
{
	return memcmp(((const struct omni_peer *)a)->pubkey,
	    ((const struct omni_peer *)b)->pubkey, OMNI_KEYLEN);
}

/*
 * Recompute the union of the views of the nuclei that answer and hand
 * it to the parent if it changed.  With none answering, say nothing:
 * the set stays as it was.
 */
static void
edge_update_peers(struct edge_iface *ei, const struct sig_clock *clk)
{
	struct ptab		 u;
	struct ptab_ent		*pe, *ue;
	struct edge_nucleus	*en;
	struct omni_peer	*set = NULL, *op;
	struct omni_addr	 ep;
	uint64_t		 now = clk->ms;
	size_t			 n = 0;
	int			 i, any = 0;

	ei->ei_dirty = 0;
	ptab_init(&u, EDGE_MAX_PEERS);
	for (i = 0; i < ei->ei_conf.nnuclei; i++) {
		en = &ei->ei_nuclei[i];
		if (!en->en_synced || !nucleus_fresh(ei, en, now))
			continue;
		any = 1;
		PTAB_FOREACH(pe, &en->en_view) {
			if ((ue = ptab_get(&u, pe->pe_peer.pubkey)) != NULL &&
			    ue->pe_stamp >= pe->pe_stamp)
				continue;
			ptab_put(&u, &pe->pe_peer, pe->pe_stamp, 0);
		}
	}
	if (!any) {
		ptab_free(&u);
		return;
	}
	edge_probe_set(ei, &u, clk);
	if (u.pt_n > 0 && (set = calloc(u.pt_n, sizeof(*set))) == NULL) {
		log_warn("%s: peer set", ei->ei_conf.name);
		ptab_free(&u);
		ei->ei_dirty = 1;
		return;
	}
	PTAB_FOREACH(pe, &u) {
		op = &set[n++];
		op->ifid = ei->ei_conf.ifid;
		memcpy(op->pubkey, pe->pe_peer.pubkey, OMNI_KEYLEN);
		op->vip = pe->pe_peer.vip;
		/* a path the probes proved beats what the nucleus saw */
		memset(&ep, 0, sizeof(ep));
		if (probe_endpoint(ei->ei_conf.ifid, op->pubkey, &ep) == 1)
			op->endpoint = ep;
		else
			proto_peer_to_addr(&pe->pe_peer, &op->endpoint);
	}
	ptab_free(&u);
	if (n > 1)
		qsort(set, n, sizeof(set[0]), peer_cmp);
	if (ei->ei_sent_once && n == ei->ei_nsent &&
	    (n == 0 || memcmp(set, ei->ei_sent, n * sizeof(set[0])) == 0)) {
		free(set);
		return;
	}
	log_info("%s: peer set now %zu peers", ei->ei_conf.name, n);
	edge_io.peers(ei->ei_conf.ifid, set, n);
	free(ei->ei_sent);
	ei->ei_sent = set;
	ei->ei_nsent = n;
	ei->ei_sent_once = 1;
}

/* --- parts of a page ------------------------------------------------------ */

/*
 * Entries of a part into a table; the interface itself never goes in.
 * PUNCH in the flags: the nucleus told each of these peers to probe us
 * now, so we probe them now too.
 */
static void
part_apply(struct edge_iface *ei, struct ptab *t, const struct sig_msg *m,
    const struct sig_clock *clk)
{
	uint32_t	 i;

	for (i = 0; i < m->npeers; i++) {
		if (memcmp(m->peers[i].pubkey, ei->ei_conf.pubkey,
		    SIG_KEYLEN) == 0)
			continue;
		if (m->peers[i].removed)
			ptab_del(t, m->peers[i].pubkey);
		else if (ptab_put(t, &m->peers[i], ++edge_seq, 0) == -1)
			log_warnx("%s: too many peers", ei->ei_conf.name);
		else if (m->flags & SIG_FL_PUNCH)
			edge_probe(ei, &m->peers[i], 1, clk);
	}
}

/*
 * A full sync is complete: the staging table becomes the view.
 *
 * If the nucleus restarted (another epoch), peers it does not know yet
 * stay a while, provisionally, until the others have registered again.
 * Provisional entries also survive a later full sync of the same epoch:
 * an edge whose REGISTER was answered late sends it again, and the
 * second answer, a full sync too, may hold fewer peers than the first
 * because the others have not registered yet either.  They go when
 * en_prov_until passes, as they would have without that second sync.
 */
static void
full_done(struct edge_iface *ei, struct edge_nucleus *en, uint64_t now)
{
	struct ptab_ent	*pe;
	uint64_t	 until;
	int		 restarted, kept = 0;

	restarted = en->en_synced && en->en_epoch != en->en_sepoch;
	PTAB_FOREACH(pe, &en->en_view) {
		if (!restarted && pe->pe_until == 0)
			continue;
		if (ptab_get(&en->en_stage, pe->pe_peer.pubkey) != NULL)
			continue;
		until = restarted ? 1 : pe->pe_until;
		if (ptab_put(&en->en_stage, &pe->pe_peer, pe->pe_stamp,
		    until) == 0)
			kept++;
	}
	if (restarted && kept > 0)
		en->en_prov_until = now + EDGE_SILENT_BEATS * hb_ms(ei);
	ptab_swap(&en->en_view, &en->en_stage);
	ptab_clear(&en->en_stage);
	en->en_epoch = en->en_sepoch;
	en->en_ver = en->en_scur;
	en->en_full = 0;
	en->en_synced = 1;
}

/*
 * One part: 1 applied, 0 ignored, 2 held for later.  The rules are in
 * PROTOCOL.md, "Versions".
 */
static int
part_take(struct edge_iface *ei, struct edge_nucleus *en,
    const struct sig_msg *m, const struct sig_clock *clk)
{
	uint64_t	 cur, now = clk->ms;

	if ((m->flags & SIG_FL_FULL) && m->from == 0 &&
	    (!en->en_full || en->en_sepoch != m->epoch ||
	    en->en_sbase != m->base || en->en_scur != 0)) {
		/* a full sync starts (over) */
		held_clear(en);
		ptab_clear(&en->en_stage);
		en->en_full = 1;
		en->en_sepoch = m->epoch;
		en->en_sbase = m->base;
		en->en_scur = 0;
	}
	if (m->flags & SIG_FL_FULL) {
		if (!en->en_full || m->epoch != en->en_sepoch ||
		    m->base != en->en_sbase)
			return 0;
		cur = en->en_scur;
	} else {
		if (en->en_full || !en->en_synced || m->epoch != en->en_epoch)
			return 0;
		cur = en->en_ver;
	}
	if (m->from > cur)
		return 2;
	if (m->from < cur || m->to < m->from)
		return 0;
	if (m->flags & SIG_FL_FULL) {
		part_apply(ei, &en->en_stage, m, clk);
		en->en_scur = m->to;
		if ((m->flags & SIG_FL_MORE) == 0) {
			full_done(ei, en, now);
			ei->ei_dirty = 1;
		}
	} else {
		part_apply(ei, &en->en_view, m, clk);
		en->en_ver = m->to;
		if ((m->flags & SIG_FL_MORE) == 0)
			ei->ei_dirty = 1;
	}
	return 1;
}

static void
part_hold(struct edge_nucleus *en, const struct sig_msg *m)
{
	int	 i;

	for (i = 0; i < en->en_nheld; i++)
		if (en->en_held[i]->from == m->from)
			return;		/* have it */
	if (en->en_nheld >= EDGE_HELD_PARTS)
		return;
	if ((en->en_held[en->en_nheld] = malloc(sizeof(*m))) == NULL)
		return;
	memcpy(en->en_held[en->en_nheld++], m, sizeof(*m));
}

/* A part, then any held part that now follows. */
static void
edge_part(struct edge_iface *ei, struct edge_nucleus *en,
    const struct sig_msg *m, const struct sig_clock *clk)
{
	struct sig_msg		*h;
	uint32_t		 lflags = 0;
	int			 i, r, applied = 0, progress;

	if ((r = part_take(ei, en, m, clk)) == 2) {
		part_hold(en, m);
		return;
	}
	if (r == 1) {
		applied = 1;
		lflags = m->flags;
	}
	/* held parts that follow now; the last applied is the furthest */
	do {
		progress = 0;
		for (i = 0; i < en->en_nheld; i++) {
			h = en->en_held[i];
			if ((r = part_take(ei, en, h, clk)) == 2)
				continue;
			if (r == 1) {
				applied = 1;
				lflags = h->flags;
			}
			free(h);
			en->en_held[i] = en->en_held[--en->en_nheld];
			progress = 1;
			break;
		}
	} while (progress);
	if (!applied)
		return;
	if ((lflags & SIG_FL_MORE) == 0) {
		/* up to date: no page outstanding */
		held_clear(en);
		en->en_rto_at = 0;
		en->en_rto = EDGE_RTO_MS;
	} else if (lflags & SIG_FL_LAST) {
		/* the page is complete and more follows: ask at once */
		en->en_rto = EDGE_RTO_MS;
		edge_sync_now(ei, en, clk);
	}
}

/* --- input ----------------------------------------------------------------- */

static int
edge_req_find(struct edge_nucleus *en, uint64_t re)
{
	int	 i;

	for (i = 0; i < EDGE_RECENT_REQS; i++)
		if (en->en_reqs[i] == re && re != 0)
			return i;
	return -1;
}

static void
edge_challenge(struct edge_iface *ei, struct edge_nucleus *en,
    const struct sig_msg *m, const struct sig_clock *clk)
{
	char	 abuf[OMNI_ADDRSTRLEN];

	if (en->en_has_nkey && memcmp(en->en_nkey, m->nkey, SIG_KEYLEN) != 0) {
		if (en->en_state == EN_REGISTERED ||
		    en->en_state == EN_REGISTERING) {
			/* a registered edge keeps the key it proved */
			if (!en->en_key_warned)
				log_warnx("%s: nucleus %s offers another key, "
				    "ignored while registered",
				    ei->ei_conf.name, omni_addr_str(
				    &en->en_addr, abuf, sizeof(abuf)));
			en->en_key_warned = 1;
			return;
		}
		en->en_has_nkey = 0;
		en->en_has_proof = 0;
		sodium_memzero(en->en_proof, sizeof(en->en_proof));
	}
	memcpy(en->en_cookie, m->cookie, SIG_COOKIELEN);
	en->en_has_cookie = 1;
	if (!en->en_has_nkey) {
		memcpy(en->en_nkey, m->nkey, SIG_KEYLEN);
		en->en_has_nkey = 1;
	}
	if (!en->en_has_proof) {
		if (!en->en_dh_pending) {
			en->en_dh_pending = 1;
			en->en_state = EN_PROVING;
			edge_io.dh(ei->ei_conf.ifid, en->en_nkey);
		}
		return;
	}
	if (en->en_state == EN_HELLO || en->en_state == EN_PROVING) {
		/* the answer to our first REGISTER */
		en->en_state = EN_REGISTERING;
		en->en_backoff = 1;
		edge_register_now(ei, en, clk);
		return;
	}
	if (en->en_state == EN_REGISTERED)
		log_info("%s: nucleus %s asks us to register again",
		    ei->ei_conf.name, omni_addr_str(&en->en_addr, abuf,
		    sizeof(abuf)));
	en->en_state = EN_REGISTERING;
	edge_reregister(ei, en, clk);
}

/*
 * PUNCH replay protection: a time already accepted, or at or below the
 * floor (what the ring forgot), is a replay.  PUNCHes answer no request,
 * so `re` cannot protect them; the nucleus's `time` never repeats.
 */
static int
punch_fresh(struct edge_nucleus *en, uint64_t t)
{
	unsigned	 i, min = 0;

	if (t <= en->en_pfloor)
		return 0;
	for (i = 0; i < en->en_npunch; i++) {
		if (en->en_punch[i] == t)
			return 0;
		if (en->en_punch[i] < en->en_punch[min])
			min = i;
	}
	if (en->en_npunch < EDGE_PUNCH_SEEN)
		en->en_punch[en->en_npunch++] = t;
	else if (t < en->en_punch[min])
		en->en_pfloor = t;
	else {
		en->en_pfloor = en->en_punch[min];
		en->en_punch[min] = t;
	}
	return 1;
}

/*
 * A nucleus we are registered with says a peer joined or moved: probe
 * it now (it probes us at the same moment), and put it in that
 * nucleus's view at once, provisionally: the delta that follows
 * confirms it, or it goes after EDGE_SILENT_BEATS heartbeats.
 */
static void
edge_punch(struct edge_iface *ei, struct edge_nucleus *en,
    const struct sig_rx *rx, const struct omni_addr *from,
    const struct sig_clock *clk)
{
	const struct sig_peer	*p = &rx->m.peers[0];
	struct ptab_ent		*pe;
	uint64_t		 until;

	if (en->en_state != EN_REGISTERED || !en->en_has_proof) {
		sig_drop(SIG_R_UNKNOWN_SOURCE, from, "punch: not registered");
		return;
	}
	if (!proto_auth_ok(rx, en->en_proof)) {
		sig_drop(SIG_R_BAD_PROOF, from, ei->ei_conf.name);
		return;
	}
	if (!punch_fresh(en, rx->m.time)) {
		sig_drop(SIG_R_REPLAY, from, "punch");
		return;
	}
	sig_stats.received[SIG_PUNCH]++;
	if (memcmp(p->pubkey, ei->ei_conf.pubkey, SIG_KEYLEN) == 0)
		return;
	edge_probe(ei, p, 1, clk);
	if (en->en_synced && !en->en_full) {
		pe = ptab_get(&en->en_view, p->pubkey);
		until = clk->ms + EDGE_SILENT_BEATS * hb_ms(ei);
		if (pe != NULL && pe->pe_until == 0) {
			/* confirmed already: the entry is the newer */
			pe->pe_peer = *p;
			pe->pe_stamp = ++edge_seq;
		} else if (ptab_put(&en->en_view, p, ++edge_seq, until) == 0 &&
		    en->en_prov_until < until)
			en->en_prov_until = until;
		ei->ei_dirty = 1;
	}
}

/* One datagram on the socket of interface ifid. */
/*
 * An answer may echo any of our last EDGE_RECENT_REQS requests, and a
 * page shares one echo over up to SIG_PAGE_PARTS datagrams, so the
 * echo alone lets a captured answer be replayed for several heartbeats
 * (it would refresh the nucleus's liveness).  Every datagram has a
 * random nonce: remember those of the answers accepted, enough of them
 * to cover every answer the echo window admits, and drop a repeat.
 */
static int
edge_answer_seen(struct edge_nucleus *en, const uint8_t *d)
{
	uint64_t	 n, w;
	unsigned	 i, have;

	/* the nucleus's nonces are a random prefix and a counter: fold */
	for (n = 0, i = 0; i < SIG_NONCELEN; i += sizeof(w)) {
		memcpy(&w, d + 2 + i, sizeof(w));
		n ^= w;
	}
	have = en->en_nseen < EDGE_SEEN_ANSWERS ? en->en_nseen :
	    EDGE_SEEN_ANSWERS;
	for (i = 0; i < have; i++)
		if (en->en_seen[i] == n)
			return 1;
	en->en_seen[en->en_nseen++ % EDGE_SEEN_ANSWERS] = n;
	return 0;
}

void
edge_input(uint32_t ifid, const uint8_t *d, size_t len,
    const struct omni_addr *from, const struct sig_clock *clk)
{
	static struct sig_rx	 rx;
	struct edge_iface	*ei;
	struct edge_nucleus	*en = NULL;
	const struct sig_msg	*m = &rx.m;
	char			 abuf[OMNI_ADDRSTRLEN], pbuf[OMNI_PREFIXSTRLEN];
	int			 i, rv, slot;

	if (len > SIG_MAXDGRAM) {
		sig_drop(SIG_R_TOO_BIG, from, NULL);
		return;
	}
	if ((ei = edge_find(ifid)) == NULL) {
		sig_drop(SIG_R_UNKNOWN_SOURCE, from, "no such interface");
		return;
	}
	for (i = 0; i < ei->ei_conf.nnuclei; i++)
		if (proto_addr_eq(&ei->ei_nuclei[i].en_addr, from)) {
			en = &ei->ei_nuclei[i];
			break;
		}
	if (en == NULL) {
		sig_drop(SIG_R_UNKNOWN_SOURCE, from, "not a nucleus");
		return;
	}
	if ((rv = proto_open_down(&rx, d, len, ei->ei_keys.down)) != SIG_OK) {
		sig_drop(rv, from, ei->ei_conf.name);
		return;
	}
	if ((rv = proto_check_time(m, clk)) != SIG_OK) {
		sig_drop(rv, from, ei->ei_conf.name);
		return;
	}
	if (m->type == SIG_PUNCH) {
		edge_punch(ei, en, &rx, from, clk);
		if (ei->ei_dirty)
			edge_update_peers(ei, clk);
		sodium_memzero(rx.plain, rx.plainlen);
		return;
	}
	if ((slot = edge_req_find(en, m->re)) == -1) {
		sig_drop(SIG_R_REPLAY, from, "answers no request of ours");
		return;
	}
	if (edge_answer_seen(en, d)) {
		sig_drop(SIG_R_REPLAY, from, "an answer seen before");
		return;
	}
	if (m->type == SIG_CHALLENGE) {
		sig_stats.received[m->type]++;
		edge_challenge(ei, en, m, clk);
		return;
	}
	if (!en->en_has_proof || !proto_auth_ok(&rx, en->en_proof)) {
		sig_drop(SIG_R_BAD_PROOF, from, ei->ei_conf.name);
		return;
	}
	sig_stats.received[m->type]++;
	if (!nucleus_fresh(ei, en, clk->ms))
		ei->ei_dirty = 1;	/* it counts again */
	en->en_last_ans = clk->ms;
	en->en_last_wall = clk->wall;
	en->en_rtt_us = (int64_t)(clk->ms - en->en_reqms[slot]) * 1000;
	if (log_getverbose() > 1)
		log_debug("%s: %s from %s", ei->ei_conf.name,
		    proto_type_name(m->type),
		    omni_addr_str(from, abuf, sizeof(abuf)));

	switch (m->type) {
	case SIG_REGISTER_ACK:
		if (en->en_state != EN_REGISTERED) {
			log_info("%s: registered with nucleus %s",
			    ei->ei_conf.name,
			    omni_addr_str(from, abuf, sizeof(abuf)));
			en->en_state = EN_REGISTERED;
			en->en_backoff = 1;
			en->en_next = clk->ms + hb_ms(ei);
			en->en_vip_warned = 0;
			en->en_key_warned = 0;
		}
		/* FALLTHROUGH */
	case SIG_HEARTBEAT_ACK:
		memcpy(en->en_cookie, m->cookie, SIG_COOKIELEN);
		en->en_has_cookie = 1;
		edge_part(ei, en, m, clk);
		break;
	case SIG_NAK:
		if (m->status == SIG_NAK_UNKNOWN_EDGE) {
			log_info("%s: nucleus %s does not know us, "
			    "registering again", ei->ei_conf.name,
			    omni_addr_str(from, abuf, sizeof(abuf)));
			en->en_state = EN_REGISTERING;
			edge_reregister(ei, en, clk);
		} else if (m->status == SIG_NAK_VIP_TAKEN) {
			sig_drop(SIG_R_VIP_TAKEN, from, ei->ei_conf.name);
			if (!en->en_vip_warned)
				log_warnx("%s: nucleus %s refused VIP %s: "
				    "another key holds it", ei->ei_conf.name,
				    omni_addr_str(from, abuf, sizeof(abuf)),
				    omni_prefix_str(&ei->ei_conf.vip, pbuf,
				    sizeof(pbuf)));
			en->en_vip_warned = 1;
			/* keep retrying on the backoff: the holder may go */
			en->en_state = EN_REGISTERING;
		} else
			log_debug("%s: NAK status %u ignored",
			    ei->ei_conf.name, m->status);
		break;
	case SIG_PEER_INFO:
		/* no queries are sent by the edge itself */
		break;
	}
	if (ei->ei_dirty)
		edge_update_peers(ei, clk);
	sodium_memzero(rx.plain, rx.plainlen);
}

/* The parent's answer to edge_io.dh. */
void
edge_dh_result(const struct sig_dh *dh, const struct sig_clock *clk)
{
	struct edge_iface	*ei;
	struct edge_nucleus	*en;
	char			 abuf[OMNI_ADDRSTRLEN];
	int			 i;

	if ((ei = edge_find(dh->ifid)) == NULL)
		return;
	for (i = 0; i < ei->ei_conf.nnuclei; i++) {
		en = &ei->ei_nuclei[i];
		if (!en->en_dh_pending || !en->en_has_nkey ||
		    memcmp(en->en_nkey, dh->peer, SIG_KEYLEN) != 0)
			continue;
		en->en_dh_pending = 0;
		if (!dh->ok) {
			log_warnx("%s: nucleus %s has an unusable key",
			    ei->ei_conf.name, omni_addr_str(&en->en_addr,
			    abuf, sizeof(abuf)));
			en->en_has_nkey = 0;
			en->en_state = EN_HELLO;
			continue;
		}
		memcpy(en->en_proof, dh->result, SIG_KEYLEN);
		en->en_has_proof = 1;
		en->en_state = EN_REGISTERING;
		en->en_backoff = 1;
		edge_register_now(ei, en, clk);
	}
}

static void
edge_tick_one(struct edge_iface *ei, struct edge_nucleus *en,
    const struct sig_clock *clk)
{
	struct ptab	*v = &en->en_view;
	size_t		 i;
	char		 abuf[OMNI_ADDRSTRLEN];

	if (en->en_prov_until != 0 && clk->ms >= en->en_prov_until) {
		for (i = 0; i < v->pt_cap; ) {
			if (v->pt_t[i].pe_used && v->pt_t[i].pe_until != 0)
				/* the deletion shifts: look at i again */
				ptab_del(v, v->pt_t[i].pe_peer.pubkey);
			else
				i++;
		}
		en->en_prov_until = 0;
		ei->ei_dirty = 1;
	}
	if (en->en_state == EN_REGISTERED && !nucleus_fresh(ei, en, clk->ms)) {
		log_info("%s: no answer from nucleus %s, registering again",
		    ei->ei_conf.name,
		    omni_addr_str(&en->en_addr, abuf, sizeof(abuf)));
		en->en_state = EN_HELLO;
		en->en_has_cookie = 0;
		en->en_backoff = 1;
		en->en_next = clk->ms;
		en->en_rto_at = 0;
		ei->ei_dirty = 1;
	}
	if (en->en_state == EN_PROVING)
		return;
	if (en->en_state == EN_REGISTERED && en->en_rto_at != 0 &&
	    clk->ms >= en->en_rto_at) {
		/* a page stayed incomplete: ask again from where we are */
		en->en_rto *= 2;
		if (en->en_rto > hb_ms(ei))
			en->en_rto = hb_ms(ei);
		edge_sync_now(ei, en, clk);
	}
	if (clk->ms < en->en_next)
		return;
	if (en->en_state != EN_REGISTERED)
		edge_register_now(ei, en, clk);
	else {
		edge_sync_now(ei, en, clk);
		en->en_next = clk->ms + hb_ms(ei);
	}
}

void
edge_tick(const struct sig_clock *clk)
{
	struct edge_iface	*ei;
	int			 i;

	TAILQ_FOREACH(ei, &edge_ifaces, ei_entry) {
		for (i = 0; i < ei->ei_conf.nnuclei; i++)
			edge_tick_one(ei, &ei->ei_nuclei[i], clk);
		if (ei->ei_dirty)
			edge_update_peers(ei, clk);
	}
}

/* Same cluster, keys and identity: registrations stay valid. */
static int
same_identity(const struct sig_iface *a, const struct sig_iface *b)
{
	return strcmp(a->cluster, b->cluster) == 0 &&
	    sodium_memcmp(a->key, b->key, OMNI_KEYLEN) == 0 &&
	    sodium_memcmp(a->name_key, b->name_key, OMNI_KEYLEN) == 0 &&
	    memcmp(a->pubkey, b->pubkey, OMNI_KEYLEN) == 0;
}

static void
edge_apply(struct edge_iface *ei, const struct sig_iface *c,
    const struct sig_clock *clk)
{
	struct edge_nucleus	 old[OMNI_MAX_NUCLEI];
	int			 i, j, nold, kept[OMNI_MAX_NUCLEI];

	if (!same_identity(&ei->ei_conf, c)) {
		/* a new identity: leave under the old one first */
		log_info("%s: identity changed, registering anew", c->name);
		edge_deregister_all(ei, clk);
		edge_probe_clear(ei);
		for (i = 0; i < ei->ei_conf.nnuclei; i++)
			nucleus_release(&ei->ei_nuclei[i]);
		ei->ei_conf = *c;
		proto_cluster_keys(c->key, &ei->ei_keys);
		for (i = 0; i < c->nnuclei; i++)
			nucleus_reset(&ei->ei_nuclei[i], &c->nuclei[i],
			    clk->ms);
		return;
	}
	/* Keep the state of nuclei still listed, leave the others. */
	nold = ei->ei_conf.nnuclei;
	memcpy(old, ei->ei_nuclei, sizeof(old));
	memset(ei->ei_nuclei, 0, sizeof(ei->ei_nuclei));
	memset(kept, 0, sizeof(kept));
	for (i = 0; i < c->nnuclei; i++) {
		for (j = 0; j < nold; j++)
			if (!kept[j] && proto_addr_eq(&old[j].en_addr,
			    &c->nuclei[i]))
				break;
		if (j < nold) {
			ei->ei_nuclei[i] = old[j];
			kept[j] = 1;
		} else
			nucleus_reset(&ei->ei_nuclei[i], &c->nuclei[i],
			    clk->ms);
	}
	for (j = 0; j < nold; j++)
		if (!kept[j]) {
			if (old[j].en_has_proof)
				edge_send(ei, &old[j], SIG_DEREGISTER, clk);
			nucleus_release(&old[j]);
		}
	/* A new VIP or port must reach the nuclei now. */
	if (!omni_prefix_eq(&ei->ei_conf.vip, &c->vip) ||
	    ei->ei_conf.wg_port != c->wg_port)
		for (i = 0; i < c->nnuclei; i++) {
			if (ei->ei_nuclei[i].en_state == EN_REGISTERED)
				ei->ei_nuclei[i].en_state = EN_REGISTERING;
			ei->ei_nuclei[i].en_backoff = 1;
			ei->ei_nuclei[i].en_next = clk->ms;
		}
	ei->ei_conf = *c;
	edge_update_peers(ei, clk);
}

static void
edge_iface_free(struct edge_iface *ei)
{
	int	 i;

	for (i = 0; i < ei->ei_conf.nnuclei; i++)
		nucleus_release(&ei->ei_nuclei[i]);
	free(ei->ei_sent);
	ptab_free(&ei->ei_known);
	sodium_memzero(ei, sizeof(*ei));
	free(ei);
}

/*
 * Swap in a new set of interfaces (already validated).  Interfaces
 * that are gone send DEREGISTER to their nuclei before they stop; the
 * caller closes their sockets afterwards.
 */
void
edge_reconf(const struct sig_iface *ifs, size_t n, const struct sig_clock *clk)
{
	struct edge_iface	*ei, *tmp;
	size_t			 k;
	int			 i;

	TAILQ_FOREACH_SAFE(ei, &edge_ifaces, ei_entry, tmp) {
		for (k = 0; k < n; k++)
			if (ifs[k].ifid == ei->ei_conf.ifid)
				break;
		if (k < n)
			continue;
		log_info("%s: interface removed", ei->ei_conf.name);
		edge_deregister_all(ei, clk);
		TAILQ_REMOVE(&edge_ifaces, ei, ei_entry);
		edge_iface_free(ei);
	}
	for (k = 0; k < n; k++) {
		if ((ei = edge_find(ifs[k].ifid)) != NULL) {
			edge_apply(ei, &ifs[k], clk);
			continue;
		}
		if ((ei = calloc(1, sizeof(*ei))) == NULL) {
			log_warn("%s", ifs[k].name);
			continue;
		}
		ei->ei_conf = ifs[k];
		proto_cluster_keys(ifs[k].key, &ei->ei_keys);
		ptab_init(&ei->ei_known, EDGE_MAX_PEERS);
		for (i = 0; i < ifs[k].nnuclei; i++)
			nucleus_reset(&ei->ei_nuclei[i], &ifs[k].nuclei[i],
			    clk->ms);
		TAILQ_INSERT_TAIL(&edge_ifaces, ei, ei_entry);
		log_info("%s: edge of cluster %s with %d nuclei",
		    ifs[k].name, ifs[k].cluster, ifs[k].nnuclei);
	}
	/* the probe engine: keys, nuclei and STUN servers of each */
	for (k = 0; k < n; k++)
		if (edge_find(ifs[k].ifid) != NULL)
			probe_iface(ifs[k].ifid, ifs[k].key, ifs[k].pubkey,
			    ifs[k].nuclei, ifs[k].nnuclei, ifs[k].stun,
			    ifs[k].nstun);
}

/*
 * The probe engine's candidates changed (a roam, a new NAT mapping):
 * tell every nucleus we are registered with now, at most every
 * EDGE_CANDS_MS; the others hear them in the REGISTER to come.
 */
void
edge_cands_changed(uint32_t ifid, const struct sig_clock *clk)
{
	struct edge_iface	*ei;
	struct edge_nucleus	*en;
	int			 i;

	if ((ei = edge_find(ifid)) == NULL)
		return;
	for (i = 0; i < ei->ei_conf.nnuclei; i++) {
		en = &ei->ei_nuclei[i];
		if (en->en_state != EN_REGISTERED)
			continue;
		if (en->en_cands_ms != 0 &&
		    clk->ms < en->en_cands_ms + EDGE_CANDS_MS) {
			/* edge_tick sends the heartbeat */
			if (en->en_next > en->en_cands_ms + EDGE_CANDS_MS)
				en->en_next = en->en_cands_ms + EDGE_CANDS_MS;
			continue;
		}
		en->en_cands_ms = clk->ms;
		edge_sync_now(ei, en, clk);
	}
}

/* The probe engine chose another endpoint for a peer: re-send the set. */
void
edge_endpoint_changed(uint32_t ifid, const struct sig_clock *clk)
{
	struct edge_iface	*ei;

	if ((ei = edge_find(ifid)) == NULL)
		return;
	ei->ei_dirty = 1;
	edge_update_peers(ei, clk);
}

/* Leave every nucleus (on SIGTERM). */
void
edge_shutdown(const struct sig_clock *clk)
{
	struct edge_iface	*ei;

	TAILQ_FOREACH(ei, &edge_ifaces, ei_entry)
		edge_deregister_all(ei, clk);
}

/* The idx-th interface's name and registration state; 0 past the end. */
int
edge_status(size_t idx, char *name, size_t len, int *registered)
{
	struct edge_iface	*ei;
	int			 i;

	TAILQ_FOREACH(ei, &edge_ifaces, ei_entry)
		if (idx-- == 0)
			break;
	if (ei == NULL)
		return 0;
	strlcpy(name, ei->ei_conf.name, len);
	*registered = 0;
	for (i = 0; i < ei->ei_conf.nnuclei; i++)
		if (ei->ei_nuclei[i].en_state == EN_REGISTERED)
			*registered = 1;
	return 1;
}

/* The idx-th (interface, nucleus) pair; 0 past the end. */
int
edge_nucleus_status(size_t idx, const struct sig_clock *clk,
    struct sig_status *st)
{
	struct edge_iface	*ei;
	struct edge_nucleus	*en;

	(void)clk;
	TAILQ_FOREACH(ei, &edge_ifaces, ei_entry) {
		if (idx >= (size_t)ei->ei_conf.nnuclei) {
			idx -= ei->ei_conf.nnuclei;
			continue;
		}
		en = &ei->ei_nuclei[idx];
		memset(st, 0, sizeof(*st));
		st->ifid = ei->ei_conf.ifid;
		st->addr = en->en_addr;
		st->registered = en->en_state == EN_REGISTERED;
		st->last_answer = en->en_last_ans != 0 ? en->en_last_wall : 0;
		st->rtt_us = en->en_rtt_us;
		if (en->en_has_nkey)
			memcpy(st->key, en->en_nkey, OMNI_KEYLEN);
		st->peers = en->en_view.pt_n;
		return 1;
	}
	return 0;
}
