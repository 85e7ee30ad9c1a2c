/*
 * Channels and sandbox.
 *
 * Each child is exec'd by the parent with its imsg socket at
 * OMNI_PARENT_FD and the arguments -U uid -G gid -R chroot [-d] [-v].
 * Before it runs its event loop it calls proc_sandbox(), which does,
 * in this order: chroot into the empty directory, drop to the
 * unprivileged uid and gid, clear every capability, set no_new_privs,
 * apply a Landlock ruleset that grants nothing (where the kernel has
 * Landlock), and install a seccomp allow-list whose default is to kill
 * the process.  Sockets it needs arrive afterwards, by descriptor
 * passing, so nothing after the sandbox needs the file system.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>

#include <linux/capability.h>
#include <linux/landlock.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <grp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

#if defined(__SANITIZE_ADDRESS__)
#define OMNI_ASAN
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OMNI_ASAN
#endif
#endif
#ifdef OMNI_ASAN
#include <sanitizer/lsan_interface.h>
#endif

/* --- channels ---------------------------------------------------------- */

void
imsgev_init(struct imsgev *iev, int fd, enum omni_proc peer,
    const struct proc_dispatch *table, void (*closed)(struct imsgev *),
    void *arg)
{
	imsgbuf_init(&iev->ibuf, fd);
	iev->peer = peer;
	iev->table = table;
	iev->closed = closed;
	iev->arg = arg;
	iev->events = EV_READ;
	/* Persistent: imsgev_update re-arms only when the set changes. */
	event_set(&iev->ev, fd, iev->events | EV_PERSIST, imsgev_dispatch,
	    iev);
	event_add(&iev->ev, NULL);
}

void
imsgev_clear(struct imsgev *iev)
{
	event_del(&iev->ev);
	imsgbuf_clear(&iev->ibuf);
	close(iev->ibuf.fd);
	iev->ibuf.fd = -1;
}

void
imsgev_update(struct imsgev *iev)
{
	short	 events = EV_READ;

	if (iev->ibuf.fd == -1)
		return;
	if (imsgbuf_pending(&iev->ibuf))
		events |= EV_WRITE;
	if (events == iev->events)
		return;
	event_del(&iev->ev);
	iev->events = events;
	event_set(&iev->ev, iev->ibuf.fd, events | EV_PERSIST,
	    imsgev_dispatch, iev);
	event_add(&iev->ev, NULL);
}

int
imsgev_compose(struct imsgev *iev, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	if (iev->ibuf.fd == -1) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return -1;
	}
	if (imsg_compose(&iev->ibuf, type, peerid, fd, data, len) == -1)
		return -1;
	imsgev_update(iev);
	return 0;
}

static void
imsgev_broken(struct imsgev *iev, const char *why)
{
	if (iev->closed == NULL)
		fatalx("channel to %s: %s", omni_proc_name(iev->peer), why);
	/* A client hanging up is routine; anything else is worth a warning. */
	if (strcmp(why, "closed") == 0)
		log_debug("channel to %s: %s", omni_proc_name(iev->peer), why);
	else
		log_warnx("channel to %s: %s", omni_proc_name(iev->peer), why);
	iev->closed(iev);
}

/*
 * Check one message against the table: known type, allowed sender,
 * exact length, descriptor as expected.  Returns the row or NULL.
 */
static const struct proc_dispatch *
imsgev_check(struct imsgev *iev, struct imsg *im, char *why, size_t whylen)
{
	const struct proc_dispatch	*d;

	for (d = iev->table; d->handler != NULL; d++)
		if (d->type == im->hdr.type)
			break;
	if (d->handler == NULL) {
		snprintf(why, whylen, "unexpected message type %u",
		    im->hdr.type);
		return NULL;
	}
	if ((d->from & PROC_BIT(iev->peer)) == 0) {
		snprintf(why, whylen, "message type %u not allowed from %s",
		    im->hdr.type, omni_proc_name(iev->peer));
		return NULL;
	}
	if (d->len != IMSG_LEN_ANY && im->hdr.len != d->len) {
		snprintf(why, whylen, "message type %u has length %u, "
		    "expected %zu", im->hdr.type, im->hdr.len, d->len);
		return NULL;
	}
	if (d->wants_fd != (im->fd != -1)) {
		snprintf(why, whylen, "message type %u %s a descriptor",
		    im->hdr.type, d->wants_fd ? "lacks" : "carries");
		return NULL;
	}
	return d;
}

