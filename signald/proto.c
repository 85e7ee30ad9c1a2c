/*
 * Signaling wire format v1: encode and decode.
 *
 *   datagram = version | type | CBOR map body | HMAC-SHA-256 tag
 *
 * The decoder reads the body one item head at a time with libcbor's
 * streaming decoder, so it never builds a tree, never allocates, and
 * checks every declared length against the bytes actually present.
 * Indefinite lengths, nesting deeper than SIG_MAX_DEPTH and maps or
 * arrays longer than the limits below are rejected as malformed.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <cbor.h>
#include <sodium.h>

#include "log.h"
#include "proto.h"

struct sig_stats	 sig_stats;

/* Keys each type must carry (and the encoder writes). */
static const uint32_t proto_req[SIG_TYPE_MAX + 1] = {
	[SIG_REGISTER] = SIG_F(SIG_K_CLUSTER) | SIG_F(SIG_K_PUBKEY) |
	    SIG_F(SIG_K_VIP) | SIG_F(SIG_K_PLEN) | SIG_F(SIG_K_PORT) |
	    SIG_F(SIG_K_TIME) | SIG_F(SIG_K_NONCE),
	[SIG_REGISTER_ACK] = SIG_F(SIG_K_CLUSTER) | SIG_F(SIG_K_TIME) |
	    SIG_F(SIG_K_PEERS) | SIG_F(SIG_K_STATUS) | SIG_F(SIG_K_NONCE),
	[SIG_HEARTBEAT] = SIG_F(SIG_K_CLUSTER) | SIG_F(SIG_K_PUBKEY) |
	    SIG_F(SIG_K_TIME) | SIG_F(SIG_K_NONCE),
	[SIG_HEARTBEAT_ACK] = SIG_F(SIG_K_CLUSTER) | SIG_F(SIG_K_TIME) |
	    SIG_F(SIG_K_PEERS) | SIG_F(SIG_K_NONCE),
	[SIG_DEREGISTER] = SIG_F(SIG_K_CLUSTER) | SIG_F(SIG_K_PUBKEY) |
	    SIG_F(SIG_K_TIME) | SIG_F(SIG_K_NONCE),
	[SIG_NAK] = SIG_F(SIG_K_CLUSTER) | SIG_F(SIG_K_TIME) |
	    SIG_F(SIG_K_STATUS) | SIG_F(SIG_K_NONCE),
	[SIG_QUERY_PEER] = SIG_F(SIG_K_CLUSTER) | SIG_F(SIG_K_PUBKEY) |
	    SIG_F(SIG_K_VIP) | SIG_F(SIG_K_TIME) | SIG_F(SIG_K_NONCE),
	[SIG_PEER_INFO] = SIG_F(SIG_K_CLUSTER) | SIG_F(SIG_K_TIME) |
	    SIG_F(SIG_K_PEERS) | SIG_F(SIG_K_NONCE),
};

#define PEER_REQ	(SIG_F(SIG_K_PUBKEY) | SIG_F(SIG_K_VIP) | \
			 SIG_F(SIG_K_PLEN) | SIG_F(SIG_K_ENDPOINT) | \
			 SIG_F(SIG_K_PORT))

static const char *const proto_types[SIG_TYPE_MAX + 1] = {
	"unknown", "register", "register_ack", "heartbeat", "heartbeat_ack",
	"deregister", "nak", "query_peer", "peer_info"
};

static const char *const proto_reasons[SIG_R_MAX] = {
	"ok", "malformed", "too_big", "bad_mac", "unknown_cluster", "stale",
	"unknown_type", "rate_limited", "vip_taken", "unknown_source",
	"table_full"
};

uint32_t
proto_required(int type)
{
	if (type < 1 || type > SIG_TYPE_MAX)
		return 0;
	return proto_req[type];
}

const char *
proto_type_name(int type)
{
	if (type < 1 || type > SIG_TYPE_MAX)
		return proto_types[0];
	return proto_types[type];
}

const char *
proto_reason_name(int r)
{
	if (r < 0 || r >= SIG_R_MAX)
		return "unknown";
	return proto_reasons[r];
}

