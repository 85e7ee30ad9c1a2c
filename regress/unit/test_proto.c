/*
 * The signaling wire format v2 (signald/proto.c): keys, sealing and
 * opening, the CBOR decoder's limits, auth, time, and the peer table.
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "proto.h"
#include "ptab.h"
#include "tap.h"

#define WALL0	1700000000ULL

static uint8_t		 root[32], namekey[32], sigkey[32];
static struct sig_ckeys	 ck;
static struct sig_clock	 clk;

static void
setup(void)
{
	keys_derive_root("correct horse battery staple", 28, root);
	keys_derive_root_subkey(root, KEY_ROOT_NAME, namekey);
	keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, "alpha", sigkey);
	proto_cluster_keys(sigkey, &ck);
	memset(&clk, 0, sizeof(clk));
	clk.ms = 1000;
	clk.wall = WALL0;
	clk.wall_us = WALL0 * 1000000;
}

static void
peer4(struct sig_peer *p, int n)
{
	memset(p, 0, sizeof(*p));
	memset(p->pubkey, n, 32);
	omni_prefix_parse("10.1.2.3/24", &p->vip);
	p->vip.addr[3] = n;
	p->ep_af = AF_INET;
	p->ep[0] = 198;
	p->ep[1] = 18;
	p->ep[3] = n;
	p->port = 51820;
}

static void
peer6(struct sig_peer *p, int n)
{
	memset(p, 0, sizeof(*p));
	memset(p->pubkey, n, 32);
	omni_prefix_parse("fd77::1/64", &p->vip);
	p->vip.addr[15] = n;
	p->ep_af = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::ffff:ffff", p->ep);
	p->ep[15] = n;
	p->port = 65535;
}

static void
test_keys(void)
{
	uint8_t	 a[32], b[32], pa[32], sa[32], pb[32], sb[32], r1[32], r2[32];
	uint8_t	 low[32];

	keys_derive_root_subkey(root, 2, a);
	ok(memcmp(a, namekey, 32) != 0, "root subkeys differ per id");
	ok(memcmp(ck.up, ck.down, 32) != 0 && memcmp(ck.up, sigkey, 32) != 0,
	    "up and down keys differ from each other and the signal key");
	keys_derive_cluster(root, KEY_PURPOSE_PSK, "alpha", b);
	ok(memcmp(b, sigkey, 32) != 0, "psk key differs from signal key");
	keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, "beta", b);
	ok(memcmp(b, sigkey, 32) != 0, "per cluster");

	crypto_box_keypair(pa, sa);
	crypto_box_keypair(pb, sb);
	ok(keys_dh(sa, pa, pb, r1) == 0 && keys_dh(sb, pb, pa, r2) == 0 &&
	    memcmp(r1, r2, 32) == 0, "proof key agrees at both ends");
	keys_dh(sa, pa, pa, r2);
	ok(memcmp(r1, r2, 32) != 0, "and depends on the peer");
	memset(low, 0, sizeof(low));
	ok(keys_dh(sa, pa, low, r1) == -1 && sodium_is_zero(r1, 32),
	    "low order key (zero) refused");
	low[0] = 1;
	ok(keys_dh(sa, pa, low, r1) == -1, "low order key (one) refused");
}

/* Seal m up (with cluster "alpha") or down; open it again into rx. */
static int
roundtrip(const struct sig_msg *m, int kind, const uint8_t *auth,
    struct sig_rx *rx, uint8_t *d, size_t *len)
{
	int	 rv;

	if ((rv = proto_seal(m, kind, "alpha", namekey, kind == SIG_KIND_UP ?
	    ck.up : ck.down, auth, d, SIG_MAXDGRAM, len)) != SIG_OK)
		return 100 + rv;
	if (kind == SIG_KIND_UP) {
		if ((rv = proto_open_name(rx, d, *len, namekey)) != SIG_OK)
			return rv;
		return proto_open_body(rx, ck.up);
	}
	return proto_open_down(rx, d, *len, ck.down);
}

