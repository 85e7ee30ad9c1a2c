/*
 * Nucleus role: the registry of edges, per cluster.
 *
 * A cluster is known here once an edge registered in it with a tag
 * made with the key derived from our root and the cluster's name; its
 * key is cached with it.  Per cluster the edges sit in two red-black
 * trees, by WireGuard public key and by VIP.  Everything is driven by
 * nucleus_input() (one datagram in, at most one answer out) and
 * nucleus_expire(); there is no I/O here.
 */
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "signald.h"

#define NONCE_RING	4	/* nonces remembered for the latest second */

struct nedge {
	RB_ENTRY(nedge)		 ne_bykey;
	RB_ENTRY(nedge)		 ne_byvip;
	struct ncluster		*ne_cluster;
	uint8_t			 ne_pubkey[SIG_KEYLEN];
	struct omni_prefix	 ne_vip;
	uint8_t			 ne_ep_af;
	uint8_t			 ne_ep[16];
	uint16_t		 ne_port;
	uint64_t		 ne_last_seen;	/* monotonic ms */
	/* a small guard against replays until the replay cache comes */
	uint64_t		 ne_last_ts;
	uint8_t			 ne_nonces[NONCE_RING][SIG_NONCELEN];
	unsigned		 ne_nnonces;
};

RB_HEAD(nedge_bykey, nedge);
RB_HEAD(nedge_byvip, nedge);

struct ncluster {
	RB_ENTRY(ncluster)	 nc_entry;
	char			 nc_name[SIG_CLUSTERMAX + 1];
	uint8_t			 nc_key[SIG_KEYLEN];
	struct nedge_bykey	 nc_bykey;
	struct nedge_byvip	 nc_byvip;
	size_t			 nc_nedges;
	int			 nc_truncated;	/* logged at info once */
};

RB_HEAD(ncluster_tree, ncluster);

struct rl_slot {
	uint8_t			 ip[16];
	uint64_t		 ms;
	uint64_t		 mtokens;	/* thousandths of a token */
	int			 used;
};

struct nucleus {
	uint8_t			 n_root[SIG_KEYLEN];
	uint64_t		 n_timeout_ms;
	struct ncluster_tree	 n_clusters;
	size_t			 n_nclusters;
	size_t			 n_nedges;
	uint8_t			 n_rlkey[crypto_shorthash_KEYBYTES];
	struct rl_slot		 n_rl[RL_SLOTS];
	uint64_t		 n_gms;
	uint64_t		 n_gmtokens;
};

static int
nedge_keycmp(struct nedge *a, struct nedge *b)
{
	return memcmp(a->ne_pubkey, b->ne_pubkey, SIG_KEYLEN);
}

static int
nedge_vipcmp(struct nedge *a, struct nedge *b)
{
	if (a->ne_vip.af != b->ne_vip.af)
		return a->ne_vip.af < b->ne_vip.af ? -1 : 1;
	return memcmp(a->ne_vip.addr, b->ne_vip.addr, 16);
}

static int
ncluster_cmp(struct ncluster *a, struct ncluster *b)
{
	return strcmp(a->nc_name, b->nc_name);
}

/* libbsd's RB_GENERATE_STATIC wants __unused, which it does not define. */
#define NUCLEUS_RB(name, type, field, cmp)				\
	RB_GENERATE_INTERNAL(name, type, field, cmp,			\
	    __attribute__((__unused__)) static)
NUCLEUS_RB(nedge_bykey, nedge, ne_bykey, nedge_keycmp)
NUCLEUS_RB(nedge_byvip, nedge, ne_byvip, nedge_vipcmp)
NUCLEUS_RB(ncluster_tree, ncluster, nc_entry, ncluster_cmp)

struct nucleus *
nucleus_new(const uint8_t *root, uint32_t peer_timeout)
{
	struct nucleus	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	memcpy(n->n_root, root, SIG_KEYLEN);
	nucleus_set_timeout(n, peer_timeout);
	RB_INIT(&n->n_clusters);
	crypto_shorthash_keygen(n->n_rlkey);
	n->n_gmtokens = (uint64_t)RL_GLOBAL_BURST * 1000;
	return n;
}

void
nucleus_set_timeout(struct nucleus *n, uint32_t peer_timeout)
{
	if (peer_timeout == 0)
		peer_timeout = OMNI_PEER_TIMEOUT;
	n->n_timeout_ms = (uint64_t)peer_timeout * 1000;
}

