/*
 * wgctld: turns the peer sets signaling learns into WireGuard changes
 * the parent applies, and serves omnictl on the control socket.
 *
 * It owns no privilege at all: it sees no key but public ones, opens
 * no socket (the control socket arrives by descriptor passing) and
 * talks only to the parent, which validates every change again before
 * it touches an interface.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <event.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "wgctld.h"

#define METRICS_INTERVAL	2	/* seconds */

static struct peer_engine	 engine;
static struct imsgev		 iev_parent;
static struct conf_global	 conf_global;

/* Statistics requests the parent has not finished answering. */
static TAILQ_HEAD(, stats_req)	 stats_pending =
    TAILQ_HEAD_INITIALIZER(stats_pending);
static uint32_t			 stats_next_id;

/* The metrics poll in progress: one stats request per interface. */
static struct {
	struct stats_req	*parts[OMNI_MAX_IFACES];
	uint32_t		 ifids[OMNI_MAX_IFACES];
	int			 n;
	int			 active;
} mround;
static struct event		 metrics_ev;

static void	parent_reconf_global(struct imsgev *, struct imsg *);
static void	parent_reconf_iface(struct imsgev *, struct imsg *);
static void	parent_reconf_end(struct imsgev *, struct imsg *);
static void	parent_state_peer(struct imsgev *, struct imsg *);
static void	parent_state_end(struct imsgev *, struct imsg *);
static void	parent_peers_begin(struct imsgev *, struct imsg *);
static void	parent_peers_peer(struct imsgev *, struct imsg *);
static void	parent_peers_end(struct imsgev *, struct imsg *);
static void	parent_sock_control(struct imsgev *, struct imsg *);
static void	parent_stats_peer(struct imsgev *, struct imsg *);
static void	parent_stats_end(struct imsgev *, struct imsg *);
static void	parent_ctl_result(struct imsgev *, struct imsg *);
static void	parent_log_verbose(struct imsgev *, struct imsg *);
static void	parent_status_msg(struct imsgev *, struct imsg *);
static void	parent_sig_status(struct imsgev *, struct imsg *);
static void	parent_peer_path(struct imsgev *, struct imsg *);

#define P	PROC_BIT(PROC_PARENT)
static const struct proc_dispatch parent_table[] = {
	{ IMSG_RECONF_GLOBAL, P, sizeof(struct conf_global), 0,
	    parent_reconf_global },
	{ IMSG_RECONF_IFACE, P, sizeof(struct iface_info), 0,
	    parent_reconf_iface },
	{ IMSG_RECONF_END, P, 0, 0, parent_reconf_end },
	{ IMSG_WG_STATE_PEER, P, sizeof(struct wg_peer_req), 0,
	    parent_state_peer },
	{ IMSG_WG_STATE_END, P, 0, 0, parent_state_end },
	{ IMSG_PEERS_BEGIN, P, sizeof(struct peer_set_hdr), 0,
	    parent_peers_begin },
	{ IMSG_PEERS_PEER, P, sizeof(struct omni_peer), 0,
	    parent_peers_peer },
	{ IMSG_PEERS_END, P, sizeof(struct peer_set_hdr), 0,
	    parent_peers_end },
	{ IMSG_SOCK_CONTROL, P, sizeof(struct sock_control), 1,
	    parent_sock_control },
	{ IMSG_WG_STATS_PEER, P, sizeof(struct wg_peer_stats), 0,
	    parent_stats_peer },
	{ IMSG_WG_STATS_END, P, sizeof(struct wg_stats_req), 0,
	    parent_stats_end },
	{ IMSG_CTL_RESULT, P, sizeof(struct ctl_result), 0,
	    parent_ctl_result },
	{ IMSG_CTL_LOG_VERBOSE, P, sizeof(int), 0, parent_log_verbose },
	{ IMSG_PARENT_STATUS, P, sizeof(struct parent_status), 0,
	    parent_status_msg },
	{ IMSG_SIG_STATUS, P, sizeof(struct sig_status), 0,
	    parent_sig_status },
	{ IMSG_PEER_PATH, P, sizeof(struct peer_path), 0,
	    parent_peer_path },
	{ 0, 0, 0, 0, NULL }
};
#undef P

