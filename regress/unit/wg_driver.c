/*
 * Test driver of the userspace WireGuard backend, run by
 * regress/wg_backend.t as root inside a private network namespace:
 *
 *	wg_driver [-c] [-s statefile] -k keyfile ifname wireguard-go
 *
 * Prints "ok - ..." / "not ok - ..." lines (the script numbers them)
 * and exits 1 if anything failed.  -c drops capabilities the way omnid
 * does first.  With -s, once the device holds its final peer, the
 * expected state is written to statefile and the driver waits for
 * statefile.go, so the script can compare it with wg show.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <ifaddrs.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "omni.h"
#include "caps.h"
#include "identity.h"
#include "rtnl.h"
#include "wg.h"

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

static __attribute__((noreturn)) void
die(const char *what)
{
	fprintf(stderr, "wg_driver: %s failed\n", what);
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: wg_driver [-c] [-s statefile] -k keyfile "
	    "ifname wireguard-go\n");
	exit(2);
}

/* A capability set from /proc/PID/status ("CapEff" ...). */
static uint64_t
proc_caps(pid_t pid, const char *which)
{
	char		 path[64], line[256];
	FILE		*fp;
	uint64_t	 v = UINT64_MAX;
	size_t		 wl = strlen(which);

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/status");
	else
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return v;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, which, wl) == 0 && line[wl] == ':')
			v = strtoull(line + wl + 1, NULL, 16);
	fclose(fp);
	return v;
}

static void
capcheck(pid_t pid, const char *which, uint64_t want, const char *desc)
{
	uint64_t	 v = proc_caps(pid, which);

	check(v == want, "%s %016llx %s (want %016llx)", which,
	    (unsigned long long)v, desc, (unsigned long long)want);
}

static int
link_info(const char *name, int *up, int *mtu)
{
	struct ifreq	 ifr;
	int		 s, rv = -1;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		*up = (ifr.ifr_flags & IFF_UP) != 0;
		if (ioctl(s, SIOCGIFMTU, &ifr) == 0) {
			*mtu = ifr.ifr_mtu;
			rv = 0;
		}
	}
	close(s);
	return rv;
}

/* Whether the interface has this address. */
static int
has_addr(const char *name, const struct omni_prefix *p)
{
	struct ifaddrs	*ifap, *ifa;
	int		 found = 0;

	if (getifaddrs(&ifap) == -1)
		return 0;
	for (ifa = ifap; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || strcmp(ifa->ifa_name, name) != 0 ||
		    ifa->ifa_addr->sa_family != p->af)
			continue;
		if (p->af == AF_INET && memcmp(&((struct sockaddr_in *)
		    ifa->ifa_addr)->sin_addr, p->addr, 4) == 0)
			found = 1;
		if (p->af == AF_INET6 && memcmp(&((struct sockaddr_in6 *)
		    ifa->ifa_addr)->sin6_addr, p->addr, 16) == 0)
			found = 1;
	}
	freeifaddrs(ifap);
	return found;
}

#define NPEERS	4

struct seen {
	int			 n;
	struct wg_peer_stats	 p[NPEERS];
};

static int
seen_cb(const struct wg_peer_stats *ps, void *arg)
{
	struct seen	*s = arg;

	if (s->n < NPEERS)
		s->p[s->n] = *ps;
	s->n++;
	return 0;
}

static const struct wg_peer_stats *
seen_find(const struct seen *s, const uint8_t pub[32])
{
	int	 i;

	for (i = 0; i < s->n && i < NPEERS; i++)
		if (memcmp(s->p[i].pubkey, pub, 32) == 0)
			return &s->p[i];
	return NULL;
}

static int
addr_eq(const struct omni_addr *a, const struct omni_addr *b)
{
	char	 x[OMNI_ADDRSTRLEN], y[OMNI_ADDRSTRLEN];

	return strcmp(omni_addr_str(a, x, sizeof(x)),
	    omni_addr_str(b, y, sizeof(y))) == 0;
}

