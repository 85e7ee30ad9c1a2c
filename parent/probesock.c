/*
 * The probe sockets (issue 7): what is probed must be what WireGuard
 * will use, the NAT mapping of the WireGuard port itself.
 *
 * Design.  A NAT maps (local address, local port) to a public one; a
 * probe sent from any other port than WireGuard's opens and tests a
 * different mapping, and a symmetric or port-restricted NAT would then
 * let the probe through but drop WireGuard.  The WireGuard port is
 * bound by wireguard-go (or the kernel) and cannot be shared: a second
 * UDP socket on it would steal datagrams.  So the parent, which holds
 * CAP_NET_RAW, opens per interface and address family a raw socket
 * of protocol UDP:
 *
 *   - Receiving, a raw socket gets a copy of every UDP datagram the
 *     host receives, WireGuard's included.  A classic BPF filter,
 *     attached here and locked (SO_LOCK_FILTER, so the holder can
 *     neither remove nor replace it), passes only datagrams to the
 *     interface's WireGuard port whose payload starts with
 *     OMNI_PROBE_MAGIC or carries the STUN magic cookie at offset 4;
 *     everything else is cut to 0 bytes, i.e. dropped, before it is
 *     queued.  WireGuard's own socket still gets its copy of a probe
 *     and drops it as a message of unknown type.
 *   - Sending, the holder writes a UDP header and payload; the kernel
 *     adds the IP header from its routing (IP_HDRINCL is off).  With
 *     the WireGuard port as source port, probes and STUN requests
 *     leave through the very mapping WireGuard's packets use.  On
 *     IPv6 the kernel fills in the UDP checksum (IPV6_CHECKSUM 6); on
 *     IPv4 the holder may leave it 0 (no checksum) or compute it.
 *
 * The socket is handed to signald (IMSG_SOCK_PROBE), which parses the
 * network's bytes in its sandbox; the parent never reads from it.
 *
 * The risk: the holder of a raw UDP socket can send UDP datagrams
 * with any source port, for instance ones that look like answers of
 * another service of this host.  signald could already send UDP to
 * anyone from its signaling sockets, so what is new is the choice of
 * source port only.  What limits it: signald's seccomp allow-list has
 * no setsockopt(2) and no bind(2), so it can neither turn on
 * IP_HDRINCL / IPV6_HDRINCL (forging source addresses or other
 * protocols) nor detach or change the filter (locked anyway), and it
 * receives nothing but what the filter passes.  A compromised signald
 * can thus spoof the source port of UDP from this host's own
 * addresses, no more.
 */
#include <sys/socket.h>

#include <linux/filter.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "omni.h"
#include "probesock.h"

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER		44
#endif

#define STUN_COOKIE		0x2112a442U
#define PROBESOCK_RCVBUF	(256 * 1024)
/* the most of a datagram a filter lets through */
#define PROBESOCK_SNAPLEN	0xffff

/*
 * The filter for port of family af, at most max instructions into
 * prog.  Returns the number of instructions, -1 if max is too small.
 *
 * IPv4 raw sockets see the IP header: the UDP header is found through
 * the header length (BPF_MSH loads 4 * IHL into X), and fragments
 * other than the first, which carry no UDP header, are dropped.  IPv6
 * raw sockets see the datagram from its UDP header.  A load beyond
 * the end of a short packet ends the program with 0: dropped.
 * Jump offsets count the instructions skipped.
 */
int
probesock_filter(int af, uint16_t port, struct sock_filter *prog,
    size_t max)
{
	const struct sock_filter v4[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),	/* protocol */
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 10),
		/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),	/* fragment */
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 8, 0),
		/* 4 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		/* 5 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),	/* dst port */
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 5),
		/* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_IND, 8),	/* payload */
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			    OMNI_PROBE_MAGIC_BE, 2, 0),
		/* 9 */ BPF_STMT(BPF_LD | BPF_W | BPF_IND, 12),
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, STUN_COOKIE, 0, 1),
		/* 11 */ BPF_STMT(BPF_RET | BPF_K, PROBESOCK_SNAPLEN),
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	const struct sock_filter v6[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),	/* dst port */
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 5),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),	/* payload */
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			    OMNI_PROBE_MAGIC_BE, 2, 0),
		/* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 12),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, STUN_COOKIE, 0, 1),
		/* 6 */ BPF_STMT(BPF_RET | BPF_K, PROBESOCK_SNAPLEN),
		/* 7 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	const struct sock_filter *f;
	size_t			 n;

	if (af == AF_INET) {
		f = v4;
		n = sizeof(v4) / sizeof(v4[0]);
	} else if (af == AF_INET6) {
		f = v6;
		n = sizeof(v6) / sizeof(v6[0]);
	} else
		return -1;
	if (n > max)
		return -1;
	memcpy(prog, f, n * sizeof(*f));
	return (int)n;
}

/*
 * A raw UDP socket of family af that sees only probes and STUN to
 * port, nonblocking, close-on-exec, the filter locked.  Returns the
 * descriptor, or -1 (logged).
 */
int
probesock_open(int af, uint16_t port)
{
	struct sock_filter	 prog[PROBESOCK_MAXPROG];
	struct sock_fprog	 fp;
	int			 s, n, one = 1, off = 6;
	int			 rcvbuf = PROBESOCK_RCVBUF;

	if ((n = probesock_filter(af, port, prog, PROBESOCK_MAXPROG)) == -1) {
		log_warnx("%s: no filter for family %d", __func__, af);
		return -1;
	}
	if ((s = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_UDP)) == -1) {
		log_warn("probe socket (%s)", af == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	memset(&fp, 0, sizeof(fp));
	fp.len = n;
	fp.filter = prog;
	if (setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp)) == -1) {
		log_warn("probe socket: SO_ATTACH_FILTER");
		goto fail;
	}
	if (setsockopt(s, SOL_SOCKET, SO_LOCK_FILTER, &one,
	    sizeof(one)) == -1) {
		log_warn("probe socket: SO_LOCK_FILTER");
		goto fail;
	}
	if (af == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_CHECKSUM,
	    &off, sizeof(off)) == -1) {
		log_warn("probe socket: IPV6_CHECKSUM");
		goto fail;
	}
	/* probes are few; a flood beyond this is dropped, not queued */
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf)) == -1) {
		log_warn("probe socket: SO_RCVBUF");
		goto fail;
	}
	/*
	 * Anything that arrived between socket() and the filter was
	 * not filtered: drain it so the child sees only what passed.
	 */
	while (recv(s, prog, sizeof(prog), 0) >= 0 || errno == EINTR)
		;
	return s;
 fail:
	close(s);
	return -1;
}