/* Count a drop and say why at debug level.  Returns the reason. */
int
sig_drop(int reason, const struct omni_addr *from, const char *what)
{
	char	 abuf[OMNI_ADDRSTRLEN];

	if (reason > SIG_OK && reason < SIG_R_MAX)
		sig_stats.dropped[reason]++;
	log_debug("dropped datagram from %s: %s%s%s",
	    from != NULL ? omni_addr_str(from, abuf, sizeof(abuf)) : "?",
	    proto_reason_name(reason), what != NULL ? ": " : "",
	    what != NULL ? what : "");
	return reason;
}

/*
 * A cluster name is 1..63 bytes without control characters (it ends
 * up in logs and in the key derivation, which reads it up to a NUL).
 */
int
proto_cluster_valid(const char *s)
{
	size_t	 i, n;

	n = strnlen(s, SIG_CLUSTERMAX + 1);
	if (n == 0 || n > SIG_CLUSTERMAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* --- addresses ------------------------------------------------------ */

/*
 * The IP of a socket address as the wire carries it: 4 bytes for IPv4
 * and for IPv4-mapped IPv6 (a dual-stack socket's view of an IPv4
 * sender), 16 for IPv6.
 */
int
proto_addr_ip(const struct omni_addr *a, uint8_t *af, uint8_t *ip)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };

	memset(ip, 0, 16);
	switch (a->sa.sa_family) {
	case AF_INET:
		*af = AF_INET;
		memcpy(ip, &a->sin.sin_addr, 4);
		return 0;
	case AF_INET6:
		if (memcmp(&a->sin6.sin6_addr, mapped, sizeof(mapped)) == 0) {
			*af = AF_INET;
			memcpy(ip, (const uint8_t *)&a->sin6.sin6_addr + 12, 4);
		} else {
			*af = AF_INET6;
			memcpy(ip, &a->sin6.sin6_addr, 16);
		}
		return 0;
	default:
		return -1;
	}
}

/* Same IP (IPv4-mapped counts as IPv4) and same port. */
int
proto_addr_eq(const struct omni_addr *a, const struct omni_addr *b)
{
	uint8_t	 afa, afb, ipa[16], ipb[16];

	if (proto_addr_ip(a, &afa, ipa) == -1 ||
	    proto_addr_ip(b, &afb, ipb) == -1)
		return 0;
	return afa == afb && memcmp(ipa, ipb, 16) == 0 &&
	    omni_addr_port(a) == omni_addr_port(b);
}

/* The WireGuard endpoint of a peer entry. */
void
proto_peer_to_addr(const struct sig_peer *p, struct omni_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (p->ep_af == AF_INET) {
		a->sin.sin_family = AF_INET;
		memcpy(&a->sin.sin_addr, p->ep, 4);
		a->sin.sin_port = htons(p->port);
	} else if (p->ep_af == AF_INET6) {
		a->sin6.sin6_family = AF_INET6;
		memcpy(&a->sin6.sin6_addr, p->ep, 16);
		a->sin6.sin6_port = htons(p->port);
	}
}

/* --- encoding ------------------------------------------------------- */

struct enc {
	uint8_t		*buf;
	size_t		 len;
	size_t		 off;
	int		 err;
};

static void
enc_advance(struct enc *e, size_t n)
{
	if (n == 0)
		e->err = 1;
	else
		e->off += n;
}

static void
enc_uint(struct enc *e, uint64_t v)
{
	if (!e->err)
		enc_advance(e, cbor_encode_uint(v, e->buf + e->off,
		    e->len - e->off));
}

static void
enc_map(struct enc *e, size_t n)
{
	if (!e->err)
		enc_advance(e, cbor_encode_map_start(n, e->buf + e->off,
		    e->len - e->off));
}

static void
enc_array(struct enc *e, size_t n)
{
	if (!e->err)
		enc_advance(e, cbor_encode_array_start(n, e->buf + e->off,
		    e->len - e->off));
}

static void
enc_raw(struct enc *e, const void *p, size_t n)
{
	if (e->err)
		return;
	if (n > e->len - e->off) {
		e->err = 1;
		return;
	}
	memcpy(e->buf + e->off, p, n);
	e->off += n;
}

static void
enc_bytes(struct enc *e, const void *p, size_t n)
{
	if (!e->err)
		enc_advance(e, cbor_encode_bytestring_start(n,
		    e->buf + e->off, e->len - e->off));
	enc_raw(e, p, n);
}

