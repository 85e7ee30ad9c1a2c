/*
 * Unit tests of the kernel backend's message building and parsing
 * (parent/wg_kernel.c), no kernel needed: a large change cut into
 * SET_DEVICE messages that fit a buffer, multi-part GET_DEVICE dumps
 * merged (a peer repeated across parts), interrupted dumps, kernel
 * errors, and malformed replies refused.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "omni.h"
#include "wg.h"
#include "tap.h"

#define FAMILY		0x1c	/* any generic netlink family id */

static void
key_of(uint8_t key[32], unsigned i, uint8_t tag)
{
	memset(key, 0, 32);
	key[0] = tag;
	key[1] = (uint8_t)(i >> 16);
	key[2] = (uint8_t)(i >> 8);
	key[3] = (uint8_t)i;
	key[31] = 0x5a;
}

static void
aip4(struct wgk_aip *a, unsigned i, uint8_t cidr)
{
	memset(a, 0, sizeof(*a));
	a->af = AF_INET;
	a->cidr = cidr;
	a->addr[0] = 10;
	a->addr[1] = (uint8_t)(i >> 16);
	a->addr[2] = (uint8_t)(i >> 8);
	a->addr[3] = (uint8_t)i;
}

/* --- SET messages --------------------------------------------------- */

struct msgs {
	int	 n;
	char	*buf[4096];
	size_t	 len[4096];
};

static void
msgs_free(struct msgs *m)
{
	int	 i;

	for (i = 0; i < m->n; i++)
		free(m->buf[i]);
	m->n = 0;
}

/* Run the builder to the end; -1 when it failed (errno). */
static int
build_all(struct wgk_set *s, size_t buflen, struct msgs *m)
{
	char	*buf;
	int	 n;

	m->n = 0;
	for (;;) {
		if (m->n == 4096)
			return -1;
		if ((buf = malloc(buflen)) == NULL)
			return -1;
		n = wgk_set_next(s, FAMILY, 100 + m->n, buf, buflen);
		if (n <= 0) {
			free(buf);
			return n;
		}
		m->buf[m->n] = buf;
		m->len[m->n] = (size_t)n;
		m->n++;
	}
}

struct peerinfo {
	int	 npeers;
	int	 has_flags[8];	/* per peer in this message */
	uint32_t flags[8];
	int	 has_psk[8];
	int	 naips[8];
	uint8_t	 key0[32];
};

/* What one SET message says, read with libmnl independently. */
static int
inspect(const char *buf, size_t len, int *devattrs, struct peerinfo *pi)
{
	const struct nlmsghdr	*nlh = (const struct nlmsghdr *)buf;
	const struct nlattr	*a, *p, *x, *y;

	memset(pi, 0, sizeof(*pi));
	*devattrs = 0;
	if (!mnl_nlmsg_ok(nlh, (int)len) || nlh->nlmsg_type != FAMILY ||
	    !(nlh->nlmsg_flags & NLM_F_ACK))
		return -1;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case WGDEVICE_A_PRIVATE_KEY:
		case WGDEVICE_A_LISTEN_PORT:
		case WGDEVICE_A_FWMARK:
		case WGDEVICE_A_FLAGS:
			(*devattrs)++;
			break;
		case WGDEVICE_A_PEERS:
			mnl_attr_for_each_nested(p, a) {
				int	 k = pi->npeers++;

				if (k >= 8)
					continue;
				mnl_attr_for_each_nested(x, p) {
					switch (mnl_attr_get_type(x)) {
					case WGPEER_A_PUBLIC_KEY:
						if (k == 0)
							memcpy(pi->key0,
							    mnl_attr_get_payload(
							    x), 32);
						break;
					case WGPEER_A_FLAGS:
						pi->has_flags[k] = 1;
						pi->flags[k] =
						    mnl_attr_get_u32(x);
						break;
					case WGPEER_A_PRESHARED_KEY:
						pi->has_psk[k] = 1;
						break;
					case WGPEER_A_ALLOWEDIPS:
						mnl_attr_for_each_nested(y, x)
							pi->naips[k]++;
						break;
					}
				}
			}
			break;
		}
	}
	return 0;
}