static void
test_roundtrip(void)
{
	static struct sig_rx	 rx;
	struct sig_msg		 m;
	uint8_t			 d[SIG_MAXDGRAM], proof[32];
	size_t			 len;
	uint64_t		 last = 0;
	int			 i, rv;

	memset(proof, 7, sizeof(proof));
	proto_init_msg(&m, SIG_REGISTER, proto_next_time(&last, &clk));
	memset(m.pubkey, 0xaa, 32);
	omni_prefix_parse("10.77.0.2/24", &m.vip);
	m.port = 51820;
	rv = roundtrip(&m, SIG_KIND_UP, NULL, &rx, d, &len);
	ok(rv == SIG_OK, "bare REGISTER round trip (%d)", rv);
	ok(len >= SIG_REGISTER_MIN && len <= SIG_REGISTER_MIN + 1,
	    "REGISTER padded to %d bytes (%zu)", SIG_REGISTER_MIN, len);
	ok(strcmp(rx.cluster, "alpha") == 0, "cluster from the name box");
	ok(rx.m.type == SIG_REGISTER && memcmp(rx.m.pubkey, m.pubkey, 32) ==
	    0 && omni_prefix_eq(&rx.m.vip, &m.vip) && rx.m.port == 51820 &&
	    rx.m.time == m.time, "REGISTER fields");
	ok((rx.m.fields & SIG_F(SIG_K_AUTH)) == 0 &&
	    !proto_auth_ok(&rx, proof), "no auth, auth check fails");
	ok(memmem(d, len, "alpha", 5) == NULL && memmem(d, len, m.pubkey,
	    32) == NULL, "no cluster name or key in clear");

	/* with cookie, sync and auth */
	memset(m.cookie, 0xc0, sizeof(m.cookie));
	m.epoch = 0x123456789abcULL;
	m.from = 77;
	m.flags = SIG_FL_FULL;
	m.base = 70;
	m.fields = SIG_F(SIG_K_COOKIE) | SIG_F_SYNC | SIG_F(SIG_K_BASE);
	m.time = proto_next_time(&last, &clk);
	rv = roundtrip(&m, SIG_KIND_UP, proof, &rx, d, &len);
	ok(rv == SIG_OK && rx.m.epoch == m.epoch && rx.m.from == 77 &&
	    rx.m.flags == SIG_FL_FULL && rx.m.base == 70 &&
	    memcmp(rx.m.cookie, m.cookie, 16) == 0,
	    "REGISTER with cookie and sync position");
	ok(proto_auth_ok(&rx, proof), "auth verifies");
	proof[0] ^= 1;
	ok(!proto_auth_ok(&rx, proof), "auth with another key fails");
	proof[0] ^= 1;
	ok(m.time > WALL0 * 1000000, "time is in microseconds");

	/* every down type */
	proto_init_msg(&m, SIG_HEARTBEAT_ACK, 5);
	m.re = 4;
	m.epoch = 9;
	m.from = 3;
	m.to = 8;
	m.flags = SIG_FL_MORE | SIG_FL_LAST;
	memset(m.cookie, 1, 16);
	peer4(&m.peers[0], 1);
	peer6(&m.peers[1], 2);
	memset(m.peers[2].pubkey, 3, 32);
	m.peers[2].removed = 1;
	m.npeers = 3;
	rv = roundtrip(&m, SIG_KIND_DOWN, proof, &rx, d, &len);
	ok(rv == SIG_OK && rx.m.npeers == 3, "HEARTBEAT_ACK round trip (%d)",
	    rv);
	ok(rx.m.to == 8 && rx.m.from == 3 && rx.m.re == 4 &&
	    rx.m.flags == (SIG_FL_MORE | SIG_FL_LAST) &&
	    (rx.m.fields & SIG_F(SIG_K_BASE)) == 0, "part fields");
	ok(memcmp(&rx.m.peers[0], &m.peers[0], sizeof(m.peers[0])) == 0,
	    "IPv4 peer entry");
	ok(memcmp(&rx.m.peers[1], &m.peers[1], sizeof(m.peers[1])) == 0,
	    "IPv6 peer entry");
	ok(rx.m.peers[2].removed && memcmp(rx.m.peers[2].pubkey,
	    m.peers[2].pubkey, 32) == 0, "removal entry");
	ok(proto_auth_ok(&rx, proof), "down auth verifies");

	proto_init_msg(&m, SIG_CHALLENGE, 5);
	memset(m.nkey, 0x11, 32);
	rv = roundtrip(&m, SIG_KIND_DOWN, NULL, &rx, d, &len);
	ok(rv == SIG_OK && memcmp(rx.m.nkey, m.nkey, 32) == 0 && len < 200,
	    "CHALLENGE round trip, %zu bytes", len);

	for (i = 1; i <= SIG_TYPE_MAX; i++) {
		proto_init_msg(&m, i, 1);
		omni_prefix_parse("10.0.0.1/24", &m.vip);
		m.port = 1;
		rv = proto_seal(&m, proto_type_kind(i) == SIG_KIND_UP ?
		    SIG_KIND_DOWN : SIG_KIND_UP, "alpha", namekey, ck.up,
		    NULL, d, sizeof(d), &len);
		if (rv != SIG_R_UNKNOWN_TYPE)
			break;
	}
	ok(i > SIG_TYPE_MAX, "no type seals in the wrong direction");
	proto_init_msg(&m, SIG_TYPE_MAX + 1, 1);
	ok(proto_seal(&m, SIG_KIND_DOWN, NULL, NULL, ck.down, NULL, d,
	    sizeof(d), &len) == SIG_R_UNKNOWN_TYPE, "unknown type refused");
}

