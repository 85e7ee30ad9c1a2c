/*
 * forge: a hostile client for hostile.t and flood.t.  It knows the
 * cluster secret (when given one) but none of the other members'
 * private keys.
 *
 *   forge capture -i ifname -p port|-P port -n count -t secs -o file
 *	record UDP payloads sent to port (-P: from port) on ifname
 *	(AF_PACKET); print where each went
 *   forge replay -f file -a nucleus [-S]
 *	send them again, from our own address, or with -S from the
 *	recorded source address (raw socket, IPv4)
 *   forge takeover -s secret -c cluster -a nucleus -v vip/plen
 *	register a new key that claims vip
 *   forge impersonate -s secret -c cluster -a nucleus -k pubkey -v vip
 *	speak for pubkey (REGISTER, HEARTBEAT, DEREGISTER, QUERY_PEER)
 *	without its private key
 *   forge junk -a nucleus -n count [-s secret -c cluster]
 *	random, truncated, oversized, mistyped and deeply nested input
 *   forge flood -m nucleus|edge|wg -a target -n count -r rate
 *	    [-s secret -c cluster] [-f capture] [-k pubkey] [-b first -N n]
 *	    [-A spoofed-source] [-w pid:port] [-t secs]
 *	count hostile datagrams at rate per second, a mix of every kind
 *	(enum fkind), and how many of each were sent.  nucleus:
 *	from n consecutive local addresses from first (each under the
 *	per-source rate limit), replays also from the recorded sources,
 *	at most 4 a second.  edge: at a signaling socket, from the
 *	spoofed address of its nucleus.  wg: at a WireGuard port.
 *	-w: the target's socket, in the target's namespace (through
 *	/proc/pid/net/udp): sending pauses while its receive queue holds
 *	more than 64 KiB, so that the kernel never drops for a full
 *	buffer.  Answers (nucleus) must be CHALLENGEs no longer than the
 *	datagram they answer.
 *
 * Each prints what happened; the exit status is 0 when the nucleus
 * behaved (refused what it had to refuse; flood: every datagram sent,
 * no answer but short CHALLENGEs), 1 otherwise.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "proto.h"

static const char	*secret, *cluster = "lab", *file, *ifname;
static struct omni_addr	 nuc;
static uint8_t		 namekey[32], nkey[32], pub[32], priv[32];
static uint8_t		 proof[32], cookie[16];
static struct sig_ckeys	 ck;
static struct omni_prefix vip;
static uint64_t		 tlast;
static int		 sock = -1;

static __attribute__((noreturn)) void usage(void);

static void
clock_fill(struct sig_clock *c)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->wall = ts.tv_sec;
	c->wall_us = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
keys_setup(void)
{
	uint8_t	 root[32], sig[32];

	if (secret == NULL)
		errx(2, "-s secret needed");
	keys_derive_root(secret, strlen(secret), root);
	keys_derive_root_subkey(root, KEY_ROOT_NAME, namekey);
	keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, cluster, sig);
	proto_cluster_keys(sig, &ck);
}

static void
sock_open(void)
{
	struct timeval	 tv = { 0, 500000 };

	if ((sock = socket(nuc.sa.sa_family, SOCK_DGRAM, 0)) == -1)
		err(1, "socket");
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void
tx(const uint8_t *d, size_t len)
{
	if (sendto(sock, d, len, 0, &nuc.sa, omni_addr_len(&nuc)) == -1)
		warn("sendto");
}

/* One answer, opened; -1 when none came within 0.5 s. */
static int
rx(struct sig_rx *r, size_t *len)
{
	static uint8_t	 buf[2048];
	ssize_t		 n;

	if ((n = recv(sock, buf, sizeof(buf), 0)) == -1)
		return -1;
	*len = n;
	return proto_open_down(r, buf, n, ck.down);
}

/* Send one message; auth with our proof (or none); cookie if we have. */
static size_t
send_msg(int type, int auth, int withcookie, const uint8_t *claim)
{
	struct sig_msg		 m;
	struct sig_clock	 c;
	uint8_t			 buf[SIG_MAXDGRAM];
	size_t			 len;

	clock_fill(&c);
	proto_init_msg(&m, type, proto_next_time(&tlast, &c));
	memcpy(m.pubkey, claim, 32);
	m.vip = vip;
	m.port = 51820;
	if (withcookie) {
		memcpy(m.cookie, cookie, 16);
		m.fields |= SIG_F(SIG_K_COOKIE);
	}
	if (type == SIG_HEARTBEAT || (type == SIG_REGISTER && auth)) {
		m.fields |= SIG_F_SYNC;
		m.flags = SIG_FL_FULL;
	}
	if (proto_seal(&m, SIG_KIND_UP, cluster, namekey, ck.up,
	    auth ? proof : NULL, buf, sizeof(buf), &len) != SIG_OK)
		errx(1, "seal");
	tx(buf, len);
	return len;
}

/* Bare REGISTER claiming key: the CHALLENGE gives cookie and nkey. */
static int
hello(const uint8_t *claim)
{
	static struct sig_rx	 r;
	size_t			 len, sent;

	sent = send_msg(SIG_REGISTER, 0, 0, claim);
	if (rx(&r, &len) != SIG_OK || r.m.type != SIG_CHALLENGE) {
		printf("no CHALLENGE for a bare REGISTER\n");
		return -1;
	}
	printf("CHALLENGE of %zu bytes for a REGISTER of %zu\n", len, sent);
	if (len > sent) {
		printf("FAIL: the answer is longer than the request\n");
		return -1;
	}
	memcpy(nkey, r.m.nkey, 32);
	memcpy(cookie, r.m.cookie, 16);
	/* our proof: right for our own key, wrong for anyone else's */
	if (keys_dh(priv, pub, nkey, proof) == -1)
		errx(1, "nucleus key of low order");
	return 0;
}

