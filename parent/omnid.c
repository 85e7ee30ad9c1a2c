/*
 * omnid: the privileged parent of the omni daemon suite.
 *
 * It is the only process that keeps privileges, and it keeps only
 * what it needs (caps.c): it owns the WireGuard interfaces and
 * rtnetlink, opens every socket the children use and hands them over,
 * supervises the children and applies the WireGuard changes they ask
 * for after checking them.  Everything that parses untrusted bytes
 * runs in a sandboxed child.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "keys.h"
#include "metrics.h"
#include "omnid.h"
#include "caps.h"
#include "identity.h"
#include "dh.h"
#include "parse.h"
#include "quickstart.h"
#include "rtnl.h"
#include "netmon.h"
#include "probesock.h"

#define IFACE_BACKOFF_MAX	30
#define PARENT_METRICS_SECS	2
#define NUCLEUS_RCVBUF_MIN	(4 << 20)	/* bytes; see nucleus_rcvbuf */
#define NUCLEUS_RCVBUF_MAX	(256 << 20)

struct omnid	*omnid;
/* issue 3: the nucleus identity (nucleus: identity:), for signald */
static uint8_t	 nucleus_priv[OMNI_KEYLEN], nucleus_pub[OMNI_KEYLEN];
static struct event ev_metrics;

static void	iface_retry(int, short, void *);
static int	iface_bringup(struct iface *, char *, size_t);
static void	parent_status_send(void);

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr,
	    "usage: omnid [-dnv] [-f file] [-s socket]\n"
	    "       omnid [-dnv] [-s socket] --mode nucleus [--port port] "
	    "--secret secret\n"
	    "       omnid [-dnv] [-s socket] --nucleus host:port "
	    "[--nucleus ...] --cluster name\n"
	    "             --secret secret --vip address[/prefix] "
	    "[--port wgport]\n"
	    "             [--interface name] [--identity file] "
	    "[--cipher chachapoly]\n"
	    "       omnid --init [--identity file]\n");
	exit(1);
}

/* --- interfaces ------------------------------------------------------ */

struct iface *
iface_find(uint32_t id)
{
	struct iface	*ifp;

	TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry)
		if (ifp->if_id == id)
			return ifp;
	return NULL;
}

static struct iface *
iface_find_name(const char *name)
{
	struct iface	*ifp;

	TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry)
		if (strcmp(ifp->if_conf.name, name) == 0)
			return ifp;
	return NULL;
}

/*
 * The preshared key of a pair of peers: keyed BLAKE2b over both
 * public keys in sorted order, so both ends derive the same one and a
 * node without the cluster secret cannot complete a handshake.
 */
static void
iface_pair_psk(const struct iface *ifp, const uint8_t *peer, uint8_t *psk)
{
	crypto_generichash_state	 st;
	const uint8_t			*a = ifp->if_pub, *b = peer;

	if (memcmp(a, b, OMNI_KEYLEN) > 0) {
		a = peer;
		b = ifp->if_pub;
	}
	crypto_generichash_init(&st, ifp->if_pskkey, OMNI_KEYLEN, OMNI_KEYLEN);
	crypto_generichash_update(&st, a, OMNI_KEYLEN);
	crypto_generichash_update(&st, b, OMNI_KEYLEN);
	crypto_generichash_final(&st, psk, OMNI_KEYLEN);
	sodium_memzero(&st, sizeof(st));
}

static int
udp_socket(const struct omni_addr *bindaddr, int af)
{
	struct omni_addr	 any;
	int			 s, on = 1;

	if ((s = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("socket");
		return -1;
	}
	if (af == AF_INET6) {
		/*
		 * One family per socket, except a nucleus on [::], which
		 * serves IPv4 too (PROTOCOL.md, "IPv6").
		 */
		int	 v6only = bindaddr == NULL ||
			    !IN6_IS_ADDR_UNSPECIFIED(&bindaddr->sin6.sin6_addr);

		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
	}
	if (bindaddr == NULL) {
		memset(&any, 0, sizeof(any));
		any.sa.sa_family = af;
		bindaddr = &any;
	} else
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(s, &bindaddr->sa, omni_addr_len(bindaddr)) == -1) {
		char	 buf[OMNI_ADDRSTRLEN];

		log_warn("bind %s", omni_addr_str(bindaddr, buf, sizeof(buf)));
		close(s);
		return -1;
	}
	return s;
}

static int
iface_sockets(struct iface *ifp)
{
	int	 i, need4 = 0, need6 = 0;

	for (i = 0; i < ifp->if_conf.nnuclei; i++) {
		if (ifp->if_conf.nuclei[i].sa.sa_family == AF_INET)
			need4 = 1;
		else
			need6 = 1;
	}
	/* STUN servers are asked over the same sockets */
	for (i = 0; i < ifp->if_conf.nstun; i++) {
		if (ifp->if_conf.stun[i].sa.sa_family == AF_INET)
			need4 = 1;
		else
			need6 = 1;
	}
	if (need4 && ifp->if_sock4 == -1 &&
	    (ifp->if_sock4 = udp_socket(NULL, AF_INET)) == -1)
		return -1;
	if (need6 && ifp->if_sock6 == -1 &&
	    (ifp->if_sock6 = udp_socket(NULL, AF_INET6)) == -1)
		return -1;
	return 0;
}

/*
 * issue 7: the raw sockets that let signald probe from the WireGuard
 * port (probesock.c), one per family, opened again when the port
 * changes.  Without them signald still signals, only it cannot probe
 * a family: a warning, never fatal.
 */
static void
iface_probe_close(struct iface *ifp)
{
	if (ifp->if_probe4 != -1)
		close(ifp->if_probe4);
	if (ifp->if_probe6 != -1)
		close(ifp->if_probe6);
	ifp->if_probe4 = ifp->if_probe6 = -1;
	ifp->if_probe_port = 0;
}

static void
iface_probe_open(struct iface *ifp)
{
	uint16_t	 port = ifp->if_conf.listen_port;

	if (ifp->if_probe_port == port)
		return;
	iface_probe_close(ifp);
	ifp->if_probe_port = port;
	if ((ifp->if_probe4 = probesock_open(AF_INET, port)) == -1)
		log_warnx("%s: no IPv4 probe socket", ifp->if_conf.name);
	/* a kernel without IPv6 is no reason to complain */
	if ((ifp->if_probe6 = probesock_open(AF_INET6, port)) == -1 &&
	    errno != EAFNOSUPPORT)
		log_warnx("%s: no IPv6 probe socket", ifp->if_conf.name);
}

/* The root-level key that seals the cluster name (signald has no root). */
static void
iface_name_key(const struct iface *ifp, uint8_t *out)
{
	uint8_t	 root[OMNI_KEYLEN];

	keys_derive_root(ifp->if_conf.secret, strlen(ifp->if_conf.secret),
	    root);
	keys_derive_root_subkey(root, KEY_ROOT_NAME, out);
	sodium_memzero(root, sizeof(root));
}

static void
iface_keys(struct iface *ifp)
{
	uint8_t	 root[OMNI_KEYLEN];

	keys_derive_root(ifp->if_conf.secret, strlen(ifp->if_conf.secret),
	    root);
	keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, ifp->if_conf.cluster,
	    ifp->if_sigkey);
	keys_derive_cluster(root, KEY_PURPOSE_PSK, ifp->if_conf.cluster,
	    ifp->if_pskkey);
	sodium_memzero(root, sizeof(root));
}

static int
iface_apply_peer(struct iface *ifp, const struct wg_peer_req *req,
    char *err, size_t errlen)
{
	uint8_t	 psk[OMNI_KEYLEN];
	int	 r;

	iface_pair_psk(ifp, req->pubkey, psk);
	r = wg_set_peer(&ifp->if_dev, req, psk, err, errlen);
	sodium_memzero(psk, sizeof(psk));
	return r;
}

/* Create and configure the device, then put back the peers we had. */
static int
iface_bringup(struct iface *ifp, char *err, size_t errlen)
{
	struct applied_peer	*ap;
	const struct conf_iface	*ci = &ifp->if_conf;

	if (wg_open(&ifp->if_dev, ci->name, ci->backend,
	    omnid->o_conf.global.wireguard_go, err, errlen) == -1)
		return -1;
	if (wg_set_device(&ifp->if_dev, ifp->if_priv, ci->listen_port,
	    err, errlen) == -1)
		goto fail;
	if (rtnl_addr_add(ifp->if_dev.wd_ifindex, &ci->address) == -1) {
		snprintf(err, errlen, "%s: cannot set address", ci->name);
		goto fail;
	}
	if (rtnl_link_set(ifp->if_dev.wd_ifindex, 1, ci->mtu) == -1) {
		snprintf(err, errlen, "%s: cannot bring the link up",
		    ci->name);
		goto fail;
	}
	TAILQ_FOREACH(ap, &ifp->if_peers, ap_entry)
		if (iface_apply_peer(ifp, &ap->ap_req, err, errlen) == -1)
			log_warnx("%s: restoring a peer: %s", ci->name, err);
	ifp->if_up = 1;
	ifp->if_backoff = 1;
	log_info("%s: up, %s backend, listen port %u", ci->name,
	    ifp->if_dev.wd_ops->name, ci->listen_port);
	return 0;
 fail:
	wg_close(&ifp->if_dev);
	return -1;
}

