/*
 * Signaling wire format: round trips, tag checks, and the decoder's
 * refusal of everything it should refuse, each with its reason.
 */
#include <arpa/inet.h>

#include <string.h>

#include <cbor.h>
#include <sodium.h>

#include "proto.h"
#include "tap.h"

#define NOW	1700000000

static uint8_t	 key[32], otherkey[32];

/* --- a raw body writer, to build what the encoder never would ------- */

struct raw {
	uint8_t		 b[4096];
	size_t		 n;
};

static void
raw_put(struct raw *r, size_t len)
{
	r->n += len;
}

#define R_UINT(r, v)	raw_put(r, cbor_encode_uint(v, (r)->b + (r)->n, \
			    sizeof((r)->b) - (r)->n))
#define R_MAP(r, v)	raw_put(r, cbor_encode_map_start(v, (r)->b + (r)->n, \
			    sizeof((r)->b) - (r)->n))
#define R_ARRAY(r, v)	raw_put(r, cbor_encode_array_start(v, \
			    (r)->b + (r)->n, sizeof((r)->b) - (r)->n))

static void
r_byte(struct raw *r, uint8_t c)
{
	r->b[r->n++] = c;
}

static void
r_bytes(struct raw *r, const void *p, size_t len)
{
	raw_put(r, cbor_encode_bytestring_start(len, r->b + r->n,
	    sizeof(r->b) - r->n));
	memcpy(r->b + r->n, p, len);
	r->n += len;
}

static void
r_text(struct raw *r, const char *s, size_t len)
{
	raw_put(r, cbor_encode_string_start(len, r->b + r->n,
	    sizeof(r->b) - r->n));
	memcpy(r->b + r->n, s, len);
	r->n += len;
}

/* Frame a raw body as a datagram of type t with a valid tag. */
static size_t
frame(int t, const struct raw *body, uint8_t *out)
{
	out[0] = SIG_VERSION;
	out[1] = t;
	memcpy(out + 2, body->b, body->n);
	crypto_auth_hmacsha256(out + 2 + body->n, out, 2 + body->n, key);
	return 2 + body->n + SIG_TAGLEN;
}

/* The common keys of a HEARTBEAT; the caller adds pairs after them. */
static void
hb_start(struct raw *r, size_t extra)
{
	uint8_t	 pk[32], nonce[16];

	memset(pk, 0xaa, sizeof(pk));
	memset(nonce, 0x55, sizeof(nonce));
	r->n = 0;
	R_MAP(r, 4 + extra);
	R_UINT(r, SIG_K_CLUSTER);
	r_text(r, "alpha", 5);
	R_UINT(r, SIG_K_PUBKEY);
	r_bytes(r, pk, 32);
	R_UINT(r, SIG_K_TIME);
	R_UINT(r, NOW);
	R_UINT(r, SIG_K_NONCE);
	r_bytes(r, nonce, 16);
}

static int
open_raw(int t, const struct raw *r)
{
	uint8_t		 d[8192];
	struct sig_msg	 m;
	size_t		 len;

	len = frame(t, r, d);
	return proto_open(d, len, key, NOW, &m);
}

/* --- messages ------------------------------------------------------- */

static void
fill_peer(struct sig_peer *p, int i, int v6)
{
	memset(p, 0, sizeof(*p));
	memset(p->pubkey, i + 1, sizeof(p->pubkey));
	if (v6) {
		p->vip.af = AF_INET6;
		inet_pton(AF_INET6, "fd00::1", p->vip.addr);
		p->vip.addr[15] = i;
		p->vip.plen = 64;
		p->ep_af = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::1", p->ep);
		p->ep[14] = i;
	} else {
		p->vip.af = AF_INET;
		p->vip.addr[0] = 10;
		p->vip.addr[3] = i;
		p->vip.plen = 24;
		p->ep_af = AF_INET;
		p->ep[0] = 192;
		p->ep[1] = 0;
		p->ep[2] = 2;
		p->ep[3] = i;
	}
	p->port = 51820 + i;
}

static void
full_msg(struct sig_msg *m, int type)
{
	proto_init_msg(m, type, "alpha", NOW);
	memset(m->pubkey, 0xaa, sizeof(m->pubkey));
	m->vip.af = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", m->vip.addr);
	m->vip.plen = 24;
	m->port = 51820;
	m->status = type == SIG_NAK ? SIG_NAK_VIP_TAKEN : 0;
	m->npeers = 3;
	fill_peer(&m->peers[0], 1, 0);
	fill_peer(&m->peers[1], 2, 1);
	fill_peer(&m->peers[2], 3, 0);
}