static int
cmd_takeover(void)
{
	static struct sig_rx	 r;
	size_t			 len;

	crypto_box_keypair(pub, priv);
	if (hello(pub) == -1)
		return 1;
	send_msg(SIG_REGISTER, 1, 1, pub);
	if (rx(&r, &len) != SIG_OK) {
		printf("no answer\n");
		return 1;
	}
	if (r.m.type == SIG_NAK && r.m.status == SIG_NAK_VIP_TAKEN &&
	    proto_auth_ok(&r, proof)) {
		printf("refused: NAK 2, the VIP is held by another key\n");
		return 0;
	}
	printf("FAIL: answered %s\n", proto_type_name(r.m.type));
	return 1;
}

static int
cmd_impersonate(const uint8_t *victim)
{
	static struct sig_rx	 r;
	static const int	 types[] = { SIG_REGISTER, SIG_HEARTBEAT,
				    SIG_QUERY_PEER, SIG_DEREGISTER };
	size_t			 len;
	int			 i, bad = 0;

	crypto_box_keypair(pub, priv);
	if (hello(victim) == -1)
		return 1;
	for (i = 0; i < 4; i++) {
		send_msg(types[i], 1, 1, victim);
		if (rx(&r, &len) == SIG_OK) {
			printf("FAIL: %s as the victim answered with %s\n",
			    proto_type_name(types[i]),
			    proto_type_name(r.m.type));
			bad = 1;
		} else
			printf("%s as the victim: no answer\n",
			    proto_type_name(types[i]));
	}
	return bad;
}

/* --- capture and replay --------------------------------------------- */

struct rec {
	uint8_t		 af;
	uint8_t		 src[16];
	uint16_t	 sport;
	uint16_t	 len;
};

static int
cmd_capture(int port, int bysrc, int count, int secs)
{
	struct sockaddr_ll	 sll;
	struct rec		 rc;
	uint8_t			 buf[2048];
	const uint8_t		*udp;
	struct pollfd		 pfd;
	FILE			*f;
	time_t			 end = time(NULL) + secs;
	ssize_t			 n;
	size_t			 hl;
	int			 s, got = 0;

	if ((s = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL))) == -1)
		err(1, "AF_PACKET");
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	if ((sll.sll_ifindex = if_nametoindex(ifname)) == 0)
		err(1, "%s", ifname);
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		err(1, "bind");
	if ((f = fopen(file, "w")) == NULL)
		err(1, "%s", file);
	pfd.fd = s;
	pfd.events = POLLIN;
	while (got < count && time(NULL) < end) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((n = recv(s, buf, sizeof(buf), 0)) <= 0)
			continue;
		memset(&rc, 0, sizeof(rc));
		if ((buf[0] >> 4) == 4 && n >= 20 && buf[9] == IPPROTO_UDP) {
			hl = (buf[0] & 15) * 4;
			rc.af = AF_INET;
			memcpy(rc.src, buf + 12, 4);
		} else if ((buf[0] >> 4) == 6 && n >= 40 &&
		    buf[6] == IPPROTO_UDP) {
			hl = 40;
			rc.af = AF_INET6;
			memcpy(rc.src, buf + 8, 16);
		} else
			continue;
		if ((size_t)n < hl + 8)
			continue;
		udp = buf + hl;
		if (((bysrc ? (udp[0] << 8) | udp[1] :
		    (udp[2] << 8) | udp[3])) != port)
			continue;
		rc.sport = (udp[0] << 8) | udp[1];
		rc.len = n - hl - 8;
		fwrite(&rc, sizeof(rc), 1, f);
		fwrite(udp + 8, 1, rc.len, f);
		got++;
		if (rc.af == AF_INET)
			printf("from %s:%u to %s:%u, %u bytes\n",
			    inet_ntop(AF_INET, rc.src, (char[16]){ 0 }, 16),
			    rc.sport, inet_ntop(AF_INET, buf + 16,
			    (char[16]){ 0 }, 16), (udp[2] << 8) | udp[3],
			    rc.len);
	}
	fclose(f);
	printf("captured %d datagrams %s port %d\n", got,
	    bysrc ? "from" : "to", port);
	return got > 0 ? 0 : 1;
}