/*
 * Read SET messages back as the kernel would apply them: the same
 * attribute tree as a GET reply, so relabel the command and merge.
 */
static int
apply_msgs(struct msgs *m, struct wgk_device *dev)
{
	struct genlmsghdr	*g;
	int			 i;

	memset(dev, 0, sizeof(*dev));
	for (i = 0; i < m->n; i++) {
		g = mnl_nlmsg_get_payload((struct nlmsghdr *)m->buf[i]);
		g->cmd = WG_CMD_GET_DEVICE;
		if (wgk_parse_msg((struct nlmsghdr *)m->buf[i], dev) !=
		    MNL_CB_OK)
			return -1;
		g->cmd = WG_CMD_SET_DEVICE;
	}
	return 0;
}

static void
test_split(void)
{
	enum { N = 300, BIG = 17, NBIG = 500 };
	static struct wgk_peer	 peers[N];
	static struct wgk_aip	 aips[N], big[NBIG];
	struct wgk_set		 s;
	struct wgk_device	 dev;
	struct peerinfo		 pi;
	struct msgs		 m;
	uint8_t			 priv[32];
	size_t			 maxlen = 0, i, j;
	int			 devattrs, bad = 0, replace = 0, cont = 0;
	int			 first_dev = 0, later_dev = 0, r;

	memset(priv, 7, sizeof(priv));
	for (i = 0; i < N; i++) {
		memset(&peers[i], 0, sizeof(peers[i]));
		key_of(peers[i].pubkey, (unsigned)i, 1);
		key_of(peers[i].psk, (unsigned)i, 2);
		peers[i].has_psk = 1;
		peers[i].flags = WGPEER_F_REPLACE_ALLOWEDIPS;
		peers[i].endpoint.sin.sin_family = AF_INET;
		peers[i].endpoint.sin.sin_port = htons(51820);
		peers[i].endpoint.sin.sin_addr.s_addr = htonl(0xc6120000 + i);
		peers[i].has_keepalive = 1;
		peers[i].keepalive = (uint16_t)(i % 60);
		aip4(&aips[i], (unsigned)i, 32);
		peers[i].naips = 1;
		peers[i].aips = &aips[i];
	}
	for (j = 0; j < NBIG; j++)
		aip4(&big[j], (unsigned)(0x100000 + j), 32);
	peers[BIG].naips = NBIG;
	peers[BIG].aips = big;

	memset(&s, 0, sizeof(s));
	s.ifname = "wgtest0";
	s.flags = WGDEVICE_F_REPLACE_PEERS;
	s.privkey = priv;
	s.set_port = 1;
	s.port = 51820;
	s.set_fwmark = 1;
	s.fwmark = 0x42;
	s.peers = peers;
	s.npeers = N;
	r = build_all(&s, 2048, &m);
	ok(r == 0, "300 peers and 799 allowed IPs built "
	    "into messages of 2048 bytes");
	ok(m.n > 10, "the change was cut into %d messages", m.n);
	for (i = 0; i < (size_t)m.n; i++) {
		if (m.len[i] > maxlen)
			maxlen = m.len[i];
		if (inspect(m.buf[i], m.len[i], &devattrs, &pi) == -1)
			bad++;
		if (i == 0)
			first_dev = devattrs;
		else
			later_dev += devattrs;
		for (j = 0; j < 8 && j < (size_t)pi.npeers; j++)
			if (pi.has_flags[j] &&
			    (pi.flags[j] & WGPEER_F_REPLACE_ALLOWEDIPS) &&
			    pi.naips[j] > 0 && pi.key0[3] == BIG && j == 0)
				replace++;
		/* A continuation: the big peer first, no flags, no psk. */
		if (pi.npeers > 0 && pi.key0[0] == 1 && pi.key0[3] == BIG &&
		    !pi.has_flags[0] && !pi.has_psk[0] && pi.naips[0] > 0)
			cont++;
	}
	ok(bad == 0, "every message is a well-formed acknowledged request");
	ok(maxlen <= 2048, "no message is longer than the buffer (longest "
	    "%zu)", maxlen);
	ok(first_dev == 4, "the first message carries the device attributes");
	ok(later_dev == 0, "later messages carry none of them");
	ok(cont >= 1, "the big peer continues in %d later message(s) with "
	    "neither flags nor preshared key", cont);
	ok(wgk_set_next(&s, FAMILY, 1, m.buf[0], 2048) == 0,
	    "the builder reports the end");

	ok(apply_msgs(&m, &dev) == 0, "the messages read back as one change");
	ok(dev.npeers == N, "every peer is there once (%zu)", dev.npeers);
	ok(dev.nmerged == cont, "the continuations merged into their peer "
	    "(%d)", dev.nmerged);
	bad = 0;
	for (i = 0; i < dev.npeers && i < N; i++) {
		if (memcmp(dev.peers[i].pubkey, peers[i].pubkey, 32) != 0 ||
		    memcmp(dev.peers[i].psk, peers[i].psk, 32) != 0 ||
		    dev.peers[i].keepalive != peers[i].keepalive ||
		    dev.peers[i].endpoint.sin.sin_addr.s_addr !=
		    peers[i].endpoint.sin.sin_addr.s_addr ||
		    dev.peers[i].naips != peers[i].naips)
			bad++;
		else
			for (j = 0; j < peers[i].naips; j++)
				if (memcmp(&dev.peers[i].aips[j],
				    &peers[i].aips[j], sizeof(struct wgk_aip)))
					bad++;
	}
	ok(bad == 0, "keys, endpoints, keepalives and allowed IPs in order");
	ok(dev.listen_port == 51820 && dev.fwmark == 0x42 && dev.has_key &&
	    memcmp(dev.privkey, priv, 32) == 0, "device attributes intact");
	wgk_device_free(&dev);
	msgs_free(&m);

	/* The same change in the real buffer size. */
	memset(&s.started, 0, sizeof(s) - offsetof(struct wgk_set, started));
	r = build_all(&s, WGK_MSG_MAX, &m);
	ok(r == 0 && m.n >= 3,
	    "in WGK_MSG_MAX buffers: %d messages", m.n);
	msgs_free(&m);

	/* Too small for one peer with one allowed IP. */
	memset(&s.started, 0, sizeof(s) - offsetof(struct wgk_set, started));
	ok(build_all(&s, 150, &m) == -1 && errno == EMSGSIZE,
	    "a buffer too small for a single peer fails with EMSGSIZE");
	msgs_free(&m);
}

