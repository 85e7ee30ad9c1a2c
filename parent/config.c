/*
 * Loading omni.conf(5) in the parent.
 *
 * The parent never parses the YAML itself (when it runs as root): it
 * opens the file, checks who may have written it, and hands the
 * descriptor to a sandboxed parser child ("omnid -P config", see
 * parse.c).  What comes back is checked like any input from a less
 * trusted process: message types and order, exact sizes, string
 * termination, counts and ranges.  The parent then does what needs
 * the file system or the user database: reading secret files and
 * resolving the unprivileged user.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "imsg.h"
#include "log.h"
#include "omni.h"
#include "parse.h"
#include "proc.h"

#define CONF_PARSE_TIMEOUT	5000	/* ms the parser child may take */

/* --- file checks ------------------------------------------------------ */

/*
 * A file omnid trusts must be a regular file owned by root or by the
 * user running omnid, and nobody else may write it.  private: nobody
 * else may read it either (it holds secrets).
 */
static int
conf_check_perm(const char *path, const struct stat *st, int private,
    char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file, refusing",
		    path);
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != getuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, expected root%s, "
		    "refusing", path, (unsigned)st->st_uid,
		    getuid() != 0 ? " or you" : "");
		return -1;
	}
	if (st->st_mode & S_IWOTH) {
		snprintf(err, errlen, "%s: writable by others, refusing",
		    path);
		return -1;
	}
	if (st->st_mode & S_IWGRP) {
		snprintf(err, errlen, "%s: writable by group, refusing", path);
		return -1;
	}
	if (private && (st->st_mode & S_IROTH)) {
		snprintf(err, errlen, "%s: holds a secret and is readable by "
		    "others, refusing (chmod o-r)", path);
		return -1;
	}
	return 0;
}

