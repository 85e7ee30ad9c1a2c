/*
 * Shared definitions of the omni daemon suite: process identities,
 * internal message types and the fixed-size payloads they carry.
 *
 * Every payload is a plain struct of fixed size so that a receiver
 * can check the exact length before touching it.  Strings inside
 * payloads are fixed arrays that the receiver must find NUL
 * terminated (see omni_str_valid()).
 */
#ifndef OMNI_H
#define OMNI_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdint.h>

#define OMNI_VERSION		"0.1.0"
#define OMNI_CONF_FILE		"/etc/omni.conf"
#define OMNI_CTL_SOCKET		"/var/run/omnid.sock"
#define OMNI_USER		"_omnid"
#define OMNI_CHROOT		"/var/lib/omni/empty"
#define OMNI_METRICS_ADDR	"127.0.0.1"
#define OMNI_METRICS_PORT	9090
#define OMNI_NUCLEUS_PORT	51900
#define OMNI_WG_PORT		51820
#define OMNI_HEARTBEAT		10	/* seconds */
#define OMNI_PEER_TIMEOUT	60	/* seconds */
#define OMNI_KEEPALIVE		25	/* seconds */
#define OMNI_MTU		1420

/*
 * The nucleus's capacity (nucleus: max-edges, max-clusters,
 * rate-limit), default and range: the defaults suit a nucleus of up to
 * 65,536 edges, the ranges keep the tables and the socket's receive
 * buffer within what one host can hold.
 */
#define OMNI_NUCLEUS_EDGES	65536	/* live edges, over all clusters */
#define OMNI_NUCLEUS_EDGES_MIN	16
#define OMNI_NUCLEUS_EDGES_MAX	4194304
#define OMNI_NUCLEUS_CLUSTERS	4096
#define OMNI_NUCLEUS_CLUSTERS_MIN 1
#define OMNI_NUCLEUS_CLUSTERS_MAX 1048576
#define OMNI_NUCLEUS_RATE	10000	/* datagrams/s, over all sources */
#define OMNI_NUCLEUS_RATE_MIN	100
#define OMNI_NUCLEUS_RATE_MAX	1000000

#define OMNI_IFNAMSIZ		16
#define OMNI_NAMESIZ		64	/* cluster names */
#define OMNI_PATHSIZ		256
#define OMNI_MSGSIZ		512	/* error and status texts */
#define OMNI_MAX_NUCLEI		8
#define OMNI_MAX_IFACES		16
#define OMNI_MAX_PEERS		65536	/* WireGuard peers per interface */
#define OMNI_KEYLEN		32
#define OMNI_SECRET_MIN		16	/* characters */
#define OMNI_MAX_STUN		4	/* STUN servers per interface */
#define OMNI_STUN_PORT		3478
#define OMNI_STUN_INTERVAL	30	/* seconds */

/* The imsg socket to the parent is at this descriptor in every child. */
#define OMNI_PARENT_FD		3

enum omni_proc {
	PROC_PARENT = 0,
	PROC_CONFIG,
	PROC_SIGNALD,
	PROC_WGCTLD,
	PROC_METRICSD,
	PROC_CONTROL,	/* an omnictl client on the control socket */
	PROC_MAX
};
#define PROC_BIT(p)		(1u << (p))

enum imsg_type {
	IMSG_NONE = 0,

	/* parent <-> config parser */
	IMSG_CONF_FILE,		/* P->C fd: struct conf_file */
	IMSG_CONF_GLOBAL,	/* C->P struct conf_global */
	IMSG_CONF_NUCLEUS,	/* C->P struct conf_nucleus */
	IMSG_CONF_IFACE,	/* C->P struct conf_iface */
	IMSG_CONF_ERROR,	/* C->P struct omni_text */
	IMSG_CONF_END,		/* C->P nothing: config complete and valid */

	/* parent -> children: configuration, streamed then swapped */
	IMSG_RECONF_GLOBAL,	/* struct conf_global */
	IMSG_RECONF_NUCLEUS,	/* struct sig_nucleus (signald only) */
	IMSG_RECONF_IFACE,	/* struct sig_iface (signald) / iface_info */
	IMSG_RECONF_END,	/* nothing */

