/*
 * The parent's side of its children's channels: everything signald
 * (peer sets, STUN answers, signaling status, proof-key requests, peer
 * paths, metrics) and wgctld (WireGuard changes, statistics requests,
 * reload, verbosity, metrics) may send, through the parent's own
 * dispatch tables and handlers, with two interfaces configured (IPv4
 * and IPv6).  The children are not trusted: a child's message must
 * never end the parent, so a fatal error here is a finding; a channel
 * the parent closes (the child would be killed and restarted) ends the
 * input.  The interfaces are down (if_up 0) so no WireGuard device is
 * touched, and a reload fails at once instead of starting the config
 * parser.  The first input byte picks the sender (bit 0: wgctld), the
 * rest is fuzz_imsg_proc.h's format.
 *
 * Build: make CC=clang regress/fuzz/fuzz_imsg_parent
 */
#define main omnid_main
#define config_load fuzz_config_load
#define config_load_fd fuzz_config_load_fd
#include "../../parent/omnid.c"
#undef main
#undef config_load
#undef config_load_fd

#include "fuzz_imsg_proc.h"

int
fuzz_config_load(const char *path, const char *self, int debug, int verbose,
    struct omni_conf *conf, char *err, size_t errlen)
{
	snprintf(err, errlen, "no reload while fuzzing");
	return -1;
}

int
fuzz_config_load_fd(const char *name, int fd, const char *self, int debug,
    int verbose, struct omni_conf *conf, char *err, size_t errlen)
{
	snprintf(err, errlen, "no reload while fuzzing");
	return -1;
}

static int	 fuzz_sink[PROC_MAX] = { -1, -1, -1, -1, -1, -1 };

static void
fuzz_iface(uint32_t id, const char *name, const char *vip, const char *stun)
{
	struct iface	*ifp;

	if ((ifp = calloc(1, sizeof(*ifp))) == NULL)
		abort();
	ifp->if_id = id;
	strlcpy(ifp->if_conf.name, name, sizeof(ifp->if_conf.name));
	strlcpy(ifp->if_conf.cluster, "fuzz", sizeof(ifp->if_conf.cluster));
	if (omni_prefix_parse(vip, &ifp->if_conf.address) == -1 ||
	    omni_addr_parse(stun, 3478, &ifp->if_conf.stun[0]) == -1)
		abort();
	ifp->if_conf.nstun = 1;
	/* fixed keys: the private one is all 0x11 */
	memset(ifp->if_priv, 0x11, sizeof(ifp->if_priv));
	crypto_scalarmult_base(ifp->if_pub, ifp->if_priv);
	TAILQ_INIT(&ifp->if_peers);
	ifp->if_sock4 = ifp->if_sock6 = -1;
	TAILQ_INSERT_TAIL(&omnid->o_ifaces, ifp, if_entry);
	omnid->o_next_ifid = id;
}

/* The parent closed a child's channel: it would kill the child now. */
static void
fuzz_child_closed(struct imsgev *iev)
{
	imsgev_clear(iev);
}

static void
fuzz_init(void)
{
	static const char	*names[PROC_MAX] = { NULL, NULL, "signald",
	    "wgctld", "metricsd", NULL };
	struct child		*c;
	int			 p, sv[2];

	if (sodium_init() == -1)
		abort();
	event_init();
	signal(SIGPIPE, SIG_IGN);
	if ((omnid = calloc(1, sizeof(*omnid))) == NULL)
		abort();
	TAILQ_INIT(&omnid->o_ifaces);
	omnid->o_conffd = -1;
	omnid->o_nucleus_sock = omnid->o_ctl_sock = -1;
	omnid->o_ctl_ro_sock = omnid->o_metrics_sock = -1;
	omnid->o_started = time(NULL);
	fuzz_iface(1, "omni0", "10.77.0.2/24", "198.18.0.1:3478");
	fuzz_iface(2, "omni1", "fd00:77::2/64", "[2001:db8::1]:3478");
	/* Running children: what the parent sends them goes to a sink. */
	for (p = PROC_SIGNALD; p <= PROC_METRICSD; p++) {
		c = &omnid->o_children[p];
		c->c_proc = p;
		c->c_name = names[p];
		c->c_running = c->c_wanted = 1;
		c->c_pid = getpid();	/* never signalled: closed is ours */
		c->c_table = p == PROC_SIGNALD ? parent_from_signald :
		    p == PROC_WGCTLD ? parent_from_wgctld :
		    parent_from_metricsd;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sv) == -1)
			abort();
		fuzz_sink[p] = sv[1];
		imsgev_init(&c->c_iev, sv[0], p, c->c_table,
		    fuzz_child_closed, c);
	}
	fuzz_fatal_is_bug = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	struct child	*c;
	struct imsgbuf	 w;
	int		 sv[2], p;

	if (!init) {
		fuzz_init();
		init = 1;
	}
	if (size < 1)
		return 0;
	c = &omnid->o_children[data[0] & 1 ? PROC_WGCTLD : PROC_SIGNALD];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	/* This child's channel, fresh as after a restart. */
	if (c->c_iev.ibuf.fd != -1)
		imsgev_clear(&c->c_iev);
	close(fuzz_sink[c->c_proc]);
	fuzz_sink[c->c_proc] = sv[0];
	imsgbuf_init(&w, sv[0]);
	imsgev_init(&c->c_iev, sv[1], c->c_proc, c->c_table,
	    fuzz_child_closed, c);
	fuzz_table = c->c_table;
	fuzz_feed(&c->c_iev, &w, data + 1, size - 1);
	imsgbuf_clear(&w);
	/* What went to the other children is dropped. */
	for (p = PROC_SIGNALD; p <= PROC_METRICSD; p++)
		imsgbuf_clear(&omnid->o_children[p].c_iev.ibuf);
	return 0;
}
