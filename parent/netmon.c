/*
 * The underlay watch (issue 7): which addresses of this host can be
 * host candidates, and when the host roams.
 *
 * A NETLINK_ROUTE socket of its own, in the parent's event loop,
 * listens to address, link and route changes.  The messages only say
 * "something changed": after a quiet NETMON_DEBOUNCE_MS (so a burst,
 * such as DHCP replacing an address and its routes, is one update)
 * the parent dumps links, addresses and default routes afresh and
 * compares the result with what it had.  Working from a dump, never
 * from the notifications, makes an overrun (ENOBUFS: the kernel
 * dropped notifications) harmless: it only asks for the same dump.
 *
 * A host with a routing daemon (a BGP full table: a million routes,
 * a few changes a second) must not cost a dump per route change: a
 * route notification arms the dump only for a route the dump would
 * keep (netmon_route_watched: a default route of the main table);
 * every other one, and only those, is dropped as it is read.  Address
 * and link notifications and overruns always arm it.  The dump asks
 * the kernel, per family, for the unicast routes of the main table
 * only (rtnl_dump_routes, strict checking, Linux >= 4.20), so that
 * the tables of other routing instances stay in the kernel; an older
 * kernel sends them all and netmon_route_cb filters them.  Each dump
 * is counted and, with -v, logged with what asked for it.
 *
 * Usable are addresses of global scope on links that are up, are not
 * loopback and are not one of omni's WireGuard interfaces, and, for
 * IPv6, neither tentative, deprecated nor failed duplicate address
 * detection.  When they or the default routes change, the generation
 * grows and every edge interface's list goes to signald
 * (IMSG_LOCAL_ADDRS, port = the interface's WireGuard port), which
 * gathers candidates again and probes anew.  The lists also go at
 * start and whenever signald (re)starts or the configuration is
 * reloaded.  From the kernel's notification to signald takes the
 * debounce and two dumps: well under the 2 s a roam may take.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "log.h"
#include "omnid.h"
#include "netmon.h"
#include "rtnl.h"

#define NETMON_DEBOUNCE_MS	50
#define NETMON_MAX_ADDRS	256	/* kept; OMNI_MAX_LOCAL are sent */
#define NETMON_MAX_LINKS	1024
#define NETMON_MAX_ROUTES	16
#define NETMON_RCVBUF		(1024 * 1024)
#define NETMON_BUFSIZE		32768

struct nm_addr {
	struct omni_addr	 na_addr;	/* port 0 */
	int			 na_ifindex;
	int			 na_temporary;	/* IPv6 privacy address */
};

struct nm_route {
	int			 nr_af;
	int			 nr_oif;
	uint8_t			 nr_gw[16];
};

struct nm_link {
	int			 nl_index;
	unsigned		 nl_flags;
	char			 nl_name[IFNAMSIZ];
};

struct nm_state {
	struct nm_addr		 addrs[NETMON_MAX_ADDRS];
	int			 naddrs;
	struct nm_route		 routes[NETMON_MAX_ROUTES];
	int			 nroutes;
	struct nm_link		 links[NETMON_MAX_LINKS];
	int			 nlinks;
	int			 overflow;
	int			 route_af;	/* being dumped; 0: any */
};

/* what asked for a dump */
#define NM_WHY_START	0x01
#define NM_WHY_LINK	0x02
#define NM_WHY_ADDR	0x04
#define NM_WHY_ROUTE	0x08
#define NM_WHY_OVERRUN	0x10
#define NM_WHY_RETRY	0x20

static struct {
	struct mnl_socket	*nl;
	struct event		 ev;
	struct event		 timer;
	struct nm_state		 cur;
	int			 valid;		/* cur holds a dump */
	uint32_t		 generation;
	uint64_t		 updates;	/* changes seen */
	uint64_t		 overruns;
	uint64_t		 dumps;		/* made, failed ones too */
	unsigned		 why;		/* NM_WHY_* since the last */
	int			 plain_routes;	/* filtered dumps failed */
	int			 warned;	/* of an overflow */
} nm;

static void	netmon_read(int, short, void *);
static void	netmon_timer(int, short, void *);

/* --- dumps -------------------------------------------------------------- */

static const struct nm_link *
netmon_link(const struct nm_state *s, int ifindex)
{
	int	 i;

	for (i = 0; i < s->nlinks; i++)
		if (s->links[i].nl_index == ifindex)
			return &s->links[i];
	return NULL;
}

static const char *
netmon_ifname(const struct nm_state *s, int ifindex)
{
	const struct nm_link	*l = netmon_link(s, ifindex);

	return l != NULL ? l->nl_name : "?";
}

