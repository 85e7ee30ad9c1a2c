/*
 * The peer state engine: desired set against applied set.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <string.h>

#include "log.h"
#include "tap.h"
#include "wgctld.h"

static struct iface_info
mkiface(uint32_t ifid, const char *name, uint8_t ownkey, uint32_t keepalive,
    const char *vip)
{
	struct iface_info	 ii;

	memset(&ii, 0, sizeof(ii));
	ii.ifid = ifid;
	strlcpy(ii.name, name, sizeof(ii.name));
	strlcpy(ii.cluster, "lab", sizeof(ii.cluster));
	strlcpy(ii.backend, "userspace", sizeof(ii.backend));
	memset(ii.pubkey, ownkey, sizeof(ii.pubkey));
	omni_prefix_parse(vip, &ii.vip);
	ii.listen_port = 51820;
	ii.mtu = 1420;
	ii.keepalive = keepalive;
	return ii;
}

static struct omni_peer
mkpeer(uint32_t ifid, uint8_t key, const char *vip, const char *ep)
{
	struct omni_peer	 op;

	memset(&op, 0, sizeof(op));
	op.ifid = ifid;
	memset(op.pubkey, key, sizeof(op.pubkey));
	omni_prefix_parse(vip, &op.vip);
	if (ep != NULL)
		omni_addr_parse(ep, 0, &op.endpoint);
	return op;
}

static int
reconf(struct peer_engine *pe, const struct iface_info *ii, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (peers_reconf_iface(pe, &ii[i]) == -1)
			break;
	return peers_reconf_end(pe);
}

/* Send a whole set; returns the interface or NULL when ignored. */
static struct pif *
sendset(struct peer_engine *pe, uint32_t ifid, const struct omni_peer *v,
    int n)
{
	struct peer_set_hdr	 h = { ifid, (uint32_t)n };
	int			 i;

	peers_set_begin(pe, &h);
	for (i = 0; i < n; i++)
		peers_set_peer(pe, &v[i]);
	return peers_set_end(pe, &h);
}

static const struct wg_peer_req *
findreq(const struct wg_peer_req *v, size_t n, uint8_t key)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (v[i].pubkey[0] == key)
			return &v[i];
	return NULL;
}

/* Diff, check the counts, commit. */
static int
no_session(uint32_t ifid, const uint8_t *pubkey)
{
	return 0;
}

static int
live_session(uint32_t ifid, const uint8_t *pubkey)
{
	return 1;
}

static int
sync_counts(struct pif *pi, size_t nset, size_t ndel, struct peer_diff *keep)
{
	struct peer_diff	 d;
	int			 r;

	if (peers_diff(pi, &d) == -1)
		return 0;
	r = d.pd_nset == nset && d.pd_ndel == ndel;
	if (!r)
		printf("# diff: %zu set, %zu del; expected %zu, %zu\n",
		    d.pd_nset, d.pd_ndel, nset, ndel);
	peers_commit(pi, &d);
	if (keep != NULL)
		*keep = d;
	else
		peers_diff_free(&d);
	return r;
}