static void
test_flags(void)
{
	struct wgk_peer	 p[2];
	struct wgk_aip	 a[40];
	struct wgk_set	 s;
	struct peerinfo	 pi;
	struct msgs	 m;
	int		 devattrs, i, r, upd = 0;

	memset(p, 0, sizeof(p));
	key_of(p[0].pubkey, 1, 1);
	p[0].flags = WGPEER_F_UPDATE_ONLY | WGPEER_F_REPLACE_ALLOWEDIPS;
	for (i = 0; i < 40; i++)
		aip4(&a[i], (unsigned)i, 32);
	p[0].aips = a;
	p[0].naips = 40;
	key_of(p[1].pubkey, 2, 1);
	p[1].flags = WGPEER_F_REMOVE_ME;
	p[1].aips = a;
	p[1].naips = 40;
	memset(&s, 0, sizeof(s));
	s.ifname = "wgtest0";
	s.peers = p;
	s.npeers = 2;
	r = build_all(&s, 400, &m);
	ok(r == 0 && m.n > 2,
	    "an UPDATE_ONLY peer with 40 allowed IPs in %d messages", m.n);
	for (i = 1; i < m.n; i++) {
		inspect(m.buf[i], m.len[i], &devattrs, &pi);
		if (pi.key0[3] == 1 && pi.has_flags[0] &&
		    pi.flags[0] == WGPEER_F_UPDATE_ONLY)
			upd++;
	}
	ok(upd == m.n - 2 || upd == m.n - 1, "continuations keep "
	    "UPDATE_ONLY and drop REPLACE_ALLOWEDIPS (%d of %d)", upd,
	    m.n - 1);
	inspect(m.buf[m.n - 1], m.len[m.n - 1], &devattrs, &pi);
	ok(pi.has_flags[pi.npeers - 1] &&
	    pi.flags[pi.npeers - 1] == WGPEER_F_REMOVE_ME &&
	    pi.naips[pi.npeers - 1] == 0,
	    "a removed peer goes without allowed IPs");
	msgs_free(&m);

	memset(&s, 0, sizeof(s));
	ok(wgk_set_next(&s, FAMILY, 1, (char[64]){ 0 }, 64) == -1 &&
	    errno == EINVAL, "no interface name: EINVAL");
}