static void
enc_text(struct enc *e, const char *s)
{
	size_t	 n = strlen(s);

	if (!e->err)
		enc_advance(e, cbor_encode_string_start(n, e->buf + e->off,
		    e->len - e->off));
	enc_raw(e, s, n);
}

static size_t
af_iplen(int af)
{
	return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

static int
enc_peer(struct enc *e, const struct sig_peer *p)
{
	size_t	 vl = af_iplen(p->vip.af), el = af_iplen(p->ep_af);

	if (vl == 0 || el == 0 || p->port == 0)
		return -1;
	/* Keys in ascending order: the encoding is deterministic. */
	enc_map(e, 5);
	enc_uint(e, SIG_K_PUBKEY);
	enc_bytes(e, p->pubkey, SIG_KEYLEN);
	enc_uint(e, SIG_K_VIP);
	enc_bytes(e, p->vip.addr, vl);
	enc_uint(e, SIG_K_PLEN);
	enc_uint(e, p->vip.plen);
	enc_uint(e, SIG_K_PORT);
	enc_uint(e, p->port);
	enc_uint(e, SIG_K_ENDPOINT);
	enc_bytes(e, p->ep, el);
	return 0;
}

/* A fresh message: type, cluster, timestamp and a random nonce. */
void
proto_init_msg(struct sig_msg *m, int type, const char *cluster, time_t now)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	strlcpy(m->cluster, cluster, sizeof(m->cluster));
	m->timestamp = now < 0 ? 0 : (uint64_t)now;
	randombytes_buf(m->nonce, sizeof(m->nonce));
}

/*
 * Encode m (the keys its type requires, nothing else) and tag it with
 * key into buf.  Returns SIG_OK and the length, SIG_R_TOO_BIG when it
 * would exceed SIG_MAXDGRAM (or buflen), SIG_R_MALFORMED when m holds
 * something the format cannot carry.
 */
int
proto_encode(const struct sig_msg *m, const uint8_t *key, uint8_t *buf,
    size_t buflen, size_t *outlen)
{
	struct enc	 e;
	uint32_t	 req, i;
	size_t		 n, vl;
	int		 k;

	*outlen = 0;
	if ((req = proto_required(m->type)) == 0)
		return SIG_R_UNKNOWN_TYPE;
	if (!proto_cluster_valid(m->cluster) || m->npeers > SIG_MAX_PEERS)
		return SIG_R_MALFORMED;
	vl = af_iplen(m->vip.af);
	if ((req & SIG_F(SIG_K_VIP)) && vl == 0)
		return SIG_R_MALFORMED;
	if ((req & SIG_F(SIG_K_PORT)) && m->port == 0)
		return SIG_R_MALFORMED;
	if (buflen < SIG_MINDGRAM)
		return SIG_R_TOO_BIG;

	buf[0] = SIG_VERSION;
	buf[1] = m->type;
	e.buf = buf + SIG_HDRLEN;
	e.len = buflen - SIG_HDRLEN - SIG_TAGLEN;
	if (e.len > SIG_MAXBODY)
		e.len = SIG_MAXBODY;
	e.off = 0;
	e.err = 0;

	for (n = 0, k = 0; k < 32; k++)
		if (req & SIG_F(k))
			n++;
	enc_map(&e, n);
	for (k = 0; k < 32; k++) {
		if ((req & SIG_F(k)) == 0)
			continue;
		enc_uint(&e, k);
		switch (k) {
		case SIG_K_CLUSTER:
			enc_text(&e, m->cluster);
			break;
		case SIG_K_PUBKEY:
			enc_bytes(&e, m->pubkey, SIG_KEYLEN);
			break;
		case SIG_K_VIP:
			enc_bytes(&e, m->vip.addr, vl);
			break;
		case SIG_K_PLEN:
			enc_uint(&e, m->vip.plen);
			break;
		case SIG_K_PORT:
			enc_uint(&e, m->port);
			break;
		case SIG_K_TIME:
			enc_uint(&e, m->timestamp);
			break;
		case SIG_K_PEERS:
			enc_array(&e, m->npeers);
			for (i = 0; i < m->npeers; i++)
				if (enc_peer(&e, &m->peers[i]) == -1)
					return SIG_R_MALFORMED;
			break;
		case SIG_K_STATUS:
			enc_uint(&e, m->status);
			break;
		case SIG_K_NONCE:
			enc_bytes(&e, m->nonce, SIG_NONCELEN);
			break;
		}
	}
	if (e.err)
		return SIG_R_TOO_BIG;
	n = SIG_HDRLEN + e.off;
	crypto_auth_hmacsha256(buf + n, buf, n, key);
	*outlen = n + SIG_TAGLEN;
	return SIG_OK;
}

