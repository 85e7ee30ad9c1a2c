/*
 * signald: the signaling child.  Nucleus role (nucleus.c: a registry
 * of edges per cluster, answering over UDP) and edge role (edge.c:
 * register with the nuclei of each interface, report the peer set to
 * the parent).  Both are free of sockets and of the event loop so the
 * unit tests can drive them; signald.c does the I/O.
 */
#ifndef SIGNALD_H
#define SIGNALD_H

#include <stddef.h>
#include <stdint.h>

#include "omni.h"
#include "proto.h"

/* --- nucleus.c ------------------------------------------------------ */

/*
 * The defaults of the table and global rate bounds; omni.conf(5)'s
 * nucleus: max-edges, max-clusters and rate-limit set others
 * (nucleus_set_limits).
 */
#define NUCLEUS_MAX_CLUSTERS	OMNI_NUCLEUS_CLUSTERS	/* 4096 */
#define NUCLEUS_MAX_EDGES	OMNI_NUCLEUS_EDGES	/* 65536, live */
#define NUCLEUS_EXPIRE_EVERY	5	/* seconds between sweeps */
#define NUCLEUS_MIN_TOMBSTONES	1024	/* kept per cluster at least */

/* Per source IP token bucket, and one for everything. */
#define RL_SLOTS		4096
#define RL_PROBES		8
#define RL_RATE			20	/* datagrams per second */
#define RL_BURST		40
#define RL_GLOBAL_RATE		OMNI_NUCLEUS_RATE	/* 10000 */
#define RL_GLOBAL_BURST		(2 * RL_GLOBAL_RATE)	/* 20000 */

/*
 * PUNCH (PROTOCOL.md, "Coordination"): when an edge joins or its entry
 * changes, the other live edges of its cluster are told at once, the
 * most recently changed first, at most NUCLEUS_PUNCH_FANOUT of them,
 * at most NUCLEUS_PUNCH_RATE datagrams a second over all clusters.
 */
#define NUCLEUS_PUNCH_FANOUT	64	/* edges told of one change */
#define NUCLEUS_PUNCH_QUEUE	1024	/* changes waiting to be told */
#define NUCLEUS_PUNCH_RATE	500	/* PUNCH datagrams per second */
#define NUCLEUS_PUNCH_BURST	1000

/* The answers to one datagram: at most a page of parts. */
struct sig_out {
	size_t		 n;
	size_t		 len[SIG_PAGE_PARTS];
	uint8_t		 buf[SIG_PAGE_PARTS][SIG_MAXDGRAM];
	/* nucleus_punches only: where each goes */
	struct omni_addr to[SIG_PAGE_PARTS];
};

/* Counters of the PUNCH fan-out, since the nucleus started. */
struct nucleus_punch_stats {
	uint64_t	 queued;	/* changes queued */
	uint64_t	 sent;		/* PUNCH datagrams */
	uint64_t	 capped;	/* edges not told: over the fan-out */
	uint64_t	 dropped;	/* changes not queued: queue full */
	size_t		 pending;	/* changes in the queue now */
};

struct nucleus;

struct nucleus	*nucleus_new(const uint8_t *, const uint8_t *, const uint8_t *,
		    uint32_t);
void		 nucleus_free(struct nucleus *);
void		 nucleus_set_timeout(struct nucleus *, uint32_t);
void		 nucleus_set_limits(struct nucleus *, uint32_t, uint32_t,
		    uint32_t);
int		 nucleus_same_root(const struct nucleus *, const uint8_t *,
		    const uint8_t *);
int		 nucleus_input(struct nucleus *, const uint8_t *, size_t,
		    const struct omni_addr *, const struct sig_clock *,
		    struct sig_out *);
void		 nucleus_expire(struct nucleus *, const struct sig_clock *);
size_t		 nucleus_nclusters(const struct nucleus *);
size_t		 nucleus_nedges(const struct nucleus *);
int		 nucleus_ratelimit(struct nucleus *, const struct omni_addr *,
		    uint64_t);
/* tests: the state of one edge (1 live, 0 tombstone, -1 unknown) */
int		 nucleus_edge_state(struct nucleus *, const char *,
		    const uint8_t *, struct sig_peer *);
uint64_t	 nucleus_cluster_version(struct nucleus *, const char *,
		    uint64_t *);
void		 nucleus_cookie(struct nucleus *, const struct omni_addr *,
		    const uint8_t *, const char *, uint8_t *);
size_t		 nucleus_punches(struct nucleus *, const struct sig_clock *,
		    struct sig_out *);
void		 nucleus_punch_stats(const struct nucleus *,
		    struct nucleus_punch_stats *);

/* --- edge.c --------------------------------------------------------- */

#define EDGE_MAX_PEERS		NUCLEUS_MAX_EDGES	/* per view */
#define EDGE_SILENT_BEATS	3	/* heartbeats without an answer */
#define EDGE_RECENT_REQS	8	/* requests an answer may echo */
#define EDGE_SEEN_ANSWERS	(EDGE_RECENT_REQS * SIG_PAGE_PARTS)
#define EDGE_HELD_PARTS		SIG_PAGE_PARTS	/* out of order */
#define EDGE_RTO_MS		1000	/* first page retransmission */
#define EDGE_PUNCH_SEEN		16	/* PUNCH times remembered */
#define EDGE_CANDS_MS		250	/* candidates sent at most this often */

/* What the edge role needs from the outside world. */
struct edge_io {
	/* send a datagram on the socket of (ifid, family of to) */
	int	(*send)(uint32_t, const struct omni_addr *, const uint8_t *,
		    size_t);
	/* the full peer set of an interface changed */
	void	(*peers)(uint32_t, const struct omni_peer *, size_t);
	/* ask for the proof key of (ifid, nucleus key): edge_dh_result */
	void	(*dh)(uint32_t, const uint8_t *);
};

void		 edge_init(const struct edge_io *);
int		 edge_iface_valid(const struct sig_iface *);
void		 edge_reconf(const struct sig_iface *, size_t,
		    const struct sig_clock *);
void		 edge_input(uint32_t, const uint8_t *, size_t,
		    const struct omni_addr *, const struct sig_clock *);
void		 edge_dh_result(const struct sig_dh *,
		    const struct sig_clock *);
void		 edge_tick(const struct sig_clock *);
void		 edge_shutdown(const struct sig_clock *);
int		 edge_has_iface(uint32_t);
/* iterate: returns 0 past the end */
int		 edge_status(size_t, char *, size_t, int *);
int		 edge_nucleus_status(size_t, const struct sig_clock *,
		    struct sig_status *);
/* issue 7: probe_io's cands_changed and endpoint_changed, routed here */
void		 edge_cands_changed(uint32_t, const struct sig_clock *);
void		 edge_endpoint_changed(uint32_t, const struct sig_clock *);

#endif
