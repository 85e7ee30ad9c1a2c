/*
 * Supervision of the children: start with the channel at the fixed
 * descriptor, notice death (SIGCHLD reaping and channel loss), log
 * why, restart with backoff and hand back configuration and state.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "omnid.h"

#define CHILD_BACKOFF_MIN	1
#define CHILD_BACKOFF_MAX	30
/* A child that ran this long before dying starts again at once. */
#define CHILD_STABLE_SECS	60

static void	child_timer(int, short, void *);
static void	child_closed(struct imsgev *);

/*
 * Find a child program: beside omnid in the build tree
 * (parent/omnid -> ../signald/signald), else in LIBEXECDIR.
 */
static void
child_locate(struct child *c)
{
	char		 dir[OMNI_PATHSIZ], try[OMNI_PATHSIZ * 2];
	struct stat	 st;

	strlcpy(dir, omnid->o_self, sizeof(dir));
	snprintf(try, sizeof(try), "%s/../%s/%s", dirname(dir), c->c_name,
	    c->c_name);
	if (stat(try, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 0111)) {
		if (realpath(try, c->c_path) == NULL)
			strlcpy(c->c_path, try, sizeof(c->c_path));
		return;
	}
	/* Installed: PREFIX/sbin/omnid -> PREFIX/libexec/omni/NAME. */
	strlcpy(dir, omnid->o_self, sizeof(dir));
	snprintf(try, sizeof(try), "%s/../libexec/omni/%s", dirname(dir),
	    c->c_name);
	if (stat(try, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 0111) && realpath(try, c->c_path) != NULL)
		return;
	snprintf(c->c_path, sizeof(c->c_path), "%s/%s", OMNI_LIBEXECDIR,
	    c->c_name);
}

void
children_init(void)
{
	static const struct {
		enum omni_proc			 proc;
		const char			*name;
		const struct proc_dispatch	*table;
		void				(*init)(struct child *);
	} defs[] = {
		{ PROC_SIGNALD, "signald", parent_from_signald,
		    parent_send_signald },
		{ PROC_WGCTLD, "wgctld", parent_from_wgctld,
		    parent_send_wgctld },
		{ PROC_METRICSD, "metricsd", parent_from_metricsd,
		    parent_send_metricsd },
	};
	struct child	*c;
	size_t		 i;

	for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		c = &omnid->o_children[defs[i].proc];
		memset(c, 0, sizeof(*c));
		c->c_proc = defs[i].proc;
		c->c_name = defs[i].name;
		c->c_table = defs[i].table;
		c->c_init = defs[i].init;
		c->c_pid = -1;
		c->c_iev.ibuf.fd = -1;
		c->c_backoff = CHILD_BACKOFF_MIN;
		evtimer_set(&c->c_timer, child_timer, c);
		child_locate(c);
		if (access(c->c_path, X_OK) == -1)
			fatal("child program %s", c->c_path);
	}
}

struct child *
child_get(enum omni_proc p)
{
	struct child	*c = &omnid->o_children[p];

	if (p >= PROC_MAX || c->c_name == NULL)
		return NULL;
	return c;
}

int
child_send(enum omni_proc p, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct child	*c = child_get(p);

	if (c == NULL || !c->c_running) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (imsgev_compose(&c->c_iev, type, peerid, fd, data, len) == -1) {
		log_warn("queue message %u to %s", type, c->c_name);
		return -1;
	}
	return 0;
}

void
child_start(struct child *c)
{
	const struct conf_global *g = &omnid->o_conf.global;
	int	 sp[2];

	c->c_wanted = 1;
	if (c->c_running)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sp) == -1) {
		log_warn("socketpair for %s", c->c_name);
		goto retry;
	}
	c->c_pid = proc_spawn(c->c_path, c->c_name, NULL, sp[1], g->uid,
	    g->gid, g->chroot, omnid->o_debug, omnid->o_verbose);
	close(sp[1]);
	if (c->c_pid == -1) {
		close(sp[0]);
		goto retry;
	}
	c->c_running = 1;
	c->c_started = time(NULL);
	imsgev_init(&c->c_iev, sp[0], c->c_proc, c->c_table, child_closed, c);
	log_debug("started %s, pid %d", c->c_name, (int)c->c_pid);
	c->c_init(c);
	return;
 retry:
	proc_timer(&c->c_timer, c->c_backoff, 0);
}