int
nucleus_same_root(const struct nucleus *n, const uint8_t *root)
{
	return sodium_memcmp(n->n_root, root, SIG_KEYLEN) == 0;
}

static void
nedge_remove(struct nucleus *n, struct nedge *e)
{
	struct ncluster	*cl = e->ne_cluster;

	RB_REMOVE(nedge_bykey, &cl->nc_bykey, e);
	RB_REMOVE(nedge_byvip, &cl->nc_byvip, e);
	cl->nc_nedges--;
	n->n_nedges--;
	free(e);
}

static void
ncluster_remove(struct nucleus *n, struct ncluster *cl)
{
	struct nedge	*e, *tmp;

	RB_FOREACH_SAFE(e, nedge_bykey, &cl->nc_bykey, tmp)
		nedge_remove(n, e);
	RB_REMOVE(ncluster_tree, &n->n_clusters, cl);
	n->n_nclusters--;
	sodium_memzero(cl->nc_key, sizeof(cl->nc_key));
	free(cl);
}

void
nucleus_free(struct nucleus *n)
{
	struct ncluster	*cl, *tmp;

	if (n == NULL)
		return;
	RB_FOREACH_SAFE(cl, ncluster_tree, &n->n_clusters, tmp)
		ncluster_remove(n, cl);
	sodium_memzero(n->n_root, sizeof(n->n_root));
	free(n);
}

size_t
nucleus_nedges(const struct nucleus *n)
{
	return n->n_nedges;
}

/* Clusters with at least one edge. */
size_t
nucleus_nclusters(const struct nucleus *n)
{
	struct ncluster	*cl;
	size_t		 c = 0;

	RB_FOREACH(cl, ncluster_tree,
	    &((struct nucleus *)n)->n_clusters)
		if (cl->nc_nedges > 0)
			c++;
	return c;
}

static struct ncluster *
ncluster_find(struct nucleus *n, const char *name)
{
	struct ncluster	 key;

	strlcpy(key.nc_name, name, sizeof(key.nc_name));
	return RB_FIND(ncluster_tree, &n->n_clusters, &key);
}

static struct nedge *
nedge_find_key(struct ncluster *cl, const uint8_t *pubkey)
{
	struct nedge	 key;

	memcpy(key.ne_pubkey, pubkey, SIG_KEYLEN);
	return RB_FIND(nedge_bykey, &cl->nc_bykey, &key);
}

static struct nedge *
nedge_find_vip(struct ncluster *cl, const struct omni_prefix *vip)
{
	struct nedge	 key;

	memset(&key.ne_vip, 0, sizeof(key.ne_vip));
	key.ne_vip.af = vip->af;
	memcpy(key.ne_vip.addr, vip->addr, sizeof(key.ne_vip.addr));
	return RB_FIND(nedge_byvip, &cl->nc_byvip, &key);
}

static int
nedge_live(const struct nucleus *n, const struct nedge *e, uint64_t now)
{
	return now < e->ne_last_seen + n->n_timeout_ms;
}

/* --- rate limit ----------------------------------------------------- */

static void
bucket_refill(uint64_t *mtokens, uint64_t *last, uint64_t now,
    uint64_t rate, uint64_t burst)
{
	uint64_t	 el;

	if (now > *last) {
		el = now - *last;
		/* 1 ms at rate r/s is r thousandths of a token */
		if (el > burst * 1000)
			el = burst * 1000;
		*mtokens += el * rate;
		if (*mtokens > burst * 1000)
			*mtokens = burst * 1000;
	}
	*last = now;
}

/*
 * Token buckets per source IP in a fixed table (hashed with a secret
 * key, so senders cannot aim at one slot), plus one global bucket.
 * When every probed slot is busy the least recently used one is
 * reused: an evicted source starts with a full bucket, so eviction
 * can only make the limit looser, never lock a sender out.
 * Returns 0 to accept, -1 to drop.
 */
