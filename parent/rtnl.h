/*
 * rtnetlink for the parent (libmnl): links and addresses of the
 * WireGuard interfaces.  Every request waits for the kernel's ACK
 * with a receive timeout; failures are logged with the errno text
 * and return -1 with errno set.
 */
#ifndef OMNI_RTNL_H
#define OMNI_RTNL_H

#include <linux/netlink.h>

#include "omni.h"

#define RTNL_TIMEOUT_MS		2000

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
