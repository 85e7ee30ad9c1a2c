/*
 * The kernel WireGuard backend: the link is created with rtnetlink
 * (RTM_NEWLINK, kind "wireguard") and configured through the kernel's
 * "wireguard" generic netlink family (linux/wireguard.h):
 *
 *	WG_CMD_SET_DEVICE	one request per message, each acknowledged;
 *				a large change is cut into several messages
 *	WG_CMD_GET_DEVICE	a dump only: several NLM_F_MULTI parts, the
 *				device attributes in the first, a peer whose
 *				allowed IPs did not fit repeated at the head
 *				of the next part with the rest of them
 *
 * Peer changes are incremental: one peer is added, updated (its
 * allowed IPs replaced) or removed without WGDEVICE_F_REPLACE_PEERS,
 * so the other peers and their sessions are never disturbed.
 *
 * Every exchange runs on a socket opened for it, with receive
 * timeouts and a deadline, like rtnl.c.  The message builder and the
 * reply parser below are pure functions over buffers, shared with the
 * unit test and the fuzzer.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/wireguard.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <sodium.h>

#include "log.h"
#include "omni.h"
#include "rtnl.h"
#include "wg.h"

#define WGK_EXTACK_MAX		160

static int	 kernel_create(struct wg_dev *, char *, size_t);
static int	 kernel_destroy(struct wg_dev *);
static int	 kernel_set_device(struct wg_dev *, const uint8_t [32],
		    uint16_t, char *, size_t);
static int	 kernel_set_peer(struct wg_dev *, const struct wg_peer_req *,
		    const uint8_t *, char *, size_t);
static int	 kernel_del_peer(struct wg_dev *, const uint8_t [32], char *,
		    size_t);
static int	 kernel_get_peers(struct wg_dev *,
		    int (*)(const struct wg_peer_stats *, void *), void *,
		    char *, size_t);

const struct wg_ops wg_kernel_ops = {
	"kernel",
	kernel_create,
	kernel_destroy,
	kernel_set_device,
	kernel_set_peer,
	kernel_del_peer,
	kernel_get_peers
};

/* Called after each part of a dump (tests: a change in mid-dump). */
void	(*wgk_dump_hook)(int, int);

/* --- memory ----------------------------------------------------------- */

/*
 * Grow an array to hold need elements.  Peers hold preshared keys, so
 * never realloc: copy, wipe the old block, free it.
 */
static int
wgk_grow(void **pp, size_t *cap, size_t need, size_t size)
{
	size_t	 ncap;
	void	*np;

	if (need <= *cap)
		return 0;
	ncap = *cap != 0 ? *cap : 4;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size) {
			errno = ENOMEM;
			return -1;
		}
		ncap *= 2;
	}
	if ((np = calloc(ncap, size)) == NULL)
		return -1;
	if (*pp != NULL) {
		memcpy(np, *pp, *cap * size);
		sodium_memzero(*pp, *cap * size);
		free(*pp);
	}
	*pp = np;
	*cap = ncap;
	return 0;
}

void
wgk_device_free(struct wgk_device *dev)
{
	size_t	 i;

	if (dev->peers != NULL) {
		for (i = 0; i < dev->npeers; i++)
			free(dev->peers[i].aips);
		sodium_memzero(dev->peers, dev->peercap * sizeof(*dev->peers));
		free(dev->peers);
	}
	sodium_memzero(dev, sizeof(*dev));
}

/* --- the reply parser ------------------------------------------------- */

/*
 * Index the attributes of a block by type (the last of a repeated
 * type wins).  The block must be exactly a sequence of well-formed
 * attributes; type 0 (padding of 64-bit values) and types newer than
 * max are skipped.
 */
static int
wgk_attrs(const void *start, size_t len, const struct nlattr **tb, int max)
{
	const struct nlattr	*a;
	size_t			 off = 0;
	uint16_t		 type;

	memset(tb, 0, (size_t)(max + 1) * sizeof(*tb));
	while (off < len) {
		if (len - off < sizeof(struct nlattr))
			return -1;
		a = (const struct nlattr *)((const char *)start + off);
		if (a->nla_len < sizeof(struct nlattr) ||
		    a->nla_len > len - off)
			return -1;
		type = a->nla_type & NLA_TYPE_MASK;
		if (type != 0 && type <= max)
			tb[type] = a;
		off += MNL_ALIGN(a->nla_len);
	}
	return 0;
}

static int
wgk_nested(const struct nlattr *a, const struct nlattr **tb, int max)
{
	return wgk_attrs(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a),
	    tb, max);
}

/* A nest holding a list of nests (peers, allowed IPs), well-formed. */
static int
wgk_list_ok(const struct nlattr *list)
{
	const struct nlattr	*tb[1];

	return wgk_nested(list, tb, 0) == 0;
}

/* The next element of a list wgk_list_ok() accepted, NULL at its end. */
static const struct nlattr *
wgk_list_next(const struct nlattr *list, size_t *off)
{
	const struct nlattr	*a;

	if (*off >= mnl_attr_get_payload_len(list))
		return NULL;
	a = (const struct nlattr *)((const char *)mnl_attr_get_payload(list) +
	    *off);
	*off += MNL_ALIGN((size_t)a->nla_len);
	return a;
}

