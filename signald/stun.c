/*
 * STUN Binding (RFC 8489): a codec for the nucleus's answers and a
 * small client for the edges.
 *
 * Message layout (section 5): a 20-byte header (two zero bits, a
 * 14-bit type, a 16-bit length of what follows, the magic cookie and
 * a 96-bit transaction id), then type-length-value attributes, each
 * padded to a multiple of 4 bytes.  FINGERPRINT, when present, is the
 * last attribute: the CRC-32 of everything before it, XORed with
 * 0x5354554e.
 *
 * The nucleus answers without authentication: it needs none, since a
 * Binding response only tells the sender where it comes from.  The
 * answers are kept small (XOR-MAPPED-ADDRESS and FINGERPRINT, 40 or
 * 52 bytes; no SOFTWARE) because they go to an address nobody
 * verified; the caller rate-limits them per source as well.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "stun.h"

/* Message types: method Binding (0x001) in the four classes. */
#define STUN_BINDING_REQUEST	0x0001
#define STUN_BINDING_INDICATION	0x0011
#define STUN_BINDING_SUCCESS	0x0101
#define STUN_BINDING_ERROR	0x0111

/* Attributes (RFC 8489 section 18.3). */
#define STUN_A_MAPPED_ADDRESS	0x0001
#define STUN_A_USERNAME		0x0006
#define STUN_A_INTEGRITY	0x0008
#define STUN_A_ERROR_CODE	0x0009
#define STUN_A_UNKNOWN		0x000a
#define STUN_A_REALM		0x0014
#define STUN_A_NONCE		0x0015
#define STUN_A_INTEGRITY256	0x001c
#define STUN_A_PASSWORD_ALG	0x001d
#define STUN_A_USERHASH		0x001e
#define STUN_A_XOR_MAPPED	0x0020
#define STUN_A_FINGERPRINT	0x8028
#define STUN_A_OPTIONAL		0x8000	/* comprehension-optional from here */

#define STUN_FP_XOR		0x5354554eU
#define STUN_FAM_IPV4		0x01
#define STUN_FAM_IPV6		0x02

#define STUN_420_REASON		"Unknown Attribute"

struct stun_stats	 stun_stats;

static const char *const stun_drop_names[STUN_D_MAX] = {
	"malformed", "rate_limited", "unknown_source", "unexpected"
};

const char *
stun_drop_name(int d)
{
	if (d < 0 || d >= STUN_D_MAX)
		return "unknown";
	return stun_drop_names[d];
}

