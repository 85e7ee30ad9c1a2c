/*
 * Fuzz target for signaling v2: the CBOR decoder, and the nucleus and
 * edge input handlers behind valid cryptography.
 *
 * A persistent nucleus and one edge interface (edge.c) registered with
 * it are set up once.  The first byte picks what the rest is:
 *   0: a plaintext body, decoded as up and as down; what decodes must
 *      encode and decode again to the same message;
 *   1: a raw datagram to the nucleus;
 *   2: a plaintext body, sealed as an up datagram of cluster "alpha"
 *      with the edge's keys: the bytes after a "cookie" key head
 *      (0x0b 0x50) become a valid cookie, and when the body ends with
 *      an auth entry its value becomes the valid auth; to the nucleus,
 *      whose answers go to the edge;
 *   3: a plaintext body, sealed down: the 8 bytes after "re" as a
 *      uint64 (0x08 0x1b) become the edge's latest request time, a
 *      final auth entry the valid auth; to the edge;
 *   4: structured requests from four more edges with their own keys,
 *      always valid cryptography, to drive the nucleus's state.
 * In modes 2 and 3 the 8 bytes after "time" as a uint64 (0x06 0x1b)
 * become the current clock, so seeds stay fresh (PUNCH needs it).
 * The nucleus's PUNCHes (issue 7) are drained after every input; those
 * for the edge's address go to the edge.
 * The clock starts at FUZZ_WALL and moves 100 ms per input.
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "signald.h"

#define FUZZ_WALL	1700000000ULL
#define FZ_EDGES	4

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct nucleus	*fz_n;
static uint8_t		 fz_root[32], fz_name[32], fz_npriv[32], fz_npub[32];
static uint8_t		 fz_epriv[32], fz_epub[32], fz_proof[32];
static struct sig_ckeys	 fz_ck;
static struct omni_addr	 fz_nucaddr, fz_edgeaddr;
static struct sig_clock	 fz_clk;
static uint64_t		 fz_lastreq;	/* the edge's latest `time` */
static struct sig_out	 fz_out;

/* the edge's datagrams, delivered by fz_pump */
static uint8_t		 fz_q[16][SIG_MAXDGRAM];
static size_t		 fz_qlen[16];
static int		 fz_nq;
static struct sig_dh	 fz_dh;
static int		 fz_dh_pending;

/* the other edges of mode 4 */
static struct {
	uint8_t		 pub[32], priv[32], proof[32], cookie[16];
	uint64_t	 t;
} fz_e[FZ_EDGES];

static int
fz_send(uint32_t ifid, const struct omni_addr *to, const uint8_t *d,
    size_t len)
{
	static struct sig_rx	 rx;

	if (len > SIG_MAXDGRAM || ifid != 1)
		abort();
	if (proto_open_name(&rx, d, len, fz_name) != SIG_OK ||
	    proto_open_body(&rx, fz_ck.up) != SIG_OK)
		abort();		/* the edge sends only valid ones */
	fz_lastreq = rx.m.time;
	if (fz_nq < 16 && proto_addr_eq(to, &fz_nucaddr)) {
		memcpy(fz_q[fz_nq], d, len);
		fz_qlen[fz_nq++] = len;
	}
	return 0;
}

static void
fz_peers(uint32_t ifid, const struct omni_peer *p, size_t n)
{
	size_t	 i;

	if (n > EDGE_MAX_PEERS || ifid != 1)
		abort();
	for (i = 0; i < n; i++)
		if (memcmp(p[i].pubkey, fz_epub, 32) == 0 ||
		    (p[i].vip.af != AF_INET && p[i].vip.af != AF_INET6) ||
		    omni_addr_port(&p[i].endpoint) == 0)
			abort();
}

static void
fz_dhreq(uint32_t ifid, const uint8_t *peer)
{
	memset(&fz_dh, 0, sizeof(fz_dh));
	fz_dh.ifid = ifid;
	memcpy(fz_dh.peer, peer, 32);
	fz_dh_pending = 1;
}

static void
fz_check_out(size_t reqlen, int verified)
{
	size_t	 i;

	if (fz_out.n > SIG_PAGE_PARTS)
		abort();
	for (i = 0; i < fz_out.n; i++)
		if (fz_out.len[i] > SIG_MAXDGRAM ||
		    (!verified && fz_out.len[i] > reqlen))
			abort();
}

/* The nucleus's PUNCHes: well formed, and the edge's delivered. */
static void
fz_punches(void)
{
	static struct sig_out	 po;
	size_t			 k;

	while (nucleus_punches(fz_n, &fz_clk, &po) > 0)
		for (k = 0; k < po.n; k++) {
			if (po.n > SIG_PAGE_PARTS ||
			    po.len[k] > SIG_MAXDGRAM ||
			    omni_addr_port(&po.to[k]) == 0)
				abort();
			if (proto_addr_eq(&po.to[k], &fz_edgeaddr))
				edge_input(1, po.buf[k], po.len[k],
				    &fz_nucaddr, &fz_clk);
		}
}

