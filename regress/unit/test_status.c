/*
 * wgctld/status.c: paths, handshake counting, the health summary and
 * the nucleus rows, driven with made-up times.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "wgctld.h"
#include "tap.h"

#define T0	1700000000

static struct peer_engine	 pe;

static void
iface_add(uint32_t ifid, const char *name)
{
	struct iface_info	 ii;

	memset(&ii, 0, sizeof(ii));
	ii.ifid = ifid;
	strlcpy(ii.name, name, sizeof(ii.name));
	strlcpy(ii.cluster, "lab", sizeof(ii.cluster));
	omni_prefix_parse("10.77.0.1/24", &ii.vip);
	peers_reconf_iface(&pe, &ii);
}

static struct wg_peer_stats
stat_of(uint32_t ifid, int keybyte, int64_t hs)
{
	struct wg_peer_stats	 s;

	memset(&s, 0, sizeof(s));
	s.ifid = ifid;
	memset(s.pubkey, keybyte, OMNI_KEYLEN);
	s.last_handshake = hs;
	return s;
}

static struct sig_status
sig_of(uint32_t ifid, const char *addr, int registered, int64_t rtt)
{
	struct sig_status	 s;

	memset(&s, 0, sizeof(s));
	s.ifid = ifid;
	omni_addr_parse(addr, 51900, &s.addr);
	s.registered = registered;
	s.last_answer = registered ? T0 : 0;
	s.rtt_us = rtt;
	return s;
}

static struct parent_status
parent_of(int up)
{
	struct parent_status	 ps;

	memset(&ps, 0, sizeof(ps));
	ps.started = T0 - 100;
	ps.running = ps.wanted = PROC_BIT(PROC_SIGNALD) |
	    PROC_BIT(PROC_WGCTLD);
	ps.niface = 1;
	ps.ifid[0] = 1;
	ps.up[0] = up;
	return ps;
}

static void
test_path(void)
{
	ok(status_path(0, T0) == PATH_NONE, "never: no path");
	ok(status_path(T0 - 5, T0) == PATH_DIRECT, "5 s ago: direct");
	ok(status_path(T0 - 179, T0) == PATH_DIRECT, "179 s ago: direct");
	ok(status_path(T0 - 180, T0) == PATH_NONE, "180 s ago: none");
	ok(status_path(T0 + 30, T0) == PATH_DIRECT,
	    "a clock step back keeps it direct");
	ok(strcmp(status_path_name(PATH_RELAYED), "relayed") == 0 &&
	    strcmp(status_path_name(PATH_DIRECT), "direct") == 0 &&
	    strcmp(status_path_name(PATH_NONE), "none") == 0, "path names");
}

static void
test_handshakes(void)
{
	struct wg_peer_stats	 s[3];
	struct pif		*pi;

	pi = peers_iface(&pe, 1);
	/* wgctld started at T0: a handshake from before is not counted. */
	s[0] = stat_of(1, 1, T0 - 50);
	s[1] = stat_of(1, 2, T0 + 1);
	s[2] = stat_of(1, 3, 0);
	status_observe(pi, s, 3, T0 + 2);
	ok(pi->pi_handshakes == 1, "first poll: only the new handshake "
	    "counts (%llu)", (unsigned long long)pi->pi_handshakes);
	ok(pi->pi_nstats == 3 && pi->pi_npath[PATH_DIRECT] == 2 &&
	    pi->pi_npath[PATH_NONE] == 1, "paths: 2 direct, 1 none");
	status_observe(pi, s, 3, T0 + 4);
	ok(pi->pi_handshakes == 1, "nothing new: nothing counted");
	s[0].last_handshake = T0 + 5;
	s[2].last_handshake = T0 + 5;
	status_observe(pi, s, 3, T0 + 6);
	ok(pi->pi_handshakes == 3, "two peers handshook again: 3");
	/* A peer gone and back is new again, its handshake counted. */
	status_observe(pi, s, 2, T0 + 8);
	s[2].last_handshake = T0 + 9;
	status_observe(pi, s, 3, T0 + 10);
	ok(pi->pi_handshakes == 4, "a peer removed and added back: 4");
	status_observe(pi, s, 3, T0 + 400);
	ok(pi->pi_npath[PATH_NONE] == 3, "400 s later all paths are none");
}

