/*
 * Fuzz target for the probe engine's input (signald/probe.c): what
 * arrives on the raw probe socket of an interface.
 *
 * We are edge A (interface 1, IPv4 and IPv6 sockets, a host address,
 * a peer B with two candidates being probed).  The first byte picks
 * what the rest is:
 *   0: an IP datagram as probe_input takes it, byte for byte.
 *   1: a UDP payload (probe, STUN or junk), wrapped in a valid IPv4
 *      and UDP header to the WireGuard port from a fixed source.
 *   2: fields of a probe that passes the MAC: byte 0 the type, bit 0
 *      of byte 1 "echo the transaction id of our latest request",
 *      bit 1 "sender is A", then a time offset, a txid and the seen
 *      address; so the request and answer logic is what gets
 *      exercised, replays and reordering included.
 * Byte 1 of every input also moves the clock, so retransmissions,
 * failures, retries and re-STUN happen along the way.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "probe.h"
#include "stun.h"

#define FZ_PORT		51820

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct sig_clock	 fz_clk;
static uint8_t		 fz_sigkey[32], fz_pkey[32], fz_a[32], fz_b[32];
static uint64_t		 fz_txid;
static int		 fz_ready;

static int
fz_send(uint32_t ifid, const struct omni_addr *to, const uint8_t *udp,
    size_t len)
{
	struct probe_pkt	 p;

	if (ifid != 1 || len < 8 || (size_t)(udp[4] << 8 | udp[5]) != len ||
	    (udp[0] << 8 | udp[1]) != FZ_PORT ||
	    (to->sa.sa_family != AF_INET && to->sa.sa_family != AF_INET6))
		abort();
	if (len == 8 + PROBE_PKTLEN) {
		/* every probe we send must verify under our key */
		if (probe_pkt_decode(udp + 8, PROBE_PKTLEN, fz_pkey, &p) != 0)
			abort();
		if (p.pp_type == PROBE_REQUEST)
			fz_txid = p.pp_txid;
	} else if (!stun_is_message(udp + 8, len - 8))
		abort();
	return 0;
}

static void
fz_path(const struct peer_path *pp)
{
	if (pp->state < PROBE_IDLE || pp->state > PROBE_FAILED ||
	    memchr(pp->reason, '\0', sizeof(pp->reason)) == NULL)
		abort();
}

static void
fz_nop(uint32_t ifid)
{
	if (ifid != 1)
		abort();
}

static const struct probe_io fz_io = {
	.cands_changed = fz_nop,
	.endpoint_changed = fz_nop,
	.path = fz_path,
	.send = fz_send
};

static void
fz_addr(const char *s, uint16_t port, struct omni_addr *a)
{
	if (omni_addr_parse(s, port, a) == -1)
		abort();
}

static void
fz_init(void)
{
	struct sock_probe	 sp4 = { 1, AF_INET, FZ_PORT };
	struct sock_probe	 sp6 = { 1, AF_INET6, FZ_PORT };
	struct local_addrs	 la;
	struct omni_addr	 nuc;
	struct probe_cand	 pc[2];
	int			 fd;

	if (sodium_init() == -1)
		abort();
	log_init(0, LOG_DAEMON);
	log_setverbose(0);
	memset(fz_sigkey, 0x33, sizeof(fz_sigkey));
	memset(fz_a, 0xaa, sizeof(fz_a));
	memset(fz_b, 0xbb, sizeof(fz_b));
	probe_key_derive(fz_sigkey, fz_pkey);
	fz_clk.ms = 1000000;
	fz_clk.wall = 1700000000;
	fz_clk.wall_us = 1700000000ULL * 1000000;
	probe_init(&fz_io);
	fz_addr("198.51.100.1", 51900, &nuc);
	probe_iface(1, fz_sigkey, fz_a, &nuc, 1, NULL, 0);
	if ((fd = open("/dev/null", O_RDONLY)) == -1)
		abort();
	probe_sock(&sp4, fd);
	probe_sock(&sp6, fd);
	memset(&la, 0, sizeof(la));
	la.ifid = 1;
	la.generation = 1;
	la.naddr = 2;
	fz_addr("192.168.1.10", 1, &la.addr[0]);
	fz_addr("2001:db8::10", 1, &la.addr[1]);
	probe_local_addrs(&la, &fz_clk);
	fz_addr("192.168.1.20", FZ_PORT, &pc[0].pc_addr);
	pc[0].pc_kind = CAND_HOST;
	fz_addr("198.51.100.77", 4000, &pc[1].pc_addr);
	pc[1].pc_kind = CAND_REFLEXIVE;
	probe_peer(1, fz_b, pc, 2, 1, &fz_clk);
	fz_ready = 1;
}

