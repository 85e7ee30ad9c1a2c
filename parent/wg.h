/*
 * WireGuard devices of the parent: one backend-neutral front (wg.c)
 * dispatching to a backend's operations.  The userspace backend
 * (wg_uapi.c) runs wireguard-go and speaks its UAPI socket; a kernel
 * backend (generic netlink) comes later.
 *
 * Every call is synchronous and bounded in time: the parent calls
 * them from its event loop.
 */
#ifndef OMNI_WG_H
#define OMNI_WG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "omni.h"

#define WG_UAPI_DIR		"/var/run/wireguard"

struct wg_ops;

struct wg_dev {
	char		 wd_name[OMNI_IFNAMSIZ];
	int		 wd_backend;	/* BACKEND_USERSPACE or BACKEND_KERNEL */
	int		 wd_ifindex;
	pid_t		 wd_pid;	/* wireguard-go, -1 if none */
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

#define UAPI_LINE_MAX		512	/* longest line of a reply */
#define UAPI_REPLY_MAX		(32 * 1024 * 1024)

int	uapi_parse_get(const char *, size_t,
	    int (*)(const struct wg_peer_stats *, void *), void *);
int	uapi_parse_get_err(const char *, size_t,
	    int (*)(const struct wg_peer_stats *, void *), void *, char *,
	    size_t);
int	uapi_parse_errno(const char *, size_t, int *);

#endif