/* --- decoding ------------------------------------------------------- */

enum tok_kind {
	TOK_NONE = 0,
	TOK_UINT,
	TOK_NEGINT,
	TOK_BYTES,
	TOK_TEXT,
	TOK_ARRAY,
	TOK_MAP,
	TOK_TAG,
	TOK_SIMPLE,	/* floats, booleans, null, undefined */
	TOK_INDEF	/* any indefinite-length start or break */
};

struct tok {
	enum tok_kind	 kind;
	uint64_t	 val;		/* UINT, ARRAY and MAP counts, TAG */
	const uint8_t	*ptr;		/* BYTES, TEXT */
	size_t		 len;
};

struct rd {
	const uint8_t	*buf;
	size_t		 len;
	size_t		 off;
};

static void
cb_uint8(void *c, uint8_t v)
{
	((struct tok *)c)->kind = TOK_UINT;
	((struct tok *)c)->val = v;
}

static void
cb_uint16(void *c, uint16_t v)
{
	((struct tok *)c)->kind = TOK_UINT;
	((struct tok *)c)->val = v;
}

static void
cb_uint32(void *c, uint32_t v)
{
	((struct tok *)c)->kind = TOK_UINT;
	((struct tok *)c)->val = v;
}

static void
cb_uint64(void *c, uint64_t v)
{
	((struct tok *)c)->kind = TOK_UINT;
	((struct tok *)c)->val = v;
}

static void
cb_negint8(void *c, uint8_t v)
{
	(void)v;
	((struct tok *)c)->kind = TOK_NEGINT;
}

static void
cb_negint16(void *c, uint16_t v)
{
	(void)v;
	((struct tok *)c)->kind = TOK_NEGINT;
}

static void
cb_negint32(void *c, uint32_t v)
{
	(void)v;
	((struct tok *)c)->kind = TOK_NEGINT;
}

static void
cb_negint64(void *c, uint64_t v)
{
	(void)v;
	((struct tok *)c)->kind = TOK_NEGINT;
}

static void
cb_bytes(void *c, cbor_data p, size_t n)
{
	((struct tok *)c)->kind = TOK_BYTES;
	((struct tok *)c)->ptr = p;
	((struct tok *)c)->len = n;
}

static void
cb_text(void *c, cbor_data p, size_t n)
{
	((struct tok *)c)->kind = TOK_TEXT;
	((struct tok *)c)->ptr = p;
	((struct tok *)c)->len = n;
}

static void
cb_array(void *c, size_t n)
{
	((struct tok *)c)->kind = TOK_ARRAY;
	((struct tok *)c)->val = n;
}

static void
cb_map(void *c, size_t n)
{
	((struct tok *)c)->kind = TOK_MAP;
	((struct tok *)c)->val = n;
}

static void
cb_tag(void *c, uint64_t v)
{
	((struct tok *)c)->kind = TOK_TAG;
	((struct tok *)c)->val = v;
}

static void
cb_indef(void *c)
{
	((struct tok *)c)->kind = TOK_INDEF;
}

static void
cb_simple(void *c)
{
	((struct tok *)c)->kind = TOK_SIMPLE;
}

static void
cb_float(void *c, float v)
{
	(void)v;
	((struct tok *)c)->kind = TOK_SIMPLE;
}

static void
cb_double(void *c, double v)
{
	(void)v;
	((struct tok *)c)->kind = TOK_SIMPLE;
}

static void
cb_bool(void *c, bool v)
{
	(void)v;
	((struct tok *)c)->kind = TOK_SIMPLE;
}

/*
 * libcbor 0.8 names two pairs of members against their types: the
 * definite byte string callback is "byte_string", the indefinite
 * start "byte_string_start", and likewise for text and arrays.
 * Every member is set, so no callback can be left NULL.
 */
