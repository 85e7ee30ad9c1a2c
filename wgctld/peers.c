/*
 * The peer state engine: what signaling wants, what the parent has
 * applied, and the difference between the two.
 *
 * This file knows nothing of events or sockets so that it can be
 * tested on its own.  Every input comes from the parent and is
 * checked here; a bad peer set is logged and ignored as a whole, so
 * that a half-received set never deletes the peers it did not list.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "wgctld.h"

static int
peer_cmp(struct peer *a, struct peer *b)
{
	return memcmp(a->p_pubkey, b->p_pubkey, OMNI_KEYLEN);
}

RB_GENERATE(peer_tree, peer, p_entry, peer_cmp)

static int	peers_vip_cmp(struct peer *, struct peer *);
RB_GENERATE(peer_vip_tree, peer, p_vip_entry, peers_vip_cmp)

static void	peers_tree_clear(struct peer_tree *);
static void	peers_iface_free(struct pif *);

void
peers_init(struct peer_engine *pe)
{
	memset(pe, 0, sizeof(*pe));
	TAILQ_INIT(&pe->pe_ifaces);
	RB_INIT(&pe->pe_set);
	RB_INIT(&pe->pe_set_vips);
}

void
peers_free(struct peer_engine *pe)
{
	struct pif	*pi;

	while ((pi = TAILQ_FIRST(&pe->pe_ifaces)) != NULL) {
		TAILQ_REMOVE(&pe->pe_ifaces, pi, pi_entry);
		peers_iface_free(pi);
	}
	peers_tree_clear(&pe->pe_set);
	free(pe->pe_state);
	peers_init(pe);
}

static void
peers_tree_clear(struct peer_tree *t)
{
	struct peer	*p, *next;

	RB_FOREACH_SAFE(p, peer_tree, t, next) {
		RB_REMOVE(peer_tree, t, p);
		free(p);
	}
}

static void
peers_iface_free(struct pif *pi)
{
	peers_tree_clear(&pi->pi_desired);
	peers_tree_clear(&pi->pi_applied);
	free(pi);
}

int
peers_key_zero(const uint8_t *key)
{
	uint8_t	 acc = 0;
	int	 i;

	for (i = 0; i < OMNI_KEYLEN; i++)
		acc |= key[i];
	return acc == 0;
}

static int
peers_af_maxlen(int af)
{
	switch (af) {
	case AF_INET:	return 32;
	case AF_INET6:	return 128;
	default:	return -1;
	}
}

static int
peers_prefix_valid(const struct omni_prefix *p)
{
	int	 max = peers_af_maxlen(p->af);

	return max != -1 && p->plen <= max;
}

/* An endpoint is either absent (AF_UNSPEC) or an address with a port. */
static int
peers_endpoint_valid(const struct omni_addr *a)
{
	switch (a->sa.sa_family) {
	case AF_UNSPEC:
		return 1;
	case AF_INET:
	case AF_INET6:
		return omni_addr_port(a) != 0;
	default:
		return 0;
	}
}

/* Compare only the meaningful bytes: padding may hold anything. */
static int
peers_endpoint_eq(const struct omni_addr *a, const struct omni_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	switch (a->sa.sa_family) {
	case AF_INET:
		return a->sin.sin_port == b->sin.sin_port &&
		    a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	case AF_INET6:
		return a->sin6.sin6_port == b->sin6.sin6_port &&
		    memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr,
		    sizeof(a->sin6.sin6_addr)) == 0 &&
		    a->sin6.sin6_scope_id == b->sin6.sin6_scope_id;
	default:
		return 1;
	}
}