static struct iface *
iface_create(const struct conf_iface *ci, char *err, size_t errlen)
{
	struct iface	*ifp;

	if ((ifp = calloc(1, sizeof(*ifp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ifp->if_id = ++omnid->o_next_ifid;
	ifp->if_conf = *ci;
	ifp->if_sock4 = ifp->if_sock6 = -1;
	ifp->if_probe4 = ifp->if_probe6 = -1;
	ifp->if_dev.wd_pid = -1;
	TAILQ_INIT(&ifp->if_peers);
	evtimer_set(&ifp->if_retry, iface_retry, ifp);
	if (identity_load(ci->identity, 1, ifp->if_priv, ifp->if_pub,
	    err, errlen) == -1)
		goto fail;
	iface_keys(ifp);
	if (iface_sockets(ifp) == -1) {
		snprintf(err, errlen, "%s: cannot open signaling sockets",
		    ci->name);
		goto fail;
	}
	if (iface_bringup(ifp, err, errlen) == -1)
		goto fail;
	iface_probe_open(ifp);
	TAILQ_INSERT_TAIL(&omnid->o_ifaces, ifp, if_entry);
	return ifp;
 fail:
	if (ifp->if_sock4 != -1)
		close(ifp->if_sock4);
	if (ifp->if_sock6 != -1)
		close(ifp->if_sock6);
	sodium_memzero(ifp, sizeof(*ifp));
	free(ifp);
	return NULL;
}

static void
iface_destroy(struct iface *ifp)
{
	struct applied_peer	*ap;

	TAILQ_REMOVE(&omnid->o_ifaces, ifp, if_entry);
	evtimer_del(&ifp->if_retry);
	if (ifp->if_up || ifp->if_dev.wd_pid != -1)
		wg_close(&ifp->if_dev);
	while ((ap = TAILQ_FIRST(&ifp->if_peers)) != NULL) {
		TAILQ_REMOVE(&ifp->if_peers, ap, ap_entry);
		free(ap);
	}
	free(ifp->if_set);
	if (ifp->if_sock4 != -1)
		close(ifp->if_sock4);
	if (ifp->if_sock6 != -1)
		close(ifp->if_sock6);
	iface_probe_close(ifp);
	log_info("%s: removed", ifp->if_conf.name);
	sodium_memzero(ifp, sizeof(*ifp));
	free(ifp);
}

static void
iface_retry(int fd, short ev, void *arg)
{
	struct iface	*ifp = arg;
	char		 err[OMNI_MSGSIZ];

	if (iface_bringup(ifp, err, sizeof(err)) == 0) {
		log_info("%s: restored with %d peers", ifp->if_conf.name,
		    ifp->if_npeers);
		return;
	}
	log_warnx("%s: %s", ifp->if_conf.name, err);
	proc_timer(&ifp->if_retry, ifp->if_backoff, 0);
	ifp->if_backoff = ifp->if_backoff * 2 > IFACE_BACKOFF_MAX ?
	    IFACE_BACKOFF_MAX : ifp->if_backoff * 2;
}

/* wireguard-go died: the interface went with it; build it again. */
static int
iface_reaped(pid_t pid, int status)
{
	struct iface	*ifp;

	TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry) {
		if (!wg_reaped(&ifp->if_dev, pid, status))
			continue;
		ifp->if_up = 0;
		if (!omnid->o_exiting) {
			log_warnx("%s: WireGuard backend lost, re-creating",
			    ifp->if_conf.name);
			if (ifp->if_backoff < 1)
				ifp->if_backoff = 1;
			proc_timer(&ifp->if_retry, 0, 200000);
		}
		return 1;
	}
	return 0;
}

/* --- sockets the children get ------------------------------------------ */

static int
control_socket(const char *path, mode_t mode)
{
	struct sockaddr_un	 sun;
	int			 s;
	mode_t			 old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return -1;
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("socket");
		return -1;
	}
	/* A live socket means another omnid: never steal it. */
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_warnx("control socket %s is in use: is another omnid "
		    "running?", path);
		close(s);
		return -1;
	}
	close(s);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("socket");
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", path);
		close(s);
		return -1;
	}
	old = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("bind %s", path);
		umask(old);
		close(s);
		return -1;
	}
	umask(old);
	if (chmod(path, mode) == -1 || listen(s, 16) == -1) {
		log_warn("control socket %s", path);
		close(s);
		unlink(path);
		return -1;
	}
	return s;
}

