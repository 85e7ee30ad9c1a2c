/*
 * The kernel backend against a real kernel, run by regress/vm.t inside
 * a virtual machine booting Debian's kernel (as root):
 *
 *	wgbulk absent IFNAME		before the wireguard module is loaded
 *	wgbulk bulk IFNAME NPEERS WG	NPEERS peers applied and read back
 *	wgbulk perm IFNAME		errors of an unprivileged caller
 *
 * It calls the same functions omnid does (wg_open, wg_set_peer, ...,
 * and wgk_apply/wgk_fetch for a whole peer set at once).  Prints
 * "ok - ..." and "not ok - ..." lines (the caller numbers them) and
 * "# ..." comments; exits 1 when something failed.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <grp.h>
#include <linux/wireguard.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "omni.h"
#include "rtnl.h"
#include "wg.h"

#define BIG		7	/* this peer gets BIG_AIPS more allowed IPs */
#define BIG_AIPS	1500
#define GONE		42	/* this peer is removed */

static int	 failed;

static int __attribute__((format(printf, 2, 3)))
check(int cond, const char *fmt, ...)
{
	va_list	 ap;

	printf("%sok - ", cond ? "" : "not ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failed = 1;
	return cond;
}

static void __attribute__((format(printf, 1, 2)))
diag(const char *fmt, ...)
{
	va_list	 ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How long each step took, for the log. */
static void
phase(const char *what)
{
	static double	 last;
	double		 t = now();

	if (last != 0)
		diag("%s: %.2f s", what, t - last);
	last = t;
}

static void
usage(void)
{
	fprintf(stderr, "usage: wgbulk absent ifname\n"
	    "       wgbulk bulk ifname npeers wg\n"
	    "       wgbulk perm ifname\n");
	exit(2);
}

/* --- the peer set -------------------------------------------------- */

static struct wgk_peer	*want;
static size_t		 nwant;

static void
aip_v4(struct wgk_aip *a, uint8_t b1, unsigned i)
{
	memset(a, 0, sizeof(*a));
	a->af = AF_INET;
	a->cidr = 32;
	a->addr[0] = 10;
	a->addr[1] = b1;
	a->addr[2] = (uint8_t)(i >> 8);
	a->addr[3] = (uint8_t)i;
}

static void
aip_v6(struct wgk_aip *a, unsigned i)
{
	memset(a, 0, sizeof(*a));
	a->af = AF_INET6;
	a->cidr = 128;
	a->addr[0] = 0xfd;
	a->addr[1] = 0x77;
	a->addr[14] = (uint8_t)(i >> 8);
	a->addr[15] = (uint8_t)i;
}

/*
 * Peer i: random keys, an IPv4 endpoint for even i and an IPv6 one for
 * odd i, keepalive i % 60, allowed IPs 10.64.x.y/32 and fd77::i/128;
 * peer BIG also BIG_AIPS addresses 10.200.x.y/32, more than one
 * message holds either way.
 */
static void
make_peers(size_t n)
{
	struct wgk_peer	*p;
	size_t		 i, j, na;

	if ((want = calloc(n, sizeof(*want))) == NULL)
		exit(1);
	nwant = n;
	for (i = 0; i < n; i++) {
		p = &want[i];
		randombytes_buf(p->pubkey, sizeof(p->pubkey));
		randombytes_buf(p->psk, sizeof(p->psk));
		p->has_psk = 1;
		if (i % 2 == 0) {
			p->endpoint.sin.sin_family = AF_INET;
			p->endpoint.sin.sin_port = htons(51820 + i % 100);
			p->endpoint.sin.sin_addr.s_addr = htonl(0xc6120000 |
			    (uint32_t)((i / 250) << 8) | (uint32_t)(i % 250 + 1));
		} else {
			p->endpoint.sin6.sin6_family = AF_INET6;
			p->endpoint.sin6.sin6_port = htons(51820);
			p->endpoint.sin6.sin6_addr.s6_addr[0] = 0xfd;
			p->endpoint.sin6.sin6_addr.s6_addr[1] = 0x18;
			p->endpoint.sin6.sin6_addr.s6_addr[14] =
			    (uint8_t)(i >> 8);
			p->endpoint.sin6.sin6_addr.s6_addr[15] = (uint8_t)i;
		}
		p->has_keepalive = 1;
		p->keepalive = (uint16_t)(i % 60);
		p->flags = WGPEER_F_REPLACE_ALLOWEDIPS;
		na = 2 + (i == BIG ? BIG_AIPS : 0);
		if ((p->aips = calloc(na, sizeof(*p->aips))) == NULL)
			exit(1);
		aip_v4(&p->aips[0], 64, (unsigned)i);
		aip_v6(&p->aips[1], (unsigned)i);
		for (j = 2; j < na; j++)
			aip_v4(&p->aips[j], 200, (unsigned)(j - 2));
		p->naips = p->aipcap = na;
	}
}

static int
aip_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct wgk_aip));
}

