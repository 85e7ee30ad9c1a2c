/*
 * wgctld: the WireGuard peer state engine and the control socket.
 *
 * peers.c is the pure part (no libevent, no sockets): per interface
 * the desired peer set (from signaling) and the applied set (what the
 * parent configured), and the diff between them.  control.c serves
 * omnictl clients; wgctld.c holds main, the channel to the parent and
 * the live statistics requests both the control socket and the
 * metrics use.
 */
#ifndef WGCTLD_H
#define WGCTLD_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <time.h>

#include "imsg.h"
#include "omni.h"

/* Bounds on what the parent may make us hold. */
#define PEERS_MAX_SET		65536	/* peers in one interface's set */
#define PEERS_MAX_STATE		(PEERS_MAX_SET * OMNI_MAX_IFACES)

struct peer {
	RB_ENTRY(peer)		 p_entry;
	RB_ENTRY(peer)		 p_vip_entry;	/* staging set only */
	uint8_t			 p_pubkey[OMNI_KEYLEN];
	struct omni_prefix	 p_vip;		/* as signaling sent it */
	struct omni_addr	 p_endpoint;	/* AF_UNSPEC: none */
	uint16_t		 p_keepalive;	/* applied set only */
};
RB_HEAD(peer_tree, peer);
RB_PROTOTYPE(peer_tree, peer, p_entry, peer_cmp)
RB_HEAD(peer_vip_tree, peer);
RB_PROTOTYPE(peer_vip_tree, peer, p_vip_entry, peers_vip_cmp)

/* One WireGuard interface as wgctld knows it. */
struct pif {
	TAILQ_ENTRY(pif)	 pi_entry;
	struct iface_info	 pi_info;
	int			 pi_configured;	/* in the running config */
	int			 pi_have_desired; /* a peer set arrived */
	struct peer_tree	 pi_desired;
	size_t			 pi_ndesired;
	struct peer_tree	 pi_applied;
	size_t			 pi_napplied;
	/* from the latest statistics poll (status.c) */
	size_t			 pi_nstats;	/* peers WireGuard has */
	size_t			 pi_npath[OMNI_PATH_MAX + 1];
	uint64_t		 pi_handshakes;
	time_t			 pi_stats_when;
};
TAILQ_HEAD(pif_list, pif);

/* The changes that bring an interface's applied set to its desired set. */
struct peer_diff {
	struct wg_peer_req	*pd_set;	/* new or changed peers */
	size_t			 pd_nset;
	struct wg_peer_req	*pd_del;	/* applied, no longer desired */
	size_t			 pd_ndel;
};

struct peer_engine {
	struct pif_list		 pe_ifaces;

	/* configuration being received, swapped in on RECONF_END */
	struct iface_info	 pe_stage[OMNI_MAX_IFACES];
	int			 pe_nstage;
	int			 pe_stage_bad;

	/* one interface's peer set being received */
	int			 pe_set_open;
	int			 pe_set_bad;
	struct peer_set_hdr	 pe_set_hdr;
	struct peer_tree	 pe_set;
	struct peer_vip_tree	 pe_set_vips;	/* duplicate VIP check */
	size_t			 pe_set_n;

	/* the applied state the parent reports after a (re)start */
	struct wg_peer_req	*pe_state;
	size_t			 pe_nstate;
	size_t			 pe_state_cap;
	int			 pe_state_bad;
};

/* peers.c */
void		 peers_init(struct peer_engine *);
void		 peers_free(struct peer_engine *);
int		 peers_reconf_iface(struct peer_engine *,
		    const struct iface_info *);
int		 peers_reconf_end(struct peer_engine *);
int		 peers_set_begin(struct peer_engine *,
		    const struct peer_set_hdr *);
int		 peers_set_peer(struct peer_engine *, const struct omni_peer *);
struct pif	*peers_set_end(struct peer_engine *,
		    const struct peer_set_hdr *);
int		 peers_state_peer(struct peer_engine *,
		    const struct wg_peer_req *);
int		 peers_state_end(struct peer_engine *);
struct pif	*peers_iface(struct peer_engine *, uint32_t);
const struct peer *peers_lookup(const struct pif *, const uint8_t *);
int		 peers_diff(const struct pif *, struct peer_diff *);
void		 peers_commit(struct pif *, const struct peer_diff *);
void		 peers_diff_free(struct peer_diff *);
void		 peers_set_session_check(int (*)(uint32_t, const uint8_t *));
void		 peers_host_prefix(const struct omni_prefix *,
		    struct omni_prefix *);
int		 peers_prefix_match(const struct omni_prefix *,
		    const struct omni_prefix *);
int		 peers_key_zero(const uint8_t *);

/* wgctld.c: live statistics from the parent, one request per interface */
struct stats_req;
typedef void	(*stats_cb)(struct stats_req *, void *);

struct stats_req {
	TAILQ_ENTRY(stats_req)	 sr_entry;
	uint32_t		 sr_id;
	uint32_t		 sr_ifid;
	struct wg_peer_stats	*sr_peers;
	size_t			 sr_npeers;
	size_t			 sr_cap;
	int			 sr_done;	/* STATS_END arrived */
	stats_cb		 sr_cb;
	void			*sr_arg;
};

struct stats_req *stats_request(uint32_t, stats_cb, void *);
void		 stats_req_free(struct stats_req *);
int		 wgctld_to_parent(uint32_t, uint32_t, const void *, size_t);

/* status.c: omnictl show status / show nucleus, and metrics state */
#define STATUS_MAX_SIG		(OMNI_MAX_IFACES * OMNI_MAX_NUCLEI + 1)
#define STATUS_STALE		10	/* seconds a status stays valid */

void		 status_init(time_t);
void		 status_free(void);
int		 status_path(int64_t, time_t);
const char	*status_path_name(int);
/* issue 7: peer paths from signald */
int		 status_peer_path(int64_t, time_t, const struct peer_path *);
const char	*status_path_reason(int, const struct peer_path *);
int		 status_path_set(const struct peer_path *);
const struct peer_path *status_path_get(uint32_t, const uint8_t *);
int		 status_session_live(uint32_t, const uint8_t *);
void		 status_path_prune(struct peer_engine *);
void		 status_observe(struct pif *, const struct wg_peer_stats *,
		    size_t, time_t);
int		 status_parent_set(const struct parent_status *, time_t);
int		 status_sig_set(const struct sig_status *, time_t);
void		 status_expire(time_t);
int		 status_nucleus_next(struct peer_engine *, time_t, int *,
		    struct ctl_nucleus *, int64_t *);
void		 status_fill(struct peer_engine *, time_t, struct ctl_status *);

/* control.c */
struct ctl_conn;

/* A client request after validation. */
struct ctl_request {
	uint32_t		 cr_type;
	struct ctl_show		 cr_show;
	int			 cr_verbose;
};

#define CTL_MAX_CLIENTS		32
#define CTL_PEERS_TIMEOUT	2	/* seconds for the parent's stats */
#define CTL_RELOAD_TIMEOUT	30	/* seconds for the parent's answer */
#define CTL_IDLE_TIMEOUT	10	/* seconds a client may say nothing */

void		 control_init(struct peer_engine *);
void		 control_listen(int, int);
void		 control_shutdown(void);
int		 control_validate(const struct imsg *, struct ctl_request *,
		    char *, size_t);
struct ctl_conn	*control_conn_new(int, int);
void		 control_conn_close(struct ctl_conn *);
int		 control_conn_request(struct ctl_conn *, struct imsg *);
void		 control_reload_result(uint32_t, const struct ctl_result *);

#endif
