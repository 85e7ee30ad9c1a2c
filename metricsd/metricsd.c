/*
 * metricsd: serves the samples every omni process reports as a
 * Prometheus text exposition over HTTP.
 *
 * It talks only to the parent, which forwards each process's snapshot
 * (IMSG_METRIC ... IMSG_METRIC_END, peerid = the reporting process)
 * and hands over the listening socket (IMSG_SOCK_METRICS).  metricsd
 * never opens a socket itself and, once sandboxed, may not.
 */
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "log.h"
#include "metrics.h"
#include "omni.h"
#include "proc.h"
#include "render.h"

#define METRICSD_STALE		10	/* /health: seconds without a snapshot */
#define METRICSD_EXPIRE		30	/* forget a silent process's samples */
#define METRICSD_HTTP_TIMEOUT	10	/* seconds */
#define METRICSD_MAX_HEADERS	8192
#define METRICSD_MAX_BODY	1024
/* Descriptors, hence HTTP connections, are bounded by this limit. */
#define METRICSD_NOFILE		128

#define CONTENT_TYPE_METRICS	"text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT	"text/plain; charset=utf-8"

static void	 metricsd_reconf_global(struct imsgev *, struct imsg *);
static void	 metricsd_reconf_end(struct imsgev *, struct imsg *);
static void	 metricsd_sock(struct imsgev *, struct imsg *);
static void	 metricsd_metric(struct imsgev *, struct imsg *);
static void	 metricsd_metric_end(struct imsgev *, struct imsg *);
static void	 metricsd_verbose(struct imsgev *, struct imsg *);

static const struct proc_dispatch metricsd_table[] = {
	{ IMSG_RECONF_GLOBAL, PROC_BIT(PROC_PARENT),
	    sizeof(struct conf_global), 0, metricsd_reconf_global },
	{ IMSG_RECONF_END, PROC_BIT(PROC_PARENT), 0, 0, metricsd_reconf_end },
	{ IMSG_SOCK_METRICS, PROC_BIT(PROC_PARENT), 0, 1, metricsd_sock },
	{ IMSG_METRIC, PROC_BIT(PROC_PARENT), sizeof(struct omni_metric), 0,
	    metricsd_metric },
	{ IMSG_METRIC_END, PROC_BIT(PROC_PARENT), 0, 0, metricsd_metric_end },
	{ IMSG_CTL_LOG_VERBOSE, PROC_BIT(PROC_PARENT), sizeof(int), 0,
	    metricsd_verbose },
	{ 0, 0, 0, 0, NULL }
};

/*
 * What libevent and evhttp need past the base list: the event base is
 * created after the sandbox (epoll, the signal pipe, the set-id check
 * of evutil_getenv), clients are accepted, and evbuffer sizes reads
 * with ioctl(FIONREAD), the only ioctl metricsd_ioctl_filter lets by.
 * glibc's qsort() calls sysinfo (for the memory size) once the array
 * of samples it sorts passes 1 kB, some 40 samples.
 */
static const int metricsd_syscalls[] = {
	SCMP_SYS(accept4), SCMP_SYS(epoll_create1), SCMP_SYS(pipe2),
	SCMP_SYS(ioctl), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(sysinfo),
	-1
};

static struct event_base	*metricsd_base;
static struct evhttp		*metricsd_http;
static struct evhttp_bound_socket *metricsd_listener;
static struct event		 metricsd_accept_ev;
static struct imsgev		 iev_parent;
static struct mstore		 metricsd_store;
static struct conf_global	 metricsd_conf, metricsd_conf_staged;
static int			 metricsd_conf_pending;
static int64_t			 metricsd_last_snapshot;	/* 0: none */
/* Drops are logged once per sender (slot PROC_MAX: unknown ones). */
static int			 metricsd_warned[PROC_MAX + 1];

static int64_t
metricsd_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	/* Offset so that no real time is ever 0 ("never"). */
	return (int64_t)ts.tv_sec + 1;
}

/* --- parent channel ------------------------------------------------- */

