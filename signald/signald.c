/*
 * signald: the signaling child of omnid.
 *
 * It gets its configuration and its UDP sockets from the parent, runs
 * the nucleus role (when this host is one) and the edge role (one per
 * interface), and sends each interface's peer set back to the parent.
 * All protocol logic lives in proto.c, nucleus.c and edge.c; this
 * file is the parent channel, the sockets and the timers.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event.h>
#include <sodium.h>

#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "signald.h"
#include "probe.h"
#include "stun.h"

#define SIGNALD_RECV_BATCH	256	/* datagrams per wakeup and socket */
#define SIGNALD_RECV_BUF	2048	/* larger than SIG_MAXDGRAM */
#define NUCLEUS_RECV_VLEN	64	/* datagrams per recvmmsg */
#define NUCLEUS_SEND_VLEN	64	/* answers per sendmmsg */
#define SIGNALD_METRICS_EVERY	2	/* seconds */
#define SIGNALD_HEARTBEAT_MAX	3600

struct ssock {
	TAILQ_ENTRY(ssock)	 ss_entry;
	uint32_t		 ss_ifid;
	int			 ss_af;
	int			 ss_fd;
	struct event		 ss_ev;
};

static void	 signald_reconf_global(struct imsgev *, struct imsg *);
static void	 signald_reconf_nucleus(struct imsgev *, struct imsg *);
static void	 signald_reconf_iface(struct imsgev *, struct imsg *);
static void	 signald_reconf_end(struct imsgev *, struct imsg *);
static void	 signald_sock_nucleus(struct imsgev *, struct imsg *);
static void	 signald_sock_edge(struct imsgev *, struct imsg *);
static void	 signald_verbose(struct imsgev *, struct imsg *);
static void	 signald_dh_res(struct imsgev *, struct imsg *);
static void	 signald_sock_probe(struct imsgev *, struct imsg *);
static void	 signald_local_addrs(struct imsgev *, struct imsg *);
static void	 probe_arm(void);

static const struct proc_dispatch signald_table[] = {
	{ IMSG_RECONF_GLOBAL, PROC_BIT(PROC_PARENT),
	    sizeof(struct conf_global), 0, signald_reconf_global },
	{ IMSG_RECONF_NUCLEUS, PROC_BIT(PROC_PARENT),
	    sizeof(struct sig_nucleus), 0, signald_reconf_nucleus },
	{ IMSG_RECONF_IFACE, PROC_BIT(PROC_PARENT),
	    sizeof(struct sig_iface), 0, signald_reconf_iface },
	{ IMSG_RECONF_END, PROC_BIT(PROC_PARENT), 0, 0, signald_reconf_end },
	{ IMSG_SOCK_NUCLEUS, PROC_BIT(PROC_PARENT), 0, 1,
	    signald_sock_nucleus },
	{ IMSG_SOCK_EDGE, PROC_BIT(PROC_PARENT), sizeof(struct sock_edge), 1,
	    signald_sock_edge },
	{ IMSG_DH_RES, PROC_BIT(PROC_PARENT), sizeof(struct sig_dh), 0,
	    signald_dh_res },
	{ IMSG_SOCK_PROBE, PROC_BIT(PROC_PARENT), sizeof(struct sock_probe),
	    1, signald_sock_probe },
	{ IMSG_LOCAL_ADDRS, PROC_BIT(PROC_PARENT),
	    sizeof(struct local_addrs), 0, signald_local_addrs },
	{ IMSG_CTL_LOG_VERBOSE, PROC_BIT(PROC_PARENT), sizeof(int), 0,
	    signald_verbose },
	{ 0, 0, 0, 0, NULL }
};

/*
 * Past the base list only what libevent needs for the base it creates
 * after the sandbox: epoll, the pipe of its signal handling, and the
 * id calls of its issetugid() check on the environment (seen with
 * strace; the UDP calls are all in the base list).
 *
 * Never setsockopt(2) or bind(2): signald holds raw probe sockets
 * (parent/probesock.c), on which setsockopt could turn on IP_HDRINCL
 * and forge whole IP packets.
 */