/*
 * Beyond proc.c's base list: accept4 for control clients; libevent's
 * epoll instance and signal pipe; and the get*id calls libevent makes
 * to decide whether to trust its environment.
 */
static const int wgctld_syscalls[] = {
	SCMP_SYS(accept4), SCMP_SYS(epoll_create1), SCMP_SYS(pipe2),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	/* glibc's qsort() of peer statistics past 1 kB (show peers) */
	SCMP_SYS(sysinfo),
	-1
};

int
wgctld_to_parent(uint32_t type, uint32_t peerid, const void *data,
    size_t len)
{
	if (imsgev_compose(&iev_parent, type, peerid, -1, data, len) == -1) {
		log_warn("queue message %u to the parent", type);
		return -1;
	}
	return 0;
}

/* --- applying the diff ------------------------------------------------- */

static void
wgctld_log_req(const char *what, const struct pif *pi,
    const struct wg_peer_req *r)
{
	char	 key[OMNI_KEY_B64LEN], vip[OMNI_PREFIXSTRLEN];
	char	 ep[OMNI_ADDRSTRLEN];

	if (log_getverbose() < 1)
		return;
	omni_key_to_base64(r->pubkey, key, sizeof(key));
	log_debug("%s: %s peer %s vip %s endpoint %s", pi->pi_info.name,
	    what, key, omni_prefix_str(&r->allowed, vip, sizeof(vip)),
	    omni_addr_str(&r->endpoint, ep, sizeof(ep)));
}

/*
 * Bring one interface to its desired state.  Removals go first so that
 * a VIP moving from a departed peer to a new one is never claimed by
 * two peers.  Only what was queued to the parent counts as applied.
 */
/*
 * A new peer is first set without its persistent keepalive, and the
 * keepalive follows KA_HOLD_MS later plus up to KA_SPREAD_MS chosen
 * by our own key.  Setting the keepalive makes WireGuard send one at
 * once, which starts a handshake; two edges that learn of each other
 * from the nucleus within a millisecond would both initiate, each
 * consume the other's initiation, reject the other's response, and
 * wait 5 s (REKEY_TIMEOUT) to try again.  Held back, the handshake
 * is started by traffic, or by the first of the two keepalives.
 */
#define KA_HOLD_MS	100
#define KA_SPREAD_MS	400
static struct event	 ka_ev;
static void		 wgctld_sync_all(void);

static void
wgctld_ka_release(int fd, short ev, void *arg)
{
	wgctld_sync_all();
}

static int
wgctld_readded(const struct peer_diff *d, const uint8_t *pubkey)
{
	size_t	 i;

	for (i = 0; i < d->pd_ndel; i++)
		if (memcmp(d->pd_del[i].pubkey, pubkey, OMNI_KEYLEN) == 0)
			return 1;
	return 0;
}

static void
wgctld_ka_hold(struct pif *pi, struct peer_diff *d)
{
	struct peer	 key;
	struct timeval	 tv;
	size_t		 i;
	unsigned	 ms;
	int		 held = 0;

	for (i = 0; i < d->pd_nset; i++) {
		memcpy(key.p_pubkey, d->pd_set[i].pubkey, OMNI_KEYLEN);
		/* a peer removed and added again (peers_readd) is new too */
		if (d->pd_set[i].keepalive == 0 ||
		    (RB_FIND(peer_tree, &pi->pi_applied, &key) != NULL &&
		    !wgctld_readded(d, d->pd_set[i].pubkey)))
			continue;
		d->pd_set[i].keepalive = 0;
		held = 1;
	}
	if (!held || evtimer_pending(&ka_ev, NULL))
		return;
	ms = KA_HOLD_MS + (pi->pi_info.pubkey[0] << 8 |
	    pi->pi_info.pubkey[1]) % KA_SPREAD_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = ms % 1000 * 1000;
	evtimer_add(&ka_ev, &tv);
}

