/*
 * Nucleus role: the registry of edges, per cluster (PROTOCOL.md,
 * "Nucleus").
 *
 * A cluster is known here once an edge registered in it; its name
 * comes sealed in every datagram and its keys follow from our root.
 * Lookups go through hash tables keyed with a secret: clusters by
 * name, edges by (cluster, public key) and live edges by (cluster,
 * VIP).  Per cluster the edges, live ones and tombstones, also sit in
 * a tree ordered by the version of their latest change: a sync
 * request is a walk of that tree from the requester's version.
 * Everything is driven by nucleus_input() (one datagram in, at most
 * a page of answers out) and nucleus_expire(); there is no I/O here.
 */
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "signald.h"

struct nedge {
	struct nedge		*ne_knext;	/* hash chain by key */
	struct nedge		*ne_vnext;	/* hash chain by VIP (live) */
	RB_ENTRY(nedge)		 ne_log;	/* cluster log by version */
	TAILQ_ENTRY(nedge)	 ne_q;		/* LRU (live) or tombstones */
	struct ncluster		*ne_cluster;
	uint8_t			 ne_pubkey[SIG_KEYLEN];
	struct omni_prefix	 ne_vip;
	uint8_t			 ne_ep_af;
	uint8_t			 ne_live;
	uint16_t		 ne_port;
	uint8_t			 ne_ep[16];
	uint64_t		 ne_seen;	/* ms: heard (live), removed */
	uint64_t		 ne_version;
	uint64_t		 ne_rp_max;	/* replay record */
	uint64_t		 ne_rp_map;
	uint8_t			 ne_proof[SIG_KEYLEN];
	uint16_t		 ne_sport;	/* signaling source port */
	uint8_t			 ne_mapped;	/* source was IPv4-mapped */
	uint8_t			 ne_candoff;	/* candidates: enc tail */
	uint8_t			 ne_enclen;
	uint8_t			 ne_enc[SIG_ENTRYMAX];
};

RB_HEAD(nlog, nedge);
TAILQ_HEAD(nedgeq, nedge);

struct ncluster {
	struct ncluster		*nc_next;	/* hash chain by name */
	TAILQ_ENTRY(ncluster)	 nc_entry;
	char			 nc_name[SIG_CLUSTERMAX + 1];
	uint64_t		 nc_id;		/* random: hashes its edges */
	struct sig_ckeys	 nc_keys;
	uint64_t		 nc_epoch;
	uint64_t		 nc_version;
	uint64_t		 nc_floor;
	struct nlog		 nc_log;
	struct nedgeq		 nc_gone;	/* tombstones, oldest first */
	size_t			 nc_nlive;
	size_t			 nc_ngone;
};

struct rl_slot {
	uint8_t			 ip[16];
	uint64_t		 ms;
	uint64_t		 mtokens;	/* thousandths of a token */
	int			 used;
};

/* A chained hash table of pointers; the chain link is in the element. */
struct htab {
	void			**h_b;
	size_t			 h_n;		/* buckets, a power of 2 */
	size_t			 h_count;
};

struct nucleus {
	uint8_t			 n_root[SIG_KEYLEN];
	uint8_t			 n_namekey[SIG_KEYLEN];
	uint8_t			 n_priv[SIG_KEYLEN];
	uint8_t			 n_pub[SIG_KEYLEN];
	uint64_t		 n_timeout_ms;
	uint8_t			 n_hkey[crypto_shorthash_KEYBYTES];
	struct htab		 n_clusters;
	struct htab		 n_bykey;
	struct htab		 n_byvip;
	TAILQ_HEAD(, ncluster)	 n_cllist;
	struct nedgeq		 n_lru;		/* live edges, oldest first */
	size_t			 n_nclusters;
	size_t			 n_nedges;	/* live */
	size_t			 n_ngone;	/* tombstones */
	uint64_t		 n_time;	/* our latest `time` */
	uint8_t			 n_cookie[2][SIG_KEYLEN];
	uint64_t		 n_cookie_at;	/* ms of the latest rotation */
	uint8_t			 n_rlkey[crypto_shorthash_KEYBYTES];
	struct rl_slot		 n_rl[RL_SLOTS];
	uint64_t		 n_gms;
	uint64_t		 n_gmtokens;
	uint64_t		 n_grate;	/* global datagrams/s */
	uint64_t		 n_gburst;
	size_t			 n_max_edges;	/* live, over all clusters */
	size_t			 n_max_clusters;
	/* PUNCH fan-out: a ring of changes to tell, and its pace */
	struct npunch {
		struct ncluster	*np_cl;
		uint8_t		 np_key[SIG_KEYLEN];
		uint64_t	 np_cursor;	/* next: below this version */
		uint32_t	 np_left;	/* edges still to tell */
	}			 n_pq[NUCLEUS_PUNCH_QUEUE];
	size_t			 n_pqhead;
	size_t			 n_pqlen;
	uint64_t		 n_pms;
	uint64_t		 n_pmtokens;
	struct nucleus_punch_stats n_pstats;
};

static int
nlog_cmp(struct nedge *a, struct nedge *b)
{
	return a->ne_version < b->ne_version ? -1 :
	    a->ne_version > b->ne_version;
}

/* libbsd's RB_GENERATE_STATIC wants __unused, which it does not define. */
#define NUCLEUS_RB(name, type, field, cmp)				\
	RB_GENERATE_INTERNAL(name, type, field, cmp,			\
	    __attribute__((__unused__)) static)
NUCLEUS_RB(nlog, nedge, ne_log, nlog_cmp)

/* --- hash tables ----------------------------------------------------- */

static uint64_t
hash2(const struct nucleus *n, uint64_t id, const void *p, size_t len)
{
	uint8_t		 buf[8 + SIG_CLUSTERMAX + 1], h[8];
	uint64_t	 v;

	memcpy(buf, &id, 8);
	memcpy(buf + 8, p, len);
	crypto_shorthash(h, buf, 8 + len, n->n_hkey);
	memcpy(&v, h, sizeof(v));
	return v;
}

static uint64_t
hash_key(const struct nucleus *n, const struct ncluster *cl,
    const uint8_t *pubkey)
{
	return hash2(n, cl->nc_id, pubkey, SIG_KEYLEN);
}

static uint64_t
hash_vip(const struct nucleus *n, const struct ncluster *cl,
    const struct omni_prefix *vip)
{
	uint8_t	 b[17];

	b[0] = vip->af;
	memcpy(b + 1, vip->addr, 16);
	return hash2(n, cl->nc_id, b, sizeof(b));
}

