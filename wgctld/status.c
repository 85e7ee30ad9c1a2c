/*
 * What omnictl show status and show nucleus report, and the metrics
 * that need memory between two polls (handshakes, paths).
 *
 * Three sources feed it: the parent's status (children, interfaces
 * up, reloads) every 2 s, signald's view of each nucleus (relayed by
 * the parent, also every 2 s), and the WireGuard statistics wgctld
 * polls for its metrics.  Entries that stop arriving expire, so a
 * nucleus removed by a reload or a dead signald shows as such instead
 * of as its last good state.
 *
 * Pure: no events, no sockets; the unit test drives it with times.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "wgctld.h"

/* --- handshakes: the last one seen per peer ------------------------ */

struct hs_entry {
	RB_ENTRY(hs_entry)	 hs_node;
	uint32_t		 hs_ifid;
	uint8_t			 hs_pubkey[OMNI_KEYLEN];
	int64_t			 hs_last;
	uint64_t		 hs_gen;
};

static int
hs_cmp(struct hs_entry *a, struct hs_entry *b)
{
	if (a->hs_ifid != b->hs_ifid)
		return a->hs_ifid < b->hs_ifid ? -1 : 1;
	return memcmp(a->hs_pubkey, b->hs_pubkey, OMNI_KEYLEN);
}

RB_HEAD(hs_tree, hs_entry);
RB_PROTOTYPE(hs_tree, hs_entry, hs_node, hs_cmp)
RB_GENERATE(hs_tree, hs_entry, hs_node, hs_cmp)

/* issue 7: the latest peer path signald reported, per peer */
struct path_entry {
	RB_ENTRY(path_entry)	 pa_node;
	struct peer_path	 pa_path;
};

static int
path_cmp(struct path_entry *a, struct path_entry *b)
{
	if (a->pa_path.ifid != b->pa_path.ifid)
		return a->pa_path.ifid < b->pa_path.ifid ? -1 : 1;
	return memcmp(a->pa_path.pubkey, b->pa_path.pubkey, OMNI_KEYLEN);
}

RB_HEAD(path_tree, path_entry);
RB_PROTOTYPE(path_tree, path_entry, pa_node, path_cmp)
RB_GENERATE(path_tree, path_entry, pa_node, path_cmp)

static struct {
	struct parent_status	 parent;
	time_t			 parent_when;	/* 0: none yet */
	struct {
		struct sig_status s;
		time_t		 when;		/* 0: free slot */
		int64_t		 reg_latency_us;	/* -1: unknown */
	}			 sig[STATUS_MAX_SIG];
	time_t			 sig_when;	/* latest of any */
	struct hs_tree		 hs;
	uint64_t		 hs_gen;
	time_t			 since;		/* handshakes before: seen */
	struct path_tree	 paths;
	size_t			 npaths;
} st = { .hs = RB_INITIALIZER(&st.hs), .paths = RB_INITIALIZER(&st.paths) };

void
status_init(time_t now)
{
	status_free();
	st.since = now;
}

void
status_free(void)
{
	struct hs_entry		*e, *next;
	struct path_entry	*pa, *pnext;

	RB_FOREACH_SAFE(e, hs_tree, &st.hs, next) {
		RB_REMOVE(hs_tree, &st.hs, e);
		free(e);
	}
	RB_FOREACH_SAFE(pa, path_tree, &st.paths, pnext) {
		RB_REMOVE(path_tree, &st.paths, pa);
		free(pa);
	}
	memset(&st, 0, sizeof(st));
	RB_INIT(&st.hs);
	RB_INIT(&st.paths);
}

int
status_path(int64_t last_handshake, time_t now)
{
	if (last_handshake <= 0)
		return PATH_NONE;
	/* A clock step backwards makes it recent, not negative. */
	if ((int64_t)now - last_handshake < OMNI_PATH_FRESH)
		return PATH_DIRECT;
	return PATH_NONE;
}

/*
 * issue 7: the path with what signald knows of the peer.  WireGuard's
 * handshake says whether traffic flows; the candidate pair in use says
 * how: to a host candidate of the peer, which is direct-lan when it
 * is a private or link-local address (a network we share with the
 * peer) and plain direct when it is a public one, or through a NAT
 * mapping.  Without probe information it is just "direct".
 */