static void
wgctld_sync(struct pif *pi)
{
	struct peer_diff	 d;
	size_t			 i;

	if (peers_diff(pi, &d) == -1) {
		log_warn("%s: diff", pi->pi_info.name);
		return;
	}
	wgctld_ka_hold(pi, &d);
	for (i = 0; i < d.pd_ndel; i++) {
		wgctld_log_req("remove", pi, &d.pd_del[i]);
		if (wgctld_to_parent(IMSG_WG_PEER_DEL, 0, &d.pd_del[i],
		    sizeof(d.pd_del[i])) == -1) {
			d.pd_ndel = i;
			d.pd_nset = 0;
			break;
		}
	}
	for (i = 0; i < d.pd_nset; i++) {
		wgctld_log_req("set", pi, &d.pd_set[i]);
		if (wgctld_to_parent(IMSG_WG_PEER_SET, 0, &d.pd_set[i],
		    sizeof(d.pd_set[i])) == -1) {
			d.pd_nset = i;
			break;
		}
	}
	if (d.pd_nset || d.pd_ndel)
		log_info("%s: %zu peers set, %zu removed, %zu desired",
		    pi->pi_info.name, d.pd_nset, d.pd_ndel, pi->pi_ndesired);
	peers_commit(pi, &d);
	peers_diff_free(&d);
}

static void
wgctld_sync_all(void)
{
	struct pif	*pi;

	TAILQ_FOREACH(pi, &engine.pe_ifaces, pi_entry)
		wgctld_sync(pi);
}

/* --- messages from the parent ----------------------------------------- */

static void
parent_reconf_global(struct imsgev *iev, struct imsg *im)
{
	struct conf_global	*g = im->data;

	if (!omni_str_valid(g->user, sizeof(g->user)) ||
	    !omni_str_valid(g->chroot, sizeof(g->chroot)) ||
	    !omni_str_valid(g->control, sizeof(g->control)) ||
	    !omni_str_valid(g->wireguard_go, sizeof(g->wireguard_go))) {
		log_warnx("reconf: bad global section ignored");
		return;
	}
	conf_global = *g;
}

static void
parent_reconf_iface(struct imsgev *iev, struct imsg *im)
{
	peers_reconf_iface(&engine, im->data);
}

static void
parent_reconf_end(struct imsgev *iev, struct imsg *im)
{
	struct pif	*pi;
	int		 n = 0;

	if (peers_reconf_end(&engine) == -1)
		return;
	TAILQ_FOREACH(pi, &engine.pe_ifaces, pi_entry)
		n++;
	log_debug("configuration: %d interfaces", n);
	/* A changed keepalive or key changes what every peer should be. */
	wgctld_sync_all();
	status_path_prune(&engine);
}

static void
parent_state_peer(struct imsgev *iev, struct imsg *im)
{
	peers_state_peer(&engine, im->data);
}

static void
parent_state_end(struct imsgev *iev, struct imsg *im)
{
	struct pif	*pi;
	size_t		 n = 0;

	if (peers_state_end(&engine) == -1)
		return;
	TAILQ_FOREACH(pi, &engine.pe_ifaces, pi_entry)
		n += pi->pi_napplied;
	log_debug("applied state: %zu peers", n);
	wgctld_sync_all();
}

static void
parent_peers_begin(struct imsgev *iev, struct imsg *im)
{
	peers_set_begin(&engine, im->data);
}

static void
parent_peers_peer(struct imsgev *iev, struct imsg *im)
{
	peers_set_peer(&engine, im->data);
}

static void
parent_peers_end(struct imsgev *iev, struct imsg *im)
{
	struct pif	*pi;

	if ((pi = peers_set_end(&engine, im->data)) != NULL) {
		wgctld_sync(pi);
		status_path_prune(&engine);
	}
}

