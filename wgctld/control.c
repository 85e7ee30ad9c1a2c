/*
 * The control socket: omnictl clients speak the same imsg framing as
 * the daemons.  A request is validated by control_validate() (which
 * needs no socket, so the fuzzer can drive it) and then handled; a
 * client that sends anything malformed or unexpected is disconnected,
 * never wgctld itself.
 *
 * Clients are never freed while their channel is being dispatched:
 * imsgev_dispatch() looks at the channel after each handler, so a
 * dropped client is closed at once but freed from a zero timer.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "wgctld.h"

struct ctl_listener {
	int			 l_fd;
	int			 l_readonly;
	int			 l_nconns;	/* clients of this socket */
	struct event		 l_ev;
	struct event		 l_pause;
};

/* A "show peers" waiting for the parent's statistics. */
struct ctl_query {
	struct ctl_conn		*q_conn;
	struct ctl_show		 q_filter;
	struct event		 q_timer;
	int			 q_n;
	uint32_t		 q_ifid[OMNI_MAX_IFACES];
	struct stats_req	*q_part[OMNI_MAX_IFACES];
};

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 c_entry;
	struct imsgev		 c_iev;
	uint32_t		 c_id;
	int			 c_readonly;	/* came on the read-only socket */
	uid_t			 c_uid;		/* SO_PEERCRED */
	pid_t			 c_pid;
	struct ctl_listener	*c_listener;	/* NULL: made by a test */
	uint32_t		 c_pending;	/* request type in progress */
	struct ctl_query	*c_query;
	struct event		 c_timer;	/* reload answer timeout */
	struct event		 c_idle;	/* no request for too long */
	int			 c_dead;
};
TAILQ_HEAD(ctl_conns, ctl_conn);

static struct peer_engine	*ctl_engine;
static struct ctl_listener	 ctl_listeners[2];	/* by readonly */
static struct ctl_conns		 ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);
static struct ctl_conns		 ctl_dead = TAILQ_HEAD_INITIALIZER(ctl_dead);
static struct event		 ctl_reap_ev;
static int			 ctl_nconns;
static uint32_t			 ctl_next_id;

static void	control_accept(int, short, void *);
static void	control_dispatch(struct imsgev *, struct imsg *);
static void	control_closed(struct imsgev *);
static void	control_conn_drop(struct ctl_conn *);
static void	control_query_free(struct ctl_query *);
static void	control_reload_timeout(int, short, void *);
static void	control_idle(int, short, void *);

#define C	PROC_BIT(PROC_CONTROL)
static const struct proc_dispatch ctl_table[] = {
	{ IMSG_CTL_SHOW_PEERS, C, sizeof(struct ctl_show), 0,
	    control_dispatch },
	{ IMSG_CTL_SHOW_IFACE, C, 0, 0, control_dispatch },
	{ IMSG_CTL_RELOAD, C, 0, 0, control_dispatch },
	{ IMSG_CTL_LOG_VERBOSE, C, sizeof(int), 0, control_dispatch },
	{ IMSG_CTL_SHOW_NUCLEUS, C, 0, 0, control_dispatch },
	{ IMSG_CTL_SHOW_STATUS, C, 0, 0, control_dispatch },
	{ 0, 0, 0, 0, NULL }
};
#undef C

static void
control_reap(int fd, short ev, void *arg)
{
	struct ctl_conn	*c;

	while ((c = TAILQ_FIRST(&ctl_dead)) != NULL) {
		TAILQ_REMOVE(&ctl_dead, c, c_entry);
		free(c);
	}
}

void
control_init(struct peer_engine *pe)
{
	int	 i;

	ctl_engine = pe;
	for (i = 0; i < 2; i++) {
		ctl_listeners[i].l_fd = -1;
		ctl_listeners[i].l_readonly = i;
	}
	evtimer_set(&ctl_reap_ev, control_reap, NULL);
}

/* A listening socket from the parent replaces the one of its kind. */
void
control_listen(int fd, int readonly)
{
	struct ctl_listener	*l = &ctl_listeners[readonly ? 1 : 0];
	int			 flags;

	if (l->l_fd != -1) {
		event_del(&l->l_ev);
		evtimer_del(&l->l_pause);
		close(l->l_fd);
	}
	l->l_fd = fd;
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		log_warn("control socket: O_NONBLOCK");
	event_set(&l->l_ev, fd, EV_READ | EV_PERSIST, control_accept, l);
	evtimer_set(&l->l_pause, control_accept, l);
	event_add(&l->l_ev, NULL);
	log_debug("control socket%s ready", readonly ? " (read-only)" : "");
}