/* Copy an endpoint keeping only the meaningful fields. */
static void
peers_endpoint_copy(struct omni_addr *dst, const struct omni_addr *src)
{
	memset(dst, 0, sizeof(*dst));
	switch (src->sa.sa_family) {
	case AF_INET:
		dst->sin.sin_family = AF_INET;
		dst->sin.sin_port = src->sin.sin_port;
		dst->sin.sin_addr = src->sin.sin_addr;
		break;
	case AF_INET6:
		dst->sin6.sin6_family = AF_INET6;
		dst->sin6.sin6_port = src->sin6.sin6_port;
		dst->sin6.sin6_addr = src->sin6.sin6_addr;
		dst->sin6.sin6_scope_id = src->sin6.sin6_scope_id;
		break;
	default:
		break;
	}
}

/* The VIP as a WireGuard allowed IP: the address alone, bits cleared. */
void
peers_host_prefix(const struct omni_prefix *vip, struct omni_prefix *host)
{
	int	 max = peers_af_maxlen(vip->af);

	memset(host, 0, sizeof(*host));
	if (max == -1)
		return;
	host->af = vip->af;
	host->plen = max;
	memcpy(host->addr, vip->addr, max / 8);
}

/* Does the address of p lie inside the prefix filter? */
int
peers_prefix_match(const struct omni_prefix *filter,
    const struct omni_prefix *p)
{
	int	 bits, bytes, rest;

	if (filter->af != p->af || peers_af_maxlen(filter->af) == -1)
		return 0;
	bits = filter->plen;
	if (bits > peers_af_maxlen(filter->af))
		return 0;
	bytes = bits / 8;
	rest = bits % 8;
	if (memcmp(filter->addr, p->addr, bytes) != 0)
		return 0;
	if (rest != 0) {
		uint8_t	 mask = (uint8_t)(0xff << (8 - rest));

		if ((filter->addr[bytes] & mask) != (p->addr[bytes] & mask))
			return 0;
	}
	return 1;
}

static int
peers_vip_eq(const struct omni_prefix *a, const struct omni_prefix *b)
{
	struct omni_prefix	 ha, hb;

	peers_host_prefix(a, &ha);
	peers_host_prefix(b, &hb);
	return omni_prefix_eq(&ha, &hb);
}

/* Order by host address (family first), ignoring the prefix length. */
static int
peers_vip_cmp(struct peer *a, struct peer *b)
{
	struct omni_prefix	 ha, hb;

	if (a->p_vip.af != b->p_vip.af)
		return a->p_vip.af < b->p_vip.af ? -1 : 1;
	peers_host_prefix(&a->p_vip, &ha);
	peers_host_prefix(&b->p_vip, &hb);
	return memcmp(ha.addr, hb.addr, sizeof(ha.addr));
}

/*
 * A peer's VIP must lie in the interface's own prefix (the parent
 * refuses anything else), and not be our own address.
 */
static int
peers_vip_allowed(const struct pif *pi, const struct omni_prefix *vip)
{
	const struct omni_prefix	*own = &pi->pi_info.vip;

	if (own->af == 0)
		return 1;
	return peers_prefix_match(own, vip) && !peers_vip_eq(own, vip);
}

struct pif *
peers_iface(struct peer_engine *pe, uint32_t ifid)
{
	struct pif	*pi;

	TAILQ_FOREACH(pi, &pe->pe_ifaces, pi_entry)
		if (pi->pi_info.ifid == ifid)
			return pi;
	return NULL;
}

/* A peer by public key: what signaling wants, else what is applied. */
const struct peer *
peers_lookup(const struct pif *pi, const uint8_t *pubkey)
{
	struct peer	 key, *p;

	memcpy(key.p_pubkey, pubkey, OMNI_KEYLEN);
	p = RB_FIND(peer_tree, (struct peer_tree *)&pi->pi_desired, &key);
	if (p == NULL)
		p = RB_FIND(peer_tree, (struct peer_tree *)&pi->pi_applied,
		    &key);
	return p;
}

/* --- configuration ---------------------------------------------------- */