static const int signald_syscalls[] = {
	SCMP_SYS(epoll_create1), SCMP_SYS(pipe2),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	/* a nucleus takes requests and sends answers in batches */
	SCMP_SYS(recvmmsg), SCMP_SYS(sendmmsg),
	/* glibc's qsort() of a peer set past 1 kB (some 13 peers) */
	SCMP_SYS(sysinfo),
	-1
};

static struct imsgev		 iev_parent;
static struct event		 ev_timer, ev_sigterm, ev_sigint, ev_sighup;
static uint64_t			 timer_ticks;

/* Configuration being received, swapped in on IMSG_RECONF_END. */
static struct {
	struct conf_global	 global;
	int			 has_nucleus;
	struct sig_nucleus	 nucleus;
	size_t			 nifaces;
	struct sig_iface	 ifaces[OMNI_MAX_IFACES];
} staged;

static struct nucleus		*nucleus;
static int			 nucleus_fd = -1;
static struct event		 nucleus_ev;
TAILQ_HEAD(ssocks, ssock);
static struct ssocks	 edge_socks = TAILQ_HEAD_INITIALIZER(edge_socks);
/* issue 7: the raw probe sockets (probe.c), and its fine timer */
static struct ssocks	 probe_socks = TAILQ_HEAD_INITIALIZER(probe_socks);
static struct event		 ev_probe;

/* The socket of an interface and family in a list (edge or probe). */
static struct ssock *
ssock_find(struct ssocks *list, uint32_t ifid, int af)
{
	struct ssock	*ss;

	TAILQ_FOREACH(ss, list, ss_entry)
		if (ss->ss_ifid == ifid && ss->ss_af == af)
			return ss;
	return NULL;
}

static void
ssock_close(struct ssocks *list, struct ssock *ss)
{
	TAILQ_REMOVE(list, ss, ss_entry);
	event_del(&ss->ss_ev);
	close(ss->ss_fd);
	free(ss);
}

static void
clock_now(struct sig_clock *clk)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	clk->ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	clk->wall = ts.tv_sec;
	/* microseconds for the protocol's time stamps */
	clk->wall_us = ts.tv_sec <= 0 ? 1 :
	    (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
set_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		log_warn("fcntl O_NONBLOCK");
		return -1;
	}
	return 0;
}

/* --- sockets -------------------------------------------------------- */

static void
nucleus_close(void)
{
	if (nucleus_fd == -1)
		return;
	event_del(&nucleus_ev);
	close(nucleus_fd);
	nucleus_fd = -1;
}

/*
 * Answers of a nucleus, gathered over a batch of requests and sent in
 * one sendmmsg(2): at 40,000 heartbeats a second the system calls,
 * not the protocol, were most of a request's cost.
 */
struct nsend {
	size_t			 ns_n;
	struct mmsghdr		 ns_mm[NUCLEUS_SEND_VLEN];
	struct iovec		 ns_iov[NUCLEUS_SEND_VLEN];
	struct omni_addr	 ns_to[NUCLEUS_SEND_VLEN];
	uint8_t			 ns_buf[NUCLEUS_SEND_VLEN][SIG_MAXDGRAM];
};
static struct nsend	 nsend;

/* Everything gathered, to the wire; what the socket refuses is lost. */
static void
nucleus_flush(int fd)
{
	size_t	 done = 0;
	int	 r;

	while (done < nsend.ns_n) {
		r = sendmmsg(fd, nsend.ns_mm + done, nsend.ns_n - done, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			/* skip the one that failed, send the rest */
			log_debug("nucleus sendmmsg: %s", strerror(errno));
			r = 1;
		}
		done += r;
	}
	nsend.ns_n = 0;
}

/* One answer datagram to the batch; sends the batch when it is full. */
static void
nucleus_queue(int fd, const uint8_t *d, size_t len,
    const struct omni_addr *to, socklen_t tolen)
{
	struct mmsghdr	*mm;
	size_t		 k;

	if (len > SIG_MAXDGRAM)
		fatalx("nucleus answer of %zu bytes", len);
	if (nsend.ns_n == NUCLEUS_SEND_VLEN)
		nucleus_flush(fd);
	k = nsend.ns_n++;
	memcpy(nsend.ns_buf[k], d, len);
	nsend.ns_to[k] = *to;
	nsend.ns_iov[k].iov_base = nsend.ns_buf[k];
	nsend.ns_iov[k].iov_len = len;
	mm = &nsend.ns_mm[k];
	memset(mm, 0, sizeof(*mm));
	mm->msg_hdr.msg_name = &nsend.ns_to[k].sa;
	mm->msg_hdr.msg_namelen = tolen;
	mm->msg_hdr.msg_iov = &nsend.ns_iov[k];
	mm->msg_hdr.msg_iovlen = 1;
}