/* Deliver what the edge sent, and the answers back. */
static void
fz_pump(void)
{
	static uint8_t	 q[16][SIG_MAXDGRAM];
	static size_t	 qlen[16];
	int		 i, n, rounds;
	size_t		 k;

	for (rounds = 0; rounds < 8; rounds++) {
		if (fz_dh_pending) {
			fz_dh_pending = 0;
			fz_dh.ok = keys_dh(fz_epriv, fz_epub, fz_dh.peer,
			    fz_dh.result) == 0;
			edge_dh_result(&fz_dh, &fz_clk);
		}
		if (fz_nq == 0)
			break;
		n = fz_nq;
		memcpy(q, fz_q, sizeof(q));
		memcpy(qlen, fz_qlen, sizeof(qlen));
		fz_nq = 0;
		for (i = 0; i < n; i++) {
			nucleus_input(fz_n, q[i], qlen[i], &fz_edgeaddr,
			    &fz_clk, &fz_out);
			fz_check_out(qlen[i], 1);
			for (k = 0; k < fz_out.n; k++)
				edge_input(1, fz_out.buf[k], fz_out.len[k],
				    &fz_nucaddr, &fz_clk);
		}
		fz_punches();
	}
	fz_nq = 0;
}

static void
fz_advance(uint64_t ms)
{
	fz_clk.ms += ms;
	fz_clk.wall_us += ms * 1000;
	fz_clk.wall = fz_clk.wall_us / 1000000;
}

static void
fz_init(void)
{
	static const struct edge_io	 io = { fz_send, fz_peers, fz_dhreq };
	struct sig_iface		 si;
	uint8_t				 sig[32];
	int				 i;

	if (sodium_init() == -1)
		abort();
	log_init(1, 0);
	log_setverbose(0);
	memset(fz_root, 0x42, sizeof(fz_root));
	keys_derive_root_subkey(fz_root, KEY_ROOT_NAME, fz_name);
	keys_derive_cluster(fz_root, KEY_PURPOSE_SIGNAL, "alpha", sig);
	proto_cluster_keys(sig, &fz_ck);
	/* fixed keys: the run is deterministic apart from nonces */
	memset(fz_npriv, 0x11, 32);
	crypto_scalarmult_base(fz_npub, fz_npriv);
	memset(fz_epriv, 0x22, 32);
	crypto_scalarmult_base(fz_epub, fz_epriv);
	keys_dh(fz_epriv, fz_epub, fz_npub, fz_proof);
	for (i = 0; i < FZ_EDGES; i++) {
		memset(fz_e[i].priv, 0x30 + i, 32);
		crypto_scalarmult_base(fz_e[i].pub, fz_e[i].priv);
		keys_dh(fz_e[i].priv, fz_e[i].pub, fz_npub, fz_e[i].proof);
	}
	fz_n = nucleus_new(fz_root, fz_npriv, fz_npub, 60);
	fz_clk.ms = 1000000;
	fz_clk.wall_us = FUZZ_WALL * 1000000;
	fz_clk.wall = FUZZ_WALL;

	memset(&fz_nucaddr, 0, sizeof(fz_nucaddr));
	fz_nucaddr.sin.sin_family = AF_INET;
	fz_nucaddr.sin.sin_addr.s_addr = htonl(0x7f000001);
	fz_nucaddr.sin.sin_port = htons(20999);
	memset(&fz_edgeaddr, 0, sizeof(fz_edgeaddr));
	fz_edgeaddr.sin.sin_family = AF_INET;
	fz_edgeaddr.sin.sin_addr.s_addr = htonl(0xc0000201);
	fz_edgeaddr.sin.sin_port = htons(40000);

	memset(&si, 0, sizeof(si));
	si.ifid = 1;
	strlcpy(si.name, "omni0", sizeof(si.name));
	strlcpy(si.cluster, "alpha", sizeof(si.cluster));
	memcpy(si.key, sig, 32);
	memcpy(si.name_key, fz_name, 32);
	memcpy(si.pubkey, fz_epub, 32);
	omni_prefix_parse("10.0.0.1/24", &si.vip);
	si.wg_port = 51820;
	si.heartbeat = 10;
	si.nnuclei = 1;
	si.nuclei[0] = fz_nucaddr;
	edge_init(&io);
	edge_reconf(&si, 1, &fz_clk);
	edge_tick(&fz_clk);
	fz_pump();
}