static int
same_fields(const struct sig_msg *a, const struct sig_msg *b)
{
	uint32_t	 req = proto_required(a->type), i;

	if (a->type != b->type || strcmp(a->cluster, b->cluster) != 0 ||
	    a->timestamp != b->timestamp ||
	    memcmp(a->nonce, b->nonce, SIG_NONCELEN) != 0)
		return 0;
	if ((req & SIG_F(SIG_K_PUBKEY)) &&
	    memcmp(a->pubkey, b->pubkey, 32) != 0)
		return 0;
	if ((req & SIG_F(SIG_K_VIP)) && (a->vip.af != b->vip.af ||
	    memcmp(a->vip.addr, b->vip.addr, 16) != 0))
		return 0;
	if ((req & SIG_F(SIG_K_PLEN)) && a->vip.plen != b->vip.plen)
		return 0;
	if ((req & SIG_F(SIG_K_PORT)) && a->port != b->port)
		return 0;
	if ((req & SIG_F(SIG_K_STATUS)) && a->status != b->status)
		return 0;
	if (req & SIG_F(SIG_K_PEERS)) {
		if (a->npeers != b->npeers)
			return 0;
		for (i = 0; i < a->npeers; i++)
			if (memcmp(&a->peers[i], &b->peers[i],
			    sizeof(a->peers[i])) != 0)
				return 0;
	}
	return 1;
}

static void
test_roundtrip(void)
{
	struct sig_msg	 m, d;
	uint8_t		 buf[SIG_MAXDGRAM];
	size_t		 len;
	int		 t, rv, pt;
	char		 cl[64];

	for (t = 1; t <= SIG_TYPE_MAX; t++) {
		full_msg(&m, t);
		rv = proto_encode(&m, key, buf, sizeof(buf), &len);
		ok(rv == SIG_OK && len <= SIG_MAXDGRAM, "encode %s (%zu bytes)",
		    proto_type_name(t), len);
		rv = proto_open(buf, len, key, NOW, &d);
		ok(rv == SIG_OK, "open %s: %s", proto_type_name(t),
		    proto_reason_name(rv));
		ok(same_fields(&m, &d), "%s round trip", proto_type_name(t));
		ok(d.fields == proto_required(t), "%s carries exactly its keys",
		    proto_type_name(t));
		rv = proto_peek(buf, len, &pt, cl);
		ok(rv == SIG_OK && pt == t && strcmp(cl, "alpha") == 0,
		    "peek %s",
		    proto_type_name(t));
	}
	/* QUERY_PEER has no prefix length: a host prefix is implied. */
	full_msg(&m, SIG_QUERY_PEER);
	proto_encode(&m, key, buf, sizeof(buf), &len);
	proto_open(buf, len, key, NOW, &d);
	ok(d.vip.plen == 32, "query: VIP without plen is a host prefix");

	/* IPv6 VIP */
	full_msg(&m, SIG_REGISTER);
	m.vip.af = AF_INET6;
	inet_pton(AF_INET6, "fd00:1::7", m.vip.addr);
	m.vip.plen = 128;
	proto_encode(&m, key, buf, sizeof(buf), &len);
	ok(proto_open(buf, len, key, NOW, &d) == SIG_OK &&
	    same_fields(&m, &d), "register with an IPv6 VIP");

	/* encoder refuses what it cannot carry */
	full_msg(&m, SIG_REGISTER);
	m.cluster[0] = '\0';
	ok(proto_encode(&m, key, buf, sizeof(buf), &len) == SIG_R_MALFORMED,
	    "encode refuses an empty cluster");
	full_msg(&m, 9);
	ok(proto_encode(&m, key, buf, sizeof(buf), &len) ==
	    SIG_R_UNKNOWN_TYPE, "encode refuses type 9");
}