void
control_shutdown(void)
{
	struct ctl_conn	*c;
	int		 i;

	while ((c = TAILQ_FIRST(&ctl_conns)) != NULL)
		control_conn_close(c);
	control_reap(-1, 0, NULL);
	for (i = 0; i < 2; i++) {
		if (ctl_listeners[i].l_fd == -1)
			continue;
		event_del(&ctl_listeners[i].l_ev);
		evtimer_del(&ctl_listeners[i].l_pause);
		close(ctl_listeners[i].l_fd);
		ctl_listeners[i].l_fd = -1;
	}
}

static void
control_accept(int fd, short ev, void *arg)
{
	struct ctl_listener	*l = arg;
	struct ctl_conn		*c;
	struct ucred		 cred;
	socklen_t		 len;
	int			 s;

	if (ev & EV_TIMEOUT) {
		/* The pause after running out of descriptors is over. */
		event_add(&l->l_ev, NULL);
		return;
	}
	s = accept4(l->l_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (s == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("control accept");
			event_del(&l->l_ev);
			proc_timer(&l->l_pause, 1, 0);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control accept");
		return;
	}
	/*
	 * Each socket has its own limit, so that monitoring on the
	 * read-only one can never lock root out of the other.
	 */
	if (l->l_nconns >= CTL_MAX_CLIENTS) {
		log_warnx("control: more than %d clients on the %s socket, "
		    "refused", CTL_MAX_CLIENTS,
		    l->l_readonly ? "read-only" : "control");
		close(s);
		return;
	}
	len = sizeof(cred);
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof(cred)) {
		log_warn("control client refused: SO_PEERCRED");
		close(s);
		return;
	}
	if ((c = control_conn_new(s, l->l_readonly)) == NULL)
		return;
	c->c_uid = cred.uid;
	c->c_pid = cred.pid;
	c->c_listener = l;
	l->l_nconns++;
	log_debug("control client %u: uid %u pid %d%s", c->c_id,
	    (unsigned)cred.uid, (int)cred.pid,
	    l->l_readonly ? ", read-only" : "");
}

static struct ctl_conn *
control_conn_find(uint32_t id)
{
	struct ctl_conn	*c;

	TAILQ_FOREACH(c, &ctl_conns, c_entry)
		if (c->c_id == id)
			return c;
	return NULL;
}

struct ctl_conn *
control_conn_new(int fd, int readonly)
{
	struct ctl_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		close(fd);
		return NULL;
	}
	do {
		if (++ctl_next_id == 0)
			ctl_next_id = 1;
	} while (control_conn_find(ctl_next_id) != NULL);
	c->c_id = ctl_next_id;
	c->c_readonly = readonly;
	c->c_uid = (uid_t)-1;
	evtimer_set(&c->c_timer, control_reload_timeout, c);
	evtimer_set(&c->c_idle, control_idle, c);
	proc_timer(&c->c_idle, CTL_IDLE_TIMEOUT, 0);
	imsgev_init(&c->c_iev, fd, PROC_CONTROL, ctl_table, control_closed, c);
	TAILQ_INSERT_TAIL(&ctl_conns, c, c_entry);
	ctl_nconns++;
	return c;
}

/* Forget a client's pending work and close its socket. */
static void
control_conn_cancel(struct ctl_conn *c)
{
	if (c->c_query != NULL) {
		control_query_free(c->c_query);
		c->c_query = NULL;
	}
	evtimer_del(&c->c_timer);
	evtimer_del(&c->c_idle);
	c->c_pending = 0;
	if (c->c_iev.ibuf.fd != -1)
		imsgev_clear(&c->c_iev);
	TAILQ_REMOVE(&ctl_conns, c, c_entry);
	ctl_nconns--;
	if (c->c_listener != NULL)
		c->c_listener->l_nconns--;
	c->c_listener = NULL;
}

/* Close and free now: only outside the client's own dispatch. */
void
control_conn_close(struct ctl_conn *c)
{
	if (c->c_dead)
		return;		/* already on its way out */
	control_conn_cancel(c);
	free(c);
}