static const struct cbor_callbacks proto_cb = {
	.uint8 = cb_uint8,
	.uint16 = cb_uint16,
	.uint32 = cb_uint32,
	.uint64 = cb_uint64,
	.negint8 = cb_negint8,
	.negint16 = cb_negint16,
	.negint32 = cb_negint32,
	.negint64 = cb_negint64,
	.byte_string_start = cb_indef,
	.byte_string = cb_bytes,
	.string = cb_text,
	.string_start = cb_indef,
	.indef_array_start = cb_indef,
	.array_start = cb_array,
	.indef_map_start = cb_indef,
	.map_start = cb_map,
	.tag = cb_tag,
	.float2 = cb_float,
	.float4 = cb_float,
	.float8 = cb_double,
	.undefined = cb_simple,
	.null = cb_simple,
	.boolean = cb_bool,
	.indef_break = cb_indef,
};

/* The next item head; -1 at the end, on a decoding error or indefinite. */
static int
rd_next(struct rd *r, struct tok *t)
{
	struct cbor_decoder_result	 res;

	if (r->off >= r->len)
		return -1;
	memset(t, 0, sizeof(*t));
	res = cbor_stream_decode(r->buf + r->off, r->len - r->off, &proto_cb,
	    t);
	if (res.status != CBOR_DECODER_FINISHED || res.read == 0 ||
	    res.read > r->len - r->off)
		return -1;
	r->off += res.read;
	if (t->kind == TOK_NONE || t->kind == TOK_INDEF)
		return -1;
	return 0;
}

/*
 * Skip one whole item (an unknown key's value).  Every item takes at
 * least a byte, so even a huge declared count ends at the buffer end.
 */
static int
rd_skip(struct rd *r, int depth)
{
	struct tok	 t;
	uint64_t	 i;

	if (depth > SIG_MAX_DEPTH || rd_next(r, &t) == -1)
		return -1;
	switch (t.kind) {
	case TOK_ARRAY:
		for (i = 0; i < t.val; i++)
			if (rd_skip(r, depth + 1) == -1)
				return -1;
		return 0;
	case TOK_MAP:
		for (i = 0; i < t.val; i++)
			if (rd_skip(r, depth + 1) == -1 ||
			    rd_skip(r, depth + 1) == -1)
				return -1;
		return 0;
	case TOK_TAG:
		return rd_skip(r, depth + 1);
	default:
		return 0;
	}
}

static int
rd_uint(struct rd *r, uint64_t max, uint64_t *v)
{
	struct tok	 t;

	if (rd_next(r, &t) == -1 || t.kind != TOK_UINT || t.val > max)
		return -1;
	*v = t.val;
	return 0;
}

/* Byte string of exactly one of two lengths (pass the same twice). */
static int
rd_bytes(struct rd *r, size_t l1, size_t l2, uint8_t *out, size_t *len)
{
	struct tok	 t;

	if (rd_next(r, &t) == -1 || t.kind != TOK_BYTES ||
	    (t.len != l1 && t.len != l2))
		return -1;
	memcpy(out, t.ptr, t.len);
	if (len != NULL)
		*len = t.len;
	return 0;
}

static int
rd_cluster(struct rd *r, char *out)
{
	struct tok	 t;

	if (rd_next(r, &t) == -1 || t.kind != TOK_TEXT || t.len == 0 ||
	    t.len > SIG_CLUSTERMAX)
		return -1;
	memcpy(out, t.ptr, t.len);
	out[t.len] = '\0';
	/* An embedded NUL would shorten the name: refuse it. */
	if (strlen(out) != t.len || !proto_cluster_valid(out))
		return -1;
	return 0;
}

/* Start of a map: definite, at most SIG_MAX_PAIRS entries. */
static int
rd_map(struct rd *r, uint64_t *n)
{
	struct tok	 t;

	if (rd_next(r, &t) == -1 || t.kind != TOK_MAP ||
	    t.val > SIG_MAX_PAIRS)
		return -1;
	*n = t.val;
	return 0;
}

