/*
 * The signaling wire format, version 2 (see signald/PROTOCOL.md).
 *
 * Pure encode and decode with the AEAD around them: no sockets, no
 * event loop, no state.  The nucleus and edge roles build on these
 * functions; so do the unit tests, the load generator and the fuzz
 * target.
 */
#ifndef SIGNALD_PROTO_H
#define SIGNALD_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "omni.h"

#define SIG_VERSION		2
#define SIG_MAXDGRAM		1200	/* never sent larger, dropped larger */
#define SIG_KIND_UP		1	/* edge -> nucleus */
#define SIG_KIND_DOWN		2	/* nucleus -> edge */
#define SIG_NONCELEN		24	/* XChaCha20-Poly1305 */
#define SIG_HDRLEN		(2 + SIG_NONCELEN)
#define SIG_AEADLEN		16
#define SIG_KEYLEN		32
#define SIG_COOKIELEN		16
#define SIG_AUTHLEN		16
#define SIG_CLUSTERMAX		63	/* bytes of text */
#define SIG_MINDOWN		(SIG_HDRLEN + SIG_AEADLEN + 1)
#define SIG_MINUP		(SIG_HDRLEN + 1 + 1 + SIG_AEADLEN + \
				 SIG_AEADLEN + 1)
#define SIG_REGISTER_MIN	256	/* bytes: anti-amplification */
#define SIG_TIME_WINDOW		60	/* seconds either side */
#define SIG_REPLAY_BITS		64
#define SIG_MAX_PEERS		40	/* entries in one peers array */
#define SIG_MAX_PAIRS		32	/* map entries, known or not */
#define SIG_MAX_DEPTH		4	/* nesting of skipped items */
#define SIG_PAGE_PARTS		32	/* datagrams per answer */
#define SIG_COOKIE_ROTATE	120	/* seconds */
#define SIG_TOMBSTONE_SECS	120
/*
 * v2.1 (issue 7): candidates.  A candidate is a byte string of 7 or
 * 19 bytes, IP || port || kind; an entry carries at most
 * SIG_MAX_CANDS of them as a fifth item.  The largest entry: array
 * head 1, pubkey 34, vip 17, plen 2, endpoint 19, candidates 1 + 4 *
 * 20 = 154 bytes.
 */
#define SIG_MAX_CANDS		4	/* candidates in one entry or request */
#define SIG_CANDLEN4		7	/* IPv4 || port || kind */
#define SIG_CANDLEN6		19	/* IPv6 || port || kind */
#define SIG_CANDSMAX		(1 + SIG_MAX_CANDS * (1 + SIG_CANDLEN6))
#define SIG_ENTRYMAX		(1 + 34 + 17 + 2 + 19 + SIG_CANDSMAX)

/* Body map keys. */
enum sig_key {
	SIG_K_TYPE = 0,
	SIG_K_PUBKEY = 2,
	SIG_K_VIP = 3,
	SIG_K_PLEN = 4,
	SIG_K_PORT = 5,
	SIG_K_TIME = 6,
	SIG_K_PEERS = 7,
	SIG_K_RE = 8,
	SIG_K_STATUS = 9,
	SIG_K_NKEY = 10,
	SIG_K_COOKIE = 11,
	SIG_K_EPOCH = 12,
	SIG_K_FROM = 13,
	SIG_K_TO = 14,
	SIG_K_FLAGS = 15,
	SIG_K_PAD = 16,
	SIG_K_BASE = 17,
	SIG_K_CANDS = 18,	/* v2.1 */
	SIG_K_AUTH = 31
};
#define SIG_F(k)		(1u << (k))
#define SIG_F_SYNC		(SIG_F(SIG_K_EPOCH) | SIG_F(SIG_K_FROM) | \
				 SIG_F(SIG_K_FLAGS))

enum sig_type {
	SIG_REGISTER = 1,
	SIG_REGISTER_ACK = 2,
	SIG_HEARTBEAT = 3,
	SIG_HEARTBEAT_ACK = 4,
	SIG_DEREGISTER = 5,
	SIG_NAK = 6,
	SIG_QUERY_PEER = 7,
	SIG_PEER_INFO = 8,
	SIG_CHALLENGE = 9,
	SIG_PUNCH = 10		/* v2.1: unsolicited, probe this peer now */
};
#define SIG_TYPE_MAX		10

/* flags */
#define SIG_FL_FULL		0x1
#define SIG_FL_MORE		0x2
#define SIG_FL_LAST		0x4
#define SIG_FL_PUNCH		0x8	/* these peers were punched for you */

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
	SIG_R_REPLAY,
	SIG_R_BAD_PROOF,
	SIG_R_BAD_COOKIE,
	SIG_R_MAX
};

/* One candidate: where an edge's WireGuard port may be reached. */
struct sig_cand {
	uint8_t			 af;		/* AF_INET or AF_INET6 */
	uint8_t			 kind;		/* enum omni_cand, not 0 */
	uint16_t		 port;		/* not 0 */
	uint8_t			 ip[16];
};