static uint64_t
hash_name(const struct nucleus *n, const char *name)
{
	return hash2(n, 0, name, strlen(name));
}

static int
htab_init(struct htab *t)
{
	t->h_n = 64;
	t->h_count = 0;
	if ((t->h_b = calloc(t->h_n, sizeof(void *))) == NULL)
		return -1;
	return 0;
}

/*
 * The chain link of an element is at offset off; rehash() recomputes
 * each element's bucket with fn.  Doubling keeps chains at about one.
 */
#define LINK(p, off)	(*(void **)((char *)(p) + (off)))

static void
htab_grow(struct nucleus *n, struct htab *t, size_t off,
    uint64_t (*fn)(struct nucleus *, void *))
{
	void	**nb, *p, *next;
	size_t	 i, nn = t->h_n * 2;
	uint64_t h;

	if (t->h_count < t->h_n || (nb = calloc(nn, sizeof(void *))) == NULL)
		return;
	for (i = 0; i < t->h_n; i++)
		for (p = t->h_b[i]; p != NULL; p = next) {
			next = LINK(p, off);
			h = fn(n, p) & (nn - 1);
			LINK(p, off) = nb[h];
			nb[h] = p;
		}
	free(t->h_b);
	t->h_b = nb;
	t->h_n = nn;
}

static void
htab_insert(struct htab *t, size_t off, uint64_t h, void *p)
{
	h &= t->h_n - 1;
	LINK(p, off) = t->h_b[h];
	t->h_b[h] = p;
	t->h_count++;
}

static void
htab_remove(struct htab *t, size_t off, uint64_t h, void *p)
{
	void	**pp;

	for (pp = &t->h_b[h & (t->h_n - 1)]; *pp != NULL;
	    pp = &LINK(*pp, off))
		if (*pp == p) {
			*pp = LINK(p, off);
			t->h_count--;
			return;
		}
	fatalx("nucleus: hash entry missing");
}

static uint64_t
rh_key(struct nucleus *n, void *p)
{
	struct nedge	*e = p;

	return hash_key(n, e->ne_cluster, e->ne_pubkey);
}

static uint64_t
rh_vip(struct nucleus *n, void *p)
{
	struct nedge	*e = p;

	return hash_vip(n, e->ne_cluster, &e->ne_vip);
}

static uint64_t
rh_name(struct nucleus *n, void *p)
{
	return hash_name(n, ((struct ncluster *)p)->nc_name);
}

#define OFF_K	offsetof(struct nedge, ne_knext)
#define OFF_V	offsetof(struct nedge, ne_vnext)
#define OFF_C	offsetof(struct ncluster, nc_next)

static struct ncluster *
ncluster_find(struct nucleus *n, const char *name)
{
	struct ncluster	*cl;

	for (cl = n->n_clusters.h_b[hash_name(n, name) &
	    (n->n_clusters.h_n - 1)]; cl != NULL; cl = cl->nc_next)
		if (strcmp(cl->nc_name, name) == 0)
			return cl;
	return NULL;
}

static struct nedge *
nedge_find_key(struct nucleus *n, struct ncluster *cl, const uint8_t *pubkey)
{
	struct nedge	*e;

	if (cl == NULL)
		return NULL;
	for (e = n->n_bykey.h_b[hash_key(n, cl, pubkey) &
	    (n->n_bykey.h_n - 1)]; e != NULL; e = e->ne_knext)
		if (e->ne_cluster == cl &&
		    memcmp(e->ne_pubkey, pubkey, SIG_KEYLEN) == 0)
			return e;
	return NULL;
}

/* The live edge holding vip (tombstones are not in this table). */
static struct nedge *
nedge_find_vip(struct nucleus *n, struct ncluster *cl,
    const struct omni_prefix *vip)
{
	struct nedge	*e;

	if (cl == NULL)
		return NULL;
	for (e = n->n_byvip.h_b[hash_vip(n, cl, vip) &
	    (n->n_byvip.h_n - 1)]; e != NULL; e = e->ne_vnext)
		if (e->ne_cluster == cl && e->ne_vip.af == vip->af &&
		    memcmp(e->ne_vip.addr, vip->addr, 16) == 0)
			return e;
	return NULL;
}

/* --- life cycle ------------------------------------------------------ */

struct nucleus *
nucleus_new(const uint8_t *root, const uint8_t *priv, const uint8_t *pub,
    uint32_t peer_timeout)
{
	struct nucleus	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	if (htab_init(&n->n_clusters) == -1 || htab_init(&n->n_bykey) == -1 ||
	    htab_init(&n->n_byvip) == -1) {
		free(n->n_clusters.h_b);
		free(n->n_bykey.h_b);
		free(n);
		return NULL;
	}
	memcpy(n->n_root, root, SIG_KEYLEN);
	keys_derive_root_subkey(root, KEY_ROOT_NAME, n->n_namekey);
	memcpy(n->n_priv, priv, SIG_KEYLEN);
	memcpy(n->n_pub, pub, SIG_KEYLEN);
	nucleus_set_timeout(n, peer_timeout);
	nucleus_set_limits(n, 0, 0, 0);
	TAILQ_INIT(&n->n_cllist);
	TAILQ_INIT(&n->n_lru);
	crypto_shorthash_keygen(n->n_hkey);
	crypto_shorthash_keygen(n->n_rlkey);
	randombytes_buf(n->n_cookie, sizeof(n->n_cookie));
	n->n_gmtokens = n->n_gburst * 1000;
	n->n_pmtokens = (uint64_t)NUCLEUS_PUNCH_BURST * 1000;
	return n;
}

void
nucleus_set_timeout(struct nucleus *n, uint32_t peer_timeout)
{
	if (peer_timeout == 0)
		peer_timeout = OMNI_PEER_TIMEOUT;
	n->n_timeout_ms = (uint64_t)peer_timeout * 1000;
}

/* 0 is the default; past the most the parent accepts, the most. */
static uint32_t
limit_value(uint32_t v, uint32_t def, uint32_t max)
{
	if (v == 0)
		return def;
	return v > max ? max : v;
}

/*
 * The capacity bounds (omni.conf(5): max-edges, max-clusters,
 * rate-limit), 0 for the default.  Lowering max-edges or max-clusters
 * keeps what is there and refuses what is new.  The global bucket
 * keeps its deficit: a larger burst adds the difference, a smaller
 * one caps what is left.
 */