static void
test_status(void)
{
	struct ctl_status	 cs;
	struct parent_status	 ps;
	struct sig_status	 ss;

	status_fill(&pe, T0, &cs);
	ok(!cs.healthy && strstr(cs.problem, "no status from omnid yet") !=
	    NULL, "unhealthy before the parent reported: %s", cs.problem);

	ps = parent_of(1);
	ok(status_parent_set(&ps, T0) == 0, "parent status accepted");
	ps.niface = OMNI_MAX_IFACES + 1;
	ok(status_parent_set(&ps, T0) == -1, "too many interfaces refused");
	ps = parent_of(2);
	ok(status_parent_set(&ps, T0) == -1, "up must be 0 or 1");
	ps = parent_of(1);
	ps.running = 1u << 30;
	ok(status_parent_set(&ps, T0) == -1, "unknown process bits refused");

	status_fill(&pe, T0, &cs);
	ok(!cs.healthy && strstr(cs.problem, "omni0: no signaling status") !=
	    NULL, "no signald report: unhealthy (%s)", cs.problem);
	ok(cs.ifaces == 1 && cs.ifaces_up == 1, "1 interface, up");

	ss = sig_of(1, "198.18.0.1", 0, -1);
	ok(status_sig_set(&ss, T0) == 0, "signaling status accepted");
	status_fill(&pe, T0, &cs);
	ok(!cs.healthy && strstr(cs.problem, "not registered") != NULL,
	    "not registered: unhealthy (%s)", cs.problem);

	ss = sig_of(1, "198.18.0.1", 1, 420);
	status_sig_set(&ss, T0 + 1);
	status_fill(&pe, T0 + 1, &cs);
	ok(cs.healthy && cs.problem[0] == '\0' && cs.ifaces_registered == 1,
	    "registered: healthy");
	ok(strcmp(cs.version, OMNI_VERSION) == 0 && cs.started == T0 - 100,
	    "version and start time");

	ps = parent_of(0);
	ps.running &= ~PROC_BIT(PROC_SIGNALD);
	status_parent_set(&ps, T0 + 2);
	status_fill(&pe, T0 + 2, &cs);
	ok(!cs.healthy && strstr(cs.problem, "signald is not running") &&
	    strstr(cs.problem, "omni0 is down"), "child down and interface "
	    "down both named: %s", cs.problem);

	ps = parent_of(1);
	status_parent_set(&ps, T0 + 3);
	status_fill(&pe, T0 + 3 + STATUS_STALE + 1, &cs);
	ok(!cs.healthy && strstr(cs.problem, "no status from omnid for"),
	    "stale reports: unhealthy (%s)", cs.problem);

	ss = sig_of(1, "198.18.0.1", 1, 420);
	ss.registered = 7;
	ok(status_sig_set(&ss, T0) == -1, "registered must be 0 or 1");
	ss = sig_of(1, "198.18.0.1", 1, -2);
	ok(status_sig_set(&ss, T0) == -1, "rtt below -1 refused");
	memset(&ss.addr, 0, sizeof(ss.addr));
	ss.rtt_us = 1;
	ok(status_sig_set(&ss, T0) == -1, "address without family refused");
}

static void
test_nuclei(void)
{
	struct ctl_nucleus	 row;
	struct sig_status	 ss;
	int64_t			 reg;
	int			 it = 0, n = 0, local = 0, edge = 0;
	time_t			 now = T0 + 100;

	status_free();
	status_init(T0);
	ss = sig_of(1, "198.18.0.1", 0, -1);
	status_sig_set(&ss, now);
	ss = sig_of(1, "198.18.0.1", 1, 1500);
	status_sig_set(&ss, now);
	ss = sig_of(1, "198.18.0.1", 1, 900);
	status_sig_set(&ss, now);
	ss = sig_of(1, "198.18.0.9", 0, -1);
	status_sig_set(&ss, now - STATUS_STALE - 5);
	ss = sig_of(0, "0.0.0.0", 0, -1);
	ss.clusters = 2;
	ss.edges = 5;
	status_sig_set(&ss, now);
	while (status_nucleus_next(&pe, now, &it, &row, &reg) == 0) {
		n++;
		if (row.kind == CTL_NUCLEUS_LOCAL) {
			local++;
			ok(row.clusters == 2 && row.edges == 5,
			    "local nucleus: 2 clusters, 5 edges");
		} else {
			edge++;
			ok(strcmp(row.ifname, "omni0") == 0 && row.registered &&
			    row.rtt_us == 900, "edge row: omni0, registered, "
			    "latest rtt");
			ok(reg == 1500, "registration latency: the round trip "
			    "that registered (%lld)", (long long)reg);
		}
	}
	ok(n == 2 && local == 1 && edge == 1,
	    "stale nucleus left out: %d rows", n);
}

