/*
 * Fuzz target for signaling: the decoder, and the nucleus and edge
 * input handlers behind a valid tag.
 *
 * The first byte picks what the rest is:
 *   0: a raw datagram, fed to peek, verify and decode (as received);
 *   1: version | type | body; the target appends the tag of the
 *      cluster it names (derived from a fixed root) and hands it to
 *      a persistent nucleus, then gives any answer to the edge;
 *   2: version | type | body, tagged with the edge's key and handed
 *      to the edge as if from its nucleus.
 * The clock is fixed at FUZZ_WALL, so seeds carry that timestamp.
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "signald.h"

#define FUZZ_WALL	1700000000

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct nucleus	*fz_nucleus;
static uint8_t		 fz_root[32], fz_key[32], fz_self[32];
static struct omni_addr	 fz_nucaddr;
static struct sig_clock	 fz_clk;

static int
fz_send(uint32_t ifid, const struct omni_addr *to, const uint8_t *d,
    size_t len)
{
	(void)ifid;
	(void)to;
	if (len > SIG_MAXDGRAM)
		abort();
	(void)d;
	return 0;
}

static void
fz_peers(uint32_t ifid, const struct omni_peer *p, size_t n)
{
	size_t	 i;

	if (n > EDGE_MAX_PEERS || ifid != 1)
		abort();
	for (i = 0; i < n; i++)
		if (memcmp(p[i].pubkey, fz_self, 32) == 0 ||
		    (p[i].vip.af != AF_INET && p[i].vip.af != AF_INET6) ||
		    omni_addr_port(&p[i].endpoint) == 0)
			abort();
}

static void
fz_init(void)
{
	static const struct edge_io	 io = { fz_send, fz_peers };
	struct sig_iface		 si;

	if (sodium_init() == -1)
		abort();
	log_init(1, 0);
	log_setverbose(0);
	memset(fz_root, 0x42, sizeof(fz_root));
	keys_derive_cluster(fz_root, KEY_PURPOSE_SIGNAL, "alpha", fz_key);
	fz_nucleus = nucleus_new(fz_root, 60);
	fz_clk.ms = 1000000;
	fz_clk.wall = FUZZ_WALL;

	memset(&fz_nucaddr, 0, sizeof(fz_nucaddr));
	fz_nucaddr.sin.sin_family = AF_INET;
	fz_nucaddr.sin.sin_addr.s_addr = htonl(0x7f000001);
	fz_nucaddr.sin.sin_port = htons(20999);
	memset(&si, 0, sizeof(si));
	si.ifid = 1;
	strlcpy(si.name, "omni0", sizeof(si.name));
	strlcpy(si.cluster, "alpha", sizeof(si.cluster));
	memcpy(si.key, fz_key, 32);
	memset(fz_self, 0xee, sizeof(fz_self));
	memcpy(si.pubkey, fz_self, 32);
	omni_prefix_parse("10.0.0.1/24", &si.vip);
	si.wg_port = 51820;
	si.heartbeat = 10;
	si.nnuclei = 1;
	si.nuclei[0] = fz_nucaddr;
	edge_init(&io);
	edge_reconf(&si, 1, &fz_clk);
}

/* Tag in[0..len) with key into out. */
static size_t
fz_sign(const uint8_t *in, size_t len, const uint8_t *key, uint8_t *out)
{
	memcpy(out, in, len);
	crypto_auth_hmacsha256(out + len, out, len, key);
	return len + SIG_TAGLEN;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 inited;
	static uint64_t		 runs;
	struct sig_msg		 m;
	struct omni_addr	 src;
	uint8_t			 d[4096], reply[SIG_MAXDGRAM], key[32];
	char			 cluster[SIG_CLUSTERMAX + 1];
	size_t			 len, rlen;
	int			 type;

	if (!inited) {
		fz_init();
		inited = 1;
	}
	if (size < 1 || size > sizeof(d) - SIG_TAGLEN)
		return 0;
	fz_clk.ms += 100;
	switch (data[0]) {
	case 0:
		data++;
		size--;
		if (proto_peek(data, size, &type, cluster) == SIG_OK &&
		    !proto_cluster_valid(cluster))
			abort();
		(void)proto_verify(data, size, fz_key);
		if (proto_decode(data, size, &m) == SIG_OK) {
			if (m.npeers > SIG_MAX_PEERS ||
			    !proto_cluster_valid(m.cluster))
				abort();
			/* what decodes must encode again */
			if (proto_encode(&m, fz_key, d, SIG_MAXDGRAM, &len) ==
			    SIG_OK && proto_open(d, len, fz_key,
			    (time_t)m.timestamp, &m) != SIG_OK &&
			    m.timestamp < (uint64_t)1 << 62)
				abort();
		}
		break;
	case 1:
		data++;
		size--;
		memset(&src, 0, sizeof(src));
		src.sin.sin_family = AF_INET;
		src.sin.sin_addr.s_addr = htonl(0xc0000200 | (size & 0x0f));
		src.sin.sin_port = htons(40000);
		memcpy(key, fz_key, sizeof(key));
		len = size;
		if (size >= SIG_HDRLEN && proto_peek(data, size + SIG_TAGLEN,
		    &type, cluster) == SIG_OK)
			keys_derive_cluster(fz_root, KEY_PURPOSE_SIGNAL,
			    cluster, key);
		len = fz_sign(data, size, key, d);
		nucleus_input(fz_nucleus, d, len, &src, &fz_clk, reply,
		    &rlen);
		if (rlen > SIG_MAXDGRAM)
			abort();
		if (rlen > 0)
			edge_input(1, reply, rlen, &fz_nucaddr, &fz_clk);
		break;
	case 2:
		data++;
		size--;
		len = fz_sign(data, size, fz_key, d);
		edge_input(1, d, len, &fz_nucaddr, &fz_clk);
		break;
	default:
		break;
	}
	if (++runs % 1000 == 0) {
		nucleus_expire(fz_nucleus, &fz_clk);
		edge_tick(&fz_clk);
	}
	return 0;
}