/* A map key: an unsigned integer not seen before in this map. */
static int
rd_key(struct rd *r, uint64_t *seen, uint64_t *key)
{
	if (rd_uint(r, UINT64_MAX, key) == -1)
		return -1;
	if (*key < 64) {
		if (*seen & (1ULL << *key))
			return -1;		/* duplicate */
		*seen |= 1ULL << *key;
	}
	return 0;
}

/* plen against the VIP family; a missing plen means a host prefix. */
static int
fix_plen(struct omni_prefix *p, uint64_t seen)
{
	unsigned	 max = p->af == AF_INET ? 32 : 128;

	if ((seen & SIG_F(SIG_K_PLEN)) == 0)
		p->plen = max;
	else if (p->plen == 0 || p->plen > max)
		return -1;
	return 0;
}

static int
dec_vip(struct rd *r, struct omni_prefix *p)
{
	size_t	 len;

	if (rd_bytes(r, 4, 16, p->addr, &len) == -1)
		return -1;
	p->af = len == 4 ? AF_INET : AF_INET6;
	return 0;
}

static int
dec_peer(struct rd *r, struct sig_peer *p)
{
	uint64_t	 n, i, key, v, seen = 0;
	size_t		 len;

	memset(p, 0, sizeof(*p));
	if (rd_map(r, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (rd_key(r, &seen, &key) == -1)
			return -1;
		switch (key) {
		case SIG_K_PUBKEY:
			if (rd_bytes(r, SIG_KEYLEN, SIG_KEYLEN, p->pubkey,
			    NULL) == -1)
				return -1;
			break;
		case SIG_K_VIP:
			if (dec_vip(r, &p->vip) == -1)
				return -1;
			break;
		case SIG_K_PLEN:
			if (rd_uint(r, 128, &v) == -1)
				return -1;
			p->vip.plen = v;
			break;
		case SIG_K_ENDPOINT:
			if (rd_bytes(r, 4, 16, p->ep, &len) == -1)
				return -1;
			p->ep_af = len == 4 ? AF_INET : AF_INET6;
			break;
		case SIG_K_PORT:
			if (rd_uint(r, 65535, &v) == -1 || v == 0)
				return -1;
			p->port = v;
			break;
		default:
			if (rd_skip(r, 2) == -1)
				return -1;
			break;
		}
	}
	if ((seen & PEER_REQ) != PEER_REQ)
		return -1;
	return fix_plen(&p->vip, seen);
}

static int
dec_peers(struct rd *r, struct sig_msg *m)
{
	struct tok	 t;
	uint64_t	 i;

	if (rd_next(r, &t) == -1 || t.kind != TOK_ARRAY ||
	    t.val > SIG_MAX_PEERS)
		return -1;
	for (i = 0; i < t.val; i++)
		if (dec_peer(r, &m->peers[i]) == -1)
			return -1;
	m->npeers = t.val;
	return 0;
}

/* Header checks shared by every entry point. */
static int
proto_check_frame(const uint8_t *d, size_t len)
{
	if (len > SIG_MAXDGRAM)
		return SIG_R_TOO_BIG;
	if (len < SIG_MINDGRAM || d[0] != SIG_VERSION)
		return SIG_R_MALFORMED;
	if (d[1] < 1 || d[1] > SIG_TYPE_MAX)
		return SIG_R_UNKNOWN_TYPE;
	return SIG_OK;
}

/*
 * Before the tag can be checked the receiver must know the cluster
 * (its key follows from the name): read the type and the cluster and
 * nothing else.  The result is unauthenticated.
 */
int
proto_peek(const uint8_t *d, size_t len, int *type, char *cluster)
{
	struct rd	 r;
	uint64_t	 n, i, key, seen = 0;
	int		 rv;

	if ((rv = proto_check_frame(d, len)) != SIG_OK)
		return rv;
	*type = d[1];
	r.buf = d + SIG_HDRLEN;
	r.len = len - SIG_HDRLEN - SIG_TAGLEN;
	r.off = 0;
	if (rd_map(&r, &n) == -1)
		return SIG_R_MALFORMED;
	for (i = 0; i < n; i++) {
		if (rd_key(&r, &seen, &key) == -1)
			return SIG_R_MALFORMED;
		if (key == SIG_K_CLUSTER)
			return rd_cluster(&r, cluster) == -1 ?
			    SIG_R_MALFORMED : SIG_OK;
		if (rd_skip(&r, 1) == -1)
			return SIG_R_MALFORMED;
	}
	return SIG_R_MALFORMED;
}

/* Constant-time check of the tag over version, type and body. */
int
proto_verify(const uint8_t *d, size_t len, const uint8_t *key)
{
	int	 rv;

	if ((rv = proto_check_frame(d, len)) != SIG_OK)
		return rv;
	if (crypto_auth_hmacsha256_verify(d + len - SIG_TAGLEN, d,
	    len - SIG_TAGLEN, key) != 0)
		return SIG_R_BAD_MAC;
	return SIG_OK;
}

/*
 * Decode the body into m.  The tag is not checked here: call
 * proto_verify() first (or proto_open(), which does both).
 */
int
proto_decode(const uint8_t *d, size_t len, struct sig_msg *m)
{
	struct rd	 r;
	uint64_t	 n, i, key, v, seen = 0;
	uint32_t	 req;
	int		 rv;

	memset(m, 0, sizeof(*m));
	if ((rv = proto_check_frame(d, len)) != SIG_OK)
		return rv;
	m->type = d[1];
	r.buf = d + SIG_HDRLEN;
	r.len = len - SIG_HDRLEN - SIG_TAGLEN;
	r.off = 0;
	if (rd_map(&r, &n) == -1)
		return SIG_R_MALFORMED;
	for (i = 0; i < n; i++) {
		if (rd_key(&r, &seen, &key) == -1)
			return SIG_R_MALFORMED;
		switch (key) {
		case SIG_K_CLUSTER:
			rv = rd_cluster(&r, m->cluster);
			break;
		case SIG_K_PUBKEY:
			rv = rd_bytes(&r, SIG_KEYLEN, SIG_KEYLEN, m->pubkey,
			    NULL);
			break;
		case SIG_K_VIP:
			rv = dec_vip(&r, &m->vip);
			break;
		case SIG_K_PLEN:
			if ((rv = rd_uint(&r, 128, &v)) == 0)
				m->vip.plen = v;
			break;
		case SIG_K_PORT:
			if ((rv = rd_uint(&r, 65535, &v)) == 0) {
				if (v == 0)
					rv = -1;
				m->port = v;
			}
			break;
		case SIG_K_TIME:
			rv = rd_uint(&r, UINT64_MAX, &m->timestamp);
			break;
		case SIG_K_PEERS:
			rv = dec_peers(&r, m);
			break;
		case SIG_K_STATUS:
			if ((rv = rd_uint(&r, UINT32_MAX, &v)) == 0)
				m->status = v;
			break;
		case SIG_K_NONCE:
			rv = rd_bytes(&r, SIG_NONCELEN, SIG_NONCELEN,
			    m->nonce, NULL);
			break;
		default:
			rv = rd_skip(&r, 1);
			break;
		}
		if (rv == -1)
			return SIG_R_MALFORMED;
	}
	if (r.off != r.len)
		return SIG_R_MALFORMED;		/* trailing bytes */
	req = proto_required(m->type);
	if ((seen & req) != req)
		return SIG_R_MALFORMED;
	if ((seen & SIG_F(SIG_K_VIP)) && fix_plen(&m->vip, seen) == -1)
		return SIG_R_MALFORMED;
	m->fields = (uint32_t)(seen & 0xffffffffULL);
	return SIG_OK;
}

int
proto_check_time(const struct sig_msg *m, time_t now)
{
	uint64_t	 n = now < 0 ? 0 : (uint64_t)now;

	if (m->timestamp > n + SIG_TIME_WINDOW ||
	    m->timestamp + SIG_TIME_WINDOW < n ||
	    m->timestamp > UINT64_MAX - SIG_TIME_WINDOW)
		return SIG_R_STALE;
	return SIG_OK;
}

/* Verify, decode and check the time: what a receiver with a key does. */
int
proto_open(const uint8_t *d, size_t len, const uint8_t *key, time_t now,
    struct sig_msg *m)
{
	int	 rv;

	memset(m, 0, sizeof(*m));
	if ((rv = proto_verify(d, len, key)) != SIG_OK)
		return rv;
	if ((rv = proto_decode(d, len, m)) != SIG_OK)
		return rv;
	return proto_check_time(m, now);
}
