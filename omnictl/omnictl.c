/*
 * omnictl: ask a running omnid (its wgctld, on the control socket)
 * about peers and interfaces, or tell it to reload or change its log
 * level.  The control socket speaks omni's imsg framing.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imsg.h"
#include "omnictl.h"

#define OMNICTL_TIMEOUT	60	/* seconds to wait for an answer */

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: omnictl [-j] [-s socket] command [argument]\n"
	    "commands:\n"
	    "  show peers [address[/prefixlen]]\n"
	    "  show interface\n"
	    "  show nucleus\n"
	    "  show status\n"
	    "  reload\n"
	    "  log verbose | brief\n");
	exit(1);
}

static __attribute__((noreturn, format(printf, 1, 2))) void
die(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "omnictl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 s, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		die("socket path too long: %s", path);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		e = errno;
		switch (e) {
		case ENOENT:
		case ECONNREFUSED:
			die("connect %s: %s (is omnid running?)", path,
			    strerror(e));
		case EACCES:
		case EPERM:
			die("connect %s: %s (are you root?)", path,
			    strerror(e));
		default:
			die("connect %s: %s", path, strerror(e));
		}
	}
	return s;
}

/* Peers are shown per interface, in the order they came, by VIP. */
struct peer_item {
	struct ctl_peer	 p;
	size_t		 ifindex;
};

static int
peer_item_cmp(const void *a, const void *b)
{
	const struct peer_item	*x = a, *y = b;
	int			 r;

	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	/* Peers without a known VIP (af 0) go last. */
	if (x->p.vip.af != y->p.vip.af)
		return x->p.vip.af == 0 ? 1 : y->p.vip.af == 0 ? -1 :
		    x->p.vip.af < y->p.vip.af ? -1 : 1;
	if ((r = memcmp(x->p.vip.addr, y->p.vip.addr,
	    sizeof(x->p.vip.addr))) != 0)
		return r;
	return memcmp(x->p.pubkey, y->p.pubkey, sizeof(x->p.pubkey));
}

struct replies {
	struct peer_item	*peers;
	size_t			 npeers, cap;
	char			 ifnames[OMNI_MAX_IFACES * 4][OMNI_IFNAMSIZ];
	size_t			 nifnames;
};

static void
peer_add(struct replies *rp, const struct ctl_peer *p)
{
	size_t	 i;

	if (rp->npeers == rp->cap) {
		rp->cap = rp->cap ? rp->cap * 2 : 64;
		if ((rp->peers = reallocarray(rp->peers, rp->cap,
		    sizeof(*rp->peers))) == NULL)
			die("%s", strerror(errno));
	}
	for (i = 0; i < rp->nifnames; i++)
		if (strcmp(rp->ifnames[i], p->ifname) == 0)
			break;
	if (i == rp->nifnames && i < sizeof(rp->ifnames) /
	    sizeof(rp->ifnames[0]))
		strlcpy(rp->ifnames[rp->nifnames++], p->ifname,
		    sizeof(rp->ifnames[0]));
	rp->peers[rp->npeers].p = *p;
	rp->peers[rp->npeers].ifindex = i;
	rp->npeers++;
}

static int
iface_valid(const struct iface_info *ii)
{
	return omni_str_valid(ii->name, sizeof(ii->name)) &&
	    omni_str_valid(ii->cluster, sizeof(ii->cluster)) &&
	    omni_str_valid(ii->backend, sizeof(ii->backend)) &&
	    ii->nnuclei >= 0 && ii->nnuclei <= OMNI_MAX_NUCLEI;
}

static int
nucleus_valid(const struct ctl_nucleus *n)
{
	return omni_str_valid(n->ifname, sizeof(n->ifname)) &&
	    (n->kind == CTL_NUCLEUS_EDGE || n->kind == CTL_NUCLEUS_LOCAL) &&
	    (n->addr.sa.sa_family == AF_INET ||
	    n->addr.sa.sa_family == AF_INET6);
}

static int
status_valid(const struct ctl_status *s)
{
	return omni_str_valid(s->version, sizeof(s->version)) &&
	    omni_str_valid(s->problem, sizeof(s->problem));
}

/*
 * Handle one reply.  Returns 1 at the end of the answer, 0 to read
 * on; anything unexpected is fatal.
 */
static int
reply_handle(enum actions a, const struct output *out, struct imsg *im,
    struct replies *rp, int *failed)
{
	struct ctl_result	 res;

