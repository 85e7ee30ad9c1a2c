/*
 * issue 7: NAT traversal for the edge role -- candidates and probing.
 *
 * The parent hands signald a raw UDP socket per interface (struct
 * sock_probe) whose filter passes only probes and STUN answers sent to
 * the WireGuard port.  Probes and STUN requests leave from the
 * WireGuard port through that socket, so they create and test the very
 * NAT mapping WireGuard's own packets use.
 *
 * Like edge.c this module owns no event loop: signald.c feeds it
 * sockets, datagrams, the parent's address lists and clock ticks;
 * edge.c feeds it what the nuclei say about peers and asks it what to
 * announce.  It answers through struct probe_io.
 */
#ifndef SIGNALD_PROBE_H
#define SIGNALD_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "omni.h"
#include "proto.h"

/* One transport address a peer may be reachable at. */
struct probe_cand {
	struct omni_addr	 pc_addr;	/* port: a WireGuard port */
	uint8_t			 pc_kind;	/* enum omni_cand */
};
#define PROBE_MAX_CANDS		6	/* announced per interface */

struct probe_io {
	/* our candidates changed (roam, new mapping): announce them now */
	void	(*cands_changed)(uint32_t ifid);
	/* the endpoint chosen for a peer changed: re-send the peer set */
	void	(*endpoint_changed)(uint32_t ifid);
	/* the path to a peer changed: tell the parent (-> wgctld) */
	void	(*path)(const struct peer_path *);
};

void	probe_init(const struct probe_io *);

/* signald.c: the parent's socket and address lists, datagrams, time */
int	probe_sock(const struct sock_probe *, int fd);
void	probe_local_addrs(const struct local_addrs *,
	    const struct sig_clock *);
void	probe_input(uint32_t ifid, const uint8_t *, size_t,
	    const struct sig_clock *);
void	probe_tick(const struct sig_clock *);
void	probe_iface_gone(uint32_t ifid);

/*
 * edge.c: the signaling key and our WireGuard key of an interface
 * (probes are authenticated with a key derived from the cluster key),
 * the nuclei (STUN is asked of them through the probe socket too), the
 * candidates to announce, and what the nuclei said about peers.
 */
void	probe_iface(uint32_t ifid, const uint8_t *sigkey,
	    const uint8_t *pubkey, const struct omni_addr *nuclei,
	    size_t nnuclei, const struct omni_addr *stun, size_t nstun);
size_t	probe_local_cands(uint32_t ifid, struct probe_cand *, size_t);
/* punch: the nucleus asks both sides to probe now (coordinated) */
void	probe_peer(uint32_t ifid, const uint8_t *pubkey,
	    const struct probe_cand *, size_t, int punch,
	    const struct sig_clock *);
void	probe_peer_gone(uint32_t ifid, const uint8_t *pubkey);
/* 1 and *ep set: WireGuard should use *ep for this peer; 0: no choice */
int	probe_endpoint(uint32_t ifid, const uint8_t *pubkey,
	    struct omni_addr *ep);

#endif