	/* parent -> children: sockets (descriptor attached) */
	IMSG_SOCK_NUCLEUS,	/* P->signald: bound UDP socket, no payload */
	IMSG_SOCK_EDGE,		/* P->signald: struct sock_edge */
	IMSG_SOCK_CONTROL,	/* P->wgctld: struct sock_control */
	IMSG_SOCK_METRICS,	/* P->metricsd: listening TCP, no payload */

	/* signald -> parent -> wgctld: the peer set of one interface */
	IMSG_PEERS_BEGIN,	/* struct peer_set_hdr */
	IMSG_PEERS_PEER,	/* struct omni_peer */
	IMSG_PEERS_END,		/* struct peer_set_hdr */

	/* wgctld -> parent: WireGuard changes, validated and applied */
	IMSG_WG_PEER_SET,	/* struct wg_peer_req */
	IMSG_WG_PEER_DEL,	/* struct wg_peer_req */
	/* parent -> wgctld after a restart: what is applied now */
	IMSG_WG_STATE_PEER,	/* struct wg_peer_req */
	IMSG_WG_STATE_END,	/* nothing */

	/* wgctld <-> parent: live WireGuard state, peerid = request id */
	IMSG_WG_STATS_REQ,	/* W->P struct wg_stats_req */
	IMSG_WG_STATS_PEER,	/* P->W struct wg_peer_stats */
	IMSG_WG_STATS_END,	/* P->W struct wg_stats_req */

	/* control: omnictl <-> wgctld, and wgctld <-> parent */
	IMSG_CTL_SHOW_PEERS,	/* struct ctl_show (filter) */
	IMSG_CTL_SHOW_IFACE,	/* nothing */
	IMSG_CTL_RELOAD,	/* nothing; W->P with peerid = client */
	IMSG_CTL_LOG_VERBOSE,	/* int; broadcast by the parent */
	IMSG_CTL_PEER,		/* struct ctl_peer */
	IMSG_CTL_IFACE,		/* struct iface_info */
	IMSG_CTL_RESULT,	/* struct ctl_result */
	IMSG_CTL_END,		/* nothing */

	/* children -> parent -> metricsd: counter snapshots */
	IMSG_METRIC,		/* struct omni_metric */
	IMSG_METRIC_END,	/* nothing: snapshot of the sender complete */

	/* STUN */
	IMSG_SIG_REFLEXIVE,	/* signald -> parent: struct sig_reflexive */

	/* operating omni: status for omnictl (omnictl, wgctld, parent) */
	IMSG_CTL_SHOW_NUCLEUS,	/* omnictl -> wgctld: nothing */
	IMSG_CTL_SHOW_STATUS,	/* omnictl -> wgctld: nothing */
	IMSG_CTL_NUCLEUS,	/* wgctld -> omnictl: struct ctl_nucleus */
	IMSG_CTL_STATUS,	/* wgctld -> omnictl: struct ctl_status */
	IMSG_PARENT_STATUS,	/* parent -> wgctld: struct parent_status */

	/*
	 * issue 3: the nucleus protocol v2 (signald/PROTOCOL.md).  signald
	 * never holds a WireGuard private key: it asks the parent for the
	 * X25519 result that proves an interface's identity to a nucleus.
	 */
	IMSG_DH_REQ,		/* signald -> parent: struct sig_dh */
	IMSG_DH_RES,		/* parent -> signald: struct sig_dh */
	IMSG_SIG_STATUS,	/* signald -> parent -> wgctld: struct sig_status */

	/*
	 * issue 7: NAT traversal.  The parent opens a raw UDP socket that
	 * sees only probe and STUN traffic to the WireGuard port and hands
	 * it to signald, so probes share the WireGuard port's NAT mapping;
	 * it watches rtnetlink and tells signald the underlay addresses.
	 */
	IMSG_SOCK_PROBE,	/* P->signald fd: struct sock_probe */
	IMSG_LOCAL_ADDRS,	/* P->signald: struct local_addrs */
	IMSG_PEER_PATH,		/* signald -> P -> wgctld: struct peer_path */

