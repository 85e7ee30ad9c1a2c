/*
 * Edge role: for every interface and every nucleus it names, register
 * (retrying with backoff 1, 2, 4, ... seconds up to the heartbeat
 * interval), then send a heartbeat every interval.  Each answer
 * carries that nucleus's view of the cluster; the interface's peer
 * set is the union of the latest views (per public key the most
 * recent report wins) and goes to the parent whenever it changes.
 *
 * A nucleus that stops answering is registered with again, but what
 * it reported last is kept: a silent nucleus must not tear tunnels
 * down.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "signald.h"

enum en_state {
	EN_REGISTERING = 0,
	EN_REGISTERED
};

struct edge_nucleus {
	struct omni_addr	 en_addr;
	enum en_state		 en_state;
	uint64_t		 en_next;	/* ms: next REGISTER/HEARTBEAT */
	uint32_t		 en_backoff;	/* seconds */
	uint64_t		 en_last_ack;	/* ms */
	uint64_t		 en_last_reg;	/* ms: latest REGISTER sent */
	uint64_t		 en_last_ts;	/* newest answer's timestamp */
	int			 en_vip_warned;
	int			 en_has_report;
	uint64_t		 en_report_seq;
	uint32_t		 en_npeers;
	struct sig_peer		 en_peers[EDGE_NUCLEUS_PEERS];
};

struct edge_iface {
	TAILQ_ENTRY(edge_iface)	 ei_entry;
	struct sig_iface	 ei_conf;
	struct edge_nucleus	 ei_nuclei[OMNI_MAX_NUCLEI];
	int			 ei_sent_once;
	size_t			 ei_nsent;
	struct omni_peer	 ei_sent[EDGE_MAX_PEERS];
};

static TAILQ_HEAD(, edge_iface)	 edge_ifaces =
    TAILQ_HEAD_INITIALIZER(edge_ifaces);
static struct edge_io		 edge_io;
static uint64_t			 edge_seq;

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

static void
nucleus_reset(struct edge_nucleus *en, const struct omni_addr *addr,
    uint64_t now)
{
	memset(en, 0, sizeof(*en));
	en->en_addr = *addr;
	en->en_state = EN_REGISTERING;
	en->en_backoff = 1;
	en->en_next = now;
}

static int
edge_send(struct edge_iface *ei, struct edge_nucleus *en, int type,
    const struct sig_clock *clk)
{
	const struct sig_iface	*c = &ei->ei_conf;
	struct sig_msg		 m;
	uint8_t			 buf[SIG_MAXDGRAM];
	size_t			 len;
	char			 abuf[OMNI_ADDRSTRLEN];
	int			 rv;

	proto_init_msg(&m, type, c->cluster, clk->wall);
	memcpy(m.pubkey, c->pubkey, SIG_KEYLEN);
	m.vip = c->vip;
	m.port = c->wg_port;
	if ((rv = proto_encode(&m, c->key, buf, sizeof(buf), &len)) !=
	    SIG_OK) {
		log_warnx("%s: cannot encode %s: %s", c->name,
		    proto_type_name(type), proto_reason_name(rv));
		return -1;
	}
	if (edge_io.send(c->ifid, &en->en_addr, buf, len) == -1) {
		log_debug("%s: %s to %s not sent", c->name,
		    proto_type_name(type),
		    omni_addr_str(&en->en_addr, abuf, sizeof(abuf)));
		return -1;
	}
	sig_stats.sent[type]++;
	log_debug("%s: %s sent to %s", c->name, proto_type_name(type),
	    omni_addr_str(&en->en_addr, abuf, sizeof(abuf)));
	return 0;
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
}

static void
edge_deregister_all(struct edge_iface *ei, const struct sig_clock *clk)
{
	int	 i;

	for (i = 0; i < ei->ei_conf.nnuclei; i++)
		edge_send(ei, &ei->ei_nuclei[i], SIG_DEREGISTER, clk);
}

static int
peer_cmp(const void *a, const void *b)
{
	return memcmp(((const struct omni_peer *)a)->pubkey,
	    ((const struct omni_peer *)b)->pubkey, OMNI_KEYLEN);
}

