/*
 * omnid, the privileged parent: shared state of its files.
 */
#ifndef OMNID_H
#define OMNID_H

#include <sys/queue.h>

#include "omni.h"
#include "proc.h"
#include "config.h"
#include "wg.h"

/* One applied WireGuard peer, as the parent configured it. */
struct applied_peer {
	TAILQ_ENTRY(applied_peer)	 ap_entry;
	struct wg_peer_req		 ap_req;
};
TAILQ_HEAD(applied_peers, applied_peer);

/* A WireGuard interface this omnid manages (an edge role). */
struct iface {
	TAILQ_ENTRY(iface)	 if_entry;
	uint32_t		 if_id;
	struct conf_iface	 if_conf;
	uint8_t			 if_priv[OMNI_KEYLEN];
	uint8_t			 if_pub[OMNI_KEYLEN];
	uint8_t			 if_sigkey[OMNI_KEYLEN];
	uint8_t			 if_pskkey[OMNI_KEYLEN];
	struct wg_dev		 if_dev;
	int			 if_up;		/* device configured */
	struct applied_peers	 if_peers;
	int			 if_npeers;
	int			 if_sock4;	/* signaling, kept for restarts */
	int			 if_sock6;
	struct event		 if_retry;	/* re-create after wireguard-go died */
	int			 if_backoff;
	struct sig_reflexive	 if_reflexive;	/* latest STUN answer, time 0: none */
	int			 if_probe4;	/* issue 7: raw probe sockets */
	int			 if_probe6;
	uint16_t		 if_probe_port;	/* the port they filter on */
	/*
	 * The last complete peer set signald sent (at most OMNI_MAX_PEERS),
	 * replayed to a restarted wgctld: if_have_set 0 until one came.
	 */
	struct omni_peer	*if_set;
	uint32_t		 if_nset;
	int			 if_have_set;
};
TAILQ_HEAD(ifaces, iface);

struct child {
	enum omni_proc		 c_proc;
	const char		*c_name;
	char			 c_path[OMNI_PATHSIZ];
	pid_t			 c_pid;
	struct imsgev		 c_iev;
	int			 c_running;
	int			 c_wanted;
	time_t			 c_started;
	int			 c_backoff;	/* seconds before next start */
	uint64_t		 c_restarts;
	struct event		 c_timer;
	const struct proc_dispatch *c_table;
	void			(*c_init)(struct child *);
};

struct omnid {
	struct omni_conf	 o_conf;
	struct ifaces		 o_ifaces;
	uint32_t		 o_next_ifid;
	char			 o_conffile[OMNI_PATHSIZ];
	int			 o_conffd;	/* quick start: a memfd */
	char			 o_self[OMNI_PATHSIZ];
	char			 o_ctlpath[OMNI_PATHSIZ];
	int			 o_ctlpath_set;
	int			 o_debug;
	int			 o_verbose;
	int			 o_nucleus_sock;
	uint8_t			 o_nucleus_root[OMNI_KEYLEN];
	struct omni_addr	 o_nucleus_addr;
	uint32_t		 o_nucleus_rate;	/* its rcvbuf's rate-limit */
	int			 o_ctl_sock;
	int			 o_ctl_ro_sock;	/* read-only, for monitoring */
	char			 o_ctlropath[OMNI_PATHSIZ];
	time_t			 o_started;
	int			 o_metrics_sock;
	struct omni_addr	 o_metrics_addr;
	uint64_t		 o_reload_ok;
	uint64_t		 o_reload_failed;
	uint64_t		 o_paths_invalid;	/* issue 7: from signald */
	int			 o_exiting;
	struct child		 o_children[PROC_MAX];
};

extern struct omnid *omnid;

/* children.c */
void	 children_init(void);
void	 child_start(struct child *);
int	 child_reaped(pid_t, int);
void	 children_stop(void);
struct child *child_get(enum omni_proc);
int	 child_send(enum omni_proc, uint32_t, uint32_t, int, const void *,
	    size_t);
void	 child_sendconf(struct child *);

/* omnid.c */
struct iface *iface_find(uint32_t);
void	 parent_send_signald(struct child *);
void	 parent_send_wgctld(struct child *);
void	 parent_send_metricsd(struct child *);
extern const struct proc_dispatch parent_from_signald[];
extern const struct proc_dispatch parent_from_wgctld[];
extern const struct proc_dispatch parent_from_metricsd[];

#endif