/* issue 7: peer paths from signald, their classification and pruning */
static struct peer_path
path_of(uint32_t ifid, int keybyte, int state, int kind)
{
	struct peer_path	 pp;

	memset(&pp, 0, sizeof(pp));
	pp.ifid = ifid;
	memset(pp.pubkey, keybyte, OMNI_KEYLEN);
	pp.state = state;
	pp.kind = kind;
	pp.probe_us = -1;
	if (kind != CAND_NONE) {
		omni_addr_parse("198.18.0.2", 51820, &pp.local);
		omni_addr_parse("203.0.113.5", 40312, &pp.remote);
		pp.probe_us = 1234;
	}
	return pp;
}

/* One interface's peer set: keys 1..n. */
static void
set_peers(uint32_t ifid, int n)
{
	struct peer_set_hdr	 h = { ifid, (uint32_t)n };
	struct omni_peer	 op;
	char			 vip[32];
	int			 i;

	peers_set_begin(&pe, &h);
	for (i = 1; i <= n; i++) {
		memset(&op, 0, sizeof(op));
		op.ifid = ifid;
		memset(op.pubkey, i, OMNI_KEYLEN);
		snprintf(vip, sizeof(vip), "10.77.0.%d/32", 10 + i);
		omni_prefix_parse(vip, &op.vip);
		omni_addr_parse("198.18.0.9", 51820, &op.endpoint);
		peers_set_peer(&pe, &op);
	}
	peers_set_end(&pe, &h);
}

/*
 * A host candidate of the peer: direct-lan at a private or local
 * address (a network we share with the peer), direct at a public one.
 */
