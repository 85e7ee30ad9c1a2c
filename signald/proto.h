/*
 * The signaling wire format, version 1 (see signald/PROTOCOL.md).
 *
 * Pure encode and decode: no sockets, no event loop, no state.  The
 * nucleus and edge roles build on these functions; so do the unit
 * tests and the fuzz target.
 */
#ifndef SIGNALD_PROTO_H
#define SIGNALD_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "omni.h"

#define SIG_VERSION		1
#define SIG_MAXDGRAM		1200	/* never sent larger, dropped larger */
#define SIG_HDRLEN		2	/* version, type */
#define SIG_TAGLEN		32	/* HMAC-SHA-256 */
#define SIG_MINDGRAM		(SIG_HDRLEN + 1 + SIG_TAGLEN)
#define SIG_MAXBODY		(SIG_MAXDGRAM - SIG_HDRLEN - SIG_TAGLEN)
#define SIG_KEYLEN		32
#define SIG_NONCELEN		16
#define SIG_CLUSTERMAX		63	/* bytes of text */
#define SIG_TIME_WINDOW		60	/* seconds either side */
/*
 * The smallest valid peer entry takes 52 bytes, so no more than 22
 * fit in a datagram; a longer array can only be malformed.
 */
#define SIG_MAX_PEERS		24
#define SIG_MAX_PAIRS		32	/* map entries, known or not */
#define SIG_MAX_DEPTH		4	/* nesting of skipped items */

/* Body map keys. */
enum sig_key {
	SIG_K_CLUSTER = 1,
	SIG_K_PUBKEY = 2,
	SIG_K_VIP = 3,
	SIG_K_PLEN = 4,
	SIG_K_PORT = 5,
	SIG_K_TIME = 6,
	SIG_K_PEERS = 7,
	SIG_K_ENDPOINT = 8,
	SIG_K_STATUS = 9,
	SIG_K_NONCE = 10
};
#define SIG_F(k)		(1u << (k))

enum sig_type {
	SIG_REGISTER = 1,
	SIG_REGISTER_ACK = 2,
	SIG_HEARTBEAT = 3,
	SIG_HEARTBEAT_ACK = 4,
	SIG_DEREGISTER = 5,
	SIG_NAK = 6,
	SIG_QUERY_PEER = 7,
	SIG_PEER_INFO = 8
};
#define SIG_TYPE_MAX		8

/* NAK status. */
#define SIG_NAK_UNKNOWN_EDGE	1	/* register again */
#define SIG_NAK_VIP_TAKEN	2	/* the VIP is held by another key */

/* Why a datagram was dropped; SIG_OK when it was not. */
enum sig_reason {
	SIG_OK = 0,
	SIG_R_MALFORMED,
	SIG_R_TOO_BIG,
	SIG_R_BAD_MAC,
	SIG_R_UNKNOWN_CLUSTER,
	SIG_R_STALE,
	SIG_R_UNKNOWN_TYPE,
	SIG_R_RATE_LIMITED,
	SIG_R_VIP_TAKEN,
	SIG_R_UNKNOWN_SOURCE,
	SIG_R_TABLE_FULL,
	SIG_R_MAX
};

/* One peer entry of a peers array. */
struct sig_peer {
	uint8_t			 pubkey[SIG_KEYLEN];
	struct omni_prefix	 vip;
	uint8_t			 ep_af;		/* AF_INET or AF_INET6 */
	uint8_t			 ep[16];
	uint16_t		 port;
};

/* A decoded (or to be encoded) message. */
struct sig_msg {
	uint8_t			 type;
	uint32_t		 fields;	/* SIG_F() of keys seen */
	char			 cluster[SIG_CLUSTERMAX + 1];
	uint8_t			 pubkey[SIG_KEYLEN];
	struct omni_prefix	 vip;
	uint16_t		 port;
	uint64_t		 timestamp;
	uint32_t		 status;
	uint8_t			 nonce[SIG_NONCELEN];
	uint32_t		 npeers;
	struct sig_peer		 peers[SIG_MAX_PEERS];
};

/* Clocks: monotonic milliseconds for state, wall seconds for stamps. */
struct sig_clock {
	uint64_t		 ms;
	time_t			 wall;
};

/* Counters of both roles, read by the metrics timer. */
struct sig_stats {
	uint64_t		 sent[SIG_TYPE_MAX + 1];
	uint64_t		 received[SIG_TYPE_MAX + 1];
	uint64_t		 dropped[SIG_R_MAX];
};
extern struct sig_stats sig_stats;

uint32_t	 proto_required(int);
const char	*proto_type_name(int);
const char	*proto_reason_name(int);
int		 proto_cluster_valid(const char *);

void		 proto_init_msg(struct sig_msg *, int, const char *, time_t);
int		 proto_encode(const struct sig_msg *, const uint8_t *,
		    uint8_t *, size_t, size_t *);
int		 proto_peek(const uint8_t *, size_t, int *, char *);
int		 proto_verify(const uint8_t *, size_t, const uint8_t *);
int		 proto_decode(const uint8_t *, size_t, struct sig_msg *);
int		 proto_check_time(const struct sig_msg *, time_t);
int		 proto_open(const uint8_t *, size_t, const uint8_t *, time_t,
		    struct sig_msg *);

void		 proto_peer_to_addr(const struct sig_peer *,
		    struct omni_addr *);
int		 proto_addr_ip(const struct omni_addr *, uint8_t *,
		    uint8_t *);
int		 proto_addr_eq(const struct omni_addr *,
		    const struct omni_addr *);

int		 sig_drop(int, const struct omni_addr *, const char *);

#endif