void
nucleus_set_limits(struct nucleus *n, uint32_t max_edges,
    uint32_t max_clusters, uint32_t rate)
{
	uint64_t	 burst;

	max_edges = limit_value(max_edges, NUCLEUS_MAX_EDGES,
	    OMNI_NUCLEUS_EDGES_MAX);
	max_clusters = limit_value(max_clusters, NUCLEUS_MAX_CLUSTERS,
	    OMNI_NUCLEUS_CLUSTERS_MAX);
	rate = limit_value(rate, RL_GLOBAL_RATE, OMNI_NUCLEUS_RATE_MAX);
	burst = (uint64_t)rate * 2;
	if (n->n_max_edges != 0 && (n->n_max_edges != max_edges ||
	    n->n_max_clusters != max_clusters || n->n_grate != rate))
		log_info("nucleus: at most %u edges, %u clusters, %u "
		    "datagrams/s", max_edges, max_clusters, rate);
	if (n->n_nedges > max_edges)
		log_info("nucleus: %zu edges, over max-edges %u: new "
		    "registrations are refused", n->n_nedges, max_edges);
	if (burst > n->n_gburst)
		n->n_gmtokens += (burst - n->n_gburst) * 1000;
	else if (n->n_gmtokens > burst * 1000)
		n->n_gmtokens = burst * 1000;
	n->n_max_edges = max_edges;
	n->n_max_clusters = max_clusters;
	n->n_grate = rate;
	n->n_gburst = burst;
}

/* Same secret and same identity: the registrations stay valid. */
int
nucleus_same_root(const struct nucleus *n, const uint8_t *root,
    const uint8_t *priv)
{
	return sodium_memcmp(n->n_root, root, SIG_KEYLEN) == 0 &&
	    sodium_memcmp(n->n_priv, priv, SIG_KEYLEN) == 0;
}

static void
nedge_free(struct nucleus *n, struct nedge *e)
{
	struct ncluster	*cl = e->ne_cluster;

	if (e->ne_live) {
		htab_remove(&n->n_byvip, OFF_V, hash_vip(n, cl, &e->ne_vip), e);
		TAILQ_REMOVE(&n->n_lru, e, ne_q);
		cl->nc_nlive--;
		n->n_nedges--;
	} else {
		TAILQ_REMOVE(&cl->nc_gone, e, ne_q);
		cl->nc_ngone--;
		n->n_ngone--;
	}
	htab_remove(&n->n_bykey, OFF_K, hash_key(n, cl, e->ne_pubkey), e);
	RB_REMOVE(nlog, &cl->nc_log, e);
	sodium_memzero(e, sizeof(*e));
	free(e);
}

static void
ncluster_free(struct nucleus *n, struct ncluster *cl)
{
	struct nedge	*e;
	size_t		 i;

	/* queued punches of the cluster end with it */
	for (i = 0; i < n->n_pqlen; i++)
		if (n->n_pq[(n->n_pqhead + i) % NUCLEUS_PUNCH_QUEUE].np_cl ==
		    cl)
			n->n_pq[(n->n_pqhead + i) % NUCLEUS_PUNCH_QUEUE].np_cl =
			    NULL;

	while ((e = RB_MIN(nlog, &cl->nc_log)) != NULL)
		nedge_free(n, e);
	htab_remove(&n->n_clusters, OFF_C, hash_name(n, cl->nc_name), cl);
	TAILQ_REMOVE(&n->n_cllist, cl, nc_entry);
	n->n_nclusters--;
	sodium_memzero(cl, sizeof(*cl));
	free(cl);
}

void
nucleus_free(struct nucleus *n)
{
	struct ncluster	*cl;

	if (n == NULL)
		return;
	while ((cl = TAILQ_FIRST(&n->n_cllist)) != NULL)
		ncluster_free(n, cl);
	free(n->n_clusters.h_b);
	free(n->n_bykey.h_b);
	free(n->n_byvip.h_b);
	sodium_memzero(n, sizeof(*n));
	free(n);
}

size_t
nucleus_nedges(const struct nucleus *n)
{
	return n->n_nedges;
}

/* Clusters with at least one live edge. */
size_t
nucleus_nclusters(const struct nucleus *n)
{
	struct ncluster	*cl;
	size_t		 c = 0;

	TAILQ_FOREACH(cl, &n->n_cllist, nc_entry)
		if (cl->nc_nlive > 0)
			c++;
	return c;
}