static int
metrics_socket(const struct omni_addr *a)
{
	int	 s, on = 1;
	char	 buf[OMNI_ADDRSTRLEN];

	if ((s = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return -1;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(s, &a->sa, omni_addr_len(a)) == -1 || listen(s, 64) == -1) {
		log_warn("metrics listener %s",
		    omni_addr_str(a, buf, sizeof(buf)));
		close(s);
		return -1;
	}
	return s;
}

static int
dupfd(int fd)
{
	int	 n;

	if ((n = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		log_warn("dup");
	return n;
}

/* --- configuration streams to the children ------------------------------ */

static void
iface_info(const struct iface *ifp, struct iface_info *ii)
{
	const struct conf_iface	*ci = &ifp->if_conf;

	memset(ii, 0, sizeof(*ii));
	ii->ifid = ifp->if_id;
	strlcpy(ii->name, ci->name, sizeof(ii->name));
	strlcpy(ii->cluster, ci->cluster, sizeof(ii->cluster));
	strlcpy(ii->backend, ifp->if_dev.wd_ops != NULL ?
	    ifp->if_dev.wd_ops->name : "none", sizeof(ii->backend));
	memcpy(ii->pubkey, ifp->if_pub, OMNI_KEYLEN);
	ii->vip = ci->address;
	ii->listen_port = ci->listen_port;
	ii->mtu = ci->mtu;
	ii->keepalive = ci->keepalive;
	ii->nnuclei = ci->nnuclei;
	memcpy(ii->nuclei, ci->nuclei, sizeof(ii->nuclei));
}

static struct conf_global
global_for_children(void)
{
	return omnid->o_conf.global;
}

/* issue 7: an interface's probe sockets (probesock.c) to signald */
static void
parent_send_probe(struct iface *ifp)
{
	struct sock_probe	 sp;

	memset(&sp, 0, sizeof(sp));
	sp.ifid = ifp->if_id;
	sp.wg_port = ifp->if_probe_port;
	if (ifp->if_probe4 != -1) {
		sp.af = AF_INET;
		child_send(PROC_SIGNALD, IMSG_SOCK_PROBE, 0,
		    dupfd(ifp->if_probe4), &sp, sizeof(sp));
	}
	if (ifp->if_probe6 != -1) {
		sp.af = AF_INET6;
		child_send(PROC_SIGNALD, IMSG_SOCK_PROBE, 0,
		    dupfd(ifp->if_probe6), &sp, sizeof(sp));
	}
}

void
parent_send_signald(struct child *c)
{
	struct conf_global	 g = global_for_children();
	struct sig_nucleus	 sn;
	struct sig_iface	 si;
	struct sock_edge	 se;
	struct iface		*ifp;

	child_send(PROC_SIGNALD, IMSG_RECONF_GLOBAL, 0, -1, &g, sizeof(g));
	if (omnid->o_conf.has_nucleus) {
		memset(&sn, 0, sizeof(sn));
		memcpy(sn.root, omnid->o_nucleus_root, OMNI_KEYLEN);
		sn.peer_timeout = omnid->o_conf.nucleus.peer_timeout;
		sn.max_edges = omnid->o_conf.nucleus.max_edges;
		sn.max_clusters = omnid->o_conf.nucleus.max_clusters;
		sn.rate_limit = omnid->o_conf.nucleus.rate_limit;
		memcpy(sn.priv, nucleus_priv, OMNI_KEYLEN);
		memcpy(sn.pub, nucleus_pub, OMNI_KEYLEN);
		child_send(PROC_SIGNALD, IMSG_RECONF_NUCLEUS, 0, -1, &sn,
		    sizeof(sn));
		sodium_memzero(&sn, sizeof(sn));
	}
	TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry) {
		memset(&si, 0, sizeof(si));
		si.ifid = ifp->if_id;
		strlcpy(si.name, ifp->if_conf.name, sizeof(si.name));
		strlcpy(si.cluster, ifp->if_conf.cluster, sizeof(si.cluster));
		memcpy(si.key, ifp->if_sigkey, OMNI_KEYLEN);
		iface_name_key(ifp, si.name_key);
		memcpy(si.pubkey, ifp->if_pub, OMNI_KEYLEN);
		si.vip = ifp->if_conf.address;
		si.wg_port = ifp->if_conf.listen_port;
		si.heartbeat = ifp->if_conf.heartbeat;
		si.nnuclei = ifp->if_conf.nnuclei;
		memcpy(si.nuclei, ifp->if_conf.nuclei, sizeof(si.nuclei));
		si.nstun = ifp->if_conf.nstun;
		memcpy(si.stun, ifp->if_conf.stun, sizeof(si.stun));
		si.stun_interval = ifp->if_conf.stun_interval;
		child_send(PROC_SIGNALD, IMSG_RECONF_IFACE, 0, -1, &si,
		    sizeof(si));
		sodium_memzero(&si, sizeof(si));
	}
	child_send(PROC_SIGNALD, IMSG_RECONF_END, 0, -1, NULL, 0);

	if (omnid->o_nucleus_sock != -1)
		child_send(PROC_SIGNALD, IMSG_SOCK_NUCLEUS, 0,
		    dupfd(omnid->o_nucleus_sock), NULL, 0);
	TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry) {
		memset(&se, 0, sizeof(se));
		se.ifid = ifp->if_id;
		if (ifp->if_sock4 != -1) {
			se.af = AF_INET;
			child_send(PROC_SIGNALD, IMSG_SOCK_EDGE, 0,
			    dupfd(ifp->if_sock4), &se, sizeof(se));
		}
		if (ifp->if_sock6 != -1) {
			se.af = AF_INET6;
			child_send(PROC_SIGNALD, IMSG_SOCK_EDGE, 0,
			    dupfd(ifp->if_sock6), &se, sizeof(se));
		}
		parent_send_probe(ifp);
	}
	/* issue 7: the underlay addresses, for host candidates */
	netmon_send(NULL);
	(void)c;
}

/*
 * A peer set from signald is checked, then passed on to wgctld, and
 * kept: each interface keeps the last complete set (BEGIN, exactly
 * the announced count of PEERs, a matching END) in if_set, which a
 * restarted wgctld gets again after the applied state, so a set that
 * died with the previous wgctld before it was applied is not lost
 * until signald's next change.  A set abandoned half-way is
 * discarded, never kept.
 *
 * A set in progress when wgctld restarts is not interleaved with the
 * replay: every set is forwarded to the wgctld that got its BEGIN
 * (wggen, wgctld_gen when it began) and to no other.  The rest of it
 * is held from a new wgctld, which gets the replay instead, and at
 * END, the set being complete and kept, the new wgctld gets all of it
 * at once from if_set.
 */
static struct {
	int		 active;
	uint32_t	 ifid;
	uint32_t	 count;
	uint32_t	 seen;
	pid_t		 pid;	/* of the signald that began it */
	uint64_t	 wggen;	/* the wgctld its BEGIN went to */
	struct omni_peer *peers; /* seen so far, to keep at END */
	uint32_t	 cap;
} peerset;
static uint64_t	 wgctld_gen;	/* one per wgctld process started */
static int	 parent_reloading;	/* c_init() for a reload, not a start */

static void
peerset_discard(void)
{
	peerset.active = 0;
	free(peerset.peers);
	peerset.peers = NULL;
	peerset.cap = peerset.seen = 0;
}

/* The set seen so far becomes the interface's last complete set. */
static void
peerset_keep(struct iface *ifp)
{
	free(ifp->if_set);
	ifp->if_set = peerset.peers;
	ifp->if_nset = peerset.seen;
	ifp->if_have_set = 1;
	peerset.peers = NULL;
	peerset.cap = peerset.seen = 0;
}

/* An interface's last complete set, whole, to wgctld. */
static void
peerset_send(struct iface *ifp)
{
	struct peer_set_hdr	 h;
	uint32_t		 i;

	memset(&h, 0, sizeof(h));
	h.ifid = ifp->if_id;
	h.count = ifp->if_nset;
	child_send(PROC_WGCTLD, IMSG_PEERS_BEGIN, 0, -1, &h, sizeof(h));
	for (i = 0; i < ifp->if_nset; i++)
		child_send(PROC_WGCTLD, IMSG_PEERS_PEER, 0, -1,
		    &ifp->if_set[i], sizeof(ifp->if_set[i]));
	child_send(PROC_WGCTLD, IMSG_PEERS_END, 0, -1, &h, sizeof(h));
}

void
parent_send_wgctld(struct child *c)
{
	struct conf_global	 g = global_for_children();
	struct iface_info	 ii;
	struct sock_control	 sc;
	struct iface		*ifp;
	struct applied_peer	*ap;

	child_send(PROC_WGCTLD, IMSG_RECONF_GLOBAL, 0, -1, &g, sizeof(g));
	TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry) {
		iface_info(ifp, &ii);
		child_send(PROC_WGCTLD, IMSG_RECONF_IFACE, 0, -1, &ii,
		    sizeof(ii));
	}
	child_send(PROC_WGCTLD, IMSG_RECONF_END, 0, -1, NULL, 0);
	/* What is applied now, so a restarted wgctld starts from truth. */
	TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry)
		TAILQ_FOREACH(ap, &ifp->if_peers, ap_entry)
			child_send(PROC_WGCTLD, IMSG_WG_STATE_PEER, 0, -1,
			    &ap->ap_req, sizeof(ap->ap_req));
	child_send(PROC_WGCTLD, IMSG_WG_STATE_END, 0, -1, NULL, 0);
	/*
	 * A new wgctld (not a reload: the running one has them) gets the
	 * last peer set of each interface, so it converges at once to
	 * what signald wants.  A set it already applied is a no-op in its
	 * diff: no WireGuard request.
	 */
	if (!parent_reloading) {
		wgctld_gen++;
		TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry) {
			if (!ifp->if_have_set)
				continue;
			log_debug("wgctld: replaying %u peers of interface %s",
			    ifp->if_nset, ifp->if_conf.name);
			peerset_send(ifp);
		}
	}
	if (omnid->o_ctl_sock != -1) {
		memset(&sc, 0, sizeof(sc));
		child_send(PROC_WGCTLD, IMSG_SOCK_CONTROL, 0,
		    dupfd(omnid->o_ctl_sock), &sc, sizeof(sc));
	}
	if (omnid->o_ctl_ro_sock != -1) {
		memset(&sc, 0, sizeof(sc));
		sc.readonly = 1;
		child_send(PROC_WGCTLD, IMSG_SOCK_CONTROL, 0,
		    dupfd(omnid->o_ctl_ro_sock), &sc, sizeof(sc));
	}
	parent_status_send();
	(void)c;
}

void
parent_send_metricsd(struct child *c)
{
	struct conf_global	 g = global_for_children();

	child_send(PROC_METRICSD, IMSG_RECONF_GLOBAL, 0, -1, &g, sizeof(g));
	child_send(PROC_METRICSD, IMSG_RECONF_END, 0, -1, NULL, 0);
	if (omnid->o_metrics_sock != -1)
		child_send(PROC_METRICSD, IMSG_SOCK_METRICS, 0,
		    dupfd(omnid->o_metrics_sock), NULL, 0);
	(void)c;
}

/* --- messages from the children ---------------------------------------- */

/*
 * A child sent what it never should.  The parent goes on: it closes
 * the channel, so the child is killed and started again (fuzz_imsg_parent
 * holds the parent to that).
 */
static void
child_insane(struct imsgev *iev, const char *why)
{
	log_warnx("%s: %s", omni_proc_name(iev->peer), why);
	if (iev->peer == PROC_SIGNALD)
		peerset_discard();
	iev->closed(iev);
}