/* --- GET replies ---------------------------------------------------- */

static struct nlmsghdr *
get_part(char *buf, uint32_t seq, uint16_t flags)
{
	struct nlmsghdr		*nlh;
	struct genlmsghdr	*g;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_flags = NLM_F_MULTI | flags;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = 4242;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = 1;
	return nlh;
}

static void
put_reply_aip(struct nlmsghdr *nlh, unsigned i)
{
	struct nlattr	*n;
	uint8_t		 ip[4] = { 10, 9, (uint8_t)(i >> 8), (uint8_t)i };

	n = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, 32);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 4, ip);
	mnl_attr_nest_end(nlh, n);
}

/* A peer as the kernel dumps it; full=0: a continuation (key, IPs). */
static void
put_reply_peer(struct nlmsghdr *nlh, unsigned k, int full, unsigned a0,
    unsigned a1)
{
	struct nlattr		*p, *l;
	struct sockaddr_in	 sin;
	uint8_t			 key[32];
	int64_t			 ts[2] = { 1700000000 + k, 5 };
	unsigned		 i;

	p = mnl_attr_nest_start(nlh, 0);
	key_of(key, k, 9);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 32, key);
	if (full) {
		key_of(key, k, 8);
		mnl_attr_put(nlh, WGPEER_A_PRESHARED_KEY, 32, key);
		mnl_attr_put(nlh, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), ts);
		mnl_attr_put_u16(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
		    25);
		/* A 64-bit value after a pad attribute, as the kernel does. */
		mnl_attr_put(nlh, WGPEER_A_UNSPEC, 0, NULL);
		mnl_attr_put_u64(nlh, WGPEER_A_TX_BYTES, 1000 + k);
		mnl_attr_put_u64(nlh, WGPEER_A_RX_BYTES, 2000 + k);
		mnl_attr_put_u32(nlh, WGPEER_A_PROTOCOL_VERSION, 1);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(51820);
		sin.sin_addr.s_addr = htonl(0xc6120000 + k);
		mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(sin), &sin);
	}
	if (a1 > a0) {
		l = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
		for (i = a0; i < a1; i++)
			put_reply_aip(nlh, i);
		mnl_attr_nest_end(nlh, l);
	}
	mnl_attr_nest_end(nlh, p);
}