static void
test_size(void)
{
	struct sig_msg	 m, d;
	uint8_t		 buf[4096];
	size_t		 len;
	uint32_t	 i, fit;

	full_msg(&m, SIG_HEARTBEAT_ACK);
	m.npeers = SIG_MAX_PEERS;
	for (i = 0; i < m.npeers; i++)
		fill_peer(&m.peers[i], i, 1);
	ok(proto_encode(&m, key, buf, sizeof(buf), &len) == SIG_R_TOO_BIG,
	    "24 IPv6 peers do not fit in 1200 bytes");
	while (proto_encode(&m, key, buf, sizeof(buf), &len) ==
	    SIG_R_TOO_BIG)
		m.npeers--;
	fit = m.npeers;
	ok(len <= SIG_MAXDGRAM && fit > 10, "%u IPv6 peers fit (%zu bytes)",
	    fit, len);
	ok(proto_open(buf, len, key, NOW, &d) == SIG_OK && d.npeers == fit,
	    "the largest message decodes");

	/* the densest peers possible: IPv4, port < 24 */
	for (i = 0; i < SIG_MAX_PEERS; i++) {
		fill_peer(&m.peers[i], i, 0);
		m.peers[i].port = 1;
	}
	m.npeers = SIG_MAX_PEERS;
	while (proto_encode(&m, key, buf, sizeof(buf), &len) ==
	    SIG_R_TOO_BIG)
		m.npeers--;
	ok(m.npeers < SIG_MAX_PEERS, "at most %u peers fit, below the "
	    "decoder's limit of %u", m.npeers, SIG_MAX_PEERS);

	/* oversize on receipt */
	memset(buf, 0, sizeof(buf));
	buf[0] = SIG_VERSION;
	buf[1] = SIG_HEARTBEAT;
	ok(proto_open(buf, SIG_MAXDGRAM + 1, key, NOW, &d) == SIG_R_TOO_BIG,
	    "1201 bytes: too_big");
	ok(proto_decode(buf, 4000, &d) == SIG_R_TOO_BIG,
	    "decode of 4000 bytes: too_big");
}

static void
test_tag(void)
{
	struct sig_msg	 m, d;
	uint8_t		 buf[SIG_MAXDGRAM], c[SIG_MAXDGRAM];
	size_t		 len, i, l;
	int		 bit, allbad = 1, allmac = 1, rv;

	full_msg(&m, SIG_REGISTER_ACK);
	proto_encode(&m, key, buf, sizeof(buf), &len);
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(c, buf, len);
			c[i] ^= 1 << bit;
			rv = proto_open(c, len, key, NOW, &d);
			if (rv == SIG_OK)
				allbad = 0;
			/* header flips may fail earlier, for their reason */
			if (i >= SIG_HDRLEN && rv != SIG_R_BAD_MAC)
				allmac = 0;
		}
	ok(allbad, "every flipped bit of %zu bytes is refused", len);
	ok(allmac, "flips in body and tag are bad_mac");
	c[0] = 2;
	memcpy(c + 1, buf + 1, len - 1);
	ok(proto_open(c, len, key, NOW, &d) == SIG_R_MALFORMED,
	    "version 2: malformed");
	memcpy(c, buf, len);
	c[1] = 9;
	ok(proto_open(c, len, key, NOW, &d) == SIG_R_UNKNOWN_TYPE,
	    "type 9: unknown_type");
	c[1] = 0;
	ok(proto_open(c, len, key, NOW, &d) == SIG_R_UNKNOWN_TYPE,
	    "type 0: unknown_type");

	ok(proto_open(buf, len, otherkey, NOW, &d) == SIG_R_BAD_MAC,
	    "wrong key: bad_mac");
	for (allbad = 1, l = 0; l < len; l++)
		if (proto_open(buf, l, key, NOW, &d) == SIG_OK)
			allbad = 0;
	ok(allbad, "every truncation is refused");
	ok(proto_open(buf, len - 1, key, NOW, &d) == SIG_R_BAD_MAC,
	    "one byte short: bad_mac");
	ok(proto_open(buf, 10, key, NOW, &d) == SIG_R_MALFORMED,
	    "shorter than a tag: malformed");
	memcpy(c, buf, len);
	c[len] = 0;
	ok(proto_open(c, len + 1, key, NOW, &d) == SIG_R_BAD_MAC,
	    "one byte more: bad_mac");
}

