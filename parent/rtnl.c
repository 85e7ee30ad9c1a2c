/*
 * rtnetlink requests of the parent through libmnl.  omnid never runs
 * ip(8): every change is one request that asks for an ACK, on a
 * socket opened for the call with a receive timeout, so a call never
 * blocks the event loop for long and no stale reply of an earlier
 * (timed out) request can be mistaken for the answer to this one.
 *
 * With NETLINK_EXT_ACK the kernel explains many refusals in words;
 * that text is appended to the errno text in the log.
 *
 * The reading of replies (nl_reply_run, nl_reply_wait) is shared with
 * the generic netlink requests of wg_kernel.c.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "log.h"
#include "omni.h"
#include "rtnl.h"

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK	12	/* Linux 4.20 */
#endif

#define RTNL_BUFSIZE		32768
#define RTNL_FLUSH_MAX		64

struct rtnl_ctx {
	mnl_cb_t	 cb;		/* data messages, may be NULL */
	void		*arg;
	char		 extack[160];	/* kernel's explanation, if any */
	int		 strict;	/* NETLINK_GET_STRICT_CHK, dumps */
};

static uint32_t	 rtnl_seq;
static char	 rtnl_buf[RTNL_BUFSIZE];

static struct mnl_socket *
rtnl_open(int strict)
{
	struct mnl_socket	*nl;
	struct timeval		 tv;
	int			 one = 1;

	if ((nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) == NULL)
		return NULL;
	tv.tv_sec = RTNL_TIMEOUT_MS / 1000;
	tv.tv_usec = (RTNL_TIMEOUT_MS % 1000) * 1000;
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)) == -1)
		goto fail;
	/* Best effort: older kernels simply do not explain. */
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/*
	 * Best effort too: before Linux 4.20 a dump ignores its request's
	 * header and sends everything, which the callback filters anyway.
	 */
	if (strict)
		(void)mnl_socket_setsockopt(nl, NETLINK_GET_STRICT_CHK, &one,
		    sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1)
		goto fail;
	return nl;
 fail:
	{
		int	 saved = errno;

		mnl_socket_close(nl);
		errno = saved;
	}
	return NULL;
}

/* --- replies, shared with wg_kernel.c ------------------------------------ */

static int
nl_extack_attr(const struct nlattr *attr, void *arg)
{
	struct nl_reply	*r = arg;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 &&
	    r->nr_extack != NULL)
		strlcpy(r->nr_extack, mnl_attr_get_str(attr), r->nr_extacklen);
	return MNL_CB_OK;
}

/* NLMSG_ERROR: an ACK (error 0) ends the exchange, else keep the why. */
static int
nl_error_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlmsgerr	*e;
	size_t			 off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error == 0)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		/* the TLVs follow the echoed request, if it is not capped */
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
		    e->msg.nlmsg_len > sizeof(struct nlmsghdr))
			off += MNL_ALIGN(e->msg.nlmsg_len -
			    sizeof(struct nlmsghdr));
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			(void)mnl_attr_parse(nlh, off, nl_extack_attr, arg);
	}
	/* INT_MIN has no positive counterpart: call it malformed. */
	errno = e->error < 0 && e->error > -4096 ? -e->error : EBADMSG;
	return MNL_CB_ERROR;
}