/* Recompute the union and hand it to the parent if it changed. */
static void
edge_update_peers(struct edge_iface *ei)
{
	static struct omni_peer	 set[EDGE_MAX_PEERS];
	static uint64_t		 seq[EDGE_MAX_PEERS];
	struct edge_nucleus	*en;
	const struct sig_peer	*sp;
	struct omni_peer	*op;
	size_t			 n = 0, j;
	uint32_t		 k;
	int			 i, any = 0;

	for (i = 0; i < ei->ei_conf.nnuclei; i++) {
		en = &ei->ei_nuclei[i];
		if (!en->en_has_report)
			continue;
		any = 1;
		for (k = 0; k < en->en_npeers; k++) {
			sp = &en->en_peers[k];
			if (memcmp(sp->pubkey, ei->ei_conf.pubkey,
			    OMNI_KEYLEN) == 0)
				continue;	/* never ourselves */
			for (j = 0; j < n; j++)
				if (memcmp(set[j].pubkey, sp->pubkey,
				    OMNI_KEYLEN) == 0)
					break;
			if (j < n && seq[j] >= en->en_report_seq)
				continue;
			if (j == n) {
				if (n == EDGE_MAX_PEERS)
					continue;
				n++;
			}
			op = &set[j];
			memset(op, 0, sizeof(*op));
			op->ifid = ei->ei_conf.ifid;
			memcpy(op->pubkey, sp->pubkey, OMNI_KEYLEN);
			op->vip = sp->vip;
			proto_peer_to_addr(sp, &op->endpoint);
			seq[j] = en->en_report_seq;
		}
	}
	if (!any)
		return;		/* nothing learned yet: say nothing */
	qsort(set, n, sizeof(set[0]), peer_cmp);
	if (ei->ei_sent_once && n == ei->ei_nsent &&
	    (n == 0 || memcmp(set, ei->ei_sent, n * sizeof(set[0])) == 0))
		return;
	log_info("%s: peer set now %zu peers", ei->ei_conf.name, n);
	edge_io.peers(ei->ei_conf.ifid, set, n);
	memcpy(ei->ei_sent, set, n * sizeof(set[0]));
	ei->ei_nsent = n;
	ei->ei_sent_once = 1;
}

/*
 * A HEARTBEAT_ACK replaces what the nucleus reported before.  A
 * REGISTER_ACK only adds to it: after a nucleus restarts, the first
 * edges to register again get short lists, and taking those as the
 * truth would tear tunnels down for one heartbeat interval.  By the
 * next HEARTBEAT_ACK the others have registered again as well.
 */
static void
edge_store_report(struct edge_iface *ei, struct edge_nucleus *en,
    const struct sig_msg *m, int merge)
{
	struct sig_peer	 old[EDGE_NUCLEUS_PEERS];
	uint32_t	 nold, i, j;

	nold = merge && en->en_has_report ? en->en_npeers : 0;
	memcpy(old, en->en_peers, nold * sizeof(old[0]));
	memcpy(en->en_peers, m->peers, m->npeers * sizeof(m->peers[0]));
	en->en_npeers = m->npeers;
	for (i = 0; i < nold && en->en_npeers < EDGE_NUCLEUS_PEERS; i++) {
		for (j = 0; j < m->npeers; j++)
			if (memcmp(old[i].pubkey, m->peers[j].pubkey,
			    SIG_KEYLEN) == 0)
				break;
		if (j == m->npeers)
			en->en_peers[en->en_npeers++] = old[i];
	}
	en->en_has_report = 1;
	en->en_report_seq = ++edge_seq;
	edge_update_peers(ei);
}

/* One datagram on the socket of interface ifid. */
void
edge_input(uint32_t ifid, const uint8_t *d, size_t len,
    const struct omni_addr *from, const struct sig_clock *clk)
{
	struct edge_iface	*ei;
	struct edge_nucleus	*en = NULL;
	struct sig_msg		 m;
	char			 abuf[OMNI_ADDRSTRLEN], pbuf[OMNI_PREFIXSTRLEN];
	int			 i, rv, was;

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
	if (len >= SIG_HDRLEN && d[1] != SIG_REGISTER_ACK &&
	    d[1] != SIG_HEARTBEAT_ACK && d[1] != SIG_NAK &&
	    d[1] != SIG_PEER_INFO) {
		sig_drop(SIG_R_UNKNOWN_TYPE, from, NULL);
		return;
	}
	if ((rv = proto_open(d, len, ei->ei_conf.key, clk->wall, &m)) !=
	    SIG_OK) {
		sig_drop(rv, from, ei->ei_conf.name);
		return;
	}
	if (strcmp(m.cluster, ei->ei_conf.cluster) != 0) {
		sig_drop(SIG_R_UNKNOWN_CLUSTER, from, ei->ei_conf.name);
		return;
	}
	if (m.timestamp < en->en_last_ts) {
		sig_drop(SIG_R_STALE, from, "older than the latest answer");
		return;
	}
	en->en_last_ts = m.timestamp;
	sig_stats.received[m.type]++;
	log_debug("%s: %s from %s", ei->ei_conf.name,
	    proto_type_name(m.type), omni_addr_str(from, abuf, sizeof(abuf)));

	switch (m.type) {
	case SIG_REGISTER_ACK:
		was = en->en_state;
		en->en_state = EN_REGISTERED;
		en->en_backoff = 1;
		en->en_last_ack = clk->ms;
		en->en_next = clk->ms + hb_ms(ei);
		en->en_vip_warned = 0;
		if (was != EN_REGISTERED)
			log_info("%s: registered with nucleus %s",
			    ei->ei_conf.name,
			    omni_addr_str(from, abuf, sizeof(abuf)));
		edge_store_report(ei, en, &m, 1);
		break;
	case SIG_HEARTBEAT_ACK:
		en->en_last_ack = clk->ms;
		edge_store_report(ei, en, &m, 0);
		break;
	case SIG_NAK:
		if (m.status == SIG_NAK_UNKNOWN_EDGE) {
			log_info("%s: nucleus %s does not know us, "
			    "registering again", ei->ei_conf.name,
			    omni_addr_str(from, abuf, sizeof(abuf)));
			en->en_state = EN_REGISTERING;
			en->en_backoff = 1;
			/* at once, but not more than once a second */
			if (en->en_last_reg == 0 ||
			    clk->ms >= en->en_last_reg + 1000)
				edge_register_now(ei, en, clk);
			else
				en->en_next = en->en_last_reg + 1000;
		} else if (m.status == SIG_NAK_VIP_TAKEN) {
			sig_drop(SIG_R_VIP_TAKEN, from, ei->ei_conf.name);
			if (!en->en_vip_warned)
				log_warnx("%s: nucleus %s refused VIP %s: "
				    "another key holds it", ei->ei_conf.name,
				    omni_addr_str(from, abuf, sizeof(abuf)),
				    omni_prefix_str(&ei->ei_conf.vip, pbuf,
				    sizeof(pbuf)));
			en->en_vip_warned = 1;
			/* keep retrying: the holder may go away */
			en->en_state = EN_REGISTERING;
		} else
			log_debug("%s: NAK status %u ignored",
			    ei->ei_conf.name, m.status);
		break;
	case SIG_PEER_INFO:
		/* no queries are sent in this version */
		break;
	}
}