static void
test_sealed(void)
{
	static struct sig_rx	 rx;
	struct sig_msg		 m;
	uint8_t			 d[SIG_MAXDGRAM + 8], e[SIG_MAXDGRAM + 8];
	uint8_t			 other[32];
	size_t			 len, i;
	int			 bad = 0;

	proto_init_msg(&m, SIG_DEREGISTER, clk.wall_us);
	memset(m.pubkey, 0xaa, 32);
	proto_seal(&m, SIG_KIND_UP, "alpha", namekey, ck.up, namekey, d,
	    SIG_MAXDGRAM, &len);
	ok(proto_open_name(&rx, d, len, namekey) == SIG_OK &&
	    proto_open_body(&rx, ck.up) == SIG_OK, "DEREGISTER opens");
	/* any flipped bit: the name box or the body fails */
	for (i = 0; i < len; i++) {
		memcpy(e, d, len);
		e[i] ^= 0x20;
		if (proto_open_name(&rx, e, len, namekey) == SIG_OK &&
		    proto_open_body(&rx, ck.up) == SIG_OK)
			bad++;
	}
	ok(bad == 0, "every flipped byte is refused (%d opened)", bad);
	ok(proto_open_name(&rx, d, len - 1, namekey) != SIG_OK ||
	    proto_open_body(&rx, ck.up) != SIG_OK, "truncated refused");
	memset(other, 9, sizeof(other));
	ok(proto_open_name(&rx, d, len, other) == SIG_R_BAD_MAC,
	    "another secret: bad_mac on the name box");
	ok(proto_open_name(&rx, d, len, namekey) == SIG_OK &&
	    proto_open_body(&rx, ck.down) == SIG_R_BAD_MAC,
	    "the down key does not open an up body");
	ok(proto_open_down(&rx, d, len, ck.down) == SIG_R_UNKNOWN_TYPE,
	    "an up datagram is not a down one");
	memcpy(e, d, len);
	e[0] = 1;
	ok(proto_open_name(&rx, e, len, namekey) == SIG_R_MALFORMED,
	    "version 1 is malformed");
	memset(e, 0, sizeof(e));
	e[0] = 2;
	e[1] = 1;
	ok(proto_open_name(&rx, e, SIG_MAXDGRAM + 1, namekey) ==
	    SIG_R_TOO_BIG, "1201 bytes: too_big");
	for (i = 0; i < SIG_MINUP; i++)
		if (proto_open_name(&rx, e, i, namekey) != SIG_R_MALFORMED)
			break;
	ok(i == SIG_MINUP, "every length below %d is malformed",
	    SIG_MINUP);
	e[SIG_HDRLEN] = 200;
	ok(proto_open_name(&rx, e, 300, namekey) == SIG_R_MALFORMED,
	    "name box longer than a name: malformed");
	e[SIG_HDRLEN] = 3;
	ok(proto_open_name(&rx, e, 300, namekey) == SIG_R_MALFORMED,
	    "name box shorter than its tag: malformed");
	ok(proto_open_down(&rx, e, 10, ck.down) == SIG_R_MALFORMED,
	    "short down datagram: malformed");
}

/* Seal a hand-made plaintext body with the down key and decode it. */
static int
body(const uint8_t *b, size_t blen)
{
	static struct sig_msg	 m;

	return proto_decode(b, blen, SIG_KIND_DOWN, &m);
}