int
main(void)
{
	struct peer_engine	 pe, pe2;
	struct iface_info	 ifs[2];
	struct omni_peer	 set[4];
	struct peer_diff	 d;
	struct pif		 *pi, *pi2;
	const struct wg_peer_req *r;
	struct peer		*p;
	struct peer_set_hdr	 h;
	char			 buf[OMNI_ADDRSTRLEN];

	log_init(1, LOG_DAEMON);
	peers_init(&pe);
	ifs[0] = mkiface(1, "omni0", 0xee, 25, "10.77.0.1/24");
	ifs[1] = mkiface(2, "omni1", 0xef, 0, "fd00::1/64");
	ok(reconf(&pe, ifs, 2) == 0, "configuration with two interfaces");
	pi = peers_iface(&pe, 1);
	ok(pi != NULL && strcmp(pi->pi_info.name, "omni0") == 0,
	    "interface found by id");

	/* Nothing is diffed before a desired set arrives. */
	ok(sync_counts(pi, 0, 0, NULL), "no desired set: empty diff");

	/* add */
	set[0] = mkpeer(1, 0x01, "10.77.0.2/24", "198.18.0.2:51820");
	set[1] = mkpeer(1, 0x02, "10.77.0.3/24", "198.18.0.3:51820");
	set[2] = mkpeer(1, 0xee, "10.77.0.1/24", "198.18.0.1:51820");
	ok(sendset(&pe, 1, set, 3) == pi, "set of three accepted");
	ok(pi->pi_ndesired == 2, "own key skipped (%zu desired)",
	    pi->pi_ndesired);
	ok(peers_diff(pi, &d) == 0 && d.pd_nset == 2 && d.pd_ndel == 0,
	    "two new peers: two SETs");
	r = findreq(d.pd_set, d.pd_nset, 0x01);
	ok(r != NULL && r->ifid == 1 && r->keepalive == 25,
	    "SET carries interface and keepalive");
	ok(r != NULL && r->allowed.af == AF_INET && r->allowed.plen == 32 &&
	    memcmp(r->allowed.addr, "\x0a\x4d\x00\x02", 4) == 0,
	    "allowed IP is the VIP as /32");
	ok(r != NULL && strcmp(omni_addr_str(&r->endpoint, buf, sizeof(buf)),
	    "198.18.0.2:51820") == 0, "endpoint %s", buf);
	ok(findreq(d.pd_set, d.pd_nset, 0xee) == NULL, "no SET for own key");
	peers_commit(pi, &d);
	peers_diff_free(&d);
	ok(pi->pi_napplied == 2, "two applied");
	ok(sync_counts(pi, 0, 0, NULL), "same set again: nothing to do");
	ok(sendset(&pe, 1, set, 3) == pi && sync_counts(pi, 0, 0, NULL),
	    "resent identical set: nothing to do");

	/* update endpoint */
	set[1] = mkpeer(1, 0x02, "10.77.0.3/24", "198.18.0.33:4000");
	sendset(&pe, 1, set, 2);
	ok(peers_diff(pi, &d) == 0 && d.pd_nset == 1 && d.pd_ndel == 0 &&
	    d.pd_set[0].pubkey[0] == 0x02, "changed endpoint: one SET");
	peers_commit(pi, &d);
	peers_diff_free(&d);

	/*
	 * issue 7: with a session check, an endpoint change of a peer
	 * without a live session is a DEL and a SET (WireGuard would
	 * otherwise wait 5 s to initiate again); with a live session it
	 * stays a move.
	 */
	peers_set_session_check(no_session);
	set[1] = mkpeer(1, 0x02, "10.77.0.3/24", "198.18.0.34:4000");
	sendset(&pe, 1, set, 2);
	ok(peers_diff(pi, &d) == 0 && d.pd_nset == 1 && d.pd_ndel == 1 &&
	    d.pd_del[0].pubkey[0] == 0x02 && d.pd_set[0].pubkey[0] == 0x02,
	    "endpoint change without a session: DEL and SET");
	peers_commit(pi, &d);
	peers_diff_free(&d);
	ok(pi->pi_napplied == 2, "both still applied after the re-add");
	set[1] = mkpeer(1, 0x02, "10.77.0.3/24", "198.18.0.34:4000");
	sendset(&pe, 1, set, 2);
	ok(sync_counts(pi, 0, 0, NULL), "re-added peer: nothing left to do");
	peers_set_session_check(live_session);
	set[1] = mkpeer(1, 0x02, "10.77.0.3/24", "198.18.0.33:4000");
	sendset(&pe, 1, set, 2);
	ok(sync_counts(pi, 1, 0, NULL),
	    "endpoint change with a live session: a SET only");
	peers_set_session_check(NULL);

	/* update VIP */
	set[1] = mkpeer(1, 0x02, "10.77.0.30/24", "198.18.0.33:4000");
	sendset(&pe, 1, set, 2);
	ok(sync_counts(pi, 1, 0, NULL), "changed VIP: one SET");

	/* VIP with a different prefix length only: no change */
	set[1] = mkpeer(1, 0x02, "10.77.0.30/16", "198.18.0.33:4000");
	sendset(&pe, 1, set, 2);
	ok(sync_counts(pi, 0, 0, NULL), "VIP prefix length alone: no SET");

	/* remove */
	sendset(&pe, 1, set, 1);
	ok(peers_diff(pi, &d) == 0 && d.pd_nset == 0 && d.pd_ndel == 1 &&
	    d.pd_del[0].pubkey[0] == 0x02 && d.pd_del[0].ifid == 1,
	    "peer gone: one DEL");
	peers_commit(pi, &d);
	peers_diff_free(&d);
	ok(pi->pi_napplied == 1, "one applied");

	/* empty set removes all */
	ok(sendset(&pe, 1, NULL, 0) == pi && sync_counts(pi, 0, 1, NULL),
	    "empty set: everything removed");
	ok(pi->pi_napplied == 0, "none applied");

	/* bad sets are ignored as a whole */
	set[0] = mkpeer(1, 0x01, "10.77.0.2/24", "198.18.0.2:51820");
	set[1] = mkpeer(1, 0x02, "10.77.0.3/24", "198.18.0.3:51820");
	sendset(&pe, 1, set, 2);
	sync_counts(pi, 2, 0, NULL);
	ok(sendset(&pe, 9, set, 2) == NULL, "set for unknown ifid ignored");
	set[2] = mkpeer(1, 0x00, "10.77.0.4/24", "198.18.0.4:51820");
	ok(sendset(&pe, 1, set, 3) == NULL, "zero key: set ignored");
	set[2] = mkpeer(1, 0x03, "10.77.0.4/24", "198.18.0.4:51820");
	set[2].vip.af = 77;
	ok(sendset(&pe, 1, set, 3) == NULL, "bad VIP family: set ignored");
	set[2] = mkpeer(1, 0x03, "10.77.0.4/24", "198.18.0.4:51820");
	set[2].endpoint.sa.sa_family = AF_UNIX;
	ok(sendset(&pe, 1, set, 3) == NULL, "bad endpoint family: ignored");
	set[2] = mkpeer(2, 0x03, "10.77.0.4/24", "198.18.0.4:51820");
	ok(sendset(&pe, 1, set, 3) == NULL, "peer of other ifid: ignored");
	set[2] = mkpeer(1, 0x01, "10.77.0.9/24", "198.18.0.9:51820");
	ok(sendset(&pe, 1, set, 3) == NULL, "duplicate key: ignored");
	h.ifid = 1;
	h.count = 3;
	peers_set_begin(&pe, &h);
	peers_set_peer(&pe, &set[0]);
	peers_set_peer(&pe, &set[1]);
	ok(peers_set_end(&pe, &h) == NULL, "count mismatch: ignored");
	h.count = 1;
	peers_set_begin(&pe, &h);
	peers_set_peer(&pe, &set[0]);
	ok(peers_set_peer(&pe, &set[1]) == -1 && peers_set_end(&pe, &h) ==
	    NULL, "more peers than announced: ignored");
	h.count = 2;
	ok(peers_set_end(&pe, &h) == NULL, "END without BEGIN ignored");
	ok(pi->pi_ndesired == 2 && sync_counts(pi, 0, 0, NULL),
	    "after bad sets the last good set stands");
	/* an interrupted set followed by a good one */
	h.ifid = 1;
	h.count = 2;
	peers_set_begin(&pe, &h);
	peers_set_peer(&pe, &set[0]);
	ok(sendset(&pe, 1, set, 2) == pi && sync_counts(pi, 0, 0, NULL),
	    "unfinished set replaced by a new one");
	/* a peer claiming our VIP, two peers with one VIP */
	set[2] = mkpeer(1, 0x05, "10.77.0.1/24", "198.18.0.5:51820");
	set[3] = mkpeer(1, 0x06, "10.77.0.2/24", "198.18.0.6:51820");
	ok(sendset(&pe, 1, set, 4) == pi && pi->pi_ndesired == 2,
	    "own VIP and duplicate VIP skipped");
	ok(sync_counts(pi, 0, 0, NULL), "so nothing changes");
	set[2] = mkpeer(1, 0x05, "10.78.0.5/24", "198.18.0.5:51820");
	set[3] = mkpeer(1, 0x06, "fd00::6/64", "198.18.0.6:51820");
	ok(sendset(&pe, 1, set, 4) == pi && pi->pi_ndesired == 2 &&
	    sync_counts(pi, 0, 0, NULL),
	    "VIPs outside the interface prefix skipped");

	/* IPv6 VIP and endpoint */
	set[2] = mkpeer(2, 0x07, "fd00::7/64", "[2001:db8::7]:51820");
	pi2 = sendset(&pe, 2, &set[2], 1);
	ok(pi2 != NULL && peers_diff(pi2, &d) == 0 && d.pd_nset == 1 &&
	    d.pd_set[0].allowed.af == AF_INET6 &&
	    d.pd_set[0].allowed.plen == 128 && d.pd_set[0].keepalive == 0,
	    "IPv6 peer: /128, keepalive off");
	peers_commit(pi2, &d);
	peers_diff_free(&d);

	/* keepalive change in a reload re-sets every peer */
	ifs[0].keepalive = 15;
	ok(reconf(&pe, ifs, 2) == 0 && peers_iface(&pe, 1) == pi,
	    "reload keeps the interface");
	ok(sync_counts(pi, 2, 0, NULL), "changed keepalive: peers SET again");
	ok(sync_counts(pi2, 0, 0, NULL), "other interface untouched");

	/* a reload that shrinks the prefix removes peers now outside it */
	omni_prefix_parse("10.77.0.1/31", &ifs[0].vip);
	ok(reconf(&pe, ifs, 2) == 0 && sync_counts(pi, 0, 2, NULL),
	    "prefix shrunk: both peers removed");
	omni_prefix_parse("10.77.0.1/24", &ifs[0].vip);
	ok(reconf(&pe, ifs, 2) == 0 && sync_counts(pi, 2, 0, NULL),
	    "prefix restored: both peers set again");

	/* a bad reload keeps the old configuration */
	ifs[1].name[0] = '\0';
	ok(reconf(&pe, ifs, 2) == -1 && peers_iface(&pe, 2) == pi2,
	    "bad reload ignored");
	ifs[1] = mkiface(1, "omni9", 0xef, 0, "fd00::1/64");
	ok(reconf(&pe, ifs, 2) == -1, "duplicate ifid in reload ignored");

	/* restart: a new engine restored from what the parent applied */
	peers_init(&pe2);
	ifs[1] = mkiface(2, "omni1", 0xef, 0, "fd00::1/64");
	ok(reconf(&pe2, ifs, 2) == 0, "restarted engine configured");
	RB_FOREACH(p, peer_tree, &pi->pi_applied) {
		struct wg_peer_req	 q;

		memset(&q, 0, sizeof(q));
		q.ifid = 1;
		memcpy(q.pubkey, p->p_pubkey, OMNI_KEYLEN);
		q.endpoint = p->p_endpoint;
		q.allowed = p->p_vip;
		q.keepalive = p->p_keepalive;
		peers_state_peer(&pe2, &q);
	}
	RB_FOREACH(p, peer_tree, &pi2->pi_applied) {
		struct wg_peer_req	 q;

		memset(&q, 0, sizeof(q));
		q.ifid = 2;
		memcpy(q.pubkey, p->p_pubkey, OMNI_KEYLEN);
		q.endpoint = p->p_endpoint;
		q.allowed = p->p_vip;
		q.keepalive = p->p_keepalive;
		peers_state_peer(&pe2, &q);
	}
	ok(peers_state_end(&pe2) == 0, "applied state accepted");
	pi = peers_iface(&pe2, 1);
	pi2 = peers_iface(&pe2, 2);
	ok(pi->pi_napplied == 2 && pi2->pi_napplied == 1,
	    "applied sets restored");
	ok(sync_counts(pi, 0, 0, NULL), "before the first set: no removal");
	/* signald may never send another set: a reload still applies */
	ifs[0].keepalive = 20;
	ok(reconf(&pe2, ifs, 2) == 0 && sync_counts(pi, 2, 0, NULL),
	    "before the first set: a reload's new keepalive reaches both");
	ifs[0].keepalive = 15;
	ok(reconf(&pe2, ifs, 2) == 0 && sync_counts(pi, 2, 0, NULL),
	    "and the old one again");
	ok(sendset(&pe2, 1, set, 2) == pi && sync_counts(pi, 0, 0, NULL),
	    "same set after restart: no spurious change");
	ok(sendset(&pe2, 2, &set[2], 1) == pi2 &&
	    sync_counts(pi2, 0, 0, NULL), "IPv6 side: no spurious change");
	/* and a real change still shows */
	set[1] = mkpeer(1, 0x02, "10.77.0.3/24", "198.18.0.99:51820");
	sendset(&pe2, 1, set, 2);
	ok(sync_counts(pi, 1, 0, NULL), "after restart a real change is SET");

	/* state that arrives before the configuration */
	peers_free(&pe2);
	{
		struct wg_peer_req	 q;

		memset(&q, 0, sizeof(q));
		q.ifid = 1;
		memset(q.pubkey, 0x01, OMNI_KEYLEN);
		omni_addr_parse("198.18.0.2:51820", 0, &q.endpoint);
		omni_prefix_parse("10.77.0.2/32", &q.allowed);
		q.keepalive = 15;
		peers_state_peer(&pe2, &q);
		q.ifid = 5;		/* an interface not configured */
		peers_state_peer(&pe2, &q);
		ok(peers_state_end(&pe2) == 0, "state before configuration");
		memset(q.pubkey, 0, OMNI_KEYLEN);
		ok(peers_state_peer(&pe2, &q) == -1 &&
		    peers_state_end(&pe2) == -1, "zero key in state: ignored");
	}
	ok(reconf(&pe2, ifs, 2) == 0, "then the configuration");
	pi = peers_iface(&pe2, 1);
	ok(pi != NULL && pi->pi_napplied == 1 && peers_iface(&pe2, 5) == NULL,
	    "applied set adopted, unconfigured interface dropped");
	set[0] = mkpeer(1, 0x01, "10.77.0.2/24", "198.18.0.2:51820");
	ok(sendset(&pe2, 1, set, 1) == pi && sync_counts(pi, 0, 0, NULL),
	    "and no spurious change");

	/* an interface removed by a reload forgets its peers */
	ok(reconf(&pe2, &ifs[1], 1) == 0 && peers_iface(&pe2, 1) == NULL,
	    "interface dropped by reload");
	ok(sendset(&pe2, 1, set, 1) == NULL, "its peer sets are ignored");

	/* helpers */
	{
		struct omni_prefix	 f, a;

		omni_prefix_parse("10.77.0.0/24", &f);
		omni_prefix_parse("10.77.0.9", &a);
		ok(peers_prefix_match(&f, &a), "prefix filter matches");
		omni_prefix_parse("10.78.0.9", &a);
		ok(!peers_prefix_match(&f, &a), "prefix filter rejects");
		omni_prefix_parse("10.77.0.9/20", &f);
		omni_prefix_parse("10.77.15.1", &a);
		ok(peers_prefix_match(&f, &a), "odd prefix length matches");
		omni_prefix_parse("fd00::/8", &f);
		ok(!peers_prefix_match(&f, &a), "family mismatch rejects");
	}

	peers_free(&pe);
	peers_free(&pe2);
	return tap_done();
}
