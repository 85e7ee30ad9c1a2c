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
	/*
	 * Optional, for tests: send one UDP datagram (header included)
	 * instead of sendto() on the interface's probe socket.
	 */
	int	(*send)(uint32_t ifid, const struct omni_addr *to,
		    const uint8_t *udp, size_t len);
};

void	probe_init(const struct probe_io *);

/*
 * signald.c: the parent's socket and address lists, datagrams, time.
 * probe_sock: the caller keeps the descriptor (reads it, closes it),
 * probe.c sends on it.  probe_input takes an IP datagram: IPv4 as the
 * raw socket reads it, IPv6 with a 40-byte header in front made from
 * recvfrom's source (IPv6 raw sockets start at the UDP header).
 */
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

/* --- added by probe.c's author: timers, metrics, codec for tests --- */

/* absolute CLOCK_MONOTONIC ms when probe_tick is next due, 0: never */
uint64_t probe_next_due(void);
/* Metrics: emit(name, value, labels) for every sample. */
void	probe_metrics(void (*)(const char *, double, const char *));
/* the path to a peer as last reported; 0: unknown peer */
int	probe_peer_path(uint32_t ifid, const uint8_t *pubkey,
	    struct peer_path *);

/*
 * The probe datagram (PROBE.md): magic, version, type, sender and
 * receiver WireGuard keys, transaction id, time stamp, the address
 * the sender saw (answers), a BLAKE2b-128 MAC under the probe key.
 */
#define PROBE_VERSION		1
#define PROBE_REQUEST		1
#define PROBE_ANSWER		2
#define PROBE_PKTLEN		124
#define PROBE_MACLEN		16

struct probe_pkt {
	uint8_t			 pp_type;
	uint8_t			 pp_from[OMNI_KEYLEN];
	uint8_t			 pp_to[OMNI_KEYLEN];
	uint64_t		 pp_txid;
	uint64_t		 pp_ts;		/* sender's wall clock, us */
	struct omni_addr	 pp_seen;	/* answers: request's source */
};

/* Why a datagram on a probe socket was dropped. */
enum probe_drop {
	PROBE_D_MALFORMED = 0,	/* bad IP/UDP header, length */
	PROBE_D_NOT_PROBE,	/* neither probe nor STUN */
	PROBE_D_NO_IFACE,	/* interface not (fully) configured */
	PROBE_D_RATE_LIMITED,
	PROBE_D_VERSION,
	PROBE_D_BAD_MAC,	/* forged, or another cluster */
	PROBE_D_NOT_FOR_US,	/* receiver key not ours */
	PROBE_D_OWN,		/* our own probe reflected */
	PROBE_D_STALE,		/* time stamp outside the window */
	PROBE_D_REPLAY,
	PROBE_D_UNKNOWN_PEER,	/* an answer from no peer of ours */
	PROBE_D_UNEXPECTED,	/* answer to no transaction of ours */
	PROBE_D_STUN,		/* STUN answer to no request of ours */
	PROBE_D_SEND_FAILED,	/* (sent) sendto failed */
	PROBE_D_PEERS_FULL,	/* (peer) PROBE_MAX_PEERS reached */
	PROBE_D_MAX
};
const char *probe_drop_name(int);

void	probe_key_derive(const uint8_t *sigkey, uint8_t key[OMNI_KEYLEN]);
int	probe_pkt_encode(const struct probe_pkt *, const uint8_t *key,
	    uint8_t *, size_t);
/* 0, or the enum probe_drop reason (the MAC is checked past the header) */
int	probe_pkt_decode(const uint8_t *, size_t, const uint8_t *key,
	    struct probe_pkt *);
/* An IP datagram as probe_input takes it: 0, or -1 malformed. */
int	probe_ip_parse(const uint8_t *, size_t, struct omni_addr *src,
	    uint16_t *dport, const uint8_t **payload, size_t *plen);

#endif
