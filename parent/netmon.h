/*
 * The underlay watch (issue 7): the host's usable addresses, from
 * rtnetlink, sent to signald as IMSG_LOCAL_ADDRS; see netmon.c.
 */
#ifndef OMNI_NETMON_H
#define OMNI_NETMON_H

#include <stdint.h>

struct iface;

void		 netmon_init(void);
void		 netmon_send(struct iface *);
uint64_t	 netmon_updates(void);
uint64_t	 netmon_dumps(void);
uint32_t	 netmon_generation(void);

#endif