int
status_peer_path(int64_t last_handshake, time_t now,
    const struct peer_path *pp)
{
	if (status_path(last_handshake, now) == PATH_NONE)
		return PATH_NONE;
	if (pp == NULL)
		return PATH_DIRECT;
	switch (pp->kind) {
	case CAND_HOST:
		return omni_addr_is_private(&pp->remote) ? PATH_DIRECT_LAN :
		    PATH_DIRECT;
	case CAND_REFLEXIVE:
	case CAND_PEER_REFLEXIVE:
		return PATH_DIRECT_NAT;
	default:
		return PATH_DIRECT;
	}
}

/* Why there is no path: signald's reason, "" when there is one. */
const char *
status_path_reason(int path, const struct peer_path *pp)
{
	if (path != PATH_NONE || pp == NULL)
		return "";
	if (pp->reason[0] != '\0')
		return pp->reason;
	if (pp->state == PROBE_FAILED)
		return "no candidate pair answered";
	return "";
}

const char *
status_path_name(int path)
{
	switch (path) {
	case PATH_DIRECT:	return "direct";
	case PATH_RELAYED:	return "relayed";
	case PATH_DIRECT_LAN:	return "direct-lan";
	case PATH_DIRECT_NAT:	return "direct-nat";
	default:		return "none";
	}
}

/*
 * Keep the latest path of a peer.  The parent checked it; wgctld
 * checks again what it relies on, and holds at most one per peer it
 * may hold (PEERS_MAX_STATE).
 */
int
status_path_set(const struct peer_path *pp)
{
	struct path_entry	 key, *e;

	if (omni_peer_path_check(pp) != NULL)
		return -1;
	memset(&key, 0, sizeof(key));
	key.pa_path.ifid = pp->ifid;
	memcpy(key.pa_path.pubkey, pp->pubkey, OMNI_KEYLEN);
	if ((e = RB_FIND(path_tree, &st.paths, &key)) == NULL) {
		if (st.npaths >= PEERS_MAX_STATE)
			return -1;
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			log_warn("%s", __func__);
			return -1;
		}
		e->pa_path = key.pa_path;
		RB_INSERT(path_tree, &st.paths, e);
		st.npaths++;
	}
	e->pa_path = *pp;
	return 0;
}

const struct peer_path *
status_path_get(uint32_t ifid, const uint8_t *pubkey)
{
	struct path_entry	 key, *e;

	memset(&key, 0, sizeof(key));
	key.pa_path.ifid = ifid;
	memcpy(key.pa_path.pubkey, pubkey, OMNI_KEYLEN);
	if ((e = RB_FIND(path_tree, &st.paths, &key)) == NULL)
		return NULL;
	return &e->pa_path;
}

/* Forget the paths of peers and interfaces that are gone. */
void
status_path_prune(struct peer_engine *pe)
{
	struct path_entry	*e, *next;
	struct pif		*pi;

	RB_FOREACH_SAFE(e, path_tree, &st.paths, next) {
		pi = peers_iface(pe, e->pa_path.ifid);
		if (pi != NULL && pi->pi_configured &&
		    peers_lookup(pi, e->pa_path.pubkey) != NULL)
			continue;
		RB_REMOVE(path_tree, &st.paths, e);
		free(e);
		st.npaths--;
	}
}

/*
 * One interface's fresh WireGuard statistics: count the handshakes
 * that happened since the last poll (a peer's latest handshake time
 * moved; several within one poll interval count once) and the peers
 * by path.  A handshake older than wgctld itself is not counted when
 * first seen, so a restarted wgctld does not count it twice.
 */
void
status_observe(struct pif *pi, const struct wg_peer_stats *ps, size_t n,
    time_t now)
{
	struct hs_entry		 key, *e, *next;
	size_t			 i;
	uint64_t		 gen = ++st.hs_gen;

	memset(pi->pi_npath, 0, sizeof(pi->pi_npath));
	for (i = 0; i < n; i++) {
		pi->pi_npath[status_peer_path(ps[i].last_handshake, now,
		    status_path_get(pi->pi_info.ifid, ps[i].pubkey))]++;
		memset(&key, 0, sizeof(key));
		key.hs_ifid = pi->pi_info.ifid;
		memcpy(key.hs_pubkey, ps[i].pubkey, OMNI_KEYLEN);
		if ((e = RB_FIND(hs_tree, &st.hs, &key)) == NULL) {
			if ((e = calloc(1, sizeof(*e))) == NULL) {
				log_warn("%s", __func__);
				continue;
			}
			*e = key;
			RB_INSERT(hs_tree, &st.hs, e);
			if (ps[i].last_handshake >= st.since)
				pi->pi_handshakes++;
		} else if (ps[i].last_handshake > e->hs_last)
			pi->pi_handshakes++;
		e->hs_last = ps[i].last_handshake;
		e->hs_gen = gen;
	}
	/* Peers this interface no longer has. */
	RB_FOREACH_SAFE(e, hs_tree, &st.hs, next) {
		if (e->hs_ifid != pi->pi_info.ifid || e->hs_gen == gen)
			continue;
		RB_REMOVE(hs_tree, &st.hs, e);
		free(e);
	}
	pi->pi_nstats = n;
	pi->pi_stats_when = now;
}