/* NLMSG_DONE ends a dump; it carries the dump's error, if any. */
static int
nl_done_cb(const struct nlmsghdr *nlh, void *arg)
{
	int	 error;

	if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(error))) {
		memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
		if (error < 0) {
			errno = error > -4096 ? -error : EBADMSG;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int
nl_noop_cb(const struct nlmsghdr *nlh, void *arg)
{
	return MNL_CB_OK;
}

static int
nl_overrun_cb(const struct nlmsghdr *nlh, void *arg)
{
	errno = ENOSPC;
	return MNL_CB_ERROR;
}

static int
nl_data_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_reply	*r = arg;

	if (r->nr_cb == NULL)
		return MNL_CB_OK;
	return r->nr_cb(nlh, r->nr_arg);
}

/*
 * One datagram of replies to seq: MNL_CB_OK more to come, MNL_CB_STOP,
 * or MNL_CB_ERROR with errno.
 */
int
nl_reply_run(const void *buf, size_t len, uint32_t seq, uint32_t portid,
    struct nl_reply *r)
{
	mnl_cb_t		 ctl[NLMSG_MIN_TYPE];
	const struct nlmsghdr	*nlh;
	size_t			 off = 0;

	/*
	 * libmnl compares message lengths as int: one of 2 GiB or more
	 * would pass as negative.  Every length must fit, unsigned.
	 */
	while (len - off >= sizeof(*nlh)) {
		nlh = (const struct nlmsghdr *)((const char *)buf + off);
		if (nlh->nlmsg_len < sizeof(*nlh) ||
		    nlh->nlmsg_len > len - off) {
			errno = EBADMSG;
			return MNL_CB_ERROR;
		}
		off += MNL_ALIGN((size_t)nlh->nlmsg_len);
		if (off > len)
			break;
	}

	/* libmnl applies no default to a type the table covers: all four. */
	memset(ctl, 0, sizeof(ctl));
	ctl[NLMSG_NOOP] = nl_noop_cb;
	ctl[NLMSG_ERROR] = nl_error_cb;
	ctl[NLMSG_DONE] = nl_done_cb;
	ctl[NLMSG_OVERRUN] = nl_overrun_cb;
	return mnl_cb_run2(buf, len, seq, portid, nl_data_cb, r, ctl,
	    NLMSG_MIN_TYPE);
}

int64_t
nl_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read the replies to seq on nl into buf until the ACK, NLMSG_DONE of
 * a dump or an error, for at most timeout_ms (the socket's receive
 * timeout bounds each read).  0, or -1 with errno set.
 */
int
nl_reply_wait(struct mnl_socket *nl, uint32_t seq, void *buf, size_t buflen,
    int timeout_ms, struct nl_reply *r)
{
	uint32_t	 portid = mnl_socket_get_portid(nl);
	int64_t		 deadline = nl_now_ms() + timeout_ms;
	ssize_t		 n;
	int		 ret;

	if (r->nr_extack != NULL && r->nr_extacklen > 0)
		r->nr_extack[0] = '\0';
	for (;;) {
		if (nl_now_ms() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((n = mnl_socket_recvfrom(nl, buf, buflen)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		ret = nl_reply_run(buf, (size_t)n, seq, portid, r);
		if (ret == MNL_CB_ERROR)
			return -1;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/*
 * Send one request (NLM_F_ACK is added) and run the replies through
 * cb until the ACK, NLMSG_DONE of a dump, or an error.  The whole
 * exchange is bounded by RTNL_TIMEOUT_MS.  On error errno is set and
 * ctx->extack may hold the kernel's explanation.
 */
static int
rtnl_talk(struct nlmsghdr *nlh, struct rtnl_ctx *ctx)
{
	static char		 rbuf[RTNL_BUFSIZE];
	struct nl_reply		 r = { ctx->cb, ctx->arg, ctx->extack,
				    sizeof(ctx->extack) };
	struct mnl_socket	*nl;
	int			 ret = -1, saved;

	ctx->extack[0] = '\0';
	if ((nl = rtnl_open(ctx->strict)) == NULL)
		return -1;
	if (rtnl_seq == 0)
		rtnl_seq = (uint32_t)time(NULL);
	nlh->nlmsg_seq = ++rtnl_seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) != -1)
		ret = nl_reply_wait(nl, nlh->nlmsg_seq, rbuf, sizeof(rbuf),
		    RTNL_TIMEOUT_MS, &r);
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return ret;
}

static void
rtnl_warn(const char *what, const struct rtnl_ctx *ctx)
{
	int	 saved = errno;

	log_warnx("rtnetlink: %s: %s%s%s", what, strerror(saved),
	    ctx->extack[0] ? ": " : "", ctx->extack);
	errno = saved;
}

static struct nlmsghdr *
rtnl_msg(uint16_t type, uint16_t flags)
{
	struct nlmsghdr	*nlh;

	memset(rtnl_buf, 0, sizeof(rtnl_buf));
	nlh = mnl_nlmsg_put_header(rtnl_buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

/* --- links ---------------------------------------------------------- */

static int
rtnl_ifindex_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct ifinfomsg	*ifi;
	int			*ifindex = arg;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	*ifindex = ifi->ifi_index;
	return MNL_CB_OK;
}

static int
rtnl_name_ok(const char *name)
{
	size_t	 len = strnlen(name, IFNAMSIZ);

	return len > 0 && len < IFNAMSIZ;
}

/* The index of a link by name, -1 with errno ENODEV when there is none. */
int
rtnl_ifindex(const char *name)
{
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;
	struct rtnl_ctx		 ctx = { rtnl_ifindex_cb, NULL, "", 0 };
	char			 what[64];
	int			 ifindex = 0;

	if (!rtnl_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	ctx.arg = &ifindex;
	nlh = rtnl_msg(RTM_GETLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (rtnl_talk(nlh, &ctx) == -1) {
		if (errno != ENODEV) {
			snprintf(what, sizeof(what), "get link %s", name);
			rtnl_warn(what, &ctx);
		}
		return -1;
	}
	if (ifindex <= 0) {
		errno = ENODEV;
		return -1;
	}
	return ifindex;
}

/* Bring a link up or down and set its MTU (0: leave the MTU alone). */
int
rtnl_link_set(int ifindex, int up, unsigned mtu)
{
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;
	struct rtnl_ctx		 ctx = { NULL, NULL, "", 0 };
	char			 what[64];

	if (ifindex <= 0) {
		errno = EINVAL;
		log_warnx("rtnetlink: set link: bad ifindex %d", ifindex);
		return -1;
	}
	nlh = rtnl_msg(RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (mtu != 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (rtnl_talk(nlh, &ctx) == -1) {
		snprintf(what, sizeof(what), "set link %d %s mtu %u", ifindex,
		    up ? "up" : "down", mtu);
		rtnl_warn(what, &ctx);
		return -1;
	}
	return 0;
}

/* Create a link of a kind ("wireguard"); for the kernel backend. */
int
rtnl_link_add(const char *name, const char *kind)
{
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;
	struct nlattr		*linkinfo;
	struct rtnl_ctx		 ctx = { NULL, NULL, "", 0 };
	char			 what[64];

	if (!rtnl_name_ok(name) || kind == NULL || *kind == '\0') {
		errno = EINVAL;
		log_warnx("rtnetlink: add link: bad name or kind");
		return -1;
	}
	nlh = rtnl_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	mnl_attr_nest_end(nlh, linkinfo);
	if (rtnl_talk(nlh, &ctx) == -1) {
		snprintf(what, sizeof(what), "add link %s type %.20s", name,
		    kind);
		rtnl_warn(what, &ctx);
		return -1;
	}
	return 0;
}

/* Remove a link by name.  0 when it is gone, also if it never was. */
int
rtnl_link_del(const char *name)
{
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;
	struct rtnl_ctx		 ctx = { NULL, NULL, "", 0 };
	char			 what[64];

	if (!rtnl_name_ok(name)) {
		errno = EINVAL;
		log_warnx("rtnetlink: delete link: bad name");
		return -1;
	}
	nlh = rtnl_msg(RTM_DELLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (rtnl_talk(nlh, &ctx) == -1) {
		if (errno == ENODEV) {
			log_debug("rtnetlink: delete link %s: already gone",
			    name);
			return 0;
		}
		snprintf(what, sizeof(what), "delete link %s", name);
		rtnl_warn(what, &ctx);
		return -1;
	}
	return 0;
}

/* --- addresses ------------------------------------------------------ */

static int
rtnl_prefix_ok(int ifindex, const struct omni_prefix *p, size_t *alen)
{
	if (ifindex <= 0)
		return 0;
	switch (p->af) {
	case AF_INET:
		*alen = 4;
		return p->plen <= 32;
	case AF_INET6:
		*alen = 16;
		return p->plen <= 128;
	default:
		return 0;
	}
}

static int
rtnl_addr_req(uint16_t type, uint16_t flags, int ifindex,
    const struct omni_prefix *p, uint8_t scope)
{
	struct nlmsghdr		*nlh;
	struct ifaddrmsg	*ifa;
	struct rtnl_ctx		 ctx = { NULL, NULL, "", 0 };
	char			 what[128], pbuf[OMNI_PREFIXSTRLEN];
	size_t			 alen;

	if (!rtnl_prefix_ok(ifindex, p, &alen)) {
		errno = EINVAL;
		log_warnx("rtnetlink: %s address: bad prefix or ifindex %d",
		    type == RTM_NEWADDR ? "add" : "delete", ifindex);
		return -1;
	}
	nlh = rtnl_msg(type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = p->af;
	ifa->ifa_prefixlen = p->plen;
	ifa->ifa_scope = scope;
	ifa->ifa_index = ifindex;
	/*
	 * No duplicate address detection for IPv6: the address is ours
	 * on a point-to-point tunnel and must be usable at once.
	 */
	if (p->af == AF_INET6 && type == RTM_NEWADDR)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, alen, p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, p->addr);
	if (rtnl_talk(nlh, &ctx) == -1) {
		snprintf(what, sizeof(what), "%s address %s on ifindex %d",
		    type == RTM_NEWADDR ? "add" : "delete",
		    omni_prefix_str(p, pbuf, sizeof(pbuf)), ifindex);
		rtnl_warn(what, &ctx);
		return -1;
	}
	return 0;
}

/*
 * Add (or replace) an address; the kernel adds the connected route of
 * the prefix with it.
 */
int
rtnl_addr_add(int ifindex, const struct omni_prefix *p)
{
	return rtnl_addr_req(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE,
	    ifindex, p, RT_SCOPE_UNIVERSE);
}

int
rtnl_addr_del(int ifindex, const struct omni_prefix *p)
{
	return rtnl_addr_req(RTM_DELADDR, 0, ifindex, p, RT_SCOPE_UNIVERSE);
}

struct rtnl_addrs {
	int			 ifindex;
	int			 n;
	int			 overflow;
	struct omni_prefix	 p[RTNL_FLUSH_MAX];
};

static int
rtnl_addr_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct rtnl_addrs	*as = arg;
	const struct ifaddrmsg	*ifa;
	const struct nlattr	*attr, *local = NULL, *addr = NULL;
	struct omni_prefix	*p;
	size_t			 alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	/* Only the global addresses; the kernel's link-local stay. */
	if ((int)ifa->ifa_index != as->ifindex ||
	    ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return MNL_CB_OK;
	if (ifa->ifa_family == AF_INET)
		alen = 4;
	else if (ifa->ifa_family == AF_INET6)
		alen = 16;
	else
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = attr;
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			addr = attr;
	}
	if (local == NULL)
		local = addr;
	if (local == NULL || mnl_attr_get_payload_len(local) != alen)
		return MNL_CB_OK;
	if (as->n >= RTNL_FLUSH_MAX) {
		as->overflow = 1;
		return MNL_CB_OK;
	}
	p = &as->p[as->n++];
	memset(p, 0, sizeof(*p));
	p->af = ifa->ifa_family;
	p->plen = ifa->ifa_prefixlen;
	memcpy(p->addr, mnl_attr_get_payload(local), alen);
	return MNL_CB_OK;
}

/* Remove every global address of a link. */
int
rtnl_addr_flush(int ifindex)
{
	struct nlmsghdr		*nlh;
	struct ifaddrmsg	*ifa;
	struct rtnl_ctx		 ctx = { rtnl_addr_dump_cb, NULL, "", 0 };
	struct rtnl_addrs	 as;
	char			 what[64];
	int			 i, rv = 0;

	if (ifindex <= 0) {
		errno = EINVAL;
		log_warnx("rtnetlink: flush addresses: bad ifindex %d",
		    ifindex);
		return -1;
	}
	memset(&as, 0, sizeof(as));
	as.ifindex = ifindex;
	ctx.arg = &as;
	nlh = rtnl_msg(RTM_GETADDR, NLM_F_DUMP);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (rtnl_talk(nlh, &ctx) == -1) {
		snprintf(what, sizeof(what), "list addresses of ifindex %d",
		    ifindex);
		rtnl_warn(what, &ctx);
		return -1;
	}
	if (as.overflow)
		log_warnx("rtnetlink: ifindex %d has more than %d addresses, "
		    "flushing the first ones", ifindex, RTNL_FLUSH_MAX);
	for (i = 0; i < as.n; i++)
		if (rtnl_addr_del(ifindex, &as.p[i]) == -1 &&
		    errno != EADDRNOTAVAIL)
			rv = -1;
	return rv;
}

/* --- dumps for netmon.c ----------------------------------------------- */

/*
 * Dump every object of one kind (RTM_GETLINK, RTM_GETADDR,
 * RTM_GETROUTE) of family af through cb, synchronously and bounded by
 * RTNL_TIMEOUT_MS like every other request here.
 */
int
rtnl_dump(uint16_t type, int af, mnl_cb_t cb, void *arg)
{
	struct nlmsghdr		*nlh;
	struct rtgenmsg		*g;
	struct rtnl_ctx		 ctx = { NULL, NULL, "", 0 };
	char			 what[64];

	ctx.cb = cb;
	ctx.arg = arg;
	nlh = rtnl_msg(type, NLM_F_DUMP);
	/* ifinfomsg, ifaddrmsg and rtmsg all start with the family */
	g = mnl_nlmsg_put_extra_header(nlh, type == RTM_GETROUTE ?
	    sizeof(struct rtmsg) : type == RTM_GETLINK ?
	    sizeof(struct ifinfomsg) : sizeof(struct ifaddrmsg));
	g->rtgen_family = af;
	if (rtnl_talk(nlh, &ctx) == -1) {
		snprintf(what, sizeof(what), "dump of type %u", type);
		rtnl_warn(what, &ctx);
		return -1;
	}
	return 0;
}

/*
 * Dump the routes of one family (AF_INET or AF_INET6), table and type
 * through cb, asking the kernel to send only those (strict checking,
 * Linux >= 4.20).  An older kernel sends every route of the family:
 * cb must filter all the same.  A table the kernel does not have
 * (ENOENT: IPv4 creates its main table with the first route) is an
 * empty dump.  Per family, never AF_UNSPEC: a filtered dump of all
 * families is refused as a whole by MPLS when it is loaded.
 */
int
rtnl_dump_routes(int af, uint8_t table, uint8_t type, mnl_cb_t cb, void *arg)
{
	struct nlmsghdr		*nlh;
	struct rtmsg		*rtm;
	struct rtnl_ctx		 ctx = { NULL, NULL, "", 0 };
	char			 what[64];

	if (af != AF_INET && af != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	ctx.cb = cb;
	ctx.arg = arg;
	ctx.strict = 1;
	nlh = rtnl_msg(RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = af;
	rtm->rtm_table = table;
	rtm->rtm_type = type;
	if (rtnl_talk(nlh, &ctx) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(what, sizeof(what), "dump of the IPv%d routes of "
		    "table %u", af == AF_INET ? 4 : 6, table);
		rtnl_warn(what, &ctx);
		return -1;
	}
	return 0;
}