static uint16_t
csum(const void *p, size_t len, uint32_t sum)
{
	const uint8_t	*b = p;
	size_t		 i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* An IPv4 datagram with a source address that is not ours. */
static int
spoof4(int raw, const struct rec *rc, const uint8_t *d)
{
	uint8_t			 pkt[2048];
	struct sockaddr_in	 to = nuc.sin;
	size_t			 n = 20 + 8 + rc->len;
	uint8_t			 ph[12];
	uint16_t		 c;

	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	pkt[2] = n >> 8;
	pkt[3] = n & 0xff;
	pkt[8] = 64;
	pkt[9] = IPPROTO_UDP;
	memcpy(pkt + 12, rc->src, 4);
	memcpy(pkt + 16, &nuc.sin.sin_addr, 4);
	pkt[20] = rc->sport >> 8;
	pkt[21] = rc->sport & 0xff;
	memcpy(pkt + 22, &nuc.sin.sin_port, 2);
	pkt[24] = (8 + rc->len) >> 8;
	pkt[25] = (8 + rc->len) & 0xff;
	memcpy(pkt + 28, d, rc->len);
	memcpy(ph, pkt + 12, 8);
	ph[8] = 0;
	ph[9] = IPPROTO_UDP;
	ph[10] = pkt[24];
	ph[11] = pkt[25];
	c = ~csum(pkt + 20, 8 + rc->len, csum(ph, 12, 0));
	pkt[26] = c >> 8;
	pkt[27] = c & 0xff;
	c = ~csum(pkt, 20, 0);
	pkt[10] = c >> 8;
	pkt[11] = c & 0xff;
	if (sendto(raw, pkt, n, 0, (struct sockaddr *)&to, sizeof(to)) == -1) {
		warn("raw sendto");
		return -1;
	}
	return 0;
}

static int
cmd_replay(int spoof)
{
	static struct sig_rx	 r;
	struct rec		 rc;
	uint8_t			 d[2048];
	size_t			 len;
	FILE			*f;
	int			 raw = -1, n = 0, answers = 0, one = 1;

	if ((f = fopen(file, "r")) == NULL)
		err(1, "%s", file);
	if (spoof) {
		if ((raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW)) == -1)
			err(1, "raw socket");
		setsockopt(raw, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	}
	sock_open();
	while (fread(&rc, sizeof(rc), 1, f) == 1 && rc.len <= sizeof(d) &&
	    fread(d, 1, rc.len, f) == rc.len) {
		if (spoof && rc.af == AF_INET)
			spoof4(raw, &rc, d);
		else
			tx(d, rc.len);
		n++;
		/* answers come to us only when we are the source */
		if (!spoof && secret != NULL && rx(&r, &len) == SIG_OK) {
			answers++;
			if (r.m.type != SIG_CHALLENGE || len > rc.len) {
				printf("FAIL: a replay got %s (%zu bytes)\n",
				    proto_type_name(r.m.type), len);
				return 1;
			}
		}
	}
	fclose(f);
	printf("replayed %d datagrams%s, %d answers (CHALLENGE only)\n", n,
	    spoof ? " from the recorded sources" : "", answers);
	return n > 0 ? 0 : 1;
}

/* --- junk ------------------------------------------------------------- */

static size_t
junk_one(int i, uint8_t *d)
{
	struct sig_msg	 m;
	uint8_t		 body[1400];
	size_t		 len, blen, k;

	switch (i % 8) {
	case 0:				/* random bytes */
		len = 1 + randombytes_uniform(1300);
		randombytes_buf(d, len);
		return len;
	case 1:				/* a v2 header, random rest */
		len = 20 + randombytes_uniform(400);
		randombytes_buf(d, len);
		d[0] = 2;
		d[1] = 1;
		d[26] = 21;
		return len;
	case 2:				/* oversized */
		randombytes_buf(d, 1400);
		d[0] = 2;
		d[1] = 1;
		return 1201 + randombytes_uniform(199);
	case 3:				/* version 1 */
		len = 40 + randombytes_uniform(200);
		randombytes_buf(d, len);
		d[0] = 1;
		return len;
	default:
		break;
	}
	if (secret == NULL) {
		len = 2 + randombytes_uniform(100);
		randombytes_buf(d, len);
		return len;
	}
	/* sealed with the right keys, but the body is bad */
	switch (i % 8) {
	case 4:				/* deeply nested */
		blen = 0;
		body[blen++] = 0xa1;
		body[blen++] = 0x18;
		body[blen++] = 40;
		for (k = 0; k < 300; k++)
			body[blen++] = 0x81;
		body[blen++] = 0;
		break;
	case 5:				/* mistyped: a text type */
		blen = 0;
		body[blen++] = 0xa1;
		body[blen++] = 0x00;
		body[blen++] = 0x61;
		body[blen++] = 'x';
		break;
	case 6:				/* truncated valid body */
		proto_init_msg(&m, SIG_HEARTBEAT, 1);
		m.fields = SIG_F_SYNC | SIG_F(SIG_K_AUTH);
		proto_body_encode(&m, body, sizeof(body), &blen);
		blen = randombytes_uniform(blen);
		break;
	default:			/* unknown type 77 */
		blen = 0;
		body[blen++] = 0xa1;
		body[blen++] = 0x00;
		body[blen++] = 0x18;
		body[blen++] = 77;
		break;
	}
	/* seal the raw body by hand: header, name box, body */
	d[0] = SIG_VERSION;
	d[1] = SIG_KIND_UP;
	randombytes_buf(d + 2, SIG_NONCELEN);
	k = strlen(cluster);
	d[SIG_HDRLEN] = k + 16;
	crypto_aead_xchacha20poly1305_ietf_encrypt(d + SIG_HDRLEN + 1, NULL,
	    (const uint8_t *)cluster, k, d, SIG_HDRLEN, NULL, d + 2, namekey);
	len = SIG_HDRLEN + 1 + k + 16;
	crypto_aead_xchacha20poly1305_ietf_encrypt(d + len, NULL, body, blen,
	    d, len, NULL, d + 2, ck.up);
	return len + blen + 16;
}

static int
cmd_junk(int count)
{
	uint8_t		 d[1500], buf[2048];
	int		 i, answers = 0;

	if (secret != NULL)
		keys_setup();
	sock_open();
	for (i = 0; i < count; i++) {
		tx(d, junk_one(i, d));
		while (recv(sock, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			answers++;
		if (i % 20 == 19)
			usleep(50000);	/* stay under the rate limit */
	}
	usleep(500000);
	while (recv(sock, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		answers++;
	printf("sent %d bad datagrams, %d answers\n", count, answers);
	return answers == 0 ? 0 : 1;
}

/* --- flood ------------------------------------------------------------- */

enum fkind {
	FK_GARBAGE,	/* random bytes, never STUN-shaped */
	FK_HEADER,	/* a v2 header of the right kind, random rest */
	FK_TRUNC,	/* a valid sealed datagram, cut short */
	FK_NESTED,	/* validly sealed, a body nested 300 deep */
	FK_MISTYPED,	/* validly sealed: unknown type, the other kind's */
	FK_STALE,	/* validly sealed and well-formed, an hour old */
	FK_FORGED,	/* validly sealed, in the victim's name or a random re */
	FK_WRONGSECRET,	/* well-formed, sealed under another secret */
	FK_OTHERCLUSTER, /* nucleus: a cluster name its body key does not fit */
	FK_REPLAY,	/* captured (edge: from the nucleus's address) */
	FK_SPOOFREPLAY,	/* nucleus: captured, from the recorded source */
	FK_OVERSIZED,	/* more than 1200 bytes */
	FK_STUN,	/* STUN, not a Binding request (edge: from no server) */
	FK_STRANGER,	/* edge: well-formed, from a host that is no nucleus */
	FK_WG,		/* wg: WireGuard message types, random content */
	FK_MAX
};
static const char *fk_name[FK_MAX] = {
	"garbage", "header", "truncated", "nested", "mistyped", "stale",
	"forged", "wrong_secret", "other_cluster", "replay", "spoofed_replay",
	"oversized", "stun", "stranger", "wireguard"
};
static const int fk_nucleus[] = { FK_GARBAGE, FK_HEADER, FK_TRUNC,
    FK_NESTED, FK_MISTYPED, FK_STALE, FK_FORGED, FK_WRONGSECRET,
    FK_OTHERCLUSTER, FK_REPLAY, FK_OVERSIZED, FK_STUN, -1 };
static const int fk_edge[] = { FK_GARBAGE, FK_HEADER, FK_TRUNC, FK_NESTED,
    FK_MISTYPED, FK_STALE, FK_FORGED, FK_WRONGSECRET, FK_REPLAY,
    FK_OVERSIZED, FK_STUN, FK_STRANGER, -1 };
static const int fk_wg[] = { FK_GARBAGE, FK_WG, FK_OVERSIZED, -1 };

#define FL_MAXREC	256
#define FL_TABBITS	18

static struct {
	int		 mode;		/* 'n'ucleus, 'e'dge, 'w'g */
	uint8_t		 badname[32];	/* keys of another secret */
	struct sig_ckeys bad;
	uint8_t		 victim[32];
	struct omni_addr spoof;		/* edge: the nucleus's address */
	struct rec	 rec[FL_MAXREC];
	uint8_t		*recd[FL_MAXREC];
	uint64_t	 rectime[FL_MAXREC];
	int		 nrec;
	int		 raw;
	int		 socks[256];
	int		 nsocks;
	/* time -> length of requests that may get a CHALLENGE */
	uint64_t	 tkey[1 << FL_TABBITS];
	uint16_t	 tlen[1 << FL_TABBITS];
	/* the target's socket, for flow control */
	char		 qpath[2][64];
	int		 qport;
	unsigned long	 qmax;
} fl;

static uint64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t
wall_us(void)
{
	struct sig_clock	 c;

	clock_fill(&c);
	return c.wall_us;
}

static void
tab_put(uint64_t t, size_t len)
{
	uint32_t	 h = (t * 0x9e3779b97f4a7c15ULL) >> (64 - FL_TABBITS);

	while (fl.tkey[h] != 0 && fl.tkey[h] != t)
		h = (h + 1) & ((1 << FL_TABBITS) - 1);
	if (fl.tkey[h] == 0 || len < fl.tlen[h])
		fl.tlen[h] = len;
	fl.tkey[h] = t;
}

static int
tab_get(uint64_t t)
{
	uint32_t	 h = (t * 0x9e3779b97f4a7c15ULL) >> (64 - FL_TABBITS);

	while (fl.tkey[h] != 0) {
		if (fl.tkey[h] == t)
			return fl.tlen[h];
		h = (h + 1) & ((1 << FL_TABBITS) - 1);
	}
	return -1;
}

/* A raw body sealed up (with a name box) or down, as a sender would. */
static size_t
seal_body(uint8_t *d, int kind, const char *cl, const uint8_t *nk,
    const uint8_t *bk, const uint8_t *body, size_t blen)
{
	size_t	 len = SIG_HDRLEN, k;

	d[0] = SIG_VERSION;
	d[1] = kind;
	randombytes_buf(d + 2, SIG_NONCELEN);
	if (kind == SIG_KIND_UP) {
		k = strlen(cl);
		d[SIG_HDRLEN] = k + 16;
		crypto_aead_xchacha20poly1305_ietf_encrypt(d + SIG_HDRLEN + 1,
		    NULL, (const uint8_t *)cl, k, d, SIG_HDRLEN, NULL, d + 2,
		    nk);
		len = SIG_HDRLEN + 1 + k + 16;
	}
	crypto_aead_xchacha20poly1305_ietf_encrypt(d + len, NULL, body, blen,
	    d, len, NULL, d + 2, bk);
	return len + blen + 16;
}

/*
 * A well-formed message of the mode's direction: up (to a nucleus) in
 * the victim's name with a random cookie and a proof we cannot have,
 * or down (to an edge) answering a request that was never sent.
 * time 0: now.
 */
static size_t
well_formed(uint8_t *d, int type, uint64_t t, const uint8_t *nk,
    const struct sig_ckeys *keys)
{
	struct sig_msg	 m;
	uint8_t		 fake[32];
	size_t		 len;
	uint64_t	 re;

	proto_init_msg(&m, type, t != 0 ? t : proto_next_time(&tlast,
	    &(struct sig_clock){ 0, time(NULL), wall_us() }));
	randombytes_buf(fake, sizeof(fake));
	if (fl.mode == 'n') {
		memcpy(m.pubkey, fl.victim, 32);
		m.vip = vip;
		m.port = 51820;
		randombytes_buf(m.cookie, sizeof(m.cookie));
		if (type != SIG_DEREGISTER)
			m.fields |= SIG_F(SIG_K_COOKIE);
		if (type == SIG_HEARTBEAT || type == SIG_REGISTER) {
			m.fields |= SIG_F_SYNC;
			m.flags = SIG_FL_FULL;
		}
		if (proto_seal(&m, SIG_KIND_UP, cluster, nk, keys->up, fake,
		    d, SIG_MAXDGRAM, &len) != SIG_OK)
			errx(1, "seal %s", proto_type_name(type));
		return len;
	}
	randombytes_buf(&re, sizeof(re));
	m.re = re | 1;
	randombytes_buf(m.cookie, sizeof(m.cookie));
	randombytes_buf(m.nkey, sizeof(m.nkey));
	randombytes_buf(&m.epoch, sizeof(m.epoch));
	m.from = 0;
	m.to = 1;
	m.flags = SIG_FL_FULL | SIG_FL_LAST;
	m.status = SIG_NAK_UNKNOWN_EDGE;
	m.vip = vip;
	if (proto_seal(&m, SIG_KIND_DOWN, NULL, NULL, keys->down,
	    type == SIG_CHALLENGE ? NULL : fake, d, SIG_MAXDGRAM, &len) !=
	    SIG_OK)
		errx(1, "seal %s", proto_type_name(type));
	return len;
}

/* One datagram of a kind; *answerable: a CHALLENGE may come back. */
static size_t
flood_one(int kind, uint64_t i, uint8_t *d, int *answerable)
{
	static const int	 up[] = { SIG_HEARTBEAT, SIG_QUERY_PEER,
				    SIG_REGISTER, SIG_DEREGISTER };
	static const int	 down[] = { SIG_HEARTBEAT_ACK, SIG_CHALLENGE,
				    SIG_NAK, SIG_REGISTER_ACK };
	uint8_t			 body[400];
	char			 other[SIG_CLUSTERMAX + 1];
	size_t			 len, blen = 0, k;
	int			 dir = fl.mode == 'n' ? SIG_KIND_UP :
				    SIG_KIND_DOWN, t;

	*answerable = 0;
	switch (kind) {
	case FK_GARBAGE:
		len = 1 + randombytes_uniform(1200);
		randombytes_buf(d, len);
		d[0] |= 0x80;		/* never STUN, never version 2 */
		return len;
	case FK_HEADER:
		len = 20 + randombytes_uniform(400);
		randombytes_buf(d, len);
		d[0] = SIG_VERSION;
		d[1] = fl.mode == 'w' ? 1 : dir;
		d[26] = 17 + randombytes_uniform(63);
		return len;
	case FK_TRUNC:
		len = well_formed(d, dir == SIG_KIND_UP ? up[i % 4] :
		    down[i % 4], 0, namekey, &ck);
		return 1 + randombytes_uniform(len - 1);
	case FK_NESTED:
		body[blen++] = 0xa2;
		body[blen++] = 0x00;
		body[blen++] = dir == SIG_KIND_UP ? SIG_HEARTBEAT :
		    SIG_HEARTBEAT_ACK;
		body[blen++] = 0x18;
		body[blen++] = 40 + i % 200;	/* an unknown key, skipped */
		for (k = 0; k < 300; k++)
			body[blen++] = (i & 1) ? 0x81 : 0xa1;
		body[blen++] = 0;
		if ((i & 1) == 0)	/* a map's value */
			body[blen++] = 0;
		return seal_body(d, dir, cluster, namekey, dir == SIG_KIND_UP ?
		    ck.up : ck.down, body, blen);
	case FK_MISTYPED:
		switch (i % 4) {
		case 0:			/* unknown type 77 */
			body[blen++] = 0xa1;
			body[blen++] = 0x00;
			body[blen++] = 0x18;
			body[blen++] = 77;
			break;
		case 1:			/* the type as text */
			body[blen++] = 0xa1;
			body[blen++] = 0x00;
			body[blen++] = 0x61;
			body[blen++] = 'x';
			break;
		case 2:			/* a type of the other direction */
			body[blen++] = 0xa1;
			body[blen++] = 0x00;
			body[blen++] = dir == SIG_KIND_UP ? SIG_PEER_INFO :
			    SIG_QUERY_PEER;
			break;
		default:		/* version 1 */
			len = 40 + randombytes_uniform(200);
			randombytes_buf(d, len);
			d[0] = 1;
			return len;
		}
		return seal_body(d, dir, cluster, namekey, dir == SIG_KIND_UP ?
		    ck.up : ck.down, body, blen);
	case FK_STALE:
		return well_formed(d, dir == SIG_KIND_UP ? up[i % 4] :
		    down[i % 4], wall_us() - 3600ULL * 1000000, namekey, &ck);
	case FK_FORGED:
		t = dir == SIG_KIND_UP ? up[i % 4] : down[i % 4];
		len = well_formed(d, t, 0, namekey, &ck);
		if (t != SIG_DEREGISTER && dir == SIG_KIND_UP) {
			*answerable = 1;
			tab_put(tlast, len);
		}
		return len;
	case FK_WRONGSECRET:
		return well_formed(d, dir == SIG_KIND_UP ? up[i % 4] :
		    down[i % 4], 0, fl.badname, &fl.bad);
	case FK_OTHERCLUSTER:
		/*
		 * A name box that opens, with another cluster's name of
		 * the same length: the body, sealed for ours, does not.
		 */
		len = well_formed(d, up[i % 4], 0, namekey, &ck);
		k = strlen(cluster);
		for (blen = 0; blen < k; blen++)
			other[blen] = 'a' + randombytes_uniform(26);
		other[0] = cluster[0] == 'z' ? 'y' : 'z';
		crypto_aead_xchacha20poly1305_ietf_encrypt(d + SIG_HDRLEN + 1,
		    NULL, (const uint8_t *)other, k, d, SIG_HDRLEN, NULL,
		    d + 2, namekey);
		return len;
	case FK_REPLAY:
		k = i % fl.nrec;
		memcpy(d, fl.recd[k], fl.rec[k].len);
		if (fl.mode == 'n') {
			*answerable = 1;
			tab_put(fl.rectime[k], fl.rec[k].len);
		}
		return fl.rec[k].len;
	case FK_OVERSIZED:
		len = 1201 + randombytes_uniform(272);
		if (fl.mode != 'e' && i % 8 == 0)	/* fragments */
			len = 2049 + randombytes_uniform(2000);
		randombytes_buf(d, len);
		d[0] = SIG_VERSION;
		d[1] = dir;
		return len;
	case FK_STUN:
		/* a Binding success response: no request, no server */
		len = 20 + 4 * randombytes_uniform(8);
		randombytes_buf(d, len);
		d[0] = 0x01;
		d[1] = 0x01;
		d[2] = 0;
		d[3] = len - 20;
		d[4] = 0x21;
		d[5] = 0x12;
		d[6] = 0xa4;
		d[7] = 0x42;
		return len;
	case FK_STRANGER:
		return well_formed(d, down[i % 4], 0, namekey, &ck);
	case FK_WG:
		switch (i % 4) {
		case 0: len = 148; break;	/* handshake initiation */
		case 1: len = 92; break;	/* handshake response */
		case 2: len = 64; break;	/* cookie reply */
		default: len = 32 + 16 * randombytes_uniform(80); break;
		}
		randombytes_buf(d, len);
		d[0] = 1 + i % 4;
		d[1] = d[2] = d[3] = 0;
		return len;
	}
	errx(1, "kind %d", kind);
}

/* The receive queue of the target's socket, in bytes. */
static unsigned long
target_queue(void)
{
	char		 line[512];
	FILE		*f;
	unsigned int	 port;
	unsigned long	 q, sum = 0;
	int		 k;

	for (k = 0; k < 2; k++) {
		if ((f = fopen(fl.qpath[k], "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x"
			    " %*x %*x:%lx", &port, &q) == 2 &&
			    (int)port == fl.qport)
				sum += q;
		fclose(f);
	}
	return sum;
}

/* Answers to our local sources: CHALLENGEs no longer than the request. */
static int
flood_answers(int *answers, int *bad)
{
	static struct sig_rx	 r;
	uint8_t			 buf[2048];
	ssize_t			 n;
	int			 k, want, got = 0;

	for (k = 0; k < fl.nsocks; k++)
		while ((n = recv(fl.socks[k], buf, sizeof(buf),
		    MSG_DONTWAIT)) >= 0) {
			(*answers)++;
			got++;
			if (proto_open_down(&r, buf, n, ck.down) != SIG_OK ||
			    r.m.type != SIG_CHALLENGE) {
				if ((*bad)++ < 5)
					printf("FAIL: an answer of %zd bytes "
					    "that is no CHALLENGE\n", n);
				continue;
			}
			want = tab_get(r.m.re);
			if (want == -1 || n > want) {
				if ((*bad)++ < 5)
					printf("FAIL: a CHALLENGE of %zd bytes "
					    "answers %d\n", n, want);
			}
		}
	return got;
}

static int
flood_send(int fd, const uint8_t *d, size_t len, int spoofed,
    const uint8_t *src, uint16_t sport)
{
	struct rec	 rc;
	int		 tries;

	for (tries = 0; tries < 20; tries++) {
		if (spoofed) {
			memset(&rc, 0, sizeof(rc));
			rc.af = AF_INET;
			memcpy(rc.src, src, 4);
			rc.sport = sport;
			rc.len = len;
			if (spoof4(fl.raw, &rc, d) == 0)
				return 0;
		} else if (sendto(fd, d, len, 0, &nuc.sa,
		    omni_addr_len(&nuc)) != -1)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN)
			break;
		usleep(1000);
	}
	warn("send of %zu bytes", len);
	return -1;
}

static int
cmd_flood(const char *mode, int count, double rate, const char *first,
    int nsrc, const char *watch, int secs)
{
	static struct sig_rx	 r;
	const int		*kinds;
	struct sockaddr_in	 sin;
	struct omni_addr	 a;
	uint8_t			 d[4096], root[32], sig[32];
	uint8_t			 spip[4] = { 0 };
	uint64_t		 t0, next, tnow, lastspoof = 0, sent[FK_MAX];
	unsigned long		 q;
	char			 bad[256];
	FILE			*f;
	size_t			 len;
	int			 nk, i, k, kind, one = 1, errors = 0;
	int			 answers = 0, badans = 0, pauses = 0, ans;
	int			 skipped = 0, pid, stopped = 0;
	uint16_t		 spport = 0;

	memset(sent, 0, sizeof(sent));
	fl.mode = mode[0];
	kinds = fl.mode == 'n' ? fk_nucleus : fl.mode == 'e' ? fk_edge :
	    fl.mode == 'w' ? fk_wg : NULL;
	if (kinds == NULL || nuc.sa.sa_family != AF_INET || count <= 0 ||
	    rate <= 0)
		usage();
	for (nk = 0; kinds[nk] != -1; nk++)
		;
	if (fl.mode != 'w') {
		keys_setup();
		snprintf(bad, sizeof(bad), "not-%s", secret);
		keys_derive_root(bad, strlen(bad), root);
		keys_derive_root_subkey(root, KEY_ROOT_NAME, fl.badname);
		keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, cluster, sig);
		proto_cluster_keys(sig, &fl.bad);
		if (vip.af == 0 && omni_prefix_parse("10.77.0.250/24",
		    &vip) == -1)
			errx(1, "vip");
	}
	/* captured datagrams: up ones without auth would get a CHALLENGE */
	if (file != NULL && fl.mode != 'w') {
		if ((f = fopen(file, "r")) == NULL)
			err(1, "%s", file);
		while (fl.nrec < FL_MAXREC &&
		    fread(&fl.rec[fl.nrec], sizeof(struct rec), 1, f) == 1) {
			struct rec *rc = &fl.rec[fl.nrec];

			if (rc->len > 2048 || (fl.recd[fl.nrec] =
			    malloc(rc->len)) == NULL ||
			    fread(fl.recd[fl.nrec], 1, rc->len, f) != rc->len)
				break;
			if (fl.mode == 'n' &&
			    (proto_open_name(&r, fl.recd[fl.nrec], rc->len,
			    namekey) != SIG_OK ||
			    proto_open_body(&r, ck.up) != SIG_OK ||
			    (r.m.fields & SIG_F(SIG_K_AUTH)) == 0)) {
				skipped++;
				free(fl.recd[fl.nrec]);
				continue;
			}
			if (fl.mode == 'e' && (rc->af != AF_INET ||
			    proto_open_down(&r, fl.recd[fl.nrec], rc->len,
			    ck.down) != SIG_OK)) {
				skipped++;
				free(fl.recd[fl.nrec]);
				continue;
			}
			fl.rectime[fl.nrec] = r.m.time;
			fl.nrec++;
		}
		fclose(f);
		printf("%d captured datagrams to replay, %d skipped\n",
		    fl.nrec, skipped);
	}
	if (fl.mode == 'e' || (fl.mode == 'n' && fl.nrec > 0)) {
		if ((fl.raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW)) == -1)
			err(1, "raw socket");
		setsockopt(fl.raw, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	}
	if (fl.mode == 'e') {
		if (fl.spoof.sa.sa_family != AF_INET)
			errx(2, "edge: -S nucleus address to spoof");
		memcpy(spip, &fl.spoof.sin.sin_addr, 4);
		spport = ntohs(fl.spoof.sin.sin_port);
	}
	/* local sources */
	if (first != NULL) {
		memset(&a, 0, sizeof(a));
		if (inet_pton(AF_INET, first, &a.sin.sin_addr) != 1 ||
		    nsrc < 1 || nsrc > 256)
			errx(2, "-b %s -N %d", first, nsrc);
	} else
		nsrc = 1;
	for (k = 0; k < nsrc; k++) {
		if ((fl.socks[k] = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
			err(1, "socket");
		if (first != NULL) {
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			sin.sin_addr.s_addr = htonl(ntohl(a.sin.sin_addr.s_addr)
			    + k);
			if (bind(fl.socks[k], (struct sockaddr *)&sin,
			    sizeof(sin)) == -1)
				err(1, "bind source %d", k);
		}
	}
	fl.nsocks = nsrc;
	if (watch != NULL) {
		if (sscanf(watch, "%d:%d", &pid, &fl.qport) != 2)
			errx(2, "-w pid:port");
		snprintf(fl.qpath[0], sizeof(fl.qpath[0]), "/proc/%d/net/udp",
		    pid);
		snprintf(fl.qpath[1], sizeof(fl.qpath[1]), "/proc/%d/net/udp6",
		    pid);
		if (access(fl.qpath[0], R_OK) == -1)
			err(1, "%s", fl.qpath[0]);
	}

	t0 = next = now_us();
	for (i = 0; i < count; i++) {
		if (secs > 0 && now_us() - t0 > (uint64_t)secs * 1000000) {
			stopped = 1;
			break;
		}
		/* pace: no faster than rate, no burst to catch up */
		tnow = now_us();
		if (tnow < next)
			usleep(next - tnow);
		else if (tnow > next + 20000)
			next = tnow;
		next += 1000000 / rate;
		if (watch != NULL && i % 16 == 0) {
			while ((q = target_queue()) > 65536 && (secs == 0 ||
			    now_us() - t0 < (uint64_t)secs * 1000000)) {
				pauses++;
				if (q > fl.qmax)
					fl.qmax = q;
				usleep(2000);
				next = now_us();
			}
			if (q > fl.qmax)
				fl.qmax = q;
		}
		kind = kinds[i % nk];
		if (fl.mode == 'n' && fl.nrec > 0 &&
		    now_us() - lastspoof >= 250000) {
			kind = FK_SPOOFREPLAY;
			lastspoof = now_us();
		}
		if ((kind == FK_REPLAY || kind == FK_SPOOFREPLAY) &&
		    fl.nrec == 0)
			kind = FK_GARBAGE;
		if (kind == FK_SPOOFREPLAY &&
		    fl.rec[(i / 7) % fl.nrec].af != AF_INET)
			kind = FK_REPLAY;	/* spoof4() is IPv4 only */
		if (kind == FK_SPOOFREPLAY) {
			k = (i / 7) % fl.nrec;
			if (spoof4(fl.raw, &fl.rec[k], fl.recd[k]) == -1) {
				errors++;
				continue;
			}
			sent[kind]++;
			continue;
		}
		len = flood_one(kind, i / nk, d, &ans);
		if (fl.mode == 'e' && kind != FK_STRANGER)
			k = flood_send(-1, d, len, 1, spip, spport);
		else
			k = flood_send(fl.socks[i % nsrc], d, len, 0, NULL, 0);
		if (k == -1) {
			errors++;
			continue;
		}
		sent[kind]++;
		if (fl.mode == 'n' && i % 64 == 63)
			flood_answers(&answers, &badans);
	}
	tnow = now_us();
	if (fl.mode == 'n') {
		usleep(500000);
		flood_answers(&answers, &badans);
	} else
		for (k = 0; k < nsrc; k++)	/* nobody answers junk */
			while (recv(fl.socks[k], d, sizeof(d),
			    MSG_DONTWAIT) >= 0)
				answers++, badans++;
	for (k = 0, i = 0; k < FK_MAX; k++) {
		if (sent[k] == 0)
			continue;
		printf("kind %s %llu\n", fk_name[k],
		    (unsigned long long)sent[k]);
		i += sent[k];
	}
	printf("sent %d datagrams in %.1f s: %.0f/s, %d send errors, "
	    "%d pauses, largest receive queue %lu bytes%s\n", i,
	    (tnow - t0) / 1e6, i / ((tnow - t0) / 1e6), errors, pauses,
	    fl.qmax, stopped ? ", STOPPED at the time limit" : "");
	if (fl.mode == 'n')
		printf("answers %d, %s\n", answers, badans ? "FAIL" :
		    "every one a CHALLENGE no longer than its request");
	else
		printf("answers %d\n", answers);
	return badans == 0 && errors == 0 && !stopped ? 0 : 1;
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: forge capture|replay|takeover|impersonate|"
	    "junk|flood [-a nucleus] [-s secret] [-c cluster] [-k pubkey] "
	    "[-v vip] [-i if] [-p port] [-P port] [-n count] [-t secs] [-f file] "
	    "[-S] [-m mode] [-r rate] [-b first -N n] [-A spoofed] "
	    "[-w pid:port]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*cmd, *victim = NULL, *mode = NULL, *first = NULL;
	const char	*watch = NULL;
	uint8_t		 vkey[32];
	double		 rate = 1000;
	int		 ch, port = OMNI_NUCLEUS_PORT, count = 10, secs = 10;
	int		 spoof = 0, nsrc = 1, tset = 0, sport = 0;

	if (argc < 2)
		usage();
	cmd = argv[1];
	argc--;
	argv++;
	while ((ch = getopt(argc, argv,
	    "A:a:b:c:f:i:k:m:N:n:o:P:p:r:s:St:v:w:")) != -1) {
		switch (ch) {
		case 'A':
			if (omni_addr_parse(optarg, OMNI_NUCLEUS_PORT,
			    &fl.spoof) == -1)
				errx(2, "%s: bad address", optarg);
			break;
		case 'b':
			first = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'N':
			nsrc = atoi(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'w':
			watch = optarg;
			break;
		case 'a':
			if (omni_addr_parse(optarg, OMNI_NUCLEUS_PORT,
			    &nuc) == -1)
				errx(2, "%s: bad address", optarg);
			break;
		case 'c':
			cluster = optarg;
			break;
		case 'f':
		case 'o':
			file = optarg;
			break;
		case 'i':
			ifname = optarg;
			break;
		case 'k':
			victim = optarg;
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'P':
			sport = atoi(optarg);
			break;
		case 's':
			secret = optarg;
			break;
		case 'S':
			spoof = 1;
			break;
		case 't':
			secs = atoi(optarg);
			tset = 1;
			break;
		case 'v':
			if (omni_prefix_parse(optarg, &vip) == -1)
				errx(2, "%s: bad VIP", optarg);
			break;
		default:
			usage();
		}
	}
	if (sodium_init() == -1)
		errx(1, "sodium_init");
	log_init(1, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(cmd, "capture") == 0) {
		if (ifname == NULL || file == NULL)
			usage();
		return cmd_capture(sport != 0 ? sport : port, sport != 0,
		    count, secs);
	}
	if (nuc.sa.sa_family == AF_UNSPEC)
		usage();
	if (strcmp(cmd, "replay") == 0) {
		if (file == NULL)
			usage();
		if (secret != NULL)
			keys_setup();
		return cmd_replay(spoof);
	}
	if (strcmp(cmd, "junk") == 0)
		return cmd_junk(count);
	if (strcmp(cmd, "flood") == 0) {
		if (mode == NULL)
			usage();
		if (victim != NULL &&
		    omni_key_from_base64(victim, fl.victim) == -1)
			errx(2, "-k: a base64 public key please");
		if (victim == NULL)
			randombytes_buf(fl.victim, sizeof(fl.victim));
		return cmd_flood(mode, count, rate, first, nsrc, watch,
		    tset ? secs : 0);
	}
	keys_setup();
	sock_open();
	if (vip.af == 0)
		usage();
	if (strcmp(cmd, "takeover") == 0)
		return cmd_takeover();
	if (strcmp(cmd, "impersonate") == 0) {
		if (victim == NULL || omni_key_from_base64(victim, vkey) == -1)
			errx(2, "-k: a base64 public key please");
		return cmd_impersonate(vkey);
	}
	usage();
}