static void
test_cbor(void)
{
	static struct sig_msg	 m;
	uint8_t			 b[2048];
	size_t			 n, i;

	/* NAK: {0: 6, 6: 1, 8: 1, 9: 1, 31: h'00..'} */
	static const uint8_t nak[] = { 0xa5, 0x00, 0x06, 0x06, 0x01, 0x08,
	    0x01, 0x09, 0x01, 0x18, 0x1f, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0 };

	ok(body(nak, sizeof(nak)) == SIG_OK, "hand-made NAK decodes");
	ok(proto_decode(nak, sizeof(nak), SIG_KIND_UP, &m) ==
	    SIG_R_UNKNOWN_TYPE, "a NAK in an up datagram: unknown_type");
	memcpy(b, nak, sizeof(nak));
	b[2] = 0x0b;
	ok(body(b, sizeof(nak)) == SIG_R_UNKNOWN_TYPE, "type 11: unknown");
	b[2] = 0x06;
	b[sizeof(nak)] = 0;
	ok(body(b, sizeof(nak) + 1) == SIG_R_MALFORMED, "trailing byte");
	ok(body(b, sizeof(nak) - 1) == SIG_R_MALFORMED, "truncated");
	for (i = 0; i < sizeof(nak); i++)
		if (body(nak, i) != SIG_R_MALFORMED)
			break;
	ok(i == sizeof(nak), "every truncation is malformed");
	b[7] = 0x06;		/* key 9 -> 6 again */
	ok(body(b, sizeof(nak)) == SIG_R_MALFORMED, "duplicate key");
	memcpy(b, nak, sizeof(nak));
	b[0] = 0xbf;
	ok(body(b, sizeof(nak)) == SIG_R_MALFORMED, "indefinite map");
	b[0] = 0xa4;		/* no auth */
	ok(body(b, sizeof(nak) - 19) == SIG_R_MALFORMED, "auth missing");
	/* auth not last: {31: h'', 0: 6, ...} */
	n = 0;
	b[n++] = 0xa5;
	b[n++] = 0x18;
	b[n++] = 0x1f;
	b[n++] = 0x50;
	memset(b + n, 0, 16);
	n += 16;
	memcpy(b + n, nak + 1, 8);
	n += 8;
	ok(body(b, n) == SIG_R_MALFORMED, "auth not last");
	memcpy(b, nak, sizeof(nak));
	b[12] = 0x4f;		/* auth of 15 bytes */
	ok(body(b, sizeof(nak) - 1) == SIG_R_MALFORMED, "short auth");
	b[12] = 0x50;
	b[8] = 0x3a;		/* status negative */
	ok(body(b, sizeof(nak)) == SIG_R_MALFORMED, "negative status");
	b[8] = 0x61;		/* status text */
	ok(body(b, sizeof(nak)) == SIG_R_MALFORMED, "mistyped status");

	/* unknown keys are skipped, up to the nesting limit */
	n = 0;
	b[n++] = 0xa6;
	b[n++] = 0x18;
	b[n++] = 20;		/* key 20: [[[1]]] */
	b[n++] = 0x81;
	b[n++] = 0x81;
	b[n++] = 0x81;
	b[n++] = 0x01;
	memcpy(b + n, nak + 1, sizeof(nak) - 1);
	n += sizeof(nak) - 1;
	ok(body(b, n) == SIG_OK, "unknown key with nesting 3 skipped");
	memmove(b + 7, b + 4, n - 4);
	b[4] = b[5] = b[6] = 0x81;
	n += 3;
	ok(body(b, n) == SIG_R_MALFORMED, "nesting 6: malformed");

	/* a map of 33 entries */
	n = 0;
	b[n++] = 0xb8;
	b[n++] = 33;
	for (i = 0; i < 33; i++) {
		b[n++] = 0x18;
		b[n++] = 32 + i;
		b[n++] = 0;
	}
	ok(body(b, n) == SIG_R_MALFORMED, "33 map entries: malformed");
	/* a huge declared array in an unknown key */
	n = 0;
	b[n++] = 0xa1;
	b[n++] = 0x18;
	b[n++] = 40;
	b[n++] = 0x9b;
	memset(b + n, 0xff, 8);
	n += 8;
	ok(body(b, n) == SIG_R_MALFORMED, "2^64-1 declared items");
	b[0] = 0x81;
	ok(body(b, 1) == SIG_R_MALFORMED, "not a map");
	ok(body(b, 0) == SIG_R_MALFORMED, "empty body");
}

/* A PEER_INFO body with the given peers array bytes. */
static int
peers_body(const uint8_t *arr, size_t alen)
{
	uint8_t	 b[2048];
	size_t	 n = 0;

	b[n++] = 0xa6;
	b[n++] = 0x00;
	b[n++] = 0x08;		/* PEER_INFO */
	b[n++] = 0x03;
	b[n++] = 0x44;
	memset(b + n, 10, 4);
	n += 4;
	b[n++] = 0x06;
	b[n++] = 0x01;
	b[n++] = 0x07;
	memcpy(b + n, arr, alen);
	n += alen;
	b[n++] = 0x08;
	b[n++] = 0x01;
	b[n++] = 0x18;
	b[n++] = 0x1f;
	b[n++] = 0x50;
	memset(b + n, 0, 16);
	n += 16;
	return body(b, n);
}

static void
test_entries(void)
{
	uint8_t		 a[2048], e[SIG_ENTRYMAX];
	struct sig_peer	 p;
	size_t		 n;
	int		 l, i;

	peer4(&p, 5);
	l = proto_entry_encode(&p, e, sizeof(e));
	ok(l == 49, "IPv4 entry takes 49 bytes (%d)", l);
	peer6(&p, 5);
	ok(proto_entry_encode(&p, e, sizeof(e)) == 73, "IPv6 entry 73");
	p.removed = 1;
	ok(proto_entry_encode(&p, e, sizeof(e)) == 35, "removal 35");
	peer4(&p, 5);
	p.port = 0;
	ok(proto_entry_encode(&p, e, sizeof(e)) == -1, "port 0 refused");

	peer4(&p, 5);
	a[0] = 0x81;
	l = proto_entry_encode(&p, a + 1, sizeof(a) - 1);
	ok(peers_body(a, 1 + l) == SIG_OK, "one entry decodes");
	a[1] = 0x83;		/* [pk, vip, plen] */
	ok(peers_body(a, 1 + l - 8) == SIG_R_MALFORMED, "entry of 3");
	a[1] = 0x82;
	ok(peers_body(a, 1 + l - 10) == SIG_R_MALFORMED, "entry of 2");
	a[1] = 0x85;		/* a fifth item must be candidates */
	a[1 + l] = 0xf6;
	ok(peers_body(a, 2 + l) == SIG_R_MALFORMED, "entry of 5: null as "
	    "candidates is malformed");
	a[1] = 0x86;		/* [.., [], null]: a sixth is skipped */
	a[1 + l] = 0x80;
	a[2 + l] = 0xf6;
	ok(peers_body(a, 3 + l) == SIG_OK, "entry of 6: extra skipped");
	a[1] = 0x84;
	a[l - 1] = a[l] = 0;	/* port 0 */
	ok(peers_body(a, 1 + l) == SIG_R_MALFORMED, "endpoint port 0");
	peer4(&p, 5);
	proto_entry_encode(&p, a + 1, sizeof(a) - 1);
	a[1 + 35 + 5] = 33;	/* plen 33 on IPv4 */
	ok(peers_body(a, 1 + l) == SIG_R_MALFORMED, "plen 33 on IPv4");

	/* 41 removals: one too many */
	n = 0;
	a[n++] = 0x98;
	a[n++] = 41;
	for (i = 0; i < 41; i++) {
		a[n++] = 0x81;
		a[n++] = 0x58;
		a[n++] = 32;
		memset(a + n, i, 32);
		n += 32;
	}
	ok(peers_body(a, n) == SIG_R_MALFORMED, "41 entries: malformed");
	a[1] = 40;
	ok(peers_body(a, n - 35) == SIG_OK, "40 entries decode");
}