/* Overwrite what follows pattern p (plen bytes) with v (vlen bytes). */
static void
fz_patch(uint8_t *b, size_t len, const uint8_t *p, size_t plen,
    const uint8_t *v, size_t vlen)
{
	size_t	 i;

	for (i = 0; i + plen + vlen <= len; i++)
		if (memcmp(b + i, p, plen) == 0) {
			memcpy(b + i + plen, v, vlen);
			return;
		}
}

static const uint8_t auth_head[3] = { 0x18, 0x1f, 0x50 };

/*
 * Seal a raw body: header, name box (up), body; a final auth entry
 * gets the valid MAC.  Returns the datagram length, 0 if too long.
 */
static size_t
fz_seal_raw(int kind, const uint8_t *body, size_t blen, const uint8_t *proof,
    uint8_t *out)
{
	crypto_generichash_state	 st;
	uint8_t				 plain[SIG_MAXDGRAM];
	size_t				 adlen;
	const char			*cl = "alpha";

	adlen = kind == SIG_KIND_UP ? SIG_HDRLEN + 1 + 5 + 16 : SIG_HDRLEN;
	if (adlen + blen + 16 > SIG_MAXDGRAM)
		return 0;
	memcpy(plain, body, blen);
	out[0] = SIG_VERSION;
	out[1] = kind;
	memset(out + 2, 0x5c, SIG_NONCELEN);
	if (kind == SIG_KIND_UP) {
		out[SIG_HDRLEN] = 5 + 16;
		crypto_aead_xchacha20poly1305_ietf_encrypt(out + SIG_HDRLEN +
		    1, NULL, (const uint8_t *)cl, 5, out, SIG_HDRLEN, NULL,
		    out + 2, fz_name);
	}
	if (blen >= 19 && memcmp(plain + blen - 19, auth_head, 3) == 0) {
		crypto_generichash_init(&st, proof, 32, 16);
		crypto_generichash_update(&st, out, adlen);
		crypto_generichash_update(&st, plain, blen - 16);
		crypto_generichash_final(&st, plain + blen - 16, 16);
	}
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + adlen, NULL, plain,
	    blen, out, adlen, NULL, out + 2, kind == SIG_KIND_UP ? fz_ck.up :
	    fz_ck.down);
	return adlen + blen + 16;
}

static void
fz_decode(const uint8_t *d, size_t size)
{
	static struct sig_msg	 m1, m2;
	uint8_t			 e[4096];
	size_t			 elen;
	int			 kind;

	for (kind = SIG_KIND_UP; kind <= SIG_KIND_DOWN; kind++) {
		if (proto_decode(d, size, kind, &m1) != SIG_OK)
			continue;
		if (m1.npeers > SIG_MAX_PEERS ||
		    proto_type_kind(m1.type) != kind)
			abort();
		m1.padlen = 0;
		if (proto_body_encode(&m1, e, sizeof(e), &elen) != SIG_OK)
			continue;
		if (proto_decode(e, elen, kind, &m2) != SIG_OK)
			abort();	/* what encodes must decode */
		if (m2.type != m1.type || m2.time != m1.time ||
		    m2.npeers != m1.npeers || memcmp(m2.peers, m1.peers,
		    m1.npeers * sizeof(m1.peers[0])) != 0 ||
		    memcmp(m2.pubkey, m1.pubkey, 32) != 0 ||
		    m2.epoch != m1.epoch || m2.from != m1.from ||
		    m2.ncands != m1.ncands || memcmp(m2.cands, m1.cands,
		    sizeof(m1.cands)) != 0)
			abort();
	}
}