static void
parent_sock_control(struct imsgev *iev, struct imsg *im)
{
	struct sock_control	*sc = im->data;

	if (sc->readonly != 0 && sc->readonly != 1) {
		log_warnx("control socket with bad mode %d", sc->readonly);
		close(im->fd);
		return;
	}
	control_listen(im->fd, sc->readonly);
}

static struct stats_req *
stats_find(uint32_t id)
{
	struct stats_req	*sr;

	TAILQ_FOREACH(sr, &stats_pending, sr_entry)
		if (sr->sr_id == id)
			return sr;
	return NULL;
}

static void
parent_stats_peer(struct imsgev *iev, struct imsg *im)
{
	struct wg_peer_stats	*ps = im->data, *n;
	struct stats_req	*sr;
	size_t			 cap;

	/* A late answer to a request given up on: nothing to do. */
	if ((sr = stats_find(im->hdr.peerid)) == NULL)
		return;
	if (ps->ifid != sr->sr_ifid || sr->sr_npeers >= PEERS_MAX_SET) {
		log_warnx("stats request %u: unexpected peer", sr->sr_id);
		return;
	}
	if (sr->sr_npeers == sr->sr_cap) {
		cap = sr->sr_cap ? sr->sr_cap * 2 : 16;
		if ((n = reallocarray(sr->sr_peers, cap, sizeof(*n))) == NULL) {
			log_warn("stats request %u", sr->sr_id);
			return;
		}
		sr->sr_peers = n;
		sr->sr_cap = cap;
	}
	sr->sr_peers[sr->sr_npeers++] = *ps;
}

static void
parent_stats_end(struct imsgev *iev, struct imsg *im)
{
	struct wg_stats_req	*e = im->data;
	struct stats_req	*sr;

	if ((sr = stats_find(im->hdr.peerid)) == NULL)
		return;
	if (e->ifid != sr->sr_ifid || e->count != sr->sr_npeers)
		log_warnx("stats request %u: %zu peers, parent says %u",
		    sr->sr_id, sr->sr_npeers, e->count);
	TAILQ_REMOVE(&stats_pending, sr, sr_entry);
	sr->sr_done = 1;
	/* The callback may free sr. */
	if (sr->sr_cb != NULL)
		sr->sr_cb(sr, sr->sr_arg);
}

static void
parent_ctl_result(struct imsgev *iev, struct imsg *im)
{
	struct ctl_result	*r = im->data;

	if (!omni_str_valid(r->text, sizeof(r->text))) {
		log_warnx("control result with a bad text");
		return;
	}
	control_reload_result(im->hdr.peerid, r);
}

static void
parent_log_verbose(struct imsgev *iev, struct imsg *im)
{
	int	 v;

	memcpy(&v, im->data, sizeof(v));
	if (v < 0 || v > 3) {
		log_warnx("bad log verbosity %d", v);
		return;
	}
	log_setverbose(v);
	log_info("log verbosity %d", v);
}

static void
parent_status_msg(struct imsgev *iev, struct imsg *im)
{
	if (status_parent_set(im->data, time(NULL)) == -1)
		log_warnx("bad status from the parent ignored");
}

static void
parent_sig_status(struct imsgev *iev, struct imsg *im)
{
	const struct sig_status	*ss = im->data;

	if (ss->ifid != 0 && peers_iface(&engine, ss->ifid) == NULL)
		return;		/* an interface a reload just removed */
	if (status_sig_set(ss, time(NULL)) == -1)
		log_warnx("bad signaling status for interface %u ignored",
		    ss->ifid);
}

/*
 * issue 7: how signald reaches a peer.  Kept only for a peer wgctld
 * knows of, so a path cannot outlive its peer; the next peer set after
 * a path that came first brings it back with signald's next report.
 */
static void
parent_peer_path(struct imsgev *iev, struct imsg *im)
{
	struct peer_path	 pp;
	struct pif		*pi;

	memcpy(&pp, im->data, sizeof(pp));
	if ((pi = peers_iface(&engine, pp.ifid)) == NULL ||
	    !pi->pi_configured || peers_lookup(pi, pp.pubkey) == NULL)
		return;
	if (status_path_set(&pp) == -1)
		log_warnx("bad peer path for interface %u ignored", pp.ifid);
}