static void
mkpeer(struct wg_peer_req *pr, const char *ep, const char *allowed,
    uint16_t keepalive)
{
	uint8_t	 priv[32];

	memset(pr, 0, sizeof(*pr));
	randombytes_buf(priv, sizeof(priv));
	crypto_scalarmult_base(pr->pubkey, priv);
	if (ep != NULL && omni_addr_parse(ep, 0, &pr->endpoint) == -1)
		die(ep);
	if (omni_prefix_parse(allowed, &pr->allowed) == -1)
		die(allowed);
	pr->keepalive = keepalive;
}

static int
sock_exists(const char *ifname)
{
	char		 path[128];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/%s.sock", WG_UAPI_DIR, ifname);
	return lstat(path, &st) == 0;
}

/* Write the expected state, wait for the script to look at wg show. */
static void
checkpoint(const char *state, const uint8_t pub[32], uint16_t port,
    const struct wg_peer_req *pr)
{
	char		 tmp[512], go[512], b64[OMNI_KEY_B64LEN];
	char		 ep[OMNI_ADDRSTRLEN], pfx[OMNI_PREFIXSTRLEN];
	FILE		*fp;
	struct stat	 st;
	int		 i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	snprintf(go, sizeof(go), "%s.go", state);
	if ((fp = fopen(tmp, "w")) == NULL) {
		check(0, "write %s: %s", tmp, strerror(errno));
		return;
	}
	omni_key_to_base64(pub, b64, sizeof(b64));
	fprintf(fp, "iface %s %u\n", b64, (unsigned)port);
	omni_key_to_base64(pr->pubkey, b64, sizeof(b64));
	fprintf(fp, "peer %s %s %s %u\n", b64,
	    omni_addr_str(&pr->endpoint, ep, sizeof(ep)),
	    omni_prefix_str(&pr->allowed, pfx, sizeof(pfx)),
	    (unsigned)pr->keepalive);
	fclose(fp);
	if (rename(tmp, state) == -1) {
		check(0, "rename %s: %s", tmp, strerror(errno));
		return;
	}
	for (i = 0; i < 600 && stat(go, &st) == -1; i++)
		usleep(50000);
	check(i < 600, "script finished looking at the device");
}

static void
test_kill_other_uid(void)
{
	pid_t	 pid;
	int	 status, r;

	switch (pid = fork()) {
	case -1:
		check(0, "fork: %s", strerror(errno));
		return;
	case 0:
		if (setresgid(65534, 65534, 65534) == -1 ||
		    setresuid(65534, 65534, 65534) == -1)
			_exit(3);
		for (;;)
			pause();
	}
	usleep(100000);
	r = kill(pid, SIGTERM);
	check(r == 0, "SIGTERM to a child running as another uid works "
	    "after caps_drop_parent (%s)", r == 0 ? "ok" : strerror(errno));
	if (r == -1)
		return;		/* cannot reach it: it dies with us */
	check(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGTERM, "that child died of SIGTERM");
}

