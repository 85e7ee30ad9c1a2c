/*
 * The probe engine over real raw UDP sockets (root): in a network
 * namespace of its own (unshare, gone when the test exits) edge A's
 * engine probes simulated peers whose WireGuard ports are other ports
 * of the same host, over IPv4 and IPv6 on the loopback device.
 *
 * What this proves that test_probe cannot: the UDP header probe.c
 * writes is one the kernel sends from the WireGuard port (sendto on a
 * raw socket, IPv4 checksum 0, IPv6 checksum by the kernel), the IPv4
 * header a raw socket gives is parsed right, and the IPv6 header that
 * signald.c puts in front is too; and the time to a path.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "probe.h"
#include "tap.h"

#define PORT_A		40001
#define PORT_B		40002
#define PORT_C		40003
#define PORT_D		40004

static uint8_t		 sigkey[32], pkey[32], keyA[32], keyB[32], keyC[32];
static uint8_t		 keyD[32];
static int		 fdA[2], fdP[2];	/* engine; the peers' side */
static int		 peer_answers, peer_got_answer;
static struct omni_addr	 peer_seen;

static void
t_nop(uint32_t ifid)
{
	(void)ifid;
}

static void
t_path(const struct peer_path *pp)
{
	(void)pp;
}

static const struct probe_io t_io = {
	.cands_changed = t_nop,
	.endpoint_changed = t_nop,
	.path = t_path
};

static void
now(struct sig_clock *clk)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	clk->ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	clock_gettime(CLOCK_REALTIME, &ts);
	clk->wall = ts.tv_sec;
	clk->wall_us = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
raw(int af)
{
	int	 s, off = 6;

	if ((s = socket(af, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_UDP)) == -1)
		return -1;
	if (af == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_CHECKSUM,
	    &off, sizeof(off)) == -1)
		return -1;
	return s;
}

/* One datagram from a raw socket, as probe_input takes it. */
static ssize_t
raw_read(int fd, int af, uint8_t *buf, size_t len)
{
	struct sockaddr_in6	 from;
	socklen_t		 fl = sizeof(from);
	ssize_t			 n;
	size_t			 off = af == AF_INET6 ? 40 : 0;

	n = recvfrom(fd, buf + off, len - off, 0, (struct sockaddr *)&from,
	    &fl);
	if (n <= 0)
		return -1;
	if (af == AF_INET6) {
		memset(buf, 0, 40);
		buf[0] = 0x60;
		buf[4] = n >> 8;
		buf[5] = n & 0xff;
		buf[6] = IPPROTO_UDP;
		memcpy(buf + 8, &from.sin6_addr, 16);
	}
	return n + off;
}

/* A peer (key by its port) sends a probe datagram from its port. */
static void
peer_send(int af, uint16_t sport, const struct omni_addr *to,
    const struct probe_pkt *p)
{
	uint8_t			 pkt[8 + PROBE_PKTLEN];
	struct omni_addr	 dst = *to;

	pkt[0] = sport >> 8;
	pkt[1] = sport & 0xff;
	pkt[2] = omni_addr_port(to) >> 8;
	pkt[3] = omni_addr_port(to) & 0xff;
	pkt[4] = 0;
	pkt[5] = sizeof(pkt);
	pkt[6] = pkt[7] = 0;
	probe_pkt_encode(p, pkey, pkt + 8, PROBE_PKTLEN);
	if (af == AF_INET)
		dst.sin.sin_port = 0;
	else
		dst.sin6.sin6_port = 0;
	if (sendto(fdP[af == AF_INET6], pkt, sizeof(pkt), 0, &dst.sa,
	    omni_addr_len(&dst)) == -1)
		printf("# peer sendto: %s\n", strerror(errno));
}