/* --- bytes ------------------------------------------------------------ */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* CRC-32 of ISO HDLC / zlib (reflected polynomial 0xedb88320). */
uint32_t
stun_crc32(const uint8_t *d, size_t len)
{
	static uint32_t	 table[256];
	static int	 ready;
	uint32_t	 c;
	size_t		 i;
	int		 k;

	if (!ready) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = 1;
	}
	c = 0xffffffffU;
	for (i = 0; i < len; i++)
		c = table[(c ^ d[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffU;
}

/* --- parsing ---------------------------------------------------------- */

/*
 * A STUN message and nothing else: the two top bits clear, the magic
 * cookie, a length that is a multiple of 4 and matches the datagram.
 * This is what tells STUN apart from signaling on a shared port.
 */
int
stun_is_message(const uint8_t *d, size_t len)
{
	size_t	 mlen;

	if (d == NULL || len < STUN_HDRLEN || (d[0] & 0xc0) != 0)
		return 0;
	mlen = get16(d + 2);
	return mlen % 4 == 0 && mlen + STUN_HDRLEN == len &&
	    get32(d + 4) == STUN_COOKIE;
}

struct stun_attr {
	uint16_t	 type;
	uint16_t	 len;
	const uint8_t	*val;
	size_t		 off;	/* of the attribute header */
};

/*
 * The next attribute of a message stun_is_message() accepted: 1 and
 * *a filled, 0 past the last one, -1 when an attribute does not fit.
 */
static int
attr_next(const uint8_t *d, size_t len, size_t *off, struct stun_attr *a)
{
	if (*off == len)
		return 0;
	if (len - *off < 4)
		return -1;
	a->off = *off;
	a->type = get16(d + *off);
	a->len = get16(d + *off + 2);
	if (pad4(a->len) > len - *off - 4)
		return -1;
	a->val = d + *off + 4;
	*off += 4 + pad4(a->len);
	return 1;
}

/*
 * Every attribute fits, and a FINGERPRINT is the last one, 4 bytes,
 * and right.  Returns 0 or -1.
 */
static int
msg_check(const uint8_t *d, size_t len)
{
	struct stun_attr	 a;
	size_t			 off = STUN_HDRLEN;
	int			 r;

	while ((r = attr_next(d, len, &off, &a)) == 1) {
		if (a.type != STUN_A_FINGERPRINT)
			continue;
		if (a.len != 4 || off != len ||
		    get32(a.val) != (stun_crc32(d, a.off) ^ STUN_FP_XOR))
			return -1;
	}
	return r;
}

/* The comprehension-required attributes this code knows of. */
static int
attr_known(uint16_t type)
{
	switch (type) {
	case STUN_A_MAPPED_ADDRESS:
	case STUN_A_USERNAME:
	case STUN_A_INTEGRITY:
	case STUN_A_ERROR_CODE:
	case STUN_A_UNKNOWN:
	case STUN_A_REALM:
	case STUN_A_NONCE:
	case STUN_A_INTEGRITY256:
	case STUN_A_PASSWORD_ALG:
	case STUN_A_USERHASH:
	case STUN_A_XOR_MAPPED:
		return 1;
	default:
		return type >= STUN_A_OPTIONAL;
	}
}

/* A (XOR-)MAPPED-ADDRESS value; xor is the header for XOR-. */
static int
addr_decode(const struct stun_attr *a, const uint8_t *xor,
    struct omni_addr *out)
{
	uint8_t		 ip[16];
	uint16_t	 port;
	size_t		 i, n;

	if (a->len < 4)
		return -1;
	switch (a->val[1]) {
	case STUN_FAM_IPV4:
		n = 4;
		break;
	case STUN_FAM_IPV6:
		n = 16;
		break;
	default:
		return -1;
	}
	if (a->len != 4 + n)
		return -1;
	port = get16(a->val + 2);
	memcpy(ip, a->val + 4, n);
	if (xor != NULL) {
		/* port with the cookie's top half, address with cookie+txid */
		port ^= STUN_COOKIE >> 16;
		for (i = 0; i < n; i++)
			ip[i] ^= xor[4 + i];
	}
	if (port == 0)
		return -1;
	memset(out, 0, sizeof(*out));
	if (n == 4) {
		out->sin.sin_family = AF_INET;
		out->sin.sin_port = htons(port);
		memcpy(&out->sin.sin_addr, ip, 4);
	} else {
		out->sin6.sin6_family = AF_INET6;
		out->sin6.sin6_port = htons(port);
		memcpy(&out->sin6.sin6_addr, ip, 16);
	}
	return 0;
}

/*
 * The answer to one of our requests.  Returns 0 with *mapped set
 * (XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS); the error code (300 to
 * 699) of a well-formed error response to this transaction; -1 for
 * anything else: not STUN, not a Binding response, another
 * transaction, a bad FINGERPRINT, no usable address.
 */
int
stun_parse_response(const uint8_t *d, size_t len,
    const uint8_t txid[STUN_TXIDLEN], struct omni_addr *mapped)
{
	struct stun_attr	 a, xa, ma;
	size_t			 off = STUN_HDRLEN;
	uint16_t		 type;
	int			 r, code, hasx = 0, hasm = 0, integrity = 0;

	if (!stun_is_message(d, len) ||
	    memcmp(d + 8, txid, STUN_TXIDLEN) != 0 || msg_check(d, len) == -1)
		return -1;
	type = get16(d);
	if (type != STUN_BINDING_SUCCESS && type != STUN_BINDING_ERROR)
		return -1;
	memset(&xa, 0, sizeof(xa));
	memset(&ma, 0, sizeof(ma));
	code = -1;
	while ((r = attr_next(d, len, &off, &a)) == 1) {
		/* after MESSAGE-INTEGRITY only FINGERPRINT counts (14.5) */
		if (integrity)
			continue;
		switch (a.type) {
		case STUN_A_INTEGRITY:
		case STUN_A_INTEGRITY256:
			integrity = 1;
			break;
		case STUN_A_XOR_MAPPED:
			if (!hasx) {
				xa = a;
				hasx = 1;
			}
			break;
		case STUN_A_MAPPED_ADDRESS:
			if (!hasm) {
				ma = a;
				hasm = 1;
			}
			break;
		case STUN_A_ERROR_CODE:
			/* class 3 to 6 in the low 3 bits, number 0 to 99 */
			if (code == -1 && a.len >= 4 && (a.val[2] & 0x7) >= 3 &&
			    (a.val[2] & 0x7) <= 6 && a.val[3] <= 99)
				code = (a.val[2] & 0x7) * 100 + a.val[3];
			break;
		}
	}
	if (r == -1)
		return -1;
	if (type == STUN_BINDING_ERROR)
		return code;
	if (hasx && addr_decode(&xa, d, mapped) == 0)
		return 0;
	if (hasm && addr_decode(&ma, NULL, mapped) == 0)
		return 0;
	return -1;
}

/* --- building --------------------------------------------------------- */

static size_t
hdr_put(uint8_t *out, uint16_t type, const uint8_t *txid)
{
	put16(out, type);
	put16(out + 2, 0);
	put32(out + 4, STUN_COOKIE);
	memcpy(out + 8, txid, STUN_TXIDLEN);
	return STUN_HDRLEN;
}

/* Close a message of len bytes with FINGERPRINT; the new length. */
static size_t
fingerprint_put(uint8_t *out, size_t len)
{
	put16(out + 2, len + 8 - STUN_HDRLEN);
	put16(out + len, STUN_A_FINGERPRINT);
	put16(out + len + 2, 4);
	put32(out + len + 4, stun_crc32(out, len) ^ STUN_FP_XOR);
	return len + 8;
}

/* A Binding request with FINGERPRINT: STUN_REQLEN bytes, or -1. */
int
stun_build_request(const uint8_t txid[STUN_TXIDLEN], uint8_t *out,
    size_t outlen)
{
	size_t	 n;

	if (outlen < STUN_REQLEN)
		return -1;
	n = hdr_put(out, STUN_BINDING_REQUEST, txid);
	return fingerprint_put(out, n);
}

/* The source's family and address; a v4-mapped IPv6 one counts as v4. */
static int
source_ip(const struct sockaddr *from, uint8_t *ip, uint16_t *port)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	static const uint8_t		 v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (from == NULL)
		return -1;
	if (from->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)from;
		memcpy(ip, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return STUN_FAM_IPV4;
	}
	if (from->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)from;
		*port = ntohs(sin6->sin6_port);
		if (memcmp(&sin6->sin6_addr, v4mapped, 12) == 0) {
			memcpy(ip, (const uint8_t *)&sin6->sin6_addr + 12, 4);
			return STUN_FAM_IPV4;
		}
		memcpy(ip, &sin6->sin6_addr, 16);
		return STUN_FAM_IPV6;
	}
	return -1;
}