static int
nedge_live(const struct nucleus *n, const struct nedge *e, uint64_t now)
{
	return e->ne_live && now < e->ne_seen + n->n_timeout_ms;
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

	bucket_refill(&n->n_gmtokens, &n->n_gms, now, n->n_grate,
	    n->n_gburst);
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

/* --- cookies, proofs, replays ---------------------------------------- */

static void
cookie_rotate(struct nucleus *n, uint64_t now)
{
	if (n->n_cookie_at == 0) {
		n->n_cookie_at = now;
		return;
	}
	if (now < n->n_cookie_at + (uint64_t)SIG_COOKIE_ROTATE * 1000)
		return;
	memcpy(n->n_cookie[1], n->n_cookie[0], SIG_KEYLEN);
	randombytes_buf(n->n_cookie[0], SIG_KEYLEN);
	n->n_cookie_at = now;
}

static void
cookie_make(const uint8_t *secret, const uint8_t *ip, uint16_t port,
    const uint8_t *pubkey, const char *cluster, uint8_t *out)
{
	crypto_generichash_state	 st;
	uint8_t				 p[2] = { port >> 8, port & 0xff };

	crypto_generichash_init(&st, secret, SIG_KEYLEN, SIG_COOKIELEN);
	crypto_generichash_update(&st, ip, 16);
	crypto_generichash_update(&st, p, 2);
	crypto_generichash_update(&st, pubkey, SIG_KEYLEN);
	crypto_generichash_update(&st, (const uint8_t *)cluster,
	    strlen(cluster) + 1);
	crypto_generichash_final(&st, out, SIG_COOKIELEN);
}

/* The source as the cookie sees it: IPv4-mapped IPv6 and port. */
static void
cookie_src(const struct omni_addr *from, uint8_t *ip, uint16_t *port)
{
	uint8_t	 af;

	proto_addr_ip(from, &af, ip);
	if (af == AF_INET) {
		memmove(ip + 12, ip, 4);
		memset(ip, 0, 10);
		ip[10] = ip[11] = 0xff;
	}
	*port = omni_addr_port(from);
}

static void
cookie_for(struct nucleus *n, const struct omni_addr *from,
    const uint8_t *pubkey, const char *cluster, uint8_t *out)
{
	uint8_t		 ip[16];
	uint16_t	 port;

	cookie_src(from, ip, &port);
	cookie_make(n->n_cookie[0], ip, port, pubkey, cluster, out);
}

/* 1: t was not seen from e (nothing is recorded here). */
static int
replay_fresh(const struct nedge *e, uint64_t t)
{
	uint64_t	 d;

	if (t > e->ne_rp_max)
		return 1;
	d = e->ne_rp_max - t;
	return d < SIG_REPLAY_BITS && (e->ne_rp_map & (1ULL << d)) == 0;
}

static void
replay_record(struct nedge *e, uint64_t t)
{
	uint64_t	 s;

	if (t > e->ne_rp_max) {
		s = t - e->ne_rp_max;
		e->ne_rp_map = s >= SIG_REPLAY_BITS ? 0 : e->ne_rp_map << s;
		e->ne_rp_map |= 1;
		e->ne_rp_max = t;
	} else
		e->ne_rp_map |= 1ULL << (e->ne_rp_max - t);
}

/* --- state changes --------------------------------------------------- */

/*
 * The entry others get.  The edge's candidates are kept only here, as
 * the entry's encoded fifth item (from ne_candoff on): tail replaces
 * them, or with tail NULL they stay.  A tombstone loses them.
 */
static void
nedge_encode(struct nedge *e, const uint8_t *tail, size_t tlen)
{
	struct sig_peer	 p;
	uint8_t		 keep[SIG_CANDSMAX];
	int		 r;

	if (tail == NULL) {
		tlen = e->ne_enclen - e->ne_candoff;
		memcpy(keep, e->ne_enc + e->ne_candoff, tlen);
		tail = keep;
	}
	memset(&p, 0, sizeof(p));
	memcpy(p.pubkey, e->ne_pubkey, SIG_KEYLEN);
	if (!e->ne_live)
		p.removed = 1;
	else {
		p.vip = e->ne_vip;
		p.ep_af = e->ne_ep_af;
		memcpy(p.ep, e->ne_ep, sizeof(p.ep));
		p.port = e->ne_port;
	}
	if (p.removed)
		tlen = 0;
	if ((r = proto_entry_encode_tail(&p, tail, tlen, e->ne_enc,
	    sizeof(e->ne_enc))) == -1)
		fatalx("nucleus: cannot encode an edge");
	e->ne_enclen = r;
	e->ne_candoff = r - tlen;
}

/* The candidates of a REGISTER or HEARTBEAT: 1 when they changed. */
static int
nedge_cands(struct nedge *e, const struct sig_msg *m)
{
	uint8_t	 c[SIG_CANDSMAX];
	int	 cl = 0;

	if ((m->fields & SIG_F(SIG_K_CANDS)) == 0)
		return 0;		/* a v2 edge: keep what we have */
	if (m->ncands > 0 &&
	    (cl = proto_cands_encode(m->cands, m->ncands, c, sizeof(c))) == -1)
		return 0;		/* the decoder checked them */
	if (e->ne_enclen != 0 && (size_t)cl == (size_t)(e->ne_enclen -
	    e->ne_candoff) && memcmp(c, e->ne_enc + e->ne_candoff, cl) == 0)
		return 0;
	nedge_encode(e, c, cl);
	return 1;
}

/* The edge changed in a way others see: it moves to the log's end. */
static void
nedge_bump(struct ncluster *cl, struct nedge *e)
{
	if (e->ne_version != 0)
		RB_REMOVE(nlog, &cl->nc_log, e);
	e->ne_version = ++cl->nc_version;
	RB_INSERT(nlog, &cl->nc_log, e);
	nedge_encode(e, NULL, 0);
}

/* A live edge becomes a tombstone (left or expired). */
static void
nedge_kill(struct nucleus *n, struct nedge *e, uint64_t now)
{
	struct ncluster	*cl = e->ne_cluster;

	htab_remove(&n->n_byvip, OFF_V, hash_vip(n, cl, &e->ne_vip), e);
	TAILQ_REMOVE(&n->n_lru, e, ne_q);
	cl->nc_nlive--;
	n->n_nedges--;
	e->ne_live = 0;
	e->ne_seen = now;
	TAILQ_INSERT_TAIL(&cl->nc_gone, e, ne_q);
	cl->nc_ngone++;
	n->n_ngone++;
	nedge_bump(cl, e);
}

/* Forget a tombstone: deltas from before its version are no more. */
static void
tombstone_purge(struct nucleus *n, struct nedge *e)
{
	struct ncluster	*cl = e->ne_cluster;

	if (e->ne_version > cl->nc_floor)
		cl->nc_floor = e->ne_version;
	nedge_free(n, e);
}

static struct ncluster *
ncluster_add(struct nucleus *n, const char *name)
{
	struct ncluster	*cl;
	uint8_t		 sig[SIG_KEYLEN];

	if (n->n_nclusters >= n->n_max_clusters)
		return NULL;
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		log_warn("cluster %s", name);
		return NULL;
	}
	strlcpy(cl->nc_name, name, sizeof(cl->nc_name));
	randombytes_buf(&cl->nc_id, sizeof(cl->nc_id));
	do
		randombytes_buf(&cl->nc_epoch, sizeof(cl->nc_epoch));
	while (cl->nc_epoch == 0);
	keys_derive_cluster(n->n_root, KEY_PURPOSE_SIGNAL, name, sig);
	proto_cluster_keys(sig, &cl->nc_keys);
	sodium_memzero(sig, sizeof(sig));
	RB_INIT(&cl->nc_log);
	TAILQ_INIT(&cl->nc_gone);
	htab_grow(n, &n->n_clusters, OFF_C, rh_name);
	htab_insert(&n->n_clusters, OFF_C, hash_name(n, name), cl);
	TAILQ_INSERT_TAIL(&n->n_cllist, cl, nc_entry);
	n->n_nclusters++;
	return cl;
}

/* --- answers -------------------------------------------------------- */

struct req {
	struct nucleus		*n;
	struct ncluster		*cl;		/* NULL: not known here */
	const struct sig_ckeys	*keys;
	const struct sig_rx	*rx;
	const struct sig_msg	*m;
	const struct omni_addr	*from;
	uint8_t			 af;
	uint8_t			 ip[16];
	uint8_t			 mapped;	/* IPv4, seen mapped */
	int			 punched;	/* all others told of us */
	const uint8_t		*proof;		/* NULL: unverified */
	const struct sig_clock	*clk;
	struct sig_out		*out;
	/* the source's cookie under the current secret, once computed */
	uint8_t			 cookie[SIG_COOKIELEN];
	int			 has_cookie;
};

/*
 * The cookie this source gets in answers.  Computed once per request:
 * the check and the answer need the same one.
 */
static const uint8_t *
req_cookie(struct req *q)
{
	if (!q->has_cookie) {
		cookie_for(q->n, q->from, q->m->pubkey, q->rx->cluster,
		    q->cookie);
		q->has_cookie = 1;
	}
	return q->cookie;
}