static void
metricsd_reconf_global(struct imsgev *iev, struct imsg *im)
{
	struct conf_global	*c = im->data;

	if (!omni_str_valid(c->user, sizeof(c->user)) ||
	    !omni_str_valid(c->chroot, sizeof(c->chroot)) ||
	    !omni_str_valid(c->control, sizeof(c->control)) ||
	    !omni_str_valid(c->wireguard_go, sizeof(c->wireguard_go))) {
		log_warnx("reconf: global settings with a bad string");
		metricsd_conf_pending = 0;
		return;
	}
	memcpy(&metricsd_conf_staged, c, sizeof(metricsd_conf_staged));
	metricsd_conf_pending = 1;
}

static void
metricsd_reconf_end(struct imsgev *iev, struct imsg *im)
{
	char	 addr[OMNI_ADDRSTRLEN];

	if (!metricsd_conf_pending) {
		log_warnx("reconf: end without global settings, ignored");
		return;
	}
	metricsd_conf = metricsd_conf_staged;
	metricsd_conf_pending = 0;
	log_debug("configuration: metrics %s on %s",
	    metricsd_conf.metrics_enabled ? "enabled" : "disabled",
	    omni_addr_str(&metricsd_conf.metrics, addr, sizeof(addr)));
}

static void
metricsd_verbose(struct imsgev *iev, struct imsg *im)
{
	int	 v;

	memcpy(&v, im->data, sizeof(v));
	if (v < 0 || v > 3) {
		log_warnx("log verbosity %d out of range", v);
		return;
	}
	log_setverbose(v);
	log_info("log verbosity %d", v);
}

static void
metricsd_metric(struct imsgev *iev, struct imsg *im)
{
	struct omni_metric	 m;
	uint32_t		 proc = im->hdr.peerid, slot;
	size_t			 i;

	memcpy(&m, im->data, sizeof(m));
	if (mstore_add(&metricsd_store, proc, &m) == 0)
		return;
	/* Later drops only show in omni_metrics_dropped_total. */
	slot = proc < PROC_MAX ? proc : PROC_MAX;
	if (metricsd_warned[slot])
		return;
	metricsd_warned[slot] = 1;
	/* The name is untrusted: keep it printable for the log. */
	m.name[sizeof(m.name) - 1] = '\0';
	for (i = 0; m.name[i] != '\0'; i++)
		if (m.name[i] < 0x20 || m.name[i] > 0x7e)
			m.name[i] = '?';
	log_warnx("sample %s from %s dropped, further drops not logged",
	    m.name, proc < PROC_MAX ? omni_proc_name(proc) :
	    "unknown process");
}

static void
metricsd_metric_end(struct imsgev *iev, struct imsg *im)
{
	int64_t	 now = metricsd_now();

	if (mstore_commit(&metricsd_store, im->hdr.peerid, now) == -1) {
		if (!metricsd_warned[PROC_MAX])
			log_warnx("snapshot end from unknown process %u",
			    im->hdr.peerid);
		metricsd_warned[PROC_MAX] = 1;
		return;
	}
	metricsd_last_snapshot = now;
}

/* --- HTTP ----------------------------------------------------------- */