static size_t
answer_success(const uint8_t *req, int fam, const uint8_t *ip,
    uint16_t port, uint8_t *out)
{
	size_t	 n, alen, i;

	n = hdr_put(out, STUN_BINDING_SUCCESS, req + 8);
	alen = fam == STUN_FAM_IPV4 ? 4 : 16;
	put16(out + n, STUN_A_XOR_MAPPED);
	put16(out + n + 2, 4 + alen);
	out[n + 4] = 0;
	out[n + 5] = fam;
	put16(out + n + 6, port ^ (STUN_COOKIE >> 16));
	/* the address XORed with the cookie and, for IPv6, the txid */
	for (i = 0; i < alen; i++)
		out[n + 8 + i] = ip[i] ^ out[4 + i];
	n += 8 + alen;
	return fingerprint_put(out, n);
}

static size_t
answer_420(const uint8_t *req, const uint16_t *unknown, size_t nunknown,
    uint8_t *out)
{
	size_t	 n, rlen = sizeof(STUN_420_REASON) - 1, i;

	n = hdr_put(out, STUN_BINDING_ERROR, req + 8);
	put16(out + n, STUN_A_ERROR_CODE);
	put16(out + n + 2, 4 + rlen);
	out[n + 4] = 0;
	out[n + 5] = 0;
	out[n + 6] = 4;			/* class */
	out[n + 7] = 20;		/* number */
	memcpy(out + n + 8, STUN_420_REASON, rlen);
	memset(out + n + 8 + rlen, 0, pad4(rlen) - rlen);
	n += 8 + pad4(rlen);
	put16(out + n, STUN_A_UNKNOWN);
	put16(out + n + 2, 2 * nunknown);
	for (i = 0; i < nunknown; i++)
		put16(out + n + 4 + 2 * i, unknown[i]);
	memset(out + n + 4 + 2 * nunknown, 0,
	    pad4(2 * nunknown) - 2 * nunknown);
	n += 4 + pad4(2 * nunknown);
	return fingerprint_put(out, n);
}