static void
from_signald_peers_begin(struct imsgev *iev, struct imsg *im)
{
	struct peer_set_hdr	 h;
	pid_t			 pid = omnid->o_children[PROC_SIGNALD].c_pid;

	memcpy(&h, im->data, sizeof(h));
	/* A set a signald that died since left open is forgotten. */
	if (peerset.active && peerset.pid == pid) {
		child_insane(iev, "peer set begun twice");
		return;
	}
	peerset_discard();
	if (iface_find(h.ifid) == NULL) {
		log_warnx("signald: peer set for unknown interface %u",
		    h.ifid);
		return;
	}
	if (h.count > OMNI_MAX_PEERS) {
		log_warnx("signald: peer set of %u peers, more than %d, "
		    "refused", h.count, OMNI_MAX_PEERS);
		return;
	}
	peerset.active = 1;
	peerset.ifid = h.ifid;
	peerset.count = h.count;
	peerset.pid = pid;
	peerset.wggen = wgctld_gen;
	child_send(PROC_WGCTLD, IMSG_PEERS_BEGIN, 0, -1, &h, sizeof(h));
}

static int
prefix_valid(const struct omni_prefix *p)
{
	return (p->af == AF_INET && p->plen <= 32) ||
	    (p->af == AF_INET6 && p->plen <= 128);
}

static int
addr_valid(const struct omni_addr *a)
{
	return (a->sa.sa_family == AF_INET || a->sa.sa_family == AF_INET6) &&
	    omni_addr_port(a) != 0;
}

static void
from_signald_peer(struct imsgev *iev, struct imsg *im)
{
	struct omni_peer	 p;

	memcpy(&p, im->data, sizeof(p));
	if (!peerset.active || p.ifid != peerset.ifid)
		return;		/* part of a set we refused */
	if (!prefix_valid(&p.vip) || !addr_valid(&p.endpoint)) {
		child_insane(iev, "peer with invalid address");
		return;
	}
	if (peerset.seen + 1 > peerset.count) {
		child_insane(iev, "more peers than announced");
		return;
	}
	if (peerset.seen == peerset.cap) {
		struct omni_peer	*n;
		uint32_t		 cap;

		/* seen < count <= OMNI_MAX_PEERS: bounded */
		cap = peerset.cap ? peerset.cap * 2 : 64;
		if (cap > peerset.count)
			cap = peerset.count;
		if ((n = reallocarray(peerset.peers, cap, sizeof(*n))) ==
		    NULL) {
			/* no END follows: wgctld never applies the set */
			log_warn("peer set");
			peerset_discard();
			return;
		}
		peerset.peers = n;
		peerset.cap = cap;
	}
	peerset.peers[peerset.seen++] = p;
	if (peerset.wggen == wgctld_gen)
		child_send(PROC_WGCTLD, IMSG_PEERS_PEER, 0, -1, &p, sizeof(p));
}

static void
from_signald_peers_end(struct imsgev *iev, struct imsg *im)
{
	struct peer_set_hdr	 h;
	struct iface		*ifp;

	memcpy(&h, im->data, sizeof(h));
	if (!peerset.active)
		return;
	if (h.ifid != peerset.ifid || h.count != peerset.seen) {
		child_insane(iev, "peer set ended inconsistently");
		return;
	}
	peerset.active = 0;
	if (peerset.seen != peerset.count ||
	    (ifp = iface_find(h.ifid)) == NULL) {
		/*
		 * Fewer peers than announced (wgctld ignores the set too),
		 * or a reload removed the interface meanwhile: not kept.
		 */
		peerset_discard();
		if (peerset.wggen == wgctld_gen)
			child_send(PROC_WGCTLD, IMSG_PEERS_END, 0, -1, &h,
			    sizeof(h));
		return;
	}
	peerset_keep(ifp);
	log_debug("%s: peer set of %u peers from signald kept",
	    ifp->if_conf.name, ifp->if_nset);
	if (peerset.wggen == wgctld_gen)
		child_send(PROC_WGCTLD, IMSG_PEERS_END, 0, -1, &h, sizeof(h));
	else {
		/* wgctld restarted during the set: all of it, at once */
		log_debug("wgctld: sending %u peers of interface %s, a set "
		    "begun before it started", ifp->if_nset,
		    ifp->if_conf.name);
		peerset_send(ifp);
	}
}

/*
 * A STUN server told signald an interface's reflexive address: keep
 * the latest per interface.  wgctld has no use for it yet; omnictl
 * will show it (then it goes on to wgctld from here).
 */
static void
from_signald_reflexive(struct imsgev *iev, struct imsg *im)
{
	struct sig_reflexive	 r;
	struct iface		*ifp;
	char			 sbuf[OMNI_ADDRSTRLEN], mbuf[OMNI_ADDRSTRLEN];
	int			 i, changed;

	memcpy(&r, im->data, sizeof(r));
	if ((ifp = iface_find(r.ifid)) == NULL) {
		log_debug("signald: reflexive address for unknown interface "
		    "%u", r.ifid);
		return;
	}
	for (i = 0; i < ifp->if_conf.nstun; i++)
		if (memcmp(&ifp->if_conf.stun[i], &r.server,
		    sizeof(r.server)) == 0)
			break;
	if (i == ifp->if_conf.nstun) {
		/* a reload may have removed the server meanwhile */
		log_debug("%s: reflexive address from a server not "
		    "configured, ignored", ifp->if_conf.name);
		return;
	}
	if (!addr_valid(&r.mapped) || r.time <= 0) {
		log_warnx("signald: invalid reflexive address for %s",
		    ifp->if_conf.name);
		return;
	}
	changed = ifp->if_reflexive.time == 0 ||
	    memcmp(&ifp->if_reflexive.mapped, &r.mapped, sizeof(r.mapped)) !=
	    0;
	ifp->if_reflexive = r;
	omni_addr_str(&r.server, sbuf, sizeof(sbuf));
	omni_addr_str(&r.mapped, mbuf, sizeof(mbuf));
	if (changed)
		log_info("%s: reflexive address %s (STUN server %s)",
		    ifp->if_conf.name, mbuf, sbuf);
	else
		log_debug("%s: reflexive address still %s (STUN server %s)",
		    ifp->if_conf.name, mbuf, sbuf);
}

/*
 * signald's view of one nucleus, for omnictl show nucleus / status:
 * checked, then passed on to wgctld, which keeps the latest of each.
 */
static void
from_signald_status(struct imsgev *iev, struct imsg *im)
{
	struct sig_status	 ss;

	memcpy(&ss, im->data, sizeof(ss));
	if (!addr_valid(&ss.addr) || (ss.registered != 0 &&
	    ss.registered != 1) || ss.rtt_us < -1 || ss.last_answer < 0) {
		child_insane(iev, "invalid signaling status");
		return;
	}
	if (ss.ifid != 0 && iface_find(ss.ifid) == NULL)
		return;		/* an interface a reload just removed */
	child_send(PROC_WGCTLD, IMSG_SIG_STATUS, 0, -1, &ss, sizeof(ss));
}

/* Samples of every process go to metricsd tagged with their origin. */
static void
from_child_metric(struct imsgev *iev, struct imsg *im)
{
	child_send(PROC_METRICSD, im->hdr.type, iev->peer, -1, im->data,
	    im->hdr.len);
}

/*
 * A WireGuard change from wgctld.  wgctld parses what the network
 * said, so the parent trusts none of it: the interface must exist,
 * the key must not be ours, the allowed IP must be a single address
 * inside the interface's own prefix.
 */
static int
wg_req_check(const struct wg_peer_req *r, struct iface **ifpp, int set)
{
	struct iface		*ifp;
	const struct omni_prefix *own;
	static const uint8_t	 zero[OMNI_KEYLEN];
	size_t			 full;

	if ((ifp = iface_find(r->ifid)) == NULL) {
		log_warnx("wgctld: unknown interface %u", r->ifid);
		return -1;
	}
	if (memcmp(r->pubkey, zero, OMNI_KEYLEN) == 0 ||
	    memcmp(r->pubkey, ifp->if_pub, OMNI_KEYLEN) == 0) {
		log_warnx("wgctld: refusing peer key");
		return -1;
	}
	*ifpp = ifp;
	if (!set)
		return 0;
	own = &ifp->if_conf.address;
	if (r->allowed.af != own->af ||
	    r->allowed.plen != (own->af == AF_INET ? 32 : 128)) {
		log_warnx("%s: refusing peer: allowed IP is not a host "
		    "address of the interface's family", ifp->if_conf.name);
		return -1;
	}
	/* Inside our prefix: compare the first plen bits. */
	full = own->plen / 8;
	if (memcmp(r->allowed.addr, own->addr, full) != 0 ||
	    (own->plen % 8 && ((r->allowed.addr[full] ^ own->addr[full]) &
	    (0xff << (8 - own->plen % 8)) & 0xff))) {
		char	 buf[OMNI_PREFIXSTRLEN];

		log_warnx("%s: refusing peer %s outside %s", ifp->if_conf.name,
		    omni_prefix_str(&r->allowed, buf, sizeof(buf)),
		    omni_prefix_str(own, (char[OMNI_PREFIXSTRLEN]){ 0 },
		    OMNI_PREFIXSTRLEN));
		return -1;
	}
	if (memcmp(r->allowed.addr, own->addr, own->af == AF_INET ? 4 :
	    16) == 0) {
		log_warnx("%s: refusing peer with our own address",
		    ifp->if_conf.name);
		return -1;
	}
	if (r->endpoint.sa.sa_family != AF_UNSPEC &&
	    !addr_valid(&r->endpoint)) {
		log_warnx("%s: refusing peer endpoint", ifp->if_conf.name);
		return -1;
	}
	if (r->keepalive > 3600) {
		log_warnx("%s: refusing keepalive %u", ifp->if_conf.name,
		    r->keepalive);
		return -1;
	}
	return 0;
}