static void
metricsd_reply(struct evhttp_request *req, int code, const char *reason,
    const char *body)
{
	struct evbuffer	*buf;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", CONTENT_TYPE_TEXT);
	if ((buf = evbuffer_new()) == NULL ||
	    evbuffer_add(buf, body, strlen(body)) == -1) {
		if (buf != NULL)
			evbuffer_free(buf);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_send_reply(req, code, reason, buf);
	evbuffer_free(buf);
}

static void
metricsd_free_text(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

static void
metricsd_serve_metrics(struct evhttp_request *req)
{
	struct evbuffer	*buf;
	char		*text;
	size_t		 len;
	int64_t		 now = metricsd_now();

	mstore_expire(&metricsd_store, now, METRICSD_EXPIRE);
	if (mstore_self(&metricsd_store, now) == -1 ||
	    (text = render_exposition(&metricsd_store, &len)) == NULL) {
		log_warn("render");
		metricsd_reply(req, HTTP_INTERNAL, "Internal Server Error",
		    "out of memory\n");
		return;
	}
	if ((buf = evbuffer_new()) == NULL) {
		free(text);
		metricsd_reply(req, HTTP_INTERNAL, "Internal Server Error",
		    "out of memory\n");
		return;
	}
	/* The buffer frees the text once it is sent. */
	if (evbuffer_add_reference(buf, text, len, metricsd_free_text,
	    NULL) == -1) {
		free(text);
		evbuffer_free(buf);
		metricsd_reply(req, HTTP_INTERNAL, "Internal Server Error",
		    "out of memory\n");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", CONTENT_TYPE_METRICS);
	evhttp_send_reply(req, HTTP_OK, "OK", buf);
	evbuffer_free(buf);
}

static void
metricsd_serve_health(struct evhttp_request *req)
{
	int64_t	 now = metricsd_now();

	if (metricsd_last_snapshot != 0 &&
	    now - metricsd_last_snapshot <= METRICSD_STALE)
		metricsd_reply(req, HTTP_OK, "OK", "ok\n");
	else
		metricsd_reply(req, 503, "Service Unavailable", "stale\n");
}

static void
metricsd_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri;
	const char		*path = NULL;
	enum evhttp_cmd_type	 cmd;
	int			 page;

	if ((uri = evhttp_request_get_evhttp_uri(req)) != NULL)
		path = evhttp_uri_get_path(uri);
	if (path == NULL) {
		metricsd_reply(req, HTTP_BADREQUEST, "Bad Request",
		    "bad request\n");
		return;
	}
	if (strcmp(path, "/metrics") == 0)
		page = 1;
	else if (strcmp(path, "/health") == 0)
		page = 2;
	else {
		metricsd_reply(req, HTTP_NOTFOUND, "Not Found",
		    "not found\n");
		return;
	}
	cmd = evhttp_request_get_command(req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		metricsd_reply(req, HTTP_BADMETHOD, "Method Not Allowed",
		    "method not allowed\n");
		return;
	}
	if (page == 1)
		metricsd_serve_metrics(req);
	else
		metricsd_serve_health(req);
}

static void
metricsd_accept_resume(int fd, short event, void *arg)
{
	if (metricsd_listener != NULL)
		evconnlistener_enable(
		    evhttp_bound_socket_get_listener(metricsd_listener));
}

/*
 * accept failed for want of descriptors or memory: pause the listener
 * for a second instead of spinning on a socket that stays readable.
 */
static void
metricsd_accept_error(struct evconnlistener *lev, void *arg)
{
	struct timeval	 tv = { 1, 0 };

	log_warn("accept");
	evconnlistener_disable(lev);
	evtimer_add(&metricsd_accept_ev, &tv);
}

/* A listening TCP socket, or the parent sent something else. */
static int
metricsd_sock_check(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 v;

	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == -1 ||
	    v != SOCK_STREAM)
		return -1;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == -1 ||
	    v == 0)
		return -1;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return -1;
	return 0;
}

static void
metricsd_sock(struct imsgev *iev, struct imsg *im)
{
	struct evhttp_bound_socket	*bound;

	if (metricsd_sock_check(im->fd) == -1) {
		log_warnx("metrics socket is not a listening TCP socket");
		close(im->fd);
		return;
	}
	/* The listener accepts until EAGAIN: it must not block. */
	if (evutil_make_socket_nonblocking(im->fd) == -1) {
		log_warn("metrics socket");
		close(im->fd);
		return;
	}
	/* A new socket replaces the old one, which evhttp closes. */
	if (metricsd_listener != NULL) {
		evtimer_del(&metricsd_accept_ev);
		evhttp_del_accept_socket(metricsd_http, metricsd_listener);
		metricsd_listener = NULL;
	}
	if ((bound = evhttp_accept_socket_with_handle(metricsd_http,
	    im->fd)) == NULL) {
		log_warn("evhttp_accept_socket");
		close(im->fd);
		return;
	}
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bound),
	    metricsd_accept_error);
	metricsd_listener = bound;
	log_debug("serving metrics");
}