static void
test_host_paths(void)
{
	static const struct {
		const char	*addr;
		int		 path;
		const char	*why;
	} t[] = {
		{ "198.18.0.2",		PATH_DIRECT,	"RFC 2544 benchmark (the NAT lab's internet)" },
		{ "203.0.113.5",	PATH_DIRECT,	"public IPv4" },
		{ "8.8.8.8",		PATH_DIRECT,	"public IPv4" },
		{ "9.255.255.255",	PATH_DIRECT,	"just below 10/8" },
		{ "11.0.0.1",		PATH_DIRECT,	"just above 10/8" },
		{ "10.0.0.1",		PATH_DIRECT_LAN, "10/8" },
		{ "10.255.255.254",	PATH_DIRECT_LAN, "10/8, its end" },
		{ "172.15.255.255",	PATH_DIRECT,	"just below 172.16/12" },
		{ "172.16.0.1",		PATH_DIRECT_LAN, "172.16/12" },
		{ "172.31.255.254",	PATH_DIRECT_LAN, "172.16/12, its end" },
		{ "172.32.0.1",		PATH_DIRECT,	"just above 172.16/12" },
		{ "192.168.0.1",	PATH_DIRECT_LAN, "192.168/16" },
		{ "192.169.0.1",	PATH_DIRECT,	"just above 192.168/16" },
		{ "100.63.255.255",	PATH_DIRECT,	"just below 100.64/10" },
		{ "100.64.0.1",		PATH_DIRECT_LAN, "100.64/10 (CGNAT)" },
		{ "100.127.255.254",	PATH_DIRECT_LAN, "100.64/10, its end" },
		{ "100.128.0.1",	PATH_DIRECT,	"just above 100.64/10" },
		{ "169.254.10.20",	PATH_DIRECT_LAN, "169.254/16 link-local" },
		{ "169.253.0.1",	PATH_DIRECT,	"just below 169.254/16" },
		{ "127.0.0.1",		PATH_DIRECT_LAN, "127/8 loopback" },
		{ "127.1.2.3",		PATH_DIRECT_LAN, "127/8 loopback" },
		{ "[2001:db8::1]",	PATH_DIRECT,	"global IPv6" },
		{ "[2a00:1450::5]",	PATH_DIRECT,	"global IPv6" },
		{ "[fd12:3456::1]",	PATH_DIRECT_LAN, "fc00::/7 ULA (fd)" },
		{ "[fc00::1]",		PATH_DIRECT_LAN, "fc00::/7 ULA (fc)" },
		{ "[fe00::1]",		PATH_DIRECT,	"just above fc00::/7" },
		{ "[fe80::1]",		PATH_DIRECT_LAN, "fe80::/10 link-local" },
		{ "[febf::1]",		PATH_DIRECT_LAN, "fe80::/10, its end" },
		{ "[fec0::1]",		PATH_DIRECT,	"just above fe80::/10" },
		{ "[::1]",		PATH_DIRECT_LAN, "::1 loopback" },
		{ "[::2]",		PATH_DIRECT,	"not ::1" },
		{ "[::ffff:192.168.1.20]", PATH_DIRECT_LAN, "IPv4-mapped 192.168/16" },
		{ "[::ffff:10.1.2.3]",	PATH_DIRECT_LAN, "IPv4-mapped 10/8" },
		{ "[::ffff:172.20.0.1]", PATH_DIRECT_LAN, "IPv4-mapped 172.16/12" },
		{ "[::ffff:100.64.0.1]", PATH_DIRECT_LAN, "IPv4-mapped 100.64/10" },
		{ "[::ffff:169.254.1.1]", PATH_DIRECT_LAN, "IPv4-mapped link-local" },
		{ "[::ffff:127.0.0.1]",	PATH_DIRECT_LAN, "IPv4-mapped loopback" },
		{ "[::ffff:198.18.0.2]", PATH_DIRECT,	"IPv4-mapped public" },
		{ "[::10.1.2.3]",	PATH_DIRECT,	"IPv4-compatible (deprecated) is no mapped address" },
	};
	struct peer_path	 pp;
	size_t			 i;
	int			 got;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pp = path_of(1, 1, PROBE_OK, CAND_HOST);
		if (omni_addr_parse(t[i].addr, 51820, &pp.remote) == -1) {
			ok(0, "%s: parses", t[i].addr);
			continue;
		}
		got = status_peer_path(T0 - 5, T0, &pp);
		ok(got == t[i].path, "host candidate %s (%s): %s (got %s)",
		    t[i].addr, t[i].why, status_path_name(t[i].path),
		    status_path_name(got));
	}
}