/* Close now, free once the event loop is done with the channel. */
static void
control_conn_drop(struct ctl_conn *c)
{
	if (c->c_dead)
		return;
	control_conn_cancel(c);
	c->c_dead = 1;
	TAILQ_INSERT_TAIL(&ctl_dead, c, c_entry);
	proc_timer(&ctl_reap_ev, 0, 0);
}

/*
 * A client that holds a connection without asking anything (or
 * without reading its answer) is dropped, so that a few idle or
 * hostile clients cannot use up CTL_MAX_CLIENTS for good.
 */
static void
control_idle(int fd, short ev, void *arg)
{
	struct ctl_conn	*c = arg;

	if (c->c_pending == IMSG_CTL_RELOAD) {
		/* A reload can take long; its own timer bounds it. */
		proc_timer(&c->c_idle, CTL_IDLE_TIMEOUT, 0);
		return;
	}
	log_warnx("control client %u (uid %u): idle for %d s, dropped",
	    c->c_id, (unsigned)c->c_uid, CTL_IDLE_TIMEOUT);
	control_conn_drop(c);
}

static void
control_closed(struct imsgev *iev)
{
	struct ctl_conn	*c = iev->arg;

	log_debug("control client %u gone", c->c_id);
	control_conn_drop(c);
}

/*
 * Queue a reply.  Failing to (the client stopped reading and its queue
 * is full, ENOBUFS) returns -1: the caller drops the client.
 */
static int
control_reply(struct ctl_conn *c, uint32_t type, const void *data,
    size_t len)
{
	if (imsgev_compose(&c->c_iev, type, 0, -1, data, len) == -1) {
		log_warn("control client %u", c->c_id);
		return -1;
	}
	return 0;
}