/*
 * The answer to a Binding request from `from`: a success response
 * with XOR-MAPPED-ADDRESS and FINGERPRINT, or a 420 error response
 * naming (up to STUN_MAX_UNKNOWN of) the comprehension-required
 * attributes not understood.  Returns its length, or -1 when req is
 * not a well-formed Binding request (indications and responses get no
 * answer) or out is too small.
 */
int
stun_answer_binding(const uint8_t *req, size_t len,
    const struct sockaddr *from, uint8_t *out, size_t outlen)
{
	struct stun_attr	 a;
	uint16_t		 unknown[STUN_MAX_UNKNOWN], port = 0;
	uint8_t			 ip[16];
	size_t			 off = STUN_HDRLEN, nunknown = 0, i, need;
	int			 r, fam, integrity = 0;

	if (!stun_is_message(req, len) ||
	    get16(req) != STUN_BINDING_REQUEST || msg_check(req, len) == -1)
		return -1;
	if ((fam = source_ip(from, ip, &port)) == -1)
		return -1;
	while ((r = attr_next(req, len, &off, &a)) == 1) {
		if (integrity && a.type != STUN_A_INTEGRITY256)
			continue;
		if (a.type == STUN_A_INTEGRITY ||
		    a.type == STUN_A_INTEGRITY256)
			integrity = 1;
		if (attr_known(a.type))
			continue;
		for (i = 0; i < nunknown; i++)
			if (unknown[i] == a.type)
				break;
		if (i == nunknown && nunknown < STUN_MAX_UNKNOWN)
			unknown[nunknown++] = a.type;
	}
	if (r == -1)
		return -1;
	if (nunknown > 0) {
		need = STUN_HDRLEN + 8 + pad4(sizeof(STUN_420_REASON) - 1) +
		    4 + pad4(2 * nunknown) + 8;
		if (outlen < need)
			return -1;
		return answer_420(req, unknown, nunknown, out);
	}
	need = STUN_HDRLEN + 8 + (fam == STUN_FAM_IPV4 ? 4 : 16) + 8;
	if (outlen < need)
		return -1;
	return answer_success(req, fam, ip, port, out);
}

/*
 * The nucleus side: the answer to a STUN message that came in on the
 * signaling port (already rate-limited by the caller), counted.
 * Returns the answer's length, or -1 for no answer.
 */