static int
peer_cmp(const void *a, const void *b)
{
	return memcmp(((const struct wgk_peer *)a)->pubkey,
	    ((const struct wgk_peer *)b)->pubkey, 32);
}

static int
endpoint_eq(const struct omni_addr *a, const struct omni_addr *b)
{
	char	 x[OMNI_ADDRSTRLEN], y[OMNI_ADDRSTRLEN];

	return strcmp(omni_addr_str(a, x, sizeof(x)),
	    omni_addr_str(b, y, sizeof(y))) == 0;
}

/* Does the device hold exactly the wanted peers?  why: the first miss. */
static int
device_matches(struct wgk_device *dev, char *why, size_t whylen)
{
	struct wgk_peer	*w, *d;
	size_t		 i, j;

	if (dev->npeers != nwant) {
		snprintf(why, whylen, "%zu peers, want %zu", dev->npeers,
		    nwant);
		return 0;
	}
	qsort(want, nwant, sizeof(*want), peer_cmp);
	qsort(dev->peers, dev->npeers, sizeof(*dev->peers), peer_cmp);
	for (i = 0; i < nwant; i++) {
		w = &want[i];
		d = &dev->peers[i];
		if (memcmp(w->pubkey, d->pubkey, 32) != 0) {
			snprintf(why, whylen, "peer %zu: key differs", i);
			return 0;
		}
		if (memcmp(w->psk, d->psk, 32) != 0 ||
		    !endpoint_eq(&w->endpoint, &d->endpoint) ||
		    w->keepalive != d->keepalive) {
			snprintf(why, whylen, "peer %zu: psk, endpoint or "
			    "keepalive differs", i);
			return 0;
		}
		if (w->naips != d->naips) {
			snprintf(why, whylen, "peer %zu: %zu allowed IPs, want "
			    "%zu", i, d->naips, w->naips);
			return 0;
		}
		qsort(w->aips, w->naips, sizeof(*w->aips), aip_cmp);
		qsort(d->aips, d->naips, sizeof(*d->aips), aip_cmp);
		for (j = 0; j < w->naips; j++)
			if (aip_cmp(&w->aips[j], &d->aips[j]) != 0) {
				snprintf(why, whylen, "peer %zu: allowed IP "
				    "%zu differs", i, j);
				return 0;
			}
	}
	return 1;
}

static struct wgk_peer *
want_find(const uint8_t key[32])
{
	size_t	 i;

	for (i = 0; i < nwant; i++)
		if (memcmp(want[i].pubkey, key, 32) == 0)
			return &want[i];
	return NULL;
}

/* --- wg(8) reading the kernel -------------------------------------- */