static struct applied_peer *
applied_find(struct iface *ifp, const uint8_t *pubkey)
{
	struct applied_peer	*ap;

	TAILQ_FOREACH(ap, &ifp->if_peers, ap_entry)
		if (memcmp(ap->ap_req.pubkey, pubkey, OMNI_KEYLEN) == 0)
			return ap;
	return NULL;
}

static void
from_wgctld_peer_set(struct imsgev *iev, struct imsg *im)
{
	struct wg_peer_req	 r;
	struct iface		*ifp;
	struct applied_peer	*ap;
	char			 err[OMNI_MSGSIZ], vip[OMNI_PREFIXSTRLEN];
	char			 ep[OMNI_ADDRSTRLEN];

	memcpy(&r, im->data, sizeof(r));
	if (wg_req_check(&r, &ifp, 1) == -1)
		return;
	if ((ap = applied_find(ifp, r.pubkey)) == NULL) {
		/*
		 * wgctld is unprivileged: whatever it asks, the parent
		 * keeps no more peers than a nucleus can introduce.
		 */
		if (ifp->if_npeers >= OMNI_MAX_PEERS) {
			log_warnx("%s: wgctld asked for more than %d peers, "
			    "refused", ifp->if_conf.name, OMNI_MAX_PEERS);
			return;
		}
		if ((ap = calloc(1, sizeof(*ap))) == NULL) {
			log_warn("peer");
			return;
		}
		TAILQ_INSERT_TAIL(&ifp->if_peers, ap, ap_entry);
		ifp->if_npeers++;
	}
	ap->ap_req = r;
	if (!ifp->if_up)
		return;		/* applied when the device is back */
	if (iface_apply_peer(ifp, &r, err, sizeof(err)) == -1) {
		log_warnx("%s: %s", ifp->if_conf.name, err);
		return;
	}
	log_info("%s: peer %s at %s", ifp->if_conf.name,
	    omni_prefix_str(&r.allowed, vip, sizeof(vip)),
	    omni_addr_str(&r.endpoint, ep, sizeof(ep)));
}

static void
from_wgctld_peer_del(struct imsgev *iev, struct imsg *im)
{
	struct wg_peer_req	 r;
	struct iface		*ifp;
	struct applied_peer	*ap;
	char			 err[OMNI_MSGSIZ], vip[OMNI_PREFIXSTRLEN];

	memcpy(&r, im->data, sizeof(r));
	if (wg_req_check(&r, &ifp, 0) == -1)
		return;
	if ((ap = applied_find(ifp, r.pubkey)) == NULL)
		return;
	log_info("%s: peer %s removed", ifp->if_conf.name,
	    omni_prefix_str(&ap->ap_req.allowed, vip, sizeof(vip)));
	TAILQ_REMOVE(&ifp->if_peers, ap, ap_entry);
	ifp->if_npeers--;
	free(ap);
	if (ifp->if_up && wg_del_peer(&ifp->if_dev, r.pubkey, err,
	    sizeof(err)) == -1)
		log_warnx("%s: %s", ifp->if_conf.name, err);
}

struct stats_ctx {
	uint32_t	 reqid;
	uint32_t	 ifid;
	uint32_t	 count;
};

static int
stats_peer(const struct wg_peer_stats *ps, void *arg)
{
	struct stats_ctx	*sc = arg;
	struct wg_peer_stats	 s = *ps;

	s.ifid = sc->ifid;
	sc->count++;
	return child_send(PROC_WGCTLD, IMSG_WG_STATS_PEER, sc->reqid, -1, &s,
	    sizeof(s));
}

static void
from_wgctld_stats(struct imsgev *iev, struct imsg *im)
{
	struct wg_stats_req	 req;
	struct stats_ctx	 sc;
	struct iface		*ifp;
	char			 err[OMNI_MSGSIZ];

	memcpy(&req, im->data, sizeof(req));
	memset(&sc, 0, sizeof(sc));
	sc.reqid = im->hdr.peerid;
	sc.ifid = req.ifid;
	if ((ifp = iface_find(req.ifid)) != NULL && ifp->if_up &&
	    wg_get_peers(&ifp->if_dev, stats_peer, &sc, err,
	    sizeof(err)) == -1)
		log_warnx("%s: %s", ifp->if_conf.name, err);
	req.count = sc.count;
	child_send(PROC_WGCTLD, IMSG_WG_STATS_END, sc.reqid, -1, &req,
	    sizeof(req));
}

static int	parent_reload(char *, size_t);

/* From the file, or from the quick-start memfd. */
static int
omnid_config_load(struct omni_conf *conf, char *err, size_t errlen)
{
	if (omnid->o_conffd != -1)
		return config_load_fd("command line", omnid->o_conffd,
		    omnid->o_self, omnid->o_debug, omnid->o_verbose, conf, err,
		    errlen);
	return config_load(omnid->o_conffile, omnid->o_self, omnid->o_debug,
	    omnid->o_verbose, conf, err, errlen);
}

static void
from_wgctld_reload(struct imsgev *iev, struct imsg *im)
{
	struct ctl_result	 res;

	memset(&res, 0, sizeof(res));
	res.ok = parent_reload(res.text, sizeof(res.text)) == 0;
	if (res.ok)
		strlcpy(res.text, "reloaded", sizeof(res.text));
	child_send(PROC_WGCTLD, IMSG_CTL_RESULT, im->hdr.peerid, -1, &res,
	    sizeof(res));
}

static void
from_wgctld_verbose(struct imsgev *iev, struct imsg *im)
{
	int	 v;

	memcpy(&v, im->data, sizeof(v));
	if (v < 0 || v > 3) {
		log_warnx("wgctld: verbosity %d out of range", v);
		return;
	}
	omnid->o_verbose = v;
	log_setverbose(v);
	child_send(PROC_SIGNALD, IMSG_CTL_LOG_VERBOSE, 0, -1, &v, sizeof(v));
	child_send(PROC_WGCTLD, IMSG_CTL_LOG_VERBOSE, 0, -1, &v, sizeof(v));
	child_send(PROC_METRICSD, IMSG_CTL_LOG_VERBOSE, 0, -1, &v,
	    sizeof(v));
	log_info("log verbosity set to %d", v);
}

/*
 * issue 7: how signald reaches a peer, for omnictl show peers.  Only
 * shown, never applied, but wgctld gets nothing the parent did not
 * check: a malformed one is counted and dropped, signald lives on.
 */
static void
from_signald_path(struct imsgev *iev, struct imsg *im)
{
	struct peer_path	 pp;
	struct iface		*ifp;
	static const uint8_t	 zero[OMNI_KEYLEN];
	const char		*why = NULL;
	uint64_t		 n;

	memcpy(&pp, im->data, sizeof(pp));
	if ((ifp = iface_find(pp.ifid)) == NULL) {
		/* ids are never reused: a higher one was never ours */
		if (pp.ifid == 0 || pp.ifid > omnid->o_next_ifid)
			why = "unknown interface";
		else
			return;		/* an interface a reload removed */
	} else if (memcmp(pp.pubkey, zero, OMNI_KEYLEN) == 0 ||
	    memcmp(pp.pubkey, ifp->if_pub, OMNI_KEYLEN) == 0)
		why = "peer key";
	else
		why = omni_peer_path_check(&pp);
	if (why != NULL) {
		/* logged at the 1st, 2nd, 4th, 8th...: no log flood */
		n = ++omnid->o_paths_invalid;
		if ((n & (n - 1)) == 0)
			log_warnx("signald: invalid peer path (%s) dropped, "
			    "%llu so far", why,
			    (unsigned long long)omnid->o_paths_invalid);
		return;
	}
	child_send(PROC_WGCTLD, IMSG_PEER_PATH, 0, -1, &pp, sizeof(pp));
}