int
nucleus_ratelimit(struct nucleus *n, const struct omni_addr *from,
    uint64_t now)
{
	struct rl_slot	*s, *victim = NULL;
	uint8_t		 ip[16], af, h[crypto_shorthash_BYTES];
	uint64_t	 idx;
	int		 i;

	bucket_refill(&n->n_gmtokens, &n->n_gms, now, RL_GLOBAL_RATE,
	    RL_GLOBAL_BURST);
	if (n->n_gmtokens < 1000)
		return -1;

	if (proto_addr_ip(from, &af, ip) == -1)
		return -1;
	if (af == AF_INET) {
		memmove(ip + 12, ip, 4);
		memset(ip, 0, 10);
		ip[10] = ip[11] = 0xff;
	}
	crypto_shorthash(h, ip, sizeof(ip), n->n_rlkey);
	memcpy(&idx, h, sizeof(idx));
	for (i = 0; i < RL_PROBES; i++) {
		s = &n->n_rl[(idx + i) % RL_SLOTS];
		if (s->used && memcmp(s->ip, ip, sizeof(ip)) == 0) {
			victim = s;
			break;
		}
		if (!s->used) {
			if (victim == NULL || victim->used)
				victim = s;
		} else if (victim == NULL ||
		    (victim->used && s->ms < victim->ms))
			victim = s;
	}
	s = victim;
	if (!s->used || memcmp(s->ip, ip, sizeof(ip)) != 0) {
		memcpy(s->ip, ip, sizeof(ip));
		s->used = 1;
		s->ms = now;
		s->mtokens = (uint64_t)RL_BURST * 1000;
	}
	bucket_refill(&s->mtokens, &s->ms, now, RL_RATE, RL_BURST);
	if (s->mtokens < 1000)
		return -1;
	s->mtokens -= 1000;
	n->n_gmtokens -= 1000;
	return 0;
}

/* --- answers -------------------------------------------------------- */

static void
peer_from_edge(const struct nedge *e, struct sig_peer *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->pubkey, e->ne_pubkey, SIG_KEYLEN);
	p->vip = e->ne_vip;
	p->ep_af = e->ne_ep_af;
	memcpy(p->ep, e->ne_ep, sizeof(p->ep));
	p->port = e->ne_port;
}

static struct nedge *
ring_next(struct ncluster *cl, struct nedge *e)
{
	struct nedge	*x;

	if ((x = RB_NEXT(nedge_bykey, &cl->nc_bykey, e)) == NULL)
		x = RB_MIN(nedge_bykey, &cl->nc_bykey);
	return x;
}

static struct nedge *
ring_prev(struct ncluster *cl, struct nedge *e)
{
	struct nedge	*x;

	if ((x = RB_PREV(nedge_bykey, &cl->nc_bykey, e)) == NULL)
		x = RB_MAX(nedge_bykey, &cl->nc_bykey);
	return x;
}

static int
picked(struct nedge **set, size_t n, struct nedge *e)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (set[i] == e)
			return 1;
	return 0;
}

/*
 * The live edges of the cluster other than self.  While all of them
 * fit this is simply all of them.  When they do not, the choice is
 * self's neighbours in key order, alternately after and before it,
 * nearest first: then if A lists B, B lists A as well, and a cut from
 * the end (when the datagram fills up) keeps that symmetry as far as
 * it goes.  Splitting the list over datagrams comes in a later
 * version.  Returns 1 when no live edge was left out.
 */
static int
fill_peers(struct nucleus *n, struct ncluster *cl, struct nedge *self,
    uint64_t now, struct sig_msg *m)
{
	struct nedge	*set[SIG_MAX_PEERS], *s = self, *p = self;
	size_t		 np = 0, steps = 0;
	int		 sdone = 0, pdone = 0;

	while (np < SIG_MAX_PEERS && (!sdone || !pdone) &&
	    steps++ < 2 * cl->nc_nedges) {
		if (!sdone) {
			s = ring_next(cl, s);
			if (s == self || picked(set, np, s))
				sdone = 1;
			else if (nedge_live(n, s, now))
				set[np++] = s;
		}
		if (!pdone && np < SIG_MAX_PEERS) {
			p = ring_prev(cl, p);
			if (p == self || picked(set, np, p))
				pdone = 1;
			else if (nedge_live(n, p, now))
				set[np++] = p;
		}
	}
	for (m->npeers = 0; m->npeers < np; m->npeers++)
		peer_from_edge(set[m->npeers], &m->peers[m->npeers]);
	if (sdone && pdone)
		return 1;
	/*
	 * The list filled up: is a live edge left between the walkers?
	 * Past the unfinished walker's position lie only nodes it has
	 * not seen, then ones the other walker saw (picked or dead).
	 */
	if (!sdone) {
		for (s = ring_next(cl, s); s != self && !picked(set, np, s);
		    s = ring_next(cl, s))
			if (nedge_live(n, s, now))
				return 0;
	} else {
		for (p = ring_prev(cl, p); p != self && !picked(set, np, p);
		    p = ring_prev(cl, p))
			if (nedge_live(n, p, now))
				return 0;
	}
	return 1;
}