/* --- statistics requests ---------------------------------------------- */

struct stats_req *
stats_request(uint32_t ifid, stats_cb cb, void *arg)
{
	struct wg_stats_req	 q;
	struct stats_req	*sr;

	if ((sr = calloc(1, sizeof(*sr))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	do {
		if (++stats_next_id == 0)
			stats_next_id = 1;
	} while (stats_find(stats_next_id) != NULL);
	sr->sr_id = stats_next_id;
	sr->sr_ifid = ifid;
	sr->sr_cb = cb;
	sr->sr_arg = arg;
	memset(&q, 0, sizeof(q));
	q.ifid = ifid;
	if (wgctld_to_parent(IMSG_WG_STATS_REQ, sr->sr_id, &q,
	    sizeof(q)) == -1) {
		free(sr);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&stats_pending, sr, sr_entry);
	return sr;
}

void
stats_req_free(struct stats_req *sr)
{
	if (sr == NULL)
		return;
	if (!sr->sr_done)
		TAILQ_REMOVE(&stats_pending, sr, sr_entry);
	free(sr->sr_peers);
	free(sr);
}

/* --- metrics ------------------------------------------------------------ */

/* Prometheus label values: backslash and double quote escaped. */
static const char *
label_escape(const char *s, char *buf, size_t len)
{
	size_t	 o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
			continue;
		}
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

/* What signald measured of each nucleus, as seconds. */
static void
metrics_nuclei(time_t now)
{
	struct ctl_nucleus	 row;
	char			 ifn[OMNI_IFNAMSIZ * 2], addr[OMNI_ADDRSTRLEN];
	int64_t			 reg;
	int			 it = 0;

	while (status_nucleus_next(&engine, now, &it, &row, &reg) == 0) {
		if (row.kind != CTL_NUCLEUS_EDGE)
			continue;
		label_escape(row.ifname, ifn, sizeof(ifn));
		omni_addr_str(&row.addr, addr, sizeof(addr));
		if (row.rtt_us >= 0)
			metric_send(&iev_parent, "omni_nucleus_rtt_seconds",
			    row.rtt_us / 1e6, "iface=\"%s\",nucleus=\"%s\"",
			    ifn, addr);
		if (reg >= 0)
			metric_send(&iev_parent,
			    "omni_edge_registration_latency_seconds",
			    reg / 1e6, "iface=\"%s\",nucleus=\"%s\"", ifn,
			    addr);
	}
}

static void
metrics_emit(void)
{
	const struct peer	*p;
	const struct wg_peer_stats *ps;
	struct stats_req	*sr;
	struct pif		*pi;
	char			 ifn[OMNI_IFNAMSIZ * 2], vip[INET6_ADDRSTRLEN];
	time_t			 now = time(NULL);
	int			 i, path;
	size_t			 j;

	TAILQ_FOREACH(pi, &engine.pe_ifaces, pi_entry) {
		if (!pi->pi_configured)
			continue;
		label_escape(pi->pi_info.name, ifn, sizeof(ifn));
		metric_send(&iev_parent, "omni_wg_peers",
		    (double)pi->pi_napplied, "iface=\"%s\"", ifn);
		for (i = 0; i < mround.n; i++) {
			if (mround.ifids[i] != pi->pi_info.ifid ||
			    (sr = mround.parts[i]) == NULL)
				continue;
			/* Only a complete answer says who is gone. */
			if (sr->sr_done)
				status_observe(pi, sr->sr_peers, sr->sr_npeers,
				    now);
			for (j = 0; j < sr->sr_npeers; j++) {
				ps = &sr->sr_peers[j];
				if ((p = peers_lookup(pi, ps->pubkey)) == NULL ||
				    inet_ntop(p->p_vip.af, p->p_vip.addr, vip,
				    sizeof(vip)) == NULL)
					continue;
				metric_send(&iev_parent,
				    "omni_wg_peer_received_bytes_total",
				    (double)ps->rx_bytes,
				    "iface=\"%s\",peer=\"%s\"", ifn, vip);
				metric_send(&iev_parent,
				    "omni_wg_peer_sent_bytes_total",
				    (double)ps->tx_bytes,
				    "iface=\"%s\",peer=\"%s\"", ifn, vip);
				metric_send(&iev_parent,
				    "omni_wg_peer_last_handshake_seconds",
				    (double)ps->last_handshake,
				    "iface=\"%s\",peer=\"%s\"", ifn, vip);
			}
		}
		for (path = PATH_NONE; path <= OMNI_PATH_MAX; path++)
			metric_send(&iev_parent, "omni_peers",
			    (double)pi->pi_npath[path],
			    "iface=\"%s\",path=\"%s\"", ifn,
			    status_path_name(path));
		metric_send(&iev_parent, "omni_wg_handshakes_total",
		    (double)pi->pi_handshakes, "iface=\"%s\"", ifn);
	}
	metrics_nuclei(now);
	metric_end(&iev_parent);
	for (i = 0; i < mround.n; i++)
		stats_req_free(mround.parts[i]);
	memset(&mround, 0, sizeof(mround));
}

static void
metrics_part_done(struct stats_req *sr, void *arg)
{
	int	 i;

	for (i = 0; i < mround.n; i++)
		if (mround.parts[i] != NULL && !mround.parts[i]->sr_done)
			return;
	metrics_emit();
}

/*
 * Every interval: report what the last poll gathered (if the parent
 * has not answered all of it by now, what arrived) and poll again.
 */
static void
metrics_tick(int fd, short ev, void *arg)
{
	struct pif	*pi;

	if (mround.active)
		metrics_emit();
	mround.active = 1;
	TAILQ_FOREACH(pi, &engine.pe_ifaces, pi_entry) {
		if (!pi->pi_configured || mround.n >= OMNI_MAX_IFACES)
			continue;
		mround.ifids[mround.n] = pi->pi_info.ifid;
		mround.parts[mround.n] = stats_request(pi->pi_info.ifid,
		    metrics_part_done, NULL);
		mround.n++;
	}
	metrics_part_done(NULL, NULL);
	proc_timer(&metrics_ev, METRICS_INTERVAL, 0);
}

/* --- main -------------------------------------------------------------- */

static void
wgctld_signal(int sig, short ev, void *arg)
{
	log_info("exiting on signal %d", sig);
	control_shutdown();
	for (int i = 0; i < mround.n; i++)
		stats_req_free(mround.parts[i]);
	peers_free(&engine);
	status_free();
	exit(0);
}

int
main(int argc, char *argv[])
{
	struct event	 ev_term, ev_int;
	struct proc_sandbox sb;

	proc_child_start(argc, argv, "wgctld", "wgctld", &sb);

	/* Only base64 of public keys for the logs, but set it up early. */
	if (sodium_init() == -1)
		fatalx("sodium_init");
	peers_init(&engine);
	status_init(time(NULL));
	peers_set_session_check(status_session_live);

	sb.syscalls = wgctld_syscalls;
	proc_sandbox(&sb);

	event_init();
	imsgev_init(&iev_parent, OMNI_PARENT_FD, PROC_PARENT, parent_table,
	    NULL, NULL);
	control_init(&engine);

	signal_set(&ev_term, SIGTERM, wgctld_signal, NULL);
	signal_set(&ev_int, SIGINT, wgctld_signal, NULL);
	signal_add(&ev_term, NULL);
	signal_add(&ev_int, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	evtimer_set(&metrics_ev, metrics_tick, NULL);
	evtimer_set(&ka_ev, wgctld_ka_release, NULL);
	proc_timer(&metrics_ev, METRICS_INTERVAL, 0);

	log_debug("started");
	event_dispatch();
	fatalx("event loop ended");
}