/*
 * The request's cookie was made for its source under the current
 * secret or, in the SIG_COOKIE_ROTATE seconds after a rotation, the
 * previous one; the previous is computed only when the current does
 * not match (which secret matched is not a secret).
 */
static int
cookie_ok(struct req *q)
{
	const struct sig_msg	*m = q->m;
	uint8_t			 ip[16], c[SIG_COOKIELEN];
	uint16_t		 port;

	if ((m->fields & SIG_F(SIG_K_COOKIE)) == 0)
		return 0;
	if (sodium_memcmp(req_cookie(q), m->cookie, SIG_COOKIELEN) == 0)
		return 1;
	cookie_src(q->from, ip, &port);
	cookie_make(q->n->n_cookie[1], ip, port, m->pubkey, q->rx->cluster,
	    c);
	return sodium_memcmp(c, m->cookie, SIG_COOKIELEN) == 0;
}

static int
emit(struct req *q, struct sig_msg *a, const uint8_t *authkey)
{
	size_t	 len;
	int	 rv;

	if (q->out->n >= SIG_PAGE_PARTS)
		return -1;
	a->time = proto_next_time(&q->n->n_time, q->clk);
	a->re = q->m->time;
	if ((rv = proto_seal(a, SIG_KIND_DOWN, NULL, NULL, q->keys->down,
	    authkey, q->out->buf[q->out->n], SIG_MAXDGRAM, &len)) != SIG_OK) {
		log_warnx("cannot seal %s: %s", proto_type_name(a->type),
		    proto_reason_name(rv));
		return -1;
	}
	q->out->len[q->out->n++] = len;
	sig_stats.sent[a->type]++;
	return 0;
}

/*
 * CHALLENGE: a cookie for this source and our key.  It goes to an
 * address nobody verified, so it is never longer than the request.
 */
static int
challenge(struct req *q, const char *why, int reason)
{
	struct sig_msg	 a;

	proto_init_msg(&a, SIG_CHALLENGE, 0);
	memcpy(a.nkey, q->n->n_pub, SIG_KEYLEN);
	memcpy(a.cookie, req_cookie(q), SIG_COOKIELEN);
	if (emit(q, &a, NULL) == 0 && q->out->len[q->out->n - 1] >
	    q->rx->len) {
		q->out->n--;
		sig_stats.sent[SIG_CHALLENGE]--;
	}
	if (reason != SIG_OK)
		return sig_drop(reason, q->from, why);
	return SIG_OK;
}

static void
nak(struct req *q, uint32_t status)
{
	struct sig_msg	 a;

	proto_init_msg(&a, SIG_NAK, 0);
	a.status = status;
	emit(q, &a, q->proof);
}

/*
 * One page of the cluster log for the sync position in the request
 * (PROTOCOL.md, "Versions").
 */
static void
page(struct req *q, int type, struct nedge *self)
{
	struct ncluster		*cl = q->cl;
	const struct sig_msg	*m = q->m;
	struct nedge		*e, key;
	struct sig_msg		 a;
	uint8_t			 raw[SIG_MAXDGRAM], cookie[SIG_COOKIELEN];
	uint64_t		 from = 0, base = 0, pfrom;
	size_t			 budget = proto_answer_budget(), rawlen;
	uint32_t		 nraw;
	int			 full = 1, valid = 0, p;

	if ((m->fields & SIG_F_SYNC) == SIG_F_SYNC &&
	    m->epoch == cl->nc_epoch) {
		from = m->from;
		if (m->flags & SIG_FL_FULL) {
			base = (m->fields & SIG_F(SIG_K_BASE)) ? m->base :
			    UINT64_MAX;
			valid = base >= cl->nc_floor &&
			    base <= cl->nc_version && from <= cl->nc_version;
		} else {
			full = 0;
			valid = from >= cl->nc_floor &&
			    from <= cl->nc_version;
		}
	}
	if (!valid) {
		full = 1;
		from = 0;
		base = cl->nc_version;
	}
	memcpy(cookie, req_cookie(q), SIG_COOKIELEN);
	key.ne_version = from + 1;
	e = from == UINT64_MAX ? NULL : RB_NFIND(nlog, &cl->nc_log, &key);
	for (p = 0; p < SIG_PAGE_PARTS; p++) {
		pfrom = from;
		rawlen = 0;
		nraw = 0;
		while (e != NULL && nraw < SIG_MAX_PEERS) {
			if (e != self && (e->ne_live || !full ||
			    e->ne_version > base)) {
				if (rawlen + e->ne_enclen > budget)
					break;
				memcpy(raw + rawlen, e->ne_enc, e->ne_enclen);
				rawlen += e->ne_enclen;
				nraw++;
			}
			from = e->ne_version;
			e = RB_NEXT(nlog, &cl->nc_log, e);
		}
		proto_init_msg(&a, type, 0);
		memcpy(a.cookie, cookie, SIG_COOKIELEN);
		a.epoch = cl->nc_epoch;
		a.from = pfrom;
		a.to = e != NULL ? from : cl->nc_version;
		a.flags = (full ? SIG_FL_FULL : 0) |
		    (e != NULL ? SIG_FL_MORE : 0) |
		    (q->punched ? SIG_FL_PUNCH : 0);
		if (e == NULL || p == SIG_PAGE_PARTS - 1)
			a.flags |= SIG_FL_LAST;
		if (full) {
			a.base = base;
			a.fields |= SIG_F(SIG_K_BASE);
		}
		a.raw = raw;
		a.rawlen = rawlen;
		a.nraw = nraw;
		if (emit(q, &a, q->proof) == -1)
			return;
		from = a.to;
		if (a.flags & SIG_FL_LAST)
			break;
	}
}

/* --- punches -------------------------------------------------------- */

/*
 * An edge joined or its entry changed: queue it to be told to the
 * other live edges of its cluster (PROTOCOL.md, "Coordination").  A
 * change already queued starts over, so everyone gets the newest
 * entry.  Returns 1 when every other live edge will be told.
 */