/* One of omni's own WireGuard interfaces: never an underlay. */
static int
netmon_omni_link(const struct nm_state *s, int ifindex)
{
	const struct nm_link	*l = netmon_link(s, ifindex);
	struct iface		*ifp;

	TAILQ_FOREACH(ifp, &omnid->o_ifaces, if_entry) {
		if (ifp->if_dev.wd_ifindex > 0 &&
		    ifp->if_dev.wd_ifindex == ifindex)
			return 1;
		if (l != NULL && strcmp(l->nl_name, ifp->if_conf.name) == 0)
			return 1;
	}
	return 0;
}

static int
netmon_link_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nm_state		*s = arg;
	const struct ifinfomsg	*ifi;
	struct nlattr		*a;
	struct nm_link		*l;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	if (s->nlinks == NETMON_MAX_LINKS) {
		s->overflow = 1;
		return MNL_CB_OK;
	}
	ifi = mnl_nlmsg_get_payload(nlh);
	l = &s->links[s->nlinks++];
	memset(l, 0, sizeof(*l));
	l->nl_index = ifi->ifi_index;
	l->nl_flags = ifi->ifi_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
		if (mnl_attr_get_type(a) == IFLA_IFNAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			strlcpy(l->nl_name, mnl_attr_get_str(a),
			    sizeof(l->nl_name));
	return MNL_CB_OK;
}

static int
netmon_addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nm_state		*s = arg;
	const struct ifaddrmsg	*ifa;
	const struct nm_link	*l;
	struct nlattr		*a;
	const void		*local = NULL, *address = NULL, *p;
	uint32_t		 flags;
	struct nm_addr		*na;
	size_t			 alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family == AF_INET)
		alen = 4;
	else if (ifa->ifa_family == AF_INET6)
		alen = 16;
	else
		return MNL_CB_OK;
	flags = ifa->ifa_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		switch (mnl_attr_get_type(a)) {
		case IFA_LOCAL:
			if (mnl_attr_get_payload_len(a) == alen)
				local = mnl_attr_get_payload(a);
			break;
		case IFA_ADDRESS:
			if (mnl_attr_get_payload_len(a) == alen)
				address = mnl_attr_get_payload(a);
			break;
		case IFA_FLAGS:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				flags = mnl_attr_get_u32(a);
			break;
		}
	}
	/* IFA_LOCAL is ours on point-to-point links, IFA_ADDRESS the peer */
	if ((p = local != NULL ? local : address) == NULL)
		return MNL_CB_OK;
	if (ifa->ifa_scope != RT_SCOPE_UNIVERSE ||
	    (flags & (IFA_F_TENTATIVE | IFA_F_DEPRECATED | IFA_F_DADFAILED)))
		return MNL_CB_OK;
	l = netmon_link(s, ifa->ifa_index);
	if (l == NULL || !(l->nl_flags & IFF_UP) ||
	    (l->nl_flags & IFF_LOOPBACK) ||
	    netmon_omni_link(s, ifa->ifa_index))
		return MNL_CB_OK;
	if (s->naddrs == NETMON_MAX_ADDRS) {
		s->overflow = 1;
		return MNL_CB_OK;
	}
	na = &s->addrs[s->naddrs++];
	memset(na, 0, sizeof(*na));
	na->na_ifindex = ifa->ifa_index;
	na->na_temporary = (flags & IFA_F_TEMPORARY) != 0;
	if (ifa->ifa_family == AF_INET) {
		na->na_addr.sin.sin_family = AF_INET;
		memcpy(&na->na_addr.sin.sin_addr, p, 4);
	} else {
		na->na_addr.sin6.sin6_family = AF_INET6;
		memcpy(&na->na_addr.sin6.sin6_addr, p, 16);
	}
	return MNL_CB_OK;
}

/*
 * A route netmon may keep, of a notification (RTM_NEWROUTE or
 * RTM_DELROUTE) or of a dump: an IPv4 or IPv6 default route of the
 * main table (RTA_TABLE, else rtm_table).  A notification of any
 * other route cannot change what the dump keeps and is ignored.  The
 * dump also leaves out routes of a type other than unicast and those
 * through omni's own interfaces (netmon_route_cb); a notification is
 * not judged by them: a default route of another type may replace a
 * unicast one in a single notification (NLM_F_REPLACE), and the
 * interfaces are the dump's to know.
 */