static size_t
fz_wrap(const uint8_t *pl, size_t plen, uint8_t *out, size_t room)
{
	size_t	 tot;

	if (plen > room - 28)
		plen = room - 28;
	tot = 28 + plen;
	memset(out, 0, 28);
	out[0] = 0x45;
	out[2] = tot >> 8;
	out[3] = tot & 0xff;
	out[9] = IPPROTO_UDP;
	out[12] = 198;
	out[13] = 51;
	out[14] = 100;
	out[15] = 77;
	out[20] = 4000 >> 8;
	out[21] = 4000 & 0xff;
	out[22] = FZ_PORT >> 8;
	out[23] = FZ_PORT & 0xff;
	out[24] = (8 + plen) >> 8;
	out[25] = (8 + plen) & 0xff;
	memcpy(out + 28, pl, plen);
	return tot;
}

static void
fz_fields(const uint8_t *d, size_t len)
{
	struct probe_pkt	 p;
	uint8_t			 pl[PROBE_PKTLEN], buf[28 + PROBE_PKTLEN];
	int64_t			 off;
	size_t			 n;

	if (len < 31)
		return;
	memset(&p, 0, sizeof(p));
	p.pp_type = (d[0] & 1) ? PROBE_ANSWER : PROBE_REQUEST;
	memcpy(p.pp_from, (d[1] & 2) ? fz_a : fz_b, 32);
	memcpy(p.pp_to, (d[1] & 4) ? fz_b : fz_a, 32);
	off = (int32_t)((uint32_t)d[2] << 24 | (uint32_t)d[3] << 16 |
	    (uint32_t)d[4] << 8 | d[5]);
	p.pp_ts = fz_clk.wall_us + off * 64;
	memcpy(&p.pp_txid, d + 6, 8);
	if (d[1] & 1)
		p.pp_txid = fz_txid;
	if (d[14] & 1) {
		p.pp_seen.sin6.sin6_family = AF_INET6;
		memcpy(&p.pp_seen.sin6.sin6_addr, d + 15, 16);
	} else {
		p.pp_seen.sin.sin_family = AF_INET;
		memcpy(&p.pp_seen.sin.sin_addr, d + 15, 4);
	}
	if (probe_pkt_encode(&p, fz_pkey, pl, sizeof(pl)) != PROBE_PKTLEN)
		abort();
	n = fz_wrap(pl, sizeof(pl), buf, sizeof(buf));
	probe_input(1, buf, n, &fz_clk);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 buf[4096];
	struct omni_addr	 ep;
	size_t			 n;

	if (!fz_ready)
		fz_init();
	if (size < 2)
		return 0;
	/* time passes: up to 2.5 s per input */
	fz_clk.ms += (uint64_t)data[1] * 10;
	fz_clk.wall_us += (uint64_t)data[1] * 10000;
	probe_tick(&fz_clk);
	switch (data[0]) {
	case 0:
		probe_input(1, data + 2, size - 2, &fz_clk);
		break;
	case 1:
		n = fz_wrap(data + 2, size - 2, buf, sizeof(buf));
		probe_input(1, buf, n, &fz_clk);
		break;
	case 2:
		fz_fields(data + 2, size - 2);
		break;
	default:
		break;
	}
	if (probe_endpoint(1, fz_b, &ep) == 1 &&
	    ep.sa.sa_family != AF_INET && ep.sa.sa_family != AF_INET6)
		abort();
	return 0;
}