static int
wgk_len_is(const struct nlattr *a, size_t len)
{
	return a == NULL || mnl_attr_get_payload_len(a) == len;
}

static int
wgk_parse_aip(const struct nlattr *nest, struct wgk_device *dev,
    struct wgk_peer *p)
{
	const struct nlattr	*tb[WGALLOWEDIP_A_MAX + 1];
	struct wgk_aip		 aip;
	uint16_t		 af;
	size_t			 alen;

	if (wgk_nested(nest, tb, WGALLOWEDIP_A_MAX) == -1 ||
	    tb[WGALLOWEDIP_A_FAMILY] == NULL ||
	    tb[WGALLOWEDIP_A_IPADDR] == NULL ||
	    tb[WGALLOWEDIP_A_CIDR_MASK] == NULL ||
	    !wgk_len_is(tb[WGALLOWEDIP_A_FAMILY], 2) ||
	    !wgk_len_is(tb[WGALLOWEDIP_A_CIDR_MASK], 1))
		return -1;
	memset(&aip, 0, sizeof(aip));
	af = mnl_attr_get_u16(tb[WGALLOWEDIP_A_FAMILY]);
	aip.cidr = mnl_attr_get_u8(tb[WGALLOWEDIP_A_CIDR_MASK]);
	if (af == AF_INET && aip.cidr <= 32)
		alen = 4;
	else if (af == AF_INET6 && aip.cidr <= 128)
		alen = 16;
	else
		return -1;
	if (!wgk_len_is(tb[WGALLOWEDIP_A_IPADDR], alen))
		return -1;
	aip.af = (uint8_t)af;
	memcpy(aip.addr, mnl_attr_get_payload(tb[WGALLOWEDIP_A_IPADDR]), alen);
	if (dev->naips >= WGK_MAX_AIPS) {
		errno = E2BIG;
		return -2;
	}
	if (wgk_grow((void **)&p->aips, &p->aipcap, p->naips + 1,
	    sizeof(*p->aips)) == -1)
		return -2;
	p->aips[p->naips++] = aip;
	dev->naips++;
	return 0;
}

static int
wgk_parse_endpoint(const struct nlattr *a, struct omni_addr *ep)
{
	const void	*pl = mnl_attr_get_payload(a);
	size_t		 len = mnl_attr_get_payload_len(a);
	sa_family_t	 af;

	if (len < sizeof(af))
		return -1;
	memcpy(&af, pl, sizeof(af));
	memset(ep, 0, sizeof(*ep));
	if (af == AF_INET && len == sizeof(struct sockaddr_in))
		memcpy(&ep->sin, pl, len);
	else if (af == AF_INET6 && len == sizeof(struct sockaddr_in6))
		memcpy(&ep->sin6, pl, len);
	else
		return -1;
	return 0;
}

/* -1: malformed (EBADMSG), -2: errno set (too many, no memory). */
static int
wgk_parse_peer(const struct nlattr *nest, struct wgk_device *dev)
{
	const struct nlattr	*tb[WGPEER_A_MAX + 1], *a;
	struct wgk_peer		*p;
	const uint8_t		*key;
	int64_t			 ts[2];
	size_t			 off;
	int			 r;

	if (wgk_nested(nest, tb, WGPEER_A_MAX) == -1 ||
	    (a = tb[WGPEER_A_PUBLIC_KEY]) == NULL || !wgk_len_is(a, 32) ||
	    !wgk_len_is(tb[WGPEER_A_PRESHARED_KEY], 32) ||
	    !wgk_len_is(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL], 2) ||
	    !wgk_len_is(tb[WGPEER_A_LAST_HANDSHAKE_TIME], sizeof(ts)) ||
	    !wgk_len_is(tb[WGPEER_A_RX_BYTES], 8) ||
	    !wgk_len_is(tb[WGPEER_A_TX_BYTES], 8) ||
	    !wgk_len_is(tb[WGPEER_A_PROTOCOL_VERSION], 4))
		return -1;
	key = mnl_attr_get_payload(a);

	/* The head of a part continuing the last peer of the previous one. */
	if (dev->npeers > 0 &&
	    memcmp(dev->peers[dev->npeers - 1].pubkey, key, 32) == 0) {
		p = &dev->peers[dev->npeers - 1];
		dev->nmerged++;
	} else {
		if (dev->npeers >= WGK_MAX_PEERS) {
			errno = E2BIG;
			return -2;
		}
		if (wgk_grow((void **)&dev->peers, &dev->peercap,
		    dev->npeers + 1, sizeof(*dev->peers)) == -1)
			return -2;
		p = &dev->peers[dev->npeers++];
		memset(p, 0, sizeof(*p));
		memcpy(p->pubkey, key, 32);
	}
	if ((a = tb[WGPEER_A_PRESHARED_KEY]) != NULL) {
		memcpy(p->psk, mnl_attr_get_payload(a), 32);
		p->has_psk = 1;
	}
	if ((a = tb[WGPEER_A_ENDPOINT]) != NULL &&
	    wgk_parse_endpoint(a, &p->endpoint) == -1)
		return -1;
	if ((a = tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]) != NULL) {
		p->keepalive = mnl_attr_get_u16(a);
		p->has_keepalive = 1;
	}
	if ((a = tb[WGPEER_A_LAST_HANDSHAKE_TIME]) != NULL) {
		memcpy(ts, mnl_attr_get_payload(a), sizeof(ts));
		p->last_handshake = ts[0] < 0 ? 0 : ts[0];
	}
	if ((a = tb[WGPEER_A_RX_BYTES]) != NULL)
		p->rx_bytes = mnl_attr_get_u64(a);
	if ((a = tb[WGPEER_A_TX_BYTES]) != NULL)
		p->tx_bytes = mnl_attr_get_u64(a);
	if ((a = tb[WGPEER_A_ALLOWEDIPS]) != NULL) {
		const struct nlattr	*aip;

		if (!wgk_list_ok(a))
			return -1;
		off = 0;
		while ((aip = wgk_list_next(a, &off)) != NULL)
			if ((r = wgk_parse_aip(aip, dev, p)) != 0)
				return r;
	}
	return 0;
}