/* A STUN Binding request on the nucleus port, rate-limited per source. */
static void
nucleus_stun(int fd, const uint8_t *buf, size_t len,
    const struct omni_addr *from, socklen_t fromlen,
    const struct sig_clock *clk)
{
	uint8_t	 out[STUN_MAXANSWER];
	int	 n;

	if (nucleus_ratelimit(nucleus, from, clk->ms) == -1) {
		stun_stats.dropped[STUN_D_RATE_LIMITED]++;
		return;
	}
	if ((n = stun_nucleus_answer(buf, len, from, out, sizeof(out))) == -1)
		return;
	nucleus_queue(fd, out, n, from, fromlen);
}

/*
 * PUNCH datagrams the nucleus has due (PROTOCOL.md, "Coordination"),
 * each to its own edge, until it has none or its pace says wait.
 */
static void
nucleus_punch_send(int fd)
{
	static struct sig_out	 out;
	struct sig_clock	 clk;
	size_t			 k;

	if (nucleus == NULL || fd == -1)
		return;
	clock_now(&clk);
	while (nucleus_punches(nucleus, &clk, &out) > 0)
		for (k = 0; k < out.n; k++)
			nucleus_queue(fd, out.buf[k], out.len[k], &out.to[k],
			    omni_addr_len(&out.to[k]));
	nucleus_flush(fd);
}

/*
 * Requests in batches of recvmmsg(2), at most SIGNALD_RECV_BATCH per
 * wakeup so that the parent's messages and the timers get their turn;
 * the answers leave together after each batch.
 */
static void
nucleus_read(int fd, short event, void *arg)
{
	static uint8_t		 buf[NUCLEUS_RECV_VLEN][SIGNALD_RECV_BUF];
	static struct omni_addr	 from[NUCLEUS_RECV_VLEN];
	static struct sig_out	 out;
	struct mmsghdr		 mm[NUCLEUS_RECV_VLEN];
	struct iovec		 iov[NUCLEUS_RECV_VLEN];
	struct sig_clock	 clk;
	size_t			 len, k;
	int			 i, n, total = 0;

	(void)event;
	(void)arg;
	while (total < SIGNALD_RECV_BATCH) {
		memset(mm, 0, sizeof(mm));
		memset(from, 0, sizeof(from));
		for (i = 0; i < NUCLEUS_RECV_VLEN; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = sizeof(buf[i]);
			mm[i].msg_hdr.msg_name = &from[i].sa;
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		/* MSG_TRUNC: msg_len is the real length even past buf */
		n = recvmmsg(fd, mm, NUCLEUS_RECV_VLEN, MSG_TRUNC, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("nucleus recvmmsg");
			break;
		}
		clock_now(&clk);
		for (i = 0; i < n; i++) {
			len = mm[i].msg_len;
			if (nucleus == NULL) {
				sig_drop(SIG_R_UNKNOWN_CLUSTER, &from[i],
				    "not configured as a nucleus");
				continue;
			}
			/* STUN shares the port: told apart by its cookie */
			if (len <= sizeof(buf[i]) &&
			    stun_is_message(buf[i], len)) {
				nucleus_stun(fd, buf[i], len, &from[i],
				    mm[i].msg_hdr.msg_namelen, &clk);
				continue;
			}
			nucleus_input(nucleus, buf[i], len, &from[i], &clk,
			    &out);
			for (k = 0; k < out.n; k++)
				nucleus_queue(fd, out.buf[k], out.len[k],
				    &from[i], mm[i].msg_hdr.msg_namelen);
		}
		nucleus_flush(fd);
		total += n;
		if (n < NUCLEUS_RECV_VLEN)
			break;
	}
	/* edges that joined or roamed: tell the others now */
	nucleus_punch_send(fd);
}

static void
edge_read(int fd, short event, void *arg)
{
	static uint8_t		 buf[SIGNALD_RECV_BUF];
	struct ssock		*ss = arg;
	struct omni_addr	 from;
	struct sig_clock	 clk;
	socklen_t		 fromlen;
	ssize_t			 n;
	int			 i;

	(void)event;
	for (i = 0; i < SIGNALD_RECV_BATCH; i++) {
		memset(&from, 0, sizeof(from));
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, &from.sa,
		    &fromlen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_debug("edge recvfrom: %s",
				    strerror(errno));
			break;
		}
		clock_now(&clk);
		if ((size_t)n <= sizeof(buf) && stun_is_message(buf, n)) {
			stun_client_input(ss->ss_ifid, buf, n, &from, clk.ms,
			    clk.wall);
			continue;
		}
		edge_input(ss->ss_ifid, buf, n, &from, &clk);
	}
	/* what edge.c told the probe engine may want a probe soon */
	probe_arm();
}