static int
punch_queue(struct nucleus *n, struct nedge *e)
{
	struct ncluster	*cl = e->ne_cluster;
	struct npunch	*p = NULL;
	size_t		 i, others = cl->nc_nlive - 1;

	if (cl->nc_nlive < 2)
		return 1;
	for (i = 0; i < n->n_pqlen; i++) {
		p = &n->n_pq[(n->n_pqhead + i) % NUCLEUS_PUNCH_QUEUE];
		if (p->np_cl == cl &&
		    memcmp(p->np_key, e->ne_pubkey, SIG_KEYLEN) == 0)
			break;
		p = NULL;
	}
	if (p == NULL) {
		if (n->n_pqlen == NUCLEUS_PUNCH_QUEUE) {
			n->n_pstats.dropped++;
			return 0;
		}
		p = &n->n_pq[(n->n_pqhead + n->n_pqlen++) %
		    NUCLEUS_PUNCH_QUEUE];
		p->np_cl = cl;
		memcpy(p->np_key, e->ne_pubkey, SIG_KEYLEN);
	}
	p->np_cursor = UINT64_MAX;
	p->np_left = NUCLEUS_PUNCH_FANOUT;
	n->n_pstats.queued++;
	if (others > NUCLEUS_PUNCH_FANOUT) {
		n->n_pstats.capped += others - NUCLEUS_PUNCH_FANOUT;
		return 0;
	}
	return 1;
}

/* The next edge to tell, walking the log down from the cursor. */
static struct nedge *
punch_next(struct nucleus *n, struct npunch *p, struct nedge *s,
    uint64_t now)
{
	struct nlog	*log = &p->np_cl->nc_log;
	struct nedge	*e, key;

	key.ne_version = p->np_cursor;
	if ((e = RB_NFIND(nlog, log, &key)) != NULL)
		e = RB_PREV(nlog, log, e);
	else
		e = RB_MAX(nlog, log);
	for (; e != NULL; e = RB_PREV(nlog, log, e)) {
		p->np_cursor = e->ne_version;
		if (e != s && nedge_live(n, e, now))
			return e;
	}
	return NULL;
}

/* PUNCH s to r, at r's signaling address, with r's proof. */
static int
punch_emit(struct nucleus *n, struct nedge *s, struct nedge *r,
    const struct sig_clock *clk, struct sig_out *out)
{
	struct sig_msg		 a;
	struct omni_addr	*to = &out->to[out->n];
	size_t			 len;
	int			 rv;

	proto_init_msg(&a, SIG_PUNCH, proto_next_time(&n->n_time, clk));
	a.raw = s->ne_enc;
	a.rawlen = s->ne_enclen;
	a.nraw = 1;
	if ((rv = proto_seal(&a, SIG_KIND_DOWN, NULL, NULL,
	    s->ne_cluster->nc_keys.down, r->ne_proof, out->buf[out->n],
	    SIG_MAXDGRAM, &len)) != SIG_OK) {
		log_warnx("cannot seal punch: %s", proto_reason_name(rv));
		return -1;
	}
	memset(to, 0, sizeof(*to));
	if (r->ne_ep_af == AF_INET && !r->ne_mapped) {
		to->sin.sin_family = AF_INET;
		memcpy(&to->sin.sin_addr, r->ne_ep, 4);
		to->sin.sin_port = htons(r->ne_sport);
	} else {
		to->sin6.sin6_family = AF_INET6;
		if (r->ne_ep_af == AF_INET) {
			((uint8_t *)&to->sin6.sin6_addr)[10] = 0xff;
			((uint8_t *)&to->sin6.sin6_addr)[11] = 0xff;
			memcpy((uint8_t *)&to->sin6.sin6_addr + 12, r->ne_ep,
			    4);
		} else
			memcpy(&to->sin6.sin6_addr, r->ne_ep, 16);
		to->sin6.sin6_port = htons(r->ne_sport);
	}
	out->len[out->n++] = len;
	sig_stats.sent[SIG_PUNCH]++;
	n->n_pstats.sent++;
	return 0;
}

/*
 * The PUNCH datagrams due now, each with its destination in out->to:
 * at most a page, at most what the pace allows.  signald.c calls it
 * after every batch of input and every second until it returns 0.
 */
size_t
nucleus_punches(struct nucleus *n, const struct sig_clock *clk,
    struct sig_out *out)
{
	struct npunch	*p;
	struct nedge	*s, *r;

	out->n = 0;
	bucket_refill(&n->n_pmtokens, &n->n_pms, clk->ms, NUCLEUS_PUNCH_RATE,
	    NUCLEUS_PUNCH_BURST);
	while (n->n_pqlen > 0 && out->n < SIG_PAGE_PARTS &&
	    n->n_pmtokens >= 1000) {
		p = &n->n_pq[n->n_pqhead];
		r = NULL;
		if (p->np_cl != NULL && p->np_left > 0 &&
		    (s = nedge_find_key(n, p->np_cl, p->np_key)) != NULL &&
		    nedge_live(n, s, clk->ms))
			r = punch_next(n, p, s, clk->ms);
		if (r == NULL) {
			/* told everyone it may: the next change */
			n->n_pqhead = (n->n_pqhead + 1) % NUCLEUS_PUNCH_QUEUE;
			n->n_pqlen--;
			continue;
		}
		p->np_left--;
		if (punch_emit(n, s, r, clk, out) == 0)
			n->n_pmtokens -= 1000;
	}
	return out->n;
}

void
nucleus_punch_stats(const struct nucleus *n, struct nucleus_punch_stats *ps)
{
	*ps = n->n_pstats;
	ps->pending = n->n_pqlen;
}

/* --- requests ------------------------------------------------------- */

