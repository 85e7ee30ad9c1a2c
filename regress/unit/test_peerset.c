/*
 * The parent's peer sets (parent/omnid.c), its own handlers on fake
 * channels: each interface keeps the last complete set from signald
 * and a new wgctld gets it after the applied state; a set in progress
 * when wgctld restarts is not interleaved with that replay but goes
 * whole to the new wgctld at its END; a set abandoned half-way, or
 * one with fewer peers than announced, is not kept; a reload replays
 * nothing.
 */
int	 omnid_main(int, char **);
#define main omnid_main
#include "../../parent/omnid.c"
#undef main

#include "tap.h"

static int	 sink = -1;		/* what the parent sent wgctld */
static struct imsgbuf sinkbuf;
static int	 signald_closed;

static void
closed_cb(struct imsgev *iev)
{
	if (iev->peer == PROC_SIGNALD)
		signald_closed = 1;
	imsgev_clear(iev);
}

/* A fresh channel to a (new) child, as after child_start(). */
static void
channel(enum omni_proc p)
{
	struct child	*c = &omnid->o_children[p];
	int		 sv[2];

	if (c->c_iev.ibuf.fd != -1)
		imsgev_clear(&c->c_iev);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	imsgev_init(&c->c_iev, sv[0], p, c->c_table, closed_cb, c);
	c->c_running = 1;
	if (p == PROC_WGCTLD) {
		if (sink != -1)
			close(sink);
		sink = sv[1];
		imsgbuf_init(&sinkbuf, sink);
	} else
		close(sv[1]);
}

static void
setup(void)
{
	struct iface	*ifp;
	int		 p;

	if (sodium_init() == -1)
		abort();
	event_init();
	signal(SIGPIPE, SIG_IGN);
	log_init(1, LOG_DAEMON);
	if ((omnid = calloc(1, sizeof(*omnid))) == NULL)
		abort();
	TAILQ_INIT(&omnid->o_ifaces);
	omnid->o_conffd = -1;
	omnid->o_nucleus_sock = omnid->o_ctl_sock = -1;
	omnid->o_ctl_ro_sock = omnid->o_metrics_sock = -1;
	if ((ifp = calloc(1, sizeof(*ifp))) == NULL)
		abort();
	ifp->if_id = 1;
	strlcpy(ifp->if_conf.name, "omni0", sizeof(ifp->if_conf.name));
	if (omni_prefix_parse("10.77.0.2/24", &ifp->if_conf.address) == -1)
		abort();
	TAILQ_INIT(&ifp->if_peers);
	ifp->if_sock4 = ifp->if_sock6 = -1;
	ifp->if_probe4 = ifp->if_probe6 = -1;
	ifp->if_dev.wd_pid = -1;		/* down: no device to close */
	evtimer_set(&ifp->if_retry, iface_retry, ifp);
	TAILQ_INSERT_TAIL(&omnid->o_ifaces, ifp, if_entry);
	omnid->o_next_ifid = 1;
	for (p = PROC_SIGNALD; p <= PROC_WGCTLD; p++) {
		struct child	*c = &omnid->o_children[p];

		c->c_proc = p;
		c->c_name = p == PROC_SIGNALD ? "signald" : "wgctld";
		c->c_table = p == PROC_SIGNALD ? parent_from_signald :
		    parent_from_wgctld;
		c->c_init = p == PROC_SIGNALD ? parent_send_signald :
		    parent_send_wgctld;
		c->c_pid = getpid();
		c->c_wanted = 1;
		c->c_iev.ibuf.fd = -1;
		channel(p);
	}
}

/*
 * The peer set messages wgctld got since the last call, as a string:
 * "B3" a BEGIN of 3, "P1" the peer numbered 1, "E3" an END of 3.
 */
static const char *
got(void)
{
	static char	 s[16384];
	struct imsg	 im;
	struct peer_set_hdr h;
	struct omni_peer op;
	char		 one[32];
	struct imsgbuf	*ib = &omnid->o_children[PROC_WGCTLD].c_iev.ibuf;
	int		 r;

	s[0] = '\0';
	for (;;) {
		/* both ends non-blocking: write what fits, read it, again */
		if (imsgbuf_write(ib) == -1)
			break;
		while ((r = imsg_get(&sinkbuf, &im)) > 0) {
			one[0] = '\0';
			switch (im.hdr.type) {
			case IMSG_PEERS_BEGIN:
			case IMSG_PEERS_END:
				memcpy(&h, im.data, sizeof(h));
				snprintf(one, sizeof(one), "%c%u ",
				    im.hdr.type == IMSG_PEERS_BEGIN ? 'B' : 'E',
				    h.count);
				break;
			case IMSG_PEERS_PEER:
				memcpy(&op, im.data, sizeof(op));
				snprintf(one, sizeof(one), "P%u ",
				    op.pubkey[0]);
				break;
			}
			strlcat(s, one, sizeof(s));
			imsg_free(&im);
		}
		if (r == -1 || (imsgbuf_read(&sinkbuf) <= 0 &&
		    !imsgbuf_pending(ib)))
			break;
	}
	if (s[0] != '\0')
		s[strlen(s) - 1] = '\0';
	return s;
}

/* The peer set messages wgctld got are the ones wanted. */
static void
is(const char *want, const char *desc)
{
	const char	*s = got();

	ok(strcmp(s, want) == 0, "%s: '%s'", desc, s);
}