static void
put_reply_dev(struct nlmsghdr *nlh, uint32_t ifindex)
{
	uint8_t	 key[32];

	mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, 51820);
	mnl_attr_put_u32(nlh, WGDEVICE_A_FWMARK, 0x42);
	mnl_attr_put_u32(nlh, WGDEVICE_A_IFINDEX, ifindex);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "wgtest0");
	memset(key, 3, sizeof(key));
	mnl_attr_put(nlh, WGDEVICE_A_PRIVATE_KEY, 32, key);
	memset(key, 4, sizeof(key));
	mnl_attr_put(nlh, WGDEVICE_A_PUBLIC_KEY, 32, key);
}

static size_t
put_done(char *buf, uint32_t seq, int error)
{
	struct nlmsghdr	*nlh;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = 4242;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(error)), &error,
	    sizeof(error));
	return nlh->nlmsg_len;
}

static void
test_dump(void)
{
	static char		 b1[16384], b2[16384], b3[64];
	struct wgk_device	 dev;
	struct nlmsghdr		*nlh;
	struct nlattr		*peers;
	char			 extack[64] = "";
	int			 r1, r2, r3;

	/* Part 1: the device, peer 1 whole, peer 2 with IPs 0..99. */
	memset(b1, 0, sizeof(b1));
	nlh = get_part(b1, 77, 0);
	put_reply_dev(nlh, 5);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	put_reply_peer(nlh, 1, 1, 1000, 1003);
	put_reply_peer(nlh, 2, 1, 0, 100);
	mnl_attr_nest_end(nlh, peers);
	/* Part 2: peer 2 again with IPs 100..249, then peer 3 (none). */
	memset(b2, 0, sizeof(b2));
	nlh = get_part(b2, 77, 0);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	put_reply_peer(nlh, 2, 0, 100, 250);
	put_reply_peer(nlh, 3, 1, 0, 0);
	mnl_attr_nest_end(nlh, peers);
	put_done(b3, 77, 0);

	memset(&dev, 0, sizeof(dev));
	r1 = wgk_dump_feed(&dev, b1, ((struct nlmsghdr *)b1)->nlmsg_len, 77,
	    4242, extack, sizeof(extack));
	r2 = wgk_dump_feed(&dev, b2, ((struct nlmsghdr *)b2)->nlmsg_len, 77,
	    4242, extack, sizeof(extack));
	r3 = wgk_dump_feed(&dev, b3, ((struct nlmsghdr *)b3)->nlmsg_len, 77,
	    4242, extack, sizeof(extack));
	ok(r1 == MNL_CB_OK && r2 == MNL_CB_OK && r3 == MNL_CB_STOP,
	    "a two-part dump then NLMSG_DONE (%d %d %d)", r1, r2, r3);
	ok(dev.nmsgs == 2 && dev.npeers == 3 && dev.nmerged == 1,
	    "three peers, the one repeated across parts merged "
	    "(%d parts, %zu peers, %d merged)", dev.nmsgs, dev.npeers,
	    dev.nmerged);
	ok(dev.npeers == 3 && dev.peers[1].naips == 250 &&
	    dev.peers[1].aips[249].addr[3] == 249 &&
	    dev.peers[1].aips[100].addr[2] == 0 &&
	    dev.peers[1].aips[100].addr[3] == 100,
	    "the merged peer has its 250 allowed IPs in order");
	ok(dev.npeers == 3 && dev.peers[1].keepalive == 25 &&
	    dev.peers[1].rx_bytes == 2002 && dev.peers[1].tx_bytes == 1002 &&
	    dev.peers[1].last_handshake == 1700000002 &&
	    dev.peers[1].has_psk && dev.peers[1].psk[0] == 8,
	    "the merged peer kept what its first part said");
	ok(dev.npeers == 3 && dev.peers[0].naips == 3 &&
	    dev.peers[2].naips == 0 &&
	    dev.peers[0].endpoint.sin.sin_family == AF_INET &&
	    ntohs(dev.peers[0].endpoint.sin.sin_port) == 51820,
	    "the other peers are whole");
	ok(dev.ifindex == 5 && strcmp(dev.ifname, "wgtest0") == 0 &&
	    dev.listen_port == 51820 && dev.fwmark == 0x42 && dev.has_key &&
	    dev.privkey[0] == 3 && dev.pubkey[0] == 4 && dev.naips == 253,
	    "device attributes from the first part");
	wgk_device_free(&dev);

	/* Another request's reply (seq) is not ours. */
	memset(&dev, 0, sizeof(dev));
	ok(wgk_dump_feed(&dev, b1, ((struct nlmsghdr *)b1)->nlmsg_len, 78,
	    4242, extack, sizeof(extack)) == MNL_CB_ERROR,
	    "a reply to another sequence number is refused");
	wgk_device_free(&dev);

	/* NLM_F_DUMP_INTR on the second part. */
	((struct nlmsghdr *)b2)->nlmsg_flags |= NLM_F_DUMP_INTR;
	memset(&dev, 0, sizeof(dev));
	r1 = wgk_dump_feed(&dev, b1, ((struct nlmsghdr *)b1)->nlmsg_len, 77,
	    4242, extack, sizeof(extack));
	errno = 0;
	r2 = wgk_dump_feed(&dev, b2, ((struct nlmsghdr *)b2)->nlmsg_len, 77,
	    4242, extack, sizeof(extack));
	ok(r1 == MNL_CB_OK && r2 == MNL_CB_ERROR && errno == EINTR &&
	    dev.interrupted, "an interrupted dump says so: EINTR, start again");
	wgk_device_free(&dev);
	((struct nlmsghdr *)b2)->nlmsg_flags &= ~NLM_F_DUMP_INTR;

	/* The parser alone also notices the flag. */
	memset(&dev, 0, sizeof(dev));
	((struct nlmsghdr *)b2)->nlmsg_flags |= NLM_F_DUMP_INTR;
	ok(wgk_parse_msg((struct nlmsghdr *)b2, &dev) == MNL_CB_OK &&
	    dev.interrupted, "wgk_parse_msg marks an interrupted part");
	((struct nlmsghdr *)b2)->nlmsg_flags &= ~NLM_F_DUMP_INTR;
	wgk_device_free(&dev);

	/* Parts of two different devices do not merge. */
	memset(b2, 0, sizeof(b2));
	nlh = get_part(b2, 77, 0);
	mnl_attr_put_u32(nlh, WGDEVICE_A_IFINDEX, 6);
	memset(&dev, 0, sizeof(dev));
	wgk_dump_feed(&dev, b1, ((struct nlmsghdr *)b1)->nlmsg_len, 77, 4242,
	    extack, sizeof(extack));
	ok(wgk_dump_feed(&dev, b2, nlh->nlmsg_len, 77, 4242, extack,
	    sizeof(extack)) == MNL_CB_ERROR && errno == EBADMSG,
	    "a part about another ifindex is malformed");
	wgk_device_free(&dev);

	/* A dump that failed in the kernel: NLMSG_DONE with -ENODEV. */
	memset(&dev, 0, sizeof(dev));
	put_done(b3, 77, -ENODEV);
	ok(wgk_dump_feed(&dev, b3, ((struct nlmsghdr *)b3)->nlmsg_len, 77,
	    4242, extack, sizeof(extack)) == MNL_CB_ERROR && errno == ENODEV,
	    "NLMSG_DONE carrying -ENODEV is an error ENODEV");
	wgk_device_free(&dev);
}