static int
do_register(struct req *q)
{
	struct nucleus		*n = q->n;
	struct ncluster		*cl = q->cl;
	const struct sig_msg	*m = q->m;
	struct nedge		*e, *v;
	char			 pbuf[OMNI_PREFIXSTRLEN];
	int			 changed = 0, isnew = 0;

	e = nedge_find_key(n, cl, m->pubkey);
	v = nedge_find_vip(n, cl, &m->vip);
	if (v != NULL && v != e) {
		if (nedge_live(n, v, q->clk->ms)) {
			nak(q, SIG_NAK_VIP_TAKEN);
			log_info("cluster %s: VIP %s is held by another key, "
			    "registration refused", cl->nc_name,
			    omni_prefix_str(&m->vip, pbuf, sizeof(pbuf)));
			return sig_drop(SIG_R_VIP_TAKEN, q->from, NULL);
		}
		nedge_kill(n, v, q->clk->ms);	/* expired holder */
	}
	if (cl == NULL) {
		if ((cl = ncluster_add(n, q->rx->cluster)) == NULL)
			return sig_drop(SIG_R_TABLE_FULL, q->from,
			    "too many clusters");
		q->cl = cl;
		q->keys = &cl->nc_keys;
	}
	if ((e == NULL || !e->ne_live) && n->n_nedges >= n->n_max_edges)
		return sig_drop(SIG_R_TABLE_FULL, q->from, "too many edges");
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			log_warn("edge");
			return SIG_R_TABLE_FULL;
		}
		memcpy(e->ne_pubkey, m->pubkey, SIG_KEYLEN);
		memcpy(e->ne_proof, q->proof, SIG_KEYLEN);
		e->ne_cluster = cl;
		htab_grow(n, &n->n_bykey, OFF_K, rh_key);
		htab_insert(&n->n_bykey, OFF_K, hash_key(n, cl, e->ne_pubkey),
		    e);
		isnew = 1;
	}
	if (!e->ne_live) {
		if (!isnew) {
			TAILQ_REMOVE(&cl->nc_gone, e, ne_q);
			cl->nc_ngone--;
			n->n_ngone--;
		}
		e->ne_live = 1;
		e->ne_vip = m->vip;
		TAILQ_INSERT_TAIL(&n->n_lru, e, ne_q);
		htab_grow(n, &n->n_byvip, OFF_V, rh_vip);
		htab_insert(&n->n_byvip, OFF_V, hash_vip(n, cl, &e->ne_vip),
		    e);
		cl->nc_nlive++;
		n->n_nedges++;
		changed = 1;
		log_info("cluster %s: edge %s registered", cl->nc_name,
		    omni_prefix_str(&m->vip, pbuf, sizeof(pbuf)));
	} else {
		TAILQ_REMOVE(&n->n_lru, e, ne_q);
		TAILQ_INSERT_TAIL(&n->n_lru, e, ne_q);
		if (!omni_prefix_eq(&e->ne_vip, &m->vip)) {
			htab_remove(&n->n_byvip, OFF_V,
			    hash_vip(n, cl, &e->ne_vip), e);
			e->ne_vip = m->vip;
			htab_insert(&n->n_byvip, OFF_V,
			    hash_vip(n, cl, &e->ne_vip), e);
			changed = 1;
			log_info("cluster %s: edge moved to VIP %s",
			    cl->nc_name, omni_prefix_str(&m->vip, pbuf,
			    sizeof(pbuf)));
		}
	}
	if (e->ne_port != m->port || e->ne_ep_af != q->af ||
	    memcmp(e->ne_ep, q->ip, 16) != 0)
		changed = 1;
	e->ne_port = m->port;
	e->ne_ep_af = q->af;
	memcpy(e->ne_ep, q->ip, 16);
	e->ne_sport = omni_addr_port(q->from);
	e->ne_mapped = q->mapped;
	e->ne_seen = q->clk->ms;
	replay_record(e, m->time);
	if (nedge_cands(e, m))
		changed = 1;
	if (changed) {
		nedge_bump(cl, e);
		q->punched = punch_queue(n, e);
	}
	page(q, SIG_REGISTER_ACK, e);
	return SIG_OK;
}

static int
do_heartbeat(struct req *q, struct nedge *e)
{
	struct nucleus	*n = q->n;
	int		 changed;

	replay_record(e, q->m->time);
	TAILQ_REMOVE(&n->n_lru, e, ne_q);
	TAILQ_INSERT_TAIL(&n->n_lru, e, ne_q);
	e->ne_seen = q->clk->ms;
	e->ne_sport = omni_addr_port(q->from);
	e->ne_mapped = q->mapped;
	changed = nedge_cands(e, q->m);
	if (e->ne_ep_af != q->af || memcmp(e->ne_ep, q->ip, 16) != 0) {
		/* a new source address (NAT rebinding): a new endpoint */
		e->ne_ep_af = q->af;
		memcpy(e->ne_ep, q->ip, 16);
		changed = 1;
	}
	if (changed) {
		/* roamed: the others probe the new candidates now */
		nedge_bump(q->cl, e);
		punch_queue(n, e);
	}
	page(q, SIG_HEARTBEAT_ACK, e);
	return SIG_OK;
}

static int
do_query(struct req *q)
{
	struct sig_msg	 a;
	struct nedge	*v;

	proto_init_msg(&a, SIG_PEER_INFO, 0);
	a.vip = q->m->vip;
	a.fields |= SIG_F(SIG_K_PLEN);
	v = nedge_find_vip(q->n, q->cl, &q->m->vip);
	/* the entry as others get it, candidates included */
	a.raw = v != NULL ? v->ne_enc : (const uint8_t *)"";
	a.rawlen = 0;
	if (v != NULL && nedge_live(q->n, v, q->clk->ms)) {
		a.rawlen = v->ne_enclen;
		a.nraw = 1;
	}
	emit(q, &a, q->proof);
	return SIG_OK;
}

/*
 * One datagram from a source (PROTOCOL.md, "Nucleus", steps 1-9).
 * Nothing is answered unless the body opened; answers are in out
 * (out->n datagrams, to the source).  Returns SIG_OK or why the
 * datagram was dropped.
 */
int
nucleus_input(struct nucleus *n, const uint8_t *d, size_t len,
    const struct omni_addr *from, const struct sig_clock *clk,
    struct sig_out *out)
{
	static struct sig_rx	 rx;
	struct req		 q;
	struct sig_ckeys	 tmpkeys;
	struct nedge		*e;
	const struct sig_msg	*m = &rx.m;
	uint8_t			 sig[SIG_KEYLEN], proof[SIG_KEYLEN];
	int			 rv;

	out->n = 0;
	if (len > SIG_MAXDGRAM)
		return sig_drop(SIG_R_TOO_BIG, from, NULL);
	memset(&q, 0, sizeof(q));
	if (proto_addr_ip(from, &q.af, q.ip) == -1)
		return sig_drop(SIG_R_MALFORMED, from, "source family");
	q.mapped = from->sa.sa_family == AF_INET6 && q.af == AF_INET;
	if (nucleus_ratelimit(n, from, clk->ms) == -1)
		return sig_drop(SIG_R_RATE_LIMITED, from, NULL);
	cookie_rotate(n, clk->ms);
	if ((rv = proto_open_name(&rx, d, len, n->n_namekey)) != SIG_OK)
		return sig_drop(rv, from, "header");
	q.n = n;
	q.rx = &rx;
	q.m = m;
	q.from = from;
	q.clk = clk;
	q.out = out;
	if ((q.cl = ncluster_find(n, rx.cluster)) != NULL)
		q.keys = &q.cl->nc_keys;
	else {
		/* not kept until a registration proves the cluster */
		keys_derive_cluster(n->n_root, KEY_PURPOSE_SIGNAL, rx.cluster,
		    sig);
		proto_cluster_keys(sig, &tmpkeys);
		sodium_memzero(sig, sizeof(sig));
		q.keys = &tmpkeys;
	}
	if ((rv = proto_open_body(&rx, q.keys->up)) != SIG_OK) {
		rv = sig_drop(rv, from, rx.cluster);
		goto out;
	}
	if ((rv = proto_check_time(m, clk)) != SIG_OK) {
		rv = sig_drop(rv, from, "time");
		goto out;
	}
	if (m->type == SIG_REGISTER && len < SIG_REGISTER_MIN) {
		rv = sig_drop(SIG_R_MALFORMED, from, "short register");
		goto out;
	}
	sig_stats.received[m->type]++;