/*
 * Merge one message of a GET_DEVICE dump into dev.  Returns MNL_CB_OK,
 * or MNL_CB_ERROR with errno EBADMSG (malformed), E2BIG (more than
 * WGK_MAX_PEERS peers or WGK_MAX_AIPS allowed IPs) or ENOMEM.
 */
int
wgk_parse_msg(const struct nlmsghdr *nlh, struct wgk_device *dev)
{
	const struct nlattr	*tb[WGDEVICE_A_MAX + 1], *a, *peer;
	const struct genlmsghdr	*g;
	const char		*name;
	size_t			 hl = MNL_ALIGN(sizeof(*g)), len, off;
	uint32_t		 ifindex;
	int			 r;

	if (nlh->nlmsg_len < mnl_nlmsg_size(hl))
		goto bad;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->cmd != WG_CMD_GET_DEVICE)
		goto bad;
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		dev->interrupted = 1;
	if (wgk_attrs((const char *)g + hl, nlh->nlmsg_len -
	    mnl_nlmsg_size(hl), tb, WGDEVICE_A_MAX) == -1 ||
	    !wgk_len_is(tb[WGDEVICE_A_IFINDEX], 4) ||
	    !wgk_len_is(tb[WGDEVICE_A_PRIVATE_KEY], 32) ||
	    !wgk_len_is(tb[WGDEVICE_A_PUBLIC_KEY], 32) ||
	    !wgk_len_is(tb[WGDEVICE_A_LISTEN_PORT], 2) ||
	    !wgk_len_is(tb[WGDEVICE_A_FWMARK], 4))
		goto bad;
	if ((a = tb[WGDEVICE_A_IFINDEX]) != NULL) {
		ifindex = mnl_attr_get_u32(a);
		/* Every part is about the same device. */
		if (dev->ifindex != 0 && dev->ifindex != ifindex)
			goto bad;
		dev->ifindex = ifindex;
	}
	if ((a = tb[WGDEVICE_A_IFNAME]) != NULL) {
		name = mnl_attr_get_payload(a);
		len = mnl_attr_get_payload_len(a);
		if (len < 2 || len > sizeof(dev->ifname) ||
		    strnlen(name, len) != len - 1)
			goto bad;
		memcpy(dev->ifname, name, len);
	}
	if ((a = tb[WGDEVICE_A_PRIVATE_KEY]) != NULL) {
		memcpy(dev->privkey, mnl_attr_get_payload(a), 32);
		dev->has_key = 1;
	}
	if ((a = tb[WGDEVICE_A_PUBLIC_KEY]) != NULL)
		memcpy(dev->pubkey, mnl_attr_get_payload(a), 32);
	if ((a = tb[WGDEVICE_A_LISTEN_PORT]) != NULL)
		dev->listen_port = mnl_attr_get_u16(a);
	if ((a = tb[WGDEVICE_A_FWMARK]) != NULL)
		dev->fwmark = mnl_attr_get_u32(a);
	if ((a = tb[WGDEVICE_A_PEERS]) != NULL) {
		if (!wgk_list_ok(a))
			goto bad;
		off = 0;
		while ((peer = wgk_list_next(a, &off)) != NULL) {
			if ((r = wgk_parse_peer(peer, dev)) == -1)
				goto bad;
			if (r == -2)
				return MNL_CB_ERROR;
		}
	}
	dev->nmsgs++;
	return MNL_CB_OK;
 bad:
	errno = EBADMSG;
	return MNL_CB_ERROR;
}

/* --- replies: ACKs, errors, dumps (nl_reply_run, rtnl.c) ------------------ */

static int
wgk_parse_cb(const struct nlmsghdr *nlh, void *arg)
{
	return wgk_parse_msg(nlh, arg);
}

/*
 * Feed one datagram of a GET_DEVICE dump: MNL_CB_OK when more parts
 * follow, MNL_CB_STOP at the end (NLMSG_DONE), MNL_CB_ERROR with
 * errno: EINTR when the dump was interrupted by a change (start
 * again), the kernel's errno (and its explanation in extack), or a
 * parse error.
 */
int
wgk_dump_feed(struct wgk_device *dev, const void *buf, size_t len,
    uint32_t seq, uint32_t portid, char *extack, size_t extacklen)
{
	struct nl_reply	 rep = { wgk_parse_cb, dev, extack, extacklen };
	int		 r;

	r = nl_reply_run(buf, len, seq, portid, &rep);
	if (r == MNL_CB_ERROR && errno == EINTR)
		dev->interrupted = 1;
	else if (r != MNL_CB_ERROR && dev->interrupted) {
		errno = EINTR;
		r = MNL_CB_ERROR;
	}
	return r;
}