/* One peer entry of a peers array. */
struct sig_peer {
	uint8_t			 pubkey[SIG_KEYLEN];
	uint8_t			 removed;	/* [pubkey] only */
	uint8_t			 ep_af;		/* AF_INET or AF_INET6 */
	uint16_t		 port;
	struct omni_prefix	 vip;
	uint8_t			 ep[16];
	uint8_t			 ncands;
	struct sig_cand		 cands[SIG_MAX_CANDS];
};

/* A decoded (or to be encoded) message. */
struct sig_msg {
	uint8_t			 type;
	uint32_t		 fields;	/* SIG_F() of keys present */
	uint8_t			 pubkey[SIG_KEYLEN];
	struct omni_prefix	 vip;
	uint16_t		 port;
	uint64_t		 time;
	uint64_t		 re;
	uint32_t		 status;
	uint8_t			 nkey[SIG_KEYLEN];
	uint8_t			 cookie[SIG_COOKIELEN];
	uint64_t		 epoch;
	uint64_t		 from;
	uint64_t		 to;
	uint64_t		 base;
	uint32_t		 flags;
	size_t			 padlen;	/* encode: pad to this length */
	uint8_t			 ncands;	/* SIG_K_CANDS */
	struct sig_cand		 cands[SIG_MAX_CANDS];
	uint32_t		 npeers;
	struct sig_peer		 peers[SIG_MAX_PEERS];
	/* encode only: entries already encoded (proto_entry_encode) */
	const uint8_t		*raw;
	size_t			 rawlen;
	uint32_t		 nraw;
};

/* One opened datagram: what a receiver keeps to check auth. */
struct sig_rx {
	const uint8_t		*d;
	size_t			 len;
	size_t			 adlen;		/* bytes before the body */
	uint8_t			 plain[SIG_MAXDGRAM];
	size_t			 plainlen;
	char			 cluster[SIG_CLUSTERMAX + 1];	/* up only */
	struct sig_msg		 m;
};

/* The keys of one cluster, as both roles hold them. */
struct sig_ckeys {
	uint8_t			 up[SIG_KEYLEN];
	uint8_t			 down[SIG_KEYLEN];
};

/* Clocks: monotonic milliseconds for state, wall time for stamps. */
struct sig_clock {
	uint64_t		 ms;
	time_t			 wall;
	uint64_t		 wall_us;	/* 0: wall * 10^6 */
};

/* Counters of both roles, read by the metrics timer. */
struct sig_stats {
	uint64_t		 sent[SIG_TYPE_MAX + 1];
	uint64_t		 received[SIG_TYPE_MAX + 1];
	uint64_t		 dropped[SIG_R_MAX];
};
extern struct sig_stats sig_stats;

uint32_t	 proto_required(int);
uint32_t	 proto_allowed(int);
int		 proto_type_kind(int);
const char	*proto_type_name(int);
const char	*proto_reason_name(int);
int		 proto_cluster_valid(const char *);
void		 proto_cluster_keys(const uint8_t *, struct sig_ckeys *);

uint64_t	 proto_clock_us(const struct sig_clock *);
uint64_t	 proto_next_time(uint64_t *, const struct sig_clock *);
void		 proto_init_msg(struct sig_msg *, int, uint64_t);

int		 proto_entry_encode(const struct sig_peer *, uint8_t *,
		    size_t);
int		 proto_entry_encode_tail(const struct sig_peer *,
		    const uint8_t *, size_t, uint8_t *, size_t);
int		 proto_cands_encode(const struct sig_cand *, size_t,
		    uint8_t *, size_t);
int		 proto_cands_decode(const uint8_t *, size_t, struct sig_cand *,
		    uint8_t *);
int		 proto_cand_from_addr(const struct omni_addr *, int,
		    struct sig_cand *);
void		 proto_cand_to_addr(const struct sig_cand *,
		    struct omni_addr *);
int		 proto_body_encode(const struct sig_msg *, uint8_t *, size_t,
		    size_t *);
int		 proto_seal(const struct sig_msg *, int, const char *,
		    const uint8_t *, const uint8_t *, const uint8_t *,
		    uint8_t *, size_t, size_t *);
int		 proto_decode(const uint8_t *, size_t, int, struct sig_msg *);
int		 proto_open_name(struct sig_rx *, const uint8_t *, size_t,
		    const uint8_t *);
int		 proto_open_body(struct sig_rx *, const uint8_t *);
int		 proto_open_down(struct sig_rx *, const uint8_t *, size_t,
		    const uint8_t *);
int		 proto_auth_ok(const struct sig_rx *, const uint8_t *);
int		 proto_check_time(const struct sig_msg *,
		    const struct sig_clock *);
size_t		 proto_answer_budget(void);

void		 proto_peer_to_addr(const struct sig_peer *,
		    struct omni_addr *);
int		 proto_addr_ip(const struct omni_addr *, uint8_t *,
		    uint8_t *);
int		 proto_addr_eq(const struct omni_addr *,
		    const struct omni_addr *);

int		 sig_drop(int, const struct omni_addr *, const char *);

#endif