	/* a source address we can answer at length, and a proof */
	if (m->type == SIG_REGISTER &&
	    (m->fields & SIG_F(SIG_K_AUTH)) == 0) {
		rv = challenge(&q, NULL, SIG_OK);
		goto out;
	}
	if (m->type != SIG_DEREGISTER && !cookie_ok(&q)) {
		rv = challenge(&q, "cookie", SIG_R_BAD_COOKIE);
		goto out;
	}
	e = nedge_find_key(n, q.cl, m->pubkey);
	if (e != NULL)
		q.proof = e->ne_proof;
	else {
		if (keys_dh(n->n_priv, n->n_pub, m->pubkey, proof) == -1) {
			rv = sig_drop(SIG_R_BAD_PROOF, from, "low order key");
			goto out;
		}
		q.proof = proof;
	}
	if (!proto_auth_ok(&rx, q.proof)) {
		rv = sig_drop(SIG_R_BAD_PROOF, from, rx.cluster);
		goto out;
	}
	if (e != NULL && !replay_fresh(e, m->time)) {
		rv = sig_drop(SIG_R_REPLAY, from, rx.cluster);
		goto out;
	}

	/* an edge that timed out but was not swept yet is gone now */
	if (e != NULL && e->ne_live && !nedge_live(n, e, clk->ms))
		nedge_kill(n, e, clk->ms);
	switch (m->type) {
	case SIG_REGISTER:
		rv = do_register(&q);
		break;
	case SIG_HEARTBEAT:
		if (e == NULL || !e->ne_live) {
			if (e != NULL)
				replay_record(e, m->time);
			nak(&q, SIG_NAK_UNKNOWN_EDGE);
			rv = SIG_OK;
		} else
			rv = do_heartbeat(&q, e);
		break;
	case SIG_DEREGISTER:
		rv = SIG_OK;
		if (e == NULL || !e->ne_live)
			break;
		replay_record(e, m->time);
		log_info("cluster %s: edge %s deregistered", q.cl->nc_name,
		    omni_prefix_str(&e->ne_vip, (char[OMNI_PREFIXSTRLEN]){ 0 },
		    OMNI_PREFIXSTRLEN));
		nedge_kill(n, e, clk->ms);
		break;
	case SIG_QUERY_PEER:
		if (e == NULL || !e->ne_live) {
			nak(&q, SIG_NAK_UNKNOWN_EDGE);
			rv = SIG_OK;
		} else {
			replay_record(e, m->time);
			rv = do_query(&q);
		}
		break;
	default:
		rv = sig_drop(SIG_R_UNKNOWN_TYPE, from, NULL);
		break;
	}
 out:
	sodium_memzero(&tmpkeys, sizeof(tmpkeys));
	sodium_memzero(proof, sizeof(proof));
	sodium_memzero(rx.plain, rx.plainlen);
	return rv;
}

/*
 * Edges not heard from within the peer timeout become tombstones;
 * tombstones older than SIG_TOMBSTONE_SECS, or beyond the per-cluster
 * bound, are purged; clusters left empty are deleted.
 */
void
nucleus_expire(struct nucleus *n, const struct sig_clock *clk)
{
	struct ncluster	*cl, *ctmp;
	struct nedge	*e;
	char		 pbuf[OMNI_PREFIXSTRLEN];
	size_t		 keep;

	cookie_rotate(n, clk->ms);
	while ((e = TAILQ_FIRST(&n->n_lru)) != NULL &&
	    !nedge_live(n, e, clk->ms)) {
		log_info("cluster %s: edge %s expired", e->ne_cluster->nc_name,
		    omni_prefix_str(&e->ne_vip, pbuf, sizeof(pbuf)));
		nedge_kill(n, e, clk->ms);
	}
	TAILQ_FOREACH_SAFE(cl, &n->n_cllist, nc_entry, ctmp) {
		keep = cl->nc_nlive > NUCLEUS_MIN_TOMBSTONES ? cl->nc_nlive :
		    NUCLEUS_MIN_TOMBSTONES;
		/* a bound on memory whatever the churn: oldest go early */
		if (n->n_ngone > n->n_max_edges)
			keep = 0;
		while ((e = TAILQ_FIRST(&cl->nc_gone)) != NULL &&
		    (cl->nc_ngone > keep || clk->ms >= e->ne_seen +
		    (uint64_t)SIG_TOMBSTONE_SECS * 1000))
			tombstone_purge(n, e);
		if (cl->nc_nlive == 0 && cl->nc_ngone == 0)
			ncluster_free(n, cl);
	}
}

/* For the tests and the fuzz target: the cookie a source would get. */
void
nucleus_cookie(struct nucleus *n, const struct omni_addr *from,
    const uint8_t *pubkey, const char *cluster, uint8_t *out)
{
	cookie_for(n, from, pubkey, cluster, out);
}

/* For the tests: 1 live, 0 tombstone, -1 unknown; p gets its entry. */
int
nucleus_edge_state(struct nucleus *n, const char *cluster,
    const uint8_t *pubkey, struct sig_peer *p)
{
	struct nedge	*e;

	if ((e = nedge_find_key(n, ncluster_find(n, cluster), pubkey)) ==
	    NULL)
		return -1;
	if (p != NULL) {
		memset(p, 0, sizeof(*p));
		memcpy(p->pubkey, e->ne_pubkey, SIG_KEYLEN);
		p->vip = e->ne_vip;
		p->ep_af = e->ne_ep_af;
		memcpy(p->ep, e->ne_ep, 16);
		p->port = e->ne_port;
		proto_cands_decode(e->ne_enc + e->ne_candoff,
		    e->ne_enclen - e->ne_candoff, p->cands, &p->ncands);
	}
	return e->ne_live;
}

/* For the tests: a cluster's version (0: unknown) and floor. */
uint64_t
nucleus_cluster_version(struct nucleus *n, const char *cluster,
    uint64_t *floor)
{
	struct ncluster	*cl;

	if ((cl = ncluster_find(n, cluster)) == NULL)
		return 0;
	if (floor != NULL)
		*floor = cl->nc_floor;
	return cl->nc_version;
}
