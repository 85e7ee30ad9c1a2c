/*
 * Signaling wire format v2: encode, seal, open and decode.
 *
 *   up   = 2 | 1 | nonce | L | name box | sealed CBOR body
 *   down = 2 | 2 | nonce | sealed CBOR body
 *
 * (signald/PROTOCOL.md).  The decoder reads the plaintext body one
 * item head at a time with libcbor's streaming decoder, so it never
 * builds a tree, never allocates, and checks every declared length
 * against the bytes actually present.  Indefinite lengths, nesting
 * deeper than SIG_MAX_DEPTH and maps or arrays longer than the limits
 * are rejected as malformed.  The encoder writes the CBOR heads itself
 * (shortest forms, definite lengths).
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <cbor.h>
#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "proto.h"

struct sig_stats	 sig_stats;

#define F(k)		SIG_F(SIG_K_ ## k)

/* Keys each type must carry. */
static const uint32_t proto_req[SIG_TYPE_MAX + 1] = {
	[SIG_REGISTER] = F(TYPE) | F(PUBKEY) | F(VIP) | F(PLEN) | F(PORT) |
	    F(TIME) | F(PAD),
	[SIG_REGISTER_ACK] = F(TYPE) | F(TIME) | F(PEERS) | F(RE) |
	    F(COOKIE) | F(EPOCH) | F(FROM) | F(TO) | F(FLAGS) | F(AUTH),
	[SIG_HEARTBEAT] = F(TYPE) | F(PUBKEY) | F(TIME) | F(COOKIE) |
	    F(EPOCH) | F(FROM) | F(FLAGS) | F(AUTH),
	[SIG_HEARTBEAT_ACK] = F(TYPE) | F(TIME) | F(PEERS) | F(RE) |
	    F(COOKIE) | F(EPOCH) | F(FROM) | F(TO) | F(FLAGS) | F(AUTH),
	[SIG_DEREGISTER] = F(TYPE) | F(PUBKEY) | F(TIME) | F(AUTH),
	[SIG_NAK] = F(TYPE) | F(TIME) | F(RE) | F(STATUS) | F(AUTH),
	[SIG_QUERY_PEER] = F(TYPE) | F(PUBKEY) | F(VIP) | F(TIME) |
	    F(COOKIE) | F(AUTH),
	[SIG_PEER_INFO] = F(TYPE) | F(VIP) | F(TIME) | F(PEERS) | F(RE) |
	    F(AUTH),
	[SIG_CHALLENGE] = F(TYPE) | F(TIME) | F(RE) | F(NKEY) | F(COOKIE),
	[SIG_PUNCH] = F(TYPE) | F(TIME) | F(PEERS) | F(AUTH),
};

/* ... and those it may carry besides. */
static const uint32_t proto_opt[SIG_TYPE_MAX + 1] = {
	[SIG_REGISTER] = F(COOKIE) | SIG_F_SYNC | F(BASE) | F(AUTH) |
	    F(CANDS),
	[SIG_REGISTER_ACK] = F(BASE),
	[SIG_HEARTBEAT] = F(BASE) | F(CANDS),
	[SIG_HEARTBEAT_ACK] = F(BASE),
	[SIG_DEREGISTER] = F(COOKIE),
	[SIG_QUERY_PEER] = F(PLEN),
	[SIG_PEER_INFO] = F(PLEN),
};

static const uint8_t proto_kind[SIG_TYPE_MAX + 1] = {
	[SIG_REGISTER] = SIG_KIND_UP,
	[SIG_REGISTER_ACK] = SIG_KIND_DOWN,
	[SIG_HEARTBEAT] = SIG_KIND_UP,
	[SIG_HEARTBEAT_ACK] = SIG_KIND_DOWN,
	[SIG_DEREGISTER] = SIG_KIND_UP,
	[SIG_NAK] = SIG_KIND_DOWN,
	[SIG_QUERY_PEER] = SIG_KIND_UP,
	[SIG_PEER_INFO] = SIG_KIND_DOWN,
	[SIG_CHALLENGE] = SIG_KIND_DOWN,
	[SIG_PUNCH] = SIG_KIND_DOWN,
};

static const char *const proto_types[SIG_TYPE_MAX + 1] = {
	"unknown", "register", "register_ack", "heartbeat", "heartbeat_ack",
	"deregister", "nak", "query_peer", "peer_info", "challenge", "punch"
};