static int
netmon_route_watched(const struct nlmsghdr *nlh)
{
	const struct rtmsg	*rtm;
	struct nlattr		*a;
	uint32_t		 table;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return 0;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_dst_len != 0 ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return 0;
	table = rtm->rtm_table;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
		if (mnl_attr_get_type(a) == RTA_TABLE &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			table = mnl_attr_get_u32(a);
	return table == RT_TABLE_MAIN;
}

/* Default routes of the main table: where the host's traffic leaves. */
static int
netmon_route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nm_state		*s = arg;
	const struct rtmsg	*rtm;
	struct nlattr		*a;
	struct nm_route		 r;
	size_t			 alen;

	if (nlh->nlmsg_type != RTM_NEWROUTE || !netmon_route_watched(nlh))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	/* a kernel that ignored the family asked for: once is enough */
	if (rtm->rtm_type != RTN_UNICAST ||
	    (s->route_af != 0 && rtm->rtm_family != s->route_af))
		return MNL_CB_OK;
	alen = rtm->rtm_family == AF_INET ? 4 : 16;
	memset(&r, 0, sizeof(r));
	r.nr_af = rtm->rtm_family;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_OIF:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				r.nr_oif = mnl_attr_get_u32(a);
			break;
		case RTA_GATEWAY:
			if (mnl_attr_get_payload_len(a) == alen)
				memcpy(r.nr_gw, mnl_attr_get_payload(a), alen);
			break;
		}
	}
	if (netmon_omni_link(s, r.nr_oif))
		return MNL_CB_OK;
	if (s->nroutes == NETMON_MAX_ROUTES) {
		s->overflow = 1;
		return MNL_CB_OK;
	}
	s->routes[s->nroutes++] = r;
	return MNL_CB_OK;
}

/*
 * The order candidates are sent in, so that the same set is always the
 * same list: IPv6 before IPv4 (as RFC 6724 and ICE do: no NAT on the
 * way, usually), but IPv6 privacy addresses last (they change by
 * design), then by address.
 */
static int
netmon_addr_rank(const struct nm_addr *a)
{
	if (a->na_addr.sa.sa_family == AF_INET6)
		return a->na_temporary ? 2 : 0;
	return 1;
}

static int
netmon_addr_cmp(const void *va, const void *vb)
{
	const struct nm_addr	*a = va, *b = vb;

	if (netmon_addr_rank(a) != netmon_addr_rank(b))
		return netmon_addr_rank(a) - netmon_addr_rank(b);
	if (a->na_addr.sa.sa_family == AF_INET)
		return memcmp(&a->na_addr.sin.sin_addr,
		    &b->na_addr.sin.sin_addr, 4);
	return memcmp(&a->na_addr.sin6.sin6_addr, &b->na_addr.sin6.sin6_addr,
	    16);
}

static int
netmon_route_cmp(const void *va, const void *vb)
{
	return memcmp(va, vb, sizeof(struct nm_route));
}

/*
 * The routes: per family, only the unicast routes of the main table
 * if the kernel can filter (see the top of this file).  Should the
 * filtered dumps fail where a plain one works (a kernel that refuses
 * them), every route is dumped from then on, as before.
 */
static int
netmon_dump_routes(struct nm_state *s)
{
	int	 rv;

	if (!nm.plain_routes) {
		s->route_af = AF_INET;
		rv = rtnl_dump_routes(AF_INET, RT_TABLE_MAIN, RTN_UNICAST,
		    netmon_route_cb, s);
		if (rv == 0) {
			s->route_af = AF_INET6;
			rv = rtnl_dump_routes(AF_INET6, RT_TABLE_MAIN,
			    RTN_UNICAST, netmon_route_cb, s);
		}
		s->route_af = 0;
		if (rv == 0)
			return 0;
		s->nroutes = 0;
	}
	if (rtnl_dump(RTM_GETROUTE, AF_UNSPEC, netmon_route_cb, s) == -1)
		return -1;
	if (!nm.plain_routes) {
		log_warnx("netmon: filtered route dumps failed, dumping "
		    "every route from now on");
		nm.plain_routes = 1;
	}
	return 0;
}

static int
netmon_dump(struct nm_state *s)
{
	memset(s, 0, sizeof(*s));
	if (rtnl_dump(RTM_GETLINK, AF_UNSPEC, netmon_link_cb, s) == -1 ||
	    rtnl_dump(RTM_GETADDR, AF_UNSPEC, netmon_addr_cb, s) == -1 ||
	    netmon_dump_routes(s) == -1)
		return -1;
	/* once: a host that big stays that big */
	if (s->overflow && !nm.warned) {
		log_warnx("netmon: more links, addresses or default routes "
		    "than kept, some are ignored");
		nm.warned = 1;
	}
	qsort(s->addrs, s->naddrs, sizeof(s->addrs[0]), netmon_addr_cmp);
	qsort(s->routes, s->nroutes, sizeof(s->routes[0]), netmon_route_cmp);
	return 0;
}

