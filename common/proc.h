/*
 * Process plumbing shared by omnid and its children: imsg channels
 * driven by libevent with per-process dispatch tables, and the
 * sandbox every child enters before its event loop.
 */
#ifndef OMNI_PROC_H
#define OMNI_PROC_H

#include <event.h>

#include "imsg.h"
#include "omni.h"

struct imsgev;

#define IMSG_LEN_ANY	((size_t)-1)

/*
 * Under valgrind (regress/valgrind.t) a process runs 20-50 times
 * slower, which OMNI_SLOWDOWN scales the parent's waits for its
 * children by, and there is no seccomp(2) (valgrind does not implement
 * it), so the children go without their filter; every other step of
 * the sandbox stays.  Natively RUNNING_ON_VALGRIND is 0: only who
 * starts omnid under valgrind, root, can change that.
 */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define OMNI_UNDER_VALGRIND	(RUNNING_ON_VALGRIND != 0)
#else
#define OMNI_UNDER_VALGRIND	0
#endif
#define OMNI_SLOWDOWN		(OMNI_UNDER_VALGRIND ? 20 : 1)

/*
 * One row of a dispatch table: a message type, the processes allowed
 * to send it, its exact payload length (or IMSG_LEN_ANY for variable
 * ones the handler checks itself), whether it carries a descriptor,
 * and the handler.  A message that matches no row is fatal.
 */
struct proc_dispatch {
	uint32_t	 type;
	uint32_t	 from;		/* PROC_BIT mask */
	size_t		 len;
	int		 wants_fd;
	void		(*handler)(struct imsgev *, struct imsg *);
};

struct imsgev {
	struct imsgbuf			 ibuf;
	struct event			 ev;
	short				 events;
	enum omni_proc			 peer;	/* who is on the other end */
	const struct proc_dispatch	*table;
	/* called when the peer closed or sent garbage; NULL: fatal */
	void				(*closed)(struct imsgev *);
	void				*arg;
	uint32_t			 id;
	int				 fatal_on_error;
};

void	imsgev_init(struct imsgev *, int, enum omni_proc,
	    const struct proc_dispatch *, void (*)(struct imsgev *), void *);
void	imsgev_clear(struct imsgev *);
int	imsgev_compose(struct imsgev *, uint32_t, uint32_t, int,
	    const void *, size_t);
void	imsgev_update(struct imsgev *);
void	imsgev_dispatch(int, short, void *);

/* Sandbox of a child: see proc.c for the order of the steps. */
struct proc_sandbox {
	const char	*name;
	uid_t		 uid;
	gid_t		 gid;
	const char	*chroot;
	const int	*syscalls;	/* extra, terminated by -1 */
	int		 allow_tcp_bind;
};

void	proc_sandbox(const struct proc_sandbox *);
void	proc_child_start(int, char **, const char *, const char *,
	    struct proc_sandbox *);
int	proc_landlock_abi(void);
void	proc_timer(struct event *, time_t, long);
pid_t	proc_spawn(const char *, const char *, const char *, int, uid_t,
	    gid_t, const char *, int, int);

#endif