/* --- the message builder ---------------------------------------------- */

static int
wgk_put_endpoint(struct nlmsghdr *nlh, size_t buflen,
    const struct omni_addr *ep)
{
	switch (ep->sa.sa_family) {
	case AF_UNSPEC:
		return 0;
	case AF_INET:
		return mnl_attr_put_check(nlh, buflen, WGPEER_A_ENDPOINT,
		    sizeof(ep->sin), &ep->sin) ? 0 : -1;
	case AF_INET6:
		return mnl_attr_put_check(nlh, buflen, WGPEER_A_ENDPOINT,
		    sizeof(ep->sin6), &ep->sin6) ? 0 : -1;
	default:
		return -1;
	}
}

static int
wgk_put_aip(struct nlmsghdr *nlh, size_t buflen, const struct wgk_aip *aip)
{
	struct nlattr	*n;

	if ((n = mnl_attr_nest_start_check(nlh, buflen, 0)) == NULL)
		return -1;
	if (!mnl_attr_put_u16_check(nlh, buflen, WGALLOWEDIP_A_FAMILY,
	    aip->af) ||
	    !mnl_attr_put_check(nlh, buflen, WGALLOWEDIP_A_IPADDR,
	    aip->af == AF_INET ? 4 : 16, aip->addr) ||
	    !mnl_attr_put_u8_check(nlh, buflen, WGALLOWEDIP_A_CIDR_MASK,
	    aip->cidr)) {
		mnl_attr_nest_cancel(nlh, n);
		return -1;
	}
	mnl_attr_nest_end(nlh, n);
	return 0;
}

/*
 * One peer, from allowed IP *aip on.  0: all of it went in; 1: part of
 * its allowed IPs went in (*aip advanced); -1: nothing went in.
 */
static int
wgk_put_peer(struct nlmsghdr *nlh, size_t buflen, const struct wgk_peer *p,
    size_t *aip)
{
	struct nlattr	*pn, *an;
	size_t		 start = *aip;
	uint32_t	 flags;
	int		 cont = start > 0;

	if ((pn = mnl_attr_nest_start_check(nlh, buflen, 0)) == NULL)
		return -1;
	/*
	 * A continuation only adds allowed IPs: replacing them again
	 * would drop the first ones.  UPDATE_ONLY must stay, or the
	 * continuation would create a peer the first part skipped.
	 */
	flags = cont ? p->flags & WGPEER_F_UPDATE_ONLY : p->flags;
	if (!mnl_attr_put_check(nlh, buflen, WGPEER_A_PUBLIC_KEY, 32,
	    p->pubkey) ||
	    (flags != 0 && !mnl_attr_put_u32_check(nlh, buflen,
	    WGPEER_A_FLAGS, flags)))
		goto none;
	if (!cont) {
		if (p->has_psk && !mnl_attr_put_check(nlh, buflen,
		    WGPEER_A_PRESHARED_KEY, 32, p->psk))
			goto none;
		if (wgk_put_endpoint(nlh, buflen, &p->endpoint) == -1)
			goto none;
		if (p->has_keepalive && !mnl_attr_put_u16_check(nlh, buflen,
		    WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, p->keepalive))
			goto none;
	}
	if ((p->flags & WGPEER_F_REMOVE_ME) || start >= p->naips) {
		mnl_attr_nest_end(nlh, pn);
		return 0;
	}
	if ((an = mnl_attr_nest_start_check(nlh, buflen,
	    WGPEER_A_ALLOWEDIPS)) == NULL)
		goto none;
	while (*aip < p->naips && wgk_put_aip(nlh, buflen,
	    &p->aips[*aip]) == 0)
		(*aip)++;
	if (*aip == start)
		goto none;
	mnl_attr_nest_end(nlh, an);
	mnl_attr_nest_end(nlh, pn);
	return *aip < p->naips ? 1 : 0;
 none:
	mnl_attr_nest_cancel(nlh, pn);
	*aip = start;
	return -1;
}

/*
 * Build the next SET_DEVICE message of a change into buf (at most
 * buflen bytes), advancing the cursor in s.  Returns its length, 0
 * when the change has been sent whole, or -1 with errno EMSGSIZE when
 * a single peer (its key, flags and one allowed IP) cannot fit, or
 * EINVAL on a bad argument.
 */