#define FROM(p)	PROC_BIT(p)
const struct proc_dispatch parent_from_signald[] = {
	{ IMSG_PEERS_BEGIN, FROM(PROC_SIGNALD), sizeof(struct peer_set_hdr),
	    0, from_signald_peers_begin },
	{ IMSG_PEERS_PEER, FROM(PROC_SIGNALD), sizeof(struct omni_peer), 0,
	    from_signald_peer },
	{ IMSG_PEERS_END, FROM(PROC_SIGNALD), sizeof(struct peer_set_hdr),
	    0, from_signald_peers_end },
	{ IMSG_METRIC, FROM(PROC_SIGNALD), sizeof(struct omni_metric), 0,
	    from_child_metric },
	{ IMSG_METRIC_END, FROM(PROC_SIGNALD), 0, 0, from_child_metric },
	{ IMSG_SIG_STATUS, FROM(PROC_SIGNALD), sizeof(struct sig_status), 0,
	    from_signald_status },
	{ IMSG_SIG_REFLEXIVE, FROM(PROC_SIGNALD),
	    sizeof(struct sig_reflexive), 0, from_signald_reflexive },
	{ IMSG_DH_REQ, FROM(PROC_SIGNALD), sizeof(struct sig_dh), 0,
	    from_signald_dh },
	{ IMSG_PEER_PATH, FROM(PROC_SIGNALD), sizeof(struct peer_path), 0,
	    from_signald_path },
	{ 0, 0, 0, 0, NULL }
};

const struct proc_dispatch parent_from_wgctld[] = {
	{ IMSG_WG_PEER_SET, FROM(PROC_WGCTLD), sizeof(struct wg_peer_req),
	    0, from_wgctld_peer_set },
	{ IMSG_WG_PEER_DEL, FROM(PROC_WGCTLD), sizeof(struct wg_peer_req),
	    0, from_wgctld_peer_del },
	{ IMSG_WG_STATS_REQ, FROM(PROC_WGCTLD), sizeof(struct wg_stats_req),
	    0, from_wgctld_stats },
	{ IMSG_CTL_RELOAD, FROM(PROC_WGCTLD), 0, 0, from_wgctld_reload },
	{ IMSG_CTL_LOG_VERBOSE, FROM(PROC_WGCTLD), sizeof(int), 0,
	    from_wgctld_verbose },
	{ IMSG_METRIC, FROM(PROC_WGCTLD), sizeof(struct omni_metric), 0,
	    from_child_metric },
	{ IMSG_METRIC_END, FROM(PROC_WGCTLD), 0, 0, from_child_metric },
	{ 0, 0, 0, 0, NULL }
};

const struct proc_dispatch parent_from_metricsd[] = {
	{ 0, 0, 0, 0, NULL }
};

/* --- the parent's own metrics ------------------------------------------- */

/*
 * What wgctld cannot know by itself, for omnictl show status: which
 * children run, which interfaces are up, how reloads went.
 */
static void
parent_status_send(void)
{
	struct parent_status	 ps;
	struct child		*c;
	struct iface		*ifp;
	int			 p;

	memset(&ps, 0, sizeof(ps));
	ps.started = omnid->o_started;
	for (p = 0; p < PROC_MAX; p++) {
		c = &omnid->o_children[p];
		if (c->c_name == NULL)
			continue;
		if (c->c_running)
			ps.running |= PROC_BIT(p);
		if (c->c_wanted)
			ps.wanted |= PROC_BIT(p);
		ps.restarts += c->c_restarts;
	}
	ps.reloads_ok = omnid->o_reload_ok;
	ps.reloads_failed = omnid->o_reload_failed;
	ps.nucleus = omnid->o_nucleus_sock != -1;
	TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry) {
		if (ps.niface == OMNI_MAX_IFACES)
			break;
		ps.ifid[ps.niface] = ifp->if_id;
		ps.up[ps.niface] = ifp->if_up;
		ps.niface++;
	}
	child_send(PROC_WGCTLD, IMSG_PARENT_STATUS, 0, -1, &ps, sizeof(ps));
}

static void
parent_metrics(int fd, short ev, void *arg)
{
	struct child	*m = child_get(PROC_METRICSD);
	struct child	*c;
	struct iface	*ifp;
	int		 p, n = 0;

	if (m != NULL && m->c_running) {
		struct imsgev	*iev = &m->c_iev;
		struct omni_metric mt;

		/* Our own samples go straight to metricsd. */
#define SAMPLE(nm, val, ...) do {					\
	memset(&mt, 0, sizeof(mt));					\
	strlcpy(mt.name, nm, sizeof(mt.name));				\
	snprintf(mt.labels, sizeof(mt.labels), __VA_ARGS__);		\
	mt.value = (val);						\
	imsgev_compose(iev, IMSG_METRIC, PROC_PARENT, -1, &mt,		\
	    sizeof(mt));						\
} while (0)
		SAMPLE("omni_build_info", 1, "version=\"%s\"", OMNI_VERSION);
		for (p = 0; p < PROC_MAX; p++) {
			c = &omnid->o_children[p];
			if (c->c_name == NULL)
				continue;
			SAMPLE("omni_child_restarts_total", c->c_restarts,
			    "child=\"%s\"", c->c_name);
		}
		SAMPLE("omni_config_reloads_total", omnid->o_reload_ok,
		    "result=\"ok\"");
		SAMPLE("omni_config_reloads_total", omnid->o_reload_failed,
		    "result=\"failed\"");
		TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry)
			n++;
		SAMPLE("omni_interfaces", n, "%s", "");
		SAMPLE("omni_local_addrs_updates_total", netmon_updates(),
		    "%s", "");
		SAMPLE("omni_netmon_dumps_total", netmon_dumps(), "%s", "");
		SAMPLE("omni_peer_paths_invalid_total",
		    omnid->o_paths_invalid, "%s", "");
#undef SAMPLE
		imsgev_compose(iev, IMSG_METRIC_END, PROC_PARENT, -1, NULL, 0);
	}
	parent_status_send();
	proc_timer(&ev_metrics, PARENT_METRICS_SECS, 0);
}

/* --- configuration ------------------------------------------------------- */

/*
 * signald drops, and counts, what is over the rate limit; the kernel
 * should not drop first, unseen, while signald is busy.  So the
 * receive buffer holds about one second of datagrams at the rate limit,
 * a small datagram taking ~1 KiB of kernel memory (its truesize):
 * never below 4 MiB, never above 256 MiB.
 */
static void
nucleus_rcvbuf(int s, uint32_t rate)
{
	uint64_t	 want = (uint64_t)rate * 1024;
	int		 rcvbuf, got;
	socklen_t	 len = sizeof(got);
	const char	*how = "SO_RCVBUFFORCE";

	if (want < NUCLEUS_RCVBUF_MIN)
		want = NUCLEUS_RCVBUF_MIN;
	if (want > NUCLEUS_RCVBUF_MAX)
		want = NUCLEUS_RCVBUF_MAX;
	rcvbuf = (int)want;
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1) {
		/* without CAP_NET_ADMIN: as much as net.core.rmem_max */
		how = "SO_RCVBUF";
		if (setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf)) == -1)
			log_warn("nucleus: SO_RCVBUF %d", rcvbuf);
	}
	if (getsockopt(s, SOL_SOCKET, SO_RCVBUF, &got, &len) == -1)
		got = -1;
	log_debug("nucleus: receive buffer %d bytes for %u datagrams/s "
	    "(%s), kernel reports %d", rcvbuf, rate, how, got);
}

static int
parent_nucleus_apply(const struct omni_conf *nc)
{
	char	 err[OMNI_MSGSIZ];
	int	 s;

	if (!nc->has_nucleus) {
		if (omnid->o_nucleus_sock != -1) {
			close(omnid->o_nucleus_sock);
			omnid->o_nucleus_sock = -1;
			log_info("nucleus: stopped serving");
		}
		return 0;
	}
	if (omnid->o_nucleus_sock == -1 || memcmp(&omnid->o_nucleus_addr,
	    &nc->nucleus.listen, sizeof(nc->nucleus.listen)) != 0) {
		if (omnid->o_nucleus_sock != -1) {
			close(omnid->o_nucleus_sock);
			omnid->o_nucleus_sock = -1;
		}
		if ((s = udp_socket(&nc->nucleus.listen,
		    nc->nucleus.listen.sa.sa_family)) == -1)
			return -1;
		/* room for bursts of heartbeats from thousands of edges */
		nucleus_rcvbuf(s, nc->nucleus.rate_limit);
		omnid->o_nucleus_sock = s;
		omnid->o_nucleus_addr = nc->nucleus.listen;
		omnid->o_nucleus_rate = nc->nucleus.rate_limit;
	} else if (omnid->o_nucleus_rate != nc->nucleus.rate_limit) {
		/* the same socket, resized for the new limit */
		nucleus_rcvbuf(omnid->o_nucleus_sock,
		    nc->nucleus.rate_limit);
		omnid->o_nucleus_rate = nc->nucleus.rate_limit;
	}
	keys_derive_root(nc->nucleus.secret, strlen(nc->nucleus.secret),
	    omnid->o_nucleus_root);
	/* the nucleus's own X25519 key (signald/PROTOCOL.md, "Keys") */
	if (identity_load(nc->nucleus.identity, 1, nucleus_priv, nucleus_pub,
	    err, sizeof(err)) == -1) {
		log_warnx("nucleus identity: %s", err);
		return -1;
	}
	return 0;
}