/* A part filled to the budget with the largest entries fits. */
static void
test_budget(void)
{
	struct sig_msg	 m;
	struct sig_peer	 p;
	uint8_t		 raw[SIG_MAXDGRAM], d[SIG_MAXDGRAM], key[32];
	size_t		 budget = proto_answer_budget(), rawlen = 0, len;
	uint32_t	 n = 0;
	int		 l, rv;

	ok(budget > 900 && budget < SIG_MAXDGRAM, "answer budget %zu",
	    budget);
	peer6(&p, 1);
	p.vip.plen = 128;
	while (n < SIG_MAX_PEERS) {
		memset(p.pubkey, n, 32);
		l = proto_entry_encode(&p, raw + rawlen, sizeof(raw) - rawlen);
		if (rawlen + l > budget)
			break;
		rawlen += l;
		n++;
	}
	proto_init_msg(&m, SIG_REGISTER_ACK, UINT64_MAX);
	m.re = m.epoch = m.from = m.to = m.base = UINT64_MAX;
	m.flags = UINT32_MAX;
	m.fields = SIG_F(SIG_K_BASE);
	m.raw = raw;
	m.rawlen = rawlen;
	m.nraw = n;
	memset(key, 1, sizeof(key));
	rv = proto_seal(&m, SIG_KIND_DOWN, NULL, NULL, ck.down, key, d,
	    sizeof(d), &len);
	ok(rv == SIG_OK && len <= SIG_MAXDGRAM,
	    "%u IPv6 peers at the budget seal into %zu bytes", n, len);
	ok(n >= 13, "at least 13 IPv6 peers per part (%u)", n);
}

static void
cand4(struct sig_cand *c, const char *ip, uint16_t port, int kind)
{
	memset(c, 0, sizeof(*c));
	c->af = AF_INET;
	inet_pton(AF_INET, ip, c->ip);
	c->port = port;
	c->kind = kind;
}

static void
cand6(struct sig_cand *c, const char *ip, uint16_t port, int kind)
{
	memset(c, 0, sizeof(*c));
	c->af = AF_INET6;
	inet_pton(AF_INET6, ip, c->ip);
	c->port = port;
	c->kind = kind;
}