static struct imsg
msg(uint32_t type, void *data, size_t len)
{
	struct imsg	 im;

	memset(&im, 0, sizeof(im));
	im.hdr.type = type;
	im.hdr.len = len;
	im.fd = -1;
	im.data = data;
	return im;
}

static void
begin(uint32_t count)
{
	struct peer_set_hdr	 h = { .ifid = 1, .count = count };
	struct imsg		 im = msg(IMSG_PEERS_BEGIN, &h, sizeof(h));

	from_signald_peers_begin(&omnid->o_children[PROC_SIGNALD].c_iev, &im);
}

static void
peer(uint8_t n)
{
	struct omni_peer	 op;
	struct imsg		 im;

	memset(&op, 0, sizeof(op));
	op.ifid = 1;
	memset(op.pubkey, n, sizeof(op.pubkey));
	if (omni_prefix_parse("10.77.0.9/32", &op.vip) == -1 ||
	    omni_addr_parse("198.18.0.9:51820", 0, &op.endpoint) == -1)
		abort();
	op.vip.addr[3] = n;
	im = msg(IMSG_PEERS_PEER, &op, sizeof(op));
	from_signald_peer(&omnid->o_children[PROC_SIGNALD].c_iev, &im);
}

static void
end(uint32_t count)
{
	struct peer_set_hdr	 h = { .ifid = 1, .count = count };
	struct imsg		 im = msg(IMSG_PEERS_END, &h, sizeof(h));

	from_signald_peers_end(&omnid->o_children[PROC_SIGNALD].c_iev, &im);
}

/* wgctld died and the parent started a new one. */
static void
wgctld_restart(void)
{
	struct child	*c = &omnid->o_children[PROC_WGCTLD];

	channel(PROC_WGCTLD);
	c->c_init(c);
}

int
main(void)
{
	struct iface	*ifp;
	const char	*s;
	int		 i;

	setup();
	ifp = iface_find(1);
	wgctld_restart();
	is("", "a first wgctld gets no set");

	begin(2); peer(3); peer(4); end(2);
	is("B2 P3 P4 E2", "a set goes on");
	ok(ifp->if_have_set && ifp->if_nset == 2 &&
	    ifp->if_set[1].pubkey[0] == 4, "and is kept");

	wgctld_restart();
	is("B2 P3 P4 E2", "a new wgctld gets it after the applied state");

	/* A set in progress when wgctld restarts. */
	begin(3); peer(5);
	is("B3 P5", "a set begins");
	wgctld_restart();
	is("B2 P3 P4 E2", "wgctld restarts during it: the last complete set");
	peer(6); peer(7);
	is("", "the rest is held from the new wgctld");
	end(3);
	is("B3 P5 P6 P7 E3", "which gets the whole set at its END");
	ok(ifp->if_nset == 3, "the new set is kept");

	/* Abandoned half-way: signald died, a new one begins anew. */
	begin(2); peer(8);
	omnid->o_children[PROC_SIGNALD].c_pid++;
	begin(1); peer(9); end(1);
	is("B2 P8 B1 P9 E1", "a set abandoned by a dead signald, then a new one");
	ok(ifp->if_nset == 1 && ifp->if_set[0].pubkey[0] == 9,
	    "only the complete one is kept");

	/* A signald the parent finds insane: its set is not kept. */
	begin(1); peer(10); peer(11);
	ok(signald_closed, "more peers than announced: signald closed");
	channel(PROC_SIGNALD);
	end(1);
	(void)got();
	ok(ifp->if_nset == 1 && ifp->if_set[0].pubkey[0] == 9,
	    "the previous set stays kept");

	/* Too many announced: refused, nothing kept. */
	begin(OMNI_MAX_PEERS + 1); peer(12); end(1);
	is("", "a set of more than OMNI_MAX_PEERS peers is refused");
	ok(ifp->if_nset == 1, "and not kept");

	/* An empty set is a set: it is kept and replayed. */
	begin(0); end(0);
	is("B0 E0", "an empty set");
	wgctld_restart();
	is("B0 E0", "is replayed");

	/* A reload streams the configuration again but no set. */
	parent_reloading = 1;
	parent_send_wgctld(&omnid->o_children[PROC_WGCTLD]);
	parent_reloading = 0;
	is("", "a reload replays nothing");

	/* A larger set: kept whole, the buffer grown as it came. */
	begin(300);
	for (i = 0; i < 300; i++)
		peer(i % 256);
	end(300);
	s = got();
	ok(strncmp(s, "B300 P0 P1 P2 ", 14) == 0 &&
	    strcmp(s + strlen(s) - 12, "P42 P43 E300") == 0,
	    "a set of 300 goes on");
	ok(ifp->if_nset == 300 && ifp->if_set[299].pubkey[0] == 43,
	    "and is kept");
	wgctld_restart();
	s = got();
	ok(strncmp(s, "B300 P0 P1 P2 ", 14) == 0 &&
	    strcmp(s + strlen(s) - 12, "P42 P43 E300") == 0,
	    "and replayed");

	/* The interface goes: its set with it. */
	begin(1); peer(13);
	iface_destroy(ifp);
	end(1);
	is("B1 P13 E1", "a set for an interface removed meanwhile");
	wgctld_restart();
	is("", "nothing to replay");
	peerset_discard();
	return tap_done();
}