static void
b64(const uint8_t key[32], char *out, size_t len)
{
	sodium_bin2base64(out, len, key, 32, sodium_base64_VARIANT_ORIGINAL);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "pub psk endpoint sorted-allowed-ips keepalive" of a wanted peer. */
static char *
want_line(const struct wgk_peer *p)
{
	char	 pub[64], psk[64], ep[OMNI_ADDRSTRLEN], pfx[OMNI_PREFIXSTRLEN];
	char	**ips, *line, *s;
	size_t	 i, len = 256;
	struct omni_prefix pr;

	if ((ips = calloc(p->naips, sizeof(*ips))) == NULL)
		exit(1);
	for (i = 0; i < p->naips; i++) {
		memset(&pr, 0, sizeof(pr));
		pr.af = p->aips[i].af;
		pr.plen = p->aips[i].cidr;
		memcpy(pr.addr, p->aips[i].addr, 16);
		ips[i] = strdup(omni_prefix_str(&pr, pfx, sizeof(pfx)));
		len += strlen(ips[i]) + 1;
	}
	qsort(ips, p->naips, sizeof(*ips), str_cmp);
	if ((line = malloc(len)) == NULL)
		exit(1);
	b64(p->pubkey, pub, sizeof(pub));
	b64(p->psk, psk, sizeof(psk));
	omni_addr_str(&p->endpoint, ep, sizeof(ep));
	s = line + snprintf(line, len, "%s %s %s ", pub, psk, ep);
	for (i = 0; i < p->naips; i++) {
		s += sprintf(s, "%s%s", i ? "," : "", ips[i]);
		free(ips[i]);
	}
	if (p->keepalive)
		sprintf(s, " %u", p->keepalive);
	else
		sprintf(s, " off");
	free(ips);
	return line;
}

/* The same from a peer line of "wg show IF dump" (tab separated). */
static char *
wg_line(char *l)
{
	char	*f[8], *ips[BIG_AIPS + 8], *line, *s, *ip;
	size_t	 n = 0, i, len;

	for (i = 0; i < 8; i++)
		if ((f[i] = strsep(&l, "\t\n")) == NULL)
			return NULL;
	for (ip = strtok(f[3], ","); ip != NULL && n < BIG_AIPS + 8;
	    ip = strtok(NULL, ","))
		ips[n++] = ip;
	qsort(ips, n, sizeof(*ips), str_cmp);
	len = strlen(f[0]) + strlen(f[1]) + strlen(f[2]) + strlen(f[7]) + 16;
	for (i = 0; i < n; i++)
		len += strlen(ips[i]) + 1;
	if ((line = malloc(len)) == NULL)
		exit(1);
	s = line + sprintf(line, "%s %s %s ", f[0], f[1], f[2]);
	for (i = 0; i < n; i++)
		s += sprintf(s, "%s%s", i ? "," : "", ips[i]);
	sprintf(s, " %s", f[7]);
	return line;
}

/* wg show IF dump agrees with the wanted state, device line included. */
static void
wg_agrees(const char *wg, const char *ifname, const uint8_t priv[32],
    uint16_t port, uint32_t fwmark)
{
	static char	 buf[256 * 1024];
	char		 cmd[512], **got, **exp, *line, pk[64], pub[64];
	char		 first[512];
	uint8_t		 pubkey[32];
	FILE		*fp;
	size_t		 n = 0, i, bad = 0;
	double		 t0 = now();

	if ((got = calloc(nwant + 16, sizeof(*got))) == NULL ||
	    (exp = calloc(nwant, sizeof(*exp))) == NULL)
		exit(1);
	snprintf(cmd, sizeof(cmd), "%s show %s dump", wg, ifname);
	if ((fp = popen(cmd, "r")) == NULL) {
		check(0, "run %s", cmd);
		return;
	}
	first[0] = '\0';
	if (fgets(first, sizeof(first), fp) != NULL)
		first[strcspn(first, "\n")] = '\0';
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		if (n >= nwant + 16)
			break;
		if ((line = wg_line(buf)) != NULL)
			got[n++] = line;
	}
	check(pclose(fp) == 0, "%s exits 0", cmd);
	b64(priv, pk, sizeof(pk));
	crypto_scalarmult_base(pubkey, priv);
	b64(pubkey, pub, sizeof(pub));
	snprintf(buf, sizeof(buf), "%s\t%s\t%u\t0x%x", pk, pub, port, fwmark);
	check(strcmp(first, buf) == 0, "wg show: private key, public key, "
	    "port %u and fwmark 0x%x", port, fwmark);
	check(n == nwant, "wg show lists %zu peers (want %zu)", n, nwant);
	for (i = 0; i < nwant; i++)
		exp[i] = want_line(&want[i]);
	qsort(got, n, sizeof(*got), str_cmp);
	qsort(exp, nwant, sizeof(*exp), str_cmp);
	for (i = 0; i < n && i < nwant; i++)
		if (strcmp(got[i], exp[i]) != 0) {
			if (bad++ == 0)
				diag("first difference:\n#  wg:   %.200s\n"
				    "#  want: %.200s", got[i], exp[i]);
		}
	check(n == nwant && bad == 0, "wg show agrees on every peer: keys, "
	    "preshared keys, endpoints, allowed IPs, keepalives "
	    "(%zu differ, %.1f s)", bad, now() - t0);
	for (i = 0; i < n; i++)
		free(got[i]);
	for (i = 0; i < nwant; i++)
		free(exp[i]);
	free(got);
	free(exp);
}