/*
 * A raw probe socket: IPv4 datagrams start with the IP header; IPv6
 * ones with the UDP header, so a minimal IPv6 header with the source
 * recvfrom reports goes in front (probe_input takes IP datagrams).
 */
static void
probe_read(int fd, short event, void *arg)
{
	static uint8_t		 buf[40 + SIGNALD_RECV_BUF];
	struct ssock		*ss = arg;
	struct omni_addr	 from;
	struct sig_clock	 clk;
	socklen_t		 fromlen;
	uint8_t			*d;
	size_t			 room, off;
	ssize_t			 n;
	int			 i;

	(void)event;
	off = ss->ss_af == AF_INET6 ? 40 : 0;
	d = buf + off;
	room = sizeof(buf) - off;
	for (i = 0; i < SIGNALD_RECV_BATCH; i++) {
		memset(&from, 0, sizeof(from));
		fromlen = sizeof(from);
		n = recvfrom(fd, d, room, MSG_TRUNC, &from.sa, &fromlen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_debug("probe recvfrom: %s",
				    strerror(errno));
			break;
		}
		if ((size_t)n > room)
			n = room;	/* the IP length check drops it */
		if (off != 0) {
			if (from.sa.sa_family != AF_INET6)
				continue;
			memset(buf, 0, 40);
			buf[0] = 0x60;
			buf[4] = (size_t)n >> 8;
			buf[5] = (size_t)n & 0xff;
			buf[6] = IPPROTO_UDP;
			buf[7] = 64;
			memcpy(buf + 8, &from.sin6.sin6_addr, 16);
		}
		clock_now(&clk);
		probe_input(ss->ss_ifid, buf, off + n, &clk);
	}
	probe_arm();
}

static void
probe_timer(int fd, short event, void *arg)
{
	struct sig_clock	 clk;

	(void)fd;
	(void)event;
	(void)arg;
	clock_now(&clk);
	probe_tick(&clk);
	probe_arm();
}

/* Wake up when the probe engine next has something due. */
static void
probe_arm(void)
{
	struct sig_clock	 clk;
	struct timeval		 tv;
	uint64_t		 due, wait;

	if ((due = probe_next_due()) == 0) {
		evtimer_del(&ev_probe);
		return;
	}
	clock_now(&clk);
	wait = due > clk.ms ? due - clk.ms : 0;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(&ev_probe, &tv);
}