int
wgk_set_next(struct wgk_set *s, uint16_t family, uint32_t seq, void *buf,
    size_t buflen)
{
	struct nlmsghdr		*nlh;
	struct genlmsghdr	*g;
	struct nlattr		*peers;
	size_t			 n = 0;
	int			 first = !s->started, r;

	if (s->started && s->next_peer >= s->npeers)
		return 0;
	if (s->ifname == NULL || s->ifname[0] == '\0' ||
	    strlen(s->ifname) >= OMNI_IFNAMSIZ ||
	    (s->npeers > 0 && s->peers == NULL)) {
		errno = EINVAL;
		return -1;
	}
	if (buflen < mnl_nlmsg_size(MNL_ALIGN(sizeof(*g))) ||
	    buflen > UINT32_MAX)
		goto toosmall;
	memset(buf, 0, buflen);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = WG_CMD_SET_DEVICE;
	g->version = WG_GENL_VERSION;
	if (!mnl_attr_put_strz_check(nlh, buflen, WGDEVICE_A_IFNAME,
	    s->ifname))
		goto toosmall;
	if (first) {
		if ((s->flags != 0 && !mnl_attr_put_u32_check(nlh, buflen,
		    WGDEVICE_A_FLAGS, s->flags)) ||
		    (s->privkey != NULL && !mnl_attr_put_check(nlh, buflen,
		    WGDEVICE_A_PRIVATE_KEY, 32, s->privkey)) ||
		    (s->set_port && !mnl_attr_put_u16_check(nlh, buflen,
		    WGDEVICE_A_LISTEN_PORT, s->port)) ||
		    (s->set_fwmark && !mnl_attr_put_u32_check(nlh, buflen,
		    WGDEVICE_A_FWMARK, s->fwmark)))
			goto toosmall;
		s->started = 1;
	}
	if (s->next_peer < s->npeers) {
		if ((peers = mnl_attr_nest_start_check(nlh, buflen,
		    WGDEVICE_A_PEERS)) == NULL) {
			if (first)
				return (int)nlh->nlmsg_len;
			goto toosmall;
		}
		while (s->next_peer < s->npeers) {
			r = wgk_put_peer(nlh, buflen, &s->peers[s->next_peer],
			    &s->next_aip);
			if (r == -1)
				break;
			n++;
			if (r == 1)
				break;
			s->next_peer++;
			s->next_aip = 0;
		}
		if (n == 0) {
			mnl_attr_nest_cancel(nlh, peers);
			/* The device attributes alone are progress. */
			if (!first)
				goto toosmall;
		} else
			mnl_attr_nest_end(nlh, peers);
	}
	return (int)nlh->nlmsg_len;
 toosmall:
	errno = EMSGSIZE;
	return -1;
}

/* --- sockets ----------------------------------------------------------- */

struct wgk_sock {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;
	uint16_t		 family;	/* the "wireguard" family id */
	char			 extack[WGK_EXTACK_MAX];
};

static uint32_t	 wgk_seq;
static char	 wgk_rbuf[WGK_RECV_MAX];	/* ACKs and small replies */
static char	 wgk_dbuf[WGK_RECV_MAX];	/* dump parts */
static char	 wgk_sbuf[WGK_MSG_MAX];		/* requests */

static void
wgk_close(struct wgk_sock *ks)
{
	int	 saved = errno;

	if (ks->nl != NULL)
		mnl_socket_close(ks->nl);
	ks->nl = NULL;
	errno = saved;
}

static int
wgk_open(struct wgk_sock *ks, int proto)
{
	struct timeval	 tv;
	int		 one = 1;

	memset(ks, 0, sizeof(*ks));
	if ((ks->nl = mnl_socket_open2(proto, SOCK_CLOEXEC)) == NULL)
		return -1;
	tv.tv_sec = WGK_TIMEOUT_MS / 1000;
	tv.tv_usec = (WGK_TIMEOUT_MS % 1000) * 1000;
	if (setsockopt(mnl_socket_get_fd(ks->nl), SOL_SOCKET, SO_RCVTIMEO,
	    &tv, sizeof(tv)) == -1 ||
	    setsockopt(mnl_socket_get_fd(ks->nl), SOL_SOCKET, SO_SNDTIMEO,
	    &tv, sizeof(tv)) == -1)
		goto fail;
	(void)mnl_socket_setsockopt(ks->nl, NETLINK_EXT_ACK, &one,
	    sizeof(one));
	if (mnl_socket_bind(ks->nl, 0, MNL_SOCKET_AUTOPID) == -1)
		goto fail;
	ks->portid = mnl_socket_get_portid(ks->nl);
	if (wgk_seq == 0)
		wgk_seq = (uint32_t)time(NULL);
	return 0;
 fail:
	wgk_close(ks);
	return -1;
}

static int
wgk_send(struct wgk_sock *ks, struct nlmsghdr *nlh)
{
	ssize_t	 n;

	n = mnl_socket_sendto(ks->nl, nlh, nlh->nlmsg_len);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

/* Replies to seq through cb until the ACK, NLMSG_DONE or an error. */
static int
wgk_wait(struct wgk_sock *ks, uint32_t seq, mnl_cb_t cb, void *arg)
{
	struct nl_reply	 rep = { cb, arg, ks->extack, sizeof(ks->extack) };

	return nl_reply_wait(ks->nl, seq, wgk_rbuf, sizeof(wgk_rbuf),
	    WGK_TIMEOUT_MS, &rep);
}

static int
wgk_talk(struct wgk_sock *ks, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	nlh->nlmsg_seq = ++wgk_seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (wgk_send(ks, nlh) == -1)
		return -1;
	return wgk_wait(ks, nlh->nlmsg_seq, cb, arg);
}

static int
wgk_family_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr	*tb[CTRL_ATTR_MAX + 1];
	size_t			 hl = MNL_ALIGN(sizeof(struct genlmsghdr));
	uint16_t		*family = arg;

	if (nlh->nlmsg_len < mnl_nlmsg_size(hl))
		return MNL_CB_OK;
	if (wgk_attrs((const char *)mnl_nlmsg_get_payload(nlh) + hl,
	    nlh->nlmsg_len - mnl_nlmsg_size(hl), tb, CTRL_ATTR_MAX) == 0 &&
	    tb[CTRL_ATTR_FAMILY_ID] != NULL &&
	    wgk_len_is(tb[CTRL_ATTR_FAMILY_ID], 2))
		*family = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	return MNL_CB_OK;
}

