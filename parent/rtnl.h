/*
 * rtnetlink for the parent (libmnl): links and addresses of the
 * WireGuard interfaces.  Every request waits for the kernel's ACK
 * with a receive timeout; failures are logged with the errno text
 * and return -1 with errno set.
 */
#ifndef OMNI_RTNL_H
#define OMNI_RTNL_H

#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "omni.h"

#define RTNL_TIMEOUT_MS		2000

/*
 * The replies to one netlink request, rtnetlink or generic netlink
 * (wg_kernel.c): data messages go to nr_cb; an ACK or NLMSG_DONE ends
 * them, an error sets errno and, with NETLINK_EXT_ACK, leaves the
 * kernel's explanation in nr_extack.
 */
struct nl_reply {
	mnl_cb_t	 nr_cb;		/* data messages, may be NULL */
	void		*nr_arg;
	char		*nr_extack;	/* may be NULL */
	size_t		 nr_extacklen;
};

int	nl_reply_run(const void *, size_t, uint32_t, uint32_t,
	    struct nl_reply *);
int	nl_reply_wait(struct mnl_socket *, uint32_t, void *, size_t, int,
	    struct nl_reply *);
int64_t	nl_now_ms(void);

int	rtnl_ifindex(const char *);
int	rtnl_addr_add(int, const struct omni_prefix *);
int	rtnl_addr_del(int, const struct omni_prefix *);
int	rtnl_addr_flush(int);
int	rtnl_link_set(int, int, unsigned);
int	rtnl_link_add(const char *, const char *);
int	rtnl_link_del(const char *);
/* issue 7: dumps for netmon.c (cb is a libmnl mnl_cb_t) */
int	rtnl_dump(uint16_t, int, int (*)(const struct nlmsghdr *, void *),
	    void *);
int	rtnl_dump_routes(int, uint8_t, uint8_t,
	    int (*)(const struct nlmsghdr *, void *), void *);

#endif