/* --- changes ------------------------------------------------------------ */

static int
netmon_has_addr(const struct nm_state *s, const struct nm_addr *na)
{
	int	 i;

	for (i = 0; i < s->naddrs; i++)
		if (s->addrs[i].na_ifindex == na->na_ifindex &&
		    netmon_addr_cmp(&s->addrs[i], na) == 0)
			return 1;
	return 0;
}

static void
netmon_log_addr(const struct nm_state *s, const struct nm_addr *na,
    const char *what)
{
	char	 buf[INET6_ADDRSTRLEN];
	const void *p = na->na_addr.sa.sa_family == AF_INET ?
	    (const void *)&na->na_addr.sin.sin_addr :
	    (const void *)&na->na_addr.sin6.sin6_addr;

	if (inet_ntop(na->na_addr.sa.sa_family, p, buf, sizeof(buf)) == NULL)
		strlcpy(buf, "?", sizeof(buf));
	log_debug("address %s %s on %s", buf, what,
	    netmon_ifname(s, na->na_ifindex));
}

/* Log what changed; 1 when anything did. */
static int
netmon_diff(const struct nm_state *old, const struct nm_state *new)
{
	int	 i, changed = 0;

	for (i = 0; i < old->naddrs; i++)
		if (!netmon_has_addr(new, &old->addrs[i])) {
			netmon_log_addr(old, &old->addrs[i], "removed");
			changed = 1;
		}
	for (i = 0; i < new->naddrs; i++)
		if (!netmon_has_addr(old, &new->addrs[i])) {
			netmon_log_addr(new, &new->addrs[i], "added");
			changed = 1;
		}
	if (old->nroutes != new->nroutes || memcmp(old->routes, new->routes,
	    new->nroutes * sizeof(new->routes[0])) != 0) {
		log_debug("default routes changed (%d now)", new->nroutes);
		changed = 1;
	}
	return changed;
}

/* What asked for a dump, for the log: "link, address". */
static const char *
netmon_why(unsigned why, char *buf, size_t len)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ NM_WHY_START, "start" },
		{ NM_WHY_LINK, "link" },
		{ NM_WHY_ADDR, "address" },
		{ NM_WHY_ROUTE, "default route" },
		{ NM_WHY_OVERRUN, "overrun" },
		{ NM_WHY_RETRY, "retry" },
	};
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (why & names[i].bit) {
			if (buf[0] != '\0')
				strlcat(buf, ", ", len);
			strlcat(buf, names[i].name, len);
		}
	return buf[0] != '\0' ? buf : "?";
}

static void
netmon_update(void)
{
	struct nm_state	*s;
	char		 why[64];

	nm.dumps++;
	log_debug("netmon: dump %llu (%s)", (unsigned long long)nm.dumps,
	    netmon_why(nm.why, why, sizeof(why)));
	nm.why = 0;
	if ((s = malloc(sizeof(*s))) == NULL) {
		log_warn("netmon");
		nm.why |= NM_WHY_RETRY;
		proc_timer(&nm.timer, 1, 0);
		return;
	}
	if (netmon_dump(s) == -1) {
		/* try again soon rather than keep a stale view */
		nm.why |= NM_WHY_RETRY;
		proc_timer(&nm.timer, 1, 0);
		free(s);
		return;
	}
	/* the first time against nothing, so the start is logged too */
	if (!nm.valid)
		memset(&nm.cur, 0, sizeof(nm.cur));
	if (netmon_diff(&nm.cur, s) || !nm.valid) {
		nm.cur = *s;
		nm.generation++;
		if (nm.valid)
			nm.updates++;
		nm.valid = 1;
		netmon_send(NULL);
	} else
		nm.cur = *s;	/* link names may have changed */
	free(s);
}

/*
 * At most OMNI_MAX_LOCAL of the sorted addresses, in their order, but
 * never all of them IPv6 while there is IPv4: a host with many IPv6
 * addresses keeps room for IPv4 (half of the list).
 */
static int
netmon_pick(int *pick)
{
	int	 i, n = 0, n6 = 0, n4 = 0, room6;

	for (i = 0; i < nm.cur.naddrs; i++)
		if (nm.cur.addrs[i].na_addr.sa.sa_family == AF_INET)
			n4++;
	room6 = OMNI_MAX_LOCAL - (n4 < OMNI_MAX_LOCAL / 2 ? n4 :
	    OMNI_MAX_LOCAL / 2);
	for (i = 0; i < nm.cur.naddrs && n < OMNI_MAX_LOCAL; i++) {
		if (nm.cur.addrs[i].na_addr.sa.sa_family == AF_INET6 &&
		    n6++ >= room6)
			continue;
		pick[n++] = i;
	}
	return n;
}