static void
test_time(void)
{
	struct sig_msg	 m, d;
	uint8_t		 buf[SIG_MAXDGRAM];
	size_t		 len;

	full_msg(&m, SIG_HEARTBEAT);
	m.timestamp = NOW - 61;
	proto_encode(&m, key, buf, sizeof(buf), &len);
	ok(proto_open(buf, len, key, NOW, &d) == SIG_R_STALE, "61 s old: stale");
	m.timestamp = NOW + 61;
	proto_encode(&m, key, buf, sizeof(buf), &len);
	ok(proto_open(buf, len, key, NOW, &d) == SIG_R_STALE,
	    "61 s ahead: stale");
	m.timestamp = NOW - 60;
	proto_encode(&m, key, buf, sizeof(buf), &len);
	ok(proto_open(buf, len, key, NOW, &d) == SIG_OK, "60 s old: fine");
	m.timestamp = NOW + 60;
	proto_encode(&m, key, buf, sizeof(buf), &len);
	ok(proto_open(buf, len, key, NOW, &d) == SIG_OK, "60 s ahead: fine");
	m.timestamp = UINT64_MAX;
	proto_encode(&m, key, buf, sizeof(buf), &len);
	ok(proto_open(buf, len, key, NOW, &d) == SIG_R_STALE,
	    "timestamp 2^64-1: stale");
	m.timestamp = 0;
	proto_encode(&m, key, buf, sizeof(buf), &len);
	ok(proto_open(buf, len, key, NOW, &d) == SIG_R_STALE,
	    "timestamp 0: stale");
}

