/*
 * issue 7: the probe socket's filter on real raw sockets.  In a network
 * namespace of its own (so nothing else on the host is seen or
 * disturbed), datagrams from ordinary UDP sockets go over loopback to
 * the "WireGuard port"; the raw sockets must see exactly the probes
 * and STUN messages to that port.  Then the other direction: a UDP
 * header written to the raw socket leaves with the WireGuard port as
 * its source.  Needs root (the namespace, raw sockets).
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omni.h"
#include "probesock.h"
#include "tap.h"

#define WGPORT		51820
#define OTHERPORT	51821

static const uint8_t stun_answer[20] = {
	0x01, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
};
static const uint8_t wg_init[16] = { 1, 0, 0, 0, 9, 9, 9, 9 };

static int
lo_setup(void)
{
	struct ifreq	 ifr;
	int		 s;

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		goto fail;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1)
		goto fail;
	/* small enough that a big datagram is fragmented */
	ifr.ifr_mtu = 1280;
	if (ioctl(s, SIOCSIFMTU, &ifr) == -1)
		goto fail;
	close(s);
	return 0;
 fail:
	close(s);
	return -1;
}

static void
addr_lo(int af, uint16_t port, struct omni_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (af == AF_INET) {
		a->sin.sin_family = AF_INET;
		a->sin.sin_port = htons(port);
		a->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		a->sin6.sin6_family = AF_INET6;
		a->sin6.sin6_port = htons(port);
		a->sin6.sin6_addr = in6addr_loopback;
	}
}