/* edge_io: one datagram to a nucleus on the interface's socket. */
static int
io_send(uint32_t ifid, const struct omni_addr *to, const uint8_t *buf,
    size_t len)
{
	struct ssock	*ss;

	if ((ss = ssock_find(&edge_socks, ifid, to->sa.sa_family)) == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	if (sendto(ss->ss_fd, buf, len, 0, &to->sa, omni_addr_len(to)) ==
	    -1)
		return -1;
	return 0;
}

/* edge_io: the full peer set of an interface, to the parent. */
static void
io_peers(uint32_t ifid, const struct omni_peer *peers, size_t n)
{
	struct peer_set_hdr	 h;
	size_t			 i;

	h.ifid = ifid;
	h.count = n;
	imsgev_compose(&iev_parent, IMSG_PEERS_BEGIN, 0, -1, &h, sizeof(h));
	for (i = 0; i < n; i++)
		imsgev_compose(&iev_parent, IMSG_PEERS_PEER, 0, -1, &peers[i],
		    sizeof(peers[i]));
	imsgev_compose(&iev_parent, IMSG_PEERS_END, 0, -1, &h, sizeof(h));
}

/* edge_io: the proof key of an interface and a nucleus, from the parent. */
static void
io_dh(uint32_t ifid, const uint8_t *peer)
{
	struct sig_dh	 dh;

	memset(&dh, 0, sizeof(dh));
	dh.ifid = ifid;
	memcpy(dh.peer, peer, sizeof(dh.peer));
	imsgev_compose(&iev_parent, IMSG_DH_REQ, 0, -1, &dh, sizeof(dh));
}

static const struct edge_io signald_io = {
	.send = io_send,
	.peers = io_peers,
	.dh = io_dh
};

/* stun_client_io: a reflexive address learned, to the parent. */
static void
io_reflexive(const struct sig_reflexive *r)
{
	imsgev_compose(&iev_parent, IMSG_SIG_REFLEXIVE, 0, -1, r, sizeof(*r));
}

static const struct stun_client_io signald_stun_io = { io_send,
    io_reflexive };

/* probe_io: announce our new candidates to the nuclei now. */
static void
io_cands_changed(uint32_t ifid)
{
	struct sig_clock	 clk;

	clock_now(&clk);
	edge_cands_changed(ifid, &clk);
}

/* probe_io: a probed endpoint changed, the peer set goes again. */
static void
io_endpoint_changed(uint32_t ifid)
{
	struct sig_clock	 clk;

	clock_now(&clk);
	edge_endpoint_changed(ifid, &clk);
}

/* probe_io: the path to a peer, to the parent (-> wgctld). */
static void
io_path(const struct peer_path *pp)
{
	imsgev_compose(&iev_parent, IMSG_PEER_PATH, 0, -1, pp, sizeof(*pp));
}

static const struct probe_io signald_probe_io = {
	.cands_changed = io_cands_changed,
	.endpoint_changed = io_endpoint_changed,
	.path = io_path
};

/* --- parent messages ------------------------------------------------ */

static void
staged_reset(void)
{
	sodium_memzero(&staged, sizeof(staged));
}

static void
signald_reconf_global(struct imsgev *iev, struct imsg *im)
{
	struct conf_global	 g;

	(void)iev;
	memcpy(&g, im->data, sizeof(g));
	if (!omni_str_valid(g.user, sizeof(g.user)) ||
	    !omni_str_valid(g.chroot, sizeof(g.chroot)) ||
	    !omni_str_valid(g.control, sizeof(g.control)) ||
	    !omni_str_valid(g.wireguard_go, sizeof(g.wireguard_go)))
		fatalx("invalid global configuration from the parent");
	/* A new configuration starts here. */
	staged_reset();
	staged.global = g;
}

static void
signald_reconf_nucleus(struct imsgev *iev, struct imsg *im)
{
	struct sig_nucleus	 sn;

	(void)iev;
	memcpy(&sn, im->data, sizeof(sn));
	if (sn.peer_timeout == 0)
		sn.peer_timeout = OMNI_PEER_TIMEOUT;
	if (sn.peer_timeout > 86400)
		sn.peer_timeout = 86400;
	/* the limits: nucleus_set_limits takes 0 and clamps the rest */
	staged.nucleus = sn;
	staged.has_nucleus = 1;
	sodium_memzero(&sn, sizeof(sn));
}

static void
signald_reconf_iface(struct imsgev *iev, struct imsg *im)
{
	struct sig_iface	 si;
	size_t			 i;

	(void)iev;
	memcpy(&si, im->data, sizeof(si));
	if (si.heartbeat == 0)
		si.heartbeat = OMNI_HEARTBEAT;
	if (si.heartbeat > SIGNALD_HEARTBEAT_MAX)
		si.heartbeat = SIGNALD_HEARTBEAT_MAX;
	if (si.stun_interval == 0)
		si.stun_interval = OMNI_STUN_INTERVAL;
	if (!edge_iface_valid(&si) || !stun_iface_valid(&si)) {
		log_warnx("invalid interface %u from the parent, ignored",
		    si.ifid);
		goto out;
	}
	for (i = 0; i < staged.nifaces; i++)
		if (staged.ifaces[i].ifid == si.ifid) {
			log_warnx("interface %u sent twice, ignored",
			    si.ifid);
			goto out;
		}
	if (staged.nifaces >= OMNI_MAX_IFACES) {
		log_warnx("too many interfaces, %s ignored", si.name);
		goto out;
	}
	staged.ifaces[staged.nifaces++] = si;
 out:
	sodium_memzero(&si, sizeof(si));
}

static void
signald_reconf_end(struct imsgev *iev, struct imsg *im)
{
	struct ssock		*ss, *tmp;
	struct sig_clock	 clk;

	(void)iev;
	(void)im;
	clock_now(&clk);

	if (!staged.has_nucleus) {
		if (nucleus != NULL)
			log_info("nucleus role stopped");
		nucleus_free(nucleus);
		nucleus = NULL;
		nucleus_close();
	} else if (nucleus != NULL &&
	    nucleus_same_root(nucleus, staged.nucleus.root,
	    staged.nucleus.priv)) {
		nucleus_set_timeout(nucleus, staged.nucleus.peer_timeout);
		nucleus_set_limits(nucleus, staged.nucleus.max_edges,
		    staged.nucleus.max_clusters, staged.nucleus.rate_limit);
	} else {
		/* a new secret or identity: every registration is void */
		nucleus_free(nucleus);
		if ((nucleus = nucleus_new(staged.nucleus.root,
		    staged.nucleus.priv, staged.nucleus.pub,
		    staged.nucleus.peer_timeout)) == NULL)
			fatal("nucleus");
		nucleus_set_limits(nucleus, staged.nucleus.max_edges,
		    staged.nucleus.max_clusters, staged.nucleus.rate_limit);
		log_info("nucleus role started, peer timeout %us",
		    staged.nucleus.peer_timeout);
	}

	/* DEREGISTER goes out on the old sockets before they close. */
	edge_reconf(staged.ifaces, staged.nifaces, &clk);
	stun_client_reconf(staged.ifaces, staged.nifaces, clk.ms);
	TAILQ_FOREACH_SAFE(ss, &edge_socks, ss_entry, tmp)
		if (!edge_has_iface(ss->ss_ifid))
			ssock_close(&edge_socks, ss);
	TAILQ_FOREACH_SAFE(ss, &probe_socks, ss_entry, tmp)
		if (!edge_has_iface(ss->ss_ifid)) {
			probe_iface_gone(ss->ss_ifid);
			ssock_close(&probe_socks, ss);
		}
	staged_reset();
	probe_arm();
}

static void
signald_sock_nucleus(struct imsgev *iev, struct imsg *im)
{
	(void)iev;
	if (set_nonblock(im->fd) == -1) {
		close(im->fd);
		return;
	}
	nucleus_close();
	nucleus_fd = im->fd;
	event_set(&nucleus_ev, nucleus_fd, EV_READ | EV_PERSIST, nucleus_read,
	    NULL);
	event_add(&nucleus_ev, NULL);
	log_debug("nucleus socket received");
}

static void
signald_sock_edge(struct imsgev *iev, struct imsg *im)
{
	struct sock_edge	 se;
	struct ssock		*ss;
	struct sig_clock	 clk;

	(void)iev;
	memcpy(&se, im->data, sizeof(se));
	if ((se.af != AF_INET && se.af != AF_INET6) ||
	    set_nonblock(im->fd) == -1) {
		log_warnx("bad edge socket for interface %u", se.ifid);
		close(im->fd);
		return;
	}
	if ((ss = ssock_find(&edge_socks, se.ifid, se.af)) != NULL)
		ssock_close(&edge_socks, ss);
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		fatal("edge socket");
	ss->ss_ifid = se.ifid;
	ss->ss_af = se.af;
	ss->ss_fd = im->fd;
	event_set(&ss->ss_ev, ss->ss_fd, EV_READ | EV_PERSIST, edge_read, ss);
	event_add(&ss->ss_ev, NULL);
	TAILQ_INSERT_TAIL(&edge_socks, ss, ss_entry);
	log_debug("edge socket for interface %u (%s) received", se.ifid,
	    se.af == AF_INET ? "IPv4" : "IPv6");
	/* whatever waited for this socket may go now */
	clock_now(&clk);
	edge_tick(&clk);
	stun_client_tick(clk.ms, clk.wall);
	probe_arm();
}

/*
 * issue 7: a raw socket for probes from the WireGuard port.  signald.c
 * owns the descriptor (reads and closes it), probe.c sends on it.
 */
static void
signald_sock_probe(struct imsgev *iev, struct imsg *im)
{
	struct sock_probe	 sp;
	struct ssock		*ss, *old;

	(void)iev;
	memcpy(&sp, im->data, sizeof(sp));
	if ((sp.af != AF_INET && sp.af != AF_INET6) ||
	    set_nonblock(im->fd) == -1 || probe_sock(&sp, im->fd) == -1) {
		log_warnx("bad probe socket for interface %u", sp.ifid);
		close(im->fd);
		return;
	}
	/* probe.c sends on the new one already */
	if ((old = ssock_find(&probe_socks, sp.ifid, sp.af)) != NULL)
		ssock_close(&probe_socks, old);
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		fatal("probe socket");
	ss->ss_ifid = sp.ifid;
	ss->ss_af = sp.af;
	ss->ss_fd = im->fd;
	event_set(&ss->ss_ev, ss->ss_fd, EV_READ | EV_PERSIST, probe_read, ss);
	event_add(&ss->ss_ev, NULL);
	TAILQ_INSERT_TAIL(&probe_socks, ss, ss_entry);
	log_debug("probe socket for interface %u (%s, port %u) received",
	    sp.ifid, sp.af == AF_INET ? "IPv4" : "IPv6", sp.wg_port);
	probe_arm();
}

/* The parent's underlay addresses; a new generation is a roam. */
static void
signald_local_addrs(struct imsgev *iev, struct imsg *im)
{
	struct local_addrs	 la;
	struct sig_clock	 clk;
	int32_t			 i;

	(void)iev;
	memcpy(&la, im->data, sizeof(la));
	if (la.naddr < 0 || la.naddr > OMNI_MAX_LOCAL) {
		log_warnx("invalid local addresses from the parent, ignored");
		return;
	}
	for (i = 0; i < la.naddr; i++)
		if (la.addr[i].sa.sa_family != AF_INET &&
		    la.addr[i].sa.sa_family != AF_INET6) {
			log_warnx("invalid local address from the parent, "
			    "ignored");
			return;
		}
	clock_now(&clk);
	probe_local_addrs(&la, &clk);
	probe_arm();
}

static void
signald_verbose(struct imsgev *iev, struct imsg *im)
{
	int	 v;

	(void)iev;
	memcpy(&v, im->data, sizeof(v));
	log_setverbose(v);
}

/* The parent computed a proof key (PROTOCOL.md, "Keys"). */
static void
signald_dh_res(struct imsgev *iev, struct imsg *im)
{
	struct sig_dh		 dh;
	struct sig_clock	 clk;

	(void)iev;
	memcpy(&dh, im->data, sizeof(dh));
	if (dh.ok != 0 && dh.ok != 1) {
		log_warnx("invalid proof key from the parent, ignored");
		goto out;
	}
	clock_now(&clk);
	edge_dh_result(&dh, &clk);
	probe_arm();
 out:
	sodium_memzero(&dh, sizeof(dh));
}

/* --- timers and signals --------------------------------------------- */

static void
signald_stun_metric(const char *name, double v, const char *labels)
{
	if (labels == NULL)
		metric_send(&iev_parent, name, v, NULL);
	else
		metric_send(&iev_parent, name, v, "%s", labels);
}

static void
signald_metrics(void)
{
	char	 name[OMNI_IFNAMSIZ];
	size_t	 i;
	int	 t, reg;

	for (t = 1; t <= SIG_TYPE_MAX; t++) {
		metric_send(&iev_parent, "omni_signal_sent_total",
		    sig_stats.sent[t], "type=\"%s\"", proto_type_name(t));
		metric_send(&iev_parent, "omni_signal_received_total",
		    sig_stats.received[t], "type=\"%s\"", proto_type_name(t));
	}
	for (t = 1; t < SIG_R_MAX; t++)
		metric_send(&iev_parent, "omni_signal_dropped_total",
		    sig_stats.dropped[t], "reason=\"%s\"",
		    proto_reason_name(t));
	for (i = 0; edge_status(i, name, sizeof(name), &reg); i++)
		metric_send(&iev_parent, "omni_edge_registered", reg,
		    "iface=\"%s\"", name);
	stun_metrics(signald_stun_metric);
	probe_metrics(signald_stun_metric);
	if (nucleus != NULL) {
		metric_send(&iev_parent, "omni_nucleus_clusters",
		    nucleus_nclusters(nucleus), NULL);
		metric_send(&iev_parent, "omni_nucleus_edges",
		    nucleus_nedges(nucleus), NULL);
	}
	metric_end(&iev_parent);
}

/* Signaling status for omnictl show nucleus, through the parent. */
static void
signald_status(void)
{
	struct sig_status	 st;
	struct sig_clock	 clk;
	socklen_t		 len;
	size_t			 i;

	clock_now(&clk);
	for (i = 0; edge_nucleus_status(i, &clk, &st); i++)
		imsgev_compose(&iev_parent, IMSG_SIG_STATUS, 0, -1, &st,
		    sizeof(st));
	if (nucleus != NULL && nucleus_fd != -1) {
		memset(&st, 0, sizeof(st));
		len = sizeof(st.addr);
		if (getsockname(nucleus_fd, &st.addr.sa, &len) == -1)
			return;
		st.registered = 1;
		st.rtt_us = -1;
		st.clusters = nucleus_nclusters(nucleus);
		st.edges = nucleus_nedges(nucleus);
		imsgev_compose(&iev_parent, IMSG_SIG_STATUS, 0, -1, &st,
		    sizeof(st));
	}
}

static void
signald_timer(int fd, short event, void *arg)
{
	struct sig_clock	 clk;

	(void)fd;
	(void)event;
	(void)arg;
	timer_ticks++;
	clock_now(&clk);
	edge_tick(&clk);
	stun_client_tick(clk.ms, clk.wall);
	probe_tick(&clk);
	probe_arm();
	if (nucleus != NULL && timer_ticks % NUCLEUS_EXPIRE_EVERY == 0)
		nucleus_expire(nucleus, &clk);
	nucleus_punch_send(nucleus_fd);
	if (timer_ticks % SIGNALD_METRICS_EVERY == 0) {
		signald_metrics();
		signald_status();
	}
}

static void
signald_signal(int sig, short event, void *arg)
{
	struct sig_clock	 clk;

	(void)event;
	(void)arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("exiting on signal %d, leaving the nuclei", sig);
		clock_now(&clk);
		edge_shutdown(&clk);
		imsgbuf_flush(&iev_parent.ibuf);
		exit(0);
	default:
		break;		/* SIGHUP: the parent reloads, not us */
	}
}

