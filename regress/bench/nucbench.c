/*
 * The nucleus's CPU per request, without sockets: N simulated edges
 * (own X25519 key each, clusters of 100) register and heartbeat
 * straight into nucleus_input() on a simulated clock, one core.  What
 * the kernel's UDP path adds is measured by nucleus.sh; this isolates
 * signald's own work per datagram, so a change to it shows as a
 * number.  The baseline, measured in the same run on the same
 * datagrams, is the cryptography no implementation of the protocol
 * can avoid: open the request's two boxes, seal one answer.
 *
 *	nucbench [-n edges] [-r idle rounds]
 *
 * Prints "nucbench KEY VALUE" lines.
 */
#include <arpa/inet.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "signald.h"

#define NB_CLUSTER	100		/* edges per cluster */
#define NB_HEARTBEAT_MS	25000		/* every edge once per round */

struct nb_edge {
	uint8_t		 pub[32];
	uint8_t		 proof[32];
	uint8_t		 cookie[SIG_COOKIELEN];
	struct omni_addr src;
	uint64_t	 tlast;
	uint64_t	 epoch, cur, base;
	int		 full;
};

static struct nucleus	*nuc;
static struct sig_clock	 clk;
static struct sig_out	 out;
static uint8_t		 root[32], namekey[32], npriv[32], npub[32];
static struct sig_ckeys	*ckeys;		/* one per cluster */
static struct nb_edge	*edges;
static size_t		 nedges;
static uint64_t		*samples;	/* ns per request of a phase */

static uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void
advance_us(uint64_t us)
{
	clk.wall_us += us;
	clk.wall = clk.wall_us / 1000000;
	clk.ms = clk.wall_us / 1000;
}