/*
 * Encode, dropping peers from the end until the datagram fits.
 * complete: the list held every live edge before that.
 */
static void
nucleus_encode(struct ncluster *cl, const uint8_t *key, struct sig_msg *m,
    int complete, uint8_t *reply, size_t *replylen)
{
	uint32_t	 wanted = m->npeers;
	int		 rv;

	while ((rv = proto_encode(m, key, reply, SIG_MAXDGRAM, replylen)) ==
	    SIG_R_TOO_BIG && m->npeers > 0)
		m->npeers--;
	if (rv != SIG_OK) {
		log_warnx("cannot encode %s: %s", proto_type_name(m->type),
		    proto_reason_name(rv));
		*replylen = 0;
		return;
	}
	if (cl == NULL || (m->type != SIG_REGISTER_ACK &&
	    m->type != SIG_HEARTBEAT_ACK))
		return;
	if (!complete || m->npeers < wanted) {
		if (!cl->nc_truncated)
			log_info("cluster %s: more edges than fit in one "
			    "answer, each edge gets its %u nearest",
			    cl->nc_name, m->npeers);
		cl->nc_truncated = 1;
	} else
		cl->nc_truncated = 0;
}

static void
answer(struct nucleus *n, struct ncluster *cl, const uint8_t *key,
    int type, uint32_t status, struct nedge *self, const char *cluster,
    const struct sig_clock *clk, uint8_t *reply, size_t *replylen)
{
	struct sig_msg	 m;
	int		 complete = 1;

	proto_init_msg(&m, type, cluster, clk->wall);
	m.status = status;
	if (self != NULL && cl != NULL)
		complete = fill_peers(n, cl, self, clk->ms, &m);
	nucleus_encode(cl, key, &m, complete, reply, replylen);
}

/* --- requests ------------------------------------------------------- */

/* Reject a message older than the edge's latest or seen this second. */
static int
nedge_fresh(struct nedge *e, const struct sig_msg *m)
{
	unsigned	 i;

	if (m->timestamp < e->ne_last_ts)
		return 0;
	if (m->timestamp == e->ne_last_ts)
		for (i = 0; i < e->ne_nnonces && i < NONCE_RING; i++)
			if (sodium_memcmp(e->ne_nonces[i], m->nonce,
			    SIG_NONCELEN) == 0)
				return 0;
	return 1;
}

static void
nedge_seen(struct nedge *e, const struct sig_msg *m, uint8_t af,
    const uint8_t *ip, uint64_t now)
{
	if (m->timestamp != e->ne_last_ts) {
		e->ne_last_ts = m->timestamp;
		e->ne_nnonces = 0;
	}
	memcpy(e->ne_nonces[e->ne_nnonces % NONCE_RING], m->nonce,
	    SIG_NONCELEN);
	e->ne_nnonces++;
	e->ne_ep_af = af;
	memcpy(e->ne_ep, ip, 16);
	e->ne_last_seen = now;
}

static struct ncluster *
ncluster_add(struct nucleus *n, const char *name, const uint8_t *key)
{
	struct ncluster	*cl;

	if (n->n_nclusters >= NUCLEUS_MAX_CLUSTERS)
		return NULL;
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		log_warn("cluster %s", name);
		return NULL;
	}
	strlcpy(cl->nc_name, name, sizeof(cl->nc_name));
	memcpy(cl->nc_key, key, SIG_KEYLEN);
	RB_INIT(&cl->nc_bykey);
	RB_INIT(&cl->nc_byvip);
	RB_INSERT(ncluster_tree, &n->n_clusters, cl);
	n->n_nclusters++;
	return cl;
}