int
main(int argc, char *argv[])
{
	struct wg_dev		 wd, wd2, wd3;
	struct wg_peer_req	 pa, pb;
	struct omni_prefix	 v4, v6;
	struct seen		 s;
	const struct wg_peer_stats *ps;
	const char		*state = NULL, *keyfile = NULL, *ifname, *wggo;
	uint8_t			 priv[32], pub[32], psk[32];
	uint64_t		 mask;
	char			 err[OMNI_MSGSIZ];
	int			 ch, dropcaps = 0, up = 0, mtu = 0, n, status;
	pid_t			 pid;

	while ((ch = getopt(argc, argv, "ck:s:")) != -1) {
		switch (ch) {
		case 'c':
			dropcaps = 1;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 's':
			state = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || keyfile == NULL)
		usage();
	ifname = argv[0];
	wggo = argv[1];

	log_init(1, LOG_DAEMON);
	log_setverbose(1);
	log_procinit("wg_driver");
	if (sodium_init() < 0)
		die("sodium_init");
	signal(SIGPIPE, SIG_IGN);

	check(caps_check() == 0, "caps_check: running with CAP_NET_ADMIN");
	mask = caps_parent_mask();
	if (dropcaps) {
		caps_drop_parent();
		capcheck(0, "CapEff", mask, "after caps_drop_parent");
		capcheck(0, "CapPrm", mask, "after caps_drop_parent");
		capcheck(0, "CapBnd", mask, "after caps_drop_parent");
		capcheck(0, "CapInh", mask, "after caps_drop_parent");
		check(caps_check() == 0, "caps_check still passes");
		test_kill_other_uid();
	}

	/* Backends. */
	err[0] = '\0';
	check(wg_open(&wd2, ifname, BACKEND_KERNEL, wggo, err,
	    sizeof(err)) == -1 && strstr(err, "kernel WireGuard is not "
	    "available") != NULL, "kernel backend refused: %s", err);
	err[0] = '\0';
	check(wg_open(&wd2, "bad/name", BACKEND_USERSPACE, wggo, err,
	    sizeof(err)) == -1, "bad interface name refused: %s", err);

	err[0] = '\0';
	if (!check(wg_open(&wd, ifname, BACKEND_AUTO, wggo, err,
	    sizeof(err)) == 0, "wg_open %s (auto) %s", ifname, err))
		return 1;
	check(wd.wd_backend == BACKEND_USERSPACE && wd.wd_pid > 0,
	    "auto resolved to userspace, wireguard-go pid %d",
	    (int)wd.wd_pid);
	check(wd.wd_ifindex > 0 && rtnl_ifindex(ifname) == wd.wd_ifindex,
	    "ifindex %d matches rtnetlink", wd.wd_ifindex);
	if (dropcaps)
		capcheck(wd.wd_pid, "CapEff", mask,
		    "of wireguard-go: the bounding set only");
	check(wg_reaped(&wd, wd.wd_pid + 100000, 0) == 0,
	    "wg_reaped ignores another pid");

	err[0] = '\0';
	check(wg_open(&wd2, ifname, BACKEND_USERSPACE, wggo, err,
	    sizeof(err)) == -1 && strstr(err, "already managed by another "
	    "wireguard-go") != NULL, "second open refused: %s", err);

	/* Device. */
	err[0] = '\0';
	if (!check(identity_load(keyfile, 1, priv, pub, err, sizeof(err)) ==
	    0, "identity %s %s", keyfile, err))
		goto close;
	err[0] = '\0';
	check(wg_set_device(&wd, priv, 51820, err, sizeof(err)) == 0,
	    "set device key and port %s", err);
	sodium_memzero(priv, sizeof(priv));

	/* Addresses and link. */
	omni_prefix_parse("10.99.0.1/24", &v4);
	omni_prefix_parse("fd99::1/64", &v6);
	check(rtnl_addr_add(wd.wd_ifindex, &v4) == 0, "add 10.99.0.1/24");
	check(rtnl_addr_add(wd.wd_ifindex, &v4) == 0,
	    "add it again (replace)");
	check(rtnl_addr_add(wd.wd_ifindex, &v6) == 0, "add fd99::1/64");
	check(rtnl_link_set(wd.wd_ifindex, 1, 1420) == 0, "link up mtu 1420");
	n = link_info(ifname, &up, &mtu);
	check(n == 0 && up && mtu == 1420,
	    "link is up with mtu %d", mtu);
	check(has_addr(ifname, &v4) && has_addr(ifname, &v6),
	    "both addresses present");
	check(rtnl_link_set(wd.wd_ifindex + 100000, 1, 0) == -1,
	    "link set on a missing ifindex fails");

	/* Peers. */
	mkpeer(&pa, "10.99.0.2:51820", "10.99.0.2/32", 25);
	mkpeer(&pb, "[fd99::3]:51821", "10.99.0.3/32", 0);
	randombytes_buf(psk, sizeof(psk));
	err[0] = '\0';
	check(wg_set_peer(&wd, &pa, psk, err, sizeof(err)) == 0,
	    "set peer A (psk, v4 endpoint) %s", err);
	err[0] = '\0';
	check(wg_set_peer(&wd, &pb, NULL, err, sizeof(err)) == 0,
	    "set peer B (v6 endpoint) %s", err);
	memset(&s, 0, sizeof(s));
	n = wg_get_peers(&wd, seen_cb, &s, err, sizeof(err));
	check(n == 2 && s.n == 2, "get_peers returns both (%d) %s", n, err);
	check((ps = seen_find(&s, pa.pubkey)) != NULL &&
	    addr_eq(&ps->endpoint, &pa.endpoint), "peer A endpoint");
	check((ps = seen_find(&s, pb.pubkey)) != NULL &&
	    addr_eq(&ps->endpoint, &pb.endpoint), "peer B endpoint");

	/* Incremental update of A leaves B alone. */
	omni_addr_parse("10.99.0.4:51822", 0, &pa.endpoint);
	err[0] = '\0';
	check(wg_set_peer(&wd, &pa, psk, err, sizeof(err)) == 0,
	    "update peer A endpoint %s", err);
	memset(&s, 0, sizeof(s));
	n = wg_get_peers(&wd, seen_cb, &s, err, sizeof(err));
	check(n == 2 && (ps = seen_find(&s, pa.pubkey)) != NULL &&
	    addr_eq(&ps->endpoint, &pa.endpoint) &&
	    seen_find(&s, pb.pubkey) != NULL, "A updated, B still there");

	err[0] = '\0';
	check(wg_del_peer(&wd, pb.pubkey, err, sizeof(err)) == 0,
	    "delete peer B %s", err);
	memset(&s, 0, sizeof(s));
	n = wg_get_peers(&wd, seen_cb, &s, err, sizeof(err));
	check(n == 1 && seen_find(&s, pa.pubkey) != NULL,
	    "get_peers returns only A (%d)", n);
	pb.allowed.af = 99;
	err[0] = '\0';
	check(wg_set_peer(&wd, &pb, NULL, err, sizeof(err)) == -1,
	    "bad allowed prefix refused: %s", err);

	if (state != NULL)
		checkpoint(state, pub, 51820, &pa);

	check(rtnl_addr_flush(wd.wd_ifindex) == 0 && !has_addr(ifname, &v4) &&
	    !has_addr(ifname, &v6), "addresses flushed");

 close:
	check(wg_close(&wd) == 0, "wg_close");
	check(rtnl_ifindex(ifname) == -1 && errno == ENODEV,
	    "link removed");
	check(!sock_exists(ifname), "UAPI socket removed");
	check(wd.wd_pid == -1 && waitpid(-1, &status, WNOHANG) == -1 &&
	    errno == ECHILD, "wireguard-go reaped");

	/* A wireguard-go that dies: reaper, then a stale socket. */
	err[0] = '\0';
	if (check(wg_open(&wd2, ifname, BACKEND_USERSPACE, wggo, err,
	    sizeof(err)) == 0, "reopen %s", err)) {
		pid = wd2.wd_pid;
		kill(pid, SIGKILL);
		check(waitpid(pid, &status, 0) == pid &&
		    wg_reaped(&wd2, pid, status) == 1 && wd2.wd_pid == -1,
		    "wg_reaped recognises its wireguard-go");
		err[0] = '\0';
		check(wg_set_device(&wd2, pub, 0, err, sizeof(err)) == -1 &&
		    strstr(err, "not running") != NULL, "then: %s", err);
		check(sock_exists(ifname), "SIGKILL leaves a stale socket");
		err[0] = '\0';
		check(wg_open(&wd3, ifname, BACKEND_USERSPACE, wggo, err,
		    sizeof(err)) == 0, "open over the stale socket %s", err);
		check(wg_close(&wd3) == 0 && rtnl_ifindex(ifname) == -1,
		    "closed again");
		check(wg_close(&wd2) == 0 && !sock_exists(ifname),
		    "closing the dead device is harmless");
	}
	check(rtnl_link_del(ifname) == 0, "deleting a missing link is fine");
	return failed;
}
