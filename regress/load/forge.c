/*
 * forge: a hostile client for hostile.t.  It knows the cluster secret
 * (when given one) but none of the other members' private keys.
 *
 *   forge capture -i ifname -p port -n count -t secs -o file
 *	record UDP payloads sent to port on ifname (AF_PACKET)
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
 *
 * Each prints what happened; the exit status is 0 when the nucleus
 * behaved (refused what it had to refuse), 1 otherwise.
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
cmd_capture(int port, int count, int secs)
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
		if (((udp[2] << 8) | udp[3]) != port)
			continue;
		rc.sport = (udp[0] << 8) | udp[1];
		rc.len = n - hl - 8;
		fwrite(&rc, sizeof(rc), 1, f);
		fwrite(udp + 8, 1, rc.len, f);
		got++;
	}
	fclose(f);
	printf("captured %d datagrams to port %d\n", got, port);
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
static void
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
	if (sendto(raw, pkt, n, 0, (struct sockaddr *)&to, sizeof(to)) == -1)
		warn("raw sendto");
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

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: forge capture|replay|takeover|impersonate|"
	    "junk [-a nucleus] [-s secret] [-c cluster] [-k pubkey] "
	    "[-v vip] [-i if] [-p port] [-n count] [-t secs] [-f file] "
	    "[-S]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*cmd, *victim = NULL;
	uint8_t		 vkey[32];
	int		 ch, port = OMNI_NUCLEUS_PORT, count = 10, secs = 10;
	int		 spoof = 0;

	if (argc < 2)
		usage();
	cmd = argv[1];
	argc--;
	argv++;
	while ((ch = getopt(argc, argv, "a:c:f:i:k:n:o:p:s:St:v:")) != -1) {
		switch (ch) {
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
		case 's':
			secret = optarg;
			break;
		case 'S':
			spoof = 1;
			break;
		case 't':
			secs = atoi(optarg);
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
		return cmd_capture(port, count, secs);
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