/* The peers: answer requests to their ports, note answers to them. */
static void
peer_input(int af, const uint8_t *buf, size_t len)
{
	struct omni_addr	 src;
	struct probe_pkt	 p, a;
	const uint8_t		*pl;
	size_t			 plen;
	uint16_t		 dport;
	const uint8_t		*me;

	if (probe_ip_parse(buf, len, &src, &dport, &pl, &plen) == -1)
		return;
	if (dport == PORT_B)
		me = keyB;
	else if (dport == PORT_C)
		me = keyC;
	else if (dport == PORT_D)
		me = keyD;
	else
		return;
	if (probe_pkt_decode(pl, plen, pkey, &p) != 0 ||
	    memcmp(p.pp_to, me, 32) != 0)
		return;
	if (p.pp_type == PROBE_ANSWER) {
		peer_got_answer++;
		peer_seen = p.pp_seen;
		return;
	}
	memset(&a, 0, sizeof(a));
	a.pp_type = PROBE_ANSWER;
	memcpy(a.pp_from, me, 32);
	memcpy(a.pp_to, p.pp_from, 32);
	a.pp_txid = p.pp_txid;
	a.pp_ts = p.pp_ts + 1;
	a.pp_seen = src;
	peer_send(af, dport, &src, &a);
	peer_answers++;
}

/* Run the loop for up to ms or until *done; returns ms taken. */
static long
run(int ms, int (*done)(void))
{
	struct pollfd		 pfd[4];
	struct sig_clock	 clk;
	uint8_t			 buf[2048];
	uint64_t		 start, due;
	ssize_t			 n;
	int			 i;

	now(&clk);
	start = clk.ms;
	while (clk.ms < start + (uint64_t)ms && !done()) {
		for (i = 0; i < 2; i++) {
			pfd[i].fd = fdA[i];
			pfd[i + 2].fd = fdP[i];
			pfd[i].events = pfd[i + 2].events = POLLIN;
		}
		poll(pfd, 4, 5);
		now(&clk);
		for (i = 0; i < 2; i++) {
			while ((n = raw_read(fdA[i], i ? AF_INET6 : AF_INET,
			    buf, sizeof(buf))) > 0)
				probe_input(3, buf, n, &clk);
			while ((n = raw_read(fdP[i], i ? AF_INET6 : AF_INET,
			    buf, sizeof(buf))) > 0)
				peer_input(i ? AF_INET6 : AF_INET, buf, n);
		}
		due = probe_next_due();
		if (due != 0 && due <= clk.ms)
			probe_tick(&clk);
	}
	return (long)(clk.ms - start);
}

static int
done_b(void)
{
	struct omni_addr	 ep;

	return probe_endpoint(3, keyB, &ep);
}

static int
done_c(void)
{
	struct omni_addr	 ep;

	return probe_endpoint(3, keyC, &ep);
}

static int
done_d(void)
{
	struct peer_path	 pp;

	return probe_peer_path(3, keyD, &pp) == 1 && pp.state == PROBE_OK &&
	    pp.remote.sa.sa_family == AF_INET6;
}

static int
done_answer(void)
{
	return peer_got_answer > 0;
}

static struct omni_addr
A(const char *ip, uint16_t port)
{
	struct omni_addr	 a;

	if (omni_addr_parse(ip, port, &a) == -1)
		abort();
	return a;
}

static int
addr_is(const struct omni_addr *a, const char *ip, uint16_t port)
{
	char	 s[OMNI_ADDRSTRLEN], t[OMNI_ADDRSTRLEN];
	struct omni_addr b = A(ip, port);

	return strcmp(omni_addr_str(a, s, sizeof(s)),
	    omni_addr_str(&b, t, sizeof(t))) == 0;
}