	if (im->fd != -1)
		die("unexpected descriptor from omnid");
	switch (im->hdr.type) {
	case IMSG_CTL_PEER:
		if (a != ACT_SHOW_PEERS || im->hdr.len !=
		    sizeof(struct ctl_peer))
			break;
		if (!omni_str_valid(((struct ctl_peer *)im->data)->ifname,
		    OMNI_IFNAMSIZ) ||
		    !omni_str_valid(((struct ctl_peer *)im->data)->path_reason,
		    sizeof(((struct ctl_peer *)im->data)->path_reason)))
			die("bad peer record from omnid");
		peer_add(rp, im->data);
		return 0;
	case IMSG_CTL_IFACE:
		if (a != ACT_SHOW_IFACE || im->hdr.len !=
		    sizeof(struct iface_info))
			break;
		if (!iface_valid(im->data))
			die("bad interface record from omnid");
		out->iface(im->data);
		return 0;
	case IMSG_CTL_NUCLEUS:
		if (a != ACT_SHOW_NUCLEUS || im->hdr.len !=
		    sizeof(struct ctl_nucleus))
			break;
		if (!nucleus_valid(im->data))
			die("bad nucleus record from omnid");
		out->nucleus(im->data, time(NULL));
		return 0;
	case IMSG_CTL_STATUS:
		if (a != ACT_SHOW_STATUS || im->hdr.len !=
		    sizeof(struct ctl_status))
			break;
		if (!status_valid(im->data))
			die("bad status record from omnid");
		out->status(im->data, time(NULL));
		/* For monitoring: the exit status says it all. */
		if (!((struct ctl_status *)im->data)->healthy)
			*failed = 1;
		return 0;
	case IMSG_CTL_RESULT:
		if (im->hdr.len != sizeof(res))
			break;
		memcpy(&res, im->data, sizeof(res));
		res.text[sizeof(res.text) - 1] = '\0';
		out->result(a, &res);
		if (!res.ok)
			*failed = 1;
		return 0;
	case IMSG_CTL_END:
		if (im->hdr.len != 0)
			break;
		return 1;
	}
	die("unexpected message type %u (length %u) from omnid",
	    im->hdr.type, im->hdr.len);
}

int
main(int argc, char *argv[])
{
	const struct parse_result	*res;
	const struct output		*out = &text_output;
	const char			*sockpath = OMNI_CTL_SOCKET;
	struct replies			 rp;
	struct imsgbuf			 ibuf;
	struct imsg			 im;
	struct ctl_show			 show;
	struct pollfd			 pfd;
	ssize_t				 n;
	size_t				 i;
	time_t				 now;
	int				 ch, s, done = 0, failed = 0, v, r;

	while ((ch = getopt(argc, argv, "js:")) != -1) {
		switch (ch) {
		case 'j':
			out = &json_output;
			break;
		case 's':
			sockpath = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if ((res = parse(argc, argv, stderr)) == NULL)
		exit(1);

	s = ctl_connect(sockpath);
	imsgbuf_init(&ibuf, s);
	switch (res->action) {
	case ACT_SHOW_PEERS:
		memset(&show, 0, sizeof(show));
		show.vip = res->vip;
		r = imsg_compose(&ibuf, IMSG_CTL_SHOW_PEERS, 0, -1, &show,
		    sizeof(show));
		break;
	case ACT_SHOW_IFACE:
		r = imsg_compose(&ibuf, IMSG_CTL_SHOW_IFACE, 0, -1, NULL, 0);
		break;
	case ACT_SHOW_NUCLEUS:
		r = imsg_compose(&ibuf, IMSG_CTL_SHOW_NUCLEUS, 0, -1, NULL, 0);
		break;
	case ACT_SHOW_STATUS:
		r = imsg_compose(&ibuf, IMSG_CTL_SHOW_STATUS, 0, -1, NULL, 0);
		break;
	case ACT_RELOAD:
		r = imsg_compose(&ibuf, IMSG_CTL_RELOAD, 0, -1, NULL, 0);
		break;
	case ACT_LOG_VERBOSE:
	case ACT_LOG_BRIEF:
		v = res->action == ACT_LOG_VERBOSE ? 1 : 0;
		r = imsg_compose(&ibuf, IMSG_CTL_LOG_VERBOSE, 0, -1, &v,
		    sizeof(v));
		break;
	default:
		usage();
	}
	if (r == -1 || imsgbuf_flush(&ibuf) == -1)
		die("write to %s: %s", sockpath, strerror(errno));

	memset(&rp, 0, sizeof(rp));
	out->head(res->action);
	while (!done) {
		pfd.fd = s;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, OMNICTL_TIMEOUT * 1000)) == -1) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (r == 0)
			die("no answer from omnid within %d s",
			    OMNICTL_TIMEOUT);
		if ((n = imsgbuf_read(&ibuf)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("read from %s: %s", sockpath, strerror(errno));
		}
		if (n == 0)
			die("omnid closed the connection");
		while (!done) {
			if ((r = imsg_get(&ibuf, &im)) == -1)
				die("malformed answer from omnid");
			if (r == 0)
				break;
			done = reply_handle(res->action, out, &im, &rp,
			    &failed);
			imsg_free(&im);
		}
	}
	if (rp.npeers > 0)
		qsort(rp.peers, rp.npeers, sizeof(*rp.peers), peer_item_cmp);
	now = time(NULL);
	for (i = 0; i < rp.npeers; i++)
		out->peer(&rp.peers[i].p, now);
	out->tail(res->action);
	free(rp.peers);
	imsgbuf_clear(&ibuf);
	close(s);
	if (fflush(stdout) == EOF)
		die("stdout: %s", strerror(errno));
	return failed ? 1 : 0;
}