int
main(int argc, char *argv[])
{
	struct proc_sandbox	 sb;
	struct timeval		 tv = { 1, 0 };

	proc_child_start(argc, argv, "signald", "signald", &sb);

	/* before the sandbox: it may want /dev/urandom */
	if (sodium_init() == -1)
		fatalx("sodium_init");

	sb.syscalls = signald_syscalls;
	proc_sandbox(&sb);

	event_init();
	imsgev_init(&iev_parent, OMNI_PARENT_FD, PROC_PARENT, signald_table,
	    NULL, NULL);
	edge_init(&signald_io);
	stun_client_init(&signald_stun_io);
	probe_init(&signald_probe_io);
	evtimer_set(&ev_probe, probe_timer, NULL);

	signal_set(&ev_sigterm, SIGTERM, signald_signal, NULL);
	signal_set(&ev_sigint, SIGINT, signald_signal, NULL);
	signal_set(&ev_sighup, SIGHUP, signald_signal, NULL);
	signal_add(&ev_sigterm, NULL);
	signal_add(&ev_sigint, NULL);
	signal_add(&ev_sighup, NULL);
	signal(SIGPIPE, SIG_IGN);

	event_set(&ev_timer, -1, EV_PERSIST, signald_timer, NULL);
	event_add(&ev_timer, &tv);

	log_debug("started");
	event_dispatch();
	return 0;
}