/* v2.1: candidates in entries and requests, and PUNCH. */
static void
test_cands(void)
{
	static struct sig_rx	 rx;
	struct sig_msg		 m;
	struct sig_peer		 p;
	struct omni_addr	 a;
	struct sig_cand		 c;
	uint8_t			 d[SIG_MAXDGRAM], e[SIG_ENTRYMAX + 8];
	uint8_t			 arr[SIG_ENTRYMAX + 8], proof[32];
	uint8_t			 raw[1200];
	size_t			 len, rawlen, budget;
	uint64_t		 last = 0;
	uint32_t		 n;
	int			 l, rv;

	memset(proof, 9, sizeof(proof));
	/* entries: sizes */
	peer4(&p, 5);
	p.ncands = 4;
	cand4(&p.cands[0], "192.168.1.5", 51820, CAND_HOST);
	cand4(&p.cands[1], "10.0.0.5", 51820, CAND_HOST);
	cand4(&p.cands[2], "203.0.113.5", 40000, CAND_REFLEXIVE);
	cand4(&p.cands[3], "203.0.113.5", 40001, CAND_PEER_REFLEXIVE);
	l = proto_entry_encode(&p, e, sizeof(e));
	ok(l == 49 + 1 + 4 * 8, "IPv4 entry with 4 IPv4 candidates: %d bytes",
	    l);
	peer6(&p, 5);
	p.vip.plen = 128;
	p.ncands = 4;
	cand6(&p.cands[0], "2001:db8::1", 51820, CAND_HOST);
	cand6(&p.cands[1], "2001:db8::2", 51820, CAND_HOST);
	cand6(&p.cands[2], "2001:db8::3", 1, CAND_REFLEXIVE);
	cand6(&p.cands[3], "2001:db8::4", 65535, CAND_REFLEXIVE);
	l = proto_entry_encode(&p, e, sizeof(e));
	ok(l == SIG_ENTRYMAX, "the largest entry is SIG_ENTRYMAX = %d (%d)",
	    SIG_ENTRYMAX, l);
	ok(proto_entry_encode(&p, e, SIG_ENTRYMAX - 1) == -1,
	    "one byte short: refused");
	p.ncands = 5;
	ok(proto_entry_encode(&p, e, sizeof(e)) == -1, "5 candidates refused");
	p.ncands = 1;
	p.cands[0].port = 0;
	ok(proto_entry_encode(&p, e, sizeof(e)) == -1,
	    "candidate port 0 refused");
	p.cands[0].port = 1;
	p.cands[0].kind = 0;
	ok(proto_entry_encode(&p, e, sizeof(e)) == -1,
	    "candidate kind 0 refused");
	p.cands[0].kind = CAND_HOST;
	p.cands[0].af = AF_UNSPEC;
	ok(proto_entry_encode(&p, e, sizeof(e)) == -1,
	    "candidate without a family refused");

	/* entries: decoding, round trip in an ACK */
	proto_init_msg(&m, SIG_HEARTBEAT_ACK, proto_next_time(&last, &clk));
	m.re = 1;
	m.epoch = 2;
	m.to = 3;
	m.flags = SIG_FL_PUNCH;
	peer4(&m.peers[0], 1);
	m.peers[0].ncands = 2;
	cand4(&m.peers[0].cands[0], "192.168.1.1", 51820, CAND_HOST);
	cand6(&m.peers[0].cands[1], "2001:db8::1", 51820, CAND_REFLEXIVE);
	peer6(&m.peers[1], 2);		/* no candidates: the v2 form */
	m.npeers = 2;
	rv = roundtrip(&m, SIG_KIND_DOWN, proof, &rx, d, &len);
	ok(rv == SIG_OK && rx.m.npeers == 2 && rx.m.flags == SIG_FL_PUNCH,
	    "ACK with candidates round trip (%d)", rv);
	ok(memcmp(&rx.m.peers[0], &m.peers[0], sizeof(m.peers[0])) == 0,
	    "entry with an IPv4 and an IPv6 candidate");
	ok(memcmp(&rx.m.peers[1], &m.peers[1], sizeof(m.peers[1])) == 0 &&
	    rx.m.peers[1].ncands == 0, "entry without candidates");

	/* hand-made candidate items */
	peer4(&p, 7);
	l = proto_entry_encode(&p, e, sizeof(e));	/* 4 items */
	memcpy(arr + 1, e, l);
	arr[0] = 0x81;
	arr[1] = 0x85;
	/* [h'c0a80107' || port 0x0001 || kind 1] */
	memcpy(arr + 1 + l, "\x81\x47\xc0\xa8\x01\x07\x00\x01\x01", 9);
	ok(peers_body(arr, 1 + l + 9) == SIG_OK, "hand-made candidate "
	    "decodes");
	arr[1 + l + 7] = 0;		/* port 0 */
	ok(peers_body(arr, 1 + l + 9) == SIG_R_MALFORMED,
	    "candidate port 0: malformed");
	arr[1 + l + 7] = 1;
	arr[1 + l + 8] = 0;		/* kind 0 */
	ok(peers_body(arr, 1 + l + 9) == SIG_R_MALFORMED,
	    "candidate kind 0: malformed");
	arr[1 + l + 8] = 200;		/* a kind from the future */
	ok(peers_body(arr, 1 + l + 9) == SIG_OK,
	    "candidate of an unknown kind decodes (ignored later)");
	arr[1 + l + 1] = 0x46;		/* 6 bytes */
	ok(peers_body(arr, 1 + l + 8) == SIG_R_MALFORMED,
	    "candidate of 6 bytes: malformed");
	arr[1 + l + 1] = 0x47;
	arr[1 + l] = 0x85;		/* 5 candidates, 4 too few present */
	ok(peers_body(arr, 1 + l + 9) == SIG_R_MALFORMED,
	    "5 candidates: malformed");
	arr[1 + l] = 0x9f;		/* indefinite array */
	ok(peers_body(arr, 1 + l + 9) == SIG_R_MALFORMED,
	    "indefinite candidates array: malformed");
	arr[1 + l] = 0x80;
	ok(peers_body(arr, 1 + l + 1) == SIG_OK, "empty candidates array");

	/* requests carry them under key 18 */
	proto_init_msg(&m, SIG_HEARTBEAT, proto_next_time(&last, &clk));
	memset(m.pubkey, 0xaa, 32);
	memset(m.cookie, 1, 16);
	m.fields = SIG_F(SIG_K_COOKIE) | SIG_F_SYNC | SIG_F(SIG_K_CANDS);
	m.ncands = 4;
	cand4(&m.cands[0], "192.168.1.1", 51820, CAND_HOST);
	cand6(&m.cands[1], "2001:db8::1", 51820, CAND_HOST);
	cand4(&m.cands[2], "203.0.113.9", 1024, CAND_REFLEXIVE);
	cand6(&m.cands[3], "2001:db8::9", 1024, CAND_REFLEXIVE);
	rv = roundtrip(&m, SIG_KIND_UP, proof, &rx, d, &len);
	ok(rv == SIG_OK && (rx.m.fields & SIG_F(SIG_K_CANDS)) &&
	    rx.m.ncands == 4 && memcmp(rx.m.cands, m.cands,
	    sizeof(m.cands)) == 0, "HEARTBEAT with 4 candidates (%zu bytes)",
	    len);
	m.ncands = 0;
	rv = roundtrip(&m, SIG_KIND_UP, proof, &rx, d, &len);
	ok(rv == SIG_OK && (rx.m.fields & SIG_F(SIG_K_CANDS)) &&
	    rx.m.ncands == 0, "HEARTBEAT with none: the key says so");
	m.fields &= ~SIG_F(SIG_K_CANDS);
	rv = roundtrip(&m, SIG_KIND_UP, proof, &rx, d, &len);
	ok(rv == SIG_OK && (rx.m.fields & SIG_F(SIG_K_CANDS)) == 0,
	    "HEARTBEAT of a v2 edge: no key");
	m.fields |= SIG_F(SIG_K_CANDS);
	m.ncands = 5;
	ok(proto_seal(&m, SIG_KIND_UP, "alpha", namekey, ck.up, proof, d,
	    sizeof(d), &len) == SIG_R_MALFORMED, "5 candidates do not seal");
	proto_init_msg(&m, SIG_REGISTER, proto_next_time(&last, &clk));
	memset(m.pubkey, 0xaa, 32);
	omni_prefix_parse("10.77.0.2/24", &m.vip);
	m.port = 51820;
	m.fields = SIG_F(SIG_K_CANDS);
	m.ncands = 1;
	cand4(&m.cands[0], "192.168.1.1", 51820, CAND_HOST);
	rv = roundtrip(&m, SIG_KIND_UP, NULL, &rx, d, &len);
	ok(rv == SIG_OK && rx.m.ncands == 1 && len >= SIG_REGISTER_MIN,
	    "REGISTER with a candidate, still padded (%zu)", len);
	proto_init_msg(&m, SIG_DEREGISTER, proto_next_time(&last, &clk));
	m.fields = SIG_F(SIG_K_CANDS);
	m.ncands = 1;
	rv = roundtrip(&m, SIG_KIND_UP, proof, &rx, d, &len);
	ok(rv == SIG_OK && (rx.m.fields & SIG_F(SIG_K_CANDS)) == 0,
	    "DEREGISTER does not carry them");

	/* PUNCH */
	proto_init_msg(&m, SIG_PUNCH, proto_next_time(&last, &clk));
	peer6(&m.peers[0], 3);
	m.peers[0].vip.plen = 128;
	m.peers[0].ncands = 4;
	memcpy(m.peers[0].cands, p.cands, sizeof(p.cands));
	peer6(&p, 3);
	m.peers[0].ncands = 4;
	cand6(&m.peers[0].cands[0], "2001:db8::1", 51820, CAND_HOST);
	cand6(&m.peers[0].cands[1], "2001:db8::2", 51820, CAND_HOST);
	cand6(&m.peers[0].cands[2], "2001:db8::3", 1, CAND_REFLEXIVE);
	cand6(&m.peers[0].cands[3], "2001:db8::4", 2, CAND_REFLEXIVE);
	m.npeers = 1;
	rv = roundtrip(&m, SIG_KIND_DOWN, proof, &rx, d, &len);
	ok(rv == SIG_OK && rx.m.type == SIG_PUNCH && rx.m.npeers == 1 &&
	    memcmp(&rx.m.peers[0], &m.peers[0], sizeof(m.peers[0])) == 0 &&
	    proto_auth_ok(&rx, proof), "PUNCH of the largest entry round "
	    "trip, %zu bytes", len);
	ok(len < 300, "a PUNCH is small (%zu bytes)", len);
	ok(proto_seal(&m, SIG_KIND_UP, "alpha", namekey, ck.up, proof, d,
	    sizeof(d), &len) == SIG_R_UNKNOWN_TYPE, "PUNCH is down only");
	m.npeers = 2;
	peer4(&m.peers[1], 4);
	rv = roundtrip(&m, SIG_KIND_DOWN, proof, &rx, d, &len);
	ok(rv == SIG_R_MALFORMED, "PUNCH of two peers: malformed");
	m.npeers = 0;
	rv = roundtrip(&m, SIG_KIND_DOWN, proof, &rx, d, &len);
	ok(rv == SIG_R_MALFORMED, "PUNCH of no peer: malformed");
	m.npeers = 1;
	m.peers[0].removed = 1;
	rv = roundtrip(&m, SIG_KIND_DOWN, proof, &rx, d, &len);
	ok(rv == SIG_R_MALFORMED, "PUNCH of a removal: malformed");
	m.peers[0].removed = 0;
	rv = roundtrip(&m, SIG_KIND_DOWN, NULL, &rx, d, &len);
	ok(rv == SIG_R_MALFORMED, "PUNCH without auth: malformed");

	/* a part full of the largest entries still fits */
	budget = proto_answer_budget();
	for (n = 0, rawlen = 0; n < SIG_MAX_PEERS; n++) {
		memset(p.pubkey, n, 32);
		p.vip.plen = 128;
		p.ncands = 4;
		memcpy(p.cands, m.peers[0].cands, sizeof(p.cands));
		l = proto_entry_encode(&p, raw + rawlen, sizeof(raw) - rawlen);
		if (l == -1 || rawlen + l > budget)
			break;
		rawlen += l;
	}
	proto_init_msg(&m, SIG_REGISTER_ACK, UINT64_MAX);
	m.re = m.epoch = m.from = m.to = m.base = UINT64_MAX;
	m.flags = UINT32_MAX;
	m.fields = SIG_F(SIG_K_BASE);
	m.raw = raw;
	m.rawlen = rawlen;
	m.nraw = n;
	rv = proto_seal(&m, SIG_KIND_DOWN, NULL, NULL, ck.down, proof, d,
	    sizeof(d), &len);
	ok(rv == SIG_OK && len <= SIG_MAXDGRAM && n >= 6,
	    "%u largest entries (IPv6, 4 IPv6 candidates) fill a part of "
	    "%zu bytes", n, len);

	/* address conversions */
	memset(&a, 0, sizeof(a));
	a.sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &a.sin6.sin6_addr);
	a.sin6.sin6_port = htons(4242);
	ok(proto_cand_from_addr(&a, CAND_REFLEXIVE, &c) == 0 &&
	    c.af == AF_INET && c.ip[3] == 7 && c.port == 4242 &&
	    c.kind == CAND_REFLEXIVE, "IPv4-mapped address: IPv4 candidate");
	proto_cand_to_addr(&c, &a);
	ok(a.sa.sa_family == AF_INET && ntohs(a.sin.sin_port) == 4242,
	    "and back to a socket address");
	a.sin.sin_port = 0;
	ok(proto_cand_from_addr(&a, CAND_HOST, &c) == -1, "port 0: none");
	a.sin.sin_port = 1;
	ok(proto_cand_from_addr(&a, 0, &c) == -1, "kind 0: none");
}