int
stun_nucleus_answer(const uint8_t *d, size_t len, const struct omni_addr *from,
    uint8_t *out, size_t outlen)
{
	char	 abuf[OMNI_ADDRSTRLEN];
	int	 n;

	if ((n = stun_answer_binding(d, len, &from->sa, out, outlen)) == -1) {
		stun_stats.dropped[STUN_D_MALFORMED]++;
		log_debug("STUN message from %s dropped: not a Binding "
		    "request", omni_addr_str(from, abuf, sizeof(abuf)));
		return -1;
	}
	if (get16(out) == STUN_BINDING_SUCCESS)
		stun_stats.answered++;
	else
		stun_stats.errors++;
	return n;
}

/* --- client ----------------------------------------------------------- */

struct stun_server {
	struct omni_addr	 ss_addr;
	uint64_t		 ss_next;	/* ms: next transaction */
	uint64_t		 ss_start;	/* ms: current one began */
	uint64_t		 ss_retx;	/* ms: next retransmission */
	int			 ss_tries;	/* requests of this one */
	int			 ss_pending;
	int			 ss_silent;	/* the latest one timed out */
	uint8_t			 ss_txid[STUN_TXIDLEN];
	int			 ss_has_mapped;
	struct omni_addr	 ss_mapped;
	time_t			 ss_when;	/* unix time of the answer */
};

struct stun_iface {
	uint32_t		 si_ifid;
	char			 si_name[OMNI_IFNAMSIZ];
	uint64_t		 si_interval;	/* ms */
	int			 si_nservers;
	struct stun_server	 si_servers[OMNI_MAX_STUN];
};

static struct stun_client_io	 stun_io;
static struct stun_iface	 stun_ifaces[OMNI_MAX_IFACES];
static size_t			 stun_nifaces;

void
stun_client_init(const struct stun_client_io *io)
{
	stun_io = *io;
}

static int
addr_eq(const struct omni_addr *a, const struct omni_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_port == b->sin.sin_port &&
		    a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->sin6.sin6_port == b->sin6.sin6_port &&
		    memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, 16) == 0;
	return 0;
}

/* The STUN part of an interface from the parent, checked all the same. */
int
stun_iface_valid(const struct sig_iface *c)
{
	int	 i;

	if (c->nstun < 0 || c->nstun > OMNI_MAX_STUN ||
	    (c->stun_interval != 0 && (c->stun_interval < 5 ||
	    c->stun_interval > 3600)))
		return 0;
	for (i = 0; i < c->nstun; i++)
		if ((c->stun[i].sa.sa_family != AF_INET &&
		    c->stun[i].sa.sa_family != AF_INET6) ||
		    omni_addr_port(&c->stun[i]) == 0)
			return 0;
	return 1;
}

static struct stun_iface *
stun_iface_find(uint32_t ifid)
{
	size_t	 i;

	for (i = 0; i < stun_nifaces; i++)
		if (stun_ifaces[i].si_ifid == ifid)
			return &stun_ifaces[i];
	return NULL;
}

/*
 * A new set of interfaces (validated).  Servers still listed keep
 * their state, so a reload neither forgets an address nor asks again
 * at once; new ones are asked on the next tick.
 */