void
imsgev_dispatch(int fd, short event, void *arg)
{
	struct imsgev			*iev = arg;
	const struct proc_dispatch	*d;
	struct imsg			 im;
	char				 why[128];
	ssize_t				 n;
	int				 r;

	(void)fd;
	if (event & EV_WRITE) {
		if (imsgbuf_write(&iev->ibuf) == -1) {
			imsgev_broken(iev, strerror(errno));
			return;
		}
	}
	if (event & EV_READ) {
		n = imsgbuf_read(&iev->ibuf);
		if (n == -1 && errno != EAGAIN) {
			imsgev_broken(iev, strerror(errno));
			return;
		}
		if (n == 0) {
			imsgev_broken(iev, "closed");
			return;
		}
	}
	for (;;) {
		r = imsg_get(&iev->ibuf, &im);
		if (r == -1) {
			imsgev_broken(iev, "malformed frame");
			return;
		}
		if (r == 0)
			break;
		if ((d = imsgev_check(iev, &im, why, sizeof(why))) == NULL) {
			if (im.fd != -1)
				close(im.fd);
			imsg_free(&im);
			imsgev_broken(iev, why);
			return;
		}
		d->handler(iev, &im);
		imsg_free(&im);
		if (iev->ibuf.fd == -1)
			return;		/* the handler closed the channel */
	}
	imsgev_update(iev);
}

/* --- child arguments ------------------------------------------------ */

/*
 * Every child takes: -d (foreground), -v (more verbose, repeatable),
 * -U uid, -G gid, -R chroot.
 */
static int
proc_child_args(int argc, char **argv, int *debug, int *verbose,
    uid_t *uid, gid_t *gid, char **root)
{
	const char	*errstr;
	int		 ch;

	*debug = 0;
	*verbose = 0;
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	*root = NULL;
	while ((ch = getopt(argc, argv, "dvU:G:R:")) != -1) {
		switch (ch) {
		case 'd':
			*debug = 1;
			break;
		case 'v':
			(*verbose)++;
			break;
		case 'U':
			*uid = strtonum(optarg, 1, UINT32_MAX - 1, &errstr);
			if (errstr)
				return -1;
			break;
		case 'G':
			*gid = strtonum(optarg, 1, UINT32_MAX - 1, &errstr);
			if (errstr)
				return -1;
			break;
		case 'R':
			*root = optarg;
			break;
		default:
			return -1;
		}
	}
	if (*uid == (uid_t)-1 || *gid == (gid_t)-1 || *root == NULL)
		return -1;
	return 0;
}

/*
 * The start every child shares: its arguments (a usage line naming cmd
 * and exit 1 when they are wrong), its log as name, and the sandbox
 * description filled with the identity and chroot the parent chose.
 * The caller adds its system calls and enters the sandbox itself, after
 * whatever it must do before (sodium_init, rlimits).
 */
void
proc_child_start(int argc, char **argv, const char *cmd, const char *name,
    struct proc_sandbox *sb)
{
	char	*root;
	uid_t	 uid;
	gid_t	 gid;
	int	 debug, verbose;

	if (proc_child_args(argc, argv, &debug, &verbose, &uid, &gid,
	    &root) == -1) {
		fprintf(stderr, "usage: %s -U uid -G gid -R chroot [-dv]\n",
		    cmd);
		exit(1);
	}
	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose);
	log_procinit(name);

	memset(sb, 0, sizeof(*sb));
	sb->name = name;
	sb->uid = uid;
	sb->gid = gid;
	sb->chroot = root;
}

/* --- sandbox -------------------------------------------------------- */

int
proc_landlock_abi(void)
{
	int	 abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : abi;
}

/*
 * A ruleset that handles every file-system right (and, from ABI 4,
 * TCP bind and connect) and grants none: the child can open no file
 * even if the chroot were escaped.
 */
static int
proc_landlock(const struct proc_sandbox *sb)
{
	struct {
		uint64_t	 fs;
		uint64_t	 net;
	} attr;
	int	 abi, fd;

	if ((abi = proc_landlock_abi()) == 0) {
		log_debug("landlock not offered by this kernel");
		return 0;
	}
	memset(&attr, 0, sizeof(attr));
	attr.fs = (1ULL << 13) - 1;		/* ABI 1: bits 0..12 */
	if (abi >= 2)
		attr.fs |= 1ULL << 13;		/* REFER */
	if (abi >= 3)
		attr.fs |= 1ULL << 14;		/* TRUNCATE */
	if (abi >= 5)
		attr.fs |= 1ULL << 15;		/* IOCTL_DEV */
	/*
	 * From ABI 4 network rights exist: bind and connect on TCP.
	 * A child that serves HTTP got its socket already bound, so it
	 * too may neither bind nor connect.
	 */
	if (abi >= 4)
		attr.net = 3;
	fd = syscall(SYS_landlock_create_ruleset, &attr,
	    abi >= 4 ? sizeof(attr) : sizeof(attr.fs), 0);
	if (fd == -1)
		fatal("landlock_create_ruleset");
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1)
		fatal("landlock_restrict_self");
	close(fd);
	(void)sb;
	return abi;
}

static const int proc_base_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getpid),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(getrandom),
	SCMP_SYS(fcntl), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
	SCMP_SYS(lseek), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(restart_syscall), SCMP_SYS(getsockopt),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(shutdown),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(sigaltstack),	/* sanitizer runtimes */
	-1
};