	IMSG_TYPE_MAX
};

struct omni_text {
	char		 text[OMNI_MSGSIZ];
};

/* A socket address small enough to embed: IPv4 or IPv6. */
struct omni_addr {
	union {
		struct sockaddr		 sa;
		struct sockaddr_in	 sin;
		struct sockaddr_in6	 sin6;
	};
};

/* A virtual IP with its prefix length. */
struct omni_prefix {
	uint8_t		 af;		/* AF_INET or AF_INET6 */
	uint8_t		 plen;
	uint8_t		 addr[16];
};

enum omni_backend {
	BACKEND_AUTO = 0,
	BACKEND_USERSPACE,
	BACKEND_KERNEL
};

struct conf_file {
	char		 path[OMNI_PATHSIZ];
};

struct conf_global {
	char		 user[OMNI_NAMESIZ];
	char		 chroot[OMNI_PATHSIZ];
	char		 control[OMNI_PATHSIZ];
	struct omni_addr metrics;	/* port 0: metrics disabled */
	int		 metrics_enabled;
	char		 wireguard_go[OMNI_PATHSIZ];
	int		 verbose;
	/* resolved by the parent, sent on to children */
	uid_t		 uid;
	gid_t		 gid;
	/* read-only control socket: "" derived from control, "none" off */
	char		 control_ro[OMNI_PATHSIZ];
};

struct conf_nucleus {
	struct omni_addr listen;
	char		 secret[128];	/* config parser -> parent only */
	char		 secret_file[OMNI_PATHSIZ];
	uint32_t	 peer_timeout;	/* seconds */
	uint32_t	 max_edges;	/* live, over all clusters */
	uint32_t	 max_clusters;
	uint32_t	 rate_limit;	/* datagrams/s, over all sources */
	/* issue 3: the nucleus's X25519 identity file */
	char		 identity[OMNI_PATHSIZ];
};

struct conf_iface {
	char		 name[OMNI_IFNAMSIZ];
	char		 cluster[OMNI_NAMESIZ];
	char		 secret[128];	/* config parser -> parent only */
	char		 secret_file[OMNI_PATHSIZ];
	char		 identity[OMNI_PATHSIZ];
	struct omni_prefix address;
	uint16_t	 listen_port;
	uint16_t	 mtu;
	uint32_t	 keepalive;	/* seconds, 0 = off */
	uint32_t	 heartbeat;	/* seconds */
	uint32_t	 peer_timeout;	/* seconds */
	int		 backend;	/* enum omni_backend */
	int		 nnuclei;
	struct omni_addr nuclei[OMNI_MAX_NUCLEI];
	int		 nstun;
	struct omni_addr stun[OMNI_MAX_STUN];	/* STUN servers */
	uint32_t	 stun_interval;	/* seconds */
};

/*
 * What signald gets: never the secret itself, only keys derived from
 * it.  For the nucleus the derivation root (from which each cluster's
 * key follows), for an edge its own cluster's key.
 */
struct sig_nucleus {
	uint8_t		 root[OMNI_KEYLEN];
	uint32_t	 peer_timeout;
	uint32_t	 max_edges;
	uint32_t	 max_clusters;
	uint32_t	 rate_limit;	/* datagrams/s; the burst is twice it */
	/*
	 * issue 3: the nucleus's own X25519 identity (nucleus: identity:).
	 * Not a WireGuard key, so signald may hold it.
	 */
	uint8_t		 priv[OMNI_KEYLEN];
	uint8_t		 pub[OMNI_KEYLEN];
};