static int
control_result(struct ctl_conn *c, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
control_result(struct ctl_conn *c, int ok, const char *fmt, ...)
{
	struct ctl_result	 r;
	va_list			 ap;

	memset(&r, 0, sizeof(r));
	r.ok = ok;
	va_start(ap, fmt);
	vsnprintf(r.text, sizeof(r.text), fmt, ap);
	va_end(ap);
	if (control_reply(c, IMSG_CTL_RESULT, &r, sizeof(r)) == -1 ||
	    control_reply(c, IMSG_CTL_END, NULL, 0) == -1)
		return -1;
	return 0;
}

/* --- validation --------------------------------------------------------- */

/*
 * Check one request from a client: known type, exact length, no
 * descriptor, sane values.  Fills req.  Returns -1 with a reason.
 */
int
control_validate(const struct imsg *im, struct ctl_request *req, char *why,
    size_t whylen)
{
	struct ctl_show	 show;
	int		 v;

	memset(req, 0, sizeof(*req));
	if (im->fd != -1) {
		snprintf(why, whylen, "message type %u carries a descriptor",
		    im->hdr.type);
		return -1;
	}
	if (im->hdr.len > 0 && im->data == NULL) {
		snprintf(why, whylen, "message type %u without data",
		    im->hdr.type);
		return -1;
	}
	switch (im->hdr.type) {
	case IMSG_CTL_SHOW_PEERS:
		if (im->hdr.len != sizeof(show))
			goto badlen;
		memcpy(&show, im->data, sizeof(show));
		switch (show.vip.af) {
		case 0:
			memset(&show, 0, sizeof(show));
			break;
		case AF_INET:
			if (show.vip.plen > 32)
				goto badvip;
			break;
		case AF_INET6:
			if (show.vip.plen > 128)
				goto badvip;
			break;
		default:
			goto badvip;
		}
		req->cr_show = show;
		break;
	case IMSG_CTL_SHOW_IFACE:
	case IMSG_CTL_SHOW_NUCLEUS:
	case IMSG_CTL_SHOW_STATUS:
	case IMSG_CTL_RELOAD:
		if (im->hdr.len != 0)
			goto badlen;
		break;
	case IMSG_CTL_LOG_VERBOSE:
		if (im->hdr.len != sizeof(v))
			goto badlen;
		memcpy(&v, im->data, sizeof(v));
		if (v < 0 || v > 3) {
			snprintf(why, whylen, "log verbosity %d out of range",
			    v);
			return -1;
		}
		req->cr_verbose = v;
		break;
	default:
		snprintf(why, whylen, "unexpected message type %u",
		    im->hdr.type);
		return -1;
	}
	req->cr_type = im->hdr.type;
	return 0;
 badlen:
	snprintf(why, whylen, "message type %u has bad length %u",
	    im->hdr.type, im->hdr.len);
	return -1;
 badvip:
	snprintf(why, whylen, "bad VIP filter (family %u, length %u)",
	    show.vip.af, show.vip.plen);
	return -1;
}

/* --- show interface ---------------------------------------------------- */

static int
control_show_iface(struct ctl_conn *c)
{
	struct pif	*pi;

	TAILQ_FOREACH(pi, &ctl_engine->pe_ifaces, pi_entry) {
		if (!pi->pi_configured)
			continue;
		if (control_reply(c, IMSG_CTL_IFACE, &pi->pi_info,
		    sizeof(pi->pi_info)) == -1)
			return -1;
	}
	return control_reply(c, IMSG_CTL_END, NULL, 0);
}

/* --- show peers -------------------------------------------------------- */

static int
stats_cmp(const void *a, const void *b)
{
	const struct wg_peer_stats	*x = a, *y = b;

	return memcmp(x->pubkey, y->pubkey, OMNI_KEYLEN);
}

static const struct wg_peer_stats *
control_stats_find(struct stats_req *sr, const uint8_t *pubkey)
{
	struct wg_peer_stats	 key;

	if (sr == NULL || sr->sr_npeers == 0)
		return NULL;
	memcpy(key.pubkey, pubkey, OMNI_KEYLEN);
	return bsearch(&key, sr->sr_peers, sr->sr_npeers,
	    sizeof(*sr->sr_peers), stats_cmp);
}

static int
control_peer_send(struct ctl_conn *c, const struct ctl_show *f,
    const struct pif *pi, const struct peer *p,
    const struct wg_peer_stats *ps)
{
	struct ctl_peer		 cp;
	const struct peer_path	*pp;

	memset(&cp, 0, sizeof(cp));
	/* WireGuard exposes no round trip time; nothing else measures it. */
	cp.rtt_us = -1;
	cp.probe_us = -1;
	strlcpy(cp.ifname, pi->pi_info.name, sizeof(cp.ifname));
	if (p != NULL) {
		memcpy(cp.pubkey, p->p_pubkey, OMNI_KEYLEN);
		cp.vip = p->p_vip;
		cp.endpoint = p->p_endpoint;
	} else
		memcpy(cp.pubkey, ps->pubkey, OMNI_KEYLEN);
	if (ps != NULL) {
		/* WireGuard knows where the peer really is now. */
		if (ps->endpoint.sa.sa_family != AF_UNSPEC)
			cp.endpoint = ps->endpoint;
		cp.last_handshake = ps->last_handshake;
		cp.rx_bytes = ps->rx_bytes;
		cp.tx_bytes = ps->tx_bytes;
	}
	/* issue 7: the candidate pair signald probed, if any */
	pp = status_path_get(pi->pi_info.ifid, cp.pubkey);
	cp.path = status_peer_path(cp.last_handshake, time(NULL), pp);
	if (pp != NULL) {
		cp.cand_kind = pp->kind;
		cp.probe_state = pp->state;
		cp.cand_local = pp->local;
		cp.cand_remote = pp->remote;
		cp.probe_us = pp->probe_us;
	}
	strlcpy(cp.path_reason, status_path_reason(cp.path, pp),
	    sizeof(cp.path_reason));
	if (f->vip.af != 0 && !peers_prefix_match(&f->vip, &cp.vip))
		return 0;
	return control_reply(c, IMSG_CTL_PEER, &cp, sizeof(cp));
}

/*
 * One interface: the peers signaling wants (or, before the first set
 * after a restart, those applied), with live statistics merged in by
 * key, then whatever WireGuard has that wgctld does not know of.
 */
static int
control_peers_iface(struct ctl_conn *c, const struct ctl_show *f,
    const struct pif *pi, struct stats_req *sr)
{
	const struct peer_tree	*set;
	const struct wg_peer_stats *ps;
	struct peer		*p;
	uint8_t			*seen = NULL;
	size_t			 i;
	int			 rv = -1;

	if (sr != NULL && sr->sr_npeers > 0) {
		qsort(sr->sr_peers, sr->sr_npeers, sizeof(*sr->sr_peers),
		    stats_cmp);
		if ((seen = calloc(sr->sr_npeers, 1)) == NULL) {
			log_warn("%s", __func__);
			return -1;
		}
	}
	set = pi->pi_have_desired ? &pi->pi_desired : &pi->pi_applied;
	RB_FOREACH(p, peer_tree, (struct peer_tree *)set) {
		ps = control_stats_find(sr, p->p_pubkey);
		if (ps != NULL)
			seen[ps - sr->sr_peers] = 1;
		if (control_peer_send(c, f, pi, p, ps) == -1)
			goto done;
	}
	for (i = 0; sr != NULL && i < sr->sr_npeers; i++) {
		if (seen[i])
			continue;
		p = (struct peer *)peers_lookup(pi, sr->sr_peers[i].pubkey);
		if (control_peer_send(c, f, pi, p, &sr->sr_peers[i]) == -1)
			goto done;
	}
	rv = 0;
 done:
	free(seen);
	return rv;
}

static int
control_peers_answer(struct ctl_query *q)
{
	struct ctl_conn	*c = q->q_conn;
	struct pif	*pi;
	int		 i;

	for (i = 0; i < q->q_n; i++) {
		if ((pi = peers_iface(ctl_engine, q->q_ifid[i])) == NULL ||
		    !pi->pi_configured)
			continue;	/* went away meanwhile */
		if (control_peers_iface(c, &q->q_filter, pi,
		    q->q_part[i]) == -1)
			return -1;
	}
	return control_reply(c, IMSG_CTL_END, NULL, 0);
}

static void
control_query_free(struct ctl_query *q)
{
	int	 i;

	evtimer_del(&q->q_timer);
	for (i = 0; i < q->q_n; i++)
		stats_req_free(q->q_part[i]);
	free(q);
}

static void
control_query_finish(struct ctl_query *q)
{
	struct ctl_conn	*c = q->q_conn;
	int		 r;

	r = control_peers_answer(q);
	c->c_query = NULL;
	c->c_pending = 0;
	control_query_free(q);
	if (r == -1)
		control_conn_drop(c);
}

static int
control_query_complete(const struct ctl_query *q)
{
	int	 i;

	for (i = 0; i < q->q_n; i++)
		if (q->q_part[i] != NULL && !q->q_part[i]->sr_done)
			return 0;
	return 1;
}

static void
control_stats_done(struct stats_req *sr, void *arg)
{
	struct ctl_query	*q = arg;

	if (control_query_complete(q))
		control_query_finish(q);
}

static void
control_query_timeout(int fd, short ev, void *arg)
{
	struct ctl_query	*q = arg;

	log_debug("control client %u: statistics incomplete after %d s",
	    q->q_conn->c_id, CTL_PEERS_TIMEOUT);
	control_query_finish(q);
}

static int
control_show_peers(struct ctl_conn *c, const struct ctl_show *filter)
{
	struct ctl_query	*q;
	struct pif		*pi;
	int			 r;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	q->q_conn = c;
	q->q_filter = *filter;
	evtimer_set(&q->q_timer, control_query_timeout, q);
	TAILQ_FOREACH(pi, &ctl_engine->pe_ifaces, pi_entry) {
		if (!pi->pi_configured || q->q_n >= OMNI_MAX_IFACES)
			continue;
		q->q_ifid[q->q_n] = pi->pi_info.ifid;
		/* Without statistics the peers are still worth showing. */
		q->q_part[q->q_n] = stats_request(pi->pi_info.ifid,
		    control_stats_done, q);
		q->q_n++;
	}
	if (control_query_complete(q)) {
		r = control_peers_answer(q);
		control_query_free(q);
		return r;
	}
	c->c_query = q;
	c->c_pending = IMSG_CTL_SHOW_PEERS;
	proc_timer(&q->q_timer, CTL_PEERS_TIMEOUT, 0);
	return 0;
}

/* --- show nucleus / show status ---------------------------------------- */

static int
control_show_nucleus(struct ctl_conn *c)
{
	struct ctl_nucleus	 row;
	int			 it = 0;
	time_t			 now = time(NULL);

	while (status_nucleus_next(ctl_engine, now, &it, &row, NULL) == 0)
		if (control_reply(c, IMSG_CTL_NUCLEUS, &row,
		    sizeof(row)) == -1)
			return -1;
	return control_reply(c, IMSG_CTL_END, NULL, 0);
}

static int
control_show_status(struct ctl_conn *c)
{
	struct ctl_status	 cs;

	status_fill(ctl_engine, time(NULL), &cs);
	if (control_reply(c, IMSG_CTL_STATUS, &cs, sizeof(cs)) == -1)
		return -1;
	return control_reply(c, IMSG_CTL_END, NULL, 0);
}

/* --- reload and log level --------------------------------------------- */

/*
 * May this client change anything?  Not on the read-only socket, and
 * on the other one only root: the socket's mode lets its group in, and
 * SO_PEERCRED tells who really connected.
 */
static int
control_may_change(struct ctl_conn *c)
{
	if (c->c_readonly)
		return control_result(c, 0, "permission denied: "
		    "read-only control socket") == -1 ? -1 : 0;
	if (c->c_uid != 0)
		return control_result(c, 0, "permission denied: uid %u is "
		    "not root", (unsigned)c->c_uid) == -1 ? -1 : 0;
	return 1;
}

static int
control_reload(struct ctl_conn *c)
{
	int	 r;

	if ((r = control_may_change(c)) != 1)
		return r;
	if (wgctld_to_parent(IMSG_CTL_RELOAD, c->c_id, NULL, 0) == -1)
		return control_result(c, 0, "cannot reach omnid");
	c->c_pending = IMSG_CTL_RELOAD;
	proc_timer(&c->c_timer, CTL_RELOAD_TIMEOUT, 0);
	log_info("control client %u: reload requested", c->c_id);
	return 0;
}

void
control_reload_result(uint32_t id, const struct ctl_result *r)
{
	struct ctl_conn	*c;

	if ((c = control_conn_find(id)) == NULL ||
	    c->c_pending != IMSG_CTL_RELOAD) {
		log_debug("reload result for client %u, who is gone", id);
		return;
	}
	evtimer_del(&c->c_timer);
	c->c_pending = 0;
	if (control_reply(c, IMSG_CTL_RESULT, r, sizeof(*r)) == -1 ||
	    control_reply(c, IMSG_CTL_END, NULL, 0) == -1)
		control_conn_drop(c);
}

static void
control_reload_timeout(int fd, short ev, void *arg)
{
	struct ctl_conn	*c = arg;

	c->c_pending = 0;
	if (control_result(c, 0, "no answer from omnid within %d s",
	    CTL_RELOAD_TIMEOUT) == -1)
		control_conn_drop(c);
}

static int
control_log_verbose(struct ctl_conn *c, int v)
{
	int	 r;

	if ((r = control_may_change(c)) != 1)
		return r;
	/* The parent passes it on to every process, this one included. */
	if (wgctld_to_parent(IMSG_CTL_LOG_VERBOSE, 0, &v, sizeof(v)) == -1)
		return control_result(c, 0, "cannot reach omnid");
	log_setverbose(v);
	return control_result(c, 1, "logging %s", v ? "verbose" : "brief");
}

/* --- requests ---------------------------------------------------------- */

/*
 * Handle one message from a client.  Returns -1 when the client must
 * be disconnected (bad request, or its reply queue is full).
 */
int
control_conn_request(struct ctl_conn *c, struct imsg *im)
{
	struct ctl_request	 req;
	char			 why[128];

	if (control_validate(im, &req, why, sizeof(why)) == -1) {
		log_warnx("control client %u: %s", c->c_id, why);
		return -1;
	}
	proc_timer(&c->c_idle, CTL_IDLE_TIMEOUT, 0);
	if (c->c_pending != 0) {
		log_warnx("control client %u: request %u while %u is pending",
		    c->c_id, req.cr_type, c->c_pending);
		return -1;
	}
	switch (req.cr_type) {
	case IMSG_CTL_SHOW_PEERS:
		return control_show_peers(c, &req.cr_show);
	case IMSG_CTL_SHOW_IFACE:
		return control_show_iface(c);
	case IMSG_CTL_SHOW_NUCLEUS:
		return control_show_nucleus(c);
	case IMSG_CTL_SHOW_STATUS:
		return control_show_status(c);
	case IMSG_CTL_RELOAD:
		return control_reload(c);
	case IMSG_CTL_LOG_VERBOSE:
		return control_log_verbose(c, req.cr_verbose);
	}
	return -1;
}

static void
control_dispatch(struct imsgev *iev, struct imsg *im)
{
	struct ctl_conn	*c = iev->arg;

	if (control_conn_request(c, im) == -1)
		control_conn_drop(c);
}