static void
test_cbor(void)
{
	struct raw	 r;
	uint8_t		 pk[32];
	int		 i;

	memset(pk, 0xaa, sizeof(pk));

	hb_start(&r, 0);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_OK, "hand-built heartbeat");

	/* unknown keys, even structured ones, are skipped */
	hb_start(&r, 2);
	R_UINT(&r, 99);
	R_ARRAY(&r, 2);
	R_MAP(&r, 1);
	R_UINT(&r, 1);
	r_text(&r, "x", 1);
	r_byte(&r, 0xf5);			/* true */
	R_UINT(&r, 1000000);
	r_byte(&r, 0xc1);			/* tag 1 */
	R_UINT(&r, 5);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_OK, "unknown keys ignored");

	/* nesting too deep inside an unknown key */
	hb_start(&r, 1);
	R_UINT(&r, 50);
	for (i = 0; i < 10; i++)
		R_ARRAY(&r, 1);
	R_UINT(&r, 0);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "nesting of 10: malformed");
	hb_start(&r, 1);
	R_UINT(&r, 50);
	for (i = 0; i < 1000; i++)
		R_ARRAY(&r, 1);
	R_UINT(&r, 0);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "nesting of 1000: malformed");
	hb_start(&r, 1);
	R_UINT(&r, 50);
	for (i = 0; i < 100; i++)
		r_byte(&r, 0xc1);
	R_UINT(&r, 0);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "100 nested tags: malformed");

	/* wrong types */
	r.n = 0;
	R_MAP(&r, 4);
	R_UINT(&r, SIG_K_CLUSTER);
	r_bytes(&r, "alpha", 5);
	R_UINT(&r, SIG_K_PUBKEY);
	r_bytes(&r, pk, 32);
	R_UINT(&r, SIG_K_TIME);
	R_UINT(&r, NOW);
	R_UINT(&r, SIG_K_NONCE);
	r_bytes(&r, pk, 16);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "cluster as bytes: malformed");

	r.n = 0;
	R_MAP(&r, 4);
	R_UINT(&r, SIG_K_CLUSTER);
	r_text(&r, "alpha", 5);
	R_UINT(&r, SIG_K_PUBKEY);
	r_bytes(&r, pk, 31);
	R_UINT(&r, SIG_K_TIME);
	R_UINT(&r, NOW);
	R_UINT(&r, SIG_K_NONCE);
	r_bytes(&r, pk, 16);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "31-byte public key: malformed");

	hb_start(&r, 1);
	R_UINT(&r, SIG_K_PORT);
	R_UINT(&r, 65536);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "port 65536: malformed");
	hb_start(&r, 1);
	R_UINT(&r, SIG_K_PORT);
	R_UINT(&r, 0);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "port 0: malformed");
	hb_start(&r, 1);
	R_UINT(&r, SIG_K_VIP);
	r_bytes(&r, pk, 5);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "5-byte VIP: malformed");
	hb_start(&r, 2);
	R_UINT(&r, SIG_K_VIP);
	r_bytes(&r, pk, 4);
	R_UINT(&r, SIG_K_PLEN);
	R_UINT(&r, 33);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "IPv4 VIP with /33: malformed");
	hb_start(&r, 1);
	R_UINT(&r, SIG_K_STATUS);
	r_byte(&r, 0x20);			/* -1 */
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "negative status: malformed");
	hb_start(&r, 1);
	R_UINT(&r, SIG_K_STATUS);
	R_UINT(&r, 1ULL << 40);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "status 2^40: malformed");
	hb_start(&r, 1);
	r_byte(&r, 0x20);			/* key -1 */
	R_UINT(&r, 0);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "negative key: malformed");
	hb_start(&r, 1);
	r_text(&r, "k", 1);
	R_UINT(&r, 0);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "text key: malformed");
	hb_start(&r, 1);
	R_UINT(&r, SIG_K_TIME);
	R_UINT(&r, NOW);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "duplicate key: malformed");
	hb_start(&r, 0);
	r_byte(&r, 0x00);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "trailing byte: malformed");

	r.n = 0;
	R_MAP(&r, 4);
	R_UINT(&r, SIG_K_CLUSTER);
	r_text(&r, "al\0ha", 5);
	R_UINT(&r, SIG_K_PUBKEY);
	r_bytes(&r, pk, 32);
	R_UINT(&r, SIG_K_TIME);
	R_UINT(&r, NOW);
	R_UINT(&r, SIG_K_NONCE);
	r_bytes(&r, pk, 16);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "cluster with a NUL: malformed");
	r.n = 0;
	R_MAP(&r, 4);
	R_UINT(&r, SIG_K_CLUSTER);
	r_text(&r, "0123456789012345678901234567890123456789012345678901234"
	    "567890123", 64);
	R_UINT(&r, SIG_K_PUBKEY);
	r_bytes(&r, pk, 32);
	R_UINT(&r, SIG_K_TIME);
	R_UINT(&r, NOW);
	R_UINT(&r, SIG_K_NONCE);
	r_bytes(&r, pk, 16);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "64-byte cluster: malformed");

	/* missing required key */
	r.n = 0;
	R_MAP(&r, 3);
	R_UINT(&r, SIG_K_CLUSTER);
	r_text(&r, "alpha", 5);
	R_UINT(&r, SIG_K_PUBKEY);
	r_bytes(&r, pk, 32);
	R_UINT(&r, SIG_K_TIME);
	R_UINT(&r, NOW);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "no nonce: malformed");
	hb_start(&r, 0);
	ok(open_raw(SIG_REGISTER, &r) == SIG_R_MALFORMED,
	    "register without VIP, plen, port: malformed");

	/* huge declared lengths */
	hb_start(&r, 1);
	R_UINT(&r, 77);
	r_byte(&r, 0x5b);			/* bytes, 8-byte length */
	for (i = 0; i < 8; i++)
		r_byte(&r, i == 0 ? 0x7f : 0xff);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "byte string of 2^63 bytes: malformed");
	hb_start(&r, 1);
	R_UINT(&r, 77);
	r_byte(&r, 0x9b);			/* array, 8-byte count */
	for (i = 0; i < 8; i++)
		r_byte(&r, 0xff);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "array of 2^64-1 items: malformed");
	r.n = 0;
	r_byte(&r, 0xbb);			/* map, 8-byte count */
	for (i = 0; i < 8; i++)
		r_byte(&r, 0xff);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "top map of 2^64-1 pairs: malformed");
	hb_start(&r, 1);
	R_UINT(&r, SIG_K_PEERS);
	R_ARRAY(&r, 1000000);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "peers array of a million: malformed");
	hb_start(&r, 1);
	R_UINT(&r, SIG_K_PEERS);
	R_ARRAY(&r, SIG_MAX_PEERS + 1);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "peers array of 25: malformed");
	hb_start(&r, 1);
	R_UINT(&r, SIG_K_PEERS);
	R_ARRAY(&r, 1);
	R_MAP(&r, 1);
	R_UINT(&r, SIG_K_PUBKEY);
	r_bytes(&r, pk, 32);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "peer without VIP: malformed");

	/* indefinite lengths */
	r.n = 0;
	r_byte(&r, 0xbf);			/* indefinite map */
	R_UINT(&r, SIG_K_CLUSTER);
	r_text(&r, "alpha", 5);
	r_byte(&r, 0xff);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "indefinite map: malformed");
	hb_start(&r, 1);
	R_UINT(&r, 60);
	r_byte(&r, 0x5f);			/* indefinite bytes */
	r_bytes(&r, pk, 2);
	r_byte(&r, 0xff);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "indefinite byte string: malformed");
	r.n = 0;
	R_ARRAY(&r, 0);
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "body is an array: malformed");
	r.n = 0;
	r_byte(&r, 0x1c);			/* reserved additional info */
	ok(open_raw(SIG_HEARTBEAT, &r) == SIG_R_MALFORMED,
	    "reserved head: malformed");
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	memset(key, 0x11, sizeof(key));
	memset(otherkey, 0x22, sizeof(otherkey));
	test_roundtrip();
	test_size();
	test_tag();
	test_time();
	test_cbor();
	return tap_done();
}