static void
metricsd_http_init(void)
{
	if ((metricsd_http = evhttp_new(metricsd_base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_max_headers_size(metricsd_http, METRICSD_MAX_HEADERS);
	evhttp_set_max_body_size(metricsd_http, METRICSD_MAX_BODY);
	evhttp_set_timeout(metricsd_http, METRICSD_HTTP_TIMEOUT);
	evhttp_set_default_content_type(metricsd_http, CONTENT_TYPE_TEXT);
	/* Let every method reach us so that the answer is 405, not 501. */
	evhttp_set_allowed_methods(metricsd_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(metricsd_http, metricsd_request, NULL);
	evtimer_set(&metricsd_accept_ev, metricsd_accept_resume, NULL);
}

/* --- main ----------------------------------------------------------- */

/*
 * proc_sandbox's allow-list cannot look at arguments, so narrow ioctl
 * with a filter of our own, installed first: seccomp applies the
 * strictest verdict of all filters, so this one still holds after the
 * allow-list lets ioctl through.
 */
static void
metricsd_ioctl_filter(void)
{
	scmp_filter_ctx	 ctx;
	struct scmp_arg_cmp cmp;
	uint32_t	 act = SCMP_ACT_KILL_PROCESS;
	int		 r;

	if (getenv("OMNI_SECCOMP_LOG") != NULL)
		act = SCMP_ACT_LOG;
	if (OMNI_UNDER_VALGRIND)
		return;		/* no seccomp there: proc.h */
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		fatalx("seccomp_init failed");
	/* Spelled out: the SCMP_A1 macro leaves datum_b to the compiler. */
	memset(&cmp, 0, sizeof(cmp));
	cmp.arg = 1;
	cmp.op = SCMP_CMP_NE;
	cmp.datum_a = FIONREAD;
	if ((r = seccomp_rule_add_array(ctx, act, SCMP_SYS(ioctl), 1,
	    &cmp)) < 0 ||
	    (r = seccomp_load(ctx)) < 0)
		fatalx("ioctl filter: %s", strerror(-r));
	seccomp_release(ctx);
}

static void
metricsd_signal(int sig, short event, void *arg)
{
	log_info("terminating on signal %d", sig);
	event_base_loopbreak(metricsd_base);
}

int
main(int argc, char **argv)
{
	struct event	 ev_sigterm, ev_sigint;
	struct proc_sandbox sb;
	struct rlimit	 rl;

	proc_child_start(argc, argv, "metricsd", "metricsd", &sb);

	rl.rlim_cur = rl.rlim_max = METRICSD_NOFILE;
	/* valgrind refuses to change the hard limit: lower the soft one. */
	if (OMNI_UNDER_VALGRIND && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur > METRICSD_NOFILE)
		rl.rlim_cur = METRICSD_NOFILE;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("setrlimit");

	metricsd_ioctl_filter();
	sb.syscalls = metricsd_syscalls;
	proc_sandbox(&sb);

	mstore_init(&metricsd_store);
	if ((metricsd_base = event_init()) == NULL)
		fatalx("event_init failed");
	metricsd_http_init();
	imsgev_init(&iev_parent, OMNI_PARENT_FD, PROC_PARENT, metricsd_table,
	    NULL, NULL);

	signal_set(&ev_sigterm, SIGTERM, metricsd_signal, NULL);
	signal_set(&ev_sigint, SIGINT, metricsd_signal, NULL);
	signal_add(&ev_sigterm, NULL);
	signal_add(&ev_sigint, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	log_debug("started");
	event_dispatch();

	if (metricsd_listener != NULL)
		evhttp_del_accept_socket(metricsd_http, metricsd_listener);
	evhttp_free(metricsd_http);
	mstore_free(&metricsd_store);
	log_info("exiting");
	return 0;
}