/*
 * A live session: the last poll saw a handshake within WireGuard's
 * reject-after time.  A peer not polled yet has none.
 */
int
status_session_live(uint32_t ifid, const uint8_t *pubkey)
{
	struct hs_entry	 key, *e;

	memset(&key, 0, sizeof(key));
	key.hs_ifid = ifid;
	memcpy(key.hs_pubkey, pubkey, OMNI_KEYLEN);
	if ((e = RB_FIND(hs_tree, &st.hs, &key)) == NULL || e->hs_last <= 0)
		return 0;
	return status_path(e->hs_last, time(NULL)) != PATH_NONE;
}

/* --- the parent's status ------------------------------------------- */

int
status_parent_set(const struct parent_status *ps, time_t now)
{
	int	 i;

	if (ps->niface < 0 || ps->niface > OMNI_MAX_IFACES ||
	    (ps->nucleus != 0 && ps->nucleus != 1) ||
	    (ps->running & ~((1u << PROC_MAX) - 1)) != 0 ||
	    (ps->wanted & ~((1u << PROC_MAX) - 1)) != 0)
		return -1;
	for (i = 0; i < ps->niface; i++)
		if (ps->up[i] > 1)
			return -1;
	st.parent = *ps;
	st.parent_when = now;
	return 0;
}

static int
status_iface_up(uint32_t ifid)
{
	int	 i;

	for (i = 0; i < st.parent.niface; i++)
		if (st.parent.ifid[i] == ifid)
			return st.parent.up[i];
	return 0;
}

/* --- signald's view of the nuclei ----------------------------------- */

static int
status_addr_valid(const struct omni_addr *a)
{
	return (a->sa.sa_family == AF_INET || a->sa.sa_family == AF_INET6) &&
	    omni_addr_port(a) != 0;
}

static int
status_addr_eq(const struct omni_addr *a, const struct omni_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family ||
	    omni_addr_port(a) != omni_addr_port(b))
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	return memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr,
	    sizeof(a->sin6.sin6_addr)) == 0;
}

/* Forget what was not repeated for STATUS_STALE seconds. */
void
status_expire(time_t now)
{
	int	 i;

	for (i = 0; i < STATUS_MAX_SIG; i++)
		if (st.sig[i].when != 0 &&
		    now - st.sig[i].when > STATUS_STALE)
			memset(&st.sig[i], 0, sizeof(st.sig[i]));
}

int
status_sig_set(const struct sig_status *ss, time_t now)
{
	int	 i, slot = -1, was_registered = 0;

	if (!status_addr_valid(&ss->addr) ||
	    (ss->registered != 0 && ss->registered != 1) ||
	    ss->rtt_us < -1 || ss->last_answer < 0)
		return -1;
	status_expire(now);
	for (i = 0; i < STATUS_MAX_SIG; i++) {
		if (st.sig[i].when == 0) {
			if (slot == -1)
				slot = i;
			continue;
		}
		if (st.sig[i].s.ifid == ss->ifid &&
		    status_addr_eq(&st.sig[i].s.addr, &ss->addr)) {
			slot = i;
			was_registered = st.sig[i].s.registered;
			break;
		}
	}
	if (slot == -1)
		return -1;
	if (st.sig[slot].when == 0)
		st.sig[slot].reg_latency_us = -1;
	/*
	 * Registration latency: the round trip of the exchange that
	 * turned "not registered" into "registered".
	 */
	if (ss->ifid != 0 && ss->registered && !was_registered &&
	    ss->rtt_us >= 0)
		st.sig[slot].reg_latency_us = ss->rtt_us;
	st.sig[slot].s = *ss;
	st.sig[slot].when = now;
	st.sig_when = now;
	return 0;
}

/*
 * Walk the nucleus rows: *iter starts at 0.  Returns 0 with *row set,
 * -1 after the last one.
 */
int
status_nucleus_next(struct peer_engine *pe, time_t now, int *iter,
    struct ctl_nucleus *row, int64_t *reg_latency_us)
{
	const struct sig_status	*s;
	struct pif		*pi;