static long
rss_kb(void)
{
	char	 line[128];
	long	 kb = -1;
	FILE	*f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
cluster_name(size_t c, char *buf, size_t len)
{
	snprintf(buf, len, "bench%zu", c);
}

/* Seal message m of edge i into d. */
static size_t
nb_seal(size_t i, struct sig_msg *m, int auth, uint8_t *d)
{
	char	 name[32];
	size_t	 len;

	cluster_name(i / NB_CLUSTER, name, sizeof(name));
	if (proto_seal(m, SIG_KIND_UP, name, namekey,
	    ckeys[i / NB_CLUSTER].up, auth ? edges[i].proof : NULL, d,
	    SIG_MAXDGRAM, &len) != SIG_OK)
		errx(1, "cannot seal");
	return len;
}

static void
nb_msg(size_t i, int type, struct sig_msg *m, int cookie, int sync)
{
	struct nb_edge	*e = &edges[i];
	uint32_t	 vip;

	proto_init_msg(m, type, proto_next_time(&e->tlast, &clk));
	memcpy(m->pubkey, e->pub, 32);
	vip = htonl(0x0a000000 + (uint32_t)i + 1);
	m->vip.af = AF_INET;
	m->vip.plen = 8;
	memcpy(m->vip.addr, &vip, sizeof(vip));
	m->port = 51820;
	if (cookie) {
		memcpy(m->cookie, e->cookie, SIG_COOKIELEN);
		m->fields |= SIG_F(SIG_K_COOKIE);
	}
	if (sync) {
		m->fields |= SIG_F_SYNC;
		m->epoch = e->epoch;
		m->from = e->cur;
		m->flags = e->full ? SIG_FL_FULL : 0;
		if (e->full) {
			m->base = e->base;
			m->fields |= SIG_F(SIG_K_BASE);
		}
	}
}

/*
 * Apply the answers in out as the edge would (cookie and sync
 * position only); returns 1 when the edge is up to date.
 */
static int
nb_apply(size_t i)
{
	static struct sig_rx	 rx;
	struct nb_edge		*e = &edges[i];
	const struct sig_msg	*a = &rx.m;
	size_t			 k;
	int			 done = 0;

	for (k = 0; k < out.n; k++) {
		if (proto_open_down(&rx, out.buf[k], out.len[k],
		    ckeys[i / NB_CLUSTER].down) != SIG_OK)
			errx(1, "edge %zu: an answer does not open", i);
		if (a->type == SIG_NAK)
			errx(1, "edge %zu: NAK %u", i, a->status);
		memcpy(e->cookie, a->cookie, SIG_COOKIELEN);
		if (a->type == SIG_CHALLENGE)
			continue;
		if ((a->flags & SIG_FL_FULL) && a->from == 0) {
			e->full = 1;
			e->epoch = a->epoch;
			e->base = a->base;
			e->cur = 0;
		}
		if (a->from != e->cur)
			continue;
		e->cur = a->to;
		if ((a->flags & SIG_FL_MORE) == 0) {
			e->full = 0;
			done = 1;
		}
	}
	return done;
}

/* One request of edge i into the nucleus, timed; returns its ns. */
static uint64_t
nb_input(size_t i, const uint8_t *d, size_t len)
{
	uint64_t	 t0, t1;
	int		 rv;

	t0 = now_ns();
	rv = nucleus_input(nuc, d, len, &edges[i].src, &clk, &out);
	t1 = now_ns();
	if (rv != SIG_OK)
		errx(1, "edge %zu: dropped: %s", i, proto_reason_name(rv));
	return t1 - t0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *phase, size_t n, double wall_s)
{
	uint64_t	 sum = 0;
	size_t		 k;

	for (k = 0; k < n; k++)
		sum += samples[k];
	qsort(samples, n, sizeof(samples[0]), cmp_u64);
	printf("nucbench %s_requests %zu\n", phase, n);
	printf("nucbench %s_ns_mean %.0f\n", phase, (double)sum / n);
	printf("nucbench %s_ns_p50 %llu\n", phase,
	    (unsigned long long)samples[n / 2]);
	printf("nucbench %s_ns_p99 %llu\n", phase,
	    (unsigned long long)samples[n * 99 / 100]);
	printf("nucbench %s_per_core_s %.0f\n", phase, n / (sum / 1e9));
	printf("nucbench %s_wall_s %.2f\n", phase, wall_s);
	fflush(stdout);
}

static void
phase_keys(void)
{
	char	 name[32];
	uint8_t	 sig[32], priv[32];
	size_t	 i, ncl = (nedges + NB_CLUSTER - 1) / NB_CLUSTER;

	if ((ckeys = calloc(ncl, sizeof(*ckeys))) == NULL ||
	    (edges = calloc(nedges, sizeof(*edges))) == NULL ||
	    (samples = calloc(nedges * 2, sizeof(*samples))) == NULL)
		err(1, "calloc");
	for (i = 0; i < ncl; i++) {
		cluster_name(i, name, sizeof(name));
		keys_derive_cluster(root, KEY_PURPOSE_SIGNAL, name, sig);
		proto_cluster_keys(sig, &ckeys[i]);
	}
	for (i = 0; i < nedges; i++) {
		struct nb_edge	*e = &edges[i];

		crypto_box_keypair(e->pub, priv);
		if (keys_dh(priv, e->pub, npub, e->proof) == -1)
			errx(1, "low order key");
		/* every edge its own source: 10/8 */
		e->src.sin.sin_family = AF_INET;
		e->src.sin.sin_addr.s_addr = htonl(0x0a000000 +
		    (uint32_t)i + 1);
		e->src.sin.sin_port = htons(51820);
		e->full = 1;
	}
	sodium_memzero(priv, sizeof(priv));
}

/* Bare REGISTER, CHALLENGE, REGISTER with proof: both timed. */
static void
phase_register(void)
{
	uint8_t		 d[SIG_MAXDGRAM];
	struct sig_msg	 m;
	uint64_t	 w0 = now_ns();
	size_t		 i, len, ns = 0;

	for (i = 0; i < nedges; i++) {
		nb_msg(i, SIG_REGISTER, &m, 0, 0);
		len = nb_seal(i, &m, 0, d);
		samples[ns] = nb_input(i, d, len);
		if (out.n != 1)
			errx(1, "edge %zu: no challenge", i);
		nb_apply(i);
		nb_msg(i, SIG_REGISTER, &m, 1, 0);
		len = nb_seal(i, &m, 1, d);
		samples[ns++] += nb_input(i, d, len);
		nb_apply(i);
		/* the PUNCH fan-out of the join is the nucleus's work too */
		while (nucleus_punches(nuc, &clk, &out) > 0)
			;
		advance_us(100);
	}
	report("register", ns, (now_ns() - w0) / 1e9);
	printf("nucbench rss_kb_after_register %ld\n", rss_kb());
}

/*
 * One round: every edge heartbeats once, spread over 25 s of
 * simulated time; pages with MORE are asked for again at once.
 * Returns the heartbeats that had to page.
 */
static size_t
phase_round(const char *phase)
{
	uint8_t		 d[SIG_MAXDGRAM];
	struct sig_msg	 m;
	uint64_t	 w0 = now_ns();
	size_t		 i, len, ns = 0, paged = 0;
	uint64_t	 step = (uint64_t)NB_HEARTBEAT_MS * 1000 / nedges;

	for (i = 0; i < nedges; i++) {
		int	 k;

		for (k = 0; k < 1000; k++) {
			nb_msg(i, SIG_HEARTBEAT, &m, 1, 1);
			len = nb_seal(i, &m, 1, d);
			samples[ns] = nb_input(i, d, len);
			if (ns < nedges * 2 - 1)
				ns++;
			if (out.n == 0)
				errx(1, "edge %zu: no answer", i);
			if (nb_apply(i))
				break;
			paged++;
		}
		advance_us(step > 0 ? step : 1);
		if (clk.ms % (NUCLEUS_EXPIRE_EVERY * 1000) < step / 1000 + 1)
			nucleus_expire(nuc, &clk);
	}
	report(phase, ns, (now_ns() - w0) / 1e9);
	return paged;
}

/*
 * The floor, on idle heartbeats like the last round's: open name and
 * body, check the auth MAC, seal an answer of the same size.
 */
static void
phase_floor(void)
{
	static struct sig_rx	 rx;
	uint8_t			 d[SIG_MAXDGRAM], a[SIG_MAXDGRAM];
	struct sig_msg		 m, ack;
	uint64_t		 t0, w0 = now_ns();
	size_t			 i, len, alen, ns = 0;

	for (i = 0; i < nedges; i++) {
		nb_msg(i, SIG_HEARTBEAT, &m, 1, 1);
		len = nb_seal(i, &m, 1, d);
		proto_init_msg(&ack, SIG_HEARTBEAT_ACK, m.time);
		ack.re = m.time;
		ack.epoch = m.epoch;
		ack.from = ack.to = m.from;
		ack.flags = SIG_FL_LAST;
		t0 = now_ns();
		if (proto_open_name(&rx, d, len, namekey) != SIG_OK ||
		    proto_open_body(&rx, ckeys[i / NB_CLUSTER].up) != SIG_OK ||
		    !proto_auth_ok(&rx, edges[i].proof) ||
		    proto_seal(&ack, SIG_KIND_DOWN, NULL, NULL,
		    ckeys[i / NB_CLUSTER].down, edges[i].proof, a, sizeof(a),
		    &alen) != SIG_OK)
			errx(1, "floor: edge %zu", i);
		samples[ns++] = now_ns() - t0;
	}
	report("floor", ns, (now_ns() - w0) / 1e9);
}

int
main(int argc, char *argv[])
{
	long	 rss0, rss_kb_keys;
	int	 ch, rounds = 3, r;

	nedges = 100000;
	while ((ch = getopt(argc, argv, "n:r:")) != -1) {
		switch (ch) {
		case 'n':
			nedges = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: nucbench [-n edges] "
			    "[-r rounds]\n");
			return 1;
		}
	}
	if (nedges < NB_CLUSTER || rounds < 1)
		errx(1, "at least %d edges and one round", NB_CLUSTER);
	log_init(0, LOG_DAEMON);
	if (sodium_init() == -1)
		errx(1, "sodium_init");
	randombytes_buf(root, sizeof(root));
	keys_derive_root_subkey(root, KEY_ROOT_NAME, namekey);
	crypto_box_keypair(npub, npriv);
	clk.wall_us = 1700000000ULL * 1000000;
	advance_us(0);

	rss0 = rss_kb();
	if ((nuc = nucleus_new(root, npriv, npub, 3600)) == NULL)
		errx(1, "nucleus_new");
	nucleus_set_limits(nuc, nedges + 1, nedges / NB_CLUSTER + 1,
	    1000000);
	printf("nucbench edges %zu\n", nedges);
	printf("nucbench rss_kb_start %ld\n", rss0);
	phase_keys();
	rss_kb_keys = rss_kb();
	printf("nucbench rss_kb_after_keys %ld\n", rss_kb_keys);
	phase_register();
	printf("nucbench nucleus_bytes_per_edge %.0f\n",
	    (rss_kb() - rss_kb_keys) * 1024.0 / nedges);
	printf("nucbench sync_paged %zu\n", phase_round("sync"));
	for (r = 0; r < rounds; r++)
		if (phase_round("idle") != 0)
			errx(1, "an idle round paged");
	phase_floor();
	printf("nucbench nucleus_edges %zu\n", nucleus_nedges(nuc));
	nucleus_free(nuc);
	return 0;
}