int
main(void)
{
	struct sock_probe	 sp4 = { 3, AF_INET, PORT_A };
	struct sock_probe	 sp6 = { 3, AF_INET6, PORT_A };
	struct local_addrs	 la;
	struct probe_cand	 pc;
	struct peer_path	 pp;
	struct omni_addr	 ep, to;
	struct probe_pkt	 r;
	struct sig_clock	 clk;
	long			 ms;

	if (sodium_init() == -1)
		return 1;
	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	if (!ok(unshare(CLONE_NEWNET) == 0,
	    "a network namespace of our own (needs root)"))
		return tap_done();
	if (!ok(system("ip link set lo up && "
	    "ip addr add 10.77.0.1/24 dev lo && "
	    "ip -6 addr add fd77::1/128 dev lo nodad") == 0,
	    "loopback with 10.77.0.1 and fd77::1"))
		return tap_done();
	fdA[0] = raw(AF_INET);
	fdA[1] = raw(AF_INET6);
	fdP[0] = raw(AF_INET);
	fdP[1] = raw(AF_INET6);
	if (!ok(fdA[0] != -1 && fdA[1] != -1 && fdP[0] != -1 && fdP[1] != -1,
	    "raw UDP sockets, IPv6 ones with IPV6_CHECKSUM"))
		return tap_done();

	memset(sigkey, 0x33, sizeof(sigkey));
	probe_key_derive(sigkey, pkey);
	memset(keyA, 0xaa, sizeof(keyA));
	memset(keyB, 0xbb, sizeof(keyB));
	memset(keyC, 0xcc, sizeof(keyC));
	probe_init(&t_io);
	probe_iface(3, sigkey, keyA, NULL, 0, NULL, 0);
	ok(probe_sock(&sp4, fdA[0]) == 0 && probe_sock(&sp6, fdA[1]) == 0,
	    "the engine takes both probe sockets");
	memset(&la, 0, sizeof(la));
	la.ifid = 3;
	la.generation = 1;
	la.naddr = 2;
	la.addr[0] = A("10.77.0.1", 1);
	la.addr[1] = A("fd77::1", 1);
	now(&clk);
	probe_local_addrs(&la, &clk);

	/* IPv4: peer B at 10.77.0.1:40002 */
	pc.pc_addr = A("10.77.0.1", PORT_B);
	pc.pc_kind = CAND_HOST;
	now(&clk);
	probe_peer(3, keyB, &pc, 1, 1, &clk);
	ms = run(2000, done_b);
	ok(probe_endpoint(3, keyB, &ep) == 1 &&
	    addr_is(&ep, "10.77.0.1", PORT_B) && peer_answers > 0,
	    "IPv4: the peer answered our probe from port %d, path in %ld ms",
	    PORT_A, ms);
	ok(probe_peer_path(3, keyB, &pp) == 1 && pp.state == PROBE_OK &&
	    pp.kind == CAND_HOST && addr_is(&pp.local, "10.77.0.1", PORT_A),
	    "IPv4: path ok, host, and the peer saw us at our WireGuard port");
	ok(ms < 1000, "IPv4: under 1 s (%ld ms)", ms);

	/* IPv6: peer C at [fd77::1]:40003 */
	pc.pc_addr = A("fd77::1", PORT_C);
	now(&clk);
	probe_peer(3, keyC, &pc, 1, 1, &clk);
	ms = run(2000, done_c);
	ok(probe_endpoint(3, keyC, &ep) == 1 &&
	    addr_is(&ep, "fd77::1", PORT_C) &&
	    probe_peer_path(3, keyC, &pp) == 1 &&
	    addr_is(&pp.local, "fd77::1", PORT_A),
	    "IPv6: path in %ld ms, seen at our WireGuard port", ms);

	/* dual stack: both answer, IPv6 is preferred at the same kind */
	{
		struct probe_cand	 pd[2];

		memset(keyD, 0xdd, sizeof(keyD));
		pd[0].pc_addr = A("10.77.0.1", PORT_D);
		pd[0].pc_kind = CAND_HOST;
		pd[1].pc_addr = A("fd77::1", PORT_D);
		pd[1].pc_kind = CAND_HOST;
		now(&clk);
		probe_peer(3, keyD, pd, 2, 1, &clk);
		ms = run(2000, done_d);
		ok(probe_endpoint(3, keyD, &ep) == 1 &&
		    addr_is(&ep, "fd77::1", PORT_D),
		    "dual stack: both hosts answer, IPv6 is chosen (%ld ms)",
		    ms);
	}

	/* the peer probes first: the engine answers through its socket */
	memset(&r, 0, sizeof(r));
	r.pp_type = PROBE_REQUEST;
	memcpy(r.pp_from, keyB, 32);
	memcpy(r.pp_to, keyA, 32);
	r.pp_txid = 42;
	now(&clk);
	r.pp_ts = clk.wall_us;
	to = A("10.77.0.1", PORT_A);
	peer_send(AF_INET, PORT_B, &to, &r);
	run(1000, done_answer);
	ok(peer_got_answer == 1 && addr_is(&peer_seen, "10.77.0.1", PORT_B),
	    "the engine answers a peer's request, telling where it saw it");
	return tap_done();
}