/* One interface of a new configuration, staged until RECONF_END. */
int
peers_reconf_iface(struct peer_engine *pe, const struct iface_info *ii)
{
	int	 i;

	if (pe->pe_stage_bad)
		return -1;
	if (!omni_str_valid(ii->name, sizeof(ii->name)) ||
	    ii->name[0] == '\0' ||
	    !omni_str_valid(ii->cluster, sizeof(ii->cluster)) ||
	    !omni_str_valid(ii->backend, sizeof(ii->backend))) {
		log_warnx("reconf: interface with a bad name");
		goto bad;
	}
	if (ii->vip.af != 0 && !peers_prefix_valid(&ii->vip)) {
		log_warnx("reconf: %s: bad VIP", ii->name);
		goto bad;
	}
	if (ii->nnuclei < 0 || ii->nnuclei > OMNI_MAX_NUCLEI) {
		log_warnx("reconf: %s: bad nucleus count %d", ii->name,
		    ii->nnuclei);
		goto bad;
	}
	if (ii->keepalive > UINT16_MAX) {
		log_warnx("reconf: %s: keepalive %u too large", ii->name,
		    ii->keepalive);
		goto bad;
	}
	if (pe->pe_nstage >= OMNI_MAX_IFACES) {
		log_warnx("reconf: more than %d interfaces", OMNI_MAX_IFACES);
		goto bad;
	}
	for (i = 0; i < pe->pe_nstage; i++) {
		if (pe->pe_stage[i].ifid == ii->ifid ||
		    strcmp(pe->pe_stage[i].name, ii->name) == 0) {
			log_warnx("reconf: interface %s (id %u) twice",
			    ii->name, ii->ifid);
			goto bad;
		}
	}
	pe->pe_stage[pe->pe_nstage++] = *ii;
	return 0;
 bad:
	pe->pe_stage_bad = 1;
	return -1;
}

/*
 * Swap in the staged configuration.  Interfaces that stay keep their
 * desired and applied sets; those that went away are forgotten (the
 * parent destroys them itself).  Returns -1 when the staged
 * configuration was bad and the old one stays.
 */
int
peers_reconf_end(struct peer_engine *pe)
{
	struct pif_list	 nl;
	struct pif	*pi;
	int		 i;

	if (pe->pe_stage_bad) {
		log_warnx("reconf: bad configuration ignored");
		pe->pe_stage_bad = 0;
		pe->pe_nstage = 0;
		return -1;
	}
	TAILQ_INIT(&nl);
	for (i = 0; i < pe->pe_nstage; i++) {
		if ((pi = peers_iface(pe, pe->pe_stage[i].ifid)) != NULL)
			TAILQ_REMOVE(&pe->pe_ifaces, pi, pi_entry);
		else {
			if ((pi = calloc(1, sizeof(*pi))) == NULL)
				fatal("%s", __func__);
			RB_INIT(&pi->pi_desired);
			RB_INIT(&pi->pi_applied);
		}
		pi->pi_info = pe->pe_stage[i];
		pi->pi_configured = 1;
		TAILQ_INSERT_TAIL(&nl, pi, pi_entry);
	}
	while ((pi = TAILQ_FIRST(&pe->pe_ifaces)) != NULL) {
		TAILQ_REMOVE(&pe->pe_ifaces, pi, pi_entry);
		log_debug("interface id %u gone, %zu peers forgotten",
		    pi->pi_info.ifid, pi->pi_napplied);
		peers_iface_free(pi);
	}
	TAILQ_CONCAT(&pe->pe_ifaces, &nl, pi_entry);
	pe->pe_nstage = 0;
	return 0;
}

/* --- desired peer sets from signaling --------------------------------- */

static void
peers_set_reset(struct peer_engine *pe)
{
	RB_INIT(&pe->pe_set_vips);	/* the same peers as pe_set */
	peers_tree_clear(&pe->pe_set);
	pe->pe_set_n = 0;
	pe->pe_set_open = 0;
	pe->pe_set_bad = 0;
	memset(&pe->pe_set_hdr, 0, sizeof(pe->pe_set_hdr));
}