static void
edge_tick_one(struct edge_iface *ei, struct edge_nucleus *en,
    const struct sig_clock *clk)
{
	char	 abuf[OMNI_ADDRSTRLEN];

	if (en->en_state == EN_REGISTERED &&
	    clk->ms >= en->en_last_ack + EDGE_SILENT_BEATS * hb_ms(ei)) {
		log_info("%s: no answer from nucleus %s, registering again",
		    ei->ei_conf.name,
		    omni_addr_str(&en->en_addr, abuf, sizeof(abuf)));
		en->en_state = EN_REGISTERING;
		en->en_backoff = 1;
		en->en_next = clk->ms;
	}
	if (clk->ms < en->en_next)
		return;
	if (en->en_state == EN_REGISTERING)
		edge_register_now(ei, en, clk);
	else {
		edge_send(ei, en, SIG_HEARTBEAT, clk);
		en->en_next = clk->ms + hb_ms(ei);
	}
}

void
edge_tick(const struct sig_clock *clk)
{
	struct edge_iface	*ei;
	int			 i;

	TAILQ_FOREACH(ei, &edge_ifaces, ei_entry)
		for (i = 0; i < ei->ei_conf.nnuclei; i++)
			edge_tick_one(ei, &ei->ei_nuclei[i], clk);
}

/* Same cluster, key and identity: registrations stay valid. */
static int
same_identity(const struct sig_iface *a, const struct sig_iface *b)
{
	return strcmp(a->cluster, b->cluster) == 0 &&
	    sodium_memcmp(a->key, b->key, OMNI_KEYLEN) == 0 &&
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
		ei->ei_conf = *c;
		for (i = 0; i < c->nnuclei; i++)
			nucleus_reset(&ei->ei_nuclei[i], &c->nuclei[i],
			    clk->ms);
		return;
	}
	/* Keep the state of nuclei still listed, leave the others. */
	nold = ei->ei_conf.nnuclei;
	memcpy(old, ei->ei_nuclei, sizeof(old));
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
		if (!kept[j])
			edge_send(ei, &old[j], SIG_DEREGISTER, clk);
	/* A new VIP or port must reach the nuclei now. */
	if (!omni_prefix_eq(&ei->ei_conf.vip, &c->vip) ||
	    ei->ei_conf.wg_port != c->wg_port)
		for (i = 0; i < c->nnuclei; i++) {
			ei->ei_nuclei[i].en_state = EN_REGISTERING;
			ei->ei_nuclei[i].en_backoff = 1;
			ei->ei_nuclei[i].en_next = clk->ms;
		}
	ei->ei_conf = *c;
	edge_update_peers(ei);
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
		sodium_memzero(&ei->ei_conf, sizeof(ei->ei_conf));
		free(ei);
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
		for (i = 0; i < ifs[k].nnuclei; i++)
			nucleus_reset(&ei->ei_nuclei[i], &ifs[k].nuclei[i],
			    clk->ms);
		TAILQ_INSERT_TAIL(&edge_ifaces, ei, ei_entry);
		log_info("%s: edge of cluster %s with %d nuclei",
		    ifs[k].name, ifs[k].cluster, ifs[k].nnuclei);
	}
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