static int
do_register(struct nucleus *n, struct ncluster *cl, const uint8_t *key,
    const struct sig_msg *m, const struct omni_addr *from, uint8_t af,
    const uint8_t *ip, const struct sig_clock *clk, uint8_t *reply,
    size_t *replylen)
{
	struct nedge	*e = NULL, *v = NULL;
	char		 pbuf[OMNI_PREFIXSTRLEN];

	if (cl != NULL) {
		e = nedge_find_key(cl, m->pubkey);
		v = nedge_find_vip(cl, &m->vip);
	}
	if (e != NULL && !nedge_fresh(e, m))
		return sig_drop(SIG_R_STALE, from, "replayed register");
	if (v != NULL && v != e) {
		if (nedge_live(n, v, clk->ms)) {
			answer(n, cl, key, SIG_NAK, SIG_NAK_VIP_TAKEN, NULL,
			    m->cluster, clk, reply, replylen);
			log_info("cluster %s: VIP %s is held by another key, "
			    "registration refused", m->cluster,
			    omni_prefix_str(&m->vip, pbuf, sizeof(pbuf)));
			return sig_drop(SIG_R_VIP_TAKEN, from, NULL);
		}
		nedge_remove(n, v);	/* expired holder */
	}
	if (cl == NULL && (cl = ncluster_add(n, m->cluster, key)) == NULL)
		return sig_drop(SIG_R_TABLE_FULL, from, "too many clusters");
	if (e == NULL) {
		if (n->n_nedges >= NUCLEUS_MAX_EDGES)
			return sig_drop(SIG_R_TABLE_FULL, from,
			    "too many edges");
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			log_warn("edge");
			return SIG_R_TABLE_FULL;
		}
		memcpy(e->ne_pubkey, m->pubkey, SIG_KEYLEN);
		e->ne_cluster = cl;
		RB_INSERT(nedge_bykey, &cl->nc_bykey, e);
		cl->nc_nedges++;
		n->n_nedges++;
		e->ne_vip = m->vip;
		RB_INSERT(nedge_byvip, &cl->nc_byvip, e);
		log_info("cluster %s: edge %s registered", cl->nc_name,
		    omni_prefix_str(&m->vip, pbuf, sizeof(pbuf)));
	} else if (!omni_prefix_eq(&e->ne_vip, &m->vip)) {
		RB_REMOVE(nedge_byvip, &cl->nc_byvip, e);
		e->ne_vip = m->vip;
		RB_INSERT(nedge_byvip, &cl->nc_byvip, e);
		log_info("cluster %s: edge moved to VIP %s", cl->nc_name,
		    omni_prefix_str(&m->vip, pbuf, sizeof(pbuf)));
	}
	e->ne_port = m->port;
	nedge_seen(e, m, af, ip, clk->ms);
	answer(n, cl, cl->nc_key, SIG_REGISTER_ACK, 0, e, cl->nc_name, clk,
	    reply, replylen);
	return SIG_OK;
}

static int
do_heartbeat(struct nucleus *n, struct ncluster *cl, const uint8_t *key,
    const struct sig_msg *m, const struct omni_addr *from, uint8_t af,
    const uint8_t *ip, const struct sig_clock *clk, uint8_t *reply,
    size_t *replylen)
{
	struct nedge	*e = NULL;

	if (cl != NULL)
		e = nedge_find_key(cl, m->pubkey);
	if (e != NULL && !nedge_live(n, e, clk->ms)) {
		/* expired but not yet swept: it must register again */
		nedge_remove(n, e);
		e = NULL;
	}
	if (e == NULL) {
		answer(n, cl, key, SIG_NAK, SIG_NAK_UNKNOWN_EDGE, NULL,
		    m->cluster, clk, reply, replylen);
		return SIG_OK;
	}
	if (!nedge_fresh(e, m))
		return sig_drop(SIG_R_STALE, from, "replayed heartbeat");
	nedge_seen(e, m, af, ip, clk->ms);
	answer(n, cl, key, SIG_HEARTBEAT_ACK, 0, e, cl->nc_name, clk, reply,
	    replylen);
	return SIG_OK;
}

static int
do_deregister(struct nucleus *n, struct ncluster *cl,
    const struct sig_msg *m, const struct omni_addr *from)
{
	struct nedge	*e = NULL;
	char		 pbuf[OMNI_PREFIXSTRLEN];

	if (cl != NULL)
		e = nedge_find_key(cl, m->pubkey);
	if (e == NULL)
		return SIG_OK;
	if (!nedge_fresh(e, m))
		return sig_drop(SIG_R_STALE, from, "replayed deregister");
	log_info("cluster %s: edge %s deregistered", cl->nc_name,
	    omni_prefix_str(&e->ne_vip, pbuf, sizeof(pbuf)));
	nedge_remove(n, e);
	return SIG_OK;
}