void
stun_client_reconf(const struct sig_iface *ifs, size_t n, uint64_t now)
{
	static struct stun_iface	 next[OMNI_MAX_IFACES];
	struct stun_iface		*ni, *oi;
	struct stun_server		*s;
	size_t				 k, nn = 0;
	int				 i, j;

	memset(next, 0, sizeof(next));
	for (k = 0; k < n && nn < OMNI_MAX_IFACES; k++) {
		if (!stun_iface_valid(&ifs[k]) || ifs[k].nstun == 0)
			continue;
		ni = &next[nn++];
		ni->si_ifid = ifs[k].ifid;
		strlcpy(ni->si_name, ifs[k].name, sizeof(ni->si_name));
		ni->si_interval = (uint64_t)(ifs[k].stun_interval ?
		    ifs[k].stun_interval : OMNI_STUN_INTERVAL) * 1000;
		ni->si_nservers = ifs[k].nstun;
		oi = stun_iface_find(ifs[k].ifid);
		for (i = 0; i < ifs[k].nstun; i++) {
			s = &ni->si_servers[i];
			for (j = 0; oi != NULL && j < oi->si_nservers; j++)
				if (addr_eq(&oi->si_servers[j].ss_addr,
				    &ifs[k].stun[i]))
					break;
			if (oi != NULL && j < oi->si_nservers) {
				*s = oi->si_servers[j];
				if (s->ss_next > now + ni->si_interval)
					s->ss_next = now + ni->si_interval;
				continue;
			}
			s->ss_addr = ifs[k].stun[i];
			s->ss_next = now;
		}
	}
	memcpy(stun_ifaces, next, sizeof(stun_ifaces));
	stun_nifaces = nn;
}

static void
stun_send(struct stun_iface *si, struct stun_server *s)
{
	uint8_t	 buf[STUN_REQLEN];
	char	 abuf[OMNI_ADDRSTRLEN];
	int	 len;

	/* every attempt counts, so a missing socket cannot make a storm */
	s->ss_tries++;
	s->ss_retx = s->ss_start +
	    (uint64_t)STUN_RTO_MS * ((1u << s->ss_tries) - 1);
	if ((len = stun_build_request(s->ss_txid, buf, sizeof(buf))) == -1)
		return;
	if (stun_io.send(si->si_ifid, &s->ss_addr, buf, len) == -1) {
		log_debug("%s: STUN request to %s not sent", si->si_name,
		    omni_addr_str(&s->ss_addr, abuf, sizeof(abuf)));
		return;
	}
	stun_stats.client_sent++;
	log_debug("%s: STUN request %d to %s", si->si_name, s->ss_tries,
	    omni_addr_str(&s->ss_addr, abuf, sizeof(abuf)));
}

static void
stun_timeout(struct stun_iface *si, struct stun_server *s)
{
	char	 abuf[OMNI_ADDRSTRLEN];

	s->ss_pending = 0;
	stun_stats.client_timeouts++;
	if (!s->ss_silent)
		log_info("%s: no answer from STUN server %s", si->si_name,
		    omni_addr_str(&s->ss_addr, abuf, sizeof(abuf)));
	s->ss_silent = 1;
}

void
stun_client_tick(uint64_t now, time_t wall)
{
	struct stun_iface	*si;
	struct stun_server	*s;
	size_t			 k;
	int			 i;

	(void)wall;
	for (k = 0; k < stun_nifaces; k++) {
		si = &stun_ifaces[k];
		for (i = 0; i < si->si_nservers; i++) {
			s = &si->si_servers[i];
			if (now >= s->ss_next) {
				/* a new transaction replaces a pending one */
				if (s->ss_pending)
					stun_timeout(si, s);
				randombytes_buf(s->ss_txid, sizeof(s->ss_txid));
				s->ss_pending = 1;
				s->ss_tries = 0;
				s->ss_start = s->ss_retx = now;
				s->ss_next = now + si->si_interval;
			}
			if (!s->ss_pending)
				continue;
			if (now >= s->ss_start + STUN_GIVEUP_MS)
				stun_timeout(si, s);
			else if (now >= s->ss_retx && s->ss_tries < STUN_TRIES)
				stun_send(si, s);
		}
	}
}