/*
 * A generic netlink socket with the id of the "wireguard" family.
 * Asking for an unknown family makes the kernel try to load its
 * module first.  -1 with errno ENOENT when there is none.
 */
static int
wgk_genl_open(struct wgk_sock *ks)
{
	struct nlmsghdr		*nlh;
	struct genlmsghdr	*g;
	char			 buf[256];

	if (wgk_open(ks, NETLINK_GENERIC) == -1)
		return -1;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
	if (wgk_talk(ks, nlh, wgk_family_cb, &ks->family) == -1)
		goto fail;
	if (ks->family == 0) {
		errno = ENOENT;
		goto fail;
	}
	return 0;
 fail:
	wgk_close(ks);
	return -1;
}

/* --- messages for people ---------------------------------------------- */

static const char *
wgk_why(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return "permission denied: the kernel backend needs "
		    "CAP_NET_ADMIN in the interface's network namespace "
		    "(run omnid as root)";
	case ENOENT:
		return "the kernel has no WireGuard (generic netlink family "
		    "\"" WG_GENL_NAME "\" not found: the wireguard module is "
		    "not loaded and could not be loaded)";
	case ENODEV:
		return "no such interface";
	case EOPNOTSUPP:
		return "not a kernel WireGuard interface";
	case EINVAL:
		return "the kernel refused the request as invalid (a bad key, "
		    "address or attribute)";
	case EADDRINUSE:
		return "the listen port is already in use";
	case ENOMEM:
	case ENOBUFS:
		return "the kernel is out of memory";
	case EMSGSIZE:
		return "a message does not fit the socket buffer";
	case ETIMEDOUT:
		return "the kernel did not answer in time";
	case EBADMSG:
		return "malformed reply from the kernel";
	case E2BIG:
		return "the device has more peers or allowed IPs than omnid "
		    "accepts";
	case EINTR:
		return "the device kept changing while it was read";
	default:
		return strerror(e);
	}
}

static void
wgk_err(char *err, size_t errlen, const char *name, const char *what, int e,
    const char *extack)
{
	snprintf(err, errlen, "%s: %s: %s%s%s%s", name, what, wgk_why(e),
	    extack != NULL && extack[0] ? " (kernel: " : "",
	    extack != NULL ? extack : "",
	    extack != NULL && extack[0] ? ")" : "");
	errno = e;
}

/* --- requests ---------------------------------------------------------- */

/*
 * Send a change (from its start, whatever the cursor says), cut into
 * messages of at most WGK_MSG_MAX bytes, each acknowledged before the
 * next.  Returns the number of messages sent,
 * or -1 with a message in err (saying how far it got) and errno set.
 */
int
wgk_apply(struct wgk_set *s, char *err, size_t errlen)
{
	struct wgk_sock	 ks;
	struct nlmsghdr	*nlh;
	const char	*name = s->ifname != NULL ? s->ifname : "(none)";
	char		 what[64];
	int		 n, msgs = 0;

	s->started = 0;
	s->next_peer = s->next_aip = 0;
	if (wgk_genl_open(&ks) == -1) {
		wgk_err(err, errlen, name, "set", errno, NULL);
		return -1;
	}
	for (;;) {
		if ((n = wgk_set_next(s, ks.family, ++wgk_seq, wgk_sbuf,
		    sizeof(wgk_sbuf))) == -1) {
			wgk_err(err, errlen, name, "set", errno, NULL);
			goto fail;
		}
		if (n == 0)
			break;
		nlh = (struct nlmsghdr *)wgk_sbuf;
		if (wgk_send(&ks, nlh) == -1 ||
		    wgk_wait(&ks, nlh->nlmsg_seq, NULL, NULL) == -1) {
			if (msgs > 0)
				snprintf(what, sizeof(what), "set (message %d, "
				    "after %d applied)", msgs + 1, msgs);
			else
				snprintf(what, sizeof(what), "set");
			wgk_err(err, errlen, name, what, errno, ks.extack);
			goto fail;
		}
		msgs++;
	}
	sodium_memzero(wgk_sbuf, sizeof(wgk_sbuf));
	wgk_close(&ks);
	return msgs;
 fail:
	sodium_memzero(wgk_sbuf, sizeof(wgk_sbuf));
	wgk_close(&ks);
	return -1;
}