/* Mode 4: a valid request from one of the other edges. */
static void
fz_structured(const uint8_t *d, size_t size)
{
	static const int	 types[] = { SIG_REGISTER, SIG_HEARTBEAT,
				    SIG_DEREGISTER, SIG_QUERY_PEER };
	struct sig_msg		 m;
	struct omni_addr	 src;
	uint8_t			 buf[SIG_MAXDGRAM];
	size_t			 len, k;
	int			 w;

	while (size >= 8) {
		w = d[0] % FZ_EDGES;
		proto_init_msg(&m, types[d[1] % 4],
		    proto_next_time(&fz_e[w].t, &fz_clk));
		memcpy(m.pubkey, fz_e[w].pub, 32);
		if (d[2] & 1) {
			m.vip.af = AF_INET6;
			m.vip.plen = 64;
			m.vip.addr[0] = 0xfd;
			m.vip.addr[15] = d[3] % 8;
		} else {
			m.vip.af = AF_INET;
			m.vip.plen = 24;
			m.vip.addr[0] = 10;
			m.vip.addr[3] = d[3] % 8;
		}
		m.port = 51820 + (d[4] & 3);
		/* issue 7: 0..3 candidates, or none of the key (v2) */
		if (d[4] & 4) {
			m.fields |= SIG_F(SIG_K_CANDS);
			m.ncands = (d[4] >> 3) & 3;
			for (k = 0; k < m.ncands; k++) {
				m.cands[k].af = d[5] & (8 << k) ? AF_INET6 :
				    AF_INET;
				m.cands[k].ip[0] = 192;
				m.cands[k].ip[3] = d[4] >> 5;
				m.cands[k].port = 51820 + k;
				m.cands[k].kind = 1 + (d[3] + k) % 4;
			}
		}
		memset(&src, 0, sizeof(src));
		src.sin.sin_family = AF_INET;
		src.sin.sin_addr.s_addr = htonl(0xc6120000 | (d[5] & 7));
		src.sin.sin_port = htons(41000);
		nucleus_cookie(fz_n, &src, m.pubkey, "alpha", m.cookie);
		if (d[6] & 1)
			m.fields |= SIG_F(SIG_K_COOKIE);
		if (d[6] & 2) {
			m.fields |= SIG_F_SYNC;
			m.epoch = d[7] & 1 ? 0 : d[7];
			m.from = d[7] >> 1;
			m.flags = d[6] >> 4;
			if (m.flags & SIG_FL_FULL) {
				m.fields |= SIG_F(SIG_K_BASE);
				m.base = d[7] >> 3;
			}
		}
		if (proto_seal(&m, SIG_KIND_UP, "alpha", fz_name, fz_ck.up,
		    (d[6] & 4) ? NULL : fz_e[w].proof, buf, sizeof(buf),
		    &len) == SIG_OK) {
			nucleus_input(fz_n, buf, len, &src, &fz_clk, &fz_out);
			/* required fields are always there */
			fz_check_out(len, ((m.fields |
			    proto_required(m.type)) & SIG_F(SIG_K_COOKIE)) != 0);
			for (k = 0; k < fz_out.n; k++)
				if (fz_out.len[k] > SIG_MAXDGRAM)
					abort();
			fz_punches();
		}
		if (d[6] & 8)
			fz_advance(1000 * (d[7] & 15));
		d += 8;
		size -= 8;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 inited;
	static uint64_t		 runs;
	static const uint8_t	 cookie_head[2] = { 0x0b, 0x50 };
	static const uint8_t	 re_head[2] = { 0x08, 0x1b };
	static const uint8_t	 time_head[2] = { 0x06, 0x1b };
	uint8_t			 body[SIG_MAXDGRAM], d[SIG_MAXDGRAM];
	uint8_t			 cookie[16], re[8], now[8];
	size_t			 len, k;
	int			 i;

	if (!inited) {
		fz_init();
		inited = 1;
	}
	if (size < 1 || size > SIG_MAXDGRAM + 1)
		return 0;
	fz_advance(100);
	for (i = 0; i < 8; i++)
		now[i] = fz_clk.wall_us >> (56 - 8 * i);
	switch (data[0] % 5) {
	case 0:
		fz_decode(data + 1, size - 1);
		break;
	case 1:
		nucleus_input(fz_n, data + 1, size - 1, &fz_edgeaddr,
		    &fz_clk, &fz_out);
		if (fz_out.n != 0)
			abort();	/* nothing opens without the keys */
		break;
	case 2:
		len = size - 1;
		memcpy(body, data + 1, len);
		nucleus_cookie(fz_n, &fz_edgeaddr, fz_epub, "alpha", cookie);
		fz_patch(body, len, cookie_head, 2, cookie, 16);
		fz_patch(body, len, time_head, 2, now, 8);
		if ((len = fz_seal_raw(SIG_KIND_UP, body, len, fz_proof,
		    d)) == 0)
			break;
		nucleus_input(fz_n, d, len, &fz_edgeaddr, &fz_clk, &fz_out);
		fz_check_out(len, 1);
		for (k = 0; k < fz_out.n; k++)
			edge_input(1, fz_out.buf[k], fz_out.len[k],
			    &fz_nucaddr, &fz_clk);
		break;
	case 3:
		len = size - 1;
		memcpy(body, data + 1, len);
		for (i = 0; i < 8; i++)
			re[i] = fz_lastreq >> (56 - 8 * i);
		fz_patch(body, len, re_head, 2, re, 8);
		fz_patch(body, len, time_head, 2, now, 8);
		if ((len = fz_seal_raw(SIG_KIND_DOWN, body, len, fz_proof,
		    d)) == 0)
			break;
		edge_input(1, d, len, &fz_nucaddr, &fz_clk);
		break;
	case 4:
		fz_structured(data + 1, size - 1);
		break;
	}
	fz_pump();
	if (++runs % 100 == 0) {
		nucleus_expire(fz_n, &fz_clk);
		edge_tick(&fz_clk);
		fz_pump();
	}
	return 0;
}