static void
test_paths(void)
{
	struct peer_path	 pp;
	const struct peer_path	*got;
	uint8_t			 key[OMNI_KEYLEN];

	pp = path_of(1, 1, PROBE_OK, CAND_HOST);
	ok(status_peer_path(T0 - 5, T0, NULL) == PATH_DIRECT,
	    "fresh, nothing probed: direct");
	ok(status_peer_path(T0 - 5, T0, &pp) == PATH_DIRECT,
	    "fresh over a public host candidate (203.0.113.5): direct");
	omni_addr_parse("192.168.1.20", 51820, &pp.remote);
	ok(status_peer_path(T0 - 5, T0, &pp) == PATH_DIRECT_LAN,
	    "fresh over a private host candidate (192.168.1.20): direct-lan");
	pp.kind = CAND_REFLEXIVE;
	ok(status_peer_path(T0 - 5, T0, &pp) == PATH_DIRECT_NAT,
	    "fresh over a reflexive candidate: direct-nat");
	pp.kind = CAND_PEER_REFLEXIVE;
	ok(status_peer_path(T0 - 5, T0, &pp) == PATH_DIRECT_NAT,
	    "fresh over a peer-reflexive candidate: direct-nat");
	pp.kind = CAND_NONE;
	ok(status_peer_path(T0 - 5, T0, &pp) == PATH_DIRECT,
	    "fresh, no candidate in use: direct");
	pp = path_of(1, 1, PROBE_OK, CAND_REFLEXIVE);
	omni_addr_parse("10.1.2.3", 40312, &pp.remote);
	ok(status_peer_path(T0 - 5, T0, &pp) == PATH_DIRECT_NAT,
	    "a reflexive candidate stays direct-nat, also at a private "
	    "address (a carrier's NAT)");
	pp = path_of(1, 1, PROBE_OK, CAND_HOST);
	omni_addr_parse("192.168.1.20", 51820, &pp.remote);
	ok(status_peer_path(T0 - 200, T0, &pp) == PATH_NONE &&
	    status_peer_path(0, T0, &pp) == PATH_NONE,
	    "a probe answer without a fresh handshake is no path");
	ok(strcmp(status_path_name(PATH_DIRECT_LAN), "direct-lan") == 0 &&
	    strcmp(status_path_name(PATH_DIRECT_NAT), "direct-nat") == 0,
	    "path names direct-lan, direct-nat");

	pp = path_of(1, 1, PROBE_FAILED, CAND_NONE);
	strlcpy(pp.reason, "symmetric NAT on both sides", sizeof(pp.reason));
	ok(strcmp(status_path_reason(PATH_NONE, &pp),
	    "symmetric NAT on both sides") == 0, "no path: signald's reason");
	pp.reason[0] = '\0';
	ok(strcmp(status_path_reason(PATH_NONE, &pp),
	    "no candidate pair answered") == 0,
	    "failed without a reason: one is given");
	ok(strcmp(status_path_reason(PATH_DIRECT, &pp), "") == 0 &&
	    strcmp(status_path_reason(PATH_NONE, NULL), "") == 0,
	    "a path, or no probe information: no reason");

	/* stored per (interface, key), replaced, checked */
	set_peers(1, 2);
	pp = path_of(1, 1, PROBE_RUNNING, CAND_NONE);
	ok(status_path_set(&pp) == 0, "a running probe is kept");
	pp = path_of(1, 1, PROBE_OK, CAND_REFLEXIVE);
	ok(status_path_set(&pp) == 0 &&
	    (got = status_path_get(1, pp.pubkey)) != NULL &&
	    got->state == PROBE_OK && got->kind == CAND_REFLEXIVE &&
	    got->probe_us == 1234, "the latest replaces it");
	pp = path_of(1, 2, 9, CAND_HOST);
	ok(status_path_set(&pp) == -1, "a bad probe state is refused");
	pp = path_of(1, 2, PROBE_OK, 7);
	ok(status_path_set(&pp) == -1, "a bad candidate kind is refused");
	pp = path_of(1, 2, PROBE_OK, CAND_HOST);
	pp.remote.sa.sa_family = AF_UNIX;
	ok(status_path_set(&pp) == -1, "a bad address family is refused");
	pp = path_of(1, 2, PROBE_OK, CAND_HOST);
	memset(pp.reason, 'x', sizeof(pp.reason));
	ok(status_path_set(&pp) == -1, "an unterminated reason is refused");
	pp = path_of(1, 2, PROBE_OK, CAND_HOST);
	pp.probe_us = -2;
	ok(status_path_set(&pp) == -1, "a negative probe time is refused");
	ok(status_path_get(1, pp.pubkey) == NULL, "none of them was kept");
	pp = path_of(1, 2, PROBE_OK, CAND_HOST);
	ok(status_path_set(&pp) == 0, "a good one for the second peer");

	/* the peer goes: so does its path; the other one stays */
	set_peers(1, 1);
	status_path_prune(&pe);
	memset(key, 1, sizeof(key));
	ok(status_path_get(1, key) != NULL, "a peer still there keeps its path");
	memset(key, 2, sizeof(key));
	ok(status_path_get(1, key) == NULL, "a peer gone loses its path");
	set_peers(1, 0);
	status_path_prune(&pe);
	memset(key, 1, sizeof(key));
	ok(status_path_get(1, key) == NULL, "an empty set: no path left");
}

int
main(void)
{
	log_init(1, LOG_DAEMON);
	peers_init(&pe);
	status_init(T0);
	iface_add(1, "omni0");
	peers_reconf_end(&pe);

	test_path();
	test_handshakes();
	test_status();
	test_nuclei();
	test_paths();
	test_host_paths();

	status_free();
	peers_free(&pe);
	return tap_done();
}