/* One GET_DEVICE dump; -1 with errno EINTR when it was interrupted. */
static int
wgk_dump(const char *name, struct wgk_device *dev, int attempt, char *err,
    size_t errlen)
{
	struct wgk_sock		 ks;
	struct nlmsghdr		*nlh;
	struct genlmsghdr	*g;
	char			 req[128];
	int64_t			 deadline;
	ssize_t			 n;
	int			 r, part = 0;

	if (wgk_genl_open(&ks) == -1) {
		wgk_err(err, errlen, name, "get", errno, NULL);
		return -1;
	}
	memset(req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = ks.family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++wgk_seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = WG_GENL_VERSION;
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, name);
	if (wgk_send(&ks, nlh) == -1) {
		wgk_err(err, errlen, name, "get", errno, NULL);
		goto fail;
	}
	deadline = nl_now_ms() + WGK_TIMEOUT_MS;
	for (;;) {
		if (nl_now_ms() > deadline) {
			wgk_err(err, errlen, name, "get", ETIMEDOUT, NULL);
			goto fail;
		}
		if ((n = mnl_socket_recvfrom(ks.nl, wgk_dbuf,
		    sizeof(wgk_dbuf))) == -1) {
			wgk_err(err, errlen, name, "get", errno == EAGAIN ||
			    errno == EWOULDBLOCK ? ETIMEDOUT : errno, NULL);
			goto fail;
		}
		r = wgk_dump_feed(dev, wgk_dbuf, (size_t)n, nlh->nlmsg_seq,
		    ks.portid, ks.extack, sizeof(ks.extack));
		if (r == MNL_CB_ERROR) {
			wgk_err(err, errlen, name, "get", errno, ks.extack);
			goto fail;
		}
		if (r == MNL_CB_STOP)
			break;
		if (wgk_dump_hook != NULL)
			wgk_dump_hook(attempt, ++part);
	}
	sodium_memzero(wgk_dbuf, sizeof(wgk_dbuf));
	wgk_close(&ks);
	return 0;
 fail:
	sodium_memzero(wgk_dbuf, sizeof(wgk_dbuf));
	wgk_close(&ks);
	return -1;
}

/*
 * Read a device whole.  A dump that a concurrent change interrupted
 * (NLM_F_DUMP_INTR) is thrown away and started again, at most
 * WGK_DUMP_TRIES times.  The caller frees dev with wgk_device_free().
 */
int
wgk_fetch(const char *name, struct wgk_device *dev, char *err, size_t errlen)
{
	int	 attempt, e;

	for (attempt = 0; attempt < WGK_DUMP_TRIES; attempt++) {
		memset(dev, 0, sizeof(*dev));
		if (wgk_dump(name, dev, attempt, err, errlen) == 0) {
			dev->restarts = attempt;
			return 0;
		}
		e = errno;
		wgk_device_free(dev);
		if (e != EINTR) {
			errno = e;
			return -1;
		}
		log_debug("%s: dump interrupted by a change, reading again",
		    name);
	}
	snprintf(err, errlen, "%s: get: the device kept changing while it "
	    "was read (%d tries)", name, WGK_DUMP_TRIES);
	errno = EINTR;
	return -1;
}

/* RTM_NEWLINK kind "wireguard", quietly: the caller explains. */
static int
wgk_link_add(const char *name, char *extack, size_t extacklen)
{
	struct wgk_sock		 ks;
	struct nlmsghdr		*nlh;
	struct ifinfomsg	*ifi;
	struct nlattr		*linkinfo;
	char			 buf[256];
	int			 r;

	if (wgk_open(&ks, NETLINK_ROUTE) == -1)
		return -1;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "wireguard");
	mnl_attr_nest_end(nlh, linkinfo);
	r = wgk_talk(&ks, nlh, NULL, NULL);
	strlcpy(extack, ks.extack, extacklen);
	wgk_close(&ks);
	return r;
}

/* --- the backend's operations ----------------------------------------- */

static int
kernel_create(struct wg_dev *wd, char *err, size_t errlen)
{
	struct wgk_sock		 ks;
	struct wgk_device	 dev;
	const char		*name = wd->wd_name;
	char			 extack[WGK_EXTACK_MAX], why[OMNI_MSGSIZ];
	int			 have_family, e;

	/* Asking for the family loads the module when it can. */
	have_family = wgk_genl_open(&ks) == 0;
	e = errno;
	wgk_close(&ks);
	if (!have_family && e != ENOENT) {
		wgk_err(err, errlen, name, "generic netlink", e, NULL);
		return -1;
	}

	if (rtnl_ifindex(name) > 0) {
		/*
		 * A kernel device outlives a killed omnid: remove what
		 * an earlier run left, but never a foreign interface.
		 */
		if (!have_family || wgk_fetch(name, &dev, why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "interface %s already exists and "
			    "is not a kernel WireGuard interface", name);
			errno = EEXIST;
			return -1;
		}
		wgk_device_free(&dev);
		log_warnx("%s: removing the kernel WireGuard interface an "
		    "earlier run left behind", name);
		if (rtnl_link_del(name) == -1) {
			snprintf(err, errlen, "%s: cannot remove the stale "
			    "interface", name);
			return -1;
		}
	}

	if (wgk_link_add(name, extack, sizeof(extack)) == -1) {
		e = errno;
		if (e == EOPNOTSUPP) {
			snprintf(err, errlen, "%s: kernel WireGuard is not "
			    "available: %s, and the kernel does not know the "
			    "link kind \"wireguard\" (load the wireguard "
			    "module: modprobe wireguard)", name,
			    have_family ? "the family is registered" :
			    "no generic netlink family \"wireguard\"");
			errno = WG_EABSENT;
			return -1;
		}
		wgk_err(err, errlen, name, "create the interface", e, extack);
		return -1;
	}
	if (!have_family && wgk_genl_open(&ks) == -1) {
		e = errno;
		wgk_err(err, errlen, name, "generic netlink", e, NULL);
		(void)rtnl_link_del(name);
		errno = e;
		return -1;
	}
	wgk_close(&ks);
	if ((wd->wd_ifindex = rtnl_ifindex(name)) <= 0) {
		snprintf(err, errlen, "%s: the interface vanished after it was "
		    "created", name);
		(void)rtnl_link_del(name);
		wd->wd_ifindex = 0;
		errno = ENODEV;
		return -1;
	}
	wd->wd_pid = -1;
	return 0;
}