/* One interface's list; ifp NULL: every interface. */
void
netmon_send(struct iface *ifp)
{
	struct local_addrs	 la;
	struct iface		*i;
	int			 pick[OMNI_MAX_LOCAL], n, k;

	if (!nm.valid)
		return;
	n = netmon_pick(pick);
	TAILQ_FOREACH(i, &omnid->o_ifaces, if_entry) {
		if (ifp != NULL && i != ifp)
			continue;
		memset(&la, 0, sizeof(la));
		la.ifid = i->if_id;
		la.generation = nm.generation;
		for (k = 0; k < n; k++) {
			la.addr[k] = nm.cur.addrs[pick[k]].na_addr;
			if (la.addr[k].sa.sa_family == AF_INET)
				la.addr[k].sin.sin_port =
				    htons(i->if_conf.listen_port);
			else
				la.addr[k].sin6.sin6_port =
				    htons(i->if_conf.listen_port);
		}
		la.naddr = n;
		if (child_send(PROC_SIGNALD, IMSG_LOCAL_ADDRS, 0, -1, &la,
		    sizeof(la)) == 0)
			log_debug("%s: local addresses of generation %u "
			    "sent to signald (%d, port %u)", i->if_conf.name,
			    la.generation, n, i->if_conf.listen_port);
	}
}

/* --- events ------------------------------------------------------------- */

static void
netmon_schedule(unsigned why)
{
	nm.why |= why;
	if (!evtimer_pending(&nm.timer, NULL))
		proc_timer(&nm.timer, 0, NETMON_DEBOUNCE_MS * 1000);
}

static void
netmon_timer(int fd, short ev, void *arg)
{
	netmon_update();
}

static void
netmon_read(int fd, short ev, void *arg)
{
	static char		 buf[NETMON_BUFSIZE];
	const struct nlmsghdr	*nlh;
	ssize_t			 n;
	int			 len;

	for (;;) {
		if ((n = recv(fd, buf, sizeof(buf), 0)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			if (errno == ENOBUFS) {
				/* notifications were lost: dump it all */
				nm.overruns++;
				log_debug("netmon: notifications overran "
				    "(%llu times), dumping again",
				    (unsigned long long)nm.overruns);
				netmon_schedule(NM_WHY_OVERRUN);
				continue;
			}
			log_warn("netmon: recv");
			return;
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		    nlh = mnl_nlmsg_next(nlh, &len)) {
			switch (nlh->nlmsg_type) {
			case RTM_NEWADDR:
			case RTM_DELADDR:
				netmon_schedule(NM_WHY_ADDR);
				break;
			case RTM_NEWLINK:
			case RTM_DELLINK:
				netmon_schedule(NM_WHY_LINK);
				break;
			case RTM_NEWROUTE:
			case RTM_DELROUTE:
				/* a routing daemon's churn costs nothing */
				if (netmon_route_watched(nlh))
					netmon_schedule(NM_WHY_ROUTE);
				break;
			}
		}
	}
}

/*
 * Start watching: the socket, then a first dump, so the lists are
 * known before signald starts.  Without the socket omni still works,
 * only it does not notice a roam: a warning, not fatal.
 */
void
netmon_init(void)
{
	int	 fd, rcvbuf = NETMON_RCVBUF;

	evtimer_set(&nm.timer, netmon_timer, NULL);
	if ((nm.nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) == NULL ||
	    mnl_socket_bind(nm.nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
	    RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
	    MNL_SOCKET_AUTOPID) == -1) {
		log_warn("netmon: rtnetlink socket; address changes will "
		    "go unnoticed");
		if (nm.nl != NULL)
			mnl_socket_close(nm.nl);
		nm.nl = NULL;
	} else {
		fd = mnl_socket_get_fd(nm.nl);
		/* CAP_NET_ADMIN lets the parent pass the rmem limit */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		    sizeof(rcvbuf)) == -1)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			    sizeof(rcvbuf));
		event_set(&nm.ev, fd, EV_READ | EV_PERSIST, netmon_read,
		    NULL);
		event_add(&nm.ev, NULL);
	}
	nm.why |= NM_WHY_START;
	netmon_update();
}

uint64_t
netmon_updates(void)
{
	return nm.updates;
}

/* Dumps made (each logged with -v): what the watch costs. */
uint64_t
netmon_dumps(void)
{
	return nm.dumps;
}

uint32_t
netmon_generation(void)
{
	return nm.generation;
}