static void
test_error(void)
{
	char			 buf[512], extack[64] = "";
	struct nlmsghdr		*nlh;
	struct nlmsgerr		*e;
	struct wgk_device	 dev;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	nlh->nlmsg_seq = 9;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -EPERM;
	e->msg.nlmsg_len = sizeof(struct nlmsghdr);
	e->msg.nlmsg_seq = 9;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "not for you");
	memset(&dev, 0, sizeof(dev));
	ok(wgk_dump_feed(&dev, buf, nlh->nlmsg_len, 9, 0, extack,
	    sizeof(extack)) == MNL_CB_ERROR && errno == EPERM,
	    "an error reply -EPERM gives errno EPERM");
	ok(strcmp(extack, "not for you") == 0, "with the kernel's "
	    "explanation (\"%s\")", extack);
	e->error = 0;
	nlh->nlmsg_flags = 0;
	nlh->nlmsg_len = mnl_nlmsg_size(sizeof(*e));
	ok(wgk_dump_feed(&dev, buf, nlh->nlmsg_len, 9, 0, extack,
	    sizeof(extack)) == MNL_CB_STOP, "an ACK ends the exchange");
	e->error = -2147483647 - 1;
	ok(wgk_dump_feed(&dev, buf, nlh->nlmsg_len, 9, 0, extack,
	    sizeof(extack)) == MNL_CB_ERROR && errno == EBADMSG,
	    "an absurd error number is a malformed reply");
	wgk_device_free(&dev);
}