static int
kernel_destroy(struct wg_dev *wd)
{
	int	 rv = 0;

	if (rtnl_link_del(wd->wd_name) == -1)
		rv = -1;
	wd->wd_ifindex = 0;
	log_info("%s: kernel interface removed", wd->wd_name);
	return rv;
}

static int
wgk_key_zero(const uint8_t key[32])
{
	static const uint8_t	 zero[32];

	return sodium_memcmp(key, zero, 32) == 0;
}

static int
kernel_set_device(struct wg_dev *wd, const uint8_t priv[32], uint16_t port,
    char *err, size_t errlen)
{
	struct wgk_set	 s;

	if (wgk_key_zero(priv)) {
		snprintf(err, errlen, "%s: set device: bad private key (all "
		    "zeros)", wd->wd_name);
		errno = EINVAL;
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.ifname = wd->wd_name;
	s.privkey = priv;
	s.set_port = 1;
	s.port = port;
	s.set_fwmark = 1;	/* omni marks nothing: clear a stale mark */
	s.fwmark = 0;
	return wgk_apply(&s, err, errlen) == -1 ? -1 : 0;
}

/*
 * Add or update one peer in one message: the other peers are left
 * alone, this one's allowed IPs are replaced by the one prefix.
 */
static int
kernel_set_peer(struct wg_dev *wd, const struct wg_peer_req *pr,
    const uint8_t *psk, char *err, size_t errlen)
{
	struct wgk_set	 s;
	struct wgk_peer	 p;
	struct wgk_aip	 aip;
	int		 rv;

	if (wgk_key_zero(pr->pubkey)) {
		snprintf(err, errlen, "%s: set peer: bad public key (all "
		    "zeros)", wd->wd_name);
		errno = EINVAL;
		return -1;
	}
	memset(&aip, 0, sizeof(aip));
	aip.af = pr->allowed.af;
	aip.cidr = pr->allowed.plen;
	memcpy(aip.addr, pr->allowed.addr, sizeof(aip.addr));
	memset(&p, 0, sizeof(p));
	memcpy(p.pubkey, pr->pubkey, 32);
	if (psk != NULL) {
		memcpy(p.psk, psk, 32);
		p.has_psk = 1;
	}
	p.flags = WGPEER_F_REPLACE_ALLOWEDIPS;
	p.endpoint = pr->endpoint;
	p.has_keepalive = 1;
	p.keepalive = pr->keepalive;
	p.naips = 1;
	p.aips = &aip;
	memset(&s, 0, sizeof(s));
	s.ifname = wd->wd_name;
	s.peers = &p;
	s.npeers = 1;
	rv = wgk_apply(&s, err, errlen) == -1 ? -1 : 0;
	sodium_memzero(&p, sizeof(p));
	return rv;
}

static int
kernel_del_peer(struct wg_dev *wd, const uint8_t pub[32], char *err,
    size_t errlen)
{
	struct wgk_set	 s;
	struct wgk_peer	 p;

	memset(&p, 0, sizeof(p));
	memcpy(p.pubkey, pub, 32);
	p.flags = WGPEER_F_REMOVE_ME;
	memset(&s, 0, sizeof(s));
	s.ifname = wd->wd_name;
	s.peers = &p;
	s.npeers = 1;
	return wgk_apply(&s, err, errlen) == -1 ? -1 : 0;
}

/* Every peer to cb, once the whole dump has been read and checked. */
static int
kernel_get_peers(struct wg_dev *wd, int (*cb)(const struct wg_peer_stats *,
    void *), void *arg, char *err, size_t errlen)
{
	struct wgk_device	 dev;
	struct wg_peer_stats	 ps;
	size_t			 i;
	int			 n;

	if (wgk_fetch(wd->wd_name, &dev, err, errlen) == -1)
		return -1;
	for (i = 0; i < dev.npeers; i++) {
		memset(&ps, 0, sizeof(ps));
		memcpy(ps.pubkey, dev.peers[i].pubkey, OMNI_KEYLEN);
		ps.endpoint = dev.peers[i].endpoint;
		ps.last_handshake = dev.peers[i].last_handshake;
		ps.rx_bytes = dev.peers[i].rx_bytes;
		ps.tx_bytes = dev.peers[i].tx_bytes;
		if (cb != NULL && cb(&ps, arg) != 0) {
			wgk_device_free(&dev);
			snprintf(err, errlen, "%s: get: stopped by the "
			    "callback", wd->wd_name);
			errno = ECANCELED;
			return -1;
		}
	}
	n = (int)dev.npeers;
	wgk_device_free(&dev);
	return n;
}
