/*
 * WireGuard devices of the parent: one backend-neutral front (wg.c)
 * dispatching to a backend's operations.  The userspace backend
 * (wg_uapi.c) runs wireguard-go and speaks its UAPI socket; the kernel
 * backend (wg_kernel.c) drives the kernel's WireGuard through the
 * "wireguard" generic netlink family.
 *
 * Every call is synchronous and bounded in time: the parent calls
 * them from its event loop.
 */
#ifndef OMNI_WG_H
#define OMNI_WG_H

#include <sys/types.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "omni.h"

#define WG_UAPI_DIR		"/var/run/wireguard"

struct wg_ops;
struct uapi_log;

struct wg_dev {
	char		 wd_name[OMNI_IFNAMSIZ];
	int		 wd_backend;	/* BACKEND_USERSPACE or BACKEND_KERNEL */
	int		 wd_ifindex;
	pid_t		 wd_pid;	/* wireguard-go, -1 if none */
	struct uapi_log	*wd_log;	/* its output, read into our log */
	char		 wd_wggo[OMNI_PATHSIZ];	/* wireguard-go binary */
	const struct wg_ops *wd_ops;
};

struct wg_ops {
	const char	*name;
	int		(*create)(struct wg_dev *, char *, size_t);
	int		(*destroy)(struct wg_dev *);
	int		(*set_device)(struct wg_dev *, const uint8_t [32],
			    uint16_t, char *, size_t);
	int		(*set_peer)(struct wg_dev *, const struct wg_peer_req *,
			    const uint8_t *, char *, size_t);
	int		(*del_peer)(struct wg_dev *, const uint8_t [32],
			    char *, size_t);
	int		(*get_peers)(struct wg_dev *,
			    int (*)(const struct wg_peer_stats *, void *),
			    void *, char *, size_t);
};

/* wg.c */
int	wg_open(struct wg_dev *, const char *, int, const char *, char *,
	    size_t);
int	wg_close(struct wg_dev *);
int	wg_set_device(struct wg_dev *, const uint8_t [32], uint16_t, char *,
	    size_t);
int	wg_set_peer(struct wg_dev *, const struct wg_peer_req *,
	    const uint8_t *, char *, size_t);
int	wg_del_peer(struct wg_dev *, const uint8_t [32], char *, size_t);
int	wg_get_peers(struct wg_dev *,
	    int (*)(const struct wg_peer_stats *, void *), void *, char *,
	    size_t);
int	wg_reaped(struct wg_dev *, pid_t, int);
int	wg_name_valid(const char *);
const char *wg_backend_name(int);

/* wg_uapi.c */
extern const struct wg_ops wg_uapi_ops;
/* after event_init(): read wireguard-go's output into our log */
void	wg_uapi_log_events(void);

#define UAPI_LINE_MAX		512	/* longest line of a reply */
#define UAPI_REPLY_MAX		(32 * 1024 * 1024)

int	uapi_parse_get(const char *, size_t,
	    int (*)(const struct wg_peer_stats *, void *), void *);
int	uapi_parse_get_err(const char *, size_t,
	    int (*)(const struct wg_peer_stats *, void *), void *, char *,
	    size_t);
int	uapi_parse_errno(const char *, size_t, int *);

/* wg_kernel.c */
extern const struct wg_ops wg_kernel_ops;

/*
 * The kernel backend's create fails with this errno when the kernel
 * has no WireGuard (no module, none loadable): backend auto then
 * falls back to userspace.
 */
#define WG_EABSENT		ENOPKG

#define WGK_MSG_MAX		8192	/* one SET_DEVICE message */
#define WGK_RECV_MAX		65536	/* one datagram of a reply */
#define WGK_TIMEOUT_MS		5000	/* one request and its answer */
#define WGK_DUMP_TRIES		8	/* restarts of an interrupted dump */
#define WGK_MAX_PEERS		65536	/* accepted in a GET reply */
#define WGK_MAX_AIPS		(1 << 20)	/* ... allowed IPs, all peers */

struct nlmsghdr;

struct wgk_aip {
	uint8_t		 af;		/* AF_INET or AF_INET6 */
	uint8_t		 cidr;
	uint8_t		 addr[16];
};

/* A peer to set, or as the kernel reported it. */
struct wgk_peer {
	uint8_t		 pubkey[32];
	uint8_t		 psk[32];
	int		 has_psk;
	uint32_t	 flags;		/* WGPEER_F_*, set only */
	struct omni_addr endpoint;	/* AF_UNSPEC: none (set: unchanged) */
	int		 has_keepalive;	/* set: 0 leaves it unchanged */
	uint16_t	 keepalive;
	int64_t		 last_handshake;	/* get only: unix seconds */
	uint64_t	 rx_bytes;	/* get only */
	uint64_t	 tx_bytes;	/* get only */
	size_t		 naips;
	size_t		 aipcap;	/* get only: allocated */
	struct wgk_aip	*aips;
};

/* A device as a GET_DEVICE dump reported it; wgk_device_free() it. */
struct wgk_device {
	uint32_t	 ifindex;
	char		 ifname[OMNI_IFNAMSIZ];
	int		 has_key;
	uint8_t		 privkey[32];
	uint8_t		 pubkey[32];
	uint16_t	 listen_port;
	uint32_t	 fwmark;
	size_t		 npeers;
	size_t		 peercap;
	struct wgk_peer	*peers;
	size_t		 naips;		/* over all peers */
	int		 nmsgs;		/* reply messages merged */
	int		 nmerged;	/* peers continued across messages */
	int		 interrupted;	/* a part had NLM_F_DUMP_INTR */
	int		 restarts;	/* wgk_fetch: dumps started again */
};

/*
 * A SET_DEVICE change, cut into messages by wgk_set_next(): the device
 * attributes go in the first message only, a peer whose allowed IPs
 * do not fit continues in the next one (its key again, the remaining
 * allowed IPs, never WGPEER_F_REPLACE_ALLOWEDIPS a second time).
 */
struct wgk_set {
	const char	*ifname;
	uint32_t	 flags;		/* WGDEVICE_F_* */
	const uint8_t	*privkey;	/* NULL: unchanged */
	int		 set_port;
	uint16_t	 port;
	int		 set_fwmark;
	uint32_t	 fwmark;
	const struct wgk_peer *peers;
	size_t		 npeers;
	/* cursor of wgk_set_next() */
	int		 started;
	size_t		 next_peer;
	size_t		 next_aip;
};

int	wgk_set_next(struct wgk_set *, uint16_t, uint32_t, void *, size_t);
int	wgk_parse_msg(const struct nlmsghdr *, struct wgk_device *);
int	wgk_dump_feed(struct wgk_device *, const void *, size_t, uint32_t,
	    uint32_t, char *, size_t);
void	wgk_device_free(struct wgk_device *);
int	wgk_apply(struct wgk_set *, char *, size_t);
int	wgk_fetch(const char *, struct wgk_device *, char *, size_t);
/* Tests only: called with (attempt, part) after each part of a dump. */
extern void (*wgk_dump_hook)(int, int);

#endif