static void
test_time(void)
{
	struct sig_msg		 m;
	struct sig_clock	 c = clk;
	uint64_t		 last = 0, t1, t2;

	t1 = proto_next_time(&last, &c);
	t2 = proto_next_time(&last, &c);
	ok(t2 == t1 + 1, "time strictly increasing at a fixed clock");
	memset(&m, 0, sizeof(m));
	m.time = c.wall_us;
	ok(proto_check_time(&m, &c) == SIG_OK, "now is fresh");
	m.time = c.wall_us - 60000000ULL;
	ok(proto_check_time(&m, &c) == SIG_OK, "60 s old is fresh");
	m.time--;
	ok(proto_check_time(&m, &c) == SIG_R_STALE, "60 s + 1 us: stale");
	m.time = c.wall_us + 60000001ULL;
	ok(proto_check_time(&m, &c) == SIG_R_STALE, "from the future: stale");
	m.time = UINT64_MAX;
	ok(proto_check_time(&m, &c) == SIG_R_STALE, "UINT64_MAX: stale");
	c.wall_us = 0;
	ok(proto_clock_us(&c) == WALL0 * 1000000, "seconds as microseconds");
}

static void
test_ptab(void)
{
	struct ptab	 t;
	struct ptab_ent	*e;
	struct sig_peer	 p;
	static uint8_t	 in[5000];
	int		 i, k, bad = 0, n = 0;

	ptab_init(&t, 4000);
	memset(&p, 0, sizeof(p));
	srandom(7);
	for (i = 0; i < 50000; i++) {
		k = random() % 5000;
		memset(p.pubkey, 0, 32);
		memcpy(p.pubkey, &k, sizeof(k));
		if (random() % 3 == 0) {
			if (ptab_del(&t, p.pubkey) != in[k])
				bad++;
			n -= in[k];
			in[k] = 0;
		} else if (ptab_put(&t, &p, i, 0) == 0) {
			n += !in[k];
			in[k] = 1;
		} else if (in[k] || n < 4000)
			bad++;
	}
	for (k = 0; k < 5000; k++) {
		memset(p.pubkey, 0, 32);
		memcpy(p.pubkey, &k, sizeof(k));
		if ((ptab_get(&t, p.pubkey) != NULL) != in[k])
			bad++;
	}
	ok(bad == 0 && (int)t.pt_n == n, "50000 random operations agree "
	    "with a reference (%d bad, %zu in)", bad, t.pt_n);
	ok(t.pt_n <= 4000, "never more than the maximum");
	k = 0;
	PTAB_FOREACH(e, &t)
		k++;
	ok(k == n, "iteration sees every entry");
	ptab_free(&t);
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	setup();
	test_keys();
	test_roundtrip();
	test_sealed();
	test_cbor();
	test_entries();
	test_budget();
	test_cands();
	test_time();
	test_ptab();
	return tap_done();
}