	for (; *iter < STATUS_MAX_SIG; (*iter)++) {
		if (st.sig[*iter].when == 0 ||
		    now - st.sig[*iter].when > STATUS_STALE)
			continue;
		s = &st.sig[*iter].s;
		memset(row, 0, sizeof(*row));
		row->addr = s->addr;
		if (s->ifid == 0) {
			row->kind = CTL_NUCLEUS_LOCAL;
			row->clusters = s->clusters;
			row->edges = s->edges;
			row->rtt_us = -1;
		} else {
			if ((pi = peers_iface(pe, s->ifid)) == NULL ||
			    !pi->pi_configured)
				continue;
			row->kind = CTL_NUCLEUS_EDGE;
			strlcpy(row->ifname, pi->pi_info.name,
			    sizeof(row->ifname));
			row->registered = s->registered;
			row->last_answer = s->last_answer;
			row->rtt_us = s->rtt_us;
		}
		if (reg_latency_us != NULL)
			*reg_latency_us = st.sig[*iter].reg_latency_us;
		(*iter)++;
		return 0;
	}
	return -1;
}

/* --- the summary ------------------------------------------------------ */

static void
status_problem(struct ctl_status *cs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append one reason to the list of what is wrong. */
static void
status_problem(struct ctl_status *cs, const char *fmt, ...)
{
	char	 buf[160];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (cs->problem[0] != '\0')
		strlcat(cs->problem, "; ", sizeof(cs->problem));
	strlcat(cs->problem, buf, sizeof(cs->problem));
	cs->healthy = 0;
}

/*
 * Healthy means: omnid reports in, every child it wants runs, every
 * interface is up and registered with at least one nucleus, and a
 * nucleus role is being served.
 */
void
status_fill(struct peer_engine *pe, time_t now, struct ctl_status *cs)
{
	struct pif	*pi;
	int		 i, reg, seen, p;

	memset(cs, 0, sizeof(*cs));
	cs->healthy = 1;
	strlcpy(cs->version, OMNI_VERSION, sizeof(cs->version));
	status_expire(now);
	if (st.parent_when == 0)
		status_problem(cs, "no status from omnid yet");
	else if (now - st.parent_when > STATUS_STALE)
		status_problem(cs, "no status from omnid for %lld s",
		    (long long)(now - st.parent_when));
	else {
		cs->started = st.parent.started;
		cs->running = st.parent.running;
		cs->wanted = st.parent.wanted;
		cs->restarts = st.parent.restarts;
		cs->nucleus = st.parent.nucleus;
		for (p = 0; p < PROC_MAX; p++)
			if ((cs->wanted & PROC_BIT(p)) &&
			    !(cs->running & PROC_BIT(p)))
				status_problem(cs, "%s is not running",
				    omni_proc_name(p));
	}
	TAILQ_FOREACH(pi, &pe->pe_ifaces, pi_entry) {
		if (!pi->pi_configured)
			continue;
		cs->ifaces++;
		if (status_iface_up(pi->pi_info.ifid))
			cs->ifaces_up++;
		else if (st.parent_when != 0)
			status_problem(cs, "%s is down", pi->pi_info.name);
		for (reg = seen = 0, i = 0; i < STATUS_MAX_SIG; i++) {
			if (st.sig[i].when == 0 ||
			    st.sig[i].s.ifid != pi->pi_info.ifid)
				continue;
			seen = 1;
			reg |= st.sig[i].s.registered;
		}
		if (reg)
			cs->ifaces_registered++;
		else if (!seen)
			status_problem(cs, "%s: no signaling status",
			    pi->pi_info.name);
		else
			status_problem(cs, "%s: not registered with any "
			    "nucleus", pi->pi_info.name);
		cs->peers += pi->pi_nstats;
		cs->peers_direct += pi->pi_npath[PATH_DIRECT] +
		    pi->pi_npath[PATH_DIRECT_LAN] +
		    pi->pi_npath[PATH_DIRECT_NAT];
	}
	for (i = 0; i < STATUS_MAX_SIG; i++) {
		if (st.sig[i].when == 0 || st.sig[i].s.ifid != 0)
			continue;
		cs->nucleus_clusters = st.sig[i].s.clusters;
		cs->nucleus_edges = st.sig[i].s.edges;
		break;
	}
	if (cs->nucleus && i == STATUS_MAX_SIG)
		status_problem(cs, "nucleus: no signaling status");
}