static int
parent_metrics_apply(const struct omni_conf *nc)
{
	const struct conf_global *g = &nc->global;

	if (!g->metrics_enabled || memcmp(&omnid->o_metrics_addr,
	    &g->metrics, sizeof(g->metrics)) != 0) {
		if (omnid->o_metrics_sock != -1)
			close(omnid->o_metrics_sock);
		omnid->o_metrics_sock = -1;
		memset(&omnid->o_metrics_addr, 0,
		    sizeof(omnid->o_metrics_addr));
	}
	if (g->metrics_enabled && omnid->o_metrics_sock == -1) {
		if ((omnid->o_metrics_sock = metrics_socket(&g->metrics)) == -1)
			return -1;
		omnid->o_metrics_addr = g->metrics;
	}
	return 0;
}

/*
 * An interface whose name, identity and backend stay is changed in
 * place, so its tunnels and its id (which the children know it by)
 * survive the reload.  Returns -1 when only a rebuild will do.
 */
static int
iface_update(struct iface *ifp, const struct conf_iface *nci)
{
	struct conf_iface	*oci = &ifp->if_conf;
	struct applied_peer	*ap;
	char			 err[OMNI_MSGSIZ];
	int			 rekey;

	if (strcmp(oci->identity, nci->identity) != 0 ||
	    oci->backend != nci->backend || !ifp->if_up)
		return -1;
	if (oci->listen_port != nci->listen_port &&
	    wg_set_device(&ifp->if_dev, ifp->if_priv, nci->listen_port, err,
	    sizeof(err)) == -1) {
		log_warnx("%s: %s", nci->name, err);
		return -1;
	}
	if (!omni_prefix_eq(&oci->address, &nci->address) &&
	    (rtnl_addr_add(ifp->if_dev.wd_ifindex, &nci->address) == -1 ||
	    rtnl_addr_del(ifp->if_dev.wd_ifindex, &oci->address) == -1))
		return -1;
	if (oci->mtu != nci->mtu &&
	    rtnl_link_set(ifp->if_dev.wd_ifindex, 1, nci->mtu) == -1)
		return -1;
	rekey = strcmp(oci->secret, nci->secret) != 0 ||
	    strcmp(oci->cluster, nci->cluster) != 0;
	ifp->if_conf = *nci;
	if (iface_sockets(ifp) == -1)
		return -1;
	/* a new port needs a new filter; the reload re-sends both */
	iface_probe_open(ifp);
	if (rekey) {
		/* New cluster keys: every pair's preshared key changes. */
		iface_keys(ifp);
		TAILQ_FOREACH(ap, &ifp->if_peers, ap_entry)
			if (iface_apply_peer(ifp, &ap->ap_req, err,
			    sizeof(err)) == -1)
				log_warnx("%s: %s", nci->name, err);
	}
	log_info("%s: configuration updated in place", nci->name);
	return 0;
}

/*
 * Interfaces: removed ones go, new ones come, changed ones are updated
 * in place where possible and rebuilt otherwise.  Unchanged ones (the
 * common case) are left alone, so their tunnels carry on.
 */
static void
parent_ifaces_apply(const struct omni_conf *nc)
{
	struct iface		*ifp, *next;
	const struct conf_iface	*nci;
	char			 err[OMNI_MSGSIZ];
	int			 i;

	TAILQ_FOREACH_SAFE(ifp, &omnid->o_ifaces, if_entry, next) {
		for (nci = NULL, i = 0; i < nc->niface; i++)
			if (strcmp(nc->ifaces[i].name, ifp->if_conf.name) == 0)
				nci = &nc->ifaces[i];
		if (nci != NULL && memcmp(nci, &ifp->if_conf,
		    sizeof(*nci)) == 0)
			continue;
		if (nci != NULL && iface_update(ifp, nci) == 0)
			continue;
		iface_destroy(ifp);
	}
	for (i = 0; i < nc->niface; i++) {
		if (iface_find_name(nc->ifaces[i].name) != NULL)
			continue;
		if (iface_create(&nc->ifaces[i], err, sizeof(err)) == NULL)
			log_warnx("%s: %s", nc->ifaces[i].name, err);
	}
}

/*
 * The control sockets: read-write (0660, for root) and read-only
 * (0666, "show" only, for monitoring).  Their paths are fixed for the
 * daemon's life; a reload that changes them says so.
 */
static int
parent_ctl_apply(void)
{
	const struct conf_global *g = &omnid->o_conf.global;
	const char	*path = omnid->o_ctlpath_set ? omnid->o_ctlpath :
			    g->control;
	char		 ro[OMNI_PATHSIZ], dflt[OMNI_PATHSIZ];

	/* -s moves a defaulted read-only socket along with the other. */
	if (omnid->o_ctlpath_set && config_ctl_ro_path(g->control, "", dflt,
	    sizeof(dflt)) == 0 && strcmp(dflt, g->control_ro) == 0) {
		if (config_ctl_ro_path(path, "", ro, sizeof(ro)) == -1) {
			log_warnx("no read-only control socket: the path "
			    "derived from %s is too long", path);
			ro[0] = '\0';
		}
	} else if (config_ctl_ro_path(path, g->control_ro, ro,
	    sizeof(ro)) == -1)
		ro[0] = '\0';
	if (omnid->o_ctl_sock != -1) {
		if ((!omnid->o_ctlpath_set &&
		    strcmp(omnid->o_ctlpath, g->control) != 0) ||
		    strcmp(omnid->o_ctlropath, ro) != 0)
			log_warnx("control socket paths change only when "
			    "omnid restarts");
		return 0;
	}
	strlcpy(omnid->o_ctlpath, path, sizeof(omnid->o_ctlpath));
	if ((omnid->o_ctl_sock = control_socket(path, 0660)) == -1)
		return -1;
	strlcpy(omnid->o_ctlropath, ro, sizeof(omnid->o_ctlropath));
	if (ro[0] != '\0' && strcmp(ro, path) != 0 &&
	    (omnid->o_ctl_ro_sock = control_socket(ro, 0666)) == -1)
		return -1;
	return 0;
}

static int
parent_reload(char *err, size_t errlen)
{
	struct omni_conf	*nc;
	struct child		*c;
	int			 p;

	if ((nc = calloc(1, sizeof(*nc))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (omnid_config_load(nc, err, errlen) == -1) {
		log_warnx("reload failed, keeping the running configuration: "
		    "%s", err);
		omnid->o_reload_failed++;
		config_clear(nc);
		free(nc);
		return -1;
	}
	if (strcmp(nc->global.user, omnid->o_conf.global.user) != 0 ||
	    strcmp(nc->global.chroot, omnid->o_conf.global.chroot) != 0)
		log_warnx("user and chroot changes take effect when omnid "
		    "restarts");
	/* Children keep running as they were started. */
	nc->global.uid = omnid->o_conf.global.uid;
	nc->global.gid = omnid->o_conf.global.gid;
	strlcpy(nc->global.user, omnid->o_conf.global.user,
	    sizeof(nc->global.user));
	strlcpy(nc->global.chroot, omnid->o_conf.global.chroot,
	    sizeof(nc->global.chroot));
	if (parent_nucleus_apply(nc) == -1 || parent_metrics_apply(nc) == -1)
		log_warnx("reload: some listeners could not be opened");
	parent_ifaces_apply(nc);
	config_clear(&omnid->o_conf);
	omnid->o_conf = *nc;
	sodium_memzero(nc, sizeof(*nc));
	free(nc);
	parent_ctl_apply();

	/* Stream the new configuration; children swap it on END. */
	parent_reloading = 1;
	for (p = 0; p < PROC_MAX; p++) {
		c = &omnid->o_children[p];
		if (c->c_name != NULL && c->c_running)
			c->c_init(c);
	}
	parent_reloading = 0;
	if (omnid->o_conf.global.metrics_enabled)
		child_start(child_get(PROC_METRICSD));
	omnid->o_reload_ok++;
	log_info("configuration reloaded");
	return 0;
}

/* --- signals ------------------------------------------------------------- */

static void
parent_shutdown(void)
{
	struct iface	*ifp;

	omnid->o_exiting = 1;
	children_stop();
	while ((ifp = TAILQ_FIRST(&omnid->o_ifaces)) != NULL)
		iface_destroy(ifp);
	peerset_discard();
	if (omnid->o_ctl_sock != -1)
		unlink(omnid->o_ctlpath);
	if (omnid->o_ctl_ro_sock != -1)
		unlink(omnid->o_ctlropath);
	config_clear(&omnid->o_conf);
	log_info("terminating");
	exit(0);
}

static void
parent_sig(int sig, short ev, void *arg)
{
	char	 err[OMNI_MSGSIZ];
	pid_t	 pid;
	int	 status;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		parent_shutdown();
		break;
	case SIGHUP:
		log_info("SIGHUP: reloading %s", omnid->o_conffile);
		parent_reload(err, sizeof(err));
		break;
	case SIGCHLD:
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (child_reaped(pid, status))
				continue;
			if (iface_reaped(pid, status))
				continue;
			log_debug("reaped unknown pid %d", (int)pid);
		}
		break;
	}
}