static void
child_timer(int fd, short ev, void *arg)
{
	child_start(arg);
}

static void
child_schedule(struct child *c)
{
	if (!c->c_wanted || omnid->o_exiting)
		return;
	if (time(NULL) - c->c_started >= CHILD_STABLE_SECS)
		c->c_backoff = CHILD_BACKOFF_MIN;
	log_info("restarting %s in %d s", c->c_name, c->c_backoff);
	c->c_restarts++;
	proc_timer(&c->c_timer, c->c_backoff, 0);
	c->c_backoff *= 2;
	if (c->c_backoff > CHILD_BACKOFF_MAX)
		c->c_backoff = CHILD_BACKOFF_MAX;
}

/* The channel broke: the child is dead or insane.  Kill, reap later. */
static void
child_closed(struct imsgev *iev)
{
	struct child	*c = iev->arg;

	imsgev_clear(&c->c_iev);
	if (c->c_pid != -1)
		kill(c->c_pid, SIGKILL);
}

/* Called by the SIGCHLD handler for every reaped pid. */
int
child_reaped(pid_t pid, int status)
{
	struct child	*c;
	int		 p;

	for (p = 0; p < PROC_MAX; p++) {
		c = &omnid->o_children[p];
		if (c->c_name == NULL || c->c_pid != pid)
			continue;
		if (WIFSIGNALED(status))
			log_warnx("%s (pid %d) died: signal %d (%s)%s",
			    c->c_name, (int)pid, WTERMSIG(status),
			    strsignal(WTERMSIG(status)),
			    WTERMSIG(status) == SIGSYS ?
			    ", a system call outside its seccomp filter" : "");
		else if (!omnid->o_exiting || WEXITSTATUS(status) != 0)
			log_warnx("%s (pid %d) exited with status %d",
			    c->c_name, (int)pid, WEXITSTATUS(status));
		c->c_pid = -1;
		c->c_running = 0;
		if (c->c_iev.ibuf.fd != -1)
			imsgev_clear(&c->c_iev);
		child_schedule(c);
		return 1;
	}
	return 0;
}

void
children_stop(void)
{
	struct child	*c;
	int		 p, status, left;
	pid_t		 pid;

	for (p = 0; p < PROC_MAX; p++) {
		c = &omnid->o_children[p];
		c->c_wanted = 0;
		if (c->c_name != NULL)
			evtimer_del(&c->c_timer);
		if (c->c_name != NULL && c->c_pid != -1) {
			if (c->c_iev.ibuf.fd != -1)
				imsgbuf_flush(&c->c_iev.ibuf);
			kill(c->c_pid, SIGTERM);
		}
	}
	/* Give them a second to say goodbye (signald deregisters). */
	for (left = 100 * OMNI_SLOWDOWN; left > 0; left--) {
		int	 alive = 0;

		for (p = 0; p < PROC_MAX; p++) {
			c = &omnid->o_children[p];
			if (c->c_name == NULL || c->c_pid == -1)
				continue;
			pid = waitpid(c->c_pid, &status, WNOHANG);
			if (pid == c->c_pid)
				c->c_pid = -1;
			else
				alive = 1;
		}
		if (!alive)
			return;
		usleep(10000);
	}
	for (p = 0; p < PROC_MAX; p++) {
		c = &omnid->o_children[p];
		if (c->c_name != NULL && c->c_pid != -1) {
			kill(c->c_pid, SIGKILL);
			waitpid(c->c_pid, &status, 0);
			c->c_pid = -1;
		}
	}
}