int
peers_set_begin(struct peer_engine *pe, const struct peer_set_hdr *h)
{
	if (pe->pe_set_open)
		log_warnx("peer set for interface id %u not finished, "
		    "ignored", pe->pe_set_hdr.ifid);
	peers_set_reset(pe);
	pe->pe_set_open = 1;
	pe->pe_set_hdr = *h;
	if (peers_iface(pe, h->ifid) == NULL) {
		log_warnx("peer set for unknown interface id %u", h->ifid);
		pe->pe_set_bad = 1;
		return -1;
	}
	if (h->count > PEERS_MAX_SET) {
		log_warnx("peer set of %u peers, more than %u", h->count,
		    PEERS_MAX_SET);
		pe->pe_set_bad = 1;
		return -1;
	}
	return 0;
}

int
peers_set_peer(struct peer_engine *pe, const struct omni_peer *op)
{
	struct pif	*pi;
	struct peer	*p;

	if (!pe->pe_set_open) {
		log_warnx("peer outside of a peer set");
		return -1;
	}
	if (pe->pe_set_bad)
		return -1;
	if (op->ifid != pe->pe_set_hdr.ifid) {
		log_warnx("peer set for interface id %u: peer for id %u",
		    pe->pe_set_hdr.ifid, op->ifid);
		goto bad;
	}
	if (pe->pe_set_n >= pe->pe_set_hdr.count) {
		log_warnx("peer set for interface id %u: more than %u peers",
		    pe->pe_set_hdr.ifid, pe->pe_set_hdr.count);
		goto bad;
	}
	/* Counted before the checks below so that END's count matches. */
	pe->pe_set_n++;
	if (peers_key_zero(op->pubkey)) {
		log_warnx("peer set for interface id %u: zero public key",
		    op->ifid);
		goto bad;
	}
	if (!peers_prefix_valid(&op->vip)) {
		log_warnx("peer set for interface id %u: bad VIP family %u",
		    op->ifid, op->vip.af);
		goto bad;
	}
	if (!peers_endpoint_valid(&op->endpoint)) {
		log_warnx("peer set for interface id %u: bad endpoint",
		    op->ifid);
		goto bad;
	}
	pi = peers_iface(pe, op->ifid);
	if (pi == NULL)
		goto bad;	/* cannot happen: checked at BEGIN */
	if (memcmp(op->pubkey, pi->pi_info.pubkey, OMNI_KEYLEN) == 0)
		return 0;	/* ourselves, as the nucleus lists us too */
	if (!peers_vip_allowed(pi, &op->vip)) {
		char	 buf[OMNI_PREFIXSTRLEN];

		log_warnx("%s: peer VIP %s is ours or outside our prefix, "
		    "skipped", pi->pi_info.name,
		    omni_prefix_str(&op->vip, buf, sizeof(buf)));
		return 0;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("%s", __func__);
	memcpy(p->p_pubkey, op->pubkey, OMNI_KEYLEN);
	p->p_vip = op->vip;
	peers_endpoint_copy(&p->p_endpoint, &op->endpoint);
	if (RB_FIND(peer_tree, &pe->pe_set, p) != NULL) {
		free(p);
		log_warnx("%s: peer set lists one key twice",
		    pi->pi_info.name);
		goto bad;
	}
	if (RB_INSERT(peer_vip_tree, &pe->pe_set_vips, p) != NULL) {
		free(p);
		log_warnx("%s: two peers with one VIP, second skipped",
		    pi->pi_info.name);
		return 0;
	}
	RB_INSERT(peer_tree, &pe->pe_set, p);
	return 0;
 bad:
	pe->pe_set_bad = 1;
	return -1;
}

/*
 * Close a peer set.  On success the interface's desired set is
 * replaced and the interface returned (the caller then diffs it);
 * NULL when the set was bad and has been ignored.
 */
struct pif *
peers_set_end(struct peer_engine *pe, const struct peer_set_hdr *h)
{
	struct pif	*pi;
	struct peer	*p, *next;

	if (!pe->pe_set_open) {
		log_warnx("end of a peer set never begun");
		return NULL;
	}
	if (pe->pe_set_bad)
		goto bad;
	if (h->ifid != pe->pe_set_hdr.ifid ||
	    h->count != pe->pe_set_hdr.count ||
	    h->count != pe->pe_set_n) {
		log_warnx("peer set for interface id %u: %zu peers, header "
		    "says %u, end says %u (id %u)", pe->pe_set_hdr.ifid,
		    pe->pe_set_n, pe->pe_set_hdr.count, h->count, h->ifid);
		goto bad;
	}
	if ((pi = peers_iface(pe, h->ifid)) == NULL)
		goto bad;
	peers_tree_clear(&pi->pi_desired);
	pi->pi_ndesired = 0;
	RB_INIT(&pe->pe_set_vips);
	RB_FOREACH_SAFE(p, peer_tree, &pe->pe_set, next) {
		RB_REMOVE(peer_tree, &pe->pe_set, p);
		RB_INSERT(peer_tree, &pi->pi_desired, p);
		pi->pi_ndesired++;
	}
	pi->pi_have_desired = 1;
	peers_set_reset(pe);
	return pi;
 bad:
	log_warnx("peer set for interface id %u ignored",
	    pe->pe_set_hdr.ifid);
	peers_set_reset(pe);
	return NULL;
}

/* --- applied state after a restart ------------------------------------ */

int
peers_state_peer(struct peer_engine *pe, const struct wg_peer_req *r)
{
	struct wg_peer_req	*n;
	size_t			 cap;

	if (pe->pe_state_bad)
		return -1;
	if (peers_key_zero(r->pubkey) || !peers_endpoint_valid(&r->endpoint) ||
	    (r->allowed.af != 0 && !peers_prefix_valid(&r->allowed))) {
		log_warnx("applied state: bad peer on interface id %u",
		    r->ifid);
		pe->pe_state_bad = 1;
		return -1;
	}
	if (pe->pe_nstate >= PEERS_MAX_STATE) {
		log_warnx("applied state: too many peers");
		pe->pe_state_bad = 1;
		return -1;
	}
	if (pe->pe_nstate == pe->pe_state_cap) {
		cap = pe->pe_state_cap ? pe->pe_state_cap * 2 : 64;
		if ((n = reallocarray(pe->pe_state, cap, sizeof(*n))) == NULL)
			fatal("%s", __func__);
		pe->pe_state = n;
		pe->pe_state_cap = cap;
	}
	pe->pe_state[pe->pe_nstate++] = *r;
	return 0;
}

static struct pif *
peers_iface_placeholder(struct peer_engine *pe, uint32_t ifid)
{
	struct pif	*pi;

	if ((pi = calloc(1, sizeof(*pi))) == NULL)
		fatal("%s", __func__);
	RB_INIT(&pi->pi_desired);
	RB_INIT(&pi->pi_applied);
	pi->pi_info.ifid = ifid;
	TAILQ_INSERT_TAIL(&pe->pe_ifaces, pi, pi_entry);
	return pi;
}

/*
 * The parent's report is complete: it replaces every applied set.  An
 * interface not configured yet (the report came before the first
 * RECONF) is kept as a placeholder that the next RECONF_END either
 * adopts or drops.
 */
int
peers_state_end(struct peer_engine *pe)
{
	struct wg_peer_req	*r;
	struct pif		*pi;
	struct peer		*p, *a;
	size_t			 i;
	int			 nplace = 0;

	if (pe->pe_state_bad) {
		log_warnx("applied state report ignored");
		goto done;
	}
	TAILQ_FOREACH(pi, &pe->pe_ifaces, pi_entry) {
		peers_tree_clear(&pi->pi_applied);
		pi->pi_napplied = 0;
	}
	for (i = 0; i < pe->pe_nstate; i++) {
		r = &pe->pe_state[i];
		if ((pi = peers_iface(pe, r->ifid)) == NULL) {
			if (++nplace > OMNI_MAX_IFACES) {
				log_warnx("applied state: too many "
				    "interfaces");
				continue;
			}
			pi = peers_iface_placeholder(pe, r->ifid);
		}
		if ((p = calloc(1, sizeof(*p))) == NULL)
			fatal("%s", __func__);
		memcpy(p->p_pubkey, r->pubkey, OMNI_KEYLEN);
		p->p_vip = r->allowed;
		peers_endpoint_copy(&p->p_endpoint, &r->endpoint);
		p->p_keepalive = r->keepalive;
		if (RB_INSERT(peer_tree, &pi->pi_applied, p) != NULL) {
			free(p);
			continue;
		}
		pi->pi_napplied++;
	}
	/*
	 * A restarted wgctld gets no desired set until signald's peer
	 * set next changes, which may be never: until then what is
	 * applied (what the previous wgctld asked for) is desired, so
	 * that a reload changing the keepalive still reaches the peers.
	 */
	TAILQ_FOREACH(pi, &pe->pe_ifaces, pi_entry) {
		if (pi->pi_have_desired)
			continue;
		RB_FOREACH(a, peer_tree, &pi->pi_applied) {
			if ((p = calloc(1, sizeof(*p))) == NULL)
				fatal("%s", __func__);
			memcpy(p->p_pubkey, a->p_pubkey, OMNI_KEYLEN);
			p->p_vip = a->p_vip;
			peers_endpoint_copy(&p->p_endpoint, &a->p_endpoint);
			RB_INSERT(peer_tree, &pi->pi_desired, p);
			pi->pi_ndesired++;
		}
		pi->pi_have_desired = 1;
	}
 done:
	free(pe->pe_state);
	pe->pe_state = NULL;
	pe->pe_nstate = pe->pe_state_cap = 0;
	if (pe->pe_state_bad) {
		pe->pe_state_bad = 0;
		return -1;
	}
	return 0;
}

/* --- the diff --------------------------------------------------------- */

static int
peers_diff_push(struct wg_peer_req **v, size_t *n, size_t *cap,
    const struct wg_peer_req *r)
{
	struct wg_peer_req	*nv;
	size_t			 ncap;

	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 16;
		if ((nv = reallocarray(*v, ncap, sizeof(**v))) == NULL)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = *r;
	return 0;
}

static void
peers_req_fill(const struct pif *pi, const struct peer *p,
    struct wg_peer_req *r)
{
	memset(r, 0, sizeof(*r));
	r->ifid = pi->pi_info.ifid;
	memcpy(r->pubkey, p->p_pubkey, OMNI_KEYLEN);
	peers_endpoint_copy(&r->endpoint, &p->p_endpoint);
	peers_host_prefix(&p->p_vip, &r->allowed);
	r->keepalive = (uint16_t)pi->pi_info.keepalive;
}

/*
 * issue 7: wgctld tells whether a peer has a live session (a handshake
 * within WireGuard's reject-after time); peers.c stays pure.
 */
static int	(*peers_session_live)(uint32_t, const uint8_t *);

void
peers_set_session_check(int (*fn)(uint32_t, const uint8_t *))
{
	peers_session_live = fn;
}

/*
 * A peer whose endpoint changes before it ever had a session is
 * removed and added again, not just moved.  Its first handshake
 * initiation went to the endpoint the nucleus saw, and WireGuard
 * sends the next one only after REKEY_TIMEOUT (5 s): moving it would
 * leave the path the probes just found unused for those 5 s.  A fresh
 * peer initiates at once.  A peer with a live session is only moved:
 * WireGuard roams it without losing a packet.
 */
static int
peers_readd(const struct pif *pi, const struct peer *a,
    const struct wg_peer_req *r)
{
	if (peers_session_live == NULL || r->endpoint.sa.sa_family ==
	    AF_UNSPEC || peers_endpoint_eq(&a->p_endpoint, &r->endpoint))
		return 0;
	return !peers_session_live(pi->pi_info.ifid, a->p_pubkey);
}

/*
 * Compute what brings the applied set to the desired set: a SET for
 * each desired peer that is not applied or differs in endpoint, VIP
 * or keepalive, a DEL for each applied peer not desired.  Nothing is
 * changed; peers_commit() records the result once it was sent.  An
 * interface without a desired set yet (right after a restart) gets an
 * empty diff so that nothing applied is removed on a guess.
 */
int
peers_diff(const struct pif *pi, struct peer_diff *d)
{
	struct wg_peer_req	 r;
	struct peer		*p, *a;
	struct peer_tree	*des, *app;
	size_t			 capset = 0, capdel = 0;

	memset(d, 0, sizeof(*d));
	if (!pi->pi_have_desired || !pi->pi_configured)
		return 0;
	des = (struct peer_tree *)&pi->pi_desired;
	app = (struct peer_tree *)&pi->pi_applied;
	RB_FOREACH(a, peer_tree, app) {
		if ((p = RB_FIND(peer_tree, des, a)) != NULL &&
		    memcmp(a->p_pubkey, pi->pi_info.pubkey, OMNI_KEYLEN) != 0 &&
		    peers_vip_allowed(pi, &p->p_vip))
			continue;
		memset(&r, 0, sizeof(r));
		r.ifid = pi->pi_info.ifid;
		memcpy(r.pubkey, a->p_pubkey, OMNI_KEYLEN);
		if (peers_diff_push(&d->pd_del, &d->pd_ndel, &capdel, &r) == -1)
			goto fail;
	}
	RB_FOREACH(p, peer_tree, des) {
		/*
		 * Our own key or prefix may have changed in a reload since
		 * the set arrived.
		 */
		if (memcmp(p->p_pubkey, pi->pi_info.pubkey, OMNI_KEYLEN) == 0 ||
		    !peers_vip_allowed(pi, &p->p_vip))
			continue;
		peers_req_fill(pi, p, &r);
		if ((a = RB_FIND(peer_tree, app, p)) != NULL &&
		    peers_endpoint_eq(&a->p_endpoint, &r.endpoint) &&
		    peers_vip_eq(&a->p_vip, &r.allowed) &&
		    a->p_keepalive == r.keepalive)
			continue;
		if (a != NULL && peers_readd(pi, a, &r) &&
		    peers_diff_push(&d->pd_del, &d->pd_ndel, &capdel, &r) == -1)
			goto fail;
		if (peers_diff_push(&d->pd_set, &d->pd_nset, &capset, &r) == -1)
			goto fail;
	}
	return 0;
 fail:
	peers_diff_free(d);
	return -1;
}

/* Record a diff as applied. */
void
peers_commit(struct pif *pi, const struct peer_diff *d)
{
	struct peer		 key, *p;
	const struct wg_peer_req *r;
	size_t			 i;

	for (i = 0; i < d->pd_ndel; i++) {
		memcpy(key.p_pubkey, d->pd_del[i].pubkey, OMNI_KEYLEN);
		if ((p = RB_FIND(peer_tree, &pi->pi_applied, &key)) == NULL)
			continue;
		RB_REMOVE(peer_tree, &pi->pi_applied, p);
		free(p);
		pi->pi_napplied--;
	}
	for (i = 0; i < d->pd_nset; i++) {
		r = &d->pd_set[i];
		memcpy(key.p_pubkey, r->pubkey, OMNI_KEYLEN);
		if ((p = RB_FIND(peer_tree, &pi->pi_applied, &key)) == NULL) {
			if ((p = calloc(1, sizeof(*p))) == NULL)
				fatal("%s", __func__);
			memcpy(p->p_pubkey, r->pubkey, OMNI_KEYLEN);
			RB_INSERT(peer_tree, &pi->pi_applied, p);
			pi->pi_napplied++;
		}
		p->p_vip = r->allowed;
		peers_endpoint_copy(&p->p_endpoint, &r->endpoint);
		p->p_keepalive = r->keepalive;
	}
}

void
peers_diff_free(struct peer_diff *d)
{
	free(d->pd_set);
	free(d->pd_del);
	memset(d, 0, sizeof(*d));
}