/* One malformed peer attribute tree: refused with EBADMSG. */
static int
bad_peer(void (*mutate)(struct nlmsghdr *))
{
	static char		 buf[4096];
	struct wgk_device	 dev;
	struct nlmsghdr		*nlh;
	struct nlattr		*peers, *p;
	int			 r, e;

	memset(buf, 0, sizeof(buf));
	nlh = get_part(buf, 1, 0);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	p = mnl_attr_nest_start(nlh, 0);
	mutate(nlh);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, peers);
	memset(&dev, 0, sizeof(dev));
	r = wgk_parse_msg(nlh, &dev);
	e = errno;
	wgk_device_free(&dev);
	return r == MNL_CB_ERROR && e == EBADMSG;
}

static void
m_nokey(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 5);
}

static void
m_shortkey(struct nlmsghdr *nlh)
{
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 31, (uint8_t[32]){ 1 });
}

static void
m_key(struct nlmsghdr *nlh)
{
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 32, (uint8_t[32]){ 1 });
}

static void
m_cidr(struct nlmsghdr *nlh)
{
	struct nlattr	*l, *n;

	m_key(nlh);
	l = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	n = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, 33);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 4, (uint8_t[4]){ 10 });
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, l);
}

static void
m_v6len(struct nlmsghdr *nlh)
{
	struct nlattr	*l, *n;

	m_key(nlh);
	l = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	n = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, 64);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET6);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 4, (uint8_t[4]){ 10 });
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, l);
}

static void
m_nofamily(struct nlmsghdr *nlh)
{
	struct nlattr	*l, *n;

	m_key(nlh);
	l = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	n = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, 8);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 4, (uint8_t[4]){ 10 });
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, l);
}

static void
m_endpoint(struct nlmsghdr *nlh)
{
	struct sockaddr_in6	 sin6;

	m_key(nlh);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET;	/* the size of the other family */
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(sin6), &sin6);
}

static void
m_truncated(struct nlmsghdr *nlh)
{
	struct nlattr	*a;

	m_key(nlh);
	a = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	mnl_attr_put_u16(nlh, 7, 1);
	mnl_attr_nest_end(nlh, a);
	/* The inner attribute claims more than its nest holds. */
	((struct nlattr *)mnl_attr_get_payload(a))->nla_len = 64;
}

static void
m_u64(struct nlmsghdr *nlh)
{
	m_key(nlh);
	mnl_attr_put_u32(nlh, WGPEER_A_RX_BYTES, 1);
}