static int
do_query(struct nucleus *n, struct ncluster *cl, const uint8_t *key,
    const struct sig_msg *m, const struct sig_clock *clk, uint8_t *reply,
    size_t *replylen)
{
	struct sig_msg	 a;
	struct nedge	*v = NULL;

	proto_init_msg(&a, SIG_PEER_INFO, m->cluster, clk->wall);
	if (cl != NULL)
		v = nedge_find_vip(cl, &m->vip);
	if (v != NULL && nedge_live(n, v, clk->ms)) {
		peer_from_edge(v, &a.peers[0]);
		a.npeers = 1;
	}
	nucleus_encode(cl, key, &a, 1, reply, replylen);
	return SIG_OK;
}

/*
 * One datagram from a source.  Nothing is answered unless the tag
 * verified; *replylen is the length of the answer to send back to the
 * source (0: none).  Returns SIG_OK or why the datagram was dropped.
 */
int
nucleus_input(struct nucleus *n, const uint8_t *d, size_t len,
    const struct omni_addr *from, const struct sig_clock *clk,
    uint8_t *reply, size_t *replylen)
{
	struct ncluster	*cl;
	struct sig_msg	 m;
	char		 cluster[SIG_CLUSTERMAX + 1];
	uint8_t		 tmpkey[SIG_KEYLEN], ip[16], af;
	const uint8_t	*key;
	int		 type, rv;

	*replylen = 0;
	if (len > SIG_MAXDGRAM)
		return sig_drop(SIG_R_TOO_BIG, from, NULL);
	if (proto_addr_ip(from, &af, ip) == -1)
		return sig_drop(SIG_R_MALFORMED, from, "source family");
	if (nucleus_ratelimit(n, from, clk->ms) == -1)
		return sig_drop(SIG_R_RATE_LIMITED, from, NULL);
	if ((rv = proto_peek(d, len, &type, cluster)) != SIG_OK)
		return sig_drop(rv, from, "peek");
	switch (type) {
	case SIG_REGISTER:
	case SIG_HEARTBEAT:
	case SIG_DEREGISTER:
	case SIG_QUERY_PEER:
		break;
	default:
		return sig_drop(SIG_R_UNKNOWN_TYPE, from,
		    proto_type_name(type));
	}
	if ((cl = ncluster_find(n, cluster)) != NULL)
		key = cl->nc_key;
	else {
		/* not cached until a registration proves the cluster */
		keys_derive_cluster(n->n_root, KEY_PURPOSE_SIGNAL, cluster,
		    tmpkey);
		key = tmpkey;
	}
	if ((rv = proto_verify(d, len, key)) != SIG_OK) {
		rv = sig_drop(rv, from, cluster);
		goto out;
	}
	if ((rv = proto_decode(d, len, &m)) != SIG_OK) {
		rv = sig_drop(rv, from, "decode");
		goto out;
	}
	if ((rv = proto_check_time(&m, clk->wall)) != SIG_OK) {
		rv = sig_drop(rv, from, "timestamp");
		goto out;
	}
	sig_stats.received[type]++;
	switch (type) {
	case SIG_REGISTER:
		rv = do_register(n, cl, key, &m, from, af, ip, clk, reply,
		    replylen);
		break;
	case SIG_HEARTBEAT:
		rv = do_heartbeat(n, cl, key, &m, from, af, ip, clk, reply,
		    replylen);
		break;
	case SIG_DEREGISTER:
		rv = do_deregister(n, cl, &m, from);
		break;
	case SIG_QUERY_PEER:
		rv = do_query(n, cl, key, &m, clk, reply, replylen);
		break;
	}
 out:
	sodium_memzero(tmpkey, sizeof(tmpkey));
	return rv;
}

/* Drop edges not heard from within the peer timeout, then empty clusters. */
void
nucleus_expire(struct nucleus *n, const struct sig_clock *clk)
{
	struct ncluster	*cl, *ctmp;
	struct nedge	*e, *etmp;
	char		 pbuf[OMNI_PREFIXSTRLEN];

	RB_FOREACH_SAFE(cl, ncluster_tree, &n->n_clusters, ctmp) {
		RB_FOREACH_SAFE(e, nedge_bykey, &cl->nc_bykey, etmp) {
			if (nedge_live(n, e, clk->ms))
				continue;
			log_info("cluster %s: edge %s expired", cl->nc_name,
			    omni_prefix_str(&e->ne_vip, pbuf, sizeof(pbuf)));
			nedge_remove(n, e);
		}
		if (cl->nc_nedges == 0)
			ncluster_remove(n, cl);
	}
}