/* A bound UDP socket: the stand-in for WireGuard, or a peer. */
static int
udp_bound(int af, uint16_t port)
{
	struct omni_addr	 a;
	int			 s;

	if ((s = socket(af, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	addr_lo(af, port, &a);
	if (bind(s, &a.sa, omni_addr_len(&a)) == -1) {
		close(s);
		return -1;
	}
	return s;
}

static int
send_to(int af, uint16_t port, const void *buf, size_t len)
{
	struct omni_addr	 a;
	int			 s;
	ssize_t			 n;

	if ((s = socket(af, SOCK_DGRAM, 0)) == -1)
		return -1;
	addr_lo(af, port, &a);
	n = sendto(s, buf, len, 0, &a.sa, omni_addr_len(&a));
	close(s);
	return n == (ssize_t)len ? 0 : -1;
}

/* What the socket has within ms, -1 if nothing. */
static ssize_t
recv_wait(int s, void *buf, size_t len, int ms)
{
	struct pollfd	 pfd = { s, POLLIN, 0 };

	if (poll(&pfd, 1, ms) != 1)
		return -1;
	return recv(s, buf, len, 0);
}

static void
drain(int s)
{
	uint8_t	 buf[4096];

	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

/* The UDP payload of what a raw socket of af received, NULL if none. */
static const uint8_t *
raw_payload(int af, const uint8_t *buf, ssize_t n, size_t *plen,
    uint16_t *dport)
{
	size_t	 off = 0;

	if (n < 0)
		return NULL;
	if (af == AF_INET) {
		if (n < 20 || (buf[0] >> 4) != 4)
			return NULL;
		off = (buf[0] & 0xf) * 4;
	}
	if ((size_t)n < off + 8)
		return NULL;
	*dport = (uint16_t)(buf[off + 2] << 8 | buf[off + 3]);
	*plen = n - off - 8;
	return buf + off + 8;
}

static void
test_receive(int af, int raw, int wg)
{
	const char	*fam = af == AF_INET ? "IPv4" : "IPv6";
	static uint8_t	 buf[8192], big[3000];
	const uint8_t	*p;
	uint16_t	 dport = 0;
	size_t		 plen = 0;
	ssize_t		 n;

	drain(raw);
	ok(send_to(af, WGPORT, "OMNPprobe", 9) == 0 &&
	    (p = raw_payload(af, buf, recv_wait(raw, buf, sizeof(buf), 1000),
	    &plen, &dport)) != NULL && dport == WGPORT && plen == 9 &&
	    memcmp(p, "OMNPprobe", 9) == 0,
	    "%s: a probe to the WireGuard port passes", fam);
	ok(recv_wait(wg, buf, sizeof(buf), 1000) == 9,
	    "%s: WireGuard's socket still gets its copy", fam);

	ok(send_to(af, WGPORT, "OMNP", 4) == 0 &&
	    raw_payload(af, buf, recv_wait(raw, buf, sizeof(buf), 1000),
	    &plen, &dport) != NULL && plen == 4,
	    "%s: the bare 4-byte magic passes", fam);

	ok(send_to(af, WGPORT, stun_answer, sizeof(stun_answer)) == 0 &&
	    (p = raw_payload(af, buf, recv_wait(raw, buf, sizeof(buf), 1000),
	    &plen, &dport)) != NULL && plen == sizeof(stun_answer) &&
	    p[4] == 0x21 && p[7] == 0x42,
	    "%s: a STUN message (cookie at offset 4) passes", fam);

	memset(big, 'x', sizeof(big));
	memcpy(big, "OMNP", 4);
	n = -1;
	if (send_to(af, WGPORT, big, sizeof(big)) == 0)
		n = recv_wait(raw, buf, sizeof(buf), 1000);
	ok(raw_payload(af, buf, n, &plen, &dport) != NULL &&
	    plen == sizeof(big),
	    "%s: a fragmented probe passes reassembled (%zd bytes)", fam, n);
	drain(wg);

	/* what must not pass; a probe sent last proves the queue works */
	send_to(af, WGPORT, wg_init, sizeof(wg_init));
	send_to(af, OTHERPORT, "OMNPprobe", 9);
	send_to(af, OTHERPORT, stun_answer, sizeof(stun_answer));
	send_to(af, WGPORT, "OMN", 3);
	send_to(af, WGPORT, "xOMNPxxxxxxx", 12);
	send_to(af, WGPORT, "\x21\x12\xa4\x42xxxx", 8);
	send_to(af, WGPORT, "", 0);
	send_to(af, WGPORT, "OMNPlast", 8);
	p = raw_payload(af, buf, recv_wait(raw, buf, sizeof(buf), 1000),
	    &plen, &dport);
	ok(p != NULL && plen == 8 && memcmp(p, "OMNPlast", 8) == 0,
	    "%s: WireGuard traffic, other ports, short or misplaced magic "
	    "are filtered out", fam);
	ok(recv_wait(raw, buf, sizeof(buf), 200) == -1,
	    "%s: and nothing else was queued", fam);
	drain(wg);
}

/*
 * Sending: a UDP header and payload; the kernel adds the IP header
 * (and on IPv6 the checksum, else the receiver would drop it).
 */
static void
test_send(int af, int raw)
{
	const char		*fam = af == AF_INET ? "IPv4" : "IPv6";
	struct omni_addr	 dst, from;
	socklen_t		 fromlen = sizeof(from);
	uint8_t			 pkt[8 + 12], buf[64];
	int			 peer;
	ssize_t			 n;

	if ((peer = udp_bound(af, OTHERPORT)) == -1) {
		ok(0, "%s: a peer socket", fam);
		return;
	}
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = WGPORT >> 8;
	pkt[1] = WGPORT & 0xff;
	pkt[2] = OTHERPORT >> 8;
	pkt[3] = OTHERPORT & 0xff;
	pkt[4] = 0;
	pkt[5] = sizeof(pkt);
	memcpy(pkt + 8, "OMNPfrom-wg!", 12);
	/* raw sockets take the protocol, not a port, in the address */
	addr_lo(af, 0, &dst);
	n = sendto(raw, pkt, sizeof(pkt), 0, &dst.sa, omni_addr_len(&dst));
	ok(n == (ssize_t)sizeof(pkt), "%s: the raw socket sends (%zd)", fam,
	    n);
	n = -1;
	{
		struct pollfd	 pfd = { peer, POLLIN, 0 };

		if (poll(&pfd, 1, 1000) == 1)
			n = recvfrom(peer, buf, sizeof(buf), 0, &from.sa,
			    &fromlen);
	}
	ok(n == 12 && memcmp(buf, "OMNPfrom-wg!", 12) == 0 &&
	    omni_addr_port(&from) == WGPORT,
	    "%s: the peer gets it from the WireGuard port (%u)", fam,
	    n == 12 ? omni_addr_port(&from) : 0);
	close(peer);
}

static void
test_socket(int af, int raw)
{
	const char		*fam = af == AF_INET ? "IPv4" : "IPv6";
	struct sock_filter	 prog[PROBESOCK_MAXPROG];
	struct sock_fprog	 fp;
	int			 fl, fdfl, one = 1;

	fl = fcntl(raw, F_GETFL);
	fdfl = fcntl(raw, F_GETFD);
	ok(fl != -1 && (fl & O_NONBLOCK) && fdfl != -1 && (fdfl & FD_CLOEXEC),
	    "%s: nonblocking and close-on-exec", fam);
	errno = 0;
	ok(setsockopt(raw, SOL_SOCKET, SO_DETACH_FILTER, &one,
	    sizeof(one)) == -1 && errno == EPERM,
	    "%s: the filter is locked: detaching fails with EPERM", fam);
	memset(&fp, 0, sizeof(fp));
	prog[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff);
	fp.len = 1;
	fp.filter = prog;
	errno = 0;
	ok(setsockopt(raw, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp)) == -1 && errno == EPERM,
	    "%s: and so is replacing it", fam);
}

int
main(void)
{
	struct sock_filter	 prog[PROBESOCK_MAXPROG];
	int			 af, raw, wg, i;
	static const int	 fams[] = { AF_INET, AF_INET6 };

	ok(probesock_filter(AF_UNIX, WGPORT, prog, PROBESOCK_MAXPROG) == -1,
	    "no filter for another family");
	ok(probesock_filter(AF_INET, WGPORT, prog, 4) == -1 &&
	    probesock_filter(AF_INET6, WGPORT, prog, 4) == -1,
	    "a program that does not fit is refused");
	ok(probesock_filter(AF_INET, WGPORT, prog, PROBESOCK_MAXPROG) > 0 &&
	    BPF_CLASS(prog[0].code) == BPF_LD, "an IPv4 program");

	if (geteuid() != 0 || unshare(CLONE_NEWNET) == -1 ||
	    lo_setup() == -1) {
		/* the unit tests run as root in make check: say so loudly */
		ok(0, "a network namespace of our own (root needed): %s",
		    strerror(errno));
		return tap_done();
	}
	for (i = 0; i < 2; i++) {
		af = fams[i];
		raw = probesock_open(af, WGPORT);
		wg = udp_bound(af, WGPORT);
		ok(raw != -1 && wg != -1, "%s: probe socket on port %u",
		    af == AF_INET ? "IPv4" : "IPv6", WGPORT);
		if (raw == -1 || wg == -1)
			continue;
		test_socket(af, raw);
		test_receive(af, raw, wg);
		test_send(af, raw);
		close(raw);
		close(wg);
	}
	return tap_done();
}