static void
test_malformed(void)
{
	static char		 buf[256];
	struct wgk_device	 dev;
	struct nlmsghdr		*nlh;
	struct genlmsghdr	*g;

	ok(bad_peer(m_nokey), "a peer without a public key is malformed");
	ok(bad_peer(m_shortkey), "a 31-byte public key is malformed");
	ok(bad_peer(m_cidr), "an IPv4 allowed IP /33 is malformed");
	ok(bad_peer(m_v6len), "an IPv6 allowed IP of 4 bytes is malformed");
	ok(bad_peer(m_nofamily), "an allowed IP without a family is "
	    "malformed");
	ok(bad_peer(m_endpoint), "an endpoint whose size does not match its "
	    "family is malformed");
	ok(bad_peer(m_truncated), "an attribute longer than its nest is "
	    "malformed");
	ok(bad_peer(m_u64), "a 32-bit byte counter is malformed");

	memset(buf, 0, sizeof(buf));
	nlh = get_part(buf, 1, 0);
	mnl_attr_put(nlh, WGDEVICE_A_IFNAME, 4, "wg0x");
	memset(&dev, 0, sizeof(dev));
	ok(wgk_parse_msg(nlh, &dev) == MNL_CB_ERROR && errno == EBADMSG,
	    "an interface name without its NUL is malformed");
	memset(buf, 0, sizeof(buf));
	nlh = get_part(buf, 1, 0);
	g = mnl_nlmsg_get_payload(nlh);
	g->cmd = WG_CMD_SET_DEVICE;
	ok(wgk_parse_msg(nlh, &dev) == MNL_CB_ERROR && errno == EBADMSG,
	    "a reply with another command is malformed");
	nlh->nlmsg_len = sizeof(*nlh) + 2;
	ok(wgk_parse_msg(nlh, &dev) == MNL_CB_ERROR && errno == EBADMSG,
	    "a reply shorter than its generic netlink header is malformed");
	wgk_device_free(&dev);
}

/* One message with more peers than WGK_MAX_PEERS: E2BIG, not a crash. */
static void
test_limits(void)
{
	size_t			 n = WGK_MAX_PEERS + 1, len, i;
	struct wgk_device	 dev;
	struct nlmsghdr		*nlh;
	struct nlattr		*peers, *p;
	uint8_t			 key[32];
	char			*buf;

	len = 4096 + n * 48;
	if ((buf = calloc(1, len)) == NULL) {
		ok(0, "out of memory");
		return;
	}
	nlh = get_part(buf, 1, 0);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	for (i = 0; i < n; i++) {
		p = mnl_attr_nest_start(nlh, 0);
		key_of(key, (unsigned)i, 1);
		mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 32, key);
		mnl_attr_nest_end(nlh, p);
	}
	/* A nest length is 16 bits: this one overflows, as it would. */
	peers->nla_len = 4;
	nlh->nlmsg_len = (uint32_t)((char *)peers + 4 - buf);
	memset(&dev, 0, sizeof(dev));
	ok(wgk_parse_msg(nlh, &dev) == MNL_CB_OK && dev.npeers == 0,
	    "an empty peer list is no peer");
	wgk_device_free(&dev);

	/* Many parts of 1000 peers each, as a long dump. */
	memset(&dev, 0, sizeof(dev));
	for (i = 0; i * 1000 < n; i++) {
		size_t	 j;

		memset(buf, 0, 64 * 1024);
		nlh = get_part(buf, 1, 0);
		peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
		for (j = i * 1000; j < n && j < (i + 1) * 1000; j++) {
			p = mnl_attr_nest_start(nlh, 0);
			key_of(key, (unsigned)j, 1);
			mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 32, key);
			mnl_attr_nest_end(nlh, p);
		}
		mnl_attr_nest_end(nlh, peers);
		if (wgk_parse_msg(nlh, &dev) != MNL_CB_OK)
			break;
	}
	ok(errno == E2BIG && dev.npeers == WGK_MAX_PEERS,
	    "more than %d peers: E2BIG after %zu", WGK_MAX_PEERS, dev.npeers);
	wgk_device_free(&dev);
	free(buf);
}

int
main(void)
{
	test_split();
	test_flags();
	test_dump();
	test_error();
	test_malformed();
	test_limits();
	return tap_done();
}