static const char *const proto_reasons[SIG_R_MAX] = {
	"ok", "malformed", "too_big", "bad_mac", "unknown_cluster", "stale",
	"unknown_type", "rate_limited", "vip_taken", "unknown_source",
	"table_full", "replay", "bad_proof", "bad_cookie"
};

/* The STUN magic cookie at datagram bytes 4..7 (nonce bytes 2..5). */
static const uint8_t stun_magic[4] = { 0x21, 0x12, 0xa4, 0x42 };

uint32_t
proto_required(int type)
{
	if (type < 1 || type > SIG_TYPE_MAX)
		return 0;
	return proto_req[type];
}

uint32_t
proto_allowed(int type)
{
	if (type < 1 || type > SIG_TYPE_MAX)
		return 0;
	return proto_req[type] | proto_opt[type];
}

int
proto_type_kind(int type)
{
	if (type < 1 || type > SIG_TYPE_MAX)
		return 0;
	return proto_kind[type];
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
	if (log_getverbose() > 0)
		log_debug("dropped datagram from %s: %s%s%s",
		    from != NULL ? omni_addr_str(from, abuf, sizeof(abuf)) :
		    "?", proto_reason_name(reason), what != NULL ? ": " : "",
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

/* The up and down keys from a cluster's signal key. */
void
proto_cluster_keys(const uint8_t *sigkey, struct sig_ckeys *ck)
{
	keys_signal_subkeys(sigkey, ck->up, ck->down);
}

uint64_t
proto_clock_us(const struct sig_clock *clk)
{
	if (clk->wall_us != 0)
		return clk->wall_us;
	return clk->wall < 0 ? 0 : (uint64_t)clk->wall * 1000000;
}

/* A sender's next `time`: the clock, but never a value used before. */
uint64_t
proto_next_time(uint64_t *last, const struct sig_clock *clk)
{
	uint64_t	 t = proto_clock_us(clk);

	if (t <= *last)
		t = *last + 1;
	*last = t;
	return t;
}

void
proto_init_msg(struct sig_msg *m, int type, uint64_t time)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->time = time;
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

/* A candidate from a socket address (IPv4-mapped counts as IPv4). */
int
proto_cand_from_addr(const struct omni_addr *a, int kind,
    struct sig_cand *c)
{
	memset(c, 0, sizeof(*c));
	if (kind <= 0 || kind > 255 || omni_addr_port(a) == 0 ||
	    proto_addr_ip(a, &c->af, c->ip) == -1)
		return -1;
	c->kind = kind;
	c->port = omni_addr_port(a);
	return 0;
}

void
proto_cand_to_addr(const struct sig_cand *c, struct omni_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (c->af == AF_INET) {
		a->sin.sin_family = AF_INET;
		memcpy(&a->sin.sin_addr, c->ip, 4);
		a->sin.sin_port = htons(c->port);
	} else if (c->af == AF_INET6) {
		a->sin6.sin6_family = AF_INET6;
		memcpy(&a->sin6.sin6_addr, c->ip, 16);
		a->sin6.sin6_port = htons(c->port);
	}
}

/* --- encoding ------------------------------------------------------- */

struct enc {
	uint8_t		*buf;
	size_t		 len;
	size_t		 off;
	int		 err;
};

/* A CBOR head: major type and argument, shortest form. */
static void
enc_head(struct enc *e, uint8_t major, uint64_t v)
{
	uint8_t	 h[9];
	size_t	 n, i;

	if (e->err)
		return;
	major <<= 5;
	if (v < 24) {
		h[0] = major | v;
		n = 1;
	} else if (v <= 0xff) {
		h[0] = major | 24;
		n = 2;
	} else if (v <= 0xffff) {
		h[0] = major | 25;
		n = 3;
	} else if (v <= 0xffffffffULL) {
		h[0] = major | 26;
		n = 5;
	} else {
		h[0] = major | 27;
		n = 9;
	}
	for (i = n - 1; i >= 1; i--) {
		h[i] = v & 0xff;
		v >>= 8;
	}
	if (n > e->len - e->off) {
		e->err = 1;
		return;
	}
	memcpy(e->buf + e->off, h, n);
	e->off += n;
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
	if (n > 0)
		memcpy(e->buf + e->off, p, n);
	e->off += n;
}

static void
enc_uint(struct enc *e, uint64_t v)
{
	enc_head(e, 0, v);
}

static void
enc_bytes(struct enc *e, const void *p, size_t n)
{
	enc_head(e, 2, n);
	enc_raw(e, p, n);
}

static size_t
af_iplen(int af)
{
	return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

static size_t
head_len(uint64_t v)
{
	return v < 24 ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 :
	    v <= 0xffffffffULL ? 5 : 9;
}

static void
enc_cands(struct enc *e, const struct sig_cand *c, size_t n)
{
	uint8_t	 b[SIG_CANDLEN6];
	size_t	 i, il;

	enc_head(e, 4, n);
	for (i = 0; i < n; i++) {
		il = af_iplen(c[i].af);
		memcpy(b, c[i].ip, il);
		b[il] = c[i].port >> 8;
		b[il + 1] = c[i].port & 0xff;
		b[il + 2] = c[i].kind;
		enc_bytes(e, b, il + 3);
	}
}

static int
cands_valid(const struct sig_cand *c, size_t n)
{
	size_t	 i;

	if (n > SIG_MAX_CANDS)
		return 0;
	for (i = 0; i < n; i++)
		if (af_iplen(c[i].af) == 0 || c[i].port == 0 ||
		    c[i].kind == 0)
			return 0;
	return 1;
}

/*
 * The candidates item of a peer entry: an array of 0..SIG_MAX_CANDS
 * byte strings IP || port || kind.  Returns its length, or -1.
 */
int
proto_cands_encode(const struct sig_cand *c, size_t n, uint8_t *buf,
    size_t len)
{
	struct enc	 e = { buf, len, 0, 0 };

	if (!cands_valid(c, n))
		return -1;
	enc_cands(&e, c, n);
	return e.err ? -1 : (int)e.off;
}

/*
 * One peer entry into buf: [pubkey] for a removal, else [pubkey, vip,
 * plen, ip || port] followed, when tlen is not 0, by tail: an encoded
 * candidates item (proto_cands_encode) as the fifth.  The nucleus
 * keeps candidates encoded and splices them in this way.  Returns the
 * entry's length, or -1.
 */
int
proto_entry_encode_tail(const struct sig_peer *p, const uint8_t *tail,
    size_t tlen, uint8_t *buf, size_t len)
{
	struct enc	 e = { buf, len, 0, 0 };
	uint8_t		 ep[18];
	size_t		 vl, el;

	if (p->removed) {
		enc_head(&e, 4, 1);
		enc_bytes(&e, p->pubkey, SIG_KEYLEN);
		return e.err ? -1 : (int)e.off;
	}
	vl = af_iplen(p->vip.af);
	el = af_iplen(p->ep_af);
	if (vl == 0 || el == 0 || p->port == 0 || p->vip.plen == 0 ||
	    p->vip.plen > vl * 8)
		return -1;
	memcpy(ep, p->ep, el);
	ep[el] = p->port >> 8;
	ep[el + 1] = p->port & 0xff;
	enc_head(&e, 4, tlen > 0 ? 5 : 4);
	enc_bytes(&e, p->pubkey, SIG_KEYLEN);
	enc_bytes(&e, p->vip.addr, vl);
	enc_uint(&e, p->vip.plen);
	enc_bytes(&e, ep, el + 2);
	enc_raw(&e, tail, tlen);
	return e.err ? -1 : (int)e.off;
}

/* One peer entry with its own candidates (none: the v2 form). */
int
proto_entry_encode(const struct sig_peer *p, uint8_t *buf, size_t len)
{
	uint8_t	 c[SIG_CANDSMAX];
	int	 cl = 0;

	if (!p->removed && p->ncands > 0 &&
	    (cl = proto_cands_encode(p->cands, p->ncands, c, sizeof(c))) == -1)
		return -1;
	return proto_entry_encode_tail(p, c, cl, buf, len);
}

static int
body_encode(const struct sig_msg *m, uint32_t want, size_t padlen,
    uint8_t *buf, size_t buflen, size_t *outlen)
{
	static const uint8_t	 zero[SIG_MAXDGRAM];
	struct enc		 e = { buf, buflen, 0, 0 };
	uint8_t			 tmp[SIG_ENTRYMAX];
	size_t			 n, vl = af_iplen(m->vip.af);
	uint32_t		 i;
	int			 k, r;

	*outlen = 0;
	if ((want & F(VIP)) && vl == 0)
		return SIG_R_MALFORMED;
	if ((want & F(PLEN)) && (m->vip.plen == 0 || m->vip.plen > vl * 8))
		return SIG_R_MALFORMED;
	if ((want & F(PORT)) && m->port == 0)
		return SIG_R_MALFORMED;
	if (m->raw == NULL && m->npeers > SIG_MAX_PEERS)
		return SIG_R_MALFORMED;
	if (padlen > sizeof(zero))
		return SIG_R_TOO_BIG;
	for (n = 0, k = 0; k < 32; k++)
		if (want & SIG_F(k))
			n++;
	enc_head(&e, 5, n);
	for (k = 0; k < 32; k++) {
		if ((want & SIG_F(k)) == 0)
			continue;
		enc_uint(&e, k);
		switch (k) {
		case SIG_K_TYPE:
			enc_uint(&e, m->type);
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
			enc_uint(&e, m->time);
			break;
		case SIG_K_PEERS:
			if (m->raw != NULL) {
				enc_head(&e, 4, m->nraw);
				enc_raw(&e, m->raw, m->rawlen);
				break;
			}
			enc_head(&e, 4, m->npeers);
			for (i = 0; i < m->npeers; i++) {
				if ((r = proto_entry_encode(&m->peers[i], tmp,
				    sizeof(tmp))) == -1)
					return SIG_R_MALFORMED;
				enc_raw(&e, tmp, r);
			}
			break;
		case SIG_K_RE:
			enc_uint(&e, m->re);
			break;
		case SIG_K_STATUS:
			enc_uint(&e, m->status);
			break;
		case SIG_K_NKEY:
			enc_bytes(&e, m->nkey, SIG_KEYLEN);
			break;
		case SIG_K_COOKIE:
			enc_bytes(&e, m->cookie, SIG_COOKIELEN);
			break;
		case SIG_K_EPOCH:
			enc_uint(&e, m->epoch);
			break;
		case SIG_K_FROM:
			enc_uint(&e, m->from);
			break;
		case SIG_K_TO:
			enc_uint(&e, m->to);
			break;
		case SIG_K_FLAGS:
			enc_uint(&e, m->flags);
			break;
		case SIG_K_PAD:
			enc_bytes(&e, zero, padlen);
			break;
		case SIG_K_BASE:
			enc_uint(&e, m->base);
			break;
		case SIG_K_CANDS:
			if (!cands_valid(m->cands, m->ncands))
				return SIG_R_MALFORMED;
			enc_cands(&e, m->cands, m->ncands);
			break;
		case SIG_K_AUTH:
			/* filled in by proto_seal */
			enc_bytes(&e, zero, SIG_AUTHLEN);
			break;
		}
	}
	if (e.err)
		return SIG_R_TOO_BIG;
	*outlen = e.off;
	return SIG_OK;
}

/* The keys m's body gets: required, plus optional ones m has set. */
static uint32_t
proto_want(const struct sig_msg *m, int auth)
{
	uint32_t	 w;

	w = proto_required(m->type) | (m->fields & proto_opt[m->type]);
	if (auth)
		w |= F(AUTH);
	else
		w &= ~F(AUTH);
	return w;
}

/*
 * The plain body alone, for tests and the fuzz target: auth, when the
 * type requires it or m has it, is 16 zero bytes.
 */
int
proto_body_encode(const struct sig_msg *m, uint8_t *buf, size_t buflen,
    size_t *outlen)
{
	if (proto_required(m->type) == 0)
		return SIG_R_UNKNOWN_TYPE;
	return body_encode(m, proto_want(m, ((m->fields |
	    proto_required(m->type)) & F(AUTH)) != 0), m->padlen, buf, buflen,
	    outlen);
}

static void
auth_mac(const uint8_t *ad, size_t adlen, const uint8_t *body, size_t blen,
    const uint8_t *key, uint8_t *mac)
{
	crypto_generichash_state	 st;

	crypto_generichash_init(&st, key, SIG_KEYLEN, SIG_AUTHLEN);
	crypto_generichash_update(&st, ad, adlen);
	crypto_generichash_update(&st, body, blen);
	crypto_generichash_final(&st, mac, SIG_AUTHLEN);
}

/*
 * A fresh nonce: 16 random bytes drawn once per process (and again
 * every 2^32 datagrams), then a 64-bit counter.  Unique per key like a
 * random 24-byte nonce, without a system call per datagram.  The
 * random part is drawn again when it would put the STUN magic cookie
 * at datagram bytes 4..7.
 */
static void
proto_nonce(uint8_t *n)
{
	static uint8_t	 prefix[16];
	static uint64_t	 ctr;

	if ((ctr & 0xffffffffULL) == 0)
		do
			randombytes_buf(prefix, sizeof(prefix));
		while (memcmp(prefix + 2, stun_magic,
		    sizeof(stun_magic)) == 0);
	ctr++;
	memcpy(n, prefix, sizeof(prefix));
	memcpy(n + sizeof(prefix), &ctr, sizeof(ctr));
}

/*
 * Seal m into out: header, name box (up), body under bodykey, with
 * auth under authkey when it is not NULL.  Returns SIG_OK and the
 * length, SIG_R_TOO_BIG when it would exceed SIG_MAXDGRAM (or outlen),
 * SIG_R_MALFORMED or SIG_R_UNKNOWN_TYPE when m cannot be carried.
 */
int
proto_seal(const struct sig_msg *m, int kind, const char *cluster,
    const uint8_t *namekey, const uint8_t *bodykey, const uint8_t *authkey,
    uint8_t *out, size_t outlen, size_t *len)
{
	uint8_t		 plain[SIG_MAXDGRAM];
	size_t		 adlen, blen, nlen = 0, pad = 0, need;
	uint32_t	 want;
	int		 rv;

	*len = 0;
	if (proto_required(m->type) == 0)
		return SIG_R_UNKNOWN_TYPE;
	if (proto_type_kind(m->type) != kind)
		return SIG_R_UNKNOWN_TYPE;
	if (outlen > SIG_MAXDGRAM)
		outlen = SIG_MAXDGRAM;
	if (kind == SIG_KIND_UP) {
		if (cluster == NULL || !proto_cluster_valid(cluster) ||
		    namekey == NULL)
			return SIG_R_MALFORMED;
		nlen = strlen(cluster);
		adlen = SIG_HDRLEN + 1 + nlen + SIG_AEADLEN;
	} else
		adlen = SIG_HDRLEN;
	if (outlen < adlen + SIG_AEADLEN + 1)
		return SIG_R_TOO_BIG;

	want = proto_want(m, authkey != NULL);
	if ((rv = body_encode(m, want, 0, plain, sizeof(plain), &blen)) !=
	    SIG_OK)
		return rv;
	if (m->type == SIG_REGISTER &&
	    adlen + blen + SIG_AEADLEN < SIG_REGISTER_MIN) {
		/* the smallest pad that brings it to SIG_REGISTER_MIN */
		need = SIG_REGISTER_MIN - (adlen + blen + SIG_AEADLEN);
		for (pad = need > 2 ? need - 2 : 0;
		    pad + head_len(pad) - 1 < need; pad++)
			;
		if ((rv = body_encode(m, want, pad, plain, sizeof(plain),
		    &blen)) != SIG_OK)
			return rv;
	}
	if (adlen + blen + SIG_AEADLEN > outlen)
		return SIG_R_TOO_BIG;

	out[0] = SIG_VERSION;
	out[1] = kind;
	proto_nonce(out + 2);
	if (kind == SIG_KIND_UP) {
		out[SIG_HDRLEN] = nlen + SIG_AEADLEN;
		crypto_aead_xchacha20poly1305_ietf_encrypt(out + SIG_HDRLEN +
		    1, NULL, (const uint8_t *)cluster, nlen, out, SIG_HDRLEN,
		    NULL, out + 2, namekey);
	}
	if (authkey != NULL)
		auth_mac(out, adlen, plain, blen - SIG_AUTHLEN, authkey,
		    plain + blen - SIG_AUTHLEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + adlen, NULL, plain,
	    blen, out, adlen, NULL, out + 2, bodykey);
	sodium_memzero(plain, blen);
	*len = adlen + blen + SIG_AEADLEN;
	return SIG_OK;
}

/*
 * Room for encoded peer entries in an ACK part: what is left of a
 * datagram once every other field is at its largest.
 */
size_t
proto_answer_budget(void)
{
	static size_t	 budget;
	struct sig_msg	 m;
	uint8_t		 buf[SIG_MAXDGRAM];
	size_t		 blen;

	if (budget != 0)
		return budget;
	proto_init_msg(&m, SIG_HEARTBEAT_ACK, UINT64_MAX);
	m.re = m.epoch = m.from = m.to = m.base = UINT64_MAX;
	m.flags = UINT32_MAX;
	m.fields = F(BASE);
	m.raw = buf;		/* empty, but an array head of 2 bytes: */
	m.rawlen = 0;
	m.nraw = SIG_MAX_PEERS;
	if (body_encode(&m, proto_want(&m, 1), 0, buf, sizeof(buf), &blen) !=
	    SIG_OK)
		fatalx("proto_answer_budget");
	budget = SIG_MAXDGRAM - SIG_HDRLEN - SIG_AEADLEN - blen;
	return budget;
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
	t->kind = TOK_NONE;
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
	if (out != NULL)
		memcpy(out, t.ptr, t.len);
	if (len != NULL)
		*len = t.len;
	return 0;
}

/* A byte string of any length (pad). */
static int
rd_anybytes(struct rd *r)
{
	struct tok	 t;

	if (rd_next(r, &t) == -1 || t.kind != TOK_BYTES)
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
fix_plen(struct omni_prefix *p, int has_plen)
{
	unsigned	 max = p->af == AF_INET ? 32 : 128;

	if (!has_plen)
		p->plen = max;
	else if (p->plen == 0 || p->plen > max)
		return -1;
	return 0;
}

static int
dec_vip(struct rd *r, struct omni_prefix *p)
{
	size_t	 len;

	memset(p->addr, 0, sizeof(p->addr));
	if (rd_bytes(r, 4, 16, p->addr, &len) == -1)
		return -1;
	p->af = len == 4 ? AF_INET : AF_INET6;
	return 0;
}

/* An array of 0..SIG_MAX_CANDS candidates, IP || port || kind. */
static int
dec_cands(struct rd *r, struct sig_cand *c, uint8_t *n)
{
	struct tok	 t;
	uint8_t		 b[SIG_CANDLEN6];
	uint64_t	 i;
	size_t		 len, il;

	if (rd_next(r, &t) == -1 || t.kind != TOK_ARRAY ||
	    t.val > SIG_MAX_CANDS)
		return -1;
	for (i = 0; i < t.val; i++) {
		if (rd_bytes(r, SIG_CANDLEN4, SIG_CANDLEN6, b, &len) == -1)
			return -1;
		il = len - 3;
		memset(&c[i], 0, sizeof(c[i]));
		c[i].af = il == 4 ? AF_INET : AF_INET6;
		memcpy(c[i].ip, b, il);
		c[i].port = (uint16_t)(b[il] << 8 | b[il + 1]);
		c[i].kind = b[il + 2];
		if (c[i].port == 0 || c[i].kind == 0)
			return -1;
	}
	*n = t.val;
	return 0;
}

/* An encoded candidates item (as the nucleus keeps it): 0 or -1. */
int
proto_cands_decode(const uint8_t *b, size_t len, struct sig_cand *c,
    uint8_t *n)
{
	struct rd	 r = { b, len, 0 };

	*n = 0;
	if (len == 0)
		return 0;
	if (dec_cands(&r, c, n) == -1 || r.off != len)
		return -1;
	return 0;
}

/* [pubkey] or [pubkey, vip, plen, ip || port, cands, ...] */
static int
dec_peer(struct rd *r, struct sig_peer *p)
{
	struct tok	 t;
	uint64_t	 i, v;
	uint8_t		 ep[18];
	size_t		 len;

	memset(p, 0, sizeof(*p));
	if (rd_next(r, &t) == -1 || t.kind != TOK_ARRAY ||
	    (t.val != 1 && t.val < 4))
		return -1;
	if (rd_bytes(r, SIG_KEYLEN, SIG_KEYLEN, p->pubkey, NULL) == -1)
		return -1;
	if (t.val == 1) {
		p->removed = 1;
		return 0;
	}
	if (dec_vip(r, &p->vip) == -1 || rd_uint(r, 128, &v) == -1)
		return -1;
	p->vip.plen = v;
	if (fix_plen(&p->vip, 1) == -1)
		return -1;
	if (rd_bytes(r, 6, 18, ep, &len) == -1)
		return -1;
	p->ep_af = len == 6 ? AF_INET : AF_INET6;
	memset(p->ep, 0, sizeof(p->ep));
	memcpy(p->ep, ep, len - 2);
	p->port = (uint16_t)(ep[len - 2] << 8 | ep[len - 1]);
	if (p->port == 0)
		return -1;
	if (t.val >= 5 && dec_cands(r, p->cands, &p->ncands) == -1)
		return -1;
	for (i = 5; i < t.val; i++)
		if (rd_skip(r, 2) == -1)
			return -1;
	return 0;
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

/*
 * Decode a plaintext body of a datagram of the given kind into m.
 * Nothing here is authenticated: the caller opened the AEAD first and
 * checks auth after.
 */
int
proto_decode(const uint8_t *d, size_t len, int kind, struct sig_msg *m)
{
	struct rd	 r;
	uint64_t	 n, i, key, v, seen = 0;
	uint32_t	 req;
	int		 rv, authlast = 0;

	memset(m, 0, offsetof(struct sig_msg, peers));
	m->raw = NULL;
	m->rawlen = 0;
	m->nraw = 0;
	r.buf = d;
	r.len = len;
	r.off = 0;
	if (rd_map(&r, &n) == -1)
		return SIG_R_MALFORMED;
	for (i = 0; i < n; i++) {
		if (rd_key(&r, &seen, &key) == -1)
			return SIG_R_MALFORMED;
		switch (key) {
		case SIG_K_TYPE:
			if ((rv = rd_uint(&r, 255, &v)) == 0)
				m->type = v;
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
			rv = rd_uint(&r, UINT64_MAX, &m->time);
			break;
		case SIG_K_PEERS:
			rv = dec_peers(&r, m);
			break;
		case SIG_K_RE:
			rv = rd_uint(&r, UINT64_MAX, &m->re);
			break;
		case SIG_K_STATUS:
			if ((rv = rd_uint(&r, UINT32_MAX, &v)) == 0)
				m->status = v;
			break;
		case SIG_K_NKEY:
			rv = rd_bytes(&r, SIG_KEYLEN, SIG_KEYLEN, m->nkey,
			    NULL);
			break;
		case SIG_K_COOKIE:
			rv = rd_bytes(&r, SIG_COOKIELEN, SIG_COOKIELEN,
			    m->cookie, NULL);
			break;
		case SIG_K_EPOCH:
			rv = rd_uint(&r, UINT64_MAX, &m->epoch);
			break;
		case SIG_K_FROM:
			rv = rd_uint(&r, UINT64_MAX, &m->from);
			break;
		case SIG_K_TO:
			rv = rd_uint(&r, UINT64_MAX, &m->to);
			break;
		case SIG_K_FLAGS:
			if ((rv = rd_uint(&r, UINT32_MAX, &v)) == 0)
				m->flags = v;
			break;
		case SIG_K_BASE:
			rv = rd_uint(&r, UINT64_MAX, &m->base);
			break;
		case SIG_K_PAD:
			rv = rd_anybytes(&r);
			break;
		case SIG_K_CANDS:
			rv = dec_cands(&r, m->cands, &m->ncands);
			break;
		case SIG_K_AUTH:
			/* last entry, its value the last 16 bytes */
			rv = rd_bytes(&r, SIG_AUTHLEN, SIG_AUTHLEN, NULL,
			    NULL);
			authlast = i == n - 1 && r.off == r.len;
			if (!authlast)
				rv = -1;
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
	if ((seen & F(TYPE)) == 0)
		return SIG_R_MALFORMED;
	if ((req = proto_required(m->type)) == 0 ||
	    proto_type_kind(m->type) != kind)
		return SIG_R_UNKNOWN_TYPE;
	if ((seen & req) != req)
		return SIG_R_MALFORMED;
	if ((seen & F(VIP)) && fix_plen(&m->vip, (seen & F(PLEN)) != 0) == -1)
		return SIG_R_MALFORMED;
	if ((seen & F(PLEN)) && (seen & F(VIP)) == 0)
		return SIG_R_MALFORMED;
	/* a PUNCH is about exactly one present peer */
	if (m->type == SIG_PUNCH && (m->npeers != 1 || m->peers[0].removed))
		return SIG_R_MALFORMED;
	m->fields = (uint32_t)(seen & 0xffffffffULL);
	return SIG_OK;
}

/*
 * The header checks both directions share: size, version, then kind
 * (the other direction's kind is an unknown type, anything else
 * malformed), then the direction's minimum length.
 */
static int
proto_open_hdr(struct sig_rx *rx, const uint8_t *d, size_t len, int kind,
    size_t min)
{
	int	 other = kind == SIG_KIND_UP ? SIG_KIND_DOWN : SIG_KIND_UP;

	rx->d = d;
	rx->len = len;
	rx->adlen = 0;
	rx->plainlen = 0;
	rx->cluster[0] = '\0';
	if (len > SIG_MAXDGRAM)
		return SIG_R_TOO_BIG;
	if (len < SIG_HDRLEN || d[0] != SIG_VERSION)
		return SIG_R_MALFORMED;
	if (d[1] != kind)
		return d[1] == other ? SIG_R_UNKNOWN_TYPE : SIG_R_MALFORMED;
	if (len < min)
		return SIG_R_MALFORMED;
	return SIG_OK;
}

/* Header checks of an up datagram, then open its name box. */
int
proto_open_name(struct sig_rx *rx, const uint8_t *d, size_t len,
    const uint8_t *namekey)
{
	unsigned long long	 n;
	size_t			 L;
	int			 rv;

	if ((rv = proto_open_hdr(rx, d, len, SIG_KIND_UP, SIG_MINUP)) != SIG_OK)
		return rv;
	L = d[SIG_HDRLEN];
	if (L < SIG_AEADLEN + 1 || L > SIG_AEADLEN + SIG_CLUSTERMAX ||
	    SIG_HDRLEN + 1 + L + SIG_AEADLEN + 1 > len)
		return SIG_R_MALFORMED;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)rx->cluster,
	    &n, NULL, d + SIG_HDRLEN + 1, L, d, SIG_HDRLEN, d + 2,
	    namekey) != 0)
		return SIG_R_BAD_MAC;
	rx->cluster[n] = '\0';
	/* An embedded NUL would shorten the name: refuse it. */
	if (strlen(rx->cluster) != n || !proto_cluster_valid(rx->cluster))
		return SIG_R_MALFORMED;
	rx->adlen = SIG_HDRLEN + 1 + L;
	return SIG_OK;
}

/* Open the body (after proto_open_name, or for a down datagram). */
int
proto_open_body(struct sig_rx *rx, const uint8_t *key)
{
	unsigned long long	 n;

	if (rx->adlen == 0 || rx->len < rx->adlen + SIG_AEADLEN + 1)
		return SIG_R_MALFORMED;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(rx->plain, &n, NULL,
	    rx->d + rx->adlen, rx->len - rx->adlen, rx->d, rx->adlen,
	    rx->d + 2, key) != 0)
		return SIG_R_BAD_MAC;
	rx->plainlen = n;
	return proto_decode(rx->plain, rx->plainlen, rx->d[1], &rx->m);
}

/* What an edge does with a datagram from a nucleus. */
int
proto_open_down(struct sig_rx *rx, const uint8_t *d, size_t len,
    const uint8_t *downkey)
{
	int	 rv;

	if ((rv = proto_open_hdr(rx, d, len, SIG_KIND_DOWN, SIG_MINDOWN)) !=
	    SIG_OK)
		return rv;
	rx->adlen = SIG_HDRLEN;
	return proto_open_body(rx, downkey);
}

/* Constant-time check of auth with a proof key: 1 good, 0 bad or none. */
int
proto_auth_ok(const struct sig_rx *rx, const uint8_t *key)
{
	uint8_t	 mac[SIG_AUTHLEN];
	int	 good;

	if ((rx->m.fields & F(AUTH)) == 0 || rx->plainlen < SIG_AUTHLEN)
		return 0;
	auth_mac(rx->d, rx->adlen, rx->plain, rx->plainlen - SIG_AUTHLEN,
	    key, mac);
	good = sodium_memcmp(mac, rx->plain + rx->plainlen - SIG_AUTHLEN,
	    SIG_AUTHLEN) == 0;
	sodium_memzero(mac, sizeof(mac));
	return good;
}

int
proto_check_time(const struct sig_msg *m, const struct sig_clock *clk)
{
	uint64_t	 now = proto_clock_us(clk);
	uint64_t	 w = (uint64_t)SIG_TIME_WINDOW * 1000000;

	if (m->time > UINT64_MAX - w || m->time > now + w ||
	    m->time + w < now)
		return SIG_R_STALE;
	return SIG_OK;
}