/* --- main ---------------------------------------------------------------- */

static int
omnid_init_identity(const char *path)
{
	uint8_t	 priv[OMNI_KEYLEN], pub[OMNI_KEYLEN];
	char	 b64[OMNI_KEY_B64LEN], err[OMNI_MSGSIZ];

	if (identity_load(path, 1, priv, pub, err, sizeof(err)) == -1) {
		fprintf(stderr, "omnid: %s\n", err);
		return 1;
	}
	sodium_memzero(priv, sizeof(priv));
	omni_key_to_base64(pub, b64, sizeof(b64));
	printf("%s\n", b64);
	return 0;
}

static void
omnid_self(char *buf, size_t len)
{
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", buf, len - 1)) == -1)
		fatal("readlink /proc/self/exe");
	buf[n] = '\0';
}

int
main(int argc, char **argv)
{
	static struct omnid	 od;
	static struct event	 ev_sig[5];
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	static const struct option longopts[] = {
		{ "init",	no_argument,		NULL,	'I' },
		{ "identity",	required_argument,	NULL,	'i' },
		{ "mode",	required_argument,	NULL,	'M' },
		{ "port",	required_argument,	NULL,	'p' },
		{ "secret",	required_argument,	NULL,	'S' },
		{ "nucleus",	required_argument,	NULL,	'N' },
		{ "cluster",	required_argument,	NULL,	'C' },
		{ "vip",	required_argument,	NULL,	'A' },
		{ "interface",	required_argument,	NULL,	'F' },
		{ "cipher",	required_argument,	NULL,	'c' },
		{ NULL,		0,			NULL,	0 }
	};
	struct quickstart qs;
	char		 err[OMNI_MSGSIZ];
	const char	*identity = "/var/lib/omni/omni0.key";
	int		 ch, noaction = 0, init = 0, fileopt = 0, i;

	/* Re-executed as the config parser: nothing of the parent runs. */
	if (argc > 2 && strcmp(argv[1], "-P") == 0) {
		if (strcmp(argv[2], "config") == 0)
			parse_main(argc, argv);
		errx(1, "unknown process %s", argv[2]);
	}

	omnid = &od;
	memset(&qs, 0, sizeof(qs));
	od.o_conffd = -1;
	TAILQ_INIT(&od.o_ifaces);
	od.o_nucleus_sock = od.o_ctl_sock = od.o_metrics_sock = -1;
	od.o_ctl_ro_sock = -1;
	od.o_started = time(NULL);
	strlcpy(od.o_conffile, OMNI_CONF_FILE, sizeof(od.o_conffile));
	log_init(1, LOG_DAEMON);

	while ((ch = getopt_long(argc, argv, "df:ns:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			od.o_debug = 1;
			break;
		case 'f':
			if (strlcpy(od.o_conffile, optarg,
			    sizeof(od.o_conffile)) >= sizeof(od.o_conffile))
				errx(1, "config path too long");
			fileopt = 1;
			break;
		case 'n':
			noaction = 1;
			break;
		case 's':
			if (strlcpy(od.o_ctlpath, optarg,
			    sizeof(od.o_ctlpath)) >= sizeof(od.o_ctlpath))
				errx(1, "socket path too long");
			od.o_ctlpath_set = 1;
			break;
		case 'v':
			od.o_verbose++;
			break;
		case 'I':
			init = 1;
			break;
		case 'i':
			identity = optarg;
			qs.qs_identity = optarg;
			break;
		case 'M':
			qs.qs_used = 1;
			qs.qs_mode = optarg;
			break;
		case 'p':
			qs.qs_used = 1;
			qs.qs_port = optarg;
			break;
		case 'S':
			qs.qs_used = 1;
			qs.qs_secret = optarg;
			break;
		case 'N':
			qs.qs_used = 1;
			if (qs.qs_nnuclei == OMNI_MAX_NUCLEI)
				errx(1, "at most %d --nucleus", OMNI_MAX_NUCLEI);
			qs.qs_nuclei[qs.qs_nnuclei++] = optarg;
			break;
		case 'C':
			qs.qs_used = 1;
			qs.qs_cluster = optarg;
			break;
		case 'A':
			qs.qs_used = 1;
			qs.qs_vip = optarg;
			break;
		case 'F':
			qs.qs_used = 1;
			qs.qs_ifname = optarg;
			break;
		case 'c':
			qs.qs_used = 1;
			qs.qs_cipher = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (sodium_init() == -1)
		errx(1, "libsodium initialisation failed");
	if (init) {
		if (qs.qs_used)
			errx(1, "--init takes only --identity");
		return omnid_init_identity(identity);
	}
	if (qs.qs_used) {
		if (fileopt)
			errx(1, "-f and the quick-start flags exclude each "
			    "other");
		if ((od.o_conffd = quickstart_conf(&qs, err,
		    sizeof(err))) == -1)
			errx(1, "%s", err);
		strlcpy(od.o_conffile, "command line", sizeof(od.o_conffile));
	}
	if (geteuid() != 0 || caps_check() == -1)
		errx(1, "need root privileges (CAP_NET_ADMIN)");
	log_setverbose(od.o_verbose);
	omnid_self(od.o_self, sizeof(od.o_self));

	if (omnid_config_load(&od.o_conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "omnid: %s\n", err);
		return 1;
	}
	if (noaction) {
		config_print(stdout, &od.o_conf);
		fprintf(stderr, "configuration OK\n");
		config_clear(&od.o_conf);
		return 0;
	}
	if (od.o_conf.global.verbose > od.o_verbose)
		od.o_verbose = od.o_conf.global.verbose;
	log_setverbose(od.o_verbose);

	log_init(od.o_debug, LOG_DAEMON);
	log_procinit("parent");
	if (!od.o_debug && daemon(0, 0) == -1)
		fatal("daemon");
	caps_drop_parent();
	signal(SIGPIPE, SIG_IGN);
	event_init();
	wg_uapi_log_events();
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++) {
		signal_set(&ev_sig[i], sigs[i], parent_sig, NULL);
		signal_add(&ev_sig[i], NULL);
	}
	children_init();

	if (parent_ctl_apply() == -1)
		fatalx("cannot open the control socket %s", od.o_ctlpath);
	if (parent_nucleus_apply(&od.o_conf) == -1)
		fatalx("cannot open the nucleus socket");
	if (parent_metrics_apply(&od.o_conf) == -1)
		fatalx("cannot open the metrics listener");
	for (i = 0; i < od.o_conf.niface; i++)
		if (iface_create(&od.o_conf.ifaces[i], err,
		    sizeof(err)) == NULL)
			fatalx("%s", err);

	/* the underlay addresses are known before signald asks */
	netmon_init();
	child_start(child_get(PROC_WGCTLD));
	child_start(child_get(PROC_SIGNALD));
	if (od.o_conf.global.metrics_enabled)
		child_start(child_get(PROC_METRICSD));
	evtimer_set(&ev_metrics, parent_metrics, NULL);
	proc_timer(&ev_metrics, 1, 0);
	log_info("started (%s%s%d interface%s)",
	    od.o_conf.has_nucleus ? "nucleus, " : "",
	    "", od.o_conf.niface, od.o_conf.niface == 1 ? "" : "s");
	event_dispatch();
	fatalx("event loop ended");
}