static int
conf_open(const char *path, struct stat *st, char *err, size_t errlen)
{
	int	 fd;

	/* O_NONBLOCK: a FIFO in place of the file must not hang us. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(err, errlen, "%s: a symbolic link, refusing",
			    path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1) {
		snprintf(err, errlen, "%s: fstat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The children's chroot: created when missing (root-owned, 0755, like
 * mkdir -p), refused when it is not an empty directory that only
 * root can write.
 */
static int
conf_chroot_dir(const char *path, char *err, size_t errlen)
{
	char		 tmp[OMNI_PATHSIZ], *p, c;
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;

	if (strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp) || tmp[0] != '/') {
		snprintf(err, errlen, "%s: bad chroot path", path);
		return -1;
	}
	for (p = tmp + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", tmp,
			    strerror(errno));
			return -1;
		}
		if (c == '\0')
			break;
		*p = c;
	}
	if (lstat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory, refusing it as "
		    "chroot", path);
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s: must be owned by root and writable "
		    "by nobody else, refusing it as chroot", path);
		return -1;
	}
	if ((d = opendir(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		closedir(d);
		snprintf(err, errlen, "%s: not empty, refusing it as chroot",
		    path);
		return -1;
	}
	closedir(d);
	return 0;
}

/* --- the parser child -------------------------------------------------- */

static long long
conf_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait for the child until the deadline, then kill it.  Returns its
 * wait status, or -1 when it was not ours to reap any more (someone
 * else's SIGCHLD handler got it).
 */
static int
conf_wait(pid_t pid, long long deadline)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	int		 status;
	pid_t		 r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r == -1 && errno != EINTR)
			return -1;
		if (conf_now_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	while ((r = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		;
	return r == pid ? status : -1;
}

/* Why the child ended, appended to err when it was not a clean exit. */
static int
conf_child_status(int status, char *err, size_t errlen)
{
	if (status == -1 || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return 0;
	if (WIFSIGNALED(status))
		snprintf(err, errlen, "config parser killed by signal %d "
		    "(%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
		    WTERMSIG(status) == SIGSYS ? ": a system call its "
		    "sandbox does not allow" : "");
	else
		snprintf(err, errlen, "config parser exited with status %d",
		    WEXITSTATUS(status));
	return -1;
}

/* A message from the child: the type in order, exact size, no fd. */
static int
conf_take(struct omni_conf *conf, struct imsg *im, int *state, char *err,
    size_t errlen)
{
	struct omni_text	*t;
	size_t			 want;
	char			*c;

	switch (im->hdr.type) {
	case IMSG_CONF_GLOBAL:
		want = sizeof(conf->global);
		break;
	case IMSG_CONF_NUCLEUS:
		want = sizeof(conf->nucleus);
		break;
	case IMSG_CONF_IFACE:
		want = sizeof(conf->ifaces[0]);
		break;
	case IMSG_CONF_ERROR:
		want = sizeof(struct omni_text);
		break;
	case IMSG_CONF_END:
		want = 0;
		break;
	default:
		snprintf(err, errlen, "config parser: unexpected message "
		    "type %u", im->hdr.type);
		return -1;
	}
	if (im->hdr.len != want || im->fd != -1) {
		snprintf(err, errlen, "config parser: message type %u with "
		    "length %u%s", im->hdr.type, im->hdr.len,
		    im->fd != -1 ? " and a descriptor" : "");
		return -1;
	}
	/* state: 0 nothing yet, 1 global seen, 2 done */
	if ((*state == 0) != (im->hdr.type == IMSG_CONF_GLOBAL ||
	    im->hdr.type == IMSG_CONF_ERROR)) {
		snprintf(err, errlen, "config parser: message type %u out of "
		    "order", im->hdr.type);
		return -1;
	}
	switch (im->hdr.type) {
	case IMSG_CONF_GLOBAL:
		memcpy(&conf->global, im->data, sizeof(conf->global));
		*state = 1;
		break;
	case IMSG_CONF_NUCLEUS:
		if (conf->has_nucleus) {
			snprintf(err, errlen, "config parser: two nucleus "
			    "sections");
			return -1;
		}
		memcpy(&conf->nucleus, im->data, sizeof(conf->nucleus));
		conf->has_nucleus = 1;
		break;
	case IMSG_CONF_IFACE:
		if (conf->niface == OMNI_MAX_IFACES) {
			snprintf(err, errlen, "config parser: too many "
			    "interfaces");
			return -1;
		}
		memcpy(&conf->ifaces[conf->niface++], im->data,
		    sizeof(conf->ifaces[0]));
		break;
	case IMSG_CONF_ERROR:
		t = im->data;
		if (!omni_str_valid(t->text, sizeof(t->text))) {
			snprintf(err, errlen, "config parser: unterminated "
			    "error message");
			return -1;
		}
		/* It goes to a terminal or a log: printable only. */
		for (c = t->text; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		strlcpy(err, t->text, errlen);
		*state = 3;
		return -1;
	case IMSG_CONF_END:
		*state = 2;
		break;
	}
	return 0;
}

/*
 * Run the parser child over fd (which this consumes) and fill conf
 * from its answer.
 */
static int
conf_parse_child(const char *path, int fd, const char *self_exe, int debug,
    int verbose, struct omni_conf *conf, char *err, size_t errlen)
{
	struct imsgbuf		 ib;
	struct imsg		 im;
	struct conf_file	 cf;
	struct passwd		*pw;
	struct pollfd		 pfd;
	long long		 deadline;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	ssize_t			 n;
	int			 sv[2], state = 0, r = -1, status, timeout;
	int			 eof = 0;

	if ((pw = getpwnam(OMNI_USER)) == NULL &&
	    (pw = getpwnam("nobody")) == NULL) {
		snprintf(err, errlen, "neither user %s nor nobody exists to "
		    "run the config parser", OMNI_USER);
		close(fd);
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (conf_chroot_dir(OMNI_CHROOT, err, errlen) == -1) {
		close(fd);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		close(fd);
		return -1;
	}
	pid = proc_spawn(self_exe, "omnid", "config", sv[1], uid, gid,
	    OMNI_CHROOT, debug, verbose);
	close(sv[1]);
	if (pid == -1) {
		snprintf(err, errlen, "cannot start the config parser: %s",
		    strerror(errno));
		close(sv[0]);
		close(fd);
		return -1;
	}
	deadline = conf_now_ms() + CONF_PARSE_TIMEOUT * OMNI_SLOWDOWN;

	imsgbuf_init(&ib, sv[0]);
	memset(&cf, 0, sizeof(cf));
	strlcpy(cf.path, path, sizeof(cf.path));
	/* imsg_compose owns fd from here on, even on failure. */
	if (imsg_compose(&ib, IMSG_CONF_FILE, 0, fd, &cf, sizeof(cf)) == -1 ||
	    imsgbuf_flush(&ib) == -1) {
		snprintf(err, errlen, "cannot send %s to the config parser: "
		    "%s", path, strerror(errno));
		goto done;
	}

	config_defaults(conf);
	conf->has_nucleus = 0;
	while (state < 2) {
		if ((n = imsg_get(&ib, &im)) == -1) {
			snprintf(err, errlen, "config parser: malformed "
			    "message");
			goto done;
		}
		if (n == 1) {
			if (conf_take(conf, &im, &state, err, errlen) == -1) {
				if (im.fd != -1)
					close(im.fd);
				if (im.data != NULL)
					sodium_memzero(im.data, im.hdr.len);
				imsg_free(&im);
				goto done;
			}
			if (im.data != NULL)
				sodium_memzero(im.data, im.hdr.len);
			imsg_free(&im);
			continue;
		}
		timeout = deadline - conf_now_ms();
		if (timeout <= 0) {
			snprintf(err, errlen, "config parser did not answer "
			    "within %d seconds", CONF_PARSE_TIMEOUT / 1000);
			goto done;
		}
		pfd.fd = sv[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout) == -1 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto done;
		}
		if (pfd.revents == 0)
			continue;
		n = imsgbuf_read(&ib);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		/* A child that died unread leaves ECONNRESET: the same. */
		if (n == -1 && errno != ECONNRESET) {
			snprintf(err, errlen, "config parser: %s",
			    strerror(errno));
			goto done;
		}
		if (n <= 0) {
			snprintf(err, errlen, "config parser exited without "
			    "an answer");
			eof = 1;
			goto done;
		}
	}
	r = 0;
 done:
	sodium_memzero(ib.rbuf, sizeof(ib.rbuf));
	imsgbuf_clear(&ib);
	close(sv[0]);
	/*
	 * After an answer or its end of stream the child is exiting:
	 * give it a moment.  A child that broke the protocol or hung is
	 * killed at once.
	 */
	status = conf_wait(pid, conf_now_ms() + (state >= 2 || eof ?
	    1000 : 0));
	/*
	 * How it ended matters when it ended the stream or claimed
	 * success; otherwise the error already said what went wrong
	 * (and a SIGKILL is ours).
	 */
	if ((eof || state == 2) &&
	    conf_child_status(status, err, errlen) == -1)
		r = -1;
	return r;
}

/* Without root there is no sandbox to enter and nothing to protect. */
static int
conf_parse_local(const char *path, int fd, struct omni_conf *conf,
    char *err, size_t errlen)
{
	char	*buf;
	size_t	 len;
	int	 r;

	r = parse_read_fd(fd, path, &buf, &len, err, errlen);
	close(fd);
	if (r == -1)
		return -1;
	r = parse_buffer(path, buf, len, conf, err, errlen);
	sodium_memzero(buf, len);
	free(buf);
	return r;
}

/* --- checks of what came back -------------------------------------------- */

static int
conf_addr_ok(const struct omni_addr *a)
{
	return (a->sa.sa_family == AF_INET || a->sa.sa_family == AF_INET6) &&
	    omni_addr_port(a) != 0;
}

static int
conf_prefix_ok(const struct omni_prefix *p)
{
	return (p->af == AF_INET && p->plen >= 1 && p->plen <= 32) ||
	    (p->af == AF_INET6 && p->plen >= 1 && p->plen <= 128);
}

#define STROK(f)	omni_str_valid((f), sizeof(f))

/* One secret source exactly: an inline secret or a file. */
static int
conf_secret_ok(const char *secret, size_t ssize, const char *file,
    size_t fsize)
{
	if (!omni_str_valid(secret, ssize) || !omni_str_valid(file, fsize))
		return 0;
	return (secret[0] != '\0') != (file[0] != '\0');
}

/*
 * The child is sandboxed because it might be subverted: check every
 * invariant the rest of omnid relies on, whatever the child said.
 */
static int
conf_validate(const struct omni_conf *conf, char *err, size_t errlen)
{
	const struct conf_global	*g = &conf->global;
	const struct conf_nucleus	*n = &conf->nucleus;
	const struct conf_iface		*ifc;
	int				 i, j;

	if (!STROK(g->user) || g->user[0] == '\0' || !STROK(g->chroot) ||
	    g->chroot[0] != '/' || !STROK(g->control) ||
	    g->control[0] != '/' || strlen(g->control) > 107 ||
	    !STROK(g->control_ro) || (g->control_ro[0] != '\0' &&
	    strcmp(g->control_ro, "none") != 0 && (g->control_ro[0] != '/' ||
	    strlen(g->control_ro) > 107)) ||
	    !STROK(g->wireguard_go) || g->wireguard_go[0] != '/' ||
	    !conf_addr_ok(&g->metrics) || g->verbose < 0 ||
	    g->verbose > CONF_MAX_VERBOSE || (g->metrics_enabled != 0 &&
	    g->metrics_enabled != 1))
		goto bad;
	if (conf->has_nucleus && (!conf_addr_ok(&n->listen) ||
	    !conf_secret_ok(n->secret, sizeof(n->secret), n->secret_file,
	    sizeof(n->secret_file)) || n->peer_timeout < 5 ||
	    n->peer_timeout > 3600 || !STROK(n->identity) ||
	    n->identity[0] != '/' ||
	    n->max_edges < OMNI_NUCLEUS_EDGES_MIN ||
	    n->max_edges > OMNI_NUCLEUS_EDGES_MAX ||
	    n->max_clusters < OMNI_NUCLEUS_CLUSTERS_MIN ||
	    n->max_clusters > OMNI_NUCLEUS_CLUSTERS_MAX ||
	    n->rate_limit < OMNI_NUCLEUS_RATE_MIN ||
	    n->rate_limit > OMNI_NUCLEUS_RATE_MAX))
		goto bad;
	if (conf->niface < 0 || conf->niface > OMNI_MAX_IFACES ||
	    (!conf->has_nucleus && conf->niface == 0))
		goto bad;
	for (i = 0; i < conf->niface; i++) {
		ifc = &conf->ifaces[i];
		if (!STROK(ifc->name) || ifc->name[0] == '\0' ||
		    !STROK(ifc->cluster) || ifc->cluster[0] == '\0' ||
		    !conf_secret_ok(ifc->secret, sizeof(ifc->secret),
		    ifc->secret_file, sizeof(ifc->secret_file)) ||
		    !STROK(ifc->identity) || ifc->identity[0] != '/' ||
		    !conf_prefix_ok(&ifc->address) || ifc->listen_port == 0 ||
		    ifc->mtu < 1280 || ifc->mtu > 9000 ||
		    ifc->keepalive > 3600 || ifc->heartbeat < 1 ||
		    ifc->heartbeat > 600 || ifc->peer_timeout < 5 ||
		    ifc->peer_timeout > 3600 ||
		    ifc->backend < BACKEND_AUTO ||
		    ifc->backend > BACKEND_KERNEL ||
		    ifc->nnuclei < 1 || ifc->nnuclei > OMNI_MAX_NUCLEI)
			goto bad;
		for (j = 0; j < ifc->nnuclei; j++)
			if (!conf_addr_ok(&ifc->nuclei[j]))
				goto bad;
		if (ifc->nstun < 0 || ifc->nstun > OMNI_MAX_STUN ||
		    ifc->stun_interval < 5 || ifc->stun_interval > 3600)
			goto bad;
		for (j = 0; j < ifc->nstun; j++)
			if (!conf_addr_ok(&ifc->stun[j]))
				goto bad;
		for (j = 0; j < i; j++)
			if (strcmp(conf->ifaces[j].name, ifc->name) == 0 ||
			    conf->ifaces[j].listen_port == ifc->listen_port)
				goto bad;
	}
	return 0;
 bad:
	snprintf(err, errlen, "config parser: inconsistent configuration");
	return -1;
}

/* --- parent-side checks -------------------------------------------------- */

/*
 * Read a secret file into out: same ownership rules as omni.conf,
 * readable by nobody else, one trailing newline dropped, 16 to 127
 * printable characters.
 */
static int
conf_read_secret(const char *path, char *out, size_t outsize, char *err,
    size_t errlen)
{
	char		 buf[CONF_SECRET_MAX + 3];
	struct stat	 st;
	size_t		 len = 0, i;
	ssize_t		 n;
	int		 fd, r = -1;

	if ((fd = conf_open(path, &st, err, errlen)) == -1)
		return -1;
	if (conf_check_perm(path, &st, 1, err, errlen) == -1)
		goto done;
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: read: %s", path,
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	for (i = 0; i < len; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
			snprintf(err, errlen, "%s: expected a secret of "
			    "printable characters on one line", path);
			goto done;
		}
	}
	if (len < OMNI_SECRET_MIN || len > CONF_SECRET_MAX ||
	    len >= outsize) {
		snprintf(err, errlen, "%s: expected a secret of %d to %d "
		    "characters, got %s%zu", path, OMNI_SECRET_MIN,
		    CONF_SECRET_MAX, len > CONF_SECRET_MAX ? "more than " : "",
		    len > CONF_SECRET_MAX ? (size_t)CONF_SECRET_MAX : len);
		goto done;
	}
	memcpy(out, buf, len);
	out[len] = '\0';
	r = 0;
 done:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return r;
}

static int
conf_has_inline_secret(const struct omni_conf *conf)
{
	int	 i;

	if (conf->has_nucleus && conf->nucleus.secret_file[0] == '\0')
		return 1;
	for (i = 0; i < conf->niface; i++)
		if (conf->ifaces[i].secret_file[0] == '\0')
			return 1;
	return 0;
}

static int
conf_parent_checks(const char *path, const struct stat *st,
    struct omni_conf *conf, char *err, size_t errlen)
{
	struct conf_iface	*ifc;
	struct passwd		*pw;
	int			 i;

	/* The parser used the default; the children use this one. */
	if (geteuid() == 0 && strcmp(conf->global.chroot, OMNI_CHROOT) != 0 &&
	    conf_chroot_dir(conf->global.chroot, err, errlen) == -1)
		return -1;
	if (conf_has_inline_secret(conf) && (st->st_mode & S_IROTH)) {
		snprintf(err, errlen, "%s: holds secrets and is readable by "
		    "others, refusing (chmod o-r, or use secret-file)", path);
		return -1;
	}
	if (conf->has_nucleus && conf->nucleus.secret_file[0] != '\0' &&
	    conf_read_secret(conf->nucleus.secret_file, conf->nucleus.secret,
	    sizeof(conf->nucleus.secret), err, errlen) == -1)
		return -1;
	for (i = 0; i < conf->niface; i++) {
		ifc = &conf->ifaces[i];
		if (ifc->secret_file[0] != '\0' &&
		    conf_read_secret(ifc->secret_file, ifc->secret,
		    sizeof(ifc->secret), err, errlen) == -1)
			return -1;
	}

	if ((pw = getpwnam(conf->global.user)) == NULL) {
		snprintf(err, errlen, "user %s does not exist%s",
		    conf->global.user, strcmp(conf->global.user, OMNI_USER) ==
		    0 ? " (make install creates it)" : "");
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "user %s: the children must not run as "
		    "root (uid or gid 0)", conf->global.user);
		return -1;
	}
	conf->global.uid = pw->pw_uid;
	conf->global.gid = pw->pw_gid;
	return 0;
}

/* --- interface ----------------------------------------------------------- */

static int	conf_load_open(const char *, int, struct stat *, const char *,
		    int, int, struct omni_conf *, char *, size_t);

int
config_load(const char *path, const char *self_exe, int debug, int verbose,
    struct omni_conf *conf, char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd;

	if (errlen)
		err[0] = '\0';
	config_defaults(conf);
	if (strlen(path) >= OMNI_PATHSIZ) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = conf_open(path, &st, err, errlen)) == -1)
		return -1;
	return conf_load_open(path, fd, &st, self_exe, debug, verbose, conf,
	    err, errlen);
}

/*
 * The same from a descriptor the caller keeps (omnid's command-line
 * quick start writes its configuration into a memfd): it is read
 * from its start every time, so a reload reads it again.
 */
int
config_load_fd(const char *name, int keepfd, const char *self_exe,
    int debug, int verbose, struct omni_conf *conf, char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd;

	if (errlen)
		err[0] = '\0';
	config_defaults(conf);
	if (lseek(keepfd, 0, SEEK_SET) == -1 ||
	    (fd = fcntl(keepfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: fstat: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return conf_load_open(name, fd, &st, self_exe, debug, verbose, conf,
	    err, errlen);
}

static int
conf_load_open(const char *path, int fd, struct stat *stp,
    const char *self_exe, int debug, int verbose, struct omni_conf *conf,
    char *err, size_t errlen)
{
	struct stat	 st = *stp;
	int		 r;

	if (conf_check_perm(path, &st, 0, err, errlen) == -1) {
		close(fd);
		return -1;
	}
	if (geteuid() == 0)
		r = conf_parse_child(path, fd, self_exe, debug, verbose, conf,
		    err, errlen);
	else
		r = conf_parse_local(path, fd, conf, err, errlen);
	if (r == 0)
		r = conf_validate(conf, err, errlen);
	if (r == 0)
		r = conf_parent_checks(path, &st, conf, err, errlen);
	if (r == -1) {
		config_clear(conf);
		config_defaults(conf);
		if (errlen && err[0] == '\0')
			snprintf(err, errlen, "%s: cannot load", path);
	}
	return r;
}

int
config_has_secrets(const struct omni_conf *conf)
{
	int	 i;

	if (conf->has_nucleus && conf->nucleus.secret[0] != '\0')
		return 1;
	for (i = 0; i < conf->niface; i++)
		if (conf->ifaces[i].secret[0] != '\0')
			return 1;
	return 0;
}

void
config_clear(struct omni_conf *conf)
{
	int	 i;

	sodium_memzero(conf->nucleus.secret, sizeof(conf->nucleus.secret));
	for (i = 0; i < OMNI_MAX_IFACES; i++)
		sodium_memzero(conf->ifaces[i].secret,
		    sizeof(conf->ifaces[i].secret));
}

/* --- printing ---------------------------------------------------------- */

/* A string as a YAML scalar: plain when safe, else double-quoted. */
static void
conf_print_str(FILE *fp, const char *s)
{
	const char	*p;
	int		 plain = s[0] != '\0';

	if (!(s[0] == '/' || s[0] == '.' || s[0] == '_' ||
	    (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	    (s[0] >= '0' && s[0] <= '9')))
		plain = 0;
	for (p = s; *p != '\0' && plain; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '.' ||
		    *p == '_' || *p == '-' || (*p == ':' && p[1] != '\0')))
			plain = 0;
	/* words YAML would read as something else than a string */
	if (plain && (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") ==
	    0 || strcasecmp(s, "yes") == 0 || strcasecmp(s, "no") == 0 ||
	    strcasecmp(s, "on") == 0 || strcasecmp(s, "off") == 0 ||
	    strcasecmp(s, "null") == 0 || strspn(s, "0123456789.") ==
	    strlen(s)))
		plain = 0;
	if (plain) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		/*
		 * NEL (U+0085), LS and PS: YAML reads them back as line
		 * breaks (fuzz_config's round trip found NEL).
		 */
		else if ((unsigned char)p[0] == 0xc2 &&
		    (unsigned char)p[1] == 0x85) {
			fputs("\\N", fp);
			p++;
		} else if ((unsigned char)p[0] == 0xe2 &&
		    (unsigned char)p[1] == 0x80 &&
		    ((unsigned char)p[2] == 0xa8 ||
		    (unsigned char)p[2] == 0xa9)) {
			fputs((unsigned char)p[2] == 0xa8 ? "\\L" : "\\P", fp);
			p += 2;
		} else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", (unsigned char)*p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

static void
conf_print_kv(FILE *fp, const char *indent, const char *key, const char *s)
{
	fprintf(fp, "%s%s: ", indent, key);
	conf_print_str(fp, s);
	fputc('\n', fp);
}

static void
conf_print_addr(FILE *fp, const char *indent, const char *key,
    const struct omni_addr *a)
{
	char	 buf[OMNI_ADDRSTRLEN];

	conf_print_kv(fp, indent, key, omni_addr_str(a, buf, sizeof(buf)));
}

static void
conf_print_secret(FILE *fp, const char *indent, const char *file)
{
	if (file[0] != '\0')
		conf_print_kv(fp, indent, "secret-file", file);
	else
		fprintf(fp, "%ssecret: (hidden)\n", indent);
}

/*
 * The read-only control socket's path: the configured one, none (an
 * empty string), or by default the control socket's path with its
 * ".sock" turned into ".rsock" (".rsock" appended to any other name),
 * so that omnid instances with distinct control sockets never share
 * a read-only one.  -1 when the derived path does not fit sun_path.
 */
int
config_ctl_ro_path(const char *control, const char *ro, char *buf,
    size_t len)
{
	size_t	 n = strlen(control);

	buf[0] = '\0';
	if (strcmp(ro, "none") == 0)
		return 0;
	if (ro[0] != '\0') {
		if (strlcpy(buf, ro, len) >= len)
			return -1;
		return 0;
	}
	if (n >= 5 && strcmp(control + n - 5, ".sock") == 0)
		n -= 5;
	if ((size_t)snprintf(buf, len, "%.*s.rsock", (int)n, control) >=
	    len || strlen(buf) > 107) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

static const char *
conf_backend_name(int b)
{
	switch (b) {
	case BACKEND_USERSPACE:	return "userspace";
	case BACKEND_KERNEL:	return "kernel";
	default:		return "auto";
	}
}

void
config_print(FILE *fp, const struct omni_conf *conf)
{
	const struct conf_global	*g = &conf->global;
	const struct conf_iface		*ifc;
	char				 buf[OMNI_PREFIXSTRLEN];
	char				 ro[OMNI_PATHSIZ];
	int				 i, j;

	conf_print_kv(fp, "", "user", g->user);
	conf_print_kv(fp, "", "chroot", g->chroot);
	conf_print_kv(fp, "", "control-socket", g->control);
	if (config_ctl_ro_path(g->control, g->control_ro, ro,
	    sizeof(ro)) == -1 || ro[0] == '\0')
		conf_print_kv(fp, "", "control-socket-readonly", "none");
	else
		conf_print_kv(fp, "", "control-socket-readonly", ro);
	conf_print_kv(fp, "", "wireguard-go", g->wireguard_go);
	fprintf(fp, "verbose: %d\n", g->verbose);
	fprintf(fp, "metrics:\n  enable: %s\n",
	    g->metrics_enabled ? "true" : "false");
	conf_print_addr(fp, "  ", "listen", &g->metrics);
	if (conf->has_nucleus) {
		fprintf(fp, "nucleus:\n");
		conf_print_addr(fp, "  ", "listen", &conf->nucleus.listen);
		conf_print_secret(fp, "  ", conf->nucleus.secret_file);
		fprintf(fp, "  peer-timeout: %u\n",
		    conf->nucleus.peer_timeout);
		conf_print_kv(fp, "  ", "identity", conf->nucleus.identity);
		fprintf(fp, "  max-edges: %u\n", conf->nucleus.max_edges);
		fprintf(fp, "  max-clusters: %u\n",
		    conf->nucleus.max_clusters);
		fprintf(fp, "  rate-limit: %u\n", conf->nucleus.rate_limit);
	}
	if (conf->niface == 0) {
		fprintf(fp, "interfaces: []\n");
		return;
	}
	fprintf(fp, "interfaces:\n");
	for (i = 0; i < conf->niface; i++) {
		ifc = &conf->ifaces[i];
		fprintf(fp, "  - ");
		conf_print_kv(fp, "", "name", ifc->name);
		conf_print_kv(fp, "    ", "cluster", ifc->cluster);
		conf_print_secret(fp, "    ", ifc->secret_file);
		conf_print_kv(fp, "    ", "address",
		    omni_prefix_str(&ifc->address, buf, sizeof(buf)));
		fprintf(fp, "    listen-port: %u\n", ifc->listen_port);
		conf_print_kv(fp, "    ", "identity", ifc->identity);
		fprintf(fp, "    mtu: %u\n", ifc->mtu);
		fprintf(fp, "    keepalive: %u\n", ifc->keepalive);
		fprintf(fp, "    heartbeat: %u\n", ifc->heartbeat);
		fprintf(fp, "    peer-timeout: %u\n", ifc->peer_timeout);
		fprintf(fp, "    backend: %s\n",
		    conf_backend_name(ifc->backend));
		fprintf(fp, "    nuclei:\n");
		for (j = 0; j < ifc->nnuclei; j++) {
			fprintf(fp, "      - ");
			conf_print_str(fp, omni_addr_str(&ifc->nuclei[j], buf,
			    sizeof(buf)));
			fputc('\n', fp);
		}
		fprintf(fp, "    stun-servers:%s\n", ifc->nstun ? "" : " []");
		for (j = 0; j < ifc->nstun; j++) {
			fprintf(fp, "      - ");
			conf_print_str(fp, omni_addr_str(&ifc->stun[j], buf,
			    sizeof(buf)));
			fputc('\n', fp);
		}
		fprintf(fp, "    stun-interval: %u\n", ifc->stun_interval);
	}
}