static void
proc_seccomp(const struct proc_sandbox *sb)
{
	scmp_filter_ctx	 ctx;
	struct scmp_arg_cmp unix_only;
	uint32_t	 deflt = SCMP_ACT_KILL_PROCESS;
	const int	*sc;
	int		 r;

	if (OMNI_UNDER_VALGRIND) {
		log_warnx("under valgrind: no seccomp filter");
		return;
	}
	/* For developing an allow-list: log instead of killing. */
	if (getenv("OMNI_SECCOMP_LOG") != NULL)
		deflt = SCMP_ACT_LOG;
	if ((ctx = seccomp_init(deflt)) == NULL)
		fatalx("seccomp_init failed");
	for (sc = proc_base_syscalls; *sc != -1; sc++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, *sc, 0)) < 0)
			fatalx("seccomp_rule_add: %s", strerror(-r));
	/*
	 * syslog(3) reconnects to /dev/log by itself when the log daemon
	 * went away: let it try (a unix datagram socket; inside the empty
	 * chroot the connect fails harmlessly) instead of killing us.
	 */
	memset(&unix_only, 0, sizeof(unix_only));
	unix_only.arg = 0;
	unix_only.op = SCMP_CMP_EQ;
	unix_only.datum_a = AF_UNIX;
	if ((r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket),
	    1, &unix_only)) < 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect),
	    0)) < 0)
		fatalx("seccomp_rule_add: %s", strerror(-r));
	if (sb->syscalls != NULL)
		for (sc = sb->syscalls; *sc != -1; sc++)
			if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, *sc,
			    0)) < 0)
				fatalx("seccomp_rule_add: %s", strerror(-r));
	if ((r = seccomp_load(ctx)) < 0)
		fatalx("seccomp_load: %s", strerror(-r));
	seccomp_release(ctx);
}

static void
proc_drop_caps(void)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	if (syscall(SYS_capset, &hdr, data) == -1)
		fatal("capset");
}

void
proc_sandbox(const struct proc_sandbox *sb)
{
	struct stat	 st;
	int		 abi;

#ifdef OMNI_ASAN
	/*
	 * make SANITIZE=1: LeakSanitizer's check at exit stops the world
	 * with ptrace, which the seccomp filter kills us for.  Check now,
	 * while that still works; the check at exit is then skipped.
	 */
	__lsan_do_leak_check();
#endif
	if (stat(sb->chroot, &st) == -1)
		fatal("chroot directory %s", sb->chroot);
	if (chroot(sb->chroot) == -1)
		fatal("chroot %s", sb->chroot);
	if (chdir("/") == -1)
		fatal("chdir /");
	if (setgroups(1, &sb->gid) == -1 ||
	    setresgid(sb->gid, sb->gid, sb->gid) == -1 ||
	    setresuid(sb->uid, sb->uid, sb->uid) == -1)
		fatal("cannot drop privileges to %u:%u",
		    (unsigned)sb->uid, (unsigned)sb->gid);
	/* setresuid from 0 clears the sets; make sure of it. */
	proc_drop_caps();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	abi = proc_landlock(sb);
	proc_seccomp(sb);
	log_debug("sandboxed: uid %u, root %s, landlock abi %d",
	    (unsigned)sb->uid, sb->chroot, abi);
}

/* --- spawning ------------------------------------------------------- */

/*
 * fork + exec a child program with its channel at OMNI_PARENT_FD and
 * the standard child arguments.  procarg, when set, is passed as
 * "-P procarg" first (used when omnid re-executes itself as a helper).
 * Every other descriptor except stdin/out/err is closed in the child.
 */
pid_t
proc_spawn(const char *path, const char *argv0, const char *procarg,
    int fd, uid_t uid, gid_t gid, const char *root, int debug, int verbose)
{
	char	*argv[16], ubuf[16], gbuf[16];
	int	 argc = 0, i;
	pid_t	 pid;

	snprintf(ubuf, sizeof(ubuf), "%u", (unsigned)uid);
	snprintf(gbuf, sizeof(gbuf), "%u", (unsigned)gid);
	argv[argc++] = (char *)argv0;
	if (procarg != NULL) {
		argv[argc++] = "-P";
		argv[argc++] = (char *)procarg;
	}
	argv[argc++] = "-U";
	argv[argc++] = ubuf;
	argv[argc++] = "-G";
	argv[argc++] = gbuf;
	argv[argc++] = "-R";
	argv[argc++] = (char *)root;
	if (debug)
		argv[argc++] = "-d";
	for (i = 0; i < verbose && i < 3; i++)
		argv[argc++] = "-v";
	argv[argc] = NULL;

	switch (pid = fork()) {
	case -1:
		log_warn("fork %s", argv0);
		return -1;
	case 0:
		break;
	default:
		return pid;
	}
	if (fd != OMNI_PARENT_FD) {
		if (dup2(fd, OMNI_PARENT_FD) == -1)
			_exit(127);
	} else if (fcntl(fd, F_SETFD, 0) == -1)
		_exit(127);
	if (close_range(OMNI_PARENT_FD + 1, ~0U, 0) == -1)
		_exit(127);
	execv(path, argv);
	dprintf(STDERR_FILENO, "omnid: exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* Arm a timer relative to now. */
void
proc_timer(struct event *ev, time_t sec, long usec)
{
	struct timeval	 tv;

	tv.tv_sec = sec;
	tv.tv_usec = usec;
	evtimer_add(ev, &tv);
}