struct sig_iface {
	uint32_t	 ifid;		/* stable index of the interface */
	char		 name[OMNI_IFNAMSIZ];
	char		 cluster[OMNI_NAMESIZ];
	uint8_t		 key[OMNI_KEYLEN];	/* signaling key */
	uint8_t		 pubkey[OMNI_KEYLEN];	/* WireGuard public key */
	struct omni_prefix vip;
	uint16_t	 wg_port;
	uint32_t	 heartbeat;
	int		 nnuclei;
	struct omni_addr nuclei[OMNI_MAX_NUCLEI];
	int		 nstun;
	struct omni_addr stun[OMNI_MAX_STUN];	/* STUN servers */
	uint32_t	 stun_interval;	/* seconds */
	/* issue 3: the root-level key that seals the cluster name */
	uint8_t		 name_key[OMNI_KEYLEN];
};

/* A STUN server told an interface its reflexive address. */
struct sig_reflexive {
	uint32_t	 ifid;
	struct omni_addr server;
	struct omni_addr mapped;
	int64_t		 time;		/* unix seconds of the answer */
};

struct sock_edge {
	uint32_t	 ifid;
	uint8_t		 af;
};

struct sock_control {
	int		 readonly;
};

/* What wgctld, metricsd and omnictl know of an interface. */
struct iface_info {
	uint32_t	 ifid;
	char		 name[OMNI_IFNAMSIZ];
	char		 cluster[OMNI_NAMESIZ];
	char		 backend[16];	/* "userspace" or "kernel" */
	uint8_t		 pubkey[OMNI_KEYLEN];
	struct omni_prefix vip;
	uint16_t	 listen_port;
	uint16_t	 mtu;
	uint32_t	 keepalive;
	int		 nnuclei;
	struct omni_addr nuclei[OMNI_MAX_NUCLEI];
};

struct peer_set_hdr {
	uint32_t	 ifid;
	uint32_t	 count;		/* peers in this set (END: as sent) */
};

/* One peer as signaling learned it. */
struct omni_peer {
	uint32_t	 ifid;
	uint8_t		 pubkey[OMNI_KEYLEN];
	struct omni_prefix vip;
	struct omni_addr endpoint;
};

/* A change to one WireGuard peer, as wgctld asks the parent for it. */
struct wg_peer_req {
	uint32_t	 ifid;
	uint8_t		 pubkey[OMNI_KEYLEN];
	struct omni_addr endpoint;	/* AF_UNSPEC: none */
	struct omni_prefix allowed;	/* the peer's VIP, host prefix */
	uint16_t	 keepalive;
};

struct wg_stats_req {
	uint32_t	 ifid;
	uint32_t	 count;
};

struct wg_peer_stats {
	uint32_t	 ifid;
	uint8_t		 pubkey[OMNI_KEYLEN];
	struct omni_addr endpoint;
	int64_t		 last_handshake;	/* unix seconds, 0 = never */
	uint64_t	 rx_bytes;
	uint64_t	 tx_bytes;
};

struct ctl_show {
	struct omni_prefix vip;		/* af 0: all peers */
};

struct ctl_peer {
	char		 ifname[OMNI_IFNAMSIZ];
	uint8_t		 pubkey[OMNI_KEYLEN];
	struct omni_prefix vip;
	struct omni_addr endpoint;
	int64_t		 last_handshake;
	uint64_t	 rx_bytes;
	uint64_t	 tx_bytes;
	int		 path;		/* enum omni_path */
	int64_t		 rtt_us;	/* -1: not measured */
	/* issue 7: the candidate pair signald chose (struct peer_path) */
	int32_t		 cand_kind;	/* enum omni_cand */
	int32_t		 probe_state;	/* enum omni_probe */
	struct omni_addr cand_local;
	struct omni_addr cand_remote;
	int64_t		 probe_us;
	char		 path_reason[128];
};

struct ctl_result {
	int		 ok;
	char		 text[OMNI_MSGSIZ];
};

/* --- operating omni: what omnictl show nucleus / status report --- */