/* --- bulk ----------------------------------------------------------- */

static const char	*hook_ifname;
static int		 hook_fired;

/* In mid-dump, change one peer: the dump must start again. */
static void
hook(int attempt, int part)
{
	struct wgk_set	 s;
	struct wgk_peer	 p;
	char		 err[OMNI_MSGSIZ];
	struct wgk_peer	*w = &want[nwant / 2];

	if (attempt != 0 || part != 1)
		return;
	memset(&p, 0, sizeof(p));
	memcpy(p.pubkey, w->pubkey, 32);
	p.has_keepalive = 1;
	p.keepalive = w->keepalive = 59;
	memset(&s, 0, sizeof(s));
	s.ifname = hook_ifname;
	s.peers = &p;
	s.npeers = 1;
	if (wgk_apply(&s, err, sizeof(err)) == -1)
		diag("hook: %s", err);
	else
		hook_fired = 1;
}

static int
count_cb(const struct wg_peer_stats *ps, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

static void
bulk(const char *ifname, size_t n, const char *wg)
{
	struct wg_dev		 wd;
	struct wgk_set		 s;
	struct wgk_device	 dev;
	struct wg_peer_req	 pr;
	struct wgk_peer		*w;
	uint8_t			 priv[32], pub[32], gone[32];
	char			 err[OMNI_MSGSIZ], why[256];
	size_t			 cnt;
	double			 t0;
	int			 msgs, r;

	phase("start");
	make_peers(n);
	phase("peers generated");
	randombytes_buf(priv, sizeof(priv));
	/* The kernel keeps (and reports) the key clamped, as X25519 uses it. */
	priv[0] &= 248;
	priv[31] = (priv[31] & 127) | 64;
	t0 = now();
	if (!check(wg_open(&wd, ifname, BACKEND_KERNEL, NULL, err,
	    sizeof(err)) == 0, "kernel backend opens %s", ifname)) {
		diag("%s", err);
		return;
	}
	phase("interface created");
	check(strcmp(wd.wd_ops->name, "kernel") == 0 && wd.wd_ifindex > 0,
	    "the backend in use is \"%s\", ifindex %d", wd.wd_ops->name,
	    wd.wd_ifindex);

	/* The whole set at once, the device attributes first. */
	memset(&s, 0, sizeof(s));
	s.ifname = ifname;
	s.flags = WGDEVICE_F_REPLACE_PEERS;
	s.privkey = priv;
	s.set_port = 1;
	s.port = 51999;
	s.set_fwmark = 1;
	s.fwmark = 0x42;
	s.peers = want;
	s.npeers = nwant;
	t0 = now();
	msgs = wgk_apply(&s, err, sizeof(err));
	if (msgs == -1)
		diag("%s", err);
	check(msgs > 1, "%zu peers (%d allowed IPs) applied in %d SET "
	    "messages of at most %d bytes, each acknowledged (%.1f s)",
	    n, (int)(2 * n + BIG_AIPS), msgs, WGK_MSG_MAX, now() - t0);

	t0 = now();
	r = wgk_fetch(ifname, &dev, err, sizeof(err));
	if (!check(r == 0, "GET_DEVICE reads the device back (%.1f s)",
	    now() - t0)) {
		diag("%s", err);
		goto out;
	}
	check(dev.nmsgs > 1 && dev.nmerged >= 1, "the dump came in %d parts; "
	    "%d peer(s) repeated across parts were merged", dev.nmsgs,
	    dev.nmerged);
	crypto_scalarmult_base(pub, priv);
	check(dev.has_key && memcmp(dev.privkey, priv, 32) == 0 &&
	    memcmp(dev.pubkey, pub, 32) == 0 && dev.listen_port == 51999 &&
	    dev.fwmark == 0x42 && dev.ifindex == (uint32_t)wd.wd_ifindex,
	    "device read back: keys, listen port, fwmark, ifindex");
	check(device_matches(&dev, why, sizeof(why)), "all %zu peers read "
	    "back intact: keys, preshared keys, endpoints, keepalives, "
	    "allowed IPs%s%s", n, why[0] ? ": " : "", why);
	wgk_device_free(&dev);
	why[0] = '\0';
	phase("bulk set, read back and compared");

	/* One peer through the backend operation omnid uses. */
	w = &want[BIG];
	memset(&pr, 0, sizeof(pr));
	memcpy(pr.pubkey, w->pubkey, 32);
	pr.endpoint.sin.sin_family = AF_INET;
	pr.endpoint.sin.sin_port = htons(4242);
	pr.endpoint.sin.sin_addr.s_addr = htonl(0xc6120707);
	omni_prefix_parse("10.250.0.7/32", &pr.allowed);
	pr.keepalive = 15;
	check(wg_set_peer(&wd, &pr, w->psk, err, sizeof(err)) == 0,
	    "set one peer: new endpoint, keepalive, one allowed IP");
	w->endpoint = pr.endpoint;
	w->keepalive = 15;
	w->naips = 1;
	aip_v4(&w->aips[0], 250, 7);
	w->aips[0].addr[2] = 0;
	r = wgk_fetch(ifname, &dev, err, sizeof(err));
	check(r == 0 && device_matches(&dev, why, sizeof(why)), "its %d "
	    "allowed IPs were replaced by the one; the other %zu peers are "
	    "untouched%s%s", BIG_AIPS + 2, n - 1, why[0] ? ": " : "", why);
	if (r == 0)
		wgk_device_free(&dev);
	why[0] = '\0';

	phase("one peer updated");

	/* One peer removed. */
	w = &want[GONE];
	memcpy(gone, w->pubkey, 32);
	check(wg_del_peer(&wd, gone, err, sizeof(err)) == 0, "remove one "
	    "peer");
	free(w->aips);
	*w = want[--nwant];
	r = wgk_fetch(ifname, &dev, err, sizeof(err));
	check(r == 0 && device_matches(&dev, why, sizeof(why)) &&
	    want_find(gone) == NULL, "it is gone, the other %zu are intact%s%s",
	    nwant, why[0] ? ": " : "", why);
	if (r == 0)
		wgk_device_free(&dev);
	why[0] = '\0';
	cnt = 0;
	r = wg_get_peers(&wd, count_cb, &cnt, err, sizeof(err));
	check(r == (int)nwant && cnt == nwant, "wg_get_peers reports %zu "
	    "peers", cnt);

	phase("one peer removed");

	/* wireguard-tools reads the kernel too. */
	wg_agrees(wg, ifname, priv, 51999, 0x42);
	phase("wg show compared");

	/* A change in the middle of a dump: it starts again. */
	hook_ifname = ifname;
	wgk_dump_hook = hook;
	r = wgk_fetch(ifname, &dev, err, sizeof(err));
	wgk_dump_hook = NULL;
	check(r == 0 && hook_fired && dev.restarts >= 1, "a dump interrupted "
	    "by a change (NLM_F_DUMP_INTR) was started again (%d restart(s))",
	    r == 0 ? dev.restarts : -1);
	check(r == 0 && device_matches(&dev, why, sizeof(why)),
	    "the restarted dump holds the change and every peer%s%s",
	    why[0] ? ": " : "", why);
	if (r == 0)
		wgk_device_free(&dev);

	phase("interrupted dump");

	/* Errors in words. */
	memset(&pr, 0, sizeof(pr));
	omni_prefix_parse("10.250.0.8/32", &pr.allowed);
	r = wg_set_peer(&wd, &pr, NULL, err, sizeof(err));
	check(r == -1 && strstr(err, "bad public key") != NULL,
	    "an all-zero public key: \"%s\"", err);
	{
		struct wgk_peer	 p;
		struct wgk_aip	 a;

		memset(&p, 0, sizeof(p));
		randombytes_buf(p.pubkey, 32);
		aip_v4(&a, 251, 1);
		a.cidr = 33;
		p.aips = &a;
		p.naips = 1;
		memset(&s, 0, sizeof(s));
		s.ifname = ifname;
		s.peers = &p;
		s.npeers = 1;
		r = wgk_apply(&s, err, sizeof(err));
		check(r == -1 && errno == EINVAL && strstr(err, "invalid") !=
		    NULL, "the kernel refusing 10.251.0.1/33: \"%s\"", err);
		p.flags = WGPEER_F_REMOVE_ME;
		p.naips = 0;
		(void)wgk_apply(&s, err, sizeof(err));
		s.ifname = "nosuchwg0";
		p.flags = 0;
		r = wgk_apply(&s, err, sizeof(err));
		check(r == -1 && errno == ENODEV && strstr(err,
		    "no such interface") != NULL, "a missing interface: \"%s\"",
		    err);
	}
 out:
	phase("errors");
	check(wg_close(&wd) == 0 && rtnl_ifindex(ifname) == -1,
	    "closing removes the interface");
	phase("interface removed");
}

/* --- without the module, without privileges ------------------------- */

static void
absent(const char *ifname)
{
	struct wg_dev	 wd;
	char		 err[OMNI_MSGSIZ];
	int		 r, e;

	r = wg_open(&wd, ifname, BACKEND_KERNEL, NULL, err, sizeof(err));
	e = errno;
	check(r == -1 && e == WG_EABSENT && strstr(err, "not available") !=
	    NULL && strstr(err, "modprobe wireguard") != NULL,
	    "without the module, backend kernel fails clearly: \"%s\"", err);
	check(rtnl_ifindex(ifname) == -1, "and leaves no interface behind");
	r = wg_open(&wd, ifname, BACKEND_AUTO, "/nonexistent/wireguard-go",
	    err, sizeof(err));
	check(r == -1 && strstr(err, "/nonexistent/wireguard-go") != NULL,
	    "backend auto falls back to userspace (wireguard-go): \"%s\"",
	    err);
}

static void
perm(const char *ifname)
{
	struct wg_dev		 wd;
	struct wg_peer_req	 pr;
	char			 err[OMNI_MSGSIZ], name2[OMNI_IFNAMSIZ];
	uint8_t			 priv[32];
	pid_t			 pid;
	int			 status, r;

	if (!check(wg_open(&wd, ifname, BACKEND_KERNEL, NULL, err,
	    sizeof(err)) == 0, "kernel backend opens %s as root", ifname)) {
		diag("%s", err);
		return;
	}
	randombytes_buf(priv, sizeof(priv));
	check(wg_set_device(&wd, priv, 0, err, sizeof(err)) == 0,
	    "root configures it");
	fflush(stdout);
	switch (pid = fork()) {
	case -1:
		check(0, "fork");
		break;
	case 0:
		/* Leaving uid 0 drops every capability. */
		if (setgroups(0, NULL) == -1 || setresgid(65534, 65534,
		    65534) == -1 || setresuid(65534, 65534, 65534) == -1) {
			check(0, "become nobody");
			_exit(1);
		}
		r = wg_get_peers(&wd, NULL, NULL, err, sizeof(err));
		check(r == -1 && errno == EPERM && strstr(err,
		    "permission denied") != NULL, "unprivileged get: \"%s\"",
		    err);
		memset(&pr, 0, sizeof(pr));
		randombytes_buf(pr.pubkey, 32);
		omni_prefix_parse("10.9.0.1/32", &pr.allowed);
		r = wg_set_peer(&wd, &pr, NULL, err, sizeof(err));
		check(r == -1 && errno == EPERM && strstr(err,
		    "permission denied") != NULL, "unprivileged set: \"%s\"",
		    err);
		snprintf(name2, sizeof(name2), "%.10sx", ifname);
		r = wg_open(&wd, name2, BACKEND_KERNEL, NULL, err,
		    sizeof(err));
		check(r == -1 && errno == EPERM && strstr(err,
		    "permission denied") != NULL, "unprivileged create: "
		    "\"%s\"", err);
		fflush(stdout);
		_exit(failed);
	default:
		if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed = 1;
	}
	check(wg_close(&wd) == 0, "root removes it");
}

int
main(int argc, char *argv[])
{
	const char	*errstr;
	long long	 n;

	if (argc < 3)
		usage();
	log_init(1, LOG_DAEMON);
	log_setverbose(getenv("WGBULK_VERBOSE") != NULL ? 2 : 0);
	log_procinit("wgbulk");
	if (sodium_init() == -1)
		return 1;
	if (!wg_name_valid(argv[2]))
		usage();
	if (strcmp(argv[1], "absent") == 0 && argc == 3)
		absent(argv[2]);
	else if (strcmp(argv[1], "perm") == 0 && argc == 3)
		perm(argv[2]);
	else if (strcmp(argv[1], "bulk") == 0 && argc == 5) {
		n = strtonum(argv[3], GONE + 1, WGK_MAX_PEERS, &errstr);
		if (errstr != NULL)
			usage();
		bulk(argv[2], (size_t)n, argv[4]);
	} else
		usage();
	return failed;
}