/* A STUN message on the signaling socket of interface ifid. */
void
stun_client_input(uint32_t ifid, const uint8_t *d, size_t len,
    const struct omni_addr *from, uint64_t now, time_t wall)
{
	struct stun_iface	*si;
	struct stun_server	*s = NULL;
	struct sig_reflexive	 ref;
	struct omni_addr	 mapped;
	char			 abuf[OMNI_ADDRSTRLEN], mbuf[OMNI_ADDRSTRLEN];
	int			 i, r, changed;

	(void)now;
	if ((si = stun_iface_find(ifid)) != NULL)
		for (i = 0; i < si->si_nservers; i++)
			if (addr_eq(&si->si_servers[i].ss_addr, from)) {
				s = &si->si_servers[i];
				break;
			}
	if (s == NULL) {
		stun_stats.dropped[STUN_D_UNKNOWN_SOURCE]++;
		log_debug("STUN message from %s dropped: not a STUN server "
		    "of the interface", omni_addr_str(from, abuf,
		    sizeof(abuf)));
		return;
	}
	omni_addr_str(from, abuf, sizeof(abuf));
	if (!s->ss_pending ||
	    (r = stun_parse_response(d, len, s->ss_txid, &mapped)) == -1) {
		stun_stats.dropped[STUN_D_UNEXPECTED]++;
		log_debug("%s: STUN message from %s dropped: no such "
		    "transaction, or malformed", si->si_name, abuf);
		return;
	}
	s->ss_pending = 0;
	s->ss_silent = 0;
	if (r > 0) {
		stun_stats.client_errors++;
		log_info("%s: STUN server %s answered with error %d",
		    si->si_name, abuf, r);
		return;
	}
	stun_stats.client_answers++;
	changed = !s->ss_has_mapped || !addr_eq(&s->ss_mapped, &mapped);
	s->ss_has_mapped = 1;
	s->ss_mapped = mapped;
	s->ss_when = wall;
	omni_addr_str(&mapped, mbuf, sizeof(mbuf));
	if (changed)
		log_info("%s: STUN server %s sees us at %s", si->si_name,
		    abuf, mbuf);
	else
		log_debug("%s: STUN server %s still sees us at %s",
		    si->si_name, abuf, mbuf);
	memset(&ref, 0, sizeof(ref));
	ref.ifid = si->si_ifid;
	ref.server = s->ss_addr;
	ref.mapped = mapped;
	ref.time = wall;
	if (stun_io.learned != NULL)
		stun_io.learned(&ref);
}

void
stun_metrics(void (*emit)(const char *, double, const char *))
{
	struct stun_iface	*si;
	struct stun_server	*s;
	char			 labels[160], abuf[OMNI_ADDRSTRLEN];
	char			 mbuf[OMNI_ADDRSTRLEN];
	size_t			 k;
	int			 i;

	emit("omni_stun_requests_total", stun_stats.answered,
	    "answer=\"success\"");
	emit("omni_stun_requests_total", stun_stats.errors,
	    "answer=\"error\"");
	for (i = 0; i < STUN_D_MAX; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"",
		    stun_drop_name(i));
		emit("omni_stun_dropped_total", stun_stats.dropped[i],
		    labels);
	}
	emit("omni_stun_client_sent_total", stun_stats.client_sent, NULL);
	emit("omni_stun_client_transactions_total",
	    stun_stats.client_answers, "result=\"success\"");
	emit("omni_stun_client_transactions_total",
	    stun_stats.client_errors, "result=\"error\"");
	emit("omni_stun_client_transactions_total",
	    stun_stats.client_timeouts, "result=\"timeout\"");
	for (k = 0; k < stun_nifaces; k++) {
		si = &stun_ifaces[k];
		for (i = 0; i < si->si_nservers; i++) {
			s = &si->si_servers[i];
			if (!s->ss_has_mapped)
				continue;
			snprintf(labels, sizeof(labels), "iface=\"%s\","
			    "server=\"%s\",address=\"%s\"", si->si_name,
			    omni_addr_str(&s->ss_addr, abuf, sizeof(abuf)),
			    omni_addr_str(&s->ss_mapped, mbuf, sizeof(mbuf)));
			emit("omni_stun_reflexive_seen", (double)s->ss_when,
			    labels);
		}
	}
}