/* How traffic reaches a peer. */
enum omni_path {
	PATH_NONE = 0,		/* no handshake within OMNI_PATH_FRESH */
	PATH_DIRECT,		/* straight to the endpoint: a public host
				   candidate, or no probe information */
	PATH_RELAYED,		/* through a relay (not implemented yet) */
	/* issue 7: direct, and the candidate pair in use says how */
	PATH_DIRECT_LAN,	/* to a private host candidate of the peer */
	PATH_DIRECT_NAT		/* to a (peer-)reflexive candidate */
};
#define OMNI_PATH_MAX		PATH_DIRECT_NAT
#define OMNI_PATH_FRESH		180	/* seconds: WireGuard's reject-after */

enum ctl_nucleus_kind {
	CTL_NUCLEUS_EDGE = 1,	/* a nucleus one of our interfaces uses */
	CTL_NUCLEUS_LOCAL	/* this host serving as a nucleus */
};

struct ctl_nucleus {
	int		 kind;		/* enum ctl_nucleus_kind */
	char		 ifname[OMNI_IFNAMSIZ];	/* EDGE: our interface */
	struct omni_addr addr;		/* EDGE: the nucleus; LOCAL: listen */
	int		 registered;	/* EDGE: registration acknowledged */
	int64_t		 last_answer;	/* EDGE: unix seconds, 0 = never */
	int64_t		 rtt_us;	/* EDGE: -1 = not measured */
	uint32_t	 clusters;	/* LOCAL */
	uint32_t	 edges;		/* LOCAL */
};

/* parent -> wgctld every few seconds: what only the parent knows. */
struct parent_status {
	int64_t		 started;	/* unix seconds */
	uint32_t	 running;	/* PROC_BIT of the children running */
	uint32_t	 wanted;	/* PROC_BIT of those that should be */
	uint64_t	 restarts;
	uint64_t	 reloads_ok;
	uint64_t	 reloads_failed;
	int		 nucleus;	/* serving as a nucleus */
	int		 niface;
	uint32_t	 ifid[OMNI_MAX_IFACES];
	uint8_t		 up[OMNI_MAX_IFACES];
};

/* One health summary for omnictl show status. */
struct ctl_status {
	int		 healthy;
	char		 version[16];
	int64_t		 started;	/* unix seconds, 0 = unknown */
	uint32_t	 ifaces;
	uint32_t	 ifaces_up;
	uint32_t	 ifaces_registered;
	uint32_t	 peers;
	uint32_t	 peers_direct;
	int		 nucleus;
	uint32_t	 nucleus_clusters;
	uint32_t	 nucleus_edges;
	uint32_t	 running;	/* PROC_BIT of the children running */
	uint32_t	 wanted;
	uint64_t	 restarts;
	char		 problem[OMNI_MSGSIZ];	/* "" when healthy */
};

enum omni_metric_type {
	METRIC_COUNTER = 1,
	METRIC_GAUGE
};

/*
 * One sample.  The name must be one metricsd knows (common/metrics.h);
 * labels are preformatted Prometheus label pairs without braces.
 */
struct omni_metric {
	char		 name[64];
	char		 labels[160];
	double		 value;
};

/*
 * issue 3: proof of possession.  signald asks (IMSG_DH_REQ: ifid and
 * peer) and the parent answers (IMSG_DH_RES: the same, ok and result)
 * with result = BLAKE2b-256 keyed with KEYS_DH_LABEL of
 * X25519(interface private key, peer) || the lower public key || the
 * higher one (common/keys.h keys_dh_finish).  ok = 0: the peer key is
 * of low order (the X25519 output was all zero); result is zero then.
 */
struct sig_dh {
	uint32_t	 ifid;
	uint32_t	 ok;
	uint8_t		 peer[OMNI_KEYLEN];
	uint8_t		 result[OMNI_KEYLEN];
};

/*
 * issue 3: signald's view of signaling, every 2 s, for omnictl show
 * nucleus.  One per (interface, nucleus) with ifid != 0; one with
 * ifid 0 for this host's nucleus role (addr = its listen address).
 */
