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

#define NUCLEUS_MAX_CLUSTERS	4096
#define NUCLEUS_MAX_EDGES	65536	/* over all clusters */
#define NUCLEUS_EXPIRE_EVERY	5	/* seconds between sweeps */

/* Per source IP token bucket, and one for everything. */
#define RL_SLOTS		4096
#define RL_PROBES		8
#define RL_RATE			20	/* datagrams per second */
#define RL_BURST		40
#define RL_GLOBAL_RATE		5000
#define RL_GLOBAL_BURST		10000

struct nucleus;

struct nucleus	*nucleus_new(const uint8_t *, uint32_t);
void		 nucleus_free(struct nucleus *);
void		 nucleus_set_timeout(struct nucleus *, uint32_t);
int		 nucleus_same_root(const struct nucleus *, const uint8_t *);
int		 nucleus_input(struct nucleus *, const uint8_t *, size_t,
		    const struct omni_addr *, const struct sig_clock *,
		    uint8_t *, size_t *);
void		 nucleus_expire(struct nucleus *, const struct sig_clock *);
size_t		 nucleus_nclusters(const struct nucleus *);
size_t		 nucleus_nedges(const struct nucleus *);
int		 nucleus_ratelimit(struct nucleus *, const struct omni_addr *,
		    uint64_t);

/* --- edge.c --------------------------------------------------------- */

#define EDGE_NUCLEUS_PEERS	(2 * SIG_MAX_PEERS)	/* kept per nucleus */
#define EDGE_MAX_PEERS		(OMNI_MAX_NUCLEI * EDGE_NUCLEUS_PEERS)
#define EDGE_SILENT_BEATS	3	/* heartbeats without an ACK */

/* What the edge role needs from the outside world. */
struct edge_io {
	/* send a datagram on the socket of (ifid, family of to) */
	int	(*send)(uint32_t, const struct omni_addr *, const uint8_t *,
		    size_t);
	/* the full peer set of an interface changed */
	void	(*peers)(uint32_t, const struct omni_peer *, size_t);
};

void		 edge_init(const struct edge_io *);
int		 edge_iface_valid(const struct sig_iface *);
void		 edge_reconf(const struct sig_iface *, size_t,
		    const struct sig_clock *);
void		 edge_input(uint32_t, const uint8_t *, size_t,
		    const struct omni_addr *, const struct sig_clock *);
void		 edge_tick(const struct sig_clock *);
void		 edge_shutdown(const struct sig_clock *);
int		 edge_has_iface(uint32_t);
/* iterate: returns 0 past the end */
int		 edge_status(size_t, char *, size_t, int *);

#endif