struct sig_status {
	uint32_t	 ifid;		/* 0: this host serving as a nucleus */
	struct omni_addr addr;		/* the nucleus */
	int32_t		 registered;	/* registration acknowledged */
	int64_t		 last_answer;	/* unix seconds, 0 = never */
	int64_t		 rtt_us;	/* -1 = not measured */
	uint8_t		 key[OMNI_KEYLEN];	/* nucleus key, zero: unknown */
	uint32_t	 peers;		/* peers this nucleus reported */
	uint32_t	 clusters;	/* ifid 0: clusters served */
	uint32_t	 edges;		/* ifid 0: live edges */
};

/* --- issue 7: NAT traversal --- */

/*
 * Every probe datagram starts with these 4 bytes.  WireGuard reads its
 * first byte as the message type (1-4) and the next three as zero, so
 * WireGuard drops a probe as junk; the parent's socket filter passes
 * only datagrams to the WireGuard port that start with them or that
 * carry the STUN magic cookie at offset 4.
 */
#define OMNI_PROBE_MAGIC	"OMNP"
#define OMNI_PROBE_MAGIC_BE	0x4f4d4e50U	/* the same, as a word */

/* A raw socket for probes from an interface's WireGuard port. */
struct sock_probe {
	uint32_t	 ifid;
	uint8_t		 af;		/* AF_INET or AF_INET6 */
	uint16_t	 wg_port;
};

/*
 * The host's underlay addresses usable as host candidates for one
 * interface (port = its WireGuard port), sent at start and after
 * every rtnetlink address or route change; generation grows with
 * every change so signald can tell a roam from a repeat.
 */
#define OMNI_MAX_LOCAL		8
struct local_addrs {
	uint32_t	 ifid;
	uint32_t	 generation;
	int32_t		 naddr;
	struct omni_addr addr[OMNI_MAX_LOCAL];
};

/* What kind of candidate a peer is reached at. */
enum omni_cand {
	CAND_NONE = 0,
	CAND_HOST,		/* a local address of the peer (LAN) */
	CAND_REFLEXIVE,		/* the peer's NAT mapping (STUN / nucleus) */
	CAND_PEER_REFLEXIVE	/* where the peer's probes came from */
};

enum omni_probe {
	PROBE_IDLE = 0,		/* nothing to probe (no candidates yet) */
	PROBE_RUNNING,
	PROBE_OK,		/* a candidate pair answered */
	PROBE_FAILED		/* every candidate pair timed out */
};

/* signald -> parent -> wgctld: how signald reaches one peer. */
struct peer_path {
	uint32_t	 ifid;
	uint8_t		 pubkey[OMNI_KEYLEN];
	int32_t		 state;		/* enum omni_probe */
	int32_t		 kind;		/* enum omni_cand of remote */
	struct omni_addr local;		/* our candidate, AF_UNSPEC: none */
	struct omni_addr remote;	/* the peer's candidate in use */
	int64_t		 probe_us;	/* probe start to answer, -1: none */
	char		 reason[128];	/* why there is no path, "" if ok */
};

/* util.c */
int		 omni_str_valid(const char *, size_t);
const char	*omni_addr_str(const struct omni_addr *, char *, size_t);
int		 omni_addr_parse(const char *, uint16_t, struct omni_addr *);
socklen_t	 omni_addr_len(const struct omni_addr *);
uint16_t	 omni_addr_port(const struct omni_addr *);
int		 omni_addr_is_private(const struct omni_addr *);
const char	*omni_prefix_str(const struct omni_prefix *, char *, size_t);
int		 omni_prefix_parse(const char *, struct omni_prefix *);
int		 omni_prefix_eq(const struct omni_prefix *,
		    const struct omni_prefix *);
int		 omni_key_to_base64(const uint8_t *, char *, size_t);
int		 omni_key_from_base64(const char *, uint8_t *);
const char	*omni_proc_name(enum omni_proc);
const char	*omni_peer_path_check(const struct peer_path *);

#define OMNI_ADDRSTRLEN		64	/* "[v6]:port" */
#define OMNI_PREFIXSTRLEN	64
#define OMNI_KEY_B64LEN		45	/* 44 characters and a NUL */

#endif
